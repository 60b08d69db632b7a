//! The git loop's errors, each a kind the exit code is decided on (never its text).

use crate::error::{Classified, Kind};

#[derive(Debug, thiserror::Error)]
pub enum GitError {
    #[error("git {op}: {source}")]
    Local {
        op: &'static str,
        source: git2::Error,
    },
    #[error("{op} {url} over {transport} failed: {message}{}", tried_text(.tried))]
    Remote {
        op: &'static str,
        url: String,
        transport: &'static str,
        message: String,
        tried: Vec<String>,
        /// The host key was not trusted or no credential was accepted: a retry cannot help.
        refused: bool,
    },
    #[error("the server refused the push to {url}: {message}; the commit is kept locally")]
    Rejected { url: String, message: String },
    #[error("conflict: {url} and this fabric both change {}; nothing was pushed and our commit is kept locally:\n{}\nKeep theirs: fgd resolve {fabric} --theirs; keep ours: fgd resolve {fabric} --ours; then fgd sync {fabric} again (or resolve it in git: pull and merge, or fix and commit, then push)", conflict_paths(.conflicts), first_ten(&.conflicts.iter().map(|c| c.to_string()).collect::<Vec<_>>()))]
    Conflict {
        /// The fabric's directory, for the commands the message names.
        fabric: String,
        url: String,
        conflicts: Vec<super::resolve::PathConflict>,
    },
    /// The remote branch was rewritten (force-pushed): its new tip does not descend from the
    /// one fetched before. fgd stops rather than guess which history is right.
    #[error("the remote branch at {url} was rewritten (force-pushed): its tip {new} does not descend from {old}, fetched before, and it dropped {} commit(s):\n{}\nfgd never replays or pushes those again, and stops here: nothing was committed onto the new history or pushed. Look at what the remote dropped; if that was meant, move this branch onto the new history keeping only your own commits (git rebase --onto {new} {old}), then run fgd again", .dropped.len(), first_ten(.dropped))]
    RemoteRewritten {
        url: String,
        old: String,
        new: String,
        /// `<id> <subject> (<author>)`, newest first.
        dropped: Vec<String>,
    },
    /// The push would publish commits that are not fgd's and change paths outside the fabric.
    #[error("refusing to push to {url}: it would also publish {} commit(s) that fgd did not make for this fabric and that change paths outside it:\n{}\nNothing was pushed. Push them with git first if they are meant to go out (or pass --include-other-commits to let fgd push them), or take them off this branch (git rebase -i)", .commits.len(), first_ten(.commits))]
    OtherCommits { url: String, commits: Vec<String> },
    /// A local commit fgd would have to replay is not one of its own.
    #[error("local commit {commit} ({subject}, by {author}) is not on the remote and is not one of fgd's commits for this fabric ({why}); fgd replays only its own commits since the last fetch, never another author's or one that changes paths outside the fabric. Nothing was pushed. Integrate it with git (git pull --rebase, or drop it: git rebase -i), then run fgd again")]
    NotOurs {
        commit: String,
        subject: String,
        author: String,
        why: String,
    },
    #[error("refusing to push to {url}: it is a repository on this machine with server hooks ({}) in {dir}, and fgd pushes to a path or file:// remote by writing it directly (libgit2 runs no hooks), which would bypass the protection they give. Nothing was pushed (any local commit is kept). Serve the repository over git://, ssh:// or http(s):// (git daemon --enable=receive-pack, ssh://localhost/..., git http-backend) so its hooks run, and point the remote there", .hooks.join(", "))]
    HooksBypassed {
        url: String,
        hooks: Vec<String>,
        dir: String,
    },
    #[error("nothing was committed: {} path(s) of the fabric are not what fgd would write there, and Argo CD or Flux could not build the fabric from them, or fgd's records would not be its own:\n{}", .problems.len(), first_ten(.problems))]
    Unmanageable { problems: Vec<String> },
    /// Reading the working copy failed (a file for the commit, a folder of the fabric): an I/O
    /// failure (exit 4), not a refusal.
    #[error("{op} {}: {source}", .path.display())]
    Io {
        op: &'static str,
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    /// The tree a push would publish is not what fgd writes (whoever made the commits).
    #[error("refusing to push {commit}: the fabric's tree it would publish is not what fgd writes, and Argo CD or Flux would apply it as it is ({} problem(s)); nothing was pushed:\n{}", .problems.len(), first_ten(&.problems.iter().map(|p| p.to_string()).collect::<Vec<_>>()))]
    BrokenTip {
        commit: String,
        problems: Vec<super::verify::TipProblem>,
    },
    /// Other writers kept moving the remote through every attempt: nothing is wrong, try
    /// again (exit 5).
    #[error("the remote {url} kept moving during {attempts} attempts (other writers pushing at the same time); our commit is kept locally and nothing was pushed: run the command again")]
    RemoteBusy { url: String, attempts: u32 },
    /// The remote branch was fetched before and is gone now.
    #[error("the branch {branch} no longer exists at {url}: someone deleted it since the last fetch. fgd does not create it again unasked; nothing was pushed (our commits are kept). If it should exist again, run again with --recreate-branch; if the fabric moved to another branch, check that one out")]
    BranchDeleted { url: String, branch: String },
    /// A client hook (pre-commit, commit-msg, pre-push) refused.
    #[error("the {hook} hook ({path}) refused: {said}\nNothing was committed or pushed by this step. Fix what it says, or skip client hooks with --no-verify as with git")]
    Hook {
        hook: &'static str,
        path: String,
        said: String,
    },
    /// A git operation the operator started is not finished: nothing was done.
    #[error("{}; fgd commits, fetches and pushes only between git operations, so nothing was done. Run fgd again once it is finished", .0.advice())]
    InProgress(super::state::InProgress),
    #[error("{0}")]
    Setup(String),
    /// The command line asked for something fgd will not do (exit 2), said before any work.
    #[error("{0}")]
    Usage(String),
}

pub(crate) fn tried_text(tried: &[String]) -> String {
    if tried.is_empty() {
        String::new()
    } else {
        format!("; credentials tried: {}", tried.join(", "))
    }
}

pub(crate) fn first_ten(lines: &[String]) -> String {
    let mut text = lines[..lines.len().min(10)].join("\n");
    if lines.len() > 10 {
        text.push_str(&format!("\n... and {} more", lines.len() - 10));
    }
    text
}

pub(crate) fn conflict_paths(conflicts: &[super::resolve::PathConflict]) -> String {
    conflicts
        .iter()
        .map(|c| match &c.object {
            Some(o) => format!("{} ({o})", c.path),
            None => c.path.clone(),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

impl GitError {
    pub fn local(op: &'static str, source: git2::Error) -> GitError {
        GitError::Local { op, source }
    }
    pub(crate) fn io(op: &'static str, path: &std::path::Path, source: std::io::Error) -> GitError {
        GitError::Io {
            op,
            path: path.to_path_buf(),
            source,
        }
    }
    /// What kind of failure this is, which decides the exit code.
    pub fn kind(&self) -> Kind {
        match self {
            GitError::Conflict { .. } => Kind::Conflict,
            g if g.is_usage() => Kind::Usage,
            g if g.is_busy() => Kind::Busy,
            g if g.is_refusal() => Kind::Refused,
            _ => Kind::Io,
        }
    }
    /// The git error `e` is, if it is one.
    pub fn of(e: &crate::Error) -> Option<&GitError> {
        match e {
            crate::Error::Git(g) => g.downcast_ref(),
            _ => None,
        }
    }
    /// The remote kept moving: a retry later will do (exit 5).
    pub fn is_busy(&self) -> bool {
        matches!(self, GitError::RemoteBusy { .. })
    }
    /// The command line asked for something fgd will not do (exit 2).
    pub fn is_usage(&self) -> bool {
        matches!(self, GitError::Usage(_))
    }
    /// Refusals need the operator; failures may go away on a retry.
    pub fn is_refusal(&self) -> bool {
        matches!(
            self,
            GitError::Rejected { .. }
                | GitError::Conflict { .. }
                | GitError::RemoteRewritten { .. }
                | GitError::NotOurs { .. }
                | GitError::OtherCommits { .. }
                | GitError::Hook { .. }
                | GitError::BranchDeleted { .. }
                | GitError::HooksBypassed { .. }
                | GitError::Unmanageable { .. }
                | GitError::Setup(_)
                | GitError::InProgress(_)
                | GitError::BrokenTip { .. }
                | GitError::Remote { refused: true, .. }
        )
    }
}

impl From<GitError> for crate::Error {
    fn from(e: GitError) -> crate::Error {
        crate::Error::Git(Classified::new(e.kind(), e))
    }
}

pub(crate) type Result<T> = std::result::Result<T, GitError>;

pub(crate) fn local(op: &'static str) -> impl FnOnce(git2::Error) -> GitError {
    move |e| GitError::local(op, e)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Exit;

    #[test]
    fn the_exit_code_follows_the_kind_of_git_failure_never_its_message() {
        let path = std::path::Path::new("/f/managed");
        // A file a commit could not read is an I/O failure (4), not a refusal (3).
        let git = crate::Error::from(GitError::Io {
            op: "read",
            path: path.into(),
            source: std::io::Error::other("refuse"),
        });
        assert_eq!((git.kind(), git.exit()), (Kind::Io, Exit::Io));
        let conflict = crate::Error::from(GitError::Conflict {
            fabric: "f".into(),
            url: "u".into(),
            conflicts: Vec::new(),
        });
        assert_eq!(
            (conflict.kind(), conflict.exit()),
            (Kind::Conflict, Exit::Refused)
        );
        assert!(matches!(
            GitError::of(&conflict),
            Some(GitError::Conflict { .. })
        ));
        let busy = crate::Error::from(GitError::RemoteBusy {
            url: "u".into(),
            attempts: 3,
        });
        assert_eq!(busy.exit(), Exit::Busy);
        let usage = crate::Error::from(GitError::Usage("x".into()));
        assert_eq!(usage.exit(), Exit::Usage);
    }
}
