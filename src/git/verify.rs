//! Checks before a commit or a push: what Argo CD and Flux would read must be what fgd writes.

use std::path::Path;

use super::diff::delta_path;
use super::error::{local, Result};
use super::scan::Scanned;
use super::scope::FabricRepo;
use crate::fabric;

/// Why the commit of `tree` (against `old`, as `diff`) must not be made, one line per path.
/// managed/ is what Argo CD and Flux apply, and one file they cannot read stops every object
/// of the fabric: a commit that adds or changes a managed file that is not the one object an
/// ingest would write at its path (a hand edit, a file copied in) is refused, naming each
/// file and line; and when it changes anything under managed/, the kustomization it commits
/// must be the one ingest writes for the object files it commits (a file deleted by hand, a
/// hand-edited kustomization, an object nothing lists would make kustomize fail or skip it).
pub(crate) fn problems_of(
    fr: &FabricRepo,
    scan: &Scanned,
    old: Option<&git2::Tree>,
    tree: &git2::Tree,
    diff: &git2::Diff,
) -> Result<Vec<String>> {
    let mut problems = scan.refusals();
    let mut touches_managed = false;
    for d in diff.deltas() {
        let path = delta_path(&d);
        let inner = fr.inner(&path);
        if !inner.starts_with("managed/") {
            continue;
        }
        touches_managed = true;
        if !matches!(
            d.status(),
            git2::Delta::Added | git2::Delta::Modified | git2::Delta::Renamed | git2::Delta::Copied
        ) || inner == fabric::KUSTOMIZATION
        {
            continue;
        }
        // The bytes the commit would hold, not the disk's (which may have changed since).
        let blob = fr
            .repo
            .find_blob(d.new_file().id())
            .map_err(local("read blob"))?;
        if let Some((why, line)) =
            crate::ingest::analyze::managed_problem(inner, blob.content().to_vec())
        {
            let at = line.map(|l| format!(":{l}")).unwrap_or_default();
            problems.push(format!(
                "{inner}{at}: {why}; fix it, or move it to raw/ (fgd ingest then files it, or says why not)"
            ));
        }
    }
    if touches_managed {
        problems.extend(kustomization_problems(fr, old, tree)?);
    }
    Ok(problems)
}

/// The object files of `tree`'s managed/ (relative to managed/, sorted), and its
/// kustomization's bytes if it has one.
pub(crate) fn managed_of(
    fr: &FabricRepo,
    tree: &git2::Tree,
) -> Result<(Vec<String>, Option<Vec<u8>>)> {
    let managed = fr.rel(fabric::MANAGED);
    let Ok(entry) = tree.get_path(Path::new(&managed)) else {
        return Ok((Vec::new(), None));
    };
    let sub = fr.repo.find_tree(entry.id()).map_err(local("read tree"))?;
    let mut files = Vec::new();
    sub.walk(git2::TreeWalkMode::PreOrder, |root, e| {
        if e.kind() == Some(git2::ObjectType::Blob) {
            if let Ok(name) = e.name() {
                let p = format!("{root}{name}");
                if fabric::kustomization::is_object_path(&p) {
                    files.push(p);
                }
            }
        }
        git2::TreeWalkResult::Ok
    })
    .map_err(local("read tree"))?;
    files.sort();
    let kust = match sub.get_name("kustomization.yaml") {
        Some(e) => Some(
            fr.repo
                .find_blob(e.id())
                .map_err(local("read blob"))?
                .content()
                .to_vec(),
        ),
        None => None,
    };
    Ok((files, kust))
}

/// Lines naming what makes `tree`'s managed/ differ from what ingest writes: the
/// kustomization must list exactly its object files, in fgd's own words.
pub(crate) fn kustomization_problems(
    fr: &FabricRepo,
    old: Option<&git2::Tree>,
    tree: &git2::Tree,
) -> Result<Vec<String>> {
    let (files, kust) = managed_of(fr, tree)?;
    let expected = fabric::kustomization::render(&files);
    if kust.as_deref() == Some(expected.as_bytes()) {
        return Ok(Vec::new());
    }
    let (old_files, _) = match old {
        Some(t) => managed_of(fr, t)?,
        None => (Vec::new(), None),
    };
    let k = fabric::KUSTOMIZATION;
    let Some(kust) = kust else {
        return Ok(vec![format!(
            "{k}: missing, and Argo CD or Flux build managed/ through it: fgd init <fabric> writes it again"
        )]);
    };
    let listed: Option<Vec<String>> = serde_yaml::from_slice::<serde_yaml::Value>(&kust)
        .ok()
        .and_then(|v| {
            v.get("resources")?
                .as_sequence()?
                .iter()
                .map(|r| r.as_str().map(str::to_string))
                .collect()
        });
    let Some(listed) = listed else {
        return Ok(vec![format!(
            "{k}: not what fgd writes (its resources cannot be read: edited by hand?), and Argo CD or Flux build managed/ through it: fgd init <fabric> writes it again (patches belong in a kustomization one level up, which can list managed/)"
        )]);
    };
    let mut problems = Vec::new();
    for l in &listed {
        if files.contains(l) {
            continue;
        }
        let path = format!("{}/{l}", fabric::MANAGED);
        problems.push(if old_files.contains(l) {
            format!(
                "{path}: deleted, but {k} still lists it, so kustomize (Argo CD, Flux) could not build any object of the fabric: restore it (git checkout HEAD -- {path}, in the fabric's folder); to stop managing an object, restore it, then fgd move <fabric> {path} --reason TEXT, which takes it out of the kustomization"
            )
        } else {
            format!(
                "{k}: lists {l}, which is not there (edited by hand?), so kustomize (Argo CD, Flux) could not build any object of the fabric: fgd init <fabric> writes it again from the files"
            )
        });
    }
    for f in &files {
        if !listed.contains(f) {
            problems.push(format!(
                "{}/{f}: not listed in {k} (a file copied in?), so Argo CD and Flux would not apply it: move it to raw/ and let fgd ingest file it",
                fabric::MANAGED
            ));
        }
    }
    if problems.is_empty() {
        problems.push(format!(
            "{k}: not what fgd writes for these object files (edited by hand?): fgd init <fabric> writes it again (patches belong in a kustomization one level up, which can list managed/)"
        ));
    }
    Ok(problems)
}
