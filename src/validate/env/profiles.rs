//! The built-in SwitchProfile catalog (RULES.md §8.2) and the port arithmetic of
//! `api/wiring/v1beta1/switchprofile_types.go` that the rules use.
//!
//! The data is `assets/switch-profiles/profiles.json`, generated from githedgehog/fabric's
//! `pkg/ctrl/switchprofile` by `tools/gen_switch_profiles.py` (see that folder's
//! PROVENANCE.md). Field names are the SwitchProfile CRD's, so a profile read from a cluster
//! (`kubectl get switchprofile -o json`, its `spec`) has the same shape.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

use serde::Deserialize;

use super::fabric_config::FabricConfig;

const BUILTIN_JSON: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/assets/switch-profiles/profiles.json"
));

/// The profiles the fabric controller registers, by name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Catalog {
    /// Repository the profiles come from (`githedgehog/fabric`).
    pub repository: String,
    /// Commit of that repository.
    pub commit: String,
    /// Every profile, gated or not, by name.
    pub profiles: BTreeMap<String, Profile>,
}

/// The embedded catalog could not be read (only for [`Catalog::from_json`] on other data: the
/// built-in one is checked by a test).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CatalogError {
    /// Not the expected JSON.
    #[error("switch profile catalog: {0}")]
    Json(String),
    /// Two profiles with one name.
    #[error("switch profile catalog: profile {0} is listed twice")]
    Duplicate(String),
}

/// The fabric config setting that makes the controller register a profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
pub enum ProfileGate {
    /// `includeSONiCCLSPlus` (fab.yaml `fabric.includeCLSP`): the `*-clsp` profiles.
    #[serde(rename = "includeSONiCCLSPlus")]
    IncludeSonicClsPlus,
    /// `includeCumulus`: `cumulus-vx`.
    #[serde(rename = "includeCumulus")]
    IncludeCumulus,
}

impl ProfileGate {
    /// Whether `cfg` turns the gate on.
    pub fn is_open(self, cfg: &FabricConfig) -> bool {
        match self {
            ProfileGate::IncludeSonicClsPlus => cfg.include_sonic_cls_plus,
            ProfileGate::IncludeCumulus => cfg.include_cumulus,
        }
    }

    /// The setting's name in `meta.FabricConfig`.
    pub fn setting(self) -> &'static str {
        match self {
            ProfileGate::IncludeSonicClsPlus => "includeSONiCCLSPlus",
            ProfileGate::IncludeCumulus => "includeCumulus",
        }
    }
}

/// What [`Catalog::lookup`] found for a name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lookup<'a> {
    /// A profile the controller registers under this config.
    Found(&'a Profile),
    /// A built-in profile the config leaves out: its gate is off.
    Gated(&'a Profile, ProfileGate),
    /// No built-in profile has this name.
    Unknown,
}

/// One built-in SwitchProfile.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// `metadata.name`, what a Switch's `spec.profile` names.
    pub name: String,
    /// The setting that must be on for the profile to exist; `None`: always there.
    pub gate: Option<ProfileGate>,
    /// The profile's spec.
    pub spec: ProfileSpec,
}

/// `SwitchProfileSpec`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default, rename_all = "camelCase", deny_unknown_fields)]
pub struct ProfileSpec {
    /// Human-readable name.
    pub display_name: String,
    /// Other names of the switch.
    pub other_names: Vec<String>,
    /// Switch silicon.
    pub switch_silicon: String,
    /// What the switch supports.
    pub features: ProfileFeatures,
    /// Free-form notes.
    pub notes: String,
    /// Switch-specific options.
    pub config: ProfileConfig,
    /// Ports by API name (`M1`, `E1/1`, ...).
    pub ports: BTreeMap<String, Port>,
    /// Port groups by name.
    pub port_groups: BTreeMap<String, PortGroup>,
    /// Port profiles by name.
    pub port_profiles: BTreeMap<String, PortProfile>,
    /// NOS type.
    pub nos_type: String,
    /// ONIE platform.
    pub platform: String,
    /// Pipelines by name (empty: no per-pipeline limit).
    pub pipelines: BTreeMap<String, Pipeline>,
    /// Maximum number of ports after breakout (0: no limit).
    pub max_ports: u16,
}

/// `SwitchProfileFeatures`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ProfileFeatures {
    /// Subinterfaces.
    pub subinterfaces: bool,
    /// ACLs.
    pub acls: bool,
    /// L2 VNIs (VPC mode `""` needs it with L3VNI).
    pub l2vni: bool,
    /// L3 VNIs.
    pub l3vni: bool,
    /// RoCEv2 (Switch `roce`).
    pub roce: bool,
    /// MCLAG.
    pub mclag: bool,
    /// ESLAG (Switch `redundancy.type: eslag`).
    pub eslag: bool,
    /// ECMP RoCE QPN hashing (Switch `ecmp.roceQPN`).
    #[serde(rename = "ecmpRoCEQPN")]
    pub ecmp_roce_qpn: bool,
}

/// A profile feature the rules ask about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Feature {
    /// `subinterfaces`.
    Subinterfaces,
    /// `acls`.
    Acls,
    /// `l2vni`.
    L2Vni,
    /// `l3vni`.
    L3Vni,
    /// `roce`.
    Roce,
    /// `mclag`.
    Mclag,
    /// `eslag`.
    Eslag,
    /// `ecmpRoCEQPN`.
    EcmpRoceQpn,
}

/// `SwitchProfileConfig`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ProfileConfig {
    /// `maxPathsEBGP`.
    #[serde(rename = "maxPathsEBGP")]
    pub max_paths_ebgp: u32,
}

/// `SwitchProfilePort`: a port is in a group, or has a profile, or is the management port.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default, rename_all = "camelCase", deny_unknown_fields)]
pub struct Port {
    /// NOS name (`Ethernet0`, or `1/49` for a breakout port).
    #[serde(rename = "nos")]
    pub nos_name: String,
    /// Base NOS name of a breakout port (`Ethernet48`).
    #[serde(rename = "baseNOSName")]
    pub base_nos_name: String,
    /// Label on the switch.
    pub label: String,
    /// Port group, exclusive with `profile`.
    pub group: String,
    /// Port profile, exclusive with `group`.
    pub profile: String,
    /// The management port.
    pub management: bool,
    /// ONIE name of the management port.
    pub onie_port_name: String,
    /// Pipeline the port uses.
    pub pipeline: String,
}

/// `SwitchProfilePortGroup`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PortGroup {
    /// NOS name.
    #[serde(rename = "nos")]
    pub nos_name: String,
    /// Port profile (a speed profile).
    pub profile: String,
}

/// `SwitchProfilePortProfile`: a speed profile or a breakout profile.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default, rename_all = "camelCase", deny_unknown_fields)]
pub struct PortProfile {
    /// Speeds, for a port that is not broken out.
    pub speed: Option<ProfileSpeed>,
    /// Breakout modes.
    pub breakout: Option<ProfileBreakout>,
    /// Whether `portAutoNegs` may name the port.
    pub auto_neg_allowed: bool,
    /// Auto-negotiation default.
    pub auto_neg_default: bool,
}

/// `SwitchProfilePortProfileSpeed`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ProfileSpeed {
    /// Default speed.
    pub default: String,
    /// Supported speeds (`10G`, `25G`, ...).
    pub supported: Vec<String>,
}

/// `SwitchProfilePortProfileBreakout`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ProfileBreakout {
    /// Default mode (`1x100G`).
    pub default: String,
    /// Supported modes (`4x25G`, ...) with their NOS offsets.
    pub supported: BTreeMap<String, ProfileBreakoutMode>,
}

/// `SwitchProfilePortProfileBreakoutMode`: one offset per sub-port.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ProfileBreakoutMode {
    /// NOS name offsets; their number is the number of sub-ports.
    pub offsets: Vec<String>,
}

/// `SwitchProfilePipeline`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(default, rename_all = "camelCase", deny_unknown_fields)]
pub struct Pipeline {
    /// Maximum number of ports after breakout on this pipeline.
    pub max_ports: u16,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CatalogFile {
    source: CatalogSourceFile,
    profiles: Vec<Profile>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CatalogSourceFile {
    repository: String,
    commit: String,
    #[allow(dead_code)] // read for deny_unknown_fields; the folder is in PROVENANCE.md
    path: String,
}

impl Catalog {
    /// The catalog shipped in fgd, parsed on first use.
    pub fn builtin() -> &'static Catalog {
        static BUILTIN: OnceLock<Catalog> = OnceLock::new();
        BUILTIN.get_or_init(|| match Catalog::from_json(BUILTIN_JSON) {
            Ok(catalog) => catalog,
            // Compiled-in data, not input: `builtin_catalog_loads` proves it parses.
            Err(e) => panic!("embedded assets/switch-profiles/profiles.json: {e}"),
        })
    }

    /// A catalog in the format of `assets/switch-profiles/profiles.json`.
    pub fn from_json(text: &str) -> Result<Catalog, CatalogError> {
        let file: CatalogFile =
            serde_json::from_str(text).map_err(|e| CatalogError::Json(e.to_string()))?;
        let mut profiles = BTreeMap::new();
        for profile in file.profiles {
            let name = profile.name.clone();
            if profiles.insert(name.clone(), profile).is_some() {
                return Err(CatalogError::Duplicate(name));
            }
        }
        Ok(Catalog {
            repository: file.source.repository,
            commit: file.source.commit,
            profiles,
        })
    }

    /// The profile named `name`, if the controller registers it under `cfg` (a gated profile
    /// whose gate is off does not exist in the cluster).
    pub fn get(&self, name: &str, cfg: &FabricConfig) -> Option<&Profile> {
        match self.lookup(name, cfg) {
            Lookup::Found(profile) => Some(profile),
            Lookup::Gated(..) | Lookup::Unknown => None,
        }
    }

    /// Like [`Catalog::get`], but says why a name is missing (to suggest the setting).
    pub fn lookup(&self, name: &str, cfg: &FabricConfig) -> Lookup<'_> {
        match self.profiles.get(name) {
            None => Lookup::Unknown,
            Some(profile) => match profile.gate {
                Some(gate) if !gate.is_open(cfg) => Lookup::Gated(profile, gate),
                _ => Lookup::Found(profile),
            },
        }
    }

    /// The profiles registered under `cfg`, by name.
    pub fn available<'a>(&'a self, cfg: &'a FabricConfig) -> impl Iterator<Item = &'a Profile> {
        self.profiles
            .values()
            .filter(move |p| p.gate.is_none_or(|g| g.is_open(cfg)))
    }
}

/// A port whose breakout mode (from the switch, or the profile's default) is not one of its
/// profile's modes: upstream's helpers fail with `port "<p>" has a breakout "<m>" not
/// supported by profile "<pp>"`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct BadBreakout {
    pub port: String,
    pub mode: String,
    pub port_profile: String,
}

impl Profile {
    /// Whether the profile has `feature`.
    pub fn has(&self, feature: Feature) -> bool {
        let f = &self.spec.features;
        match feature {
            Feature::Subinterfaces => f.subinterfaces,
            Feature::Acls => f.acls,
            Feature::L2Vni => f.l2vni,
            Feature::L3Vni => f.l3vni,
            Feature::Roce => f.roce,
            Feature::Mclag => f.mclag,
            Feature::Eslag => f.eslag,
            Feature::EcmpRoceQpn => f.ecmp_roce_qpn,
        }
    }

    /// The breakout profile of a port, if it has one.
    pub(super) fn breakout_of(&self, port: &Port) -> Option<&ProfileBreakout> {
        if port.profile.is_empty() {
            return None;
        }
        self.spec
            .port_profiles
            .get(&port.profile)?
            .breakout
            .as_ref()
    }

    /// Each breakout port with its mode on a switch with `breakouts` (its `portBreakouts`),
    /// and that mode's sub-port count, or the mode that the profile does not support.
    pub(super) fn breakout_modes<'a>(
        &'a self,
        breakouts: &'a BTreeMap<String, String>,
    ) -> impl Iterator<Item = (&'a str, Result<usize, BadBreakout>)> + 'a {
        self.spec.ports.iter().filter_map(move |(name, port)| {
            if port.management {
                return None;
            }
            let breakout = self.breakout_of(port)?;
            let mode = breakouts.get(name).unwrap_or(&breakout.default);
            let lanes = match breakout.supported.get(mode) {
                Some(m) => Ok(m.offsets.len()),
                None => Err(BadBreakout {
                    port: name.clone(),
                    mode: mode.clone(),
                    port_profile: port.profile.clone(),
                }),
            };
            Some((name.as_str(), lanes))
        })
    }

    /// `GetAPI2NOSPortsFor`'s keys: the API port names a Connection may use on a switch with
    /// these `portBreakouts` (CONN-07). The management port, every group and speed port, and
    /// for a breakout port its name plus `<port>/1`..`<port>/n`. Upstream fails on the first
    /// port whose mode is unsupported; here that port contributes nothing and is returned.
    pub(super) fn api_ports(
        &self,
        breakouts: &BTreeMap<String, String>,
    ) -> (BTreeSet<String>, Vec<BadBreakout>) {
        let mut names = BTreeSet::new();
        let mut bad = Vec::new();
        for (name, port) in &self.spec.ports {
            if port.management || self.breakout_of(port).is_none() {
                names.insert(name.clone());
            }
        }
        for (name, lanes) in self.breakout_modes(breakouts) {
            match lanes {
                Ok(n) => {
                    if n > 0 {
                        names.insert(name.to_string());
                    }
                    names.extend((1..=n).map(|i| format!("{name}/{i}")));
                }
                Err(b) => bad.push(b),
            }
        }
        (names, bad)
    }

    /// `GetAutoNegsDefaultsFor`'s allowed map, the names it allows: speed-profile ports whose
    /// profile allows auto-negotiation, and the sub-ports `<port>/i` of a breakout port whose
    /// profile allows it. Group ports and the base names of breakout ports are never allowed.
    pub(super) fn autoneg_ports(
        &self,
        breakouts: &BTreeMap<String, String>,
    ) -> (BTreeSet<String>, Vec<BadBreakout>) {
        let mut names = BTreeSet::new();
        let mut bad = Vec::new();
        for (name, port) in &self.spec.ports {
            if port.management || port.profile.is_empty() {
                continue;
            }
            let Some(pp) = self.spec.port_profiles.get(&port.profile) else {
                continue;
            };
            if pp.speed.is_some() {
                if pp.auto_neg_allowed {
                    names.insert(name.clone());
                }
            } else if let Some(b) = &pp.breakout {
                let mode = breakouts.get(name).unwrap_or(&b.default);
                match b.supported.get(mode) {
                    Some(m) if pp.auto_neg_allowed => {
                        names.extend((1..=m.offsets.len()).map(|i| format!("{name}/{i}")));
                    }
                    Some(_) => {}
                    None => bad.push(BadBreakout {
                        port: name.clone(),
                        mode: mode.clone(),
                        port_profile: port.profile.clone(),
                    }),
                }
            }
        }
        (names, bad)
    }

    /// `GetFECConfigurablePorts`: `GetAvailableAPIPorts` (group and speed ports, breakout
    /// sub-ports `<port>/i`) plus the base name of a breakout port in a one-lane mode.
    pub(super) fn fec_ports(
        &self,
        breakouts: &BTreeMap<String, String>,
    ) -> (BTreeSet<String>, Vec<BadBreakout>) {
        let mut names = BTreeSet::new();
        let mut bad = Vec::new();
        for (name, port) in &self.spec.ports {
            if !port.management && self.breakout_of(port).is_none() {
                names.insert(name.clone());
            }
        }
        for (name, lanes) in self.breakout_modes(breakouts) {
            match lanes {
                Ok(n) => {
                    names.extend((1..=n).map(|i| format!("{name}/{i}")));
                    if n == 1 {
                        names.insert(name.to_string());
                    }
                }
                Err(b) => bad.push(b),
            }
        }
        (names, bad)
    }
}

#[cfg(test)]
#[path = "profiles_tests.rs"]
mod tests;
