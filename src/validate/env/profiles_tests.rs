use super::*;

fn builtin(name: &str) -> &'static Profile {
    Catalog::builtin()
        .profiles
        .get(name)
        .unwrap_or_else(|| panic!("no built-in profile {name}"))
}

#[test]
fn builtin_catalog_loads() {
    let catalog = Catalog::builtin();
    assert_eq!(catalog.repository, "githedgehog/fabric");
    assert_eq!(catalog.commit, "78827debafabbd0fafc6f6abd154a89da7fb69da");
    let names: Vec<&str> = catalog.profiles.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        [
            "celestica-ds2000",
            "celestica-ds2000-clsp",
            "celestica-ds3000",
            "celestica-ds3000-clsp",
            "celestica-ds4000",
            "celestica-ds4000-clsp",
            "celestica-ds4101",
            "celestica-ds4101-clsp",
            "celestica-ds5000",
            "celestica-ds5000-clsp",
            "cumulus-vx",
            "dell-s5232f-on",
            "dell-s5248f-on",
            "dell-z9332f-on",
            "edgecore-dcs203",
            "edgecore-dcs204",
            "edgecore-dcs240",
            "edgecore-dcs501",
            "edgecore-eps202",
            "edgecore-eps203",
            "supermicro-sse-c4632sb",
            "vs",
            "vs-clsp",
        ]
    );
    // a second call gives the same parsed data
    assert!(std::ptr::eq(catalog, Catalog::builtin()));
}

/// The structure `SwitchProfile.Validate` demands of every profile, so the checks can rely on it.
#[test]
fn every_builtin_profile_is_consistent() {
    for (name, p) in &Catalog::builtin().profiles {
        assert_eq!(&p.name, name);
        assert!(!p.spec.display_name.is_empty(), "{name}");
        assert!(
            !p.spec.nos_type.is_empty() && !p.spec.platform.is_empty(),
            "{name}"
        );
        assert!(p.spec.ports.contains_key("M1"), "{name} has no M1");
        for (port_name, port) in &p.spec.ports {
            if port.management {
                assert!(port_name.starts_with('M'), "{name} {port_name}");
                continue;
            }
            assert!(port_name.starts_with("E1/"), "{name} {port_name}");
            assert!(
                port.group.is_empty() != port.profile.is_empty(),
                "{name} {port_name}: group xor profile"
            );
            if !port.group.is_empty() {
                let group = &p.spec.port_groups[&port.group];
                assert!(p.spec.port_profiles[&group.profile].speed.is_some());
            } else {
                let pp = &p.spec.port_profiles[&port.profile];
                assert!(
                    pp.speed.is_some() != pp.breakout.is_some(),
                    "{name} {port_name}"
                );
                if let Some(b) = &pp.breakout {
                    assert!(b.supported.contains_key(&b.default), "{name} {port_name}");
                    assert!(
                        port.base_nos_name.starts_with("Ethernet"),
                        "{name} {port_name}"
                    );
                    for mode in b.supported.values() {
                        assert!(mode.offsets.iter().all(|o| o.parse::<u32>().is_ok()));
                    }
                }
            }
            if !port.pipeline.is_empty() {
                assert!(
                    p.spec.pipelines.contains_key(&port.pipeline),
                    "{name} {port_name}"
                );
            }
        }
    }
}

#[test]
fn features_match_the_rules_table() {
    use Feature::*;
    let has = |name: &str, f| builtin(name).has(f);
    // RULES.md §8.2
    for name in [
        "vs",
        "dell-s5248f-on",
        "dell-s5232f-on",
        "edgecore-dcs203",
        "celestica-ds3000",
    ] {
        for f in [L2Vni, L3Vni, Eslag, Roce] {
            assert!(has(name, f), "{name} {f:?}");
        }
        assert!(!has(name, EcmpRoceQpn), "{name}");
    }
    assert!(!has("celestica-ds2000", Roce));
    assert!(has("celestica-ds2000", Eslag));
    assert!(!has("edgecore-dcs240", Mclag));
    assert!(has("edgecore-dcs240", Roce));
    assert!(!has("edgecore-eps202", Roce) && !has("edgecore-eps203", Roce));
    assert!(!has("celestica-ds5000", L2Vni));
    assert!(has("celestica-ds5000", L3Vni) && has("celestica-ds5000", EcmpRoceQpn));
    assert!(!has("celestica-ds5000", Eslag));
    for spine in [
        "celestica-ds4000",
        "dell-z9332f-on",
        "edgecore-dcs501",
        "celestica-ds4101",
    ] {
        assert!(
            !has(spine, L2Vni) && !has(spine, L3Vni) && !has(spine, Eslag),
            "{spine}"
        );
    }
    assert!(!has("edgecore-dcs501", Roce));
    assert!(has("celestica-ds4101", EcmpRoceQpn));
    assert_eq!(
        builtin("supermicro-sse-c4632sb").spec.features,
        builtin("celestica-ds3000").spec.features
    );
    for base in ["ds2000", "ds3000", "ds4000", "ds4101", "ds5000"] {
        assert_eq!(
            builtin(&format!("celestica-{base}-clsp")).spec.features,
            builtin(&format!("celestica-{base}")).spec.features,
            "{base}"
        );
    }
}

#[test]
fn vs_has_the_s5248f_ports_without_breakouts() {
    let vs = builtin("vs");
    let mut expected: Vec<String> = (1..=48).map(|i| format!("E1/{i}")).collect();
    expected.push("M1".into());
    expected.sort();
    let ports: Vec<String> = vs.spec.ports.keys().cloned().collect();
    assert_eq!(ports, expected);
    assert_eq!(vs.spec.port_groups.len(), 12);
    assert!(vs
        .spec
        .port_profiles
        .values()
        .all(|pp| pp.breakout.is_none()));
}

#[test]
fn s5248f_breakout_ports() {
    let p = builtin("dell-s5248f-on");
    let e49 = &p.spec.ports["E1/49"];
    let b = p.breakout_of(e49).unwrap();
    assert_eq!(b.default, "1x100G");
    assert_eq!(b.supported["4x25G"].offsets.len(), 4);
    assert_eq!(b.supported["2x50G"].offsets, ["0", "2"]);
    assert_eq!(p.spec.ports["E1/1"].group, "1");
    assert_eq!(
        p.spec.port_profiles["SFP28-25G"]
            .speed
            .as_ref()
            .unwrap()
            .supported,
        ["10G", "25G"]
    );
}

#[test]
fn gates_follow_the_fabric_config() {
    let catalog = Catalog::builtin();
    let mut cfg = FabricConfig::assumed();
    assert!(catalog.get("vs", &cfg).is_some());
    assert!(catalog.get("vs-clsp", &cfg).is_none());
    assert!(catalog.get("cumulus-vx", &cfg).is_none());
    assert!(catalog.get("no-such-switch", &cfg).is_none());
    assert_eq!(catalog.lookup("no-such-switch", &cfg), Lookup::Unknown);
    match catalog.lookup("celestica-ds5000-clsp", &cfg) {
        Lookup::Gated(p, gate) => {
            assert_eq!(p.name, "celestica-ds5000-clsp");
            assert_eq!(gate, ProfileGate::IncludeSonicClsPlus);
            assert_eq!(gate.setting(), "includeSONiCCLSPlus");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(catalog.available(&cfg).count(), 16);

    cfg.include_sonic_cls_plus = true;
    assert!(catalog.get("vs-clsp", &cfg).is_some());
    assert!(catalog.get("cumulus-vx", &cfg).is_none());
    assert_eq!(catalog.available(&cfg).count(), 22);
    cfg.include_cumulus = true;
    assert!(matches!(
        catalog.lookup("cumulus-vx", &cfg),
        Lookup::Found(_)
    ));
    assert_eq!(catalog.available(&cfg).count(), 23);
}

#[test]
fn from_json_refuses_bad_data() {
    assert!(matches!(
        Catalog::from_json("{}"),
        Err(CatalogError::Json(_))
    ));
    let dup = r#"{"source":{"repository":"r","commit":"c","path":"p"},"profiles":[
        {"name":"a","gate":null,"spec":{}},{"name":"a","gate":null,"spec":{}}]}"#;
    assert_eq!(
        Catalog::from_json(dup),
        Err(CatalogError::Duplicate("a".into()))
    );
    let unknown = r#"{"source":{"repository":"r","commit":"c","path":"p"},"profiles":[
        {"name":"a","gate":null,"spec":{"portz":{}}}]}"#;
    assert!(matches!(
        Catalog::from_json(unknown),
        Err(CatalogError::Json(_))
    ));
}
