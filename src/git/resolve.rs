//! Conflicts between this fabric and its remote, recorded so that `fgd resolve FAB --ours` or
//! `--theirs` can settle them, and the next sync applies the choice: the same record and the
//! same answer whether the remote's change arrived before our ingest (this sync's raw/ defines
//! an object the remote just changed) or while ours was on its way (both commits change it).

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::error::GitError;
use super::scan::read_regular;
use crate::event::Sink;
use crate::fabric::{self, Fabric};
use crate::store;

/// One path both sides changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PathConflict {
    /// Relative to the working copy, as git names it.
    pub path: String,
    /// `Kind/name` for a managed object file.
    pub object: Option<String>,
    /// The remote's commit that last changed it, and that commit's author (`Name <email>`).
    pub remote_commit: Option<String>,
    pub author: Option<String>,
    /// What of ours changes it.
    pub ours: Ours,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Ours {
    /// Our local commit (not pushed) changes it.
    Commit(String),
    /// These raw/ files (relative to the fabric) define the object, and this sync would ingest
    /// them over the remote's version.
    RawFiles(Vec<String>),
}

impl std::fmt::Display for PathConflict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.path)?;
        if let Some(o) = &self.object {
            write!(f, " ({o})")?;
        }
        match (&self.remote_commit, &self.author) {
            (Some(c), Some(a)) => write!(f, ": theirs is commit {} by {a}", &c[..c.len().min(10)])?,
            (Some(c), None) => write!(f, ": theirs is commit {}", &c[..c.len().min(10)])?,
            _ => write!(f, ": changed on the remote")?,
        }
        match &self.ours {
            Ours::Commit(c) => write!(f, "; ours is local commit {}", &c[..c.len().min(10)]),
            Ours::RawFiles(files) => write!(f, "; ours is {} in raw/", files.join(", ")),
        }
    }
}

/// Which side a resolution keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Side {
    Ours,
    Theirs,
}

/// The conflicts the last push or sync stopped on, and the operator's choice once made.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ConflictRecord {
    pub url: String,
    pub conflicts: Vec<PathConflict>,
    pub resolution: Option<Side>,
}

const CONFLICT: &str = ".hnp/local/conflict.json";

/// The recorded conflict, if any (machine-local, never committed).
pub(crate) fn load(fabric: &Fabric) -> Option<ConflictRecord> {
    serde_json::from_slice(&read_regular(&fabric.path(CONFLICT))?).ok()
}

pub(crate) fn save(fabric: &Fabric, rec: &ConflictRecord) -> crate::Result<()> {
    store::create_dir_all_within(&fabric.root, Path::new(fabric::HNP_LOCAL))?;
    let bytes = serde_json::to_vec_pretty(rec).unwrap_or_default();
    store::write_atomic(&fabric.path(CONFLICT), &bytes)?;
    Ok(())
}

/// The conflict is over (the sync that applied the choice pushed).
pub(crate) fn clear(fabric: &Fabric) {
    let _ = std::fs::remove_file(fabric.path(CONFLICT));
}

/// The choice made for `path` against the remote's `remote_commit`: only for that very change
/// (a newer change of theirs is a new conflict).
pub(crate) fn chosen(
    rec: Option<&ConflictRecord>,
    path: &str,
    remote_commit: Option<&str>,
) -> Option<Side> {
    let rec = rec?;
    let side = rec.resolution?;
    rec.conflicts
        .iter()
        .any(|c| c.path == path && c.remote_commit.as_deref() == remote_commit)
        .then_some(side)
}

/// Keep the conflict a command stopped on, for `fgd resolve`; the error goes on as it was.
pub(crate) fn note(fabric: &Fabric, e: &crate::Error) {
    if let Some(GitError::Conflict { url, conflicts, .. }) = GitError::of(e) {
        let _ = save(
            fabric,
            &ConflictRecord {
                url: url.clone(),
                conflicts: conflicts.clone(),
                resolution: None,
            },
        );
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct ResolveReport {
    pub resolution: Side,
    pub conflicts: Vec<PathConflict>,
    /// raw/ files moved to unmanaged/ (`--theirs` for an object this sync would have ingested).
    pub moved: Vec<String>,
}

/// `fgd resolve FAB --ours|--theirs`: settle the conflict the last push or sync stopped on.
/// `--ours` keeps our version: the next sync replays our commit with our file, or ingests our
/// raw/ files over theirs. `--theirs` keeps the remote's: the next sync replays our commit with
/// their file, and raw/ files that would have replaced their object go to `unmanaged/` with
/// the reason (nothing is lost: they can be adopted back). Then `fgd sync` again.
pub fn resolve_fabric(dir: &Path, side: Side, sink: &mut dyn Sink) -> crate::Result<ResolveReport> {
    let fabric = Fabric::open(dir)?;
    let Some(mut rec) = load(&fabric) else {
        return Err(GitError::Setup(format!(
            "no conflict to resolve in {}: fgd resolve settles the conflict the last fgd push or sync stopped on",
            dir.display()
        ))
        .into());
    };
    let mut moved = Vec::new();
    if side == Side::Theirs {
        for c in &rec.conflicts {
            let Ours::RawFiles(files) = &c.ours else {
                continue;
            };
            for f in files {
                if moved.contains(f) || !fabric.path(f).exists() {
                    continue;
                }
                let theirs = match (&c.remote_commit, &c.author) {
                    (Some(id), Some(a)) => format!("commit {} by {a}", &id[..id.len().min(10)]),
                    _ => "the remote's version".into(),
                };
                let reason = format!(
                    "fgd resolve --theirs: {} keeps {theirs}; this file would have replaced it",
                    c.object.as_deref().unwrap_or(&c.path)
                );
                crate::ingest::moves::move_to_unmanaged(dir, &fabric.path(f), &reason, sink)?;
                moved.push(f.clone());
            }
        }
    }
    rec.resolution = Some(side);
    save(&fabric, &rec)?;
    Ok(ResolveReport {
        resolution: side,
        conflicts: rec.conflicts,
        moved,
    })
}
