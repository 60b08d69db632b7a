//! `fgd validate --output junit|sarif`, as CI systems read them: the XML parsed by a real XML
//! parser (Python's), the SARIF as JSON, each problem at its file, line and column.

use std::io::Write;
use std::process::{Command, Stdio};

use crate::common::{fgd_all_rules, s, write};

const DOCS: &str = "apiVersion: vpc.githedgehog.com/v1beta1\nkind: VPC\nmetadata:\n  name: web\nspec:\n  subnets:\n    default:\n      subnet: 10.0.1.0/24\n      vlan: \"x\"\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\n---\napiVersion: vpc.githedgehog.com/v1beta1\nkind: VPC\nmetadata:\n  name: ok\nspec:\n  subnets:\n    default:\n      subnet: 10.0.2.0/24\n      vlan: 1002\n";

/// A fabric whose raw/a.yaml holds a VPC with a quoted VLAN (line 9, column 13), a ConfigMap
/// (line 11) and a valid VPC.
fn fabric() -> (tempfile::TempDir, std::path::PathBuf) {
    let t = tempfile::tempdir().expect("tempdir");
    let f = t.path().join("fab");
    assert_eq!(fgd_all_rules(&["init", s(&f)]).code, 0);
    write(&f.join("raw/a.yaml"), DOCS);
    (t, f)
}

/// The JUnit report as a real XML parser reads it: per test case, its name and the type and
/// text of each failure.
fn parsed_junit(xml: &str) -> String {
    let script = r#"
import sys, xml.etree.ElementTree as ET
root = ET.fromstring(sys.stdin.read())
print('suites', root.get('tests'), root.get('failures'))
for case in root.iter('testcase'):
    for f in case.findall('failure'):
        print(case.get('name'), f.get('type'), f.text)
    if not case.findall('failure'):
        print(case.get('name'), 'passed')
"#;
    let mut child = Command::new("python3")
        .args(["-c", script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(xml.as_bytes())
        .expect("write");
    let out = child.wait_with_output().expect("python3");
    assert!(
        out.status.success(),
        "not well-formed XML: {}\n{xml}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn junit_has_a_test_case_per_document_and_a_failure_per_error_at_its_place() {
    let (_t, f) = fabric();
    let r = fgd_all_rules(&["validate", "--output", "junit", s(&f)]);
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    let file = f.join("raw/a.yaml");
    let file = s(&file);
    let cases = parsed_junit(&r.stdout);
    let lines: Vec<&str> = cases.lines().collect();
    assert_eq!(
        lines,
        [
            "suites 3 2".to_string(),
            format!("VPC/web GEN-06 {file}:9:13"),
            format!("ConfigMap/cm not-hedgehog {file}:11:1"),
            "VPC/ok passed".to_string(),
        ],
        "{}",
        r.stdout
    );
}

#[test]
fn sarif_names_each_rule_and_places_each_result() {
    let (_t, f) = fabric();
    let r = fgd_all_rules(&["validate", "--output", "sarif", s(&f)]);
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).expect("SARIF is JSON");
    assert_eq!(v["version"], "2.1.0");
    let run = &v["runs"][0];
    assert_eq!(run["tool"]["driver"]["name"], "fgd");
    let results = run["results"].as_array().expect("results");
    let placed: Vec<(String, String, i64, i64)> = results
        .iter()
        .map(|x| {
            let at = &x["locations"][0]["physicalLocation"];
            (
                x["ruleId"].as_str().unwrap_or_default().to_string(),
                x["level"].as_str().unwrap_or_default().to_string(),
                at["region"]["startLine"].as_i64().unwrap_or_default(),
                at["region"]["startColumn"].as_i64().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        placed,
        [
            ("GEN-06".into(), "error".into(), 9, 13),
            ("fgd/not-hedgehog".into(), "error".into(), 11, 1),
        ]
    );
    // Every result's rule is described in the driver's rules.
    let described: Vec<&str> = run["tool"]["driver"]["rules"]
        .as_array()
        .expect("rules")
        .iter()
        .filter_map(|r| r["id"].as_str())
        .collect();
    for (rule, ..) in &placed {
        assert!(
            described.contains(&rule.as_str()),
            "{rule} not in {described:?}"
        );
    }
    let uri = results[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        .as_str()
        .unwrap_or_default();
    assert!(uri.ends_with("raw/a.yaml"), "{uri}");
}
