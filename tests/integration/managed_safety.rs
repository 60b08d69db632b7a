//! managed/ is fgd's, and nothing in it is lost: hand edits are archived before they are
//! replaced (or win a conflict when newer than the raw version), an object taken out with
//! `fgd move` is not managed again by a file dropped back, and an ingest refused after its plan
//! has not said it managed anything.

use crate::common;

use std::path::Path;
use std::time::{Duration, SystemTime};

use common::*;

fn vpc(name: &str, vlan: u32) -> String {
    format!(
        "apiVersion: vpc.githedgehog.com/v1beta1\nkind: VPC\nmetadata:\n  name: {name}\nspec:\n  subnets:\n    default:\n      subnet: 10.0.1.0/24\n      vlan: {vlan}\n"
    )
}

/// Set a file's modification time `secs` seconds from now (negative: in the past).
fn set_mtime(path: &Path, secs: i64) {
    let now = SystemTime::now();
    let at = if secs < 0 {
        now - Duration::from_secs(secs.unsigned_abs())
    } else {
        now + Duration::from_secs(secs as u64)
    };
    std::fs::File::options()
        .write(true)
        .open(path)
        .expect("open")
        .set_modified(at)
        .expect("set mtime");
}

fn ingest_json(f: &Path, dry_run: bool) -> Run {
    let mut args = vec!["ingest", s(f), "--json"];
    if dry_run {
        args.push("--dry-run");
    }
    fgd(&args)
}

#[test]
fn a_hand_edit_replaced_by_a_newer_raw_version_is_archived_and_named_first_by_the_plan() {
    let (_t, f) = fabric();
    write(&f.join("raw/a.yaml"), vpc("a", 1001));
    assert_eq!(fgd(&["ingest", s(&f)]).code, 0);
    let edited = vpc("a", 1001).replace("vlan: 1001", "vlan: 1002 # by hand");
    let managed = f.join("managed/vpcs/a.yaml");
    write(&managed, &edited);
    set_mtime(&managed, -60);
    write(&f.join("raw/a.yaml"), vpc("a", 1003));

    // The plan says so first, and changes nothing.
    let plan = ingest_json(&f, true);
    let archive = plan
        .of("planned")
        .into_iter()
        .find(|p| p["action"] == "archive" && p["from"] == "managed/vpcs/a.yaml")
        .unwrap_or_else(|| panic!("no archive of the hand edit planned: {}", plan.stdout));
    assert!(
        archive["to"].as_str().unwrap().contains("hand-edits"),
        "{archive}"
    );
    assert_eq!(std::fs::read_to_string(&managed).unwrap(), edited);

    let r = ingest_json(&f, false);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let doc = r.of("document-classified").remove(0);
    assert_eq!(doc["change"], "update");
    let kept = doc["replaced_hand_edit"]
        .as_str()
        .expect("named in the output");
    assert_eq!(
        std::fs::read_to_string(f.join(kept)).unwrap(),
        edited,
        "the hand edit is kept byte for byte"
    );
    assert_eq!(std::fs::read_to_string(&managed).unwrap(), vpc("a", 1003));
    let log = std::fs::read_to_string(f.join(".hnp/log.jsonl")).unwrap();
    assert!(
        log.lines().last().unwrap().contains(kept),
        "named in the log"
    );
    // The human output names it too.
    write(&managed, &edited);
    set_mtime(&managed, -60);
    write(&f.join("raw/a.yaml"), vpc("a", 1004));
    let human = fgd(&["ingest", s(&f)]);
    assert!(
        human.stdout.contains("replacing a hand edit"),
        "{}",
        human.stdout
    );
    assert_nothing_looks_like_an_object(&f);
    kustomize(&f);
}

#[test]
fn a_hand_edit_newer_than_the_raw_version_is_a_conflict_and_stays() {
    let (_t, f) = fabric();
    write(&f.join("raw/a.yaml"), vpc("a", 1001));
    assert_eq!(fgd(&["ingest", s(&f)]).code, 0);
    let edited = vpc("a", 1001).replace("vlan: 1001", "vlan: 1002");
    let managed = f.join("managed/vpcs/a.yaml");
    write(&managed, &edited);
    // An older raw version arrives (copied with its time kept).
    write(&f.join("raw/old.yaml"), vpc("a", 1000));
    set_mtime(&f.join("raw/old.yaml"), -3600);
    let r = ingest_json(&f, false);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    let doc = r.of("document-classified").remove(0);
    assert_eq!(doc["code"], "conflict", "{doc}");
    let reason = doc["reason"].as_str().unwrap();
    assert!(
        reason.contains("managed/vpcs/a.yaml") && reason.contains("raw/old.yaml"),
        "names both: {reason}"
    );
    assert_eq!(std::fs::read_to_string(&managed).unwrap(), edited);
    assert_eq!(kustomize(&f).len(), 1);
}

#[test]
fn an_update_of_a_file_fgd_wrote_is_no_hand_edit() {
    let (_t, f) = fabric();
    write(&f.join("raw/a.yaml"), vpc("a", 1001));
    assert_eq!(fgd(&["ingest", s(&f)]).code, 0);
    write(&f.join("raw/a.yaml"), vpc("a", 1002));
    let r = ingest_json(&f, false);
    assert_eq!(r.code, 0);
    let doc = r.of("document-classified").remove(0);
    assert_eq!(doc["change"], "update");
    assert!(doc.get("replaced_hand_edit").is_none(), "{doc}");
    assert!(!r.stdout.contains("hand-edits"), "{}", r.stdout);
}

#[test]
fn an_object_moved_out_is_not_managed_again_by_a_file_dropped_back() {
    let (_t, f) = fabric();
    write(&f.join("raw/a.yaml"), vpc("a", 1001));
    write(&f.join("raw/b.yaml"), vpc("b", 1002));
    assert_eq!(fgd(&["ingest", s(&f)]).code, 0);
    let m = fgd(&[
        "move",
        s(&f),
        s(&f.join("managed/vpcs/a.yaml")),
        "--reason",
        "decommissioned",
    ]);
    assert_eq!(m.code, 0, "{}", m.stderr);
    // The same file dropped back, and a whole file moved from raw/ dropped back.
    write(&f.join("raw/a.yaml"), vpc("a", 1001));
    write(&f.join("raw/c.yaml"), vpc("c", 1003));
    let m = fgd(&["move", s(&f), s(&f.join("raw/c.yaml")), "--reason", "later"]);
    assert_eq!(m.code, 0, "{}", m.stderr);
    write(&f.join("raw/c.yaml"), vpc("c", 1003));
    let r = ingest_json(&f, false);
    assert_eq!(r.code, 1, "{}", r.stdout);
    for (file, item) in [
        ("raw/a.yaml", "unmanaged/vpcs/a.yaml.unmanaged"),
        ("raw/c.yaml", "unmanaged/c.yaml.unmanaged"),
    ] {
        let doc = r
            .of("document-classified")
            .into_iter()
            .find(|d| d["file"] == file)
            .unwrap();
        assert_eq!(doc["code"], "operator", "{doc}");
        let reason = doc["reason"].as_str().unwrap();
        assert!(
            reason.contains("fgd move") && reason.contains(item),
            "{reason}"
        );
    }
    assert!(!f.join("managed/vpcs/a.yaml").exists());
    assert_eq!(kustomize(&f), [("VPC".to_string(), "b".to_string())]);
    // Adopted, it is managed again.
    let a = fgd(&[
        "adopt",
        s(&f),
        s(&f.join("unmanaged/vpcs/a.yaml.unmanaged")),
    ]);
    assert_eq!(a.code, 0, "{}", a.stderr);
    let r = ingest_json(&f, false);
    let doc = r
        .of("document-classified")
        .into_iter()
        .find(|d| d["object"] == "VPC/a")
        .unwrap();
    assert_eq!(doc["fate"], "managed", "{}", r.stdout);
}

#[test]
fn an_ingest_refused_after_its_plan_has_printed_no_managed_line() {
    let (t, f) = fabric();
    let outside = t.path().join("outside");
    std::fs::create_dir(&outside).unwrap();
    std::os::unix::fs::symlink(&outside, f.join("unmanaged/site")).unwrap();
    write(&f.join("raw/a.yaml"), vpc("a", 1001));
    write(
        &f.join("raw/site/cm.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n",
    );
    for json in [false, true] {
        let mut args = vec!["ingest", s(&f)];
        if json {
            args.push("--json");
        }
        let r = fgd(&args);
        assert_eq!(r.code, 3, "{}", r.stderr);
        assert!(
            !r.stdout
                .lines()
                .any(|l| l.contains(" managed") || l.contains("document")),
            "{}",
            r.stdout
        );
        assert!(r.of("document-classified").is_empty(), "{}", r.stdout);
        assert!(r.of("file-finished").is_empty(), "{}", r.stdout);
    }
    assert!(tree(&outside).is_empty());
    assert!(!f.join("managed/vpcs/a.yaml").exists());
}

#[test]
fn what_is_in_managed_besides_fgds_objects_is_never_listed_and_is_reported() {
    let (_t, f) = fabric();
    write(&f.join("raw/x.yaml"), vpc("vpc-x", 1001));
    write(&f.join("raw/y.yaml"), vpc("vpc-y", 1002));
    assert_eq!(fgd(&["ingest", s(&f)]).code, 0);
    let vpcs = f.join("managed/vpcs");
    // A backup copy, a planted symlink, a file in an unknown folder, an object renamed inside
    // its file (whose new name then arrives in raw/).
    std::fs::copy(vpcs.join("vpc-x.yaml"), vpcs.join("vpc-x-backup.yaml")).unwrap();
    std::os::unix::fs::symlink("/etc/hostname", vpcs.join("planted.yaml")).unwrap();
    write(&f.join("managed/extra/thing.yaml"), vpc("thing", 1));
    let renamed = vpcs.join("vpc-y.yaml");
    write(&renamed, vpc("vpc-z", 1002));
    set_mtime(&renamed, 60);
    write(&f.join("raw/z.yaml"), vpc("vpc-z", 1003));

    let r = ingest_json(&f, false);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let reported: Vec<String> = r
        .of("error")
        .iter()
        .map(|e| e["file"].as_str().unwrap().to_string())
        .collect();
    for path in [
        "managed/extra",
        "managed/vpcs/planted.yaml",
        "managed/vpcs/vpc-x-backup.yaml",
        "managed/vpcs/vpc-y.yaml",
    ] {
        assert!(
            reported.iter().any(|p| p == path),
            "{path} not reported: {}",
            r.stdout
        );
    }
    let backup = r
        .of("error")
        .into_iter()
        .find(|e| e["file"] == "managed/vpcs/vpc-x-backup.yaml")
        .unwrap();
    assert!(
        backup["message"].as_str().unwrap().contains("fgd move"),
        "{backup}"
    );
    assert_eq!(
        kustomization(&f),
        ["vpcs/vpc-x.yaml", "vpcs/vpc-z.yaml"],
        "only fgd's objects, one definition each"
    );
    // kubectl builds it, each object once.
    assert_eq!(kustomize(&f).len(), 2);

    // status and validate report them too.
    let st = fgd(&["status", s(&f), "--json"]);
    let status: serde_json::Value = serde_json::from_str(st.stdout.trim()).unwrap();
    let strays: Vec<&str> = status["status"]["strays"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["path"].as_str().unwrap())
        .collect();
    assert!(
        strays.contains(&"managed/vpcs/vpc-x-backup.yaml"),
        "{}",
        st.stdout
    );
    let v = fgd(&["validate", s(&f), "--json"]);
    assert!(
        v.of("error")
            .iter()
            .any(|e| e["file"] == "managed/vpcs/planted.yaml"),
        "{}",
        v.stdout
    );
    // Resolved by the move it names: the backup leaves managed/ for unmanaged/.
    let m = fgd(&[
        "move",
        s(&f),
        s(&vpcs.join("vpc-x-backup.yaml")),
        "--reason",
        "old backup",
    ]);
    assert_eq!(m.code, 0, "{}", m.stderr);
    assert_eq!(kustomization(&f), ["vpcs/vpc-x.yaml", "vpcs/vpc-z.yaml"]);
}

#[test]
fn a_big_batch_keeps_its_record_in_its_own_file_and_what_it_wrote_is_still_known() {
    let (_t, f) = fabric();
    // 15,000 documents of only a comment: a record of over a megabyte, no file to write each.
    write(
        &f.join("raw/a.yaml"),
        vpc("a", 1001) + &"---\n# filler\n".repeat(15_000),
    );
    assert_eq!(fgd(&["ingest", s(&f)]).code, 0);
    let log = std::fs::read_to_string(f.join(".hnp/log.jsonl")).unwrap();
    assert_eq!(log.lines().count(), 1);
    let line: serde_json::Value = serde_json::from_str(log.trim_end()).unwrap();
    assert!(log.len() < 2048, "the log keeps a short line: {log}");
    assert_eq!(line["summary"]["documents"], 15_001);
    let rel = line["record"].as_str().expect("names its record's file");
    let record: serde_json::Value =
        serde_json::from_slice(&std::fs::read(f.join(rel)).unwrap()).unwrap();
    assert_eq!(record["documents"].as_array().unwrap().len(), 15_001);
    assert_eq!(record["inputs"][0]["path"], "raw/a.yaml");

    // What fgd wrote at managed/vpcs/a.yaml is read from that file: replacing the file as
    // fgd wrote it is no hand edit (a record not found would take it for one).
    write(&f.join("raw/a.yaml"), vpc("a", 1003));
    let r = ingest_json(&f, false);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let doc = r.of("document-classified").remove(0);
    assert_eq!(doc["change"], "update");
    assert!(
        doc.get("replaced_hand_edit").is_none_or(|v| v.is_null()),
        "{doc}"
    );
    // A small batch's record stays in the log line.
    let log = std::fs::read_to_string(f.join(".hnp/log.jsonl")).unwrap();
    let last: serde_json::Value = serde_json::from_str(log.lines().last().unwrap()).unwrap();
    assert!(
        last.get("record").is_none() && last["documents"].is_array(),
        "{last}"
    );
}
