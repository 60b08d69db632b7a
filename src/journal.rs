//! The batch journal: every mutating command first writes, durably, the complete list of what
//! it will do, then carries it out. Each step is idempotent (a write is skipped when the target
//! already holds the expected bytes, a removal only happens while the file still holds the bytes
//! that were read), so a run killed at any instant is finished by the next one: `recover` simply
//! executes the journal again. Nothing is rolled back, because every step only ever adds a copy
//! before the original is removed.

use std::collections::BTreeMap;
use std::ffi::{OsStr, OsString};
use std::path::Path;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::error::{io, Error, Result};
use crate::event::{Event, Phase, Sink};
use crate::fabric::{self, kustomization, Fabric};
use crate::ingest::analyze::sha256_hex;
use crate::store::{self, failpoint, Batch, Dir, Dirs};

pub const JOURNAL_VERSION: u32 = 1;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Journal {
    pub version: u32,
    pub batch: String,
    pub command: String,
    pub started_at: String,
    /// Input files, with the hash of the bytes that were classified.
    pub sources: Vec<Source>,
    pub writes: Vec<Write>,
    pub removes: Vec<Remove>,
    /// Files moved as they are, without being read (over the size cap).
    #[serde(default)]
    pub renames: Vec<Rename>,
    /// The operation-log record appended when the batch is done.
    pub log: Box<serde_json::value::RawValue>,
    /// Where the record's text is instead, for a big batch: `LOG_SPOOL`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_file: Option<String>,
    /// Counts for the manifest's `last_batch`.
    pub summary: crate::event::Summary,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Source {
    /// Fabric-relative path of the input.
    pub path: String,
    pub sha256: String,
    pub len: u64,
    /// Where the byte-identical archive copy goes (fabric-relative), if any.
    pub archive: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Write {
    pub path: String,
    pub sha256: Digest,
    pub content: Content,
}

/// A SHA-256 kept as its 32 bytes and written as 64 hex digits: a big batch's journal holds
/// 10^5 of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Digest(pub [u8; 32]);

impl Digest {
    pub fn of(bytes: &[u8]) -> Digest {
        use sha2::Digest as _;
        Digest(sha2::Sha256::digest(bytes).into())
    }

    pub fn from_hex(hex: &str) -> Option<Digest> {
        let hex = hex.as_bytes();
        if hex.len() != 64 {
            return None;
        }
        let mut out = [0u8; 32];
        for (o, pair) in out.iter_mut().zip(hex.chunks(2)) {
            let digit = |c: u8| (c as char).to_digit(16);
            *o = (digit(pair[0])? * 16 + digit(pair[1])?) as u8;
        }
        Some(Digest(out))
    }
}

impl Digest {
    /// Lowercase hex, without the formatter: a journal writes 10^5 of them.
    fn hex(&self) -> [u8; 64] {
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        let mut out = [0u8; 64];
        for (pair, b) in out.chunks_exact_mut(2).zip(self.0) {
            pair[0] = DIGITS[usize::from(b >> 4)];
            pair[1] = DIGITS[usize::from(b & 15)];
        }
        out
    }
}

impl std::fmt::Display for Digest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let hex = self.hex();
        f.write_str(std::str::from_utf8(&hex).map_err(|_| std::fmt::Error)?)
    }
}

impl Serialize for Digest {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let hex = self.hex();
        match std::str::from_utf8(&hex) {
            Ok(text) => s.serialize_str(text),
            Err(_) => Err(serde::ser::Error::custom("a digest's hex is ASCII")),
        }
    }
}

impl<'de> Deserialize<'de> for Digest {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Digest, D::Error> {
        let hex = String::deserialize(d)?;
        Digest::from_hex(&hex)
            .ok_or_else(|| serde::de::Error::custom(format!("{hex:?} is not a SHA-256")))
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "from", rename_all = "kebab-case")]
pub enum Content {
    /// Byte ranges of source `source`, concatenated.
    Source {
        source: usize,
        parts: Box<[[usize; 2]]>,
    },
    Text {
        text: String,
        /// The source whose part of the batch this is (an unmanaged item's reason): not
        /// written when that source is skipped.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        source: Option<usize>,
        /// The rename whose item this describes: not written when that rename cannot happen.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        rename: Option<usize>,
    },
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Rename {
    pub from: String,
    pub to: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Remove {
    pub path: String,
    /// Remove only while the file still holds exactly these bytes (None: unconditionally).
    pub sha256: Option<String>,
    /// The source whose part of the batch this is (an adopted item's reason): not removed
    /// when that source is skipped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<usize>,
}

impl Journal {
    pub fn new(command: &str) -> Journal {
        Journal {
            version: JOURNAL_VERSION,
            batch: new_batch_id(),
            command: command.into(),
            started_at: store::now_rfc3339(),
            sources: Vec::new(),
            writes: Vec::new(),
            removes: Vec::new(),
            renames: Vec::new(),
            log: raw(&serde_json::json!({})),
            log_file: None,
            summary: Default::default(),
        }
    }

    pub fn steps(&self) -> usize {
        self.sources.len() + self.writes.len() + self.removes.len() + self.renames.len()
    }
}

/// Compact JSON text of a log record: records of big batches stay text, never value trees
/// (a `serde_json::Value` map costs kilobytes per document).
pub fn raw<T: Serialize + ?Sized>(v: &T) -> Box<serde_json::value::RawValue> {
    serde_json::value::to_raw_value(v).unwrap_or_else(|_| {
        serde_json::value::RawValue::from_string("{}".into()).expect("valid JSON")
    })
}

/// Sortable and unique per process and millisecond.
pub fn new_batch_id() -> String {
    let now = store::now_rfc3339();
    let compact: String = now.chars().filter(|c| c.is_ascii_alphanumeric()).collect();
    static SEQ: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let seq = SEQ.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    format!("{compact}-{}-{seq}", std::process::id())
}

/// Refuse, before anything is journaled, a batch whose targets would pass through a symlinked
/// or non-directory folder, or leave the fabric.
pub fn preflight(fabric: &Fabric, journal: &Journal) -> Result<()> {
    // Per folder: the names in it that are folders. One listing per folder, not one stat per
    // target: a big batch writes 10^5 files into a dozen folders. Targets are checked as
    // strings (no path built per target): 10^5 of them are on an ingest's critical path.
    let mut seen: std::collections::HashMap<&str, std::collections::HashSet<std::ffi::OsString>> =
        std::collections::HashMap::new();
    let targets = journal
        .writes
        .iter()
        .map(|w| w.path.as_str())
        .chain(journal.sources.iter().filter_map(|s| s.archive.as_deref()))
        .chain(journal.renames.iter().map(|r| r.to.as_str()));
    for t in targets {
        let Some((parent, name)) = split_in_fabric(fabric, t)? else {
            continue;
        };
        let folders = match seen.entry(parent) {
            std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::hash_map::Entry::Vacant(e) => {
                check_folders_of(fabric, Path::new(parent), &fabric.root.join(t))?;
                e.insert(folders_in(&fabric.root.join(parent)))
            }
        };
        if folders.contains(std::ffi::OsStr::new(name)) {
            return Err(Error::Unsafe {
                path: fabric.root.join(t),
                message: "is a directory where fgd must write a file".into(),
            });
        }
    }
    Ok(())
}

/// `preflight` for a batch resumed after a kill, which also checks the folders it removes and
/// moves from: a fresh batch found those by walking them (never through a symlink) just
/// before, but a resumed one finds them as the operator left them.
fn preflight_resume(fabric: &Fabric, journal: &Journal) -> Result<()> {
    preflight(fabric, journal)?;
    let mut checked = std::collections::HashSet::new();
    let sources = journal
        .removes
        .iter()
        .map(|r| r.path.as_str())
        .chain(journal.renames.iter().map(|r| r.from.as_str()))
        .chain(journal.sources.iter().map(|s| s.path.as_str()));
    for rel in sources {
        if let Some((parent, _)) = split_in_fabric(fabric, rel)? {
            if checked.insert(parent) {
                check_folders_of(fabric, Path::new(parent), &fabric.root.join(rel))?;
            }
        }
    }
    Ok(())
}

/// A journaled path as (folder, name), refused unless it stays in the fabric; `None` for a
/// name at the fabric's top.
fn split_in_fabric<'a>(fabric: &Fabric, rel: &'a str) -> Result<Option<(&'a str, &'a str)>> {
    if !plain_relative(rel) {
        return Err(leaves_the_fabric(fabric, rel));
    }
    Ok(rel.rsplit_once('/'))
}

/// `a/b/c` with plain names only: not empty, not absolute, no `.`, `..` or empty component.
/// (Stricter than `store::is_within`, which lets `a/./b` through; fgd never journals that.)
fn plain_relative(rel: &str) -> bool {
    !rel.is_empty()
        && rel
            .split('/')
            .all(|c| !c.is_empty() && c != "." && c != "..")
}

fn leaves_the_fabric(fabric: &Fabric, rel: &str) -> Error {
    Error::Journal {
        path: fabric.path(fabric::JOURNAL),
        message: format!("path {rel:?} leaves the fabric directory; refusing"),
    }
}

/// Refuse to write `target` when a folder of its chain (`parent`, fabric-relative) is a
/// symlink or not a folder.
pub fn check_folders_of(fabric: &Fabric, parent: &Path, target: &Path) -> Result<()> {
    store::check_dir_chain(&fabric.root, parent).map_err(|e| Error::Unsafe {
        path: target.to_path_buf(),
        message: format!(
            "unsafe to work on: its folder {} {}",
            fabric.rel(&e.path),
            e.source
        ),
    })
}

/// The names of the folders directly in `dir` (none if it does not exist yet).
fn folders_in(dir: &Path) -> std::collections::HashSet<std::ffi::OsString> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Default::default();
    };
    entries
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .map(|e| e.file_name())
        .collect()
}

/// A big batch's operation-log record, written as the batch is planned and appended to the
/// log when it is done, so that it is never held whole in memory. Machine-local (`.hnp/local/`
/// is never committed); one at a time, under the fabric lock.
pub const LOG_SPOOL: &str = fabric::LOG_SPOOL;

/// Create (or empty) the log spool for a new batch, in the held `.hnp/local/`.
pub fn create_log_spool(fabric: &Fabric, dirs: &Dirs) -> Result<std::fs::File> {
    let path = fabric.path(LOG_SPOOL);
    let local = dirs.create_all(&fabric.path(fabric::HNP_LOCAL))?;
    local
        .open_file(
            path.file_name().unwrap_or_default(),
            libc::O_WRONLY | libc::O_CREAT | libc::O_TRUNC,
        )
        .map_err(|e| io("create", &path, e))
}

/// Make the journal durable: after this returns, the batch will complete even if killed.
pub fn begin(fabric: &Fabric, journal: &Journal) -> Result<()> {
    preflight(fabric, journal)?;
    let dirs = Dirs::within(&fabric.root);
    let unpublished = write_unpublished(fabric, journal, &dirs)?;
    store::sync_files(&unpublished.files())?;
    unpublished.publish()
}

/// A journal written out but not yet in force. `begin` syncs its files on their own; an ingest
/// lets one syncfs (`store::Batch::sync_with`) make the batch's staged outputs, the journal and
/// the log record it points at durable together, instead of four fsyncs of their own.
pub struct UnpublishedJournal {
    journal: store::Unpublished,
    spool: Option<(std::path::PathBuf, std::fs::File)>,
}

/// Write the journal (already through `preflight`) beside its place, without syncing it.
/// Its folders are those of `dirs`, held open.
pub fn write_unpublished(
    fabric: &Fabric,
    journal: &Journal,
    dirs: &Dirs,
) -> Result<UnpublishedJournal> {
    let spool = match &journal.log_file {
        Some(rel) => {
            let path = safe_join(fabric, rel)?;
            let (dir, name) = dirs.parent_of(&path)?.ok_or_else(|| {
                io(
                    "open",
                    &path,
                    std::io::Error::from(std::io::ErrorKind::NotFound),
                )
            })?;
            let f = dir.open_read(name).map_err(|e| io("open", &path, e))?;
            Some((path, f))
        }
        None => None,
    };
    let hnp = dirs.existing(&fabric.path(fabric::HNP))?;
    let name = std::ffi::OsStr::new("journal.json");
    let journal = store::write_unpublished_in(&hnp, name, |w| {
        serde_json::to_writer(w, journal).map_err(std::io::Error::other)
    })?;
    Ok(UnpublishedJournal { journal, spool })
}

impl UnpublishedJournal {
    /// What must be durable before `publish`: the journal's temp and the log spool.
    pub fn files(&self) -> Vec<(&Path, &std::fs::File)> {
        let mut out = vec![self.journal.temp()];
        out.extend(self.spool.as_ref().map(|(p, f)| (p.as_path(), f)));
        out
    }

    /// Put the journal in force: from here a kill is finished by the next run. Only once
    /// `files` are durable.
    pub fn publish(self) -> Result<()> {
        self.journal.publish()?;
        failpoint("journal.after-begin");
        Ok(())
    }
}

pub fn load(fabric: &Fabric) -> Result<Option<Journal>> {
    let path = fabric.path(fabric::JOURNAL);
    let bytes = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io("read journal", &path, e)),
    };
    let j: Journal = serde_json::from_slice(&bytes).map_err(|e| Error::Journal {
        path: path.clone(),
        message: format!("unreadable ({e}); it was written atomically, so this is damage from outside fgd: inspect it, then remove it to continue"),
    })?;
    if j.version != JOURNAL_VERSION {
        return Err(Error::Journal {
            path,
            message: format!("version {} is not {JOURNAL_VERSION}", j.version),
        });
    }
    Ok(Some(j))
}

/// The bytes of each source: the archive copy if it is complete, else the original if it still
/// holds the journaled bytes (where it is, or taken aside by a killed cleanup). None when
/// neither does (changed by hand mid-batch).
fn source_bytes(fabric: &Fabric, journal: &Journal) -> Result<Vec<Option<Vec<u8>>>> {
    // The paths removed, gathered only if some source is found nowhere else.
    let mut removed: Option<std::collections::HashSet<&str>> = None;
    // Never through a symlink, never waiting on a FIFO: an input that is no longer a regular
    // file is one that changed, and is skipped like any other.
    let read_if = |p: &Path, s: &Source| -> Result<Option<Vec<u8>>> {
        Ok(read_regular(p)?.filter(|b| b.len() as u64 == s.len && sha256_hex(b) == s.sha256))
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

/// A journaled path, refused unless it stays inside the fabric.
fn safe_join(fabric: &Fabric, rel: &str) -> Result<std::path::PathBuf> {
    let p = fabric.root.join(rel);
    if rel.is_empty() || Path::new(rel).is_absolute() || !store::is_within(&fabric.root, &p) {
        return Err(leaves_the_fabric(fabric, rel));
    }
    Ok(p)
}

/// Whether `path` is a regular file holding exactly the bytes of `digest` (a symlink, a
/// FIFO or a folder there does not, and is never opened or waited on).
fn holds_digest(path: &Path, digest: &Digest) -> bool {
    holds_regular(path, digest).unwrap_or(false)
}

/// `holds_digest` for a hash journaled as hex (sources, removals).
fn holds(path: &Path, sha: &str) -> bool {
    Digest::from_hex(sha).is_some_and(|d| holds_digest(path, &d))
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
fn run(fabric: &Fabric, journal: &Journal, resumed: bool, sink: &mut dyn Sink) -> Result<()> {
    run_in(fabric, journal, resumed, sink).map_err(|e| kept(journal, e))
}

/// A folder refused mid-batch (a symlink where the batch works, or a folder swapped since
/// it was opened), said with what becomes of the batch: nothing went through it, and the
/// journal is kept for when the layout is fixed.
fn kept(journal: &Journal, e: Error) -> Error {
    match e {
        Error::Store(s) if s.is_refusal() => Error::Unsafe {
            path: s.path,
            message: format!(
                "{}; the interrupted batch {} ({}) is kept in {} and finished by the next run once this is a real folder again",
                s.source,
                journal.batch,
                journal.command,
                fabric::JOURNAL
            ),
        },
        other => other,
    }
}

fn run_in(fabric: &Fabric, journal: &Journal, resumed: bool, sink: &mut dyn Sink) -> Result<()> {
    let done = |p: &Path, sha: &str| resumed && holds(p, sha);
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
            Content::Text {
                text,
                source,
                rename,
            } => {
                if source.is_some_and(|i| skipped.get(i) == Some(&true)) {
                    continue;
                }
                if let Some(r) = rename.and_then(|k| journal.renames.get(k)) {
                    if !rename_can_happen(fabric, r)? {
                        continue;
                    }
                }
                text.as_bytes().into()
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
    batch.commit()?;
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

/// Every name fgd takes a file aside under starts with this: the folder `ASIDE_PREFIX<batch>`
/// beside the file (or, from fgd before it kept the name, the file `ASIDE_PREFIX<batch>-<i>`).
pub const ASIDE_PREFIX: &str = ".fgd-removing-";

/// The folder, beside the files it holds, where `batch` puts each original while it checks
/// it: on the same file system and under the same folder checks as the file; hidden, so
/// discovery ignores it; not a temp name, so the sweep leaves it for the run that settles it.
/// The file keeps its own name in it, however long, so the name a killed cleanup took it
/// from is known without the journal (`put_back_orphans`).
fn aside_dir_name(batch: &str) -> OsString {
    OsString::from(format!("{ASIDE_PREFIX}{batch}"))
}

/// Where `batch` puts the file at `path` while it checks it (see `aside_dir_name`).
fn aside_path(path: &Path, batch: &str) -> std::path::PathBuf {
    let name = path.file_name().unwrap_or_default();
    path.with_file_name(aside_dir_name(batch)).join(name)
}

/// What became of one journaled removal.
enum Taken {
    /// Nothing there (removed by an earlier run, or by the operator).
    Gone,
    /// It held the journaled bytes and is removed.
    Removed,
    /// Another version (saved after the batch read it): kept, under this name in its folder.
    Kept(OsString),
}

/// One folder the cleanup removes from, held, and its aside folder once made or found.
struct Cleaned {
    dir: Arc<Dir>,
    aside: Option<Dir>,
}

impl Cleaned {
    /// The batch's aside folder here, made if need be (never a symlink).
    fn aside(&mut self, name: &OsStr) -> Result<&Dir> {
        if self.aside.is_none() {
            match self.dir.mkdir(name) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(io("create folder", &self.dir.join(name), e)),
            }
            let held = self
                .dir
                .open_dir(name)
                .map_err(|e| unsafe_aside(&self.dir.join(name), e))?;
            self.aside = Some(held);
        }
        match &self.aside {
            Some(a) => Ok(a),
            None => unreachable!("set just above"),
        }
    }
}

/// A failure to open an aside folder: refused when it is a symlink or not a folder.
fn unsafe_aside(path: &Path, e: std::io::Error) -> Error {
    match e.raw_os_error() {
        Some(libc::ELOOP | libc::ENOTDIR) => Error::Unsafe {
            path: path.to_path_buf(),
            message: "is fgd's aside folder, but not a real folder; fgd never works through it: move it out of the way".into(),
        },
        _ => io("open folder", path, e),
    }
}

/// Remove each original that still holds the bytes the batch read, and nothing else: an
/// operator may save a new version of a raw file at any instant, and that version must stay.
///
/// Checking a path and then unlinking the path cannot promise that: a save (an editor renames
/// its new file over the old) landing between the two is what gets unlinked, and an inode
/// check just before the unlink only narrows that window. So each file is first renamed aside,
/// into the batch's aside folder beside it (`aside_dir_name`, made once per folder). rename(2)
/// is atomic: what is taken is one whole version, and a save after that instant makes a new
/// file that nothing here touches. The version taken is checked where no one else writes and
/// dropped only if it holds the journaled bytes; any other version goes back under its name,
/// never replacing one saved since (that newer one stays, the other goes beside it under a
/// free name). The same system calls per file as a check then an unlink (a rename instead of
/// an lstat), each relative to its folder held open (`dirs`), so a folder swapped for a
/// symlink meanwhile is never worked through; a mkdir, an open and an rmdir per folder. A run
/// killed meanwhile leaves the file aside, under its own name in the batch's folder: the next
/// run settles it the same way from the journal, or, if the journal is gone, puts it back
/// (`put_back_orphans`).
fn remove_originals(
    fabric: &Fabric,
    journal: &Journal,
    skipped: &[bool],
    dirs: &Dirs,
    sink: &mut dyn Sink,
) -> Result<()> {
    let aside_name = aside_dir_name(&journal.batch);
    let mut folders: BTreeMap<std::path::PathBuf, Cleaned> = BTreeMap::new();
    // A skipped source is left as it is (and was reported so), with what is tied to it.
    let left: std::collections::HashSet<&str> = journal
        .sources
        .iter()
        .zip(skipped)
        .filter(|(_, s)| **s)
        .map(|(s, _)| s.path.as_str())
        .collect();
    for r in &journal.removes {
        if r.source.is_some_and(|s| skipped.get(s) == Some(&true))
            || (!left.is_empty() && left.contains(r.path.as_str()))
        {
            continue;
        }
        let p = safe_join(fabric, &r.path)?;
        let name = p.file_name().unwrap_or_default();
        // Its folder gone: the file is gone with it.
        let Some(parent) = p.parent() else {
            continue;
        };
        let folder = match folders.get_mut(parent) {
            Some(f) => f,
            None => {
                let Some(dir) = dirs.open(parent)? else {
                    continue;
                };
                folders
                    .entry(parent.to_path_buf())
                    .or_insert(Cleaned { dir, aside: None })
            }
        };
        let Some(sha) = &r.sha256 else {
            // fgd's own file (an adopted item's reason), removed as it is.
            if folder.dir.is_file(name) {
                match folder.dir.unlink(name) {
                    Ok(()) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => return Err(io("remove", &p, e)),
                }
            }
            continue;
        };
        let digest = Digest::from_hex(sha).ok_or_else(|| Error::Journal {
            path: fabric.path(fabric::JOURNAL),
            message: format!("removal of {}: {sha:?} is not a SHA-256", r.path),
        })?;
        match take_if_holds(folder, name, &aside_name, &digest)? {
            Taken::Gone => {}
            Taken::Removed => failpoint("journal.cleanup-removed"),
            Taken::Kept(at) => {
                let message = if at == name {
                    "changed after the batch read it (saved again meanwhile): the batch used the version it read, and the new one stays here for the next run".to_string()
                } else {
                    format!(
                        "changed twice after the batch read it: the newest version stays here, the one before it is kept as {}",
                        fabric.rel(&folder.dir.join(&at))
                    )
                };
                sink.emit(Event::Error {
                    file: Some(r.path.clone()),
                    message,
                });
            }
        }
    }
    // Each folder synced even when its files were already gone: a retry after a crash must
    // still make an earlier, unsynced removal durable.
    for f in folders.values() {
        if f.aside.is_some() {
            match f.dir.rmdir(&aside_name) {
                Ok(()) => {}
                // Emptied and removed by an earlier run; or not empty, if something was put
                // there by hand: then left, and put back by a later run (`put_back_orphans`).
                Err(e)
                    if matches!(
                        e.raw_os_error(),
                        Some(libc::ENOENT | libc::ENOTEMPTY | libc::EEXIST)
                    ) => {}
                Err(e) => return Err(io("remove folder", &f.dir.join(&aside_name), e)),
            }
        }
        f.dir.sync()?;
    }
    Ok(())
}

/// Take the file `name` in the folder aside (into its aside folder `aside`) and remove it if
/// it holds `digest`; see `remove_originals`.
fn take_if_holds(
    folder: &mut Cleaned,
    name: &OsStr,
    aside: &OsStr,
    digest: &Digest,
) -> Result<Taken> {
    let mut settled_leftover = false;
    loop {
        let dir = folder.dir.clone();
        let aside_dir = folder.aside(aside)?;
        match dir.rename_noreplace(name, aside_dir, name) {
            Ok(()) => break,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                // Nothing at `name`; a run killed after taking it aside left it there.
                return match aside_dir.exists(name) {
                    Ok(true) => settle(&dir, aside_dir, name, digest),
                    Ok(false) => Ok(Taken::Gone),
                    Err(e) => Err(io("inspect", &aside_dir.join(name), e)),
                };
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && !settled_leftover => {
                // A killed run's leftover: settled first, then this file is taken.
                settle(&dir, aside_dir, name, digest)?;
                settled_leftover = true;
            }
            Err(e) => return Err(io("move aside", &dir.join(name), e)),
        }
    }
    failpoint("journal.cleanup-aside");
    let dir = folder.dir.clone();
    settle(&dir, folder.aside(aside)?, name, digest)
}

/// The version taken aside (`name` in `aside`): removed if it holds `digest`, else put back
/// as `name` in `dir` (or, when a newer one is there already, beside it).
fn settle(dir: &Dir, aside: &Dir, name: &OsStr, digest: &Digest) -> Result<Taken> {
    if holds_regular_in(aside, name, digest)? {
        failpoint("journal.cleanup-checked");
        return match aside.unlink(name) {
            Ok(()) => Ok(Taken::Removed),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Taken::Removed),
            Err(e) => Err(io("remove", &aside.join(name), e)),
        };
    }
    put_back(aside, name, dir, name).map(Taken::Kept)
}

/// Rename `aside` in `from` to `name` in `dir`, or, when that is taken, to the first free
/// `stem~N.ext` beside it; the name it got.
fn put_back(from: &Dir, aside: &OsStr, dir: &Dir, name: &OsStr) -> Result<OsString> {
    let text = name.to_string_lossy().into_owned();
    let (stem, ext) = match text.rfind('.') {
        Some(d) if d > 0 => text.split_at(d),
        _ => (text.as_str(), ""),
    };
    let mut to = name.to_os_string();
    for n in 2..1000 {
        match from.rename_noreplace(aside, dir, &to) {
            Ok(()) => return Ok(to),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                to = OsString::from(store::fit_name(&format!("{stem}~{n}"), ext));
            }
            Err(e) => return Err(io("put back", &from.join(aside), e)),
        }
    }
    Err(io(
        "put back",
        &from.join(aside),
        std::io::Error::new(std::io::ErrorKind::AlreadyExists, "no free name beside it"),
    ))
}

/// Whether `path` is a regular file holding exactly `digest`'s bytes. Never follows a
/// symlink, never waits on a FIFO.
fn holds_regular(path: &Path, digest: &Digest) -> Result<bool> {
    Ok(read_regular(path)?.is_some_and(|b| Digest::of(&b) == *digest))
}

/// `holds_regular` of `name` in the held folder `dir`.
fn holds_regular_in(dir: &Dir, name: &OsStr, digest: &Digest) -> Result<bool> {
    let read = read_opened(dir.open_read(name), &dir.join(name))?;
    Ok(read.is_some_and(|b| Digest::of(&b) == *digest))
}

/// The bytes of the regular file at `path`; None when there is none there (nothing, a
/// symlink, never followed, a folder, a FIFO or a device, never waited on: opened
/// non-blocking and looked at before any read, or a path through something that is not a
/// folder any more) or when its length changes while it is read.
pub(crate) fn read_regular(path: &Path) -> Result<Option<Vec<u8>>> {
    use std::os::unix::fs::OpenOptionsExt;
    let opened = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_CLOEXEC)
        .open(path);
    read_opened(opened, path)
}

/// `read_regular` of a file just opened (or not) with `O_NOFOLLOW | O_NONBLOCK`. The system
/// calls of `std::fs::read`, none more (this runs once per source and per original).
fn read_opened(opened: std::io::Result<std::fs::File>, path: &Path) -> Result<Option<Vec<u8>>> {
    use std::io::Read;
    let mut f = match opened {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e)
            if matches!(
                e.raw_os_error(),
                Some(libc::ELOOP | libc::ENOTDIR | libc::ENXIO)
            ) =>
        {
            return Ok(None)
        }
        Err(e) => return Err(io("open", path, e)),
    };
    let m = f.metadata().map_err(|e| io("inspect", path, e))?;
    if !m.is_file() {
        return Ok(None);
    }
    // Read to the length just seen, then once more to see the end. A file whose length
    // changes meanwhile is being written: none of its versions is one fgd read before.
    let mut bytes = vec![0u8; m.len() as usize];
    match f.read_exact(&mut bytes) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(io("read", path, e)),
    }
    let mut more = [0u8; 1];
    if f.read(&mut more).map_err(|e| io("read", path, e))? != 0 {
        return Ok(None);
    }
    Ok(Some(bytes))
}

/// The batch's record in the append-only log, once per batch even if this runs twice. With
/// sources skipped, the record says what was done instead (`what_was_done`).
fn append_log(fabric: &Fabric, journal: &Journal, skipped: &[bool], dirs: &Dirs) -> Result<()> {
    let log_path = fabric.path(fabric::LOG);
    let hnp = dirs.existing(&fabric.path(fabric::HNP))?;
    let log_name = OsStr::new("log.jsonl");
    if !log_has_batch(&log_path, &journal.batch)? {
        let corrected = if skipped.contains(&true) {
            Some(what_was_done(fabric, journal, skipped)?)
        } else {
            None
        };
        let summary = corrected.as_ref().map_or(&journal.summary, |(s, _)| s);
        // The record's fields follow the batch id, which must come first (see `record_batch`).
        let head = serde_json::json!({
            "batch": journal.batch,
            "command": journal.command,
            "started_at": journal.started_at,
            "finished_at": store::now_rfc3339(),
            "summary": summary,
        });
        let line = format!(
            "{{\"batch\":{},\"command\":{},\"started_at\":{},\"finished_at\":{},\"summary\":{}",
            head["batch"],
            head["command"],
            head["started_at"],
            head["finished_at"],
            head["summary"]
        );
        // The record's own fields follow, written as they are (no copy): from the spool, or
        // from the journal.
        let spooled = match &corrected {
            Some(_) => None,
            None => spooled_record(fabric, journal)?,
        };
        match spooled {
            Some(mut rest) => {
                store::append_line_in(&hnp, log_name, &[line.as_bytes(), b","], Some(&mut rest))?
            }
            None => {
                let body = corrected
                    .as_ref()
                    .map_or(journal.log.get(), |(_, body)| body.as_str())
                    .trim();
                let parts: [&[u8]; 3] = match body.strip_prefix('{').map(str::trim_start) {
                    Some(rest) if !rest.starts_with('}') => {
                        [line.as_bytes(), b",", rest.as_bytes()]
                    }
                    _ => [line.as_bytes(), b"}", b""],
                };
                store::append_line_in(&hnp, log_name, &parts, None)?;
            }
        }
    }
    Ok(())
}

/// The log record and summary of a resumed batch whose `skipped` sources were left as they
/// were: their documents and inputs are left out (the plan recorded them, but none of it was
/// done), the summary counts what remains, and `skipped` names them. Rare (a file changed
/// between a kill and the next run), so the record is read whole here, each document kept as
/// its text.
fn what_was_done(
    fabric: &Fabric,
    journal: &Journal,
    skipped: &[bool],
) -> Result<(crate::event::Summary, String)> {
    use serde_json::value::RawValue;
    let spool_text;
    let text = match &journal.log_file {
        Some(rel) => {
            let path = safe_join(fabric, rel)?;
            spool_text = match std::fs::read_to_string(&path) {
                Ok(t) => t,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    r#"{"log_spool_lost":true}"#.to_string()
                }
                Err(e) => return Err(io("read", &path, e)),
            };
            spool_text.as_str()
        }
        None => journal.log.get(),
    };
    let unreadable = |e: serde_json::Error| Error::Journal {
        path: fabric.path(journal.log_file.as_deref().unwrap_or(fabric::JOURNAL)),
        message: format!("its log record is unreadable ({e})"),
    };
    let mut record: std::collections::BTreeMap<String, Box<RawValue>> =
        serde_json::from_str(text).map_err(unreadable)?;
    let gone: std::collections::HashSet<&str> = journal
        .sources
        .iter()
        .zip(skipped)
        .filter(|(_, s)| **s)
        .map(|(s, _)| s.path.as_str())
        .collect();
    let mut summary = journal.summary.clone();
    #[derive(Deserialize)]
    struct Doc {
        #[serde(default)]
        source: String,
        #[serde(default)]
        whole: bool,
        #[serde(default)]
        documents: usize,
        fate: Option<DocFate>,
    }
    #[derive(Deserialize)]
    struct DocFate {
        fate: String,
        #[serde(default)]
        change: String,
        #[serde(default)]
        code: String,
    }
    #[derive(Deserialize)]
    struct Input {
        #[serde(default)]
        path: String,
    }
    let dec = |n: &mut usize, by: usize| *n = n.saturating_sub(by);
    if let Some(docs) = record.get("documents") {
        let docs: Vec<&RawValue> = serde_json::from_str(docs.get()).map_err(unreadable)?;
        let mut kept = Vec::with_capacity(docs.len());
        for d in docs {
            let head: Doc = serde_json::from_str(d.get()).map_err(unreadable)?;
            if !gone.contains(head.source.as_str()) {
                kept.push(d);
                continue;
            }
            if head.whole {
                dec(&mut summary.files_unmanaged_whole, 1);
                dec(&mut summary.unmanaged, head.documents);
                dec(&mut summary.documents, head.documents);
                continue;
            }
            dec(&mut summary.documents, 1);
            match head.fate.as_ref().map(|f| (f.fate.as_str(), f)) {
                Some(("managed", f)) => match f.change.as_str() {
                    "create" => dec(&mut summary.created, 1),
                    "update" => dec(&mut summary.updated, 1),
                    _ => dec(&mut summary.unchanged, 1),
                },
                Some(("unmanaged", f)) => {
                    dec(&mut summary.unmanaged, 1);
                    if f.code == "conflict" {
                        dec(&mut summary.conflicts, 1);
                    }
                }
                _ => dec(&mut summary.empty, 1),
            }
        }
        record.insert("documents".into(), raw(&kept));
    } else {
        // A move or an adopt: its one source was all it did.
        summary = crate::event::Summary {
            batch: summary.batch,
            ..Default::default()
        };
    }
    if let Some(inputs) = record.get("inputs") {
        let inputs: Vec<&RawValue> = serde_json::from_str(inputs.get()).map_err(unreadable)?;
        let mut kept = Vec::with_capacity(inputs.len());
        for i in inputs {
            let head: Input = serde_json::from_str(i.get()).map_err(unreadable)?;
            if !gone.contains(head.path.as_str()) {
                kept.push(i);
            }
        }
        record.insert("inputs".into(), raw(&kept));
    }
    dec(&mut summary.files, gone.len());
    let why = "changed, removed or no longer a regular file after the batch was journaled: none of its part was done and it was left as it was";
    let listed: Vec<_> = journal
        .sources
        .iter()
        .zip(skipped)
        .filter(|(_, s)| **s)
        .map(|(s, _)| serde_json::json!({"path": s.path, "sha256": s.sha256, "why": why}))
        .collect();
    record.insert("skipped".into(), raw(&listed));
    let body = serde_json::to_string(&record).map_err(unreadable)?;
    Ok((summary, body))
}

/// The spooled log record after its opening brace, ready to follow the record's head; None
/// when the journal holds its record itself. A spool lost from outside fgd still lets the
/// batch finish, its record without the documents.
fn spooled_record(fabric: &Fabric, journal: &Journal) -> Result<Option<Box<dyn std::io::Read>>> {
    use std::io::Read;
    let Some(spool) = &journal.log_file else {
        return Ok(None);
    };
    let path = safe_join(fabric, spool)?;
    let lost = || -> Box<dyn std::io::Read> { Box::new(&br#""log_spool_lost":true}"#[..]) };
    let mut f = match std::fs::File::open(&path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Some(lost())),
        Err(e) => return Err(io("open", &path, e)),
    };
    let mut brace = [0u8; 1];
    match f.read_exact(&mut brace) {
        Ok(()) if brace[0] == b'{' => Ok(Some(Box::new(std::io::BufReader::new(f)))),
        _ => Ok(Some(lost())),
    }
}

/// Whether the log's last record is this batch, whole (the only one a re-run could repeat; a
/// record torn by a crash is written again, on a fresh line). Reads the record's first bytes
/// only: the batch id comes first, and a record can be tens of megabytes.
fn log_has_batch(path: &Path, batch: &str) -> Result<bool> {
    use std::os::unix::fs::FileExt;
    let Some((f, len)) = open_log(path)? else {
        return Ok(false);
    };
    if !ends_with_newline(&f, len) {
        return Ok(false);
    }
    let start = last_line_start(&f, len - 1, path)?;
    let mut head = vec![0u8; ((len - 1 - start) as usize).min(200)];
    f.read_exact_at(&mut head, start)
        .map_err(|e| io("read", path, e))?;
    Ok(record_batch(&head) == Some(batch))
}

/// The log, open, and its length; None when there is no log yet.
fn open_log(path: &Path) -> Result<Option<(std::fs::File, u64)>> {
    let f = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io("open", path, e)),
    };
    let len = f.metadata().map_err(|e| io("inspect", path, e))?.len();
    Ok(Some((f, len)))
}

fn ends_with_newline(f: &std::fs::File, len: u64) -> bool {
    use std::os::unix::fs::FileExt;
    let mut last = [0u8; 1];
    len > 0 && f.read_exact_at(&mut last, len - 1).is_ok() && last[0] == b'\n'
}

/// Where the last line of the first `end` bytes of `f` starts: read backwards a window at a
/// time, never more than one window held.
fn last_line_start(f: &std::fs::File, end: u64, path: &Path) -> Result<u64> {
    use std::os::unix::fs::FileExt;
    let mut window = vec![0u8; 64 * 1024];
    let mut pos = end;
    while pos > 0 {
        let from = pos.saturating_sub(window.len() as u64);
        let chunk = &mut window[..(pos - from) as usize];
        f.read_exact_at(chunk, from)
            .map_err(|e| io("read", path, e))?;
        if let Some(i) = chunk.iter().rposition(|&b| b == b'\n') {
            return Ok(from + i as u64 + 1);
        }
        pos = from;
    }
    Ok(0)
}

/// The last record of an append-only log, read from its end (records can be megabytes).
pub fn last_log_line(path: &Path) -> Result<Option<Vec<u8>>> {
    use std::os::unix::fs::FileExt;
    let Some((f, len)) = open_log(path)? else {
        return Ok(None);
    };
    let end = if ends_with_newline(&f, len) {
        len - 1
    } else {
        len
    };
    if end == 0 {
        return Ok(None);
    }
    let start = last_line_start(&f, end, path)?;
    let mut line = vec![0u8; (end - start) as usize];
    f.read_exact_at(&mut line, start)
        .map_err(|e| io("read", path, e))?;
    Ok(Some(line))
}

/// The last finished batch, from the log (not kept in the manifest, so two clones ingesting
/// at once do not both rewrite one committed file).
pub fn last_batch(fabric: &Fabric) -> Option<fabric::manifest::LastBatch> {
    let line = last_log_line(&fabric.path(fabric::LOG)).ok()??;
    let v: serde_json::Value = serde_json::from_slice(&line).ok()?;
    let n = |k: &str| v["summary"][k].as_u64().unwrap_or(0) as usize;
    Some(fabric::manifest::LastBatch {
        batch: v["batch"].as_str()?.to_string(),
        command: v["command"].as_str().unwrap_or_default().to_string(),
        finished_at: v["finished_at"].as_str().unwrap_or_default().to_string(),
        files: n("files"),
        managed: n("created") + n("updated") + n("unchanged"),
        unmanaged: n("unmanaged"),
    })
}

pub(crate) fn record_batch(line: &[u8]) -> Option<&str> {
    // {"batch":"<id>",...}: the log writer puts the batch first.
    let s = std::str::from_utf8(line.get(..200.min(line.len()))?).ok()?;
    let rest = s.strip_prefix("{\"batch\":\"")?;
    rest.split('"').next()
}

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
            Err(e) if matches!(e.raw_os_error(), Some(libc::ENOTDIR | libc::ELOOP)) => {
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
            Err(e) if matches!(e.raw_os_error(), Some(libc::ENOENT | libc::ENOTEMPTY)) => {}
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_digest_is_written_as_the_hex_older_journals_hold() {
        let d = Digest::of(b"kind: VPC\n");
        let hex = sha256_hex(b"kind: VPC\n");
        assert_eq!(d.to_string(), hex);
        assert_eq!(serde_json::to_string(&d).unwrap(), format!("\"{hex}\""));
        let back: Digest = serde_json::from_str(&format!("\"{hex}\"")).unwrap();
        assert_eq!(back, d);
        assert!(serde_json::from_str::<Digest>("\"abc\"").is_err());
        assert!(serde_json::from_str::<Digest>(&format!("\"{}\"", "zz".repeat(32))).is_err());
    }

    #[test]
    fn preflight_refuses_a_journaled_path_that_is_not_plain_and_a_folder_in_a_file_s_place() {
        let t = tempfile::tempdir().unwrap();
        let (fabric, _) = fabric::init(t.path(), None).unwrap();
        let with_write = |path: &str| {
            let mut j = Journal::new("ingest");
            j.writes.push(Write {
                path: path.into(),
                sha256: Digest::of(b""),
                content: Content::Text {
                    text: String::new(),
                    source: None,
                    rename: None,
                },
            });
            j
        };
        assert!(preflight(&fabric, &with_write("managed/vpcs/v.yaml")).is_ok());
        for bad in [
            "../escape.yaml",
            "managed/../../escape.yaml",
            "/etc/passwd",
            "managed/./vpcs/v.yaml",
            "managed//v.yaml",
            "",
        ] {
            let err = preflight(&fabric, &with_write(bad)).expect_err(bad);
            assert!(
                err.to_string().contains("leaves the fabric"),
                "{bad}: {err}"
            );
        }
        std::fs::create_dir_all(fabric.path("managed/vpcs/v.yaml")).unwrap();
        let err = preflight(&fabric, &with_write("managed/vpcs/v.yaml")).expect_err("a folder");
        assert!(err.to_string().contains("is a directory"), "{err}");
    }

    #[test]
    fn the_last_record_is_found_from_the_end_however_long_and_a_torn_one_is_not_the_batch() {
        let t = tempfile::tempdir().unwrap();
        let log = t.path().join("log.jsonl");
        assert_eq!(last_log_line(&log).unwrap(), None);
        assert!(!log_has_batch(&log, "b1").unwrap());
        std::fs::write(&log, "").unwrap();
        assert_eq!(last_log_line(&log).unwrap(), None);
        // A last record far longer than the window read at a time.
        let big = format!("{{\"batch\":\"b2\",\"pad\":\"{}\"}}", "x".repeat(300_000));
        std::fs::write(&log, format!("{{\"batch\":\"b1\"}}\n{big}\n")).unwrap();
        assert_eq!(
            last_log_line(&log).unwrap().as_deref(),
            Some(big.as_bytes())
        );
        assert!(log_has_batch(&log, "b2").unwrap());
        assert!(!log_has_batch(&log, "b1").unwrap());
        // Torn: the same bytes without the final newline are not a whole record.
        std::fs::write(&log, format!("{{\"batch\":\"b1\"}}\n{big}")).unwrap();
        assert!(!log_has_batch(&log, "b2").unwrap());
        assert_eq!(
            last_log_line(&log).unwrap().as_deref(),
            Some(big.as_bytes())
        );
        std::fs::write(&log, "{\"batch\":\"b1\"}\n\n").unwrap();
        assert_eq!(last_log_line(&log).unwrap().as_deref(), Some(&b""[..]));
    }

    #[test]
    fn only_the_version_that_was_read_is_removed_and_any_other_is_kept_in_place_or_beside_it() {
        let t = tempfile::tempdir().unwrap();
        let p = t.path().join("a.yaml");
        let aside = aside_path(&p, "b1");
        assert_eq!(
            aside,
            t.path().join(".fgd-removing-b1/a.yaml"),
            "the name kept"
        );
        let read = Digest::of(b"read");
        let dir = Arc::new(Dir::open_path(t.path()).unwrap());
        let (name, aside_n) = (OsStr::new("a.yaml"), aside_dir_name("b1"));
        let folder = std::cell::RefCell::new(Cleaned {
            dir: dir.clone(),
            aside: None,
        });
        let take = || take_if_holds(&mut folder.borrow_mut(), name, &aside_n, &read).unwrap();
        let kept = |want: &Path| match take() {
            Taken::Kept(at) => assert_eq!(dir.join(&at), want),
            _ => panic!("kept expected"),
        };
        std::fs::write(&p, b"read").unwrap();
        assert!(matches!(take(), Taken::Removed));
        assert!(!p.exists() && !aside.exists());
        assert!(matches!(take(), Taken::Gone));
        // Saved again after the read: put back, under its name.
        std::fs::write(&p, b"saved since").unwrap();
        kept(&p);
        assert_eq!(std::fs::read(&p).unwrap(), b"saved since");
        assert!(!aside.exists());
        // A killed run left a newer version aside, and the operator saved a newest one since:
        // the newest stays at its name, the other goes beside it.
        std::fs::write(&aside, b"newer").unwrap();
        std::fs::write(&p, b"newest").unwrap();
        kept(&p);
        assert_eq!(std::fs::read(&p).unwrap(), b"newest");
        assert_eq!(std::fs::read(t.path().join("a~2.yaml")).unwrap(), b"newer");
        assert!(!aside.exists());
        // The version read, left aside by a killed run, with nothing at its place: removed.
        std::fs::remove_file(&p).unwrap();
        std::fs::write(&aside, b"read").unwrap();
        assert!(matches!(take(), Taken::Removed));
        assert!(!aside.exists());
        // A symlink and a FIFO are never followed or waited on, and stay.
        std::os::unix::fs::symlink(t.path().join("a~2.yaml"), &p).unwrap();
        kept(&p);
        assert!(p.symlink_metadata().unwrap().file_type().is_symlink());
        std::fs::remove_file(&p).unwrap();
        let fifo = std::ffi::CString::new(p.to_str().unwrap()).unwrap();
        assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o644) }, 0);
        kept(&p);
        assert!(!p.symlink_metadata().unwrap().is_file() && !aside.exists());
    }

    #[test]
    fn a_write_reads_back_from_the_journal_format() {
        let text = format!(
            r#"{{"path":"managed/vpcs/a.yaml","sha256":"{}","content":{{"from":"source","source":0,"parts":[[0,5],[9,12]]}}}}"#,
            sha256_hex(b"x")
        );
        let w: Write = serde_json::from_str(&text).unwrap();
        assert_eq!(w.sha256, Digest::of(b"x"));
        let Content::Source { parts, .. } = &w.content else {
            panic!("a source write")
        };
        assert_eq!(&parts[..], &[[0, 5], [9, 12]]);
        assert_eq!(serde_json::to_string(&w).unwrap(), text);
    }
}
