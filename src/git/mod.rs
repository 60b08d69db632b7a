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
pub mod known_hosts;
pub mod transport;

use std::path::{Path, PathBuf};

use git2::{ErrorCode, Oid, Repository, Signature};
use serde::{Deserialize, Serialize};

pub use crate::event::GitPhase;
use crate::event::{Event, Sink};
use crate::fabric::{self, Fabric};
use crate::{ingest, journal, store};
use transport::{PushResult, Session};

#[derive(Debug, thiserror::Error)]
pub enum GitError {
    #[error("git {op}: {source}")]
    Local {
        op: &'static str,
        source: git2::Error,
    },
    #[error("{op} {url} over {transport} failed: {message}{}", tried_text(.tried))]
    Remote {
        op: &'static str,
        url: String,
        transport: &'static str,
        message: String,
        tried: Vec<String>,
        /// The host key was not trusted or no credential was accepted: a retry cannot help.
        refused: bool,
    },
    #[error("the server refused the push to {url}: {message}; the commit is kept locally")]
    Rejected { url: String, message: String },
    #[error("conflict: our commit {commit} and {url} both change {}{}; nothing was pushed and our commit is kept locally. Resolve it in git (pull and merge, or fix and commit), then push again", .paths.join(", "), objects_text(.objects))]
    Conflict {
        commit: String,
        url: String,
        paths: Vec<String>,
        objects: Vec<String>,
    },
    #[error("refusing to push to {url}: it is a repository on this machine with server hooks ({}) in {dir}, and fgd pushes to a path or file:// remote by writing it directly (libgit2 runs no hooks), which would bypass the protection they give. Nothing was pushed (any local commit is kept). Serve the repository over git://, ssh:// or http(s):// (git daemon --enable=receive-pack, ssh://localhost/..., git http-backend) so its hooks run, and point the remote there", .hooks.join(", "))]
    HooksBypassed {
        url: String,
        hooks: Vec<String>,
        dir: String,
    },
    #[error("nothing was committed: {} path(s) of the fabric are not what fgd would write there, and Argo CD or Flux could not build the fabric from them, or fgd's records would not be its own:\n{}", .problems.len(), first_ten(.problems))]
    Unmanageable { problems: Vec<String> },
    #[error("{0}")]
    Setup(String),
    /// The command line asked for something fgd will not do (exit 2), said before any work.
    #[error("{0}")]
    Usage(String),
    /// A file of the working copy could not be read (exit 4, unless it is a refusal).
    #[error(transparent)]
    Io(#[from] crate::store::StoreError),
}

fn tried_text(tried: &[String]) -> String {
    if tried.is_empty() {
        String::new()
    } else {
        format!("; credentials tried: {}", tried.join(", "))
    }
}

fn first_ten(lines: &[String]) -> String {
    let mut text = lines[..lines.len().min(10)].join("\n");
    if lines.len() > 10 {
        text.push_str(&format!("\n... and {} more", lines.len() - 10));
    }
    text
}

fn objects_text(objects: &[String]) -> String {
    if objects.is_empty() {
        String::new()
    } else {
        format!(" (objects {})", objects.join(", "))
    }
}

impl GitError {
    pub fn local(op: &'static str, source: git2::Error) -> GitError {
        GitError::Local { op, source }
    }
    /// The command line asked for something fgd will not do (exit 2).
    pub fn is_usage(&self) -> bool {
        matches!(self, GitError::Usage(_))
    }
    /// Refusals need the operator; failures may go away on a retry.
    pub fn is_refusal(&self) -> bool {
        matches!(
            self,
            GitError::Rejected { .. }
                | GitError::Conflict { .. }
                | GitError::HooksBypassed { .. }
                | GitError::Unmanageable { .. }
                | GitError::Setup(_)
                | GitError::Remote { refused: true, .. }
        ) || matches!(self, GitError::Io(e) if e.is_refusal())
    }
}

type Result<T> = std::result::Result<T, GitError>;

fn local(op: &'static str) -> impl FnOnce(git2::Error) -> GitError {
    move |e| GitError::local(op, e)
}

/// Options shared by push and sync.
#[derive(Debug, Clone, Default)]
pub struct GitOptions {
    pub remote: Option<String>,
    pub branch: Option<String>,
    pub message: Option<String>,
    /// "Name <email>" overriding git config's user.
    pub author: Option<String>,
    pub auth: Option<auth::AuthConfig>,
    pub known_hosts: Option<PathBuf>,
}

impl GitOptions {
    /// What the headless commands take from the environment when no flag says otherwise:
    /// `FGD_GIT_AUTHOR`, `FGD_KNOWN_HOSTS`, and the credentials `AuthConfig::from_env` reads.
    /// The dashboard's jobs use this, so a push from the dashboard and from `fgd push` agree.
    pub fn from_env() -> GitOptions {
        let var = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty());
        GitOptions {
            author: var("FGD_GIT_AUTHOR").map(|v| v.to_string_lossy().into_owned()),
            known_hosts: var("FGD_KNOWN_HOSTS").map(PathBuf::from),
            auth: Some(auth::AuthConfig::from_env()),
            ..Default::default()
        }
    }

    /// Refuse a commit message or author git would not take, before any work (exit 2).
    pub fn check(&self) -> Result<()> {
        if let Some(m) = &self.message {
            if m.trim().is_empty() {
                return Err(GitError::Usage(
                    "--message is empty: a commit needs a message (leave --message out for fgd's summary of the changes)".into(),
                ));
            }
        }
        if let Some(a) = &self.author {
            parse_author(a)?;
        }
        Ok(())
    }
}

impl GitOptions {
    /// `check`, and that a commit made for `dir` (which may not exist yet) would have an
    /// author: for `init --push`, before the layout is created. Outside a working copy this
    /// says nothing; opening the repository then says what is wrong.
    pub fn check_for_commit(&self, dir: &Path) -> Result<()> {
        self.check()?;
        let existing = dir
            .ancestors()
            .find(|a| a.exists())
            .unwrap_or(Path::new("."));
        match Repository::discover(existing) {
            Ok(repo) => signature(&repo, self).map(|_| ()),
            Err(_) => Ok(()),
        }
    }
}

/// `Name <email>`, as git writes an author. Both are needed: the author is the audit trail of
/// who changed the fabric, so fgd never fills in an email of its own.
fn parse_author(author: &str) -> Result<(String, String)> {
    let bad = |why: &str| {
        GitError::Usage(format!(
            "author {author:?} (--author, FGD_GIT_AUTHOR or the dashboard's git_author): {why}; write it as \"Name <email>\""
        ))
    };
    if author.contains(['\n', '\r', '\0']) {
        return Err(bad("it holds a line break or a NUL"));
    }
    let (name, email) = match author.split_once('<') {
        None if author.contains('>') => return Err(bad("a '>' without '<'")),
        None => return Err(bad("it has no <email>")),
        Some((name, rest)) => {
            let Some((email, after)) = rest.split_once('>') else {
                return Err(bad("the email has no closing '>'"));
            };
            if !after.trim().is_empty() {
                return Err(bad(&format!("extra text after '>': {:?}", after.trim())));
            }
            if email.contains('<') || name.contains('>') {
                return Err(bad("more than one '<' or '>'"));
            }
            (name.trim(), email.trim())
        }
    };
    if name.is_empty() {
        return Err(bad("the name is empty"));
    }
    if email.is_empty() {
        return Err(bad("the email is empty"));
    }
    Ok((name.to_string(), email.to_string()))
}

static CONNECT_TIMEOUT_MS: std::sync::atomic::AtomicI32 = std::sync::atomic::AtomicI32::new(0);
static READ_TIMEOUT_MS: std::sync::atomic::AtomicI32 = std::sync::atomic::AtomicI32::new(0);

/// The timeouts `set_timeouts` set (connect, read), for messages.
fn timeouts() -> (i32, i32) {
    use std::sync::atomic::Ordering::Relaxed;
    (
        CONNECT_TIMEOUT_MS.load(Relaxed),
        READ_TIMEOUT_MS.load(Relaxed),
    )
}

/// Connect and read timeouts, so a dead link fails in seconds. libgit2 keeps them in globals:
/// call once, before any thread starts.
pub fn set_timeouts(connect_ms: i32, read_ms: i32) -> Result<()> {
    CONNECT_TIMEOUT_MS.store(connect_ms, std::sync::atomic::Ordering::Relaxed);
    READ_TIMEOUT_MS.store(read_ms, std::sync::atomic::Ordering::Relaxed);
    // SAFETY: called from the front end's main thread before any other thread exists.
    unsafe {
        git2::opts::set_server_connect_timeout_in_milliseconds(connect_ms)
            .map_err(local("set timeout"))?;
        git2::opts::set_server_timeout_in_milliseconds(read_ms).map_err(local("set timeout"))?;
    }
    Ok(())
}

/// A fabric inside its git working copy.
pub struct FabricRepo {
    pub repo: Repository,
    /// The fabric's path relative to the working copy root, `/`-separated ("" at the root).
    pub prefix: String,
    pub branch: String,
    pub remote: String,
}

/// What HEAD is checked out as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Checkout {
    /// A branch (possibly unborn: no commit yet): what fgd commits onto and pushes.
    Branch(String),
    /// HEAD points at a commit, not a branch.
    Detached(Oid),
}

fn short(id: Oid) -> String {
    id.to_string()[..10].to_string()
}

impl FabricRepo {
    /// The fabric's repository, for committing and pushing: the checked-out branch is the one
    /// fgd commits onto and pushes. `--branch` is a check, never a redirection: a name other than
    /// the checked-out branch (or a detached HEAD) is refused before anything is done, since the
    /// commit would go to one branch and the push to another.
    pub fn open(fabric: &Fabric, opts: &GitOptions) -> Result<FabricRepo> {
        let (mut fr, checkout) = FabricRepo::inspect(fabric, opts)?;
        fr.branch = match (checkout, &opts.branch) {
            (Checkout::Branch(b), None) => b,
            (Checkout::Branch(b), Some(want)) if *want == b => b,
            (Checkout::Branch(b), Some(want)) => {
                return Err(GitError::Usage(format!(
                    "--branch {want}: the working copy has branch {b} checked out, and fgd commits onto the checked-out branch and pushes that one; check out {want} first (git checkout {want}), or leave --branch out to push {b}"
                )))
            }
            (Checkout::Detached(id), None) => {
                return Err(GitError::Setup(format!(
                    "HEAD is detached (at {}): fgd commits onto the checked-out branch and pushes that one; check a branch out first (git checkout <branch>)",
                    short(id)
                )))
            }
            (Checkout::Detached(id), Some(want)) => {
                return Err(GitError::Usage(format!(
                    "--branch {want}: HEAD is detached (at {}), and fgd commits onto the checked-out branch, never beside it; check out {want} first (git checkout {want})",
                    short(id)
                )))
            }
        };
        Ok(fr)
    }

    /// The fabric's repository and what HEAD is, for reading (status, the dry run): a detached
    /// HEAD is fine here. `branch` is empty when HEAD is detached.
    pub fn inspect(fabric: &Fabric, opts: &GitOptions) -> Result<(FabricRepo, Checkout)> {
        let repo = Repository::discover(&fabric.root).map_err(|_| {
            GitError::Setup(format!(
                "{} is not inside a git working copy (git init, or clone the fabric's repository)",
                fabric.root.display()
            ))
        })?;
        let workdir = repo.workdir().ok_or_else(|| {
            GitError::Setup("the repository is bare: fgd needs a working copy".into())
        })?;
        let workdir = std::fs::canonicalize(workdir)
            .map_err(|e| GitError::Setup(format!("{}: {e}", workdir.display())))?;
        let prefix = fabric
            .root
            .strip_prefix(&workdir)
            .map_err(|_| GitError::Setup("the fabric is outside the working copy".into()))?;
        let prefix = prefix.to_string_lossy().replace('\\', "/");
        let checkout = current_checkout(&repo)?;
        let branch = match &checkout {
            Checkout::Branch(b) => b.clone(),
            Checkout::Detached(_) => String::new(),
        };
        let remote = match &opts.remote {
            Some(r) => r.clone(),
            None => repo
                .config()
                .and_then(|c| c.get_string(&format!("branch.{branch}.remote")))
                .unwrap_or_else(|_| "origin".into()),
        };
        Ok((
            FabricRepo {
                repo,
                prefix,
                branch,
                remote,
            },
            checkout,
        ))
    }

    /// Is `path` (relative to the working copy) one of the fabric's own paths? Only those are
    /// fgd's to commit: at the repository's root everything else is the operator's other work.
    fn is_fabric_path(&self, path: &[u8]) -> bool {
        let Ok(path) = std::str::from_utf8(path) else {
            return false;
        };
        let inner = if self.prefix.is_empty() {
            path
        } else {
            match path
                .strip_prefix(self.prefix.as_str())
                .and_then(|r| r.strip_prefix('/'))
            {
                Some(inner) => inner,
                None => return false,
            }
        };
        is_fabric_inner(inner)
    }

    /// Is `path` (relative to the working copy, as bytes: a name need not be UTF-8) inside one
    /// of the fabric's own paths? What the index's fabric part is, for replacing it.
    fn holds(&self, path: &[u8]) -> bool {
        let inner = if self.prefix.is_empty() {
            path
        } else {
            match path
                .strip_prefix(self.prefix.as_bytes())
                .and_then(|r| r.strip_prefix(b"/"))
            {
                Some(inner) => inner,
                None => return false,
            }
        };
        FABRIC_PATHS.iter().any(|top| {
            inner == top.as_bytes()
                || inner
                    .strip_prefix(top.as_bytes())
                    .is_some_and(|rest| rest.starts_with(b"/"))
        })
    }

    /// Remove the fabric's own paths (and nothing else) from `index`.
    fn clear_fabric(&self, index: &mut git2::Index) -> std::result::Result<(), git2::Error> {
        for top in FABRIC_PATHS {
            let rel = self.rel(top);
            index.remove_dir(Path::new(&rel), 0)?;
            if index.get_path(Path::new(&rel), 0).is_some() {
                index.remove_path(Path::new(&rel))?;
            }
        }
        Ok(())
    }

    /// Before any work: the remote exists, and is not a local repository whose hooks a push
    /// would bypass.
    fn refuse_bypassed_hooks(&self) -> Result<()> {
        let url = self.remote_url()?;
        let base = self.repo.workdir().unwrap_or_else(|| self.repo.path());
        transport::refuse_local_hooks(&url, base)
    }

    pub fn remote_url(&self) -> Result<String> {
        let r = self.repo.find_remote(&self.remote).map_err(|_| {
            GitError::Setup(format!(
                "no remote {:?} (git remote add {} <url>, or pass --remote)",
                self.remote, self.remote
            ))
        })?;
        Ok(r.url().unwrap_or_default().to_string())
    }

    fn head(&self) -> Option<git2::Commit<'_>> {
        self.repo.head().ok().and_then(|h| h.peel_to_commit().ok())
    }

    /// A repository path's part inside the fabric (the inverse of `rel`).
    fn inner<'a>(&self, path: &'a str) -> &'a str {
        if self.prefix.is_empty() {
            return path;
        }
        path.strip_prefix(self.prefix.as_str())
            .and_then(|r| r.strip_prefix('/'))
            .unwrap_or(path)
    }

    fn rel(&self, inner: &str) -> String {
        if self.prefix.is_empty() {
            inner.to_string()
        } else {
            format!("{}/{inner}", self.prefix)
        }
    }
}

fn current_checkout(repo: &Repository) -> Result<Checkout> {
    match repo.head() {
        Ok(h) if h.is_branch() => Ok(Checkout::Branch(
            h.shorthand().unwrap_or("main").to_string(),
        )),
        Ok(h) => match h.target() {
            Some(id) => Ok(Checkout::Detached(id)),
            None => Err(GitError::Setup(
                "HEAD points at nothing fgd can read".into(),
            )),
        },
        Err(e) if e.code() == ErrorCode::UnbornBranch => {
            let head = repo.find_reference("HEAD").map_err(local("read HEAD"))?;
            let target = head
                .symbolic_target()
                .ok()
                .flatten()
                .unwrap_or("refs/heads/main");
            Ok(Checkout::Branch(
                target.trim_start_matches("refs/heads/").to_string(),
            ))
        }
        Err(e) => Err(GitError::local("read HEAD", e)),
    }
}

/// The fabric's own paths, relative to its directory: what fgd commits, and all it commits.
const FABRIC_PATHS: [&str; 5] = [
    fabric::RAW,
    fabric::MANAGED,
    fabric::UNMANAGED,
    fabric::HNP,
    fabric::SOURCEIGNORE,
];

/// Is `inner` (relative to the fabric directory) one of the fabric's own paths?
fn is_fabric_inner(inner: &str) -> bool {
    FABRIC_PATHS.iter().any(|top| {
        inner == *top
            || inner
                .strip_prefix(top)
                .is_some_and(|rest| rest.starts_with('/'))
    })
}

/// Files fgd keeps out of git: the lock, a running journal, machine-local state, temps.
fn volatile(inner: &str) -> bool {
    inner == fabric::LOCK
        || inner == fabric::JOURNAL
        || inner.starts_with(".hnp/local/")
        || inner.rsplit('/').next().is_some_and(|n| n.starts_with(store::TEMP_PREFIX))
        // Where an unfinished batch's cleanup puts an original while it checks it (a folder
        // of that name): dropped or put back by the recovery push and sync run first.
        || inner
            .split('/')
            .any(|part| part.starts_with(crate::journal::ASIDE_PREFIX))
}

/// The fabric's paths git already tracks (in HEAD's tree or the index): these stay tracked
/// whatever a .gitignore says, as with git itself.
fn tracked_fabric_paths(
    fr: &FabricRepo,
    head_tree: Option<&git2::Tree>,
    index: &git2::Index,
) -> std::collections::HashSet<String> {
    let mut out = std::collections::HashSet::new();
    if let Some(tree) = head_tree {
        for top in FABRIC_PATHS {
            let rel = fr.rel(top);
            let Ok(entry) = tree.get_path(Path::new(&rel)) else {
                continue;
            };
            match entry.kind() {
                Some(git2::ObjectType::Tree) => {
                    if let Ok(sub) = fr.repo.find_tree(entry.id()) {
                        let _ = sub.walk(git2::TreeWalkMode::PreOrder, |root, e| {
                            if e.kind() != Some(git2::ObjectType::Tree) {
                                if let Ok(name) = e.name() {
                                    out.insert(format!("{rel}/{root}{name}"));
                                }
                            }
                            git2::TreeWalkResult::Ok
                        });
                    }
                }
                _ => {
                    out.insert(rel);
                }
            }
        }
    }
    for e in index.iter() {
        if fr.is_fabric_path(&e.path) {
            if let Ok(p) = String::from_utf8(e.path) {
                out.insert(p);
            }
        }
    }
    out
}

/// The rules of `.hnp/.gitignore` (fgd writes it: the lock, the journal, `local/`), read on
/// their own: fgd's records are committed whatever other ignore files say, minus these.
struct HnpIgnore {
    /// (pattern, negated, directory only, anchored to .hnp/)
    rules: Vec<(std::ffi::CString, bool, bool, bool)>,
}

impl HnpIgnore {
    fn load(fabric: &Fabric) -> HnpIgnore {
        let bytes = read_regular(&fabric.path(fabric::HNP_GITIGNORE)).unwrap_or_default();
        HnpIgnore::parse(&String::from_utf8_lossy(&bytes))
    }

    fn parse(text: &str) -> HnpIgnore {
        let rules = text
            .lines()
            .map(str::trim_end)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .filter_map(|l| {
                let (negated, l) = match l.strip_prefix('!') {
                    Some(rest) => (true, rest),
                    None => (false, l),
                };
                let (dir_only, l) = match l.strip_suffix('/') {
                    Some(rest) => (true, rest),
                    None => (false, l),
                };
                let anchored = l.contains('/');
                let l = l.trim_start_matches('/');
                let pattern = std::ffi::CString::new(l).ok()?;
                Some((pattern, negated, dir_only, anchored))
            })
            .collect();
        HnpIgnore { rules }
    }

    /// `inner` is relative to the fabric directory; only paths under .hnp/ can match.
    fn ignores(&self, inner: &str) -> bool {
        let Some(path) = inner.strip_prefix(".hnp/") else {
            return false;
        };
        let fnmatch = |pattern: &std::ffi::CString, text: &str| {
            let Ok(text) = std::ffi::CString::new(text) else {
                return false;
            };
            // SAFETY: both are valid NUL-terminated strings that outlive the call.
            unsafe { libc::fnmatch(pattern.as_ptr(), text.as_ptr(), libc::FNM_PATHNAME) == 0 }
        };
        let parts: Vec<&str> = path.split('/').collect();
        let mut ignored = false;
        for (pattern, negated, dir_only, anchored) in &self.rules {
            // Each leading part of the path (its folders, then the file itself).
            let hit = (1..=parts.len()).any(|n| {
                let is_dir = n < parts.len();
                if *dir_only && !is_dir {
                    return false;
                }
                if *anchored {
                    fnmatch(pattern, &parts[..n].join("/"))
                } else {
                    fnmatch(pattern, parts[n - 1])
                }
            });
            if hit {
                ignored = !negated;
            }
        }
        ignored
    }
}

/// `bytes` as text, with every byte that is not UTF-8 written `\xNN`: how a name the file
/// system allows but git's paths and fgd's messages cannot carry is shown.
fn shown_name(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        out.push_str(chunk.valid());
        for b in chunk.invalid() {
            out.push_str(&format!("\\x{b:02x}"));
        }
    }
    out
}

/// A path of the fabric's own trees that is not committed as it is on disk: a symlink, FIFO,
/// socket or device (never opened), or a name git's paths cannot carry. The commit keeps
/// whatever HEAD holds there.
struct Odd {
    /// Relative to the working copy, as the file system names it.
    path: Vec<u8>,
    /// Relative to the fabric, for messages (`\xNN` for bytes that are not UTF-8).
    shown: String,
    /// What it is: "a symlink", "a FIFO", ...
    what: String,
}

/// The fabric's own paths as a commit would take them.
struct Scanned {
    /// Every regular file, relative to the working copy, hashed into the object store, with
    /// the stat data git's index keeps (taken before the read, so a file changed meanwhile
    /// looks changed to git, never clean).
    entries: Vec<git2::IndexEntry>,
    /// Left out of the commit (raw/: ingest leaves these too), with a note.
    left_out: Vec<Odd>,
    /// In fgd's own trees (managed/, unmanaged/, .hnp/, .sourceignore), where fgd writes only
    /// regular files with UTF-8 names: these refuse the commit, unless HEAD already holds them
    /// exactly so (a symlink committed before is not a change).
    refused: Vec<Odd>,
}

impl Scanned {
    /// Paths whose HEAD entries the commit keeps as they are.
    fn kept(&self) -> impl Iterator<Item = &Odd> {
        self.left_out.iter().chain(&self.refused)
    }

    /// The lines a refusal names, one per path fgd will not commit.
    fn refusals(&self) -> Vec<String> {
        self.refused
            .iter()
            .map(|o| {
                if o.what.contains("UTF-8") {
                    format!(
                        "{}: {}, and git's paths and fgd's records are UTF-8; rename or remove it",
                        o.shown, o.what
                    )
                } else {
                    format!(
                        "{}: {}: fgd's trees hold only the regular files it writes, and fgd never opens anything else (a symlink's target, a FIFO) to commit it; remove it (put a copy of the file a link points to into raw/ for ingest to file)",
                        o.shown, o.what
                    )
                }
            })
            .collect()
    }
}

/// Read `abs` only if it is a regular file (never through a symlink, never waiting on a
/// FIFO), hash it into the object store and return its index entry; `Err(what)` when it
/// turned out not to be a regular file after all (replaced since it was listed); `Ok(None)`
/// when it vanished. The bytes go in as they are on disk, with no clean filter or line-ending
/// conversion: managed objects and archived originals stay byte-identical in git.
fn hash_regular(
    repo: &Repository,
    abs: &Path,
    rel: Vec<u8>,
) -> Result<std::result::Result<Option<git2::IndexEntry>, String>> {
    use crate::store::{ReadRegular, Regular};
    use std::os::unix::fs::MetadataExt;
    // An I/O failure here is one (exit 4, `GitError::Io`), not a refusal.
    let (bytes, m) = match ReadRegular::new().read(abs)? {
        Regular::Bytes(bytes, m) => (bytes, m),
        Regular::Missing => return Ok(Ok(None)),
        Regular::NotRegular(kind) => return Ok(Err(kind.describe().into())),
        Regular::Unsettled(how) => return Ok(Err(how.describe().into())),
        Regular::TooLarge(len) => return Ok(Err(format!("{len} bytes, too large"))),
    };
    let id = repo.blob(&bytes).map_err(local("hash file"))?;
    let mode = if m.mode() & 0o111 != 0 {
        0o100755
    } else {
        0o100644
    };
    Ok(Ok(Some(git2::IndexEntry {
        ctime: git2::IndexTime::new(m.ctime() as i32, m.ctime_nsec() as u32),
        mtime: git2::IndexTime::new(m.mtime() as i32, m.mtime_nsec() as u32),
        dev: m.dev() as u32,
        ino: m.ino() as u32,
        mode,
        uid: m.uid(),
        gid: m.gid(),
        file_size: m.len() as u32,
        id,
        flags: 0,
        flags_extended: 0,
        path: rel,
    })))
}

/// Whether HEAD holds `odd` exactly as it is on disk: a symlink with the same target.
fn unchanged_in_head(head_tree: Option<&git2::Tree>, abs: &Path, odd: &Odd) -> bool {
    use std::os::unix::ffi::OsStrExt;
    let Some(entry) = head_tree.and_then(|t| {
        t.get_path(Path::new(std::ffi::OsStr::from_bytes(&odd.path)))
            .ok()
    }) else {
        return false;
    };
    if entry.filemode() != 0o120000 {
        return false;
    }
    let Ok(target) = std::fs::read_link(abs) else {
        return false;
    };
    git2::Oid::hash_object(git2::ObjectType::Blob, target.as_os_str().as_bytes())
        .is_ok_and(|id| id == entry.id())
}

/// The fabric's own paths on disk, as a commit takes them (sorted). A file git tracks is
/// always in; `raw/` (the operator's drop folder) otherwise follows git's ignore rules; fgd's
/// own trees (`managed/`, `unmanaged/`, `.hnp/`, `.sourceignore`) are its records and are
/// committed whatever a .gitignore says (an `*.orig` rule must not drop the archive), minus
/// what `.hnp/.gitignore` keeps on the machine. Only regular files are read, after an lstat
/// (symlinks, FIFOs, sockets and devices never are); those others, and names that are not
/// UTF-8, are left out under raw/ (as ingest leaves them) and refuse the commit elsewhere.
fn scan_fabric(
    fr: &FabricRepo,
    fabric: &Fabric,
    head_tree: Option<&git2::Tree>,
    tracked: &std::collections::HashSet<String>,
) -> Result<Scanned> {
    use std::os::unix::ffi::OsStrExt;
    let hnp_ignore = HnpIgnore::load(fabric);
    let in_raw = |inner: &[u8]| inner == fabric::RAW.as_bytes() || inner.starts_with(b"raw/");
    let wanted = |inner: &[u8], rel: &[u8]| {
        let text = String::from_utf8_lossy(inner);
        if volatile(&text) {
            return false;
        }
        if std::str::from_utf8(rel).is_ok_and(|r| tracked.contains(r)) {
            return true;
        }
        if in_raw(inner) {
            !fr.repo
                .is_path_ignored(Path::new(std::ffi::OsStr::from_bytes(rel)))
                .unwrap_or(false)
        } else {
            !hnp_ignore.ignores(&text)
        }
    };
    let rel_of = |inner: &[u8]| -> Vec<u8> {
        if fr.prefix.is_empty() {
            inner.to_vec()
        } else {
            let mut r = fr.prefix.as_bytes().to_vec();
            r.push(b'/');
            r.extend_from_slice(inner);
            r
        }
    };
    let mut scan = Scanned {
        entries: Vec::new(),
        left_out: Vec::new(),
        refused: Vec::new(),
    };
    let odd = |scan: &mut Scanned, inner: &[u8], what: String, abs: &Path| {
        let o = Odd {
            path: rel_of(inner),
            shown: shown_name(inner),
            what,
        };
        if in_raw(inner) {
            scan.left_out.push(o);
        } else if !unchanged_in_head(head_tree, abs, &o) {
            scan.refused.push(o);
        }
    };
    // (path on disk, path inside the fabric)
    let mut stack: Vec<(PathBuf, Vec<u8>)> = Vec::new();
    let mut files: Vec<(PathBuf, Vec<u8>)> = Vec::new();
    for top in FABRIC_PATHS {
        let path = fabric.path(top);
        let inner = top.as_bytes().to_vec();
        match std::fs::symlink_metadata(&path) {
            Ok(m) if m.is_dir() => stack.push((path, inner)),
            Ok(m) if m.is_file() => files.push((path, inner)),
            Ok(m) => {
                if wanted(&inner, &rel_of(&inner)) {
                    odd(
                        &mut scan,
                        &inner,
                        crate::discover::kind_of(&m.file_type()).into(),
                        &path,
                    );
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(GitError::Setup(format!("{}: {e}", path.display()))),
        }
    }
    while let Some((dir, dir_inner)) = stack.pop() {
        let entries = std::fs::read_dir(&dir)
            .map_err(|e| GitError::Setup(format!("{}: {e}", dir.display())))?;
        for e in entries.flatten() {
            let name = e.file_name();
            let mut inner = dir_inner.clone();
            inner.push(b'/');
            inner.extend_from_slice(name.as_bytes());
            let Ok(t) = e.file_type() else { continue };
            let utf8 = std::str::from_utf8(name.as_bytes()).is_ok();
            if t.is_dir() && utf8 {
                // Always looked into (a file git tracks is in even under an ignored folder).
                if name != ".git" {
                    stack.push((e.path(), inner));
                }
                continue;
            }
            if !wanted(&inner, &rel_of(&inner)) {
                continue;
            }
            if !utf8 {
                let what = if t.is_dir() {
                    "a folder whose name is not valid UTF-8"
                } else {
                    "its name is not valid UTF-8"
                };
                odd(&mut scan, &inner, what.into(), &e.path());
            } else if t.is_file() {
                files.push((e.path(), inner));
            } else {
                odd(
                    &mut scan,
                    &inner,
                    crate::discover::kind_of(&t).into(),
                    &e.path(),
                );
            }
        }
    }
    for (abs, inner) in files {
        match hash_regular(&fr.repo, &abs, rel_of(&inner))? {
            Ok(Some(entry)) => scan.entries.push(entry),
            Ok(None) => {} // gone since it was listed: as if deleted
            Err(what) => odd(&mut scan, &inner, what, &abs),
        }
    }
    scan.entries.sort_by(|a, b| a.path.cmp(&b.path));
    scan.left_out.sort_by(|a, b| a.path.cmp(&b.path));
    scan.refused.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(scan)
}

/// HEAD's entries at `path` (a file, or every file of a folder), added to `index` as they
/// are: what the commit keeps for a path it leaves out.
fn keep_from_head(
    repo: &Repository,
    head_tree: Option<&git2::Tree>,
    path: &[u8],
    index: &mut git2::Index,
) -> Result<()> {
    use std::os::unix::ffi::OsStrExt;
    let Some(entry) = head_tree.and_then(|t| {
        t.get_path(Path::new(std::ffi::OsStr::from_bytes(path)))
            .ok()
    }) else {
        return Ok(());
    };
    let add = |index: &mut git2::Index, p: Vec<u8>, id: Oid, mode: i32| {
        index
            .add(&git2::IndexEntry {
                ctime: git2::IndexTime::new(0, 0),
                mtime: git2::IndexTime::new(0, 0),
                dev: 0,
                ino: 0,
                mode: mode as u32,
                uid: 0,
                gid: 0,
                file_size: 0,
                id,
                flags: 0,
                flags_extended: 0,
                path: p,
            })
            .map_err(local("build tree"))
    };
    if entry.kind() != Some(git2::ObjectType::Tree) {
        return add(index, path.to_vec(), entry.id(), entry.filemode());
    }
    let sub = repo.find_tree(entry.id()).map_err(local("read tree"))?;
    let mut found = Vec::new();
    sub.walk(git2::TreeWalkMode::PreOrder, |root, e| {
        if e.kind() != Some(git2::ObjectType::Tree) {
            let mut p = path.to_vec();
            p.push(b'/');
            p.extend_from_slice(root.as_bytes());
            p.extend_from_slice(e.name_bytes());
            found.push((p, e.id(), e.filemode()));
        }
        git2::TreeWalkResult::Ok
    })
    .map_err(local("read tree"))?;
    for (p, id, mode) in found {
        add(index, p, id, mode)?;
    }
    Ok(())
}

/// The tree a commit of the fabric would have: HEAD's tree with the fabric's part replaced by
/// `scan` (what it leaves out kept as HEAD has it), as an in-memory index, and its id.
fn fabric_tree(
    fr: &FabricRepo,
    head_tree: Option<&git2::Tree>,
    scan: &Scanned,
) -> Result<(git2::Index, Oid)> {
    let mut scratch = without_fabric(fr, head_tree)?;
    for e in &scan.entries {
        scratch.add(e).map_err(local("build tree"))?;
    }
    for o in scan.kept() {
        keep_from_head(&fr.repo, head_tree, &o.path, &mut scratch)?;
    }
    let id = scratch
        .write_tree_to(&fr.repo)
        .map_err(local("write tree"))?;
    Ok((scratch, id))
}

/// The path a diff entry is about: its new side, or its old one for a removal.
fn delta_path(d: &git2::DiffDelta) -> String {
    d.new_file()
        .path()
        .or(d.old_file().path())
        .map(|p| p.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// An in-memory index of `tree` (none: empty) without the fabric's part: what every tree fgd
/// commits starts from, so nothing outside the fabric changes.
fn without_fabric(fr: &FabricRepo, tree: Option<&git2::Tree>) -> Result<git2::Index> {
    let mut scratch = git2::Index::new().map_err(local("build tree"))?;
    if let Some(t) = tree {
        scratch.read_tree(t).map_err(local("build tree"))?;
    }
    fr.clear_fabric(&mut scratch).map_err(local("build tree"))?;
    Ok(scratch)
}

/// What `push` would commit now, as a patch: HEAD's tree against the tree `commit_fabric`
/// would build from the fabric's files. Read-only for the working copy and its index (blobs
/// and trees are written to the object store, as `git add` would; unreferenced, gc takes them).
/// At most `max_lines` lines of patch, then a line saying how many more there are. After the
/// first line (the counts), a line for each thing that makes the push differ from the patch:
/// an unfinished batch (push finishes it first), a path left out, a refusal.
pub fn pending_diff(fabric: &Fabric, max_lines: usize) -> Result<Vec<String>> {
    let (fr, _) = FabricRepo::inspect(fabric, &GitOptions::default())?;
    let repo = &fr.repo;
    let head = fr.head();
    let old_tree = head.as_ref().and_then(|h| h.tree().ok());
    let index = repo.index().map_err(local("open index"))?;
    let tracked = tracked_fabric_paths(&fr, old_tree.as_ref(), &index);
    let scan = scan_fabric(&fr, fabric, old_tree.as_ref(), &tracked)?;
    let (_, tree_id) = fabric_tree(&fr, old_tree.as_ref(), &scan)?;
    let tree = repo.find_tree(tree_id).map_err(local("read tree"))?;
    let diff = repo
        .diff_tree_to_tree(old_tree.as_ref(), Some(&tree), None)
        .map_err(local("diff"))?;
    let mut out = Vec::new();
    if let Ok(st) = diff.stats() {
        out.push(format!(
            "{} file(s) changed, {} insertion(s)(+), {} deletion(s)(-) against {}",
            st.files_changed(),
            st.insertions(),
            st.deletions(),
            head.as_ref()
                .map(|h| h.id().to_string()[..10].to_string())
                .unwrap_or_else(|| "an empty history".into())
        ));
    }
    match journal::load(fabric) {
        Ok(None) => {}
        Ok(Some(j)) => out.push(format!(
            "note: {} batch {} is unfinished (.hnp/journal.json, left by an interrupted run): push and sync finish it first, so they commit its finished result (its managed files, archive and log record, without the raw/ originals it takes), not the patch below; fgd ingest finishes it now",
            j.command, j.batch
        )),
        Err(e) => out.push(format!(
            "note: an unfinished batch's journal is there but cannot be read ({e}): push and sync try to finish it first"
        )),
    }
    for o in &scan.left_out {
        out.push(format!(
            "left out: {} ({}: ingest leaves it in raw/ too, and push does not commit it)",
            o.shown, o.what
        ));
    }
    let problems = problems_of(&fr, &scan, old_tree.as_ref(), &tree, &diff)?;
    for p in &problems {
        out.push(format!("push would refuse this commit: {p}"));
    }
    // managed/ first: that is what Argo CD and Flux will apply; then the rest of the tree,
    // fgd's own records last.
    let group = |p: &str| {
        let inner = fr.inner(p);
        if inner.starts_with(crate::fabric::MANAGED) {
            0
        } else if inner.starts_with(crate::fabric::HNP) {
            2
        } else {
            1
        }
    };
    let mut files: std::collections::BTreeMap<(u8, String), Vec<String>> = Default::default();
    diff.print(git2::DiffFormat::Patch, |delta, _, line| {
        let path = delta_path(&delta);
        let text = String::from_utf8_lossy(line.content());
        let text = text.trim_end_matches('\n');
        let lines = files.entry((group(&path), path)).or_default();
        match line.origin() {
            c @ ('+' | '-' | ' ') => lines.push(format!("{c}{text}")),
            // File headers come as one piece: diff --git, mode, index, ---, +++.
            _ => lines.extend(text.lines().map(str::to_string)),
        }
        true
    })
    .map_err(local("diff"))?;
    let mut more = 0usize;
    for line in files.into_values().flatten() {
        if out.len() >= max_lines {
            more += 1;
        } else {
            out.push(line);
        }
    }
    if more > 0 {
        out.push(format!("... {more} more line(s)"));
    }
    Ok(out)
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Committed {
    pub commit: String,
    pub added: usize,
    pub modified: usize,
    pub deleted: usize,
}

/// The fabric's entries of `index` (path, mode, blob), sorted: what `git status` compares
/// HEAD and the disk with.
fn fabric_entries(fr: &FabricRepo, index: &git2::Index) -> Vec<(Vec<u8>, u32, Oid)> {
    let mut v: Vec<_> = index
        .iter()
        .filter(|e| fr.holds(&e.path))
        .map(|e| (e.path, e.mode, e.id))
        .collect();
    v.sort();
    v
}

/// Commit the fabric directory as it is on disk. None when nothing changed.
pub fn commit_fabric(
    fr: &FabricRepo,
    fabric: &Fabric,
    opts: &GitOptions,
    default_message: &str,
    sink: &mut dyn Sink,
) -> Result<Option<Committed>> {
    // Every commit fgd makes is announced the same way (sync's local commit included).
    sink.emit(Event::GitPhaseStarted {
        phase: GitPhase::Commit,
        detail: fr.prefix.clone(),
    });
    let repo = &fr.repo;
    let mut index = repo.index().map_err(local("open index"))?;
    let head = fr.head();
    let head_tree = match &head {
        Some(h) => Some(h.tree().map_err(local("read tree"))?),
        None => None,
    };
    let tracked = tracked_fabric_paths(fr, head_tree.as_ref(), &index);
    let scan = scan_fabric(fr, fabric, head_tree.as_ref(), &tracked)?;
    for o in &scan.left_out {
        sink.emit(Event::GitLeftOut {
            path: o.shown.clone(),
            reason: o.what.clone(),
        });
    }
    // Nothing fgd will not commit is committed, and HEAD's version of it is not dropped
    // either: a refusal, even when nothing else changed.
    if !scan.refused.is_empty() {
        return Err(GitError::Unmanageable {
            problems: scan.refusals(),
        });
    }
    // HEAD's tree with the fabric's part replaced: nothing else of the index goes in.
    let (scratch, tree_id) = fabric_tree(fr, head_tree.as_ref(), &scan)?;
    // The index's fabric part becomes the tree's (with the stat data just read), so git
    // status agrees with HEAD and the disk once the commit is made.
    let before = fabric_entries(fr, &index);
    fr.clear_fabric(&mut index).map_err(local("update index"))?;
    for e in scratch.iter() {
        if fr.holds(&e.path) {
            index.add(&e).map_err(local("update index"))?;
        }
    }
    if head.as_ref().map(|h| h.tree_id()) == Some(tree_id) {
        // Nothing to commit; but an index a run killed before writing it left behind (HEAD
        // moved on, the index not) is put right, or the operator's next `git commit` would
        // take the fabric's last change back.
        if fabric_entries(fr, &index) != before {
            index.write().map_err(local("write index"))?;
        }
        return Ok(None);
    }
    let tree = repo.find_tree(tree_id).map_err(local("read tree"))?;
    let old_tree = head.as_ref().and_then(|h| h.tree().ok());
    let mut counts = Committed::default();
    let mut lines = Vec::new();
    let diff = repo
        .diff_tree_to_tree(old_tree.as_ref(), Some(&tree), None)
        .map_err(local("diff"))?;
    for d in diff.deltas() {
        let path = delta_path(&d);
        let mark = match d.status() {
            git2::Delta::Added => {
                counts.added += 1;
                "A"
            }
            git2::Delta::Deleted => {
                counts.deleted += 1;
                "D"
            }
            _ => {
                counts.modified += 1;
                "M"
            }
        };
        lines.push(format!("{mark} {path}"));
    }
    let problems = problems_of(fr, &scan, old_tree.as_ref(), &tree, &diff)?;
    if !problems.is_empty() {
        return Err(GitError::Unmanageable { problems });
    }
    let message = match &opts.message {
        Some(m) => m.clone(),
        None => {
            let shown = lines.len().min(200);
            let more = if lines.len() > shown {
                format!("\n... and {} more", lines.len() - shown)
            } else {
                String::new()
            };
            format!(
                "{default_message}\n\n{} added, {} modified, {} deleted under {}\n\n{}{more}\n",
                counts.added,
                counts.modified,
                counts.deleted,
                if fr.prefix.is_empty() {
                    "."
                } else {
                    &fr.prefix
                },
                lines[..shown].join("\n")
            )
        }
    };
    let sig = signature(repo, opts)?;
    let parents: Vec<&git2::Commit> = head.iter().collect();
    // The index first, then the branch: a run killed between the two leaves the change
    // staged against the old HEAD (the next push commits it), never a moved branch over an
    // index that would take the change back.
    index.write().map_err(local("write index"))?;
    store::failpoint(FAILPOINT_BEFORE_COMMIT);
    let oid = repo
        .commit(Some("HEAD"), &sig, &sig, &message, &tree, &parents)
        .map_err(local("commit"))?;
    counts.commit = oid.to_string();
    sink.emit(Event::GitCommitted {
        commit: counts.commit.clone(),
        summary: message.lines().next().unwrap_or_default().to_string(),
        added: counts.added,
        modified: counts.modified,
        deleted: counts.deleted,
    });
    Ok(Some(counts))
}

/// The index is written with the commit's tree, the branch not yet moved to the commit.
pub const FAILPOINT_BEFORE_COMMIT: &str = "git.before-commit";

/// Why the commit of `tree` (against `old`, as `diff`) must not be made, one line per path.
/// managed/ is what Argo CD and Flux apply, and one file they cannot read stops every object
/// of the fabric: a commit that adds or changes a managed file that is not the one object an
/// ingest would write at its path (a hand edit, a file copied in) is refused, naming each
/// file and line; and when it changes anything under managed/, the kustomization it commits
/// must be the one ingest writes for the object files it commits (a file deleted by hand, a
/// hand-edited kustomization, an object nothing lists would make kustomize fail or skip it).
fn problems_of(
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
fn managed_of(fr: &FabricRepo, tree: &git2::Tree) -> Result<(Vec<String>, Option<Vec<u8>>)> {
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
fn kustomization_problems(
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

/// The commit author: `--author` (or `FGD_GIT_AUTHOR`, the dashboard's `git_author`), else
/// git config's `user.name`/`user.email`. None of them is a usage error, said before any work:
/// as git, fgd never commits under a made-up identity.
fn signature(repo: &Repository, opts: &GitOptions) -> Result<Signature<'static>> {
    if let Some(a) = &opts.author {
        let (name, email) = parse_author(a)?;
        return Signature::now(&name, &email).map_err(local("author"));
    }
    repo.signature().map_err(|e| {
        GitError::Usage(format!(
            "no commit author: git config has no usable user.name and user.email ({}), and no --author, FGD_GIT_AUTHOR or dashboard git_author gives one. Set them (git config user.name \"Your Name\"; git config user.email you@example.com) or pass --author \"Name <email>\"",
            e.message()
        ))
    })
}

/// Replay our commits (those not in `upstream`) on `upstream`, in memory. Commits the remote
/// already has identically become empty and are dropped.
fn replay(
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
fn changed_on_both_sides(
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
fn resolve_generated(fr: &FabricRepo, idx: &mut git2::Index) -> Result<Vec<String>> {
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
fn object_of_path(path: &str) -> Option<String> {
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
fn advance_to(fr: &FabricRepo, target: Oid) -> Result<()> {
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
fn integrate(
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

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct LastPush {
    pub at: String,
    pub remote: String,
    pub branch: String,
    pub commit: String,
    pub url: String,
}

const LAST_PUSH: &str = ".hnp/local/last-push.json";

fn push_with_retry(
    fr: &FabricRepo,
    fabric: &Fabric,
    opts: &GitOptions,
    sink: &mut dyn Sink,
) -> Result<LastPush> {
    let url = fr.remote_url()?;
    let shown = transport::url_info(&url).shown;
    let auth_cfg = opts.auth.clone().unwrap_or_else(auth::AuthConfig::from_env);
    let refname = format!("refs/heads/{}", fr.branch);
    for _attempt in 0..3 {
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
        let result = {
            let session = Session::new(&url, auth_cfg.clone(), opts.known_hosts.clone(), sink);
            transport::push(&fr.repo, &fr.remote, &fr.branch, &session)?
        };
        match result {
            PushResult::Pushed => {
                let rec = LastPush {
                    at: store::now_rfc3339(),
                    remote: fr.remote.clone(),
                    branch: fr.branch.clone(),
                    commit: head.to_string(),
                    url: shown.clone(),
                };
                // Keep the remote-tracking ref in step, as git push does.
                let _ = fr.repo.reference(
                    &format!("refs/remotes/{}/{}", fr.remote, fr.branch),
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
                let remote_tip = {
                    let session =
                        Session::new(&url, auth_cfg.clone(), opts.known_hosts.clone(), sink);
                    transport::fetch(&fr.repo, &fr.remote, &fr.branch, &session)?
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
                integrate(fr, remote_tip, &shown, sink)?;
            }
        }
    }
    Err(GitError::Rejected {
        url: shown,
        message: "the remote kept moving during three attempts; try again".into(),
    })
}

#[derive(Debug, Clone, Serialize)]
pub struct PushReport {
    pub committed: Option<Committed>,
    pub pushed: LastPush,
}

/// A batch's record in `.hnp/log.jsonl`, as far as a commit message needs it.
struct LoggedBatch {
    batch: String,
    command: String,
    files: usize,
    managed: usize,
    unmanaged: usize,
}

impl LoggedBatch {
    /// Reads only the record's head (`oplog::Head`: a record can be megabytes of documents
    /// after it).
    fn parse(line: &[u8]) -> Option<LoggedBatch> {
        let head = crate::oplog::Head::of_line(line)?;
        let s = &head.summary;
        Some(LoggedBatch {
            files: s.files,
            managed: s.created + s.updated + s.unchanged,
            unmanaged: s.unmanaged,
            batch: head.batch,
            command: head.command,
        })
    }
}

fn count(n: usize, what: &str) -> String {
    format!("{n} {what}{}", if n == 1 { "" } else { "s" })
}

/// The batches in the fabric's log that HEAD's log does not hold: what the next commit records.
fn uncommitted_batches(fr: &FabricRepo, fabric: &Fabric) -> Vec<LoggedBatch> {
    use std::io::BufRead;
    let mut committed = std::collections::HashSet::new();
    if let Some(blob) = fr
        .head()
        .and_then(|h| h.tree().ok())
        .and_then(|t| t.get_path(Path::new(&fr.rel(fabric::LOG))).ok())
        .and_then(|e| fr.repo.find_blob(e.id()).ok())
    {
        for line in blob.content().split(|&b| b == b'\n') {
            if let Some(b) = crate::oplog::record_batch(line) {
                committed.insert(b.to_string());
            }
        }
    }
    let Ok(Some((f, _))) = crate::store::open_regular(&fabric.path(fabric::LOG)) else {
        return Vec::new();
    };
    std::io::BufReader::new(f)
        .split(b'\n')
        .map_while(|l| l.ok())
        .filter(|l| crate::oplog::record_batch(l).is_some_and(|b| !committed.contains(b)))
        .filter_map(|l| LoggedBatch::parse(&l))
        .collect()
}

/// The default commit message: the fabric, the action, and the batches the commit records (a
/// commit after failed pushes holds several; its subject says how many, its body lists them).
fn batch_message(fr: &FabricRepo, fabric: &Fabric, what: &str) -> String {
    let m = fabric.manifest().ok();
    let name = m
        .as_ref()
        .map(|m| m.fabric.clone())
        .unwrap_or_else(|| "fabric".into());
    let batches = uncommitted_batches(fr, fabric);
    let line = |b: &LoggedBatch| {
        format!(
            "{} {}: {}, {} managed, {} unmanaged",
            b.command,
            b.batch,
            count(b.files, "file"),
            b.managed,
            b.unmanaged
        )
    };
    match batches.as_slice() {
        [] => format!("fgd({name}): {what}"),
        [b] => format!("fgd({name}): {what}; last batch {}", line(b)),
        [.., last] => {
            let total = |f: fn(&LoggedBatch) -> usize| batches.iter().map(f).sum::<usize>();
            let shown = batches.len().min(100);
            let mut listed: Vec<String> = batches[batches.len() - shown..]
                .iter()
                .map(|b| format!("batch {}", line(b)))
                .collect();
            if batches.len() > shown {
                listed.insert(
                    0,
                    format!("... and {} earlier batches", batches.len() - shown),
                );
            }
            format!(
                "fgd({name}): {what}; {} batches, the last {} {}: {}, {} managed, {} unmanaged\n\n{}",
                batches.len(),
                last.command,
                last.batch,
                count(total(|b| b.files), "file"),
                total(|b| b.managed),
                total(|b| b.unmanaged),
                listed.join("\n")
            )
        }
    }
}

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
    let committed = commit_fabric(
        &fr,
        &fabric,
        opts,
        &batch_message(&fr, &fabric, "update"),
        sink,
    )?;
    let pushed = push_with_retry(&fr, &fabric, opts, sink)?;
    Ok(PushReport { committed, pushed })
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
    // Record local edits first, so integrating never has to overwrite or stash anything.
    let local_commit = commit_fabric(
        &fr,
        &fabric,
        opts,
        &batch_message(&fr, &fabric, "record local changes before sync"),
        sink,
    )?;
    let url = fr.remote_url()?;
    let shown = transport::url_info(&url).shown;
    let auth_cfg = opts.auth.clone().unwrap_or_else(auth::AuthConfig::from_env);
    let remote_tip = {
        let session = Session::new(&url, auth_cfg, opts.known_hosts.clone(), sink);
        transport::fetch(&fr.repo, &fr.remote, &fr.branch, &session)?
    };
    let integrated = integrate(&fr, remote_tip, &shown, sink)?;
    fabric.check_layout()?;
    let summary = ingest::run_locked(&fabric, &lock, &Default::default(), sink)?;
    let committed = commit_fabric(
        &fr,
        &fabric,
        opts,
        &batch_message(&fr, &fabric, "sync"),
        sink,
    )?;
    let has_commit = fr.head().is_some();
    let pushed = if has_commit {
        Some(push_with_retry(&fr, &fabric, opts, sink)?)
    } else {
        None
    };
    Ok(SyncReport {
        local_commit,
        integrated,
        ingest: summary,
        committed,
        pushed,
    })
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
    fr.refuse_bypassed_hooks()?;
    let _lock = store::FabricLock::acquire(&fabric.path(fabric::LOCK), "init --push")?;
    let committed = commit_fabric(
        &fr,
        fabric,
        opts,
        &batch_message(&fr, fabric, "initialise the fabric layout"),
        sink,
    )?;
    let pushed = push_with_retry(&fr, fabric, opts, sink)?;
    Ok(PushReport { committed, pushed })
}

#[derive(Debug, Clone, Serialize)]
pub struct GitState {
    /// The checked-out branch; "detached HEAD at <commit>" when `detached`.
    pub branch: String,
    /// HEAD is not on a branch: fgd will not push until one is checked out.
    pub detached: bool,
    pub remote: String,
    pub upstream: Option<String>,
    pub ahead: usize,
    pub behind: usize,
    /// Fabric paths that differ from HEAD (changed, new or deleted), as the disk is now.
    pub uncommitted: usize,
    /// The batch an interrupted run left unfinished, if any: push and sync finish it before
    /// they commit, so what they commit differs from `uncommitted`.
    pub unfinished: Option<String>,
    pub last_push: Option<LastPush>,
}

/// A path of raw/ (relative to the working copy) that is there but not a regular file: what
/// commits leave out, so it is not counted as uncommitted.
fn left_out_of_commits(fr: &FabricRepo, path: &str) -> bool {
    let inner = fr.inner(path);
    if !(inner == fabric::RAW || inner.starts_with("raw/")) {
        return false;
    }
    let Some(workdir) = fr.repo.workdir() else {
        return false;
    };
    std::fs::symlink_metadata(workdir.join(path)).is_ok_and(|m| !m.is_file())
}

/// A small file's bytes, if it is a regular file (never through a symlink, never waiting on
/// a FIFO); None otherwise.
fn read_regular(path: &Path) -> Option<Vec<u8>> {
    crate::store::ReadRegular::new().read(path).ok()?.bytes()
}

/// Offline: compares with the last fetched remote-tracking ref. None outside a working copy; a
/// detached HEAD is reported as such (no branch, nothing ahead or behind).
pub fn git_state(fabric: &Fabric) -> Option<GitState> {
    let (fr, checkout) = FabricRepo::inspect(fabric, &GitOptions::default()).ok()?;
    let upstream_ref = format!("refs/remotes/{}/{}", fr.remote, fr.branch);
    let head = fr.head().map(|c| c.id());
    let (detached, branch, upstream) = match checkout {
        Checkout::Branch(b) => (false, b, fr.repo.refname_to_id(&upstream_ref).ok()),
        Checkout::Detached(id) => (true, format!("detached HEAD at {}", short(id)), None),
    };
    let (ahead, behind) = match (head, upstream) {
        (Some(h), Some(u)) => fr.repo.graph_ahead_behind(h, u).unwrap_or((0, 0)),
        (Some(_), None) if detached => (0, 0),
        (Some(_), None) => (
            fr.repo
                .revwalk()
                .ok()
                .map(|mut w| {
                    let _ = w.push_head();
                    w.count()
                })
                .unwrap_or(0),
            0,
        ),
        _ => (0, 0),
    };
    let mut so = git2::StatusOptions::new();
    so.include_untracked(true)
        .recurse_untracked_dirs(true)
        .include_ignored(false);
    for top in FABRIC_PATHS {
        so.pathspec(fr.rel(top));
    }
    let uncommitted = fr
        .repo
        .statuses(Some(&mut so))
        .map(|s| {
            s.iter()
                .filter(|e| {
                    fr.is_fabric_path(e.path_bytes())
                        && !volatile(fr.inner(e.path().unwrap_or_default()))
                        && !left_out_of_commits(&fr, e.path().unwrap_or_default())
                })
                .count()
        })
        .unwrap_or(0);
    let last_push =
        read_regular(&fabric.path(LAST_PUSH)).and_then(|b| serde_json::from_slice(&b).ok());
    let unfinished = journal::load(fabric).ok().flatten().map(|j| j.batch);
    Some(GitState {
        unfinished,
        branch,
        detached,
        remote: fr.remote.clone(),
        upstream: upstream.map(|_| upstream_ref),
        ahead,
        behind,
        uncommitted,
        last_push,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hnp_gitignore_keeps_machine_state_out_and_nothing_else() {
        let rules = HnpIgnore::parse(
            "# fgd: machine-local state, never committed\nlock\njournal.json\nlocal/\n*.bak\n/archive/old/\n!keep.bak\n",
        );
        for ignored in [
            ".hnp/lock",
            ".hnp/journal.json",
            ".hnp/local/last-push.json",
            ".hnp/local/x/y",
            ".hnp/notes.bak",
            ".hnp/archive/old/a.yaml.orig",
        ] {
            assert!(rules.ignores(ignored), "{ignored}");
        }
        for kept in [
            ".hnp/log.jsonl",
            ".hnp/manifest.json",
            ".hnp/archive/b1/a.yaml.orig",
            ".hnp/archive/b1/old/a.yaml.orig",
            ".hnp/keep.bak",
            ".hnp/local",
            "managed/lock",
            "raw/local/a.yaml",
        ] {
            assert!(!rules.ignores(kept), "{kept}");
        }
    }

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
