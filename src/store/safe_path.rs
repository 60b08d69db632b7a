//! Paths that never leave the fabric and never pass through a symlink.

use std::io;
use std::path::{Component, Path, PathBuf};

use super::{err, refusal, Result};

/// Ok when `path` is a real directory, not a symlink to one.
pub fn ensure_real_dir(path: &Path) -> Result<()> {
    let m = std::fs::symlink_metadata(path).map_err(|e| err("inspect", path, e))?;
    if m.file_type().is_symlink() {
        return Err(refusal(path, "is a symlink; fgd never works through one"));
    }
    if !m.is_dir() {
        return Err(refusal(path, "is not a directory"));
    }
    Ok(())
}

/// Lexically inside `root`, with only plain components after it.
pub fn is_within(root: &Path, child: &Path) -> bool {
    match child.strip_prefix(root) {
        Ok(rest) => rest.components().all(|c| matches!(c, Component::Normal(_))),
        Err(_) => false,
    }
}

/// Check, without creating anything, that every existing component of `root/rel` is a real
/// directory: run before a journal is written, so an unsafe layout is refused up front instead
/// of failing the batch halfway on every retry.
pub fn check_dir_chain(root: &Path, rel: &Path) -> Result<()> {
    for cur in prefixes_within(root, rel)? {
        match std::fs::symlink_metadata(&cur) {
            Ok(_) => ensure_real_dir(&cur)?,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(err("inspect", &cur, e)),
        }
    }
    Ok(())
}

/// `root/a`, `root/a/b`, ... for `rel` = `a/b`, refusing any component but a plain name.
fn prefixes_within(root: &Path, rel: &Path) -> Result<Vec<PathBuf>> {
    let mut cur = root.to_path_buf();
    let mut out = Vec::new();
    for c in rel.components() {
        match c {
            Component::Normal(part) => cur.push(part),
            Component::CurDir => continue,
            _ => return Err(refusal(&root.join(rel), "path leaves the fabric directory")),
        }
        out.push(cur.clone());
    }
    Ok(out)
}

/// A file name that fits in 255 bytes with `suffix` appended: an over-long name keeps a prefix
/// and gets a short hash of the whole, so two long names stay distinct, and keeps its
/// extension (with a `.docN` before it), so what `adopt` sends back from unmanaged/ is still a
/// `.yaml`, `.yml` or `.json` file that ingest reads.
pub fn fit_name(name: &str, suffix: &str) -> String {
    const MAX: usize = 255;
    if name.len() + suffix.len() <= MAX {
        return format!("{name}{suffix}");
    }
    use sha2::Digest;
    let digest = sha2::Sha256::digest(name.as_bytes());
    let tag: String = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
    let tail = extension(name);
    let stem = &name[..name.len() - tail.len()];
    let mut keep = MAX
        .saturating_sub(suffix.len() + tag.len() + 1 + tail.len())
        .min(stem.len());
    while !stem.is_char_boundary(keep) {
        keep -= 1;
    }
    format!("{}~{tag}{tail}{suffix}", &stem[..keep])
}

/// The end of `name` that `fit_name` keeps: its extension (`.yaml`), with a `.docN` before it;
/// nothing for a name without one or with an extension too long to be one.
fn extension(name: &str) -> &str {
    let Some(dot) = name.rfind('.').filter(|&d| d > 0 && name.len() - d <= 16) else {
        return "";
    };
    let before = &name[..dot];
    let doc = before.rfind('.').filter(|&d| {
        let part = &before[d + 1..];
        d > 0
            && part.len() > 3
            && part.starts_with("doc")
            && part[3..].bytes().all(|b| b.is_ascii_digit())
    });
    &name[doc.unwrap_or(dot)..]
}

/// Create `root/rel` one component at a time, refusing `..`, absolute parts, and any existing
/// component that is a symlink or not a directory. Returns `root/rel`.
///
/// The folder holding each directory created here is fsynced before returning, so a file made
/// durable inside the new directory later cannot be lost with the directory's own entry. Only
/// calls that create something pay for it.
pub fn create_dir_all_within(root: &Path, rel: &Path) -> Result<PathBuf> {
    let mut last = root.to_path_buf();
    let mut created_in: Vec<PathBuf> = Vec::new();
    for cur in prefixes_within(root, rel)? {
        match std::fs::symlink_metadata(&cur) {
            Ok(_) => ensure_real_dir(&cur)?,
            Err(e) if e.kind() == io::ErrorKind::NotFound => match std::fs::create_dir(&cur) {
                Ok(()) => created_in.push(last.clone()),
                // Someone else made it in between: fine if it is a real directory.
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => ensure_real_dir(&cur)?,
                Err(e) => return Err(err("create directory", &cur, e)),
            },
            Err(e) => return Err(err("inspect", &cur, e)),
        }
        last = cur;
    }
    for d in &created_in {
        super::sync_dir(d)?;
    }
    Ok(last)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_names_are_shortened_distinctly_to_fit_with_their_suffix() {
        let a = format!("{}a.yaml", "x".repeat(300));
        let b = format!("{}b.yaml", "x".repeat(300));
        let (fa, fb) = (fit_name(&a, ".orig"), fit_name(&b, ".orig"));
        assert!(fa.len() <= 255 && fb.len() <= 255 && fa.ends_with(".orig"));
        assert_ne!(fa, fb);
        assert_eq!(fit_name("short.yaml", ".orig"), "short.yaml.orig");
        let wide = "é".repeat(200);
        assert!(fit_name(&wide, ".unmanaged.reason.json").len() <= 255);
        // The extension stays, with a document number before it.
        for (name, tail) in [
            (format!("{}.yaml", "l".repeat(250)), ".yaml.orig"),
            (format!("{}.doc12.yml", "m".repeat(250)), ".doc12.yml.orig"),
            (format!("{}.json", "é".repeat(200)), ".json.orig"),
            ("x".repeat(300), "x~"),
        ] {
            let fitted = fit_name(&name, ".orig");
            assert!(fitted.len() <= 255, "{fitted}");
            assert!(fitted.ends_with(tail) || fitted.contains(tail), "{fitted}");
        }
        assert!(fit_name(&"x".repeat(300), ".orig").ends_with(".orig"));
    }

    #[test]
    fn a_symlinked_component_fails_the_check_without_creating_anything() {
        let t = tempfile::tempdir().unwrap();
        let root = t.path();
        std::os::unix::fs::symlink("/tmp", root.join("unmanaged")).unwrap();
        assert!(check_dir_chain(root, Path::new("unmanaged/x")).is_err());
        assert!(check_dir_chain(root, Path::new("new/deeper")).is_ok());
        assert!(!root.join("new").exists());
    }

    #[test]
    fn creation_refuses_symlinked_components_and_escapes() {
        let t = tempfile::tempdir().unwrap();
        let root = t.path().join("fab");
        std::fs::create_dir(&root).unwrap();
        let outside = t.path().join("outside");
        std::fs::create_dir(&outside).unwrap();
        std::os::unix::fs::symlink(&outside, root.join("managed")).unwrap();
        assert!(create_dir_all_within(&root, Path::new("managed/vpcs")).is_err());
        assert!(!outside.join("vpcs").exists());
        assert!(create_dir_all_within(&root, Path::new("../x")).is_err());
        assert!(create_dir_all_within(&root, Path::new("/etc")).is_err());
        assert!(!t.path().join("x").exists());
        std::fs::write(root.join("file"), b"x").unwrap();
        assert!(create_dir_all_within(&root, Path::new("file/sub")).is_err());
        assert!(create_dir_all_within(&root, Path::new("a/b/c"))
            .unwrap()
            .is_dir());
        assert!(is_within(&root, &root.join("a/b")));
        assert!(!is_within(&root, &root.join("../b")));
        assert!(!is_within(&root, &t.path().join("other")));
        assert!(ensure_real_dir(&root).is_ok());
        assert!(ensure_real_dir(&root.join("managed")).is_err());
        assert!(ensure_real_dir(&root.join("file")).is_err());
    }
}
