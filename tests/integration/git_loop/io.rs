//! I/O failures while committing: exit 4 (a retry may help), never 3 (a refusal).

use super::*;

/// Runs fgd as the unprivileged user `nobody` (uid 65534), with the world's HOME: as root,
/// file permissions never refuse a read, so an unreadable file needs another user.
fn fgd_as_nobody(w: &World, args: &[&str]) -> Run {
    let out = Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
        .arg(fgd_bin())
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("FGD_CONFIG", crate::common::envelope_config())
        .env("HOME", w.home())
        .output()
        .expect("setpriv");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

#[test]
fn a_file_that_cannot_be_read_for_the_commit_is_an_io_failure_exit_4() {
    let w = World::new();
    let bare = w.bare("fab");
    let (wc, fab) = w.clone(&bare, "a", s(&bare));
    ok(&w.fgd(&["init", s(&fab), "--push"], &[]), "init --push");
    // Everything of the world is nobody's to use, but one file of the fabric nobody can read.
    let chmod = |mode: &str, p: &Path| {
        assert!(Command::new("chmod")
            .args(["-R", mode])
            .arg(p)
            .status()
            .unwrap()
            .success())
    };
    chmod("a+rwX", w.t.path());
    // libgit2 refuses a repository another user owns unless git config says it is safe.
    write(&w.home().join(".gitconfig"), "[safe]\n\tdirectory = *\n");
    chmod("a+r", &w.home().join(".gitconfig"));
    let secret = fab.join("unmanaged/notes.yaml.unmanaged");
    write(&secret, "kept by hand\n");
    chmod("000", &secret);
    let before = git(&wc, &["rev-parse", "HEAD"]);
    let r = fgd_as_nobody(&w, &["push", s(&fab)]);
    assert_eq!(r.code, 4, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stderr.contains("notes.yaml.unmanaged") && r.stderr.contains("Permission denied"),
        "{}",
        r.stderr
    );
    assert_eq!(
        git(&wc, &["rev-parse", "HEAD"]),
        before,
        "nothing committed"
    );
}
