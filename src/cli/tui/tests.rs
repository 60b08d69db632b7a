//! Snapshot tests of each screen, driven by real key events over a real demo workspace, drawn
//! with ratatui's TestBackend at 80x24 and 160x48. Paths and timings are redacted.

use std::path::Path;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::backend::TestBackend;
use ratatui::Terminal;

use super::app::{Action, App, Effect, Msg};
use super::{model, view};

fn key(c: char) -> Msg {
    Msg::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE))
}

fn tab() -> Msg {
    Msg::Key(KeyEvent::new(KeyCode::Tab, KeyModifiers::NONE))
}

/// Carry out effects the way the runner does, but synchronously.
fn press(app: &mut App, msg: Msg) {
    let mut queue = app.update(msg);
    while let Some(effect) = queue.pop() {
        match effect {
            Effect::Run(action, root) => {
                let mut events = Vec::new();
                let result = match action {
                    Action::Ingest => {
                        fgd::ingest::run(&root, &Default::default(), &mut |e| events.push(e))
                            .map(|s| format!("{} managed, {} unmanaged", s.managed(), s.unmanaged))
                    }
                    other => panic!("not driven in snapshots: {other:?}"),
                };
                for e in events {
                    queue.extend(app.update(Msg::Engine(e)));
                }
                queue.extend(app.update(Msg::JobFinished(result.map_err(|e| e.to_string()))));
            }
            Effect::Rescan(i) => {
                let root = app.fabrics[i].root.clone();
                queue.extend(app.update(Msg::Scanned(i, Box::new(model::scan(&root)))));
            }
        }
    }
}

fn redact(text: &str, ws: &Path) -> String {
    let text = text.replace(&ws.display().to_string(), "[WS]");
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

fn screen(app: &App, w: u16, h: u16) -> String {
    let theme = view::Theme {
        color: false,
        unicode: true,
    };
    let mut term = Terminal::new(TestBackend::new(w, h)).unwrap();
    term.draw(|f| view::draw(f, app, &theme)).unwrap();
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
        .map(|l| l.trim_end_matches([' ', '│', '|', '┐', '┘']).to_string() + "\n")
        .collect()
}

fn demo() -> (tempfile::TempDir, App) {
    let t = tempfile::tempdir().unwrap();
    let (ws, _) = crate::cli::demo::create(Some(t.path().join("demo"))).unwrap();
    let views = model::discover(&ws)
        .iter()
        .map(|r| model::scan(r))
        .collect();
    (t, App::new(ws, views, false))
}

#[test]
fn the_dashboard_walkthrough_screen_by_screen() {
    let (_t, mut app) = demo();
    for (w, h) in [(80, 24), (160, 48)] {
        insta::assert_snapshot!(format!("start_{w}x{h}"), screen(&app, w, h));
    }
    press(&mut app, key('?'));
    insta::assert_snapshot!("help_80x24", screen(&app, 80, 24));
    press(&mut app, key('?'));
    press(&mut app, key('i'));
    insta::assert_snapshot!("confirm_ingest_80x24", screen(&app, 80, 24));
    press(&mut app, key('y'));
    assert!(app.job.is_none(), "the job finished");
    for (w, h) in [(80, 24), (160, 48)] {
        insta::assert_snapshot!(format!("after_ingest_{w}x{h}"), screen(&app, w, h));
    }
    // To the broken fabric, onto its syntax-error file: the detail pane marks the line.
    press(&mut app, tab());
    press(&mut app, tab());
    press(&mut app, key('j'));
    press(&mut app, key('j'));
    press(&mut app, tab());
    for _ in 0..3 {
        press(&mut app, key('j'));
    }
    assert_eq!(
        app.selected_file().map(|f| f.rel.as_str()),
        Some("raw/lab-vpcs.yaml")
    );
    let detail = app.detail.as_ref().unwrap();
    assert!(
        detail.fates.iter().any(|f| f.contains("yaml-syntax")),
        "{:?}",
        detail.fates
    );
    assert!(!detail.marked.is_empty());
    insta::assert_snapshot!("broken_file_160x48", screen(&app, 160, 48));
}

#[test]
fn read_only_mode_leaves_mutating_keys_unbound() {
    let (_t, app) = demo();
    let mut app = App {
        read_only: true,
        ..app
    };
    press(&mut app, key('i'));
    assert!(app.confirm.is_none() && app.job.is_none());
    assert!(app.log.back().is_some_and(|l| l.contains("read-only")));
    let s = screen(&app, 80, 24);
    assert!(!s.contains("i ingest") && s.contains("q quit"), "{s}");
}

#[test]
fn tiny_terminals_get_a_message_not_a_panic() {
    let (_t, app) = demo();
    for (w, h) in [(1, 1), (20, 5), (59, 24), (80, 15)] {
        let s = screen(&app, w, h);
        if w >= 20 {
            assert!(s.contains("fgd needs"), "{w}x{h}: {s}");
        }
    }
}

#[test]
fn a_hundred_thousand_managed_files_draw_only_the_visible_rows() {
    let (_t, mut app) = demo();
    let f = &mut app.fabrics[0];
    f.files = (0..100_000)
        .map(|i| model::FileEntry {
            tree: model::Tree::Managed,
            rel: format!("managed/vpcs/v{i:06}.yaml"),
            state: model::FileState::Valid,
            note: None,
        })
        .collect();
    f.counts.managed = 100_000;
    app.tree_sel = 99_990;
    let s = screen(&app, 160, 48);
    assert!(
        s.contains("v099990.yaml") && s.contains("99991/100000"),
        "{s}"
    );
}
