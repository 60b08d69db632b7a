//! The system calls that exist on Linux only, each beside the portable way fgd does the same
//! elsewhere (macOS, the BSDs):
//!
//! - `syncfs`: one call makes a batch's files durable; elsewhere, an fsync per file.
//! - `renameat2(RENAME_NOREPLACE)`: a rename that never replaces; elsewhere a hard link
//!   (which refuses an existing name too) and an unlink.
//! - `/proc/locks`: who holds a lock, without touching it; elsewhere a non-blocking probe.
//! - `O_TMPFILE`: a scratch file with no name, gone with the process; elsewhere none (the
//!   caller keeps what it would have written in memory).
//!
//! `FGD_PORTABLE_SYSCALLS=1` makes a Linux build take the portable ways too, so the tests run
//! both (a process reads it once, at its first use).

use std::io;
use std::os::fd::AsFd;
use std::sync::OnceLock;

use rustix::fs::AtFlags;
pub(crate) use rustix::io::Errno;

/// Whether only the portable system calls are used (always, off Linux).
pub fn portable_only() -> bool {
    static PORTABLE: OnceLock<bool> = OnceLock::new();
    !cfg!(target_os = "linux")
        || *PORTABLE.get_or_init(|| {
            let on =
                std::env::var("FGD_PORTABLE_SYSCALLS").is_ok_and(|v| !v.is_empty() && v != "0");
            if on {
                tracing::info!("FGD_PORTABLE_SYSCALLS: only the portable system calls");
            }
            on
        })
}

/// Whether `e` is the system's `errno`.
pub(crate) fn is(e: &io::Error, errno: Errno) -> bool {
    e.raw_os_error() == Some(errno.raw_os_error())
}

/// Whether `e` is one of `errnos`.
pub(crate) fn is_any(e: &io::Error, errnos: &[Errno]) -> bool {
    errnos.iter().any(|&n| is(e, n))
}

/// `flags` as std's `OpenOptionsExt::custom_flags` takes them.
pub(crate) fn custom(flags: rustix::fs::OFlags) -> i32 {
    flags.bits() as i32
}

/// A scratch file with no name in the folder `dir` (`O_TMPFILE`): nothing to clean up after a
/// crash, never reachable by a path. None where the system or the file system has none.
pub(crate) fn unnamed_file_in(dir: impl AsFd) -> Option<std::fs::File> {
    #[cfg(target_os = "linux")]
    if !portable_only() {
        use rustix::fs::{Mode, OFlags};
        return rustix::fs::openat(
            dir,
            ".",
            OFlags::TMPFILE | OFlags::RDWR | OFlags::CLOEXEC,
            Mode::from_raw_mode(0o600),
        )
        .ok()
        .map(std::fs::File::from);
    }
    let _ = dir;
    None
}

/// Make everything written to the file system holding `fd` durable: Ok(true) when one call
/// did (Linux's syncfs); Ok(false) when the caller must fsync each file itself.
pub(crate) fn sync_filesystem(fd: impl AsFd) -> io::Result<bool> {
    #[cfg(target_os = "linux")]
    if !portable_only() {
        rustix::fs::syncfs(fd)?;
        return Ok(true);
    }
    let _ = fd;
    Ok(false)
}

/// rename(2) of `from` in `from_dir` to `to` in `to_dir` that never replaces: `AlreadyExists`
/// when `to` exists. Where the kernel or the file system lacks RENAME_NOREPLACE, and off
/// Linux, a hard link (which refuses an existing name too) and an unlink do the same.
pub(crate) fn rename_noreplace(
    from_dir: impl AsFd,
    from: &std::ffi::OsStr,
    to_dir: impl AsFd,
    to: &std::ffi::OsStr,
) -> io::Result<()> {
    #[cfg(target_os = "linux")]
    if !portable_only() {
        use rustix::fs::RenameFlags;
        match rustix::fs::renameat_with(&from_dir, from, &to_dir, to, RenameFlags::NOREPLACE) {
            Ok(()) => return Ok(()),
            Err(Errno::INVAL | Errno::NOSYS) => {}
            Err(e) => return Err(e.into()),
        }
    }
    link_then_unlink(from_dir, from, to_dir, to)
}

fn link_then_unlink(
    from_dir: impl AsFd,
    from: &std::ffi::OsStr,
    to_dir: impl AsFd,
    to: &std::ffi::OsStr,
) -> io::Result<()> {
    rustix::fs::linkat(&from_dir, from, &to_dir, to, AtFlags::empty())?;
    rustix::fs::unlinkat(&from_dir, from, AtFlags::empty())?;
    Ok(())
}

/// The pid holding an exclusive flock on the file (`dev`, `ino`), from the kernel's lock
/// table; None when it lists none, or where there is no such table (then the caller probes).
pub(crate) fn flock_holder(dev: u64, ino: u64) -> Option<u32> {
    #[cfg(target_os = "linux")]
    if !portable_only() {
        let table = std::fs::read_to_string("/proc/locks").ok()?;
        return flock_holder_in(&table, dev, ino);
    }
    let _ = (dev, ino);
    None
}

#[cfg(any(target_os = "linux", test))]
/// `flock_holder` from /proc/locks lines such as `1: FLOCK  ADVISORY  WRITE 1234 fd:01:123456
/// 0 EOF` (device as hex major:minor).
fn flock_holder_in(table: &str, dev: u64, ino: u64) -> Option<u32> {
    let dev = dev as rustix::fs::Dev;
    let (major, minor) = (rustix::fs::major(dev), rustix::fs::minor(dev));
    let want = format!("{major:02x}:{minor:02x}:{ino}");
    table.lines().find_map(|line| {
        let f: Vec<&str> = line.split_whitespace().collect();
        // Blocked waiters are listed with "->"; only the holder counts.
        if f.len() >= 6 && f[1] == "FLOCK" && f[3] == "WRITE" && f[5] == want {
            f[4].parse().ok()
        } else {
            None
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::OsStr;

    #[test]
    fn proc_locks_lines_are_parsed() {
        let dev = rustix::fs::makedev(0xfd, 1) as u64;
        let table = "1: POSIX  ADVISORY  WRITE 99 fd:01:42 0 EOF\n2: FLOCK  ADVISORY  WRITE 1234 fd:01:42 0 EOF\n2: -> FLOCK  ADVISORY  WRITE 77 fd:01:42 0 EOF\n";
        assert_eq!(flock_holder_in(table, dev, 42), Some(1234));
        assert_eq!(flock_holder_in(table, dev, 43), None);
    }

    #[test]
    fn the_portable_no_replace_rename_refuses_an_existing_name_as_renameat2_does() {
        let t = tempfile::tempdir().unwrap();
        let dir = std::fs::File::open(t.path()).unwrap();
        std::fs::write(t.path().join("a"), b"a").unwrap();
        std::fs::write(t.path().join("b"), b"b").unwrap();
        type Rename = fn(&std::fs::File, &OsStr, &std::fs::File, &OsStr) -> io::Result<()>;
        let ways: [(&str, Rename); 2] = [
            ("chosen", |f, a, t, b| rename_noreplace(f, a, t, b)),
            ("portable", |f, a, t, b| link_then_unlink(f, a, t, b)),
        ];
        for (way, rename) in ways {
            let e = rename(&dir, OsStr::new("a"), &dir, OsStr::new("b")).unwrap_err();
            assert_eq!(e.kind(), io::ErrorKind::AlreadyExists, "{way}");
            assert_eq!(std::fs::read(t.path().join("b")).unwrap(), b"b", "{way}");
            rename(&dir, OsStr::new("a"), &dir, OsStr::new("c")).unwrap();
            assert!(!t.path().join("a").exists(), "{way}");
            std::fs::rename(t.path().join("c"), t.path().join("a")).unwrap();
        }
    }
}
