//! VPCPeering (`api/vpc/v1beta1/vpcpeering_types.go`: `VPCs` :112, `Default` :135,
//! `Validate` :155). Default only writes labels. VPCP-03 (1-10 permit entries, 1-10 subnets
//! each) is the CRD schema's. Duplicate peerings of one pair are admitted upstream (RULES.md
//! Q6: the list is fetched and never used), so fgd says nothing about them either.

use std::collections::HashMap;

use super::common::bad_qualified_name;
use super::vpcattachment::whole;
use super::{no_check, Ctx, KindRules, Spot, F};
use crate::validate::fabric::{Cross, Obj};
use crate::validate::tree::Node;

pub static RULES: KindRules = KindRules {
    before_default: no_check,
    default: super::no_default,
    check,
    facts,
};

#[derive(Debug, Clone)]
pub struct Facts {
    /// The two VPCs, sorted by name as `VPCs()` returns them, each where it is first written;
    /// None when the permit entries do not name exactly two (VPCP-04).
    pub vpcs: Option<[Spot<String>; 2]>,
    /// Every subnet a permit entry lists, with the VPC it is listed under.
    pub subnets: Vec<(String, Spot<String>)>,
}

impl Facts {
    /// The VPCs this peering references, for DEL-01 ("VPC has peerings"): upstream selects
    /// by the `vpc.fabric.githedgehog.com/<vpc>` labels, which Default writes only when the
    /// entries name exactly two VPCs.
    pub fn references(&self) -> Vec<(&'static str, &Spot<String>)> {
        self.vpcs
            .iter()
            .flat_map(|[a, b]| [("VPC", a), ("VPC", b)])
            .collect()
    }
}

/// `VPCSpec.VPCs()`: each entry names 2 VPCs, and all entries together 2; None otherwise.
fn two_vpcs<'a>(permit: &F<'a>) -> Option<[(&'a str, F<'a>); 2]> {
    let mut seen: Vec<(&'a str, F<'a>)> = Vec::new();
    for entry in permit.items() {
        if entry.len() != 2 {
            return None;
        }
        for (name, f) in entry.entries() {
            if !seen.iter().any(|(n, _)| *n == name) {
                seen.push((name, f));
            }
        }
    }
    if seen.len() != 2 {
        return None;
    }
    seen.sort_by(|a, b| a.0.cmp(b.0));
    let b = seen.pop()?;
    let a = seen.pop()?;
    Some([a, b])
}

fn check(root: &Node, ctx: &mut Ctx) {
    let obj = F::root(root);
    let spec = obj.get("spec");
    if ctx.env.config.vpc_peering_disabled {
        ctx.config_error(
            "VPCP-01",
            &obj,
            "VPC peering is disabled in this fabric (vpcPeeringDisabled in the fabric config)",
            "vpc peering is not allowed",
        );
    }
    let remote = spec.get("remote");
    if !remote.str().is_empty() {
        ctx.error(
            "VPCP-02",
            &remote,
            "spec.remote is deprecated and no longer supported: remove it",
            "remote field is deprecated and no longer supported",
        );
    }
    let permit = spec.get("permit");
    let mut entries_ok = true;
    for (i, entry) in permit.items().enumerate() {
        if entry.len() != 2 {
            entries_ok = false;
            let names: Vec<&str> = entry.entries().map(|(n, _)| n).collect();
            ctx.error(
                "VPCP-04",
                &entry,
                format!(
                    "permit entry #{i} names {} VPC{} ({}): each entry names exactly the 2 peered VPCs",
                    names.len(),
                    if names.len() == 1 { "" } else { "s" },
                    names.join(", ")
                ),
                &format!("each permit policy must have exactly 2 VPCs (idx {i})"),
            );
        }
    }
    if !entries_ok {
        return;
    }
    let Some([(a, fa), (b, _)]) = two_vpcs(&permit) else {
        let mut names: Vec<&str> = permit
            .items()
            .flat_map(|e| e.entries().map(|(n, _)| n).collect::<Vec<_>>())
            .collect();
        names.sort_unstable();
        names.dedup();
        ctx.error(
            "VPCP-04",
            &permit,
            if names.is_empty() {
                "spec.permit names no VPCs: a peering names exactly 2 VPCs".to_string()
            } else {
                format!(
                    "the permit entries name {} VPCs ({}): a peering is between exactly 2",
                    names.len(),
                    names.join(", ")
                )
            },
            "VPCPeering must have exactly 2 VPCs",
        );
        return;
    };
    // Default's labels: `vpc.fabric.githedgehog.com/<vpc>: "true"` for both, and the names
    // as the values of `fabric.githedgehog.com/vpc1` and `vpc2`. A name part of a key and a
    // value have the same limits (a key's name part may not be empty): the key says it all.
    for vpc in [a, b] {
        let at = permit
            .items()
            .flat_map(|e| e.entries().collect::<Vec<_>>())
            .find(|(n, _)| *n == vpc)
            .map_or_else(|| fa.clone(), |(_, f)| f);
        let key = format!("vpc.fabric.githedgehog.com/{vpc}");
        if let Some(why) = bad_qualified_name(&key) {
            ctx.error(
                "GEN-04",
                &at,
                format!("the VPC name {vpc:?} becomes part of label key {key}, which {why}"),
                "",
            );
            if let Some(p) = ctx.out.last_mut() {
                p.upstream = Some(format!(
                    "metadata.labels: Invalid value: {key:?}: {}",
                    k8s_name_part(vpc)
                ));
            }
        }
    }
}

/// Kubernetes' text for a bad name part of a qualified label key.
fn k8s_name_part(name: &str) -> String {
    if name.is_empty() {
        "name part must be non-empty".into()
    } else if name.len() > 63 {
        "name part must be no more than 63 characters".into()
    } else {
        "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')".into()
    }
}

fn facts(root: &Node) -> Option<super::Facts> {
    let permit = F::root(root).at(&["spec", "permit"]);
    let vpcs = two_vpcs(&permit)
        .map(|[(a, fa), (b, fb)]| [Spot::new(a.to_string(), &fa), Spot::new(b.to_string(), &fb)]);
    let subnets = permit
        .items()
        .flat_map(|e| e.entries().collect::<Vec<_>>())
        .flat_map(|(vpc, peer)| {
            peer.get("subnets")
                .items()
                .map(|s| (vpc.to_string(), Spot::new(s.str().to_string(), &s)))
                .collect::<Vec<_>>()
        })
        .collect();
    Some(super::Facts::VpcPeering(Facts { vpcs, subnets }))
}

/// VPCP-05..07: both VPCs exist, share their namespaces, and have the listed subnets.
pub fn cross(cx: &mut Cross) {
    let index = cx.index;
    for obj in index.of_kind("VPCPeering") {
        let super::Facts::VpcPeering(f) = &obj.facts else {
            continue;
        };
        let Some(pair) = &f.vpcs else { continue };
        let mut found: HashMap<&str, (&Obj, &super::vpc::Facts)> = HashMap::new();
        for spot in pair {
            let name = spot.value.as_str();
            match index.get("VPC", name) {
                None => cx.missing(
                    "VPCP-05",
                    obj,
                    &spot.at,
                    "VPC",
                    name,
                    &format!("vpc {name} not found"),
                ),
                Some(o) => {
                    if let super::Facts::Vpc(v) = &o.facts {
                        found.insert(name, (o, v));
                    }
                }
            }
        }
        if let (Some(&(oa, va)), Some(&(ob, vb))) = (
            found.get(pair[0].value.as_str()),
            found.get(pair[1].value.as_str()),
        ) {
            for (field, what, inner, sa, sb) in [
                (
                    "IPv4Namespace",
                    "IPv4",
                    "VPCs must be in the same IPv4 namespace",
                    &va.ipv4_namespace,
                    &vb.ipv4_namespace,
                ),
                (
                    "VLANNamespace",
                    "VLAN",
                    "VPCs must be in the same VLAN namespace",
                    &va.vlan_namespace,
                    &vb.vlan_namespace,
                ),
            ] {
                if sa.value != sb.value {
                    cx.error(
                        "VPCP-06",
                        obj,
                        &pair[1].at,
                        format!(
                            "VPC {} is in {field} {} and VPC {} in {}: only VPCs of the same {what} namespace peer",
                            oa.name, sa.value, ob.name, sb.value
                        ),
                        inner,
                        Some((ob, &sb.at)),
                    );
                }
            }
        }
        for (vpc, sn) in &f.subnets {
            let Some(&(vobj, v)) = found.get(vpc.as_str()) else {
                continue;
            };
            if !v.subnets.iter().any(|s| s.name.value == sn.value) {
                cx.error(
                    "VPCP-07",
                    obj,
                    &sn.at,
                    format!("VPC {vpc} has no subnet {:?}", sn.value),
                    &format!("subnet {} not found in VPC {vpc}", sn.value),
                    Some((vobj, &whole(vobj))),
                );
            }
        }
    }
}
