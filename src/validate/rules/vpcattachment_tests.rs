//! Tests of the vpcattachment rules.

use super::wiring::testing::{errors_of, fabric_with, real_schema_ok};
use crate::validate::rules::testkit::{check, errors};
use crate::validate::Problem;

fn attach(name: &str, spec: &str) -> String {
    format!("apiVersion: vpc.githedgehog.com/v1beta1\nkind: VPCAttachment\nmetadata:\n  name: {name}\nspec:\n{spec}")
}

fn plain(subnet: &str, conn: &str) -> String {
    attach("a", &format!("  subnet: {subnet}\n  connection: {conn}\n"))
}

const VPC1: &str = "apiVersion: vpc.githedgehog.com/v1beta1\nkind: VPC\nmetadata:\n  name: vpc-1\nspec:\n  subnets:\n    default:\n      subnet: 10.0.1.0/24\n      vlan: 1001\n    hbgp:\n      subnet: 10.0.2.0/24\n      hostBGP: true\n";
const VPC3: &str = "apiVersion: vpc.githedgehog.com/v1beta1\nkind: VPC\nmetadata:\n  name: vpc-3\nspec:\n  mode: l3vni\n  vlanNamespace: other\n  subnets:\n    a:\n      subnet: 10.0.3.0/24\n      vlan: 1003\n";

fn conn(name: &str, body: &str) -> String {
    format!("apiVersion: wiring.githedgehog.com/v1beta1\nkind: Connection\nmetadata:\n  name: {name}\nspec:\n{body}")
}

fn unbundled(name: &str, switch: &str) -> String {
    conn(
        name,
        &format!("  unbundled:\n    link:\n      server: {{port: server-1/enp2s1}}\n      switch: {{port: {switch}/E1/1}}\n"),
    )
}

fn switch(name: &str, spec: &str) -> String {
    format!("apiVersion: wiring.githedgehog.com/v1beta1\nkind: Switch\nmetadata:\n  name: {name}\nspec:\n  role: server-leaf\n{spec}")
}

/// The problems of the attachment rules: the wiring fixtures are minimal (un-hydrated
/// switches, servers left out), which the wiring's own rules refuse.
fn run(docs: &[&str], whole: bool) -> Vec<(String, Problem)> {
    fabric_with(docs, whole, |_| {}, &[super::cross_with])
        .into_iter()
        .filter(|(_, p)| !p.rule.0.starts_with("SW-") && !p.rule.0.starts_with("CONN-"))
        .collect()
}

fn run_errors(docs: &[&str]) -> Vec<(String, &'static str)> {
    errors_of(&run(docs, true))
}

fn rules_of(found: &[(String, &'static str)]) -> Vec<&'static str> {
    found.iter().map(|(_, r)| *r).collect()
}

#[test]
fn subnet_is_vpc_slash_subnet_and_a_bare_vpc_means_default() {
    assert_eq!(errors(&plain("vpc-1/default", "c")), Vec::<&str>::new());
    assert_eq!(errors(&attach("a", "  connection: c\n")), ["VPCA-01"]);
    assert_eq!(errors(&plain("/x", "c")), ["VPCA-01"]);
    // `vpc-1` becomes `vpc-1/default`: valid, with a drift warning.
    let p = check(&plain("vpc-1", "c"));
    assert!(p.iter().all(|p| !p.is_error()), "{p:?}");
    assert!(
        p.iter()
            .any(|p| p.rule.0 == "VPCA-01" && p.message.contains("vpc-1/default")),
        "{p:?}"
    );
    // `vpc-1/` survives Default: a warning here, VPCA-05 against the VPC.
    let p = check(&plain("vpc-1/", "c"));
    assert!(p.iter().all(|p| !p.is_error()) && p.iter().any(|p| p.rule.0 == "VPCA-01"));
    let found = run_errors(&[VPC1, &plain("vpc-1/", "c"), &unbundled("c", "leaf-1")]);
    assert!(
        found.contains(&("doc1.yaml".into(), "VPCA-05")),
        "{found:?}"
    );
    let at = check(&attach("a", "  connection: c\n  subnet: /x\n"));
    assert_eq!(
        (at[0].pos.line, at[0].pos.column, at[0].path.to_string()),
        (7, 11, "spec.subnet".to_string())
    );
    assert_eq!(
        at[0].upstream.as_deref(),
        Some("failed to validate vpc attachment: subnet should be in <vpc>/<subnet> format, vpc is missing")
    );
}

#[test]
fn connection_is_required() {
    assert_eq!(errors(&attach("a", "  subnet: vpc-1/x\n")), ["VPCA-02"]);
    assert_eq!(
        errors(&attach("a", "  subnet: vpc-1/x\n  connection: \"\"\n")),
        ["VPCA-02"]
    );
}

#[test]
fn the_p2p_annotation_is_an_ipv4_slash_31() {
    let with = |v: &str| {
        format!("apiVersion: vpc.githedgehog.com/v1beta1\nkind: VPCAttachment\nmetadata:\n  name: a\n  annotations:\n    fabric.githedgehog.com/p2p-link: {v}\nspec:\n  subnet: vpc-1/default\n  connection: c\n")
    };
    assert_eq!(errors(&with("10.99.0.0/31")), Vec::<&str>::new());
    // Host bits are fine: any /31.
    assert_eq!(errors(&with("10.99.0.1/31")), Vec::<&str>::new());
    assert_eq!(errors(&with("10.99.0.0/30")), ["VPCA-03"]);
    assert_eq!(errors(&with("\"\"")), ["VPCA-03"]);
    assert_eq!(errors(&with("10.99.0.0")), ["VPCA-03"]);
    assert_eq!(errors(&with("\"fd00::/31\"")), ["VPCA-03"]);
}

#[test]
fn names_that_become_labels_fit_a_label_value() {
    let c63 = "c".repeat(63);
    assert_eq!(errors(&plain("vpc-1/default", &c63)), Vec::<&str>::new());
    let c64 = "c".repeat(64);
    let p = check(&plain("vpc-1/default", &c64));
    let gen: Vec<&Problem> = p.iter().filter(|p| p.rule.0 == "GEN-04").collect();
    assert_eq!(gen.len(), 1, "{p:?}");
    assert!(gen[0]
        .upstream
        .as_deref()
        .unwrap_or_default()
        .ends_with("must be no more than 63 characters"));
    assert_eq!(gen[0].path.to_string(), "spec.connection");
    assert_eq!(errors(&plain("vpc-1/-x", "c")), ["GEN-04"]);
    assert_eq!(errors(&plain("vpc_1!/default", "c")), ["GEN-04"]);
}

#[test]
fn the_vpc_and_subnet_exist() {
    let a = plain("vpc-1/default", "c");
    let c = unbundled("c", "leaf-1");
    let sw = switch("leaf-1", "");
    assert_eq!(
        run_errors(&[VPC1, &a, &c, &sw]),
        Vec::<(String, &str)>::new()
    );
    assert_eq!(rules_of(&run_errors(&[&a, &c, &sw])), ["VPCA-04"]);
    // A partial fabric: the VPC must exist in the cluster, a warning.
    let found = run(&[&a, &c, &sw], false);
    assert!(found.iter().all(|(_, p)| !p.is_error()), "{found:?}");
    assert!(found.iter().any(|(_, p)| p.rule.0 == "VPCA-04"));
    assert_eq!(
        rules_of(&run_errors(&[VPC1, &plain("vpc-1/nope", "c"), &c, &sw])),
        ["VPCA-05"]
    );
    // `vpc-3` means `vpc-3/default`, which vpc-3 lacks.
    let found = run(
        &[
            VPC3,
            &plain("vpc-3", "c"),
            &c,
            &switch("leaf-1", "  vlanNamespaces: [other]\n"),
        ],
        true,
    );
    let e = found
        .iter()
        .find(|(_, p)| p.rule.0 == "VPCA-05")
        .expect("VPCA-05");
    assert!(e.1.message.contains("vpc-3/default"), "{}", e.1.message);
    assert_eq!(
        e.1.see_also.as_ref().map(|s| s.object.as_str()),
        Some("VPC/vpc-3")
    );
}

#[test]
fn the_connection_exists_and_takes_vpcs() {
    let a = plain("vpc-1/default", "c");
    let sw = switch("leaf-1", "");
    assert_eq!(rules_of(&run_errors(&[VPC1, &a, &sw])), ["VPCA-06"]);
    assert!(errors_of(&run(&[VPC1, &a, &sw], false)).is_empty());
    for body in [
        "  bundled:\n    links:\n    - {server: {port: s/e1}, switch: {port: leaf-1/E1/1}}\n    - {server: {port: s/e2}, switch: {port: leaf-1/E1/2}}\n",
        "  eslag:\n    links:\n    - {server: {port: s/e1}, switch: {port: leaf-1/E1/1}}\n    - {server: {port: s/e2}, switch: {port: leaf-1/E1/2}}\n",
    ] {
        assert_eq!(
            run_errors(&[VPC1, &a, &conn("c", body), &sw]),
            Vec::<(String, &str)>::new()
        );
    }
    // MCLAG (still in demo-gitops) and external connections take no VPCs.
    let mclag = conn("c", "  mclag:\n    links:\n    - {server: {port: s/e1}, switch: {port: leaf-1/E1/1}}\n    - {server: {port: s/e2}, switch: {port: leaf-2/E1/1}}\n");
    assert_eq!(rules_of(&run_errors(&[VPC1, &a, &mclag, &sw])), ["VPCA-07"]);
    let ext = conn(
        "c",
        "  external:\n    link:\n      switch: {port: leaf-1/E1/5}\n",
    );
    assert_eq!(rules_of(&run_errors(&[VPC1, &a, &ext, &sw])), ["VPCA-07"]);
}

#[test]
fn eslag_takes_l2vni_only_and_hostbgp_unbundled_only() {
    let eslag = conn("c", "  eslag:\n    links:\n    - {server: {port: s/e1}, switch: {port: leaf-1/E1/1}}\n    - {server: {port: s/e2}, switch: {port: leaf-1/E1/2}}\n");
    let other = switch("leaf-1", "  vlanNamespaces: [other]\n");
    assert_eq!(
        rules_of(&run_errors(&[VPC3, &plain("vpc-3/a", "c"), &eslag, &other])),
        ["VPCA-08"]
    );
    let bundled = conn(
        "c",
        "  bundled:\n    links:\n    - {server: {port: s/e1}, switch: {port: leaf-1/E1/1}}\n",
    );
    let sw = switch("leaf-1", "");
    let hbgp = plain("vpc-1/hbgp", "c");
    assert_eq!(
        rules_of(&run_errors(&[VPC1, &hbgp, &bundled, &sw])),
        ["VPCA-09"]
    );
    assert_eq!(
        run_errors(&[VPC1, &hbgp, &unbundled("c", "leaf-1"), &sw]),
        Vec::<(String, &str)>::new()
    );
    let peer = switch("leaf-1", "  redundancy: {group: mg, type: mclag}\n");
    assert_eq!(
        rules_of(&run_errors(&[
            VPC1,
            &hbgp,
            &unbundled("c", "leaf-1"),
            &peer
        ])),
        ["VPCA-09"]
    );
}

#[test]
fn the_switches_exist_and_have_the_vpcs_vlan_namespace() {
    let a = plain("vpc-1/default", "c");
    let c = unbundled("c", "leaf-1");
    assert_eq!(rules_of(&run_errors(&[VPC1, &a, &c])), ["VPCA-10"]);
    let found = run(&[VPC1, &a, &c], false);
    assert!(errors_of(&found).is_empty() && found.iter().any(|(_, p)| p.rule.0 == "VPCA-10"));
    // A switch without vlanNamespaces is in `default` (its Default), vpc-1's namespace.
    assert!(run_errors(&[VPC1, &a, &c, &switch("leaf-1", "")]).is_empty());
    let found = run(
        &[
            VPC1,
            &a,
            &c,
            &switch("leaf-1", "  vlanNamespaces: [other]\n"),
        ],
        true,
    );
    let e: Vec<&Problem> = found
        .iter()
        .filter(|(_, p)| p.is_error())
        .map(|(_, p)| p)
        .collect();
    assert_eq!(e.len(), 1, "{e:?}");
    assert_eq!(e[0].rule.0, "VPCA-10");
    assert_eq!(
        e[0].upstream.as_deref(),
        Some("failed to validate vpc attachment: switch leaf-1 used in connection doesn't have vlan namespace default")
    );
    assert_eq!(
        e[0].see_also.as_ref().map(|s| s.object.as_str()),
        Some("Switch/leaf-1")
    );
}

#[test]
fn one_attachment_per_connection_and_subnet_and_one_native_vlan() {
    let c = unbundled("c", "leaf-1");
    let sw = switch("leaf-1", "");
    // `vpc-1` and `vpc-1/default` are the same subnet once defaulted.
    let a = attach("a", "  subnet: vpc-1\n  connection: c\n");
    let b = attach("b", "  subnet: vpc-1/default\n  connection: c\n");
    let found = run_errors(&[VPC1, &a, &b, &c, &sw]);
    assert_eq!(
        found,
        [
            ("doc1.yaml".to_string(), "VPCA-12"),
            ("doc2.yaml".to_string(), "VPCA-12")
        ]
    );
    let on_other = attach("b", "  subnet: vpc-1/default\n  connection: d\n");
    assert!(run_errors(&[VPC1, &a, &on_other, &c, &unbundled("d", "leaf-1"), &sw]).is_empty());
    let n1 = attach(
        "a",
        "  subnet: vpc-1/default\n  connection: c\n  nativeVLAN: true\n",
    );
    let n2 = attach(
        "b",
        "  subnet: vpc-1/hbgp\n  connection: c\n  nativeVLAN: true\n",
    );
    let found = run(&[VPC1, &n1, &n2, &c, &sw], true);
    let native: Vec<&(String, Problem)> = found
        .iter()
        .filter(|(_, p)| p.rule.0 == "VPCA-13")
        .collect();
    assert_eq!(native.len(), 2, "{found:?}");
    assert_eq!(native[0].1.path.to_string(), "spec.nativeVLAN");
    let n3 = attach("b", "  subnet: vpc-1/hbgp\n  connection: c\n");
    assert!(run_errors(&[VPC1, &n1, &n3, &c, &sw]).is_empty());
}

#[test]
fn a_subnet_name_that_is_no_label_value_is_a_warning_on_the_vpc() {
    let long = "s".repeat(64);
    let vpc = format!("apiVersion: vpc.githedgehog.com/v1beta1\nkind: VPC\nmetadata:\n  name: vpc-1\nspec:\n  subnets:\n    {long}:\n      subnet: 10.0.1.0/24\n      vlan: 1001\n");
    let a = plain(&format!("vpc-1/{long}"), "c");
    let found = run(
        &[&vpc, &a, &unbundled("c", "leaf-1"), &switch("leaf-1", "")],
        true,
    );
    assert_eq!(errors_of(&found), [("doc1.yaml".to_string(), "GEN-04")]);
    let w = found
        .iter()
        .find(|(_, p)| p.rule.0 == "VPC-28")
        .expect("VPC-28");
    assert_eq!((w.0.as_str(), w.1.is_error()), ("doc0.yaml", false));
    assert_eq!(
        w.1.see_also.as_ref().map(|s| s.object.as_str()),
        Some("VPCAttachment/a")
    );
}

/// Through `fabric::check`, as fgd runs it: the existence rules need only the index.
#[test]
fn references_are_checked_through_the_fabric_check() {
    let a = plain("vpc-1/default", "c");
    let found = crate::validate::rules::testkit::fabric_errors(&[&a], true);
    assert_eq!(
        found,
        [
            ("doc0.yaml".to_string(), "VPCA-04"),
            ("doc0.yaml".to_string(), "VPCA-06")
        ]
    );
    let found = crate::validate::rules::testkit::fabric(&[VPC1, &a], false);
    let rules: Vec<(&str, bool)> = found
        .iter()
        .filter(|(f, _)| f == "doc1.yaml")
        .map(|(_, p)| (p.rule.0, p.is_error()))
        .collect();
    assert_eq!(rules, [("VPCA-06", false)]);
}

#[test]
fn real_attachments_pass() {
    let docs = real_schema_ok(&["VPCAttachment"]);
    assert!(docs.len() >= 10, "{}", docs.len());
    for (file, _, problems) in docs {
        let errors: Vec<&Problem> = problems.iter().filter(|p| p.is_error()).collect();
        assert!(errors.is_empty(), "{file}: {errors:?}");
    }
}
