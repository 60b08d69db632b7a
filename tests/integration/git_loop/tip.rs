//! The tip a push would publish is checked, not only the diff fgd committed: a merge the
//! operator made, a colleague's commit, anything that reached the branch.

use super::in_progress::diverged;
use super::*;

#[test]
fn a_merge_committed_with_conflict_markers_is_never_pushed() {
    let w = World::new();
    let (b, fb) = diverged(&w);
    let merge = Command::new("git")
        .arg("-C")
        .arg(&b)
        .args(["merge", "-q", "--no-edit", "origin/main"])
        .output()
        .unwrap();
    assert!(!merge.status.success(), "the merge stops on conflicts");
    // The operator commits the merge as it is, markers and all.
    git(&b, &["add", "-A"]);
    git(&b, &["commit", "-q", "--no-edit"]);
    let managed = std::fs::read_to_string(fb.join("managed/vpcs/vpc-1.yaml")).unwrap();
    let marker = managed
        .lines()
        .position(|l| l.starts_with("<<<<<<<"))
        .expect("the merge left markers")
        + 1;
    let remote_before = git(&b, &["ls-remote", "origin", "main"]);
    let r = w.fgd(&["push", s(&fb)], &[]);
    assert_eq!(r.code, 3, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stderr.contains(&format!(
            "managed/vpcs/vpc-1.yaml:{marker}: a merge's conflict markers"
        )) && r.stderr.contains(".hnp/log.jsonl:")
            && r.stderr.contains("nothing was pushed"),
        "{}",
        r.stderr
    );
    assert_eq!(git(&b, &["ls-remote", "origin", "main"]), remote_before);
    // The dry run names the same problems.
    let r = w.fgd(&["push", s(&fb), "--dry-run"], &[]);
    assert!(
        r.stdout.contains(&format!(
            "push would refuse this commit: managed/vpcs/vpc-1.yaml:{marker}:"
        )),
        "{}",
        r.stdout
    );
    // Resolved (their object and log kept, ours still in the archive): it goes out.
    git(
        &b,
        &[
            "checkout",
            "origin/main",
            "--",
            "fabrics/dc1/managed",
            "fabrics/dc1/.hnp/log.jsonl",
        ],
    );
    git(&b, &["commit", "-qm", "resolve the merge: keep a's vpc-1"]);
    ok(&w.fgd(&["push", s(&fb)], &[]), "push of the resolved merge");
    let fresh = w.fresh(&w.repos().join("fab.git"));
    assert!(
        std::fs::read_to_string(fresh.join("managed/vpcs/vpc-1.yaml"))
            .unwrap()
            .contains("2001")
    );
    assert!(!kustomize(&fresh).is_empty(), "kustomize builds the remote");
}

#[test]
fn whoever_made_the_commit_a_broken_tree_is_not_published_on_top() {
    let w = World::new();
    let bare = w.bare("fab");
    let (_a, fa) = w.clone(&bare, "a", s(&bare));
    write(&fa.join("raw/a.yaml"), VPC1);
    ok(&w.fgd(&["init", s(&fa)], &[]), "init");
    ok(&w.fgd(&["sync", s(&fa)], &[]), "first sync");
    // A colleague edits a managed object by hand with plain git and pushes: YAML Argo CD
    // cannot read, and a raw file with a merge's leftovers.
    let (other, fo) = w.clone(&bare, "other", s(&bare));
    write(
        &fo.join("managed/vpcs/vpc-1.yaml"),
        VPC1.replace("  subnets:\n", "  subnets: [\n"),
    );
    write(
        &fo.join("raw/leftover.yaml"),
        format!(
            "<<<<<<< HEAD\n{VPC2}=======\n{}>>>>>>> theirs\n",
            VPC2.replace("1002", "1003")
        ),
    );
    git(&other, &["add", "-A"]);
    git(&other, &["commit", "-qm", "hand edit"]);
    git(&other, &["push", "-q", "origin", "HEAD"]);
    let remote = git(&other, &["rev-parse", "HEAD"]);
    // a's push has nothing of its own to say: the tip it would publish is broken all the same.
    write(&fa.join("raw/b.yaml"), VPC2.replace("vpc-2", "vpc-9"));
    ok(&w.fgd(&["ingest", s(&fa)], &[]), "ingest");
    let r = w.fgd(&["push", s(&fa)], &[]);
    assert_eq!(r.code, 3, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stderr.contains("managed/vpcs/vpc-1.yaml:")
            && r.stderr
                .contains("raw/leftover.yaml:1: a merge's conflict markers"),
        "{}",
        r.stderr
    );
    assert_eq!(
        git(&bare, &["rev-parse", "main"]),
        remote,
        "nothing was pushed on top"
    );
}

#[test]
fn a_big_batch_record_that_does_not_parse_is_never_pushed() {
    let w = World::new();
    let bare = w.bare("fab");
    let (_a, fa) = w.clone(&bare, "a", s(&bare));
    write(&fa.join("raw/a.yaml"), VPC1);
    ok(&w.fgd(&["init", s(&fa)], &[]), "init");
    ok(&w.fgd(&["sync", s(&fa)], &[]), "first sync");
    // A colleague's commit cuts a big batch's record file short (`oplog::RECORDS`).
    let (other, fo) = w.clone(&bare, "other", s(&bare));
    write(
        &fo.join(".hnp/records/20260101T000000000Z-1-0.json"),
        "{\"documents\":[{\"source\":\"raw/a.yaml\"",
    );
    git(&other, &["add", "-A"]);
    git(&other, &["commit", "-qm", "cut short"]);
    git(&other, &["push", "-q", "origin", "HEAD"]);
    let remote = git(&other, &["rev-parse", "HEAD"]);
    write(&fa.join("raw/b.yaml"), VPC2);
    let r = w.fgd(&["sync", s(&fa)], &[]);
    assert_eq!(r.code, 3, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stderr.contains(
            ".hnp/records/20260101T000000000Z-1-0.json:1: a record of fgd's operation log does not parse"
        ),
        "{}",
        r.stderr
    );
    assert_eq!(git(&bare, &["rev-parse", "main"]), remote, "nothing pushed");
}
