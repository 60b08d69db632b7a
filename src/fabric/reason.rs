//! `<item>.reason.json`, beside every item in unmanaged/: why fgd does not manage it, read and
//! written by the same type. JSON with no apiVersion/kind/metadata, so no GitOps tool mistakes
//! it for an object.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

use crate::classify::ReasonCode;
use crate::digest::Digest;
use crate::yaml::Pos;

/// What `fgd` says in every reason file, so a reader knows what the file is.
pub const MARK: &str = "unmanaged-reason";

/// A reason file. Fields in alphabetical order: the order the file has always had (it was
/// written from a JSON map).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reason<'a> {
    #[serde(borrow)]
    pub at: Cow<'a, str>,
    #[serde(borrow)]
    pub batch: Cow<'a, str>,
    pub code: ReasonCode,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub column: Option<usize>,
    /// The documents that made it unmanaged (none for an item moved by the operator or moved
    /// unread).
    #[serde(default)]
    pub documents: Vec<ReasonDoc<'a>>,
    #[serde(borrow)]
    pub fgd: Cow<'a, str>,
    #[serde(borrow)]
    pub item: Cow<'a, str>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    #[serde(borrow)]
    pub reason: Cow<'a, str>,
    /// Where the item came from, fabric-relative.
    #[serde(borrow)]
    pub source: Cow<'a, str>,
    /// The digest of the source as it was read; none (written `""`) for a file moved unread.
    #[serde(with = "digest_or_empty")]
    pub source_sha256: Option<Digest>,
}

/// One document of an item, with its own position and reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReasonDoc<'a> {
    pub code: ReasonCode,
    pub column: usize,
    /// 1-based.
    pub document: usize,
    pub line: usize,
    #[serde(borrow)]
    pub object: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub reason: Cow<'a, str>,
}

impl<'a> ReasonDoc<'a> {
    /// Document `index` (0-based) at `pos`.
    pub fn new(
        index: usize,
        pos: Pos,
        object: Option<&'a str>,
        code: ReasonCode,
        reason: &'a str,
    ) -> ReasonDoc<'a> {
        ReasonDoc {
            code,
            column: pos.column,
            document: index + 1,
            line: pos.line,
            object: object.map(Cow::Borrowed),
            reason: Cow::Borrowed(reason),
        }
    }
}

impl Reason<'_> {
    /// The file's text: pretty JSON and a final newline.
    pub fn to_text(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).unwrap_or_default();
        s.push('\n');
        // Exactly sized: an ingest's journal holds every reason text of the batch until it is
        // written, and grown by doubling a text of ~1.3 KB held 2 KB (at 10^5 generated
        // documents, 110 MB for 54,000 refused ones, the top of the ingest's memory).
        s.shrink_to_fit();
        s
    }

    /// A reason file's text, read back.
    pub fn parse(bytes: &[u8]) -> Option<Reason<'_>> {
        serde_json::from_slice(bytes).ok()
    }
}

mod digest_or_empty {
    use super::Digest;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<S: Serializer>(d: &Option<Digest>, s: S) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => d.serialize(s),
            None => s.serialize_str(""),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Digest>, D::Error> {
        let hex = String::deserialize(d)?;
        if hex.is_empty() {
            return Ok(None);
        }
        Digest::from_hex(&hex)
            .map(Some)
            .ok_or_else(|| serde::de::Error::custom(format!("{hex:?} is not a SHA-256")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reason_file_reads_back_as_written_with_its_keys_in_the_order_it_always_had() {
        let reason = Reason {
            at: "2026-01-01T00:00:00Z".into(),
            batch: "b1".into(),
            code: ReasonCode::BadName,
            column: Some(3),
            documents: vec![ReasonDoc::new(
                1,
                Pos {
                    line: 14,
                    column: 3,
                },
                Some("VPC/Tenant_B"),
                ReasonCode::BadName,
                "uppercase",
            )],
            fgd: MARK.into(),
            item: "unmanaged/a.doc2.yaml.unmanaged".into(),
            line: Some(14),
            reason: "uppercase".into(),
            source: "raw/a.yaml".into(),
            source_sha256: Some(Digest::of(b"x")),
        };
        let text = reason.to_text();
        let keys: Vec<&str> = text
            .lines()
            .filter(|l| l.starts_with("  \""))
            .filter_map(|l| l.trim().strip_prefix('"')?.split('"').next())
            .collect();
        let mut sorted = keys.clone();
        sorted.sort_unstable();
        assert_eq!(keys, sorted, "{text}");
        assert!(text.contains(r#""document": 2"#), "{text}");
        assert_eq!(Reason::parse(text.as_bytes()), Some(reason.clone()));
        let unread = Reason {
            source_sha256: None,
            column: None,
            line: None,
            documents: Vec::new(),
            ..reason
        };
        let text = unread.to_text();
        assert!(text.contains(r#""source_sha256": """#), "{text}");
        assert!(!text.contains("\"line\""), "{text}");
        assert_eq!(Reason::parse(text.as_bytes()), Some(unread));
    }
}
