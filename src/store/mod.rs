//! Durable, symlink-safe file operations for the fabric directory: atomic writes (single and
//! batched), durable appends, the fabric lock, and fail points for crash tests.

mod atomic;
mod dir;
mod failpoint;
mod lock;
mod safe_path;
mod time;

pub use atomic::{
    append_line, append_line_in, append_line_parts, append_line_with, no_follow, rename_noreplace,
    sweep_temp_files, sweep_temp_files_noting, sync_dir, sync_files, write_atomic, write_atomic_in,
    write_placed, write_unpublished_in, write_unpublished_with, Batch, CommitStats, Place, Placed,
    Unpublished, TEMP_PREFIX,
};
pub use dir::{Dir, Dirs, REFUSE};
pub use failpoint::{
    failpoint, parse_failpoint, ALL_BATCH_FAILPOINTS, BATCH_AFTER_COMMIT, BATCH_AFTER_STAGE,
    BATCH_BEFORE_REMOVE, BATCH_MID_RENAME,
};
pub use lock::{FabricLock, LockError, LockOwner};
pub use safe_path::{check_dir_chain, create_dir_all_within, ensure_real_dir, fit_name, is_within};
pub use time::{now_rfc3339, rfc3339};

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
