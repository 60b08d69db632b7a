//! Paths that never leave the fabric and never pass through a symlink.

use std::io;
use std::path::{Component, Path, PathBuf};

use super::{err, Result};

/// Ok when `path` is a real directory, not a symlink to one.
pub fn ensure_real_dir(path: &Path) -> Result<()> {
    let m = std::fs::symlink_metadata(path).map_err(|e| err("inspect", path, e))?;
    if m.file_type().is_symlink() {
        return Err(err(
            "refuse",
            path,
            io::Error::new(
                io::ErrorKind::InvalidInput,
                "is a symlink; fgd never works through one",
            ),
        ));
    }
    if !m.is_dir() {
        return Err(err(
            "refuse",
            path,
            io::Error::new(io::ErrorKind::InvalidInput, "is not a directory"),
        ));
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

/// Create `root/rel` one component at a time, refusing `..`, absolute parts, and any existing
/// component that is a symlink or not a directory.
pub fn create_dir_all_within(root: &Path, rel: &Path) -> Result<PathBuf> {
    let mut cur = root.to_path_buf();
    for c in rel.components() {
        match c {
            Component::Normal(part) => cur.push(part),
            Component::CurDir => continue,
            _ => {
                return Err(err(
                    "refuse",
                    &root.join(rel),
                    io::Error::new(
                        io::ErrorKind::InvalidInput,
                        "path leaves the fabric directory",
                    ),
                ))
            }
        }
        match std::fs::symlink_metadata(&cur) {
            Ok(_) => ensure_real_dir(&cur)?,
            Err(e) if e.kind() == io::ErrorKind::NotFound => match std::fs::create_dir(&cur) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => ensure_real_dir(&cur)?,
                Err(e) => return Err(err("create directory", &cur, e)),
            },
            Err(e) => return Err(err("inspect", &cur, e)),
        }
    }
    Ok(cur)
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert!(create_dir_all_within(&root, Path::new("a/b/c"))
            .unwrap()
            .is_dir());
        assert!(is_within(&root, &root.join("a/b")));
        assert!(!is_within(&root, &root.join("../b")));
        assert!(!is_within(&root, &t.path().join("other")));
    }
}
