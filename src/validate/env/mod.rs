//! Reference data the spec rules need besides the objects (RULES.md §8): the fabric config
//! the webhooks run with, and the built-in SwitchProfile catalog with the checks that read it.
//!
//! - [`FabricConfig`]: [`FabricConfig::assumed`] (fabricator's defaults) or
//!   [`FabricConfig::from_fab_yaml`] (a real fab.yaml), with [`ConfigSource`] saying which.
//! - [`Catalog`]: the profiles of githedgehog/fabric 78827de, embedded from
//!   `assets/switch-profiles/profiles.json` and loaded once; [`Catalog::get`] honours the
//!   `includeSONiCCLSPlus` / `includeCumulus` gates.
//! - The profile rules as pure functions: [`check_switch_ports`] (SW-11),
//!   [`check_switch_features`] (SW-12), [`check_port_counts`] (SW-13), [`port_allowed`] /
//!   [`allowed_ports`] (CONN-07), [`check_vpc_mode`] (VPCA-11). Each returns [`Finding`]s
//!   carrying the upstream error text.
//!
//! Self-contained: nothing here reads the rest of fgd.

mod checks;
mod fab_yaml;
mod fabric_config;
mod net;
mod profiles;

pub use checks::{
    allowed_ports, check_connection_port, check_port_counts, check_switch_features,
    check_switch_ports, check_vpc_mode, port_allowed, Finding, Problem, RuleId, SwitchField,
    SwitchSettings,
};
pub use fabric_config::{
    ConfigError, ConfigSource, FabricConfig, FabricMode, FABRICATOR_API_VERSION,
};
pub use net::{
    check_vlan_ranges_overlap, normalized_vlan_ranges, Ipv4Prefix, PrefixError, VlanRange,
};
pub use profiles::{
    Catalog, CatalogError, Feature, Lookup, Pipeline, Port, PortGroup, PortProfile, Profile,
    ProfileBreakout, ProfileBreakoutMode, ProfileConfig, ProfileFeatures, ProfileGate, ProfileSpec,
    ProfileSpeed,
};
