//! The fabric's environment: its config (fab.yaml, or the installer's defaults, "assumed").

use super::vlanns::Range;
use crate::validate::net::{parse_prefix, Prefix};

/// The fabric config fields the rules read (RULES.md §8.1).
#[derive(Debug, Clone)]
pub struct FabricConfig {
    pub reserved_subnets: Vec<Prefix>,
    pub vpc_irb_vlans: Vec<Range>,
    pub th5_workaround_vlans: Vec<Range>,
    /// `vpcPeeringDisabled`: the webhook refuses every VPCPeering (VPCP-01). Off by default.
    pub vpc_peering_disabled: bool,
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
                vpc_peering_disabled: false,
            },
            assumed: true,
        }
    }

    pub fn from_fab_yaml(_text: &str) -> Result<Env, String> {
        Err("reading fab.yaml is not wired in yet".into())
    }
}
