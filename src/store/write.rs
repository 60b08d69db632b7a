//! Writing one file atomically: a temp beside the target, fsync, rename, folder fsync; or
//! written but not yet in force (`Unpublished`), for a batch's one sync to make durable.

use std::ffi::{OsStr, OsString};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use rustix::fs::OFlags;

use super::dir::{temp_name, Dir};
use super::sys;
use super::{err, Result};

/// Every temporary file fgd creates starts with this, so a crashed run's leftovers are known.
pub const TEMP_PREFIX: &str = ".fgd-tmp-";

/// A temp name no other process, and no other temp of this one, is using.
pub(super) fn next_temp_name() -> OsString {
    static SEQ: AtomicU64 = AtomicU64::new(0);
    temp_name(TEMP_PREFIX, pid(), SEQ.fetch_add(1, Ordering::Relaxed))
}

/// How fgd opens every file it writes or checks: never through a symlink, closed on exec, and
/// created 0644.
pub fn no_follow() -> std::fs::OpenOptions {
    let mut o = std::fs::OpenOptions::new();
    o.mode(0o644)
        .custom_flags(sys::custom(OFlags::NOFOLLOW | OFlags::CLOEXEC));
    o
}

/// The folder holding `path`; "." for a bare relative name, so it can still be synced.
pub(super) fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// The process id, asked of the kernel once: temp names carry it, one per file written.
fn pid() -> u32 {
    static PID: std::sync::OnceLock<u32> = std::sync::OnceLock::new();
    *PID.get_or_init(std::process::id)
}

pub(super) fn file_name(target: &Path) -> Result<&std::ffi::OsStr> {
    target.file_name().ok_or_else(|| {
        err(
            "write",
            target,
            std::io::Error::new(std::io::ErrorKind::InvalidInput, "not a file path"),
        )
    })
}

/// A new file `name` in `dir` (a staged folder, fgd's own: nothing there to follow or reuse).
pub(super) fn create_in(dir: &Dir, name: &OsStr, bytes: &[u8]) -> Result<()> {
    let mut f = dir
        .create_new(name)
        .map_err(|e| err("create", &dir.join(name), e))?;
    f.write_all(bytes)
        .map_err(|e| err("write", &dir.join(name), e))
}

/// A fresh temp file in `dir`, filled with `bytes`: its name and open file. A name left by a
/// crashed run with a reused pid is skipped, not an error.
pub(super) fn write_temp_in(dir: &Dir, bytes: &[u8]) -> Result<(OsString, std::fs::File)> {
    let mut tries = 0;
    loop {
        let tmp = next_temp_name();
        match dir.create_new(&tmp) {
            Ok(mut f) => {
                if let Err(e) = f.write_all(bytes) {
                    drop(f);
                    let _ = dir.unlink(&tmp);
                    return Err(err("write", &dir.join(&tmp), e));
                }
                return Ok((tmp, f));
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && tries < 100 => tries += 1,
            Err(e) => return Err(err("create", &dir.join(&tmp), e)),
        }
    }
}

/// fsync a directory, so the names created, renamed or removed in it survive a crash.
pub fn sync_dir(path: &Path) -> Result<()> {
    let d = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(sys::custom(OFlags::DIRECTORY | OFlags::CLOEXEC))
        .open(path)
        .map_err(|e| err("open folder", path, e))?;
    d.sync_all().map_err(|e| err("sync folder", path, e))
}

/// Atomic, durable replacement of one file. rename(2) replaces a symlink at the target itself,
/// never the file it points to.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    write_atomic_with(path, |w| w.write_all(bytes))
}

/// `write_atomic` of what `fill` writes, streamed into the temp file: a big journal is never
/// held whole in memory.
pub fn write_atomic_with(
    path: &Path,
    fill: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<()> {
    let pending = write_unpublished_with(path, fill)?;
    {
        let (tmp, f) = pending.temp();
        f.sync_all().map_err(|e| err("sync", tmp, e))?;
    }
    pending.publish()
}

/// `write_atomic` in the held folder `dir` (see `Dirs`): created, renamed and synced there,
/// whatever its path leads to meanwhile.
pub fn write_atomic_in(dir: &Arc<Dir>, name: &OsStr, bytes: &[u8]) -> Result<()> {
    let pending = write_unpublished_in(dir, name, |w| w.write_all(bytes))?;
    {
        let (tmp, f) = pending.temp();
        f.sync_all().map_err(|e| err("sync", tmp, e))?;
    }
    pending.publish()
}

/// Make each file durable, with its entry in its folder, one by one: for a few files, or
/// where syncfs failed.
pub fn sync_files(files: &[(&Path, &std::fs::File)]) -> Result<()> {
    for (path, f) in files {
        f.sync_all().map_err(|e| err("sync", path, e))?;
        sync_dir(parent_dir(path))?;
    }
    Ok(())
}

/// A file written whole under a temp name beside its target, neither durable nor in place
/// yet: a batch's one sync makes it durable (`Batch::sync_with`), then `publish` moves it in.
/// This is how the journal rides on the batch's syncfs instead of paying for fsyncs of its own.
/// Dropped unpublished, its temp is removed.
pub struct Unpublished {
    /// The held folder, its temp's name and path, and the target's name there.
    dir: Arc<Dir>,
    tmp_name: OsString,
    tmp: PathBuf,
    name: OsString,
    file: Option<std::fs::File>,
}

/// What `fill` writes, into a temp beside `path`, with no fsync.
pub fn write_unpublished_with(
    path: &Path,
    fill: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<Unpublished> {
    let dir = parent_dir(path);
    let held = Dir::open_path(dir).map_err(|e| err("open folder", dir, e))?;
    write_unpublished_in(&Arc::new(held), file_name(path)?, fill)
}

/// `write_unpublished_with` in the held folder `dir`.
pub fn write_unpublished_in(
    dir: &Arc<Dir>,
    name: &OsStr,
    fill: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<Unpublished> {
    let (tmp_name, f) = write_temp_in(dir, &[])?;
    let pending = Unpublished {
        tmp: dir.join(&tmp_name),
        dir: dir.clone(),
        tmp_name,
        name: name.to_os_string(),
        file: Some(f),
    };
    let mut w = std::io::BufWriter::with_capacity(256 * 1024, pending.file());
    fill(&mut w)
        .and_then(|()| w.flush())
        .map_err(|e| err("write", &pending.tmp, e))?;
    drop(w);
    Ok(pending)
}

impl Unpublished {
    /// The temp's path and open file, for `Batch::sync_with`.
    pub fn temp(&self) -> (&Path, &std::fs::File) {
        (&self.tmp, self.file())
    }

    fn file(&self) -> &std::fs::File {
        match &self.file {
            Some(f) => f,
            None => unreachable!("an Unpublished keeps its file until published or dropped"),
        }
    }

    /// Rename into place and make the rename durable. Only once the content is durable. A
    /// failed rename leaves the temp to the drop, which removes it.
    pub fn publish(mut self) -> Result<()> {
        self.dir
            .rename(&self.tmp_name, &self.dir, &self.name)
            .map_err(|e| err("rename", &self.dir.join(&self.name), e))?;
        self.file = None;
        self.dir.sync()
    }
}

impl Drop for Unpublished {
    fn drop(&mut self) {
        if self.file.take().is_some() {
            let _ = self.dir.unlink(&self.tmp_name);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::temps;
    use crate::store::Batch;
    #[test]
    fn an_unpublished_file_is_invisible_until_published_and_gone_if_dropped() {
        let t = tempfile::tempdir().unwrap();
        let target = t.path().join("journal.json");
        let u = write_unpublished_with(&target, |w| w.write_all(b"{}")).unwrap();
        assert!(!target.exists());
        drop(u);
        assert_eq!(temps(t.path()), 0, "dropped: its temp is removed");
        let u = write_unpublished_with(&target, |w| w.write_all(b"{}")).unwrap();
        let mut b = Batch::new();
        b.sync_with(&[u.temp()]).unwrap();
        assert!(!target.exists(), "durable is not yet in force");
        u.publish().unwrap();
        assert_eq!(std::fs::read(&target).unwrap(), b"{}");
        assert_eq!(temps(t.path()), 0);
    }

    #[test]
    fn atomic_write_replaces_content_and_leaves_no_temp() {
        let t = tempfile::tempdir().unwrap();
        let p = t.path().join("a.yaml");
        write_atomic(&p, b"one").unwrap();
        write_atomic(&p, b"two").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"two");
        assert_eq!(temps(t.path()), 0);
    }

    #[test]
    fn a_symlink_at_the_target_is_replaced_not_followed() {
        let t = tempfile::tempdir().unwrap();
        let victim = t.path().join("victim");
        std::fs::write(&victim, b"keep").unwrap();
        let p = t.path().join("a.yaml");
        std::os::unix::fs::symlink(&victim, &p).unwrap();
        write_atomic(&p, b"new").unwrap();
        assert_eq!(std::fs::read(&victim).unwrap(), b"keep");
        assert!(std::fs::symlink_metadata(&p).unwrap().is_file());
    }
}
