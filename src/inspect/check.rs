//! `fgd validate`: files or folders judged as an ingest would judge them, without writing
//! anything (the dashboard's view of raw/ is this too).

use std::path::PathBuf;

use crate::discover::{self, ReadOutcome};
use crate::error::{io, Error, Result};
use crate::event::{Event, Fate, FileOutcome, Phase, Sink, Skip, Summary};
use crate::fabric::{self, Fabric};
use crate::ingest::{self, emit_problems, DocFate, FileDecision};
use crate::validate::{analyze, Validator};
use crate::yaml::Limits;

/// Validate files or folders without writing anything. Returns the summary; `unmanaged > 0`
/// means ingest would put something in unmanaged/, `errors > 0` that a managed/ file the
/// push would publish has a problem the cluster refuses.
pub fn validate(
    paths: &[PathBuf],
    limits: &Limits,
    validator: &Validator,
    sink: &mut dyn Sink,
) -> Result<Summary> {
    let started = std::time::Instant::now();
    // Updates and deletes are judged against the last fabric directory given (the one whose
    // managed/ the incoming objects join), as its git HEAD holds it.
    let baseline = paths
        .iter()
        .rev()
        .find(|p| {
            std::fs::symlink_metadata(p).is_ok_and(|m| m.is_dir())
                && p.join(fabric::MANIFEST).is_file()
                && p.join(fabric::RAW).is_dir()
        })
        .filter(|_| crate::validate::change::wanted(&validator.settings))
        .map(|p| crate::git::Baseline::open(p, crate::git::BaselineRef::Head));
    sink.emit(ingest::validation_settings(
        validator,
        baseline
            .as_ref()
            .and_then(|b| b.as_ref().err())
            .map(|e| e as &dyn std::fmt::Display),
    ));
    let mut summary = Summary {
        dry_run: true,
        ..Default::default()
    };
    let mut files = Vec::new();
    let mut fabric_root: Option<Fabric> = None;
    // How the fabric's managed/ files are named in reports, when a fabric was given.
    let mut managed_shown: Option<String> = None;
    let mut targets = ingest::Targets::default();
    for p in paths {
        let meta = match std::fs::symlink_metadata(p) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(Error::Usage(format!(
                    "{}: no such file or folder",
                    p.display()
                )))
            }
            Err(e) => return Err(io("inspect", p, e)),
        };
        let shown = p.to_string_lossy().trim_end_matches('/').to_string();
        if meta.is_dir() {
            // A fabric directory means its raw/, judged against its managed/.
            let (dir, prefix) =
                if p.join(fabric::MANIFEST).is_file() && p.join(fabric::RAW).is_dir() {
                    fabric_root = Some(Fabric { root: p.clone() });
                    (p.join(fabric::RAW), format!("{shown}/raw/"))
                } else {
                    (p.clone(), format!("{shown}/"))
                };
            if fabric_root.is_some() {
                managed_shown = Some(format!("{shown}/{}/", fabric::MANAGED));
            }
            files.extend(ingest::read_inputs(
                &dir,
                &prefix,
                limits,
                validator,
                None,
                &mut summary,
                sink,
            )?);
        } else if meta.is_file() {
            sink.emit(Event::FileStarted {
                file: shown.clone(),
                index: files.len(),
                total: paths.len(),
            });
            // A file named on the command line is judged as ingest would find it in raw/:
            // a name ingest skips is reported skipped, not validated as if it were read.
            let name = p
                .file_name()
                .map(|n| n.to_string_lossy())
                .unwrap_or_default();
            let format = match (discover::ignored_name(&name), discover::format_of(&name)) {
                (None, Some(format)) => format,
                (why, _) => {
                    summary.ignored += 1;
                    let detail = match why {
                        Some(why) => format!("{why}: ingest never reads it"),
                        None => "not a .yaml, .yml or .json file: ingest never reads it".into(),
                    };
                    sink.emit(Event::FileSkipped {
                        file: shown,
                        skip: Skip::Ignored { detail },
                    });
                    continue;
                }
            };
            match discover::read_stable(p, limits.max_file_bytes)? {
                ReadOutcome::Bytes(b) => {
                    files.push(analyze::analyze_with(&shown, b, format, limits, validator))
                }
                ReadOutcome::TooLarge(len) => files.push(analyze::too_large(&shown, len, limits)),
                ReadOutcome::Pending(detail) => {
                    summary.pending += 1;
                    sink.emit(Event::FileSkipped {
                        file: shown,
                        skip: Skip::Pending { detail },
                    });
                }
                ReadOutcome::NotRegular(detail) => {
                    summary.not_regular += 1;
                    sink.emit(Event::FileSkipped {
                        file: shown,
                        skip: Skip::NotRegular { detail },
                    });
                }
            }
        } else {
            summary.not_regular += 1;
            sink.emit(Event::FileSkipped {
                file: shown,
                skip: Skip::NotRegular {
                    detail: "not a regular file or folder: never read".into(),
                },
            });
        }
    }
    // A fabric's managed/ is judged too: what in it is not fgd's.
    if let Some(fabric) = &fabric_root {
        let checked = ingest::managed_check::check(fabric, &Default::default())?;
        ingest::managed_check::report(fabric, &checked.strays, sink);
    }
    // What managed/ holds is the fabric the incoming objects join.
    let mut managed = Vec::new();
    if let (Some(fab), Some(shown)) = (&fabric_root, &managed_shown) {
        if validator.settings.level == crate::validate::Level::All {
            managed = ingest::read_inputs(
                &fab.path(fabric::MANAGED),
                shown,
                limits,
                validator,
                None,
                &mut Summary::default(),
                &mut crate::event::Discard,
            )?;
        }
    }
    let before = match (&baseline, &managed_shown) {
        (Some(Ok(b)), Some(shown)) => ingest::before_or_say(b, shown, limits, validator, sink),
        _ => None,
    };
    let batchwide = ingest::batchwide(&files, &Default::default());
    let conflicted = batchwide.conflicted();
    let outcome = crate::validate::batch::check_batch(
        validator,
        &files,
        &managed,
        before.as_ref(),
        &conflicted,
    );
    let refused = crate::validate::batch::apply(outcome, &mut files, &mut managed);
    sink.emit(Event::PhaseStarted {
        phase: Phase::Plan,
        total: Some(files.len()),
    });
    let decision = ingest::decide_from(&files, batchwide, &Default::default(), &refused);
    let mut planned = std::collections::HashSet::new();
    for (f, d) in files.iter().zip(&decision.files) {
        summary.files += 1;
        match d {
            FileDecision::Whole {
                code, reason, docs, ..
            } => {
                summary.files_unmanaged_whole += 1;
                ingest::emit_whole(&f.rel, docs, None, &mut summary, sink);
                for doc in f.docs() {
                    emit_problems(&f.rel, doc, &mut summary, sink);
                }
                sink.emit(Event::FileFinished {
                    file: f.rel.clone(),
                    outcome: FileOutcome::WholeUnmanaged {
                        code: *code,
                        reason: reason.clone(),
                        path: None,
                    },
                });
            }
            FileDecision::Docs(fates) => {
                let (mut m, mut u, mut e) = (0, 0, 0);
                for (doc, fate) in f.docs().iter().zip(fates) {
                    let fate = match fate {
                        DocFate::Managed { .. } => {
                            m += 1;
                            let path = doc.managed_path().unwrap_or_default();
                            let rel = format!("{}/{path}", fabric::MANAGED);
                            // A second identical definition is written once, as ingest does:
                            // the later one changes nothing.
                            let change = if planned.insert(rel.clone()) {
                                targets.change(fabric_root.as_ref(), &rel, &doc.output(&f.bytes))
                            } else {
                                crate::event::Change::Unchanged
                            };
                            Fate::Managed {
                                path: rel,
                                change,
                                replaced_hand_edit: None,
                            }
                        }
                        DocFate::Unmanaged { code, reason } => {
                            u += 1;
                            Fate::Unmanaged {
                                code: *code,
                                reason: reason.clone(),
                                path: None,
                            }
                        }
                        DocFate::Empty => {
                            e += 1;
                            Fate::Empty
                        }
                    };
                    summary.count(&fate);
                    sink.emit(Event::DocumentClassified {
                        file: f.rel.clone(),
                        index: doc.index,
                        pos: Some(doc.pos),
                        object: doc.verdict.object(),
                        fate,
                    });
                    emit_problems(&f.rel, doc, &mut summary, sink);
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
    }
    // Problems of what managed/ already holds: what a push would publish.
    for f in &managed {
        for doc in f.docs() {
            emit_problems(&f.rel, doc, &mut summary, sink);
        }
    }
    summary.millis = started.elapsed().as_millis();
    sink.emit(Event::BatchFinished {
        summary: summary.clone(),
    });
    // Freeing 10^4-10^5 analyses takes a while and the answer does not wait for it: the command
    // prints its last lines meanwhile (and may exit before it is done).
    let analyses = (files, managed);
    if let Err(e) = std::thread::Builder::new()
        .name("fgd-free".into())
        .spawn(move || drop(analyses))
    {
        tracing::debug!("freeing the analyses on this thread: {e}");
    }
    Ok(summary)
}
