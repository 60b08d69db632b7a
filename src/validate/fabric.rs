//! Rules across objects: references that must exist, sets that must not overlap, values that
//! must be unique. They run over an index of every object's facts (kind and name to what the
//! rules need of it), which callers update object by object as files change: the index is
//! small (no trees), and a re-check is a pass over it.
//!
//! The webhook compares an incoming object with what the cluster already has, so of two
//! conflicting objects the first applied wins (RULES.md §1, C3). fgd sees the fabric as one
//! set: a conflict is reported on both objects, each pointing at the other.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use super::problem::{FieldPath, Place, Problem, RuleId, Severity};
use super::rules::{self, Env, Facts};
use super::{At, Settings};
use crate::yaml::Pos;

/// Where an object of the index comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Source {
    /// Already in `managed/` (what the cluster should have).
    Managed,
    /// In `raw/`, about to be ingested (or a file given to `validate`).
    Incoming,
}

#[derive(Debug, Clone)]
pub struct Obj {
    pub kind: &'static str,
    /// Shared with the index's key and with every finding about the object.
    pub name: Arc<str>,
    /// As fgd prints file names (fabric-relative or as given).
    pub file: Arc<str>,
    /// Where the object's document starts.
    pub pos: Pos,
    pub source: Source,
    /// Which document it is, for the caller: (file, document) indexes of its own choosing.
    pub doc: (u32, u32),
    pub facts: Arc<Facts>,
}

impl Obj {
    /// `Kind/name`.
    pub fn object(&self) -> String {
        format!("{}/{}", self.kind, self.name)
    }

    pub fn place(&self, at: &At) -> Place {
        Place {
            file: self.file.to_string(),
            pos: at.pos,
            object: self.object(),
        }
    }
}

/// Every object of the fabric by kind and name.
#[derive(Debug, Default, Clone)]
pub struct Index {
    by_kind: HashMap<&'static str, BTreeMap<Arc<str>, Obj>>,
    /// Objects this run defines but will not manage (refused, alone or across objects): a
    /// reference to one is an error even where a missing object would only be a warning, and
    /// says why the object is not there.
    refused: HashMap<&'static str, HashMap<Arc<str>, Refused>>,
}

/// Why an object the run defines is not in the fabric after it.
#[derive(Debug, Clone)]
pub struct Refused {
    /// Where the refused definition is, for the referrer's see-also.
    pub place: Place,
    /// The first error that refused it, if a rule did (a rule's id, as `[VPC-09]`).
    pub rule: Option<RuleId>,
}

impl Index {
    /// Add or replace (by kind and name) an object; returns the one it replaced.
    pub fn insert(&mut self, obj: Obj) -> Option<Obj> {
        self.by_kind
            .entry(obj.kind)
            .or_default()
            .insert(obj.name.clone(), obj)
    }

    /// An index of `objs`, made at once: of two objects of one kind and name the later one
    /// stays, as if inserted in order, and the others are returned, in order. One by one, a
    /// map's nodes were left about half full (names mostly come in order); built from the
    /// sorted objects, they are full: at 10^5 objects the index took 14 MB.
    pub fn build(objs: Vec<Obj>) -> (Index, Vec<Obj>) {
        // Each object with its place in `objs`.
        let mut by_kind: HashMap<&'static str, Vec<(usize, Obj)>> = HashMap::new();
        for (at, obj) in objs.into_iter().enumerate() {
            by_kind.entry(obj.kind).or_default().push((at, obj));
        }
        // Each displaced object with the place of the one that displaced it.
        let mut displaced: Vec<(usize, Obj)> = Vec::new();
        let mut index = Index::default();
        for (kind, mut list) in by_kind {
            list.sort_by(|(a, x), (b, y)| x.name.cmp(&y.name).then(a.cmp(b)));
            let mut kept: Vec<(Arc<str>, Obj)> = Vec::with_capacity(list.len());
            for (at, obj) in list {
                if kept.last().is_some_and(|(name, _)| *name == obj.name) {
                    if let Some((_, earlier)) = kept.pop() {
                        displaced.push((at, earlier));
                    }
                }
                kept.push((obj.name.clone(), obj));
            }
            // Sorted and unique: the map is built with full nodes.
            index.by_kind.insert(kind, kept.into_iter().collect());
        }
        // As inserting the objects one by one would have returned them.
        displaced.sort_by_key(|(at, _)| *at);
        (index, displaced.into_iter().map(|(_, o)| o).collect())
    }

    pub fn remove(&mut self, kind: &str, name: &str) -> Option<Obj> {
        self.by_kind.get_mut(kind).and_then(|m| m.remove(name))
    }

    /// Remove every object that came from `file` (a file changed or vanished).
    pub fn remove_file(&mut self, file: &str) {
        for m in self.by_kind.values_mut() {
            m.retain(|_, o| &*o.file != file);
        }
    }

    pub fn get(&self, kind: &str, name: &str) -> Option<&Obj> {
        self.by_kind.get(kind).and_then(|m| m.get(name))
    }

    /// Note that the run defines `kind/name` and will not manage it.
    pub fn refuse(&mut self, kind: &'static str, name: &str, why: Refused) {
        self.refused
            .entry(kind)
            .or_default()
            .insert(Arc::from(name), why);
    }

    /// Why `kind/name`, absent from the index, is refused in this run, if it is.
    pub fn refused(&self, kind: &str, name: &str) -> Option<&Refused> {
        self.refused.get(kind).and_then(|m| m.get(name))
    }

    /// The objects of one kind, by name.
    pub fn of_kind<'a>(&'a self, kind: &str) -> impl Iterator<Item = &'a Obj> + 'a {
        self.by_kind.get(kind).into_iter().flat_map(|m| m.values())
    }

    /// Every object, kind by kind.
    pub fn all(&self) -> impl Iterator<Item = &Obj> + '_ {
        self.by_kind.values().flat_map(|m| m.values())
    }

    pub fn len(&self) -> usize {
        self.by_kind.values().map(BTreeMap::len).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A problem of one object of the index.
#[derive(Debug, Clone)]
pub struct Found {
    pub kind: &'static str,
    pub name: Arc<str>,
    pub file: Arc<str>,
    pub source: Source,
    pub doc: (u32, u32),
    pub problem: Problem,
}

/// Where the cross-object rules write what they find.
pub struct Cross<'a> {
    pub index: &'a Index,
    pub env: &'a Env,
    pub whole_fabric: bool,
    /// What the change deletes (against a baseline; empty without one).
    pub deleted: &'a Deleted,
    pub out: Vec<Found>,
}

/// An object the baseline has and the fabric after the change does not (`change::deleted`).
#[derive(Debug, Clone)]
pub struct Gone {
    /// Where the baseline has it.
    pub place: Place,
    /// A delete webhook refuses the delete: an object of the fabric after the change still
    /// references it (the delete rules, DEL-01..06, say so on each), so the cluster keeps it.
    pub refused: bool,
}

/// The objects a change deletes, by kind and name.
pub type Deleted = HashMap<(&'static str, Arc<str>), Gone>;

/// No deletes: the fabric seen without a baseline.
pub fn no_deletes() -> &'static Deleted {
    static NONE: std::sync::OnceLock<Deleted> = std::sync::OnceLock::new();
    NONE.get_or_init(HashMap::new)
}

impl<'a> Cross<'a> {
    fn push(&mut self, obj: &Obj, problem: Problem) {
        self.out.push(Found {
            kind: obj.kind,
            name: obj.name.clone(),
            file: obj.file.clone(),
            source: obj.source,
            doc: obj.doc,
            problem,
        });
    }

    /// The cluster refuses `obj` (the webhook's `inner` text, the kind's prefix added);
    /// `other` is the other side of a conflict.
    pub fn error(
        &mut self,
        rule: &'static str,
        obj: &Obj,
        at: &At,
        msg: impl Into<String>,
        inner: &str,
        other: Option<(&Obj, &At)>,
    ) {
        let problem = Problem {
            rule: RuleId(rule),
            severity: Severity::Error,
            path: at.path.clone(),
            pos: at.pos,
            message: msg.into().into_boxed_str(),
            upstream: (!inner.is_empty())
                .then(|| format!("{}{inner}", rules::webhook_prefix(obj.kind)).into()),
            see_also: other.map(|(o, a)| Box::new(o.place(a))),
            assumed: false,
        };
        self.push(obj, problem);
    }

    /// An error that rests on the fabric config (marked assumed without a fab.yaml).
    pub fn config_error(
        &mut self,
        rule: &'static str,
        obj: &Obj,
        at: &At,
        msg: impl Into<String>,
        inner: &str,
        other: Option<(&Obj, &At)>,
    ) {
        self.error(rule, obj, at, msg, inner, other);
        let assumed = self.env.assumed;
        if let Some(f) = self.out.last_mut() {
            f.problem.assumed = assumed;
        }
    }

    /// `obj` names `kind/name`, which the fabric does not hold: an error when the directory
    /// is the whole fabric, otherwise a warning that it must already exist in the cluster.
    pub fn missing(
        &mut self,
        rule: &'static str,
        obj: &Obj,
        at: &At,
        kind: &str,
        name: &str,
        inner: &str,
    ) {
        // The installer makes these in every fabric; outside git is where they usually are.
        if !self.whole_fabric && INSTALLER_DEFAULTS.contains(&(kind, name)) {
            return;
        }
        let gone = self.deleted.get(&(kind, Arc::from(name)));
        // The cluster refuses the delete, and a DEL rule says so on the referrer: the object
        // stays, and "must already exist" beside "cannot be deleted" would say two things.
        if gone.is_some_and(|g| g.refused) {
            return;
        }
        let (severity, message, see_also) = match self.index.refused(kind, name) {
            // Defined here but refused: whatever the cluster held before, this run does not
            // give it the object, so the reference is as broken as the definition.
            Some(why) => {
                let (file, line, column) = (&why.place.file, why.place.pos.line, why.place.pos.column);
                let because = match &why.rule {
                    Some(rule) => format!(" ([{}] at {file}:{line}:{column})", rule.0),
                    None => format!(" (at {file}:{line}:{column})"),
                };
                let message = format!(
                    "{kind} {name:?} is refused in this run{because}, so the cluster will not have it: fix it first"
                );
                (Severity::Error, message, Some(Box::new(why.place.clone())))
            }
            None if gone.is_some() => {
                let place = gone.map(|g| g.place.clone());
                let file = place.as_ref().map_or("", |p| p.file.as_str());
                (
                    if self.whole_fabric {
                        Severity::Error
                    } else {
                        Severity::Warning
                    },
                    format!("{kind} {name:?} is deleted by this change ({file} has it), and no webhook stops the delete: the cluster will not have it, and this reference will name nothing; keep it, or change this reference in the same change"),
                    place.map(Box::new),
                )
            }
            None if self.whole_fabric => (
                Severity::Error,
                format!("{kind} {name:?} is not defined in this fabric"),
                None,
            ),
            None => (
                Severity::Warning,
                format!("{kind} {name:?} is not in this directory: it must already exist in the cluster (say `--whole-fabric` if this directory is the whole fabric)"),
                None,
            ),
        };
        let problem = Problem {
            rule: RuleId(rule),
            severity,
            path: at.path.clone(),
            pos: at.pos,
            message: message.into(),
            upstream: (!inner.is_empty())
                .then(|| format!("{}{inner}", rules::webhook_prefix(obj.kind)).into()),
            see_also,
            assumed: false,
        };
        self.push(obj, problem);
    }

    pub fn warn(&mut self, rule: &'static str, obj: &Obj, at: &At, msg: impl Into<String>) {
        let problem = Problem {
            rule: RuleId(rule),
            severity: Severity::Warning,
            path: at.path.clone(),
            pos: at.pos,
            message: msg.into().into_boxed_str(),
            upstream: None,
            see_also: None,
            assumed: false,
        };
        self.push(obj, problem);
    }
}

/// Objects hhfab creates in every fabric (RULES.md §11.2): in a partial fabric a reference to
/// one of them is taken as met, instead of a warning on every VPC and Switch.
pub const INSTALLER_DEFAULTS: [(&str, &str); 3] = [
    ("IPv4Namespace", "default"),
    ("VLANNamespace", "default"),
    ("GatewayGroup", "default"),
];

/// The cross-object rules, in the order their findings are listed, in two halves of about
/// equal work (measured on generated fabrics): with a second core, the first half runs on a
/// thread of its own while this one runs the second.
const FIRST_HALF: &[fn(&mut Cross)] = &[rules::vpc::cross, rules::vpcattachment::cross];
const SECOND_HALF: &[fn(&mut Cross)] = &[
    rules::vpcpeering::cross,
    rules::external::cross,
    rules::switch::cross,
    rules::connection::cross,
    rules::gateway::cross,
];

/// Below this many objects a second thread costs more than it saves.
const PARALLEL_FROM: usize = 2048;

/// Every cross-object rule over `index`.
pub fn check(index: &Index, settings: &Settings, env: &Env) -> Vec<Found> {
    check_with(index, settings, env, no_deletes())
}

/// `check`, knowing what the change deletes (a reference to a deleted object is judged by
/// whether the delete goes through).
pub fn check_with(index: &Index, settings: &Settings, env: &Env, deleted: &Deleted) -> Vec<Found> {
    let run = |rules: &[fn(&mut Cross)]| {
        let mut cx = Cross {
            index,
            env,
            whole_fabric: settings.whole_fabric,
            deleted,
            out: Vec::new(),
        };
        for rule in rules {
            rule(&mut cx);
        }
        cx.out
    };
    let (mut out, second) = super::join(
        index.len() >= PARALLEL_FROM,
        || run(FIRST_HALF),
        || run(SECOND_HALF),
    );
    // Exactly: grown by doubling, the list of 10^5 objects' findings took twice its room at
    // the top of the check's memory.
    out.reserve_exact(second.len());
    out.extend(second);
    if !settings.skip.is_empty() {
        out.retain(|f| !settings.skip.contains(&f.problem.rule));
    }
    out.sort_by(|a, b| {
        (&a.file, a.problem.pos, a.problem.rule).cmp(&(&b.file, b.problem.pos, b.problem.rule))
    });
    out
}

/// A field path for messages built from facts.
pub fn path(keys: &[&str]) -> FieldPath {
    FieldPath::of(keys)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obj(kind: &'static str, name: &str, source: Source, doc: u32) -> Obj {
        Obj {
            kind,
            name: name.into(),
            file: Arc::from(format!("f{doc}.yaml").as_str()),
            pos: Pos { line: 1, column: 1 },
            source,
            doc: (doc, 0),
            facts: Arc::new(Facts::Server),
        }
    }

    /// Objects as `Kind/name` and the file they came from.
    type Named = Vec<(String, u32)>;

    /// Which object each kind and name holds, and what was displaced.
    fn seen(index: &Index, displaced: &[Obj]) -> (Named, Named) {
        let mut held: Vec<(String, u32)> = index.all().map(|o| (o.object(), o.doc.0)).collect();
        held.sort();
        let gone = displaced.iter().map(|o| (o.object(), o.doc.0)).collect();
        (held, gone)
    }

    #[test]
    fn an_index_built_at_once_holds_what_inserting_in_order_would() {
        use Source::{Incoming, Managed};
        let objs = vec![
            obj("Server", "b", Managed, 0),
            obj("Server", "a", Managed, 1),
            obj("Switch", "a", Managed, 2),
            obj("Server", "c", Managed, 3),
            obj("Server", "a", Incoming, 0),
            obj("Server", "d", Incoming, 1),
            obj("Server", "a", Incoming, 2),
            obj("Switch", "a", Incoming, 3),
        ];
        let mut one_by_one = Index::default();
        let mut displaced = Vec::new();
        for o in objs.clone() {
            displaced.extend(one_by_one.insert(o));
        }
        let (built, built_displaced) = Index::build(objs);
        assert_eq!(
            seen(&built, &built_displaced),
            seen(&one_by_one, &displaced)
        );
        assert_eq!(built.len(), 5);
        let names: Vec<&str> = built.of_kind("Server").map(|o| &*o.name).collect();
        assert_eq!(names, ["a", "b", "c", "d"]);
        let a = built.get("Server", "a").expect("a");
        assert_eq!((a.source, a.doc.0), (Incoming, 2));
    }
}
