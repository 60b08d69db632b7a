use super::*;

#[test]
fn the_dashboard_walkthrough_screen_by_screen() {
    let (_t, mut app) = demo();
    for (w, h) in [(80, 24), (160, 48)] {
        insta::assert_snapshot!(format!("start_{w}x{h}"), screen(&mut app, w, h));
    }
    press(&mut app, key('?'));
    insta::assert_snapshot!("help_80x24", screen(&mut app, 80, 24));
    press(&mut app, key('?'));
    press(&mut app, key('i'));
    insta::assert_snapshot!("confirm_ingest_80x24", screen(&mut app, 80, 24));
    press(&mut app, key('y'));
    assert!(app.job.is_none(), "the job finished");
    for (w, h) in [(80, 24), (160, 48)] {
        insta::assert_snapshot!(format!("after_ingest_{w}x{h}"), screen(&mut app, w, h));
    }
    // To the broken fabric's syntax error: n goes from problem to problem, across fabrics.
    for _ in 0..4 {
        press(&mut app, key('n'));
    }
    assert_eq!(selected(&app), Some("raw/lab-vpcs.yaml"));
    let detail = app.detail.as_ref().unwrap();
    assert!(
        detail
            .problems
            .iter()
            .any(|p| p.rule.as_str() == "yaml-syntax" && p.line == 22),
        "{:?}",
        detail.problems
    );
    insta::assert_snapshot!("broken_file_160x48", screen(&mut app, 160, 48));
}

#[test]
fn tiny_terminals_get_a_message_not_a_panic() {
    let (_t, mut app) = demo();
    for (w, h) in [(1, 1), (20, 5), (59, 24), (79, 24), (80, 23), (200, 23)] {
        let s = screen(&mut app, w, h).replace('\n', " ");
        if w >= 20 {
            assert!(s.contains("fgd needs at least 80x24;"), "{w}x{h}: {s}");
        }
    }
    assert!(!screen(&mut app, 80, 24).contains("fgd needs"));
}

#[test]
fn a_hundred_thousand_managed_files_draw_only_the_visible_rows() {
    let (_t, mut app) = demo();
    with_a_hundred_thousand_managed_files(&mut app);
    app.select_row(99_990 + 1 + 2);
    let s = screen(&mut app, 160, 48);
    assert!(
        s.contains("v099990.yaml") && s.contains("99991/100000"),
        "{s}"
    );
}

/// Measurement, not a check, on synthetic entries (no disk): `cargo test --release --bin fgd
/// -- --ignored --nocapture frame`. `fgd bench-render` measures the same over a real fabric.
#[test]
#[ignore]
fn frame_time_with_a_hundred_thousand_managed_files() {
    let (_t, mut app) = demo();
    with_a_hundred_thousand_managed_files(&mut app);
    let theme = view::Theme {
        color: true,
        unicode: true,
        palette: Default::default(),
    };
    let (mut frames, mut keys) =
        crate::cli::tui::bench::frame_times(&mut app, &theme, 300).unwrap();
    frames.sort();
    keys.sort();
    eprintln!(
        "100k files, 160x48: frame median {:?} p95 {:?}; key to frame median {:?} p95 {:?}",
        frames[150], frames[285], keys[150], keys[285]
    );
}
