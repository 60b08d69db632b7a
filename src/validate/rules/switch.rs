//! Switch (`api/wiring/v1beta1/switch_types.go`: `Default` :240, `HydrationValidation` :291,
//! `Validate` :447).
//!
//! SW-10..13 (the profile exists; ports, speeds, breakouts, auto-negotiation and FEC; features;
//! port counts) are in `profiles`, over the built-in switch profile catalog. SW-01 and SW-07 are the CRD schema's (`schema::rule_for`),
//! as is SW-06's type enum.

use std::collections::HashMap;
use std::net::IpAddr;

use super::util::{derived_label, ensure_path};
use super::vlanns::{self, Range};
use super::{Ctx, KindRules, Spot, F};
use crate::validate::fabric::{Cross, Obj};
use crate::validate::net::{self, Prefix};
use crate::validate::tree::{Node, Value};
use crate::validate::At;

pub static RULES: KindRules = KindRules {
    before_default,
    default,
    check,
    facts,
};

/// `spec.role` as Go reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Role {
    Spine,
    ServerLeaf,
    BorderLeaf,
    MixedLeaf,
    /// In the CRD's enum, but neither a leaf nor a spine in Go (RULES.md Q7).
    VirtualEdge,
    /// Absent or not in the enum (the schema refuses it: SW-01).
    Other,
}

impl Role {
    pub fn parse(s: &str) -> Role {
        match s {
            "spine" => Role::Spine,
            "server-leaf" => Role::ServerLeaf,
            "border-leaf" => Role::BorderLeaf,
            "mixed-leaf" => Role::MixedLeaf,
            "virtual-edge" => Role::VirtualEdge,
            _ => Role::Other,
        }
    }

    pub fn is_leaf(self) -> bool {
        matches!(self, Role::ServerLeaf | Role::BorderLeaf | Role::MixedLeaf)
    }

    pub fn is_spine(self) -> bool {
        self == Role::Spine
    }
}

/// `spec.redundancy.type` (`meta.RedundancyType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Redundancy {
    None,
    /// Deprecated, admitted with a warning.
    Mclag,
    Eslag,
    /// Not in the enum (the schema refuses it: SW-06).
    Other,
}

impl Redundancy {
    pub fn parse(s: &str) -> Redundancy {
        match s {
            "" => Redundancy::None,
            "mclag" => Redundancy::Mclag,
            "eslag" => Redundancy::Eslag,
            _ => Redundancy::Other,
        }
    }
}

/// What other rules need of a Switch (boxed: the index holds one per switch, and this is the
/// largest of the kinds' facts).
pub type Facts = Box<SwitchFacts>;

/// A Switch after its Default(). Strings are "" when absent.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct SwitchFacts {
    /// `portBreakouts` (port → mode): which sub-ports a connection may use (CONN-07).
    pub port_breakouts: std::collections::BTreeMap<String, String>,
    /// Where each `portBreakouts` entry is, and the mapping itself (the switch's spec when
    /// absent): where a breakout change is reported (UPD-03).
    pub port_breakouts_at: (At, std::collections::BTreeMap<String, At>),
    /// `spec.roce`: port breakouts cannot change while it is on (UPD-03).
    pub roce: Spot<bool>,
    /// What VPC attachments need of the switch.
    pub attach: super::vpcattachment::wiring::SwitchView,
    pub role: Role,
    pub profile: Spot<String>,
    /// `spec.groups` plus `redundancy.group`, which Default() adds (placed where it is
    /// written).
    pub groups: Vec<Spot<String>>,
    /// `spec.vlanNamespaces`; `[default]` when empty.
    pub vlan_namespaces: Vec<Spot<String>>,
    pub redundancy_group: Spot<String>,
    pub redundancy: Spot<Redundancy>,
    /// 0 when absent.
    pub asn: Spot<u32>,
    /// The management IP, as written (a prefix: `172.30.0.8/21`).
    pub ip: Spot<String>,
    /// As written: Go compares protocol and VTEP IPs of switches as strings.
    pub protocol_ip: Spot<String>,
    pub vtep_ip: Spot<String>,
}

impl SwitchFacts {
    /// The management IP's address, when it parses.
    pub fn management_addr(&self) -> Option<IpAddr> {
        net::parse_prefix(&self.ip.value).ok().map(|p| p.addr)
    }
}

const MCLAG_DEPRECATED: &str = "MCLAG is deprecated and no longer supported";

fn default(root: &mut Node) {
    let Some(spec) = ensure_path(root, &["spec"]) else {
        return;
    };
    for key in ["portGroupSpeeds", "portSpeeds"] {
        if let Some(Node {
            value: Value::Map(entries),
            ..
        }) = spec.get_mut(key)
        {
            for e in entries.iter_mut() {
                if let Value::Str(s) = &mut e.value.value {
                    if let Some(rest) = s.strip_prefix("SPEED_") {
                        *s = rest.to_string();
                    }
                }
            }
        }
    }
    let at = spec.pos;
    let no_namespaces = match spec.get("vlanNamespaces") {
        None => true,
        Some(n) => n.is_null() || matches!(&n.value, Value::Seq(v) if v.is_empty()),
    };
    if no_namespaces {
        let default = Node::synthetic(at, Value::Str("default".into()));
        spec.set(
            "vlanNamespaces",
            Node::synthetic(at, Value::Seq(vec![default])),
        );
    }
    let group = spec
        .at(&["redundancy", "group"])
        .filter(|n| !n.synthetic)
        .and_then(|n| n.as_str().map(|s| (s.to_string(), n.pos)));
    if let Some((group, group_at)) = group.filter(|(g, _)| !g.is_empty()) {
        if spec.get("groups").is_none_or(Node::is_null) {
            spec.set("groups", Node::synthetic(at, Value::Seq(Vec::new())));
        }
        if let Some(Node {
            value: Value::Seq(groups),
            ..
        }) = spec.get_mut("groups")
        {
            if !groups.iter().any(|g| g.as_str() == Some(group.as_str())) {
                // Placed where redundancy.group is written: that is what names the group.
                groups.push(Node::synthetic(group_at, Value::Str(group)));
            }
        }
    }
    // The CRD's defaults (RULES.md §1 step 2) and Default() agree: a field left out of a
    // present linkFlapErrDisable is filled (a written 0 stays, for the schema to judge).
    if let Some(flap) = spec.get_mut("linkFlapErrDisable").filter(|n| n.is_map()) {
        let at = flap.pos;
        for (key, value) in [
            ("flapThreshold", 3),
            ("samplingInterval", 30),
            ("recoveryInterval", 300),
        ] {
            if flap.get(key).is_none_or(Node::is_null) {
                flap.set(key, Node::synthetic(at, Value::Int(value)));
            }
        }
    }
    // Default() also sorts groups and vlanNamespaces: no rule depends on their order.
}

/// SW-06: MCLAG is admitted with a warning.
fn before_default(original: &Node, ctx: &mut Ctx) {
    let t = F::root(original).at(&["spec", "redundancy", "type"]);
    if t.str() == "mclag" {
        ctx.warn(
            "SW-06",
            &t,
            "MCLAG redundancy is deprecated and no longer supported: use ESLAG",
        );
        if let Some(p) = ctx.out.last_mut() {
            p.upstream = Some(MCLAG_DEPRECATED.into());
        }
    }
}

fn check(root: &Node, ctx: &mut Ctx) {
    let spec = F::root(root).get("spec");
    let role = Role::parse(spec.get("role").str());
    let name = ctx.name.clone();
    // SW-02 ("at least one VLAN namespace required") cannot fire: Default() fills [default].
    for (key, what, inner) in [
        ("asn", "an ASN", "ASN is required"),
        ("ip", "a management IP", "IP is required"),
        ("protocolIP", "a protocol IP", "protocol IP is required"),
    ] {
        let f = spec.get(key);
        let missing = if key == "asn" {
            f.int() == 0
        } else {
            f.str().is_empty()
        };
        if missing {
            ctx.error(
                "SW-03",
                &f,
                format!("the switch needs {what} (spec.{key}); hhfab fills it when it hydrates the wiring, so wiring written by hand or copied from the docs lacks it"),
                inner,
            );
        }
    }
    let vtep = spec.get("vtepIP");
    let spine_leaf = ctx.env.config.fabric_mode == "spine-leaf";
    if role.is_leaf() && spine_leaf && vtep.str().is_empty() {
        ctx.config_error(
            "SW-04",
            &vtep,
            "a leaf needs a VTEP IP (spec.vtepIP) in a spine-leaf fabric",
            "VTEP IP is required for leaf switches in spine-leaf mode",
        );
    }
    if role.is_spine() && !vtep.str().is_empty() {
        ctx.error(
            "SW-04",
            &vtep,
            "a spine has no VTEP IP: remove spec.vtepIP",
            "VTEP IP is not allowed for spine switches",
        );
    }
    let profile = spec.get("profile");
    if profile.str().is_empty() {
        ctx.error(
            "SW-05",
            &profile,
            "the switch needs a profile (spec.profile), e.g. dell-s5248f-on or vs",
            "profile is required",
        );
    }
    let redundancy = spec.get("redundancy");
    let (group, rtype) = (redundancy.get("group"), redundancy.get("type"));
    // A type outside the enum is the schema's (SW-06): the webhook never sees it.
    if !group.str().is_empty() && rtype.str().is_empty() {
        ctx.error(
            "SW-06",
            &group,
            "redundancy.group needs redundancy.type (eslag)",
            "redundancy group specified without type",
        );
    }
    if group.str().is_empty() && !rtype.str().is_empty() {
        ctx.error(
            "SW-06",
            &rtype,
            "redundancy.type needs redundancy.group (the SwitchGroup of the redundant switches)",
            "redundancy type specified without group",
        );
    }
    for g in spec.get("groups").items() {
        if g.str().is_empty() {
            ctx.error(
                "SW-09",
                &g,
                "a group name is empty",
                "group name cannot be empty",
            );
        }
        derived_label(
            ctx,
            &g,
            &format!("group {:?}", g.str()),
            &format!("switchgroup.fabric.githedgehog.com/{}", g.str()),
            "true",
        );
    }
    for ns in spec.get("vlanNamespaces").items() {
        derived_label(
            ctx,
            &ns,
            &format!("VLAN namespace {:?}", ns.str()),
            &format!("vlanns.fabric.githedgehog.com/{}", ns.str()),
            "true",
        );
    }
    derived_label(
        ctx,
        &profile,
        &format!("profile {:?}", profile.str()),
        "fabric.githedgehog.com/profile",
        profile.str(),
    );
    check_hydration(ctx, &spec, role, &name);
    super::profiles::check_switch(root, ctx);
}

/// The parts of `HydrationValidation` that need only the switch and the fabric config
/// (uniqueness across switches is in `cross`). Upstream wraps them in "failed hydration
/// validation: ". A field that is absent already failed SW-03/04, where Go stops.
fn check_hydration(ctx: &mut Ctx, spec: &F, role: Role, name: &str) {
    let env = ctx.env;
    let cfg = &env.config;
    let hv = |inner: String| format!("failed hydration validation: {inner}");
    let ip = spec.get("ip");
    if !ip.str().is_empty() {
        match net::parse_prefix(ip.str()) {
            Err(e) => ctx.error(
                "SW-14",
                &ip,
                format!(
                    "management IP {:?} is not an address with its prefix length, like 172.30.0.8/21",
                    ip.str()
                ),
                &hv(format!("parsing switch {name} IP {}: {e}", ip.str())),
            ),
            Ok(p) if !cfg.management_subnet.contains(p.addr) => ctx.config_error(
                "SW-14",
                &ip,
                format!(
                    "management IP {p} is outside the management subnet {}",
                    cfg.management_subnet
                ),
                &hv(format!(
                    "switch {name} management IP {p} is not in the management subnet {}",
                    cfg.management_subnet
                )),
            ),
            Ok(p) if net::ip_u128(p.addr) >= net::ip_u128(cfg.management_dhcp_start) => ctx
                .config_error(
                    "SW-14",
                    &ip,
                    format!(
                        "management IP {p} is in the management DHCP range, which starts at {}",
                        cfg.management_dhcp_start
                    ),
                    &hv(format!(
                        "switch {name} management IP {p} is in the management DHCP range starting at {}",
                        cfg.management_dhcp_start
                    )),
                ),
            Ok(p) if p.addr == cfg.control_vip => ctx.config_error(
                "SW-14",
                &ip,
                format!("management IP {p} is the control node's VIP"),
                &hv(format!("switch {name} (management) IP {p} is already in use")),
            ),
            Ok(_) => {}
        }
    }
    check_host_ip(
        ctx,
        spec,
        "protocolIP",
        "protocol",
        &cfg.protocol_subnet,
        name,
    );
    let asn = spec.get("asn");
    let n = asn.int();
    if n != 0
        && role.is_leaf()
        && !(cfg.leaf_asn_start as i128..=cfg.leaf_asn_end as i128).contains(&n)
    {
        ctx.config_error(
            "SW-16",
            &asn,
            format!(
                "leaf ASN {n} is outside the fabric's leaf ASN range {}-{}",
                cfg.leaf_asn_start, cfg.leaf_asn_end
            ),
            &hv(format!(
                "leaf {name} ASN {n} is not within the fabric leaf ASN range {}-{}",
                cfg.leaf_asn_start, cfg.leaf_asn_end
            )),
        );
    }
    if n != 0 && role.is_spine() && n != cfg.spine_asn as i128 {
        ctx.config_error(
            "SW-16",
            &asn,
            format!(
                "spine ASN {n} is not the fabric's spine ASN {}",
                cfg.spine_asn
            ),
            &hv(format!(
                "spine {name} ASN {n} is not the expected spine ASN {}",
                cfg.spine_asn
            )),
        );
    }
    if role.is_leaf() {
        check_host_ip(ctx, spec, "vtepIP", "VTEP", &cfg.vtep_subnet, name);
    }
}

/// SW-15 (protocolIP) and SW-17 (vtepIP): a /32 inside its subnet.
fn check_host_ip(ctx: &mut Ctx, spec: &F, key: &str, what: &str, subnet: &Prefix, name: &str) {
    let rule = if key == "vtepIP" { "SW-17" } else { "SW-15" };
    let f = spec.get(key);
    let text = f.str();
    if text.is_empty() {
        return;
    }
    let hv = |inner: String| format!("failed hydration validation: {inner}");
    match net::parse_prefix(text) {
        Err(e) => ctx.error(
            rule,
            &f,
            format!(
                "{what} IP {text:?} is not an address with its prefix length, like 172.30.8.2/32"
            ),
            &hv(format!("parsing switch {name} {what} IP {text}: {e}")),
        ),
        Ok(p) if p.bits != 32 => ctx.error(
            rule,
            &f,
            format!("{what} IP {p} must be a /32"),
            &hv(format!("switch {name} {what} IP {p} must be a /32")),
        ),
        Ok(p) if !subnet.contains(p.addr) => ctx.config_error(
            rule,
            &f,
            format!("{what} IP {p} is outside the fabric's {what} subnet {subnet}"),
            &hv(format!(
                "switch {name} {what} IP {p} is not in the {what} subnet {subnet}"
            )),
        ),
        Ok(_) => {}
    }
}

fn facts(root: &Node) -> Option<super::Facts> {
    let spec = F::root(root).get("spec");
    let spot = |f: F| Spot::new(f.str().to_string(), &f);
    let redundancy = spec.get("redundancy");
    let rtype = redundancy.get("type");
    let asn = spec.get("asn");
    Some(super::Facts::Switch(Box::new(SwitchFacts {
        port_breakouts: super::profiles::breakouts(&spec),
        port_breakouts_at: {
            let field = spec.get("portBreakouts");
            let entries = field
                .entries()
                .map(|(k, v)| (k.to_string(), At::from(&v)))
                .collect();
            ((&field).into(), entries)
        },
        roce: {
            let roce = spec.get("roce");
            Spot::new(roce.bool(), &roce)
        },
        attach: super::vpcattachment::wiring::SwitchView::of_tree(root),
        role: Role::parse(spec.get("role").str()),
        profile: spot(spec.get("profile")),
        groups: spec.get("groups").items().map(spot).collect(),
        vlan_namespaces: spec.get("vlanNamespaces").items().map(spot).collect(),
        redundancy_group: spot(redundancy.get("group")),
        redundancy: Spot::new(Redundancy::parse(rtype.str()), &rtype),
        asn: Spot::new(u32::try_from(asn.int()).unwrap_or(0), &asn),
        ip: spot(spec.get("ip")),
        protocol_ip: spot(spec.get("protocolIP")),
        vtep_ip: spot(spec.get("vtepIP")),
    })))
}

/// The switches of the index with their facts.
pub fn switches<'a>(cx: &Cross<'a>) -> Vec<(&'a Obj, &'a SwitchFacts)> {
    cx.index
        .of_kind("Switch")
        .filter_map(|o| match &*o.facts {
            super::Facts::Switch(f) => Some((o, &**f)),
            _ => None,
        })
        .collect()
}

/// One object's use of a value that must be unique (as written, at `at`); `checked` when the
/// object's own rule compares it (the others only occupy it).
pub(crate) struct User<'a> {
    pub obj: &'a Obj,
    pub at: &'a At,
    pub text: &'a str,
    pub checked: bool,
}

/// Each checked user of one value that another user has too, with that other one.
pub(crate) fn clashes_in<'m, 'a>(
    list: &'m [User<'a>],
) -> impl Iterator<Item = (&'m User<'a>, &'m User<'a>)> + 'm {
    list.iter()
        .enumerate()
        .filter(|(_, u)| u.checked && list.len() > 1)
        .map(move |(i, u)| (u, if i == 0 { &list[1] } else { &list[0] }))
}

/// `clashes_in` over every value: O(n) in the users.
pub(crate) fn clashes<'m, 'a, K>(
    users: &'m HashMap<K, Vec<User<'a>>>,
) -> Vec<(&'m User<'a>, &'m User<'a>)> {
    users.values().flat_map(|l| clashes_in(l)).collect()
}

/// SW-08, SW-09: namespaces and groups exist; SW-14..17: management, protocol and VTEP IPs
/// and leaf ASNs unique (protocol and VTEP IPs shared with gateways when the fabric has them).
pub fn cross(cx: &mut Cross) {
    let index = cx.index;
    let list = switches(cx);
    for (obj, f) in &list {
        let mut ranges: Vec<Range> = Vec::new();
        let mut all_found = true;
        for ns in &f.vlan_namespaces {
            match index.get("VLANNamespace", &ns.value).map(|o| &*o.facts) {
                None => {
                    all_found = false;
                    cx.missing(
                        "SW-08",
                        obj,
                        &ns.at,
                        "VLANNamespace",
                        &ns.value,
                        &format!("specified VLANNamespace {} does not exist", ns.value),
                    );
                }
                Some(super::Facts::VlanNamespace(v)) => {
                    ranges.extend(v.ranges.iter().map(|r| r.value));
                }
                Some(_) => {}
            }
        }
        if let (true, Some((a, b))) = (all_found, vlanns::first_overlap(ranges)) {
            let at = f.vlan_namespaces.first().map_or(&f.profile.at, |n| &n.at);
            cx.error(
                "SW-08",
                obj,
                at,
                format!(
                    "the switch's VLAN namespaces overlap (VLANs {}-{} and {}-{})",
                    a.from, a.to, b.from, b.to
                ),
                &format!(
                    "invalid VLANNamespaces: VLAN ranges overlap: {}-{} and {}-{}",
                    a.from, a.to, b.from, b.to
                ),
                None,
            );
        }
        for g in f.groups.iter().filter(|g| !g.value.is_empty()) {
            if index.get("SwitchGroup", &g.value).is_none() {
                cx.missing(
                    "SW-09",
                    obj,
                    &g.at,
                    "SwitchGroup",
                    &g.value,
                    &format!("switch group {} does not exist", g.value),
                );
            }
        }
    }
    unique(cx, &list);
}

fn unique(cx: &mut Cross, list: &[(&Obj, &SwitchFacts)]) {
    let env = cx.env;
    let cfg = &env.config;
    let hv = |inner: String| format!("failed hydration validation: {inner}");
    let mut mgmt: HashMap<IpAddr, Vec<User>> = HashMap::new();
    let mut proto: HashMap<&str, Vec<User>> = HashMap::new();
    let mut vtep: HashMap<&str, Vec<User>> = HashMap::new();
    let mut asns: HashMap<u32, Vec<User>> = HashMap::new();
    for (obj, f) in list {
        fn user<'a>(obj: &'a Obj, s: &'a Spot<String>, checked: bool) -> User<'a> {
            User {
                obj,
                at: &s.at,
                text: &s.value,
                checked,
            }
        }
        if let Some(addr) = f.management_addr() {
            mgmt.entry(addr).or_default().push(user(obj, &f.ip, true));
        }
        let not_mclag = f.redundancy.value != Redundancy::Mclag;
        if !f.protocol_ip.value.is_empty() {
            proto
                .entry(&f.protocol_ip.value)
                .or_default()
                .push(user(obj, &f.protocol_ip, true));
        }
        if !f.vtep_ip.value.is_empty() {
            let checked = f.role.is_leaf() && not_mclag;
            vtep.entry(&f.vtep_ip.value)
                .or_default()
                .push(user(obj, &f.vtep_ip, checked));
        }
        if f.role.is_leaf() && f.asn.value != 0 {
            asns.entry(f.asn.value).or_default().push(User {
                obj,
                at: &f.asn.at,
                text: "",
                checked: not_mclag,
            });
        }
    }
    // Gateways occupy protocol and VTEP IPs too, when the fabric has them (Go lists them only
    // then); their own check is GW-11.
    if cfg.enable_gateway {
        for o in cx.index.of_kind("Gateway") {
            if let super::Facts::Gateway(g) = &*o.facts {
                for (map, spot) in [(&mut proto, &g.protocol_ip), (&mut vtep, &g.vtep_ip)] {
                    if !spot.value.is_empty() {
                        map.entry(spot.value.as_str()).or_default().push(User {
                            obj: o,
                            at: &spot.at,
                            text: &spot.value,
                            checked: false,
                        });
                    }
                }
            }
        }
    }
    for (u, o) in clashes(&mgmt) {
        cx.error(
            "SW-14",
            u.obj,
            u.at,
            format!("management IP {} is also {}'s", u.text, o.obj.object()),
            &hv(format!(
                "switch {} (management) IP {} is already in use",
                u.obj.name, u.text
            )),
            Some((o.obj, o.at)),
        );
    }
    for (rule, what, map) in [("SW-15", "protocol", &proto), ("SW-17", "VTEP", &vtep)] {
        for (u, o) in clashes(map) {
            cx.error(
                rule,
                u.obj,
                u.at,
                format!("{what} IP {} is also {}'s", u.text, o.obj.object()),
                &hv(format!(
                    "switch {} {what} IP {} is already in use",
                    u.obj.name, u.text
                )),
                Some((o.obj, o.at)),
            );
        }
    }
    for (asn, list) in &asns {
        for (u, o) in clashes_in(list) {
            cx.error(
                "SW-16",
                u.obj,
                u.at,
                format!(
                    "leaf ASN {asn} is also leaf {}'s (only MCLAG switches may share one)",
                    o.obj.name
                ),
                &hv(format!("leaf {} ASN {asn} is already in use", u.obj.name)),
                Some((o.obj, o.at)),
            );
        }
    }
}

#[cfg(test)]
mod corpus;
#[cfg(test)]
pub(crate) mod tests;
