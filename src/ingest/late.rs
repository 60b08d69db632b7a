//! The late writer: stages the writes the plan adds (unmanaged items and their reasons) on
//! threads of their own while the plan runs. Staged after the plan, they were the longest step
//! between the plan and the commit; on one thread, a batch that refuses half its documents (two
//! files each) still waited for them long after the plan. Creating small files is kernel work
//! that only partly serialises on the folder (the entry is made under its lock; the inode, the
//! data and the close are not), so past a few thousand late writes a few writers finish
//! sooner than one.

use std::cell::{Cell, RefCell};
use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;

use super::stage::{CheckedFolders, Places};
use crate::error::{Error, Result};
use crate::fabric::Fabric;
use crate::store::Batch;

/// Bytes for the late writer: an item's own, or a text the journal shares.
pub enum LateBytes {
    Owned(Vec<u8>),
    Text(Arc<str>),
}

impl LateBytes {
    fn as_bytes(&self) -> &[u8] {
        match self {
            LateBytes::Owned(v) => v,
            LateBytes::Text(t) => t.as_bytes(),
        }
    }
}

/// A fabric path, the bytes to stage there, and where the batch may already hold them
/// (another fabric path, whose staged write then moves here instead).
struct Job {
    rel: String,
    bytes: LateBytes,
    staged_at: Option<String>,
}

/// What one writer staged (fabric paths), the staged writes it could not move and which must
/// be taken back (targets), and its first failure.
type Outcome = (HashSet<String>, Vec<PathBuf>, Option<Error>);

/// What the writers share: the batch (held only to place a folder and to record a write, never
/// while writing), the folders checked, and whether one of them failed (then nobody writes any
/// more).
struct Shared {
    batch: Mutex<Batch>,
    checked: Mutex<CheckedFolders>,
    failed: AtomicBool,
}

/// Holds the batch until `finish`.
pub struct LateWriter {
    queue: Option<SyncSender<Job>>,
    jobs: Arc<Mutex<Receiver<Job>>>,
    fabric: Fabric,
    /// Jobs queued so far: past `ONE_WRITER_FOR`, more writers join.
    sent: Cell<usize>,
    threads: RefCell<Vec<JoinHandle<Outcome>>>,
    shared: Option<Arc<Shared>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panicking writer fails the whole ingest anyway (`finish` resumes the panic).
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// How many writers: more than the cores gains nothing, as most of the work is the kernel's.
fn writers() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get().clamp(2, 4))
}

/// Late writes one writer takes alone: a batch with a few thousand unmanaged documents does
/// not need more, and each writer costs memory (its own allocator pages).
const ONE_WRITER_FOR: usize = 4096;

impl LateWriter {
    pub fn start(fabric: &Fabric, batch: Batch) -> Result<LateWriter> {
        // Room for every late write of a batch with 10^4 unmanaged documents, so the plan
        // does not wait for the writers (the journal is written meanwhile); bounded, so a
        // batch of 10^5 bad documents does not hold them all.
        let (queue, jobs) = sync_channel::<Job>(16 * 1024);
        let shared = Arc::new(Shared {
            batch: Mutex::new(batch),
            checked: Mutex::new(CheckedFolders::default()),
            failed: AtomicBool::new(false),
        });
        let writer = LateWriter {
            queue: Some(queue),
            jobs: Arc::new(Mutex::new(jobs)),
            fabric: fabric.clone(),
            sent: Cell::new(0),
            threads: RefCell::new(Vec::new()),
            shared: Some(shared),
        };
        writer
            .spawn_writer()
            .map_err(|e| crate::error::io("start a thread for", &fabric.root, e))?;
        Ok(writer)
    }

    fn spawn_writer(&self) -> std::io::Result<()> {
        let Some(shared) = &self.shared else {
            return Ok(());
        };
        let (jobs, shared, root) = (self.jobs.clone(), shared.clone(), self.fabric.clone());
        let thread = std::thread::Builder::new()
            .name("fgd-late-writer".into())
            .spawn(move || write_jobs(&root, &jobs, &shared))?;
        self.threads.borrow_mut().push(thread);
        Ok(())
    }

    /// Stage `bytes` at the fabric path `rel`. A writer that failed is reported by `finish`.
    pub fn send(&self, rel: String, bytes: LateBytes) {
        self.queue_job(Job {
            rel,
            bytes,
            staged_at: None,
        });
    }

    /// Stage at `rel` the bytes the batch staged at the fabric path `staged_at`, which is taken
    /// back: moved when it can be, else written again (`bytes`).
    pub fn send_staged(&self, rel: String, bytes: LateBytes, staged_at: String) {
        self.queue_job(Job {
            rel,
            bytes,
            staged_at: Some(staged_at),
        });
    }

    fn queue_job(&self, job: Job) {
        if let Some(q) = &self.queue {
            let _ = q.send(job);
        }
        self.sent.set(self.sent.get() + 1);
        if self.sent.get() == ONE_WRITER_FOR {
            for _ in 1..writers() {
                // Fewer writers only take longer.
                if self.spawn_writer().is_err() {
                    break;
                }
            }
        }
    }

    /// Wait for the last write: the batch, and which paths it staged.
    pub fn finish(mut self) -> Result<(Batch, HashSet<String>)> {
        self.queue = None;
        let mut staged = HashSet::new();
        let mut take_back = Vec::new();
        let mut failure = None;
        for thread in self.threads.take() {
            match thread.join() {
                Ok((paths, back, failed)) => {
                    staged.extend(paths);
                    take_back.extend(back);
                    failure = failure.or(failed);
                }
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
        if let Some(e) = failure {
            return Err(e);
        }
        match self.shared.take().map(Arc::try_unwrap) {
            Some(Ok(shared)) => {
                let mut batch = shared.batch.into_inner().unwrap_or_else(|e| e.into_inner());
                batch.unstage_all(take_back.iter().map(|p| p.as_path()))?;
                Ok((batch, staged))
            }
            _ => Err(Error::Refused(
                "a late writer still held the batch (a bug in fgd); nothing was written".into(),
            )),
        }
    }
}

impl Drop for LateWriter {
    /// A plan that failed: the writers stop, and the batch's drop removes what they staged.
    fn drop(&mut self) {
        self.queue = None;
        for thread in self.threads.take() {
            let _ = thread.join();
        }
    }
}

/// One writer: stage jobs until the queue closes. After a failure (its own or another's) it
/// only drains the queue, so the plan never blocks on it.
fn write_jobs(root: &Fabric, jobs: &Mutex<Receiver<Job>>, shared: &Shared) -> Outcome {
    let mut staged = HashSet::new();
    let mut take_back = Vec::new();
    let mut failure = None;
    let mut places = Places::default();
    loop {
        let job = lock(jobs).recv();
        let Ok(job) = job else {
            break;
        };
        if shared.failed.load(Ordering::Relaxed) {
            continue;
        }
        match write_job(root, shared, &mut places, &job) {
            Ok(back) => {
                take_back.extend(back);
                staged.insert(job.rel);
            }
            Err(e) => {
                shared.failed.store(true, Ordering::Relaxed);
                failure = Some(e);
            }
        }
    }
    (staged, take_back, failure)
}

/// Stage one job: its staged write moved here, or its bytes written. What it could not move
/// comes back, to be taken back.
fn write_job(
    root: &Fabric,
    shared: &Shared,
    places: &mut Places,
    job: &Job,
) -> Result<Option<PathBuf>> {
    let (batch, checked) = (&shared.batch, &shared.checked);
    if let Some(from) = &job.staged_at {
        // Checked and placed as a write there would be.
        let target = root.path(&job.rel);
        places.place(root, batch, checked, &job.rel, &target)?;
        if lock(batch).restage(&root.path(from), &target)? {
            return Ok(None);
        }
    }
    places.stage(root, batch, checked, &job.rel, job.bytes.as_bytes())?;
    Ok(job.staged_at.as_deref().map(|from| root.path(from)))
}
