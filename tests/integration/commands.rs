//! The headless commands end to end, through the real binary.

use crate::common;

use common::*;

const VPC1: &str = "apiVersion: vpc.githedgehog.com/v1beta1\nkind: VPC\nmetadata:\n  name: vpc-1\nspec:\n  subnets:\n    default:\n      subnet: 10.0.1.0/24\n      vlan: 1001\n";
const VPC2: &str = "apiVersion: vpc.githedgehog.com/v1beta1\nkind: VPC\nmetadata:\n  name: vpc-2\nspec:\n  subnets:\n    default:\n      subnet: 10.0.2.0/24\n      vlan: 1002\n";
const VPC3: &str = "apiVersion: vpc.githedgehog.com/v1beta1\nkind: VPC\nmetadata:\n  name: vpc-3\nspec:\n  subnets:\n    default:\n      subnet: 10.0.3.0/24\n      vlan: 1003\n";
const CM: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  a: b\n";

#[test]
fn init_creates_the_layout_and_is_idempotent_without_overwriting() {
    let t = tempfile::tempdir().unwrap();
    let f = t.path().join("fab");
    let r = fgd(&["init", s(&f), "--name", "dc1"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    for p in [
        "raw/README.md",
        "unmanaged/README.md",
        ".hnp/manifest.json",
        "managed/kustomization.yaml",
        ".sourceignore",
    ] {
        assert!(f.join(p).is_file(), "{p} missing");
    }
    assert_eq!(tree(&f.join("managed")), ["kustomization.yaml"]);
    assert!(
        std::fs::read_to_string(f.join("managed/kustomization.yaml"))
            .unwrap()
            .contains("resources: []")
    );
    let ignore = std::fs::read_to_string(f.join(".sourceignore")).unwrap();
    for p in ["raw/", "unmanaged/", ".hnp/"] {
        assert!(ignore.lines().any(|l| l == p), ".sourceignore lacks {p}");
    }
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(f.join(".hnp/manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["fabric"], "dc1");
    assert_eq!(manifest["structure_version"], 1);

    // An operator's own README survives a second init, and a deleted folder is repaired.
    write(&f.join("raw/README.md"), "mine\n");
    std::fs::remove_dir(f.join("unmanaged")).ok();
    std::fs::remove_dir_all(f.join("unmanaged")).ok();
    let r = fgd(&["init", s(&f)]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        std::fs::read_to_string(f.join("raw/README.md")).unwrap(),
        "mine\n"
    );
    assert!(f.join("unmanaged/README.md").is_file());
    kustomize(&f);
    assert_nothing_looks_like_an_object(&f);
}

#[test]
fn ingest_splits_a_mixed_file_and_keeps_comments_and_bytes() {
    let (_t, f) = fabric();
    let text =
        format!("# tenant A\n{VPC1}---\n# settings for the app\n{CM}---\n# second tenant\n{VPC2}");
    write(&f.join("raw/site/tenants.yaml"), &text);
    let r = fgd(&["ingest", s(&f), "--json"]);
    assert_eq!(
        r.code, 1,
        "some input went to unmanaged: {}\n{}",
        r.stdout, r.stderr
    );
    assert_eq!(
        std::fs::read_to_string(f.join("managed/vpcs/vpc-1.yaml")).unwrap(),
        format!("# tenant A\n{VPC1}")
    );
    // The bare separator is dropped; the comment block before it travels with the document.
    assert_eq!(
        std::fs::read_to_string(f.join("managed/vpcs/vpc-2.yaml")).unwrap(),
        format!("# second tenant\n{VPC2}")
    );
    assert_eq!(kustomization(&f), ["vpcs/vpc-1.yaml", "vpcs/vpc-2.yaml"]);
    assert_eq!(unmanaged_items(&f), ["site/tenants.doc2.yaml.unmanaged"]);
    assert_eq!(
        std::fs::read_to_string(f.join("unmanaged/site/tenants.doc2.yaml.unmanaged")).unwrap(),
        format!("# settings for the app\n{CM}")
    );
    let reason: serde_json::Value = serde_json::from_slice(
        &std::fs::read(f.join("unmanaged/site/tenants.doc2.yaml.unmanaged.reason.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(reason["code"], "not-hedgehog");
    assert_eq!(reason["source"], "raw/site/tenants.yaml");
    assert_eq!(reason["line"], 13);
    assert!(!f.join("raw/site/tenants.yaml").exists());
    let archived = tree(&f.join(".hnp/archive"));
    assert_eq!(archived.len(), 1);
    assert!(archived[0].ends_with("site/tenants.yaml.orig"));
    assert_eq!(
        std::fs::read_to_string(f.join(".hnp/archive").join(&archived[0])).unwrap(),
        text
    );
    let log = std::fs::read_to_string(f.join(".hnp/log.jsonl")).unwrap();
    assert_eq!(log.lines().count(), 1);
    assert!(log.contains("raw/site/tenants.yaml"));
    assert_eq!(kustomize(&f).len(), 2);
    assert_nothing_looks_like_an_object(&f);
    assert_managed_is_clean(&f);
}

#[test]
fn human_ingest_output_is_a_line_per_file_plus_each_document_that_needs_the_operator() {
    let (_t, f) = fabric();
    write(
        &f.join("raw/tenants.yaml"),
        format!("{VPC1}---\n{CM}---\n{VPC2}"),
    );
    write(&f.join("raw/one.yaml"), VPC3);
    let r = fgd(&["ingest", s(&f)]);
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert_eq!(
        lines[..3],
        [
            "raw/one.yaml: 1 document: 1 managed (1 new)",
            "raw/tenants.yaml:11:1: document 2: ConfigMap/settings: unmanaged [not-hedgehog] \
             ConfigMap (v1) is not a Hedgehog object; fgd manages only *.githedgehog.com kinds \
             -> unmanaged/tenants.doc2.yaml.unmanaged",
            "raw/tenants.yaml: 3 documents: 2 managed (2 new), 1 unmanaged",
        ]
    );
    assert!(
        lines[3].starts_with("ingest: 2 files, 4 documents, 3 managed"),
        "{}",
        lines[3]
    );
    assert_eq!(lines.len(), 4, "{}", r.stdout);

    // --verbose names every document, with where it went.
    write(&f.join("raw/tenants.yaml"), format!("{VPC1}---\n{VPC2}"));
    let r = fgd(&["ingest", s(&f), "--verbose"]);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert_eq!(
        r.stdout.lines().take(2).collect::<Vec<_>>(),
        [
            "raw/tenants.yaml:1:1: VPC/vpc-1: managed (unchanged) -> managed/vpcs/vpc-1.yaml",
            "raw/tenants.yaml:11:1: VPC/vpc-2: managed (unchanged) -> managed/vpcs/vpc-2.yaml",
        ]
    );
}

#[test]
fn reingest_of_the_same_content_is_a_no_op_and_a_change_is_an_update() {
    let (_t, f) = fabric();
    write(&f.join("raw/a.yaml"), VPC1);
    assert_eq!(fgd(&["ingest", s(&f)]).code, 0);
    write(&f.join("raw/a.yaml"), VPC1);
    let r = fgd(&["ingest", s(&f), "--json"]);
    assert_eq!(r.code, 0);
    assert_eq!(r.summary()["unchanged"], 1);
    assert_eq!(
        tree(&f.join("managed")),
        ["kustomization.yaml", "vpcs/vpc-1.yaml"],
        "no -1 duplicates"
    );
    let changed = VPC1.replace("10.0.1.0/24", "10.0.9.0/24");
    write(&f.join("raw/b.yaml"), &changed);
    let plan = fgd(&["ingest", s(&f), "--dry-run", "--json"]);
    assert!(
        plan.of("planned")
            .iter()
            .any(|p| p["action"] == "replace" && p["path"] == "managed/vpcs/vpc-1.yaml"),
        "{}",
        plan.stdout
    );
    assert_eq!(
        std::fs::read_to_string(f.join("managed/vpcs/vpc-1.yaml")).unwrap(),
        VPC1,
        "dry run changed nothing"
    );
    assert!(f.join("raw/b.yaml").exists(), "dry run changed nothing");
    let r = fgd(&["ingest", s(&f), "--json"]);
    assert_eq!(r.summary()["updated"], 1);
    assert_eq!(
        std::fs::read_to_string(f.join("managed/vpcs/vpc-1.yaml")).unwrap(),
        changed
    );
}

#[test]
fn two_definitions_in_one_batch_conflict_and_managed_is_untouched() {
    let (_t, f) = fabric();
    write(&f.join("raw/a.yaml"), VPC1);
    assert_eq!(fgd(&["ingest", s(&f)]).code, 0);
    write(&f.join("raw/x.yaml"), VPC1.replace("1001", "2001"));
    write(&f.join("raw/y.yaml"), VPC1.replace("1001", "3001"));
    let r = fgd(&["ingest", s(&f), "--json"]);
    assert_eq!(r.code, 1);
    assert_eq!(r.summary()["conflicts"], 2);
    assert_eq!(
        std::fs::read_to_string(f.join("managed/vpcs/vpc-1.yaml")).unwrap(),
        VPC1
    );
    let mut items = unmanaged_items(&f);
    items.sort();
    assert_eq!(items, ["x.yaml.unmanaged", "y.yaml.unmanaged"]);
    let reason = std::fs::read_to_string(f.join("unmanaged/x.yaml.unmanaged.reason.json")).unwrap();
    assert!(
        reason.contains("raw/y.yaml"),
        "the reason names the other definition: {reason}"
    );
}

#[test]
fn what_names_an_object_defined_twice_differently_waits_with_it() {
    // Neither definition of vpc-1 is applied, so the cluster would not have it: its
    // attachment is refused too, naming the conflict, and nothing of it reaches managed/.
    let (_t, f) = fabric();
    write(&f.join("raw/x.yaml"), VPC1);
    write(&f.join("raw/y.yaml"), VPC1.replace("1001", "2001"));
    let attachment = "apiVersion: vpc.githedgehog.com/v1beta1\nkind: VPCAttachment\nmetadata:\n  name: vpc-1--srv\nspec:\n  subnet: vpc-1/default\n  connection: srv--unbundled--leaf-1\n";
    write(&f.join("raw/z.yaml"), attachment);
    let r = fgd_all_rules(&["ingest", s(&f), "--json"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(r.summary()["conflicts"], 2);
    let everything = tree(&f);
    assert!(
        !everything.iter().any(|p| p.starts_with("managed/vpc")),
        "{everything:?}"
    );
    let reason = std::fs::read_to_string(f.join("unmanaged/z.yaml.unmanaged.reason.json")).unwrap();
    assert!(
        reason.contains("GEN-08") && reason.contains("raw/x.yaml"),
        "{reason}"
    );
}

#[test]
fn a_first_ingest_takes_back_both_sides_of_a_conflict_and_writes_a_duplicate_once() {
    // No managed/vpcs yet: the objects are written while the inputs are read, so the
    // conflicting one must be taken back out of the new folder before it appears.
    let (_t, f) = fabric();
    write(&f.join("raw/a.yaml"), format!("{VPC1}---\n{VPC2}"));
    write(&f.join("raw/b.yaml"), VPC1.replace("1001", "2001"));
    write(&f.join("raw/c.yaml"), VPC2);
    let r = fgd(&["ingest", s(&f), "--json"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(r.summary()["conflicts"], 2);
    assert_eq!(tree(&f.join("managed/vpcs")), ["vpc-2.yaml"]);
    assert_eq!(
        std::fs::read_to_string(f.join("managed/vpcs/vpc-2.yaml")).unwrap(),
        VPC2
    );
    let mut items = unmanaged_items(&f);
    items.sort();
    assert_eq!(items, ["a.doc1.yaml.unmanaged", "b.yaml.unmanaged"]);
    let everything = tree(&f);
    assert!(
        !everything.iter().any(|p| p.contains(".fgd-tmp")),
        "no temp left: {everything:?}"
    );
}

#[test]
fn an_item_already_in_unmanaged_is_never_overwritten_and_the_same_bytes_are_not_written_twice() {
    let (_t, f) = fabric();
    let bad = "kind: [unclosed\n";
    write(&f.join("raw/site/a.yaml"), bad);
    assert_eq!(fgd(&["ingest", s(&f)]).code, 1);
    // Other bytes under the same name get the next free one; the same bytes, the item there.
    write(&f.join("raw/site/a.yaml"), "kind: [other\n");
    assert_eq!(fgd(&["ingest", s(&f)]).code, 1);
    write(&f.join("raw/site/a.yaml"), bad);
    let r = fgd(&["ingest", s(&f), "--json"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let mut items = unmanaged_items(&f);
    items.sort();
    assert_eq!(items, ["site/a.yaml.unmanaged", "site/a~2.yaml.unmanaged"]);
    assert_eq!(
        std::fs::read_to_string(f.join("unmanaged/site/a.yaml.unmanaged")).unwrap(),
        bad
    );
    assert_eq!(
        std::fs::read_to_string(f.join("unmanaged/site/a~2.yaml.unmanaged")).unwrap(),
        "kind: [other\n"
    );
    assert!(!f.join("raw/site/a.yaml").exists());
}

#[test]
fn validate_is_read_only_and_points_at_file_line_and_column() {
    let (_t, f) = fabric();
    let text = format!("{VPC1}---\napiVersion: vpc.githedgehog.com/v1beta1\nkind: VPC\nmetadata:\n  name: Tenant_B\n---\n{VPC2}---\nkind: [unclosed\n");
    write(&f.join("raw/a.yaml"), &text);
    let r = fgd(&["validate", s(&f.join("raw")), "--json"]);
    assert_eq!(r.code, 1, "{}", r.stdout);
    let docs = r.of("document-classified");
    assert_eq!(docs.len(), 4);
    assert_eq!(docs[0]["fate"], "managed");
    assert_eq!(docs[1]["code"], "bad-name");
    assert_eq!(
        docs[1]["pos"]["line"], 14,
        "points at metadata.name: {}",
        docs[1]
    );
    assert_eq!(docs[2]["fate"], "managed");
    assert_eq!(docs[3]["code"], "yaml-syntax");
    // Unclosed at the end of the file: libyaml reports where the input ended.
    assert!(
        matches!(docs[3]["pos"]["line"].as_u64(), Some(26 | 27)),
        "{}",
        docs[3]
    );
    assert!(f.join("raw/a.yaml").exists());
    assert_eq!(tree(&f.join("managed")), ["kustomization.yaml"]);
    // Human output names file:line:col.
    let h = fgd(&["validate", s(&f.join("raw/a.yaml"))]);
    assert!(h.stdout.contains("a.yaml:14:"), "{}", h.stdout);
    // All valid: exit 0.
    write(&f.join("ok.yaml"), VPC2);
    assert_eq!(fgd(&["validate", s(&f.join("ok.yaml"))]).code, 0);
}

#[test]
fn move_and_adopt_round_trip() {
    let (_t, f) = fabric();
    write(&f.join("raw/a.yaml"), format!("{VPC1}---\n{VPC2}"));
    assert_eq!(fgd(&["ingest", s(&f)]).code, 0);
    let r = fgd(&[
        "move",
        s(&f),
        "managed/vpcs/vpc-1.yaml",
        "--reason",
        "decommissioned tenant",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(!f.join("managed/vpcs/vpc-1.yaml").exists());
    assert_eq!(kustomization(&f), ["vpcs/vpc-2.yaml"]);
    assert_eq!(unmanaged_items(&f), ["vpcs/vpc-1.yaml.unmanaged"]);
    let reason =
        std::fs::read_to_string(f.join("unmanaged/vpcs/vpc-1.yaml.unmanaged.reason.json")).unwrap();
    assert!(reason.contains("decommissioned tenant") && reason.contains("\"operator\""));
    kustomize(&f);

    let r = fgd(&["adopt", s(&f), "unmanaged/vpcs/vpc-1.yaml.unmanaged"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        std::fs::read_to_string(f.join("raw/vpcs/vpc-1.yaml")).unwrap(),
        VPC1
    );
    assert!(unmanaged_items(&f).is_empty());
    assert!(!f
        .join("unmanaged/vpcs/vpc-1.yaml.unmanaged.reason.json")
        .exists());
    assert_eq!(fgd(&["ingest", s(&f)]).code, 0);
    assert_eq!(kustomization(&f), ["vpcs/vpc-1.yaml", "vpcs/vpc-2.yaml"]);

    // Raw files can be moved too; files outside raw/ and managed/ cannot.
    write(&f.join("raw/later.yaml"), CM);
    assert_eq!(
        fgd(&[
            "move",
            s(&f),
            s(&f.join("raw/later.yaml")),
            "--reason",
            "not ours"
        ])
        .code,
        0
    );
    assert!(f.join("unmanaged/later.yaml.unmanaged").is_file());
    assert_eq!(
        fgd(&["move", s(&f), "managed/kustomization.yaml", "--reason", "x"]).code,
        2
    );
    assert_eq!(
        fgd(&["move", s(&f), "/etc/passwd", "--reason", "x"]).code,
        3
    );
}

#[test]
fn status_reports_counts_last_batch_and_lock() {
    let (_t, f) = fabric();
    write(&f.join("raw/a.yaml"), format!("{VPC1}---\n{CM}"));
    let st = fgd(&["status", s(&f), "--json"]);
    assert_eq!(st.of("status")[0]["status"]["raw_pending"], 1);
    fgd(&["ingest", s(&f)]);
    let st = fgd(&["status", s(&f), "--json"]);
    let v = &st.of("status")[0]["status"];
    assert_eq!(v["raw_pending"], 0);
    assert_eq!(v["managed"], 1);
    assert_eq!(v["unmanaged"], 1);
    assert_eq!(v["last_batch"]["command"], "ingest");
    assert!(v["lock"].is_null());
    assert!(v["unfinished"].is_null());
    let human = fgd(&["status", s(&f)]);
    assert!(human.stdout.contains("managed:   1"), "{}", human.stdout);
}

#[test]
fn a_second_instance_is_refused_while_the_lock_is_held() {
    let (_t, f) = fabric();
    write(&f.join("raw/a.yaml"), VPC1);
    // util-linux flock holds the same kind of lock fgd takes.
    let mut holder = std::process::Command::new("flock")
        .arg("-o")
        .arg(f.join(".hnp/lock"))
        .args(["sleep", "30"])
        .spawn()
        .expect("flock(1) from util-linux");
    // Waits for the holder to really hold it: a loaded machine starts it late.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while fgd::store::FabricLock::holder(&f.join(".hnp/lock"))
        .unwrap()
        .is_none()
    {
        assert!(
            std::time::Instant::now() < deadline,
            "flock(1) never took the lock"
        );
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let r = fgd(&["ingest", s(&f)]);
    holder.kill().ok();
    holder.wait().ok();
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert!(r.stderr.contains("locked"), "{}", r.stderr);
    assert!(f.join("raw/a.yaml").exists());
    // kill -9 of the holder leaves no stale lock.
    assert_eq!(fgd(&["ingest", s(&f)]).code, 0);
}

#[test]
fn symlinked_fgd_folders_are_refused() {
    let (t, f) = fabric();
    let elsewhere = t.path().join("elsewhere");
    std::fs::create_dir(&elsewhere).unwrap();
    std::fs::remove_dir_all(f.join("managed")).unwrap();
    std::os::unix::fs::symlink(&elsewhere, f.join("managed")).unwrap();
    write(&f.join("raw/a.yaml"), VPC1);
    let r = fgd(&["ingest", s(&f)]);
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert!(r.stderr.contains("symlink"), "{}", r.stderr);
    assert!(
        tree(&elsewhere).is_empty(),
        "nothing written through the symlink"
    );
    assert!(f.join("raw/a.yaml").exists());
}

#[test]
fn usage_errors_and_missing_fabrics_have_their_own_codes() {
    assert_eq!(fgd(&["ingest"]).code, 2);
    assert_eq!(fgd(&["frobnicate"]).code, 2);
    let t = tempfile::tempdir().unwrap();
    let r = fgd(&["ingest", s(t.path())]);
    assert_eq!(r.code, 3);
    assert!(r.stderr.contains("fgd init"), "{}", r.stderr);
}

#[test]
fn an_incomplete_layout_is_refused_with_the_repair_command() {
    let (_t, f) = fabric();
    std::fs::remove_dir_all(f.join("raw")).unwrap();
    let r = fgd(&["ingest", s(&f)]);
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert!(r.stderr.contains("fgd init"), "{}", r.stderr);
    assert_eq!(fgd(&["init", s(&f)]).code, 0);
    assert_eq!(fgd(&["ingest", s(&f)]).code, 0);
    assert_eq!(fgd(&["validate", "/nonexistent/path.yaml"]).code, 2);
}

#[test]
fn the_operation_log_records_inputs_with_hashes_and_every_document() {
    let (_t, f) = fabric();
    write(&f.join("raw/a.yaml"), format!("{VPC1}---\n{CM}"));
    fgd(&["ingest", s(&f)]);
    write(&f.join("raw/b.yaml"), VPC2);
    fgd(&["ingest", s(&f)]);
    let log = std::fs::read_to_string(f.join(".hnp/log.jsonl")).unwrap();
    let records: Vec<serde_json::Value> = log
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(records.len(), 2, "append-only, one record per batch");
    let first = &records[0];
    assert_eq!(first["command"], "ingest");
    assert_eq!(first["inputs"][0]["path"], "raw/a.yaml");
    assert_eq!(first["inputs"][0]["sha256"].as_str().unwrap().len(), 64);
    assert_eq!(first["documents"].as_array().unwrap().len(), 2);
    assert_eq!(
        first["documents"][0]["fate"]["path"],
        "managed/vpcs/vpc-1.yaml"
    );
    assert_eq!(first["documents"][1]["fate"]["code"], "not-hedgehog");
}

/// Reads `fgd watch --json` lines on a thread, so the test waits for text with a deadline.
fn json_lines(child: &mut std::process::Child) -> std::sync::mpsc::Receiver<serde_json::Value> {
    use std::io::BufRead;
    let out = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(out).lines().map_while(Result::ok) {
            if let Ok(v) = serde_json::from_str(&line) {
                if tx.send(v).is_err() {
                    return;
                }
            }
        }
    });
    rx
}

fn next_event(
    rx: &std::sync::mpsc::Receiver<serde_json::Value>,
    what: &str,
    file_ends: &str,
) -> serde_json::Value {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        let v = rx
            .recv_timeout(left)
            .unwrap_or_else(|_| panic!("no {what} event for {file_ends}"));
        let file = v["file"].as_str().or(v["dir"].as_str()).unwrap_or("");
        if v["event"] == what && file.ends_with(file_ends) {
            return v;
        }
    }
}

#[test]
fn watch_judges_a_changed_file_against_the_whole_fabric() {
    // Every rule: the fabric says so itself (the tests' config checks only the envelope).
    let (t, f) = fabric();
    write(&f.join(".hnp/validation.toml"), "rules = \"all\"\n");
    write(&f.join("raw/a.yaml"), VPC1);
    assert_eq!(fgd(&["ingest", s(&f)]).code, 0);
    let mut child = fgd_command()
        .args([
            "watch",
            s(&f),
            "--json",
            "--quiet-ms",
            "200",
            "--count",
            "1",
        ])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let rx = json_lines(&mut child);
    next_event(&rx, "watching", "raw");
    // A VPC whose subnet overlaps the managed vpc-1's: judged against managed/, not alone.
    write(
        &t.path().join("staged.yaml"),
        VPC2.replace("10.0.2.0/24", "10.0.1.128/25"),
    );
    std::fs::rename(t.path().join("staged.yaml"), f.join("raw/b.yaml")).unwrap();
    let v = next_event(&rx, "problem", "raw/b.yaml");
    assert_eq!(v["rule"], "VPC-26", "{v}");
    assert_eq!(v["see_also"]["file"], "managed/vpcs/vpc-1.yaml", "{v}");
    assert!(v["pos"]["line"].as_u64().unwrap_or(0) > 0, "{v}");
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn watch_classifies_files_as_they_arrive_and_reports_them_gone() {
    let (t, f) = fabric();
    write(&f.join("raw/before.yaml"), VPC1);
    let mut child = std::process::Command::new(fgd_bin())
        .args([
            "watch",
            s(&f),
            "--json",
            "--quiet-ms",
            "200",
            "--count",
            "3",
        ])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let rx = json_lines(&mut child);
    // What raw/ already holds is validated first, then the watch starts.
    next_event(&rx, "document-classified", "raw/before.yaml");
    next_event(&rx, "watching", "raw");
    // An atomic save: written elsewhere on the same file system, renamed in whole.
    write(
        &t.path().join("staged.yaml"),
        VPC1.replace("vpc-1", "vpc-9"),
    );
    std::fs::rename(t.path().join("staged.yaml"), f.join("raw/saved.yaml")).unwrap();
    let v = next_event(&rx, "document-classified", "raw/saved.yaml");
    assert_eq!(v["fate"], "managed", "{v}");
    assert_eq!(v["object"], "VPC/vpc-9", "{v}");
    // Written in place, broken: classified after the quiet period, with its line.
    write(
        &f.join("raw/broken.yaml"),
        "kind: VPC\nmetadata:\n  name: x\n",
    );
    let v = next_event(&rx, "document-classified", "raw/broken.yaml");
    assert_eq!(v["fate"], "unmanaged", "{v}");
    assert_eq!(v["code"], "missing-apiVersion", "{v}");
    std::fs::remove_file(f.join("raw/saved.yaml")).unwrap();
    next_event(&rx, "file-vanished", "raw/saved.yaml");
    assert!(child.wait().unwrap().success(), "--count 3 ends the watch");
    // Read-only: nothing was ingested.
    assert!(!f.join("managed/vpcs").exists());
}

#[test]
fn a_bad_dashboard_config_is_refused_naming_file_line_and_action() {
    let (t, f) = fabric();
    let cfg = t.path().join("config.toml");
    write(
        &cfg,
        "quiet_ms = 200\n\n[keys]\ningest = \"i\"\nlaunch = \"l\"\n",
    );
    let r = fgd(&["dash", s(&f), "--config", s(&cfg)]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr
            .contains(&format!("{}:5:1: unknown action \"launch\"", cfg.display())),
        "{}",
        r.stderr
    );
    // The same through FGD_CONFIG, and a bad workspace file names its line too.
    let r = fgd_env(&["demo", "--no-ui"], &[("FGD_CONFIG", s(&cfg))]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    write(&cfg, "quiet_ms = 200\n");
    write(
        &t.path().join("fgd.toml"),
        "fabrics = [\"fab\", \"nowhere\"]\n",
    );
    let r = fgd(&["dash", s(t.path()), "--config", s(&cfg)]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("fgd.toml:1:19: fabric \"nowhere\": no such folder"),
        "{}",
        r.stderr
    );
}

/// Every file and folder under `dir`, with a hash of each file's bytes: to show nothing
/// changed.
fn snapshot(dir: &std::path::Path) -> Vec<(String, Option<u64>)> {
    use std::hash::{Hash, Hasher};
    let digest = |b: Vec<u8>| {
        let mut h = std::hash::DefaultHasher::new();
        b.hash(&mut h);
        h.finish()
    };
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let rel = e.path().strip_prefix(dir).unwrap().display().to_string();
            let t = e.file_type().unwrap();
            if t.is_dir() {
                stack.push(e.path());
                out.push((rel, None));
            } else {
                out.push((
                    rel,
                    Some(digest(std::fs::read(e.path()).unwrap_or_default())),
                ));
            }
        }
    }
    out.sort();
    out
}

const OPERATOR_KUSTOMIZATION: &str = "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: prod\nresources:\n- vpc.yaml\npatches:\n- path: fix.yaml\n";

#[test]
fn init_never_replaces_an_operator_s_kustomization_and_says_what_it_did_with_fgd_s_own() {
    let t = tempfile::tempdir().unwrap();
    let f = t.path().join("fab");
    write(
        &f.join("managed/kustomization.yaml"),
        OPERATOR_KUSTOMIZATION,
    );
    write(&f.join("managed/vpc.yaml"), VPC1);
    let before = snapshot(&f);
    let r = fgd(&["init", s(&f)]);
    assert_eq!(r.code, 3, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stderr.contains("managed/kustomization.yaml") && r.stderr.contains("not written by fgd"),
        "{}",
        r.stderr
    );
    assert_eq!(snapshot(&f), before, "refused before changing anything");

    // fgd's own kustomization: kept when right, updated (and said so) when not.
    std::fs::remove_file(f.join("managed/kustomization.yaml")).unwrap();
    std::fs::remove_file(f.join("managed/vpc.yaml")).unwrap();
    assert_eq!(fgd(&["init", s(&f)]).code, 0);
    let r = fgd(&["init", s(&f), "--json"]);
    let report = &r.of("initialised")[0]["report"];
    assert!(
        report["kept"]
            .as_array()
            .unwrap()
            .contains(&"managed/kustomization.yaml".into()),
        "{report}"
    );
    // A file put in managed/ by hand is not fgd's: never listed.
    write(
        &f.join("managed/vpcs/vpc-2.yaml"),
        VPC1.replace("vpc-1", "vpc-2"),
    );
    let r = fgd(&["init", s(&f)]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.contains("kept     managed/kustomization.yaml"),
        "{}",
        r.stdout
    );
    std::fs::remove_file(f.join("managed/vpcs/vpc-2.yaml")).unwrap();
    // A listed object deleted by hand: the kustomization is brought up to date.
    write(&f.join("raw/a.yaml"), VPC1);
    assert_eq!(fgd(&["ingest", s(&f)]).code, 0);
    assert_eq!(kustomization(&f), ["vpcs/vpc-1.yaml"]);
    std::fs::remove_file(f.join("managed/vpcs/vpc-1.yaml")).unwrap();
    let r = fgd(&["init", s(&f)]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.contains("updated  managed/kustomization.yaml"),
        "{}",
        r.stdout
    );
    assert!(kustomization(&f).is_empty());
    write(&f.join("raw/a.yaml"), VPC1);
    assert_eq!(fgd(&["ingest", s(&f)]).code, 0);
    assert_eq!(kustomization(&f), ["vpcs/vpc-1.yaml"]);

    // A hand-written one put in an initialised fabric: no command replaces it.
    write(
        &f.join("managed/kustomization.yaml"),
        OPERATOR_KUSTOMIZATION,
    );
    write(&f.join("raw/b.yaml"), VPC2);
    let before = snapshot(&f);
    for cmd in [
        vec!["ingest", s(&f)],
        vec!["move", s(&f), "managed/vpcs/vpc-1.yaml", "--reason", "x"],
        vec!["init", s(&f)],
    ] {
        let r = fgd(&cmd);
        assert_eq!(r.code, 3, "{cmd:?}: {}", r.stderr);
        assert!(r.stderr.contains("not written by fgd"), "{}", r.stderr);
        let now: Vec<_> = snapshot(&f)
            .into_iter()
            .filter(|(p, _)| !p.starts_with(".hnp/local") && p != ".hnp/lock")
            .collect();
        let was: Vec<_> = before
            .iter()
            .filter(|(p, _)| !p.starts_with(".hnp/local") && p != ".hnp/lock")
            .cloned()
            .collect();
        assert_eq!(now, was, "{cmd:?} changed nothing");
    }
}

#[test]
fn status_and_a_dry_run_write_nothing_even_to_a_fresh_clone_without_the_empty_archive() {
    let (_t, f) = fabric();
    // git carries no empty folders: a fresh clone has no .hnp/archive/.
    std::fs::remove_dir(f.join(".hnp/archive")).unwrap();
    std::fs::remove_file(f.join(".hnp/lock")).unwrap();
    write(&f.join("raw/a.yaml"), format!("{VPC1}---\n{CM}"));
    let before = snapshot(&f);
    let r = fgd(&["status", s(&f), "--json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.of("status")[0]["status"]["raw_pending"], 1);
    let r = fgd(&["ingest", s(&f), "--dry-run"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stdout.contains("plan: write"), "{}", r.stdout);
    assert_eq!(snapshot(&f), before, "read-only commands wrote nothing");
    // A real ingest makes the archive it needs.
    assert_eq!(fgd(&["ingest", s(&f)]).code, 1);
    assert!(f.join("managed/vpcs/vpc-1.yaml").is_file());
    assert_eq!(tree(&f.join(".hnp/archive")).len(), 1);
}

#[test]
fn a_lock_file_deleted_while_a_run_holds_it_still_keeps_a_second_run_out() {
    let (_t, f) = fabric();
    write(&f.join("raw/a.yaml"), VPC1);
    let mut second = None;
    let mut status = None;
    let r = fgd_stopped_at(&["ingest", s(&f)], "ingest.before-journal", || {
        // `git clean -fdX` removes it: it is in .hnp/.gitignore.
        std::fs::remove_file(f.join(".hnp/lock")).unwrap();
        status = Some(fgd(&["status", s(&f), "--json"]));
        second = Some(fgd(&["ingest", s(&f)]));
    });
    assert_eq!(r.code, 0, "the first run finishes: {}", r.stderr);
    let second = second.unwrap();
    assert_eq!(second.code, 3, "{}{}", second.stdout, second.stderr);
    assert!(second.stderr.contains("locked"), "{}", second.stderr);
    let status = status.unwrap();
    assert!(
        !status.of("status")[0]["status"]["lock"].is_null(),
        "status sees the run: {}",
        status.stdout
    );
    assert!(f.join("managed/vpcs/vpc-1.yaml").is_file());
    assert_eq!(tree(&f.join("raw")), ["README.md"]);
    assert!(!tree(&f).iter().any(|p| p.contains(".fgd-tmp-")));
}

fn fgd_in(dir: &std::path::Path, args: &[&str]) -> Run {
    let out = std::process::Command::new(fgd_bin())
        .args(args)
        .current_dir(dir)
        .env_remove("FGD_FAILPOINT")
        .output()
        .unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

#[test]
fn a_mistyped_file_is_a_usage_error_and_a_missing_fabric_is_not_a_fabric() {
    let (t, f) = fabric();
    write(&f.join("unmanaged/a.yaml.unmanaged"), "x: [\n");
    for args in [
        vec!["move", "fab", "fab/raw/typo.yaml", "--reason", "x"],
        vec!["move", "fab", "raw/sub/typo.yaml", "--reason", "x"],
        vec!["adopt", "fab", "fab/unmanaged/typo.yaml.unmanaged"],
        vec!["adopt", "fab", "/nowhere/typo.yaml.unmanaged"],
    ] {
        let r = fgd_in(t.path(), &args);
        assert_eq!(r.code, 2, "{args:?}: {}", r.stderr);
        assert!(
            r.stderr.contains(args[2]),
            "{args:?}: names the path: {}",
            r.stderr
        );
        assert!(r.stderr.contains("no such file"), "{args:?}: {}", r.stderr);
        assert!(!r.stderr.contains("fab/fab"), "{args:?}: {}", r.stderr);
    }
    for cmd in ["ingest", "status", "move", "adopt"] {
        let mut args = vec![cmd, "no-such-fabric"];
        if cmd == "move" || cmd == "adopt" {
            args.push("raw/a.yaml");
        }
        if cmd == "move" {
            args.extend(["--reason", "x"]);
        }
        let r = fgd_in(t.path(), &args);
        assert_eq!(r.code, 3, "{cmd}: {}", r.stderr);
        assert!(
            r.stderr.contains("no-such-fabric") && r.stderr.contains("not an fgd fabric"),
            "{cmd}: {}",
            r.stderr
        );
    }
}

#[test]
fn a_symlinked_lock_or_a_corrupt_manifest_is_refused_by_every_command_with_what_to_do() {
    let (t, f) = fabric();
    let outside = t.path().join("outside-lock");
    std::fs::write(&outside, "{}").unwrap();
    std::fs::remove_file(f.join(".hnp/lock")).unwrap();
    std::os::unix::fs::symlink(&outside, f.join(".hnp/lock")).unwrap();
    write(&f.join("raw/v.yaml"), VPC1);
    for cmd in ["status", "ingest", "init"] {
        let r = fgd(&[cmd, s(&f)]);
        assert_eq!(r.code, 3, "{cmd}: {}", r.stderr);
        assert!(
            r.stderr.contains(".hnp/lock")
                && r.stderr.contains("symlink")
                && r.stderr.contains("rm "),
            "{cmd}: {}",
            r.stderr
        );
    }
    assert_eq!(std::fs::read_to_string(&outside).unwrap(), "{}");
    std::fs::remove_file(f.join(".hnp/lock")).unwrap();
    assert_eq!(fgd(&["status", s(&f)]).code, 0, "repaired as told");

    std::fs::write(f.join(".hnp/manifest.json"), "{\"structure_version\":1,").unwrap();
    for cmd in ["status", "ingest", "init"] {
        let r = fgd(&[cmd, s(&f)]);
        assert_eq!(r.code, 3, "{cmd}: {}", r.stderr);
        assert!(
            r.stderr.contains("manifest.json") && r.stderr.contains("fgd init"),
            "{cmd}: says what to do: {}",
            r.stderr
        );
    }
    assert!(f.join("raw/v.yaml").is_file(), "nothing ingested");
}

#[test]
fn an_ingest_refused_for_a_foreign_kustomization_reports_no_document_as_managed() {
    let (_t, f) = fabric();
    write(&f.join("raw/a.yaml"), VPC1);
    write(
        &f.join("managed/kustomization.yaml"),
        "resources: [x.yaml]\n",
    );
    let r = fgd(&["ingest", s(&f)]);
    assert_eq!(r.code, 3, "{}{}", r.stdout, r.stderr);
    assert!(r.stderr.contains("not written by fgd"), "{}", r.stderr);
    assert!(
        !r.stdout.contains("managed"),
        "nothing was managed, so nothing is reported managed: {}",
        r.stdout
    );
    let r = fgd(&["ingest", s(&f), "--json"]);
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert!(r.of("document-classified").is_empty(), "{}", r.stdout);
    assert!(r.of("file-finished").is_empty(), "{}", r.stdout);
    assert!(f.join("raw/a.yaml").is_file());
    assert!(!f.join("managed/vpcs").exists());
    // A dry run says a real run would be refused.
    let r = fgd(&["ingest", s(&f), "--dry-run", "--json"]);
    assert!(
        r.of("error").iter().any(|e| e["message"]
            .as_str()
            .unwrap_or("")
            .contains("not written by fgd")),
        "{}",
        r.stdout
    );
}

#[test]
fn a_symlinked_record_in_hnp_is_refused_before_anything_is_done_with_what_to_do() {
    for record in [".hnp/log.jsonl", ".hnp/manifest.json", ".hnp/journal.json"] {
        let (t, f) = fabric();
        let outside = t.path().join("outside-record");
        let p = f.join(record);
        let keep = std::fs::read(&p).unwrap_or_else(|_| b"{}\n".to_vec());
        std::fs::write(&outside, &keep).unwrap();
        let _ = std::fs::remove_file(&p);
        std::os::unix::fs::symlink(&outside, &p).unwrap();
        write(&f.join("raw/v.yaml"), VPC1);
        for cmd in [
            vec!["ingest", s(&f)],
            vec!["move", s(&f), "raw/v.yaml", "--reason", "x"],
        ] {
            let r = fgd(&cmd);
            assert_eq!(r.code, 3, "{record}: {cmd:?}: {}", r.stderr);
            assert!(
                r.stderr.contains(record) && r.stderr.contains("symlink"),
                "{record}: names the path: {}",
                r.stderr
            );
            assert!(
                r.stderr.contains("cp "),
                "{record}: says what to do: {}",
                r.stderr
            );
            assert!(f.join("raw/v.yaml").is_file(), "{record}: nothing done");
            assert!(
                tree(&f.join("managed")) == ["kustomization.yaml"],
                "{record}"
            );
            assert!(
                std::fs::symlink_metadata(f.join(".hnp/journal.json"))
                    .map(|m| m.file_type().is_symlink())
                    .unwrap_or(true),
                "{record}: nothing journaled"
            );
        }
        assert_eq!(std::fs::read(&outside).unwrap(), keep, "{record}");
        // Repaired as told: the batch goes through.
        std::fs::remove_file(&p).unwrap();
        if record != ".hnp/journal.json" {
            std::fs::copy(&outside, &p).unwrap();
        }
        let r = fgd(&["ingest", s(&f)]);
        assert_eq!(r.code, 0, "{record}: {}", r.stderr);
    }
}
