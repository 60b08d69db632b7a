//! The plan: turn the batch's decisions into the journal, one function per file decision
//! (`Planner::too_large`, `whole`, `documents`) and per document fate (`managed`,
//! `unmanaged`), all over one context (`Planner`) that holds what the plan builds: the
//! journal, the unmanaged names taken, the log record, the late writer's queue.

use std::collections::{HashMap, HashSet};
use std::io::Write as _;

use super::analyze::{DocAnalysis, FileAnalysis};
use super::decide::{Decider, DocFate, FileDecision, WholeDoc};
use super::history::HandEdit;
use super::late::LateBytes;
use super::{emit_whole, stage, under_managed, unmanaged, Targets};
use crate::classify::ReasonCode;
use crate::error::Result;
use crate::event::{Change, Event, Fate, FileOutcome, PlanAction, Sink, Summary};
use crate::fabric::reason::ReasonDoc;
use crate::fabric::{self, Fabric};
use crate::journal::{self, Content, Journal, Remove, Source, Write};
use crate::oplog;

/// What the plan is given: where it runs, and, for a real run, where staged writes go.
pub(super) struct PlanInputs<'a> {
    pub fabric: &'a Fabric,
    /// What staging found for each `managed/` path (empty for a dry run).
    pub claims: &'a mut stage::Claims,
    /// For a real run: gets the bytes of every planned write staging has not made.
    pub outputs: &'a mut HashMap<String, Vec<u8>>,
    /// Stages unmanaged items and reasons as they are planned.
    pub late: Option<&'a super::late::LateWriter>,
    /// Takes the log record (a real run's log spool).
    pub spool: Option<std::fs::File>,
    pub dry_run: bool,
    /// Managed files edited by hand that the batch replaces (`history::review`).
    pub hand_edits: &'a HashMap<String, HandEdit>,
}

/// Turn decisions into the journal, emitting each document's fate and the planned actions.
pub(super) fn plan(
    inputs: PlanInputs<'_>,
    j: &mut Journal,
    files: Vec<FileAnalysis>,
    decider: &Decider<'_>,
    summary: &mut Summary,
    sink: &mut dyn Sink,
) -> Result<()> {
    reserve(j, &files);
    let mut p = Planner::new(inputs, j, summary, sink)?;
    // Each input's analysis (and its decision, made only now) is dropped once planned, as the
    // journal grows.
    for (i, f) in files.into_iter().enumerate() {
        p.file(&f, &decider.file(i, &f))?;
    }
    p.finish()
}

/// Sized up front: doubling a vector of 10^5 entries at the end of a plan was the peak of a
/// big ingest's memory. At most one write per document and two per unmanaged one.
fn reserve(j: &mut Journal, files: &[FileAnalysis]) {
    let docs: usize = files.iter().map(|f| f.docs().len().max(1)).sum();
    let unmanaged: usize = files
        .iter()
        .map(|f| {
            f.docs()
                .iter()
                .filter(|d| d.managed_path().is_none())
                .count()
                + 1
        })
        .sum();
    j.writes.reserve(docs + unmanaged);
}

/// The plan's state while it goes through the batch's files in order.
struct Planner<'a, 'j> {
    fabric: &'a Fabric,
    claims: &'a mut stage::Claims,
    outputs: &'a mut HashMap<String, Vec<u8>>,
    /// Unmanaged items whose bytes the batch already staged as the refused object's file under
    /// managed/ (fabric path of the item -> that file's): moved, not written again.
    staged_as: HashMap<String, String>,
    late: Option<&'a super::late::LateWriter>,
    dry_run: bool,
    hand_edits: &'a HashMap<String, HandEdit>,
    /// The hand edits archived so far (one per path, however many documents define it).
    archived_edits: HashSet<String>,
    j: &'j mut Journal,
    summary: &'j mut Summary,
    sink: &'j mut dyn Sink,
    names: unmanaged::Names<'a>,
    /// Writes before this index went to the late writer (or are managed objects).
    sent: usize,
    /// Managed paths already planned, where staging did not note it in their claim.
    written: HashSet<String>,
    targets: Targets,
    /// The log record, `{"documents": [...], "inputs": [...]}`: for a real run, written to the
    /// log spool as the plan goes (see `crate::oplog::LOG_SPOOL`); a dry run writes no log.
    log_docs: JsonList<Spool>,
    log_inputs: JsonList<Vec<u8>>,
}

/// A file's place in the batch while its documents are planned.
struct InFile<'f> {
    f: &'f FileAnalysis,
    bytes: SourceBytes<'f>,
    /// Its path under raw/.
    inner: &'f str,
    /// Its index in the journal's sources.
    src: usize,
}

impl<'a, 'j> Planner<'a, 'j> {
    fn new(
        inputs: PlanInputs<'a>,
        j: &'j mut Journal,
        summary: &'j mut Summary,
        sink: &'j mut dyn Sink,
    ) -> Result<Planner<'a, 'j>> {
        let fabric = inputs.fabric;
        let mut spool = Spool(inputs.spool);
        spool
            .write_all(b"{\"documents\":")
            .map_err(|e| spool_error(fabric, e))?;
        Ok(Planner {
            fabric,
            claims: inputs.claims,
            outputs: inputs.outputs,
            staged_as: HashMap::new(),
            late: inputs.late,
            dry_run: inputs.dry_run,
            hand_edits: inputs.hand_edits,
            archived_edits: HashSet::new(),
            j,
            summary,
            sink,
            names: unmanaged::Names::new(fabric),
            sent: 0,
            written: HashSet::new(),
            targets: Targets::default(),
            log_docs: JsonList::new(spool),
            log_inputs: JsonList::new(Vec::new()),
        })
    }

    /// Report a planned action: built only for a dry run, which prints them (a real run
    /// would allocate them for nothing).
    fn act(&mut self, a: impl FnOnce() -> PlanAction) {
        if self.dry_run {
            self.sink.emit(Event::Planned { action: a() });
        }
    }

    /// Hand the writes planned so far to the late writer (`send_late`).
    fn send_late(&mut self) {
        send_late(
            self.j,
            &mut self.sent,
            self.outputs,
            &mut self.staged_as,
            self.late,
        );
    }

    /// Plan one input file by its decision.
    fn file(&mut self, f: &FileAnalysis, d: &FileDecision) -> Result<()> {
        self.send_late();
        self.summary.files += 1;
        let inner = f.rel.strip_prefix("raw/").unwrap_or(&f.rel);
        if let Some(len) = f.too_large {
            if let FileDecision::Whole { code, reason, .. } = d {
                self.too_large(f, inner, len, *code, reason)?;
            }
            return Ok(());
        }
        let archive = stage::archive_path(&self.j.batch, inner);
        self.j.sources.push(Source {
            path: f.rel.clone(),
            sha256: f.sha256,
            len: f.len as u64,
            archive: Some(archive.clone()),
        });
        self.log_inputs.push(&oplog::Input::Read {
            archive: archive.as_str().into(),
            bytes: f.len,
            path: f.rel.as_str().into(),
            sha256: f.sha256,
        });
        let mut file = InFile {
            f,
            bytes: SourceBytes {
                fabric: self.fabric,
                file: f,
                again: None,
            },
            inner,
            src: self.j.sources.len() - 1,
        };
        match d {
            FileDecision::Whole {
                code,
                reason,
                pos,
                docs,
            } => self.whole(&mut file, *code, reason, *pos, docs)?,
            FileDecision::Docs(fates) => self.documents(&mut file, fates)?,
        }
        self.act(|| PlanAction::Archive {
            from: f.rel.clone(),
            to: archive.clone(),
        });
        self.act(|| PlanAction::Remove {
            path: f.rel.clone(),
        });
        self.j.removes.push(Remove {
            path: f.rel.clone(),
            sha256: Some(f.sha256),
            source: None,
        });
        Ok(())
    }

    /// A file over the size cap, never read: moved as it is, so it is its own original.
    fn too_large(
        &mut self,
        f: &FileAnalysis,
        inner: &str,
        len: u64,
        code: ReasonCode,
        reason: &str,
    ) -> Result<()> {
        self.summary.files_unmanaged_whole += 1;
        let item = self.names.item(inner, None, &[])?;
        self.j.renames.push(journal::Rename {
            from: f.rel.clone(),
            to: item.path.clone(),
        });
        let record = unmanaged::reason_record(
            &item,
            &f.rel,
            None,
            &self.j.batch,
            code,
            reason,
            None,
            Vec::new(),
        );
        let owner = Owner::Rename(self.j.renames.len() - 1);
        push_text(self.j, &item.reason_path, record, owner);
        self.act(|| PlanAction::Move {
            from: f.rel.clone(),
            to: item.path.clone(),
        });
        self.log_inputs.push(&oplog::Input::MovedUnread {
            bytes: len as usize,
            moved_unread_to: item.path.as_str().into(),
            path: f.rel.as_str().into(),
        });
        self.sink.emit(Event::FileFinished {
            file: f.rel.clone(),
            outcome: FileOutcome::WholeUnmanaged {
                code,
                reason: reason.to_string(),
                path: Some(item.path),
            },
        });
        Ok(())
    }

    /// A file kept whole in unmanaged/, byte for byte, with a reason listing its documents.
    fn whole(
        &mut self,
        file: &mut InFile<'_>,
        code: ReasonCode,
        reason: &str,
        pos: Option<crate::yaml::Pos>,
        docs: &[WholeDoc],
    ) -> Result<()> {
        let f = file.f;
        self.summary.files_unmanaged_whole += 1;
        // Staging may have written its objects: taken back before the journal.
        for doc in f.docs() {
            if let Some(path) = doc.managed_path() {
                self.claims.note_dropped(doc, path);
            }
        }
        let item = self.names.item(file.inner, None, file.bytes.get()?)?;
        let reason_docs: Vec<_> = docs
            .iter()
            .map(|(i, p, obj, c, r)| ReasonDoc::new(*i, *p, obj.as_deref(), *c, r))
            .collect();
        emit_whole(&f.rel, docs, Some(&item.path), self.summary, self.sink);
        for doc in f.docs() {
            super::emit_problems(&f.rel, doc, self.summary, self.sink);
        }
        let reason_json = unmanaged::reason_record(
            &item,
            &f.rel,
            Some(f.sha256),
            &self.j.batch,
            code,
            reason,
            pos,
            reason_docs,
        );
        if item.fresh {
            self.j.writes.push(Write {
                path: item.path.clone(),
                sha256: f.sha256,
                content: Content::Source {
                    source: file.src,
                    parts: Box::new([[0, f.len]]),
                },
            });
            if !self.dry_run {
                self.outputs
                    .insert(item.path.clone(), file.bytes.get()?.to_vec());
            }
        }
        push_text(
            self.j,
            &item.reason_path,
            reason_json,
            Owner::Source(file.src),
        );
        self.act(|| PlanAction::Move {
            from: f.rel.clone(),
            to: item.path.clone(),
        });
        self.log_docs.push(&oplog::Doc::Whole {
            code,
            documents: docs.len(),
            path: item.path.as_str().into(),
            reason: reason.into(),
            source: f.rel.as_str().into(),
            whole: true,
        });
        self.sink.emit(Event::FileFinished {
            file: f.rel.clone(),
            outcome: FileOutcome::WholeUnmanaged {
                code,
                reason: reason.to_string(),
                path: Some(item.path),
            },
        });
        Ok(())
    }

    /// A file split into its documents, each planned by its fate.
    fn documents(&mut self, file: &mut InFile<'_>, fates: &[DocFate]) -> Result<()> {
        let f = file.f;
        let (mut m, mut u, mut e) = (0, 0, 0);
        for (di, (doc, fate)) in f.docs().iter().zip(fates).enumerate() {
            let mut sha256 = None;
            let out_fate = match fate {
                DocFate::Managed { .. } => {
                    m += 1;
                    let (fate, sha) = self.managed(file, doc)?;
                    sha256 = sha;
                    fate
                }
                DocFate::Unmanaged { code, reason } => {
                    u += 1;
                    if let Some(path) = doc.managed_path() {
                        // Staging may have written it: taken back before the journal.
                        self.claims.note_dropped(doc, path);
                    }
                    self.unmanaged(file, di, doc, *code, reason)?
                }
                DocFate::Empty => {
                    e += 1;
                    Fate::Empty
                }
            };
            self.summary.count(&out_fate);
            let object = doc.verdict.object();
            self.log_docs.push(&oplog::Doc::One {
                source: f.rel.as_str().into(),
                document: doc.index + 1,
                line: doc.pos.line,
                object: object.as_deref().map(Into::into),
                fate: std::borrow::Cow::Borrowed(&out_fate),
                sha256,
            });
            self.sink.emit(Event::DocumentClassified {
                file: f.rel.clone(),
                index: doc.index,
                pos: Some(doc.pos),
                object,
                fate: out_fate,
            });
            super::emit_problems(&f.rel, doc, self.summary, self.sink);
        }
        self.sink.emit(Event::FileFinished {
            file: f.rel.clone(),
            outcome: FileOutcome::Split {
                managed: m,
                unmanaged: u,
                empty: e,
            },
        });
        Ok(())
    }

    /// A document whose object goes to its own path under managed/: written there unless an
    /// earlier document of the batch wrote the same bytes, or the file already holds them. The
    /// digest of its bytes goes to the log (what fgd last wrote there, for `history`).
    fn managed(
        &mut self,
        file: &mut InFile<'_>,
        doc: &DocAnalysis,
    ) -> Result<(Fate, Option<journal::Digest>)> {
        let path = doc.managed_path().unwrap_or_default();
        let rel = format!("{}/{}", fabric::MANAGED, path);
        let claim = self.claims.of_mut(doc);
        let claimed = claim.is_some();
        let (sha, change) = if let Some(claim) = claim {
            if claim.planned {
                (Some(claim.sha256), Change::Unchanged)
            } else {
                claim.planned = true;
                (Some(claim.sha256), claim.change)
            }
        } else if self.written.contains(path) {
            (None, Change::Unchanged)
        } else {
            let bytes = doc.output(file.bytes.get()?);
            let change = self.targets.change(Some(self.fabric), &rel, &bytes);
            (Some(journal::Digest::of(&bytes)), change)
        };
        let logged = sha;
        if change == Change::Unchanged {
            self.act(|| PlanAction::Unchanged { path: rel.clone() });
            return Ok((
                Fate::Managed {
                    path: rel,
                    change,
                    replaced_hand_edit: None,
                },
                logged,
            ));
        }
        if !claimed {
            self.written.insert(path.to_string());
        }
        let replaced_hand_edit = self.keep_hand_edit(&rel);
        self.j.writes.push(Write {
            path: rel.clone(),
            sha256: sha.unwrap_or(journal::Digest([0; 32])),
            content: Content::Source {
                source: file.src,
                parts: parts_of(doc),
            },
        });
        self.act(|| {
            if change == Change::Create {
                PlanAction::Write { path: rel.clone() }
            } else {
                PlanAction::Replace { path: rel.clone() }
            }
        });
        Ok((
            Fate::Managed {
                path: rel,
                change,
                replaced_hand_edit,
            },
            logged,
        ))
    }

    /// Before a managed file edited by hand is replaced: its bytes go to the batch's archive
    /// (as a source of the batch, so a recovery finds them there too). Where they went.
    fn keep_hand_edit(&mut self, rel: &str) -> Option<String> {
        let edit = self.hand_edits.get(rel)?;
        if !self.archived_edits.insert(rel.to_string()) {
            return Some(edit.archive.clone());
        }
        self.j.sources.push(Source {
            path: rel.to_string(),
            sha256: edit.sha256,
            len: edit.bytes.len() as u64,
            archive: Some(edit.archive.clone()),
        });
        if let (Some(late), false) = (self.late, self.dry_run) {
            late.send(edit.archive.clone(), LateBytes::Owned(edit.bytes.clone()));
        }
        self.act(|| PlanAction::Archive {
            from: rel.to_string(),
            to: edit.archive.clone(),
        });
        self.log_inputs.push(&serde_json::json!({"path": rel, "sha256": edit.sha256, "bytes": edit.bytes.len(), "archive": edit.archive, "hand_edit": true}));
        Some(edit.archive.clone())
    }

    /// A document that goes to unmanaged/ on its own (document `di` of the file's analysis),
    /// with its reason.
    fn unmanaged(
        &mut self,
        file: &mut InFile<'_>,
        di: usize,
        doc: &DocAnalysis,
        code: ReasonCode,
        reason: &str,
    ) -> Result<Fate> {
        let f = file.f;
        let bytes = match f.kept_output(di) {
            Some(kept) => kept.to_vec(),
            None => doc.output(file.bytes.get()?),
        };
        let item = self.names.item(file.inner, Some(doc.index), &bytes)?;
        if item.fresh {
            let sha256 = journal::Digest::of(&bytes);
            self.j.writes.push(Write {
                path: item.path.clone(),
                sha256,
                content: Content::Source {
                    source: file.src,
                    parts: parts_of(doc),
                },
            });
            if !self.dry_run {
                // The object's own file, staged while reading and refused since, holds these
                // bytes when no other document defines it: it moves here.
                if let (Some(claim), Some(path)) = (self.claims.of_mut(doc), doc.managed_path()) {
                    if claim.staged && !claim.planned && claim.defs == 1 && claim.sha256 == sha256 {
                        claim.staged = false;
                        let staged_at = format!("{}/{path}", fabric::MANAGED);
                        self.staged_as.insert(item.path.clone(), staged_at);
                    }
                }
                self.outputs.insert(item.path.clone(), bytes);
            }
        }
        let object = doc.verdict.object();
        let reason_json = unmanaged::reason_record(
            &item,
            &f.rel,
            Some(f.sha256),
            &self.j.batch,
            code,
            reason,
            Some(doc.pos),
            vec![ReasonDoc::new(
                doc.index,
                doc.pos,
                object.as_deref(),
                code,
                reason,
            )],
        );
        push_text(
            self.j,
            &item.reason_path,
            reason_json,
            Owner::Source(file.src),
        );
        self.act(|| PlanAction::Write {
            path: item.path.clone(),
        });
        Ok(Fate::Unmanaged {
            code,
            reason: reason.to_string(),
            path: Some(item.path),
        })
    }

    /// The last late writes, the summary and the log record's end.
    fn finish(mut self) -> Result<()> {
        self.send_late();
        self.j.summary = self.summary.clone();
        self.j.summary.dry_run = false;
        let fabric = self.fabric;
        let mut spool = self.log_docs.close().map_err(|e| spool_error(fabric, e))?;
        let inputs = self
            .log_inputs
            .close()
            .map_err(|e| spool_error(fabric, e))?;
        spool
            .write_all(b",\"inputs\":")
            .and_then(|()| spool.write_all(&inputs))
            .and_then(|()| spool.write_all(b"}"))
            .and_then(|()| spool.flush())
            .map_err(|e| spool_error(fabric, e))?;
        if spool.0.is_some() {
            self.j.log_file = Some(crate::oplog::LOG_SPOOL.to_string());
        }
        Ok(())
    }
}

fn spool_error(fabric: &Fabric, e: std::io::Error) -> crate::error::Error {
    crate::error::io("write", &fabric.path(crate::oplog::LOG_SPOOL), e)
}

/// A document's byte ranges, as the journal records them.
fn parts_of(doc: &DocAnalysis) -> Box<[[usize; 2]]> {
    doc.parts.iter().map(|r| [r.start, r.end]).collect()
}

/// The log spool of a real run, or nothing (a dry run). Unbuffered: the document list hands it
/// 64 KiB at a time (`JsonList`).
struct Spool(Option<std::fs::File>);

impl std::io::Write for Spool {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match &mut self.0 {
            Some(file) => file.write(buf),
            None => Ok(buf.len()),
        }
    }
    fn flush(&mut self) -> std::io::Result<()> {
        match &mut self.0 {
            Some(file) => file.flush(),
            None => Ok(()),
        }
    }
}

/// Hand the writes planned since `sent` outside managed/ (unmanaged items, reasons) to the
/// late writer, which stages them while the plan goes on. An item's bytes leave `outputs`; a
/// reason's text is shared with the journal, which keeps it.
fn send_late(
    j: &Journal,
    sent: &mut usize,
    outputs: &mut HashMap<String, Vec<u8>>,
    staged_as: &mut HashMap<String, String>,
    late: Option<&super::late::LateWriter>,
) {
    let Some(late) = late else {
        return;
    };
    for w in &j.writes[*sent..] {
        if under_managed(&w.path).is_some() {
            continue;
        }
        let bytes = match &w.content {
            Content::Text(t) => LateBytes::Text(t.text.clone()),
            Content::Source { .. } => match outputs.remove(&w.path) {
                Some(bytes) => LateBytes::Owned(bytes),
                // Left unstaged, which `take_back_conflicts` reports.
                None => continue,
            },
        };
        match staged_as.remove(&w.path) {
            Some(staged_at) => late.send_staged(w.path.clone(), bytes, staged_at),
            None => late.send(w.path.clone(), bytes),
        }
    }
    *sent = j.writes.len();
}

/// A file's bytes for the plan: as read, or, when staging released them, read again and
/// checked against what was analysed.
struct SourceBytes<'a> {
    fabric: &'a Fabric,
    file: &'a FileAnalysis,
    again: Option<Vec<u8>>,
}

impl SourceBytes<'_> {
    fn get(&mut self) -> Result<&[u8]> {
        if !self.file.released() {
            return Ok(&self.file.bytes);
        }
        if self.again.is_none() {
            let path = self.fabric.path(&self.file.rel);
            // Never waiting on a FIFO put in its place meanwhile.
            let bytes = crate::store::ReadRegular::new()
                .read(&path)?
                .bytes()
                .filter(|b| b.len() == self.file.len && journal::Digest::of(b) == self.file.sha256);
            let Some(bytes) = bytes else {
                return Err(crate::error::Error::Refused(format!(
                    "{}: changed while it was being ingested; nothing was written: run the ingest again",
                    self.file.rel
                )));
            };
            self.again = Some(bytes);
        }
        Ok(self.again.as_deref().unwrap_or_default())
    }
}

/// A JSON array written item by item: a batch's 10^5 log records go straight to the log
/// spool, never held together. Items are serialised into a buffer of its own, handed on a
/// chunk at a time: serde_json writes an item in a dozen pieces, each a call through `out`.
struct JsonList<W: std::io::Write> {
    out: W,
    buf: Vec<u8>,
    items: usize,
    error: Option<std::io::Error>,
}

impl<W: std::io::Write> JsonList<W> {
    const CHUNK: usize = 64 * 1024;

    fn new(out: W) -> JsonList<W> {
        JsonList {
            out,
            buf: Vec::with_capacity(JsonList::<W>::CHUNK + 1024),
            items: 0,
            error: None,
        }
    }

    fn push<T: serde::Serialize + ?Sized>(&mut self, item: &T) {
        if self.error.is_some() {
            return;
        }
        self.buf.push(if self.items == 0 { b'[' } else { b',' });
        if let Err(e) = serde_json::to_writer(&mut self.buf, item) {
            self.error = Some(std::io::Error::other(e));
            return;
        }
        self.items += 1;
        if self.buf.len() >= JsonList::<W>::CHUNK {
            if let Err(e) = self.out.write_all(&self.buf) {
                self.error = Some(e);
            }
            self.buf.clear();
        }
    }

    fn close(mut self) -> std::io::Result<W> {
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        self.buf
            .extend_from_slice(if self.items == 0 { b"[]" } else { b"]" });
        self.out.write_all(&self.buf)?;
        Ok(self.out)
    }
}

/// A reason file's write, tied to the source (or the rename) it describes: a recovery that
/// skips that source skips it too.
fn push_text(j: &mut Journal, path: &str, text: String, owner: Owner) {
    let (source, rename) = match owner {
        Owner::Source(i) => (Some(i), None),
        Owner::Rename(i) => (None, Some(i)),
    };
    j.writes.push(Write {
        path: path.to_string(),
        sha256: journal::Digest::of(text.as_bytes()),
        content: Content::text(text, source, rename),
    });
}

/// What a text write belongs to (`push_text`).
enum Owner {
    Source(usize),
    Rename(usize),
}
