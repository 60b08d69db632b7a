//! Carrying out a journaled batch: its writes staged and committed together, then the moves,
//! the index, the removal of the originals (`cleanup`), the log record, and the journal's
//! retirement. The same steps finish a batch a killed run left (`recover`).

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use super::cleanup::{aside_path, holds_regular, remove_originals};
use super::preflight::{leaves_the_fabric, safe_join};
use super::{Content, Digest, Journal, Rename, Source};
use crate::error::{io, Error, Result};
use crate::event::{Event, Phase, Sink};
use crate::fabric::{self, kustomization, Fabric};
use crate::oplog;
use crate::store::{failpoint, Batch, Dir, Dirs, ReadRegular, StoreError};

/// The bytes of each source: the archive copy if it is complete, else the original if it still
/// holds the journaled bytes (where it is, or taken aside by a killed cleanup). None when
/// neither does (changed by hand mid-batch).
fn source_bytes(fabric: &Fabric, journal: &Journal) -> Result<Vec<Option<Vec<u8>>>> {
    // The paths removed, gathered only if some source is found nowhere else.
    let mut removed: Option<std::collections::HashSet<&str>> = None;
    // Never through a symlink, never waiting on a FIFO: an input that is no longer a regular
    // file is one that changed, and is skipped like any other.
    let read_if = |p: &Path, s: &Source| -> Result<Option<Vec<u8>>> {
        Ok(ReadRegular::new()
            .read(p)?
            .bytes()
            .filter(|b| b.len() as u64 == s.len && Digest::of(b) == s.sha256))
    };
    let mut out = Vec::with_capacity(journal.sources.len());
    for s in &journal.sources {
        let mut found = None;
        for rel in s.archive.iter().chain(std::iter::once(&s.path)) {
            found = read_if(&safe_join(fabric, rel)?, s)?;
            if found.is_some() {
                break;
            }
        }
        if found.is_none() {
            let removed = removed
                .get_or_insert_with(|| journal.removes.iter().map(|r| r.path.as_str()).collect());
            if removed.contains(s.path.as_str()) {
                let p = safe_join(fabric, &s.path)?;
                found = read_if(&aside_path(&p, &journal.batch), s)?;
            }
        }
        if found.is_none() {
            // The batch's own copy of the whole source (a moved or adopted file, whose
            // original this batch already removed).
            let index = out.len();
            let whole = journal.writes.iter().filter(|w| {
                matches!(&w.content, Content::Source { source, parts }
                    if *source == index && parts[..] == [[0, s.len as usize]])
            });
            for w in whole {
                found = read_if(&safe_join(fabric, &w.path)?, s)?;
                if found.is_some() {
                    break;
                }
            }
        }
        out.push(found);
    }
    Ok(out)
}

/// Whether `path` is a regular file holding exactly the bytes of `digest` (a symlink, a
/// FIFO or a folder there does not, and is never opened or waited on).
fn holds_digest(path: &Path, digest: &Digest) -> bool {
    holds_regular(path, digest).unwrap_or(false)
}

/// Carry out a batch just journaled, then retire the journal.
pub fn execute(fabric: &Fabric, journal: &Journal, sink: &mut dyn Sink) -> Result<()> {
    run(fabric, journal, false, sink)
}

/// How the kustomization is brought up to date after a batch's writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Index {
    /// Listed and rewritten after the commit (a resumed batch, a move).
    Refresh,
    /// Predicted from a listing taken before the commit and staged last in the batch
    /// (`kustomization::predict`), or already right: nothing left to do.
    Staged,
}

/// Carry out, or finish when `resumed`, a journaled batch. A resumed batch first skips every
/// output already holding its bytes; a fresh one writes them all, since its plan only lists
/// outputs that differ (rewriting an identical file is harmless, re-reading 10^5 is not).
pub(super) fn run(
    fabric: &Fabric,
    journal: &Journal,
    resumed: bool,
    sink: &mut dyn Sink,
) -> Result<()> {
    run_in(fabric, journal, resumed, sink).map_err(|e| kept(journal, e))
}

/// A folder refused mid-batch (a symlink where the batch works, or a folder swapped since
/// it was opened), said with what becomes of the batch: nothing went through it, and the
/// journal is kept for when the layout is fixed.
fn kept(journal: &Journal, e: Error) -> Error {
    match e {
        Error::Store(StoreError::Refused { path, why }) => Error::Unsafe {
            path,
            message: format!(
                "{}; the interrupted batch {} ({}) is kept in {} and finished by the next run once this is a real folder again",
                why,
                journal.batch,
                journal.command,
                fabric::JOURNAL
            ),
        },
        other => other,
    }
}

fn run_in(fabric: &Fabric, journal: &Journal, resumed: bool, sink: &mut dyn Sink) -> Result<()> {
    let done = |p: &Path, sha: &Digest| resumed && holds_digest(p, sha);
    let sources = source_bytes(fabric, journal)?;
    for (s, b) in journal.sources.iter().zip(&sources) {
        if b.is_none() {
            sink.emit(Event::Error {
                file: Some(s.path.clone()),
                message: "changed, removed or no longer a regular file since the batch read it; its part of the batch is skipped and it is left as it is (never opened if it is not a file)".into(),
            });
        }
    }
    // Everything of a skipped source is skipped: its outputs, its reason files, the removals
    // tied to it, its lines in the log record.
    let skipped: Vec<bool> = sources.iter().map(Option::is_none).collect();

    // 1. Archive copies and every output, made durable together (one sync for the batch).
    sink.emit(Event::PhaseStarted {
        phase: Phase::Write,
        total: Some(journal.writes.len()),
    });
    // Folders a write needs that do not exist yet the batch stages whole and renames in at
    // commit (preflight checked the existing part of every chain).
    let mut batch = Batch::within(Dirs::within(&fabric.root));
    for (s, b) in journal.sources.iter().zip(&sources) {
        if let (Some(archive), Some(bytes)) = (&s.archive, b) {
            let p = safe_join(fabric, archive)?;
            if !done(&p, &s.sha256) {
                batch.stage_write(&p, bytes)?;
            }
        }
    }
    let total = journal.writes.len();
    // Staged a chunk at a time, on every core (see `Batch::stage_writes`); a chunk bounds the
    // output bytes held at once.
    const CHUNK: usize = 2048;
    let mut pending: Vec<(std::path::PathBuf, std::borrow::Cow<[u8]>)> = Vec::with_capacity(CHUNK);
    for (i, w) in journal.writes.iter().enumerate() {
        let bytes: std::borrow::Cow<[u8]> = match &w.content {
            Content::Text(t) => {
                if t.source.is_some_and(|i| skipped.get(i) == Some(&true)) {
                    continue;
                }
                if let Some(r) = t.rename.and_then(|k| journal.renames.get(k)) {
                    if !rename_can_happen(fabric, r)? {
                        continue;
                    }
                }
                t.text.as_bytes().into()
            }
            Content::Source { source, parts } => {
                let Some(Some(src)) = sources.get(*source) else {
                    continue;
                };
                let mut v = Vec::new();
                for [a, b] in parts {
                    match src.get(*a..*b) {
                        Some(s) => v.extend_from_slice(s),
                        None => {
                            return Err(Error::Journal {
                                path: fabric.path(fabric::JOURNAL),
                                message: format!("range {a}..{b} outside source {source}"),
                            })
                        }
                    }
                }
                v.into()
            }
        };
        let p = safe_join(fabric, &w.path)?;
        if !(resumed && holds_digest(&p, &w.sha256)) {
            pending.push((p, bytes));
        }
        if pending.len() == CHUNK {
            batch.stage_writes(&pending)?;
            pending.clear();
            sink.emit(Event::Progress {
                phase: Phase::Write,
                done: i + 1,
                total,
            });
        }
    }
    batch.stage_writes(&pending)?;
    drop(pending);
    finish(fabric, journal, batch, Index::Refresh, &skipped, sink)
}

/// Whether a journaled move of a file unread (over the size cap) is done or can still be:
/// the file is there to move, or already moved. Its reason is written only then.
fn rename_can_happen(fabric: &Fabric, r: &Rename) -> Result<bool> {
    let (from, to) = (safe_join(fabric, &r.from)?, safe_join(fabric, &r.to)?);
    Ok(std::fs::symlink_metadata(&from).is_ok_and(|m| m.is_file())
        || std::fs::symlink_metadata(&to).is_ok())
}

/// From the staged writes on: commit them, move, index, remove the originals, log, retire.
/// Also how an ingest carries out a batch it just journaled, whose every write (archive copies
/// included) `batch` already holds, staged while its inputs were read. `skipped[i]`: source
/// `i` was changed or removed before a resumed batch could use it (none for a fresh batch).
pub fn finish(
    fabric: &Fabric,
    journal: &Journal,
    batch: Batch,
    index: Index,
    skipped: &[bool],
    sink: &mut dyn Sink,
) -> Result<()> {
    finish_in(fabric, journal, batch, index, skipped, sink).map_err(|e| kept(journal, e))
}

/// `finish`. Every step works in the folders the batch holds open (`store::Dirs`), and each
/// phase starts by checking that they are still where they were (`Dirs::verify`): a folder
/// swapped for a symlink mid-run refuses the batch, its journal kept, and nothing is ever
/// written or removed through it.
fn finish_in(
    fabric: &Fabric,
    journal: &Journal,
    batch: Batch,
    index: Index,
    skipped: &[bool],
    sink: &mut dyn Sink,
) -> Result<()> {
    let dirs = batch.dirs();
    let stats = batch.commit()?;
    tracing::debug!(batch = %journal.batch, ?stats, "writes in place");
    // Renames are idempotent by state: done when the source is gone and the target is there.
    // Their folders are made here, after the commit (folders the writes needed that did not
    // exist, the batch staged whole and renamed in at commit).
    let mut touched: BTreeMap<std::path::PathBuf, Arc<Dir>> = BTreeMap::new();
    for r in &journal.renames {
        let (from, to) = (safe_join(fabric, &r.from)?, safe_join(fabric, &r.to)?);
        let Some((from_dir, from_name)) = dirs.parent_of(&from)? else {
            continue;
        };
        if !from_dir.is_file(from_name) {
            continue;
        }
        let (Some(to_parent), Some(to_name)) = (to.parent(), to.file_name()) else {
            return Err(leaves_the_fabric(fabric, &r.to));
        };
        let to_dir = dirs.create_all(to_parent)?;
        if to_dir.exists(to_name).map_err(|e| io("inspect", &to, e))? {
            continue;
        }
        from_dir
            .rename(from_name, &to_dir, to_name)
            .map_err(|e| io("rename", &from, e))?;
        for d in [from_dir, to_dir] {
            touched.entry(d.path().to_path_buf()).or_insert(d);
        }
    }
    for d in touched.values() {
        d.sync()?;
    }
    failpoint("journal.after-writes");

    // 2. The index that Argo CD and Flux read, and the manifest.
    sink.emit(Event::PhaseStarted {
        phase: Phase::Index,
        total: None,
    });
    dirs.verify()?;
    if index == Index::Refresh {
        let leaving: Vec<String> = journal
            .removes
            .iter()
            .map(|r| &r.path)
            .chain(journal.renames.iter().map(|r| &r.from))
            .filter_map(|p| p.strip_prefix("managed/").map(str::to_string))
            .collect();
        let adding: Vec<&str> = journal
            .writes
            .iter()
            .filter_map(|w| w.path.strip_prefix("managed/"))
            .collect();
        kustomization::refresh_without_in(fabric, &leaving, &adding, &dirs)?;
    }
    failpoint("journal.after-index");

    // 3. Originals leave raw/ only now that their copies are durable, and still where they
    // were written.
    sink.emit(Event::PhaseStarted {
        phase: Phase::Cleanup,
        total: Some(journal.removes.len()),
    });
    dirs.verify()?;
    remove_originals(fabric, journal, skipped, &dirs, sink)?;
    failpoint("journal.after-removes");

    // 4. The append-only log, only once everything else is done: a kill at an earlier fail
    // point leaves the log as it was, never a torn record.
    dirs.verify()?;
    append_log(fabric, journal, skipped, &dirs)?;
    failpoint("journal.after-log");
    let jpath = fabric.path(fabric::JOURNAL);
    let hnp = dirs.existing(&fabric.path(fabric::HNP))?;
    hnp.unlink(std::ffi::OsStr::new("journal.json"))
        .map_err(|e| io("remove journal", &jpath, e))?;
    hnp.sync()?;
    if let Some(spool) = &journal.log_file {
        // Only a leftover once the journal is gone: the next batch empties it anyway.
        if let Ok(Some((dir, name))) = dirs.parent_of(&safe_join(fabric, spool)?) {
            let _ = dir.unlink(name);
        }
    }
    Ok(())
}

/// The batch's record in the operation log: what the journal planned, less the sources
/// `skipped` (changed since it was journaled).
fn append_log(fabric: &Fabric, journal: &Journal, skipped: &[bool], dirs: &Dirs) -> Result<()> {
    let body = match &journal.log_file {
        Some(rel) => oplog::Body::Spooled(safe_join(fabric, rel)?),
        None => oplog::Body::Inline(&journal.log),
    };
    let mut left_out = Vec::new();
    for (s, _) in journal.sources.iter().zip(skipped).filter(|(_, s)| **s) {
        left_out.push(oplog::LeftOut {
            path: &s.path,
            sha256: s.sha256,
        });
    }
    let finished = oplog::Finished {
        batch: &journal.batch,
        command: &journal.command,
        started_at: &journal.started_at,
        summary: &journal.summary,
        body,
    };
    oplog::append_batch(fabric, dirs, &finished, &left_out)
}
