//! Tests of the vpc rules.

use crate::validate::rules::testkit::{check, errors, fabric, fabric_errors};

fn vpc(name: &str, spec: &str) -> String {
    format!("apiVersion: vpc.githedgehog.com/v1beta1\nkind: VPC\nmetadata:\n  name: {name}\nspec:\n{spec}")
}

const ONE: &str = "  subnets:\n    default:\n      subnet: 10.0.1.0/24\n      vlan: 1001\n";

#[test]
fn a_plain_vpc_is_valid() {
    assert_eq!(errors(&vpc("vpc-1", ONE)), Vec::<&str>::new());
    // hostBGP subnets need neither VLAN nor gateway; a /30 is the smallest subnet.
    let spec = "  subnets:\n    a:\n      subnet: 10.0.1.0/30\n      vlan: 1001\n    b:\n      subnet: 10.0.2.0/24\n      hostBGP: true\n";
    assert_eq!(errors(&vpc("vpc-1", spec)), Vec::<&str>::new());
}

#[test]
fn names_are_at_most_11_characters_and_not_ext() {
    assert_eq!(errors(&vpc("abcdefghijk", ONE)), Vec::<&str>::new());
    assert_eq!(errors(&vpc("abcdefghijkl", ONE)), ["VPC-01"]);
    assert_eq!(errors(&vpc("ext.a", ONE)), ["VPC-02"]);
}

#[test]
fn subnet_count_mode_and_prefixes() {
    assert_eq!(errors(&vpc("v", "  subnets: {}\n")), ["VPC-04"]);
    let many: String = (0..21)
        .map(|i| {
            format!(
                "    s{i}:\n      subnet: 10.0.{i}.0/24\n      vlan: {}\n",
                1000 + i
            )
        })
        .collect();
    assert_eq!(
        errors(&vpc("v", &format!("  subnets:\n{many}"))),
        ["VPC-04"]
    );
    assert_eq!(
        errors(&vpc("v", &format!("  mode: l3flat\n{ONE}"))),
        ["VPC-05"]
    );
    assert_eq!(errors(&vpc("v", &format!("  mode: l2\n{ONE}"))), ["VPC-05"]);
    assert_eq!(
        errors(&vpc("v", &format!("  mode: l3vni\n{ONE}"))),
        Vec::<&str>::new()
    );
    let bad = |cidr: &str| {
        vpc(
            "v",
            &format!("  subnets:\n    default:\n      subnet: {cidr}\n      vlan: 1001\n"),
        )
    };
    assert_eq!(errors(&bad("10.0.1.0")), ["VPC-06"]);
    assert_eq!(errors(&bad("10.0.1.0/31")), ["VPC-07"]);
    assert_eq!(errors(&bad("172.30.8.0/24")), ["VPC-08"]);
    // Host bits are accepted (RULES.md Q8).
    assert_eq!(errors(&bad("10.0.1.5/24")), Vec::<&str>::new());
}

#[test]
fn gateway_vlan_and_dhcp_rules() {
    let sn = |body: &str| {
        vpc(
            "v",
            &format!("  subnets:\n    default:\n      subnet: 10.0.1.0/24\n{body}"),
        )
    };
    assert_eq!(
        errors(&sn("      vlan: 1001\n      gateway: 10.0.2.1\n")),
        ["VPC-09"]
    );
    assert_eq!(
        errors(&sn("      vlan: 1001\n      gateway: x\n")),
        ["VPC-09"]
    );
    assert_eq!(errors(&sn("      gateway: 10.0.1.1\n")), ["VPC-10"]);
    assert_eq!(
        errors(&sn(
            "      hostBGP: true\n      dhcp:\n        enable: true\n"
        )),
        ["VPC-11"]
    );
    assert_eq!(
        errors(&sn(
            "      vlan: 1001\n      dhcp:\n        enable: true\n        relay: 10.0.0.1/32\n"
        )),
        ["VPC-12"]
    );
    assert_eq!(
        errors(&sn(
            "      vlan: 1001\n      dhcp:\n        relayVPC: other\n"
        )),
        ["VPC-12"]
    );
    // The range defaults to network+2 .. broadcast.
    assert_eq!(
        errors(&sn("      vlan: 1001\n      dhcp:\n        enable: true\n")),
        Vec::<&str>::new()
    );
    assert_eq!(
        errors(&sn("      vlan: 1001\n      dhcp:\n        enable: true\n        range:\n          start: 10.0.1.1\n")),
        ["VPC-13"]
    );
    assert_eq!(
        errors(&sn("      vlan: 1001\n      dhcp:\n        enable: true\n        range:\n          start: 10.0.1.50\n          end: 10.0.1.10\n")),
        ["VPC-13"]
    );
    assert_eq!(
        errors(&sn("      vlan: 1001\n      dhcp:\n        enable: true\n        options:\n          interfaceMTU: 9037\n")),
        ["VPC-14"]
    );
    // Options without interfaceMTU or leaseTimeSeconds: defaulted, then schema-valid (C1).
    assert_eq!(
        errors(&sn("      vlan: 1001\n      dhcp:\n        enable: true\n        options:\n          dnsServers: [1.1.1.1]\n")),
        Vec::<&str>::new()
    );
    assert_eq!(
        errors(&sn("      vlan: 1001\n      dhcp:\n        enable: true\n        static:\n          AA-BB-CC-00-11-22:\n            ip: 10.0.1.255\n")),
        ["VPC-15"]
    );
    // ParseAddr takes an IPv6 zone; an IPv4 address has none.
    assert_eq!(
        errors(&sn("      vlan: 1001\n      dhcp:\n        enable: true\n        options:\n          dnsServers: [\"fe80::53%eth0\"]\n          timeServers: [\"fe80::123%eth0\"]\n")),
        Vec::<&str>::new()
    );
    assert_eq!(
        errors(&sn("      vlan: 1001\n      dhcp:\n        enable: true\n        options:\n          dnsServers: [\"1.1.1.1%eth0\"]\n")),
        ["VPC-14"]
    );
    // A lease without an IP: the webhook writes `ip: ""` (no omitempty), so only VPC-15.
    assert_eq!(
        errors(&sn("      vlan: 1001\n      dhcp:\n        enable: true\n        static:\n          aa:bb:cc:00:11:22: {}\n")),
        ["VPC-15"]
    );
    // Go's spelling and one other: Default's in-place rewrite keeps the other's lease, so a
    // bad or repeated IP under Go's spelling is gone, and a warning says so.
    let leases = |body: &str| {
        check(&sn(&format!(
            "      vlan: 1001\n      dhcp:\n        enable: true\n        static:\n{body}"
        )))
    };
    for first_ip in ["10.0.1.20", "10.0.9.50"] {
        let p = leases(&format!("          aa:bb:cc:00:11:22:\n            ip: {first_ip}\n          AA-BB-CC-00-11-22:\n            ip: 10.0.1.20\n"));
        assert_eq!(p.len(), 1, "{p:?}");
        assert!(
            p[0].rule.0 == "VPC-15" && !p[0].is_error() && p[0].pos.line == 13,
            "{p:?}"
        );
    }
    // Two other spellings: which lease the cluster keeps depends on Go's map order.
    let p = leases("          AA:BB:CC:00:11:22:\n            ip: 10.0.1.20\n          AA-BB-CC-00-11-22:\n            ip: 10.0.1.21\n");
    assert_eq!(
        p.iter()
            .filter(|p| p.is_error())
            .map(|p| p.rule.0)
            .collect::<Vec<_>>(),
        ["VPC-15"],
        "{p:?}"
    );
    assert!(p[0].message.contains("chosen at random"), "{p:?}");
    // Go's ParseMAC: hex digits without a sign, never a panic inside a character.
    for key in ["\"+a:bb:cc:00:11:22\"", "\"a\u{e9}b.cc00.1122\""] {
        assert_eq!(
            errors(&sn(&format!("      vlan: 1001\n      dhcp:\n        enable: true\n        static:\n          {key}:\n            ip: 10.0.1.20\n"))),
            ["VPC-15"],
            "{key}"
        );
    }
    assert_eq!(
        errors(&sn("      vlan: 1001\n      dhcp:\n        static:\n          aa:bb:cc:00:11:22:\n            ip: 10.0.1.20\n")),
        ["VPC-16"]
    );
    // A disabled DHCP with leftovers: dropped by the cluster, a warning.
    let p = check(&sn(
        "      vlan: 1001\n      dhcp:\n        range:\n          start: 10.0.1.10\n",
    ));
    assert!(
        p.iter().any(|p| p.rule.0 == "VPC-16" && !p.is_error()),
        "{p:?}"
    );
}

#[test]
fn vlans_overlaps_permits_and_routes_inside_one_vpc() {
    let two = |a: &str, b: &str| {
        vpc("v", &format!("  subnets:\n    a:\n      subnet: {a}\n      vlan: 1001\n    b:\n      subnet: {b}\n      vlan: 1002\n"))
    };
    assert_eq!(errors(&two("10.0.0.0/16", "10.0.5.0/24")), ["VPC-18"]);
    let dup = vpc("v", "  subnets:\n    a:\n      subnet: 10.0.1.0/24\n      vlan: 1001\n    b:\n      subnet: 10.0.2.0/24\n      vlan: 1001\n");
    assert_eq!(errors(&dup), ["VPC-17"]);
    let permit = |p: &str| {
        vpc("v", &format!("  subnets:\n    a:\n      subnet: 10.0.1.0/24\n      vlan: 1001\n    b:\n      subnet: 10.0.2.0/24\n      vlan: 1002\n  permit:\n{p}"))
    };
    assert_eq!(errors(&permit("  - [a, b]\n")), Vec::<&str>::new());
    assert_eq!(errors(&permit("  - [a]\n")), ["VPC-19"]);
    assert_eq!(errors(&permit("  - [a, c]\n")), ["VPC-19"]);
    assert_eq!(errors(&permit("  - [a, b, a]\n")), ["VPC-19"]);
    let route = |r: &str| vpc("v", &format!("{ONE}  staticRoutes:\n{r}"));
    assert_eq!(
        errors(&route(
            "  - prefix: 10.9.0.0/16\n    nextHops: [10.0.1.5]\n"
        )),
        Vec::<&str>::new()
    );
    assert_eq!(
        errors(&route(
            "  - prefix: 10.9.0.1/16\n    nextHops: [10.0.1.5]\n"
        )),
        ["VPC-20"]
    );
    assert_eq!(errors(&route("  - prefix: 10.9.0.0/16\n")), ["VPC-20"]);
}

#[test]
fn types_and_unknown_fields_come_first() {
    let p = check(&vpc(
        "v",
        "  subnets:\n    default:\n      subnet: 10.0.1.0/24\n      vlan: \"1001\"\n",
    ));
    assert_eq!(p.iter().map(|p| p.rule.0).collect::<Vec<_>>(), ["GEN-06"]);
    assert_eq!((p[0].pos.line, p[0].pos.column), (9, 13));
    assert_eq!(p[0].path.to_string(), "spec.subnets.default.vlan");
    assert!(
        p[0].message.contains("remove the quotes if a number"),
        "{p:?}"
    );
    // Only a text that reads as the wanted type unquoted gets the quotes hint.
    let hint = |body: &str| {
        let p = check(&vpc(
            "v",
            &format!(
                "  subnets:\n    default:\n      subnet: 10.0.1.0/24\n      vlan: 1001\n{body}"
            ),
        ));
        assert_eq!(
            p.iter().map(|p| p.rule.0).collect::<Vec<_>>(),
            ["GEN-06"],
            "{body}"
        );
        p[0].message.to_string()
    };
    assert!(
        hint("      dhcp:\n        enable: \"true\"\n").contains("remove the quotes if a boolean")
    );
    assert!(!hint("      dhcp:\n        enable: \"1001\"\n").contains("remove the quotes"));
    assert!(!hint(
        "      dhcp:\n        enable: true\n        options:\n          interfaceMTU: abc\n"
    )
    .contains("remove the quotes"));
}

const NS: &str = "apiVersion: vpc.githedgehog.com/v1beta1\nkind: IPv4Namespace\nmetadata:\n  name: default\nspec:\n  subnets: [10.0.0.0/16]\n";
const VNS: &str = "apiVersion: wiring.githedgehog.com/v1beta1\nkind: VLANNamespace\nmetadata:\n  name: default\nspec:\n  ranges:\n  - from: 1000\n    to: 2999\n";

#[test]
fn namespaces_must_exist_and_contain_subnets_and_vlans() {
    let v = vpc("v", ONE);
    assert_eq!(
        fabric_errors(&[NS, VNS, &v], true),
        Vec::<(String, &str)>::new()
    );
    assert_eq!(
        fabric_errors(&[VNS, &v], true),
        [("doc1.yaml".to_string(), "VPC-21")]
    );
    // A partial fabric: the namespace must exist in the cluster, a warning; the
    // installer's `default` is taken as present.
    let found = fabric(&[VNS, &v], false);
    assert!(
        !found.iter().any(|(_, p)| p.rule.0 == "VPC-21"),
        "{found:?}"
    );
    let other = vpc("v", &format!("  ipv4Namespace: tenants\n{ONE}"));
    let found = fabric(&[VNS, &other], false);
    assert!(
        found
            .iter()
            .any(|(_, p)| p.rule.0 == "VPC-21" && !p.is_error() && p.message.contains("tenants")),
        "{found:?}"
    );
    let outside = vpc(
        "v",
        "  subnets:\n    default:\n      subnet: 10.1.1.0/24\n      vlan: 3500\n",
    );
    let rules: Vec<&str> = fabric_errors(&[NS, VNS, &outside], true)
        .into_iter()
        .map(|(_, r)| r)
        .collect();
    assert_eq!(rules, ["VPC-23", "VPC-24"]);
    // Wider than the namespace's subnet: the network address inside is not enough.
    let wide = vpc(
        "v",
        "  subnets:\n    default:\n      subnet: 10.0.0.0/8\n      vlan: 1001\n",
    );
    let rules: Vec<&str> = fabric_errors(&[NS, VNS, &wide], true)
        .into_iter()
        .map(|(_, r)| r)
        .collect();
    assert_eq!(rules, ["VPC-23"]);
}

#[test]
fn overlaps_and_vlan_reuse_across_vpcs_are_reported_on_both() {
    let a = vpc(
        "a",
        "  subnets:\n    one:\n      subnet: 10.0.1.0/24\n      vlan: 1001\n",
    );
    let b = vpc(
        "b",
        "  subnets:\n    two:\n      subnet: 10.0.1.128/25\n      vlan: 1001\n",
    );
    let found = fabric(&[NS, VNS, &a, &b], true);
    let got: Vec<(String, &str)> = found
        .iter()
        .filter(|(_, p)| p.is_error())
        .map(|(f, p)| (f.clone(), p.rule.0))
        .collect();
    assert_eq!(got.len(), 4, "{got:?}");
    for (f, r) in [
        ("doc2.yaml", "VPC-26"),
        ("doc3.yaml", "VPC-26"),
        ("doc2.yaml", "VPC-27"),
        ("doc3.yaml", "VPC-27"),
    ] {
        assert!(got.contains(&(f.to_string(), r)), "{got:?}");
    }
    let overlap = found
        .iter()
        .find(|(f, p)| f == "doc2.yaml" && p.rule.0 == "VPC-26")
        .unwrap();
    let see = overlap.1.see_also.as_ref().unwrap();
    assert_eq!(
        (see.file.as_str(), see.pos.line, see.object.as_str()),
        ("doc3.yaml", 8, "VPC/b")
    );
    // hostBGP subnets share VLAN 0.
    let h1 = vpc(
        "a",
        "  subnets:\n    one:\n      subnet: 10.0.1.0/24\n      hostBGP: true\n",
    );
    let h2 = vpc(
        "b",
        "  subnets:\n    two:\n      subnet: 10.0.2.0/24\n      hostBGP: true\n",
    );
    assert_eq!(
        fabric_errors(&[NS, VNS, &h1, &h2], true),
        Vec::<(String, &str)>::new()
    );
}

/// VPC-28's DHCP part: the controller's DHCPSubnet `<vpc>--<subnet>` needs a DNS-1123 name
/// and the subnet name as a label value; admission accepts the VPC, so a warning at the key.
#[test]
fn a_dhcp_subnet_name_the_controller_cannot_create_is_a_warning() {
    let sub = |name: &str, dhcp: &str| {
        vpc(
            "vpc-1",
            &format!(
                "  subnets:\n    {name}:\n      subnet: 10.0.1.0/24\n      vlan: 1001\n{dhcp}"
            ),
        )
    };
    let on = "      dhcp:\n        enable: true\n";
    let warned = |text: &str| -> Vec<(usize, usize)> {
        check(text)
            .iter()
            .filter(|p| p.rule.0 == "VPC-28" && !p.is_error())
            .map(|p| (p.pos.line, p.pos.column))
            .collect()
    };
    // Uppercase, '_' and a name too long for a label value: warned, at the subnet's key.
    for bad in ["Web", "web_1", &"s".repeat(64), "a..b"] {
        let text = sub(bad, on);
        assert_eq!(errors(&text), Vec::<&str>::new(), "{bad}");
        assert_eq!(warned(&text), [(7, 5)], "{bad}");
    }
    // Good names, the longest label value, and the same bad names without a DHCP server.
    for good in ["web", "web-1.a", &"s".repeat(63)] {
        assert_eq!(warned(&sub(good, on)), [], "{good}");
    }
    assert_eq!(warned(&sub("Web", "")), []);
    assert_eq!(
        warned(&sub("Web", "      dhcp:\n        enable: false\n")),
        []
    );
}

/// A field that comes through a merge key or an alias is reported where the subnet takes it
/// (the `*anchor`), not in the subnet that defines the anchor.
#[test]
fn a_merged_field_is_reported_where_it_is_merged() {
    let spec = "  subnets:\n    s1: &base\n      subnet: 10.0.1.0/24\n      vlan: 1001\n    s2:\n      <<: *base\n      subnet: 10.0.2.0/24\n    s3: *base\n";
    let found: Vec<(String, (usize, usize))> = check(&vpc("vpc-1", spec))
        .iter()
        .map(|p| (p.path.to_string(), (p.pos.line, p.pos.column)))
        .collect();
    assert!(
        found.contains(&("spec.subnets.s2.vlan".into(), (11, 11))),
        "{found:?}"
    );
    // s3 is s1 again: its subnet overlaps s1's, shown at s3's alias.
    assert!(
        found
            .iter()
            .any(|(path, pos)| path.starts_with("spec.subnets.s3") && *pos == (13, 9)),
        "{found:?}"
    );
    assert!(found.iter().all(|(_, pos)| pos.0 >= 11), "{found:?}");
}
