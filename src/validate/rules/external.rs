//! External (`api/vpc/v1beta1/external_types.go`: `Default` :115, `Validate` :131), and the two
//! kinds that name one: ExternalAttachment (`attachment`, with its inbound ACL in `acl`) and
//! ExternalPeering (`peering`).

mod acl;
mod attachment;
mod peering;

pub use attachment::{AttachmentFacts, ATTACHMENT_RULES};
pub use peering::{PeeringFacts, PEERING_RULES};

use super::util::{default_str, ensure_path};
use super::vpcattachment::label_value;
use super::vpcattachment::wiring::Wiring;
use super::{no_check, Ctx, KindRules, Spot, F};
use crate::validate::fabric::Cross;
use crate::validate::net::{self, Prefix};
use crate::validate::tree::Node;
use crate::validate::At;

pub static RULES: KindRules = KindRules {
    before_default: no_check,
    default,
    check,
    facts,
};

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Facts {
    /// After Default: `default` when not written.
    pub ipv4_namespace: Spot<String>,
    /// Where `spec.static` is, for a static external.
    pub static_at: Option<At>,
}

impl Facts {
    pub fn is_static(&self) -> bool {
        self.static_at.is_some()
    }

    /// What this External references, for DEL-02 ("IPv4Namespace has externals"; upstream
    /// selects by the `fabric.githedgehog.com/ipv4ns` label Default writes).
    pub fn references(&self) -> Vec<(&'static str, &Spot<String>)> {
        vec![("IPv4Namespace", &self.ipv4_namespace)]
    }
}

fn default(root: &mut Node) {
    if let Some(spec) = ensure_path(root, &["spec"]) {
        default_str(spec, "ipv4Namespace", "default");
    }
}

/// `communityCheck` (:38): `N:N`, each N in 0-65535 written without leading zeros.
fn is_community(s: &str) -> bool {
    let part = |p: &str| {
        !p.is_empty()
            && p.len() <= 5
            && p.bytes().all(|b| b.is_ascii_digit())
            && (p.len() == 1 || !p.starts_with('0'))
            && p.parse::<u32>().is_ok_and(|n| n <= 65535)
    };
    s.split_once(':').is_some_and(|(a, b)| part(a) && part(b))
}

fn check(root: &Node, ctx: &mut Ctx) {
    let obj = F::root(root);
    let name = ctx.name.clone();
    if name.len() > 11 {
        ctx.error(
            "EXT-01",
            &obj.at(&["metadata", "name"]),
            format!(
                "the External name {name:?} is {} characters long; External names are at most 11",
                name.len()
            ),
            &format!("name {name} is too long, must be <= 11 characters"),
        );
    }
    let spec = obj.get("spec");
    // "IPv4Namespace is required" (:140) cannot fire: Default wrote `default`.
    let ns = spec.get("ipv4Namespace");
    label_value(
        ctx,
        &ns,
        "fabric.githedgehog.com/ipv4ns",
        "the IPv4Namespace name",
        ns.str(),
    );
    let statik = spec.get("static");
    let communities = [
        ("inboundCommunity", spec.get("inboundCommunity")),
        ("outboundCommunity", spec.get("outboundCommunity")),
    ];
    if !statik.present() {
        for (field, f) in &communities {
            let c = f.str();
            if !c.is_empty() && !is_community(c) {
                ctx.error(
                    "EXT-03",
                    f,
                    format!("{field} {c:?} is not a BGP community: write two numbers of 0-65535 as N:N, e.g. 50000:50001"),
                    &format!("{field} {c} is not a valid community, example 50000:50001"),
                );
            }
        }
        return;
    }
    if let Some((field, f)) = communities.iter().find(|(_, f)| !f.str().is_empty()) {
        ctx.error(
            "EXT-04",
            f,
            format!("{field} is set, but a static External (spec.static) takes no communities"),
            "inboundCommunity and outboundCommunity must be empty when static configuration is present",
        );
    }
    check_static_prefixes(ctx, &statik);
}

/// EXT-05: a static External lists at least one prefix, each parses, none overlap.
fn check_static_prefixes(ctx: &mut Ctx, statik: &F) {
    let prefixes = statik.get("prefixes");
    if prefixes.is_empty() {
        ctx.error(
            "EXT-05",
            &prefixes,
            "a static External needs at least one prefix in spec.static.prefixes",
            "at least one prefix must be specified for static externals",
        );
        return;
    }
    let mut parsed: Vec<(Prefix, F)> = Vec::new();
    for item in prefixes.items() {
        let text = item.str();
        match net::parse_prefix(text) {
            Ok(p) => parsed.push((p, item)),
            Err(e) => ctx.error(
                "EXT-05",
                &item,
                format!("{text:?} is not a prefix like 10.0.0.0/8"),
                &format!("invalid prefix {text} in static external configuration: {e}"),
            ),
        }
    }
    // At most a handful per External: pairs are fine.
    for (i, (a, _)) in parsed.iter().enumerate() {
        for (b, fb) in &parsed[i + 1..] {
            if a.overlaps(b) {
                ctx.error(
                    "EXT-05",
                    fb,
                    format!("static prefixes {a} and {b} overlap"),
                    &format!("static prefixes {a} and {b} overlap with each other"),
                );
            }
        }
    }
}

fn facts(root: &Node) -> Option<super::Facts> {
    let spec = F::root(root).get("spec");
    let ns = spec.get("ipv4Namespace");
    let statik = spec.get("static");
    Some(super::Facts::External(Box::new(Facts {
        ipv4_namespace: Spot::new(ns.str().to_string(), &ns),
        static_at: statik.present().then(|| At::from(&statik)),
    })))
}

/// EXT-02, and the cross-object rules of ExternalAttachment and ExternalPeering.
pub fn cross(cx: &mut Cross) {
    let index = cx.index;
    for obj in index.of_kind("External") {
        let super::Facts::External(f) = &*obj.facts else {
            continue;
        };
        let ns = f.ipv4_namespace.value.as_str();
        if index.get("IPv4Namespace", ns).is_none() {
            cx.missing(
                "EXT-02",
                obj,
                &f.ipv4_namespace.at,
                "IPv4Namespace",
                ns,
                &format!("IPv4Namespace {ns} not found"),
            );
        }
    }
    let wiring = Wiring::of_index(index);
    attachment::cross_with(cx, &wiring);
    peering::cross(cx);
}

#[cfg(test)]
mod tests {
    use super::is_community;
    use crate::validate::fabric::Cross;
    use crate::validate::rules::testkit::{check, errors};
    use crate::validate::rules::vpcattachment::wiring::testing::{
        errors_of, fabric_with, real_schema_ok,
    };
    use crate::validate::rules::vpcattachment::wiring::Wiring;
    use crate::validate::Problem;

    pub(super) fn external(name: &str, spec: &str) -> String {
        format!("apiVersion: vpc.githedgehog.com/v1beta1\nkind: External\nmetadata:\n  name: {name}\nspec:\n{spec}")
    }

    pub(super) const NS: &str = "apiVersion: vpc.githedgehog.com/v1beta1\nkind: IPv4Namespace\nmetadata:\n  name: default\nspec:\n  subnets: [10.0.0.0/16]\n";

    fn cross(cx: &mut Cross, _: &Wiring) {
        super::cross(cx)
    }

    #[test]
    fn names_are_at_most_11_characters() {
        assert_eq!(
            errors(&external("abcdefghijk", "  ipv4Namespace: default\n")),
            Vec::<&str>::new()
        );
        assert_eq!(
            errors(&external("abcdefghijkl", "  ipv4Namespace: default\n")),
            ["EXT-01"]
        );
    }

    #[test]
    fn bgp_communities_are_n_colon_n() {
        for good in ["65102:5000", "0:0", "65535:65535", "5:10"] {
            assert!(is_community(good), "{good}");
        }
        for bad in [
            "65536:1", "050:1", "1:2:3", "1:", ":1", "abc", "1:2 ", "+1:2",
        ] {
            assert!(!is_community(bad), "{bad}");
        }
        let e = |c: &str| {
            external(
                "e",
                &format!("  inboundCommunity: \"{c}\"\n  outboundCommunity: 5000:65102\n"),
            )
        };
        assert_eq!(errors(&e("65102:5000")), Vec::<&str>::new());
        assert_eq!(errors(&e("65102:70000")), ["EXT-03"]);
        let p = check(&external("e", "  outboundCommunity: \"01:2\"\n"));
        assert_eq!(
            p[0].upstream.as_deref(),
            Some("error validating external: outboundCommunity 01:2 is not a valid community, example 50000:50001")
        );
    }

    #[test]
    fn static_externals_have_prefixes_and_no_communities() {
        let s = |body: &str| external("e", &format!("  static:\n{body}"));
        assert_eq!(
            errors(&s("    prefixes: [0.0.0.0/0]\n")),
            Vec::<&str>::new()
        );
        assert_eq!(
            errors(&s("    prefixes: [10.0.0.0/8, 192.168.0.0/16]\n")),
            Vec::<&str>::new()
        );
        assert_eq!(
            errors(&external(
                "e",
                "  inboundCommunity: 1:1\n  static:\n    prefixes: [10.0.0.0/8]\n"
            )),
            ["EXT-04"]
        );
        assert_eq!(errors(&external("e", "  static: {}\n")), ["EXT-05"]);
        assert_eq!(errors(&s("    prefixes: [10.0.0.0]\n")), ["EXT-05"]);
        let p = check(&s("    prefixes: [10.0.0.0/8, 10.1.0.5/16]\n"));
        assert_eq!(p.len(), 1, "{p:?}");
        assert_eq!(
            (p[0].rule.0, p[0].path.to_string()),
            ("EXT-05", "spec.static.prefixes[1]".to_string())
        );
        assert_eq!(
            p[0].upstream.as_deref(),
            Some("error validating external: static prefixes 10.0.0.0/8 and 10.1.0.5/16 overlap with each other")
        );
        // A null static is no static: a BGP external.
        assert_eq!(errors(&external("e", "  static:\n")), Vec::<&str>::new());
    }

    #[test]
    fn the_ipv4_namespace_exists_and_is_a_label_value() {
        let e = external("e", "");
        assert!(errors_of(&fabric_with(&[NS, &e], true, |_| {}, &[cross])).is_empty());
        assert_eq!(
            errors_of(&fabric_with(&[&e], true, |_| {}, &[cross])),
            [("doc0.yaml".to_string(), "EXT-02")]
        );
        // A partial fabric takes the installer's `default` as present; another namespace
        // must already exist in the cluster: a warning.
        let partial = fabric_with(&[&e], false, |_| {}, &[cross]);
        assert!(
            partial.iter().all(|(_, p)| p.rule.0 != "EXT-02"),
            "{partial:?}"
        );
        let other = external("e", "  ipv4Namespace: tenants\n");
        let partial = fabric_with(&[&other], false, |_| {}, &[cross]);
        assert!(errors_of(&partial).is_empty());
        let w = partial
            .iter()
            .find(|(_, p)| p.rule.0 == "EXT-02")
            .expect("EXT-02");
        assert!(w.1.message.contains("\"tenants\""), "{}", w.1.message);
        assert_eq!(errors(&external("e", "  ipv4Namespace: ns_\n")), ["GEN-04"]);
    }

    #[test]
    fn real_externals_pass() {
        let docs = real_schema_ok(&["External"]);
        assert!(docs.len() >= 4, "{}", docs.len());
        for (file, _, problems) in docs {
            let errors: Vec<&Problem> = problems.iter().filter(|p| p.is_error()).collect();
            assert!(errors.is_empty(), "{file}: {errors:?}");
        }
    }
}
