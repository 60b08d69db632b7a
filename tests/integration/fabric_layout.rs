//! Fabrics do not nest, and an existing GitOps folder is onboarded without losing a byte.

use crate::common;

use common::*;

fn vpc(name: &str) -> String {
    format!("apiVersion: vpc.githedgehog.com/v1beta1\nkind: VPC\nmetadata:\n  name: {name}\n")
}

#[test]
fn init_refuses_inside_another_fabric_or_over_one_in_raw_naming_both() {
    let (t, f) = fabric();
    for inner in [
        f.join("raw/inner"),
        f.join("raw/site/deep"),
        f.join("managed/x"),
    ] {
        let r = fgd(&["init", s(&inner)]);
        assert_eq!(r.code, 3, "{}", r.stderr);
        assert!(
            r.stderr.contains(s(&inner)) && r.stderr.contains(s(&f.canonicalize().unwrap())),
            "names both: {}",
            r.stderr
        );
        assert!(!inner.exists(), "nothing made: {}", inner.display());
    }
    // A folder whose raw/ holds a fabric (made elsewhere, then moved in) is refused too.
    let outer = t.path().join("outer");
    let elsewhere = t.path().join("elsewhere");
    assert_eq!(fgd(&["init", s(&elsewhere)]).code, 0);
    std::fs::create_dir_all(outer.join("raw")).unwrap();
    std::fs::rename(&elsewhere, outer.join("raw/elsewhere")).unwrap();
    let r = fgd(&["init", s(&outer)]);
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert!(r.stderr.contains("raw/elsewhere"), "{}", r.stderr);
    assert!(!outer.join(".hnp").exists());
    // Running init again on a fabric is still fine.
    assert_eq!(fgd(&["init", s(&f)]).code, 0);
}

#[test]
fn ingest_never_reads_into_a_fabric_inside_raw() {
    let (t, f) = fabric();
    // A fabric with objects of its own, moved into the outer one's raw/ afterwards.
    let inner = t.path().join("inner");
    assert_eq!(fgd(&["init", s(&inner)]).code, 0);
    write(&inner.join("raw/a.yaml"), vpc("inner-a"));
    assert_eq!(fgd(&["ingest", s(&inner)]).code, 0);
    write(&inner.join("raw/waiting.yaml"), vpc("inner-b"));
    let before = tree(&inner);
    std::fs::rename(&inner, f.join("raw/inner")).unwrap();
    write(&f.join("raw/own.yaml"), vpc("own"));

    let r = fgd(&["ingest", s(&f), "--json"]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert_eq!(
        tree(&f.join("raw/inner")),
        before,
        "the inner fabric is untouched"
    );
    let skipped = r.of("file-skipped");
    assert!(
        skipped
            .iter()
            .any(|e| e["file"] == "raw/inner/raw/waiting.yaml"
                && e["detail"].as_str().unwrap().contains("fabric of its own")),
        "{}",
        r.stdout
    );
    assert_eq!(kustomize(&f), [("VPC".to_string(), "own".to_string())]);
}

#[test]
fn init_leaves_root_yaml_named_and_adopt_existing_moves_it_into_raw() {
    let t = tempfile::tempdir().unwrap();
    let f = t.path().join("gitops");
    write(&f.join("vpc-a.yaml"), vpc("a"));
    write(
        &f.join("config.yml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n",
    );
    write(&f.join("site/b.yaml"), vpc("b"));
    write(&f.join("notes.txt"), "not yaml\n");

    let r = fgd(&["init", s(&f)]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.contains("config.yml, vpc-a.yaml") && r.stdout.contains("--adopt-existing"),
        "names what it left and the flag: {}",
        r.stdout
    );
    assert!(f.join("vpc-a.yaml").exists());

    let r = fgd(&["init", s(&f), "--adopt-existing", "--adopt-folder", "site"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.contains("next ingest:") && r.stdout.contains("2 managed"),
        "says what the next ingest will do: {}",
        r.stdout
    );
    for (from, text) in [
        ("vpc-a.yaml", vpc("a")),
        ("site/b.yaml", vpc("b")),
        (
            "config.yml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n".to_string(),
        ),
    ] {
        assert!(!f.join(from).exists(), "{from} moved");
        assert_eq!(
            std::fs::read_to_string(f.join("raw").join(from)).unwrap(),
            text
        );
        let archived: Vec<String> = tree(&f.join(".hnp/archive"))
            .into_iter()
            .filter(|p| p.ends_with(&format!("adopted~dir/{from}.orig")))
            .collect();
        assert_eq!(archived.len(), 1, "{from}: {archived:?}");
        assert_eq!(
            std::fs::read_to_string(f.join(".hnp/archive").join(&archived[0])).unwrap(),
            text,
            "byte-identical original"
        );
    }
    assert!(f.join("notes.txt").exists(), "only YAML is adopted");
    let r = fgd(&["ingest", s(&f)]);
    assert_eq!(r.code, 1, "the ConfigMap goes to unmanaged/: {}", r.stdout);
    assert_eq!(kustomize(&f).len(), 2);
    assert_nothing_looks_like_an_object(&f);
}
