//! Integration with a remote that moved on: fast-forward, or replay our commits on its tip in
//! memory, conflicts named.

use std::path::Path;

use git2::Oid;

use super::diff::delta_path;
use super::error::{first_ten, local, GitError, Result};
use super::integrate::last_change;
use super::resolve::{self, Ours, PathConflict, Side};
use super::scope::FabricRepo;
use super::GitPhase;
use crate::event::{Event, Sink};
use crate::fabric::{self, Fabric};

/// Replay `ours` (fgd's own commits, oldest first, vetted by `integrate`) on `upstream`, in
/// memory. Commits the remote already has identically become empty and are dropped. A path
/// both sides changed is a conflict, unless `fgd resolve` chose a side for that very change.
pub(crate) fn replay(
    fr: &FabricRepo,
    fabric: &Fabric,
    ours: &[Oid],
    upstream: Oid,
    url: &str,
    sink: &mut dyn Sink,
) -> Result<Oid> {
    let repo = &fr.repo;
    sink.emit(Event::GitPhaseStarted {
        phase: GitPhase::Rebase,
        detail: format!("replaying local commits on {upstream}"),
    });
    let mut onto = repo.find_commit(upstream).map_err(local("read commit"))?;
    // As git rebase: the committer is who replays, from git config; without one (the author
    // came from --author), the identity that made the commit.
    let committer = repo.signature().ok();
    let record = resolve::load(fabric);
    let signing = super::sign::signing(repo)?;
    for &oid in ours {
        let c = repo.find_commit(oid).map_err(local("read commit"))?;
        let parent = c.parent_id(0).ok();
        let mut idx = repo
            .cherrypick_commit(&c, &onto, 0, None)
            .map_err(local("replay"))?;
        // The same file changed differently on both sides is the operator's to resolve, even
        // where git's text merge would succeed: for a managed object that would push an object
        // neither side wrote or validated.
        let mut both = changed_on_both_sides(fr, &c, &onto)?;
        let mut chose = false;
        let mut open = Vec::new();
        for path in both.drain(..) {
            let theirs = last_change(fr, onto.id(), parent, &path);
            let commit = theirs.as_ref().map(|t| t.0.to_string());
            match resolve::chosen(record.as_ref(), &path, commit.as_deref()) {
                Some(side) => {
                    let tree = match side {
                        Side::Ours => c.tree(),
                        Side::Theirs => onto.tree(),
                    }
                    .map_err(local("replay"))?;
                    take_from(&mut idx, &path, &tree)?;
                    chose = true;
                }
                None => open.push(PathConflict {
                    object: object_of_path(&path),
                    path,
                    remote_commit: commit,
                    author: theirs.map(|t| t.1),
                    ours: Ours::Commit(oid.to_string()),
                }),
            }
        }
        if idx.has_conflicts() {
            for path in resolve_generated(fr, &mut idx)? {
                if open.iter().any(|o| o.path == path) {
                    continue;
                }
                let theirs = last_change(fr, onto.id(), parent, &path);
                open.push(PathConflict {
                    object: object_of_path(&path),
                    path,
                    remote_commit: theirs.as_ref().map(|t| t.0.to_string()),
                    author: theirs.map(|t| t.1),
                    ours: Ours::Commit(oid.to_string()),
                });
            }
        }
        if !open.is_empty() {
            open.sort_by(|a, b| a.path.cmp(&b.path));
            return Err(GitError::Conflict {
                fabric: fr.fabric_dir(),
                url: url.to_string(),
                conflicts: open,
            });
        }
        if chose {
            // A side taken for an object file: the kustomization follows the files.
            write_kustomization(fr, &mut idx)?;
        }
        let tree_id = idx.write_tree_to(repo).map_err(local("replay"))?;
        if tree_id == onto.tree_id() {
            continue; // the remote already has exactly this change
        }
        let tree = repo.find_tree(tree_id).map_err(local("replay"))?;
        // Signed again, as git rebase signs what it rewrites when commit.gpgsign is on.
        let new = super::sign::create_commit(
            repo,
            signing.as_ref(),
            None,
            &c.author(),
            committer.as_ref().unwrap_or(&c.committer()),
            c.message().unwrap_or(""),
            &tree,
            &[&onto],
        )?;
        onto = repo.find_commit(new).map_err(local("replay"))?;
    }
    Ok(onto.id())
}

/// Set `path` in `idx` to what `tree` holds there (removed if it holds nothing), its conflict
/// stages dropped.
fn take_from(idx: &mut git2::Index, path: &str, tree: &git2::Tree) -> Result<()> {
    let p = Path::new(path);
    // Not every path taken is in conflict (git's text merge may have succeeded).
    let _ = idx.conflict_remove(p);
    match tree.get_path(p) {
        Ok(e) => idx
            .add(&git2::IndexEntry {
                ctime: git2::IndexTime::new(0, 0),
                mtime: git2::IndexTime::new(0, 0),
                dev: 0,
                ino: 0,
                mode: e.filemode() as u32,
                uid: 0,
                gid: 0,
                file_size: 0,
                id: e.id(),
                flags: 0,
                flags_extended: 0,
                path: path.as_bytes().to_vec(),
            })
            .map_err(local("replay")),
        Err(_) => {
            let _ = idx.remove_path(p);
            Ok(())
        }
    }
}

/// The kustomization ingest writes for `idx`'s managed object files, written into `idx`.
fn write_kustomization(fr: &FabricRepo, idx: &mut git2::Index) -> Result<()> {
    let path = fr.rel(fabric::KUSTOMIZATION);
    let content = kustomization_for(fr, idx);
    let _ = idx.conflict_remove(Path::new(&path));
    let id = fr.repo.blob(&content).map_err(local("replay"))?;
    idx.add(&git2::IndexEntry {
        ctime: git2::IndexTime::new(0, 0),
        mtime: git2::IndexTime::new(0, 0),
        dev: 0,
        ino: 0,
        mode: 0o100644,
        uid: 0,
        gid: 0,
        file_size: content.len() as u32,
        id,
        flags: 0,
        flags_extended: 0,
        path: path.into_bytes(),
    })
    .map_err(local("replay"))
}

/// The kustomization for the managed object files of `idx` (its merged entries).
fn kustomization_for(fr: &FabricRepo, idx: &git2::Index) -> Vec<u8> {
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
            kustomization_for(fr, idx)
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
