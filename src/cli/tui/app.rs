//! Dashboard state, updated only by messages (keys, engine events, scans). `update` returns
//! effects for the runner to carry out (start a job, rescan), so the state machine runs the
//! same in tests as on a terminal.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::time::Instant;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use fgd::event::{Event, Fate, GitPhase, Phase, PlanAction};
use ratatui_textarea::TextArea;

use super::model::{self, Detail, FabricView, FileEntry};

pub use super::keymap::Action;
use super::keymap::Keymap;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pane {
    Fabrics,
    Tree,
    Detail,
}

#[derive(Debug)]
pub enum Msg {
    Key(KeyEvent),
    Resize,
    /// An engine event from the running job.
    Engine(Event),
    JobFinished(Result<String, String>),
    Scanned(usize, Box<FabricView>),
    /// The patch a push would commit, for the plan view (or why there is none).
    Diff(Result<Vec<String>, String>),
    /// A big file's detail, computed in the background for selection number `seq`.
    Detail(u64, Box<Detail>),
    /// The editor's text as of edit `seq`, validated: fate lines and the lines to mark.
    Validated {
        seq: u64,
        fates: Vec<String>,
        marked: Vec<usize>,
    },
    /// Something changed under a fabric's raw/; true when it arrived whole (a rename).
    Changed(usize, bool),
    Tick,
    /// SIGTERM/SIGHUP: leave, restoring the terminal.
    Signal,
}

/// A background job: an action on a fabric, with the file and reason some actions need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobSpec {
    pub action: Action,
    pub root: PathBuf,
    pub file: Option<PathBuf>,
    pub reason: Option<String>,
}

#[derive(Debug, PartialEq, Eq)]
pub enum Effect {
    Run(JobSpec),
    /// Rescan a fabric: at once when true, else after the quiet period.
    Rescan(usize, bool),
    /// Compute what a push of this fabric would commit.
    Diff(PathBuf),
    /// Validate the editor's text as of edit `seq`.
    Validate {
        seq: u64,
        rel: String,
        text: Vec<u8>,
    },
}

/// Editing one file in place; validation re-runs on every change.
pub struct Editor {
    pub path: PathBuf,
    pub rel: String,
    pub area: TextArea<'static>,
    pub fates: Vec<String>,
    pub marked: Vec<usize>,
    /// Edits made so far, and the edit the shown validation is of: validation runs in the
    /// background, and a result older than the newest shown is dropped.
    pub seq: u64,
    pub checked: u64,
    pub dirty: bool,
    pub warned: bool,
    pub status: String,
}

/// Above this, a file's detail is computed off the event loop.
const DETAIL_INLINE_MAX: u64 = 256 << 10;

/// Above this, live validation waits for a save (it must not stall typing).
const LIVE_VALIDATE_MAX: usize = 1 << 20;

impl Editor {
    fn open(root: &std::path::Path, rel: &str) -> std::io::Result<Editor> {
        let path = root.join(rel);
        let text = String::from_utf8_lossy(&std::fs::read(&path)?).into_owned();
        let mut area = TextArea::new(text.lines().map(str::to_string).collect());
        area.set_line_number_style(
            ratatui::style::Style::default().add_modifier(ratatui::style::Modifier::DIM),
        );
        let title = format!(" edit {rel}  Ctrl-S save  Esc leave ");
        area.set_block(
            ratatui::widgets::Block::default()
                .borders(ratatui::widgets::Borders::ALL)
                .title(title),
        );
        let mut e = Editor {
            path,
            rel: rel.to_string(),
            area,
            fates: Vec::new(),
            marked: Vec::new(),
            seq: 0,
            checked: 0,
            dirty: false,
            warned: false,
            status: String::new(),
        };
        // The first check is done here, so the editor opens with its errors shown.
        if let Some(Effect::Validate { text, .. }) = e.request_validation() {
            let (fates, marked) = model::validate_text(&e.rel, text);
            (e.fates, e.marked, e.checked) = (fates, marked, e.seq);
        }
        Ok(e)
    }

    pub fn text(&self) -> String {
        let mut t = self.area.lines().join("\n");
        t.push('\n');
        t
    }

    /// A new edit: the validation to run for it in the background, if any.
    fn request_validation(&mut self) -> Option<Effect> {
        self.seq += 1;
        let text = self.text();
        if text.len() > LIVE_VALIDATE_MAX {
            self.fates =
                vec!["too large to validate while typing: save (Ctrl-S) to validate".into()];
            self.checked = self.seq;
            return None;
        }
        Some(Effect::Validate {
            seq: self.seq,
            rel: self.rel.clone(),
            text: text.into_bytes(),
        })
    }

    fn save(&mut self) -> Result<(), String> {
        let bytes = self.text().into_bytes();
        // managed/ holds only what an ingest would write at that very path: Argo CD and Flux
        // build every object through it, so one unreadable file stops the whole fabric.
        if self.rel.starts_with(&format!("{}/", fgd::fabric::MANAGED)) {
            if let Some((why, _)) = model::managed_problem(&self.rel, bytes.clone()) {
                return Err(format!(
                    "managed/ holds only what an ingest would write at this path: {why}. \
                     Fix it, or Esc discards it"
                ));
            }
        }
        fgd::store::write_atomic(&self.path, &bytes).map_err(|e| e.to_string())?;
        self.dirty = false;
        self.status = format!("saved {}", self.rel);
        Ok(())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PromptFor {
    Filter,
    MoveReason,
    /// The `:` line: the name of an action.
    Command,
}

pub struct Prompt {
    pub purpose: PromptFor,
    pub input: String,
}

#[derive(Debug, Clone)]
pub struct Job {
    pub action: &'static str,
    pub fabric: String,
    pub fabric_index: usize,
    pub phase: String,
    pub total: usize,
    pub done: usize,
    pub failed: usize,
    pub current: String,
    pub percent: Option<u8>,
    pub started: Instant,
    /// When the current phase began, and how long each earlier one took, for the log.
    pub phase_started: Instant,
    pub phases: Vec<(String, u128)>,
}

impl Job {
    /// Enter `phase`, timing the one it ends.
    fn enter(&mut self, phase: String) {
        self.end_phase();
        self.phase = phase;
        self.phase_started = Instant::now();
    }

    fn end_phase(&mut self) {
        if self.phase != "starting" {
            let ms = self.phase_started.elapsed().as_millis();
            self.phases.push((std::mem::take(&mut self.phase), ms));
        }
    }

    /// One log line: every phase of the job and how long it took.
    fn timings(&mut self) -> Option<String> {
        self.end_phase();
        let parts: Vec<String> = self
            .phases
            .iter()
            .map(|(p, ms)| format!("{p} {ms} ms"))
            .collect();
        (!parts.is_empty())
            .then(|| format!("{} {} took: {}", self.action, self.fabric, parts.join(", ")))
    }
}

pub struct App {
    pub workspace: PathBuf,
    pub fabrics: Vec<FabricView>,
    pub fabric_sel: usize,
    pub tree_sel: usize,
    pub pane: Pane,
    pub job: Option<Job>,
    pub log: VecDeque<String>,
    pub help: bool,
    pub confirm: Option<(Action, String)>,
    pub read_only: bool,
    pub quit: bool,
    pub detail: Option<Detail>,
    pub last_result: Option<String>,
    pub editor: Option<Editor>,
    pub prompt: Option<Prompt>,
    pub filter: String,
    /// Indexes into the selected fabric's files that pass the filter.
    pub visible: Vec<usize>,
    pub plan: Option<Vec<String>>,
    /// Shown under the plan: the patch a push would commit now.
    pub diff: Option<Result<Vec<String>, String>>,
    collecting_plan: bool,
    pending_reason: Option<String>,
    pub keymap: Keymap,
    detail_seq: u64,
    detail_wanted: Option<(u64, PathBuf, FileEntry)>,
    /// Log lines not yet written to the log file (the runner drains them).
    unlogged: Vec<String>,
}

const LOG_LINES: usize = 200;

impl App {
    pub fn new(workspace: PathBuf, fabrics: Vec<FabricView>, read_only: bool) -> App {
        let mut app = App {
            workspace,
            fabrics,
            fabric_sel: 0,
            tree_sel: 0,
            pane: Pane::Tree,
            job: None,
            log: VecDeque::new(),
            help: false,
            confirm: None,
            read_only,
            quit: false,
            detail: None,
            last_result: None,
            editor: None,
            prompt: None,
            filter: String::new(),
            visible: Vec::new(),
            plan: None,
            diff: None,
            collecting_plan: false,
            pending_reason: None,
            keymap: Keymap::default(),
            detail_seq: 0,
            detail_wanted: None,
            unlogged: Vec::new(),
        };
        app.refilter();
        app
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

    pub fn fabric(&self) -> Option<&FabricView> {
        self.fabrics.get(self.fabric_sel)
    }

    pub fn selected_file(&self) -> Option<&FileEntry> {
        let i = *self.visible.get(self.tree_sel)?;
        self.fabric().and_then(|f| f.files.get(i))
    }

    /// The selection's detail: at once for a file of ordinary size, in the background for a
    /// big one (reading and validating megabytes must not hold up the next key).
    fn refresh_detail(&mut self) {
        self.detail_seq += 1;
        let (root, entry) = match (self.fabric(), self.selected_file()) {
            (Some(f), Some(e)) => (f.root.clone(), e.clone()),
            _ => {
                self.detail = None;
                return;
            }
        };
        let size = std::fs::metadata(root.join(&entry.rel)).map_or(0, |m| m.len());
        if size <= DETAIL_INLINE_MAX {
            self.detail = Some(model::detail(&root, &entry));
            return;
        }
        self.detail = Some(Detail {
            title: entry.rel.clone(),
            fates: vec![format!("reading and validating {} KiB...", size >> 10)],
            ..Default::default()
        });
        self.detail_wanted = Some((self.detail_seq, root, entry));
    }

    /// The detail to compute in the background, if the selection asked for one.
    pub fn take_detail_request(&mut self) -> Option<(u64, PathBuf, FileEntry)> {
        self.detail_wanted.take()
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
    fn question(&self, a: Action) -> Option<String> {
        let f = self.fabric()?;
        let raw = f.counts.raw_pending;
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
                    .filter(|e| e.tree == model::Tree::Managed)
                    .filter(|e| e.state == model::FileState::Invalid)
                    .count();
                let warn = if bad > 0 {
                    format!(" {bad} managed file(s) fail validation (invalid in the tree)!")
                } else {
                    String::new()
                };
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
                self.pending_reason.as_deref().unwrap_or("")
            ),
            _ => return None,
        })
    }

    pub fn update(&mut self, msg: Msg) -> Vec<Effect> {
        match msg {
            Msg::Key(key) => return self.key(key),
            Msg::Signal => self.quit = true,
            Msg::Resize | Msg::Tick => {}
            Msg::Engine(e) => self.engine(e),
            Msg::JobFinished(result) => {
                let text = match &result {
                    Ok(s) => format!("done: {s}"),
                    Err(e) => format!("FAILED: {e}"),
                };
                self.collecting_plan = false;
                if let Some(mut job) = self.job.take() {
                    if let Some(l) = job.timings() {
                        self.note(l);
                    }
                    let line = format!(
                        "{} {} {text} ({} ms)",
                        job.action,
                        job.fabric,
                        job.started.elapsed().as_millis()
                    );
                    self.note(line.clone());
                    self.last_result = Some(line);
                    return vec![Effect::Rescan(job.fabric_index, true)];
                }
            }
            Msg::Scanned(i, view) => {
                if let Some(slot) = self.fabrics.get_mut(i) {
                    let watching = slot.watching;
                    *slot = *view;
                    slot.watching = watching;
                }
                if i == self.fabric_sel {
                    self.refilter();
                }
            }
            Msg::Changed(i, complete) => return vec![Effect::Rescan(i, complete)],
            Msg::Detail(seq, d) => {
                if seq == self.detail_seq {
                    self.detail = Some(*d);
                }
            }
            Msg::Validated { seq, fates, marked } => {
                if let Some(ed) = self.editor.as_mut() {
                    if seq > ed.checked && seq <= ed.seq {
                        (ed.fates, ed.marked, ed.checked) = (fates, marked, seq);
                    }
                }
            }
            Msg::Diff(d) => {
                if self.plan.is_some() {
                    self.diff = Some(d);
                }
            }
        }
        Vec::new()
    }

    fn key(&mut self, key: KeyEvent) -> Vec<Effect> {
        if self.editor.is_some() {
            return self.editor_key(key);
        }
        if self.prompt.is_some() {
            return self.prompt_key(key);
        }
        if self.plan.is_some() && !self.collecting_plan {
            self.plan = None; // any key closes the plan view
            self.diff = None;
            return Vec::new();
        }
        if let Some((action, _)) = self.confirm.take() {
            if matches!(key.code, KeyCode::Char('y') | KeyCode::Char('Y')) {
                if action == Action::Quit {
                    self.quit = true;
                    return Vec::new();
                }
                return self.start(action);
            }
            self.note(format!("{} cancelled", action.name()));
            return Vec::new();
        }
        if key.modifiers.contains(KeyModifiers::CONTROL) && key.code == KeyCode::Char('c') {
            self.quit = true; // Ctrl-C never asks
            return Vec::new();
        }
        let Some(action) = self.keymap.lookup(&key) else {
            return Vec::new();
        };
        self.dispatch(action)
    }

    /// Run a named action, reached by its key or by name on the `:` line.
    pub fn dispatch(&mut self, action: Action) -> Vec<Effect> {
        match action {
            Action::Quit => match &self.job {
                // Asks first when it would cut a job short.
                Some(job) => {
                    let q = format!(
                        "{} of {} is running: quit now and its journal finishes it on the next run? [y/n]",
                        job.action, job.fabric
                    );
                    self.confirm = Some((Action::Quit, q));
                }
                _ => self.quit = true,
            },
            Action::Help => self.help = !self.help,
            Action::NextPane => {
                self.pane = match self.pane {
                    Pane::Fabrics => Pane::Tree,
                    Pane::Tree => Pane::Detail,
                    Pane::Detail => Pane::Fabrics,
                }
            }
            Action::Up | Action::Down | Action::PageUp | Action::PageDown => {
                self.move_selection(action)
            }
            Action::Filter => {
                self.prompt = Some(Prompt {
                    purpose: PromptFor::Filter,
                    input: self.filter.clone(),
                })
            }
            Action::Command => {
                self.prompt = Some(Prompt {
                    purpose: PromptFor::Command,
                    input: String::new(),
                })
            }
            a if self.read_only && a.mutating() => {
                self.note(format!("{} is disabled: read-only mode", a.name()))
            }
            Action::Edit => self.open_editor(),
            a if self.job.is_some() => self.note(format!("{} waits: a job is running", a.name())),
            Action::Plan => {
                self.plan = Some(Vec::new());
                self.diff = None;
                self.collecting_plan = true;
                let root = self.fabric().map(|f| f.root.clone());
                let mut effects = self.start(Action::Plan);
                effects.extend(root.map(Effect::Diff));
                return effects;
            }
            Action::Move => match self.selected_file().map(|f| f.tree) {
                Some(model::Tree::Raw) | Some(model::Tree::Managed) => {
                    self.prompt = Some(Prompt {
                        purpose: PromptFor::MoveReason,
                        input: String::new(),
                    })
                }
                _ => self.note("move takes a file under raw/ or managed/".into()),
            },
            Action::Adopt
                if self.selected_file().map(|f| f.tree) != Some(model::Tree::Unmanaged) =>
            {
                self.note("adopt takes an item under unmanaged/".into())
            }
            a => {
                if let Some(q) = self.question(a) {
                    self.confirm = Some((a, q));
                }
            }
        }
        Vec::new()
    }

    fn open_editor(&mut self) {
        let (Some(f), Some(e)) = (self.fabric(), self.selected_file()) else {
            return;
        };
        match Editor::open(&f.root, &e.rel) {
            Ok(ed) => self.editor = Some(ed),
            Err(err) => {
                let line = format!("cannot open {}: {err}", e.rel);
                self.note(line)
            }
        }
    }

    fn editor_key(&mut self, key: KeyEvent) -> Vec<Effect> {
        let Some(ed) = self.editor.as_mut() else {
            return Vec::new();
        };
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        match key.code {
            KeyCode::Char('s') if ctrl => match ed.save() {
                Ok(()) => {
                    let line = ed.status.clone();
                    self.note(line);
                }
                Err(e) => ed.status = format!("NOT saved: {e}"),
            },
            KeyCode::Esc if ed.dirty && !ed.warned => {
                ed.warned = true;
                ed.status = "unsaved changes: Ctrl-S saves, Esc again discards".into();
            }
            KeyCode::Esc => self.editor = None,
            _ => {
                if ed.area.input(key) {
                    ed.dirty = true;
                    ed.warned = false;
                    return ed.request_validation().into_iter().collect();
                }
            }
        }
        Vec::new()
    }

    fn prompt_key(&mut self, key: KeyEvent) -> Vec<Effect> {
        let Some(p) = self.prompt.as_mut() else {
            return Vec::new();
        };
        match key.code {
            KeyCode::Esc => self.prompt = None,
            KeyCode::Backspace => {
                p.input.pop();
            }
            KeyCode::Tab if p.purpose == PromptFor::Command => {
                // Completes a unique prefix to the action's name.
                if let [only] = Action::completions(&p.input)[..] {
                    p.input = only.to_string();
                }
            }
            KeyCode::Char(c) => p.input.push(c),
            KeyCode::Enter => {
                let (purpose, input) = (p.purpose, p.input.trim().to_string());
                self.prompt = None;
                match purpose {
                    PromptFor::Filter => {
                        self.filter = input;
                        self.tree_sel = 0;
                        self.refilter();
                    }
                    PromptFor::MoveReason if input.is_empty() => {
                        self.note("move cancelled: a reason is required".into())
                    }
                    PromptFor::MoveReason => {
                        self.pending_reason = Some(input);
                        if let Some(q) = self.question(Action::Move) {
                            self.confirm = Some((Action::Move, q));
                        }
                    }
                    PromptFor::Command if input.is_empty() => {}
                    PromptFor::Command => match Action::from_name(&input) {
                        Some(Action::Command) => {}
                        Some(a) => return self.dispatch(a),
                        None => self.note(format!(
                            "unknown action {input:?}: one of {}",
                            Action::names().join(", ")
                        )),
                    },
                }
            }
            _ => {}
        }
        Vec::new()
    }

    fn start(&mut self, action: Action) -> Vec<Effect> {
        let Some(f) = self.fabric() else {
            return Vec::new();
        };
        let (name, root) = (f.name.clone(), f.root.clone());
        let file = match action {
            Action::Move | Action::Adopt => self.selected_file().map(|e| root.join(&e.rel)),
            _ => None,
        };
        let reason = if action == Action::Move {
            self.pending_reason.take()
        } else {
            None
        };
        let label = action.name();
        self.job = Some(Job {
            action: label,
            fabric: name.clone(),
            fabric_index: self.fabric_sel,
            phase: "starting".into(),
            total: 0,
            done: 0,
            failed: 0,
            current: String::new(),
            percent: None,
            started: Instant::now(),
            phase_started: Instant::now(),
            phases: Vec::new(),
        });
        self.note(format!("{label} {name} started"));
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
            _ => 10,
        };
        let bump = |v: usize, n: usize| {
            (v as isize + step).clamp(0, n.saturating_sub(1) as isize) as usize
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

    fn engine(&mut self, e: Event) {
        if let (Event::Planned { action }, Some(plan)) = (&e, self.plan.as_mut()) {
            plan.push(match action {
                PlanAction::Write { path } => format!("write   {path}"),
                PlanAction::Replace { path } => format!("replace {path}"),
                PlanAction::Unchanged { path } => format!("keep    {path}"),
                PlanAction::Move { from, to } => format!("move    {from} -> {to}"),
                PlanAction::Archive { from, to } => format!("archive {from} -> {to}"),
                PlanAction::Remove { path } => format!("remove  {path}"),
            });
            return;
        }
        let Some(job) = self.job.as_mut() else { return };
        let mut line = None;
        match e {
            Event::PhaseStarted { phase, total } => {
                job.enter(format!("{phase:?}").to_lowercase());
                if phase == Phase::Classify {
                    job.total = total.unwrap_or(0);
                }
            }
            Event::FileStarted { file, index, total } => {
                job.current = file;
                job.done = index;
                job.total = total;
            }
            Event::FileFinished { file, .. } => {
                job.done = (job.done + 1).min(job.total.max(job.done + 1));
                line = Some(format!("processed {file}"));
            }
            Event::DocumentClassified {
                file, fate, object, ..
            } => match fate {
                Fate::Managed { path, change } => {
                    line = Some(
                        format!(
                            "{file}: {} -> {path} ({change:?})",
                            object.unwrap_or_default()
                        )
                        .to_lowercase(),
                    )
                }
                Fate::Unmanaged { code, path, .. } => {
                    job.failed += 1;
                    line = Some(format!(
                        "{file}: unmanaged [{}] -> {}",
                        code.as_str(),
                        path.unwrap_or_default()
                    ));
                }
                Fate::Empty => {}
            },
            Event::Error { file, message } => {
                job.failed += 1;
                line = Some(format!("error {}: {message}", file.unwrap_or_default()));
            }
            Event::BatchFinished { summary } => {
                job.done = job.total;
                line = Some(format!(
                    "batch: {} files, {} managed, {} unmanaged in {} ms",
                    summary.files,
                    summary.managed(),
                    summary.unmanaged,
                    summary.millis
                ));
            }
            Event::GitPhaseStarted { phase, detail } => {
                job.enter(format!("git {}", format!("{phase:?}").to_lowercase()));
                job.percent = None;
                line = Some(format!(
                    "git {}: {detail}",
                    format!("{phase:?}").to_lowercase()
                ));
            }
            Event::GitProgress {
                phase, done, total, ..
            } => {
                job.phase = format!("git {}", format!("{phase:?}").to_lowercase());
                let before = job.percent;
                if let Some(p) = (done * 100).checked_div(total) {
                    job.percent = Some(p.min(100) as u8);
                }
                if phase == GitPhase::Push && done == total && before != Some(100) {
                    line = Some(format!("git push: {done}/{total} objects"));
                }
            }
            Event::GitRemote { line: l } => line = Some(format!("remote: {l}")),
            Event::GitCommitted {
                commit, summary, ..
            } => {
                line = Some(format!(
                    "commit {}: {summary}",
                    &commit[..commit.len().min(10)]
                ))
            }
            Event::GitPushed {
                remote,
                branch,
                commit,
                ..
            } => {
                line = Some(format!(
                    "pushed {remote}/{branch} = {}",
                    &commit[..commit.len().min(10)]
                ))
            }
            Event::Recovering { batch, .. } => {
                line = Some(format!("recovering interrupted batch {batch}"))
            }
            _ => {}
        }
        if let Some(l) = line {
            self.note(l);
        }
    }
}
