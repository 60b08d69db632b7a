//! Hostile input, one class per test, through the real binary: each gets a clear reason with a
//! position, nothing is lost, nothing is written outside the fabric, and the good documents
//! beside the bad ones still land.

use crate::common;

use common::*;

const VPC: &str =
    "apiVersion: vpc.githedgehog.com/v1beta1\nkind: VPC\nmetadata:\n  name: good\nspec: {}\n";

fn ingest(f: &std::path::Path) -> Run {
    let r = fgd(&["ingest", s(f), "--json"]);
    assert!(r.code == 0 || r.code == 1, "exit {}: {}", r.code, r.stderr);
    r
}

fn codes(r: &Run) -> Vec<String> {
    r.of("document-classified")
        .iter()
        .map(|d| {
            d["code"]
                .as_str()
                .unwrap_or(d["fate"].as_str().unwrap_or(""))
                .to_string()
        })
        .collect()
}

fn whole_code(r: &Run) -> Option<String> {
    r.of("file-finished")
        .iter()
        .find(|e| e["outcome"] == "whole-unmanaged")
        .map(|e| e["code"].as_str().unwrap().to_string())
}

#[test]
fn a_billion_laughs_document_is_refused_and_its_neighbours_land() {
    let (_t, f) = fabric();
    let mut bomb = String::from(
        "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n",
    );
    for (i, prev) in ["b", "c", "d", "e", "f", "g", "h", "i"]
        .iter()
        .zip(["a", "b", "c", "d", "e", "f", "g", "h"])
    {
        bomb.push_str(&format!(
            "{i}: &{i} [*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev}]\n"
        ));
    }
    write(&f.join("raw/bomb.yaml"), format!("{VPC}---\n{bomb}"));
    let r = ingest(&f);
    assert_eq!(codes(&r), ["managed", "alias-expansion"], "{}", r.stdout);
    assert!(f.join("managed/vpcs/good.yaml").is_file());
}

#[test]
fn deeply_nested_flow_collections_are_refused_quickly() {
    let (_t, f) = fabric();
    let deep = format!("x: {}{}\n", "[".repeat(5000), "]".repeat(5000));
    write(&f.join("raw/deep.yaml"), format!("{VPC}---\n{deep}"));
    let r = ingest(&f);
    assert_eq!(codes(&r), ["managed", "too-deep"]);
}

#[test]
fn utf16_is_kept_whole_with_an_encoding_reason() {
    let (_t, f) = fabric();
    let mut bytes = vec![0xFF, 0xFE];
    for u in VPC.encode_utf16() {
        bytes.extend_from_slice(&u.to_le_bytes());
    }
    write(&f.join("raw/wide.yaml"), &bytes);
    let r = ingest(&f);
    assert_eq!(whole_code(&r).as_deref(), Some("encoding"), "{}", r.stdout);
    assert_eq!(
        std::fs::read(f.join("unmanaged/wide.yaml.unmanaged")).unwrap(),
        bytes,
        "byte for byte"
    );
    let reason =
        std::fs::read_to_string(f.join("unmanaged/wide.yaml.unmanaged.reason.json")).unwrap();
    assert!(reason.contains("UTF-16"), "{reason}");
}

#[test]
fn latin1_is_named_with_its_line_and_column() {
    let (_t, f) = fabric();
    let mut bytes = VPC.as_bytes().to_vec();
    bytes.extend_from_slice(b"# caf\xe9\n");
    write(&f.join("raw/latin.yaml"), &bytes);
    let r = ingest(&f);
    assert_eq!(whole_code(&r).as_deref(), Some("encoding"));
    let reason: serde_json::Value = serde_json::from_slice(
        &std::fs::read(f.join("unmanaged/latin.yaml.unmanaged.reason.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(reason["line"], 6, "{reason}");
    assert_eq!(reason["column"], 6, "{reason}");
}

#[test]
fn a_utf8_bom_and_crlf_line_endings_are_fine() {
    let (_t, f) = fabric();
    let mut bytes = vec![0xEF, 0xBB, 0xBF];
    bytes.extend_from_slice(VPC.replace('\n', "\r\n").as_bytes());
    bytes.extend_from_slice(b"---\r\n");
    bytes.extend_from_slice(
        VPC.replace("good", "other")
            .replace('\n', "\r\n")
            .as_bytes(),
    );
    write(&f.join("raw/dos.yaml"), &bytes);
    let r = ingest(&f);
    assert_eq!(codes(&r), ["managed", "managed"], "{}", r.stdout);
    kustomize(&f);
}

#[test]
fn names_that_would_escape_the_fabric_are_refused_and_nothing_is_written_outside() {
    let (t, f) = fabric();
    for (i, name) in ["../../../escape", "/etc/passwd", "a/b", "..", "x\\y"]
        .iter()
        .enumerate()
    {
        write(
            &f.join(format!("raw/evil{i}.yaml")),
            format!(
                "apiVersion: vpc.githedgehog.com/v1beta1\nkind: VPC\nmetadata:\n  name: '{name}'\n"
            ),
        );
    }
    let before = tree(t.path())
        .into_iter()
        .filter(|p| !p.starts_with("fab/"))
        .count();
    let r = ingest(&f);
    assert!(codes(&r).iter().all(|c| c == "bad-name"), "{}", r.stdout);
    assert_eq!(
        tree(t.path())
            .into_iter()
            .filter(|p| !p.starts_with("fab/"))
            .count(),
        before
    );
    assert_eq!(tree(&f.join("managed")), ["kustomization.yaml"]);
}

#[test]
fn symlinks_fifos_and_editor_artefacts_are_reported_and_left_alone() {
    let (t, f) = fabric();
    let secret = t.path().join("secret.yaml");
    write(&secret, VPC);
    std::os::unix::fs::symlink(&secret, f.join("raw/link.yaml")).unwrap();
    let fifo = std::ffi::CString::new(s(&f.join("raw/pipe.yaml"))).unwrap();
    assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o644) }, 0);
    for n in [
        ".hidden.yaml",
        "x.yaml~",
        ".x.yaml.swp",
        "4913",
        ".#x.yaml",
        "x.yaml.tmp1",
    ] {
        write(&f.join("raw").join(n), VPC);
    }
    let r = ingest(&f);
    let skipped = r.of("file-skipped");
    assert_eq!(skipped.len(), 8, "{}", r.stdout);
    assert!(skipped
        .iter()
        .any(|e| e["file"] == "raw/link.yaml" && e["why"] == "not-regular"));
    assert!(skipped
        .iter()
        .any(|e| e["file"] == "raw/pipe.yaml" && e["why"] == "not-regular"));
    assert!(
        f.join("raw/link.yaml").symlink_metadata().is_ok()
            && f.join("raw/pipe.yaml").symlink_metadata().is_ok()
    );
    assert_eq!(std::fs::read_to_string(&secret).unwrap(), VPC);
    assert_eq!(tree(&f.join("managed")), ["kustomization.yaml"]);
}

#[test]
fn empty_and_comment_only_files_are_kept_whole() {
    let (_t, f) = fabric();
    write(&f.join("raw/empty.yaml"), "");
    write(
        &f.join("raw/comments.yaml"),
        "# apiVersion: vpc.githedgehog.com/v1beta1\n# kind: VPC\n---\n# nothing\n",
    );
    let r = ingest(&f);
    let whole: Vec<_> = r
        .of("file-finished")
        .into_iter()
        .filter(|e| e["outcome"] == "whole-unmanaged")
        .collect();
    assert_eq!(whole.len(), 2);
    assert!(whole.iter().all(|e| e["code"] == "no-documents"));
    assert_eq!(
        std::fs::read(f.join("unmanaged/empty.yaml.unmanaged")).unwrap(),
        b""
    );
}

#[test]
fn a_syntax_error_in_the_middle_loses_neither_neighbour() {
    let (_t, f) = fabric();
    let text = format!(
        "{VPC}---\napiVersion: v1\n  kind: Broken\n metadata: [\n---\n{}",
        VPC.replace("good", "third")
    );
    write(&f.join("raw/mid.yaml"), &text);
    let r = ingest(&f);
    let docs = r.of("document-classified");
    assert_eq!(
        codes(&r),
        ["managed", "yaml-syntax", "managed"],
        "{}",
        r.stdout
    );
    assert!(docs[1]["pos"]["line"].as_u64().unwrap() >= 7, "{}", docs[1]);
    assert!(
        std::fs::read_to_string(f.join("unmanaged/mid.doc2.yaml.unmanaged"))
            .unwrap()
            .contains("kind: Broken")
    );
}

#[test]
fn a_hash_line_inside_a_scalar_before_a_separator_stays_with_its_object() {
    let (_t, f) = fabric();
    let b = "apiVersion: vpc.githedgehog.com/v1beta1\nkind: VPC\nmetadata:\n  name: vpc-b\n  annotations:\n    script: |\n      echo hello\n      # part of the script\n";
    let c = "apiVersion: vpc.githedgehog.com/v1beta1\nkind: VPC\nmetadata:\n  name: vpc-c\n  annotations:\n    note: \"hello\n      # world\"\n";
    let d = "# about vpc-d\n---\napiVersion: vpc.githedgehog.com/v1beta1\nkind: VPC\nmetadata:\n  name: vpc-d\n";
    write(&f.join("raw/scripts.yaml"), format!("{b}---\n{c}{d}"));
    let r = ingest(&f);
    assert_eq!(codes(&r), ["managed", "managed", "managed"], "{}", r.stdout);
    let read = |n: &str| std::fs::read_to_string(f.join(format!("managed/vpcs/{n}.yaml"))).unwrap();
    assert_eq!(read("vpc-b"), b);
    assert_eq!(read("vpc-c"), c);
    assert_eq!(read("vpc-d"), d.replace("---\n", ""));
    kustomize(&f);
}

#[test]
fn a_document_that_starts_on_its_separator_line_is_read_not_dropped() {
    let (_t, f) = fabric();
    let flow = "--- {apiVersion: vpc.githedgehog.com/v1beta1, kind: VPC, metadata: {name: v2}}\n";
    write(
        &f.join("raw/flow.yaml"),
        format!(
            "{VPC}{flow}--- [not, an, object]\n# about v3\n--- {}\n",
            flow[4..].trim_end().replace("v2", "v3")
        ),
    );
    let r = ingest(&f);
    // The third document is not an object; the fourth is one kustomize could not read in a
    // file of its own, since a comment comes before its `---` line.
    assert_eq!(
        codes(&r),
        [
            "managed",
            "managed",
            "not-a-mapping",
            "kustomize-incompatible"
        ],
        "{}",
        r.stdout
    );
    assert_eq!(
        std::fs::read_to_string(f.join("managed/vpcs/v2.yaml")).unwrap(),
        flow
    );
    let u = unmanaged_items(&f);
    assert_eq!(
        u,
        ["flow.doc3.yaml.unmanaged", "flow.doc4.yaml.unmanaged"],
        "{}",
        r.stdout
    );
    assert_eq!(kustomize(&f).len(), 2);
}

#[test]
fn yaml_that_kustomize_cannot_read_never_reaches_managed() {
    let (_t, f) = fabric();
    let obj = |n: &str, extra: &str| {
        format!(
            "apiVersion: vpc.githedgehog.com/v1beta1\nkind: VPC\nmetadata:\n  name: {n}\n{extra}"
        )
    };
    write(
        &f.join("raw/directive.yaml"),
        format!("%YAML 1.1\n---\n{}", obj("d", "")),
    );
    write(
        &f.join("raw/intkey.yaml"),
        obj("i", "spec:\n  subnets:\n    1: x\n"),
    );
    write(&f.join("raw/boolkey.yaml"), obj("b", "spec:\n  true: x\n"));
    write(
        &f.join("raw/labelkey.yaml"),
        obj("l", "  labels:\n    2: x\n"),
    );
    write(
        &f.join("raw/quoted.yaml"),
        obj("q", "spec:\n  \"1\": x\n  on: y\n"),
    );
    write(
        &f.join("raw/merge.yaml"),
        obj("m", "  <<: {namespace: kube-system}\n"),
    );
    let r = ingest(&f);
    let by_file: std::collections::BTreeMap<String, String> = r
        .of("document-classified")
        .iter()
        .map(|d| {
            let code = d["code"]
                .as_str()
                .unwrap_or(d["fate"].as_str().unwrap_or(""));
            (d["file"].as_str().unwrap().to_string(), code.to_string())
        })
        .collect();
    let expect = [
        ("raw/boolkey.yaml", "kustomize-incompatible"),
        ("raw/directive.yaml", "kustomize-incompatible"),
        ("raw/intkey.yaml", "kustomize-incompatible"),
        ("raw/labelkey.yaml", "kustomize-incompatible"),
        ("raw/merge.yaml", "kustomize-incompatible"),
        ("raw/quoted.yaml", "managed"),
    ];
    assert_eq!(
        by_file
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect::<Vec<_>>(),
        expect,
        "{}",
        r.stdout
    );
    // The reason names the line to fix.
    let int = r
        .of("document-classified")
        .into_iter()
        .find(|d| d["file"] == "raw/intkey.yaml")
        .unwrap();
    assert_eq!(int["pos"]["line"], 7, "{int}");
    assert!(
        int["reason"]
            .as_str()
            .unwrap()
            .contains("key 1 is a number"),
        "{int}"
    );
    assert_eq!(kustomize(&f), [("VPC".to_string(), "q".to_string())]);
}

#[test]
fn tabs_duplicate_keys_lists_and_scalars_each_get_a_reason() {
    let (_t, f) = fabric();
    write(
        &f.join("raw/tabs.yaml"),
        "apiVersion: vpc.githedgehog.com/v1beta1\nkind: VPC\nmetadata:\n\tname: tabbed\n",
    );
    write(
        &f.join("raw/dup.yaml"),
        "apiVersion: vpc.githedgehog.com/v1beta1\nkind: VPC\nkind: VPC\nmetadata:\n  name: dup\n",
    );
    write(&f.join("raw/list.yaml"), "- a\n- b\n");
    write(&f.join("raw/scalar.yaml"), "just text\n");
    write(&f.join("raw/json.json"), "{\"apiVersion\": \"vpc.githedgehog.com/v1beta1\", \"kind\": \"VPC\", \"metadata\": {\"name\": \"fromjson\"}}\n");
    let r = ingest(&f);
    assert!(
        f.join("managed/vpcs/fromjson.yaml").is_file(),
        "{}",
        r.stdout
    );
    let whole: Vec<_> = r
        .of("file-finished")
        .into_iter()
        .filter(|e| e["outcome"] == "whole-unmanaged")
        .collect();
    assert_eq!(whole.len(), 4, "{}", r.stdout);
    for w in &whole {
        assert!(!w["reason"].as_str().unwrap().is_empty());
    }
    assert_nothing_looks_like_an_object(&f);
}

#[test]
fn a_file_over_the_size_cap_is_moved_whole_without_being_read() {
    let (_t, f) = fabric();
    let mut big = String::with_capacity(17 << 20);
    while big.len() < (16 << 20) + 10 {
        big.push_str("# padding padding padding padding padding padding padding padding\n");
    }
    big.push_str(VPC);
    write(&f.join("raw/big.yaml"), &big);
    let r = ingest(&f);
    assert_eq!(whole_code(&r).as_deref(), Some("too-large"), "{}", r.stdout);
    assert!(!f.join("raw/big.yaml").exists());
    assert_eq!(
        std::fs::metadata(f.join("unmanaged/big.yaml.unmanaged"))
            .unwrap()
            .len(),
        big.len() as u64
    );
}

#[test]
fn a_document_over_the_document_cap_is_refused_alone() {
    let (_t, f) = fabric();
    let mut doc = String::from("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: huge\ndata:\n");
    let mut i = 0;
    while doc.len() < (3 << 20) + 10 {
        doc.push_str(&format!(
            "  k{i}: vvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvv\n"
        ));
        i += 1;
    }
    write(&f.join("raw/mixed.yaml"), format!("{VPC}---\n{doc}"));
    let r = ingest(&f);
    assert_eq!(codes(&r), ["managed", "too-large"]);
}

#[test]
fn a_name_that_yaml_1_1_reads_as_a_boolean_must_be_quoted() {
    let (_t, f) = fabric();
    let doc = |name: &str| {
        format!(
            "apiVersion: wiring.githedgehog.com/v1beta1\nkind: Switch\nmetadata:\n  name: {name}\n"
        )
    };
    write(&f.join("raw/bare.yaml"), doc("yes"));
    write(&f.join("raw/quoted.yaml"), doc("\"on\""));
    let r = ingest(&f);
    assert!(f.join("managed/switches/on.yaml").is_file(), "{}", r.stdout);
    let bare = r
        .of("document-classified")
        .into_iter()
        .find(|d| d["file"] == "raw/bare.yaml")
        .unwrap();
    assert_eq!(bare["code"], "bad-name");
    assert_eq!(bare["pos"]["line"], 4);
    assert!(bare["reason"].as_str().unwrap().contains("YAML 1.1"));
}

#[test]
fn over_long_and_non_utf8_file_names_are_handled_without_failing_the_batch() {
    use std::os::unix::ffi::OsStrExt;
    let (_t, f) = fabric();
    let long = format!("{}.yaml", "n".repeat(250));
    write(
        &f.join("raw").join(&long),
        format!("{VPC}---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n"),
    );
    let odd = std::ffi::OsStr::from_bytes(b"caf\xe9.yaml");
    write(&f.join("raw").join(odd), VPC.replace("good", "odd"));
    let r = ingest(&f);
    assert!(
        f.join("managed/vpcs/good.yaml").is_file(),
        "{}\n{}",
        r.stdout,
        r.stderr
    );
    assert_eq!(unmanaged_items(&f).len(), 1);
    assert!(unmanaged_items(&f)[0].len() <= 255);
    assert!(!f.join("raw").join(&long).exists());
    let skipped = r.of("file-skipped");
    assert!(
        skipped
            .iter()
            .any(|e| e["detail"].as_str().unwrap_or_default().contains("UTF-8")),
        "{}",
        r.stdout
    );
    assert!(f.join("raw").join(odd).exists(), "left alone");
}

#[test]
fn a_symlinked_folder_inside_unmanaged_is_refused_before_anything_is_journaled() {
    let (t, f) = fabric();
    let outside = t.path().join("outside");
    std::fs::create_dir(&outside).unwrap();
    std::os::unix::fs::symlink(&outside, f.join("unmanaged/site")).unwrap();
    write(
        &f.join("raw/site/cm.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n",
    );
    let r = fgd(&["ingest", s(&f)]);
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert!(r.stderr.contains("symlink"), "{}", r.stderr);
    assert!(tree(&outside).is_empty());
    assert!(
        !f.join(".hnp/journal.json").exists(),
        "nothing journaled, so nothing to retry forever"
    );
    assert!(f.join("raw/site/cm.yaml").exists());
}

/// The code and position of the first document classified from `file`.
fn verdict(r: &Run, file: &str) -> (String, usize, String) {
    let d = r
        .of("document-classified")
        .into_iter()
        .find(|d| d["file"] == file)
        .unwrap_or_else(|| panic!("no document of {file}: {}", r.stdout));
    let code = d["code"]
        .as_str()
        .unwrap_or(d["fate"].as_str().unwrap_or(""))
        .to_string();
    let line = d["pos"]["line"].as_u64().unwrap_or(0) as usize;
    (code, line, d["reason"].as_str().unwrap_or("").to_string())
}

fn server(name: &str, spec: &str) -> String {
    format!("apiVersion: wiring.githedgehog.com/v1beta1\nkind: Server\nmetadata:\n  name: {name}\n{spec}")
}

#[test]
fn keys_and_names_that_go_yaml_reads_as_numbers_or_timestamps_never_reach_managed() {
    // kustomize decodes with go-yaml, which reads `08`, `1_000` and `2024-01-01` written plain
    // as numbers and timestamps: as keys they stop the build of the whole fabric, as names they
    // become another object (`08`, `008` and `010` would all be 8).
    let (_t, f) = fabric();
    for (file, key) in [("k08", "08"), ("k1000", "1_000"), ("kdate", "2024-01-01")] {
        write(
            &f.join(format!("raw/{file}.yaml")),
            server(file, &format!("spec:\n  description: x\n  {key}: a\n")),
        );
    }
    write(
        &f.join("raw/kquoted.yaml"),
        server("kquoted", "spec:\n  \"08\": a\n  '2024-01-01': b\n"),
    );
    for name in ["08", "010", "2024-01-01"] {
        write(&f.join(format!("raw/n{name}.yaml")), server(name, ""));
    }
    write(&f.join("raw/nquoted.yaml"), server("\"008\"", ""));
    let r = ingest(&f);
    for file in ["k08", "k1000", "kdate"] {
        let (code, line, reason) = verdict(&r, &format!("raw/{file}.yaml"));
        assert_eq!(code, "kustomize-incompatible", "{file}: {reason}");
        assert_eq!(line, 7, "{file}: the line of the key");
        assert!(reason.contains("quote it"), "{reason}");
    }
    for name in ["08", "010", "2024-01-01"] {
        let (code, line, reason) = verdict(&r, &format!("raw/n{name}.yaml"));
        assert_eq!(code, "bad-name", "{name}: {reason}");
        assert_eq!(line, 4);
        assert!(reason.contains(&format!("name: \"{name}\"")), "{reason}");
    }
    assert_eq!(verdict(&r, "raw/kquoted.yaml").0, "managed");
    assert_eq!(verdict(&r, "raw/nquoted.yaml").0, "managed");
    // What kustomize builds is what fgd filed, under the same names.
    let mut built = kustomize(&f);
    built.sort();
    assert_eq!(
        built,
        [
            ("Server".to_string(), "008".to_string()),
            ("Server".to_string(), "kquoted".to_string())
        ]
    );
}

#[test]
fn a_yaml_1_1_word_or_number_name_that_is_quoted_or_tagged_in_flow_style_or_json_is_managed() {
    let (_t, f) = fabric();
    write(
        &f.join("raw/flow.yaml"),
        "apiVersion: vpc.githedgehog.com/v1beta1\nkind: VPCAttachment\nmetadata: {name: \"no\"}\nspec: {}\n",
    );
    write(
        &f.join("raw/att.json"),
        r#"{"apiVersion": "vpc.githedgehog.com/v1beta1", "kind": "VPCAttachment", "metadata": {"name": "on"}}"#,
    );
    write(&f.join("raw/tagged.yaml"), server("!!str yes", ""));
    write(
        &f.join("raw/plainflow.yaml"),
        "apiVersion: wiring.githedgehog.com/v1beta1\nkind: Server\nmetadata: {name: 08}\n",
    );
    let r = ingest(&f);
    assert_eq!(verdict(&r, "raw/flow.yaml").0, "managed", "{}", r.stdout);
    assert_eq!(verdict(&r, "raw/att.json").0, "managed");
    assert_eq!(verdict(&r, "raw/tagged.yaml").0, "managed");
    assert_eq!(verdict(&r, "raw/plainflow.yaml").0, "bad-name");
    assert_eq!(kustomize(&f).len(), 3);
}

#[test]
fn a_line_kustomize_would_cut_at_inside_a_document_keeps_it_out_of_managed() {
    // YAML ends a document only at `---` followed by a blank; kustomize cuts at `---#...` and
    // at `---` followed by a no-break space too, which would cut these objects in two.
    let (_t, f) = fabric();
    let vpc = |name: &str, extra: &str| {
        format!("apiVersion: vpc.githedgehog.com/v1beta1\nkind: VPC\nmetadata:\n  name: {name}\n{extra}")
    };
    write(
        &f.join("raw/hash.yaml"),
        vpc("v1", "  annotations:\n    note: \"first\n---#second\"\n"),
    );
    write(
        &f.join("raw/nbsp.yaml"),
        vpc(
            "v2",
            "  annotations:\n    note: \"first\n---\u{a0}\n  second\"\n",
        ),
    );
    // A comment block that travelled with its document, separator included, is harmless.
    write(
        &f.join("raw/travel.yaml"),
        format!("{}\n# about v4\n--- # v4\n{}", vpc("v3", ""), vpc("v4", "")),
    );
    let r = ingest(&f);
    for file in ["raw/hash.yaml", "raw/nbsp.yaml"] {
        let (code, line, reason) = verdict(&r, file);
        assert_eq!(code, "kustomize-incompatible", "{file}: {reason}");
        assert_eq!(line, 7, "{file}");
    }
    let mut built = kustomize(&f);
    built.sort();
    assert_eq!(
        built,
        [
            ("VPC".to_string(), "v3".to_string()),
            ("VPC".to_string(), "v4".to_string())
        ]
    );
}

#[test]
fn unicode_line_separators_are_refused_where_they_are() {
    // libyaml breaks lines at U+2028, U+2029 and U+0085; fgd's splitter and kustomize's do not.
    let (_t, f) = fabric();
    write(
        &f.join("raw/ls.yaml"),
        format!("{VPC}--- # note\u{2028}apiVersion: vpc.githedgehog.com/v1beta1\nkind: VPC\nmetadata:\n  name: other\n"),
    );
    let r = ingest(&f);
    let docs = r.of("document-classified");
    assert_eq!(codes(&r), ["managed", "yaml-syntax"], "{}", r.stdout);
    assert_eq!(docs[1]["pos"]["line"], 6);
    assert_eq!(docs[1]["pos"]["column"], 11);
    assert!(docs[1]["reason"].as_str().unwrap().contains("U+2028"));
}

#[test]
fn a_hash_line_that_closes_a_quoted_scalar_stays_in_its_document() {
    let (_t, f) = fabric();
    let first = "apiVersion: vpc.githedgehog.com/v1beta1\nkind: VPC\nmetadata:\n  name: q1\n  annotations:\n    note: \"hello\n# world\"\n";
    let second = "apiVersion: vpc.githedgehog.com/v1beta1\nkind: VPC\nmetadata:\n  name: q2\n";
    write(&f.join("raw/vpcs.yaml"), format!("{first}---\n{second}"));
    let r = ingest(&f);
    assert_eq!(codes(&r), ["managed", "managed"], "{}", r.stdout);
    assert_eq!(
        std::fs::read_to_string(f.join("managed/vpcs/q1.yaml")).unwrap(),
        first
    );
    assert_eq!(
        std::fs::read_to_string(f.join("managed/vpcs/q2.yaml")).unwrap(),
        second
    );
    assert_eq!(kustomize(&f).len(), 2);
}

#[test]
fn kubectl_get_output_is_named_a_list() {
    let (_t, f) = fabric();
    write(
        &f.join("raw/get.yaml"),
        "apiVersion: v1\nitems:\n- apiVersion: vpc.githedgehog.com/v1beta1\n  kind: VPC\n  metadata:\n    name: a\nkind: List\nmetadata:\n  resourceVersion: \"\"\n",
    );
    let r = ingest(&f);
    assert_eq!(
        whole_code(&r).as_deref(),
        Some("list-object"),
        "{}",
        r.stdout
    );
}

#[test]
fn a_duplicate_key_is_pointed_at_where_it_repeats() {
    let (_t, f) = fabric();
    write(
        &f.join("raw/dup.yaml"),
        "apiVersion: vpc.githedgehog.com/v1beta1\nkind: VPC\nmetadata:\n  name: d\nspec:\n  subnets:\n    default:\n      subnet: 10.0.0.0/24\n      vlan: 1001\n      gateway: 10.0.0.1\n      vlan: 1002\n",
    );
    write(&f.join("raw/top.yaml"), format!("{VPC}kind: VPC\n"));
    let r = ingest(&f);
    let (code, line, reason) = verdict(&r, "raw/dup.yaml");
    assert_eq!((code.as_str(), line), ("yaml-syntax", 11), "{reason}");
    assert!(
        reason.contains("duplicate entry with key \"vlan\""),
        "{reason}"
    );
    assert!(
        !reason.contains(" at line "),
        "the position is given once: {reason}"
    );
    assert_eq!(verdict(&r, "raw/top.yaml").1, 6);
}

#[test]
fn brackets_in_comments_and_strings_do_not_make_a_document_too_deep() {
    let (_t, f) = fabric();
    let comments: String = (0..70).map(|i| format!("# step [{i}\n")).collect();
    let strings: String = (0..70)
        .map(|i| format!("    r{i}: \"range [{i}\"\n"))
        .collect();
    write(&f.join("raw/comments.yaml"), format!("{comments}{VPC}"));
    write(
        &f.join("raw/strings.yaml"),
        format!("apiVersion: vpc.githedgehog.com/v1beta1\nkind: VPC\nmetadata:\n  name: s\n  annotations:\n{strings}"),
    );
    let r = ingest(&f);
    assert_eq!(codes(&r), ["managed", "managed"], "{}", r.stdout);
}

#[test]
fn the_key_that_is_not_a_string_is_named_as_written_and_where() {
    let (_t, f) = fabric();
    write(
        &f.join("raw/hex.yaml"),
        format!("{VPC}  subnets:\n    0x1F: a\n").replace("spec: {}\n", "spec:\n"),
    );
    let r = ingest(&f);
    let (code, line, reason) = verdict(&r, "raw/hex.yaml");
    assert_eq!(
        (code.as_str(), line),
        ("kustomize-incompatible", 7),
        "{reason}"
    );
    assert!(reason.contains("key 0x1F is a number"), "{reason}");
}

#[test]
fn several_objects_in_a_json_file_get_advice_that_works() {
    let (_t, f) = fabric();
    let obj = r#"{"apiVersion": "vpc.githedgehog.com/v1beta1", "kind": "VPC", "metadata": {"name": "j"}}"#;
    write(&f.join("raw/two.json"), format!("{obj}\n---\n{obj}\n"));
    let r = ingest(&f);
    let (code, _, reason) = verdict(&r, "raw/two.json");
    assert_eq!(code, "multiple-documents");
    assert!(reason.contains("a file of its own"), "{reason}");
}

#[test]
fn validate_of_a_named_file_that_ingest_skips_says_it_is_skipped() {
    let (_t, f) = fabric();
    for name in ["vpc.yaml~", ".hidden.yaml", "notes.txt"] {
        write(&f.join("raw").join(name), VPC);
    }
    let names: Vec<String> = ["vpc.yaml~", ".hidden.yaml", "notes.txt"]
        .iter()
        .map(|n| f.join("raw").join(n).to_string_lossy().into_owned())
        .collect();
    let mut args = vec!["validate", "--json"];
    args.extend(names.iter().map(String::as_str));
    let r = fgd(&args);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.of("document-classified").is_empty(), "{}", r.stdout);
    assert_eq!(r.of("file-skipped").len(), 3, "{}", r.stdout);
    let i = fgd(&["ingest", s(&f), "--json"]);
    assert_eq!(i.of("file-skipped").len(), 3);
}

#[test]
fn validate_counts_a_second_identical_definition_as_ingest_does() {
    let (_t, f) = fabric();
    write(&f.join("raw/a.yaml"), VPC);
    write(&f.join("raw/b.yaml"), VPC);
    let v = fgd(&["validate", s(&f), "--json"]);
    let i = ingest(&f);
    for key in ["created", "updated", "unchanged"] {
        assert_eq!(v.summary()[key], i.summary()[key], "{key}: {}", v.stdout);
    }
}

#[test]
fn a_raw_folder_named_like_a_sibling_s_unmanaged_item_or_archive_copy_gets_a_name_of_its_own() {
    for folder in [
        "x.yaml.unmanaged",
        "x.yaml.unmanaged.reason.json",
        "x.yaml.orig",
    ] {
        let (_t, f) = fabric();
        write(&f.join("raw/x.yaml"), "not: [valid\n");
        write(&f.join(format!("raw/{folder}/bad.yaml")), "not: [valid2\n");
        write(&f.join(format!("raw/{folder}/v.yaml")), VPC);
        let r = fgd(&["ingest", s(&f), "--json"]);
        assert_eq!(r.code, 1, "{folder}: {}{}", r.stdout, r.stderr);
        assert!(!f.join(".hnp/journal.json").exists(), "{folder}");
        assert_eq!(tree(&f.join("raw")), ["README.md"], "{folder}: all taken");
        assert!(f.join("managed/vpcs/good.yaml").is_file(), "{folder}");
        let items = unmanaged_items(&f);
        assert_eq!(items.len(), 2, "{folder}: {items:?}");
        let mut contents: Vec<String> = items
            .iter()
            .map(|i| std::fs::read_to_string(f.join("unmanaged").join(i)).unwrap())
            .collect();
        contents.sort();
        assert_eq!(contents, ["not: [valid\n", "not: [valid2\n"], "{folder}");
        for i in &items {
            assert!(
                f.join("unmanaged")
                    .join(format!("{i}.reason.json"))
                    .is_file(),
                "{folder}: {i} has its reason"
            );
        }
        let archived = tree(&f.join(".hnp/archive"));
        assert_eq!(archived.len(), 3, "{folder}: {archived:?}");
        // Adopt sends the item back to the folder it came from.
        let inner = items.iter().find(|i| i.contains('/')).unwrap();
        let r = fgd(&["adopt", s(&f), &format!("unmanaged/{inner}")]);
        assert_eq!(r.code, 0, "{folder}: {}", r.stderr);
        assert_eq!(
            std::fs::read_to_string(f.join(format!("raw/{folder}/bad.yaml"))).unwrap(),
            "not: [valid2\n",
            "{folder}"
        );
        assert_eq!(fgd(&["ingest", s(&f)]).code, 1, "{folder}: and again");
        assert!(!f.join(".hnp/journal.json").exists());
    }
}

#[test]
fn a_raw_folder_where_unmanaged_holds_a_file_of_that_name_is_not_refused_forever() {
    let (_t, f) = fabric();
    // unmanaged/README.md is init's; a raw folder of that name needs a folder there.
    std::fs::remove_file(f.join("raw/README.md")).unwrap();
    write(&f.join("raw/README.md/bad.yaml"), "not: [valid\n");
    let r = fgd(&["ingest", s(&f)]);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    assert!(
        f.join("unmanaged/README.md").is_file(),
        "init's README kept"
    );
    assert_eq!(unmanaged_items(&f).len(), 1);
}

#[test]
fn a_long_raw_name_keeps_its_extension_in_unmanaged_so_adopt_sends_back_a_file_ingest_reads() {
    let (_t, f) = fabric();
    let long = format!("{}.yaml", "l".repeat(240));
    write(&f.join("raw").join(&long), "not: [valid\n");
    let mixed = format!("{}.yml", "m".repeat(240));
    write(
        &f.join("raw").join(&mixed),
        format!("{VPC}---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n"),
    );
    assert_eq!(ingest(&f).code, 1);
    let items = unmanaged_items(&f);
    assert_eq!(items.len(), 2, "{items:?}");
    for i in &items {
        assert!(i.len() + ".reason.json".len() <= 255, "{i}");
        assert!(f
            .join("unmanaged")
            .join(format!("{i}.reason.json"))
            .is_file());
    }
    assert!(
        items
            .iter()
            .any(|i| i.starts_with('l') && i.ends_with(".yaml.unmanaged")),
        "{items:?}"
    );
    assert!(
        items
            .iter()
            .any(|i| i.starts_with('m') && i.ends_with(".doc2.yml.unmanaged")),
        "{items:?}"
    );
    let item = items.iter().find(|i| i.starts_with('l')).unwrap();
    let r = fgd(&["adopt", s(&f), &format!("unmanaged/{item}"), "--json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let back = r.of("moved")[0]["to"].as_str().unwrap().to_string();
    assert!(back.ends_with(".yaml"), "{back}");
    // Fixed, it is ingested like any other file.
    write(&f.join(&back), VPC.replace("good", "fixed"));
    let r = ingest(&f);
    assert!(r.of("file-skipped").is_empty(), "{}", r.stdout);
    assert!(f.join("managed/vpcs/fixed.yaml").is_file(), "{}", r.stdout);
}

#[test]
fn a_file_too_deep_for_its_archive_copy_is_left_in_raw_and_the_rest_is_ingested() {
    let (_t, f) = fabric();
    write(&f.join("raw/good.yaml"), VPC);
    // A legal path (under PATH_MAX) whose copy under .hnp/archive/<batch>/ would not be.
    let mut deep = f.join("raw");
    for _ in 0..19 {
        deep.push("d".repeat(200));
    }
    let room = 4070 - deep.as_os_str().len() - 1 - "bad.yaml".len() - 1;
    deep.push("e".repeat(room));
    let bad = deep.join("bad.yaml");
    write(&bad, "not: [valid\n");
    assert!(bad.as_os_str().len() < 4096);
    let r = fgd(&["ingest", s(&f), "--json"]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(f.join("managed/vpcs/good.yaml").is_file());
    assert!(bad.is_file(), "left in raw/");
    let skipped = r.of("file-skipped");
    assert_eq!(skipped.len(), 1, "{}", r.stdout);
    assert!(skipped[0]["file"].as_str().unwrap().ends_with("/bad.yaml"));
    assert!(
        skipped[0]["detail"].as_str().unwrap().contains("too deep"),
        "{}",
        skipped[0]
    );
    assert!(!f.join(".hnp/journal.json").exists());
    // And again: the one file never blocks the fabric.
    write(&f.join("raw/more.yaml"), VPC.replace("good", "more"));
    assert_eq!(fgd(&["ingest", s(&f)]).code, 0);
    assert!(f.join("managed/vpcs/more.yaml").is_file());
}

#[test]
fn go_yaml_keys_are_found_however_they_are_written_and_quoted_ones_anywhere_are_fine() {
    let (_t, f) = fabric();
    let switch = |name: &str, spec: &str| {
        format!("apiVersion: wiring.githedgehog.com/v1beta1\nkind: Switch\nmetadata:\n  name: {name}\nspec:\n{spec}")
    };
    let refused = [
        ("explicit", "  portBreakouts:\n    ? 08\n    : 4x25G\n"),
        ("anchored", "  portBreakouts:\n    &p 08: 4x25G\n"),
        ("flowpair", "  groups: [08: x]\n"),
        ("comma", "  notes:\n    2024-01-01 10:00:00,5: x\n"),
        ("spaces", "  notes:\n    2024-01-01  10:00:00: x\n"),
    ];
    for (name, spec) in refused {
        write(&f.join(format!("raw/{name}.yaml")), switch(name, spec));
    }
    // The Hedgehog docs' own quoted keys, beside text that only looks like plain keys.
    let fine = [
        ("docs", "  portGroupSpeeds: {\"1\": 10G, \"2\": 10G}\n  description: \"groups 1: 10G, 2: 10G {1: servers}\"\n"),
        ("block", "  portGroupSpeeds: {\"1\": 10G}\n  description: |\n    1: ports 1-4\n    08: spare\n"),
    ];
    for (name, spec) in fine {
        write(&f.join(format!("raw/{name}.yaml")), switch(name, spec));
    }
    let r = ingest(&f);
    for (name, _) in refused {
        let (code, line, reason) = verdict(&r, &format!("raw/{name}.yaml"));
        assert_eq!(code, "kustomize-incompatible", "{name}: {reason}");
        assert!(
            line >= 6,
            "{name}: the key's line, not the document's: {line}"
        );
    }
    for (name, _) in fine {
        assert_eq!(
            verdict(&r, &format!("raw/{name}.yaml")).0,
            "managed",
            "{name}"
        );
    }
    assert_eq!(kustomize(&f).len(), 2);
}

#[test]
fn infinite_and_not_a_number_values_never_reach_managed() {
    let (_t, f) = fabric();
    write(
        &f.join("raw/inf.yaml"),
        format!(
            "{VPC}---\n{}",
            VPC.replace("good", "inf")
                .replace("spec: {}", "spec: {x: .inf}")
        ),
    );
    write(
        &f.join("raw/nan.json"),
        r#"{"apiVersion": "vpc.githedgehog.com/v1beta1", "kind": "VPC", "metadata": {"name": "nan"}, "spec": {"x": .nan}}"#,
    );
    write(
        &f.join("raw/text.yaml"),
        VPC.replace("good", "text")
            .replace("spec: {}", "spec: {x: \".inf\"}"),
    );
    let r = ingest(&f);
    assert_eq!(
        codes(&r),
        [
            "managed",
            "kustomize-incompatible",
            "kustomize-incompatible",
            "managed"
        ],
        "{}",
        r.stdout
    );
    let inf = &r.of("document-classified")[1];
    assert_eq!(inf["pos"]["line"], 11, "{inf}");
    assert_eq!(kustomize(&f).len(), 2);
}

#[test]
fn a_comment_line_closing_a_quoted_scalar_stays_even_after_an_apostrophe_in_plain_text() {
    let (_t, f) = fabric();
    let q1 = "apiVersion: vpc.githedgehog.com/v1beta1\nkind: VPC\nmetadata:\n  name: q1\n  annotations:\n    owner: rock 'n roll team\n    note: 'first line\n# second line'\n# about q2\n";
    let q2 = "---\napiVersion: vpc.githedgehog.com/v1beta1\nkind: VPC\nmetadata:\n  name: q2\n";
    write(&f.join("raw/t.yaml"), format!("{q1}{q2}"));
    write(
        &f.join("raw/pct.yaml"),
        "apiVersion: vpc.githedgehog.com/v1beta1\nkind: VPC\nmetadata:\n  name: p1\n  annotations:\n    capacity: \"load\n%50 at peak\"\n",
    );
    let r = ingest(&f);
    assert_eq!(codes(&r), ["managed", "managed", "managed"], "{}", r.stdout);
    assert_eq!(
        std::fs::read_to_string(f.join("managed/vpcs/q1.yaml")).unwrap(),
        q1
    );
    assert!(std::fs::read_to_string(f.join("managed/vpcs/q2.yaml"))
        .unwrap()
        .starts_with("apiVersion"));
    assert_eq!(kustomize(&f).len(), 3);
}

#[test]
fn brackets_inside_plain_and_block_scalars_are_text_not_nesting() {
    let (_t, f) = fabric();
    let plain: String = (0..70)
        .map(|i| format!("    r{i}: vlans [{i}00, {i}10)\n"))
        .collect();
    let block: String = (0..70)
        .map(|i| format!("      interval {i}: [{i}0, {i}5)\n"))
        .collect();
    let vpc = |name: &str, annotations: &str| {
        format!("apiVersion: vpc.githedgehog.com/v1beta1\nkind: VPC\nmetadata:\n  name: {name}\n  annotations:\n{annotations}")
    };
    write(&f.join("raw/plain.yaml"), vpc("plain", &plain));
    write(
        &f.join("raw/block.yaml"),
        vpc("block", &format!("    notes: |\n{block}")),
    );
    let r = ingest(&f);
    assert_eq!(codes(&r), ["managed", "managed"], "{}", r.stdout);
    assert_eq!(kustomize(&f).len(), 2);
}

#[test]
fn a_name_quoted_on_its_own_line_or_through_an_alias_is_a_quoted_name() {
    let (_t, f) = fabric();
    write(&f.join("raw/next.yaml"), server("\n    \"08\"", ""));
    write(
        &f.join("raw/alias.yaml"),
        "x: &n '010'\napiVersion: wiring.githedgehog.com/v1beta1\nkind: Server\nmetadata:\n  name: *n\nspec:\n  description: \"see &n here\"\n",
    );
    let r = ingest(&f);
    assert_eq!(codes(&r), ["managed", "managed"], "{}", r.stdout);
}

#[test]
fn an_object_with_an_annotation_kustomize_keeps_for_itself_is_not_managed() {
    let (_t, f) = fabric();
    write(
        &f.join("raw/local.yaml"),
        "apiVersion: vpc.githedgehog.com/v1beta1\nkind: VPC\nmetadata:\n  name: local\n  annotations:\n    config.kubernetes.io/local-config: \"true\"\n",
    );
    // Whatever its value: the whole domain is kustomize's.
    write(
        &f.join("raw/false.yaml"),
        "apiVersion: vpc.githedgehog.com/v1beta1\nkind: VPC\nmetadata:\n  name: false-one\n  annotations:\n    config.kubernetes.io/local-config: \"false\"\n",
    );
    write(
        &f.join("raw/kept.yaml"),
        "apiVersion: vpc.githedgehog.com/v1beta1\nkind: VPC\nmetadata:\n  name: kept\n  annotations:\n    example.com/owner: ops\n",
    );
    let r = ingest(&f);
    assert_eq!(verdict(&r, "raw/local.yaml").0, "kustomize-incompatible");
    assert_eq!(verdict(&r, "raw/false.yaml").0, "kustomize-incompatible");
    assert_eq!(verdict(&r, "raw/kept.yaml").0, "managed");
    assert_eq!(kustomize(&f), [("VPC".to_string(), "kept".to_string())]);
}
