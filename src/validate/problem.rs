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

/// A field's path from the object's root, e.g. `spec.subnets["10.0.1.0"].vlan`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct FieldPath(pub Vec<Seg>);

impl FieldPath {
    pub fn root() -> FieldPath {
        FieldPath(Vec::new())
    }

    pub fn of(keys: &[&str]) -> FieldPath {
        FieldPath(keys.iter().map(|k| Seg::Key(k.to_string())).collect())
    }

    pub fn key(&self, k: &str) -> FieldPath {
        self.with(Seg::Key(k.to_string()))
    }

    pub fn index(&self, i: usize) -> FieldPath {
        self.with(Seg::Index(i))
    }

    /// This path and one more step, allocated once (the rules build a path per field read).
    fn with(&self, seg: Seg) -> FieldPath {
        let mut segs = Vec::with_capacity(self.0.len() + 1);
        segs.extend_from_slice(&self.0);
        segs.push(seg);
        FieldPath(segs)
    }

    pub fn is_root(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for seg in &self.0 {
            match seg {
                Seg::Index(i) => write!(f, "[{i}]")?,
                Seg::Key(k)
                    if !k.is_empty()
                        && k.chars()
                            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') =>
                {
                    if !first {
                        f.write_str(".")?;
                    }
                    f.write_str(k)?;
                }
                Seg::Key(k) => write!(f, "[{k:?}]")?,
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
    pub message: String,
    /// What the cluster would answer, when it answers (the admission webhook's own text).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub upstream: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub see_also: Option<Place>,
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
        let mut s = format!("[{}] ", self.rule);
        if !self.path.is_root() {
            s.push_str(&format!("{}: ", self.path));
        }
        s.push_str(&self.message);
        if self.assumed {
            s.push_str(" (assumed: fgd's default fabric config; point fgd at your fab.yaml)");
        }
        if let Some(u) = &self.upstream {
            s.push_str(&format!("; the cluster says: {u}"));
        }
        if let Some(p) = &self.see_also {
            s.push_str(&format!("; see also {p}"));
        }
        s
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
