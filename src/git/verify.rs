//! Checks before a commit or a push: what Argo CD and Flux would read must be what fgd writes.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::diff::delta_path;
use super::error::{local, GitError, Result};
use super::scan::Scanned;
use super::scope::{FabricRepo, FABRIC_PATHS};
use crate::event::Sink;
use crate::fabric::{self, Fabric};
use crate::store;

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
            crate::validate::analyze::managed_problem(inner, blob.content().to_vec())
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

/// What kind of problem a published tree would have.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum TipProblemKind {
    /// A conflict left by a merge (`<<<<<<<`, `=======`, `>>>>>>>` lines).
    ConflictMarkers,
    /// A managed/ file that is not the one object an ingest would write at its path.
    NotIngestOutput,
    /// The kustomization does not list exactly managed/'s object files.
    Kustomization,
    /// One of fgd's records (`.hnp/manifest.json`, `.hnp/log.jsonl`, `.hnp/records/*.json`, a
    /// `.reason.json`) does not parse.
    Record,
    /// A check plugged in through `TipCheck`, by its id.
    Check(&'static str),
}

/// One thing wrong with the tree a push would publish, at a file of the fabric (relative to
/// the fabric's directory) and, where known, a line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TipProblem {
    pub path: String,
    pub line: Option<usize>,
    pub kind: TipProblemKind,
    /// What is wrong and what to do.
    pub message: String,
}

impl std::fmt::Display for TipProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.line {
            Some(l) => write!(f, "{}:{l}: {}", self.path, self.message),
            None => write!(f, "{}: {}", self.path, self.message),
        }
    }
}

/// A check of one file of the tree a push would publish, beside fgd's own (the extension point
/// for spec validation). Only files that changed since the last verified tip are handed over,
/// so `id` must change whenever the check's rules do: a new id re-checks every file once.
pub trait TipCheck {
    /// Names the check and the version of its rules, e.g. `spec-v1`.
    fn id(&self) -> &'static str;
    /// Whether the check reads `inner` (relative to the fabric's directory).
    fn wants(&self, inner: &str) -> bool;
    /// The problems of `bytes`, the file at `inner`: (line, what is wrong and what to do).
    fn check(&self, inner: &str, bytes: &[u8]) -> Vec<(Option<usize>, String)>;
    /// The tree being checked (`check_tip`'s), told before anything else: what a check across
    /// files reads, rather than the working copy.
    fn on_tree(&self, _tree: git2::Oid) {}
    /// Work every file's check shares, done once before the first file is handed over, with
    /// progress as `GitPhase::Check` to `sink` (it may take seconds).
    fn prepare(&self, _sink: &mut dyn Sink) {}
    /// Problems of the tree as a whole, on files that need not have changed since the
    /// verified tip (an object that still references one the tip deletes): (path, line,
    /// message). Run on every check.
    fn whole(&self) -> Vec<(String, Option<usize>, String)> {
        Vec::new()
    }
}

/// The per-file checks every push runs beside fgd's own: spec validation under the fabric's
/// settings (`git::spec`).
pub fn tip_checks(
    fabric: &Fabric,
    layers: &crate::validate::settings::Layers,
) -> Vec<Box<dyn TipCheck>> {
    tip_checks_with(fabric, layers, super::CacheMode::ReadWrite)
}

/// `tip_checks`, writing the cache of verdicts or not (a dry run only reads it) by `cache`.
pub(crate) fn tip_checks_with(
    fabric: &Fabric,
    layers: &crate::validate::settings::Layers,
    cache: super::CacheMode,
) -> Vec<Box<dyn TipCheck>> {
    super::spec::SpecCheck::for_fabric(fabric, layers, cache)
        .map(|c| Box::new(c) as Box<dyn TipCheck>)
        .into_iter()
        .collect()
}

/// The version of fgd's own tip rules, recorded with a verified tip (see `TipCheck::id`).
const TIP_RULES: &str = "tip-1";

/// The line (1-based) where a merge's conflict starts in `bytes`: a `<<<<<<<` line followed by a
/// `=======` line and a `>>>>>>>` line, each at the start of a line as git writes them (its
/// marker size, 7). All three are required, so a lone `=======` (a Markdown rule, a YAML block
/// scalar) is not taken for one.
pub fn conflict_marker_line(bytes: &[u8]) -> Option<usize> {
    let marker = |line: &[u8], c: u8| {
        line.len() >= 7
            && line[..7].iter().all(|&b| b == c)
            && matches!(line.get(7), None | Some(b' ' | b'\r' | b'\t'))
    };
    let mut start = None;
    let mut middle = false;
    for (i, line) in bytes.split(|&b| b == b'\n').enumerate() {
        if marker(line, b'<') {
            start = Some(i + 1);
            middle = false;
        } else if start.is_some() && marker(line, b'=') {
            middle = true;
        } else if middle && marker(line, b'>') {
            return start;
        }
    }
    None
}

/// Check the tree a push would publish (`tree`, the branch's tip), whoever made its commits:
/// every managed/ object file is the one object ingest would write at its path, the
/// kustomization lists exactly the object files, fgd's records in `.hnp/` parse, and no file of
/// the fabric holds a merge's conflict markers (except kept originals: `.hnp/archive/` and
/// `unmanaged/*.unmanaged` hold inputs byte for byte, whatever they were). `extra` checks run on
/// each file they want. Only files that differ from `verified` (a tip that passed the same
/// checks) are read: unchanged ones passed already. The kustomization is always checked.
pub fn check_tip(
    fr: &FabricRepo,
    tree: &git2::Tree,
    verified: Option<&git2::Tree>,
    extra: &[Box<dyn TipCheck>],
    sink: &mut dyn Sink,
) -> Result<Vec<TipProblem>> {
    for check in extra {
        check.on_tree(tree.id());
    }
    let mut prepared = vec![false; extra.len()];
    let mut problems = Vec::new();
    let mut diff_opts = git2::DiffOptions::new();
    for top in FABRIC_PATHS {
        diff_opts.pathspec(fr.rel(top));
    }
    diff_opts.disable_pathspec_match(true);
    let diff = fr
        .repo
        .diff_tree_to_tree(verified, Some(tree), Some(&mut diff_opts))
        .map_err(local("diff"))?;
    let total = diff.deltas().len();
    let mut last = std::time::Instant::now();
    for (i, d) in diff.deltas().enumerate() {
        // A first push checks every file: say how far it is, a few times a second.
        if last.elapsed() >= std::time::Duration::from_millis(200) {
            last = std::time::Instant::now();
            sink.emit(crate::event::Event::GitProgress {
                phase: super::GitPhase::Check,
                done: i,
                total,
                bytes: 0,
            });
        }
        if matches!(d.status(), git2::Delta::Deleted) {
            continue;
        }
        let new = d.new_file();
        // Only files: a symlink's blob is its target, a gitlink is another repository.
        if !matches!(
            new.mode(),
            git2::FileMode::Blob | git2::FileMode::BlobExecutable
        ) {
            continue;
        }
        let path = delta_path(&d);
        if !fr.is_fabric_path(path.as_bytes()) {
            continue;
        }
        let inner = fr.inner(&path).to_string();
        let blob = fr.repo.find_blob(new.id()).map_err(local("read blob"))?;
        let bytes = blob.content();
        let mut add = |line: Option<usize>, kind: TipProblemKind, message: String| {
            problems.push(TipProblem {
                path: inner.clone(),
                line,
                kind,
                message,
            })
        };
        let kept_original = inner.starts_with(".hnp/archive/")
            || (inner.starts_with("unmanaged/") && inner.ends_with(fabric::UNMANAGED_SUFFIX));
        if !kept_original {
            if let Some(line) = conflict_marker_line(bytes) {
                add(
                    Some(line),
                    TipProblemKind::ConflictMarkers,
                    "a merge's conflict markers (<<<<<<<, =======, >>>>>>>): resolve the conflict (keep one side, or fgd's version: fgd resolve), commit, then push again".into(),
                );
            }
        }
        if inner.starts_with("managed/")
            && inner != fabric::KUSTOMIZATION
            && fabric::kustomization::is_object_path(&inner["managed/".len()..])
        {
            if let Some((why, line)) =
                crate::validate::analyze::managed_problem(&inner, bytes.to_vec())
            {
                add(
                    line,
                    TipProblemKind::NotIngestOutput,
                    format!("{why}; fix it, or move it to raw/ (fgd ingest then files it, or says why not)"),
                );
            }
        } else if inner == fabric::MANIFEST {
            if let Err(e) = serde_json::from_slice::<crate::fabric::manifest::Manifest>(bytes) {
                add(
                    Some(e.line()),
                    TipProblemKind::Record,
                    format!("fgd's manifest does not parse ({e}): restore it (git checkout <a good commit> -- {})", fabric::MANIFEST),
                );
            }
        } else if inner == fabric::LOG {
            let before = verified
                .and_then(|t| t.get_path(Path::new(&path)).ok())
                .and_then(|e| fr.repo.find_blob(e.id()).ok());
            if let Some(line) = bad_log_line(before.as_ref().map(|b| b.content()), bytes) {
                add(
                    Some(line),
                    TipProblemKind::Record,
                    "a line of fgd's operation log is not a JSON record (a merge's leftovers?): keep both sides' records, one per line, and drop the rest".into(),
                );
            }
        } else if inner
            .strip_prefix(crate::oplog::RECORDS)
            .is_some_and(|r| r.starts_with('/') && r.ends_with(".json"))
        {
            if let Err(e) = serde_json::from_slice::<serde::de::IgnoredAny>(bytes) {
                add(
                    Some(e.line()),
                    TipProblemKind::Record,
                    format!("a record of fgd's operation log does not parse ({e}): restore it from a good commit"),
                );
            }
        } else if inner.starts_with("unmanaged/") && inner.ends_with(fabric::REASON_SUFFIX) {
            if let Err(e) = serde_json::from_slice::<serde::de::IgnoredAny>(bytes) {
                add(
                    Some(e.line()),
                    TipProblemKind::Record,
                    format!(
                        "the reason record does not parse ({e}): restore it from a good commit"
                    ),
                );
            }
        }
        for (i, check) in extra.iter().enumerate().filter(|(_, c)| c.wants(&inner)) {
            if !prepared[i] {
                prepared[i] = true;
                check.prepare(sink);
            }
            for (line, message) in check.check(&inner, bytes) {
                add(line, TipProblemKind::Check(check.id()), message);
            }
        }
    }
    for check in extra {
        for (path, line, message) in check.whole() {
            problems.push(TipProblem {
                path,
                line,
                kind: TipProblemKind::Check(check.id()),
                message,
            });
        }
    }
    for p in kustomization_problems(fr, verified, tree)? {
        let (path, message) = p.split_once(": ").unwrap_or((fabric::KUSTOMIZATION, &p));
        problems.push(TipProblem {
            path: path.to_string(),
            line: None,
            kind: TipProblemKind::Kustomization,
            message: message.to_string(),
        });
    }
    problems.sort_by(|a, b| (&a.path, a.line).cmp(&(&b.path, b.line)));
    Ok(problems)
}

/// The first line (1-based) of the log `now` that is not a JSON record. When `before` (the
/// verified log) is its start, only the lines appended since are read: the log only grows.
fn bad_log_line(before: Option<&[u8]>, now: &[u8]) -> Option<usize> {
    let (skip, rest) = match before {
        Some(b) if now.starts_with(b) && (b.is_empty() || b.ends_with(b"\n")) => {
            (b.iter().filter(|&&c| c == b'\n').count(), &now[b.len()..])
        }
        _ => (0, now),
    };
    rest.split(|&b| b == b'\n')
        .enumerate()
        .find(|(_, line)| {
            !line.is_empty() && serde_json::from_slice::<serde::de::IgnoredAny>(line).is_err()
        })
        .map(|(i, _)| skip + i + 1)
}

/// The record of the last tip that passed `check_tip`, so the next check reads only what
/// changed since (machine-local, never committed).
#[derive(Debug, Serialize, Deserialize)]
struct VerifiedTip {
    commit: String,
    /// `TIP_RULES` and the extra checks' ids: other rules, a full check.
    rules: String,
}

const VERIFIED_TIP: &str = ".hnp/local/verified-tip.json";

fn rules_id(extra: &[Box<dyn TipCheck>]) -> String {
    std::iter::once(TIP_RULES)
        .chain(extra.iter().map(|c| c.id()))
        .collect::<Vec<_>>()
        .join("+")
}

/// The tree of the last tip verified under the same rules, if the repository still has it.
pub(crate) fn verified_tree<'r>(
    fr: &'r FabricRepo,
    fabric: &Fabric,
    extra: &[Box<dyn TipCheck>],
) -> Option<git2::Tree<'r>> {
    let bytes = super::scan::read_regular(&fabric.path(VERIFIED_TIP))?;
    let rec: VerifiedTip = serde_json::from_slice(&bytes).ok()?;
    if rec.rules != rules_id(extra) {
        return None;
    }
    let id = git2::Oid::from_str(&rec.commit).ok()?;
    fr.repo.find_commit(id).ok()?.tree().ok()
}

/// Refuse to publish `commit` (the branch's tip) when its tree fails `check_tip`; otherwise
/// record it as verified.
pub(crate) fn refuse_broken_tip(
    fr: &FabricRepo,
    fabric: &Fabric,
    commit: git2::Oid,
    layers: &crate::validate::settings::Layers,
    sink: &mut dyn Sink,
) -> Result<()> {
    let extra = tip_checks(fabric, layers);
    let c = fr.repo.find_commit(commit).map_err(local("read commit"))?;
    let tree = c.tree().map_err(local("read tree"))?;
    let verified = verified_tree(fr, fabric, &extra);
    let problems = check_tip(fr, &tree, verified.as_ref(), &extra, sink)?;
    if !problems.is_empty() {
        return Err(GitError::BrokenTip {
            commit: commit.to_string(),
            problems,
        });
    }
    let rec = VerifiedTip {
        commit: commit.to_string(),
        rules: rules_id(&extra),
    };
    // Only a shortcut for the next check: failing to keep it costs a full check, nothing more.
    if store::create_dir_all_within(&fabric.root, Path::new(fabric::HNP_LOCAL)).is_ok() {
        let _ = store::write_atomic(
            &fabric.path(VERIFIED_TIP),
            &serde_json::to_vec_pretty(&rec).unwrap_or_default(),
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conflict_markers_need_all_three_lines_as_git_writes_them() {
        let merged = b"a: 1\n<<<<<<< HEAD\nb: 2\n=======\nb: 3\n>>>>>>> theirs\n";
        assert_eq!(conflict_marker_line(merged), Some(2));
        let crlf = b"<<<<<<<\r\nx\r\n=======\r\ny\r\n>>>>>>>\r\n";
        assert_eq!(conflict_marker_line(crlf), Some(1));
        for clean in [
            &b"title\n=======\ntext\n"[..],
            b"<<<<<<<< eight\n=======\n>>>>>>>> eight\n",
            b"  <<<<<<< indented\n=======\n>>>>>>> x\n",
            b">>>>>>> before\n=======\n<<<<<<< after\n",
        ] {
            assert_eq!(conflict_marker_line(clean), None, "{clean:?}");
        }
    }

    #[test]
    fn only_the_log_lines_added_since_the_verified_log_are_read() {
        let before = b"{\"batch\":\"a\"}\n";
        let good = b"{\"batch\":\"a\"}\n{\"batch\":\"b\"}\n";
        assert_eq!(bad_log_line(Some(before), good), None);
        let bad = b"{\"batch\":\"a\"}\n<<<<<<< HEAD\n{\"batch\":\"b\"}\n";
        assert_eq!(bad_log_line(Some(before), bad), Some(2));
        assert_eq!(bad_log_line(None, bad), Some(2));
        // A log that is not the verified one grown is read whole.
        assert_eq!(bad_log_line(Some(b"{}\n"), b"oops\n{}\n"), Some(1));
    }
}
