//! Property tests of the hand-written parsers, through their public API: the YAML splitter,
//! the guard's pre-scan (through `parse_chunk`), known_hosts matching (against OpenSSH's own
//! `ssh-keygen -F`) and git URL parsing. Each property is one the code promises in its
//! comments; proptest shrinks a failure to a minimal input.

use proptest::prelude::*;

/// Lines that exercise the splitter and the pre-scan: separators and look-alikes, comments,
/// directives, block and flow nodes, quotes, and now and then any text at all.
fn yaml_line() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => prop_oneof![
            Just("---".to_string()),
            Just("--- ".to_string()),
            Just("---\t".to_string()),
            Just("--- {a: 1}".to_string()),
            Just("--- !!map".to_string()),
            Just("--- # c".to_string()),
            Just("--- |".to_string()),
            Just("----".to_string()),
            Just(" ---".to_string()),
            Just("---x".to_string()),
            Just("...".to_string()),
        ],
        3 => prop_oneof![
            Just("# c".to_string()),
            Just("#".to_string()),
            Just("  # indented".to_string()),
            Just("%YAML 1.2".to_string()),
            Just(String::new()),
            Just("  ".to_string()),
            Just("\t".to_string()),
        ],
        6 => "[a-z]{1,6}: [a-z0-9 '\"#\\[\\]{},&*!|>-]{0,12}",
        3 => "  [a-z]{1,4}: [a-z\\[\\]{}\"']{0,6}",
        2 => "- [a-z\\[\\]{}]{0,6}",
        1 => "[\"'][a-z #\\[\\]]{0,8}",
        1 => any::<String>().prop_map(|s| s.chars().take(12).filter(|c| *c != '\n').collect()),
    ]
}

/// A file's text: lines, LF or CRLF, with or without a final line break.
fn yaml_text() -> impl Strategy<Value = String> {
    (
        prop::collection::vec(yaml_line(), 0..24),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(lines, crlf, last)| {
            let eol = if crlf { "\r\n" } else { "\n" };
            let mut text = lines.join(eol);
            if last && !text.is_empty() {
                text.push_str(eol);
            }
            text
        })
}

mod splitter {
    use super::*;
    use fgd::yaml::{split, whole};

    /// The line starts of `text` (as `split_inclusive('\n')` cuts it).
    fn line_starts(text: &str) -> Vec<usize> {
        let mut starts = vec![0];
        starts.extend(
            text.match_indices('\n')
                .map(|(i, _)| i + 1)
                .filter(|&i| i < text.len()),
        );
        if text.is_empty() {
            starts.clear();
        }
        starts
    }

    fn is_separator(line: &str) -> bool {
        let l = line.trim_end_matches(['\n', '\r']);
        l.strip_prefix("---")
            .is_some_and(|r| r.is_empty() || r.starts_with([' ', '\t']))
    }

    fn is_blank(line: &str) -> bool {
        line.trim_matches([' ', '\t', '\r', '\n']).is_empty()
    }

    fn is_comment(line: &str) -> bool {
        !is_separator(line)
            && (line.trim_start_matches([' ', '\t']).starts_with('#') || line.starts_with('%'))
    }

    fn check(text: &str) -> Result<(), TestCaseError> {
        let chunks = split(text);
        let lines: Vec<&str> = text.split_inclusive('\n').collect();
        if lines.iter().all(|l| is_blank(l)) {
            prop_assert!(chunks.is_empty(), "a blank text has no document");
            return Ok(());
        }
        // Contiguous, covering the whole text, each starting on a line of its own.
        prop_assert_eq!(chunks[0].range.start, 0);
        prop_assert_eq!(chunks.last().map(|c| c.range.end), Some(text.len()));
        let starts = line_starts(text);
        for (i, c) in chunks.iter().enumerate() {
            prop_assert_eq!(c.index, i);
            prop_assert!(c.range.start < c.range.end, "an empty chunk: {:?}", c);
            if i > 0 {
                prop_assert_eq!(c.range.start, chunks[i - 1].range.end);
            }
            let first = starts.binary_search(&c.range.start);
            prop_assert!(first.is_ok(), "chunk {} starts mid-line", i);
            let first = first.unwrap_or_default();
            prop_assert_eq!(
                (c.start.line, c.start.column),
                (first + 1, 1),
                "chunk {} position",
                i
            );
            let body: Vec<&str> = text[c.range.clone()].split_inclusive('\n').collect();
            // A separator never stands inside a document: at most one per chunk, with
            // nothing but blank and comment lines before it.
            let seps: Vec<usize> = (0..body.len()).filter(|&k| is_separator(body[k])).collect();
            prop_assert!(
                seps.len() <= 1,
                "chunk {} holds {} separators",
                i,
                seps.len()
            );
            if i > 0 {
                prop_assert_eq!(seps.len(), 1, "chunk {} has no separator of its own", i);
                // Before it: the comment block that came with it (column-0 comments first).
                let lead = body[0];
                prop_assert!(
                    is_separator(lead) || lead.starts_with('#') || lead.starts_with('%'),
                    "chunk {} starts with {:?}",
                    i,
                    lead
                );
            }
            if let Some(&k) = seps.first() {
                for line in &body[..k] {
                    prop_assert!(
                        is_blank(line) || is_comment(line),
                        "chunk {}: {:?} before its separator",
                        i,
                        line
                    );
                }
            }
            // Its content starts at its first line that is neither blank nor a comment.
            // (A separator line counts only with a node after its `---`.)
            let bare_separator = |line: &str| {
                is_separator(line) && {
                    let rest =
                        line.trim_end_matches(['\n', '\r'])[3..].trim_start_matches([' ', '\t']);
                    rest.is_empty() || rest.starts_with('#')
                }
            };
            let content = (0..body.len())
                .find(|&k| !(is_blank(body[k]) || is_comment(body[k]) || bare_separator(body[k])));
            prop_assert_eq!(
                c.content.map(|p| p.line),
                content.map(|k| first + k + 1),
                "chunk {} content",
                i
            );
            // A chunk that took a comment block from the document before knows where its
            // own separator is, and can give the block back whole.
            match c.travelled {
                Some(sep) => {
                    prop_assert!(i > 0 && !is_separator(body[0]));
                    prop_assert!(is_separator(
                        text[sep..].split_inclusive('\n').next().unwrap_or_default()
                    ));
                    let (longer, shorter) = c
                        .give_back(&chunks[i - 1], text)
                        .unwrap_or_else(|| unreachable!("a travelled chunk gives its block back"));
                    prop_assert_eq!(longer.range.start, chunks[i - 1].range.start);
                    prop_assert_eq!(longer.range.end, sep);
                    prop_assert_eq!(shorter.range.clone(), sep..c.range.end);
                    prop_assert_eq!(shorter.start.line, text[..sep].matches('\n').count() + 1);
                }
                None => prop_assert!(i == 0 || is_separator(body[0])),
            }
        }
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn chunks_cover_the_text_and_a_separator_only_ever_starts_a_document(text in yaml_text()) {
            check(&text)?;
        }

        #[test]
        fn any_text_at_all_splits_without_losing_a_byte(text in any::<String>()) {
            check(&text)?;
            let w = whole(&text);
            prop_assert_eq!(w.len(), usize::from(!text.trim().is_empty()));
            if let Some(c) = w.first() {
                prop_assert_eq!(c.range.clone(), 0..text.len());
            }
        }

        #[test]
        fn documents_joined_by_separators_come_back_one_per_chunk(
            docs in prop::collection::vec(
                prop::collection::vec("[a-z]{1,5}: [a-z0-9]{0,5}", 1..5), 1..8),
        ) {
            let texts: Vec<String> = docs.iter().map(|d| d.join("\n") + "\n").collect();
            let text = texts.join("---\n");
            let chunks = split(&text);
            prop_assert_eq!(chunks.len(), texts.len());
            for (c, doc) in chunks.iter().zip(&texts) {
                let body = &text[c.range.clone()];
                prop_assert_eq!(body.strip_prefix("---\n").unwrap_or(body), doc.as_str());
            }
        }
    }
}

mod prescan {
    use super::*;
    use fgd::yaml::{parse_chunk, split, Limits, Parsed, YamlErrorKind};

    fn limits(depth: usize) -> Limits {
        Limits {
            max_flow_depth: depth,
            ..Limits::default()
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(1000))]

        // An unclosed flow collection at a document's end is marked by libyaml past the
        // end, on the next document's `---` line or past the file: fgd reports it on the
        // document's own last line.
        #[test]
        fn every_position_reported_lies_in_its_own_document(text in yaml_text(), depth in 1usize..6) {
            let last_line = text.split_inclusive('\n').count().max(1);
            let chunks = split(&text);
            for (i, c) in chunks.iter().enumerate() {
                let end_line = chunks.get(i + 1).map_or(last_line, |n| n.start.line - 1);
                let parsed = parse_chunk(&text, c, &limits(depth), true);
                // With its tree or without, a document reads the same (`yaml::tree_head`).
                let without_tree = parse_chunk(&text, c, &limits(depth), false);
                let treeless = match parsed.clone() {
                    Ok(Parsed::Document(head, u, _)) => Ok(Parsed::Document(head, u, None)),
                    other => other,
                };
                prop_assert_eq!(&treeless, &without_tree, "{:?} chunk {}", &text, i);
                let pos = match parsed {
                    Err(e) => Some(e.pos),
                    Ok(Parsed::Document(_, Some(u), _)) => Some(u.pos),
                    Ok(_) => None,
                };
                if let Some(p) = pos {
                    prop_assert!(
                        (c.start.line..=end_line).contains(&p.line) && p.column >= 1,
                        "{:?} outside lines {}..={} of chunk {}", p, c.start.line, end_line, i
                    );
                }
            }
        }

        #[test]
        fn flow_nesting_is_refused_exactly_past_the_limit(depth in 1usize..12, n in 0usize..16) {
            let text = format!("a: {}{}\n", "[".repeat(n), "]".repeat(n));
            let chunks = split(&text);
            let r = parse_chunk(&text, &chunks[0], &limits(depth), true);
            match r {
                Err(e) if e.kind == YamlErrorKind::TooDeep => {
                    prop_assert!(n > depth, "refused at {} within {}", n, depth);
                    prop_assert_eq!(e.pos.line, 1);
                }
                other => prop_assert!(n <= depth && other.is_ok(), "{} in {}: {:?}", n, depth, other),
            }
        }

        #[test]
        fn brackets_in_strings_count_only_toward_the_quote_blind_limit_and_comments_not_at_all(
            depth in 1usize..6,
            n in 1usize..40,
            form in 0usize..3,
        ) {
            let text = bracket_text(form, n);
            check_brackets(&text, depth, n, form != 2)?;
        }

        // A block scalar's line is counted blind only, and a crossing there is reported on
        // that line (it once fell to the line's end, past the line's start).
        #[test]
        fn brackets_in_a_block_scalar_count_only_toward_the_quote_blind_limit(
            depth in 1usize..6,
            n in 1usize..40,
        ) {
            check_brackets(&bracket_text(3, n), depth, n, true)?;
        }
    }

    /// `n` open brackets in a double-quoted, single-quoted, comment or block scalar text.
    fn bracket_text(form: usize, n: usize) -> String {
        let deep = "[".repeat(n);
        match form {
            0 => format!("a: \"{deep}\"\nb: 1\n"),
            1 => format!("a: '{deep}'\nb: 1\n"),
            2 => format!("# {deep}\na: 1\n"),
            _ => format!("a: |\n  {deep}\nb: 1\n"),
        }
    }

    /// guard.rs: a quote-blind count (four times the limit: BLIND_FACTOR) guards against text
    /// crafted to fool the quote-aware one; whole-line comments count toward neither.
    fn check_brackets(
        text: &str,
        depth: usize,
        n: usize,
        counted: bool,
    ) -> Result<(), TestCaseError> {
        const BLIND_FACTOR: usize = 4;
        let chunks = split(text);
        let r = parse_chunk(text, &chunks[0], &limits(depth), true);
        if counted && n > depth * BLIND_FACTOR {
            let Err(e) = &r else {
                return Err(TestCaseError::fail(format!("{text:?}: {r:?}")));
            };
            prop_assert_eq!(e.kind, YamlErrorKind::TooDeep);
            let line = text.lines().position(|l| l.contains('[')).unwrap_or(0) + 1;
            prop_assert_eq!(e.pos.line, line, "{:?}", e);
            prop_assert!(e.pos.column >= 1, "{:?}", e);
        } else {
            prop_assert!(matches!(r, Ok(Parsed::Document(..))), "{:?}: {:?}", text, r);
        }
        Ok(())
    }

    #[test]
    fn nesting_far_past_the_limit_is_refused_without_exhausting_the_stack() {
        for n in [65, 1_000, 100_000] {
            let text = format!("a: {}{}\n", "[".repeat(n), "]".repeat(n));
            let chunks = split(&text);
            let e = parse_chunk(&text, &chunks[0], &Limits::default(), true).unwrap_err();
            assert_eq!(e.kind, YamlErrorKind::TooDeep, "{n}");
        }
    }
}

mod known_hosts {
    use super::*;
    use base64::Engine as _;
    use fgd::git::known_hosts::{check, host_pattern, HostKeyVerdict};
    use std::path::{Path, PathBuf};
    use std::process::Command;

    /// A key pair made by ssh-keygen once per run: its known_hosts key field and its blob.
    fn key() -> &'static (String, Vec<u8>) {
        static KEY: std::sync::OnceLock<(String, Vec<u8>)> = std::sync::OnceLock::new();
        KEY.get_or_init(|| {
            let dir = tempfile::tempdir().unwrap();
            let k = dir.path().join("k");
            let ok = Command::new("ssh-keygen")
                .args(["-q", "-t", "ed25519", "-N", "", "-f"])
                .arg(&k)
                .status()
                .expect("ssh-keygen (.ci/run installs openssh-client)");
            assert!(ok.success());
            let public = std::fs::read_to_string(k.with_extension("pub")).unwrap();
            let mut f = public.split_whitespace();
            let (kind, data) = (f.next().unwrap(), f.next().unwrap());
            let blob = base64::engine::general_purpose::STANDARD
                .decode(data)
                .unwrap();
            (format!("{kind} {data}"), blob)
        })
    }

    /// What OpenSSH says: whether `name` has an entry in `file` (`ssh-keygen -F`).
    fn openssh_lists(file: &Path, name: &str) -> bool {
        Command::new("ssh-keygen")
            .args(["-F", name, "-f"])
            .arg(file)
            .output()
            .expect("ssh-keygen")
            .status
            .success()
    }

    /// Host labels from a small set, so that patterns and names meet often.
    fn label() -> impl Strategy<Value = String> {
        prop::sample::select(vec!["a", "b", "ab", "git", "x1", "example", "com"])
            .prop_map(str::to_string)
    }

    fn hostname() -> impl Strategy<Value = String> {
        (
            prop::collection::vec(label(), 1..4),
            prop::option::of(prop::sample::select(vec![22u16, 2222, 443])),
        )
            .prop_map(|(labels, port)| host_pattern(&labels.join("."), port))
    }

    /// A pattern: a host name with some labels or characters turned into wildcards, maybe
    /// negated.
    fn pattern() -> impl Strategy<Value = String> {
        (
            hostname(),
            prop::collection::vec(0usize..4, 0..3),
            any::<bool>(),
        )
            .prop_map(|(host, wild, negate)| {
                let mut p: Vec<char> = host.chars().collect();
                for (k, w) in wild.iter().enumerate() {
                    let at = (k * 7 + w) % p.len().max(1);
                    if at < p.len() && p[at].is_ascii_alphanumeric() {
                        p[at] = if *w % 2 == 0 { '*' } else { '?' };
                    }
                }
                let p: String = p.into_iter().collect();
                if negate {
                    format!("!{p}")
                } else {
                    p
                }
            })
    }

    /// known_hosts entries: comma lists of patterns, one key for all.
    fn entries() -> impl Strategy<Value = Vec<Vec<String>>> {
        prop::collection::vec(prop::collection::vec(pattern(), 1..4), 1..5)
    }

    fn write_file(dir: &Path, entries: &[Vec<String>]) -> PathBuf {
        let file = dir.join("known_hosts");
        let text: String = entries
            .iter()
            .map(|e| format!("{} {}\n", e.join(","), key().0))
            .collect();
        std::fs::write(&file, text).unwrap();
        file
    }

    fn fgd_knows(file: &Path, name: &str) -> bool {
        check(&[file.to_path_buf()], name, &key().1) == HostKeyVerdict::Known
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        #[test]
        fn a_host_is_known_exactly_when_openssh_finds_it(entries in entries(), name in hostname()) {
            let dir = tempfile::tempdir().unwrap();
            let file = write_file(dir.path(), &entries);
            prop_assert_eq!(fgd_knows(&file, &name), openssh_lists(&file, &name),
                "{} against {:?}", name, std::fs::read_to_string(&file).unwrap_or_default());
        }

        // OpenSSH lowercases a host name before it looks it up, and matches patterns without
        // regard to case (`match_hostname`).
        #[test]
        fn host_names_match_without_regard_to_case_as_in_openssh(
            entries in entries(),
            name in hostname(),
            upper in prop::collection::vec(any::<bool>(), 0..8),
        ) {
            let shout = |s: &str, k: usize| -> String {
                s.chars()
                    .enumerate()
                    .map(|(i, c)| if upper.get((i + k) % 8) == Some(&true) { c.to_ascii_uppercase() } else { c })
                    .collect()
            };
            let entries: Vec<Vec<String>> = entries
                .iter()
                .enumerate()
                .map(|(k, e)| e.iter().map(|p| shout(p, k)).collect())
                .collect();
            let dir = tempfile::tempdir().unwrap();
            let file = write_file(dir.path(), &entries);
            let asked = shout(&name, 3);
            prop_assert_eq!(fgd_knows(&file, &asked), openssh_lists(&file, &asked.to_lowercase()),
                "{} against {:?}", asked, std::fs::read_to_string(&file).unwrap_or_default());
        }

        #[test]
        fn hashed_entries_match_as_the_plain_ones_they_were_made_from(
            hosts in prop::collection::vec(hostname(), 1..4),
            name in hostname(),
        ) {
            // ssh-keygen -H hashes each name of a line (no wildcards: it cannot).
            let dir = tempfile::tempdir().unwrap();
            let file = write_file(dir.path(), std::slice::from_ref(&hosts));
            let plain = fgd_knows(&file, &name);
            let ok = Command::new("ssh-keygen").args(["-q", "-H", "-f"]).arg(&file)
                .output().expect("ssh-keygen -H");
            prop_assert!(ok.status.success());
            let hashed = std::fs::read_to_string(&file).unwrap_or_default();
            prop_assert!(hashed.lines().all(|l| l.starts_with("|1|")), "{}", hashed);
            prop_assert_eq!(fgd_knows(&file, &name), plain, "{} against {}", name, hashed);
            prop_assert_eq!(plain, hosts.contains(&name));
        }
    }
}

mod git_urls {
    use super::*;
    use fgd::git::transport::url_info;

    fn host() -> impl Strategy<Value = (String, String)> {
        // (as written in the URL, as url_info should name it)
        prop_oneof![
            "[a-z][a-z0-9-]{0,8}(\\.[a-z][a-z0-9]{0,5}){0,3}".prop_map(|h| (h.clone(), h)),
            (0u8..=255, 0u8..=255, 0u8..=255, 1u8..=254).prop_map(|(a, b, c, d)| {
                let h = format!("{a}.{b}.{c}.{d}");
                (h.clone(), h)
            }),
            Just(("[::1]".to_string(), "::1".to_string())),
            Just(("[fe80::1:2]".to_string(), "fe80::1:2".to_string())),
        ]
    }

    /// A user and password of RFC 3986 userinfo characters (what git percent-encodes).
    fn userinfo() -> impl Strategy<Value = Option<(String, Option<String>)>> {
        prop::option::of((
            "[a-zA-Z0-9._~-]{1,10}",
            prop::option::of("[a-zA-Z0-9._~!$&'()*+,;=%-]{1,16}"),
        ))
    }

    fn path() -> impl Strategy<Value = String> {
        "(/[a-zA-Z0-9._~-]{1,8}){0,4}(/[a-z]{1,5}\\.git)?"
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn a_url_is_read_back_into_its_parts_and_never_shows_its_userinfo(
            scheme in prop::sample::select(vec!["ssh", "git+ssh", "https", "http", "git", "file"]),
            (written, named) in host(),
            user in userinfo(),
            port in prop::option::of(1u16..),
            path in path(),
        ) {
            let info = match &user {
                Some((u, Some(p))) => format!("{u}:{p}@"),
                Some((u, None)) => format!("{u}@"),
                None => String::new(),
            };
            let port_text = port.map(|p| format!(":{p}")).unwrap_or_default();
            let url = format!("{scheme}://{info}{written}{port_text}{path}");
            let u = url_info(&url);
            let transport = match scheme {
                "git+ssh" => "ssh",
                s => s,
            };
            prop_assert_eq!(u.transport, transport, "{}", url);
            prop_assert_eq!(u.host.as_deref(), Some(named.as_str()), "{}", url);
            prop_assert_eq!(u.port, port, "{}", url);
            prop_assert_eq!(&u.shown, &format!("{scheme}://{written}{port_text}{path}"));
            if let Some((_, Some(password))) = &user {
                prop_assert!(!u.shown.contains(&format!(":{password}@")), "{}", u.shown);
            }
        }

        #[test]
        fn the_scp_form_is_ssh_to_its_host_and_shows_no_user(
            user in prop::option::of("[a-z][a-z0-9_-]{0,8}"),
            (written, named) in host().prop_filter("scp form takes no brackets", |(w, _)| !w.starts_with('[')),
            path in "[a-zA-Z0-9._~-]{1,8}(/[a-zA-Z0-9._~-]{1,8}){0,3}",
        ) {
            let at = user.as_ref().map(|u| format!("{u}@")).unwrap_or_default();
            let url = format!("{at}{written}:{path}");
            let u = url_info(&url);
            prop_assert_eq!(u.transport, "ssh", "{}", url);
            prop_assert_eq!(u.host.as_deref(), Some(named.as_str()), "{}", url);
            prop_assert_eq!(u.port, None);
            prop_assert_eq!(&u.shown, &format!("{written}:{path}"));
        }

        #[test]
        fn a_path_is_a_local_file_url(path in "(/|\\./|\\.\\./)[a-zA-Z0-9._~/-]{0,20}") {
            let u = url_info(&path);
            prop_assert_eq!(u.transport, "file");
            prop_assert_eq!(u.host, None);
            prop_assert_eq!(&u.shown, &path);
        }
    }
}
