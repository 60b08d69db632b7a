//! The demo that tells the story: its help says what it does, its folder is private and
//! unguessable, and the tour moves on step by step as the operator finds the problem, fixes
//! it, ingests, reads the plan and pushes, ending on what the remote holds. And a light
//! theme that is light.

use crossterm::event::KeyCode;
use ratatui::backend::TestBackend;
use ratatui::style::Color;
use ratatui::Terminal;

use super::*;
use crate::cli::tui::app::Msg;
use crate::cli::tui::tour::{Step, Tour};
use crate::cli::tui::view::{self, Palette};

#[test]
fn demo_help_says_exactly_what_the_demo_does() {
    let help = crate::cli::help_of("demo");
    for says in [
        "open the dashboard on them",
        "Nothing is ingested until you press i",
        "--tour",
        "--no-ui",
        "local bare remote",
        "private temporary folder",
    ] {
        assert!(help.contains(says), "{says:?} in:\n{help}");
    }
    assert!(!help.contains("and ingest them"), "{help}");
}

#[test]
fn the_demo_folder_is_new_private_and_not_guessable() {
    use std::os::unix::fs::PermissionsExt;
    let (a, _) = crate::cli::demo::create(None).unwrap();
    let (b, _) = crate::cli::demo::create(None).unwrap();
    let (a, b) = (a.parent().unwrap(), b.parent().unwrap());
    assert_ne!(a, b);
    let name = a.file_name().unwrap().to_string_lossy().into_owned();
    assert!(
        name.starts_with("fgd-demo-") && name.len() > "fgd-demo-".len() + 4,
        "{name}"
    );
    let mode = std::fs::metadata(a).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o700);
    std::fs::remove_dir_all(a).unwrap();
    std::fs::remove_dir_all(b).unwrap();
}

#[test]
fn the_tour_moves_on_as_each_step_is_done_and_ends_on_what_the_remote_holds() {
    let (_t, mut app) = demo();
    app.tour = Some(Tour::start());
    let step = |app: &App| app.tour.as_ref().map(|t| t.step);
    let s = screen(&mut app, 80, 24);
    assert!(s.contains("Tour 1/7") && s.contains("Press n"), "{s}");
    press(&mut app, key('n'));
    assert_eq!(step(&app), Some(Step::ReachFile));
    for _ in 0..3 {
        press(&mut app, key('n'));
    }
    assert_eq!(step(&app), Some(Step::Fix));
    insta::assert_snapshot!("tour_fix_80x24", screen(&mut app, 80, 24));
    press(&mut app, key('e'));
    press(&mut app, key(' '));
    press(&mut app, ctrl('s'));
    press(&mut app, code(KeyCode::Esc));
    press(&mut app, Msg::Changed(2, false));
    assert_eq!(step(&app), Some(Step::Ingest));
    press(&mut app, key('i'));
    press(&mut app, key('y'));
    assert_eq!(step(&app), Some(Step::Plan));
    press(&mut app, key('d'));
    press(&mut app, code(KeyCode::Esc));
    assert_eq!(step(&app), Some(Step::Push));
    press(&mut app, key('P'));
    press(&mut app, key('y'));
    assert_eq!(step(&app), Some(Step::Remote));
    let remote = app
        .tour
        .as_ref()
        .and_then(|t| t.remote.clone())
        .expect("read");
    assert!(
        remote.log[0].contains("lab-broken") || !remote.log.is_empty(),
        "{remote:?}"
    );
    assert!(
        remote
            .managed
            .iter()
            .any(|p| p == "managed/vpcs/lab-green.yaml"),
        "the fixed document reached the remote: {remote:?}"
    );
    let s = screen(&mut app, 160, 48);
    assert!(
        s.contains("Tour 7/7") && s.contains("The remote (origin/main) now holds"),
        "{s}"
    );
    press(&mut app, code(KeyCode::F(2)));
    assert!(app.tour.is_none());
}

#[test]
fn the_light_theme_draws_with_the_dark_ansi_colours() {
    let (_t, mut app) = demo();
    screen(&mut app, 80, 24);
    let theme = view::Theme {
        color: true,
        unicode: true,
        palette: Palette::light(),
    };
    let mut term = Terminal::new(TestBackend::new(80, 24)).unwrap();
    term.draw(|f| view::draw(f, &app, &theme)).unwrap();
    let buf = term.backend().buffer();
    let used: Vec<Color> = buf.content().iter().map(|c| c.fg).collect();
    for washed_out in [Color::Yellow, Color::Cyan, Color::LightGreen] {
        assert!(!used.contains(&washed_out), "{washed_out:?} drawn");
    }
    assert!(used.contains(&Color::Blue), "the accent");
}
