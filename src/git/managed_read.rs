//! The readers of managed/ that go through the cache of verdicts (`verdicts`): the working
//! copy's, for the ingest's check across objects, and a tree's, for the check of the tip before
//! a push. Each file is known by its blob id (from the git index's stat data, or from the tree)
//! and taken from the cache when it knows that blob; the rest is read, analysed and remembered.

use std::path::{Path, PathBuf};

use git2::Oid;

use super::verdicts::{CacheMode, Verdicts};
use crate::discover::{self, Format, Found, ReadOutcome};
use crate::validate::analyze::{self, FileAnalysis};
use crate::validate::Validator;
use crate::yaml::Limits;

/// Every file of the fabric's managed/ (`fabric_root` inside the working copy of `repo`),
/// analysed by `v` as `ingest::read_inputs` analyses it (same files, same order, same
/// verdicts), each unchanged file taken from the cache instead of read. Skipped files (not
/// regular, still being written) are left out, as that read leaves them out. `progress` is
/// told how many files are done, a few times a second.
pub(crate) fn managed_analyses(
    repo: &git2::Repository,
    fabric_root: &Path,
    index: Option<&ManagedIndex>,
    v: &Validator,
    limits: &Limits,
    mode: CacheMode,
    progress: &mut dyn FnMut(usize, usize),
) -> crate::Result<Vec<FileAnalysis>> {
    let read = managed_analyses_by_blob(repo, fabric_root, index, v, limits, mode, progress)?;
    Ok(read.into_iter().map(|(_, a)| a).collect())
}

/// `managed_analyses`, each with the file's blob id when known (a file over the size cap is
/// not read, nor hashed). `index`: managed/'s entries of `repo`'s index, if already taken.
pub(crate) fn managed_analyses_by_blob(
    repo: &git2::Repository,
    fabric_root: &Path,
    index: Option<&ManagedIndex>,
    v: &Validator,
    limits: &Limits,
    mode: CacheMode,
    progress: &mut dyn FnMut(usize, usize),
) -> crate::Result<Vec<(Option<Oid>, FileAnalysis)>> {
    // Opened (read, checked, indexed: tens of milliseconds at 10^5 files) by each pass, and
    // dropped after it: kept for the next pass of the same run, the parsed analyses doubled a
    // sync's peak memory to save it half a second of parsing.
    let cache = Verdicts::open(repo.path(), v, limits, mode);
    let dir = fabric_root.join(crate::fabric::MANAGED);
    let files: Vec<(PathBuf, String, Format)> = match discover::discover(&dir, "managed/") {
        Ok(found) => found
            .into_iter()
            .filter_map(|f| match f {
                Found::File { path, rel, format } => Some((path, rel, format)),
                Found::Skipped { .. } => None,
            })
            .collect(),
        Err(e) => return Err(e),
    };
    // The index's entries for these files: those given (taken from the index the caller's
    // repository had read: at 10^5 files a read of the index file is 0.17 s, most of it
    // libgit2's checksum of the file), else from `repo`'s.
    let own;
    let index = match index {
        Some(i) => i,
        None => {
            own = match repo.index() {
                Ok(mut i) => ManagedIndex::of(repo, &mut i, fabric_root),
                Err(_) => ManagedIndex::default(),
            };
            &own
        }
    };
    let prefix = in_repo_prefix(repo, fabric_root);
    let stat = super::scan::StatCache::with_mtime(&index.entries, index.mtime);
    let in_repo = |rel: &str| match prefix.as_deref() {
        Some("") => rel.to_string(),
        Some(p) => format!("{p}/{rel}"),
        None => String::new(),
    };
    let total = files.len();
    let read = super::listing::map_parallel(
        &files,
        &|(path, rel, format): &(PathBuf, String, Format)| {
            one(&cache, &stat, &in_repo(rel), path, rel, *format, limits, v)
        },
        &mut |done| progress(done, total),
    );
    let mut out = Vec::with_capacity(total);
    for r in read {
        if let Some(a) = r? {
            out.push(a);
        }
    }
    cache.save();
    Ok(out)
}

/// `managed_analyses_by_blob` of the managed/ files `tree` holds (the fabric at `prefix` inside
/// it, `""` at the root) rather than of the working copy: the files `discover` would find there
/// (the same names skipped, the same order), each known by its blob id with no lstat and no
/// index read, from the cache or else read from the object store and analysed. What a push
/// publishes is the tree, so that is what its check reads.
pub(crate) fn tree_analyses_by_blob(
    repo: &git2::Repository,
    tree: &git2::Tree,
    prefix: &str,
    v: &Validator,
    limits: &Limits,
    mode: CacheMode,
    progress: &mut dyn FnMut(usize, usize),
) -> crate::Result<Vec<(Option<Oid>, FileAnalysis)>> {
    let unreadable = |e: git2::Error| crate::Error::from(super::error::local("read tree")(e));
    let managed = match prefix {
        "" => crate::fabric::MANAGED.to_string(),
        p => format!("{p}/{}", crate::fabric::MANAGED),
    };
    let mut files = Vec::new();
    if let Ok(entry) = tree.get_path(Path::new(&managed)) {
        let sub = repo.find_tree(entry.id()).map_err(unreadable)?;
        tree_files(repo, &sub, "managed/", &mut files).map_err(unreadable)?;
    }
    files.sort_by(|a, b| a.0.cmp(&b.0));
    let cache = Verdicts::open(repo.path(), v, limits, mode);
    let total = files.len();
    let mut out = Vec::with_capacity(total);
    // A chunk at a time: the blobs the cache does not know are read on this thread (libgit2's
    // repository is not shared between threads), then analysed on a few, and only a chunk of
    // their bytes is held at once (a first push knows none of 10^5 files).
    for (c, chunk) in files.chunks(4096).enumerate() {
        let base = c * 4096;
        let known = super::listing::map_parallel(
            chunk,
            &|(rel, oid, format): &(String, Oid, Format)| {
                cache.get(*oid, *format == Format::Json, rel)
            },
            &mut |done| progress(base + done / 2, total),
        );
        let mut missing = Vec::new();
        for ((rel, oid, format), k) in chunk.iter().zip(&known) {
            if k.is_some() {
                continue;
            }
            let size = repo
                .odb()
                .and_then(|o| o.read_header(*oid))
                .map_err(unreadable)?
                .0;
            let bytes = if size > limits.max_file_bytes {
                None
            } else {
                Some(repo.find_blob(*oid).map_err(unreadable)?.content().to_vec())
            };
            missing.push((rel.as_str(), *oid, *format, size, bytes));
        }
        let mut made = super::listing::map_parallel(
            &missing,
            &|(rel, oid, format, size, bytes): &(&str, Oid, Format, usize, Option<Vec<u8>>)| {
                match bytes {
                    Some(b) => {
                        let a = analyze::analyze_with(rel, b.clone(), *format, limits, v);
                        cache.put(*oid, *format == Format::Json, &a);
                        a
                    }
                    None => analyze::too_large(rel, *size as u64, limits),
                }
            },
            &mut |done| progress(base + (chunk.len() + done) / 2, total),
        )
        .into_iter();
        for ((_, oid, _), k) in chunk.iter().zip(known) {
            match k.or_else(|| made.next()) {
                Some(a) => out.push((Some(*oid), a)),
                None => break,
            }
        }
    }
    cache.save();
    Ok(out)
}

/// The files of `tree` (managed/ or a folder of it, named `sub`) that `discover` would find on
/// disk: regular files with a YAML or JSON name, outside names it skips (hidden, editor files);
/// as (fabric-relative path, blob, format).
fn tree_files(
    repo: &git2::Repository,
    tree: &git2::Tree,
    sub: &str,
    out: &mut Vec<(String, Oid, Format)>,
) -> std::result::Result<(), git2::Error> {
    for e in tree.iter() {
        // A name that is not UTF-8 is skipped, as discover skips it.
        let Ok(name) = std::str::from_utf8(e.name_bytes()) else {
            continue;
        };
        if discover::ignored_name(name).is_some() {
            continue;
        }
        match e.kind() {
            Some(git2::ObjectType::Tree) => {
                let t = repo.find_tree(e.id())?;
                tree_files(repo, &t, &format!("{sub}{name}/"), out)?;
            }
            // Not a symlink (its blob is a target), nor another repository.
            Some(git2::ObjectType::Blob) if matches!(e.filemode(), 0o100644 | 0o100755) => {
                if let Some(format) = discover::format_of(name) {
                    out.push((format!("{sub}{name}"), e.id(), format));
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// The index's entries for the files of a fabric's managed/, and the index file's mtime as of
/// their read (git's rule for a file changed in the second the index was written).
#[derive(Default)]
pub(crate) struct ManagedIndex {
    entries: Vec<git2::IndexEntry>,
    mtime: Option<(i64, i64)>,
}

impl ManagedIndex {
    /// The entries of `index` (`repo`'s, read again if its file changed since) under the
    /// managed/ of the fabric at `fabric_root`.
    pub(crate) fn of(repo: &git2::Repository, index: &mut git2::Index, fabric_root: &Path) -> Self {
        // Read again only when the file changed (libgit2 compares its stamp).
        let _ = index.read(false);
        let mtime = super::scan::index_mtime(repo);
        let Some(prefix) = in_repo_prefix(repo, fabric_root) else {
            return ManagedIndex::default();
        };
        let under = match prefix.as_str() {
            "" => "managed/".to_string(),
            p => format!("{p}/managed/"),
        };
        // Sorted by path: the entries under managed/ are one run from the first.
        let mut entries = Vec::new();
        if let Ok(first) = index.find_prefix(under.as_str()) {
            for i in first..index.len() {
                match index.get(i) {
                    Some(e) if e.path.starts_with(under.as_bytes()) => entries.push(e),
                    _ => break,
                }
            }
        }
        ManagedIndex { entries, mtime }
    }
}

/// The fabric's path inside the working copy of `repo` (`""` at its root), if inside it.
fn in_repo_prefix(repo: &git2::Repository, fabric_root: &Path) -> Option<String> {
    repo.workdir()
        .and_then(|w| {
            fabric_root
                .strip_prefix(std::fs::canonicalize(w).ok()?)
                .ok()
        })
        .map(|p| p.to_string_lossy().replace('\\', "/"))
}

/// One managed file, with its blob id: from the cache when the index says it is unchanged and
/// the cache knows its blob, else read, analysed and remembered. None when it is skipped.
#[allow(clippy::too_many_arguments)]
fn one(
    cache: &Verdicts,
    stat: &super::scan::StatCache,
    in_repo: &str,
    path: &Path,
    rel: &str,
    format: Format,
    limits: &Limits,
    v: &Validator,
) -> crate::Result<Option<(Option<Oid>, FileAnalysis)>> {
    let json = format == Format::Json;
    if let Ok(m) = std::fs::symlink_metadata(path) {
        if let Some(e) = stat.clean(in_repo.as_bytes(), &m) {
            if let Some(a) = cache.get(e.id, json, rel) {
                return Ok(Some((Some(e.id), a)));
            }
        }
    }
    Ok(match discover::read_stable(path, limits.max_file_bytes)? {
        ReadOutcome::Bytes(bytes) => {
            let oid = Oid::hash_object(git2::ObjectType::Blob, &bytes).ok();
            let a = analyze::analyze_with(rel, bytes, format, limits, v);
            if let Some(oid) = oid {
                cache.put(oid, json, &a);
            }
            Some((oid, a))
        }
        ReadOutcome::TooLarge(len) => Some((None, analyze::too_large(rel, len, limits))),
        ReadOutcome::Pending(_) | ReadOutcome::NotRegular(_) => None,
    })
}

/// The reader of managed/ an ingest of the fabric at `root` uses in place of its own
/// (`ingest::Options::managed`): `managed_analyses`, in the fabric's repository, writing the
/// cache or not by `mode`. None outside a git working copy.
pub fn managed_reader(root: &Path, mode: CacheMode) -> Option<crate::ingest::ManagedReader> {
    reader(root, mode, None)
}

/// `managed_reader` for the fabric of `fr`, whose repository has read its index already: the
/// reader takes the stat data of managed/ from that index (read again only if the file changed
/// since) instead of reading the file once more.
pub(crate) fn managed_reader_in(
    fr: &super::scope::FabricRepo,
    root: &Path,
    mode: CacheMode,
) -> Option<crate::ingest::ManagedReader> {
    let index = fr
        .repo
        .index()
        .ok()
        .map(|mut i| ManagedIndex::of(&fr.repo, &mut i, root));
    reader(root, mode, index)
}

fn reader(
    root: &Path,
    mode: CacheMode,
    index: Option<ManagedIndex>,
) -> Option<crate::ingest::ManagedReader> {
    // The repository is looked for only when the reader is used: opening one starts libgit2
    // and OpenSSL's certificate store (milliseconds and megabytes), which an ingest that checks
    // no spec, or brings nothing, never needs.
    let root = root.to_path_buf();
    Some(crate::ingest::ManagedReader(std::sync::Arc::new(
        move |v: &Validator, limits: &Limits| {
            let repo = git2::Repository::discover(&root).ok()?;
            repo.workdir()?;
            managed_analyses(
                &repo,
                &root,
                index.as_ref(),
                v,
                limits,
                mode,
                &mut |_, _| {},
            )
            .ok()
        },
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    const VPC: &str = "apiVersion: vpc.githedgehog.com/v1beta1\nkind: VPC\nmetadata:\n  name: NAME\n  namespace: default\nspec:\n  subnets:\n    subnet-1:\n      subnet: 10.0.1.0/24\n      vlan: 1001\n";

    fn said(read: &[(Option<Oid>, FileAnalysis)]) -> Vec<String> {
        read.iter()
            .map(|(o, a)| format!("{o:?} {} {:?}", a.rel, a.verdict))
            .collect()
    }

    #[test]
    fn entries_taken_from_an_index_already_read_are_the_fabrics_managed_ones_and_read_alike() {
        let t = tempfile::tempdir().unwrap();
        let root = std::fs::canonicalize(t.path()).unwrap();
        let repo = git2::Repository::init(&root).unwrap();
        let fab = root.join("fab");
        let files = [
            "fab/managed/vpcs/a.yaml",
            "fab/managed/vpcs/b.yaml",
            // Beside managed/, under a name it starts, and another fabric's managed/.
            "fab/managed-old/vpcs/c.yaml",
            "fab/raw/d.yaml",
            "other/managed/vpcs/e.yaml",
        ];
        let mut index = repo.index().unwrap();
        for rel in files {
            let path = root.join(rel);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            let name = Path::new(rel).file_stem().unwrap().to_string_lossy();
            std::fs::write(&path, VPC.replace("NAME", &name)).unwrap();
            index.add_path(Path::new(rel)).unwrap();
        }
        index.write().unwrap();

        let mut index = repo.index().unwrap();
        let taken = ManagedIndex::of(&repo, &mut index, &fab);
        let paths: Vec<_> = taken
            .entries
            .iter()
            .map(|e| String::from_utf8_lossy(&e.path).into_owned())
            .collect();
        assert_eq!(
            paths,
            ["fab/managed/vpcs/a.yaml", "fab/managed/vpcs/b.yaml"]
        );
        assert_eq!(taken.mtime, super::super::scan::index_mtime(&repo));

        let (v, limits) = (Validator::shared_default(), Limits::default());
        let read = |index: Option<&ManagedIndex>| {
            managed_analyses_by_blob(
                &repo,
                &fab,
                index,
                v,
                &limits,
                CacheMode::ReadOnly,
                &mut |_, _| {},
            )
            .unwrap()
        };
        let given = read(Some(&taken));
        assert_eq!(said(&given), said(&read(None)));
        assert_eq!(given.len(), 2);
        let blob = |text: &str| Oid::hash_object(git2::ObjectType::Blob, text.as_bytes()).unwrap();
        assert_eq!(given[0].0, Some(blob(&VPC.replace("NAME", "a"))));

        // A file changed since the entries were taken is read again, not taken by its entry.
        let changed = VPC.replace("NAME", "a").replace("1001", "1002");
        std::fs::write(fab.join("managed/vpcs/a.yaml"), &changed).unwrap();
        let again = read(Some(&taken));
        assert_eq!(again[0].0, Some(blob(&changed)));
        assert_eq!(said(&again), said(&read(None)));
    }
}
