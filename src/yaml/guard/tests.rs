use super::super::split;
use super::*;

/// `scan` without the skipping: every byte goes through `step`.
fn scan_every_byte(text: &str, max_depth: usize) -> Scan {
    let b = text.as_bytes();
    let mut s = Scanner::default();
    let mut i = 0;
    while i < b.len() {
        i = s.step(b, i, max_depth);
    }
    s.out
}

#[test]
fn skipping_the_bytes_scan_does_not_act_on_changes_nothing() {
    let alphabet = b"[]{}\"'#*\\ \t\n\r:,-?ab&!|>.</";
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for _ in 0..20_000 {
        let len = (next() % 60) as usize;
        let text: String = (0..len)
            .map(|_| alphabet[(next() % alphabet.len() as u64) as usize] as char)
            .collect();
        for depth in [1, 3] {
            assert_eq!(
                scan(&text, depth),
                scan_every_byte(&text, depth),
                "scan differs on {text:?} at depth {depth}"
            );
        }
    }
}

fn parse(t: &str) -> Vec<Result<Parsed, YamlError>> {
    split(t)
        .iter()
        .map(|c| parse_chunk(t, c, &Limits::default(), true))
        .collect()
}

#[test]
fn a_syntax_error_in_document_two_keeps_one_and_three_and_names_the_original_line() {
    let t = "a: 1\n---\nb: 2\n  c: 3\n---\nd: 4\n";
    let r = parse(t);
    assert!(matches!(r[0], Ok(Parsed::Document(..))));
    let e = r[1].as_ref().unwrap_err();
    assert_eq!(e.kind, YamlErrorKind::Syntax);
    assert_eq!(e.pos.line, 4, "{e:?}");
    assert!(
        !e.message.contains("line 2 "),
        "chunk-relative line leaked: {}",
        e.message
    );
    assert!(matches!(r[2], Ok(Parsed::Document(..))));
}

#[test]
fn control_characters_a_stray_bom_and_lone_carriage_returns_are_named_where_they_are() {
    let t = "a: 1\n---\nb: 2\nc: \"x\u{1}y\"\n";
    let e = parse(t).remove(1).unwrap_err();
    assert_eq!((e.pos.line, e.pos.column), (4, 6), "{e:?}");
    assert!(!e.message.contains("position"), "{}", e.message);

    let t = "a: 1\n---\n\u{feff}b: 2\n";
    let e = parse(t).remove(1).unwrap_err();
    assert_eq!((e.pos.line, e.pos.column), (3, 1), "{e:?}");
    assert!(e.message.contains("byte-order mark"), "{}", e.message);

    let t = "a: 1\rb: 2\r";
    let e = parse(t).remove(0).unwrap_err();
    assert_eq!((e.pos.line, e.pos.column), (1, 5), "{e:?}");
    assert!(e.message.contains("carriage return"), "{}", e.message);
    assert!(matches!(
        parse("a: 1\r\nb: 2\r\n")[0],
        Ok(Parsed::Document(..))
    ));
}

#[test]
fn billion_laughs_is_refused_fast() {
    let mut t = String::from(
        "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n",
    );
    for (n, p) in ["b", "c", "d", "e", "f", "g", "h", "i"]
        .iter()
        .zip(["a", "b", "c", "d", "e", "f", "g", "h"])
    {
        t.push_str(&format!(
            "{n}: &{n} [*{p},*{p},*{p},*{p},*{p},*{p},*{p},*{p},*{p}]\n"
        ));
    }
    let r = parse(&t);
    assert_eq!(
        r[0].as_ref().unwrap_err().kind,
        YamlErrorKind::AliasExpansion
    );
}

#[test]
fn a_wide_anchor_aliased_a_few_levels_deep_is_refused() {
    let items: Vec<String> = (0..2000).map(|i| format!("k{i}")).collect();
    let mut t = format!("a: &a [{}]\n", items.join(","));
    t.push_str("b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\n");
    assert_eq!(
        parse(&t)[0].as_ref().unwrap_err().kind,
        YamlErrorKind::AliasExpansion
    );
}

#[test]
fn aliases_are_seen_whatever_the_scan_thinks_is_quoted() {
    // `pre:"open` is a plain scalar to libyaml, but a quote opener to a quote-aware scan,
    // which would then miss every alias after it.
    let mut t = String::from("x: pre:\"open\na: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n");
    for (i, prev) in ["b", "c", "d", "e", "f", "g", "h", "i"]
        .iter()
        .zip(["a", "b", "c", "d", "e", "f", "g", "h"])
    {
        t.push_str(&format!(
            "{i}: &{i} [*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev}]\n"
        ));
    }
    assert_eq!(
        parse(&t)[0].as_ref().unwrap_err().kind,
        YamlErrorKind::AliasExpansion
    );
}

#[test]
fn brackets_and_quotes_inside_plain_and_block_scalars_are_text() {
    let plain: String = (0..100)
        .map(|i| format!("r{i}: rock 'n roll [{i}, x)\n"))
        .collect();
    assert!(parse(&plain)[0].is_ok(), "{:?}", parse(&plain)[0]);
    let block: String = (0..100)
        .map(|i| format!("  if [ $x ]; then {{ \"{i}\n"))
        .collect();
    let t = format!("script: |\n{block}next: [1, 2]\n");
    assert!(parse(&t)[0].is_ok(), "{:?}", parse(&t)[0]);
    // Real nesting is still counted, in block context and in flow.
    let t = format!("x: {}{}\n", "[".repeat(70), "]".repeat(70));
    assert_eq!(
        parse(&t).remove(0).unwrap_err().kind,
        YamlErrorKind::TooDeep
    );
}

#[test]
fn modest_aliases_still_work() {
    let t = "base: &b {x: 1}\nuse: *b\nmerge:\n  <<: *b\n  y: 2\n";
    assert!(matches!(parse(t)[0], Ok(Parsed::Document(..))));
}

#[test]
fn deep_flow_nesting_is_refused_before_parsing() {
    let t = format!("x: {}{}\n", "[".repeat(5000), "]".repeat(5000));
    let e = parse(&t).remove(0).unwrap_err();
    assert_eq!(e.kind, YamlErrorKind::TooDeep);
    assert_eq!(
        e.pos,
        Pos {
            line: 1,
            column: 68
        }
    );
    // Brackets in quoted strings and comments do not count... unless unbalanced past the
    // limit, where the quote-blind count refuses as well.
    let t = format!("x: \"{}\"\n# {}\n", "]".repeat(100), "]".repeat(100));
    assert!(parse(&t)[0].is_ok());
    let t = format!(
        "x: ['{}', {}{}]\n",
        "]".repeat(70),
        "[".repeat(70),
        "]".repeat(70)
    );
    assert_eq!(
        parse(&t).remove(0).unwrap_err().kind,
        YamlErrorKind::TooDeep
    );
}

#[test]
fn deep_block_nesting_hits_the_recursion_limit() {
    let mut t = String::new();
    for i in 0..200 {
        t.push_str(&format!("{}k:\n", "  ".repeat(i)));
    }
    t.push_str(&format!("{}v\n", "  ".repeat(200)));
    assert_eq!(
        parse(&t).remove(0).unwrap_err().kind,
        YamlErrorKind::TooDeep
    );
}

#[test]
fn an_unknown_anchor_is_one_error_and_no_phantom_document() {
    let t = "a: *nope\n";
    let r = parse(t);
    assert_eq!(r.len(), 1);
    assert_eq!(r[0].as_ref().unwrap_err().kind, YamlErrorKind::Syntax);
}

#[test]
fn an_end_marker_followed_by_more_is_multiple_documents() {
    let t = "a: 1\n...\nb: 2\n";
    assert_eq!(
        parse(t).remove(0).unwrap_err().kind,
        YamlErrorKind::MultipleDocuments
    );
    assert!(matches!(parse("a: 1\n...\n")[0], Ok(Parsed::Document(..))));
}

#[test]
fn an_oversized_document_is_not_parsed() {
    let t = format!("a: \"{}\"\n", "x".repeat(4 << 20));
    assert_eq!(
        parse(&t).remove(0).unwrap_err().kind,
        YamlErrorKind::TooLarge
    );
}

#[test]
fn comments_only_is_empty_and_a_bare_null_is_a_document() {
    assert_eq!(parse("# nothing\n")[0], Ok(Parsed::Empty));
    assert_eq!(parse("a: 1\n---\n")[1], Ok(Parsed::Empty));
    assert!(matches!(
        &parse("~\n")[0],
        Ok(Parsed::Document(serde_yaml::Value::Null, None, Some(tree)))
            if tree.value == crate::yaml::tree::Value::Null
    ));
}
