//! `fgd sync --all`: the fabrics of one working copy with one fetch, one commit per fabric
//! that changed and one push.

use super::*;

#[test]
fn sync_all_fetches_once_commits_once_per_fabric_and_pushes_once() {
    let w = World::new();
    let bare = w.bare("fab");
    let (wc, dc1) = w.clone(&bare, "wc", s(&bare));
    let dc2 = wc.join("fabrics/dc2");
    let dc3 = wc.join("fabrics/dc3");
    for f in [&dc1, &dc2, &dc3] {
        ok(&w.fgd(&["init", s(f), "--push"], &[]), "init --push");
    }
    // Someone else moves the remote on meanwhile (dc1), so the sync replays.
    let (_other, odc1) = w.clone(&bare, "other", s(&bare));
    write(&odc1.join("raw/o.yaml"), VPC2.replace("vpc-2", "vpc-9"));
    ok(&w.fgd(&["sync", s(&odc1)], &[]), "other syncs dc1");
    let before = git(&bare, &["rev-parse", "main"]);
    write(&dc1.join("raw/a.yaml"), VPC1);
    write(&dc2.join("raw/b.yaml"), VPC2);
    // dc3 has nothing new: no commit for it.
    let r = w.fgd(&["sync", "--all", s(&wc), "--json"], &[]);
    ok(&r, "sync --all");
    assert_eq!(r.of("git-pushed").len(), 1, "one push: {}", r.stdout);
    assert_eq!(
        r.of("git-phase-started")
            .iter()
            .filter(|e| e["phase"] == "fetch")
            .count(),
        1,
        "one fetch: {}",
        r.stdout
    );
    let new = git(
        &bare,
        &["log", "--format=%s", &format!("{}..main", before.trim())],
    );
    let subjects: Vec<&str> = new.lines().collect();
    assert_eq!(
        subjects.len(),
        2,
        "one commit per fabric that changed: {subjects:?}"
    );
    assert!(subjects.contains(&"dc1: add VPC vpc-1"), "{subjects:?}");
    assert!(subjects.contains(&"dc2: add VPC vpc-2"), "{subjects:?}");
    let fresh = w.fresh(&bare);
    let root = fresh.parent().unwrap();
    assert!(fresh.join("managed/vpcs/vpc-1.yaml").is_file());
    assert!(fresh.join("managed/vpcs/vpc-9.yaml").is_file());
    assert!(root.join("dc2/managed/vpcs/vpc-2.yaml").is_file());
    assert_eq!(kustomization(&root.join("dc2")), ["vpcs/vpc-2.yaml"]);
    for (i, f) in [&dc1, &dc2, &dc3].iter().enumerate() {
        let st = w.fgd(&["status", s(f), "--json"], &[]);
        let g = &st.of("status")[0]["git"];
        assert_eq!(
            (g["ahead"].as_u64(), g["uncommitted"].as_u64()),
            (Some(0), Some(0)),
            "dc{}: {g}",
            i + 1
        );
    }
}
