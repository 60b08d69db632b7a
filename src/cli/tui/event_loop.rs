//! The event loop: one tokio task selecting over keys, signals, a tick and the message
//! channel; the state changed only by messages; effects carried out on the blocking pool.
//! Generic over where it draws and what it reads, so the benchmark runs this very loop on a
//! test backend with keys it sends itself.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::time::{Duration, Instant};

use crossterm::event::{self as ct, Event as CtEvent};
use futures_util::{Stream, StreamExt};
use ratatui::backend::Backend;
use ratatui::Terminal;
use tokio::sync::mpsc::{unbounded_channel, UnboundedSender as Sender};

use super::app::{App, Msg, Stop};
use super::effects::{Effect, Runner};
use super::view;

/// How long one turn of the loop may spend on messages before it draws and looks at the keys
/// again: a flood of them (a scan of 100,000 files, a job's last notes) never holds a key up.
const DRAIN_BUDGET: Duration = Duration::from_millis(15);

/// The frames drawn at most this often, unless a key or a result asks for one at once.
const FRAME: Duration = Duration::from_millis(100);

pub type Keys = Pin<Box<dyn Stream<Item = std::io::Result<CtEvent>>>>;

/// What the loop reads and where it draws.
pub struct Io<'a, B: Backend> {
    pub term: &'a mut Terminal<B>,
    /// A new key stream (again after the terminal was handed to an editor: the old one would
    /// steal the editor's keys).
    pub keys: &'a mut dyn FnMut() -> Keys,
    /// SIGTERM, SIGHUP.
    pub stops: Pin<Box<dyn Stream<Item = Stop> + 'a>>,
    /// Whether the terminal is still there; checked each tick.
    pub alive: fn() -> bool,
    /// Draw inside these (synchronized output on a real terminal).
    pub begin_frame: &'a mut dyn FnMut(),
    pub end_frame: &'a mut dyn FnMut(),
    /// Run the operator's editor with the terminal handed over.
    pub suspended: &'a mut dyn FnMut(&mut dyn FnMut()),
    /// Told after each frame (the benchmark times keys with it).
    pub drawn: &'a mut dyn FnMut(&App),
    pub theme: view::Theme,
    pub log_file: Option<std::fs::File>,
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

fn log_lines(app: &mut App, file: &mut Option<std::fs::File>) {
    if let Some(f) = file.as_mut() {
        let stamp = fgd::store::now_rfc3339();
        for line in app.take_unlogged() {
            // A full disk must not stop the dashboard; the pane still shows the line.
            let _ = writeln!(f, "{stamp} {line}");
        }
    }
}

/// Run `app` until it quits or a signal or a vanished terminal ends it.
pub async fn run<B: Backend>(
    app: &mut App,
    io: &mut Io<'_, B>,
    roots: &[PathBuf],
    runner: &Runner,
    quiet: Duration,
) {
    let (tx, mut rx) = unbounded_channel::<Msg>();
    let mut effects = app.take_effects();
    if let Ok(size) = io.term.size() {
        effects.extend(app.update(Msg::Resize(size.width, size.height)));
    }
    let mut keys = (io.keys)();
    let mut tick = tokio::time::interval(FRAME);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    // Per fabric; dropped while its folder is gone, set up again when it is back.
    let mut watchers: Vec<Option<notify::RecommendedWatcher>> = Vec::new();
    for (i, root) in roots.iter().enumerate() {
        watchers.push(watch(i, root, &tx));
        app.update(Msg::Watching(i, watchers[i].is_some()));
    }
    let mut last_presence = Instant::now();
    let mut scanner = Scanner {
        in_flight: vec![false; roots.len()],
        queued: vec![Some(Instant::now() - quiet); roots.len()],
    };
    let (mut validation, mut detail) = (Latest::default(), Latest::default());
    let mut last_full = Instant::now();
    let mut last_draw = Instant::now() - Duration::from_secs(1);
    let mut dirty = true;
    let mut queue: std::collections::VecDeque<Msg> = Default::default();
    while !app.quit {
        for effect in effects.drain(..) {
            match effect {
                Effect::Validate { .. } => validation.request(runner, &tx, effect),
                Effect::Detail { .. } => detail.request(runner, &tx, effect),
                Effect::Rescan(i, now) => scanner.request(
                    i,
                    if now {
                        Instant::now() - quiet
                    } else {
                        Instant::now()
                    },
                ),
                Effect::External { .. } => {
                    // The editor owns the terminal until it ends: no key is read meanwhile.
                    drop(std::mem::replace(
                        &mut keys,
                        Box::pin(futures_util::stream::pending()),
                    ));
                    let mut done = Vec::new();
                    let mut once = Some(effect);
                    (io.suspended)(&mut || {
                        if let Some(e) = once.take() {
                            runner.work(e, &mut |m| done.push(m))
                        }
                    });
                    keys = (io.keys)();
                    let _ = io.term.clear();
                    queue.extend(done);
                    last_draw = Instant::now() - Duration::from_secs(1);
                    dirty = true;
                }
                other => in_background(runner, &tx, other),
            }
        }
        scanner.pump(runner, quiet, &tx);
        log_lines(app, &mut io.log_file);
        if dirty && last_draw.elapsed() >= FRAME {
            (io.begin_frame)();
            let drew = io.term.draw(|f| view::draw(f, app, &io.theme)).is_ok();
            (io.end_frame)();
            if !drew {
                // The terminal is gone: nothing to draw on, nobody to answer.
                app.stopped.get_or_insert(Stop::HungUp);
                break;
            }
            (io.drawn)(app);
            last_draw = Instant::now();
            dirty = false;
        }
        // Keys and signals first: a busy channel, or a backlog left from the last turn, must
        // not keep them waiting.
        let busy = !queue.is_empty();
        let next = tokio::select! {
            biased;
            s = io.stops.next() => s.map(Msg::Signal),
            k = keys.next() => match k {
                Some(Ok(CtEvent::Key(k))) if k.kind != ct::KeyEventKind::Release => Some(Msg::Key(k)),
                Some(Ok(CtEvent::Mouse(m))) => Some(Msg::Mouse(m)),
                Some(Ok(CtEvent::Resize(w, h))) => Some(Msg::Resize(w, h)),
                Some(Ok(_)) => None,
                // The terminal is gone or broken: nothing to read, nobody to answer.
                Some(Err(_)) | None => Some(Msg::Signal(Stop::HungUp)),
            },
            // The tick also checks for a vanished terminal: a hung-up pty may stop producing
            // events without reporting an error.
            _ = tick.tick() => Some(if (io.alive)() { Msg::Tick } else { Msg::Signal(Stop::HungUp) }),
            m = rx.recv(), if !busy => match m {
                Some(m) => Some(m),
                None => break,
            },
            _ = std::future::ready(()), if busy => None,
        };
        match next {
            Some(m @ (Msg::Key(_) | Msg::Mouse(_) | Msg::Signal(_) | Msg::Resize(..))) => {
                queue.push_front(m)
            }
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
                    | Msg::Mouse(_)
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
                Msg::Validated { .. } => validation.done(runner, &tx),
                Msg::Detail(..) => detail.done(runner, &tx),
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
                    scanner.request(i, Instant::now() - quiet);
                }
            }
            last_presence = Instant::now();
        }
        // A periodic full rescan catches anything a watcher missed.
        if last_full.elapsed() >= Duration::from_secs(30) {
            for i in 0..roots.len() {
                scanner.request(i, Instant::now() - quiet);
            }
            last_full = Instant::now();
        }
    }
    log_lines(app, &mut io.log_file);
}
