//! How fgd brings the local branch onto a remote that moved: what it may replay, when it must
//! stop. Only fgd's own commits made since the last fetch are replayed (never another author's,
//! never one that changes paths outside its fabric); a remote whose new tip does not descend
//! from the one fetched before was rewritten, and fgd stops and names what it dropped; an
//! object the remote just changed that this sync's raw/ also defines is a conflict, as it is
//! when both commits change it.

use std::collections::BTreeMap;
use std::path::Path;

use git2::Oid;

use super::error::{local, GitError, Result};
use super::options::{signature, GitOptions};
use super::replay::{advance_to, object_of_path, replay};
use super::resolve::{self, ConflictRecord, Ours, PathConflict, Side};
use super::scope::{is_fabric_inner, FabricRepo};
use crate::event::Sink;
use crate::fabric::{self, Fabric};

/// The trailer fgd writes in each of its commits, naming the fabric (its folder in the working
/// copy, `.` at the root): what marks a commit as fgd's own for replay.
pub const FABRIC_TRAILER: &str = "Fgd-Fabric";

/// The value of `FABRIC_TRAILER` for `prefix`.
pub(crate) fn trailer_value(prefix: &str) -> &str {
    if prefix.is_empty() {
        "."
    } else {
        prefix
    }
}

/// The last-fetched tip of the remote branch (`refs/remotes/<remote>/<branch>`), if any.
pub(crate) fn tracking_tip(fr: &FabricRepo) -> Option<Oid> {
    fr.repo
        .refname_to_id(&format!("refs/remotes/{}/{}", fr.remote, fr.upstream))
        .ok()
}

/// Whether `integrate` leaves the branch and the working copy as they are: the remote branch
/// is where it was when fetched before, and the local branch holds it.
pub(crate) fn nothing_to_integrate(
    fr: &FabricRepo,
    last_fetched: Option<Oid>,
    remote_tip: Option<Oid>,
) -> bool {
    let (Some(new), Some(local)) = (remote_tip, fr.head().map(|c| c.id())) else {
        return false;
    };
    last_fetched == Some(new)
        && (local == new || fr.repo.graph_descendant_of(local, new).unwrap_or(false))
}

fn tracking_ref(fr: &FabricRepo) -> String {
    format!("refs/remotes/{}/{}", fr.remote, fr.upstream)
}

/// `Name <email>` of a signature, for messages.
pub(crate) fn who(sig: &git2::Signature) -> String {
    format!(
        "{} <{}>",
        String::from_utf8_lossy(sig.name_bytes()),
        String::from_utf8_lossy(sig.email_bytes())
    )
}

pub(crate) fn subject(c: &git2::Commit) -> String {
    String::from_utf8_lossy(c.message_bytes())
        .lines()
        .next()
        .unwrap_or_default()
        .to_string()
}

/// The value of trailer `key` in the message's last paragraph.
fn trailer<'m>(message: &'m str, key: &str) -> Option<&'m str> {
    let last = message.trim_end().rsplit("\n\n").next()?;
    last.lines().find_map(|l| {
        l.strip_prefix(key)
            .and_then(|r| r.strip_prefix(':'))
            .map(str::trim)
    })
}

/// What makes a commit fgd's own or not: fgd's own is not a merge, made by fgd (its trailer,
/// or the `fgd(` subject of fgd before the trailer), authored or committed under an identity of
/// this machine, and changes only the paths of the fabric it names.
#[derive(Debug, Clone, Default)]
pub(crate) struct Ownership {
    pub merge: bool,
    pub by_fgd: bool,
    /// Another identity than this machine's made it: `Name <email>`.
    pub other_author: Option<String>,
    /// The paths it changes outside the fabric it belongs to (all of them, for a commit fgd
    /// did not make, outside the fabric being pushed).
    pub outside: Vec<String>,
}

impl Ownership {
    pub fn is_ours(&self) -> bool {
        !self.merge && self.by_fgd && self.other_author.is_none() && self.outside.is_empty()
    }

    /// Why it is not fgd's own, for messages.
    pub fn why(&self, me: &[String]) -> String {
        let mut why = Vec::new();
        if self.merge {
            why.push("a merge: fgd replays only linear history".to_string());
        }
        if !self.by_fgd {
            why.push(format!("fgd did not make it (no {FABRIC_TRAILER} trailer)"));
        }
        if let Some(a) = &self.other_author {
            why.push(format!(
                "made by {a}, another identity than this machine's ({})",
                me.join(", ")
            ));
        }
        if !self.outside.is_empty() {
            why.push(format!(
                "it changes paths outside the fabric: {}",
                super::error::first_ten(&self.outside).replace('\n', ", ")
            ));
        }
        why.join("; ")
    }
}

/// The email addresses of this machine's identities: the author fgd commits under now and git
/// config's committer (lowercase).
pub(crate) fn identities(repo: &git2::Repository, opts: &GitOptions) -> Vec<String> {
    let mut me: Vec<String> = signature(repo, opts)
        .ok()
        .into_iter()
        .chain(repo.signature().ok())
        .map(|s| String::from_utf8_lossy(s.email_bytes()).to_lowercase())
        .collect();
    me.dedup();
    me
}

pub(crate) fn ownership(fr: &FabricRepo, c: &git2::Commit, me: &[String]) -> Result<Ownership> {
    let mut o = Ownership {
        merge: c.parent_count() > 1,
        ..Default::default()
    };
    let message = String::from_utf8_lossy(c.message_bytes()).into_owned();
    let named = trailer(&message, FABRIC_TRAILER).map(str::to_string);
    o.by_fgd = named.is_some() || message.starts_with("fgd(");
    let email = |s: git2::Signature| String::from_utf8_lossy(s.email_bytes()).to_lowercase();
    if !me.contains(&email(c.author())) && !me.contains(&email(c.committer())) {
        o.other_author = Some(who(&c.author()));
    }
    let prefix = match named.as_deref() {
        Some(".") => String::new(),
        Some(p) => p.to_string(),
        None => fr.prefix.clone(),
    };
    let parent_tree = match c.parent(0) {
        Ok(p) => Some(p.tree().map_err(local("read tree"))?),
        Err(_) => None,
    };
    let tree = c.tree().map_err(local("read tree"))?;
    let diff = fr
        .repo
        .diff_tree_to_tree(parent_tree.as_ref(), Some(&tree), None)
        .map_err(local("diff"))?;
    o.outside = diff
        .deltas()
        .map(|d| super::diff::delta_path(&d))
        .filter(|p| {
            let inner = if prefix.is_empty() {
                Some(p.as_str())
            } else {
                p.strip_prefix(prefix.as_str())
                    .and_then(|r| r.strip_prefix('/'))
            };
            !inner.is_some_and(is_fabric_inner)
        })
        .collect();
    Ok(o)
}

/// The commit of `tip`'s history (not of `since`'s) that last changed `path`, and its author.
pub(crate) fn last_change(
    fr: &FabricRepo,
    tip: Oid,
    since: Option<Oid>,
    path: &str,
) -> Option<(Oid, String)> {
    let mut walk = fr.repo.revwalk().ok()?;
    walk.push(tip).ok()?;
    if let Some(s) = since {
        walk.hide(s).ok()?;
    }
    walk.set_sorting(git2::Sort::TOPOLOGICAL | git2::Sort::TIME)
        .ok()?;
    let entry = |c: &git2::Commit| {
        c.tree()
            .ok()
            .and_then(|t| t.get_path(Path::new(path)).ok().map(|e| e.id()))
    };
    for id in walk.flatten() {
        let c = fr.repo.find_commit(id).ok()?;
        let before = c.parent(0).ok().and_then(|p| entry(&p));
        if entry(&c) != before {
            return Some((id, who(&c.author())));
        }
    }
    None
}

/// Bring the local branch onto `remote_tip`, fetched just now; `last_fetched` is what the
/// remote-tracking ref held before that fetch.
pub(crate) fn integrate(
    fr: &FabricRepo,
    fabric: &Fabric,
    opts: &GitOptions,
    last_fetched: Option<Oid>,
    remote_tip: Option<Oid>,
    url: &str,
    sink: &mut dyn Sink,
) -> Result<&'static str> {
    let Some(new) = remote_tip else {
        // Fetched before and gone now: someone deleted it. Recreating it would undo that.
        if last_fetched.is_some() && !opts.recreate_branch {
            return Err(GitError::BranchDeleted {
                url: url.to_string(),
                branch: fr.upstream.clone(),
            });
        }
        return Ok("remote branch does not exist yet");
    };
    let repo = &fr.repo;
    if let Some(old) = last_fetched.filter(|o| *o != new && repo.find_commit(*o).is_ok()) {
        if !repo.graph_descendant_of(new, old).unwrap_or(false) {
            let mut walk = repo.revwalk().map_err(local("walk"))?;
            walk.push(old).map_err(local("walk"))?;
            walk.hide(new).map_err(local("walk"))?;
            let dropped = walk
                .flatten()
                .filter_map(|id| repo.find_commit(id).ok())
                .map(|c| {
                    format!(
                        "{} {} ({})",
                        &c.id().to_string()[..10],
                        subject(&c),
                        who(&c.author())
                    )
                })
                .collect();
            // The remote-tracking ref goes back to what was fetched before, so every run says
            // the same until the operator decides (a plain git fetch moves it on, and the
            // commits the remote dropped are then refused as not fgd's own).
            let _ = repo.reference(
                &tracking_ref(fr),
                old,
                true,
                "fgd: remote rewritten, keep the last-fetched tip",
            );
            return Err(GitError::RemoteRewritten {
                url: url.to_string(),
                old: old.to_string(),
                new: new.to_string(),
                dropped,
            });
        }
    }
    let Some(l) = fr.head().map(|c| c.id()) else {
        advance_to(fr, new)?;
        return Ok("checked out the remote branch");
    };
    if l == new {
        return Ok("up to date");
    }
    if repo.graph_descendant_of(l, new).unwrap_or(false) {
        return Ok("ahead of the remote");
    }
    if repo.graph_descendant_of(new, l).unwrap_or(false) {
        advance_to(fr, new)?;
        return Ok("fast-forwarded");
    }
    // Ours: what is in the local branch and neither in the remote's new tip nor in what was
    // fetched before (the remote's history, whatever became of it).
    let mut walk = repo.revwalk().map_err(local("walk"))?;
    walk.push(l).map_err(local("walk"))?;
    walk.hide(new).map_err(local("walk"))?;
    if let Some(old) = last_fetched.filter(|o| repo.find_commit(*o).is_ok()) {
        walk.hide(old).map_err(local("walk"))?;
    }
    walk.set_sorting(git2::Sort::TOPOLOGICAL | git2::Sort::REVERSE)
        .map_err(local("walk"))?;
    let ours: Vec<Oid> = walk
        .collect::<std::result::Result<_, _>>()
        .map_err(local("walk"))?;
    let me = identities(repo, opts);
    for id in &ours {
        let c = repo.find_commit(*id).map_err(local("read commit"))?;
        let o = ownership(fr, &c, &me)?;
        if !o.is_ours() {
            return Err(GitError::NotOurs {
                commit: id.to_string(),
                subject: subject(&c),
                author: who(&c.author()),
                why: o.why(&me),
            });
        }
    }
    let new_tip = replay(fr, fabric, &ours, new, url, sink)?;
    advance_to(fr, new_tip)?;
    Ok("replayed local commits on the remote")
}

/// The managed objects the remote changed since `before` (the local tip before integration)
/// forked from it, that this sync's raw/ also defines differently: ingesting raw/ would
/// silently replace the remote's version, so each is a conflict naming the remote commit and
/// its author, unless the operator chose ours (`fgd resolve --ours`) for that very change.
/// raw/ files the remote itself holds as they are came with the integration and are not ours.
pub(crate) fn raw_overwrites(
    fr: &FabricRepo,
    fabric: &Fabric,
    before: Option<Oid>,
    remote_tip: Option<Oid>,
) -> crate::Result<Vec<PathConflict>> {
    let (Some(before), Some(remote)) = (before, remote_tip) else {
        return Ok(Vec::new());
    };
    let repo = &fr.repo;
    let Ok(base) = repo.merge_base(before, remote) else {
        return Ok(Vec::new());
    };
    if base == remote {
        return Ok(Vec::new());
    }
    let tree_of = |id: Oid| -> Result<git2::Tree> {
        repo.find_commit(id)
            .and_then(|c| c.tree())
            .map_err(local("read tree"))
    };
    let (base_tree, remote_tree) = (tree_of(base)?, tree_of(remote)?);
    let mut diff_opts = git2::DiffOptions::new();
    diff_opts.pathspec(fr.rel(fabric::MANAGED));
    let diff = repo
        .diff_tree_to_tree(Some(&base_tree), Some(&remote_tree), Some(&mut diff_opts))
        .map_err(local("diff"))?;
    let changed: Vec<String> = diff
        .deltas()
        .map(|d| super::diff::delta_path(&d))
        .filter(|p| object_of_path(p).is_some())
        .collect();
    if changed.is_empty() {
        return Ok(Vec::new());
    }
    let mut summary = crate::event::Summary::default();
    // Which objects raw/ defines: the envelope says it.
    let files = crate::ingest::read_inputs(
        &fabric.path(fabric::RAW),
        "raw/",
        &Default::default(),
        crate::validate::Validator::envelope_only(),
        None,
        &mut summary,
        &mut crate::event::Discard,
    )?;
    let blob_at = |path: &str| remote_tree.get_path(Path::new(path)).ok().map(|e| e.id());
    let hash = |bytes: &[u8]| Oid::hash_object(git2::ObjectType::Blob, bytes).ok();
    let rec: Option<ConflictRecord> = resolve::load(fabric);
    let mut found: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for f in &files {
        if blob_at(&fr.rel(&f.rel)).is_some_and(|id| Some(id) == hash(&f.bytes)) {
            continue; // the remote's own raw file
        }
        for d in f.docs() {
            let Some(mp) = d.managed_path() else { continue };
            let path = fr.rel(&format!("{}/{mp}", fabric::MANAGED));
            if !changed.contains(&path) {
                continue;
            }
            if blob_at(&path).is_some_and(|id| Some(id) == hash(&d.output(&f.bytes))) {
                continue; // the same object as theirs: nothing is replaced
            }
            let files = found.entry(path).or_default();
            if !files.contains(&f.rel) {
                files.push(f.rel.clone());
            }
        }
    }
    let mut out = Vec::new();
    for (path, raw) in found {
        let theirs = last_change(fr, remote, Some(base), &path);
        let commit = theirs.as_ref().map(|t| t.0.to_string());
        if resolve::chosen(rec.as_ref(), &path, commit.as_deref()) == Some(Side::Ours) {
            continue;
        }
        out.push(PathConflict {
            object: object_of_path(&path),
            path,
            remote_commit: commit,
            author: theirs.map(|t| t.1),
            ours: Ours::RawFiles(raw),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fabric_trailer_is_read_from_the_last_paragraph() {
        let m = "fgd(dc1): sync\n\nbody\n\nFgd-Fabric: fabrics/dc1\n";
        assert_eq!(trailer(m, FABRIC_TRAILER), Some("fabrics/dc1"));
        assert_eq!(
            trailer("fix\n\nFgd-Fabric: x\n\nmore\n", FABRIC_TRAILER),
            None
        );
        assert_eq!(trailer("Fgd-Fabric: .", FABRIC_TRAILER), Some("."));
    }
}
