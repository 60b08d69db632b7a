//! `fgd status`: a read-only look at a fabric. Takes no lock, so it works while another fgd runs.

use std::path::Path;

use serde::Serialize;

use crate::error::Result;
use crate::fabric::{self, manifest::LastBatch, Fabric};
use crate::journal;
use crate::store::{FabricLock, LockOwner};

#[derive(Debug, Clone, Serialize)]
pub struct Status {
    pub fabric: String,
    pub path: String,
    pub structure_version: u32,
    /// Input files waiting in raw/.
    pub raw_pending: usize,
    /// Files in raw/ that ingest will not read (ignored, not regular).
    pub raw_skipped: usize,
    pub managed: usize,
    pub unmanaged: usize,
    pub last_batch: Option<LastBatch>,
    pub lock: Option<LockOwner>,
    pub unfinished: Option<Unfinished>,
    /// Files a killed cleanup left taken aside (`journal::ASIDE_PREFIX`), hidden from ingest
    /// until the next mutating command puts them back (or its journal settles them).
    pub asides: Vec<String>,
    /// What is in managed/ besides fgd's objects (never listed in the kustomization), with
    /// what resolves each.
    pub strays: Vec<StrayReport>,
    /// Validation problems of the fabric (raw/ over managed/, under its own settings): what
    /// `fgd validate` on the fabric reports.
    pub validation: ValidationCounts,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct ValidationCounts {
    /// Error-level problems: the cluster would refuse those objects.
    pub errors: usize,
    pub warnings: usize,
    /// What was checked (`--rules`, skipped rules, whole fabric or not).
    pub rules: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct StrayReport {
    /// Fabric-relative.
    pub path: String,
    pub why: String,
    pub fix: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Unfinished {
    pub batch: String,
    pub command: String,
    pub started_at: String,
    pub steps: usize,
}

pub fn status(dir: &Path) -> Result<Status> {
    let fabric = Fabric::open(dir)?;
    let manifest = fabric.manifest()?;
    // The same counts the dashboard shows.
    let counts = crate::inspect::tree_counts(&fabric)?;
    let checked = crate::ingest::managed_check::check(&fabric, &Default::default())?;
    let strays = checked
        .strays
        .iter()
        .map(|s| StrayReport {
            path: format!("{}/{}", fabric::MANAGED, s.path),
            why: s.why.clone(),
            fix: s.fix(&fabric),
        })
        .collect();
    let unfinished = journal::load(&fabric)?.map(|j| Unfinished {
        steps: j.steps(),
        batch: j.batch,
        command: j.command,
        started_at: j.started_at,
    });
    Ok(Status {
        fabric: manifest.fabric,
        path: fabric.root.display().to_string(),
        structure_version: manifest.structure_version,
        raw_pending: counts.raw_pending,
        raw_skipped: counts.raw_skipped,
        managed: counts.managed,
        unmanaged: counts.unmanaged,
        last_batch: crate::oplog::last_batch(&fabric),
        lock: FabricLock::holder(&fabric.path(fabric::LOCK))?,
        unfinished,
        asides: journal::find_asides(&fabric),
        strays,
        validation: validation_counts(&fabric),
    })
}

/// The fabric validated as `fgd validate FABRIC` does, counted.
fn validation_counts(fabric: &Fabric) -> ValidationCounts {
    let v = crate::inspect::validator_for(&fabric.root);
    let mut counts = ValidationCounts {
        rules: v.settings.describe(),
        ..Default::default()
    };
    if let Ok(s) = super::validate(
        std::slice::from_ref(&fabric.root),
        &Default::default(),
        &v,
        &mut crate::event::Discard,
    ) {
        counts.errors = s.errors;
        counts.warnings = s.warnings;
    }
    counts
}
