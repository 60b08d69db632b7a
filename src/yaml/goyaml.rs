//! How Go's YAML readers resolve a plain (unquoted, untagged) scalar. serde_yaml reads YAML 1.2,
//! but what reads `managed/` is Go: kustomize (and so Argo CD and Flux) decodes with go-yaml v3,
//! kubectl and the API server with go-yaml v2 (YAML 1.1). Both read `08`, `0755`, `1_000`,
//! `+1` and `2024-01-01` as numbers or timestamps where serde_yaml sees strings, and v2 also
//! reads `yes`, `no`, `on`, `off`, `y` and `n` as booleans. A key or a name on which the two
//! disagree would make the object Go builds differ from the one fgd checked.
//!
//! The rules follow go-yaml's `resolve` (resolve.go, identical in v2 and v3 but for the YAML 1.1
//! booleans): the first character picks the candidates, then Go's `strconv` decides.

/// Which of Go's readers to follow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GoReader {
    /// go-yaml v3 (kustomize): YAML 1.2 booleans, YAML 1.1 numbers and timestamps.
    V3,
    /// go-yaml v2 and v3 together (kubectl, the API server, kustomize): adds YAML 1.1 booleans.
    Any,
}

/// What a Go reader makes of `s` written plain, when that is not a string: "null", "a boolean",
/// "a number" or "a timestamp".
pub fn plain_reads_as(s: &str, reader: GoReader) -> Option<&'static str> {
    const NULLS: [&str; 5] = ["", "~", "null", "Null", "NULL"];
    const BOOLS: [&str; 6] = ["true", "True", "TRUE", "false", "False", "FALSE"];
    const YAML11_BOOLS: [&str; 16] = [
        "y", "Y", "yes", "Yes", "YES", "on", "On", "ON", "n", "N", "no", "No", "NO", "off", "Off",
        "OFF",
    ];
    const SPECIAL_FLOATS: [&str; 12] = [
        ".nan", ".NaN", ".NAN", ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF", "-.inf",
        "-.Inf", "-.INF",
    ];
    // The first character picks the candidates, as go-yaml's resolve table does: most keys
    // (letters other than these) are settled by one comparison.
    let Some(&first) = s.as_bytes().first() else {
        return Some("null");
    };
    match first {
        b'~' | b'n' | b'N' | b't' | b'T' | b'f' | b'F' | b'y' | b'Y' | b'o' | b'O' => {
            if NULLS.contains(&s) {
                Some("null")
            } else if BOOLS.contains(&s) || (reader == GoReader::Any && YAML11_BOOLS.contains(&s)) {
                Some("a boolean")
            } else {
                None
            }
        }
        b'.' | b'+' | b'-' if SPECIAL_FLOATS.contains(&s) => Some("a number"),
        b'.' => is_go_float(s).then_some("a number"),
        b'0'..=b'9' | b'+' | b'-' => {
            if is_timestamp(s) {
                return Some("a timestamp");
            }
            let plain: String = s.chars().filter(|&c| c != '_').collect();
            (go_int(&plain).is_some() || is_yaml_style_float(&plain)).then_some("a number")
        }
        _ => None,
    }
}

/// The integer Go's `strconv.ParseInt(s, 0, 64)` or `ParseUint(s, 0, 64)` reads: an optional
/// sign, then `0x`/`0o`/`0b` digits, a leading `0` (octal), or decimal digits, within 64 bits
/// (ParseInt takes down to -2^63, ParseUint up to 2^64 - 1, unsigned only).
pub(crate) fn go_int(s: &str) -> Option<i128> {
    let (negative, unsigned) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    let lower = unsigned.get(..2).map(str::to_ascii_lowercase);
    let (radix, digits) = match lower.as_deref() {
        Some("0x") => (16, &unsigned[2..]),
        Some("0o") => (8, &unsigned[2..]),
        Some("0b") => (2, &unsigned[2..]),
        _ if unsigned.len() > 1 && unsigned.starts_with('0') => (8, &unsigned[1..]),
        _ => (10, unsigned),
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let v = u64::from_str_radix(digits, radix).ok()? as i128;
    match negative {
        true if v <= 1 << 63 => Some(-v),
        true => None,
        false => Some(v),
    }
}

/// go-yaml's `yamlStyleFloat`, `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`, whose
/// value Go's `ParseFloat` takes without overflowing.
fn is_yaml_style_float(s: &str) -> bool {
    let body = s.strip_prefix(['-', '+']).unwrap_or(s);
    let (mantissa, exponent) = match body.find(['e', 'E']) {
        Some(i) => (&body[..i], Some(&body[i + 1..])),
        None => (body, None),
    };
    let digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
    let mantissa_ok = match mantissa.split_once('.') {
        Some(("", frac)) => digits(frac),
        Some((int, frac)) => digits(int) && (frac.is_empty() || digits(frac)),
        None => digits(mantissa),
    };
    let exponent_ok = exponent.is_none_or(|e| digits(e.strip_prefix(['-', '+']).unwrap_or(e)));
    mantissa_ok && exponent_ok && s.parse::<f64>().is_ok_and(f64::is_finite)
}

/// Go's `ParseFloat` on a scalar that starts with `.`: `.5`, `.5e3`.
fn is_go_float(s: &str) -> bool {
    is_yaml_style_float(s)
}

/// go-yaml's `parseTimestamp`: `2006-1-2`, optionally followed by `T`, `t` or a space and a time
/// `15:4:5` with a fraction, and a zone (`Z` or `±07:00`, required after `T`/`t`).
fn is_timestamp(s: &str) -> bool {
    let b = s.as_bytes();
    // go-yaml's quick check: four digits, then '-'.
    if b.len() < 5 || !b[..4].iter().all(u8::is_ascii_digit) || b[4] != b'-' {
        return false;
    }
    // Go's time.Parse takes a run of spaces for the layout's one space.
    let (date, time) = match s.find(['T', 't', ' ']) {
        Some(i) => (
            &s[..i],
            Some((s.as_bytes()[i], s[i + 1..].trim_start_matches(' '))),
        ),
        None => (s, None),
    };
    let mut parts = date.split('-');
    let (Some(y), Some(m), Some(d), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    let number = |t: &str, max_len: usize| -> Option<u32> {
        (!t.is_empty() && t.len() <= max_len && t.bytes().all(|b| b.is_ascii_digit()))
            .then(|| t.parse().ok())
            .flatten()
    };
    let (Some(year), Some(month), Some(day)) = (number(y, 4), number(m, 2), number(d, 2)) else {
        return false;
    };
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return false;
    }
    let Some((sep, time)) = time else {
        return true;
    };
    // The clock: hours, minutes, seconds of one or two digits, then an optional fraction.
    // The fraction after a period or, as Go also takes, a comma.
    let clock_end = time
        .find(|c: char| !(c.is_ascii_digit() || matches!(c, ':' | '.' | ',')))
        .unwrap_or(time.len());
    let (clock, zone) = time.split_at(clock_end);
    let (hms, fraction) = match clock.split_once(['.', ',']) {
        Some((hms, f)) => (hms, Some(f)),
        None => (clock, None),
    };
    let mut hms = hms.split(':');
    let (Some(h), Some(mi), Some(se), None) = (hms.next(), hms.next(), hms.next(), hms.next())
    else {
        return false;
    };
    let clock_ok = number(h, 2).is_some_and(|h| h < 24)
        && number(mi, 2).is_some_and(|m| m < 60)
        && number(se, 2).is_some_and(|s| s < 60)
        && fraction.is_none_or(|f| !f.is_empty() && f.bytes().all(|b| b.is_ascii_digit()));
    let zone_ok = match sep {
        b' ' => zone.is_empty(),
        _ => zone == "Z" || is_offset(zone),
    };
    clock_ok && zone_ok
}

/// `+07:00` or `-07:00`.
fn is_offset(z: &str) -> bool {
    let b = z.as_bytes();
    b.len() == 6
        && matches!(b[0], b'+' | b'-')
        && b[1..3].iter().all(u8::is_ascii_digit)
        && b[3] == b':'
        && b[4..6].iter().all(u8::is_ascii_digit)
}

fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v3(s: &str) -> Option<&'static str> {
        plain_reads_as(s, GoReader::V3)
    }

    #[test]
    fn numbers_go_yaml_reads_that_yaml_1_2_keeps_as_strings() {
        for s in [
            "00",
            "007",
            "0755",
            "08",
            "09",
            "008",
            "1_000",
            "0_1",
            "+08",
            "-07",
            "0x_1f",
            "0X1F",
            "0o17",
            "0b101",
            "-0b1",
            "1e5",
            "09.9",
            ".5",
            "+1",
            "18446744073709551615",
        ] {
            assert_eq!(v3(s), Some("a number"), "{s}");
        }
    }

    #[test]
    fn timestamps_go_yaml_reads() {
        for s in [
            "2024-01-01",
            "2024-1-1",
            "2024-02-29",
            "2024-01-01T10:00:00Z",
            "2024-01-01t10:00:00.5+02:00",
            "2024-01-01 10:00:00",
            "2024-01-01  10:00:00",
            "2024-01-01 10:00:00,5",
        ] {
            assert_eq!(v3(s), Some("a timestamp"), "{s}");
        }
    }

    #[test]
    fn what_stays_a_string() {
        for s in [
            "leaf-01",
            "0.1.2",
            "1.2.3.4",
            "2023-02-29",
            "2024-13-01",
            "2024-01-01T10:00:00",
            "10.0.0.0/24",
            "1/1",
            "E1/55",
            "4x25G",
            "+",
            "-",
            "-x",
            ".",
            "..",
            "inf",
            "nan",
            "0x",
            "0xg",
            "1e999",
            "yes",
            "on",
            "y",
            "ds-1",
            "08-a",
        ] {
            assert_eq!(v3(s), None, "{s}");
        }
    }

    #[test]
    fn go_yaml_v2_also_reads_the_yaml_1_1_booleans() {
        for s in ["yes", "No", "ON", "off", "y", "N"] {
            assert_eq!(plain_reads_as(s, GoReader::Any), Some("a boolean"), "{s}");
            assert_eq!(v3(s), None, "{s}");
        }
        assert_eq!(v3("True"), Some("a boolean"));
        assert_eq!(v3("~"), Some("null"));
        assert_eq!(v3(".NaN"), Some("a number"));
    }
}
