//! The cleanup after a batch's copies are durable: each original it read is removed only while
//! it still holds the bytes that were read, taken aside first so that a version saved meanwhile
//! is never what gets removed.

use std::collections::BTreeMap;
use std::ffi::{OsStr, OsString};
use std::path::Path;
use std::sync::Arc;

use super::preflight::safe_join;
use super::{Digest, Journal};
use crate::error::{io, Error, Result};
use crate::event::{Event, Sink};
use crate::fabric::Fabric;
use crate::store::sys::{self, Errno};
use crate::store::{self, failpoint, Dir, Dirs, ReadRegular};

/// Every name fgd takes a file aside under starts with this: the folder `ASIDE_PREFIX<batch>`
/// beside the file (or, from fgd before it kept the name, the file `ASIDE_PREFIX<batch>-<i>`).
pub const ASIDE_PREFIX: &str = ".fgd-removing-";

/// The folder, beside the files it holds, where `batch` puts each original while it checks
/// it: on the same file system and under the same folder checks as the file; hidden, so
/// discovery ignores it; not a temp name, so the sweep leaves it for the run that settles it.
/// The file keeps its own name in it, however long, so the name a killed cleanup took it
/// from is known without the journal (`put_back_orphans`).
pub(super) fn aside_dir_name(batch: &str) -> OsString {
    OsString::from(format!("{ASIDE_PREFIX}{batch}"))
}

/// Where `batch` puts the file at `path` while it checks it (see `aside_dir_name`).
pub(super) fn aside_path(path: &Path, batch: &str) -> std::path::PathBuf {
    let name = path.file_name().unwrap_or_default();
    path.with_file_name(aside_dir_name(batch)).join(name)
}

/// What became of one journaled removal.
enum Taken {
    /// Nothing there (removed by an earlier run, or by the operator).
    Gone,
    /// It held the journaled bytes and is removed.
    Removed,
    /// Another version (saved after the batch read it): kept, under this name in its folder.
    Kept(OsString),
}

/// One folder the cleanup removes from, held, and its aside folder once made or found.
struct Cleaned {
    dir: Arc<Dir>,
    aside: Option<Dir>,
}

impl Cleaned {
    /// The batch's aside folder here, made if need be (never a symlink).
    fn aside(&mut self, name: &OsStr) -> Result<&Dir> {
        if self.aside.is_none() {
            match self.dir.mkdir(name) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(io("create folder", &self.dir.join(name), e)),
            }
            let held = self
                .dir
                .open_dir(name)
                .map_err(|e| unsafe_aside(&self.dir.join(name), e))?;
            self.aside = Some(held);
        }
        match &self.aside {
            Some(a) => Ok(a),
            None => unreachable!("set just above"),
        }
    }
}

/// A failure to open an aside folder: refused when it is a symlink or not a folder.
fn unsafe_aside(path: &Path, e: std::io::Error) -> Error {
    if !sys::is_any(&e, &[Errno::LOOP, Errno::NOTDIR]) {
        return io("open folder", path, e);
    }
    Error::Unsafe {
        path: path.to_path_buf(),
        message: "is fgd's aside folder, but not a real folder; fgd never works through it: move it out of the way".into(),
    }
}

/// Remove each original that still holds the bytes the batch read, and nothing else: an
/// operator may save a new version of a raw file at any instant, and that version must stay.
///
/// Checking a path and then unlinking the path cannot promise that: a save (an editor renames
/// its new file over the old) landing between the two is what gets unlinked, and an inode
/// check just before the unlink only narrows that window. So each file is first renamed aside,
/// into the batch's aside folder beside it (`aside_dir_name`, made once per folder). rename(2)
/// is atomic: what is taken is one whole version, and a save after that instant makes a new
/// file that nothing here touches. The version taken is checked where no one else writes and
/// dropped only if it holds the journaled bytes; any other version goes back under its name,
/// never replacing one saved since (that newer one stays, the other goes beside it under a
/// free name). The same system calls per file as a check then an unlink (a rename instead of
/// an lstat), each relative to its folder held open (`dirs`), so a folder swapped for a
/// symlink meanwhile is never worked through; a mkdir, an open and an rmdir per folder. A run
/// killed meanwhile leaves the file aside, under its own name in the batch's folder: the next
/// run settles it the same way from the journal, or, if the journal is gone, puts it back
/// (`put_back_orphans`).
pub(super) fn remove_originals(
    fabric: &Fabric,
    journal: &Journal,
    skipped: &[bool],
    dirs: &Dirs,
    sink: &mut dyn Sink,
) -> Result<()> {
    let aside_name = aside_dir_name(&journal.batch);
    let mut folders: BTreeMap<std::path::PathBuf, Cleaned> = BTreeMap::new();
    // A skipped source is left as it is (and was reported so), with what is tied to it.
    let left: std::collections::HashSet<&str> = journal
        .sources
        .iter()
        .zip(skipped)
        .filter(|(_, s)| **s)
        .map(|(s, _)| s.path.as_str())
        .collect();
    for r in &journal.removes {
        if r.source.is_some_and(|s| skipped.get(s) == Some(&true))
            || (!left.is_empty() && left.contains(r.path.as_str()))
        {
            continue;
        }
        let p = safe_join(fabric, &r.path)?;
        let name = p.file_name().unwrap_or_default();
        // Its folder gone: the file is gone with it.
        let Some(parent) = p.parent() else {
            continue;
        };
        let folder = match folders.get_mut(parent) {
            Some(f) => f,
            None => {
                let Some(dir) = dirs.open(parent)? else {
                    continue;
                };
                folders
                    .entry(parent.to_path_buf())
                    .or_insert(Cleaned { dir, aside: None })
            }
        };
        let Some(digest) = &r.sha256 else {
            // fgd's own file (an adopted item's reason), removed as it is.
            if folder.dir.is_file(name) {
                match folder.dir.unlink(name) {
                    Ok(()) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => return Err(io("remove", &p, e)),
                }
            }
            continue;
        };
        match take_if_holds(folder, name, &aside_name, digest)? {
            Taken::Gone => {}
            Taken::Removed => failpoint("journal.cleanup-removed"),
            Taken::Kept(at) => {
                tracing::info!(path = %r.path, kept_as = ?at, "saved again since the batch read it: kept");
                let message = if at == name {
                    "changed after the batch read it (saved again meanwhile): the batch used the version it read, and the new one stays here for the next run".to_string()
                } else {
                    format!(
                        "changed twice after the batch read it: the newest version stays here, the one before it is kept as {}",
                        fabric.rel(&folder.dir.join(&at))
                    )
                };
                sink.emit(Event::Error {
                    file: Some(r.path.clone()),
                    message,
                });
            }
        }
    }
    // Each folder synced even when its files were already gone: a retry after a crash must
    // still make an earlier, unsynced removal durable.
    for f in folders.values() {
        if f.aside.is_some() {
            match f.dir.rmdir(&aside_name) {
                Ok(()) => {}
                // Emptied and removed by an earlier run; or not empty, if something was put
                // there by hand: then left, and put back by a later run (`put_back_orphans`).
                Err(e) if sys::is_any(&e, &[Errno::NOENT, Errno::NOTEMPTY, Errno::EXIST]) => {}
                Err(e) => return Err(io("remove folder", &f.dir.join(&aside_name), e)),
            }
        }
        f.dir.sync()?;
    }
    Ok(())
}

/// Take the file `name` in the folder aside (into its aside folder `aside`) and remove it if
/// it holds `digest`; see `remove_originals`.
fn take_if_holds(
    folder: &mut Cleaned,
    name: &OsStr,
    aside: &OsStr,
    digest: &Digest,
) -> Result<Taken> {
    let mut settled_leftover = false;
    loop {
        let dir = folder.dir.clone();
        let aside_dir = folder.aside(aside)?;
        match dir.rename_noreplace(name, aside_dir, name) {
            Ok(()) => break,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                // Nothing at `name`; a run killed after taking it aside left it there.
                return match aside_dir.exists(name) {
                    Ok(true) => settle(&dir, aside_dir, name, digest),
                    Ok(false) => Ok(Taken::Gone),
                    Err(e) => Err(io("inspect", &aside_dir.join(name), e)),
                };
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && !settled_leftover => {
                // A killed run's leftover: settled first, then this file is taken.
                settle(&dir, aside_dir, name, digest)?;
                settled_leftover = true;
            }
            Err(e) => return Err(io("move aside", &dir.join(name), e)),
        }
    }
    failpoint("journal.cleanup-aside");
    let dir = folder.dir.clone();
    settle(&dir, folder.aside(aside)?, name, digest)
}

/// The version taken aside (`name` in `aside`): removed if it holds `digest`, else put back
/// as `name` in `dir` (or, when a newer one is there already, beside it).
fn settle(dir: &Dir, aside: &Dir, name: &OsStr, digest: &Digest) -> Result<Taken> {
    if holds_regular_in(aside, name, digest)? {
        failpoint("journal.cleanup-checked");
        return match aside.unlink(name) {
            Ok(()) => Ok(Taken::Removed),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Taken::Removed),
            Err(e) => Err(io("remove", &aside.join(name), e)),
        };
    }
    put_back(aside, name, dir, name).map(Taken::Kept)
}

/// Rename `aside` in `from` to `name` in `dir`, or, when that is taken, to the first free
/// `stem~N.ext` beside it; the name it got.
pub(super) fn put_back(from: &Dir, aside: &OsStr, dir: &Dir, name: &OsStr) -> Result<OsString> {
    let text = name.to_string_lossy().into_owned();
    let (stem, ext) = match text.rfind('.') {
        Some(d) if d > 0 => text.split_at(d),
        _ => (text.as_str(), ""),
    };
    let mut to = name.to_os_string();
    for n in 2..1000 {
        match from.rename_noreplace(aside, dir, &to) {
            Ok(()) => return Ok(to),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                to = OsString::from(store::fit_name(&format!("{stem}~{n}"), ext));
            }
            Err(e) => return Err(io("put back", &from.join(aside), e)),
        }
    }
    Err(io(
        "put back",
        &from.join(aside),
        std::io::Error::new(std::io::ErrorKind::AlreadyExists, "no free name beside it"),
    ))
}

/// Whether `path` is a regular file holding exactly `digest`'s bytes. Never follows a
/// symlink, never waits on a FIFO; a file being written meanwhile does not.
pub(super) fn holds_regular(path: &Path, digest: &Digest) -> Result<bool> {
    let read = ReadRegular::new().read(path)?.bytes();
    Ok(read.is_some_and(|b| Digest::of(&b) == *digest))
}

/// `holds_regular` of `name` in the held folder `dir`.
fn holds_regular_in(dir: &Dir, name: &OsStr, digest: &Digest) -> Result<bool> {
    let read = ReadRegular::new().read_in(dir, name)?.bytes();
    Ok(read.is_some_and(|b| Digest::of(&b) == *digest))
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn only_the_version_that_was_read_is_removed_and_any_other_is_kept_in_place_or_beside_it() {
        let t = tempfile::tempdir().unwrap();
        let p = t.path().join("a.yaml");
        let aside = aside_path(&p, "b1");
        assert_eq!(
            aside,
            t.path().join(".fgd-removing-b1/a.yaml"),
            "the name kept"
        );
        let read = Digest::of(b"read");
        let dir = Arc::new(Dir::open_path(t.path()).unwrap());
        let (name, aside_n) = (OsStr::new("a.yaml"), aside_dir_name("b1"));
        let folder = std::cell::RefCell::new(Cleaned {
            dir: dir.clone(),
            aside: None,
        });
        let take = || take_if_holds(&mut folder.borrow_mut(), name, &aside_n, &read).unwrap();
        let kept = |want: &Path| match take() {
            Taken::Kept(at) => assert_eq!(dir.join(&at), want),
            _ => panic!("kept expected"),
        };
        std::fs::write(&p, b"read").unwrap();
        assert!(matches!(take(), Taken::Removed));
        assert!(!p.exists() && !aside.exists());
        assert!(matches!(take(), Taken::Gone));
        // Saved again after the read: put back, under its name.
        std::fs::write(&p, b"saved since").unwrap();
        kept(&p);
        assert_eq!(std::fs::read(&p).unwrap(), b"saved since");
        assert!(!aside.exists());
        // A killed run left a newer version aside, and the operator saved a newest one since:
        // the newest stays at its name, the other goes beside it.
        std::fs::write(&aside, b"newer").unwrap();
        std::fs::write(&p, b"newest").unwrap();
        kept(&p);
        assert_eq!(std::fs::read(&p).unwrap(), b"newest");
        assert_eq!(std::fs::read(t.path().join("a~2.yaml")).unwrap(), b"newer");
        assert!(!aside.exists());
        // The version read, left aside by a killed run, with nothing at its place: removed.
        std::fs::remove_file(&p).unwrap();
        std::fs::write(&aside, b"read").unwrap();
        assert!(matches!(take(), Taken::Removed));
        assert!(!aside.exists());
        // A symlink and a FIFO are never followed or waited on, and stay.
        std::os::unix::fs::symlink(t.path().join("a~2.yaml"), &p).unwrap();
        kept(&p);
        assert!(p.symlink_metadata().unwrap().file_type().is_symlink());
        std::fs::remove_file(&p).unwrap();
        crate::store::mkfifo(&p).unwrap();
        kept(&p);
        assert!(!p.symlink_metadata().unwrap().is_file() && !aside.exists());
    }
}
