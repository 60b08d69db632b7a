//! What a run that validates says about it, as events: the settings it checks with (and the
//! update and delete rules it could not check), the baseline it compares with, each
//! document's problems. Ingest and validate both say these.

use std::fmt::Display;

use crate::event::{Event, Sink, Summary};
use crate::validate::analyze::DocAnalysis;
use crate::validate::change::{Baseline, Before, NAMED};
use crate::validate::{Problem, Severity, Validator};
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
    emit_where(file, doc, summary, sink, |_| true);
}

/// `emit_problems` for the errors only: what an ingest says of the managed/ files it did not
/// write. Their warnings are the same every run (41,000 lines of a one-file sync at 100k
/// documents) and change nothing; an error is what a push would refuse.
pub fn emit_errors(file: &str, doc: &DocAnalysis, summary: &mut Summary, sink: &mut dyn Sink) {
    emit_where(file, doc, summary, sink, Problem::is_error);
}

fn emit_where(
    file: &str,
    doc: &DocAnalysis,
    summary: &mut Summary,
    sink: &mut dyn Sink,
    shown: impl Fn(&Problem) -> bool,
) {
    if !doc.problems.iter().any(&shown) {
        return;
    }
    // Formatted once per document, not once per problem.
    let object = doc.verdict.object();
    for p in doc.problems.iter().filter(|p| shown(p)) {
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
