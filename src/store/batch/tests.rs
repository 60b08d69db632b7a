//! `Batch`: what lands, when, and what a crash at each fail point leaves.

use super::*;
use crate::store::{sweep_temp_files, temps, write_atomic, TEMP_PREFIX};

#[test]
fn an_index_staged_last_lands_with_the_batch_or_not_at_all() {
    let t = tempfile::tempdir().unwrap();
    let index = t.path().join("kustomization.yaml");
    std::fs::write(&index, "old\n").unwrap();
    let mut b = Batch::new();
    b.stage_write(&t.path().join("vpcs/v.yaml"), b"v").unwrap();
    b.stage_write_last(&index, b"new\n").unwrap();
    drop(b);
    assert_eq!(
        std::fs::read(&index).unwrap(),
        b"old\n",
        "dropped: left as it was"
    );
    assert_eq!(temps(t.path()), 0, "dropped: no temp left");
    let mut b = Batch::new();
    b.stage_write(&t.path().join("vpcs/v.yaml"), b"v").unwrap();
    b.stage_write_last(&index, b"new\n").unwrap();
    b.sync_with(&[]).unwrap();
    let stats = b.commit().unwrap();
    assert_eq!(stats.files_written, 2);
    assert_eq!(std::fs::read(&index).unwrap(), b"new\n");
    assert_eq!(std::fs::read(t.path().join("vpcs/v.yaml")).unwrap(), b"v");
    assert_eq!(temps(t.path()), 0);
}

#[test]
fn a_new_folder_appears_whole_at_commit_and_never_half_filled() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("vpcs");
    let mut b = Batch::new();
    for i in 0..3 {
        b.stage_write(
            &dir.join(format!("v{i}.yaml")),
            format!("n: {i}\n").as_bytes(),
        )
        .unwrap();
    }
    assert!(!dir.exists(), "nothing visible before the commit");
    assert_eq!(temps(t.path()), 1, "one temp folder holds the three files");
    let stats = b.commit().unwrap();
    assert_eq!(stats.files_written, 3);
    for i in 0..3 {
        assert_eq!(
            std::fs::read_to_string(dir.join(format!("v{i}.yaml"))).unwrap(),
            format!("n: {i}\n")
        );
    }
    assert_eq!(temps(t.path()), 0);
    // A chain of new folders is staged as one, below its first missing folder.
    let mut b = Batch::new();
    b.stage_write(&t.path().join("a/b/c/deep.yaml"), b"d")
        .unwrap();
    b.stage_write(&t.path().join("a/top.yaml"), b"t").unwrap();
    assert!(!t.path().join("a").exists());
    b.commit().unwrap();
    assert_eq!(
        std::fs::read(t.path().join("a/b/c/deep.yaml")).unwrap(),
        b"d"
    );
    assert_eq!(std::fs::read(t.path().join("a/top.yaml")).unwrap(), b"t");
    assert_eq!(temps(t.path()), 0);
    // Dropped uncommitted: the temp folder goes too.
    let mut b = Batch::new();
    b.stage_write(&t.path().join("other/x.yaml"), b"x").unwrap();
    drop(b);
    assert_eq!(temps(t.path()), 0);
    assert!(!t.path().join("other").exists());
    // What a killed run leaves, a filled temp folder, is swept whole.
    let stale = t.path().join(format!("{TEMP_PREFIX}1-1"));
    std::fs::create_dir(&stale).unwrap();
    std::fs::write(stale.join("a.yaml"), b"a").unwrap();
    assert_eq!(sweep_temp_files(t.path()).unwrap(), 1);
    assert!(!stale.exists() && dir.join("v0.yaml").exists());
}

#[test]
fn many_writes_staged_in_parallel_land_like_single_ones_and_fail_cleanly() {
    use std::borrow::Cow;
    let t = tempfile::tempdir().unwrap();
    std::fs::create_dir(t.path().join("old")).unwrap();
    std::fs::write(t.path().join("old/f7.yaml"), b"before").unwrap();
    let items: Vec<(PathBuf, Cow<[u8]>)> = (0..300)
        .map(|i| {
            let dir = ["old", "new", "new/deeper"][i % 3];
            let p = t.path().join(dir).join(format!("f{i}.yaml"));
            (p, Cow::Owned(format!("n: {i}\n").into_bytes()))
        })
        .collect();
    let mut b = Batch::new();
    b.stage_writes(&items).unwrap();
    assert!(!t.path().join("new").exists());
    // Nothing replaced before the commit.
    assert_eq!(
        std::fs::read(t.path().join("old/f7.yaml")).unwrap(),
        b"before"
    );
    assert_eq!(b.commit().unwrap().files_written, 300);
    for (p, bytes) in &items {
        assert_eq!(std::fs::read(p).unwrap(), bytes.as_ref());
    }
    assert_eq!(temps(t.path()) + temps(&t.path().join("old")), 0);
    // A target that cannot be written: an error, and nothing of the batch left behind.
    std::fs::write(t.path().join("blocker"), b"a file, not a folder").unwrap();
    let mut bad = items.clone();
    bad.push((t.path().join("blocker/x.yaml"), Cow::Borrowed(b"x")));
    let mut b = Batch::new();
    assert!(b.stage_writes(&bad).is_err());
    drop(b);
    assert_eq!(temps(t.path()) + temps(&t.path().join("old")), 0);
}

#[test]
fn a_batch_of_a_thousand_files_commits_all_of_them() {
    let t = tempfile::tempdir().unwrap();
    let mut b = Batch::new();
    for i in 0..1000 {
        b.stage_write(
            &t.path().join(format!("f{i}.yaml")),
            format!("n: {i}\n").as_bytes(),
        )
        .unwrap();
    }
    let old = t.path().join("old");
    std::fs::write(&old, b"x").unwrap();
    b.stage_remove(&old);
    b.stage_remove(&t.path().join("never-existed"));
    let stats = b.commit().unwrap();
    assert_eq!(stats.files_written, 1000);
    assert_eq!(stats.removed, 1);
    for i in 0..1000 {
        assert_eq!(
            std::fs::read_to_string(t.path().join(format!("f{i}.yaml"))).unwrap(),
            format!("n: {i}\n")
        );
    }
    assert!(!old.exists());
    assert_eq!(temps(t.path()), 0);
}

#[test]
fn a_dropped_batch_leaves_nothing_behind() {
    let t = tempfile::tempdir().unwrap();
    let mut b = Batch::new();
    b.stage_write(&t.path().join("a"), b"x").unwrap();
    drop(b);
    assert_eq!(std::fs::read_dir(t.path()).unwrap().count(), 0);
}

#[test]
fn removing_a_missing_file_is_fine() {
    let t = tempfile::tempdir().unwrap();
    let mut b = Batch::new();
    b.stage_remove(&t.path().join("gone"));
    b.stage_remove(&t.path().join("no-such-dir").join("gone"));
    assert_eq!(b.len(), 2);
    let stats = b.commit().unwrap();
    assert_eq!(stats.removed, 0);
}

#[test]
fn staged_renames_move_files_after_the_writes() {
    let t = tempfile::tempdir().unwrap();
    let raw = t.path().join("raw");
    let unmanaged = t.path().join("unmanaged");
    std::fs::create_dir(&raw).unwrap();
    std::fs::create_dir(&unmanaged).unwrap();
    let from = raw.join("x.yaml");
    let to = unmanaged.join("x.yaml.unmanaged");
    std::fs::write(&from, b"kind: Foo\n").unwrap();
    let mut b = Batch::new();
    b.stage_write(&unmanaged.join("x.yaml.unmanaged.reason.json"), b"{}")
        .unwrap();
    b.stage_rename(&from, &to);
    let stats = b.commit().unwrap();
    assert_eq!((stats.files_written, stats.renamed), (1, 1));
    assert_eq!(stats.dirs_synced, 2);
    assert!(!from.exists());
    assert_eq!(std::fs::read(&to).unwrap(), b"kind: Foo\n");
}

#[test]
fn an_empty_batch_commits() {
    let b = Batch::new();
    assert!(b.is_empty());
    assert_eq!(b.commit().unwrap(), CommitStats::default());
}

/// Run by `a_crash_at_any_batch_fail_point_leaves_old_or_new_files` in a child process.
#[test]
#[ignore]
fn crash_child() {
    let Ok(dir) = std::env::var("FGD_STORE_CRASH_DIR") else {
        return;
    };
    let dir = Path::new(&dir);
    let mut b = Batch::new();
    for i in 0..10 {
        b.stage_write(&dir.join(format!("f{i}")), b"new").unwrap();
    }
    b.stage_rename(&dir.join("move-me"), &dir.join("moved"));
    b.stage_remove(&dir.join("remove-me"));
    b.commit().unwrap();
    std::process::exit(0);
}

#[test]
fn a_crash_at_any_batch_fail_point_leaves_old_or_new_files() {
    use std::os::unix::process::ExitStatusExt;
    let exe = std::env::current_exe().unwrap();
    for point in super::super::failpoint::ALL_BATCH_FAILPOINTS {
        let t = tempfile::tempdir().unwrap();
        for i in 0..10 {
            std::fs::write(t.path().join(format!("f{i}")), b"old").unwrap();
        }
        std::fs::write(t.path().join("move-me"), b"m").unwrap();
        std::fs::write(t.path().join("remove-me"), b"r").unwrap();
        let status = std::process::Command::new(&exe)
            .args(["--exact", "store::batch::tests::crash_child", "--ignored"])
            .args(["--test-threads", "1", "--quiet"])
            .env("FGD_FAILPOINT", point)
            .env("FGD_STORE_CRASH_DIR", t.path())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .unwrap();
        assert_eq!(
            status.signal(),
            Some(rustix::process::Signal::ABORT.as_raw()),
            "{point}"
        );
        let new = (0..10)
            .filter(|i| std::fs::read(t.path().join(format!("f{i}"))).unwrap() == b"new")
            .count();
        for i in 0..10 {
            let b = std::fs::read(t.path().join(format!("f{i}"))).unwrap();
            assert!(b == b"old" || b == b"new", "{point}: torn file");
        }
        let moved = t.path().join("moved").exists();
        assert_ne!(moved, t.path().join("move-me").exists(), "{point}");
        let removed = !t.path().join("remove-me").exists();
        let expect = match *point {
            "batch.after-stage" => (0, false, false),
            "batch.mid-rename" => (5, false, false),
            "batch.before-remove" => (10, true, false),
            _ => (10, true, true),
        };
        assert_eq!((new, moved, removed), expect, "{point}");
        let left = sweep_temp_files(t.path()).unwrap();
        assert_eq!(
            left,
            if new == 0 {
                10
            } else if new == 5 {
                5
            } else {
                0
            }
        );
        assert_eq!(temps(t.path()), 0);
    }
}

/// `cargo test --release -- --ignored --nocapture batched_vs_single`
#[test]
#[ignore]
fn batched_vs_single_writes_10k() {
    let t = tempfile::tempdir().unwrap();
    let n = 10_000;
    let start = std::time::Instant::now();
    let mut b = Batch::new();
    for i in 0..n {
        let p = t.path().join(format!("b{i}.yaml"));
        b.stage_write(&p, format!("n: {i}\n").as_bytes()).unwrap();
    }
    b.commit().unwrap();
    let batched = start.elapsed();
    let start = std::time::Instant::now();
    for i in 0..n {
        let p = t.path().join(format!("s{i}.yaml"));
        write_atomic(&p, format!("n: {i}\n").as_bytes()).unwrap();
    }
    let single = start.elapsed();
    println!("{n} files: batched {batched:?}, write_atomic each {single:?}");
}

#[test]
fn writes_taken_back_leave_their_targets_as_they_were_and_the_rest_lands() {
    let t = tempfile::tempdir().unwrap();
    // One folder that exists (temps beside their targets), one new (a staged folder).
    let old = t.path().join("old");
    std::fs::create_dir(&old).unwrap();
    std::fs::write(old.join("kept.yaml"), b"before\n").unwrap();
    let new = t.path().join("new");
    let mut b = Batch::new();
    for i in 0..6 {
        b.stage_write(&old.join(format!("o{i}.yaml")), b"o")
            .unwrap();
        b.stage_write(&new.join(format!("n{i}.yaml")), b"n")
            .unwrap();
    }
    b.stage_write(&old.join("kept.yaml"), b"first\n").unwrap();
    b.stage_write(&old.join("kept.yaml"), b"second\n").unwrap();
    let back: Vec<PathBuf> = [
        old.join("o1.yaml"),
        old.join("o4.yaml"),
        new.join("n2.yaml"),
        // Named once, written twice: only the later write goes.
        old.join("kept.yaml"),
        // Never staged: nothing to take back.
        old.join("absent.yaml"),
    ]
    .into();
    b.unstage_all(back.iter().map(|p| p.as_path())).unwrap();
    b.commit().unwrap();
    let mut landed: Vec<String> = ["old", "new"]
        .iter()
        .flat_map(|d| {
            std::fs::read_dir(t.path().join(d))
                .unwrap()
                .map(move |e| format!("{d}/{}", e.unwrap().file_name().to_string_lossy()))
        })
        .collect();
    landed.sort();
    let expected: Vec<String> = [
        "new/n0.yaml",
        "new/n1.yaml",
        "new/n3.yaml",
        "new/n4.yaml",
        "new/n5.yaml",
        "old/kept.yaml",
        "old/o0.yaml",
        "old/o2.yaml",
        "old/o3.yaml",
        "old/o5.yaml",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    assert_eq!(landed, expected);
    assert_eq!(std::fs::read(old.join("kept.yaml")).unwrap(), b"first\n");
    assert_eq!(temps(t.path()), 0, "no temp left behind");
}

#[test]
fn a_write_moved_to_another_target_lands_there_with_its_bytes() {
    let t = tempfile::tempdir().unwrap();
    let kept = t.path().join("kept");
    std::fs::create_dir(&kept).unwrap();
    std::fs::write(kept.join("old.yaml"), b"before\n").unwrap();
    let staged = t.path().join("managed/vpcs");
    let mut b = Batch::new();
    b.stage_write(&staged.join("a.yaml"), b"a\n").unwrap();
    b.stage_write(&staged.join("b.yaml"), b"b\n").unwrap();
    b.stage_write(&kept.join("old.yaml"), b"after\n").unwrap();
    // From a staged folder into a folder that exists, and into another new one.
    assert!(b
        .restage(&staged.join("a.yaml"), &kept.join("a.unmanaged"))
        .unwrap());
    assert!(b
        .restage(&staged.join("b.yaml"), &t.path().join("un/b.unmanaged"))
        .unwrap());
    // A write beside its target in a folder that exists does not move.
    assert!(!b.restage(&kept.join("old.yaml"), &kept.join("x")).unwrap());
    assert!(
        !kept.join("a.unmanaged").exists(),
        "nothing visible before the commit"
    );
    b.commit().unwrap();
    assert_eq!(std::fs::read(kept.join("a.unmanaged")).unwrap(), b"a\n");
    assert_eq!(
        std::fs::read(t.path().join("un/b.unmanaged")).unwrap(),
        b"b\n"
    );
    assert_eq!(std::fs::read(kept.join("old.yaml")).unwrap(), b"after\n");
    assert!(!kept.join("x").exists());
    assert_eq!(std::fs::read_dir(&staged).unwrap().count(), 0, "moved out");
    assert_eq!(temps(t.path()), 0);
    // Dropped before its commit, a moved write leaves nothing.
    let mut b = Batch::new();
    b.stage_write(&t.path().join("n/c.yaml"), b"c\n").unwrap();
    assert!(b
        .restage(&t.path().join("n/c.yaml"), &kept.join("c.unmanaged"))
        .unwrap());
    drop(b);
    assert!(!kept.join("c.unmanaged").exists());
    assert_eq!(temps(t.path()), 0);
}
