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

const KEY: u8 = 0;
const INDEX: u8 = 1;

/// A field's path from the object's root, e.g. `spec.subnets["10.0.1.0"].vlan`.
///
/// The steps are packed in one buffer (a tag byte, then a key's length and bytes or an index):
/// the rules make a path for every field they read and keep one in every fact and problem, and
/// a vector of strings cost an allocation per step and most of validation's memory at 100,000
/// documents. In JSON it is the list of steps.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct FieldPath(Box<[u8]>);

impl FieldPath {
    pub fn root() -> FieldPath {
        FieldPath::default()
    }

    pub fn of(keys: &[&str]) -> FieldPath {
        keys.iter().fold(FieldPath::root(), |p, k| p.key(k))
    }

    pub fn key(&self, k: &str) -> FieldPath {
        let mut b = Vec::with_capacity(self.0.len() + 9 + k.len());
        b.extend_from_slice(&self.0);
        b.push(KEY);
        b.extend_from_slice(&(k.len() as u64).to_le_bytes());
        b.extend_from_slice(k.as_bytes());
        FieldPath(b.into_boxed_slice())
    }

    pub fn index(&self, i: usize) -> FieldPath {
        let mut b = Vec::with_capacity(self.0.len() + 9);
        b.extend_from_slice(&self.0);
        b.push(INDEX);
        b.extend_from_slice(&(i as u64).to_le_bytes());
        FieldPath(b.into_boxed_slice())
    }

    pub fn is_root(&self) -> bool {
        self.0.is_empty()
    }

    /// The steps, from the root.
    pub fn segs(&self) -> impl Iterator<Item = SegRef<'_>> + '_ {
        let mut rest: &[u8] = &self.0;
        std::iter::from_fn(move || {
            let (&tag, tail) = rest.split_first()?;
            let (n, tail) = tail.split_first_chunk::<8>()?;
            let n = u64::from_le_bytes(*n) as usize;
            if tag == INDEX {
                rest = tail;
                return Some(SegRef::Index(n));
            }
            let (key, tail) = tail.split_at_checked(n)?;
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
        // Each step straight into the packed buffer, as `Seg` reads it (a string is a key, a
        // number an index), but not buffered as an untagged enum first nor the path copied per
        // step: the cache of verdicts reads hundreds of thousands of paths per sync.
        struct Steps;
        impl<'de> serde::de::Visitor<'de> for Steps {
            type Value = FieldPath;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a list of keys and indexes")
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<FieldPath, A::Error> {
                let mut b = Vec::new();
                while seq.next_element_seed(Step(&mut b))?.is_some() {}
                Ok(FieldPath(b.into_boxed_slice()))
            }
        }
        struct Step<'b>(&'b mut Vec<u8>);
        impl<'de> serde::de::DeserializeSeed<'de> for Step<'_> {
            type Value = ();
            fn deserialize<D: serde::Deserializer<'de>>(self, de: D) -> Result<(), D::Error> {
                de.deserialize_any(self)
            }
        }
        impl<'de> serde::de::Visitor<'de> for Step<'_> {
            type Value = ();
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a key or an index")
            }
            fn visit_str<E: serde::de::Error>(self, k: &str) -> Result<(), E> {
                self.0.push(KEY);
                self.0.extend_from_slice(&(k.len() as u64).to_le_bytes());
                self.0.extend_from_slice(k.as_bytes());
                Ok(())
            }
            fn visit_u64<E: serde::de::Error>(self, i: u64) -> Result<(), E> {
                let i = usize::try_from(i).map_err(E::custom)?;
                self.0.push(INDEX);
                self.0.extend_from_slice(&(i as u64).to_le_bytes());
                Ok(())
            }
            fn visit_i64<E: serde::de::Error>(self, i: i64) -> Result<(), E> {
                match u64::try_from(i) {
                    Ok(i) => self.visit_u64(i),
                    Err(_) => Err(E::invalid_value(serde::de::Unexpected::Signed(i), &self)),
                }
            }
        }
        de.deserialize_seq(Steps)
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
}
