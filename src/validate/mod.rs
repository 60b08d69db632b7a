//! Validation of what a Hedgehog object says, not only of its envelope: the CRD schema and
//! the fabric's admission rules (RULES.md, by rule id), before anything is pushed, with the
//! field's position in the original file.
//!
//! Admission runs in an order that matters (RULES.md §1): Go decoding (types, integer
//! widths), then `Default()`, then the CRD schema on the *defaulted* object, then the
//! webhook's `Validate()`. fgd follows it per document (`check_document`): the tree is read
//! with positions, defaulted as the webhook would default it, checked against the schema and
//! then by the kind's own rules. What needs other objects runs over the whole fabric
//! (`fabric::check`), from a compact index of per-object facts.

pub mod analyze;
pub mod batch;
pub mod change;
pub mod env;
pub mod fabric;
pub mod live;
pub mod net;
pub mod problem;
pub mod rules;
pub mod schema;
pub mod settings;
pub use crate::yaml::tree;

use std::collections::BTreeSet;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

pub use problem::{FieldPath, Place, Problem, RuleId, Seg, SegRef, Severity};
pub use rules::{Facts, RuleInfo};

use crate::classify::KindInfo;
use crate::yaml::Pos;

/// Which checks run (`--rules`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "kebab-case")]
pub enum Level {
    /// apiVersion, kind, metadata and YAML only (fgd before spec validation).
    Envelope,
    /// Adds the CRD schema.
    Schema,
    /// Adds the webhook rules, per object and across the fabric.
    #[default]
    All,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Envelope => "envelope",
            Level::Schema => "schema",
            Level::All => "all",
        }
    }
}

/// What the operator chose (flags and the config's `[validation]` section).
#[derive(Debug, Clone, Default)]
pub struct Settings {
    pub level: Level,
    /// Rule ids not to run (`--skip-rule`), checked against the catalogue.
    pub skip: BTreeSet<RuleId>,
    /// Unknown fields are warnings instead of errors.
    pub unknown_fields_warn: bool,
    /// The directory holds the whole fabric: a missing reference is an error, not a warning.
    pub whole_fabric: bool,
    /// Another release's CRDs instead of the shipped ones.
    pub crds: Option<PathBuf>,
    /// The fabric's fab.yaml instead of the installer's defaults.
    pub fab: Option<PathBuf>,
    /// Only the rules of each object alone: the caller runs the cross-object rules over a
    /// fabric of its own (`live::Live`, for `fgd watch`).
    pub objects_alone: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error("--skip-rule {0}: no such rule (`fgd rules` lists them)")]
    UnknownRule(String),
    #[error(transparent)]
    Crds(#[from] schema::CrdError),
    #[error("{path}: {message}")]
    Fab { path: String, message: String },
    #[error("{path}: {message}")]
    Settings { path: String, message: String },
}

impl Settings {
    /// Whether anything differs from fgd's defaults (every rule, shipped CRDs, assumed config,
    /// partial fabric, unknown fields are errors): human output names the settings then.
    pub fn is_default(&self) -> bool {
        self.level == Level::All
            && self.skip.is_empty()
            && !self.unknown_fields_warn
            && !self.whole_fabric
            && self.crds.is_none()
            && self.fab.is_none()
    }

    /// Add a `--skip-rule` id, refusing one the catalogue does not have.
    pub fn skip_rule(&mut self, id: &str) -> Result<(), SetupError> {
        let info = rules::lookup(id).ok_or_else(|| SetupError::UnknownRule(id.to_string()))?;
        self.skip.insert(info.id);
        Ok(())
    }

    /// One line saying what was checked, for the output and the log.
    pub fn describe(&self) -> String {
        let mut s = format!("rules: {}", self.level.as_str());
        if !self.skip.is_empty() {
            let ids: Vec<&str> = self.skip.iter().map(|r| r.0).collect();
            s.push_str(&format!(", skipped: {}", ids.join(" ")));
        }
        if self.level >= Level::Schema && self.unknown_fields_warn {
            s.push_str(", unknown fields: warnings");
        }
        if self.level == Level::All {
            let offline: Vec<&str> = rules::catalogue()
                .iter()
                .filter(|r| r.needs == rules::Need::Cluster)
                .map(|r| r.id.0)
                .collect();
            s.push_str(&format!(
                ", not checked offline: {} (they need the live cluster)",
                offline.join(" ")
            ));
            s.push_str(if self.whole_fabric {
                ", whole fabric"
            } else {
                ", partial fabric (a reference to an object outside it is a warning; the installer's default namespaces are taken as present)"
            });
        }
        s
    }
}

/// The loaded checker: settings, CRDs and the fabric's environment.
pub struct Validator {
    pub settings: Settings,
    crds: schema::Crds,
    pub env: rules::Env,
}

/// What checking one document found.
#[derive(Debug, Default)]
pub struct DocCheck {
    /// Positions are the file's own.
    pub problems: Vec<Problem>,
    /// What the cross-object rules need of this object, when it got that far.
    pub facts: Option<Facts>,
}

impl DocCheck {
    pub fn has_errors(&self) -> bool {
        self.problems.iter().any(Problem::is_error)
    }

    /// Where the first error is, and the reason an `invalid-spec` document carries: that
    /// error, and how many more there are.
    pub fn first_error(&self) -> Option<(Pos, String)> {
        first_error(&self.problems)
    }
}

/// Where the first error of `problems` (sorted as a document's are) is, and the reason an
/// `invalid-spec` document carries: that error, and how many more there are.
pub fn first_error(problems: &[Problem]) -> Option<(Pos, String)> {
    let mut errors = problems.iter().filter(|p| p.is_error());
    let first = errors.next()?;
    let more = errors.count();
    let mut reason = first.summary();
    if more > 0 {
        reason.push_str(&format!(
            " (and {more} more problem{})",
            if more == 1 { "" } else { "s" }
        ));
    }
    Some((first.pos, reason))
}

impl Validator {
    pub fn new(settings: Settings) -> Result<Validator, SetupError> {
        let crds = match (&settings.crds, settings.level) {
            (Some(dir), _) => schema::Crds::from_dir(dir)?,
            // The envelope looks at no spec: parsing and compiling the shipped CRDs would only
            // cost time and leave their garbage in the heap of a big ingest.
            (None, Level::Envelope) => schema::Crds::shipped_unread(),
            (None, _) => schema::Crds::shipped()?,
        };
        let env = match &settings.fab {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|e| SetupError::Fab {
                    path: path.display().to_string(),
                    message: format!("cannot read: {e}"),
                })?;
                rules::Env::from_fab_yaml(&text).map_err(|message| SetupError::Fab {
                    path: path.display().to_string(),
                    message,
                })?
            }
            None => rules::Env::assumed(),
        };
        Ok(Validator {
            settings,
            crds,
            env,
        })
    }

    /// Only the envelope: what fgd checked before (no CRDs loaded).
    pub fn envelope() -> Validator {
        Validator {
            settings: Settings {
                level: Level::Envelope,
                ..Default::default()
            },
            crds: schema::Crds::default(),
            env: rules::Env::assumed(),
        }
    }

    /// A shared validator with the default settings (every rule, the shipped CRDs, the
    /// installer's fabric config), for front ends with no settings of their own.
    pub fn shared_default() -> &'static Validator {
        static DEFAULT: std::sync::OnceLock<Validator> = std::sync::OnceLock::new();
        DEFAULT.get_or_init(|| {
            Validator::new(Settings::default()).unwrap_or_else(|_| Validator::envelope())
        })
    }

    /// A shared envelope-only validator, for callers that check no more.
    pub fn envelope_only() -> &'static Validator {
        static ENVELOPE: std::sync::OnceLock<Validator> = std::sync::OnceLock::new();
        ENVELOPE.get_or_init(Validator::envelope)
    }

    pub fn crds_origin(&self) -> &str {
        &self.crds.origin
    }

    /// Whether the checks go past the envelope, and so need each document's tree.
    pub fn reads_spec(&self) -> bool {
        self.settings.level != Level::Envelope
    }

    /// Check one managed candidate: `root` is its document as a tree (as `yaml::parse_chunk`
    /// gives it), whose first line is line `first_line` of the file.
    pub fn check_document(
        &self,
        info: &KindInfo,
        root: Option<tree::Node>,
        first_line: usize,
    ) -> DocCheck {
        if self.settings.level == Level::Envelope {
            return DocCheck::default();
        }
        let Some(mut root) = root else {
            return DocCheck::default();
        };
        root.offset_lines(first_line.saturating_sub(1));
        self.check_tree(info, root)
    }

    /// Check one object given as a tree (positions already the file's own).
    pub fn check_tree(&self, info: &KindInfo, mut root: tree::Node) -> DocCheck {
        let mut out = DocCheck::default();
        let kind = rules::for_kind(info.kind);
        let webhook = self.settings.level == Level::All;
        let mut ctx = rules::Ctx::new(info.kind, &root, &self.env);
        if webhook {
            rules::check_common(&root, &mut ctx);
            if let Some(k) = kind {
                (k.before_default)(&root, &mut ctx);
            }
        }
        // Default() runs on what Go could decode; the defaults only fill what is absent or
        // empty and leave a field of the wrong type alone, so the schema still sees it.
        if let Some(k) = kind {
            (k.default)(&mut root);
        }
        let mut decodable = true;
        if let Some(crd) = self.crds.get(info.group, info.kind) {
            let unknown = if self.settings.unknown_fields_warn {
                Severity::Warning
            } else {
                Severity::Error
            };
            // A wrong type or width stops the mutating webhook's decode: Validate() never runs.
            decodable = schema::check(crd, &root, unknown, &mut out.problems);
        }
        if webhook && decodable {
            if let Some(k) = kind {
                (k.check)(&root, &mut ctx);
                out.facts = (k.facts)(&root);
            }
        }
        if webhook {
            out.problems.extend(ctx.out);
        }
        self.finish(out)
    }

    fn finish(&self, mut out: DocCheck) -> DocCheck {
        if !self.settings.skip.is_empty() {
            out.problems
                .retain(|p| !self.settings.skip.contains(&p.rule));
        }
        out.problems.sort_by_key(|p| (p.pos, p.severity));
        out
    }
}

/// A position inside an object, for rules: the field's path and where it (or, when absent,
/// the nearest mapping that should hold it) was written.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct At {
    pub path: FieldPath,
    pub pos: Pos,
}

/// `first()` and `second()`, with `first` on a thread of its own while this one runs
/// `second`, when `worth_it` and there is a second core; else one after the other. A panic in
/// either surfaces here, as it would have without the thread.
pub(crate) fn join<A: Send, B>(
    worth_it: bool,
    first: impl FnOnce() -> A + Send,
    second: impl FnOnce() -> B,
) -> (A, B) {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    if !worth_it || cores < 2 {
        return (first(), second());
    }
    std::thread::scope(|scope| {
        let first = scope.spawn(first);
        let second = second();
        let first = first
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (first, second)
    })
}
