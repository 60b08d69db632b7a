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

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
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

/// EXTA-02: a BGP attachment's switch side and neighbor. `switch.ip`, `static.ip` and the ACL
/// prefixes go through `net.ParseCIDR`, not `netip.ParsePrefix` (`util::parse_cidr`).
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
    } else if net::parse_addr(remote.str()).is_err() {
        // Not in RULES.md's EXTA-03; the code parses it (:334).
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
    Some(super::super::Facts::ExternalAttachment(Box::new(
        AttachmentFacts {
            external: text("external"),
            connection: text("connection"),
            static_at: statik.present().then(|| At::from(&statik)),
            vlan: Spot::new(u16::try_from(vlan.int()).unwrap_or(0), &vlan),
        },
    )))
}

/// EXTA-05..08 over the fabric.
pub(crate) fn cross_with(cx: &mut Cross, wiring: &Wiring) {
    let index = cx.index;
    let attachments: Vec<(&Obj, &AttachmentFacts)> = index
        .of_kind("ExternalAttachment")
        .filter_map(|o| match &*o.facts {
            super::super::Facts::ExternalAttachment(f) => Some((o, &**f)),
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
                if let super::super::Facts::External(e) = &*eobj.facts {
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

#[cfg(test)]
mod tests {
    use crate::validate::rules::testkit::{check, errors};
    use crate::validate::rules::vpcattachment::wiring::testing::{
        errors_of, fabric_with, real_schema_ok,
    };
    use crate::validate::Problem;

    fn attachment(name: &str, spec: &str) -> String {
        format!("apiVersion: vpc.githedgehog.com/v1beta1\nkind: ExternalAttachment\nmetadata:\n  name: {name}\nspec:\n{spec}")
    }

    const BGP: &str = "  connection: border--ext\n  external: bgp\n  neighbor:\n    asn: 65102\n    ip: 100.100.0.6\n  switch:\n    ip: 100.100.0.1/24\n    vlan: 100\n";
    const STATIC: &str = "  connection: border--ext\n  external: st\n  static:\n    remoteIP: 192.168.30.1\n    vlan: 35\n    ip: 192.168.30.5/24\n";

    fn with_acl(statements: &str) -> String {
        attachment(
            "a",
            &format!("{BGP}  inboundACL:\n    statements:\n{statements}"),
        )
    }

    fn run(docs: &[&str], whole: bool) -> Vec<(String, Problem)> {
        fabric_with(docs, whole, |_| {}, &[super::cross_with])
    }

    fn conn(name: &str, body: &str) -> String {
        format!("apiVersion: wiring.githedgehog.com/v1beta1\nkind: Connection\nmetadata:\n  name: {name}\nspec:\n{body}")
    }

    const EXT_CONN: &str = "  external:\n    link:\n      switch: {port: border/E1/5}\n";
    const BGP_EXT: &str = "apiVersion: vpc.githedgehog.com/v1beta1\nkind: External\nmetadata:\n  name: bgp\nspec:\n  inboundCommunity: 65102:5000\n";
    const STATIC_EXT: &str = "apiVersion: vpc.githedgehog.com/v1beta1\nkind: External\nmetadata:\n  name: st\nspec:\n  static:\n    prefixes: [0.0.0.0/0]\n";

    #[test]
    fn external_and_connection_are_required() {
        assert_eq!(errors(&attachment("a", BGP)), Vec::<&str>::new());
        let no_ext = BGP.replace("  external: bgp\n", "");
        assert_eq!(errors(&attachment("a", &no_ext)), ["EXTA-01"]);
        let no_conn = BGP.replace("  connection: border--ext\n", "");
        assert_eq!(errors(&attachment("a", &no_conn)), ["EXTA-01"]);
        let long = BGP.replace("border--ext", &"c".repeat(64));
        assert_eq!(errors(&attachment("a", &long)), ["GEN-04"]);
    }

    #[test]
    fn bgp_attachments_have_a_switch_address_and_a_neighbor() {
        let a = |from: &str, to: &str| errors(&attachment("a", &BGP.replace(from, to)));
        assert_eq!(a("    ip: 100.100.0.1/24\n", ""), ["EXTA-02"]);
        assert_eq!(a("100.100.0.1/24", "100.100.0.1"), ["EXTA-02"]);
        // net.ParseCIDR reads a prefix length with leading zeros.
        assert_eq!(a("100.100.0.1/24", "100.100.0.1/024"), Vec::<&str>::new());
        assert_eq!(a("    asn: 65102\n", ""), ["EXTA-02"]);
        assert_eq!(a("    ip: 100.100.0.6\n", ""), ["EXTA-02"]);
        assert_eq!(a("100.100.0.6", "100.100.0.256"), ["EXTA-02"]);
        // switch.vlan has no range check (Q13) beyond its type.
        assert_eq!(a("vlan: 100", "vlan: 4095"), Vec::<&str>::new());
        // No switch or neighbor at all: Default wrote them empty, the webhook finds them empty.
        let bare = attachment("a", "  connection: c\n  external: e\n");
        let p = check(&bare);
        assert!(p.iter().all(|p| p.rule.0 == "EXTA-02"), "{p:?}");
        assert_eq!(p.len(), 3, "{p:?}");
    }

    #[test]
    fn static_attachments_need_no_switch_or_neighbor() {
        // The docs' static attachment, without switch: and neighbor: (RULES.md C1, EXTA-09).
        assert_eq!(errors(&attachment("a", STATIC)), Vec::<&str>::new());
        let proxy = STATIC.replace("    ip: 192.168.30.5/24\n", "    proxy: true\n");
        assert_eq!(errors(&attachment("a", &proxy)), Vec::<&str>::new());
        let both = format!("{STATIC}    proxy: true\n");
        assert_eq!(errors(&attachment("a", &both)), ["EXTA-03"]);
        let neither = STATIC.replace("    ip: 192.168.30.5/24\n", "");
        assert_eq!(errors(&attachment("a", &neither)), ["EXTA-03"]);
        let sw = format!("{STATIC}  switch:\n    vlan: 35\n");
        assert_eq!(errors(&attachment("a", &sw)), ["EXTA-03"]);
        let zero = format!("{STATIC}  switch:\n    vlan: 0\n  neighbor: {{}}\n");
        assert_eq!(errors(&attachment("a", &zero)), Vec::<&str>::new());
        let nb = format!("{STATIC}  neighbor:\n    asn: 65102\n");
        assert_eq!(errors(&attachment("a", &nb)), ["EXTA-03"]);
        // remoteIP is required by the CRD too, but the webhook writes it empty first.
        let no_remote = STATIC.replace("    remoteIP: 192.168.30.1\n", "");
        assert_eq!(errors(&attachment("a", &no_remote)), ["EXTA-03"]);
        let bad_remote = STATIC.replace("192.168.30.1", "192.168.30");
        assert_eq!(errors(&attachment("a", &bad_remote)), ["EXTA-03"]);
        let bad_ip = STATIC.replace("192.168.30.5/24", "192.168.30.5/33");
        assert_eq!(errors(&attachment("a", &bad_ip)), ["EXTA-03"]);
    }

    #[test]
    fn inbound_acl_statements() {
        let stmt = |seq: u32, rest: &str| {
            format!("    - seq: {seq}\n      action: permit\n      protocol: tcp\n      srcPrefix: any\n      dstPrefix: 10.0.0.0/8\n{rest}")
        };
        assert_eq!(errors(&with_acl(&stmt(10, ""))), Vec::<&str>::new());
        let p = check(&with_acl(&stmt(5, "")));
        assert_eq!(p.iter().map(|p| p.rule.0).collect::<Vec<_>>(), ["EXTA-04"]);
        assert_eq!(
            p[0].upstream.as_deref(),
            Some("failed to validate external attachment: invalid inboundACL: sequence number 5 is reserved for security rules (user-defined rules must use seq >= 10)")
        );
        assert_eq!(p[0].path.to_string(), "spec.inboundACL.statements[0].seq");
        assert_eq!(
            errors(&with_acl(&format!("{}{}", stmt(10, ""), stmt(10, "")))),
            ["EXTA-04"]
        );
        let one = |from: &str, to: &str| errors(&with_acl(&stmt(10, "").replace(from, to)));
        assert_eq!(one("permit", "drop"), ["EXTA-04"]);
        assert_eq!(one("tcp", "sctp"), ["EXTA-04"]);
        assert_eq!(one("10.0.0.0/8", "10.0.0.0"), ["EXTA-04"]);
        // Fields the CRD requires are written empty by the webhook: the webhook's message.
        assert_eq!(one("      srcPrefix: any\n", ""), ["EXTA-04"]);
        let no_seq = "    - action: permit\n      protocol: ip\n      srcPrefix: any\n      dstPrefix: any\n";
        let p = check(&with_acl(no_seq));
        assert_eq!(p.iter().map(|p| p.rule.0).collect::<Vec<_>>(), ["EXTA-04"]);
        assert!(p[0]
            .upstream
            .as_deref()
            .unwrap_or_default()
            .contains("sequence number 0"));
        let extra = |rest: &str| errors(&with_acl(&stmt(10, rest)));
        assert_eq!(
            extra("      tcpFilters: {syn: true, notAck: true}\n"),
            Vec::<&str>::new()
        );
        assert_eq!(
            extra("      tcpFilters: {established: true, syn: true}\n"),
            ["EXTA-04"]
        );
        assert_eq!(
            extra("      tcpFilters: {syn: true, notSyn: true}\n"),
            ["EXTA-04"]
        );
        assert_eq!(extra("      icmpType: 0\n"), ["EXTA-04"]);
        assert_eq!(
            extra("      portRangeBegin: 80\n      portRangeEnd: 443\n"),
            Vec::<&str>::new()
        );
        assert_eq!(extra("      portRangeEnd: 80\n"), ["EXTA-04"]);
        assert_eq!(
            extra("      portRangeBegin: 90\n      portRangeEnd: 80\n"),
            ["EXTA-04"]
        );
        let icmp = |rest: &str| {
            errors(&with_acl(
                &stmt(10, rest).replace("protocol: tcp", "protocol: icmp"),
            ))
        };
        assert_eq!(
            icmp("      icmpType: 0\n      icmpCode: 0\n"),
            Vec::<&str>::new()
        );
        assert_eq!(icmp("      tcpFilters: {}\n"), ["EXTA-04"]);
        assert_eq!(
            icmp("      portRangeBegin: 1\n      portRangeEnd: 1\n"),
            ["EXTA-04"]
        );
    }

    #[test]
    fn the_external_exists_and_is_as_static_as_the_attachment() {
        let c = conn("border--ext", EXT_CONN);
        let a = attachment("a", BGP);
        assert!(errors_of(&run(&[BGP_EXT, &c, &a], true)).is_empty());
        assert_eq!(
            errors_of(&run(&[&c, &a], true)),
            [("doc1.yaml".to_string(), "EXTA-05")]
        );
        let partial = run(&[&c, &a], false);
        assert!(
            errors_of(&partial).is_empty() && partial.iter().any(|(_, p)| p.rule.0 == "EXTA-05")
        );
        let bgp_to_static = attachment("a", &BGP.replace("external: bgp", "external: st"));
        assert_eq!(
            errors_of(&run(&[STATIC_EXT, &c, &bgp_to_static], true)),
            [("doc2.yaml".to_string(), "EXTA-06")]
        );
        let static_to_bgp = attachment("a", &STATIC.replace("external: st", "external: bgp"));
        let found = run(&[BGP_EXT, &c, &static_to_bgp], true);
        assert_eq!(errors_of(&found), [("doc2.yaml".to_string(), "EXTA-06")]);
        let e = found
            .iter()
            .find(|(_, p)| p.rule.0 == "EXTA-06")
            .expect("EXTA-06");
        assert_eq!(e.1.path.to_string(), "spec.static");
        assert_eq!(
            e.1.see_also.as_ref().map(|s| s.object.as_str()),
            Some("External/bgp")
        );
    }

    #[test]
    fn the_connection_exists_and_is_external() {
        let a = attachment("a", BGP);
        assert_eq!(
            errors_of(&run(&[BGP_EXT, &a], true)),
            [("doc1.yaml".to_string(), "EXTA-07")]
        );
        assert!(errors_of(&run(&[BGP_EXT, &a], false)).is_empty());
        let unbundled = conn("border--ext", "  unbundled:\n    link:\n      server: {port: s/e1}\n      switch: {port: border/E1/5}\n");
        assert_eq!(
            errors_of(&run(&[BGP_EXT, &unbundled, &a], true)),
            [("doc2.yaml".to_string(), "EXTA-07")]
        );
        // Static attachments go on `external` connections too.
        let s = attachment("a", STATIC);
        assert!(errors_of(&run(
            &[STATIC_EXT, &conn("border--ext", EXT_CONN), &s],
            true
        ))
        .is_empty());
    }

    #[test]
    fn one_vlan_per_connection() {
        let c = conn("border--ext", EXT_CONN);
        let a = attachment("a", BGP);
        let b = attachment("b", &BGP.replace("100.100.0.1/24", "100.100.1.1/24"));
        let found = run(&[BGP_EXT, &c, &a, &b], true);
        assert_eq!(
            errors_of(&found),
            [
                ("doc2.yaml".to_string(), "EXTA-08"),
                ("doc3.yaml".to_string(), "EXTA-08")
            ]
        );
        let e = found.iter().find(|(f, _)| f == "doc2.yaml").expect("doc2");
        assert_eq!(e.1.path.to_string(), "spec.switch.vlan");
        assert_eq!(
            e.1.see_also
                .as_ref()
                .map(|s| (s.object.as_str(), s.pos.line)),
            Some(("ExternalAttachment/b", 13))
        );
        let other_vlan = attachment("b", &BGP.replace("vlan: 100", "vlan: 101"));
        assert!(errors_of(&run(&[BGP_EXT, &c, &a, &other_vlan], true)).is_empty());
        // Without a VLAN both are VLAN 0: a clash too.
        let s1 = attachment("s1", &STATIC.replace("    vlan: 35\n", ""));
        let s2 = attachment(
            "s2",
            &STATIC
                .replace("    vlan: 35\n", "")
                .replace(".5/24", ".6/24"),
        );
        assert_eq!(errors_of(&run(&[STATIC_EXT, &c, &s1, &s2], true)).len(), 2);
    }

    /// The corpus index ran the CRD schema on the raw document and failed it (no `switch:`,
    /// no `neighbor:`); the cluster defaults them first and accepts it (RULES.md C1).
    #[test]
    fn the_docs_static_attachment_is_valid_once_defaulted() {
        let file = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../shared/corpus/real/docs__docs__user-guide__external.md__L422-L432.yaml");
        let text = std::fs::read_to_string(file).expect("the corpus file");
        assert!(!text.contains("switch:") && !text.contains("neighbor:"));
        assert_eq!(errors(&text), Vec::<&str>::new());
    }

    #[test]
    fn real_attachments_pass() {
        let docs = real_schema_ok(&["ExternalAttachment"]);
        assert!(docs.len() >= 2, "{}", docs.len());
        for (file, _, problems) in docs {
            let errors: Vec<&Problem> = problems.iter().filter(|p| p.is_error()).collect();
            assert!(errors.is_empty(), "{file}: {errors:?}");
        }
    }
}
