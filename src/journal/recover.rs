//! Finishing what an interrupted run left: its temps swept, the files a killed cleanup took
//! aside settled, and its journal run again.

use super::cleanup::{put_back, ASIDE_PREFIX};
use super::preflight::preflight_resume;
use super::run::run;
use super::{load, Journal};
use crate::error::{io, Error, Result};
use crate::event::{Event, Phase, Sink};
use crate::fabric::{self, Fabric};
use crate::store::sys::{self, Errno};
use crate::store::{self, Dirs};

/// Finish whatever an interrupted run left. Call with the fabric lock held.
pub fn recover(fabric: &Fabric, sink: &mut dyn Sink) -> Result<Option<String>> {
    // The walk that sweeps temps also finds files a killed cleanup left aside.
    let mut asides = Vec::new();
    for rel in [fabric::MANAGED, fabric::UNMANAGED, fabric::HNP, fabric::RAW] {
        let p = fabric.path(rel);
        if p.is_dir() {
            let (_, found) = store::sweep_temp_files_noting(&p, Some(ASIDE_PREFIX))?;
            asides.extend(found);
        }
    }
    let journal = load(fabric)?;
    if !asides.is_empty() {
        put_back_orphans(fabric, &asides, journal.as_ref(), sink)?;
    }
    let Some(journal) = journal else {
        return Ok(None);
    };
    // The layout may have changed since the batch was journaled (a folder made a symlink):
    // the same checks as a fresh run, before anything is done.
    preflight_resume(fabric, &journal).map_err(|e| match e {
        Error::Unsafe { path, message } => Error::Unsafe {
            path,
            message: format!(
                "{message}; the interrupted batch {} ({}) is kept in {} and finished by the next run once this is a real folder again",
                journal.batch,
                journal.command,
                fabric::JOURNAL
            ),
        },
        other => other,
    })?;
    sink.emit(Event::PhaseStarted {
        phase: Phase::Recover,
        total: Some(journal.steps()),
    });
    tracing::info!(batch = %journal.batch, command = %journal.command, steps = journal.steps(), "finishing an interrupted batch");
    sink.emit(Event::Recovering {
        batch: journal.batch.clone(),
        command: journal.command.clone(),
        steps: journal.steps(),
    });
    run(fabric, &journal, true, sink)?;
    Ok(Some(journal.batch))
}

/// Put back, each under the name it was taken from (or a free `~N` beside it, never over a
/// file saved since), every file a killed cleanup left in an aside folder (`aside_dir_name`)
/// that no journal names: the journal was deleted (`git clean -fdX` removes it with the lock),
/// so nothing else would ever show the operator's version again. Each is reported. An older
/// fgd's aside file (`ASIDE_PREFIX<batch>-<i>`, without its name) is reported where it is.
fn put_back_orphans(
    fabric: &Fabric,
    found: &[std::path::PathBuf],
    journal: Option<&Journal>,
    sink: &mut dyn Sink,
) -> Result<()> {
    let dirs = Dirs::within(&fabric.root);
    let named = |tag: &str| journal.is_some_and(|j| j.batch == tag);
    for p in found {
        let (Some(parent), Some(name)) = (p.parent(), p.file_name()) else {
            continue;
        };
        let Some(tag) = name.to_str().and_then(|n| n.strip_prefix(ASIDE_PREFIX)) else {
            continue;
        };
        let Some(dir) = dirs.open(parent)? else {
            continue;
        };
        let aside = match dir.open_dir(name) {
            Ok(a) => a,
            Err(e) if sys::is_any(&e, &[Errno::NOTDIR, Errno::LOOP]) => {
                let batch = tag.rsplit_once('-').map_or(tag, |(b, _)| b);
                if !dir.is_file(name) {
                    sink.emit(Event::Error {
                        file: Some(fabric.rel(p)),
                        message: "named like fgd's aside folder but not a folder (a symlink?): left alone".into(),
                    });
                } else if !named(batch) {
                    sink.emit(Event::Error {
                        file: Some(fabric.rel(p)),
                        message: "taken aside by an older fgd whose run was killed, and no journal names that run any more: its original name is not known, so it is left here, hidden; rename it (to a .yaml name in raw/ to have it ingested)".into(),
                    });
                }
                continue;
            }
            Err(e) => return Err(io("open folder", p, e)),
        };
        if named(tag) {
            // Its journal settles it.
            continue;
        }
        let entries = aside.entries().map_err(|e| io("list", p, e))?;
        for (was, _) in entries {
            let to = put_back(&aside, &was, &dir, &was)?;
            let beside = if to == was {
                String::new()
            } else {
                format!(
                    " beside a newer {}, as {}",
                    was.to_string_lossy(),
                    to.to_string_lossy()
                )
            };
            sink.emit(Event::Error {
                file: Some(fabric.rel(&dir.join(&was))),
                message: format!(
                    "put back{beside}: a run that was killed had taken it aside, and no journal names that run any more (deleted, by `git clean -fdX` perhaps); it is read again like any file here"
                ),
            });
        }
        match dir.rmdir(name) {
            Ok(()) => {}
            Err(e) if sys::is_any(&e, &[Errno::NOENT, Errno::NOTEMPTY]) => {}
            Err(e) => return Err(io("remove folder", p, e)),
        }
        dir.sync()?;
    }
    Ok(())
}

/// Every file a killed cleanup left aside in `raw/`, `managed/` or `unmanaged/`, by its
/// fabric-relative path, for `status` (read-only: nothing is put back here).
pub fn find_asides(fabric: &Fabric) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack: Vec<std::path::PathBuf> = [fabric::RAW, fabric::MANAGED, fabric::UNMANAGED]
        .iter()
        .map(|r| fabric.path(r))
        .collect();
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let Ok(t) = e.file_type() else { continue };
            let aside = e
                .file_name()
                .to_str()
                .is_some_and(|n| n.starts_with(ASIDE_PREFIX));
            match (aside, t.is_dir()) {
                (true, true) => {
                    if let Ok(inside) = std::fs::read_dir(e.path()) {
                        out.extend(inside.flatten().map(|i| fabric.rel(&i.path())));
                    }
                }
                (true, false) => out.push(fabric.rel(&e.path())),
                (false, true) => stack.push(e.path()),
                (false, false) => {}
            }
        }
    }
    out.sort();
    out
}
