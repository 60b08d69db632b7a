use crate::validate::rules::switch::tests::{leaf, VNS};
use crate::validate::rules::testkit::{check, errors, fabric, fabric_in, validator_with};

fn conn(name: &str, spec: &str) -> String {
    format!("apiVersion: wiring.githedgehog.com/v1beta1\nkind: Connection\nmetadata:\n  name: {name}\nspec:\n{spec}")
}

fn unbundled(name: &str, switch: &str, server: &str, extra: &str) -> String {
    conn(
        name,
        &format!("  unbundled:\n    link:\n      server:\n        port: {server}\n      switch:\n        port: {switch}\n{extra}"),
    )
}

/// `links` of server-to-switch links (bundled, eslag, mclag), as (switch, server) ports.
fn links(kind: &str, name: &str, pairs: &[(&str, &str)]) -> String {
    let body: String = pairs
        .iter()
        .map(|(sw, srv)| {
            format!("    - server:\n        port: {srv}\n      switch:\n        port: {sw}\n")
        })
        .collect();
    conn(name, &format!("  {kind}:\n    links:\n{body}"))
}

/// Links with IPs (fabric: spine/leaf, mesh: leaf1/leaf2, gateway: switch/gateway).
fn ip_links(kind: &str, sides: [&str; 2], name: &str, list: &[(&str, &str, &str, &str)]) -> String {
    let body: String = list
        .iter()
        .map(|(p1, ip1, p2, ip2)| {
            let ip = |ip: &str| {
                if ip.is_empty() {
                    String::new()
                } else {
                    format!("        ip: {ip}\n")
                }
            };
            format!(
                "    - {}:\n        port: {p1}\n{}      {}:\n        port: {p2}\n{}",
                sides[0],
                ip(ip1),
                sides[1],
                ip(ip2)
            )
        })
        .collect();
    conn(name, &format!("  {kind}:\n    links:\n{body}"))
}

fn fabric_link(name: &str, list: &[(&str, &str, &str, &str)]) -> String {
    ip_links("fabric", ["spine", "leaf"], name, list)
}

fn server(name: &str) -> String {
    format!("apiVersion: wiring.githedgehog.com/v1beta1\nkind: Server\nmetadata:\n  name: {name}\nspec: {{}}\n")
}

fn static_external(ip: &str, hop: &str, subnets: &str) -> String {
    conn(
        "se",
        &format!("  staticExternal:\n    link:\n      switch:\n        port: leaf-01/E1/7\n        ip: {ip}\n        nextHop: {hop}\n        subnets: {subnets}\n"),
    )
}

fn none() -> Vec<&'static str> {
    Vec::new()
}

/// (file, rule) of the CONN errors of a fabric.
fn conn_errors(docs: &[&str], whole: bool) -> Vec<(String, &'static str)> {
    let mut out: Vec<(String, &str)> = fabric(docs, whole)
        .into_iter()
        .filter(|(_, p)| p.is_error() && p.rule.0.starts_with("CONN"))
        .map(|(f, p)| (f, p.rule.0))
        .collect();
    out.sort();
    out
}

fn at(file: &str, rule: &'static str) -> (String, &'static str) {
    (file.to_string(), rule)
}

#[test]
fn every_type_written_well_is_valid() {
    assert_eq!(
        errors(&unbundled(
            "c",
            "leaf-01/E1/1",
            "server-01/enp2s1",
            "    mtu: 9036\n"
        )),
        none()
    );
    assert_eq!(
        errors(&links(
            "bundled",
            "c",
            &[("leaf-01/E1/1", "s1/enp2s1"), ("leaf-01/E1/2", "s1/enp2s2")]
        )),
        none()
    );
    assert_eq!(
        errors(&fabric_link(
            "c",
            &[(
                "spine-01/E1/1",
                "172.30.128.0/31",
                "leaf-01/E1/49",
                "172.30.128.1/31"
            )]
        )),
        none()
    );
    assert_eq!(
        errors(&ip_links(
            "mesh",
            ["leaf1", "leaf2"],
            "c",
            &[(
                "leaf-01/E1/50",
                "172.30.128.2/31",
                "leaf-02/E1/50",
                "172.30.128.3/31"
            )]
        )),
        none()
    );
    assert_eq!(
        errors(&ip_links(
            "gateway",
            ["switch", "gateway"],
            "c",
            &[(
                "spine-01/E1/5",
                "172.30.128.4/31",
                "gw-1/enp2s1",
                "172.30.128.5/31"
            )]
        )),
        none()
    );
    let loopback = conn("c", "  vpcLoopback:\n    links:\n    - switch1:\n        port: leaf-01/E1/10\n      switch2:\n        port: leaf-01/E1/11\n");
    assert_eq!(errors(&loopback), none());
    assert_eq!(
        errors(&conn(
            "c",
            "  external:\n    link:\n      switch:\n        port: leaf-01/E1/6\n"
        )),
        none()
    );
    assert_eq!(
        errors(&static_external(
            "10.99.0.1/24",
            "10.99.0.2",
            "[10.200.0.0/16, 10.201.0.0/24]"
        )),
        none()
    );
    assert_eq!(
        errors(&static_external("10.99.0.1/24", "10.99.0.2", "[0.0.0.0/0]")),
        none()
    );
}

#[test]
fn one_type_counts_and_none_is_refused() {
    // A type key with no value is pruned: no type at all.
    let p = check(&conn("c", "  external:\n"));
    let c01: Vec<_> = p.iter().filter(|p| p.rule.0 == "CONN-01").collect();
    assert_eq!(c01.len(), 1, "{p:?}");
    assert!(c01[0].is_error());
    // Default() labels it `<invalid>`: the API server's label check answers first.
    assert!(c01[0]
        .upstream
        .as_deref()
        .unwrap()
        .starts_with("metadata.labels: Invalid value: \"<invalid>\""));
    // A second type is ignored: a warning, and only the first is checked (Q2).
    let two = conn(
        "c",
        "  unbundled:\n    link:\n      server:\n        port: s1/enp2s1\n      switch:\n        port: leaf-01/E1/2\n  external:\n    link:\n      switch:\n        port: E1/1\n",
    );
    let p = check(&two);
    assert!(p.iter().all(|p| !p.is_error()), "{p:?}");
    assert!(p.iter().any(|p| p.rule.0 == "CONN-01"), "{p:?}");
}

#[test]
fn ports_are_device_slash_port() {
    assert_eq!(
        errors(&unbundled("c", "leaf-01", "s1/enp2s1", "")),
        ["CONN-02"]
    );
    assert_eq!(
        errors(&unbundled("c", "/E1/1", "s1/enp2s1", "")),
        ["CONN-02"]
    );
    assert_eq!(
        errors(&unbundled("c", "leaf-01/", "s1/enp2s1", "")),
        ["CONN-02"]
    );
    // Breakout sub-ports are ports too.
    assert_eq!(
        errors(&unbundled("c", "leaf-01/E1/55/2", "s1/enp2s1", "")),
        none()
    );
}

#[test]
fn mclag_is_a_warning_and_nothing_else_is_checked() {
    let m = links(
        "mclag",
        "c",
        &[("leaf-01/E1/1", "s1/enp2s1"), ("leaf-02/E1/1", "s2/x")],
    );
    let p = check(&m);
    assert!(p.iter().all(|p| !p.is_error()), "{p:?}");
    let w = p.iter().find(|p| p.rule.0 == "CONN-03").unwrap();
    assert_eq!(
        w.upstream.as_deref(),
        Some("MCLAG is deprecated and no longer supported")
    );
}

#[test]
fn server_facing_mtu_is_at_most_9036() {
    let mtu = |m: u32| unbundled("c", "leaf-01/E1/1", "s1/enp2s1", &format!("    mtu: {m}\n"));
    assert_eq!(errors(&mtu(9036)), none());
    assert_eq!(errors(&mtu(9037)), ["CONN-04"]);
    assert!(check(&mtu(9037))[0].assumed);
    let bundled = links("bundled", "c", &[("leaf-01/E1/1", "s1/enp2s1")]) + "    mtu: 9037\n";
    assert_eq!(errors(&bundled), ["CONN-04"]);
    // ESLAG's MTU is not checked.
    let eslag = links(
        "eslag",
        "c",
        &[("leaf-01/E1/1", "s1/enp2s1"), ("leaf-02/E1/1", "s1/enp2s2")],
    ) + "    mtu: 9100\n";
    assert_eq!(errors(&eslag), none());
    let v = validator_with(false, |c| c.fabric_mtu = 9200);
    let found = fabric_in(&v, &[&mtu(9100)]);
    assert!(
        found.iter().all(|(_, p)| p.rule.0 != "CONN-04"),
        "{found:?}"
    );
}

#[test]
fn endpoints_per_type() {
    assert_eq!(
        errors(&unbundled("c", "leaf-01/E1/1", "leaf-01/E1/1", "")),
        ["CONN-10"]
    );
    let b = |pairs: &[(&str, &str)]| errors(&links("bundled", "c", pairs));
    assert_eq!(
        b(&[("leaf-01/E1/1", "s1/a"), ("leaf-02/E1/1", "s1/b")]),
        ["CONN-11"]
    );
    assert_eq!(
        b(&[("leaf-01/E1/1", "s1/a"), ("leaf-01/E1/2", "s2/b")]),
        ["CONN-11"]
    );
    assert_eq!(
        b(&[("leaf-01/E1/1", "s1/a"), ("leaf-01/E1/1", "s1/b")]),
        ["CONN-11"]
    );
    assert_eq!(
        errors(&conn("c", "  bundled:\n    links: []\n")),
        ["CONN-11"]
    );
    let e = |pairs: &[(&str, &str)]| errors(&links("eslag", "c", pairs));
    let four: Vec<(String, String)> = (1..=5)
        .map(|i| (format!("leaf-0{i}/E1/1"), format!("s1/p{i}")))
        .collect();
    let pairs = |n: usize| {
        four[..n]
            .iter()
            .map(|(a, b)| (a.as_str(), b.as_str()))
            .collect::<Vec<_>>()
    };
    assert_eq!(e(&pairs(4)), none());
    assert_eq!(e(&pairs(5)), ["CONN-12"]);
    // One link is below the CRD's minItems.
    assert_eq!(e(&pairs(1)), ["CONN-12"]);
    assert_eq!(
        e(&[("leaf-01/E1/1", "s1/a"), ("leaf-02/E1/1", "s2/b")]),
        ["CONN-12"]
    );
    let f = |list: &[(&str, &str, &str, &str)]| errors(&fabric_link("c", list));
    assert_eq!(
        f(&[
            ("spine-01/E1/1", "", "leaf-01/E1/1", ""),
            ("spine-02/E1/1", "", "leaf-01/E1/2", "")
        ]),
        ["CONN-14"]
    );
    assert_eq!(
        f(&[("spine-01/E1/1", "172.30.128.0/33", "leaf-01/E1/1", "")]),
        ["CONN-14"]
    );
    // The CRD's minItems, and the webhook's count of switches.
    assert_eq!(
        errors(&conn("c", "  fabric:\n    links: []\n")),
        ["CONN-14", "CONN-14"]
    );
    let m = ip_links(
        "mesh",
        ["leaf1", "leaf2"],
        "c",
        &[("leaf-01/E1/1", "", "leaf-01/E1/2", "")],
    );
    assert_eq!(errors(&m), ["CONN-16"]);
    let g = ip_links(
        "gateway",
        ["switch", "gateway"],
        "c",
        &[
            ("spine-01/E1/1", "", "gw-1/a", ""),
            ("spine-02/E1/1", "", "gw-1/b", ""),
        ],
    );
    assert_eq!(errors(&g), ["CONN-17"]);
    let l = conn("c", "  vpcLoopback:\n    links:\n    - switch1:\n        port: leaf-01/E1/10\n      switch2:\n        port: leaf-02/E1/11\n");
    assert_eq!(errors(&l), ["CONN-18"]);
    // external: one switch port and nothing else (CONN-19): only its form is checked.
    assert_eq!(
        errors(&conn(
            "c",
            "  external:\n    link:\n      switch:\n        port: leaf-01\n"
        )),
        ["CONN-02"]
    );
}

#[test]
fn static_external_network_and_subnets() {
    let se = |ip: &str, hop: &str, sn: &str| errors(&static_external(ip, hop, sn));
    assert_eq!(
        se("10.99.0.1/24", "10.98.0.2", "[10.200.0.0/16]"),
        ["CONN-20"]
    );
    assert_eq!(se("10.99.0.1", "10.99.0.2", "[10.200.0.0/16]"), ["CONN-20"]);
    assert_eq!(
        se("10.99.0.1/24", "10.99.0.2", "[10.200.0.1/16]"),
        ["CONN-21"]
    );
    assert_eq!(
        se(
            "10.99.0.1/24",
            "10.99.0.2",
            "[10.200.0.0/16, 10.200.5.0/24]"
        ),
        ["CONN-21"]
    );
    assert_eq!(
        se("10.99.0.1/24", "10.99.0.2", "[172.30.8.0/24]"),
        ["CONN-21"]
    );
    assert_eq!(
        se("10.99.0.1/24", "10.99.0.2", "[0.0.0.0/0, 10.200.0.0/16]"),
        ["CONN-21"]
    );
    assert_eq!(se("10.99.0.1/24", "10.99.0.2", "[10.200.0.0/16]"), none());
}

#[test]
fn fabric_link_ips_are_a_31_pair_in_the_fabric_subnet() {
    let f = |a: &str, b: &str| {
        errors(&fabric_link(
            "c",
            &[("spine-01/E1/1", a, "leaf-01/E1/49", b)],
        ))
    };
    assert_eq!(f("172.30.128.6/31", "172.30.128.7/31"), none());
    assert_eq!(f("172.30.128.6/30", "172.30.128.7/31"), ["CONN-15"]);
    assert_eq!(f("10.0.0.0/31", "10.0.0.1/31"), ["CONN-15", "CONN-15"]);
    assert_eq!(f("172.30.128.7/31", "172.30.128.8/31"), ["CONN-15"]);
    // A link with one IP is not checked.
    assert_eq!(f("10.0.0.0/30", ""), none());
}

#[test]
fn devices_must_exist() {
    let c = unbundled("c", "leaf-01/E1/1", "server-01/enp2s1", "");
    let l = leaf("leaf-01", 65101, 10, "");
    let s = server("server-01");
    assert_eq!(conn_errors(&[VNS, &l, &s, &c], true), []);
    assert_eq!(
        conn_errors(&[VNS, &s, &c], true),
        [at("doc2.yaml", "CONN-05")]
    );
    assert_eq!(
        conn_errors(&[VNS, &l, &c], true),
        [at("doc2.yaml", "CONN-06")]
    );
    // Not the whole fabric: they must be in the cluster, a warning.
    let found = fabric(&[&c], false);
    assert!(
        found
            .iter()
            .any(|(_, p)| p.rule.0 == "CONN-05" && !p.is_error()),
        "{found:?}"
    );
    // A gateway connection's gateway side is not a Switch (Q14).
    let g = ip_links(
        "gateway",
        ["switch", "gateway"],
        "g",
        &[("leaf-01/E1/5", "", "gw-1/enp2s1", "")],
    );
    assert_eq!(conn_errors(&[VNS, &l, &g], true), []);
}

#[test]
fn a_port_is_used_by_one_connection_breakouts_aside() {
    let c = |name: &str, port: &str, srv: &str| unbundled(name, port, srv, "");
    // Sub-ports /2 and /3 of one parent go to different connections.
    let a = c("a", "leaf-01/E1/5/2", "s1/p1");
    let b = c("b", "leaf-01/E1/5/3", "s2/p1");
    assert_eq!(conn_errors(&[&a, &b], false), []);
    // E1/5 is E1/5/1.
    let a = c("a", "leaf-01/E1/5", "s1/p1");
    let b = c("b", "leaf-01/E1/5/1", "s2/p1");
    assert_eq!(
        conn_errors(&[&a, &b], false),
        [at("doc0.yaml", "CONN-08"), at("doc1.yaml", "CONN-08")]
    );
    let found = fabric(&[&a, &b], false);
    let (_, p) = found
        .iter()
        .find(|(f, p)| f == "doc0.yaml" && p.rule.0 == "CONN-08")
        .unwrap();
    assert_eq!(p.upstream.as_deref(), Some("error validating connection: port leaf-01/E1/5/1 is already used by other connection b"));
    assert_eq!(
        p.see_also.as_ref().map(|s| (s.file.as_str(), s.pos.line)),
        Some(("doc1.yaml", 11))
    );
    // A server port too.
    let b = c("b", "leaf-01/E1/6", "s1/p1");
    assert_eq!(
        conn_errors(&[&c("a", "leaf-01/E1/5", "s1/p1"), &b], false).len(),
        2
    );
    // MCLAG connections are skipped.
    let m = links(
        "mclag",
        "m",
        &[("leaf-01/E1/5", "s1/p1"), ("leaf-02/E1/5", "s1/p2")],
    );
    assert_eq!(
        conn_errors(&[&c("a", "leaf-01/E1/5", "s9/p1"), &m], false),
        []
    );
}

#[test]
fn eslag_switches_share_one_eslag_group() {
    let g = |name: &str, n: u8, group: &str, t: &str| {
        let r = if group.is_empty() {
            String::new()
        } else {
            format!("  redundancy:\n    group: {group}\n    type: {t}\n")
        };
        leaf(name, 65100 + n as u32, n, &r)
    };
    let e = links(
        "eslag",
        "e",
        &[("leaf-01/E1/1", "s1/p1"), ("leaf-02/E1/1", "s1/p2")],
    );
    let s = server("s1");
    let docs = |a: &str, b: &str| conn_errors(&[VNS, &s, a, b, &e], true);
    assert_eq!(
        docs(
            &g("leaf-01", 1, "eg", "eslag"),
            &g("leaf-02", 2, "eg", "eslag")
        ),
        []
    );
    // As in Go, a switch without a group is passed over while the other has one.
    assert_eq!(
        docs(&g("leaf-01", 1, "eg", "eslag"), &g("leaf-02", 2, "", "")),
        []
    );
    assert_eq!(
        docs(&g("leaf-01", 1, "", ""), &g("leaf-02", 2, "", "")),
        [at("doc4.yaml", "CONN-13")]
    );
    assert_eq!(
        docs(
            &g("leaf-01", 1, "eg", "eslag"),
            &g("leaf-02", 2, "eh", "eslag")
        ),
        [at("doc4.yaml", "CONN-13")]
    );
    assert_eq!(
        docs(
            &g("leaf-01", 1, "eg", "mclag"),
            &g("leaf-02", 2, "eg", "mclag")
        ),
        [at("doc4.yaml", "CONN-13")]
    );
    // With a switch missing, CONN-05 is what the cluster says.
    assert_eq!(
        conn_errors(&[VNS, &s, &g("leaf-01", 1, "", ""), &e], true),
        [at("doc3.yaml", "CONN-05")]
    );
}

#[test]
fn link_ips_are_used_once() {
    let a = fabric_link(
        "a",
        &[(
            "spine-01/E1/1",
            "172.30.128.0/31",
            "leaf-01/E1/49",
            "172.30.128.1/31",
        )],
    );
    let b = fabric_link(
        "b",
        &[(
            "spine-01/E1/2",
            "172.30.128.0/31",
            "leaf-02/E1/49",
            "172.30.128.1/31",
        )],
    );
    assert_eq!(
        conn_errors(&[&a, &b], false),
        [
            at("doc0.yaml", "CONN-15"),
            at("doc0.yaml", "CONN-15"),
            at("doc1.yaml", "CONN-15"),
            at("doc1.yaml", "CONN-15")
        ]
    );
    // A link with only one IP is not checked itself, but occupies its IP.
    let half = fabric_link(
        "h",
        &[("spine-01/E1/3", "172.30.128.0/31", "leaf-03/E1/49", "")],
    );
    assert_eq!(
        conn_errors(&[&a, &half], false),
        [at("doc0.yaml", "CONN-15")]
    );
    let ok = fabric_link(
        "b",
        &[(
            "spine-01/E1/2",
            "172.30.128.2/31",
            "leaf-02/E1/49",
            "172.30.128.3/31",
        )],
    );
    assert_eq!(conn_errors(&[&a, &ok], false), []);
}

#[test]
fn within_vpc_must_exist() {
    let se = static_external("10.99.0.1/24", "10.99.0.2", "[10.200.0.0/16]")
        .replace("    link:\n", "    withinVPC: vpc-1\n    link:\n");
    let found = fabric(&[&se], true);
    let (_, p) = found.iter().find(|(_, p)| p.rule.0 == "CONN-22").unwrap();
    assert!(p.is_error());
    assert_eq!(p.upstream.as_deref(), Some("vpc vpc-1 not found"));
    let vpc = "apiVersion: vpc.githedgehog.com/v1beta1\nkind: VPC\nmetadata:\n  name: vpc-1\nspec:\n  subnets:\n    default:\n      subnet: 10.0.1.0/24\n      vlan: 1001\n";
    let found = fabric(&[&se, vpc], true);
    assert!(
        found.iter().all(|(_, p)| p.rule.0 != "CONN-22"),
        "{found:?}"
    );
}

#[test]
fn device_names_become_label_keys_of_at_most_63_characters() {
    let s63 = "s".repeat(63);
    let s64 = "s".repeat(64);
    assert_eq!(
        errors(&unbundled("c", &format!("{s63}/E1/1"), "srv/p", "")),
        none()
    );
    assert_eq!(
        errors(&unbundled("c", &format!("{s64}/E1/1"), "srv/p", "")),
        ["GEN-04"]
    );
    assert_eq!(
        errors(&unbundled("c", "leaf-01/E1/1", &format!("{s64}/p"), "")),
        ["GEN-04"]
    );
}
