//! Lists that scale, and the three trees in plain words: paging by a real page, Home/End and
//! g/G, the fabrics pane scrolling with its selection, the selected row always drawn, the
//! selection staying on its file across rescans, the filter (smart case, per fabric, in the
//! title), the mouse, the trees always listed with their counts, Esc on every overlay, Tab
//! and Shift-Tab in screen order.

use crossterm::event::{KeyCode, KeyModifiers, MouseButton, MouseEvent, MouseEventKind};

use super::*;
use crate::cli::tui::app::{Msg, Pane};
use crate::cli::tui::mode::Mode;
use fgd::inspect;

#[test]
fn page_down_moves_a_page_and_home_end_g_and_shift_g_go_to_the_ends() {
    let (_t, mut app) = demo();
    with_a_hundred_thousand_managed_files(&mut app);
    screen(&mut app, 80, 24);
    let page = app.tree_height() - 1;
    let first = app.sel_row;
    press(&mut app, code(KeyCode::PageDown));
    assert_eq!(app.sel_row, first + page, "a page of rows, not 10");
    press(&mut app, key('G'));
    assert_eq!(selected(&app), Some("managed/vpcs/v099999.yaml"));
    // The selected row is drawn, at the end of the list too.
    let s = screen(&mut app, 80, 24);
    assert!(
        s.contains("v099999.yaml") && s.contains("100000/100000"),
        "{s}"
    );
    press(&mut app, code(KeyCode::Home));
    assert_eq!(selected(&app), Some("managed/vpcs/v000000.yaml"));
    press(&mut app, code(KeyCode::End));
    press(&mut app, key('g'));
    assert_eq!(selected(&app), Some("managed/vpcs/v000000.yaml"));
    // 47,500 files away is one key, not 4,750.
    press(&mut app, code(KeyCode::PageUp));
    assert_eq!(selected(&app), Some("managed/vpcs/v000000.yaml"));
}

#[test]
fn the_fabrics_pane_scrolls_with_its_selection() {
    let t = tempfile::tempdir().unwrap();
    let mut roots = Vec::new();
    for i in 0..8 {
        let root = t.path().join(format!("fab-{i}"));
        fgd::fabric::init(&root, None).unwrap();
        roots.push(inspect::scan(&root));
    }
    let mut app = App::new(t.path().to_path_buf(), roots, false);
    detail_now(&mut app);
    screen(&mut app, 80, 24);
    press(&mut app, code(KeyCode::BackTab));
    assert_eq!(app.pane, Pane::Fabrics);
    press(&mut app, key('G'));
    assert_eq!(app.fabric_sel, 7);
    let s = screen(&mut app, 80, 24);
    assert!(s.contains("▸ fab-7") && s.contains("fabrics 8/8"), "{s}");
    assert!(!s.contains("fab-0"), "scrolled: {s}");
    press(&mut app, key('g'));
    let s = screen(&mut app, 80, 24);
    assert!(s.contains("▸ fab-0"), "{s}");
}

#[test]
fn the_selection_stays_on_its_file_when_a_rescan_adds_one_before_it() {
    let (_t, mut app) = demo();
    select(&mut app, 0, "raw/vpcs/tenant-b.yaml");
    let root = app.fabrics[0].root.clone();
    std::fs::write(root.join("raw/aaa.yaml"), "kind: VPC\n").unwrap();
    press(&mut app, Msg::Changed(0, true));
    assert_eq!(selected(&app), Some("raw/vpcs/tenant-b.yaml"));
    // Its file gone, it stays where it was, on the next file.
    std::fs::remove_file(root.join("raw/vpcs/tenant-b.yaml")).unwrap();
    press(&mut app, Msg::Changed(0, true));
    assert_eq!(selected(&app), Some("raw/wiring/connections.yaml"));
}

#[test]
fn the_filter_is_smart_case_per_fabric_and_shown_in_the_title() {
    let (_t, mut app) = demo();
    app.select_fabric(2);
    press(&mut app, key('/'));
    type_text(&mut app, "tenant\n");
    assert_eq!(
        listed(&app),
        ["raw/production-tenant.yaml", "raw/tenant-blue.yaml"]
    );
    press(&mut app, key('/'));
    for _ in 0..6 {
        press(&mut app, code(KeyCode::Backspace));
    }
    type_text(&mut app, "Tenant\n");
    assert!(listed(&app).is_empty(), "{:?}", listed(&app));
    let s = screen(&mut app, 80, 24);
    assert!(s.contains("filter \"Tenant\""), "{s}");
    assert!(s.contains("none shown: / changes the filter"), "{s}");
    assert!(!s.contains("drop YAML into raw/"), "{s}");
    // The other fabrics keep their own (none).
    app.select_fabric(0);
    assert_eq!(listed(&app).len(), 6);
    app.select_fabric(2);
    assert!(listed(&app).is_empty());
    press(&mut app, key('/'));
    for _ in 0..6 {
        press(&mut app, code(KeyCode::Backspace));
    }
    press(&mut app, code(KeyCode::Enter));
    assert_eq!(listed(&app).len(), 12);
}

fn mouse(kind: MouseEventKind, column: u16, row: u16) -> Msg {
    Msg::Mouse(MouseEvent {
        kind,
        column,
        row,
        modifiers: KeyModifiers::NONE,
    })
}

#[test]
fn the_wheel_scrolls_the_pane_under_the_pointer_and_a_click_selects() {
    let (_t, mut app) = demo();
    screen(&mut app, 160, 48);
    let a = crate::cli::tui::view::areas(160, 48).unwrap();
    // A click on the third fabric.
    press(
        &mut app,
        mouse(
            MouseEventKind::Down(MouseButton::Left),
            a.fabrics.x + 3,
            a.fabrics.y + 1 + 2 * 4,
        ),
    );
    assert_eq!((app.fabric_sel, app.pane), (2, Pane::Fabrics));
    // The wheel over the tree moves its selection, wherever the focus is.
    let before = app.sel_row;
    press(
        &mut app,
        mouse(MouseEventKind::ScrollDown, a.tree.x + 3, a.tree.y + 3),
    );
    assert_eq!(app.sel_row, before + 3);
    assert_eq!(app.pane, Pane::Fabrics);
    // A click on a file row selects it.
    press(
        &mut app,
        mouse(
            MouseEventKind::Down(MouseButton::Left),
            a.tree.x + 5,
            a.tree.y + 1 + 4,
        ),
    );
    assert_eq!(selected(&app), Some("raw/lab-vpcs.yaml"));
    assert_eq!(app.pane, Pane::Tree);
    // The wheel over the detail scrolls it.
    press(
        &mut app,
        mouse(MouseEventKind::ScrollDown, a.detail.x + 3, a.detail.y + 3),
    );
    assert_eq!(app.detail_scroll, 3);
}

#[test]
fn all_three_trees_are_listed_with_their_counts_empty_or_not() {
    let (_t, mut app) = demo();
    let s = screen(&mut app, 80, 24);
    assert!(s.contains("raw/ (6 files)"), "{s}");
    assert!(s.contains("raw 6  managed 0"), "counts spelled out: {s}");
    assert!(s.contains("unmanaged 0  ✗ 0"), "counts spelled out: {s}");
    assert!(!s.contains(" man ") && !s.contains("bad "), "{s}");
    let s = screen(&mut app, 160, 48);
    assert!(
        s.contains("managed/ (empty)") && s.contains("unmanaged/ (empty)"),
        "{s}"
    );
    app.select_fabric(2);
    press(&mut app, key('i'));
    press(&mut app, key('y'));
    let s = screen(&mut app, 160, 48);
    assert!(
        s.contains("raw/ (empty)")
            && s.contains("managed/ (11 files)")
            && s.contains("unmanaged/ (12 items)"),
        "{s}"
    );
}

#[test]
fn esc_closes_every_overlay_and_nothing_acts_under_the_help() {
    let (_t, mut app) = demo();
    select(&mut app, 2, "raw/lab-vpcs.yaml");
    type Open = fn(&mut App);
    let opens: [(&str, Open); 7] = [
        ("help", |a| press(a, key('?'))),
        ("confirm", |a| press(a, key('i'))),
        ("filter prompt", |a| press(a, key('/'))),
        ("command line", |a| press(a, key(':'))),
        ("plan", |a| press(a, key('d'))),
        ("zoom", |a| press(a, key('z'))),
        ("editor", |a| press(a, key('e'))),
    ];
    for (what, open) in opens {
        open(&mut app);
        assert!(!matches!(app.mode, Mode::Browse), "{what} opened");
        press(&mut app, code(KeyCode::Esc));
        assert!(matches!(app.mode, Mode::Browse), "Esc closes the {what}");
    }
    // Help over the zoom: Esc gives the zoom back; keys under the help do nothing.
    press(&mut app, key('z'));
    press(&mut app, key('?'));
    press(&mut app, key('i'));
    assert!(app.mode.confirm().is_none() && app.job.is_none());
    press(&mut app, code(KeyCode::Esc));
    assert!(matches!(app.mode, Mode::Zoom));
}

#[test]
fn tab_and_shift_tab_cycle_the_panes_in_screen_order() {
    let (_t, mut app) = demo();
    assert_eq!(app.pane, Pane::Tree);
    let mut order = Vec::new();
    for _ in 0..3 {
        press(&mut app, code(KeyCode::Tab));
        order.push(app.pane);
    }
    assert_eq!(order, [Pane::Detail, Pane::Fabrics, Pane::Tree]);
    press(&mut app, code(KeyCode::BackTab));
    assert_eq!(app.pane, Pane::Fabrics);
    // The focused pane is marked without colour: a heavy border and an arrow.
    let s = screen(&mut app, 80, 24);
    assert!(s.contains("┏ ▶ fabrics"), "{s}");
}

#[test]
fn the_footer_and_help_are_per_mode() {
    let (_t, mut app) = demo();
    let s = screen(&mut app, 80, 24);
    let footer = s.lines().last().unwrap().to_string();
    assert!(
        footer.contains("n next-problem") && footer.contains("e edit"),
        "{footer}"
    );
    press(&mut app, key('z'));
    let s = screen(&mut app, 80, 24);
    let footer = s.lines().last().unwrap().to_string();
    assert!(
        footer.contains("/ search") && footer.contains("esc close"),
        "{footer}"
    );
    assert!(!footer.contains("ingest"), "{footer}");
    press(&mut app, key('?'));
    let s = screen(&mut app, 80, 24);
    assert!(s.contains("keys of zoom") && !s.contains(" ingest "), "{s}");
}
