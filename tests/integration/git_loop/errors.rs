//! Refusals that need the operator are exit 3, with what to do; only what a retry may fix is
//! exit 4.

use super::*;

#[test]
fn a_passphrase_protected_key_says_so_and_works_with_its_passphrase() {
    assert!(
        sshd_available(),
        "sshd is missing: .ci/run installs openssh-server"
    );
    let w = World::new();
    let key = w.t.path().join("protected");
    let out = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "open sesame", "-f"])
        .arg(&key)
        .output()
        .unwrap();
    assert!(out.status.success());
    let bare = w.bare("fab");
    let srv = Server::start(
        "start-ssh-git.sh",
        &w.repos(),
        &w.state(),
        &["--authorized-key", s(&key.with_extension("pub"))],
    );
    let url = format!("{}fab.git", srv.get("URL"));
    let (_wc, fab) = w.clone(&bare, "wc", &url);
    write(&fab.join("raw/a.yaml"), VPC1);
    ok(&w.fgd(&["init", s(&fab)], &[]), "init");
    ok(&w.fgd(&["ingest", s(&fab)], &[]), "ingest");
    let known = srv.get("KNOWN_HOSTS");
    let r = w.fgd(
        &["push", s(&fab)],
        &[("FGD_SSH_KEY", s(&key)), ("FGD_KNOWN_HOSTS", known)],
    );
    assert_eq!(r.code, 3, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stderr.contains("protected by a passphrase")
            && r.stderr.contains("FGD_SSH_KEY_PASSPHRASE")
            && !r.stderr.contains("Unsupported private key format"),
        "{}",
        r.stderr
    );
    let r = w.fgd(
        &["push", s(&fab)],
        &[
            ("FGD_SSH_KEY", s(&key)),
            ("FGD_KNOWN_HOSTS", known),
            ("FGD_SSH_KEY_PASSPHRASE", "open sesame"),
        ],
    );
    ok(&r, "push with the passphrase");
    assert!(!r.stderr.contains("open sesame") && !r.stdout.contains("open sesame"));
    assert!(w.fresh(&bare).join("managed/vpcs/vpc-1.yaml").is_file());
}

#[test]
fn a_remote_that_does_not_exist_is_a_refusal_not_an_io_failure() {
    let w = World::new();
    let bare = w.bare("fab");
    let srv = Server::start(
        "start-http-git.sh",
        &w.repos(),
        &w.state(),
        &["--token", "t-404"],
    );
    let (wc, fab) = w.clone(&bare, "wc", s(&bare));
    git(
        &wc,
        &[
            "remote",
            "set-url",
            "origin",
            &format!("{}no-such-repo.git", srv.get("URL")),
        ],
    );
    write(&fab.join("raw/a.yaml"), VPC1);
    ok(&w.fgd(&["init", s(&fab)], &[]), "init");
    let r = w.fgd(
        &["sync", s(&fab)],
        &[
            ("FGD_GIT_USER", srv.get("GIT_USER")),
            ("FGD_GIT_TOKEN", "t-404"),
        ],
    );
    assert_eq!(r.code, 3, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stderr.contains("404") && r.stderr.contains("check the remote's URL"),
        "{}",
        r.stderr
    );
}
