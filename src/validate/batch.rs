//! Cross-object validation of a batch: the documents `raw/` brings, over what `managed/`
//! already holds. The fabric after the batch is what `managed/` would hold: what is there,
//! plus what raw/ brings, minus what it replaces (issue 14, item 2).
//!
//! Fates follow the webhook's first-come rule for what the cluster has: an incoming object
//! with an error is refused and what managed/ holds stays; when both sides of a conflict are
//! incoming, both are refused. Refusing one object can clear (or cause) another's problem, a
//! missing reference for instance, so the check runs again over the fabric without the
//! refused objects until nothing more is refused.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use super::analyze::{DocVerdict, FileAnalysis};
use super::change::{self, Before, Then};
use super::fabric::{self, Found, Index, Obj, Refused, Source};
use super::problem::Place;
use super::{Level, Problem, Validator};

/// What the cross-object rules found, by (file, document) of each side.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Problems of incoming documents, refused ones included.
    pub incoming: HashMap<(usize, usize), Vec<Problem>>,
    /// Problems of documents already in managed/.
    pub managed: HashMap<(usize, usize), Vec<Problem>>,
    /// Incoming documents the cluster would refuse: they go to unmanaged/ as `invalid-spec`.
    pub refused: HashSet<(usize, usize)>,
}

/// One definition per object across the directory (RULES.md GEN-08): what a batch's
/// conflicting definitions break.
const CONFLICT: super::problem::RuleId = super::problem::RuleId("GEN-08");

/// The most rounds of refusing and checking again; each round refuses at least one object,
/// and in practice the second finds nothing new.
const MAX_ROUNDS: usize = 8;

pub(crate) fn objects(files: &[FileAnalysis], source: Source) -> impl Iterator<Item = Obj> + '_ {
    files.iter().enumerate().flat_map(move |(fi, f)| {
        let file: Arc<str> = Arc::from(f.rel.as_str());
        f.docs().iter().enumerate().filter_map(move |(di, d)| {
            // What managed/ holds is in the fabric even when it has problems of its own; an
            // incoming object joins it only if it would be managed.
            let (kind, name) = match &d.verdict {
                DocVerdict::Managed { info, .. } => (info.kind, Arc::from(d.verdict.name()?)),
                DocVerdict::Unmanaged {
                    code: crate::classify::ReasonCode::InvalidSpec,
                    identity: Some(id),
                    ..
                } if source == Source::Managed => {
                    let info = crate::classify::kinds::KINDS
                        .iter()
                        .find(|k| k.kind == id.kind)?;
                    (info.kind, Arc::from(id.name.as_str()))
                }
                _ => return None,
            };
            Some(Obj {
                kind,
                name,
                file: file.clone(),
                pos: d.pos,
                source,
                doc: (fi as u32, di as u32),
                facts: d.facts.clone()?,
            })
        })
    })
}

/// The incoming documents that define a Hedgehog object and will not be managed whatever the
/// cross-object rules say (refused alone, or not fit for managed/ at all): a reference to one
/// of them is broken (`Index::refuse`).
fn refused_alone(files: &[FileAnalysis]) -> impl Iterator<Item = (&'static str, &str, Refused)> {
    files.iter().flat_map(|f| {
        f.docs().iter().filter_map(move |d| {
            let DocVerdict::Unmanaged {
                identity: Some(id), ..
            } = &d.verdict
            else {
                return None;
            };
            let info = crate::classify::kinds::KINDS
                .iter()
                .find(|k| k.kind == id.kind)?;
            let first = d.problems.iter().find(|p| p.is_error());
            let why = Refused {
                place: Place {
                    file: f.rel.clone(),
                    pos: first.map_or(d.pos, |p| p.pos),
                    object: format!("{}/{}", info.kind, id.name),
                },
                rule: first.map(|p| p.rule),
            };
            Some((info.kind, id.name.as_str(), why))
        })
    })
}

/// Check `incoming` over `managed` (both as analysed with `v`).
pub fn check(v: &Validator, incoming: &[FileAnalysis], managed: &[FileAnalysis]) -> Outcome {
    check_with(v, incoming, managed, None)
}

/// `check`, and the update and delete rules against `before`, what a baseline commit holds
/// (`change`): an incoming object whose update the cluster refuses is refused like any other
/// with a cross-object error; a delete the cluster refuses is an error on each object that
/// still references the deleted one, and refuses nothing (the referrer is not what is wrong).
pub fn check_with(
    v: &Validator,
    incoming: &[FileAnalysis],
    managed: &[FileAnalysis],
    before: Option<&Before>,
) -> Outcome {
    check_batch(v, incoming, managed, before, &HashSet::new())
}

/// `check_with`, where the incoming documents `conflicted` (file, document) define objects
/// the batch defines more than once, differently (`ingest::conflicted`): none is applied, so
/// none joins the fabric, and a reference to such an object is refused like one to any other
/// refused object (GEN-08).
pub fn check_batch(
    v: &Validator,
    incoming: &[FileAnalysis],
    managed: &[FileAnalysis],
    before: Option<&Before>,
    conflicted: &HashSet<(usize, usize)>,
) -> Outcome {
    let mut out = Outcome::default();
    if v.settings.level != Level::All || v.settings.objects_alone {
        return out;
    }
    // What managed/ holds, then what raw/ brings over it (but no definition in conflict).
    let mut in_conflict = Vec::new();
    let incoming_objs = objects(incoming, Source::Incoming).filter_map(|o| {
        if conflicted.contains(&(o.doc.0 as usize, o.doc.1 as usize)) {
            in_conflict.push(o);
            return None;
        }
        Some(o)
    });
    let (mut index, displaced) = Index::build(
        objects(managed, Source::Managed)
            .chain(incoming_objs)
            .collect(),
    );
    let mut replaced: HashMap<(&'static str, Arc<str>), Obj> = HashMap::new();
    for old in displaced {
        if old.source == Source::Managed {
            replaced.insert((old.kind, old.name.clone()), old);
        }
    }
    // What the baseline holds stays in the cluster until a delete goes through, which the
    // delete rules judge: only an object new to the fabric is gone when it is refused.
    let new_to_the_fabric = |kind: &str, name: &str| !before.is_some_and(|b| b.holds(kind, name));
    for (kind, name, why) in refused_alone(incoming) {
        if new_to_the_fabric(kind, name) {
            index.refuse(kind, name, why);
        }
    }
    for obj in in_conflict {
        // The first definition, in file order, stands for them all.
        if index.refused(obj.kind, &obj.name).is_none() && new_to_the_fabric(obj.kind, &obj.name) {
            let why = Refused {
                place: Place {
                    file: obj.file.to_string(),
                    pos: obj.pos,
                    object: obj.object(),
                },
                rule: Some(CONFLICT),
            };
            index.refuse(obj.kind, &obj.name, why);
        }
    }
    let mut found: Vec<Found> = Vec::new();
    for round in 0..MAX_ROUNDS {
        // The last round's findings go before the next round's are made: held together, the
        // two were the peak of a 100,000-document ingest.
        drop(std::mem::take(&mut found));
        match before {
            Some(before) => {
                let then = Then {
                    before,
                    after: &index,
                    replaced: &replaced,
                };
                let deleted = change::deleted(&then, &v.settings);
                found = fabric::check_with(&index, &v.settings, &v.env, &deleted);
                found.extend(change::updates(&then, &v.settings));
            }
            None => found = fabric::check(&index, &v.settings, &v.env),
        }
        if round + 1 == MAX_ROUNDS {
            break;
        }
        let newly: Vec<&Found> = found
            .iter()
            .filter(|f| f.source == Source::Incoming && f.problem.is_error())
            .collect();
        if newly.is_empty() {
            break;
        }
        let mut refused_now: HashSet<(&'static str, Arc<str>)> = HashSet::new();
        let mut why_refused: Vec<(&'static str, Arc<str>, Refused)> = Vec::new();
        for f in newly {
            let key = (f.doc.0 as usize, f.doc.1 as usize);
            out.refused.insert(key);
            if refused_now.insert((f.kind, f.name.clone())) {
                // Its first error, as found (findings come sorted by place).
                let place = Place {
                    file: f.file.to_string(),
                    pos: f.problem.pos,
                    object: format!("{}/{}", f.kind, f.name),
                };
                let why = Refused {
                    place,
                    rule: Some(f.problem.rule),
                };
                why_refused.push((f.kind, f.name.clone(), why));
            }
        }
        // A refused object's problems stay reported; it leaves the fabric, and the managed
        // version it would have replaced comes back.
        for f in std::mem::take(&mut found) {
            if f.source == Source::Incoming && refused_now.contains(&(f.kind, f.name)) {
                out.incoming
                    .entry((f.doc.0 as usize, f.doc.1 as usize))
                    .or_default()
                    .push(f.problem);
            }
        }
        for (kind, name) in refused_now {
            index.remove(kind, &name);
            if let Some(old) = replaced.remove(&(kind, name)) {
                index.insert(old);
            }
        }
        for (kind, name, why) in why_refused {
            if new_to_the_fabric(kind, &name) {
                index.refuse(kind, &name, why);
            }
        }
    }
    if let Some(before) = before {
        let then = Then {
            before,
            after: &index,
            replaced: &replaced,
        };
        found.extend(change::deletes(&then, &v.settings));
    }
    drop(index);
    drop(replaced);
    group(found, &mut out);
    out
}

/// Each document's problems into one list, in the order found, sized exactly: grown push by
/// push, the lists held room for four problems each, twice the problems a 100,000-document
/// ingest finds.
fn group(found: Vec<Found>, out: &mut Outcome) {
    let mut counts: HashMap<(Source, (u32, u32)), usize> = HashMap::new();
    for f in &found {
        *counts.entry((f.source, f.doc)).or_default() += 1;
    }
    for f in found {
        let key = (f.doc.0 as usize, f.doc.1 as usize);
        let n = counts.get(&(f.source, f.doc)).copied().unwrap_or(1);
        let side = match f.source {
            Source::Incoming => &mut out.incoming,
            Source::Managed => &mut out.managed,
        };
        side.entry(key)
            .or_insert_with(|| Vec::with_capacity(n))
            .push(f.problem);
    }
}

/// Carry `outcome` into the analyses: each document gets its cross-object problems. Returns
/// the refused incoming documents, for `decide_from`: each one's reason (its first error,
/// `super::first_error`) is made from its problems when its file is decided, not held here
/// for the whole batch (at 10^5 generated documents, 54,000 of them, 16 MB through the plan).
pub fn apply(
    outcome: Outcome,
    incoming: &mut [FileAnalysis],
    managed: &mut [FileAnalysis],
) -> HashSet<(usize, usize)> {
    let mut refused = HashSet::new();
    for ((fi, di), problems) in outcome.incoming {
        let Some(doc) = incoming.get_mut(fi).and_then(|f| f.docs_mut().get_mut(di)) else {
            continue;
        };
        add(doc, problems);
        if outcome.refused.contains(&(fi, di)) && doc.problems.iter().any(Problem::is_error) {
            refused.insert((fi, di));
        }
    }
    for ((fi, di), problems) in outcome.managed {
        if let Some(doc) = managed.get_mut(fi).and_then(|f| f.docs_mut().get_mut(di)) {
            add(doc, problems);
        }
    }
    refused
}

fn add(doc: &mut super::analyze::DocAnalysis, problems: Vec<Problem>) {
    let old = std::mem::take(&mut doc.problems).into_vec();
    // Sized once: boxed again below, a grown vector would be copied a second time.
    let mut all = Vec::with_capacity(old.len() + problems.len());
    all.extend(old);
    all.extend(problems);
    all.sort_by_key(|p| (p.pos, p.severity));
    doc.problems = all.into_boxed_slice();
}

#[cfg(test)]
#[path = "batch_tests.rs"]
mod tests;
