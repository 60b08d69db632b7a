//! What the state machine asks for (`Effect`), and the one runner that carries it out. The
//! runner's work is blocking (parsing, scans, git, file reads and writes): the event loop
//! calls it on tokio's blocking pool and the tests call it in line, so both run the same code
//! and see the same messages.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use fgd::event::Event;

use super::app::{JobSpec, Msg};
use super::editor::{self, SaveOutcome};
use super::job::Coalescer;
use super::keymap::Action;
use super::model;

#[derive(Debug, PartialEq, Eq)]
pub enum Effect {
    Run(JobSpec),
    /// Rescan a fabric: at once when true, else after the quiet period.
    Rescan(usize, bool),
    /// Compute what a push of this fabric would commit.
    Diff(PathBuf),
    /// Compute the detail of the selection, for selection number `seq`.
    Detail {
        seq: u64,
        root: PathBuf,
        entry: model::FileEntry,
    },
    /// Validate the editor's text as of edit `seq`.
    Validate {
        seq: u64,
        rel: String,
        text: Vec<u8>,
    },
    /// Read a file for the editor (`Msg::Opened`).
    Open {
        root: PathBuf,
        rel: String,
    },
    /// Write the editor's text as of edit `seq` (`Msg::Saved`), unless the disk no longer
    /// holds `expected` (and is not `overwrite`, the change the operator was told about).
    Save {
        path: PathBuf,
        seq: u64,
        bytes: Vec<u8>,
        expected: Vec<u8>,
        overwrite: Option<Option<Vec<u8>>>,
    },
}

/// Carries out effects. Cheap to clone: each background task takes its own.
#[derive(Clone)]
pub struct Runner {
    pub git: fgd::git::GitOptions,
    pub roots: Arc<Vec<PathBuf>>,
    /// Per fabric, the managed files already checked (one scan of a fabric runs at a time).
    checks: Arc<Vec<Mutex<model::ManagedChecks>>>,
    /// How often a running job's progress is sent: the loop's cost per tick.
    pub progress_every: Duration,
}

impl Runner {
    pub fn new(git: fgd::git::GitOptions, roots: Vec<PathBuf>) -> Runner {
        let checks = roots.iter().map(|_| Mutex::default()).collect();
        Runner {
            git,
            roots: Arc::new(roots),
            checks: Arc::new(checks),
            progress_every: Duration::from_millis(50),
        }
    }

    /// Do the work of `effect`, sending what comes of it to `out`. Blocking.
    pub fn work(&self, effect: Effect, out: &mut dyn FnMut(Msg)) {
        match effect {
            Effect::Run(spec) => {
                let mut fold = Coalescer::new(self.progress_every);
                let result = perform(spec, &self.git, &mut |e: Event| {
                    if let Some((p, notes)) = fold.push(e) {
                        out(Msg::Progress(Box::new(p), notes));
                    }
                });
                let (p, notes) = fold.take();
                out(Msg::Progress(Box::new(p), notes));
                out(Msg::JobFinished(result));
            }
            Effect::Rescan(i, _) => {
                let (Some(root), Some(checks)) = (self.roots.get(i), self.checks.get(i)) else {
                    return;
                };
                // A scan that panicked left the checks as they were: still usable.
                let mut checks = checks.lock().unwrap_or_else(|e| e.into_inner());
                out(Msg::Scanned(
                    i,
                    Box::new(model::scan_with(root, &mut checks)),
                ));
            }
            Effect::Diff(root) => out(Msg::Diff(diff_of(root))),
            Effect::Detail { seq, root, entry } => {
                out(Msg::Detail(seq, Box::new(model::detail(&root, &entry))))
            }
            Effect::Validate { seq, rel, text } => {
                let (fates, marked) = model::validate_text(&rel, text);
                out(Msg::Validated { seq, fates, marked })
            }
            Effect::Open { root, rel } => out(Msg::Opened(editor::open_for_edit(&root, &rel))),
            Effect::Save {
                path,
                seq,
                bytes,
                expected,
                overwrite,
            } => {
                let outcome: SaveOutcome = editor::save_file(&path, &bytes, &expected, &overwrite);
                out(Msg::Saved {
                    path,
                    seq,
                    bytes,
                    outcome,
                })
            }
        }
    }
}

/// Carry out one job, reporting through `sink`.
pub fn perform(
    spec: JobSpec,
    opts: &fgd::git::GitOptions,
    sink: &mut dyn fgd::event::Sink,
) -> Result<String, String> {
    let JobSpec {
        action,
        root,
        file,
        reason,
    } = spec;
    let mut sink = |e: Event| sink.emit(e);
    let result = match action {
        Action::Init => {
            fgd::fabric::init(&root, None).map(|(_, r)| format!("{} created", r.created.len()))
        }
        Action::Ingest => fgd::ingest::run(&root, &Default::default(), &mut sink)
            .map(|s| format!("{} managed, {} unmanaged", s.managed(), s.unmanaged)),
        Action::Push => fgd::git::push_fabric(&root, opts, &mut sink)
            .map(|r| format!("pushed {}", &r.pushed.commit[..10])),
        Action::Sync => fgd::git::sync_fabric(&root, opts, &mut sink)
            .map(|r| format!("{}; {} managed", r.integrated, r.ingest.managed())),
        Action::Plan => fgd::ingest::run(
            &root,
            &fgd::ingest::Options {
                dry_run: true,
                ..Default::default()
            },
            &mut sink,
        )
        .map(|s| {
            format!(
                "plan: {} to write, {} to replace, {} unmanaged (nothing changed)",
                s.created, s.updated, s.unmanaged
            )
        }),
        Action::Move => fgd::ops::move_to_unmanaged(
            &root,
            &file.unwrap_or_default(),
            reason.as_deref().unwrap_or(""),
            &mut sink,
        )
        .map(|r| format!("{} -> {}", r.from, r.to)),
        Action::Adopt => fgd::ops::adopt(&root, &file.unwrap_or_default(), &mut sink)
            .map(|r| format!("{} -> {}", r.from, r.to)),
        _ => Ok(String::new()),
    };
    result.map_err(|e| e.to_string())
}

/// What a push of the fabric would commit, as patch lines for the plan view.
pub fn diff_of(root: PathBuf) -> Result<Vec<String>, String> {
    fgd::git::pending_diff(&fgd::fabric::Fabric { root }, 2000).map_err(|e| e.to_string())
}
