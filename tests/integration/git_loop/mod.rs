//! The git loop against real servers on loopback (../shared/gitserver): a bare repository by
//! path, git daemon, smart HTTP(S) with a token, and OpenSSH. Every result is checked in a fresh
//! `git clone` of the remote, which is what Argo CD and Flux see.

use crate::common;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use common::{fgd_bin, kustomization, kustomize, s, shared, write, Run};

// One file per topic.
mod config;
mod errors;
mod in_progress;
mod integrate;
mod io;
mod many;
mod outgoing;
mod tip;
mod verdicts;

const VPC1: &str = "apiVersion: vpc.githedgehog.com/v1beta1\nkind: VPC\nmetadata:\n  name: vpc-1\nspec:\n  subnets:\n    default:\n      subnet: 10.0.1.0/24\n      vlan: 1001\n";
const VPC2: &str = "apiVersion: vpc.githedgehog.com/v1beta1\nkind: VPC\nmetadata:\n  name: vpc-2\nspec:\n  subnets:\n    default:\n      subnet: 10.0.2.0/24\n      vlan: 1002\n";

/// A server started by one of the shared scripts, stopped when dropped (also on a failed test).
struct Server {
    facts: HashMap<String, String>,
    pidfile: PathBuf,
}

impl Server {
    fn start(script: &str, repos: &Path, state: &Path, extra: &[&str]) -> Server {
        let pidfile = state.join(format!("{script}.pid"));
        let out = Command::new("bash")
            .arg(shared().join("gitserver").join(script))
            .arg(repos)
            .arg("0")
            .arg("--pidfile")
            .arg(&pidfile)
            .arg("--state")
            .arg(state.join(script))
            .args(extra)
            .output()
            .expect("start server");
        assert!(
            out.status.success(),
            "{script}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let facts = String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| {
                l.split_once('=')
                    .map(|(k, v)| (k.to_string(), v.to_string()))
            })
            .collect();
        Server { facts, pidfile }
    }
    fn get(&self, k: &str) -> &str {
        self.facts
            .get(k)
            .unwrap_or_else(|| panic!("server did not print {k}: {:?}", self.facts))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = Command::new("bash")
            .arg(shared().join("gitserver/stop-server.sh"))
            .arg(&self.pidfile)
            .output();
    }
}

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .env("GIT_TERMINAL_PROMPT", "0")
        .output()
        .expect("git");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A temporary world: an empty HOME (no keys, no agent, no global git config) and bare repos.
struct World {
    t: tempfile::TempDir,
}

impl World {
    fn new() -> World {
        let w = World {
            t: tempfile::tempdir().unwrap(),
        };
        std::fs::create_dir_all(w.home()).unwrap();
        std::fs::create_dir_all(w.repos()).unwrap();
        w
    }
    fn home(&self) -> PathBuf {
        self.t.path().join("home")
    }
    fn repos(&self) -> PathBuf {
        self.t.path().join("repos")
    }
    fn state(&self) -> PathBuf {
        self.t.path().join("state")
    }
    /// A bare repo seeded with one commit, like a forge's new repository.
    fn bare(&self, name: &str) -> PathBuf {
        let out = Command::new("bash")
            .arg(shared().join("gitserver/make-bare-repo.sh"))
            .arg(self.repos())
            .arg(name)
            .arg("--seed")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        self.repos().join(format!("{name}.git"))
    }
    /// A working copy of `bare` whose origin is `url`, with a fabric in a sub-folder.
    fn clone(&self, bare: &Path, name: &str, url: &str) -> (PathBuf, PathBuf) {
        let wc = self.t.path().join(name);
        let out = Command::new("git")
            .arg("clone")
            .arg("-q")
            .arg(bare)
            .arg(&wc)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        git(&wc, &["config", "user.name", name]);
        git(
            &wc,
            &["config", "user.email", &format!("{name}@example.invalid")],
        );
        git(&wc, &["remote", "set-url", "origin", url]);
        (wc.clone(), wc.join("fabrics/dc1"))
    }
    fn fgd(&self, args: &[&str], env: &[(&str, &str)]) -> Run {
        let mut c = Command::new(fgd_bin());
        c.args(args)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOME", self.home())
            .env("FGD_CONFIG", common::envelope_config())
            .env("FGD_GIT_CONNECT_TIMEOUT_MS", "5000")
            .env("FGD_GIT_TIMEOUT_MS", "10000");
        for (k, v) in env {
            c.env(k, v);
        }
        let out = c.output().unwrap();
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
    /// What a fresh clone of the remote holds under the fabric.
    fn fresh(&self, bare: &Path) -> PathBuf {
        let n = std::fs::read_dir(self.t.path()).unwrap().count();
        let dir = self.t.path().join(format!("fresh-{n}"));
        let out = Command::new("git")
            .arg("clone")
            .arg("-q")
            .arg(bare)
            .arg(&dir)
            .output()
            .unwrap();
        assert!(out.status.success());
        dir.join("fabrics/dc1")
    }
}

fn ok(r: &Run, what: &str) {
    assert_eq!(
        r.code, 0,
        "{what}: exit {}\n{}\n{}",
        r.code, r.stdout, r.stderr
    );
}

/// init --push, drop files, push; a fresh clone holds managed files and the kustomization.
fn round_trip(w: &World, bare: &Path, url: &str, env: &[(&str, &str)], label: &str) {
    let (_wc, fab) = w.clone(bare, &format!("wc-{label}"), url);
    let t = Instant::now();
    ok(&w.fgd(&["init", s(&fab), "--push"], env), "init --push");
    let init_ms = t.elapsed().as_millis();
    assert!(
        w.fresh(bare).join(".hnp/manifest.json").is_file(),
        "layout visible upstream at once"
    );
    write(&fab.join("raw/tenants.yaml"), format!("{VPC1}---\n{VPC2}"));
    ok(&w.fgd(&["ingest", s(&fab)], env), "ingest");
    // The dry run shows the patch and sends nothing.
    let r = w.fgd(&["push", s(&fab), "--dry-run"], env);
    ok(&r, "push --dry-run");
    assert!(
        r.stdout.contains("managed/vpcs/vpc-1.yaml") && r.stdout.contains("+kind: VPC"),
        "{}",
        r.stdout
    );
    assert!(!w.fresh(bare).join("managed/vpcs/vpc-1.yaml").exists());
    let t = Instant::now();
    let r = w.fgd(&["push", s(&fab), "--json"], env);
    let push_ms = t.elapsed().as_millis();
    ok(&r, "push");
    assert!(r.of("git-pushed").len() == 1, "{}", r.stdout);
    let fresh = w.fresh(bare);
    assert_eq!(
        kustomization(&fresh),
        ["vpcs/vpc-1.yaml", "vpcs/vpc-2.yaml"]
    );
    assert_eq!(
        std::fs::read_to_string(fresh.join("managed/vpcs/vpc-1.yaml")).unwrap(),
        VPC1
    );
    assert!(
        !fresh.join(".hnp/lock").exists(),
        "the lock is machine-local"
    );
    write(&fab.join("raw/more.yaml"), VPC1.replace("vpc-1", "vpc-3"));
    let t = Instant::now();
    ok(&w.fgd(&["sync", s(&fab)], env), "sync");
    let sync_ms = t.elapsed().as_millis();
    assert!(w.fresh(bare).join("managed/vpcs/vpc-3.yaml").is_file());
    let st = w.fgd(&["status", s(&fab), "--json"], env);
    let g = &st.of("status")[0]["git"];
    assert_eq!(
        (
            g["ahead"].as_u64(),
            g["behind"].as_u64(),
            g["uncommitted"].as_u64()
        ),
        (Some(0), Some(0), Some(0)),
        "{g}"
    );
    eprintln!("{label}: init --push {init_ms} ms, push {push_ms} ms, sync {sync_ms} ms");
}

#[test]
fn push_and_sync_over_a_path_remote() {
    let w = World::new();
    let bare = w.bare("fab");
    round_trip(&w, &bare, s(&bare), &[], "path");
}

#[test]
fn push_and_sync_over_git_daemon() {
    let w = World::new();
    let bare = w.bare("fab");
    let srv = Server::start("start-git-daemon.sh", &w.repos(), &w.state(), &[]);
    round_trip(
        &w,
        &bare,
        &format!("{}fab.git", srv.get("URL")),
        &[],
        "git-daemon",
    );
}

#[test]
fn https_with_a_token_and_a_wrong_token_gets_a_clear_error_without_the_secret() {
    let w = World::new();
    let bare = w.bare("fab");
    let srv = Server::start(
        "start-http-git.sh",
        &w.repos(),
        &w.state(),
        &["--token", "right-token-123", "--tls"],
    );
    let url = format!("{}fab.git", srv.get("URL"));
    let ca = srv.get("CA_FILE").to_string();
    let (_wc, fab) = w.clone(&bare, "wc", &url);
    ok(&w.fgd(&["init", s(&fab)], &[]), "init");
    write(&fab.join("raw/a.yaml"), VPC1);
    ok(&w.fgd(&["ingest", s(&fab)], &[]), "ingest");
    let wrong = [
        ("SSL_CERT_FILE", ca.as_str()),
        ("FGD_GIT_USER", "fgd"),
        ("FGD_GIT_TOKEN", "wrong-token-456"),
    ];
    let r = w.fgd(&["push", s(&fab)], &wrong);
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert!(
        r.stderr.contains(&url) && r.stderr.contains("https"),
        "names URL and transport: {}",
        r.stderr
    );
    assert!(
        r.stderr.contains("FGD_GIT_TOKEN"),
        "names the method tried: {}",
        r.stderr
    );
    assert!(
        !r.stderr.contains("wrong-token-456") && !r.stdout.contains("wrong-token-456"),
        "never prints the token"
    );
    // No CA trust: a TLS failure, not a silent success.
    let r = w.fgd(
        &["push", s(&fab)],
        &[
            ("FGD_GIT_USER", "fgd"),
            ("FGD_GIT_TOKEN", "right-token-123"),
        ],
    );
    assert_eq!(
        r.code, 3,
        "an untrusted certificate is refused: {}",
        r.stderr
    );
    assert!(r.stderr.contains("SSL_CERT_FILE"), "{}", r.stderr);
    // The commit was kept; the retry with the right token pushes it.
    let right = [
        ("SSL_CERT_FILE", ca.as_str()),
        ("FGD_GIT_USER", "fgd"),
        ("FGD_GIT_TOKEN", "right-token-123"),
    ];
    let t = Instant::now();
    ok(
        &w.fgd(&["push", s(&fab)], &right),
        "push with the right token",
    );
    eprintln!("https: push {} ms", t.elapsed().as_millis());
    assert!(w.fresh(&bare).join("managed/vpcs/vpc-1.yaml").is_file());
    write(&fab.join("raw/b.yaml"), VPC2);
    let t = Instant::now();
    ok(&w.fgd(&["sync", s(&fab)], &right), "sync");
    eprintln!("https: sync {} ms", t.elapsed().as_millis());
    assert!(w.fresh(&bare).join("managed/vpcs/vpc-2.yaml").is_file());
}

fn sshd_available() -> bool {
    Path::new("/usr/sbin/sshd").exists()
}

/// An SSH git server on loopback (the server first: it is stopped before its folder goes) and
/// a working copy of it with a fabric ingested and ready to push.
struct SshFabric {
    srv: Server,
    w: World,
    bare: PathBuf,
    fab: PathBuf,
    known: String,
    identity: String,
}

fn ssh_fabric() -> SshFabric {
    assert!(
        sshd_available(),
        "sshd is missing: .ci/run installs openssh-server"
    );
    let w = World::new();
    let bare = w.bare("fab");
    let srv = Server::start("start-ssh-git.sh", &w.repos(), &w.state(), &[]);
    let url = format!("{}fab.git", srv.get("URL"));
    let known = srv.get("KNOWN_HOSTS").to_string();
    let identity = srv.get("IDENTITY").to_string();
    let (_wc, fab) = w.clone(&bare, "wc", &url);
    ok(&w.fgd(&["init", s(&fab)], &[]), "init");
    write(&fab.join("raw/a.yaml"), VPC1);
    ok(&w.fgd(&["ingest", s(&fab)], &[]), "ingest");
    SshFabric {
        srv,
        w,
        bare,
        fab,
        known,
        identity,
    }
}

/// A key pair the server has never heard of.
fn stranger_key(w: &World) -> PathBuf {
    let stranger = w.t.path().join("stranger");
    let out = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-f"])
        .arg(&stranger)
        .output()
        .unwrap();
    assert!(out.status.success());
    stranger
}

#[test]
fn ssh_keys_host_keys_and_their_failures() {
    // Bound whole, so the server stops before its folder goes.
    let ssh_fab = ssh_fabric();
    let SshFabric {
        srv,
        w,
        bare,
        fab,
        known,
        identity,
    } = &ssh_fab;

    // Unknown host key: never accepted; fgd's own message with the fingerprint.
    let empty = w.t.path().join("empty_known_hosts");
    write(&empty, "");
    let r = w.fgd(
        &["push", s(fab)],
        &[("FGD_SSH_KEY", identity), ("FGD_KNOWN_HOSTS", s(&empty))],
    );
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert!(
        r.stderr.contains("not known")
            && r.stderr.contains("SHA256:")
            && r.stderr.contains("[127.0.0.1]:"),
        "{}",
        r.stderr
    );

    // Changed host key: a different key of the same type on file for this host.
    let text = std::fs::read_to_string(known).unwrap();
    let forged: String = text
        .lines()
        .map(|l| {
            let mut f: Vec<String> = l.split_whitespace().map(str::to_string).collect();
            if f.len() >= 3 {
                let key = f[2].clone();
                let mid = key.len() / 2;
                let swapped = if &key[mid..mid + 1] == "A" { "B" } else { "A" };
                f[2] = format!("{}{}{}", &key[..mid], swapped, &key[mid + 1..]);
            }
            f.join(" ") + "\n"
        })
        .collect();
    let forged_file = w.t.path().join("forged_known_hosts");
    write(&forged_file, forged);
    let r = w.fgd(
        &["push", s(fab)],
        &[
            ("FGD_SSH_KEY", identity),
            ("FGD_KNOWN_HOSTS", s(&forged_file)),
        ],
    );
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert!(
        r.stderr.contains("CHANGED") && r.stderr.contains("ssh-keygen -R"),
        "{}",
        r.stderr
    );

    // Missing agent and an unauthorised key: each method named, tried once.
    let stranger = stranger_key(w);
    let r = w.fgd(
        &["push", s(fab)],
        &[("FGD_SSH_KEY", s(&stranger)), ("FGD_KNOWN_HOSTS", known)],
    );
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert!(
        r.stderr.contains("ssh-agent (SSH_AUTH_SOCK is not set)"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains(&format!("key {}", stranger.display())),
        "{}",
        r.stderr
    );
    // The URL as shown: without its userinfo (the ssh user), like every URL fgd prints.
    let url = format!("{}fab.git", srv.get("URL"));
    let shown = url.replacen(&format!("{}@", srv.get("SSH_USER")), "", 1);
    assert!(
        r.stderr.contains(&shown) && r.stderr.contains("over ssh"),
        "{}",
        r.stderr
    );

    // The right key: the kept commit goes up.
    let t = Instant::now();
    ok(
        &w.fgd(
            &["push", s(fab)],
            &[("FGD_SSH_KEY", identity), ("FGD_KNOWN_HOSTS", known)],
        ),
        "push over ssh",
    );
    eprintln!("ssh: push {} ms", t.elapsed().as_millis());
    assert!(w.fresh(bare).join("managed/vpcs/vpc-1.yaml").is_file());
    write(&fab.join("raw/b.yaml"), VPC2);
    let t = Instant::now();
    ok(
        &w.fgd(
            &["sync", s(fab)],
            &[("FGD_SSH_KEY", identity), ("FGD_KNOWN_HOSTS", known)],
        ),
        "sync over ssh",
    );
    eprintln!("ssh: sync {} ms", t.elapsed().as_millis());
    assert!(w.fresh(bare).join("managed/vpcs/vpc-2.yaml").is_file());

    // Through an agent holding the key.
    let sock = w.t.path().join("agent.sock");
    let mut agent = Command::new("ssh-agent")
        .arg("-D")
        .arg("-a")
        .arg(&sock)
        .spawn()
        .unwrap();
    for _ in 0..100 {
        if sock.exists() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let add = Command::new("ssh-add")
        .arg(identity)
        .env("SSH_AUTH_SOCK", &sock)
        .output()
        .unwrap();
    assert!(
        add.status.success(),
        "{}",
        String::from_utf8_lossy(&add.stderr)
    );
    write(&fab.join("raw/c.yaml"), VPC1.replace("vpc-1", "vpc-4"));
    let r = w.fgd(
        &["sync", s(fab)],
        &[("SSH_AUTH_SOCK", s(&sock)), ("FGD_KNOWN_HOSTS", known)],
    );
    let _ = agent.kill();
    let _ = agent.wait();
    ok(&r, "sync through ssh-agent");
    assert!(w.fresh(bare).join("managed/vpcs/vpc-4.yaml").is_file());
}

#[test]
fn a_server_side_refusal_is_a_failure_and_the_commit_is_kept() {
    // A path remote is written by libgit2 itself and runs no hooks (fgd refuses such a push, see
    // below): use git daemon (receive-pack), whose hooks run.
    let w = World::new();
    let bare = w.bare("fab");
    let srv = Server::start("start-git-daemon.sh", &w.repos(), &w.state(), &[]);
    let url = format!("{}fab.git", srv.get("URL"));
    let (_wc, fab) = w.clone(&bare, "wc", &url);
    ok(&w.fgd(&["init", s(&fab), "--push"], &[]), "init --push");
    let hook = bare.join("hooks/pre-receive");
    write(
        &hook,
        "#!/bin/sh\necho 'branch is frozen for the change window' >&2\nexit 1\n",
    );
    std::fs::set_permissions(&hook, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    write(&fab.join("raw/a.yaml"), VPC1);
    ok(&w.fgd(&["ingest", s(&fab)], &[]), "ingest");
    let r = w.fgd(&["push", s(&fab)], &[]);
    assert_eq!(
        r.code, 3,
        "a refusal is not success: {}\n{}",
        r.stdout, r.stderr
    );
    assert!(r.stderr.contains("refused"), "{}", r.stderr);
    assert!(!w.fresh(&bare).join("managed/vpcs/vpc-1.yaml").exists());
    let st = w.fgd(&["status", s(&fab), "--json"], &[]);
    assert_eq!(
        st.of("status")[0]["git"]["ahead"],
        1,
        "the commit is kept locally"
    );
    std::fs::remove_file(&hook).unwrap();
    ok(&w.fgd(&["push", s(&fab)], &[]), "retry after the window");
    assert!(w.fresh(&bare).join("managed/vpcs/vpc-1.yaml").is_file());
}

#[test]
fn two_clones_ingesting_different_files_both_sync_in_either_order() {
    for first_a in [true, false] {
        let w = World::new();
        let bare = w.bare("fab");
        let (_a, fa) = w.clone(&bare, "a", s(&bare));
        ok(&w.fgd(&["init", s(&fa), "--push"], &[]), "init --push");
        let (_b, fb) = w.clone(&bare, "b", s(&bare));
        write(&fa.join("raw/a.yaml"), VPC1);
        write(&fb.join("raw/b.yaml"), VPC2);
        // Both ingest locally first: their commits both touch the kustomization and the log.
        ok(&w.fgd(&["ingest", s(&fa)], &[]), "ingest a");
        ok(&w.fgd(&["ingest", s(&fb)], &[]), "ingest b");
        let order = if first_a { [&fa, &fb] } else { [&fb, &fa] };
        for f in order {
            let r = w.fgd(&["sync", s(f)], &[]);
            ok(&r, "sync");
        }
        let fresh = w.fresh(&bare);
        assert_eq!(
            kustomization(&fresh),
            ["vpcs/vpc-1.yaml", "vpcs/vpc-2.yaml"]
        );
        // The first to sync sees the other's work after one more sync.
        ok(&w.fgd(&["sync", s(order[0])], &[]), "sync again");
        assert!(
            order[0].join("managed/vpcs/vpc-1.yaml").is_file()
                && order[0].join("managed/vpcs/vpc-2.yaml").is_file()
        );
        common::kustomize(&fresh);
        let log = std::fs::read_to_string(fresh.join(".hnp/log.jsonl")).unwrap();
        assert_eq!(
            log.lines().count(),
            2,
            "both batches are in the merged log:\n{log}"
        );
    }
}

#[test]
fn two_clones_changing_the_same_object_stop_with_a_named_conflict() {
    let w = World::new();
    let bare = w.bare("fab");
    let (_a, fa) = w.clone(&bare, "a", s(&bare));
    write(&fa.join("raw/a.yaml"), VPC1);
    ok(&w.fgd(&["init", s(&fa)], &[]), "init");
    ok(&w.fgd(&["sync", s(&fa)], &[]), "first sync");
    let (b, fb) = w.clone(&bare, "b", s(&bare));
    write(&fa.join("raw/x.yaml"), VPC1.replace("1001", "2001"));
    write(&fb.join("raw/y.yaml"), VPC1.replace("1001", "3001"));
    ok(&w.fgd(&["ingest", s(&fa)], &[]), "a changes vpc-1");
    ok(
        &w.fgd(&["ingest", s(&fb)], &[]),
        "b changes vpc-1 differently",
    );
    ok(&w.fgd(&["sync", s(&fa)], &[]), "a syncs first");
    let before = git(&b, &["rev-parse", "HEAD"]);
    let r = w.fgd(&["sync", s(&fb)], &[]);
    assert_eq!(r.code, 3, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stderr.contains("conflict")
            && r.stderr.contains("fabrics/dc1/managed/vpcs/vpc-1.yaml")
            && r.stderr.contains("VPC/vpc-1"),
        "{}",
        r.stderr
    );
    // Both commits are safe: a's upstream, b's on b's branch, nothing pushed from b.
    let b_head = git(&b, &["rev-parse", "HEAD"]);
    assert_ne!(b_head, before, "b's ingest was committed locally");
    assert!(git(&b, &["show", "HEAD:fabrics/dc1/managed/vpcs/vpc-1.yaml"]).contains("3001"));
    assert!(
        std::fs::read_to_string(w.fresh(&bare).join("managed/vpcs/vpc-1.yaml"))
            .unwrap()
            .contains("2001")
    );
}

#[test]
fn sync_ingests_raw_files_someone_else_committed_upstream() {
    let w = World::new();
    let bare = w.bare("fab");
    let (_a, fa) = w.clone(&bare, "a", s(&bare));
    ok(&w.fgd(&["init", s(&fa), "--push"], &[]), "init --push");
    // Someone without fgd commits a raw file with plain git.
    let (other, fo) = w.clone(&bare, "other", s(&bare));
    write(&fo.join("raw/from-colleague.yaml"), VPC2);
    git(&other, &["add", "-A"]);
    git(&other, &["commit", "-qm", "add vpc-2 the old way"]);
    git(&other, &["push", "-q", "origin", "HEAD"]);
    let r = w.fgd(&["sync", s(&fa), "--json"], &[]);
    ok(&r, "sync");
    let fresh = w.fresh(&bare);
    assert!(
        fresh.join("managed/vpcs/vpc-2.yaml").is_file(),
        "ingested and pushed"
    );
    assert!(
        !fresh.join("raw/from-colleague.yaml").exists(),
        "raw/ is empty upstream too"
    );
    assert_eq!(kustomization(&fresh), ["vpcs/vpc-2.yaml"]);
}

#[test]
fn a_dead_link_fails_in_seconds_and_a_retry_pushes_the_kept_commit() {
    let w = World::new();
    let bare = w.bare("fab");
    // Accepts connections and never says a word: a hung server or a black-holed link.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let _holder = std::thread::spawn(move || {
        let mut held = Vec::new();
        for c in listener.incoming().take(8).flatten() {
            held.push(c);
        }
        std::thread::sleep(std::time::Duration::from_secs(30));
    });
    let (wc, fab) = w.clone(&bare, "wc", &format!("git://127.0.0.1:{port}/fab.git"));
    ok(&w.fgd(&["init", s(&fab)], &[]), "init");
    write(&fab.join("raw/a.yaml"), VPC1);
    ok(&w.fgd(&["ingest", s(&fab)], &[]), "ingest");
    let t = Instant::now();
    let r = w.fgd(
        &["push", s(&fab)],
        &[
            ("FGD_GIT_TIMEOUT_MS", "2000"),
            ("FGD_GIT_CONNECT_TIMEOUT_MS", "2000"),
        ],
    );
    let took = t.elapsed();
    assert_eq!(r.code, 4, "{}", r.stderr);
    assert!(
        took < std::time::Duration::from_secs(15),
        "a dead link must fail in seconds, took {took:?}"
    );
    assert!(
        r.stderr
            .contains(&format!("git://127.0.0.1:{port}/fab.git")),
        "{}",
        r.stderr
    );
    eprintln!(
        "dead link: failed after {} ms: {}",
        took.as_millis(),
        r.stderr.trim()
    );
    // Nothing lost: the commit is there; pointing at the real remote pushes it.
    git(&wc, &["remote", "set-url", "origin", s(&bare)]);
    ok(&w.fgd(&["push", s(&fab)], &[]), "retry");
    assert!(w.fresh(&bare).join("managed/vpcs/vpc-1.yaml").is_file());
}

/// Paths a commit changed, as `git show --name-only` lists them.
fn changed_in(repo: &Path, rev: &str) -> Vec<String> {
    git(repo, &["show", "--name-only", "--format=", rev])
        .lines()
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

/// Only raw/, managed/, unmanaged/, .hnp/ and .sourceignore are the fabric's.
fn is_fabric_path(path: &str, prefix: &str) -> bool {
    let inner = if prefix.is_empty() {
        path
    } else {
        match path.strip_prefix(&format!("{prefix}/")) {
            Some(r) => r,
            None => return false,
        }
    };
    inner == ".sourceignore"
        || ["raw/", "managed/", "unmanaged/", ".hnp/"]
            .iter()
            .any(|p| inner.starts_with(p))
}

/// The operator's other work: a secret, unstaged edits, scratch files, something staged.
fn leave_other_work(wc: &Path, inside: &Path) {
    write(&wc.join(".env"), "AWS_SECRET_ACCESS_KEY=abc123\n");
    let readme = wc.join("README.md");
    let mut text = std::fs::read_to_string(&readme).unwrap();
    text.push_str("half-written WIP\n");
    write(&readme, text);
    write(&wc.join("scratch/notes.txt"), "tmp\n");
    write(&wc.join("staged.txt"), "staged-only\n");
    git(wc, &["add", "staged.txt"]);
    // A file inside the fabric folder that is not one of the fabric's own paths.
    write(&inside.join("NOTES.md"), "operator's notes, not fgd's\n");
}

fn other_work_untouched(wc: &Path) {
    let st = git(wc, &["status", "--porcelain", "--untracked-files=all"]);
    for want in [
        "?? .env",
        " M README.md",
        "?? scratch/notes.txt",
        "A  staged.txt",
    ] {
        assert!(
            st.lines().any(|l| l == want),
            "{want:?} left as it was; git status:\n{st}"
        );
    }
}

#[test]
fn a_fabric_at_the_repository_root_or_in_a_folder_commits_only_its_own_paths() {
    for at_root in [true, false] {
        let w = World::new();
        let bare = w.bare("fab");
        let wc = w.t.path().join("wc");
        git(w.t.path(), &["clone", "-q", s(&bare), s(&wc)]);
        git(&wc, &["config", "user.name", "wc"]);
        git(&wc, &["config", "user.email", "wc@example.invalid"]);
        write(&wc.join("README.md"), "# team readme\n");
        git(&wc, &["add", "README.md"]);
        git(&wc, &["commit", "-qm", "readme"]);
        // Other work goes out with git: fgd refuses to publish it unasked.
        git(&wc, &["push", "-q", "origin", "HEAD"]);
        let (fab, prefix) = if at_root {
            (wc.clone(), "")
        } else {
            (wc.join("fabrics/dc1"), "fabrics/dc1")
        };
        ok(&w.fgd(&["init", s(&fab), "--push"], &[]), "init --push");
        assert!(
            changed_in(&wc, "HEAD")
                .iter()
                .all(|p| is_fabric_path(p, prefix)),
            "init --push commits the layout only: {:?}",
            changed_in(&wc, "HEAD")
        );
        leave_other_work(&wc, &fab);
        write(&fab.join("raw/a.yaml"), VPC1);
        ok(&w.fgd(&["ingest", s(&fab)], &[]), "ingest");

        // What the dashboard counts and what the dry run shows are the fabric's paths only.
        let st = w.fgd(&["status", s(&fab), "--json"], &[]);
        ok(&st, "status");
        let changed = st.of("status")[0]["git"]["uncommitted"].as_u64();
        let fabric_changes = git(&wc, &["status", "--porcelain", "--untracked-files=all"])
            .lines()
            .filter(|l| is_fabric_path(&l[3..], prefix))
            .count() as u64;
        assert_eq!(
            changed,
            Some(fabric_changes),
            "uncommitted counts fabric paths only"
        );
        let dry = w.fgd(&["push", s(&fab), "--dry-run"], &[]);
        ok(&dry, "push --dry-run");
        for other in [
            ".env",
            "README.md",
            "scratch/notes.txt",
            "staged.txt",
            "NOTES.md",
        ] {
            assert!(
                !dry.stdout.contains(other),
                "the dry run does not show {other}:\n{}",
                dry.stdout
            );
        }
        assert!(
            dry.stdout.contains("managed/vpcs/vpc-1.yaml"),
            "{}",
            dry.stdout
        );

        ok(&w.fgd(&["push", s(&fab)], &[]), "push");
        let pushed = changed_in(&bare, "main");
        assert!(
            pushed.iter().all(|p| is_fabric_path(p, prefix)),
            "the pushed commit holds only the fabric's paths: {pushed:?}"
        );
        assert!(pushed
            .iter()
            .any(|p| p.ends_with("managed/vpcs/vpc-1.yaml")));
        let remote_files = git(&bare, &["ls-tree", "-r", "--name-only", "main"]);
        assert!(
            !remote_files.lines().any(|l| l == ".env"),
            "the secret never reaches the remote:\n{remote_files}"
        );
        other_work_untouched(&wc);
        let st = git(&wc, &["status", "--porcelain", "--untracked-files=all"]);
        assert!(
            st.lines()
                .any(|l| l.ends_with("NOTES.md") && l.starts_with("??")),
            "{st}"
        );
        assert!(
            !st.lines().any(|l| is_fabric_path(&l[3..], prefix)),
            "every fabric path is committed:\n{st}"
        );
    }
}

#[test]
fn push_never_claims_a_branch_it_did_not_commit_to_and_status_names_a_detached_head() {
    let w = World::new();
    let bare = w.bare("fab");
    let (wc, fab) = w.clone(&bare, "wc", s(&bare));
    ok(&w.fgd(&["init", s(&fab), "--push"], &[]), "init --push");
    git(&wc, &["branch", "deploy"]);
    git(&wc, &["push", "-q", "origin", "deploy"]);
    write(&fab.join("raw/a.yaml"), VPC1);
    ok(&w.fgd(&["ingest", s(&fab)], &[]), "ingest");
    let head = git(&wc, &["rev-parse", "HEAD"]);
    let remote_deploy = git(&bare, &["rev-parse", "deploy"]);
    let last_push = || std::fs::read_to_string(fab.join(".hnp/local/last-push.json")).unwrap();
    let init_push = last_push();

    // On main, --branch deploy: refused as a usage error before anything is committed.
    let r = w.fgd(&["push", s(&fab), "--branch", "deploy"], &[]);
    assert_eq!(r.code, 2, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stderr.contains("--branch deploy") && r.stderr.contains("main"),
        "names the flag and the checked-out branch: {}",
        r.stderr
    );
    assert!(!r.stdout.contains("is now"), "claims no push: {}", r.stdout);
    assert_eq!(git(&wc, &["rev-parse", "HEAD"]), head, "nothing committed");
    assert_eq!(git(&bare, &["rev-parse", "deploy"]), remote_deploy);
    assert_eq!(
        git(&wc, &["rev-parse", "refs/remotes/origin/deploy"]),
        remote_deploy,
        "the remote-tracking ref is not moved"
    );
    assert_eq!(last_push(), init_push, "no push is recorded");

    // --branch naming the checked-out branch is fine.
    ok(
        &w.fgd(&["push", s(&fab), "--branch", "main"], &[]),
        "push --branch main",
    );
    let pushed = git(&wc, &["rev-parse", "HEAD"]);
    assert_eq!(git(&bare, &["rev-parse", "main"]), pushed);

    // Detached HEAD: refused with or without --branch, and status says so.
    git(&wc, &["checkout", "-q", "--detach", "main"]);
    write(&fab.join("raw/b.yaml"), VPC2);
    ok(&w.fgd(&["ingest", s(&fab)], &[]), "ingest");
    let r = w.fgd(&["push", s(&fab)], &[]);
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert!(r.stderr.contains("detached"), "{}", r.stderr);
    let r = w.fgd(&["push", s(&fab), "--branch", "main"], &[]);
    assert_eq!(r.code, 2, "{}\n{}", r.stdout, r.stderr);
    assert!(r.stderr.contains("detached"), "{}", r.stderr);
    assert!(!r.stdout.contains("is now"), "claims no push: {}", r.stdout);
    assert_eq!(
        git(&wc, &["rev-parse", "HEAD"]),
        pushed,
        "nothing committed"
    );
    assert_eq!(git(&bare, &["rev-parse", "main"]), pushed);
    let last: serde_json::Value = serde_json::from_str(&last_push()).unwrap();
    assert_eq!(last["commit"].as_str(), Some(pushed.trim()));
    let st = w.fgd(&["status", s(&fab)], &[]);
    ok(&st, "status");
    assert!(
        st.stdout.contains("detached HEAD") && !st.stdout.contains("not inside a git"),
        "{}",
        st.stdout
    );
    let st = w.fgd(&["status", s(&fab), "--json"], &[]);
    assert_eq!(st.of("status")[0]["git"]["detached"], true, "{}", st.stdout);
}

#[test]
fn files_matching_a_gitignore_rule_stay_tracked_and_fgd_records_are_always_committed() {
    let w = World::new();
    let bare = w.bare("fab");
    let (wc, fab) = w.clone(&bare, "wc", s(&bare));
    ok(&w.fgd(&["init", s(&fab), "--push"], &[]), "init --push");
    write(&fab.join("raw/a.yaml"), VPC1);
    ok(&w.fgd(&["ingest", s(&fab)], &[]), "ingest");
    ok(&w.fgd(&["push", s(&fab)], &[]), "push");
    let tracked = |rev: &str| git(&wc, &["ls-tree", "-r", "--name-only", rev]);
    let before = tracked("HEAD");
    let archives = |t: &str| t.lines().filter(|l| l.ends_with(".orig")).count();
    assert_eq!(archives(&before), 1, "{before}");
    assert!(before.contains("fabrics/dc1/raw/README.md"), "{before}");

    // A colleague adds common rules for merge leftovers, JSON and READMEs, and keeps local
    // files in raw/ out of git.
    write(
        &wc.join(".gitignore"),
        "*.orig\n*.json\nREADME.md\n*.local\n",
    );
    git(&wc, &["add", ".gitignore"]);
    git(&wc, &["commit", "-qm", "ignore merge leftovers"]);
    git(&wc, &["push", "-q", "origin", "HEAD"]);
    write(&fab.join("raw/b.yaml"), VPC2);
    write(&fab.join("raw/creds.local"), "not for git\n");
    ok(&w.fgd(&["ingest", s(&fab)], &[]), "ingest");
    ok(&w.fgd(&["push", s(&fab)], &[]), "push");
    let after = tracked("HEAD");
    let gone: Vec<&str> = before
        .lines()
        .filter(|l| !after.lines().any(|a| a == *l))
        .collect();
    assert!(gone.is_empty(), "tracked files were dropped: {gone:?}");
    assert_eq!(
        archives(&after),
        2,
        "the new batch's original is committed like every record:\n{after}"
    );
    assert!(
        after.contains("fabrics/dc1/managed/vpcs/vpc-2.yaml"),
        "{after}"
    );
    assert!(
        !after.contains("creds.local"),
        "an ignored, untracked file in raw/ stays out, as with git:\n{after}"
    );
    let committed = changed_in(&wc, "HEAD");
    assert!(
        !committed
            .iter()
            .any(|p| p.ends_with(".orig") && !p.contains("b.yaml")),
        "old archives are not touched: {committed:?}"
    );
    let dry = w.fgd(&["push", s(&fab), "--dry-run"], &[]);
    ok(&dry, "push --dry-run");
    assert!(
        dry.stdout.starts_with("0 file(s) changed"),
        "nothing left to commit: {}",
        dry.stdout
    );
}

/// A VPC whose namespace and last VLAN lie far apart: git's text merge would combine edits to
/// the two into an object neither side wrote.
fn wide_vpc(namespace: &str, vlan: u32) -> String {
    format!(
        "apiVersion: vpc.githedgehog.com/v1beta1\nkind: VPC\nmetadata:\n  name: vpc-1\nspec:\n  ipv4Namespace: {namespace}\n  subnets:\n    s1:\n      subnet: 10.1.1.0/24\n    s2:\n      subnet: 10.1.2.0/24\n    s3:\n      subnet: 10.1.3.0/24\n    s4:\n      subnet: 10.1.4.0/24\n      vlan: {vlan}\n"
    )
}

#[test]
fn both_sides_changing_one_object_in_different_lines_is_a_conflict_not_a_merge() {
    for command in ["push", "sync"] {
        let w = World::new();
        let bare = w.bare("fab");
        let (a, fa) = w.clone(&bare, "a", s(&bare));
        ok(&w.fgd(&["init", s(&fa)], &[]), "init");
        write(&fa.join("raw/v1.yaml"), wide_vpc("default", 1001));
        ok(&w.fgd(&["ingest", s(&fa)], &[]), "ingest");
        ok(&w.fgd(&["push", s(&fa)], &[]), "push");
        let (_b, fb) = w.clone(&bare, "b", s(&bare));
        write(&fb.join("raw/v1.yaml"), wide_vpc("ns-b", 1001));
        ok(&w.fgd(&["ingest", s(&fb)], &[]), "b changes the namespace");
        ok(&w.fgd(&["push", s(&fb)], &[]), "b pushes");
        let remote_before = git(&bare, &["rev-parse", "main"]);
        write(&fa.join("raw/v1.yaml"), wide_vpc("default", 2002));
        ok(&w.fgd(&["ingest", s(&fa)], &[]), "a changes the vlan");
        let r = w.fgd(&[command, s(&fa)], &[]);
        assert_eq!(r.code, 3, "{command}: {}\n{}", r.stdout, r.stderr);
        assert!(
            r.stderr.contains("conflict")
                && r.stderr.contains("fabrics/dc1/managed/vpcs/vpc-1.yaml")
                && r.stderr.contains("VPC/vpc-1"),
            "{}",
            r.stderr
        );
        assert!(
            !r.stderr.contains("kustomization.yaml") && !r.stderr.contains("log.jsonl"),
            "fgd's generated files are not the operator's conflict: {}",
            r.stderr
        );
        assert_eq!(
            git(&bare, &["rev-parse", "main"]),
            remote_before,
            "nothing pushed"
        );
        let ours = git(&a, &["show", "HEAD:fabrics/dc1/managed/vpcs/vpc-1.yaml"]);
        assert_eq!(
            ours,
            wide_vpc("default", 2002),
            "our commit is kept as we wrote it"
        );
        assert_eq!(
            std::fs::read_to_string(fa.join("managed/vpcs/vpc-1.yaml")).unwrap(),
            wide_vpc("default", 2002),
            "the working copy is left as it was"
        );
    }
}

#[test]
fn both_sides_changing_one_raw_file_in_different_lines_is_a_conflict() {
    let w = World::new();
    let bare = w.bare("fab");
    let (_a, fa) = w.clone(&bare, "a", s(&bare));
    ok(&w.fgd(&["init", s(&fa)], &[]), "init");
    let notes = |first: &str, last: &str| format!("{first}\n2\n3\n4\n5\n6\n7\n{last}\n");
    write(&fa.join("raw/notes.txt"), notes("one", "eight"));
    ok(&w.fgd(&["push", s(&fa)], &[]), "push");
    let (_b, fb) = w.clone(&bare, "b", s(&bare));
    write(&fb.join("raw/notes.txt"), notes("ONE", "eight"));
    ok(&w.fgd(&["push", s(&fb)], &[]), "b pushes");
    write(&fa.join("raw/notes.txt"), notes("one", "EIGHT"));
    let r = w.fgd(&["push", s(&fa)], &[]);
    assert_eq!(r.code, 3, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stderr.contains("conflict") && r.stderr.contains("fabrics/dc1/raw/notes.txt"),
        "{}",
        r.stderr
    );
    assert_eq!(
        std::fs::read_to_string(w.fresh(&bare).join("raw/notes.txt")).unwrap(),
        notes("ONE", "eight")
    );
}

fn executable(path: &Path, text: &str) {
    write(path, text);
    std::fs::set_permissions(path, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
}

#[test]
fn a_local_remote_with_server_hooks_is_refused_never_silently_bypassed() {
    let w = World::new();
    let bare = w.bare("fab");
    let (wc, fab) = w.clone(&bare, "wc", s(&bare));
    ok(
        &w.fgd(&["init", s(&fab), "--push"], &[]),
        "init --push to a hook-less bare repo",
    );
    write(&fab.join("raw/a.yaml"), VPC1);
    ok(&w.fgd(&["ingest", s(&fab)], &[]), "ingest");
    let seed = git(&bare, &["rev-parse", "main"]);
    let head = git(&wc, &["rev-parse", "HEAD"]);
    let hook = bare.join("hooks/pre-receive");
    executable(
        &hook,
        "#!/bin/sh\necho 'branch main is protected, open a merge request' >&2\nexit 1\n",
    );
    // A sample hook is not a hook.
    executable(&bare.join("hooks/update.sample"), "#!/bin/sh\nexit 1\n");
    let file_url = format!("file://{}", bare.display());
    for url in [s(&bare), file_url.as_str()] {
        git(&wc, &["remote", "set-url", "origin", url]);
        for command in ["push", "sync"] {
            let r = w.fgd(&[command, s(&fab)], &[]);
            assert_eq!(r.code, 3, "{command} {url}: {}\n{}", r.stdout, r.stderr);
            assert!(
                r.stderr.contains("pre-receive")
                    && r.stderr.contains("git://")
                    && r.stderr.contains("ssh://")
                    && r.stderr.contains("http"),
                "names the hook and what to use instead: {}",
                r.stderr
            );
            assert_eq!(git(&bare, &["rev-parse", "main"]), seed, "nothing pushed");
            assert_eq!(git(&wc, &["rev-parse", "HEAD"]), head, "nothing committed");
        }
    }
    // core.hooksPath naming a folder with an update hook protects the repository too.
    std::fs::remove_file(&hook).unwrap();
    let hooks = w.t.path().join("shared-hooks");
    executable(&hooks.join("update"), "#!/bin/sh\nexit 1\n");
    git(&bare, &["config", "core.hooksPath", s(&hooks)]);
    git(&wc, &["remote", "set-url", "origin", s(&bare)]);
    let r = w.fgd(&["push", s(&fab)], &[]);
    assert_eq!(r.code, 3, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stderr.contains("update") && r.stderr.contains("core.hooksPath"),
        "{}",
        r.stderr
    );
    assert_eq!(git(&bare, &["rev-parse", "main"]), seed);
    // The same repository served by git daemon runs its hooks: refused by the server itself.
    let srv = Server::start("start-git-daemon.sh", &w.repos(), &w.state(), &[]);
    git(
        &wc,
        &[
            "remote",
            "set-url",
            "origin",
            &format!("{}fab.git", srv.get("URL")),
        ],
    );
    let r = w.fgd(&["push", s(&fab)], &[]);
    assert_eq!(r.code, 3, "{}\n{}", r.stdout, r.stderr);
    assert!(r.stderr.contains("refused"), "{}", r.stderr);
    // Without hooks the path remote works again.
    git(&bare, &["config", "--unset", "core.hooksPath"]);
    git(&wc, &["remote", "set-url", "origin", s(&bare)]);
    ok(
        &w.fgd(&["push", s(&fab)], &[]),
        "push to a hook-less bare repo",
    );
    assert!(w.fresh(&bare).join("managed/vpcs/vpc-1.yaml").is_file());
}

#[test]
fn an_empty_message_or_a_malformed_author_is_a_usage_error_before_any_work() {
    let w = World::new();
    let bare = w.bare("fab");
    let (wc, fab) = w.clone(&bare, "wc", s(&bare));
    // init --push with a bad author: refused before the layout is even created.
    let r = w.fgd(&["init", s(&fab), "--push", "--author", "<only@mail>"], &[]);
    assert_eq!(r.code, 2, "{}\n{}", r.stdout, r.stderr);
    assert!(!fab.exists(), "init --push did nothing");
    ok(&w.fgd(&["init", s(&fab), "--push"], &[]), "init --push");
    write(&fab.join("raw/a.yaml"), VPC1);
    ok(&w.fgd(&["ingest", s(&fab)], &[]), "ingest");
    let head = git(&wc, &["rev-parse", "HEAD"]);
    // Another fgd holds the lock: a usage error must come before waiting on, or failing at, it.
    let holder = std::fs::OpenOptions::new()
        .write(true)
        .open(fab.join(".hnp/lock"))
        .unwrap();
    // SAFETY: flock on a descriptor this test owns; released when `holder` is dropped.
    let held = unsafe {
        libc::flock(
            std::os::fd::AsRawFd::as_raw_fd(&holder),
            libc::LOCK_EX | libc::LOCK_NB,
        )
    };
    assert_eq!(held, 0, "the test holds the fabric's lock");
    let r = w.fgd(&["push", s(&fab)], &[]);
    assert_eq!(r.code, 3, "the lock is really held: {}", r.stderr);
    type Case<'a> = (&'a [&'a str], &'a [(&'a str, &'a str)], &'a str);
    let bad: [Case; 8] = [
        (&["push", s(&fab), "--message", ""], &[], "--message"),
        (
            &["push", s(&fab), "--author", "Ops Team"],
            &[],
            "no <email>",
        ),
        (&["push", s(&fab), "--message", "  \n "], &[], "--message"),
        (&["push", s(&fab), "--author", "<only@mail>"], &[], "name"),
        (
            &["push", s(&fab), "--author", "A <a@b> extra"],
            &[],
            "extra",
        ),
        (&["push", s(&fab), "--author", "A <>"], &[], "email"),
        (&["sync", s(&fab), "--author", "A <a@b"], &[], ">"),
        (
            &["push", s(&fab)],
            &[("FGD_GIT_AUTHOR", "<x@y>")],
            "FGD_GIT_AUTHOR",
        ),
    ];
    for (args, env, says) in bad {
        let r = w.fgd(args, env);
        assert_eq!(r.code, 2, "{args:?} {env:?}: {}\n{}", r.stdout, r.stderr);
        assert!(
            r.stderr.contains(says) && !r.stderr.contains("locked"),
            "{args:?}: {}",
            r.stderr
        );
    }
    drop(holder);
    assert_eq!(git(&wc, &["rev-parse", "HEAD"]), head, "nothing committed");
    ok(
        &w.fgd(
            &["push", s(&fab), "--author", "Ops Team <ops@example.com>"],
            &[],
        ),
        "a well-formed author",
    );
    assert_eq!(
        git(&wc, &["log", "-1", "--format=%an <%ae>"]).trim(),
        "Ops Team <ops@example.com>"
    );
}

#[test]
fn without_a_git_identity_nothing_is_committed_under_a_made_up_name() {
    let w = World::new();
    let bare = w.bare("fab");
    let (wc, fab) = w.clone(&bare, "wc", s(&bare));
    git(&wc, &["config", "--unset", "user.name"]);
    git(&wc, &["config", "--unset", "user.email"]);
    let r = w.fgd(&["init", s(&fab), "--push"], &[]);
    assert_eq!(r.code, 2, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stderr.contains("no commit author") && r.stderr.contains("git config user.name"),
        "{}",
        r.stderr
    );
    assert!(!fab.exists(), "refused before the layout is created");
    ok(&w.fgd(&["init", s(&fab)], &[]), "init");
    write(&fab.join("raw/a.yaml"), VPC1);
    ok(&w.fgd(&["ingest", s(&fab)], &[]), "ingest");
    let seed = git(&wc, &["rev-parse", "HEAD"]);
    for command in ["push", "sync"] {
        let r = w.fgd(&[command, s(&fab)], &[]);
        assert_eq!(r.code, 2, "{command}: {}\n{}", r.stdout, r.stderr);
        assert!(r.stderr.contains("--author"), "{}", r.stderr);
    }
    assert_eq!(git(&wc, &["rev-parse", "HEAD"]), seed, "nothing committed");
    ok(
        &w.fgd(
            &["push", s(&fab)],
            &[("FGD_GIT_AUTHOR", "Ops <ops@example.com>")],
        ),
        "push with an author",
    );
    assert_eq!(
        git(&wc, &["log", "-1", "--format=%an <%ae> / %cn <%ce>"]).trim(),
        "Ops <ops@example.com> / Ops <ops@example.com>"
    );
}

#[test]
fn a_shallow_clone_is_never_fetched_into_and_stays_a_usable_repository() {
    let w = World::new();
    let bare = w.bare("fab");
    let (_a, fa) = w.clone(&bare, "a", s(&bare));
    ok(&w.fgd(&["init", s(&fa), "--push"], &[]), "init --push");
    let shallow = w.t.path().join("shallow");
    let url = format!("file://{}", bare.display());
    let out = Command::new("git")
        .args(["clone", "-q", "--depth", "1", &url, s(&shallow)])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    git(&shallow, &["config", "user.name", "ci"]);
    git(&shallow, &["config", "user.email", "ci@example.invalid"]);
    let fs = shallow.join("fabrics/dc1");
    // Nothing to fetch: a push from a shallow clone works (a CI job's clone --depth 1).
    write(&fs.join("raw/a.yaml"), VPC1);
    ok(&w.fgd(&["ingest", s(&fs)], &[]), "ingest");
    ok(&w.fgd(&["push", s(&fs)], &[]), "push from a shallow clone");
    // The remote moves: integrating would take a fetch.
    write(&fa.join("raw/b.yaml"), VPC2);
    ok(
        &w.fgd(&["sync", s(&fa)], &[]),
        "another clone moves the remote",
    );
    write(&fs.join("raw/c.yaml"), VPC1.replace("vpc-1", "vpc-3"));
    ok(&w.fgd(&["ingest", s(&fs)], &[]), "ingest");
    let head = git(&shallow, &["rev-parse", "HEAD"]);
    let r = w.fgd(&["sync", s(&fs)], &[]);
    assert_eq!(r.code, 3, "sync: {}\n{}", r.stdout, r.stderr);
    assert!(r.stderr.contains("git fetch --unshallow"), "{}", r.stderr);
    assert_eq!(
        git(&shallow, &["rev-parse", "HEAD"]),
        head,
        "sync recorded nothing"
    );
    let r = w.fgd(&["push", s(&fs)], &[]);
    assert_eq!(r.code, 3, "push: {}\n{}", r.stdout, r.stderr);
    assert!(
        r.stderr.contains("shallow clone") && r.stderr.contains("git fetch --unshallow"),
        "{}",
        r.stderr
    );
    assert!(
        shallow.join(".git/shallow").exists(),
        "the shallow boundary is kept"
    );
    git(&shallow, &["log", "--oneline"]);
    git(&shallow, &["fsck", "--no-progress"]);
    // Once unshallowed, sync integrates and pushes the kept commit.
    git(&shallow, &["fetch", "-q", "--unshallow"]);
    ok(
        &w.fgd(&["sync", s(&fs)], &[]),
        "sync after git fetch --unshallow",
    );
    let fresh = w.fresh(&bare);
    for name in ["vpc-1", "vpc-2", "vpc-3"] {
        assert!(
            fresh.join(format!("managed/vpcs/{name}.yaml")).exists(),
            "{name}"
        );
    }
}

#[test]
fn a_replay_blocked_by_someone_elses_local_edits_names_the_files_and_keeps_them() {
    let w = World::new();
    let bare = w.bare("fab");
    let (a, fa) = w.clone(&bare, "a", s(&bare));
    ok(&w.fgd(&["init", s(&fa), "--push"], &[]), "init --push");
    write(&a.join("teamx/config.txt"), "v1\n");
    git(&a, &["add", "teamx"]);
    git(&a, &["commit", "-qm", "teamx v1"]);
    git(&a, &["push", "-q", "origin", "HEAD"]);
    let (b, fb) = w.clone(&bare, "b", s(&bare));
    // Upstream, teamx changes its file and adds one.
    write(&a.join("teamx/config.txt"), "v2\n");
    write(&a.join("teamx/newfile"), "new\n");
    git(&a, &["add", "teamx"]);
    git(&a, &["commit", "-qm", "teamx v2"]);
    git(&a, &["push", "-q", "origin", "HEAD"]);
    // In b, teamx's work in progress stands in the way.
    write(&b.join("teamx/config.txt"), "work in progress\n");
    write(&b.join("teamx/newfile"), "mine\n");
    write(&fb.join("raw/a.yaml"), VPC1);
    ok(&w.fgd(&["ingest", s(&fb)], &[]), "ingest");
    let r = w.fgd(&["push", s(&fb)], &[]);
    assert_eq!(r.code, 3, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stderr
            .contains("teamx/config.txt (changed here and not committed)")
            && r.stderr
                .contains("teamx/newfile (untracked here, and the remote adds it)"),
        "{}",
        r.stderr
    );
    assert_eq!(
        std::fs::read_to_string(b.join("teamx/config.txt")).unwrap(),
        "work in progress\n"
    );
    assert_eq!(
        std::fs::read_to_string(b.join("teamx/newfile")).unwrap(),
        "mine\n"
    );
}

#[test]
fn a_commit_holding_several_batches_says_so_in_its_subject() {
    let w = World::new();
    let bare = w.bare("fab");
    let (wc, fab) = w.clone(&bare, "wc", s(&bare));
    ok(&w.fgd(&["init", s(&fab), "--push"], &[]), "init --push");
    write(&fab.join("raw/a.yaml"), VPC1);
    ok(&w.fgd(&["ingest", s(&fab)], &[]), "ingest");
    ok(&w.fgd(&["push", s(&fab)], &[]), "push");
    let one = git(&wc, &["log", "-1", "--format=%s"]);
    assert_eq!(one.trim(), "dc1: add VPC vpc-1");
    let body = git(&wc, &["log", "-1", "--format=%b"]);
    assert!(
        body.contains(": 1 file, 1 managed, 0 unmanaged") && body.contains("Fgd-Batch: "),
        "{body}"
    );
    // Three ingests while the remote was unreachable, then one push.
    for (i, doc) in [
        VPC2,
        &VPC1.replace("vpc-1", "vpc-3"),
        &VPC1.replace("vpc-1", "vpc-4"),
    ]
    .iter()
    .enumerate()
    {
        write(&fab.join(format!("raw/{i}.yaml")), doc);
        ok(&w.fgd(&["ingest", s(&fab)], &[]), "ingest");
    }
    ok(&w.fgd(&["push", s(&fab)], &[]), "push");
    let subject = git(&wc, &["log", "-1", "--format=%s"]);
    assert_eq!(
        subject.trim(),
        "dc1: add VPC vpc-2, add VPC vpc-3, add VPC vpc-4",
        "objects named in the subject"
    );
    let body = git(&wc, &["log", "-1", "--format=%b"]);
    assert!(
        body.contains("3 batches") && body.contains("3 files, 3 managed, 0 unmanaged"),
        "{body}"
    );
    assert_eq!(
        body.lines().filter(|l| l.starts_with("batch ")).count(),
        3,
        "the body names each batch:\n{body}"
    );
    assert_eq!(
        body.lines()
            .filter(|l| l.starts_with("Fgd-Batch: "))
            .count(),
        3,
        "each batch id is a trailer:\n{body}"
    );
    // managed/ changes come first in the body; the archive is only counted.
    let first_path = body
        .lines()
        .find(|l| l.starts_with("A ") || l.starts_with("M "))
        .unwrap();
    assert!(first_path.contains("/managed/"), "{body}");
    assert!(
        !body
            .lines()
            .any(|l| l.contains(".hnp/archive/") && l.starts_with("A ")),
        "{body}"
    );
    // Many objects: the subject stays within 72 characters.
    for i in 0..12 {
        write(
            &fab.join(format!("raw/many-{i}.yaml")),
            VPC1.replace("vpc-1", &format!("vpc-many-{i}")),
        );
    }
    ok(&w.fgd(&["sync", s(&fab)], &[]), "sync");
    let subject = git(&wc, &["log", "-1", "--format=%s"]);
    assert!(
        subject.trim().chars().count() <= 72 && subject.contains("more)"),
        "{subject}"
    );
    // One commit per sync: no separate record of the raw files.
    let subjects = git(&wc, &["log", "-3", "--format=%s"]);
    assert!(!subjects.contains("record local changes"), "{subjects}");
}

#[test]
fn ssh_credential_errors_name_each_key_tried_and_why_it_failed() {
    let ssh_fab = ssh_fabric();
    let SshFabric { w, fab, known, .. } = &ssh_fab;
    let ssh = w.home().join(".ssh");

    // FGD_SSH_KEY names a file that is not there, and HOME has no keys at all.
    let missing = w.t.path().join("no-such-key");
    let r = w.fgd(
        &["push", s(fab)],
        &[("FGD_SSH_KEY", s(&missing)), ("FGD_KNOWN_HOSTS", known)],
    );
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert!(
        r.stderr.contains(&format!(
            "key {} (FGD_SSH_KEY or --ssh-key: no such file)",
            missing.display()
        )),
        "the configured key is named: {}",
        r.stderr
    );
    for k in ["id_ed25519", "id_ecdsa", "id_rsa"] {
        assert!(
            r.stderr
                .contains(&format!("key {} (no such file)", ssh.join(k).display())),
            "the default key {k} is named: {}",
            r.stderr
        );
    }

    // A key the server does not accept: named, and said to be refused.
    let stranger = stranger_key(w);
    let r = w.fgd(
        &["push", s(fab)],
        &[("FGD_SSH_KEY", s(&stranger)), ("FGD_KNOWN_HOSTS", known)],
    );
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert!(
        r.stderr.contains(&format!(
            "key {} (refused by the server)",
            stranger.display()
        )),
        "{}",
        r.stderr
    );
}

#[test]
fn https_credentials_in_the_url_are_named_when_refused_and_never_printed() {
    let w = World::new();
    let bare = w.bare("fab");
    let srv = Server::start(
        "start-http-git.sh",
        &w.repos(),
        &w.state(),
        &["--token", "right-token-123"],
    );
    let base = srv.get("URL").to_string();
    let hostpath = base.trim_start_matches("http://").to_string();
    let (wc, fab) = w.clone(&bare, "wc", &format!("{base}fab.git"));
    ok(&w.fgd(&["init", s(&fab)], &[]), "init");
    write(&fab.join("raw/a.yaml"), VPC1);
    ok(&w.fgd(&["ingest", s(&fab)], &[]), "ingest");
    let clean = format!("{base}fab.git");

    // A wrong password in the URL: libgit2 tries it first; the error says so, without it.
    git(
        &wc,
        &[
            "remote",
            "set-url",
            "origin",
            &format!("http://fgd:URLSECRETxyz@{hostpath}fab.git"),
        ],
    );
    let r = w.fgd(&["push", s(&fab), "--json"], &[]);
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("user name and password in the remote URL (refused by the server)"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains(&clean),
        "the URL shown without its userinfo: {}",
        r.stderr
    );
    assert!(
        !r.stderr.contains("URLSECRETxyz") && !r.stdout.contains("URLSECRETxyz"),
        "{}\n{}",
        r.stdout,
        r.stderr
    );

    // A token given as the URL's user name (https://TOKEN@host/...): never printed.
    git(
        &wc,
        &[
            "remote",
            "set-url",
            "origin",
            &format!("http://s3cr3tTOKEN123@{hostpath}fab.git"),
        ],
    );
    let r = w.fgd(&["push", s(&fab), "--json"], &[]);
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert!(
        !r.stderr.contains("s3cr3tTOKEN123") && !r.stdout.contains("s3cr3tTOKEN123"),
        "{}\n{}",
        r.stdout,
        r.stderr
    );
    let right = [
        ("FGD_GIT_USER", "fgd"),
        ("FGD_GIT_TOKEN", "right-token-123"),
    ];
    let r = w.fgd(&["push", s(&fab), "--json"], &right);
    ok(&r, "push with the token from the environment");
    assert!(
        !r.stderr.contains("s3cr3tTOKEN123") && !r.stdout.contains("s3cr3tTOKEN123"),
        "{}\n{}",
        r.stdout,
        r.stderr
    );
    assert_eq!(r.of("git-pushed")[0]["url"], clean.as_str(), "{}", r.stdout);
    let last = std::fs::read_to_string(fab.join(".hnp/local/last-push.json")).unwrap();
    assert!(!last.contains("s3cr3tTOKEN123"), "{last}");
    let st = w.fgd(&["status", s(&fab)], &[]);
    assert!(!st.stdout.contains("s3cr3tTOKEN123"), "{}", st.stdout);
}

#[test]
fn a_server_that_stops_answering_is_reported_as_a_timeout_on_every_transport() {
    let w = World::new();
    let bare = w.bare("fab");
    // Accepts connections and never says a word (TLS handshakes included).
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let _holder = std::thread::spawn(move || {
        let mut held = Vec::new();
        for c in listener.incoming().take(16).flatten() {
            held.push(c);
        }
        std::thread::sleep(std::time::Duration::from_secs(30));
    });
    let (wc, fab) = w.clone(&bare, "wc", s(&bare));
    ok(&w.fgd(&["init", s(&fab)], &[]), "init");
    for scheme in ["git", "http", "https"] {
        let url = format!("{scheme}://127.0.0.1:{port}/fab.git");
        git(&wc, &["remote", "set-url", "origin", &url]);
        let r = w.fgd(&["push", s(&fab)], &[("FGD_GIT_TIMEOUT_MS", "1500")]);
        assert_eq!(r.code, 4, "{scheme}: {}", r.stderr);
        assert!(
            r.stderr.contains("timed out after 1500 ms") && r.stderr.contains(&url),
            "{scheme}: {}",
            r.stderr
        );
    }
}

#[test]
fn a_managed_file_edited_by_hand_into_something_argo_cannot_build_is_never_committed() {
    let w = World::new();
    let bare = w.bare("fab");
    let (_a, fa) = w.clone(&bare, "a", s(&bare));
    ok(&w.fgd(&["init", s(&fa)], &[]), "init");
    write(&fa.join("raw/v1.yaml"), wide_vpc("default", 1001));
    ok(&w.fgd(&["ingest", s(&fa)], &[]), "ingest");
    ok(&w.fgd(&["push", s(&fa)], &[]), "push");
    let remote_before = git(&bare, &["rev-parse", "main"]);
    // A hand edit that breaks the YAML, and a copied-in file naming another object.
    let managed = fa.join("managed/vpcs/vpc-1.yaml");
    let good = std::fs::read_to_string(&managed).unwrap();
    write(&managed, format!("{good}  broken: [\n"));
    write(
        &fa.join("managed/vpcs/vpc-9.yaml"),
        wide_vpc("default", 1009),
    );
    for command in ["push", "sync"] {
        let r = w.fgd(&[command, s(&fa)], &[]);
        assert_eq!(r.code, 3, "{command}: {}\n{}", r.stdout, r.stderr);
        assert!(
            r.stderr.contains("managed/vpcs/vpc-1.yaml:")
                && r.stderr.contains("managed/vpcs/vpc-9.yaml:")
                && r.stderr.contains("nothing was committed"),
            "{command}: {}",
            r.stderr
        );
        assert_eq!(
            git(&bare, &["rev-parse", "main"]),
            remote_before,
            "{command}: nothing pushed"
        );
    }
    // Put right, it goes.
    write(&managed, &good);
    std::fs::remove_file(fa.join("managed/vpcs/vpc-9.yaml")).unwrap();
    ok(&w.fgd(&["push", s(&fa)], &[]), "push after the fix");
}

impl World {
    /// `fgd` that may not hang: stopped after `secs` (exit 124), so a blocked run fails the
    /// test instead of holding it (and the fabric's lock) for ever.
    fn fgd_within(&self, secs: u32, args: &[&str], env: &[(&str, &str)]) -> Run {
        let mut c = Command::new("timeout");
        c.arg("-s")
            .arg("KILL")
            .arg(secs.to_string())
            .arg(fgd_bin())
            .args(args)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("FGD_CONFIG", common::envelope_config())
            .env("HOME", self.home());
        for (k, v) in env {
            c.env(k, v);
        }
        let out = c.output().unwrap();
        let r = Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        };
        assert!(
            r.code != 124 && r.code != 137,
            "fgd {args:?} hung (killed after {secs} s)\n{}\n{}",
            r.stdout,
            r.stderr
        );
        r
    }
}

fn mkfifo(path: &Path) {
    let c = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(
        unsafe { libc::mkfifo(c.as_ptr(), 0o644) },
        0,
        "mkfifo {path:?}"
    );
}

/// The modes of every entry in `rev`'s tree.
fn tree_modes(repo: &Path, rev: &str) -> Vec<(String, String)> {
    git(repo, &["ls-tree", "-r", rev])
        .lines()
        .filter_map(|l| {
            let (meta, path) = l.split_once('\t')?;
            Some((meta.split(' ').next()?.to_string(), path.to_string()))
        })
        .collect()
}

#[test]
fn a_symlink_or_fifo_in_fgds_own_trees_refuses_the_commit_and_nothing_is_opened() {
    let w = World::new();
    let bare = w.bare("fab");
    let (wc, fab) = w.clone(&bare, "wc", s(&bare));
    ok(&w.fgd(&["init", s(&fab), "--push"], &[]), "init --push");
    write(&fab.join("raw/a.yaml"), VPC1);
    ok(&w.fgd(&["ingest", s(&fab)], &[]), "ingest");
    ok(&w.fgd(&["push", s(&fab)], &[]), "push");
    let remote_before = git(&bare, &["rev-parse", "main"]);
    // A valid object outside the fabric, linked in where ingest would put it: the check must
    // not read through the link and pass it.
    let outside = w.t.path().join("outside-vpc-2.yaml");
    write(&outside, VPC2);
    type Make<'a> = Box<dyn Fn(&Path) + 'a>;
    let cases: Vec<(&str, Make)> = vec![
        (
            "managed/vpcs/vpc-2.yaml",
            Box::new(|p: &Path| std::os::unix::fs::symlink(&outside, p).unwrap()),
        ),
        ("managed/vpcs/vpc-3.yaml", Box::new(|p: &Path| mkfifo(p))),
        (
            "unmanaged/notes.yaml.unmanaged",
            Box::new(|p: &Path| std::os::unix::fs::symlink("/etc/passwd", p).unwrap()),
        ),
        (
            "unmanaged/pipe.yaml.unmanaged",
            Box::new(|p: &Path| mkfifo(p)),
        ),
        (".hnp/archive/pipe", Box::new(|p: &Path| mkfifo(p))),
    ];
    for (rel, make) in &cases {
        let path = fab.join(rel);
        make(&path);
        for command in ["push", "sync"] {
            let r = w.fgd_within(30, &[command, s(&fab)], &[]);
            assert_eq!(r.code, 3, "{rel}: {command}: {}\n{}", r.stdout, r.stderr);
            assert!(
                r.stderr.contains(rel) && r.stderr.contains("nothing was committed"),
                "{rel}: {command} names it: {}",
                r.stderr
            );
            assert_eq!(git(&bare, &["rev-parse", "main"]), remote_before, "{rel}");
        }
        let dry = w.fgd_within(30, &["push", s(&fab), "--dry-run"], &[]);
        ok(&dry, &format!("{rel}: push --dry-run"));
        assert!(
            dry.stdout.contains("push would refuse") && dry.stdout.contains(rel),
            "{rel}: the dry run says what push would refuse: {}",
            dry.stdout
        );
        let st = w.fgd_within(30, &["status", s(&fab)], &[]);
        ok(&st, &format!("{rel}: status"));
        std::fs::remove_file(&path).unwrap();
    }
    ok(
        &w.fgd_within(30, &["push", s(&fab)], &[]),
        "push once they are gone",
    );
    assert!(
        !tree_modes(&wc, "HEAD").iter().any(|(m, _)| m == "120000"),
        "no symlink was ever committed"
    );
}

#[test]
fn a_symlink_fifo_or_non_utf8_name_in_raw_is_left_out_of_the_commit_with_a_note() {
    let w = World::new();
    let bare = w.bare("fab");
    let (wc, fab) = w.clone(&bare, "wc", s(&bare));
    ok(&w.fgd(&["init", s(&fab), "--push"], &[]), "init --push");
    write(&fab.join("raw/a.yaml"), VPC1);
    std::os::unix::fs::symlink("/etc/passwd", fab.join("raw/passwd.yaml")).unwrap();
    mkfifo(&fab.join("raw/pipe.yaml"));
    let odd = {
        use std::os::unix::ffi::OsStrExt;
        fab.join("raw")
            .join(std::ffi::OsStr::from_bytes(b"bad\xff.yaml"))
    };
    write(&odd, VPC2);
    // A file git tracks in a raw/ folder git ignores stays tracked (the folder is looked into).
    write(&fab.join("raw/keep/notes.txt"), "kept\n");
    git(&wc, &["add", "fabrics/dc1/raw/keep/notes.txt"]);
    git(&wc, &["commit", "-qm", "notes"]);
    write(&wc.join(".gitignore"), "fabrics/dc1/raw/keep/\n");
    // Ingest reports these three and leaves them in raw/.
    let r = w.fgd_within(30, &["ingest", s(&fab)], &[]);
    ok(&r, "ingest");
    let dry = w.fgd_within(30, &["push", s(&fab), "--dry-run"], &[]);
    ok(&dry, "push --dry-run");
    for name in ["raw/passwd.yaml", "raw/pipe.yaml", "raw/bad\\xff.yaml"] {
        assert!(
            dry.stdout.contains(&format!("left out: {name}")),
            "the dry run names {name}: {}",
            dry.stdout
        );
    }
    assert!(
        dry.stdout.contains("managed/vpcs/vpc-1.yaml"),
        "{}",
        dry.stdout
    );
    let r = w.fgd_within(30, &["push", s(&fab)], &[]);
    ok(&r, "push");
    for (name, why) in [
        ("raw/passwd.yaml", "symlink"),
        ("raw/pipe.yaml", "FIFO"),
        ("raw/bad\\xff.yaml", "not valid UTF-8"),
    ] {
        assert!(
            r.stdout
                .lines()
                .any(|l| l.contains(&format!("left out: {name}")) && l.contains(why)),
            "push says it left {name} out ({why}): {}",
            r.stdout
        );
    }
    let committed = tree_modes(&wc, "HEAD");
    assert!(
        committed
            .iter()
            .any(|(_, p)| p == "fabrics/dc1/managed/vpcs/vpc-1.yaml"),
        "{committed:?}"
    );
    assert!(
        !committed
            .iter()
            .any(|(m, p)| m == "120000" || p.contains("pipe") || p.contains("bad")),
        "{committed:?}"
    );
    assert!(
        committed
            .iter()
            .any(|(_, p)| p == "fabrics/dc1/raw/keep/notes.txt"),
        "{committed:?}"
    );
    kustomize(&w.fresh(&bare));
    ok(&w.fgd_within(30, &["sync", s(&fab)], &[]), "sync");
    let st = w.fgd_within(30, &["status", s(&fab), "--json"], &[]);
    ok(&st, "status");
    assert_eq!(
        st.of("status")[0]["git"]["uncommitted"],
        0,
        "what push leaves out is not counted as uncommitted: {}",
        st.stdout
    );
}

#[test]
fn a_managed_tree_kustomize_cannot_build_is_never_pushed() {
    let w = World::new();
    let bare = w.bare("fab");
    let (wc, fab) = w.clone(&bare, "wc", s(&bare));
    ok(&w.fgd(&["init", s(&fab), "--push"], &[]), "init --push");
    write(&fab.join("raw/a.yaml"), format!("{VPC1}---\n{VPC2}"));
    ok(&w.fgd(&["ingest", s(&fab)], &[]), "ingest");
    ok(&w.fgd(&["push", s(&fab)], &[]), "push");
    let remote_before = git(&bare, &["rev-parse", "main"]);
    let kfile = fab.join("managed/kustomization.yaml");
    let kust = std::fs::read_to_string(&kfile).unwrap();
    let refused = |what: &str, names: &[&str]| {
        for command in ["push", "sync"] {
            let r = w.fgd(&[command, s(&fab)], &[]);
            assert_eq!(r.code, 3, "{what}: {command}: {}\n{}", r.stdout, r.stderr);
            for n in names {
                assert!(
                    r.stderr.contains(n),
                    "{what}: {command} names {n}: {}",
                    r.stderr
                );
            }
            assert_eq!(
                git(&bare, &["rev-parse", "main"]),
                remote_before,
                "{what}: {command} pushed nothing"
            );
        }
        let dry = w.fgd(&["push", s(&fab), "--dry-run"], &[]);
        ok(&dry, what);
        assert!(
            dry.stdout.contains("push would refuse"),
            "{what}: {}",
            dry.stdout
        );
        kustomize(&w.fresh(&bare));
    };
    // (a) A managed file removed by hand: the kustomization still lists it.
    std::fs::remove_file(fab.join("managed/vpcs/vpc-1.yaml")).unwrap();
    refused("a hand deletion", &["managed/vpcs/vpc-1.yaml", "fgd move"]);
    git(
        &wc,
        &["checkout", "--", "fabrics/dc1/managed/vpcs/vpc-1.yaml"],
    );
    // (b) The kustomization edited by hand, fgd's header kept.
    write(&kfile, format!("{kust}- vpcs/missing.yaml\n"));
    refused(
        "a hand-edited kustomization",
        &["managed/kustomization.yaml"],
    );
    write(&kfile, &kust);
    // (c) A valid object copied in, at its right path, that the kustomization does not list.
    write(
        &fab.join("managed/vpcs/vpc-3.yaml"),
        VPC1.replace("vpc-1", "vpc-3"),
    );
    refused("an unlisted object", &["managed/vpcs/vpc-3.yaml"]);
    std::fs::remove_file(fab.join("managed/vpcs/vpc-3.yaml")).unwrap();
    // Nothing was changed by the refusals: the fabric is as it was, and goes.
    assert_eq!(std::fs::read_to_string(&kfile).unwrap(), kust);
    ok(&w.fgd(&["push", s(&fab)], &[]), "push, put right");
    // Stopping managing an object the documented way builds.
    ok(
        &w.fgd(
            &[
                "move",
                s(&fab),
                "managed/vpcs/vpc-1.yaml",
                "--reason",
                "retired",
            ],
            &[],
        ),
        "move",
    );
    ok(&w.fgd(&["push", s(&fab)], &[]), "push after move");
    let fresh = w.fresh(&bare);
    assert_eq!(
        kustomize(&fresh),
        [("VPC".to_string(), "vpc-2".to_string())]
    );
}

/// `git status` of the fabric's paths: empty when the index and HEAD agree with the disk.
fn fabric_status(wc: &Path) -> String {
    git(wc, &["status", "--porcelain", "--", "fabrics/dc1"])
}

#[test]
fn a_push_killed_around_its_commit_never_leaves_a_stale_index_behind() {
    let w = World::new();
    let bare = w.bare("fab");
    let (wc, fab) = w.clone(&bare, "wc", s(&bare));
    ok(&w.fgd(&["init", s(&fab), "--push"], &[]), "init --push");
    let index = wc.join(".git/index");
    // (a) Killed after the commit moved HEAD and before the index was written (what an older
    // fgd could leave): the index still holds the tree before the ingest.
    write(&fab.join("raw/a.yaml"), VPC1);
    ok(&w.fgd(&["ingest", s(&fab)], &[]), "ingest");
    let old_index = std::fs::read(&index).unwrap();
    ok(&w.fgd(&["push", s(&fab)], &[]), "push");
    std::fs::write(&index, &old_index).unwrap();
    assert!(!fabric_status(&wc).is_empty(), "the stale state is there");
    ok(&w.fgd(&["push", s(&fab)], &[]), "the next push");
    assert_eq!(fabric_status(&wc), "", "the next push repaired the index");
    // (b) Killed at the one instant between its index write and the commit.
    write(&fab.join("raw/b.yaml"), VPC2);
    ok(&w.fgd(&["ingest", s(&fab)], &[]), "ingest");
    let r = w.fgd(
        &["push", s(&fab)],
        &[("FGD_FAILPOINT", "git.before-commit")],
    );
    assert_ne!(r.code, 0, "the fail point stopped it");
    for command in ["push", "sync"] {
        ok(&w.fgd(&[command, s(&fab)], &[]), command);
        assert_eq!(fabric_status(&wc), "", "{command} left the index in line");
    }
    // The operator's next, unrelated commit takes nothing of the fabric back.
    write(&wc.join("notes.txt"), "notes\n");
    git(&wc, &["add", "notes.txt"]);
    git(&wc, &["commit", "-qm", "unrelated"]);
    assert_eq!(changed_in(&wc, "HEAD"), ["notes.txt"]);
    let fresh = w.fresh(&bare);
    assert_eq!(
        kustomization(&fresh),
        ["vpcs/vpc-1.yaml", "vpcs/vpc-2.yaml"]
    );
}

#[test]
fn push_dry_run_with_an_unfinished_batch_says_push_finishes_it_first() {
    let w = World::new();
    let bare = w.bare("fab");
    let (wc, fab) = w.clone(&bare, "wc", s(&bare));
    ok(&w.fgd(&["init", s(&fab), "--push"], &[]), "init --push");
    write(&fab.join("raw/a.yaml"), VPC1);
    write(&fab.join("raw/b.yaml"), VPC2);
    let r = w.fgd(
        &["ingest", s(&fab)],
        &[("FGD_FAILPOINT", "journal.cleanup-aside")],
    );
    assert_ne!(r.code, 0, "stopped during cleanup");
    assert!(fab.join(".hnp/journal.json").exists());
    let dry = w.fgd(&["push", s(&fab), "--dry-run"], &[]);
    ok(&dry, "push --dry-run");
    assert!(
        dry.stdout.contains("unfinished") && dry.stdout.contains("finish it first"),
        "{}",
        dry.stdout
    );
    assert!(!dry.stdout.contains(".fgd-removing-"), "{}", dry.stdout);
    let st = w.fgd(&["status", s(&fab)], &[]);
    ok(&st, "status");
    assert!(
        st.stdout.contains("push or sync finishes it")
            && st
                .stdout
                .contains("push and sync first finish the unfinished batch"),
        "{}",
        st.stdout
    );
    let st = w.fgd(&["status", s(&fab), "--json"], &[]);
    let g = &st.of("status")[0]["git"];
    assert!(g["unfinished"].is_string(), "{g}");
    ok(&w.fgd(&["push", s(&fab)], &[]), "push");
    let committed = changed_in(&wc, "HEAD");
    assert!(
        committed.iter().any(|p| p.ends_with(".hnp/log.jsonl")),
        "{committed:?}"
    );
    assert!(
        !committed.iter().any(|p| p.contains(".fgd-removing-")),
        "{committed:?}"
    );
    let dry = w.fgd(&["push", s(&fab), "--dry-run"], &[]);
    assert!(
        dry.stdout.starts_with("0 file(s) changed"),
        "{}",
        dry.stdout
    );
    assert!(!dry.stdout.contains("unfinished"), "{}", dry.stdout);
}
