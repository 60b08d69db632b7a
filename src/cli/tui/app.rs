//! Dashboard state, updated only by messages (keys, engine progress, scans). `update` returns
//! effects for the runner to carry out (start a job, rescan, read a file), so the state
//! machine runs the same in tests as on a terminal. What has the keyboard is `mode`: one enum
//! (see `mode.rs`), each mode answering the actions of its own keymap.

use std::collections::VecDeque;
use std::path::PathBuf;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::editor::{Editor, EditorKey, Opened, SaveOutcome};
pub use super::effects::Effect;
use super::job::{Job, Note, Progress};
pub use super::keymap::Action;
use super::keymap::{Keymap, ModeKind};
use super::mode::{Confirm, Mode, PlanView, Prompt, PromptFor};
use fgd::inspect::{FabricState, FileEntry, FileReport, FileState, Tree};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pane {
    Fabrics,
    Tree,
    Detail,
}

#[derive(Debug)]
pub enum Msg {
    Key(KeyEvent),
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
    pub fabric_sel: usize,
    pub tree_sel: usize,
    pub pane: Pane,
    pub mode: Mode,
    pub job: Option<Job>,
    pub log: VecDeque<String>,
    pub read_only: bool,
    pub quit: bool,
    /// Set when a signal, not a key, ended it.
    pub stopped: Option<Stop>,
    pub detail: Option<FileReport>,
    pub last_result: Option<String>,
    pub filter: String,
    /// Indexes into the selected fabric's files that pass the filter.
    pub visible: Vec<usize>,
    /// The terminal's size, for how much a page is.
    pub size: (u16, u16),
    pub keymap: Keymap,
    detail_seq: u64,
    /// Effects asked for while a message was handled, returned by `update`.
    pending: Vec<Effect>,
    /// Log lines not yet written to the log file (the runner drains them).
    unlogged: Vec<String>,
}

const LOG_LINES: usize = 200;

/// What the detail pane says until the selection's report arrives.
pub const READING: &str = "reading and validating...";

const NO_FABRIC: &str = "no fabric in this workspace: `fgd init <dir>` makes one";

impl App {
    pub fn new(workspace: PathBuf, fabrics: Vec<FabricState>, read_only: bool) -> App {
        let mut app = App {
            workspace,
            watching: vec![false; fabrics.len()],
            fabrics,
            fabric_sel: 0,
            tree_sel: 0,
            pane: Pane::Tree,
            mode: Mode::Browse,
            job: None,
            log: VecDeque::new(),
            read_only,
            quit: false,
            stopped: None,
            detail: None,
            last_result: None,
            filter: String::new(),
            visible: Vec::new(),
            // Until the runner says: the size the layout is made for.
            size: (super::view::MIN_WIDTH, super::view::MIN_HEIGHT),
            keymap: Keymap::default(),
            detail_seq: 0,
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

    /// Recompute which files show, then the detail of the selection.
    pub fn refilter(&mut self) {
        let f = self.filter.clone();
        self.visible = match self.fabrics.get(self.fabric_sel) {
            Some(fab) => fab
                .files
                .iter()
                .enumerate()
                .filter(|(_, e)| f.is_empty() || e.rel.contains(&f))
                .map(|(i, _)| i)
                .collect(),
            None => Vec::new(),
        };
        self.tree_sel = self.tree_sel.min(self.visible.len().saturating_sub(1));
        self.refresh_detail();
    }

    pub fn fabric(&self) -> Option<&FabricState> {
        self.fabrics.get(self.fabric_sel)
    }

    pub fn selected_file(&self) -> Option<&FileEntry> {
        let i = *self.visible.get(self.tree_sel)?;
        self.fabric().and_then(|f| f.files.get(i))
    }

    pub fn editor(&self) -> Option<&Editor> {
        self.mode.editor()
    }

    /// The selection's detail, always computed in the background: reading a file (a slow
    /// disk, a big file) must not hold up the next key, and nothing on the event loop opens
    /// one. The detail shown stays while the same file's is computed again (a rescan);
    /// another file shows a placeholder until its own arrives.
    fn refresh_detail(&mut self) {
        self.detail_seq += 1;
        let (root, entry) = match (self.fabric(), self.selected_file()) {
            (Some(f), Some(e)) => (f.root.clone(), e.clone()),
            _ => {
                self.detail = None;
                return;
            }
        };
        if self.detail.as_ref().map(|d| d.rel.as_str()) != Some(entry.rel.as_str()) {
            self.detail = Some(FileReport {
                rel: entry.rel.clone(),
                notes: vec![READING.into()],
                ..Default::default()
            });
        }
        // Only the newest request matters: an older one waiting is replaced.
        self.pending.retain(|e| !matches!(e, Effect::Detail { .. }));
        self.pending.push(Effect::Detail {
            seq: self.detail_seq,
            root,
            entry,
        });
    }

    pub fn note(&mut self, line: String) {
        if self.log.len() == LOG_LINES {
            self.log.pop_front();
        }
        self.unlogged.push(line.clone());
        self.log.push_back(line);
    }

    /// The log lines added since the last call, for the log file.
    pub fn take_unlogged(&mut self) -> Vec<String> {
        std::mem::take(&mut self.unlogged)
    }

    /// The confirmation question for an action, naming what it will touch.
    fn question(&self, a: Action, reason: Option<&str>) -> Option<String> {
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

    fn ask(&mut self, action: Action, reason: Option<String>) {
        if let Some(question) = self.question(action, reason.as_deref()) {
            let confirm = Confirm {
                action,
                question,
                reason,
            };
            self.cover(|under| Mode::Confirm { confirm, under });
        }
    }

    fn prompt(&mut self, purpose: PromptFor, input: String) {
        let prompt = Prompt::new(purpose, input);
        self.cover(|under| Mode::Prompt { prompt, under });
    }

    /// Put an overlay over the current mode.
    fn cover(&mut self, make: impl FnOnce(Box<Mode>) -> Mode) {
        let mode = std::mem::replace(&mut self.mode, Mode::Browse);
        self.mode = mode.cover(make);
    }

    /// Close the overlay or view on top.
    fn close(&mut self) {
        let mode = std::mem::replace(&mut self.mode, Mode::Browse);
        self.mode = mode.close();
    }

    pub fn update(&mut self, msg: Msg) -> Vec<Effect> {
        let mut effects = self.handle(msg);
        effects.append(&mut self.pending);
        effects
    }

    fn handle(&mut self, msg: Msg) -> Vec<Effect> {
        match msg {
            Msg::Key(key) => return self.key(key),
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
                    self.detail = Some(*d);
                }
            }
            Msg::Opened(Err(e)) => self.note(e),
            Msg::Opened(Ok(o)) => {
                // A second `e` while the first file was read: the editor already open (maybe
                // with edits) stays.
                if self.mode.editor().is_none() {
                    let ed = Editor::from_opened(*o);
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
            self.note(format!("{label} {} took: {t}", job.fabric));
        }
        let line = format!(
            "{label} {} {text} ({} ms)",
            job.fabric,
            job.started.elapsed().as_millis()
        );
        self.note(line.clone());
        self.last_result = Some(line);
        vec![Effect::Rescan(job.fabric_index, true)]
    }

    fn key(&mut self, key: KeyEvent) -> Vec<Effect> {
        if key.modifiers.contains(KeyModifiers::CONTROL) && key.code == KeyCode::Char('c') {
            self.ctrl_c();
            return Vec::new();
        }
        if let Some(ed) = self.mode.editor_mut() {
            ed.quit_warned = false;
        }
        let kind = self.mode.kind();
        let action = self.keymap.lookup(kind, &key);
        match kind {
            ModeKind::Browse => match action {
                Some(a) => self.dispatch(a),
                None => Vec::new(),
            },
            ModeKind::Zoom => self.zoom_key(action),
            ModeKind::Plan => {
                self.plan_key(action);
                Vec::new()
            }
            ModeKind::Editor => self.editor_key(action, key),
            ModeKind::Help => {
                self.help_key(action);
                Vec::new()
            }
            ModeKind::Confirm => self.confirm_key(action),
            ModeKind::Prompt => self.prompt_key(action, key),
        }
    }

    /// Ctrl-C leaves from anywhere, whatever runs (a job's journal finishes it on the next
    /// run), without asking; only unsaved edits get one warning first, since they exist
    /// nowhere else.
    fn ctrl_c(&mut self) {
        let mut dropped = None;
        if let Some(ed) = self.mode.editor_mut() {
            if ed.dirty && !ed.quit_warned {
                ed.quit_warned = true;
                ed.status =
                    "unsaved changes: Ctrl-S saves, Ctrl-C again leaves without saving".into();
                return;
            }
            if ed.dirty {
                dropped = Some(format!("left with unsaved changes to {} (dropped)", ed.rel));
            }
        }
        if let Some(line) = dropped {
            self.note(line);
        }
        self.quit = true;
    }

    fn help_key(&mut self, action: Option<Action>) {
        let Mode::Help { scroll, .. } = &mut self.mode else {
            return;
        };
        match action {
            Some(Action::Close) => self.close(),
            Some(Action::Down) => *scroll += 1,
            Some(Action::Up) => *scroll = scroll.saturating_sub(1),
            Some(Action::PageDown) => *scroll += 10,
            Some(Action::PageUp) => *scroll = scroll.saturating_sub(10),
            // Nothing acts under the help.
            _ => {}
        }
    }

    fn show_help(&mut self) {
        self.cover(|under| Mode::Help { scroll: 0, under });
    }

    fn confirm_key(&mut self, action: Option<Action>) -> Vec<Effect> {
        let Some(Confirm {
            action: a, reason, ..
        }) = self.mode.confirm().cloned()
        else {
            return Vec::new();
        };
        match action {
            Some(Action::Yes) => {
                self.close();
                if a == Action::Quit {
                    self.quit = true;
                    return Vec::new();
                }
                self.start(a, reason)
            }
            Some(Action::No) => {
                self.close();
                self.note(format!("{} cancelled", a.name()));
                Vec::new()
            }
            _ => Vec::new(),
        }
    }

    fn zoom_key(&mut self, action: Option<Action>) -> Vec<Effect> {
        match action {
            Some(Action::Close) => self.close(),
            Some(Action::Help) => self.show_help(),
            Some(a @ (Action::Edit | Action::ExternalEdit)) => return self.dispatch(a),
            _ => {}
        }
        Vec::new()
    }

    /// Run a named action of the browse mode, reached by its key or by name on the `:` line.
    pub fn dispatch(&mut self, action: Action) -> Vec<Effect> {
        match action {
            Action::Quit => match &self.job {
                // Asks first when it would cut a job short.
                Some(job) => {
                    let question = format!(
                        "{} of {} is running: quit now and its journal finishes it on the next run? [y/n]",
                        job.action.name(),
                        job.fabric
                    );
                    let confirm = Confirm {
                        action: Action::Quit,
                        question,
                        reason: None,
                    };
                    self.cover(|under| Mode::Confirm { confirm, under });
                }
                _ => self.quit = true,
            },
            Action::Help => self.show_help(),
            Action::NextPane | Action::PrevPane => {
                let order = [Pane::Fabrics, Pane::Tree, Pane::Detail];
                let at = order.iter().position(|p| *p == self.pane).unwrap_or(0);
                let step = if action == Action::NextPane { 1 } else { 2 };
                self.pane = order[(at + step) % order.len()];
            }
            Action::Up
            | Action::Down
            | Action::PageUp
            | Action::PageDown
            | Action::Top
            | Action::Bottom => self.move_selection(action),
            Action::Filter => self.prompt(PromptFor::Filter, self.filter.clone()),
            Action::Command => self.prompt(PromptFor::Command, String::new()),
            Action::Zoom => {
                if self.selected_file().is_some() {
                    self.mode = Mode::Zoom;
                }
            }
            a if self.read_only && a.mutating() => {
                self.note(format!("{} is disabled: read-only mode", a.name()))
            }
            a if (a.mutating() || a == Action::Plan) && self.fabric().is_none() => {
                self.note(NO_FABRIC.into())
            }
            a if (a.mutating() || a == Action::Plan) && self.fabric().is_some_and(|f| f.gone) => {
                let line = self.fabric().map(|f| {
                    format!(
                        "{} is gone: {} is not there any more (moved or removed); {} needs it back",
                        f.name,
                        f.root.display(),
                        a.name()
                    )
                });
                self.note(line.unwrap_or_default())
            }
            Action::Edit | Action::Move | Action::Adopt
                if self.selected_file().is_some_and(|f| f.unnamable) =>
            {
                let why = format!(
                    "{} cannot take this file: {}",
                    action.name(),
                    fgd::discover::NOT_UTF8
                );
                self.note(why)
            }
            Action::Edit => return self.open_editor(),
            a if self.job.is_some() => self.note(format!("{} waits: a job is running", a.name())),
            Action::Plan => {
                self.mode = Mode::Plan(PlanView {
                    collecting: true,
                    ..Default::default()
                });
                let root = self.fabric().map(|f| f.root.clone());
                let mut effects = self.start(Action::Plan, None);
                effects.extend(root.map(Effect::Diff));
                return effects;
            }
            Action::Move => match self.selected_file().map(|f| f.tree) {
                Some(Tree::Raw) | Some(Tree::Managed) => {
                    self.prompt(PromptFor::MoveReason, String::new())
                }
                _ => self.note("move takes a file under raw/ or managed/".into()),
            },
            Action::Adopt if self.selected_file().map(|f| f.tree) != Some(Tree::Unmanaged) => {
                self.note("adopt takes an item under unmanaged/".into())
            }
            a => self.ask(a, None),
        }
        Vec::new()
    }

    /// Move the plan view by `by` lines, keeping a full page in view.
    fn scroll_plan(&mut self, by: isize) {
        let room = super::view::plan_rows(self.size.1);
        if let Some(plan) = self.mode.plan_mut() {
            let max = plan.document().len().saturating_sub(room);
            plan.scroll = plan.scroll.saturating_add_signed(by).min(max);
        }
    }

    fn plan_key(&mut self, action: Option<Action>) {
        let page = super::view::plan_rows(self.size.1).saturating_sub(1).max(1) as isize;
        match action {
            Some(Action::Down) => self.scroll_plan(1),
            Some(Action::Up) => self.scroll_plan(-1),
            Some(Action::PageDown) => self.scroll_plan(page),
            Some(Action::PageUp) => self.scroll_plan(-page),
            Some(Action::Top) => self.scroll_plan(isize::MIN / 2),
            Some(Action::Bottom) => self.scroll_plan(isize::MAX / 2),
            Some(Action::Help) => self.show_help(),
            // The plan job runs on and its lines are dropped.
            Some(Action::Close) => self.mode = Mode::Browse,
            _ => {}
        }
    }

    /// The file is read in the background (`Msg::Opened` opens the editor).
    fn open_editor(&mut self) -> Vec<Effect> {
        let (Some(f), Some(e)) = (self.fabric(), self.selected_file()) else {
            return Vec::new();
        };
        vec![Effect::Open {
            root: f.root.clone(),
            rel: e.rel.clone(),
        }]
    }

    fn editor_key(&mut self, action: Option<Action>, key: KeyEvent) -> Vec<Effect> {
        let Some(ed) = self.mode.editor_mut() else {
            return Vec::new();
        };
        match ed.key(action, key) {
            EditorKey::Effects(effects) => effects,
            EditorKey::Leave => {
                self.mode = Mode::Browse;
                Vec::new()
            }
            EditorKey::Action(Action::Help) => {
                self.show_help();
                Vec::new()
            }
            EditorKey::Action(_) => Vec::new(),
        }
    }

    fn prompt_key(&mut self, action: Option<Action>, key: KeyEvent) -> Vec<Effect> {
        let Mode::Prompt { prompt: p, .. } = &mut self.mode else {
            return Vec::new();
        };
        match action {
            Some(Action::Close) => self.close(),
            Some(Action::Complete) => {
                // Completes a unique prefix to the action's name.
                if p.purpose == PromptFor::Command {
                    if let [only] = Action::completions(&p.input)[..] {
                        p.input = only.to_string();
                    }
                }
            }
            Some(Action::Accept) => {
                let (purpose, input) = (p.purpose, p.input.trim().to_string());
                self.close();
                return self.accept(purpose, input);
            }
            _ => match key.code {
                KeyCode::Backspace => {
                    p.input.pop();
                }
                KeyCode::Char(c) => p.input.push(c),
                _ => {}
            },
        }
        Vec::new()
    }

    /// What was typed at a prompt, taken.
    fn accept(&mut self, purpose: PromptFor, input: String) -> Vec<Effect> {
        match purpose {
            PromptFor::Filter => {
                self.filter = input;
                self.tree_sel = 0;
                self.refilter();
            }
            PromptFor::MoveReason if input.is_empty() => {
                self.note("move cancelled: a reason is required".into())
            }
            PromptFor::MoveReason => self.ask(Action::Move, Some(input)),
            PromptFor::Command if input.is_empty() => {}
            PromptFor::Command => match Action::from_name(&input) {
                Some(Action::Command) => {}
                Some(a) if a.in_mode(ModeKind::Browse) => return self.dispatch(a),
                _ => self.note(format!(
                    "unknown action {input:?}: one of {}",
                    Action::names().join(", ")
                )),
            },
        }
        Vec::new()
    }

    fn start(&mut self, action: Action, reason: Option<String>) -> Vec<Effect> {
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

    fn move_selection(&mut self, a: Action) {
        let step: isize = match a {
            Action::Up => -1,
            Action::Down => 1,
            Action::PageUp => -10,
            Action::PageDown => 10,
            Action::Top => isize::MIN / 2,
            _ => isize::MAX / 2,
        };
        let bump = |v: usize, n: usize| {
            (v as isize)
                .saturating_add(step)
                .clamp(0, n.saturating_sub(1) as isize) as usize
        };
        match self.pane {
            Pane::Fabrics => {
                self.fabric_sel = bump(self.fabric_sel, self.fabrics.len());
                self.tree_sel = 0;
                self.refilter(); // another fabric: its own file list
            }
            Pane::Tree | Pane::Detail => {
                // Moving within the list needs only the new selection's detail.
                self.tree_sel = bump(self.tree_sel, self.visible.len());
                self.refresh_detail();
            }
        }
    }
}
