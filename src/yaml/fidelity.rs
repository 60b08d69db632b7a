//! The node checks behind `portable::Rare`: explicit tags, merge keys, escapes and anchors, read
//! from libyaml's events (go-yaml is a port of libyaml, so the events are what both readers
//! start from; serde_yaml's values have already forgotten tags, styles and anchors).
//!
//! Each check refuses a whole class rather than a list of known cases:
//! - a tag is accepted only where both readers give the same value whatever the text: `!!str`
//!   on a scalar, `!!map` on a mapping, `!!seq` on a sequence. go-yaml decodes `!!binary`,
//!   turns `!!timestamp` into a time (and fails on a non-date), reads `!` as "resolve as
//!   plain", merges `!!merge`; serde_yaml keeps text or fails on other tags.
//! - a merge key (`<<` written plain, as go-yaml recognises one) must take a mapping, an alias
//!   of one, or a sequence of those: go-yaml refuses any other ("map merge requires map or
//!   sequence of maps") and the whole fabric stops building. (Merge keys in the object's head
//!   are refused by `classify`, on the values, so an alias cannot bring one in.)
//! - a double-quoted scalar may not use `\/`, which libyaml (and so serde_yaml) accepts and
//!   go-yaml refuses ("found unknown escape character"); the other escapes are read alike.
//! - an anchor name may be defined once: serde_yaml 0.9 resolves an alias after the second
//!   definition to the first, go-yaml to the latest.

use std::collections::HashMap;

use super::events::{Event, Events, Scalar, Style};
use super::goyaml::{plain_reads_as, GoReader};
use super::portable::{Incompat, Rare};
use super::Pos;

const YAML_TAG: &str = "tag:yaml.org,2002:";
const STR_TAG: &str = "tag:yaml.org,2002:str";
const MAP_TAG: &str = "tag:yaml.org,2002:map";
const SEQ_TAG: &str = "tag:yaml.org,2002:seq";
const MERGE_TAG: &str = "tag:yaml.org,2002:merge";

/// The first problem found, chunk-relative.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Found {
    pub class: Incompat,
    pub pos: Pos,
    /// What and where, and what to write instead (without the class).
    pub detail: String,
}

/// What an anchor was put on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Node {
    Scalar,
    Map,
    Seq,
}

enum Frame {
    Map {
        next_is_key: bool,
        /// The key whose value comes next is a merge key.
        merge_value: bool,
    },
    Seq {
        /// This sequence is a merge key's value: each item must be a mapping.
        merge_items: bool,
    },
}

/// Walk the events of `text` (one document) for what `rare` says may be there. Stops at a
/// parse error with nothing found (serde_yaml has read the document, so there is none).
pub(super) fn check(text: &str, rare: &Rare) -> Option<Found> {
    let mut events = Events::new(text)?;
    let mut walk = Walk {
        text,
        rare: *rare,
        stack: Vec::new(),
        anchors: HashMap::new(),
        line_starts: None,
    };
    while let Some(event) = events.next() {
        if matches!(event, Event::StreamEnd) {
            break;
        }
        if let Some(found) = walk.step(event) {
            return Some(found);
        }
    }
    None
}

struct Walk<'t> {
    text: &'t str,
    rare: Rare,
    stack: Vec<Frame>,
    /// Each anchor defined so far: where, and on what.
    anchors: HashMap<String, (Pos, Node)>,
    /// Byte offset of each line's start, made when an escape is looked for.
    line_starts: Option<Vec<usize>>,
}

/// How a tag looks in a message: `!!binary` for YAML's own, as written otherwise.
fn shown(tag: &str) -> String {
    match tag.strip_prefix(YAML_TAG) {
        Some(short) => format!("!!{short}"),
        None => tag.to_string(),
    }
}

impl Walk<'_> {
    fn step(&mut self, event: Event) -> Option<Found> {
        // Where this node stands: a key, a merge key's value, or an item of a merge list.
        let (is_key, merge_value, merge_item) = match self.stack.last_mut() {
            Some(Frame::Map {
                next_is_key,
                merge_value,
            }) if !matches!(event, Event::End | Event::Other | Event::DocumentEnd) => {
                let is_key = *next_is_key;
                *next_is_key = !is_key;
                let value_of_merge = !is_key && std::mem::take(merge_value);
                (is_key, value_of_merge, false)
            }
            Some(Frame::Seq { merge_items }) => (false, false, *merge_items),
            _ => (false, false, false),
        };
        match event {
            Event::End => {
                self.stack.pop();
                None
            }
            Event::Other | Event::DocumentEnd | Event::StreamEnd => None,
            Event::Scalar(s, anchor) => {
                if let Some(found) = self.anchor(anchor, s.pos, Node::Scalar) {
                    return Some(found);
                }
                if let Some(found) = self.tag(s.tag.as_deref(), STR_TAG, "a scalar", s.pos) {
                    return Some(found);
                }
                if merge_value || merge_item {
                    return Some(merge_refused(s.pos, &format!("the scalar {:?}", s.text)));
                }
                if self.rare.escape && s.style == Style::DoubleQuoted {
                    if let Some(found) = self.escape(&s) {
                        return Some(found);
                    }
                }
                if is_key && self.rare.merge && s.plain && s.text == "<<" {
                    if let Some(Frame::Map { merge_value, .. }) = self.stack.last_mut() {
                        *merge_value = true;
                    }
                }
                None
            }
            Event::Alias(name, pos) => {
                let target = self.anchors.get(&name).map(|(_, node)| *node);
                if (merge_value || merge_item) && target != Some(Node::Map) {
                    // An alias of a list of mappings would do for go-yaml, but whether the
                    // list held only mappings is not kept: refused with the rest.
                    let what = match target {
                        Some(Node::Scalar) => format!("*{name}, an alias of a scalar"),
                        Some(Node::Seq) => format!("*{name}, an alias of a sequence"),
                        _ => format!("*{name}"),
                    };
                    return Some(merge_refused(pos, &what));
                }
                None
            }
            Event::MapStart { anchor, tag, pos } => {
                let found = self
                    .anchor(anchor, pos, Node::Map)
                    .or_else(|| self.tag(tag.as_deref(), MAP_TAG, "a mapping", pos));
                self.stack.push(Frame::Map {
                    next_is_key: true,
                    merge_value: false,
                });
                found
            }
            Event::SeqStart { anchor, tag, pos } => {
                let found = self
                    .anchor(anchor, pos, Node::Seq)
                    .or_else(|| self.tag(tag.as_deref(), SEQ_TAG, "a sequence", pos));
                if merge_item {
                    return Some(merge_refused(pos, "a sequence inside the merge list"));
                }
                self.stack.push(Frame::Seq {
                    merge_items: merge_value,
                });
                found
            }
        }
    }

    /// An anchor's definition: refused when its name was defined before.
    fn anchor(&mut self, anchor: Option<String>, pos: Pos, node: Node) -> Option<Found> {
        let name = anchor?;
        if let Some((first, _)) = self.anchors.get(&name) {
            return Some(Found {
                class: Incompat::DuplicateAnchor,
                pos,
                detail: format!(
                    "the anchor &{name} is defined again here (first on line {}): serde_yaml, which fgd reads with, and go-yaml, which kustomize reads with, resolve a later *{name} to different nodes, so the two could read different objects; give each anchor a name of its own",
                    first.line
                ),
            });
        }
        self.anchors.insert(name, (pos, node));
        None
    }

    /// A node's tag: refused unless it is `same`, the tag both readers give that kind of node.
    fn tag(&self, tag: Option<&str>, same: &str, node: &str, pos: Pos) -> Option<Found> {
        let tag = tag?;
        if tag == same {
            return None;
        }
        let instead = match tag {
            MERGE_TAG => "write `<<:` without the tag, or write the keys out",
            "tag:yaml.org,2002:binary" => "write the decoded text as a string, without the tag",
            "tag:yaml.org,2002:timestamp" => {
                "write the value quoted (\"2024-01-01\") without the tag: go-yaml turns it into a time and writes it back as 2024-01-01T00:00:00Z"
            }
            _ => "remove the tag (quote the value if it is text)",
        };
        Some(Found {
            class: Incompat::ExplicitTag,
            pos,
            detail: format!(
                "the tag {} on {node}: kustomize (Argo CD, Flux) reads tagged values with go-yaml, which acts on tags serde_yaml (fgd's reader) does not, so the two could read different objects (or kustomize could fail on the whole fabric); only !!str, !!map and !!seq are read alike: {instead}",
                shown(tag)
            ),
        })
    }

    /// A `\/` in a double-quoted scalar, found in its source text.
    fn escape(&mut self, s: &Scalar) -> Option<Found> {
        let starts = self.line_starts.get_or_insert_with(|| {
            std::iter::once(0)
                .chain(self.text.match_indices('\n').map(|(i, _)| i + 1))
                .collect()
        });
        let offset = |line: usize, column: usize| -> Option<usize> {
            let start = *starts.get(line)?;
            let rest = self.text.get(start..)?;
            Some(
                start
                    + rest
                        .char_indices()
                        .nth(column)
                        .map_or(rest.len(), |(i, _)| i),
            )
        };
        // A line break YAML 1.1 knows and JSON does not (NEL, LS, PS), escaped (written raw,
        // it is refused before parsing): kustomize writes a key holding one back unquoted and
        // then fails to read its own output.
        if s.text.contains(['\u{85}', '\u{2028}', '\u{2029}']) {
            return Some(Found {
                class: Incompat::Escape,
                pos: s.pos,
                detail: "an escaped Unicode line break (`\\N`, `\\L`, `\\P`, or U+0085, U+2028, U+2029 by number) in a double-quoted string: kustomize (Argo CD, Flux) writes such a text back where go-yaml reads it as a line break and fails on the whole fabric; write `\\n`, or leave it out".into(),
            });
        }
        let from = offset(s.pos.line - 1, s.pos.column - 1)?;
        let to = offset(s.end.0, s.end.1)?;
        let source = self.text.get(from..to)?;
        // The node may start with its anchor or tag; the scalar starts at its quote.
        let quote = source.find('"')?;
        let bytes = source.as_bytes();
        let mut i = quote + 1;
        while i + 1 < bytes.len() {
            if bytes[i] == b'\\' {
                if bytes[i + 1] == b'/' {
                    let before = &self.text[..from + i];
                    let line_start = before.rfind('\n').map_or(0, |n| n + 1);
                    return Some(Found {
                        class: Incompat::Escape,
                        pos: Pos {
                            line: before.matches('\n').count() + 1,
                            column: before[line_start..].chars().count() + 1,
                        },
                        detail: "the escape `\\/` in a double-quoted string: go-yaml, which kustomize (Argo CD, Flux) reads with, does not know it and fails on the whole fabric; write `/` alone".into(),
                    });
                }
                i += 2;
                continue;
            }
            i += 1;
        }
        None
    }
}

fn merge_refused(pos: Pos, what: &str) -> Found {
    Found {
        class: Incompat::MergeKey,
        pos,
        detail: format!(
            "a `<<` merge key takes {what}: go-yaml, which kustomize (Argo CD, Flux) reads with, merges only a mapping or a list of mappings and otherwise fails on the whole fabric (serde_yaml, fgd's reader, does not merge at all); merge an anchored mapping (`<<: *base`) or write the keys out"
        ),
    }
}

/// Where a node stands in the document, for `plain_in_head`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    /// The document's own mapping.
    Top,
    /// Inside `metadata` (at any depth), or the value of `apiVersion` or `kind`.
    Head,
    /// The value of `metadata.name`, judged on its own (`bad-name`, with Go's v2 booleans).
    Name,
    Other,
}

struct HeadFrame {
    role: Role,
    map: bool,
    next_is_key: bool,
    key: Option<String>,
    /// The anchor of this collection, to mark it when a Go-typed plain scalar is inside it.
    anchor: Option<String>,
}

/// A scalar of the object's head (`apiVersion`, `kind`, anything in `metadata` but the name)
/// that serde_yaml reads as text and go-yaml, because it is written plain, as a number, a
/// boolean, null or a timestamp: kustomize would build `labels: {day: 2024-01-01}` as
/// `2024-01-01T00:00:00Z` and `build: 010` as 8. Written directly or through an alias (of the
/// scalar, or of a collection holding one). Asked only when the head's values hold such a text.
pub(super) fn plain_in_head(text: &str) -> Option<Found> {
    let mut events = Events::new(text)?;
    let mut stack: Vec<HeadFrame> = Vec::new();
    // Anchors of scalars and collections that hold a Go-typed plain scalar: what Go reads.
    let mut typed: HashMap<String, &'static str> = HashMap::new();
    while let Some(event) = events.next() {
        let (is_key, role, key) = match stack.last_mut() {
            Some(f)
                if f.map
                    && !matches!(
                        event,
                        Event::End | Event::Other | Event::DocumentEnd | Event::StreamEnd
                    ) =>
            {
                let is_key = f.next_is_key;
                f.next_is_key = !is_key;
                let key = if is_key { None } else { f.key.take() };
                (is_key, f.role, key)
            }
            Some(f) => (false, f.role, None),
            None => (false, Role::Other, None),
        };
        // The role of this node, as a value.
        let map = matches!(event, Event::MapStart { .. });
        let role = match (role, key.as_deref()) {
            (Role::Top, Some("metadata" | "apiVersion" | "kind")) => Role::Head,
            (Role::Head, Some("name")) if stack.len() == 2 && stack[0].role == Role::Top => {
                Role::Name
            }
            (Role::Head | Role::Name, _) => Role::Head,
            _ => Role::Other,
        };
        match event {
            Event::StreamEnd => break,
            Event::Other | Event::DocumentEnd => {}
            Event::End => {
                stack.pop();
            }
            Event::Scalar(s, anchor) => {
                if is_key {
                    if let Some(f) = stack.last_mut() {
                        f.key = Some(s.text.clone());
                    }
                    continue;
                }
                // Typed by Go, text to serde_yaml (`1` is a number to both).
                let Some(what) = s
                    .plain
                    .then(|| plain_reads_as(&s.text, GoReader::V3))
                    .flatten()
                    .filter(|_| serde_reads_text(&s.text))
                else {
                    continue;
                };
                if role == Role::Head {
                    return Some(head_value(s.pos, &s.text, what));
                }
                // Inside anchored collections, or anchored itself: an alias may bring it in.
                for f in &stack {
                    if let Some(a) = &f.anchor {
                        typed.insert(a.clone(), what);
                    }
                }
                if let Some(a) = anchor {
                    typed.insert(a, what);
                }
            }
            Event::Alias(name, pos) => {
                if let (Role::Head, Some(what)) = (role, typed.get(&name)) {
                    return Some(head_value(pos, &format!("*{name}"), what));
                }
            }
            Event::MapStart { anchor, .. } | Event::SeqStart { anchor, .. } => {
                stack.push(HeadFrame {
                    role: if stack.is_empty() { Role::Top } else { role },
                    map,
                    next_is_key: true,
                    key: None,
                    anchor,
                });
            }
        }
    }
    None
}

/// Whether serde_yaml reads the plain scalar `text` as a string (`08`, `2024-01-01`).
fn serde_reads_text(text: &str) -> bool {
    matches!(
        serde_yaml::from_str::<serde_yaml::Value>(text),
        Ok(serde_yaml::Value::String(_))
    )
}

fn head_value(pos: Pos, text: &str, what: &str) -> Found {
    Found {
        class: Incompat::GoYamlValue,
        pos,
        detail: format!(
            "the value {text} in the object's head (apiVersion, kind, metadata) is written plain: kustomize (Argo CD, Flux) reads it, as go-yaml does, as {what} and writes it back as one (a date as 2024-01-01T00:00:00Z, 010 as 8), where fgd reads text, so the object would not be the one fgd filed: quote it"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all() -> Rare {
        Rare {
            tag: true,
            anchor: true,
            merge: true,
            escape: true,
        }
    }

    fn class(text: &str) -> Option<(Incompat, usize)> {
        check(text, &all()).map(|f| (f.class, f.pos.line))
    }

    #[test]
    fn tags_are_refused_except_the_ones_both_readers_read_alike() {
        for (text, line) in [
            ("a: 1\nb: !!binary aGVsbG8=\n", 2),
            ("a: !!timestamp 2024-01-01\n", 1),
            ("a:\n  !!timestamp 2024-01-01: x\n", 2),
            ("a: ! 12\n", 1),
            ("a: !custom x\n", 1),
            ("a: !!int 8\n", 1),
            ("a: !!str {b: 1}\n", 1),
            ("a: !!map [1]\n", 1),
            ("a:\n  !!merge <<: {b: 1}\n", 2),
            ("a: !<tag:yaml.org,2002:binary> aGVsbG8=\n", 1),
        ] {
            assert_eq!(class(text), Some((Incompat::ExplicitTag, line)), "{text:?}");
        }
        for text in [
            "a: !!str 08\n",
            "!!str 08: x\n",
            "a: !!map {b: 1}\n",
            "a: !!seq [1]\n",
            "a: \"!!binary x\"\nb: c!d\n",
        ] {
            assert_eq!(class(text), None, "{text:?}");
        }
    }

    #[test]
    fn merge_keys_must_take_mappings() {
        for (text, line) in [
            ("a:\n  <<: 5\n", 2),
            ("a:\n  <<: ~\n", 2),
            ("a:\n  <<: text\n", 2),
            ("s: &s 1\na:\n  <<: *s\n", 3),
            ("m: &m {x: 1}\na:\n  <<: [*m, 5]\n", 3),
            ("a:\n  <<: [[{x: 1}]]\n", 2),
            ("l: &l [{x: 1}]\na:\n  <<: *l\n", 3),
            ("a:\n  <<: *missing\n", 2),
        ] {
            assert_eq!(class(text), Some((Incompat::MergeKey, line)), "{text:?}");
        }
        for text in [
            "m: &m {x: 1}\na:\n  <<: *m\n  y: 2\n",
            "m: &m {x: 1}\nn: &n {z: 1}\na:\n  <<: [*m, *n, {w: 1}]\n",
            "a:\n  <<: {x: 1}\n",
            "a:\n  \"<<\": 5\n",
            "a: \"<<: 5\"\n",
            "a:\n  - <<\n",
        ] {
            assert_eq!(class(text), None, "{text:?}");
        }
    }

    #[test]
    fn the_slash_escape_is_found_in_double_quoted_strings_only() {
        assert_eq!(
            check("a: 1\nb: &x \"p\\/q\"\n", &all()).map(|f| (f.class, f.pos)),
            Some((Incompat::Escape, Pos { line: 2, column: 9 }))
        );
        assert_eq!(
            class("{\"a\": \"x\",\n \"b\": \"http:\\/\\/h\"}\n"),
            Some((Incompat::Escape, 2))
        );
        for text in [
            "a: \"p\\\\/q\"\n",
            "a: 'p\\/q'\n",
            "a: p\\/q\n",
            "a: |\n  p\\/q\n",
            "a: \"\\x41\\u00e9\\t\"\n",
        ] {
            assert_eq!(class(text), None, "{text:?}");
        }
        for text in [
            "a:\n  \"x\\Ny\": 1\n",
            "a: \"x\\Ly\"\n",
            "a: \"x\\u2029y\"\n",
            "a: \"x\\x85y\"\n",
        ] {
            assert_eq!(
                class(text).map(|(c, _)| c),
                Some(Incompat::Escape),
                "{text:?}"
            );
        }
    }

    #[test]
    fn plain_values_go_reads_as_other_types_are_found_in_the_head_only() {
        let head = |t: &str| plain_in_head(t).map(|f| (f.class, f.pos.line));
        for (text, line) in [
            ("metadata:\n  name: a\n  labels:\n    day: 2024-01-01\n", 4),
            ("metadata:\n  annotations: {build: 010}\n", 2),
            ("kind: 1_000\n", 1),
            ("x: &d 2024-01-01\nmetadata:\n  labels:\n    day: *d\n", 4),
            ("x: &l {a: [08]}\nmetadata:\n  labels: *l\n", 3),
        ] {
            assert_eq!(head(text), Some((Incompat::GoYamlValue, line)), "{text:?}");
        }
        for text in [
            "metadata:\n  name: 08\n",
            "metadata:\n  generation: 1\n  resourceVersion: \"3557\"\n",
            "metadata:\n  labels:\n    day: \"2024-01-01\"\n    yes: yes\n",
            "spec:\n  day: 2024-01-01\n",
            "x: &d '08'\nmetadata:\n  labels: {a: *d}\n",
            "x: {name: 08}\n",
        ] {
            assert_eq!(head(text), None, "{text:?}");
        }
    }

    #[test]
    fn an_anchor_defined_twice_is_refused_at_its_second_definition() {
        assert_eq!(
            class("a: &n x\nb: &n y\nc: *n\n"),
            Some((Incompat::DuplicateAnchor, 2))
        );
        assert_eq!(
            class("a: &n {x: 1}\nb:\n  - &n [1]\n"),
            Some((Incompat::DuplicateAnchor, 3))
        );
        assert_eq!(class("a: &n x\nb: &m y\nc: *n\nd: *m\n"), None);
    }
}
