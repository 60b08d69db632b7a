//! VLANNamespace (`api/wiring/v1beta1/vlannamespace_types.go`: `Default` :106, `Validate`
//! :122; `api/meta/vlan.go`).

use super::{no_check, At, Ctx, KindRules, Spot, F};
use crate::validate::tree::Node;

pub static RULES: KindRules = KindRules {
    before_default: no_check,
    default: super::no_default,
    check,
    facts,
};

/// A VLAN range as the webhook normalises it (`to: 0` means `to = from`).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub struct Range {
    pub from: u16,
    pub to: u16,
}

impl Range {
    pub fn contains(&self, vlan: u16) -> bool {
        self.from <= vlan && vlan <= self.to
    }
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Facts {
    /// Empty when the list is invalid: upstream's Default() then drops it (RULES.md Q1).
    pub ranges: Vec<Spot<Range>>,
    /// Where `spec.ranges` is (the namespace's own mapping when absent): where a change to the
    /// ranges is reported (UPD-05).
    pub ranges_at: At,
}

/// The ranges of `f` as Go normalises them, or the first problem with its index.
fn ranges(f: &F) -> Result<Vec<(Range, usize)>, (usize, &'static str)> {
    let mut out = Vec::new();
    for (i, item) in f.items().enumerate() {
        let from = item.get("from").int();
        let mut to = item.get("to").int();
        if to == 0 {
            to = from;
        }
        if from > to {
            return Err((i, "from > to"));
        }
        if !(1..=4094).contains(&from) {
            return Err((i, "from < 1 || from > 4094"));
        }
        if !(1..=4094).contains(&to) {
            return Err((i, "to < 1 || to > 4094"));
        }
        out.push((
            Range {
                from: from as u16,
                to: to as u16,
            },
            i,
        ));
    }
    Ok(out)
}

/// The first overlap among `ranges` (sorted as Go sorts them), as Go reports it.
pub fn first_overlap(mut ranges: Vec<Range>) -> Option<(Range, Range)> {
    ranges.sort();
    ranges
        .windows(2)
        .find(|w| w[0].to >= w[1].from)
        .map(|w| (w[0], w[1]))
}

fn check(root: &Node, ctx: &mut Ctx) {
    let list = F::root(root).at(&["spec", "ranges"]);
    let parsed = match ranges(&list) {
        Ok(r) => r,
        Err((i, why)) => {
            let item = list.items().nth(i).unwrap_or_else(|| list.clone());
            // The cluster admits the namespace: its Default() replaces an invalid list by
            // nil (it assigns the normalised ranges only when normalising fails, RULES.md
            // Q1) and Validate() then passes. So a warning, as the cluster's verdict is; the
            // namespace's facts hold no ranges, and every VPC in it fails VPC-24.
            ctx.warn(
                "VLNS-02",
                &item,
                format!("VLAN range #{i}: {why} (VLANs are 1-4094): the cluster admits this namespace but silently drops every range of it, so no VPC can use it"),
            );
            return;
        }
    };
    let own: Vec<Range> = parsed.iter().map(|(r, _)| *r).collect();
    let reserved = [
        (
            ctx.env.irb_vlans.clone(),
            "ranges overlap with Fabric reserved VLANs",
            "the fabric's VPC IRB VLANs",
        ),
        (
            ctx.env.th5_vlans.clone(),
            "ranges overlap with VLANs reserved for the TH5 workaround",
            "the VLANs reserved for the TH5 workaround",
        ),
    ];
    for (res, prefix, what) in reserved {
        let mut all = res.clone();
        all.extend(own.iter().copied());
        if let Some((a, b)) = first_overlap(all) {
            let blame = parsed
                .iter()
                .find(|(r, _)| *r == b || *r == a)
                .and_then(|(_, i)| list.items().nth(*i))
                .unwrap_or_else(|| list.clone());
            let inside = !res.contains(&a) && !res.contains(&b);
            let msg = if inside {
                format!("VLAN ranges {}-{} and {}-{} of this namespace overlap (the webhook reports it as an overlap with {what})", a.from, a.to, b.from, b.to)
            } else {
                format!(
                    "VLAN range overlaps {what} ({}-{} and {}-{})",
                    a.from, a.to, b.from, b.to
                )
            };
            ctx.config_error(
                "VLNS-03",
                &blame,
                msg,
                &format!(
                    "{prefix}: VLAN ranges overlap: {}-{} and {}-{}",
                    a.from, a.to, b.from, b.to
                ),
            );
            break;
        }
    }
}

fn facts(root: &Node) -> Option<super::Facts> {
    let list = F::root(root).at(&["spec", "ranges"]);
    let items: Vec<F> = list.items().collect();
    let ranges = match ranges(&list) {
        Ok(r) => r
            .into_iter()
            .map(|(r, i)| Spot::new(r, &items[i]))
            .collect(),
        Err(_) => Vec::new(),
    };
    Some(super::Facts::VlanNamespace(Box::new(Facts {
        ranges,
        ranges_at: (&list).into(),
    })))
}

#[cfg(test)]
mod tests {
    use super::super::testkit::check;

    fn ns(ranges: &str) -> String {
        format!("apiVersion: wiring.githedgehog.com/v1beta1\nkind: VLANNamespace\nmetadata:\n  name: default\nspec:\n  ranges:\n{ranges}")
    }

    #[test]
    fn a_range_past_4094_is_a_warning_as_the_cluster_admits_it() {
        assert!(check(&ns("  - from: 1000\n    to: 2999\n")).is_empty());
        let p = check(&ns(
            "  - from: 1000\n    to: 2999\n  - from: 4000\n    to: 4095\n",
        ));
        assert_eq!(p.len(), 1, "{p:?}");
        assert_eq!((p[0].rule.0, p[0].pos.line), ("VLNS-02", 9));
        assert!(!p[0].is_error() && p[0].message.contains("silently drops"));
        for bad in ["  - from: 20\n    to: 10\n", "  - from: 0\n    to: 10\n"] {
            let p = check(&ns(bad));
            let rules: Vec<(&str, bool)> = p.iter().map(|p| (p.rule.0, p.is_error())).collect();
            assert_eq!(rules, [("VLNS-02", false)], "{bad}");
        }
        // The cluster admits the namespace, its ranges dropped: it says nothing to quote.
        assert_eq!(p[0].upstream, None);
    }

    /// The namespace is admitted without ranges: a VPC that takes its VLANs from it is not.
    #[test]
    fn a_vpc_in_a_namespace_with_a_dropped_range_list_is_refused() {
        let vpc = "apiVersion: vpc.githedgehog.com/v1beta1\nkind: VPC\nmetadata:\n  name: v\nspec:\n  subnets:\n    default:\n      subnet: 10.0.1.0/24\n      vlan: 1001\n";
        let bad = ns("  - from: 1000\n    to: 2999\n  - from: 4000\n    to: 4095\n");
        let found = super::super::testkit::fabric_errors(&[vpc, &bad], false);
        assert_eq!(found, [("doc0.yaml".to_string(), "VPC-24")]);
        let good = ns("  - from: 1000\n    to: 2999\n");
        assert!(super::super::testkit::fabric_errors(&[vpc, &good], false).is_empty());
    }
}
