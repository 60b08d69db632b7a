//! Connection: placeholder, to be filled (see the lead's plan in RULES.md §4).

use super::{no_check, KindRules};
use crate::validate::fabric::Cross;
use crate::validate::tree::Node;

pub static RULES: KindRules = KindRules {
    before_default: no_check,
    default: super::no_default,
    check: no_check,
    facts,
};

#[derive(Debug, Clone)]
pub struct Facts {}

fn facts(_root: &Node) -> Option<super::Facts> {
    Some(super::Facts::Connection(Facts {}))
}

pub fn cross(_cx: &mut Cross) {}
