//! ExternalPeering (`api/vpc/v1beta1/externalpeering_types.go`: `Default` :131, `Validate`
//! :149). Default writes labels and sorts `vpc.subnets` and `external.prefixes`; fgd leaves
//! the lists in the order written, so positions and list indexes stay the file's (no rule's
//! verdict depends on the order). The prefixes are never parsed upstream, and `ge`/`le` are
//! gone from the type at this commit (RULES.md Q3).

use super::super::vpcattachment::{label_value, whole};
use super::super::{no_check, Ctx, KindRules, Spot, F};
use crate::validate::fabric::Cross;
use crate::validate::tree::Node;

pub static PEERING_RULES: KindRules = KindRules {
    before_default: no_check,
    default: super::super::no_default,
    check,
    facts,
};

#[derive(Debug, Clone)]
pub struct PeeringFacts {
    pub vpc: Spot<String>,
    pub external: Spot<String>,
    /// `permit.vpc.subnets`.
    pub subnets: Vec<Spot<String>>,
}

impl PeeringFacts {
    /// What this peering references, for DEL-01 ("VPC has external peerings") and DEL-04
    /// ("external has peerings"): upstream selects by the labels Default writes.
    pub fn references(&self) -> Vec<(&'static str, &Spot<String>)> {
        vec![("VPC", &self.vpc), ("External", &self.external)]
    }
}

fn check(root: &Node, ctx: &mut Ctx) {
    let permit = F::root(root).at(&["spec", "permit"]);
    for (side, kind, label) in [
        ("vpc", "VPC", "fabric.githedgehog.com/vpc"),
        ("external", "External", "fabric.githedgehog.com/external"),
    ] {
        let name = permit.at(&[side, "name"]);
        if name.str().is_empty() {
            ctx.error(
                "EXTP-01",
                &name,
                format!("spec.permit.{side}.name is required: the {kind} to peer"),
                &format!("{side}.name is required"),
            );
        } else {
            label_value(ctx, &name, label, &format!("the {kind} name"), name.str());
        }
    }
    for item in permit.at(&["external", "prefixes"]).items() {
        let prefix = item.get("prefix");
        if prefix.str().is_empty() {
            ctx.error(
                "EXTP-02",
                &prefix,
                "each entry of external.prefixes needs a prefix (0.0.0.0/0 permits every route)",
                "external.prefixes.prefix is required",
            );
        }
    }
}

fn facts(root: &Node) -> Option<super::super::Facts> {
    let permit = F::root(root).at(&["spec", "permit"]);
    let name = |side: &str| {
        let f = permit.at(&[side, "name"]);
        Spot::new(f.str().to_string(), &f)
    };
    Some(super::super::Facts::ExternalPeering(PeeringFacts {
        vpc: name("vpc"),
        external: name("external"),
        subnets: permit
            .at(&["vpc", "subnets"])
            .items()
            .map(|s| Spot::new(s.str().to_string(), &s))
            .collect(),
    }))
}

/// EXTP-03..05: the VPC and the External exist, share their IPv4Namespace, and the VPC has
/// the listed subnets.
pub(super) fn cross(cx: &mut Cross) {
    let index = cx.index;
    for obj in index.of_kind("ExternalPeering") {
        let super::super::Facts::ExternalPeering(f) = &obj.facts else {
            continue;
        };
        let (vpc_name, ext_name) = (f.vpc.value.as_str(), f.external.value.as_str());
        let vpc = match index.get("VPC", vpc_name) {
            _ if vpc_name.is_empty() => None,
            None => {
                cx.missing(
                    "EXTP-03",
                    obj,
                    &f.vpc.at,
                    "VPC",
                    vpc_name,
                    &format!("vpc {vpc_name} not found"),
                );
                None
            }
            Some(o) => match &o.facts {
                super::super::Facts::Vpc(v) => Some((o, v)),
                _ => None,
            },
        };
        let ext = match index.get("External", ext_name) {
            _ if ext_name.is_empty() => None,
            None => {
                cx.missing(
                    "EXTP-03",
                    obj,
                    &f.external.at,
                    "External",
                    ext_name,
                    &format!("external {ext_name} not found"),
                );
                None
            }
            Some(o) => match &o.facts {
                super::super::Facts::External(e) => Some((o, e)),
                _ => None,
            },
        };
        if let (Some((_, v)), Some((eobj, e))) = (vpc, ext) {
            let (a, b) = (&v.ipv4_namespace.value, &e.ipv4_namespace.value);
            if a != b {
                cx.error(
                    "EXTP-04",
                    obj,
                    &f.external.at,
                    format!("VPC {vpc_name} is in IPv4Namespace {a} and External {ext_name} in {b}: they peer only within one IPv4Namespace"),
                    &format!("vpc's IPv4 namespace {a} is different from the external's IPv4 namespace {b}"),
                    Some((eobj, &e.ipv4_namespace.at)),
                );
            }
        }
        let Some((vobj, v)) = vpc else { continue };
        for sn in &f.subnets {
            if !v.subnets.iter().any(|s| s.name.value == sn.value) {
                cx.error(
                    "EXTP-05",
                    obj,
                    &sn.at,
                    format!("VPC {vpc_name} has no subnet {:?}", sn.value),
                    &format!("vpc {vpc_name} does not have subnet {}", sn.value),
                    Some((vobj, &whole(vobj))),
                );
            }
        }
    }
}
