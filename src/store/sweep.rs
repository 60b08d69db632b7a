//! Removing what a killed run left: temp files and temp folders, never through a symlink.

use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use super::dir::{Dir, Kind};
use super::sys::{self, Errno};
use super::write::TEMP_PREFIX;
use super::{err, Result};

/// Remove temp files a killed run left under `dir`, recursively, without following symlinks
/// (a symlinked `dir` itself is left alone). Returns how many were removed.
pub fn sweep_temp_files(dir: &Path) -> Result<usize> {
    sweep_temp_files_noting(dir, None).map(|(n, _)| n)
}

/// `sweep_temp_files`, also returning the path of every entry whose name starts with `note`
/// (not looked into), found by the same walk.
pub fn sweep_temp_files_noting(dir: &Path, note: Option<&str>) -> Result<(usize, Vec<PathBuf>)> {
    let mut noted = Vec::new();
    // Each folder is held open and worked in by its descriptor, its sub-folders opened from
    // it without following a symlink: a folder swapped mid-sweep is never swept through.
    let top = match Dir::open_path(dir) {
        Ok(d) => d,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((0, noted)),
        // A symlink (or not a folder): left alone.
        Err(e) if sys::is_any(&e, &[Errno::LOOP, Errno::NOTDIR]) => return Ok((0, noted)),
        Err(e) => return Err(err("open folder", dir, e)),
    };
    let mut n = 0;
    let mut stack = vec![top];
    while let Some(d) = stack.pop() {
        let entries = match d.entries() {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(err("list", d.path(), e)),
        };
        let before = n;
        for (name, kind) in entries {
            if note.is_some_and(|p| name.as_bytes().starts_with(p.as_bytes())) {
                noted.push(d.join(&name));
                continue;
            }
            let temp_name = name.as_bytes().starts_with(TEMP_PREFIX.as_bytes());
            if kind == Kind::Dir && temp_name {
                // A folder a killed batch was filling: none of it was ever visible. Removed
                // through its held parent, never following a symlink inside.
                match d.remove_tree(&name) {
                    Ok(()) => n += 1,
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => return Err(err("remove", &d.join(&name), e)),
                }
            } else if kind == Kind::Dir {
                match d.open_dir(&name) {
                    Ok(sub) => stack.push(sub),
                    // Gone, or swapped for something else since it was listed: not swept.
                    Err(e) if sys::is_any(&e, &[Errno::NOENT, Errno::LOOP, Errno::NOTDIR]) => {}
                    Err(e) => return Err(err("open folder", &d.join(&name), e)),
                }
            } else if kind == Kind::File && temp_name {
                match d.unlink(&name) {
                    Ok(()) => n += 1,
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => return Err(err("remove", &d.join(&name), e)),
                }
            }
        }
        // Not needed for safety (a temp that comes back is swept again) but keeps the tree
        // tidy.
        if n > before {
            d.sync()?;
        }
    }
    Ok((n, noted))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::temps;
    use crate::store::TEMP_PREFIX;
    #[test]
    fn sweeping_removes_only_fgd_temps() {
        let t = tempfile::tempdir().unwrap();
        std::fs::create_dir(t.path().join("sub")).unwrap();
        std::fs::write(t.path().join("sub").join(format!("{TEMP_PREFIX}1-2")), b"x").unwrap();
        std::fs::write(t.path().join("keep.yaml"), b"x").unwrap();
        assert_eq!(sweep_temp_files(t.path()).unwrap(), 1);
        assert!(t.path().join("keep.yaml").exists());
    }

    #[test]
    fn a_symlinked_folder_is_not_swept_through() {
        let t = tempfile::tempdir().unwrap();
        let outside = t.path().join("outside");
        std::fs::create_dir(&outside).unwrap();
        std::fs::write(outside.join(format!("{TEMP_PREFIX}9-9")), b"x").unwrap();
        let fab = t.path().join("fab");
        std::fs::create_dir(&fab).unwrap();
        std::os::unix::fs::symlink(&outside, fab.join("link")).unwrap();
        assert_eq!(sweep_temp_files(&fab).unwrap(), 0);
        assert_eq!(sweep_temp_files(&fab.join("link")).unwrap(), 0);
        assert_eq!(temps(&outside), 1);
    }
}
