//! The CRDs' `openAPIV3Schema`, checked as the API server checks a structural schema: types,
//! formats and the Go integer widths behind them, enums, patterns, bounds, lengths, required
//! fields and unknown fields, with the server's own message forms.
//!
//! Hand-written rather than a JSON-schema crate: the Hedgehog CRDs use a small structural
//! subset (no `$ref`, `anyOf`, `oneOf`, CEL), the checks must run on fgd's positioned tree (a
//! JSON-schema crate validates its own `Value`, so each document would be converted and each
//! error's instance path mapped back to a line), and Kubernetes differs from JSON Schema where
//! it matters here (nulls are pruned, unknown fields are an error only under strict decoding,
//! integers are also bounded by the Go field's type). Measured cost: see the benchmark.

use std::path::Path;
use std::sync::Arc;

use include_dir::{include_dir, Dir};
use regex::Regex;
use serde_yaml::Value as Yaml;

static SHIPPED: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/assets/crds");

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Type {
    Object,
    Array,
    String,
    Integer,
    Number,
    Boolean,
    /// No `type`: anything goes.
    Any,
}

#[derive(Debug, Default)]
pub struct Schema {
    pub ty: Option<Type>,
    pub format: Option<String>,
    pub enum_values: Vec<Yaml>,
    pub pattern: Option<(String, Regex)>,
    pub minimum: Option<f64>,
    pub maximum: Option<f64>,
    pub min_length: Option<u64>,
    pub max_length: Option<u64>,
    pub min_items: Option<u64>,
    pub max_items: Option<u64>,
    pub items: Option<Box<Schema>>,
    pub properties: Vec<(String, Schema)>,
    pub additional: Option<Box<Schema>>,
    pub required: Vec<String>,
    pub nullable: bool,
    pub preserve_unknown: bool,
    pub default: Option<Yaml>,
}

/// One CRD: the kind it defines and its schema.
#[derive(Debug)]
pub struct Crd {
    pub group: String,
    pub kind: String,
    pub version: String,
    pub schema: Schema,
}

/// The CRDs fgd validates against, by (group, kind).
#[derive(Debug, Default)]
pub struct Crds {
    /// A list, not a map: there are a few dozen, and a lookup per document compares two short
    /// strings instead of building a key.
    by_kind: Vec<Arc<Crd>>,
    /// Where they came from, for messages: "fgd's shipped CRDs (githedgehog/fabric 78827de)"
    /// or the folder given.
    pub origin: String,
}

#[derive(Debug, thiserror::Error)]
#[error("{file}: {message}")]
pub struct CrdError {
    pub file: String,
    pub message: String,
}

impl Crds {
    /// The CRDs compiled into fgd.
    pub fn shipped() -> Result<Crds, CrdError> {
        let mut crds = Crds::shipped_unread();
        let mut texts = Vec::new();
        for f in SHIPPED.files() {
            let name = f.path().display().to_string();
            if !name.ends_with(".yaml") {
                continue;
            }
            let text = f.contents_utf8().ok_or_else(|| CrdError {
                file: name.clone(),
                message: "not UTF-8".into(),
            })?;
            texts.push((name, text));
        }
        crds.add_all(&texts)?;
        Ok(crds)
    }

    /// The shipped CRDs named but not read: for checks that look at no spec.
    pub fn shipped_unread() -> Crds {
        Crds {
            origin: "fgd's shipped CRDs (githedgehog/fabric 78827de)".into(),
            ..Default::default()
        }
    }

    /// Every `*.yaml`/`*.yml` CRD in `dir` (another fabric release's `config/crd/bases`).
    pub fn from_dir(dir: &Path) -> Result<Crds, CrdError> {
        let err = |message: String| CrdError {
            file: dir.display().to_string(),
            message,
        };
        let mut crds = Crds {
            origin: format!("the CRDs in {}", dir.display()),
            ..Default::default()
        };
        let mut names: Vec<_> = std::fs::read_dir(dir)
            .map_err(|e| err(format!("cannot list the CRD folder: {e}")))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "yaml" || x == "yml"))
            .collect();
        names.sort();
        let mut texts = Vec::new();
        for p in names {
            let text = std::fs::read_to_string(&p).map_err(|e| CrdError {
                file: p.display().to_string(),
                message: format!("cannot read: {e}"),
            })?;
            texts.push((p.display().to_string(), text));
        }
        crds.add_all(&texts)?;
        if crds.by_kind.is_empty() {
            return Err(err("holds no CustomResourceDefinition".into()));
        }
        Ok(crds)
    }

    /// Read CRD files (name, text), in order: a later definition of a kind replaces an
    /// earlier one. Every command that validates specs waits for this before reading a file,
    /// so the files are parsed on two threads when there are two cores.
    fn add_all<T: AsRef<str> + Sync>(&mut self, texts: &[(String, T)]) -> Result<(), CrdError> {
        let read_all = |texts: &[(String, T)]| -> Result<Vec<Crd>, CrdError> {
            let mut out = Vec::new();
            for (file, text) in texts {
                out.extend(read(file, text.as_ref())?);
            }
            Ok(out)
        };
        // Halves of about equal size, so the two threads finish together.
        let total: usize = texts.iter().map(|(_, t)| t.as_ref().len()).sum();
        let mut sum = 0;
        let split = texts
            .iter()
            .position(|(_, t)| {
                sum += t.as_ref().len();
                sum * 2 >= total
            })
            .map_or(texts.len(), |i| i + 1);
        let (first, second) = texts.split_at(split);
        let (first, second) =
            super::join(!second.is_empty(), || read_all(first), || read_all(second));
        let mut crds = first?;
        crds.extend(second?);
        for crd in crds {
            match self
                .by_kind
                .iter_mut()
                .find(|c| c.group == crd.group && c.kind == crd.kind)
            {
                Some(known) => *known = Arc::new(crd),
                None => self.by_kind.push(Arc::new(crd)),
            }
        }
        Ok(())
    }

    pub fn get(&self, group: &str, kind: &str) -> Option<&Arc<Crd>> {
        self.by_kind
            .iter()
            .find(|c| c.kind == kind && c.group == group)
    }
}

/// The CRDs one file defines.
fn read(file: &str, text: &str) -> Result<Vec<Crd>, CrdError> {
    let mut out = Vec::new();
    let err = |message: String| CrdError {
        file: file.to_string(),
        message,
    };
    for doc in serde_yaml::Deserializer::from_str(text) {
        let y = <Yaml as serde::Deserialize>::deserialize(doc).map_err(|e| err(e.to_string()))?;
        if y.get("kind").and_then(Yaml::as_str) != Some("CustomResourceDefinition") {
            continue;
        }
        let spec = y
            .get("spec")
            .ok_or_else(|| err("a CRD without spec".into()))?;
        let group = spec.get("group").and_then(Yaml::as_str).unwrap_or_default();
        let kind = spec
            .get("names")
            .and_then(|n| n.get("kind"))
            .and_then(Yaml::as_str)
            .unwrap_or_default();
        let versions = spec.get("versions").and_then(Yaml::as_sequence);
        // The served version (Hedgehog CRDs serve exactly one).
        let Some(v) = versions.and_then(|vs| {
            vs.iter()
                .find(|v| v.get("served").and_then(Yaml::as_bool) != Some(false))
        }) else {
            return Err(err(format!("{kind}: no served version")));
        };
        let raw = v
            .get("schema")
            .and_then(|s| s.get("openAPIV3Schema"))
            .ok_or_else(|| err(format!("{kind}: no openAPIV3Schema")))?;
        let schema = compile(raw).map_err(|m| err(format!("{kind}: {m}")))?;
        out.push(Crd {
            group: group.to_string(),
            kind: kind.to_string(),
            version: v
                .get("name")
                .and_then(Yaml::as_str)
                .unwrap_or_default()
                .to_string(),
            schema,
        });
    }
    Ok(out)
}

/// A CRD's pattern as the API server reads it: Go's RE2, whose `\d`, `\w`, `\s` and `\b` are
/// ASCII only. The regex crate's are Unicode by default, and a Unicode `\b` needs the word
/// tables: compiling the shipped CRDs' IP patterns that way was half the work of validating a
/// thousand documents. Only a pattern that needs Unicode mode for the regex crate (a `.` that
/// may match any character) keeps it.
fn go_regex(p: &str) -> Result<Regex, regex::Error> {
    regex::RegexBuilder::new(p)
        .unicode(false)
        .build()
        .or_else(|_| Regex::new(p))
}

fn compile(y: &Yaml) -> Result<Schema, String> {
    let mut s = Schema {
        ty: match y.get("type").and_then(Yaml::as_str) {
            None => None,
            Some("object") => Some(Type::Object),
            Some("array") => Some(Type::Array),
            Some("string") => Some(Type::String),
            Some("integer") => Some(Type::Integer),
            Some("number") => Some(Type::Number),
            Some("boolean") => Some(Type::Boolean),
            Some(other) => return Err(format!("unknown schema type {other}")),
        },
        format: y.get("format").and_then(Yaml::as_str).map(str::to_string),
        enum_values: y
            .get("enum")
            .and_then(Yaml::as_sequence)
            .cloned()
            .unwrap_or_default(),
        minimum: y.get("minimum").and_then(Yaml::as_f64),
        maximum: y.get("maximum").and_then(Yaml::as_f64),
        min_length: y.get("minLength").and_then(Yaml::as_u64),
        max_length: y.get("maxLength").and_then(Yaml::as_u64),
        min_items: y.get("minItems").and_then(Yaml::as_u64),
        max_items: y.get("maxItems").and_then(Yaml::as_u64),
        nullable: y.get("nullable").and_then(Yaml::as_bool) == Some(true),
        preserve_unknown: y
            .get("x-kubernetes-preserve-unknown-fields")
            .and_then(Yaml::as_bool)
            == Some(true),
        default: y.get("default").cloned(),
        ..Default::default()
    };
    if let Some(p) = y.get("pattern").and_then(Yaml::as_str) {
        let re = go_regex(p).map_err(|e| format!("pattern {p}: {e}"))?;
        s.pattern = Some((p.to_string(), re));
    }
    if let Some(items) = y.get("items") {
        s.items = Some(Box::new(compile(items)?));
    }
    if let Some(props) = y.get("properties").and_then(Yaml::as_mapping) {
        for (k, v) in props {
            let k = k.as_str().ok_or("a property name that is not a string")?;
            s.properties.push((k.to_string(), compile(v)?));
        }
    }
    match y.get("additionalProperties") {
        Some(Yaml::Bool(true)) => s.additional = Some(Box::new(Schema::default())),
        Some(a @ Yaml::Mapping(_)) => s.additional = Some(Box::new(compile(a)?)),
        _ => {}
    }
    if let Some(req) = y.get("required").and_then(Yaml::as_sequence) {
        s.required = req
            .iter()
            .filter_map(Yaml::as_str)
            .map(str::to_string)
            .collect();
    }
    Ok(s)
}

/// The Go integer type behind a field, when narrower than the schema says (the CRDs give
/// `type: integer` with no bounds for Go's uint8/uint16/uint32): the mutating webhook's JSON
/// decode refuses a value that does not fit. From the Go API types at the shipped commit.
pub fn go_int_width(kind: &str, field: &str) -> Option<(&'static str, i128, i128)> {
    const U8: (&str, i128, i128) = ("uint8", 0, u8::MAX as i128);
    const U16: (&str, i128, i128) = ("uint16", 0, u16::MAX as i128);
    const U32: (&str, i128, i128) = ("uint32", 0, u32::MAX as i128);
    Some(match (kind, field) {
        ("Gateway", "workers") => U8,
        ("Gateway", "asn" | "burst" | "flowTableCapacity" | "mtu" | "priority")
        | ("Gateway", "replenishPerSecond" | "vtepMTU") => U32,
        ("ExternalAttachment", "asn") => U32,
        ("ExternalAttachment", "icmpCode" | "icmpType") => U8,
        ("ExternalAttachment", "portRangeBegin" | "portRangeEnd" | "seq" | "vlan") => U16,
        ("VPC", "interfaceMTU" | "vlan") => U16,
        ("VPC", "leaseTimeSeconds") => U32,
        ("VLANNamespace", "from" | "to") => U16,
        ("Switch", "from" | "to") => U16,
        ("Connection", "mtu" | "vlan") => U16,
        ("Switch", "asn" | "recoveryInterval" | "samplingInterval") => U32,
        ("Switch", "flapThreshold") => U8,
        _ => return None,
    })
}

#[path = "schema_check.rs"]
mod check;
pub use check::check;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shipped_crd_compiles() {
        let crds = Crds::shipped().unwrap();
        assert_eq!(crds.by_kind.len(), 16);
    }
}
