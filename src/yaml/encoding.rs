//! Only UTF-8 is YAML that Kubernetes and fgd agree on; anything else gets an error that says
//! what it looks like and where.

use super::Pos;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EncodingError {
    #[error("the file is UTF-16 ({}): save it as UTF-8 (e.g. iconv -f UTF-16 -t UTF-8)", if *.big_endian { "big-endian" } else { "little-endian" })]
    Utf16 { big_endian: bool },
    #[error("the file is UTF-32: save it as UTF-8 (e.g. iconv -f UTF-32 -t UTF-8)")]
    Utf32,
    #[error("the file holds a NUL byte at line {} column {}: it is binary, not YAML text", .pos.line, .pos.column)]
    Nul { pos: Pos },
    #[error("not UTF-8: byte 0x{byte:02X} at line {} column {} is not valid UTF-8 (Latin-1 or Windows-1252?); convert with: iconv -f LATIN1 -t UTF-8", .pos.line, .pos.column)]
    InvalidUtf8 { pos: Pos, byte: u8 },
}

#[derive(Debug, Clone, Copy)]
pub struct Decoded<'a> {
    /// The text without a leading BOM.
    pub text: &'a str,
    /// Bytes of BOM before `text`: file offset = bom_len + text offset.
    pub bom_len: usize,
}

fn pos_of(prefix: &[u8]) -> Pos {
    let line = prefix.iter().filter(|&&b| b == b'\n').count() + 1;
    let line_start = prefix
        .iter()
        .rposition(|&b| b == b'\n')
        .map(|i| i + 1)
        .unwrap_or(0);
    let column = String::from_utf8_lossy(&prefix[line_start..])
        .chars()
        .count()
        + 1;
    Pos { line, column }
}

pub fn decode(bytes: &[u8]) -> Result<Decoded<'_>, EncodingError> {
    if bytes.starts_with(&[0xFF, 0xFE, 0, 0]) || bytes.starts_with(&[0, 0, 0xFE, 0xFF]) {
        return Err(EncodingError::Utf32);
    }
    if bytes.starts_with(&[0xFF, 0xFE]) {
        return Err(EncodingError::Utf16 { big_endian: false });
    }
    if bytes.starts_with(&[0xFE, 0xFF]) {
        return Err(EncodingError::Utf16 { big_endian: true });
    }
    // BOM-less UTF-16 of ASCII text: every other byte is NUL.
    if bytes.len() >= 4 {
        if bytes[0] != 0 && bytes[1] == 0 && bytes[2] != 0 && bytes[3] == 0 {
            return Err(EncodingError::Utf16 { big_endian: false });
        }
        if bytes[0] == 0 && bytes[1] != 0 && bytes[2] == 0 && bytes[3] != 0 {
            return Err(EncodingError::Utf16 { big_endian: true });
        }
    }
    let bom_len = if bytes.starts_with(&[0xEF, 0xBB, 0xBF]) {
        3
    } else {
        0
    };
    let body = &bytes[bom_len..];
    if let Some(i) = body.iter().position(|&b| b == 0) {
        return Err(EncodingError::Nul {
            pos: pos_of(&body[..i]),
        });
    }
    match std::str::from_utf8(body) {
        Ok(text) => Ok(Decoded { text, bom_len }),
        Err(e) => {
            let at = e.valid_up_to();
            Err(EncodingError::InvalidUtf8 {
                pos: pos_of(&body[..at]),
                byte: body[at],
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bom_is_stripped_and_counted() {
        let d = decode(b"\xEF\xBB\xBFa: 1\n").unwrap();
        assert_eq!((d.text, d.bom_len), ("a: 1\n", 3));
    }

    #[test]
    fn utf16_with_and_without_bom_is_named() {
        assert_eq!(
            decode(b"\xFF\xFEa\0:\0").unwrap_err(),
            EncodingError::Utf16 { big_endian: false }
        );
        assert_eq!(
            decode(b"\xFE\xFF\0a\0:").unwrap_err(),
            EncodingError::Utf16 { big_endian: true }
        );
        assert_eq!(
            decode(b"a\x00:\x00 \x001\x00").unwrap_err(),
            EncodingError::Utf16 { big_endian: false }
        );
        assert_eq!(
            decode(b"\x00a\x00:\x00 \x001").unwrap_err(),
            EncodingError::Utf16 { big_endian: true }
        );
        assert_eq!(
            decode(b"\xFF\xFE\0\0a\0\0\0").unwrap_err(),
            EncodingError::Utf32
        );
    }

    #[test]
    fn latin1_names_the_byte_line_and_column() {
        let e = decode(b"a: 1\nname: caf\xe9\n").unwrap_err();
        assert_eq!(
            e,
            EncodingError::InvalidUtf8 {
                pos: Pos {
                    line: 2,
                    column: 10
                },
                byte: 0xE9
            }
        );
        assert!(e.to_string().contains("line 2 column 10"));
    }
}
