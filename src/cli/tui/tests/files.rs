use super::*;
use crate::cli::tui::app::{Effect, Msg};
use fgd::inspect::{self, FileState, Tree};

#[test]
fn every_file_s_detail_is_computed_off_the_key_path() {
    let (_t, mut app) = demo();
    let root = app.fabrics[0].root.clone();
    // Over the inline limit: a few thousand VPCs in one raw file.
    let big: String = (0..4000)
        .map(|i| format!("---\napiVersion: vpc.githedgehog.com/v1beta1\nkind: VPC\nmetadata:\n  name: v{i}\nspec: {{}}\n"))
        .collect();
    assert!(big.len() > 256 << 10);
    std::fs::write(root.join("raw/big.yaml"), &big).unwrap();
    press(&mut app, Msg::Changed(0, true));
    let row = row_of(&app, "raw/big.yaml").unwrap();
    app.select_row(row + 1);
    app.detail = None;
    // The key only asks for the detail; a placeholder shows until it arrives.
    let mut effects = app.update(key('k'));
    let d = app.detail.clone().unwrap();
    assert_eq!(d.rel, "raw/big.yaml");
    assert_eq!(d.notes, [crate::cli::tui::app::READING]);
    let Some(Effect::Detail { seq, root, entry }) = effects.pop() else {
        panic!("a background request")
    };
    // A result for an older selection is dropped; the current one lands.
    app.update(Msg::Detail(seq - 1, Box::default()));
    assert_eq!(
        app.detail.as_ref().unwrap().notes,
        [crate::cli::tui::app::READING]
    );
    app.update(Msg::Detail(
        seq,
        Box::new(inspect::file_report(&root, &entry)),
    ));
    let d = app.detail.clone().unwrap();
    assert_eq!(d.documents.len(), 4000, "{:?}", &d.documents[..3]);
    assert_eq!(d.documents[0].object.as_deref(), Some("VPC/v0"));
}

#[test]
fn an_unmanaged_item_shows_its_reason_file_with_problem_lines_marked() {
    let (_t, mut app) = demo();
    app.select_fabric(2);
    press(&mut app, key('i'));
    press(&mut app, key('y'));
    let rel = app.fabrics[2]
        .files
        .iter()
        .find(|f| f.tree == Tree::Unmanaged && f.rel.ends_with(".unmanaged"))
        .map(|f| f.rel.clone())
        .expect("lab-broken leaves unmanaged items");
    select(&mut app, 2, &rel);
    let d = app.detail.clone().unwrap();
    assert!(d.notes[0].starts_with("from raw/"), "{:?}", d.notes);
    assert!(d.notes.last().unwrap().starts_with("reason file: "));
    assert!(
        !d.problems.is_empty() && d.problems.iter().all(|p| p.line > 0),
        "the problems, each at its line: {:?}",
        d.problems
    );
}

#[test]
fn a_managed_file_broken_on_disk_shows_invalid_in_the_tree_and_its_detail() {
    let (_t, mut app) = demo();
    press(&mut app, key('i'));
    press(&mut app, key('y'));
    // Every file ingest wrote passes the same check the editor's save makes.
    assert!(
        app.fabrics[0]
            .files
            .iter()
            .filter(|f| f.tree == Tree::Managed)
            .all(|f| f.state == FileState::Valid),
        "{:?}",
        app.fabrics[0].files
    );
    assert_eq!(app.fabrics[0].counts.attention, 0);
    let path = app.fabrics[0].root.join(MCLAG);
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, format!("Z{text}")).unwrap();
    press(&mut app, Msg::Changed(0, true));
    select(&mut app, 0, MCLAG);
    let entry = app.selected_file().unwrap();
    assert_eq!(entry.state, FileState::Invalid);
    assert!(!entry.problems.is_empty());
    assert_eq!(app.fabrics[0].counts.attention, 1);
    let d = app.detail.clone().unwrap();
    assert_eq!(
        d.problems.first().map(|p| p.line),
        Some(1),
        "{:?}",
        d.problems
    );
    // The push question says so too.
    press(&mut app, key('P'));
    let q = app
        .mode
        .confirm()
        .map(|c| c.question.clone())
        .unwrap_or_default();
    assert!(q.contains("1 managed file(s) fail validation"), "{q}");
}

#[test]
fn a_rescan_rereads_only_managed_files_that_changed_and_sees_every_change() {
    let (_t, mut app) = demo();
    press(&mut app, key('i'));
    press(&mut app, key('y'));
    let root = app.fabrics[0].root.clone();
    let mut checks = inspect::ManagedChecks::default();
    let state = |v: &inspect::FabricState| {
        v.files
            .iter()
            .find(|f| f.rel == MCLAG)
            .map(|f| f.state)
            .unwrap()
    };
    assert_eq!(
        state(&inspect::scan_with(&root, &mut checks)),
        FileState::Valid
    );
    let path = root.join(MCLAG);
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, text.replace("kind: Connection", "kind: Connectio")).unwrap();
    assert_eq!(
        state(&inspect::scan_with(&root, &mut checks)),
        FileState::Invalid
    );
    std::fs::write(&path, &text).unwrap();
    assert_eq!(
        state(&inspect::scan_with(&root, &mut checks)),
        FileState::Valid
    );
}

#[test]
fn keys_only_ask_for_file_reads_which_the_runner_does_off_the_event_loop() {
    let (_t, mut app) = demo();
    // Moving to another file: a placeholder and a request, nothing read.
    let effects = app.update(key('j'));
    let d = app.detail.clone().unwrap();
    assert_eq!(d.notes, [crate::cli::tui::app::READING]);
    assert!(matches!(effects.as_slice(), [Effect::Detail { .. }]));
    // `e` asks for the file; the editor opens when it has been read.
    let effects = app.update(key('e'));
    let [Effect::Open { root, rel, at }] = effects.as_slice() else {
        panic!("{effects:?}")
    };
    assert!(app.editor().is_none());
    let opened = crate::cli::tui::editor::open_for_edit(root, rel, *at);
    app.update(Msg::Opened(opened));
    assert!(app.editor().is_some());
    // Ctrl-S asks for the write; the editor says so until it is done.
    app.update(key('x'));
    let effects = app.update(ctrl('s'));
    assert!(
        matches!(effects.as_slice(), [Effect::Save { .. }]),
        "{effects:?}"
    );
    assert!(status(&app).starts_with("saving "), "{}", status(&app));
    let effects = app.update(ctrl('s'));
    assert!(effects.is_empty());
    assert!(
        status(&app).contains("still being written"),
        "{}",
        status(&app)
    );
}

#[test]
fn a_fifo_is_never_opened_by_the_detail_the_editor_or_a_save() {
    within(60, || {
        let (_t, mut app) = demo();
        let root = app.fabrics[0].root.clone();
        mkfifo(&root.join("raw/0-pipe.yaml"));
        press(&mut app, Msg::Changed(0, true));
        select(&mut app, 0, "raw/0-pipe.yaml");
        let d = app.detail.clone().unwrap();
        assert!(
            d.notes
                .iter()
                .any(|f| f.contains("a FIFO, not a regular file")),
            "{:?}",
            d.notes
        );
        press(&mut app, key('e'));
        assert!(app.editor().is_none());
        let last = app.log.back().cloned().unwrap_or_default();
        assert!(
            last.starts_with("cannot open raw/0-pipe.yaml") && last.contains("FIFO"),
            "{last}"
        );
        // A file replaced by a FIFO while it is edited: the save neither reads nor replaces it.
        select(&mut app, 0, "raw/namespaces.yaml");
        press(&mut app, key('e'));
        assert!(app.editor().is_some());
        press(&mut app, key('x'));
        let path = root.join("raw/namespaces.yaml");
        std::fs::remove_file(&path).unwrap();
        mkfifo(&path);
        press(&mut app, ctrl('s'));
        let s = status(&app);
        assert!(
            s.starts_with("NOT saved: cannot read it back") && s.contains("FIFO"),
            "{s}"
        );
        use std::os::unix::fs::FileTypeExt;
        assert!(std::fs::symlink_metadata(&path)
            .unwrap()
            .file_type()
            .is_fifo());
        // A FIFO in managed/ is not read by a scan either.
        std::fs::create_dir_all(root.join("managed/vpcs")).unwrap();
        mkfifo(&root.join("managed/vpcs/pipe.yaml"));
        press(&mut app, Msg::Changed(0, true));
    });
}

#[test]
fn a_file_whose_name_is_not_utf8_is_named_as_such_and_no_action_takes_its_lossy_name() {
    use std::os::unix::ffi::OsStrExt;
    within(60, || {
        let (_t, mut app) = demo();
        let root = app.fabrics[0].root.clone();
        let name = std::ffi::OsStr::from_bytes(b"bad\xff\xfename.yaml");
        std::fs::write(root.join("raw").join(name), "kind: VPC\n").unwrap();
        press(&mut app, Msg::Changed(0, true));
        select(&mut app, 0, "raw/bad\u{FFFD}\u{FFFD}name.yaml");
        let d = app.detail.clone().unwrap();
        assert_eq!(d.notes, vec![fgd::discover::NOT_UTF8.to_string()]);
        for (k, says) in [('e', "edit"), ('u', "move")] {
            press(&mut app, key(k));
            assert!(app.editor().is_none() && app.mode.prompt().is_none() && app.job.is_none());
            let last = app.log.back().cloned().unwrap_or_default();
            assert!(
                last.starts_with(says)
                    && last.contains("not valid UTF-8")
                    && !last.contains("No such file"),
                "{last}"
            );
        }
        assert_eq!(
            std::fs::read(root.join("raw").join(name)).unwrap(),
            b"kind: VPC\n",
            "the file is left as it is"
        );
    });
}
