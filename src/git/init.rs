//! New repositories, for the demo: a bare one to push to, and a working copy with that as its
//! `origin` and an identity of its own. The front ends make repositories only through these.

use std::path::Path;

use super::error::{local, Result};

/// A new repository at `path` (bare, or with a work tree), its HEAD naming `initial_branch`;
/// nothing committed yet.
pub fn init_repository(path: &Path, bare: bool, initial_branch: &str) -> Result<()> {
    let op = if bare {
        "init bare repository"
    } else {
        "init repository"
    };
    git2::Repository::init_opts(
        path,
        git2::RepositoryInitOptions::new()
            .bare(bare)
            .initial_head(initial_branch),
    )
    .map_err(local(op))?;
    Ok(())
}

/// Point the remote `origin` of the repository at `work_tree` to `url`, and give it the commit
/// identity `name <email>` in its own config: never the operator's global one.
pub fn set_origin_and_identity(work_tree: &Path, url: &str, name: &str, email: &str) -> Result<()> {
    let repo = git2::Repository::open(work_tree).map_err(local("open repository"))?;
    repo.remote("origin", url).map_err(local("add remote"))?;
    let mut cfg = repo.config().map_err(local("config"))?;
    cfg.set_str("user.name", name).map_err(local("config"))?;
    cfg.set_str("user.email", email).map_err(local("config"))?;
    Ok(())
}
