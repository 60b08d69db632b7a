//! `fgd ... | head`: a reader that goes away before fgd writes must not make any command
//! panic (exit 101 with a backtrace). Each command runs with its stdout a pipe whose reading end
//! is already closed, so every write fails with EPIPE.

use crate::common;

use std::os::fd::{FromRawFd, OwnedFd};
use std::process::{Command, Stdio};

use common::{fgd_bin, s, write};

/// The writing end of a pipe nobody reads.
fn closed_pipe() -> Stdio {
    let mut fds = [0; 2];
    // SAFETY: pipe() fills both descriptors on success; each is owned exactly once below.
    assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0, "pipe");
    // SAFETY: fds[0] and fds[1] are fresh descriptors owned by nobody else.
    let (read, write) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    drop(read);
    Stdio::from(write)
}

fn run_into_closed_stdout(args: &[&str], cwd: &std::path::Path) -> (i32, String) {
    let out = Command::new(fgd_bin())
        .args(args)
        .current_dir(cwd)
        .env_remove("FGD_FAILPOINT")
        .stdin(Stdio::null())
        .stdout(closed_pipe())
        .stderr(Stdio::piped())
        .output()
        .expect("run fgd");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn no_command_panics_when_its_reader_has_gone() {
    let t = tempfile::tempdir().unwrap();
    let wc = t.path().join("wc");
    let git = Command::new("git")
        .args(["init", "-q"])
        .arg(&wc)
        .output()
        .unwrap();
    assert!(git.status.success());
    let fab = wc.join("fab");
    let r = common::fgd(&["init", s(&fab)]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    for (i, f) in std::fs::read_dir(common::shared().join("corpus/real"))
        .unwrap()
        .flatten()
        .take(20)
        .enumerate()
    {
        write(
            &fab.join(format!("raw/{i}.yaml")),
            std::fs::read(f.path()).unwrap(),
        );
    }
    let other = t.path().join("other");
    let demo = t.path().join("demo");
    let cases: Vec<Vec<&str>> = vec![
        vec!["init", s(&other)],
        vec!["init", s(&other), "--json"],
        vec!["validate", s(&fab)],
        vec!["validate", s(&fab), "--json"],
        vec!["ingest", s(&fab), "--dry-run"],
        vec!["status", s(&fab)],
        vec!["status", s(&fab), "--json"],
        vec!["push", s(&fab), "--dry-run"],
        vec!["push", s(&fab), "--dry-run", "--json"],
        vec!["push", s(&wc), "--json"], // fails (not a fabric): the JSON error line
        vec!["ingest", s(&fab)],
        vec!["demo", "--no-ui", "--dir", s(&demo)],
        vec!["bench-render", s(&wc), "--frames", "2"],
        vec!["--help"],
    ];
    let mut panicked = Vec::new();
    for args in cases {
        let (code, stderr) = run_into_closed_stdout(&args, t.path());
        if code == 101 || stderr.contains("panicked") {
            let first = stderr
                .lines()
                .find(|l| l.contains("panicked"))
                .unwrap_or("");
            panicked.push(format!("fgd {args:?}: exit {code}: {first}"));
        }
    }
    assert!(
        panicked.is_empty(),
        "panicked on a closed stdout:\n{}",
        panicked.join("\n")
    );
}

#[test]
fn watch_stops_once_nobody_reads_it() {
    let t = tempfile::tempdir().unwrap();
    let fab = t.path().join("fab");
    assert_eq!(common::fgd(&["init", s(&fab)]).code, 0);
    write(
        &fab.join("raw/a.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n",
    );
    let mut child = Command::new(fgd_bin())
        .args(["watch", s(&fab)])
        .stdin(Stdio::null())
        .stdout(closed_pipe())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run fgd watch");
    let t0 = std::time::Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break Some(status);
        }
        if t0.elapsed() > std::time::Duration::from_secs(20) {
            let _ = child.kill();
            break None;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    let status = status.expect("fgd watch kept running with nobody reading its output");
    assert_ne!(status.code(), Some(101), "it must not panic");
}
