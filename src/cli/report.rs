//! `fgd validate --output junit|sarif`: the run's events as a whole document for CI systems
//! (JUnit XML, read by most CI test reports) and code-scanning pages (SARIF 2.1.0), and
//! `fgd rules`, the rule catalogue.
//!
//! JUnit: a test suite per input file, a test case per document (named by its object), failed
//! when the document would not be managed or its object has an error-level problem; managed/
//! files with problems get their own cases. SARIF: a result per problem and per document that
//! would go to unmanaged/, with its file, line and column, the rule, and the other place of a
//! conflict as a related location.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use fgd::classify::ReasonCode;
use fgd::event::{Event, Fate, FileOutcome};
use fgd::validate::{rules, Problem, Severity};
use fgd::yaml::Pos;

#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Output {
    Text,
    Json,
    Junit,
    Sarif,
}

/// One document (or one whole file) as a test case.
#[derive(Default)]
struct Case {
    name: String,
    pos: Option<Pos>,
    /// Why it would not be managed (reason code, reason), when it would not.
    unmanaged: Option<(ReasonCode, String)>,
    problems: Vec<Problem>,
}

/// Cases by file, in the order the events named them.
fn cases(events: &[Event]) -> Vec<(String, Vec<Case>)> {
    let mut files: Vec<(String, Vec<Case>)> = Vec::new();
    let mut at: BTreeMap<String, usize> = BTreeMap::new();
    let mut file_of = |files: &mut Vec<(String, Vec<Case>)>, f: &str| -> usize {
        *at.entry(f.to_string()).or_insert_with(|| {
            files.push((f.to_string(), Vec::new()));
            files.len() - 1
        })
    };
    for e in events {
        match e {
            Event::DocumentClassified {
                file,
                index,
                pos,
                object,
                fate,
            } => {
                let fi = file_of(&mut files, file);
                files[fi].1.push(Case {
                    name: object
                        .clone()
                        .unwrap_or_else(|| format!("document {}", index + 1)),
                    pos: *pos,
                    unmanaged: match fate {
                        Fate::Unmanaged { code, reason, .. } => Some((*code, reason.clone())),
                        _ => None,
                    },
                    problems: Vec::new(),
                });
            }
            Event::FileFinished {
                file,
                outcome: FileOutcome::WholeUnmanaged { code, reason, .. },
            } => {
                let fi = file_of(&mut files, file);
                files[fi].1.push(Case {
                    name: "whole file".into(),
                    pos: None,
                    unmanaged: Some((*code, reason.clone())),
                    problems: Vec::new(),
                });
            }
            Event::Problem {
                file,
                object,
                problem,
            } => {
                let fi = file_of(&mut files, file);
                let name = object.clone().unwrap_or_else(|| "document".into());
                let list = &mut files[fi].1;
                match list.iter_mut().rev().find(|c| c.name == name) {
                    Some(c) => c.problems.push(problem.clone()),
                    None => list.push(Case {
                        name,
                        pos: Some(problem.pos),
                        unmanaged: None,
                        problems: vec![problem.clone()],
                    }),
                }
            }
            _ => {}
        }
    }
    files
}

fn xml(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // XML 1.0 cannot hold other control characters, even escaped.
            c if (c as u32) < 0x20 && !matches!(c, '\n' | '\t' | '\r') => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

fn failed(c: &Case) -> bool {
    c.unmanaged.is_some() || c.problems.iter().any(Problem::is_error)
}

/// JUnit XML of a validate run.
pub fn junit(events: &[Event]) -> String {
    let files = cases(events);
    let total: usize = files.iter().map(|(_, c)| c.len()).sum();
    let failures: usize = files
        .iter()
        .map(|(_, c)| c.iter().filter(|c| failed(c)).count())
        .sum();
    let mut s = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        s,
        "<testsuites name=\"fgd validate\" tests=\"{total}\" failures=\"{failures}\" errors=\"0\">"
    );
    for (file, cases) in &files {
        let f = cases.iter().filter(|c| failed(c)).count();
        let _ = writeln!(
            s,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{f}\" errors=\"0\">",
            xml(file),
            cases.len()
        );
        for c in cases {
            let at = match c.pos {
                Some(p) => format!("{file}:{}:{}", p.line, p.column),
                None => file.clone(),
            };
            let _ = write!(
                s,
                "    <testcase name=\"{}\" classname=\"{}\"",
                xml(&c.name),
                xml(&at)
            );
            if !failed(c) && c.problems.is_empty() {
                s.push_str("/>\n");
                continue;
            }
            s.push_str(">\n");
            // An object refused for its spec fails on each of its error problems, which are its
            // reason in full; any other fate is a failure of its own.
            let spec_refused = matches!(&c.unmanaged, Some((ReasonCode::InvalidSpec, _)))
                && c.problems.iter().any(|p| p.is_error());
            if let Some((code, reason)) = c.unmanaged.as_ref().filter(|_| !spec_refused) {
                let code = code.as_str();
                let _ = writeln!(
                    s,
                    "      <failure type=\"{}\" message=\"{}\">{}</failure>",
                    xml(code),
                    xml(&format!("unmanaged [{code}] {reason}")),
                    xml(&at)
                );
            }
            for p in c.problems.iter().filter(|p| p.is_error()) {
                let _ = writeln!(
                    s,
                    "      <failure type=\"{}\" message=\"{}\">{file}:{}:{}</failure>",
                    p.rule,
                    xml(&p.summary()),
                    p.pos.line,
                    p.pos.column
                );
            }
            let warnings: Vec<String> = c
                .problems
                .iter()
                .filter(|p| !p.is_error())
                .map(|p| {
                    format!(
                        "{file}:{}:{}: {}: {}",
                        p.pos.line,
                        p.pos.column,
                        p.severity.as_str(),
                        p.summary()
                    )
                })
                .collect();
            if !warnings.is_empty() {
                let _ = writeln!(
                    s,
                    "      <system-out>{}</system-out>",
                    xml(&warnings.join("\n"))
                );
            }
            s.push_str("    </testcase>\n");
        }
        s.push_str("  </testsuite>\n");
    }
    s.push_str("</testsuites>");
    s
}

fn level(sev: Severity) -> &'static str {
    match sev {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::NotChecked => "note",
    }
}

fn location(file: &str, pos: Option<Pos>) -> serde_json::Value {
    let mut physical = serde_json::json!({ "artifactLocation": { "uri": file } });
    if let Some(p) = pos {
        physical["region"] = serde_json::json!({ "startLine": p.line, "startColumn": p.column });
    }
    serde_json::json!({ "physicalLocation": physical })
}

/// SARIF 2.1.0 of a validate run.
pub fn sarif(events: &[Event]) -> String {
    let mut results = Vec::new();
    let mut used: BTreeMap<String, String> = BTreeMap::new();
    for (file, cases) in cases(events) {
        for c in cases {
            if let Some((code, reason)) = &c.unmanaged {
                // An invalid-spec document's problems are reported one by one below.
                if *code != ReasonCode::InvalidSpec {
                    let code = code.as_str();
                    let id = format!("fgd/{code}");
                    used.entry(id.clone())
                        .or_insert_with(|| format!("the document would go to unmanaged/ ({code})"));
                    results.push(serde_json::json!({
                        "ruleId": id,
                        "level": "error",
                        "message": { "text": format!("{}: unmanaged [{code}] {reason}", c.name) },
                        "locations": [location(&file, c.pos)],
                    }));
                }
            }
            for p in &c.problems {
                let title = rules::lookup(p.rule.0).map(|r| r.title).unwrap_or_default();
                used.entry(p.rule.0.to_string())
                    .or_insert_with(|| title.to_string());
                let mut r = serde_json::json!({
                    "ruleId": p.rule.0,
                    "level": level(p.severity),
                    "message": { "text": format!("{}: {}", c.name, p.summary()) },
                    "locations": [location(&file, Some(p.pos))],
                });
                if let Some(other) = &p.see_also {
                    r["relatedLocations"] = serde_json::json!([{
                        "id": 1,
                        "message": { "text": other.object },
                        "physicalLocation": location(&other.file, Some(other.pos))["physicalLocation"],
                    }]);
                }
                results.push(r);
            }
        }
    }
    let rules: Vec<serde_json::Value> = used
        .into_iter()
        .map(|(id, title)| serde_json::json!({ "id": id, "shortDescription": { "text": title } }))
        .collect();
    let doc = serde_json::json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "fgd",
                "version": env!("CARGO_PKG_VERSION"),
                "informationUri": "https://githedgehog.com",
                "rules": rules,
            }},
            "results": results,
        }],
    });
    serde_json::to_string_pretty(&doc).unwrap_or_default()
}

/// `fgd rules`: every rule of the catalogue, a line each (or NDJSON).
pub fn rules(json: bool) {
    for r in rules::catalogue() {
        let needs = match r.needs {
            rules::Need::Object => "object",
            rules::Need::Fabric => "fabric",
            rules::Need::Config => "fabric config",
            rules::Need::Profiles => "switch profiles",
            rules::Need::Cluster => "live cluster (not checked)",
            rules::Need::Committed => "committed fabric",
            rules::Need::RefusedKind => "moot (kind refused)",
        };
        if json {
            outln!(
                "{}",
                serde_json::json!({"rule": r.id.0, "needs": needs, "title": r.title})
            );
        } else {
            outln!("{:<8} {:<16} {}", r.id.0, needs, r.title);
        }
    }
}
