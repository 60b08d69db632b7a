//! The rules that need the switch profile catalog (RULES.md §8.2): SW-10..13 on a Switch,
//! CONN-07 on a Connection's switch ports, VPCA-11 on a VPCAttachment's switches. The catalog
//! and the checks themselves are `validate::env` (the built-in profiles of the fabric release,
//! gated by the fabric config); this module places what they find in the objects.

use std::collections::BTreeMap;

use super::{Ctx, F};
use crate::validate::env::{self, Catalog, Finding, Lookup, SwitchField, SwitchSettings};
use crate::validate::fabric::{Cross, Obj};
use crate::validate::tree::Node;

/// The `portBreakouts` of a switch (port → mode), as the checks read them.
pub fn breakouts(spec: &F) -> BTreeMap<String, String> {
    spec.get("portBreakouts")
        .entries()
        .map(|(k, v)| (k.to_string(), v.str().to_string()))
        .collect()
}

fn settings(spec: &F) -> SwitchSettings {
    let strs = |key: &str| -> BTreeMap<String, String> {
        spec.get(key)
            .entries()
            .map(|(k, v)| (k.to_string(), v.str().to_string()))
            .collect()
    };
    SwitchSettings {
        port_group_speeds: strs("portGroupSpeeds"),
        port_speeds: strs("portSpeeds"),
        port_breakouts: strs("portBreakouts"),
        port_auto_negs: spec
            .get("portAutoNegs")
            .entries()
            .map(|(k, v)| (k.to_string(), v.bool()))
            .collect(),
        port_fecs: strs("portFECs"),
        roce: spec.get("roce").bool(),
        ecmp_roce_qpn: spec.at(&["ecmp", "roceQPN"]).bool(),
        redundancy_type: spec.at(&["redundancy", "type"]).str().to_string(),
    }
}

/// Where a finding of a Switch's rule is: the map entry it names, else the field.
fn place<'a>(root: &F<'a>, f: &Finding) -> F<'a> {
    let field = root.at(f.field.path());
    match &f.key {
        Some(k) if f.field != SwitchField::VpcMode => {
            let entry = field.get(k);
            if entry.present() {
                entry
            } else {
                field
            }
        }
        _ => field,
    }
}

/// SW-10 (the profile exists), SW-11 (ports, speeds, breakouts, auto-negotiation, FEC),
/// SW-12 (features) and SW-13 (port counts) of one Switch.
pub fn check_switch(root: &Node, ctx: &mut Ctx) {
    let obj = F::root(root);
    let spec = obj.get("spec");
    let profile_f = spec.get("profile");
    let name = profile_f.str();
    if name.is_empty() {
        // SW-05 says it.
        return;
    }
    let profile = match Catalog::builtin().lookup(name, &ctx.env.full) {
        Lookup::Found(p) => p,
        Lookup::Gated(_, gate) => {
            ctx.config_error(
                "SW-10",
                &profile_f,
                format!("switch profile {name} is built in but not enabled in this fabric ({gate:?} is off in its config)"),
                &format!("switch profile {name} does not exist"),
            );
            return;
        }
        Lookup::Unknown => {
            let known: Vec<&str> = Catalog::builtin()
                .available(&ctx.env.full)
                .map(|p| p.name.as_str())
                .collect();
            ctx.error(
                "SW-10",
                &profile_f,
                format!(
                    "switch profile {name:?} is not one of the fabric's built-in profiles ({})",
                    known.join(", ")
                ),
                &format!("switch profile {name} does not exist"),
            );
            return;
        }
    };
    let sw = settings(&spec);
    let mut found = env::check_switch_ports(profile, &sw);
    found.extend(env::check_switch_features(profile, &sw));
    found.extend(env::check_port_counts(profile, &sw));
    for f in found {
        let at = place(&obj, &f);
        ctx.error(f.rule.as_str(), &at, f.message.clone(), &f.upstream);
    }
}

/// The profile a switch object of the index names, when the catalog has it under this config.
fn profile_of<'a>(
    cx: &Cross<'a>,
    switch: &str,
) -> Option<(&'a env::Profile, &'a super::switch::SwitchFacts)> {
    let sw = cx.index.get("Switch", switch)?;
    let super::Facts::Switch(facts) = &*sw.facts else {
        return None;
    };
    match Catalog::builtin().lookup(&facts.profile.value, &cx.env.full) {
        Lookup::Found(p) => Some((p, facts)),
        _ => None,
    }
}

/// CONN-07: every switch port of a connection exists on that switch's profile (with the
/// switch's breakouts). A switch or profile that is missing is another rule's problem.
pub fn check_connection_ports(cx: &mut Cross, obj: &Obj, ports: &[super::Spot<String>]) {
    for p in ports {
        let Some((device, port)) = p.value.split_once('/') else {
            continue;
        };
        let Some((profile, facts)) = profile_of(cx, device) else {
            continue;
        };
        if let Some(f) = env::check_connection_port(profile, device, &facts.port_breakouts, port) {
            cx.error("CONN-07", obj, &p.at, f.message, &f.upstream, None);
        }
    }
}

/// VPCA-11: the switch's profile supports the VPC's mode.
pub fn check_vpc_mode(cx: &mut Cross, obj: &Obj, at: &super::At, switch: &str, mode: &str) {
    let Some((profile, _)) = profile_of(cx, switch) else {
        return;
    };
    if let Some(f) = env::check_vpc_mode(profile, switch, mode) {
        cx.error("VPCA-11", obj, at, f.message, &f.upstream, None);
    }
}

#[cfg(test)]
mod tests {
    use crate::validate::rules::testkit::{errors, fabric_errors};

    fn switch(name: &str, profile: &str, extra: &str) -> String {
        format!("apiVersion: wiring.githedgehog.com/v1beta1\nkind: Switch\nmetadata:\n  name: {name}\nspec:\n  role: server-leaf\n  profile: {profile}\n  asn: 65101\n  ip: 172.30.0.10/21\n  protocolIP: 172.30.8.2/32\n  vtepIP: 172.30.12.2/32\n{extra}")
    }

    #[test]
    fn the_profile_exists_and_takes_the_ports_settings_and_features() {
        assert_eq!(
            errors(&switch("l", "dell-s5248f-on", "")),
            Vec::<&str>::new()
        );
        assert_eq!(errors(&switch("l", "dell-s5248", "")), ["SW-10"]);
        // A gated profile without its gate: not registered in this fabric.
        assert_eq!(errors(&switch("l", "celestica-ds3000-clsp", "")), ["SW-10"]);
        // E1/49 is a QSFP28 breakout port: 4x25G is one of its modes, 3x25G is not.
        let bo = |mode: &str| {
            switch(
                "l",
                "dell-s5248f-on",
                &format!("  portBreakouts:\n    E1/49: {mode}\n"),
            )
        };
        assert_eq!(errors(&bo("4x25G")), Vec::<&str>::new());
        assert_eq!(errors(&bo("3x25G")), ["SW-11"]);
        // ds5000 has no ESLAG (SW-12).
        let eslag = switch(
            "l",
            "celestica-ds5000",
            "  redundancy: {group: g, type: eslag}\n  groups: [g]\n",
        );
        assert!(errors(&eslag).contains(&"SW-12"), "{:?}", errors(&eslag));
    }

    fn conn(port: &str) -> String {
        format!("apiVersion: wiring.githedgehog.com/v1beta1\nkind: Connection\nmetadata:\n  name: c\nspec:\n  unbundled:\n    link:\n      server: {{port: s1/enp2s1}}\n      switch: {{port: {port}}}\n")
    }

    const SERVER: &str = "apiVersion: wiring.githedgehog.com/v1beta1\nkind: Server\nmetadata:\n  name: s1\nspec: {}\n";

    #[test]
    fn a_connection_uses_ports_the_switch_profile_has() {
        let sw = switch(
            "l",
            "dell-s5248f-on",
            "  portBreakouts:\n    E1/49: 4x25G\n",
        );
        let rules = |c: &str| -> Vec<&str> {
            fabric_errors(&[&sw, SERVER, c], true)
                .into_iter()
                .map(|(_, r)| r)
                .filter(|r| r.starts_with("CONN"))
                .collect()
        };
        assert_eq!(rules(&conn("l/E1/1")), Vec::<&str>::new());
        assert_eq!(rules(&conn("l/E1/49/4")), Vec::<&str>::new());
        // One past the breakout's last sub-port, and a port the profile does not have.
        assert_eq!(rules(&conn("l/E1/49/5")), ["CONN-07"]);
        assert_eq!(rules(&conn("l/E1/57")), ["CONN-07"]);
    }

    #[test]
    fn an_l2vni_vpc_attaches_only_to_switches_with_l2vni() {
        let vpc = "apiVersion: vpc.githedgehog.com/v1beta1\nkind: VPC\nmetadata:\n  name: v\nspec:\n  subnets:\n    default:\n      subnet: 10.0.1.0/24\n      vlan: 1001\n";
        let att = "apiVersion: vpc.githedgehog.com/v1beta1\nkind: VPCAttachment\nmetadata:\n  name: a\nspec:\n  subnet: v/default\n  connection: c\n";
        let rules = |profile: &str| -> Vec<&str> {
            let sw = switch("l", profile, "");
            fabric_errors(&[vpc, att, &sw, SERVER, &conn("l/E1/1")], false)
                .into_iter()
                .map(|(_, r)| r)
                .filter(|r| r.starts_with("VPCA"))
                .collect()
        };
        assert_eq!(rules("dell-s5248f-on"), Vec::<&str>::new());
        // ds5000 has L3VNI only: the VPC's default mode (l2vni) needs L2VNI too.
        assert_eq!(rules("celestica-ds5000"), ["VPCA-11"]);
    }
}
