use crate::validate::rules::gateway::tests::{cross_errs, enabled, errs, group, gw};
use crate::validate::rules::testkit::fabric_in;

fn peering(name: &str, body: &str) -> String {
    format!("apiVersion: gateway.githedgehog.com/v1alpha1\nkind: GatewayPeering\nmetadata:\n  name: {name}\nspec:\n{body}")
}

/// Two VPCs, each exposing one CIDR.
fn pair(name: &str, a: (&str, &str), b: (&str, &str), extra: &str) -> String {
    peering(
        name,
        &format!("  peering:\n    {}:\n      expose:\n      - ips:\n        - cidr: {}\n    {}:\n      expose:\n      - ips:\n        - cidr: {}\n{extra}", a.0, a.1, b.0, b.1),
    )
}

/// A peering of vpc-1 (exposing `one`) and vpc-2 (exposing `two`): expose items as YAML.
fn exposes(one: &str, two: &str) -> String {
    peering(
        "p",
        &format!("  peering:\n    vpc-1:\n      expose:\n{one}    vpc-2:\n      expose:\n{two}"),
    )
}

const PLAIN: &str = "      - ips:\n        - cidr: 10.0.2.0/24\n";

fn vpc(name: &str, cidr: &str) -> String {
    format!("apiVersion: vpc.githedgehog.com/v1beta1\nkind: VPC\nmetadata:\n  name: {name}\nspec:\n  subnets:\n    default:\n      subnet: {cidr}\n      vlan: 1001\n")
}

fn none() -> Vec<&'static str> {
    Vec::new()
}

fn at(file: &str, rule: &'static str) -> (String, &'static str) {
    (file.to_string(), rule)
}

#[test]
fn a_plain_peering_is_valid_and_needs_two_entries() {
    assert_eq!(
        errs(&pair(
            "p",
            ("vpc-1", "10.0.1.0/24"),
            ("vpc-2", "10.0.2.0/24"),
            ""
        )),
        none()
    );
    // Three entries and no gatewayGroup: Default() leaves it empty, and that is what the
    // webhook reports first (Q10).
    let three = peering(
        "p",
        "  peering:\n    vpc-1: {}\n    vpc-2: {}\n    vpc-3: {}\n",
    );
    assert_eq!(errs(&three), ["GWP-02", "GWP-03"]);
    let named = peering(
        "p",
        "  gatewayGroup: default\n  peering:\n    vpc-1: {}\n    vpc-2: {}\n    vpc-3: {}\n",
    );
    assert_eq!(errs(&named), ["GWP-03"]);
    // An entry with no value is pruned.
    assert_eq!(
        errs(&peering(
            "p",
            "  gatewayGroup: g\n  peering:\n    vpc-1: {}\n    vpc-2:\n"
        )),
        ["GWP-03"]
    );
    // The installer's default config has no gateways: every peering is refused, assumed.
    let p = crate::validate::rules::testkit::check(&pair(
        "p",
        ("vpc-1", "10.0.1.0/24"),
        ("vpc-2", "10.0.2.0/24"),
        "",
    ));
    assert_eq!(p.iter().map(|p| p.rule.0).collect::<Vec<_>>(), ["GWP-01"]);
    assert!(p[0].assumed);
    let bad_ns = pair("p", ("vpc-1", "10.0.1.0/24"), ("vpc-2", "10.0.2.0/24"), "")
        .replace("  name: p\n", "  name: p\n  namespace: fab\n");
    assert_eq!(errs(&bad_ns), ["GWP-01"]);
    // An entry name becomes a label key.
    let long = "v".repeat(64);
    assert_eq!(
        errs(&pair(
            "p",
            (&long, "10.0.1.0/24"),
            ("vpc-2", "10.0.2.0/24"),
            ""
        )),
        ["GEN-04"]
    );
}

#[test]
fn exposes_have_ips_or_default() {
    let one = |x: &str| errs(&exposes(x, PLAIN));
    assert_eq!(one("      - default: true\n"), none());
    assert_eq!(
        one("      - default: true\n        ips:\n        - cidr: 10.0.1.0/24\n"),
        ["GWP-04"]
    );
    assert_eq!(one("      - {}\n"), ["GWP-04"]);
    assert_eq!(
        one("      - ips:\n        - cidr: 10.0.1.0/24\n          not: 10.0.1.5/32\n"),
        ["GWP-04"]
    );
    assert_eq!(
        one("      - ips:\n        - cidr: 10.0.1.0/33\n"),
        ["GWP-04"]
    );
    assert_eq!(
        one("      - ips:\n        - vpcSubnet: default\n        - not: 10.0.1.5/32\n"),
        none()
    );
    let ext = peering("p", &format!("  peering:\n    ext.e1:\n      expose:\n      - ips:\n        - vpcSubnet: default\n    vpc-2:\n      expose:\n{PLAIN}"));
    assert_eq!(errs(&ext), ["GWP-04"]);
}

#[test]
fn as_nat_and_ports() {
    let one = |x: &str| errs(&exposes(x, PLAIN));
    let ips = "      - ips:\n        - cidr: 10.0.1.0/24\n";
    assert_eq!(one(&format!("{ips}        as:\n        - cidr: 192.168.1.0/24\n        nat:\n          static: {{}}\n")), none());
    assert_eq!(
        one(&format!(
            "{ips}        as:\n        - cidr: 192.168.1.0/24\n"
        )),
        ["GWP-05"]
    );
    assert_eq!(
        one(&format!("{ips}        nat:\n          static: {{}}\n")),
        ["GWP-05"]
    );
    assert_eq!(one(&format!("{ips}        as:\n        - cidr: 192.168.1.0/24\n          not: 192.168.1.1/32\n        nat:\n          static: {{}}\n")), ["GWP-05"]);
    let nat = |n: &str| {
        one(&format!(
            "{ips}        as:\n        - cidr: 192.168.1.0/24\n        nat:\n{n}"
        ))
    };
    assert_eq!(
        nat("          static: {}\n          masquerade: {}\n"),
        ["GWP-06"]
    );
    assert_eq!(nat("          portForward: {}\n"), ["GWP-06"]);
    let pf = |port: &str, r#as: &str| {
        nat(&format!("          portForward:\n            ports:\n            - port: \"{port}\"\n              as: \"{}\"\n", r#as))
    };
    assert_eq!(pf("80", "8080"), none());
    assert_eq!(pf("1-65535", "1-65535"), none());
    assert_eq!(pf("0", "80"), ["GWP-06"]);
    assert_eq!(pf("80", "65536"), ["GWP-06"]);
    assert_eq!(pf("80 ", "80"), ["GWP-06"]);
    assert_eq!(pf("80,81", "80"), ["GWP-06"]);
    assert_eq!(pf("90-80", "80"), ["GWP-06"]);
    assert_eq!(pf("-80", "80"), ["GWP-06"]);
    assert_eq!(pf("http", "80"), ["GWP-06"]);
    assert_eq!(pf("80", ""), ["GWP-06"]);
    // proto is the CRD enum's.
    assert_eq!(nat("          portForward:\n            ports:\n            - port: \"80\"\n              as: \"80\"\n              proto: icmp\n"), ["GWP-06"]);
}

#[test]
fn stateful_nat_on_one_side_only() {
    let masq = "      - ips:\n        - cidr: 10.0.1.0/24\n        as:\n        - cidr: 192.168.1.0/24\n        nat:\n          masquerade: {}\n";
    let stat = "      - ips:\n        - cidr: 10.0.2.0/24\n        as:\n        - cidr: 192.168.2.0/24\n        nat:\n          static: {}\n";
    assert_eq!(errs(&exposes(masq, PLAIN)), none());
    assert_eq!(
        errs(&exposes(
            masq,
            &masq
                .replace("10.0.1.", "10.0.2.")
                .replace("192.168.1.", "192.168.2.")
        )),
        ["GWP-07"]
    );
    assert_eq!(errs(&exposes(masq, stat)), ["GWP-07"]);
    assert_eq!(
        errs(&exposes(&stat.replace("10.0.2.", "10.0.1."), stat)),
        none()
    );
}

#[test]
fn acl_rules() {
    let acl = |rules: &str| {
        errs(&pair(
            "p",
            ("vpc-1", "10.0.1.0/24"),
            ("vpc-2", "10.0.2.0/24"),
            &format!("  acl:\n    rules:\n{rules}"),
        ))
    };
    assert_eq!(acl("    - name: allow-web\n      from: vpc-1\n      action: allow\n      match:\n        proto: tcp\n        dst:\n        - ports: [\"80\", \"8000-8080\"]\n"), none());
    assert_eq!(
        acl("    - to: vpc-2\n      action: deny\n      match:\n        proto: \"6\"\n"),
        none()
    );
    assert_eq!(acl("    - action: deny\n"), ["GWP-08"]);
    assert_eq!(acl("    - from: vpc-3\n      action: deny\n"), ["GWP-08"]);
    assert_eq!(
        acl("    - name: Allow_Web\n      from: vpc-1\n      action: deny\n"),
        ["GWP-08"]
    );
    assert_eq!(
        acl(&format!(
            "    - name: {}\n      from: vpc-1\n      action: deny\n",
            "a".repeat(65)
        )),
        ["GWP-08"]
    );
    assert_eq!(
        acl(&format!(
            "    - name: {}\n      from: vpc-1\n      action: deny\n",
            "a".repeat(64)
        )),
        none()
    );
    assert_eq!(
        acl("    - from: vpc-1\n      action: deny\n      match:\n        proto: icmp\n"),
        ["GWP-08"]
    );
    assert_eq!(acl("    - from: vpc-1\n      action: deny\n      match:\n        src:\n        - cidr: 10.0.1.0/24\n          vpcSubnet: default\n"), ["GWP-08"]);
    assert_eq!(acl("    - from: vpc-1\n      action: deny\n      match:\n        src:\n        - ports: [\"0\"]\n"), ["GWP-08"]);
    // A rule without action fails the CRD (required, enum deny/allow).
    assert_eq!(acl("    - from: vpc-1\n"), ["GWP-08"]);
    assert_eq!(acl("    - from: vpc-1\n      action: drop\n"), ["GWP-08"]);
}

#[test]
fn group_entries_and_exposed_cidrs_exist() {
    let (g, gateway) = (group("default"), gw("gw-1", 20, ""));
    let (v1, v2) = (vpc("vpc-1", "10.0.1.0/24"), vpc("vpc-2", "10.0.2.0/24"));
    let p = pair("p", ("vpc-1", "10.0.1.0/25"), ("vpc-2", "10.0.2.0/24"), "");
    assert_eq!(cross_errs(&[&g, &gateway, &v1, &v2, &p], true, "GWP"), []);
    assert_eq!(
        cross_errs(&[&gateway, &v1, &v2, &p], true, "GWP"),
        [at("doc3.yaml", "GWP-09")]
    );
    assert_eq!(
        cross_errs(&[&g, &v1, &v2, &p], true, "GWP"),
        [at("doc3.yaml", "GWP-14")]
    );
    assert_eq!(
        cross_errs(&[&g, &gateway, &v1, &p], true, "GWP"),
        [at("doc3.yaml", "GWP-11")]
    );
    let outside = pair("p", ("vpc-1", "10.0.0.0/16"), ("vpc-2", "10.0.2.0/24"), "");
    assert_eq!(
        cross_errs(&[&g, &gateway, &v1, &v2, &outside], true, "GWP"),
        [at("doc4.yaml", "GWP-12")]
    );
    let subnet = exposes("      - ips:\n        - vpcSubnet: nope\n", PLAIN);
    assert_eq!(
        cross_errs(&[&g, &gateway, &v1, &v2, &subnet], true, "GWP"),
        [at("doc4.yaml", "GWP-12")]
    );
    let ext = peering("p", &format!("  peering:\n    ext.e1:\n      expose:\n      - ips:\n        - cidr: 0.0.0.0/0\n    vpc-2:\n      expose:\n{PLAIN}"));
    assert_eq!(
        cross_errs(&[&g, &gateway, &v2, &ext], true, "GWP"),
        [at("doc3.yaml", "GWP-11")]
    );
    let e1 = "apiVersion: vpc.githedgehog.com/v1beta1\nkind: External\nmetadata:\n  name: e1\nspec:\n  inboundCommunity: 65102:5000\n  outboundCommunity: 5000:65102\n";
    // An external's CIDRs are not checked against anything.
    assert_eq!(cross_errs(&[&g, &gateway, &v2, e1, &ext], true, "GWP"), []);
    // Not the whole fabric: missing things are warnings.
    let found = fabric_in(&enabled(false), &[&p]);
    assert!(
        found
            .iter()
            .all(|(_, p)| !p.is_error() || !p.rule.0.starts_with("GWP")),
        "{found:?}"
    );
}

#[test]
fn acl_subnets_exist_on_their_side() {
    let (g, gateway) = (group("default"), gw("gw-1", 20, ""));
    let (v1, v2) = (vpc("vpc-1", "10.0.1.0/24"), vpc("vpc-2", "10.0.2.0/24"));
    let rule = |r: &str| {
        pair(
            "p",
            ("vpc-1", "10.0.1.0/24"),
            ("vpc-2", "10.0.2.0/24"),
            &format!("  acl:\n    rules:\n    - action: allow\n{r}"),
        )
    };
    // `to` implies from = vpc-1, whose subnet `default` exists.
    let ok = rule("      to: vpc-2\n      match:\n        src:\n        - vpcSubnet: default\n        dst:\n        - vpcSubnet: default\n");
    assert_eq!(cross_errs(&[&g, &gateway, &v1, &v2, &ok], true, "GWP"), []);
    let ext = peering(
        "p",
        &format!("  peering:\n    ext.e1:\n      expose:\n      - ips:\n        - cidr: 0.0.0.0/0\n    vpc-2:\n      expose:\n{PLAIN}  acl:\n    rules:\n    - action: allow\n      to: vpc-2\n      match:\n        src:\n        - vpcSubnet: default\n"),
    );
    let e1 = "apiVersion: vpc.githedgehog.com/v1beta1\nkind: External\nmetadata:\n  name: e1\nspec:\n  inboundCommunity: 65102:5000\n  outboundCommunity: 5000:65102\n";
    // The source side is the external: it has no subnets.
    assert_eq!(
        cross_errs(&[&g, &gateway, &v2, e1, &ext], true, "GWP"),
        [at("doc4.yaml", "GWP-13")]
    );
    let bad = rule("      from: vpc-2\n      match:\n        dst:\n        - vpcSubnet: nope\n");
    assert_eq!(
        cross_errs(&[&g, &gateway, &v1, &v2, &bad], true, "GWP"),
        [at("doc4.yaml", "GWP-13")]
    );
}

#[test]
fn exposes_towards_one_vpc_do_not_overlap() {
    let (g, gateway) = (group("default"), gw("gw-1", 20, ""));
    let vpcs: Vec<String> = [
        ("vpc-1", "10.0.0.0/8"),
        ("vpc-2", "10.0.0.0/8"),
        ("vpc-3", "10.0.0.0/8"),
    ]
    .iter()
    .map(|(n, c)| vpc(n, c))
    .collect();
    let a = pair("a", ("vpc-1", "10.1.0.0/16"), ("vpc-2", "10.2.0.0/16"), "");
    let b = pair("b", ("vpc-1", "10.1.0.0/16"), ("vpc-3", "10.2.5.0/24"), "");
    let docs = |p: &str, q: &str| {
        let mut d: Vec<&str> = vec![&g, &gateway];
        d.extend(vpcs.iter().map(String::as_str));
        d.extend([p, q]);
        cross_errs(&d, true, "GWP")
    };
    // vpc-2 and vpc-3 both expose 10.2.x towards vpc-1.
    assert_eq!(
        docs(&a, &b),
        [at("doc5.yaml", "GWP-10"), at("doc6.yaml", "GWP-10")]
    );
    let c = pair("b", ("vpc-1", "10.1.0.0/16"), ("vpc-3", "10.3.0.0/16"), "");
    assert_eq!(docs(&a, &c), []);
    // A `not` or `vpcSubnet` item towards a VPC that another peering also exposes to: the
    // webhook parses its empty cidr and fails (githedgehog/fabric#1582), on both sides.
    let d = peering("b", "  peering:\n    vpc-1:\n      expose:\n      - ips:\n        - cidr: 10.1.0.0/16\n    vpc-3:\n      expose:\n      - ips:\n        - vpcSubnet: default\n");
    assert_eq!(
        docs(&a, &d),
        [at("doc5.yaml", "GWP-10"), at("doc6.yaml", "GWP-10")]
    );
    // Alone, it is fine.
    let mut alone: Vec<&str> = vec![&g, &gateway];
    alone.extend(vpcs.iter().map(String::as_str));
    alone.push(&d);
    assert_eq!(cross_errs(&alone, true, "GWP"), []);
}
