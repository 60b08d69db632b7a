//! Diagnostics logging: `FGD_LOG` writes fgd's events and libgit2's traces to a file, never to
//! the terminal; without it nothing is written anywhere.

use crate::common;

use common::*;

#[test]
fn fgd_log_writes_the_run_to_its_file_and_nothing_to_the_terminal() {
    let (t, f) = fabric();
    write(
        &f.join("raw/a.yaml"),
        "apiVersion: vpc.githedgehog.com/v1beta1\nkind: VPC\nmetadata:\n  name: a\n---\nkind: ConfigMap\n",
    );
    let quiet = fgd(&["ingest", s(&f), "--dry-run"]);
    let log = t.path().join("logs/fgd.log");
    let env = [("FGD_LOG", "debug"), ("FGD_LOG_FILE", s(&log))];
    let logged = fgd_env(&["ingest", s(&f), "--dry-run"], &env);
    assert_eq!(logged.code, quiet.code);
    assert_eq!(
        logged.stderr, quiet.stderr,
        "nothing logged to the terminal"
    );
    // The plan, less what differs between any two runs (the batch id, the time).
    let strip = |out: &str| {
        out.lines()
            .filter(|l| !l.contains(" ms") && !l.contains(".hnp/archive/"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(strip(&logged.stdout), strip(&quiet.stdout));
    let r = fgd_env(&["ingest", s(&f)], &env);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(r.stderr, "");
    let text = std::fs::read_to_string(&log).expect("FGD_LOG wrote its file");
    for line in [
        "fgd started",
        "libgit2 traces on",
        "lock taken",
        "writes in place",
        "log record appended",
        "fgd finished exit=Ok(Unmanaged)",
    ] {
        assert!(text.contains(line), "no {line:?} in:\n{text}");
    }
    // A filter that keeps only warnings and errors writes none of that.
    std::fs::remove_file(&log).unwrap();
    let r = fgd_env(
        &["status", s(&f)],
        &[("FGD_LOG", "warn"), ("FGD_LOG_FILE", s(&log))],
    );
    assert_eq!(r.code, 0);
    assert_eq!(std::fs::read_to_string(&log).unwrap_or_default(), "");
}

#[test]
fn a_log_that_cannot_be_written_is_said_once_and_the_command_still_runs() {
    let (t, f) = fabric();
    std::fs::write(t.path().join("a-file"), b"").unwrap();
    let r = fgd_env(
        &["status", s(&f)],
        &[
            ("FGD_LOG", "debug"),
            ("FGD_LOG_FILE", s(&t.path().join("a-file/fgd.log"))),
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr.starts_with("fgd: not logging: log file "),
        "{}",
        r.stderr
    );
    assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
    let r = fgd_env(&["status", s(&f)], &[("FGD_LOG", "nonsense=level=x")]);
    assert_eq!(r.code, 0);
    assert!(r.stderr.contains("FGD_LOG="), "{}", r.stderr);
}
