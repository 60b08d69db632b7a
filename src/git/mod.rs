//! The git loop: commit the fabric's changes, push them, and sync with other writers, so the
//! result of every operator action is visible in a fresh clone of the remote (which is what
//! Argo CD and Flux read). No UI here: progress goes out as events like everything else.
//!
//! Commits hold only the fabric's own paths (raw/, managed/, unmanaged/, .hnp/, .sourceignore),
//! built from HEAD's tree plus the fabric's files, so the operator's other work (untracked
//! files, unstaged edits, other staged work) is left alone, even for a fabric at the
//! repository's root. A remote that moved on is handled by replaying our commits on its tip in
//! memory; a real conflict stops with the files and objects named, keeps our commit locally and
//! pushes nothing. fgd never force-pushes.

pub mod auth;
mod commit;
mod committed;
mod diff;
mod error;
mod hooks;
mod ignore_rules;
mod init;
mod integrate;
pub mod known_hosts;
mod listing;
mod managed_read;
mod many;
mod message;
mod options;
mod outgoing;
mod push;
mod replay;
mod resolve;
mod scan;
mod scope;
mod sign;
mod spec;
mod state;
mod trace;
pub mod transport;
mod verdicts;
mod verify;

use std::path::Path;

use serde::Serialize;

pub use crate::event::GitPhase;
use crate::event::Sink;
use crate::fabric::{self, Fabric};
use crate::{ingest, journal, store};
use integrate::{integrate, nothing_to_integrate, raw_overwrites, tracking_tip};
use options::signature;
use push::push_with_retry;
use transport::Session;

pub use commit::{commit_fabric, Committed, FAILPOINT_BEFORE_COMMIT};
pub use committed::{Baseline, BaselineRef, NoBaseline, Touched};
pub use diff::pending_diff;
pub use error::GitError;
use error::Result;
pub use init::{init_repository, set_origin_and_identity};
pub use integrate::FABRIC_TRAILER;
pub use managed_read::managed_reader;
pub use many::{sync_all, SyncAllReport};
pub use options::{set_timeouts, GitOptions};
pub use outgoing::OtherCommit;
pub use push::{LastPush, PushReport};
pub use resolve::{resolve_fabric, ConflictRecord, Ours, PathConflict, ResolveReport, Side};
pub use scope::{Checkout, FabricRepo};
pub use state::{git_state, operation_in_progress, GitState, InProgress};
pub use trace::trace_to_tracing;
pub use verdicts::CacheMode;
pub use verify::{
    check_tip, conflict_marker_line, tip_checks, TipCheck, TipProblem, TipProblemKind,
};

/// Open the fabric and its repository, refuse what cannot be done (a `--branch` that is not
/// checked out, a detached HEAD), and only then take the lock and finish an interrupted batch.
fn open_locked(
    dir: &Path,
    command: &str,
    opts: &GitOptions,
    sink: &mut dyn Sink,
) -> crate::Result<(Fabric, FabricRepo, store::FabricLock)> {
    opts.check()?;
    let fabric = Fabric::open(dir)?;
    let fr = FabricRepo::open(&fabric, opts)?;
    signature(&fr.repo, opts)?;
    sign::signing(&fr.repo)?;
    fr.refuse_bypassed_hooks()?;
    let lock = store::FabricLock::acquire(&fabric.path(fabric::LOCK), command)?;
    journal::recover(&fabric, sink)?;
    Ok((fabric, fr, lock))
}

/// `fgd push`: commit the fabric's changes and push them.
pub fn push_fabric(
    dir: &Path,
    opts: &GitOptions,
    sink: &mut dyn Sink,
) -> crate::Result<PushReport> {
    let (fabric, fr, _lock) = open_locked(dir, "push", opts, sink)?;
    let run = |sink: &mut dyn Sink| -> crate::Result<PushReport> {
        let committed = commit_fabric(&fr, &fabric, opts, "update", sink)?;
        let pushed = push_with_retry(&fr, &fabric, &[], opts, sink)?;
        Ok(PushReport { committed, pushed })
    };
    settle(&fabric, run(sink))
}

/// A conflict a push or sync stopped on is kept for `fgd resolve`; one that pushed ends it.
fn settle<T>(fabric: &Fabric, result: crate::Result<T>) -> crate::Result<T> {
    match &result {
        Ok(_) => resolve::clear(fabric),
        Err(e) => resolve::note(fabric, e),
    }
    result
}

#[derive(Debug, Clone, Serialize)]
pub struct SyncReport {
    pub local_commit: Option<Committed>,
    pub integrated: &'static str,
    pub ingest: crate::event::Summary,
    pub committed: Option<Committed>,
    pub pushed: Option<LastPush>,
}

/// `fgd sync`: fetch, integrate, ingest what raw/ now holds (others' files included), commit,
/// push. One action, one report.
pub fn sync_fabric(
    dir: &Path,
    opts: &GitOptions,
    sink: &mut dyn Sink,
) -> crate::Result<SyncReport> {
    let (fabric, fr, lock) = open_locked(dir, "sync", opts, sink)?;
    // sync always fetches: refuse a shallow clone before recording anything.
    transport::refuse_shallow(&fr.repo)?;
    let run = |sink: &mut dyn Sink| -> crate::Result<SyncReport> {
        let url = fr.remote_url()?;
        let shown = transport::url_info(&url).shown;
        let auth_cfg = opts.auth.clone().unwrap_or_else(auth::AuthConfig::from_env);
        let last_fetched = tracking_tip(&fr);
        let remote_tip = {
            let session = Session::new(&url, auth_cfg, opts.known_hosts.clone(), sink)
                .with_repository(&fr.repo);
            transport::fetch(&fr.repo, &fr.remote, &fr.upstream, &session)?
        };
        // Record local edits first when integrating moves the working copy, so that it never
        // has to overwrite or stash anything. When the remote brought nothing the branch lacks,
        // nothing moves, and the sync's own commit takes them: one pass over the fabric's
        // 10^5 files instead of two.
        let record = !nothing_to_integrate(&fr, last_fetched, remote_tip);
        let local_commit = match record {
            true => commit_fabric(&fr, &fabric, opts, "record local changes before sync", sink)?,
            false => None,
        };
        let recorded = fr.head().map(|c| c.id());
        let before = recorded;
        let integrated = integrate(&fr, &fabric, opts, last_fetched, remote_tip, &shown, sink)?;
        fabric.check_layout()?;
        // What the remote just changed must not be replaced unseen by what raw/ holds now:
        // the same conflict as when both commits change the object, whatever the timing.
        let overwrites = raw_overwrites(&fr, &fabric, before, remote_tip)?;
        if !overwrites.is_empty() {
            return Err(GitError::Conflict {
                fabric: fr.fabric_dir(),
                url: shown,
                conflicts: overwrites,
            }
            .into());
        }
        // The lock has been held since open_locked finished any interrupted batch.
        let summary = ingest::run_recovered(
            &fabric,
            &lock,
            &ingest::Options {
                validation: opts.validation.clone(),
                managed: managed_read::managed_reader_in(&fr, &fabric.root, CacheMode::ReadWrite),
                ..Default::default()
            },
            &Baseline::open_head,
            sink,
        )?;
        let local_commit = match local_commit {
            // Folded: that commit is no longer on the branch; the sync's commit holds it.
            Some(record) if fold_records(&fr, std::slice::from_ref(&record), remote_tip)? > 0 => {
                None
            }
            other => other,
        };
        // Recorded nothing, integrated or ingested nothing: the fabric is as the commit pass
        // above just found it (under the lock; an edit made since is the next run's, as one made just after
        // the sync would be), so a second pass over every file would find nothing either.
        let untouched = record
            && local_commit.is_none()
            && summary.batch.is_none()
            && fr.head().map(|c| c.id()) == recorded;
        let committed = if untouched {
            None
        } else {
            commit_fabric(&fr, &fabric, opts, "sync", sink)?
        };
        let head = fr.head().map(|c| c.id());
        // The fetch above just read the remote's tip: when it is ours, there is nothing to
        // publish (and nothing to check before publishing), as git says "Everything
        // up-to-date" without a push.
        let pushed = match head {
            Some(tip) if Some(tip) == tracking_tip(&fr) => {
                sink.emit(crate::event::Event::GitUpToDate {
                    remote: fr.remote.clone(),
                    branch: fr.upstream.clone(),
                    commit: tip.to_string(),
                    url: transport::url_info(&fr.push_url()?).shown,
                });
                None
            }
            Some(_) => Some(push_with_retry(&fr, &fabric, &[], opts, sink)?),
            None => None,
        };
        Ok(SyncReport {
            local_commit,
            integrated,
            ingest: summary,
            committed,
            pushed,
        })
    };
    settle(&fabric, run(sink))
}

/// One commit per sync: the records of local changes sync made first (so that integrating
/// never overwrites anything) are folded into the sync's own commits when they are still the
/// top of the branch (themselves, or replayed onto the remote) and not on the remote: the
/// branch goes back to the commit below them, and the sync's commits take their changes from
/// disk. A run killed between the two leaves the index and the disk holding the changes: the
/// next push commits them. Returns how many were folded.
pub(crate) fn fold_records(
    fr: &FabricRepo,
    records: &[Committed],
    remote_tip: Option<git2::Oid>,
) -> Result<usize> {
    let made: Vec<git2::Commit> = records
        .iter()
        .filter_map(|r| git2::Oid::from_str(&r.commit).ok())
        .filter_map(|id| fr.repo.find_commit(id).ok())
        .collect();
    let on_remote = |id: git2::Oid| {
        remote_tip.is_some_and(|r| r == id || fr.repo.graph_descendant_of(r, id).unwrap_or(false))
    };
    // Replay keeps the message and the author's time: that is how a copy is known.
    let is_record = |c: &git2::Commit| {
        made.iter().any(|m| {
            c.id() == m.id()
                || (c.message_bytes() == m.message_bytes()
                    && c.author().when() == m.author().when())
        })
    };
    let mut top = fr.head();
    let mut folded = 0;
    while let Some(c) = top {
        if folded == made.len() || on_remote(c.id()) || c.parent_count() != 1 || !is_record(&c) {
            top = Some(c);
            break;
        }
        folded += 1;
        top = c.parent(0).ok();
    }
    if folded == 0 {
        return Ok(0);
    }
    let Some(base) = top else {
        return Ok(0);
    };
    fr.repo
        .reference(
            &format!("refs/heads/{}", fr.branch),
            base.id(),
            true,
            "fgd: fold the record of local changes into the sync's commit",
        )
        .map_err(error::local("move branch"))?;
    Ok(folded)
}

/// Commit and push a fresh layout (`fgd init --push`).
pub fn publish_init(
    fabric: &Fabric,
    opts: &GitOptions,
    sink: &mut dyn Sink,
) -> crate::Result<PushReport> {
    opts.check()?;
    let fr = FabricRepo::open(fabric, opts)?;
    signature(&fr.repo, opts)?;
    sign::signing(&fr.repo)?;
    fr.refuse_bypassed_hooks()?;
    let _lock = store::FabricLock::acquire(&fabric.path(fabric::LOCK), "init --push")?;
    let committed = commit_fabric(&fr, fabric, opts, "initialise the fabric layout", sink)?;
    let pushed = push_with_retry(&fr, fabric, &[], opts, sink)?;
    Ok(PushReport { committed, pushed })
}
