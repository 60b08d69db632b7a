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
use fgd::inspect;

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
        entry: inspect::FileEntry,
    },
    /// Validate the editor's text as of edit `seq`.
    Validate {
        seq: u64,
        /// The fabric's folder: its own validation settings apply.
        root: PathBuf,
        rel: String,
        text: Vec<u8>,
    },
    /// Read a file for the editor (`Msg::Opened`), to open at a line and column.
    Open {
        root: PathBuf,
        rel: String,
        at: Option<(usize, usize)>,
    },
    /// Run the operator's editor (`$VISUAL`, else `$EDITOR`, else vi) on a file at `line`,
    /// on the terminal: the event loop hands the terminal over first (`Msg::Edited`).
    External {
        path: PathBuf,
        line: usize,
        fabric: usize,
        rel: String,
    },
    /// Look at what the remote holds of a fabric (`Msg::Remote`).
    Remote(PathBuf),
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
    checks: Arc<Vec<Mutex<inspect::ManagedChecks>>>,
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
                    Box::new(inspect::scan_with(root, &mut checks)),
                ));
            }
            Effect::Diff(root) => out(Msg::Diff(diff_of(root))),
            Effect::Detail { seq, root, entry } => out(Msg::Detail(
                seq,
                Box::new(inspect::file_report(&root, &entry)),
            )),
            Effect::Validate {
                seq,
                root,
                rel,
                text,
            } => out(Msg::Validated {
                seq,
                report: Box::new(inspect::text_report_with(
                    &rel,
                    text,
                    &inspect::validator_for(&root),
                )),
            }),
            Effect::Open { root, rel, at } => {
                out(Msg::Opened(editor::open_for_edit(&root, &rel, at)))
            }
            Effect::External {
                path,
                line,
                fabric,
                rel,
            } => out(Msg::Edited {
                fabric,
                rel,
                result: run_editor(&path, line),
            }),
            Effect::Remote(root) => {
                let view = fgd::fabric::Fabric::open(&root)
                    .ok()
                    .and_then(|f| inspect::repo::remote_view(&f, 5));
                out(Msg::Remote(view.map(Box::new)))
            }
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

/// Carry out one job through the engine's one entry point, as the commands do; the result
/// in a few words for the job pane and the log.
pub fn perform(
    spec: JobSpec,
    git: &fgd::git::GitOptions,
    sink: &mut dyn fgd::event::Sink,
) -> Result<String, String> {
    use fgd::ops::perform::{Operation, Outcome};
    let JobSpec {
        action,
        root: dir,
        file,
        reason,
    } = spec;
    let git = git.clone();
    let op = match action {
        Action::Init => Operation::Init { dir, name: None },
        Action::Ingest => Operation::Ingest {
            dir,
            options: Default::default(),
        },
        Action::Plan => Operation::Ingest {
            dir,
            options: fgd::ingest::Options {
                dry_run: true,
                ..Default::default()
            },
        },
        Action::Push => Operation::Push { dir, git },
        Action::Sync => Operation::Sync { dir, git },
        Action::Move => Operation::Move {
            dir,
            file: file.unwrap_or_default(),
            reason: reason.unwrap_or_default(),
        },
        Action::Adopt => Operation::Adopt {
            dir,
            file: file.unwrap_or_default(),
        },
        other => return Err(format!("{} is not a job", other.name())),
    };
    let dry = matches!(&op, Operation::Ingest { options, .. } if options.dry_run);
    let outcome = fgd::ops::perform::perform(op, sink).map_err(|e| e.to_string())?;
    Ok(match outcome {
        Outcome::Initialised { report, .. } => format!("{} created", report.created.len()),
        Outcome::Ingested(s) if dry => format!(
            "plan: {} to write, {} to replace, {} unmanaged (nothing changed)",
            s.created, s.updated, s.unmanaged
        ),
        Outcome::Ingested(s) | Outcome::Validated(s) => {
            format!("{} managed, {} unmanaged", s.managed(), s.unmanaged)
        }
        Outcome::Moved(r) => format!("{} -> {}", r.from, r.to),
        Outcome::Pushed(r) => format!(
            "pushed {}",
            &r.pushed.commit[..r.pushed.commit.len().min(10)]
        ),
        Outcome::Synced(r) => format!("{}; {} managed", r.integrated, r.ingest.managed()),
        Outcome::Published => "published".into(),
    })
}

/// The operator's editor, as the shell would name it: `$VISUAL`, else `$EDITOR`, else vi.
pub fn editor_command() -> Vec<String> {
    ["VISUAL", "EDITOR"]
        .iter()
        .find_map(|k| std::env::var(k).ok().filter(|v| !v.trim().is_empty()))
        .unwrap_or_else(|| "vi".into())
        .split_whitespace()
        .map(str::to_string)
        .collect()
}

/// Run the operator's editor on `path` at `line` (`+LINE`, which vi, vim, nvim, nano, emacs
/// and micro take) and wait for it. Blocking, on whatever terminal the process has.
fn run_editor(path: &std::path::Path, line: usize) -> Result<(), String> {
    let cmd = editor_command();
    let Some((program, args)) = cmd.split_first() else {
        return Err("no editor: set VISUAL or EDITOR".into());
    };
    let status = std::process::Command::new(program)
        .args(args)
        .arg(format!("+{line}"))
        .arg(path)
        .status()
        .map_err(|e| format!("cannot run {program}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{program} ended with {status}"))
    }
}

/// What a push of the fabric would commit, as patch lines for the plan view.
pub fn diff_of(root: PathBuf) -> Result<Vec<String>, String> {
    let fabric = fgd::fabric::Fabric::open(&root).map_err(|e| e.to_string())?;
    fgd::inspect::repo::push_preview(&fabric, 2000)
}
