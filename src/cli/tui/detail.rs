//! The detail of the selected file as one scrollable text, wrapped to the pane: its problems
//! first (the selected one with the source around it, its column marked), then every
//! document's outcome, then the whole source with the problem lines marked. Nothing is cut:
//! messages wrap at spaces, long source lines continue on the next row. Tabs and other
//! characters that matter but do not show are drawn visibly.

use fgd::inspect::report::{place_label, severity_label};
use fgd::inspect::{DocOutcome, FileReport, Problem, Severity};
use unicode_width::UnicodeWidthChar;

use super::browse::Matcher;

/// What a piece of text is; the view gives each its style.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Plain,
    Heading,
    Error,
    Warning,
    Valid,
    Dim,
    /// A character drawn in place of one that does not show (a tab as →).
    Invisible,
    /// The column a problem is at.
    Caret,
    /// The selected problem's marker.
    Selected,
    /// A search match.
    Match,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DocLine(pub Vec<(Kind, String)>);

impl DocLine {
    fn plain(kind: Kind, text: impl Into<String>) -> DocLine {
        DocLine(vec![(kind, text.into())])
    }

    #[cfg(test)]
    pub fn text(&self) -> String {
        self.0.iter().map(|(_, t)| t.as_str()).collect()
    }
}

#[derive(Debug, Clone, Default)]
pub struct Doc {
    pub lines: Vec<DocLine>,
    /// The line each of the report's problems starts at.
    pub anchors: Vec<usize>,
}

/// What a document is built for: the cache key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocKey {
    pub seq: u64,
    pub width: usize,
    pub selected: usize,
    pub unicode: bool,
    pub search: Option<String>,
}

/// Display width of a character as this text draws it.
fn width_of(c: char) -> usize {
    c.width().unwrap_or(0)
}

/// Split `text` into rows of at most `width` columns, at spaces where it can (a word longer
/// than a row is split where it must be).
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    let width = width.max(8);
    let mut rows = Vec::new();
    let mut row = String::new();
    let mut used = 0;
    for word in text.split(' ') {
        let w: usize = word.chars().map(width_of).sum();
        if used > 0 && used + 1 + w > width {
            rows.push(std::mem::take(&mut row));
            used = 0;
        }
        if used > 0 {
            row.push(' ');
            used += 1;
        }
        for c in word.chars() {
            let cw = width_of(c);
            if used + cw > width {
                rows.push(std::mem::take(&mut row));
                used = 0;
            }
            row.push(c);
            used += cw;
        }
    }
    rows.push(row);
    rows
}

/// A source line as pieces, with what does not show drawn visibly: a tab as `→`, a
/// no-break space as `⍽`, other control characters as their control pictures (`␀`...). A
/// line break's `\r` (CRLF files) is dropped. One character stays one column, so a problem's
/// column still points at its character.
pub fn visible(text: &str, unicode: bool) -> Vec<(Kind, String)> {
    let text = text.strip_suffix('\r').unwrap_or(text);
    let mut out: Vec<(Kind, String)> = Vec::new();
    let mut push = |k: Kind, s: &str| match out.last_mut() {
        Some((last, t)) if *last == k => t.push_str(s),
        _ => out.push((k, s.to_string())),
    };
    for c in text.chars() {
        let shown = match c {
            '\t' => Some(if unicode { '→' } else { '>' }),
            '\u{a0}' => Some(if unicode { '⍽' } else { '_' }),
            c if c.is_control() => Some(if unicode {
                char::from_u32(0x2400 + c as u32).unwrap_or('?')
            } else {
                '?'
            }),
            _ => None,
        };
        match shown {
            Some(s) => push(Kind::Invisible, &s.to_string()),
            None => push(Kind::Plain, &c.to_string()),
        }
    }
    out
}

/// Cut pieces into rows of `width` columns, at a space where a row has one (a word is split
/// only when it is wider than a row).
fn cut(pieces: Vec<(Kind, String)>, width: usize) -> Vec<Vec<(Kind, String)>> {
    let width = width.max(4);
    let mut rows: Vec<Vec<(Kind, char)>> = vec![Vec::new()];
    let mut used = 0;
    for (k, text) in pieces {
        for c in text.chars() {
            let w = width_of(c);
            if used + w > width {
                let row = rows.last_mut().map(std::mem::take).unwrap_or_default();
                // Carry the last word over to the next row.
                let (keep, carry) = match row.iter().rposition(|(_, c)| *c == ' ') {
                    Some(sp) if sp + 1 < row.len() => {
                        let mut keep = row;
                        let carry = keep.split_off(sp + 1);
                        (keep, carry)
                    }
                    _ => (row, Vec::new()),
                };
                used = carry.iter().map(|(_, c)| width_of(*c)).sum();
                if let Some(last) = rows.last_mut() {
                    *last = keep;
                }
                rows.push(carry);
            }
            if let Some(row) = rows.last_mut() {
                row.push((k, c));
            }
            used += w;
        }
    }
    rows.into_iter()
        .map(|row| {
            let mut out: Vec<(Kind, String)> = Vec::new();
            for (k, c) in row {
                match out.last_mut() {
                    Some((last, t)) if *last == k => t.push(c),
                    _ => out.push((k, c.to_string())),
                }
            }
            out
        })
        .collect()
}

fn symbol(s: Severity, unicode: bool) -> (&'static str, Kind) {
    match (s, unicode) {
        (Severity::Error, true) => ("✗", Kind::Error),
        (Severity::Error, false) => ("x", Kind::Error),
        (Severity::Warning, true) => ("!", Kind::Warning),
        (Severity::Warning, false) => ("!", Kind::Warning),
    }
}

fn plural(n: usize, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

fn place(p: &Problem) -> String {
    if p.line == 0 {
        "whole file".into()
    } else {
        format!("{}:{}", p.line, p.column)
    }
}

/// The gutter of source line `n`: its mark, its number, a bar.
fn gutter(
    n: usize,
    digits: usize,
    mark: Option<(&'static str, Kind)>,
    unicode: bool,
) -> Vec<(Kind, String)> {
    let bar = if unicode { "│" } else { "|" };
    let (m, k) = mark.unwrap_or((" ", Kind::Dim));
    let w = digits + 1;
    vec![(k, format!("{m}{n:>w$} ")), (Kind::Dim, format!("{bar} "))]
}

/// Source lines `from..=to` (1-based) with their gutters, wrapped to `width`.
fn source(
    report: &FileReport,
    from: usize,
    to: usize,
    width: usize,
    unicode: bool,
    caret: Option<&Problem>,
    out: &mut Vec<DocLine>,
) {
    let digits = report.lines.len().max(1).to_string().len();
    let inner = width.saturating_sub(digits + 5);
    let pad = digits + 3;
    let cont = if unicode { "┆" } else { ":" };
    for n in from.max(1)..=to.min(report.lines.len()) {
        let mark = report
            .problems
            .iter()
            .filter(|p| p.line == n)
            .map(|p| p.severity)
            .min()
            .map(|s| symbol(s, unicode));
        for (i, row) in cut(visible(&report.lines[n - 1], unicode), inner)
            .into_iter()
            .enumerate()
        {
            let mut line = if i == 0 {
                gutter(n, digits, mark, unicode)
            } else {
                vec![(Kind::Dim, format!("{:pad$}{cont} ", ""))]
            };
            line.extend(row);
            out.push(DocLine(line));
        }
        if let Some(p) = caret.filter(|p| p.line == n && p.column > 0) {
            let bar = if unicode { "│" } else { "|" };
            let before = (p.column - 1).min(inner.saturating_sub(1));
            out.push(DocLine(vec![
                (Kind::Dim, format!("{:pad$}{bar} ", "")),
                (Kind::Plain, " ".repeat(before)),
                (Kind::Caret, "^".into()),
            ]));
        }
    }
}

/// The detail of `report` at `width` columns, `selected` its selected problem.
pub fn build(
    report: &FileReport,
    width: usize,
    selected: usize,
    unicode: bool,
    search: Option<&str>,
) -> Doc {
    let width = width.max(20);
    let mut doc = Doc::default();
    let out = &mut doc.lines;
    let indent = 4;
    let wrapped = |kind: Kind, text: &str, out: &mut Vec<DocLine>| {
        for row in wrap(text, width - indent) {
            out.push(DocLine(vec![
                (Kind::Plain, " ".repeat(indent)),
                (kind, row),
            ]));
        }
    };
    let n = report.problems.len();
    if n > 0 {
        out.push(DocLine::plain(
            Kind::Heading,
            plural(n, "problem", "problems"),
        ));
    }
    for (i, p) in report.problems.iter().enumerate() {
        doc.anchors.push(out.len());
        let (sym, kind) = symbol(p.severity, unicode);
        let marker = match (i == selected, unicode) {
            (true, true) => "▶ ",
            (true, false) => "> ",
            (false, _) => "  ",
        };
        let mut head = vec![
            (Kind::Selected, marker.to_string()),
            (kind, format!("{sym} {} ", severity_label(p.severity))),
            (Kind::Plain, place(p)),
            (Kind::Dim, format!("  {}", p.rule.as_str())),
        ];
        if let Some(d) = p.document {
            head.push((Kind::Dim, format!("  doc {d}")));
        }
        if let Some(o) = &p.object {
            head.push((Kind::Dim, format!(" {o}")));
        }
        for row in cut(head, width) {
            out.push(DocLine(row));
        }
        wrapped(Kind::Plain, &p.message, out);
        if let Some(h) = &p.hint {
            wrapped(Kind::Warning, &format!("hint: {h}"), out);
        }
        if let Some(s) = &p.see_also {
            wrapped(Kind::Dim, &format!("see also: {}", place_label(s)), out);
        }
        if i == selected && p.line > 0 {
            source(
                report,
                p.line.saturating_sub(2),
                p.line + 2,
                width,
                unicode,
                Some(p),
                out,
            );
        }
    }
    if !report.documents.is_empty() {
        if n > 0 {
            out.push(DocLine::default());
        }
        let docs = &report.documents;
        let managed = docs
            .iter()
            .filter(|d| matches!(d.outcome, DocOutcome::Managed { .. }))
            .count();
        out.push(DocLine::plain(
            Kind::Heading,
            format!(
                "{}, {managed} managed",
                plural(docs.len(), "document", "documents")
            ),
        ));
        for d in docs {
            let obj = d.object.as_deref().unwrap_or("-");
            let (sym, kind, what) = match &d.outcome {
                DocOutcome::Managed { path } => (
                    if unicode { "✓" } else { "+" },
                    Kind::Valid,
                    format!("-> {path}"),
                ),
                DocOutcome::Unmanaged { rule } => (
                    if unicode { "✗" } else { "x" },
                    Kind::Error,
                    format!("unmanaged [{}]", rule.as_str()),
                ),
                DocOutcome::Empty => ("-", Kind::Dim, "only comments".into()),
            };
            let row = vec![
                (kind, format!("{sym} ")),
                (Kind::Plain, format!("doc {} ", d.number)),
                (
                    Kind::Dim,
                    format!("lines {}-{} ", d.first_line, d.last_line),
                ),
                (Kind::Plain, format!("{obj} ")),
                (kind, what),
            ];
            for r in cut(row, width) {
                out.push(DocLine(r));
            }
        }
    }
    if !report.notes.is_empty() {
        out.push(DocLine::default());
        for note in &report.notes {
            for row in wrap(note, width) {
                out.push(DocLine::plain(Kind::Plain, row));
            }
        }
    }
    if !report.lines.is_empty() {
        out.push(DocLine::default());
        out.push(DocLine::plain(
            Kind::Heading,
            format!("source, {}", plural(report.lines.len(), "line", "lines")),
        ));
        source(report, 1, report.lines.len(), width, unicode, None, out);
    }
    if let Some(s) = search.filter(|s| !s.is_empty()) {
        highlight(&mut doc.lines, s);
    }
    doc
}

/// Mark every match of `needle` (smart case) in the plain pieces of `lines`.
fn highlight(lines: &mut [DocLine], needle: &str) {
    let m = Matcher::new(needle);
    let len = needle.chars().count();
    for line in lines {
        let mut out = Vec::new();
        for (k, text) in std::mem::take(&mut line.0) {
            if k != Kind::Plain {
                out.push((k, text));
                continue;
            }
            let mut rest = text.as_str();
            while let Some(at) = m.find(rest) {
                let end = rest[at..]
                    .char_indices()
                    .nth(len)
                    .map_or(rest.len(), |(i, _)| at + i);
                if at > 0 {
                    out.push((Kind::Plain, rest[..at].to_string()));
                }
                out.push((Kind::Match, rest[at..end].to_string()));
                rest = &rest[end..];
                if end == at {
                    break;
                }
            }
            if !rest.is_empty() {
                out.push((Kind::Plain, rest.to_string()));
            }
        }
        line.0 = out;
    }
}

/// The next line after `from` (or before it, backwards) holding a match, wrapping around.
pub fn find_match(doc: &Doc, from: usize, forward: bool) -> Option<usize> {
    let n = doc.lines.len();
    let has = |i: usize| doc.lines[i].0.iter().any(|(k, _)| *k == Kind::Match);
    (1..=n)
        .map(|k| {
            if forward {
                (from + k) % n
            } else {
                (from + n * 2 - k) % n
            }
        })
        .find(|i| has(*i))
}

#[cfg(test)]
mod tests {
    use super::*;
    use fgd::inspect::text_report;

    #[test]
    fn messages_wrap_at_spaces_and_nothing_is_cut() {
        let rows = wrap(
            "did not find expected key, while parsing a block mapping",
            20,
        );
        assert!(rows.iter().all(|r| r.chars().count() <= 20), "{rows:?}");
        assert_eq!(
            rows.join(" "),
            "did not find expected key, while parsing a block mapping"
        );
        assert_eq!(wrap("abcdefghijklmnopqrstuvwxyz", 10).len(), 3);
    }

    #[test]
    fn tabs_and_other_invisibles_are_drawn_one_column_each() {
        let v = visible("a\tb\u{a0}c\u{1}\r", true);
        let text: String = v.iter().map(|(_, t)| t.as_str()).collect();
        assert_eq!(text, "a→b⍽c␁");
        assert_eq!(v[1], (Kind::Invisible, "→".into()));
        let ascii: String = visible("\tx", false)
            .iter()
            .map(|(_, t)| t.as_str())
            .collect();
        assert_eq!(ascii, ">x");
    }

    #[test]
    fn the_problem_comes_first_with_its_source_and_column() {
        let mut text = String::new();
        for i in 0..150 {
            text.push_str(&format!(
                "---\napiVersion: vpc.githedgehog.com/v1beta1\nkind: VPC\nmetadata:\n  name: v{i}\n"
            ));
        }
        text.push_str(
            "---\napiVersion: vpc.githedgehog.com/v1beta1\nkind: VPC\nmetadata:\n  name: Bad\n",
        );
        // The detail pane's layout is under test, not validation: the envelope only.
        let report = fgd::inspect::text_report_with(
            "raw/many.yaml",
            text.into_bytes(),
            fgd::validate::Validator::envelope_only(),
        );
        let doc = build(&report, 60, 0, true, None);
        let lines: Vec<String> = doc.lines.iter().map(DocLine::text).collect();
        assert_eq!(lines[0], "1 problem");
        let p = &report.problems[0];
        let head = format!("▶ ✗ error 755:{}  bad-name  doc 151", p.column);
        assert!(lines[1].starts_with(&head), "{lines:?}");
        let caret = lines
            .iter()
            .position(|l| l.ends_with('^'))
            .expect("a caret");
        let src = &lines[caret - 1];
        assert!(
            src.contains("755 │   name: Bad"),
            "{:?}",
            &lines[..caret + 1]
        );
        // The caret is under the problem's column of the source line.
        let col = |l: &str, at: usize| l[..at].chars().count();
        let text_start = col(src, src.find("│ ").unwrap()) + 2;
        let caret_at = col(&lines[caret], lines[caret].find('^').unwrap());
        assert_eq!(caret_at, text_start + p.column - 1);
        assert_eq!(doc.anchors, [1]);
    }

    #[test]
    fn a_search_marks_its_matches_and_is_found_again_round_the_end() {
        let report = text_report(
            "raw/a.yaml",
            b"kind: VPC\nmetadata:\n  name: Blue\n".to_vec(),
        );
        let doc = build(&report, 60, 0, true, Some("blue"));
        let hits: Vec<usize> = (0..doc.lines.len())
            .filter(|i| doc.lines[*i].0.iter().any(|(k, _)| *k == Kind::Match))
            .collect();
        assert!(!hits.is_empty());
        let last = *hits.last().unwrap();
        assert_eq!(find_match(&doc, last, true), Some(hits[0]));
    }
}
