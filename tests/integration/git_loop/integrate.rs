//! Safe integration: only fgd's own commits since the last fetch are replayed, a rewritten
//! remote stops the sync with the dropped commits named, and an object the remote changed that
//! this fabric also changes is a conflict naming the remote commit and its author, whatever
//! the timing, settled with `fgd resolve --ours|--theirs`.

use super::*;

fn allow_force_push(bare: &Path) {
    git(bare, &["config", "receive.denyNonFastForwards", "false"]);
}

#[test]
fn a_force_push_is_detected_and_nothing_it_dropped_is_replayed_or_pushed() {
    let w = World::new();
    let bare = w.bare("fab");
    allow_force_push(&bare);
    let (a, fa) = w.clone(&bare, "a", s(&bare));
    write(&fa.join("raw/a.yaml"), VPC1);
    ok(&w.fgd(&["init", s(&fa)], &[]), "init");
    ok(&w.fgd(&["sync", s(&fa)], &[]), "first sync");
    // A colleague pushes a secret by mistake; a syncs it in; the colleague force-pushes it away.
    let (other, _fo) = w.clone(&bare, "other", s(&bare));
    write(&other.join("deploy.env"), "TOKEN=s3cret\n");
    git(&other, &["add", "-A"]);
    git(&other, &["commit", "-qm", "add deploy settings"]);
    let dropped = git(&other, &["rev-parse", "--short=10", "HEAD"]);
    git(&other, &["push", "-q", "origin", "HEAD"]);
    ok(
        &w.fgd(&["sync", s(&fa)], &[]),
        "a syncs the colleague's commit in",
    );
    assert!(a.join("deploy.env").is_file());
    git(&other, &["reset", "-q", "--hard", "HEAD~1"]);
    git(&other, &["push", "-q", "-f", "origin", "HEAD"]);
    let rewritten = git(&bare, &["rev-parse", "main"]);
    // Twice: the answer does not change with a second run.
    for run in 1..=2 {
        let r = w.fgd(&["sync", s(&fa)], &[]);
        assert_eq!(r.code, 3, "run {run}: {}\n{}", r.stdout, r.stderr);
        assert!(
            r.stderr.contains("was rewritten (force-pushed)")
                && r.stderr.contains(dropped.trim())
                && r.stderr
                    .contains("add deploy settings (other <other@example.invalid>)"),
            "run {run}: {}",
            r.stderr
        );
        assert_eq!(
            git(&bare, &["rev-parse", "main"]),
            rewritten,
            "nothing pushed"
        );
    }
    assert!(!w
        .fresh(&bare)
        .parent()
        .unwrap()
        .parent()
        .unwrap()
        .join("deploy.env")
        .exists());
    // A plain git fetch moves the remote-tracking ref on: the dropped commit is still refused,
    // now as a commit the push would publish that fgd did not make.
    git(&a, &["fetch", "-q"]);
    let r = w.fgd(&["sync", s(&fa)], &[]);
    assert_eq!(r.code, 3, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stderr.contains("add deploy settings")
            && r.stderr.contains("fgd did not make")
            && r.stderr.contains("deploy.env"),
        "{}",
        r.stderr
    );
    assert_eq!(
        git(&bare, &["rev-parse", "main"]),
        rewritten,
        "nothing pushed"
    );
    // Taking the remote's history as it is now, sync goes on.
    git(&a, &["reset", "-q", "--hard", "origin/main"]);
    write(&fa.join("raw/b.yaml"), VPC2);
    ok(
        &w.fgd(&["sync", s(&fa)], &[]),
        "sync after the operator's decision",
    );
    let log = git(&bare, &["log", "--format=%s", "main"]);
    assert!(!log.contains("add deploy settings"), "{log}");
}

#[test]
fn a_local_commit_fgd_did_not_make_is_never_replayed() {
    let w = World::new();
    let bare = w.bare("fab");
    let (a, fa) = w.clone(&bare, "a", s(&bare));
    ok(&w.fgd(&["init", s(&fa), "--push"], &[]), "init --push");
    let (_b, fb) = w.clone(&bare, "b", s(&bare));
    // a's own work in progress, committed with git, outside the fabric.
    write(&a.join("notes.txt"), "WIP: do not push\n");
    git(&a, &["add", "notes.txt"]);
    git(&a, &["commit", "-qm", "WIP: do not push"]);
    // The remote moves on, so a's sync must replay.
    write(&fb.join("raw/b.yaml"), VPC2);
    ok(&w.fgd(&["sync", s(&fb)], &[]), "b syncs");
    let remote = git(&bare, &["rev-parse", "main"]);
    write(&fa.join("raw/a.yaml"), VPC1);
    let r = w.fgd(&["sync", s(&fa)], &[]);
    assert_eq!(r.code, 3, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stderr.contains("WIP: do not push")
            && r.stderr.contains("is not one of fgd's commits")
            && r.stderr.contains("notes.txt"),
        "{}",
        r.stderr
    );
    assert_eq!(git(&bare, &["rev-parse", "main"]), remote, "nothing pushed");
    assert!(!git(&bare, &["log", "--format=%s", "main"]).contains("WIP"));
}

/// When the remote's change of vpc-1 arrives: before a ingested its own (a's raw/ still holds
/// it) or after (both commits change the object).
#[derive(Debug, Clone, Copy, PartialEq)]
enum Timing {
    Sequential,
    Concurrent,
}

/// b publishes vpc-1 with vlan 3001; a defines vpc-1 with vlan 2001 in raw/ (ingested or not,
/// by `timing`) and syncs: a conflict naming the object, b's commit and b. Returns the world,
/// a's fabric and b's commit.
fn lost_update(timing: Timing) -> (World, PathBuf, PathBuf, String) {
    let w = World::new();
    let bare = w.bare("fab");
    let (_a, fa) = w.clone(&bare, "a", s(&bare));
    write(&fa.join("raw/a.yaml"), VPC1);
    ok(&w.fgd(&["init", s(&fa)], &[]), "init");
    ok(&w.fgd(&["sync", s(&fa)], &[]), "first sync");
    let (b, fb) = w.clone(&bare, "b", s(&bare));
    write(&fa.join("raw/x.yaml"), VPC1.replace("1001", "2001"));
    if timing == Timing::Concurrent {
        ok(&w.fgd(&["ingest", s(&fa)], &[]), "a ingests first");
    }
    write(&fb.join("raw/y.yaml"), VPC1.replace("1001", "3001"));
    ok(&w.fgd(&["sync", s(&fb)], &[]), "b publishes its vpc-1");
    let theirs = git(&b, &["rev-parse", "HEAD"]).trim().to_string();
    let r = w.fgd(&["sync", s(&fa)], &[]);
    assert_eq!(r.code, 3, "{timing:?}: {}\n{}", r.stdout, r.stderr);
    assert!(
        r.stderr.contains("conflict")
            && r.stderr
                .contains("fabrics/dc1/managed/vpcs/vpc-1.yaml (VPC/vpc-1)")
            && r.stderr.contains(&format!(
                "theirs is commit {} by b <b@example.invalid>",
                &theirs[..10]
            ))
            && r.stderr.contains("fgd resolve")
            && r.stderr.contains("--ours")
            && r.stderr.contains("--theirs"),
        "{timing:?}: {}",
        r.stderr
    );
    assert_eq!(
        git(&bare, &["rev-parse", "main"]).trim(),
        theirs,
        "{timing:?}: nothing pushed"
    );
    (w, bare, fa, theirs)
}

fn remote_vlan(w: &World, bare: &Path) -> String {
    let text = std::fs::read_to_string(w.fresh(bare).join("managed/vpcs/vpc-1.yaml")).unwrap();
    text.lines()
        .find_map(|l| l.trim().strip_prefix("vlan: "))
        .unwrap()
        .to_string()
}

#[test]
fn the_remote_changing_an_object_raw_also_defines_is_a_conflict_whatever_the_timing() {
    for timing in [Timing::Sequential, Timing::Concurrent] {
        // Theirs kept: the remote's object stays, ours is kept (unmanaged/ or the archive).
        let (w, bare, fa, _) = lost_update(timing);
        let r = w.fgd(&["resolve", s(&fa), "--theirs"], &[]);
        ok(&r, "resolve --theirs");
        ok(&w.fgd(&["sync", s(&fa)], &[]), "sync after --theirs");
        assert_eq!(remote_vlan(&w, &bare), "3001", "{timing:?}");
        let fresh = w.fresh(&bare);
        assert_eq!(kustomization(&fresh), ["vpcs/vpc-1.yaml"]);
        if timing == Timing::Sequential {
            assert!(
                fresh.join("unmanaged/x.yaml.unmanaged").is_file(),
                "our raw file is kept in unmanaged/: {:?}",
                common::tree(&fresh)
            );
        }
        // Ours kept: our object replaces theirs, on purpose this time.
        let (w, bare, fa, _) = lost_update(timing);
        ok(
            &w.fgd(&["resolve", s(&fa), "--ours"], &[]),
            "resolve --ours",
        );
        ok(&w.fgd(&["sync", s(&fa)], &[]), "sync after --ours");
        assert_eq!(remote_vlan(&w, &bare), "2001", "{timing:?}");
        assert!(!kustomize(&w.fresh(&bare)).is_empty());
        // The record is gone once the choice is pushed.
        let r = w.fgd(&["resolve", s(&fa), "--ours"], &[]);
        assert_eq!(r.code, 3, "nothing left to resolve: {}", r.stderr);
    }
}

#[test]
fn an_object_someone_moved_to_unmanaged_is_not_brought_back_unseen() {
    let w = World::new();
    let bare = w.bare("fab");
    let (_a, fa) = w.clone(&bare, "a", s(&bare));
    write(&fa.join("raw/a.yaml"), VPC1);
    ok(&w.fgd(&["init", s(&fa)], &[]), "init");
    ok(&w.fgd(&["sync", s(&fa)], &[]), "first sync");
    let (b, fb) = w.clone(&bare, "b", s(&bare));
    let moved = w.fgd(
        &[
            "move",
            s(&fb),
            s(&fb.join("managed/vpcs/vpc-1.yaml")),
            "--reason",
            "retired",
        ],
        &[],
    );
    ok(&moved, "b stops managing vpc-1");
    ok(&w.fgd(&["sync", s(&fb)], &[]), "b syncs the move");
    let theirs = git(&b, &["rev-parse", "--short=10", "HEAD"]);
    write(&fa.join("raw/again.yaml"), VPC1.replace("1001", "2001"));
    let r = w.fgd(&["sync", s(&fa)], &[]);
    assert_eq!(r.code, 3, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stderr.contains("VPC/vpc-1") && r.stderr.contains(theirs.trim()),
        "{}",
        r.stderr
    );
    assert!(!w.fresh(&bare).join("managed/vpcs/vpc-1.yaml").exists());
}

#[test]
fn two_syncs_racing_on_one_object_end_in_one_push_and_one_named_conflict() {
    let w = World::new();
    let bare = w.bare("fab");
    let (_a, fa) = w.clone(&bare, "a", s(&bare));
    write(&fa.join("raw/a.yaml"), VPC1);
    ok(&w.fgd(&["init", s(&fa)], &[]), "init");
    ok(&w.fgd(&["sync", s(&fa)], &[]), "first sync");
    let (_b, fb) = w.clone(&bare, "b", s(&bare));
    write(&fa.join("raw/x.yaml"), VPC1.replace("1001", "2001"));
    write(&fb.join("raw/y.yaml"), VPC1.replace("1001", "3001"));
    let (ra, rb) = std::thread::scope(|sc| {
        let ta = sc.spawn(|| w.fgd(&["sync", s(&fa)], &[]));
        let tb = sc.spawn(|| w.fgd(&["sync", s(&fb)], &[]));
        (ta.join().unwrap(), tb.join().unwrap())
    });
    let mut codes = [ra.code, rb.code];
    codes.sort();
    assert_eq!(codes, [0, 3], "a: {}\nb: {}", ra.stderr, rb.stderr);
    let (loser, winner) = if ra.code == 3 { (&ra, "b") } else { (&rb, "a") };
    assert!(
        loser.stderr.contains("VPC/vpc-1")
            && loser
                .stderr
                .contains(&format!("by {winner} <{winner}@example.invalid>")),
        "{}",
        loser.stderr
    );
}

#[test]
fn four_writers_syncing_at_once_all_land_and_none_is_refused() {
    let w = World::new();
    let bare = w.bare("fab");
    let (_a, fa) = w.clone(&bare, "a", s(&bare));
    ok(&w.fgd(&["init", s(&fa), "--push"], &[]), "init --push");
    let fabs: Vec<PathBuf> = (0..4)
        .map(|i| {
            let (_wc, fab) = w.clone(&bare, &format!("w{i}"), s(&bare));
            write(
                &fab.join(format!("raw/v{i}.yaml")),
                VPC1.replace("vpc-1", &format!("vpc-{}", 10 + i)),
            );
            fab
        })
        .collect();
    let runs: Vec<Run> = std::thread::scope(|sc| {
        let handles: Vec<_> = fabs
            .iter()
            .map(|f| sc.spawn(|| w.fgd(&["sync", s(f)], &[])))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for (f, r) in fabs.iter().zip(&runs) {
        // Racing is no refusal: it succeeds, or says "run again" with its own exit code.
        assert!(
            r.code == 0 || r.code == 5,
            "exit {}: {}\n{}",
            r.code,
            r.stdout,
            r.stderr
        );
        if r.code == 5 {
            assert!(r.stderr.contains("kept moving"), "{}", r.stderr);
            ok(&w.fgd(&["sync", s(f)], &[]), "the retry");
        }
    }
    let fresh = w.fresh(&bare);
    for i in 0..4 {
        assert!(
            fresh
                .join(format!("managed/vpcs/vpc-{}.yaml", 10 + i))
                .is_file(),
            "vpc-{} is missing upstream; log:\n{}\nruns:\n{}",
            10 + i,
            git(&bare, &["log", "--stat", "--format=%h %s", "main"]),
            runs.iter()
                .map(|r| format!("exit {}\n{}{}", r.code, r.stdout, r.stderr))
                .collect::<Vec<_>>()
                .join("\n---\n")
        );
    }
}
