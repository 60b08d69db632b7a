//! What goes out: every commit a push publishes besides fgd's own is said, and one that
//! changes paths outside the fabric is refused unless --include-other-commits.

use super::*;

#[test]
fn a_wip_commit_outside_the_fabric_is_listed_and_refused_unless_asked_for() {
    let w = World::new();
    let bare = w.bare("fab");
    let (a, fa) = w.clone(&bare, "a", s(&bare));
    ok(&w.fgd(&["init", s(&fa), "--push"], &[]), "init --push");
    write(&a.join("notes.txt"), "half done\n");
    git(&a, &["add", "notes.txt"]);
    git(&a, &["commit", "-qm", "WIP: do not push"]);
    let wip = git(&a, &["rev-parse", "--short=10", "HEAD"]);
    write(&fa.join("raw/a.yaml"), VPC1);
    ok(&w.fgd(&["ingest", s(&fa)], &[]), "ingest");
    let remote = git(&bare, &["rev-parse", "main"]);
    let r = w.fgd(&["push", s(&fa), "--dry-run"], &[]);
    ok(&r, "dry run");
    assert!(
        r.stdout.contains(&format!(
            "push would also publish: {} WIP: do not push (a <a@example.invalid>)",
            wip.trim()
        )) && r
            .stdout
            .contains("notes.txt; push refuses it unless --include-other-commits"),
        "{}",
        r.stdout
    );
    let r = w.fgd(&["push", s(&fa)], &[]);
    assert_eq!(r.code, 3, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stdout.contains(&format!(
            "git push: also publishes {} WIP: do not push",
            wip.trim()
        )) && r.stderr.contains("WIP: do not push")
            && r.stderr.contains("--include-other-commits"),
        "{}\n{}",
        r.stdout,
        r.stderr
    );
    assert_eq!(git(&bare, &["rev-parse", "main"]), remote, "nothing pushed");
    let r = w.fgd(&["push", s(&fa), "--include-other-commits", "--json"], &[]);
    ok(&r, "push --include-other-commits");
    assert_eq!(r.of("git-other-commit").len(), 1, "{}", r.stdout);
    assert!(git(&bare, &["log", "--format=%s", "main"]).contains("WIP: do not push"));
}

#[test]
fn a_commit_of_fabric_files_made_with_git_is_listed_and_goes_out() {
    let w = World::new();
    let bare = w.bare("fab");
    let (a, fa) = w.clone(&bare, "a", s(&bare));
    ok(&w.fgd(&["init", s(&fa), "--push"], &[]), "init --push");
    write(&fa.join("raw/a.yaml"), VPC1);
    git(&a, &["add", "-A"]);
    git(&a, &["commit", "-qm", "drop vpc-1 the git way"]);
    let r = w.fgd(&["sync", s(&fa)], &[]);
    ok(&r, "sync");
    assert!(
        r.stdout.contains("git push: also publishes")
            && r.stdout.contains("drop vpc-1 the git way")
            && r.stdout.contains("fgd did not make it"),
        "{}",
        r.stdout
    );
    assert!(w.fresh(&bare).join("managed/vpcs/vpc-1.yaml").is_file());
}

#[test]
fn a_push_over_a_path_remote_reports_its_progress_without_repeating_a_line() {
    let w = World::new();
    let bare = w.bare("fab");
    let (_a, fa) = w.clone(&bare, "a", s(&bare));
    ok(&w.fgd(&["init", s(&fa), "--push"], &[]), "init --push");
    // Hundreds of objects: libgit2's local push calls back once per object, each time with
    // the same `done == total` once packed; that is one line, not one per object.
    let vpcs: Vec<String> = (0..300)
        .map(|i| {
            VPC1.replace("vpc-1", &format!("vpc-{i}"))
                .replace("10.0.1.0", &format!("10.{}.{}.0", i / 250, i % 250))
                .replace("1001", &format!("{}", 1001 + i))
        })
        .collect();
    write(&fa.join("raw/many.yaml"), vpcs.join("---\n"));
    ok(&w.fgd(&["ingest", s(&fa)], &[]), "ingest");
    let r = w.fgd(&["push", s(&fa), "--json"], &[]);
    ok(&r, "push");
    let progress: Vec<_> = r
        .of("git-progress")
        .into_iter()
        .filter(|e| e["phase"] == "push")
        .collect();
    let last = progress.last().expect("the push reports progress");
    assert!(
        last["done"] == last["total"] && last["total"].as_u64() > Some(300),
        "{last}"
    );
    for pair in progress.windows(2) {
        assert_ne!(pair[0], pair[1], "a progress line repeated:\n{}", r.stdout);
    }
}

#[test]
fn a_sync_with_nothing_new_says_the_remote_is_up_to_date_and_does_not_push() {
    let w = World::new();
    let bare = w.bare("fab");
    let (a, fa) = w.clone(&bare, "a", s(&bare));
    ok(&w.fgd(&["init", s(&fa), "--push"], &[]), "init --push");
    write(&fa.join("raw/a.yaml"), VPC1);
    ok(&w.fgd(&["sync", s(&fa)], &[]), "sync");
    let tip = git(&a, &["rev-parse", "HEAD"]);
    // A pre-push hook that fails would stop any push: a no-op sync must not reach it.
    let hook = a.join(".git/hooks/pre-push");
    write(&hook, "#!/bin/sh\necho pushed anyway >&2\nexit 1\n");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755)).unwrap();
    let r = w.fgd(&["sync", s(&fa), "--json"], &[]);
    ok(&r, "no-op sync");
    assert!(r.of("git-pushed").is_empty(), "{}", r.stdout);
    let up = r.of("git-up-to-date");
    assert_eq!(up.len(), 1, "{}", r.stdout);
    assert_eq!(up[0]["commit"], tip.trim(), "{}", r.stdout);
    assert_eq!(git(&bare, &["rev-parse", "main"]).trim(), tip.trim());
    let human = w.fgd(&["sync", s(&fa)], &[]);
    ok(&human, "no-op sync, human");
    assert!(human.stdout.contains("nothing to push"), "{}", human.stdout);
}
