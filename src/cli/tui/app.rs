//! Dashboard state, updated only by messages (keys, engine events, scans). `update` returns
//! effects for the runner to carry out (start a job, rescan), so the state machine runs the
//! same in tests as on a terminal.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::time::Instant;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use fgd::event::{Event, Fate, GitPhase, Phase};

use super::model::{self, Detail, FabricView, FileEntry};

/// Named actions: the same names serve keys, help and the headless CLI.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Init,
    Ingest,
    Push,
    Sync,
    Help,
    NextPane,
    Up,
    Down,
    PageUp,
    PageDown,
    Quit,
}

/// Default keymap: (key, action, name, what it does, changes things).
pub const KEYMAP: &[(char, Action, &str, &str, bool)] = &[
    (
        'I',
        Action::Init,
        "init",
        "create or repair the fabric layout",
        true,
    ),
    (
        'i',
        Action::Ingest,
        "ingest",
        "ingest raw/ into managed/ and unmanaged/",
        true,
    ),
    (
        'P',
        Action::Push,
        "push",
        "commit the fabric and push it",
        true,
    ),
    (
        's',
        Action::Sync,
        "sync",
        "fetch, integrate, ingest, commit, push",
        true,
    ),
    ('?', Action::Help, "help", "show or hide this help", false),
    ('q', Action::Quit, "quit", "leave the dashboard", false),
];

fn key_action(key: &KeyEvent) -> Option<Action> {
    if key.modifiers.contains(KeyModifiers::CONTROL) && key.code == KeyCode::Char('c') {
        return Some(Action::Quit);
    }
    match key.code {
        KeyCode::Tab => Some(Action::NextPane),
        KeyCode::Up | KeyCode::Char('k') => Some(Action::Up),
        KeyCode::Down | KeyCode::Char('j') => Some(Action::Down),
        KeyCode::PageUp => Some(Action::PageUp),
        KeyCode::PageDown => Some(Action::PageDown),
        KeyCode::Char(c) => KEYMAP.iter().find(|k| k.0 == c).map(|k| k.1),
        _ => None,
    }
}

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
    /// Something changed under a fabric's raw/.
    Changed(usize),
    Tick,
    /// SIGTERM/SIGHUP: leave, restoring the terminal.
    Signal,
}

#[derive(Debug, PartialEq, Eq)]
pub enum Effect {
    Run(Action, PathBuf),
    Rescan(usize),
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
        };
        app.refresh_detail();
        app
    }

    pub fn fabric(&self) -> Option<&FabricView> {
        self.fabrics.get(self.fabric_sel)
    }

    pub fn selected_file(&self) -> Option<&FileEntry> {
        self.fabric().and_then(|f| f.files.get(self.tree_sel))
    }

    fn refresh_detail(&mut self) {
        self.detail = match (self.fabric(), self.selected_file()) {
            (Some(f), Some(e)) => Some(model::detail(f, e)),
            _ => None,
        };
    }

    pub fn note(&mut self, line: String) {
        if self.log.len() == LOG_LINES {
            self.log.pop_front();
        }
        self.log.push_back(line);
    }

    fn mutating(a: Action) -> bool {
        KEYMAP.iter().any(|k| k.1 == a && k.4)
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
            Action::Push => format!(
                "Commit {dirty} changed path(s) of {} and push ({ahead} commit(s) ahead)? [y/n]",
                f.name
            ),
            Action::Sync => format!(
                "Sync {}: fetch, ingest {raw} raw file(s), commit and push? [y/n]",
                f.name
            ),
            Action::Init => format!("Create or repair the layout of {}? [y/n]", f.name),
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
                if let Some(job) = self.job.take() {
                    let line = format!(
                        "{} {} {text} ({} ms)",
                        job.action,
                        job.fabric,
                        job.started.elapsed().as_millis()
                    );
                    self.note(line.clone());
                    self.last_result = Some(line);
                    return vec![Effect::Rescan(job.fabric_index)];
                }
            }
            Msg::Scanned(i, view) => {
                if let Some(slot) = self.fabrics.get_mut(i) {
                    let watching = slot.watching;
                    *slot = *view;
                    slot.watching = watching;
                }
                if i == self.fabric_sel {
                    let n = self.fabrics[i].files.len();
                    self.tree_sel = self.tree_sel.min(n.saturating_sub(1));
                    self.refresh_detail();
                }
            }
            Msg::Changed(i) => return vec![Effect::Rescan(i)],
        }
        Vec::new()
    }

    fn key(&mut self, key: KeyEvent) -> Vec<Effect> {
        if let Some((action, _)) = self.confirm.take() {
            if matches!(key.code, KeyCode::Char('y') | KeyCode::Char('Y')) {
                return self.start(action);
            }
            self.note(format!("{action:?} cancelled").to_lowercase());
            return Vec::new();
        }
        let Some(action) = key_action(&key) else {
            return Vec::new();
        };
        match action {
            Action::Quit => self.quit = true,
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
            a if self.read_only && Self::mutating(a) => {
                self.note(format!("{a:?} is disabled: read-only mode").to_lowercase())
            }
            a if self.job.is_some() => {
                self.note(format!("{a:?} waits: a job is running").to_lowercase())
            }
            a => {
                if let Some(q) = self.question(a) {
                    self.confirm = Some((a, q));
                }
            }
        }
        Vec::new()
    }

    fn start(&mut self, action: Action) -> Vec<Effect> {
        let Some(f) = self.fabric() else {
            return Vec::new();
        };
        let (name, root) = (f.name.clone(), f.root.clone());
        let label = KEYMAP
            .iter()
            .find(|k| k.1 == action)
            .map(|k| k.2)
            .unwrap_or("job");
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
        });
        self.note(format!("{label} {name} started"));
        vec![Effect::Run(action, root)]
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
            }
            Pane::Tree | Pane::Detail => {
                let n = self.fabric().map(|f| f.files.len()).unwrap_or(0);
                self.tree_sel = bump(self.tree_sel, n);
            }
        }
        self.refresh_detail();
    }

    fn engine(&mut self, e: Event) {
        let Some(job) = self.job.as_mut() else { return };
        let mut line = None;
        match e {
            Event::PhaseStarted { phase, total } => {
                job.phase = format!("{phase:?}").to_lowercase();
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
                job.phase = format!("git {}", format!("{phase:?}").to_lowercase());
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
