//! Differential test against kustomize itself (`kubectl kustomize`, the reader Argo CD and Flux
//! build `managed/` with): a generated corpus of documents using the constructs go-yaml and
//! serde_yaml can read differently (explicit tags × positions × value shapes, merge keys ×
//! shapes, escapes, anchors, plain texts Go types, kustomize's own annotations), each in a raw
//! file of its own, ingested by the real fgd in one fabric.
//!
//! For every document fgd manages: kustomize builds the managed file and the raw file, the two
//! objects are identical, and kustomize's reading equals fgd's (serde_yaml's) for what fgd
//! decides on: apiVersion, kind and the whole of metadata. Every document fgd refuses as
//! `kustomize-incompatible` names one of the classes (`fgd::yaml::Incompat`). Cases whose
//! outcome is known say so (managed, or refused with a class), so refusing everything fails.
//!
//! kustomize runs twice for the whole corpus (managed/, and all the raw files of managed
//! documents); only when a build fails is each file built alone, to name the culprits.

use crate::common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use common::*;
use fgd::yaml::Incompat;

/// What a case must come to, when that is known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    Managed,
    Refused(Incompat),
    /// Refused for a reason that is not kustomize's (a bad name, a YAML error): any code.
    NotManaged,
    /// Either, as long as the differential holds.
    Either,
}

struct Case {
    label: String,
    file: String,
    text: String,
    expect: Expect,
}

struct Corpus {
    cases: Vec<Case>,
}

const HEAD: &str = "apiVersion: vpc.githedgehog.com/v1beta1\nkind: VPC\n";

impl Corpus {
    fn add(&mut self, label: impl Into<String>, text: String, expect: Expect) {
        let n = self.cases.len();
        self.cases.push(Case {
            label: label.into(),
            file: format!("c{n:04}.yaml"),
            text,
            expect,
        });
    }

    fn add_json(&mut self, label: &str, text: String, expect: Expect) {
        let n = self.cases.len();
        self.cases.push(Case {
            label: label.into(),
            file: format!("c{n:04}.json"),
            text,
            expect,
        });
    }

    /// The next case's own object name.
    fn name(&self) -> String {
        format!("c{:04}", self.cases.len())
    }

    /// A document with `value` at `position` (see `POSITIONS`).
    fn at(&self, position: &str, value: &str) -> String {
        let n = self.name();
        match position {
            "name" => format!("{HEAD}metadata:\n  name: {value}\nspec: {{}}\n"),
            "namespace" => {
                format!("{HEAD}metadata:\n  name: {n}\n  namespace: {value}\nspec: {{}}\n")
            }
            "label" => format!("{HEAD}metadata:\n  name: {n}\n  labels:\n    l: {value}\nspec: {{}}\n"),
            "annotation" => format!(
                "{HEAD}metadata:\n  name: {n}\n  annotations:\n    example.com/a: {value}\nspec: {{}}\n"
            ),
            "spec-value" => format!("{HEAD}metadata:\n  name: {n}\nspec:\n  x: {value}\n"),
            "spec-key" => format!("{HEAD}metadata:\n  name: {n}\nspec:\n  {value}: x\n"),
            "spec-item" => format!("{HEAD}metadata:\n  name: {n}\nspec:\n  l:\n  - {value}\n  - [{value}]\n"),
            other => panic!("no position {other}"),
        }
    }
}

const POSITIONS: [&str; 7] = [
    "name",
    "namespace",
    "label",
    "annotation",
    "spec-value",
    "spec-key",
    "spec-item",
];

fn corpus() -> Corpus {
    let mut c = Corpus { cases: Vec::new() };
    tags(&mut c);
    escapes(&mut c);
    plain_texts(&mut c);
    merges(&mut c);
    anchors(&mut c);
    annotations(&mut c);
    c
}

/// Every tag × position × value shape. Only `!!str` on scalars, `!!map` and `!!seq` on their
/// own kinds are read alike; the rest is refused as a class.
fn tags(c: &mut Corpus) {
    let tags = [
        "!!str",
        "!!binary",
        "!!timestamp",
        "!!int",
        "!!float",
        "!!bool",
        "!!null",
        "!!merge",
        "!!map",
        "!!seq",
        "!!set",
        "!!omap",
        "!",
        "!custom",
        "!<tag:yaml.org,2002:str>",
        "!<tag:yaml.org,2002:binary>",
    ];
    for tag in tags {
        for position in POSITIONS {
            let n = c.name();
            let day = format!(
                "2024-{:02}-{:02}",
                c.cases.len() % 12 + 1,
                c.cases.len() % 28 + 1
            );
            let shapes: Vec<String> = match position {
                // A name of its own, so managed ones never collide.
                "name" => vec![n.clone(), day.clone(), "YzAwMDE=".into()],
                _ => vec![
                    "text".into(),
                    day.clone(),
                    "8".into(),
                    "aGVsbG8=".into(),
                    "not base64!".into(),
                    "{a: 1}".into(),
                    "[1, 2]".into(),
                ],
            };
            for shape in shapes {
                let value = format!("{tag} {shape}");
                let scalar = !shape.starts_with(['{', '[']);
                let alike = match tag {
                    "!!str" | "!<tag:yaml.org,2002:str>" => scalar,
                    "!!map" => shape.starts_with('{'),
                    "!!seq" => shape.starts_with('['),
                    _ => false,
                };
                let expect = if alike {
                    Expect::Either
                } else {
                    // Refused: as a tag when serde_yaml reads it, or as YAML serde_yaml refuses.
                    Expect::NotManaged
                };
                let text = c.at(position, &value);
                c.add(format!("tag {value} at {position}"), text, expect);
            }
        }
    }
    // The tags serde_yaml reads and go-yaml acts on, where fgd must say which class.
    for (tag, value) in [
        ("!!binary", "aGVsbG8="),
        ("!!timestamp", "2024-01-01"),
        ("!", "12"),
        ("!custom", "x"),
        ("!!merge", "<<"),
    ] {
        let n = c.name();
        let text = format!("{HEAD}metadata:\n  name: {n}\nspec:\n  x: {tag} {value}\n");
        c.add(
            format!("tag {tag} {value} in spec"),
            text,
            Expect::Refused(Incompat::ExplicitTag),
        );
    }
    // However the tag stands: after an anchor, on the next line, in flow after a comma.
    for spec in [
        "x: &a !!binary aGVsbG8=\n",
        "x:\n    !!binary aGVsbG8=\n",
        "x: [a,!!timestamp 2024-01-01]\n",
        "x: {a: b,c: !!binary aGVsbG8=}\n",
        "? !!binary aGVsbG8=\n  : x\n",
        "x:\t!custom y\n",
    ] {
        let n = c.name();
        c.add(
            format!("tag written as {spec:?}"),
            format!("{HEAD}metadata:\n  name: {n}\nspec:\n  {spec}"),
            Expect::Refused(Incompat::ExplicitTag),
        );
    }
    let n = c.name();
    c.add(
        "!!str on a value",
        format!("{HEAD}metadata:\n  name: {n}\n  labels:\n    l: !!str 08\nspec:\n  x: !!str 2024-01-01\n"),
        Expect::Managed,
    );
    let n = c.name();
    c.add(
        "!!map and !!seq",
        format!("{HEAD}metadata: !!map\n  name: {n}\nspec: !!map\n  l: !!seq [a]\n"),
        Expect::Managed,
    );
}

/// Every escape libyaml knows, in double-quoted scalars at each position, and in JSON.
fn escapes(c: &mut Corpus) {
    let escapes = [
        "\\0",
        "\\a",
        "\\b",
        "\\t",
        "\\\t",
        "\\n",
        "\\v",
        "\\f",
        "\\r",
        "\\e",
        "\\ ",
        "\\\"",
        "\\/",
        "\\\\",
        "\\N",
        "\\_",
        "\\L",
        "\\P",
        "\\x41",
        "\\u0041",
        "\\U00000041",
    ];
    for e in escapes {
        for position in ["name", "label", "annotation", "spec-value", "spec-key"] {
            let n = c.name();
            let value = format!("\"{n}{e}z\"");
            // `\/` go-yaml does not know; a NEL, LS or PS kustomize cannot write back.
            let refused = ["\\/", "\\N", "\\L", "\\P"].contains(&e);
            let expect = if refused && position != "name" {
                Expect::Refused(Incompat::Escape)
            } else if refused {
                // No name either: refused, as a bad name.
                Expect::NotManaged
            } else if position == "name" {
                Expect::Either
            } else {
                Expect::Managed
            };
            let text = c.at(position, &value);
            c.add(format!("escape {e:?} at {position}"), text, expect);
        }
    }
    for (e, expect) in [
        ("\\/", Expect::Refused(Incompat::Escape)),
        ("\\u2028", Expect::Refused(Incompat::Escape)),
        ("\\u0041", Expect::Managed),
        ("\\\\", Expect::Managed),
        ("\\n", Expect::Managed),
    ] {
        let n = c.name();
        let text = format!(
            "{{\"apiVersion\": \"vpc.githedgehog.com/v1beta1\", \"kind\": \"VPC\", \"metadata\": {{\"name\": \"{n}\", \"labels\": {{\"l\": \"a{e}b\"}}}}, \"spec\": {{\"url\": \"http:{e}{e}h\"}}}}\n"
        );
        c.add_json(&format!("json escape {e:?}"), text, expect);
    }
}

/// Plain texts Go types otherwise than serde_yaml, at each position; quoted, each is text.
fn plain_texts(c: &mut Corpus) {
    let texts = [
        "2024-01-01",
        "2024-1-2 10:00:00",
        "010",
        "08",
        "1_000",
        "0x1F",
        "0o17",
        "1e3",
        "+1",
        ".5",
        "yes",
        "on",
        "true",
        "~",
        "null",
        "12:30",
        ".inf",
        "-.Inf",
        ".nan",
    ];
    for t in texts {
        for position in ["label", "annotation", "spec-value", "spec-key", "spec-item"] {
            let text = c.at(position, t);
            c.add(format!("plain {t} at {position}"), text, Expect::Either);
            let text = c.at(position, &format!("\"{t}\""));
            c.add(format!("quoted {t} at {position}"), text, Expect::Managed);
        }
    }
    for (label, value) in [
        ("annotation", "0x1F"),
        ("annotation", "{a: 1}"),
        ("label", "true"),
        ("label", "~"),
    ] {
        let text = c.at(label, value);
        c.add(
            format!("{value} as a {label}'s value"),
            text,
            Expect::Refused(Incompat::NotText),
        );
    }
    let n = c.name();
    c.add(
        "a date label",
        format!("{HEAD}metadata:\n  name: {n}\n  labels:\n    day: 2024-01-01\n"),
        Expect::Refused(Incompat::GoYamlValue),
    );
    let n = c.name();
    c.add(
        "an octal-looking annotation through an alias",
        format!("x: &b 010\n{HEAD}metadata:\n  name: {n}\n  annotations:\n    build: *b\n"),
        Expect::Refused(Incompat::GoYamlValue),
    );
}

/// Merge keys × value shapes, in spec (go-yaml's rule) and in the head (refused outright).
fn merges(c: &mut Corpus) {
    let defs = "defs:\n    m: &m {p: 1, q: 2}\n    n: &n {r: 3}\n    s: &s 5\n    l: &l [{t: 4}]\n";
    let shapes: [(&str, Expect); 14] = [
        ("*m", Expect::Managed),
        ("[*m, *n]", Expect::Managed),
        ("[*m, {u: 5}]", Expect::Managed),
        ("{v: 6}", Expect::Managed),
        ("5", Expect::Refused(Incompat::MergeKey)),
        ("~", Expect::Refused(Incompat::MergeKey)),
        ("text", Expect::Refused(Incompat::MergeKey)),
        ("*s", Expect::Refused(Incompat::MergeKey)),
        ("*l", Expect::Refused(Incompat::MergeKey)),
        ("[*m, 5]", Expect::Refused(Incompat::MergeKey)),
        ("[*m, *s]", Expect::Refused(Incompat::MergeKey)),
        ("[[*m]]", Expect::Refused(Incompat::MergeKey)),
        ("[]", Expect::Either),
        ("{}", Expect::Either),
    ];
    for (shape, expect) in shapes {
        let n = c.name();
        let text = format!(
            "{HEAD}metadata:\n  name: {n}\nspec:\n  {defs}  x:\n    <<: {shape}\n    q: 9\n"
        );
        c.add(format!("merge {shape} in spec"), text, expect);
        let n = c.name();
        let text = format!(
            "{HEAD}metadata:\n  name: {n}\nspec:\n  {defs}  x:\n  - y:\n      <<: {shape}\n"
        );
        c.add(format!("merge {shape} in a spec list"), text, expect);
    }
    for (label, text) in [
        (
            "a quoted << key",
            "spec:\n  x:\n    \"<<\": 5\n".to_string(),
        ),
        (
            "a tagged merge key",
            "spec:\n  x:\n    !!merge <<: {a: 1}\n".into(),
        ),
        (
            "a merge key's text in a value",
            "spec:\n  x: \"<<: 5\"\n".into(),
        ),
    ] {
        let n = c.name();
        let expect = if label.contains("tagged") {
            Expect::Refused(Incompat::ExplicitTag)
        } else {
            Expect::Managed
        };
        c.add(
            label,
            format!("{HEAD}metadata:\n  name: {n}\n{text}"),
            expect,
        );
    }
    // In the head: whatever the shape, kustomize merges it and fgd does not.
    for (label, body) in [
        ("top", "<<: {spec: {a: 1}}\nmetadata:\n  name: NAME\n"),
        ("metadata", "metadata:\n  name: NAME\n  <<: {namespace: kube-system}\n"),
        (
            "labels",
            "x: &a {config.kubernetes.io/local-config: \"true\"}\nmetadata:\n  name: NAME\n  annotations:\n    <<: *a\n",
        ),
        ("alias", "x: &m {name: NAME, labels: {<<: {a: b}}}\nmetadata: *m\n"),
    ] {
        let n = c.name();
        c.add(
            format!("merge in the head ({label})"),
            format!("{HEAD}{}", body.replace("NAME", &n)),
            Expect::Refused(Incompat::MergeKey),
        );
    }
}

/// Anchors defined once (aliases read alike) and twice (refused), on the name, the namespace,
/// the labels and spec.
fn anchors(c: &mut Corpus) {
    for (label, template, expect) in [
        (
            "name through an alias",
            "x: &n NAME\nHEADmetadata:\n  name: *n\n",
            Expect::Managed,
        ),
        (
            "metadata through an alias",
            "x: &m {name: NAME, labels: {a: b}}\nHEADmetadata: *m\n",
            Expect::Managed,
        ),
        (
            "spec through aliases",
            "HEADmetadata:\n  name: NAME\nspec:\n  a: &v [1, 2]\n  b: *v\n  c: &w {x: *v}\n  d: *w\n",
            Expect::Managed,
        ),
        (
            "name anchor defined twice",
            "x: &n other\ny: &n NAME\nHEADmetadata:\n  name: *n\n",
            Expect::Refused(Incompat::DuplicateAnchor),
        ),
        (
            "namespace anchor defined twice",
            "x: &t kube-system\ny: &t default\nHEADmetadata:\n  name: NAME\n  namespace: *t\n",
            Expect::Refused(Incompat::DuplicateAnchor),
        ),
        (
            "spec anchor defined twice",
            "HEADmetadata:\n  name: NAME\nspec:\n  a: &v 1\n  b: &v {x: 2}\n  c: *v\n",
            Expect::Refused(Incompat::DuplicateAnchor),
        ),
        (
            "an anchor defined twice, its alias first",
            "HEADmetadata:\n  name: NAME\nspec:\n  a: &v 1\n  b: *v\n  c: &v 2\n",
            Expect::Refused(Incompat::DuplicateAnchor),
        ),
        (
            "an alias as a key",
            "HEADmetadata:\n  name: NAME\nspec:\n  a: &k key\n  b:\n    *k : v\n",
            Expect::Either,
        ),
    ] {
        let n = c.name();
        let text = template.replace("HEAD", HEAD).replace("NAME", &n);
        c.add(format!("anchors: {label}"), text, expect);
    }
}

/// kustomize's own annotation domains, directly, through an alias, escaped; look-alikes kept.
fn annotations(c: &mut Corpus) {
    for key in [
        "config.kubernetes.io/local-config",
        "config.kubernetes.io/index",
        "config.kubernetes.io/path",
        "internal.config.kubernetes.io/previousNames",
        "internal.config.kubernetes.io/needsHashSuffix",
        "internal.config.kubernetes.io/annotations-migration-resource-id",
        "kustomize.config.k8s.io/behavior",
        "kustomize.config.k8s.io/needs-hash",
        "config.k8s.io/id",
    ] {
        for value in ["\"true\"", "\"false\"", "\"kind/name\""] {
            let n = c.name();
            c.add(
                format!("annotation {key}: {value}"),
                format!("{HEAD}metadata:\n  name: {n}\n  annotations:\n    {key}: {value}\n"),
                Expect::Refused(Incompat::ReservedAnnotation),
            );
        }
        let n = c.name();
        c.add(
            format!("annotation {key} through an alias"),
            format!("x: &a {{{key}: \"true\"}}\n{HEAD}metadata:\n  name: {n}\n  annotations: *a\n"),
            Expect::Refused(Incompat::ReservedAnnotation),
        );
        let escaped = key.replace('.', "\\x2E");
        let n = c.name();
        c.add(
            format!("annotation {key} escaped"),
            format!("{HEAD}metadata:\n  name: {n}\n  annotations:\n    \"{escaped}\": \"true\"\n"),
            Expect::Refused(Incompat::ReservedAnnotation),
        );
    }
    for key in [
        "example.com/config.kubernetes.io",
        "notconfig.kubernetes.io/x",
        "a",
    ] {
        let n = c.name();
        c.add(
            format!("annotation {key}"),
            format!("{HEAD}metadata:\n  name: {n}\n  annotations:\n    {key}: \"true\"\n"),
            Expect::Managed,
        );
    }
}

/// `kubectl kustomize dir`: its objects as JSON, or its error.
fn build(dir: &Path) -> Result<Vec<serde_json::Value>, String> {
    let out = Command::new("kubectl")
        .arg("kustomize")
        .arg(dir)
        .output()
        .expect("kubectl is on the machine");
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned());
    }
    let text = String::from_utf8(out.stdout).expect("utf8");
    let mut objects = Vec::new();
    for d in serde_yaml::Deserializer::from_str(&text) {
        let v: serde_yaml::Value =
            serde::Deserialize::deserialize(d).expect("kubectl's output parses");
        if !v.is_null() {
            objects.push(json(&v));
        }
    }
    Ok(objects)
}

/// A value as JSON, numbers as f64 (kustomize writes 1e3 as 1000).
fn json(v: &serde_yaml::Value) -> serde_json::Value {
    fn floats(v: serde_json::Value) -> serde_json::Value {
        match v {
            serde_json::Value::Number(n) => n
                .as_f64()
                .and_then(serde_json::Number::from_f64)
                .map_or(serde_json::Value::Null, serde_json::Value::Number),
            serde_json::Value::Array(a) => a.into_iter().map(floats).collect(),
            serde_json::Value::Object(o) => o.into_iter().map(|(k, v)| (k, floats(v))).collect(),
            other => other,
        }
    }
    floats(serde_json::to_value(v).expect("as json"))
}

/// A folder with a kustomization listing `files` (copied in from `from`).
fn kustomize_dir(dir: &Path, from: &Path, files: &[&str]) {
    std::fs::create_dir_all(dir).expect("mkdir");
    let flat = |f: &str| f.replace('/', "_");
    for f in files {
        std::fs::copy(from.join(f), dir.join(flat(f))).expect("copy");
    }
    let list: String = files.iter().map(|f| format!("- {}\n", flat(f))).collect();
    std::fs::write(
        dir.join("kustomization.yaml"),
        format!("resources:\n{list}"),
    )
    .expect("write");
}

/// Build `files` together; when that fails, each alone, naming every one that fails.
fn build_all(dir: &Path, from: &Path, files: &[&str]) -> Vec<serde_json::Value> {
    kustomize_dir(dir, from, files);
    match build(dir) {
        Ok(objects) => objects,
        Err(e) => {
            let mut failing = Vec::new();
            for f in files {
                let alone = dir.with_file_name(format!("alone-{}", f.replace('/', "_")));
                kustomize_dir(&alone, from, &[f]);
                if let Err(e) = build(&alone) {
                    failing.push(format!("{f}: {e}"));
                }
            }
            panic!(
                "kustomize cannot build {} ({e}); alone, these fail:\n{}",
                dir.display(),
                failing.join("\n")
            );
        }
    }
}

fn identity(o: &serde_json::Value) -> (String, String) {
    (
        o["kind"].as_str().unwrap_or_default().to_string(),
        o["metadata"]["name"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
    )
}

#[test]
fn what_fgd_manages_kustomize_builds_as_fgd_reads_it() {
    let corpus = corpus();
    let (t, f) = fabric();
    let originals = t.path().join("originals");
    std::fs::create_dir_all(&originals).expect("mkdir");
    for case in &corpus.cases {
        write(&f.join("raw").join(&case.file), &case.text);
        write(&originals.join(&case.file), &case.text);
    }
    let started = std::time::Instant::now();
    let r = fgd(&["ingest", s(&f), "--json"]);
    eprintln!(
        "ingest of {} documents: {:?}",
        corpus.cases.len(),
        started.elapsed()
    );
    assert!(r.code <= 1, "ingest failed: {}\n{}", r.stdout, r.stderr);
    let mut fates: BTreeMap<String, serde_json::Value> = BTreeMap::new();
    for e in r.of("document-classified") {
        let file = e["file"]
            .as_str()
            .unwrap_or_default()
            .trim_start_matches("raw/");
        fates.insert(file.to_string(), e);
    }

    let mut problems = Vec::new();
    let mut managed: Vec<(&Case, String)> = Vec::new();
    let mut refused = BTreeMap::<&str, usize>::new();
    for case in &corpus.cases {
        let Some(fate) = fates.get(&case.file) else {
            problems.push(format!("{}: no fate for {}", case.label, case.file));
            continue;
        };
        let what = format!("{} ({}): {}", case.label, case.file, fate);
        if fate["fate"] == "managed" {
            let path = fate["path"].as_str().unwrap_or_default().to_string();
            if !matches!(case.expect, Expect::Managed | Expect::Either) {
                problems.push(format!("managed, expected {:?}: {what}", case.expect));
            }
            managed.push((case, path));
            continue;
        }
        let code = fate["code"].as_str().unwrap_or_default();
        let reason = fate["reason"].as_str().unwrap_or_default();
        let class = Incompat::ALL
            .into_iter()
            .find(|c| reason.starts_with(&format!("{}: ", c.as_str())));
        if code == "kustomize-incompatible" {
            match class {
                Some(class) => *refused.entry(class.as_str()).or_default() += 1,
                None => problems.push(format!("refused without a class: {what}")),
            }
        }
        match case.expect {
            Expect::Managed => problems.push(format!("not managed: {what}")),
            Expect::Refused(want) if class != Some(want) || code != "kustomize-incompatible" => {
                problems.push(format!("expected {}: {what}", want.as_str()))
            }
            _ => {}
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert!(
        managed.len() > 200 && refused.values().sum::<usize>() > 300,
        "{} managed, refused by class {refused:?}",
        managed.len()
    );

    eprintln!("{} managed, refused by class {refused:?}", managed.len());
    // kustomize builds managed/ as fgd wrote it, and the raw files of the managed documents.
    let started = std::time::Instant::now();
    let built = build_all(
        &t.path().join("build-managed"),
        &f.join("managed"),
        &managed
            .iter()
            .map(|(_, p)| p.trim_start_matches("managed/"))
            .collect::<Vec<_>>(),
    );
    let raw_files: Vec<&str> = managed.iter().map(|(c, _)| c.file.as_str()).collect();
    let from_raw = build_all(&t.path().join("build-raw"), &originals, &raw_files);
    let index = |objects: Vec<serde_json::Value>| {
        let mut by_id: BTreeMap<(String, String), Vec<serde_json::Value>> = BTreeMap::new();
        for o in objects {
            by_id.entry(identity(&o)).or_default().push(o);
        }
        by_id
    };
    eprintln!("two kustomize builds: {:?}", started.elapsed());
    let (built, from_raw) = (index(built), index(from_raw));
    assert_eq!(built.values().map(Vec::len).sum::<usize>(), managed.len());

    for (case, path) in &managed {
        let name = path
            .rsplit('/')
            .next()
            .and_then(|n| n.strip_suffix(".yaml"))
            .unwrap_or_default();
        let id = ("VPC".to_string(), name.to_string());
        let what = format!("{} ({}, {path})", case.label, case.file);
        let (Some([ours]), Some([theirs])) = (
            built.get(&id).map(Vec::as_slice),
            from_raw.get(&id).map(Vec::as_slice),
        ) else {
            problems.push(format!(
                "{what}: kustomize did not build VPC/{name} exactly once from managed/ ({:?}) and from raw ({:?})",
                built.get(&id).map(Vec::len),
                from_raw.get(&id).map(Vec::len)
            ));
            continue;
        };
        if ours != theirs {
            problems.push(format!(
                "{what}: managed builds {ours}, raw builds {theirs}"
            ));
        }
        // fgd's reading (serde_yaml) of what it decides on.
        let doc: serde_yaml::Value = serde_yaml::from_str(&case.text).expect("managed parses");
        let read = json(&doc);
        for field in ["apiVersion", "kind", "metadata"] {
            let fgd = &read[field];
            let kustomize = &ours[field];
            if fgd != kustomize {
                problems.push(format!(
                    "{what}: {field}: fgd reads {fgd}, kustomize builds {kustomize}"
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
