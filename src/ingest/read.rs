//! Reading `raw/`: discovery, each file read once it holds still, and analysed, on every core.

use std::collections::BTreeMap;
use std::path::Path;

use super::{analyze, stage, FOLDER_ESCAPE};
use crate::discover::{self, Found, ReadOutcome};
use crate::error::Result;
use crate::event::{Event, Phase, Sink, Skip, Summary};
use crate::fabric::{self, Fabric};
use crate::validate::Validator;
use crate::yaml::Limits;

use analyze::FileAnalysis;

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
pub(super) fn too_deep(fabric: &Fabric, batch: &str, rel: &str) -> Option<String> {
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

/// The fabrics found inside raw/ (`fgd init` run in a folder of it), whose files an ingest
/// never takes: each folder of raw/ is looked at once.
#[derive(Default)]
pub(super) struct NestedFabrics {
    /// Folder (fabric-relative) -> whether it is a fabric's root.
    roots: std::cell::RefCell<std::collections::HashMap<String, bool>>,
}

impl NestedFabrics {
    /// Why the raw file `rel` must be left alone, when a folder it is in (raw/ included) is a
    /// fabric of its own.
    pub fn of(&self, fabric: &Fabric, rel: &str) -> Option<String> {
        let mut roots = self.roots.borrow_mut();
        let mut folder = rel;
        let mut found = None;
        while let Some((parent, _)) = folder.rsplit_once('/') {
            // Looked up without a new string: 10^5 files share a few folders.
            let is_root = match roots.get(parent) {
                Some(known) => *known,
                None => {
                    let is_root = fabric::is_fabric_root(&fabric.path(parent));
                    roots.insert(parent.to_string(), is_root);
                    is_root
                }
            };
            if is_root {
                found = Some(parent);
            }
            folder = parent;
        }
        found.map(|root| {
            format!(
                "inside {root}, which is a fabric of its own ({root}/{}): fabrics do not nest, so fgd never ingests another fabric's files; left in raw/: move {root} out of raw/",
                fabric::MANIFEST
            )
        })
    }
}

/// Why a raw file (by its fabric-relative path) must be left alone, if it must.
pub(super) type Refuse<'a> = &'a dyn Fn(&str) -> Option<String>;

/// `read_inputs`, leaving out (as skipped) each file `refuse` names a reason for.
#[allow(clippy::too_many_arguments)]
pub(super) fn read_inputs_within(
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
        // Only an ingest keeps the analyses through a plan; `fgd validate` is done with them
        // soon after, and the copy would take a core from the reading threads.
        let settle = stager.is_some();
        for (i, read) in rx {
            early.insert(i, read?);
            while let Some(read) = early.remove(&due) {
                let read = if settle { read.settled() } else { read };
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

impl Read {
    /// The same, made again by the calling thread. An analysis lives until the plan, what a
    /// reading thread makes beside it (the file's bytes, its parse) only while the file is
    /// read: made side by side, the analyses' small blocks held most of the reading threads'
    /// pages until the end of the plan (at 10^5 documents, about 4 MB of the top of an
    /// ingest's memory). The copy costs a few milliseconds per 10^4 documents.
    fn settled(self) -> Read {
        match self {
            Read::Analysis(a) => {
                let mut copy = a.clone();
                // The facts too, which a clone would share.
                for d in copy.docs_mut() {
                    if let Some(facts) = &d.facts {
                        d.facts = Some(std::sync::Arc::new(crate::validate::Facts::clone(facts)));
                    }
                }
                Read::Analysis(copy)
            }
            skipped => skipped,
        }
    }
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
                analysis.keep_facts_of_managed_only();
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
