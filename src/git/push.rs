//! The push, with a retry when the remote moved on meanwhile.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::auth;
use super::commit::Committed;
use super::error::{GitError, Result};
use super::integrate::{integrate, tracking_tip};
use super::options::GitOptions;
use super::outgoing::other_commits;
use super::scope::FabricRepo;
use super::transport::{self, PushResult, Session};
use super::verify::refuse_broken_tip;
use crate::event::{Event, Sink};
use crate::fabric::Fabric;
use crate::store;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct LastPush {
    pub at: String,
    pub remote: String,
    pub branch: String,
    pub commit: String,
    pub url: String,
}

pub(crate) const LAST_PUSH: &str = ".hnp/local/last-push.json";

/// How many times a push is tried while other writers keep moving the remote.
const ATTEMPTS: u32 = 6;

/// The wait before attempt `n` (1-based): 100 ms doubling, capped at 2 s, with up to as much
/// again of jitter from the clock and the process id (no random source needed for this).
fn backoff(n: u32) -> std::time::Duration {
    let base = (100u64 << n.min(5)).min(2000);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos() as u64)
        .unwrap_or(0);
    let seed = nanos ^ (std::process::id() as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    std::time::Duration::from_millis(base + seed % (base + 1))
}

/// Push the branch, fetching and replaying when the remote moved meanwhile. `also`: the other
/// fabrics of the working copy this push publishes (`sync --all`), whose trees are checked too.
pub(crate) fn push_with_retry(
    fr: &FabricRepo,
    fabric: &Fabric,
    also: &[(&FabricRepo, &Fabric)],
    opts: &GitOptions,
    sink: &mut dyn Sink,
) -> Result<LastPush> {
    // Pushes go to the push URL (pushurl), fetches after a refusal to the fetch URL.
    let url = fr.push_url()?;
    let fetch_url = fr.remote_url()?;
    let shown = transport::url_info(&url).shown;
    let auth_cfg = opts.auth.clone().unwrap_or_else(auth::AuthConfig::from_env);
    let refname = format!("refs/heads/{}", fr.branch);
    let mut said: Vec<String> = Vec::new();
    for attempt in 0..ATTEMPTS {
        if attempt > 0 {
            // Writers racing on one branch: wait a little, differently each time and for
            // each process, so they stop meeting at the same instant.
            std::thread::sleep(backoff(attempt));
        }
        // What is pushed is the branch's tip: that, and nothing else, is what gets reported.
        let head = fr.repo.refname_to_id(&refname).map_err(|_| {
            GitError::Setup(format!(
                "nothing to push: branch {} has no commit",
                fr.branch
            ))
        })?;
        if fr.head().map(|c| c.id()) != Some(head) {
            return Err(GitError::Setup(format!(
                "HEAD is no longer branch {}'s tip; nothing was pushed",
                fr.branch
            )));
        }
        // What would be published is checked, not only what fgd committed: a merge the
        // operator made, a colleague's commit, a replayed tip.
        refuse_broken_tip(fr, fabric, head, &opts.validation, sink)?;
        for (other, other_fabric) in also {
            refuse_broken_tip(other, other_fabric, head, &opts.validation, sink)?;
        }
        // Every commit that goes out besides fgd's own is said (once); one that changes paths
        // outside the fabric is refused unless asked for, where the remote branch exists (a
        // first push of a new branch publishes the repository's history as it is).
        let others = other_commits(fr, opts, head)?;
        for o in &others {
            if said.contains(&o.commit) {
                continue;
            }
            said.push(o.commit.clone());
            sink.emit(Event::GitOtherCommit {
                commit: o.commit.clone(),
                subject: o.subject.clone(),
                author: o.author.clone(),
                why: o.why.clone(),
            });
        }
        let outside: Vec<String> = others
            .iter()
            .filter(|o| !o.outside.is_empty())
            .map(|o| o.line())
            .collect();
        if !outside.is_empty() && !opts.include_other_commits && tracking_tip(fr).is_some() {
            return Err(GitError::OtherCommits {
                url: shown,
                commits: outside,
            });
        }
        if !opts.no_verify {
            // As git push: `<local ref> <local id> <remote ref> <remote id>` on stdin.
            let remote_id = tracking_tip(fr)
                .map(|id| id.to_string())
                .unwrap_or_else(|| "0".repeat(40));
            let line = format!("{refname} {head} refs/heads/{} {remote_id}\n", fr.upstream);
            super::hooks::run(&fr.repo, "pre-push", &[&fr.remote, &url], line.as_bytes())?;
        }
        let result = {
            // A branch fetched before that the remote no longer has is not recreated unasked.
            let known = tracking_tip(fr).is_some() && !opts.recreate_branch;
            let session = Session::new(&url, auth_cfg.clone(), opts.known_hosts.clone(), sink)
                .refuse_new_branch(known)
                .with_repository(&fr.repo);
            transport::push(&fr.repo, &fr.remote, &fr.branch, &fr.upstream, &session)?
        };
        match result {
            PushResult::Pushed => {
                let rec = LastPush {
                    at: store::now_rfc3339(),
                    remote: fr.remote.clone(),
                    branch: fr.upstream.clone(),
                    commit: head.to_string(),
                    url: shown.clone(),
                };
                // Keep the remote-tracking ref in step, as git push does.
                let _ = fr.repo.reference(
                    &format!("refs/remotes/{}/{}", fr.remote, fr.upstream),
                    head,
                    true,
                    "fgd: push",
                );
                let p = fabric.path(LAST_PUSH);
                if store::create_dir_all_within(&fabric.root, Path::new(".hnp/local")).is_ok() {
                    let _ = store::write_atomic(
                        &p,
                        &serde_json::to_vec_pretty(&rec).unwrap_or_default(),
                    );
                }
                sink.emit(Event::GitPushed {
                    remote: rec.remote.clone(),
                    branch: rec.branch.clone(),
                    commit: rec.commit.clone(),
                    url: shown.clone(),
                });
                return Ok(rec);
            }
            PushResult::Rejected(message) => {
                if fr.repo.is_shallow() {
                    // Whether the remote moved takes a fetch, which a shallow clone cannot take.
                    return Err(GitError::Rejected {
                        url: shown,
                        message: format!(
                            "{message}. If the remote moved, fgd would fetch and replay, but this working copy is a shallow clone (git clone --depth), which libgit2 cannot fetch into without breaking it: git fetch --unshallow, then push again"
                        ),
                    });
                }
                let last_fetched = tracking_tip(fr);
                let remote_tip = {
                    let session =
                        Session::new(&fetch_url, auth_cfg.clone(), opts.known_hosts.clone(), sink)
                            .with_repository(&fr.repo);
                    transport::fetch(&fr.repo, &fr.remote, &fr.upstream, &session)?
                };
                // Not behind the remote: the refusal was not about history (a hook, a protected branch).
                let behind = remote_tip.is_some_and(|r| {
                    r != head && !fr.repo.graph_descendant_of(head, r).unwrap_or(false)
                });
                if !behind {
                    return Err(GitError::Rejected {
                        url: shown,
                        message,
                    });
                }
                integrate(fr, fabric, opts, last_fetched, remote_tip, &shown, sink)?;
            }
        }
    }
    Err(GitError::RemoteBusy {
        url: shown,
        attempts: ATTEMPTS,
    })
}

#[derive(Debug, Clone, Serialize)]
pub struct PushReport {
    pub committed: Option<Committed>,
    pub pushed: LastPush,
}
