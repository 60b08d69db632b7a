//! Engine errors, each mapped to one of fgd's documented exit codes.

use std::path::PathBuf;

use crate::store::{LockError, StoreError};

/// Exit codes are part of fgd's interface: scripts branch on them. Never renumber.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Exit {
    /// Everything done; nothing went to unmanaged.
    Success = 0,
    /// Done, but some input went (or, for validate, would go) to unmanaged.
    Unmanaged = 1,
    /// Bad command line.
    Usage = 2,
    /// Refused before doing anything: unsafe layout, not a fabric, locked by another fgd.
    Refused = 3,
    /// An I/O failure stopped the work; the journal lets the next run finish it.
    Io = 4,
    /// The git remote kept moving through every push attempt (other writers): run again.
    Busy = 5,
    /// The dashboard ended by SIGHUP or because its terminal went away (128 + 1, as a shell
    /// reports a process the signal killed), after restoring the terminal.
    HungUp = 129,
    /// The dashboard ended by SIGTERM (128 + 15), after restoring the terminal.
    Terminated = 143,
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    Refused(String),
    #[error("{path}: {message}")]
    Unsafe { path: PathBuf, message: String },
    #[error("fabric is {0}")]
    Locked(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    Usage(String),
    #[error("journal {path}: {message}")]
    Journal { path: PathBuf, message: String },
    /// The git loop failed (`git::GitError`, converted by its `From`, read back by
    /// `GitError::of`): held here by the kind git decided on, so that this module, which every
    /// other depends on, does not depend on `git`.
    #[error(transparent)]
    Git(Classified),
}

/// An error of a module above this one, with the [`Kind`] that module decided it is. Displays,
/// debugs and chains as the error it holds.
pub struct Classified {
    kind: Kind,
    error: Box<dyn std::error::Error + Send + Sync + 'static>,
}

impl Classified {
    pub fn new(kind: Kind, error: impl std::error::Error + Send + Sync + 'static) -> Classified {
        Classified {
            kind,
            error: Box::new(error),
        }
    }

    pub fn kind(&self) -> Kind {
        self.kind
    }

    /// The error held, if it is a `T`.
    pub fn downcast_ref<T: std::error::Error + 'static>(&self) -> Option<&T> {
        self.error.downcast_ref()
    }
}

impl std::fmt::Debug for Classified {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(&self.error, f)
    }
}

impl std::fmt::Display for Classified {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(&self.error, f)
    }
}

impl std::error::Error for Classified {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.error.source()
    }
}

/// What kind of failure an error is: what a front end decides on (the exit code, whether a
/// retry can help), always from the variant, never from the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Refused before doing anything: not a fabric, an unsafe layout, locked by another fgd,
    /// or a git refusal (the operator must act; a retry alone cannot help).
    Refused,
    /// Our commit and the remote's change the same files: resolve it in git.
    Conflict,
    /// An I/O failure stopped the work; the journal lets the next run finish it.
    Io,
    /// The command line asked for something fgd will not do.
    Usage,
    /// Other writers kept the remote moving: nothing is wrong, run it again later.
    Busy,
}

impl Error {
    pub fn kind(&self) -> Kind {
        match self {
            Error::Refused(_) | Error::Unsafe { .. } | Error::Locked(_) => Kind::Refused,
            // A symlink or a non-folder where fgd works, or a folder swapped mid-run.
            Error::Store(StoreError::Refused { .. }) => Kind::Refused,
            Error::Store(StoreError::Io { .. }) | Error::Journal { .. } => Kind::Io,
            Error::Usage(_) => Kind::Usage,
            Error::Git(g) => g.kind(),
        }
    }

    pub fn exit(&self) -> Exit {
        match self.kind() {
            Kind::Refused | Kind::Conflict => Exit::Refused,
            Kind::Io => Exit::Io,
            Kind::Usage => Exit::Usage,
            Kind::Busy => Exit::Busy,
        }
    }
}

impl From<LockError> for Error {
    fn from(e: LockError) -> Self {
        match e {
            LockError::Io(io) => Error::Store(io),
            held => Error::Locked(held.to_string()),
        }
    }
}

pub type Result<T> = std::result::Result<T, Error>;

/// Shorthand for wrapping std I/O errors with the operation and path.
pub fn io(op: &'static str, path: &std::path::Path, source: std::io::Error) -> Error {
    Error::Store(StoreError::Io {
        op,
        path: path.to_path_buf(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_exit_code_follows_the_kind_of_failure_never_its_message() {
        let path = std::path::Path::new("/f/managed");
        let refused = crate::store::StoreError::Refused {
            path: path.into(),
            why: "an I/O error, it says".into(),
        };
        let failed = || io("read", path, std::io::Error::other("refuse"));
        assert_eq!(Error::Store(refused).kind(), Kind::Refused);
        assert_eq!(failed().kind(), Kind::Io);
        assert_eq!(failed().exit(), Exit::Io);
        let conflict = Error::Git(Classified::new(Kind::Conflict, std::io::Error::other("x")));
        assert_eq!(
            (conflict.kind(), conflict.exit()),
            (Kind::Conflict, Exit::Refused)
        );
        assert_eq!(Error::Usage("x".into()).exit(), Exit::Usage);
    }
}
