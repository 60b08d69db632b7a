//! What the fabric's past says about a batch's documents, before it is decided: objects an
//! operator took out of management with `fgd move`, and managed files edited by hand since fgd
//! last wrote them. Both are rare, and both are looked up only where they can be: an item in
//! `unmanaged/` at the object's own name (its folder is listed once), a managed file the batch
//! would replace (its bytes are read again, and only then is the operation log read).

use std::collections::{HashMap, HashSet};
use std::path::Path;

use super::analyze::FileAnalysis;
use super::decide::{At, Refusals};
use super::{stage, Targets};
use crate::classify::ReasonCode;
use crate::error::Result;
use crate::event::Change;
use crate::fabric::{self, Fabric};

/// Where, in a batch's archive, the hand-edited versions of managed files it replaces are
/// kept: `<batch>/hand-edits~dir/managed/<plural>/<name>.yaml.orig`. No raw path is archived
/// there: a raw folder named like that is archived as `hand-edits~dir~dir`
/// (`escape_folders`).
pub const HAND_EDITS: &str = "hand-edits~dir";

/// A managed file edited by hand that the batch replaces: its bytes are archived first.
#[derive(Debug, Clone)]
pub struct HandEdit {
    pub bytes: Vec<u8>,
    pub sha256: crate::digest::Digest,
    /// Fabric-relative archive path.
    pub archive: String,
}

/// What `review` found.
#[derive(Debug, Default)]
pub struct Review {
    /// Documents not to manage, and why.
    pub refusals: Refusals,
    /// Managed files (fabric-relative) edited by hand, which the batch replaces.
    pub hand_edits: HashMap<String, HandEdit>,
}

/// Look at what the batch's documents would do to managed/ against what fgd did before.
/// `claims` is what staging found (empty for a dry run, which compares itself).
pub fn review(
    fabric: &Fabric,
    batch: &str,
    files: &[FileAnalysis],
    claims: &stage::Claims,
) -> Result<Review> {
    let mut review = Review::default();
    let mut targets = Targets::default();
    moved_back(fabric, files, &mut targets, &mut review.refusals)?;
    // The managed files the batch would replace: (path under managed/, its documents).
    let mut replaced: HashMap<&str, Vec<At>> = HashMap::new();
    for (fi, f) in files.iter().enumerate() {
        for (di, d) in f.docs().iter().enumerate() {
            let Some(path) = d.managed_path() else {
                continue;
            };
            if review.refusals.contains_key(&(fi, di)) {
                continue;
            }
            let change = match claims.of(d) {
                Some(claim) => claim.change,
                None if f.released() => continue,
                None => {
                    let rel = format!("{}/{path}", fabric::MANAGED);
                    targets.change(Some(fabric), &rel, &d.output(&f.bytes))
                }
            };
            if change == Change::Update {
                replaced.entry(path).or_default().push((fi, di));
            }
        }
    }
    if replaced.is_empty() {
        return Ok(review);
    }
    let wanted: HashSet<String> = replaced
        .keys()
        .map(|p| format!("{}/{p}", fabric::MANAGED))
        .collect();
    let written = last_written(fabric, &wanted)?;
    for (path, docs) in replaced {
        let rel = format!("{}/{path}", fabric::MANAGED);
        let Some(bytes) = crate::store::ReadRegular::new()
            .read(&fabric.path(&rel))?
            .bytes()
        else {
            continue;
        };
        let sha256 = crate::digest::Digest::of(&bytes);
        match written.get(&rel) {
            Some(Written::Sha(last)) if *last == sha256.to_string() => continue,
            // Written by an fgd that did not log what (older logs): taken as its own.
            Some(Written::Unrecorded) => continue,
            _ => {}
        }
        let (fi, _) = docs[0];
        let raw = &files[fi].rel;
        if newer(&fabric.path(&rel), &fabric.path(raw)) {
            let reason = format!(
                "conflict: {rel} was edited by hand after {raw} was written, and differs from what fgd last wrote there: neither replaced the other, the edit stays in managed/. To apply this version over the edit, `fgd adopt` this item (the edit is then archived); to keep the edit, delete this item"
            );
            for at in docs {
                review
                    .refusals
                    .insert(at, (ReasonCode::Conflict, reason.clone()));
            }
            continue;
        }
        let archive = format!(
            "{}/{batch}/{HAND_EDITS}/{}",
            fabric::ARCHIVE,
            super::with_suffix(&rel, fabric::ARCHIVE_SUFFIX)
        );
        review.hand_edits.insert(
            rel,
            HandEdit {
                bytes,
                sha256,
                archive,
            },
        );
    }
    Ok(review)
}

/// Whether `a` was modified after `b` (false when either cannot be looked at).
fn newer(a: &Path, b: &Path) -> bool {
    let mtime = |p: &Path| std::fs::symlink_metadata(p).and_then(|m| m.modified()).ok();
    matches!((mtime(a), mtime(b)), (Some(a), Some(b)) if a > b)
}

/// Documents whose object an operator took out of management with `fgd move`, come again:
/// refused with what to do, so a file dropped back (often by a script that copies a folder
/// into raw/) does not undo the move without a word. Found by the item a move leaves at the
/// object's own name (`unmanaged/<plural>/<name>.yaml.unmanaged`), or at the raw file's
/// (`unmanaged/<path>.unmanaged`), whose reason is the operator's.
fn moved_back(
    fabric: &Fabric,
    files: &[FileAnalysis],
    targets: &mut Targets,
    refusals: &mut Refusals,
) -> Result<()> {
    let mut operator = |item: &str| -> Result<Option<String>> {
        if targets.absent(fabric, item) {
            return Ok(None);
        }
        operator_reason(fabric, item)
    };
    for (fi, f) in files.iter().enumerate() {
        if f.docs().iter().all(|d| d.managed_path().is_none()) {
            continue;
        }
        let inner = f.rel.strip_prefix("raw/").unwrap_or(&f.rel);
        let whole = format!("{}/{inner}{}", fabric::UNMANAGED, fabric::UNMANAGED_SUFFIX);
        let file_moved = operator(&whole)?.map(|reason| (whole, reason));
        for (di, d) in f.docs().iter().enumerate() {
            let Some(path) = d.managed_path() else {
                continue;
            };
            let item = format!("{}/{path}{}", fabric::UNMANAGED, fabric::UNMANAGED_SUFFIX);
            let moved = match operator(&item)? {
                Some(reason) => Some((item, reason)),
                None => file_moved.clone(),
            };
            let Some((item, why)) = moved else {
                continue;
            };
            let object = d.verdict.object().unwrap_or_default();
            refusals.insert(
                (fi, di),
                (
                    ReasonCode::Operator,
                    format!(
                        "{object} was taken out of management with `fgd move` ({item}, reason: {why:?}), so it is not managed again: to manage it again, `fgd adopt` that item or delete it, then ingest this file again"
                    ),
                ),
            );
        }
    }
    Ok(())
}

/// The operator's reason, if the item at `item` was put there by `fgd move` (whose record lists
/// no documents; an ingest's always does, its refusals for this reason included).
fn operator_reason(fabric: &Fabric, item: &str) -> Result<Option<String>> {
    let path = fabric.path(&format!("{item}{}", fabric::REASON_SUFFIX));
    let Some(bytes) = crate::store::ReadRegular::new().read(&path)?.bytes() else {
        return Ok(None);
    };
    let Ok(record) = serde_json::from_slice::<serde_json::Value>(&bytes) else {
        return Ok(None);
    };
    let moved = record["code"] == ReasonCode::Operator.as_str()
        && record["documents"].as_array().is_some_and(Vec::is_empty);
    Ok(moved.then(|| record["reason"].as_str().unwrap_or_default().to_string()))
}

/// What the operation log says fgd last wrote at a managed path.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Written {
    /// The SHA-256 of the bytes.
    Sha(String),
    /// Written by a batch whose record does not say which bytes (fgd before it logged them).
    Unrecorded,
}

/// For each of `wanted` (fabric-relative managed paths), what the last batch that managed an
/// object there wrote, read from the end of the operation log until all are found.
fn last_written(fabric: &Fabric, wanted: &HashSet<String>) -> Result<HashMap<String, Written>> {
    #[derive(serde::Deserialize)]
    struct Record<'a> {
        #[serde(borrow, default)]
        documents: Vec<Document<'a>>,
    }
    #[derive(serde::Deserialize)]
    struct Document<'a> {
        #[serde(borrow, default)]
        fate: Option<Fate<'a>>,
        #[serde(borrow, default)]
        sha256: Option<std::borrow::Cow<'a, str>>,
    }
    #[derive(serde::Deserialize)]
    struct Fate<'a> {
        #[serde(borrow)]
        fate: std::borrow::Cow<'a, str>,
        #[serde(borrow, default)]
        path: Option<std::borrow::Cow<'a, str>>,
    }
    let mut out = HashMap::new();
    let log = match std::fs::read(fabric.path(fabric::LOG)) {
        Ok(log) => log,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
        Err(e) => return Err(crate::error::io("read", &fabric.path(fabric::LOG), e)),
    };
    for line in log.rsplit(|&b| b == b'\n') {
        if out.len() == wanted.len() {
            break;
        }
        // Only an ingest's record lists documents; others (moves, pushes) are passed over.
        let Ok(mut record) = serde_json::from_slice::<Record>(line) else {
            continue;
        };
        // A big batch's documents are in its own file (`oplog::RECORDS`).
        let detail = match record.documents.is_empty() {
            true => crate::oplog::detail_of(fabric, line)?,
            false => None,
        };
        if let Some(Ok(d)) = detail.as_deref().map(serde_json::from_slice::<Record>) {
            record = d;
        }
        for d in record.documents {
            let Some(Fate {
                fate,
                path: Some(path),
            }) = d.fate
            else {
                continue;
            };
            if fate != "managed"
                || !wanted.contains(path.as_ref())
                || out.contains_key(path.as_ref())
            {
                continue;
            }
            let written = match d.sha256 {
                Some(sha) => Written::Sha(sha.into_owned()),
                None => Written::Unrecorded,
            };
            out.insert(path.into_owned(), written);
        }
    }
    Ok(out)
}
