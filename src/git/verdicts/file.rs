//! The cache file: its key, its header and body, and appended lines, each checked.

use std::collections::HashMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use git2::Oid;
use sha2::Digest as _;

use crate::validate::Validator;
use crate::yaml::Limits;

/// The cache file, under the repository's git directory.
pub(super) const FILE: &str = "fgd/verdicts";
/// The first word of the file and its format's version.
const MAGIC: &str = "fgd-verdicts-2";

/// The check of an appended line (`line`: without it), under the key whose digest is `key`:
/// the first 8 bytes of a SHA-256, in hex.
pub(super) fn line_check(key: &str, line: &[u8]) -> String {
    let mut h = sha2::Sha256::new();
    h.update(key.as_bytes());
    h.update(line);
    h.finalize()[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Everything an analysis depends on besides the bytes: fgd's build, the settings, the CRDs
/// and the fabric config (their contents, when files name them), the limits.
pub(super) fn key(v: &Validator, limits: &Limits) -> String {
    use std::os::unix::fs::MetadataExt;
    let exe = std::env::current_exe()
        .and_then(std::fs::metadata)
        .map(|m| format!("{}:{}:{}.{}", m.len(), m.ino(), m.mtime(), m.mtime_nsec()))
        .unwrap_or_default();
    let s = &v.settings;
    let mut h = sha2::Sha256::new();
    if let Some(dir) = &s.crds {
        let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
            .into_iter()
            .flatten()
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        files.sort();
        for f in files {
            h.update(f.as_os_str().as_encoded_bytes());
            h.update(std::fs::read(&f).unwrap_or_default());
        }
    }
    h.update(b"\0fab\0");
    if let Some(fab) = &s.fab {
        h.update(std::fs::read(fab).unwrap_or_default());
    }
    let inputs = crate::digest::Digest(h.finalize().into());
    format!(
        "fgd {} exe {exe} level {} skip {:?} unknown-warn {} whole {} alone {} crds {:?} {} fab {:?} assumed {} inputs {inputs} limits {limits:?}",
        env!("CARGO_PKG_VERSION"),
        s.level.as_str(),
        s.skip,
        s.unknown_fields_warn,
        s.whole_fabric,
        s.objects_alone,
        s.crds,
        v.crds_origin(),
        s.fab,
        v.env.assumed,
    )
}

/// The header line: the format, the key's digest, the body's digest and length (all of fixed
/// length, so `write` can put it in place once the body is written). Lines appended after the
/// body (`Verdicts::append`) each carry their own check.
fn header(key: &str, body: &crate::digest::Digest, len: u64) -> String {
    format!(
        "{MAGIC} {} {body} {len:016x}\n",
        crate::digest::Digest::of(key.as_bytes())
    )
}

pub(super) type Entries = HashMap<(Oid, bool), std::ops::Range<u64>>;

/// The file, open, and where its entries are, when its body is whole and made under `key`:
/// read once through, its digest checked, nothing of it kept but the places. A line appended
/// after the body counts only with its check right (a torn or edited one is passed over).
pub(super) fn load(path: &Path, key: &str) -> Option<(std::fs::File, Entries)> {
    use std::io::BufRead;
    let file = std::fs::File::open(path).ok()?;
    let mut r = std::io::BufReader::with_capacity(1 << 16, &file);
    let mut head = Vec::new();
    r.read_until(b'\n', &mut head).ok()?;
    let text = std::str::from_utf8(&head).ok()?.trim_end();
    let mut words = text.rsplitn(3, ' ');
    let len = u64::from_str_radix(words.next()?, 16).ok()?;
    let recorded = crate::digest::Digest::from_hex(words.next()?)?;
    if head != header(key, &recorded, len).as_bytes() {
        return None;
    }
    let key_digest = crate::digest::Digest::of(key.as_bytes()).to_string();
    let mut h = Some(sha2::Sha256::new());
    let mut entries = HashMap::new();
    let body_end = head.len() as u64 + len;
    let mut at = head.len() as u64;
    let mut line = Vec::new();
    loop {
        if at == body_end {
            let digest = crate::digest::Digest(h.take()?.finalize().into());
            if digest != recorded {
                return None;
            }
        }
        line.clear();
        let n = r.read_until(b'\n', &mut line).ok()?;
        if n == 0 {
            break;
        }
        let start = at;
        at += n as u64;
        let appended = h.is_none();
        if let Some(h) = h.as_mut() {
            h.update(&line);
            // The body ends inside a line: not this file's.
            if at > body_end {
                return None;
            }
        }
        // A last line cut short: a body that is not whole, or a torn append (passed over).
        let Some(mut content) = line.strip_suffix(b"\n") else {
            if appended {
                break;
            }
            return None;
        };
        if appended {
            let Some((rest, check)) = content.len().checked_sub(17).map(|i| content.split_at(i))
            else {
                continue;
            };
            if check.first() != Some(&b' ')
                || line_check(&key_digest, rest).as_bytes() != &check[1..]
            {
                continue;
            }
            content = rest;
        }
        if content.is_empty() {
            continue;
        }
        // `<40 hex> <y|j> <json>`
        let Some(entry) = entry_of(content) else {
            if appended {
                continue;
            }
            return None;
        };
        entries.insert(entry, start + 43..start + content.len() as u64);
    }
    // A file shorter than its body.
    if h.is_some() {
        return None;
    }
    Some((file, entries))
}

/// The blob and format a record line starts with (`<40 hex> <y|j> `).
fn entry_of(line: &[u8]) -> Option<(Oid, bool)> {
    let oid = Oid::from_str(std::str::from_utf8(line.get(..40)?).ok()?).ok()?;
    let json = match line.get(40..43)? {
        b" y " => false,
        b" j " => true,
        _ => return None,
    };
    Some((oid, json))
}

/// Write the cache file whole under a temporary name, its body given piece by piece by `body`
/// (streamed: never all in memory), then rename it in.
pub(super) fn write(
    path: &Path,
    key: &str,
    body: impl FnOnce(&mut dyn FnMut(&[u8]) -> std::io::Result<()>) -> std::io::Result<()>,
) -> std::io::Result<()> {
    use std::os::unix::fs::FileExt;
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let tmp = tempfile::NamedTempFile::new_in(dir)?;
    let placeholder = header(key, &crate::digest::Digest([0; 32]), 0);
    let mut h = sha2::Sha256::new();
    let mut len = 0u64;
    {
        let mut w = std::io::BufWriter::with_capacity(1 << 16, tmp.as_file());
        w.write_all(placeholder.as_bytes())?;
        body(&mut |piece: &[u8]| {
            h.update(piece);
            len += piece.len() as u64;
            w.write_all(piece)
        })?;
        w.flush()?;
    }
    let digest = crate::digest::Digest(h.finalize().into());
    tmp.as_file()
        .write_all_at(header(key, &digest, len).as_bytes(), 0)?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}
