//! GatewayPeering (`api/gateway/v1alpha1/gatewaypeering_types.go`: `Default` :236,
//! `Validate` :288, `validatePort` :676; `pkg/ctrl/gatewaypeering_wh.go`,
//! `gateway_ctrl.go` `BuildGatewayAgentForPeering` :308).
//!
//! Not checked: GWP-15 (the dataplane validator on the gateway agent built from the live
//! cluster, and VPCInfo readiness): only the live cluster can say.
//!
//! A `peering` entry written with no value is null, and the API server prunes nulls before
//! the webhooks run: such an entry does not count.

use std::collections::HashMap;

use super::{check_enabled_and_namespace, DEFAULT_GROUP};
use crate::validate::net;
use crate::validate::rules::common::is_dns_subdomain;
use crate::validate::rules::util::{derived_label, ensure_path};
use crate::validate::rules::{Ctx, KindRules, Spot, F};
use crate::validate::tree::{Node, Value};

pub static PEERING_RULES: KindRules = KindRules {
    before_default: crate::validate::rules::no_check,
    default,
    check,
    facts,
};

/// An entry's exposed address, for the cross-peering rules.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Exposed {
    /// `cidr` (None when the IP names a `not` or a `vpcSubnet` instead).
    pub cidr: Option<Spot<String>>,
    pub vpc_subnet: Option<Spot<String>>,
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct PeeringEntry {
    /// A VPC, or `ext.<name>` for an External.
    pub name: Spot<String>,
    /// The `ips` of exposes other than `default: true` (GWP-12).
    pub ips: Vec<Exposed>,
    /// What the overlap check (GWP-10) reads: each `ips[].cidr` of an expose without `as`,
    /// each `as[].cidr` otherwise; "" where the item is a `not` or a `vpcSubnet`.
    pub overlap_cidrs: Vec<Spot<String>>,
}

/// An ACL rule's `vpcSubnet` match, with the VPC its side resolves to.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct AclSubnet {
    pub rule: usize,
    pub source: bool,
    /// The peering entry the rule's from (source) or to (destination) names, or implies.
    pub side: String,
    pub subnet: Spot<String>,
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct PeeringFacts {
    /// After Default(): `default` when absent and there are exactly 2 entries.
    pub gateway_group: Spot<String>,
    pub entries: Vec<PeeringEntry>,
    pub acl_subnets: Vec<AclSubnet>,
}

const EXT: &str = "ext.";

/// The entries that count (null ones are pruned).
fn entries<'a>(spec: &F<'a>) -> Vec<(&'a str, F<'a>)> {
    spec.get("peering")
        .entries()
        .filter(|(_, e)| e.present())
        .collect()
}

fn default(root: &mut Node) {
    let Some(spec) = ensure_path(root, &["spec"]) else {
        return;
    };
    let two = spec
        .get("peering")
        .is_some_and(|p| p.entries().iter().filter(|e| !e.value.is_null()).count() == 2);
    if let Some(acl) = spec.get_mut("acl").filter(|n| n.is_map()) {
        // `default` has no omitempty: Go writes it even when Default() returns early, so the
        // schema's `required` always holds.
        let value = if two { "deny-unless-exposed" } else { "" };
        crate::validate::rules::util::default_str(acl, "default", value);
        if two {
            if let Some(Node {
                value: Value::Seq(rules),
                ..
            }) = acl.get_mut("rules")
            {
                for r in rules.iter_mut().filter(|r| r.is_map()) {
                    crate::validate::rules::util::default_str(r, "scope", "flow");
                }
            }
        }
    }
    if !two {
        return;
    }
    crate::validate::rules::util::default_str(spec, "gatewayGroup", DEFAULT_GROUP);
    let Some(Node {
        value: Value::Map(list),
        ..
    }) = spec.get_mut("peering")
    else {
        return;
    };
    for e in list.iter_mut() {
        let Some(Node {
            value: Value::Seq(exposes),
            ..
        }) = e.value.get_mut("expose")
        else {
            continue;
        };
        for x in exposes.iter_mut() {
            if let Some(nat) = x.get_mut("nat").filter(|n| n.is_map()) {
                for kind in ["masquerade", "portForward"] {
                    if let Some(k) = nat.get_mut(kind).filter(|n| n.is_map()) {
                        // Go's time.Duration of 2 minutes, as it marshals.
                        crate::validate::rules::util::default_str(k, "idleTimeout", "2m0s");
                    }
                }
            }
        }
    }
}

fn check(root: &Node, ctx: &mut Ctx) {
    check_enabled_and_namespace(ctx, root, ("GWP-01", "GWP-01"), "GatewayPeering", "");
    let spec = F::root(root).get("spec");
    let name = ctx.name.clone();
    let list = entries(&spec);
    let group = spec.get("gatewayGroup");
    if group.str().is_empty() {
        let why = if list.len() == 2 {
            String::new()
        } else {
            format!(
                " (it defaults to {DEFAULT_GROUP} only when peering has exactly 2 entries; this one has {})",
                list.len()
            )
        };
        ctx.error(
            "GWP-02",
            &group,
            format!("gatewayGroup is required{why}"),
            &format!("gateway group must be specified {name}"),
        );
    }
    if list.len() != 2 {
        ctx.error(
            "GWP-03",
            &spec.get("peering"),
            format!(
                "a peering joins exactly 2 VPCs or externals, this one names {}",
                list.len()
            ),
            &format!("peering must have exactly 2 VPCs, got {}", list.len()),
        );
    } else {
        for (entry, f) in &list {
            derived_label(
                ctx,
                f,
                &format!("peering entry {entry:?}"),
                &format!("vpc.gateway.githedgehog.com/{entry}"),
                "true",
            );
        }
    }
    let mut nat: HashMap<&str, (bool, bool)> = HashMap::new();
    for (entry, f) in &list {
        for x in f.get("expose").items() {
            let (stateful, stateless) = check_expose(ctx, entry, &x);
            let e = nat.entry(entry).or_default();
            e.0 |= stateful;
            e.1 |= stateless;
        }
    }
    // The rest reads the two sides: Go never gets here with another count.
    if list.len() != 2 {
        return;
    }
    let (a, b) = (nat.get(list[0].0), nat.get(list[1].0));
    let (a, b) = (
        a.copied().unwrap_or_default(),
        b.copied().unwrap_or_default(),
    );
    let peering = spec.get("peering");
    if a.0 && b.0 {
        ctx.error(
            "GWP-07",
            &peering,
            "both sides use stateful NAT (masquerade or portForward): only one side may",
            "unsupported configuration, only one side of a peering can use stateful NAT (i.e. masquerade or portForward)",
        );
    } else if (a.1 && b.0) || (b.1 && a.0) {
        ctx.error(
            "GWP-07",
            &peering,
            "one side uses static NAT and the other stateful NAT (masquerade or portForward): they cannot be combined",
            "unsupported configuration, one side of a peering using static NAT cannot peer with a side using stateful NAT",
        );
    }
    let names = [list[0].0, list[1].0];
    check_acl(ctx, &spec.get("acl"), names);
}

/// GWP-04..06 on one expose; returns whether it uses stateful and stateless NAT.
fn check_expose(ctx: &mut Ctx, entry: &str, x: &F) -> (bool, bool) {
    let (ips, r#as, nat) = (x.get("ips"), x.get("as"), x.get("nat"));
    let of = format!("in peering expose of VPC {entry}");
    if x.get("default").bool() && (!ips.is_empty() || !r#as.is_empty() || nat.present()) {
        ctx.error(
            "GWP-04",
            &x.get("default"),
            format!("{entry}: an expose with default: true has nothing else (no ips, as or nat)"),
            &format!("default flag should be the only thing set {of}"),
        );
    }
    if ips.is_empty() && !x.get("default").bool() {
        ctx.error(
            "GWP-04",
            &ips,
            format!("{entry}: an expose needs at least one entry in ips (or default: true)"),
            &format!("at least one IP block must be specified {of}"),
        );
    }
    for ip in ips.items() {
        let mut set = 0;
        for (key, label) in [("cidr", "CIDR"), ("not", "Not CIDR")] {
            let f = ip.get(key);
            if f.str().is_empty() {
                continue;
            }
            set += 1;
            if let Err(e) = net::parse_prefix(f.str()) {
                ctx.error(
                    "GWP-04",
                    &f,
                    format!("{entry}: {key} {:?} is not a CIDR prefix", f.str()),
                    &format!(
                        "invalid {label} {} in peering expose IPs of VPC {entry}: {e}",
                        f.str()
                    ),
                );
            }
        }
        let sn = ip.get("vpcSubnet");
        if !sn.str().is_empty() {
            set += 1;
            if let Some(ext) = entry.strip_prefix(EXT) {
                ctx.error(
                    "GWP-04",
                    &sn,
                    format!("{entry} is an external: vpcSubnet names a VPC's subnet"),
                    &format!("external {ext} cannot have an IP block with VPC Subnets specified"),
                );
            }
        }
        if set != 1 {
            ctx.error(
                "GWP-04",
                &ip,
                format!("{entry}: each ips entry has exactly one of cidr, not and vpcSubnet"),
                &format!("exactly one of cidr, not or vpcSubnet must be set in peering expose IPs of VPC {entry}"),
            );
        }
    }
    for item in r#as.items() {
        let mut set = 0;
        for (key, label) in [("cidr", "CIDR"), ("not", "Not CIDR")] {
            let f = item.get(key);
            if f.str().is_empty() {
                continue;
            }
            set += 1;
            if let Err(e) = net::parse_prefix(f.str()) {
                ctx.error(
                    "GWP-05",
                    &f,
                    format!("{entry}: as {key} {:?} is not a CIDR prefix", f.str()),
                    &format!(
                        "invalid {label} {} in peering expose AS of VPC {entry}: {e}",
                        f.str()
                    ),
                );
            }
        }
        if set != 1 {
            ctx.error(
                "GWP-05",
                &item,
                format!("{entry}: each as entry has exactly one of cidr and not"),
                &format!(
                    "exactly one of cidr or not must be set in peering expose AS of VPC {entry}"
                ),
            );
        }
    }
    if r#as.is_empty() == nat.present() {
        ctx.error(
            "GWP-05",
            if nat.present() { &nat } else { &r#as },
            format!("{entry}: as and nat go together: both or neither"),
            &format!("expose.As and expose.NAT must both be set or both be empty {of}"),
        );
    }
    if !nat.present() {
        return (false, false);
    }
    let (st, ma, pf) = (
        nat.get("static"),
        nat.get("masquerade"),
        nat.get("portForward"),
    );
    if [&st, &ma, &pf].iter().filter(|f| f.present()).count() != 1 {
        ctx.error(
            "GWP-06",
            &nat,
            format!("{entry}: nat has exactly one of masquerade, static and portForward"),
            &format!("exactly one of masquerade, static, or portForward must be set in NAT section for peering expose of VPC {entry}"),
        );
    }
    if pf.present() {
        let ports = pf.get("ports");
        if ports.is_empty() {
            ctx.error(
                "GWP-06",
                &ports,
                format!("{entry}: portForward needs at least one port"),
                &format!("at least one port forwarding rule must be set in NAT section for peering expose of VPC {entry}"),
            );
        }
        // `proto` is the CRD enum's (tcp, udp or empty): the webhook never sees another.
        for (i, p) in ports.items().enumerate() {
            for key in ["port", "as"] {
                let f = p.get(key);
                if let Err(e) = port_problem(f.str()) {
                    ctx.error(
                        "GWP-06",
                        &f,
                        format!("{entry}: port forwarding rule {i}: {key} {:?}: {e}", f.str()),
                        &format!("invalid {key} {:?} in port forwarding rule {i} in NAT section for peering expose of VPC {entry}: {e}", f.str()),
                    );
                }
            }
        }
    }
    (ma.present() || pf.present(), st.present())
}

/// Go's `strconv.Atoi` error text.
fn atoi(s: &str) -> Result<i64, String> {
    s.parse::<i64>().map_err(|_| {
        let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
        let why = if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
            "value out of range"
        } else {
            "invalid syntax"
        };
        format!("strconv.Atoi: parsing {s:?}: {why}")
    })
}

/// `validatePort`: a port `N` or a range `A-B`, 1-65535, with Go's texts.
fn port_problem(s: &str) -> Result<(), String> {
    if s.trim() != s {
        return Err(format!(
            "invalid port {s:?}: should not contain leading or trailing whitespace"
        ));
    }
    if s.contains(',') {
        return Err(format!(
            "invalid port {s:?}: should be a single port or range"
        ));
    }
    if s.is_empty() {
        return Err("port entry should not be empty".into());
    }
    let in_range = |p: i64| (1..=65535).contains(&p);
    let Some((a, b)) = s.split_once('-') else {
        let p = atoi(s).map_err(|e| format!("invalid port {s:?}: {e}"))?;
        if !in_range(p) {
            return Err(format!(
                "invalid port {p}: port should be between 1 and 65535"
            ));
        }
        return Ok(());
    };
    if b.contains('-') {
        return Err(format!(
            "invalid port range {s}: should be in format start-end"
        ));
    }
    let (a, b) = (a.trim(), b.trim());
    if a.is_empty() || b.is_empty() {
        return Err(format!(
            "invalid port range {s}: both start and end should not be empty"
        ));
    }
    let bound = |text: &str, which: &str| -> Result<i64, String> {
        let p = atoi(text).map_err(|e| format!("invalid {which} port {text}: {e}"))?;
        if !in_range(p) {
            return Err(format!(
                "invalid {which} port {p}: port should be between 1 and 65535"
            ));
        }
        Ok(p)
    };
    let (start, end) = (bound(a, "start")?, bound(b, "end")?);
    if start > end {
        return Err(format!(
            "invalid port range {s}: start port {start} is greater than end port {end}"
        ));
    }
    Ok(())
}

/// GWP-08: the ACL's rules (`default` and `action` are the CRD enum's).
fn check_acl(ctx: &mut Ctx, acl: &F, names: [&str; 2]) {
    let quoted = format!("[{:?} {:?}]", names[0], names[1]);
    for (i, rule) in acl.get("rules").items().enumerate() {
        let rname = rule.get("name");
        let n = rname.str();
        let mut blob = String::new();
        if !n.is_empty() {
            if !is_dns_subdomain(n) {
                ctx.error(
                    "GWP-08",
                    &rname,
                    format!("ACL rule {i}: name {n:?} is not a lowercase RFC 1123 name"),
                    &format!("invalid rule name {n:?} in ACL rule {i}"),
                );
            } else if n.len() > 64 {
                ctx.error(
                    "GWP-08",
                    &rname,
                    format!("ACL rule {i}: name is {} characters, at most 64", n.len()),
                    &format!("rule name {n:?} in ACL rule {i} is too long, must be 64 characters or less"),
                );
            }
            blob = format!(" ({n})");
        }
        let (from, to) = (rule.get("from"), rule.get("to"));
        if from.str().is_empty() && to.str().is_empty() {
            ctx.error(
                "GWP-08",
                &rule,
                format!("ACL rule {i}{blob} needs from or to (one of the peering's entries)"),
                &format!("at least one of from and to must be specified in ACL rule {i}{blob}"),
            );
        }
        for (key, f) in [("from", &from), ("to", &to)] {
            if !f.str().is_empty() && !names.contains(&f.str()) {
                ctx.error(
                    "GWP-08",
                    f,
                    format!("ACL rule {i}{blob}: {key} {:?} is neither {} nor {}", f.str(), names[0], names[1]),
                    &format!("invalid {key} {:?} in ACL rule {i}{blob}, it has to match one of the two VPCs of the peering: {quoted}", f.str()),
                );
            }
        }
        let m = rule.get("match");
        for (key, what) in [("src", "source"), ("dst", "destination")] {
            for end in m.get(key).items() {
                let (cidr, sn) = (end.get("cidr"), end.get("vpcSubnet"));
                if !cidr.str().is_empty() && !sn.str().is_empty() {
                    ctx.error(
                        "GWP-08",
                        &end,
                        format!("ACL rule {i}{blob}: a {what} match has cidr or vpcSubnet, not both"),
                        &format!("at most one of cidr and vpcSubnet can be specified in {what} match for rule {i}{blob}"),
                    );
                }
                if !cidr.str().is_empty() {
                    if let Err(e) = net::parse_prefix(cidr.str()) {
                        ctx.error(
                            "GWP-08",
                            &cidr,
                            format!(
                                "ACL rule {i}{blob}: {what} cidr {:?} is not a CIDR prefix",
                                cidr.str()
                            ),
                            &format!(
                                "invalid {what} CIDR {:?} in ACL rule {i}{blob}: {e}",
                                cidr.str()
                            ),
                        );
                    }
                }
                for p in end.get("ports").items() {
                    if let Err(e) = port_problem(p.str()) {
                        ctx.error(
                            "GWP-08",
                            &p,
                            format!("ACL rule {i}{blob}: {what} port {:?}: {e}", p.str()),
                            &format!(
                                "invalid {what} port {:?} in ACL rule {i}{blob}: {e}",
                                p.str()
                            ),
                        );
                    }
                }
            }
        }
        let proto = m.get("proto");
        let p = proto.str();
        if !matches!(p, "tcp" | "udp" | "") {
            if let Err(e) = atoi(p) {
                ctx.error(
                    "GWP-08",
                    &proto,
                    format!("ACL rule {i}{blob}: proto {p:?} is not tcp, udp or a protocol number"),
                    &format!("invalid protocol {p:?} in ACL rule {i}{blob}: {e}"),
                );
            }
        }
    }
}

fn facts(root: &Node) -> Option<crate::validate::rules::Facts> {
    let spec = F::root(root).get("spec");
    let list = entries(&spec);
    let spot = |f: &F| Spot::new(f.str().to_string(), f);
    let nonempty = |f: F| (!f.str().is_empty()).then(|| spot(&f));
    let entries: Vec<PeeringEntry> = list
        .iter()
        .map(|(name, f)| {
            let mut ips = Vec::new();
            let mut overlap_cidrs = Vec::new();
            for x in f.get("expose").items().filter(|x| !x.get("default").bool()) {
                for ip in x.get("ips").items() {
                    ips.push(Exposed {
                        cidr: nonempty(ip.get("cidr")),
                        vpc_subnet: nonempty(ip.get("vpcSubnet")),
                    });
                }
                let read = if x.get("as").is_empty() { "ips" } else { "as" };
                for item in x.get(read).items() {
                    let cidr = item.get("cidr");
                    overlap_cidrs.push(Spot::new(cidr.str().to_string(), &cidr));
                }
            }
            PeeringEntry {
                name: Spot::new(name.to_string(), f),
                ips,
                overlap_cidrs,
            }
        })
        .collect();
    let mut acl_subnets = Vec::new();
    if let [(a, _), (b, _)] = list[..] {
        for (i, rule) in spec.at(&["acl", "rules"]).items().enumerate() {
            let (from, to) = (rule.get("from").str(), rule.get("to").str());
            let other = |x: &str| if x == a { b } else { a };
            let (from, to) = match (from.is_empty(), to.is_empty()) {
                (true, _) => (other(to), to),
                (_, true) => (from, other(from)),
                _ => (from, to),
            };
            for (key, side, source) in [("src", from, true), ("dst", to, false)] {
                for end in rule.at(&["match", key]).items() {
                    if let Some(subnet) = nonempty(end.get("vpcSubnet")) {
                        acl_subnets.push(AclSubnet {
                            rule: i,
                            source,
                            side: side.to_string(),
                            subnet,
                        });
                    }
                }
            }
        }
    }
    Some(crate::validate::rules::Facts::GatewayPeering(Box::new(
        PeeringFacts {
            gateway_group: spot(&spec.get("gatewayGroup")),
            entries,
            acl_subnets,
        },
    )))
}

mod cross;
#[cfg(test)]
mod tests;

pub(super) use cross::cross;
