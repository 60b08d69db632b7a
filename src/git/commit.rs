//! The commit of the fabric's files onto the checked-out branch.

use git2::Oid;
use serde::Serialize;

use super::diff::{delta_path, fabric_tree};
use super::error::{local, GitError, Result};
use super::integrate::{trailer_value, FABRIC_TRAILER};
use super::message::{compose, Change};
use super::options::{signature, GitOptions};
use super::scan::scan_fabric;
use super::scope::{tracked_fabric_paths, FabricRepo};
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
    let tracked = tracked_fabric_paths(fr, head_tree.as_ref(), &index);
    let scan = scan_fabric(fr, fabric, head_tree.as_ref(), &tracked, &index, sink)?;
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
    // HEAD's tree with the fabric's part replaced: nothing else of the index goes in.
    let (scratch, tree_id) = fabric_tree(fr, head_tree.as_ref(), &scan)?;
    // The index's fabric part becomes the tree's (with the stat data just read), so git
    // status agrees with HEAD and the disk once the commit is made.
    // Only the paths that went are removed, the others replaced in place: libgit2 removes an
    // entry by shifting every entry after it, so clearing the whole fabric's part first was
    // quadratic in its size (seconds at 10^5 files, even with nothing to commit).
    let before = fabric_entries(fr, &index);
    let now: std::collections::HashSet<Vec<u8>> = scratch
        .iter()
        .filter(|e| fr.holds(&e.path))
        .map(|e| e.path)
        .collect();
    for (path, _, _) in before.iter().filter(|(p, _, _)| !now.contains(p)) {
        use std::os::unix::ffi::OsStrExt;
        let path = std::path::Path::new(std::ffi::OsStr::from_bytes(path));
        index.remove_path(path).map_err(local("update index"))?;
    }
    for e in scratch.iter() {
        if fr.holds(&e.path) {
            index.add(&e).map_err(local("update index"))?;
        }
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
    let diff = repo
        .diff_tree_to_tree(old_tree.as_ref(), Some(&tree), None)
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
