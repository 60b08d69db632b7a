//! The fabric's environment as the rules read it: its config (a fab.yaml, or the installer's
//! defaults, "assumed"), derived from `validate::env::FabricConfig` (fabricator's own steps)
//! into the rules' types.

use std::net::IpAddr;

use super::vlanns::Range;
use crate::validate::env::{self as full, ConfigSource, Ipv4Prefix};
use crate::validate::net::{parse_prefix, Prefix};

/// The fabric config fields the rules read (RULES.md §8.1), in the rules' types.
#[derive(Debug, Clone)]
pub struct FabricConfig {
    pub reserved_subnets: Vec<Prefix>,
    pub vpc_irb_vlans: Vec<Range>,
    pub th5_workaround_vlans: Vec<Range>,
    /// `vpcPeeringDisabled` (VPCP-01).
    pub vpc_peering_disabled: bool,
    /// `fabricMode`: only "spine-leaf" exists (SW-04, CONN-12/17 gates).
    pub fabric_mode: String,
    /// `fabricMTU` (CONN-04).
    pub fabric_mtu: u16,
    /// `serverFacingMTUOffset` (CONN-04).
    pub server_facing_mtu_offset: u16,
    /// `fabricSubnet`: fabric, mesh and gateway link IPs (CONN-15).
    pub fabric_subnet: Prefix,
    /// `protocolSubnet`: switch protocol IPs (SW-15).
    pub protocol_subnet: Prefix,
    /// `vtepSubnet`: leaf VTEP IPs (SW-17).
    pub vtep_subnet: Prefix,
    /// `managementSubnet`: switch management IPs (SW-14).
    pub management_subnet: Prefix,
    /// `managementDHCPStart`: switch management IPs stay below it (SW-14).
    pub management_dhcp_start: IpAddr,
    /// The address of `controlVIP`, never a switch's management IP (SW-14).
    pub control_vip: IpAddr,
    /// `spineASN` (SW-16).
    pub spine_asn: u32,
    /// `leafASNStart` (SW-16).
    pub leaf_asn_start: u32,
    /// `leafASNEnd` (SW-16).
    pub leaf_asn_end: u32,
    /// `enableGateway` (GW-01, GWG-01, GWP-01; gateways share IPs with switches: SW-15/17).
    pub enable_gateway: bool,
    /// How many `gatewayCommunities` there are: the most gateways a group takes (GW-12; 0: no cap).
    pub gateway_communities: usize,
}

#[derive(Debug, Clone)]
pub struct Env {
    pub config: FabricConfig,
    /// The whole config as fabricator derives it (for the profile catalog's gates).
    pub full: full::FabricConfig,
    /// True when `config` is fgd's built-in default, not the operator's fab.yaml.
    pub assumed: bool,
    /// `config.reserved_subnets`, `vpc_irb_vlans` and `th5_workaround_vlans` again, under the
    /// names the first rules used.
    pub reserved: Vec<Prefix>,
    pub irb_vlans: Vec<Range>,
    pub th5_vlans: Vec<Range>,
}

fn prefix(p: &Ipv4Prefix) -> Prefix {
    parse_prefix(&p.to_string()).unwrap_or(Prefix {
        addr: IpAddr::V4(p.addr),
        bits: p.len,
    })
}

fn ranges(r: &[full::VlanRange]) -> Vec<Range> {
    r.iter()
        .map(|r| Range {
            from: r.from,
            to: r.to,
        })
        .collect()
}

impl From<&full::FabricConfig> for FabricConfig {
    fn from(c: &full::FabricConfig) -> FabricConfig {
        FabricConfig {
            reserved_subnets: c.reserved_subnets.iter().map(prefix).collect(),
            vpc_irb_vlans: ranges(&c.vpc_irb_vlan_ranges),
            th5_workaround_vlans: ranges(&c.th5_workaround_vlan_ranges),
            vpc_peering_disabled: c.vpc_peering_disabled,
            fabric_mode: match c.fabric_mode {
                full::FabricMode::SpineLeaf => "spine-leaf".into(),
            },
            fabric_mtu: c.fabric_mtu,
            server_facing_mtu_offset: c.server_facing_mtu_offset,
            fabric_subnet: prefix(&c.fabric_subnet),
            protocol_subnet: prefix(&c.protocol_subnet),
            vtep_subnet: prefix(&c.vtep_subnet),
            management_subnet: prefix(&c.management_subnet),
            management_dhcp_start: IpAddr::V4(c.management_dhcp_start),
            control_vip: IpAddr::V4(c.control_vip.addr),
            spine_asn: c.spine_asn,
            leaf_asn_start: c.leaf_asn_start,
            leaf_asn_end: c.leaf_asn_end,
            enable_gateway: c.enable_gateway,
            gateway_communities: c.gateway_communities.len(),
        }
    }
}

impl Env {
    pub fn new(full: full::FabricConfig) -> Env {
        let config = FabricConfig::from(&full);
        Env {
            assumed: full.source == ConfigSource::Assumed,
            reserved: config.reserved_subnets.clone(),
            irb_vlans: config.vpc_irb_vlans.clone(),
            th5_vlans: config.th5_workaround_vlans.clone(),
            config,
            full,
        }
    }

    pub fn assumed() -> Env {
        Env::new(full::FabricConfig::assumed())
    }

    pub fn from_fab_yaml(text: &str) -> Result<Env, String> {
        full::FabricConfig::from_fab_yaml(text)
            .map(Env::new)
            .map_err(|e| e.to_string())
    }
}
