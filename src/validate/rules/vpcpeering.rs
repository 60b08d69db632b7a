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

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
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
    // RULES.md also cites :175 for VPCP-04; that check ("permit must have exactly 2 VPCs") is
    // unreachable after `VPCs()` (:168) made the same test.
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
                p.upstream = Some(
                    format!(
                        "metadata.labels: Invalid value: {key:?}: {}",
                        k8s_name_part(vpc)
                    )
                    .into(),
                );
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
    Some(super::Facts::VpcPeering(Box::new(Facts { vpcs, subnets })))
}

/// VPCP-05..07: both VPCs exist, share their namespaces, and have the listed subnets.
pub fn cross(cx: &mut Cross) {
    let index = cx.index;
    for obj in index.of_kind("VPCPeering") {
        let super::Facts::VpcPeering(f) = &*obj.facts else {
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
                    if let super::Facts::Vpc(v) = &*o.facts {
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

#[cfg(test)]
mod tests {
    use crate::validate::fabric::Cross;
    use crate::validate::rules::testkit::{check, errors};
    use crate::validate::rules::vpcattachment::wiring::testing::{
        errors_of, fabric_with, real_schema_ok,
    };
    use crate::validate::rules::vpcattachment::wiring::Wiring;
    use crate::validate::{Problem, Validator};

    fn peering(spec: &str) -> String {
        format!("apiVersion: vpc.githedgehog.com/v1beta1\nkind: VPCPeering\nmetadata:\n  name: p\nspec:\n{spec}")
    }

    const PAIR: &str = "  permit:\n  - vpc-1: {}\n    vpc-2: {}\n";

    fn vpc(name: &str, extra: &str, subnet: &str, net: u8) -> String {
        format!("apiVersion: vpc.githedgehog.com/v1beta1\nkind: VPC\nmetadata:\n  name: {name}\nspec:\n{extra}  subnets:\n    {subnet}:\n      subnet: 10.0.{net}.0/24\n      vlan: 10{net:02}\n")
    }

    fn cross(cx: &mut Cross, _: &Wiring) {
        super::cross(cx)
    }

    fn run(docs: &[&str], whole: bool) -> Vec<(String, Problem)> {
        fabric_with(docs, whole, |_| {}, &[cross])
    }

    #[test]
    fn peering_can_be_disabled_by_the_fabric_config() {
        let p = peering(PAIR);
        assert_eq!(errors(&p), Vec::<&str>::new());
        let disabled = |v: &mut Validator| v.env.config.vpc_peering_disabled = true;
        let found = fabric_with(&[&p], false, disabled, &[cross]);
        let e: Vec<&Problem> = found
            .iter()
            .map(|(_, p)| p)
            .filter(|p| p.is_error())
            .collect();
        assert_eq!(e.len(), 1, "{found:?}");
        assert_eq!(e[0].rule.0, "VPCP-01");
        // fgd's defaults, not a fab.yaml: the verdict says so.
        assert!(e[0].assumed);
    }

    #[test]
    fn remote_is_deprecated() {
        assert_eq!(
            errors(&peering(&format!("  remote: border\n{PAIR}"))),
            ["VPCP-02"]
        );
    }

    #[test]
    fn permit_entries_name_the_same_two_vpcs() {
        let many = "  permit:\n  - vpc-1: {subnets: [a]}\n    vpc-2: {subnets: [b]}\n  - vpc-1: {subnets: [c]}\n    vpc-2: {}\n";
        assert_eq!(errors(&peering(many)), Vec::<&str>::new());
        let one = peering("  permit:\n  - vpc-1: {}\n");
        assert_eq!(errors(&one), ["VPCP-04"]);
        assert_eq!(
            check(&one)[0].upstream.as_deref(),
            Some("failed to validate vpc peering: each permit policy must have exactly 2 VPCs (idx 0)")
        );
        let three =
            peering("  permit:\n  - vpc-1: {}\n    vpc-2: {}\n  - vpc-1: {}\n    vpc-3: {}\n");
        assert_eq!(errors(&three), ["VPCP-04"]);
        // An absent permit reaches the webhook (an empty one fails the schema: VPCP-03).
        assert_eq!(errors(&peering("  remote: \"\"\n")), ["VPCP-04"]);
        // An empty one fails the schema, and the webhook would refuse it too.
        assert_eq!(errors(&peering("  permit: []\n")), ["VPCP-03", "VPCP-04"]);
        assert_eq!(
            errors(&peering(
                "  permit:\n  - vpc-1: {subnets: []}\n    vpc-2: {}\n"
            )),
            ["VPCP-03"]
        );
    }

    #[test]
    fn vpc_names_become_label_keys() {
        let long = "v".repeat(64);
        let p = peering(&format!("  permit:\n  - vpc-1: {{}}\n    {long}: {{}}\n"));
        let found = check(&p);
        let gen: Vec<&Problem> = found.iter().filter(|p| p.rule.0 == "GEN-04").collect();
        assert_eq!(gen.len(), 1, "{found:?}");
        assert!(gen[0]
            .upstream
            .as_deref()
            .unwrap_or_default()
            .ends_with("name part must be no more than 63 characters"));
        assert_eq!((gen[0].pos.line, gen[0].pos.column), (8, 5));
    }

    #[test]
    fn both_vpcs_exist_in_the_same_namespaces_with_the_listed_subnets() {
        let p = peering("  permit:\n  - vpc-1: {subnets: [a]}\n    vpc-2: {subnets: [b]}\n");
        let (v1, v2) = (vpc("vpc-1", "", "a", 1), vpc("vpc-2", "", "b", 2));
        assert!(errors_of(&run(&[&v1, &v2, &p], true)).is_empty());
        assert_eq!(
            errors_of(&run(&[&v1, &p], true)),
            [("doc1.yaml".to_string(), "VPCP-05")]
        );
        let partial = run(&[&v1, &p], false);
        assert!(errors_of(&partial).is_empty());
        assert!(partial.iter().any(|(_, p)| p.rule.0 == "VPCP-05"));
        // Different IPv4 and VLAN namespaces (vpc-1's default by Default).
        let v2ns = vpc(
            "vpc-2",
            "  ipv4Namespace: ns-b\n  vlanNamespace: vl-b\n",
            "b",
            2,
        );
        let found = run(&[&v1, &v2ns, &p], true);
        let e: Vec<&Problem> = found
            .iter()
            .map(|(_, p)| p)
            .filter(|p| p.is_error())
            .collect();
        assert_eq!(
            e.iter().map(|p| p.rule.0).collect::<Vec<_>>(),
            ["VPCP-06", "VPCP-06"]
        );
        assert_eq!(
            e[0].upstream.as_deref(),
            Some("failed to validate vpc peering: VPCs must be in the same IPv4 namespace")
        );
        let see = e[0].see_also.as_ref().expect("see also");
        assert_eq!((see.object.as_str(), see.pos.line), ("VPC/vpc-2", 6));
        let same_vlan = vpc("vpc-2", "  vlanNamespace: default\n", "b", 2);
        assert!(errors_of(&run(&[&v1, &same_vlan, &p], true)).is_empty());
        let wrong = peering("  permit:\n  - vpc-1: {subnets: [a]}\n    vpc-2: {subnets: [a]}\n");
        assert_eq!(
            errors_of(&run(&[&v1, &v2, &wrong], true)),
            [("doc2.yaml".to_string(), "VPCP-07")]
        );
    }

    #[test]
    fn real_peerings_pass() {
        let docs = real_schema_ok(&["VPCPeering"]);
        assert!(docs.len() >= 9, "{}", docs.len());
        for (file, _, problems) in docs {
            let errors: Vec<&str> = problems
                .iter()
                .filter(|p| p.is_error())
                .map(|p| p.rule.0)
                .collect();
            // An older docs page peers on a switch group with `remote: border`; the webhook
            // at the pinned commit refuses any remote (`vpcpeering_types.go:164`).
            if file.starts_with("docs@7e0e4d8__docs__user-guide__vpcs.md__L267") {
                assert_eq!(errors, ["VPCP-02"], "{file}");
                continue;
            }
            assert!(errors.is_empty(), "{file}: {errors:?}");
        }
    }
}
