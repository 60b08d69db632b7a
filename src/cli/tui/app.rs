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
    /// The terminal's size, columns and rows: at the start and whenever it changes.
    Resize(u16, u16),
    /// An engine event from the running job.
    Engine(Event),
    JobFinished(Result<String, String>),
    Scanned(usize, Box<FabricView>),
    /// The patch a push would commit, for the plan view (or why there is none).
    Diff(Result<Vec<String>, String>),
    /// The selection's detail, computed in the background for selection number `seq`.
    Detail(u64, Box<Detail>),
    /// A file read for the editor in the background (or why it cannot be edited).
    Opened(Result<Box<Opened>, String>),
    /// A save the editor asked for, done in the background: of the text as of edit `seq`.
    Saved {
        path: PathBuf,
        seq: u64,
        bytes: Vec<u8>,
        outcome: SaveOutcome,
    },
    /// The editor's text as of edit `seq`, validated: fate lines and the lines to mark.
    Validated {
        seq: u64,
        fates: Vec<String>,
        marked: Vec<usize>,
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
    /// Read a file for the editor (`Msg::Opened`).
    Open {
        root: PathBuf,
        rel: String,
    },
    /// Write the editor's text as of edit `seq` (`Msg::Saved`), unless the disk no longer
    /// holds `expected` (and is not `overwrite`, the change the operator was told about).
    Save {
        path: PathBuf,
        seq: u64,
        bytes: Vec<u8>,
        expected: Vec<u8>,
        overwrite: Option<Option<Vec<u8>>>,
    },
}

/// A file read for the editor, with the validation of its own bytes.
#[derive(Debug)]
pub struct Opened {
    pub path: PathBuf,
    pub rel: String,
    pub disk: Vec<u8>,
    pub fates: Vec<String>,
    pub marked: Vec<usize>,
}

/// Read `rel` for the editor: blocking, for the blocking pool. Only a regular file is opened.
pub fn open_for_edit(root: &std::path::Path, rel: &str) -> Result<Box<Opened>, String> {
    let path = root.join(rel);
    let disk = model::read_regular(&path).map_err(|e| format!("cannot open {rel}: {e}"))?;
    // An untouched buffer is the file's own bytes: validating them is validating the text.
    let (fates, marked) = model::validate_text(rel, disk.clone());
    Ok(Box::new(Opened {
        path,
        rel: rel.to_string(),
        disk,
        fates,
        marked,
    }))
}

/// What became of a save.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SaveOutcome {
    Saved,
    /// Not written: the disk holds this now (None: removed), not what the editor opened.
    Changed(Option<Vec<u8>>),
    Failed(String),
}

/// Write `bytes` to `path` atomically unless someone changed it since the editor read
/// `expected` (a colleague, git pull, a sync): blocking, for the blocking pool. The read back
/// opens only a regular file: one replaced by a FIFO or a symlink is not written over.
pub fn save_file(
    path: &std::path::Path,
    bytes: &[u8],
    expected: &[u8],
    overwrite: &Option<Option<Vec<u8>>>,
) -> SaveOutcome {
    // (Between this read and the write below is a moment another writer could still slip
    // into.)
    let now = match model::read_regular(path) {
        Ok(b) => Some(b),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return SaveOutcome::Failed(format!("cannot read it back to compare: {e}")),
    };
    if now.as_deref() != Some(expected) && overwrite.as_ref() != Some(&now) {
        return SaveOutcome::Changed(now);
    }
    match fgd::store::write_atomic(path, bytes) {
        Ok(()) => SaveOutcome::Saved,
        Err(e) => SaveOutcome::Failed(e.to_string()),
    }
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
    /// Esc, then Ctrl-C, was pressed once with unsaved changes: the next press of the same
    /// key leaves without saving.
    pub warned: bool,
    pub quit_warned: bool,
    pub status: String,
    /// Why this file can be read here but not saved (not UTF-8, mixed line breaks): saving
    /// would change bytes the operator never touched.
    pub read_only: Option<String>,
    /// The file's bytes when it was opened or last saved: a save goes ahead unasked only while
    /// the disk still holds them.
    disk: Vec<u8>,
    /// The file's line break, and whether its last line ended with one: a save keeps both.
    eol: &'static str,
    final_newline: bool,
    /// A save was refused because the file had changed on disk to this (None: removed); a
    /// second Ctrl-S overwrites it, if that is still what is there.
    overwrite: Option<Option<Vec<u8>>>,
    /// A save is being written in the background.
    pub saving: bool,
}

/// Above this, live validation waits for a save (it must not stall typing).
const LIVE_VALIDATE_MAX: usize = 1 << 20;

/// A file's text as editor lines, its line break and whether it ends with one; or why it
/// cannot be edited without changing bytes nobody touched.
fn split_lines(bytes: &[u8]) -> Result<(Vec<String>, &'static str, bool), String> {
    let text = std::str::from_utf8(bytes).map_err(|e| {
        let at = e.valid_up_to();
        let before = &bytes[..at];
        let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
        let column = at
            - before
                .iter()
                .rposition(|&b| b == b'\n')
                .map_or(0, |i| i + 1)
            + 1;
        format!(
            "not UTF-8 (byte 0x{:02X} at {line}:{column}): a save would change bytes you did \
             not touch; convert it to UTF-8 first",
            bytes[at]
        )
    })?;
    let mut parts: Vec<&str> = text.split('\n').collect();
    // The piece after the last line break: empty when the file ends with one.
    let last = parts.pop().unwrap_or_default();
    let crlf = parts.iter().filter(|l| l.ends_with('\r')).count();
    if crlf > 0 && crlf < parts.len() {
        return Err(format!(
            "mixed line breaks ({crlf} CRLF, {} LF): a save would change lines you did not \
             touch; make them one kind first (dos2unix or unix2dos)",
            parts.len() - crlf
        ));
    }
    let eol = if crlf > 0 { "\r\n" } else { "\n" };
    let final_newline = !parts.is_empty() && last.is_empty();
    let mut lines: Vec<String> = parts
        .iter()
        .map(|l| l.strip_suffix('\r').unwrap_or(l).to_string())
        .collect();
    if !final_newline {
        lines.push(last.to_string());
    }
    Ok((lines, eol, final_newline))
}

impl Editor {
    /// The editor over a file `open_for_edit` read, its errors shown at once.
    fn from_opened(o: Opened) -> Editor {
        let Opened {
            path,
            rel,
            disk,
            fates,
            marked,
        } = o;
        let (lines, eol, final_newline, read_only) = match split_lines(&disk) {
            Ok((lines, eol, nl)) => (lines, eol, nl, None),
            Err(why) => {
                let text = String::from_utf8_lossy(&disk);
                let text = text.strip_suffix('\n').unwrap_or(&text);
                let lines = text.split('\n').map(str::to_string).collect();
                (lines, "\n", false, Some(why))
            }
        };
        let mut area = TextArea::new(lines);
        area.set_line_number_style(
            ratatui::style::Style::default().add_modifier(ratatui::style::Modifier::DIM),
        );
        let title = match read_only {
            None => format!(" edit {rel}  Ctrl-S save  Esc leave "),
            Some(_) => format!(" view {rel} (read-only)  Esc leave "),
        };
        area.set_block(
            ratatui::widgets::Block::default()
                .borders(ratatui::widgets::Borders::ALL)
                .title(title),
        );
        Editor {
            path,
            rel,
            area,
            fates,
            marked,
            seq: 0,
            checked: 0,
            dirty: false,
            warned: false,
            quit_warned: false,
            status: read_only
                .as_ref()
                .map(|why| format!("read-only: {why}"))
                .unwrap_or_default(),
            read_only,
            disk,
            eol,
            final_newline,
            overwrite: None,
            saving: false,
        }
    }

    /// The text as a save would write it: the file's own line break, and a final one only if
    /// the file had it.
    pub fn text(&self) -> String {
        let mut t = self.area.lines().join(self.eol);
        if self.final_newline {
            t.push_str(self.eol);
        }
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

    /// Ctrl-S: what to write, checked here (a managed file must stay what ingest would
    /// write); the read back and the write happen in the background (`Effect::Save`).
    fn save(&mut self) -> Result<Effect, String> {
        if let Some(why) = &self.read_only {
            return Err(format!("the file is read-only here: {why}"));
        }
        if self.saving {
            return Err("a save is still being written; Ctrl-S again once it is done".into());
        }
        let bytes = self.text().into_bytes();
        // managed/ holds only what an ingest would write at this path: Argo CD and Flux
        // build every object through it, so one unreadable file stops the whole fabric.
        if self.rel.starts_with(&format!("{}/", fgd::fabric::MANAGED)) {
            if let Some((why, _)) = fgd::ingest::analyze::managed_problem(&self.rel, bytes.clone())
            {
                return Err(format!(
                    "managed/ holds only what an ingest would write at this path: {why}. \
                     Fix it, or Esc discards it"
                ));
            }
        }
        self.saving = true;
        self.status = format!("saving {}...", self.rel);
        Ok(Effect::Save {
            path: self.path.clone(),
            seq: self.seq,
            bytes,
            expected: self.disk.clone(),
            overwrite: self.overwrite.clone(),
        })
    }

    /// A save's outcome. Returns the line for the operations log, if any.
    fn saved(&mut self, seq: u64, bytes: Vec<u8>, outcome: SaveOutcome) -> Option<String> {
        self.saving = false;
        match outcome {
            SaveOutcome::Saved => {
                self.disk = bytes;
                self.overwrite = None;
                // Edits typed while it was written are still unsaved.
                if self.seq == seq {
                    self.dirty = false;
                }
                self.status = format!("saved {}", self.rel);
                Some(self.status.clone())
            }
            SaveOutcome::Changed(now) => {
                let how = if now.is_some() { "changed" } else { "removed" };
                self.overwrite = Some(now);
                self.status = format!(
                    "NOT saved: {how} on disk since you opened it: Esc twice and reopen to see it \
                     (your edits are dropped), or Ctrl-S again to overwrite it with yours"
                );
                None
            }
            SaveOutcome::Failed(e) => {
                self.status = format!("NOT saved: {e}");
                None
            }
        }
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
    /// Objects done and in all, in the current git phase.
    pub objects: Option<(usize, usize)>,
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
    /// Set when a signal, not a key, ended it.
    pub stopped: Option<Stop>,
    pub detail: Option<Detail>,
    pub last_result: Option<String>,
    pub editor: Option<Editor>,
    pub prompt: Option<Prompt>,
    pub filter: String,
    /// Indexes into the selected fabric's files that pass the filter.
    pub visible: Vec<usize>,
    pub plan: Option<Vec<String>>,
    /// The first line of the plan view shown.
    pub plan_scroll: usize,
    /// The terminal's size, for how much a page is.
    pub size: (u16, u16),
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

const NO_FABRIC: &str = "no fabric in this workspace: `fgd init <dir>` makes one";

/// A line of the plan view, by what it is (the view styles each kind).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlanLine {
    Header,
    Plan,
    Diff,
    /// Not a line of either: the plan or diff is still computed, or there is none.
    Note,
}

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
            stopped: None,
            detail: None,
            last_result: None,
            editor: None,
            prompt: None,
            filter: String::new(),
            visible: Vec::new(),
            plan: None,
            plan_scroll: 0,
            // Until the runner says: the size the layout is made for.
            size: (super::view::MIN_WIDTH, super::view::MIN_HEIGHT),
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
                self.detail_wanted = None;
                return;
            }
        };
        if self.detail.as_ref().map(|d| d.title.as_str()) != Some(entry.rel.as_str()) {
            self.detail = Some(Detail {
                title: entry.rel.clone(),
                fates: vec!["reading and validating...".into()],
                ..Default::default()
            });
        }
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
                self.pending_reason.as_deref().unwrap_or("")
            ),
            _ => return None,
        })
    }

    pub fn update(&mut self, msg: Msg) -> Vec<Effect> {
        match msg {
            Msg::Key(key) => return self.key(key),
            Msg::Signal(stop) => {
                if let Some(ed) = self.editor.as_ref().filter(|e| e.dirty) {
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
                    let (watching, name) = (slot.watching, std::mem::take(&mut slot.name));
                    *slot = *view;
                    // The runner drops a gone fabric's watcher, and sets one up again when it
                    // is back; a gone folder has no manifest to name it: it keeps its name.
                    slot.watching = watching && !slot.gone;
                    if slot.gone {
                        slot.name = name;
                    }
                }
                if i == self.fabric_sel {
                    self.refilter();
                }
            }
            Msg::Changed(i, complete) => return vec![Effect::Rescan(i, complete)],
            Msg::Watching(i, on) => {
                if let Some(f) = self.fabrics.get_mut(i) {
                    f.watching = on;
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
                if self.editor.is_none() {
                    self.editor = Some(Editor::from_opened(*o));
                }
            }
            Msg::Saved {
                path,
                seq,
                bytes,
                outcome,
            } => match self.editor.as_mut().filter(|e| e.path == path) {
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
        if key.modifiers.contains(KeyModifiers::CONTROL) && key.code == KeyCode::Char('c') {
            self.ctrl_c();
            return Vec::new();
        }
        if let Some(ed) = self.editor.as_mut() {
            ed.quit_warned = false;
        }
        if self.editor.is_some() {
            return self.editor_key(key);
        }
        if self.prompt.is_some() {
            return self.prompt_key(key);
        }
        if self.plan.is_some() {
            let page = super::view::plan_rows(self.size.1).saturating_sub(1).max(1) as isize;
            match self.keymap.lookup(&key) {
                Some(Action::Down) => self.scroll_plan(1),
                Some(Action::Up) => self.scroll_plan(-1),
                Some(Action::PageDown) => self.scroll_plan(page),
                Some(Action::PageUp) => self.scroll_plan(-page),
                // Any other key closes it, even while it is computed: the plan job runs on
                // and its lines are dropped.
                _ => {
                    self.plan = None;
                    self.diff = None;
                }
            }
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
        let Some(action) = self.keymap.lookup(&key) else {
            return Vec::new();
        };
        self.dispatch(action)
    }

    /// Ctrl-C leaves from anywhere, whatever runs (a job's journal finishes it on the next
    /// run), without asking; only unsaved edits get one warning first, since they exist
    /// nowhere else.
    fn ctrl_c(&mut self) {
        if let Some(ed) = self.editor.as_mut() {
            if ed.dirty && !ed.quit_warned {
                ed.quit_warned = true;
                ed.status =
                    "unsaved changes: Ctrl-S saves, Ctrl-C again leaves without saving".into();
                return;
            }
            if ed.dirty {
                let line = format!("left with unsaved changes to {} (dropped)", ed.rel);
                self.note(line);
            }
        }
        self.quit = true;
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
                if self.selected_file().is_some_and(|f| f.unnamable()) =>
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
                self.plan = Some(Vec::new());
                self.plan_scroll = 0;
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

    /// The plan view as lines: the ingest plan, then what a push would commit.
    pub fn plan_document(&self) -> Vec<(PlanLine, String)> {
        let Some(plan) = &self.plan else {
            return Vec::new();
        };
        let mut doc = vec![(
            PlanLine::Header,
            "ingest would (nothing changes now):".to_string(),
        )];
        if plan.is_empty() {
            let none = if self.collecting_plan {
                "(computing the plan)"
            } else {
                "nothing to ingest"
            };
            doc.push((PlanLine::Note, none.into()));
        }
        doc.extend(plan.iter().map(|l| (PlanLine::Plan, l.clone())));
        doc.push((PlanLine::Header, "push would commit:".into()));
        match &self.diff {
            None => doc.push((PlanLine::Note, "(computing the diff)".into())),
            Some(Err(e)) => doc.push((PlanLine::Note, format!("no diff: {e}"))),
            Some(Ok(d)) if d.len() <= 1 => doc.push((PlanLine::Plan, "nothing to commit".into())),
            Some(Ok(d)) => doc.extend(d.iter().map(|l| (PlanLine::Diff, l.clone()))),
        }
        doc
    }

    /// Move the plan view by `by` lines, keeping a full page in view.
    fn scroll_plan(&mut self, by: isize) {
        let room = super::view::plan_rows(self.size.1);
        let max = self.plan_document().len().saturating_sub(room);
        self.plan_scroll = self.plan_scroll.saturating_add_signed(by).min(max);
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

    fn editor_key(&mut self, key: KeyEvent) -> Vec<Effect> {
        let Some(ed) = self.editor.as_mut() else {
            return Vec::new();
        };
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        match key.code {
            KeyCode::Char('s') if ctrl => match ed.save() {
                Ok(effect) => return vec![effect],
                Err(e) => ed.status = format!("NOT saved: {e}"),
            },
            KeyCode::Esc if ed.dirty && !ed.warned => {
                ed.warned = true;
                ed.status = "unsaved changes: Ctrl-S saves, Esc again discards".into();
            }
            KeyCode::Esc => self.editor = None,
            // Read-only: the cursor moves, the text does not change.
            KeyCode::Up
            | KeyCode::Down
            | KeyCode::Left
            | KeyCode::Right
            | KeyCode::PageUp
            | KeyCode::PageDown
            | KeyCode::Home
            | KeyCode::End
                if ed.read_only.is_some() =>
            {
                ed.area.input(key);
            }
            _ if ed.read_only.is_some() => {
                let why = ed.read_only.clone().unwrap_or_default();
                ed.status = format!("read-only: {why}");
            }
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
            objects: None,
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
                Fate::Managed { path, change, .. } => {
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
                job.objects = None;
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
                    job.objects = Some((done, total));
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
            Event::GitLeftOut { path, reason } => {
                line = Some(format!("git commit: left out {path} ({reason})"))
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
