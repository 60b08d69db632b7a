//! Durable, symlink-safe file operations for the fabric directory: atomic writes (single and
//! batched), durable appends, the fabric lock, and fail points for crash tests.

mod append;
mod batch;
mod dir;
mod failpoint;
mod lock;
mod read;
mod safe_path;
mod sweep;
pub mod sys;
mod time;
mod write;

pub use append::{append_line, append_line_in, append_line_parts, append_line_with};
pub use batch::{write_placed, Batch, CommitStats, Place, Placed};
pub use dir::{Dir, Dirs};
pub use failpoint::{
    failpoint, parse_failpoint, ALL_BATCH_FAILPOINTS, BATCH_AFTER_COMMIT, BATCH_AFTER_STAGE,
    BATCH_BEFORE_REMOVE, BATCH_MID_RENAME,
};
pub use lock::{FabricLock, LockError, LockOwner};
pub use read::{open_regular, FileKind, ReadRegular, Regular, Unsettled};
pub use safe_path::{check_dir_chain, create_dir_all_within, ensure_real_dir, fit_name, is_within};
pub use sweep::{sweep_temp_files, sweep_temp_files_noting};
pub use time::{now_rfc3339, rfc3339};
pub use write::{
    no_follow, sync_dir, sync_files, write_atomic, write_atomic_in, write_unpublished_in,
    write_unpublished_with, Unpublished, TEMP_PREFIX,
};

use std::path::{Path, PathBuf};

/// A failure of a file operation, always naming the path: an I/O failure, or a refusal of an
/// unsafe layout. Which one it is decides the exit code (4 or 3), so it is a variant, never
/// read from the message.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The system call `op` failed on `path`.
    #[error("{op} {path}: {source}")]
    Io {
        op: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// An unsafe layout, refused before anything went through it: a symlink or a non-folder
    /// where fgd works, a path leaving the fabric, or a folder swapped mid-run.
    #[error("refuse {path}: {why}")]
    Refused { path: PathBuf, why: String },
}

impl StoreError {
    /// Whether this is a refusal of an unsafe layout rather than an I/O failure.
    pub fn is_refusal(&self) -> bool {
        matches!(self, StoreError::Refused { .. })
    }

    pub fn path(&self) -> &Path {
        match self {
            StoreError::Io { path, .. } | StoreError::Refused { path, .. } => path,
        }
    }

    /// As a plain `io::Error` (the system's own, for an I/O failure), for callers that speak
    /// only that.
    pub fn into_io(self) -> std::io::Error {
        match self {
            StoreError::Io { source, .. } => source,
            StoreError::Refused { why, .. } => std::io::Error::other(why),
        }
    }

    /// What went wrong at the path, without it (the system's message, or the refusal's).
    pub fn detail(&self) -> String {
        match self {
            StoreError::Io { source, .. } => source.to_string(),
            StoreError::Refused { why, .. } => why.clone(),
        }
    }
}

pub type Result<T> = std::result::Result<T, StoreError>;

pub(crate) fn err(op: &'static str, path: &Path, source: std::io::Error) -> StoreError {
    StoreError::Io {
        op,
        path: path.to_path_buf(),
        source,
    }
}

/// Refuse an unsafe layout at `path`.
pub(crate) fn refusal(path: &Path, why: impl Into<String>) -> StoreError {
    StoreError::Refused {
        path: path.to_path_buf(),
        why: why.into(),
    }
}

/// How many of fgd's temps are directly in `dir` (tests).
#[cfg(test)]
pub(crate) fn temps(dir: &std::path::Path) -> usize {
    std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with(TEMP_PREFIX))
        .count()
}

/// Make a FIFO at `path` (tests: what fgd must never open or wait on).
#[cfg(test)]
pub(crate) fn mkfifo(path: &std::path::Path) -> std::io::Result<()> {
    use rustix::fs::{mknodat, FileType, Mode, CWD};
    Ok(mknodat(
        CWD,
        path,
        FileType::Fifo,
        Mode::from_raw_mode(0o644),
        0,
    )?)
}
