//! The head serde_yaml would give for a document (`head::parse_head`), taken from the positioned
//! tree validation needs anyway instead of walking the whole document through serde_yaml a
//! second time: that walk was a third of a validating run's time.
//!
//! The shortcut is taken only where the tree shows that serde_yaml's walk of the document
//! outside its head could find nothing: no tag, anchor or alias, no key written twice, every key
//! one serde_yaml reads as the text written (it reads plain `1`, `null` or `true` as other
//! types), no value it would read as a non-finite number or one wider than 64 bits (an error
//! for `Value`), nothing nested near its recursion limit, nothing after the document. The head
//! itself (`apiVersion`, `kind`, `metadata`, written before every other top-level key) is still
//! read by serde_yaml, from the text that precedes the first other key, so its values, errors
//! and findings are exactly `parse_head`'s. Anywhere else the caller walks the whole document
//! as before; `from_tree_agrees_with_the_walk_*` hold the two to the same answers.
//!
//! Most heads need not even that: their values are names, labels and annotations, scalars
//! that are quoted or start with a letter, which serde_yaml reads as the string written (or as
//! null or a boolean, for its few words). Such a head is built from the events as they pass
//! (`Mirror`); a head with anything else (a number, say) is read by serde_yaml.

use serde_yaml::{Mapping, Value};

use super::events::{Event, Scalar, Style};
use super::head::{parse_head, KeyFindings, KEPT};
use super::tree::{Node, Shape, Value as TreeValue};
use super::{plain_reads_as, GoReader};

/// serde_yaml's recursion limit is 128 levels; the shortcut stays well away from it.
const MAX_DEPTH: usize = 64;

/// What the scalars of a document told, as the tree was built.
#[derive(Debug, Default)]
pub(super) struct Seen {
    /// A plain key serde_yaml may read as something other than its text.
    unsure_key: bool,
    /// A plain value serde_yaml may read as a non-finite or too wide number.
    unsure_value: bool,
    /// `KeyFindings::go_suspect`, over every key.
    go_suspect: bool,
    mirror: Mirror,
}

impl Seen {
    /// Sees one event of the tree's parse (`tree::parse_watched`).
    pub(super) fn watch(&mut self, ev: &Event, key: bool, depth: usize) {
        if let Event::Scalar(s, _) = ev {
            self.scalar(s, key);
        }
        self.mirror.watch(ev, key, depth);
    }

    fn scalar(&mut self, s: &Scalar, key: bool) {
        let plain = s.style == Style::Plain;
        if key {
            self.unsure_key |= plain && !reads_as_written(&s.text);
            if !self.go_suspect {
                self.go_suspect = plain_reads_as(&s.text, GoReader::V3).is_some();
            }
        } else {
            self.unsure_value |= plain && maybe_odd_number(&s.text);
        }
    }
}

/// The head's values as serde_yaml reads them, built from the events of the top-level entries
/// whose key is one of [`KEPT`], as long as every scalar in them is one whose reading is sure.
#[derive(Debug, Default)]
struct Mirror {
    /// A scalar whose reading is not sure was met (the head is then read by serde_yaml).
    unsure: bool,
    /// The kept entries, finished.
    done: Vec<(String, Value)>,
    /// The kept key whose value is being built.
    key: Option<String>,
    /// The mappings and sequences open inside that value.
    open: Vec<Open>,
}

#[derive(Debug)]
enum Open {
    Map(Mapping, Option<Value>),
    Seq(Vec<Value>),
}

impl Mirror {
    fn watch(&mut self, ev: &Event, key: bool, depth: usize) {
        if self.unsure {
            return;
        }
        // A key of the root mapping: its value is built only if it is a kept one.
        if depth == 1 && key {
            self.key = match ev {
                Event::Scalar(s, _) if KEPT.contains(&s.text.as_str()) => Some(s.text.clone()),
                _ => None,
            };
            return;
        }
        if self.key.is_none() || depth == 0 {
            return;
        }
        let value = match ev {
            Event::Scalar(s, _) => match (self.open.last_mut(), key) {
                (Some(Open::Map(_, pending)), true) => {
                    *pending = Some(Value::String(s.text.clone()));
                    return;
                }
                _ => match sure_reading(s) {
                    Some(v) => v,
                    None => {
                        self.unsure = true;
                        return;
                    }
                },
            },
            Event::MapStart { .. } => {
                self.open.push(Open::Map(Mapping::new(), None));
                return;
            }
            Event::SeqStart { .. } => {
                self.open.push(Open::Seq(Vec::new()));
                return;
            }
            Event::End => match self.open.pop() {
                Some(Open::Map(m, _)) => Value::Mapping(m),
                Some(Open::Seq(items)) => Value::Sequence(items),
                None => return,
            },
            // Aliases (and tags) send the document the long way anyway.
            _ => {
                self.unsure = true;
                return;
            }
        };
        match self.open.last_mut() {
            Some(Open::Map(m, pending)) => match pending.take() {
                Some(k) => {
                    m.insert(k, value);
                }
                None => self.unsure = true,
            },
            Some(Open::Seq(items)) => items.push(value),
            None => {
                if let Some(k) = self.key.take() {
                    self.done.push((k, value));
                }
            }
        }
    }

    /// The kept value of top-level key `key`, when the mirror is sure of it.
    fn take(&mut self, key: &str) -> Option<Value> {
        let at = self.done.iter().position(|(k, _)| k == key)?;
        Some(self.done.swap_remove(at).1)
    }
}

/// How serde_yaml reads an untagged scalar, when that is sure without its number rules: quoted
/// and block scalars are strings; plain ones are null, a boolean, or a string when they start
/// with a letter (no number does: Rust's float parser takes only `inf`, `infinity` and `nan`
/// that way, which serde_yaml does not read as floats). None for any other plain scalar.
fn sure_reading(s: &Scalar) -> Option<Value> {
    if s.tag.is_some() {
        return None;
    }
    if s.style != Style::Plain {
        return Some(Value::String(s.text.clone()));
    }
    match s.text.as_str() {
        "" | "~" | "null" | "Null" | "NULL" => Some(Value::Null),
        "true" | "True" | "TRUE" => Some(Value::Bool(true)),
        "false" | "False" | "FALSE" => Some(Value::Bool(false)),
        t if reads_as_written(t) => Some(Value::String(s.text.clone())),
        _ => None,
    }
}

/// A plain scalar serde_yaml surely reads as the string it is: one that starts with a letter
/// and is none of YAML 1.2's null and boolean words (numbers start otherwise).
fn reads_as_written(text: &str) -> bool {
    text.as_bytes().first().is_some_and(u8::is_ascii_alphabetic)
        && !matches!(
            text,
            "null" | "Null" | "NULL" | "true" | "True" | "TRUE" | "false" | "False" | "FALSE"
        )
}

/// A plain scalar serde_yaml might read as an infinite or not-a-number float (a finding) or as
/// an integer beyond 64 bits (an error for `Value`). Errs towards yes: a yes only means the
/// document takes the long way.
fn maybe_odd_number(text: &str) -> bool {
    let unsigned = text.strip_prefix(['+', '-']).unwrap_or(text);
    unsigned.eq_ignore_ascii_case(".inf")
        || unsigned.eq_ignore_ascii_case(".nan")
        || ["0x", "0o", "0b"].iter().any(|p| unsigned.starts_with(p))
        || (unsigned.len() >= 19 && unsigned.bytes().all(|b| b.is_ascii_digit()))
}

/// `parse_head`'s answer for `body`, whose tree is `root`, when the shortcut is sure to give
/// it (see the module comment); None otherwise.
pub(super) fn from_tree(
    body: &str,
    root: &Node,
    shape: &Shape,
    mut seen: Seen,
) -> Option<(Value, KeyFindings)> {
    if shape.decorated
        || shape.complex_key
        || shape.repeated_key
        || shape.more_documents
        || shape.depth > MAX_DEPTH
        || seen.unsure_key
        || seen.unsure_value
    {
        return None;
    }
    let TreeValue::Map(entries) = &root.value else {
        return None;
    };
    if !seen.mirror.unsure && seen.mirror.open.is_empty() {
        let mut head = Mapping::with_capacity(entries.len());
        for e in entries {
            let value = match KEPT.contains(&e.key.as_str()) {
                true => seen.mirror.take(&e.key)?,
                false => Value::Null,
            };
            head.insert(Value::String(e.key.clone()), value);
        }
        let found = KeyFindings {
            go_suspect: seen.go_suspect,
            ..KeyFindings::default()
        };
        return Some((Value::Mapping(head), found));
    }
    // A block mapping at the left margin: every top-level key starts a line.
    let first = entries.first()?;
    if root.pos.column != 1 || first.key_pos != root.pos {
        return None;
    }
    if entries.iter().any(|e| e.key_pos.column != 1) {
        return None;
    }
    let kept = entries
        .iter()
        .take_while(|e| KEPT.contains(&e.key.as_str()))
        .count();
    if kept == 0
        || entries[kept..]
            .iter()
            .any(|e| KEPT.contains(&e.key.as_str()))
    {
        return None;
    }
    let cut = match entries.get(kept) {
        Some(other) => {
            let at = line_start(body, other.key_pos.line)?;
            let rest = &body[at..];
            if !(rest.starts_with(other.key.as_str()) || rest.starts_with(['"', '\''])) {
                return None;
            }
            at
        }
        None => body.len(),
    };
    let doc = serde_yaml::Deserializer::from_str(&body[..cut]).next()?;
    let (head, found) = parse_head(doc).ok()?;
    let Value::Mapping(head) = head else {
        return None;
    };
    if head.len() != kept {
        return None;
    }
    let mut whole = Mapping::with_capacity(entries.len());
    whole.extend(head);
    for e in &entries[kept..] {
        whole.insert(Value::String(e.key.clone()), Value::Null);
    }
    Some((
        Value::Mapping(whole),
        KeyFindings {
            go_suspect: found.go_suspect || seen.go_suspect,
            ..found
        },
    ))
}

/// Where 1-based line `line` of `text` starts, counting `\n` as libyaml does; None if a line
/// break libyaml also counts (`\r`, NEL, LS, PS) comes before it, or the text is shorter.
fn line_start(text: &str, line: usize) -> Option<usize> {
    let mut start = 0;
    for _ in 1..line {
        start += text[start..].find('\n')? + 1;
    }
    let before = &text[..start];
    if before.contains(['\r', '\u{85}', '\u{2028}', '\u{2029}']) {
        return None;
    }
    Some(start)
}

#[cfg(test)]
mod tests;
