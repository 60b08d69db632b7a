//! Integration with a remote that moved on: fast-forward, or replay our commits on its tip in
//! memory, conflicts named.

use std::path::Path;

use git2::Oid;

use super::diff::delta_path;
use super::error::{first_ten, local, GitError, Result};
use super::scope::FabricRepo;
use super::GitPhase;
use crate::event::{Event, Sink};
use crate::fabric;

/// Replay our commits (those not in `upstream`) on `upstream`, in memory. Commits the remote
/// already has identically become empty and are dropped.
pub(crate) fn replay(
    fr: &FabricRepo,
    local_tip: Oid,
    upstream: Oid,
    url: &str,
    sink: &mut dyn Sink,
) -> Result<Oid> {
    let repo = &fr.repo;
    sink.emit(Event::GitPhaseStarted {
        phase: GitPhase::Rebase,
        detail: format!("replaying local commits on {upstream}"),
    });
    let mut walk = repo.revwalk().map_err(local("walk"))?;
    walk.push(local_tip).map_err(local("walk"))?;
    walk.hide(upstream).map_err(local("walk"))?;
    walk.set_sorting(git2::Sort::TOPOLOGICAL | git2::Sort::REVERSE)
        .map_err(local("walk"))?;
    let mut onto = repo.find_commit(upstream).map_err(local("read commit"))?;
    // As git rebase: the committer is who replays, from git config; without one (the author
    // came from --author), the identity that made the commit.
    let committer = repo.signature().ok();
    for oid in walk {
        let oid = oid.map_err(local("walk"))?;
        let c = repo.find_commit(oid).map_err(local("read commit"))?;
        if c.parent_count() > 1 {
            return Err(GitError::Setup(format!(
                "local commit {oid} is a merge; fgd replays only linear history: push it with git"
            )));
        }
        let mut idx = repo
            .cherrypick_commit(&c, &onto, 0, None)
            .map_err(local("replay"))?;
        // The same file changed differently on both sides is the operator's to resolve, even
        // where git's text merge would succeed: for a managed object that would push an object
        // neither side wrote or validated.
        let mut both = changed_on_both_sides(fr, &c, &onto)?;
        if !both.is_empty() {
            if idx.has_conflicts() {
                both.extend(resolve_generated(fr, &mut idx)?);
            }
            both.sort();
            both.dedup();
            let objects = both.iter().filter_map(|p| object_of_path(p)).collect();
            return Err(GitError::Conflict {
                commit: oid.to_string(),
                url: url.to_string(),
                paths: both,
                objects,
            });
        }
        if idx.has_conflicts() {
            let paths = resolve_generated(fr, &mut idx)?;
            if !paths.is_empty() {
                let objects = paths.iter().filter_map(|p| object_of_path(p)).collect();
                return Err(GitError::Conflict {
                    commit: oid.to_string(),
                    url: url.to_string(),
                    paths,
                    objects,
                });
            }
        }
        let tree_id = idx.write_tree_to(repo).map_err(local("replay"))?;
        if tree_id == onto.tree_id() {
            continue; // the remote already has exactly this change
        }
        let tree = repo.find_tree(tree_id).map_err(local("replay"))?;
        let new = repo
            .commit(
                None,
                &c.author(),
                committer.as_ref().unwrap_or(&c.committer()),
                c.message().unwrap_or(""),
                &tree,
                &[&onto],
            )
            .map_err(local("replay"))?;
        onto = repo.find_commit(new).map_err(local("replay"))?;
    }
    Ok(onto.id())
}

/// Paths of `managed/` (the generated kustomization aside), `raw/` and `unmanaged/` that `ours`
/// changed against its parent and that `onto` also holds differently from both: both sides
/// changed the same file, differently. fgd's records in `.hnp/` are left to the merge (the log
/// is merged line by line, archives are per batch).
pub(crate) fn changed_on_both_sides(
    fr: &FabricRepo,
    ours: &git2::Commit,
    onto: &git2::Commit,
) -> Result<Vec<String>> {
    let repo = &fr.repo;
    let base_tree = match ours.parent(0) {
        Ok(p) => Some(p.tree().map_err(local("replay"))?),
        Err(_) => None,
    };
    let our_tree = ours.tree().map_err(local("replay"))?;
    let onto_tree = onto.tree().map_err(local("replay"))?;
    let diff = repo
        .diff_tree_to_tree(base_tree.as_ref(), Some(&our_tree), None)
        .map_err(local("replay"))?;
    let id_in = |tree: Option<&git2::Tree>, path: &str| {
        tree.and_then(|t| t.get_path(Path::new(path)).ok())
            .map(|e| (e.id(), e.filemode()))
    };
    let mut out = Vec::new();
    for d in diff.deltas() {
        let path = delta_path(&d);
        if !fr.is_fabric_path(path.as_bytes()) {
            continue;
        }
        let inner = fr.inner(&path);
        let operators = [fabric::MANAGED, fabric::RAW, fabric::UNMANAGED]
            .iter()
            .any(|top| inner.strip_prefix(top).is_some_and(|r| r.starts_with('/')));
        if !operators || inner == fabric::KUSTOMIZATION {
            continue;
        }
        let base = id_in(base_tree.as_ref(), &path);
        let mine = id_in(Some(&our_tree), &path);
        let theirs = id_in(Some(&onto_tree), &path);
        if theirs != base && theirs != mine {
            out.push(path);
        }
    }
    Ok(out)
}

/// Conflicts in files fgd generates are not the operator's: the kustomization is rebuilt from
/// the merged tree's object files, and the append-only log keeps both sides' records. Returns
/// the paths of the real conflicts left (none resolved then).
pub(crate) fn resolve_generated(fr: &FabricRepo, idx: &mut git2::Index) -> Result<Vec<String>> {
    let kustomization = fr.rel(fabric::KUSTOMIZATION);
    let log = fr.rel(fabric::LOG);
    let conflicts: Vec<git2::IndexConflict> = idx
        .conflicts()
        .map_err(local("replay"))?
        .filter_map(|c| c.ok())
        .collect();
    let path_of = |c: &git2::IndexConflict| {
        c.our
            .as_ref()
            .or(c.their.as_ref())
            .or(c.ancestor.as_ref())
            .map(|e| String::from_utf8_lossy(&e.path).into_owned())
            .unwrap_or_default()
    };
    let real: Vec<String> = conflicts
        .iter()
        .map(path_of)
        .filter(|p| *p != kustomization && *p != log)
        .collect();
    if !real.is_empty() {
        return Ok(real);
    }
    let blob = |e: &Option<git2::IndexEntry>| -> Vec<u8> {
        e.as_ref()
            .and_then(|e| fr.repo.find_blob(e.id).ok())
            .map(|b| b.content().to_vec())
            .unwrap_or_default()
    };
    for c in conflicts {
        let path = path_of(&c);
        let content = if path == log {
            // cherrypick: "our" is the remote's side, "their" the commit being replayed.
            let (base, ours, theirs) = (blob(&c.ancestor), blob(&c.our), blob(&c.their));
            let added = theirs.strip_prefix(base.as_slice()).unwrap_or(&theirs);
            let mut merged = ours.clone();
            for line in added.split_inclusive(|&b| b == b'\n') {
                if !ours.split_inclusive(|&b| b == b'\n').any(|l| l == line) {
                    merged.extend_from_slice(line);
                }
            }
            merged
        } else {
            let managed = format!("{}/", fr.rel(fabric::MANAGED));
            let mut files: Vec<String> = idx
                .iter()
                .filter(|e| (e.flags & 0x3000) == 0)
                .filter_map(|e| String::from_utf8(e.path).ok())
                .filter_map(|p| p.strip_prefix(&managed).map(str::to_string))
                .filter(|p| {
                    let mut parts = p.split('/');
                    match (parts.next(), parts.next(), parts.next()) {
                        (Some(plural), Some(file), None) => {
                            crate::classify::kinds::managed_plurals().any(|k| k == plural)
                                && file.ends_with(".yaml")
                                && !file.starts_with('.')
                        }
                        _ => false,
                    }
                })
                .collect();
            files.sort();
            fabric::kustomization::render(&files).into_bytes()
        };
        let Some(mut entry) = c.our.or(c.their) else {
            continue;
        };
        entry.flags &= !0x3000;
        idx.conflict_remove(std::path::Path::new(&path))
            .map_err(local("replay"))?;
        // The cherry-pick index lives in memory only: write the blob, then point the entry at it.
        entry.id = fr.repo.blob(&content).map_err(local("replay"))?;
        entry.file_size = content.len() as u32;
        idx.add(&entry).map_err(local("replay"))?;
    }
    Ok(Vec::new())
}

/// `managed/vpcs/vpc-1.yaml` -> `VPC/vpc-1`, for conflict messages.
pub(crate) fn object_of_path(path: &str) -> Option<String> {
    let mut parts = path.rsplit('/');
    let file = parts.next()?;
    let plural = parts.next()?;
    if parts.next() != Some("managed") {
        return None;
    }
    let kind = crate::classify::kinds::KINDS
        .iter()
        .find(|k| k.plural == plural)?;
    Some(format!("{}/{}", kind.kind, file.strip_suffix(".yaml")?))
}

/// Move the branch (and the working copy) to `target`, refusing to overwrite local edits.
pub(crate) fn advance_to(fr: &FabricRepo, target: Oid) -> Result<()> {
    let obj = fr
        .repo
        .find_object(target, None)
        .map_err(local("read commit"))?;
    // The files in the way are named: they are often another team's, outside the fabric.
    let blocking = std::cell::RefCell::new(Vec::new());
    let mut co = git2::build::CheckoutBuilder::new();
    co.safe();
    co.notify_on(git2::CheckoutNotificationType::CONFLICT);
    co.notify(|_, path, baseline, _, _| {
        if let Some(path) = path {
            let why = if baseline.is_none() {
                "untracked here, and the remote adds it"
            } else {
                "changed here and not committed"
            };
            blocking
                .borrow_mut()
                .push(format!("{} ({why})", path.display()));
        }
        true
    });
    let checked_out = fr.repo.checkout_tree(&obj, Some(&mut co));
    drop(co);
    checked_out.map_err(|e| {
        let blocking = blocking.take();
        let named = if blocking.is_empty() {
            String::new()
        } else {
            format!(":\n{}", first_ten(&blocking))
        };
        GitError::Setup(format!(
            "cannot update the working copy to {target}: {} (commit or stash local edits first){named}",
            e.message()
        ))
    })?;
    let refname = format!("refs/heads/{}", fr.branch);
    fr.repo
        .reference(&refname, target, true, "fgd: update to remote")
        .map_err(local("move branch"))?;
    if fr
        .repo
        .head()
        .map(|h| h.name().ok() != Some(refname.as_str()))
        .unwrap_or(true)
    {
        fr.repo.set_head(&refname).map_err(local("set HEAD"))?;
    }
    Ok(())
}

/// Bring the local branch onto `remote_tip`: fast-forward, or replay our commits on it.
pub(crate) fn integrate(
    fr: &FabricRepo,
    remote_tip: Option<Oid>,
    url: &str,
    sink: &mut dyn Sink,
) -> Result<&'static str> {
    let Some(remote_tip) = remote_tip else {
        return Ok("remote branch does not exist yet");
    };
    let local_tip = fr.head().map(|c| c.id());
    match local_tip {
        None => {
            advance_to(fr, remote_tip)?;
            Ok("checked out the remote branch")
        }
        Some(l) if l == remote_tip => Ok("up to date"),
        Some(l) if fr.repo.graph_descendant_of(l, remote_tip).unwrap_or(false) => {
            Ok("ahead of the remote")
        }
        Some(l) if fr.repo.graph_descendant_of(remote_tip, l).unwrap_or(false) => {
            advance_to(fr, remote_tip)?;
            Ok("fast-forwarded")
        }
        Some(l) => {
            let new_tip = replay(fr, l, remote_tip, url, sink)?;
            advance_to(fr, new_tip)?;
            Ok("replayed local commits on the remote")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn managed_paths_name_their_objects() {
        assert_eq!(
            object_of_path("fabs/dc1/managed/vpcs/vpc-1.yaml").as_deref(),
            Some("VPC/vpc-1")
        );
        assert_eq!(
            object_of_path("managed/switches/leaf-01.yaml").as_deref(),
            Some("Switch/leaf-01")
        );
        assert_eq!(object_of_path("raw/a.yaml"), None);
    }
}
