//! What kustomize (and so Argo CD and Flux, which build `managed/` with it) reads otherwise
//! than fgd, by class. fgd manages a document only when go-yaml, the reader kustomize decodes
//! with, and serde_yaml read it the same; where fgd cannot show that, the whole class is
//! refused with the line to fix and what to write instead, rather than chasing each case.
//!
//! Most documents hold none of these constructs: the line checks are one pass over line starts,
//! and the node checks (`fidelity`, `styles`) run only when the pre-scan or the head walk saw
//! a byte or a key that could start one.

use super::goyaml::{plain_reads_as, GoReader};
use super::head::KeyFindings;
use super::{fidelity, Chunk, Pos};

/// The classes of valid YAML that kustomize reads otherwise than fgd (or not at all).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Incompat {
    /// A `%YAML` or `%TAG` directive: kustomize reads none.
    Directive,
    /// A line kustomize cuts the file at where YAML does not (or the reverse).
    Separator,
    /// A mapping key that is not a string to serde_yaml (`1: x`).
    NonStringKey,
    /// A plain key go-yaml reads as a number, boolean or timestamp (`08: x`).
    GoYamlKey,
    /// A plain value in the object's head (metadata, apiVersion, kind) that go-yaml reads as a
    /// number, boolean, null or timestamp where fgd reads text (`day: 2024-01-01`).
    GoYamlValue,
    /// `.inf` or `.nan`, which JSON cannot hold.
    NonFinite,
    /// An explicit tag other than `!!str`, `!!map` and `!!seq` on their own kinds of node:
    /// go-yaml acts on `!!binary`, `!!timestamp`, `!!merge`, `!`, ..., serde_yaml does not.
    ExplicitTag,
    /// A `<<` merge key in the object's head, or one go-yaml refuses (not a mapping).
    MergeKey,
    /// An escape go-yaml does not know (`\/`), or an escaped line break (`\N`, `\L`, `\P`)
    /// that kustomize writes back where it then reads a line break.
    Escape,
    /// An anchor name defined twice: serde_yaml and go-yaml resolve later aliases differently.
    DuplicateAnchor,
    /// A label or annotation value that is not text (`0x1F`, `true`, `~`, `{a: 1}`): kustomize
    /// turns annotation values into their text (a collection into an empty one), and the
    /// cluster takes only text for either.
    NotText,
    /// An annotation in kustomize's own domains (`config.kubernetes.io`, `config.k8s.io`):
    /// kustomize acts on it (drops the object, renames it, panics).
    ReservedAnnotation,
}

impl Incompat {
    pub fn as_str(self) -> &'static str {
        // Mirrors the serde names (a test keeps the two in step).
        match self {
            Incompat::Directive => "directive",
            Incompat::Separator => "separator",
            Incompat::NonStringKey => "non-string-key",
            Incompat::GoYamlKey => "go-yaml-key",
            Incompat::GoYamlValue => "go-yaml-value",
            Incompat::NonFinite => "non-finite",
            Incompat::ExplicitTag => "explicit-tag",
            Incompat::MergeKey => "merge-key",
            Incompat::Escape => "escape",
            Incompat::DuplicateAnchor => "duplicate-anchor",
            Incompat::NotText => "not-text",
            Incompat::ReservedAnnotation => "reserved-annotation",
        }
    }

    /// Every class, for tests and documentation.
    pub const ALL: [Incompat; 12] = [
        Incompat::Directive,
        Incompat::Separator,
        Incompat::NonStringKey,
        Incompat::GoYamlKey,
        Incompat::GoYamlValue,
        Incompat::NonFinite,
        Incompat::ExplicitTag,
        Incompat::MergeKey,
        Incompat::Escape,
        Incompat::DuplicateAnchor,
        Incompat::NotText,
        Incompat::ReservedAnnotation,
    ];

    /// The message for a document of this class: the class first, then `detail` (what and
    /// where, and what to write instead).
    pub fn message(self, detail: &str) -> String {
        format!("{}: {detail}", self.as_str())
    }
}

/// Valid YAML that kustomize (and so Argo CD and Flux, which build `managed/` with it) reads
/// otherwise than fgd or cannot read: in `managed/` such a document would stop the build of
/// every object of the fabric, or make an object other than the one fgd filed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unportable {
    pub class: Incompat,
    pub message: String,
    pub pos: Pos,
}

impl Unportable {
    pub fn new(class: Incompat, pos: Pos, detail: String) -> Unportable {
        Unportable {
            class,
            message: class.message(&detail),
            pos,
        }
    }
}

/// What the pre-scan saw that could start a construct the node checks look at: each only a
/// byte pattern, found blind to quotes and comments (a false alarm costs one event walk).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Rare {
    /// `!` where a node can start: a tag.
    pub tag: bool,
    /// `&` where a node can start: an anchor.
    pub anchor: bool,
    /// `<<`: a merge key.
    pub merge: bool,
    /// `\/`, `\N`, `\L`, `\P`, `\x`, `\u`, `\U`: an escape go-yaml refuses, or one that
    /// can make a line break kustomize cannot write back.
    pub escape: bool,
}

impl Rare {
    pub fn any(&self) -> bool {
        self.tag || self.anchor || self.merge || self.escape
    }
}

/// A value of the head of `doc` (the document of `chunk` of `text`) that go-yaml reads as
/// another type than text because it is written plain (see `fidelity::plain_in_head`). The
/// events are read only when a value of the head is such a text (`metadata.name` excepted:
/// classification judges it, as `bad-name`).
pub fn plain_in_head(text: &str, chunk: &Chunk, doc: &serde_yaml::Value) -> Option<Unportable> {
    fn suspect(v: &serde_yaml::Value) -> bool {
        match v {
            serde_yaml::Value::String(s) => plain_reads_as(s, GoReader::V3).is_some(),
            serde_yaml::Value::Sequence(items) => items.iter().any(suspect),
            serde_yaml::Value::Mapping(m) => m.values().any(suspect),
            serde_yaml::Value::Tagged(t) => suspect(&t.value),
            _ => false,
        }
    }
    let m = doc.as_mapping()?;
    let metadata_suspect = match super::field(m, "metadata") {
        Some(serde_yaml::Value::Mapping(meta)) => meta
            .iter()
            .any(|(k, v)| k.as_str() != Some("name") && suspect(v)),
        _ => false,
    };
    let head_suspect = ["apiVersion", "kind"]
        .iter()
        .any(|k| super::field(m, k).is_some_and(suspect));
    if !metadata_suspect && !head_suspect {
        return None;
    }
    let found = fidelity::plain_in_head(&text[chunk.range.clone()])?;
    Some(Unportable::new(
        found.class,
        Pos {
            line: found.pos.line + chunk.start.line - 1,
            column: found.pos.column,
        },
        found.detail,
    ))
}

/// What in one parsed document (`body`, the text of `chunk`) kustomize reads otherwise than
/// fgd: the first found, by lines, then keys and values, then tags, merges, escapes, anchors.
pub(super) fn unportable(
    body: &str,
    chunk: &Chunk,
    keys: &KeyFindings,
    rare: &Rare,
) -> Option<Unportable> {
    unportable_lines(body, chunk)
        .or_else(|| unportable_nodes(body, chunk, keys))
        .or_else(|| {
            if !rare.any() {
                return None;
            }
            let found = fidelity::check(body, rare)?;
            Some(Unportable::new(
                found.class,
                Pos {
                    line: found.pos.line + chunk.start.line - 1,
                    column: found.pos.column,
                },
                found.detail,
            ))
        })
}

/// Lines kustomize cannot read as YAML does: a `%` directive (it reads none), and a line other
/// than the first that starts with `---`. kustomize cuts a file at every such line that goes on
/// with nothing but blanks or a comment (Go's `TrimSpace`, which also trims Unicode spaces), and
/// refuses any other as an invalid separator; YAML ends a document only where `---` is followed
/// by a blank, so `---#` or `---` and a no-break space inside a scalar would cut the object in
/// two. A cut with nothing but comments before it (a comment block that travelled with its
/// document) is harmless. Only line starts are looked at.
fn unportable_lines(body: &str, chunk: &Chunk) -> Option<Unportable> {
    let at = |i: usize| Pos {
        line: chunk.start.line + body[..i].bytes().filter(|&b| b == b'\n').count(),
        column: 1,
    };
    let directive = |i: usize| {
        Unportable::new(
            Incompat::Directive,
            at(i),
            "a `%` directive (`%YAML`, `%TAG`): kustomize (Argo CD, Flux) reads no directives; remove the line".into(),
        )
    };
    if body.starts_with('%') {
        return Some(directive(0));
    }
    // One pass over the line starts (line feeds are found by memchr): this runs on every
    // document of an ingest. A directive anywhere is named before a separator.
    let mut cut = None;
    // Where the document's first node line starts: a cut before it loses nothing.
    let mut first_content: Option<usize> = None;
    for (i, _) in body.match_indices('\n') {
        let line = &body[i + 1..];
        // A directive stands before the document's first node; a `%` line after it is the
        // text of a multi-line scalar (or an error serde_yaml reported already).
        if line.starts_with('%') {
            if *first_content.get_or_insert_with(|| first_node_line(body)) > i {
                return Some(directive(i + 1));
            }
            continue;
        }
        if cut.is_some() || !line.starts_with("---") {
            continue;
        }
        // kustomize's separator is a whole line, its line feed included.
        let Some(end) = line.find('\n') else {
            continue;
        };
        let rest = line[3..end].trim();
        if !rest.is_empty() && !rest.starts_with('#') {
            cut = Some(Unportable::new(
                Incompat::Separator,
                at(i + 1),
                format!(
                    "`---` followed by `{}` on one line: kustomize (Argo CD, Flux) reads that only as a file's first line; put what follows `---` on the next line",
                    rest.chars().take(40).collect::<String>()
                ),
            ));
            continue;
        }
        let content = *first_content.get_or_insert_with(|| first_node_line(body));
        if content < i {
            cut = Some(Unportable::new(
                Incompat::Separator,
                at(i + 1),
                format!(
                    "the line `{}` inside the document: kustomize (Argo CD, Flux) cuts files at every line that starts with `---` and goes on with only blanks or a comment, so it would cut this object in two (YAML does not: `---` ends a document only when a space follows); indent the line or change it",
                    line[..end].trim_end().chars().take(40).collect::<String>()
                ),
            ));
        }
    }
    cut
}

/// The byte offset of the first line that is neither blank nor a comment (the text's length
/// when there is none).
fn first_node_line(body: &str) -> usize {
    let mut start = 0;
    for line in body.split_inclusive('\n') {
        let t = line.trim_start_matches([' ', '\t']);
        if !(t.trim_end().is_empty() || t.starts_with('#') || t.starts_with("---")) {
            return start;
        }
        start += line.len();
    }
    body.len()
}

/// What the head walk found that kustomize cannot read (see `head::KeyFindings`), placed and
/// named as written by the styles of the document's nodes (asked only when something was found).
fn unportable_nodes(body: &str, chunk: &Chunk, keys: &KeyFindings) -> Option<Unportable> {
    use super::styles::{scan, Want};
    if keys.odd.is_none() && !keys.go_suspect && !keys.non_finite {
        return None;
    }
    let found = scan(
        body,
        Want {
            go_keys: keys.go_suspect,
            odd_key: keys.odd.is_some(),
            non_finite: keys.non_finite,
            name: false,
        },
    );
    let in_file = |p: Pos| Pos {
        line: p.line + chunk.start.line - 1,
        column: p.column,
    };
    let at = chunk.content.unwrap_or(chunk.start);
    if let Some(k) = &keys.odd {
        let (pos, text) = found
            .odd_key
            .map_or((at, key_text(k)), |(p, t)| (in_file(p), t));
        return Some(Unportable::new(
            Incompat::NonStringKey,
            pos,
            format!(
                "the mapping key {text} is {}, not a string; kustomize (Argo CD, Flux) reads only string keys: quote it",
                key_type(k)
            ),
        ));
    }
    if let Some((pos, key, what)) = found.go_key {
        return Some(Unportable::new(
            Incompat::GoYamlKey,
            in_file(pos),
            format!(
                "the mapping key {key} is written plain, and kustomize (Argo CD, Flux) reads it, as YAML 1.1 does, as {what}, not a string, and then cannot build the fabric: quote it (\"{key}\")"
            ),
        ));
    }
    if !keys.non_finite {
        return None;
    }
    let (pos, value) = found
        .non_finite
        .map_or((at, "`.inf` or `.nan`".to_string()), |(p, v)| {
            (in_file(p), v)
        });
    Some(Unportable::new(
        Incompat::NonFinite,
        pos,
        format!(
            "the value {value} is not a finite number: kustomize (Argo CD, Flux) turns every object into JSON, which has no such numbers, and then cannot build the fabric; quote it if it is text"
        ),
    ))
}

fn key_text(k: &serde_yaml::Value) -> String {
    match k {
        serde_yaml::Value::Null => "null".into(),
        serde_yaml::Value::Bool(b) => b.to_string(),
        serde_yaml::Value::Number(n) => n.to_string(),
        serde_yaml::Value::String(s) => format!("{s:?}"),
        serde_yaml::Value::Sequence(_) | serde_yaml::Value::Mapping(_) => "`? ...`".into(),
        serde_yaml::Value::Tagged(t) => format!("{}", t.tag),
    }
}

fn key_type(k: &serde_yaml::Value) -> &'static str {
    match k {
        serde_yaml::Value::Null => "null",
        serde_yaml::Value::Bool(_) => "a boolean",
        serde_yaml::Value::Number(_) => "a number",
        serde_yaml::Value::String(_) => "a string",
        serde_yaml::Value::Sequence(_) => "a sequence",
        serde_yaml::Value::Mapping(_) => "a mapping",
        serde_yaml::Value::Tagged(_) => "tagged",
    }
}
