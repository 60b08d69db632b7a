//! The fabric's environment as the rules read it: its config (a fab.yaml, or the installer's
//! defaults, "assumed"; `validate::env::FabricConfig`) with the few values the rules compare
//! often kept in the rules' own types.

use super::vlanns::Range;
use crate::validate::env::{ConfigSource, FabricConfig, Ipv4Prefix, VlanRange};
use crate::validate::net::{parse_prefix, Prefix};

#[derive(Debug, Clone)]
pub struct Env {
    pub config: FabricConfig,
    /// True when `config` is fgd's built-in default, not the operator's fab.yaml.
    pub assumed: bool,
    /// `config.reserved_subnets`, as rules' prefixes.
    pub reserved: Vec<Prefix>,
    /// `config.vpc_irb_vlan_ranges` and `config.th5_workaround_vlan_ranges`.
    pub irb_vlans: Vec<Range>,
    pub th5_vlans: Vec<Range>,
}

fn prefix(p: &Ipv4Prefix) -> Option<Prefix> {
    parse_prefix(&p.to_string()).ok()
}

fn ranges(r: &[VlanRange]) -> Vec<Range> {
    r.iter()
        .map(|r| Range {
            from: r.from,
            to: r.to,
        })
        .collect()
}

impl Env {
    pub fn new(config: FabricConfig) -> Env {
        Env {
            assumed: config.source == ConfigSource::Assumed,
            reserved: config.reserved_subnets.iter().filter_map(prefix).collect(),
            irb_vlans: ranges(&config.vpc_irb_vlan_ranges),
            th5_vlans: ranges(&config.th5_workaround_vlan_ranges),
            config,
        }
    }

    pub fn assumed() -> Env {
        Env::new(FabricConfig::assumed())
    }

    pub fn from_fab_yaml(text: &str) -> Result<Env, String> {
        FabricConfig::from_fab_yaml(text)
            .map(Env::new)
            .map_err(|e| e.to_string())
    }
}
