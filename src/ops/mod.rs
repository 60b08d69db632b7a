//! The other commands over the engine: validate (read-only), move and adopt (journaled like
//! ingest), status (read-only).

pub mod adopt_existing;
pub mod perform;
pub mod status;

use std::path::{Path, PathBuf};

use crate::classify::ReasonCode;
use crate::discover::{self, ReadOutcome};
use crate::error::{io, Error, Result};
use crate::event::{Event, Fate, FileOutcome, Phase, Sink, Skip, Summary};
use crate::fabric::{self, Fabric};
use crate::ingest::{self, unmanaged, DocFate, FileDecision};
use crate::journal::{self, Content, Journal, Remove, Source, Write};
use crate::oplog;
use crate::store::{self, failpoint};
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
    sink.emit(validation_settings_with(
        validator,
        baseline.as_ref().and_then(|b| b.as_ref().err()),
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
        (Some(Ok(b)), Some(shown)) => before_or_say(b, shown, limits, validator, sink),
        _ => None,
    };
    let outcome = crate::validate::batch::check_with(validator, &files, &managed, before.as_ref());
    let refused = crate::validate::batch::apply(outcome, &mut files, &mut managed);
    sink.emit(Event::PhaseStarted {
        phase: Phase::Plan,
        total: Some(files.len()),
    });
    let refusals: ingest::Refusals = refused
        .into_iter()
        .map(|(at, reason)| (at, (ReasonCode::InvalidSpec, reason)))
        .collect();
    let decision = ingest::decide_with(&files, &Default::default(), &refusals);
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
    Ok(summary)
}

/// The event that says what this run's validation checks.
pub fn validation_settings(v: &Validator) -> Event {
    validation_settings_with(v, None)
}

/// `validation_settings`, saying that the update and delete rules were not checked and why
/// (no commit to compare with): human output then names the settings.
pub fn validation_settings_with(
    v: &Validator,
    not_checked: Option<&crate::git::NoBaseline>,
) -> Event {
    let mut rules = v.settings.describe();
    if let Some(why) = not_checked {
        rules.push_str(&format!(
            ", {}: not checked, {why}",
            crate::validate::change::NAMED
        ));
    }
    Event::ValidationSettings {
        rules,
        crds: format!("CRDs: {}", v.crds_origin()),
        config: if v.env.assumed {
            "fabric config: assumed (the installer's defaults; --fab names yours)".into()
        } else {
            "fabric config: from fab.yaml".into()
        },
        default: v.settings.is_default() && not_checked.is_none(),
    }
}

/// The baseline's view for the update and delete rules; when git cannot be read, said as an
/// error event and None (those rules are then not checked).
pub fn before_or_say(
    b: &crate::git::Baseline,
    shown: &str,
    limits: &Limits,
    v: &Validator,
    sink: &mut dyn Sink,
) -> Option<crate::validate::change::Before> {
    match b.before(shown, limits, v) {
        Ok(before) => Some(before),
        Err(e) => {
            sink.emit(Event::Error {
                file: None,
                message: format!("{} not checked: {e}", crate::validate::change::NAMED),
            });
            None
        }
    }
}

/// A document's validation problems, as events, counted.
pub fn emit_problems(
    file: &str,
    doc: &analyze::DocAnalysis,
    summary: &mut Summary,
    sink: &mut dyn Sink,
) {
    for p in doc.problems.iter() {
        match p.severity {
            crate::validate::Severity::Error => summary.errors += 1,
            crate::validate::Severity::Warning => summary.warnings += 1,
            crate::validate::Severity::NotChecked => {}
        }
        sink.emit(Event::Problem {
            file: file.to_string(),
            object: doc.verdict.object(),
            problem: p.clone(),
        });
    }
}

/// Resolve FILE given on the command line: relative to the current directory if it exists
/// there, else relative to the fabric. Returns the fabric-relative path. The last component is
/// not resolved, so a symlink is seen as one.
fn fabric_rel(fabric: &Fabric, file: &Path) -> Result<String> {
    let exists = |p: &Path| std::fs::symlink_metadata(p).is_ok();
    let candidate = if file.is_absolute() || exists(file) {
        file.to_path_buf()
    } else {
        fabric.root.join(file)
    };
    if !exists(&candidate) {
        return Err(Error::Usage(format!(
            "{}: no such file (looked for it {})",
            file.display(),
            if file.is_absolute() {
                "where it says".to_string()
            } else {
                format!(
                    "from the current folder and from the fabric {}",
                    fabric.root.display()
                )
            }
        )));
    }
    let name = candidate
        .file_name()
        .ok_or_else(|| Error::Usage(format!("{}: not a file path", file.display())))?;
    let parent = candidate
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let parent = std::fs::canonicalize(parent).map_err(|e| io("resolve", parent, e))?;
    let full = parent.join(name);
    match full.strip_prefix(&fabric.root) {
        Ok(rel) => Ok(rel.to_string_lossy().into_owned()),
        Err(_) => Err(Error::Refused(format!(
            "{} is outside the fabric {}",
            file.display(),
            fabric.root.display()
        ))),
    }
}

fn read_regular(fabric: &Fabric, rel: &str) -> Result<Vec<u8>> {
    let p = fabric.path(rel);
    match discover::read_stable(&p, usize::MAX / 2)? {
        ReadOutcome::Bytes(b) => Ok(b),
        ReadOutcome::NotRegular(d) => Err(Error::Refused(format!("{rel}: {d}"))),
        ReadOutcome::Pending(d) => Err(Error::Refused(format!(
            "{rel}: {d}; try again when it is complete"
        ))),
        ReadOutcome::TooLarge(n) => Err(Error::Refused(format!("{rel}: {n} bytes is too large"))),
    }
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct MoveReport {
    pub from: String,
    pub to: String,
    pub reason_file: String,
    pub batch: String,
}

/// `fgd move`: stop managing a raw or managed file; it goes to unmanaged/ with the reason.
pub fn move_to_unmanaged(
    dir: &Path,
    file: &Path,
    reason: &str,
    sink: &mut dyn Sink,
) -> Result<MoveReport> {
    let fabric = Fabric::open(dir)?;
    let _lock = store::FabricLock::acquire(&fabric.path(fabric::LOCK), "move")?;
    journal::recover(&fabric, sink)?;
    let rel = fabric_rel(&fabric, file)?;
    let inner = match rel.split_once('/') {
        Some(("raw", inner)) | Some(("managed", inner)) if rel != fabric::KUSTOMIZATION => inner.to_string(),
        _ => {
            return Err(Error::Usage(format!(
                "{rel}: only files under raw/ or managed/ (not the kustomization) can be moved to unmanaged/"
            )))
        }
    };
    if reason.trim().is_empty() {
        return Err(Error::Usage(
            "--reason must say why the file is no longer managed".into(),
        ));
    }
    let bytes = read_regular(&fabric, &rel)?;
    let sha = journal::Digest::of(&bytes);
    let mut j = Journal::new("move");
    let item = unmanaged::Names::new(&fabric).item(&inner, None, &bytes)?;
    j.sources.push(Source {
        path: rel.clone(),
        sha256: sha,
        len: bytes.len() as u64,
        archive: None,
    });
    if item.fresh {
        j.writes.push(Write {
            path: item.path.clone(),
            sha256: journal::Digest::of(&bytes),
            content: Content::Source {
                source: 0,
                parts: Box::new([[0, bytes.len()]]),
            },
        });
    }
    let record = unmanaged::reason_record(
        &item,
        &rel,
        Some(sha),
        &j.batch,
        ReasonCode::Operator,
        reason,
        None,
        Vec::new(),
    );
    j.writes.push(Write {
        path: item.reason_path.clone(),
        sha256: journal::Digest::of(record.as_bytes()),
        content: Content::Text {
            text: record,
            source: Some(0),
            rename: None,
        },
    });
    j.removes.push(Remove {
        path: rel.clone(),
        sha256: Some(sha),
        source: None,
    });
    j.summary.files = 1;
    j.summary.unmanaged = 1;
    j.log = journal::raw(&oplog::Moved {
        from: rel.clone(),
        reason: Some(reason.to_string()),
        sha256: sha,
        to: item.path.clone(),
    });
    // The batch rewrites the kustomization: refused now, not once half done.
    fabric::kustomization::check_ours(&fabric)?;
    journal::begin(&fabric, &j)?;
    failpoint("move.after-journal");
    journal::execute(&fabric, &j, sink)?;
    Ok(MoveReport {
        from: rel,
        to: item.path,
        reason_file: item.reason_path,
        batch: j.batch,
    })
}

/// `fgd adopt`: send an unmanaged item back to raw/ for another try.
pub fn adopt(dir: &Path, file: &Path, sink: &mut dyn Sink) -> Result<MoveReport> {
    let fabric = Fabric::open(dir)?;
    let _lock = store::FabricLock::acquire(&fabric.path(fabric::LOCK), "adopt")?;
    journal::recover(&fabric, sink)?;
    let mut rel = fabric_rel(&fabric, file)?;
    if rel.ends_with(fabric::REASON_SUFFIX) {
        rel.truncate(rel.len() - fabric::REASON_SUFFIX.len());
    }
    let inner = match rel
        .strip_prefix("unmanaged/")
        .and_then(|r| r.strip_suffix(fabric::UNMANAGED_SUFFIX))
    {
        Some(i) if !i.is_empty() => i.to_string(),
        _ => {
            return Err(Error::Usage(format!(
                "{rel}: adopt takes an item under unmanaged/ ending in {}",
                fabric::UNMANAGED_SUFFIX
            )))
        }
    };
    let bytes = read_regular(&fabric, &rel)?;
    let sha = journal::Digest::of(&bytes);
    // Back to the folder it came from (folders renamed in unmanaged/ are named back), under
    // a free name in raw/: never overwrite what an operator has put there since.
    let inner = ingest::unescape_folders(&inner);
    let (stem, ext) = match inner.rfind('.') {
        Some(d) if d > inner.rfind('/').map(|s| s + 1).unwrap_or(0) => inner.split_at(d),
        _ => (inner.as_str(), ""),
    };
    let mut target = format!("{}/{inner}", fabric::RAW);
    let mut n = 2;
    while std::fs::symlink_metadata(fabric.path(&target)).is_ok() {
        target = format!("{}/{stem}~{n}{ext}", fabric::RAW);
        n += 1;
    }
    let mut j = Journal::new("adopt");
    j.sources.push(Source {
        path: rel.clone(),
        sha256: sha,
        len: bytes.len() as u64,
        archive: None,
    });
    j.writes.push(Write {
        path: target.clone(),
        sha256: journal::Digest::of(&bytes),
        content: Content::Source {
            source: 0,
            parts: Box::new([[0, bytes.len()]]),
        },
    });
    j.removes.push(Remove {
        path: rel.clone(),
        sha256: Some(sha),
        source: None,
    });
    // The reason goes with the item: kept if the item is (changed by hand meanwhile).
    let reason_file = format!("{rel}{}", fabric::REASON_SUFFIX);
    j.removes.push(Remove {
        path: reason_file.clone(),
        sha256: None,
        source: Some(0),
    });
    j.summary.files = 1;
    j.log = journal::raw(&oplog::Moved {
        from: rel.clone(),
        reason: None,
        sha256: sha,
        to: target.clone(),
    });
    fabric::kustomization::check_ours(&fabric)?;
    journal::begin(&fabric, &j)?;
    failpoint("adopt.after-journal");
    journal::execute(&fabric, &j, sink)?;
    Ok(MoveReport {
        from: rel,
        to: target,
        reason_file,
        batch: j.batch,
    })
}

/// Shared by the front ends: does this summary mean "some input went to unmanaged"?
pub fn went_unmanaged(s: &Summary) -> bool {
    s.unmanaged > 0 || s.files_unmanaged_whole > 0
}
