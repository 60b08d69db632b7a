//! The listing of the fabric's folders for a commit pass, on a few threads: at 10^5 files the
//! pass is one lstat per file, and git's own `status` spreads those over threads too
//! (`core.preloadIndex`). Only the file system is touched here (no git object: libgit2's
//! repository and index are not shared between threads); what the entries mean is decided by
//! the scan, on one thread, in a fixed order.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex};
use std::time::Duration;

use super::error::{GitError, Result};

/// How often a pass says how far it got.
const PROGRESS_EVERY: Duration = Duration::from_millis(200);

/// One entry of a listed folder that is not a folder to descend into, with what the caller's
/// `look` made of it on the listing thread.
pub(crate) struct Listed<T> {
    pub(crate) abs: PathBuf,
    /// Relative to the fabric, `/`-separated bytes.
    pub(crate) inner: Vec<u8>,
    pub(crate) kind: std::fs::FileType,
    /// Whether the entry's own name is UTF-8 (a folder whose name is not is listed here, not
    /// descended into).
    pub(crate) utf8: bool,
    /// For a regular file: its lstat, relative to the open folder (no path walk).
    pub(crate) meta: Option<std::fs::Metadata>,
    pub(crate) seen: T,
}

/// What the caller makes of an entry on the listing thread: from its path inside the fabric,
/// its type and (for a regular file) its lstat.
pub(crate) type Look<'a, T> =
    dyn Fn(&[u8], &std::fs::FileType, Option<&std::fs::Metadata>) -> T + Sync + 'a;

/// Folders to list: (path on disk, path inside the fabric).
type Folders = Vec<(PathBuf, Vec<u8>)>;

/// What the workers share: folders waiting to be listed, how many workers are listing one,
/// and the first failure.
struct State {
    waiting: Folders,
    busy: usize,
    failed: Option<GitError>,
}

struct Queue {
    state: Mutex<State>,
    more: Condvar,
}

impl Queue {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A worker that panicked holding the lock leaves the list itself intact.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The next folder, or None once every folder is listed (or one failed).
    fn next(&self) -> Option<(PathBuf, Vec<u8>)> {
        let mut s = self.lock();
        loop {
            if s.failed.is_some() {
                return None;
            }
            if let Some(job) = s.waiting.pop() {
                s.busy += 1;
                return Some(job);
            }
            if s.busy == 0 {
                return None;
            }
            s = self.more.wait(s).unwrap_or_else(|e| e.into_inner());
        }
    }

    fn done(&self, found: Folders, failed: Option<GitError>) {
        let mut s = self.lock();
        s.waiting.extend(found);
        s.busy -= 1;
        if s.failed.is_none() {
            s.failed = failed;
        }
        self.more.notify_all();
    }
}

/// Every entry under `roots` (folders, with their path inside the fabric), folders with
/// UTF-8 names descended into (`.git` never), in no particular order. `look` runs on the
/// listing threads for each entry (its path inside the fabric, its type, a regular file's
/// lstat): per-path work that needs no git object. `progress` is called on the calling
/// thread a few times a second with how many entries were listed so far.
pub(crate) fn list<T: Send>(
    roots: Folders,
    look: &Look<'_, T>,
    progress: &mut dyn FnMut(usize),
) -> Result<Vec<Listed<T>>> {
    let threads = threads();
    let queue = Queue {
        state: Mutex::new(State {
            waiting: roots,
            busy: 0,
            failed: None,
        }),
        more: Condvar::new(),
    };
    let count = AtomicUsize::new(0);
    let (tx, rx) = std::sync::mpsc::channel::<Vec<Listed<T>>>();
    let mut out = Vec::new();
    std::thread::scope(|s| {
        for _ in 0..threads {
            let tx = tx.clone();
            let (queue, count) = (&queue, &count);
            s.spawn(move || {
                let mut mine = Vec::new();
                while let Some((dir, dir_inner)) = queue.next() {
                    let had = mine.len();
                    let (found, failed) = list_one(&dir, &dir_inner, look, &mut mine);
                    count.fetch_add(mine.len() - had, Ordering::Relaxed);
                    queue.done(found, failed);
                }
                let _ = tx.send(mine);
            });
        }
        drop(tx);
        gather(&rx, threads, &count, progress, |part| out.extend(part));
    });
    let failed = queue.lock().failed.take();
    match failed {
        Some(e) => Err(e),
        None => Ok(out),
    }
}

/// List one folder into `into`; the folders in it to list next, and a failure to list it.
fn list_one<T>(
    dir: &std::path::Path,
    dir_inner: &[u8],
    look: &Look<'_, T>,
    into: &mut Vec<Listed<T>>,
) -> (Folders, Option<GitError>) {
    use std::os::unix::ffi::OsStrExt;
    let mut found = Vec::new();
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) => return (found, Some(GitError::io("list", dir, e))),
    };
    for e in entries.flatten() {
        let name = e.file_name();
        let mut inner = Vec::with_capacity(dir_inner.len() + 1 + name.len());
        inner.extend_from_slice(dir_inner);
        inner.push(b'/');
        inner.extend_from_slice(name.as_bytes());
        let Ok(kind) = e.file_type() else { continue };
        let utf8 = std::str::from_utf8(name.as_bytes()).is_ok();
        if kind.is_dir() && utf8 {
            // Always looked into (a file git tracks is in even under an ignored folder).
            if name != ".git" {
                found.push((e.path(), inner));
            }
            continue;
        }
        // DirEntry::metadata is an lstat relative to the folder being listed: it never
        // follows a symlink.
        let meta = if kind.is_file() {
            e.metadata().ok()
        } else {
            None
        };
        let seen = look(&inner, &kind, meta.as_ref());
        into.push(Listed {
            abs: e.path(),
            inner,
            kind,
            utf8,
            meta,
            seen,
        });
    }
    (found, None)
}

/// `f` of every item, in order, on a few threads (items taken one at a time, so a slow file
/// does not hold up a whole share); `progress` is called on the calling thread a few times a
/// second with how many are done. Below a few dozen items, on this thread alone.
pub(crate) fn map_parallel<I: Sync, O: Send>(
    items: &[I],
    f: &(dyn Fn(&I) -> O + Sync),
    progress: &mut dyn FnMut(usize),
) -> Vec<O> {
    let threads = threads();
    if threads == 1 || items.len() < 64 {
        let mut last = std::time::Instant::now();
        return items
            .iter()
            .enumerate()
            .map(|(i, item)| {
                if last.elapsed() >= PROGRESS_EVERY {
                    last = std::time::Instant::now();
                    progress(i);
                }
                f(item)
            })
            .collect();
    }
    let next = AtomicUsize::new(0);
    let done = AtomicUsize::new(0);
    let (tx, rx) = std::sync::mpsc::channel::<Vec<(usize, O)>>();
    let mut slots: Vec<Option<O>> = Vec::with_capacity(items.len());
    slots.resize_with(items.len(), || None);
    std::thread::scope(|s| {
        for _ in 0..threads {
            let tx = tx.clone();
            let (next, done) = (&next, &done);
            s.spawn(move || {
                let mut mine = Vec::new();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(item) = items.get(i) else { break };
                    mine.push((i, f(item)));
                    done.fetch_add(1, Ordering::Relaxed);
                }
                let _ = tx.send(mine);
            });
        }
        drop(tx);
        gather(&rx, threads, &done, progress, |part| {
            for (i, o) in part {
                slots[i] = Some(o);
            }
        });
    });
    // Every index was taken by exactly one worker (a worker that panicked takes the process
    // down with the scope), so every slot is filled.
    slots.into_iter().flatten().collect()
}

/// Threads for a pass over the fabric's files: one per core, at most four.
fn threads() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .clamp(1, 4)
}

/// Takes each of the `threads` workers' parts as it arrives, telling `progress` how many items
/// `count` says are done at every pause of `PROGRESS_EVERY` meanwhile.
fn gather<P>(
    rx: &std::sync::mpsc::Receiver<P>,
    threads: usize,
    count: &AtomicUsize,
    progress: &mut dyn FnMut(usize),
    mut take: impl FnMut(P),
) {
    let mut open = threads;
    while open > 0 {
        match rx.recv_timeout(PROGRESS_EVERY) {
            Ok(part) => {
                take(part);
                open -= 1;
            }
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                progress(count.load(Ordering::Relaxed))
            }
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => break,
        }
    }
}
