//! Atomic writes. One file: temp, fsync, rename, folder fsync. Many files (`Batch`): all temps,
//! then ONE syncfs, then the renames, then one fsync per folder, as git's
//! `core.fsyncMethod=batch` does; a per-file fsync costs more than a whole ingest.

use std::collections::BTreeSet;
use std::io::Write;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use super::failpoint::failpoint;
use super::{err, Result};

/// Every temporary file fgd creates starts with this, so a crashed run's leftovers are known.
pub const TEMP_PREFIX: &str = ".fgd-tmp-";

static SEQ: AtomicU64 = AtomicU64::new(0);

fn temp_path(target: &Path) -> Result<PathBuf> {
    let dir = target.parent().ok_or_else(|| {
        err(
            "write",
            target,
            std::io::Error::new(std::io::ErrorKind::InvalidInput, "no parent folder"),
        )
    })?;
    let n = SEQ.fetch_add(1, Ordering::Relaxed);
    Ok(dir.join(format!("{TEMP_PREFIX}{}-{n}", std::process::id())))
}

/// Create a fresh temp file (never following or reusing anything) and fill it.
fn write_temp(tmp: &Path, bytes: &[u8]) -> Result<std::fs::File> {
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o644)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(tmp)
        .map_err(|e| err("create", tmp, e))?;
    f.write_all(bytes).map_err(|e| err("write", tmp, e))?;
    Ok(f)
}

pub fn sync_dir(path: &Path) -> Result<()> {
    let d = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_DIRECTORY | libc::O_CLOEXEC)
        .open(path)
        .map_err(|e| err("open folder", path, e))?;
    d.sync_all().map_err(|e| err("sync folder", path, e))
}

/// Atomic, durable replacement of one file. rename(2) replaces a symlink at the target itself,
/// never the file it points to.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = temp_path(path)?;
    let result = (|| {
        let f = write_temp(&tmp, bytes)?;
        f.sync_all().map_err(|e| err("sync", &tmp, e))?;
        drop(f);
        std::fs::rename(&tmp, path).map_err(|e| err("rename", path, e))?;
        if let Some(dir) = path.parent() {
            sync_dir(dir)?;
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct CommitStats {
    pub files_written: usize,
    pub renamed: usize,
    pub removed: usize,
    pub dirs_synced: usize,
}

/// Many atomic writes made durable together. Not durable until `commit` returns Ok; dropped
/// without commit, its temps are removed.
#[derive(Default)]
pub struct Batch {
    /// (temp, target), in staging order.
    writes: Vec<(PathBuf, PathBuf)>,
    renames: Vec<(PathBuf, PathBuf)>,
    removes: Vec<PathBuf>,
    /// One open folder per file system, for syncfs.
    devices: Vec<(u64, std::fs::File)>,
    committed: bool,
}

impl Batch {
    pub fn new() -> Batch {
        Batch::default()
    }

    pub fn len(&self) -> usize {
        self.writes.len() + self.renames.len() + self.removes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn stage_write(&mut self, target: &Path, bytes: &[u8]) -> Result<()> {
        let tmp = temp_path(target)?;
        let f = write_temp(&tmp, bytes)?;
        let dev = f.metadata().map_err(|e| err("inspect", &tmp, e))?.dev();
        if !self.devices.iter().any(|(d, _)| *d == dev) {
            self.devices.push((dev, f));
        }
        self.writes.push((tmp, target.to_path_buf()));
        Ok(())
    }

    /// An existing file moved as it is (same file system), during commit after the writes.
    pub fn stage_rename(&mut self, from: &Path, to: &Path) {
        self.renames.push((from.to_path_buf(), to.to_path_buf()));
    }

    /// Removed during commit, last. A file already gone is fine (idempotent).
    pub fn stage_remove(&mut self, path: &Path) {
        self.removes.push(path.to_path_buf());
    }

    fn make_temps_durable(&self) -> Result<()> {
        if self.writes.is_empty() {
            return Ok(());
        }
        let syncfs_ok = self
            .devices
            .iter()
            .all(|(_, f)| unsafe { libc::syncfs(f.as_raw_fd()) } == 0);
        if syncfs_ok {
            return Ok(());
        }
        // syncfs unsupported or failed: fall back to one fdatasync per temp.
        for (tmp, _) in &self.writes {
            let f = std::fs::File::open(tmp).map_err(|e| err("open", tmp, e))?;
            f.sync_data().map_err(|e| err("sync", tmp, e))?;
        }
        Ok(())
    }

    pub fn commit(mut self) -> Result<CommitStats> {
        let mut stats = CommitStats::default();
        let mut dirs: BTreeSet<PathBuf> = BTreeSet::new();
        failpoint("batch.after-stage");
        self.make_temps_durable()?;
        self.devices.clear();
        let half = self.writes.len() / 2;
        for (i, (tmp, target)) in self.writes.iter().enumerate() {
            if i == half {
                failpoint("batch.mid-rename");
            }
            std::fs::rename(tmp, target).map_err(|e| err("rename", target, e))?;
            dirs.extend(target.parent().map(Path::to_path_buf));
            stats.files_written += 1;
        }
        if self.writes.is_empty() {
            failpoint("batch.mid-rename");
        }
        self.writes.clear();
        for (from, to) in &self.renames {
            std::fs::rename(from, to).map_err(|e| err("rename", from, e))?;
            dirs.extend(from.parent().map(Path::to_path_buf));
            dirs.extend(to.parent().map(Path::to_path_buf));
            stats.renamed += 1;
        }
        failpoint("batch.before-remove");
        for p in &self.removes {
            match std::fs::remove_file(p) {
                Ok(()) => stats.removed += 1,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(err("remove", p, e)),
            }
            dirs.extend(p.parent().map(Path::to_path_buf));
        }
        for d in &dirs {
            sync_dir(d)?;
            stats.dirs_synced += 1;
        }
        self.committed = true;
        failpoint("batch.after-commit");
        Ok(stats)
    }
}

impl Drop for Batch {
    fn drop(&mut self) {
        if !self.committed {
            for (tmp, _) in &self.writes {
                let _ = std::fs::remove_file(tmp);
            }
        }
    }
}

/// Durable append of one line to an append-only log.
pub fn append_line(path: &Path, line: &str) -> Result<()> {
    let existed = path.exists();
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .mode(0o644)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(path)
        .map_err(|e| err("open", path, e))?;
    f.write_all(line.as_bytes())
        .map_err(|e| err("append", path, e))?;
    f.sync_data().map_err(|e| err("sync", path, e))?;
    if !existed {
        if let Some(dir) = path.parent() {
            sync_dir(dir)?;
        }
    }
    Ok(())
}

/// Remove temp files a killed run left under `dir`, recursively, without following symlinks.
pub fn sweep_temp_files(dir: &Path) -> Result<usize> {
    let mut n = 0;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let entries = match std::fs::read_dir(&d) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(err("list", &d, e)),
        };
        for entry in entries {
            let entry = entry.map_err(|e| err("list", &d, e))?;
            let ft = entry
                .file_type()
                .map_err(|e| err("inspect", &entry.path(), e))?;
            if ft.is_dir() {
                stack.push(entry.path());
            } else if ft.is_file() && entry.file_name().to_string_lossy().starts_with(TEMP_PREFIX) {
                std::fs::remove_file(entry.path()).map_err(|e| err("remove", &entry.path(), e))?;
                n += 1;
            }
        }
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temps(dir: &Path) -> usize {
        std::fs::read_dir(dir)
            .unwrap()
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().starts_with(TEMP_PREFIX))
            .count()
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

    #[test]
    fn a_batch_of_a_thousand_files_commits_all_of_them() {
        let t = tempfile::tempdir().unwrap();
        let mut b = Batch::new();
        for i in 0..1000 {
            b.stage_write(
                &t.path().join(format!("f{i}.yaml")),
                format!("n: {i}\n").as_bytes(),
            )
            .unwrap();
        }
        let old = t.path().join("old");
        std::fs::write(&old, b"x").unwrap();
        b.stage_remove(&old);
        b.stage_remove(&t.path().join("never-existed"));
        let stats = b.commit().unwrap();
        assert_eq!(stats.files_written, 1000);
        assert_eq!(stats.removed, 1);
        for i in 0..1000 {
            assert_eq!(
                std::fs::read_to_string(t.path().join(format!("f{i}.yaml"))).unwrap(),
                format!("n: {i}\n")
            );
        }
        assert!(!old.exists());
        assert_eq!(temps(t.path()), 0);
    }

    #[test]
    fn a_dropped_batch_leaves_nothing_behind() {
        let t = tempfile::tempdir().unwrap();
        let mut b = Batch::new();
        b.stage_write(&t.path().join("a"), b"x").unwrap();
        drop(b);
        assert_eq!(std::fs::read_dir(t.path()).unwrap().count(), 0);
    }

    #[test]
    fn sweeping_removes_only_fgd_temps() {
        let t = tempfile::tempdir().unwrap();
        std::fs::create_dir(t.path().join("sub")).unwrap();
        std::fs::write(t.path().join("sub").join(format!("{TEMP_PREFIX}1-2")), b"x").unwrap();
        std::fs::write(t.path().join("keep.yaml"), b"x").unwrap();
        assert_eq!(sweep_temp_files(t.path()).unwrap(), 1);
        assert!(t.path().join("keep.yaml").exists());
    }

    #[test]
    fn appends_accumulate_lines() {
        let t = tempfile::tempdir().unwrap();
        let p = t.path().join("log.jsonl");
        append_line(&p, "{\"a\":1}\n").unwrap();
        append_line(&p, "{\"a\":2}\n").unwrap();
        assert_eq!(std::fs::read_to_string(&p).unwrap().lines().count(), 2);
    }
}
