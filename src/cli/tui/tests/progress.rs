//! Honest progress: every stage of a job shown as it runs, counts that never pass their
//! totals, documents counted managed and unmanaged (never "failed"), a gauge, rate and time
//! left, the file at hand; and a question to quit that does not outlive its job.

use std::time::{Duration, Instant};

use fgd::event::{Event, GitPhase, Phase};

use super::*;
use crate::cli::tui::app::{Action, Msg};
use crate::cli::tui::job::{Coalescer, Count, Progress, Stage};
use crate::cli::tui::mode::Mode;

/// A fabric of `files` raw files of `docs` documents each, every tenth document unmanaged (by
/// its envelope: the fabric checks only that, its VPCs have no spec).
fn big_fabric(root: &Path, files: usize, docs: usize) {
    fgd::fabric::init(root, None).unwrap();
    std::fs::write(root.join(".hnp/validation.toml"), "rules = \"envelope\"\n").unwrap();
    for f in 0..files {
        let mut text = String::new();
        for d in 0..docs {
            let name = if (f * docs + d) % 10 == 0 {
                format!("Bad{f}x{d}")
            } else {
                format!("v{f}x{d}")
            };
            text.push_str(&format!(
                "---\napiVersion: vpc.githedgehog.com/v1beta1\nkind: VPC\nmetadata:\n  name: {name}\n"
            ));
        }
        std::fs::write(root.join(format!("raw/f{f:04}.yaml")), text).unwrap();
    }
}

#[test]
fn every_stage_of_an_ingest_is_seen_and_no_count_passes_its_total() {
    let t = tempfile::tempdir().unwrap();
    let root = t.path().join("big");
    big_fabric(&root, 60, 10);
    let mut app = App::new(t.path().to_path_buf(), vec![inspect::scan(&root)], false);
    detail_now(&mut app);
    let effects = app.update(key('i'));
    assert!(effects.is_empty() && app.mode.confirm().is_some());
    let effects = app.update(key('y'));
    // The runner sends a snapshot per event here (progress_every 0), as a slow job would.
    let mut snapshots: Vec<Progress> = Vec::new();
    let mut panes: Vec<String> = Vec::new();
    let runner = runner(&app);
    for effect in effects {
        let mut msgs = Vec::new();
        runner.work(effect, &mut |m| msgs.push(m));
        for m in msgs {
            if let Msg::Progress(p, _) = &m {
                snapshots.push((**p).clone());
            }
            let finished = matches!(m, Msg::JobFinished(_));
            app.update(m);
            if !finished && app.job.is_some() && panes.len() < 400 {
                let s = screen(&mut app, 160, 48);
                if let Some(l) = s.lines().find(|l| l.starts_with("│ingest")) {
                    panes.push(l.to_string());
                }
            }
        }
    }
    for p in &snapshots {
        if let Some(c) = p.count {
            assert!(c.done <= c.total, "{:?} {c:?}", p.stage);
        }
    }
    // Each stage that ended, and the last one.
    let end = snapshots.last().unwrap();
    let stages: Vec<Stage> = end
        .stages
        .iter()
        .map(|(s, _)| *s)
        .chain([end.stage])
        .collect();
    for want in [
        Phase::Discover,
        Phase::Classify,
        Phase::Plan,
        Phase::Journal,
        Phase::Write,
        Phase::Index,
        Phase::Cleanup,
    ] {
        assert!(
            stages.contains(&Stage::Ingest(want)),
            "{want:?} in {stages:?}"
        );
    }
    let last = snapshots.last().unwrap();
    assert_eq!(
        (last.documents, last.managed, last.unmanaged),
        (600, 540, 60)
    );
    assert!(!panes.is_empty());
    for l in &panes {
        assert!(!l.contains("failed"), "{l}");
    }
    assert!(
        panes
            .iter()
            .any(|l| l.contains("unmanaged") && l.contains("/60 files")),
        "{panes:?}"
    );
    assert!(app.log.iter().all(|l| !l.contains("failed")));
    assert!(app.log.iter().any(|l| l.contains("unmanaged [bad-name]")));
}

#[test]
fn a_running_job_shows_a_gauge_counts_rate_time_left_and_the_file() {
    let t = tempfile::tempdir().unwrap();
    let root = t.path().join("big");
    big_fabric(&root, 3, 2);
    let mut app = App::new(t.path().to_path_buf(), vec![inspect::scan(&root)], false);
    detail_now(&mut app);
    app.update(key('i'));
    app.update(key('y'));
    let job = app.job.as_mut().unwrap();
    job.started = Instant::now() - Duration::from_secs(12);
    let p = Progress {
        stages: vec![
            (Stage::Ingest(Phase::Discover), Duration::from_millis(40)),
            (Stage::Ingest(Phase::Classify), Duration::from_secs(6)),
        ],
        stage: Stage::Ingest(Phase::Plan),
        stage_started: Instant::now() - Duration::from_secs(10),
        count: Some(Count::new(1200, 5000)),
        documents: 24000,
        managed: 21600,
        unmanaged: 2400,
        errors: 0,
        current: "raw/tenants/f1200.yaml".into(),
    };
    app.update(Msg::Progress(Box::new(p), Vec::new()));
    for (w, h) in [(80, 24), (160, 48)] {
        let s = screen(&mut app, w, h);
        insta::assert_snapshot!(format!("job_running_{w}x{h}"), s);
    }
    let s = screen(&mut app, 160, 48);
    let line = s.lines().find(|l| l.starts_with("│ingest")).unwrap();
    for part in [
        "plan",
        "24%",
        "1200/5000 files",
        "21600 managed, 2400 unmanaged",
        "files/s",
        "s left",
        "raw/tenants/f1200.yaml",
    ] {
        assert!(line.contains(part), "{part:?} in {line}");
    }
    assert!(s.contains("discover ✓ › read and classify ✓ › plan"), "{s}");
}

#[test]
fn the_job_pane_shows_the_git_phase_and_its_objects_during_a_push() {
    let (_t, mut app) = demo();
    app.update(key('P'));
    app.update(key('y'));
    let mut fold = Coalescer::new(Duration::ZERO);
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
    let s = screen(&mut app, 80, 24);
    let line = s
        .lines()
        .find(|l| l.starts_with("│push "))
        .unwrap_or_default();
    assert!(
        line.contains("git push") && line.contains("50% 5/10 objects") && !line.contains("files"),
        "{line}"
    );
}

#[test]
fn the_question_to_quit_under_a_job_goes_when_the_job_ends() {
    let (_t, mut app) = demo();
    let effects = app.update(key('i'));
    assert!(effects.is_empty());
    let effects = app.update(key('y'));
    app.update(key('q'));
    assert!(app.mode.confirm().is_some_and(|c| c.action == Action::Quit));
    run_effects(&mut app, effects);
    assert!(app.job.is_none());
    assert!(matches!(app.mode, Mode::Browse), "the question is gone");
    assert!(!app.quit);
}
