//! The dashboard: one event loop (a tokio task selecting over keys, signals, a tick and the
//! message channel); state changed only by messages; widgets that only draw. Parsing, scans,
//! git and every file read or write (the detail pane, the editor's open and save) are
//! blocking work: they run on tokio's blocking pool and report through the same channel, so
//! the draw loop never waits for them (a FIFO, a slow disk) and Ctrl-C and signals are always
//! seen. Only regular files are opened.

pub mod app;
pub mod bench;
pub mod editor;
pub mod effects;
pub mod job;
pub mod keymap;
pub mod mode;
pub mod terminal;
pub mod view;

#[cfg(test)]
mod tests;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crossterm::event::{self as ct, Event as CtEvent};
use crossterm::execute;
use futures_util::StreamExt;
use ratatui::backend::CrosstermBackend;
use ratatui::Terminal;
use tokio::signal::unix::{signal, SignalKind};
use tokio::sync::mpsc::{unbounded_channel, UnboundedSender as Sender};

use app::{App, Msg, Stop};
use effects::{Effect, Runner};
use fgd::error::{Error, Exit};

/// A watcher on a fabric's raw/: a file renamed in whole is looked at at once; anything else
/// waits for the quiet period so half-written files are not classified (see `fgd::watch`).
/// None when raw/ cannot be watched (not there yet, or the fabric is gone).
fn watch(i: usize, root: &Path, tx: &Sender<Msg>) -> Option<notify::RecommendedWatcher> {
    let tx = tx.clone();
    fgd::watch::watch_raw(&root.join(fgd::fabric::RAW), move |c| {
        let complete = matches!(c, fgd::watch::RawChange::Path { complete: true, .. });
        let _ = tx.send(Msg::Changed(i, complete));
    })
    .ok()
}

/// Work off the event loop: the runner's answer comes back through the channel.
fn in_background(runner: &Runner, tx: &Sender<Msg>, effect: Effect) {
    let (runner, tx) = (runner.clone(), tx.clone());
    tokio::task::spawn_blocking(move || {
        runner.work(effect, &mut |m| {
            let _ = tx.send(m);
        })
    });
}

/// Scans run off the draw loop; a newer request for the same fabric replaces a queued one.
struct Scanner {
    in_flight: Vec<bool>,
    queued: Vec<Option<Instant>>,
}

impl Scanner {
    fn request(&mut self, i: usize, at: Instant) {
        if let Some(q) = self.queued.get_mut(i) {
            *q = Some(at);
        }
    }
    fn pump(&mut self, runner: &Runner, quiet: Duration, tx: &Sender<Msg>) {
        for i in 0..self.queued.len() {
            let due = self.queued[i].is_some_and(|t| t.elapsed() >= quiet);
            if due && !self.in_flight[i] {
                self.queued[i] = None;
                self.in_flight[i] = true;
                in_background(runner, tx, Effect::Rescan(i, true));
            }
        }
    }
}

/// Work of which only the newest request matters (the editor's validation, the selection's
/// detail): one runs at a time, and a newer request replaces the one waiting.
#[derive(Default)]
struct Latest {
    running: bool,
    waiting: Option<Effect>,
}

impl Latest {
    fn request(&mut self, runner: &Runner, tx: &Sender<Msg>, effect: Effect) {
        if self.running {
            self.waiting = Some(effect);
        } else {
            self.running = true;
            in_background(runner, tx, effect);
        }
    }
    fn done(&mut self, runner: &Runner, tx: &Sender<Msg>) {
        self.running = false;
        if let Some(next) = self.waiting.take() {
            self.request(runner, tx, next);
        }
    }
}

pub struct Options {
    pub read_only: bool,
    /// How long a file must hold still before it is classified.
    pub quiet: Duration,
    pub keymap: keymap::Keymap,
    pub palette: view::Palette,
    /// Fabrics listed besides the workspace's own (from the config).
    pub extra_fabrics: Vec<PathBuf>,
    /// Where the operations log is appended; never the terminal the UI draws on.
    pub log_file: Option<PathBuf>,
    /// The config file the settings came from, named in the log.
    pub config: Option<PathBuf>,
    /// Author, credentials and known hosts for push and sync (as the headless commands).
    pub git: fgd::git::GitOptions,
}

impl Options {
    pub fn from_config(c: &crate::cli::config::Config) -> Options {
        Options {
            read_only: c.read_only,
            quiet: c.quiet,
            keymap: c.keymap.clone(),
            palette: c.palette,
            extra_fabrics: c.fabrics.clone(),
            log_file: c.log_file.clone(),
            config: c.source.clone(),
            git: {
                let mut git = fgd::git::GitOptions::from_env();
                if c.git_author.is_some() {
                    git.author = c.git_author.clone();
                }
                git
            },
        }
    }
}

/// The fabrics to show: the workspace's `fgd.toml` list, else every fabric found under it;
/// then the config's extra fabrics.
pub fn fabrics_of(workspace: &Path, extra: &[PathBuf]) -> Result<Vec<PathBuf>, Error> {
    let mut roots = match crate::cli::config::workspace_fabrics(workspace) {
        Ok(Some(listed)) => listed,
        Ok(None) => fgd::inspect::discover_fabrics(workspace),
        Err(e) => return Err(Error::Usage(format!("workspace file {e}"))),
    };
    for f in extra {
        if !roots.contains(f) {
            roots.push(f.clone());
        }
    }
    Ok(roots)
}

/// The operations log file, opened for appending; a file over 8 MiB is rotated to `.1` first.
fn open_log(path: &Path) -> std::io::Result<std::fs::File> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    // A FIFO (or a device) named as the log would block the open, or every line written.
    if std::fs::metadata(path).is_ok_and(|m| !m.is_file()) {
        return Err(std::io::Error::other("not a regular file"));
    }
    if std::fs::metadata(path).is_ok_and(|m| m.len() > 8 << 20) {
        let mut old = path.as_os_str().to_owned();
        old.push(".1");
        std::fs::rename(path, old)?;
    }
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
}

/// The runner's state before any scan: every fabric named, nothing counted yet.
pub fn empty_views(roots: &[PathBuf]) -> Vec<fgd::inspect::FabricState> {
    roots
        .iter()
        .map(|r| fgd::inspect::FabricState::unscanned(r))
        .collect()
}

pub fn run(workspace: &Path, opts: Options) -> Result<Exit, Error> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| fgd::error::io("start the event loop", workspace, e))?;
    let result = rt.block_on(run_loop(workspace, opts));
    // A job still running is abandoned with the process, as a kill would: its journal makes
    // the next run finish it. Waiting here would hold a dead terminal open.
    rt.shutdown_background();
    result
}

/// How long one turn of the loop may spend on messages before it draws and looks at the keys
/// again: a flood of them (a scan of 100,000 files, a job's last notes) never holds a key up.
const DRAIN_BUDGET: Duration = Duration::from_millis(15);

async fn run_loop(workspace: &Path, opts: Options) -> Result<Exit, Error> {
    let roots = fabrics_of(workspace, &opts.extra_fabrics)?;
    let runner = Runner::new(opts.git.clone(), roots.clone());
    // First frame at once: fabrics are listed empty and filled in by background scans.
    let mut app = App::new(workspace.to_path_buf(), empty_views(&roots), opts.read_only);
    app.keymap = opts.keymap.clone();
    if let Some(c) = &opts.config {
        app.note(format!("config: {}", c.display()));
    }
    let mut log_file = match &opts.log_file {
        Some(p) => match open_log(p) {
            Ok(f) => {
                app.note(format!("log: {}", p.display()));
                Some(f)
            }
            Err(e) => {
                app.note(format!("log file {} unavailable: {e}", p.display()));
                None
            }
        },
        None => None,
    };
    let (tx, mut rx) = unbounded_channel::<Msg>();
    // SIGTERM and SIGHUP (a dropped SSH session) end the loop cleanly so the guard restores.
    let signals = (
        signal(SignalKind::terminate()),
        signal(SignalKind::hangup()),
    );
    let (Ok(mut sigterm), Ok(mut sighup)) = signals else {
        return Err(Error::Refused("cannot watch for SIGTERM/SIGHUP".into()));
    };
    let _guard = terminal::TerminalGuard::enter()
        .map_err(|e| fgd::error::io("open terminal", Path::new("/dev/tty"), e))?;
    let mut term = Terminal::new(CrosstermBackend::new(std::io::stdout()))
        .map_err(|e| fgd::error::io("open terminal", Path::new("/dev/tty"), e))?;
    let mut effects = app.take_effects();
    if let Ok(size) = term.size() {
        effects.extend(app.update(Msg::Resize(size.width, size.height)));
    }
    let mut keys = ct::EventStream::new();
    let mut tick = tokio::time::interval(Duration::from_millis(100));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    // Per fabric; dropped while its folder is gone, set up again when it is back.
    let mut watchers: Vec<Option<notify::RecommendedWatcher>> = Vec::new();
    for (i, root) in roots.iter().enumerate() {
        watchers.push(watch(i, root, &tx));
        app.update(Msg::Watching(i, watchers[i].is_some()));
    }
    let mut last_presence = Instant::now();
    let theme = view::Theme::from_env(opts.palette);
    let mut scanner = Scanner {
        in_flight: vec![false; roots.len()],
        queued: vec![Some(Instant::now() - opts.quiet); roots.len()],
    };
    let (mut validation, mut detail) = (Latest::default(), Latest::default());
    let mut last_full = Instant::now();
    let mut last_draw = Instant::now() - Duration::from_secs(1);
    let mut dirty = true;
    let mut queue: std::collections::VecDeque<Msg> = Default::default();
    while !app.quit {
        for effect in effects.drain(..) {
            match effect {
                Effect::Validate { .. } => validation.request(&runner, &tx, effect),
                Effect::Detail { .. } => detail.request(&runner, &tx, effect),
                Effect::Rescan(i, now) => scanner.request(
                    i,
                    if now {
                        Instant::now() - opts.quiet
                    } else {
                        Instant::now()
                    },
                ),
                other => in_background(&runner, &tx, other),
            }
        }
        scanner.pump(&runner, opts.quiet, &tx);
        if let Some(f) = log_file.as_mut() {
            let stamp = fgd::store::now_rfc3339();
            for line in app.take_unlogged() {
                // A full disk must not stop the dashboard; the pane still shows the line.
                let _ = writeln!(f, "{stamp} {line}");
            }
        }
        if dirty && last_draw.elapsed() >= Duration::from_millis(100) {
            let mut out = std::io::stdout();
            let _ = execute!(out, crossterm::terminal::BeginSynchronizedUpdate);
            if term.draw(|f| view::draw(f, &app, &theme)).is_err() {
                // The terminal is gone: nothing to draw on, nobody to answer.
                app.stopped.get_or_insert(Stop::HungUp);
                break;
            }
            let _ = execute!(out, crossterm::terminal::EndSynchronizedUpdate);
            let _ = out.flush();
            last_draw = Instant::now();
            dirty = false;
        }
        // Keys and signals first: a busy channel, or a backlog left from the last turn, must
        // not keep them waiting.
        let busy = !queue.is_empty();
        let next = tokio::select! {
            biased;
            _ = sigterm.recv() => Some(Msg::Signal(Stop::Terminated)),
            _ = sighup.recv() => Some(Msg::Signal(Stop::HungUp)),
            k = keys.next() => match k {
                Some(Ok(CtEvent::Key(k))) if k.kind != ct::KeyEventKind::Release => Some(Msg::Key(k)),
                Some(Ok(CtEvent::Resize(w, h))) => Some(Msg::Resize(w, h)),
                Some(Ok(_)) => None,
                // The terminal is gone or broken: nothing to read, nobody to answer.
                Some(Err(_)) | None => Some(Msg::Signal(Stop::HungUp)),
            },
            // The tick also checks for a vanished terminal: a hung-up pty may stop producing
            // events without reporting an error.
            _ = tick.tick() => Some(if terminal::alive() { Msg::Tick } else { Msg::Signal(Stop::HungUp) }),
            m = rx.recv(), if !busy => match m {
                Some(m) => Some(m),
                None => break,
            },
            _ = std::future::ready(()), if busy => None,
        };
        match next {
            Some(m @ (Msg::Key(_) | Msg::Signal(_) | Msg::Resize(..))) => queue.push_front(m),
            Some(m) => queue.push_back(m),
            None => {}
        }
        while let Ok(m) = rx.try_recv() {
            queue.push_back(m);
        }
        let turn = Instant::now();
        while let Some(msg) = queue.pop_front() {
            let urgent = matches!(
                msg,
                Msg::Key(_)
                    | Msg::Resize(..)
                    | Msg::Scanned(..)
                    | Msg::JobFinished(_)
                    | Msg::Validated { .. }
                    | Msg::Detail(..)
                    | Msg::Opened(_)
                    | Msg::Saved { .. }
                    | Msg::Signal(_)
            );
            let scanned = match &msg {
                Msg::Scanned(i, _) => Some(*i),
                _ => None,
            };
            if let Some(i) = scanned {
                scanner.in_flight[i] = false;
            }
            match &msg {
                Msg::Validated { .. } => validation.done(&runner, &tx),
                Msg::Detail(..) => detail.done(&runner, &tx),
                _ => {}
            }
            let is_tick = matches!(msg, Msg::Tick);
            effects.extend(app.update(msg));
            if let Some(i) = scanned {
                // A gone fabric's watcher watches nothing (or, followed by inotify, the folder
                // where it went); one that is back, or was not initialised, gets a new one.
                let gone = app.fabrics.get(i).is_some_and(|f| f.gone);
                if gone {
                    watchers[i] = None;
                } else if watchers[i].is_none() {
                    watchers[i] = watch(i, &roots[i], &tx);
                    app.update(Msg::Watching(i, watchers[i].is_some()));
                }
            }
            if urgent {
                last_draw = Instant::now() - Duration::from_secs(1);
            }
            dirty |= !is_tick || app.job.is_some();
            if app.quit || turn.elapsed() >= DRAIN_BUDGET {
                break;
            }
        }
        // A fabric folder moved away (or back) tells no watcher on its raw/: a look each
        // second, one stat per fabric, rescans it at once.
        if last_presence.elapsed() >= Duration::from_secs(1) {
            for (i, root) in roots.iter().enumerate() {
                if app.fabrics.get(i).is_some_and(|f| f.gone == root.is_dir()) {
                    scanner.request(i, Instant::now() - opts.quiet);
                }
            }
            last_presence = Instant::now();
        }
        // A periodic full rescan catches anything a watcher missed.
        if last_full.elapsed() >= Duration::from_secs(30) {
            for i in 0..roots.len() {
                scanner.request(i, Instant::now() - opts.quiet);
            }
            last_full = Instant::now();
        }
    }
    if let Some(f) = log_file.as_mut() {
        let stamp = fgd::store::now_rfc3339();
        for line in app.take_unlogged() {
            let _ = writeln!(f, "{stamp} {line}");
        }
    }
    // The terminal is restored (the guard drops) before the caller sees the code.
    Ok(match app.stopped {
        None => Exit::Success,
        Some(Stop::Terminated) => Exit::Terminated,
        Some(Stop::HungUp) => Exit::HungUp,
    })
}
