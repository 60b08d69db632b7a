//! `fgd watch`: the dashboard's live validation, headless. Validates raw/ once, then every file
//! as it settles (see `fgd::watch`), until stopped or `--count` files were reported.

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use fgd::error::{io, Error, Exit};
use fgd::event::{Event, Sink};
use fgd::watch::{RawChange, Settle};

use super::render::Renderer;

/// Counts the files reported, whatever their fate.
struct Counting<'a> {
    inner: &'a mut Renderer,
    files: usize,
}

impl Sink for Counting<'_> {
    fn emit(&mut self, e: Event) {
        if matches!(
            e,
            Event::FileFinished { .. } | Event::FileSkipped { .. } | Event::FileVanished { .. }
        ) {
            self.files += 1;
        }
        self.inner.emit(e);
    }
}

/// Editor temps, hidden files and anything not YAML/JSON: never reported one by one.
fn worth_reporting(path: &Path) -> bool {
    let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
        return false;
    };
    if fgd::discover::ignored_name(name).is_some() {
        return false;
    }
    path.is_dir() || fgd::discover::format_of(name).is_some()
}

pub fn run(
    fabric: &Path,
    quiet: Duration,
    json: bool,
    count: Option<usize>,
    validator: &fgd::validate::Validator,
) -> Result<Exit, Error> {
    let raw = fabric.join(fgd::fabric::RAW);
    if !raw.is_dir() {
        return Err(Error::Usage(format!(
            "{}: no raw/ folder here; is this a fabric directory? (fgd init creates one)",
            fabric.display()
        )));
    }
    let mut out = Renderer::new(json, "validate");
    let limits = Default::default();
    let (tx, rx) = mpsc::channel::<RawChange>();
    // Watch before the first pass, so nothing written during it is missed.
    let _watcher = fgd::watch::watch_raw(&raw, move |c| {
        let _ = tx.send(c);
    })
    .map_err(|e| io("watch", &raw, std::io::Error::other(e.to_string())))?;
    fgd::ops::validate(&[fabric.to_path_buf()], &limits, validator, &mut out)?;
    // The whole fabric kept validated: a changed file's objects are also judged against every
    // other object (overlaps, references), with only that file read again.
    let mut live = fgd::validate::Validator::new(validator.settings.clone())
        .ok()
        .and_then(|v| fgd::validate::live::Live::load(fabric, std::sync::Arc::new(v)).ok());
    // A changed file alone is judged object by object; across objects, by `live`.
    let alone = fgd::validate::Settings {
        objects_alone: live.is_some(),
        ..validator.settings.clone()
    };
    let alone = fgd::validate::Validator::new(alone).map_err(|e| Error::Usage(e.to_string()))?;
    out.emit(Event::Watching {
        dir: raw.to_string_lossy().into_owned(),
        quiet_ms: quiet.as_millis() as u64,
    });
    let mut sink = Counting {
        inner: &mut out,
        files: 0,
    };
    // notify reports absolute paths; show them under the fabric path as the operator gave it.
    let canon = std::fs::canonicalize(fabric).map_err(|e| io("open", fabric, e))?;
    let shown = |p: PathBuf| match p.strip_prefix(&canon) {
        Ok(rest) => fabric.join(rest),
        Err(_) => p,
    };
    let mut settle = Settle::new(quiet);
    loop {
        // Checked after every report: nobody reading (`fgd watch | head`) ends the watch.
        if count.is_some_and(|n| sink.files >= n) || sink.inner.reader_gone() {
            return Ok(Exit::Success);
        }
        let wait = settle
            .next_due()
            .map(|t| t.saturating_duration_since(Instant::now()))
            .unwrap_or(Duration::from_secs(3600));
        match rx.recv_timeout(wait) {
            Ok(first) => {
                let now = Instant::now();
                for change in std::iter::once(first).chain(rx.try_iter()) {
                    match change {
                        RawChange::Path { path, complete } => {
                            settle.touch(shown(path), complete, now)
                        }
                        RawChange::Rescan => {
                            fgd::ops::validate(
                                &[fabric.to_path_buf()],
                                &limits,
                                validator,
                                &mut sink,
                            )?;
                        }
                    }
                }
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                return Err(Error::Refused(format!(
                    "the watcher on {} stopped",
                    raw.display()
                )))
            }
        }
        for path in settle.take_due(Instant::now()) {
            report(&path, &limits, &alone, &mut sink)?;
            if let Some(live) = live.as_mut() {
                across(live, fabric, &path, &mut sink);
            }
        }
    }
}

/// The changed file's problems across the fabric (its objects alone were said by its own
/// report).
fn across(live: &mut fgd::validate::live::Live, fabric: &Path, path: &Path, sink: &mut Counting) {
    let Ok(inner) = path.strip_prefix(fabric) else {
        return;
    };
    let rel = inner.to_string_lossy().into_owned();
    let bytes = fgd::store::ReadRegular::new()
        .read(path)
        .ok()
        .and_then(|r| r.bytes());
    live.update(&rel, bytes);
    let cross = live.cross();
    for (object, problem) in cross.get(&rel).into_iter().flatten() {
        sink.emit(Event::Problem {
            file: path.to_string_lossy().into_owned(),
            object: Some(object.clone()),
            problem: problem.clone(),
        });
    }
}

fn report(
    path: &PathBuf,
    limits: &fgd::yaml::Limits,
    validator: &fgd::validate::Validator,
    sink: &mut Counting,
) -> Result<(), Error> {
    match std::fs::symlink_metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if worth_reporting(path) {
                sink.emit(Event::FileVanished {
                    file: path.to_string_lossy().into_owned(),
                });
            }
            Ok(())
        }
        Err(e) => Err(io("inspect", path, e)),
        Ok(_) if !worth_reporting(path) => Ok(()),
        Ok(_) => {
            fgd::ops::validate(std::slice::from_ref(path), limits, validator, sink).map(|_| ())
        }
    }
}
