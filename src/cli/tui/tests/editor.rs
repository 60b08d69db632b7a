use crossterm::event::KeyCode;

use super::*;
use crate::cli::tui::app::{Effect, Msg};
use fgd::inspect::{FileReport, FileState, Rule};

/// The demo's lab-vpcs.yaml, from a fresh `fgd demo`, fixed within the key budget: four
/// `n` to reach its problem (across fabrics), `e` opens the editor on the error's line and
/// column, a space fixes the indentation, Ctrl-S saves, Esc leaves.
#[test]
fn the_demo_s_broken_file_is_fixed_in_eight_keys_and_turns_valid() {
    let (_t, mut app) = demo();
    let keys = [
        key('n'),
        key('n'),
        key('n'),
        key('n'),
        key('e'),
        key(' '),
        ctrl('s'),
        code(KeyCode::Esc),
    ];
    let budget = keys.len();
    let mut keys = keys.into_iter();
    for k in keys.by_ref().take(4) {
        press(&mut app, k);
    }
    assert_eq!(selected(&app), Some("raw/lab-vpcs.yaml"));
    press(&mut app, keys.next().unwrap());
    let ed = app.editor().expect("the editor is open");
    let lines: Vec<usize> = ed.report.problems.iter().map(|p| p.line).collect();
    assert_eq!(lines, [22], "{:?}", ed.report.problems);
    assert_eq!(ed.report.problems[0].rule.as_str(), "yaml-syntax");
    assert_eq!(
        (ed.cursor_line(), ed.area.cursor().1 + 1),
        (22, 6),
        "at the problem's line and column"
    );
    insta::assert_snapshot!("editor_at_the_error_80x24", screen(&mut app, 80, 24));
    insta::assert_snapshot!("editor_at_the_error_160x48", screen(&mut app, 160, 48));
    press(&mut app, keys.next().unwrap());
    let ed = app.editor().unwrap();
    assert!(ed.dirty);
    assert!(
        ed.report.problems.is_empty() && ed.report.documents.len() == 3,
        "valid while typing: {:?}",
        ed.report
    );
    press(&mut app, keys.next().unwrap());
    let root = app.fabrics[2].root.clone();
    let saved = std::fs::read_to_string(root.join("raw/lab-vpcs.yaml")).unwrap();
    assert!(saved.contains("\n      vlan: 1202\n"), "saved with the fix");
    let dir: Vec<_> = std::fs::read_dir(root.join("raw"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert!(
        !dir.iter()
            .any(|n| n.to_string_lossy().starts_with(".fgd-tmp")),
        "atomic save leaves no temp"
    );
    press(&mut app, keys.next().unwrap());
    assert!(app.editor().is_none());
    assert_eq!(budget, 8);
    // The watcher's rescan after the save: the tree turns the file valid.
    press(&mut app, Msg::Changed(2, false));
    assert_eq!(selected(&app), Some("raw/lab-vpcs.yaml"));
    assert_eq!(app.selected_file().map(|f| f.state), Some(FileState::Valid));
}

#[test]
fn in_the_editor_goto_line_search_and_the_next_problem_move_the_cursor() {
    let (_t, mut app) = demo();
    select(&mut app, 2, "raw/lab-wiring.yaml");
    press(&mut app, key('e'));
    let first = app.editor().unwrap().report.problems[0].line;
    assert_eq!(app.editor().unwrap().cursor_line(), first);
    // Ctrl-N: the next problem, then round to the first again.
    press(&mut app, ctrl('n'));
    let second = app.editor().unwrap().report.problems[1].line;
    assert_eq!(app.editor().unwrap().cursor_line(), second);
    press(&mut app, ctrl('n'));
    assert_eq!(app.editor().unwrap().cursor_line(), first);
    // Ctrl-G 11 Enter: line 11.
    press(&mut app, ctrl('g'));
    type_text(&mut app, "11\n");
    assert_eq!(app.editor().unwrap().cursor_line(), 11);
    press(&mut app, ctrl('g'));
    type_text(&mut app, "x\n");
    assert!(
        status(&app).contains("not a line number"),
        "{}",
        status(&app)
    );
    // Ctrl-F, smart case: "configmap" finds "ConfigMap".
    press(&mut app, ctrl('f'));
    type_text(&mut app, "configmap\n");
    let ed = app.editor().unwrap();
    let line = ed.area.lines()[ed.cursor_line() - 1].clone();
    assert!(line.contains("ConfigMap"), "{line}");
    // The verdicts follow the cursor: its document is the one marked.
    let here = ed.report.document_at(ed.cursor_line()).map(|d| d.number);
    assert_eq!(here, Some(7));
    let s = screen(&mut app, 160, 48);
    assert!(
        s.lines().any(|l| l.contains("▶✗ doc 7")),
        "the cursor's document is marked:\n{s}"
    );
    // The footer and help are the editor's.
    assert!(
        s.contains("ctrl-s save") && s.contains("ctrl-g goto-line"),
        "{s}"
    );
    press(&mut app, code(KeyCode::F(1)));
    let help = screen(&mut app, 160, 48);
    assert!(
        help.contains("keys of editor") && help.contains("goto-line"),
        "{help}"
    );
    press(&mut app, code(KeyCode::Esc));
    assert!(
        app.editor().is_some(),
        "Esc closed the help, not the editor"
    );
}

#[test]
fn a_tab_shows_as_an_arrow_in_the_editor_and_the_detail_and_its_problem_says_so() {
    let (_t, mut app) = demo();
    select(&mut app, 2, "raw/tabs.yaml");
    let d = app.detail.clone().unwrap();
    assert!(
        d.problems[0]
            .hint
            .as_deref()
            .is_some_and(|h| h.contains("tab")),
        "{:?}",
        d.problems
    );
    let s = screen(&mut app, 160, 48);
    assert!(s.contains("✗ 7 │ →name: server-03"), "{s}");
    assert!(s.contains("hint: this line holds a tab"), "{s}");
    press(&mut app, key('e'));
    assert_eq!(app.editor().unwrap().cursor_line(), 7);
    let s = screen(&mut app, 160, 48);
    // The tab is four columns wide in the text; its first shows the arrow.
    assert!(s.contains("✗ 7 →   name: server-03"), "{s}");
}

/// `$VISUAL` stands in for the operator's editor: a script that records how it was called and
/// fixes the file.
#[test]
fn e_hands_the_file_to_visual_at_the_problem_line_and_it_is_validated_again() {
    let (t, mut app) = demo();
    let calls = t.path().join("calls.txt");
    let script = t.path().join("fake-editor.sh");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\necho \"$@\" > {}\nsed -i 's/^     vlan: 1202/      vlan: 1202/' \"$2\"\n",
            calls.display()
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    // SAFETY (of the test): no other test reads VISUAL.
    std::env::set_var("VISUAL", &script);
    select(&mut app, 2, "raw/lab-vpcs.yaml");
    let effects = app.update(key('E'));
    let [Effect::External { line, rel, .. }] = effects.as_slice() else {
        panic!("{effects:?}")
    };
    assert_eq!((*line, rel.as_str()), (22, "raw/lab-vpcs.yaml"));
    run_effects(&mut app, effects);
    std::env::remove_var("VISUAL");
    let called = std::fs::read_to_string(&calls).unwrap();
    assert!(
        called.starts_with("+22 ") && called.trim_end().ends_with("raw/lab-vpcs.yaml"),
        "{called}"
    );
    assert_eq!(app.selected_file().map(|f| f.state), Some(FileState::Valid));
    assert!(app
        .log
        .iter()
        .any(|l| l.contains("edited raw/lab-vpcs.yaml")));
    // From the built-in editor, Ctrl-O hands it over too, but not with unsaved edits.
    select(&mut app, 2, "raw/tabs.yaml");
    press(&mut app, key('e'));
    press(&mut app, key('#'));
    let effects = app.update(ctrl('o'));
    assert!(effects.is_empty() && status(&app).contains("unsaved changes"));
}

#[test]
fn leaving_the_editor_with_unsaved_changes_asks_first() {
    let (_t, mut app) = demo();
    select(&mut app, 0, "raw/namespaces.yaml");
    press(&mut app, key('e'));
    press(&mut app, key('x'));
    press(&mut app, code(KeyCode::Esc));
    assert!(app.editor().is_some_and(|e| e.status.contains("unsaved")));
    press(&mut app, code(KeyCode::Esc));
    assert!(app.editor().is_none());
    let text = std::fs::read_to_string(app.fabrics[0].root.join("raw/namespaces.yaml")).unwrap();
    assert!(!text.starts_with('x'), "discarded, not written");
}

#[test]
fn editor_validation_runs_off_the_key_path_and_a_stale_result_is_dropped() {
    let (_t, mut app) = demo();
    select(&mut app, 2, "raw/lab-vpcs.yaml");
    press(&mut app, key('e'));
    let before = app.editor().unwrap().report.clone();
    // A key press asks for a validation instead of running one.
    let effects = app.update(key('#'));
    let [Effect::Validate { seq: first, .. }] = effects.as_slice() else {
        panic!("{effects:?}")
    };
    let first = *first;
    let effects = app.update(key('#'));
    let [Effect::Validate { seq: second, .. }] = effects.as_slice() else {
        panic!("{effects:?}")
    };
    assert!(*second > first);
    assert!(screen(&mut app, 160, 48).contains("(checking...)"));
    // The newer result lands first; the older one, arriving late, is ignored.
    let noted = |n: &str| {
        Box::new(FileReport {
            notes: vec![n.to_string()],
            ..Default::default()
        })
    };
    app.update(Msg::Validated {
        seq: *second,
        report: noted("newest"),
    });
    app.update(Msg::Validated {
        seq: first,
        report: noted("stale"),
    });
    let ed = app.editor().unwrap();
    assert_eq!(ed.report.notes, ["newest"]);
    assert_ne!(ed.report, before);
    assert!(!screen(&mut app, 160, 48).contains("(checking...)"));
}

#[test]
fn a_managed_file_that_would_not_be_managed_as_typed_is_not_saved_and_the_text_stays() {
    let (_t, mut app, path, before) = editing_a_managed_file();
    // One stray character before the first line: no longer an object kustomize reads.
    press(&mut app, key('Z'));
    let ed = app.editor().unwrap();
    assert!(
        ed.report
            .problems
            .iter()
            .any(|p| p.rule == Rule::ManagedFile),
        "the live pane says so before Ctrl-S: {:?}",
        ed.report.problems
    );
    press(&mut app, ctrl('s'));
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        before,
        "not written"
    );
    let ed = app.editor().expect("the editor stays open");
    assert!(
        ed.dirty && ed.area.lines()[0].starts_with("ZapiVersion"),
        "{:?}",
        ed.area.lines()
    );
    let s = status(&app);
    assert!(s.starts_with("NOT saved: managed/ holds"), "{s}");
    insta::assert_snapshot!("editor_managed_refused_160x48", screen(&mut app, 160, 48));
}

#[test]
fn a_managed_object_renamed_in_the_editor_is_not_saved_under_its_old_path() {
    let (_t, mut app, path, before) = editing_a_managed_file();
    let line = before
        .lines()
        .position(|l| l.starts_with("  name: "))
        .unwrap()
        + 1;
    to_end_of_line(&mut app, line);
    type_text(&mut app, "-x");
    press(&mut app, ctrl('s'));
    assert_eq!(std::fs::read_to_string(&path).unwrap(), before);
    let s = status(&app);
    assert!(
        s.contains("Connection/server-03--unbundled--leaf-01-x")
            && s.contains("managed/connections/server-03--unbundled--leaf-01-x.yaml"),
        "names the object and where it belongs: {s}"
    );
}

#[test]
fn a_second_object_in_a_managed_file_is_not_saved() {
    let (_t, mut app, path, before) = editing_a_managed_file();
    to_end_of_line(&mut app, before.lines().count());
    type_text(
        &mut app,
        "\n---\napiVersion: vpc.githedgehog.com/v1beta1\nkind: VPC\nmetadata:\n  name: stowaway\nspec: {}",
    );
    press(&mut app, ctrl('s'));
    assert_eq!(std::fs::read_to_string(&path).unwrap(), before);
    assert!(status(&app).starts_with("NOT saved"), "{}", status(&app));
}

#[test]
fn a_managed_file_edited_into_another_valid_object_at_the_same_path_saves() {
    let (_t, mut app, path, before) = editing_a_managed_file();
    let line = before
        .lines()
        .position(|l| l.contains("port: leaf-01/E1/3"))
        .unwrap()
        + 1;
    to_end_of_line(&mut app, line);
    press(&mut app, code(KeyCode::Backspace));
    type_text(&mut app, "4");
    press(&mut app, ctrl('s'));
    assert_eq!(status(&app), format!("saved {MCLAG}"));
    let after = std::fs::read_to_string(&path).unwrap();
    assert_eq!(after, before.replace("leaf-01/E1/3", "leaf-01/E1/4"));
}

#[test]
fn saving_an_untouched_buffer_writes_the_file_s_own_bytes_back() {
    for (name, bytes) in [
        ("crlf-no-final-newline.yaml", VPC_CRLF.to_vec()),
        ("crlf.yaml", [VPC_CRLF, b"\r\n"].concat()),
        (
            "lf-no-final-newline.yaml",
            b"kind: VPC\nmetadata:\n  name: a".to_vec(),
        ),
        ("blank-lines-at-the-end.yaml", b"kind: VPC\n\n\n".to_vec()),
        ("empty.yaml", Vec::new()),
        ("only-a-newline.yaml", b"\n".to_vec()),
    ] {
        let (_t, mut app, path) = edit_raw_file(&bytes, name);
        press(&mut app, ctrl('s'));
        assert_eq!(status(&app), format!("saved raw/{name}"));
        assert_eq!(std::fs::read(&path).unwrap(), bytes, "{name}");
    }
}

#[test]
fn an_edit_to_a_crlf_file_keeps_crlf_line_breaks_and_no_final_newline() {
    let (_t, mut app, path) = edit_raw_file(VPC_CRLF, "crlf.yaml");
    to_end_of_line(&mut app, 4);
    type_text(&mut app, "-2");
    let ed = app.editor().unwrap();
    assert!(
        ed.report.documents[0].object.as_deref() == Some("VPC/crlf-2")
            && ed.report.problems.is_empty(),
        "validated as it will be written: {:?}",
        ed.report
    );
    press(&mut app, ctrl('s'));
    let want = String::from_utf8(VPC_CRLF.to_vec())
        .unwrap()
        .replace("crlf\r", "crlf-2\r");
    assert_eq!(
        String::from_utf8(std::fs::read(&path).unwrap()).unwrap(),
        want
    );
}

#[test]
fn a_file_that_is_not_utf8_opens_read_only_naming_the_byte_and_is_never_rewritten() {
    let latin1 = b"# owner: Jos\xe9 M\xfcller\napiVersion: vpc.githedgehog.com/v1beta1\nkind: VPC\nmetadata:\n  name: latin\nspec: {}\n";
    let (_t, mut app, path) = edit_raw_file(latin1, "latin1.yaml");
    let ed = app.editor().unwrap();
    let why = ed.read_only.clone().expect("read-only");
    assert!(
        why.contains("not UTF-8") && why.contains("0xE9") && why.contains("1:13"),
        "{why}"
    );
    assert!(
        ed.report
            .problems
            .iter()
            .any(|p| p.rule.as_str() == "encoding"),
        "the same verdict as fgd validate: {:?}",
        ed.report.problems
    );
    press(&mut app, key('x'));
    press(&mut app, code(KeyCode::Down));
    press(&mut app, ctrl('s'));
    let ed = app.editor().unwrap();
    assert!(!ed.dirty, "typing does not change a read-only text");
    assert!(ed.status.contains("read-only"), "{}", ed.status);
    assert_eq!(std::fs::read(&path).unwrap(), latin1);
    insta::assert_snapshot!("editor_read_only_80x24", screen(&mut app, 80, 24));
    press(&mut app, code(KeyCode::Esc));
    assert!(
        app.editor().is_none(),
        "Esc leaves at once: nothing to lose"
    );
}

#[test]
fn a_file_with_mixed_line_breaks_opens_read_only() {
    let (_t, mut app, path) = edit_raw_file(b"kind: VPC\r\nmetadata:\n  name: m\n", "mixed.yaml");
    let why = app.editor().unwrap().read_only.clone().expect("read-only");
    assert!(why.contains("mixed line breaks"), "{why}");
    press(&mut app, key('x'));
    press(&mut app, ctrl('s'));
    assert_eq!(
        std::fs::read(&path).unwrap(),
        b"kind: VPC\r\nmetadata:\n  name: m\n"
    );
}

#[test]
fn a_file_changed_on_disk_since_it_was_opened_is_overwritten_only_on_a_second_ctrl_s() {
    let (_t, mut app) = demo();
    select(&mut app, 0, "raw/namespaces.yaml");
    let path = app.fabrics[0].root.join("raw/namespaces.yaml");
    press(&mut app, key('e'));
    let theirs = format!(
        "{}# a colleague's line\n",
        std::fs::read_to_string(&path).unwrap()
    );
    std::fs::write(&path, &theirs).unwrap();
    press(&mut app, key('X'));
    press(&mut app, ctrl('s'));
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        theirs,
        "theirs is kept"
    );
    let s = status(&app);
    assert!(s.contains("changed on disk since you opened it"), "{s}");
    let ed = app.editor().unwrap();
    assert!(
        ed.dirty && ed.area.lines()[0].starts_with('X'),
        "ours is kept"
    );
    // Changed once more before the second Ctrl-S: asked again, not overwritten.
    let again = format!("{theirs}# and another\n");
    std::fs::write(&path, &again).unwrap();
    press(&mut app, ctrl('s'));
    assert_eq!(std::fs::read_to_string(&path).unwrap(), again);
    assert!(status(&app).contains("changed on disk"));
    // The second Ctrl-S on the same change overwrites it: the operator was told.
    press(&mut app, ctrl('s'));
    let ours = std::fs::read_to_string(&path).unwrap();
    assert!(
        ours.starts_with('X') && !ours.contains("colleague"),
        "{ours}"
    );
    assert!(status(&app).starts_with("saved"));
    // Saved, the file is ours again: the next save goes through at once.
    press(&mut app, key('Y'));
    press(&mut app, ctrl('s'));
    assert!(std::fs::read_to_string(&path).unwrap().starts_with("XY"));
}

#[test]
fn a_file_removed_on_disk_since_it_was_opened_is_not_silently_recreated() {
    let (_t, mut app) = demo();
    select(&mut app, 0, "raw/namespaces.yaml");
    let path = app.fabrics[0].root.join("raw/namespaces.yaml");
    press(&mut app, key('e'));
    std::fs::remove_file(&path).unwrap();
    press(&mut app, key('X'));
    press(&mut app, ctrl('s'));
    assert!(!path.exists());
    assert!(
        status(&app).contains("removed on disk since you opened it"),
        "{}",
        status(&app)
    );
    press(&mut app, ctrl('s'));
    assert!(path.exists());
}

#[test]
fn ctrl_c_in_an_editor_with_unsaved_changes_warns_once_then_leaves() {
    let (_t, mut app) = demo();
    select(&mut app, 0, "raw/namespaces.yaml");
    let path = app.fabrics[0].root.join("raw/namespaces.yaml");
    let before = std::fs::read(&path).unwrap();
    press(&mut app, key('e'));
    press(&mut app, key('x'));
    press(&mut app, ctrl('c'));
    assert!(!app.quit);
    let s = status(&app);
    assert!(
        s.contains("unsaved changes") && s.contains("Ctrl-C again"),
        "{s}"
    );
    // Another key in between: the next Ctrl-C warns again.
    press(&mut app, key('y'));
    press(&mut app, ctrl('c'));
    assert!(!app.quit);
    press(&mut app, ctrl('c'));
    assert!(app.quit);
    assert_eq!(std::fs::read(&path).unwrap(), before, "nothing saved");
    let last = app.log.back().cloned().unwrap_or_default();
    assert!(
        last.contains("left with unsaved changes to raw/namespaces.yaml"),
        "the log says what was dropped: {last}"
    );
}
