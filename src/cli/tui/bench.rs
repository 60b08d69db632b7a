//! `fgd bench-render` (hidden; the benchmark harness runs it): the dashboard's time to first
//! frame, scan time, per-frame render time and key-to-frame time over a real workspace, drawn
//! on ratatui's TestBackend so the terminal's own speed does not count.

use std::path::Path;
use std::time::{Duration, Instant};

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::backend::TestBackend;
use ratatui::Terminal;

use super::app::{App, Msg, Pane};
use super::view;

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn percentile(v: &mut [Duration], p: usize) -> f64 {
    v.sort();
    v.get((v.len() * p / 100).min(v.len().saturating_sub(1)))
        .map_or(0.0, |d| ms(*d))
}

/// `frames` times: draw a frame, then press a key (PageDown and j in turn) and draw again.
/// The draw times, and the key-to-frame times.
pub fn frame_times(
    app: &mut App,
    theme: &view::Theme,
    frames: usize,
) -> Result<(Vec<Duration>, Vec<Duration>), String> {
    let mut term = Terminal::new(TestBackend::new(160, 48)).map_err(|e| e.to_string())?;
    let (mut draw, mut key) = (Vec::new(), Vec::new());
    for i in 0..frames {
        let t = Instant::now();
        term.draw(|f| view::draw(f, app, theme))
            .map_err(|e| e.to_string())?;
        draw.push(t.elapsed());
        let code = if i % 2 == 0 {
            KeyCode::PageDown
        } else {
            KeyCode::Char('j')
        };
        let t = Instant::now();
        app.update(Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)));
        term.draw(|f| view::draw(f, app, theme))
            .map_err(|e| e.to_string())?;
        key.push(t.elapsed());
    }
    Ok((draw, key))
}

pub fn run(workspace: &Path, frames: usize) -> Result<serde_json::Value, String> {
    let theme = view::Theme {
        color: true,
        unicode: true,
        palette: Default::default(),
    };
    let mut term = Terminal::new(TestBackend::new(160, 48)).map_err(|e| e.to_string())?;
    // The runner's order: list the fabrics, draw, then fill in by scans.
    let t0 = Instant::now();
    let roots = super::fabrics_of(workspace, &[]).map_err(|e| e.to_string())?;
    let mut app = App::new(workspace.to_path_buf(), super::empty_views(&roots), true);
    term.draw(|f| view::draw(f, &app, &theme))
        .map_err(|e| e.to_string())?;
    let first = t0.elapsed();
    let t = Instant::now();
    for (i, root) in roots.iter().enumerate() {
        app.update(Msg::Scanned(i, Box::new(fgd::inspect::scan(root))));
    }
    let scan = t.elapsed();
    // The biggest fabric is the one that matters.
    let biggest = (0..app.fabrics.len())
        .max_by_key(|i| app.fabrics[*i].files.len())
        .unwrap_or(0);
    app.select_fabric(biggest);
    app.pane = Pane::Tree;
    let files = app.fabric().map_or(0, |f| f.files.len());
    let (mut draw, mut key) = frame_times(&mut app, &theme, frames)?;
    Ok(serde_json::json!({
        "fabrics": roots.len(),
        "files": files,
        "first_frame_ms": ms(first),
        "scan_ms": ms(scan),
        "frame_p50_ms": percentile(&mut draw, 50),
        "frame_p95_ms": percentile(&mut draw, 95),
        "key_to_frame_p50_ms": percentile(&mut key, 50),
        "key_to_frame_p95_ms": percentile(&mut key, 95),
    }))
}

/// What the ingest benchmark's key thread and the loop's frame hook share.
#[derive(Default)]
struct Timing {
    scanned: bool,
    started: bool,
    done: bool,
    /// A key sent and not yet shown: when, and the row the selection was on.
    pending: Option<(Instant, usize)>,
    latencies: Vec<Duration>,
    documents: usize,
    /// The selected row in the last frame.
    row: usize,
}

/// `fgd bench-render --ingest`: key-to-frame while the biggest fabric of `workspace` is
/// ingested, timed through the dashboard's own event loop (drawing on a TestBackend): a key
/// every 20 ms, each timed from when it is sent to the end of the first frame that shows its
/// effect. The fabric is ingested for real.
pub fn during_ingest(workspace: &Path) -> Result<serde_json::Value, String> {
    use std::sync::{Arc, Mutex};
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let roots = super::fabrics_of(workspace, &[]).map_err(|e| e.to_string())?;
    let runner = super::effects::Runner::new(Default::default(), roots.clone());
    let mut app = App::new(workspace.to_path_buf(), super::empty_views(&roots), false);
    let timing = Arc::new(Mutex::new(Timing::default()));
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel::<KeyCode>();
    let mut rx = Some(rx);
    let mut keys = move || -> super::event_loop::Keys {
        match rx.take() {
            Some(rx) => Box::pin(futures_util::stream::unfold(rx, |mut rx| async move {
                let code = rx.recv().await?;
                let key = KeyEvent::new(code, KeyModifiers::NONE);
                Some((Ok(crossterm::event::Event::Key(key)), rx))
            })),
            None => Box::pin(futures_util::stream::pending()),
        }
    };
    let shared = timing.clone();
    let mut drawn = move |app: &App| {
        let mut t = shared.lock().unwrap_or_else(|e| e.into_inner());
        t.scanned |= app.fabrics.iter().any(|f| !f.files.is_empty());
        if app.job.is_some() {
            t.started = true;
            t.documents = app.job.as_ref().map_or(0, |j| j.progress.documents);
        } else if t.started {
            t.done = true;
        }
        if let Some((at, row)) = t.pending {
            if app.sel_row != row {
                t.latencies.push(at.elapsed());
                t.pending = None;
            }
        }
        t.row = app.sel_row;
    };
    let shared = timing.clone();
    let sender = std::thread::spawn(move || {
        let state =
            |f: &dyn Fn(&Timing) -> bool| f(&shared.lock().unwrap_or_else(|e| e.into_inner()));
        while !state(&|t| t.scanned) {
            std::thread::sleep(Duration::from_millis(20));
        }
        std::thread::sleep(Duration::from_millis(300));
        let _ = tx.send(KeyCode::Char('i'));
        std::thread::sleep(Duration::from_millis(100));
        let _ = tx.send(KeyCode::Char('y'));
        let mut down = true;
        while !state(&|t| t.done) {
            std::thread::sleep(Duration::from_millis(20));
            let mut t = shared.lock().unwrap_or_else(|e| e.into_inner());
            if t.started && t.pending.is_none() {
                // The row the last frame showed: the key's effect is a frame showing another.
                t.pending = Some((Instant::now(), t.row));
                drop(t);
                let _ = tx.send(if down {
                    KeyCode::Char('j')
                } else {
                    KeyCode::Char('k')
                });
                down = !down;
            }
        }
        let _ = tx.send(KeyCode::Char('q'));
    });
    let mut term = Terminal::new(TestBackend::new(160, 48)).map_err(|e| e.to_string())?;
    let theme = view::Theme {
        color: true,
        unicode: true,
        palette: Default::default(),
    };
    let started = Instant::now();
    let mut io = super::event_loop::Io {
        term: &mut term,
        keys: &mut keys,
        stops: Box::pin(futures_util::stream::pending()),
        alive: || true,
        begin_frame: &mut || {},
        end_frame: &mut || {},
        suspended: &mut |run| run(),
        drawn: &mut drawn,
        theme,
        log_file: None,
    };
    rt.block_on(super::event_loop::run(
        &mut app,
        &mut io,
        &roots,
        &runner,
        Duration::from_millis(300),
    ));
    let _ = sender.join();
    rt.shutdown_background();
    let t = timing.lock().unwrap_or_else(|e| e.into_inner());
    let mut l = t.latencies.clone();
    Ok(serde_json::json!({
        "documents": t.documents,
        "ingest_s": started.elapsed().as_secs_f64(),
        "keys": l.len(),
        "key_to_frame_p50_ms": percentile(&mut l, 50),
        "key_to_frame_p99_ms": percentile(&mut l, 99),
        "key_to_frame_max_ms": l.iter().max().map_or(0.0, |d| ms(*d)),
    }))
}
