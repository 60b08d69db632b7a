//! Each update and delete rule with a valid and an invalid change, through the batch check as
//! `validate` and `ingest` run it: managed/ as committed (HEAD), managed/ as it is now, and
//! raw/ files about to be ingested.

use std::collections::{BTreeMap, HashSet};

use crate::discover::Format;
use crate::validate::analyze::{analyze_with, FileAnalysis};
use crate::validate::batch::check_with;
use crate::validate::change::Before;
use crate::validate::{Problem, Settings, Validator};

fn validator() -> Validator {
    Validator::new(Settings::default()).expect("shipped CRDs load")
}

/// What the check found: (file, problem) for every UPD or DEL problem, and the refused
/// incoming files.
struct Found {
    problems: Vec<(String, Problem)>,
    refused: HashSet<String>,
}

impl Found {
    fn rules(&self) -> Vec<(&str, &'static str)> {
        let mut v: Vec<(&str, &'static str)> = self
            .problems
            .iter()
            .map(|(f, p)| (f.as_str(), p.rule.0))
            .collect();
        v.sort();
        v
    }
    fn one(&self, rule: &str) -> &(String, Problem) {
        let all: Vec<&(String, Problem)> = self
            .problems
            .iter()
            .filter(|(_, p)| p.rule.0 == rule)
            .collect();
        assert_eq!(all.len(), 1, "one {rule}: {:#?}", self.problems);
        all[0]
    }
}

fn analyse(v: &Validator, prefix: &str, files: &[(&str, String)]) -> Vec<FileAnalysis> {
    files
        .iter()
        .map(|(p, t)| {
            analyze_with(
                &format!("{prefix}{p}"),
                t.as_bytes().to_vec(),
                Format::Yaml,
                &Default::default(),
                v,
            )
        })
        .collect()
}

/// `head`: managed/ as committed; `now`: managed/ in the working copy; `raw`: raw/ files.
/// Paths are relative to managed/ (or raw/).
fn run(head: &[(&str, String)], now: &[(&str, String)], raw: &[(&str, String)]) -> Found {
    let mut found = run_all(head, now, raw);
    found
        .problems
        .retain(|(_, p)| p.rule.0.starts_with("UPD") || p.rule.0.starts_with("DEL"));
    found
}

/// `run`, with every problem of the batch check (not only UPD and DEL).
fn run_all(head: &[(&str, String)], now: &[(&str, String)], raw: &[(&str, String)]) -> Found {
    run_in(&validator(), head, now, raw)
}

/// `run_all` with validator `v` (its settings).
fn run_in(
    v: &Validator,
    head: &[(&str, String)],
    now: &[(&str, String)],
    raw: &[(&str, String)],
) -> Found {
    let h: BTreeMap<&str, &String> = head.iter().map(|(p, t)| (*p, t)).collect();
    let n: BTreeMap<&str, &String> = now.iter().map(|(p, t)| (*p, t)).collect();
    let touched: Vec<(String, Option<Vec<u8>>)> = h
        .keys()
        .chain(n.keys())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .filter(|p| h.get(*p) != n.get(*p))
        .map(|p| {
            (
                format!("managed/{p}"),
                h.get(p).map(|t| t.as_bytes().to_vec()),
            )
        })
        .collect();
    let before = Before::new("HEAD".into(), touched, "managed/", &Default::default(), v);
    let managed = analyse(v, "managed/", now);
    let incoming = analyse(v, "raw/", raw);
    let outcome = check_with(v, &incoming, &managed, Some(&before));
    let name = |side: &[FileAnalysis], fi: usize| side[fi].rel.clone();
    let mut problems = Vec::new();
    for ((fi, _), ps) in &outcome.incoming {
        for p in ps {
            problems.push((name(&incoming, *fi), p.clone()));
        }
    }
    for ((fi, _), ps) in &outcome.managed {
        for p in ps {
            problems.push((name(&managed, *fi), p.clone()));
        }
    }
    let refused = outcome
        .refused
        .iter()
        .map(|(fi, _)| name(&incoming, *fi))
        .collect();
    Found { problems, refused }
}

/// The same files committed and in the working copy.
fn same(files: &[(&'static str, String)]) -> Vec<(&'static str, String)> {
    files.to_vec()
}

fn obj(api: &str, kind: &str, name: &str, spec: &str) -> String {
    format!("apiVersion: {api}\nkind: {kind}\nmetadata:\n  name: {name}\nspec:\n{spec}")
}

const VPC_API: &str = "vpc.githedgehog.com/v1beta1";
const WIRING: &str = "wiring.githedgehog.com/v1beta1";

fn vpc(name: &str, subnet: &str, vlan: u16) -> String {
    obj(
        VPC_API,
        "VPC",
        name,
        &format!("  subnets:\n    default:\n      subnet: {subnet}\n      vlan: {vlan}\n"),
    )
}

fn attachment(name: &str, subnet: &str, conn: &str) -> String {
    obj(
        VPC_API,
        "VPCAttachment",
        name,
        &format!("  subnet: {subnet}\n  connection: {conn}\n"),
    )
}

fn unbundled(name: &str, switch: &str, server: &str) -> String {
    obj(
        WIRING,
        "Connection",
        name,
        &format!("  unbundled:\n    link:\n      server:\n        port: {server}/enp2s1\n      switch:\n        port: {switch}/E1/1\n"),
    )
}

fn bundled(name: &str, switch: &str, server: &str) -> String {
    obj(
        WIRING,
        "Connection",
        name,
        &format!("  bundled:\n    links:\n    - server:\n        port: {server}/enp2s1\n      switch:\n        port: {switch}/E1/1\n    - server:\n        port: {server}/enp2s2\n      switch:\n        port: {switch}/E1/2\n"),
    )
}

fn mclag(name: &str, switch: &str, server: &str) -> String {
    obj(
        WIRING,
        "Connection",
        name,
        &format!("  mclag:\n    links:\n    - server:\n        port: {server}/enp2s1\n      switch:\n        port: {switch}/E1/1\n    - server:\n        port: {server}/enp2s2\n      switch:\n        port: {switch}-b/E1/1\n"),
    )
}

fn static_external(within: &str) -> String {
    let within = if within.is_empty() {
        String::new()
    } else {
        format!("    withinVPC: {within}\n")
    };
    obj(
        WIRING,
        "Connection",
        "se",
        &format!("  staticExternal:\n    link:\n      switch:\n        port: leaf-1/E1/7\n        ip: 172.31.255.1/24\n        nextHop: 172.31.255.5\n        subnets: [10.99.0.0/16]\n{within}"),
    )
}

fn leaf(extra: &str) -> String {
    obj(
        WIRING,
        "Switch",
        "leaf-1",
        &format!("  role: server-leaf\n  profile: dell-s5248f-on\n  asn: 65101\n  ip: 172.30.0.10/21\n  protocolIP: 172.30.8.10/32\n  vtepIP: 172.30.12.10/32\n{extra}"),
    )
}

fn server(name: &str) -> String {
    obj(WIRING, "Server", name, "  {}\n").replace("spec:\n  {}\n", "spec: {}\n")
}

fn ipns(name: &str, subnets: &str) -> String {
    obj(
        VPC_API,
        "IPv4Namespace",
        name,
        &format!("  subnets: [{subnets}]\n"),
    )
}

fn vlanns(name: &str, from: u16, to: u16) -> String {
    obj(
        WIRING,
        "VLANNamespace",
        name,
        &format!("  ranges:\n  - from: {from}\n    to: {to}\n"),
    )
}

const EXT: &str = "apiVersion: vpc.githedgehog.com/v1beta1\nkind: External\nmetadata:\n  name: bgp\nspec:\n  inboundCommunity: 65102:5000\n";

fn ext_attachment() -> String {
    obj(
        VPC_API,
        "ExternalAttachment",
        "bgp-att",
        "  connection: border--ext\n  external: bgp\n  neighbor:\n    asn: 65102\n    ip: 100.100.0.6\n  switch:\n    ip: 100.100.0.1/24\n    vlan: 100\n",
    )
}

fn ext_peering() -> String {
    obj(
        VPC_API,
        "ExternalPeering",
        "web--bgp",
        "  permit:\n    vpc:\n      name: web\n      subnets: [default]\n    external:\n      name: bgp\n      prefixes:\n      - prefix: 0.0.0.0/0\n",
    )
}

fn peering() -> String {
    obj(
        VPC_API,
        "VPCPeering",
        "web--db",
        "  permit:\n  - web: {}\n    db: {}\n",
    )
}

#[test]
fn an_unchanged_fabric_has_nothing_to_say() {
    let files = same(&[
        ("vpcs/web.yaml", vpc("web", "10.0.1.0/24", 1001)),
        ("connections/c.yaml", unbundled("c", "leaf-1", "srv-1")),
        ("vpcattachments/a.yaml", attachment("a", "web/default", "c")),
    ]);
    assert_eq!(run(&files, &files, &[]).rules(), []);
}

#[test]
fn upd_01_a_connection_keeps_its_type() {
    let head = [("connections/c.yaml", unbundled("c", "leaf-1", "srv-1"))];
    // Another port, same type: fine.
    let moved = unbundled("c", "leaf-1", "srv-1").replace("E1/1", "E1/3");
    assert_eq!(
        run(&head, &[("connections/c.yaml", moved)], &[]).rules(),
        []
    );
    // Bundled now, by a hand edit in managed/: an error there, naming the old type.
    let now = [("connections/c.yaml", bundled("c", "leaf-1", "srv-1"))];
    let found = run(&head, &now, &[]);
    let (file, p) = found.one("UPD-01");
    assert_eq!(file, "managed/connections/c.yaml");
    assert!(
        p.message
            .contains("bundled here but unbundled in HEAD:managed/connections/c.yaml"),
        "{}",
        p.message
    );
    assert_eq!(p.upstream.as_deref(), Some("connection type is immutable"));
    assert_eq!(p.path.to_string(), "spec.bundled");
    assert_eq!((p.pos.line, p.pos.column), (6, 3), "at the type's key");
    let see = p.see_also.as_ref().expect("the old version");
    assert_eq!(see.file, "HEAD:managed/connections/c.yaml");
    assert_eq!(see.pos.line, 6);
    // From raw/: refused, as any cross-object error of an incoming object.
    let found = run(&head, &head, &[("c.yaml", bundled("c", "leaf-1", "srv-1"))]);
    assert_eq!(found.rules(), [("raw/c.yaml", "UPD-01")]);
    assert!(found.refused.contains("raw/c.yaml"));
    // MCLAG has no type to the webhook; neither has a connection with none: no change.
    let m = [("connections/c.yaml", mclag("c", "leaf-1", "srv-1"))];
    let both_mclag = mclag("c", "leaf-1", "srv-1").replace("mclag:", "mclagDomain:");
    assert_eq!(
        run(&m, &[("connections/c.yaml", both_mclag)], &[]).rules(),
        []
    );
    let to_eslag = mclag("c", "leaf-1", "srv-1").replace("mclag:", "eslag:");
    let found = run(&m, &[("connections/c.yaml", to_eslag)], &[]);
    assert!(
        found
            .one("UPD-01")
            .1
            .message
            .contains("eslag here but mclag"),
        "{:?}",
        found.problems
    );
}

#[test]
fn upd_02_a_static_external_keeps_its_vpc() {
    let head = [
        ("vpcs/web.yaml", vpc("web", "10.0.1.0/24", 1001)),
        ("vpcs/db.yaml", vpc("db", "10.0.2.0/24", 1002)),
        ("connections/se.yaml", static_external("web")),
    ];
    let mut now = head.to_vec();
    now[2].1 = static_external("web").replace("nextHop: 172.31.255.5", "nextHop: 172.31.255.6");
    assert_eq!(run(&head, &now, &[]).rules(), []);
    now[2].1 = static_external("db");
    let found = run(&head, &now, &[]);
    let (_, p) = found.one("UPD-02");
    assert!(
        p.message.contains("\"db\" here but \"web\""),
        "{}",
        p.message
    );
    assert_eq!(
        p.upstream.as_deref(),
        Some("StaticExternal.WithinVPC is immutable")
    );
    assert_eq!(p.path.to_string(), "spec.staticExternal.withinVPC");
    // Dropping it is a change too.
    now[2].1 = static_external("");
    let found = run(&head, &now, &[]);
    let p = &found.one("UPD-02").1;
    assert!(p.message.contains("\"\" here but \"web\""), "{}", p.message);
    assert_eq!(p.path.to_string(), "spec.staticExternal");
}

#[test]
fn upd_03_breakouts_stay_while_roce_is_on() {
    let off = leaf("  portBreakouts:\n    E1/55: 4x25G\n");
    let on = leaf("  roce: true\n  portBreakouts:\n    E1/55: 4x25G\n");
    let file = |t: &str| [("switches/leaf-1.yaml", t.to_string())];
    // RoCE off in both: breakouts change freely; roce alone changes freely.
    assert_eq!(
        run(&file(&off), &file(&off.replace("4x25G", "1x100G")), &[]).rules(),
        []
    );
    assert_eq!(run(&file(&off), &file(&on), &[]).rules(), []);
    // On before, or on after: refused, at the changed port.
    let found = run(&file(&on), &file(&on.replace("4x25G", "1x100G")), &[]);
    let (_, p) = found.one("UPD-03");
    assert!(
        p.message.contains("E1/55 4x25G → 1x100G") && p.message.contains("on in both"),
        "{}",
        p.message
    );
    assert_eq!(p.path.to_string(), "spec.portBreakouts[\"E1/55\"]");
    assert_eq!(
        p.upstream.as_deref(),
        Some("port breakouts cannot be changed when RoCEv2 is enabled")
    );
    let found = run(&file(&off), &file(&on.replace("4x25G", "1x100G")), &[]);
    assert!(found
        .one("UPD-03")
        .1
        .message
        .contains("off in HEAD, on here"));
    let found = run(
        &file(&on),
        &file(&off.replace("    E1/55: 4x25G\n", "    E1/56: 2x50G\n")),
        &[],
    );
    let p = &found.one("UPD-03").1;
    assert!(
        p.message.contains("E1/55 4x25G removed, E1/56 2x50G added"),
        "{}",
        p.message
    );
}

#[test]
fn upd_04_a_namespace_keeps_the_vpcs_the_cluster_has() {
    let head = [
        ("ipv4namespaces/ns.yaml", ipns("ns", "10.0.0.0/16")),
        (
            "vpcs/web.yaml",
            vpc("web", "10.0.1.0/24", 1001)
                .replace("  subnets:", "  ipv4Namespace: ns\n  subnets:"),
        ),
    ];
    // Wider, or narrower around the VPC: fine.
    let mut now = head.to_vec();
    now[0].1 = ipns("ns", "10.0.0.0/8");
    assert_eq!(run(&head, &now, &[]).rules(), []);
    now[0].1 = ipns("ns", "10.0.1.0/24");
    assert_eq!(run(&head, &now, &[]).rules(), []);
    // Away from the VPC: the namespace's update is refused (VPC-23 says the VPC's side).
    now[0].1 = ipns("ns", "10.1.0.0/16");
    let found = run(&head, &now, &[]);
    let (file, p) = found.one("UPD-04");
    assert_eq!(file, "managed/ipv4namespaces/ns.yaml");
    assert_eq!(p.path.to_string(), "spec.subnets");
    assert_eq!(
        p.upstream.as_deref(),
        Some(
            "existing vpc web subnet default (cidr 10.0.1.0/24) doesn't fit updated IPv4 namespace"
        )
    );
    assert!(p.message.contains("VPC-23 reports"), "{}", p.message);
    assert_eq!(
        p.see_also.as_ref().map(|s| s.file.as_str()),
        Some("managed/vpcs/web.yaml")
    );
    // The VPC moves along in the same change: VPC-23 is content, the cluster is not (it
    // checks against the VPC it has).
    now[1].1 = head[1].1.replace("10.0.1.0/24", "10.1.1.0/24");
    let found = run(&head, &now, &[]);
    let p = &found.one("UPD-04").1;
    assert!(
        p.message.contains("push the VPC's change first"),
        "{}",
        p.message
    );
    // From raw/: the namespace is refused, managed/ stays as it is.
    let found = run(&head, &head, &[("ns.yaml", ipns("ns", "10.1.0.0/16"))]);
    assert_eq!(found.rules(), [("raw/ns.yaml", "UPD-04")]);
    assert!(found.refused.contains("raw/ns.yaml"));
}

#[test]
fn upd_05_vlan_ranges_keep_the_vpcs_picked_by_the_ipv4_namespace_name() {
    let head = [
        ("vlannamespaces/default.yaml", vlanns("default", 1000, 2999)),
        ("vpcs/web.yaml", vpc("web", "10.0.1.0/24", 1001)),
    ];
    let mut now = head.to_vec();
    now[0].1 = vlanns("default", 1000, 1999);
    assert_eq!(run(&head, &now, &[]).rules(), []);
    now[0].1 = vlanns("default", 2000, 2999);
    let found = run(&head, &now, &[]);
    let (_, p) = found.one("UPD-05");
    assert_eq!(p.path.to_string(), "spec.ranges");
    assert_eq!(
        p.upstream.as_deref(),
        Some("existing vpc web subnet default (vlan 1001) doesn't fit updated VLAN namespace")
    );
    // Q5: a VPC of another VLAN namespace, whose IPv4 namespace has this one's name, is
    // checked too; one of this VLAN namespace in another IPv4 namespace is not.
    let other = [
        ("vlannamespaces/default.yaml", vlanns("default", 1000, 2999)),
        (
            "vpcs/web.yaml",
            vpc("web", "10.0.1.0/24", 3001)
                .replace("  subnets:", "  vlanNamespace: other\n  subnets:"),
        ),
        (
            "vpcs/db.yaml",
            vpc("db", "10.0.2.0/24", 1002).replace("  subnets:", "  ipv4Namespace: ns\n  subnets:"),
        ),
    ];
    let mut now = other.to_vec();
    now[0].1 = vlanns("default", 2000, 2999);
    let found = run(&other, &now, &[]);
    let p = &found.one("UPD-05").1;
    assert!(
        p.upstream
            .as_deref()
            .unwrap_or("")
            .contains("existing vpc web subnet default (vlan 3001)"),
        "{p:?}"
    );
    assert!(p.message.contains("Q5"), "{}", p.message);
    // A hostBGP subnet has VLAN 0, which no range holds.
    let hbgp = [
        ("vlannamespaces/default.yaml", vlanns("default", 1000, 2999)),
        (
            "vpcs/h.yaml",
            obj(
                VPC_API,
                "VPC",
                "h",
                "  subnets:\n    bgp:\n      subnet: 10.0.9.0/24\n      hostBGP: true\n",
            ),
        ),
    ];
    let mut now = hbgp.to_vec();
    now[0].1 = vlanns("default", 1000, 3999);
    let found = run(&hbgp, &now, &[]);
    let p = &found.one("UPD-05").1;
    assert!(
        p.message.contains("hostBGP") && p.message.contains("VLAN 0"),
        "{}",
        p.message
    );
}

#[test]
fn upd_06_and_del_07_are_moot_switch_profiles_are_never_managed() {
    let profile = obj(WIRING, "SwitchProfile", "vs", "  displayName: VS\n");
    let v = validator();
    let a = analyse(&v, "raw/", &[("p.yaml", profile)]);
    assert!(
        !matches!(
            a[0].docs()[0].verdict,
            crate::validate::analyze::DocVerdict::Managed { .. }
        ),
        "GEN-10 refuses a SwitchProfile"
    );
    for id in ["UPD-06", "DEL-07"] {
        let info = crate::validate::rules::lookup(id).expect("in the catalogue");
        assert_eq!(info.needs, crate::validate::rules::Need::RefusedKind);
    }
}

/// A fabric with every kind of reference, committed.
fn wired() -> Vec<(&'static str, String)> {
    vec![
        ("ipv4namespaces/ns.yaml", ipns("ns", "10.0.0.0/8")),
        ("vlannamespaces/vns.yaml", vlanns("vns", 1000, 2999)),
        (
            "vpcs/web.yaml",
            vpc("web", "10.0.1.0/24", 1001).replace(
                "  subnets:",
                "  ipv4Namespace: ns\n  vlanNamespace: vns\n  subnets:",
            ),
        ),
        (
            "vpcs/db.yaml",
            vpc("db", "10.0.2.0/24", 1002).replace(
                "  subnets:",
                "  ipv4Namespace: ns\n  vlanNamespace: vns\n  subnets:",
            ),
        ),
        ("switches/leaf-1.yaml", leaf("  vlanNamespaces: [vns]\n")),
        ("servers/srv-1.yaml", server("srv-1")),
        ("connections/c.yaml", unbundled("c", "leaf-1", "srv-1")),
        ("connections/se.yaml", static_external("web")),
        ("vpcattachments/a.yaml", attachment("a", "web/default", "c")),
        ("vpcpeerings/web--db.yaml", peering()),
        (
            "externals/bgp.yaml",
            EXT.replace("spec:\n", "spec:\n  ipv4Namespace: ns\n"),
        ),
        ("externalattachments/bgp-att.yaml", ext_attachment()),
        ("externalpeerings/web--bgp.yaml", ext_peering()),
    ]
}

fn without(files: &[(&'static str, String)], gone: &[&str]) -> Vec<(&'static str, String)> {
    files
        .iter()
        .filter(|(p, _)| !gone.contains(p))
        .cloned()
        .collect()
}

#[test]
fn del_01_a_vpc_with_attachments_peerings_or_static_externals() {
    let head = wired();
    // Deleted with everything that references it: fine.
    let clean = without(
        &head,
        &[
            "vpcs/web.yaml",
            "vpcattachments/a.yaml",
            "vpcpeerings/web--db.yaml",
            "externalpeerings/web--bgp.yaml",
            "connections/se.yaml",
        ],
    );
    assert_eq!(run(&head, &clean, &[]).rules(), []);
    let found = run(&head, &without(&head, &["vpcs/web.yaml"]), &[]);
    assert_eq!(
        found.rules(),
        [
            ("managed/connections/se.yaml", "DEL-01"),
            ("managed/externalpeerings/web--bgp.yaml", "DEL-01"),
            ("managed/vpcattachments/a.yaml", "DEL-01"),
            ("managed/vpcpeerings/web--db.yaml", "DEL-01"),
        ]
    );
    let upstream: HashSet<&str> = found
        .problems
        .iter()
        .filter_map(|(_, p)| p.upstream.as_deref())
        .collect();
    assert_eq!(
        upstream,
        HashSet::from([
            "VPC has attachments",
            "VPC has peerings",
            "VPC has external peerings",
            "VPC has static external connections (using withingVPC option)",
        ])
    );
    let (_, p) = found
        .problems
        .iter()
        .find(|(f, _)| f == "managed/vpcattachments/a.yaml")
        .expect("the attachment");
    assert_eq!(p.path.to_string(), "spec.subnet");
    assert!(
        p.message
            .starts_with("VPC/web is gone from the fabric (HEAD:managed/vpcs/web.yaml has it)"),
        "{}",
        p.message
    );
    let see = p.see_also.as_ref().expect("where HEAD has it");
    assert_eq!(
        (see.file.as_str(), see.object.as_str(), see.pos.line),
        ("HEAD:managed/vpcs/web.yaml", "VPC/web", 1)
    );
}

#[test]
fn del_02_to_06_each_kind_of_reference_blocks_its_delete() {
    let head = wired();
    let cases: [(&str, &[(&str, &str)]); 6] = [
        (
            "ipv4namespaces/ns.yaml",
            &[
                ("managed/externals/bgp.yaml", "DEL-02"),
                ("managed/vpcs/db.yaml", "DEL-02"),
                ("managed/vpcs/web.yaml", "DEL-02"),
            ],
        ),
        (
            "vlannamespaces/vns.yaml",
            &[
                ("managed/switches/leaf-1.yaml", "DEL-03"),
                ("managed/vpcs/db.yaml", "DEL-03"),
                ("managed/vpcs/web.yaml", "DEL-03"),
            ],
        ),
        (
            "externals/bgp.yaml",
            &[
                ("managed/externalattachments/bgp-att.yaml", "DEL-04"),
                ("managed/externalpeerings/web--bgp.yaml", "DEL-04"),
            ],
        ),
        (
            "connections/c.yaml",
            &[("managed/vpcattachments/a.yaml", "DEL-05")],
        ),
        (
            "switches/leaf-1.yaml",
            &[
                ("managed/connections/c.yaml", "DEL-06"),
                ("managed/connections/se.yaml", "DEL-06"),
            ],
        ),
        (
            "servers/srv-1.yaml",
            &[("managed/connections/c.yaml", "DEL-06")],
        ),
    ];
    for (gone, want) in cases {
        let found = run(&head, &without(&head, &[gone]), &[]);
        assert_eq!(found.rules(), want.to_vec(), "deleting {gone}");
    }
    // An external attachment's connection: "connection has external attachments".
    let ext_conn = obj(
        WIRING,
        "Connection",
        "border--ext",
        "  external:\n    link:\n      switch: {port: leaf-1/E1/5}\n",
    );
    let mut with = head.clone();
    with.push(("connections/border--ext.yaml", ext_conn));
    let found = run(
        &with,
        &without(&with, &["connections/border--ext.yaml"]),
        &[],
    );
    let (file, p) = found.one("DEL-05");
    assert_eq!(file, "managed/externalattachments/bgp-att.yaml");
    assert_eq!(
        p.upstream.as_deref(),
        Some("connection has external attachments")
    );
}

#[test]
fn del_06_mclag_connections_carry_no_labels_and_block_nothing() {
    let head = vec![
        ("switches/leaf-1.yaml", leaf("")),
        ("servers/srv-1.yaml", server("srv-1")),
        ("connections/m.yaml", mclag("m", "leaf-1", "srv-1")),
    ];
    let now = without(&head, &["switches/leaf-1.yaml", "servers/srv-1.yaml"]);
    assert_eq!(run(&head, &now, &[]).rules(), []);
}

#[test]
fn a_delete_by_refusal_counts_and_never_refuses_the_referrer() {
    // The VPC's managed file went to raw/ for an edit the cluster refuses (a /31 subnet,
    // VPC-07): refused, the VPC is gone from the fabric, and the attachment in managed/ says
    // so. A new attachment from raw/ that names it is not refused for it.
    let head = vec![
        ("vpcs/web.yaml", vpc("web", "10.0.1.0/24", 1001)),
        ("vpcattachments/a.yaml", attachment("a", "web/default", "c")),
    ];
    let now = without(&head, &["vpcs/web.yaml"]);
    let raw = [
        (
            "web.yaml",
            vpc("web", "10.0.1.0/24", 1001).replace("10.0.1.0/24", "10.0.1.0/31"),
        ),
        ("b.yaml", attachment("b", "web/default", "c2")),
    ];
    let found = run(&head, &now, &raw);
    assert_eq!(
        found.rules(),
        [
            ("managed/vpcattachments/a.yaml", "DEL-01"),
            ("raw/b.yaml", "DEL-01")
        ]
    );
    assert!(!found.refused.contains("raw/b.yaml"), "{:?}", found.refused);
}

/// A refused delete is one answer on the referrer: DEL-01, and no "must already exist" about
/// the same reference (the cluster keeps the VPC). A delete nothing refuses leaves a reference
/// to nothing, said as such.
#[test]
fn a_refused_delete_is_not_also_a_missing_reference() {
    let head = same(&[
        ("vpcs/web.yaml", vpc("web", "10.0.1.0/24", 1001)),
        ("vpcs/db.yaml", vpc("db", "10.0.2.0/24", 1002)),
        ("vpcattachments/a.yaml", attachment("a", "web/default", "c")),
        ("connections/c.yaml", unbundled("c", "leaf-1", "srv-1")),
        ("switches/leaf-1.yaml", leaf("")),
        ("servers/srv-1.yaml", server("srv-1")),
    ]);
    let found = run_all(&head, &without(&head, &["vpcs/web.yaml"]), &[]);
    let on_a: Vec<&str> = found
        .problems
        .iter()
        .filter(|(f, _)| f == "managed/vpcattachments/a.yaml")
        .map(|(_, p)| p.rule.0)
        .collect();
    assert_eq!(on_a, ["DEL-01"], "{:#?}", found.problems);
    // With DEL-01 skipped, nothing says the delete is refused: the reference is reported as
    // any missing one is.
    let mut settings = Settings::default();
    settings.skip.insert(crate::validate::RuleId("DEL-01"));
    let v = Validator::new(settings).expect("shipped CRDs load");
    let found = run_in(&v, &head, &without(&head, &["vpcs/web.yaml"]), &[]);
    let on_a: Vec<(&str, bool)> = found
        .problems
        .iter()
        .filter(|(f, _)| f == "managed/vpcattachments/a.yaml")
        .map(|(_, p)| (p.rule.0, p.is_error()))
        .collect();
    assert_eq!(on_a, [("VPCA-04", false)], "{:#?}", found.problems);
    // The attachment goes too: the VPC's delete goes through, and nothing else names it.
    let found = run_all(
        &head,
        &without(&head, &["vpcs/web.yaml", "vpcattachments/a.yaml"]),
        &[],
    );
    assert!(found.problems.is_empty(), "{:#?}", found.problems);
    // db is deleted while an attachment raw/ brings names it: that refuses the delete too,
    // and the new attachment hears it once.
    let found = run_all(
        &head,
        &without(&head, &["vpcs/db.yaml"]),
        &[("b.yaml", attachment("b", "db/default", "c"))],
    );
    let b: Vec<(&str, bool, bool)> = found
        .problems
        .iter()
        .filter(|(f, _)| f == "raw/b.yaml")
        .map(|(_, p)| (p.rule.0, p.is_error(), p.see_also.is_some()))
        .collect();
    assert_eq!(b, [("DEL-01", true, true)], "{:#?}", found.problems);
}
