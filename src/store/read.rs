//! The one way fgd reads a file someone else may have put there: only a regular file, never
//! through a symlink (`O_NOFOLLOW`), never waiting on a FIFO (`O_NONBLOCK`, then an fstat
//! before any read), never more than a cap, and, when asked, only a version that held still
//! while it was read. Input files, originals, fgd's own records, what git commits and what the
//! dashboard shows are all read through `ReadRegular`.

use std::ffi::OsStr;
use std::fs::{File, Metadata};
use std::io::{ErrorKind, Read};
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::Path;

use rustix::fs::{FileType, Mode, OFlags, RawMode, Stat};

use super::dir::Dir;
use super::sys::{self, Errno};
use super::{err, Result};

/// What is at a path that is not a regular file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    Symlink,
    Fifo,
    Socket,
    Device,
    Folder,
    Other,
}

impl FileKind {
    pub fn of(t: &std::fs::FileType) -> FileKind {
        if t.is_symlink() {
            FileKind::Symlink
        } else if t.is_fifo() {
            FileKind::Fifo
        } else if t.is_socket() {
            FileKind::Socket
        } else if t.is_block_device() || t.is_char_device() {
            FileKind::Device
        } else if t.is_dir() {
            FileKind::Folder
        } else {
            FileKind::Other
        }
    }

    /// What `mode` (an lstat's `st_mode`) is; None for a regular file.
    fn of_mode(mode: RawMode) -> Option<FileKind> {
        Some(match FileType::from_raw_mode(mode) {
            FileType::RegularFile => return None,
            FileType::Symlink => FileKind::Symlink,
            FileType::Fifo => FileKind::Fifo,
            FileType::Socket => FileKind::Socket,
            FileType::BlockDevice | FileType::CharacterDevice => FileKind::Device,
            FileType::Directory => FileKind::Folder,
            _ => FileKind::Other,
        })
    }

    /// "a symlink", "a FIFO", ...: for messages.
    pub fn describe(self) -> &'static str {
        match self {
            FileKind::Symlink => "a symlink",
            FileKind::Fifo => "a FIFO",
            FileKind::Socket => "a socket",
            FileKind::Device => "a device",
            FileKind::Folder => "a folder",
            FileKind::Other => "not a regular file",
        }
    }
}

/// How a file failed to hold still while it was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unsettled {
    /// There when looked at, gone when opened.
    Vanished,
    /// Another file (or something else) was put in its place between the look and the open.
    Replaced,
    /// Its size or modification time changed during the read: it is being written.
    Written,
}

impl Unsettled {
    pub fn describe(self) -> &'static str {
        match self {
            Unsettled::Vanished => "vanished before it was read",
            Unsettled::Replaced => "replaced while it was opened",
            Unsettled::Written => "still being written (size or mtime changed during the read)",
        }
    }
}

/// What a read found.
#[derive(Debug)]
pub enum Regular {
    /// The file's bytes, and what an fstat said of it when it was opened.
    Bytes(Vec<u8>, Metadata),
    /// Nothing there (or a path through something that is not a folder).
    Missing,
    /// Not a regular file: never read (never opened, when looked at first).
    NotRegular(FileKind),
    /// Larger than the cap: not read.
    TooLarge(u64),
    /// Changed while it was read: none of its versions is one fgd read.
    Unsettled(Unsettled),
}

impl Regular {
    /// The bytes, if a regular file's were read.
    pub fn bytes(self) -> Option<Vec<u8>> {
        match self {
            Regular::Bytes(b, _) => Some(b),
            _ => None,
        }
    }
}

/// How to read: see the module's comment. `ReadRegular::new()` opens, fstats and reads to the
/// length it saw (a file that grows meanwhile is `Unsettled`): the system calls of
/// `std::fs::read`, none more.
#[derive(Debug, Clone, Copy)]
pub struct ReadRegular {
    max_bytes: u64,
    look_first: bool,
    stable: bool,
}

impl Default for ReadRegular {
    fn default() -> Self {
        ReadRegular::new()
    }
}

impl ReadRegular {
    pub const fn new() -> ReadRegular {
        ReadRegular {
            max_bytes: u64::MAX,
            look_first: false,
            stable: false,
        }
    }

    /// Refuse (`TooLarge`) a file over `n` bytes, unread.
    pub const fn max_bytes(mut self, n: u64) -> ReadRegular {
        self.max_bytes = n;
        self
    }

    /// lstat before the open, so that what is not a regular file (a device, whose open can
    /// have effects of its own) is never even opened.
    pub const fn look_first(mut self) -> ReadRegular {
        self.look_first = true;
        self
    }

    /// Only a version that held still: the file opened is the one looked at, and its size and
    /// modification time are the same before and after the read (implies `look_first`).
    pub const fn stable(mut self) -> ReadRegular {
        self.look_first = true;
        self.stable = true;
        self
    }

    pub fn read(&self, path: &Path) -> Result<Regular> {
        let before = if self.look_first {
            match std::fs::symlink_metadata(path) {
                Ok(m) => {
                    let look = Look::of(&m);
                    if let Some(not) = self.ruled_out(&look) {
                        return Ok(not);
                    }
                    Some(look)
                }
                Err(e) if gone(&e) => return Ok(Regular::Missing),
                Err(e) => return Err(err("inspect", path, e)),
            }
        } else {
            None
        };
        self.read_opened(open_nofollow(path), path, before)
    }

    /// `read` of `name` in the held folder `dir`.
    pub fn read_in(&self, dir: &Dir, name: &OsStr) -> Result<Regular> {
        let path = dir.join(name);
        let before = if self.look_first {
            match dir.lstat(name) {
                Ok(st) => {
                    let look = Look::of_stat(&st);
                    if let Some(not) = self.ruled_out(&look) {
                        return Ok(not);
                    }
                    Some(look)
                }
                Err(e) if gone(&e) => return Ok(Regular::Missing),
                Err(e) => return Err(err("inspect", &path, e)),
            }
        } else {
            None
        };
        self.read_opened(dir.open_read(name), &path, before)
    }

    /// What the look before the open rules out.
    fn ruled_out(&self, look: &Look) -> Option<Regular> {
        if let Some(kind) = look.not_regular {
            Some(Regular::NotRegular(kind))
        } else if look.len > self.max_bytes {
            Some(Regular::TooLarge(look.len))
        } else {
            None
        }
    }

    fn read_opened(
        &self,
        opened: std::io::Result<File>,
        path: &Path,
        before: Option<Look>,
    ) -> Result<Regular> {
        let mut f = match opened {
            Ok(f) => f,
            Err(e) if gone(&e) && before.is_some() => {
                return Ok(Regular::Unsettled(Unsettled::Vanished))
            }
            Err(e) if gone(&e) => return Ok(Regular::Missing),
            Err(e) if sys::is(&e, Errno::LOOP) => {
                return Ok(Regular::NotRegular(FileKind::Symlink))
            }
            // A socket cannot be opened.
            Err(e) if sys::is(&e, Errno::NXIO) => return Ok(Regular::NotRegular(FileKind::Socket)),
            Err(e) => return Err(err("open", path, e)),
        };
        let m = f.metadata().map_err(|e| err("inspect", path, e))?;
        if let Some(b) = &before {
            if !m.is_file() || (m.dev(), m.ino()) != (b.dev, b.ino) {
                return Ok(Regular::Unsettled(Unsettled::Replaced));
            }
        }
        if !m.is_file() {
            return Ok(Regular::NotRegular(FileKind::of(&m.file_type())));
        }
        if m.len() > self.max_bytes {
            return Ok(Regular::TooLarge(m.len()));
        }
        // Read to the length just seen, then once more to see the end. A file whose length
        // changes meanwhile is being written: none of its versions is one fgd read.
        let mut bytes = vec![0u8; m.len() as usize];
        match f.read_exact(&mut bytes) {
            Ok(()) => {}
            Err(e) if e.kind() == ErrorKind::UnexpectedEof => {
                return Ok(Regular::Unsettled(Unsettled::Written))
            }
            Err(e) => return Err(err("read", path, e)),
        }
        let mut more = [0u8; 1];
        if f.read(&mut more).map_err(|e| err("read", path, e))? != 0 {
            return Ok(Regular::Unsettled(Unsettled::Written));
        }
        if self.stable {
            let after = f.metadata().map_err(|e| err("inspect", path, e))?;
            let opened = Look::of(&m);
            if Look::of(&after).moved_from(&opened)
                || before.as_ref().is_some_and(|b| opened.moved_from(b))
            {
                return Ok(Regular::Unsettled(Unsettled::Written));
            }
        }
        Ok(Regular::Bytes(bytes, m))
    }
}

/// What an lstat or fstat says, as far as a read needs it.
#[derive(Debug, Clone, Copy)]
struct Look {
    /// What it is when it is not a regular file.
    not_regular: Option<FileKind>,
    len: u64,
    dev: u64,
    ino: u64,
    mtime: (i64, i64),
}

impl Look {
    fn of(m: &Metadata) -> Look {
        Look {
            not_regular: (!m.is_file()).then(|| FileKind::of(&m.file_type())),
            len: m.len(),
            dev: m.dev(),
            ino: m.ino(),
            mtime: (m.mtime(), m.mtime_nsec()),
        }
    }

    // The field types of `stat` differ between platforms; these are the conversions std's
    // `MetadataExt` makes, so the two compare.
    #[allow(clippy::unnecessary_cast)]
    fn of_stat(st: &Stat) -> Look {
        Look {
            not_regular: FileKind::of_mode(st.st_mode as RawMode),
            len: st.st_size as u64,
            dev: st.st_dev as u64,
            ino: st.st_ino as u64,
            mtime: (st.st_mtime as i64, st.st_mtime_nsec as i64),
        }
    }

    fn moved_from(&self, before: &Look) -> bool {
        (self.len, self.mtime) != (before.len, before.mtime)
    }
}

/// A regular file at `path`, opened for reading (to be read a piece at a time), with what
/// an fstat said of it; None when there is none there. Never through a symlink, never waiting
/// on a FIFO.
pub fn open_regular(path: &Path) -> Result<Option<(File, Metadata)>> {
    let f = match open_nofollow(path) {
        Ok(f) => f,
        Err(e) if gone(&e) || sys::is(&e, Errno::LOOP) || sys::is(&e, Errno::NXIO) => {
            return Ok(None)
        }
        Err(e) => return Err(err("open", path, e)),
    };
    let m = f.metadata().map_err(|e| err("inspect", path, e))?;
    Ok(m.is_file().then_some((f, m)))
}

/// `path` opened for reading, never through a symlink at its end, never waiting on a FIFO.
fn open_nofollow(path: &Path) -> std::io::Result<File> {
    let flags = OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC;
    Ok(File::from(rustix::fs::open(path, flags, Mode::empty())?))
}

/// Nothing there: the path or a folder on it does not exist, or a folder on it is not one.
fn gone(e: &std::io::Error) -> bool {
    e.kind() == ErrorKind::NotFound || sys::is(e, Errno::NOTDIR)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn only_regular_files_are_read_and_nothing_else_is_opened_or_waited_on() {
        let t = tempfile::tempdir().unwrap();
        let p = t.path();
        std::fs::write(p.join("a.yaml"), b"x: 1\n").unwrap();
        std::os::unix::fs::symlink(p.join("a.yaml"), p.join("link.yaml")).unwrap();
        std::fs::create_dir(p.join("dir")).unwrap();
        crate::store::mkfifo(&p.join("pipe.yaml")).unwrap();
        let held = Arc::new(Dir::open_path(p).unwrap());
        for how in [
            ReadRegular::new(),
            ReadRegular::new().look_first(),
            ReadRegular::new().stable(),
        ] {
            let read = |name: &str| {
                let by_path = how.read(&p.join(name)).unwrap();
                let in_dir = how.read_in(&held, OsStr::new(name)).unwrap();
                let shape = |r: &Regular| match r {
                    Regular::Bytes(b, _) => format!("{b:?}"),
                    other => format!("{other:?}"),
                };
                assert_eq!(shape(&by_path), shape(&in_dir), "{name}");
                by_path
            };
            assert_eq!(read("a.yaml").bytes().as_deref(), Some(&b"x: 1\n"[..]));
            assert!(matches!(
                read("link.yaml"),
                Regular::NotRegular(FileKind::Symlink)
            ));
            assert!(matches!(
                read("pipe.yaml"),
                Regular::NotRegular(FileKind::Fifo)
            ));
            assert!(matches!(read("dir"), Regular::NotRegular(FileKind::Folder)));
            assert!(matches!(read("none.yaml"), Regular::Missing));
            assert!(matches!(
                how.read(&p.join("a.yaml/under-a-file")).unwrap(),
                Regular::Missing
            ));
            assert!(matches!(
                how.max_bytes(4).read(&p.join("a.yaml")).unwrap(),
                Regular::TooLarge(5)
            ));
        }
        assert!(open_regular(&p.join("a.yaml")).unwrap().is_some());
        for other in ["link.yaml", "pipe.yaml", "dir", "none.yaml"] {
            assert!(open_regular(&p.join(other)).unwrap().is_none(), "{other}");
        }
    }
}
