//! Problems first: `n`/`N` through every problem, the problems-only list, the detail that
//! leads with the problems and the source around the selected one, and the detail as a main
//! panel that scrolls, searches and zooms.

use crossterm::event::KeyCode;

use super::*;
use crate::cli::tui::app::{Msg, Pane};
use crate::cli::tui::mode::Mode;
use fgd::inspect::FileState;

/// The file `n` stands on, and which of its problems.
fn at(app: &App) -> (String, usize) {
    (selected(app).unwrap_or("").to_string(), app.problem)
}

#[test]
fn n_and_shift_n_walk_every_problem_across_files_and_fabrics_and_round() {
    let (_t, mut app) = demo();
    // dc1-leaf-spine has none: the first n goes on to lab-broken's first.
    press(&mut app, key('n'));
    assert_eq!(app.fabric_sel, 2);
    assert_eq!(at(&app), ("raw/agent-leaf-01.yaml".into(), 0));
    let mut seen = vec![at(&app)];
    loop {
        press(&mut app, key('n'));
        if at(&app) == seen[0] {
            break;
        }
        seen.push(at(&app));
        assert!(seen.len() < 50, "n never came round: {seen:?}");
    }
    // Each problem document of a file is its own stop: lab-wiring has two.
    let wiring: Vec<usize> = seen
        .iter()
        .filter(|(f, _)| f == "raw/lab-wiring.yaml")
        .map(|(_, k)| *k)
        .collect();
    assert_eq!(wiring, [0, 1], "{seen:?}");
    let files: Vec<&str> = seen.iter().map(|(f, _)| f.as_str()).collect();
    assert_eq!(files[3], "raw/lab-vpcs.yaml", "{files:?}");
    assert!(
        !files.contains(&"raw/namespaces.yaml"),
        "a valid file is no stop"
    );
    assert_eq!(
        seen.len(),
        12,
        "11 unmanaged documents and 1 empty file: {seen:?}"
    );
    // N goes back the same way.
    press(&mut app, key('N'));
    assert_eq!(at(&app), seen[seen.len() - 1]);
    press(&mut app, key('N'));
    assert_eq!(at(&app), seen[seen.len() - 2]);
}

#[test]
fn the_second_problem_of_a_file_is_selected_in_its_detail_with_its_source() {
    let (_t, mut app) = demo();
    select(&mut app, 2, "raw/lab-wiring.yaml");
    while at(&app) != ("raw/lab-wiring.yaml".into(), 1) {
        press(&mut app, key('n'));
    }
    let d = app.detail.clone().unwrap();
    assert_eq!(d.problems.len(), 2);
    assert_eq!(app.detail_problem, 1);
    let doc = app.detail_doc();
    let text: Vec<String> = doc.lines.iter().map(|l| l.text()).collect();
    let head = &text[doc.anchors[1]];
    assert!(head.starts_with("▶ ✗ error 64:1"), "{head}");
    // The source around it follows the selected problem, not the first.
    let around = &text[doc.anchors[1]..doc.anchors[1] + 8].join("\n");
    assert!(around.contains("✗ 64 │ apiVersion: v1"), "{around}");
    assert!(!text[doc.anchors[0]..doc.anchors[1]]
        .iter()
        .any(|l| l.contains(" 6 │")));
    // Scrolled so that the selected problem is in view.
    assert!(app.detail_scroll <= doc.anchors[1] && doc.anchors[1] < app.detail_scroll + 3);
}

#[test]
fn problems_only_lists_just_the_files_that_need_the_operator() {
    let (_t, mut app) = demo();
    app.select_fabric(2);
    press(&mut app, key('p'));
    let shown = listed(&app);
    assert_eq!(shown.len(), 11, "{shown:?}");
    assert!(!shown.contains(&"raw/namespaces.yaml".to_string()));
    let s = screen(&mut app, 80, 24);
    assert!(s.contains("problems only"), "{s}");
    // Another fabric has its own list; coming back keeps this one's.
    app.select_fabric(0);
    assert_eq!(listed(&app).len(), 6);
    app.select_fabric(2);
    assert_eq!(listed(&app).len(), 11);
    press(&mut app, key('p'));
    assert_eq!(listed(&app).len(), 12);
}

/// A 150-document file whose one problem is in its last document, at line 755 (the fabric
/// checks only the envelope: its VPCs have no spec).
fn with_a_long_file(app: &mut App) {
    let root = app.fabrics[0].root.clone();
    std::fs::write(root.join(".hnp/validation.toml"), "rules = \"envelope\"\n").unwrap();
    let mut text = String::new();
    for i in 0..150 {
        text.push_str(&format!(
            "---\napiVersion: vpc.githedgehog.com/v1beta1\nkind: VPC\nmetadata:\n  name: v{i}\n"
        ));
    }
    text.push_str(
        "---\napiVersion: vpc.githedgehog.com/v1beta1\nkind: VPC\nmetadata:\n  name: Tenant_Z\n",
    );
    std::fs::write(root.join("raw/many.yaml"), text).unwrap();
    press(app, Msg::Changed(0, true));
}

#[test]
fn a_problem_at_the_end_of_a_long_file_is_shown_first_in_full_and_zoomed() {
    let (_t, mut app) = demo();
    with_a_long_file(&mut app);
    // The selection is on namespaces.yaml, after many.yaml: N goes back to it.
    press(&mut app, key('N'));
    assert_eq!(selected(&app), Some("raw/many.yaml"));
    for (w, h) in [(80, 24), (160, 48)] {
        let s = screen(&mut app, w, h);
        assert!(s.contains("755:3") && s.contains("Tenant_Z"), "{s}");
        insta::assert_snapshot!(format!("long_file_problem_{w}x{h}"), s);
    }
    // The message wraps: every word of it is on the screen, none cut.
    let d = app.detail.clone().unwrap();
    let msg = &d.problems[0].message;
    let s = screen(&mut app, 80, 24);
    let flat: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
    for word in msg.split_whitespace() {
        assert!(flat.contains(word), "{word:?} missing:\n{s}");
    }
    press(&mut app, key('z'));
    assert!(matches!(app.mode, Mode::Zoom));
    for (w, h) in [(80, 24), (160, 48)] {
        insta::assert_snapshot!(format!("long_file_zoomed_{w}x{h}"), screen(&mut app, w, h));
    }
    press(&mut app, code(KeyCode::Esc));
    assert!(matches!(app.mode, Mode::Browse));
}

#[test]
fn the_focused_detail_scrolls_pages_and_searches_and_the_zoom_too() {
    let (_t, mut app) = demo();
    with_a_long_file(&mut app);
    select(&mut app, 0, "raw/many.yaml");
    screen(&mut app, 80, 24);
    press(&mut app, code(KeyCode::Tab));
    assert_eq!(app.pane, Pane::Detail);
    let len = app.detail_doc().lines.len();
    let page = app.detail_height();
    press(&mut app, key('j'));
    assert_eq!(app.detail_scroll, 1);
    press(&mut app, code(KeyCode::PageDown));
    assert_eq!(app.detail_scroll, page);
    press(&mut app, key('G'));
    assert_eq!(app.detail_scroll, len - page);
    press(&mut app, key('g'));
    assert_eq!(app.detail_scroll, 0);
    // / in the detail searches it (smart case), not the tree.
    press(&mut app, key('/'));
    type_text(&mut app, "v149\n");
    assert_eq!(app.search.as_deref(), Some("v149"));
    assert_eq!(listed(&app).len(), 7, "the tree is not filtered");
    let doc = app.detail_doc();
    let hit = doc.lines[app.detail_scroll].text();
    assert!(hit.contains("v149"), "{hit}");
    let s = screen(&mut app, 80, 24);
    assert!(s.contains("search \"v149\""), "{s}");
    // Zoomed, n and N go from match to match while a search is on; Esc ends the search,
    // then the zoom.
    press(&mut app, key('z'));
    press(&mut app, key('/'));
    type_text(&mut app, "name: v1\n");
    let first = app.detail_scroll;
    press(&mut app, key('n'));
    assert!(app.detail_scroll > first, "{first} {}", app.detail_scroll);
    press(&mut app, key('N'));
    assert_eq!(app.detail_scroll, first);
    press(&mut app, code(KeyCode::Esc));
    assert!(app.search.is_none() && matches!(app.mode, Mode::Zoom));
    press(&mut app, code(KeyCode::Esc));
    assert!(matches!(app.mode, Mode::Browse));
}

#[test]
fn a_fixed_unmanaged_item_turns_valid_and_says_adopt_takes_it_back() {
    let (_t, mut app) = demo();
    app.select_fabric(2);
    press(&mut app, key('i'));
    press(&mut app, key('y'));
    let item = "unmanaged/tenant-blue.yaml.unmanaged";
    select(&mut app, 2, item);
    assert_eq!(
        app.selected_file().map(|f| f.state),
        Some(FileState::Invalid)
    );
    let path = app.fabrics[2].root.join(item);
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, text.replace("TenantBlue", "tenant-blue")).unwrap();
    press(&mut app, Msg::Changed(2, true));
    let f = app.selected_file().unwrap();
    assert_eq!(f.state, FileState::Valid, "{f:?}");
    assert!(
        f.note.as_deref().is_some_and(|n| n.contains("adopt")),
        "{f:?}"
    );
}
