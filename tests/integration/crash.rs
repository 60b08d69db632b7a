//! Crash safety: abort the real binary at every fail point and at random instants, then check
//! that the next run finishes the batch with every document exactly once in managed/ or
//! unmanaged/ (or its original still in raw/ or the archive), nothing duplicated, nothing stray.

use crate::common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;
use serde_json::Value;

/// A fabric that checks only the envelope: these tests are about the batch's mechanics, over
/// fixtures and the generated corpus, which are not meant as valid fabrics (see
/// `invalid_spec_refusals_survive_a_kill` for validation's own part in a batch).
fn fabric() -> (tempfile::TempDir, PathBuf) {
    let (t, f) = common::fabric();
    envelope_only(&f);
    (t, f)
}

struct Corpus {
    _dir: tempfile::TempDir,
    raw: PathBuf,
    expected: Value,
}

fn corpus(docs: usize, files: usize, seed: u64) -> Corpus {
    let dir = tempfile::tempdir().unwrap();
    let raw = dir.path().join("raw");
    let manifest = dir.path().join("expected.json");
    let st = Command::new("python3")
        .arg(shared().join("bench/gen_corpus.py"))
        .args([
            "--docs",
            &docs.to_string(),
            "--files",
            &files.to_string(),
            "--seed",
            &seed.to_string(),
        ])
        .args([
            "--invalid-fraction",
            "0.1",
            "--out",
            s(&raw),
            "--manifest",
            s(&manifest),
        ])
        .output()
        .expect("python3 runs the shared corpus generator");
    assert!(
        st.status.success(),
        "gen_corpus: {}",
        String::from_utf8_lossy(&st.stderr)
    );
    let expected = serde_json::from_slice(&std::fs::read(&manifest).unwrap()).unwrap();
    Corpus {
        _dir: dir,
        raw,
        expected,
    }
}

fn fabric_with(c: &Corpus) -> (tempfile::TempDir, PathBuf) {
    let (t, f) = fabric();
    for name in std::fs::read_dir(&c.raw).unwrap().flatten() {
        std::fs::copy(name.path(), f.join("raw").join(name.file_name())).unwrap();
    }
    (t, f)
}

/// At any instant: each input file is still in raw/ with its bytes, or archived with them.
fn nothing_lost_mid_batch(c: &Corpus, f: &Path) {
    let archived: Vec<_> = tree(&f.join(".hnp/archive"));
    for e in std::fs::read_dir(&c.raw).unwrap().flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let original = std::fs::read(e.path()).unwrap();
        let in_raw = std::fs::read(f.join("raw").join(&name))
            .map(|b| b == original)
            .unwrap_or(false);
        let in_archive = archived
            .iter()
            .filter(|a| a.ends_with(&format!("/{name}.orig")))
            .any(|a| {
                std::fs::read(f.join(".hnp/archive").join(a))
                    .map(|b| b == original)
                    .unwrap_or(false)
            });
        assert!(
            in_raw || in_archive,
            "{name} is neither in raw/ nor archived"
        );
    }
}

/// After recovery: the outcome the generator's manifest predicts, exactly once each.
/// `build`: also run `kubectl kustomize` (quadratic in the file count: seconds per thousand).
fn final_state_matches(c: &Corpus, f: &Path, build: bool) {
    let mut expected_managed = BTreeMap::new();
    let mut expected_items = 0;
    for file in c.expected["files"].as_array().unwrap() {
        let docs = file["docs"].as_array().unwrap();
        let managed: Vec<_> = docs.iter().filter(|d| d["expect"] == "managed").collect();
        for d in &managed {
            expected_managed.insert(
                d["path"].as_str().unwrap().to_string(),
                d["name"].as_str().unwrap().to_string(),
            );
        }
        expected_items += if managed.is_empty() {
            1
        } else {
            docs.len() - managed.len()
        };
    }
    let on_disk: Vec<String> = kustomization(f)
        .into_iter()
        .map(|r| format!("managed/{r}"))
        .collect();
    assert_eq!(
        on_disk,
        expected_managed.keys().cloned().collect::<Vec<_>>(),
        "managed objects"
    );
    for (path, name) in &expected_managed {
        let text = std::fs::read_to_string(f.join(path)).unwrap();
        assert!(text.contains(name.as_str()), "{path} does not hold {name}");
    }
    assert_eq!(
        unmanaged_items(f).len(),
        expected_items,
        "unmanaged items: {:?}",
        unmanaged_items(f)
    );
    let raw_left: Vec<_> = tree(&f.join("raw"))
        .into_iter()
        .filter(|r| r != "README.md")
        .collect();
    assert!(raw_left.is_empty(), "raw/ still has {raw_left:?}");
    assert!(!f.join(".hnp/journal.json").exists(), "journal retired");
    let all = tree(f);
    assert!(
        !all.iter().any(|p| p.contains(".fgd-tmp-")),
        "temporary files left: {all:?}"
    );
    let log = std::fs::read_to_string(f.join(".hnp/log.jsonl")).unwrap_or_default();
    let mut batches: Vec<String> = log
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["batch"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    let n = batches.len();
    batches.dedup();
    assert_eq!(batches.len(), n, "a batch was logged twice");
    assert_managed_is_clean(f);
    assert_nothing_looks_like_an_object(f);
    if build {
        kustomize(f);
    }
}

fn killed_by_signal(r: &Run) -> bool {
    r.code == -1
}

#[test]
fn an_abort_at_every_fail_point_is_finished_by_the_next_run() {
    let c = corpus(300, 12, 11);
    let points = [
        "ingest.before-journal",
        "journal.after-begin",
        "ingest.after-journal",
        "batch.after-stage",
        "batch.mid-rename",
        "batch.before-remove",
        "batch.after-commit",
        "journal.after-writes",
        "journal.after-index",
        "journal.cleanup-aside",
        "journal.cleanup-checked",
        "journal.cleanup-aside@5",
        "journal.after-removes",
        "journal.after-log",
    ];
    for point in points {
        let (_t, f) = fabric_with(&c);
        let r = fgd_env(&["ingest", s(&f)], &[("FGD_FAILPOINT", point)]);
        assert!(
            killed_by_signal(&r),
            "fail point {point} was never reached (exit {}): {}",
            r.code,
            r.stderr
        );
        nothing_lost_mid_batch(&c, &f);
        let st = fgd(&["status", s(&f), "--json"]);
        let unfinished = &st.of("status")[0]["status"]["unfinished"];
        if point != "journal.after-begin" || f.join(".hnp/journal.json").exists() {
            assert!(
                !unfinished.is_null() || !f.join(".hnp/journal.json").exists(),
                "{point}: status shows the journal"
            );
        }
        let r = fgd(&["ingest", s(&f), "--json"]);
        assert!(
            r.code == 0 || r.code == 1,
            "{point}: recovery run failed: {}",
            r.stderr
        );
        final_state_matches(&c, &f, true);
    }
}

#[test]
fn a_kill_at_random_instants_loses_and_duplicates_nothing() {
    let c = corpus(2000, 20, 5);
    // A fixed seed keeps failures reproducible; instants spread over a whole run.
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let full = {
        let (_t, f) = fabric_with(&c);
        let t0 = std::time::Instant::now();
        assert!(fgd(&["ingest", s(&f)]).code <= 1);
        t0.elapsed()
    };
    for round in 0..12 {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let delay = std::time::Duration::from_micros(seed % (full.as_micros() as u64 + 1));
        let (_t, f) = fabric_with(&c);
        let mut child = Command::new(fgd_bin())
            .args(["ingest", s(&f)])
            .env_remove("FGD_FAILPOINT")
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(delay);
        let _ = child.kill(); // SIGKILL
        let _ = child.wait();
        nothing_lost_mid_batch(&c, &f);
        let r = fgd(&["ingest", s(&f)]);
        assert!(
            r.code == 0 || r.code == 1,
            "round {round} (kill after {delay:?}): {}",
            r.stderr
        );
        final_state_matches(&c, &f, round == 0);
    }
}

/// A fabric holding `c`, its ingest killed once the journal was durable.
fn killed_after_the_journal(c: &Corpus) -> (tempfile::TempDir, PathBuf) {
    let (t, f) = fabric_with(c);
    let r = fgd_env(
        &["ingest", s(&f)],
        &[("FGD_FAILPOINT", "ingest.after-journal")],
    );
    assert!(killed_by_signal(&r), "{}", r.stderr);
    (t, f)
}

fn finish_and_read_last_record(f: &Path) -> (String, Value) {
    let r = fgd(&["ingest", s(f)]);
    assert!(r.code <= 1, "{}", r.stderr);
    let text = std::fs::read_to_string(f.join(".hnp/log.jsonl")).unwrap();
    let last: Value = serde_json::from_str(text.lines().last().unwrap()).unwrap();
    (text, last)
}

#[test]
fn a_log_record_torn_by_a_crash_is_written_again_whole() {
    let c = corpus(200, 4, 3);
    let (_t, f) = killed_after_the_journal(&c);
    let journal: Value =
        serde_json::from_slice(&std::fs::read(f.join(".hnp/journal.json")).unwrap()).unwrap();
    let batch = journal["batch"].as_str().unwrap().to_string();
    assert!(
        f.join(".hnp/local/journal-log.json").is_file(),
        "the big record waits in its spool"
    );
    // A crash in the middle of appending the record leaves its first bytes.
    let log = f.join(".hnp/log.jsonl");
    let mut torn = std::fs::read(&log).unwrap_or_default();
    torn.extend_from_slice(
        format!("{{\"batch\":\"{batch}\",\"command\":\"ingest\",\"sta").as_bytes(),
    );
    std::fs::write(&log, torn).unwrap();
    let (text, last) = finish_and_read_last_record(&f);
    assert_eq!(last["batch"], batch.as_str());
    assert_eq!(last["documents"].as_array().unwrap().len(), 200);
    assert!(
        !f.join(".hnp/local/journal-log.json").exists(),
        "spool removed"
    );
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        serde_json::from_str::<Value>(lines[lines.len() - 2]).is_err(),
        "the torn fragment stays on its own line, the whole record follows it"
    );
    assert_managed_is_clean(&f);
}

#[test]
fn a_lost_log_spool_still_lets_the_batch_finish() {
    let c = corpus(50, 2, 4);
    let (_t, f) = killed_after_the_journal(&c);
    std::fs::remove_file(f.join(".hnp/local/journal-log.json")).unwrap();
    let (_, last) = finish_and_read_last_record(&f);
    assert_eq!(last["log_spool_lost"], true);
    final_state_matches(&c, &f, false);
}

const VPC_V1: &str =
    "apiVersion: vpc.githedgehog.com/v1beta1\nkind: VPC\nmetadata:\n  name: v1\nspec: {}\n";
const VPC_V1_EDITED: &str = "apiVersion: vpc.githedgehog.com/v1beta1\nkind: VPC\nmetadata:\n  name: v1\n  labels: {edited: \"by-the-operator\"}\nspec: {}\n";

#[test]
fn an_editor_save_while_ingest_removes_the_originals_stays_in_raw_for_the_next_run() {
    // Before the cleanup starts, and once a file has been checked but not yet removed.
    for point in ["journal.after-index", "journal.cleanup-checked"] {
        let (_t, f) = fabric();
        write(&f.join("raw/a.yaml"), VPC_V1);
        write(
            &f.join("raw/b.yaml"),
            VPC_V1.replace("name: v1", "name: v2"),
        );
        let r = fgd_stopped_at(&["ingest", s(&f)], point, || {
            editor_save(&f.join("raw/a.yaml"), VPC_V1_EDITED)
        });
        assert_eq!(r.code, 0, "{point}: {}{}", r.stdout, r.stderr);
        assert_eq!(
            std::fs::read_to_string(f.join("raw/a.yaml")).unwrap_or_default(),
            VPC_V1_EDITED,
            "{point}: the operator's save is still in raw/"
        );
        assert!(!f.join("raw/b.yaml").exists(), "{point}: b.yaml was taken");
        assert_eq!(
            std::fs::read_to_string(f.join("managed/vpcs/v1.yaml")).unwrap(),
            VPC_V1,
            "{point}: the batch applied what it read"
        );
        let all = tree(&f);
        assert!(
            !all.iter().any(|p| p.contains("/.fgd-")),
            "{point}: nothing of fgd's left in raw/: {all:?}"
        );
        // The next run takes the new version.
        let r = fgd(&["ingest", s(&f)]);
        assert_eq!(r.code, 0, "{point}: {}", r.stderr);
        assert_eq!(
            std::fs::read_to_string(f.join("managed/vpcs/v1.yaml")).unwrap(),
            VPC_V1_EDITED
        );
        assert!(!f.join("raw/a.yaml").exists());
        assert_managed_is_clean(&f);
    }
}

#[test]
fn a_kill_while_an_original_is_taken_aside_is_settled_by_the_next_run_keeping_a_new_save() {
    let (_t, f) = fabric();
    write(&f.join("raw/a.yaml"), VPC_V1);
    write(
        &f.join("raw/b.yaml"),
        VPC_V1.replace("name: v1", "name: v2"),
    );
    let r = fgd_env(
        &["ingest", s(&f)],
        &[("FGD_FAILPOINT", "journal.cleanup-aside")],
    );
    assert!(killed_by_signal(&r), "{}", r.stderr);
    // a.yaml, taken aside when the run died: the operator saves a new one in its place.
    assert!(!f.join("raw/a.yaml").exists());
    editor_save(&f.join("raw/a.yaml"), VPC_V1_EDITED);
    let r = fgd(&["ingest", s(&f), "--json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let all = tree(&f);
    assert!(!all.iter().any(|p| p.contains("/.fgd-")), "{all:?}");
    assert!(!f.join(".hnp/journal.json").exists());
    // The recovery finished the old batch; the same run then ingested the new save.
    assert_eq!(
        std::fs::read_to_string(f.join("managed/vpcs/v1.yaml")).unwrap(),
        VPC_V1_EDITED
    );
    assert!(f.join("managed/vpcs/v2.yaml").is_file());
    assert!(
        tree(&f.join("raw")) == ["README.md"],
        "{:?}",
        tree(&f.join("raw"))
    );
    let archived: Vec<_> = tree(&f.join(".hnp/archive"))
        .into_iter()
        .filter(|a| a.ends_with("/a.yaml.orig"))
        .map(|a| std::fs::read_to_string(f.join(".hnp/archive").join(a)).unwrap())
        .collect();
    assert_eq!(archived.len(), 2, "both versions archived, once each");
    assert!(
        archived.contains(&VPC_V1.to_string()) && archived.contains(&VPC_V1_EDITED.to_string())
    );
}

#[test]
fn a_move_killed_with_its_original_taken_aside_is_finished() {
    let (_t, f) = fabric();
    write(&f.join("raw/a.yaml"), VPC_V1);
    let r = fgd_env(
        &["move", s(&f), "raw/a.yaml", "--reason", "not yet"],
        &[("FGD_FAILPOINT", "journal.cleanup-aside")],
    );
    assert!(killed_by_signal(&r), "{}", r.stderr);
    let r = fgd(&["ingest", s(&f), "--json"]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(r.of("error").is_empty(), "{}", r.stdout);
    assert_eq!(unmanaged_items(&f), ["a.yaml.unmanaged"]);
    assert!(f.join("unmanaged/a.yaml.unmanaged.reason.json").is_file());
    assert_eq!(tree(&f.join("raw")), ["README.md"]);
}

#[test]
fn a_folder_made_a_symlink_after_a_kill_is_refused_by_the_recovery_and_nothing_outside_changes() {
    // A folder the batch writes into, and a folder it removes from.
    for (input, link) in [
        ("raw/sub/deeper/broken.yaml", "unmanaged/sub"),
        ("raw/site/x.yaml", "raw/site"),
    ] {
        let (t, f) = fabric();
        let text = if input.ends_with("broken.yaml") {
            "not: [valid\n".to_string()
        } else {
            VPC_V1.to_string()
        };
        write(&f.join(input), &text);
        let r = fgd_env(
            &["ingest", s(&f)],
            &[("FGD_FAILPOINT", "ingest.after-journal")],
        );
        assert!(killed_by_signal(&r), "{}", r.stderr);
        // Between the runs the folder becomes a symlink to one outside the fabric (for raw/,
        // the operator's own folder, holding the file).
        let outside = t.path().join("outside");
        if link.starts_with("raw/") {
            std::fs::rename(f.join(link), &outside).unwrap();
        } else {
            std::fs::create_dir(&outside).unwrap();
        }
        let before = tree(&outside);
        std::os::unix::fs::symlink(&outside, f.join(link)).unwrap();
        for cmd in [
            vec!["ingest", s(&f)],
            vec!["move", s(&f), "raw/other.yaml", "--reason", "x"],
        ] {
            let r = fgd(&cmd);
            assert_eq!(r.code, 3, "{link}: {cmd:?}: {}", r.stderr);
            assert!(
                r.stderr.contains(link) && r.stderr.contains("symlink"),
                "{link}: the message names the folder: {}",
                r.stderr
            );
            assert!(r.stderr.contains("journal"), "{}", r.stderr);
        }
        assert_eq!(tree(&outside), before, "{link}: nothing changed outside");
        assert!(f.join(".hnp/journal.json").is_file(), "{link}: kept");
        // The operator puts a real folder back: the batch is finished.
        std::fs::remove_file(f.join(link)).unwrap();
        if link.starts_with("raw/") {
            std::fs::rename(&outside, f.join(link)).unwrap();
        }
        let r = fgd(&["ingest", s(&f)]);
        assert!(r.code <= 1, "{link}: {}", r.stderr);
        assert!(!f.join(".hnp/journal.json").exists());
        assert!(!f.join(input).exists(), "{link}: {input} ingested");
        assert_managed_is_clean(&f);
    }
}

/// Every item in unmanaged/ has its reason file and every reason file its item.
fn items_and_reasons_pair_up(f: &Path) {
    let all = tree(&f.join("unmanaged"));
    for r in all.iter().filter(|r| r.ends_with(".reason.json")) {
        let item = r.trim_end_matches(".reason.json");
        assert!(all.iter().any(|i| i == item), "{r} has no item: {all:?}");
    }
    for i in all.iter().filter(|r| r.ends_with(".unmanaged")) {
        assert!(
            all.contains(&format!("{i}.reason.json")),
            "{i} has no reason: {all:?}"
        );
    }
}

fn log_records(f: &Path) -> Vec<Value> {
    std::fs::read_to_string(f.join(".hnp/log.jsonl"))
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn a_source_changed_after_a_kill_is_left_out_of_the_batch_and_of_its_log_record() {
    let (_t, f) = fabric();
    write(&f.join("raw/broken.yaml"), "not: [valid\n");
    write(&f.join("raw/other.yaml"), "not: [valid either\n");
    let r = fgd_env(
        &["ingest", s(&f)],
        &[("FGD_FAILPOINT", "ingest.after-journal")],
    );
    assert!(killed_by_signal(&r), "{}", r.stderr);
    let batch =
        serde_json::from_slice::<Value>(&std::fs::read(f.join(".hnp/journal.json")).unwrap())
            .unwrap()["batch"]
            .as_str()
            .unwrap()
            .to_string();
    // The operator fixes the file before the next run.
    write(&f.join("raw/broken.yaml"), VPC_V1);
    let r = fgd(&["ingest", s(&f), "--json"]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(f.join("managed/vpcs/v1.yaml").is_file());
    assert_eq!(unmanaged_items(&f), ["other.yaml.unmanaged"]);
    items_and_reasons_pair_up(&f);
    let records = log_records(&f);
    let old = records
        .iter()
        .find(|r| r["batch"] == batch.as_str())
        .unwrap();
    let mentions = |key: &str, field: &str| {
        old[key]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d[field] == "raw/broken.yaml")
    };
    assert!(!mentions("documents", "source"), "{old}");
    assert!(!mentions("inputs", "path"), "{old}");
    assert!(mentions("skipped", "path"), "{old}");
    assert_eq!(old["inputs"].as_array().unwrap().len(), 1, "{old}");
    assert_eq!(old["summary"]["files"], 1, "{old}");
    assert_eq!(old["summary"]["unmanaged"], 1, "{old}");
    for input in old["inputs"].as_array().unwrap() {
        let archive = input["archive"].as_str().unwrap();
        assert!(f.join(archive).is_file(), "{archive} exists as logged");
    }
}

#[test]
fn an_adopt_whose_item_changed_after_a_kill_keeps_the_item_and_its_reason() {
    let (_t, f) = fabric();
    write(&f.join("raw/b.yaml"), "not: [valid\n");
    assert_eq!(fgd(&["ingest", s(&f)]).code, 1);
    let r = fgd_env(
        &["adopt", s(&f), "unmanaged/b.yaml.unmanaged"],
        &[("FGD_FAILPOINT", "adopt.after-journal")],
    );
    assert!(killed_by_signal(&r), "{}", r.stderr);
    write(
        &f.join("unmanaged/b.yaml.unmanaged"),
        "not: [fixed by hand\n",
    );
    let r = fgd(&["ingest", s(&f)]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert_eq!(unmanaged_items(&f), ["b.yaml.unmanaged"]);
    items_and_reasons_pair_up(&f);
    assert_eq!(tree(&f.join("raw")), ["README.md"], "nothing adopted");
    let adopt = log_records(&f).pop().unwrap();
    assert_eq!(adopt["command"], "adopt");
    assert_eq!(
        adopt["skipped"][0]["path"], "unmanaged/b.yaml.unmanaged",
        "{adopt}"
    );
    assert_eq!(adopt["summary"]["files"], 0, "{adopt}");
}

#[test]
fn an_adopt_killed_between_its_two_removals_is_finished_without_a_false_alarm() {
    let (_t, f) = fabric();
    write(&f.join("raw/b.yaml"), "not: [valid\n");
    assert_eq!(fgd(&["ingest", s(&f)]).code, 1);
    let r = fgd_env(
        &["adopt", s(&f), "unmanaged/b.yaml.unmanaged"],
        &[("FGD_FAILPOINT", "journal.cleanup-removed")],
    );
    assert!(killed_by_signal(&r), "{}", r.stderr);
    assert!(!f.join("unmanaged/b.yaml.unmanaged").exists());
    let r = fgd(&["status", s(&f), "--json"]);
    assert!(!r.of("status")[0]["status"]["unfinished"].is_null());
    let r = fgd(&["ingest", s(&f), "--json"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.of("error").is_empty(), "no 'changed' alarm: {}", r.stdout);
    // The adopt finished (its item went back to raw/, its reason with it), then the ingest
    // took the file again.
    assert_eq!(unmanaged_items(&f), ["b.yaml.unmanaged"]);
    items_and_reasons_pair_up(&f);
    assert_eq!(tree(&f.join("raw")), ["README.md"]);
    let records = log_records(&f);
    assert_eq!(records[records.len() - 2]["command"], "adopt");
    let adopt = &records[records.len() - 2];
    assert!(adopt.get("skipped").is_none(), "{adopt}");
}

/// `fgd args`, failing the test (and killing the run) if it has not ended within 20 s.
fn fgd_within_20s(args: &[&str]) -> Run {
    let out = tempfile::tempdir().unwrap();
    let (stdout, stderr) = (out.path().join("stdout"), out.path().join("stderr"));
    let mut child = Command::new(fgd_bin())
        .args(args)
        .env_remove("FGD_FAILPOINT")
        .stdout(std::fs::File::create(&stdout).unwrap())
        .stderr(std::fs::File::create(&stderr).unwrap())
        .spawn()
        .unwrap();
    let start = std::time::Instant::now();
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st;
        }
        if start.elapsed() > std::time::Duration::from_secs(20) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("fgd {args:?} hung for 20 s");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    Run {
        code: status.code().unwrap_or(-1),
        stdout: std::fs::read_to_string(&stdout).unwrap_or_default(),
        stderr: std::fs::read_to_string(&stderr).unwrap_or_default(),
    }
}

fn mkfifo(p: &Path) {
    let c = std::ffi::CString::new(s(p)).unwrap();
    // SAFETY: a NUL-terminated path that outlives the call.
    assert_eq!(
        unsafe { libc::mkfifo(c.as_ptr(), 0o644) },
        0,
        "mkfifo {p:?}"
    );
}

#[test]
fn a_source_that_became_a_folder_or_a_fifo_after_a_kill_is_skipped_and_the_rest_finished() {
    for became in ["folder", "fifo"] {
        let (_t, f) = fabric();
        write(&f.join("raw/a.yaml"), VPC_V1);
        write(
            &f.join("raw/b.yaml"),
            VPC_V1.replace("name: v1", "name: v2"),
        );
        let r = fgd_env(
            &["ingest", s(&f)],
            &[("FGD_FAILPOINT", "ingest.after-journal")],
        );
        assert!(killed_by_signal(&r), "{}", r.stderr);
        std::fs::remove_file(f.join("raw/a.yaml")).unwrap();
        if became == "folder" {
            write(
                &f.join("raw/a.yaml/x.yaml"),
                VPC_V1.replace("name: v1", "name: v3"),
            );
        } else {
            mkfifo(&f.join("raw/a.yaml"));
        }
        let r = fgd_within_20s(&["ingest", s(&f), "--json"]);
        assert!(r.code <= 1, "{became}: {}{}", r.stdout, r.stderr);
        assert!(!f.join(".hnp/journal.json").exists(), "{became}: finished");
        assert!(
            f.join("managed/vpcs/v2.yaml").is_file(),
            "{became}: b.yaml done"
        );
        assert!(!f.join("raw/b.yaml").exists(), "{became}");
        assert!(!f.join("managed/vpcs/v1.yaml").exists(), "{became}");
        let m = std::fs::symlink_metadata(f.join("raw/a.yaml")).unwrap();
        assert!(!m.is_file(), "{became}: left as it is");
        assert!(
            r.of("error").iter().any(|e| e["file"] == "raw/a.yaml"),
            "{became}: reported: {}",
            r.stdout
        );
        let old = log_records(&f)
            .into_iter()
            .find(|r| r["skipped"].is_array())
            .expect("the resumed batch's record");
        assert_eq!(old["skipped"][0]["path"], "raw/a.yaml", "{old}");
        if became == "folder" {
            // The file in the new folder is ingested by the same run.
            assert!(f.join("managed/vpcs/v3.yaml").is_file());
        }
        let r = fgd_within_20s(&["ingest", s(&f)]);
        assert!(r.code <= 1, "{became}: again: {}", r.stderr);
    }
}

#[test]
fn an_output_replaced_by_a_fifo_after_a_kill_is_never_opened_and_is_written_again() {
    let (_t, f) = fabric();
    write(&f.join("raw/a.yaml"), VPC_V1);
    let r = fgd_env(
        &["ingest", s(&f)],
        &[("FGD_FAILPOINT", "journal.after-writes")],
    );
    assert!(killed_by_signal(&r), "{}", r.stderr);
    std::fs::remove_file(f.join("managed/vpcs/v1.yaml")).unwrap();
    mkfifo(&f.join("managed/vpcs/v1.yaml"));
    let r = fgd_within_20s(&["ingest", s(&f)]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert_eq!(
        std::fs::read_to_string(f.join("managed/vpcs/v1.yaml")).unwrap(),
        VPC_V1
    );
    assert!(!f.join(".hnp/journal.json").exists());
}

/// Every file under `dir` with its bytes (a symlink as its target), for "nothing changed".
fn contents(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(base: &Path, d: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        let Ok(rd) = std::fs::read_dir(d) else { return };
        for e in rd.flatten() {
            let p = e.path();
            let rel = p.strip_prefix(base).unwrap().to_string_lossy().into_owned();
            let t = e.file_type().unwrap();
            if t.is_dir() {
                out.insert(format!("{rel}/"), Vec::new());
                walk(base, &p, out);
            } else if t.is_symlink() {
                let to = std::fs::read_link(&p).unwrap();
                out.insert(rel, to.to_string_lossy().as_bytes().to_vec());
            } else {
                out.insert(rel, std::fs::read(&p).unwrap());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

const CONFIG_MAP: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata: {a: b}\n";

#[test]
fn a_folder_swapped_for_a_symlink_mid_run_is_never_written_or_deleted_through() {
    // (command, fail point where the run is stopped, the folder swapped there). The swap puts a
    // copy of the folder outside the fabric (temps and all, as `cp -a` or a backup would) and
    // a symlink to it in the folder's place: what a concurrent `mv x x.real && ln -s ... x`
    // does at that instant.
    let ingest = || vec!["ingest"];
    let cases: Vec<(Vec<&str>, &str, &str)> = vec![
        (
            vec!["move", "managed/vpcs/v1.yaml"],
            "journal.after-writes",
            "managed",
        ),
        (
            vec!["move", "managed/vpcs/v1.yaml"],
            "move.after-journal",
            "unmanaged",
        ),
        (
            vec!["move", "managed/vpcs/v1.yaml"],
            "journal.after-index",
            "managed/vpcs",
        ),
        (ingest(), "journal.after-index", "raw"),
        (ingest(), "journal.after-writes", "raw/site"),
        (ingest(), "batch.after-stage", "managed"),
        (ingest(), "ingest.after-journal", "managed/vpcs"),
        (ingest(), "batch.after-stage", "unmanaged"),
        (ingest(), "batch.mid-rename", "managed/vpcs"),
        (ingest(), "batch.after-stage", ".hnp/archive"),
        (ingest(), "journal.after-removes", ".hnp"),
    ];
    for (cmd, point, folder) in cases {
        let (t, f) = fabric();
        let moving = cmd[0] == "move";
        if moving {
            write(&f.join("raw/a.yaml"), VPC_V1);
            assert_eq!(fgd(&["ingest", s(&f)]).code, 0);
        } else {
            // Already there: one object to update (its folder exists), one to add.
            write(&f.join("raw/a.yaml"), VPC_V1);
            assert_eq!(fgd(&["ingest", s(&f)]).code, 0);
            write(&f.join("raw/a.yaml"), VPC_V1_EDITED);
        }
        write(
            &f.join("raw/site/b.yaml"),
            VPC_V1.replace("name: v1", "name: v2"),
        );
        write(&f.join("raw/site/c.yaml"), CONFIG_MAP);
        let outside = t.path().join("outside");
        let real = f.join(format!("{folder}.real"));
        let mut args: Vec<&str> = vec![cmd[0], s(&f)];
        args.extend(&cmd[1..]);
        if moving {
            args.extend(["--reason", "not now"]);
        }
        let case = format!("{cmd:?} stopped at {point}, {folder}/ swapped");
        let copied = std::cell::RefCell::new(BTreeMap::new());
        let r = fgd_stopped_at(&args, point, || {
            let p = f.join(folder);
            std::fs::rename(&p, &real).unwrap();
            let st = Command::new("cp")
                .args(["-a", s(&real), s(&outside)])
                .status()
                .unwrap();
            assert!(st.success());
            std::os::unix::fs::symlink(&outside, &p).unwrap();
            *copied.borrow_mut() = contents(&outside);
        });
        let before = copied.borrow().clone();
        assert!(
            r.code == 3 || r.code <= 1,
            "{case}: refused or done: {}{}",
            r.stdout,
            r.stderr
        );
        assert_eq!(
            contents(&outside),
            before,
            "{case}: nothing outside changed"
        );
        eprintln!("{case}: exit {}: {}", r.code, r.stderr.trim());
        if r.code == 3 {
            assert!(
                r.stderr.contains(folder) && r.stderr.contains("journal"),
                "{case}: names the folder and keeps the batch: {}",
                r.stderr
            );
        }
        // The operator puts the real folder back; the next run finishes the batch.
        std::fs::remove_file(f.join(folder)).unwrap();
        std::fs::rename(&real, f.join(folder)).unwrap();
        let r = fgd(&["ingest", s(&f)]);
        assert!(
            r.code <= 1,
            "{case}: after the repair: {}{}",
            r.stdout,
            r.stderr
        );
        assert!(!f.join(".hnp/journal.json").exists(), "{case}");
        let all = tree(&f);
        assert!(
            !all.iter().any(|p| p.contains(".fgd-")),
            "{case}: nothing of fgd's left: {all:?}"
        );
        assert_eq!(tree(&f.join("raw")), ["README.md"], "{case}");
        assert_managed_is_clean(&f);
        let objects = kustomization(&f);
        if moving {
            assert_eq!(objects, ["vpcs/v2.yaml"], "{case}");
            assert_eq!(
                unmanaged_items(&f),
                ["site/c.yaml.unmanaged", "vpcs/v1.yaml.unmanaged"],
                "{case}"
            );
        } else {
            assert_eq!(objects, ["vpcs/v1.yaml", "vpcs/v2.yaml"], "{case}");
            assert_eq!(
                std::fs::read_to_string(f.join("managed/vpcs/v1.yaml")).unwrap(),
                VPC_V1_EDITED,
                "{case}"
            );
            assert_eq!(unmanaged_items(&f), ["site/c.yaml.unmanaged"], "{case}");
        }
        items_and_reasons_pair_up(&f);
        drop(t);
    }
}

#[test]
fn a_file_left_aside_by_a_killed_cleanup_is_put_back_even_when_the_journal_is_gone() {
    // With a name too long to carry a prefix: the original name must come back whole.
    let long = format!("{}.yaml", "l".repeat(245));
    for name in ["a.yaml", long.as_str()] {
        let (_t, f) = fabric();
        let raw = f.join("raw").join(name);
        write(&raw, VPC_V1);
        // The run is killed before its cleanup; the operator then saves a new version; the
        // recovery's cleanup is killed with that version taken aside.
        let r = fgd_env(
            &["ingest", s(&f)],
            &[("FGD_FAILPOINT", "journal.after-index")],
        );
        assert!(killed_by_signal(&r), "{}", r.stderr);
        // An editor's save, its temp short enough beside a long name.
        let tmp = f.join("raw/.save");
        std::fs::write(&tmp, VPC_V1_EDITED).unwrap();
        std::fs::rename(&tmp, &raw).unwrap();
        let r = fgd_env(
            &["ingest", s(&f)],
            &[("FGD_FAILPOINT", "journal.cleanup-aside")],
        );
        assert!(killed_by_signal(&r), "{}", r.stderr);
        assert!(!raw.exists(), "taken aside");
        // `git clean -fdX` deletes the journal with the other machine-local files.
        std::fs::remove_file(f.join(".hnp/journal.json")).unwrap();
        let _ = std::fs::remove_dir_all(f.join(".hnp/local"));
        // status shows it, and the next run puts it back and ingests it.
        let st = fgd(&["status", s(&f), "--json"]);
        let asides = &st.of("status")[0]["status"]["asides"];
        assert_eq!(asides.as_array().map(Vec::len), Some(1), "{}", st.stdout);
        let st = fgd(&["status", s(&f)]);
        assert!(st.stdout.contains("aside"), "{}", st.stdout);
        let r = fgd(&["ingest", s(&f), "--json"]);
        assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
        assert!(
            r.of("error")
                .iter()
                .any(|e| e["file"].as_str().unwrap_or("").contains(name)
                    && e["message"].as_str().unwrap_or("").contains("put back")),
            "reported: {}",
            r.stdout
        );
        assert_eq!(
            std::fs::read_to_string(f.join("managed/vpcs/v1.yaml")).unwrap(),
            VPC_V1_EDITED,
            "the operator's save is ingested"
        );
        assert_eq!(tree(&f.join("raw")), ["README.md"]);
        let all = tree(&f);
        assert!(!all.iter().any(|p| p.contains(".fgd-")), "{all:?}");
        let empty_dirs: Vec<_> = std::fs::read_dir(f.join("raw"))
            .unwrap()
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().starts_with(".fgd-"))
            .collect();
        assert!(empty_dirs.is_empty(), "{empty_dirs:?}");
        let st = fgd(&["status", s(&f), "--json"]);
        assert_eq!(
            st.of("status")[0]["status"]["asides"],
            serde_json::json!([])
        );
    }
}

#[test]
fn a_file_put_back_without_its_journal_never_replaces_one_saved_since() {
    let (_t, f) = fabric();
    write(&f.join("raw/a.yaml"), VPC_V1);
    let r = fgd_stopped_at(&["ingest", s(&f)], "journal.after-index", || {
        editor_save(&f.join("raw/a.yaml"), VPC_V1_EDITED)
    });
    assert_eq!(r.code, 0, "{}", r.stderr);
    let r = fgd_env(
        &["move", s(&f), "raw/a.yaml", "--reason", "later"],
        &[("FGD_FAILPOINT", "journal.cleanup-aside")],
    );
    assert!(killed_by_signal(&r), "{}", r.stderr);
    std::fs::remove_file(f.join(".hnp/journal.json")).unwrap();
    // The operator writes another a.yaml meanwhile: the one aside comes back beside it.
    let newest = VPC_V1.replace("name: v1", "name: v9");
    write(&f.join("raw/a.yaml"), &newest);
    let r = fgd(&["ingest", s(&f), "--json", "--dry-run"]);
    assert!(r.code <= 1, "{}", r.stderr);
    let r = fgd(&["adopt", s(&f), "unmanaged/a.yaml.unmanaged"]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert_eq!(
        std::fs::read_to_string(f.join("raw/a.yaml")).unwrap(),
        newest
    );
    assert_eq!(
        std::fs::read_to_string(f.join("raw/a~2.yaml")).unwrap(),
        VPC_V1_EDITED,
        "put back beside it, under a free name"
    );
}

/// VPCs for `invalid_spec_refusals_survive_a_kill`: `n` gets subnet 10.0.n.0/24 and VLAN
/// 1000 + n, unless `subnet` overrides it.
fn vpc(name: &str, n: u32, subnet: Option<&str>) -> String {
    let subnet = subnet.map_or(format!("10.0.{n}.0/24"), str::to_string);
    format!("apiVersion: vpc.githedgehog.com/v1beta1\nkind: VPC\nmetadata:\n  name: {name}\nspec:\n  subnets:\n    default:\n      subnet: {subnet}\n      vlan: {}\n", 1000 + n)
}

#[test]
fn invalid_spec_refusals_survive_a_kill() {
    // Every rule on: two new VPCs that overlap each other are both refused (cross-object), one
    // with a /31 is refused alone (per object), the rest are managed; a kill at any point of
    // the batch loses and duplicates nothing, and the next run ends the same.
    let files = [
        (
            "a.yaml",
            format!(
                "{}---\n{}",
                vpc("ok-1", 1, None),
                vpc("clash-1", 2, Some("10.9.0.0/16"))
            ),
        ),
        ("b.yaml", vpc("clash-2", 3, Some("10.9.5.0/24"))),
        (
            "c.yaml",
            format!(
                "{}---\n{}",
                vpc("ok-2", 4, None),
                vpc("tiny", 5, Some("10.0.5.0/31"))
            ),
        ),
    ];
    let expect = |f: &Path| {
        let managed: Vec<String> = tree(&f.join("managed/vpcs"));
        assert_eq!(managed, ["ok-1.yaml", "ok-2.yaml"], "{managed:?}");
        let reasons: Vec<Value> = tree(&f.join("unmanaged"))
            .iter()
            .filter(|p| p.ends_with(".reason.json"))
            .map(|p| {
                serde_json::from_str(&std::fs::read_to_string(f.join("unmanaged").join(p)).unwrap())
                    .unwrap()
            })
            .collect();
        let text = serde_json::to_string(&reasons).unwrap();
        for name in ["clash-1", "clash-2", "tiny"] {
            assert!(text.contains(name), "{name} has no reason: {text}");
        }
        assert!(text.matches("invalid-spec").count() >= 3, "{text}");
        let left: Vec<String> = tree(&f.join("raw"))
            .into_iter()
            .filter(|p| p.ends_with(".yaml"))
            .collect();
        assert!(left.is_empty(), "{left:?}");
        assert_managed_is_clean(f);
    };
    // Every rule, by the fabric's own settings (the tests' config checks only the envelope).
    let all_rules = |f: &Path| write(&f.join(".hnp/validation.toml"), "rules = \"all\"\n");
    for point in [
        "ingest.before-journal",
        "ingest.after-journal",
        "batch.mid-rename",
        "journal.after-writes",
        "journal.cleanup-aside",
    ] {
        let (_t, f) = common::fabric();
        all_rules(&f);
        for (name, text) in &files {
            write(&f.join("raw").join(name), text);
        }
        let r = fgd_env(&["ingest", s(&f)], &[("FGD_FAILPOINT", point)]);
        assert!(killed_by_signal(&r), "{point} never reached: {}", r.stderr);
        // Finished by the recovery (exit 0), or ingested again from raw/ (exit 1).
        let r = fgd(&["ingest", s(&f), "--json"]);
        assert!(
            r.code == 0 || r.code == 1,
            "{point}: {}\n{}",
            r.stdout,
            r.stderr
        );
        expect(&f);
    }
    let (_t, f) = common::fabric();
    all_rules(&f);
    for (name, text) in &files {
        write(&f.join("raw").join(name), text);
    }
    let r = fgd(&["ingest", s(&f), "--json"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let problems = r.of("problem");
    assert!(
        problems
            .iter()
            .any(|p| p["rule"] == "VPC-26" && p["see_also"]["object"] == "VPC/clash-2"),
        "{problems:?}"
    );
    assert!(
        problems.iter().any(|p| p["rule"] == "VPC-07"),
        "{problems:?}"
    );
    expect(&f);
}
