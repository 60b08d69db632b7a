//! The one stream of typed progress events that every front end (headless CLI, dashboard)
//! renders. The engine never prints: it only emits these.

use serde::{Deserialize, Serialize};

use crate::classify::ReasonCode;
use crate::yaml::Pos;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Phase {
    Recover,
    Discover,
    Read,
    Classify,
    Plan,
    Journal,
    Write,
    Index,
    Cleanup,
}

/// Steps of the git loop.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum GitPhase {
    Commit,
    Fetch,
    Rebase,
    Push,
    /// Building the pack a push sends (counting objects, then looking for deltas): seconds at
    /// 10^5 new objects, before the first object goes out.
    Pack,
    /// Checking the tree a push would publish (`fgd`'s own tip check): with spec validation,
    /// every object of managed/ is read for the rules across objects.
    Check,
}

/// What happens to a managed object file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Change {
    Create,
    Update,
    Unchanged,
}

/// The fate of one document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "fate", rename_all = "kebab-case")]
pub enum Fate {
    /// Written to `managed/<path>`.
    Managed {
        path: String,
        change: Change,
        /// The file it replaces had been edited by hand: that version is kept here (in the
        /// batch's archive).
        #[serde(skip_serializing_if = "Option::is_none")]
        replaced_hand_edit: Option<String>,
    },
    /// Kept in unmanaged/ (`path`, fabric-relative; None in read-only validation) with a reason.
    Unmanaged {
        code: ReasonCode,
        reason: String,
        path: Option<String>,
    },
    /// Only comments or blank: nothing to manage; the original is archived.
    Empty,
}

impl Fate {
    pub fn is_unmanaged(&self) -> bool {
        matches!(self, Fate::Unmanaged { .. })
    }
}

/// Why a file under raw/ was not read: discovery's decision, said in events.
pub use crate::discover::Skip;

/// What became of a whole input file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "kebab-case")]
pub enum FileOutcome {
    /// Its documents were distributed; `managed`/`unmanaged`/`empty` count them.
    Split {
        managed: usize,
        unmanaged: usize,
        empty: usize,
    },
    /// Moved to unmanaged/ whole, byte for byte.
    WholeUnmanaged {
        code: ReasonCode,
        reason: String,
        path: Option<String>,
    },
}

/// One planned filesystem action (the dry-run plan, and the journal's content in words).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "kebab-case")]
pub enum PlanAction {
    Write { path: String },
    Replace { path: String },
    Unchanged { path: String },
    Move { from: String, to: String },
    Archive { from: String, to: String },
    Remove { path: String },
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Summary {
    pub batch: Option<String>,
    pub files: usize,
    pub documents: usize,
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
    pub unmanaged: usize,
    pub empty: usize,
    pub files_unmanaged_whole: usize,
    pub ignored: usize,
    pub not_regular: usize,
    pub pending: usize,
    pub conflicts: usize,
    /// Validation problems found (error and warning level), on every object checked.
    pub errors: usize,
    pub warnings: usize,
    pub dry_run: bool,
    pub millis: u128,
}

impl Summary {
    /// Count one document by its fate: the one place ingest, dry runs and validate tally.
    pub fn count(&mut self, fate: &Fate) {
        self.documents += 1;
        match fate {
            Fate::Managed {
                change: Change::Create,
                ..
            } => self.created += 1,
            Fate::Managed {
                change: Change::Update,
                ..
            } => self.updated += 1,
            Fate::Managed {
                change: Change::Unchanged,
                ..
            } => self.unchanged += 1,
            Fate::Unmanaged { code, .. } => {
                self.unmanaged += 1;
                if *code == ReasonCode::Conflict {
                    self.conflicts += 1;
                }
            }
            Fate::Empty => self.empty += 1,
        }
    }

    pub fn managed(&self) -> usize {
        self.created + self.updated + self.unchanged
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "kebab-case")]
pub enum Event {
    PhaseStarted {
        phase: Phase,
        total: Option<usize>,
    },
    /// A journal left by an interrupted run is being finished.
    Recovering {
        batch: String,
        command: String,
        steps: usize,
    },
    FileStarted {
        file: String,
        index: usize,
        total: usize,
    },
    FileSkipped {
        file: String,
        #[serde(flatten)]
        skip: Skip,
    },
    DocumentClassified {
        file: String,
        index: usize,
        #[serde(skip_serializing_if = "Option::is_none")]
        pos: Option<Pos>,
        #[serde(skip_serializing_if = "Option::is_none")]
        object: Option<String>,
        #[serde(flatten)]
        fate: Fate,
    },
    FileFinished {
        file: String,
        #[serde(flatten)]
        outcome: FileOutcome,
    },
    Planned {
        #[serde(flatten)]
        action: PlanAction,
    },
    /// Bytes made durable so far in the write phase.
    Progress {
        phase: Phase,
        done: usize,
        total: usize,
    },
    BatchFinished {
        summary: Summary,
    },
    /// `fgd watch` is ready: changes under `dir` from now on are reported.
    Watching {
        dir: String,
        quiet_ms: u64,
    },
    /// A watched file is gone (removed, or renamed away).
    FileVanished {
        file: String,
    },
    Error {
        #[serde(skip_serializing_if = "Option::is_none")]
        file: Option<String>,
        message: String,
    },
    GitPhaseStarted {
        phase: GitPhase,
        detail: String,
    },
    /// Objects transferred; throttled to about ten a second.
    GitProgress {
        phase: GitPhase,
        done: usize,
        total: usize,
        bytes: usize,
    },
    /// A `remote:` line from the server; `progress` when the server redraws it in place (an
    /// update of the phase it says, replaced by the next).
    GitRemote {
        line: String,
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        progress: bool,
    },
    GitCommitted {
        commit: String,
        summary: String,
        added: usize,
        modified: usize,
        deleted: usize,
    },
    GitPushed {
        remote: String,
        branch: String,
        commit: String,
        url: String,
    },
    /// A sync found the remote already holding the branch's tip (just fetched): nothing to
    /// publish, so no push was made (as git's "Everything up-to-date").
    GitUpToDate {
        remote: String,
        branch: String,
        commit: String,
        url: String,
    },
    /// A path under raw/ a commit leaves out (a symlink, FIFO, socket or device, or a name that
    /// is not UTF-8: ingest leaves it too); what HEAD holds there is kept.
    GitLeftOut {
        path: String,
        reason: String,
    },
    /// A commit the push publishes that is not one of fgd's own (made with git, by another
    /// author, or changing paths outside the fabric).
    GitOtherCommit {
        commit: String,
        subject: String,
        author: String,
        why: String,
    },
    /// What validation checks in this run (`--rules`, skipped rules, whole fabric or not,
    /// which CRDs and fabric config), so every result says what it rests on.
    ValidationSettings {
        rules: String,
        crds: String,
        config: String,
        /// fgd's defaults (human output then says nothing).
        default: bool,
    },
    /// A validation problem of one object: rule id, severity, the field's path and position,
    /// fgd's message, the cluster's own text, and the other place of a conflict.
    Problem {
        file: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        object: Option<String>,
        #[serde(flatten)]
        problem: crate::validate::Problem,
    },
}

/// Where events go. Closures, channels and collectors all fit.
pub trait Sink {
    fn emit(&mut self, event: Event);

    /// An event as the JSON line its serialization gives (events held back in a spool and read
    /// back): a sink that prints JSON lines takes it as it is, one that prints on another
    /// thread reads it there.
    fn emit_line(&mut self, line: String) -> Result<(), serde_json::Error> {
        self.emit(serde_json::from_str(&line)?);
        Ok(())
    }
}

impl<F: FnMut(Event)> Sink for F {
    fn emit(&mut self, event: Event) {
        self(event)
    }
}

/// A sink that keeps everything (tests, and callers that render afterwards).
#[derive(Debug, Default)]
pub struct Collect(pub Vec<Event>);

impl Sink for Collect {
    fn emit(&mut self, event: Event) {
        self.0.push(event)
    }
}

/// Discards events.
pub struct Discard;

impl Sink for Discard {
    fn emit(&mut self, _event: Event) {}
}
