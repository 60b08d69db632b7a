//! External, ExternalAttachment, ExternalPeering: placeholder, to be filled.

use super::{no_check, KindRules};
use crate::validate::fabric::Cross;
use crate::validate::tree::Node;

pub static RULES: KindRules = KindRules {
    before_default: no_check,
    default: super::no_default,
    check: no_check,
    facts: |_| Some(super::Facts::External(Facts {})),
};
pub static ATTACHMENT_RULES: KindRules = KindRules {
    before_default: no_check,
    default: super::no_default,
    check: no_check,
    facts: |_| Some(super::Facts::ExternalAttachment(AttachmentFacts {})),
};
pub static PEERING_RULES: KindRules = KindRules {
    before_default: no_check,
    default: super::no_default,
    check: no_check,
    facts: |_| Some(super::Facts::ExternalPeering(PeeringFacts {})),
};

#[derive(Debug, Clone)]
pub struct Facts {}
#[derive(Debug, Clone)]
pub struct AttachmentFacts {}
#[derive(Debug, Clone)]
pub struct PeeringFacts {}

pub fn cross(_cx: &mut Cross) {}

#[allow(dead_code)]
fn unused(_: &Node) {}
