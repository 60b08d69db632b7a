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
    })
}
