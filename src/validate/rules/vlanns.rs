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
            ctx.error(
                "VLNS-02",
                &item,
                format!("VLAN range #{i}: {why} (VLANs are 1-4094; the cluster would silently drop every range of this namespace, so no VPC could use it)"),
                // No words of the cluster's: its defaulting drops the ranges and admits the
                // namespace (RULES.md Q1); refusing it is fgd's own call.
                "",
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
    fn a_range_past_4094_is_refused_in_fgd_s_words_only() {
        assert!(check(&ns("  - from: 1000\n    to: 2999\n")).is_empty());
        let p = check(&ns(
            "  - from: 1000\n    to: 2999\n  - from: 4000\n    to: 4095\n",
        ));
        assert_eq!(p.len(), 1, "{p:?}");
        assert_eq!((p[0].rule.0, p[0].pos.line), ("VLNS-02", 9));
        assert!(p[0].is_error() && p[0].message.contains("silently drop"));
        // The cluster admits the namespace, its ranges dropped: it says nothing to quote.
        assert_eq!(p[0].upstream, None);
    }
}
