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
    app.fabric_sel = biggest;
    app.refilter();
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
