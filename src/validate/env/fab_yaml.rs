//! The parts of a fab.yaml `Fabricator` document that the fabric config is built from.
//!
//! fabricator decodes fab.yaml strictly (`serializer.EnableStrict` in `pkg/util/apiutil`):
//! an unknown or repeated field stops `hhfab`. The structs below therefore refuse unknown
//! fields down to the three sections fgd reads (`spec.config.{control,fabric,gateway}`), so a
//! misspelt `spineAsn` is an error rather than a silent fall-back to the default. Deeper
//! structures fgd does not read (users, observability, registry, ...) are accepted as they are.
//! Field names are fabricator's `json:` tags at fee556700e61 (`api/fabricator/v1beta1`).
//! Fields fgd does not read are declared all the same, so that `deny_unknown_fields` accepts
//! them; hence the `dead_code` allowance.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, IgnoredAny, Visitor};
use serde::{Deserialize, Deserializer};

/// `apiVersion` and `kind` of any document, to find the Fabricator.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct DocHead {
    #[serde(default)]
    pub api_version: Option<String>,
    #[serde(default)]
    pub kind: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(super) struct FabricatorDoc {
    #[serde(default)]
    pub api_version: Option<IgnoredAny>,
    #[serde(default)]
    pub kind: Option<IgnoredAny>,
    #[serde(default)]
    pub metadata: Option<IgnoredAny>,
    #[serde(default)]
    pub spec: Option<Spec>,
    #[serde(default)]
    pub status: Option<IgnoredAny>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(super) struct Spec {
    #[serde(default)]
    pub config: Option<Config>,
    #[serde(default)]
    pub overrides: Option<IgnoredAny>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(super) struct Config {
    #[serde(default)]
    pub control: Option<Control>,
    #[serde(default)]
    pub registry: Option<IgnoredAny>,
    #[serde(default)]
    pub fabric: Option<Fabric>,
    #[serde(default)]
    pub gateway: Option<Gateway>,
    #[serde(default)]
    pub observability: Option<IgnoredAny>,
}

/// `ControlConfig`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(super) struct Control {
    #[serde(default)]
    pub management_subnet: Option<String>,
    #[serde(default, rename = "controlVIP")]
    pub control_vip: Option<String>,
    #[serde(default, deserialize_with = "go_bool")]
    pub management_subnet_any_device: Option<bool>,
    #[serde(default)]
    pub management_subnet_static: Option<IgnoredAny>,
    #[serde(default, rename = "tlsSAN")]
    pub tls_san: Option<IgnoredAny>,
    #[serde(default)]
    pub join_token: Option<IgnoredAny>,
    #[serde(default)]
    pub kube_cluster_subnet: Option<IgnoredAny>,
    #[serde(default)]
    pub kube_service_subnet: Option<IgnoredAny>,
    #[serde(default, rename = "kubeClusterDNS")]
    pub kube_cluster_dns: Option<IgnoredAny>,
    #[serde(default)]
    pub dummy_subnet: Option<String>,
    #[serde(default)]
    pub default_user: Option<IgnoredAny>,
    #[serde(default, deserialize_with = "go_bool")]
    pub no_pass_auth: Option<bool>,
    #[serde(default)]
    pub ntp_servers: Option<IgnoredAny>,
    #[serde(default)]
    pub observability: Option<IgnoredAny>,
}

/// `FabricConfig` of fabricator (not the fabric's `meta.FabricConfig`).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(super) struct Fabric {
    #[serde(default)]
    pub mode: Option<String>,
    #[serde(default, rename = "managementDHCPStart")]
    pub management_dhcp_start: Option<String>,
    #[serde(default, rename = "managementDHCPEnd")]
    pub management_dhcp_end: Option<String>,
    #[serde(default, rename = "spineASN")]
    pub spine_asn: Option<u32>,
    #[serde(default, rename = "leafASNStart")]
    pub leaf_asn_start: Option<u32>,
    #[serde(default, rename = "leafASNEnd")]
    pub leaf_asn_end: Option<u32>,
    #[serde(default)]
    pub protocol_subnet: Option<String>,
    #[serde(default, rename = "vtepSubnet")]
    pub vtep_subnet: Option<String>,
    #[serde(default)]
    pub fabric_subnet: Option<String>,
    #[serde(default)]
    pub proxy_external_subnet: Option<String>,
    #[serde(default, rename = "baseVPCCommunity")]
    pub base_vpc_community: Option<IgnoredAny>,
    #[serde(default, rename = "vpcIRBVLANs")]
    pub vpc_irb_vlans: Option<Vec<VlanRangeYaml>>,
    #[serde(default, deserialize_with = "go_bool")]
    pub loopback_workaround_disable: Option<bool>,
    #[serde(default, rename = "vpcWorkaroundVLANs")]
    pub vpc_workaround_vlans: Option<Vec<VlanRangeYaml>>,
    #[serde(default)]
    pub vpc_workaround_subnet: Option<String>,
    #[serde(default, rename = "th5WorkaroundVLANs")]
    pub th5_workaround_vlans: Option<Vec<VlanRangeYaml>>,
    #[serde(default, rename = "eslagMACBase")]
    pub eslag_mac_base: Option<IgnoredAny>,
    #[serde(default, rename = "eslagESIPrefix")]
    pub eslag_esi_prefix: Option<IgnoredAny>,
    #[serde(default, rename = "mclagSessionSubnet")]
    pub mclag_session_subnet: Option<String>,
    #[serde(default)]
    pub default_switch_users: Option<IgnoredAny>,
    #[serde(default)]
    pub default_alloy_config: Option<IgnoredAny>,
    #[serde(default, rename = "excludeNOSInstallers", deserialize_with = "go_bool")]
    pub exclude_nos_installers: Option<bool>,
    #[serde(default, rename = "includeONIE", deserialize_with = "go_bool")]
    pub include_onie: Option<bool>,
    #[serde(default, rename = "includeBCM", deserialize_with = "go_bool")]
    pub include_bcm: Option<bool>,
    #[serde(default, rename = "includeCLSP", deserialize_with = "go_bool")]
    pub include_clsp: Option<bool>,
    #[serde(default, deserialize_with = "go_bool")]
    pub include_cumulus: Option<bool>,
    #[serde(default, rename = "disableBFD", deserialize_with = "go_bool")]
    pub disable_bfd: Option<bool>,
    #[serde(default)]
    pub observability: Option<IgnoredAny>,
}

/// `GatewayConfig`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(super) struct Gateway {
    #[serde(default, deserialize_with = "go_bool")]
    pub enable: Option<bool>,
    #[serde(default)]
    pub asn: Option<u32>,
    #[serde(default)]
    pub mac: Option<IgnoredAny>,
    #[serde(default)]
    pub observability: Option<IgnoredAny>,
    #[serde(default)]
    pub communities: Option<BTreeMap<KeyString, String>>,
}

/// `meta.VLANRange`.
#[derive(Debug, Clone, Copy, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct VlanRangeYaml {
    #[serde(default)]
    pub from: Option<u16>,
    #[serde(default)]
    pub to: Option<u16>,
}

/// A mapping key as Go sees it after sigs.k8s.io/yaml's YAML-to-JSON step, which turns a
/// plain `0:` key into the string `"0"`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct KeyString(pub String);

impl<'de> Deserialize<'de> for KeyString {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = KeyString;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string or integer key")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<KeyString, E> {
                Ok(KeyString(v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<KeyString, E> {
                Ok(KeyString(v.to_string()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<KeyString, E> {
                Ok(KeyString(v.to_string()))
            }
        }
        d.deserialize_any(V)
    }
}

/// A boolean as go-yaml (YAML 1.1) reads a plain scalar: besides `true`/`false`, the
/// spellings `yes`/`no`/`on`/`off`/`y`/`n` (in lower, title or upper case). A quoted
/// `"yes"` cannot be told apart here and is accepted too, where Go would refuse it.
fn go_bool<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    struct V;
    impl<'de> Visitor<'de> for V {
        type Value = Option<bool>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a boolean")
        }
        fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
            Ok(Some(v))
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
            match v {
                "y" | "Y" | "yes" | "Yes" | "YES" | "on" | "On" | "ON" => Ok(Some(true)),
                "n" | "N" | "no" | "No" | "NO" | "off" | "Off" | "OFF" => Ok(Some(false)),
                _ => Err(E::invalid_type(de::Unexpected::Str(v), &self)),
            }
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_some<D2: Deserializer<'de>>(self, d: D2) -> Result<Self::Value, D2::Error> {
            d.deserialize_any(V)
        }
    }
    d.deserialize_any(V)
}
