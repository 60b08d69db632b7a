//! Finding input files: `*.yaml`, `*.yml`, `*.json` under a folder, recursively, without ever
//! following a symlink or opening anything but a regular file.

use std::path::{Path, PathBuf};

use crate::error::{io, Result};
use crate::store::{FileKind, ReadRegular, Regular, Unsettled};

/// Why a file whose name is not UTF-8 is skipped. fgd's records and reports are UTF-8, so such
/// a name cannot be named back exactly; what shows it (the dashboard) has only its lossy form.
pub const NOT_UTF8: &str = "the file name is not valid UTF-8 (shown with \u{FFFD} for the bad bytes), so fgd cannot name it back: rename it (in a shell: mv) and it is picked up";

/// Why a file under raw/ was not read.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "why", rename_all = "kebab-case")]
pub enum Skip {
    /// Hidden files, editor artefacts, non-YAML names: left alone.
    Ignored { detail: String },
    /// Symlink, FIFO, socket, device: never read, left alone.
    NotRegular { detail: String },
    /// Changed while it was read (still being written): left for the next run.
    Pending { detail: String },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Format {
    Yaml,
    Json,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Found {
    File {
        path: PathBuf,
        rel: String,
        format: Format,
    },
    Skipped {
        rel: String,
        skip: Skip,
    },
}

/// Editor artefacts and hidden files are never input (vim's `4913` probe, `.swp`, emacs `.#x`,
/// `x~` backups, `*.tmp*` from atomic savers).
pub fn ignored_name(name: &str) -> Option<&'static str> {
    if name.starts_with(".#") {
        Some("editor lock file")
    } else if name.starts_with('.') {
        Some("hidden file")
    } else if name.ends_with('~') {
        Some("editor backup")
    } else if name.ends_with(".swp")
        || name.ends_with(".swo")
        || name.ends_with(".swx")
        || name == "4913"
    {
        Some("editor swap file")
    } else if name.contains(".tmp") {
        Some("temporary file")
    } else {
        None
    }
}

pub fn format_of(name: &str) -> Option<Format> {
    let lower = name.to_ascii_lowercase();
    if lower.ends_with(".yaml") || lower.ends_with(".yml") {
        Some(Format::Yaml)
    } else if lower.ends_with(".json") {
        Some(Format::Json)
    } else {
        None
    }
}

/// Names fgd itself puts in raw/; not worth a line in every report.
fn own_file(rel: &str) -> bool {
    rel == "README.md"
}

/// Walk `dir`; `rel` paths are prefixed with `prefix` (e.g. "raw/"). Sorted by path.
pub fn discover(dir: &Path, prefix: &str) -> Result<Vec<Found>> {
    let mut out = Vec::new();
    walk(dir, prefix, "", &mut out)?;
    out.sort_by(|a, b| rel_of(a).cmp(rel_of(b)));
    Ok(out)
}

fn rel_of(f: &Found) -> &str {
    match f {
        Found::File { rel, .. } | Found::Skipped { rel, .. } => rel,
    }
}

fn walk(dir: &Path, prefix: &str, sub: &str, out: &mut Vec<Found>) -> Result<()> {
    let entries = std::fs::read_dir(dir).map_err(|e| io("list", dir, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| io("list", dir, e))?;
        let name = entry.file_name();
        let name_s = name.to_string_lossy().into_owned();
        let inner = format!("{sub}{name_s}");
        let rel = format!("{prefix}{inner}");
        if name.to_str().is_none() {
            // Records and reports are UTF-8; such a name could not be named back exactly.
            out.push(Found::Skipped {
                rel,
                skip: Skip::Ignored {
                    detail: NOT_UTF8.into(),
                },
            });
            continue;
        }
        let path = entry.path();
        // DirEntry::file_type does not follow symlinks.
        let ft = entry.file_type().map_err(|e| io("inspect", &path, e))?;
        if let Some(why) = ignored_name(&name_s) {
            if !(sub.is_empty() && own_file(&inner)) {
                out.push(Found::Skipped {
                    rel,
                    skip: Skip::Ignored { detail: why.into() },
                });
            }
            continue;
        }
        if ft.is_symlink() {
            out.push(Found::Skipped {
                rel,
                skip: Skip::NotRegular {
                    detail: "symlink: not followed".into(),
                },
            });
        } else if ft.is_dir() {
            walk(&path, prefix, &format!("{inner}/"), out)?;
        } else if !ft.is_file() {
            out.push(Found::Skipped {
                rel,
                skip: Skip::NotRegular {
                    detail: describe(FileKind::of(&ft)).into(),
                },
            });
        } else if let Some(format) = format_of(&name_s) {
            out.push(Found::File { path, rel, format });
        } else if !(sub.is_empty() && own_file(&inner)) {
            out.push(Found::Skipped {
                rel,
                skip: Skip::Ignored {
                    detail: "not a .yaml, .yml or .json file".into(),
                },
            });
        }
    }
    Ok(())
}

/// What a directory entry that is not a regular file is, for messages.
pub fn kind_of(t: &std::fs::FileType) -> &'static str {
    FileKind::of(t).describe()
}

/// Why a file that is not a regular one is skipped.
fn describe(kind: FileKind) -> &'static str {
    match kind {
        FileKind::Symlink => "symlink: not followed",
        FileKind::Fifo => "FIFO: never read",
        FileKind::Socket => "socket: never read",
        FileKind::Device => "device: never read",
        FileKind::Folder | FileKind::Other => "not a regular file: never read",
    }
}

#[derive(Debug)]
pub enum ReadOutcome {
    Bytes(Vec<u8>),
    /// Changed while being read.
    Pending(String),
    NotRegular(String),
    /// Larger than the cap; not read.
    TooLarge(u64),
}

/// Read a regular file only if it holds still (`store::ReadRegular::stable`): never through
/// a symlink, never waiting on a FIFO swapped in after the listing, and never a version that
/// changed while it was read.
pub fn read_stable(path: &Path, max_bytes: usize) -> Result<ReadOutcome> {
    let read = ReadRegular::new()
        .max_bytes(max_bytes as u64)
        .stable()
        .read(path)?;
    Ok(match read {
        Regular::Bytes(bytes, _) => ReadOutcome::Bytes(bytes),
        Regular::Missing => ReadOutcome::Pending(Unsettled::Vanished.describe().into()),
        Regular::Unsettled(how) => ReadOutcome::Pending(how.describe().into()),
        Regular::NotRegular(kind) => ReadOutcome::NotRegular(describe(kind).into()),
        Regular::TooLarge(len) => ReadOutcome::TooLarge(len),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn editor_artefacts_and_hidden_files_are_ignored() {
        for n in [
            ".x.yaml",
            "x.yaml~",
            ".x.yaml.swp",
            "x.swp",
            "4913",
            ".#x.yaml",
            "x.yaml.tmp123",
            "x.tmp.yaml",
        ] {
            assert!(ignored_name(n).is_some(), "{n}");
        }
        for n in ["x.yaml", "vpc-1.yml", "a.json", "temp.yaml"] {
            assert!(ignored_name(n).is_none(), "{n}");
        }
    }

    #[test]
    fn a_file_growing_during_the_read_is_pending_never_half_read() {
        use std::io::Write;
        use std::sync::atomic::{AtomicBool, Ordering};
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("growing.yaml");
        let chunk = vec![b'#'; 4096];
        std::fs::write(&p, chunk.repeat(256)).unwrap();
        let stop = AtomicBool::new(false);
        let started = AtomicBool::new(false);
        let (mut pending, mut read) = (0, 0);
        std::thread::scope(|s| {
            s.spawn(|| {
                // Writes until told to stop; the file is cut back now and then so
                // it stays small however long a loaded machine takes.
                let mut f = std::fs::OpenOptions::new().append(true).open(&p).unwrap();
                while !stop.load(Ordering::Relaxed) {
                    f.write_all(&chunk).unwrap();
                    started.store(true, Ordering::Relaxed);
                    if f.metadata().unwrap().len() > 8 << 20 {
                        f.set_len(1 << 20).unwrap();
                    }
                }
            });
            while !started.load(Ordering::Relaxed) {
                std::thread::yield_now();
            }
            // Reads until one is caught mid-write; on a loaded machine the writer
            // may be descheduled for many reads, so the bound is time, not count.
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
            while pending == 0 && std::time::Instant::now() < deadline {
                match read_stable(&p, 64 << 20).unwrap() {
                    ReadOutcome::Pending(_) => pending += 1,
                    ReadOutcome::Bytes(b) => {
                        assert_eq!(b.len() % 4096, 0, "a torn read was accepted");
                        read += 1;
                    }
                    other => panic!("{other:?}"),
                }
            }
            stop.store(true, Ordering::Relaxed);
        });
        assert!(
            pending > 0,
            "a file written during every read was never pending ({read} reads)"
        );
    }

    #[test]
    fn walk_lists_yaml_recursively_and_reports_the_rest() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path();
        std::fs::create_dir(p.join("sub")).unwrap();
        std::fs::write(p.join("a.yaml"), "x: 1\n").unwrap();
        std::fs::write(p.join("sub/b.YML"), "x: 1\n").unwrap();
        std::fs::write(p.join("notes.txt"), "x").unwrap();
        std::os::unix::fs::symlink("/etc/passwd", p.join("link.yaml")).unwrap();
        crate::store::mkfifo(&p.join("pipe.yaml")).unwrap();
        let found = discover(p, "raw/").unwrap();
        let files: Vec<_> = found
            .iter()
            .filter_map(|f| match f {
                Found::File { rel, .. } => Some(rel.as_str()),
                _ => None,
            })
            .collect();
        assert_eq!(files, ["raw/a.yaml", "raw/sub/b.YML"]);
        let skipped: Vec<_> = found
            .iter()
            .filter_map(|f| match f {
                Found::Skipped { rel, skip } => Some((rel.as_str(), skip.clone())),
                _ => None,
            })
            .collect();
        assert!(skipped
            .iter()
            .any(|(r, s)| *r == "raw/link.yaml" && matches!(s, Skip::NotRegular { .. })));
        assert!(skipped
            .iter()
            .any(|(r, s)| *r == "raw/pipe.yaml" && matches!(s, Skip::NotRegular { .. })));
        assert!(skipped
            .iter()
            .any(|(r, s)| *r == "raw/notes.txt" && matches!(s, Skip::Ignored { .. })));
        // A FIFO is never opened: reading it would block forever.
        assert!(matches!(
            read_stable(&p.join("pipe.yaml"), 100).unwrap(),
            ReadOutcome::NotRegular(_)
        ));
        assert!(matches!(
            read_stable(&p.join("link.yaml"), 100).unwrap(),
            ReadOutcome::NotRegular(_)
        ));
    }
}
