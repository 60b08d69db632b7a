//! What a push publishes besides fgd's own commits: said in every push and dry run, and
//! refused when it changes paths outside the fabric unless `--include-other-commits` says so
//! (a "WIP: do not push" commit of the operator's other work must not ride along unseen).

use git2::Oid;
use serde::Serialize;

use super::error::{local, Result};
use super::integrate::{identities, ownership, subject, who};
use super::options::GitOptions;
use super::scope::FabricRepo;

/// A commit the push would publish that is not one of fgd's own.
#[derive(Debug, Clone, Serialize)]
pub struct OtherCommit {
    pub commit: String,
    pub subject: String,
    pub author: String,
    /// Why it is not fgd's.
    pub why: String,
    /// Paths it changes outside the fabric: these refuse the push unless
    /// `--include-other-commits`.
    pub outside: Vec<String>,
}

impl OtherCommit {
    /// One line naming it, for messages and the dry run.
    pub fn line(&self) -> String {
        format!(
            "{} {} ({}): {}",
            &self.commit[..10],
            self.subject,
            self.author,
            self.why
        )
    }
}

/// The commits `head` holds that the remote does not (no remote-tracking ref of the remote
/// reaches them) and that are not fgd's own, oldest first.
pub(crate) fn other_commits(
    fr: &FabricRepo,
    opts: &GitOptions,
    head: Oid,
) -> Result<Vec<OtherCommit>> {
    let repo = &fr.repo;
    let mut walk = repo.revwalk().map_err(local("walk"))?;
    walk.push(head).map_err(local("walk"))?;
    // Ignore errors: no remote-tracking ref at all means everything is new to the remote.
    let _ = walk.hide_glob(&format!("refs/remotes/{}/*", fr.remote));
    walk.set_sorting(git2::Sort::TOPOLOGICAL | git2::Sort::REVERSE)
        .map_err(local("walk"))?;
    let me = identities(repo, opts);
    let mut out = Vec::new();
    for id in walk {
        let id = id.map_err(local("walk"))?;
        let c = repo.find_commit(id).map_err(local("read commit"))?;
        let o = ownership(fr, &c, &me)?;
        if o.is_ours() {
            continue;
        }
        out.push(OtherCommit {
            commit: id.to_string(),
            subject: subject(&c),
            author: who(&c.author()),
            why: o.why(&me),
            outside: o.outside,
        });
    }
    Ok(out)
}
