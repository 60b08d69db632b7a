//! VPC (`api/vpc/v1beta1/vpc_types.go`: `Default` :260, `Validate` :363).

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;

use super::util::{default_str, ensure_path};
use super::{Ctx, KindRules, Spot, F};
use crate::validate::net::{self, Prefix};
use crate::validate::tree::{Node, Value};

pub static RULES: KindRules = KindRules {
    before_default,
    default,
    check,
    facts,
};

/// One subnet, as the cross-object rules see it.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Subnet {
    pub name: Spot<String>,
    /// None when the CIDR does not parse (a per-object error already).
    pub prefix: Option<Prefix>,
    pub cidr: Spot<String>,
    pub vlan: Spot<u16>,
    pub host_bgp: bool,
    pub relay_vpc: Option<Spot<String>>,
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Facts {
    pub ipv4_namespace: Spot<String>,
    pub vlan_namespace: Spot<String>,
    pub mode: String,
    pub subnets: Vec<Subnet>,
}

pub const MODE_L3VNI: &str = "l3vni";
const MODE_L3FLAT: &str = "l3flat";

fn default(root: &mut Node) {
    let Some(spec) = ensure_path(root, &["spec"]) else {
        return;
    };
    default_str(spec, "ipv4Namespace", "default");
    default_str(spec, "vlanNamespace", "default");
    let Some(Node {
        value: Value::Map(subnets),
        ..
    }) = spec.get_mut("subnets")
    else {
        return;
    };
    for e in subnets.iter_mut() {
        default_subnet(&mut e.value);
    }
}

fn default_subnet(sn: &mut Node) {
    if !sn.is_map() {
        return;
    }
    let Some(Ok(cidr)) = sn
        .get("subnet")
        .and_then(Node::as_str)
        .map(net::parse_prefix)
    else {
        return;
    };
    let host_bgp = sn.get("hostBGP").and_then(Node::as_bool) == Some(true);
    if !host_bgp {
        default_str(sn, "gateway", &cidr.nth(1).to_string());
    }
    if cidr.bits > 30 {
        return;
    }
    let Some(dhcp) = sn.ensure_map("dhcp") else {
        return;
    };
    let enabled = dhcp.get("enable").and_then(Node::as_bool) == Some(true);
    if !enabled {
        // Dropped silently by the webhook: `check` warns about what was written (VPC-16).
        dhcp.remove("range");
        dhcp.remove("options");
        return;
    }
    if let Some(range) = dhcp.ensure_map("range") {
        default_str(range, "start", &cidr.nth(2).to_string());
        default_str(range, "end", &cidr.broadcast().to_string());
    }
    let options_empty = match dhcp.get("options") {
        None => false,
        Some(o) if o.is_null() => false,
        Some(o) => o.entries().iter().all(|e| is_zero(&e.value)),
    };
    if options_empty {
        dhcp.remove("options");
    } else if let Some(options) = dhcp.get_mut("options").filter(|o| o.is_map()) {
        super::util::default_int(options, "interfaceMTU", 9036);
        super::util::default_int(options, "leaseTimeSeconds", 3600);
    }
    if let Some(Node {
        value: Value::Map(statics),
        ..
    }) = dhcp.get_mut("static")
    {
        for e in statics.iter_mut() {
            // `VPCDHCPStatic.IP` has no omitempty: the webhook's patch writes `ip: ""`.
            if e.value.is_null() {
                e.value = Node::synthetic(e.value.pos, Value::Map(Vec::new()));
            }
            default_str(&mut e.value, "ip", "");
        }
        leases::normalise_macs(statics);
    }
}

/// Go's zero value for a field of the options struct.
fn is_zero(n: &Node) -> bool {
    match &n.value {
        Value::Null => true,
        Value::Bool(b) => !b,
        Value::Int(i) => *i == 0,
        Value::Str(s) => s.is_empty(),
        Value::Seq(_) | Value::Map(_) | Value::Float(_) => false,
    }
}

fn check(root: &Node, ctx: &mut Ctx) {
    let obj = F::root(root);
    let name = ctx.name.clone();
    let name_at = obj.at(&["metadata", "name"]);
    if name.len() > 11 {
        ctx.error(
            "VPC-01",
            &name_at,
            format!(
                "the VPC name {name:?} is {} characters long; VPC names are at most 11",
                name.len()
            ),
            &format!("name {name} is too long, must be <= 11 characters"),
        );
    }
    if name.starts_with("ext.") {
        ctx.error(
            "VPC-02",
            &name_at,
            "VPC names may not start with \"ext.\" (reserved for externals in gateway peerings)",
            &format!("vpc name cannot start with 'ext.': {name}"),
        );
    }
    let spec = obj.get("spec");
    let subnets = spec.get("subnets");
    if subnets.is_empty() {
        ctx.error(
            "VPC-04",
            &subnets,
            "a VPC needs at least one subnet",
            "at least one subnet is required",
        );
    } else if subnets.len() > 20 {
        ctx.error(
            "VPC-04",
            &subnets,
            format!("a VPC has at most 20 subnets, this one {}", subnets.len()),
            "too many subnets, max is 20",
        );
    }
    let mode = spec.get("mode");
    match mode.str() {
        "" | MODE_L3VNI => {}
        MODE_L3FLAT => ctx.error(
            "VPC-05",
            &mode,
            "mode l3flat is not supported yet",
            "L3Flat mode is not supported yet",
        ),
        other => ctx.error(
            "VPC-05",
            &mode,
            format!("mode {other:?} is not a VPC mode: leave it out (l2vni) or write l3vni"),
            &format!("invalid mode {other}, must be one of [ l3vni l3flat]"),
        ),
    }
    let mut vlans: HashMap<i128, String> = HashMap::new();
    let mut parsed: Vec<(String, Prefix, F)> = Vec::new();
    for (sn_name, sn) in subnets.entries() {
        check_subnet(ctx, sn_name, &sn, &mut vlans, &mut parsed);
    }
    for (i, (a, pa, _)) in parsed.iter().enumerate() {
        for (b, pb, fb) in &parsed[i + 1..] {
            if pa.overlaps(pb) {
                ctx.error(
                    "VPC-18",
                    fb,
                    format!("subnets {a} ({pa}) and {b} ({pb}) of this VPC overlap"),
                    &format!("failed to verify no overlap subnets: subnets {pa} and {pb} overlap"),
                );
            }
        }
    }
    check_permit(ctx, &spec, &subnets);
    check_static_routes(ctx, &spec);
}

fn check_subnet<'a>(
    ctx: &mut Ctx,
    name: &str,
    sn: &F<'a>,
    vlans: &mut HashMap<i128, String>,
    parsed: &mut Vec<(String, Prefix, F<'a>)>,
) {
    let cidr_f = sn.get("subnet");
    let cidr_text = cidr_f.str();
    if cidr_text.is_empty() {
        ctx.error(
            "VPC-06",
            &cidr_f,
            format!("subnet {name} has no subnet CIDR"),
            &format!("subnet {name}: missing subnet"),
        );
        return;
    }
    let prefix = match net::parse_prefix(cidr_text) {
        Ok(p) => p,
        Err(e) => {
            ctx.error(
                "VPC-06",
                &cidr_f,
                format!("subnet {name}: {cidr_text:?} is not a CIDR prefix like 10.0.1.0/24"),
                &format!("subnet {name}: failed to parse subnet {cidr_text}: {e}"),
            );
            return;
        }
    };
    if prefix.bits > 30 {
        ctx.error(
            "VPC-07",
            &cidr_f,
            format!(
                "subnet {name}: a /{} leaves no room for hosts; VPC subnets are /30 or larger",
                prefix.bits
            ),
            &format!(
                "subnet {name}: prefix length {} is too large, must be <= 30",
                prefix.bits
            ),
        );
        return;
    }
    for reserved in &ctx.env.reserved {
        if reserved.overlaps(&prefix) {
            ctx.config_error(
                "VPC-08",
                &cidr_f,
                format!("subnet {name}: {prefix} overlaps the fabric's reserved subnet {reserved}"),
                &format!("subnet {name}: subnet {cidr_text} is reserved"),
            );
            break;
        }
    }
    let host_bgp = sn.get("hostBGP").bool();
    let dhcp = sn.get("dhcp");
    let enabled = dhcp.get("enable").bool();
    let mut gateway: Option<IpAddr> = None;
    if host_bgp {
        if enabled {
            ctx.error(
                "VPC-11",
                &dhcp.get("enable"),
                format!("subnet {name}: hostBGP subnets cannot have the DHCP server enabled"),
                &format!("subnet {name}: dhcp should not be enabled for hostBGP subnets"),
            );
        }
    } else {
        let gw = sn.get("gateway");
        match gw.ip() {
            None => ctx.error(
                "VPC-09",
                &gw,
                format!("subnet {name}: gateway is required"),
                &format!("subnet {name}: gateway is required"),
            ),
            Some(Err(_)) => ctx.error(
                "VPC-09",
                &gw,
                format!("subnet {name}: gateway {:?} is not an IP address", gw.str()),
                &format!(
                    "subnet {name}: gateway {} is not a valid IP address",
                    gw.str()
                ),
            ),
            Some(Ok(ip)) if !prefix.contains(ip) => ctx.error(
                "VPC-09",
                &gw,
                format!("subnet {name}: gateway {ip} is outside the subnet {prefix}"),
                &format!("subnet {name}: gateway {} is not in the subnet", gw.str()),
            ),
            Some(Ok(ip)) => gateway = Some(ip),
        }
        let vlan = sn.get("vlan");
        if vlan.int() == 0 {
            ctx.error(
                "VPC-10",
                &vlan,
                format!("subnet {name}: vlan is required (subnets that are not hostBGP need one)"),
                &format!("subnet {name}: vlan is required"),
            );
        } else if let Some(first) = vlans.insert(vlan.int(), name.to_string()) {
            ctx.error(
                "VPC-17",
                &vlan,
                format!(
                    "subnet {name} uses VLAN {}, as subnet {first} of this VPC does",
                    vlan.int()
                ),
                "duplicate subnet VLANs",
            );
        }
    }
    parsed.push((name.to_string(), prefix, cidr_f.clone()));
    let relay = dhcp.get("relay");
    if !relay.str().is_empty() {
        if enabled {
            ctx.error(
                "VPC-12",
                &relay,
                format!("subnet {name}: DHCP relay and the DHCP server cannot both be enabled"),
                &format!(
                    "subnet {name}: dhcp relay and dhcp server cannot be enabled at the same time"
                ),
            );
        } else if let Err(e) = net::parse_prefix(relay.str()) {
            ctx.error(
                "VPC-12",
                &relay,
                format!(
                    "subnet {name}: DHCP relay {:?} is not a prefix",
                    relay.str()
                ),
                &format!(
                    "subnet {name}: failed to parse dhcp relay {}: {e}",
                    relay.str()
                ),
            );
        }
    } else if !dhcp.get("relayVPC").str().is_empty() {
        ctx.error(
            "VPC-12",
            &dhcp.get("relayVPC"),
            format!("subnet {name}: relayVPC needs dhcp.relay"),
            &format!("subnet {name}: dhcp relay VPC specified but dhcp relay is not enabled"),
        );
    }
    if enabled {
        check_dhcp(ctx, name, &dhcp, &prefix, gateway, sn.get("gateway").str());
        if !host_bgp && sn.get("vlan").int() != 0 {
            dhcp_subnet_name(ctx, name, sn);
        }
    } else {
        let statics = dhcp.get("static");
        if !statics.is_empty() {
            ctx.error(
                "VPC-16",
                &statics,
                format!("subnet {name}: static leases need the DHCP server enabled"),
                &format!("subnet {name}: static IPs are not supported when DHCP is disabled"),
            );
        }
    }
}

/// VPC-28 (DHCP part): for a subnet with the DHCP server on (and a VLAN), the VPC controller
/// creates a DHCPSubnet named `<vpc>--<subnet>` and labels it with the subnet's name
/// (`pkg/ctrl/vpc_ctrl.go` `updateDHCPSubnets`). Admission never reads subnet names, so the
/// VPC is accepted; the controller then fails to create the DHCPSubnet on every reconcile, and
/// the subnet gets no DHCP server. A warning at the subnet's name, which is what to change.
fn dhcp_subnet_name(ctx: &mut Ctx, name: &str, sn: &F) {
    let object = format!("{}--{name}", ctx.name);
    let why = if object.len() > 253 {
        Some(format!(
            "is {} characters long, and object names are at most 253",
            object.len()
        ))
    } else if !super::common::is_dns_subdomain(&object) {
        Some("is not a lowercase DNS-1123 subdomain (lowercase letters, digits, '-' and '.', each dot-separated part starting and ending with a letter or digit)".to_string())
    } else {
        super::common::bad_label_value(name).map(|e| {
            format!("is fine, but the subnet name, its label fabric.githedgehog.com/subnet, {e}")
        })
    };
    if let Some(why) = why {
        ctx.warn(
            "VPC-28",
            sn,
            format!("subnet {name:?} has the DHCP server on, and the controller names its DHCPSubnet {object:?}, which {why}: the cluster accepts the VPC, but the controller fails to create the DHCPSubnet, so the subnet gets no DHCP server; rename the subnet"),
        );
    }
}

fn check_dhcp(
    ctx: &mut Ctx,
    name: &str,
    dhcp: &F,
    prefix: &Prefix,
    gateway: Option<IpAddr>,
    gateway_text: &str,
) {
    let network = prefix.nth(0);
    let range = dhcp.get("range");
    let mut bounds = Vec::new();
    for which in ["start", "end"] {
        let f = range.get(which);
        let text = f.str();
        let fail = |why: String, inner: String, ctx: &mut Ctx| {
            ctx.error(
                "VPC-13",
                &f,
                format!("subnet {name}: DHCP range {which} {why}"),
                &inner,
            )
        };
        if text.is_empty() {
            fail(
                "is required".into(),
                format!("subnet {name}: dhcp range {which} is required"),
                ctx,
            );
            continue;
        }
        match net::parse_ip(text) {
            Err(_) => fail(
                format!("{text:?} is not an IP address"),
                format!("subnet {name}: invalid dhcp range {which} {text}"),
                ctx,
            ),
            Ok(ip) if ip == network => fail(
                format!("{text} is the subnet's network address"),
                format!("subnet {name}: dhcp range {which} {text} is equal to subnet"),
                ctx,
            ),
            Ok(ip) if Some(ip) == gateway => fail(
                format!("{text} is the gateway"),
                format!("subnet {name}: dhcp range {which} {text} is equal to gateway"),
                ctx,
            ),
            Ok(ip) if !prefix.contains(ip) => fail(
                format!("{text} is outside the subnet {prefix}"),
                format!("subnet {name}: dhcp range {which} {text} is not in the subnet"),
                ctx,
            ),
            Ok(ip) => bounds.push(ip),
        }
    }
    if let [start, end] = bounds[..] {
        if net::ip_u128(start) >= net::ip_u128(end) {
            ctx.error(
                "VPC-13",
                &range.get("start"),
                format!("subnet {name}: DHCP range start {start} is not before its end {end}"),
                &format!("subnet {name}: dhcp range start {start} does not come before dhcp range end {end}"),
            );
        }
    }
    let options = dhcp.get("options");
    if options.present() {
        check_options(ctx, name, &options, prefix);
    }
    leases::check(ctx, name, &dhcp.get("static"), prefix, gateway_text);
}

fn check_options(ctx: &mut Ctx, name: &str, options: &F, prefix: &Prefix) {
    for (field, what) in [
        ("dnsServers", "dns address"),
        ("timeServers", "time server"),
    ] {
        for item in options.get(field).items() {
            if net::parse_addr(item.str()).is_err() {
                let inner = if field == "dnsServers" {
                    format!(
                        "subnet {name}: dns address {} is not a valid IP",
                        item.str()
                    )
                } else {
                    format!(
                        "subnet {name}: time server {} address is not a valid IP",
                        item.str()
                    )
                };
                ctx.error(
                    "VPC-14",
                    &item,
                    format!(
                        "subnet {name}: {what} {:?} is not an IP address",
                        item.str()
                    ),
                    &inner,
                );
            }
        }
    }
    let mtu = options.get("interfaceMTU");
    if mtu.int() < 96 {
        ctx.error(
            "VPC-14",
            &mtu,
            format!("subnet {name}: interfaceMTU {} is below 96", mtu.int()),
            &format!("subnet {name}: MTU cannot be set smaller than 96"),
        );
    } else if mtu.int() > 9036 {
        ctx.error(
            "VPC-14",
            &mtu,
            format!("subnet {name}: interfaceMTU {} is above 9036", mtu.int()),
            &format!("subnet {name}: MTU cannot be set greater than 9036"),
        );
    }
    let lease = options.get("leaseTimeSeconds");
    if lease.int() < 1 {
        ctx.error(
            "VPC-14",
            &lease,
            format!("subnet {name}: leaseTimeSeconds must be at least 1"),
            &format!("subnet {name}: LeaseTimeSeconds cannot be set smaller than 1"),
        );
    }
    for route in options.get("advertisedRoutes").items() {
        let dest = route.get("destination");
        let gw = route.get("gateway");
        if dest.str().is_empty() {
            ctx.error(
                "VPC-14",
                &dest,
                format!("subnet {name}: an advertised route needs a destination"),
                &format!("subnet {name}: advertised route destination is required"),
            );
            continue;
        }
        if gw.str().is_empty() {
            ctx.error(
                "VPC-14",
                &gw,
                format!("subnet {name}: an advertised route needs a gateway"),
                &format!("subnet {name}: advertised route gateway is required"),
            );
            continue;
        }
        if let Err(e) = net::parse_prefix(dest.str()) {
            ctx.error(
                "VPC-14",
                &dest,
                format!(
                    "subnet {name}: advertised route destination {:?} is not a prefix",
                    dest.str()
                ),
                &format!(
                    "subnet {name}: failed to parse advertised route destination {}: {e}",
                    dest.str()
                ),
            );
            continue;
        }
        match net::parse_ip(gw.str()) {
            Err(_) => ctx.error(
                "VPC-14",
                &gw,
                format!(
                    "subnet {name}: advertised route gateway {:?} is not an IP address",
                    gw.str()
                ),
                &format!(
                    "subnet {name}: invalid advertised route gateway {}",
                    gw.str()
                ),
            ),
            Ok(ip) if !prefix.contains(ip) => ctx.error(
                "VPC-14",
                &gw,
                format!(
                    "subnet {name}: advertised route gateway {ip} is outside the subnet {prefix}"
                ),
                &format!(
                    "subnet {name}: advertised route gateway {} is not in the subnet",
                    gw.str()
                ),
            ),
            Ok(_) => {}
        }
    }
}

fn check_permit(ctx: &mut Ctx, spec: &F, subnets: &F) {
    for (i, permit) in spec.get("permit").items().enumerate() {
        let names = permit.strs();
        if names.len() < 2 {
            ctx.error(
                "VPC-19",
                &permit,
                "a permit list names at least 2 subnets",
                "each permit policy must have at least 2 subnets in it",
            );
            continue;
        }
        let mut seen = HashSet::new();
        for item in permit.items() {
            let sn = item.str();
            if !subnets.get(sn).present() {
                ctx.error(
                    "VPC-19",
                    &item,
                    format!("permit list #{i}: this VPC has no subnet {sn:?}"),
                    &format!("permit policy #{i}: subnet {sn} not found"),
                );
            } else if !seen.insert(sn) {
                ctx.error(
                    "VPC-19",
                    &item,
                    format!("permit list #{i} names subnet {sn} twice"),
                    &format!("permit policy #{i}: duplicate subnets"),
                );
            }
        }
    }
}

fn check_static_routes(ctx: &mut Ctx, spec: &F) {
    for (i, route) in spec.get("staticRoutes").items().enumerate() {
        let p = route.get("prefix");
        if p.str().is_empty() {
            ctx.error(
                "VPC-20",
                &p,
                format!("static route #{i} needs a prefix"),
                &format!("static route #{i}: prefix is required"),
            );
            continue;
        }
        match net::parse_prefix(p.str()) {
            Err(e) => ctx.error(
                "VPC-20",
                &p,
                format!("static route #{i}: {:?} is not a prefix", p.str()),
                &format!("static route #{i}: failed to parse prefix {}: {e}", p.str()),
            ),
            Ok(px) if px.has_host_bits() => ctx.error(
                "VPC-20",
                &p,
                format!(
                    "static route #{i}: {px} has host bits set; write {}",
                    px.masked()
                ),
                &format!(
                    "static route #{i}: prefix {} is invalid: inconsistent IP address and mask",
                    p.str()
                ),
            ),
            Ok(_) => {}
        }
        if route.get("nextHops").is_empty() {
            ctx.error(
                "VPC-20",
                &route,
                format!("static route #{i} needs at least one next hop"),
                &format!("static route #{i}: at least one next hop is required"),
            );
        }
    }
}

/// What the webhook's Default() drops silently, said as warnings (VPC-16): leftovers of a
/// disabled DHCP server, read before defaulting removes them.
fn before_default(original: &Node, ctx: &mut Ctx) {
    let subnets = F::root(original).at(&["spec", "subnets"]);
    for (key, sn) in subnets.entries() {
        leases::warn_replaced(ctx, key, &sn.at(&["dhcp", "static"]));
        let Some(value) = sn.node else {
            continue;
        };
        let Some(dhcp) = value.get("dhcp") else {
            continue;
        };
        let prefix_ok = value
            .get("subnet")
            .and_then(Node::as_str)
            .and_then(|s| net::parse_prefix(s).ok())
            .is_some_and(|p| p.bits <= 30);
        if !prefix_ok || dhcp.get("enable").and_then(Node::as_bool) == Some(true) {
            continue;
        }
        for k in ["range", "options"] {
            let f = sn.at(&["dhcp", k]);
            if f.present() {
                ctx.warn(
                    "VPC-16",
                    &f,
                    format!("subnet {key}: dhcp.{k} is set but DHCP is disabled: the cluster drops it silently"),
                );
            }
        }
    }
}

fn facts(root: &Node) -> Option<super::Facts> {
    let spec = F::root(root).get("spec");
    let subnets = spec
        .get("subnets")
        .entries()
        .map(|(name, sn)| {
            let cidr = sn.get("subnet");
            let vlan = sn.get("vlan");
            let relay = sn.at(&["dhcp", "relayVPC"]);
            Subnet {
                name: Spot::new(name.to_string(), &sn),
                prefix: net::parse_prefix(cidr.str()).ok(),
                cidr: Spot::new(cidr.str().to_string(), &cidr),
                vlan: Spot::new(u16::try_from(vlan.int()).unwrap_or(0), &vlan),
                host_bgp: sn.get("hostBGP").bool(),
                relay_vpc: (!relay.str().is_empty())
                    .then(|| Spot::new(relay.str().to_string(), &relay)),
            }
        })
        .collect();
    let ns = |k: &str| {
        let f = spec.get(k);
        Spot::new(f.str().to_string(), &f)
    };
    Some(super::Facts::Vpc(Box::new(Facts {
        ipv4_namespace: ns("ipv4Namespace"),
        vlan_namespace: ns("vlanNamespace"),
        mode: spec.get("mode").str().to_string(),
        subnets,
    })))
}

#[path = "vpc_cross.rs"]
mod cross;

#[path = "vpc_leases.rs"]
mod leases;
pub use cross::cross;

#[cfg(test)]
#[path = "vpc_tests.rs"]
mod tests;
