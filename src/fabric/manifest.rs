//! `.hnp/manifest.json`: marks a directory as an fgd fabric and records its name, structure
//! version and last batch. JSON, so nothing in .hnp/ looks like a Kubernetes object.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{io, Error, Result};
use crate::store;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Manifest {
    pub structure_version: u32,
    pub fabric: String,
    pub created_at: String,
    pub created_by: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
/// The last finished batch, as status reports it (read from the operation log).
pub struct LastBatch {
    pub batch: String,
    pub command: String,
    pub finished_at: String,
    pub files: usize,
    pub managed: usize,
    pub unmanaged: usize,
}

impl Manifest {
    pub fn new(name: &str) -> Manifest {
        Manifest {
            structure_version: super::STRUCTURE_VERSION,
            fabric: name.to_string(),
            created_at: store::now_rfc3339(),
            created_by: format!("fgd {}", env!("CARGO_PKG_VERSION")),
        }
    }

    pub fn load(path: &Path) -> Result<Manifest> {
        let bytes = std::fs::read(path).map_err(|e| io("read manifest", path, e))?;
        let m: Manifest = serde_json::from_slice(&bytes).map_err(|e| {
            let fabric = path
                .parent()
                .and_then(Path::parent)
                .unwrap_or(Path::new("."));
            Error::Refused(format!(
                "{}: not a valid fgd manifest ({e}). fgd writes it atomically, so it was damaged from outside: restore it (`git checkout -- {}` in a git working copy), or remove it and run `fgd init {}` to write a new one (name the fabric with --name)",
                path.display(),
                path.display(),
                fabric.display()
            ))
        })?;
        if m.structure_version > super::STRUCTURE_VERSION {
            return Err(Error::Refused(format!(
                "{}: structure version {} is newer than this fgd understands ({}); upgrade fgd",
                path.display(),
                m.structure_version,
                super::STRUCTURE_VERSION
            )));
        }
        Ok(m)
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let mut v = serde_json::to_vec_pretty(self).unwrap_or_default();
        v.push(b'\n');
        v
    }

    pub fn save(&self, path: &Path) -> Result<()> {
        Ok(store::write_atomic(path, &self.to_bytes())?)
    }
}
