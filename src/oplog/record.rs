//! The records of the operation log, each read and written by the same type. A record is one
//! JSON line: its `Head` (the batch id first), then the fields of what the batch did: an
//! ingest's `documents` and `inputs`, or a move's or adopt's `Moved`.
//!
//! Field orders are the ones the log has always had (records of maps were written with their
//! keys sorted), so a record written now reads the same as one written before.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

use crate::classify::ReasonCode;
use crate::digest::Digest;
use crate::event::{Fate, Summary};

/// What every record starts with. `record_batch` reads the batch id from the first bytes of a
/// line, so `batch` stays first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Head {
    pub batch: String,
    pub command: String,
    pub started_at: String,
    pub finished_at: String,
    /// Keys sorted, as the log has always had them.
    #[serde(serialize_with = "sorted_keys")]
    pub summary: Summary,
}

fn sorted_keys<S: serde::Serializer>(summary: &Summary, s: S) -> Result<S::Ok, S::Error> {
    // serde_json's map (without its preserve_order feature) keeps keys sorted.
    serde_json::to_value(summary)
        .map_err(serde::ser::Error::custom)?
        .serialize(s)
}

impl Head {
    /// The head of a record line, read from its first bytes only: the head comes before a
    /// record's documents, which can be tens of megabytes.
    pub fn of_line(line: &[u8]) -> Option<Head> {
        // `,"summary":` cannot occur inside a JSON string (a quote in one is escaped), so
        // its first occurrence is the head's own key.
        const KEY: &[u8] = b",\"summary\":";
        let window = &line[..line.len().min(64 * 1024)];
        let at = window.windows(KEY.len()).position(|w| w == KEY)? + KEY.len();
        let mut values =
            serde_json::Deserializer::from_slice(&line[at..]).into_iter::<serde::de::IgnoredAny>();
        values.next()?.ok()?;
        let end = at + values.byte_offset();
        let mut head = Vec::with_capacity(end + 1);
        head.extend_from_slice(&line[..end]);
        head.push(b'}');
        serde_json::from_slice(&head).ok()
    }
}

/// One input an ingest read (or moved unread), in its record's `inputs`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Input<'a> {
    /// Read and classified; its original is archived at `archive`.
    Read {
        #[serde(borrow)]
        archive: Cow<'a, str>,
        bytes: usize,
        #[serde(borrow)]
        path: Cow<'a, str>,
        sha256: Digest,
    },
    /// Over the size cap: moved to unmanaged/ as it is, never read.
    MovedUnread {
        bytes: usize,
        #[serde(borrow)]
        moved_unread_to: Cow<'a, str>,
        #[serde(borrow)]
        path: Cow<'a, str>,
    },
}

impl Input<'_> {
    pub fn path(&self) -> &str {
        match self {
            Input::Read { path, .. } | Input::MovedUnread { path, .. } => path,
        }
    }
}

/// What became of a document, or of a file kept whole, in an ingest record's `documents`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Doc<'a> {
    /// A file kept whole in unmanaged/ (`whole` is always true).
    Whole {
        code: ReasonCode,
        documents: usize,
        #[serde(borrow)]
        path: Cow<'a, str>,
        #[serde(borrow)]
        reason: Cow<'a, str>,
        #[serde(borrow)]
        source: Cow<'a, str>,
        whole: bool,
    },
    /// One document of a file that was split.
    One {
        #[serde(borrow)]
        source: Cow<'a, str>,
        /// 1-based.
        document: usize,
        line: usize,
        #[serde(borrow)]
        object: Option<Cow<'a, str>>,
        fate: Cow<'a, Fate>,
        /// For a managed document: the SHA-256 of its bytes, what fgd wrote (or found) there.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        sha256: Option<crate::digest::Digest>,
    },
}

impl Doc<'_> {
    pub fn source(&self) -> &str {
        match self {
            Doc::Whole { source, .. } | Doc::One { source, .. } => source,
        }
    }
}

/// A source a resumed batch left as it was (changed after it was journaled), in the record's
/// `skipped`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Skipped<'a> {
    #[serde(borrow)]
    pub path: Cow<'a, str>,
    pub sha256: Digest,
    #[serde(borrow)]
    pub why: Cow<'a, str>,
}

/// A move's or an adopt's record after its head: the file, where it went, and (a move) why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Moved {
    pub from: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub sha256: Digest,
    pub to: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Change;

    #[test]
    fn records_read_back_as_written_in_the_log_s_field_order() {
        let sha = Digest::of(b"x");
        let input = Input::Read {
            archive: ".hnp/archive/b/a.yaml.orig".into(),
            bytes: 3,
            path: "raw/a.yaml".into(),
            sha256: sha,
        };
        let text = serde_json::to_string(&input).unwrap();
        assert_eq!(
            text,
            format!(
                r#"{{"archive":".hnp/archive/b/a.yaml.orig","bytes":3,"path":"raw/a.yaml","sha256":"{sha}"}}"#
            )
        );
        assert_eq!(serde_json::from_str::<Input>(&text).unwrap(), input);
        let unread = Input::MovedUnread {
            bytes: 9,
            moved_unread_to: "unmanaged/big.yaml.unmanaged".into(),
            path: "raw/big.yaml".into(),
        };
        let text = serde_json::to_string(&unread).unwrap();
        assert_eq!(serde_json::from_str::<Input>(&text).unwrap(), unread);

        let fate = Fate::Managed {
            path: "managed/vpcs/v.yaml".into(),
            change: Change::Create,
            replaced_hand_edit: None,
        };
        let one = Doc::One {
            source: "raw/a.yaml".into(),
            document: 1,
            line: 1,
            object: Some("VPC/v".into()),
            fate: Cow::Borrowed(&fate),
            sha256: None,
        };
        let text = serde_json::to_string(&one).unwrap();
        assert_eq!(
            text,
            r#"{"source":"raw/a.yaml","document":1,"line":1,"object":"VPC/v","fate":{"fate":"managed","path":"managed/vpcs/v.yaml","change":"create"}}"#
        );
        assert_eq!(serde_json::from_str::<Doc>(&text).unwrap(), one);
        let whole = Doc::Whole {
            code: ReasonCode::Encoding,
            documents: 2,
            path: "unmanaged/b.yaml.unmanaged".into(),
            reason: "not UTF-8".into(),
            source: "raw/b.yaml".into(),
            whole: true,
        };
        let text = serde_json::to_string(&whole).unwrap();
        assert!(
            text.starts_with(r#"{"code":"encoding","documents":2,"#),
            "{text}"
        );
        assert_eq!(serde_json::from_str::<Doc>(&text).unwrap(), whole);
    }

    #[test]
    fn a_head_is_read_from_a_line_s_first_bytes_and_keeps_the_batch_first() {
        let head = Head {
            batch: "b1".into(),
            command: "ingest".into(),
            started_at: "2026-01-01T00:00:00Z".into(),
            finished_at: "2026-01-01T00:00:01Z".into(),
            summary: Summary {
                files: 2,
                created: 3,
                ..Default::default()
            },
        };
        let text = serde_json::to_string(&head).unwrap();
        assert!(text.starts_with(r#"{"batch":"b1","#), "{text}");
        assert!(
            text.contains(r#""summary":{"batch":null,"conflicts":0,"created":3,"#),
            "the summary's keys stay sorted: {text}"
        );
        let line = format!(
            "{},\"documents\":[{}]}}",
            &text[..text.len() - 1],
            "{},".repeat(100_000) + "{}"
        );
        assert_eq!(Head::of_line(line.as_bytes()), Some(head));
        assert_eq!(Head::of_line(b"{\"batch\":\"b\"}"), None);
    }
}
