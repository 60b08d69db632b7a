//! The fabric lock: flock(2) on `.hnp/lock` and on `.hnp/`, held for the life of a
//! `FabricLock`. The kernel
//! releases it when the process dies, so kill -9 leaves no stale lock; the owner record inside
//! is only there to tell the next instance who holds it.

use std::io::{Read, Seek, Write};
use std::path::Path;

use serde::{Deserialize, Serialize};

use rustix::fs::{flock, FlockOperation, Mode, OFlags};

use super::sys::{self, Errno};
use super::{err, StoreError};

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct LockOwner {
    pub pid: u32,
    pub host: String,
    pub since: String,
    pub command: String,
}

#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error("{}", held_message(.0))]
    Held(Option<LockOwner>),
    #[error(transparent)]
    Io(#[from] StoreError),
}

fn held_message(owner: &Option<LockOwner>) -> String {
    match owner {
        Some(o) => format!(
            "locked by pid {} on host {} since {} (command {})",
            o.pid, o.host, o.since, o.command
        ),
        None => "locked by another process (no owner record)".into(),
    }
}

/// Held: an exclusive flock on the lock file and on the folder holding it. The file alone is
/// not enough: it is machine-local and ignored by git, so `git clean -fdX` (or a hand) may
/// delete it while a run holds it, and the next run would then lock a new file of that name.
/// The folder (`.hnp/`) holds the fabric's committed records and is not deleted like that;
/// the file still carries the owner record and keeps older fgd versions out.
pub struct FabricLock {
    file: std::fs::File,
    _dir: Option<std::fs::File>,
}

fn hostname() -> String {
    rustix::system::uname()
        .nodename()
        .to_string_lossy()
        .into_owned()
}

fn read_owner(file: &mut std::fs::File) -> Option<LockOwner> {
    let mut s = String::new();
    file.rewind().ok()?;
    file.read_to_string(&mut s).ok()?;
    serde_json::from_str(&s).ok()
}

/// Attempts at the lock before reporting it held, the pause doubling from the first: a
/// `holder()` probe (status, the dashboard) may hold it shared for a few microseconds, and a
/// child this process forks holds a lock just dropped until it execs (it shares the open
/// files), which on a loaded machine can last a few scheduler ticks. Neither must make a real
/// command fail; a lock really held is reported after about 30 ms.
const ACQUIRE_TRIES: u32 = 5;
const ACQUIRE_FIRST_PAUSE: std::time::Duration = std::time::Duration::from_millis(2);

impl FabricLock {
    /// Take the lock now or fail at once with the holder: fgd never waits on another fgd
    /// (beyond a few milliseconds to ride out a `holder()` probe).
    pub fn acquire(lock_path: &Path, command: &str) -> Result<FabricLock, LockError> {
        let dir = lock_path
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        // The lock folder (.hnp) must not lead out of the fabric.
        super::ensure_real_dir(dir)?;
        let dir_lock = lock_dir(dir, lock_path)?;
        let mut file = lock_file(lock_path)?;
        let owner = LockOwner {
            pid: std::process::id(),
            host: hostname(),
            since: super::now_rfc3339(),
            command: command.to_string(),
        };
        let record = serde_json::to_string(&owner).unwrap_or_default();
        file.set_len(0)
            .map_err(|e| err("write lock", lock_path, e))?;
        file.rewind().map_err(|e| err("write lock", lock_path, e))?;
        file.write_all(record.as_bytes())
            .map_err(|e| err("write lock", lock_path, e))?;
        file.sync_data()
            .map_err(|e| err("sync lock", lock_path, e))?;
        tracing::debug!(lock = %lock_path.display(), command, folder_locked = dir_lock.is_some(), "lock taken");
        Ok(FabricLock {
            file,
            _dir: dir_lock,
        })
    }

    /// Who holds the lock right now, if anyone, without waiting. The kernel's lock table
    /// (Linux's /proc/locks, `sys::flock_holder`) answers without touching the lock; when it
    /// shows no holder (or there is none, or it names the device differently, as on btrfs
    /// subvolumes) a LOCK_SH|LOCK_NB probe on a fresh descriptor, released at once, decides.
    /// An owner record left by a killed process is ignored: the kernel already dropped its
    /// lock.
    pub fn holder(lock_path: &Path) -> Result<Option<LockOwner>, StoreError> {
        use std::os::unix::fs::MetadataExt;
        let mut file = match super::no_follow().read(true).open(lock_path) {
            Ok(f) => f,
            // Deleted while held, perhaps: the folder's lock tells.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(dir_holder(lock_path).map(unknown_owner));
            }
            Err(e) => return Err(err("open lock", lock_path, e)),
        };
        let m = file
            .metadata()
            .map_err(|e| err("inspect lock", lock_path, e))?;
        let held_by = match sys::flock_holder(m.dev(), m.ino()) {
            Some(pid) => Some(pid),
            None => match probe(&file, lock_path)? {
                Some(pid) => Some(pid),
                // The file may be a new one, made after the holder's was deleted.
                None => dir_holder(lock_path),
            },
        };
        Ok(held_by.map(|pid| {
            // The record may be missing while its writer is between flock and write.
            read_owner(&mut file).unwrap_or_else(|| unknown_owner(pid))
        }))
    }
}

fn unknown_owner(pid: u32) -> LockOwner {
    LockOwner {
        pid,
        host: "unknown".into(),
        since: "unknown".into(),
        command: "unknown".into(),
    }
}

/// Whether someone holds `f` locked (Some(0): yes, pid unknown), by a LOCK_SH|LOCK_NB probe
/// released at once.
fn probe(f: &std::fs::File, path: &Path) -> Result<Option<u32>, StoreError> {
    match flock(f, FlockOperation::NonBlockingLockShared) {
        Ok(()) => {
            let _ = flock(f, FlockOperation::Unlock);
            Ok(None)
        }
        Err(Errno::WOULDBLOCK) => Ok(Some(0)),
        Err(e) => Err(err("probe lock", path, e.into())),
    }
}

/// The folder holding `lock_path`, opened for its lock (never through a symlink).
fn open_dir(lock_path: &Path) -> std::io::Result<std::fs::File> {
    let dir = lock_path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
    Ok(std::fs::File::from(rustix::fs::open(
        dir,
        flags,
        Mode::empty(),
    )?))
}

/// Who holds the lock folder's lock, if anyone (see `FabricLock`), from the kernel's lock
/// table or else a probe. None too where the folder cannot be opened or locked.
fn dir_holder(lock_path: &Path) -> Option<u32> {
    use std::os::unix::fs::MetadataExt;
    let dir = open_dir(lock_path).ok()?;
    if let Ok(m) = dir.metadata() {
        if let Some(pid) = sys::flock_holder(m.dev(), m.ino()) {
            return Some(pid);
        }
    }
    probe(&dir, lock_path).ok().flatten()
}

/// flock(LOCK_EX|LOCK_NB) on `f`, riding out a probe or a fork (`ACQUIRE_TRIES`): Ok(true)
/// when taken, Ok(false) when someone else holds it.
fn lock_now(f: &std::fs::File) -> std::io::Result<bool> {
    let mut tries = 0;
    loop {
        match flock(f, FlockOperation::NonBlockingLockExclusive) {
            Ok(()) => return Ok(true),
            Err(Errno::WOULDBLOCK) => {}
            Err(e) => return Err(e.into()),
        }
        tries += 1;
        if tries >= ACQUIRE_TRIES {
            return Ok(false);
        }
        std::thread::sleep(ACQUIRE_FIRST_PAUSE * (1 << (tries - 1)));
    }
}

/// The lock folder's exclusive lock (`FabricLock`), or None where its file system cannot lock
/// a folder (some network file systems): the lock file alone then guards, as it always did.
fn lock_dir(dir: &Path, lock_path: &Path) -> Result<Option<std::fs::File>, LockError> {
    let f = open_dir(lock_path).map_err(|e| err("open lock folder", dir, e))?;
    match lock_now(&f) {
        Ok(true) => Ok(Some(f)),
        Ok(false) => Err(LockError::Held(
            super::no_follow()
                .read(true)
                .open(lock_path)
                .ok()
                .and_then(|mut l| read_owner(&mut l)),
        )),
        Err(e)
            if [Errno::BADF, Errno::INVAL, Errno::NOLCK, Errno::OPNOTSUPP]
                .iter()
                .any(|&n| sys::is(&e, n)) =>
        {
            Ok(None)
        }
        Err(e) => Err(err("lock", dir, e).into()),
    }
}

/// The lock file, created if missing, locked, and still the file at `lock_path` once locked:
/// one deleted or replaced between the open and the lock guards nothing, so it is opened and
/// locked again.
fn lock_file(lock_path: &Path) -> Result<std::fs::File, LockError> {
    use std::os::unix::fs::MetadataExt;
    for _ in 0..100 {
        let mut file = super::no_follow()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(lock_path)
            .map_err(|e| err("open lock", lock_path, e))?;
        if !lock_now(&file).map_err(|e| err("lock", lock_path, e))? {
            return Err(LockError::Held(read_owner(&mut file)));
        }
        let held = file
            .metadata()
            .map_err(|e| err("inspect lock", lock_path, e))?;
        match std::fs::symlink_metadata(lock_path) {
            Ok(m) if m.dev() == held.dev() && m.ino() == held.ino() => return Ok(file),
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(err("inspect lock", lock_path, e).into()),
        }
    }
    Err(err(
        "lock",
        lock_path,
        std::io::Error::other("the lock file keeps being replaced"),
    )
    .into())
}

impl Drop for FabricLock {
    fn drop(&mut self) {
        // Clear the owner record before the lock goes with the file descriptor.
        let _ = self.file.set_len(0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_acquire_is_refused_with_the_owner_until_the_first_is_dropped() {
        let t = tempfile::tempdir().unwrap();
        let p = t.path().join("lock");
        let first = FabricLock::acquire(&p, "ingest").unwrap();
        match FabricLock::acquire(&p, "move") {
            Err(LockError::Held(Some(o))) => {
                assert_eq!(o.pid, std::process::id());
                assert_eq!(o.command, "ingest");
                assert!(LockError::Held(Some(o))
                    .to_string()
                    .starts_with("locked by pid"));
            }
            other => panic!("{:?}", other.map(|_| ())),
        }
        assert_eq!(
            FabricLock::holder(&p).unwrap().map(|o| o.command),
            Some("ingest".into())
        );
        drop(first);
        wait_until_free(&p);
        FabricLock::acquire(&p, "again").unwrap();
    }

    #[test]
    fn a_lock_file_deleted_while_held_still_keeps_a_second_acquire_out() {
        let t = tempfile::tempdir().unwrap();
        let p = t.path().join("lock");
        let first = FabricLock::acquire(&p, "ingest").unwrap();
        std::fs::remove_file(&p).unwrap();
        assert!(FabricLock::holder(&p).unwrap().is_some(), "still seen held");
        assert!(matches!(
            FabricLock::acquire(&p, "ingest"),
            Err(LockError::Held(_))
        ));
        drop(first);
        wait_until_free(&p);
        FabricLock::acquire(&p, "again").unwrap();
    }

    /// Waits for a dropped lock to be free. A child process that another test of this binary
    /// forks shares this process's open files, and with them the lock, until it execs (the
    /// descriptors are close-on-exec); on a loaded machine that window can last milliseconds.
    fn wait_until_free(p: &Path) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while let Some(owner) = FabricLock::holder(p).unwrap() {
            // 0: a probe saw it held without knowing by whom.
            assert!(
                [0, std::process::id()].contains(&owner.pid),
                "held by another process: {owner:?}"
            );
            assert!(
                std::time::Instant::now() < deadline,
                "the dropped lock was never released"
            );
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
    }

    #[test]
    fn probing_the_holder_never_blocks_an_acquire() {
        let t = tempfile::tempdir().unwrap();
        let p = t.path().join("lock");
        drop(FabricLock::acquire(&p, "init").unwrap());
        let stop = std::sync::atomic::AtomicBool::new(false);
        std::thread::scope(|s| {
            s.spawn(|| {
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    let _ = FabricLock::holder(&p);
                }
            });
            for _ in 0..2000 {
                let lock = FabricLock::acquire(&p, "ingest")
                    .expect("a probe must never make acquire fail");
                drop(lock);
            }
            stop.store(true, std::sync::atomic::Ordering::Relaxed);
        });
    }

    /// Waits for another process to take the lock: a loaded machine may take
    /// a while to start it, so the bound is generous and the check is real.
    fn wait_until_held(p: &Path) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while FabricLock::holder(p).unwrap().is_none() {
            assert!(
                std::time::Instant::now() < deadline,
                "flock(1) never took the lock"
            );
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
    }

    #[test]
    fn a_lock_held_by_a_killed_process_is_free() {
        let t = tempfile::tempdir().unwrap();
        let p = t.path().join("lock");
        let mut child = std::process::Command::new("flock")
            .arg("-o")
            .arg(&p)
            .args(["sleep", "30"])
            .spawn()
            .expect("flock(1)");
        wait_until_held(&p);
        assert!(matches!(
            FabricLock::acquire(&p, "x"),
            Err(LockError::Held(_))
        ));
        assert!(FabricLock::holder(&p).unwrap().is_some());
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        assert_eq!(FabricLock::holder(&p).unwrap(), None);
        FabricLock::acquire(&p, "x").unwrap();
    }

    #[test]
    fn a_stale_owner_record_without_a_lock_means_free() {
        let t = tempfile::tempdir().unwrap();
        let p = t.path().join("lock");
        // What a kill -9 leaves: the record, but no lock.
        let stale = LockOwner {
            pid: 1,
            host: "h".into(),
            since: "2000-02-29T00:00:00Z".into(),
            command: "ingest".into(),
        };
        std::fs::write(&p, serde_json::to_string(&stale).unwrap()).unwrap();
        assert_eq!(FabricLock::holder(&p).unwrap(), None);
        assert_eq!(FabricLock::holder(&t.path().join("none")).unwrap(), None);
        let held = FabricLock::acquire(&p, "move").unwrap();
        assert_eq!(FabricLock::holder(&p).unwrap().unwrap().command, "move");
        drop(held);
        assert_eq!(
            LockError::Held(Some(stale)).to_string(),
            "locked by pid 1 on host h since 2000-02-29T00:00:00Z (command ingest)"
        );
    }

    #[test]
    fn the_lock_refuses_symlinks() {
        let t = tempfile::tempdir().unwrap();
        let target = t.path().join("elsewhere");
        std::fs::write(&target, b"").unwrap();
        let p = t.path().join("lock");
        std::os::unix::fs::symlink(&target, &p).unwrap();
        assert!(matches!(
            FabricLock::acquire(&p, "x"),
            Err(LockError::Io(_))
        ));
        let real = t.path().join("real");
        std::fs::create_dir(&real).unwrap();
        std::os::unix::fs::symlink(&real, t.path().join("hnp")).unwrap();
        assert!(FabricLock::acquire(&t.path().join("hnp").join("lock"), "x").is_err());
        assert!(!real.join("lock").exists());
    }
}
