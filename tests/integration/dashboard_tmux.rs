//! The real dashboard in a real terminal: `fgd demo` under tmux, driven with send-keys and read
//! with capture-pane, waiting for text rather than sleeping blindly.

use crate::common;

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
    let s = tm.wait_for("done: 39 managed, 0 unmanaged", WAIT);
    assert!(
        s.contains("batch: 6 files, 39 managed, 0 unmanaged"),
        "the batch in the operations pane:\n{s}"
    );
    assert!(ws
        .join("dc1-leaf-spine/managed/vpcs/tenant-a.yaml")
        .is_file());

    // A file dropped into raw/ from outside appears, classified, without a key press.
    write(&ws.join("dc1-leaf-spine/raw/dropped.yaml"), "apiVersion: vpc.githedgehog.com/v1beta1\nkind: VPC\nmetadata:\n  name: dropped\nspec:\n  subnets:\n    default:\n      subnet: 10.10.99.0/24\n      vlan: 1099\n");
    tm.wait_for("✓ dropped.yaml", WAIT);

    // A broken file fixed in the dashboard's editor turns valid on screen.
    tm.keys(&["Tab", "Tab", "j", "j"]);
    tm.wait_for("✗ tenant-blue.yaml", WAIT);
    tm.keys(&["/"]);
    tm.keys(&["tenant-blue", "Enter"]);
    tm.wait_for("lab-broken files 1/1", WAIT);
    // The editor opens on the problem's line: the name.
    tm.keys(&["e"]);
    // The editor's own title, not the name (the preview shows it too): keys sent before the
    // editor is open would go to the tree, as they did on a loaded machine.
    tm.wait_for(" edit raw/tenant-blue.yaml", WAIT);
    tm.wait_for("bad-name", WAIT);
    let broken = ws.join("lab-broken/raw/tenant-blue.yaml");
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
    d.tm.wait_for("filter, smart case (Enter applies", WAIT);
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
    d.tm.wait_for("ctrl-s save", WAIT);
    d.tm.keys(&["x", "C-c"]);
    d.tm.wait_for("Ctrl-C again", WAIT);
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
    write(&root.join("raw/dropped.yaml"), "apiVersion: vpc.githedgehog.com/v1beta1\nkind: VPC\nmetadata:\n  name: dropped\nspec:\n  subnets:\n    default:\n      subnet: 10.10.99.0/24\n      vlan: 1099\n");
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
    // First in the tree, above the selection: its detail says what it is, and nothing
    // opens it.
    mkfifo(&raw.join("0-pipe.yaml"));
    d.tm.wait_for("? 0-pipe.yaml", WAIT);
    d.tm.keys(&["k"]);
    d.tm.wait_for("cannot show it: a FIFO", WAIT);
    d.tm.keys(&["e"]);
    d.tm.wait_for("cannot open raw/0-pipe.yaml", WAIT);
    // The file being edited is replaced by a FIFO before Ctrl-S.
    d.tm.keys(&["j", "e"]);
    d.tm.wait_for("ctrl-s save", WAIT);
    let edited = raw.join("namespaces.yaml");
    std::fs::remove_file(&edited).unwrap();
    mkfifo(&edited);
    d.tm.keys(&["x", "C-s"]);
    d.tm.wait_for("NOT saved: cannot read it back", WAIT);
    // Still answering keys: Ctrl-C warns about the unsaved edit, then leaves.
    d.tm.keys(&["C-c"]);
    d.tm.wait_for("Ctrl-C again", WAIT);
    d.tm.keys(&["C-c"]);
    d.exited_with(0);
}

/// From a fresh `fgd demo`, the broken lab-vpcs.yaml is fixed in 8 keys: four `n` to its
/// problem, `e` (the editor opens at the error), a space, Ctrl-S, Esc; the tree shows it ✓.
#[test]
fn the_demo_s_broken_file_is_fixed_within_the_key_budget_and_turns_valid() {
    let d = Dash::start();
    // Every fabric scanned: lab-broken's problems are counted.
    d.tm.wait_for("unmanaged 0  ✗ 11", WAIT);
    let mut keys = 0;
    let mut send = |k: &str| {
        keys += 1;
        d.tm.keys(&[k]);
    };
    for _ in 0..4 {
        send("n");
    }
    d.tm.wait_for("raw/lab-vpcs.yaml", WAIT);
    d.tm.wait_for("error 22:6", WAIT);
    send("e");
    d.tm.wait_for("edit raw/lab-vpcs.yaml 22:6", WAIT);
    send("Space");
    d.tm.wait_for("VPC/lab-green: managed", WAIT);
    send("C-s");
    d.tm.wait_for("saved raw/lab-vpcs.yaml", WAIT);
    send("Escape");
    let s = d.tm.wait_for("✓ lab-vpcs.yaml", WAIT);
    assert!(keys <= 8, "{keys} keys");
    let fixed = std::fs::read_to_string(
        d._t.path()
            .join("demo/workspace/lab-broken/raw/lab-vpcs.yaml"),
    )
    .unwrap();
    assert!(fixed.contains("\n      vlan: 1202\n"), "{fixed}");
    assert!(s.contains("unmanaged 0  ✗ 10"), "one problem fewer:\n{s}");
    d.tm.keys(&["q"]);
    d.exited_with(0);
}

/// A workspace with one fabric of `files` raw files of 10 documents each (every tenth
/// document unmanaged), initialised by fgd itself. Its VPCs have no spec: the fabric checks
/// their envelope only (`.hnp/validation.toml`).
fn big_workspace(t: &Path, files: usize) -> std::path::PathBuf {
    let fabric = t.join("ws/big");
    std::fs::create_dir_all(&fabric).unwrap();
    let ok = Command::new(fgd_bin())
        .arg("init")
        .arg(&fabric)
        .output()
        .unwrap();
    assert!(ok.status.success(), "{ok:?}");
    common::envelope_only(&fabric);
    for f in 0..files {
        let mut text = String::new();
        for d in 0..10 {
            let name = if d == 0 {
                format!("Bad{f}")
            } else {
                format!("v{f}x{d}")
            };
            text.push_str(&format!(
                "---\napiVersion: vpc.githedgehog.com/v1beta1\nkind: VPC\nmetadata:\n  name: {name}\n"
            ));
        }
        std::fs::write(fabric.join(format!("raw/f{f:04}.yaml")), text).unwrap();
    }
    fabric
}

/// Every `done/total unit` of a job line.
fn counts_in(line: &str) -> Vec<(u64, u64)> {
    let words: Vec<&str> = line.split_whitespace().collect();
    let units = ["files", "writes", "steps", "originals", "objects"];
    words
        .windows(2)
        .filter(|w| units.contains(&w[1]))
        .filter_map(|w| {
            let (a, b) = w[0].split_once('/')?;
            Some((a.parse().ok()?, b.parse().ok()?))
        })
        .collect()
}

/// The position `files K/N` the tree's title shows.
fn tree_position(screen: &str) -> Option<String> {
    let at = screen.find("big files ")?;
    screen[at..].split_whitespace().nth(2).map(str::to_string)
}

#[test]
fn a_ten_thousand_document_ingest_never_counts_past_its_total_and_keys_are_answered() {
    let t = tempfile::tempdir().unwrap();
    let home = t.path().join("home");
    std::fs::create_dir_all(&home).unwrap();
    let fabric = big_workspace(t.path(), 1000);
    let cmd = format!(
        "{} dash {}; echo FGD-EXITED-$?; sleep 60",
        fgd_bin(),
        fabric.parent().unwrap().display()
    );
    let tm = Tmux::start(&cmd, &home);
    tm.wait_for("raw/ (1000 files)", Duration::from_secs(120));
    tm.keys(&["i"]);
    tm.wait_for("Ingest 1000 raw file(s)", WAIT);
    tm.keys(&["y"]);
    let (mut samples, mut with_counts) = (0, 0);
    let mut stages = std::collections::BTreeSet::new();
    let mut latencies: Vec<Duration> = Vec::new();
    let started = Instant::now();
    let mut key = "j";
    loop {
        let s = tm.screen();
        if s.contains("ingest big done:") {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(600),
            "the ingest did not finish:\n{s}"
        );
        if let Some(line) = s.lines().find(|l| l.starts_with("│ingest big: ")) {
            samples += 1;
            for (done, total) in counts_in(line) {
                with_counts += 1;
                assert!(done <= total, "{done}/{total} in {line}");
            }
            if let Some(stage) = line.split(':').nth(1) {
                stages.insert(stage.split_whitespace().next().unwrap_or("").to_string());
            }
            assert!(!line.contains("failed"), "{line}");
        }
        // A key while the job runs: how long until the screen shows its effect.
        if samples % 4 == 1 {
            let before = tree_position(&s);
            let sent = Instant::now();
            tm.keys(&[key]);
            key = if key == "j" { "k" } else { "j" };
            while tree_position(&tm.screen()) == before && sent.elapsed() < WAIT {
                std::thread::sleep(Duration::from_millis(5));
            }
            latencies.push(sent.elapsed());
        }
        std::thread::sleep(Duration::from_millis(40));
    }
    assert!(with_counts > 0, "{samples} samples, none with a count");
    let s = tm.screen();
    assert!(s.contains("done: 9000 managed, 1000 unmanaged"), "{s}");
    latencies.sort();
    let ms = |d: Duration| d.as_millis();
    eprintln!(
        "ingest of 10,000 documents: {samples} job-pane samples, stages seen {stages:?}; key to \
         screen over tmux, {} keys: median {} ms, max {} ms (capture-pane polling included)",
        latencies.len(),
        latencies.get(latencies.len() / 2).map_or(0, |d| ms(*d)),
        latencies.last().map_or(0, |d| ms(*d)),
    );
    tm.keys(&["q"]);
    tm.wait_for("FGD-EXITED-0", WAIT);
}

/// The terminal closing during a job ends fgd at once (within a second or so, not the 5-27 s
/// it once took), releasing the fabric's lock; the next run finishes the job's journal.
#[test]
fn a_terminal_closed_mid_job_ends_fgd_at_once_and_releases_the_lock() {
    let t = tempfile::tempdir().unwrap();
    let home = t.path().join("home");
    std::fs::create_dir_all(&home).unwrap();
    let fabric = big_workspace(t.path(), 1000);
    let marker = t.path().join("pid");
    let cmd = format!(
        "echo $$ > {}; exec {} dash {}",
        marker.display(),
        fgd_bin(),
        fabric.parent().unwrap().display()
    );
    let tm = Tmux::start(&cmd, &home);
    tm.wait_for("raw/ (1000 files)", Duration::from_secs(120));
    let pid: i32 = std::fs::read_to_string(&marker)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    tm.keys(&["i"]);
    tm.wait_for("Ingest 1000 raw file(s)", WAIT);
    tm.keys(&["y"]);
    tm.wait_for("│ingest big: ", WAIT);
    let closed = Instant::now();
    drop(tm); // kill-session: the pty goes away under the running job
    let gone = |pid: i32| {
        std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .map(|s| s.contains(") Z "))
            .unwrap_or(true)
    };
    while !gone(pid) && closed.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(10));
    }
    let took = closed.elapsed();
    if !gone(pid) {
        unsafe { libc::kill(pid, libc::SIGKILL) };
    }
    eprintln!(
        "fgd ended {} ms after its terminal closed mid-job",
        took.as_millis()
    );
    assert!(
        took < Duration::from_secs(3),
        "fgd ran on for {took:?} after its terminal closed"
    );
    // The lock went with the process: the next ingest runs (and finishes the journal). The
    // leader thread shows as a zombie while the others still exit; the kernel releases the
    // flock when the last of them has, a moment later: the lock's refusal (exit 3) may be
    // seen until then.
    let next = loop {
        let next = Command::new(fgd_bin())
            .arg("ingest")
            .arg(&fabric)
            .output()
            .unwrap();
        if next.status.code() != Some(3) || closed.elapsed() > Duration::from_secs(10) {
            break next;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(matches!(next.status.code(), Some(0) | Some(1)), "{next:?}");
}
