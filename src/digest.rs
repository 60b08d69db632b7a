//! The one content hash fgd records: SHA-256, in journals, log records, reason files and the
//! ingest's plan.

use serde::{Deserialize, Serialize};

/// A SHA-256 kept as its 32 bytes and written as 64 hex digits: a big batch's journal holds
/// 10^5 of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Digest(pub [u8; 32]);

impl Digest {
    pub fn of(bytes: &[u8]) -> Digest {
        use sha2::Digest as _;
        Digest(sha2::Sha256::digest(bytes).into())
    }

    pub fn from_hex(hex: &str) -> Option<Digest> {
        let hex = hex.as_bytes();
        if hex.len() != 64 {
            return None;
        }
        let mut out = [0u8; 32];
        for (o, pair) in out.iter_mut().zip(hex.chunks(2)) {
            let digit = |c: u8| (c as char).to_digit(16);
            *o = (digit(pair[0])? * 16 + digit(pair[1])?) as u8;
        }
        Some(Digest(out))
    }
}

impl Digest {
    /// Lowercase hex, without the formatter: a journal writes 10^5 of them.
    fn hex(&self) -> [u8; 64] {
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        let mut out = [0u8; 64];
        for (pair, b) in out.chunks_exact_mut(2).zip(self.0) {
            pair[0] = DIGITS[usize::from(b >> 4)];
            pair[1] = DIGITS[usize::from(b & 15)];
        }
        out
    }
}

impl std::fmt::Display for Digest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let hex = self.hex();
        f.write_str(std::str::from_utf8(&hex).map_err(|_| std::fmt::Error)?)
    }
}

impl Serialize for Digest {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let hex = self.hex();
        match std::str::from_utf8(&hex) {
            Ok(text) => s.serialize_str(text),
            Err(_) => Err(serde::ser::Error::custom("a digest's hex is ASCII")),
        }
    }
}

impl<'de> Deserialize<'de> for Digest {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Digest, D::Error> {
        let hex = String::deserialize(d)?;
        Digest::from_hex(&hex)
            .ok_or_else(|| serde::de::Error::custom(format!("{hex:?} is not a SHA-256")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha2::Digest as _;
    #[test]
    fn a_digest_is_written_as_the_hex_older_journals_hold() {
        let d = Digest::of(b"kind: VPC\n");
        let hex: String = sha2::Sha256::digest(b"kind: VPC\n")
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(d.to_string(), hex);
        assert_eq!(serde_json::to_string(&d).unwrap(), format!("\"{hex}\""));
        let back: Digest = serde_json::from_str(&format!("\"{hex}\"")).unwrap();
        assert_eq!(back, d);
        assert!(serde_json::from_str::<Digest>("\"abc\"").is_err());
        assert!(serde_json::from_str::<Digest>(&format!("\"{}\"", "zz".repeat(32))).is_err());
    }
}
