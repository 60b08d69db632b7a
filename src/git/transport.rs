//! Fetch and push over any transport libgit2 speaks (path, git://, HTTP(S), SSH), with fgd's
//! credentials, host-key checks, timeouts and progress events. Push success means `push()`
//! returned Ok AND no ref was rejected in the per-ref callback: a server refusal arrives only
//! there.

use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use git2::{
    CertificateCheckStatus, ErrorClass, ErrorCode, FetchOptions, PushOptions, RemoteCallbacks,
    Repository,
};

use super::auth::{Auth, AuthConfig};
use super::known_hosts::{self, HostKeyVerdict};
use super::{GitError, GitPhase};
use crate::event::{Event, Sink};

/// What fgd knows of a remote URL, for host-key checks and messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UrlInfo {
    /// URL without its userinfo (user name and password: a token is often given as the user
    /// name, `https://TOKEN@host/...`): safe to print, log and record.
    pub shown: String,
    pub transport: &'static str,
    pub host: Option<String>,
    pub port: Option<u16>,
}

/// Parse `ssh://u@h:p/x`, `u@h:x` (scp form), `https://u:secret@h/x`, `git://h/x`, paths.
pub fn url_info(url: &str) -> UrlInfo {
    let (transport, rest) = match url.split_once("://") {
        Some((scheme, rest)) => (
            match scheme {
                "ssh" | "git+ssh" | "ssh+git" => "ssh",
                "https" => "https",
                "http" => "http",
                "git" => "git",
                "file" => "file",
                _ => "unknown",
            },
            Some(rest),
        ),
        None if url.contains(':') && !url.starts_with('/') && !url.starts_with('.') => {
            ("ssh", None)
        }
        None => ("file", None),
    };
    let (host, port, shown) = match rest {
        Some(rest) => {
            let (authority, path) = rest
                .split_once('/')
                .map(|(a, p)| (a, format!("/{p}")))
                .unwrap_or((rest, String::new()));
            let hostport = authority
                .rsplit_once('@')
                .map(|(_, h)| h)
                .unwrap_or(authority);
            let (host, port) = match hostport.strip_prefix('[').and_then(|h| h.split_once(']')) {
                Some((h, p)) => (
                    h.to_string(),
                    p.strip_prefix(':').and_then(|p| p.parse().ok()),
                ),
                None => match hostport.rsplit_once(':') {
                    Some((h, p)) if p.chars().all(|c| c.is_ascii_digit()) && !p.is_empty() => {
                        (h.to_string(), p.parse().ok())
                    }
                    _ => (hostport.to_string(), None),
                },
            };
            // Never show the userinfo: a password, or a token given as the user name.
            let scheme = url.split("://").next().unwrap_or("");
            (Some(host), port, format!("{scheme}://{hostport}{path}"))
        }
        None if transport == "ssh" => {
            let (authority, path) = url.split_once(':').unwrap_or((url, ""));
            let host = authority
                .rsplit('@')
                .next()
                .unwrap_or(authority)
                .to_string();
            let shown = format!("{host}:{path}");
            (Some(host), None, shown)
        }
        None => (None, None, url.to_string()),
    };
    UrlInfo {
        shown,
        transport,
        host,
        port,
    }
}

/// The userinfo of a URL (`user`, `user:password`), which must never be printed.
fn userinfo(url: &str) -> Option<&str> {
    let authority = match url.split_once("://") {
        Some((_, rest)) => rest.split('/').next().unwrap_or(rest),
        None => url.split_once(':').map(|(a, _)| a).unwrap_or(""),
    };
    authority
        .rsplit_once('@')
        .map(|(u, _)| u)
        .filter(|u| !u.is_empty())
}

/// The hooks git's receive-pack runs on the receiving side. libgit2 pushes to a path or
/// `file://` remote by writing its objects and refs directly, so it runs none of them.
const RECEIVE_HOOKS: [&str; 7] = [
    "pre-receive",
    "update",
    "proc-receive",
    "reference-transaction",
    "push-to-checkout",
    "post-receive",
    "post-update",
];

/// The repository a path or `file://` URL names on this machine (relative paths against the
/// working copy `base`, as git resolves them); None for a network URL.
fn local_path(url: &str, base: &Path) -> Option<PathBuf> {
    if url_info(url).transport != "file" {
        return None;
    }
    let path = match url.strip_prefix("file://") {
        Some(rest) => rest.strip_prefix("localhost").unwrap_or(rest),
        None => url,
    };
    let path = Path::new(path);
    Some(if path.is_absolute() {
        path.to_path_buf()
    } else {
        base.join(path)
    })
}

/// Refuse to push over a path or `file://` URL to a repository that has receive hooks: libgit2
/// would bypass them (a protected branch would silently move). A repository without them (the
/// demo's remote, a shared bare repository) is pushed to as before.
pub fn refuse_local_hooks(url: &str, base: &Path) -> Result<(), GitError> {
    let Some(path) = local_path(url, base) else {
        return Ok(());
    };
    let Ok(repo) = Repository::open_ext(
        &path,
        git2::RepositoryOpenFlags::NO_SEARCH,
        std::iter::empty::<&std::ffi::OsStr>(),
    ) else {
        return Ok(()); // not a repository: the push itself says so
    };
    let configured = repo
        .config()
        .ok()
        .and_then(|c| c.get_path("core.hooksPath").ok());
    let (dir, source) = match configured {
        Some(p) if p.is_absolute() => (p, "core.hooksPath"),
        Some(p) => (
            repo.workdir().unwrap_or_else(|| repo.path()).join(p),
            "core.hooksPath",
        ),
        None => (repo.path().join("hooks"), "hooks"),
    };
    let found: Vec<String> = RECEIVE_HOOKS
        .iter()
        .filter(|h| {
            use std::os::unix::fs::PermissionsExt;
            std::fs::metadata(dir.join(h))
                .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
        .map(|h| h.to_string())
        .collect();
    if found.is_empty() {
        return Ok(());
    }
    Err(GitError::HooksBypassed {
        url: url_info(url).shown,
        hooks: found,
        dir: format!(
            "{}{}",
            dir.display(),
            if source == "core.hooksPath" {
                " (core.hooksPath)"
            } else {
                ""
            }
        ),
    })
}

/// State the callbacks share during one network operation.
pub struct Session<'s> {
    sink: RefCell<&'s mut dyn Sink>,
    /// The raw URL's userinfo, scrubbed from every message libgit2 hands back.
    secret: Option<String>,
    auth: RefCell<Auth>,
    host_error: RefCell<Option<String>>,
    /// The SHA-256 fingerprint of the TLS certificate the server presented, for a refusal.
    tls_fingerprint: RefCell<Option<String>>,
    rejected: RefCell<Vec<(String, String)>>,
    last_progress: RefCell<Instant>,
    /// The last progress reported: libgit2's local push calls back once per object with the
    /// same `done == total`, which would repeat one line thousands of times.
    last_sent: RefCell<Option<(GitPhase, usize, usize, usize)>>,
    known_hosts: Vec<PathBuf>,
    url: UrlInfo,
    /// Stop a push that would create its branch on the remote (one fetched before: someone
    /// deleted it), and whether that happened.
    refuse_new_branch: bool,
    new_branch_refused: RefCell<bool>,
    /// The end of the last sideband packet that ended mid-line: a server's line can arrive in
    /// two packets.
    remote_tail: RefCell<String>,
}

impl<'s> Session<'s> {
    pub fn new(
        url: &str,
        auth: AuthConfig,
        known_hosts_extra: Option<PathBuf>,
        sink: &'s mut dyn Sink,
    ) -> Session<'s> {
        let secret = userinfo(url).map(str::to_string);
        let url_password = secret.as_deref().is_some_and(|u| u.contains(':'));
        Session {
            sink: RefCell::new(sink),
            secret,
            auth: RefCell::new(Auth::new(auth).with_url_password(url_password)),
            host_error: RefCell::new(None),
            tls_fingerprint: RefCell::new(None),
            rejected: RefCell::new(Vec::new()),
            last_progress: RefCell::new(Instant::now() - Duration::from_secs(1)),
            last_sent: RefCell::new(None),
            known_hosts: known_hosts::default_files(known_hosts_extra.as_deref()),
            url: url_info(url),
            refuse_new_branch: false,
            new_branch_refused: RefCell::new(false),
            remote_tail: RefCell::new(String::new()),
        }
    }

    /// Refuse (in the push negotiation, before any object is sent) to create the branch.
    pub fn refuse_new_branch(mut self, refuse: bool) -> Session<'s> {
        self.refuse_new_branch = refuse;
        self
    }

    /// Credential helpers from `repo`'s config too (its own, over the global and system ones).
    pub fn with_repository(self, repo: &Repository) -> Session<'s> {
        let auth = self.auth.replace(Auth::new(AuthConfig::default()));
        *self.auth.borrow_mut() = auth.with_repository(repo);
        self
    }

    pub fn emit(&self, e: Event) {
        self.sink.borrow_mut().emit(e);
    }

    /// Progress at most ~10 times a second (a slow SSH link must not drown in redraws).
    fn progress(&self, phase: GitPhase, done: usize, total: usize, bytes: usize) {
        let now = Instant::now();
        let due = now.duration_since(*self.last_progress.borrow()) >= Duration::from_millis(100);
        let news = *self.last_sent.borrow() != Some((phase, done, total, bytes));
        if news && (due || (total > 0 && done == total)) {
            *self.last_progress.borrow_mut() = now;
            *self.last_sent.borrow_mut() = Some((phase, done, total, bytes));
            self.emit(Event::GitProgress {
                phase,
                done,
                total,
                bytes,
            });
        }
    }

    fn check_host_key(
        &self,
        cert: &git2::cert::Cert<'_>,
        host: &str,
    ) -> Result<CertificateCheckStatus, git2::Error> {
        let Some(hk) = cert.as_hostkey() else {
            // TLS: libgit2's own certificate verification decides; the certificate is noted,
            // so a refusal can say which one was presented.
            if let Some(x509) = cert.as_x509() {
                use sha2::{Digest, Sha256};
                let hex: Vec<String> = Sha256::digest(x509.data())
                    .iter()
                    .map(|b| format!("{b:02X}"))
                    .collect();
                // The subject, so the operator can tell which certificate it was (a proxy's,
                // a self-signed test server's) without fetching it; the fingerprint is exact.
                let subject = x509_parser::parse_x509_certificate(x509.data())
                    .ok()
                    .map(|(_, c)| c.subject().to_string())
                    .filter(|s| !s.is_empty());
                let shown = match subject {
                    Some(subject) => {
                        format!("{subject:?} with SHA-256 fingerprint {}", hex.join(":"))
                    }
                    None => format!("with SHA-256 fingerprint {}", hex.join(":")),
                };
                *self.tls_fingerprint.borrow_mut() = Some(shown);
            }
            return Ok(CertificateCheckStatus::CertificatePassthrough);
        };
        let Some(blob) = hk.hostkey() else {
            let msg = format!(
                "the SSH server {host} did not present its raw host key; fgd cannot verify it"
            );
            *self.host_error.borrow_mut() = Some(msg.clone());
            return Err(git2::Error::from_str(&msg));
        };
        let name = known_hosts::host_pattern(host, self.url.port);
        let key_type = known_hosts::blob_key_type(blob).unwrap_or_else(|| "unknown".into());
        let fp = known_hosts::fingerprint(blob);
        let files: Vec<String> = self
            .known_hosts
            .iter()
            .map(|p| p.display().to_string())
            .collect();
        let msg = match known_hosts::check(&self.known_hosts, &name, blob) {
            HostKeyVerdict::Known => return Ok(CertificateCheckStatus::CertificateOk),
            HostKeyVerdict::Unknown => format!(
                "the SSH host key of {name} is not known: {key_type} {fp}. fgd never accepts an unknown host key. Check the fingerprint with the server's administrator, then add the key to ~/.ssh/known_hosts (e.g. ssh-keyscan{} {host} >> ~/.ssh/known_hosts). Files read: {}",
                self.url.port.filter(|p| *p != 22).map(|p| format!(" -p {p}")).unwrap_or_default(),
                files.join(", ")
            ),
            HostKeyVerdict::Changed { file, line } => format!(
                "the SSH host key of {name} has CHANGED: the server presented {key_type} {fp}, but {}:{line} holds a different {key_type} key. This can be a man-in-the-middle attack. If the server was really re-keyed, remove the old key (ssh-keygen -R '{name}') and add the new one",
                file.display()
            ),
            HostKeyVerdict::Revoked { file, line } => format!(
                "the SSH host key of {name} ({key_type} {fp}) is marked @revoked in {}:{line}",
                file.display()
            ),
        };
        *self.host_error.borrow_mut() = Some(msg.clone());
        Err(git2::Error::from_str(&msg))
    }

    pub fn callbacks(&self, phase: GitPhase) -> RemoteCallbacks<'_> {
        let mut cb = RemoteCallbacks::new();
        cb.credentials(move |url, user, allowed| {
            self.auth.borrow_mut().credentials(url, user, allowed)
        });
        cb.certificate_check(move |cert, host| self.check_host_key(cert, host));
        cb.sideband_progress(move |bytes| {
            // A line ended by `\r` is a progress update the server redraws in place ("Counting
            // objects: 45% (9/20)"); one ended by `\n` is said for good (that phase's last
            // update, "... done."). A line cut between packets waits for its end.
            let mut text = std::mem::take(&mut *self.remote_tail.borrow_mut());
            text.push_str(&String::from_utf8_lossy(bytes));
            let mut rest = text.as_str();
            while let Some(i) = rest.find(['\n', '\r']) {
                let (line, end) = (rest[..i].trim(), rest.as_bytes()[i]);
                if !line.is_empty() {
                    self.emit(Event::GitRemote {
                        line: line.to_string(),
                        progress: end == b'\r',
                    });
                }
                rest = &rest[i + 1..];
            }
            *self.remote_tail.borrow_mut() = rest.to_string();
            true
        });
        cb.transfer_progress(move |p| {
            self.progress(
                phase,
                p.received_objects(),
                p.total_objects(),
                p.received_bytes(),
            );
            true
        });
        // The pack a push sends is built first (objects counted, then deltas looked for):
        // with 10^5 new objects that takes seconds before the first object goes out.
        cb.pack_progress(move |_stage, done, total| self.progress(GitPhase::Pack, done, total, 0));
        cb.push_transfer_progress(move |done, total, bytes| {
            self.progress(GitPhase::Push, done, total, bytes)
        });
        // `src` is the remote's current target: zero when the push would create the ref.
        cb.push_negotiation(move |updates| {
            if self.refuse_new_branch && updates.iter().any(|u| u.src().is_zero()) {
                *self.new_branch_refused.borrow_mut() = true;
                return Err(git2::Error::from_str(
                    "fgd: the remote branch is gone; not recreating it",
                ));
            }
            Ok(())
        });
        cb.push_update_reference(move |refname, status| {
            if let Some(s) = status {
                self.rejected
                    .borrow_mut()
                    .push((refname.to_string(), s.to_string()));
            }
            Ok(())
        });
        cb
    }

    /// An fgd error for a failed network operation, keeping fgd's own messages that libgit2
    /// would otherwise replace with generic text.
    pub fn error(&self, op: &'static str, e: git2::Error) -> GitError {
        let mut auth = self.auth.borrow_mut();
        let said = match &self.secret {
            Some(secret) => e.message().replace(secret.as_str(), "***"),
            None => e.message().to_string(),
        };
        // fgd's own decisions are typed (host_error, auth.exhausted); where libgit2 gives no
        // code or class that tells a case apart (an OpenSSL verification failure, an HTTP
        // status), its message text is the only source, so that is read here and nowhere else.
        let (message, refused) = if let Some(h) = self.host_error.borrow().clone() {
            (h, true)
        } else if e.code() == ErrorCode::Certificate
            || (e.class() == ErrorClass::Ssl && said.contains("certificate"))
        {
            let presented = match self.tls_fingerprint.borrow().as_deref() {
                Some(fp) => format!("the server presented a certificate {fp}, "),
                None => String::new(),
            };
            let hint = format!("{presented}not signed by a CA trusted here: the system's CA store plus http.sslCAInfo / http.sslCAPath (git config) or GIT_SSL_CAINFO / GIT_SSL_CAPATH, which add to it; SSL_CERT_FILE replaces it");
            (format!("{said} ({hint})"), true)
        } else if auth.exhausted
            || e.code() == ErrorCode::Auth
            || (e.class() == ErrorClass::Http && said.contains("401"))
        {
            auth.failed();
            (format!("authentication failed ({said})"), true)
        } else if e.class() == ErrorClass::Http && said.contains("404") {
            // libgit2 reports an HTTP status only in its message text ("unexpected http status
            // code: 404"): no code or class tells it apart. A missing repository is not
            // transient: a refusal, not an I/O failure.
            (
                format!("{said} (no repository at this URL, or the credentials cannot see it: check the remote's URL)"),
                true,
            )
        } else if let Some(t) = timed_out(&e, &said) {
            (t, false)
        } else {
            (said, false)
        };
        GitError::Remote {
            op,
            url: self.url.shown.clone(),
            transport: self.url.transport,
            message,
            tried: auth.tried.clone(),
            refused,
        }
    }

    pub fn take_rejections(&self) -> Vec<(String, String)> {
        std::mem::take(&mut self.rejected.borrow_mut())
    }
}

/// A timeout, said as one whatever the transport: git:// and HTTP say "timed out", while
/// TLS reports a read that hit the socket's timeout as EAGAIN ("Resource temporarily
/// unavailable").
fn timed_out(e: &git2::Error, said: &str) -> Option<String> {
    let eagain = said.contains("Resource temporarily unavailable") || said.contains("EAGAIN");
    if !(e.code() == ErrorCode::Timeout || said.contains("timed out") || eagain) {
        return None;
    }
    let (connect_ms, read_ms) = super::options::timeouts();
    Some(if said.contains("connect") && !eagain {
        format!(
            "timed out after {connect_ms} ms connecting (FGD_GIT_CONNECT_TIMEOUT_MS); libgit2: {said}"
        )
    } else {
        format!(
            "timed out after {read_ms} ms waiting for the server (FGD_GIT_TIMEOUT_MS); libgit2: {said}"
        )
    })
}

/// Proxies as git finds them: `remote.<name>.proxy`, `http.proxy`, then `https_proxy` /
/// `http_proxy` (and `no_proxy`) from the environment; libgit2 reads them all in its "auto"
/// mode, for HTTP(S) (SSH goes direct, as with git).
fn proxy() -> git2::ProxyOptions<'static> {
    let mut p = git2::ProxyOptions::new();
    p.auto();
    p
}

/// Trust the CAs git config names (`http.sslCAInfo`, `http.sslCAPath` of the repository at
/// `dir`, layered over the global and system config) or the environment does
/// (`GIT_SSL_CAINFO`, `GIT_SSL_CAPATH`, which win, as in git), in addition to the system's
/// store. libgit2 keeps this in a global of OpenSSL's context: call once, before any thread
/// starts (the front end does, next to `set_timeouts`).
pub fn set_tls_trust(dir: &Path) -> Result<(), GitError> {
    let cfg = Repository::discover(dir)
        .and_then(|r| r.config())
        .or_else(|_| git2::Config::open_default())
        .ok();
    let pick = |env: &str, key: &str| -> Option<PathBuf> {
        std::env::var_os(env)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .or_else(|| cfg.as_ref().and_then(|c| c.get_path(key).ok()))
    };
    let file = pick("GIT_SSL_CAINFO", "http.sslCAInfo");
    let path = pick("GIT_SSL_CAPATH", "http.sslCAPath");
    // SAFETY: called from the front end's main thread before any other thread exists.
    unsafe {
        if let Some(f) = file {
            git2::opts::set_ssl_cert_file(&f).map_err(|e| {
                GitError::Setup(format!("http.sslCAInfo {}: {}", f.display(), e.message()))
            })?;
        }
        if let Some(p) = path {
            git2::opts::set_ssl_cert_dir(&p).map_err(|e| {
                GitError::Setup(format!("http.sslCAPath {}: {}", p.display(), e.message()))
            })?;
        }
    }
    Ok(())
}

/// Report that `phase` starts against `remote`, and find it.
fn start<'r>(
    repo: &'r Repository,
    remote: &str,
    session: &Session,
    phase: GitPhase,
) -> Result<git2::Remote<'r>, GitError> {
    session.emit(Event::GitPhaseStarted {
        phase,
        detail: format!("{remote} {}", session.url.shown),
    });
    repo.find_remote(remote)
        .map_err(|e| GitError::local("find remote", e))
}

/// Fetch `branch` into `refs/remotes/<remote>/<branch>`; its tip, None if the remote lacks it.
/// libgit2 fetching into a shallow clone (`git clone --depth N`) rewrites `.git/shallow`
/// without the history it then lacks, which leaves a repository neither git nor fgd can walk:
/// fgd refuses to fetch there, before any network work.
pub fn refuse_shallow(repo: &Repository) -> Result<(), GitError> {
    if !repo.is_shallow() {
        return Ok(());
    }
    Err(GitError::Setup(format!(
        "{} is a shallow clone (git clone --depth): fgd must fetch here, and libgit2 cannot fetch into a shallow clone without breaking it. Nothing was fetched or pushed (a local commit is kept). Fetch the full history once (git fetch --unshallow), then run fgd again",
        repo.workdir().unwrap_or(repo.path()).display()
    )))
}

pub fn fetch(
    repo: &Repository,
    remote: &str,
    branch: &str,
    session: &Session,
) -> Result<Option<git2::Oid>, GitError> {
    refuse_shallow(repo)?;
    let mut r = start(repo, remote, session, GitPhase::Fetch)?;
    let mut opts = FetchOptions::new();
    opts.proxy_options(proxy());
    opts.remote_callbacks(session.callbacks(GitPhase::Fetch));
    let spec = format!("+refs/heads/{branch}:refs/remotes/{remote}/{branch}");
    r.fetch(&[&spec], Some(&mut opts), None)
        .map_err(|e| session.error("fetch", e))?;
    // A branch the remote does not advertise is gone (or never was), whatever the stale
    // remote-tracking ref still says (libgit2 does not prune it).
    let wanted = format!("refs/heads/{branch}");
    let advertised = r
        .list()
        .map(|heads| heads.iter().any(|h| h.name() == wanted))
        .unwrap_or(true);
    if !advertised {
        return Ok(None);
    }
    match repo.refname_to_id(&format!("refs/remotes/{remote}/{branch}")) {
        Ok(oid) => Ok(Some(oid)),
        Err(e) if e.code() == ErrorCode::NotFound => Ok(None),
        Err(e) => Err(GitError::local("read remote branch", e)),
    }
}

/// An exclusive lock on a path remote for the time of one push (`flock` on a file in the
/// repository: fgd's writers queue; git's own pushes go through receive-pack's ref locks).
struct LocalPushLock {
    /// Held open for the lock's lifetime; closing it releases the lock.
    _held: std::fs::File,
}

impl LocalPushLock {
    fn take(repo_path: &Path) -> Result<LocalPushLock, GitError> {
        let lock = repo_path.join("fgd-push.lock");
        let f = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock)
            .map_err(|e| GitError::io("lock", &lock, e))?;
        rustix::fs::flock(&f, rustix::fs::FlockOperation::LockExclusive)
            .map_err(|e| GitError::io("lock", &lock, e.into()))?;
        Ok(LocalPushLock { _held: f })
    }
}

pub enum PushResult {
    Pushed,
    /// The server refused the ref (non-fast-forward, protected branch, hook): its words.
    Rejected(String),
}

/// Push local branch `branch` to the remote's `upstream`.
pub fn push(
    repo: &Repository,
    remote: &str,
    branch: &str,
    upstream: &str,
    session: &Session,
) -> Result<PushResult, GitError> {
    if let Some(base) = repo.workdir() {
        if let Some(url) = repo.find_remote(remote).ok().and_then(|r| {
            r.pushurl()
                .ok()
                .flatten()
                .or(r.url().ok())
                .map(str::to_string)
        }) {
            refuse_local_hooks(&url, base)?;
        }
    }
    // A path remote is written by libgit2 itself: it checks that the push is a fast-forward,
    // then moves the ref with no compare-and-swap, so two pushes at once can lose one (seen:
    // four writers, one commit gone). fgd pushes to it one at a time, under a lock in the
    // repository, and checks the ref afterwards. libgit2's local transport also asks no push
    // negotiation: whether the branch is gone is looked at directly.
    let local = repo
        .workdir()
        .and_then(|base| local_path(&session.url.shown, base));
    let _serialized = match &local {
        Some(path) => Some(LocalPushLock::take(path)?),
        None => None,
    };
    if session.refuse_new_branch {
        if let Some(path) = &local {
            let gone = Repository::open_bare(path)
                .or_else(|_| Repository::open(path))
                .is_ok_and(|r| r.find_reference(&format!("refs/heads/{upstream}")).is_err());
            if gone {
                return Err(GitError::BranchDeleted {
                    url: session.url.shown.clone(),
                    branch: upstream.to_string(),
                });
            }
        }
    }
    let mut r = start(repo, remote, session, GitPhase::Push)?;
    let mut opts = PushOptions::new();
    opts.proxy_options(proxy());
    opts.remote_callbacks(session.callbacks(GitPhase::Push));
    // The pack's delta search on every core (libgit2's default is one thread), as git's
    // pack-objects does.
    opts.packbuilder_parallelism(0);
    let spec = format!("refs/heads/{branch}:refs/heads/{upstream}");
    match r.push(&[&spec], Some(&mut opts)) {
        Ok(()) => {}
        Err(_) if *session.new_branch_refused.borrow() => {
            return Err(GitError::BranchDeleted {
                url: session.url.shown.clone(),
                branch: upstream.to_string(),
            })
        }
        Err(e) if e.code() == ErrorCode::NotFastForward => {
            return Ok(PushResult::Rejected(e.message().to_string()))
        }
        Err(e) => return Err(session.error("push", e)),
    }
    let rejected = session.take_rejections();
    if rejected.is_empty() {
        if let Some(path) = &local {
            // Under the lock nothing else of fgd's moves it; a plain git push may have.
            let pushed = repo.refname_to_id(&format!("refs/heads/{branch}")).ok();
            let there = Repository::open_bare(path)
                .or_else(|_| Repository::open(path))
                .ok()
                .and_then(|r| r.refname_to_id(&format!("refs/heads/{upstream}")).ok());
            if there != pushed {
                return Ok(PushResult::Rejected(format!(
                    "refs/heads/{upstream} moved while it was pushed (another writer)"
                )));
            }
        }
    }
    match rejected.first() {
        None => Ok(PushResult::Pushed),
        Some((refname, status)) => Ok(PushResult::Rejected(format!("{refname}: {status}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_parsed_and_secrets_never_shown() {
        let u = url_info("https://alice:s3cret@127.0.0.1:8443/repos/fab.git");
        assert_eq!(u.shown, "https://127.0.0.1:8443/repos/fab.git");
        assert_eq!(
            url_info("https://ghp_T0KEN@github.com/team/fab.git").shown,
            "https://github.com/team/fab.git"
        );
        assert_eq!(
            userinfo("https://alice:s3cret@127.0.0.1:8443/repos/fab.git"),
            Some("alice:s3cret")
        );
        assert_eq!(userinfo("https://127.0.0.1/a@b.git"), None);
        assert_eq!(userinfo("git@example.org:team/fab.git"), Some("git"));
        assert_eq!(
            url_info("git@example.org:team/fab.git").shown,
            "example.org:team/fab.git"
        );
        assert_eq!(
            (u.transport, u.host.as_deref(), u.port),
            ("https", Some("127.0.0.1"), Some(8443))
        );
        let u = url_info("ssh://git@127.0.0.1:2222/srv/fab.git");
        assert_eq!(
            (u.transport, u.host.as_deref(), u.port),
            ("ssh", Some("127.0.0.1"), Some(2222))
        );
        let u = url_info("git@example.org:team/fab.git");
        assert_eq!(
            (u.transport, u.host.as_deref(), u.port),
            ("ssh", Some("example.org"), None)
        );
        assert_eq!(url_info("/srv/repos/fab.git").transport, "file");
        assert_eq!(url_info("git://127.0.0.1:9418/fab.git").port, Some(9418));
    }
}
