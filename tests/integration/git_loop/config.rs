//! git's configuration as git reads it (the repository's config over the global and system
//! ones): commit signing, hooks, credential helpers, pushurl, upstreams.

use super::*;

/// An ed25519 key for signing, and an allowed-signers file trusting it for `email`.
fn signing_key(w: &World, name: &str, email: &str) -> (PathBuf, PathBuf) {
    let dir = w.t.path().join("keys");
    std::fs::create_dir_all(&dir).unwrap();
    let key = dir.join(name);
    let out = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", email, "-f"])
        .arg(&key)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let public = std::fs::read_to_string(key.with_extension("pub")).unwrap();
    let allowed = dir.join(format!("{name}.allowed"));
    write(&allowed, format!("{email} namespaces=\"git\" {public}"));
    (key, allowed)
}

fn sign_with_ssh(wc: &Path, key: &Path, allowed: &Path) {
    git(wc, &["config", "commit.gpgsign", "true"]);
    git(wc, &["config", "gpg.format", "ssh"]);
    git(wc, &["config", "user.signingkey", s(key)]);
    git(wc, &["config", "gpg.ssh.allowedSignersFile", s(allowed)]);
}

#[test]
fn commits_are_ssh_signed_as_git_config_asks_and_git_verify_commit_accepts_them() {
    let w = World::new();
    let bare = w.bare("fab");
    let (a, fa) = w.clone(&bare, "a", s(&bare));
    let (key, allowed) = signing_key(&w, "a-sign", "a@example.invalid");
    sign_with_ssh(&a, &key, &allowed);
    write(&fa.join("raw/a.yaml"), VPC1);
    ok(&w.fgd(&["init", s(&fa)], &[]), "init");
    ok(&w.fgd(&["sync", s(&fa)], &[]), "first sync");
    // The remote moves on meanwhile, so a's next commit is replayed: signed again.
    let (_b, fb) = w.clone(&bare, "b", s(&bare));
    write(&fb.join("raw/b.yaml"), VPC2);
    ok(&w.fgd(&["sync", s(&fb)], &[]), "b syncs");
    write(&fa.join("raw/c.yaml"), VPC2.replace("vpc-2", "vpc-3"));
    ok(&w.fgd(&["ingest", s(&fa)], &[]), "a ingests");
    let r = w.fgd(&["sync", s(&fa)], &[]);
    ok(&r, "a syncs, replaying");
    assert!(
        r.stdout.contains("replayed") || r.stdout.contains("git push"),
        "{}",
        r.stdout
    );
    git(&a, &["fetch", "-q"]);
    let ours = git(
        &a,
        &[
            "log",
            "--format=%H",
            "--author=a@example.invalid",
            "origin/main",
        ],
    );
    assert!(ours.lines().count() >= 2, "{ours}");
    for id in ours.lines() {
        let v = Command::new("git")
            .arg("-C")
            .arg(&a)
            .args(["verify-commit", id])
            .output()
            .unwrap();
        assert!(
            v.status.success(),
            "{id}: {}",
            String::from_utf8_lossy(&v.stderr)
        );
        assert!(String::from_utf8_lossy(&v.stderr).contains("Good \"git\" signature"));
    }
    // A key that cannot sign: nothing is committed unsigned.
    git(
        &a,
        &[
            "config",
            "user.signingkey",
            s(&w.t.path().join("keys/missing")),
        ],
    );
    let head = git(&a, &["rev-parse", "HEAD"]);
    write(&fa.join("raw/d.yaml"), VPC2.replace("vpc-2", "vpc-4"));
    ok(&w.fgd(&["ingest", s(&fa)], &[]), "ingest");
    let r = w.fgd(&["push", s(&fa)], &[]);
    assert_eq!(r.code, 3, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stderr.contains("signing the commit") && r.stderr.contains("nothing was committed"),
        "{}",
        r.stderr
    );
    assert_eq!(git(&a, &["rev-parse", "HEAD"]), head);
}

#[test]
fn client_hooks_run_from_core_hooks_path_and_a_failing_one_stops_the_commit() {
    let w = World::new();
    let bare = w.bare("fab");
    let (a, fa) = w.clone(&bare, "a", s(&bare));
    ok(&w.fgd(&["init", s(&fa), "--push"], &[]), "init --push");
    // The team's hooks live in the repository, named by core.hooksPath (relative to the root).
    let hooks = a.join("tools/hooks");
    std::fs::create_dir_all(&hooks).unwrap();
    let log = w.t.path().join("hooks.log");
    executable(
        &hooks.join("pre-commit"),
        "#!/bin/sh\necho 'lint: managed/vpcs/vpc-1.yaml needs an owner label' >&2\nexit 1\n",
    );
    executable(
        &hooks.join("commit-msg"),
        "#!/bin/sh\nprintf '\\nReviewed-by: the commit-msg hook\\n' >> \"$1\"\n",
    );
    executable(
        &hooks.join("pre-push"),
        &format!(
            "#!/bin/sh\necho \"args: $1 $2\" >> {log}\ncat >> {log}\n",
            log = log.display()
        ),
    );
    git(&a, &["config", "core.hooksPath", "tools/hooks"]);
    git(&a, &["add", "tools"]);
    git(&a, &["commit", "-q", "--no-verify", "-m", "team hooks"]);
    git(&a, &["push", "-q", "--no-verify", "origin", "HEAD"]);
    write(&fa.join("raw/a.yaml"), VPC1);
    ok(&w.fgd(&["ingest", s(&fa)], &[]), "ingest");
    let head = git(&a, &["rev-parse", "HEAD"]);
    let r = w.fgd(&["push", s(&fa)], &[]);
    assert_eq!(r.code, 3, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stderr.contains("the pre-commit hook")
            && r.stderr.contains("needs an owner label")
            && r.stderr.contains("--no-verify"),
        "{}",
        r.stderr
    );
    assert_eq!(git(&a, &["rev-parse", "HEAD"]), head, "nothing committed");
    assert!(!log.exists(), "nothing pushed");
    // The hook passes: commit-msg edits the message, pre-push sees what goes out.
    executable(&hooks.join("pre-commit"), "#!/bin/sh\nexit 0\n");
    ok(&w.fgd(&["push", s(&fa)], &[]), "push with passing hooks");
    let message = git(&a, &["log", "-1", "--format=%B"]);
    assert!(
        message.contains("Reviewed-by: the commit-msg hook")
            && message.contains("Fgd-Fabric: fabrics/dc1"),
        "{message}"
    );
    let seen = std::fs::read_to_string(&log).unwrap();
    let pushed = git(&a, &["rev-parse", "HEAD"]);
    assert!(
        seen.contains(&format!("args: origin {}", s(&bare)))
            && seen.contains(&format!(
                "refs/heads/main {} refs/heads/main",
                pushed.trim()
            )),
        "{seen}"
    );
    // A failing pre-push stops the push; --no-verify skips every hook, as with git.
    executable(
        &hooks.join("pre-push"),
        "#!/bin/sh\necho 'no pushes on Friday' >&2\nexit 1\n",
    );
    executable(&hooks.join("pre-commit"), "#!/bin/sh\nexit 1\n");
    write(&fa.join("raw/b.yaml"), VPC2);
    ok(&w.fgd(&["ingest", s(&fa)], &[]), "ingest");
    let r = w.fgd(&["push", s(&fa), "--no-verify"], &[]);
    ok(&r, "push --no-verify");
    executable(&hooks.join("pre-commit"), "#!/bin/sh\nexit 0\n");
    write(&fa.join("raw/c.yaml"), VPC2.replace("vpc-2", "vpc-3"));
    ok(&w.fgd(&["ingest", s(&fa)], &[]), "ingest");
    let remote = git(&bare, &["rev-parse", "main"]);
    let r = w.fgd(&["push", s(&fa)], &[]);
    assert_eq!(r.code, 3, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stderr.contains("pre-push") && r.stderr.contains("no pushes on Friday"),
        "{}",
        r.stderr
    );
    assert_eq!(git(&bare, &["rev-parse", "main"]), remote);
}

#[test]
fn a_pushurl_on_another_transport_is_used_for_every_push_side_decision() {
    assert!(
        sshd_available(),
        "sshd is missing: .ci/run installs openssh-server"
    );
    let w = World::new();
    let bare = w.bare("fab");
    let ssh = Server::start("start-ssh-git.sh", &w.repos(), &w.state(), &[]);
    let daemon = Server::start("start-git-daemon.sh", &w.repos(), &w.state(), &[]);
    let fetch_url = format!("{}fab.git", daemon.get("URL"));
    let push_url = format!("{}fab.git", ssh.get("URL"));
    let (wc, fab) = w.clone(&bare, "wc", &fetch_url);
    git(&wc, &["remote", "set-url", "--push", "origin", &push_url]);
    let env = [
        ("FGD_SSH_KEY", ssh.get("IDENTITY")),
        ("FGD_KNOWN_HOSTS", ssh.get("KNOWN_HOSTS")),
    ];
    write(&fab.join("raw/a.yaml"), VPC1);
    ok(&w.fgd(&["init", s(&fab)], &env), "init");
    let r = w.fgd(&["sync", s(&fab), "--json"], &env);
    ok(&r, "sync: fetch over git://, push over ssh://");
    let pushed = r.of("git-pushed");
    // Shown without its user name, as every URL fgd prints.
    let user = format!("{}@", ssh.get("SSH_USER"));
    let shown = push_url.replacen(&user, "", 1);
    assert_eq!(pushed[0]["url"], shown, "{}", r.stdout);
    assert!(w.fresh(&bare).join("managed/vpcs/vpc-1.yaml").is_file());
    let last: serde_json::Value =
        serde_json::from_slice(&std::fs::read(fab.join(".hnp/local/last-push.json")).unwrap())
            .unwrap();
    assert_eq!(last["url"], shown);
    // The host key is checked against the push URL's host and port: unknown there, refused,
    // and named as the SSH server's, not the git daemon's port.
    let empty = w.t.path().join("empty_known_hosts");
    write(&empty, "");
    write(&fab.join("raw/b.yaml"), VPC2);
    ok(&w.fgd(&["ingest", s(&fab)], &env), "ingest");
    let r = w.fgd(
        &["push", s(&fab)],
        &[
            ("FGD_SSH_KEY", ssh.get("IDENTITY")),
            ("FGD_KNOWN_HOSTS", s(&empty)),
        ],
    );
    assert_eq!(r.code, 3, "{}\n{}", r.stdout, r.stderr);
    let ssh_port = push_url
        .rsplit(':')
        .next()
        .unwrap()
        .split('/')
        .next()
        .unwrap();
    assert!(
        r.stderr.contains(&format!("[127.0.0.1]:{ssh_port}")) && r.stderr.contains("not known"),
        "{}",
        r.stderr
    );
}

#[test]
fn a_credential_helper_set_in_the_repository_config_is_used() {
    let w = World::new();
    let bare = w.bare("fab");
    let srv = Server::start(
        "start-http-git.sh",
        &w.repos(),
        &w.state(),
        &["--token", "helper-token-789"],
    );
    let url = format!("{}fab.git", srv.get("URL"));
    let (wc, fab) = w.clone(&bare, "wc", &url);
    let helper = w.t.path().join("helper.sh");
    executable(
        &helper,
        &format!(
            "#!/bin/sh\ncat >/dev/null\necho username={}\necho password=helper-token-789\n",
            srv.get("GIT_USER")
        ),
    );
    // Only in the repository's own config: no token in the environment, no global config.
    git(&wc, &["config", "credential.helper", s(&helper)]);
    write(&fab.join("raw/a.yaml"), VPC1);
    ok(&w.fgd(&["init", s(&fab)], &[]), "init");
    let r = w.fgd(&["sync", s(&fab)], &[]);
    ok(&r, "sync with the repository's credential helper");
    assert!(!r.stderr.contains("helper-token-789") && !r.stdout.contains("helper-token-789"));
    assert!(w.fresh(&bare).join("managed/vpcs/vpc-1.yaml").is_file());
}

#[test]
fn an_upstream_of_another_name_is_refused_as_git_does_or_pushed_to_with_push_default_upstream() {
    let w = World::new();
    let bare = w.bare("fab");
    let (wc, fab) = w.clone(&bare, "wc", s(&bare));
    ok(
        &w.fgd(&["init", s(&fab), "--push"], &[]),
        "init --push on main",
    );
    git(
        &wc,
        &["checkout", "-q", "-b", "work", "--track", "origin/main"],
    );
    write(&fab.join("raw/a.yaml"), VPC1);
    ok(&w.fgd(&["ingest", s(&fab)], &[]), "ingest");
    let remote = git(&bare, &["rev-parse", "main"]);
    let r = w.fgd(&["push", s(&fab)], &[]);
    assert_eq!(r.code, 3, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stderr
            .contains("the upstream branch of work is origin/main")
            && r.stderr.contains("push.default is simple"),
        "{}",
        r.stderr
    );
    assert_eq!(git(&bare, &["rev-parse", "main"]), remote);
    assert!(git(&bare, &["branch", "--list", "work"]).trim().is_empty());
    git(&wc, &["config", "push.default", "upstream"]);
    let r = w.fgd(&["sync", s(&fab), "--json"], &[]);
    ok(&r, "sync to the upstream");
    assert_eq!(r.of("git-pushed")[0]["branch"], "main", "{}", r.stdout);
    assert!(w.fresh(&bare).join("managed/vpcs/vpc-1.yaml").is_file());
    assert!(git(&bare, &["branch", "--list", "work"]).trim().is_empty());
    let st = w.fgd(&["status", s(&fab), "--json"], &[]);
    let g = &st.of("status")[0]["git"];
    assert_eq!(g["upstream"], "refs/remotes/origin/main", "{g}");
    assert_eq!(
        (g["ahead"].as_u64(), g["behind"].as_u64()),
        (Some(0), Some(0))
    );
}

#[test]
fn a_deleted_remote_branch_is_reported_not_recreated_unless_asked() {
    for over in ["path", "git daemon"] {
        let w = World::new();
        let bare = w.bare("fab");
        let daemon;
        let url = if over == "path" {
            s(&bare).to_string()
        } else {
            daemon = Server::start("start-git-daemon.sh", &w.repos(), &w.state(), &[]);
            format!("{}fab.git", daemon.get("URL"))
        };
        let (wc, fab) = w.clone(&bare, "wc", &url);
        git(&wc, &["checkout", "-q", "-b", "fabric"]);
        ok(
            &w.fgd(&["init", s(&fab), "--push"], &[]),
            "init --push creates branch fabric",
        );
        assert!(!git(&bare, &["branch", "--list", "fabric"])
            .trim()
            .is_empty());
        let (other, _) = w.clone(&bare, "other", s(&bare));
        git(&other, &["push", "-q", "origin", "--delete", "fabric"]);
        write(&fab.join("raw/a.yaml"), VPC1);
        ok(&w.fgd(&["ingest", s(&fab)], &[]), "ingest");
        for cmd in ["push", "sync"] {
            let r = w.fgd(&[cmd, s(&fab)], &[]);
            assert_eq!(r.code, 3, "{over} {cmd}: {}\n{}", r.stdout, r.stderr);
            assert!(
                r.stderr.contains("the branch fabric no longer exists")
                    && r.stderr.contains("--recreate-branch"),
                "{over} {cmd}: {}",
                r.stderr
            );
            assert!(
                git(&bare, &["branch", "--list", "fabric"])
                    .trim()
                    .is_empty(),
                "{over} {cmd} did not recreate it"
            );
        }
        ok(
            &w.fgd(&["push", s(&fab), "--recreate-branch"], &[]),
            "push --recreate-branch",
        );
        assert!(!git(&bare, &["branch", "--list", "fabric"])
            .trim()
            .is_empty());
    }
}

/// A small HTTP CONNECT proxy on loopback: it records each target and splices the bytes.
struct ConnectProxy {
    port: u16,
    targets: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl ConnectProxy {
    fn start() -> ConnectProxy {
        use std::io::{BufRead, BufReader, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let targets = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let seen = targets.clone();
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let seen = seen.clone();
                std::thread::spawn(move || {
                    let mut reader = BufReader::new(client.try_clone().unwrap());
                    let mut first = String::new();
                    if reader.read_line(&mut first).is_err() {
                        return;
                    }
                    loop {
                        let mut l = String::new();
                        if reader.read_line(&mut l).unwrap_or(0) == 0 || l == "\r\n" {
                            break;
                        }
                    }
                    let mut parts = first.split_whitespace();
                    let (Some("CONNECT"), Some(target)) = (parts.next(), parts.next()) else {
                        let _ = (&client).write_all(b"HTTP/1.1 405 CONNECT only\r\n\r\n");
                        return;
                    };
                    seen.lock().unwrap().push(target.to_string());
                    let Ok(upstream) = std::net::TcpStream::connect(target) else {
                        let _ = (&client).write_all(b"HTTP/1.1 502 Bad Gateway\r\n\r\n");
                        return;
                    };
                    let _ = (&client).write_all(b"HTTP/1.1 200 Connection established\r\n\r\n");
                    let (mut c_in, mut u_out) = (reader, upstream.try_clone().unwrap());
                    let (mut u_in, mut c_out) = (upstream, client);
                    let t = std::thread::spawn(move || {
                        let _ = std::io::copy(&mut c_in, &mut u_out);
                        let _ = u_out.shutdown(std::net::Shutdown::Write);
                    });
                    let _ = std::io::copy(&mut u_in, &mut c_out);
                    let _ = c_out.shutdown(std::net::Shutdown::Write);
                    let _ = t.join();
                });
            }
        });
        ConnectProxy { port, targets }
    }
    fn used(&self) -> usize {
        self.targets.lock().unwrap().len()
    }
}

#[test]
fn https_through_a_proxy_with_the_ca_from_git_config_added_to_the_system_store() {
    let w = World::new();
    let bare = w.bare("fab");
    let srv = Server::start(
        "start-http-git.sh",
        &w.repos(),
        &w.state(),
        &["--token", "proxied-token-1", "--tls"],
    );
    let url = format!("{}fab.git", srv.get("URL"));
    let ca = srv.get("CA_FILE").to_string();
    let token = [
        ("FGD_GIT_USER", srv.get("GIT_USER")),
        ("FGD_GIT_TOKEN", "proxied-token-1"),
    ];
    let (wc, fab) = w.clone(&bare, "wc", &url);
    write(&fab.join("raw/a.yaml"), VPC1);
    ok(&w.fgd(&["init", s(&fab)], &token), "init");
    // Without the CA: refused, the presented certificate named by its subject and fingerprint.
    let r = w.fgd(&["sync", s(&fab)], &token);
    assert_eq!(r.code, 3, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stderr
            .contains("certificate \"CN=127.0.0.1\" with SHA-256 fingerprint")
            && r.stderr.contains("http.sslCAInfo"),
        "{}",
        r.stderr
    );
    // The CA and the proxy from the repository's git config.
    let proxy = ConnectProxy::start();
    git(&wc, &["config", "http.sslCAInfo", &ca]);
    git(
        &wc,
        &[
            "config",
            "http.proxy",
            &format!("http://127.0.0.1:{}", proxy.port),
        ],
    );
    ok(&w.fgd(&["sync", s(&fab)], &token), "sync through the proxy");
    assert!(proxy.used() >= 2, "fetch and push went through the proxy");
    assert!(proxy
        .targets
        .lock()
        .unwrap()
        .iter()
        .all(|t| url.contains(t.as_str())));
    assert!(w.fresh(&bare).join("managed/vpcs/vpc-1.yaml").is_file());
    // The same from the environment, as git reads it: https_proxy and GIT_SSL_CAINFO; and
    // no_proxy sends it direct.
    git(&wc, &["config", "--unset", "http.proxy"]);
    git(&wc, &["config", "--unset", "http.sslCAInfo"]);
    let env_proxy = ConnectProxy::start();
    let via = format!("http://127.0.0.1:{}", env_proxy.port);
    let mut env = token.to_vec();
    env.extend([
        ("GIT_SSL_CAINFO", ca.as_str()),
        ("https_proxy", via.as_str()),
    ]);
    write(&fab.join("raw/b.yaml"), VPC2);
    ok(&w.fgd(&["sync", s(&fab)], &env), "sync with https_proxy");
    assert!(env_proxy.used() >= 2);
    let before = env_proxy.used();
    env.push(("no_proxy", "127.0.0.1"));
    write(&fab.join("raw/c.yaml"), VPC2.replace("vpc-2", "vpc-3"));
    ok(&w.fgd(&["sync", s(&fab)], &env), "sync with no_proxy");
    assert_eq!(env_proxy.used(), before, "no_proxy: direct");
    assert!(w.fresh(&bare).join("managed/vpcs/vpc-3.yaml").is_file());
}

#[test]
fn author_sets_the_author_only_the_committer_is_git_configs_identity() {
    let w = World::new();
    let bare = w.bare("fab");
    let (a, fa) = w.clone(&bare, "a", s(&bare));
    ok(&w.fgd(&["init", s(&fa), "--push"], &[]), "init --push");
    write(&fa.join("raw/a.yaml"), VPC1);
    ok(&w.fgd(&["ingest", s(&fa)], &[]), "ingest");
    ok(
        &w.fgd(
            &[
                "push",
                s(&fa),
                "--author",
                "Alice Ops <alice@example.invalid>",
            ],
            &[],
        ),
        "push --author",
    );
    assert_eq!(
        git(&a, &["log", "-1", "--format=%an <%ae>|%cn <%ce>"]).trim(),
        "Alice Ops <alice@example.invalid>|a <a@example.invalid>"
    );
}

#[test]
fn signoff_ends_the_message_with_the_committer_as_git_commit_s() {
    let w = World::new();
    let bare = w.bare("fab");
    let (a, fa) = w.clone(&bare, "a", s(&bare));
    ok(&w.fgd(&["init", s(&fa), "--push"], &[]), "init --push");
    write(&fa.join("raw/a.yaml"), VPC1);
    ok(
        &w.fgd(
            &[
                "sync",
                s(&fa),
                "--author",
                "Alice Ops <alice@example.invalid>",
                "-s",
            ],
            &[],
        ),
        "sync --signoff",
    );
    // git's own parser finds the sign-off among the trailers, after fgd's.
    let trailers = git(&a, &["log", "-1", "--format=%(trailers:only,unfold)"]);
    let lines: Vec<&str> = trailers.lines().filter(|l| !l.is_empty()).collect();
    assert_eq!(
        lines.last(),
        Some(&"Signed-off-by: a <a@example.invalid>"),
        "{trailers}"
    );
    assert!(
        lines.iter().any(|l| l.starts_with("Fgd-Fabric: ")),
        "{trailers}"
    );
    // The environment variable does the same for the dashboard and scripts.
    write(&fa.join("raw/b.yaml"), VPC2);
    ok(
        &w.fgd(&["sync", s(&fa)], &[("FGD_GIT_SIGNOFF", "1")]),
        "sync FGD_GIT_SIGNOFF",
    );
    let body = git(&a, &["log", "-1", "--format=%B"]);
    assert_eq!(body.matches("Signed-off-by:").count(), 1, "{body}");
}

#[test]
fn commits_are_openpgp_signed_with_gpg_as_git_does() {
    let w = World::new();
    let gnupg = w.t.path().join("gnupg");
    std::fs::create_dir_all(&gnupg).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&gnupg, std::fs::Permissions::from_mode(0o700)).unwrap();
    let gen = Command::new("gpg")
        .env("GNUPGHOME", &gnupg)
        .args([
            "--batch",
            "--passphrase",
            "",
            "--quick-gen-key",
            "a <a@example.invalid>",
            "default",
            "default",
            "never",
        ])
        .output()
        .unwrap();
    assert!(
        gen.status.success(),
        "{}",
        String::from_utf8_lossy(&gen.stderr)
    );
    let bare = w.bare("fab");
    let (a, fa) = w.clone(&bare, "a", s(&bare));
    git(&a, &["config", "commit.gpgsign", "true"]);
    git(&a, &["config", "user.signingkey", "a@example.invalid"]);
    let env = [("GNUPGHOME", s(&gnupg))];
    write(&fa.join("raw/a.yaml"), VPC1);
    ok(&w.fgd(&["init", s(&fa)], &env), "init");
    ok(&w.fgd(&["sync", s(&fa)], &env), "sync");
    let v = Command::new("git")
        .arg("-C")
        .arg(&a)
        .args(["verify-commit", "HEAD"])
        .env("GNUPGHOME", &gnupg)
        .output()
        .unwrap();
    assert!(
        v.status.success() && String::from_utf8_lossy(&v.stderr).contains("Good signature"),
        "{}",
        String::from_utf8_lossy(&v.stderr)
    );
}
