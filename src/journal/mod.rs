//! The batch journal: every mutating command first writes, durably, the complete list of what
//! it will do, then carries it out. Each step is idempotent (a write is skipped when the target
//! already holds the expected bytes, a removal only happens while the file still holds the bytes
//! that were read), so a run killed at any instant is finished by the next one: `recover` simply
//! executes the journal again. Nothing is rolled back, because every step only ever adds a copy
//! before the original is removed.
//!
//! This module holds the journal's record (`Journal`, read and written by the same types) and
//! how it is put in force; `preflight` refuses unsafe batches before that, `run` carries a
//! batch out, `cleanup` removes the originals it replaced, `recover` finishes what a killed run
//! left. The operation log the batch ends with is `crate::oplog`'s.

mod cleanup;
mod preflight;
mod recover;
mod run;

use std::path::Path;

use serde::{Deserialize, Serialize};

pub use crate::digest::Digest;
use crate::error::{io, Error, Result};
use crate::fabric::{self, Fabric};
use crate::store::{self, failpoint, Dirs};

pub use cleanup::ASIDE_PREFIX;
use preflight::safe_join;
pub use preflight::{check_folders_of, preflight};
pub use recover::{find_asides, recover};
pub use run::{execute, finish, Index};

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
    pub sha256: Digest,
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

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "from", rename_all = "kebab-case")]
pub enum Content {
    /// Byte ranges of source `source`, concatenated.
    Source {
        source: usize,
        parts: Box<[[usize; 2]]>,
    },
    /// Boxed: a text (an unmanaged item's reason) is rare beside the 10^5 writes of objects a
    /// big batch holds until it is done, which would each be as large as a text otherwise.
    Text(Box<Text>),
}

/// A write's own text, in the journal as the fields of its `Content`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Text {
    /// Shared with the late writer, which stages it while the journal waits to be written.
    pub text: std::sync::Arc<str>,
    /// The source whose part of the batch this is (an unmanaged item's reason): not
    /// written when that source is skipped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<usize>,
    /// The rename whose item this describes: not written when that rename cannot happen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rename: Option<usize>,
}

impl Content {
    pub fn text(text: String, source: Option<usize>, rename: Option<usize>) -> Content {
        Content::Text(Box::new(Text {
            text: text.into(),
            source,
            rename,
        }))
    }
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
    pub sha256: Option<Digest>,
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

/// Make the journal durable: after this returns, the batch will complete even if killed.
pub fn begin(fabric: &Fabric, journal: &Journal) -> Result<()> {
    preflight(fabric, journal)?;
    let dirs = Dirs::within(&fabric.root);
    let unpublished = write_unpublished(fabric, journal, &dirs)?;
    store::sync_files(&unpublished.files())?;
    unpublished.publish()?;
    tracing::debug!(batch = %journal.batch, command = %journal.command, steps = journal.steps(), "journal in force");
    Ok(())
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

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn a_write_reads_back_from_the_journal_format() {
        let text = format!(
            r#"{{"path":"managed/vpcs/a.yaml","sha256":"{}","content":{{"from":"source","source":0,"parts":[[0,5],[9,12]]}}}}"#,
            Digest::of(b"x")
        );
        let w: Write = serde_json::from_str(&text).unwrap();
        assert_eq!(w.sha256, Digest::of(b"x"));
        let Content::Source { parts, .. } = &w.content else {
            panic!("a source write")
        };
        assert_eq!(&parts[..], &[[0, 5], [9, 12]]);
        assert_eq!(serde_json::to_string(&w).unwrap(), text);
    }

    #[test]
    fn a_text_write_keeps_its_journal_format() {
        let text = format!(
            r#"{{"path":"unmanaged/a.reason.json","sha256":"{}","content":{{"from":"text","text":"why","source":3}}}}"#,
            Digest::of(b"why")
        );
        let w: Write = serde_json::from_str(&text).unwrap();
        let Content::Text(t) = &w.content else {
            panic!("a text write")
        };
        assert_eq!((&*t.text, t.source, t.rename), ("why", Some(3), None));
        assert_eq!(serde_json::to_string(&w).unwrap(), text);
        // A write of an object stays small: 10^5 of them wait in a big batch's journal.
        assert!(std::mem::size_of::<Write>() <= 80);
    }
}
