//! A git operation in progress (merge, rebase, cherry-pick...) is never trampled: push and
//! sync refuse, say which and how to finish or abort it, and write nothing.

use super::*;

/// Two clones whose fabrics hold different versions of VPC vpc-1; `a` has pushed its own, `b`
/// committed its own with plain git and has not pulled yet.
pub(super) fn diverged(w: &World) -> (PathBuf, PathBuf) {
    let bare = w.bare("fab");
    let (_a, fa) = w.clone(&bare, "a", s(&bare));
    ok(&w.fgd(&["init", s(&fa), "--push"], &[]), "init --push");
    let (b, fb) = w.clone(&bare, "b", s(&bare));
    write(&fa.join("raw/x.yaml"), VPC1.replace("1001", "2001"));
    ok(&w.fgd(&["sync", s(&fa)], &[]), "a syncs vpc-1");
    write(&fb.join("raw/y.yaml"), VPC1.replace("1001", "3001"));
    ok(&w.fgd(&["ingest", s(&fb)], &[]), "b ingests its vpc-1");
    git(&b, &["add", "-A"]);
    git(&b, &["commit", "-qm", "b's vpc-1"]);
    git(&b, &["fetch", "-q"]);
    (b, fb)
}

/// Everything a refused command must leave as it was: HEAD, the index file, the git markers.
fn snapshot(wc: &Path) -> (String, Vec<u8>, Vec<String>) {
    let gitdir = wc.join(".git");
    let mut markers: Vec<String> = std::fs::read_dir(&gitdir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with("_HEAD") || n.starts_with("rebase-"))
        .collect();
    markers.sort();
    (
        git(wc, &["rev-parse", "HEAD"]),
        std::fs::read(gitdir.join("index")).unwrap(),
        markers,
    )
}

#[test]
fn a_merge_in_progress_is_refused_with_the_index_untouched() {
    let w = World::new();
    let (b, fb) = diverged(&w);
    let merge = Command::new("git")
        .arg("-C")
        .arg(&b)
        .args(["merge", "-q", "--no-edit", "origin/main"])
        .output()
        .unwrap();
    assert!(!merge.status.success(), "the merge stops on conflicts");
    let before = snapshot(&b);
    assert!(before.2.contains(&"MERGE_HEAD".to_string()));
    for cmd in ["push", "sync"] {
        let r = w.fgd(&[cmd, s(&fb)], &[]);
        assert_eq!(r.code, 3, "{cmd}: {}\n{}", r.stdout, r.stderr);
        assert!(
            r.stderr.contains("a merge is in progress") && r.stderr.contains("git merge --abort"),
            "{cmd}: {}",
            r.stderr
        );
        assert_eq!(snapshot(&b), before, "{cmd} wrote nothing");
    }
    // The dry run says so too, and status reports it.
    let r = w.fgd(&["push", s(&fb), "--dry-run"], &[]);
    assert!(
        r.stdout
            .contains("push would refuse: a merge is in progress"),
        "{}",
        r.stdout
    );
    let st = w.fgd(&["status", s(&fb), "--json"], &[]);
    assert_eq!(
        st.of("status")[0]["git"]["in_progress"],
        "merge",
        "{}",
        st.stdout
    );
    // git can still abort the merge: the index is git's, untouched.
    git(&b, &["merge", "--abort"]);
    let fsck = Command::new("git")
        .arg("-C")
        .arg(&b)
        .args(["fsck", "--no-progress"])
        .output()
        .unwrap();
    assert!(
        fsck.status.success(),
        "{}",
        String::from_utf8_lossy(&fsck.stderr)
    );
}

#[test]
fn a_rebase_or_cherry_pick_in_progress_is_named_with_how_to_finish_it() {
    let w = World::new();
    let (b, fb) = diverged(&w);
    let rebase = Command::new("git")
        .arg("-C")
        .arg(&b)
        .args(["rebase", "-q", "origin/main"])
        .output()
        .unwrap();
    assert!(!rebase.status.success(), "the rebase stops on conflicts");
    let before = snapshot(&b);
    let r = w.fgd(&["push", s(&fb)], &[]);
    assert_eq!(r.code, 3, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stderr.contains("a rebase is in progress")
            && r.stderr.contains("git rebase --continue")
            && !r.stderr.contains("check a branch out"),
        "{}",
        r.stderr
    );
    assert_eq!(snapshot(&b), before);
    git(&b, &["rebase", "--abort"]);
    let head = git(&b, &["rev-parse", "HEAD"]);
    let pick = Command::new("git")
        .arg("-C")
        .arg(&b)
        .args(["cherry-pick", "origin/main"])
        .output()
        .unwrap();
    assert!(!pick.status.success(), "the cherry-pick stops on conflicts");
    let r = w.fgd(&["sync", s(&fb)], &[]);
    assert_eq!(r.code, 3, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stderr.contains("a cherry-pick is in progress") && r.stderr.contains("--abort"),
        "{}",
        r.stderr
    );
    assert_eq!(git(&b, &["rev-parse", "HEAD"]), head);
}

#[test]
fn conflict_stages_without_a_recorded_operation_are_refused_too() {
    let w = World::new();
    let (b, fb) = diverged(&w);
    let merge = Command::new("git")
        .arg("-C")
        .arg(&b)
        .args(["merge", "-q", "--no-edit", "origin/main"])
        .output()
        .unwrap();
    assert!(!merge.status.success());
    // The merge's marker removed by hand: the index still holds conflict stages.
    std::fs::remove_file(b.join(".git/MERGE_HEAD")).unwrap();
    let before = snapshot(&b);
    let r = w.fgd(&["push", s(&fb)], &[]);
    assert_eq!(r.code, 3, "{}\n{}", r.stdout, r.stderr);
    assert!(r.stderr.contains("unresolved conflicts"), "{}", r.stderr);
    assert_eq!(snapshot(&b), before);
}
