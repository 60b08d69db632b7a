//! Trees and diffs: the tree a commit of the fabric would have, and the patch `push --dry-run`
//! shows.

use std::path::Path;

use git2::{Oid, Repository};

use super::error::{local, Result};
use super::options::GitOptions;
use super::scan::{scan_fabric, Scanned};
use super::scope::{head_fabric_entries, FabricRepo, Tracked};
use super::verify::problems_of;
use crate::fabric::Fabric;
use crate::journal;

/// HEAD's entries at `path` (a file, or every file of a folder), added to `index` as they
/// are: what the commit keeps for a path it leaves out.
pub(crate) fn keep_from_head(
    repo: &Repository,
    head_tree: Option<&git2::Tree>,
    path: &[u8],
    index: &mut git2::Index,
) -> Result<()> {
    use std::os::unix::ffi::OsStrExt;
    let Some(entry) = head_tree.and_then(|t| {
        t.get_path(Path::new(std::ffi::OsStr::from_bytes(path)))
            .ok()
    }) else {
        return Ok(());
    };
    let add = |index: &mut git2::Index, p: Vec<u8>, id: Oid, mode: i32| {
        index
            .add(&git2::IndexEntry {
                ctime: git2::IndexTime::new(0, 0),
                mtime: git2::IndexTime::new(0, 0),
                dev: 0,
                ino: 0,
                mode: mode as u32,
                uid: 0,
                gid: 0,
                file_size: 0,
                id,
                flags: 0,
                flags_extended: 0,
                path: p,
            })
            .map_err(local("build tree"))
    };
    if entry.kind() != Some(git2::ObjectType::Tree) {
        return add(index, path.to_vec(), entry.id(), entry.filemode());
    }
    let sub = repo.find_tree(entry.id()).map_err(local("read tree"))?;
    let mut found = Vec::new();
    sub.walk(git2::TreeWalkMode::PreOrder, |root, e| {
        if e.kind() != Some(git2::ObjectType::Tree) {
            let mut p = path.to_vec();
            p.push(b'/');
            p.extend_from_slice(root.as_bytes());
            p.extend_from_slice(e.name_bytes());
            found.push((p, e.id(), e.filemode()));
        }
        git2::TreeWalkResult::Ok
    })
    .map_err(local("read tree"))?;
    for (p, id, mode) in found {
        add(index, p, id, mode)?;
    }
    Ok(())
}

/// The tree a commit of the fabric would have: HEAD's tree with the fabric's part replaced by
/// `scan` (what it leaves out kept as HEAD has it), as an in-memory index, and its id.
pub(crate) fn fabric_tree(
    fr: &FabricRepo,
    head_tree: Option<&git2::Tree>,
    scan: &Scanned,
) -> Result<(git2::Index, Oid)> {
    let mut scratch = without_fabric(fr, head_tree)?;
    for e in &scan.entries {
        scratch.add(e).map_err(local("build tree"))?;
    }
    for o in scan.kept() {
        keep_from_head(&fr.repo, head_tree, &o.path, &mut scratch)?;
    }
    let id = scratch
        .write_tree_to(&fr.repo)
        .map_err(local("write tree"))?;
    Ok((scratch, id))
}

/// The path a diff entry is about: its new side, or its old one for a removal.
pub(crate) fn delta_path(d: &git2::DiffDelta) -> String {
    d.new_file()
        .path()
        .or(d.old_file().path())
        .map(|p| p.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// An in-memory index of `tree` (none: empty) without the fabric's part: what every tree fgd
/// commits starts from, so nothing outside the fabric changes.
pub(crate) fn without_fabric(fr: &FabricRepo, tree: Option<&git2::Tree>) -> Result<git2::Index> {
    fr.tree_without_fabric(tree).map_err(local("build tree"))
}

/// What `push` would commit now, as a patch: HEAD's tree against the tree `commit_fabric`
/// would build from the fabric's files. Read-only for the working copy and its index (blobs
/// and trees are written to the object store, as `git add` would; unreferenced, gc takes them).
/// At most `max_lines` lines of patch, then a line saying how many more there are. After the
/// first line (the counts), a line for each thing that makes the push differ from the patch:
/// an unfinished batch (push finishes it first), a path left out, a refusal.
pub fn pending_diff(
    fabric: &Fabric,
    max_lines: usize,
    layers: &crate::validate::settings::Layers,
) -> Result<Vec<String>> {
    let (fr, _) = FabricRepo::inspect(fabric, &GitOptions::default())?;
    let repo = &fr.repo;
    let head = fr.head();
    let old_tree = head.as_ref().and_then(|h| h.tree().ok());
    let index = repo.index().map_err(local("open index"))?;
    let head_entries = head_fabric_entries(&fr, old_tree.as_ref());
    let index_entries = super::commit::index_fabric(&fr, &index);
    let tracked = Tracked::new(&head_entries, &index_entries);
    let scan = scan_fabric(
        &fr,
        fabric,
        old_tree.as_ref(),
        &tracked,
        &index_entries,
        &mut crate::event::Discard,
    )?;
    let (_, tree_id) = fabric_tree(&fr, old_tree.as_ref(), &scan)?;
    let tree = repo.find_tree(tree_id).map_err(local("read tree"))?;
    let diff = repo
        .diff_tree_to_tree(old_tree.as_ref(), Some(&tree), None)
        .map_err(local("diff"))?;
    let mut out = Vec::new();
    if let Ok(st) = diff.stats() {
        out.push(format!(
            "{} file(s) changed, {} insertion(s)(+), {} deletion(s)(-) against {}",
            st.files_changed(),
            st.insertions(),
            st.deletions(),
            head.as_ref()
                .map(|h| h.id().to_string()[..10].to_string())
                .unwrap_or_else(|| "an empty history".into())
        ));
    }
    if let Some(op) = super::state::operation_in_progress(repo) {
        out.push(format!("push would refuse: {}", op.advice()));
    }
    match journal::load(fabric) {
        Ok(None) => {}
        Ok(Some(j)) => out.push(format!(
            "note: {} batch {} is unfinished (.hnp/journal.json, left by an interrupted run): push and sync finish it first, so they commit its finished result (its managed files, archive and log record, without the raw/ originals it takes), not the patch below; fgd ingest finishes it now",
            j.command, j.batch
        )),
        Err(e) => out.push(format!(
            "note: an unfinished batch's journal is there but cannot be read ({e}): push and sync try to finish it first"
        )),
    }
    for o in &scan.left_out {
        out.push(format!(
            "left out: {} ({}: ingest leaves it in raw/ too, and push does not commit it)",
            o.shown, o.what
        ));
    }
    let problems = problems_of(&fr, &scan, old_tree.as_ref(), &tree, &diff)?;
    for p in &problems {
        out.push(format!("push would refuse this commit: {p}"));
    }
    // Commits already made that the push would publish besides fgd's own.
    if let Some(h) = &head {
        let opts = GitOptions::default();
        for o in super::outgoing::other_commits(&fr, &opts, h.id())? {
            let refused = if o.outside.is_empty() {
                ""
            } else {
                "; push refuses it unless --include-other-commits"
            };
            out.push(format!("push would also publish: {}{refused}", o.line()));
        }
    }
    // The whole tree the push would publish, as the push checks it.
    // Read-only, the cache of verdicts included.
    let extra = super::verify::tip_checks_with(fabric, layers, super::CacheMode::ReadOnly);
    let verified = super::verify::verified_tree(&fr, fabric, &extra);
    for p in super::verify::check_tip(
        &fr,
        &tree,
        verified.as_ref(),
        &extra,
        &mut crate::event::Discard,
    )? {
        let line = format!("push would refuse this commit: {p}");
        if !out.contains(&line) {
            out.push(line);
        }
    }
    // managed/ first: that is what Argo CD and Flux will apply; then the rest of the tree,
    // fgd's own records last.
    let group = |p: &str| {
        let inner = fr.inner(p);
        if inner.starts_with(crate::fabric::MANAGED) {
            0
        } else if inner.starts_with(crate::fabric::HNP) {
            2
        } else {
            1
        }
    };
    let mut files: std::collections::BTreeMap<(u8, String), Vec<String>> = Default::default();
    diff.print(git2::DiffFormat::Patch, |delta, _, line| {
        let path = delta_path(&delta);
        let text = String::from_utf8_lossy(line.content());
        let text = text.trim_end_matches('\n');
        let lines = files.entry((group(&path), path)).or_default();
        match line.origin() {
            c @ ('+' | '-' | ' ') => lines.push(format!("{c}{text}")),
            // File headers come as one piece: diff --git, mode, index, ---, +++.
            _ => lines.extend(text.lines().map(str::to_string)),
        }
        true
    })
    .map_err(local("diff"))?;
    let mut more = 0usize;
    for line in files.into_values().flatten() {
        if out.len() >= max_lines {
            more += 1;
        } else {
            out.push(line);
        }
    }
    if more > 0 {
        out.push(format!("... {more} more line(s)"));
    }
    Ok(out)
}
