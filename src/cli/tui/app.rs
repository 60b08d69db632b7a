//! Dashboard state, updated only by messages (keys, mouse, engine progress, scans). `update`
//! returns effects for the runner to carry out (start a job, rescan, read a file), so the
//! state machine runs the same in tests as on a terminal. What has the keyboard is `mode`:
//! one enum (see `mode.rs`), each mode answering the actions of its own keymap (`keys.rs`).

use std::cell::RefCell;
use std::collections::VecDeque;
use std::path::PathBuf;
use std::rc::Rc;

use crossterm::event::{KeyEvent, MouseEvent};
use fgd::inspect::repo::RemoteView;
use fgd::inspect::{FabricState, FileReport, FileState, Tree};

use super::browse::{ListView, Row};
use super::detail::{Doc, DocKey};
use super::editor::{Editor, Opened, SaveOutcome};
pub use super::effects::Effect;
use super::job::{Job, Note, Progress};
pub use super::keymap::Action;
use super::keymap::Keymap;
use super::mode::{Confirm, Mode, Prompt, PromptFor};
use super::tour::Tour;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pane {
    Fabrics,
    Tree,
    Detail,
}

#[derive(Debug)]
pub enum Msg {
    Key(KeyEvent),
    Mouse(MouseEvent),
    /// The terminal's size, columns and rows: at the start and whenever it changes.
    Resize(u16, u16),
    /// The running job's progress so far, and what it said since the last snapshot.
    Progress(Box<Progress>, Vec<Note>),
    JobFinished(Result<String, String>),
    Scanned(usize, Box<FabricState>),
    /// The patch a push would commit, for the plan view (or why there is none).
    Diff(Result<Vec<String>, String>),
    /// The selection's detail, computed in the background for selection number `seq`.
    Detail(u64, Box<FileReport>),
    /// A file read for the editor in the background (or why it cannot be edited).
    Opened(Result<Box<Opened>, String>),
    /// A save the editor asked for, done in the background: of the text as of edit `seq`.
    Saved {
        path: PathBuf,
        seq: u64,
        bytes: Vec<u8>,
        outcome: SaveOutcome,
    },
    /// The editor's text as of edit `seq`, validated.
    Validated {
        seq: u64,
        report: Box<FileReport>,
    },
    /// The operator's own editor, run on a file of fabric `fabric`, is done.
    Edited {
        fabric: usize,
        rel: String,
        result: Result<(), String>,
    },
    /// What the remote holds of a fabric, for the tour's last step.
    Remote(Option<Box<RemoteView>>),
    /// Something changed under a fabric's raw/; true when it arrived whole (a rename).
    Changed(usize, bool),
    /// Whether a fabric's raw/ has a watcher now.
    Watching(usize, bool),
    Tick,
    /// SIGTERM, SIGHUP or a vanished terminal: leave, restoring the terminal.
    Signal(Stop),
}

/// What ended the dashboard other than a key; the exit code says it (128 + the signal).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// SIGTERM.
    Terminated,
    /// SIGHUP, or the terminal is gone (a dropped SSH session): the same thing to a script.
    HungUp,
}

/// A background job: an action on a fabric, with the file and reason some actions need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobSpec {
    pub action: Action,
    pub root: PathBuf,
    pub file: Option<PathBuf>,
    pub reason: Option<String>,
}

pub struct App {
    pub workspace: PathBuf,
    pub fabrics: Vec<FabricState>,
    /// Per fabric, whether its raw/ has a watcher now.
    pub watching: Vec<bool>,
    /// Per fabric, how its list is looked at (filter, selection, scroll).
    pub lists: Vec<ListView>,
    pub fabric_sel: usize,
    /// The first fabric the fabrics pane shows.
    pub fabric_offset: usize,
    /// The selected fabric's rows, and the selected one.
    pub rows: Vec<Row>,
    pub sel_row: usize,
    /// Which problem of the selected file `n`/`N` stand on.
    pub problem: usize,
    pub pane: Pane,
    pub mode: Mode,
    pub job: Option<Job>,
    pub log: VecDeque<String>,
    pub read_only: bool,
    pub quit: bool,
    /// Set when a signal, not a key, ended it.
    pub stopped: Option<Stop>,
    /// The selection's report, the problem selected in it, and where its text is scrolled.
    pub detail: Option<FileReport>,
    pub detail_problem: usize,
    pub detail_scroll: usize,
    /// Text searched for in the detail (`/` in the zoomed detail).
    pub search: Option<String>,
    /// Symbols and borders in UTF-8 (else ASCII): the detail's text is built for it.
    pub unicode: bool,
    pub last_result: Option<String>,
    /// The terminal's size, for how much a page is.
    pub size: (u16, u16),
    pub keymap: Keymap,
    pub tour: Option<Tour>,
    pub(super) detail_seq: u64,
    /// Bumped whenever `detail` changes: the built text is cached until then.
    pub(super) detail_version: u64,
    /// The place of the problem `n` went to, to select in the report when it arrives.
    pub(super) want_problem: Option<(usize, usize)>,
    pub(super) doc_cache: RefCell<Option<(DocKey, Rc<Doc>)>>,
    /// Effects asked for while a message was handled, returned by `update`.
    pub(super) pending: Vec<Effect>,
    /// Log lines not yet written to the log file (the runner drains them).
    unlogged: Vec<String>,
}

const LOG_LINES: usize = 200;

/// What the detail pane says until the selection's report arrives.
pub const READING: &str = "reading and validating...";

pub(super) const NO_FABRIC: &str = "no fabric in this workspace: `fgd init <dir>` makes one";

impl App {
    pub fn new(workspace: PathBuf, fabrics: Vec<FabricState>, read_only: bool) -> App {
        let n = fabrics.len();
        let mut app = App {
            workspace,
            fabrics,
            watching: vec![false; n],
            lists: vec![ListView::default(); n],
            fabric_sel: 0,
            fabric_offset: 0,
            rows: Vec::new(),
            sel_row: 0,
            problem: 0,
            pane: Pane::Tree,
            mode: Mode::Browse,
            job: None,
            log: VecDeque::new(),
            read_only,
            quit: false,
            stopped: None,
            detail: None,
            detail_problem: 0,
            detail_scroll: 0,
            search: None,
            unicode: true,
            last_result: None,
            // Until the runner says: the size the layout is made for.
            size: (super::view::MIN_WIDTH, super::view::MIN_HEIGHT),
            keymap: Keymap::default(),
            tour: None,
            detail_seq: 0,
            detail_version: 0,
            want_problem: None,
            doc_cache: RefCell::new(None),
            pending: Vec::new(),
            unlogged: Vec::new(),
        };
        app.refilter();
        app
    }

    /// The effects asked for since the last `update` (the first detail request, for one).
    pub fn take_effects(&mut self) -> Vec<Effect> {
        std::mem::take(&mut self.pending)
    }

    pub fn fabric(&self) -> Option<&FabricState> {
        self.fabrics.get(self.fabric_sel)
    }

    #[cfg(test)]
    pub fn editor(&self) -> Option<&Editor> {
        self.mode.editor()
    }

    pub fn note(&mut self, line: String) {
        if self.log.len() == LOG_LINES {
            self.log.pop_front();
        }
        self.unlogged.push(line.clone());
        self.log.push_back(line);
    }

    /// A line for the log file only: diagnostics the pane has no room for.
    pub fn note_file_only(&mut self, line: String) {
        self.unlogged.push(line);
    }

    /// The log lines added since the last call, for the log file.
    pub fn take_unlogged(&mut self) -> Vec<String> {
        std::mem::take(&mut self.unlogged)
    }

    /// The confirmation question for an action, naming what it will touch.
    pub(super) fn question(&self, a: Action, reason: Option<&str>) -> Option<String> {
        let f = self.fabric()?;
        let raw = f.counts.trees.raw_pending;
        let (ahead, dirty) = f
            .git
            .as_ref()
            .map(|g| (g.ahead, g.uncommitted))
            .unwrap_or((0, 0));
        Some(match a {
            Action::Ingest => format!(
                "Ingest {raw} raw file(s) of {}? Originals are archived under .hnp/. [y/n]",
                f.name
            ),
            Action::Push => {
                let bad = f
                    .files
                    .iter()
                    .filter(|e| e.tree == Tree::Managed)
                    .filter(|e| e.state == FileState::Invalid)
                    .count();
                let mut warn = if bad > 0 {
                    format!(" {bad} managed file(s) fail validation (invalid in the tree)!")
                } else {
                    String::new()
                };
                if f.git.as_ref().is_some_and(|g| g.unfinished.is_some()) {
                    warn.push_str(
                        " An interrupted batch is finished first, and its result committed.",
                    );
                }
                format!(
                    "Commit {dirty} changed path(s) of {} and push ({ahead} commit(s) ahead)?{warn} [y/n]",
                    f.name
                )
            }
            Action::Sync => format!(
                "Sync {}: fetch, ingest {raw} raw file(s), commit and push? [y/n]",
                f.name
            ),
            Action::Init => format!("Create or repair the layout of {}? [y/n]", f.name),
            Action::Adopt => format!(
                "Send {} back to raw/ for another try? [y/n]",
                self.selected_file()?.rel
            ),
            Action::Move => format!(
                "Move {} to unmanaged/ because \"{}\"? [y/n]",
                self.selected_file()?.rel,
                reason.unwrap_or("")
            ),
            _ => return None,
        })
    }

    pub(super) fn ask(&mut self, action: Action, reason: Option<String>) {
        if let Some(question) = self.question(action, reason.as_deref()) {
            let confirm = Confirm {
                action,
                question,
                reason,
            };
            self.cover(|under| Mode::Confirm { confirm, under });
        }
    }

    pub(super) fn prompt(&mut self, purpose: PromptFor, input: String) {
        let prompt = Prompt::new(purpose, input);
        self.cover(|under| Mode::Prompt { prompt, under });
    }

    /// Put an overlay over the current mode.
    pub(super) fn cover(&mut self, make: impl FnOnce(Box<Mode>) -> Mode) {
        let mode = std::mem::replace(&mut self.mode, Mode::Browse);
        self.mode = mode.cover(make);
    }

    /// Close the overlay or view on top.
    pub(super) fn close(&mut self) {
        let mode = std::mem::replace(&mut self.mode, Mode::Browse);
        self.mode = mode.close();
    }

    pub fn update(&mut self, msg: Msg) -> Vec<Effect> {
        let mut effects = self.handle(msg);
        effects.append(&mut self.pending);
        if let Some(t) = self.tour.as_mut() {
            t.observe_effects(&effects);
        }
        self.tour_step();
        effects
    }

    fn handle(&mut self, msg: Msg) -> Vec<Effect> {
        match msg {
            Msg::Key(key) => return self.key(key),
            Msg::Mouse(m) => self.mouse(m),
            Msg::Signal(stop) => {
                if let Some(ed) = self.mode.editor().filter(|e| e.dirty) {
                    let line = format!(
                        "left with unsaved changes to {} (dropped: {stop:?})",
                        ed.rel
                    );
                    self.note(line);
                }
                self.stopped = Some(stop);
                self.quit = true;
            }
            Msg::Resize(w, h) => {
                self.size = (w, h);
                self.scroll_plan(0);
                self.keep_visible();
            }
            Msg::Tick => {}
            Msg::Progress(p, notes) => self.progress(*p, notes),
            Msg::JobFinished(result) => return self.job_finished(result),
            Msg::Scanned(i, view) => {
                if let Some(slot) = self.fabrics.get_mut(i) {
                    let name = std::mem::take(&mut slot.name);
                    *slot = *view;
                    // The runner drops a gone fabric's watcher, and sets one up again when it
                    // is back; a gone folder has no manifest to name it: it keeps its name.
                    if slot.gone {
                        slot.name = name;
                        if let Some(w) = self.watching.get_mut(i) {
                            *w = false;
                        }
                    }
                }
                if i == self.fabric_sel {
                    self.refilter();
                }
            }
            Msg::Changed(i, complete) => return vec![Effect::Rescan(i, complete)],
            Msg::Watching(i, on) => {
                if let Some(w) = self.watching.get_mut(i) {
                    *w = on;
                }
            }
            Msg::Detail(seq, d) => {
                if seq == self.detail_seq {
                    self.set_detail(*d);
                }
            }
            Msg::Opened(Err(e)) => self.note(e),
            Msg::Opened(Ok(o)) => {
                // A second `e` while the first file was read: the editor already open (maybe
                // with edits) stays.
                if self.mode.editor().is_none() {
                    let mut ed = Editor::from_opened(*o);
                    if let Some(a) = super::view::areas(self.size.0, self.size.1) {
                        ed.center(super::view::editor_text(a.body, ed.area.lines().len()));
                    }
                    self.mode = Mode::Editor(Box::new(ed));
                }
            }
            Msg::Saved {
                path,
                seq,
                bytes,
                outcome,
            } => match self.mode.editor_mut().filter(|e| e.path == path) {
                Some(ed) => {
                    if let Some(line) = ed.saved(seq, bytes, outcome) {
                        self.note(line);
                    }
                }
                // The editor was left while its save was written.
                None => {
                    let line = match outcome {
                        SaveOutcome::Saved => format!("saved {}", path.display()),
                        SaveOutcome::Changed(_) => format!(
                            "NOT saved {}: it changed on disk since it was opened",
                            path.display()
                        ),
                        SaveOutcome::Failed(e) => format!("NOT saved {}: {e}", path.display()),
                    };
                    self.note(line)
                }
            },
            Msg::Validated { seq, report } => {
                if let Some(ed) = self.mode.editor_mut() {
                    if seq > ed.checked && seq <= ed.seq {
                        (ed.report, ed.checked) = (*report, seq);
                    }
                }
            }
            Msg::Edited {
                fabric,
                rel,
                result,
            } => {
                match result {
                    Ok(()) => self.note(format!("edited {rel}: validated again")),
                    Err(e) => self.note(format!("editor for {rel}: {e}")),
                }
                // What the editor wrote is looked at now: the tree, then the detail.
                return vec![Effect::Rescan(fabric, true)];
            }
            Msg::Remote(view) => {
                if let Some(t) = self.tour.as_mut() {
                    t.remote = view.map(|v| *v);
                }
            }
            Msg::Diff(d) => {
                if let Some(plan) = self.mode.plan_mut() {
                    plan.diff = Some(d);
                }
            }
        }
        Vec::new()
    }

    fn progress(&mut self, p: Progress, notes: Vec<Note>) {
        let Some(job) = self.job.as_mut() else { return };
        job.progress = p;
        for n in notes {
            match n {
                Note::Log(line) => self.note(line),
                Note::Planned(line) => {
                    if let Some(plan) = self.mode.plan_mut() {
                        plan.plan.push(line);
                    }
                }
            }
        }
    }

    fn job_finished(&mut self, result: Result<String, String>) -> Vec<Effect> {
        let text = match &result {
            Ok(s) => format!("done: {s}"),
            Err(e) => format!("FAILED: {e}"),
        };
        if let Some(plan) = self.mode.plan_mut() {
            plan.collecting = false;
        }
        // A question to quit under the job is moot once the job is over.
        if self
            .mode
            .confirm()
            .is_some_and(|c| c.action == Action::Quit)
        {
            self.close();
        }
        let Some(job) = self.job.take() else {
            return Vec::new();
        };
        let label = job.action.name();
        if let Some(t) = job.progress.timings() {
            self.note_file_only(format!("{label} {} took: {t}", job.fabric));
        }
        let line = format!(
            "{label} {} {text} ({} ms)",
            job.fabric,
            job.started.elapsed().as_millis()
        );
        self.note(line.clone());
        self.last_result = Some(line);
        if let Some(t) = self.tour.as_mut() {
            t.job_done(job.action, job.fabric_index, result.is_ok());
        }
        let mut effects = vec![Effect::Rescan(job.fabric_index, true)];
        if job.action == Action::Push && result.is_ok() && self.tour.is_some() {
            if let Some(f) = self.fabrics.get(job.fabric_index) {
                effects.push(Effect::Remote(f.root.clone()));
            }
        }
        effects
    }

    /// Move the tour on when what its step asks for is done.
    fn tour_step(&mut self) {
        let Some(mut tour) = self.tour.take() else {
            return;
        };
        tour.advance(self);
        self.tour = Some(tour);
    }

    pub fn start(&mut self, action: Action, reason: Option<String>) -> Vec<Effect> {
        let Some(f) = self.fabric() else {
            return Vec::new();
        };
        let (name, root) = (f.name.clone(), f.root.clone());
        let file = match action {
            Action::Move | Action::Adopt => self.selected_file().map(|e| root.join(&e.rel)),
            _ => None,
        };
        self.job = Some(Job::new(action, name.clone(), self.fabric_sel));
        self.note(format!("{} {name} started", action.name()));
        vec![Effect::Run(JobSpec {
            action,
            root,
            file,
            reason,
        })]
    }
}
