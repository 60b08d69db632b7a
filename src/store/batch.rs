//! Many atomic writes made durable together (`Batch`): all temps, then ONE syncfs, then the
//! renames, then one fsync per folder, as git's `core.fsyncMethod=batch` does; a per-file fsync
//! costs more than a whole ingest.

use std::collections::{BTreeMap, HashMap};
use std::ffi::{OsStr, OsString};
use std::os::fd::{AsFd, BorrowedFd};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::dir::{Dir, Dirs, Kind};
use super::failpoint::{
    failpoint, BATCH_AFTER_COMMIT, BATCH_AFTER_STAGE, BATCH_BEFORE_REMOVE, BATCH_MID_RENAME,
};
use super::sys::{self, Errno};
use super::write::{
    create_in, file_name, next_temp_name, parent_dir, sync_files, write_atomic_in, write_temp_in,
};
use super::{err, Result};

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
            let tmp = next_temp_name();
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
        self.unstage_all([target])
    }

    /// `unstage` of each target, in one pass over the batch's writes however many there are
    /// (an ingest may take back 10^4 objects its check across objects refused).
    pub fn unstage_all<'p>(&mut self, targets: impl IntoIterator<Item = &'p Path>) -> Result<()> {
        let mut elsewhere: HashMap<&Path, usize> = HashMap::new();
        for target in targets {
            let name = file_name(target)?;
            if let Some(place) = self.places.get(parent_dir(target)).filter(|p| p.staged) {
                match place.dir.unlink(name) {
                    Ok(()) => self.staged_files = self.staged_files.saturating_sub(1),
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => return Err(err("remove", &place.dir.join(name), e)),
                }
            } else {
                *elsewhere.entry(target).or_default() += 1;
            }
        }
        if elsewhere.is_empty() {
            return Ok(());
        }
        // The last write of each target goes, as often as it was named.
        let mut taken = vec![false; self.writes.len()];
        for (i, w) in self.writes.iter().enumerate().rev() {
            if let Some(left) = elsewhere.get_mut(w.target.as_path()).filter(|n| **n > 0) {
                *left -= 1;
                taken[i] = true;
            }
        }
        let mut result = Ok(());
        let mut i = 0;
        self.writes.retain(|w| {
            let keep = !taken[i];
            i += 1;
            if !keep && result.is_ok() {
                result = w
                    .dir
                    .unlink(&w.tmp)
                    .map_err(|e| err("remove", &w.dir.join(&w.tmp), e));
            }
            keep
        });
        result
    }

    /// Move the write staged for `from` to the target `to`, its bytes unchanged: `unstage`
    /// of `from` and `stage_write` of `to` without writing the bytes again (an object the
    /// check across objects refused becomes its unmanaged item). Only a write in a staged
    /// folder moves; false, and nothing done, for any other.
    pub fn restage(&mut self, from: &Path, to: &Path) -> Result<bool> {
        let Some(source) = self.places.get(parent_dir(from)).filter(|p| p.staged) else {
            return Ok(false);
        };
        let source = source.dir.clone();
        let from_name = file_name(from)?;
        let place = self.folder_destination(parent_dir(to))?;
        let name = file_name(to)?;
        if place.staged {
            source
                .rename_noreplace(from_name, &place.dir, name)
                .map_err(|e| err("rename", to, e))?;
        } else {
            let tmp = next_temp_name();
            source
                .rename_noreplace(from_name, &place.dir, &tmp)
                .map_err(|e| err("rename", &place.dir.join(&tmp), e))?;
            self.staged_files = self.staged_files.saturating_sub(1);
            self.writes.push(Pending {
                dir: place.dir,
                tmp,
                name: name.to_os_string(),
                target: to.to_path_buf(),
            });
        }
        self.recorded += 1;
        Ok(true)
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
    /// Where one call cannot sync a file system (`sys::sync_filesystem`), nothing is started.
    pub fn start_flush(&self) -> Option<std::thread::JoinHandle<()>> {
        let dirs: Vec<Arc<Dir>> = self.devices.iter().map(|(_, d)| d.clone()).collect();
        if dirs.is_empty() || sys::portable_only() {
            return None;
        }
        std::thread::Builder::new()
            .name("fgd-flush".into())
            .spawn(move || {
                for d in &dirs {
                    // Its result does not matter here: the commit's own sync reports errors.
                    let _ = sys::sync_filesystem(&**d);
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
        let mut fds: Vec<(u64, BorrowedFd)> = self
            .devices
            .iter()
            .map(|(d, dir)| (*d, dir.as_fd()))
            .collect();
        for (_, f) in also {
            let dev = f.metadata().map(|m| m.dev()).ok();
            if dev.is_none_or(|d| !fds.iter().any(|(known, _)| *known == d)) {
                fds.push((dev.unwrap_or(u64::MAX), f.as_fd()));
            }
        }
        let synced = fds.iter().all(|(_, fd)| match sys::sync_filesystem(fd) {
            Ok(done) => done,
            Err(e) => {
                tracing::warn!(error = %e, "syncfs failed: an fsync per file instead");
                false
            }
        });
        if synced {
            return Ok(());
        }
        sync_files(also)?;
        // No syncfs here (or it failed): one fdatasync per file, which still reports any
        // write error.
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
                Err(e) if sys::is(&e, Errno::XDEV) => {
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

#[cfg(test)]
mod tests;
