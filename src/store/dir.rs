//! Folders held open. A batch creates, renames and removes its files relative to descriptors
//! of the folders it works in (`openat`, `renameat`, `unlinkat`), each opened once, one
//! component at a time from the fabric's root, never through a symlink (`O_NOFOLLOW |
//! O_DIRECTORY`). Checking a folder chain once and then working by path cannot keep a run
//! inside the fabric: a folder swapped for a symlink after the check (`mv managed x && ln -s
//! /elsewhere managed`) would redirect every later write, rename and removal. Held
//! descriptors cannot be redirected: whatever happens to a path meanwhile, a step acts in the
//! very folder that was opened, which was inside the fabric and no symlink when it was
//! opened. Before each phase of a batch (the renames into place, the index, the removal of
//! originals, the log) `Dirs::verify` checks that every held folder is still where it was
//! (same device and inode at the same path, not a symlink), so a swap seen then refuses the
//! batch (its journal kept) instead of completing it in a folder moved away.
//!
//! The recovery's sweep of temps and the cleanup's put-backs work the same way.
//!
//! What remains: a swap landing between a phase's `verify` and its last step still cannot
//! make fgd write or delete anything outside the folders it opened; the steps after it then
//! land in the folder that was moved (where the operator put it), not at its old path. Reads
//! (discovery, the listing the kustomization is made from, the checks of a resumed batch's
//! outputs) still go by path: a swap can make them read another folder's files, never write
//! or remove one.

use std::collections::HashMap;
use std::ffi::{OsStr, OsString};
use std::io;
use std::os::fd::{AsFd, BorrowedFd};
use std::os::unix::ffi::OsStringExt;
use std::os::unix::fs::MetadataExt;
use std::path::{Component, Path, PathBuf};
use std::sync::{Arc, Mutex};

use rustix::fs::{AtFlags, FileType, Mode, OFlags, Stat};

use super::sys::{self, Errno};
use super::{err, refusal, Result, StoreError};

/// A folder held open, with the path it was opened at (for messages and `verify`).
#[derive(Debug)]
pub struct Dir {
    file: std::fs::File,
    path: PathBuf,
    dev: u64,
    ino: u64,
}

const DIR_FLAGS: OFlags = OFlags::RDONLY
    .union(OFlags::DIRECTORY)
    .union(OFlags::NOFOLLOW)
    .union(OFlags::CLOEXEC);

impl AsFd for Dir {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.file.as_fd()
    }
}

impl Dir {
    fn from_fd(fd: std::os::fd::OwnedFd, path: PathBuf) -> io::Result<Dir> {
        let file = std::fs::File::from(fd);
        let m = file.metadata()?;
        Ok(Dir {
            dev: m.dev(),
            ino: m.ino(),
            file,
            path,
        })
    }

    /// Open the folder at `path`, its last component never followed.
    pub fn open_path(path: &Path) -> io::Result<Dir> {
        let fd = rustix::fs::open(path, DIR_FLAGS, Mode::empty())?;
        Dir::from_fd(fd, path.to_path_buf())
    }

    /// The folder `name` in this one, never followed.
    pub fn open_dir(&self, name: &OsStr) -> io::Result<Dir> {
        let fd = rustix::fs::openat(self, name, DIR_FLAGS, Mode::empty())?;
        Dir::from_fd(fd, self.path.join(name))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn dev(&self) -> u64 {
        self.dev
    }

    /// `path()/name`, for messages.
    pub fn join(&self, name: &OsStr) -> PathBuf {
        self.path.join(name)
    }

    /// fsync the folder, so the names created, renamed or removed in it survive a crash.
    pub fn sync(&self) -> Result<()> {
        self.file
            .sync_all()
            .map_err(|e| err("sync folder", &self.path, e))
    }

    /// Open `name` here with `flags` (always `O_NOFOLLOW | O_CLOEXEC`), created 0644.
    pub fn open_file(&self, name: &OsStr, flags: OFlags) -> io::Result<std::fs::File> {
        let fd = rustix::fs::openat(
            self,
            name,
            flags | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::from_raw_mode(0o644),
        )?;
        Ok(std::fs::File::from(fd))
    }

    /// A new file `name` here, for writing; fails if the name exists (a symlink included).
    pub fn create_new(&self, name: &OsStr) -> io::Result<std::fs::File> {
        self.open_file(name, OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL)
    }

    /// `name` here, for reading: never a symlink followed, never a FIFO waited on.
    pub fn open_read(&self, name: &OsStr) -> io::Result<std::fs::File> {
        self.open_file(name, OFlags::RDONLY | OFlags::NONBLOCK)
    }

    /// What is at `name` here, not following a symlink.
    pub fn lstat(&self, name: &OsStr) -> io::Result<Stat> {
        Ok(rustix::fs::statat(self, name, AtFlags::SYMLINK_NOFOLLOW)?)
    }

    /// Whether `name` here is a regular file (never following a symlink).
    pub fn is_file(&self, name: &OsStr) -> bool {
        self.lstat(name)
            .is_ok_and(|st| FileType::from_raw_mode(st.st_mode) == FileType::RegularFile)
    }

    /// Whether anything (a dangling symlink included) is at `name` here.
    pub fn exists(&self, name: &OsStr) -> io::Result<bool> {
        match self.lstat(name) {
            Ok(_) => Ok(true),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// rename(2) of `from` here to `to` in `to_dir`; replaces a file (or a symlink itself)
    /// at `to`, never what a symlink points to.
    pub fn rename(&self, from: &OsStr, to_dir: &Dir, to: &OsStr) -> io::Result<()> {
        Ok(rustix::fs::renameat(self, from, to_dir, to)?)
    }

    /// rename(2) that never replaces: `AlreadyExists` when `to` exists (`sys::rename_noreplace`).
    pub fn rename_noreplace(&self, from: &OsStr, to_dir: &Dir, to: &OsStr) -> io::Result<()> {
        sys::rename_noreplace(self, from, to_dir, to)
    }

    /// unlink(2) of the file `name` here.
    pub fn unlink(&self, name: &OsStr) -> io::Result<()> {
        Ok(rustix::fs::unlinkat(self, name, AtFlags::empty())?)
    }

    /// rmdir(2) of the empty folder `name` here.
    pub fn rmdir(&self, name: &OsStr) -> io::Result<()> {
        Ok(rustix::fs::unlinkat(self, name, AtFlags::REMOVEDIR)?)
    }

    /// mkdir(2) of `name` here.
    pub fn mkdir(&self, name: &OsStr) -> io::Result<()> {
        Ok(rustix::fs::mkdirat(self, name, Mode::from_raw_mode(0o755))?)
    }

    /// The names in this very folder (not `.` and `..`), each with what it is (never
    /// following a symlink), read from the held descriptor: whatever its path leads to now.
    pub fn entries(&self) -> io::Result<Vec<(OsString, Kind)>> {
        // A descriptor of its own for the listing (`read_from` opens "." here).
        let listing = rustix::fs::Dir::read_from(self)?;
        let mut out = Vec::new();
        for entry in listing {
            let entry = entry?;
            let name = entry.file_name().to_bytes();
            if name == b"." || name == b".." {
                continue;
            }
            let name = OsString::from_vec(name.to_vec());
            let kind = match entry.file_type() {
                FileType::Directory => Kind::Dir,
                FileType::RegularFile => Kind::File,
                FileType::Symlink => Kind::Symlink,
                FileType::Unknown => match self.lstat(&name) {
                    Ok(st) => Kind::of_mode(st.st_mode),
                    Err(_) => Kind::Other,
                },
                _ => Kind::Other,
            };
            out.push((name, kind));
        }
        Ok(out)
    }

    /// Remove the folder `name` here with everything in it, each step relative to a folder
    /// held open, never following a symlink (one inside is removed itself). For fgd's own
    /// temp folders.
    pub fn remove_tree(&self, name: &OsStr) -> io::Result<()> {
        let sub = self.open_dir(name)?;
        for (entry, kind) in sub.entries()? {
            match kind {
                Kind::Dir => sub.remove_tree(&entry)?,
                _ => match sub.unlink(&entry) {
                    Ok(()) => {}
                    Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                    Err(e) => return Err(e),
                },
            }
        }
        self.rmdir(name)
    }

    /// Still at its path: the same folder (device and inode), not a symlink.
    fn is_where_it_was(&self) -> std::result::Result<(), String> {
        match std::fs::symlink_metadata(&self.path) {
            Ok(m) if m.file_type().is_symlink() => Err("a symlink".into()),
            Ok(m) if !m.is_dir() => Err("not a folder".into()),
            Ok(m) if (m.dev(), m.ino()) != (self.dev, self.ino) => {
                Err("another folder (the one fgd was working in was moved away)".into())
            }
            Ok(_) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Err("gone".into()),
            Err(e) => Err(e.to_string()),
        }
    }
}

/// What a folder entry is, as `Dir::entries` saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Dir,
    File,
    Symlink,
    Other,
}

impl Kind {
    fn of_mode(mode: rustix::fs::RawMode) -> Kind {
        match FileType::from_raw_mode(mode) {
            FileType::Directory => Kind::Dir,
            FileType::RegularFile => Kind::File,
            FileType::Symlink => Kind::Symlink,
            _ => Kind::Other,
        }
    }
}

/// The folders of one fabric a run works in, each opened once from the root, one component
/// at a time, without following a symlink; or, unrooted (tests, paths outside any fabric),
/// each opened by its path with only its last component not followed.
#[derive(Debug)]
pub struct Dirs {
    root: Option<PathBuf>,
    held: Mutex<HashMap<PathBuf, Arc<Dir>>>,
}

impl Dirs {
    /// For the fabric at `root` (canonical: fgd never works through a symlink in it).
    pub fn within(root: &Path) -> Arc<Dirs> {
        Arc::new(Dirs {
            root: Some(root.to_path_buf()),
            held: Mutex::new(HashMap::new()),
        })
    }

    /// Folders opened by their own paths.
    pub fn unrooted() -> Arc<Dirs> {
        Arc::new(Dirs {
            root: None,
            held: Mutex::new(HashMap::new()),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<PathBuf, Arc<Dir>>> {
        // Only ever inserted into: consistent even if a holder panicked.
        self.held.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The folder `dir` (an absolute path, inside the root), held open: None when it (or a
    /// folder above it) does not exist. A symlink or a non-folder on the way is refused.
    pub fn open(&self, dir: &Path) -> Result<Option<Arc<Dir>>> {
        let held = self.lock().get(dir).cloned();
        if held.is_some() {
            return Ok(held);
        }
        let Some(root) = &self.root else {
            return match Dir::open_path(dir) {
                Ok(d) => {
                    let d = Arc::new(d);
                    self.lock().insert(dir.to_path_buf(), d.clone());
                    Ok(Some(d))
                }
                Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
                Err(e) => Err(unsafe_or(dir, e)),
            };
        };
        let rest = dir
            .strip_prefix(root)
            .map_err(|_| refusal(dir, "is outside the fabric directory; refusing"))?;
        let held_root = self.lock().get(root.as_path()).cloned();
        let mut cur = match held_root {
            Some(d) => d,
            None => {
                let d = Arc::new(Dir::open_path(root).map_err(|e| unsafe_or(root, e))?);
                self.lock().insert(root.clone(), d.clone());
                d
            }
        };
        let mut path = root.clone();
        for c in rest.components() {
            let Component::Normal(name) = c else {
                return Err(refusal(dir, "leaves the fabric directory; refusing"));
            };
            path.push(name);
            let held = self.lock().get(&path).cloned();
            if let Some(d) = held {
                cur = d;
                continue;
            }
            let next = match cur.open_dir(name) {
                Ok(d) => Arc::new(d),
                Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
                Err(e) => return Err(unsafe_or(&path, e)),
            };
            self.lock().insert(path.clone(), next.clone());
            cur = next;
        }
        Ok(Some(cur))
    }

    /// `open`, refusing a folder that is not there.
    pub fn existing(&self, dir: &Path) -> Result<Arc<Dir>> {
        self.open(dir)?.ok_or_else(|| {
            err(
                "open folder",
                dir,
                io::Error::new(io::ErrorKind::NotFound, "no such folder"),
            )
        })
    }

    /// The folder `dir`, made (with any missing folder above it) if need be. The folder
    /// holding each one made is fsynced, so a file made durable in it later cannot be lost
    /// with the folder's own entry.
    pub fn create_all(&self, dir: &Path) -> Result<Arc<Dir>> {
        if let Some(d) = self.open(dir)? {
            return Ok(d);
        }
        let (Some(parent), Some(name)) = (dir.parent(), dir.file_name()) else {
            return Err(refusal(dir, "cannot be made"));
        };
        let up = self.create_all(parent)?;
        match up.mkdir(name) {
            Ok(()) => up.sync()?,
            // Made by someone else meanwhile: fine if it is a real folder (opened below).
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(unsafe_or(dir, e)),
        }
        self.existing(dir)
    }

    /// The folder holding `path` and `path`'s name in it: None when that folder is not
    /// there.
    pub fn parent_of<'p>(&self, path: &'p Path) -> Result<Option<(Arc<Dir>, &'p OsStr)>> {
        let (Some(parent), Some(name)) = (path.parent(), path.file_name()) else {
            return Err(refusal(path, "is not a file path"));
        };
        Ok(self.open(parent)?.map(|d| (d, name)))
    }

    /// Refuse (before the next phase of a batch) when a held folder is no longer the one at
    /// its path: swapped for a symlink or another folder, or removed, since it was opened.
    pub fn verify(&self) -> Result<()> {
        let held: Vec<Arc<Dir>> = self.lock().values().cloned().collect();
        for d in held {
            if let Err(now) = d.is_where_it_was() {
                return Err(refusal(
                    &d.path,
                    format!(
                        "was replaced while fgd worked in it (it is now {now}); nothing was written or removed through it"
                    ),
                ));
            }
        }
        Ok(())
    }
}

/// A failure to open a folder: a refusal when something on the way is a symlink or not a
/// folder, an I/O error otherwise.
fn unsafe_or(path: &Path, e: io::Error) -> StoreError {
    if !(sys::is(&e, Errno::LOOP) || sys::is(&e, Errno::NOTDIR)) {
        return err("open folder", path, e);
    }
    // O_NOFOLLOW | O_DIRECTORY on a symlink fails with ENOTDIR: say which it is.
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_symlink() => {
            refusal(path, "is a symlink; fgd never works through one")
        }
        _ => refusal(path, "is not a directory"),
    }
}

/// A temp name no other process can be using (pid and a counter).
pub(super) fn temp_name(prefix: &str, pid: u32, n: u64) -> OsString {
    OsString::from(format!("{prefix}{pid}-{n}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folders_are_opened_from_the_root_never_through_a_symlink() {
        let t = tempfile::tempdir().unwrap();
        let root = t.path().canonicalize().unwrap();
        std::fs::create_dir_all(root.join("a/b")).unwrap();
        let outside = root.join("outside");
        std::fs::create_dir(&outside).unwrap();
        std::os::unix::fs::symlink(&outside, root.join("link")).unwrap();
        std::fs::write(root.join("file"), b"x").unwrap();
        let dirs = Dirs::within(&root);
        assert!(dirs.open(&root.join("a/b")).unwrap().is_some());
        assert!(dirs.open(&root.join("a/missing/c")).unwrap().is_none());
        let e = dirs.open(&root.join("link/x")).unwrap_err();
        assert!(e.is_refusal() && e.path().ends_with("link"), "{e}");
        assert!(dirs.open(&root.join("file/x")).unwrap_err().is_refusal());
        assert!(dirs.open(Path::new("/etc")).unwrap_err().is_refusal());
        assert!(dirs.open(&root.join("a/../link")).unwrap_err().is_refusal());
        let made = dirs.create_all(&root.join("a/new/deeper")).unwrap();
        assert!(made.path().ends_with("a/new/deeper") && root.join("a/new/deeper").is_dir());
        assert!(dirs.create_all(&root.join("link/new")).is_err());
        assert!(!outside.join("new").exists());
        dirs.verify().unwrap();
    }

    #[test]
    fn a_held_folder_swapped_for_a_symlink_is_refused_and_never_written_through() {
        let t = tempfile::tempdir().unwrap();
        let root = t.path().canonicalize().unwrap();
        std::fs::create_dir_all(root.join("managed/vpcs")).unwrap();
        let outside = root.join("outside");
        std::fs::create_dir_all(outside.join("vpcs")).unwrap();
        let dirs = Dirs::within(&root);
        let vpcs = dirs.open(&root.join("managed/vpcs")).unwrap().unwrap();
        std::fs::rename(root.join("managed"), root.join("managed.real")).unwrap();
        std::os::unix::fs::symlink(&outside, root.join("managed")).unwrap();
        let e = dirs.verify().unwrap_err();
        assert!(e.is_refusal(), "{e}");
        assert!(e.to_string().contains("replaced"), "{e}");
        // Held: what is done in it lands in the folder that was opened.
        drop(vpcs.create_new(OsStr::new("v.yaml")).unwrap());
        assert!(root.join("managed.real/vpcs/v.yaml").is_file());
        assert!(!outside.join("vpcs/v.yaml").exists());
        let listed = vpcs.entries().unwrap();
        assert_eq!(listed, [(OsString::from("v.yaml"), Kind::File)]);
        vpcs.mkdir(OsStr::new("t")).unwrap();
        let t = vpcs.open_dir(OsStr::new("t")).unwrap();
        drop(t.create_new(OsStr::new("x")).unwrap());
        std::os::unix::fs::symlink(&outside, root.join("managed.real/vpcs/t/link")).unwrap();
        vpcs.remove_tree(OsStr::new("t")).unwrap();
        assert!(!root.join("managed.real/vpcs/t").exists() && outside.join("vpcs").is_dir());
    }
}
