//! What a push or sync is asked to do: remote, branch, message, author, credentials, and
//! libgit2's network timeouts.

use std::path::{Path, PathBuf};

use git2::{Repository, Signature};

use super::auth;
use super::error::{local, GitError, Result};

/// Options shared by push and sync.
#[derive(Debug, Clone, Default)]
pub struct GitOptions {
    pub remote: Option<String>,
    pub branch: Option<String>,
    pub message: Option<String>,
    /// "Name <email>" overriding git config's user.
    pub author: Option<String>,
    pub auth: Option<auth::AuthConfig>,
    pub known_hosts: Option<PathBuf>,
    /// Push commits that are not fgd's and change paths outside the fabric (refused otherwise).
    pub include_other_commits: bool,
    /// Skip the client hooks (pre-commit, commit-msg, pre-push), as `git --no-verify`.
    pub no_verify: bool,
    /// Push a branch the remote no longer has (someone deleted it): refused otherwise.
    pub recreate_branch: bool,
    /// End each commit's message with `Signed-off-by:` the committer, as `git commit -s`.
    pub signoff: bool,
    /// What a sync's ingest validates (the command's config section and flags; the fabric's
    /// own `.hnp/validation.toml` goes between them).
    pub validation: crate::validate::settings::Layers,
}

impl GitOptions {
    /// What the headless commands take from the environment when no flag says otherwise:
    /// `FGD_GIT_AUTHOR`, `FGD_KNOWN_HOSTS`, and the credentials `AuthConfig::from_env` reads.
    /// The dashboard's jobs use this, so a push from the dashboard and from `fgd push` agree.
    pub fn from_env() -> GitOptions {
        let var = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty());
        GitOptions {
            author: var("FGD_GIT_AUTHOR").map(|v| v.to_string_lossy().into_owned()),
            known_hosts: var("FGD_KNOWN_HOSTS").map(PathBuf::from),
            auth: Some(auth::AuthConfig::from_env()),
            signoff: var("FGD_GIT_SIGNOFF").is_some_and(|v| {
                matches!(
                    v.to_string_lossy().to_ascii_lowercase().as_str(),
                    "1" | "true" | "yes" | "on"
                )
            }),
            ..Default::default()
        }
    }

    /// Refuse a commit message or author git would not take, before any work (exit 2).
    pub fn check(&self) -> Result<()> {
        if let Some(m) = &self.message {
            if m.trim().is_empty() {
                return Err(GitError::Usage(
                    "--message is empty: a commit needs a message (leave --message out for fgd's summary of the changes)".into(),
                ));
            }
        }
        if let Some(a) = &self.author {
            parse_author(a)?;
        }
        Ok(())
    }
}

impl GitOptions {
    /// `check`, and that a commit made for `dir` (which may not exist yet) would have an
    /// author: for `init --push`, before the layout is created. Outside a working copy this
    /// says nothing; opening the repository then says what is wrong.
    pub fn check_for_commit(&self, dir: &Path) -> Result<()> {
        self.check()?;
        let existing = dir
            .ancestors()
            .find(|a| a.exists())
            .unwrap_or(Path::new("."));
        match Repository::discover(existing) {
            Ok(repo) => signature(&repo, self).map(|_| ()),
            Err(_) => Ok(()),
        }
    }
}

/// `Name <email>`, as git writes an author. Both are needed: the author is the audit trail of
/// who changed the fabric, so fgd never fills in an email of its own.
pub(crate) fn parse_author(author: &str) -> Result<(String, String)> {
    let bad = |why: &str| {
        GitError::Usage(format!(
            "author {author:?} (--author, FGD_GIT_AUTHOR or the dashboard's git_author): {why}; write it as \"Name <email>\""
        ))
    };
    if author.contains(['\n', '\r', '\0']) {
        return Err(bad("it holds a line break or a NUL"));
    }
    let (name, email) = match author.split_once('<') {
        None if author.contains('>') => return Err(bad("a '>' without '<'")),
        None => return Err(bad("it has no <email>")),
        Some((name, rest)) => {
            let Some((email, after)) = rest.split_once('>') else {
                return Err(bad("the email has no closing '>'"));
            };
            if !after.trim().is_empty() {
                return Err(bad(&format!("extra text after '>': {:?}", after.trim())));
            }
            if email.contains('<') || name.contains('>') {
                return Err(bad("more than one '<' or '>'"));
            }
            (name.trim(), email.trim())
        }
    };
    if name.is_empty() {
        return Err(bad("the name is empty"));
    }
    if email.is_empty() {
        return Err(bad("the email is empty"));
    }
    Ok((name.to_string(), email.to_string()))
}

pub(crate) static CONNECT_TIMEOUT_MS: std::sync::atomic::AtomicI32 =
    std::sync::atomic::AtomicI32::new(0);
pub(crate) static READ_TIMEOUT_MS: std::sync::atomic::AtomicI32 =
    std::sync::atomic::AtomicI32::new(0);

/// The timeouts `set_timeouts` set (connect, read), for messages.
pub(crate) fn timeouts() -> (i32, i32) {
    use std::sync::atomic::Ordering::Relaxed;
    (
        CONNECT_TIMEOUT_MS.load(Relaxed),
        READ_TIMEOUT_MS.load(Relaxed),
    )
}

/// Connect and read timeouts, so a dead link fails in seconds. libgit2 keeps them in globals:
/// call once, before any thread starts.
pub fn set_timeouts(connect_ms: i32, read_ms: i32) -> Result<()> {
    CONNECT_TIMEOUT_MS.store(connect_ms, std::sync::atomic::Ordering::Relaxed);
    READ_TIMEOUT_MS.store(read_ms, std::sync::atomic::Ordering::Relaxed);
    // SAFETY: called from the front end's main thread before any other thread exists.
    unsafe {
        git2::opts::set_server_connect_timeout_in_milliseconds(connect_ms)
            .map_err(local("set timeout"))?;
        git2::opts::set_server_timeout_in_milliseconds(read_ms).map_err(local("set timeout"))?;
    }
    // libgit2 checks that every entry of a tree it writes exists in the object store: two
    // opens of a loose object per file of the fabric on every commit pass, for objects fgd
    // wrote itself in the same pass (the scan writes any blob the store lacks) or took from
    // the index with the entry. Off, as `git write-tree` trusts its index.
    git2::opts::strict_object_creation(false);
    Ok(())
}

/// The commit author: `--author` (or `FGD_GIT_AUTHOR`, the dashboard's `git_author`), else
/// git config's `user.name`/`user.email`. None of them is a usage error, said before any work:
/// as git, fgd never commits under a made-up identity.
pub(crate) fn signature(repo: &Repository, opts: &GitOptions) -> Result<Signature<'static>> {
    if let Some(a) = &opts.author {
        let (name, email) = parse_author(a)?;
        return Signature::now(&name, &email).map_err(local("author"));
    }
    repo.signature().map_err(|e| {
        GitError::Usage(format!(
            "no commit author: git config has no usable user.name and user.email ({}), and no --author, FGD_GIT_AUTHOR or dashboard git_author gives one. Set them (git config user.name \"Your Name\"; git config user.email you@example.com) or pass --author \"Name <email>\"",
            e.message()
        ))
    })
}
