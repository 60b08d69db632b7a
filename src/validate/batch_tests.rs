//! References to objects the run defines and refuses: the referrer is refused too, told
//! where and why its target was refused, in a partial fabric as in a whole one.

use super::*;
use crate::discover::Format;
use crate::validate::analyze::analyze_with;
use crate::validate::Settings;

fn validator(whole_fabric: bool) -> Validator {
    Validator::new(Settings {
        whole_fabric,
        ..Settings::default()
    })
    .expect("shipped CRDs load")
}

fn analyse(v: &Validator, files: &[(&str, String)]) -> Vec<FileAnalysis> {
    files
        .iter()
        .map(|(p, t)| {
            let rel = format!("raw/{p}");
            analyze_with(
                &rel,
                t.as_bytes().to_vec(),
                Format::Yaml,
                &Default::default(),
                v,
            )
        })
        .collect()
}

fn vpc(name: &str, subnet: &str, vlan: u16) -> String {
    format!("apiVersion: vpc.githedgehog.com/v1beta1\nkind: VPC\nmetadata:\n  name: {name}\nspec:\n  subnets:\n    default:\n      subnet: {subnet}\n      vlan: {vlan}\n")
}

fn attachment(name: &str, subnet: &str) -> String {
    format!("apiVersion: vpc.githedgehog.com/v1beta1\nkind: VPCAttachment\nmetadata:\n  name: {name}\nspec:\n  subnet: {subnet}\n  connection: c\n")
}

/// The attachment's problems (file 1, document 0) and whether it was refused.
fn attachment_fate(v: &Validator, files: &[(&str, String)]) -> (Vec<Problem>, bool) {
    let incoming = analyse(v, files);
    let mut out = check(v, &incoming, &[]);
    let problems = out.incoming.remove(&(1, 0)).unwrap_or_default();
    (problems, out.refused.contains(&(1, 0)))
}

#[test]
fn a_reference_to_an_object_refused_alone_refuses_the_referrer() {
    for whole_fabric in [false, true] {
        let v = validator(whole_fabric);
        // A /31 subnet: VPC-07, refused by the document's own rules.
        let files = [
            ("web.yaml", vpc("web", "10.0.1.0/31", 1001)),
            ("a.yaml", attachment("a", "web/default")),
        ];
        let (problems, refused) = attachment_fate(&v, &files);
        let p = problems
            .iter()
            .find(|p| p.rule.0 == "VPCA-04")
            .unwrap_or_else(|| panic!("{problems:#?}"));
        assert!(
            p.is_error() && refused,
            "whole fabric {whole_fabric}: {p:?}"
        );
        assert!(
            p.message
                .contains("refused in this run ([VPC-07] at raw/web.yaml:"),
            "{p:?}"
        );
        let also = p.see_also.as_deref().expect("points at the refused VPC");
        assert_eq!(
            (also.file.as_str(), also.object.as_str()),
            ("raw/web.yaml", "VPC/web")
        );
        // The cluster's own words are those of a missing VPC.
        assert!(
            p.upstream
                .as_deref()
                .is_some_and(|u| u.contains("vpc web not found")),
            "{p:?}"
        );
    }
}

#[test]
fn a_reference_to_an_object_refused_across_objects_refuses_the_referrer() {
    // Two new VPCs with overlapping subnets: both refused (neither is first in the cluster),
    // and then the attachment that names one of them.
    let v = validator(false);
    let files = [
        ("web.yaml", vpc("web", "10.0.1.0/24", 1001)),
        ("a.yaml", attachment("a", "web/default")),
        ("db.yaml", vpc("db", "10.0.1.128/25", 1002)),
    ];
    let (problems, refused) = attachment_fate(&v, &files);
    let p = problems
        .iter()
        .find(|p| p.rule.0 == "VPCA-04")
        .unwrap_or_else(|| panic!("{problems:#?}"));
    assert!(p.is_error() && refused, "{p:?}");
    assert!(
        p.message
            .contains("VPC \"web\" is refused in this run ([VPC-"),
        "{p:?}"
    );
}

#[test]
fn a_reference_to_an_object_simply_absent_stays_a_warning_in_a_partial_fabric() {
    let v = validator(false);
    let files = [
        ("web.yaml", vpc("web", "10.0.1.0/24", 1001)),
        ("a.yaml", attachment("a", "other/default")),
    ];
    let (problems, refused) = attachment_fate(&v, &files);
    let p = problems
        .iter()
        .find(|p| p.rule.0 == "VPCA-04")
        .unwrap_or_else(|| panic!("{problems:#?}"));
    assert!(!p.is_error() && !refused, "{p:?}");
    assert!(
        p.message.contains("must already exist in the cluster"),
        "{p:?}"
    );
}

#[test]
fn a_reference_to_an_object_defined_twice_differently_refuses_the_referrer() {
    let v = validator(false);
    let files = [
        ("web.yaml", vpc("web", "10.0.1.0/24", 1001)),
        ("a.yaml", attachment("a", "web/default")),
        ("web2.yaml", vpc("web", "10.0.2.0/24", 1002)),
    ];
    let incoming = analyse(&v, &files);
    // As `ingest::conflicted` finds them: neither definition is applied.
    let conflicted = HashSet::from([(0, 0), (2, 0)]);
    let mut out = check_batch(&v, &incoming, &[], None, &conflicted);
    let problems = out.incoming.remove(&(1, 0)).unwrap_or_default();
    let p = problems
        .iter()
        .find(|p| p.rule.0 == "VPCA-04")
        .unwrap_or_else(|| panic!("{problems:#?}"));
    assert!(p.is_error() && out.refused.contains(&(1, 0)), "{p:?}");
    assert!(
        p.message.contains("([GEN-08] at raw/web.yaml:1:1)"),
        "{p:?}"
    );
    // Without the conflict the first definition stands, and the attachment is fine.
    let out = check_batch(&v, &incoming, &[], None, &HashSet::new());
    assert!(!out.refused.contains(&(1, 0)));
}
