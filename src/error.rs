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
    #[error(transparent)]
    Git(#[from] crate::git::GitError),
}

impl Error {
    pub fn exit(&self) -> Exit {
        match self {
            Error::Refused(_) | Error::Unsafe { .. } | Error::Locked(_) => Exit::Refused,
            // A symlink or a non-folder where fgd works, or a folder swapped mid-run.
            Error::Store(s) if s.is_refusal() => Exit::Refused,
            Error::Store(_) | Error::Journal { .. } => Exit::Io,
            Error::Usage(_) => Exit::Usage,
            Error::Git(g) if g.is_usage() => Exit::Usage,
            Error::Git(g) if g.is_busy() => Exit::Busy,
            Error::Git(g) if g.is_refusal() => Exit::Refused,
            Error::Git(_) => Exit::Io,
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
    Error::Store(StoreError {
        op,
        path: path.to_path_buf(),
        source,
    })
}
