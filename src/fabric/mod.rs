//! The fabric GitOps directory: its layout, the safety checks before any work, `init`, and
//! the manifest that marks a directory as a fabric.

pub mod kustomization;
pub mod manifest;
pub mod reason;

use std::path::{Path, PathBuf};

use crate::error::{io, Error, Result};
use crate::store;

pub use manifest::Manifest;

pub const RAW: &str = "raw";
pub const MANAGED: &str = "managed";
pub const UNMANAGED: &str = "unmanaged";
pub const HNP: &str = ".hnp";
pub const ARCHIVE: &str = ".hnp/archive";
pub const MANIFEST: &str = ".hnp/manifest.json";
pub const JOURNAL: &str = ".hnp/journal.json";
pub const LOG: &str = ".hnp/log.jsonl";
pub const LOCK: &str = ".hnp/lock";
/// Machine-local state, never committed.
pub const HNP_LOCAL: &str = ".hnp/local";
/// A big batch's log record while the batch runs (`journal::LOG_SPOOL`).
pub const LOG_SPOOL: &str = ".hnp/local/journal-log.json";
pub const KUSTOMIZATION: &str = "managed/kustomization.yaml";
pub const SOURCEIGNORE: &str = ".sourceignore";

/// Structure version written to the manifest; bump on incompatible layout changes.
pub const STRUCTURE_VERSION: u32 = 1;

/// Unmanaged items carry this suffix so no GitOps tool (they read *.yaml, *.yml, *.json)
/// ever applies them; the reason sits beside each as `<item>.reason.json`.
pub const UNMANAGED_SUFFIX: &str = ".unmanaged";
pub const REASON_SUFFIX: &str = ".reason.json";
/// Archived originals: byte-identical, with a suffix GitOps tools ignore.
pub const ARCHIVE_SUFFIX: &str = ".orig";

#[derive(Debug, Clone)]
pub struct Fabric {
    pub root: PathBuf,
}

impl Fabric {
    pub fn path(&self, rel: &str) -> PathBuf {
        self.root.join(rel)
    }

    /// Open an initialised fabric: the layout must be there and safe. Writes nothing, so
    /// read-only commands work on a read-only checkout; a fresh clone's missing (empty)
    /// archive folder is made by the first batch that archives something.
    pub fn open(dir: &Path) -> Result<Fabric> {
        let root = canonical_dir(dir)?;
        let fabric = Fabric { root };
        if !fabric.path(MANIFEST).exists() {
            return Err(Error::Refused(format!(
                "{} is not an fgd fabric (no {MANIFEST}); run `fgd init {}` first",
                dir.display(),
                dir.display()
            )));
        }
        fabric.check_layout()?;
        // Refused as init refuses it: a damaged manifest is no fabric to work on.
        fabric.manifest()?;
        // git carries no empty folders: a fresh clone of a fabric lacks the (empty) archive.
        let missing: Vec<&str> = [RAW, MANAGED, UNMANAGED]
            .into_iter()
            .filter(|r| !fabric.path(r).is_dir())
            .collect();
        if !missing.is_empty() {
            return Err(Error::Refused(format!(
                "{}: the layout is incomplete ({} missing); run `fgd init {}` to repair it",
                dir.display(),
                missing.join(", "),
                dir.display()
            )));
        }
        Ok(fabric)
    }

    /// Every fgd-owned folder must be a real directory: writing through a symlinked managed/
    /// or .hnp/ would put files outside the fabric.
    pub fn check_layout(&self) -> Result<()> {
        for rel in [RAW, MANAGED, UNMANAGED, HNP, ARCHIVE] {
            let p = self.path(rel);
            match std::fs::symlink_metadata(&p) {
                Ok(m) if m.file_type().is_symlink() => {
                    return Err(Error::Unsafe {
                        path: p,
                        message: "is a symlink; fgd refuses to work through it".into(),
                    })
                }
                Ok(m) if !m.is_dir() => {
                    return Err(Error::Unsafe {
                        path: p,
                        message: "is not a directory".into(),
                    })
                }
                Ok(_) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(io("inspect", &p, e)),
            }
        }
        // The lock file: opened, never followed (and created by the first mutating command).
        let lock = self.path(LOCK);
        let repair = |what: &str| {
            Error::Unsafe {
            path: lock.clone(),
            message: format!(
                "{what}; fgd never works through one. It is fgd's own machine-local file: remove it (`rm {}`) and fgd makes a new one",
                lock.display()
            ),
        }
        };
        match std::fs::symlink_metadata(&lock) {
            Ok(m) if m.file_type().is_symlink() => return Err(repair("is a symlink")),
            Ok(m) if !m.is_file() => return Err(repair("is not a regular file")),
            _ => {}
        }
        self.check_records()?;
        // Symlinked folders inside managed/ would redirect object writes the same way.
        if let Ok(entries) = std::fs::read_dir(self.path(MANAGED)) {
            for entry in entries.flatten() {
                if entry.file_type().map(|t| t.is_symlink()).unwrap_or(false) {
                    return Err(Error::Unsafe {
                        path: entry.path(),
                        message: "is a symlink inside managed/; fgd refuses to work through it"
                            .into(),
                    });
                }
            }
        }
        Ok(())
    }

    /// fgd's records in `.hnp/` (the log, the manifest, the journal, the log spool) must be
    /// regular files, and `.hnp/local/` a real folder: each is opened without following a
    /// symlink, so one found only when the batch appends its log record would fail the batch
    /// after every file had moved. Checked up front instead, before anything is journaled.
    fn check_records(&self) -> Result<()> {
        let local = self.path(HNP_LOCAL);
        match std::fs::symlink_metadata(&local) {
            Ok(m) if m.file_type().is_symlink() || !m.is_dir() => {
                return Err(Error::Unsafe {
                    path: local.clone(),
                    message: format!(
                        "is {}; fgd keeps its machine-local files there and never works through one. Remove it (`rm {}`) and fgd makes a new folder",
                        if m.file_type().is_symlink() { "a symlink" } else { "not a directory" },
                        local.display()
                    ),
                })
            }
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io("inspect", &local, e)),
        }
        // (`.hnp/.gitignore` is not one: fgd only ever creates it when it is missing.)
        for rel in [LOG, MANIFEST, JOURNAL, LOG_SPOOL] {
            let p = self.path(rel);
            let symlink = match std::fs::symlink_metadata(&p) {
                Ok(m) if m.file_type().is_symlink() => true,
                Ok(m) if !m.is_file() => false,
                Ok(_) => continue,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(io("inspect", &p, e)),
            };
            let what = if symlink {
                "a symlink"
            } else {
                "not a regular file"
            };
            let fix = if symlink {
                format!(
                    "put the file itself in its place (`cp --remove-destination \"$(readlink -f {p})\" {p}`), then run fgd again",
                    p = p.display()
                )
            } else {
                format!(
                    "move it out of the way (`mv {p} {p}.moved`) and put fgd's file back (from git, for the log and the manifest), then run fgd again",
                    p = p.display()
                )
            };
            return Err(Error::Unsafe {
                path: p,
                message: format!(
                    "is {what}; it is one of fgd's records, which fgd never reads or writes through a symlink or as anything but a file: {fix}"
                ),
            });
        }
        Ok(())
    }

    pub fn manifest(&self) -> Result<Manifest> {
        Manifest::load(&self.path(MANIFEST))
    }

    /// Path relative to the fabric root, with `/` separators, for messages and records.
    pub fn rel(&self, path: &Path) -> String {
        path.strip_prefix(&self.root)
            .unwrap_or(path)
            .to_string_lossy()
            .replace('\\', "/")
    }
}

fn canonical_dir(dir: &Path) -> Result<PathBuf> {
    let root = std::fs::canonicalize(dir).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => Error::Refused(format!(
            "{}: no such folder, so not an fgd fabric; `fgd init {}` creates one",
            dir.display(),
            dir.display()
        )),
        _ => io("open fabric", dir, e),
    })?;
    if !root.is_dir() {
        return Err(Error::Refused(format!(
            "{} is not a directory",
            dir.display()
        )));
    }
    Ok(root)
}

/// Whether `dir` is a fabric's root (it holds fgd's manifest).
pub fn is_fabric_root(dir: &Path) -> bool {
    std::fs::symlink_metadata(dir.join(MANIFEST)).is_ok()
}

/// The nearest fabric that `dir` lies inside, not `dir` itself: looked for from the nearest
/// folder of its path that exists, made absolute without following the rest.
fn enclosing_fabric(dir: &Path) -> Option<PathBuf> {
    let first = match std::fs::canonicalize(dir) {
        Ok(root) => root.parent()?.to_path_buf(),
        Err(_) => {
            let existing = dir
                .ancestors()
                .skip(1)
                .find(|a| a.as_os_str().is_empty() || a.is_dir())?;
            let existing = if existing.as_os_str().is_empty() {
                Path::new(".")
            } else {
                existing
            };
            std::fs::canonicalize(existing).ok()?
        }
    };
    first
        .ancestors()
        .find(|a| is_fabric_root(a))
        .map(Path::to_path_buf)
}

/// A fabric inside `dir`, at any depth (symlinks not followed), if there is one.
fn fabric_within(dir: &Path) -> Option<PathBuf> {
    if is_fabric_root(dir) {
        return Some(dir.to_path_buf());
    }
    for entry in std::fs::read_dir(dir).ok()?.flatten() {
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            if let Some(found) = fabric_within(&entry.path()) {
                return Some(found);
            }
        }
    }
    None
}

const RAW_README: &str = "# raw/\n\n\
Drop Kubernetes YAML for this fabric here (multi-document files and sub-folders are fine).\n\
`fgd ingest` reads every *.yaml, *.yml and *.json file, writes each Hedgehog object to\n\
managed/<kind-plural>/<name>.yaml, puts whatever it must not manage into unmanaged/ with the\n\
reason, archives the original under .hnp/archive/ and removes it from here.\n\
Check files first with `fgd validate raw/`.\n";

const UNMANAGED_README: &str = "# unmanaged/\n\n\
What fgd could not or must not manage. Each item `<name>.unmanaged` holds the original bytes\n\
(the suffix keeps Argo CD and Flux from applying it) and `<name>.unmanaged.reason.json` says why.\n\
Fix an item and send it back with `fgd adopt <fabric> unmanaged/<name>.unmanaged`.\n";

/// What in .hnp/ is local to one machine and never committed.
pub const HNP_GITIGNORE: &str = ".hnp/.gitignore";
const HNP_GITIGNORE_TEXT: &str =
    "# fgd: machine-local state, never committed\nlock\njournal.json\nlocal/\n";

const SOURCEIGNORE_TEXT: &str =
    "# fgd: only managed/ is for the cluster\nraw/\nunmanaged/\n.hnp/\n";

/// What `init` did, for reporting.
#[derive(Debug, Default, Clone, serde::Serialize)]
pub struct InitReport {
    pub fabric: String,
    pub name: String,
    pub created: Vec<String>,
    /// fgd's own files brought up to date (the kustomization, listing the object files).
    pub updated: Vec<String>,
    pub kept: Vec<String>,
    /// YAML files left at the fabric's root, which no ingest reads (`init --adopt-existing`
    /// moves them into raw/).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub left: Vec<String>,
}

/// Create or repair the layout. Idempotent: existing files are never overwritten, except the
/// kustomization.yaml fgd generated when it is missing entries; one fgd did not write is
/// refused, before anything is created.
pub fn init(dir: &Path, name: Option<&str>) -> Result<(Fabric, InitReport)> {
    // Fabrics do not nest: an outer fabric's ingest would read this one's files as its own.
    // Asked before anything is made, of the folders that exist already.
    if let Some(outer) = enclosing_fabric(dir) {
        return Err(Error::Refused(format!(
            "{} is inside the fabric {}: fabrics do not nest (the outer one would ingest this one's files); make it outside {}",
            dir.display(),
            outer.display(),
            outer.display()
        )));
    }
    match std::fs::symlink_metadata(dir) {
        Ok(m) if m.file_type().is_symlink() || m.is_dir() => {}
        Ok(_) => {
            return Err(Error::Refused(format!(
                "{} exists and is not a directory",
                dir.display()
            )))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            std::fs::create_dir_all(dir).map_err(|e| io("create fabric directory", dir, e))?
        }
        Err(e) => return Err(io("inspect", dir, e)),
    }
    let fabric = Fabric {
        root: canonical_dir(dir)?,
    };
    if let Some(inner) = fabric_within(&fabric.path(RAW)) {
        return Err(Error::Refused(format!(
            "{}'s raw/ holds the fabric {}: fabrics do not nest (an ingest of {} would take that fabric's files); move {} out of raw/ first",
            fabric.root.display(),
            inner.display(),
            fabric.root.display(),
            inner.display()
        )));
    }
    fabric.check_layout()?;
    // An existing GitOps folder's own kustomization is never replaced: refused before
    // anything is created.
    kustomization::check_ours(&fabric)?;
    let default_name = fabric
        .root
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "fabric".into());
    let mut report = InitReport {
        fabric: fabric.root.display().to_string(),
        ..Default::default()
    };

    for rel in [RAW, MANAGED, UNMANAGED, HNP, ARCHIVE] {
        let p = fabric.path(rel);
        if p.is_dir() {
            report.kept.push(format!("{rel}/"));
        } else {
            store::create_dir_all_within(&fabric.root, Path::new(rel))?;
            report.created.push(format!("{rel}/"));
        }
    }
    // The lock guards the rest, so a concurrent ingest never sees a half-written manifest.
    let _lock = store::FabricLock::acquire(&fabric.path(LOCK), "init")?;

    let manifest_path = fabric.path(MANIFEST);
    let manifest = if manifest_path.exists() {
        report.kept.push(MANIFEST.into());
        let mut m = Manifest::load(&manifest_path)?;
        if let Some(n) = name {
            if m.fabric != n {
                m.fabric = n.to_string();
                m.save(&manifest_path)?;
            }
        }
        m
    } else {
        let m = Manifest::new(name.unwrap_or(&default_name));
        m.save(&manifest_path)?;
        report.created.push(MANIFEST.into());
        m
    };
    report.name = manifest.fabric.clone();

    for (rel, text) in [
        ("raw/README.md", RAW_README),
        ("unmanaged/README.md", UNMANAGED_README),
        (SOURCEIGNORE, SOURCEIGNORE_TEXT),
        (HNP_GITIGNORE, HNP_GITIGNORE_TEXT),
    ] {
        let p = fabric.path(rel);
        match std::fs::symlink_metadata(&p) {
            Ok(_) => report.kept.push(rel.into()),
            Err(_) => {
                store::write_atomic(&p, text.as_bytes())?;
                report.created.push(rel.into());
            }
        }
    }
    let existed = fabric.path(KUSTOMIZATION).exists();
    let changed = kustomization::refresh(&fabric)?;
    match (existed, changed) {
        (false, _) => report.created.push(KUSTOMIZATION.into()),
        (true, true) => report.updated.push(KUSTOMIZATION.into()),
        (true, false) => report.kept.push(KUSTOMIZATION.into()),
    }
    report.left = root_yaml(&fabric)?;
    Ok((fabric, report))
}

/// The files at the fabric's root that an ingest would read if they were in raw/ (`*.yaml`,
/// `*.yml`, `*.json`, not hidden): an existing GitOps folder's objects, which fgd leaves where
/// they are unless asked to adopt them. Sorted.
pub fn root_yaml(fabric: &Fabric) -> Result<Vec<String>> {
    let entries = std::fs::read_dir(&fabric.root).map_err(|e| io("list", &fabric.root, e))?;
    let mut out = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| io("list", &fabric.root, e))?;
        let Some(name) = entry.file_name().to_str().map(str::to_string) else {
            continue;
        };
        let is_file = entry.file_type().is_ok_and(|t| t.is_file());
        if is_file
            && crate::discover::ignored_name(&name).is_none()
            && crate::discover::format_of(&name).is_some()
        {
            out.push(name);
        }
    }
    out.sort();
    Ok(out)
}
