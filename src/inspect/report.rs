//! One file, looked at closely: its problems (in order of place), every document's outcome
//! with the lines it spans, and its text. The dashboard's detail pane and its editor's live
//! validation show this; both go through `text_report`, the same analysis ingest runs.

use std::path::{Path, PathBuf};

use crate::fabric;
use crate::validate::analyze::{self, DocVerdict, FileVerdict};

use super::{read_regular, FileEntry, Place, Problem, Rule, Severity, Tree};

/// What became of one document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DocOutcome {
    Managed {
        path: String,
    },
    Unmanaged {
        rule: Rule,
    },
    /// Only comments or blank lines.
    Empty,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocReport {
    /// 1-based.
    pub number: usize,
    /// The lines it spans, 1-based and inclusive (its header comments included).
    pub first_line: usize,
    pub last_line: usize,
    pub object: Option<String>,
    pub outcome: DocOutcome,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FileReport {
    pub rel: String,
    /// In order of place.
    pub problems: Vec<Problem>,
    pub documents: Vec<DocReport>,
    /// The file's text, line by line (bytes that are not UTF-8 shown as U+FFFD).
    pub lines: Vec<String>,
    /// What else there is to say: where an unmanaged item came from, why a file cannot be
    /// shown, that a managed file is listed in the kustomization.
    pub notes: Vec<String>,
}

impl FileReport {
    /// The document that holds `line`.
    pub fn document_at(&self, line: usize) -> Option<&DocReport> {
        self.documents
            .iter()
            .find(|d| (d.first_line..=d.last_line).contains(&line))
    }
}

/// Byte offsets where each line starts, to turn offsets into line numbers.
fn line_starts(bytes: &[u8]) -> Vec<usize> {
    std::iter::once(0)
        .chain(
            bytes
                .iter()
                .enumerate()
                .filter(|(_, b)| **b == b'\n')
                .map(|(i, _)| i + 1),
        )
        .collect()
}

fn line_of(starts: &[usize], offset: usize) -> usize {
    starts.partition_point(|s| *s <= offset)
}

/// What the source shows at a problem that its message may not say.
fn hint_for(lines: &[String], p: &Problem) -> Option<String> {
    let text = lines.get(p.line.checked_sub(1)?)?;
    text.contains('\t').then(|| {
        "this line holds a tab (shown as →): YAML indents with spaces only; replace each tab \
         with spaces"
            .to_string()
    })
}

/// Text that is being edited or read from disk, judged as ingest would judge it at `rel`
/// (fabric-relative): under `managed/` it must also be the one object an ingest would write
/// at that very path.
pub fn text_report(rel: &str, bytes: Vec<u8>) -> FileReport {
    text_report_with(rel, bytes, crate::validate::Validator::shared_default())
}

/// `text_report`, with the object rules as `validator` runs them (a fabric's own settings:
/// `super::validator_for`).
pub fn text_report_with(
    rel: &str,
    bytes: Vec<u8>,
    validator: &crate::validate::Validator,
) -> FileReport {
    let format = crate::discover::format_of(rel).unwrap_or(crate::discover::Format::Yaml);
    let starts = line_starts(&bytes);
    let lines: Vec<String> = String::from_utf8_lossy(&bytes)
        .lines()
        .map(str::to_string)
        .collect();
    let last = lines.len().max(1);
    // The object rules run as the operator types; across objects after a save, by the scan.
    let analysis = analyze::analyze_with(rel, bytes, format, &Default::default(), validator);
    let mut report = FileReport {
        rel: rel.to_string(),
        lines,
        ..Default::default()
    };
    match &analysis.verdict {
        FileVerdict::Whole { code, reason, pos } => {
            let (line, column) = pos.map_or((0, 0), |p| (p.line, p.column));
            report.problems.push(Problem::error(
                line,
                column,
                Rule::Reason(*code),
                reason.clone(),
            ));
            report.documents.push(DocReport {
                number: 1,
                first_line: 1,
                last_line: last,
                object: None,
                outcome: DocOutcome::Unmanaged {
                    rule: Rule::Reason(*code),
                },
            });
        }
        FileVerdict::Docs(docs) => {
            for (i, d) in docs.iter().enumerate() {
                let first = d
                    .parts
                    .first()
                    .map_or(d.pos.line, |r| line_of(&starts, r.start));
                let next = docs
                    .get(i + 1)
                    .and_then(|n| n.parts.first())
                    .map(|r| line_of(&starts, r.start));
                let last_line = next.map_or(last, |n| n.saturating_sub(1).max(first));
                let outcome = match &d.verdict {
                    DocVerdict::Managed { path, .. } => DocOutcome::Managed {
                        path: format!("{}/{path}", fabric::MANAGED),
                    },
                    DocVerdict::Unmanaged { code, reason, .. } => {
                        // An invalid spec is said by its problems, one by one, below.
                        if *code != crate::classify::ReasonCode::InvalidSpec
                            || d.problems.is_empty()
                        {
                            let mut p = Problem::error(
                                d.pos.line,
                                d.pos.column,
                                Rule::Reason(*code),
                                reason.clone(),
                            );
                            p.document = Some(d.index + 1);
                            p.object = d.verdict.object();
                            report.problems.push(p);
                        }
                        DocOutcome::Unmanaged {
                            rule: Rule::Reason(*code),
                        }
                    }
                    DocVerdict::Empty => DocOutcome::Empty,
                };
                for sp in d.problems.iter() {
                    let mut p = super::spec_problem(sp.clone(), d.verdict.object());
                    p.document = Some(d.index + 1);
                    report.problems.push(p);
                }
                report.documents.push(DocReport {
                    number: d.index + 1,
                    first_line: first.min(d.pos.line),
                    last_line,
                    object: d.verdict.object(),
                    outcome,
                });
            }
        }
    }
    if rel.starts_with(&format!("{}/", fabric::MANAGED)) {
        if let Some((why, line)) = analyze::problem_as_managed(rel, &analysis) {
            // A document already shown unmanaged needs no second copy of its reason.
            let why = if report.problems.is_empty() {
                why
            } else {
                "cannot be saved here: managed/ takes only what ingest would write at this path"
                    .into()
            };
            report
                .problems
                .push(Problem::error(line.unwrap_or(0), 1, Rule::ManagedFile, why));
        }
    }
    finish(&mut report);
    report
}

/// Problems in order of place, each with what its line shows.
fn finish(report: &mut FileReport) {
    report.problems.sort_by_key(|p| (p.line, p.column));
    for i in 0..report.problems.len() {
        let hint = hint_for(&report.lines, &report.problems[i]);
        report.problems[i].hint = hint;
    }
}

/// The report on one file of a fabric as it is on disk. Blocking (it reads and analyses the
/// file): front ends call it off their event loop.
pub fn file_report(root: &Path, entry: &FileEntry) -> FileReport {
    let empty = FileReport {
        rel: entry.rel.clone(),
        ..Default::default()
    };
    if entry.unnamable {
        let mut r = empty;
        r.notes.extend(entry.note.clone());
        return r;
    }
    let path = root.join(&entry.rel);
    let bytes = match read_regular(&path) {
        Ok(b) => b,
        Err(e) => {
            let mut r = empty;
            r.notes.extend(entry.note.clone());
            r.notes.push(format!("cannot show it: {e}"));
            return r;
        }
    };
    match entry.tree {
        Tree::Raw => {
            let mut r = text_report_with(&entry.rel, bytes, &super::validator_for(root));
            // A conflict is between files: the scan of the whole raw/ knows it, this file
            // alone does not.
            for p in &entry.problems {
                if p.rule.is(crate::classify::ReasonCode::Conflict) && !r.problems.contains(p) {
                    let doc = p.document.and_then(|n| r.documents.get_mut(n - 1));
                    if let Some(d) = doc {
                        d.outcome = DocOutcome::Unmanaged {
                            rule: p.rule.clone(),
                        };
                    }
                    r.problems.push(p.clone());
                }
            }
            finish(&mut r);
            r.notes.extend(entry.note.clone());
            r
        }
        Tree::Managed => {
            let mut r = text_report_with(&entry.rel, bytes, &super::validator_for(root));
            if r.problems.is_empty() {
                r.notes.push(format!(
                    "managed object, listed in {}",
                    fabric::KUSTOMIZATION
                ));
            }
            r
        }
        Tree::Unmanaged if entry.state == super::FileState::Valid => {
            let name = entry
                .rel
                .strip_suffix(fabric::UNMANAGED_SUFFIX)
                .unwrap_or(&entry.rel);
            let mut r = text_report_with(name, bytes, &super::validator_for(root));
            r.rel = entry.rel.clone();
            r.notes.extend(entry.note.clone());
            r
        }
        Tree::Unmanaged => unmanaged_report(&path, entry, bytes),
    }
}

/// An unmanaged item's reason file, read back.
pub struct ReasonRecord {
    pub path: PathBuf,
    pub problems: Vec<Problem>,
    pub source: String,
    pub batch: String,
    pub at: String,
}

/// An unmanaged item's reason file beside it, and what it says, if it can be read.
pub fn reason_record(item: &Path) -> Option<ReasonRecord> {
    let path = PathBuf::from(format!("{}{}", item.display(), fabric::REASON_SUFFIX));
    let v: serde_json::Value = serde_json::from_slice(&read_regular(&path).ok()?).ok()?;
    let s = |v: &serde_json::Value, k: &str| v[k].as_str().unwrap_or("?").to_string();
    let n = |v: &serde_json::Value, k: &str| v[k].as_u64().unwrap_or(0) as usize;
    let source = s(&v, "source");
    let problem = |d: &serde_json::Value| {
        let mut p = Problem::error(
            n(d, "line"),
            n(d, "column"),
            Rule::Recorded(s(d, "code")),
            s(d, "reason"),
        );
        p.object = d["object"].as_str().map(str::to_string);
        p
    };
    let mut problems: Vec<Problem> = v["documents"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|d| {
            let mut p = problem(d);
            p.document = d["document"].as_u64().map(|n| n as usize);
            p
        })
        .collect();
    if problems.is_empty() {
        problems.push(problem(&v));
    }
    problems.sort_by_key(|p| (p.line, p.column));
    Some(ReasonRecord {
        path,
        problems,
        source,
        batch: s(&v, "batch"),
        at: s(&v, "at"),
    })
}

/// An unmanaged item: its reason file's problems, at the lines of the item (a byte-for-byte
/// copy of the original, so the lines match).
fn unmanaged_report(item: &Path, entry: &FileEntry, bytes: Vec<u8>) -> FileReport {
    let mut r = FileReport {
        rel: entry.rel.clone(),
        lines: String::from_utf8_lossy(&bytes)
            .lines()
            .map(str::to_string)
            .collect(),
        ..Default::default()
    };
    match reason_record(item) {
        None => {
            r.problems = entry.problems.clone();
            r.notes
                .push("no readable reason file beside it (fgd writes one for every item)".into());
        }
        Some(rec) => {
            r.problems = rec.problems;
            r.notes.push(format!(
                "from {} in batch {} at {}",
                rec.source, rec.batch, rec.at
            ));
            let name = rec
                .path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            r.notes.push(format!(
                "reason file: {name} (adopt sends the item back to raw/)"
            ));
        }
    }
    finish(&mut r);
    r
}

/// A place named in a problem, for its "see also" line.
pub fn place_label(p: &Place) -> String {
    format!("{}:{}:{}", p.file, p.line, p.column)
}

/// "error" or "warning".
pub fn severity_label(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const VPCS: &str = "# a header\napiVersion: vpc.githedgehog.com/v1beta1\nkind: VPC\nmetadata:\n  name: red\nspec: {subnets: {default: {subnet: 10.0.1.0/24, vlan: 1001}}}\n---\napiVersion: vpc.githedgehog.com/v1beta1\nkind: VPC\nmetadata:\n  name: Green\nspec: {subnets: {default: {subnet: 10.0.2.0/24, vlan: 1002}}}\n";

    #[test]
    fn documents_know_their_lines_and_problems_their_place() {
        let r = text_report("raw/vpcs.yaml", VPCS.as_bytes().to_vec());
        let spans: Vec<(usize, usize)> = r
            .documents
            .iter()
            .map(|d| (d.first_line, d.last_line))
            .collect();
        assert_eq!(spans, [(1, 7), (8, 12)], "{:?}", r.documents);
        assert_eq!(r.document_at(10).map(|d| d.number), Some(2));
        let [p] = &r.problems[..] else {
            panic!("{:?}", r.problems)
        };
        assert_eq!((p.line, p.column, p.document), (11, 3, Some(2)));
        assert!(p.rule.is(crate::classify::ReasonCode::BadName));
        assert_eq!(p.object.as_deref(), Some("VPC/Green"));
    }

    #[test]
    fn a_tab_on_the_problem_line_is_said() {
        let text = "apiVersion: vpc.githedgehog.com/v1beta1\nkind: VPC\nmetadata:\n\tname: x\n";
        let r = text_report("raw/tabs.yaml", text.as_bytes().to_vec());
        let p = r.problems.first().expect("a syntax problem");
        assert_eq!(p.line, 4);
        assert!(
            p.hint.as_deref().is_some_and(|h| h.contains("tab")),
            "{p:?}"
        );
    }

    #[test]
    fn a_managed_file_holding_another_object_is_a_problem_of_its_own() {
        let r = text_report("managed/vpcs/blue.yaml", VPCS.as_bytes().to_vec());
        assert!(
            r.problems.iter().any(|p| p.rule == Rule::ManagedFile),
            "{:?}",
            r.problems
        );
    }
}
