//! The rules that read a switch profile: SW-11, SW-12, SW-13 (`Switch.Validate`,
//! `switch_types.go:556-712`), CONN-07 (`Connection.Validate`, `connection_types.go:848-867`)
//! and VPCA-11 (`VPCAttachment.Validate`, `vpcattachment_types.go:253-267`), at fabric 78827de.
//!
//! Upstream stops at the first failure and iterates Go maps, so which port it names varies;
//! these functions report every failure, in field order then key order. `upstream` is the
//! webhook's inner text, without the kind prefix of RULES.md §2 (`error validating switch: `).

use std::collections::BTreeMap;

use super::profiles::{BadBreakout, Feature, Profile};

/// The rule a finding belongs to (RULES.md ids).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RuleId {
    /// Port speeds, breakouts, auto-negotiation and FEC against the profile.
    Sw11,
    /// RoCE, ECMP RoCE QPN and ESLAG need the profile's features.
    Sw12,
    /// Port count after breakout within the profile's limits.
    Sw13,
    /// A connection's switch port exists on the switch's profile.
    Conn07,
    /// The switch's profile supports the VPC's mode.
    Vpca11,
}

impl RuleId {
    /// The id as RULES.md writes it (`SW-11`).
    pub fn as_str(self) -> &'static str {
        match self {
            RuleId::Sw11 => "SW-11",
            RuleId::Sw12 => "SW-12",
            RuleId::Sw13 => "SW-13",
            RuleId::Conn07 => "CONN-07",
            RuleId::Vpca11 => "VPCA-11",
        }
    }
}

/// The field a finding is about; with [`Finding::key`] it locates the problem.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SwitchField {
    /// Switch `spec.portGroupSpeeds` (key: the group).
    PortGroupSpeeds,
    /// Switch `spec.portSpeeds` (key: the port).
    PortSpeeds,
    /// Switch `spec.portBreakouts` (key: the port; none for SW-13's totals).
    PortBreakouts,
    /// Switch `spec.portAutoNegs` (key: the port).
    PortAutoNegs,
    /// Switch `spec.portFECs` (key: the port).
    PortFecs,
    /// Switch `spec.roce`.
    Roce,
    /// Switch `spec.ecmp.roceQPN`.
    EcmpRoceQpn,
    /// Switch `spec.redundancy.type`.
    RedundancyType,
    /// A Connection's port (key: `<switch>/<port>`); where in the connection is the caller's.
    ConnectionPort,
    /// The VPC's `spec.mode`, as seen from a VPCAttachment (key: the switch).
    VpcMode,
}

impl SwitchField {
    /// The YAML path of the field inside its object, when it is fixed.
    pub fn path(self) -> &'static [&'static str] {
        match self {
            SwitchField::PortGroupSpeeds => &["spec", "portGroupSpeeds"],
            SwitchField::PortSpeeds => &["spec", "portSpeeds"],
            SwitchField::PortBreakouts => &["spec", "portBreakouts"],
            SwitchField::PortAutoNegs => &["spec", "portAutoNegs"],
            SwitchField::PortFecs => &["spec", "portFECs"],
            SwitchField::Roce => &["spec", "roce"],
            SwitchField::EcmpRoceQpn => &["spec", "ecmp", "roceQPN"],
            SwitchField::RedundancyType => &["spec", "redundancy", "type"],
            SwitchField::ConnectionPort => &[],
            SwitchField::VpcMode => &["spec", "mode"],
        }
    }
}

/// What is wrong, with the values involved. Decide on this, not on the texts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// SW-11: `portGroupSpeeds` names a group the profile lacks.
    GroupNotFound { group: String },
    /// SW-11: the group's port profile is missing (profile data error).
    GroupProfileNotFound { group: String, port_profile: String },
    /// SW-11: the group's port profile has no speeds.
    GroupHasNoSpeeds { group: String, port_profile: String },
    /// SW-11: the speed (after stripping `SPEED_`) is not one of the group's.
    GroupSpeedUnsupported {
        group: String,
        speed: String,
        supported: Vec<String>,
    },
    /// SW-11: `portSpeeds` or `portBreakouts` names a port the profile lacks.
    PortNotFound { port: String },
    /// SW-11: the port has no port profile (a group or management port) or a missing one.
    PortProfileNotFound { port: String, port_profile: String },
    /// SW-11: `portSpeeds` on a port whose profile has no speeds (a breakout port).
    PortHasNoSpeeds { port: String, port_profile: String },
    /// SW-11: the speed is not one of the port's.
    PortSpeedUnsupported {
        port: String,
        speed: String,
        supported: Vec<String>,
    },
    /// SW-11: `portBreakouts` on a port whose profile has no breakouts.
    PortHasNoBreakouts { port: String, port_profile: String },
    /// SW-11: the breakout mode is not one of the port's.
    BreakoutUnsupported {
        port: String,
        mode: String,
        supported: Vec<String>,
    },
    /// SW-11: `portAutoNegs` on a port that does not allow it.
    AutoNegNotAllowed { port: String },
    /// SW-11: `portFECs` on a port that does not allow it.
    FecNotAllowed { port: String },
    /// SW-12: `roce: true` without the RoCE feature.
    RoceUnsupported,
    /// SW-12: `ecmp.roceQPN: true` without the ECMPRoCEQPN feature.
    EcmpRoceQpnUnsupported,
    /// SW-12: `redundancy.type: eslag` without the ESLAG feature.
    EslagUnsupported,
    /// SW-13: too many ports after breakout.
    MaxPortsExceeded { total: u32, max: u16 },
    /// SW-13: too many ports after breakout on one pipeline.
    PipelineMaxPortsExceeded {
        pipeline: String,
        ports: Vec<String>,
        total: u32,
        max: u16,
    },
    /// SW-13: a port names a pipeline the profile lacks (profile data error).
    UnknownPipeline { pipeline: String },
    /// CONN-07: the port is not a port of the switch's profile with its breakouts.
    PortNotAllowed { switch: String, port: String },
    /// CONN-07: the switch's breakouts leave the port's mode undefined, so upstream fails
    /// (`failed to get NOS port mapping for switch <sw>: ...`) on any port of the switch.
    BreakoutMappingFailed {
        switch: String,
        port: String,
        mode: String,
        port_profile: String,
    },
    /// VPCA-11: the VPC mode needs features the profile lacks.
    VpcModeUnsupported { mode: String, switch: String },
}

/// One failed rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The rule.
    pub rule: RuleId,
    /// What is wrong.
    pub problem: Problem,
    /// Where: the field of the object the rule is about.
    pub field: SwitchField,
    /// The map key inside `field` (port or group name), or the switch for VPCA-11.
    pub key: Option<String>,
    /// fgd's explanation, naming the profile and what it supports.
    pub message: String,
    /// The webhook's inner error text, exactly (RULES.md §4).
    pub upstream: String,
}

/// The parts of a Switch `spec` the profile rules read, as written in the object.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SwitchSettings {
    /// `portGroupSpeeds`: group → speed (a `SPEED_` prefix is stripped, as `Default()` does).
    pub port_group_speeds: BTreeMap<String, String>,
    /// `portSpeeds`: port → speed (`SPEED_` stripped too).
    pub port_speeds: BTreeMap<String, String>,
    /// `portBreakouts`: port → mode (`4x25G`).
    pub port_breakouts: BTreeMap<String, String>,
    /// `portAutoNegs`: port → on/off (only the names matter).
    pub port_auto_negs: BTreeMap<String, bool>,
    /// `portFECs`: port → mode (only the names matter).
    pub port_fecs: BTreeMap<String, String>,
    /// `roce`.
    pub roce: bool,
    /// `ecmp.roceQPN`.
    pub ecmp_roce_qpn: bool,
    /// `redundancy.type` (`""`, `mclag`, `eslag`).
    pub redundancy_type: String,
}

fn finding(
    rule: RuleId,
    field: SwitchField,
    key: Option<&str>,
    problem: Problem,
    message: String,
    upstream: String,
) -> Finding {
    Finding {
        rule,
        problem,
        field,
        key: key.map(str::to_string),
        message,
        upstream,
    }
}

fn strip_speed(value: &str) -> &str {
    value.strip_prefix("SPEED_").unwrap_or(value)
}

/// Whether `key` is `port` or one of its sub-ports.
fn concerns(key: &str, port: &str) -> bool {
    key == port
        || key
            .strip_prefix(port)
            .is_some_and(|rest| rest.starts_with('/'))
}

/// SW-11: `portGroupSpeeds`, `portSpeeds`, `portBreakouts`, `portAutoNegs` and `portFECs`
/// name ports and groups of `profile` with values it supports. Auto-negotiation and FEC are
/// judged with the switch's breakouts; a port whose breakout is refused gets no auto-neg or
/// FEC finding, since upstream decides those only once the breakout is valid.
pub fn check_switch_ports(profile: &Profile, sw: &SwitchSettings) -> Vec<Finding> {
    let mut out = Vec::new();
    let spec = &profile.spec;
    let p = &profile.name;
    let rule = RuleId::Sw11;

    let field = SwitchField::PortGroupSpeeds;
    for (group, raw) in &sw.port_group_speeds {
        let speed = strip_speed(raw);
        let key = Some(group.as_str());
        let Some(g) = spec.port_groups.get(group) else {
            out.push(finding(
                rule,
                field,
                key,
                Problem::GroupNotFound {
                    group: group.clone(),
                },
                format!("switch profile {p} has no port group {group}"),
                format!("port group {group} not found in switch profile"),
            ));
            continue;
        };
        let pp_name = &g.profile;
        let Some(pp) = spec.port_profiles.get(pp_name) else {
            out.push(finding(rule, field, key,
                Problem::GroupProfileNotFound { group: group.clone(), port_profile: pp_name.clone() },
                format!("switch profile {p} is broken: port group {group} uses the missing port profile {pp_name}"),
                format!("port profile {pp_name} for group {group} not found in switch profile")));
            continue;
        };
        let Some(speeds) = &pp.speed else {
            out.push(finding(
                rule,
                field,
                key,
                Problem::GroupHasNoSpeeds {
                    group: group.clone(),
                    port_profile: pp_name.clone(),
                },
                format!("port group {group} of switch profile {p} has no configurable speed"),
                format!("port profile {pp_name} for group {group} has no supported speeds"),
            ));
            continue;
        };
        if !speeds.supported.iter().any(|s| s == speed) {
            out.push(finding(
                rule,
                field,
                key,
                Problem::GroupSpeedUnsupported {
                    group: group.clone(),
                    speed: speed.to_string(),
                    supported: speeds.supported.clone(),
                },
                format!(
                    "port group {group} of switch profile {p} supports {}, not {speed}",
                    speeds.supported.join(", ")
                ),
                format!("port group {group} does not support specified speed {speed}"),
            ));
        }
    }

    let field = SwitchField::PortSpeeds;
    for (port, raw) in &sw.port_speeds {
        let speed = strip_speed(raw);
        let key = Some(port.as_str());
        let Some((pp_name, pp)) = port_profile(profile, field, port, &mut out) else {
            continue;
        };
        let Some(speeds) = &pp.speed else {
            out.push(finding(rule, field, key,
                Problem::PortHasNoSpeeds { port: port.clone(), port_profile: pp_name.clone() },
                format!("port {port} of switch profile {p} is a breakout port: set its mode in portBreakouts, not a speed"),
                format!("port profile {pp_name} for port {port} has no supported speeds")));
            continue;
        };
        if !speeds.supported.iter().any(|s| s == speed) {
            out.push(finding(
                rule,
                field,
                key,
                Problem::PortSpeedUnsupported {
                    port: port.clone(),
                    speed: speed.to_string(),
                    supported: speeds.supported.clone(),
                },
                format!(
                    "port {port} of switch profile {p} supports {}, not {speed}",
                    speeds.supported.join(", ")
                ),
                format!("port {port} does not support specified speed {speed}"),
            ));
        }
    }

    let field = SwitchField::PortBreakouts;
    let mut refused = Vec::new();
    for (port, mode) in &sw.port_breakouts {
        let key = Some(port.as_str());
        let Some((pp_name, pp)) = port_profile(profile, field, port, &mut out) else {
            continue;
        };
        let Some(b) = &pp.breakout else {
            out.push(finding(
                rule,
                field,
                key,
                Problem::PortHasNoBreakouts {
                    port: port.clone(),
                    port_profile: pp_name.clone(),
                },
                format!("port {port} of switch profile {p} cannot be broken out"),
                format!("port profile {pp_name} for port {port} has no supported breakouts"),
            ));
            continue;
        };
        if !b.supported.contains_key(mode) {
            refused.push(port.clone());
            let supported: Vec<String> = b.supported.keys().cloned().collect();
            out.push(finding(
                rule,
                field,
                key,
                Problem::BreakoutUnsupported {
                    port: port.clone(),
                    mode: mode.clone(),
                    supported: supported.clone(),
                },
                format!(
                    "port {port} of switch profile {p} supports the breakouts {}, not {mode}",
                    supported.join(", ")
                ),
                format!("port {port} does not support specified breakout {mode}"),
            ));
        }
    }
    let decidable = |key: &str| !refused.iter().any(|port| concerns(key, port));

    // The sets of ports that take a setting are built only for a switch that has settings.
    let autoneg = match sw.port_auto_negs.is_empty() {
        true => Default::default(),
        false => profile.autoneg_ports(&sw.port_breakouts).0,
    };
    for port in sw.port_auto_negs.keys() {
        if decidable(port) && !autoneg.contains(port) {
            out.push(finding(rule, SwitchField::PortAutoNegs, Some(port),
                Problem::AutoNegNotAllowed { port: port.clone() },
                format!("port {port} of switch profile {p} does not allow setting auto-negotiation (a breakout port is set per sub-port, e.g. {port}/1)"),
                format!("port {port} does not support configuring auto negotiation")));
        }
    }

    let fec = match sw.port_fecs.is_empty() {
        true => Default::default(),
        false => profile.fec_ports(&sw.port_breakouts).0,
    };
    for port in sw.port_fecs.keys() {
        if decidable(port) && !fec.contains(port) {
            out.push(finding(rule, SwitchField::PortFecs, Some(port),
                Problem::FecNotAllowed { port: port.clone() },
                format!("port {port} does not take a FEC setting on switch profile {p} with these breakouts"),
                format!("port {port} does not support configuring FEC (a broken-out port must be configured per sub-port, e.g. E1/53/1)")));
        }
    }
    out
}

/// The port profile of `port` (its name and itself), as upstream looks it up for a speed or a
/// breakout; None, with the finding said in `out`, when the profile has no such port or the
/// port no such port profile.
fn port_profile<'p>(
    profile: &'p Profile,
    field: SwitchField,
    port: &str,
    out: &mut Vec<Finding>,
) -> Option<(&'p String, &'p super::profiles::PortProfile)> {
    let p = &profile.name;
    let Some(pt) = profile.spec.ports.get(port) else {
        out.push(port_not_found(p, field, port));
        return None;
    };
    let Some(pp) = profile.spec.port_profiles.get(&pt.profile) else {
        out.push(port_profile_not_found(
            p,
            field,
            port,
            pt.group.as_str(),
            &pt.profile,
        ));
        return None;
    };
    Some((&pt.profile, pp))
}

fn port_not_found(p: &str, field: SwitchField, port: &str) -> Finding {
    finding(
        RuleId::Sw11,
        field,
        Some(port),
        Problem::PortNotFound {
            port: port.to_string(),
        },
        format!("switch profile {p} has no port {port}"),
        format!("port {port} not found in switch profile"),
    )
}

fn port_profile_not_found(
    p: &str,
    field: SwitchField,
    port: &str,
    group: &str,
    pp_name: &str,
) -> Finding {
    let message = if !group.is_empty() {
        format!("port {port} of switch profile {p} is in port group {group}: set its speed in portGroupSpeeds")
    } else if pp_name.is_empty() {
        format!("port {port} of switch profile {p} has no configurable speed or breakout")
    } else {
        format!("switch profile {p} is broken: port {port} uses the missing port profile {pp_name}")
    };
    finding(
        RuleId::Sw11,
        field,
        Some(port),
        Problem::PortProfileNotFound {
            port: port.to_string(),
            port_profile: pp_name.to_string(),
        },
        message,
        format!("port profile {pp_name} for port {port} not found in switch profile"),
    )
}

/// SW-12: `roce`, `ecmp.roceQPN` and `redundancy.type: eslag` need the profile's RoCE,
/// ECMPRoCEQPN and ESLAG features. (`mclag` gets upstream's deprecation warning, SW-06.)
pub fn check_switch_features(profile: &Profile, sw: &SwitchSettings) -> Vec<Finding> {
    let p = &profile.name;
    let rule = RuleId::Sw12;
    let mut out = Vec::new();
    if sw.roce && !profile.has(Feature::Roce) {
        out.push(finding(
            rule,
            SwitchField::Roce,
            None,
            Problem::RoceUnsupported,
            format!("switch profile {p} does not support RoCEv2"),
            format!("RoCEv2 is not supported on switch profile {p}"),
        ));
    }
    if sw.ecmp_roce_qpn && !profile.has(Feature::EcmpRoceQpn) {
        out.push(finding(
            rule,
            SwitchField::EcmpRoceQpn,
            None,
            Problem::EcmpRoceQpnUnsupported,
            format!("switch profile {p} does not support ECMP RoCE QPN hashing"),
            format!("ECMP RoCE QPN hashing is not supported on switch profile {p}"),
        ));
    }
    if sw.redundancy_type == "eslag" && !profile.has(Feature::Eslag) {
        out.push(finding(
            rule,
            SwitchField::RedundancyType,
            None,
            Problem::EslagUnsupported,
            format!("switch profile {p} does not support ESLAG redundancy"),
            format!("ESLAG is not supported on switch profile {p}"),
        ));
    }
    out
}

/// SW-13: the port count after breakout (a group or speed port counts 1, a breakout port the
/// sub-ports of its mode) is within the profile's `maxPorts` and each pipeline's `maxPorts`.
/// When a port's breakout mode is not supported (SW-11 reports it) the count is unknown and
/// nothing is reported.
pub fn check_port_counts(profile: &Profile, sw: &SwitchSettings) -> Vec<Finding> {
    let spec = &profile.spec;
    let p = &profile.name;
    let rule = RuleId::Sw13;
    let field = SwitchField::PortBreakouts;
    let mut lanes: BTreeMap<&str, u32> = BTreeMap::new();
    for (name, count) in profile.breakout_modes(&sw.port_breakouts) {
        match count {
            Ok(n) => lanes.insert(name, u32::try_from(n).unwrap_or(u32::MAX)),
            Err(_) => return Vec::new(),
        };
    }
    let mut total = 0u32;
    let mut per_pipeline: BTreeMap<&str, (u32, Vec<String>)> = BTreeMap::new();
    for (name, port) in &spec.ports {
        if port.management {
            continue;
        }
        let n = lanes.get(name.as_str()).copied().unwrap_or(1);
        total = total.saturating_add(n);
        if !port.pipeline.is_empty() {
            let entry = per_pipeline.entry(port.pipeline.as_str()).or_default();
            entry.0 = entry.0.saturating_add(n);
            entry.1.push(name.clone());
        }
    }

    let mut out = Vec::new();
    if spec.max_ports > 0 && total > u32::from(spec.max_ports) {
        let max = spec.max_ports;
        out.push(finding(rule, field, None, Problem::MaxPortsExceeded { total, max },
            format!("with these breakouts the switch has {total} ports, more than the {max} switch profile {p} allows"),
            format!("switch {p} has exceeded maximum ports: {total} > {max}")));
    }
    if !spec.pipelines.is_empty() {
        for (pipeline, (count, mut names)) in per_pipeline {
            // upstream sorts the names as strings (slices.Sort), not naturally
            names.sort();
            match spec.pipelines.get(pipeline) {
                Some(limit) if count > u32::from(limit.max_ports) => {
                    let max = limit.max_ports;
                    let list = names.join(", ");
                    out.push(finding(rule, field, None,
                        Problem::PipelineMaxPortsExceeded { pipeline: pipeline.to_string(), ports: names.clone(), total: count, max },
                        format!("with these breakouts pipeline {pipeline} of switch profile {p} (ports {list}) has {count} ports, more than its {max}"),
                        format!("pipeline {pipeline} (ports {list}) has exceeded maximum ports: {count} > {max}")));
                }
                Some(_) => {}
                None => out.push(finding(
                    rule,
                    field,
                    None,
                    Problem::UnknownPipeline {
                        pipeline: pipeline.to_string(),
                    },
                    format!(
                        "switch profile {p} is broken: a port uses the missing pipeline {pipeline}"
                    ),
                    format!("unknown port pipeline {pipeline} reference"),
                )),
            }
        }
    }
    out
}

/// CONN-07's port set: every API port name a Connection may use on a switch of `profile`
/// with `breakouts` (its `portBreakouts`): the profile's ports, and `<port>/1`..`<port>/n`
/// for a breakout port, n from the switch's mode or the profile default.
pub fn allowed_ports(
    profile: &Profile,
    breakouts: &BTreeMap<String, String>,
) -> std::collections::BTreeSet<String> {
    profile.api_ports(breakouts).0
}

/// CONN-07: whether `port` (without the `<switch>/` prefix) is allowed. A sub-port of a port
/// whose breakout mode the profile does not support is not.
/// Decided by lookups, without building [`allowed_ports`]' set: it runs once per connection
/// port of the fabric.
pub fn port_allowed(profile: &Profile, breakouts: &BTreeMap<String, String>, port: &str) -> bool {
    let lanes = |name: &str, p| {
        let b = profile.breakout_of(p)?;
        let mode = breakouts.get(name).unwrap_or(&b.default);
        Some(b.supported.get(mode).map_or(0, |m| m.offsets.len()))
    };
    if let Some(p) = profile.spec.ports.get(port) {
        return p.management || lanes(port, p).is_none_or(|n| n > 0);
    }
    let Some((parent, sub)) = port.rsplit_once('/') else {
        return false;
    };
    let Some(p) = profile.spec.ports.get(parent).filter(|p| !p.management) else {
        return false;
    };
    // upstream formats sub-ports with %d: `E1/49/01` is not a name it knows
    match (lanes(parent, p), sub.parse::<usize>()) {
        (Some(n), Ok(i)) => i >= 1 && i <= n && i.to_string() == sub,
        _ => false,
    }
}

/// CONN-07 as a finding for the connection port `<switch>/<port>`: `None` when allowed.
/// When the switch's breakouts leave some port's mode undefined, upstream cannot map any port
/// of the switch; that is reported on the first such port, once per call.
pub fn check_connection_port(
    profile: &Profile,
    switch: &str,
    breakouts: &BTreeMap<String, String>,
    port: &str,
) -> Option<Finding> {
    let key = format!("{switch}/{port}");
    let bad = profile
        .breakout_modes(breakouts)
        .find_map(|(_, lanes)| lanes.err());
    if let Some(BadBreakout {
        port: bp,
        mode,
        port_profile,
    }) = bad
    {
        return Some(finding(RuleId::Conn07, SwitchField::ConnectionPort, Some(&key),
            Problem::BreakoutMappingFailed { switch: switch.to_string(), port: bp.clone(), mode: mode.clone(), port_profile: port_profile.clone() },
            format!("switch {switch} sets port {bp} to breakout {mode}, which switch profile {} does not support, so none of its ports can be used", profile.name),
            format!("failed to get NOS port mapping for switch {switch}: port {bp:?} has a breakout {mode:?} not supported by profile {port_profile:?}")));
    }
    if port_allowed(profile, breakouts, port) {
        return None;
    }
    Some(finding(
        RuleId::Conn07,
        SwitchField::ConnectionPort,
        Some(&key),
        Problem::PortNotAllowed {
            switch: switch.to_string(),
            port: key.clone(),
        },
        format!(
            "switch profile {} of switch {switch} has no port {port} with the switch's breakouts",
            profile.name
        ),
        format!("port {key} is not allowed for switch {switch}"),
    ))
}

/// VPCA-11: the VPC `mode` is supported on a switch (`switch`) of `profile`: `""` (l2vni)
/// needs L2VNI and L3VNI, `l3vni` and `l3flat` need L3VNI. Other modes are not checked here.
pub fn check_vpc_mode(profile: &Profile, switch: &str, mode: &str) -> Option<Finding> {
    let supported = match mode {
        "" => profile.has(Feature::L2Vni) && profile.has(Feature::L3Vni),
        "l3vni" | "l3flat" => profile.has(Feature::L3Vni),
        _ => true,
    };
    if supported {
        return None;
    }
    let p = &profile.name;
    let shown = if mode.is_empty() {
        "\"\" (l2vni)"
    } else {
        mode
    };
    Some(finding(
        RuleId::Vpca11,
        SwitchField::VpcMode,
        Some(switch),
        Problem::VpcModeUnsupported {
            mode: mode.to_string(),
            switch: switch.to_string(),
        },
        format!("switch {switch} has switch profile {p}, which does not support VPC mode {shown}"),
        format!("vpc mode {mode} is not supported on switch profile {p}"),
    ))
}

#[cfg(test)]
#[path = "checks_tests.rs"]
mod tests;
