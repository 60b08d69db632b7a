//! IPv4Namespace (`api/vpc/v1beta1/ipv4namespace_types.go`: `Default` :103, `Validate` :117).

use super::{no_check, At, Ctx, KindRules, Spot, F};
use crate::validate::net::{self, Prefix};
use crate::validate::tree::Node;

pub static RULES: KindRules = KindRules {
    before_default: no_check,
    default: super::no_default,
    check,
    facts,
};

/// The webhook's cap (the CRD allows 20: RULES.md Q4).
const MAX_SUBNETS: usize = 10;

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Facts {
    /// The namespace's subnets that parse, masked, with where each is written.
    pub subnets: Vec<Spot<Prefix>>,
    /// Where `spec.subnets` is (the namespace's own mapping when absent): where a change to
    /// the subnets is reported (UPD-04).
    pub subnets_at: At,
}

fn check(root: &Node, ctx: &mut Ctx) {
    let obj = F::root(root);
    let name = ctx.name.clone();
    if name.len() > 11 {
        ctx.error(
            "IPNS-01",
            &obj.at(&["metadata", "name"]),
            format!(
                "the IPv4Namespace name {name:?} is {} characters long; at most 11",
                name.len()
            ),
            &format!("name {name} is too long, must be <= 11 characters"),
        );
    }
    let subnets = obj.at(&["spec", "subnets"]);
    let mut parsed: Vec<(Prefix, F)> = Vec::new();
    for item in subnets.items() {
        match net::parse_prefix(item.str()) {
            Ok(p) => parsed.push((p.masked(), item)),
            Err(e) => ctx.error(
                "IPNS-02",
                &item,
                format!("{:?} is not a CIDR prefix like 10.0.0.0/16", item.str()),
                &format!("failed to parse cidr {}: {e}", item.str()),
            ),
        }
    }
    if parsed.len() > MAX_SUBNETS {
        ctx.error(
            "IPNS-03",
            &subnets,
            format!("an IPv4Namespace has at most {MAX_SUBNETS} subnets (the CRD says 20, the webhook 10), this one {}", parsed.len()),
            &format!("too many subnets defined ({}), maximum is {MAX_SUBNETS}", parsed.len()),
        );
    }
    for (i, (a, _)) in parsed.iter().enumerate() {
        for (b, fb) in &parsed[i + 1..] {
            if a.overlaps(b) {
                ctx.error(
                    "IPNS-04",
                    fb,
                    format!("subnets {a} and {b} of this namespace overlap"),
                    &format!("subnets overlap: subnets {a} and {b} overlap"),
                );
            }
        }
    }
    let reserved = ctx.env.reserved.clone();
    for (p, f) in &parsed {
        if let Some(r) = reserved.iter().find(|r| r.overlaps(p)) {
            ctx.config_error(
                "IPNS-05",
                f,
                format!("subnet {p} overlaps the fabric's reserved subnet {r}"),
                &format!("subnets overlap with reserved subnets: subnets {p} and {r} overlap"),
            );
        }
    }
}

fn facts(root: &Node) -> Option<super::Facts> {
    let list = F::root(root).at(&["spec", "subnets"]);
    let subnets = list
        .items()
        .filter_map(|f| {
            net::parse_prefix(f.str())
                .ok()
                .map(|p| Spot::new(p.masked(), &f))
        })
        .collect();
    Some(super::Facts::Ipv4Namespace(Box::new(Facts {
        subnets,
        subnets_at: (&list).into(),
    })))
}
