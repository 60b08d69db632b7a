//! The git side of looking at a fabric: which managed files differ from HEAD (what a push
//! would send), the patch a push would commit, and what the remote holds after a push. Reads
//! only: nothing here writes to the repository or its index.

use std::collections::HashSet;
use std::path::Path;

use crate::fabric::{self, Fabric};

/// The fabric's files under `managed/` that differ from git's HEAD (changed or new), as
/// fabric-relative paths. None outside a git working copy.
pub fn changed_managed(fabric: &Fabric) -> Option<HashSet<String>> {
    let (repo, inside) = open(&fabric.root)?;
    let mut so = git2::StatusOptions::new();
    so.include_untracked(true)
        .recurse_untracked_dirs(true)
        .include_ignored(false)
        .pathspec(format!("{inside}{}/", fabric::MANAGED));
    let statuses = repo.statuses(Some(&mut so)).ok()?;
    Some(
        statuses
            .iter()
            .filter(|e| !e.status().contains(git2::Status::WT_DELETED))
            .filter_map(|e| {
                e.path()
                    .ok()
                    .and_then(|p| p.strip_prefix(&inside))
                    .map(str::to_string)
            })
            .collect(),
    )
}

/// The repository holding `root`, and the fabric's folder inside its working tree as a path
/// prefix ("" when the fabric is the root, else "dir/").
fn open(root: &Path) -> Option<(git2::Repository, String)> {
    let repo = git2::Repository::discover(root).ok()?;
    let workdir = std::fs::canonicalize(repo.workdir()?).ok()?;
    let prefix = std::fs::canonicalize(root)
        .ok()?
        .strip_prefix(&workdir)
        .ok()?
        .to_str()?
        .to_string();
    let inside = if prefix.is_empty() {
        String::new()
    } else {
        format!("{prefix}/")
    };
    Some((repo, inside))
}

/// What a push of the fabric would commit, as patch lines (at most `max_lines`).
pub fn push_preview(fabric: &Fabric, max_lines: usize) -> Result<Vec<String>, String> {
    crate::git::pending_diff(fabric, max_lines, &Default::default()).map_err(|e| e.to_string())
}

/// What the remote holds of the fabric, as this working copy last saw it (a push updates it):
/// the branch's last commits and the fabric's managed files there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteView {
    /// `origin/main`.
    pub branch: String,
    /// `abc1234 subject`, newest first.
    pub log: Vec<String>,
    /// The fabric's `managed/` files in the remote's tree, fabric-relative.
    pub managed: Vec<String>,
}

/// The remote-tracking branch of the checked-out branch: its log (up to `commits`) and the
/// fabric's managed files in its tree. None outside a git working copy or before any push.
pub fn remote_view(fabric: &Fabric, commits: usize) -> Option<RemoteView> {
    let (repo, inside) = open(&fabric.root)?;
    let head = repo.head().ok()?;
    let branch = head.shorthand().ok()?.to_string();
    let upstream = repo
        .find_branch(&branch, git2::BranchType::Local)
        .ok()
        .and_then(|b| b.upstream().ok())
        .and_then(|u| u.name().ok().flatten().map(str::to_string))
        .unwrap_or_else(|| format!("origin/{branch}"));
    let tip = repo
        .find_reference(&format!("refs/remotes/{upstream}"))
        .ok()?
        .peel_to_commit()
        .ok()?;
    let mut walk = repo.revwalk().ok()?;
    walk.push(tip.id()).ok()?;
    let log = walk
        .flatten()
        .take(commits)
        .filter_map(|id| {
            let c = repo.find_commit(id).ok()?;
            let short = id.to_string()[..7].to_string();
            Some(format!(
                "{short} {}",
                c.summary().ok().flatten().unwrap_or("")
            ))
        })
        .collect();
    let mut managed = Vec::new();
    let tree = tip.tree().ok()?;
    let dir = format!("{inside}{}", fabric::MANAGED);
    if let Ok(entry) = tree.get_path(Path::new(&dir)) {
        if let Ok(sub) = repo.find_tree(entry.id()) {
            let _ = sub.walk(git2::TreeWalkMode::PreOrder, |parent, e| {
                if e.kind() == Some(git2::ObjectType::Blob) {
                    if let Ok(name) = e.name() {
                        managed.push(format!("{}/{parent}{name}", fabric::MANAGED));
                    }
                }
                git2::TreeWalkResult::Ok
            });
        }
    }
    Some(RemoteView {
        branch: upstream,
        log,
        managed,
    })
}
