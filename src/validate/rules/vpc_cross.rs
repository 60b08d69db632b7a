//! VPC rules across the fabric (VPC-21..27): namespaces exist and contain the subnets and
//! VLANs; relay VPCs exist; no subnet overlaps and no VLAN is reused across VPCs.

use std::collections::HashMap;

use super::Facts;
use crate::validate::fabric::{Cross, Obj};
use crate::validate::net::Prefix;

/// VPC-21..27: namespaces exist and contain the subnets and VLANs; relay VPCs exist; no
/// subnet overlaps and no VLAN is reused across VPCs of one namespace.
pub fn cross(cx: &mut Cross) {
    let index = cx.index;
    let vpcs: Vec<(&Obj, &Facts)> = index
        .of_kind("VPC")
        .filter_map(|o| match &*o.facts {
            super::super::Facts::Vpc(f) => Some((o, &**f)),
            _ => None,
        })
        .collect();
    for (obj, f) in &vpcs {
        let ns_name = &f.ipv4_namespace.value;
        match index.get("IPv4Namespace", ns_name).map(|o| &*o.facts) {
            None => cx.missing(
                "VPC-21",
                obj,
                &f.ipv4_namespace.at,
                "IPv4Namespace",
                ns_name,
                &format!("IPv4Namespace {ns_name} not found"),
            ),
            Some(super::super::Facts::Ipv4Namespace(ns)) => {
                for sn in &f.subnets {
                    let Some(p) = sn.prefix else { continue };
                    if !ns.subnets.iter().any(|n| p.is_subset_of(&n.value)) {
                        let listed: Vec<String> =
                            ns.subnets.iter().map(|n| n.value.to_string()).collect();
                        cx.error(
                            "VPC-23",
                            obj,
                            &sn.cidr.at,
                            format!(
                                "subnet {} ({}) is not inside IPv4Namespace {ns_name} ({})",
                                sn.name.value,
                                sn.cidr.value,
                                if listed.is_empty() {
                                    "which has no subnets".into()
                                } else {
                                    listed.join(", ")
                                }
                            ),
                            &format!(
                                "vpc subnet {} ({}) doesn't belong to the IPv4Namespace {ns_name}",
                                sn.name.value, sn.cidr.value
                            ),
                            None,
                        );
                    }
                }
            }
            Some(_) => {}
        }
        let vns_name = &f.vlan_namespace.value;
        match index.get("VLANNamespace", vns_name).map(|o| &*o.facts) {
            None => cx.missing(
                "VPC-22",
                obj,
                &f.vlan_namespace.at,
                "VLANNamespace",
                vns_name,
                &format!("VLANNamespace {vns_name} not found"),
            ),
            Some(super::super::Facts::VlanNamespace(ns)) => {
                for sn in f.subnets.iter().filter(|s| !s.host_bgp) {
                    let v = sn.vlan.value;
                    if !ns.ranges.iter().any(|r| r.value.contains(v)) {
                        let listed: Vec<String> = ns
                            .ranges
                            .iter()
                            .map(|r| format!("{}-{}", r.value.from, r.value.to))
                            .collect();
                        cx.error(
                            "VPC-24",
                            obj,
                            &sn.vlan.at,
                            format!(
                                "subnet {}: VLAN {v} is outside VLANNamespace {vns_name} ({})",
                                sn.name.value,
                                if listed.is_empty() { "which has no ranges".into() } else { listed.join(", ") }
                            ),
                            &format!(
                                "vpc subnet {} ({}) vlan {v} doesn't belong to the VLANNamespace {vns_name}",
                                sn.name.value, sn.cidr.value
                            ),
                            None,
                        );
                    }
                }
            }
            Some(_) => {}
        }
        for sn in &f.subnets {
            if let Some(relay) = &sn.relay_vpc {
                if index.get("VPC", &relay.value).is_none() {
                    cx.missing(
                        "VPC-25",
                        obj,
                        &relay.at,
                        "VPC",
                        &relay.value,
                        &format!(
                            "subnet {}: dhcp relay VPC {} not found",
                            sn.name.value, relay.value
                        ),
                    );
                }
            }
        }
    }
    overlaps(cx, &vpcs);
    vlan_reuse(cx, &vpcs);
}

/// VPC-26: subnets of different VPCs in one IPv4Namespace overlap. A sweep over the subnets
/// sorted by their first address: O(n log n) for n subnets.
fn overlaps(cx: &mut Cross, vpcs: &[(&Obj, &Facts)]) {
    let mut by_ns: HashMap<&str, Vec<(u128, u128, usize, usize)>> = HashMap::new();
    for (vi, (_, f)) in vpcs.iter().enumerate() {
        for (si, sn) in f.subnets.iter().enumerate() {
            if let Some(p) = sn.prefix.filter(Prefix::is_v4) {
                by_ns
                    .entry(f.ipv4_namespace.value.as_str())
                    .or_default()
                    .push((p.network(), p.last(), vi, si));
            }
        }
    }
    for list in by_ns.values_mut() {
        list.sort();
        // Open intervals, by end: each new subnet is compared with those still open.
        let mut open: Vec<(u128, usize, usize)> = Vec::new();
        for &(start, end, vi, si) in list.iter() {
            open.retain(|&(e, _, _)| e >= start);
            for &(_, ovi, osi) in &open {
                if ovi != vi {
                    report_overlap(cx, vpcs, (vi, si), (ovi, osi));
                    report_overlap(cx, vpcs, (ovi, osi), (vi, si));
                }
            }
            open.push((end, vi, si));
        }
    }
}

fn report_overlap(
    cx: &mut Cross,
    vpcs: &[(&Obj, &Facts)],
    at: (usize, usize),
    other: (usize, usize),
) {
    let (obj, f) = vpcs[at.0];
    let (oobj, of) = vpcs[other.0];
    let sn = &f.subnets[at.1];
    let osn = &of.subnets[other.1];
    cx.error(
        "VPC-26",
        obj,
        &sn.cidr.at,
        format!(
            "subnet {} ({}) overlaps subnet {} ({}) of VPC {} in IPv4Namespace {}",
            sn.name.value,
            sn.cidr.value,
            osn.name.value,
            osn.cidr.value,
            oobj.name,
            f.ipv4_namespace.value
        ),
        &format!(
            "subnet {} overlaps with subnet {} of VPC {}",
            sn.prefix.map(|p| p.to_string()).unwrap_or_default(),
            osn.cidr.value,
            oobj.name
        ),
        Some((oobj, &osn.cidr.at)),
    );
}

/// VPC-27: a VLAN used by two VPCs of one VLANNamespace (hostBGP's VLAN 0 exempt).
fn vlan_reuse(cx: &mut Cross, vpcs: &[(&Obj, &Facts)]) {
    let mut users: HashMap<(&str, u16), Vec<(usize, usize)>> = HashMap::new();
    for (vi, (_, f)) in vpcs.iter().enumerate() {
        for (si, sn) in f.subnets.iter().enumerate() {
            if sn.vlan.value == 0 && sn.host_bgp {
                continue;
            }
            users
                .entry((f.vlan_namespace.value.as_str(), sn.vlan.value))
                .or_default()
                .push((vi, si));
        }
    }
    for ((ns, vlan), list) in users {
        for &(vi, si) in &list {
            let Some(&(ovi, osi)) = list.iter().find(|(o, _)| *o != vi) else {
                continue;
            };
            let (obj, f) = vpcs[vi];
            let (oobj, of) = vpcs[ovi];
            cx.error(
                "VPC-27",
                obj,
                &f.subnets[si].vlan.at,
                format!(
                    "VLAN {vlan} of subnet {} is also used by subnet {} of VPC {} (VLANNamespace {ns})",
                    f.subnets[si].name.value, of.subnets[osi].name.value, oobj.name
                ),
                &format!("vlan {vlan} is already used by other VPC"),
                Some((oobj, &of.subnets[osi].vlan.at)),
            );
        }
    }
}
