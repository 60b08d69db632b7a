//! The real dashboard in a real terminal: `fgd demo` under tmux, driven with send-keys and read
//! with capture-pane, waiting for text rather than sleeping blindly.

mod common;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use common::{fgd_bin, write};

struct Tmux {
    name: String,
}

impl Tmux {
    fn start(cmd: &str, home: &Path) -> Tmux {
        static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let name = format!("fgd-e2e-{}-{n}", std::process::id());
        let ok = tmux()
            .args(["new-session", "-d", "-s", &name, "-x", "140", "-y", "40"])
            // Explicit, since a running tmux server would hand its own environment to the pane:
            // no operator config or log is read or written by the tests.
            .arg("-e")
            .arg(format!("HOME={}", home.display()))
            .arg("-e")
            .arg(format!("XDG_CONFIG_HOME={}/.config", home.display()))
            .arg("-e")
            .arg(format!("XDG_STATE_HOME={}/.local/state", home.display()))
            .arg(cmd)
            .env("HOME", home)
            .env("LANG", "C.UTF-8")
            .env_remove("TMUX")
            .status()
            .expect("tmux is installed (.ci/run installs it)");
        assert!(ok.success());
        Tmux { name }
    }
    fn screen(&self) -> String {
        let out = tmux()
            .args(["capture-pane", "-p", "-t", &self.name])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
    fn keys(&self, keys: &[&str]) {
        for k in keys {
            tmux()
                .args(["send-keys", "-t", &self.name, k])
                .status()
                .unwrap();
        }
    }
    fn resize(&self, cols: u16, rows: u16) {
        let ok = tmux()
            .args(["resize-window", "-t", &self.name, "-x"])
            .arg(cols.to_string())
            .arg("-y")
            .arg(rows.to_string())
            .status()
            .unwrap();
        assert!(ok.success());
    }
    fn wait_for(&self, what: &str, within: Duration) -> String {
        let t = Instant::now();
        loop {
            let s = self.screen();
            if s.contains(what) {
                return s;
            }
            assert!(
                t.elapsed() < within,
                "waited {within:?} for {what:?}; the screen is:\n{s}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// tmux on a server of this test binary's own (`-L`): tests never share the operator's server,
/// nor one another run's, whose last session closing would take the server down under them.
fn tmux() -> Command {
    let mut c = Command::new("tmux");
    c.args(["-L", &format!("fgd-e2e-{}", std::process::id())]);
    c
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = tmux().args(["kill-session", "-t", &self.name]).status();
    }
}

const WAIT: Duration = Duration::from_secs(20);

#[test]
fn demo_ingest_live_fix_drop_push_and_quit_restore_the_terminal() {
    let t = tempfile::tempdir().unwrap();
    let home = t.path().join("home");
    std::fs::create_dir_all(&home).unwrap();
    let demo = t.path().join("demo");
    let stty = t.path().join("stty.txt");
    let cmd = format!(
        "{} demo --dir {}; echo FGD-EXITED-$?; stty -a > {}; sleep 60",
        fgd_bin(),
        demo.display(),
        stty.display()
    );
    let started = Instant::now();
    let tm = Tmux::start(&cmd, &home);
    tm.wait_for("lab-broken", WAIT);
    eprintln!(
        "first frame with the fabrics after {} ms (demo set-up included)",
        started.elapsed().as_millis()
    );
    let ws = demo.join("workspace");
    // Scans fill the trees in after the first frame.
    tm.wait_for("✓ namespaces.yaml", WAIT);

    // Ingest with visible per-file progress and a result.
    tm.keys(&["i"]);
    tm.wait_for("Ingest 6 raw file(s) of dc1-leaf-spine", WAIT);
    tm.keys(&["y"]);
    let s = tm.wait_for("done: 40 managed, 0 unmanaged", WAIT);
    assert!(
        s.contains("batch: 6 files, 40 managed, 0 unmanaged"),
        "the batch in the operations pane:\n{s}"
    );
    assert!(ws
        .join("dc1-leaf-spine/managed/vpcs/tenant-a.yaml")
        .is_file());

    // A file dropped into raw/ from outside appears, classified, without a key press.
    write(&ws.join("dc1-leaf-spine/raw/dropped.yaml"), "apiVersion: vpc.githedgehog.com/v1beta1\nkind: VPC\nmetadata:\n  name: dropped\nspec: {}\n");
    tm.wait_for("✓ dropped.yaml", WAIT);

    // A broken file fixed in the dashboard's editor turns valid on screen.
    tm.keys(&["Tab", "Tab", "j", "j"]);
    tm.wait_for("✗ tenant-blue.yaml", WAIT);
    tm.keys(&["/"]);
    tm.keys(&["tenant-blue", "Enter"]);
    tm.wait_for("lab-broken files 1/1", WAIT);
    tm.keys(&["e"]);
    tm.wait_for("bad-name", WAIT);
    let broken = ws.join("lab-broken/raw/tenant-blue.yaml");
    let line = std::fs::read_to_string(&broken)
        .unwrap()
        .lines()
        .position(|l| l.contains("name: TenantBlue"))
        .unwrap();
    for _ in 0..line {
        tm.keys(&["Down"]);
    }
    tm.keys(&[
        "End", "BSpace", "BSpace", "BSpace", "BSpace", "BSpace", "BSpace", "BSpace", "BSpace",
        "BSpace", "BSpace",
    ]);
    tm.keys(&["tenant-blue"]);
    tm.wait_for("VPC/tenant-blue: managed", WAIT);
    tm.keys(&["C-s"]);
    tm.wait_for("saved raw/tenant-blue.yaml", WAIT);
    tm.keys(&["Escape"]);
    tm.wait_for("✓ tenant-blue.yaml", WAIT);
    assert!(std::fs::read_to_string(&broken)
        .unwrap()
        .contains("name: tenant-blue"));
    tm.keys(&["/", "Enter"]);

    // Push the first fabric to the demo remote and see it confirmed.
    tm.keys(&["k", "k"]);
    tm.wait_for("dc1-leaf-spine files", WAIT);
    // By name on the command line, as an operator who forgot the key would.
    tm.keys(&[":"]);
    tm.keys(&["pus", "Tab", "Enter"]);
    tm.wait_for("and push", WAIT);
    tm.keys(&["y"]);
    tm.wait_for("done: pushed", WAIT);
    let fresh = t.path().join("fresh");
    let st = Command::new("git")
        .arg("clone")
        .arg("-q")
        .arg(demo.join("remote.git"))
        .arg(&fresh)
        .status()
        .unwrap();
    assert!(st.success());
    assert!(
        fresh
            .join("dc1-leaf-spine/managed/vpcs/tenant-a.yaml")
            .is_file(),
        "the push reached the remote"
    );

    // Every operation went to the log file too (the demo keeps it in its own folder).
    let log = std::fs::read_to_string(demo.join("dash.log")).unwrap_or_default();
    assert!(
        log.contains("ingest dc1-leaf-spine started") && log.contains("push dc1-leaf-spine done"),
        "{log}"
    );

    // Quit: the shell gets a normal terminal back.
    tm.keys(&["q"]);
    let s = tm.wait_for("FGD-EXITED-0", WAIT);
    assert!(s.contains("demo workspace kept at"), "{s}");
    let t0 = Instant::now();
    while !std::fs::read_to_string(&stty).is_ok_and(|m| m.contains("icanon")) && t0.elapsed() < WAIT
    {
        std::thread::sleep(Duration::from_millis(50));
    }
    let modes = std::fs::read_to_string(&stty).unwrap();
    let words: Vec<&str> = modes.split_whitespace().collect();
    assert!(
        words.contains(&"icanon") && words.contains(&"echo"),
        "raw mode left on: {modes}"
    );
}

/// A closed terminal (a dropped SSH session, a killed tmux) must end fgd, not leave it spinning.
#[test]
fn a_vanished_terminal_ends_the_dashboard() {
    let t = tempfile::tempdir().unwrap();
    let home = t.path().join("home");
    std::fs::create_dir_all(&home).unwrap();
    let demo = t.path().join("demo");
    let marker = t.path().join("pid");
    // `exec` so fgd itself owns the pane; then the pane is destroyed under it.
    let cmd = format!(
        "echo $$ > {}; exec {} demo --dir {}",
        marker.display(),
        fgd_bin(),
        demo.display()
    );
    let tm = Tmux::start(&cmd, &home);
    tm.wait_for("lab-broken", WAIT);
    let pid: i32 = std::fs::read_to_string(&marker)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    drop(tm); // kill-session: the pty goes away
    let t0 = Instant::now();
    while Path::new(&format!("/proc/{pid}")).exists() && t0.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(50));
    }
    let alive = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|s| !s.contains(") Z "))
        .unwrap_or(false);
    if alive {
        unsafe { libc::kill(pid, libc::SIGKILL) };
    }
    assert!(!alive, "fgd kept running after its terminal vanished");
}

/// `fgd demo` under tmux in a shell of its own, so its pid is known; the exit code is shown
/// and the terminal's modes are written out once it ends.
struct Dash {
    tm: Tmux,
    stty: std::path::PathBuf,
    pid: i32,
    _t: tempfile::TempDir,
}

impl Dash {
    fn start() -> Dash {
        Dash::start_sized(140, 40)
    }

    fn start_sized(cols: u16, rows: u16) -> Dash {
        let t = tempfile::tempdir().unwrap();
        let home = t.path().join("home");
        std::fs::create_dir_all(&home).unwrap();
        let (pid, stty) = (t.path().join("pid"), t.path().join("stty.txt"));
        let cmd = format!(
            "sh -c 'echo $$ > {}; exec {} demo --dir {}'; echo FGD-EXITED-$?; stty -a > {}; sleep 60",
            pid.display(),
            fgd_bin(),
            t.path().join("demo").display(),
            stty.display()
        );
        let tm = Tmux::start(&cmd, &home);
        if (cols, rows) != (140, 40) {
            tm.resize(cols, rows);
        }
        tm.wait_for("lab-broken", WAIT);
        let pid = std::fs::read_to_string(&pid)
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        Dash {
            tm,
            stty,
            pid,
            _t: t,
        }
    }

    /// Wait for the exit code, then check the shell got a cooked terminal back.
    fn exited_with(&self, code: i32) -> String {
        let s = self.tm.wait_for(&format!("FGD-EXITED-{code}"), WAIT);
        let t0 = Instant::now();
        while !std::fs::read_to_string(&self.stty).is_ok_and(|m| m.contains("icanon"))
            && t0.elapsed() < WAIT
        {
            std::thread::sleep(Duration::from_millis(50));
        }
        let modes = std::fs::read_to_string(&self.stty).unwrap();
        let words: Vec<&str> = modes.split_whitespace().collect();
        assert!(
            words.contains(&"icanon") && words.contains(&"echo"),
            "raw mode left on: {modes}"
        );
        s
    }
}

#[test]
fn ctrl_c_leaves_from_the_filter_prompt_instead_of_typing_a_c() {
    let d = Dash::start();
    d.tm.keys(&["/", "ab"]);
    d.tm.wait_for("filter (Enter applies", WAIT);
    d.tm.keys(&["C-c"]);
    let s = d.exited_with(0);
    assert!(!s.contains("abc_"), "{s}");
}

#[test]
fn ctrl_c_leaves_from_a_confirm_question_without_starting_the_job() {
    let d = Dash::start();
    d.tm.wait_for("✓ namespaces.yaml", WAIT);
    d.tm.keys(&["i"]);
    d.tm.wait_for("Ingest 6 raw file(s)", WAIT);
    d.tm.keys(&["C-c"]);
    d.exited_with(0);
}

#[test]
fn ctrl_c_in_an_editor_with_unsaved_changes_warns_once_then_leaves() {
    let d = Dash::start();
    d.tm.wait_for("✓ namespaces.yaml", WAIT);
    d.tm.keys(&["Tab", "e"]);
    d.tm.wait_for("Ctrl-S save", WAIT);
    d.tm.keys(&["x", "C-c"]);
    d.tm.wait_for("leaves without saving", WAIT);
    d.tm.keys(&["C-c"]);
    d.exited_with(0);
}

#[test]
fn sigterm_and_sighup_end_the_dashboard_with_128_plus_the_signal_and_a_restored_terminal() {
    for (signal, code) in [(libc::SIGTERM, 143), (libc::SIGHUP, 129)] {
        let d = Dash::start();
        // SAFETY: a signal to the process this test started.
        assert_eq!(unsafe { libc::kill(d.pid, signal) }, 0);
        let s = d.exited_with(code);
        assert!(s.contains("demo workspace kept at"), "{s}");
    }
}

#[test]
fn below_80x24_the_dashboard_says_how_big_it_needs_the_terminal_and_at_80x24_it_draws() {
    let d = Dash::start();
    d.tm.resize(79, 24);
    d.tm.wait_for("fgd needs at least 80x24; this terminal is 79x24", WAIT);
    d.tm.resize(80, 23);
    d.tm.wait_for("this terminal is 80x23", WAIT);
    d.tm.resize(80, 24);
    let s = d.tm.wait_for("q quit", WAIT);
    assert!(s.contains("lab-broken") && !s.contains("fgd needs"), "{s}");
    d.tm.keys(&["q"]);
    d.exited_with(0);
}

#[test]
fn a_fabric_folder_removed_under_the_running_dashboard_is_shown_gone_then_back() {
    let d = Dash::start();
    d.tm.wait_for("✓ namespaces.yaml", WAIT);
    let root = d._t.path().join("demo/workspace/dc1-leaf-spine");
    let away = d._t.path().join("away");
    std::fs::rename(&root, &away).unwrap();
    let s = d.tm.wait_for("gone", WAIT);
    assert!(!s.contains("✓ namespaces.yaml"), "{s}");
    std::fs::rename(&away, &root).unwrap();
    // The watcher is set up again: a file dropped in is seen without a key or the 30 s rescan.
    let t0 = Instant::now();
    while !d.tm.screen().contains("✓ namespaces.yaml") {
        assert!(t0.elapsed() < WAIT, "{}", d.tm.screen());
        std::thread::sleep(Duration::from_millis(100));
    }
    write(&root.join("raw/dropped.yaml"), "apiVersion: vpc.githedgehog.com/v1beta1\nkind: VPC\nmetadata:\n  name: dropped\nspec: {}\n");
    d.tm.wait_for("✓ dropped.yaml", WAIT);
    d.tm.keys(&["q"]);
    d.exited_with(0);
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

#[test]
fn a_fifo_selected_in_the_tree_or_swapped_in_under_the_editor_never_freezes_the_dashboard() {
    let d = Dash::start();
    d.tm.wait_for("✓ namespaces.yaml", WAIT);
    let raw = d._t.path().join("demo/workspace/dc1-leaf-spine/raw");
    // First in the tree, so selected: its detail says what it is, and nothing opens it.
    mkfifo(&raw.join("0-pipe.yaml"));
    d.tm.wait_for("cannot show it: a FIFO", WAIT);
    d.tm.keys(&["e"]);
    d.tm.wait_for("cannot open raw/0-pipe.yaml", WAIT);
    // The file being edited is replaced by a FIFO before Ctrl-S.
    d.tm.keys(&["j", "e"]);
    d.tm.wait_for("Ctrl-S save", WAIT);
    let edited = raw.join("namespaces.yaml");
    std::fs::remove_file(&edited).unwrap();
    mkfifo(&edited);
    d.tm.keys(&["x", "C-s"]);
    d.tm.wait_for("NOT saved: cannot read it back", WAIT);
    // Still answering keys: Ctrl-C warns about the unsaved edit, then leaves.
    d.tm.keys(&["C-c"]);
    d.tm.wait_for("leaves without saving", WAIT);
    d.tm.keys(&["C-c"]);
    d.exited_with(0);
}
