//! `fgd move` and `fgd adopt`: the operator sends a file to unmanaged/ with a reason, or an
//! unmanaged item back to raw/ for another try; each one journaled batch, as an ingest's.

use std::path::Path;

use crate::classify::ReasonCode;
use crate::discover::{self, ReadOutcome};
use crate::error::{io, Error, Result};
use crate::event::Sink;
use crate::fabric::{self, Fabric};
use crate::journal::{self, Content, Journal, Remove, Source, Write};
use crate::oplog;
use crate::store::{self, failpoint};

use super::unmanaged;

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
        content: Content::text(record, Some(0), None),
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
    let inner = super::unescape_folders(&inner);
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
