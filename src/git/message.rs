//! Commit messages: the batches a commit records, from the fabric's log.

use std::path::Path;

use serde::Deserialize;

use super::scope::FabricRepo;
use crate::fabric::{self, Fabric};
use crate::journal;

/// A batch's record in `.hnp/log.jsonl`, as far as a commit message needs it.
pub(crate) struct LoggedBatch {
    batch: String,
    command: String,
    files: usize,
    managed: usize,
    unmanaged: usize,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct LoggedSummary {
    files: usize,
    created: usize,
    updated: usize,
    unchanged: usize,
    unmanaged: usize,
}

impl LoggedBatch {
    /// Reads only the record's head (batch, command, summary come first; a record can be
    /// megabytes of documents after them).
    pub(crate) fn parse(line: &[u8]) -> Option<LoggedBatch> {
        let batch = journal::record_batch(line)?.to_string();
        let head = &line[..line.len().min(64 * 1024)];
        let after = |key: &[u8]| {
            head.windows(key.len())
                .position(|w| w == key)
                .map(|p| &line[p + key.len()..])
        };
        let command = after(b"\"command\":")
            .and_then(|rest| {
                serde_json::Deserializer::from_slice(rest)
                    .into_iter::<String>()
                    .next()?
                    .ok()
            })
            .unwrap_or_default();
        let summary: LoggedSummary = after(b"\"summary\":")
            .and_then(|rest| {
                serde_json::Deserializer::from_slice(rest)
                    .into_iter::<LoggedSummary>()
                    .next()?
                    .ok()
            })
            .unwrap_or_default();
        Some(LoggedBatch {
            batch,
            command,
            files: summary.files,
            managed: summary.created + summary.updated + summary.unchanged,
            unmanaged: summary.unmanaged,
        })
    }
}

pub(crate) fn count(n: usize, what: &str) -> String {
    format!("{n} {what}{}", if n == 1 { "" } else { "s" })
}

/// The batches in the fabric's log that HEAD's log does not hold: what the next commit records.
pub(crate) fn uncommitted_batches(fr: &FabricRepo, fabric: &Fabric) -> Vec<LoggedBatch> {
    use std::io::BufRead;
    use std::os::unix::fs::OpenOptionsExt;
    let mut committed = std::collections::HashSet::new();
    if let Some(blob) = fr
        .head()
        .and_then(|h| h.tree().ok())
        .and_then(|t| t.get_path(Path::new(&fr.rel(fabric::LOG))).ok())
        .and_then(|e| fr.repo.find_blob(e.id()).ok())
    {
        for line in blob.content().split(|&b| b == b'\n') {
            if let Some(b) = journal::record_batch(line) {
                committed.insert(b.to_string());
            }
        }
    }
    let Ok(f) = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_CLOEXEC)
        .open(fabric.path(fabric::LOG))
    else {
        return Vec::new();
    };
    if !f.metadata().is_ok_and(|m| m.is_file()) {
        return Vec::new();
    }
    std::io::BufReader::new(f)
        .split(b'\n')
        .map_while(|l| l.ok())
        .filter(|l| journal::record_batch(l).is_some_and(|b| !committed.contains(b)))
        .filter_map(|l| LoggedBatch::parse(&l))
        .collect()
}

/// The default commit message: the fabric, the action, and the batches the commit records (a
/// commit after failed pushes holds several; its subject says how many, its body lists them).
pub(crate) fn batch_message(fr: &FabricRepo, fabric: &Fabric, what: &str) -> String {
    let m = fabric.manifest().ok();
    let name = m
        .as_ref()
        .map(|m| m.fabric.clone())
        .unwrap_or_else(|| "fabric".into());
    let batches = uncommitted_batches(fr, fabric);
    let line = |b: &LoggedBatch| {
        format!(
            "{} {}: {}, {} managed, {} unmanaged",
            b.command,
            b.batch,
            count(b.files, "file"),
            b.managed,
            b.unmanaged
        )
    };
    match batches.as_slice() {
        [] => format!("fgd({name}): {what}"),
        [b] => format!("fgd({name}): {what}; last batch {}", line(b)),
        [.., last] => {
            let total = |f: fn(&LoggedBatch) -> usize| batches.iter().map(f).sum::<usize>();
            let shown = batches.len().min(100);
            let mut listed: Vec<String> = batches[batches.len() - shown..]
                .iter()
                .map(|b| format!("batch {}", line(b)))
                .collect();
            if batches.len() > shown {
                listed.insert(
                    0,
                    format!("... and {} earlier batches", batches.len() - shown),
                );
            }
            format!(
                "fgd({name}): {what}; {} batches, the last {} {}: {}, {} managed, {} unmanaged\n\n{}",
                batches.len(),
                last.command,
                last.batch,
                count(total(|b| b.files), "file"),
                total(|b| b.managed),
                total(|b| b.unmanaged),
                listed.join("\n")
            )
        }
    }
}
