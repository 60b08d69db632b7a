use super::*;
use crate::yaml::{guard, split, tree};

/// Every document of `text` the shortcut answers for gets the walk's answer (value, findings,
/// and no error where the walk has none). Gives how many documents there were and how many the
/// shortcut answered.
fn agree(text: &str) -> (usize, usize) {
    let (mut docs, mut short) = (0, 0);
    for chunk in split(text) {
        docs += 1;
        let body = &text[chunk.range.clone()];
        let mut seen = Seen::default();
        let Some((root, shape)) = tree::parse_watched(body, &mut |ev, k, d| seen.watch(ev, k, d))
        else {
            continue;
        };
        let Some(fast) = from_tree(body, &root, &shape, seen) else {
            continue;
        };
        short += 1;
        match guard::walk(body, &chunk) {
            Ok(Some(walked)) => assert_eq!(fast, walked, "the shortcut differs on {body:?}"),
            other => {
                panic!("the shortcut answered {fast:?} where the walk gives {other:?} on {body:?}")
            }
        }
    }
    (docs, short)
}

fn corpus_files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
    for e in std::fs::read_dir(dir).expect("corpus dir").flatten() {
        let p = e.path();
        if p.is_dir() {
            corpus_files(&p, out);
        } else {
            out.push(p);
        }
    }
}

#[test]
fn from_tree_agrees_with_the_walk_on_every_document_of_the_real_corpus() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/real");
    let mut files = Vec::new();
    corpus_files(&dir, &mut files);
    let (mut docs, mut short) = (0, 0);
    for f in files {
        let Ok(text) = std::fs::read_to_string(&f) else {
            continue;
        };
        let (d, s) = agree(&text);
        docs += d;
        short += s;
    }
    assert!(docs > 100, "only {docs} documents found under {dir:?}");
    // The shortcut is the common case, not a corner: most real documents take it.
    assert!(short * 2 > docs, "the shortcut answered {short} of {docs}");
}

#[test]
fn from_tree_agrees_with_the_walk_on_random_documents_of_hostile_pieces() {
    let keys = [
        "apiVersion",
        "kind",
        "metadata",
        "spec",
        "status",
        "name",
        "1",
        "08",
        "null",
        "True",
        "y",
        "'q'",
        "\"spec\"",
        "<<",
        "a b",
        "x",
        "!!str k",
        "&k k",
        "? [a]",
        ".inf",
        "",
    ];
    let values = [
        "v",
        "1001",
        "0x1F",
        "0o17",
        "0b11",
        ".inf",
        "-.Inf",
        "+.nan",
        "12345678901234567890",
        "-9223372036854775809",
        "1e400",
        "'x'",
        "\"y\"",
        "!!str 5",
        "&a 3",
        "*a",
        "yes",
        "~",
        "{a: 1, a: 2}",
        "[1, .nan]",
        "|\n    block",
        "2024-01-01",
        "0755",
        "1_000",
        "-",
        "",
    ];
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut next = move |n: usize| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % n as u64) as usize
    };
    // Mostly ordinary pieces, a hostile one now and then, so both ways are taken often.
    let value = move |next: &mut dyn FnMut(usize) -> usize| match next(6) {
        0 => values[next(values.len())],
        _ => values[next(2)],
    };
    let (mut docs, mut short) = (0, 0);
    for _ in 0..6_000 {
        let mut text = String::new();
        let break_ = ["\n", "\n", "\n", "\n", "\n", "\n", "\r\n", "\u{85}"][next(8)];
        for i in 0..1 + next(5) {
            let key = if next(12) == 0 {
                keys[next(keys.len())]
            } else {
                keys[i]
            };
            match next(4) {
                0 => {
                    text.push_str(&format!("{key}:{break_}"));
                    for _ in 0..1 + next(3) {
                        let k = if next(12) == 0 {
                            keys[next(keys.len())]
                        } else {
                            keys[5 + next(2)]
                        };
                        let v = value(&mut next);
                        text.push_str(&format!("  {k}: {v}{break_}"));
                    }
                }
                1 => text.push_str(&format!("{key}:{break_}- {}{break_}", value(&mut next))),
                2 => text.push_str(&format!(
                    "# note{break_}{key}: {}{break_}",
                    value(&mut next)
                )),
                _ => text.push_str(&format!("{key}: {}{break_}", value(&mut next))),
            }
        }
        if next(20) == 0 {
            text.push_str("...\n--- more\n");
        }
        let (d, s) = agree(&text);
        docs += d;
        short += s;
    }
    assert!(short * 5 > docs, "the shortcut answered {short} of {docs}");
}

#[test]
fn the_shortcut_is_taken_for_a_plain_object_and_refused_where_serde_yaml_may_differ() {
    let plain = "apiVersion: vpc.githedgehog.com/v1beta1\nkind: VPC\nmetadata:\n  name: web\nspec:\n  subnets:\n    default:\n      subnet: 10.0.1.0/24\n      vlan: 1001\n";
    let taken = |text: &str| {
        let mut seen = Seen::default();
        let (root, shape) = tree::parse_watched(text, &mut |ev, k, d| seen.watch(ev, k, d))?;
        from_tree(text, &root, &shape, seen)
    };
    let (head, _) = taken(plain).expect("a plain object takes the shortcut");
    assert_eq!(head.get("spec"), Some(&Value::Null));
    assert_eq!(head["metadata"]["name"], Value::String("web".into()));
    assert_eq!(agree(plain), (1, 1));
    for odd in [
        "spec:\n  a: !!int x\n",                     // a tag
        "spec:\n  a: &x 1\n  b: *x\n",               // an anchor and alias
        "spec:\n  1: a\n",                           // a key serde_yaml reads as a number
        "spec:\n  a: 1\n  a: 2\n",                   // a repeated key
        "spec:\n  a: .inf\n",                        // a non-finite float
        "spec:\n  a: 99999999999999999999\n",        // wider than 64 bits
        "spec:\n  <<: {a: 1}\n",                     // a merge key
        "metadata:\n  n: 1\nspec: {}\nkind: VPC\n",  // a number in the head, after another key
        "{metadata: {n: 1}, spec: {}}\n",            // ... in a flow mapping
        "  metadata: {n: 1}\n  spec: {}\n",          // ... not at the left margin
        "metadata: {n: 1, \"a\rb\": 2}\nspec: {}\n", // ... after a break `\n` does not count
    ] {
        let text = format!("apiVersion: v1\n{odd}");
        assert!(taken(&text).is_none(), "the shortcut was taken on {text:?}");
    }
    // Heads the events give whole, in any order and style; and one with a number, which
    // serde_yaml reads from the text before `spec`.
    for text in [
        "spec: {}\nkind: VPC\nmetadata: {name: web, labels: {a: 'x', b: null}}\n",
        "{\"kind\": \"VPC\", \"spec\": {\"vlan\": 1}, \"metadata\": {\"name\": \"web\"}}\n",
        "apiVersion: v1\nkind: VPC\nmetadata:\n  name: web\n  generation: 3\nspec:\n  a: 1\n",
    ] {
        assert!(taken(text).is_some(), "no shortcut on {text:?}");
        assert_eq!(agree(text), (1, 1), "{text:?}");
    }
}
