//! The fabric's environment: its config (fab.yaml, or the installer's defaults, "assumed").

use std::net::{IpAddr, Ipv4Addr};

use super::vlanns::Range;
use crate::validate::net::{parse_prefix, Prefix};

/// The fabric config fields the rules read (RULES.md §8.1).
#[derive(Debug, Clone)]
pub struct FabricConfig {
    pub reserved_subnets: Vec<Prefix>,
    pub vpc_irb_vlans: Vec<Range>,
    pub th5_workaround_vlans: Vec<Range>,
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
    /// True when `config` is fgd's built-in default, not the operator's fab.yaml.
    pub assumed: bool,
}

impl Env {
    pub fn assumed() -> Env {
        let reserved = [
            "172.30.0.0/21",
            "172.30.128.0/17",
            "172.30.8.0/22",
            "172.30.12.0/22",
            "172.30.96.0/19",
            "172.30.95.0/31",
            "172.30.16.0/22",
        ];
        Env {
            config: FabricConfig {
                reserved_subnets: reserved
                    .iter()
                    .filter_map(|s| parse_prefix(s).ok())
                    .collect(),
                vpc_irb_vlans: vec![Range {
                    from: 3000,
                    to: 3899,
                }],
                th5_workaround_vlans: vec![Range {
                    from: 3900,
                    to: 3999,
                }],
                fabric_mode: "spine-leaf".into(),
                fabric_mtu: 9100,
                server_facing_mtu_offset: 64,
                fabric_subnet: v4_prefix([172, 30, 128, 0], 17),
                protocol_subnet: v4_prefix([172, 30, 8, 0], 22),
                vtep_subnet: v4_prefix([172, 30, 12, 0], 22),
                management_subnet: v4_prefix([172, 30, 0, 0], 21),
                management_dhcp_start: IpAddr::V4(Ipv4Addr::new(172, 30, 4, 0)),
                control_vip: IpAddr::V4(Ipv4Addr::new(172, 30, 0, 1)),
                spine_asn: 65100,
                leaf_asn_start: 65101,
                leaf_asn_end: 65533,
                enable_gateway: false,
                gateway_communities: 0,
            },
            assumed: true,
        }
    }

    pub fn from_fab_yaml(_text: &str) -> Result<Env, String> {
        Err("reading fab.yaml is not wired in yet".into())
    }
}

/// A constant IPv4 prefix of the installer's defaults.
fn v4_prefix(octets: [u8; 4], bits: u8) -> Prefix {
    Prefix {
        addr: IpAddr::V4(Ipv4Addr::from(octets)),
        bits,
    }
}
