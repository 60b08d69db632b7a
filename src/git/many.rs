//! `fgd sync --all`: every fabric of a workspace that shares one working copy, with one
//! fetch, one commit per fabric that changed and one push (syncing them one by one fetches
//! and pushes once per fabric, and publishes a commit per fabric per round).

use std::path::PathBuf;

use serde::Serialize;

use super::commit::{commit_fabric, Committed};
use super::error::GitError;
use super::integrate::{integrate, raw_overwrites, tracking_tip};
use super::options::{signature, GitOptions};
use super::push::{push_with_retry, LastPush};
use super::scope::FabricRepo;
use super::transport::{self, Session};
use super::{auth, fold_records, resolve, sign, Baseline};
use crate::event::{Sink, Summary};
use crate::fabric::{self, Fabric};
use crate::{ingest, journal, store};

#[derive(Debug, Clone, Serialize)]
pub struct FabricSynced {
    pub fabric: String,
    pub ingest: Summary,
    pub committed: Option<Committed>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SyncAllReport {
    pub integrated: &'static str,
    pub fabrics: Vec<FabricSynced>,
    pub pushed: Option<LastPush>,
}

/// Sync the fabrics `dirs` (found in one workspace) together: they must share one working
/// copy and branch (a usage error otherwise, before any work: sync them one at a time).
pub fn sync_all(
    dirs: &[PathBuf],
    opts: &GitOptions,
    sink: &mut dyn Sink,
) -> crate::Result<SyncAllReport> {
    opts.check()?;
    if dirs.is_empty() {
        return Err(GitError::Usage("sync --all: no fabric found in the workspace".into()).into());
    }
    let mut fabrics = Vec::new();
    for d in dirs {
        let fabric = Fabric::open(d)?;
        let fr = FabricRepo::open(&fabric, opts)?;
        fabrics.push((fabric, fr));
    }
    let workdir = |fr: &FabricRepo| fr.repo.workdir().map(|w| w.to_path_buf());
    let first = &fabrics[0].1;
    if let Some((f, _)) = fabrics.iter().find(|(_, fr)| {
        workdir(fr) != workdir(first) || fr.branch != first.branch || fr.remote != first.remote
    }) {
        return Err(GitError::Usage(format!(
            "sync --all: {} is not in the same working copy, branch and remote as {}; sync the fabrics of each working copy on their own (fgd sync --all <working copy>, or fgd sync <fabric>)",
            f.root.display(),
            fabrics[0].0.root.display()
        ))
        .into());
    }
    signature(&first.repo, opts)?;
    sign::signing(&first.repo)?;
    first.refuse_bypassed_hooks()?;
    transport::refuse_shallow(&first.repo)?;
    // Every fabric locked (in path order, as any other fgd would take them) and its
    // interrupted batch finished, before anything is recorded.
    fabrics.sort_by(|a, b| a.0.root.cmp(&b.0.root));
    let mut locks = Vec::new();
    for (fabric, _) in &fabrics {
        locks.push(store::FabricLock::acquire(
            &fabric.path(fabric::LOCK),
            "sync --all",
        )?);
        journal::recover(fabric, sink)?;
    }
    let result = run(&fabrics, &locks, opts, sink);
    // A conflict is kept in the fabric it names, for `fgd resolve` there.
    match &result {
        Ok(_) => fabrics.iter().for_each(|(f, _)| resolve::clear(f)),
        Err(e) => {
            if let Some(GitError::Conflict { fabric, .. }) = GitError::of(e) {
                if let Some((f, _)) = fabrics.iter().find(|(_, fr)| fr.fabric_dir() == *fabric) {
                    resolve::note(f, e);
                }
            }
        }
    }
    result
}

fn run(
    fabrics: &[(Fabric, FabricRepo)],
    locks: &[store::FabricLock],
    opts: &GitOptions,
    sink: &mut dyn Sink,
) -> crate::Result<SyncAllReport> {
    let (fabric0, fr0) = (&fabrics[0].0, &fabrics[0].1);
    let mut records = Vec::new();
    for (fabric, fr) in fabrics {
        if let Some(c) = commit_fabric(fr, fabric, opts, "record local changes before sync", sink)?
        {
            records.push(c);
        }
    }
    let url = fr0.remote_url()?;
    let shown = transport::url_info(&url).shown;
    let auth_cfg = opts.auth.clone().unwrap_or_else(auth::AuthConfig::from_env);
    let last_fetched = tracking_tip(fr0);
    let remote_tip = {
        let session =
            Session::new(&url, auth_cfg, opts.known_hosts.clone(), sink).with_repository(&fr0.repo);
        transport::fetch(&fr0.repo, &fr0.remote, &fr0.upstream, &session)?
    };
    let before = fr0.head().map(|c| c.id());
    let integrated = integrate(fr0, fabric0, opts, last_fetched, remote_tip, &shown, sink)?;
    for (fabric, fr) in fabrics {
        fabric.check_layout()?;
        let overwrites = raw_overwrites(fr, fabric, before, remote_tip)?;
        if !overwrites.is_empty() {
            return Err(GitError::Conflict {
                fabric: fr.fabric_dir(),
                url: shown,
                conflicts: overwrites,
            }
            .into());
        }
    }
    let mut summaries = Vec::new();
    for ((fabric, fr), lock) in fabrics.iter().zip(locks) {
        summaries.push(ingest::run_locked(
            fabric,
            lock,
            &ingest::Options {
                validation: opts.validation.clone(),
                managed: super::managed_read::managed_reader_in(
                    fr,
                    &fabric.root,
                    super::CacheMode::ReadWrite,
                ),
                ..Default::default()
            },
            &Baseline::open_head,
            sink,
        )?);
    }
    fold_records(fr0, &records, remote_tip)?;
    let mut out = Vec::new();
    for ((fabric, fr), ingest) in fabrics.iter().zip(summaries) {
        let committed = commit_fabric(fr, fabric, opts, "sync", sink)?;
        out.push(FabricSynced {
            fabric: fabric.root.display().to_string(),
            ingest,
            committed,
        });
    }
    let also: Vec<(&FabricRepo, &Fabric)> = fabrics[1..].iter().map(|(f, r)| (r, f)).collect();
    let pushed = if fr0.head().is_some() {
        Some(push_with_retry(fr0, fabric0, &also, opts, sink)?)
    } else {
        None
    };
    Ok(SyncAllReport {
        integrated,
        fabrics: out,
        pushed,
    })
}
