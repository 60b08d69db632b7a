//! The headless commands' progress bar in a real terminal (tmux): drawn within the terminal's
//! width, never torn by the lines printed above it, and gone at the end, the output the same
//! as without a terminal.

use crate::common;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use common::*;

/// tmux on a server of this test binary's own.
fn tmux() -> Command {
    let mut c = Command::new("tmux");
    c.args(["-L", &format!("fgd-bar-{}", std::process::id())]);
    c
}

fn capture(session: &str, history: bool) -> String {
    let mut c = tmux();
    c.args(["capture-pane", "-p", "-J", "-t", session]);
    if history {
        c.args(["-S", "-"]);
    }
    String::from_utf8_lossy(&c.output().unwrap().stdout).into_owned()
}

fn corpus_into(raw: &Path, dir: &Path) {
    let st = Command::new("python3")
        .arg(shared().join("bench/gen_corpus.py"))
        .args(["--docs", "4000", "--files", "120", "--seed", "3"])
        .args(["--invalid-fraction", "0.02", "--out", s(dir)])
        .output()
        .expect("python3 runs the shared corpus generator");
    assert!(
        st.status.success(),
        "{}",
        String::from_utf8_lossy(&st.stderr)
    );
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        std::fs::copy(e.path(), raw.join(e.file_name())).unwrap();
    }
}

#[test]
fn the_progress_bar_fits_a_narrow_terminal_and_lines_above_it_come_out_whole() {
    const COLS: usize = 40;
    let (t, piped) = fabric();
    corpus_into(&piped.join("raw"), &t.path().join("corpus"));
    let tty = t.path().join("tty-fab");
    assert_eq!(fgd(&["init", s(&tty)]).code, 0);
    corpus_into(&tty.join("raw"), &t.path().join("corpus2"));
    let expected = fgd(&["ingest", s(&piped)]);
    assert_eq!(expected.code, 1, "{}", expected.stderr);

    let session = format!("bar-{}", std::process::id());
    let done = t.path().join("done");
    let cmd = format!(
        "FGD_CONFIG={} {} ingest {} ; echo $? > {}; sleep 60",
        envelope_config(),
        fgd_bin(),
        s(&tty),
        s(&done)
    );
    let ok = tmux()
        .args([
            "new-session",
            "-d",
            "-s",
            &session,
            "-x",
            &COLS.to_string(),
            "-y",
            "20",
        ])
        .args(["-e", "LANG=C.UTF-8", &cmd])
        .env_remove("TMUX")
        .status()
        .expect("tmux is installed (.ci/run installs it)");
    assert!(ok.success());
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut bars = Vec::new();
    while !done.exists() {
        assert!(Instant::now() < deadline, "the ingest never ended");
        let screen = capture(&session, false);
        bars.extend(
            screen
                .lines()
                .filter(|l| l.starts_with('[') && l.contains("] "))
                .map(str::to_string),
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let history = capture(&session, true);
    let _ = tmux().args(["kill-session", "-t", &session]).status();
    assert_eq!(std::fs::read_to_string(&done).unwrap().trim(), "1");
    assert!(!bars.is_empty(), "the bar was never seen");
    for bar in &bars {
        // -J joins wrapped lines: a bar wider than the terminal would show longer here.
        assert!(bar.chars().count() <= COLS, "wider than {COLS}: {bar:?}");
    }
    // What is left is the output a pipe gets (less the timing), line for line: no bar, no
    // piece of one, no line torn by it.
    let strip = |text: &str| -> Vec<String> {
        text.lines()
            .map(str::trim_end)
            .filter(|l| !l.is_empty())
            .map(|l| l.split(" in ").next().unwrap_or(l).to_string())
            .map(|l| l.split(" [batch ").next().unwrap_or(&l).to_string())
            .collect()
    };
    assert_eq!(strip(&history), strip(&expected.stdout));
}
