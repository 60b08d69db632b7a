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
    /// A git operation in progress (a merge, a rebase...): push and sync refuse until it ends.
    pub in_progress: Option<InProgress>,
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
    let upstream_ref = format!("refs/remotes/{}/{}", fr.remote, fr.upstream);
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
        in_progress: operation_in_progress(&fr.repo),
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

/// A git operation the operator started and has not finished: fgd refuses to commit, fetch or
/// push in the middle of one (a one-parent commit would drop a merge's second parent, stage-0
/// entries beside conflict stages break the index, a push would publish half a rebase).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum InProgress {
    Merge,
    CherryPick,
    Revert,
    /// `rebase-merge/` (git rebase, interactive or not).
    Rebase,
    /// `rebase-apply/` (git am, or an old-style rebase).
    RebaseApply,
    Bisect,
    /// The index holds conflict stages with no operation recorded (git checkout -m, stash pop,
    /// a merge whose MERGE_HEAD was removed by hand).
    Conflicts,
}

impl InProgress {
    /// What is in progress and how to finish or abort it, for the refusal.
    pub fn advice(self) -> &'static str {
        match self {
            InProgress::Merge => "a merge is in progress (.git/MERGE_HEAD): finish it (resolve the conflicts, git add, git commit) or abort it (git merge --abort)",
            InProgress::CherryPick => "a cherry-pick is in progress (.git/CHERRY_PICK_HEAD): finish it (git cherry-pick --continue) or abort it (git cherry-pick --abort)",
            InProgress::Revert => "a revert is in progress (.git/REVERT_HEAD): finish it (git revert --continue) or abort it (git revert --abort)",
            InProgress::Rebase => "a rebase is in progress (.git/rebase-merge/): finish it (git rebase --continue) or abort it (git rebase --abort)",
            InProgress::RebaseApply => "a rebase or git am is in progress (.git/rebase-apply/): finish it (git rebase --continue, git am --continue) or abort it (git rebase --abort, git am --abort)",
            InProgress::Bisect => "a bisect is in progress (.git/BISECT_LOG): end it (git bisect reset)",
            InProgress::Conflicts => "the index holds unresolved conflicts: resolve them (edit, git add) or drop them (git checkout -- <path>, git reset --merge)",
        }
    }
}

/// The git operation in progress in `repo`, if any (git's own markers, as `git status` reads
/// them, then conflict stages left in the index).
pub fn operation_in_progress(repo: &git2::Repository) -> Option<InProgress> {
    use git2::RepositoryState as S;
    let by_state = match repo.state() {
        S::Clean => None,
        S::Merge => Some(InProgress::Merge),
        S::Revert | S::RevertSequence => Some(InProgress::Revert),
        S::CherryPick | S::CherryPickSequence => Some(InProgress::CherryPick),
        S::Bisect => Some(InProgress::Bisect),
        S::Rebase | S::RebaseInteractive | S::RebaseMerge => Some(InProgress::Rebase),
        S::ApplyMailbox | S::ApplyMailboxOrRebase => Some(InProgress::RebaseApply),
    };
    by_state.or_else(|| {
        repo.index()
            .ok()
            .filter(|i| i.has_conflicts())
            .map(|_| InProgress::Conflicts)
    })
}
