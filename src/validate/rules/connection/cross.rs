//! Connection rules across the fabric: devices exist, ports and link IPs are used once,
//! ESLAG switches share a redundancy group, a static external's VPC exists.

use std::borrow::Cow;
use std::collections::HashMap;
use std::net::IpAddr;

use super::{ConnType, Endpoints, Facts, LinkIp};
use crate::validate::fabric::{Cross, Obj};
use crate::validate::rules::switch::Redundancy;
use crate::validate::rules::{Facts as AnyFacts, Spot};
use crate::validate::At;

/// The key two ports clash on: `dev/E1/N` is an alias of `dev/E1/N/1` (a port with exactly two
/// slashes may be the first sub-port of a breakout); other sub-ports are their own.
pub fn port_key(port: &str) -> Cow<'_, str> {
    if port.matches('/').count() == 2 {
        Cow::Owned(format!("{port}/1"))
    } else {
        Cow::Borrowed(port)
    }
}

/// CONN-05/06 (devices exist), CONN-08 (ports used once), CONN-13 (ESLAG redundancy),
/// CONN-15 (link IPs used once), CONN-22 (withinVPC exists).
pub fn cross(cx: &mut Cross) {
    let index = cx.index;
    let conns: Vec<(&Obj, &Facts)> = index
        .of_kind("Connection")
        .filter_map(|o| match &*o.facts {
            AnyFacts::Connection(f) => Some((o, &**f)),
            _ => None,
        })
        .collect();
    // Every port by its key, grouped by a sort rather than in a map of lists: at 10^5
    // documents that map was the largest thing the cross-object check made.
    let mut ports: Vec<(Cow<str>, &Obj, &Spot<String>)> = Vec::new();
    let mut ips: HashMap<IpAddr, Vec<(&Obj, &LinkIp, ConnType)>> = HashMap::new();
    for (obj, f) in &conns {
        if f.mclag() {
            continue;
        }
        if let Some(vpc) = &f.within_vpc {
            if index.get("VPC", &vpc.value).is_none() {
                cx.missing("CONN-22", obj, &vpc.at, "VPC", &vpc.value, "");
                // This one is the webhook's own, outside Validate(): no prefix.
                if let Some(found) = cx.out.last_mut() {
                    found.problem.upstream = Some(format!("vpc {} not found", vpc.value).into());
                }
            }
        }
        let Some(e) = &f.endpoints else { continue };
        let mut all_switches = true;
        for (list, kind, rule) in [
            (&e.switches, "Switch", "CONN-05"),
            (&e.servers, "Server", "CONN-06"),
        ] {
            for d in list {
                if index.get(kind, &d.value).is_none() {
                    all_switches &= kind != "Switch";
                    cx.missing(
                        rule,
                        obj,
                        &d.at,
                        kind,
                        &d.value,
                        &format!("{} {} not found", kind.to_lowercase(), d.value),
                    );
                }
            }
        }
        if f.has(ConnType::Eslag) && all_switches {
            eslag_redundancy(cx, obj, e);
        }
        super::super::profiles::check_connection_ports(cx, obj, &e.ports);
        for p in &e.ports {
            ports.push((port_key(&p.value), obj, p));
        }
        if let Some(t) = f.link_type {
            for l in &f.link_ips {
                ips.entry(l.addr).or_default().push((obj, l, t));
            }
        }
    }
    // Stable: each port's users stay in the order they were listed.
    ports.sort_by(|a, b| a.0.cmp(&b.0));
    for list in ports.chunk_by(|a, b| a.0 == b.0).filter(|l| l.len() > 1) {
        for (_, obj, p) in list {
            let Some((_, other, op)) = list.iter().find(|(_, o, _)| o.name != obj.name) else {
                continue;
            };
            cx.error(
                "CONN-08",
                obj,
                &p.at,
                format!(
                    "port {} is also used by connection {} (as {})",
                    p.value, other.name, op.value
                ),
                &format!(
                    "port {} is already used by other connection {}",
                    op.value, other.name
                ),
                Some((other, &op.at)),
            );
        }
    }
    for list in ips.values().filter(|l| l.len() > 1) {
        for (i, (obj, l, t)) in list.iter().enumerate().filter(|(_, u)| u.1.checked) {
            let (other, ol, _) = list[if i == 0 { 1 } else { 0 }];
            cx.error(
                "CONN-15",
                obj,
                &l.ip.at,
                format!(
                    "link {} {} IP {} is also used by {} link {} {}",
                    l.link,
                    l.side,
                    l.addr,
                    other.object(),
                    ol.link,
                    ol.side
                ),
                &format!(
                    "{} connection {} link {} {} IP {} is already in use",
                    t.label(),
                    obj.name,
                    l.link,
                    l.side,
                    l.addr
                ),
                Some((other, &ol.ip.at)),
            );
        }
    }
}

/// CONN-13: the switches of an ESLAG connection share one redundancy group of type eslag. As
/// in Go, a switch without a group (or type) is passed over while another has one.
fn eslag_redundancy(cx: &mut Cross, obj: &Obj, e: &Endpoints) {
    let mut group: Option<(&str, &Obj)> = None;
    let mut rtype: Option<(&str, &Obj)> = None;
    let first: &At = match e.switches.first() {
        Some(s) => &s.at,
        None => return,
    };
    for s in &e.switches {
        let Some(sw_obj) = cx.index.get("Switch", &s.value) else {
            continue;
        };
        let AnyFacts::Switch(sw) = &*sw_obj.facts else {
            continue;
        };
        for (seen, value, at, what) in [
            (
                &mut group,
                sw.redundancy_group.value.as_str(),
                &sw.redundancy_group.at,
                "group",
            ),
            (
                &mut rtype,
                redundancy_name(&sw.redundancy.value),
                &sw.redundancy.at,
                "type",
            ),
        ] {
            if value.is_empty() {
                continue;
            }
            match seen {
                Some((v, _)) if *v != value => {
                    let v = v.to_string();
                    cx.error("CONN-13", obj, &s.at, format!("switch {} is in redundancy {what} {value}, another switch of this ESLAG connection in {v}", s.value), &format!("all switches in ESLAG connection should belong to the same redundancy {what}, found {} in {v}", s.value), Some((sw_obj, at)));
                }
                _ => *seen = Some((value, sw_obj)),
            }
        }
    }
    match (group, rtype) {
        (None, _) => cx.error("CONN-13", obj, first, "the switches of an ESLAG connection need a redundancy group (spec.redundancy on each Switch)", "all switches in ESLAG connection should have redundancy group", None),
        (_, t) if t.map(|(v, _)| v) != Some("eslag") => {
            let found = t.map_or("", |(v, _)| v);
            cx.error("CONN-13", obj, first, format!("the switches of an ESLAG connection need redundancy type eslag, not {found:?}"), &format!("all switches in ESLAG connection should have ESLAG redundancy type, found {found}"), None);
        }
        _ => {}
    }
}

fn redundancy_name(r: &Redundancy) -> &'static str {
    match r {
        Redundancy::None => "",
        Redundancy::Mclag => "mclag",
        Redundancy::Eslag => "eslag",
        // Outside the enum: the Switch's own schema refuses it (SW-06).
        Redundancy::Other => "",
    }
}
