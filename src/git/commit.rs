//! The commit of the fabric's files onto the checked-out branch.

use git2::Oid;
use serde::Serialize;

use super::diff::{delta_path, fabric_tree, keep_from_head};
use super::error::{local, GitError, Result};
use super::integrate::{trailer_value, FABRIC_TRAILER};
use super::message::{compose, Change};
use super::options::{signature, GitOptions};
use super::scan::{scan_fabric, Scanned};
use super::scope::{head_fabric_entries, FabricRepo, Tracked};
use super::verify::problems_of;
use super::GitPhase;
use crate::event::{Event, Sink};
use crate::fabric::Fabric;
use crate::store;

#[derive(Debug, Clone, Default, Serialize)]
pub struct Committed {
    pub commit: String,
    pub added: usize,
    pub modified: usize,
    pub deleted: usize,
}

/// The fabric's entries of `index` (path, mode, blob), sorted: what `git status` compares
/// HEAD and the disk with.
pub(crate) fn fabric_entries(fr: &FabricRepo, index: &git2::Index) -> Vec<(Vec<u8>, u32, Oid)> {
    let mut v: Vec<_> = index
        .iter()
        .filter(|e| fr.holds(&e.path))
        .map(|e| (e.path, e.mode, e.id))
        .collect();
    v.sort();
    v
}

/// The fabric's entries of `index` whole (with their stat data), sorted by path: what the
/// scan's stat shortcut and its "tracked" test look paths up in.
pub(crate) fn index_fabric(fr: &FabricRepo, index: &git2::Index) -> Vec<git2::IndexEntry> {
    let mut v: Vec<_> = index.iter().filter(|e| fr.holds(&e.path)).collect();
    v.sort_by(|a, b| (&a.path, a.mode, a.id).cmp(&(&b.path, b.mode, b.id)));
    v
}

/// Whether two index entries say the same (stat data included).
fn same_entry(a: &git2::IndexEntry, b: &git2::IndexEntry) -> bool {
    a.path == b.path
        && a.mode == b.mode
        && a.id == b.id
        && a.file_size == b.file_size
        && a.mtime == b.mtime
        && a.ctime == b.ctime
        && a.ino == b.ino
        && a.dev == b.dev
        && a.uid == b.uid
        && a.gid == b.gid
}

/// The tree of a commit of `scan` made from HEAD's by the fabric paths that changed (git's
/// tree update: only the trees above a changed path are written), with the fabric's entries
/// it holds and the paths that differ from HEAD's; None where that does not apply: no HEAD, a mode git's trees cannot say, or a
/// path that turned from a file into a folder or back (left to the whole build).
fn updated_tree(
    fr: &FabricRepo,
    head_tree: Option<&git2::Tree>,
    head_entries: &[(Vec<u8>, u32, Oid)],
    scan: &Scanned,
) -> Result<Option<Updated>> {
    let Some(base) = head_tree else {
        return Ok(None);
    };
    // What the commit keeps of HEAD for the paths it leaves out, as the whole build keeps it.
    let mut kept = git2::Index::new().map_err(local("build tree"))?;
    for o in scan.kept() {
        keep_from_head(&fr.repo, head_tree, &o.path, &mut kept)?;
    }
    if !kept.is_empty() {
        // Rare (a symlink or a name git cannot carry): the whole build keeps those.
        return Ok(None);
    }
    // Both sorted by path, as the index sorts them.
    let now: Vec<git2::IndexEntry> = scan
        .entries
        .iter()
        .map(|e| git2::IndexEntry {
            path: e.path.clone(),
            ..*e
        })
        .collect();
    let mut upserts: Vec<(&[u8], Oid, u32)> = Vec::new();
    let mut removals: Vec<&[u8]> = Vec::new();
    merge_by_path(
        head_entries,
        |h| h.0.as_slice(),
        &now,
        |e| e.path.as_slice(),
        |h, e| {
            match (h, e) {
                (Some(h), Some(e)) if (h.1, h.2) == (e.mode, e.id) => {}
                (_, Some(e)) => upserts.push((e.path.as_slice(), e.id, e.mode)),
                (Some(h), None) => removals.push(h.0.as_slice()),
                (None, None) => {}
            }
            Ok(())
        },
    )?;
    // A folder of one side that is a file of the other (few paths change: a search each).
    let in_head = |p: &[u8]| {
        head_entries
            .binary_search_by(|h| h.0.as_slice().cmp(p))
            .is_ok()
    };
    let in_now = |p: &[u8]| now.binary_search_by(|e| e.path.as_slice().cmp(p)).is_ok();
    let clash = |path: &[u8], other: &dyn Fn(&[u8]) -> bool| {
        path.iter()
            .enumerate()
            .any(|(i, &b)| b == b'/' && other(&path[..i]))
    };
    let mut update = git2::build::TreeUpdateBuilder::new();
    let mut changed: Vec<Vec<u8>> = Vec::with_capacity(upserts.len() + removals.len());
    for (path, id, mode) in upserts {
        let mode = match mode {
            0o100644 => git2::FileMode::Blob,
            0o100755 => git2::FileMode::BlobExecutable,
            0o120000 => git2::FileMode::Link,
            _ => return Ok(None),
        };
        if clash(path, &in_head) {
            return Ok(None);
        }
        update.upsert(path, id, mode);
        changed.push(path.to_vec());
    }
    for path in removals {
        if clash(path, &in_now) {
            return Ok(None);
        }
        update.remove(path);
        changed.push(path.to_vec());
    }
    let id = if changed.is_empty() {
        base.id()
    } else {
        update
            .create_updated(&fr.repo, base)
            .map_err(local("write tree"))?
    };
    Ok(Some(Updated {
        tree: id,
        entries: now,
        changed,
    }))
}

/// Walk two lists sorted by path together, calling `f` once per path with what each holds
/// there: linear, where maps of 10^5 paths cost more than the rest of a commit.
fn merge_by_path<'a, A, B>(
    a: &'a [A],
    path_a: impl Fn(&A) -> &[u8],
    b: &'a [B],
    path_b: impl Fn(&B) -> &[u8],
    mut f: impl FnMut(Option<&'a A>, Option<&'a B>) -> Result<()>,
) -> Result<()> {
    let (mut i, mut j) = (0, 0);
    loop {
        match (a.get(i), b.get(j)) {
            (None, None) => return Ok(()),
            (Some(x), Some(y)) => match path_a(x).cmp(path_b(y)) {
                std::cmp::Ordering::Equal => {
                    f(Some(x), Some(y))?;
                    i += 1;
                    j += 1;
                }
                std::cmp::Ordering::Less => {
                    f(Some(x), None)?;
                    i += 1;
                }
                std::cmp::Ordering::Greater => {
                    f(None, Some(y))?;
                    j += 1;
                }
            },
            (Some(x), None) => {
                f(Some(x), None)?;
                i += 1;
            }
            (None, Some(y)) => {
                f(None, Some(y))?;
                j += 1;
            }
        }
    }
}

/// A commit's tree made from HEAD's by the paths that changed (`updated_tree`).
struct Updated {
    tree: Oid,
    /// The fabric's entries it holds, as the index is to hold them.
    entries: Vec<git2::IndexEntry>,
    /// The paths that differ from HEAD's tree: all that a diff of the two can name.
    changed: Vec<Vec<u8>>,
}

/// Commit the fabric directory as it is on disk. None when nothing changed.
pub fn commit_fabric(
    fr: &FabricRepo,
    fabric: &Fabric,
    opts: &GitOptions,
    what: &str,
    sink: &mut dyn Sink,
) -> Result<Option<Committed>> {
    // Every commit fgd makes is announced the same way (sync's local commit included).
    sink.emit(Event::GitPhaseStarted {
        phase: GitPhase::Commit,
        detail: fr.prefix.clone(),
    });
    let repo = &fr.repo;
    let mut index = repo.index().map_err(local("open index"))?;
    // Read again if another handle (another fabric of the working copy) wrote it meanwhile.
    index.read(false).map_err(local("read index"))?;
    let head = fr.head();
    let head_tree = match &head {
        Some(h) => Some(h.tree().map_err(local("read tree"))?),
        None => None,
    };
    let head_entries = head_fabric_entries(fr, head_tree.as_ref());
    let index_entries = index_fabric(fr, &index);
    let tracked = Tracked::new(&head_entries, &index_entries);
    let scan = scan_fabric(
        fr,
        fabric,
        head_tree.as_ref(),
        &tracked,
        &index_entries,
        sink,
    )?;
    for o in &scan.left_out {
        sink.emit(Event::GitLeftOut {
            path: o.shown.clone(),
            reason: o.what.to_string(),
        });
    }
    // Nothing fgd will not commit is committed, and HEAD's version of it is not dropped
    // either: a refusal, even when nothing else changed.
    if !scan.refused.is_empty() {
        return Err(GitError::Unmanageable {
            problems: scan.refusals(),
        });
    }
    let before: Vec<(Vec<u8>, u32, Oid)> = index_entries
        .iter()
        .map(|e| (e.path.clone(), e.mode, e.id))
        .collect();
    // Nothing changed: the disk is what the index holds, and the index's fabric part is HEAD's
    // (with no path kept from HEAD by hand). The tree below would be HEAD's and the index
    // would not be written, so neither is built (at 10^5 files that is most of a no-op sync).
    let same_as = |a: &[(Vec<u8>, u32, Oid)]| {
        a.len() == scan.entries.len()
            && a.iter()
                .zip(&scan.entries)
                .all(|((p, m, id), e)| *p == e.path && *m == e.mode && *id == e.id)
    };
    if head.is_some() && scan.left_out.is_empty() && before == head_entries && same_as(&before) {
        return Ok(None);
    }
    // HEAD's tree with the fabric's part replaced: nothing else of the index goes in. Made
    // from HEAD's tree by the paths that changed where that can be done (a few trees
    // rewritten, not every one of the fabric's), else whole.
    let (tree_id, fabric_now, changed) =
        match updated_tree(fr, head_tree.as_ref(), &head_entries, &scan)? {
            Some(u) => (u.tree, u.entries, Some(u.changed)),
            None => {
                let (scratch, id) = fabric_tree(fr, head_tree.as_ref(), &scan)?;
                let entries = scratch.iter().filter(|e| fr.holds(&e.path)).collect();
                (id, entries, None)
            }
        };
    // The index's fabric part becomes the tree's (with the stat data just read), so git
    // status agrees with HEAD and the disk once the commit is made.
    // Only the paths that went are removed, and only the entries that differ replaced: libgit2
    // removes an entry by shifting every entry after it, so clearing the whole fabric's part
    // first was quadratic in its size (seconds at 10^5 files, even with nothing to commit).
    let mut gone: Vec<&[u8]> = Vec::new();
    let mut replaced: Vec<&git2::IndexEntry> = Vec::new();
    merge_by_path(
        &index_entries,
        |e| e.path.as_slice(),
        &fabric_now,
        |e| e.path.as_slice(),
        |old, new| {
            match (old, new) {
                (Some(old), None) => gone.push(old.path.as_slice()),
                (Some(old), Some(new)) if same_entry(old, new) => {}
                (_, Some(new)) => replaced.push(new),
                (None, None) => {}
            }
            Ok(())
        },
    )?;
    for path in gone {
        use std::os::unix::ffi::OsStrExt;
        let path = std::path::Path::new(std::ffi::OsStr::from_bytes(path));
        index.remove_path(path).map_err(local("update index"))?;
    }
    for e in replaced {
        index.add(e).map_err(local("update index"))?;
    }
    if head.as_ref().map(|h| h.tree_id()) == Some(tree_id) {
        // Nothing to commit; but an index a run killed before writing it left behind (HEAD
        // moved on, the index not) is put right, or the operator's next `git commit` would
        // take the fabric's last change back.
        if fabric_entries(fr, &index) != before {
            index.write().map_err(local("write index"))?;
        }
        return Ok(None);
    }
    let tree = repo.find_tree(tree_id).map_err(local("read tree"))?;
    let old_tree = head.as_ref().and_then(|h| h.tree().ok());
    let mut counts = Committed::default();
    let mut lines = Vec::new();
    // libgit2 walks both trees whole for a diff: where the paths that differ are known (and
    // few), the diff is asked for those alone, which names exactly the same deltas.
    let mut only = git2::DiffOptions::new();
    let narrowed = match &changed {
        Some(paths) if paths.len() <= 10_000 => {
            for p in paths {
                only.pathspec(p.as_slice());
            }
            only.disable_pathspec_match(true);
            Some(&mut only)
        }
        _ => None,
    };
    let diff = repo
        .diff_tree_to_tree(old_tree.as_ref(), Some(&tree), narrowed)
        .map_err(local("diff"))?;
    for d in diff.deltas() {
        let path = delta_path(&d);
        let mark = match d.status() {
            git2::Delta::Added => {
                counts.added += 1;
                "A"
            }
            git2::Delta::Deleted => {
                counts.deleted += 1;
                "D"
            }
            _ => {
                counts.modified += 1;
                "M"
            }
        };
        lines.push(format!("{mark} {path}"));
    }
    let problems = problems_of(fr, &scan, old_tree.as_ref(), &tree, &diff)?;
    if !problems.is_empty() {
        return Err(GitError::Unmanageable { problems });
    }
    let changes: Vec<Change> = lines
        .iter()
        .map(|l| Change {
            mark: l.chars().next().unwrap_or('M'),
            path: l[2..].to_string(),
        })
        .collect();
    let sig = signature(repo, opts)?;
    // As git commit --author: the author is who is named, the committer who commits (git
    // config's identity), or the author when git config has none.
    let committer = repo.signature().unwrap_or_else(|_| sig.clone());
    let mut message = compose(fr, fabric, what, &changes, opts.message.as_deref());
    if opts.signoff {
        message = super::message::sign_off(&message, &committer);
    }
    // Refused before the index is written: fgd never commits unsigned where git would sign.
    let signing = super::sign::signing(repo)?;
    let branch_ref = format!("refs/heads/{}", fr.branch);
    let parents: Vec<&git2::Commit> = head.iter().collect();
    // The index first, then the branch: a run killed between the two leaves the change
    // staged against the old HEAD (the next push commits it), never a moved branch over an
    // index that would take the change back.
    index.write().map_err(local("write index"))?;
    // Client hooks, as git commit runs them: pre-commit sees the index just written (a refusal
    // leaves the change staged, as a run killed here would: the next push commits it), then
    // commit-msg may rewrite the message (fgd's trailer is kept).
    let message = if opts.no_verify {
        message
    } else {
        super::hooks::run(repo, "pre-commit", &[], b"")?;
        let edited = super::hooks::commit_msg(repo, &message)?;
        if edited.contains(&format!("{FABRIC_TRAILER}: ")) {
            edited
        } else {
            format!(
                "{}\n\n{FABRIC_TRAILER}: {}\n",
                edited.trim_end(),
                trailer_value(&fr.prefix)
            )
        }
    };
    store::failpoint(FAILPOINT_BEFORE_COMMIT);
    let oid = super::sign::create_commit(
        repo,
        signing.as_ref(),
        Some(&branch_ref),
        &sig,
        &committer,
        &message,
        &tree,
        &parents,
    )?;
    counts.commit = oid.to_string();
    sink.emit(Event::GitCommitted {
        commit: counts.commit.clone(),
        summary: message.lines().next().unwrap_or_default().to_string(),
        added: counts.added,
        modified: counts.modified,
        deleted: counts.deleted,
    });
    Ok(Some(counts))
}

/// The index is written with the commit's tree, the branch not yet moved to the commit.
pub const FAILPOINT_BEFORE_COMMIT: &str = "git.before-commit";
