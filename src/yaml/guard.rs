//! Parsing one chunk with serde_yaml, behind guards: size, flow nesting depth (libyaml is
//! quadratic on deep flow collections), alias expansion (billion laughs), at most two documents
//! read and a stop at the first error (serde_yaml repeats an error forever and can yield a
//! phantom document after "unknown anchor").

use serde::de::{DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;

use super::head::KeyFindings;
use super::portable::{self, Unportable};
use super::tree::{self, Node};
use super::tree_head;
use super::{Chunk, Limits, Pos};

#[derive(Debug, Clone, PartialEq)]
pub enum Parsed {
    /// Only comments or blank lines.
    Empty,
    /// The document's head: `apiVersion`, `kind` and `metadata` in full, every other top-level
    /// key with a null value (see `head.rs`); what in it kustomize could not read; and the
    /// whole document as a positioned tree, lines counted from the chunk's first (None only
    /// past the tree's depth cap).
    Document(serde_yaml::Value, Option<Unportable>, Option<Node>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum YamlErrorKind {
    Syntax,
    TooLarge,
    TooDeep,
    AliasExpansion,
    MultipleDocuments,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, serde::Serialize)]
#[error("{message}")]
pub struct YamlError {
    pub kind: YamlErrorKind,
    pub message: String,
    /// In the original file.
    pub pos: Pos,
}

/// What the cheap linear pre-scan learns about a chunk.
#[derive(Debug, Default, PartialEq, Eq)]
struct Scan {
    /// Where flow nesting crossed the limit (line and byte column within the chunk), and
    /// whether only the quote-blind count did.
    too_deep_at: Option<(usize, usize, bool)>,
    has_alias: bool,
    /// What could start a construct kustomize reads otherwise (see `portable`).
    rare: portable::Rare,
}

fn token_start(prev: u8) -> bool {
    matches!(
        prev,
        b' ' | b'\t' | b'\n' | b'\r' | b'[' | b'{' | b',' | b':' | b'-' | b'?'
    )
}

/// The bytes `scan` acts on. Everything else (most of any document: letters, digits, spaces)
/// is passed over with one table lookup.
const SCAN_STOPS: [bool; 256] = {
    let mut t = [false; 256];
    let stops = b"[]{}\n#\"'*\\!&<";
    let mut i = 0;
    while i < stops.len() {
        t[stops[i] as usize] = true;
        i += 1;
    }
    t
};

/// The pre-scan's state as it walks a chunk.
#[derive(Default)]
struct Scanner {
    out: Scan,
    /// Flow depth counted quote-aware and quote-blind.
    aware: usize,
    blind: usize,
    line: usize,
    line_start: usize,
    in_quote: Option<u8>,
    in_comment: bool,
    /// Where the current line's comment starts.
    comment_at: Option<usize>,
    /// The comment is the whole line (`#` is its first non-blank): nothing on it is a flow
    /// indicator to any YAML reader, so not even the quote-blind count looks at it.
    whole_line_comment: bool,
    /// Inside a block scalar (`key: |`): the indentation of the line that opened it. Lines
    /// indented deeper are its text, where brackets and quotes mean nothing.
    block: Option<usize>,
    /// Whether the current line is such text (decided at its first byte acted on).
    block_line: Option<bool>,
}

/// Whether the byte at `i` starts a node (a quoted scalar, a flow collection) rather than
/// standing inside a plain scalar (`rock 'n roll`, `vlans [1000, 1010)`): it is first on its
/// line, or follows an indicator (`:`, `-`, `?`, `,`, `[`, `{`), or an anchor or a tag and a
/// blank. Looks back over the blanks and the one token before them only.
fn node_start(b: &[u8], line_start: usize, i: usize) -> bool {
    let mut j = i;
    while j > line_start && matches!(b[j - 1], b' ' | b'\t') {
        j -= 1;
    }
    if j == line_start || matches!(b[j - 1], b':' | b'-' | b'?' | b',' | b'[' | b'{') {
        return true;
    }
    if j == i {
        return false; // inside a token
    }
    let mut k = j;
    while k > line_start && !matches!(b[k - 1], b' ' | b'\t') {
        k -= 1;
    }
    matches!(b[k], b'&' | b'!')
}

/// Whether a line (its comment cut off) ends by opening a block scalar: `key: |`, `- >-`,
/// `--- |`, `key: !!str |+2`.
fn opens_block_scalar(line: &[u8]) -> bool {
    let mut end = line.len();
    while end > 0 && matches!(line[end - 1], b' ' | b'\t' | b'\r') {
        end -= 1;
    }
    let mut indicators = 0;
    while end > 0 && indicators < 2 && matches!(line[end - 1], b'-' | b'+' | b'0'..=b'9') {
        end -= 1;
        indicators += 1;
    }
    end > 0
        && matches!(line[end - 1], b'|' | b'>')
        && (end == 1 || matches!(line[end - 2], b' ' | b'\t'))
}

/// The quote-blind count guards against a text that fools the quote-aware one, which only a
/// crafted text does; it refuses at this many times the limit, so that brackets in strings
/// (`"range [1"` in many annotations) do not refuse an ordinary document. libyaml's cost grows
/// with the depth times the tokens: bounded either way.
const BLIND_FACTOR: usize = 4;

impl Scanner {
    /// Act on the byte at `i` (one of `SCAN_STOPS`; any other byte leaves the state as it is);
    /// gives the index of the next byte to look at.
    fn step(&mut self, b: &[u8], i: usize, max_depth: usize) -> usize {
        let c = b[i];
        // Every byte before this one was passed to `step` or skipped as a no-op, so the
        // previous byte is simply b[i - 1].
        let prev = if i == 0 { b'\n' } else { b[i - 1] };
        // Blind to quotes, comments and block scalars, so no crafted text hides them: flow
        // brackets, and aliases (a false alarm only costs the alias budget's own pass).
        match c {
            _ if self.whole_line_comment => {}
            b'[' | b'{' => self.blind += 1,
            b']' | b'}' => self.blind = self.blind.saturating_sub(1),
            b'*' if token_start(prev) && b.get(i + 1).is_some_and(|n| !n.is_ascii_whitespace()) => {
                self.out.has_alias = true
            }
            b'!' if token_start(prev) => self.out.rare.tag = true,
            b'&' if token_start(prev) && b.get(i + 1).is_some_and(|n| !n.is_ascii_whitespace()) => {
                self.out.rare.anchor = true
            }
            b'<' if b.get(i + 1) == Some(&b'<') => self.out.rare.merge = true,
            b'\\'
                if b.get(i + 1).is_some_and(|n| {
                    matches!(n, b'/' | b'N' | b'L' | b'P' | b'x' | b'u' | b'U')
                }) =>
            {
                self.out.rare.escape = true
            }
            _ => {}
        }
        // Noted now: a block scalar's line returns below before the quote-aware count, and
        // at its line break the position would already be the next line's.
        if c != b'\n' {
            self.note_depth(i, max_depth);
            if let Some(opener) = self.block {
                let text = *self.block_line.get_or_insert_with(|| {
                    b[self.line_start..i]
                        .iter()
                        .take_while(|&&x| x == b' ')
                        .count()
                        > opener
                });
                if text {
                    return i + 1;
                }
                self.block = None;
            }
        }
        if c == b'\n' {
            if self.block_line != Some(true) && self.in_quote.is_none() && self.aware == 0 {
                let end = self.comment_at.unwrap_or(i);
                if opens_block_scalar(&b[self.line_start..end]) {
                    let indent = b[self.line_start..end]
                        .iter()
                        .take_while(|&&x| x == b' ')
                        .count();
                    self.block = Some(indent);
                }
            }
            self.line += 1;
            self.line_start = i + 1;
            self.in_comment = false;
            self.comment_at = None;
            self.whole_line_comment = false;
            self.block_line = None;
        } else if self.in_comment {
        } else if let Some(q) = self.in_quote {
            if q == b'"' && c == b'\\' {
                // An escape: the next byte is taken literally (a line break still counts).
                if b.get(i + 1) == Some(&b'\n') {
                    self.line += 1;
                    self.line_start = i + 2;
                }
                return i + 2;
            }
            if c == q {
                if q == b'\'' && b.get(i + 1) == Some(&b'\'') {
                    return i + 2;
                }
                self.in_quote = None;
            }
        } else {
            match c {
                b'#' if matches!(prev, b' ' | b'\t' | b'\n') => {
                    self.in_comment = true;
                    self.comment_at = Some(i);
                    self.whole_line_comment = b[self.line_start..i]
                        .iter()
                        .all(|&c| matches!(c, b' ' | b'\t'));
                }
                b'"' | b'\'' if node_start(b, self.line_start, i) => self.in_quote = Some(c),
                // In a flow collection every bracket is one; in block context only one that
                // starts a node (`a: [1]`), not one inside a plain scalar.
                b'[' | b'{' if self.aware > 0 || node_start(b, self.line_start, i) => {
                    self.aware += 1
                }
                b']' | b'}' => self.aware = self.aware.saturating_sub(1),
                _ => {}
            }
        }
        self.note_depth(i, max_depth);
        i + 1
    }

    /// Record where a count first crosses its limit, at byte `i` of the current line.
    fn note_depth(&mut self, i: usize, max_depth: usize) {
        if self.out.too_deep_at.is_none()
            && (self.aware > max_depth || self.blind > max_depth.saturating_mul(BLIND_FACTOR))
        {
            let blind_only = self.aware <= max_depth;
            self.out.too_deep_at = Some((self.line, i - self.line_start, blind_only));
        }
    }
}

/// One pass over the bytes: flow depth counted both quote-aware and quote-blind (a crafted
/// text that fools one count does not fool the other), and whether any alias is used.
fn scan(text: &str, max_depth: usize) -> Scan {
    let b = text.as_bytes();
    let mut s = Scanner::default();
    let mut i = 0;
    while i < b.len() {
        i = if SCAN_STOPS[b[i] as usize] {
            s.step(b, i, max_depth)
        } else {
            i + 1
        };
    }
    s.out
}

/// Counts nodes as serde_yaml replays them (aliases included) without keeping any, and stops
/// once the budget is spent: this bounds both time and memory before a Value is built.
struct Budget<'a>(&'a mut Nodes);

/// The nodes the walk may still replay, and whether it ran out: serde passes only a message
/// back up, so the walk's own stop is told apart by this flag, never by that text.
struct Nodes {
    left: usize,
    spent: bool,
}

impl<'de> DeserializeSeed<'de> for Budget<'_> {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl Budget<'_> {
    fn spend<E: serde::de::Error>(&mut self) -> Result<(), E> {
        if self.0.left == 0 {
            self.0.spent = true;
            return Err(E::custom(OVER_BUDGET));
        }
        self.0.left -= 1;
        Ok(())
    }
}

const OVER_BUDGET: &str = "fgd: alias expansion budget exceeded";

impl<'de> Visitor<'de> for Budget<'_> {
    type Value = ();
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("any YAML node")
    }
    fn visit_bool<E: serde::de::Error>(mut self, _: bool) -> Result<(), E> {
        self.spend()
    }
    fn visit_i64<E: serde::de::Error>(mut self, _: i64) -> Result<(), E> {
        self.spend()
    }
    fn visit_u64<E: serde::de::Error>(mut self, _: u64) -> Result<(), E> {
        self.spend()
    }
    fn visit_f64<E: serde::de::Error>(mut self, _: f64) -> Result<(), E> {
        self.spend()
    }
    fn visit_str<E: serde::de::Error>(mut self, _: &str) -> Result<(), E> {
        self.spend()
    }
    fn visit_bytes<E: serde::de::Error>(mut self, _: &[u8]) -> Result<(), E> {
        self.spend()
    }
    fn visit_unit<E: serde::de::Error>(mut self) -> Result<(), E> {
        self.spend()
    }
    fn visit_none<E: serde::de::Error>(mut self) -> Result<(), E> {
        self.spend()
    }
    fn visit_some<D: serde::Deserializer<'de>>(mut self, d: D) -> Result<(), D::Error> {
        self.spend()?;
        Budget(self.0).deserialize(d)
    }
    fn visit_newtype_struct<D: serde::Deserializer<'de>>(mut self, d: D) -> Result<(), D::Error> {
        self.spend()?;
        Budget(self.0).deserialize(d)
    }
    fn visit_seq<A: SeqAccess<'de>>(mut self, mut seq: A) -> Result<(), A::Error> {
        self.spend()?;
        while seq.next_element_seed(Budget(self.0))?.is_some() {}
        Ok(())
    }
    fn visit_map<A: MapAccess<'de>>(mut self, mut map: A) -> Result<(), A::Error> {
        self.spend()?;
        while map.next_key_seed(Budget(self.0))?.is_some() {
            map.next_value_seed(Budget(self.0))?;
        }
        Ok(())
    }
    fn visit_enum<A: serde::de::EnumAccess<'de>>(mut self, data: A) -> Result<(), A::Error> {
        use serde::de::VariantAccess;
        self.spend()?;
        let ((), variant) = data.variant_seed(Budget(self.0))?;
        variant.newtype_variant_seed(Budget(self.0))
    }
}

/// serde_yaml's message, with its chunk-relative positions rewritten to the original file.
fn rewrite_positions(message: &str, line_offset: usize) -> String {
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    while let Some(i) = rest.find("line ") {
        out.push_str(&rest[..i + 5]);
        rest = &rest[i + 5..];
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        match rest[..digits].parse::<usize>() {
            Ok(n) => out.push_str(&(n + line_offset).to_string()),
            Err(_) => out.push_str(&rest[..digits]),
        }
        rest = &rest[digits..];
    }
    out.push_str(rest);
    out
}

fn yaml_error(kind: YamlErrorKind, e: &serde_yaml::Error, body: &str, chunk: &Chunk) -> YamlError {
    let offset = chunk.start.line - 1;
    // libyaml's reader errors (control characters) carry a byte offset into the document and
    // no real mark: the offset, turned into a line and column, is where the problem is.
    let reader_pos = reader_error_pos(&e.to_string(), body, chunk);
    let pos = match (reader_pos, e.location()) {
        (Some(p), _) => p,
        // serde_yaml marks a duplicate key at the start of its mapping: point at the duplicate.
        (None, Some(l)) => duplicate_key_line(&e.to_string(), body, l.line(), l.column())
            .map(|p| Pos {
                line: p.line + offset,
                column: p.column,
            })
            .unwrap_or(Pos {
                line: l.line() + offset,
                column: l.column(),
            }),
        (None, None) => chunk.content.unwrap_or(chunk.start),
    };
    let pos = within_document(pos, body, chunk);
    let full = rewrite_positions(&e.to_string(), offset);
    let full = match full.split_once(" at position ") {
        Some((head, tail)) if reader_pos.is_some() => {
            format!(
                "{head}{}",
                tail.trim_start_matches(|c: char| c.is_ascii_digit())
            )
        }
        _ => full,
    };
    // The position is reported separately: keep the message itself short. A duplicate key's
    // position is its second occurrence; serde_yaml's mark (the mapping's start) goes too.
    let marked = e.location().map(|l| (l.line() + offset, l.column()));
    let message = [Some((pos.line, pos.column)), marked]
        .into_iter()
        .flatten()
        .fold(full, |m, (line, column)| {
            m.replacen(&format!(" at line {line} column {column}"), "", 1)
        });
    YamlError { kind, message, pos }
}

/// For a duplicate-key error whose mapping starts at `line`:`column` of `body` (block style),
/// the chunk-relative position of the key's second occurrence at that mapping's level.
fn duplicate_key_line(message: &str, body: &str, line: usize, column: usize) -> Option<Pos> {
    // serde_yaml puts the mapping's path first (`spec.subnets: duplicate entry ...`).
    const MARK: &str = "duplicate entry with key ";
    let rest = &message[message.find(MARK)? + MARK.len()..];
    let key = match rest.strip_prefix('"') {
        Some(quoted) => {
            let end = quoted.find('"')?;
            let key = &quoted[..end];
            // An escaped key is not looked for.
            (!key.contains('\\')).then_some(key)?
        }
        None => rest
            .trim_start_matches('`')
            .split(['`', ' '])
            .next()
            .filter(|k| !k.is_empty())?,
    };
    let indent = column.checked_sub(1)?;
    let mut seen = 0;
    for (n, text) in body.lines().enumerate().skip(line.checked_sub(1)?) {
        let trimmed = text.trim_start_matches(' ');
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let first = n + 1 == line;
        let at = text.len() - trimmed.len();
        if !first && at < indent {
            return None; // left the mapping
        }
        if !first && at > indent {
            continue;
        }
        let Some(after) = text.get(indent..) else {
            continue;
        };
        let named = [key.to_string(), format!("\"{key}\""), format!("'{key}'")]
            .iter()
            .any(|k| {
                after
                    .strip_prefix(k.as_str())
                    .is_some_and(|a| a.trim_start_matches([' ', '\t']).starts_with(':'))
            });
        if named {
            seen += 1;
            if seen == 2 {
                return Some(Pos {
                    line: n + 1,
                    column: indent + 1,
                });
            }
        }
    }
    None
}

/// `tree`: whether the caller wants the positioned tree (validation beyond the envelope does);
/// without it the document is only walked through serde_yaml, which is cheaper than building
/// the tree.
pub fn parse_chunk(
    text: &str,
    chunk: &Chunk,
    limits: &Limits,
    tree: bool,
) -> Result<Parsed, YamlError> {
    let body = &text[chunk.range.clone()];
    let at = chunk.content.unwrap_or(chunk.start);
    if body.len() > limits.max_doc_bytes {
        return Err(YamlError {
            kind: YamlErrorKind::TooLarge,
            message: format!(
                "the document is {} bytes; fgd reads documents of at most {} bytes",
                body.len(),
                limits.max_doc_bytes
            ),
            pos: at,
        });
    }
    let s = scan(body, limits.max_flow_depth);
    if let Some((line, col, blind_only)) = s.too_deep_at {
        let line_text = body.lines().nth(line).unwrap_or("");
        let column = line_text
            .get(..col)
            .map(|p| p.chars().count())
            .unwrap_or(col)
            + 1;
        return Err(YamlError {
            kind: YamlErrorKind::TooDeep,
            message: if blind_only {
                format!(
                    "more than {} `[` or `{{` left open, counting those inside quoted strings (fgd cannot be sure they are strings, and the parser slows down with every open level); close them or write fewer in one document",
                    limits.max_flow_depth * BLIND_FACTOR
                )
            } else {
                format!(
                    "flow collections ([ ] and {{ }}) nest deeper than {} levels",
                    limits.max_flow_depth
                )
            },
            pos: Pos {
                line: chunk.start.line + line,
                column,
            },
        });
    }
    if chunk.content.is_none() {
        return Ok(Parsed::Empty);
    }
    if let Some(e) = stray_marks(body, chunk) {
        return Err(e);
    }
    if s.has_alias {
        let mut nodes = Nodes {
            left: limits.max_nodes,
            spent: false,
        };
        if let Some(doc) = serde_yaml::Deserializer::from_str(body).next() {
            if let Err(e) = Budget(&mut nodes).deserialize(doc) {
                // serde_yaml's own alias limit has a private error kind: its text is the only
                // way to know it (as in `classify_error`).
                if nodes.spent || e.to_string().contains("repetition limit exceeded") {
                    return Err(YamlError {
                        kind: YamlErrorKind::AliasExpansion,
                        message: format!(
                            "aliases expand this document to more than {} nodes (the parser expands every alias); write the values out or use fewer aliases",
                            limits.max_nodes
                        ),
                        pos: at,
                    });
                }
                // Any other error is reported below, by the real parse.
            }
        }
    }
    // The positioned tree validation reads; most often it also gives the head without a walk
    // through serde_yaml (`tree_head`).
    let mut seen = tree_head::Seen::default();
    let tree = match tree {
        true => tree::parse_watched(body, &mut |ev, key, depth| seen.watch(ev, key, depth)),
        false => None,
    };
    let shortcut = tree
        .as_ref()
        .and_then(|(root, shape)| tree_head::from_tree(body, root, shape, seen));
    let (first, keys) = match shortcut {
        Some(head) => head,
        None => match walk(body, chunk)? {
            Some(head) => head,
            None => return Ok(Parsed::Empty),
        },
    };
    let unportable = portable::unportable(body, chunk, &keys, &s.rare);
    Ok(Parsed::Document(first, unportable, tree.map(|(n, _)| n)))
}

/// The head of the chunk's document, walking all of it through serde_yaml; None when it holds
/// no document.
pub(super) fn walk(
    body: &str,
    chunk: &Chunk,
) -> Result<Option<(serde_yaml::Value, KeyFindings)>, YamlError> {
    let at = chunk.content.unwrap_or(chunk.start);
    let mut docs = serde_yaml::Deserializer::from_str(body);
    let (first, keys) = match docs.next() {
        None => return Ok(None),
        Some(d) => super::head::parse_head(d).map_err(|e| classify_error(&e, body, chunk))?,
    };
    // A second document inside one chunk (a `...` end marker followed by more): refuse rather
    // than guess which one is meant. Only one more is read, and only if the first parsed.
    if let Some(d) = docs.next() {
        let second = serde_yaml::Value::deserialize(d);
        if !matches!(second, Ok(serde_yaml::Value::Null)) {
            return Err(YamlError {
                kind: YamlErrorKind::MultipleDocuments,
                message: "more than one YAML document without a `---` line between them (after a `...` end marker?); put `---` on its own line between documents".into(),
                pos: at,
            });
        }
    }
    Ok(Some((first, keys)))
}

/// libyaml marks an error found at the end of the stream (an unclosed `[`) just past it: on
/// the line after the document, which is the next document's `---` or no line at all. Such a
/// position is moved to the end of the document's last line that has text.
fn within_document(pos: Pos, body: &str, chunk: &Chunk) -> Pos {
    let last = body
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .last();
    match last {
        Some((i, text)) if pos.line > chunk.start.line + i => Pos {
            line: chunk.start.line + i,
            column: text.trim_end().chars().count() + 1,
        },
        _ => pos,
    }
}

/// Where a reader error's "at position N" (a byte offset into the chunk) is in the file.
fn reader_error_pos(message: &str, body: &str, chunk: &Chunk) -> Option<Pos> {
    let (head, tail) = message.split_once(" at position ")?;
    if head.contains(" at line ") {
        return None;
    }
    let digits = tail.bytes().take_while(u8::is_ascii_digit).count();
    let at: usize = tail[..digits].parse().ok()?;
    let before = body.get(..at)?;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    Some(Pos {
        line: chunk.start.line + before.bytes().filter(|&b| b == b'\n').count(),
        column: before[line_start..].chars().count() + 1,
    })
}

/// What serde_yaml would misreport: a byte-order mark past the start of the file (files joined
/// after one was saved on Windows) and a carriage return that ends a line alone (old Mac line
/// ends, which YAML reads as line breaks and fgd's splitter does not).
fn stray_marks(body: &str, chunk: &Chunk) -> Option<YamlError> {
    const BOM: &str = "a byte-order mark (U+FEFF) inside the file, usually left by joining files one of which was saved with one: delete it";
    const LINE_SEPARATOR: &str = "a Unicode line separator (U+2028, U+2029 or U+0085): YAML 1.1 readers (serde_yaml, go-yaml) take it as a line break, fgd and kustomize split files at line feeds only, so the two would read different documents; replace it with a line feed or delete it";
    const LONE_CR: &str = "a carriage return that is not followed by a line feed (old Mac line endings?): fgd splits documents at line feeds; convert the file to LF or CRLF line endings";
    // One pass over the bytes: each mark starts with a byte that is rare in YAML.
    let b = body.as_bytes();
    let found = b.iter().enumerate().find_map(|(i, &c)| {
        let next = |k: usize| b.get(i + k).copied();
        match c {
            0xEF if (next(1), next(2)) == (Some(0xBB), Some(0xBF)) => Some((i, BOM)),
            0xE2 if next(1) == Some(0x80) && matches!(next(2), Some(0xA8 | 0xA9)) => {
                Some((i, LINE_SEPARATOR))
            }
            0xC2 if next(1) == Some(0x85) => Some((i, LINE_SEPARATOR)),
            b'\r' if next(1) != Some(b'\n') => Some((i, LONE_CR)),
            _ => None,
        }
    });
    found.map(|(i, message)| YamlError {
        kind: YamlErrorKind::Syntax,
        message: message.into(),
        pos: reader_error_pos(&format!(" at position {i}"), body, chunk).unwrap_or(chunk.start),
    })
}

/// serde_yaml's error kinds are private (its `ErrorImpl`): the depth and alias limits it
/// stops at are known only by their fixed texts, read here and where the alias walk fails.
fn classify_error(e: &serde_yaml::Error, body: &str, chunk: &Chunk) -> YamlError {
    let msg = e.to_string();
    let kind = if msg.contains("recursion limit exceeded") {
        YamlErrorKind::TooDeep
    } else if msg.contains("repetition limit exceeded") {
        YamlErrorKind::AliasExpansion
    } else {
        YamlErrorKind::Syntax
    };
    yaml_error(kind, e, body, chunk)
}

#[cfg(test)]
mod tests;
