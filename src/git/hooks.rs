//! Client hooks as git runs them: `pre-commit`, `commit-msg` and `pre-push`, from
//! `core.hooksPath` or `$GIT_DIR/hooks`, executable files only, run in the working copy's root.
//! libgit2 runs no hooks, so fgd calls them itself; `--no-verify` skips them, as it does for
//! git. A hook that fails stops the commit or the push (exit 3) with what it said.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use git2::Repository;

use super::error::{GitError, Result};

/// The folder git takes hooks from: `core.hooksPath` (relative to the working copy's root,
/// `~/` expanded), else `$GIT_DIR/hooks`.
pub(crate) fn hooks_dir(repo: &Repository) -> PathBuf {
    let configured = repo
        .config()
        .ok()
        .and_then(|c| c.get_string("core.hooksPath").ok())
        .filter(|p| !p.is_empty());
    match configured {
        Some(p) => {
            let p = match (p.strip_prefix("~/"), std::env::var_os("HOME")) {
                (Some(rest), Some(home)) => Path::new(&home).join(rest),
                _ => PathBuf::from(p),
            };
            if p.is_absolute() {
                p
            } else {
                repo.workdir().unwrap_or_else(|| repo.path()).join(p)
            }
        }
        None => repo.path().join("hooks"),
    }
}

/// The executable hook `name`, if there is one (git ignores a hook file that is not
/// executable, with a hint; so does fgd, silently).
fn hook(repo: &Repository, name: &str) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let p = hooks_dir(repo).join(name);
    std::fs::metadata(&p)
        .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .then_some(p)
}

/// Run hook `name` (if any) with `args` and `stdin`, as git would; a failure is a refusal
/// naming the hook and what it said.
pub(crate) fn run(
    repo: &Repository,
    name: &'static str,
    args: &[&str],
    stdin: &[u8],
) -> Result<()> {
    let Some(path) = hook(repo, name) else {
        return Ok(());
    };
    let root = repo.workdir().unwrap_or_else(|| repo.path());
    let mut cmd = Command::new(&path);
    cmd.args(args)
        .current_dir(root)
        .env("GIT_INDEX_FILE", repo.path().join("index"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut run = || -> std::io::Result<std::process::Output> {
        let mut child = cmd.spawn()?;
        if let Some(mut input) = child.stdin.take() {
            // A hook that does not read its input closes the pipe: not a failure of its own.
            let _ = input.write_all(stdin);
        }
        child.wait_with_output()
    };
    let out = run().map_err(|e| GitError::Hook {
        hook: name,
        path: path.display().to_string(),
        said: format!("cannot run it: {e}"),
    })?;
    if out.status.success() {
        return Ok(());
    }
    let mut said = String::from_utf8_lossy(&out.stderr).into_owned();
    said.push_str(&String::from_utf8_lossy(&out.stdout));
    let lines: Vec<&str> = said.lines().filter(|l| !l.trim().is_empty()).collect();
    let tail = &lines[lines.len().saturating_sub(20)..];
    Err(GitError::Hook {
        hook: name,
        path: path.display().to_string(),
        said: format!(
            "it exited with {}{}{}",
            out.status
                .code()
                .map(|c| c.to_string())
                .unwrap_or_else(|| "a signal".into()),
            if tail.is_empty() { "" } else { ":\n" },
            tail.join("\n")
        ),
    })
}

/// `commit-msg`: the hook gets the message in `$GIT_DIR/COMMIT_EDITMSG` and may rewrite it;
/// the message it leaves is the one committed.
pub(crate) fn commit_msg(repo: &Repository, message: &str) -> Result<String> {
    if hook(repo, "commit-msg").is_none() {
        return Ok(message.to_string());
    }
    let file = repo.path().join("COMMIT_EDITMSG");
    std::fs::write(&file, message).map_err(|e| GitError::io("write", &file, e))?;
    run(repo, "commit-msg", &[&file.to_string_lossy()], b"")?;
    std::fs::read_to_string(&file).map_err(|e| GitError::io("read", &file, e))
}
