//! Helpers for the rules' tests: check one document, or a set of documents as one fabric.

use std::sync::Arc;

use crate::classify::kinds;
use crate::validate::fabric::{self, Found, Index, Obj, Source};
use crate::validate::rules::env::FabricConfig;
use crate::validate::tree;
use crate::validate::{DocCheck, Problem, Settings, Validator};

fn validator(whole_fabric: bool) -> Validator {
    Validator::new(Settings {
        whole_fabric,
        ..Default::default()
    })
    .expect("shipped CRDs load")
}

fn check_with(v: &Validator, text: &str) -> DocCheck {
    let root = tree::parse(text).expect("test YAML parses");
    let api = root
        .get("apiVersion")
        .and_then(|n| n.as_str())
        .expect("apiVersion");
    let kind = root.get("kind").and_then(|n| n.as_str()).expect("kind");
    let group = api.split('/').next().unwrap_or_default();
    let info = kinds::lookup(group, kind).expect("a known kind");
    v.check_tree(info, root)
}

/// Every problem of one document, checked alone.
pub fn check(text: &str) -> Vec<Problem> {
    check_with(&validator(false), text).problems
}

/// The rule ids of `check(text)`, errors only.
pub fn errors(text: &str) -> Vec<&'static str> {
    check(text)
        .iter()
        .filter(|p| p.is_error())
        .map(|p| p.rule.0)
        .collect()
}

/// Documents `docs` as one fabric (file `docN.yaml` each): the per-document problems and the
/// cross-object ones, as (file, problem).
pub fn fabric(docs: &[&str], whole_fabric: bool) -> Vec<(String, Problem)> {
    fabric_in(&validator(whole_fabric), docs)
}

/// A validator whose fabric config is the installer's defaults edited by `edit`, as a
/// fab.yaml that differs from them would give.
pub fn validator_with(whole_fabric: bool, edit: impl FnOnce(&mut FabricConfig)) -> Validator {
    let mut v = validator(whole_fabric);
    edit(&mut v.env.config);
    v
}

/// `check`, by `v`.
pub fn check_in(v: &Validator, text: &str) -> Vec<Problem> {
    check_with(v, text).problems
}

/// `fabric`, by `v`.
pub fn fabric_in(v: &Validator, docs: &[&str]) -> Vec<(String, Problem)> {
    let mut index = Index::default();
    let mut out = Vec::new();
    for (i, text) in docs.iter().enumerate() {
        let file = format!("doc{i}.yaml");
        let root = tree::parse(text).expect("test YAML parses");
        let name = root
            .at(&["metadata", "name"])
            .and_then(|n| n.as_str())
            .unwrap_or_default()
            .to_string();
        let kind = root
            .get("kind")
            .and_then(|n| n.as_str())
            .unwrap_or_default()
            .to_string();
        let c = check_with(v, text);
        out.extend(c.problems.into_iter().map(|p| (file.clone(), p)));
        if let Some(facts) = c.facts {
            let info = kinds::KINDS.iter().find(|k| k.kind == kind).expect("kind");
            index.insert(Obj {
                kind: info.kind,
                name: name.into(),
                file: Arc::from(file.as_str()),
                pos: root.pos,
                source: Source::Incoming,
                doc: (i as u32, 0),
                facts: facts.into(),
            });
        }
    }
    let found: Vec<Found> = fabric::check(&index, &v.settings, &v.env);
    out.extend(found.into_iter().map(|f| (f.file.to_string(), f.problem)));
    out
}

/// (file, rule) of every error of `fabric(docs)`.
pub fn fabric_errors(docs: &[&str], whole_fabric: bool) -> Vec<(String, &'static str)> {
    fabric(docs, whole_fabric)
        .into_iter()
        .filter(|(_, p)| p.is_error())
        .map(|(f, p)| (f, p.rule.0))
        .collect()
}
