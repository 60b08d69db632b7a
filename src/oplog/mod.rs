//! The operation log, `.hnp/log.jsonl`: one JSON line per finished batch (`record`), appended
//! once the batch is done and never rewritten. Committed with the fabric; git reads it for its
//! commit messages, `status` for the last batch.

mod record;

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

pub use record::{Doc, Head, Input, Moved, Skipped};

use crate::digest::Digest;

use crate::error::{io, Error, Result};
use crate::event::Summary;
use crate::fabric::{self, Fabric};
use crate::store::{self, Dirs};

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
            rustix::fs::OFlags::WRONLY | rustix::fs::OFlags::CREATE | rustix::fs::OFlags::TRUNC,
        )
        .map_err(|e| io("create", &path, e))
}

/// A finished batch, as its journal describes it, for its record.
pub struct Finished<'a> {
    pub batch: &'a str,
    pub command: &'a str,
    pub started_at: &'a str,
    pub summary: &'a Summary,
    /// The record's own fields (after the head), as a JSON object.
    pub body: Body<'a>,
}

/// Where a record's own fields are.
pub enum Body<'a> {
    /// In the journal (a move, an adopt).
    Inline(&'a serde_json::value::RawValue),
    /// In the log spool at this path (an ingest: tens of megabytes, never held whole).
    Spooled(PathBuf),
}

/// A source the batch left as it was (changed after it was journaled): its documents and
/// inputs are left out of the record.
pub struct LeftOut<'a> {
    pub path: &'a str,
    pub sha256: Digest,
}

/// Append the batch's record to the log, once per batch even if this runs twice. With sources
/// left out, the record says what was done instead (`what_was_done`). `dirs` holds `.hnp/`.
pub fn append_batch(
    fabric: &Fabric,
    dirs: &Dirs,
    batch: &Finished,
    left_out: &[LeftOut],
) -> Result<()> {
    let log_path = fabric.path(fabric::LOG);
    let hnp = dirs.existing(&fabric.path(fabric::HNP))?;
    let log_name = OsStr::new("log.jsonl");
    if log_has_batch(&log_path, batch.batch)? {
        return Ok(());
    }
    let corrected = if left_out.is_empty() {
        None
    } else {
        Some(what_was_done(fabric, batch, left_out)?)
    };
    let head = Head {
        batch: batch.batch.to_string(),
        command: batch.command.to_string(),
        started_at: batch.started_at.to_string(),
        finished_at: store::now_rfc3339(),
        summary: corrected.as_ref().map_or(batch.summary, |(s, _)| s).clone(),
    };
    let head = serde_json::to_string(&head).map_err(|e| Error::Journal {
        path: fabric.path(fabric::JOURNAL),
        message: format!("its log record cannot be written ({e})"),
    })?;
    // The head without its closing brace: the record's own fields follow it.
    let line = head.strip_suffix('}').unwrap_or(&head);
    // Written as they are (no copy): from the spool, or from the journal.
    let spooled = match (&corrected, &batch.body) {
        (None, Body::Spooled(path)) => Some(spooled_record(path)?),
        _ => None,
    };
    match spooled {
        Some(mut rest) if spool_len(&batch.body) > DETAIL_BYTES => {
            let at = write_detail(fabric, dirs, batch.batch, &mut rest)?;
            let pointer = format!(",\"{DETAIL_FIELD}\":{}}}", serde_json::json!(at));
            store::append_line_in(&hnp, log_name, &[line.as_bytes(), pointer.as_bytes()], None)
        }
        Some(mut rest) => {
            store::append_line_in(&hnp, log_name, &[line.as_bytes(), b","], Some(&mut rest))
        }
        None => {
            let body = match (&corrected, &batch.body) {
                (Some((_, body)), _) => body.as_str(),
                (None, Body::Inline(raw)) => raw.get(),
                (None, Body::Spooled(_)) => "{}",
            }
            .trim();
            let parts: [&[u8]; 3] = match body.strip_prefix('{').map(str::trim_start) {
                Some(rest) if !rest.starts_with('}') => [line.as_bytes(), b",", rest.as_bytes()],
                _ => [line.as_bytes(), b"}", b""],
            };
            store::append_line_in(&hnp, log_name, &parts, None)
        }
    }?;
    tracing::debug!(
        batch = batch.batch,
        left_out = left_out.len(),
        "log record appended"
    );
    Ok(())
}

/// Where a record too big for the log line goes: `.hnp/records/<batch>.json`, the record's own
/// fields (an ingest's `documents` and `inputs`) as one JSON object, written once and never
/// changed. The log keeps one short line per batch (the head, and `record` naming that file),
/// so a commit after a 10^5-document ingest does not hash, compress and push the whole log
/// again for each later batch's line; and, one file per batch, two clones never write the
/// same one (the log itself is merged line by line).
pub const RECORDS: &str = ".hnp/records";

/// The field of a log line that names its record's file (`RECORDS`).
pub const DETAIL_FIELD: &str = "record";

/// A spooled record over this many bytes goes to its own file (`RECORDS`).
const DETAIL_BYTES: u64 = 1 << 20;

fn spool_len(body: &Body) -> u64 {
    match body {
        Body::Spooled(path) => std::fs::metadata(path).map_or(0, |m| m.len()),
        Body::Inline(_) => 0,
    }
}

/// Write the record's own fields (`rest`: after its opening brace) to `RECORDS/<batch>.json`,
/// under a temporary name made durable and renamed in (a re-run after a crash writes it
/// again); its path relative to the fabric.
fn write_detail(
    fabric: &Fabric,
    dirs: &Dirs,
    batch: &str,
    rest: &mut dyn std::io::Read,
) -> Result<String> {
    use std::io::Write as _;
    let rel = format!("{RECORDS}/{batch}.json");
    let path = fabric.path(&rel);
    let dir = dirs.create_all(&fabric.path(RECORDS))?;
    let name = format!("{batch}.json");
    let tmp = std::ffi::OsString::from(format!("{}{name}", store::TEMP_PREFIX));
    let _ = dir.unlink(&tmp);
    let f = dir.create_new(&tmp).map_err(|e| io("create", &path, e))?;
    let mut w = std::io::BufWriter::with_capacity(1 << 16, f);
    w.write_all(b"{")
        .and_then(|()| std::io::copy(rest, &mut w).map(|_| ()))
        .and_then(|()| w.flush())
        .map_err(|e| io("write", &path, e))?;
    let f = w
        .into_inner()
        .map_err(|e| io("write", &path, e.into_error()))?;
    f.sync_all().map_err(|e| io("sync", &path, e))?;
    dir.rename(&tmp, &dir, OsStr::new(&name))
        .map_err(|e| io("rename", &path, e))?;
    dir.sync()?;
    Ok(rel)
}

/// The record's own fields of a log `line` that names its file (`DETAIL_FIELD`): that file's
/// bytes. None when the line names none, or a file that is not there.
pub fn detail_of(fabric: &Fabric, line: &[u8]) -> Result<Option<Vec<u8>>> {
    #[derive(serde::Deserialize)]
    struct Pointer {
        #[serde(default)]
        record: Option<String>,
    }
    let Some(rel) = serde_json::from_slice::<Pointer>(line)
        .ok()
        .and_then(|p| p.record)
    else {
        return Ok(None);
    };
    // Only a file of `RECORDS` itself: a line edited to name another is not followed.
    let name = rel.strip_prefix(RECORDS).and_then(|r| r.strip_prefix('/'));
    let Some(name) = name.filter(|n| {
        !n.is_empty() && !n.contains('/') && !n.starts_with('.') && n.ends_with(".json")
    }) else {
        return Ok(None);
    };
    let path = fabric.path(&format!("{RECORDS}/{name}"));
    // Gone (deleted by hand): what the batch wrote is not known, so a file it wrote is taken
    // for a hand edit and archived before it is replaced (nothing is lost).
    let Some((mut f, _)) = store::open_regular(&path)? else {
        return Ok(None);
    };
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(&mut f, &mut bytes).map_err(|e| io("read", &path, e))?;
    Ok(Some(bytes))
}

/// Why a source left out of a record was.
const LEFT_OUT_WHY: &str = "changed, removed or no longer a regular file after the batch was journaled: none of its part was done and it was left as it was";

/// The log record and summary of a resumed batch whose `left_out` sources were left as they
/// were: their documents and inputs are left out (the plan recorded them, but none of it was
/// done), the summary counts what remains, and `skipped` names them. Rare (a file changed
/// between a kill and the next run), so the record is read whole here.
fn what_was_done(
    fabric: &Fabric,
    batch: &Finished,
    left_out: &[LeftOut],
) -> Result<(Summary, String)> {
    use serde_json::value::RawValue;
    let (text, path) = match &batch.body {
        Body::Spooled(path) => {
            let text = match std::fs::read_to_string(path) {
                Ok(t) => t,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    r#"{"log_spool_lost":true}"#.to_string()
                }
                Err(e) => return Err(io("read", path, e)),
            };
            (text, path.clone())
        }
        Body::Inline(raw) => (raw.get().to_string(), fabric.path(fabric::JOURNAL)),
    };
    let unreadable = |e: serde_json::Error| Error::Journal {
        path: path.clone(),
        message: format!("its log record is unreadable ({e})"),
    };
    let mut record: std::collections::BTreeMap<String, Box<RawValue>> =
        serde_json::from_str(&text).map_err(unreadable)?;
    let gone: std::collections::HashSet<&str> = left_out.iter().map(|s| s.path).collect();
    let mut summary = batch.summary.clone();
    let dec = |n: &mut usize, by: usize| *n = n.saturating_sub(by);
    if let Some(docs) = record.get("documents") {
        let docs: Vec<Doc> = serde_json::from_str(docs.get()).map_err(unreadable)?;
        let mut kept = Vec::with_capacity(docs.len());
        for d in docs {
            if !gone.contains(d.source()) {
                kept.push(d);
                continue;
            }
            match &d {
                Doc::Whole { documents, .. } => {
                    dec(&mut summary.files_unmanaged_whole, 1);
                    dec(&mut summary.unmanaged, *documents);
                    dec(&mut summary.documents, *documents);
                }
                Doc::One { fate, .. } => {
                    dec(&mut summary.documents, 1);
                    uncount(&mut summary, fate);
                }
            }
        }
        record.insert("documents".into(), raw_json(&kept, &unreadable)?);
    } else {
        // A move or an adopt: its one source was all it did.
        summary = Summary {
            batch: summary.batch,
            ..Default::default()
        };
    }
    if let Some(inputs) = record.get("inputs") {
        let inputs: Vec<Input> = serde_json::from_str(inputs.get()).map_err(unreadable)?;
        let kept: Vec<&Input> = inputs.iter().filter(|i| !gone.contains(i.path())).collect();
        record.insert("inputs".into(), raw_json(&kept, &unreadable)?);
    }
    dec(&mut summary.files, gone.len());
    let listed: Vec<Skipped> = left_out
        .iter()
        .map(|s| Skipped {
            path: s.path.into(),
            sha256: s.sha256,
            why: LEFT_OUT_WHY.into(),
        })
        .collect();
    record.insert("skipped".into(), raw_json(&listed, &unreadable)?);
    let body = serde_json::to_string(&record).map_err(unreadable)?;
    Ok((summary, body))
}

/// Take a document's fate back out of a summary's counts (the inverse of `Summary::count`,
/// less the document itself).
fn uncount(summary: &mut Summary, fate: &crate::event::Fate) {
    use crate::event::{Change, Fate};
    let dec = |n: &mut usize| *n = n.saturating_sub(1);
    match fate {
        Fate::Managed { change, .. } => match change {
            Change::Create => dec(&mut summary.created),
            Change::Update => dec(&mut summary.updated),
            Change::Unchanged => dec(&mut summary.unchanged),
        },
        Fate::Unmanaged { code, .. } => {
            dec(&mut summary.unmanaged);
            if *code == crate::classify::ReasonCode::Conflict {
                dec(&mut summary.conflicts);
            }
        }
        Fate::Empty => dec(&mut summary.empty),
    }
}

fn raw_json<T: serde::Serialize + ?Sized>(
    v: &T,
    unreadable: &dyn Fn(serde_json::Error) -> Error,
) -> Result<Box<serde_json::value::RawValue>> {
    serde_json::value::to_raw_value(v).map_err(unreadable)
}

/// The spooled log record after its opening brace, ready to follow the record's head. A spool
/// lost from outside fgd still lets the batch finish, its record without the documents.
fn spooled_record(path: &Path) -> Result<Box<dyn std::io::Read>> {
    use std::io::Read;
    let lost = || -> Box<dyn std::io::Read> { Box::new(&br#""log_spool_lost":true}"#[..]) };
    let mut f = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(lost()),
        Err(e) => return Err(io("open", path, e)),
    };
    let mut brace = [0u8; 1];
    match f.read_exact(&mut brace) {
        Ok(()) if brace[0] == b'{' => Ok(Box::new(std::io::BufReader::new(f))),
        _ => Ok(lost()),
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
    // Never through a symlink, never waiting on a FIFO (`Fabric::open` refuses either).
    Ok(store::open_regular(path)?.map(|(f, m)| (f, m.len())))
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
    let head = Head::of_line(&line)?;
    let s = &head.summary;
    Some(fabric::manifest::LastBatch {
        files: s.files,
        managed: s.created + s.updated + s.unchanged,
        unmanaged: s.unmanaged,
        batch: head.batch,
        command: head.command,
        finished_at: head.finished_at,
    })
}

/// The batch id of a record line, from its first bytes (`Head` keeps it first).
pub fn record_batch(line: &[u8]) -> Option<&str> {
    // {"batch":"<id>",...}: the log writer puts the batch first.
    let s = std::str::from_utf8(line.get(..200.min(line.len()))?).ok()?;
    let rest = s.strip_prefix("{\"batch\":\"")?;
    rest.split('"').next()
}

#[cfg(test)]
mod tests {
    use super::*;
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
    fn a_record_file_is_followed_only_inside_the_records_folder() {
        let t = tempfile::tempdir().unwrap();
        let fabric = Fabric {
            root: t.path().to_path_buf(),
        };
        std::fs::create_dir_all(t.path().join(RECORDS)).unwrap();
        std::fs::write(
            t.path().join(RECORDS).join("b1.json"),
            b"{\"documents\":[]}",
        )
        .unwrap();
        std::fs::write(t.path().join(".hnp/secret.json"), b"{}").unwrap();
        let line =
            |rel: &str| format!("{{\"batch\":\"b1\",\"record\":{}}}", serde_json::json!(rel));
        assert_eq!(
            detail_of(&fabric, line(".hnp/records/b1.json").as_bytes()).unwrap(),
            Some(b"{\"documents\":[]}".to_vec())
        );
        for elsewhere in [
            ".hnp/records/../secret.json",
            ".hnp/secret.json",
            ".hnp/records/.x.json",
            "/etc/passwd",
        ] {
            assert_eq!(
                detail_of(&fabric, line(elsewhere).as_bytes()).unwrap(),
                None,
                "{elsewhere}"
            );
        }
        assert_eq!(
            detail_of(&fabric, b"{\"batch\":\"b1\",\"documents\":[]}").unwrap(),
            None
        );
        assert_eq!(
            detail_of(&fabric, line(".hnp/records/b2.json").as_bytes()).unwrap(),
            None
        );
    }
}
