use std::collections::BTreeMap;

use super::super::profiles::Catalog;
use super::*;

fn profile(name: &str) -> &'static Profile {
    &Catalog::builtin().profiles[name]
}

fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn flags(names: &[&str]) -> BTreeMap<String, bool> {
    names.iter().map(|n| (n.to_string(), true)).collect()
}

fn upstream(findings: &[Finding]) -> Vec<&str> {
    findings.iter().map(|f| f.upstream.as_str()).collect()
}

#[test]
fn sw11_a_valid_switch_has_no_findings() {
    let sw = SwitchSettings {
        port_group_speeds: map(&[("1", "10G"), ("2", "SPEED_25G")]),
        port_breakouts: map(&[("E1/49", "4x25G"), ("E1/50", "1x40G")]),
        port_fecs: map(&[
            ("E1/49/1", "rs"),
            ("E1/49/4", "fc"),
            ("E1/50", "none"),
            ("E1/1", "rs"),
        ]),
        ..Default::default()
    };
    assert_eq!(check_switch_ports(profile("dell-s5248f-on"), &sw), vec![]);
}

#[test]
fn sw11_group_speeds() {
    let sw = SwitchSettings {
        port_group_speeds: map(&[("2", "SPEED_40G"), ("13", "10G")]),
        ..Default::default()
    };
    let f = check_switch_ports(profile("dell-s5248f-on"), &sw);
    assert_eq!(
        upstream(&f),
        [
            "port group 13 not found in switch profile",
            "port group 2 does not support specified speed 40G",
        ]
    );
    assert_eq!(f[0].problem, Problem::GroupNotFound { group: "13".into() });
    assert_eq!(f[1].field, SwitchField::PortGroupSpeeds);
    assert_eq!(f[1].key.as_deref(), Some("2"));
    assert_eq!(f[1].rule, RuleId::Sw11);
    assert!(f[1].message.contains("10G, 25G"), "{}", f[1].message);
}

#[test]
fn sw11_port_speeds() {
    let sw = SwitchSettings {
        port_speeds: map(&[
            ("E1/33", "SPEED_1G"),
            ("E1/34", "25G"),
            ("E1/1", "100G"),
            ("E1/99", "10G"),
            ("M1", "1G"),
        ]),
        ..Default::default()
    };
    let f = check_switch_ports(profile("dell-s5232f-on"), &sw);
    assert_eq!(
        upstream(&f),
        [
            "port profile QSFP28-100G for port E1/1 has no supported speeds",
            "port E1/34 does not support specified speed 25G",
            "port E1/99 not found in switch profile",
            "port profile  for port M1 not found in switch profile",
        ]
    );
    // a group port has no port profile of its own: upstream's text has an empty name
    let sw = SwitchSettings {
        port_speeds: map(&[("E1/1", "25G")]),
        ..Default::default()
    };
    let f = check_switch_ports(profile("dell-s5248f-on"), &sw);
    assert_eq!(
        upstream(&f),
        ["port profile  for port E1/1 not found in switch profile"]
    );
    assert!(f[0].message.contains("portGroupSpeeds"), "{}", f[0].message);
}

#[test]
fn sw11_breakouts() {
    let sw = SwitchSettings {
        port_breakouts: map(&[("E1/49", "3x33G"), ("E1/1", "4x25G"), ("E1/57", "4x25G")]),
        ..Default::default()
    };
    let f = check_switch_ports(profile("dell-s5248f-on"), &sw);
    assert_eq!(
        upstream(&f),
        [
            "port profile  for port E1/1 not found in switch profile",
            "port E1/49 does not support specified breakout 3x33G",
            "port E1/57 not found in switch profile",
        ]
    );
    let sw = SwitchSettings {
        port_breakouts: map(&[("E1/33", "1x10G")]),
        ..Default::default()
    };
    assert_eq!(
        upstream(&check_switch_ports(profile("dell-s5232f-on"), &sw)),
        ["port profile SFP28-10G for port E1/33 has no supported breakouts"]
    );
}

#[test]
fn sw11_auto_negotiation_follows_the_breakout() {
    let ds5000 = profile("celestica-ds5000");
    let at = |breakouts: &[(&str, &str)], ports: &[&str]| {
        let sw = SwitchSettings {
            port_breakouts: map(breakouts),
            port_auto_negs: flags(ports),
            ..Default::default()
        };
        check_switch_ports(ds5000, &sw)
    };
    assert_eq!(at(&[], &["E1/1/1", "E1/64/1"]), vec![]);
    // the base name of a breakout port, sub-port n+1, a port without auto-neg
    assert_eq!(
        upstream(&at(&[], &["E1/1", "E1/1/2", "E1/65"])),
        [
            "port E1/1 does not support configuring auto negotiation",
            "port E1/1/2 does not support configuring auto negotiation",
            "port E1/65 does not support configuring auto negotiation",
        ]
    );
    assert_eq!(at(&[("E1/1", "2x400G")], &["E1/1/2"]), vec![]);
    assert_eq!(
        upstream(&at(&[("E1/1", "2x400G")], &["E1/1/3"])),
        ["port E1/1/3 does not support configuring auto negotiation"]
    );
    // group ports never take auto-negotiation
    let sw = SwitchSettings {
        port_auto_negs: flags(&["E1/1"]),
        ..Default::default()
    };
    assert_eq!(check_switch_ports(profile("dell-s5248f-on"), &sw).len(), 1);
}

#[test]
fn sw11_fec_follows_the_breakout() {
    let s5232 = profile("dell-s5232f-on");
    let at = |breakouts: &[(&str, &str)], ports: &[&str]| {
        let sw = SwitchSettings {
            port_breakouts: map(breakouts),
            port_fecs: ports
                .iter()
                .map(|p| (p.to_string(), "rs".to_string()))
                .collect(),
            ..Default::default()
        };
        check_switch_ports(s5232, &sw)
    };
    assert_eq!(at(&[], &["E1/1", "E1/1/1", "E1/32", "E1/33"]), vec![]);
    assert_eq!(
        upstream(&at(&[], &["M1", "E1/1/2"])),
        [
            "port E1/1/2 does not support configuring FEC (a broken-out port must be configured per sub-port, e.g. E1/53/1)",
            "port M1 does not support configuring FEC (a broken-out port must be configured per sub-port, e.g. E1/53/1)",
        ]
    );
    assert_eq!(at(&[("E1/1", "4x25G")], &["E1/1/1", "E1/1/4"]), vec![]);
    let f = at(&[("E1/1", "4x25G")], &["E1/1", "E1/1/5"]);
    assert_eq!(f.len(), 2);
    assert_eq!(
        f[0].problem,
        Problem::FecNotAllowed {
            port: "E1/1".into()
        }
    );
    assert_eq!(f[1].key.as_deref(), Some("E1/1/5"));
    // a refused breakout leaves its port's FEC undecided: only the breakout is reported
    let f = at(&[("E1/1", "3x33G")], &["E1/1/3"]);
    assert_eq!(
        upstream(&f),
        ["port E1/1 does not support specified breakout 3x33G"]
    );
}

#[test]
fn sw12_features() {
    let sw = SwitchSettings {
        roce: true,
        ecmp_roce_qpn: true,
        redundancy_type: "eslag".into(),
        ..Default::default()
    };
    assert_eq!(
        upstream(&check_switch_features(profile("vs"), &sw)),
        ["ECMP RoCE QPN hashing is not supported on switch profile vs"]
    );
    assert_eq!(
        upstream(&check_switch_features(profile("celestica-ds2000"), &sw)),
        [
            "RoCEv2 is not supported on switch profile celestica-ds2000",
            "ECMP RoCE QPN hashing is not supported on switch profile celestica-ds2000",
        ]
    );
    let f = check_switch_features(profile("celestica-ds5000"), &sw);
    assert_eq!(
        upstream(&f),
        ["ESLAG is not supported on switch profile celestica-ds5000"]
    );
    assert_eq!(f[0].field, SwitchField::RedundancyType);
    assert_eq!(f[0].rule, RuleId::Sw12);
    let mclag = SwitchSettings {
        redundancy_type: "mclag".into(),
        ..Default::default()
    };
    assert_eq!(
        check_switch_features(profile("celestica-ds5000"), &mclag),
        vec![]
    );
}

#[test]
fn sw13_pipeline_and_total_limits() {
    let ds5000 = profile("celestica-ds5000");
    let with = |b: &[(&str, &str)]| {
        let sw = SwitchSettings {
            port_breakouts: map(b),
            ..Default::default()
        };
        check_port_counts(ds5000, &sw)
    };
    assert_eq!(with(&[]), vec![]);
    // pipeline 1 holds E1/1 and E1/4 with 10 ports at most: 8 + 2 fits, 8 + 4 does not
    assert_eq!(with(&[("E1/1", "8x100G"), ("E1/4", "2x400G")]), vec![]);
    let f = with(&[("E1/1", "8x100G"), ("E1/4", "4x100G")]);
    assert_eq!(
        upstream(&f),
        ["pipeline 1 (ports E1/1, E1/4) has exceeded maximum ports: 12 > 10"]
    );
    assert_eq!(
        f[0].problem,
        Problem::PipelineMaxPortsExceeded {
            pipeline: "1".into(),
            ports: vec!["E1/1".into(), "E1/4".into()],
            total: 12,
            max: 10
        }
    );
    // upstream sorts port names as strings: E1/12 before E1/9
    assert_eq!(
        upstream(&with(&[("E1/9", "8x100G"), ("E1/12", "8x100G")])),
        ["pipeline 5 (ports E1/12, E1/9) has exceeded maximum ports: 16 > 10"]
    );
    // every port at 8x100G: 64 * 8 + 2 = 514 > 320, and every pipeline over its limit
    let all: Vec<(String, String)> = (1..=64)
        .map(|i| (format!("E1/{i}"), "8x100G".to_string()))
        .collect();
    let all: Vec<(&str, &str)> = all.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    let f = with(&all);
    assert_eq!(
        f[0].upstream,
        "switch celestica-ds5000 has exceeded maximum ports: 514 > 320"
    );
    assert_eq!(f.len(), 33);
    // an unsupported mode makes the count unknown (SW-11 reports the mode)
    assert_eq!(with(&[("E1/1", "3x33G"), ("E1/4", "8x100G")]), vec![]);
}

#[test]
fn sw13_profiles_without_limits() {
    let sw = SwitchSettings {
        port_breakouts: (1..=32)
            .map(|i| (format!("E1/{i}"), "4x25G".to_string()))
            .collect(),
        ..Default::default()
    };
    assert_eq!(check_port_counts(profile("dell-s5232f-on"), &sw), vec![]);
}

#[test]
fn conn07_ports_and_breakout_sub_ports() {
    let none = BTreeMap::new();
    let vs = profile("vs");
    assert!(port_allowed(vs, &none, "E1/48"));
    assert!(port_allowed(vs, &none, "M1"));
    // a port of another profile (the S5248F's breakout ports are not on vs)
    assert!(!port_allowed(vs, &none, "E1/49"));

    let s5248 = profile("dell-s5248f-on");
    assert!(port_allowed(s5248, &none, "E1/49"));
    assert!(port_allowed(s5248, &none, "E1/49/1"));
    assert!(
        !port_allowed(s5248, &none, "E1/49/2"),
        "default 1x100G has one sub-port"
    );
    assert!(
        !port_allowed(s5248, &none, "E1/1/1"),
        "a group port has no sub-ports"
    );
    let four = map(&[("E1/49", "4x25G")]);
    assert!(port_allowed(s5248, &four, "E1/49/4"));
    assert!(!port_allowed(s5248, &four, "E1/49/5"), "sub-port n+1");
    assert!(port_allowed(s5248, &four, "E1/49"));
    assert_eq!(allowed_ports(s5248, &four).len(), 1 + 48 + 7 * 2 + 1 + 4);

    let f = check_connection_port(s5248, "leaf-01", &four, "E1/49/5").unwrap();
    assert_eq!(
        f.upstream,
        "port leaf-01/E1/49/5 is not allowed for switch leaf-01"
    );
    assert_eq!(f.rule, RuleId::Conn07);
    assert_eq!(f.key.as_deref(), Some("leaf-01/E1/49/5"));
    assert_eq!(
        check_connection_port(s5248, "leaf-01", &four, "E1/49/2"),
        None
    );
}

#[test]
fn conn07_an_unsupported_breakout_blocks_the_switch() {
    let s5248 = profile("dell-s5248f-on");
    let bad = map(&[("E1/50", "3x33G")]);
    assert!(port_allowed(s5248, &bad, "E1/49/1"));
    assert!(!port_allowed(s5248, &bad, "E1/50/1"));
    let f = check_connection_port(s5248, "leaf-01", &bad, "E1/1").unwrap();
    assert_eq!(
        f.upstream,
        "failed to get NOS port mapping for switch leaf-01: port \"E1/50\" has a breakout \"3x33G\" not supported by profile \"QSFP28-100G\""
    );
    assert!(matches!(f.problem, Problem::BreakoutMappingFailed { .. }));
}

#[test]
fn vpca11_vpc_modes() {
    let ds5000 = profile("celestica-ds5000");
    let f = check_vpc_mode(ds5000, "leaf-05", "").unwrap();
    assert_eq!(
        f.upstream,
        "vpc mode  is not supported on switch profile celestica-ds5000"
    );
    assert_eq!(f.rule, RuleId::Vpca11);
    assert_eq!(f.key.as_deref(), Some("leaf-05"));
    assert_eq!(check_vpc_mode(ds5000, "leaf-05", "l3vni"), None);
    let spine = profile("celestica-ds4000");
    assert_eq!(
        check_vpc_mode(spine, "s", "l3vni").map(|f| f.upstream),
        Some("vpc mode l3vni is not supported on switch profile celestica-ds4000".into())
    );
    assert!(check_vpc_mode(spine, "s", "l3flat").is_some());
    assert_eq!(check_vpc_mode(spine, "s", "bogus"), None);
    for mode in ["", "l3vni", "l3flat"] {
        assert_eq!(check_vpc_mode(profile("vs"), "v", mode), None);
    }
}

#[test]
fn conn07_port_allowed_agrees_with_the_port_set() {
    let probes = |name: &str| {
        let mut v = vec![name.to_string(), format!("{name}/0"), format!("{name}/01")];
        v.extend((1..=9).map(|i| format!("{name}/{i}")));
        v
    };
    for p in Catalog::builtin().profiles.values() {
        let mut settings = vec![BTreeMap::new()];
        for (name, port) in &p.spec.ports {
            if let Some(b) = p.breakout_of(port) {
                for mode in b.supported.keys() {
                    settings.push(map(&[(name.as_str(), mode.as_str())]));
                }
                settings.push(map(&[(name.as_str(), "3x33G")]));
                break;
            }
        }
        for breakouts in &settings {
            let set = allowed_ports(p, breakouts);
            for name in p
                .spec
                .ports
                .keys()
                .chain(["E9/9".to_string(), "x".to_string()].iter())
            {
                for probe in probes(name) {
                    assert_eq!(
                        port_allowed(p, breakouts, &probe),
                        set.contains(&probe),
                        "{} {breakouts:?} {probe}",
                        p.name
                    );
                }
            }
        }
    }
}
