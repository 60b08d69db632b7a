//! Commit signing as git does it (`commit.gpgsign`, `gpg.format`, `user.signingkey`,
//! `gpg.program`, `gpg.ssh.program`, `gpg.x509.program`), read from the repository's config
//! layered over the global and system ones. libgit2 does not sign: fgd builds the commit
//! buffer, hands it to the same program git would call (`gpg -bsau KEY`, `ssh-keygen -Y sign
//! -n git -f KEY`, `gpgsm -bsau KEY`) and stores the signature in the `gpgsig` header, so
//! `git verify-commit` and Flux's or Argo CD's signature checks accept it.

use std::io::Write;
use std::process::{Command, Stdio};

use git2::{Oid, Repository, Signature};

use super::error::{local, GitError, Result};

/// The signature format git's `gpg.format` names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignFormat {
    OpenPgp,
    Ssh,
    X509,
}

/// How commits are signed here, if they are.
#[derive(Debug, Clone)]
pub struct Signing {
    pub format: SignFormat,
    /// `user.signingkey`: a key id (OpenPGP, X.509), or for SSH a key file or a literal public
    /// key (`ssh-ed25519 AAAA...`, `key::...`) whose private half is in the agent.
    pub key: Option<String>,
    pub program: String,
}

/// The signing git config asks for, None when `commit.gpgsign` is off. A format git does not
/// know, or SSH signing without `user.signingkey`, is refused before anything is committed.
pub(crate) fn signing(repo: &Repository) -> Result<Option<Signing>> {
    let Ok(cfg) = repo.config() else {
        return Ok(None);
    };
    if !cfg.get_bool("commit.gpgsign").unwrap_or(false) {
        return Ok(None);
    }
    let format = match cfg.get_string("gpg.format").as_deref() {
        Err(_) | Ok("openpgp") => SignFormat::OpenPgp,
        Ok("ssh") => SignFormat::Ssh,
        Ok("x509") => SignFormat::X509,
        Ok(other) => {
            return Err(GitError::Setup(format!(
                "commit.gpgsign is on and gpg.format is {other:?}, which git does not know (openpgp, ssh or x509): fgd will not commit unsigned. Fix gpg.format, or turn signing off for this repository (git config commit.gpgsign false)"
            )))
        }
    };
    let key = cfg
        .get_string("user.signingkey")
        .ok()
        .filter(|k| !k.is_empty());
    let (program_key, default) = match format {
        SignFormat::OpenPgp => ("gpg.program", "gpg"),
        SignFormat::Ssh => ("gpg.ssh.program", "ssh-keygen"),
        SignFormat::X509 => ("gpg.x509.program", "gpgsm"),
    };
    let program = cfg
        .get_string(program_key)
        .or_else(|_| {
            if format == SignFormat::OpenPgp {
                cfg.get_string("gpg.openpgp.program")
            } else {
                Err(git2::Error::from_str("unset"))
            }
        })
        .unwrap_or_else(|_| default.to_string());
    if format == SignFormat::Ssh && key.is_none() {
        return Err(GitError::Setup(
            "commit.gpgsign is on with gpg.format ssh, but user.signingkey names no key: fgd will not commit unsigned. Set it (git config user.signingkey ~/.ssh/id_ed25519.pub), or turn signing off for this repository (git config commit.gpgsign false)".into(),
        ));
    }
    Ok(Some(Signing {
        format,
        key,
        program,
    }))
}

/// Create a commit (signed when `signing` says so); with `update`, move that branch ref
/// (`refs/heads/...`) to it, as `git commit` moves HEAD's branch.
#[allow(clippy::too_many_arguments)]
pub(crate) fn create_commit(
    repo: &Repository,
    signing: Option<&Signing>,
    update: Option<&str>,
    author: &Signature,
    committer: &Signature,
    message: &str,
    tree: &git2::Tree,
    parents: &[&git2::Commit],
) -> Result<Oid> {
    let Some(s) = signing else {
        return repo
            .commit(update, author, committer, message, tree, parents)
            .map_err(local("commit"));
    };
    let buffer = repo
        .commit_create_buffer(author, committer, message, tree, parents)
        .map_err(local("commit"))?;
    let signature = sign(s, repo.path(), &buffer, committer)?;
    let text = String::from_utf8_lossy(&buffer);
    let oid = repo
        .commit_signed(&text, &signature, Some("gpgsig"))
        .map_err(local("commit"))?;
    if let Some(refname) = update {
        repo.reference(refname, oid, true, &format!("commit: {}", subject(message)))
            .map_err(local("move branch"))?;
    }
    Ok(oid)
}

fn subject(message: &str) -> &str {
    message.lines().next().unwrap_or_default()
}

/// The armored signature of `buffer`, made by the program git would run.
fn sign(
    s: &Signing,
    git_dir: &std::path::Path,
    buffer: &[u8],
    committer: &Signature,
) -> Result<String> {
    let mut cmd = Command::new(&s.program);
    // A literal SSH public key is signed through the agent holding its private half: git
    // writes it to a file and passes -U; fgd does the same, in a file removed right after.
    let mut literal = None;
    match s.format {
        SignFormat::Ssh => {
            let key = s.key.as_deref().unwrap_or_default();
            let literal_key = key
                .strip_prefix("key::")
                .or_else(|| key.starts_with("ssh-").then_some(key));
            let path = match literal_key {
                Some(k) => {
                    // In the repository's git dir (never beside the operator's files), a name
                    // of this process's own, created new.
                    let p = git_dir.join(format!("fgd-signing-key-{}.pub", std::process::id()));
                    let written = std::fs::OpenOptions::new()
                        .write(true)
                        .create_new(true)
                        .open(&p)
                        .and_then(|mut f| writeln!(f, "{k}"));
                    if let Err(e) = written {
                        let _ = std::fs::remove_file(&p);
                        return Err(GitError::Setup(format!(
                            "signing: cannot write the public key to {}: {e}",
                            p.display()
                        )));
                    }
                    literal = Some(RemoveOnDrop(p.clone()));
                    cmd.arg("-U");
                    p
                }
                None => expand_home(key),
            };
            cmd.args(["-Y", "sign", "-n", "git", "-f"]).arg(path);
        }
        SignFormat::OpenPgp | SignFormat::X509 => {
            // git's default key: the committer's identity.
            let key = s.key.clone().unwrap_or_else(|| {
                format!(
                    "{} <{}>",
                    String::from_utf8_lossy(committer.name_bytes()),
                    String::from_utf8_lossy(committer.email_bytes())
                )
            });
            cmd.args(["--status-fd=2", "-bsau", &key]);
        }
    }
    let mut run = || -> std::io::Result<std::process::Output> {
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()?;
        if let Some(mut stdin) = child.stdin.take() {
            stdin.write_all(buffer)?;
        }
        child.wait_with_output()
    };
    let out = run().map_err(|e| {
        GitError::Setup(format!(
            "signing the commit (commit.gpgsign): cannot run {}: {e}; nothing was committed",
            s.program
        ))
    })?;
    drop(literal);
    let signature = String::from_utf8_lossy(&out.stdout).into_owned();
    if !out.status.success() || !signature.contains("-----BEGIN") {
        let said = String::from_utf8_lossy(&out.stderr);
        let said: Vec<&str> = said
            .lines()
            .filter(|l| !l.starts_with("[GNUPG:]"))
            .collect();
        return Err(GitError::Setup(format!(
            "signing the commit (commit.gpgsign) with {} failed: {}; nothing was committed. Check user.signingkey and the key (or turn signing off: git config commit.gpgsign false)",
            s.program,
            said.join(" ").trim()
        )));
    }
    Ok(signature)
}

/// `~/x` as git expands it in user.signingkey.
fn expand_home(path: &str) -> std::path::PathBuf {
    match (path.strip_prefix("~/"), std::env::var_os("HOME")) {
        (Some(rest), Some(home)) => std::path::Path::new(&home).join(rest),
        _ => std::path::PathBuf::from(path),
    }
}

/// A file removed when the signing is over, whatever happened.
struct RemoveOnDrop(std::path::PathBuf);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}
