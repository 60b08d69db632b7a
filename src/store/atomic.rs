//! Atomic writes. One file: temp, fsync, rename, folder fsync. Many files (`Batch`): all temps,
//! then ONE syncfs, then the renames, then one fsync per folder, as git's
//! `core.fsyncMethod=batch` does; a per-file fsync costs more than a whole ingest.

use std::collections::BTreeMap;
use std::ffi::{OsStr, OsString};
use std::io::Write;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileExt, MetadataExt, OpenOptionsExt};
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use super::dir::{temp_name, Dir, Dirs, Kind};
use super::failpoint::{
    failpoint, BATCH_AFTER_COMMIT, BATCH_AFTER_STAGE, BATCH_BEFORE_REMOVE, BATCH_MID_RENAME,
};
use super::{err, Result};

/// Every temporary file fgd creates starts with this, so a crashed run's leftovers are known.
pub const TEMP_PREFIX: &str = ".fgd-tmp-";

static SEQ: AtomicU64 = AtomicU64::new(0);

/// How fgd opens every file it writes or checks: never through a symlink, closed on exec, and
/// created 0644.
pub fn no_follow() -> std::fs::OpenOptions {
    let mut o = std::fs::OpenOptions::new();
    o.mode(0o644)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC);
    o
}

/// The folder holding `path`; "." for a bare relative name, so it can still be synced.
fn parent_dir(path: &Path) -> &Path {
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

fn file_name(target: &Path) -> Result<&std::ffi::OsStr> {
    target.file_name().ok_or_else(|| {
        err(
            "write",
            target,
            std::io::Error::new(std::io::ErrorKind::InvalidInput, "not a file path"),
        )
    })
}

/// A new file `name` in `dir` (a staged folder, fgd's own: nothing there to follow or reuse).
fn create_in(dir: &Dir, name: &OsStr, bytes: &[u8]) -> Result<()> {
    let mut f = dir
        .create_new(name)
        .map_err(|e| err("create", &dir.join(name), e))?;
    f.write_all(bytes)
        .map_err(|e| err("write", &dir.join(name), e))
}

/// A fresh temp file in `dir`, filled with `bytes`: its name and open file. A name left by a
/// crashed run with a reused pid is skipped, not an error.
fn write_temp_in(dir: &Dir, bytes: &[u8]) -> Result<(OsString, std::fs::File)> {
    let mut tries = 0;
    loop {
        let tmp = temp_name(TEMP_PREFIX, pid(), SEQ.fetch_add(1, Ordering::Relaxed));
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

/// Where the files for one folder wait until the commit: as temps beside their targets in
/// the held folder itself, or under their own names in a staged folder (fgd's own, new, that
/// appears whole at commit).
#[derive(Debug, Clone)]
pub struct Place {
    dir: Arc<Dir>,
    staged: bool,
}

/// Where a staged write's bytes are until the commit.
#[derive(Debug)]
pub enum Placed {
    /// Under its own name, inside a folder staged whole.
    InStagedFolder,
    /// In this temp file beside the target, in the held folder.
    Temp(Arc<Dir>, OsString),
}

/// Write `bytes` for `target` where `Batch::folder_destination` said: inside a staged folder,
/// or a temp beside the target. Touches no batch state, so threads can call it in parallel.
pub fn write_placed(target: &Path, place: &Place, bytes: &[u8]) -> Result<Placed> {
    let name = file_name(target)?;
    if place.staged {
        create_in(&place.dir, name, bytes).map(|()| Placed::InStagedFolder)
    } else {
        write_temp_in(&place.dir, bytes).map(|(tmp, _)| Placed::Temp(place.dir.clone(), tmp))
    }
}

/// fsync a directory, so the names created, renamed or removed in it survive a crash.
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

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct CommitStats {
    pub files_written: usize,
    pub renamed: usize,
    pub removed: usize,
    pub dirs_synced: usize,
}

/// A write waiting for the commit: its temp in a held folder, renamed to `name` there.
struct Pending {
    dir: Arc<Dir>,
    tmp: OsString,
    name: OsString,
    target: PathBuf,
}

/// A folder that did not exist, filled under a temp name in its held parent and renamed into
/// place whole at commit.
struct Fresh {
    parent: Arc<Dir>,
    tmp: OsString,
    name: OsString,
    path: PathBuf,
}

/// Many atomic writes made durable together, as git's `core.fsyncMethod=batch` does: a per-file
/// fsync costs more than a whole ingest. Not durable until `commit` returns Ok; dropped without
/// commit (or after a failed commit), its remaining temps are removed.
///
/// Every file is created, renamed and removed relative to a folder held open (`Dirs`), never
/// by path: a folder swapped for a symlink while the batch runs cannot redirect it, and the
/// commit refuses to start when a held folder is no longer at its path (`Dirs::verify`).
pub struct Batch {
    dirs: Arc<Dirs>,
    /// In staging order.
    writes: Vec<Pending>,
    renames: Vec<(PathBuf, PathBuf)>,
    removes: Vec<PathBuf>,
    /// One held folder per file system, the handle syncfs needs.
    devices: Vec<(u64, Arc<Dir>)>,
    /// Where the files of each folder go (a folder that exists, or its place in a staged
    /// tree): one lookup per folder, not per file.
    places: std::collections::HashMap<PathBuf, Place>,
    /// Folders that did not exist, in creation order: filled under a temp name beside them,
    /// with the files' own names, and renamed into place whole at commit (one rename, not one
    /// per file).
    fresh: Vec<Fresh>,
    /// Files written inside staged folders.
    staged_files: usize,
    /// Renamed after every other write, folder and move: an index of the other files (the
    /// kustomization), which so never lists a file that is not there yet.
    last: Vec<Pending>,
    /// Counts the writes recorded; `synced` is its value when `sync_with` last ran, so the
    /// commit knows whether anything staged since still needs a sync.
    recorded: u64,
    synced: Option<u64>,
    committed: bool,
}

impl Default for Batch {
    fn default() -> Batch {
        Batch::within(Dirs::unrooted())
    }
}

impl Batch {
    /// A batch whose folders are opened by their own paths (tests, files outside a fabric).
    pub fn new() -> Batch {
        Batch::default()
    }

    /// A batch working in the folders of `dirs` (a fabric's, opened from its root).
    pub fn within(dirs: Arc<Dirs>) -> Batch {
        Batch {
            dirs,
            writes: Vec::new(),
            renames: Vec::new(),
            removes: Vec::new(),
            devices: Vec::new(),
            places: Default::default(),
            fresh: Vec::new(),
            staged_files: 0,
            last: Vec::new(),
            recorded: 0,
            synced: None,
            committed: false,
        }
    }

    /// The folders the batch works in, for the steps of a batch after its commit.
    pub fn dirs(&self) -> Arc<Dirs> {
        self.dirs.clone()
    }

    /// Staged operations of every kind.
    pub fn len(&self) -> usize {
        self.writes.len() + self.renames.len() + self.removes.len() + self.last.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Write `bytes` to a temp beside `target` now (no fsync); it replaces `target` at commit.
    /// When `target`'s folder does not exist yet (its parent must), the folder is staged
    /// whole under a temp name and appears, with all its files, at commit.
    pub fn stage_write(&mut self, target: &Path, bytes: &[u8]) -> Result<()> {
        let place = self.folder_destination(parent_dir(target))?;
        let placed = write_placed(target, &place, bytes)?;
        self.record(target, placed);
        Ok(())
    }

    /// `stage_write` of a file that goes in last, after every other write and move of the
    /// batch (see `last`).
    pub fn stage_write_last(&mut self, target: &Path, bytes: &[u8]) -> Result<()> {
        let place = self.folder_destination(parent_dir(target))?;
        if place.staged {
            // Its folder is new: it appears whole, with this file in it, after the others.
            return self.stage_write(target, bytes);
        }
        let (tmp, _) = write_temp_in(&place.dir, bytes)?;
        self.recorded += 1;
        self.last.push(Pending {
            dir: place.dir,
            tmp,
            name: file_name(target)?.to_os_string(),
            target: target.to_path_buf(),
        });
        Ok(())
    }

    /// Where files for the folder `dir` wait for the commit: a staged folder, or temps beside
    /// their targets in the folder itself. With `write_placed` and `record`, this splits
    /// `stage_write` so that threads sharing a batch write the bytes outside its lock; the
    /// answer for a folder never changes within a batch, so a thread may keep it.
    pub fn folder_destination(&mut self, dir: &Path) -> Result<Place> {
        if let Some(p) = self.places.get(dir) {
            return Ok(p.clone());
        }
        let place = match self.dirs.open(dir)? {
            Some(held) => {
                if !self.devices.iter().any(|(d, _)| *d == held.dev()) {
                    self.devices.push((held.dev(), held.clone()));
                }
                Place {
                    dir: held,
                    staged: false,
                }
            }
            None => {
                let (Some(up), Some(name)) = (dir.parent(), dir.file_name()) else {
                    return Err(err(
                        "create folder",
                        dir,
                        std::io::Error::new(std::io::ErrorKind::NotFound, "no folder above it"),
                    ));
                };
                let parent = self.folder_destination(up)?;
                if parent.staged {
                    // Inside a staged tree: made under its own name.
                    match parent.dir.mkdir(name) {
                        Ok(()) => {}
                        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                        Err(e) => return Err(err("create folder", &parent.dir.join(name), e)),
                    }
                    let held = parent
                        .dir
                        .open_dir(name)
                        .map_err(|e| err("open folder", &parent.dir.join(name), e))?;
                    Place {
                        dir: Arc::new(held),
                        staged: true,
                    }
                } else {
                    self.stage_folder(&parent.dir, name, dir)?
                }
            }
        };
        self.places.insert(dir.to_path_buf(), place.clone());
        Ok(place)
    }

    /// Create, in the held folder `parent`, the temp folder that becomes `dir` (named `name`
    /// there) at commit.
    fn stage_folder(&mut self, parent: &Arc<Dir>, name: &OsStr, dir: &Path) -> Result<Place> {
        for _ in 0..100 {
            let tmp = temp_name(TEMP_PREFIX, pid(), SEQ.fetch_add(1, Ordering::Relaxed));
            match parent.mkdir(&tmp) {
                Ok(()) => {
                    // Recorded before it is opened, so Drop removes it if that fails.
                    self.fresh.push(Fresh {
                        parent: parent.clone(),
                        tmp: tmp.clone(),
                        name: name.to_os_string(),
                        path: dir.to_path_buf(),
                    });
                    let held = parent
                        .open_dir(&tmp)
                        .map_err(|e| err("open folder", &parent.join(&tmp), e))?;
                    return Ok(Place {
                        dir: Arc::new(held),
                        staged: true,
                    });
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(err("create folder", &parent.join(&tmp), e)),
            }
        }
        Err(err(
            "create folder",
            dir,
            std::io::Error::new(std::io::ErrorKind::AlreadyExists, "no free temp name"),
        ))
    }

    /// Note a write made by `write_placed`, so the commit renames it and a drop removes it.
    pub fn record(&mut self, target: &Path, placed: Placed) {
        self.recorded += 1;
        match placed {
            Placed::InStagedFolder => self.staged_files += 1,
            Placed::Temp(dir, tmp) => self.writes.push(Pending {
                dir,
                tmp,
                name: target.file_name().unwrap_or_default().to_os_string(),
                target: target.to_path_buf(),
            }),
        }
    }

    /// Take back a staged write before the commit: the target is left as it is.
    pub fn unstage(&mut self, target: &Path) -> Result<()> {
        let name = file_name(target)?;
        if let Some(place) = self.places.get(parent_dir(target)).filter(|p| p.staged) {
            match place.dir.unlink(name) {
                Ok(()) => self.staged_files = self.staged_files.saturating_sub(1),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(err("remove", &place.dir.join(name), e)),
            }
            return Ok(());
        }
        if let Some(i) = self.writes.iter().rposition(|w| w.target == target) {
            let w = self.writes.remove(i);
            w.dir
                .unlink(&w.tmp)
                .map_err(|e| err("remove", &w.dir.join(&w.tmp), e))?;
        }
        Ok(())
    }

    /// Many writes at once, spread over the cores by folder: creating a file is mostly kernel
    /// time, and creations in different folders do not wait for each other. The same outcome
    /// as `stage_write` on each, in order.
    pub fn stage_writes(&mut self, items: &[(PathBuf, std::borrow::Cow<'_, [u8]>)]) -> Result<()> {
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(4));
        if threads < 2 || items.len() < 64 {
            for (target, bytes) in items {
                self.stage_write(target, bytes)?;
            }
            return Ok(());
        }
        // Decided in order, here: staged folders are made once, devices noted once.
        let mut dests: Vec<Place> = Vec::with_capacity(items.len());
        for (target, _) in items {
            dests.push(self.folder_destination(parent_dir(target))?);
        }
        // Folders to threads, biggest first to the least loaded.
        let mut by_dir: std::collections::HashMap<&Path, Vec<usize>> = Default::default();
        for (i, (target, _)) in items.iter().enumerate() {
            by_dir.entry(parent_dir(target)).or_default().push(i);
        }
        // A folder holding more than a thread's share is split: creations in one folder wait
        // for each other in the kernel, but each file's write and close do not.
        let share = items.len().div_ceil(threads);
        let mut groups: Vec<Vec<usize>> = by_dir
            .into_values()
            .flat_map(|g| {
                if g.len() > share {
                    g.chunks(share).map(<[usize]>::to_vec).collect()
                } else {
                    vec![g]
                }
            })
            .collect();
        groups.sort_by_key(|g| std::cmp::Reverse(g.len()));
        let mut shares: Vec<Vec<usize>> = vec![Vec::new(); threads];
        for g in groups {
            if let Some(least) = shares.iter_mut().min_by_key(|s| s.len()) {
                least.extend(g);
            }
        }
        let mut results: Vec<Option<Result<Placed>>> = (0..items.len()).map(|_| None).collect();
        let done: Vec<Vec<(usize, Result<Placed>)>> = std::thread::scope(|scope| {
            let handles: Vec<_> = shares
                .iter()
                .map(|share| {
                    let dests = &dests;
                    scope.spawn(move || {
                        share
                            .iter()
                            .map(|&i| {
                                let (target, bytes) = &items[i];
                                (i, write_placed(target, &dests[i], bytes))
                            })
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap_or_default())
                .collect()
        });
        for (i, r) in done.into_iter().flatten() {
            results[i] = Some(r);
        }
        // Every temp is recorded before an error is returned, so Drop removes them all.
        let mut first_err = None;
        for ((target, _), r) in items.iter().zip(results) {
            match r {
                Some(Ok(placed)) => self.record(target, placed),
                Some(Err(e)) => {
                    first_err.get_or_insert(e);
                }
                None => {
                    first_err.get_or_insert_with(|| {
                        err(
                            "write",
                            target,
                            std::io::Error::other("a writer thread failed"),
                        )
                    });
                }
            }
        }
        first_err.map_or(Ok(()), Err)
    }

    /// An existing file moved as it is, during commit after the writes. rename(2) on one file
    /// system; across file systems, copy durably then remove the source.
    pub fn stage_rename(&mut self, from: &Path, to: &Path) {
        self.renames.push((from.to_path_buf(), to.to_path_buf()));
    }

    /// Removed during commit, last. A file already gone is fine (idempotent).
    pub fn stage_remove(&mut self, path: &Path) {
        self.removes.push(path.to_path_buf());
    }

    /// Start writing everything staged so far back to disk, on another thread, while the
    /// caller goes on (the plan, the journal): the syncfs at commit then finds little left.
    /// Only a head start: the commit still makes every staged file durable itself.
    pub fn start_flush(&self) -> Option<std::thread::JoinHandle<()>> {
        let dirs: Vec<Arc<Dir>> = self.devices.iter().map(|(_, d)| d.clone()).collect();
        if dirs.is_empty() {
            return None;
        }
        std::thread::Builder::new()
            .name("fgd-flush".into())
            .spawn(move || {
                for d in &dirs {
                    // SAFETY: syncfs only reads the descriptor, which `d` keeps open. Its
                    // result does not matter here: the commit's own syncfs reports errors.
                    unsafe { libc::syncfs(d.fd()) };
                }
            })
            .ok()
    }

    /// Make every temp staged so far durable now, and with them `also` (files written outside
    /// the batch, such as an `Unpublished` journal): one syncfs per file system for all. The
    /// commit then syncs again only if more is staged meanwhile.
    pub fn sync_with(&mut self, also: &[(&Path, &std::fs::File)]) -> Result<()> {
        self.make_temps_durable(also)?;
        self.synced = Some(self.recorded);
        Ok(())
    }

    fn make_temps_durable(&self, also: &[(&Path, &std::fs::File)]) -> Result<()> {
        if self.writes.is_empty()
            && self.fresh.is_empty()
            && self.last.is_empty()
            && also.is_empty()
        {
            return Ok(());
        }
        // One descriptor per file system: the batch's, then any `also` file elsewhere.
        let mut fds: Vec<(u64, std::os::unix::io::RawFd)> =
            self.devices.iter().map(|(d, dir)| (*d, dir.fd())).collect();
        for (_, f) in also {
            let dev = f.metadata().map(|m| m.dev()).ok();
            if dev.is_none_or(|d| !fds.iter().any(|(known, _)| *known == d)) {
                fds.push((dev.unwrap_or(u64::MAX), f.as_raw_fd()));
            }
        }
        // SAFETY: syncfs only reads the descriptor, which a Dir in `self` or `also` keeps open.
        let syncfs_ok = fds.iter().all(|(_, fd)| unsafe { libc::syncfs(*fd) } == 0);
        if syncfs_ok {
            return Ok(());
        }
        sync_files(also)?;
        // syncfs unsupported or failed: one fdatasync per file still reports any write error.
        let sync_file = |dir: &Dir, name: &OsStr| -> Result<()> {
            let f = dir
                .open_read(name)
                .map_err(|e| err("open", &dir.join(name), e))?;
            f.sync_data().map_err(|e| err("sync", &dir.join(name), e))
        };
        for w in self.writes.iter().chain(&self.last) {
            sync_file(&w.dir, &w.tmp)?;
        }
        for place in self.places.values().filter(|p| p.staged) {
            let listed = place
                .dir
                .entries()
                .map_err(|e| err("list", place.dir.path(), e))?;
            for (name, kind) in listed {
                if kind == Kind::File {
                    sync_file(&place.dir, &name)?;
                }
            }
            place.dir.sync()?;
        }
        Ok(())
    }

    /// Make every staged operation durable: ONE syncfs for all temps, the renames over their
    /// targets in staging order, the staged moves, the removals, then one fsync per folder.
    /// Refused before the first rename when a folder the batch works in is no longer the one
    /// it opened (`Dirs::verify`).
    pub fn commit(mut self) -> Result<CommitStats> {
        let mut stats = CommitStats::default();
        // Every folder a name changed in, by path, synced once each at the end.
        let mut dirs: BTreeMap<PathBuf, Arc<Dir>> = BTreeMap::new();
        let mut touched = |d: &Arc<Dir>| {
            dirs.entry(d.path().to_path_buf())
                .or_insert_with(|| d.clone());
        };
        failpoint(BATCH_AFTER_STAGE);
        if self.synced != Some(self.recorded) {
            self.make_temps_durable(&[])?;
        }
        self.devices.clear();
        self.dirs.verify()?;
        let half = self.writes.len() / 2;
        for (i, w) in self.writes.iter().enumerate() {
            if i == half {
                failpoint(BATCH_MID_RENAME);
            }
            w.dir
                .rename(&w.tmp, &w.dir, &w.name)
                .map_err(|e| err("rename", &w.target, e))?;
            touched(&w.dir);
            stats.files_written += 1;
        }
        if self.writes.is_empty() {
            failpoint(BATCH_MID_RENAME);
        }
        self.writes.clear();
        // Fresh folders appear whole; a folder that appeared meanwhile is not overwritten
        // (rename(2) refuses a non-empty one) and the batch fails, its temps swept later.
        while !self.fresh.is_empty() {
            let f = &self.fresh[0];
            f.parent
                .rename(&f.tmp, &f.parent, &f.name)
                .map_err(|e| err("rename", &f.path, e))?;
            touched(&f.parent);
            self.fresh.remove(0);
        }
        stats.files_written += self.staged_files;
        for (from, to) in &self.renames {
            let (Some((from_dir, from_name)), Some((to_dir, to_name))) =
                (self.dirs.parent_of(from)?, self.dirs.parent_of(to)?)
            else {
                return Err(err(
                    "rename",
                    from,
                    std::io::Error::new(std::io::ErrorKind::NotFound, "no such folder"),
                ));
            };
            match from_dir.rename(from_name, &to_dir, to_name) {
                Ok(()) => {}
                Err(e) if e.raw_os_error() == Some(libc::EXDEV) => {
                    move_across(&from_dir, from_name, &to_dir, to_name)?
                }
                Err(e) => return Err(err("rename", from, e)),
            }
            touched(&from_dir);
            touched(&to_dir);
            stats.renamed += 1;
        }
        for w in std::mem::take(&mut self.last) {
            w.dir
                .rename(&w.tmp, &w.dir, &w.name)
                .map_err(|e| err("rename", &w.target, e))?;
            touched(&w.dir);
            stats.files_written += 1;
        }
        failpoint(BATCH_BEFORE_REMOVE);
        let mut removal_dirs: BTreeMap<PathBuf, Arc<Dir>> = BTreeMap::new();
        for p in &self.removes {
            // The folder of a file already gone may be gone too: nothing to remove or sync.
            let Some((dir, name)) = self.dirs.parent_of(p)? else {
                continue;
            };
            match dir.unlink(name) {
                Ok(()) => stats.removed += 1,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(err("remove", p, e)),
            }
            // Synced even when the file was already gone: a retry after a crash must still
            // make an earlier, unsynced removal durable.
            if !dirs.contains_key(dir.path()) {
                removal_dirs.insert(dir.path().to_path_buf(), dir);
            }
        }
        for d in dirs.values().chain(removal_dirs.values()) {
            d.sync()?;
            stats.dirs_synced += 1;
        }
        self.committed = true;
        failpoint(BATCH_AFTER_COMMIT);
        Ok(stats)
    }
}

/// rename(2) that never replaces: fails with `AlreadyExists` when `to` exists. renameat2's
/// RENAME_NOREPLACE does it in one step; where the kernel or the file system lacks it, a hard
/// link (which refuses an existing name too) and an unlink do the same.
pub fn rename_noreplace(from: &Path, to: &Path) -> std::io::Result<()> {
    use std::ffi::CString;
    let c = |p: &Path| {
        CString::new(p.as_os_str().as_bytes())
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::InvalidInput, "NUL in a path"))
    };
    let (cfrom, cto) = (c(from)?, c(to)?);
    // SAFETY: both are NUL-terminated strings that outlive the call.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_renameat2,
            libc::AT_FDCWD,
            cfrom.as_ptr(),
            libc::AT_FDCWD,
            cto.as_ptr(),
            libc::RENAME_NOREPLACE,
        )
    };
    if rc == 0 {
        return Ok(());
    }
    let e = std::io::Error::last_os_error();
    if !matches!(e.raw_os_error(), Some(libc::EINVAL | libc::ENOSYS)) {
        return Err(e);
    }
    std::fs::hard_link(from, to)?;
    std::fs::remove_file(from)
}

/// Move a file across file systems: the copy is durable at `to` before `from` goes, so a crash
/// leaves both copies at worst, never neither.
fn move_across(from_dir: &Dir, from: &OsStr, to_dir: &Arc<Dir>, to: &OsStr) -> Result<()> {
    let mut src = from_dir
        .open_read(from)
        .map_err(|e| err("open", &from_dir.join(from), e))?;
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(&mut src, &mut bytes)
        .map_err(|e| err("read", &from_dir.join(from), e))?;
    write_atomic_in(to_dir, to, &bytes)?;
    from_dir
        .unlink(from)
        .map_err(|e| err("remove", &from_dir.join(from), e))
}

impl Drop for Batch {
    fn drop(&mut self) {
        if !self.committed {
            for w in self.writes.iter().chain(&self.last) {
                let _ = w.dir.unlink(&w.tmp);
            }
            for f in &self.fresh {
                // Only fgd's own temp folder, created empty by this batch, reached through
                // its held parent: never a symlink, never another folder.
                let _ = f.parent.remove_tree(&f.tmp);
            }
        }
    }
}

/// Durable append of one line to an append-only log. A newline is added when `line` lacks
/// one, and a torn last line left by a crash is closed first, so records never run together.
pub fn append_line(path: &Path, line: &str) -> Result<()> {
    append_line_parts(path, &[line.as_bytes()])
}

/// `append_line` of a line given in pieces, written without joining them first: a big batch's
/// log record is tens of megabytes.
pub fn append_line_parts(path: &Path, parts: &[&[u8]]) -> Result<()> {
    append_line_with(path, parts, None)
}

/// `append_line_parts`, the line ending with what `tail` reads (copied, never held whole: a
/// big batch's log record is spooled in a file). The copy takes more than one write, so a
/// crash can tear the line; the next append starts on a fresh line, and `journal` re-appends
/// a torn record.
pub fn append_line_with(
    path: &Path,
    parts: &[&[u8]],
    tail: Option<&mut dyn std::io::Read>,
) -> Result<()> {
    let existed = std::fs::symlink_metadata(path).is_ok();
    let f = no_follow()
        .read(true)
        .append(true)
        .create(true)
        .open(path)
        .map_err(|e| err("open", path, e))?;
    append_to(f, path, parts, tail)?;
    if !existed {
        sync_dir(parent_dir(path))?;
    }
    Ok(())
}

/// `append_line_with` of the file `name` in the held folder `dir` (see `Dirs`). A symlink
/// there is refused (an unsafe layout, not an I/O failure).
pub fn append_line_in(
    dir: &Dir,
    name: &OsStr,
    parts: &[&[u8]],
    tail: Option<&mut dyn std::io::Read>,
) -> Result<()> {
    let path = dir.join(name);
    let existed = dir.exists(name).map_err(|e| err("inspect", &path, e))?;
    let f = match dir.open_file(name, libc::O_RDWR | libc::O_APPEND | libc::O_CREAT) {
        Ok(f) => f,
        Err(e) if e.raw_os_error() == Some(libc::ELOOP) => {
            return Err(super::dir::refusal(
                &path,
                "is a symlink; fgd never writes its records through one",
            ))
        }
        Err(e) => return Err(err("open", &path, e)),
    };
    append_to(f, &path, parts, tail)?;
    if !existed {
        dir.sync()?;
    }
    Ok(())
}

/// The append itself, to `f` open for reading and appending; made durable (the file's data,
/// not its folder's entry).
fn append_to(
    mut f: std::fs::File,
    path: &Path,
    parts: &[&[u8]],
    tail: Option<&mut dyn std::io::Read>,
) -> Result<()> {
    let len = f.metadata().map_err(|e| err("inspect", path, e))?.len();
    let mut torn = false;
    if len > 0 {
        let mut last = [0u8; 1];
        f.read_exact_at(&mut last, len - 1)
            .map_err(|e| err("read", path, e))?;
        torn = last[0] != b'\n';
    }
    // A line given whole gets its newline here, unless it has one; a `tail` ends with it.
    let needs_newline = tail.is_none()
        && !parts
            .iter()
            .rev()
            .find(|p| !p.is_empty())
            .is_some_and(|p| p.ends_with(b"\n"));
    let mut slices: Vec<std::io::IoSlice> = Vec::with_capacity(parts.len() + 2);
    if torn {
        slices.push(std::io::IoSlice::new(b"\n"));
    }
    slices.extend(parts.iter().map(|p| std::io::IoSlice::new(p)));
    if needs_newline {
        slices.push(std::io::IoSlice::new(b"\n"));
    }
    // One write call where the kernel allows: O_APPEND keeps it in one piece against other
    // appenders.
    let mut rest: &mut [std::io::IoSlice] = &mut slices;
    while !rest.is_empty() {
        match f.write_vectored(rest) {
            Ok(0) => {
                return Err(err(
                    "append",
                    path,
                    std::io::Error::from(std::io::ErrorKind::WriteZero),
                ))
            }
            Ok(n) => std::io::IoSlice::advance_slices(&mut rest, n),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(err("append", path, e)),
        }
    }
    if let Some(tail) = tail {
        let mut w = std::io::BufWriter::with_capacity(256 * 1024, &f);
        std::io::copy(tail, &mut w)
            .and_then(|_| w.write_all(b"\n"))
            .and_then(|()| w.flush())
            .map_err(|e| err("append", path, e))?;
    }
    f.sync_data().map_err(|e| err("sync", path, e))
}

/// Remove temp files a killed run left under `dir`, recursively, without following symlinks
/// (a symlinked `dir` itself is left alone). Returns how many were removed.
pub fn sweep_temp_files(dir: &Path) -> Result<usize> {
    sweep_temp_files_noting(dir, None).map(|(n, _)| n)
}

/// `sweep_temp_files`, also returning the path of every entry whose name starts with `note`
/// (not looked into), found by the same walk.
pub fn sweep_temp_files_noting(dir: &Path, note: Option<&str>) -> Result<(usize, Vec<PathBuf>)> {
    let mut noted = Vec::new();
    // Each folder is held open and worked in by its descriptor, its sub-folders opened from
    // it without following a symlink: a folder swapped mid-sweep is never swept through.
    let top = match Dir::open_path(dir) {
        Ok(d) => d,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((0, noted)),
        // A symlink (or not a folder): left alone.
        Err(e) if matches!(e.raw_os_error(), Some(libc::ELOOP | libc::ENOTDIR)) => {
            return Ok((0, noted))
        }
        Err(e) => return Err(err("open folder", dir, e)),
    };
    let mut n = 0;
    let mut stack = vec![top];
    while let Some(d) = stack.pop() {
        let entries = match d.entries() {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(err("list", d.path(), e)),
        };
        let before = n;
        for (name, kind) in entries {
            if note.is_some_and(|p| name.as_bytes().starts_with(p.as_bytes())) {
                noted.push(d.join(&name));
                continue;
            }
            let temp_name = name.as_bytes().starts_with(TEMP_PREFIX.as_bytes());
            if kind == Kind::Dir && temp_name {
                // A folder a killed batch was filling: none of it was ever visible. Removed
                // through its held parent, never following a symlink inside.
                match d.remove_tree(&name) {
                    Ok(()) => n += 1,
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => return Err(err("remove", &d.join(&name), e)),
                }
            } else if kind == Kind::Dir {
                match d.open_dir(&name) {
                    Ok(sub) => stack.push(sub),
                    // Gone, or swapped for something else since it was listed: not swept.
                    Err(e)
                        if matches!(
                            e.raw_os_error(),
                            Some(libc::ENOENT | libc::ELOOP | libc::ENOTDIR)
                        ) => {}
                    Err(e) => return Err(err("open folder", &d.join(&name), e)),
                }
            } else if kind == Kind::File && temp_name {
                match d.unlink(&name) {
                    Ok(()) => n += 1,
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => return Err(err("remove", &d.join(&name), e)),
                }
            }
        }
        // Not needed for safety (a temp that comes back is swept again) but keeps the tree
        // tidy.
        if n > before {
            d.sync()?;
        }
    }
    Ok((n, noted))
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
    fn an_index_staged_last_lands_with_the_batch_or_not_at_all() {
        let t = tempfile::tempdir().unwrap();
        let index = t.path().join("kustomization.yaml");
        std::fs::write(&index, "old\n").unwrap();
        let mut b = Batch::new();
        b.stage_write(&t.path().join("vpcs/v.yaml"), b"v").unwrap();
        b.stage_write_last(&index, b"new\n").unwrap();
        drop(b);
        assert_eq!(
            std::fs::read(&index).unwrap(),
            b"old\n",
            "dropped: left as it was"
        );
        assert_eq!(temps(t.path()), 0, "dropped: no temp left");
        let mut b = Batch::new();
        b.stage_write(&t.path().join("vpcs/v.yaml"), b"v").unwrap();
        b.stage_write_last(&index, b"new\n").unwrap();
        b.sync_with(&[]).unwrap();
        let stats = b.commit().unwrap();
        assert_eq!(stats.files_written, 2);
        assert_eq!(std::fs::read(&index).unwrap(), b"new\n");
        assert_eq!(std::fs::read(t.path().join("vpcs/v.yaml")).unwrap(), b"v");
        assert_eq!(temps(t.path()), 0);
    }

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
    fn a_new_folder_appears_whole_at_commit_and_never_half_filled() {
        let t = tempfile::tempdir().unwrap();
        let dir = t.path().join("vpcs");
        let mut b = Batch::new();
        for i in 0..3 {
            b.stage_write(
                &dir.join(format!("v{i}.yaml")),
                format!("n: {i}\n").as_bytes(),
            )
            .unwrap();
        }
        assert!(!dir.exists(), "nothing visible before the commit");
        assert_eq!(temps(t.path()), 1, "one temp folder holds the three files");
        let stats = b.commit().unwrap();
        assert_eq!(stats.files_written, 3);
        for i in 0..3 {
            assert_eq!(
                std::fs::read_to_string(dir.join(format!("v{i}.yaml"))).unwrap(),
                format!("n: {i}\n")
            );
        }
        assert_eq!(temps(t.path()), 0);
        // A chain of new folders is staged as one, below its first missing folder.
        let mut b = Batch::new();
        b.stage_write(&t.path().join("a/b/c/deep.yaml"), b"d")
            .unwrap();
        b.stage_write(&t.path().join("a/top.yaml"), b"t").unwrap();
        assert!(!t.path().join("a").exists());
        b.commit().unwrap();
        assert_eq!(
            std::fs::read(t.path().join("a/b/c/deep.yaml")).unwrap(),
            b"d"
        );
        assert_eq!(std::fs::read(t.path().join("a/top.yaml")).unwrap(), b"t");
        assert_eq!(temps(t.path()), 0);
        // Dropped uncommitted: the temp folder goes too.
        let mut b = Batch::new();
        b.stage_write(&t.path().join("other/x.yaml"), b"x").unwrap();
        drop(b);
        assert_eq!(temps(t.path()), 0);
        assert!(!t.path().join("other").exists());
        // What a killed run leaves, a filled temp folder, is swept whole.
        let stale = t.path().join(format!("{TEMP_PREFIX}1-1"));
        std::fs::create_dir(&stale).unwrap();
        std::fs::write(stale.join("a.yaml"), b"a").unwrap();
        assert_eq!(sweep_temp_files(t.path()).unwrap(), 1);
        assert!(!stale.exists() && dir.join("v0.yaml").exists());
    }

    #[test]
    fn many_writes_staged_in_parallel_land_like_single_ones_and_fail_cleanly() {
        use std::borrow::Cow;
        let t = tempfile::tempdir().unwrap();
        std::fs::create_dir(t.path().join("old")).unwrap();
        std::fs::write(t.path().join("old/f7.yaml"), b"before").unwrap();
        let items: Vec<(PathBuf, Cow<[u8]>)> = (0..300)
            .map(|i| {
                let dir = ["old", "new", "new/deeper"][i % 3];
                let p = t.path().join(dir).join(format!("f{i}.yaml"));
                (p, Cow::Owned(format!("n: {i}\n").into_bytes()))
            })
            .collect();
        let mut b = Batch::new();
        b.stage_writes(&items).unwrap();
        assert!(!t.path().join("new").exists());
        // Nothing replaced before the commit.
        assert_eq!(
            std::fs::read(t.path().join("old/f7.yaml")).unwrap(),
            b"before"
        );
        assert_eq!(b.commit().unwrap().files_written, 300);
        for (p, bytes) in &items {
            assert_eq!(std::fs::read(p).unwrap(), bytes.as_ref());
        }
        assert_eq!(temps(t.path()) + temps(&t.path().join("old")), 0);
        // A target that cannot be written: an error, and nothing of the batch left behind.
        std::fs::write(t.path().join("blocker"), b"a file, not a folder").unwrap();
        let mut bad = items.clone();
        bad.push((t.path().join("blocker/x.yaml"), Cow::Borrowed(b"x")));
        let mut b = Batch::new();
        assert!(b.stage_writes(&bad).is_err());
        drop(b);
        assert_eq!(temps(t.path()) + temps(&t.path().join("old")), 0);
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
        append_line(&p, "{\"a\":2}").unwrap();
        assert_eq!(
            std::fs::read_to_string(&p).unwrap(),
            "{\"a\":1}\n{\"a\":2}\n"
        );
    }

    #[test]
    fn an_append_after_a_torn_line_starts_on_a_fresh_line() {
        let t = tempfile::tempdir().unwrap();
        let p = t.path().join("log.jsonl");
        std::fs::write(&p, "{\"a\":1}\n{\"a\"").unwrap();
        append_line(&p, "{\"a\":3}\n").unwrap();
        let text = std::fs::read_to_string(&p).unwrap();
        assert_eq!(text.lines().last(), Some("{\"a\":3}"));
    }

    #[test]
    fn append_refuses_a_symlink() {
        let t = tempfile::tempdir().unwrap();
        let victim = t.path().join("victim");
        std::fs::write(&victim, b"keep").unwrap();
        let p = t.path().join("log.jsonl");
        std::os::unix::fs::symlink(&victim, &p).unwrap();
        assert!(append_line(&p, "x").is_err());
        assert_eq!(std::fs::read(&victim).unwrap(), b"keep");
    }

    #[test]
    fn removing_a_missing_file_is_fine() {
        let t = tempfile::tempdir().unwrap();
        let mut b = Batch::new();
        b.stage_remove(&t.path().join("gone"));
        b.stage_remove(&t.path().join("no-such-dir").join("gone"));
        assert_eq!(b.len(), 2);
        let stats = b.commit().unwrap();
        assert_eq!(stats.removed, 0);
    }

    #[test]
    fn staged_renames_move_files_after_the_writes() {
        let t = tempfile::tempdir().unwrap();
        let raw = t.path().join("raw");
        let unmanaged = t.path().join("unmanaged");
        std::fs::create_dir(&raw).unwrap();
        std::fs::create_dir(&unmanaged).unwrap();
        let from = raw.join("x.yaml");
        let to = unmanaged.join("x.yaml.unmanaged");
        std::fs::write(&from, b"kind: Foo\n").unwrap();
        let mut b = Batch::new();
        b.stage_write(&unmanaged.join("x.yaml.unmanaged.reason.json"), b"{}")
            .unwrap();
        b.stage_rename(&from, &to);
        let stats = b.commit().unwrap();
        assert_eq!((stats.files_written, stats.renamed), (1, 1));
        assert_eq!(stats.dirs_synced, 2);
        assert!(!from.exists());
        assert_eq!(std::fs::read(&to).unwrap(), b"kind: Foo\n");
    }

    #[test]
    fn an_empty_batch_commits() {
        let b = Batch::new();
        assert!(b.is_empty());
        assert_eq!(b.commit().unwrap(), CommitStats::default());
    }

    #[test]
    fn a_symlinked_folder_is_not_swept_through() {
        let t = tempfile::tempdir().unwrap();
        let outside = t.path().join("outside");
        std::fs::create_dir(&outside).unwrap();
        std::fs::write(outside.join(format!("{TEMP_PREFIX}9-9")), b"x").unwrap();
        let fab = t.path().join("fab");
        std::fs::create_dir(&fab).unwrap();
        std::os::unix::fs::symlink(&outside, fab.join("link")).unwrap();
        assert_eq!(sweep_temp_files(&fab).unwrap(), 0);
        assert_eq!(sweep_temp_files(&fab.join("link")).unwrap(), 0);
        assert_eq!(temps(&outside), 1);
    }

    /// Run by `a_crash_at_any_batch_fail_point_leaves_old_or_new_files` in a child process.
    #[test]
    #[ignore]
    fn crash_child() {
        let Ok(dir) = std::env::var("FGD_STORE_CRASH_DIR") else {
            return;
        };
        let dir = Path::new(&dir);
        let mut b = Batch::new();
        for i in 0..10 {
            b.stage_write(&dir.join(format!("f{i}")), b"new").unwrap();
        }
        b.stage_rename(&dir.join("move-me"), &dir.join("moved"));
        b.stage_remove(&dir.join("remove-me"));
        b.commit().unwrap();
        std::process::exit(0);
    }

    #[test]
    fn a_crash_at_any_batch_fail_point_leaves_old_or_new_files() {
        use std::os::unix::process::ExitStatusExt;
        let exe = std::env::current_exe().unwrap();
        for point in super::super::failpoint::ALL_BATCH_FAILPOINTS {
            let t = tempfile::tempdir().unwrap();
            for i in 0..10 {
                std::fs::write(t.path().join(format!("f{i}")), b"old").unwrap();
            }
            std::fs::write(t.path().join("move-me"), b"m").unwrap();
            std::fs::write(t.path().join("remove-me"), b"r").unwrap();
            let status = std::process::Command::new(&exe)
                .args(["--exact", "store::atomic::tests::crash_child", "--ignored"])
                .args(["--test-threads", "1", "--quiet"])
                .env("FGD_FAILPOINT", point)
                .env("FGD_STORE_CRASH_DIR", t.path())
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .status()
                .unwrap();
            assert_eq!(status.signal(), Some(libc::SIGABRT), "{point}");
            let new = (0..10)
                .filter(|i| std::fs::read(t.path().join(format!("f{i}"))).unwrap() == b"new")
                .count();
            for i in 0..10 {
                let b = std::fs::read(t.path().join(format!("f{i}"))).unwrap();
                assert!(b == b"old" || b == b"new", "{point}: torn file");
            }
            let moved = t.path().join("moved").exists();
            assert_ne!(moved, t.path().join("move-me").exists(), "{point}");
            let removed = !t.path().join("remove-me").exists();
            let expect = match *point {
                "batch.after-stage" => (0, false, false),
                "batch.mid-rename" => (5, false, false),
                "batch.before-remove" => (10, true, false),
                _ => (10, true, true),
            };
            assert_eq!((new, moved, removed), expect, "{point}");
            let left = sweep_temp_files(t.path()).unwrap();
            assert_eq!(
                left,
                if new == 0 {
                    10
                } else if new == 5 {
                    5
                } else {
                    0
                }
            );
            assert_eq!(temps(t.path()), 0);
        }
    }

    /// `cargo test --release -- --ignored --nocapture batched_vs_single`
    #[test]
    #[ignore]
    fn batched_vs_single_writes_10k() {
        let t = tempfile::tempdir().unwrap();
        let n = 10_000;
        let start = std::time::Instant::now();
        let mut b = Batch::new();
        for i in 0..n {
            let p = t.path().join(format!("b{i}.yaml"));
            b.stage_write(&p, format!("n: {i}\n").as_bytes()).unwrap();
        }
        b.commit().unwrap();
        let batched = start.elapsed();
        let start = std::time::Instant::now();
        for i in 0..n {
            let p = t.path().join(format!("s{i}.yaml"));
            write_atomic(&p, format!("n: {i}\n").as_bytes()).unwrap();
        }
        let single = start.elapsed();
        println!("{n} files: batched {batched:?}, write_atomic each {single:?}");
    }
}
