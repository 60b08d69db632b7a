//! Staging while reading. A real ingest writes each object's file, and each input's archive
//! copy, as soon as the input is analysed, on the same threads that parse the next inputs,
//! instead of after the whole plan: parsing is CPU work and creating files is mostly kernel
//! work, so the two overlap. What is staged stays invisible (temp files, temp folders) until the
//! batch commits, which happens only after the journal is durable; a run killed before that
//! leaves only temps, swept by the next run. A write the plan then drops (a conflict found once
//! every input is read) is taken back before the journal is written.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard};

use super::analyze::{DocAnalysis, DocVerdict, FileAnalysis};
use super::Targets;
use crate::error::Result;
use crate::event::Change;
use crate::fabric::{self, Fabric};
use crate::journal::Digest;
use crate::store::{self, Batch};

/// What the first analysed document for a `managed/` path (`DocAnalysis::managed_path`)
/// found and did; every document defining that path notes the same claim.
#[derive(Debug, Clone)]
pub struct Claim {
    /// SHA-256 of the object's output bytes.
    pub sha256: Digest,
    pub change: Change,
    /// Its bytes wait in the batch (not for an unchanged file).
    pub staged: bool,
    /// Another document for the same path has different bytes: a conflict.
    pub clash: bool,
    /// The plan kept it (not a conflict): set by the plan.
    pub planned: bool,
    /// How many documents define it: the plan looks for conflicts only where it is over one.
    pub defs: u32,
}

/// What staging found, per `managed/` path. Each document that defines an object notes the
/// number of its path's claim (`DocAnalysis::claim`), so the serial plan reads claims in
/// about the order they were made instead of hashing 10^5 paths again. Paths are found by a
/// 128-bit hash while reading: no string per object is kept (10^5 small strings, interleaved
/// with the analyses the plan frees, kept those pages from going back to the system).
#[derive(Debug, Default)]
pub struct Claims {
    numbers: HashMap<u128, u32, KeyIsHash>,
    list: Vec<Claim>,
    /// The paths of objects the plan did not manage after all (a conflict, or any other
    /// decision of the batch), noted by the plan: a staged file of theirs is taken back by
    /// path.
    dropped: Vec<(u32, Box<str>)>,
}

/// The map's keys are already SipHashes of the path: hashing them again would only cost time.
#[derive(Debug, Default, Clone, Copy)]
struct KeyIsHash;

impl std::hash::BuildHasher for KeyIsHash {
    type Hasher = LowBits;
    fn build_hasher(&self) -> LowBits {
        LowBits(0)
    }
}

/// Keeps the low 64 bits of the `u128` key it is fed.
#[derive(Default)]
struct LowBits(u64);

impl std::hash::Hasher for LowBits {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        // Only reached for keys other than u128, which this map does not have; mix anyway.
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }
    fn write_u128(&mut self, k: u128) {
        self.0 = k as u64;
    }
}

impl Claims {
    /// Two independent 64-bit SipHashes: a collision among 10^5 paths has a chance of about
    /// 10^-28.
    fn key(path: &str) -> u128 {
        use std::hash::{Hash, Hasher};
        let half = |salt: u8| {
            let mut h = std::hash::DefaultHasher::new();
            salt.hash(&mut h);
            path.hash(&mut h);
            h.finish()
        };
        (u128::from(half(1)) << 64) | u128::from(half(2))
    }

    /// The claim a document noted: none for a document staging never saw (a dry run).
    pub fn of(&self, d: &DocAnalysis) -> Option<&Claim> {
        d.claim.and_then(|n| self.list.get(n as usize))
    }

    pub fn of_mut(&mut self, d: &DocAnalysis) -> Option<&mut Claim> {
        d.claim.and_then(|n| self.list.get_mut(n as usize))
    }

    pub fn values(&self) -> impl Iterator<Item = &Claim> {
        self.list.iter()
    }

    /// Note that the plan did not manage the object document `d` defines at `path` (under
    /// managed/).
    pub fn note_dropped(&mut self, d: &DocAnalysis, path: &str) {
        if let Some(n) = d.claim {
            self.dropped.push((n, path.into()));
        }
    }

    /// Each path of an object the plan did not manage, once, with its claim.
    pub fn dropped(&self) -> impl Iterator<Item = (&str, &Claim)> {
        let mut seen = HashSet::new();
        self.dropped.iter().filter_map(move |(n, path)| {
            seen.insert(*n)
                .then(|| Some((&**path, self.list.get(*n as usize)?)))
                .flatten()
        })
    }
}

/// Shared by the reading threads of one real ingest.
pub struct Stager<'f> {
    fabric: &'f Fabric,
    batch_id: String,
    batch: Mutex<Batch>,
    targets: Mutex<Targets>,
    claims: Mutex<Claims>,
    checked: Mutex<CheckedFolders>,
}

/// One thread's memory of the folders it staged into (a reading thread's, a late writer's):
/// fabric-relative folder -> where its files wait (a staged folder, or temps beside them in the
/// held folder), each checked already.
#[derive(Default)]
pub struct Places(HashMap<String, store::Place>);

impl Places {
    /// Where files for the fabric path `rel` (at `target`) wait in `batch`: its folder checked
    /// and placed once per thread, not under the shared locks for every file.
    pub(super) fn place(
        &mut self,
        fabric: &Fabric,
        batch: &Mutex<Batch>,
        checked: &Mutex<CheckedFolders>,
        rel: &str,
        target: &std::path::Path,
    ) -> Result<&store::Place> {
        let dir = rel.rsplit_once('/').map_or("", |(dir, _)| dir);
        if !self.0.contains_key(dir) {
            lock(checked).check(fabric, rel, target)?;
            let folder = target.parent().unwrap_or(&fabric.root);
            let place = lock(batch).folder_destination(folder)?;
            return Ok(self.0.entry(dir.to_string()).or_insert(place));
        }
        Ok(&self.0[dir])
    }

    /// Write `bytes` for the fabric path `rel` into `batch`, outside its lock.
    pub(super) fn stage(
        &mut self,
        fabric: &Fabric,
        batch: &Mutex<Batch>,
        checked: &Mutex<CheckedFolders>,
        rel: &str,
        bytes: &[u8],
    ) -> Result<()> {
        let target = fabric.path(rel);
        let place = self.place(fabric, batch, checked, rel, &target)?;
        let placed = store::write_placed(&target, place, bytes)?;
        lock(batch).record(&target, placed);
        Ok(())
    }
}

/// Folders whose chain was checked for symlinks (nothing is written through one), each
/// inspected once however many files go into it.
#[derive(Default)]
pub(super) struct CheckedFolders(HashSet<PathBuf>);

impl CheckedFolders {
    /// Refuse `target`, at the fabric path `rel`, when a folder of its chain is unsafe.
    fn check(&mut self, fabric: &Fabric, rel: &str, target: &std::path::Path) -> Result<()> {
        if let Some(parent) = std::path::Path::new(rel).parent() {
            if !self.0.contains(parent) {
                crate::journal::check_folders_of(fabric, parent, target)?;
                self.0.insert(parent.to_path_buf());
            }
        }
        Ok(())
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panicking reader thread fails the whole ingest anyway; the data stays consistent.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Where an input's byte-identical copy goes for batch `batch`. A folder named like a copy
/// (`raw/x.yaml.orig/` beside `raw/x.yaml`) is renamed (`super::escape_folders`).
pub fn archive_path(batch: &str, inner: &str) -> String {
    let inner = super::escape_folders(inner, &[fabric::ARCHIVE_SUFFIX]);
    format!(
        "{}/{batch}/{}",
        fabric::ARCHIVE,
        super::with_suffix(&inner, fabric::ARCHIVE_SUFFIX)
    )
}

impl<'f> Stager<'f> {
    pub fn new(
        fabric: &'f Fabric,
        batch_id: &str,
        dirs: std::sync::Arc<store::Dirs>,
    ) -> Stager<'f> {
        Stager {
            fabric,
            batch_id: batch_id.to_string(),
            batch: Mutex::new(Batch::within(dirs)),
            targets: Mutex::new(Targets::default()),
            claims: Mutex::new(Claims::default()),
            checked: Mutex::new(CheckedFolders::default()),
        }
    }

    /// Stage the archive copy of an analysed input and the file of each object in it whose
    /// `managed/` path no earlier input claimed (an identical duplicate is written once; a
    /// conflict is taken back by the plan).
    /// Each of its documents that defines an object notes its claim (`DocAnalysis::claim`).
    pub fn prepare(&self, f: &mut FileAnalysis, places: &mut Places) -> Result<()> {
        if f.too_large.is_some() {
            return Ok(());
        }
        let inner = f.rel.strip_prefix("raw/").unwrap_or(&f.rel);
        self.stage(&archive_path(&self.batch_id, inner), &f.bytes, places)?;
        let mut noted = Vec::with_capacity(f.docs().len());
        for d in f.docs() {
            let DocVerdict::Managed { path, .. } = &d.verdict else {
                noted.push(None);
                continue;
            };
            let rel = format!("{}/{path}", fabric::MANAGED);
            let bytes = d.output(&f.bytes);
            let sha256 = Digest::of(&bytes);
            let number = {
                let mut claims = lock(&self.claims);
                let claims = &mut *claims;
                let key = Claims::key(path);
                if let Some(&n) = claims.numbers.get(&key) {
                    noted.push(Some(n));
                    let Some(claim) = claims.list.get_mut(n as usize) else {
                        continue;
                    };
                    // The same bytes twice are one object; different bytes, a conflict.
                    if claim.sha256 != sha256 {
                        claim.clash = true;
                    }
                    claim.defs += 1;
                    continue;
                }
                let n = u32::try_from(claims.list.len()).map_err(|_| {
                    crate::error::Error::Refused(
                        "more than 2^32 objects in one batch; nothing was written".into(),
                    )
                })?;
                claims.numbers.insert(key, n);
                // Held by this thread until filled in below.
                claims.list.push(Claim {
                    sha256,
                    change: Change::Unchanged,
                    staged: false,
                    clash: false,
                    planned: false,
                    defs: 1,
                });
                noted.push(Some(n));
                n
            };
            let absent = lock(&self.targets).absent(self.fabric, &rel);
            let change = if absent {
                Change::Create
            } else {
                super::compare(&self.fabric.path(&rel), &bytes)
            };
            let staged = change != Change::Unchanged;
            if staged {
                self.stage(&rel, &bytes, places)?;
            }
            if let Some(claim) = lock(&self.claims).list.get_mut(number as usize) {
                claim.change = change;
                claim.staged = staged;
            }
        }
        for (d, n) in f.docs_mut().iter_mut().zip(noted) {
            d.claim = n;
        }
        Ok(())
    }

    /// Write `bytes` for the fabric path `rel` into the batch (`Places::stage`).
    fn stage(&self, rel: &str, bytes: &[u8], places: &mut Places) -> Result<()> {
        places.stage(self.fabric, &self.batch, &self.checked, rel, bytes)
    }

    /// The staged batch and what each `managed/` path's first object found.
    pub fn into_parts(self) -> (Batch, Claims) {
        let batch = self.batch.into_inner().unwrap_or_else(|e| e.into_inner());
        let mut claims = self.claims.into_inner().unwrap_or_else(|e| e.into_inner());
        // Only reading finds claims by path; the plan goes by the numbers the documents noted.
        claims.numbers = HashMap::default();
        (batch, claims)
    }
}
