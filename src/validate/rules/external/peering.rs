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

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
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
    Some(super::super::Facts::ExternalPeering(Box::new(
        PeeringFacts {
            vpc: name("vpc"),
            external: name("external"),
            subnets: permit
                .at(&["vpc", "subnets"])
                .items()
                .map(|s| Spot::new(s.str().to_string(), &s))
                .collect(),
        },
    )))
}

/// EXTP-03..05: the VPC and the External exist, share their IPv4Namespace, and the VPC has
/// the listed subnets.
pub(super) fn cross(cx: &mut Cross) {
    let index = cx.index;
    for obj in index.of_kind("ExternalPeering") {
        let super::super::Facts::ExternalPeering(f) = &*obj.facts else {
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
            Some(o) => match &*o.facts {
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
            Some(o) => match &*o.facts {
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

#[cfg(test)]
mod tests {
    use crate::validate::fabric::Cross;
    use crate::validate::rules::testkit::{check, errors};
    use crate::validate::rules::vpcattachment::wiring::testing::{
        errors_of, fabric_with, real_schema_ok,
    };
    use crate::validate::rules::vpcattachment::wiring::Wiring;
    use crate::validate::Problem;

    fn peering(permit: &str) -> String {
        format!("apiVersion: vpc.githedgehog.com/v1beta1\nkind: ExternalPeering\nmetadata:\n  name: p\nspec:\n  permit:\n{permit}")
    }

    const OK: &str = "    vpc:\n      name: vpc-1\n      subnets: [default]\n    external:\n      name: bgp\n      prefixes:\n      - prefix: 0.0.0.0/0\n";
    const VPC: &str = "apiVersion: vpc.githedgehog.com/v1beta1\nkind: VPC\nmetadata:\n  name: vpc-1\nspec:\n  subnets:\n    default:\n      subnet: 10.0.1.0/24\n      vlan: 1001\n";
    const EXT: &str = "apiVersion: vpc.githedgehog.com/v1beta1\nkind: External\nmetadata:\n  name: bgp\nspec: {}\n";

    fn cross(cx: &mut Cross, _: &Wiring) {
        super::cross(cx)
    }

    fn run(docs: &[&str], whole: bool) -> Vec<(String, Problem)> {
        fabric_with(docs, whole, |_| {}, &[cross])
    }

    #[test]
    fn names_and_prefixes_are_required() {
        assert_eq!(errors(&peering(OK)), Vec::<&str>::new());
        assert_eq!(
            errors(&peering(&OK.replace("name: vpc-1", "name: \"\""))),
            ["EXTP-01"]
        );
        let p = check(&peering(&OK.replace("      name: bgp\n", "")));
        assert_eq!(p.iter().map(|p| p.rule.0).collect::<Vec<_>>(), ["EXTP-01"]);
        assert_eq!(p[0].path.to_string(), "spec.permit.external.name");
        assert_eq!(
            errors(&peering(&OK.replace("prefix: 0.0.0.0/0", "prefix: \"\""))),
            ["EXTP-02"]
        );
        // Prefixes are never parsed upstream (Q3).
        assert_eq!(
            errors(&peering(&OK.replace("0.0.0.0/0", "anything"))),
            Vec::<&str>::new()
        );
        let long = OK.replace("name: bgp", &format!("name: {}", "e".repeat(64)));
        assert_eq!(errors(&peering(&long)), ["GEN-04"]);
    }

    #[test]
    fn the_vpc_and_external_exist_in_one_namespace_with_the_subnets() {
        let p = peering(OK);
        assert!(errors_of(&run(&[VPC, EXT, &p], true)).is_empty());
        assert_eq!(
            errors_of(&run(&[EXT, &p], true)),
            [("doc1.yaml".to_string(), "EXTP-03")]
        );
        assert_eq!(
            errors_of(&run(&[VPC, &p], true)),
            [("doc1.yaml".to_string(), "EXTP-03")]
        );
        let partial = run(&[&p], false);
        assert!(errors_of(&partial).is_empty());
        assert_eq!(
            partial
                .iter()
                .filter(|(_, p)| p.rule.0 == "EXTP-03")
                .count(),
            2
        );
        let other_ns = EXT.replace("spec: {}", "spec:\n  ipv4Namespace: other");
        let found = run(&[VPC, &other_ns, &p], true);
        assert_eq!(errors_of(&found), [("doc2.yaml".to_string(), "EXTP-04")]);
        let e = &found
            .iter()
            .find(|(_, p)| p.rule.0 == "EXTP-04")
            .expect("EXTP-04")
            .1;
        assert_eq!(
            e.upstream.as_deref(),
            Some("failed to validate external peering: vpc's IPv4 namespace default is different from the external's IPv4 namespace other")
        );
        let missing = peering(&OK.replace("[default]", "[default, db]"));
        let found = run(&[VPC, EXT, &missing], true);
        assert_eq!(errors_of(&found), [("doc2.yaml".to_string(), "EXTP-05")]);
        let e = &found
            .iter()
            .find(|(_, p)| p.rule.0 == "EXTP-05")
            .expect("EXTP-05")
            .1;
        assert_eq!(e.path.to_string(), "spec.permit.vpc.subnets[1]");
    }

    #[test]
    fn real_peerings_pass() {
        let docs = real_schema_ok(&["ExternalPeering"]);
        assert!(docs.len() >= 9, "{}", docs.len());
        for (file, _, problems) in docs {
            // `kubectl get -o yaml` output keeps resourceVersion: GEN-07, not a rule of this kind.
            let errors: Vec<&Problem> = problems
                .iter()
                .filter(|p| p.is_error() && p.rule.0 != "GEN-07")
                .collect();
            assert!(errors.is_empty(), "{file}: {errors:?}");
        }
    }
}
