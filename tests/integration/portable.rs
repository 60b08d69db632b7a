//! The portable system calls, run on Linux: `FGD_PORTABLE_SYSCALLS=1` makes fgd take the ways
//! it takes where Linux's syncfs, renameat2(RENAME_NOREPLACE) and /proc/locks do not exist
//! (an fsync per file, a hard link and an unlink, a lock probe). Each test runs the real
//! binary both ways and expects the same fabric.

use crate::common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;

const PORTABLE: (&str, &str) = ("FGD_PORTABLE_SYSCALLS", "1");

/// A fabric whose raw/ holds a generated corpus of `docs` documents in `files` files, some of
/// them not Hedgehog objects.
fn fabric_with_corpus(docs: usize, files: usize) -> (tempfile::TempDir, PathBuf) {
    let (t, f) = fabric();
    let out = t.path().join("corpus");
    let st = Command::new("python3")
        .arg(shared().join("bench/gen_corpus.py"))
        .args(["--docs", &docs.to_string(), "--files", &files.to_string()])
        .args(["--seed", "7", "--invalid-fraction", "0.1", "--out", s(&out)])
        .output()
        .expect("python3 runs the shared corpus generator");
    assert!(
        st.status.success(),
        "{}",
        String::from_utf8_lossy(&st.stderr)
    );
    for e in std::fs::read_dir(&out).unwrap().flatten() {
        std::fs::copy(e.path(), f.join("raw").join(e.file_name())).unwrap();
    }
    (t, f)
}

/// Every file under managed/, unmanaged/ and raw/ with its bytes; reason files without their
/// time and batch, which differ between any two runs.
fn outcome(f: &Path) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for top in ["managed", "unmanaged", "raw"] {
        for rel in tree(&f.join(top)) {
            let text = std::fs::read_to_string(f.join(top).join(&rel)).unwrap();
            let text = if rel.ends_with(".reason.json") {
                text.lines()
                    .filter(|l| !l.contains("\"at\":") && !l.contains("\"batch\":"))
                    .collect::<Vec<_>>()
                    .join("\n")
            } else {
                text
            };
            out.push((format!("{top}/{rel}"), text));
        }
    }
    out
}

#[test]
fn an_ingest_with_the_portable_system_calls_makes_the_same_fabric() {
    let (_a, linux) = fabric_with_corpus(600, 12);
    let (_b, portable) = fabric_with_corpus(600, 12);
    let r = fgd(&["ingest", s(&linux)]);
    assert_eq!(r.code, 1, "some documents go to unmanaged/: {}", r.stderr);
    let r = fgd_env(&["ingest", s(&portable)], &[PORTABLE]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let (want, got) = (outcome(&linux), outcome(&portable));
    assert!(want.len() > 600, "{} files", want.len());
    assert_eq!(want, got);
    assert_managed_is_clean(&portable);
    assert!(!portable.join(".hnp/journal.json").exists());
}

#[test]
fn a_cleanup_killed_with_an_original_taken_aside_is_finished_by_the_portable_rename() {
    // The cleanup takes each original aside with a rename that never replaces; the portable
    // one is a hard link and an unlink, which a kill can split: both names then hold it.
    for point in ["journal.cleanup-aside@3", "journal.cleanup-checked@3"] {
        let (_a, linux) = fabric_with_corpus(200, 8);
        let (_b, portable) = fabric_with_corpus(200, 8);
        for (f, env) in [(&linux, vec![]), (&portable, vec![PORTABLE])] {
            let mut killed = env.clone();
            killed.push(("FGD_FAILPOINT", point));
            let r = fgd_env(&["ingest", s(f)], &killed);
            assert_eq!(r.code, -1, "{point}: never reached: {}", r.stderr);
            let r = fgd_env(&["ingest", s(f)], &env);
            assert!(r.code <= 1, "{point}: recovery: {}", r.stderr);
        }
        assert_eq!(outcome(&linux), outcome(&portable), "{point}");
        let raw: Vec<_> = tree(&portable.join("raw"));
        assert_eq!(raw, ["README.md"], "{point}: every original was removed");
    }
}

#[test]
fn the_lock_holder_is_found_by_a_probe_where_there_is_no_lock_table() {
    let (_t, f) = fabric();
    let lock = f.join(".hnp/lock");
    // util-linux flock holds the same kind of lock fgd takes, without an owner record.
    let mut holder = Command::new("flock")
        .arg("-o")
        .arg(&lock)
        .args(["sleep", "60"])
        .spawn()
        .expect("flock(1) from util-linux");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let held_by = |env: &[(&str, &str)]| {
        let r = fgd_env(&["status", s(&f), "--json"], env);
        r.of("status")[0]["status"]["lock"]["pid"].as_u64()
    };
    while held_by(&[]).is_none() {
        assert!(
            std::time::Instant::now() < deadline,
            "flock(1) never took the lock"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    // /proc/locks names the holder; a probe only knows that someone holds it.
    assert_eq!(held_by(&[]), Some(u64::from(holder.id())));
    assert_eq!(held_by(&[PORTABLE]), Some(0));
    let r = fgd_env(&["ingest", s(&f)], &[PORTABLE]);
    assert_eq!(r.code, 3, "refused while locked: {}", r.stderr);
    holder.kill().unwrap();
    holder.wait().unwrap();
    assert_eq!(held_by(&[PORTABLE]), None);
}
