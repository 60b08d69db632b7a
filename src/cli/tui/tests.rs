//! Snapshot tests of each screen, driven by real key events over a real demo workspace, drawn
//! with ratatui's TestBackend at 80x24 and 160x48. Paths and timings are redacted.

use std::path::Path;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::backend::TestBackend;
use ratatui::Terminal;

use super::app::{Action, App, Effect, Msg};
use super::effects::Runner;
use super::view;
use fgd::inspect::{self, FileReport, FileState, Rule, Tree};

fn key(c: char) -> Msg {
    Msg::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE))
}

fn tab() -> Msg {
    Msg::Key(KeyEvent::new(KeyCode::Tab, KeyModifiers::NONE))
}

/// The runner the tests share with the event loop, over the app's fabrics.
fn runner(app: &App) -> Runner {
    let roots = app.fabrics.iter().map(|f| f.root.clone()).collect();
    let mut r = Runner::new(fgd::git::GitOptions::default(), roots);
    // Every event's progress is seen, as a slow job's would be.
    r.progress_every = std::time::Duration::ZERO;
    r
}

/// Carry out effects the way the runner does, but in line, until nothing is left to do.
fn run_effects(app: &mut App, mut effects: Vec<Effect>) {
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
fn detail_now(app: &mut App) {
    run_effects(app, Vec::new());
}

/// A message, and everything it leads to, carried out.
fn press(app: &mut App, msg: Msg) {
    let effects = app.update(msg);
    run_effects(app, effects);
}

/// Archive names (`20260102T030405678Z-<batch id>`) as `[ARCHIVE]`: both differ run to run.
fn redact_stamps(text: &str) -> String {
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

fn redact(text: &str, ws: &Path) -> String {
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
        palette: Default::default(),
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

/// The first fabric, as if its managed/ held 100,000 objects.
fn with_a_hundred_thousand_managed_files(app: &mut App) {
    let f = &mut app.fabrics[0];
    f.files = (0..100_000)
        .map(|i| inspect::FileEntry {
            tree: Tree::Managed,
            rel: format!("managed/vpcs/v{i:06}.yaml"),
            state: FileState::Valid,
            problems: Vec::new(),
            note: None,
            unnamable: false,
        })
        .collect();
    f.counts.trees.managed = 100_000;
    app.refilter();
}

fn demo() -> (tempfile::TempDir, App) {
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
        detail
            .problems
            .iter()
            .any(|p| p.rule.as_str() == "yaml-syntax" && p.line == 22),
        "{:?}",
        detail.problems
    );
    insta::assert_snapshot!("broken_file_160x48", screen(&app, 160, 48));
}

#[test]
fn read_only_mode_leaves_mutating_keys_unbound() {
    let (_t, mut app) = demo();
    app.read_only = true;
    press(&mut app, key('i'));
    assert!(app.mode.confirm().is_none() && app.job.is_none());
    assert!(app.log.back().is_some_and(|l| l.contains("read-only")));
    let s = screen(&app, 80, 24);
    assert!(!s.contains("i ingest") && s.contains("q quit"), "{s}");
}

#[test]
fn tiny_terminals_get_a_message_not_a_panic() {
    let (_t, app) = demo();
    for (w, h) in [(1, 1), (20, 5), (59, 24), (79, 24), (80, 23), (200, 23)] {
        let s = screen(&app, w, h).replace('\n', " ");
        if w >= 20 {
            assert!(s.contains("fgd needs at least 80x24;"), "{w}x{h}: {s}");
        }
    }
    assert!(!screen(&app, 80, 24).contains("fgd needs"));
}

#[test]
fn a_hundred_thousand_managed_files_draw_only_the_visible_rows() {
    let (_t, mut app) = demo();
    with_a_hundred_thousand_managed_files(&mut app);
    app.tree_sel = 99_990;
    let s = screen(&app, 160, 48);
    assert!(
        s.contains("v099990.yaml") && s.contains("99991/100000"),
        "{s}"
    );
}

fn code(c: KeyCode) -> Msg {
    Msg::Key(KeyEvent::new(c, KeyModifiers::NONE))
}

fn select(app: &mut App, fabric: usize, rel: &str) {
    app.fabric_sel = fabric;
    app.filter.clear();
    app.refilter();
    let pos = app
        .visible
        .iter()
        .position(|&i| app.fabrics[fabric].files[i].rel == rel)
        .expect(rel);
    app.tree_sel = pos;
    app.refilter();
    detail_now(app);
}

#[test]
fn fixing_a_broken_file_in_the_editor_turns_it_valid_as_you_type_and_saves_atomically() {
    let (_t, mut app) = demo();
    select(&mut app, 2, "raw/lab-vpcs.yaml");
    press(&mut app, key('e'));
    let ed = app.editor().expect("editor open");
    let lines: Vec<usize> = ed.report.problems.iter().map(|p| p.line).collect();
    assert_eq!(lines, [22], "{:?}", ed.report.problems);
    assert_eq!(ed.report.problems[0].rule.as_str(), "yaml-syntax");
    insta::assert_snapshot!("editor_broken_160x48", screen(&app, 160, 48));
    // Line 22 is indented one space short: go there and add it.
    for _ in 0..21 {
        press(&mut app, code(KeyCode::Down));
    }
    press(&mut app, code(KeyCode::Home));
    press(&mut app, key(' '));
    let ed = app.editor().unwrap();
    assert!(ed.dirty);
    assert!(
        ed.report.problems.is_empty() && ed.report.documents.len() == 3,
        "valid while typing: {:?}",
        ed.report
    );
    insta::assert_snapshot!("editor_fixed_80x24", screen(&app, 80, 24));
    press(
        &mut app,
        Msg::Key(KeyEvent::new(KeyCode::Char('s'), KeyModifiers::CONTROL)),
    );
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
    press(&mut app, code(KeyCode::Esc));
    assert!(app.editor().is_none());
    press(&mut app, Msg::Changed(2, false));
    assert_eq!(app.selected_file().map(|f| f.state), Some(FileState::Valid));
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
fn filter_plan_move_and_adopt_from_the_keyboard() {
    let (_t, mut app) = demo();
    app.fabric_sel = 2;
    app.refilter();
    // Filter the tree.
    press(&mut app, key('/'));
    for c in "team".chars() {
        press(&mut app, key(c));
    }
    press(&mut app, code(KeyCode::Enter));
    let shown: Vec<_> = app
        .visible
        .iter()
        .map(|&i| app.fabrics[2].files[i].rel.clone())
        .collect();
    assert_eq!(shown, ["raw/team-a/vpc-dup.yaml", "raw/team-b/vpcs.yaml"]);
    assert!(screen(&app, 80, 24).contains("files 1/2"));
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
    let (mut frames, mut keys) = super::bench::frame_times(&mut app, &theme, 300).unwrap();
    frames.sort();
    keys.sort();
    eprintln!(
        "100k files, 160x48: frame median {:?} p95 {:?}; key to frame median {:?} p95 {:?}",
        frames[150], frames[285], keys[150], keys[285]
    );
}

#[test]
fn the_command_line_runs_actions_by_name_with_completion() {
    let (_t, mut app) = demo();
    press(&mut app, key(':'));
    for c in "ing".chars() {
        press(&mut app, key(c));
    }
    assert!(screen(&app, 80, 24).contains(":ing_   ingest"));
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
    use super::keymap::{Key, Keymap, ModeKind, Override};
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
    assert!(screen(&app, 160, 48).contains("f5 ingest"));
    press(&mut app, key('?'));
    assert!(screen(&app, 160, 48).contains(" f5        ingest"));
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
    let s = screen(&app, 160, 48);
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
    let s = screen(&app, 160, 48);
    assert!(
        s.contains("push would commit:") && s.contains("+++ b/dc1-leaf-spine/managed/"),
        "{s}"
    );
    assert_eq!(repo.head().unwrap().target(), head, "nothing was committed");
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
    assert!(screen(&app, 160, 48).contains("(checking...)"));
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
    assert!(!screen(&app, 160, 48).contains("(checking...)"));
}

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
    let pos = app
        .visible
        .iter()
        .position(|&i| app.fabrics[0].files[i].rel == "raw/big.yaml")
        .unwrap();
    app.tree_sel = pos + 1;
    app.detail = None;
    // The key only asks for the detail; a placeholder shows until it arrives.
    let mut effects = app.update(key('k'));
    let d = app.detail.clone().unwrap();
    assert_eq!(d.rel, "raw/big.yaml");
    assert_eq!(d.notes, [super::app::READING]);
    let Some(Effect::Detail { seq, root, entry }) = effects.pop() else {
        panic!("a background request")
    };
    // A result for an older selection is dropped; the current one lands.
    app.update(Msg::Detail(seq - 1, Box::default()));
    assert_eq!(app.detail.as_ref().unwrap().notes, [super::app::READING]);
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
    app.fabric_sel = 2;
    app.refilter();
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

fn ctrl(c: char) -> Msg {
    Msg::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL))
}

/// Type text into whatever has the keyboard, a newline as Enter.
fn type_text(app: &mut App, text: &str) {
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
fn to_end_of_line(app: &mut App, n: usize) {
    for _ in 0..2000 {
        press(app, code(KeyCode::Up));
    }
    for _ in 1..n {
        press(app, code(KeyCode::Down));
    }
    press(app, code(KeyCode::End));
}

const MCLAG: &str = "managed/connections/leaf-01--mclag-domain--leaf-02.yaml";

/// The demo with its first fabric ingested and one of its managed files open in the editor.
fn editing_a_managed_file() -> (tempfile::TempDir, App, std::path::PathBuf, String) {
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

fn status(app: &App) -> String {
    app.editor().map(|e| e.status.clone()).unwrap_or_default()
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
        ed.dirty && ed.area.lines()[0] == "Z#",
        "{:?}",
        ed.area.lines()
    );
    let s = status(&app);
    assert!(s.starts_with("NOT saved: managed/ holds"), "{s}");
    insta::assert_snapshot!("editor_managed_refused_160x48", screen(&app, 160, 48));
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
        s.contains("Connection/leaf-01--mclag-domain--leaf-02-x")
            && s.contains("managed/connections/leaf-01--mclag-domain--leaf-02-x.yaml"),
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
        .position(|l| l.contains("port: leaf-02/E1/52"))
        .unwrap()
        + 1;
    to_end_of_line(&mut app, line);
    press(&mut app, code(KeyCode::Backspace));
    type_text(&mut app, "3");
    press(&mut app, ctrl('s'));
    assert_eq!(status(&app), format!("saved {MCLAG}"));
    let after = std::fs::read_to_string(&path).unwrap();
    assert_eq!(after, before.replace("leaf-02/E1/52", "leaf-02/E1/53"));
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

/// Drop `bytes` into the first fabric's raw/ as `name`, and open it in the editor.
fn edit_raw_file(bytes: &[u8], name: &str) -> (tempfile::TempDir, App, std::path::PathBuf) {
    let (t, mut app) = demo();
    let path = app.fabrics[0].root.join("raw").join(name);
    std::fs::write(&path, bytes).unwrap();
    press(&mut app, Msg::Changed(0, true));
    select(&mut app, 0, &format!("raw/{name}"));
    press(&mut app, key('e'));
    assert!(app.editor().is_some());
    (t, app, path)
}

const VPC_CRLF: &[u8] =
    b"apiVersion: vpc.githedgehog.com/v1beta1\r\nkind: VPC\r\nmetadata:\r\n  name: crlf\r\nspec: {}";

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
    insta::assert_snapshot!("editor_read_only_80x24", screen(&app, 80, 24));
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
    let top = screen(&app, 80, 24);
    assert!(top.contains("ingest would (nothing changes now):"), "{top}");
    assert!(
        !top.contains("push would commit:"),
        "the plan fills the view: {top}"
    );
    assert!(top.contains("lines 1-16 of "), "{top}");
    press(&mut app, key('j'));
    assert!(screen(&app, 80, 24).contains("lines 2-17 of "));
    press(&mut app, key('k'));
    press(&mut app, key('k'));
    assert!(
        screen(&app, 80, 24).contains("lines 1-16 of "),
        "not above the top"
    );
    for _ in 0..20 {
        press(&mut app, code(KeyCode::PageDown));
    }
    let bottom = screen(&app, 80, 24);
    assert!(
        bottom.contains("push would commit:") && bottom.contains("nothing to commit"),
        "{bottom}"
    );
    insta::assert_snapshot!("plan_scrolled_to_the_end_80x24", bottom);
    press(&mut app, code(KeyCode::PageUp));
    press(&mut app, key('k'));
    assert_ne!(screen(&app, 80, 24), bottom, "back up");
    // A bigger terminal shows more lines per page.
    press(&mut app, Msg::Resize(160, 48));
    for _ in 0..20 {
        press(&mut app, code(KeyCode::PageUp));
    }
    assert!(screen(&app, 160, 48).contains("lines 1-40 of "));
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
    let s = screen(&app, 80, 24);
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
    assert!(screen(&app, 80, 24).contains("namespaces.yaml"));
}

#[test]
fn the_job_pane_shows_the_git_phase_and_progress_during_a_push_not_file_counts() {
    use fgd::event::{Event, GitPhase};
    let (_t, mut app) = demo();
    app.update(key('P'));
    let effects = app.update(key('y'));
    assert!(
        matches!(effects.as_slice(), [Effect::Run(_)]),
        "{effects:?}"
    );
    let job_line = |app: &App| {
        screen(app, 80, 24)
            .lines()
            .find(|l| l.starts_with("│push "))
            .unwrap_or_default()
            .to_string()
    };
    assert!(!job_line(&app).contains("0/0 files"), "{}", job_line(&app));
    let mut fold = super::job::Coalescer::new(std::time::Duration::ZERO);
    for e in [
        Event::GitPhaseStarted {
            phase: GitPhase::Push,
            detail: "origin main".into(),
        },
        Event::GitProgress {
            phase: GitPhase::Push,
            done: 5,
            total: 10,
            bytes: 4096,
        },
    ] {
        if let Some((p, notes)) = fold.push(e) {
            app.update(Msg::Progress(Box::new(p), notes));
        }
    }
    let line = job_line(&app);
    assert!(
        line.contains("git push 50% 5/10 objects") && !line.contains("files"),
        "{line}"
    );
}

#[test]
fn a_signal_ends_the_dashboard_at_once_and_the_log_names_any_edits_it_dropped() {
    let (_t, mut app) = demo();
    select(&mut app, 0, "raw/namespaces.yaml");
    press(&mut app, key('e'));
    press(&mut app, key('x'));
    press(&mut app, Msg::Signal(super::app::Stop::Terminated));
    assert!(app.quit);
    assert_eq!(app.stopped, Some(super::app::Stop::Terminated));
    let last = app.log.back().cloned().unwrap_or_default();
    assert!(
        last.contains("unsaved changes to raw/namespaces.yaml"),
        "{last}"
    );
}

fn mkfifo(path: &Path) {
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
fn within(secs: u64, test: impl FnOnce() + Send + 'static) {
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

#[test]
fn keys_only_ask_for_file_reads_which_the_runner_does_off_the_event_loop() {
    let (_t, mut app) = demo();
    // Moving to another file: a placeholder and a request, nothing read.
    let effects = app.update(key('j'));
    let d = app.detail.clone().unwrap();
    assert_eq!(d.notes, [super::app::READING]);
    assert!(matches!(effects.as_slice(), [Effect::Detail { .. }]));
    // `e` asks for the file; the editor opens when it has been read.
    let effects = app.update(key('e'));
    let [Effect::Open { root, rel }] = effects.as_slice() else {
        panic!("{effects:?}")
    };
    assert!(app.editor().is_none());
    let opened = super::editor::open_for_edit(root, rel);
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
