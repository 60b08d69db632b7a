//! What the attachment rules (VPCA-07..10, EXTA-07) need of the wiring: a Connection's types
//! and the switches of its server links, a Switch's VLAN namespaces and redundancy group.
//!
//! The Connection and Switch kinds are written in parallel with these rules, so this module
//! reads what it needs from their trees (`ConnView::of_tree`, `SwitchView::of_tree`, the
//! upstream `Endpoints()` and `Default()` parts that matter here) and takes it from the index
//! through two adapters, `conn_view` and `switch_view`. Until the wiring kinds' facts carry a
//! view (a field `attach: ConnView` / `attach: SwitchView` set from `of_tree` in their
//! `facts`), the adapters return None and the rules that need a view stay silent: they never
//! pass or fail by guess. The existence rules (VPCA-06, EXTA-07's "not found") use the index
//! alone and always run.

use std::borrow::Cow;
use std::collections::HashMap;

use crate::validate::fabric::Index;
use crate::validate::rules::{Facts, F};
use crate::validate::tree::Node;

/// A connection type, by its key under `spec` (`api/wiring/v1beta1/connection_types.go`
/// `ConnectionSpec`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum ConnType {
    Unbundled,
    Bundled,
    Mclag,
    Eslag,
    MclagDomain,
    Fabric,
    Mesh,
    Gateway,
    VpcLoopback,
    External,
    StaticExternal,
}

impl ConnType {
    const KEYS: [(ConnType, &'static str); 11] = [
        (ConnType::Unbundled, "unbundled"),
        (ConnType::Bundled, "bundled"),
        (ConnType::Mclag, "mclag"),
        (ConnType::Eslag, "eslag"),
        (ConnType::MclagDomain, "mclagDomain"),
        (ConnType::Fabric, "fabric"),
        (ConnType::Mesh, "mesh"),
        (ConnType::Gateway, "gateway"),
        (ConnType::VpcLoopback, "vpcLoopback"),
        (ConnType::External, "external"),
        (ConnType::StaticExternal, "staticExternal"),
    ];

    pub fn key(self) -> &'static str {
        Self::KEYS
            .iter()
            .find(|(t, _)| *t == self)
            .map_or("", |(_, k)| k)
    }
}

/// What the attachment rules need of one Connection.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ConnView {
    /// Every type the connection sets. A connection may set several (RULES.md Q2), and the
    /// attachment webhooks test each pointer on its own (`conn.Spec.ESLAG != nil`, ...).
    pub types: Vec<ConnType>,
    /// The switches of its server links as `Endpoints()` lists them for the first of
    /// unbundled, bundled and eslag it sets; none for an MCLAG connection (Endpoints returns
    /// early for those), none for other types.
    pub switches: Vec<String>,
}

impl ConnView {
    pub fn of_tree(root: &Node) -> ConnView {
        let spec = F::root(root).get("spec");
        let types: Vec<ConnType> = ConnType::KEYS
            .iter()
            .filter(|(_, k)| spec.get(k).present())
            .map(|(t, _)| *t)
            .collect();
        let mut switches: Vec<String> = Vec::new();
        let mclag = types.contains(&ConnType::Mclag) || types.contains(&ConnType::MclagDomain);
        let links: Vec<F> = if mclag {
            Vec::new()
        } else if types.contains(&ConnType::Unbundled) {
            vec![spec.at(&["unbundled", "link"])]
        } else if types.contains(&ConnType::Bundled) {
            spec.at(&["bundled", "links"]).items().collect()
        } else if types.contains(&ConnType::Eslag) {
            spec.at(&["eslag", "links"]).items().collect()
        } else {
            Vec::new()
        };
        for link in links {
            // `DeviceName()`: the port's text before its first '/'.
            let port = link.at(&["switch", "port"]).str();
            let device = port.split('/').next().unwrap_or_default().to_string();
            if !switches.contains(&device) {
                switches.push(device);
            }
        }
        ConnView { types, switches }
    }

    pub fn has(&self, t: ConnType) -> bool {
        self.types.contains(&t)
    }

    /// VPCs attach only to unbundled, bundled and eslag connections (VPCA-07).
    pub fn vpc_attachable(&self) -> bool {
        self.has(ConnType::Unbundled) || self.has(ConnType::Bundled) || self.has(ConnType::Eslag)
    }

    /// The types it sets, for messages (`mclag`, `unbundled+external`).
    pub fn describe(&self) -> String {
        if self.types.is_empty() {
            return "no type".into();
        }
        let keys: Vec<&str> = self.types.iter().map(|t| t.key()).collect();
        keys.join("+")
    }
}

/// What the attachment rules need of one Switch, after its `Default()`.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SwitchView {
    /// `spec.vlanNamespaces`; Default makes an empty list `[default]`.
    pub vlan_namespaces: Vec<String>,
    pub redundancy_group: String,
    pub redundancy_type: String,
}

impl SwitchView {
    pub fn of_tree(root: &Node) -> SwitchView {
        let spec = F::root(root).get("spec");
        let mut vlan_namespaces: Vec<String> = spec
            .get("vlanNamespaces")
            .strs()
            .into_iter()
            .map(str::to_string)
            .collect();
        if vlan_namespaces.is_empty() {
            vlan_namespaces.push("default".into());
        }
        let redundancy = spec.get("redundancy");
        SwitchView {
            vlan_namespaces,
            redundancy_group: redundancy.get("group").str().to_string(),
            redundancy_type: redundancy.get("type").str().to_string(),
        }
    }

    /// In an MCLAG redundancy group (VPCA-09: no hostBGP subnets there).
    pub fn mclag_peer(&self) -> bool {
        !self.redundancy_group.is_empty() && self.redundancy_type == "mclag"
    }
}

/// The views of the fabric's connections and switches, by name: borrowed from the index's
/// facts (the cross-object check makes one for the attachments and one for the externals,
/// side by side), owned when made from trees.
#[derive(Debug, Default)]
pub struct Wiring<'a> {
    conns: HashMap<Cow<'a, str>, Cow<'a, ConnView>>,
    switches: HashMap<Cow<'a, str>, Cow<'a, SwitchView>>,
}

impl<'a> Wiring<'a> {
    /// From the index, through the adapters.
    pub fn of_index(index: &'a Index) -> Wiring<'a> {
        let mut w = Wiring::default();
        for o in index.of_kind("Connection") {
            if let Some(v) = conn_view(&o.facts) {
                w.conns.insert(Cow::Borrowed(&*o.name), Cow::Borrowed(v));
            }
        }
        for o in index.of_kind("Switch") {
            if let Some(v) = switch_view(&o.facts) {
                w.switches.insert(Cow::Borrowed(&*o.name), Cow::Borrowed(v));
            }
        }
        w
    }

    /// Add a view of a Connection or Switch document (a tree as `tree::parse` gives it).
    pub fn add_tree(&mut self, kind: &str, name: &str, root: &Node) {
        let name = Cow::Owned(name.to_string());
        match kind {
            "Connection" => {
                self.conns.insert(name, Cow::Owned(ConnView::of_tree(root)));
            }
            "Switch" => {
                self.switches
                    .insert(name, Cow::Owned(SwitchView::of_tree(root)));
            }
            _ => {}
        }
    }

    pub fn connection(&self, name: &str) -> Option<&ConnView> {
        self.conns.get(name).map(|v| &**v)
    }

    pub fn switch(&self, name: &str) -> Option<&SwitchView> {
        self.switches.get(name).map(|v| &**v)
    }
}

/// The adapter from a Connection's facts.
fn conn_view(facts: &Facts) -> Option<&ConnView> {
    match facts {
        Facts::Connection(c) => Some(&c.attach),
        _ => None,
    }
}

/// The adapter from a Switch's facts (as `conn_view`).
fn switch_view(facts: &Facts) -> Option<&SwitchView> {
    match facts {
        Facts::Switch(s) => Some(&s.attach),
        _ => None,
    }
}

/// Test support: a fabric of documents checked one by one, indexed, and cross-checked by the
/// given cross rules with a wiring read from the documents' own Connections and Switches.
#[cfg(test)]
pub(crate) mod testing {
    use std::sync::Arc;

    use super::Wiring;
    use crate::classify::kinds;
    use crate::validate::fabric::{Cross, Index, Obj, Source};
    use crate::validate::{tree, Problem, Settings, Validator};

    pub fn fabric_with(
        docs: &[&str],
        whole_fabric: bool,
        configure: impl Fn(&mut Validator),
        cross: &[fn(&mut Cross, &Wiring)],
    ) -> Vec<(String, Problem)> {
        let mut v = Validator::new(Settings {
            whole_fabric,
            ..Default::default()
        })
        .expect("shipped CRDs load");
        configure(&mut v);
        let mut index = Index::default();
        let mut wiring = Wiring::default();
        let mut out = Vec::new();
        for (i, text) in docs.iter().enumerate() {
            let file = format!("doc{i}.yaml");
            let root = tree::parse(text).expect("test YAML parses");
            let field = |k: &[&str]| {
                root.at(k)
                    .and_then(|n| n.as_str())
                    .unwrap_or_default()
                    .to_string()
            };
            let (api, kind, name) = (
                field(&["apiVersion"]),
                field(&["kind"]),
                field(&["metadata", "name"]),
            );
            let group = api.split('/').next().unwrap_or_default();
            let info = kinds::lookup(group, &kind).expect("a known kind");
            wiring.add_tree(info.kind, &name, &root);
            let pos = root.pos;
            let c = v.check_tree(info, root);
            out.extend(c.problems.into_iter().map(|p| (file.clone(), p)));
            if let Some(facts) = c.facts {
                index.insert(Obj {
                    kind: info.kind,
                    name: name.into(),
                    file: Arc::from(file.as_str()),
                    pos,
                    source: Source::Incoming,
                    doc: (0, 0),
                    facts: facts.into(),
                });
            }
        }
        let mut cx = Cross {
            index: &index,
            env: &v.env,
            whole_fabric,
            deleted: crate::validate::fabric::no_deletes(),
            out: Vec::new(),
        };
        for f in cross {
            f(&mut cx, &wiring);
        }
        out.extend(cx.out.into_iter().map(|f| (f.file.to_string(), f.problem)));
        out
    }

    /// Every document of `../shared/corpus/real/` of one of `kinds` that the corpus index marks
    /// `schema-ok`: (file, kind, the problems of checking it alone).
    pub fn real_schema_ok(kinds: &[&str]) -> Vec<(String, &'static str, Vec<Problem>)> {
        let shared = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus");
        let index: serde_json::Value = serde_json::from_slice(
            &std::fs::read(shared.join("real-index.json")).expect("the corpus index"),
        )
        .expect("the corpus index is JSON");
        let v = Validator::new(Settings::default()).expect("shipped CRDs load");
        let mut out = Vec::new();
        for entry in index["files"].as_array().expect("files") {
            let wanted: Vec<&serde_json::Value> = entry["validation"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|d| {
                    d["verdict"] == "schema-ok"
                        && kinds.iter().any(|k| d["kind"].as_str() == Some(k))
                })
                .collect();
            if wanted.is_empty() {
                continue;
            }
            let file = entry["file"].as_str().expect("file name");
            let text = std::fs::read_to_string(shared.join("real").join(file)).expect("read");
            // The documents in order, as the index counts them: chunks that hold a node.
            let docs: Vec<tree::Node> = crate::yaml::split(&text)
                .iter()
                .filter_map(|c| {
                    let mut root = tree::parse(&text[c.range.clone()])?;
                    root.offset_lines(c.start.line - 1);
                    Some(root)
                })
                .collect();
            for d in wanted {
                let i = d["index"].as_u64().expect("index") as usize;
                let root = docs.get(i).expect("the index's document").clone();
                let kind = root
                    .get("kind")
                    .and_then(|n| n.as_str())
                    .unwrap_or_default();
                assert_eq!(Some(kind), d["kind"].as_str(), "{file} #{i}");
                let api = root
                    .get("apiVersion")
                    .and_then(|n| n.as_str())
                    .unwrap_or_default();
                let group = api.split('/').next().unwrap_or_default();
                let info = kinds::lookup(group, kind).expect("a known kind");
                out.push((
                    file.to_string(),
                    info.kind,
                    v.check_tree(info, root).problems,
                ));
            }
        }
        out
    }

    /// (file, rule) of every error.
    pub fn errors_of(found: &[(String, Problem)]) -> Vec<(String, &'static str)> {
        found
            .iter()
            .filter(|(_, p)| p.is_error())
            .map(|(f, p)| (f.clone(), p.rule.0))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validate::tree;

    #[test]
    fn connection_views_follow_endpoints() {
        let conn = |spec: &str| {
            ConnView::of_tree(
                &tree::parse(&format!("kind: Connection\nspec:\n{spec}")).expect("parses"),
            )
        };
        let u = conn("  unbundled:\n    link:\n      server: {port: s-1/enp2s1}\n      switch: {port: leaf-1/E1/1}\n");
        assert_eq!(u.types, [ConnType::Unbundled]);
        assert_eq!(u.switches, ["leaf-1"]);
        assert!(u.vpc_attachable());
        let e = conn("  eslag:\n    links:\n    - {server: {port: s/a}, switch: {port: l1/E1/1}}\n    - {server: {port: s/b}, switch: {port: l2/E1/1}}\n    - {server: {port: s/c}, switch: {port: l1/E1/2}}\n");
        assert_eq!(e.switches, ["l1", "l2"]);
        // MCLAG: no endpoints, and not attachable unless another type is set too (Q2).
        let m =
            conn("  mclag:\n    links:\n    - {server: {port: s/a}, switch: {port: l1/E1/1}}\n");
        assert!(m.switches.is_empty() && !m.vpc_attachable());
        assert_eq!(m.describe(), "mclag");
        let x = conn("  external:\n    link:\n      switch: {port: b/E1/5}\n");
        assert!(x.has(ConnType::External) && x.switches.is_empty());
    }

    #[test]
    fn switch_views_are_defaulted() {
        let sw = |spec: &str| {
            SwitchView::of_tree(
                &tree::parse(&format!("kind: Switch\nspec:\n{spec}")).expect("parses"),
            )
        };
        assert_eq!(sw("  role: server-leaf\n").vlan_namespaces, ["default"]);
        let s = sw("  vlanNamespaces: [a, b]\n  redundancy: {group: g, type: mclag}\n");
        assert_eq!(s.vlan_namespaces, ["a", "b"]);
        assert!(s.mclag_peer());
        assert!(!sw("  redundancy: {group: g, type: eslag}\n").mclag_peer());
    }
}
