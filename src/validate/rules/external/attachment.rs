//! ExternalAttachment (`api/vpc/v1beta1/externalattachment_types.go`: `Default` :284,
//! `Validate` :297). Default writes only labels, but the mutating webhook's JSON round trip
//! writes every field Go does not omit: `spec`, `spec.switch`, `spec.neighbor`,
//! `spec.static.remoteIP` and the five required fields of each ACL statement. The CRD's
//! `required` markers on them are therefore always satisfied in a cluster (RULES.md C1,
//! EXTA-09): a static attachment without `switch:`/`neighbor:` is valid. `default` writes the
//! same zero values, so the schema sees what the cluster's schema check sees.

use std::collections::HashMap;

use super::super::util::{default_int, default_str, ensure_path, parse_cidr};
use super::super::vpcattachment::wiring::{ConnType, Wiring};
use super::super::vpcattachment::{label_value, whole};
use super::super::{no_check, Ctx, KindRules, Spot, F};
use crate::validate::fabric::{Cross, Obj};
use crate::validate::net;
use crate::validate::tree::{Node, Value};
use crate::validate::At;

pub static ATTACHMENT_RULES: KindRules = KindRules {
    before_default: no_check,
    default,
    check,
    facts,
};

#[derive(Debug, Clone)]
pub struct AttachmentFacts {
    pub external: Spot<String>,
    pub connection: Spot<String>,
    /// Where `spec.static` is, for a static attachment.
    pub static_at: Option<At>,
    /// `switch.vlan`, or `static.vlan` for a static attachment (0 when not written: a value
    /// like any other for EXTA-08).
    pub vlan: Spot<u16>,
}

impl AttachmentFacts {
    /// What this attachment references, for DEL-04 ("external has attachments") and DEL-05
    /// ("connection has external attachments"): upstream selects by the labels Default writes.
    pub fn references(&self) -> Vec<(&'static str, &Spot<String>)> {
        vec![
            ("External", &self.external),
            ("Connection", &self.connection),
        ]
    }
}

/// The statement fields Go always writes (`json:"seq"` etc., no omitempty).
const STATEMENT_STRINGS: [&str; 4] = ["action", "protocol", "srcPrefix", "dstPrefix"];

fn default(root: &mut Node) {
    let Some(spec) = ensure_path(root, &["spec"]) else {
        return;
    };
    spec.ensure_map("switch");
    spec.ensure_map("neighbor");
    if let Some(statik) = spec.get_mut("static").filter(|n| n.is_map()) {
        default_str(statik, "remoteIP", "");
    }
    let Some(Node {
        value: Value::Seq(statements),
        ..
    }) = spec
        .get_mut("inboundACL")
        .and_then(|acl| acl.get_mut("statements"))
    else {
        return;
    };
    for stmt in statements.iter_mut().filter(|s| s.is_map()) {
        default_int(stmt, "seq", 0);
        for field in STATEMENT_STRINGS {
            default_str(stmt, field, "");
        }
    }
}

fn check(root: &Node, ctx: &mut Ctx) {
    let spec = F::root(root).get("spec");
    for (field, what) in [("external", "External"), ("connection", "Connection")] {
        let f = spec.get(field);
        if f.str().is_empty() {
            ctx.error(
                "EXTA-01",
                &f,
                format!("spec.{field} is required: the {what} this attachment belongs to"),
                &format!("{field} is required"),
            );
        } else {
            // Default's labels `fabric.githedgehog.com/external` and `/connection`.
            let label = format!("fabric.githedgehog.com/{field}");
            label_value(ctx, &f, &label, &format!("the {what} name"), f.str());
        }
    }
    let statik = spec.get("static");
    if statik.present() {
        check_static(ctx, &spec, &statik);
    } else {
        check_bgp(ctx, &spec);
    }
    let acl = spec.get("inboundACL");
    if acl.present() {
        super::acl::check(ctx, &acl);
    }
}

/// EXTA-02: a BGP attachment's switch side and neighbor.
fn check_bgp(ctx: &mut Ctx, spec: &F) {
    let ip = spec.at(&["switch", "ip"]);
    if ip.str().is_empty() {
        ctx.error(
            "EXTA-02",
            &ip,
            "switch.ip is required for a BGP attachment: the switch's address with its prefix length, e.g. 100.100.0.1/24",
            "switch.ip is required",
        );
    } else if parse_cidr(ip.str()).is_err() {
        ctx.error(
            "EXTA-02",
            &ip,
            format!(
                "switch.ip {:?} is not an address with a prefix length, e.g. 100.100.0.1/24",
                ip.str()
            ),
            "switch.ip is not a valid IP CIDR",
        );
    }
    let asn = spec.at(&["neighbor", "asn"]);
    if asn.int() == 0 {
        ctx.error(
            "EXTA-02",
            &asn,
            "neighbor.asn is required for a BGP attachment",
            "neighbor.asn is required",
        );
    }
    let nip = spec.at(&["neighbor", "ip"]);
    if nip.str().is_empty() {
        ctx.error(
            "EXTA-02",
            &nip,
            "neighbor.ip is required for a BGP attachment: the BGP neighbor's address, without a prefix length",
            "neighbor.ip is required",
        );
    } else if net::parse_ip(nip.str()).is_err() {
        ctx.error(
            "EXTA-02",
            &nip,
            format!("neighbor.ip {:?} is not an IP address", nip.str()),
            "neighbor.ip is not a valid IP address",
        );
    }
}

/// EXTA-03: a static attachment has no BGP parameters, a remote IP, and exactly one of an
/// address of its own and proxy-ARP.
fn check_static(ctx: &mut Ctx, spec: &F, statik: &F) {
    let (sw_ip, sw_vlan) = (spec.at(&["switch", "ip"]), spec.at(&["switch", "vlan"]));
    if !sw_ip.str().is_empty() || sw_vlan.int() != 0 {
        let at = if sw_ip.str().is_empty() {
            &sw_vlan
        } else {
            &sw_ip
        };
        ctx.error(
            "EXTA-03",
            at,
            "a static attachment takes no switch.ip or switch.vlan: use static.ip and static.vlan",
            "switch parameters must not be set for static external attachment",
        );
    }
    let (n_asn, n_ip) = (spec.at(&["neighbor", "asn"]), spec.at(&["neighbor", "ip"]));
    if n_asn.int() != 0 || !n_ip.str().is_empty() {
        let at = if n_asn.int() != 0 { &n_asn } else { &n_ip };
        ctx.error(
            "EXTA-03",
            at,
            "a static attachment has no BGP neighbor: remove neighbor.asn and neighbor.ip",
            "neighbor parameters must not be set for static external attachment",
        );
    }
    let remote = statik.get("remoteIP");
    if remote.str().is_empty() {
        ctx.error(
            "EXTA-03",
            &remote,
            "static.remoteIP is required: the external's address, the next hop of its prefixes",
            "static.remoteIP is required for static external attachment",
        );
    } else if net::parse_ip(remote.str()).is_err() {
        ctx.error(
            "EXTA-03",
            &remote,
            format!("static.remoteIP {:?} is not an IP address", remote.str()),
            "static.remoteIP is not a valid IP address",
        );
    }
    let (ip, proxy) = (statik.get("ip"), statik.get("proxy"));
    // Exactly one of an own address and proxy-ARP: both, or neither, is refused.
    let own_address = !ip.str().is_empty();
    if own_address == proxy.bool() {
        let (at, msg) = if proxy.bool() {
            (&proxy, "static.ip and static.proxy are both set: give the switch an address, or use proxy-ARP, not both")
        } else {
            (statik, "a static attachment needs static.ip (the switch's address with its prefix length) or static.proxy: true")
        };
        ctx.error(
            "EXTA-03",
            at,
            msg,
            "either static.ip or static.proxy must be set for static external attachment",
        );
    }
    if !ip.str().is_empty() && parse_cidr(ip.str()).is_err() {
        ctx.error(
            "EXTA-03",
            &ip,
            format!(
                "static.ip {:?} is not an address with a prefix length, e.g. 192.168.30.5/24",
                ip.str()
            ),
            "static.ip is not a valid IP CIDR",
        );
    }
}

fn facts(root: &Node) -> Option<super::super::Facts> {
    let spec = F::root(root).get("spec");
    let statik = spec.get("static");
    let vlan = if statik.present() {
        statik.get("vlan")
    } else {
        spec.at(&["switch", "vlan"])
    };
    let text = |k: &str| {
        let f = spec.get(k);
        Spot::new(f.str().to_string(), &f)
    };
    Some(super::super::Facts::ExternalAttachment(AttachmentFacts {
        external: text("external"),
        connection: text("connection"),
        static_at: statik.present().then(|| At::from(&statik)),
        vlan: Spot::new(u16::try_from(vlan.int()).unwrap_or(0), &vlan),
    }))
}

/// EXTA-05..08 over the fabric.
pub(crate) fn cross_with(cx: &mut Cross, wiring: &Wiring) {
    let index = cx.index;
    let attachments: Vec<(&Obj, &AttachmentFacts)> = index
        .of_kind("ExternalAttachment")
        .filter_map(|o| match &o.facts {
            super::super::Facts::ExternalAttachment(f) => Some((o, f)),
            _ => None,
        })
        .collect();
    for &(obj, f) in &attachments {
        references(cx, wiring, obj, f);
    }
    vlan_reuse(cx, &attachments);
}

fn references(cx: &mut Cross, wiring: &Wiring, obj: &Obj, f: &AttachmentFacts) {
    let index = cx.index;
    let ext = f.external.value.as_str();
    if !ext.is_empty() {
        match index.get("External", ext) {
            None => cx.missing(
                "EXTA-05",
                obj,
                &f.external.at,
                "External",
                ext,
                &format!("external {ext} not found"),
            ),
            Some(eobj) => {
                if let super::super::Facts::External(e) = &eobj.facts {
                    static_match(cx, obj, f, eobj, e);
                }
            }
        }
    }
    let conn = f.connection.value.as_str();
    if conn.is_empty() {
        return;
    }
    let Some(cobj) = index.get("Connection", conn) else {
        cx.missing(
            "EXTA-07",
            obj,
            &f.connection.at,
            "Connection",
            conn,
            &format!("connection {conn} not found"),
        );
        return;
    };
    if let Some(view) = wiring.connection(conn) {
        // Upstream tests `conn.Spec.External != nil`: a staticExternal connection does not do.
        if !view.has(ConnType::External) {
            cx.error(
                "EXTA-07",
                obj,
                &f.connection.at,
                format!(
                    "connection {conn} is {}: external attachments, static ones too, go on an external connection",
                    view.describe()
                ),
                &format!("connection {conn} is not external"),
                Some((cobj, &whole(cobj))),
            );
        }
    }
}

/// EXTA-06: a static attachment for a static External, a BGP one for a BGP External.
fn static_match(cx: &mut Cross, obj: &Obj, f: &AttachmentFacts, eobj: &Obj, e: &super::Facts) {
    let ext = &eobj.name;
    let (msg, inner) = match (&f.static_at, e.is_static()) {
        (Some(_), false) => (
            format!("this attachment is static (spec.static), but External {ext} is a BGP external (no spec.static)"),
            format!("external attachment is static but external {ext} is not"),
        ),
        (None, true) => (
            format!("this attachment is a BGP one (no spec.static), but External {ext} is static"),
            format!("external attachment is not static but external {ext} is"),
        ),
        _ => return,
    };
    let at = f.static_at.as_ref().unwrap_or(&f.external.at);
    let eat = e.static_at.clone().unwrap_or_else(|| whole(eobj));
    cx.error("EXTA-06", obj, at, msg, &inner, Some((eobj, &eat)));
}

/// EXTA-08: two attachments on one connection with the same VLAN. Grouped by key, so linear in
/// the attachments; each of a clash is reported, pointing at another.
fn vlan_reuse(cx: &mut Cross, attachments: &[(&Obj, &AttachmentFacts)]) {
    let mut by_vlan: HashMap<(&str, u16), Vec<usize>> = HashMap::new();
    for (i, (_, f)) in attachments.iter().enumerate() {
        if !f.connection.value.is_empty() {
            by_vlan
                .entry((f.connection.value.as_str(), f.vlan.value))
                .or_default()
                .push(i);
        }
    }
    for ((conn, vlan), list) in by_vlan.iter().filter(|(_, l)| l.len() > 1) {
        for &i in list {
            let Some(o) = list.iter().copied().find(|&o| o != i) else {
                continue;
            };
            let ((obj, f), (oobj, of)) = (attachments[i], attachments[o]);
            cx.error(
                "EXTA-08",
                obj,
                &f.vlan.at,
                format!(
                    "ExternalAttachment {} uses VLAN {vlan} on connection {conn} too{}",
                    oobj.name,
                    if *vlan == 0 {
                        " (no VLAN counts as VLAN 0)"
                    } else {
                        ""
                    }
                ),
                &format!("connection {conn} already has an external attachment with VLAN {vlan}"),
                Some((oobj, &of.vlan.at)),
            );
        }
    }
}
