//! What fgd keeps of a parsed document: its head. Classification reads only `apiVersion`,
//! `kind`, `metadata` and whether other top-level keys exist, and the output is the original
//! bytes, so building a `serde_yaml::Value` for `spec` (half the scalars, each an allocation and
//! a hashed map entry) was a third of the parse for nothing.
//!
//! The rest of the document is still walked through serde_yaml exactly as `Value` would read it:
//! every scalar resolved (so a bad `!!int` is still an error), every mapping checked for duplicate
//! keys with serde_yaml's own key equality and message, every tag checked. Only the values are not
//! kept. A document therefore parses or fails exactly as it did with `Value`, with the same message
//! and position; `head_matches_the_full_value_on_every_document` guards that.

use std::cell::RefCell;
use std::collections::HashSet;
use std::fmt;

use serde::de::{
    DeserializeSeed, Deserializer, EnumAccess, Error, MapAccess, SeqAccess, VariantAccess, Visitor,
};
use serde::Deserialize;
use serde_yaml::value::{Tag, TaggedValue};
use serde_yaml::{Mapping, Value};

/// Top-level keys whose values are kept whole.
pub(super) const KEPT: [&str; 3] = ["apiVersion", "kind", "metadata"];

/// Past this many keys a mapping's duplicate check switches from a scan to a hash set, so a
/// hostile mapping with 10^5 keys stays linear.
const SCAN_KEYS: usize = 16;

/// Serde_yaml's expectation text, so a type error reads as it did with `Value`.
const EXPECTING: &str = "any YAML value";

/// What the walk found among a document's mapping keys that kustomize could not read.
#[derive(Debug, Default, PartialEq)]
pub(super) struct KeyFindings {
    /// The first key that is not a string: YAML allows `1: x`, but kustomize (and so Argo CD
    /// and Flux) cannot read such a document.
    pub odd: Option<Value>,
    /// A string key that go-yaml, which kustomize decodes with, would read as something else
    /// if it was written plain (`08`, `2024-01-01`); whether it was, the styles tell.
    pub go_suspect: bool,
    /// A value that is an infinite or not-a-number float (`.inf`, `.nan`): JSON, which
    /// kustomize converts every object to, has no such numbers.
    pub non_finite: bool,
}

/// Parses one document, keeping the values of [`KEPT`] keys in full and every other top-level
/// value as null. A document that is not a mapping is kept whole (it is small, and classification
/// reports its type). Also gives what its mapping keys hold that kustomize could not read.
pub(super) fn parse_head<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<(Value, KeyFindings), D::Error> {
    let odd = OddKey::default();
    let head = d.deserialize_any(Head(&odd))?;
    if let Value::Mapping(m) = &head {
        for k in KEPT {
            if let Some(v) = m.get(k) {
                odd.look_into(v);
            }
        }
    }
    Ok((head, odd.0.into_inner()))
}

#[derive(Default)]
struct OddKey(RefCell<KeyFindings>);

impl OddKey {
    fn note(&self, key: &Value) {
        let mut found = self.0.borrow_mut();
        match key {
            Value::String(s) if !found.go_suspect => {
                found.go_suspect =
                    super::goyaml::plain_reads_as(s, super::goyaml::GoReader::V3).is_some();
            }
            Value::String(_) => {}
            _ if found.odd.is_none() => found.odd = Some(key.clone()),
            _ => {}
        }
    }
    fn note_float(&self, f: f64) {
        if !f.is_finite() {
            self.0.borrow_mut().non_finite = true;
        }
    }
    /// For the values kept whole, which are read as `Value` and not walked.
    fn look_into(&self, v: &Value) {
        match v {
            Value::Mapping(m) => m.iter().for_each(|(k, v)| {
                self.note(k);
                self.look_into(v);
            }),
            Value::Sequence(s) => s.iter().for_each(|v| self.look_into(v)),
            Value::Tagged(t) => self.look_into(&t.value),
            Value::Number(n) => self.note_float(n.as_f64().unwrap_or(0.0)),
            _ => {}
        }
    }
}

struct Head<'k>(&'k OddKey);

impl<'de> Visitor<'de> for Head<'_> {
    type Value = Value;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(EXPECTING)
    }
    fn visit_bool<E: Error>(self, b: bool) -> Result<Value, E> {
        Ok(Value::Bool(b))
    }
    fn visit_i64<E: Error>(self, i: i64) -> Result<Value, E> {
        Ok(Value::Number(i.into()))
    }
    fn visit_u64<E: Error>(self, u: u64) -> Result<Value, E> {
        Ok(Value::Number(u.into()))
    }
    fn visit_f64<E: Error>(self, f: f64) -> Result<Value, E> {
        Ok(Value::Number(f.into()))
    }
    fn visit_str<E: Error>(self, s: &str) -> Result<Value, E> {
        Ok(Value::String(s.to_owned()))
    }
    fn visit_string<E: Error>(self, s: String) -> Result<Value, E> {
        Ok(Value::String(s))
    }
    fn visit_unit<E: Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E: Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        Value::deserialize(d)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(v) = seq.next_element::<Value>()? {
            items.push(v);
        }
        Ok(Value::Sequence(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut head = Mapping::new();
        while let Some(key) = map.next_key::<Value>()? {
            if head.contains_key(&key) {
                return Err(A::Error::custom(duplicate_key(&key)));
            }
            self.0.note(&key);
            let kept = key.as_str().is_some_and(|k| KEPT.contains(&k));
            let value = if kept {
                map.next_value::<Value>()?
            } else {
                map.next_value_seed(Check(self.0))?;
                Value::Null
            };
            head.insert(key, value);
        }
        Ok(Value::Mapping(head))
    }
    fn visit_enum<A: EnumAccess<'de>>(self, data: A) -> Result<Value, A::Error> {
        let (tag, contents) = data.variant_seed(TagName)?;
        let value = contents.newtype_variant::<Value>()?;
        Ok(Value::Tagged(Box::new(TaggedValue { tag, value })))
    }
}

/// Walks a value as `Value`'s own visitor would, keeping nothing but the first odd key. It
/// implements the same visit methods as that visitor and no others, so serde's defaults reject
/// the same inputs.
struct Check<'k>(&'k OddKey);

impl<'de> DeserializeSeed<'de> for Check<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Check<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(EXPECTING)
    }
    fn visit_bool<E: Error>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E: Error>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E: Error>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E: Error>(self, f: f64) -> Result<(), E> {
        self.0.note_float(f);
        Ok(())
    }
    fn visit_str<E: Error>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_string<E: Error>(self, _: String) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E: Error>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_none<E: Error>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        Check(self.0).deserialize(d)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element_seed(Check(self.0))?.is_some() {}
        Ok(())
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut keys = Keys::default();
        while let Some(key) = map.next_key::<Value>()? {
            self.0.note(&key);
            if let Some(key) = keys.insert(key) {
                return Err(A::Error::custom(duplicate_key(&key)));
            }
            map.next_value_seed(Check(self.0))?;
        }
        Ok(())
    }
    fn visit_enum<A: EnumAccess<'de>>(self, data: A) -> Result<(), A::Error> {
        let (_, contents) = data.variant_seed(TagName)?;
        contents.newtype_variant_seed(Check(self.0))
    }
}

/// One mapping's keys so far, compared with `Value`'s equality as serde_yaml's `Mapping` does.
#[derive(Default)]
struct Keys {
    few: Vec<Value>,
    many: HashSet<Value>,
}

impl Keys {
    /// Adds a key; gives it back if it was already there.
    fn insert(&mut self, key: Value) -> Option<Value> {
        if self.many.is_empty() && self.few.len() < SCAN_KEYS {
            if self.few.contains(&key) {
                return Some(key);
            }
            self.few.push(key);
            return None;
        }
        if self.many.is_empty() {
            self.many.extend(self.few.drain(..));
        }
        if self.many.contains(&key) {
            return Some(key);
        }
        self.many.insert(key);
        None
    }
}

/// serde_yaml's `DuplicateKeyError` text.
fn duplicate_key(key: &Value) -> String {
    match key {
        Value::Null => "duplicate entry with null key".into(),
        Value::Bool(b) => format!("duplicate entry with key `{b}`"),
        Value::Number(n) => format!("duplicate entry with key {n}"),
        Value::String(s) => format!("duplicate entry with key {s:?}"),
        Value::Sequence(_) | Value::Mapping(_) | Value::Tagged(_) => {
            "duplicate entry in YAML map".into()
        }
    }
}

/// A tag's name, refused when empty as serde_yaml's tagged values refuse it.
struct TagName;

impl<'de> DeserializeSeed<'de> for TagName {
    type Value = Tag;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Tag, D::Error> {
        d.deserialize_string(self)
    }
}

impl<'de> Visitor<'de> for TagName {
    type Value = Tag;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a YAML tag string")
    }
    fn visit_str<E: Error>(self, s: &str) -> Result<Tag, E> {
        self.visit_string(s.to_owned())
    }
    fn visit_string<E: Error>(self, s: String) -> Result<Tag, E> {
        if s.is_empty() {
            return Err(E::custom("empty YAML tag is not allowed"));
        }
        Ok(Tag::new(s))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The head parse and the full `Value` parse of one text: both fail with the same message,
    /// or both succeed and agree on everything the head keeps.
    fn assert_same_as_value(text: &str) {
        let full = serde_yaml::Deserializer::from_str(text)
            .next()
            .map(Value::deserialize);
        let head = serde_yaml::Deserializer::from_str(text)
            .next()
            .map(|d| parse_head(d).map(|(v, _)| v));
        match (full, head) {
            (None, None) => {}
            (Some(Err(f)), Some(Err(h))) => {
                assert_eq!(f.to_string(), h.to_string(), "error differs for {text:?}")
            }
            (Some(Ok(f)), Some(Ok(h))) => match (&f, &h) {
                (Value::Mapping(fm), Value::Mapping(hm)) => {
                    let fk: Vec<_> = fm.keys().collect();
                    let hk: Vec<_> = hm.keys().collect();
                    assert_eq!(fk, hk, "keys differ for {text:?}");
                    for k in KEPT {
                        assert_eq!(fm.get(k), hm.get(k), "{k} differs for {text:?}");
                    }
                    assert_eq!(
                        crate::classify::classify(&f),
                        crate::classify::classify(&h),
                        "verdict differs for {text:?}"
                    );
                }
                _ => assert_eq!(f, h, "value differs for {text:?}"),
            },
            (f, h) => panic!("outcome differs for {text:?}: full {f:?}, head {h:?}"),
        }
    }

    #[test]
    fn head_matches_the_full_value_on_every_document_of_the_real_corpus() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/real");
        let mut seen = 0;
        for entry in walk(&dir) {
            let Ok(text) = std::fs::read_to_string(&entry) else {
                continue;
            };
            for chunk in super::super::split(&text) {
                assert_same_as_value(&text[chunk.range.clone()]);
                seen += 1;
            }
        }
        assert!(seen > 100, "only {seen} documents found under {dir:?}");
    }

    fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
        let mut out = Vec::new();
        for e in std::fs::read_dir(dir).expect("corpus dir").flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walk(&p));
            } else {
                out.push(p);
            }
        }
        out
    }

    #[test]
    fn head_fails_where_value_fails_and_with_the_same_message() {
        let cases = [
            // duplicate keys at every depth, with every kind of key
            "apiVersion: v1\napiVersion: v2\n",
            "kind: A\nspec:\n  a: 1\n  a: 2\n",
            "spec:\n  x:\n    - {a: 1, a: 2}\n",
            "spec:\n  ~: 1\n  null: 2\n",
            "spec:\n  true: 1\n  True: 2\n",
            "spec:\n  1: a\n  0x1: b\n",
            "spec:\n  \"a\": 1\n  'a': 2\n",
            "spec:\n  [a]: 1\n  [a]: 2\n",
            "spec:\n  .nan: 1\n  .NaN: 2\n",
            "spec:\n  1: a\n  \"1\": b\n",
            "metadata:\n  name: a\n  name: b\n",
            // tags and scalars that Value refuses
            "spec:\n  a: !!int abc\n",
            "spec:\n  a: !!bool maybe\n",
            "spec:\n  a: !!float x\n",
            "spec:\n  a: !!null 1\n",
            "spec:\n  a: !custom 1\n",
            "spec:\n  a: ! 1\n",
            "!custom\napiVersion: v1\n",
            "spec: !!binary aGVsbG8=\n",
            "spec: !!str 1\n",
            "spec:\n  a: 123456789012345678901234567890\n",
            "spec:\n  a: -123456789012345678901234567890\n",
            "spec:\n  a: 0o17\n  b: 1e400\n  c: .inf\n",
            // structure
            "- a\n- b\n",
            "just a string\n",
            "",
            "~\n",
            "spec: &a {x: 1}\nother: *a\n",
            "spec:\n  a: *missing\n",
            "spec:\n  a: [1, 2\n",
            "spec: {? [a, b] : c}\n",
            "spec:\n  <<: {a: 1}\n  a: 2\n",
        ];
        for text in cases {
            assert_same_as_value(text);
        }
    }

    #[test]
    fn a_mapping_with_many_keys_still_finds_a_late_duplicate() {
        let mut text = String::from("spec:\n");
        for i in 0..1000 {
            text.push_str(&format!("  k{i}: {i}\n"));
        }
        text.push_str("  k3: again\n");
        assert_same_as_value(&text);
        let err = serde_yaml::Deserializer::from_str(&text)
            .next()
            .map(parse_head)
            .expect("one document")
            .expect_err("a duplicate");
        assert!(err.to_string().contains("duplicate entry with key \"k3\""));
    }
}
