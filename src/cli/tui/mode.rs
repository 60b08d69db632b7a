//! The dashboard's modes as one enum: what has the keyboard, and so which keymap applies. The
//! overlays (help, a question, a prompt) hold the mode under them and give it back when they
//! close, so the precedence of what answers a key is the shape of the value, not the order of
//! `if`s.

use super::editor::Editor;
use super::keymap::{Action, ModeKind};

pub enum Mode {
    /// The panes: fabrics, tree, detail.
    Browse,
    /// The detail of the selection on the whole screen.
    Zoom,
    /// The dry-run plan and the diff a push would commit.
    Plan(PlanView),
    Editor(Box<Editor>),
    Help {
        /// The first line shown, when the keys do not fit.
        scroll: usize,
        under: Box<Mode>,
    },
    Confirm {
        confirm: Confirm,
        under: Box<Mode>,
    },
    Prompt {
        prompt: Prompt,
        under: Box<Mode>,
    },
}

impl Mode {
    pub fn kind(&self) -> ModeKind {
        match self {
            Mode::Browse => ModeKind::Browse,
            Mode::Zoom => ModeKind::Zoom,
            Mode::Plan(_) => ModeKind::Plan,
            Mode::Editor(_) => ModeKind::Editor,
            Mode::Help { .. } => ModeKind::Help,
            Mode::Confirm { .. } => ModeKind::Confirm,
            Mode::Prompt { .. } => ModeKind::Prompt,
        }
    }

    /// The mode an overlay covers (itself when it is no overlay): what is drawn beneath.
    pub fn base(&self) -> &Mode {
        match self {
            Mode::Help { under, .. } | Mode::Confirm { under, .. } | Mode::Prompt { under, .. } => {
                under.base()
            }
            m => m,
        }
    }

    pub fn base_mut(&mut self) -> &mut Mode {
        match self {
            Mode::Help { under, .. } | Mode::Confirm { under, .. } | Mode::Prompt { under, .. } => {
                under.base_mut()
            }
            m => m,
        }
    }

    /// The editor, open under any overlay.
    pub fn editor(&self) -> Option<&Editor> {
        match self.base() {
            Mode::Editor(ed) => Some(ed),
            _ => None,
        }
    }

    pub fn editor_mut(&mut self) -> Option<&mut Editor> {
        match self.base_mut() {
            Mode::Editor(ed) => Some(ed),
            _ => None,
        }
    }

    pub fn plan(&self) -> Option<&PlanView> {
        match self.base() {
            Mode::Plan(p) => Some(p),
            _ => None,
        }
    }

    pub fn plan_mut(&mut self) -> Option<&mut PlanView> {
        match self.base_mut() {
            Mode::Plan(p) => Some(p),
            _ => None,
        }
    }

    pub fn confirm(&self) -> Option<&Confirm> {
        match self {
            Mode::Confirm { confirm, .. } => Some(confirm),
            _ => None,
        }
    }

    pub fn prompt(&self) -> Option<&Prompt> {
        match self {
            Mode::Prompt { prompt, .. } => Some(prompt),
            _ => None,
        }
    }

    /// Close the overlay on top, giving back what it covered; a base mode closes to browse.
    pub fn close(self) -> Mode {
        match self {
            Mode::Help { under, .. } | Mode::Confirm { under, .. } | Mode::Prompt { under, .. } => {
                *under
            }
            _ => Mode::Browse,
        }
    }

    /// Put an overlay over this mode.
    pub fn cover(self, make: impl FnOnce(Box<Mode>) -> Mode) -> Mode {
        make(Box::new(self))
    }
}

/// A question asked before an action that changes something (or quits under a job).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Confirm {
    pub action: Action,
    pub question: String,
    /// For a move: the reason the operator typed.
    pub reason: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PromptFor {
    Filter,
    MoveReason,
    /// The `:` line: the name of an action.
    Command,
    /// Text to find in the detail.
    Search,
    /// Text to find in the editor.
    EditorSearch,
    /// A line number for the editor's cursor.
    GotoLine,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prompt {
    pub purpose: PromptFor,
    pub input: String,
}

impl Prompt {
    pub fn new(purpose: PromptFor, input: String) -> Prompt {
        Prompt { purpose, input }
    }
}

/// A line of the plan view, by what it is (the view styles each kind).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlanLine {
    Header,
    Plan,
    Diff,
    /// Not a line of either: the plan or diff is still computed, or there is none.
    Note,
}

/// The plan view's state: the ingest plan as its lines arrive, then the diff.
#[derive(Debug, Default)]
pub struct PlanView {
    pub plan: Vec<String>,
    pub diff: Option<Result<Vec<String>, String>>,
    /// The first line shown.
    pub scroll: usize,
    /// The dry-run job still sends lines.
    pub collecting: bool,
}

impl PlanView {
    /// The view as lines: the ingest plan, then what a push would commit.
    pub fn document(&self) -> Vec<(PlanLine, String)> {
        let mut doc = vec![(
            PlanLine::Header,
            "ingest would (nothing changes now):".to_string(),
        )];
        if self.plan.is_empty() {
            let none = if self.collecting {
                "(computing the plan)"
            } else {
                "nothing to ingest"
            };
            doc.push((PlanLine::Note, none.into()));
        }
        doc.extend(self.plan.iter().map(|l| (PlanLine::Plan, l.clone())));
        doc.push((PlanLine::Header, "push would commit:".into()));
        match &self.diff {
            None => doc.push((PlanLine::Note, "(computing the diff)".into())),
            Some(Err(e)) => doc.push((PlanLine::Note, format!("no diff: {e}"))),
            Some(Ok(d)) if d.len() <= 1 => doc.push((PlanLine::Plan, "nothing to commit".into())),
            Some(Ok(d)) => doc.extend(d.iter().map(|l| (PlanLine::Diff, l.clone()))),
        }
        doc
    }
}
