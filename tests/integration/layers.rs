//! The engine's layers (CONTRIBUTING.md, "The layers"): no cycle between its top-level
//! modules, as `tools/module_deps.py` finds them from the `crate::` paths of the code.

use std::path::Path;
use std::process::{Command, Output};

fn module_deps(args: &[&Path]) -> Output {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    Command::new("python3")
        .arg(root.join("tools/module_deps.py"))
        .args(args)
        .current_dir(root)
        .output()
        .expect("python3 runs")
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn no_cycle_between_engine_modules() {
    let out = module_deps(&[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
}

#[test]
fn the_checker_finds_a_cycle_and_leaves_test_code_out() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    std::fs::create_dir_all(src.join("b")).unwrap();
    std::fs::write(src.join("lib.rs"), "pub mod a;\npub mod b;\npub mod c;\n").unwrap();
    std::fs::write(
        src.join("a.rs"),
        "use crate::{b::{self, X}, c};\n// crate::c::ignored in a comment\n",
    )
    .unwrap();
    std::fs::write(
        src.join("b/mod.rs"),
        "mod inner;\n#[cfg(test)]\nmod tests;\n#[cfg(test)]\nmod more {\n    use crate::c;\n}\n",
    )
    .unwrap();
    std::fs::write(src.join("b/inner.rs"), "fn f() { super::super::a::g(); }\n").unwrap();
    std::fs::write(src.join("b/tests.rs"), "use crate::c;\n").unwrap();
    std::fs::write(src.join("c.rs"), "const S: &str = \"crate::a\";\n").unwrap();
    let out = module_deps(&[&src]);
    let said = text(&out);
    assert_eq!(out.status.code(), Some(1), "{said}");
    assert!(said.contains("cycle among a, b:"), "{said}");
    assert!(said.contains("a -> b  src/a.rs:1"), "{said}");
    assert!(said.contains("b -> a  src/b/inner.rs:1"), "{said}");
    // Only in test code, a comment or a string: no edge.
    assert!(
        !said.contains("b -> c") && !said.contains("c -> a"),
        "{said}"
    );
}
