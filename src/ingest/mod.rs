//! `ingest`: raw/ -> managed/ + unmanaged/, every document accounted for.
//!
//! Read and classify every file, decide the whole batch (conflicts need all files), write the
//! journal, then carry it out. The plan and the journal are the same thing: a dry run prints
//! the plan and stops before the journal.

pub mod analyze;
pub mod stage;
pub mod unmanaged;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;
use std::time::Instant;

use crate::classify::ReasonCode;
use crate::discover::{self, Found, ReadOutcome};
use crate::error::Result;
use crate::event::{Change, Event, Fate, FileOutcome, Phase, PlanAction, Sink, Skip, Summary};
use crate::fabric::{self, kustomization, Fabric};
use crate::journal::{self, Content, Journal, Remove, Source, Write};
use crate::store::{self, failpoint};
use crate::validate::Validator;
use crate::yaml::{Limits, Pos};

use analyze::{DocVerdict, FileAnalysis, FileVerdict};

#[derive(Debug, Clone, Default)]
pub struct Options {
    pub dry_run: bool,
    pub limits: Limits,
    /// What validation checks (the caller has layered config, the fabric's file and flags).
    pub validation: crate::validate::Settings,
}

/// Read and classify every input under `dir` (files prefixed `prefix` in reports).
/// Skipped files are reported through `sink` and counted in `summary`. With a `stager`, each
/// analysed input's writes are staged on the reading thread (see `stage`).
pub fn read_inputs(
    dir: &Path,
    prefix: &str,
    limits: &Limits,
    validator: &Validator,
    stager: Option<&stage::Stager>,
    summary: &mut Summary,
    sink: &mut dyn Sink,
) -> Result<Vec<FileAnalysis>> {
    read_inputs_within(dir, prefix, limits, validator, stager, None, summary, sink)
}

/// The longest path the system takes (PATH_MAX, its NUL excluded).
const PATH_MAX: usize = libc::PATH_MAX as usize - 1;

/// Why fgd cannot take the raw file `rel` of `fabric` in batch `batch`: its archive copy or
/// its unmanaged item (and reason) would need a path over PATH_MAX. None for nearly every file,
/// by a sum: only a path within 200 bytes of the limit is looked at closer.
fn too_deep(fabric: &Fabric, batch: &str, rel: &str) -> Option<String> {
    let root = fabric.root.as_os_str().len();
    if root + rel.len() + 200 < PATH_MAX {
        return None;
    }
    let inner = rel.strip_prefix("raw/").unwrap_or(rel);
    let archive = root + 1 + stage::archive_path(batch, inner).len();
    // The longest an item's reason can be: its folders renamed, a document number and a free
    // name's `~N` added.
    let folders = inner.matches('/').count();
    let reason = root
        + 1
        + fabric::UNMANAGED.len()
        + 1
        + inner.len()
        + folders * FOLDER_ESCAPE.len()
        + ".doc99999~999".len()
        + fabric::UNMANAGED_SUFFIX.len()
        + fabric::REASON_SUFFIX.len();
    // While staged, a new folder of the chain (the batch's, or a fresh clone's archive folder)
    // has a temp name, which may be longer than its own.
    const STAGING: usize = 32;
    let (need, place) = if archive >= reason {
        (archive + STAGING, "its copy in .hnp/archive/")
    } else {
        (reason + STAGING, "its place in unmanaged/")
    };
    (need > PATH_MAX).then(|| {
        format!(
            "too deep: {place} would need a path of {need} bytes, over the system's limit of {PATH_MAX}; left in raw/: move it to a shallower folder"
        )
    })
}

/// Why a raw file (by its fabric-relative path) must be left alone, if it must.
type Refuse<'a> = &'a dyn Fn(&str) -> Option<String>;

/// `read_inputs`, leaving out (as skipped) each file `refuse` names a reason for.
#[allow(clippy::too_many_arguments)]
fn read_inputs_within(
    dir: &Path,
    prefix: &str,
    limits: &Limits,
    validator: &Validator,
    stager: Option<&stage::Stager>,
    refuse: Option<Refuse>,
    summary: &mut Summary,
    sink: &mut dyn Sink,
) -> Result<Vec<FileAnalysis>> {
    sink.emit(Event::PhaseStarted {
        phase: Phase::Discover,
        total: None,
    });
    let found = discover::discover(dir, prefix)?;
    let files: Vec<_> = found
        .into_iter()
        .filter_map(|f| match f {
            Found::File { path, rel, format } => match refuse.and_then(|refuse| refuse(&rel)) {
                None => Some((path, rel, format)),
                Some(detail) => {
                    let skip = Skip::Ignored { detail };
                    count_skip(summary, &skip);
                    sink.emit(Event::FileSkipped { file: rel, skip });
                    None
                }
            },
            Found::Skipped { rel, skip } => {
                count_skip(summary, &skip);
                sink.emit(Event::FileSkipped { file: rel, skip });
                None
            }
        })
        .collect();
    sink.emit(Event::PhaseStarted {
        phase: Phase::Classify,
        total: Some(files.len()),
    });
    let total = files.len();
    let mut out = Vec::with_capacity(total);
    let mut report = |index: usize, rel: String, read: Read| {
        sink.emit(Event::FileStarted {
            file: rel.clone(),
            index,
            total,
        });
        match read {
            Read::Analysis(a) => out.push(a),
            Read::Skipped(skip) => {
                count_skip(summary, &skip);
                sink.emit(Event::FileSkipped { file: rel, skip });
            }
        }
    };
    // Parsing is the CPU-bound part: files are read and analysed on every core, and reported
    // in discovery order, so output and events do not depend on the thread count.
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(8)
        .min(total / 4)
        .max(1);
    if threads == 1 {
        let mut places = stage::Places::default();
        for (index, (path, rel, format)) in files.into_iter().enumerate() {
            let read = read_one(&path, &rel, format, limits, validator, stager, &mut places)?;
            report(index, rel, read);
        }
        return Ok(out);
    }
    let next = std::sync::atomic::AtomicUsize::new(0);
    let failed = std::sync::atomic::AtomicBool::new(false);
    let (tx, rx) = std::sync::mpsc::channel::<(usize, Result<Read>)>();
    std::thread::scope(|scope| -> Result<()> {
        for _ in 0..threads {
            let (tx, next, failed, files) = (tx.clone(), &next, &failed, &files);
            let mut places = stage::Places::default();
            scope.spawn(move || loop {
                use std::sync::atomic::Ordering::Relaxed;
                let i = next.fetch_add(1, Relaxed);
                let Some((path, rel, format)) = files.get(i) else {
                    return;
                };
                if failed.load(Relaxed) {
                    return;
                }
                let read = read_one(path, rel, *format, limits, validator, stager, &mut places);
                if read.is_err() {
                    failed.store(true, Relaxed);
                }
                if tx.send((i, read)).is_err() {
                    return;
                }
            });
        }
        drop(tx);
        let mut early: BTreeMap<usize, Read> = BTreeMap::new();
        let mut due = 0;
        for (i, read) in rx {
            early.insert(i, read?);
            while let Some(read) = early.remove(&due) {
                report(due, files[due].1.clone(), read);
                due += 1;
            }
        }
        Ok(())
    })?;
    Ok(out)
}

/// One raw file, read once it holds still and analysed, or the reason it was skipped.
enum Read {
    Analysis(FileAnalysis),
    Skipped(Skip),
}

fn read_one(
    path: &Path,
    rel: &str,
    format: discover::Format,
    limits: &Limits,
    validator: &Validator,
    stager: Option<&stage::Stager>,
    places: &mut stage::Places,
) -> Result<Read> {
    Ok(match discover::read_stable(path, limits.max_file_bytes)? {
        ReadOutcome::Bytes(bytes) => {
            let mut analysis = analyze::analyze_with(rel, bytes, format, limits, validator);
            if let Some(stager) = stager {
                stager.prepare(&mut analysis, places)?;
                // Staged: the plan re-reads the rare file it needs again (see `Source`).
                analysis.release();
            }
            Read::Analysis(analysis)
        }
        ReadOutcome::TooLarge(len) => Read::Analysis(analyze::too_large(rel, len, limits)),
        ReadOutcome::Pending(detail) => Read::Skipped(Skip::Pending { detail }),
        ReadOutcome::NotRegular(detail) => Read::Skipped(Skip::NotRegular { detail }),
    })
}

fn count_skip(summary: &mut Summary, skip: &Skip) {
    match skip {
        Skip::Ignored { .. } => summary.ignored += 1,
        Skip::NotRegular { .. } => summary.not_regular += 1,
        Skip::Pending { .. } => summary.pending += 1,
    }
}

/// The decided fate of every document of every file.
#[derive(Debug)]
pub struct Decision {
    /// Per file: either whole-unmanaged (code, reason) or per-document fates.
    pub files: Vec<FileDecision>,
}

/// A document of a file kept whole: (index, position, object, code, reason).
pub type WholeDoc = (usize, Pos, Option<String>, ReasonCode, String);

#[derive(Debug)]
pub enum FileDecision {
    Whole {
        code: ReasonCode,
        reason: String,
        pos: Option<Pos>,
        docs: Vec<WholeDoc>,
    },
    Docs(Vec<DocFate>),
}

#[derive(Debug, Clone)]
pub enum DocFate {
    /// Managed at the document's own path (`DocAnalysis::managed_path`).
    Managed {
        duplicate_of: Option<usize>,
    },
    Unmanaged {
        code: ReasonCode,
        reason: String,
    },
    Empty,
}

/// Resolve conflicts across the batch and decide each file's fate. Pure. Whether several
/// definitions of one object are the same bytes is asked of `claims` (what staging found) for
/// a path staging saw, else of the files' bytes.
pub fn decide(files: &[FileAnalysis], claims: &stage::Claims) -> Decision {
    // managed path (one per object) -> every (file, doc) that defines it, in path order.
    let mut defs: BTreeMap<&str, Vec<(usize, usize)>> = BTreeMap::new();
    for (fi, f) in files.iter().enumerate() {
        for (di, d) in f.docs().iter().enumerate() {
            let Some(path) = d.managed_path() else {
                continue;
            };
            // Staging counted the definitions: only the paths defined twice are listed.
            if claims.of(d).is_some_and(|c| c.defs < 2) {
                continue;
            }
            defs.entry(path).or_default().push((fi, di));
        }
    }
    let mut conflict: HashMap<(usize, usize), String> = HashMap::new();
    let mut duplicate: HashMap<(usize, usize), usize> = HashMap::new();
    for list in defs.values() {
        if list.len() < 2 {
            continue;
        }
        let out = |&(fi, di): &(usize, usize)| files[fi].docs()[di].output(&files[fi].bytes);
        let claim = claims.of(&files[list[0].0].docs()[list[0].1]);
        let same = match claim {
            Some(claim) => !claim.clash,
            None => {
                let first = out(&list[0]);
                list.iter().skip(1).all(|k| out(k) == first)
            }
        };
        if same {
            // The same bytes twice: one object, written once.
            for k in list.iter().skip(1) {
                duplicate.insert(*k, list[0].0);
            }
            continue;
        }
        let identity = files[list[0].0].docs()[list[0].1]
            .verdict
            .object()
            .unwrap_or_default();
        for k in list {
            let others: Vec<String> = list
                .iter()
                .filter(|o| *o != k)
                .map(|&(fi, di)| {
                    let d = &files[fi].docs()[di];
                    format!(
                        "{} (document {}, line {})",
                        files[fi].rel,
                        d.index + 1,
                        d.pos.line
                    )
                })
                .collect();
            conflict.insert(
                *k,
                format!(
                    "conflict: {identity} is also defined, differently, in {}; neither definition was applied and managed/ is unchanged. Keep one and adopt it again",
                    others.join(", ")
                ),
            );
        }
    }

    let mut out = Vec::with_capacity(files.len());
    for (fi, f) in files.iter().enumerate() {
        let docs = match &f.verdict {
            FileVerdict::Whole { code, reason, pos } => {
                out.push(FileDecision::Whole {
                    code: *code,
                    reason: reason.clone(),
                    pos: *pos,
                    docs: Vec::new(),
                });
                continue;
            }
            FileVerdict::Docs(docs) => docs,
        };
        let fates: Vec<DocFate> = docs
            .iter()
            .enumerate()
            .map(|(di, d)| match &d.verdict {
                DocVerdict::Managed { .. } => match conflict.get(&(fi, di)) {
                    Some(reason) => DocFate::Unmanaged {
                        code: ReasonCode::Conflict,
                        reason: reason.clone(),
                    },
                    None => DocFate::Managed {
                        duplicate_of: duplicate.get(&(fi, di)).copied(),
                    },
                },
                DocVerdict::Unmanaged { code, reason, .. } => DocFate::Unmanaged {
                    code: *code,
                    reason: reason.clone(),
                },
                DocVerdict::Empty => DocFate::Empty,
            })
            .collect();
        if fates.iter().any(|f| matches!(f, DocFate::Managed { .. })) {
            out.push(FileDecision::Docs(fates));
            continue;
        }
        // Nothing in it can be managed: keep the file whole, comments and all, so the operator
        // fixes it as written. The reason lists every document.
        let listed: Vec<_> = docs
            .iter()
            .zip(&fates)
            .filter_map(|(d, fate)| match fate {
                DocFate::Unmanaged { code, reason } => {
                    Some((d.index, d.pos, d.verdict.object(), *code, reason.clone()))
                }
                _ => None,
            })
            .collect();
        let (code, reason, pos) = match listed.as_slice() {
            [(_, pos, _, code, reason)] => (*code, reason.clone(), Some(*pos)),
            [(_, pos, _, code, reason), ..] => {
                // The first problem leads; the reason file lists every document's own.
                let summary = format!(
                    "none of its {} documents can be managed; document 1 of them: {reason}",
                    listed.len()
                );
                (*code, summary, Some(*pos))
            }
            [] => (
                ReasonCode::NoDocuments,
                "the file holds no document".into(),
                None,
            ),
        };
        out.push(FileDecision::Whole {
            code,
            reason,
            pos,
            docs: listed,
        });
    }
    Decision { files: out }
}

/// Run an ingest of `raw/`: open the fabric, take its lock (not for a dry run), ingest.
pub fn run(dir: &Path, opts: &Options, sink: &mut dyn Sink) -> Result<Summary> {
    let fabric = Fabric::open(dir)?;
    if opts.dry_run {
        return ingest(&fabric, opts, sink);
    }
    let lock = store::FabricLock::acquire(&fabric.path(fabric::LOCK), "ingest")?;
    run_locked(&fabric, &lock, opts, sink)
}

/// Ingest with the fabric lock already held (by `sync`, or by `run`).
pub fn run_locked(
    fabric: &Fabric,
    _lock: &store::FabricLock,
    opts: &Options,
    sink: &mut dyn Sink,
) -> Result<Summary> {
    journal::recover(fabric, sink)?;
    ingest(fabric, opts, sink)
}

fn ingest(fabric: &Fabric, opts: &Options, sink: &mut dyn Sink) -> Result<Summary> {
    let started = Instant::now();
    if opts.dry_run {
        if let Some(j) = journal::load(fabric)? {
            sink.emit(Event::Error {
                file: Some(fabric::JOURNAL.into()),
                message: format!(
                    "batch {} ({}) was interrupted; a real run finishes it before anything else",
                    j.batch, j.command
                ),
            });
        }
    }
    let mut summary = Summary {
        dry_run: opts.dry_run,
        ..Default::default()
    };
    let mut journal = Journal::new("ingest");
    // The log spool (a real run's) is made before reading: creating its folder syncs it, which
    // is quick now and slow once the disk is busy writing back what the batch staged.
    // The folders a real run works in, each held open once (see `store::Dirs`).
    let dirs = store::Dirs::within(&fabric.root);
    let spool = if opts.dry_run {
        None
    } else {
        Some(journal::create_log_spool(fabric, &dirs)?)
    };
    // A real run writes while it reads (see `stage`); a dry run writes nothing.
    let stager = (!opts.dry_run).then(|| stage::Stager::new(fabric, &journal.batch, dirs.clone()));
    // A file whose copies would not fit in a path is left alone; the rest goes on.
    let batch_id = journal.batch.clone();
    let refuse = |rel: &str| too_deep(fabric, &batch_id, rel);
    let validator = Validator::new(opts.validation.clone())
        .map_err(|e| crate::error::Error::Usage(e.to_string()))?;
    let files = read_inputs_within(
        &fabric.path(fabric::RAW),
        "raw/",
        &opts.limits,
        &validator,
        stager.as_ref(),
        Some(&refuse),
        &mut summary,
        sink,
    )?;
    // A batch rewrites the kustomization, so one fgd did not write refuses it: here, before
    // the plan reports any document as managed (what it stages meanwhile is only temps, which
    // the dropped batch removes).
    if !files.is_empty() {
        if let Err(e) = kustomization::check_ours(fabric) {
            if !opts.dry_run {
                return Err(e);
            }
            sink.emit(Event::Error {
                file: Some(fabric::KUSTOMIZATION.into()),
                message: format!("a real run would be refused, doing nothing: {e}"),
            });
        }
    }
    sink.emit(Event::PhaseStarted {
        phase: Phase::Plan,
        total: Some(files.len()),
    });
    let (batch, claims) = match stager {
        Some(s) => {
            let (batch, claims) = s.into_parts();
            (Some(batch), claims)
        }
        None => (None, stage::Claims::default()),
    };
    let decision = decide(&files, &claims);
    // The disk writes back what is staged while the plan and the journal are made.
    let flush = batch.as_ref().and_then(store::Batch::start_flush);
    // The plan's own writes are staged as it goes, by the late writer, which holds the batch
    // until the plan ends.
    let late = batch
        .map(|b| stage::LateWriter::start(fabric, b))
        .transpose()?;
    let mut outputs = HashMap::new();
    let mut claims = claims;
    plan(
        fabric,
        &mut journal,
        files,
        &decision,
        &mut claims,
        &mut outputs,
        late.as_ref(),
        spool,
        &mut summary,
        opts.dry_run,
        sink,
    )?;
    drop(decision);
    if journal.steps() == 0 && journal.log_file.is_some() {
        // Nothing to do, so no batch: its log spool goes.
        if let Ok(Some((dir, name))) = dirs.parent_of(&fabric.path(journal::LOG_SPOOL)) {
            let _ = dir.unlink(name);
        }
    }
    if let (Some(late), true) = (late, journal.steps() > 0) {
        sink.emit(Event::PhaseStarted {
            phase: Phase::Journal,
            total: Some(journal.steps()),
        });
        // An unsafe target is refused with its reason before anything more is written.
        journal::preflight(fabric, &journal)?;
        // Only temps so far, and nothing journaled: a kill here leaves nothing to finish.
        failpoint("ingest.before-journal");
        // The journal and the index are made while the late writer catches up; both wait,
        // unpublished, for the checks below.
        let unpublished = journal::write_unpublished(fabric, &journal, &dirs)?;
        let adding = journal.writes.iter().filter_map(|w| under_managed(&w.path));
        let index = kustomization::predict(fabric, adding)?;
        let (mut batch, late_staged) = late.finish()?;
        take_back_conflicts(fabric, &journal, &late_staged, &claims, &mut batch)?;
        drop(claims);
        // The index goes in last, with the same sync.
        if let Some(index) = index {
            batch.stage_write_last(&fabric.path(fabric::KUSTOMIZATION), index.as_bytes())?;
        }
        if let Some(flush) = flush {
            let _ = flush.join();
        }
        // One sync for the staged outputs, the journal and its log record; the journal is put
        // in force only then, and the commit after it needs no sync of its own.
        batch.sync_with(&unpublished.files())?;
        unpublished.publish()?;
        failpoint("ingest.after-journal");
        sink.emit(Event::PhaseStarted {
            phase: Phase::Write,
            total: Some(journal.writes.len()),
        });
        journal::finish(fabric, &journal, batch, journal::Index::Staged, &[], sink)?;
        summary.batch = Some(journal.batch.clone());
    }
    summary.millis = started.elapsed().as_millis();
    sink.emit(Event::BatchFinished {
        summary: summary.clone(),
    });
    Ok(summary)
}

/// Hand the writes planned since `sent` outside managed/ (unmanaged items, reasons) to the
/// late writer, which stages them while the plan goes on. An item's bytes leave `outputs`; a
/// reason's text is copied (the journal keeps it).
fn send_late(
    j: &Journal,
    sent: &mut usize,
    outputs: &mut HashMap<String, Vec<u8>>,
    late: Option<&stage::LateWriter>,
) {
    let Some(late) = late else {
        return;
    };
    for w in &j.writes[*sent..] {
        if under_managed(&w.path).is_some() {
            continue;
        }
        let bytes = match &w.content {
            Content::Text { text, .. } => text.as_bytes().to_vec(),
            Content::Source { .. } => match outputs.remove(&w.path) {
                Some(bytes) => bytes,
                // Left unstaged, which `take_back_conflicts` reports.
                None => continue,
            },
        };
        late.send(w.path.clone(), bytes);
    }
    *sent = j.writes.len();
}

/// A fabric path under managed/, relative to it.
fn under_managed(path: &str) -> Option<&str> {
    path.strip_prefix(fabric::MANAGED)
        .and_then(|p| p.strip_prefix('/'))
}

/// After the plan: take back the staged writes the plan dropped (conflicts), and check that
/// every planned write is staged, by the reading threads or the late writer.
fn take_back_conflicts(
    fabric: &Fabric,
    journal: &Journal,
    late_staged: &HashSet<String>,
    claims: &stage::Claims,
    batch: &mut store::Batch,
) -> Result<()> {
    let mut taken_back = 0;
    for (path, claim) in claims.conflicts() {
        if claim.staged && !claim.planned {
            batch.unstage(&fabric.path(&format!("{}/{path}", fabric::MANAGED)))?;
            taken_back += 1;
        }
    }
    // Only a conflict is staged and not planned.
    let dropped = claims.values().filter(|c| c.staged && !c.planned).count();
    if dropped != taken_back {
        return Err(crate::error::Error::Refused(
            "a staged object was neither planned nor taken back (a bug in fgd); nothing was written".into(),
        ));
    }
    // An object's write is planned once per claim, and only when its claim staged it.
    let objects = journal
        .writes
        .iter()
        .filter(|w| under_managed(&w.path).is_some())
        .count();
    if objects != claims.values().filter(|c| c.planned && c.staged).count() {
        return Err(crate::error::Error::Refused(
            "an object was planned but not staged (a bug in fgd); nothing was written".into(),
        ));
    }
    let unstaged = journal
        .writes
        .iter()
        .find(|w| under_managed(&w.path).is_none() && !late_staged.contains(&w.path));
    match unstaged {
        Some(w) => Err(crate::error::Error::Refused(format!(
            "{}: planned but not staged (a bug in fgd); nothing was written",
            w.path
        ))),
        None => Ok(()),
    }
}

/// A file's bytes for the plan: as read, or, when staging released them, read again and
/// checked against what was analysed.
struct SourceBytes<'a> {
    fabric: &'a Fabric,
    file: &'a FileAnalysis,
    again: Option<Vec<u8>>,
}

impl SourceBytes<'_> {
    fn get(&mut self) -> Result<&[u8]> {
        if !self.file.released() {
            return Ok(&self.file.bytes);
        }
        if self.again.is_none() {
            let path = self.fabric.path(&self.file.rel);
            // Never waiting on a FIFO put in its place meanwhile.
            let bytes = journal::read_regular(&path)?
                .filter(|b| b.len() == self.file.len && analyze::sha256_hex(b) == self.file.sha256);
            let Some(bytes) = bytes else {
                return Err(crate::error::Error::Refused(format!(
                    "{}: changed while it was being ingested; nothing was written: run the ingest again",
                    self.file.rel
                )));
            };
            self.again = Some(bytes);
        }
        Ok(self.again.as_deref().unwrap_or_default())
    }
}

/// Turn decisions into the journal, emitting each document's fate and the planned actions.
/// `claims` holds what staging found for each `managed/` path (empty for a dry run); for a
/// real run, `outputs` gets the bytes of every planned write staging has not made, `late`
/// stages unmanaged items and reasons as they are planned, and `spool` takes the log record.
#[allow(clippy::too_many_arguments)]
fn plan(
    fabric: &Fabric,
    j: &mut Journal,
    files: Vec<FileAnalysis>,
    decision: &Decision,
    claims: &mut stage::Claims,
    outputs: &mut HashMap<String, Vec<u8>>,
    late: Option<&stage::LateWriter>,
    spool: Option<std::fs::File>,
    summary: &mut Summary,
    dry_run: bool,
    sink: &mut dyn Sink,
) -> Result<()> {
    let mut names = unmanaged::Names::new(fabric);
    // Writes before this index went to the late writer (or are managed objects).
    let mut sent = 0;
    // Managed paths already planned, where staging did not note it in their claim.
    let mut written: HashSet<String> = HashSet::new();
    let mut targets = Targets::default();
    // Sized up front: doubling a vector of 10^5 entries at the end of a plan was the peak of
    // a big ingest's memory. At most one write per document and two per unmanaged one.
    let docs: usize = files.iter().map(|f| f.docs().len().max(1)).sum();
    let unmanaged: usize = files
        .iter()
        .map(|f| {
            f.docs()
                .iter()
                .filter(|d| d.managed_path().is_none())
                .count()
                + 1
        })
        .sum();
    j.writes.reserve(docs + unmanaged);
    // The log record, `{"documents": [...], "inputs": [...]}`: for a real run, written to the
    // log spool as the plan goes (see `journal::LOG_SPOOL`); a dry run writes no log.
    let spool_error =
        |e: std::io::Error| crate::error::io("write", &fabric.path(journal::LOG_SPOOL), e);
    // Unbuffered: the document list hands it 64 KiB at a time (`JsonList`).
    let mut spool_out: Box<dyn std::io::Write + '_> = match &spool {
        Some(file) => Box::new(file),
        None => Box::new(std::io::sink()),
    };
    spool_out
        .write_all(b"{\"documents\":")
        .map_err(spool_error)?;
    let mut log_docs = JsonList::new(spool_out);
    let mut log_inputs = JsonList::new(Vec::new());
    // Built only for a dry run, which prints them: a real run would allocate them for nothing.
    let act = |a: &dyn Fn() -> PlanAction, sink: &mut dyn Sink| {
        if dry_run {
            sink.emit(Event::Planned { action: a() });
        }
    };
    // Each input's analysis is dropped once planned, as the journal grows.
    for (f, d) in files.into_iter().zip(&decision.files) {
        send_late(j, &mut sent, outputs, late);
        summary.files += 1;
        let mut bytes_of_f = SourceBytes {
            fabric,
            file: &f,
            again: None,
        };
        let inner = f.rel.strip_prefix("raw/").unwrap_or(&f.rel);
        if let Some(len) = f.too_large {
            // Never read: moved as it is, so it is its own original.
            let FileDecision::Whole { code, reason, .. } = d else {
                continue;
            };
            summary.files_unmanaged_whole += 1;
            let item = names.item(inner, None, &[])?;
            j.renames.push(journal::Rename {
                from: f.rel.clone(),
                to: item.path.clone(),
            });
            let record = unmanaged::reason_record(
                &item,
                &f.rel,
                "",
                &j.batch,
                *code,
                reason,
                None,
                Vec::new(),
            );
            push_text(
                j,
                &item.reason_path,
                record,
                Owner::Rename(j.renames.len() - 1),
            );
            act(
                &|| PlanAction::Move {
                    from: f.rel.clone(),
                    to: item.path.clone(),
                },
                sink,
            );
            log_inputs.push(
                &serde_json::json!({"path": f.rel, "bytes": len, "moved_unread_to": item.path}),
            );
            sink.emit(Event::FileFinished {
                file: f.rel.clone(),
                outcome: FileOutcome::WholeUnmanaged {
                    code: *code,
                    reason: reason.clone(),
                    path: Some(item.path.clone()),
                },
            });
            continue;
        }
        let archive = stage::archive_path(&j.batch, inner);
        j.sources.push(Source {
            path: f.rel.clone(),
            sha256: f.sha256.clone(),
            len: f.len as u64,
            archive: Some(archive.clone()),
        });
        log_inputs.push(&serde_json::json!({"path": f.rel, "sha256": f.sha256, "bytes": f.len, "archive": archive}));
        let src = j.sources.len() - 1;
        match d {
            FileDecision::Whole {
                code,
                reason,
                pos,
                docs,
            } => {
                summary.files_unmanaged_whole += 1;
                let item = names.item(inner, None, bytes_of_f.get()?)?;
                let docs_json: Vec<_> = docs
                    .iter()
                    .map(|(i, p, obj, c, r)| serde_json::json!({"document": i + 1, "line": p.line, "column": p.column, "object": obj, "code": c, "reason": r}))
                    .collect();
                emit_whole(&f.rel, docs, Some(&item.path), summary, sink);
                let reason_json = unmanaged::reason_record(
                    &item, &f.rel, &f.sha256, &j.batch, *code, reason, *pos, docs_json,
                );
                if item.fresh {
                    j.writes.push(Write {
                        path: item.path.clone(),
                        sha256: journal::Digest::from_hex(&f.sha256).ok_or_else(|| {
                            crate::error::Error::Refused(format!(
                                "{}: its hash {:?} is not 64 hex digits (a bug in fgd); nothing was written",
                                f.rel, f.sha256
                            ))
                        })?,
                        content: Content::Source {
                            source: src,
                            parts: Box::new([[0, f.len]]),
                        },
                    });
                    if !dry_run {
                        outputs.insert(item.path.clone(), bytes_of_f.get()?.to_vec());
                    }
                }
                push_text(j, &item.reason_path, reason_json, Owner::Source(src));
                act(
                    &|| PlanAction::Move {
                        from: f.rel.clone(),
                        to: item.path.clone(),
                    },
                    sink,
                );
                log_docs.push(&serde_json::json!({"source": f.rel, "whole": true, "documents": docs.len(), "code": code, "reason": reason, "path": item.path}));
                sink.emit(Event::FileFinished {
                    file: f.rel.clone(),
                    outcome: FileOutcome::WholeUnmanaged {
                        code: *code,
                        reason: reason.clone(),
                        path: Some(item.path.clone()),
                    },
                });
            }
            FileDecision::Docs(fates) => {
                let (mut m, mut u, mut e) = (0, 0, 0);
                for (di, (doc, fate)) in f.docs().iter().zip(fates).enumerate() {
                    let object = doc.verdict.object();
                    let parts: Box<[[usize; 2]]> =
                        doc.parts.iter().map(|r| [r.start, r.end]).collect();
                    let out_fate = match fate {
                        DocFate::Managed { .. } => {
                            m += 1;
                            let path = doc.managed_path().unwrap_or_default();
                            let rel = format!("{}/{}", fabric::MANAGED, path);
                            let claim = claims.of_mut(doc);
                            let claimed = claim.is_some();
                            let unchanged = (journal::Digest([0; 32]), Change::Unchanged);
                            let (sha, change) = if let Some(claim) = claim {
                                if claim.planned {
                                    unchanged
                                } else {
                                    claim.planned = true;
                                    (claim.sha256, claim.change)
                                }
                            } else if written.contains(path) {
                                unchanged
                            } else {
                                let bytes = doc.output(bytes_of_f.get()?);
                                let change = targets.change(Some(fabric), &rel, &bytes);
                                (journal::Digest::of(&bytes), change)
                            };
                            if change != Change::Unchanged {
                                if !claimed {
                                    written.insert(path.to_string());
                                }
                                j.writes.push(Write {
                                    path: rel.clone(),
                                    sha256: sha,
                                    content: Content::Source { source: src, parts },
                                });
                                act(
                                    &|| {
                                        if change == Change::Create {
                                            PlanAction::Write { path: rel.clone() }
                                        } else {
                                            PlanAction::Replace { path: rel.clone() }
                                        }
                                    },
                                    sink,
                                );
                            } else {
                                act(&|| PlanAction::Unchanged { path: rel.clone() }, sink);
                            }
                            Fate::Managed { path: rel, change }
                        }
                        DocFate::Unmanaged { code, reason } => {
                            u += 1;
                            let bytes = match f.kept_output(di) {
                                Some(kept) => kept.to_vec(),
                                None => doc.output(bytes_of_f.get()?),
                            };
                            let item = names.item(inner, Some(doc.index), &bytes)?;
                            if item.fresh {
                                j.writes.push(Write {
                                    path: item.path.clone(),
                                    sha256: journal::Digest::of(&bytes),
                                    content: Content::Source { source: src, parts },
                                });
                                if !dry_run {
                                    outputs.insert(item.path.clone(), bytes);
                                }
                            }
                            let reason_json = unmanaged::reason_record(
                                &item,
                                &f.rel,
                                &f.sha256,
                                &j.batch,
                                *code,
                                reason,
                                Some(doc.pos),
                                vec![
                                    serde_json::json!({"document": doc.index + 1, "line": doc.pos.line, "column": doc.pos.column, "object": object, "code": code, "reason": reason}),
                                ],
                            );
                            push_text(j, &item.reason_path, reason_json, Owner::Source(src));
                            act(
                                &|| PlanAction::Write {
                                    path: item.path.clone(),
                                },
                                sink,
                            );
                            Fate::Unmanaged {
                                code: *code,
                                reason: reason.clone(),
                                path: Some(item.path),
                            }
                        }
                        DocFate::Empty => {
                            e += 1;
                            Fate::Empty
                        }
                    };
                    summary.count(&out_fate);
                    log_docs.push(&LogDoc {
                        source: &f.rel,
                        document: doc.index + 1,
                        line: doc.pos.line,
                        object: &object,
                        fate: &out_fate,
                    });
                    sink.emit(Event::DocumentClassified {
                        file: f.rel.clone(),
                        index: doc.index,
                        pos: Some(doc.pos),
                        object,
                        fate: out_fate,
                    });
                }
                sink.emit(Event::FileFinished {
                    file: f.rel.clone(),
                    outcome: FileOutcome::Split {
                        managed: m,
                        unmanaged: u,
                        empty: e,
                    },
                });
            }
        }
        act(
            &|| PlanAction::Archive {
                from: f.rel.clone(),
                to: archive.clone(),
            },
            sink,
        );
        act(
            &|| PlanAction::Remove {
                path: f.rel.clone(),
            },
            sink,
        );
        j.removes.push(Remove {
            path: f.rel.clone(),
            sha256: Some(f.sha256.clone()),
            source: None,
        });
    }
    send_late(j, &mut sent, outputs, late);
    j.summary = summary.clone();
    j.summary.dry_run = false;
    let mut spool_out = log_docs.close().map_err(spool_error)?;
    let inputs = log_inputs.close().map_err(spool_error)?;
    spool_out
        .write_all(b",\"inputs\":")
        .and_then(|()| spool_out.write_all(&inputs))
        .and_then(|()| spool_out.write_all(b"}"))
        .and_then(|()| spool_out.flush())
        .map_err(spool_error)?;
    drop(spool_out);
    if spool.is_some() {
        j.log_file = Some(journal::LOG_SPOOL.to_string());
    }
    Ok(())
}

/// Is writing `bytes` at a fabric path new, an update or no change? Without a fabric,
/// everything is new. Each folder is listed once, so a target that does not exist yet costs
/// no open: a first ingest of 10^5 objects asks the file system about a dozen folders, not
/// 10^5 missing files.
#[derive(Default)]
pub struct Targets {
    listed: HashMap<std::path::PathBuf, Option<HashSet<std::ffi::OsString>>>,
}

impl Targets {
    pub fn change(&mut self, fabric: Option<&Fabric>, rel: &str, bytes: &[u8]) -> Change {
        let Some(fabric) = fabric else {
            return Change::Create;
        };
        if self.absent(fabric, rel) {
            return Change::Create;
        }
        compare(&fabric.path(rel), bytes)
    }

    /// Whether the fabric path `rel` surely does not exist: its folder, listed once, lacks it.
    pub fn absent(&mut self, fabric: &Fabric, rel: &str) -> bool {
        let path = fabric.path(rel);
        if let (Some(dir), Some(name)) = (path.parent(), path.file_name()) {
            let names = self.listed.entry(dir.to_path_buf()).or_insert_with(|| {
                match std::fs::read_dir(dir) {
                    Ok(es) => Some(es.flatten().map(|e| e.file_name()).collect()),
                    // No folder yet: nothing in it exists.
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => Some(HashSet::new()),
                    // Unreadable: ask about each file instead.
                    Err(_) => None,
                }
            });
            return names.as_ref().is_some_and(|n| !n.contains(name));
        }
        false
    }
}

/// Would writing `bytes` at `path` create, update or change nothing?
pub fn compare(path: &Path, bytes: &[u8]) -> Change {
    match std::fs::read(path) {
        Ok(old) if old == bytes => Change::Unchanged,
        Ok(_) => Change::Update,
        Err(_) => Change::Create,
    }
}

/// The documents of a file kept whole: each one classified, counted and reported.
pub fn emit_whole(
    file: &str,
    docs: &[WholeDoc],
    item: Option<&str>,
    summary: &mut Summary,
    sink: &mut dyn Sink,
) {
    for (i, p, obj, c, r) in docs {
        let fate = Fate::Unmanaged {
            code: *c,
            reason: r.clone(),
            path: item.map(str::to_string),
        };
        summary.count(&fate);
        sink.emit(Event::DocumentClassified {
            file: file.to_string(),
            index: *i,
            pos: Some(*p),
            object: obj.clone(),
            fate,
        });
    }
}

/// Appended to a folder's name where fgd's files could bear that name too (see
/// `escape_folders`).
pub const FOLDER_ESCAPE: &str = "~dir";

/// `inner` (a path under raw/) with its folders renamed for a tree in which every file fgd
/// makes ends with one of `file_suffixes` (`.orig` in the archive): a folder whose name ends
/// with one of them, or with `FOLDER_ESCAPE` itself, gets `FOLDER_ESCAPE` appended. So no
/// folder ever bears the name of a file fgd puts beside it (`raw/x.yaml` and a folder
/// `raw/x.yaml.orig/` would both want `x.yaml.orig`), and `unescape_folders` turns it back.
pub fn escape_folders<'a>(inner: &'a str, file_suffixes: &[&str]) -> std::borrow::Cow<'a, str> {
    let Some((dirs, name)) = inner.rsplit_once('/') else {
        return inner.into();
    };
    let clashes = |c: &str| named_like_a_file(c, file_suffixes);
    if !dirs.split('/').any(clashes) {
        return inner.into();
    }
    let mut out = String::with_capacity(inner.len() + 16);
    for c in dirs.split('/') {
        if clashes(c) {
            out.push_str(&store::fit_name(c, FOLDER_ESCAPE));
        } else {
            out.push_str(c);
        }
        out.push('/');
    }
    out.push_str(name);
    out.into()
}

/// Whether the folder name `c` must be renamed by `escape_folders`.
pub fn named_like_a_file(c: &str, file_suffixes: &[&str]) -> bool {
    c.ends_with(FOLDER_ESCAPE) || file_suffixes.iter().any(|suffix| c.ends_with(suffix))
}

/// The path under raw/ of a path made by `escape_folders` (or by `unmanaged::Names`).
pub fn unescape_folders(inner: &str) -> String {
    let Some((dirs, name)) = inner.rsplit_once('/') else {
        return inner.to_string();
    };
    let mut out = String::with_capacity(inner.len());
    for c in dirs.split('/') {
        out.push_str(c.strip_suffix(FOLDER_ESCAPE).unwrap_or(c));
        out.push('/');
    }
    out.push_str(name);
    out
}

/// `dir/name` + suffix, the last component shortened if it would not fit in a file name.
pub fn with_suffix(rel: &str, suffix: &str) -> String {
    match rel.rsplit_once('/') {
        Some((dir, name)) => format!("{dir}/{}", store::fit_name(name, suffix)),
        None => store::fit_name(rel, suffix),
    }
}

/// One document's line in the operation log.
#[derive(serde::Serialize)]
struct LogDoc<'a> {
    source: &'a str,
    document: usize,
    line: usize,
    object: &'a Option<String>,
    fate: &'a Fate,
}

/// A JSON array written item by item: a batch's 10^5 log records go straight to the log
/// spool, never held together. Items are serialised into a buffer of its own, handed on a
/// chunk at a time: serde_json writes an item in a dozen pieces, each a call through `out`.
struct JsonList<W: std::io::Write> {
    out: W,
    buf: Vec<u8>,
    items: usize,
    error: Option<std::io::Error>,
}

impl<W: std::io::Write> JsonList<W> {
    const CHUNK: usize = 64 * 1024;

    fn new(out: W) -> JsonList<W> {
        JsonList {
            out,
            buf: Vec::with_capacity(JsonList::<W>::CHUNK + 1024),
            items: 0,
            error: None,
        }
    }

    fn push<T: serde::Serialize + ?Sized>(&mut self, item: &T) {
        if self.error.is_some() {
            return;
        }
        self.buf.push(if self.items == 0 { b'[' } else { b',' });
        if let Err(e) = serde_json::to_writer(&mut self.buf, item) {
            self.error = Some(std::io::Error::other(e));
            return;
        }
        self.items += 1;
        if self.buf.len() >= JsonList::<W>::CHUNK {
            if let Err(e) = self.out.write_all(&self.buf) {
                self.error = Some(e);
            }
            self.buf.clear();
        }
    }

    fn close(mut self) -> std::io::Result<W> {
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        self.buf
            .extend_from_slice(if self.items == 0 { b"[]" } else { b"]" });
        self.out.write_all(&self.buf)?;
        Ok(self.out)
    }
}

/// A reason file's write, tied to the source (or the rename) it describes: a recovery that
/// skips that source skips it too.
fn push_text(j: &mut Journal, path: &str, text: String, owner: Owner) {
    let (source, rename) = match owner {
        Owner::Source(i) => (Some(i), None),
        Owner::Rename(i) => (None, Some(i)),
    };
    j.writes.push(Write {
        path: path.to_string(),
        sha256: journal::Digest::of(text.as_bytes()),
        content: Content::Text {
            text,
            source,
            rename,
        },
    });
}

/// What a text write belongs to (`push_text`).
enum Owner {
    Source(usize),
    Rename(usize),
}
