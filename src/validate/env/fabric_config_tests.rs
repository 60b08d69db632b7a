use std::net::Ipv4Addr;

use super::*;

fn corpus(name: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/corpus/real")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A fab.yaml with a Fabricator whose `spec.config` holds `config` (YAML indented by 4).
fn fab(config: &str) -> String {
    format!(
        "apiVersion: fabricator.githedgehog.com/v1beta1\nkind: Fabricator\nmetadata:\n  name: default\n  namespace: fab\nspec:\n  config:\n{config}\n---\napiVersion: fabricator.githedgehog.com/v1beta1\nkind: ControlNode\nmetadata:\n  name: control-1\n  namespace: fab\nspec:\n  management:\n    interface: eno1\n"
    )
}

fn invalid(text: &str) -> (Vec<String>, String) {
    match FabricConfig::from_fab_yaml(text) {
        Err(ConfigError::Invalid { field, message, .. }) => (field, message),
        other => panic!("expected an invalid setting, got {other:?}"),
    }
}

fn path(p: &str) -> Vec<String> {
    p.split('.').map(str::to_string).collect()
}

#[test]
fn assumed_is_the_installer_default() {
    let cfg = FabricConfig::assumed();
    assert!(cfg.is_assumed());
    assert_eq!(cfg.server_facing_mtu(), 9036);
    let reserved: Vec<String> = cfg.reserved_subnets.iter().map(|p| p.to_string()).collect();
    assert_eq!(
        reserved,
        [
            "172.30.0.0/21",
            "172.30.128.0/17",
            "172.30.8.0/22",
            "172.30.12.0/22",
            "172.30.96.0/19",
            "172.30.95.0/31",
            "172.30.16.0/22"
        ]
    );
    assert_eq!(cfg.control_vip.to_string(), "172.30.0.1/32");
    assert_eq!(cfg.management_dhcp_start, Ipv4Addr::new(172, 30, 4, 0));
    assert_eq!(
        (
            cfg.spine_asn,
            cfg.leaf_asn_start,
            cfg.leaf_asn_end,
            cfg.gateway_asn
        ),
        (65100, 65101, 65533, 65534)
    );
    assert_eq!(cfg.gateway_communities.len(), 10);
    assert_eq!(cfg.gateway_communities[&9], "50001:9");
}

#[test]
fn a_fab_yaml_that_sets_nothing_gives_the_assumed_config() {
    for text in [
        fab("    {}"),
        fab("    control: {}\n    fabric:\n    gateway: {}"),
    ] {
        let cfg = FabricConfig::from_fab_yaml(&text).unwrap();
        assert_eq!(cfg.source, ConfigSource::FabYaml);
        assert_eq!(
            FabricConfig {
                source: ConfigSource::Assumed,
                ..cfg
            },
            FabricConfig::assumed()
        );
    }
}

#[test]
fn reads_the_nvidia_air_demo_fab_yaml() {
    let cfg = FabricConfig::from_fab_yaml(&corpus("nvidia-air-demo__config.yaml")).unwrap();
    assert!(!cfg.is_assumed());
    assert_eq!(cfg.management_subnet.to_string(), "192.168.200.0/24");
    assert_eq!(cfg.control_vip.to_string(), "192.168.200.1/32");
    assert_eq!(cfg.management_dhcp_start, Ipv4Addr::new(192, 168, 200, 200));
    assert_eq!(cfg.reserved_subnets[0].to_string(), "192.168.200.0/24");
    assert!(cfg.include_cumulus);
    assert!(!cfg.include_sonic_cls_plus);
    assert_eq!(cfg.gateway_communities.len(), 10);
    assert_eq!(
        cfg.vpc_irb_vlan_ranges,
        vec![VlanRange {
            from: 3000,
            to: 3899
        }]
    );
}

#[test]
fn reads_the_docs_fab_yaml_with_defaults_for_the_rest() {
    let cfg = FabricConfig::from_fab_yaml(&corpus(
        "docs__docs__install-upgrade__config.md__L39-L119.yaml",
    ))
    .unwrap();
    assert_eq!(
        FabricConfig {
            source: ConfigSource::Assumed,
            ..cfg
        },
        FabricConfig::assumed()
    );
}

#[test]
fn settings_override_the_defaults() {
    let cfg = FabricConfig::from_fab_yaml(&fab("    control:\n      managementSubnet: 10.10.0.0/16\n      controlVIP: 10.10.0.1/32\n    fabric:\n      managementDHCPStart: 10.10.128.0\n      managementDHCPEnd: 10.10.255.254\n      spineASN: 64512\n      leafASNStart: 64600\n      leafASNEnd: 64700\n      protocolSubnet: 10.20.0.0/22\n      fabricSubnet: 10.30.0.1/16\n      includeCLSP: yes\n      vpcIRBVLANs: [{from: 2101, to: 2200}, {from: 2000, to: 2100}]\n      th5WorkaroundVLANs: [{from: 3000}]\n    gateway:\n      enable: true\n      asn: 64999\n      communities:\n        0: \"50001:0\"\n        \"1\": \"50001:1\"")).unwrap();
    assert_eq!(cfg.spine_asn, 64512);
    assert_eq!((cfg.leaf_asn_start, cfg.leaf_asn_end), (64600, 64700));
    assert_eq!(cfg.gateway_asn, 64999);
    assert!(cfg.enable_gateway);
    assert!(
        cfg.include_sonic_cls_plus,
        "YAML 1.1 `yes` is true for go-yaml"
    );
    // the prefix keeps its host bits; the reserved copy is masked
    assert_eq!(cfg.fabric_subnet.to_string(), "10.30.0.1/16");
    assert_eq!(cfg.reserved_subnets[1].to_string(), "10.30.0.0/16");
    assert_eq!(
        cfg.vpc_irb_vlan_ranges,
        vec![
            VlanRange {
                from: 2000,
                to: 2100
            },
            VlanRange {
                from: 2101,
                to: 2200
            }
        ]
    );
    assert_eq!(
        cfg.th5_workaround_vlan_ranges,
        vec![VlanRange {
            from: 3000,
            to: 3000
        }]
    );
    assert_eq!(cfg.gateway_communities.len(), 2);
    assert_eq!(cfg.gateway_communities[&0], "50001:0");
}

#[test]
fn fabricator_default_fixes_old_settings() {
    // Fabricator.Default: leafASNEnd 65534 with the default gateway ASN moves to 65533, and the
    // old IRB default 3000-3999 becomes 3000-3899.
    let cfg = FabricConfig::from_fab_yaml(&fab(
        "    fabric:\n      leafASNEnd: 65534\n      vpcIRBVLANs: [{from: 3000, to: 3999}]",
    ))
    .unwrap();
    assert_eq!((cfg.leaf_asn_end, cfg.gateway_asn), (65533, 65534));
    assert_eq!(cfg.vpc_irb_vlan_ranges[0].to, 3899);
}

#[test]
fn refuses_settings_fabricator_refuses() {
    let cases = [
        (
            "    control:\n      controlVIP: 172.30.0.1/24",
            "spec.config.control.controlVIP",
            "control VIP must be /32",
        ),
        (
            "    control:\n      controlVIP: 10.0.0.1/32",
            "spec.config.control.controlVIP",
            "control VIP not in management subnet",
        ),
        (
            "    fabric:\n      managementDHCPStart: 172.30.9.0",
            "spec.config.fabric.managementDHCPStart",
            "management DHCP start not in management subnet",
        ),
        (
            "    fabric:\n      mode: collapsed-core",
            "spec.config.fabric.mode",
            "invalid fabric mode \"collapsed-core\"",
        ),
        (
            "    fabric:\n      spineASN: 65200",
            "spec.config.fabric.spineASN",
            "spine ASN must be outside leaf ASN range",
        ),
        (
            "    fabric:\n      leafASNStart: 65533",
            "spec.config.fabric.leafASNStart",
            "leaf ASN start must be less than leaf ASN end",
        ),
        (
            "    gateway:\n      asn: 65100",
            "spec.config.gateway.asn",
            "gateway ASN must be different from spine ASN",
        ),
        (
            "    fabric:\n      vtepSubnet: 172.30.8.0/21",
            "spec.config.fabric.protocolSubnet",
            "subnets 172.30.8.0/22 and 172.30.8.0/21 overlap",
        ),
        (
            "    fabric:\n      th5WorkaroundVLANs: [{from: 3800, to: 3999}]",
            "spec.config.fabric.th5WorkaroundVLANs",
            "overlap between TH5 workaround VLAN ranges and IRB VLAN ranges: VLAN ranges overlap: 3000-3899 and 3800-3999",
        ),
        (
            // fabricator checks the IRB ranges against each other too, before merging them
            "    fabric:\n      vpcIRBVLANs: [{from: 2000, to: 2100}, {from: 2050, to: 2200}]",
            "spec.config.fabric.th5WorkaroundVLANs",
            "overlap between TH5 workaround VLAN ranges and IRB VLAN ranges: VLAN ranges overlap: 2000-2100 and 2050-2200",
        ),
        (
            "    fabric:\n      vpcIRBVLANs: [{from: 4000, to: 10}]",
            "spec.config.fabric.vpcIRBVLANs",
            "config: vpcIRBVLANRange is invalid: invalid range 0: from > to",
        ),
        (
            "    gateway:\n      communities:\n        x: \"1:1\"",
            "spec.config.gateway.communities.x",
            "config: gatewayCommunity priority x is invalid",
        ),
        (
            "    gateway:\n      communities:\n        \"0\": \"70000:1\"",
            "spec.config.gateway.communities.0",
            "config: gatewayCommunity community 70000:1 is invalid",
        ),
        (
            "    fabric:\n      fabricSubnet: 172.30.128.0/017",
            "spec.config.fabric.fabricSubnet",
            "parsing fabric subnet: parsing prefix \"172.30.128.0/017\": bad bits after slash: \"017\"",
        ),
    ];
    for (config, field, message) in cases {
        let (got_field, got_message) = invalid(&fab(config));
        assert_eq!(got_field, path(field), "for {config}");
        assert_eq!(got_message, message, "for {config}");
    }
}

#[test]
fn type_errors_and_unknown_fields_name_the_field_and_line() {
    let text = fab("    fabric:\n      spineASN: \"65100\"");
    let Err(ConfigError::Yaml {
        line,
        column,
        message,
    }) = FabricConfig::from_fab_yaml(&text)
    else {
        panic!("a string ASN must be refused");
    };
    assert!(message.contains("spec.config.fabric.spineASN"), "{message}");
    assert_eq!(line, Some(9));
    assert!(column.is_some());

    let Err(ConfigError::Yaml { message, line, .. }) =
        FabricConfig::from_fab_yaml(&fab("    fabric:\n      spineAsn: 65100"))
    else {
        panic!("a misspelt field must be refused");
    };
    assert!(message.contains("unknown field `spineAsn`"), "{message}");
    assert_eq!(line, Some(9));

    let Err(ConfigError::Yaml { message, .. }) = FabricConfig::from_fab_yaml(&fab(
        "    fabric:\n      th5WorkaroundVLANs: [{from: 70000}]",
    )) else {
        panic!("a VLAN past u16 must be refused");
    };
    assert!(message.contains("th5WorkaroundVLANs"), "{message}");
}

#[test]
fn the_fabricator_must_be_there_once_in_v1beta1() {
    let control_only =
        "apiVersion: fabricator.githedgehog.com/v1beta1\nkind: ControlNode\nmetadata:\n  name: c\n";
    assert_eq!(
        FabricConfig::from_fab_yaml(control_only),
        Err(ConfigError::NoFabricator)
    );
    let two = format!("{}\n---\n{}", fab("    {}"), fab("    {}"));
    assert_eq!(
        FabricConfig::from_fab_yaml(&two),
        Err(ConfigError::MultipleFabricators {
            documents: vec![1, 3]
        })
    );
    let old = corpus("fabricator@f8b85af__config__samples__fabricator_v1alpha2_fabricator.yaml");
    assert_eq!(
        FabricConfig::from_fab_yaml(&old),
        Err(ConfigError::UnsupportedApiVersion {
            document: 1,
            found: "fabricator.githedgehog.com/v1alpha2".into()
        })
    );
    let second = format!(
        "{control_only}---\n{}",
        fab("    fabric:\n      spineASN: 65200")
    );
    let (field, _) = invalid(&second);
    assert_eq!(field, path("spec.config.fabric.spineASN"));
    let Err(ConfigError::Invalid { document, .. }) = FabricConfig::from_fab_yaml(&second) else {
        panic!("expected invalid")
    };
    assert_eq!(document, 2);
    let broken = "kind: Fabricator\nspec: [unclosed";
    assert!(matches!(
        FabricConfig::from_fab_yaml(broken),
        Err(ConfigError::Yaml { line: Some(_), .. })
    ));
}
