//! Cutting a file's text into documents at column-0 `---` lines, before any parsing, as
//! Kubernetes' own YAML reader does: a syntax error in one document cannot take its neighbours
//! down with it.

use std::ops::Range;

use super::Pos;

/// One document's slice of the text. The ranges of a file's chunks are contiguous and cover
/// the whole text, so nothing is lost between them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chunk {
    pub index: usize,
    pub range: Range<usize>,
    /// Position of `range.start`.
    pub start: Pos,
    /// First line that is not blank, a comment, a directive or the separator; None when the
    /// chunk holds no document (only comments).
    pub content: Option<Pos>,
    /// Where this chunk's own `---` line starts (a byte offset in the text), when the comment
    /// block before it came with it from the end of the document before.
    pub travelled: Option<usize>,
}

impl Chunk {
    /// Give the comment block this chunk took from the end of `before` back to it (it turned
    /// out to end a quoted scalar there): the two chunks as they are then, or None when this
    /// chunk took none.
    pub fn give_back(&self, before: &Chunk, text: &str) -> Option<(Chunk, Chunk)> {
        let sep = self.travelled?;
        let lines = text[self.range.start..sep]
            .bytes()
            .filter(|&b| b == b'\n')
            .count();
        let mut longer = before.clone();
        longer.range.end = sep;
        let shorter = Chunk {
            range: sep..self.range.end,
            start: Pos {
                line: self.start.line + lines,
                column: 1,
            },
            travelled: None,
            ..self.clone()
        };
        Some((longer, shorter))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Blank,
    /// Comment lines, and `%` directives, which also belong to the document after them.
    Comment,
    Separator,
    Content,
}

struct Line {
    start: usize,
    kind: Kind,
    /// Column of the first non-blank character (1-based), for content lines; for a separator
    /// that carries its document's first node (`--- {a: 1}`, `--- !!map`), that node's column.
    indent: usize,
    /// A separator followed by a node on the same line: the document starts there.
    inline: bool,
}

impl Line {
    fn has_content(&self) -> bool {
        self.kind == Kind::Content || self.inline
    }
}

pub(crate) fn is_separator(line: &str) -> bool {
    let l = line.trim_end_matches(['\n', '\r']);
    match l.strip_prefix("---") {
        Some(rest) => rest.is_empty() || rest.starts_with(' ') || rest.starts_with('\t'),
        None => false,
    }
}

/// The column (1-based) of what follows `---` on a separator line, when that is a node and not
/// a comment.
fn inline_node(line: &str) -> Option<usize> {
    let rest = line.trim_end_matches(['\n', '\r']).strip_prefix("---")?;
    let node = rest.trim_start_matches([' ', '\t']);
    (!node.is_empty() && !node.starts_with('#')).then(|| 3 + rest.len() - node.len() + 1)
}

fn classify_line(line: &str) -> (Kind, usize) {
    if is_separator(line) {
        return (Kind::Separator, inline_node(line).unwrap_or(1));
    }
    let body = line.trim_end_matches(['\n', '\r']);
    let trimmed = body.trim_start_matches([' ', '\t']);
    let indent = body.len() - trimmed.len() + 1;
    if trimmed.is_empty() {
        (Kind::Blank, indent)
    } else if trimmed.starts_with('#') || body.starts_with('%') {
        (Kind::Comment, indent)
    } else {
        (Kind::Content, indent)
    }
}

fn lines(text: &str) -> Vec<Line> {
    let mut out = Vec::with_capacity(text.len() / 24 + 1);
    let mut start = 0;
    for piece in text.split_inclusive('\n') {
        let (kind, indent) = classify_line(piece);
        out.push(Line {
            start,
            kind,
            indent,
            inline: kind == Kind::Separator && inline_node(piece).is_some(),
        });
        start += piece.len();
    }
    out
}

pub fn split(text: &str) -> Vec<Chunk> {
    let lines = lines(text);
    // Line indexes where a chunk begins.
    let mut starts: Vec<usize> = vec![0];
    for (k, l) in lines.iter().enumerate() {
        if l.kind != Kind::Separator || k == 0 {
            continue;
        }
        // The comment block just before the separator belongs to the document after it;
        // blank lines before that block stay with the previous document. Only column-0 lines
        // travel: an indented `#` line may be the end of a block or quoted scalar (content),
        // and must stay where it is.
        let mut j = k;
        while j > 0
            && (lines[j - 1].kind == Kind::Blank
                || (lines[j - 1].kind == Kind::Comment && lines[j - 1].indent == 1))
        {
            j -= 1;
        }
        // A column-0 `#` (or `%`) line can also end a multi-line quoted scalar of the document
        // before; only its parse can tell, so the chunk notes where its own separator is
        // (`Chunk::travelled`) and the block goes back if the document before needs it.
        let block = (j..k)
            .find(|&i| lines[i].kind == Kind::Comment)
            .unwrap_or(k);
        // block == 0: only comments before the first separator; they join the first document.
        if block > *starts.last().unwrap_or(&0) {
            starts.push(block);
        }
    }
    // A first chunk holding nothing but blanks/comments is folded into the next one.
    if starts.len() > 1
        && !lines[starts[0]..starts[1]]
            .iter()
            .any(|l| matches!(l.kind, Kind::Content | Kind::Separator))
    {
        starts.remove(0);
        starts[0] = 0;
    }
    if lines.iter().all(|l| l.kind == Kind::Blank) {
        return Vec::new();
    }
    let mut chunks = Vec::with_capacity(starts.len());
    for (index, &s) in starts.iter().enumerate() {
        let e = starts.get(index + 1).copied().unwrap_or(lines.len());
        let range = lines[s].start..lines.get(e).map(|l| l.start).unwrap_or(text.len());
        let content = (s..e).find(|&i| lines[i].has_content()).map(|i| Pos {
            line: i + 1,
            column: lines[i].indent,
        });
        let travelled = (index > 0 && lines[s].kind == Kind::Comment)
            .then(|| (s..e).find(|&i| lines[i].kind == Kind::Separator))
            .flatten()
            .map(|i| lines[i].start);
        chunks.push(Chunk {
            index,
            range,
            start: Pos {
                line: s + 1,
                column: 1,
            },
            content,
            travelled,
        });
    }
    chunks
}

/// JSON is one document: never split.
pub fn whole(text: &str) -> Vec<Chunk> {
    if text.trim().is_empty() {
        return Vec::new();
    }
    let lines = lines(text);
    let content = lines
        .iter()
        .position(|l| l.kind != Kind::Blank)
        .map(|i| Pos {
            line: i + 1,
            column: lines[i].indent,
        });
    vec![Chunk {
        index: 0,
        range: 0..text.len(),
        start: Pos { line: 1, column: 1 },
        content,
        travelled: None,
    }]
}

fn key_matches(rest: &str, key: &str) -> bool {
    for quoted in [key.to_string(), format!("\"{key}\""), format!("'{key}'")] {
        if let Some(after) = rest.strip_prefix(quoted.as_str()) {
            let after = after.trim_start_matches([' ', '\t']);
            if let Some(v) = after.strip_prefix(':') {
                if v.is_empty() || v.starts_with([' ', '\t', '\r', '\n']) {
                    return true;
                }
            }
        }
    }
    false
}

/// The line of a block-style key path (["metadata", "name"]) within a chunk, for pointing a
/// validation error at its field. None for flow style or when absent.
pub fn line_of_key(text: &str, chunk: &Chunk, path: &[&str]) -> Option<Pos> {
    let body = &text[chunk.range.clone()];
    let first_line = chunk.start.line;
    let mut depth = 0;
    let mut parent_indent: Option<usize> = None;
    let mut level_indent: Option<usize> = None;
    for (i, raw) in body.split_inclusive('\n').enumerate() {
        let (kind, indent) = classify_line(raw);
        if kind != Kind::Content {
            continue;
        }
        if let Some(p) = parent_indent {
            if indent <= p {
                return None; // left the parent's block without finding the key
            }
        }
        let level = *level_indent.get_or_insert(indent);
        if indent != level {
            continue;
        }
        let rest = raw.trim_start_matches([' ', '\t']);
        if key_matches(rest, path.get(depth)?) {
            depth += 1;
            if depth == path.len() {
                return Some(Pos {
                    line: first_line + i,
                    column: indent,
                });
            }
            parent_indent = Some(indent);
            level_indent = None;
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts<'a>(t: &'a str, c: &[Chunk]) -> Vec<&'a str> {
        c.iter().map(|c| &t[c.range.clone()]).collect()
    }

    #[test]
    fn separators_cut_and_comment_blocks_travel_with_the_next_document() {
        let t = "# file header\na: 1\n\n# about b\n# more\n---\nb: 2\n---   \nc: 3\n";
        let c = split(t);
        assert_eq!(
            texts(t, &c),
            [
                "# file header\na: 1\n\n",
                "# about b\n# more\n---\nb: 2\n",
                "---   \nc: 3\n"
            ]
        );
        assert_eq!(c[1].start, Pos { line: 4, column: 1 });
        assert_eq!(c[1].content, Some(Pos { line: 7, column: 1 }));
        assert_eq!(c.iter().map(|c| c.index).collect::<Vec<_>>(), [0, 1, 2]);
    }

    #[test]
    fn a_leading_separator_and_leading_comments_make_one_first_document() {
        let t = "# header\n---\na: 1\n";
        assert_eq!(texts(t, &split(t)), [t]);
        let t = "---\na: 1\n";
        assert_eq!(texts(t, &split(t)), [t]);
    }

    #[test]
    fn only_real_separators_cut() {
        let t = "a: |\n  ----\n  ---x\n---x: 1\n";
        assert_eq!(split(t).len(), 1);
        let t = "a: 1\n--- # comment\nb: 2\n--- !!map\nc: 3\n";
        assert_eq!(split(t).len(), 3);
    }

    #[test]
    fn a_document_may_start_on_its_separator_line() {
        let t = "a: 1\n--- {b: 2}\n---\t[c]\n--- # only a comment\n";
        let c = split(t);
        assert_eq!(
            texts(t, &c),
            [
                "a: 1\n",
                "--- {b: 2}\n",
                "---\t[c]\n",
                "--- # only a comment\n"
            ]
        );
        assert_eq!(c[1].content, Some(Pos { line: 2, column: 5 }));
        assert_eq!(c[2].content, Some(Pos { line: 3, column: 5 }));
        assert_eq!(c[3].content, None);
    }

    #[test]
    fn an_indented_hash_line_before_a_separator_stays_in_its_scalar() {
        let t = "a: |\n  echo hi\n  # part of the script\n# about b\n---\nb: 2\n";
        let c = split(t);
        assert_eq!(
            texts(t, &c),
            [
                "a: |\n  echo hi\n  # part of the script\n",
                "# about b\n---\nb: 2\n"
            ]
        );
        let t = "a: \"x\n  # y\"\n---\nb: 2\n";
        assert_eq!(texts(t, &split(t)), ["a: \"x\n  # y\"\n", "---\nb: 2\n"]);
    }

    #[test]
    fn a_travelled_comment_block_can_be_given_back() {
        let t = "a: \"x\n# y\"\n# about b\n---\nb: 2\n";
        let c = split(t);
        assert_eq!(texts(t, &c), ["a: \"x\n", "# y\"\n# about b\n---\nb: 2\n"]);
        assert_eq!(c[0].travelled, None);
        assert_eq!(c[1].travelled, Some(t.find("---").unwrap()));
        let (first, second) = c[1].give_back(&c[0], t).unwrap();
        assert_eq!(
            texts(t, &[first, second.clone()]),
            ["a: \"x\n# y\"\n# about b\n", "---\nb: 2\n"]
        );
        assert_eq!(second.start, Pos { line: 4, column: 1 });
        assert_eq!(second.content, c[1].content);
        // A chunk that took nothing gives nothing back.
        let t = "a: 1\n---\nb: 2\n";
        let c = split(t);
        assert!(c[1].give_back(&c[0], t).is_none());
    }

    #[test]
    fn crlf_and_missing_final_newline_are_handled() {
        let t = "a: 1\r\n---\r\nb: 2";
        let c = split(t);
        assert_eq!(texts(t, &c), ["a: 1\r\n", "---\r\nb: 2"]);
    }

    #[test]
    fn empty_and_comment_only_text() {
        assert!(split("").is_empty());
        assert!(split("\n\n").is_empty());
        let c = split("# only\n# comments\n");
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].content, None);
    }

    #[test]
    fn key_lines_are_found_at_the_right_level() {
        let t = "apiVersion: v1\nkind: VPC\nspec:\n  name: not-this\nmetadata:\n  labels:\n    name: nor-this\n  name: this\n";
        let c = &split(t)[0];
        assert_eq!(
            line_of_key(t, c, &["metadata", "name"]),
            Some(Pos { line: 8, column: 3 })
        );
        assert_eq!(
            line_of_key(t, c, &["kind"]),
            Some(Pos { line: 2, column: 1 })
        );
        assert_eq!(line_of_key(t, c, &["metadata", "namespace"]), None);
    }
}
