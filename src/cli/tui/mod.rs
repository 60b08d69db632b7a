//! The dashboard: one event loop (`event_loop`) selecting over keys, signals, a tick and the
//! message channel; state changed only by messages (`app`, `keys`, `browse`, `reading`);
//! widgets that only draw (`view`). Parsing, scans, git and every file read or write (the
//! detail pane, the editor's open and save) are blocking work: one runner (`effects`) does it
//! on tokio's blocking pool and reports through the same channel, so the draw loop never
//! waits for them (a FIFO, a slow disk) and Ctrl-C and signals are always seen. Only regular
//! files are opened.

pub mod app;
pub mod backend;
pub mod bench;
pub mod browse;
pub mod detail;
pub mod editor;
pub mod effects;
pub mod event_loop;
pub mod job;
pub mod keymap;
mod keys;
pub mod mode;
mod reading;
pub mod terminal;
pub mod tour;
pub mod view;

#[cfg(test)]
mod tests;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crossterm::event::EventStream;
use crossterm::{execute, terminal as ctterm};
use futures_util::StreamExt;
use ratatui::Terminal;
use tokio::signal::unix::{signal, SignalKind};

use app::{App, Stop};
use effects::Runner;
use fgd::error::{Error, Exit};

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
    /// Start with the guided tour (`fgd demo --tour`).
    pub tour: bool,
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
                git.signoff |= c.git_signoff;
                git
            },
            tour: false,
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
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        rt.block_on(run_loop(workspace, opts))
    }));
    // A job still running is abandoned with the process, as a kill would: its journal makes
    // the next run finish it. Waiting here (as dropping the runtime would, a panic's unwinding
    // included) would hold a dead terminal open, and the fabric's lock, until the job ended.
    rt.shutdown_background();
    result.unwrap_or_else(|panic| std::panic::resume_unwind(panic))
}

async fn run_loop(workspace: &Path, opts: Options) -> Result<Exit, Error> {
    let roots = fabrics_of(workspace, &opts.extra_fabrics)?;
    let runner = Runner::new(opts.git.clone(), roots.clone());
    // First frame at once: fabrics are listed empty and filled in by background scans.
    let mut app = App::new(workspace.to_path_buf(), empty_views(&roots), opts.read_only);
    app.keymap = opts.keymap.clone();
    if opts.tour {
        app.tour = Some(tour::Tour::start());
    }
    if let Some(c) = &opts.config {
        app.note(format!("config: {}", c.display()));
    }
    let log_file = match &opts.log_file {
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
    // SIGTERM and SIGHUP (a dropped SSH session) end the loop cleanly so the guard restores.
    let signals = (
        signal(SignalKind::terminate()),
        signal(SignalKind::hangup()),
    );
    let (Ok(mut sigterm), Ok(mut sighup)) = signals else {
        return Err(Error::Refused("cannot watch for SIGTERM/SIGHUP".into()));
    };
    let stops = futures_util::stream::poll_fn(move |cx| {
        if sigterm.poll_recv(cx).is_ready() {
            return std::task::Poll::Ready(Some(Stop::Terminated));
        }
        if sighup.poll_recv(cx).is_ready() {
            return std::task::Poll::Ready(Some(Stop::HungUp));
        }
        std::task::Poll::Pending
    });
    let depth = backend::Depth::from_env();
    let theme = view::Theme::from_env(opts.palette, depth);
    app.unicode = theme.unicode;
    let guard = terminal::TerminalGuard::enter()
        .map_err(|e| fgd::error::io("open terminal", Path::new("/dev/tty"), e))?;
    let mut term = Terminal::new(backend::DepthBackend::new(std::io::stdout(), depth))
        .map_err(|e| fgd::error::io("open terminal", Path::new("/dev/tty"), e))?;
    let mut keys = || -> event_loop::Keys { Box::pin(EventStream::new()) };
    let mut begin = || {
        let _ = execute!(std::io::stdout(), ctterm::BeginSynchronizedUpdate);
    };
    let mut end = || {
        let mut out = std::io::stdout();
        let _ = execute!(out, ctterm::EndSynchronizedUpdate);
        let _ = out.flush();
    };
    let mut suspended = |run: &mut dyn FnMut()| {
        if let Err(e) = guard.suspended(run) {
            // Not back in the dashboard's screen: nothing more can be drawn. (Not eprintln!,
            // which panics when the terminal is gone.)
            let _ = writeln!(std::io::stderr(), "fgd: cannot take the terminal back: {e}");
        }
    };
    let mut io = event_loop::Io {
        term: &mut term,
        keys: &mut keys,
        stops: Box::pin(stops.fuse()),
        alive: terminal::alive,
        begin_frame: &mut begin,
        end_frame: &mut end,
        suspended: &mut suspended,
        drawn: &mut |_| {},
        theme,
        log_file,
    };
    event_loop::run(&mut app, &mut io, &roots, &runner, opts.quiet).await;
    drop(io);
    if app.stopped == Some(Stop::HungUp) {
        // The terminal is gone: ratatui's drop would show the cursor and, failing, report it
        // with eprintln!, which panics when stderr is the same dead terminal.
        std::mem::forget(term);
    }
    // The terminal is restored (the guard drops) before the caller sees the code.
    Ok(match app.stopped {
        None => Exit::Success,
        Some(Stop::Terminated) => Exit::Terminated,
        Some(Stop::HungUp) => Exit::HungUp,
    })
}
