//! What a run that validates says about it, as events: the settings it checks with (and the
//! update and delete rules it could not check), the baseline it compares with, each
//! document's problems. Ingest and validate both say these.

use std::fmt::Display;

use crate::event::{Event, Sink, Summary};
use crate::validate::analyze::DocAnalysis;
use crate::validate::change::{Baseline, Before, NAMED};
use crate::validate::{Severity, Validator};
use crate::yaml::Limits;

/// The event that says what this run's validation checks; `not_checked`, why the update and
/// delete rules were not checked (no commit to compare with): human output then names the
/// settings.
pub fn validation_settings(v: &Validator, not_checked: Option<&dyn Display>) -> Event {
    let mut rules = v.settings.describe();
    if let Some(why) = not_checked {
        rules.push_str(&format!(", {NAMED}: not checked, {why}"));
    }
    Event::ValidationSettings {
        rules,
        crds: format!("CRDs: {}", v.crds_origin()),
        config: if v.env.assumed {
            "fabric config: assumed (the installer's defaults; --fab names yours)".into()
        } else {
            "fabric config: from fab.yaml".into()
        },
        default: v.settings.is_default() && not_checked.is_none(),
    }
}

/// The baseline's view for the update and delete rules; when git cannot be read, said as an
/// error event and None (those rules are then not checked).
pub fn before_or_say(
    b: &dyn Baseline,
    shown: &str,
    limits: &Limits,
    v: &Validator,
    sink: &mut dyn Sink,
) -> Option<Before> {
    match b.before(shown, limits, v) {
        Ok(before) => Some(before),
        Err(e) => {
            sink.emit(Event::Error {
                file: None,
                message: format!("{NAMED} not checked: {e}"),
            });
            None
        }
    }
}

/// A document's validation problems, as events, counted.
pub fn emit_problems(file: &str, doc: &DocAnalysis, summary: &mut Summary, sink: &mut dyn Sink) {
    if doc.problems.is_empty() {
        return;
    }
    // Formatted once per document, not once per problem.
    let object = doc.verdict.object();
    for p in doc.problems.iter() {
        match p.severity {
            Severity::Error => summary.errors += 1,
            Severity::Warning => summary.warnings += 1,
            Severity::NotChecked => {}
        }
        sink.emit(Event::Problem {
            file: file.to_string(),
            object: object.clone(),
            problem: p.clone(),
        });
    }
}
