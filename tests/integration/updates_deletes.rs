//! Updates and deletes judged against git (RULES.md §7), end to end: fabrics in real
//! repositories made with the git CLI; `validate` and `ingest` compare with HEAD, `push` with
//! what was last pushed.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::{self, fgd_all_rules, s, write, Run};

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .env("GIT_TERMINAL_PROMPT", "0")
        .output()
        .expect("git");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn ok(r: &Run, what: &str) {
    assert_eq!(
        r.code, 0,
        "{what}: exit {}\n{}\n{}",
        r.code, r.stdout, r.stderr
    );
}

/// A fresh fabric in the folder `fabrics/dc1` of a new repository with a first commit.
fn fabric_in_git() -> (tempfile::TempDir, PathBuf, PathBuf) {
    let t = tempfile::tempdir().expect("tempdir");
    let wc = t.path().join("wc");
    std::fs::create_dir_all(&wc).expect("mkdir");
    git(&wc, &["init", "-q", "-b", "main"]);
    git(&wc, &["config", "user.name", "t"]);
    git(&wc, &["config", "user.email", "t@example.invalid"]);
    let fab = wc.join("fabrics/dc1");
    ok(&fgd_all_rules(&["init", s(&fab)]), "init");
    commit(&wc, "init");
    (t, wc, fab)
}

fn commit(wc: &Path, msg: &str) {
    git(wc, &["add", "-A"]);
    git(wc, &["commit", "-qm", msg]);
}

const VPC: &str = "apiVersion: vpc.githedgehog.com/v1beta1\nkind: VPC\nmetadata:\n  name: web\nspec:\n  subnets:\n    default:\n      subnet: 10.0.1.0/24\n      vlan: 1001\n";
const ATTACHMENT: &str = "apiVersion: vpc.githedgehog.com/v1beta1\nkind: VPCAttachment\nmetadata:\n  name: web--c\nspec:\n  subnet: web/default\n  connection: c\n";
const UNBUNDLED: &str = "apiVersion: wiring.githedgehog.com/v1beta1\nkind: Connection\nmetadata:\n  name: c\nspec:\n  unbundled:\n    link:\n      server:\n        port: srv-1/enp2s1\n      switch:\n        port: leaf-1/E1/1\n";
const BUNDLED: &str = "apiVersion: wiring.githedgehog.com/v1beta1\nkind: Connection\nmetadata:\n  name: c\nspec:\n  bundled:\n    links:\n    - server:\n        port: srv-1/enp2s1\n      switch:\n        port: leaf-1/E1/1\n    - server:\n        port: srv-1/enp2s2\n      switch:\n        port: leaf-1/E1/2\n";

/// The fabric with a VPC, a connection and an attachment of one to the other, committed.
fn committed_tenant() -> (tempfile::TempDir, PathBuf, PathBuf) {
    let (t, wc, fab) = fabric_in_git();
    write(
        &fab.join("raw/tenant.yaml"),
        format!("{VPC}---\n{UNBUNDLED}---\n{ATTACHMENT}"),
    );
    ok(&fgd_all_rules(&["ingest", s(&fab)]), "ingest");
    assert!(fab.join("managed/vpcattachments/web--c.yaml").is_file());
    commit(&wc, "tenant");
    (t, wc, fab)
}

/// Every problem event of rule `rule`.
fn problems(r: &Run, rule: &str) -> Vec<serde_json::Value> {
    r.of("problem")
        .into_iter()
        .filter(|p| p["rule"] == rule)
        .collect()
}

fn change_problems(r: &Run) -> Vec<serde_json::Value> {
    r.of("problem")
        .into_iter()
        .filter(|p| {
            let rule = p["rule"].as_str().unwrap_or_default();
            rule.starts_with("UPD-") || rule.starts_with("DEL-")
        })
        .collect()
}

#[test]
fn validate_reports_a_deleted_vpc_on_the_attachment_that_still_names_it() {
    let (_t, wc, fab) = committed_tenant();
    // Unchanged since HEAD: nothing to say.
    let r = fgd_all_rules(&["validate", s(&fab), "--json"]);
    ok(&r, "validate");
    assert!(change_problems(&r).is_empty(), "{}", r.stdout);
    // The VPC's managed file deleted by hand: the attachment stays, and blocks the prune.
    std::fs::remove_file(fab.join("managed/vpcs/web.yaml")).expect("rm");
    let r = fgd_all_rules(&["validate", s(&fab), "--json"]);
    assert_eq!(r.code, 1, "{}", r.stdout);
    let del = problems(&r, "DEL-01");
    assert_eq!(del.len(), 1, "{}", r.stdout);
    let p = &del[0];
    assert_eq!(p["severity"], "error");
    assert!(
        p["file"]
            .as_str()
            .unwrap_or_default()
            .ends_with("managed/vpcattachments/web--c.yaml"),
        "{p}"
    );
    assert_eq!(
        (p["pos"]["line"].as_u64(), p["pos"]["column"].as_u64()),
        (Some(6), Some(11)),
        "at spec.subnet: {p}"
    );
    assert_eq!(p["upstream"], "VPC has attachments");
    assert_eq!(p["see_also"]["file"], "HEAD:managed/vpcs/web.yaml");
    assert_eq!(p["see_also"]["object"], "VPC/web");
    // One answer: the cluster keeps the VPC, so no "must already exist" (or, with the whole
    // fabric, "not defined") about the same reference beside the refused delete.
    assert!(problems(&r, "VPCA-04").is_empty(), "{}", r.stdout);
    let w = fgd_all_rules(&["validate", s(&fab), "--json", "--whole-fabric"]);
    assert_eq!(problems(&w, "DEL-01").len(), 1, "{}", w.stdout);
    assert!(problems(&w, "VPCA-04").is_empty(), "{}", w.stdout);
    // In text: the file, line and rule, and where HEAD has the VPC.
    let h = fgd_all_rules(&["validate", s(&fab)]);
    assert!(
        h.stdout.contains(
            "managed/vpcattachments/web--c.yaml:6:11: error: VPCAttachment/web--c: [DEL-01]"
        ) && h
            .stdout
            .contains("see also HEAD:managed/vpcs/web.yaml:1:1 (VPC/web)"),
        "{}",
        h.stdout
    );
    // The attachment goes too: a clean delete.
    std::fs::remove_file(fab.join("managed/vpcattachments/web--c.yaml")).expect("rm");
    let r = fgd_all_rules(&["validate", s(&fab), "--json"]);
    assert!(change_problems(&r).is_empty(), "{}", r.stdout);
    // Committed, the deletion is HEAD: nothing left to compare.
    std::fs::write(fab.join("managed/vpcattachments/web--c.yaml"), ATTACHMENT).expect("restore");
    commit(&wc, "delete the VPC");
    let r = fgd_all_rules(&["validate", s(&fab), "--json"]);
    assert!(problems(&r, "DEL-01").is_empty(), "{}", r.stdout);
}

#[test]
fn ingest_refuses_a_committed_connection_changed_to_another_type() {
    let (_t, _wc, fab) = committed_tenant();
    // Another port, same type: an update the cluster takes.
    write(&fab.join("raw/c.yaml"), UNBUNDLED.replace("E1/1", "E1/3"));
    let r = fgd_all_rules(&["ingest", s(&fab), "--json"]);
    ok(&r, "ingest of a port change");
    assert!(change_problems(&r).is_empty(), "{}", r.stdout);
    let managed = fab.join("managed/connections/c.yaml");
    assert!(std::fs::read_to_string(&managed).unwrap().contains("E1/3"));
    // Bundled: refused, naming the committed type; managed/ keeps the connection as it was.
    write(&fab.join("raw/c.yaml"), BUNDLED);
    let r = fgd_all_rules(&["ingest", s(&fab), "--json"]);
    let upd = problems(&r, "UPD-01");
    assert_eq!(upd.len(), 1, "{}", r.stdout);
    let p = &upd[0];
    assert_eq!(p["file"], "raw/c.yaml");
    assert_eq!(p["upstream"], "connection type is immutable");
    assert!(
        p["message"]
            .as_str()
            .unwrap_or_default()
            .contains("bundled here but unbundled in HEAD"),
        "{p}"
    );
    assert_eq!(p["pos"]["line"], 6, "at spec.bundled: {p}");
    let fates = r.of("document-classified");
    assert_eq!(fates.len(), 1, "{}", r.stdout);
    assert_eq!(fates[0]["code"], "invalid-spec", "{}", fates[0]);
    assert!(
        std::fs::read_to_string(&managed)
            .unwrap()
            .contains("unbundled"),
        "managed/ keeps the committed type"
    );
    let reasons: Vec<String> = common::tree(&fab.join("unmanaged"))
        .into_iter()
        .filter(|f| f.ends_with(".reason.json"))
        .map(|f| std::fs::read_to_string(fab.join("unmanaged").join(f)).unwrap())
        .collect();
    assert!(reasons.iter().any(|r| r.contains("UPD-01")), "{reasons:?}");
}

#[test]
fn a_fabric_outside_git_says_updates_and_deletes_were_not_checked() {
    let (_t, f) = common::fabric();
    common::envelope_only(&f);
    std::fs::remove_file(f.join(".hnp/validation.toml")).expect("back to every rule");
    write(&f.join("raw/a.yaml"), format!("{VPC}---\n{ATTACHMENT}"));
    let r = fgd_all_rules(&["validate", s(&f), "--json"]);
    let settings = &r.of("validation-settings")[0];
    assert!(
        settings["rules"]
            .as_str()
            .unwrap_or_default()
            .contains("updates and deletes (UPD-01..05, DEL-01..06): not checked, the fabric is not in a git repository"),
        "{settings}"
    );
    assert_eq!(settings["default"], false, "human output names it");
    assert!(change_problems(&r).is_empty(), "{}", r.stdout);
    let h = fgd_all_rules(&["validate", s(&f)]);
    assert!(
        h.stdout
            .contains("not checked, the fabric is not in a git repository"),
        "{}",
        h.stdout
    );
    // The same for ingest, in its record of what was checked.
    let r = fgd_all_rules(&["ingest", s(&f), "--json"]);
    ok(&r, "ingest");
    assert!(r.of("validation-settings")[0]["rules"]
        .as_str()
        .unwrap_or_default()
        .contains("not checked, the fabric is not in a git repository"));
    // Skipped by the operator, they are not said to be missing.
    let r = fgd_all_rules(&[
        "validate",
        s(&f),
        "--json",
        "--skip-rule",
        "UPD-01",
        "--skip-rule",
        "UPD-02",
        "--skip-rule",
        "UPD-03",
        "--skip-rule",
        "UPD-04",
        "--skip-rule",
        "UPD-05",
        "--skip-rule",
        "DEL-01",
        "--skip-rule",
        "DEL-02",
        "--skip-rule",
        "DEL-03",
        "--skip-rule",
        "DEL-04",
        "--skip-rule",
        "DEL-05",
        "--skip-rule",
        "DEL-06",
    ]);
    assert!(!r.of("validation-settings")[0]["rules"]
        .as_str()
        .unwrap_or_default()
        .contains("updates and deletes"));
}

#[test]
fn push_refuses_to_prune_a_vpc_an_attachment_still_names_and_takes_both_gone() {
    let t = tempfile::tempdir().expect("tempdir");
    let bare = t.path().join("fab.git");
    let out = Command::new("git")
        .args(["init", "-q", "--bare", "-b", "main"])
        .arg(&bare)
        .output()
        .expect("git");
    assert!(out.status.success());
    let wc = t.path().join("wc");
    let out = Command::new("git")
        .arg("clone")
        .arg("-q")
        .arg(&bare)
        .arg(&wc)
        .output()
        .expect("git");
    assert!(out.status.success());
    git(&wc, &["config", "user.name", "t"]);
    git(&wc, &["config", "user.email", "t@example.invalid"]);
    let fab = wc.join("fabrics/dc1");
    ok(&fgd_all_rules(&["init", s(&fab), "--push"]), "init --push");
    write(
        &fab.join("raw/tenant.yaml"),
        format!("{VPC}---\n{ATTACHMENT}"),
    );
    ok(&fgd_all_rules(&["ingest", s(&fab)]), "ingest");
    ok(&fgd_all_rules(&["push", s(&fab)]), "first push");
    // The VPC leaves management (out of the kustomization, so Argo CD or Flux would prune
    // it), the attachment stays.
    ok(
        &fgd_all_rules(&["move", s(&fab), "managed/vpcs/web.yaml", "--reason", "gone"]),
        "move",
    );
    let remote = git(&bare, &["rev-parse", "main"]);
    let r = fgd_all_rules(&["push", s(&fab)]);
    assert_eq!(r.code, 3, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stderr
            .contains("managed/vpcattachments/web--c.yaml:6: [DEL-01]")
            && r.stderr.contains(
                "VPC/web is gone from the fabric (origin/main:managed/vpcs/web.yaml has it)"
            ),
        "{}",
        r.stderr
    );
    assert_eq!(git(&bare, &["rev-parse", "main"]), remote, "nothing pushed");
    // The dry run says the same.
    let r = fgd_all_rules(&["push", s(&fab), "--dry-run"]);
    assert!(
        r.stdout.contains(
            "push would refuse this commit: managed/vpcattachments/web--c.yaml:6: [DEL-01]"
        ),
        "{}",
        r.stdout
    );
    // HEAD holds the refused commit now, so validate (against HEAD) has nothing to say; the
    // push still compares with what was pushed. The attachment goes too: both are pruned.
    ok(
        &fgd_all_rules(&[
            "move",
            s(&fab),
            "managed/vpcattachments/web--c.yaml",
            "--reason",
            "gone",
        ]),
        "move",
    );
    ok(&fgd_all_rules(&["push", s(&fab)]), "push of both deletes");
    assert_ne!(git(&bare, &["rev-parse", "main"]), remote);
}
