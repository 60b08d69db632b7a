//! A VPC subnet's static DHCP leases (`dhcp.static`, MAC to IP): how `VPC.Default` rewrites
//! their MACs (`vpc_types.go:348-358`) and what `Validate` says of them (VPC-15).

use std::collections::{HashMap, HashSet};

use super::super::{Ctx, F};
use crate::validate::net::{self, mac_string, parse_mac, Prefix};
use crate::validate::tree::Entry;

/// `Default` rewrites each lease's MAC to Go's form in place (`delete`, then assign under
/// the normal form), so a lease written in another spelling replaces the one written in Go's:
/// that one is dropped here too (`before_default` warns). Where two other spellings of one
/// MAC meet, which lease wins depends on Go's map order: both stay, under the normal form,
/// and the check refuses them (VPC-15).
pub(super) fn normalise_macs(statics: &mut Vec<Entry>) {
    let spellings = mac_spellings(statics.iter().map(|e| e.key.as_str()));
    statics.retain(|e| {
        let replaced = spellings
            .get(&e.key)
            .is_some_and(|s| s.normal && s.others == 1);
        !replaced
    });
    for e in statics.iter_mut() {
        if let Some(mac) = parse_mac(&e.key) {
            e.key = mac_string(&mac);
        }
    }
}

/// How a MAC is written among a subnet's leases: in Go's form or not, and how often not.
#[derive(Default)]
struct Spellings {
    normal: bool,
    others: usize,
}

/// The spellings of each MAC among `keys`, by its normal form.
fn mac_spellings<'k>(keys: impl Iterator<Item = &'k str>) -> HashMap<String, Spellings> {
    let mut out: HashMap<String, Spellings> = HashMap::new();
    for key in keys {
        let Some(mac) = parse_mac(key) else {
            continue;
        };
        let normal = mac_string(&mac);
        let s = out.entry(normal.clone()).or_default();
        if key == normal {
            s.normal = true;
        } else {
            s.others += 1;
        }
    }
    out
}

/// A lease written under Go's form of a MAC and again under one other spelling: the cluster
/// keeps the other spelling's (`normalise_macs`) and drops this one without a word.
pub(super) fn warn_replaced(ctx: &mut Ctx, subnet: &str, statics: &F) {
    let spellings = mac_spellings(statics.entries().map(|(k, _)| k));
    for (mac, lease) in statics.entries() {
        if !spellings
            .get(mac)
            .is_some_and(|s| s.normal && s.others == 1)
        {
            continue;
        }
        let Some((other, _)) = statics.entries().find(|(k, _)| {
            *k != mac && parse_mac(k).map(|m| mac_string(&m)).as_deref() == Some(mac)
        }) else {
            continue;
        };
        ctx.warn(
            "VPC-15",
            &lease,
            format!("subnet {subnet}: the lease for {mac} is also written as {other}: the cluster keeps only that one's IP and drops this lease"),
        );
    }
}

/// VPC-15 over the leases of subnet `name` (`prefix`, its gateway written `gateway_text`).
pub(super) fn check(ctx: &mut Ctx, name: &str, statics: &F, prefix: &Prefix, gateway_text: &str) {
    let network = prefix.nth(0);
    let mut seen: HashMap<String, String> = HashMap::new();
    let mut macs: HashSet<&str> = HashSet::new();
    for (mac, st) in statics.entries() {
        if !macs.insert(mac) {
            ctx.error(
                "VPC-15",
                &st,
                format!("subnet {name}: MAC {mac} has several leases, written in different spellings: the cluster keeps one of them, chosen at random; write it once"),
                "",
            );
            continue;
        }
        let ip_f = st.get("ip");
        let ip = ip_f.str();
        let err = |ctx: &mut Ctx, at: &F, msg: String, inner: String| {
            ctx.error("VPC-15", at, format!("subnet {name}: {msg}"), &inner)
        };
        if ip.is_empty() {
            err(
                ctx,
                &st,
                format!("the static lease for {mac} has no IP"),
                format!("subnet {name}: empty static IP assigned to MAC {mac}"),
            );
            continue;
        }
        if parse_mac(mac).is_none() {
            err(
                ctx,
                &st,
                format!("{mac:?} is not a MAC address"),
                format!("subnet {name}: invalid MAC {mac} for static IP {ip}"),
            );
            continue;
        }
        let Ok(addr) = net::parse_ip(ip) else {
            err(
                ctx,
                &ip_f,
                format!("static IP {ip:?} is not an IP address"),
                format!("subnet {name}: invalid static IP {ip}"),
            );
            continue;
        };
        if !prefix.contains(addr) {
            err(
                ctx,
                &ip_f,
                format!("static IP {ip} is outside the subnet {prefix}"),
                format!("subnet {name}: static IP {ip} is not in the subnet"),
            );
        } else if addr == network {
            err(
                ctx,
                &ip_f,
                format!("static IP {ip} is the network address"),
                format!("subnet {name}: static IP {ip} is the same as the subnet IP"),
            );
        } else if ip == gateway_text {
            err(
                ctx,
                &ip_f,
                format!("static IP {ip} is the gateway"),
                format!("subnet {name}: static IP {ip} is the same as the gateway IP"),
            );
        } else if addr == prefix.broadcast() {
            err(
                ctx,
                &ip_f,
                format!("static IP {ip} is the broadcast address"),
                format!("subnet {name}: static IP {ip} is the same as the broadcast IP"),
            );
        } else if let Some(other) = seen.insert(ip.to_string(), mac.to_string()) {
            err(
                ctx,
                &ip_f,
                format!("static IP {ip} is already leased to {other}"),
                format!("subnet {name}: static IP {ip} is already assigned to another MAC address"),
            );
        }
    }
}
