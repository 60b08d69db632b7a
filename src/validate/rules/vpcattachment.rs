//! VPCAttachment (`api/vpc/v1beta1/vpcattachment_types.go`: `Default` :136, `Validate` :156).
//!
//! The webhook stops at the first failing rule; fgd reports every rule that fails, each at
//! its field. VPCA-11 (the switch profile supports the VPC mode) needs the switch profile
//! catalog and is wired by the lead once the catalog exists; it is not checked here.

pub mod wiring;

use std::collections::{HashMap, HashSet};

use super::common::bad_label_value;
use super::util::ensure_path;
use super::{Ctx, KindRules, Spot, F};
use crate::validate::fabric::{Cross, Obj};
use crate::validate::net;
use crate::validate::tree::{Node, Value};
use crate::validate::{At, FieldPath};
use wiring::{ConnType, Wiring};

pub static RULES: KindRules = KindRules {
    before_default,
    default,
    check,
    facts,
};

const P2P_ANNOTATION: &str = "fabric.githedgehog.com/p2p-link";

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Facts {
    /// The VPC part of `spec.subnet` ("" when there is none: VPCA-01 says so).
    pub vpc: Spot<String>,
    /// The subnet part as the webhook reads it after Default: `vpc-1` became `vpc-1/default`;
    /// `vpc-1/` stays "" (VPCA-05 then looks for a subnet named "").
    pub subnet: String,
    /// `spec.subnet` named the VPC alone and Default added `/default`.
    pub defaulted: bool,
    pub connection: Spot<String>,
    /// `spec.nativeVLAN`, where it is written.
    pub native_vlan: Spot<bool>,
}

impl Facts {
    /// `spec.subnet` as the cluster stores it: what VPCA-12 compares.
    pub fn full_subnet(&self) -> String {
        format!("{}/{}", self.vpc.value, self.subnet)
    }

    /// What this attachment references, for the delete rules: the webhooks select by the
    /// labels Default writes (`fabric.githedgehog.com/vpc` for DEL-01 "VPC has attachments",
    /// `fabric.githedgehog.com/connection` for DEL-05 "connection has attachments"). Default
    /// writes no label when `spec.subnet` has no VPC part.
    pub fn references(&self) -> Vec<(&'static str, &Spot<String>)> {
        if self.vpc.value.is_empty() {
            return Vec::new();
        }
        vec![("VPC", &self.vpc), ("Connection", &self.connection)]
    }
}

/// Go's `strings.SplitN(s, "/", 2)`.
fn split_subnet(s: &str) -> (&str, Option<&str>) {
    match s.split_once('/') {
        Some((vpc, sn)) => (vpc, Some(sn)),
        None => (s, None),
    }
}

fn default(root: &mut Node) {
    let Some(spec) = ensure_path(root, &["spec"]) else {
        return;
    };
    let Some(node) = spec.get("subnet") else {
        return;
    };
    let Some(text) = node.as_str() else {
        return;
    };
    // An empty VPC part is left for Validate (VPCA-01), as upstream does.
    if let (vpc, None) = split_subnet(text) {
        if !vpc.is_empty() {
            let full = Node::synthetic(node.pos, Value::Str(format!("{vpc}/default")));
            spec.set("subnet", full);
        }
    }
}

/// `subnet: vpc-1` is stored as `vpc-1/default`: the cluster accepts it, but the object in
/// git and the one in the cluster then differ for good (GitOps tools show drift).
fn before_default(original: &Node, ctx: &mut Ctx) {
    let subnet = F::root(original).at(&["spec", "subnet"]);
    if let (vpc, None) = split_subnet(subnet.str()) {
        if !vpc.is_empty() {
            ctx.warn(
                "VPCA-01",
                &subnet,
                format!("spec.subnet {vpc:?} names no subnet: the cluster stores it as \"{vpc}/default\"; write that, or GitOps tools show drift"),
            );
        }
    }
}

fn check(root: &Node, ctx: &mut Ctx) {
    let obj = F::root(root);
    let spec = obj.get("spec");
    let subnet = spec.get("subnet");
    let text = subnet.str();
    let (vpc, sn) = split_subnet(text);
    if text.is_empty() {
        ctx.error(
            "VPCA-01",
            &subnet,
            "spec.subnet is required: the VPC subnet to attach, as <vpc>/<subnet>",
            "subnet is required",
        );
    } else if vpc.is_empty() {
        ctx.error(
            "VPCA-01",
            &subnet,
            format!("spec.subnet {text:?} has no VPC part: write it as <vpc>/<subnet>"),
            "subnet should be in <vpc>/<subnet> format, vpc is missing",
        );
    } else if sn == Some("") {
        // Accepted here; the webhook then looks for a subnet named "" (VPCA-05).
        ctx.warn(
            "VPCA-01",
            &subnet,
            format!("spec.subnet {text:?} has an empty subnet part: the cluster looks for a subnet named \"\" in VPC {vpc}; write \"{vpc}/default\" or \"{vpc}/<subnet>\""),
        );
    }
    // `vpc` alone cannot reach here: Default made it `vpc/default`.
    let connection = spec.get("connection");
    if connection.str().is_empty() {
        ctx.error(
            "VPCA-02",
            &connection,
            "spec.connection is required: the Connection to attach the subnet to",
            "connection is required",
        );
    }
    check_p2p(ctx, &obj);
    if !vpc.is_empty() {
        // Default's labels (`Spec.Labels()`): the subnet label reads "" as `default`.
        label_value(
            ctx,
            &subnet,
            "fabric.githedgehog.com/vpc",
            "the VPC name",
            vpc,
        );
        let sn_label = sn.filter(|s| !s.is_empty()).unwrap_or("default");
        label_value(
            ctx,
            &subnet,
            "fabric.githedgehog.com/subnet",
            "the subnet name",
            sn_label,
        );
        label_value(
            ctx,
            &connection,
            "fabric.githedgehog.com/connection",
            "the connection name",
            connection.str(),
        );
    }
}

/// VPCA-03: the p2p-link annotation, when present, is an IPv4 /31. RULES.md gives two
/// messages; the code (:182-187) has a third for a value that is no prefix at all.
fn check_p2p(ctx: &mut Ctx, obj: &F) {
    let annotations = obj.at(&["metadata", "annotations"]);
    // A null value is present too: Go reads it as "".
    let Some(entry) = annotations.node.and_then(|n| n.entry(P2P_ANNOTATION)) else {
        return;
    };
    let at = annotations.get(P2P_ANNOTATION);
    let value = entry.value.as_str().unwrap_or("");
    if value.is_empty() {
        ctx.error(
            "VPCA-03",
            &at,
            format!("annotation {P2P_ANNOTATION} is empty: give the link's IPv4 /31, or remove it"),
            "empty p2p link annotation subnet",
        );
        return;
    }
    match net::parse_prefix(value) {
        Err(e) => ctx.error(
            "VPCA-03",
            &at,
            format!("annotation {P2P_ANNOTATION}: {value:?} is not a prefix like 10.99.0.0/31"),
            &format!("p2p link annotation subnet should be a valid prefix, got: {value:?}: {e}"),
        ),
        Ok(p) if !p.is_v4() || p.bits != 31 => ctx.error(
            "VPCA-03",
            &at,
            format!("annotation {P2P_ANNOTATION}: {value} is not an IPv4 /31"),
            &format!("p2p link annotation subnet must be a valid IPv4 /31 prefix, got: {value:?}"),
        ),
        Ok(_) => {}
    }
}

/// GEN-04: `value` (written by the operator as `what`) becomes the value of label `label`
/// when Default runs (RULES.md's GEN-04 list misses some referrers the code has: VPCPeering's
/// VPC names, External's IPv4Namespace, ExternalPeering's VPC and External names); the API server then validates the labels of the defaulted object
/// (RULES.md §1, step 4) and refuses it when the value is not a valid label value.
pub(super) fn label_value(ctx: &mut Ctx, at: &F, label: &str, what: &str, value: &str) {
    if bad_label_value(value).is_none() {
        return;
    }
    let why = if value.len() > 63 {
        format!("{what} {value:?} is {} characters long, but it becomes the value of label {label}, which holds at most 63", value.len())
    } else {
        format!("{what} {value:?} becomes the value of label {label}, which allows only letters, digits, '-', '_' and '.', starting and ending with a letter or digit")
    };
    ctx.error("GEN-04", at, why, "");
    let k8s = if value.len() > 63 {
        "must be no more than 63 characters".to_string()
    } else {
        "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')".to_string()
    };
    if let Some(p) = ctx.out.last_mut() {
        p.upstream = Some(format!("metadata.labels: Invalid value: {value:?}: {k8s}").into());
    }
}

fn facts(root: &Node) -> Option<super::Facts> {
    let spec = F::root(root).get("spec");
    let subnet = spec.get("subnet");
    let (vpc, sn) = split_subnet(subnet.str());
    let connection = spec.get("connection");
    let native = spec.get("nativeVLAN");
    Some(super::Facts::VpcAttachment(Box::new(Facts {
        vpc: Spot::new(vpc.to_string(), &subnet),
        subnet: sn.unwrap_or_default().to_string(),
        defaulted: subnet.node.is_some_and(|n| n.synthetic),
        connection: Spot::new(connection.str().to_string(), &connection),
        native_vlan: Spot::new(native.bool(), &native),
    })))
}

/// The object as a whole, for a "see also" that names it.
pub(super) fn whole(obj: &Obj) -> At {
    At {
        path: FieldPath::root(),
        pos: obj.pos,
    }
}

/// VPCA-04..10, 12, 13 and VPC-28, over the fabric.
pub fn cross(cx: &mut Cross) {
    let wiring = Wiring::of_index(cx.index);
    cross_with(cx, &wiring);
}

pub(crate) fn cross_with(cx: &mut Cross, wiring: &Wiring) {
    let index = cx.index;
    let attachments: Vec<(&Obj, &Facts)> = index
        .of_kind("VPCAttachment")
        .filter_map(|o| match &*o.facts {
            super::Facts::VpcAttachment(f) => Some((o, &**f)),
            _ => None,
        })
        .collect();
    let mut unsafe_subnets: HashSet<(&str, &str)> = HashSet::new();
    for &(obj, f) in &attachments {
        references(cx, wiring, obj, f, &mut unsafe_subnets);
    }
    uniqueness(cx, &attachments);
}

/// What one attachment names: its VPC and subnet, its connection, the connection's switches.
fn references<'i>(
    cx: &mut Cross<'i>,
    wiring: &Wiring,
    obj: &'i Obj,
    f: &'i Facts,
    unsafe_subnets: &mut HashSet<(&'i str, &'i str)>,
) {
    if f.vpc.value.is_empty() {
        return;
    }
    let index = cx.index;
    let vpc_name = f.vpc.value.as_str();
    let vpc = match index.get("VPC", vpc_name) {
        None => {
            cx.missing(
                "VPCA-04",
                obj,
                &f.vpc.at,
                "VPC",
                vpc_name,
                &format!("vpc {vpc_name} not found"),
            );
            None
        }
        Some(o) => match &*o.facts {
            super::Facts::Vpc(v) => Some((o, v)),
            _ => None,
        },
    };
    let subnet = vpc.and_then(|(vobj, v)| {
        let found = v.subnets.iter().find(|s| s.name.value == f.subnet);
        if found.is_none() {
            let names: Vec<&str> = v.subnets.iter().map(|s| s.name.value.as_str()).collect();
            cx.error(
                "VPCA-05",
                obj,
                &f.vpc.at,
                format!(
                    "VPC {vpc_name} has no subnet {:?}{} (its subnets: {})",
                    f.subnet,
                    if f.defaulted {
                        format!(": spec.subnet {vpc_name:?} means \"{vpc_name}/default\"")
                    } else {
                        String::new()
                    },
                    if names.is_empty() {
                        "none".into()
                    } else {
                        names.join(", ")
                    }
                ),
                &format!("subnet {} not found in vpc {vpc_name}", f.subnet),
                Some((vobj, &whole(vobj))),
            );
        }
        found
    });
    if let (Some((vobj, _)), Some(sn)) = (vpc, subnet) {
        vpc28(cx, obj, f, vobj, sn, unsafe_subnets);
    }
    let conn_name = f.connection.value.as_str();
    if conn_name.is_empty() {
        return;
    }
    let Some(conn_obj) = index.get("Connection", conn_name) else {
        cx.missing(
            "VPCA-06",
            obj,
            &f.connection.at,
            "Connection",
            conn_name,
            &format!("connection {conn_name} not found"),
        );
        return;
    };
    let Some(conn) = wiring.connection(conn_name) else {
        return;
    };
    let here = &f.connection.at;
    let conn_at = whole(conn_obj);
    let there = Some((conn_obj, &conn_at));
    if let Some((_, v)) = vpc {
        if conn.has(ConnType::Eslag) && !v.mode.is_empty() {
            cx.error(
                "VPCA-08",
                obj,
                here,
                format!("connection {conn_name} is ESLAG, and ESLAG connections carry only l2vni VPCs; VPC {vpc_name} is {}", v.mode),
                &format!("vpc mode {} is not supported for ESLAG connections", v.mode),
                there,
            );
        }
    }
    let host_bgp = subnet.is_some_and(|s| s.host_bgp);
    if host_bgp && !conn.has(ConnType::Unbundled) {
        cx.error(
            "VPCA-09",
            obj,
            here,
            format!(
                "subnet {} of VPC {vpc_name} is hostBGP, which attaches only over an unbundled connection; {conn_name} is {}",
                f.subnet,
                conn.describe()
            ),
            "only unbundled links can be used to attach to a hostBGP subnet",
            there,
        );
    }
    if !conn.vpc_attachable() {
        cx.error(
            "VPCA-07",
            obj,
            here,
            format!(
                "connection {conn_name} is {}: VPCs attach only to unbundled, bundled or eslag connections{}",
                conn.describe(),
                if conn.has(ConnType::Mclag) { " (MCLAG is no longer supported)" } else { "" }
            ),
            "vpc can be attached only to Unbundled, Bundled or ESLAG connections",
            there,
        );
        return;
    }
    if conn.switches.is_empty() {
        // Attachable, but Endpoints() gives no switch: an MCLAG type set beside it (Q2). Not in
        // RULES.md; the code's message (:233) is kept under VPCA-07.
        cx.error(
            "VPCA-07",
            obj,
            here,
            format!("connection {conn_name} is {}: MCLAG connections have no switch endpoints, so no VPC attaches to them", conn.describe()),
            &format!("connection {conn_name} has no switch endpoints"),
            there,
        );
        return;
    }
    for sw in &conn.switches {
        let Some(sw_obj) = index.get("Switch", sw) else {
            cx.missing(
                "VPCA-10",
                obj,
                here,
                "Switch",
                sw,
                &format!("switch {sw} used in connection not found"),
            );
            continue;
        };
        let Some(view) = wiring.switch(sw) else {
            continue;
        };
        if let Some((_, v)) = vpc {
            let ns = &v.vlan_namespace.value;
            if !view.vlan_namespaces.contains(ns) {
                cx.error(
                    "VPCA-10",
                    obj,
                    here,
                    format!(
                        "switch {sw} of connection {conn_name} is not in VLANNamespace {ns} of VPC {vpc_name} (its spec.vlanNamespaces: {})",
                        view.vlan_namespaces.join(", ")
                    ),
                    &format!("switch {sw} used in connection doesn't have vlan namespace {ns}"),
                    Some((sw_obj, &whole(sw_obj))),
                );
            }
        }
        if let Some((_, v)) = vpc {
            super::profiles::check_vpc_mode(cx, obj, here, sw, &v.mode);
        }
        if host_bgp && view.mclag_peer() {
            cx.error(
                "VPCA-09",
                obj,
                here,
                format!(
                    "subnet {} is hostBGP, and switch {sw} is an MCLAG peer (redundancy group {})",
                    f.subnet, view.redundancy_group
                ),
                &format!("cannot attach hostBGP subnet to switch {sw} which is an MCLAG peer"),
                Some((sw_obj, &whole(sw_obj))),
            );
        }
    }
}

/// VPC-28 (label part): the subnet's name becomes the attachment's
/// `fabric.githedgehog.com/subnet` label, so a name that is not a valid label value can never
/// be attached. The attachment is refused (GEN-04, per object); the VPC is accepted, so this is
/// a warning on the VPC's subnet, once per subnet. (The DHCPSubnet name `<vpc>--<subnet>`
/// part of VPC-28 needs to know whether the subnet's DHCP server is on, which the VPC facts do
/// not carry: not checked here.)
fn vpc28<'i>(
    cx: &mut Cross<'i>,
    obj: &'i Obj,
    f: &'i Facts,
    vobj: &'i Obj,
    sn: &'i super::vpc::Subnet,
    seen: &mut HashSet<(&'i str, &'i str)>,
) {
    let name = sn.name.value.as_str();
    if bad_label_value(name).is_none() || !seen.insert((&*vobj.name, name)) {
        return;
    }
    cx.warn(
        "VPC-28",
        vobj,
        &sn.name.at,
        format!("subnet name {name:?} is not a valid label value (at most 63 letters, digits, '-', '_' or '.'), and attachments carry it as label fabric.githedgehog.com/subnet: the cluster refuses every VPCAttachment to it"),
    );
    if let Some(found) = cx.out.last_mut() {
        found.problem.see_also = Some(obj.place(&f.vpc.at).into());
    }
}

/// VPCA-12: one attachment per connection and VPC subnet; VPCA-13: one native-VLAN
/// attachment per connection. Grouped by key, so linear in the attachments; each one of a
/// clash is reported, pointing at another.
fn uniqueness(cx: &mut Cross, attachments: &[(&Obj, &Facts)]) {
    let mut by_subnet: HashMap<(&str, String), Vec<usize>> = HashMap::new();
    let mut native: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, (_, f)) in attachments.iter().enumerate() {
        let conn = f.connection.value.as_str();
        if conn.is_empty() || f.vpc.value.is_empty() {
            continue;
        }
        by_subnet
            .entry((conn, f.full_subnet()))
            .or_default()
            .push(i);
        if f.native_vlan.value {
            native.entry(conn).or_default().push(i);
        }
    }
    let clash = |list: &[usize], i: usize| list.iter().copied().find(|&o| o != i);
    for ((conn, full), list) in by_subnet.iter().filter(|(_, l)| l.len() > 1) {
        for &i in list {
            let Some(o) = clash(list, i) else { continue };
            let ((obj, f), (oobj, of)) = (attachments[i], attachments[o]);
            cx.error(
                "VPCA-12",
                obj,
                &f.vpc.at,
                format!(
                    "connection {conn} is attached to {full} by VPCAttachment {} too",
                    oobj.name
                ),
                &format!("connection {conn} already attached to vpc subnet {full}"),
                Some((oobj, &of.vpc.at)),
            );
        }
    }
    for (conn, list) in native.iter().filter(|(_, l)| l.len() > 1) {
        for &i in list {
            let Some(o) = clash(list, i) else { continue };
            let ((obj, f), (oobj, of)) = (attachments[i], attachments[o]);
            cx.error(
                "VPCA-13",
                obj,
                &f.native_vlan.at,
                format!("connection {conn} already carries a native-VLAN attachment, VPCAttachment {} ({}): a connection has one native VLAN", oobj.name, of.full_subnet()),
                &format!("connection {conn} already attached with native VLAN"),
                Some((oobj, &of.native_vlan.at)),
            );
        }
    }
}

#[cfg(test)]
#[path = "vpcattachment_tests.rs"]
mod tests;
