use crossterm::event::KeyCode;

use super::*;
use crate::cli::tui::app::{Action, App, Msg};

#[test]
fn read_only_mode_leaves_mutating_keys_unbound() {
    let (_t, mut app) = demo();
    app.read_only = true;
    press(&mut app, key('i'));
    assert!(app.mode.confirm().is_none() && app.job.is_none());
    assert!(app.log.back().is_some_and(|l| l.contains("read-only")));
    let s = screen(&mut app, 80, 24);
    assert!(!s.contains("i ingest") && s.contains("q quit"), "{s}");
}

#[test]
fn filter_plan_move_and_adopt_from_the_keyboard() {
    let (_t, mut app) = demo();
    app.select_fabric(2);
    // Filter the tree.
    press(&mut app, key('/'));
    for c in "team".chars() {
        press(&mut app, key(c));
    }
    press(&mut app, code(KeyCode::Enter));
    assert_eq!(
        listed(&app),
        ["raw/team-a/vpc-dup.yaml", "raw/team-b/vpcs.yaml"]
    );
    let s = screen(&mut app, 80, 24);
    assert!(s.contains("files 1/2 filter \"team\""), "{s}");
    // The dry-run plan changes nothing.
    press(&mut app, key('d'));
    let plan = app.mode.plan().unwrap().plan.clone();
    assert!(
        plan.iter()
            .any(|l| l.starts_with("write") && l.contains("managed/vpcs/lab-red.yaml")),
        "{plan:?}"
    );
    assert!(app.fabrics[2].root.join("raw/lab-vpcs.yaml").exists());
    press(&mut app, code(KeyCode::Esc));
    assert!(app.mode.plan().is_none());
    // Move a raw file to unmanaged with a reason, then adopt it back.
    press(&mut app, key('u'));
    for c in "duplicate of team-b".chars() {
        press(&mut app, key(c));
    }
    press(&mut app, code(KeyCode::Enter));
    assert!(app
        .mode
        .confirm()
        .is_some_and(|c| c.question.contains("raw/team-a/vpc-dup.yaml")
            && c.question.contains("duplicate of team-b")));
    press(&mut app, key('y'));
    let root = app.fabrics[2].root.clone();
    let item = root.join("unmanaged/team-a/vpc-dup.yaml.unmanaged");
    assert!(item.is_file() && !root.join("raw/team-a/vpc-dup.yaml").exists());
    select(&mut app, 2, "unmanaged/team-a/vpc-dup.yaml.unmanaged");
    press(&mut app, key('a'));
    press(&mut app, key('y'));
    assert!(root.join("raw/team-a/vpc-dup.yaml").is_file() && !item.exists());
}

#[test]
fn the_command_line_runs_actions_by_name_with_completion() {
    let (_t, mut app) = demo();
    press(&mut app, key(':'));
    for c in "ing".chars() {
        press(&mut app, key(c));
    }
    assert!(screen(&mut app, 80, 24).contains(":ing_   ingest"));
    press(&mut app, tab());
    assert_eq!(app.mode.prompt().map(|p| p.input.as_str()), Some("ingest"));
    press(&mut app, code(KeyCode::Enter));
    // The same path as the key: a confirmation naming the counts.
    assert!(
        app.mode.confirm().is_some_and(
            |c| c.action == Action::Ingest && c.question.contains("Ingest 6 raw file(s)")
        )
    );
    press(&mut app, key('n'));
    press(&mut app, key(':'));
    for c in "teleport".chars() {
        press(&mut app, key(c));
    }
    press(&mut app, code(KeyCode::Enter));
    let last = app.log.back().cloned().unwrap_or_default();
    assert!(
        last.contains("unknown action \"teleport\"") && last.contains("ingest"),
        "{last}"
    );
}

#[test]
fn a_remapped_keymap_drives_keys_footer_and_help() {
    use crate::cli::tui::keymap::{Key, Keymap, ModeKind, Override};
    let (_t, mut app) = demo();
    app.keymap = Keymap::with(&[Override {
        mode: ModeKind::Browse,
        action: Action::Ingest,
        keys: vec![Key::parse("f5").unwrap()],
    }]);
    press(&mut app, key('i'));
    assert!(app.mode.confirm().is_none(), "i is no longer bound");
    press(&mut app, code(KeyCode::F(5)));
    assert!(app
        .mode
        .confirm()
        .is_some_and(|c| c.action == Action::Ingest));
    press(&mut app, key('n'));
    assert!(screen(&mut app, 160, 48).contains("f5 ingest"));
    press(&mut app, key('?'));
    let help = screen(&mut app, 160, 48);
    assert!(
        help.lines()
            .any(|l| l.contains(" f5 ") && l.contains(" ingest ")),
        "{help}"
    );
}

#[test]
fn the_plan_view_shows_the_diff_a_push_would_commit_without_committing() {
    let (_t, mut app) = demo();
    let root = app.fabrics[0].root.clone();
    let repo = git2::Repository::discover(&root).unwrap();
    let head = repo.head().unwrap().target();
    press(&mut app, key('d'));
    assert!(
        matches!(&app.mode.plan().unwrap().diff, Some(Ok(d)) if d.len() <= 1),
        "the demo starts pushed: {:?}",
        app.mode.plan().unwrap().diff
    );
    // Below the plan of the six raw files' objects.
    press(&mut app, Msg::Resize(160, 48));
    press(&mut app, code(KeyCode::PageDown));
    let s = screen(&mut app, 160, 48);
    assert!(s.contains("nothing to commit"), "{s}");
    press(&mut app, code(KeyCode::Esc));
    press(&mut app, key('i'));
    press(&mut app, key('y'));
    press(&mut app, key('d'));
    let diff = match &app.mode.plan().unwrap().diff {
        Some(Ok(d)) => d.clone(),
        other => panic!("{other:?}"),
    };
    assert!(diff[0].contains("file(s) changed"), "{diff:?}");
    assert!(
        diff.iter()
            .any(|l| l.contains("+++ b/dc1-leaf-spine/managed/vpcs/tenant-a.yaml")),
        "{diff:?}"
    );
    assert!(diff.iter().any(|l| l == "+kind: VPC"), "{diff:?}");
    let s = screen(&mut app, 160, 48);
    assert!(
        s.contains("push would commit:") && s.contains("+++ b/dc1-leaf-spine/managed/"),
        "{s}"
    );
    assert_eq!(repo.head().unwrap().target(), head, "nothing was committed");
}

#[test]
fn ctrl_c_leaves_from_every_prompt_question_and_overlay() {
    type Setup = fn(&mut App);
    let setups: [(&str, Setup); 8] = [
        ("the plain screen", |_| {}),
        ("the filter prompt", |a| press(a, key('/'))),
        ("the command line", |a| press(a, key(':'))),
        ("the move reason", |a| {
            select(a, 0, "raw/namespaces.yaml");
            press(a, key('u'))
        }),
        ("a confirm question", |a| press(a, key('i'))),
        ("the plan view", |a| press(a, key('d'))),
        ("the help", |a| press(a, key('?'))),
        ("an editor with nothing unsaved", |a| {
            select(a, 0, "raw/namespaces.yaml");
            press(a, key('e'))
        }),
    ];
    for (what, setup) in setups {
        let (_t, mut app) = demo();
        setup(&mut app);
        press(&mut app, ctrl('c'));
        assert!(app.quit, "Ctrl-C from {what}");
        assert!(app.job.is_none(), "{what}: nothing started");
    }
}

#[test]
fn with_no_fabric_the_plan_key_says_so_instead_of_opening_a_view_nothing_closes() {
    let t = tempfile::tempdir().unwrap();
    let mut app = App::new(t.path().to_path_buf(), Vec::new(), false);
    press(&mut app, key('d'));
    assert!(app.mode.plan().is_none(), "no overlay");
    let last = app.log.back().cloned().unwrap_or_default();
    assert!(last.contains("no fabric"), "{last}");
    press(&mut app, key('i'));
    assert!(app.mode.confirm().is_none());
    assert!(app.log.back().is_some_and(|l| l.contains("no fabric")));
}

#[test]
fn esc_closes_the_plan_view_even_while_it_is_computed_and_other_keys_do_nothing() {
    let (_t, mut app) = demo();
    // The plan job and the diff only asked for, not yet done.
    let effects = app.update(key('d'));
    assert_eq!(effects.len(), 2, "{effects:?}");
    assert!(app.mode.plan().is_some());
    app.update(key('j'));
    assert!(app.mode.plan().is_some(), "j scrolls");
    app.update(key('x'));
    assert!(app.mode.plan().is_some(), "x does nothing here");
    app.update(key('i'));
    assert!(
        app.mode.plan().is_some() && app.mode.confirm().is_none(),
        "nor does i"
    );
    app.update(code(KeyCode::Esc));
    assert!(app.mode.plan().is_none(), "Esc closes");
}

#[test]
fn the_plan_view_scrolls_with_j_k_and_page_keys_to_the_diff_below() {
    let (_t, mut app) = demo();
    press(&mut app, key('d'));
    let top = screen(&mut app, 80, 24);
    assert!(top.contains("ingest would (nothing changes now):"), "{top}");
    assert!(
        !top.contains("push would commit:"),
        "the plan fills the view: {top}"
    );
    assert!(top.contains("lines 1-16 of "), "{top}");
    press(&mut app, key('j'));
    assert!(screen(&mut app, 80, 24).contains("lines 2-17 of "));
    press(&mut app, key('k'));
    press(&mut app, key('k'));
    assert!(
        screen(&mut app, 80, 24).contains("lines 1-16 of "),
        "not above the top"
    );
    for _ in 0..20 {
        press(&mut app, code(KeyCode::PageDown));
    }
    let bottom = screen(&mut app, 80, 24);
    assert!(
        bottom.contains("push would commit:") && bottom.contains("nothing to commit"),
        "{bottom}"
    );
    insta::assert_snapshot!("plan_scrolled_to_the_end_80x24", bottom);
    press(&mut app, code(KeyCode::PageUp));
    press(&mut app, key('k'));
    assert_ne!(screen(&mut app, 80, 24), bottom, "back up");
    // A bigger terminal shows more lines per page.
    press(&mut app, Msg::Resize(160, 48));
    for _ in 0..20 {
        press(&mut app, code(KeyCode::PageUp));
    }
    assert!(screen(&mut app, 160, 48).contains("lines 1-40 of "));
    press(&mut app, key('q'));
    assert!(
        app.mode.plan().is_none() && !app.quit,
        "q closes the view first"
    );
}

#[test]
fn a_fabric_folder_removed_while_the_dashboard_runs_shows_gone_and_refuses_actions() {
    let (t, mut app) = demo();
    let root = app.fabrics[0].root.clone();
    let away = t.path().join("moved-away");
    std::fs::rename(&root, &away).unwrap();
    press(&mut app, Msg::Changed(0, false));
    let f = &app.fabrics[0];
    assert!(f.gone && !app.watching[0]);
    assert_eq!(f.name, "dc1-leaf-spine", "still named as it was");
    let s = screen(&mut app, 80, 24);
    assert!(
        s.contains(" gone") && !s.contains("(empty: drop YAML"),
        "{s}"
    );
    assert!(s.contains("is gone"), "{s}");
    press(&mut app, key('i'));
    assert!(app.mode.confirm().is_none());
    let last = app.log.back().cloned().unwrap_or_default();
    assert!(last.contains("dc1-leaf-spine is gone"), "{last}");
    // Back again: shown as before.
    std::fs::rename(&away, &root).unwrap();
    press(&mut app, Msg::Changed(0, false));
    assert!(!app.fabrics[0].gone);
    assert!(screen(&mut app, 80, 24).contains("namespaces.yaml"));
}

#[test]
fn a_signal_ends_the_dashboard_at_once_and_the_log_names_any_edits_it_dropped() {
    let (_t, mut app) = demo();
    select(&mut app, 0, "raw/namespaces.yaml");
    press(&mut app, key('e'));
    press(&mut app, key('x'));
    press(
        &mut app,
        Msg::Signal(crate::cli::tui::app::Stop::Terminated),
    );
    assert!(app.quit);
    assert_eq!(app.stopped, Some(crate::cli::tui::app::Stop::Terminated));
    let last = app.log.back().cloned().unwrap_or_default();
    assert!(
        last.contains("unsaved changes to raw/namespaces.yaml"),
        "{last}"
    );
}
