//! Durable, symlink-safe file operations for the fabric directory: atomic writes (single and
//! batched), durable appends, the fabric lock, and fail points for crash tests.

mod append;
mod batch;
mod dir;
mod failpoint;
mod lock;
mod safe_path;
mod sweep;
mod time;
mod write;

pub use append::{append_line, append_line_in, append_line_parts, append_line_with};
pub use batch::{write_placed, Batch, CommitStats, Place, Placed};
pub use dir::{Dir, Dirs, REFUSE};
pub use failpoint::{
    failpoint, parse_failpoint, ALL_BATCH_FAILPOINTS, BATCH_AFTER_COMMIT, BATCH_AFTER_STAGE,
    BATCH_BEFORE_REMOVE, BATCH_MID_RENAME,
};
pub use lock::{FabricLock, LockError, LockOwner};
pub use safe_path::{check_dir_chain, create_dir_all_within, ensure_real_dir, fit_name, is_within};
pub use sweep::{sweep_temp_files, sweep_temp_files_noting};
pub use time::{now_rfc3339, rfc3339};
pub use write::{
    no_follow, sync_dir, sync_files, write_atomic, write_atomic_in, write_unpublished_in,
    write_unpublished_with, Unpublished, TEMP_PREFIX,
};

use std::path::PathBuf;

/// An I/O error that always names the operation and the path.
#[derive(Debug, thiserror::Error)]
#[error("{op} {path}: {source}")]
pub struct StoreError {
    pub op: &'static str,
    pub path: PathBuf,
    #[source]
    pub source: std::io::Error,
}

pub type Result<T> = std::result::Result<T, StoreError>;

pub(crate) fn err(op: &'static str, path: &std::path::Path, source: std::io::Error) -> StoreError {
    StoreError {
        op,
        path: path.to_path_buf(),
        source,
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
