//! Path scoping: the fabric inside its working copy, and which repository paths are the
//! fabric's own (the only ones fgd commits).

use std::path::Path;

use git2::{ErrorCode, Oid, Repository};

use super::error::{local, GitError, Result};
use super::options::GitOptions;
use super::transport;
use crate::fabric::{self, Fabric};
use crate::store;

/// A fabric inside its git working copy.
pub struct FabricRepo {
    pub repo: Repository,
    /// The fabric's path relative to the working copy root, `/`-separated ("" at the root).
    pub prefix: String,
    pub branch: String,
    pub remote: String,
    /// The branch on the remote that fgd fetches, integrates with and pushes to: the local
    /// branch's name, or its upstream (`branch.<b>.merge`) where `push.default` pushes there.
    pub upstream: String,
}

/// What HEAD is checked out as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Checkout {
    /// A branch (possibly unborn: no commit yet): what fgd commits onto and pushes.
    Branch(String),
    /// HEAD points at a commit, not a branch.
    Detached(Oid),
}

pub(crate) fn short(id: Oid) -> String {
    id.to_string()[..10].to_string()
}

impl FabricRepo {
    /// The fabric's repository, for committing and pushing: the checked-out branch is the one
    /// fgd commits onto and pushes. `--branch` is a check, never a redirection: a name other than
    /// the checked-out branch (or a detached HEAD) is refused before anything is done, since the
    /// commit would go to one branch and the push to another.
    pub fn open(fabric: &Fabric, opts: &GitOptions) -> Result<FabricRepo> {
        let (mut fr, checkout) = FabricRepo::inspect(fabric, opts)?;
        // Before the branch question: mid-rebase HEAD is detached, and "check a branch out"
        // would be the wrong advice.
        if let Some(op) = super::state::operation_in_progress(&fr.repo) {
            return Err(GitError::InProgress(op));
        }
        fr.branch = match (checkout, &opts.branch) {
            (Checkout::Branch(b), None) => b,
            (Checkout::Branch(b), Some(want)) if *want == b => b,
            (Checkout::Branch(b), Some(want)) => {
                return Err(GitError::Usage(format!(
                    "--branch {want}: the working copy has branch {b} checked out, and fgd commits onto the checked-out branch and pushes that one; check out {want} first (git checkout {want}), or leave --branch out to push {b}"
                )))
            }
            (Checkout::Detached(id), None) => {
                return Err(GitError::Setup(format!(
                    "HEAD is detached (at {}): fgd commits onto the checked-out branch and pushes that one; check a branch out first (git checkout <branch>)",
                    short(id)
                )))
            }
            (Checkout::Detached(id), Some(want)) => {
                return Err(GitError::Usage(format!(
                    "--branch {want}: HEAD is detached (at {}), and fgd commits onto the checked-out branch, never beside it; check out {want} first (git checkout {want})",
                    short(id)
                )))
            }
        };
        fr.upstream = fr.push_target()?;
        Ok(fr)
    }

    /// The remote branch a push of the checked-out branch goes to, as git decides it: the
    /// same name, unless `branch.<b>.merge` names another one; then `push.default` `upstream`
    /// (or `tracking`) pushes there, `current` to the same name, and `simple` (git's default)
    /// refuses, as git push does, rather than create a branch beside the upstream.
    fn push_target(&self) -> Result<String> {
        let cfg = self.repo.config().map_err(local("read config"))?;
        let merge = cfg
            .get_string(&format!("branch.{}.merge", self.branch))
            .ok()
            .and_then(|m| m.strip_prefix("refs/heads/").map(str::to_string));
        let tracked_remote = cfg
            .get_string(&format!("branch.{}.remote", self.branch))
            .unwrap_or_else(|_| self.remote.clone());
        let Some(merge) = merge.filter(|m| *m != self.branch && tracked_remote == self.remote)
        else {
            return Ok(self.branch.clone());
        };
        let mode = cfg
            .get_string("push.default")
            .unwrap_or_else(|_| "simple".into());
        match mode.as_str() {
            "upstream" | "tracking" => Ok(merge),
            "current" => Ok(self.branch.clone()),
            _ => Err(GitError::Setup(format!(
                "the upstream branch of {b} is {remote}/{merge} (branch.{b}.merge), which does not match its name, and push.default is {mode}: git push refuses this too. To push to {merge}, set git config push.default upstream; to push to a branch {b} on {remote}, set branch.{b}.merge to refs/heads/{b} (git branch --set-upstream-to {remote}/{b} once it exists, or git config push.default current)",
                b = self.branch,
                remote = self.remote
            ))),
        }
    }

    /// The fabric's repository and what HEAD is, for reading (status, the dry run): a detached
    /// HEAD is fine here. `branch` is empty when HEAD is detached.
    pub fn inspect(fabric: &Fabric, opts: &GitOptions) -> Result<(FabricRepo, Checkout)> {
        // libgit2 hashes every object it reads again to check its id (sha1dc, a third of a
        // one-file sync's instructions at 10^4 documents, most of it on the big trees and
        // `.hnp/log.jsonl`); git itself does not (objects are checked where they come in:
        // fetch's indexer, and `git fsck`).
        git2::opts::strict_hash_verification(false);
        let repo = Repository::discover(&fabric.root).map_err(|_| {
            GitError::Setup(format!(
                "{} is not inside a git working copy (git init, or clone the fabric's repository)",
                fabric.root.display()
            ))
        })?;
        let workdir = repo.workdir().ok_or_else(|| {
            GitError::Setup("the repository is bare: fgd needs a working copy".into())
        })?;
        let workdir = std::fs::canonicalize(workdir)
            .map_err(|e| GitError::Setup(format!("{}: {e}", workdir.display())))?;
        let prefix = fabric
            .root
            .strip_prefix(&workdir)
            .map_err(|_| GitError::Setup("the fabric is outside the working copy".into()))?;
        let prefix = prefix.to_string_lossy().replace('\\', "/");
        let checkout = current_checkout(&repo)?;
        let branch = match &checkout {
            Checkout::Branch(b) => b.clone(),
            Checkout::Detached(_) => String::new(),
        };
        let remote = match &opts.remote {
            Some(r) => r.clone(),
            None => repo
                .config()
                .and_then(|c| c.get_string(&format!("branch.{branch}.remote")))
                .unwrap_or_else(|_| "origin".into()),
        };
        let upstream = branch.clone();
        let mut fr = FabricRepo {
            repo,
            prefix,
            branch,
            remote,
            upstream,
        };
        // For reading: where a push would go, or the same name where it would be refused.
        if let Ok(u) = fr.push_target() {
            fr.upstream = u;
        }
        Ok((fr, checkout))
    }

    /// Is `path` (relative to the working copy) one of the fabric's own paths? Only those are
    /// fgd's to commit: at the repository's root everything else is the operator's other work.
    pub(crate) fn is_fabric_path(&self, path: &[u8]) -> bool {
        let Ok(path) = std::str::from_utf8(path) else {
            return false;
        };
        let inner = if self.prefix.is_empty() {
            path
        } else {
            match path
                .strip_prefix(self.prefix.as_str())
                .and_then(|r| r.strip_prefix('/'))
            {
                Some(inner) => inner,
                None => return false,
            }
        };
        is_fabric_inner(inner)
    }

    /// Is `path` (relative to the working copy, as bytes: a name need not be UTF-8) inside one
    /// of the fabric's own paths? What the index's fabric part is, for replacing it.
    pub(crate) fn holds(&self, path: &[u8]) -> bool {
        let inner = if self.prefix.is_empty() {
            path
        } else {
            match path
                .strip_prefix(self.prefix.as_bytes())
                .and_then(|r| r.strip_prefix(b"/"))
            {
                Some(inner) => inner,
                None => return false,
            }
        };
        FABRIC_PATHS.iter().any(|top| {
            inner == top.as_bytes()
                || inner
                    .strip_prefix(top.as_bytes())
                    .is_some_and(|rest| rest.starts_with(b"/"))
        })
    }

    /// An in-memory index of `tree` without the fabric's own paths (and nothing else). Built
    /// by adding what stays, in order, rather than by removing the fabric's entries: libgit2
    /// removes an index entry by shifting every entry after it, so removing a fabric of 10^5
    /// files took seconds (quadratic), in every commit, diff and no-op sync.
    pub(crate) fn tree_without_fabric(
        &self,
        tree: Option<&git2::Tree>,
    ) -> std::result::Result<git2::Index, git2::Error> {
        let mut kept = git2::Index::new()?;
        if let Some(t) = tree {
            let mut full = git2::Index::new()?;
            full.read_tree(t)?;
            for e in full.iter().filter(|e| !self.holds(&e.path)) {
                kept.add(&e)?;
            }
        }
        Ok(kept)
    }

    /// Before any work: the remote exists, and is not a local repository whose hooks a push
    /// would bypass.
    pub(crate) fn refuse_bypassed_hooks(&self) -> Result<()> {
        let url = self.push_url()?;
        let base = self.repo.workdir().unwrap_or_else(|| self.repo.path());
        transport::refuse_local_hooks(&url, base)
    }

    /// Where pushes go: `remote.<name>.pushurl` when set, else the fetch URL (as git). Every
    /// push-side decision and message uses it: host keys, credentials, the hook guard.
    pub fn push_url(&self) -> Result<String> {
        let url = self.remote_url()?;
        Ok(self
            .repo
            .find_remote(&self.remote)
            .ok()
            .and_then(|r| r.pushurl().ok().flatten().map(str::to_string))
            .filter(|u| !u.is_empty())
            .unwrap_or(url))
    }

    pub fn remote_url(&self) -> Result<String> {
        let r = self.repo.find_remote(&self.remote).map_err(|_| {
            GitError::Setup(format!(
                "no remote {:?} (git remote add {} <url>, or pass --remote)",
                self.remote, self.remote
            ))
        })?;
        Ok(r.url().unwrap_or_default().to_string())
    }

    pub(crate) fn head(&self) -> Option<git2::Commit<'_>> {
        self.repo.head().ok().and_then(|h| h.peel_to_commit().ok())
    }

    /// A repository path's part inside the fabric (the inverse of `rel`).
    pub(crate) fn inner<'a>(&self, path: &'a str) -> &'a str {
        if self.prefix.is_empty() {
            return path;
        }
        path.strip_prefix(self.prefix.as_str())
            .and_then(|r| r.strip_prefix('/'))
            .unwrap_or(path)
    }

    /// The fabric's directory, for the commands a message names.
    pub(crate) fn fabric_dir(&self) -> String {
        let root = self.repo.workdir().unwrap_or_else(|| self.repo.path());
        root.join(&self.prefix).display().to_string()
    }

    pub(crate) fn rel(&self, inner: &str) -> String {
        if self.prefix.is_empty() {
            inner.to_string()
        } else {
            format!("{}/{inner}", self.prefix)
        }
    }
}

pub(crate) fn current_checkout(repo: &Repository) -> Result<Checkout> {
    match repo.head() {
        Ok(h) if h.is_branch() => Ok(Checkout::Branch(
            h.shorthand().unwrap_or("main").to_string(),
        )),
        Ok(h) => match h.target() {
            Some(id) => Ok(Checkout::Detached(id)),
            None => Err(GitError::Setup(
                "HEAD points at nothing fgd can read".into(),
            )),
        },
        Err(e) if e.code() == ErrorCode::UnbornBranch => {
            let head = repo.find_reference("HEAD").map_err(local("read HEAD"))?;
            let target = head
                .symbolic_target()
                .ok()
                .flatten()
                .unwrap_or("refs/heads/main");
            Ok(Checkout::Branch(
                target.trim_start_matches("refs/heads/").to_string(),
            ))
        }
        Err(e) => Err(GitError::local("read HEAD", e)),
    }
}

/// The fabric's own paths, relative to its directory: what fgd commits, and all it commits.
pub(crate) const FABRIC_PATHS: [&str; 5] = [
    fabric::RAW,
    fabric::MANAGED,
    fabric::UNMANAGED,
    fabric::HNP,
    fabric::SOURCEIGNORE,
];

/// Is `inner` (relative to the fabric directory) one of the fabric's own paths?
pub(crate) fn is_fabric_inner(inner: &str) -> bool {
    FABRIC_PATHS.iter().any(|top| {
        inner == *top
            || inner
                .strip_prefix(top)
                .is_some_and(|rest| rest.starts_with('/'))
    })
}

/// Files fgd keeps out of git: the lock, a running journal, machine-local state, temps.
pub(crate) fn volatile(inner: &str) -> bool {
    inner == fabric::LOCK
        || inner == fabric::JOURNAL
        || inner.starts_with(".hnp/local/")
        || inner.rsplit('/').next().is_some_and(|n| n.starts_with(store::TEMP_PREFIX))
        // Where an unfinished batch's cleanup puts an original while it checks it (a folder
        // of that name): dropped or put back by the recovery push and sync run first.
        || inner
            .split('/')
            .any(|part| part.starts_with(crate::journal::ASIDE_PREFIX))
}

/// HEAD's entries under the fabric's own paths (path relative to the working copy, mode,
/// blob), sorted by path bytes as the index sorts them: one walk of HEAD's tree, shared by
/// the scan's "tracked" test and the commit's "nothing changed" test.
pub(crate) fn head_fabric_entries(
    fr: &FabricRepo,
    head_tree: Option<&git2::Tree>,
) -> Vec<(Vec<u8>, u32, Oid)> {
    let mut out = Vec::new();
    let Some(tree) = head_tree else {
        return out;
    };
    for top in FABRIC_PATHS {
        let rel = fr.rel(top);
        let Ok(entry) = tree.get_path(Path::new(&rel)) else {
            continue;
        };
        match entry.kind() {
            Some(git2::ObjectType::Tree) => {
                if let Ok(sub) = fr.repo.find_tree(entry.id()) {
                    let _ = sub.walk(git2::TreeWalkMode::PreOrder, |root, e| {
                        if e.kind() != Some(git2::ObjectType::Tree) {
                            let mut p = Vec::with_capacity(rel.len() + root.len() + 32);
                            p.extend_from_slice(rel.as_bytes());
                            p.push(b'/');
                            p.extend_from_slice(root.as_bytes());
                            p.extend_from_slice(e.name_bytes());
                            out.push((p, e.filemode() as u32, e.id()));
                        }
                        git2::TreeWalkResult::Ok
                    });
                }
            }
            _ => out.push((rel.into_bytes(), entry.filemode() as u32, entry.id())),
        }
    }
    out.sort();
    out
}

/// The fabric's paths git already tracks (in HEAD's tree, as `head_fabric_entries` lists
/// them, or in the index, as `commit::index_fabric` does): these stay tracked whatever a
/// .gitignore says, as with git itself. Borrowed from those lists: nothing is copied per path.
pub(crate) struct Tracked<'a> {
    paths: std::collections::HashSet<&'a [u8]>,
}

impl<'a> Tracked<'a> {
    pub(crate) fn new(head: &'a [(Vec<u8>, u32, Oid)], index: &'a [git2::IndexEntry]) -> Self {
        let mut paths = std::collections::HashSet::with_capacity(head.len().max(index.len()));
        paths.extend(head.iter().map(|(p, _, _)| p.as_slice()));
        paths.extend(index.iter().map(|e| e.path.as_slice()));
        Tracked { paths }
    }

    /// Whether `rel` (relative to the working copy) is tracked.
    pub(crate) fn contains(&self, rel: &[u8]) -> bool {
        self.paths.contains(rel)
    }
}
