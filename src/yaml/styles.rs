//! How a document's nodes are written: plain, quoted or tagged, and where. serde_yaml resolves
//! every scalar and forgets its style, but what reads `managed/` is Go, which resolves plain
//! scalars by other rules (see `goyaml`): whether `08` is a string depends on whether it was
//! quoted. Asked only of the rare document whose head walk found something that depends on it,
//! so it costs nothing on the rest. It reads libyaml's own events (the parser serde_yaml runs),
//! so it sees exactly the nodes serde_yaml saw.

use std::collections::HashMap;

use super::events::{Event, Events, Scalar};
use super::goyaml::{plain_reads_as, GoReader};
use super::Pos;

/// What to look for.
#[derive(Debug, Default, Clone, Copy)]
pub(super) struct Want {
    /// A plain mapping key go-yaml reads as something other than a string.
    pub go_keys: bool,
    /// A mapping key serde_yaml reads as something other than a string.
    pub odd_key: bool,
    /// A value that is an infinite or not-a-number float.
    pub non_finite: bool,
    /// How `metadata.name` is written.
    pub name: bool,
}

/// What was found, with chunk-relative positions (line 1 is the chunk's first line).
#[derive(Debug, Default)]
pub(super) struct Found {
    /// The key as written, and what go-yaml reads it as.
    pub go_key: Option<(Pos, String, &'static str)>,
    /// The key as written.
    pub odd_key: Option<(Pos, String)>,
    /// The value as written.
    pub non_finite: Option<(Pos, String)>,
    pub name: Option<NameStyle>,
}

/// How `metadata.name` is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NameStyle {
    /// Chunk-relative.
    pub pos: Pos,
    /// Plain and untagged: Go's readers resolve it.
    pub plain: bool,
}

const STR_TAG: &str = "tag:yaml.org,2002:str";
const FLOAT_TAG: &str = "tag:yaml.org,2002:float";

#[derive(Clone, Copy, PartialEq, Eq)]
enum MapRole {
    /// The document's own mapping.
    Top,
    /// Its `metadata`.
    Metadata,
    Other,
}

enum Frame {
    Map {
        role: MapRole,
        next_is_key: bool,
        /// The key whose value comes next, for the top mapping and metadata only.
        key: Option<String>,
        anchor: Option<String>,
    },
    Seq,
}

/// serde_yaml reads this key as something other than a string.
fn serde_odd(s: &Scalar) -> bool {
    match &s.tag {
        Some(t) => t != STR_TAG,
        None if !s.plain => false,
        // Only a scalar that can start a null, a boolean or a number is parsed to ask.
        None => {
            s.text.is_empty()
                || (s
                    .text
                    .starts_with(|c: char| c.is_ascii_digit() || "+-.~nNtTfF".contains(c))
                    && !matches!(
                        serde_yaml::from_str::<serde_yaml::Value>(&s.text),
                        Ok(serde_yaml::Value::String(_))
                    ))
        }
    }
}

/// An infinite or not-a-number float, which JSON (and so kustomize) cannot hold.
fn non_finite(s: &Scalar) -> bool {
    let plain_special = s.plain
        && plain_reads_as(&s.text, GoReader::V3) == Some("a number")
        && s.text.contains(['n', 'N', 'i', 'I']);
    let tagged_float = s.tag.as_deref() == Some(FLOAT_TAG)
        && s.text
            .trim_start_matches(['+', '-', '.'])
            .to_ascii_lowercase()
            .starts_with(['i', 'n']);
    plain_special || tagged_float
}

/// How a key looks in a message: as written, with its tag.
fn shown(s: &Scalar) -> String {
    match &s.tag {
        Some(t) => format!("{} {}", t.replace("tag:yaml.org,2002:", "!!"), s.text),
        None => s.text.clone(),
    }
}

/// Walk the events of `text` (one document) and find what `want` asks for. Stops at the
/// first parse error with what it found so far.
pub(super) fn scan(text: &str, want: Want) -> Found {
    let mut found = Found::default();
    let Some(mut events) = Events::new(text) else {
        return found;
    };
    let mut stack: Vec<Frame> = Vec::new();
    // Anchored scalars and mappings' names, for `name: *n` and `metadata: *m`.
    let mut anchored_scalars: HashMap<String, NameStyle> = HashMap::new();
    let mut anchored_names: HashMap<String, NameStyle> = HashMap::new();
    while let Some(event) = events.next() {
        // Where this node stands: a key, or a value under `key` of a mapping of `role`.
        let (is_key, parent_role, parent_key, parent_anchor) = match stack.last_mut() {
            Some(Frame::Map {
                role,
                next_is_key,
                key,
                anchor,
            }) if !matches!(
                event,
                Event::End | Event::Other | Event::DocumentEnd | Event::StreamEnd
            ) =>
            {
                let is_key = *next_is_key;
                *next_is_key = !is_key;
                let parent_key = if is_key { None } else { key.take() };
                (is_key, Some(*role), parent_key, anchor.clone())
            }
            _ => (false, None, None, None),
        };
        let is_name =
            parent_role == Some(MapRole::Metadata) && parent_key.as_deref() == Some("name");
        match event {
            Event::StreamEnd => break,
            Event::Other | Event::DocumentEnd => {}
            Event::End => {
                stack.pop();
            }
            Event::Scalar(s, anchor) => {
                if is_key {
                    if want.go_keys && found.go_key.is_none() && s.plain {
                        if let Some(what) = plain_reads_as(&s.text, GoReader::V3) {
                            found.go_key = Some((s.pos, s.text.clone(), what));
                        }
                    }
                    if want.odd_key && found.odd_key.is_none() && serde_odd(&s) {
                        found.odd_key = Some((s.pos, shown(&s)));
                    }
                    // The keys of the top mapping, of metadata and of anchored mappings (one
                    // may be metadata's alias) are remembered for their values.
                    if let Some(Frame::Map {
                        role, key, anchor, ..
                    }) = stack.last_mut()
                    {
                        if *role != MapRole::Other || anchor.is_some() {
                            *key = Some(s.text.clone());
                        }
                    }
                } else {
                    if want.non_finite && found.non_finite.is_none() && non_finite(&s) {
                        found.non_finite = Some((s.pos, shown(&s)));
                    }
                    let style = NameStyle {
                        pos: s.pos,
                        plain: s.plain,
                    };
                    if want.name {
                        if let Some(a) = &anchor {
                            anchored_scalars.insert(a.clone(), style);
                        }
                        if parent_key.as_deref() == Some("name") {
                            if let Some(a) = &parent_anchor {
                                anchored_names.insert(a.clone(), style);
                            }
                        }
                    }
                    if is_name {
                        found.name = Some(style);
                    }
                }
            }
            // An alias key is whatever it names, which was judged where it was written.
            Event::Alias(anchor, _) => {
                if is_name {
                    found.name = anchored_scalars.get(&anchor).copied();
                } else if parent_role == Some(MapRole::Top)
                    && parent_key.as_deref() == Some("metadata")
                {
                    found.name = anchored_names.get(&anchor).copied();
                }
            }
            Event::MapStart { anchor, pos, .. } => {
                if is_key && want.odd_key && found.odd_key.is_none() {
                    found.odd_key = Some((pos, "`? {...}`".into()));
                }
                let role = match (stack.is_empty(), parent_role, parent_key.as_deref()) {
                    (true, _, _) => MapRole::Top,
                    (false, Some(MapRole::Top), Some("metadata")) => MapRole::Metadata,
                    _ => MapRole::Other,
                };
                stack.push(Frame::Map {
                    role,
                    next_is_key: true,
                    key: None,
                    anchor,
                });
            }
            Event::SeqStart { pos, .. } => {
                if is_key && want.odd_key && found.odd_key.is_none() {
                    found.odd_key = Some((pos, "`? [...]`".into()));
                }
                stack.push(Frame::Seq);
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all() -> Want {
        Want {
            go_keys: true,
            odd_key: true,
            non_finite: true,
            name: true,
        }
    }

    #[test]
    fn plain_keys_go_reads_otherwise_are_found_however_they_are_written() {
        for (text, line) in [
            ("a:\n  08: x\n", 2),
            ("? 08\n: x\n", 1),
            ("&p 08: x\n", 1),
            ("a: [08: x]\n", 1),
            ("a: {b: 1, 2024-01-01: x}\n", 1),
            ("- a: 1\n  1_000: x\n", 2),
        ] {
            let f = scan(text, all());
            let (pos, key, _) = f.go_key.unwrap_or_else(|| panic!("{text:?}"));
            assert_eq!(pos.line, line, "{text:?}");
            assert!(text.contains(&key), "{text:?}: {key}");
        }
    }

    #[test]
    fn quoted_keys_and_text_that_looks_like_keys_are_not() {
        for text in [
            "portGroupSpeeds: {\"1\": 10G, '2': 10G}\n",
            "description: \"groups 1: 10G, {2: x}\"\n",
            "note: |\n  1: ports 1-4\n  08: x\n",
            "a: !!str 08\n",
            "!!str 08: x\n",
        ] {
            assert!(scan(text, all()).go_key.is_none(), "{text:?}");
        }
    }

    #[test]
    fn names_are_judged_by_how_they_are_written() {
        let plain = |t: &str| scan(t, all()).name.map(|n| n.plain);
        assert_eq!(plain("metadata:\n  name: 08\n"), Some(true));
        assert_eq!(plain("metadata:\n  name:\n    \"08\"\n"), Some(false));
        assert_eq!(plain("metadata: {name: '08'}\n"), Some(false));
        assert_eq!(plain("{\"metadata\": {\"name\": \"on\"}}\n"), Some(false));
        assert_eq!(plain("metadata:\n  name: !!str yes\n"), Some(false));
        assert_eq!(
            plain("x: &n '010'\nspec: {d: \"&n 1\"}\nmetadata:\n  name: *n\n"),
            Some(false)
        );
        assert_eq!(plain("m: &m {name: 08}\nmetadata: *m\n"), Some(true));
        // Only metadata's own name.
        assert_eq!(
            plain("spec:\n  name: 08\nmetadata:\n  labels: {name: 08}\n"),
            None
        );
    }

    #[test]
    fn non_finite_values_and_odd_keys_are_placed() {
        let f = scan("a: 1\nb: .inf\n", all());
        assert_eq!(
            f.non_finite.map(|(p, t)| (p.line, t)),
            Some((2, ".inf".into()))
        );
        assert!(scan("a: '.inf'\nb: .5\n", all()).non_finite.is_none());
        let f = scan("a: 1\nb:\n  !!int 8: x\n", all());
        assert_eq!(
            f.odd_key.map(|(p, t)| (p.line, t)),
            Some((3, "!!int 8".into()))
        );
        let f = scan("a: 1\n0x1F: x\n", all());
        assert_eq!(f.odd_key, Some((Pos { line: 2, column: 1 }, "0x1F".into())));
    }
}
