//! Commit messages: the batches a commit records, from the fabric's log.

use std::path::Path;

use serde::Deserialize;

use super::scope::FabricRepo;
use crate::fabric::{self, Fabric};

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
        let batch = crate::oplog::record_batch(line)?.to_string();
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
/// The log only grows, so when the file starts with HEAD's log only the lines after it are
/// read (at 10^5 documents the log is tens of megabytes, and its first record alone most of
/// it); otherwise every record's batch is looked up among HEAD's.
pub(crate) fn uncommitted_batches(fr: &FabricRepo, fabric: &Fabric) -> Vec<LoggedBatch> {
    use std::io::Read;
    use std::os::unix::fs::OpenOptionsExt;
    let Ok(mut f) = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_CLOEXEC)
        .open(fabric.path(fabric::LOG))
    else {
        return Vec::new();
    };
    if !f.metadata().is_ok_and(|m| m.is_file()) {
        return Vec::new();
    }
    let mut now = Vec::new();
    if f.read_to_end(&mut now).is_err() {
        return Vec::new();
    }
    let blob = fr
        .head()
        .and_then(|h| h.tree().ok())
        .and_then(|t| t.get_path(Path::new(&fr.rel(fabric::LOG))).ok())
        .and_then(|e| fr.repo.find_blob(e.id()).ok());
    let head = blob.as_ref().map_or(&[][..], |b| b.content());
    let appended = (now.starts_with(head) && (head.is_empty() || head.ends_with(b"\n")))
        .then(|| &now[head.len()..]);
    let mut committed = std::collections::HashSet::new();
    if appended.is_none() {
        for line in head.split(|&b| b == b'\n') {
            if let Some(b) = crate::oplog::record_batch(line) {
                committed.insert(b);
            }
        }
    }
    appended
        .unwrap_or(&now)
        .split(|&b| b == b'\n')
        .filter(|l| crate::oplog::record_batch(l).is_some_and(|b| !committed.contains(b)))
        .filter_map(LoggedBatch::parse)
        .collect()
}

/// One path a commit changes: `A`dded, `M`odified or `D`eleted, relative to the working copy.
pub(crate) struct Change {
    pub mark: char,
    pub path: String,
}

/// The longest subject fgd writes, as git's convention has it.
const SUBJECT_MAX: usize = 72;

/// `dc1: add VPC web, update Connection leaf-01--mclag--leaf-02 (+3 more)`: the managed
/// objects a commit changes, as many as fit in `SUBJECT_MAX` characters; None when it changes
/// no managed object.
pub(crate) fn object_subject(name: &str, fr: &FabricRepo, changes: &[Change]) -> Option<String> {
    let items: Vec<String> = changes
        .iter()
        .filter_map(|c| {
            let object = super::replay::object_of_path(fr.inner(&c.path))?;
            let verb = match c.mark {
                'A' => "add",
                'D' => "remove",
                _ => "update",
            };
            Some(format!("{verb} {}", object.replacen('/', " ", 1)))
        })
        .collect();
    if items.is_empty() {
        return None;
    }
    let head = format!("{name}: ");
    let mut subject = head.clone();
    for (i, item) in items.iter().enumerate() {
        let left = items.len() - i - 1;
        let more = if left > 0 {
            format!(" (+{left} more)")
        } else {
            String::new()
        };
        let sep = if i == 0 { "" } else { ", " };
        if subject.len() + sep.len() + item.len() + more.len() > SUBJECT_MAX {
            if i == 0 {
                return Some(format!("{head}{} object changes", items.len()));
            }
            subject.push_str(&format!(" (+{} more)", items.len() - i));
            return Some(subject);
        }
        subject.push_str(sep);
        subject.push_str(item);
    }
    Some(subject)
}

/// The message of a commit fgd makes: a subject naming the managed objects it changes (or
/// `<fabric>: <what>`), the batches it records, its counts, the paths it changes (`managed/`
/// first, fgd's archive last and only counted), and trailers: the batch ids (`Fgd-Batch`) and
/// the fabric (`Fgd-Fabric`, which marks fgd's own commits). `custom` (`--message`) replaces
/// the subject and body; the trailers stay.
pub(crate) fn compose(
    fr: &FabricRepo,
    fabric: &Fabric,
    what: &str,
    changes: &[Change],
    custom: Option<&str>,
) -> String {
    let name = fabric
        .manifest()
        .map(|m| m.fabric)
        .unwrap_or_else(|_| "fabric".into());
    let batches = uncommitted_batches(fr, fabric);
    let mut trailers: Vec<String> = batches
        .iter()
        .map(|b| format!("Fgd-Batch: {}", b.batch))
        .collect();
    trailers.push(format!(
        "{}: {}",
        super::integrate::FABRIC_TRAILER,
        super::integrate::trailer_value(&fr.prefix)
    ));
    if let Some(m) = custom {
        return format!("{}\n\n{}\n", m.trim_end(), trailers.join("\n"));
    }
    let mut subject =
        object_subject(&name, fr, changes).unwrap_or_else(|| format!("{name}: {what}"));
    if subject.chars().count() > SUBJECT_MAX {
        subject = subject.chars().take(SUBJECT_MAX - 3).collect::<String>() + "...";
    }
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
    let mut body = Vec::new();
    match batches.as_slice() {
        [] => {}
        [b] => body.push(line(b)),
        [.., last] => {
            let total = |f: fn(&LoggedBatch) -> usize| batches.iter().map(f).sum::<usize>();
            body.push(format!(
                "{} batches, the last {} {}: {}, {} managed, {} unmanaged",
                batches.len(),
                last.command,
                last.batch,
                count(total(|b| b.files), "file"),
                total(|b| b.managed),
                total(|b| b.unmanaged),
            ));
            let shown = batches.len().min(100);
            if batches.len() > shown {
                body.push(format!("... and {} earlier batches", batches.len() - shown));
            }
            for b in &batches[batches.len() - shown..] {
                body.push(format!("batch {}", line(b)));
            }
        }
    }
    let (added, modified, deleted) = changes.iter().fold((0, 0, 0), |(a, m, d), c| match c.mark {
        'A' => (a + 1, m, d),
        'D' => (a, m, d + 1),
        _ => (a, m + 1, d),
    });
    if !body.is_empty() {
        body.push(String::new());
    }
    body.push(format!(
        "{added} added, {modified} modified, {deleted} deleted under {}",
        super::integrate::trailer_value(&fr.prefix)
    ));
    body.push(String::new());
    // What Argo CD and Flux apply first; the archive (originals, one per ingested file) last
    // and only counted: it is the bulk of a big ingest and says nothing new.
    let group = |c: &Change| {
        let inner = fr.inner(&c.path);
        if inner.starts_with("managed/") {
            0
        } else if inner.starts_with(".hnp/archive/") {
            2
        } else {
            1
        }
    };
    let mut left = 0usize;
    for g in 0..2 {
        let cap = if g == 0 { 1000 } else { 200 };
        for (n, c) in changes.iter().filter(|c| group(c) == g).enumerate() {
            if n < cap {
                body.push(format!("{} {}", c.mark, c.path));
            } else {
                left += 1;
            }
        }
    }
    let archived = changes.iter().filter(|c| group(c) == 2).count();
    if left > 0 {
        body.push(format!("... and {left} more"));
    }
    if archived > 0 {
        body.push(format!(
            "{} in .hnp/archive/ (the originals of ingested files)",
            count(archived, "file")
        ));
    }
    format!(
        "{subject}\n\n{}\n\n{}\n",
        body.join("\n").trim_end(),
        trailers.join("\n")
    )
}

/// `message` with `Signed-off-by:` the committer added to its trailers, as `git commit -s`:
/// the last paragraph of a message fgd composed is its trailers; a sign-off already last there
/// is not repeated.
pub(crate) fn sign_off(message: &str, committer: &git2::Signature) -> String {
    let line = format!(
        "Signed-off-by: {} <{}>",
        String::from_utf8_lossy(committer.name_bytes()),
        String::from_utf8_lossy(committer.email_bytes())
    );
    let body = message.trim_end();
    if body.lines().last() == Some(line.as_str()) {
        return format!("{body}\n");
    }
    format!("{body}\n{line}\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sign_off_joins_the_trailers_once() {
        let who = git2::Signature::now("Ops Team", "ops@example.com").expect("signature");
        let m = "dc1: add VPC web\n\nbody\n\nFgd-Batch: b1\nFgd-Fabric: fabrics/dc1\n";
        let signed = sign_off(m, &who);
        assert_eq!(
            signed,
            "dc1: add VPC web\n\nbody\n\nFgd-Batch: b1\nFgd-Fabric: fabrics/dc1\nSigned-off-by: Ops Team <ops@example.com>\n"
        );
        assert_eq!(sign_off(&signed, &who), signed);
    }
}
