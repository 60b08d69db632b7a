//! Validation against a peer: every document kubeconform finds schema-invalid (against the
//! schemas made from the shipped CRDs, `../shared/bench/peers/`) is invalid for fgd too, at
//! a position; on the real corpus and on a generated one. The one class kubeconform refuses
//! and the cluster accepts is named (RULES.md §1, C1): `required` markers the mutating webhook
//! always satisfies, which fgd checks after defaulting, as the API server does.

use crate::common;

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;
use serde_json::Value;

/// kubeconform's verdicts on `files`: (file, kind, name, message) of each invalid resource.
fn kubeconform_invalid(files: &[PathBuf]) -> Vec<(String, String, String, String)> {
    let peer = shared().join("bench/peers/kubeconform.sh");
    let out = Command::new(peer)
        .arg("-output")
        .arg("json")
        .args(files)
        .output()
        .expect("kubeconform runs");
    let v: Value = serde_json::from_slice(&out.stdout).expect("kubeconform's JSON");
    v["resources"]
        .as_array()
        .expect("resources")
        .iter()
        .filter(|r| r["status"] == "statusInvalid")
        .map(|r| {
            let s = |k: &str| r[k].as_str().unwrap_or_default().to_string();
            (s("filename"), s("kind"), s("name"), s("msg"))
        })
        .collect()
}

/// Required fields the mutating webhook writes (Go fields without `omitempty`) before the
/// schema sees the object: kubeconform, reading the raw YAML, refuses their absence.
const DEAD_REQUIRED: [&str; 9] = [
    "'spec'",
    "'switch'",
    "'neighbor'",
    "'remoteIP'",
    "'interfaceMTU'",
    "'leaseTimeSeconds'",
    "'ip'",
    "'default'",
    "'action'",
];

fn only_dead_required(msg: &str) -> bool {
    msg.contains("missing properties") && {
        let tail = &msg[msg.find("missing properties").unwrap_or(0)..];
        DEAD_REQUIRED.iter().any(|f| tail.contains(f))
    }
}

/// For each file: the objects fgd would not manage, and those with an error-level problem.
fn fgd_refusals(files: &[PathBuf]) -> (HashMap<String, HashSet<String>>, HashMap<String, usize>) {
    // Every rule: what kubeconform refuses on the schema alone, fgd refuses too, on the schema
    // or on an admission rule (a null the API server prunes, say, fails a webhook rule).
    let mut args: Vec<String> = ["validate", "--json", "--rules", "all"]
        .iter()
        .map(|a| a.to_string())
        .collect();
    args.extend(files.iter().map(|f| f.display().to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let r = fgd(&args);
    assert!(r.code <= 1, "fgd validate failed: {}", r.stderr);
    let mut refused: HashMap<String, HashSet<String>> = HashMap::new();
    let mut unnamed: HashMap<String, usize> = HashMap::new();
    for e in r.events() {
        let file = e["file"].as_str().unwrap_or_default().to_string();
        let object = e["object"].as_str().map(str::to_string);
        let bad = match e["event"].as_str() {
            Some("document-classified") => e["fate"] == "unmanaged",
            Some("problem") => {
                assert!(
                    e["pos"]["line"].as_u64().unwrap_or(0) > 0,
                    "a problem without a line: {e}"
                );
                e["severity"] == "error"
            }
            Some("file-finished") => e["outcome"] == "whole-unmanaged",
            _ => false,
        };
        if bad {
            match object {
                Some(o) => {
                    refused.entry(file).or_default().insert(o);
                }
                None => *unnamed.entry(file).or_default() += 1,
            }
        }
    }
    (refused, unnamed)
}

fn check(files: &[PathBuf]) -> usize {
    let invalid = kubeconform_invalid(files);
    let (refused, unnamed) = fgd_refusals(files);
    let mut missed = Vec::new();
    for (file, kind, name, msg) in &invalid {
        let object = format!("{kind}/{name}");
        let seen = refused.get(file).is_some_and(|s| s.contains(&object))
            || (name.is_empty() && unnamed.get(file).is_some_and(|n| *n > 0));
        if !seen && !only_dead_required(msg) {
            missed.push(format!("{file} {object}: {msg}"));
        }
    }
    assert!(
        missed.is_empty(),
        "kubeconform finds these invalid and fgd does not:\n{}",
        missed.join("\n")
    );
    invalid.len()
}

fn yaml_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("corpus")
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.extension()
                .is_some_and(|x| x == "yaml" || x == "yml" || x == "json")
        })
        .collect();
    files.sort();
    files
}

#[test]
fn what_kubeconform_refuses_in_the_real_corpus_fgd_refuses_at_a_line() {
    let n = check(&yaml_files(&shared().join("corpus/real")));
    assert!(n >= 10, "kubeconform found only {n} invalid documents");
}

#[test]
fn what_kubeconform_refuses_in_a_generated_corpus_fgd_refuses_at_a_line() {
    let t = tempfile::tempdir().expect("tempdir");
    let raw = t.path().join("raw");
    let out = Command::new("python3")
        .arg(shared().join("bench/gen_corpus.py"))
        .args([
            "--docs",
            "2000",
            "--files",
            "20",
            "--seed",
            "7",
            "--invalid-fraction",
            "0.05",
        ])
        .arg("--out")
        .arg(&raw)
        .output()
        .expect("gen_corpus runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Break the schema of some documents on purpose: a quoted VLAN, a VLAN beyond 16 bits,
    // an unknown field, a role outside the enum.
    let mut files = yaml_files(&raw);
    let broken = raw.join("broken.yaml");
    std::fs::write(
        &broken,
        "apiVersion: vpc.githedgehog.com/v1beta1\nkind: VPC\nmetadata:\n  name: q1\nspec:\n  subnets:\n    default:\n      subnet: 10.99.1.0/24\n      vlan: \"1001\"\n---\napiVersion: vpc.githedgehog.com/v1beta1\nkind: VPC\nmetadata:\n  name: q2\nspec:\n  subnets:\n    default:\n      subnet: 10.99.2.0/24\n      vlan: 70000\n---\napiVersion: wiring.githedgehog.com/v1beta1\nkind: Switch\nmetadata:\n  name: q3\nspec:\n  role: leaf\n  colour: red\n",
    )
    .expect("write");
    files.push(broken);
    let n = check(&files);
    // kubeconform knows no Go integer widths: the 70000 VLAN passes it (not fgd).
    assert!(n >= 2, "kubeconform found only {n} invalid documents");
}
