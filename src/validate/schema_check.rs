//! A document checked against its CRD's compiled schema, as the API server checks a
//! structural schema: a walk of fgd's positioned tree, with the server's own message forms.

use super::{go_int_width, Crd, Schema, Type};
use crate::validate::problem::{FieldPath, Problem, RuleId, Severity};
use crate::validate::tree::{Node, Value};
use serde_yaml::Value as Yaml;

/// Fields of `metadata` (Go's ObjectMeta): strict decoding refuses any other.
const OBJECT_META: [&str; 15] = [
    "name",
    "generateName",
    "namespace",
    "selfLink",
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "labels",
    "annotations",
    "ownerReferences",
    "finalizers",
    "managedFields",
];

/// Checks `root` (the defaulted object) against `crd`, adding what fails to `out`.
/// `unknown` is the severity of an unknown field (an error unless the operator chose warnings).
/// Returns whether Go could decode the object (no wrong type, no integer beyond its field's
/// Go type): only then does the webhook's `Validate()` run.
pub fn check(crd: &Crd, root: &Node, unknown: Severity, out: &mut Vec<Problem>) -> bool {
    let mut walk = Walk {
        kind: &crd.kind,
        unknown,
        out,
        undecodable: false,
    };
    walk.node(&crd.schema, root, &Trail::Root, None);
    !walk.undecodable
}

/// Where the walk is: a chain of segments on the stack. The walk visits every node and nearly
/// all have nothing to report, so the `FieldPath` (an allocation and a copy of its parent's
/// bytes) is made only for a problem.
#[derive(Clone, Copy)]
enum Trail<'a> {
    Root,
    Key(&'a Trail<'a>, &'a str),
    Index(&'a Trail<'a>, usize),
}

impl Trail<'_> {
    fn path(&self) -> FieldPath {
        match self {
            Trail::Root => FieldPath::root(),
            Trail::Key(up, k) => up.path().key(k),
            Trail::Index(up, i) => up.path().index(*i),
        }
    }

    /// Whether this is the object's `metadata` (checked against ObjectMeta's fields, not a
    /// schema).
    fn is_metadata(&self) -> bool {
        matches!(self, Trail::Key(Trail::Root, "metadata"))
    }
}

struct Walk<'a> {
    kind: &'a str,
    unknown: Severity,
    out: &'a mut Vec<Problem>,
    undecodable: bool,
}

const TYPES: RuleId = RuleId("GEN-06");
const UNKNOWN: RuleId = RuleId("GEN-05");

impl Walk<'_> {
    /// `field`: the property name this node is the value of (for the Go width table).
    fn node(&mut self, s: &Schema, n: &Node, trail: &Trail, field: Option<&str>) {
        if n.is_null() {
            // The API server prunes a null in a field that is not nullable; Go then reads
            // the zero value. Required-ness is checked by the parent.
            return;
        }
        if let Some(ty) = s.ty {
            if !type_matches(ty, &n.value) {
                let path = &trail.path();
                let shown = path;
                let want = type_word(ty);
                let got = n.value.type_name();
                let msg = format!("{shown} must be {want}, not {got}{}", type_hint(n, ty));
                let upstream = format!("{shown} in body must be of type {want}: \"{got}\"");
                self.undecodable = true;
                self.push_with(TYPES, path, n, msg, upstream);
                return;
            }
        }
        match &n.value {
            Value::Map(entries) => self.object(s, n, entries, trail),
            Value::Seq(items) => {
                if let Some(min) = s.min_items {
                    if (items.len() as u64) < min {
                        let path = &trail.path();
                        let shown = path;
                        let m =
                            format!("{shown} needs at least {min} item(s), has {}", items.len());
                        let u = format!(
                            "{shown}: Invalid value: {}: {shown} in body should have at least {min} items",
                            items.len()
                        );
                        self.push_with(rule_for(self.kind, path, "minItems"), path, n, m, u);
                    }
                }
                if let Some(max) = s.max_items {
                    if items.len() as u64 > max {
                        let path = &trail.path();
                        let shown = path;
                        let m = format!("{shown} takes at most {max} item(s), has {}", items.len());
                        let u = format!(
                            "{shown}: Too many: {}: must have at most {max} items",
                            items.len()
                        );
                        self.push_with(rule_for(self.kind, path, "maxItems"), path, n, m, u);
                    }
                }
                if let Some(item) = &s.items {
                    for (i, it) in items.iter().enumerate() {
                        self.node(item, it, &Trail::Index(trail, i), None);
                    }
                }
            }
            Value::Str(text) => self.string(s, n, text, trail),
            Value::Int(i) => self.number(s, n, *i as f64, Some(*i), trail, field),
            Value::Float(f) => self.number(s, n, *f, None, trail, field),
            Value::Bool(_) | Value::Null => {}
        }
        if !s.enum_values.is_empty() && !s.enum_values.iter().any(|e| enum_eq(e, &n.value)) {
            let path = &trail.path();
            let shown = path;
            let allowed: Vec<String> = s.enum_values.iter().map(yaml_shown).collect();
            let m = format!(
                "{shown} is {}, which is not one of {}",
                value_shown(&n.value),
                allowed.join(", ")
            );
            let u = format!(
                "{shown}: Unsupported value: {}: supported values: {}",
                value_shown(&n.value),
                allowed.join(", ")
            );
            self.push_with(rule_for(self.kind, path, "enum"), path, n, m, u);
        }
    }

    fn push_with(&mut self, rule: RuleId, path: &FieldPath, n: &Node, msg: String, up: String) {
        self.out.push(Problem {
            rule,
            severity: Severity::Error,
            path: path.clone(),
            pos: n.pos,
            message: msg.into(),
            upstream: Some(up.into()),
            see_also: None,
            assumed: false,
        });
    }

    fn object(
        &mut self,
        s: &Schema,
        n: &Node,
        entries: &[crate::validate::tree::Entry],
        trail: &Trail,
    ) {
        let is_meta = trail.is_metadata();
        for e in entries {
            let child = &Trail::Key(trail, &e.key);
            if let Some((_, ps)) = s.properties.iter().find(|(k, _)| *k == e.key) {
                self.node(ps, &e.value, child, Some(&e.key));
            } else if let Some(add) = &s.additional {
                self.node(add, &e.value, child, Some(&e.key));
            } else if is_meta {
                if !OBJECT_META.contains(&e.key.as_str()) {
                    self.unknown_field(&child.path(), e);
                }
            } else if !s.preserve_unknown && !s.properties.is_empty() || self.closed(s, trail) {
                self.unknown_field(&child.path(), e);
            }
        }
        for r in &s.required {
            let present = entries.iter().any(|e| e.key == *r && !e.value.is_null())
                || s.properties
                    .iter()
                    .any(|(k, p)| k == r && p.default.is_some());
            if !present {
                let path = &trail.path();
                let child = path.key(r);
                let m = format!("{} is required", child);
                let u = format!("{}: Required value", child);
                self.push_with(rule_for(self.kind, &child, "required"), path, n, m, u);
            }
        }
    }

    /// An object schema with neither properties nor additionalProperties is closed too
    /// (SwitchGroup's empty `spec`): everything under it is unknown.
    fn closed(&self, s: &Schema, trail: &Trail) -> bool {
        !matches!(trail, Trail::Root)
            && s.ty == Some(Type::Object)
            && s.properties.is_empty()
            && s.additional.is_none()
            && !s.preserve_unknown
            && !trail.is_metadata()
    }

    fn unknown_field(&mut self, child: &FieldPath, e: &crate::validate::tree::Entry) {
        let shown = child.to_string();
        self.out.push(Problem {
            rule: UNKNOWN,
            severity: self.unknown,
            path: child.clone(),
            pos: e.key_pos,
            message: format!(
                "{shown} is not a field of {}: kubectl and Argo CD refuse it, and without strict validation the API server drops it silently",
                self.kind
            )
            .into(),
            upstream: Some(format!("strict decoding error: unknown field \"{shown}\"").into()),
            see_also: None,
            assumed: false,
        });
    }

    fn string(&mut self, s: &Schema, n: &Node, text: &str, trail: &Trail) {
        let len = match (s.min_length, s.max_length) {
            (None, None) => 0,
            _ => text.chars().count() as u64,
        };
        if let Some(min) = s.min_length {
            if len < min {
                let path = &trail.path();
                let shown = path;
                let m = format!("{shown} must be at least {min} characters long");
                let u = format!("{shown} in body should be at least {min} chars long");
                self.push_with(rule_for(self.kind, path, "minLength"), path, n, m, u);
            }
        }
        if let Some(max) = s.max_length {
            if len > max {
                let path = &trail.path();
                let shown = path;
                let m = format!("{shown} must be at most {max} characters long, is {len}");
                let u = format!("{shown} in body should be at most {max} chars long");
                self.push_with(rule_for(self.kind, path, "maxLength"), path, n, m, u);
            }
        }
        if let Some((p, re)) = &s.pattern {
            if !re.is_match(text) {
                let path = &trail.path();
                let shown = path;
                let m = format!("{shown} {text:?} does not have the required form ({p})");
                let u = format!("{shown} in body should match '{p}'");
                self.push_with(rule_for(self.kind, path, "pattern"), path, n, m, u);
            }
        }
    }

    fn number(
        &mut self,
        s: &Schema,
        n: &Node,
        v: f64,
        int: Option<i128>,
        trail: &Trail,
        field: Option<&str>,
    ) {
        let by_format = match s.format.as_deref() {
            Some("int32") => Some(("int32", i32::MIN as i128, i32::MAX as i128)),
            Some("int64") => Some(("int64", i64::MIN as i128, i64::MAX as i128)),
            _ => None,
        };
        let width = field.and_then(|f| go_int_width(self.kind, f)).or(by_format);
        if let (Some((go, lo, hi)), Some(i)) = (width, int.or(integral(v))) {
            if s.ty == Some(Type::Integer) && (i < lo || i > hi) {
                let path = &trail.path();
                let shown = path;
                let m = format!("{shown} is {i}, which does not fit {go} ({lo} to {hi})");
                let u =
                    format!("json: cannot unmarshal number {i} into Go struct field of type {go}");
                self.undecodable = true;
                self.push_with(TYPES, path, n, m, u);
                return;
            }
        }
        if let Some(min) = s.minimum {
            if v < min {
                let path = &trail.path();
                let shown = path;
                let m = format!("{shown} is {}, below the minimum {min}", num(v));
                let u = format!("{shown} in body should be greater than or equal to {min}");
                self.push_with(rule_for(self.kind, path, "minimum"), path, n, m, u);
            }
        }
        if let Some(max) = s.maximum {
            if v > max {
                let path = &trail.path();
                let shown = path;
                let m = format!("{shown} is {}, above the maximum {max}", num(v));
                let u = format!("{shown} in body should be less than or equal to {max}");
                self.push_with(rule_for(self.kind, path, "maximum"), path, n, m, u);
            }
        }
    }
}

/// Which catalogue rule a schema fact belongs to, where RULES.md names one (VLNS-01 is the
/// VLANNamespace's `ranges` bounds, ...); GEN-06 otherwise.
fn rule_for(kind: &str, path: &FieldPath, _what: &str) -> RuleId {
    let p = path.to_string();
    RuleId(match (kind, p.as_str()) {
        ("VPCPeering", s) if s.starts_with("spec.permit") => "VPCP-03",
        ("VLANNamespace", s) if s.starts_with("spec.ranges") => "VLNS-01",
        ("IPv4Namespace", s) if s.starts_with("spec.subnets") => "IPNS-03",
        ("Switch", "spec.role") => "SW-01",
        ("Switch", s) if s.starts_with("spec.redundancy") => "SW-06",
        ("Switch", s) if s.starts_with("spec.linkFlapErrDisable") => "SW-07",
        ("SwitchGroup", _) => "SG-01",
        ("ServerProfile", _) => "SRVP-01",
        ("Connection", s) if s.starts_with("spec.eslag") => "CONN-12",
        ("Connection", s) if s.starts_with("spec.fabric") => "CONN-14",
        ("Connection", s) if s.starts_with("spec.mesh") => "CONN-16",
        ("Connection", s) if s.starts_with("spec.gateway") => "CONN-17",
        ("Connection", s) if s.starts_with("spec.vpcLoopback") => "CONN-18",
        ("Connection", s) if s.starts_with("spec.staticExternal") => "CONN-20",
        ("GatewayPeering", s) if s.contains(".nat") => "GWP-06",
        ("GatewayPeering", s) if s.starts_with("spec.acl") => "GWP-08",
        _ => "GEN-06",
    })
}

fn integral(v: f64) -> Option<i128> {
    (v.fract() == 0.0 && v.abs() < 9.0e15).then_some(v as i128)
}

fn num(v: f64) -> String {
    match integral(v) {
        Some(i) => i.to_string(),
        None => v.to_string(),
    }
}

fn type_matches(ty: Type, v: &Value) -> bool {
    match (ty, v) {
        (Type::Any, _) => true,
        (Type::Object, Value::Map(_)) => true,
        (Type::Array, Value::Seq(_)) => true,
        (Type::String, Value::Str(_)) => true,
        (Type::Boolean, Value::Bool(_)) => true,
        (Type::Integer, Value::Int(_)) => true,
        // JSON has one number type: a YAML `1.0` reaches the server as `1`.
        (Type::Integer, Value::Float(f)) => integral(*f).is_some(),
        (Type::Number, Value::Int(_) | Value::Float(_)) => true,
        _ => false,
    }
}

fn type_word(ty: Type) -> &'static str {
    match ty {
        Type::Object => "object",
        Type::Array => "array",
        Type::String => "string",
        Type::Integer => "integer",
        Type::Number => "number",
        Type::Boolean => "boolean",
        Type::Any => "any",
    }
}

/// A hint where only quotes or YAML 1.1 made a value the wrong type. A string that would read
/// as the wanted type without quotes was quoted (plain, it would have read so); a boolean
/// where text is wanted may be YAML 1.1's `yes`/`no`/`on`/`off`.
fn type_hint(n: &Node, ty: Type) -> String {
    let unquoted = |s: &str| crate::yaml::plain_reads_as(s, crate::yaml::GoReader::Any);
    match (&n.value, ty) {
        (Value::Str(s), Type::Integer | Type::Number) if unquoted(s) == Some("a number") => {
            format!(" ({s:?}: remove the quotes if a number was meant)")
        }
        (Value::Str(s), Type::Boolean) if unquoted(s) == Some("a boolean") => {
            format!(" ({s:?}: remove the quotes if a boolean was meant)")
        }
        (Value::Bool(b), Type::String) => {
            format!(" ({b}: YAML 1.1 reads yes/no/on/off as booleans; quote it if text was meant)")
        }
        _ => String::new(),
    }
}

fn value_shown(v: &Value) -> String {
    match v {
        Value::Str(s) => format!("{s:?}"),
        Value::Int(i) => i.to_string(),
        Value::Float(f) => f.to_string(),
        Value::Bool(b) => b.to_string(),
        other => other.type_name().to_string(),
    }
}

fn yaml_shown(y: &Yaml) -> String {
    match y {
        Yaml::String(s) => format!("{s:?}"),
        other => serde_yaml::to_string(other)
            .map(|s| s.trim().to_string())
            .unwrap_or_default(),
    }
}

fn enum_eq(e: &Yaml, v: &Value) -> bool {
    match (e, v) {
        (Yaml::String(a), Value::Str(b)) => a == b,
        (Yaml::Bool(a), Value::Bool(b)) => a == b,
        (Yaml::Number(a), Value::Int(b)) => a.as_i64().is_some_and(|a| a as i128 == *b),
        (Yaml::Number(a), Value::Float(b)) => a.as_f64() == Some(*b),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validate::schema::Crds;
    use crate::validate::tree;

    fn problems(kind: &str, group: &str, text: &str) -> Vec<Problem> {
        let crds = Crds::shipped().unwrap();
        let crd = crds.get(group, kind).unwrap();
        let t = tree::parse(text).unwrap();
        let mut out = Vec::new();
        check(crd, &t, Severity::Error, &mut out);
        out
    }

    #[test]
    fn types_widths_enums_and_unknown_fields_are_found_where_they_are() {
        let f = problems(
            "VPC",
            "vpc.githedgehog.com",
            "apiVersion: vpc.githedgehog.com/v1beta1\nkind: VPC\nmetadata:\n  name: v\n  labelz: {}\nspec:\n  subnets:\n    default:\n      subnet: 10.0.0.0/24\n      vlan: \"1001\"\n    two:\n      vlan: 70000\n      colour: red\n",
        );
        let got: Vec<(&str, usize, String)> = f
            .iter()
            .map(|f| (f.rule.0, f.pos.line, f.path.to_string()))
            .collect();
        assert!(
            got.contains(&("GEN-05", 5, "metadata.labelz".into())),
            "{got:?}"
        );
        assert!(
            got.contains(&("GEN-06", 10, "spec.subnets.default.vlan".into())),
            "{got:?}"
        );
        assert!(
            got.contains(&("GEN-06", 12, "spec.subnets.two.vlan".into())),
            "{got:?}"
        );
        assert!(
            got.contains(&("GEN-05", 13, "spec.subnets.two.colour".into())),
            "{got:?}"
        );
        assert_eq!(got.len(), 4, "{got:?}");
    }

    #[test]
    fn enums_patterns_bounds_and_required_fields() {
        let f = problems(
            "Switch",
            "wiring.githedgehog.com",
            "apiVersion: wiring.githedgehog.com/v1beta1\nkind: Switch\nmetadata:\n  name: s\nspec:\n  role: leaf\n  linkFlapErrDisable:\n    flapThreshold: 51\n",
        );
        let rules: Vec<&str> = f.iter().map(|f| f.rule.0).collect();
        assert!(rules.contains(&"SW-01"), "{f:?}");
        assert!(rules.contains(&"SW-07"), "{f:?}");
        let f = problems(
            "Switch",
            "wiring.githedgehog.com",
            "apiVersion: wiring.githedgehog.com/v1beta1\nkind: Switch\nmetadata:\n  name: s\nspec:\n  profile: vs\n",
        );
        assert!(
            f.iter()
                .any(|f| f.rule.0 == "SW-01" && f.message.contains("spec.role is required")),
            "{f:?}"
        );
    }
}
