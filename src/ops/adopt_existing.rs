//! `fgd init --adopt-existing`: onboarding an existing GitOps folder. The YAML at the fabric's
//! root (and, on request, in named folders of it) moves into raw/, where the next ingest
//! reads it; each original is kept byte for byte in the batch's archive. A journaled batch like
//! any other, so a run killed halfway is finished by the next command. Then a dry run of the
//! next ingest says what it will do.

use std::path::{Path, PathBuf};

use crate::discover::{self, Found};
use crate::error::{Error, Result};
use crate::event::{Collect, Summary};
use crate::fabric::{self, Fabric};
use crate::ingest;
use crate::journal::{self, Content, Journal, Remove, Source, Write};
use crate::store::{self, failpoint};

/// Where, in a batch's archive, the originals of adopted files go:
/// `<batch>/adopted~dir/<path>.orig`. No raw path is archived there (a raw folder of that name
/// is archived as `adopted~dir~dir`, see `ingest::escape_folders`).
pub const ADOPTED: &str = "adopted~dir";

/// One file moved into raw/.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Adopted {
    pub from: String,
    pub to: String,
    pub archive: String,
}

#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct AdoptReport {
    pub adopted: Vec<Adopted>,
    /// Files found but left where they are (symlinks, FIFOs, ...), with why.
    pub left: Vec<(String, String)>,
    pub batch: Option<String>,
    /// What the next ingest will do (a dry run of it, after the move).
    pub next_ingest: Summary,
}

/// Move the root's YAML files, and every input file of `folders` (relative to the fabric, or
/// paths inside it), into raw/ keeping their paths; then plan the next ingest.
pub fn adopt_existing(
    fabric_dir: &Path,
    folders: &[PathBuf],
    validation: &crate::validate::settings::Layers,
) -> Result<AdoptReport> {
    let fabric = Fabric::open(fabric_dir)?;
    let mut report = AdoptReport::default();
    let mut found: Vec<String> = fabric::root_yaml(&fabric)?;
    for folder in folders {
        let rel = folder_rel(&fabric, folder)?;
        for f in discover::discover(&fabric.path(&rel), &format!("{rel}/"))? {
            match f {
                Found::File { rel, .. } => found.push(rel),
                Found::Skipped { rel, skip } => {
                    report.left.push((rel, format!("{skip:?}")));
                }
            }
        }
    }
    if !found.is_empty() {
        let _lock = store::FabricLock::acquire(&fabric.path(fabric::LOCK), "init")?;
        let mut sink = Collect::default();
        journal::recover(&fabric, &mut sink)?;
        let mut j = Journal::new("adopt-existing");
        for rel in &found {
            let Some(bytes) = crate::store::ReadRegular::new()
                .read(&fabric.path(rel))?
                .bytes()
            else {
                report.left.push((rel.clone(), "not a regular file".into()));
                continue;
            };
            let to = free_raw_name(&fabric, rel, &j);
            let archive = format!(
                "{}/{}/{ADOPTED}/{}",
                fabric::ARCHIVE,
                j.batch,
                ingest::with_suffix(
                    &ingest::escape_folders(rel, &[fabric::ARCHIVE_SUFFIX]),
                    fabric::ARCHIVE_SUFFIX
                )
            );
            let sha = crate::digest::Digest::of(&bytes);
            j.sources.push(Source {
                path: rel.clone(),
                sha256: sha,
                len: bytes.len() as u64,
                archive: Some(archive.clone()),
            });
            j.writes.push(Write {
                path: to.clone(),
                sha256: journal::Digest::of(&bytes),
                content: Content::Source {
                    source: j.sources.len() - 1,
                    parts: Box::new([[0, bytes.len()]]),
                },
            });
            j.removes.push(Remove {
                path: rel.clone(),
                sha256: Some(sha),
                source: None,
            });
            report.adopted.push(Adopted {
                from: rel.clone(),
                to,
                archive,
            });
        }
        j.summary.files = report.adopted.len();
        j.log = journal::raw(&serde_json::json!({ "adopted": report.adopted }));
        if !report.adopted.is_empty() {
            fabric::kustomization::check_ours(&fabric)?;
            journal::begin(&fabric, &j)?;
            failpoint("adopt-existing.after-journal");
            journal::execute(&fabric, &j, &mut sink)?;
            report.batch = Some(j.batch.clone());
        }
    }
    let dry_run = ingest::Options {
        validation: validation.clone(),
        dry_run: true,
        ..Default::default()
    };
    report.next_ingest = ingest::run(
        fabric_dir,
        &dry_run,
        &crate::git::Baseline::open_head,
        &mut Collect::default(),
    )?;
    Ok(report)
}

/// A folder to adopt, as a fabric-relative path: inside the fabric, not one of fgd's own.
fn folder_rel(fabric: &Fabric, folder: &Path) -> Result<String> {
    let full = if folder.is_absolute() {
        folder.to_path_buf()
    } else if fabric.root.join(folder).exists() {
        fabric.root.join(folder)
    } else {
        folder.to_path_buf()
    };
    let canonical = std::fs::canonicalize(&full)
        .map_err(|e| Error::Usage(format!("--adopt-folder {}: {e}", folder.display())))?;
    let rel = canonical
        .strip_prefix(&fabric.root)
        .ok()
        .map(|r| r.to_string_lossy().replace('\\', "/"))
        .filter(|r| !r.is_empty())
        .ok_or_else(|| {
            Error::Usage(format!(
                "--adopt-folder {}: not a folder inside the fabric {}",
                folder.display(),
                fabric.root.display()
            ))
        })?;
    let top = rel.split('/').next().unwrap_or_default();
    if [fabric::RAW, fabric::MANAGED, fabric::UNMANAGED, fabric::HNP].contains(&top) {
        return Err(Error::Usage(format!(
            "--adopt-folder {rel}: one of fgd's own folders; name a folder of your YAML"
        )));
    }
    if !canonical.is_dir() {
        return Err(Error::Usage(format!("--adopt-folder {rel}: not a folder")));
    }
    Ok(rel)
}

/// `raw/<rel>`, or `raw/<stem>~N<ext>` when that is taken (on disk, or by this batch).
fn free_raw_name(fabric: &Fabric, rel: &str, j: &Journal) -> String {
    let (stem, ext) = match rel.rfind('.') {
        Some(d) if d > rel.rfind('/').map_or(0, |s| s + 1) => rel.split_at(d),
        _ => (rel, ""),
    };
    let mut target = format!("{}/{rel}", fabric::RAW);
    let mut n = 2;
    while std::fs::symlink_metadata(fabric.path(&target)).is_ok()
        || j.writes.iter().any(|w| w.path == target)
    {
        target = format!("{}/{stem}~{n}{ext}", fabric::RAW);
        n += 1;
    }
    target
}
