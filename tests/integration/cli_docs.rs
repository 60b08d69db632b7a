//! The command line's generated documentation: shell completions that a real bash completes
//! with, and a manual page that groff renders without a warning.

use crate::common;

use std::process::Command;

use common::*;

/// What bash's completion offers for `words` (the last one being completed).
fn bash_completes(words: &[&str]) -> Vec<String> {
    let script = fgd(&["completions", "bash"]);
    assert_eq!(script.code, 0, "{}", script.stderr);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("fgd.bash");
    std::fs::write(&file, &script.stdout).unwrap();
    let line = words.join(" ");
    let quoted: Vec<String> = words.iter().map(|w| format!("'{w}'")).collect();
    let program = format!(
        "source {file}\nCOMP_WORDS=({words})\nCOMP_CWORD={cword}\nCOMP_LINE='{line}'\nCOMP_POINT={point}\n_fgd fgd '{cur}' '{prev}'\nprintf '%s\\n' \"${{COMPREPLY[@]}}\"",
        file = s(&file),
        words = quoted.join(" "),
        cword = words.len() - 1,
        point = line.len(),
        cur = words[words.len() - 1],
        prev = words[words.len() - 2],
    );
    let out = Command::new("bash")
        .args(["--norc", "-c", &program])
        .output()
        .expect("bash");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect()
}

#[test]
fn bash_completes_commands_and_their_options_from_the_generated_script() {
    assert_eq!(bash_completes(&["fgd", "ing"]), ["ingest"]);
    assert_eq!(bash_completes(&["fgd", "ingest", "--dry"]), ["--dry-run"]);
    let all = bash_completes(&["fgd", ""]);
    for command in [
        "init",
        "validate",
        "ingest",
        "push",
        "sync",
        "dash",
        "completions",
        "man",
    ] {
        assert!(all.iter().any(|c| c == command), "{command} in {all:?}");
    }
    for shell in ["zsh", "fish", "elvish", "powershell"] {
        let r = fgd(&["completions", shell]);
        assert_eq!(r.code, 0, "{shell}: {}", r.stderr);
        assert!(r.stdout.contains("ingest"), "{shell}");
    }
    let r = fgd(&["completions", "tcsh"]);
    assert_eq!(r.code, 2, "an unknown shell is a usage error");
}

#[test]
fn the_manual_page_renders_without_a_warning_and_documents_every_command() {
    let page = fgd(&["man"]);
    assert_eq!(page.code, 0, "{}", page.stderr);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("fgd.1");
    std::fs::write(&file, &page.stdout).unwrap();
    let out = Command::new("groff")
        // Plain text: no overstriking for bold or underline.
        .args(["-man", "-Tutf8", "-ww", "-P-cbou"])
        .arg(&file)
        .output()
        .expect("groff is missing: .ci/run installs it (groff-base)");
    let warnings = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success() && warnings.is_empty(), "{warnings}");
    let text = String::from_utf8_lossy(&out.stdout);
    for heading in [
        "NAME",
        "SYNOPSIS",
        "FGD INGEST",
        "FGD PUSH",
        "ENVIRONMENT",
        "FGD_LOG",
    ] {
        assert!(text.contains(heading), "{heading} in:\n{text}");
    }
    assert!(text.contains("--dry-run"), "{text}");
    assert!(text.contains("4 I/O failure"), "exit codes: {text}");
}
