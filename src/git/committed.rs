//! The fabric as a commit holds it, for the update and delete rules (RULES.md §7): the cluster
//! compares an update with the object it has, and refuses to delete an object others still
//! reference, so a change is judged against what was applied. The closest thing to that in git
//! is HEAD for `validate` and `ingest` (what the operator last committed), and the
//! remote-tracking branch for the push-time check (what was last published, which Argo CD or
//! Flux applied; HEAD then already holds the commit being pushed).
//!
//! Only what differs is read: the baseline's version of each file the change touched, not the
//! whole tree.

use std::fmt;
use std::path::Path;

use git2::{Delta, DiffOptions, FileMode, Oid};

use super::integrate::tracking_tip;
use super::options::GitOptions;
use super::scope::FabricRepo;
use crate::fabric::Fabric;

/// Which commit the change is judged against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BaselineRef {
    /// HEAD, compared with the working copy (index and work tree).
    Head,
    /// The remote-tracking branch the checked-out branch pushes to, compared with HEAD.
    Published,
}

/// Why there is nothing to compare with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NoBaseline {
    /// The fabric is not inside a git working copy.
    NotInGit,
    /// The repository has no commit yet.
    NoCommit,
    /// The branch was never pushed (or never fetched): the remote has nothing of it.
    NotPublished,
    /// Git could not be read.
    Unreadable(String),
}

impl fmt::Display for NoBaseline {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NoBaseline::NotInGit => write!(f, "the fabric is not in a git repository"),
            NoBaseline::NoCommit => write!(f, "the repository has no commit yet"),
            NoBaseline::NotPublished => write!(f, "the branch was never pushed"),
            NoBaseline::Unreadable(why) => write!(f, "git cannot be read: {why}"),
        }
    }
}

/// A baseline commit of the fabric's repository.
pub struct Baseline {
    fr: FabricRepo,
    which: BaselineRef,
    tree: Oid,
    /// How messages name the baseline: `HEAD`, `origin/main`.
    pub rev: String,
}

/// One file of the fabric that the change touched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Touched {
    /// Relative to the fabric, `/`-separated: `managed/vpcs/web.yaml`.
    pub path: String,
    /// The baseline's bytes; None when the baseline has no such regular file (the change
    /// added it).
    pub before: Option<Vec<u8>>,
}

impl Baseline {
    /// The baseline of the fabric at `root`. Cheap: no tree is read.
    pub fn open(root: &Path, which: BaselineRef) -> Result<Baseline, NoBaseline> {
        let root =
            std::fs::canonicalize(root).map_err(|e| NoBaseline::Unreadable(e.to_string()))?;
        if git2::Repository::discover(&root).is_err() {
            return Err(NoBaseline::NotInGit);
        }
        let fabric = Fabric { root };
        let (fr, _) = FabricRepo::inspect(&fabric, &GitOptions::default())
            .map_err(|e| NoBaseline::Unreadable(e.to_string()))?;
        let (tree, rev) = {
            let head = fr.head().ok_or(NoBaseline::NoCommit)?;
            match which {
                BaselineRef::Head => (head.tree_id(), "HEAD".to_string()),
                BaselineRef::Published => {
                    let id = tracking_tip(&fr).ok_or(NoBaseline::NotPublished)?;
                    let c = fr
                        .repo
                        .find_commit(id)
                        .map_err(|e| NoBaseline::Unreadable(e.message().to_string()))?;
                    (c.tree_id(), format!("{}/{}", fr.remote, fr.upstream))
                }
            }
        };
        Ok(Baseline {
            fr,
            which,
            tree,
            rev,
        })
    }

    /// The files under `under` (relative to the fabric, e.g. `managed`) that differ between
    /// the baseline and the change (the working copy for `Head`, HEAD for `Published`),
    /// sorted by path. Only regular files: a symlink's blob is its target, not a file's bytes.
    pub fn touched(&self, under: &str) -> Result<Vec<Touched>, NoBaseline> {
        let unreadable = |e: git2::Error| NoBaseline::Unreadable(e.message().to_string());
        let repo = &self.fr.repo;
        let base = repo.find_tree(self.tree).map_err(unreadable)?;
        let mut opts = DiffOptions::new();
        opts.pathspec(self.fr.rel(under.trim_end_matches('/')))
            .disable_pathspec_match(true)
            .ignore_submodules(true);
        let diff = match self.which {
            BaselineRef::Head => {
                // New files matter too (they are not in the baseline), ignored ones included.
                opts.include_untracked(true)
                    .recurse_untracked_dirs(true)
                    .include_ignored(true)
                    .recurse_ignored_dirs(true);
                repo.diff_tree_to_workdir_with_index(Some(&base), Some(&mut opts))
            }
            BaselineRef::Published => {
                let head = self
                    .fr
                    .head()
                    .and_then(|c| c.tree().ok())
                    .ok_or(NoBaseline::NoCommit)?;
                repo.diff_tree_to_tree(Some(&base), Some(&head), Some(&mut opts))
            }
        }
        .map_err(unreadable)?;
        let mut out = Vec::new();
        for d in diff.deltas() {
            if d.status() == Delta::Unmodified {
                continue;
            }
            let (old, new) = (d.old_file(), d.new_file());
            let Some(path) = new.path().or_else(|| old.path()) else {
                continue;
            };
            let Some(path) = path.to_str() else {
                // Not a name fgd ever writes under managed/; nothing of it is an object.
                continue;
            };
            let regular = |m: FileMode| matches!(m, FileMode::Blob | FileMode::BlobExecutable);
            let before = if regular(old.mode()) && !old.id().is_zero() {
                Some(
                    repo.find_blob(old.id())
                        .map_err(unreadable)?
                        .content()
                        .to_vec(),
                )
            } else {
                None
            };
            out.push(Touched {
                path: self.fr.inner(path).to_string(),
                before,
            });
        }
        out.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(out)
    }

    /// The baseline of the fabric at `root` as its HEAD holds it, for the update and delete
    /// rules of modules that do not read git themselves (`validate::change::OpenBaseline`).
    pub fn open_head(root: &Path) -> Result<Box<dyn crate::validate::change::Baseline>, String> {
        match Baseline::open(root, BaselineRef::Head) {
            Ok(b) => Ok(Box::new(b)),
            Err(e) => Err(e.to_string()),
        }
    }

    /// The update and delete rules' view of this baseline (`validate::change::Before`): the
    /// baseline's version of each managed/ file the change touched, analysed by `v`; `shown`
    /// is how the analysis of managed/ names its folder.
    pub fn before(
        &self,
        shown: &str,
        limits: &crate::yaml::Limits,
        v: &crate::validate::Validator,
    ) -> Result<crate::validate::change::Before, NoBaseline> {
        let touched = self.touched(crate::fabric::MANAGED)?;
        Ok(crate::validate::change::Before::new(
            self.rev.clone(),
            touched.into_iter().map(|t| (t.path, t.before)).collect(),
            shown,
            limits,
            v,
        ))
    }
}

impl crate::validate::change::Baseline for Baseline {
    fn before(
        &self,
        shown: &str,
        limits: &crate::yaml::Limits,
        v: &crate::validate::Validator,
    ) -> Result<crate::validate::change::Before, String> {
        Baseline::before(self, shown, limits, v).map_err(|e| e.to_string())
    }
}
