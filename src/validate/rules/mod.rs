//! The fabric's admission rules, a module per kind. Each kind gives three functions over the
//! object's tree: `default` (its `Default()`, RULES.md §6), `check` (its per-object rules) and
//! `facts` (what the cross-object rules in `validate::fabric` need of it). The rule ids and
//! texts follow RULES.md; where RULES.md and the upstream code differ, the code was followed
//! (see docs/validation.md).

pub mod catalogue;
mod common;
pub mod connection;
pub mod env;
pub mod external;
pub mod gateway;
pub mod ipv4ns;
pub mod profiles;
pub mod switch;
#[cfg(test)]
pub(crate) mod testkit;
pub mod vlanns;
pub mod vpc;
pub mod vpcattachment;
pub mod vpcpeering;

use std::net::IpAddr;

use super::net::{self, Prefix};
use super::problem::{FieldPath, Problem, RuleId, Severity};
use super::tree::{Entry, Node, Value};
use crate::yaml::Pos;

pub use env::Env;

/// What a rule needs besides the object (RULES.md §3 legend).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// The object alone.
    Object,
    /// Other objects of the fabric.
    Fabric,
    /// The fabric config (fab.yaml; fgd assumes the installer's defaults without one).
    Config,
    /// The switch profile catalog of the fabric release.
    Profiles,
    /// State only the live cluster has: never checked offline.
    Cluster,
    /// The fabric as last committed (git HEAD; for a push, what was last pushed): the update
    /// and delete rules (`validate::change`).
    Committed,
    /// A rule of a kind fgd never manages (SwitchProfile, GEN-10): moot.
    RefusedKind,
}

/// One rule of the catalogue.
#[derive(Debug)]
pub struct RuleInfo {
    pub id: RuleId,
    pub needs: Need,
    pub title: &'static str,
}

pub fn catalogue() -> &'static [RuleInfo] {
    catalogue::RULES
}

pub fn lookup(id: &str) -> Option<&'static RuleInfo> {
    // Every problem read back from JSON (the held events of an ingest, the verdict cache)
    // names its rule as written: a map answers those, the scan only other spellings.
    static BY_ID: std::sync::OnceLock<std::collections::HashMap<&'static str, &'static RuleInfo>> =
        std::sync::OnceLock::new();
    let by_id = BY_ID.get_or_init(|| catalogue::RULES.iter().map(|r| (r.id.0, r)).collect());
    by_id.get(id).copied().or_else(|| {
        catalogue::RULES
            .iter()
            .find(|r| r.id.0.eq_ignore_ascii_case(id))
    })
}

/// What cross-object rules need of one object.
///
/// Each kind's facts are boxed: an enum is as big as its largest variant, and the index holds
/// one per object (10^5 in a big ingest), most of them a Server (no facts) or a kind with few.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub enum Facts {
    Vpc(Box<vpc::Facts>),
    VpcAttachment(Box<vpcattachment::Facts>),
    VpcPeering(Box<vpcpeering::Facts>),
    Ipv4Namespace(Box<ipv4ns::Facts>),
    VlanNamespace(Box<vlanns::Facts>),
    External(Box<external::Facts>),
    ExternalAttachment(Box<external::AttachmentFacts>),
    ExternalPeering(Box<external::PeeringFacts>),
    Switch(switch::Facts),
    SwitchGroup,
    Server,
    Connection(Box<connection::Facts>),
    Gateway(gateway::Facts),
    GatewayGroup,
    GatewayPeering(Box<gateway::PeeringFacts>),
}

/// A kind's rules.
pub struct KindRules {
    /// Warnings about what the operator wrote that `default` will drop or rewrite.
    pub before_default: fn(&Node, &mut Ctx),
    pub default: fn(&mut Node),
    pub check: fn(&Node, &mut Ctx),
    pub facts: fn(&Node) -> Option<Facts>,
}

pub(crate) fn no_default(_: &mut Node) {}
pub(crate) fn no_check(_: &Node, _: &mut Ctx) {}

pub fn for_kind(kind: &str) -> Option<&'static KindRules> {
    static SWITCH_GROUP: KindRules = KindRules {
        before_default: no_check,
        default: no_default,
        check: no_check,
        facts: |_| Some(Facts::SwitchGroup),
    };
    static SERVER: KindRules = KindRules {
        before_default: no_check,
        default: no_default,
        check: no_check,
        facts: |_| Some(Facts::Server),
    };
    static SERVER_PROFILE: KindRules = KindRules {
        before_default: no_check,
        default: no_default,
        check: no_check,
        facts: |_| None,
    };
    Some(match kind {
        "VPC" => &vpc::RULES,
        "VPCAttachment" => &vpcattachment::RULES,
        "VPCPeering" => &vpcpeering::RULES,
        "IPv4Namespace" => &ipv4ns::RULES,
        "VLANNamespace" => &vlanns::RULES,
        "External" => &external::RULES,
        "ExternalAttachment" => &external::ATTACHMENT_RULES,
        "ExternalPeering" => &external::PEERING_RULES,
        "Switch" => &switch::RULES,
        "SwitchGroup" => &SWITCH_GROUP,
        "Server" => &SERVER,
        "ServerProfile" => &SERVER_PROFILE,
        "Connection" => &connection::RULES,
        "Gateway" => &gateway::RULES,
        "GatewayGroup" => &gateway::GROUP_RULES,
        "GatewayPeering" => &gateway::PEERING_RULES,
        _ => return None,
    })
}

pub(crate) use common::check_common;

/// The prefix each kind's webhook puts before its message (RULES.md §2), so the upstream text
/// reads as the cluster's.
pub fn webhook_prefix(kind: &str) -> &'static str {
    match kind {
        "VPC" => "failed to validate vpc: ",
        "VPCAttachment" => "failed to validate vpc attachment: ",
        "VPCPeering" => "failed to validate vpc peering: ",
        "IPv4Namespace" => "failed to validate ipv4namespace: ",
        "VLANNamespace" => "failed to validate vlannamespace: ",
        "External" => "error validating external: ",
        "ExternalAttachment" => "failed to validate external attachment: ",
        "ExternalPeering" => "failed to validate external peering: ",
        "Switch" => "error validating switch: ",
        "Server" => "error validating server: ",
        "Connection" => "error validating connection: ",
        _ => "",
    }
}

/// Where the rules of one object write what they find.
pub struct Ctx<'a> {
    pub kind: &'static str,
    /// The object's name (`metadata.name`).
    pub name: String,
    pub env: &'a Env,
    pub out: Vec<Problem>,
}

impl<'a> Ctx<'a> {
    pub fn new(kind: &'static str, root: &Node, env: &'a Env) -> Ctx<'a> {
        Ctx {
            kind,
            name: root
                .at(&["metadata", "name"])
                .and_then(Node::as_str)
                .unwrap_or_default()
                .to_string(),
            env,
            out: Vec::new(),
        }
    }

    fn push(&mut self, rule: &'static str, sev: Severity, at: &F, msg: String, inner: &str) {
        let upstream =
            (!inner.is_empty()).then(|| format!("{}{inner}", webhook_prefix(self.kind)).into());
        self.out.push(Problem {
            rule: RuleId(rule),
            severity: sev,
            path: at.path.clone(),
            pos: at.pos,
            message: msg.into(),
            upstream,
            see_also: None,
            assumed: false,
        });
    }

    /// The cluster refuses the object: `msg` is fgd's explanation, `inner` the webhook's own
    /// text (the kind's prefix is added).
    pub fn error(&mut self, rule: &'static str, at: &F, msg: impl Into<String>, inner: &str) {
        self.push(rule, Severity::Error, at, msg.into(), inner);
    }

    /// An error that rests on the fabric config: marked assumed when fgd used its defaults.
    pub fn config_error(
        &mut self,
        rule: &'static str,
        at: &F,
        msg: impl Into<String>,
        inner: &str,
    ) {
        self.push(rule, Severity::Error, at, msg.into(), inner);
        if let Some(p) = self.out.last_mut() {
            p.assumed = self.env.assumed;
        }
    }

    /// Accepted, but something the operator wrote is dropped or drifts.
    pub fn warn(&mut self, rule: &'static str, at: &F, msg: impl Into<String>) {
        self.push(rule, Severity::Warning, at, msg.into(), "");
    }

    /// The object itself, for rules about it as a whole.
    pub fn whole(&self, root: &'a Node) -> F<'a> {
        F::root(root)
    }
}

/// A field of the object as the rules read it: present or not, with its path, and where it is
/// (for an absent field, where the mapping that should hold it is).
#[derive(Debug, Clone)]
pub struct F<'a> {
    pub node: Option<&'a Node>,
    pub path: FieldPath,
    pub pos: Pos,
}

impl<'a> F<'a> {
    pub fn root(n: &'a Node) -> F<'a> {
        F {
            node: Some(n),
            path: FieldPath::root(),
            pos: n.pos,
        }
    }

    /// Follow one mapping key (absent stays absent, at the parent's position).
    pub fn get(&self, key: &str) -> F<'a> {
        let entry = self.node.and_then(|n| n.entry(key));
        F {
            node: entry.map(|e| &e.value).filter(|v| !v.is_null()),
            path: self.path.key(key),
            // A value is shown where it is, but a block mapping or list where its key is: it
            // starts on a later line, at its first entry, which names something else.
            pos: entry.map_or(self.pos, |e| {
                if e.value.is_null() || e.value.synthetic || e.value.pos.line > e.key_pos.line {
                    e.key_pos
                } else {
                    e.value.pos
                }
            }),
        }
    }

    /// Follow several keys.
    pub fn at(&self, keys: &[&str]) -> F<'a> {
        keys.iter().fold(self.clone(), |f, k| f.get(k))
    }

    pub fn present(&self) -> bool {
        self.node.is_some()
    }

    /// A string field as Go reads it: absent is "".
    pub fn str(&self) -> &'a str {
        self.node.and_then(Node::as_str).unwrap_or("")
    }

    /// An integer field as Go reads it: absent is 0.
    pub fn int(&self) -> i128 {
        match self.node.map(|n| &n.value) {
            Some(Value::Int(i)) => *i,
            Some(Value::Float(f)) if f.fract() == 0.0 => *f as i128,
            _ => 0,
        }
    }

    /// A boolean field as Go reads it: absent is false.
    pub fn bool(&self) -> bool {
        self.node.and_then(Node::as_bool).unwrap_or(false)
    }

    /// The entries of a mapping field, each as a field (positioned at its key).
    pub fn entries(&self) -> impl Iterator<Item = (&'a str, F<'a>)> + '_ {
        let entries: &'a [Entry] = self.node.map_or(&[], |n| n.entries());
        entries.iter().map(move |e| {
            (
                e.key.as_str(),
                F {
                    node: Some(&e.value).filter(|v| !v.is_null()),
                    path: self.path.key(&e.key),
                    pos: e.key_pos,
                },
            )
        })
    }

    pub fn len(&self) -> usize {
        match self.node.map(|n| &n.value) {
            Some(Value::Map(e)) => e.len(),
            Some(Value::Seq(i)) => i.len(),
            _ => 0,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The items of a sequence field.
    pub fn items(&self) -> impl Iterator<Item = F<'a>> + '_ {
        let items: &'a [Node] = self.node.map_or(&[], |n| n.items());
        items.iter().enumerate().map(move |(i, n)| F {
            node: Some(n).filter(|v| !v.is_null()),
            path: self.path.index(i),
            pos: n.pos,
        })
    }

    /// The string items of a sequence field.
    pub fn strs(&self) -> Vec<&'a str> {
        self.node
            .map_or(&[][..], |n| n.items())
            .iter()
            .filter_map(Node::as_str)
            .collect()
    }

    /// A prefix field: None when absent, Err with Go's message when it does not parse.
    pub fn prefix(&self) -> Option<Result<Prefix, String>> {
        self.present().then(|| net::parse_prefix(self.str()))
    }

    /// An IP field: None when absent or empty.
    pub fn ip(&self) -> Option<Result<IpAddr, String>> {
        let s = self.str();
        (!s.is_empty()).then(|| net::parse_ip(s))
    }
}

/// Small helpers the kinds share.
pub(crate) mod util {
    use super::*;

    /// Set `key` of `node` to a string when it is absent, null or "" (Go's zero value).
    pub fn default_str(node: &mut Node, key: &str, value: &str) {
        let at = node.pos;
        let empty = match node.get(key) {
            None => true,
            Some(n) => n.is_null() || n.as_str() == Some(""),
        };
        if empty && node.is_map() {
            node.set(key, Node::synthetic(at, Value::Str(value.to_string())));
        }
    }

    /// Set `key` to an integer when it is absent, null or 0.
    pub fn default_int(node: &mut Node, key: &str, value: i128) {
        let at = node.pos;
        let empty = match node.get(key) {
            None => true,
            Some(n) => n.is_null() || n.as_int() == Some(0),
        };
        if empty && node.is_map() {
            node.set(key, Node::synthetic(at, Value::Int(value)));
        }
    }

    /// Go's `net.ParseCIDR`, which some webhooks use instead of `netip.ParsePrefix`: the same
    /// addresses, but a prefix length with leading zeros (`10.0.0.0/08`) is accepted.
    pub fn parse_cidr(s: &str) -> Result<Prefix, String> {
        let err = || format!("invalid CIDR address: {s}");
        let (a, b) = s.split_once('/').ok_or_else(err)?;
        let addr = net::parse_ip(a).map_err(|_| err())?;
        if b.is_empty() || !b.bytes().all(|c| c.is_ascii_digit()) {
            return Err(err());
        }
        let bits: u32 = b.parse().map_err(|_| err())?;
        if bits > if addr.is_ipv4() { 32 } else { 128 } {
            return Err(err());
        }
        Ok(Prefix {
            addr,
            bits: bits as u8,
        })
    }

    /// The mapping at `path` of `root`, made (synthetic) where Go's non-omitempty struct
    /// fields would make it; None when something on the way is not a mapping.
    pub fn ensure_path<'n>(root: &'n mut Node, path: &[&str]) -> Option<&'n mut Node> {
        let mut n = root;
        for k in path {
            n = n.ensure_map(k)?;
        }
        Some(n)
    }

    /// GEN-04: a label that `Default()` makes of a name the operator wrote (`what`, at `at`)
    /// must pass the API server's label checks, or the object is refused after the mutating
    /// webhook. `key: value` is the label as Default() writes it.
    pub fn derived_label(ctx: &mut Ctx, at: &F, what: &str, key: &str, value: &str) {
        let bad = common::bad_qualified_name(key)
            .map(|why| (key, why))
            .or_else(|| common::bad_label_value(value).map(|why| (value, why)));
        if let Some((text, why)) = bad {
            ctx.error(
                "GEN-04",
                at,
                format!("the fabric makes {what} the label {key:?}: {value:?}, which Kubernetes refuses: {text:?} {why}"),
                "",
            );
            if let Some(p) = ctx.out.last_mut() {
                p.upstream =
                    Some(format!("metadata.labels: Invalid value: {text:?}: {why}").into());
            }
        }
    }
}

/// A string with a position, kept in facts for cross-object messages.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Spot<T> {
    pub value: T,
    pub at: At,
}

pub use super::At;

impl<'a> From<&F<'a>> for At {
    fn from(f: &F<'a>) -> At {
        At {
            path: f.path.clone(),
            pos: f.pos,
        }
    }
}

impl<T> Spot<T> {
    pub fn new(value: T, f: &F) -> Spot<T> {
        Spot {
            value,
            at: f.into(),
        }
    }
}
