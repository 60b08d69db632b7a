//! Paths fgd derives from a path under raw/: folder names escaped where they could bear the
//! name of one of fgd's files, and suffixes that fit in a file name.

use crate::store;

/// Appended to a folder's name where fgd's files could bear that name too (see
/// `escape_folders`).
pub const FOLDER_ESCAPE: &str = "~dir";

/// `inner` (a path under raw/) with its folders renamed for a tree in which every file fgd
/// makes ends with one of `file_suffixes` (`.orig` in the archive): a folder whose name ends
/// with one of them, or with `FOLDER_ESCAPE` itself, gets `FOLDER_ESCAPE` appended. So no
/// folder ever bears the name of a file fgd puts beside it (`raw/x.yaml` and a folder
/// `raw/x.yaml.orig/` would both want `x.yaml.orig`), and `unescape_folders` turns it back.
pub fn escape_folders<'a>(inner: &'a str, file_suffixes: &[&str]) -> std::borrow::Cow<'a, str> {
    let Some((dirs, name)) = inner.rsplit_once('/') else {
        return inner.into();
    };
    let clashes = |c: &str| named_like_a_file(c, file_suffixes);
    if !dirs.split('/').any(clashes) {
        return inner.into();
    }
    let mut out = String::with_capacity(inner.len() + 16);
    for c in dirs.split('/') {
        if clashes(c) {
            out.push_str(&store::fit_name(c, FOLDER_ESCAPE));
        } else {
            out.push_str(c);
        }
        out.push('/');
    }
    out.push_str(name);
    out.into()
}

/// Whether the folder name `c` must be renamed by `escape_folders`.
pub fn named_like_a_file(c: &str, file_suffixes: &[&str]) -> bool {
    c.ends_with(FOLDER_ESCAPE) || file_suffixes.iter().any(|suffix| c.ends_with(suffix))
}

/// The path under raw/ of a path made by `escape_folders` (or by `unmanaged::Names`).
pub fn unescape_folders(inner: &str) -> String {
    let Some((dirs, name)) = inner.rsplit_once('/') else {
        return inner.to_string();
    };
    let mut out = String::with_capacity(inner.len());
    for c in dirs.split('/') {
        out.push_str(c.strip_suffix(FOLDER_ESCAPE).unwrap_or(c));
        out.push('/');
    }
    out.push_str(name);
    out
}

/// `dir/name` + suffix, the last component shortened if it would not fit in a file name.
pub fn with_suffix(rel: &str, suffix: &str) -> String {
    match rel.rsplit_once('/') {
        Some((dir, name)) => format!("{dir}/{}", store::fit_name(name, suffix)),
        None => store::fit_name(rel, suffix),
    }
}
