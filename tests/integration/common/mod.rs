//! Shared test helpers: the real fgd binary, fresh fabrics, the shared corpus, and the
//! invariant every test ends on.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn fgd_bin() -> &'static str {
    env!("CARGO_BIN_EXE_fgd")
}

/// `../shared`, which holds the real corpus and the bench generator. Fails loudly if missing:
/// these tests must not pass vacuously.
pub fn shared() -> PathBuf {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared");
    assert!(
        p.join("corpus/real").is_dir(),
        "{} is missing: the tests need the shared corpus beside the repository (../shared/corpus/real)",
        p.display()
    );
    p
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn events(&self) -> Vec<serde_json::Value> {
        self.stdout
            .lines()
            .filter(|l| l.starts_with('{'))
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad json line {l:?}: {e}")))
            .collect()
    }
    pub fn of(&self, kind: &str) -> Vec<serde_json::Value> {
        self.events()
            .into_iter()
            .filter(|e| e["event"] == kind)
            .collect()
    }
    pub fn summary(&self) -> serde_json::Value {
        self.of("batch-finished")
            .pop()
            .unwrap_or_else(|| panic!("no batch-finished in {}\n{}", self.stdout, self.stderr))
            ["summary"]
            .clone()
    }
}

fn finish(out: Output) -> Run {
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// The operator config the tests run fgd with: validation checks the envelope only
/// (`[validation] rules = "envelope"`). Most tests exercise the engine's mechanics over
/// fixtures and generated corpora that are consistent for the envelope only; validation's
/// own tests run with every rule (`fgd_all_rules`, or a fabric's `.hnp/validation.toml`,
/// which the config does not override).
pub fn envelope_config() -> &'static str {
    static PATH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    PATH.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("fgd-tests-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("test config folder");
        let path = dir.join("config.toml");
        std::fs::write(&path, "[validation]\nrules = \"envelope\"\n").expect("test config");
        path.to_string_lossy().into_owned()
    })
}

/// A command running fgd with the tests' envelope-only config.
pub fn fgd_command() -> Command {
    let mut c = Command::new(fgd_bin());
    c.env_remove("FGD_FAILPOINT")
        .env("FGD_CONFIG", envelope_config());
    c
}

pub fn fgd(args: &[&str]) -> Run {
    finish(fgd_command().args(args).output().expect("run fgd"))
}

/// fgd with every validation rule (no operator config).
pub fn fgd_all_rules(args: &[&str]) -> Run {
    finish(
        Command::new(fgd_bin())
            .args(args)
            .env_remove("FGD_FAILPOINT")
            .env_remove("FGD_CONFIG")
            .output()
            .expect("run fgd"),
    )
}

pub fn fgd_env(args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut c = fgd_command();
    c.args(args);
    for (k, v) in env {
        c.env(k, v);
    }
    finish(c.output().expect("run fgd"))
}

pub fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// A fresh, initialised fabric in a temporary directory.
pub fn fabric() -> (tempfile::TempDir, PathBuf) {
    let t = tempfile::tempdir().expect("tempdir");
    let f = t.path().join("fab");
    let r = fgd(&["init", s(&f)]);
    assert_eq!(r.code, 0, "init failed: {}", r.stderr);
    (t, f)
}

/// Make the fabric at `f` check only the envelope (`.hnp/validation.toml`): for tests of the
/// engine's mechanics over the generated corpus, whose fabrics are consistent for the envelope
/// only (its manifest's verdicts), and over fixtures that are not meant as valid fabrics.
#[allow(dead_code)]
pub fn envelope_only(f: &Path) {
    write(&f.join(".hnp/validation.toml"), "rules = \"envelope\"\n");
}

pub fn write(path: &Path, text: impl AsRef<[u8]>) {
    if let Some(p) = path.parent() {
        std::fs::create_dir_all(p).expect("mkdir");
    }
    std::fs::write(path, text).expect("write");
}

/// Every regular file under `dir`, relative, sorted.
pub fn tree(dir: &Path) -> Vec<String> {
    fn walk(base: &Path, d: &Path, out: &mut Vec<String>) {
        let Ok(rd) = std::fs::read_dir(d) else { return };
        for e in rd.flatten() {
            let t = e.file_type().expect("type");
            if t.is_dir() {
                walk(base, &e.path(), out);
            } else {
                out.push(
                    e.path()
                        .strip_prefix(base)
                        .expect("prefix")
                        .to_string_lossy()
                        .into_owned(),
                );
            }
        }
    }
    let mut v = Vec::new();
    walk(dir, dir, &mut v);
    v.sort();
    v
}

/// Resources listed in managed/kustomization.yaml.
pub fn kustomization(f: &Path) -> Vec<String> {
    let text =
        std::fs::read_to_string(f.join("managed/kustomization.yaml")).expect("kustomization");
    let v: serde_yaml::Value = serde_yaml::from_str(&text).expect("kustomization parses");
    v["resources"]
        .as_sequence()
        .expect("resources list")
        .iter()
        .map(|r| r.as_str().expect("str").to_string())
        .collect()
}

/// `kubectl kustomize managed/` must build and print each managed object exactly once.
/// Returns (kind, name) per object printed.
pub fn kustomize(f: &Path) -> Vec<(String, String)> {
    let out = Command::new("kubectl")
        .arg("kustomize")
        .arg(f.join("managed"))
        .output()
        .expect("kubectl is on the machine");
    assert!(
        out.status.success(),
        "kubectl kustomize failed for {}: {}",
        f.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).expect("utf8");
    let mut objs = Vec::new();
    for d in serde_yaml::Deserializer::from_str(&text) {
        let v: serde_yaml::Value =
            serde::Deserialize::deserialize(d).expect("kubectl output parses");
        if v.is_null() {
            continue;
        }
        objs.push((
            v["kind"].as_str().unwrap_or_default().to_string(),
            v["metadata"]["name"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
        ));
    }
    let files = kustomization(f);
    assert_eq!(
        objs.len(),
        files.len(),
        "kubectl printed {} objects for {} files",
        objs.len(),
        files.len()
    );
    let mut seen = BTreeMap::new();
    for o in &objs {
        *seen.entry(o.clone()).or_insert(0) += 1;
    }
    for (o, n) in seen {
        assert_eq!(n, 1, "{o:?} printed {n} times");
    }
    objs
}

/// Nothing in .hnp/ or unmanaged/ may look like a Kubernetes object to Argo CD or Flux: no
/// .yaml/.yml/.json file there parses to a mapping with apiVersion or kind at the top.
pub fn assert_nothing_looks_like_an_object(f: &Path) {
    for sub in [".hnp", "unmanaged"] {
        for rel in tree(&f.join(sub)) {
            let lower = rel.to_ascii_lowercase();
            if !(lower.ends_with(".yaml")
                || lower.ends_with(".yml")
                || lower.ends_with(".json")
                || lower.ends_with(".jsonl"))
            {
                continue;
            }
            let text = std::fs::read_to_string(f.join(sub).join(&rel)).unwrap_or_default();
            for line_doc in text.lines().filter(|_| lower.ends_with(".jsonl")) {
                let v: serde_json::Value = serde_json::from_str(line_doc).expect("jsonl line");
                assert!(
                    v.get("apiVersion").is_none() && v.get("kind").is_none(),
                    "{sub}/{rel} has an object-like record"
                );
            }
            if lower.ends_with(".jsonl") {
                continue;
            }
            for d in serde_yaml::Deserializer::from_str(&text) {
                if let Ok(serde_yaml::Value::Mapping(m)) =
                    <serde_yaml::Value as serde::Deserialize>::deserialize(d)
                {
                    assert!(
                        !m.contains_key("apiVersion")
                            && !m.contains_key("kind")
                            && !m.contains_key("metadata"),
                        "{sub}/{rel} looks like a Kubernetes object"
                    );
                }
            }
        }
    }
}

/// managed/ holds only the kustomization and object files.
pub fn assert_managed_is_clean(f: &Path) {
    for rel in tree(&f.join("managed")) {
        if rel == "kustomization.yaml" {
            continue;
        }
        let parts: Vec<_> = rel.split('/').collect();
        assert!(
            parts.len() == 2 && parts[1].ends_with(".yaml") && !parts[1].starts_with('.'),
            "stray file in managed/: {rel}"
        );
    }
}

/// Unmanaged items (not reason files or the README).
pub fn unmanaged_items(f: &Path) -> Vec<String> {
    tree(&f.join("unmanaged"))
        .into_iter()
        .filter(|r| r.ends_with(".unmanaged"))
        .collect()
}

/// Run fgd until it reaches fail point `point` (`name` or `name@N`), where it stops itself
/// (`FGD_FAILPOINT_ACTION=stop`); then `meanwhile` does what an operator might do at that very
/// instant, and the run goes on to its end. Panics if the run ends without reaching the point.
pub fn fgd_stopped_at(args: &[&str], point: &str, meanwhile: impl FnOnce()) -> Run {
    let out = tempfile::tempdir().expect("tempdir");
    let (stdout, stderr) = (out.path().join("stdout"), out.path().join("stderr"));
    let mut child = Command::new(fgd_bin())
        .args(args)
        .env("FGD_FAILPOINT", point)
        .env("FGD_FAILPOINT_ACTION", "stop")
        // Files, not pipes: a full pipe would block the run before it reaches the point.
        .stdout(std::fs::File::create(&stdout).expect("stdout file"))
        .stderr(std::fs::File::create(&stderr).expect("stderr file"))
        .spawn()
        .expect("run fgd");
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: waits for this test's own child; `status` is a valid out-pointer.
    let rc = unsafe { libc::waitpid(pid, &mut status, libc::WUNTRACED) };
    assert_eq!(rc, pid, "waitpid");
    let read = |p: &Path| std::fs::read_to_string(p).unwrap_or_default();
    assert!(
        libc::WIFSTOPPED(status),
        "fgd {args:?} ended (status {status:#x}) without reaching {point}: {}{}",
        read(&stdout),
        read(&stderr)
    );
    meanwhile();
    // SAFETY: signals this test's own stopped child.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGCONT) }, 0);
    let status = child.wait().expect("wait for fgd");
    Run {
        code: status.code().unwrap_or(-1),
        stdout: read(&stdout),
        stderr: read(&stderr),
    }
}

/// What an editor does on save: write a temp file beside `path`, rename it over `path`.
pub fn editor_save(path: &Path, text: impl AsRef<[u8]>) {
    let tmp = path.with_file_name(format!(
        ".{}.fgd-test-save",
        path.file_name().expect("a file").to_string_lossy()
    ));
    std::fs::write(&tmp, text).expect("write the editor's temp file");
    std::fs::rename(&tmp, path).expect("rename it over the original");
}
