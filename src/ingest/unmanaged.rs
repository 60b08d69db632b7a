//! Naming unmanaged items and writing their reason records.
//!
//! `raw/site/a.yaml` kept whole becomes `unmanaged/site/a.yaml.unmanaged`; its third document
//! alone becomes `unmanaged/site/a.doc3.yaml.unmanaged`. The `.unmanaged` suffix keeps every
//! GitOps tool from applying it. An existing item with other bytes is never overwritten: the
//! new one gets `~2`, `~3`, ... before the extension.

use std::collections::HashSet;

use crate::classify::ReasonCode;
use crate::digest::Digest;
use crate::error::{io, Result};
use crate::fabric::reason::{Reason, ReasonDoc};
use crate::fabric::{self, Fabric};
use crate::yaml::Pos;

pub struct Names<'f> {
    fabric: &'f Fabric,
    taken: HashSet<String>,
    /// Folders listed once: a name its folder lacks needs no look of its own.
    listed: super::Targets,
    /// Folder under raw/ -> its folder under unmanaged/ (with a trailing `/`), once each.
    folders: std::collections::HashMap<String, String>,
}

#[derive(Debug, Clone)]
pub struct Item {
    /// Fabric-relative, e.g. `unmanaged/a.yaml.unmanaged`.
    pub path: String,
    pub reason_path: String,
    /// False when an item with the same bytes is already there (re-ingest of the same input).
    pub fresh: bool,
}

/// Split `dir/name.ext` into (`dir/name`, `.ext`).
fn stem_ext(inner: &str) -> (&str, &str) {
    let file_start = inner.rfind('/').map(|i| i + 1).unwrap_or(0);
    match inner[file_start..].rfind('.') {
        Some(dot) if dot > 0 => inner.split_at(file_start + dot),
        _ => (inner, ""),
    }
}

impl<'f> Names<'f> {
    pub fn new(fabric: &'f Fabric) -> Self {
        Names {
            fabric,
            taken: HashSet::new(),
            listed: super::Targets::default(),
            folders: Default::default(),
        }
    }

    /// The folder under unmanaged/ for the folder `dir` under raw/: each name renamed
    /// (`super::FOLDER_ESCAPE`) where an item or a reason file could bear it (a folder
    /// `raw/x.yaml.unmanaged/` beside `raw/x.yaml`), or where unmanaged/ already holds a file
    /// of that name (init's README.md). `ops::adopt` turns it back (`super::unescape_folders`).
    fn folder(&mut self, dir: &str) -> String {
        if let Some(f) = self.folders.get(dir) {
            return f.clone();
        }
        let mut out = String::with_capacity(dir.len() + 1);
        for c in dir.split('/') {
            let named_like_a_file =
                super::named_like_a_file(c, &[fabric::UNMANAGED_SUFFIX, fabric::REASON_SUFFIX]);
            let taken_by_a_file = !named_like_a_file
                && std::fs::symlink_metadata(
                    self.fabric.path(&format!("{}/{out}{c}", fabric::UNMANAGED)),
                )
                .is_ok_and(|m| !m.is_dir() && !m.file_type().is_symlink());
            if named_like_a_file || taken_by_a_file {
                out.push_str(&crate::store::fit_name(c, super::FOLDER_ESCAPE));
            } else {
                out.push_str(c);
            }
            out.push('/');
        }
        self.folders.insert(dir.to_string(), out.clone());
        out
    }

    /// A free item name for `inner` (path under raw/), or the existing one with these bytes.
    pub fn item(&mut self, inner: &str, doc: Option<usize>, bytes: &[u8]) -> Result<Item> {
        let placed;
        let inner = match inner.rsplit_once('/') {
            Some((dir, name)) => {
                placed = format!("{}{name}", self.folder(dir));
                placed.as_str()
            }
            None => inner,
        };
        let (stem, ext) = stem_ext(inner);
        let base = match doc {
            Some(i) => format!("{stem}.doc{}", i + 1),
            None => stem.to_string(),
        };
        for n in 1.. {
            let name = if n == 1 {
                format!("{base}{ext}")
            } else {
                format!("{base}~{n}{ext}")
            };
            // Leave room for the reason file's longer suffix too.
            let both = format!("{}{}", fabric::UNMANAGED_SUFFIX, fabric::REASON_SUFFIX);
            let fitted = super::with_suffix(&name, &both);
            let fitted = fitted
                .strip_suffix(fabric::REASON_SUFFIX)
                .unwrap_or(&fitted);
            let path = format!("{}/{fitted}", fabric::UNMANAGED);
            if self.taken.contains(&path) {
                continue;
            }
            let reason_path = format!("{path}{}", fabric::REASON_SUFFIX);
            // A folder where the reason goes would make the batch impossible: another name.
            if !self.listed.absent(self.fabric, &reason_path)
                && std::fs::symlink_metadata(self.fabric.path(&reason_path))
                    .is_ok_and(|m| !m.is_file())
            {
                continue;
            }
            let fresh = if self.listed.absent(self.fabric, &path) {
                true
            } else {
                let full = self.fabric.path(&path);
                match std::fs::symlink_metadata(&full) {
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => true,
                    Err(e) => return Err(io("inspect", &full, e)),
                    Ok(m) if !m.is_file() => continue,
                    Ok(_) => match std::fs::read(&full) {
                        Ok(old) if old == bytes => false,
                        Ok(_) => continue,
                        Err(e) => return Err(io("read", &full, e)),
                    },
                }
            };
            self.taken.insert(path.clone());
            return Ok(Item {
                path,
                reason_path,
                fresh,
            });
        }
        unreachable!("an unbounded range always yields a free name")
    }
}

/// The reason file beside an item (`fabric::reason`).
#[allow(clippy::too_many_arguments)]
pub fn reason_record(
    item: &Item,
    source: &str,
    source_sha256: Option<Digest>,
    batch: &str,
    code: ReasonCode,
    reason: &str,
    pos: Option<Pos>,
    documents: Vec<ReasonDoc>,
) -> String {
    Reason {
        at: crate::store::now_rfc3339().into(),
        batch: batch.into(),
        code,
        column: pos.map(|p| p.column),
        documents,
        fgd: fabric::reason::MARK.into(),
        item: item.path.as_str().into(),
        line: pos.map(|p| p.line),
        reason: reason.into(),
        source: source.into(),
        source_sha256,
    }
    .to_text()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folders_named_like_a_file_beside_them_are_renamed_and_named_back() {
        use super::super::{escape_folders, unescape_folders};
        let orig = [fabric::ARCHIVE_SUFFIX];
        assert_eq!(escape_folders("a/b/x.yaml", &orig), "a/b/x.yaml");
        assert_eq!(
            escape_folders("x.yaml.orig", &orig),
            "x.yaml.orig",
            "a file stays"
        );
        for (raw, placed) in [
            ("x.yaml.orig/y.yaml", "x.yaml.orig~dir/y.yaml"),
            ("a/x~dir/y.yaml", "a/x~dir~dir/y.yaml"),
            ("x.orig/z.orig/y.yaml", "x.orig~dir/z.orig~dir/y.yaml"),
        ] {
            assert_eq!(escape_folders(raw, &orig), placed);
            assert_eq!(unescape_folders(placed), raw);
        }
    }

    #[test]
    fn stems_keep_folders_and_split_the_last_extension() {
        assert_eq!(stem_ext("a.yaml"), ("a", ".yaml"));
        assert_eq!(stem_ext("site/a.b.yml"), ("site/a.b", ".yml"));
        assert_eq!(stem_ext("dir.d/noext"), ("dir.d/noext", ""));
    }
}
