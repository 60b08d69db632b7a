//! Connection (`api/wiring/v1beta1/connection_types.go`: `Endpoints` :485, `Default` :709,
//! `ValidateServerFacingMTU` :725, `Validate` :736; `pkg/ctrl/connection_wh.go`).
//!
//! Not here: CONN-07 (every switch port exists on the switch's profile, with its breakouts)
//! needs the switch profile catalog, and is wired with it. The CRD schema's parts of
//! CONN-12/14/16/17/18/20 (link counts, IP patterns) are `schema::rule_for`'s.
//!
//! A type key written with no value is null, which the API server prunes before the
//! webhooks run: it is no type.

use std::collections::HashSet;
use std::net::IpAddr;

use super::common::bad_label_value;
use super::util::derived_label;
use super::{Ctx, KindRules, Spot, F};
use crate::validate::net::{self, Prefix};
use crate::validate::tree::Node;

pub static RULES: KindRules = KindRules {
    before_default,
    default: super::no_default,
    check,
    facts,
};

/// A connection type, by its key in `spec`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum ConnType {
    Unbundled,
    Bundled,
    /// Deprecated: admitted with a warning, and nothing else is checked.
    Mclag,
    Eslag,
    /// Deprecated, as Mclag.
    MclagDomain,
    Fabric,
    Mesh,
    Gateway,
    VpcLoopback,
    External,
    StaticExternal,
}

/// Go's order (`ConnectionSpec.Type`): with two types written, the first counts (RULES.md Q2).
const TYPES: [ConnType; 9] = [
    ConnType::Unbundled,
    ConnType::Bundled,
    ConnType::Eslag,
    ConnType::Fabric,
    ConnType::Mesh,
    ConnType::Gateway,
    ConnType::VpcLoopback,
    ConnType::External,
    ConnType::StaticExternal,
];

impl ConnType {
    /// The key in `spec`.
    pub fn key(self) -> &'static str {
        match self {
            ConnType::Unbundled => "unbundled",
            ConnType::Bundled => "bundled",
            ConnType::Mclag => "mclag",
            ConnType::Eslag => "eslag",
            ConnType::MclagDomain => "mclagDomain",
            ConnType::Fabric => "fabric",
            ConnType::Mesh => "mesh",
            ConnType::Gateway => "gateway",
            ConnType::VpcLoopback => "vpcLoopback",
            ConnType::External => "external",
            ConnType::StaticExternal => "staticExternal",
        }
    }

    /// How Go names it in messages and labels.
    pub fn label(self) -> &'static str {
        match self {
            ConnType::VpcLoopback => "vpc-loopback",
            ConnType::MclagDomain => "mclag-domain",
            ConnType::StaticExternal => "static-external",
            t => t.key(),
        }
    }
}

/// What `Endpoints()` gives: the devices and ports, each placed at the first port naming it.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct Endpoints {
    pub switches: Vec<Spot<String>>,
    pub servers: Vec<Spot<String>>,
    pub ports: Vec<Spot<String>>,
}

/// One IP of a fabric, mesh or gateway link.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct LinkIp {
    pub link: usize,
    /// `spine`, `leaf`, `leaf1`, `leaf2`, `switch` or `gateway`.
    #[serde(deserialize_with = "side_of")]
    pub side: Side,
    pub ip: Spot<String>,
    pub addr: IpAddr,
    /// Both IPs of the link are set: only then does the connection's own check look at it.
    pub checked: bool,
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Facts {
    /// What VPC and external attachments need of the connection (their webhooks read the
    /// connection their own way).
    pub attach: super::vpcattachment::wiring::ConnView,
    /// Every type the spec has, MCLAG ones first, then in Go's order.
    pub types: Vec<ConnType>,
    /// `Endpoints()` when it succeeds (empty lists for MCLAG, as in Go).
    pub endpoints: Option<Endpoints>,
    /// The link IPs of the first of fabric, mesh and gateway written (CONN-15; Go picks it
    /// by that order, whatever type counts).
    pub link_ips: Vec<LinkIp>,
    /// Which type `link_ips` are of.
    pub link_type: Option<ConnType>,
    pub within_vpc: Option<Spot<String>>,
    /// Where the type is written (the first type key, MCLAG ones first; the spec when there is
    /// none): where a change of type is reported (UPD-01).
    pub type_at: super::At,
    /// Where `spec.staticExternal` is, when the connection has one (UPD-02 compares
    /// `withinVPC` only when both versions have it).
    pub static_external: Option<super::At>,
}

impl Facts {
    pub fn has(&self, t: ConnType) -> bool {
        self.types.contains(&t)
    }

    /// Deprecated MCLAG: the webhook checks nothing else, and the labels the delete checks
    /// select by are not set (RULES.md Q17).
    pub fn mclag(&self) -> bool {
        self.has(ConnType::Mclag) || self.has(ConnType::MclagDomain)
    }

    /// The type that counts (Go's `Type()`), None when there is none.
    pub fn kind(&self) -> Option<ConnType> {
        TYPES.into_iter().find(|t| self.has(*t))
    }
}

const MCLAG_DEPRECATED: &str = "MCLAG is deprecated and no longer supported";

fn types(spec: &F) -> Vec<ConnType> {
    [ConnType::Mclag, ConnType::MclagDomain]
        .into_iter()
        .chain(TYPES)
        .filter(|t| spec.get(t.key()).present())
        .collect()
}

/// CONN-03: MCLAG is admitted with a warning; CONN-01 (Q2): a second type is ignored.
fn before_default(original: &Node, ctx: &mut Ctx) {
    let spec = F::root(original).get("spec");
    let written = types(&spec);
    if let Some(t) = written
        .iter()
        .find(|t| matches!(t, ConnType::Mclag | ConnType::MclagDomain))
    {
        ctx.warn(
            "CONN-03",
            &spec.get(t.key()),
            "MCLAG connections are deprecated and no longer supported (use ESLAG); the fabric checks nothing else of this connection",
        );
        if let Some(p) = ctx.out.last_mut() {
            p.upstream = Some(MCLAG_DEPRECATED.into());
        }
        return;
    }
    if let [first, rest @ ..] = &written[..] {
        for t in rest {
            ctx.warn(
                "CONN-01",
                &spec.get(t.key()),
                format!(
                    "a connection has one type: {} counts, and {} is ignored",
                    first.key(),
                    t.key()
                ),
            );
        }
    }
}

/// Which side of a link a port is on.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Device {
    Switch,
    Server,
    Gateway,
}

/// The ports of the type that counts, as `Endpoints()` collects them.
struct Ends<'a> {
    kind: ConnType,
    at: F<'a>,
    links: usize,
    ports: Vec<(Device, F<'a>)>,
}

fn ends<'a>(spec: &F<'a>, kind: ConnType) -> Ends<'a> {
    let at = spec.get(kind.key());
    let port = |f: &F<'a>, side: &str| f.at(&[side, "port"]);
    let sides: &[(&str, Device)] = match kind {
        ConnType::Unbundled | ConnType::Bundled | ConnType::Eslag => {
            &[("switch", Device::Switch), ("server", Device::Server)]
        }
        ConnType::Fabric => &[("spine", Device::Switch), ("leaf", Device::Switch)],
        ConnType::Mesh => &[("leaf1", Device::Switch), ("leaf2", Device::Switch)],
        ConnType::Gateway => &[("switch", Device::Switch), ("gateway", Device::Gateway)],
        ConnType::VpcLoopback => &[("switch1", Device::Switch), ("switch2", Device::Switch)],
        _ => &[("switch", Device::Switch)],
    };
    let links: Vec<F<'a>> = match kind {
        ConnType::Unbundled | ConnType::External | ConnType::StaticExternal => vec![at.get("link")],
        _ => at.get("links").items().collect(),
    };
    let ports = links
        .iter()
        .flat_map(|l| sides.iter().map(move |(side, d)| (*d, port(l, side))))
        .collect();
    Ends {
        kind,
        links: links.len(),
        at,
        ports,
    }
}

/// The device part of `<device>/<port>` (Go's `DeviceName`).
fn device(port: &str) -> &str {
    port.split('/').next().unwrap_or("")
}

/// `Endpoints()`: the devices and ports, or its error (rule, fgd's text, Go's text, where).
fn endpoints<'a>(e: &Ends<'a>) -> Result<Endpoints, (&'static str, String, String, F<'a>)> {
    let mut out = Endpoints::default();
    let mut seen: [HashSet<&str>; 3] = Default::default();
    let mut port_fields: Vec<&F<'a>> = Vec::new();
    for (d, f) in &e.ports {
        let p = f.str();
        let (set, list) = match d {
            Device::Switch => (&mut seen[0], Some(&mut out.switches)),
            Device::Server => (&mut seen[1], Some(&mut out.servers)),
            Device::Gateway => (&mut seen[2], None),
        };
        if set.insert(device(p)) {
            if let Some(list) = list {
                list.push(Spot::new(device(p).to_string(), f));
            }
        }
        if !out.ports.iter().any(|q| q.value == p) {
            out.ports.push(Spot::new(p.to_string(), f));
            port_fields.push(f);
        }
    }
    let (sw, srv, ports) = (out.switches.len(), out.servers.len(), out.ports.len());
    let t = e.kind.label();
    let fail = |rule, msg: String, inner: String| Err((rule, msg, inner, e.at.clone()));
    let unique = ports == 2 * e.links;
    match e.kind {
        ConnType::Unbundled | ConnType::Bundled => {
            let rule = if e.kind == ConnType::Unbundled {
                "CONN-10"
            } else {
                "CONN-11"
            };
            if sw != 1 {
                return fail(
                    rule,
                    format!("a {t} connection goes to one switch, this one names {sw}"),
                    format!("one switch must be used for {t} connection"),
                );
            }
            if srv != 1 {
                return fail(
                    rule,
                    format!("a {t} connection comes from one server, this one names {srv}"),
                    format!("one server must be used for {t} connection"),
                );
            }
            if !unique {
                let inner = if e.kind == ConnType::Unbundled {
                    "two unique ports must be used for unbundled connection".to_string()
                } else {
                    "unique ports must be used for bundled connection".to_string()
                };
                return fail(
                    rule,
                    format!("a port is used twice in this {t} connection"),
                    inner,
                );
            }
        }
        ConnType::Eslag => {
            if sw < 1 {
                return fail(
                    "CONN-12",
                    "an eslag connection needs at least one switch".into(),
                    "at least one switch must be used for eslag connection".into(),
                );
            }
            if sw > 4 {
                return fail(
                    "CONN-12",
                    format!("an eslag connection goes to at most 4 switches, this one names {sw}"),
                    "at most four switches must be used for eslag connection".into(),
                );
            }
            if srv != 1 {
                return fail(
                    "CONN-12",
                    format!("an eslag connection comes from one server, this one names {srv}"),
                    "one server must be used for eslag connection".into(),
                );
            }
            if !unique {
                return fail(
                    "CONN-12",
                    "a port is used twice in this eslag connection".into(),
                    "unique ports must be used for eslag connection".into(),
                );
            }
        }
        ConnType::Fabric | ConnType::Mesh => {
            let rule = if e.kind == ConnType::Fabric {
                "CONN-14"
            } else {
                "CONN-16"
            };
            if sw != 2 {
                return fail(
                    rule,
                    format!("a {t} connection joins two switches, this one names {sw}"),
                    format!("two switches must be used for {t} connection"),
                );
            }
            if !unique {
                return fail(
                    rule,
                    format!("a port is used twice in this {t} connection"),
                    format!("unique ports must be used for {t} connection"),
                );
            }
        }
        ConnType::Gateway | ConnType::VpcLoopback => {
            let rule = if e.kind == ConnType::Gateway {
                "CONN-17"
            } else {
                "CONN-18"
            };
            if sw != 1 {
                return fail(
                    rule,
                    format!("a {t} connection has one switch, this one names {sw}"),
                    format!("one switches must be used for {t} connection"),
                );
            }
            if !unique {
                return fail(
                    rule,
                    format!("a port is used twice in this {t} connection"),
                    format!("unique ports must be used for {t} connection"),
                );
            }
        }
        _ => {}
    }
    for (p, f) in out.ports.iter().zip(port_fields) {
        let p = &p.value;
        match p.split_once('/') {
            None => {
                return Err((
                    "CONN-02",
                    format!("port {p:?} is not <device>/<port>, like leaf-01/E1/1"),
                    format!("invalid port name {p}"),
                    f.clone(),
                ))
            }
            Some((d, rest)) if d.is_empty() || rest.is_empty() => {
                return Err((
                    "CONN-02",
                    format!("port {p:?} is not <device>/<port>, like leaf-01/E1/1"),
                    format!("invalid port name {p}, should be \"<device>/<port>\" format"),
                    f.clone(),
                ))
            }
            Some(_) => {}
        }
    }
    Ok(out)
}

fn check(root: &Node, ctx: &mut Ctx) {
    let spec = F::root(root).get("spec");
    let written = types(&spec);
    if written
        .iter()
        .any(|t| matches!(t, ConnType::Mclag | ConnType::MclagDomain))
    {
        return;
    }
    let env = ctx.env;
    let cfg = &env.config;
    let limit = cfg.fabric_mtu.wrapping_sub(cfg.server_facing_mtu_offset);
    for t in [ConnType::Unbundled, ConnType::Bundled]
        .into_iter()
        .filter(|t| written.contains(t))
    {
        let mtu = spec.at(&[t.key(), "mtu"]);
        if mtu.int() > limit as i128 {
            ctx.config_error(
                "CONN-04",
                &mtu,
                format!("mtu {} is above the fabric's server-facing MTU {limit} (fabricMTU {} - serverFacingMTUOffset {})", mtu.int(), cfg.fabric_mtu, cfg.server_facing_mtu_offset),
                &format!("{} connection mtu {} is greater than fabric mtu {} - server facing mtu offset {}", t.key(), mtu.int(), cfg.fabric_mtu, cfg.server_facing_mtu_offset),
            );
        }
    }
    let Some(kind) = written.first().copied() else {
        ctx.error(
            "CONN-01",
            &spec,
            "a connection needs a type: one of unbundled, bundled, eslag, fabric, mesh, gateway, vpcLoopback, external, staticExternal",
            "",
        );
        // Default() labels it with the type "<invalid>", which the API server refuses first.
        let why = bad_label_value("<invalid>").unwrap_or_default();
        if let Some(p) = ctx.out.last_mut() {
            p.upstream =
                Some(format!("metadata.labels: Invalid value: \"<invalid>\": {why}").into());
        }
        return;
    };
    match endpoints(&ends(&spec, kind)) {
        Err((rule, msg, inner, at)) => ctx.error(rule, &at, msg, &inner),
        Ok(e) => {
            for (list, what) in [(&e.switches, "switch"), (&e.servers, "server")] {
                for d in list {
                    let at = F {
                        node: None,
                        path: d.at.path.clone(),
                        pos: d.at.pos,
                    };
                    derived_label(
                        ctx,
                        &at,
                        &format!("{what} name {:?}", d.value),
                        &format!("{what}.fabric.githedgehog.com/{}", d.value),
                        "true",
                    );
                }
            }
        }
    }
    let within = spec.at(&["staticExternal", "withinVPC"]);
    if !within.str().is_empty() {
        derived_label(
            ctx,
            &within,
            &format!("VPC name {:?}", within.str()),
            "fabric.githedgehog.com/vpc",
            within.str(),
        );
    }
    if written.contains(&ConnType::StaticExternal) {
        check_static_external(ctx, &spec.get("staticExternal"));
    }
    if cfg.fabric_mode != "spine-leaf" {
        for (t, rule) in [(ConnType::Eslag, "CONN-12"), (ConnType::Gateway, "CONN-17")] {
            if written.contains(&t) {
                ctx.config_error(
                    rule,
                    &spec.get(t.key()),
                    format!(
                        "{} connections need a spine-leaf fabric; this one's mode is {}",
                        t.label(),
                        cfg.fabric_mode
                    ),
                    &format!(
                        "{} connection is not allowed in current fabric configuration",
                        t.label()
                    ),
                );
            }
        }
    }
    check_link_ips(ctx, &spec, &cfg.fabric_subnet);
}

/// CONN-20/21. An IP or next hop that does not match the CRD's pattern is the schema's
/// (CONN-20): the webhook never sees it.
fn check_static_external(ctx: &mut Ctx, se: &F) {
    let sw = se.at(&["link", "switch"]);
    let (ip, hop) = (sw.get("ip"), sw.get("nextHop"));
    let net = match net::parse_v4_prefix(ip.str()) {
        Ok(p) => Some(p),
        Err(_) if ip.str().is_empty() => {
            ctx.error(
                "CONN-20",
                &ip,
                "a static external link needs the switch's ip (a prefix like 10.99.0.1/24)",
                &format!(
                    "failed to parse cidr {}: invalid CIDR address: {}",
                    ip.str(),
                    ip.str()
                ),
            );
            None
        }
        Err(_) => None,
    };
    let next = net::parse_ip(hop.str()).ok();
    if hop.str().is_empty() {
        ctx.error(
            "CONN-20",
            &hop,
            "a static external link needs a nextHop",
            "failed to parse next hop ",
        );
    }
    if let (Some(p), Some(h)) = (net, next) {
        if !p.contains(h) {
            ctx.error(
                "CONN-20",
                &hop,
                format!(
                    "next hop {h} is outside the switch's network {}",
                    p.masked()
                ),
                &format!("next hop {h} is not in cidr {}", p.masked()),
            );
        }
    }
    let subnets = sw.get("subnets");
    let count = subnets.len();
    let mut parsed: Vec<(Prefix, F)> = Vec::new();
    for item in subnets.items() {
        let text = item.str();
        let p = match net::parse_prefix(text) {
            Ok(p) => p,
            Err(e) => {
                ctx.error(
                    "CONN-21",
                    &item,
                    format!("subnet {text:?} is not a CIDR prefix"),
                    &format!("failed to parse cidr {text}: {e}"),
                );
                continue;
            }
        };
        if text == "0.0.0.0/0" {
            if count > 1 {
                ctx.error(
                    "CONN-21",
                    &item,
                    "the default route 0.0.0.0/0 must be the only subnet",
                    "default route should be the only subnet",
                );
            }
            continue;
        }
        if p.has_host_bits() {
            ctx.error(
                "CONN-21",
                &item,
                format!("subnet {text} has host bits set; write {}", p.masked()),
                &format!("invalid subnet {text}: inconsistent IP address and mask"),
            );
            continue;
        }
        parsed.push((p, item));
    }
    for (i, (a, _)) in parsed.iter().enumerate() {
        for (b, fb) in &parsed[i + 1..] {
            if a.overlaps(b) {
                ctx.error(
                    "CONN-21",
                    fb,
                    format!("subnets {a} and {b} overlap"),
                    &format!("subnets overlap: subnets {a} and {b} overlap"),
                );
            }
        }
    }
    let env = ctx.env;
    let reserved = &env.config.reserved_subnets;
    for (p, f) in &parsed {
        if let Some(r) = reserved.iter().find(|r| r.overlaps(p)) {
            ctx.config_error(
                "CONN-21",
                f,
                format!("subnet {p} overlaps the fabric's reserved subnet {r}"),
                &format!("subnets overlap with reserved subnets: subnets {p} and {r} overlap"),
            );
        }
    }
}

/// A link side's name (serde would borrow a `&'static str` field from its input).
pub type Side = &'static str;

/// A `LinkIp::side` read back (facts kept by `git::verdicts`): one of `ip_sides`' names.
fn side_of<'de, D: serde::Deserializer<'de>>(d: D) -> Result<&'static str, D::Error> {
    let s = <std::borrow::Cow<str> as serde::Deserialize>::deserialize(d)?;
    ["spine", "leaf", "leaf1", "leaf2", "switch", "gateway"]
        .into_iter()
        .find(|k| *k == s)
        .ok_or_else(|| serde::de::Error::custom(format!("{s:?} is not a link side")))
}

/// The link sides that carry IPs, for the first of fabric, mesh and gateway.
fn ip_sides(spec: &F) -> Option<(ConnType, [&'static str; 2])> {
    [
        (ConnType::Fabric, ["spine", "leaf"]),
        (ConnType::Mesh, ["leaf1", "leaf2"]),
        (ConnType::Gateway, ["switch", "gateway"]),
    ]
    .into_iter()
    .find(|(t, _)| spec.get(t.key()).present())
}

/// CONN-15, per link with both IPs set: each a /31 in the fabric subnet, both in one /31
/// (uniqueness across links is `cross`'s). An IP the CRD pattern refuses is the schema's.
fn check_link_ips(ctx: &mut Ctx, spec: &F, fabric_subnet: &Prefix) {
    let Some((t, sides)) = ip_sides(spec) else {
        return;
    };
    let name = ctx.name.clone();
    let ty = t.label();
    for (i, link) in spec.at(&[t.key(), "links"]).items().enumerate() {
        let fs = sides.map(|s| link.at(&[s, "ip"]));
        if fs.iter().any(|f| f.str().is_empty()) {
            continue;
        }
        let mut ok = Vec::new();
        for (side, f) in sides.iter().zip(&fs) {
            let Ok(p) = net::parse_prefix(f.str()) else {
                continue;
            };
            if p.bits != 31 {
                ctx.error(
                    "CONN-15",
                    f,
                    format!("link {i}: {side} IP {p} must be a /31"),
                    &format!("{ty} connection {name} link {i} {side} IP {p} is not a /31"),
                );
            } else if !fabric_subnet.contains(p.addr) {
                ctx.config_error("CONN-15", f, format!("link {i}: {side} IP {} is outside the fabric subnet {fabric_subnet}", p.addr), &format!("{ty} connection {name} link {i} {side} IP {} is not in the fabric subnet {fabric_subnet}", p.addr));
            } else {
                ok.push(p);
            }
        }
        if let [a, b] = ok[..] {
            if a.masked() != b.masked() {
                ctx.error("CONN-15", &fs[1], format!("link {i}: {} IP {} and {} IP {} are not in one /31", sides[0], a.addr, sides[1], b.addr), &format!("{ty} connection {name} link {i} {} IP {} and {} IP {} are not in the same subnet", sides[0], a.addr, sides[1], b.addr));
            }
        }
    }
}

fn facts(root: &Node) -> Option<super::Facts> {
    let spec = F::root(root).get("spec");
    let types = types(&spec);
    let mclag = types
        .iter()
        .any(|t| matches!(t, ConnType::Mclag | ConnType::MclagDomain));
    let endpoints = if mclag {
        Some(Endpoints::default())
    } else {
        types.first().and_then(|k| endpoints(&ends(&spec, *k)).ok())
    };
    let mut link_ips = Vec::new();
    let link_type = ip_sides(&spec).map(|(t, _)| t).filter(|_| !mclag);
    if let (false, Some((t, sides))) = (mclag, ip_sides(&spec)) {
        for (i, link) in spec.at(&[t.key(), "links"]).items().enumerate() {
            let fs = sides.map(|s| link.at(&[s, "ip"]));
            let checked = fs.iter().all(|f| !f.str().is_empty());
            for (side, f) in sides.into_iter().zip(fs) {
                if let Ok(p) = net::parse_prefix(f.str()) {
                    link_ips.push(LinkIp {
                        link: i,
                        side,
                        ip: Spot::new(f.str().to_string(), &f),
                        addr: p.addr,
                        checked,
                    });
                }
            }
        }
    }
    let within = spec.at(&["staticExternal", "withinVPC"]);
    let type_at = types
        .first()
        .map_or_else(|| (&spec).into(), |t| (&spec.get(t.key())).into());
    let static_external = spec.get("staticExternal");
    Some(super::Facts::Connection(Box::new(Facts {
        type_at,
        static_external: static_external.present().then(|| (&static_external).into()),
        attach: super::vpcattachment::wiring::ConnView::of_tree(root),
        types,
        endpoints,
        link_ips,
        link_type,
        within_vpc: (!within.str().is_empty())
            .then(|| Spot::new(within.str().to_string(), &within)),
    })))
}

mod cross;
#[cfg(test)]
mod tests;

pub use cross::{cross, port_key};
