//! The checks before a batch is journaled (and again before a killed one is resumed): every
//! path it names stays in the fabric, and no folder on the way is a symlink, or a file where a
//! folder should be.

use std::path::Path;

use super::Journal;
use crate::error::{Error, Result};
use crate::fabric::{self, Fabric};
use crate::store;

/// Refuse, before anything is journaled, a batch whose targets would pass through a symlinked
/// or non-directory folder, or leave the fabric.
pub fn preflight(fabric: &Fabric, journal: &Journal) -> Result<()> {
    // Per folder: the names in it that are folders. One listing per folder, not one stat per
    // target: a big batch writes 10^5 files into a dozen folders. Targets are checked as
    // strings (no path built per target): 10^5 of them are on an ingest's critical path.
    let mut seen: std::collections::HashMap<&str, std::collections::HashSet<std::ffi::OsString>> =
        std::collections::HashMap::new();
    let targets = journal
        .writes
        .iter()
        .map(|w| w.path.as_str())
        .chain(journal.sources.iter().filter_map(|s| s.archive.as_deref()))
        .chain(journal.renames.iter().map(|r| r.to.as_str()));
    for t in targets {
        let Some((parent, name)) = split_in_fabric(fabric, t)? else {
            continue;
        };
        let folders = match seen.entry(parent) {
            std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::hash_map::Entry::Vacant(e) => {
                check_folders_of(fabric, Path::new(parent), &fabric.root.join(t))?;
                e.insert(folders_in(&fabric.root.join(parent)))
            }
        };
        if folders.contains(std::ffi::OsStr::new(name)) {
            return Err(Error::Unsafe {
                path: fabric.root.join(t),
                message: "is a directory where fgd must write a file".into(),
            });
        }
    }
    Ok(())
}

/// `preflight` for a batch resumed after a kill, which also checks the folders it removes and
/// moves from: a fresh batch found those by walking them (never through a symlink) just
/// before, but a resumed one finds them as the operator left them.
pub(super) fn preflight_resume(fabric: &Fabric, journal: &Journal) -> Result<()> {
    preflight(fabric, journal)?;
    let mut checked = std::collections::HashSet::new();
    let sources = journal
        .removes
        .iter()
        .map(|r| r.path.as_str())
        .chain(journal.renames.iter().map(|r| r.from.as_str()))
        .chain(journal.sources.iter().map(|s| s.path.as_str()));
    for rel in sources {
        if let Some((parent, _)) = split_in_fabric(fabric, rel)? {
            if checked.insert(parent) {
                check_folders_of(fabric, Path::new(parent), &fabric.root.join(rel))?;
            }
        }
    }
    Ok(())
}

/// A journaled path as (folder, name), refused unless it stays in the fabric; `None` for a
/// name at the fabric's top.
fn split_in_fabric<'a>(fabric: &Fabric, rel: &'a str) -> Result<Option<(&'a str, &'a str)>> {
    if !plain_relative(rel) {
        return Err(leaves_the_fabric(fabric, rel));
    }
    Ok(rel.rsplit_once('/'))
}

/// `a/b/c` with plain names only: not empty, not absolute, no `.`, `..` or empty component.
/// (Stricter than `store::is_within`, which lets `a/./b` through; fgd never journals that.)
fn plain_relative(rel: &str) -> bool {
    !rel.is_empty()
        && rel
            .split('/')
            .all(|c| !c.is_empty() && c != "." && c != "..")
}

pub(super) fn leaves_the_fabric(fabric: &Fabric, rel: &str) -> Error {
    Error::Journal {
        path: fabric.path(fabric::JOURNAL),
        message: format!("path {rel:?} leaves the fabric directory; refusing"),
    }
}

/// Refuse to write `target` when a folder of its chain (`parent`, fabric-relative) is a
/// symlink or not a folder.
pub fn check_folders_of(fabric: &Fabric, parent: &Path, target: &Path) -> Result<()> {
    store::check_dir_chain(&fabric.root, parent).map_err(|e| Error::Unsafe {
        path: target.to_path_buf(),
        message: format!(
            "unsafe to work on: its folder {} {}",
            fabric.rel(e.path()),
            e.detail()
        ),
    })
}

/// The names of the folders directly in `dir` (none if it does not exist yet).
fn folders_in(dir: &Path) -> std::collections::HashSet<std::ffi::OsString> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Default::default();
    };
    entries
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .map(|e| e.file_name())
        .collect()
}

/// A journaled path, refused unless it stays inside the fabric.
pub(super) fn safe_join(fabric: &Fabric, rel: &str) -> Result<std::path::PathBuf> {
    let p = fabric.root.join(rel);
    if rel.is_empty() || Path::new(rel).is_absolute() || !store::is_within(&fabric.root, &p) {
        return Err(leaves_the_fabric(fabric, rel));
    }
    Ok(p)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::journal::{Content, Digest, Write};
    #[test]
    fn preflight_refuses_a_journaled_path_that_is_not_plain_and_a_folder_in_a_file_s_place() {
        let t = tempfile::tempdir().unwrap();
        let (fabric, _) = fabric::init(t.path(), None).unwrap();
        let with_write = |path: &str| {
            let mut j = Journal::new("ingest");
            j.writes.push(Write {
                path: path.into(),
                sha256: Digest::of(b""),
                content: Content::text(String::new(), None, None),
            });
            j
        };
        assert!(preflight(&fabric, &with_write("managed/vpcs/v.yaml")).is_ok());
        for bad in [
            "../escape.yaml",
            "managed/../../escape.yaml",
            "/etc/passwd",
            "managed/./vpcs/v.yaml",
            "managed//v.yaml",
            "",
        ] {
            let err = preflight(&fabric, &with_write(bad)).expect_err(bad);
            assert!(
                err.to_string().contains("leaves the fabric"),
                "{bad}: {err}"
            );
        }
        std::fs::create_dir_all(fabric.path("managed/vpcs/v.yaml")).unwrap();
        let err = preflight(&fabric, &with_write("managed/vpcs/v.yaml")).expect_err("a folder");
        assert!(err.to_string().contains("is a directory"), "{err}");
    }
}
