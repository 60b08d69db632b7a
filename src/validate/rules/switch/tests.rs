use crate::validate::rules::testkit::{
    check, errors, fabric, fabric_errors, fabric_in, validator_with,
};

pub(crate) fn switch(name: &str, spec: &str) -> String {
    format!("apiVersion: wiring.githedgehog.com/v1beta1\nkind: Switch\nmetadata:\n  name: {name}\nspec:\n{spec}")
}

/// A hydrated leaf: management, protocol and VTEP IPs ending in `n`.
pub(crate) fn leaf(name: &str, asn: u32, n: u8, extra: &str) -> String {
    switch(
        name,
        &format!("  role: server-leaf\n  profile: vs\n  asn: {asn}\n  ip: 172.30.0.{n}/21\n  protocolIP: 172.30.8.{n}/32\n  vtepIP: 172.30.12.{n}/32\n{extra}"),
    )
}

pub(crate) fn spine(name: &str, n: u8) -> String {
    switch(
        name,
        &format!("  role: spine\n  profile: vs\n  asn: 65100\n  ip: 172.30.0.{n}/21\n  protocolIP: 172.30.8.{n}/32\n"),
    )
}

pub(crate) const VNS: &str = "apiVersion: wiring.githedgehog.com/v1beta1\nkind: VLANNamespace\nmetadata:\n  name: default\nspec:\n  ranges:\n  - from: 1000\n    to: 2999\n";

fn group(name: &str) -> String {
    format!("apiVersion: wiring.githedgehog.com/v1beta1\nkind: SwitchGroup\nmetadata:\n  name: {name}\nspec: {{}}\n")
}

fn none() -> Vec<&'static str> {
    Vec::new()
}

#[test]
fn a_hydrated_leaf_and_spine_are_valid() {
    assert_eq!(errors(&leaf("leaf-01", 65101, 10, "")), none());
    assert_eq!(errors(&spine("spine-01", 2)), none());
    // virtual-edge is neither leaf nor spine in Go (Q7): no VTEP IP, no ASN range.
    let edge = switch(
        "edge-1",
        "  role: virtual-edge\n  profile: vs\n  asn: 1\n  ip: 172.30.0.30/21\n  protocolIP: 172.30.8.30/32\n",
    );
    assert_eq!(errors(&edge), none());
}

#[test]
fn role_redundancy_type_and_link_flap_are_the_schema_s() {
    let body = "  profile: vs\n  asn: 65100\n  ip: 172.30.0.2/21\n  protocolIP: 172.30.8.2/32\n";
    assert_eq!(errors(&switch("s", body)), ["SW-01"]);
    assert_eq!(
        errors(&switch("s", &format!("  role: leaf\n{body}"))),
        ["SW-01"]
    );
    let redundancy = |r: &str| leaf("l", 65101, 10, &format!("  redundancy:\n{r}"));
    assert_eq!(
        errors(&redundancy("    group: g\n    type: lag\n")),
        ["SW-06"]
    );
    // `type: ""` written out fails the enum too (and the group has no type).
    assert_eq!(
        errors(&redundancy("    group: g\n    type: \"\"\n")),
        ["SW-06", "SW-06"]
    );
    let flap = |f: &str| leaf("l", 65101, 10, &format!("  linkFlapErrDisable:\n{f}"));
    // Present but empty: the CRD and Default() fill 3/30/300.
    assert_eq!(
        errors(&leaf("l", 65101, 10, "  linkFlapErrDisable: {}\n")),
        none()
    );
    assert_eq!(
        errors(&flap("    flapThreshold: 50\n    recoveryInterval: 0\n")),
        none()
    );
    assert_eq!(errors(&flap("    flapThreshold: 51\n")), ["SW-07"]);
    assert_eq!(errors(&flap("    samplingInterval: 0\n")), ["SW-07"]);
    assert_eq!(errors(&flap("    recoveryInterval: 65535\n")), ["SW-07"]);
}

#[test]
fn an_unhydrated_switch_lacks_asn_ips_and_vtep() {
    // The docs' wiring examples (RULES.md §9 item 6).
    let bare = switch("leaf-01", "  role: server-leaf\n  profile: vs\n");
    assert_eq!(errors(&bare), ["SW-03", "SW-03", "SW-03", "SW-04"]);
    let p = check(&bare);
    let vtep = p.iter().find(|p| p.rule.0 == "SW-04").unwrap();
    assert!(vtep.assumed, "{vtep:?}");
    assert_eq!(
        vtep.upstream.as_deref(),
        Some("error validating switch: VTEP IP is required for leaf switches in spine-leaf mode")
    );
    let spine_vtep = switch(
        "s",
        "  role: spine\n  profile: vs\n  asn: 65100\n  ip: 172.30.0.2/21\n  protocolIP: 172.30.8.2/32\n  vtepIP: 172.30.12.2/32\n",
    );
    assert_eq!(errors(&spine_vtep), ["SW-04"]);
    let no_profile = switch(
        "s",
        "  role: spine\n  asn: 65100\n  ip: 172.30.0.2/21\n  protocolIP: 172.30.8.2/32\n",
    );
    assert_eq!(errors(&no_profile), ["SW-05"]);
}

#[test]
fn redundancy_group_and_type_go_together_and_mclag_is_a_warning() {
    let r = |body: &str| leaf("l", 65101, 10, &format!("  redundancy:\n{body}"));
    assert_eq!(errors(&r("    group: eslag-1\n")), ["SW-06"]);
    assert_eq!(errors(&r("    type: eslag\n")), ["SW-06"]);
    assert_eq!(errors(&r("    group: eslag-1\n    type: eslag\n")), none());
    let p = check(&r("    group: mclag-1\n    type: mclag\n"));
    assert!(p.iter().all(|p| !p.is_error()), "{p:?}");
    let w = p.iter().find(|p| p.rule.0 == "SW-06").unwrap();
    assert_eq!(
        w.upstream.as_deref(),
        Some("MCLAG is deprecated and no longer supported")
    );
    assert_eq!(w.pos.line, 14);
}

#[test]
fn hydrated_values_sit_in_the_fabric_config_s_ranges() {
    let with = |ip: &str, proto: &str, vtep: &str, asn: u32| {
        switch(
            "l",
            &format!("  role: server-leaf\n  profile: vs\n  asn: {asn}\n  ip: {ip}\n  protocolIP: {proto}\n  vtepIP: {vtep}\n"),
        )
    };
    let ok = |ip| with(ip, "172.30.8.1/32", "172.30.12.1/32", 65101);
    assert_eq!(errors(&ok("172.30.3.255/21")), none());
    // The management DHCP range starts at 172.30.4.0; the control VIP is 172.30.0.1.
    assert_eq!(errors(&ok("172.30.4.0/21")), ["SW-14"]);
    assert_eq!(errors(&ok("172.30.0.1/21")), ["SW-14"]);
    assert_eq!(errors(&ok("10.0.0.5/24")), ["SW-14"]);
    assert_eq!(errors(&ok("172.30.0.5")), ["SW-14"]);
    let proto = |p| with("172.30.0.5/21", p, "172.30.12.1/32", 65101);
    assert_eq!(errors(&proto("172.30.8.1/31")), ["SW-15"]);
    assert_eq!(errors(&proto("172.30.20.1/32")), ["SW-15"]);
    let vtep = |v| with("172.30.0.5/21", "172.30.8.1/32", v, 65101);
    assert_eq!(errors(&vtep("172.30.12.1/24")), ["SW-17"]);
    assert_eq!(errors(&vtep("172.30.16.1/32")), ["SW-17"]);
    let asn = |a| with("172.30.0.5/21", "172.30.8.1/32", "172.30.12.1/32", a);
    // The leaf range's ends, 65101 and 65533, and one past each.
    assert_eq!(errors(&asn(65101)), none());
    assert_eq!(errors(&asn(65533)), none());
    assert_eq!(errors(&asn(65100)), ["SW-16"]);
    assert_eq!(errors(&asn(65534)), ["SW-16"]);
    let wrong_spine = switch(
        "s",
        "  role: spine\n  profile: vs\n  asn: 65101\n  ip: 172.30.0.2/21\n  protocolIP: 172.30.8.2/32\n",
    );
    assert_eq!(errors(&wrong_spine), ["SW-16"]);
    let p = check(&asn(65534));
    assert!(p[0].assumed);
    assert_eq!(
        p[0].upstream.as_deref(),
        Some("error validating switch: failed hydration validation: leaf l ASN 65534 is not within the fabric leaf ASN range 65101-65533")
    );
    // A fab.yaml with another range moves the ends.
    let v = validator_with(true, |c| c.leaf_asn_end = 65200);
    let found = fabric_in(&v, &[VNS, &asn(65201)]);
    assert!(found.iter().any(|(_, p)| p.rule.0 == "SW-16"), "{found:?}");
}

#[test]
fn namespaces_and_groups_must_exist_and_not_overlap() {
    let l = leaf("l", 65101, 10, "");
    // SW-02: an empty list becomes [default], so "at least one VLAN namespace" never fires.
    let empty = leaf("l", 65101, 10, "  vlanNamespaces: []\n");
    assert_eq!(
        fabric_errors(&[VNS, &empty], true),
        Vec::<(String, &str)>::new()
    );
    assert_eq!(
        fabric_errors(&[VNS, &l], true),
        Vec::<(String, &str)>::new()
    );
    assert_eq!(
        fabric_errors(&[&l], true),
        [("doc0.yaml".to_string(), "SW-08")]
    );
    let found = fabric(&[&l], false);
    assert!(found.iter().all(|(_, p)| !p.is_error()), "{found:?}");
    let other = "apiVersion: wiring.githedgehog.com/v1beta1\nkind: VLANNamespace\nmetadata:\n  name: other\nspec:\n  ranges:\n  - from: 2000\n    to: 2100\n";
    let both = leaf("l", 65101, 10, "  vlanNamespaces: [default, other]\n");
    assert_eq!(
        fabric_errors(&[VNS, other, &both], true),
        [("doc2.yaml".to_string(), "SW-08")]
    );
    // redundancy.group becomes a group: that SwitchGroup must exist, and is reported
    // where redundancy.group is written.
    let eslag = leaf(
        "l",
        65101,
        10,
        "  redundancy:\n    group: eslag-1\n    type: eslag\n",
    );
    let found = fabric(&[VNS, &eslag], true);
    let sw09: Vec<_> = found.iter().filter(|(_, p)| p.rule.0 == "SW-09").collect();
    assert_eq!(sw09.len(), 1, "{found:?}");
    assert_eq!(sw09[0].1.pos.line, 13);
    let g = group("eslag-1");
    assert_eq!(
        fabric_errors(&[VNS, &g, &eslag], true),
        Vec::<(String, &str)>::new()
    );
    let empty = leaf("l", 65101, 10, "  groups: [\"\"]\n");
    let rules: Vec<&str> = errors(&empty);
    assert!(
        rules.contains(&"SW-09") && rules.contains(&"GEN-04"),
        "{rules:?}"
    );
}

#[test]
fn names_that_become_labels_are_at_most_63_characters() {
    let g63 = "g".repeat(63);
    let g64 = "g".repeat(64);
    assert_eq!(
        errors(&leaf("l", 65101, 10, &format!("  groups: [{g63}]\n"))),
        none()
    );
    assert_eq!(
        errors(&leaf("l", 65101, 10, &format!("  groups: [{g64}]\n"))),
        ["GEN-04"]
    );
    assert_eq!(
        errors(&leaf(
            "l",
            65101,
            10,
            &format!("  vlanNamespaces: [{g64}]\n")
        )),
        ["GEN-04"]
    );
    let p = check(&switch(
        "s",
        &format!("  role: spine\n  profile: {g64}\n  asn: 65100\n  ip: 172.30.0.2/21\n  protocolIP: 172.30.8.2/32\n"),
    ));
    // A 64-character profile name is no built-in profile either (SW-10).
    assert_eq!(
        p.iter().map(|p| p.rule.0).collect::<Vec<_>>(),
        ["GEN-04", "SW-10"]
    );
    assert!(p[0]
        .upstream
        .as_deref()
        .unwrap()
        .starts_with("metadata.labels: Invalid value"));
}

#[test]
fn ips_and_leaf_asns_are_unique_and_reported_on_both() {
    let a = leaf("leaf-01", 65101, 10, "");
    let b = leaf("leaf-02", 65101, 11, "");
    let found = fabric_errors(&[VNS, &a, &b], true);
    assert_eq!(
        found,
        [
            ("doc1.yaml".to_string(), "SW-16"),
            ("doc2.yaml".to_string(), "SW-16")
        ]
    );
    // The MCLAG exception: a switch with MCLAG redundancy may share its ASN and VTEP.
    let pair = "  redundancy:\n    group: mclag-1\n    type: mclag\n";
    let a = leaf("leaf-01", 65101, 10, pair);
    let b = switch(
        "leaf-02",
        &format!("  role: server-leaf\n  profile: vs\n  asn: 65101\n  ip: 172.30.0.11/21\n  protocolIP: 172.30.8.11/32\n  vtepIP: 172.30.12.10/32\n{pair}"),
    );
    let g = group("mclag-1");
    assert_eq!(
        fabric_errors(&[VNS, &g, &a, &b], true),
        Vec::<(String, &str)>::new()
    );
    // Same management address (another prefix length), protocol IP and VTEP IP.
    let a = leaf("leaf-01", 65101, 10, "");
    let b = switch(
        "leaf-02",
        "  role: server-leaf\n  profile: vs\n  asn: 65102\n  ip: 172.30.0.10/24\n  protocolIP: 172.30.8.10/32\n  vtepIP: 172.30.12.10/32\n",
    );
    let found = fabric(&[VNS, &a, &b], true);
    let mut got: Vec<(String, &str)> = found
        .iter()
        .filter(|(_, p)| p.is_error())
        .map(|(f, p)| (f.clone(), p.rule.0))
        .collect();
    got.sort();
    let want: Vec<(String, &str)> = ["SW-14", "SW-15", "SW-17"]
        .into_iter()
        .flat_map(|r| [("doc1.yaml".to_string(), r), ("doc2.yaml".to_string(), r)])
        .collect();
    let mut want = want;
    want.sort();
    assert_eq!(got, want);
    let sw15 = found
        .iter()
        .find(|(f, p)| f == "doc1.yaml" && p.rule.0 == "SW-15")
        .unwrap();
    let see = sw15.1.see_also.as_ref().unwrap();
    assert_eq!(
        (see.file.as_str(), see.pos.line, see.object.as_str()),
        ("doc2.yaml", 10, "Switch/leaf-02")
    );
}

#[test]
fn gateways_share_protocol_and_vtep_ips_when_the_fabric_has_them() {
    let gw = "apiVersion: gateway.githedgehog.com/v1alpha1\nkind: Gateway\nmetadata:\n  name: gw-1\nspec:\n  protocolIP: 172.30.8.10/32\n  vtepIP: 172.30.12.50/32\n  vtepMAC: ca:fe:ba:be:00:01\n  asn: 65534\n  interfaces:\n    enp2s1:\n      ips: [172.30.128.1/31]\n  neighbors:\n  - ip: 172.30.128.0\n    asn: 65100\n";
    let gg = "apiVersion: gateway.githedgehog.com/v1alpha1\nkind: GatewayGroup\nmetadata:\n  name: default\n";
    let l = leaf("leaf-01", 65101, 10, "");
    let v = validator_with(true, |c| c.enable_gateway = true);
    let mut got: Vec<(String, &str)> = fabric_in(&v, &[VNS, gg, gw, &l])
        .into_iter()
        .filter(|(_, p)| p.is_error())
        .map(|(f, p)| (f, p.rule.0))
        .collect();
    got.sort();
    assert_eq!(
        got,
        [
            ("doc2.yaml".to_string(), "GW-11"),
            ("doc3.yaml".to_string(), "SW-15")
        ]
    );
    // Without gateways enabled the switch does not see them (the gateway is refused).
    let got: Vec<(String, &str)> = fabric_errors(&[VNS, gg, gw, &l], true);
    assert!(!got.iter().any(|(_, r)| *r == "SW-15"), "{got:?}");
}

#[test]
fn server_switch_group_and_server_profile_have_only_their_schema() {
    let doc = |kind: &str, spec: &str| {
        format!("apiVersion: wiring.githedgehog.com/v1beta1\nkind: {kind}\nmetadata:\n  name: x\nspec:\n{spec}")
    };
    // SRV-01: metadata only; a profile naming no ServerProfile is not checked (Q9).
    assert_eq!(errors(&doc("Server", "  profile: nowhere\n")), none());
    assert_eq!(errors(&doc("Server", "  profile: 7\n")), ["GEN-06"]);
    // Nor across the fabric: Server's webhook reads only metadata, and the field is "currently
    // not used by the Fabric" (server_types.go), so no problem of any severity, whole or not.
    for whole in [true, false] {
        let found = fabric(&[&doc("Server", "  profile: nowhere\n")], whole);
        assert!(found.is_empty(), "{found:?}");
    }
    // SG-01: no webhook, and a spec with no properties: anything under it is unknown, which
    // the schema reports under its own id (GEN-05), as it does types (GEN-06) for SRVP-01.
    assert_eq!(errors(&doc("SwitchGroup", "  {}\n")), none());
    assert_eq!(errors(&doc("SwitchGroup", "  type: mclag\n")), ["GEN-05"]);
    // SRVP-01: nics[].{name, ports[].name}.
    assert_eq!(
        errors(&doc(
            "ServerProfile",
            "  nics:\n  - name: nic0\n    ports:\n    - name: p0\n"
        )),
        none()
    );
    assert_eq!(errors(&doc("ServerProfile", "  nics: nic0\n")), ["GEN-06"]);
    assert_eq!(
        errors(&doc(
            "ServerProfile",
            "  nics:\n  - name: nic0\n    speed: 25G\n"
        )),
        ["GEN-05"]
    );
}
