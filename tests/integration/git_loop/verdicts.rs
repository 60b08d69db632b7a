//! The cache of verdicts (`.git/fgd/verdicts`): what validation said of each managed/ file, by
//! blob id. A run that takes unchanged files from it says exactly what a run that reads and
//! checks every file says; a damaged cache is ignored, never trusted, never an error.

use super::*;

/// The problem events of a `--json` run, sorted.
fn problems(r: &Run) -> Vec<String> {
    let mut v: Vec<String> = r
        .stdout
        .lines()
        .filter(|l| l.contains("\"event\":\"problem\""))
        .map(str::to_string)
        .collect();
    v.sort();
    v
}

/// The YAML files of managed/ (its objects and the kustomization), each of which the cache
/// holds an entry for.
fn yaml_files(fab: &Path) -> usize {
    common::tree(&fab.join("managed"))
        .iter()
        .filter(|p| p.ends_with(".yaml"))
        .count()
}

#[test]
fn verdicts_from_the_cache_are_those_a_full_check_gives() {
    let w = World::new();
    let bare = w.bare("fab");
    let (wc, fab) = w.clone(&bare, "a", s(&bare));
    ok(&w.fgd(&["init", s(&fab), "--push"], &[]), "init --push");
    // A generated fabric of 400 objects: namespaces, switches, connections, VPCs and
    // attachments, a few invalid, with problems of single objects and across them.
    let gen = Command::new("python3")
        .arg(shared().join("bench/gen_corpus.py"))
        .args(["--docs", "400", "--files", "4", "--seed", "1"])
        .args(["--invalid-fraction", "0.05", "--out"])
        .arg(w.state().join("raw"))
        .arg("--manifest")
        .arg(w.state().join("manifest.json"))
        .output()
        .unwrap();
    assert!(
        gen.status.success(),
        "{}",
        String::from_utf8_lossy(&gen.stderr)
    );
    for e in std::fs::read_dir(w.state().join("raw")).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), fab.join("raw").join(e.file_name())).unwrap();
    }
    let all = ["--rules", "all", "--json"];
    let sync = |extra: &[&str]| w.fgd(&[&["sync", s(&fab)][..], extra].concat(), &[]);
    let r = sync(&all);
    // Exit 1: the invalid objects went to unmanaged/.
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    let cache = wc.join(".git/fgd/verdicts");
    let text = std::fs::read_to_string(&cache).expect("the sync keeps its verdicts");
    // One entry per file, after a header line.
    assert_eq!(text.lines().count() - 1, yaml_files(&fab));
    // 168 objects: the generator's switches break the default fab config's rules, and their
    // connections and attachments go with them.
    assert!(yaml_files(&fab) > 150);

    // One more object: the dry run checks it over managed/, with the cache and without.
    write(
        &fab.join("raw/web.yaml"),
        "apiVersion: vpc.githedgehog.com/v1beta1\nkind: VPC\nmetadata:\n  name: web\nspec:\n  ipv4Namespace: ipns-0001\n  vlanNamespace: vlanns-0001\n  subnets:\n    web:\n      subnet: 10.129.250.0/24\n      vlan: 1079\n",
    );
    // And one whose subnet is a managed VPC's: refused across objects, from that VPC's facts,
    // which the warm run takes from the cache.
    let managed_vpc = std::fs::read_to_string(fab.join("managed/vpcs/vpc-0001-1.yaml")).unwrap();
    let taken = managed_vpc
        .lines()
        .find_map(|l| l.trim().strip_prefix("subnet: "))
        .expect("a subnet");
    write(
        &fab.join("raw/clash.yaml"),
        format!("apiVersion: vpc.githedgehog.com/v1beta1\nkind: VPC\nmetadata:\n  name: clash\nspec:\n  ipv4Namespace: ipns-0001\n  vlanNamespace: vlanns-0001\n  subnets:\n    a:\n      subnet: {taken}\n      vlan: 1078\n"),
    );
    let dry = || {
        w.fgd(
            &[&["ingest", s(&fab), "--dry-run"][..], &all[..]].concat(),
            &[],
        )
    };
    let warm = dry();
    // Every managed file came from the cache: nothing new to keep, the file untouched.
    assert_eq!(std::fs::read_to_string(&cache).unwrap(), text);
    std::fs::remove_file(&cache).unwrap();
    let cold = dry();
    assert_eq!(problems(&warm), problems(&cold));
    assert!(
        problems(&cold)
            .iter()
            .any(|l| l.contains("raw/clash.yaml") && l.contains("managed/vpcs/vpc-0001-1.yaml")),
        "{}",
        cold.stdout
    );
    assert_eq!(warm.stdout.lines().count(), cold.stdout.lines().count());
    // A dry run changes nothing: it read every file, and kept none of it (issue 15).
    assert!(!cache.exists(), "a dry run wrote the cache");

    // Tampered with: a warning made an error in one entry, or the file cut short. Ignored.
    let tampered = text.replacen("\"severity\":\"warning\"", "\"severity\":\"error\"", 1);
    assert_ne!(tampered, text);
    for bad in [
        &tampered[..],
        &text[..text.len() / 2],
        "fgd-verdicts-1 x y\n",
    ] {
        std::fs::write(&cache, bad).unwrap();
        let r = dry();
        assert_eq!(r.code, cold.code, "{}", r.stderr);
        assert_eq!(problems(&r), problems(&cold));
        assert_eq!(
            std::fs::read_to_string(&cache).unwrap(),
            bad,
            "left as it was"
        );
    }

    // The sync itself, past the last bad file: the same problems, the new object published,
    // and the cache written afresh (its ingest), then what the check of the tip made appended
    // (the new kustomization's record; the old one's is no longer used, and stays until a
    // quarter of the file is such).
    let r = sync(&all);
    assert!(r.code <= 1, "{}\n{}", r.stdout, r.stderr);
    assert_eq!(problems(&r), problems(&cold));
    assert!(w.fresh(&bare).join("managed/vpcs/web.yaml").is_file());
    let after = std::fs::read_to_string(&cache).unwrap();
    let records = after.lines().count() - 1;
    assert!(
        (yaml_files(&fab)..=yaml_files(&fab) * 5 / 4).contains(&records),
        "{records} records for {} files",
        yaml_files(&fab)
    );

    // A hand edit the cluster would refuse, committed with git: the push names it, from the
    // errors the check across objects found in those very bytes, as without any cache.
    let web = fab.join("managed/vpcs/web.yaml");
    let edited = std::fs::read_to_string(&web)
        .unwrap()
        .replace("vlan: 1079", "vlan: 5000");
    write(&web, edited);
    git(&wc, &["commit", "-qam", "web on VLAN 5000"]);
    // push has no --rules: every rule, through a config of its own.
    let config = w.state().join("all-rules.toml");
    write(&config, "[validation]\nrules = \"all\"\n");
    let push = || w.fgd(&["push", s(&fab)], &[("FGD_CONFIG", s(&config))]);
    let named = |r: &Run| -> Vec<String> {
        r.stderr
            .lines()
            .filter(|l| l.contains("managed/vpcs/web.yaml:"))
            .map(str::to_string)
            .collect()
    };
    let r = push();
    assert_eq!(r.code, 3, "{}\n{}", r.stdout, r.stderr);
    assert!(
        named(&r)
            .iter()
            .any(|l| l.contains("5000") && l.contains("the cluster refuses it")),
        "{}",
        r.stderr
    );
    std::fs::remove_file(&cache).unwrap();
    // The plan of that push reads every managed file for the same check, and, a dry run,
    // keeps nothing of it.
    let plan = w.fgd(
        &["push", s(&fab), "--dry-run", "--json"],
        &[("FGD_CONFIG", s(&config))],
    );
    assert_eq!(plan.code, 0, "{}\n{}", plan.stdout, plan.stderr);
    assert!(
        plan.stdout.contains("push would refuse this commit") && plan.stdout.contains("5000"),
        "{}",
        plan.stdout
    );
    assert!(!cache.exists(), "push --dry-run wrote the cache");
    let again = push();
    assert_eq!(again.code, 3, "{}", again.stderr);
    assert_eq!(named(&again), named(&r));
}
