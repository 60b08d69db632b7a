//! Every file of the real Hedgehog corpus, ingested into its own fresh fabric (names repeat
//! across unrelated files), checked document by document against real-index.json, then built
//! with `kubectl kustomize`.

use crate::common;

use std::collections::HashMap;

use common::*;
use serde_json::Value;

const OPERATOR_KINDS: &[(&str, &[&str])] = &[
    (
        "vpc.githedgehog.com/v1beta1",
        &[
            "VPC",
            "VPCAttachment",
            "VPCPeering",
            "External",
            "ExternalAttachment",
            "ExternalPeering",
            "IPv4Namespace",
        ],
    ),
    (
        "wiring.githedgehog.com/v1beta1",
        &[
            "VLANNamespace",
            "Switch",
            "Server",
            "Connection",
            "SwitchGroup",
            "ServerProfile",
        ],
    ),
    (
        "gateway.githedgehog.com/v1alpha1",
        &["Gateway", "GatewayGroup", "GatewayPeering"],
    ),
];

fn rfc1123(name: &str) -> bool {
    !name.is_empty()
        && name.split('.').all(|l| {
            !l.is_empty()
                && l.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                && !l.starts_with('-')
                && !l.ends_with('-')
        })
}

/// The fate the rules give a document, worked out from the index alone.
fn expected_managed(doc: &Value) -> bool {
    let api = doc["apiVersion"].as_str().unwrap_or_default();
    let kind = doc["kind"].as_str().unwrap_or_default();
    let Some(name) = doc["name"].as_str() else {
        return false;
    };
    let ns_ok = matches!(doc["namespace"].as_str(), None | Some("default"));
    let kind_ok = OPERATOR_KINDS
        .iter()
        .any(|(a, ks)| *a == api && ks.contains(&kind));
    let max = if ["VPC", "External", "IPv4Namespace"].contains(&kind) {
        11
    } else {
        62
    };
    kind_ok && ns_ok && rfc1123(name) && name.len() <= max
}

fn check_file(entry: &Value) -> (usize, usize) {
    let file = entry["file"].as_str().expect("file");
    let src = shared().join("corpus/real").join(file);
    let (_t, f) = fabric();
    let original = std::fs::read(&src).expect("corpus file");
    write(&f.join("raw").join(file), &original);
    let run = fgd(&["ingest", s(&f), "--json"]);
    assert!(
        run.code == 0 || run.code == 1,
        "{file}: exit {} {}",
        run.code,
        run.stderr
    );
    let docs: Vec<Value> = run
        .of("document-classified")
        .into_iter()
        .filter(|d| d["fate"] != "empty")
        .collect();
    let whole = run
        .of("file-finished")
        .into_iter()
        .any(|e| e["outcome"] == "whole-unmanaged");

    if entry["parses"] == true {
        let expect = entry["documents"].as_array().expect("documents");
        if expect.is_empty() {
            assert!(
                whole,
                "{file}: no documents, so the file must be kept whole in unmanaged/"
            );
        } else {
            assert_eq!(
                docs.len(),
                expect.len(),
                "{file}: document count\n{}",
                run.stdout
            );
        }
        // Kind/name pairs defined twice in one file may be a conflict; judge the rest exactly.
        let mut seen: HashMap<(String, String), usize> = HashMap::new();
        for d in expect {
            *seen
                .entry((d["kind"].to_string(), d["name"].to_string()))
                .or_default() += 1;
        }
        for (d, got) in expect.iter().zip(&docs) {
            if seen[&(d["kind"].to_string(), d["name"].to_string())] > 1 {
                continue;
            }
            let managed = got["fate"] == "managed";
            assert_eq!(managed, expected_managed(d), "{file}: {d} got {got}");
            if !managed {
                assert!(
                    got["reason"].as_str().is_some_and(|r| !r.is_empty()),
                    "{file}: a reason is required: {got}"
                );
                assert!(
                    got["pos"]["line"].as_u64().is_some_and(|l| l >= 1),
                    "{file}: a line is required: {got}"
                );
            }
        }
    }
    // Lossless: raw/ is empty of the file, the original is archived byte for byte, and each
    // document is in managed/ or unmanaged/.
    assert!(!f.join("raw").join(file).exists(), "{file}: still in raw/");
    let archived: Vec<_> = tree(&f.join(".hnp/archive"))
        .into_iter()
        .filter(|p| p.ends_with(&format!("{file}.orig")))
        .collect();
    assert_eq!(archived.len(), 1, "{file}: archive {archived:?}");
    assert_eq!(
        std::fs::read(f.join(".hnp/archive").join(&archived[0])).expect("archive"),
        original,
        "{file}: archive differs"
    );
    let managed_files = kustomization(&f);
    let managed_docs = docs.iter().filter(|d| d["fate"] == "managed").count();
    let unique: std::collections::BTreeSet<_> = docs
        .iter()
        .filter(|d| d["fate"] == "managed")
        .map(|d| d["path"].as_str().unwrap_or_default().to_string())
        .collect();
    assert_eq!(
        managed_files.len(),
        unique.len(),
        "{file}: kustomization vs managed documents"
    );
    for d in docs.iter().filter(|d| d["fate"] == "managed") {
        let p = d["path"].as_str().expect("path");
        let text = std::fs::read_to_string(f.join(p)).expect("managed file exists");
        let name = d["object"]
            .as_str()
            .expect("object")
            .split('/')
            .nth(1)
            .expect("name")
            .to_string();
        assert!(text.contains(&name), "{file}: {p} does not hold {name}");
    }
    let items = unmanaged_items(&f);
    if whole {
        assert_eq!(items.len(), 1, "{file}: whole file kept once: {items:?}");
        assert_eq!(
            std::fs::read(f.join("unmanaged").join(&items[0])).expect("item"),
            original,
            "{file}: not byte for byte"
        );
    } else {
        assert_eq!(
            items.len(),
            docs.len() - managed_docs,
            "{file}: one unmanaged item per unmanaged document"
        );
    }
    for item in &items {
        assert!(
            f.join("unmanaged")
                .join(format!("{item}.reason.json"))
                .is_file(),
            "{file}: {item} has no reason file"
        );
    }
    assert_managed_is_clean(&f);
    assert_nothing_looks_like_an_object(&f);
    let objs = kustomize(&f);
    assert_eq!(objs.len(), managed_files.len());
    (docs.len(), managed_docs)
}

#[test]
fn every_real_corpus_file_ingests_as_the_index_says() {
    let index: Value = serde_json::from_slice(
        &std::fs::read(shared().join("corpus/real-index.json")).expect("index"),
    )
    .expect("json");
    let files: Vec<Value> = index["files"].as_array().expect("files").clone();
    assert!(files.len() > 250, "the corpus shrank: {}", files.len());
    let next = std::sync::atomic::AtomicUsize::new(0);
    let totals = std::sync::Mutex::new((0usize, 0usize));
    std::thread::scope(|sc| {
        for _ in 0..4 {
            sc.spawn(|| loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(entry) = files.get(i) else { break };
                let (d, m) = check_file(entry);
                let mut t = totals.lock().expect("lock");
                t.0 += d;
                t.1 += m;
            });
        }
    });
    let (docs, managed) = *totals.lock().expect("lock");
    eprintln!(
        "real corpus: {} files, {docs} documents, {managed} managed",
        files.len()
    );
    assert!(docs >= 500, "documents seen: {docs}");
    assert!(managed >= 150, "managed: {managed}");
}
