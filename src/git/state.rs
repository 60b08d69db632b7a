//! The fabric's git state for `status` and the dashboard, offline.

use serde::Serialize;

use super::options::GitOptions;
use super::push::{LastPush, LAST_PUSH};
use super::scan::read_regular;
use super::scope::{short, volatile, Checkout, FabricRepo, FABRIC_PATHS};
use crate::fabric::{self, Fabric};
use crate::journal;

#[derive(Debug, Clone, Serialize)]
pub struct GitState {
    /// The checked-out branch; "detached HEAD at <commit>" when `detached`.
    pub branch: String,
    /// HEAD is not on a branch: fgd will not push until one is checked out.
    pub detached: bool,
    pub remote: String,
    pub upstream: Option<String>,
    pub ahead: usize,
    pub behind: usize,
    /// Fabric paths that differ from HEAD (changed, new or deleted), as the disk is now.
    pub uncommitted: usize,
    /// The batch an interrupted run left unfinished, if any: push and sync finish it before
    /// they commit, so what they commit differs from `uncommitted`.
    pub unfinished: Option<String>,
    pub last_push: Option<LastPush>,
}

/// A path of raw/ (relative to the working copy) that is there but not a regular file: what
/// commits leave out, so it is not counted as uncommitted.
pub(crate) fn left_out_of_commits(fr: &FabricRepo, path: &str) -> bool {
    let inner = fr.inner(path);
    if !(inner == fabric::RAW || inner.starts_with("raw/")) {
        return false;
    }
    let Some(workdir) = fr.repo.workdir() else {
        return false;
    };
    std::fs::symlink_metadata(workdir.join(path)).is_ok_and(|m| !m.is_file())
}

/// Offline: compares with the last fetched remote-tracking ref. None outside a working copy; a
/// detached HEAD is reported as such (no branch, nothing ahead or behind).
pub fn git_state(fabric: &Fabric) -> Option<GitState> {
    let (fr, checkout) = FabricRepo::inspect(fabric, &GitOptions::default()).ok()?;
    let upstream_ref = format!("refs/remotes/{}/{}", fr.remote, fr.branch);
    let head = fr.head().map(|c| c.id());
    let (detached, branch, upstream) = match checkout {
        Checkout::Branch(b) => (false, b, fr.repo.refname_to_id(&upstream_ref).ok()),
        Checkout::Detached(id) => (true, format!("detached HEAD at {}", short(id)), None),
    };
    let (ahead, behind) = match (head, upstream) {
        (Some(h), Some(u)) => fr.repo.graph_ahead_behind(h, u).unwrap_or((0, 0)),
        (Some(_), None) if detached => (0, 0),
        (Some(_), None) => (
            fr.repo
                .revwalk()
                .ok()
                .map(|mut w| {
                    let _ = w.push_head();
                    w.count()
                })
                .unwrap_or(0),
            0,
        ),
        _ => (0, 0),
    };
    let mut so = git2::StatusOptions::new();
    so.include_untracked(true)
        .recurse_untracked_dirs(true)
        .include_ignored(false);
    for top in FABRIC_PATHS {
        so.pathspec(fr.rel(top));
    }
    let uncommitted = fr
        .repo
        .statuses(Some(&mut so))
        .map(|s| {
            s.iter()
                .filter(|e| {
                    fr.is_fabric_path(e.path_bytes())
                        && !volatile(fr.inner(e.path().unwrap_or_default()))
                        && !left_out_of_commits(&fr, e.path().unwrap_or_default())
                })
                .count()
        })
        .unwrap_or(0);
    let last_push =
        read_regular(&fabric.path(LAST_PUSH)).and_then(|b| serde_json::from_slice(&b).ok());
    let unfinished = journal::load(fabric).ok().flatten().map(|j| j.batch);
    Some(GitState {
        unfinished,
        branch,
        detached,
        remote: fr.remote.clone(),
        upstream: upstream.map(|_| upstream_ref),
        ahead,
        behind,
        uncommitted,
        last_push,
    })
}
