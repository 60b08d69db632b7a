//! What validation finds: a problem names the rule, how bad it is, the field (by path and by
//! position in the original file), fgd's explanation and what the cluster would say.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::yaml::Pos;

/// Whether the cluster would refuse the object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Severity {
    /// The cluster rejects the object (or the whole fabric, in Flux): it is not managed.
    Error,
    /// The cluster accepts it, but something the operator wrote is lost or will drift, or a
    /// reference must already exist in the cluster. Never changes a fate.
    Warning,
    /// The rule could not be decided offline (it needs the live cluster, or data fgd was not
    /// given); listed so a result says what was not checked. Never a pass or a fail.
    NotChecked,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::NotChecked => "not-checked",
        }
    }
}

/// One step of a field path: a mapping key or a sequence index. Keys are kept whole (subnet
/// names, MACs, ports and label keys contain dots and slashes).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Seg {
    Key(String),
    Index(usize),
}

/// One step of a path, borrowed from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SegRef<'p> {
    Key(&'p str),
    Index(usize),
}

/// A field's path from the object's root, e.g. `spec.subnets["10.0.1.0"].vlan`.
///
/// The steps are packed in one buffer, each a LEB128 number (a key's length or an index,
/// shifted left once, its low bit saying which) followed by a key's bytes: the rules make a
/// path for every field they read and keep one in every fact and problem, and a vector of
/// strings cost an allocation per step and most of validation's memory at 100,000 documents;
/// with a fixed 9-byte header per step, the headers were still half of a typical path
/// (`spec.unbundled.link.server.port`: 72 bytes, 32 now). In JSON it is the list of steps.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct FieldPath(Box<[u8]>);

/// The low bit of a step's number: set for an index, clear for a key.
const INDEX: u64 = 1;

/// Append `n` as LEB128: seven bits a byte, the high bit set on every byte but the last.
fn put_varint(b: &mut Vec<u8>, mut n: u64) {
    while n >= 0x80 {
        b.push((n as u8 & 0x7f) | 0x80);
        n >>= 7;
    }
    b.push(n as u8);
}

/// Read a LEB128 number off the front of `b`: the number and the rest.
fn take_varint(b: &[u8]) -> Option<(u64, &[u8])> {
    let mut n = 0u64;
    for (i, &byte) in b.iter().enumerate().take(10) {
        n |= u64::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            return Some((n, &b[i + 1..]));
        }
    }
    None
}

/// How many bytes `n` takes in LEB128: the buffer is made to its exact size, so that boxing
/// it does not reallocate.
fn varint_len(n: u64) -> usize {
    (64 - (n | 1).leading_zeros() as usize).div_ceil(7)
}

impl FieldPath {
    pub fn root() -> FieldPath {
        FieldPath::default()
    }

    pub fn of(keys: &[&str]) -> FieldPath {
        keys.iter().fold(FieldPath::root(), |p, k| p.key(k))
    }

    pub fn key(&self, k: &str) -> FieldPath {
        let n = (k.len() as u64) << 1;
        let mut b = Vec::with_capacity(self.0.len() + varint_len(n) + k.len());
        b.extend_from_slice(&self.0);
        put_varint(&mut b, n);
        b.extend_from_slice(k.as_bytes());
        FieldPath(b.into_boxed_slice())
    }

    pub fn index(&self, i: usize) -> FieldPath {
        let n = ((i as u64) << 1) | INDEX;
        let mut b = Vec::with_capacity(self.0.len() + varint_len(n));
        b.extend_from_slice(&self.0);
        put_varint(&mut b, n);
        FieldPath(b.into_boxed_slice())
    }

    pub fn is_root(&self) -> bool {
        self.0.is_empty()
    }

    /// The steps, from the root.
    pub fn segs(&self) -> impl Iterator<Item = SegRef<'_>> + '_ {
        let mut rest: &[u8] = &self.0;
        std::iter::from_fn(move || {
            let (n, tail) = take_varint(rest)?;
            if n & INDEX == INDEX {
                rest = tail;
                return Some(SegRef::Index((n >> 1) as usize));
            }
            let (key, tail) = tail.split_at_checked((n >> 1) as usize)?;
            rest = tail;
            // Built from `&str`s only, so always UTF-8.
            Some(SegRef::Key(std::str::from_utf8(key).unwrap_or_default()))
        })
    }
}

impl Serialize for FieldPath {
    fn serialize<S: serde::Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        let mut seq = ser.serialize_seq(None)?;
        for seg in self.segs() {
            match seg {
                SegRef::Key(k) => seq.serialize_element(k)?,
                SegRef::Index(i) => seq.serialize_element(&i)?,
            }
        }
        seq.end()
    }
}

impl<'de> Deserialize<'de> for FieldPath {
    fn deserialize<D: serde::Deserializer<'de>>(de: D) -> Result<Self, D::Error> {
        // Straight into the buffer: through `Vec<Seg>` (an untagged enum, which serde reads
        // by buffering each step first), reading back an ingest's held problems took a tenth
        // of its output thread.
        struct Steps;
        impl<'de> serde::de::Visitor<'de> for Steps {
            type Value = FieldPath;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a list of keys (strings) and indexes (integers)")
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<FieldPath, A::Error> {
                let mut b = Vec::new();
                while let Some(step) = seq.next_element::<Step>()? {
                    match step {
                        Step::Key(k) => {
                            put_varint(&mut b, (k.len() as u64) << 1);
                            b.extend_from_slice(k.as_bytes());
                        }
                        Step::Index(i) => put_varint(&mut b, (i << 1) | INDEX),
                    }
                }
                Ok(FieldPath(b.into_boxed_slice()))
            }
        }
        de.deserialize_seq(Steps)
    }
}

/// One step of a path as JSON has it: a string is a key, a number an index.
enum Step<'de> {
    Key(std::borrow::Cow<'de, str>),
    Index(u64),
}

impl<'de> Deserialize<'de> for Step<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(de: D) -> Result<Self, D::Error> {
        struct One;
        impl<'de> serde::de::Visitor<'de> for One {
            type Value = Step<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a key (a string) or an index (a non-negative integer)")
            }
            fn visit_borrowed_str<E: serde::de::Error>(self, v: &'de str) -> Result<Step<'de>, E> {
                Ok(Step::Key(std::borrow::Cow::Borrowed(v)))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Step<'de>, E> {
                Ok(Step::Key(std::borrow::Cow::Owned(v.to_string())))
            }
            fn visit_string<E: serde::de::Error>(self, v: String) -> Result<Step<'de>, E> {
                Ok(Step::Key(std::borrow::Cow::Owned(v)))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Step<'de>, E> {
                // Below 2^63: the step's number keeps one bit for its kind.
                if v >> 63 != 0 {
                    return Err(E::custom(format!("index {v} is too large")));
                }
                Ok(Step::Index(v))
            }
        }
        de.deserialize_any(One)
    }
}

impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for seg in self.segs() {
            match seg {
                SegRef::Index(i) => write!(f, "[{i}]")?,
                SegRef::Key(k)
                    if !k.is_empty()
                        && k.chars()
                            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') =>
                {
                    if !first {
                        f.write_str(".")?;
                    }
                    f.write_str(k)?;
                }
                SegRef::Key(k) => write!(f, "[{k:?}]")?,
            }
            first = false;
        }
        Ok(())
    }
}

/// Another place a problem concerns: the other side of a conflict, or what a reference names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Place {
    /// Fabric-relative or as given on the command line, like every file name fgd prints.
    pub file: String,
    pub pos: Pos,
    /// `Kind/name` of the object there.
    pub object: String,
}

impl fmt::Display for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{} ({})",
            self.file, self.pos.line, self.pos.column, self.object
        )
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    /// fgd's rule id, as in RULES.md and docs/validation.md (`VPC-26`).
    pub rule: RuleId,
    pub severity: Severity,
    /// The offending field; for a missing field, the mapping that should hold it.
    pub path: FieldPath,
    /// Where that field is in the original file.
    pub pos: Pos,
    /// fgd's plain explanation.
    // Boxed strings and place: a big ingest holds 10^5 problems until its plan, and these
    // are a third of each one's size (the spare capacity of a `String` included).
    pub message: Box<str>,
    /// What the cluster would answer, when it answers (the admission webhook's own text).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub upstream: Option<Box<str>>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub see_also: Option<Box<Place>>,
    /// The verdict rests on fgd's built-in fabric config or switch profile catalog, not on a
    /// fab.yaml the operator named.
    #[serde(skip_serializing_if = "std::ops::Not::not", default)]
    pub assumed: bool,
}

impl Problem {
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// `[VPC-26] message` plus what the cluster says, on one line.
    pub fn summary(&self) -> String {
        self.one_line().to_string()
    }

    /// The summary, written where it is wanted without a string of its own (a validate prints
    /// one per problem).
    pub fn one_line(&self) -> OneLine<'_> {
        OneLine(self)
    }
}

/// A problem as `summary` says it, for `format_args!` and `write!`.
pub struct OneLine<'a>(&'a Problem);

impl fmt::Display for OneLine<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let p = self.0;
        write!(f, "[{}] ", p.rule)?;
        if !p.path.is_root() {
            write!(f, "{}: ", p.path)?;
        }
        f.write_str(&p.message)?;
        if p.assumed {
            f.write_str(" (assumed: fgd's default fabric config; point fgd at your fab.yaml)")?;
        }
        if let Some(u) = &p.upstream {
            write!(f, "; the cluster says: {u}")?;
        }
        if let Some(at) = &p.see_also {
            write!(f, "; see also {at}")?;
        }
        Ok(())
    }
}

/// A rule's id (`VPC-26`): an identifier from the catalogue (`rules::catalogue`), compared
/// and matched as data (for `--skip-rule`), never parsed out of a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct RuleId(pub &'static str);

impl fmt::Display for RuleId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl<'de> Deserialize<'de> for RuleId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        super::rules::lookup(&s)
            .map(|r| r.id)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown rule id {s}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_path_shows_reads_and_round_trips_its_steps() {
        let p = FieldPath::of(&["spec", "subnets"])
            .key("10.0.1.0/24")
            .key("")
            .index(3)
            .key("vlan");
        assert_eq!(p.to_string(), r#"spec.subnets["10.0.1.0/24"][""][3].vlan"#);
        assert_eq!(
            p.segs().collect::<Vec<_>>(),
            [
                SegRef::Key("spec"),
                SegRef::Key("subnets"),
                SegRef::Key("10.0.1.0/24"),
                SegRef::Key(""),
                SegRef::Index(3),
                SegRef::Key("vlan"),
            ]
        );
        let json = serde_json::to_string(&p).expect("serialize");
        assert_eq!(json, r#"["spec","subnets","10.0.1.0/24","",3,"vlan"]"#);
        let back: FieldPath = serde_json::from_str(&json).expect("deserialize");
        assert_eq!(back, p);
        assert!(FieldPath::root().is_root() && !p.is_root());
        assert_eq!(FieldPath::root().to_string(), "");
        // Escaped keys read back whole; what is neither a key nor an index is refused.
        let escaped: FieldPath = serde_json::from_str(r#"["a\"b", 0]"#).expect("escaped");
        assert_eq!(escaped, FieldPath::root().key("a\"b").index(0));
        assert_eq!(
            serde_json::from_str::<FieldPath>("[]").unwrap(),
            FieldPath::root()
        );
        for bad in ["[-1]", "[1.5]", "[true]", "[null]", r#""spec""#] {
            assert!(serde_json::from_str::<FieldPath>(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_long_key_and_a_big_index_take_several_bytes_and_read_back() {
        let long = "k".repeat(300);
        let p = FieldPath::root()
            .index(63)
            .index(64)
            .key(&long)
            .index(usize::MAX >> 1)
            .key("é");
        assert_eq!(
            p.segs().collect::<Vec<_>>(),
            [
                SegRef::Index(63),
                SegRef::Index(64),
                SegRef::Key(&long),
                SegRef::Index(usize::MAX >> 1),
                SegRef::Key("é"),
            ]
        );
        // Read back from JSON: keys borrowed, unescaped (copied) or from a reader alike.
        let json = serde_json::to_string(&p).expect("serialize");
        let back: FieldPath = serde_json::from_str(&json).expect("deserialize");
        assert_eq!(back, p);
        let back: FieldPath = serde_json::from_reader(json.as_bytes()).expect("deserialize");
        assert_eq!(back, p);
        let escaped: FieldPath = serde_json::from_str(r#"["a\"b", 0]"#).expect("deserialize");
        assert_eq!(escaped, FieldPath::of(&["a\"b"]).index(0));
        for bad in [r#"[-1]"#, r#"[1.5]"#, r#"[null]"#, r#""spec""#] {
            assert!(serde_json::from_str::<FieldPath>(bad).is_err(), "{bad}");
        }
        for n in [0, 1, 127, 128, 16383, 16384, u64::MAX] {
            let mut b = Vec::new();
            put_varint(&mut b, n);
            assert_eq!(b.len(), varint_len(n), "{n}");
            assert_eq!(take_varint(&b), Some((n, &[][..])));
        }
        // One byte a step for short keys and small indexes.
        assert_eq!(FieldPath::of(&["spec", "asn"]).0.len(), 2 + 4 + 3);
    }
}
