use crate::validate::rules::testkit::{check, check_in, fabric_in, validator_with};
use crate::validate::{Problem, Validator};

pub(crate) fn enabled(whole: bool) -> Validator {
    validator_with(whole, |c| c.enable_gateway = true)
}

/// Error rule ids of one document, in a fabric with gateways enabled.
pub(crate) fn errs(text: &str) -> Vec<&'static str> {
    check_in(&enabled(false), text)
        .iter()
        .filter(|p| p.is_error())
        .map(|p| p.rule.0)
        .collect()
}

/// (file, rule) of the errors whose rule starts with `prefix`, gateways enabled, sorted.
pub(crate) fn cross_errs(docs: &[&str], whole: bool, prefix: &str) -> Vec<(String, &'static str)> {
    let mut out: Vec<(String, &str)> = fabric_in(&enabled(whole), docs)
        .into_iter()
        .filter(|(_, p)| p.is_error() && p.rule.0.starts_with(prefix))
        .map(|(f, p)| (f, p.rule.0))
        .collect();
    out.sort();
    out
}

pub(crate) fn gw(name: &str, n: u8, extra: &str) -> String {
    format!("apiVersion: gateway.githedgehog.com/v1alpha1\nkind: Gateway\nmetadata:\n  name: {name}\nspec:\n  protocolIP: 172.30.8.{n}/32\n  vtepIP: 172.30.12.{n}/32\n  vtepMAC: ca:fe:ba:be:00:{n:02x}\n  asn: 65534\n  interfaces:\n    enp2s1:\n      ips: [172.30.128.1/31]\n  neighbors:\n  - ip: 172.30.128.0\n    asn: 65100\n{extra}")
}

/// A gateway with one line of spec replaced (`  key: value`, or removed when `line` is "").
fn gw_with(key: &str, line: &str) -> String {
    gw("gw-1", 20, "")
        .lines()
        .map(|l| {
            if l.starts_with(&format!("  {key}:")) {
                line.to_string()
            } else {
                l.to_string()
            }
        })
        .filter(|l| !l.is_empty())
        .map(|l| l + "\n")
        .collect()
}

pub(crate) fn group(name: &str) -> String {
    format!("apiVersion: gateway.githedgehog.com/v1alpha1\nkind: GatewayGroup\nmetadata:\n  name: {name}\n")
}

fn none() -> Vec<&'static str> {
    Vec::new()
}

fn at(file: &str, rule: &'static str) -> (String, &'static str) {
    (file.to_string(), rule)
}

#[test]
fn a_gateway_needs_gateways_enabled_and_namespace_default() {
    assert_eq!(errs(&gw("gw-1", 20, "")), none());
    let p: Vec<Problem> = check(&gw("gw-1", 20, ""));
    assert_eq!(p.iter().map(|p| p.rule.0).collect::<Vec<_>>(), ["GW-01"]);
    assert!(p[0].assumed);
    assert_eq!(
        p[0].upstream.as_deref(),
        Some("gateway support is not enabled: invalid gateway")
    );
    let fab = gw("gw-1", 20, "").replace("  name: gw-1\n", "  name: gw-1\n  namespace: fab\n");
    assert_eq!(errs(&fab), ["GW-02"]);
    assert_eq!(errs(&group("default")), none());
    assert_eq!(
        check(&group("default"))
            .iter()
            .map(|p| p.rule.0)
            .collect::<Vec<_>>(),
        ["GWG-01"]
    );
    let g = group("default").replace("  name: default\n", "  name: default\n  namespace: fab\n");
    assert_eq!(errs(&g), ["GWG-01"]);
}

#[test]
fn workers_rate_limit_and_asn() {
    assert_eq!(errs(&gw("g", 20, "  workers: 64\n")), none());
    assert_eq!(errs(&gw("g", 20, "  workers: 65\n")), ["GW-03"]);
    // uint8: the mutating webhook cannot decode 300.
    assert_eq!(errs(&gw("g", 20, "  workers: 300\n")), ["GEN-06"]);
    // Zero burst and replenishPerSecond are defaulted, never refused (GW-04).
    assert_eq!(
        errs(&gw("g", 20, "  logs:\n    rateLimit:\n      burst: 0\n")),
        none()
    );
    assert_eq!(errs(&gw_with("asn", "")), ["GW-07"]);
}

#[test]
fn protocol_and_vtep_ips_and_mac() {
    assert_eq!(
        errs(&gw_with("protocolIP", "  protocolIP: 172.30.8.20/31")),
        ["GW-05"]
    );
    assert_eq!(errs(&gw_with("protocolIP", "")), ["GW-05"]);
    assert_eq!(
        errs(&gw_with("vtepIP", "  vtepIP: 224.0.0.5/32")),
        ["GW-05"]
    );
    assert_eq!(
        errs(&gw_with("vtepIP", "  vtepIP: 127.0.0.2/32")),
        ["GW-05"]
    );
    assert_eq!(errs(&gw_with("vtepMAC", "")), ["GW-06"]);
    assert_eq!(
        errs(&gw_with("vtepMAC", "  vtepMAC: ca:fe:ba:be:00")),
        ["GW-06"]
    );
    assert_eq!(
        errs(&gw_with("vtepMAC", "  vtepMAC: 00:00:00:00:00:00")),
        ["GW-06"]
    );
    assert_eq!(
        errs(&gw_with("vtepMAC", "  vtepMAC: 01:fe:ba:be:00:01")),
        ["GW-06"]
    );
    assert_eq!(
        errs(&gw_with("vtepMAC", "  vtepMAC: CA-FE-BA-BE-00-01")),
        none()
    );
    let p = check_in(
        &enabled(false),
        &gw_with("protocolIP", "  protocolIP: 172.30.8.20"),
    );
    assert_eq!(
        p[0].upstream.as_deref(),
        Some("invalid ProtocolIP 172.30.8.20: netip.ParsePrefix(\"172.30.8.20\"): no '/'\ninvalid gateway")
    );
}

#[test]
fn interfaces_are_linux_names_with_ipv4_prefixes() {
    let iface = |body: &str| {
        gw("g", 20, "").replace(
            "  interfaces:\n    enp2s1:\n      ips: [172.30.128.1/31]\n",
            &format!("  interfaces:\n{body}"),
        )
    };
    // 2 and 10 characters are fine, 11 are not; over 15 is "too long".
    assert_eq!(
        errs(&iface("    e0:\n      ips: [172.30.128.1/31]\n")),
        none()
    );
    assert_eq!(
        errs(&iface("    abcdefghij:\n      ips: [172.30.128.1/31]\n")),
        none()
    );
    assert_eq!(
        errs(&iface("    abcdefghijk:\n      ips: [172.30.128.1/31]\n")),
        ["GW-08"]
    );
    assert_eq!(
        errs(&iface(
            "    abcdefghijklmnop:\n      ips: [172.30.128.1/31]\n"
        )),
        ["GW-08"]
    );
    assert_eq!(
        errs(&iface("    e:\n      ips: [172.30.128.1/31]\n")),
        ["GW-08"]
    );
    assert_eq!(
        errs(&iface("    1e:\n      ips: [172.30.128.1/31]\n")),
        ["GW-08"]
    );
    assert_eq!(
        errs(&gw("g", 20, "").replace(
            "  interfaces:\n    enp2s1:\n      ips: [172.30.128.1/31]\n",
            ""
        )),
        ["GW-08"]
    );
    assert_eq!(
        errs(&iface(
            "    enp2s1:\n      kernel: enp2s1\n      ips: [10.0.0.1/31]\n"
        )),
        ["GW-08"]
    );
    assert_eq!(errs(&iface("    enp2s1: {}\n")), ["GW-08"]);
    assert_eq!(
        errs(&iface("    enp2s1:\n      ips: [10.0.0.1]\n")),
        ["GW-08"]
    );
    assert_eq!(
        errs(&iface("    enp2s1:\n      ips: [\"fd00::1/64\"]\n")),
        ["GW-08"]
    );
    let pci = |p: &str| {
        errs(&iface(&format!(
            "    eth1:\n      pci: \"{p}\"\n      ips: [10.0.0.1/31]\n"
        )))
    };
    assert_eq!(pci("0000:02:00.0"), none());
    assert_eq!(pci("ffff:ff:1f.7"), none());
    assert_eq!(pci("0000:02:00.8"), ["GW-08"]);
    assert_eq!(pci("0000:02:20.0"), ["GW-08"]);
    assert_eq!(pci("000:02:00.0"), ["GW-08"]);
    assert_eq!(pci("0000:0g:00.0"), ["GW-08"]);
    assert_eq!(pci("0000.02.00.0"), ["GW-08"]);
    assert_eq!(errs(&iface("    eth1:\n      pci: \"0000:02:00.0\"\n      kernel: enp2s1\n      ips: [10.0.0.1/31]\n")), ["GW-08"]);
}

#[test]
fn neighbors_and_groups() {
    let n = |body: &str| {
        gw("g", 20, "").replace("  neighbors:\n  - ip: 172.30.128.0\n    asn: 65100\n", body)
    };
    assert_eq!(errs(&n("")), ["GW-09"]);
    assert_eq!(errs(&n("  neighbors:\n  - asn: 65100\n")), ["GW-09"]);
    assert_eq!(
        errs(&n("  neighbors:\n  - ip: \"fd00::1\"\n    asn: 65100\n")),
        ["GW-09"]
    );
    assert_eq!(
        errs(&n("  neighbors:\n  - ip: 224.0.0.1\n    asn: 65100\n")),
        ["GW-09"]
    );
    assert_eq!(errs(&n("  neighbors:\n  - ip: 172.30.128.0\n")), ["GW-09"]);
    assert_eq!(
        errs(&gw("g", 20, "  groups:\n  - name: a\n  - name: b\n")),
        none()
    );
    assert_eq!(
        errs(&gw(
            "g",
            20,
            "  groups:\n  - name: a\n  - name: a\n    priority: 1\n"
        )),
        ["GW-10"]
    );
}

#[test]
fn ips_and_macs_are_unique_among_gateways_and_switches() {
    let g = group("default");
    let a = gw("gw-1", 20, "");
    let b = gw("gw-2", 21, "")
        .replace("172.30.8.21/32", "172.30.8.20/32")
        .replace("ca:fe:ba:be:00:15", "CA:FE:BA:BE:00:14");
    assert_eq!(
        cross_errs(&[&g, &a, &b], true, "GW"),
        [
            at("doc1.yaml", "GW-11"),
            at("doc1.yaml", "GW-11"),
            at("doc2.yaml", "GW-11"),
            at("doc2.yaml", "GW-11")
        ]
    );
    assert_eq!(cross_errs(&[&g, &a, &gw("gw-2", 21, "")], true, "GW"), []);
}

#[test]
fn groups_exist_and_respect_the_communities_cap() {
    let a = gw("gw-1", 20, "");
    assert_eq!(cross_errs(&[&a], true, "GW"), [at("doc0.yaml", "GW-12")]);
    // A partial fabric takes the installer's `default` group as present; another group must
    // already exist in the cluster: a warning.
    let found = fabric_in(&enabled(false), &[&a]);
    assert!(found.iter().all(|(_, p)| p.rule.0 != "GW-12"), "{found:?}");
    let other = gw("gw-9", 29, "  groups:\n  - name: edge\n");
    let found = fabric_in(&enabled(false), &[&other]);
    assert!(
        found
            .iter()
            .any(|(_, p)| p.rule.0 == "GW-12" && !p.is_error()),
        "{found:?}"
    );
    let g = group("default");
    let b = gw("gw-2", 21, "");
    assert_eq!(cross_errs(&[&g, &a, &b], true, "GW"), []);
    let capped = validator_with(true, |c| {
        c.enable_gateway = true;
        c.gateway_communities = 1;
    });
    let found = fabric_in(&capped, &[&g, &a, &b]);
    let caps: Vec<_> = found.iter().filter(|(_, p)| p.rule.0 == "GW-12").collect();
    assert_eq!(caps.len(), 2, "{found:?}");
    assert_eq!(
        caps[0].1.upstream.as_deref(),
        Some("gateway group default already has too many members (1), max is 1: invalid gateway")
    );
}
