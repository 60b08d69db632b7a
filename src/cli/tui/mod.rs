//! The dashboard: one event loop (a tokio task selecting over keys, signals, a tick and the
//! message channel); state changed only by messages; widgets that only draw. Parsing, scans,
//! git and every file read or write (the detail pane, the editor's open and save) are
//! blocking work: they run on tokio's blocking pool and report through the same channel, so
//! the draw loop never waits for them (a FIFO, a slow disk) and Ctrl-C and signals are always
//! seen. Only regular files are opened.

pub mod app;
pub mod bench;
pub mod keymap;
pub mod model;
pub mod view;

#[cfg(test)]
mod tests;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crossterm::event::{self as ct, Event as CtEvent};
use crossterm::{cursor, execute, terminal};
use futures_util::StreamExt;
use ratatui::backend::CrosstermBackend;
use ratatui::Terminal;
use tokio::signal::unix::{signal, SignalKind};
use tokio::sync::mpsc::{unbounded_channel, UnboundedSender as Sender};

use app::{Action, App, Effect, JobSpec, Msg, Stop};
use fgd::error::{Error, Exit};
use fgd::event::Event;

/// Restores the terminal however the dashboard ends: normal exit, error, panic or signal.
struct TerminalGuard;

fn restore() {
    let _ = terminal::disable_raw_mode();
    let _ = execute!(
        std::io::stdout(),
        terminal::EndSynchronizedUpdate,
        terminal::LeaveAlternateScreen,
        cursor::Show
    );
}

impl TerminalGuard {
    fn enter() -> std::io::Result<TerminalGuard> {
        terminal::enable_raw_mode()?;
        let guard = TerminalGuard;
        execute!(
            std::io::stdout(),
            terminal::EnterAlternateScreen,
            cursor::Hide
        )?;
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            restore();
            previous(info);
        }));
        Ok(guard)
    }
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        restore();
    }
}

/// False once the terminal is gone (hung-up pty, closed SSH session): reads then return at
/// once forever, and a loop that trusted them would spin.
fn terminal_alive() -> bool {
    rustix::termios::tcgetattr(std::io::stdin()).is_ok()
}

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

/// Carry out one job, reporting through `sink`: the runner's threads and the tests share it.
pub fn perform(
    spec: JobSpec,
    opts: &fgd::git::GitOptions,
    sink: &mut dyn fgd::event::Sink,
) -> Result<String, String> {
    let JobSpec {
        action,
        root,
        file,
        reason,
    } = spec;
    let mut sink = |e: Event| sink.emit(e);
    let result = match action {
        Action::Init => {
            fgd::fabric::init(&root, None).map(|(_, r)| format!("{} created", r.created.len()))
        }
        Action::Ingest => fgd::ingest::run(&root, &Default::default(), &mut sink)
            .map(|s| format!("{} managed, {} unmanaged", s.managed(), s.unmanaged)),
        Action::Push => fgd::git::push_fabric(&root, opts, &mut sink)
            .map(|r| format!("pushed {}", &r.pushed.commit[..10])),
        Action::Sync => fgd::git::sync_fabric(&root, opts, &mut sink)
            .map(|r| format!("{}; {} managed", r.integrated, r.ingest.managed())),
        Action::Plan => fgd::ingest::run(
            &root,
            &fgd::ingest::Options {
                dry_run: true,
                ..Default::default()
            },
            &mut sink,
        )
        .map(|s| {
            format!(
                "plan: {} to write, {} to replace, {} unmanaged (nothing changed)",
                s.created, s.updated, s.unmanaged
            )
        }),
        Action::Move => fgd::ops::move_to_unmanaged(
            &root,
            &file.unwrap_or_default(),
            reason.as_deref().unwrap_or(""),
            &mut sink,
        )
        .map(|r| format!("{} -> {}", r.from, r.to)),
        Action::Adopt => fgd::ops::adopt(&root, &file.unwrap_or_default(), &mut sink)
            .map(|r| format!("{} -> {}", r.from, r.to)),
        _ => Ok(String::new()),
    };
    result.map_err(|e| e.to_string())
}

/// What a push of the fabric would commit, as patch lines for the plan view.
pub fn diff_of(root: PathBuf) -> Result<Vec<String>, String> {
    fgd::git::pending_diff(&fgd::fabric::Fabric { root }, 2000).map_err(|e| e.to_string())
}

/// Work off the event loop whose whole answer is one message.
fn in_background(tx: &Sender<Msg>, work: impl FnOnce() -> Msg + Send + 'static) {
    let tx = tx.clone();
    tokio::task::spawn_blocking(move || {
        let _ = tx.send(work());
    });
}

fn run_job(spec: JobSpec, git: fgd::git::GitOptions, tx: Sender<Msg>) {
    tokio::task::spawn_blocking(move || {
        let result = perform(spec, &git, &mut |e: Event| {
            let _ = tx.send(Msg::Engine(e));
        });
        let _ = tx.send(Msg::JobFinished(result));
    });
}

/// Scans run off the draw loop; a newer request for the same fabric replaces a queued one.
struct Scanner {
    in_flight: Vec<bool>,
    queued: Vec<Option<Instant>>,
    /// Per fabric, the managed files already checked (one scan of a fabric runs at a time).
    checks: Vec<std::sync::Arc<std::sync::Mutex<model::ManagedChecks>>>,
}

impl Scanner {
    fn request(&mut self, i: usize, at: Instant) {
        if let Some(q) = self.queued.get_mut(i) {
            *q = Some(at);
        }
    }
    fn pump(&mut self, roots: &[PathBuf], quiet: Duration, tx: &Sender<Msg>) {
        for (i, root) in roots.iter().enumerate() {
            let due = self.queued[i].is_some_and(|t| t.elapsed() >= quiet);
            if due && !self.in_flight[i] {
                self.queued[i] = None;
                self.in_flight[i] = true;
                let root = root.clone();
                let checks = self.checks[i].clone();
                in_background(tx, move || {
                    // A scan that panicked left the checks as they were: still usable.
                    let mut checks = checks.lock().unwrap_or_else(|e| e.into_inner());
                    Msg::Scanned(i, Box::new(model::scan_with(&root, &mut checks)))
                });
            }
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
        Ok(None) => model::discover(workspace),
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
pub fn empty_views(roots: &[PathBuf]) -> Vec<model::FabricView> {
    roots
        .iter()
        .map(|r| model::FabricView {
            name: r
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            root: r.clone(),
            files: Vec::new(),
            counts: Default::default(),
            git: None,
            lock: None,
            watching: false,
            gone: false,
        })
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

async fn run_loop(workspace: &Path, opts: Options) -> Result<Exit, Error> {
    let roots = fabrics_of(workspace, &opts.extra_fabrics)?;
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
    let _guard = TerminalGuard::enter()
        .map_err(|e| fgd::error::io("open terminal", Path::new("/dev/tty"), e))?;
    let mut term = Terminal::new(CrosstermBackend::new(std::io::stdout()))
        .map_err(|e| fgd::error::io("open terminal", Path::new("/dev/tty"), e))?;
    if let Ok(size) = term.size() {
        app.update(Msg::Resize(size.width, size.height));
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
        checks: roots.iter().map(|_| Default::default()).collect(),
    };
    // One editor validation at a time; a newer edit replaces the one waiting.
    let mut validating = false;
    let mut queued_validation: Option<(u64, String, Vec<u8>)> = None;
    let validate = |(seq, rel, text): (u64, String, Vec<u8>), tx: &Sender<Msg>| {
        in_background(tx, move || {
            let (fates, marked) = model::validate_text(&rel, text);
            Msg::Validated { seq, fates, marked }
        })
    };
    let mut last_full = Instant::now();
    let mut last_draw = Instant::now() - Duration::from_secs(1);
    let mut dirty = true;
    while !app.quit {
        scanner.pump(&roots, opts.quiet, &tx);
        if dirty && last_draw.elapsed() >= Duration::from_millis(100) {
            let mut out = std::io::stdout();
            let _ = execute!(out, terminal::BeginSynchronizedUpdate);
            if term.draw(|f| view::draw(f, &app, &theme)).is_err() {
                // The terminal is gone: nothing to draw on, nobody to answer.
                app.stopped.get_or_insert(Stop::HungUp);
                break;
            }
            let _ = execute!(out, terminal::EndSynchronizedUpdate);
            let _ = out.flush();
            last_draw = Instant::now();
            dirty = false;
        }
        // Wait for one message, then drain all that are pending before drawing once.
        let first = tokio::select! {
            m = rx.recv() => match m {
                Some(m) => m,
                None => break,
            },
            k = keys.next() => match k {
                Some(Ok(CtEvent::Key(k))) if k.kind != ct::KeyEventKind::Release => Msg::Key(k),
                Some(Ok(CtEvent::Resize(w, h))) => Msg::Resize(w, h),
                Some(Ok(_)) => continue,
                // The terminal is gone or broken: nothing to read, nobody to answer.
                Some(Err(_)) | None => Msg::Signal(Stop::HungUp),
            },
            // The tick also checks for a vanished terminal: a hung-up pty may stop
            // producing events without reporting an error.
            _ = tick.tick() => if terminal_alive() { Msg::Tick } else { Msg::Signal(Stop::HungUp) },
            _ = sigterm.recv() => Msg::Signal(Stop::Terminated),
            _ = sighup.recv() => Msg::Signal(Stop::HungUp),
        };
        let mut batch = vec![first];
        while let Ok(m) = rx.try_recv() {
            batch.push(m);
        }
        for msg in batch {
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
            );
            let scanned = match &msg {
                Msg::Scanned(i, _) => Some(*i),
                _ => None,
            };
            if let Some(i) = scanned {
                scanner.in_flight[i] = false;
            }
            if let Msg::Validated { .. } = &msg {
                validating = false;
                if let Some(next) = queued_validation.take() {
                    validating = true;
                    validate(next, &tx);
                }
            }
            let is_tick = matches!(msg, Msg::Tick);
            for effect in app.update(msg) {
                match effect {
                    Effect::Run(spec) => run_job(spec, opts.git.clone(), tx.clone()),
                    Effect::Validate { seq, rel, text } if validating => {
                        queued_validation = Some((seq, rel, text));
                    }
                    Effect::Validate { seq, rel, text } => {
                        validating = true;
                        validate((seq, rel, text), &tx);
                    }
                    Effect::Diff(root) => in_background(&tx, move || Msg::Diff(diff_of(root))),
                    Effect::Open { root, rel } => {
                        in_background(&tx, move || Msg::Opened(app::open_for_edit(&root, &rel)))
                    }
                    Effect::Save {
                        path,
                        seq,
                        bytes,
                        expected,
                        overwrite,
                    } => in_background(&tx, move || {
                        let outcome = app::save_file(&path, &bytes, &expected, &overwrite);
                        Msg::Saved {
                            path,
                            seq,
                            bytes,
                            outcome,
                        }
                    }),
                    Effect::Rescan(i, now) => scanner.request(
                        i,
                        if now {
                            Instant::now() - opts.quiet
                        } else {
                            Instant::now()
                        },
                    ),
                }
            }
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
        }
        if let Some((seq, root, entry)) = app.take_detail_request() {
            in_background(&tx, move || {
                Msg::Detail(seq, Box::new(model::detail(&root, &entry)))
            });
        }
        if let Some(f) = log_file.as_mut() {
            let stamp = fgd::store::now_rfc3339();
            for line in app.take_unlogged() {
                // A full disk must not stop the dashboard; the pane still shows the line.
                let _ = writeln!(f, "{stamp} {line}");
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
    // The terminal is restored (the guard drops) before the caller sees the code.
    Ok(match app.stopped {
        None => Exit::Success,
        Some(Stop::Terminated) => Exit::Terminated,
        Some(Stop::HungUp) => Exit::HungUp,
    })
}
