//! A document as a tree of values that remember where they were written. Validation reports
//! `file:line:col` of the offending field, and serde_yaml's `Value` keeps no marks, so this
//! tree is built from libyaml's own events (the parser serde_yaml and go-yaml's ancestors run):
//! every scalar, mapping and sequence carries the mark of its first character.
//!
//! Scalars are resolved as Kubernetes' clients read them (go-yaml v2 through sigs.k8s.io/yaml,
//! YAML 1.1: `yes` is a boolean, `0755` a number, a timestamp stays a string), because the
//! types the cluster checks are those of the JSON the client sends. Aliases are expanded (the
//! node keeps the alias's position) and `<<` merge keys are applied, as go-yaml does.
//!
//! Only documents that already parsed through fgd's guards reach this code (sizes, depth and
//! alias expansion are bounded there), so it trusts its input to be small and well formed,
//! and simply stops at an event error.

use std::collections::HashMap;

use super::events::{Event, Events, Scalar};
use super::{plain_reads_as, GoReader, Pos};

/// One node and where it starts (1-based line and column, relative to the text given to
/// [`parse`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub pos: Pos,
    pub value: Value,
    /// Not written by the operator: put there by defaulting (see `defaults`). Its position is
    /// that of the mapping it was added to.
    pub synthetic: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    /// Any integer go-yaml reads (within 64 bits, signed or unsigned).
    Int(i128),
    Float(f64),
    Str(String),
    Seq(Vec<Node>),
    Map(Vec<Entry>),
}

/// A mapping entry: the key as text, where the key is, and the value.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub key: String,
    pub key_pos: Pos,
    pub value: Node,
}

impl Value {
    /// The JSON type name Kubernetes uses in its messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "boolean",
            Value::Int(_) => "integer",
            Value::Float(_) => "number",
            Value::Str(_) => "string",
            Value::Seq(_) => "array",
            Value::Map(_) => "object",
        }
    }
}

impl Node {
    pub fn new(pos: Pos, value: Value) -> Node {
        Node {
            pos,
            value,
            synthetic: false,
        }
    }

    /// A node defaulting adds, placed at `at` (its parent).
    pub fn synthetic(at: Pos, value: Value) -> Node {
        Node {
            pos: at,
            value,
            synthetic: true,
        }
    }

    /// The value of mapping key `key`.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.entry(key).map(|e| &e.value)
    }

    pub fn entry(&self, key: &str) -> Option<&Entry> {
        match &self.value {
            Value::Map(entries) => entries.iter().find(|e| e.key == key),
            _ => None,
        }
    }

    pub fn get_mut(&mut self, key: &str) -> Option<&mut Node> {
        match &mut self.value {
            Value::Map(entries) => entries
                .iter_mut()
                .find(|e| e.key == key)
                .map(|e| &mut e.value),
            _ => None,
        }
    }

    /// Follow a path of mapping keys.
    pub fn at(&self, path: &[&str]) -> Option<&Node> {
        path.iter().try_fold(self, |n, k| n.get(k))
    }

    pub fn entries(&self) -> &[Entry] {
        match &self.value {
            Value::Map(e) => e,
            _ => &[],
        }
    }

    pub fn items(&self) -> &[Node] {
        match &self.value {
            Value::Seq(v) => v,
            _ => &[],
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// A string field as Go's decoder leaves it: absent or null is "".
    pub fn str_or_empty(&self) -> &str {
        self.as_str().unwrap_or("")
    }

    pub fn as_int(&self) -> Option<i128> {
        match self.value {
            Value::Int(i) => Some(i),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self.value {
            Value::Bool(b) => Some(b),
            _ => None,
        }
    }

    pub fn is_map(&self) -> bool {
        matches!(self.value, Value::Map(_))
    }

    pub fn is_null(&self) -> bool {
        matches!(self.value, Value::Null)
    }

    /// Set mapping key `key` to `value` (replacing it, or appending a synthetic entry).
    pub fn set(&mut self, key: &str, value: Node) {
        let at = self.pos;
        if let Value::Map(entries) = &mut self.value {
            match entries.iter_mut().find(|e| e.key == key) {
                Some(e) => e.value = value,
                None => entries.push(Entry {
                    key: key.to_string(),
                    key_pos: at,
                    value,
                }),
            }
        }
    }

    /// The value under `key`, made a mapping if absent or null (Go's zero struct).
    pub fn ensure_map(&mut self, key: &str) -> Option<&mut Node> {
        let at = self.pos;
        let missing = self.get(key).is_none_or(|n| n.is_null());
        if missing {
            self.set(key, Node::synthetic(at, Value::Map(Vec::new())));
        }
        self.get_mut(key).filter(|n| n.is_map())
    }

    pub fn remove(&mut self, key: &str) {
        if let Value::Map(entries) = &mut self.value {
            entries.retain(|e| e.key != key);
        }
    }

    /// Shift every position by `lines` (a chunk's start line minus one) so positions are the
    /// file's own.
    pub fn offset_lines(&mut self, lines: usize) {
        if lines == 0 {
            return;
        }
        self.pos.line += lines;
        match &mut self.value {
            Value::Seq(items) => items.iter_mut().for_each(|n| n.offset_lines(lines)),
            Value::Map(entries) => {
                for e in entries {
                    e.key_pos.line += lines;
                    e.value.offset_lines(lines);
                }
            }
            _ => {}
        }
    }
}

/// Parse one document's text into a tree. None when libyaml cannot read it (the callers only
/// pass text that already parsed) or when it holds no node.
pub fn parse(text: &str) -> Option<Node> {
    parse_watched(text, &mut |_: &Event, _: bool, _: usize| {}).map(|(node, _)| node)
}

/// Nesting deeper than this gives no tree. serde_yaml refuses documents nested deeper than 128
/// levels, so every document it accepts still has one; the cap keeps a hostile document's tree
/// (dropped recursively) off the stack.
const MAX_DEPTH: usize = 192;

/// Past this many entries a mapping's keys are no longer compared (see `Shape::repeated_key`).
const COMPARED_KEYS: usize = 32;

/// How a document is written, beyond the values the tree holds: what the guard needs to know
/// whether serde_yaml would read it as the tree does (`yaml::head::from_tree`).
#[derive(Debug, Default, Clone, PartialEq)]
pub(crate) struct Shape {
    /// A tag, an anchor or an alias somewhere.
    pub decorated: bool,
    /// A mapping or a sequence used as a mapping key.
    pub complex_key: bool,
    /// A key written twice in one mapping, or a mapping too wide to compare its keys cheaply.
    pub repeated_key: bool,
    /// The deepest nesting of mappings and sequences.
    pub depth: usize,
    /// Something after the end of the first document.
    pub more_documents: bool,
}

/// [`parse`], also showing `watch` every event of the document's nodes (with whether it is a
/// mapping key and how many mappings and sequences are open around it), and giving the
/// document's [`Shape`].
pub(crate) fn parse_watched(
    text: &str,
    watch: &mut dyn FnMut(&Event, bool, usize),
) -> Option<(Node, Shape)> {
    let mut events = Events::new(text)?;
    let mut builder = Builder::default();
    let mut root = None;
    loop {
        match events.next()? {
            Event::StreamEnd => break,
            Event::DocumentEnd => {
                builder.shape.more_documents = !matches!(events.next()?, Event::StreamEnd);
                break;
            }
            Event::Other => {}
            ev => {
                watch(&ev, builder.key_pending(), builder.stack.len());
                if let Some(done) = builder.push(ev) {
                    root = Some(done);
                }
                if builder.stack.len() > MAX_DEPTH {
                    return None;
                }
            }
        }
    }
    Some((root?, builder.shape))
}

#[derive(Default)]
struct Builder {
    stack: Vec<Open>,
    anchors: HashMap<String, Node>,
    shape: Shape,
}

enum Open {
    Map {
        node: Node,
        anchor: Option<String>,
        key: Option<(String, Pos)>,
        merges: Vec<Node>,
    },
    Seq {
        node: Node,
        anchor: Option<String>,
    },
}

impl Builder {
    /// Whether the next node is a mapping key.
    fn key_pending(&self) -> bool {
        matches!(self.stack.last(), Some(Open::Map { key: None, .. }))
    }

    /// Feed one event; returns the root once the top node is complete.
    fn push(&mut self, ev: Event) -> Option<Node> {
        let node = match ev {
            Event::Scalar(s, anchor) => {
                self.shape.decorated |= anchor.is_some() || s.tag.is_some();
                let pos = s.pos;
                // A scalar in key position becomes the pending key (its text as written: keys
                // are strings in Kubernetes objects, and fgd refuses others before validation).
                let key_text = match (self.key_pending(), &anchor) {
                    (false, _) => None,
                    (true, None) => return self.set_key(s.text, pos),
                    (true, Some(_)) => Some(s.text.clone()),
                };
                let node = Node::new(pos, resolve(s));
                if let Some(a) = anchor {
                    self.anchors.insert(a, node.clone());
                }
                if let Some(text) = key_text {
                    return self.set_key(text, pos);
                }
                node
            }
            Event::Alias(name, pos) => {
                self.shape.decorated = true;
                let mut node = self
                    .anchors
                    .get(&name)
                    .cloned()
                    .unwrap_or_else(|| Node::new(pos, Value::Null));
                relocate(&mut node, pos);
                if let Some(Open::Map { key, .. }) = self.stack.last_mut() {
                    if key.is_none() {
                        let text = match &node.value {
                            Value::Str(s) => s.clone(),
                            other => scalar_text(other),
                        };
                        *key = Some((text, pos));
                        return None;
                    }
                }
                node
            }
            Event::MapStart { anchor, tag, pos } => {
                self.shape.decorated |= anchor.is_some() || tag.is_some();
                self.opened();
                self.stack.push(Open::Map {
                    node: Node::new(pos, Value::Map(Vec::new())),
                    anchor,
                    key: None,
                    merges: Vec::new(),
                });
                return None;
            }
            Event::SeqStart { anchor, tag, pos } => {
                self.shape.decorated |= anchor.is_some() || tag.is_some();
                self.opened();
                self.stack.push(Open::Seq {
                    node: Node::new(pos, Value::Seq(Vec::new())),
                    anchor,
                });
                return None;
            }
            Event::End => {
                let (node, anchor) = match self.stack.pop()? {
                    Open::Map {
                        mut node,
                        anchor,
                        merges,
                        ..
                    } => {
                        apply_merges(&mut node, merges);
                        (node, anchor)
                    }
                    Open::Seq { node, anchor } => (node, anchor),
                };
                if let Some(a) = anchor {
                    self.anchors.insert(a, node.clone());
                }
                node
            }
            Event::StreamEnd | Event::DocumentEnd | Event::Other => return None,
        };
        self.attach(node)
    }

    /// The pending key of the innermost mapping is `text`, written at `pos`.
    fn set_key(&mut self, text: String, pos: Pos) -> Option<Node> {
        if let Some(Open::Map { key, .. }) = self.stack.last_mut() {
            *key = Some((text, pos));
        }
        None
    }

    /// A mapping or sequence opens: one level deeper.
    fn opened(&mut self) {
        self.shape.depth = self.shape.depth.max(self.stack.len() + 1);
    }

    /// Put a finished node where it belongs: the root, a sequence item or a mapping value.
    fn attach(&mut self, node: Node) -> Option<Node> {
        match self.stack.last_mut() {
            None => Some(node),
            Some(Open::Seq { node: seq, .. }) => {
                if let Value::Seq(items) = &mut seq.value {
                    items.push(node);
                }
                None
            }
            Some(Open::Map {
                node: map,
                key,
                merges,
                ..
            }) => {
                match key.take() {
                    // A complex key (a mapping or sequence as key): kept under a placeholder
                    // name; such documents are refused before validation anyway.
                    None => {
                        self.shape.complex_key = true;
                        *key = Some(("?".into(), node.pos));
                    }
                    Some((k, key_pos)) if k == "<<" => {
                        let _ = key_pos;
                        merges.push(node);
                    }
                    Some((k, key_pos)) => {
                        if let Value::Map(entries) = &mut map.value {
                            self.shape.repeated_key |= entries.len() >= COMPARED_KEYS
                                || entries.iter().any(|e| e.key == k);
                            entries.push(Entry {
                                key: k,
                                key_pos,
                                value: node,
                            });
                        }
                    }
                }
                None
            }
        }
    }
}

/// Every node of an alias's copy is placed at the alias. A problem in a field that came
/// through an alias (or a `<<: *anchor` merge, whose entries are the alias's) is one of the
/// object or subnet that uses it: its path names the field there, and the place to fix it is
/// where that object takes the value (override the key beside the `<<`, or write the value
/// out instead of `*anchor`). The anchor's own fields keep their places, so a problem of the
/// object that defines the anchor is shown there.
fn relocate(node: &mut Node, pos: Pos) {
    node.pos = pos;
    match &mut node.value {
        Value::Seq(items) => items.iter_mut().for_each(|n| relocate(n, pos)),
        Value::Map(entries) => {
            for e in entries {
                e.key_pos = pos;
                relocate(&mut e.value, pos);
            }
        }
        _ => {}
    }
}

/// go-yaml's merge: keys of the merged mappings that the mapping does not define itself are
/// added; of several merged mappings, the first that defines a key wins.
fn apply_merges(node: &mut Node, merges: Vec<Node>) {
    let Value::Map(entries) = &mut node.value else {
        return;
    };
    for merged in merges {
        let sources: Vec<Node> = match merged.value {
            Value::Map(_) => vec![merged],
            Value::Seq(items) => items,
            _ => Vec::new(),
        };
        for source in sources {
            if let Value::Map(more) = source.value {
                for e in more {
                    if !entries.iter().any(|have| have.key == e.key) {
                        entries.push(e);
                    }
                }
            }
        }
    }
}

const TAG_PREFIX: &str = "tag:yaml.org,2002:";

fn scalar_text(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::Bool(b) => b.to_string(),
        Value::Int(i) => i.to_string(),
        Value::Float(f) => f.to_string(),
        Value::Str(s) => s.clone(),
        Value::Seq(_) | Value::Map(_) => "?".into(),
    }
}

/// What the scalar is to Kubernetes' client (go-yaml v2 rules; see the module comment).
fn resolve(s: Scalar) -> Value {
    let tag = s.tag.as_deref().and_then(|t| t.strip_prefix(TAG_PREFIX));
    match tag {
        Some("str") | Some("binary") | Some("timestamp") => Value::Str(s.text),
        Some("null") => Value::Null,
        Some("bool") => resolve_plain(s.text),
        Some("int") => match go_int(&s.text) {
            Some(i) => Value::Int(i),
            None => Value::Str(s.text),
        },
        Some("float") => match go_float(&s.text) {
            Some(f) => Value::Float(f),
            None => Value::Str(s.text),
        },
        Some(_) => Value::Str(s.text),
        None if s.tag.is_some() || !s.plain => Value::Str(s.text),
        None => resolve_plain(s.text),
    }
}

fn resolve_plain(text: String) -> Value {
    match plain_reads_as(&text, GoReader::Any) {
        Some("null") => Value::Null,
        Some("a boolean") => Value::Bool(matches!(
            text.as_str(),
            "true" | "True" | "TRUE" | "y" | "Y" | "yes" | "Yes" | "YES" | "on" | "On" | "ON"
        )),
        Some("a number") => match go_int(&text) {
            Some(i) => Value::Int(i),
            None => match go_float(&text) {
                Some(f) => Value::Float(f),
                None => Value::Str(text),
            },
        },
        // A timestamp decoded into an interface{} stays a string in go-yaml v2.
        _ => Value::Str(text),
    }
}

/// Go's `strconv.ParseInt(s, 0, 64)` / `ParseUint(s, 0, 64)` after go-yaml drops `_`.
fn go_int(text: &str) -> Option<i128> {
    match text.contains('_') {
        true => super::goyaml::go_int(&text.replace('_', "")),
        false => super::goyaml::go_int(text),
    }
}

/// Go's `strconv.ParseFloat(s, 64)` after go-yaml drops `_` (as for `go_int`).
fn go_float(text: &str) -> Option<f64> {
    let plain;
    let text = match text.contains('_') {
        true => {
            plain = text.replace('_', "");
            plain.as_str()
        }
        false => text,
    };
    let t = text.trim_start_matches('+');
    match t.to_ascii_lowercase().as_str() {
        ".inf" => Some(f64::INFINITY),
        "-.inf" => Some(f64::NEG_INFINITY),
        ".nan" => Some(f64::NAN),
        _ => t.parse().ok(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(line: usize, column: usize) -> Pos {
        Pos { line, column }
    }

    #[test]
    fn every_node_knows_where_it_was_written() {
        let t = parse("spec:\n  subnets:\n    default:\n      vlan: 1001\n  permit: [[a, b]]\n")
            .unwrap();
        let vlan = t.at(&["spec", "subnets", "default", "vlan"]).unwrap();
        assert_eq!((vlan.pos, vlan.as_int()), (p(4, 13), Some(1001)));
        let e = t
            .at(&["spec", "subnets"])
            .unwrap()
            .entry("default")
            .unwrap();
        assert_eq!(e.key_pos, p(3, 5));
        let permit = t.at(&["spec", "permit"]).unwrap();
        assert_eq!(permit.items()[0].items()[1].pos, p(5, 16));
    }

    #[test]
    fn scalars_resolve_as_kubectl_reads_them() {
        let t = parse(
            "a: yes\nb: '1001'\nc: 0x10\nd: 010\ne: 1_000\nf: 2024-01-01\ng: ~\nh: 1.5\ni: !!str 7\nj: -3\nk: |\n  x\nl: 1_009.0\n",
        )
        .unwrap();
        let v = |k: &str| t.get(k).unwrap().value.clone();
        assert_eq!(v("a"), Value::Bool(true));
        assert_eq!(v("b"), Value::Str("1001".into()));
        assert_eq!(v("c"), Value::Int(16));
        assert_eq!(v("d"), Value::Int(8));
        assert_eq!(v("e"), Value::Int(1000));
        assert_eq!(v("f"), Value::Str("2024-01-01".into()));
        assert_eq!(v("g"), Value::Null);
        assert_eq!(v("h"), Value::Float(1.5));
        assert_eq!(v("i"), Value::Str("7".into()));
        assert_eq!(v("j"), Value::Int(-3));
        assert_eq!(v("k"), Value::Str("x\n".into()));
        assert_eq!(v("l"), Value::Float(1009.0));
    }

    #[test]
    fn aliases_expand_at_their_own_place_and_merge_keys_apply() {
        let t = parse("base: &b {vlan: 10, mtu: 9000}\nsub:\n  <<: *b\n  vlan: 20\nother: *b\n")
            .unwrap();
        let sub = t.get("sub").unwrap();
        assert_eq!(sub.get("vlan").unwrap().as_int(), Some(20));
        assert_eq!(sub.get("mtu").unwrap().as_int(), Some(9000));
        assert!(sub.get("<<").is_none());
        assert_eq!(t.get("other").unwrap().pos, p(5, 8));
        assert_eq!(t.at(&["other", "mtu"]).unwrap().as_int(), Some(9000));
        // Fields through an alias or a merge are where the object takes them; the anchor's
        // own stay where they are written, and so do the merging mapping's own keys.
        assert_eq!(t.at(&["other", "mtu"]).unwrap().pos, p(5, 8));
        assert_eq!(sub.get("mtu").unwrap().pos, p(3, 7));
        assert_eq!(sub.entry("mtu").unwrap().key_pos, p(3, 7));
        assert_eq!(sub.get("vlan").unwrap().pos, p(4, 9));
        assert_eq!(t.at(&["base", "mtu"]).unwrap().pos, p(1, 26));
    }

    #[test]
    fn flow_and_json_documents_have_positions_too() {
        let t = parse("{\"spec\": {\"vlan\": \"x\"}}").unwrap();
        let vlan = t.at(&["spec", "vlan"]).unwrap();
        assert_eq!(vlan.pos, p(1, 19));
        assert_eq!(vlan.as_str(), Some("x"));
    }
}
