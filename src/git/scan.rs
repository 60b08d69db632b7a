//! The working-tree scan: the fabric's own paths on disk, as a commit takes them.

use std::path::{Path, PathBuf};

use git2::Repository;

use super::error::{local, GitError, Result};
use super::ignore_rules::HnpIgnore;
use super::scope::{volatile, FabricRepo, FABRIC_PATHS};
use super::GitPhase;
use crate::event::{Event, Sink};
use crate::fabric::{self, Fabric};

/// `bytes` as text, with every byte that is not UTF-8 written `\xNN`: how a name the file
/// system allows but git's paths and fgd's messages cannot carry is shown.
pub(crate) fn shown_name(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        out.push_str(chunk.valid());
        for b in chunk.invalid() {
            out.push_str(&format!("\\x{b:02x}"));
        }
    }
    out
}

/// A path of the fabric's own trees that is not committed as it is on disk: a symlink, FIFO,
/// socket or device (never opened), or a name git's paths cannot carry. The commit keeps
/// whatever HEAD holds there.
pub(crate) struct Odd {
    /// Relative to the working copy, as the file system names it.
    pub(crate) path: Vec<u8>,
    /// Relative to the fabric, for messages (`\xNN` for bytes that are not UTF-8).
    pub(crate) shown: String,
    pub(crate) what: OddKind,
}

/// Why a path is not committed as it is on disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OddKind {
    /// Not a regular file: a symlink, a FIFO, a socket, a device (as `discover::kind_of` says).
    NotRegular(&'static str),
    /// A file whose name is not valid UTF-8.
    NonUtf8Name,
    /// A folder whose name is not valid UTF-8.
    NonUtf8Folder,
}

impl std::fmt::Display for OddKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            OddKind::NotRegular(what) => what,
            OddKind::NonUtf8Name => "its name is not valid UTF-8",
            OddKind::NonUtf8Folder => "a folder whose name is not valid UTF-8",
        })
    }
}

/// The fabric's own paths as a commit would take them.
pub(crate) struct Scanned {
    /// Every regular file, relative to the working copy, hashed into the object store, with
    /// the stat data git's index keeps (taken before the read, so a file changed meanwhile
    /// looks changed to git, never clean).
    pub(crate) entries: Vec<git2::IndexEntry>,
    /// Left out of the commit (raw/: ingest leaves these too), with a note.
    pub(crate) left_out: Vec<Odd>,
    /// In fgd's own trees (managed/, unmanaged/, .hnp/, .sourceignore), where fgd writes only
    /// regular files with UTF-8 names: these refuse the commit, unless HEAD already holds them
    /// exactly so (a symlink committed before is not a change).
    pub(crate) refused: Vec<Odd>,
}

impl Scanned {
    /// Paths whose HEAD entries the commit keeps as they are.
    pub(crate) fn kept(&self) -> impl Iterator<Item = &Odd> {
        self.left_out.iter().chain(&self.refused)
    }

    /// The lines a refusal names, one per path fgd will not commit.
    pub(crate) fn refusals(&self) -> Vec<String> {
        self.refused
            .iter()
            .map(|o| {
                if matches!(o.what, OddKind::NonUtf8Name | OddKind::NonUtf8Folder) {
                    format!(
                        "{}: {}, and git's paths and fgd's records are UTF-8; rename or remove it",
                        o.shown, o.what
                    )
                } else {
                    format!(
                        "{}: {}: fgd's trees hold only the regular files it writes, and fgd never opens anything else (a symlink's target, a FIFO) to commit it; remove it (put a copy of the file a link points to into raw/ for ingest to file)",
                        o.shown, o.what
                    )
                }
            })
            .collect()
    }
}

/// What the index knows of the fabric's files, so that a file whose stat data (size, times,
/// inode, mode, owner) is what the index recorded is not read again: git's own shortcut. An
/// entry is trusted only when the file's mtime is older than the index file's (git's rule for
/// "racily clean" entries: a file changed in the same instant the index was written may look
/// unchanged).
pub(crate) struct StatCache<'i> {
    /// The index's fabric entries (`commit::index_fabric`), by path.
    entries: std::collections::HashMap<&'i [u8], &'i git2::IndexEntry>,
    index_mtime: Option<(i64, i64)>,
}

/// The mtime of `repo`'s index file, seconds and nanoseconds.
pub(crate) fn index_mtime(repo: &Repository) -> Option<(i64, i64)> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(repo.path().join("index"))
        .ok()
        .map(|m| (m.mtime(), m.mtime_nsec()))
}

impl<'i> StatCache<'i> {
    pub(crate) fn new(repo: &Repository, entries: &'i [git2::IndexEntry]) -> StatCache<'i> {
        StatCache::with_mtime(entries, index_mtime(repo))
    }

    /// Of `entries`, taken from an index whose file had the mtime `index_mtime` when read.
    pub(crate) fn with_mtime(
        entries: &'i [git2::IndexEntry],
        index_mtime: Option<(i64, i64)>,
    ) -> StatCache<'i> {
        StatCache {
            entries: entries.iter().map(|e| (e.path.as_slice(), e)).collect(),
            index_mtime,
        }
    }

    /// The index's entry for `rel` if `m` (an lstat of the file) says it has not changed.
    pub(crate) fn clean(&self, rel: &[u8], m: &std::fs::Metadata) -> Option<git2::IndexEntry> {
        use std::os::unix::fs::MetadataExt;
        let (index_s, index_ns) = self.index_mtime?;
        if (m.mtime(), m.mtime_nsec()) >= (index_s, index_ns) {
            return None;
        }
        // Looked up here rather than through libgit2 (a C string and a copy per lookup).
        let e = self.entries.get(rel)?;
        let same = e.file_size == m.len() as u32
            && e.mtime.seconds() == m.mtime() as i32
            && e.mtime.nanoseconds() == m.mtime_nsec() as u32
            && e.ctime.seconds() == m.ctime() as i32
            && e.ctime.nanoseconds() == m.ctime_nsec() as u32
            && e.ino == m.ino() as u32
            && e.uid == m.uid()
            && e.gid == m.gid()
            && e.mode == file_mode(m);
        // git2's IndexEntry is not Clone.
        same.then(|| git2::IndexEntry {
            ctime: e.ctime,
            mtime: e.mtime,
            dev: e.dev,
            ino: e.ino,
            mode: e.mode,
            uid: e.uid,
            gid: e.gid,
            file_size: e.file_size,
            id: e.id,
            flags: e.flags,
            flags_extended: e.flags_extended,
            path: e.path.clone(),
        })
    }
}

fn file_mode(m: &std::fs::Metadata) -> u32 {
    use std::os::unix::fs::MetadataExt;
    if m.mode() & 0o111 != 0 {
        0o100755
    } else {
        0o100644
    }
}

/// The index entry of `abs` if it is a regular file (never read through a symlink, never
/// waiting on a FIFO): from the index when its stat data did not change, else read and hashed,
/// its blob written to the object store only when the store lacks it (write objects once);
/// `Err(what)` when it is not a regular file (or was replaced by something else since it was
/// listed); `Ok(None)` when it vanished. The bytes go in as they are on disk, with no clean
/// filter or line-ending conversion: managed objects and archived originals stay
/// byte-identical in git.
pub(crate) fn hash_regular(
    odb: &git2::Odb,
    cache: &StatCache,
    abs: &Path,
    rel: Vec<u8>,
    listed: Option<&std::fs::Metadata>,
) -> Result<std::result::Result<Option<git2::IndexEntry>, OddKind>> {
    use std::io::Read;
    use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
    // The lstat the listing already made (relative to the open folder, no path walk): a file
    // it shows unchanged needs nothing more; any other answer is looked at again below.
    if let Some(m) = listed.filter(|m| m.is_file()) {
        if let Some(e) = cache.clean(&rel, m) {
            return Ok(Ok(Some(e)));
        }
    }
    match std::fs::symlink_metadata(abs) {
        Ok(m) if m.is_file() => {
            if let Some(e) = cache.clean(&rel, &m) {
                return Ok(Ok(Some(e)));
            }
        }
        Ok(m) => {
            return Ok(Err(OddKind::NotRegular(crate::discover::kind_of(
                &m.file_type(),
            ))))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Ok(None)),
        Err(e) => return Err(GitError::io("inspect", abs, e)),
    }
    let mut f = match std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_CLOEXEC)
        .open(abs)
    {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Ok(None)),
        Err(e) if e.raw_os_error() == Some(libc::ELOOP) => {
            return Ok(Err(OddKind::NotRegular("a symlink")))
        }
        Err(e) => return Err(GitError::io("open", abs, e)),
    };
    let m = f.metadata().map_err(|e| GitError::io("inspect", abs, e))?;
    if !m.is_file() {
        return Ok(Err(OddKind::NotRegular(crate::discover::kind_of(
            &m.file_type(),
        ))));
    }
    let mut bytes = Vec::with_capacity(m.len() as usize);
    f.read_to_end(&mut bytes)
        .map_err(|e| GitError::io("read", abs, e))?;
    let id = git2::Oid::hash_object(git2::ObjectType::Blob, &bytes).map_err(local("hash file"))?;
    // Without a refresh on a miss: libgit2 otherwise lists objects/pack/ again for every
    // blob it lacks (a first push's 10^5), and the write below refreshes once more itself
    // (finding a pack some other process just wrote, it writes nothing).
    if !odb.exists_ext(id, git2::OdbLookupFlags::NO_REFRESH) {
        odb.write(git2::ObjectType::Blob, &bytes)
            .map_err(local("write object"))?;
    }
    Ok(Ok(Some(git2::IndexEntry {
        ctime: git2::IndexTime::new(m.ctime() as i32, m.ctime_nsec() as u32),
        mtime: git2::IndexTime::new(m.mtime() as i32, m.mtime_nsec() as u32),
        dev: m.dev() as u32,
        ino: m.ino() as u32,
        mode: file_mode(&m),
        uid: m.uid(),
        gid: m.gid(),
        file_size: m.len() as u32,
        id,
        flags: 0,
        flags_extended: 0,
        path: rel,
    })))
}

/// Whether HEAD holds `odd` exactly as it is on disk: a symlink with the same target.
pub(crate) fn unchanged_in_head(head_tree: Option<&git2::Tree>, abs: &Path, odd: &Odd) -> bool {
    use std::os::unix::ffi::OsStrExt;
    let Some(entry) = head_tree.and_then(|t| {
        t.get_path(Path::new(std::ffi::OsStr::from_bytes(&odd.path)))
            .ok()
    }) else {
        return false;
    };
    if entry.filemode() != 0o120000 {
        return false;
    }
    let Ok(target) = std::fs::read_link(abs) else {
        return false;
    };
    git2::Oid::hash_object(git2::ObjectType::Blob, target.as_os_str().as_bytes())
        .is_ok_and(|id| id == entry.id())
}

/// The fabric's own paths on disk, as a commit takes them (sorted). A file git tracks is
/// always in; `raw/` (the operator's drop folder) otherwise follows git's ignore rules; fgd's
/// own trees (`managed/`, `unmanaged/`, `.hnp/`, `.sourceignore`) are its records and are
/// committed whatever a .gitignore says (an `*.orig` rule must not drop the archive), minus
/// what `.hnp/.gitignore` keeps on the machine. Only regular files are read, after an lstat
/// (symlinks, FIFOs, sockets and devices never are); those others, and names that are not
/// UTF-8, are left out under raw/ (as ingest leaves them) and refuse the commit elsewhere.
pub(crate) fn scan_fabric(
    fr: &FabricRepo,
    fabric: &Fabric,
    head_tree: Option<&git2::Tree>,
    tracked: &super::scope::Tracked,
    index_entries: &[git2::IndexEntry],
    sink: &mut dyn Sink,
) -> Result<Scanned> {
    use std::os::unix::ffi::OsStrExt;
    let hnp_ignore = HnpIgnore::load(fabric);
    let in_raw = |inner: &[u8]| inner == fabric::RAW.as_bytes() || inner.starts_with(b"raw/");
    // What can be told of a path without git's ignore rules (so on any thread): fgd's
    // volatile files are never taken, tracked ones always.
    let known = |inner: &[u8], rel: &[u8]| -> Option<bool> {
        if volatile(&String::from_utf8_lossy(inner)) {
            return Some(false);
        }
        (std::str::from_utf8(rel).is_ok() && tracked.contains(rel)).then_some(true)
    };
    let ignored = |inner: &[u8], rel: &[u8]| {
        if in_raw(inner) {
            fr.repo
                .is_path_ignored(Path::new(std::ffi::OsStr::from_bytes(rel)))
                .unwrap_or(false)
        } else {
            hnp_ignore.ignores(&String::from_utf8_lossy(inner))
        }
    };
    let wanted = |inner: &[u8], rel: &[u8]| {
        let text = String::from_utf8_lossy(inner);
        if volatile(&text) {
            return false;
        }
        if std::str::from_utf8(rel).is_ok() && tracked.contains(rel) {
            return true;
        }
        if in_raw(inner) {
            !fr.repo
                .is_path_ignored(Path::new(std::ffi::OsStr::from_bytes(rel)))
                .unwrap_or(false)
        } else {
            !hnp_ignore.ignores(&text)
        }
    };
    // Only the prefix is borrowed: this runs on the listing threads too.
    let prefix = fr.prefix.as_bytes();
    let rel_of = |inner: &[u8]| -> Vec<u8> {
        if prefix.is_empty() {
            inner.to_vec()
        } else {
            let mut r = Vec::with_capacity(prefix.len() + 1 + inner.len());
            r.extend_from_slice(prefix);
            r.push(b'/');
            r.extend_from_slice(inner);
            r
        }
    };
    let mut scan = Scanned {
        entries: Vec::new(),
        left_out: Vec::new(),
        refused: Vec::new(),
    };
    let odd = |scan: &mut Scanned, inner: &[u8], what: OddKind, abs: &Path| {
        let o = Odd {
            path: rel_of(inner),
            shown: shown_name(inner),
            what,
        };
        if in_raw(inner) {
            scan.left_out.push(o);
        } else if !unchanged_in_head(head_tree, abs, &o) {
            scan.refused.push(o);
        }
    };
    // Folders to list: (path on disk, path inside the fabric)
    let mut stack: Vec<(PathBuf, Vec<u8>)> = Vec::new();
    // (path on disk, path inside the fabric, the listing's lstat)
    let mut files: Vec<(PathBuf, Vec<u8>, Option<std::fs::Metadata>)> = Vec::new();
    for top in FABRIC_PATHS {
        let path = fabric.path(top);
        let inner = top.as_bytes().to_vec();
        match std::fs::symlink_metadata(&path) {
            Ok(m) if m.is_dir() => stack.push((path, inner)),
            Ok(m) if m.is_file() => files.push((path, inner, Some(m))),
            Ok(m) => {
                if wanted(&inner, &rel_of(&inner)) {
                    odd(
                        &mut scan,
                        &inner,
                        OddKind::NotRegular(crate::discover::kind_of(&m.file_type())),
                        &path,
                    );
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(GitError::io("inspect", &path, e)),
        }
    }
    let cache = StatCache::new(&fr.repo, index_entries);
    // Per path, on the listing threads: its path in the repository, whether it is taken
    // (when that needs no ignore rule), and its index entry when its stat data is unchanged.
    let look = |inner: &[u8], kind: &std::fs::FileType, m: Option<&std::fs::Metadata>| {
        let rel = rel_of(inner);
        let taken = known(inner, &rel);
        let clean = match m {
            Some(m) if kind.is_file() && taken != Some(false) => cache.clean(&rel, m),
            _ => None,
        };
        (rel, taken, clean)
    };
    let listed = super::listing::list(stack, &look, &mut |n| {
        sink.emit(Event::GitProgress {
            phase: GitPhase::Commit,
            done: n,
            total: 0,
            bytes: 0,
        })
    })?;
    // In the threads' order: what is decided per path is sorted below.
    for l in listed {
        let (rel, taken, clean) = l.seen;
        if !taken.unwrap_or_else(|| !ignored(&l.inner, &rel)) {
            continue;
        }
        if !l.utf8 {
            let what = if l.kind.is_dir() {
                OddKind::NonUtf8Folder
            } else {
                OddKind::NonUtf8Name
            };
            odd(&mut scan, &l.inner, what, &l.abs);
        } else if let Some(entry) = clean {
            scan.entries.push(entry);
        } else if l.kind.is_file() {
            files.push((l.abs, l.inner, l.meta));
        } else {
            odd(
                &mut scan,
                &l.inner,
                OddKind::NotRegular(crate::discover::kind_of(&l.kind)),
                &l.abs,
            );
        }
    }
    let odb = fr.repo.odb().map_err(local("open object store"))?;
    // Read, hashed and (when new) written on a few threads: a first commit of 10^5 files
    // takes seconds here. libgit2's object store is safe to share; the repository is not.
    let total = files.len();
    let hashed = super::listing::map_parallel(
        &files,
        &|(abs, inner, listed): &(PathBuf, Vec<u8>, Option<std::fs::Metadata>)| {
            hash_regular(&odb, &cache, abs, rel_of(inner), listed.as_ref())
        },
        &mut |done| {
            // A big fabric takes seconds here the first time: say how far it is.
            sink.emit(Event::GitProgress {
                phase: GitPhase::Commit,
                done,
                total,
                bytes: 0,
            })
        },
    );
    for ((abs, inner, _), result) in files.iter().zip(hashed) {
        match result? {
            Ok(Some(entry)) => scan.entries.push(entry),
            Ok(None) => {} // gone since it was listed: as if deleted
            Err(what) => odd(&mut scan, inner, what, abs),
        }
    }
    scan.entries.sort_by(|a, b| a.path.cmp(&b.path));
    scan.left_out.sort_by(|a, b| a.path.cmp(&b.path));
    scan.refused.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(scan)
}

/// A small file's bytes, if it is a regular file (never through a symlink, never waiting on
/// a FIFO); None otherwise.
pub(crate) fn read_regular(path: &Path) -> Option<Vec<u8>> {
    use std::io::Read;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_CLOEXEC)
        .open(path)
        .ok()?;
    if !f.metadata().ok()?.is_file() {
        return None;
    }
    let mut bytes = Vec::new();
    f.read_to_end(&mut bytes).ok()?;
    Some(bytes)
}
