//! Gateway, GatewayGroup, GatewayPeering: placeholder, to be filled.

use super::{no_check, KindRules};
use crate::validate::fabric::Cross;

pub static RULES: KindRules = KindRules {
    before_default: no_check,
    default: super::no_default,
    check: no_check,
    facts: |_| Some(super::Facts::Gateway(Facts {})),
};
pub static GROUP_RULES: KindRules = KindRules {
    before_default: no_check,
    default: super::no_default,
    check: no_check,
    facts: |_| Some(super::Facts::GatewayGroup),
};
pub static PEERING_RULES: KindRules = KindRules {
    before_default: no_check,
    default: super::no_default,
    check: no_check,
    facts: |_| Some(super::Facts::GatewayPeering(PeeringFacts {})),
};

#[derive(Debug, Clone)]
pub struct Facts {}
#[derive(Debug, Clone)]
pub struct PeeringFacts {}

pub fn cross(_cx: &mut Cross) {}
