//! Durable appends to an append-only log: one write call per line where the kernel allows,
//! and a line torn by a crash closed before the next.

use std::ffi::OsStr;
use std::io::Write;
use std::os::unix::fs::FileExt;
use std::path::Path;

use rustix::fs::OFlags;

use super::dir::Dir;
use super::sys::{self, Errno};
use super::write::{no_follow, parent_dir, sync_dir};
use super::{err, Result};

/// one, and a torn last line left by a crash is closed first, so records never run together.
pub fn append_line(path: &Path, line: &str) -> Result<()> {
    append_line_parts(path, &[line.as_bytes()])
}

/// `append_line` of a line given in pieces, written without joining them first: a big batch's
/// log record is tens of megabytes.
pub fn append_line_parts(path: &Path, parts: &[&[u8]]) -> Result<()> {
    append_line_with(path, parts, None)
}

/// `append_line_parts`, the line ending with what `tail` reads (copied, never held whole: a
/// big batch's log record is spooled in a file). The copy takes more than one write, so a
/// crash can tear the line; the next append starts on a fresh line, and `journal` re-appends
/// a torn record.
pub fn append_line_with(
    path: &Path,
    parts: &[&[u8]],
    tail: Option<&mut dyn std::io::Read>,
) -> Result<()> {
    let existed = std::fs::symlink_metadata(path).is_ok();
    let f = no_follow()
        .read(true)
        .append(true)
        .create(true)
        .open(path)
        .map_err(|e| err("open", path, e))?;
    append_to(f, path, parts, tail)?;
    if !existed {
        sync_dir(parent_dir(path))?;
    }
    Ok(())
}

/// `append_line_with` of the file `name` in the held folder `dir` (see `Dirs`). A symlink
/// there is refused (an unsafe layout, not an I/O failure).
pub fn append_line_in(
    dir: &Dir,
    name: &OsStr,
    parts: &[&[u8]],
    tail: Option<&mut dyn std::io::Read>,
) -> Result<()> {
    let path = dir.join(name);
    let existed = dir.exists(name).map_err(|e| err("inspect", &path, e))?;
    let flags = OFlags::RDWR | OFlags::APPEND | OFlags::CREATE;
    let f = match dir.open_file(name, flags) {
        Ok(f) => f,
        Err(e) if sys::is(&e, Errno::LOOP) => {
            return Err(super::refusal(
                &path,
                "is a symlink; fgd never writes its records through one",
            ))
        }
        Err(e) => return Err(err("open", &path, e)),
    };
    append_to(f, &path, parts, tail)?;
    if !existed {
        dir.sync()?;
    }
    Ok(())
}

/// The append itself, to `f` open for reading and appending; made durable (the file's data,
/// not its folder's entry).
fn append_to(
    mut f: std::fs::File,
    path: &Path,
    parts: &[&[u8]],
    tail: Option<&mut dyn std::io::Read>,
) -> Result<()> {
    let len = f.metadata().map_err(|e| err("inspect", path, e))?.len();
    let mut torn = false;
    if len > 0 {
        let mut last = [0u8; 1];
        f.read_exact_at(&mut last, len - 1)
            .map_err(|e| err("read", path, e))?;
        torn = last[0] != b'\n';
    }
    // A line given whole gets its newline here, unless it has one; a `tail` ends with it.
    let needs_newline = tail.is_none()
        && !parts
            .iter()
            .rev()
            .find(|p| !p.is_empty())
            .is_some_and(|p| p.ends_with(b"\n"));
    let mut slices: Vec<std::io::IoSlice> = Vec::with_capacity(parts.len() + 2);
    if torn {
        slices.push(std::io::IoSlice::new(b"\n"));
    }
    slices.extend(parts.iter().map(|p| std::io::IoSlice::new(p)));
    if needs_newline {
        slices.push(std::io::IoSlice::new(b"\n"));
    }
    // One write call where the kernel allows: O_APPEND keeps it in one piece against other
    // appenders.
    let mut rest: &mut [std::io::IoSlice] = &mut slices;
    while !rest.is_empty() {
        match f.write_vectored(rest) {
            Ok(0) => {
                return Err(err(
                    "append",
                    path,
                    std::io::Error::from(std::io::ErrorKind::WriteZero),
                ))
            }
            Ok(n) => std::io::IoSlice::advance_slices(&mut rest, n),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(err("append", path, e)),
        }
    }
    if let Some(tail) = tail {
        let mut w = std::io::BufWriter::with_capacity(256 * 1024, &f);
        std::io::copy(tail, &mut w)
            .and_then(|_| w.write_all(b"\n"))
            .and_then(|()| w.flush())
            .map_err(|e| err("append", path, e))?;
    }
    f.sync_data().map_err(|e| err("sync", path, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn appends_accumulate_lines() {
        let t = tempfile::tempdir().unwrap();
        let p = t.path().join("log.jsonl");
        append_line(&p, "{\"a\":1}\n").unwrap();
        append_line(&p, "{\"a\":2}").unwrap();
        assert_eq!(
            std::fs::read_to_string(&p).unwrap(),
            "{\"a\":1}\n{\"a\":2}\n"
        );
    }

    #[test]
    fn an_append_after_a_torn_line_starts_on_a_fresh_line() {
        let t = tempfile::tempdir().unwrap();
        let p = t.path().join("log.jsonl");
        std::fs::write(&p, "{\"a\":1}\n{\"a\"").unwrap();
        append_line(&p, "{\"a\":3}\n").unwrap();
        let text = std::fs::read_to_string(&p).unwrap();
        assert_eq!(text.lines().last(), Some("{\"a\":3}"));
    }

    #[test]
    fn append_refuses_a_symlink() {
        let t = tempfile::tempdir().unwrap();
        let victim = t.path().join("victim");
        std::fs::write(&victim, b"keep").unwrap();
        let p = t.path().join("log.jsonl");
        std::os::unix::fs::symlink(&victim, &p).unwrap();
        assert!(append_line(&p, "x").is_err());
        assert_eq!(std::fs::read(&victim).unwrap(), b"keep");
    }
}
