//! Gateway and GatewayGroup (`api/gateway/v1alpha1/gateway_types.go`: `Default` :167,
//! `Validate` :205; `gatewaygroup_types.go` `Validate` :71); GatewayPeering is in `peering`.
//!
//! Not checked: GW-13 (the webhook builds a GatewayAgent from the live cluster, which needs
//! every VPCInfo ready, and runs the dataplane validator downloaded at start-up on it): only
//! the live cluster can say. The gateway webhooks add no prefix; Gateway texts end in
//! ": invalid gateway".

mod peering;

use std::collections::HashMap;
use std::net::IpAddr;

pub use peering::{PeeringFacts, PEERING_RULES};

use super::switch::{clashes, switches, User};
use super::util::{default_int, default_str, ensure_path};
use super::{no_check, Ctx, KindRules, Spot, F};
use crate::validate::fabric::{Cross, Obj};
use crate::validate::net::{self, mac_string, parse_mac};
use crate::validate::tree::{Entry, Node, Value};

pub static RULES: KindRules = KindRules {
    before_default: no_check,
    default,
    check,
    facts,
};

pub static GROUP_RULES: KindRules = KindRules {
    before_default: no_check,
    default: super::no_default,
    check: check_group,
    facts: |_| Some(super::Facts::GatewayGroup),
};

/// What other rules need of a Gateway (boxed, as the switch's: the index's enum stays small).
pub type Facts = Box<GatewayFacts>;

/// A Gateway after its Default(). Strings are "" when absent.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct GatewayFacts {
    /// As written (a /32 prefix).
    pub protocol_ip: Spot<String>,
    pub vtep_ip: Spot<String>,
    pub vtep_mac: Spot<String>,
    /// Group names; `[default]` when none is written.
    pub groups: Vec<Spot<String>>,
}

const INVALID: &str = ": invalid gateway";
pub const DEFAULT_GROUP: &str = "default";

fn default(root: &mut Node) {
    let Some(spec) = ensure_path(root, &["spec"]) else {
        return;
    };
    if let Some(logs) = spec.ensure_map("logs") {
        default_str(logs, "default", "info");
        let no_tags = match logs.get("tags") {
            None => true,
            Some(t) => t.is_null() || matches!(&t.value, Value::Map(e) if e.is_empty()),
        };
        if no_tags {
            let at = logs.pos;
            let all = Entry {
                key: "all".into(),
                key_pos: at,
                value: Node::synthetic(at, Value::Str("info".into())),
            };
            logs.set("tags", Node::synthetic(at, Value::Map(vec![all])));
        }
        if let Some(rl) = logs.get_mut("rateLimit").filter(|n| n.is_map()) {
            default_int(rl, "burst", 50);
            default_int(rl, "replenishPerSecond", 5);
        }
    }
    default_int(spec, "workers", 4);
    let no_groups = match spec.get("groups") {
        None => true,
        Some(g) => g.is_null() || matches!(&g.value, Value::Seq(v) if v.is_empty()),
    };
    if no_groups {
        let at = spec.pos;
        let group = Node::synthetic(
            at,
            Value::Map(vec![
                Entry {
                    key: "name".into(),
                    key_pos: at,
                    value: Node::synthetic(at, Value::Str(DEFAULT_GROUP.into())),
                },
                Entry {
                    key: "priority".into(),
                    key_pos: at,
                    value: Node::synthetic(at, Value::Int(0)),
                },
            ]),
        );
        spec.set("groups", Node::synthetic(at, Value::Seq(vec![group])));
    }
    // Default() also sorts the groups by name: no rule depends on their order.
}

/// GW-01/02, GWG-01, GWP-01: the fabric config enables gateways (`enabled`), and the
/// namespace is `default` (`namespace`; these kinds check it themselves, with their own texts).
pub(crate) fn check_enabled_and_namespace(
    ctx: &mut Ctx,
    root: &Node,
    (enabled, namespace): (&'static str, &'static str),
    what: &str,
    suffix: &str,
) {
    let obj = F::root(root);
    if !ctx.env.config.enable_gateway {
        ctx.config_error(
            enabled,
            &obj.get("kind"),
            format!("the fabric does not enable gateways (enableGateway in fab.yaml), so it refuses every {what}"),
            &format!("gateway support is not enabled{suffix}"),
        );
    }
    let ns = obj.at(&["metadata", "namespace"]);
    if !ns.str().is_empty() && ns.str() != "default" {
        ctx.error(
            namespace,
            &ns,
            format!("a {what} lives in namespace default, not {:?}", ns.str()),
            &format!("{} namespace must be default{suffix}", what.to_lowercase()),
        );
    }
}

fn check_group(root: &Node, ctx: &mut Ctx) {
    check_enabled_and_namespace(ctx, root, ("GWG-01", "GWG-01"), "GatewayGroup", "");
}

/// Go's `^[a-zA-Z][a-zA-Z0-9_.-]{0,8}[a-zA-Z0-9]$` (a Linux interface name of 2-10).
fn linux_iface_name(s: &str) -> bool {
    let b = s.as_bytes();
    (2..=10).contains(&b.len())
        && b[0].is_ascii_alphabetic()
        && b[b.len() - 1].is_ascii_alphanumeric()
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'-'))
}

fn check(root: &Node, ctx: &mut Ctx) {
    check_enabled_and_namespace(ctx, root, ("GW-01", "GW-02"), "Gateway", INVALID);
    let spec = F::root(root).get("spec");
    let name = ctx.name.clone();
    let workers = spec.get("workers");
    if workers.int() == 0 || workers.int() > 64 {
        ctx.error(
            "GW-03",
            &workers,
            format!("workers is {}: between 1 and 64", workers.int()),
            &format!("workers should be between 1 and 64{INVALID}"),
        );
    }
    // GW-04 cannot fire: Default() fills a rate limit's zero burst and replenishPerSecond,
    // and the CRD's minimum 0 refuses negatives.
    check_ips(ctx, &spec);
    check_mac(ctx, &spec.get("vtepMAC"));
    let asn = spec.get("asn");
    if asn.int() == 0 {
        ctx.error(
            "GW-07",
            &asn,
            "the gateway needs an ASN (spec.asn)",
            &format!("ASN must be set{INVALID}"),
        );
    }
    check_interfaces(ctx, &spec.get("interfaces"));
    check_neighbors(ctx, &spec.get("neighbors"));
    let mut seen = std::collections::HashSet::new();
    for g in spec.get("groups").items() {
        let gname = g.get("name");
        if !seen.insert(gname.str()) {
            ctx.error(
                "GW-10",
                &gname,
                format!("group {:?} is listed twice", gname.str()),
                &format!("gateway {name} group {} is duplicate{INVALID}", gname.str()),
            );
        }
    }
}

/// GW-05: protocolIP and vtepIP are IPv4 /32s; the VTEP a unicast address.
fn check_ips(ctx: &mut Ctx, spec: &F) {
    for (key, label) in [("protocolIP", "ProtocolIP"), ("vtepIP", "VTEPIP")] {
        let f = spec.get(key);
        let text = f.str();
        let p = match net::parse_prefix(text) {
            Ok(p) => p,
            Err(e) => {
                ctx.error(
                    "GW-05",
                    &f,
                    format!("spec.{key} {text:?} is not an IPv4 /32 prefix like 172.30.8.10/32"),
                    &format!("invalid {label} {text}: {e}\ninvalid gateway"),
                );
                continue;
            }
        };
        let fail = |why: &str| {
            (
                format!("spec.{key} {text} {why}"),
                format!("{label} {text} {why}{INVALID}"),
            )
        };
        let bad = if p.bits != 32 {
            Some(fail("must be a /32 prefix"))
        } else if !p.is_v4() {
            Some(fail("must be an IPv4 address"))
        } else if key == "vtepIP"
            && matches!(p.addr, IpAddr::V4(a) if a.is_multicast() || a.is_loopback() || a.is_unspecified())
        {
            // Go's IsLoopback covers all of 127/8, so its separate localhost test never fires.
            Some(fail("must be a unicast IPv4 address"))
        } else {
            None
        };
        if let Some((msg, inner)) = bad {
            ctx.error("GW-05", &f, msg, &inner);
        }
    }
}

/// GW-06: vtepMAC set, a MAC, not all zeros, unicast.
fn check_mac(ctx: &mut Ctx, f: &F) {
    let text = f.str();
    let (msg, inner) = if text.is_empty() {
        (
            "the gateway needs a VTEP MAC (spec.vtepMAC)".to_string(),
            format!("VTEPMAC must be set{INVALID}"),
        )
    } else {
        match parse_mac(text) {
            None => (
                format!("vtepMAC {text:?} is not a MAC address"),
                format!(
                    "invalid VTEPMAC {text}: address {text}: invalid MAC address\ninvalid gateway"
                ),
            ),
            Some(b) if mac_string(&b) == "00:00:00:00:00:00" => (
                "vtepMAC is all zeros".to_string(),
                format!("VTEPMAC must not be all zeros{INVALID}"),
            ),
            Some(b) if b[0] & 1 == 1 => (
                format!("vtepMAC {text} is a multicast MAC (the first octet is odd)"),
                format!("VTEPMAC {text} must be a unicast MAC address{INVALID}"),
            ),
            Some(_) => return,
        }
    };
    ctx.error("GW-06", f, msg, &inner);
}

/// GW-08: interfaces named as Linux names them, each with IPv4 prefixes and at most one of a
/// PCI address and a kernel name.
fn check_interfaces(ctx: &mut Ctx, ifaces: &F) {
    if ifaces.is_empty() {
        ctx.error(
            "GW-08",
            ifaces,
            "the gateway needs at least one interface (spec.interfaces)",
            &format!("at least one interface must be defined{INVALID}"),
        );
    }
    for (name, iface) in ifaces.entries() {
        let err = |ctx: &mut Ctx, at: &F, msg: String, inner: String| {
            ctx.error("GW-08", at, format!("interface {name}: {msg}"), &inner)
        };
        if name.len() > 15 {
            err(
                ctx,
                &iface,
                format!(
                    "the name is {} characters: Linux names have at most 10 here",
                    name.len()
                ),
                format!("interface name {name} is too long{INVALID}"),
            );
        } else if !linux_iface_name(name) {
            err(
                ctx,
                &iface,
                "the name must be 2-10 letters, digits, '_', '.' or '-', starting with a letter and ending with a letter or digit".into(),
                format!("interface name {name} must be a valid linux interface name (2-10 characters){INVALID}"),
            );
        }
        let ips = iface.get("ips");
        if ips.is_empty() {
            err(
                ctx,
                &ips,
                "needs at least one IP prefix (ips)".into(),
                format!("interface {name} must have at least one IP address{INVALID}"),
            );
        }
        for ip in ips.items() {
            match net::parse_prefix(ip.str()) {
                // Go prints the zero prefix it failed to parse into: "invalid Prefix".
                Err(e) => err(
                    ctx,
                    &ip,
                    format!("{:?} is not an IP prefix like 172.30.128.1/31", ip.str()),
                    format!("invalid interface {name} IP invalid Prefix: {e}\ninvalid gateway"),
                ),
                Ok(p) if !p.is_v4() => err(
                    ctx,
                    &ip,
                    format!("{p} is not IPv4"),
                    format!("interface {name} IP {p} must be an IPv4 address{INVALID}"),
                ),
                Ok(_) => {}
            }
        }
        let (pci, kernel) = (iface.get("pci"), iface.get("kernel"));
        if !pci.str().is_empty() && !kernel.str().is_empty() {
            err(
                ctx,
                &kernel,
                "has both a PCI address and a kernel name: one or the other".into(),
                format!("interface {name} cannot have both PCI address and kernel names{INVALID}"),
            );
        }
        if !pci.str().is_empty() {
            if let Some((msg, inner)) = pci_problem(name, pci.str()) {
                err(ctx, &pci, msg, inner);
            }
        }
        let k = kernel.str();
        if !k.is_empty() && !linux_iface_name(k) {
            err(
                ctx,
                &kernel,
                format!("kernel name {k:?} is not a Linux interface name of 2-10 characters"),
                format!("kernel name {k} must be a valid linux interface name (2-10 characters){INVALID}"),
            );
        } else if !k.is_empty() && k == name {
            err(
                ctx,
                &kernel,
                "the kernel name is the interface's own name".into(),
                format!(
                    "interface name {name} cannot be the same as kernel interface name{INVALID}"
                ),
            );
        }
    }
}

/// A PCI address `DDDD:BB:DD.F` as Go checks it: 12 characters, hex fields in range.
fn pci_problem(name: &str, pci: &str) -> Option<(String, String)> {
    let invalid = || {
        Some((
            format!("PCI address {pci:?} is not of the form 0000:02:00.0"),
            format!("interface {name} PCI {pci} must be a valid PCI address (e.g. 0000:02:00.0){INVALID}"),
        ))
    };
    if pci.len() != 12 {
        return invalid();
    }
    let Some((head, function)) = pci.split_once('.').filter(|(_, f)| !f.contains('.')) else {
        return invalid();
    };
    let field = |part: &str, what: &str, max: i64, range: &str| -> Option<(String, String)> {
        match i64::from_str_radix(part, 16) {
            Err(_) => Some((
                format!("PCI address {pci}: the {what} {part:?} is not hexadecimal"),
                format!("invalid interface {name} PCI address {pci} {what}: strconv.ParseInt: parsing {part:?}: invalid syntax\ninvalid gateway"),
            )),
            Ok(v) if !(0..=max).contains(&v) => Some((
                format!("PCI address {pci}: the {what} is out of range ({range})"),
                format!("invalid interface {name} PCI address {pci} {what} ({range}){INVALID}"),
            )),
            Ok(_) => None,
        }
    };
    if let Some(p) = field(function, "function", 7, "0-7") {
        return Some(p);
    }
    let parts: Vec<&str> = head.split(':').collect();
    let [domain, bus, device] = parts[..] else {
        return invalid();
    };
    field(domain, "domain", 0xFFFF, "0-FFFF")
        .or_else(|| field(bus, "bus", 0xFF, "0-FF"))
        .or_else(|| field(device, "device", 0x1F, "0-1F"))
}

/// GW-09: at least one BGP neighbor, each with a unicast IPv4 address and an ASN.
fn check_neighbors(ctx: &mut Ctx, list: &F) {
    if list.is_empty() {
        ctx.error(
            "GW-09",
            list,
            "the gateway needs at least one BGP neighbor (spec.neighbors)",
            &format!("at least one BGP neighbor must be defined{INVALID}"),
        );
    }
    for n in list.items() {
        let ip = n.get("ip");
        let text = ip.str();
        let bad = if text.is_empty() {
            Some((
                "a BGP neighbor needs an ip".to_string(),
                format!("BGP neighbor must have an IP address{INVALID}"),
            ))
        } else {
            match net::parse_ip(text) {
                Err(e) => Some((
                    format!("BGP neighbor ip {text:?} is not an IP address"),
                    format!("invalid neighbor IP {text}: {e}\ninvalid gateway"),
                )),
                Ok(IpAddr::V6(_)) => Some((
                    format!("BGP neighbor ip {text} is not IPv4"),
                    format!("BGP neighbor IP {text} must be an IPv4 address{INVALID}"),
                )),
                Ok(IpAddr::V4(a)) if a.is_multicast() || a.is_unspecified() => Some((
                    format!("BGP neighbor ip {text} is not a unicast address"),
                    format!("BGP neighbor IP {text} must be a unicast IPv4 address{INVALID}"),
                )),
                Ok(_) => None,
            }
        };
        if let Some((msg, inner)) = bad {
            ctx.error("GW-09", &ip, msg, &inner);
            continue;
        }
        let asn = n.get("asn");
        if asn.int() == 0 {
            ctx.error(
                "GW-09",
                &asn,
                format!("BGP neighbor {text} needs an asn"),
                &format!("BGP neighbor {text} must have an ASN{INVALID}"),
            );
        }
    }
}

fn facts(root: &Node) -> Option<super::Facts> {
    let spec = F::root(root).get("spec");
    let spot = |f: F| Spot::new(f.str().to_string(), &f);
    Some(super::Facts::Gateway(Box::new(GatewayFacts {
        protocol_ip: spot(spec.get("protocolIP")),
        vtep_ip: spot(spec.get("vtepIP")),
        vtep_mac: spot(spec.get("vtepMAC")),
        groups: spec
            .get("groups")
            .items()
            .map(|g| spot(g.get("name")))
            .collect(),
    })))
}

pub(crate) fn gateways<'a>(cx: &Cross<'a>) -> Vec<(&'a Obj, &'a GatewayFacts)> {
    cx.index
        .of_kind("Gateway")
        .filter_map(|o| match &*o.facts {
            super::Facts::Gateway(f) => Some((o, &**f)),
            _ => None,
        })
        .collect()
}

/// GW-11: protocol and VTEP IPs unique among gateways and switches, VTEP MACs among
/// gateways; GW-12: groups exist and take no more gateways than the fabric has communities.
/// Then the GatewayPeering rules.
pub fn cross(cx: &mut Cross) {
    let gws = gateways(cx);
    let sws = switches(cx);
    let addr = |s: &str| net::parse_prefix(s).ok().map(|p| p.addr);
    let mut proto: HashMap<IpAddr, Vec<User>> = HashMap::new();
    let mut vtep: HashMap<IpAddr, Vec<User>> = HashMap::new();
    let mut macs: HashMap<String, Vec<User>> = HashMap::new();
    for (obj, f) in &gws {
        for (map, s) in [(&mut proto, &f.protocol_ip), (&mut vtep, &f.vtep_ip)] {
            if let Some(a) = addr(&s.value) {
                map.entry(a).or_default().push(User {
                    obj,
                    at: &s.at,
                    text: &s.value,
                    checked: true,
                });
            }
        }
        if let Some(m) = parse_mac(&f.vtep_mac.value) {
            macs.entry(mac_string(&m)).or_default().push(User {
                obj,
                at: &f.vtep_mac.at,
                text: &f.vtep_mac.value,
                checked: true,
            });
        }
    }
    // Switches occupy the same protocol and VTEP addresses (their own check is SW-15/17).
    for (obj, f) in &sws {
        for (map, s) in [(&mut proto, &f.protocol_ip), (&mut vtep, &f.vtep_ip)] {
            if let Some(a) = addr(&s.value) {
                map.entry(a).or_default().push(User {
                    obj,
                    at: &s.at,
                    text: &s.value,
                    checked: false,
                });
            }
        }
    }
    for (what, map) in [("protocol IP", &proto), ("VTEP IP", &vtep)] {
        for (u, o) in clashes(map) {
            cx.error(
                "GW-11",
                u.obj,
                u.at,
                format!("{what} {} is also {}'s", u.text, o.obj.object()),
                &format!(
                    "gateway {} {what} {} is already in use{INVALID}",
                    u.obj.name, u.text
                ),
                Some((o.obj, o.at)),
            );
        }
    }
    for (u, o) in clashes(&macs) {
        cx.error(
            "GW-11",
            u.obj,
            u.at,
            format!("VTEP MAC {} is also {}'s", u.text, o.obj.object()),
            &format!(
                "gateway {} VTEP MAC {} is already in use{INVALID}",
                u.obj.name,
                parse_mac(u.text).map_or(u.text.to_string(), |m| mac_string(&m))
            ),
            Some((o.obj, o.at)),
        );
    }
    groups(cx, &gws);
    peering::cross(cx);
}

/// GW-12: each group exists; with gatewayCommunities in the config, a group takes at most as
/// many gateways as there are communities (the webhook refuses the one that would exceed it:
/// fgd reports every member of an over-full group).
fn groups(cx: &mut Cross, gws: &[(&Obj, &GatewayFacts)]) {
    let mut members: HashMap<&str, Vec<(&Obj, &Spot<String>)>> = HashMap::new();
    for (obj, f) in gws {
        for g in &f.groups {
            members.entry(&g.value).or_default().push((obj, g));
        }
    }
    for (obj, f) in gws {
        for g in &f.groups {
            if cx.index.get("GatewayGroup", &g.value).is_none() {
                cx.missing(
                    "GW-12",
                    obj,
                    &g.at,
                    "GatewayGroup",
                    &g.value,
                    &format!("gateway group {} not found{INVALID}", g.value),
                );
            }
        }
    }
    let cap = cx.env.config.gateway_communities;
    if cap == 0 {
        return;
    }
    for (group, list) in &members {
        if list.len() <= cap {
            continue;
        }
        for (i, (obj, g)) in list.iter().enumerate() {
            let (other, og) = list[if i == 0 { 1 } else { 0 }];
            cx.config_error(
                "GW-12",
                obj,
                &g.at,
                format!(
                    "gateway group {group} has {} gateways: the fabric's {cap} gateway communities allow at most {cap}",
                    list.len()
                ),
                &format!(
                    "gateway group {group} already has too many members ({}), max is {cap}{INVALID}",
                    list.len() - 1
                ),
                Some((other, &og.at)),
            );
        }
    }
}

#[cfg(test)]
pub(crate) mod tests;
