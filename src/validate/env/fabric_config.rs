//! The fabric configuration the admission webhooks run with (`meta.FabricConfig`, RULES.md §8.1).
//!
//! In a cluster it is built by fabricator from the `Fabricator` object of fab.yaml:
//! `fab.GetFabAndNodes` fills every unset setting from `fab.DefaultConfig` (mergo), then
//! `Fabricator.Validate` runs `Fabricator.Default` and checks the settings, then
//! `fabric.GetFabricConfig` derives the fabric's config and `FabricConfig.Init` normalises it.
//! [`FabricConfig::from_fab_yaml`] runs the same steps on the settings the rules read, in the
//! same order, with fabricator's error texts; [`FabricConfig::assumed`] is their result on a
//! fab.yaml that sets nothing (what `hhfab init` gives).
//!
//! Sources: fabricator fee556700e61 `pkg/fab/defaults.go`, `pkg/fab/fabutil.go`,
//! `api/fabricator/v1beta1/fabricator_types.go`, `pkg/fab/comp/fabric/fabric.go`; fabric
//! 78827de `api/meta/types.go`, `api/meta/vlan.go`.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;

use serde::Deserialize;

use super::fab_yaml::{DocHead, FabricatorDoc, VlanRangeYaml};
use super::net::{check_vlan_ranges_overlap, normalized_vlan_ranges, Ipv4Prefix, VlanRange};

/// The only `apiVersion` fabricator's loader accepts for a Fabricator.
pub const FABRICATOR_API_VERSION: &str = "fabricator.githedgehog.com/v1beta1";

/// Where a [`FabricConfig`] came from, for messages ("assumed" vs read).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfigSource {
    /// fabricator's defaults: no fab.yaml was given. Rules using it must say so.
    Assumed,
    /// Read from a fab.yaml (its unset settings still come from the defaults).
    FabYaml,
}

/// `meta.FabricMode`. Spine-leaf is the only mode the current release accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FabricMode {
    /// `spine-leaf`.
    SpineLeaf,
}

/// The settings of `meta.FabricConfig` that the admission rules read (RULES.md §8.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FabricConfig {
    /// Assumed defaults or read from a fab.yaml.
    pub source: ConfigSource,
    /// `reservedSubnets`, masked as `WithReservedSubnets` does, in fabricator's order:
    /// management, fabric, protocol, VTEP, VPC workaround, MCLAG session, proxy external.
    /// Used by VPC-08, IPNS-05, CONN-21.
    pub reserved_subnets: Vec<Ipv4Prefix>,
    /// `vpcIRBVLANRange` (fab.yaml `fabric.vpcIRBVLANs`), normalised. VLNS-03.
    pub vpc_irb_vlan_ranges: Vec<VlanRange>,
    /// `th5WorkaroundVLANRange` (fab.yaml `fabric.th5WorkaroundVLANs`), normalised. VLNS-03.
    pub th5_workaround_vlan_ranges: Vec<VlanRange>,
    /// `fabricMTU`: a constant in fabricator (9100), not settable in fab.yaml. CONN-04.
    pub fabric_mtu: u16,
    /// `serverFacingMTUOffset`: a constant in fabricator (64), not settable. CONN-04.
    pub server_facing_mtu_offset: u16,
    /// `fabricSubnet`, as written (host bits kept, as Go prints it). CONN-15.
    pub fabric_subnet: Ipv4Prefix,
    /// `protocolSubnet`. SW-15.
    pub protocol_subnet: Ipv4Prefix,
    /// `vtepSubnet`. SW-17.
    pub vtep_subnet: Ipv4Prefix,
    /// `managementSubnet` (fab.yaml `control.managementSubnet`). SW-14.
    pub management_subnet: Ipv4Prefix,
    /// `managementDHCPStart`. SW-14.
    pub management_dhcp_start: Ipv4Addr,
    /// `controlVIP` (fab.yaml `control.controlVIP`), a /32. SW-14 counts its address as used.
    pub control_vip: Ipv4Prefix,
    /// `spineASN`. SW-16.
    pub spine_asn: u32,
    /// `leafASNStart`. SW-16.
    pub leaf_asn_start: u32,
    /// `leafASNEnd`. SW-16.
    pub leaf_asn_end: u32,
    /// `gatewayASN` (fab.yaml `gateway.asn`).
    pub gateway_asn: u32,
    /// `fabricMode` (fab.yaml `fabric.mode`). SW-04, CONN eslag/gateway gates.
    pub fabric_mode: FabricMode,
    /// `enableGateway` (fab.yaml `gateway.enable`). GW-01, SW-15/17 count gateway IPs.
    pub enable_gateway: bool,
    /// `gatewayCommunities` (fab.yaml `gateway.communities`): priority → community. Their
    /// number caps a gateway group's members (GW-12). `Fabricator.Default` fills ten
    /// (`0`..`9` → `50001:0`..`50001:9`) when fab.yaml sets none.
    pub gateway_communities: BTreeMap<u32, String>,
    /// `vpcPeeringDisabled`: hard-coded `false` by fabricator. VPCP-01.
    pub vpc_peering_disabled: bool,
    /// `includeSONiCCLSPlus` (fab.yaml `fabric.includeCLSP`): registers the `*-clsp` profiles.
    pub include_sonic_cls_plus: bool,
    /// `includeCumulus` (fab.yaml `fabric.includeCumulus`): registers `cumulus-vx`.
    pub include_cumulus: bool,
    /// `allowExtraSwitchProfiles`: hard-coded `false` by fabricator. SP-01.
    pub allow_extra_switch_profiles: bool,
}

/// Why a fab.yaml gives no fabric config. Every variant names where the problem is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// The YAML does not parse, or a field has the wrong type, is unknown or repeated.
    /// `message` is serde_yaml's, which starts with the field's path when it has one.
    #[error("{message}")]
    Yaml {
        /// 1-based line in the whole text, when known.
        line: Option<usize>,
        /// 1-based column, when known.
        column: Option<usize>,
        /// What is wrong.
        message: String,
    },
    /// No document has `kind: Fabricator`.
    #[error("no document has kind: Fabricator (apiVersion {FABRICATOR_API_VERSION})")]
    NoFabricator,
    /// More than one Fabricator (fabricator: `exactly one fabricator is required`).
    #[error("documents {documents:?} are all Fabricators: exactly one fabricator is required")]
    MultipleFabricators {
        /// 1-based document numbers.
        documents: Vec<usize>,
    },
    /// The Fabricator has an apiVersion fabricator does not read.
    #[error(
        "document {document}: Fabricator apiVersion {found:?} is not {FABRICATOR_API_VERSION}"
    )]
    UnsupportedApiVersion {
        /// 1-based document number.
        document: usize,
        /// The apiVersion found (empty when missing).
        found: String,
    },
    /// A setting is refused by fabricator.
    #[error("document {document}: {}: {message}", field.join("."))]
    Invalid {
        /// 1-based document number of the Fabricator.
        document: usize,
        /// Path of the offending setting, e.g. `["spec","config","fabric","spineASN"]`. For a
        /// rule between two settings, the one fabricator names first.
        field: Vec<String>,
        /// fabricator's error text.
        message: String,
    },
}

const DEFAULT_COMMUNITY_COUNT: u32 = 10;

impl FabricConfig {
    /// fabricator's defaults (`fab.DefaultConfig` after `Fabricator.Default`), marked assumed.
    pub fn assumed() -> Self {
        let prefix = |a, b, c, d, len| Ipv4Prefix {
            addr: Ipv4Addr::new(a, b, c, d),
            len,
        };
        FabricConfig {
            source: ConfigSource::Assumed,
            reserved_subnets: vec![
                prefix(172, 30, 0, 0, 21),
                prefix(172, 30, 128, 0, 17),
                prefix(172, 30, 8, 0, 22),
                prefix(172, 30, 12, 0, 22),
                prefix(172, 30, 96, 0, 19),
                prefix(172, 30, 95, 0, 31),
                prefix(172, 30, 16, 0, 22),
            ],
            vpc_irb_vlan_ranges: vec![VlanRange {
                from: 3000,
                to: 3899,
            }],
            th5_workaround_vlan_ranges: vec![VlanRange {
                from: 3900,
                to: 3999,
            }],
            fabric_mtu: 9100,
            server_facing_mtu_offset: 64,
            fabric_subnet: prefix(172, 30, 128, 0, 17),
            protocol_subnet: prefix(172, 30, 8, 0, 22),
            vtep_subnet: prefix(172, 30, 12, 0, 22),
            management_subnet: prefix(172, 30, 0, 0, 21),
            management_dhcp_start: Ipv4Addr::new(172, 30, 4, 0),
            control_vip: prefix(172, 30, 0, 1, 32),
            spine_asn: 65100,
            leaf_asn_start: 65101,
            leaf_asn_end: 65533,
            gateway_asn: 65534,
            fabric_mode: FabricMode::SpineLeaf,
            enable_gateway: false,
            gateway_communities: default_communities(),
            vpc_peering_disabled: false,
            include_sonic_cls_plus: false,
            include_cumulus: false,
            allow_extra_switch_profiles: false,
        }
    }

    /// Whether the config is fabricator's defaults rather than a fab.yaml's.
    pub fn is_assumed(&self) -> bool {
        self.source == ConfigSource::Assumed
    }

    /// The largest MTU of a server-facing connection (CONN-04): 9036 by default.
    pub fn server_facing_mtu(&self) -> u16 {
        self.fabric_mtu
            .saturating_sub(self.server_facing_mtu_offset)
    }

    /// Reads the `Fabricator` of a fab.yaml (a multi-document YAML text; its ControlNode and
    /// FabNode documents are skipped) and derives the fabric config as fabricator does.
    pub fn from_fab_yaml(text: &str) -> Result<FabricConfig, ConfigError> {
        let document = find_fabricator(text)?;
        let doc = serde_yaml::Deserializer::from_str(text)
            .nth(document - 1)
            .ok_or(ConfigError::NoFabricator)?;
        let fab = FabricatorDoc::deserialize(doc).map_err(yaml_error)?;
        derive(document, fab)
    }
}

fn default_communities() -> BTreeMap<u32, String> {
    (0..DEFAULT_COMMUNITY_COUNT)
        .map(|i| (i, format!("50001:{i}")))
        .collect()
}

fn yaml_error(e: serde_yaml::Error) -> ConfigError {
    let location = e.location();
    ConfigError::Yaml {
        line: location.as_ref().map(|l| l.line()),
        column: location.as_ref().map(|l| l.column()),
        message: e.to_string(),
    }
}

/// The 1-based number of the one Fabricator document.
fn find_fabricator(text: &str) -> Result<usize, ConfigError> {
    let mut found = Vec::new();
    for (idx, doc) in serde_yaml::Deserializer::from_str(text).enumerate() {
        let head = Option::<DocHead>::deserialize(doc).map_err(yaml_error)?;
        if let Some(head) = head.filter(|h| h.kind.as_deref() == Some("Fabricator")) {
            found.push((idx + 1, head.api_version.unwrap_or_default()));
        }
    }
    match found.as_slice() {
        [] => Err(ConfigError::NoFabricator),
        [(document, version)] if version != FABRICATOR_API_VERSION => {
            Err(ConfigError::UnsupportedApiVersion {
                document: *document,
                found: version.clone(),
            })
        }
        [(document, _)] => Ok(*document),
        _ => Err(ConfigError::MultipleFabricators {
            documents: found.into_iter().map(|(d, _)| d).collect(),
        }),
    }
}

/// A setting after the mergo merge: the fab.yaml's value unless unset or zero.
fn or_default(value: Option<String>, default: &str) -> String {
    value
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| default.to_string())
}

fn or_default_u32(value: Option<u32>, default: u32) -> u32 {
    value.filter(|v| *v != 0).unwrap_or(default)
}

fn ranges_or_default(value: Option<Vec<VlanRangeYaml>>, default: VlanRange) -> Vec<VlanRange> {
    match value {
        Some(list) if !list.is_empty() => list
            .into_iter()
            .map(|r| VlanRange {
                from: r.from.unwrap_or(0),
                to: r.to.unwrap_or(0),
            })
            .collect(),
        _ => vec![default],
    }
}

/// Names a setting for [`ConfigError::Invalid`].
struct Ctx {
    document: usize,
}

impl Ctx {
    fn err(&self, path: &[&str], message: impl Into<String>) -> ConfigError {
        ConfigError::Invalid {
            document: self.document,
            field: ["spec", "config"]
                .iter()
                .chain(path)
                .map(|s| s.to_string())
                .collect(),
            message: message.into(),
        }
    }

    /// fabricator's `meta.Prefix.Parse`, with its error wording.
    fn prefix(&self, path: &[&str], what: &str, value: &str) -> Result<Ipv4Prefix, ConfigError> {
        Ipv4Prefix::parse(value).map_err(|e| {
            self.err(
                path,
                format!("parsing {what}: parsing prefix {value:?}: {e}"),
            )
        })
    }

    /// fabricator's `meta.Addr.Parse`.
    fn addr(&self, path: &[&str], what: &str, value: &str) -> Result<Ipv4Addr, ConfigError> {
        value
            .parse::<Ipv4Addr>()
            .map_err(|_| self.err(path, format!("parsing {what}: parsing addr {value:?}")))
    }
}

fn derive(document: usize, fab: FabricatorDoc) -> Result<FabricConfig, ConfigError> {
    let cx = Ctx { document };
    let config = fab.spec.and_then(|s| s.config).unwrap_or_default();
    let control = config.control.unwrap_or_default();
    let fabric = config.fabric.unwrap_or_default();
    let gateway = config.gateway.unwrap_or_default();

    // mergo.Merge(&f.Spec.Config, DefaultConfig): zero values take the default.
    let mgmt_subnet = or_default(control.management_subnet, "172.30.0.0/21");
    let control_vip = or_default(control.control_vip, "172.30.0.1/32");
    let dummy_subnet = or_default(control.dummy_subnet, "172.30.90.0/24");
    let mode = or_default(fabric.mode, "spine-leaf");
    let dhcp_start = or_default(fabric.management_dhcp_start, "172.30.4.0");
    let dhcp_end = or_default(fabric.management_dhcp_end, "172.30.7.254");
    let spine_asn = or_default_u32(fabric.spine_asn, 65100);
    let leaf_asn_start = or_default_u32(fabric.leaf_asn_start, 65101);
    let mut leaf_asn_end = or_default_u32(fabric.leaf_asn_end, 65533);
    let protocol_subnet = or_default(fabric.protocol_subnet, "172.30.8.0/22");
    let vtep_subnet = or_default(fabric.vtep_subnet, "172.30.12.0/22");
    let proxy_external_subnet = or_default(fabric.proxy_external_subnet, "172.30.16.0/22");
    let fabric_subnet = or_default(fabric.fabric_subnet, "172.30.128.0/17");
    let mut irb = ranges_or_default(
        fabric.vpc_irb_vlans,
        VlanRange {
            from: 3000,
            to: 3899,
        },
    );
    let workaround_vlans = ranges_or_default(
        fabric.vpc_workaround_vlans,
        VlanRange {
            from: 100,
            to: 3999,
        },
    );
    let vpc_workaround_subnet = or_default(fabric.vpc_workaround_subnet, "172.30.96.0/19");
    let mclag_session_subnet = or_default(fabric.mclag_session_subnet, "172.30.95.0/31");
    let th5 = ranges_or_default(
        fabric.th5_workaround_vlans,
        VlanRange {
            from: 3900,
            to: 3999,
        },
    );
    let mut gateway_asn = or_default_u32(gateway.asn, 65534);

    // Fabricator.Default.
    if leaf_asn_end == 65534 && (gateway_asn == 0 || gateway_asn == 65534) {
        leaf_asn_end = 65533;
        gateway_asn = 65534;
    }
    if let [only] = irb.as_mut_slice() {
        if only.from == 3000 && only.to == 3999 {
            only.to = 3899;
        }
    }
    let communities_raw: Vec<(String, String)> = match gateway.communities {
        Some(map) if !map.is_empty() => map.into_iter().map(|(k, v)| (k.0, v)).collect(),
        _ => default_communities()
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
    };

    // Fabricator.Validate, the checks on these settings, in its order.
    let mgmt = cx.prefix(
        &["control", "managementSubnet"],
        "management subnet",
        &mgmt_subnet,
    )?;
    let dhcp_start_path = ["fabric", "managementDHCPStart"];
    let dhcp_start = cx.addr(&dhcp_start_path, "management DHCP start", &dhcp_start)?;
    if !mgmt.contains(dhcp_start) {
        return Err(cx.err(
            &dhcp_start_path,
            "management DHCP start not in management subnet",
        ));
    }
    let dhcp_end_path = ["fabric", "managementDHCPEnd"];
    let dhcp_end = cx.addr(&dhcp_end_path, "management DHCP end", &dhcp_end)?;
    if !mgmt.contains(dhcp_end) {
        return Err(cx.err(
            &dhcp_end_path,
            "management DHCP end not in management subnet",
        ));
    }
    let vip_path = ["control", "controlVIP"];
    let vip = cx.prefix(&vip_path, "control VIP", &control_vip)?;
    if !mgmt.contains(vip.addr) {
        return Err(cx.err(&vip_path, "control VIP not in management subnet"));
    }
    if vip.len != 32 {
        return Err(cx.err(&vip_path, "control VIP must be /32"));
    }
    let dummy = cx.prefix(&["control", "dummySubnet"], "dummy subnet", &dummy_subnet)?;

    let fabric_mode = match mode.as_str() {
        "spine-leaf" => FabricMode::SpineLeaf,
        other => {
            return Err(cx.err(
                &["fabric", "mode"],
                format!("invalid fabric mode {other:?}"),
            ))
        }
    };
    let spine_path = ["fabric", "spineASN"];
    if spine_asn >= leaf_asn_start && spine_asn <= leaf_asn_end {
        return Err(cx.err(&spine_path, "spine ASN must be outside leaf ASN range"));
    }
    if leaf_asn_start >= leaf_asn_end {
        return Err(cx.err(
            &["fabric", "leafASNStart"],
            "leaf ASN start must be less than leaf ASN end",
        ));
    }
    let gw_path = ["gateway", "asn"];
    if gateway_asn == spine_asn {
        return Err(cx.err(&gw_path, "gateway ASN must be different from spine ASN"));
    }
    if gateway_asn >= leaf_asn_start && gateway_asn <= leaf_asn_end {
        return Err(cx.err(&gw_path, "gateway ASN must be outside leaf ASN range"));
    }

    let protocol = cx.prefix(
        &["fabric", "protocolSubnet"],
        "protocol subnet",
        &protocol_subnet,
    )?;
    let vtep = cx.prefix(&["fabric", "vtepSubnet"], "VTEP subnet", &vtep_subnet)?;
    let fabric_net = cx.prefix(&["fabric", "fabricSubnet"], "fabric subnet", &fabric_subnet)?;
    let mclag = cx.prefix(
        &["fabric", "mclagSessionSubnet"],
        "MCLAG session subnet",
        &mclag_session_subnet,
    )?;
    let vpc_loop = cx.prefix(
        &["fabric", "vpcWorkaroundSubnet"],
        "VPC workaround subnet",
        &vpc_workaround_subnet,
    )?;

    let th5_path = ["fabric", "th5WorkaroundVLANs"];
    let both: Vec<VlanRange> = th5.iter().chain(&irb).copied().collect();
    check_vlan_ranges_overlap(&both).map_err(|e| {
        cx.err(
            &th5_path,
            format!("overlap between TH5 workaround VLAN ranges and IRB VLAN ranges: {e}"),
        )
    })?;

    let checked = [
        (["control", "managementSubnet"], mgmt),
        (["fabric", "protocolSubnet"], protocol),
        (["fabric", "vtepSubnet"], vtep),
        (["fabric", "fabricSubnet"], fabric_net),
        (["control", "dummySubnet"], dummy),
        (["fabric", "mclagSessionSubnet"], mclag),
        (["fabric", "vpcWorkaroundSubnet"], vpc_loop),
    ];
    for (i, (path, some)) in checked.iter().enumerate() {
        for (j, (_, other)) in checked.iter().enumerate() {
            if i != j && some.overlaps(other) {
                return Err(cx.err(path, format!("subnets {some} and {other} overlap")));
            }
        }
    }

    let mut gateway_communities = BTreeMap::new();
    for (prio, comm) in &communities_raw {
        let path = ["gateway", "communities", prio.as_str()];
        let Ok(prio_num) = prio.parse::<u32>() else {
            return Err(cx.err(
                &path,
                format!("config: gatewayCommunity priority {prio} is invalid"),
            ));
        };
        let parts: Vec<&str> = comm.split(':').collect();
        if parts.len() != 2 {
            return Err(cx.err(
                &path,
                format!("config: gatewayCommunity community {comm} format is invalid"),
            ));
        }
        if parts.iter().any(|p| p.parse::<u16>().is_err()) {
            return Err(cx.err(
                &path,
                format!("config: gatewayCommunity community {comm} is invalid"),
            ));
        }
        gateway_communities.insert(prio_num, comm.clone());
    }

    // GetFabricConfig's reserved subnets, then FabricConfig.Init.
    let proxy = cx.prefix(
        &["fabric", "proxyExternalSubnet"],
        "proxy external subnet",
        &proxy_external_subnet,
    )?;
    let reserved_subnets = [mgmt, fabric_net, protocol, vtep, vpc_loop, mclag, proxy]
        .iter()
        .map(Ipv4Prefix::masked)
        .collect();
    let vpc_irb_vlan_ranges = normalized_vlan_ranges(&irb).map_err(|e| {
        cx.err(
            &["fabric", "vpcIRBVLANs"],
            format!("config: vpcIRBVLANRange is invalid: {e}"),
        )
    })?;
    normalized_vlan_ranges(&workaround_vlans).map_err(|e| {
        cx.err(
            &["fabric", "vpcWorkaroundVLANs"],
            format!("config: vpcPeeringVLANRange is invalid: {e}"),
        )
    })?;
    let th5_workaround_vlan_ranges = normalized_vlan_ranges(&th5).map_err(|e| {
        cx.err(
            &th5_path,
            format!("config: th5WorkaroundVLANRange is invalid: {e}"),
        )
    })?;

    Ok(FabricConfig {
        source: ConfigSource::FabYaml,
        reserved_subnets,
        vpc_irb_vlan_ranges,
        th5_workaround_vlan_ranges,
        fabric_mtu: 9100,
        server_facing_mtu_offset: 64,
        fabric_subnet: fabric_net,
        protocol_subnet: protocol,
        vtep_subnet: vtep,
        management_subnet: mgmt,
        management_dhcp_start: dhcp_start,
        control_vip: vip,
        spine_asn,
        leaf_asn_start,
        leaf_asn_end,
        gateway_asn,
        fabric_mode,
        enable_gateway: gateway.enable.unwrap_or(false),
        gateway_communities,
        vpc_peering_disabled: false,
        include_sonic_cls_plus: fabric.include_clsp.unwrap_or(false),
        include_cumulus: fabric.include_cumulus.unwrap_or(false),
        allow_extra_switch_profiles: false,
    })
}

#[cfg(test)]
#[path = "fabric_config_tests.rs"]
mod tests;
