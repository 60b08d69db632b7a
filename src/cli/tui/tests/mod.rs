//! The dashboard's state machine driven by real key events over a real demo workspace, its
//! effects carried out by the same runner as the event loop, and its screens drawn with
//! ratatui's TestBackend at 80x24 and 160x48 (paths and timings redacted). One module per
//! concern; the helpers are here.

mod actions;
mod demo;
mod editor;
mod files;
mod lists;
mod problems;
mod progress;
mod screens;

use std::path::Path;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::backend::TestBackend;
use ratatui::Terminal;

use super::app::{App, Effect, Msg};
use super::browse::Row;
use super::effects::Runner;
use super::view;
use fgd::inspect;

pub fn key(c: char) -> Msg {
    Msg::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE))
}

pub fn tab() -> Msg {
    Msg::Key(KeyEvent::new(KeyCode::Tab, KeyModifiers::NONE))
}

/// The runner the tests share with the event loop, over the app's fabrics.
pub fn runner(app: &App) -> Runner {
    let roots = app.fabrics.iter().map(|f| f.root.clone()).collect();
    let mut r = Runner::new(fgd::git::GitOptions::default(), roots);
    // Every event's progress is seen, as a slow job's would be.
    r.progress_every = std::time::Duration::ZERO;
    r
}

/// Carry out effects the way the runner does, but in line, until nothing is left to do.
pub fn run_effects(app: &mut App, mut effects: Vec<Effect>) {
    let runner = runner(app);
    effects.extend(app.take_effects());
    let mut queue: std::collections::VecDeque<Effect> = effects.into();
    while let Some(effect) = queue.pop_front() {
        let mut msgs = Vec::new();
        runner.work(effect, &mut |m| msgs.push(m));
        for m in msgs {
            queue.extend(app.update(m));
        }
    }
}

/// The selection's detail, computed at once where the runner uses the blocking pool.
pub fn detail_now(app: &mut App) {
    run_effects(app, Vec::new());
}

/// A message, and everything it leads to, carried out.
pub fn press(app: &mut App, msg: Msg) {
    let effects = app.update(msg);
    run_effects(app, effects);
}

/// Archive names (`20260102T030405678Z-<batch id>`) as `[ARCHIVE]`: both differ run to run.
pub fn redact_stamps(text: &str) -> String {
    let b = text.as_bytes();
    let stamp = |i: usize| {
        b.len() >= i + 19
            && b[i..i + 8].iter().all(u8::is_ascii_digit)
            && b[i + 8] == b'T'
            && b[i + 9..i + 18].iter().all(u8::is_ascii_digit)
            && b[i + 18] == b'Z'
    };
    let (mut out, mut i, mut from) = (String::new(), 0, 0);
    while i < b.len() {
        if stamp(i) {
            out.push_str(&text[from..i]);
            out.push_str("[ARCHIVE]");
            i += 19;
            while i < b.len() && (b[i] == b'-' || b[i].is_ascii_alphanumeric()) {
                i += 1;
            }
            from = i;
        } else {
            i += 1;
        }
    }
    out.push_str(&text[from..]);
    out
}

/// "1.2 s", "38 s left", "120 files/s" -> "N s", "N s left", "N files/s": times and rates
/// differ run to run.
pub fn redact_seconds(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let starts = c.is_ascii_digit() && (i == 0 || !chars[i - 1].is_alphanumeric());
        if !starts {
            out.push(c);
            i += 1;
            continue;
        }
        let mut j = i;
        while j < chars.len() && (chars[j].is_ascii_digit() || chars[j] == '.') {
            j += 1;
        }
        let rest: String = chars[j..chars.len().min(j + 12)].iter().collect();
        let unit = [" s ", " s)", " s\n", " files/s", " writes/s", " objects/s"]
            .iter()
            .any(|u| rest.starts_with(u))
            || rest == " s";
        if unit {
            out.push('N');
        } else {
            out.extend(&chars[i..j]);
        }
        i = j;
    }
    out
}

pub fn redact(text: &str, ws: &Path) -> String {
    let text = redact_stamps(&text.replace(&ws.display().to_string(), "[WS]"));
    // A job's stage timings: their digits, and so where the pane cuts the line, differ run
    // to run (the stages themselves are checked in job.rs).
    let text: String = text
        .lines()
        .map(|l| match l.find(" took: ") {
            Some(at) => format!("{} took: [TIMINGS]\n", &l[..at]),
            None => format!("{l}\n"),
        })
        .collect();
    let text = redact_seconds(&text);
    // "586 ms" -> "N ms": durations differ run to run.
    let mut out = String::with_capacity(text.len());
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        if chars[i].is_ascii_digit() {
            let start = i;
            while i < chars.len() && chars[i].is_ascii_digit() {
                i += 1;
            }
            let rest: String = chars[i..chars.len().min(i + 3)].iter().collect();
            if rest == " ms" {
                out.push('N');
            } else {
                out.extend(&chars[start..i]);
            }
        } else {
            out.push(chars[i]);
            i += 1;
        }
    }
    out
}

pub fn screen(app: &mut App, w: u16, h: u16) -> String {
    let theme = view::Theme {
        color: false,
        unicode: true,
        palette: Default::default(),
    };
    screen_with(app, w, h, &theme)
}

/// The screen drawn with `theme`, as text.
pub fn screen_with(app: &mut App, w: u16, h: u16, theme: &view::Theme) -> String {
    // The state pages and wraps for the terminal's size, as the runner tells it.
    app.update(Msg::Resize(w, h));
    let app: &App = app;
    let mut term = Terminal::new(TestBackend::new(w, h)).unwrap();
    term.draw(|f| view::draw(f, app, theme)).unwrap();
    let buf = term.backend().buffer().clone();
    let mut s = String::new();
    for y in 0..h {
        for x in 0..w {
            s.push_str(buf[(x, y)].symbol());
        }
        s.push('\n');
    }
    // Redacted numbers change a line's length: compare lines without their right border.
    redact(&s, &app.workspace)
        .lines()
        .map(|l| {
            l.trim_end_matches([' ', '│', '|', '┐', '┘', '┃', '┓', '┛', '#'])
                .to_string()
                + "\n"
        })
        .collect()
}

/// The first fabric, as if its managed/ held 100,000 objects.
pub fn with_a_hundred_thousand_managed_files(app: &mut App) {
    let f = &mut app.fabrics[0];
    f.files = (0..100_000)
        .map(|i| inspect::FileEntry {
            tree: inspect::Tree::Managed,
            rel: format!("managed/vpcs/v{i:06}.yaml"),
            state: inspect::FileState::Valid,
            problems: Vec::new(),
            note: None,
            unnamable: false,
        })
        .collect();
    f.counts.trees.managed = 100_000;
    app.refilter();
}

pub fn demo() -> (tempfile::TempDir, App) {
    let t = tempfile::tempdir().unwrap();
    let (ws, _) = crate::cli::demo::create(Some(t.path().join("demo"))).unwrap();
    let views = inspect::discover_fabrics(&ws)
        .iter()
        .map(|r| inspect::scan(r))
        .collect();
    let mut app = App::new(ws, views, false);
    detail_now(&mut app);
    (t, app)
}

pub fn code(c: KeyCode) -> Msg {
    Msg::Key(KeyEvent::new(c, KeyModifiers::NONE))
}

/// The row of the selected fabric's tree that lists `rel`.
pub fn row_of(app: &App, rel: &str) -> Option<usize> {
    let fab = &app.fabrics[app.fabric_sel];
    app.rows
        .iter()
        .position(|r| matches!(r, Row::File(i) if fab.files[*i].rel == rel))
}

/// The files the selected fabric's tree lists, in order.
pub fn listed(app: &App) -> Vec<String> {
    let fab = &app.fabrics[app.fabric_sel];
    app.rows
        .iter()
        .filter_map(|r| match r {
            Row::File(i) => Some(fab.files[*i].rel.clone()),
            _ => None,
        })
        .collect()
}

pub fn select(app: &mut App, fabric: usize, rel: &str) {
    app.select_fabric(fabric);
    app.set_filter(String::new());
    let row = row_of(app, rel).expect(rel);
    app.select_row(row);
    detail_now(app);
}

pub fn selected(app: &App) -> Option<&str> {
    app.selected_file().map(|f| f.rel.as_str())
}

pub fn ctrl(c: char) -> Msg {
    Msg::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL))
}

/// Type text into whatever has the keyboard, a newline as Enter.
pub fn type_text(app: &mut App, text: &str) {
    for c in text.chars() {
        press(
            app,
            if c == '\n' {
                code(KeyCode::Enter)
            } else {
                key(c)
            },
        );
    }
}

/// Put the editor's cursor at the end of line `n` (1-based).
pub fn to_end_of_line(app: &mut App, n: usize) {
    for _ in 0..2000 {
        press(app, code(KeyCode::Up));
    }
    for _ in 1..n {
        press(app, code(KeyCode::Down));
    }
    press(app, code(KeyCode::End));
}

/// A managed connection of the demo's first fabric (the tests edit it).
pub const MCLAG: &str = "managed/connections/server-03--unbundled--leaf-01.yaml";

/// The demo with its first fabric ingested and one of its managed files open in the editor.
pub fn editing_a_managed_file() -> (tempfile::TempDir, App, std::path::PathBuf, String) {
    let (t, mut app) = demo();
    press(&mut app, key('i'));
    press(&mut app, key('y'));
    let path = app.fabrics[0].root.join(MCLAG);
    let before = std::fs::read_to_string(&path).unwrap();
    select(&mut app, 0, MCLAG);
    press(&mut app, key('e'));
    assert!(app.editor().is_some());
    (t, app, path, before)
}

pub fn status(app: &App) -> String {
    app.editor().map(|e| e.status.clone()).unwrap_or_default()
}

/// Drop `bytes` into the first fabric's raw/ as `name`, and open it in the editor.
pub fn edit_raw_file(bytes: &[u8], name: &str) -> (tempfile::TempDir, App, std::path::PathBuf) {
    let (t, mut app) = demo();
    let path = app.fabrics[0].root.join("raw").join(name);
    std::fs::write(&path, bytes).unwrap();
    press(&mut app, Msg::Changed(0, true));
    select(&mut app, 0, &format!("raw/{name}"));
    press(&mut app, key('e'));
    assert!(app.editor().is_some());
    (t, app, path)
}

pub const VPC_CRLF: &[u8] =
    b"apiVersion: vpc.githedgehog.com/v1beta1\r\nkind: VPC\r\nmetadata:\r\n  name: crlf\r\nspec: {subnets: {default: {subnet: 10.10.98.0/24, vlan: 1098}}}";

pub fn mkfifo(path: &Path) {
    let c = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(
        unsafe { libc::mkfifo(c.as_ptr(), 0o644) },
        0,
        "mkfifo {path:?}"
    );
}

/// Run `test` on a thread of its own and fail if it does not finish in time: a FIFO opened
/// for reading would block it for good.
pub fn within(secs: u64, test: impl FnOnce() + Send + 'static) {
    let (tx, rx) = std::sync::mpsc::channel();
    let worker = std::thread::spawn(move || {
        test();
        let _ = tx.send(());
    });
    match rx.recv_timeout(std::time::Duration::from_secs(secs)) {
        Ok(()) => worker.join().unwrap(),
        Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
            // The test panicked: show its panic.
            if let Err(e) = worker.join() {
                std::panic::resume_unwind(e);
            }
        }
        Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
            panic!("blocked for {secs} s: a FIFO was opened")
        }
    }
}
