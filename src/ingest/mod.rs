//! `ingest`: raw/ -> managed/ + unmanaged/, every document accounted for.
//!
//! Read and classify every file (`read`), decide the whole batch (`decide`: conflicts need all
//! files), turn the decisions into the journal (`plan`), then carry it out. The plan and the
//! journal are the same thing: a dry run prints the plan and stops before the journal.

mod decide;
mod held;
pub mod history;
mod late;
pub mod managed_check;
pub mod moves;
mod paths;
mod plan;
mod read;
pub mod stage;
pub mod unmanaged;
mod validation;

/// One file's analysis, shared with validation (which owns it); here for the front ends' path.
pub use crate::validate::analyze;

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::time::Instant;

use crate::error::Result;
use crate::event::{Change, Event, Fate, Phase, Sink, Summary};
use crate::fabric::{self, kustomization, Fabric};
use crate::journal::{self, Journal};
use crate::store::{self, failpoint};
use crate::validate::change::OpenBaseline;
use crate::validate::Validator;
use crate::yaml::Limits;

use decide::Decider;
pub use decide::{
    batchwide, decide, decide_from, decide_with, At, Batchwide, Decision, DocFate, FileDecision,
    Refusals, WholeDoc,
};
pub use paths::{escape_folders, named_like_a_file, unescape_folders, with_suffix, FOLDER_ESCAPE};
pub use read::read_inputs;
pub use validation::{before_or_say, emit_problems, validation_settings};

#[derive(Debug, Clone, Default)]
pub struct Options {
    pub dry_run: bool,
    pub limits: Limits,
    /// What validation checks: the command's layers, with the fabric's own file between them.
    pub validation: crate::validate::settings::Layers,
    /// Reads managed/ for the cross-object check in place of `read_inputs` (git's reader takes
    /// unchanged files from its cache of verdicts: `git::managed_reader`); None, or a reader
    /// that answers None, and managed/ is read here.
    pub managed: Option<ManagedReader>,
}

/// What reads managed/ for `Options::managed`: every file's analysis by the validator, as
/// `read_inputs` would make it under the limits given, or None.
#[derive(Clone)]
#[allow(clippy::type_complexity)]
pub struct ManagedReader(
    pub  std::sync::Arc<
        dyn Fn(&Validator, &Limits) -> Option<Vec<analyze::FileAnalysis>> + Send + Sync,
    >,
);

impl std::fmt::Debug for ManagedReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ManagedReader")
    }
}

/// Run an ingest of `raw/`: open the fabric, take its lock (not for a dry run), ingest.
/// `head` opens the commit updates and deletes are judged against (`git::Baseline::open_head`:
/// the ingest does not read git itself).
pub fn run(dir: &Path, opts: &Options, head: OpenBaseline, sink: &mut dyn Sink) -> Result<Summary> {
    let fabric = Fabric::open(dir)?;
    if opts.dry_run {
        return ingest(&fabric, opts, head, sink);
    }
    let lock = store::FabricLock::acquire(&fabric.path(fabric::LOCK), "ingest")?;
    run_locked(&fabric, &lock, opts, head, sink)
}

/// Ingest with the fabric lock already held (by `sync`, or by `run`).
pub fn run_locked(
    fabric: &Fabric,
    _lock: &store::FabricLock,
    opts: &Options,
    head: OpenBaseline,
    sink: &mut dyn Sink,
) -> Result<Summary> {
    journal::recover(fabric, sink)?;
    run_recovered(fabric, _lock, opts, head, sink)
}

/// Ingest with the fabric lock held since an interrupted batch was finished under it
/// (`journal::recover`, as `sync` does before its first commit): the folders are not swept
/// again (at 10^5 files that walk is a tenth of a second, and it would find nothing).
pub fn run_recovered(
    fabric: &Fabric,
    _lock: &store::FabricLock,
    opts: &Options,
    head: OpenBaseline,
    sink: &mut dyn Sink,
) -> Result<Summary> {
    ingest(fabric, opts, head, sink)
}

fn ingest(
    fabric: &Fabric,
    opts: &Options,
    head: OpenBaseline,
    sink: &mut dyn Sink,
) -> Result<Summary> {
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
        Some(crate::oplog::create_log_spool(fabric, &dirs)?)
    };
    // A real run writes while it reads (see `stage`); a dry run writes nothing.
    let stager = (!opts.dry_run).then(|| stage::Stager::new(fabric, &journal.batch, dirs.clone()));
    // A file whose copies would not fit in a path is left alone; the rest goes on.
    let batch_id = journal.batch.clone();
    // Nor is a file of a fabric someone made inside raw/: fabrics do not nest.
    let nested = read::NestedFabrics::default();
    let refuse = |rel: &str| {
        nested
            .of(fabric, rel)
            .or_else(|| read::too_deep(fabric, &batch_id, rel))
    };
    let validator = opts
        .validation
        .for_fabric(&fabric.root)
        .and_then(Validator::new)
        .map_err(|e| crate::error::Error::Usage(e.to_string()))?;
    // Updates and deletes are judged against HEAD (opened here, cheaply; read only for a batch).
    let baseline = crate::validate::change::wanted(&validator.settings).then(|| head(&fabric.root));
    sink.emit(validation_settings(
        &validator,
        baseline
            .as_ref()
            .and_then(|b| b.as_ref().err())
            .map(|e| e as &dyn std::fmt::Display),
    ));
    let files = read::read_inputs_within(
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
    // Cross-object validation: the batch's objects over what managed/ holds.
    let mut files = files;
    let mut managed = Vec::new();
    if validator.settings.level == crate::validate::Level::All && !files.is_empty() {
        let given = opts
            .managed
            .as_ref()
            .and_then(|r| (r.0)(&validator, &opts.limits));
        managed = match given {
            Some(m) => m,
            None => read::read_inputs(
                &fabric.path(fabric::MANAGED),
                "managed/",
                &opts.limits,
                &validator,
                None,
                &mut Summary::default(),
                &mut crate::event::Discard,
            )?,
        };
    }
    let before = match &baseline {
        Some(Ok(b)) if !files.is_empty() => {
            let shown = format!("{}/", fabric::MANAGED);
            before_or_say(b.as_ref(), &shown, &opts.limits, &validator, sink)
        }
        _ => None,
    };
    let batchwide = decide::batchwide(&files, &claims);
    let conflicted = batchwide.conflicted();
    let outcome = crate::validate::batch::check_batch(
        &validator,
        &files,
        &managed,
        before.as_ref(),
        &conflicted,
    );
    drop(conflicted);
    let invalid = crate::validate::batch::apply(outcome, &mut files, &mut managed);
    // What the fabric's past says: objects moved out by an operator, hand edits.
    let review = history::review(fabric, &journal.batch, &files, &claims)?;
    let decider = Decider::new(batchwide, &review.refusals, &invalid);
    // The disk writes back what is staged while the plan and the journal are made.
    let flush = batch.as_ref().and_then(store::Batch::start_flush);
    // The plan's own writes are staged as it goes, by the late writer, which holds the batch
    // until the plan ends.
    let late = batch
        .map(|b| late::LateWriter::start(fabric, b))
        .transpose()?;
    let mut outputs = HashMap::new();
    let mut claims = claims;
    let inputs = plan::PlanInputs {
        fabric,
        claims: &mut claims,
        outputs: &mut outputs,
        late: late.as_ref(),
        spool,
        dry_run: opts.dry_run,
        hand_edits: &review.hand_edits,
    };
    // What the plan reports is held until the batch is in force: a batch refused after the
    // plan (an unsafe target, a source changed meanwhile) must not have said first that it
    // managed anything.
    let spool_path = fabric.path(crate::oplog::LOG_SPOOL);
    let mut held = held::Held::in_dir(
        (!opts.dry_run)
            .then(|| dirs.parent_of(&spool_path))
            .and_then(|d| d.ok().flatten())
            .map(|(dir, _)| dir),
    );
    plan::plan(
        inputs,
        &mut journal,
        files,
        &decider,
        &mut summary,
        &mut held,
    )?;
    drop(decider);
    let mut held = Some(held);
    // managed/ holds only fgd's objects: anything else there is reported, and never listed.
    let writing = journal.writes.iter().filter_map(|w| under_managed(&w.path));
    let checked = managed_check::check_writing(fabric, writing)?;
    managed_check::report(fabric, &checked.strays, sink);
    // What managed/ already holds and the cluster would refuse: a push would publish it.
    for f in &managed {
        for doc in f.docs() {
            validation::emit_errors(&f.rel, doc, &mut summary, sink);
        }
    }
    drop(managed);
    if journal.steps() == 0 && journal.log_file.is_some() {
        // Nothing to do, so no batch: its log spool goes.
        if let Ok(Some((dir, name))) = dirs.parent_of(&fabric.path(crate::oplog::LOG_SPOOL)) {
            let _ = dir.unlink(name);
        }
    }
    if let (Some(late), true) = (late, journal.steps() > 0) {
        if let Some(held) = &mut held {
            held.emit(Event::PhaseStarted {
                phase: Phase::Journal,
                total: Some(journal.steps()),
            });
        }
        // An unsafe target is refused with its reason before anything more is written.
        journal::preflight(fabric, &journal)?;
        // Only temps so far, and nothing journaled: a kill here leaves nothing to finish.
        failpoint("ingest.before-journal");
        // The journal is made while the late writer catches up; it waits, unpublished, for
        // the checks below.
        let unpublished = journal::write_unpublished(fabric, &journal, &dirs)?;
        let (mut batch, late_staged) = late.finish()?;
        take_back_conflicts(fabric, &journal, &late_staged, &claims, &mut batch)?;
        drop(claims);
        // The index is made only now, the claims gone: at 10^5 objects its text is 4 MB,
        // which beside them was the top of the ingest's peak memory.
        let adding = journal.writes.iter().filter_map(|w| under_managed(&w.path));
        let index = kustomization::predict_from(fabric, checked.keep, adding, checked.touch)?;
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
        replay(&mut held, sink);
        failpoint("ingest.after-journal");
        sink.emit(Event::PhaseStarted {
            phase: Phase::Write,
            total: Some(journal.writes.len()),
        });
        journal::finish(fabric, &journal, batch, journal::Index::Staged, &[], sink)?;
        summary.batch = Some(journal.batch.clone());
    }
    // A dry run, or a batch with nothing to do.
    replay(&mut held, sink);
    summary.millis = started.elapsed().as_millis();
    sink.emit(Event::BatchFinished {
        summary: summary.clone(),
    });
    Ok(summary)
}

/// Emit the events held back (once).
fn replay(held: &mut Option<held::Held>, sink: &mut dyn Sink) {
    if let Some(held) = held.take() {
        held.replay(sink);
    }
}

/// A fabric path under managed/, relative to it.
pub(super) fn under_managed(path: &str) -> Option<&str> {
    path.strip_prefix(fabric::MANAGED)
        .and_then(|p| p.strip_prefix('/'))
}

/// After the plan: take back the staged writes of objects the plan did not manage after all
/// (conflicts), and check that
/// every planned write is staged, by the reading threads or the late writer.
fn take_back_conflicts(
    fabric: &Fabric,
    journal: &Journal,
    late_staged: &HashSet<String>,
    claims: &stage::Claims,
    batch: &mut store::Batch,
) -> Result<()> {
    let taking_back: Vec<std::path::PathBuf> = claims
        .dropped()
        .filter(|(_, claim)| claim.staged && !claim.planned)
        .map(|(path, _)| fabric.path(&format!("{}/{path}", fabric::MANAGED)))
        .collect();
    let taken_back = taking_back.len();
    batch.unstage_all(taking_back.iter().map(|p| p.as_path()))?;
    // Only an object the plan dropped is staged and not planned.
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
