//! Addresses and prefixes as the fabric's Go code reads them (`net/netip`, `net.ParseCIDR`,
//! `net.ParseMAC`, `pkg/util/iputil`): the same inputs accepted, the same relations (overlap,
//! subset) computed.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr};

/// An IP prefix as written (host bits kept; `masked` drops them).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub struct Prefix {
    pub addr: IpAddr,
    pub bits: u8,
}

impl fmt::Display for Prefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.bits)
    }
}

impl Prefix {
    pub fn is_v4(&self) -> bool {
        self.addr.is_ipv4()
    }

    fn bits_total(&self) -> u8 {
        if self.is_v4() {
            32
        } else {
            128
        }
    }

    fn as_u128(a: IpAddr) -> u128 {
        match a {
            IpAddr::V4(v) => u32::from(v) as u128,
            IpAddr::V6(v) => u128::from(v),
        }
    }

    fn mask(&self) -> u128 {
        let total = self.bits_total() as u32;
        let host = total - self.bits as u32;
        let all = if total == 32 {
            u32::MAX as u128
        } else {
            u128::MAX
        };
        if host >= 128 {
            0
        } else {
            (all >> host) << host
        }
    }

    /// The network address as a number (host bits cleared).
    pub fn network(&self) -> u128 {
        Self::as_u128(self.addr) & self.mask()
    }

    /// The last address of the prefix.
    pub fn last(&self) -> u128 {
        self.network() | (!self.mask() & self.family_max())
    }

    fn family_max(&self) -> u128 {
        if self.is_v4() {
            u32::MAX as u128
        } else {
            u128::MAX
        }
    }

    pub fn masked(&self) -> Prefix {
        Prefix {
            addr: from_u128(self.network(), self.is_v4()),
            bits: self.bits,
        }
    }

    /// Host bits are set (`10.0.1.5/24`).
    pub fn has_host_bits(&self) -> bool {
        Self::as_u128(self.addr) != self.network()
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        ip.is_ipv4() == self.is_v4() && Self::as_u128(ip) & self.mask() == self.network()
    }

    /// Go's `netip.Prefix.Overlaps`.
    pub fn overlaps(&self, other: &Prefix) -> bool {
        self.is_v4() == other.is_v4()
            && self.network() <= other.last()
            && other.network() <= self.last()
    }

    /// `iputil.IsSubset(outer, self)`: same family, the network address inside, and a prefix
    /// at least as long.
    pub fn is_subset_of(&self, outer: &Prefix) -> bool {
        self.is_v4() == outer.is_v4()
            && self.bits >= outer.bits
            && outer.contains(from_u128(self.network(), self.is_v4()))
    }

    /// The n-th address of the prefix (0 is the network address).
    pub fn nth(&self, n: u128) -> IpAddr {
        from_u128(self.network() + n, self.is_v4())
    }

    pub fn broadcast(&self) -> IpAddr {
        from_u128(self.last(), self.is_v4())
    }
}

pub fn from_u128(v: u128, v4: bool) -> IpAddr {
    if v4 {
        IpAddr::V4(Ipv4Addr::from(v as u32))
    } else {
        IpAddr::V6(std::net::Ipv6Addr::from(v))
    }
}

pub fn ip_u128(a: IpAddr) -> u128 {
    Prefix::as_u128(a)
}

/// Go's `netip.ParseAddr` without zones (no leading zeros in IPv4 octets): what the fields
/// whose address is later compared or contained accept, and `net.ParseIP`.
pub fn parse_ip(s: &str) -> Result<IpAddr, String> {
    s.parse::<IpAddr>()
        .map_err(|_| format!("ParseAddr({s:?}): unable to parse IP"))
}

/// Go's `netip.ParseAddr` in full: an IPv6 address may carry a zone (`fe80::1%eth0`, the zone
/// any non-empty text), which the fields checked only by `ParseAddr` accept.
pub fn parse_addr(s: &str) -> Result<IpAddr, String> {
    match s.split_once('%') {
        Some((addr, zone)) if !zone.is_empty() => addr
            .parse::<std::net::Ipv6Addr>()
            .map(IpAddr::V6)
            .map_err(|_| format!("ParseAddr({s:?}): unable to parse IP")),
        _ => parse_ip(s),
    }
}

/// Go's `netip.ParsePrefix` (also what `net.ParseCIDR` accepts, for IPv4).
pub fn parse_prefix(s: &str) -> Result<Prefix, String> {
    let err = |why: &str| format!("netip.ParsePrefix({s:?}): {why}");
    let (a, b) = s.split_once('/').ok_or_else(|| err("no '/'"))?;
    let addr = parse_ip(a).map_err(|e| err(&e))?;
    if b.is_empty() || !b.bytes().all(|c| c.is_ascii_digit()) || (b.len() > 1 && b.starts_with('0'))
    {
        return Err(err(&format!("bad bits after slash: {b:?}")));
    }
    let bits: u32 = b
        .parse()
        .map_err(|_| err(&format!("bad bits after slash: {b:?}")))?;
    let max = if addr.is_ipv4() { 32 } else { 128 };
    if bits > max {
        return Err(err("prefix length out of range"));
    }
    Ok(Prefix {
        addr,
        bits: bits as u8,
    })
}

/// An IPv4 prefix only (most Hedgehog fields), with the same errors.
pub fn parse_v4_prefix(s: &str) -> Result<Prefix, String> {
    let p = parse_prefix(s)?;
    if !p.is_v4() {
        return Err(format!("{s} is not an IPv4 prefix"));
    }
    Ok(p)
}

/// Go's `net.ParseMAC`: 6, 8 or 20 bytes as `aa:bb:..`, `aa-bb-..` or `aabb.ccdd.eeff`, hex
/// digits only (no sign), one separator throughout. Read byte by byte as Go reads it: a value
/// may hold any UTF-8, and a slice of it by character would not say what Go says.
pub fn parse_mac(s: &str) -> Option<Vec<u8>> {
    let s = s.as_bytes();
    let hex = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
    // Two hex digits at `at`, followed by `sep` unless they end the text (Go's `xtoi2`).
    let pair = |at: usize, sep: u8| -> Option<u8> {
        let (hi, lo) = (hex(*s.get(at)?)?, hex(*s.get(at + 1)?)?);
        match s.get(at + 2) {
            Some(&c) if c != sep => None,
            _ => Some(hi << 4 | lo),
        }
    };
    if s.len() < 14 {
        return None;
    }
    let (step, per_step, sep) = match (s[2], s[4]) {
        (b':' | b'-', _) => (3, 1, s[2]),
        (_, b'.') => (5, 2, b'.'),
        _ => return None,
    };
    if (s.len() + 1) % step != 0 {
        return None;
    }
    let n = per_step * (s.len() + 1) / step;
    if !matches!(n, 6 | 8 | 20) {
        return None;
    }
    let mut bytes = Vec::with_capacity(n);
    for group in 0..(s.len() + 1) / step {
        let at = group * step;
        if per_step == 1 {
            bytes.push(pair(at, sep)?);
        } else {
            // `aabb.`: the first pair runs straight into the second.
            let first = pair(at, *s.get(at + 2)?)?;
            bytes.extend([first, pair(at + 2, sep)?]);
        }
    }
    Some(bytes)
}

/// Go's `net.HardwareAddr.String()`: lowercase, colon-separated.
pub fn mac_string(b: &[u8]) -> String {
    b.iter()
        .map(|x| format!("{x:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Prefix {
        parse_prefix(s).unwrap()
    }

    #[test]
    fn prefixes_parse_as_go_parses_them() {
        assert!(parse_prefix("10.0.0.0/24").is_ok());
        assert!(parse_prefix("10.0.1.5/24").unwrap().has_host_bits());
        for bad in [
            "10.0.0.0",
            "10.0.0.0/33",
            "10.0.0.0/08",
            "010.0.0.0/8",
            "10.0.0/8",
            "x/8",
        ] {
            assert!(parse_prefix(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn overlap_and_subset_are_iputil_s() {
        assert!(p("10.0.0.0/16").overlaps(&p("10.0.5.0/24")));
        assert!(!p("10.0.0.0/24").overlaps(&p("10.0.1.0/24")));
        assert!(p("10.0.5.0/24").is_subset_of(&p("10.0.0.0/16")));
        // The network address inside is not enough: the prefix must be as long.
        assert!(!p("10.0.0.0/8").is_subset_of(&p("10.0.0.0/16")));
        assert_eq!(p("10.0.0.0/30").broadcast().to_string(), "10.0.0.3");
        assert_eq!(p("10.0.0.0/24").nth(1).to_string(), "10.0.0.1");
    }

    #[test]
    fn only_ipv6_addresses_carry_a_zone() {
        assert!(parse_addr("fe80::1%eth0").is_ok());
        assert!(parse_addr("::ffff:10.0.0.1%x").is_ok());
        assert!(parse_addr("10.0.0.1").is_ok());
        for bad in ["fe80::1%", "10.0.0.1%eth0", "%eth0", "fe80::g%eth0"] {
            assert!(parse_addr(bad).is_err(), "{bad}");
        }
        // The fields that compare addresses keep refusing zones, as net.ParseIP does.
        assert!(parse_ip("fe80::1%eth0").is_err());
    }

    #[test]
    fn macs_in_every_go_form() {
        assert_eq!(
            parse_mac("AA-BB-CC-00-11-22").map(|b| mac_string(&b)),
            Some("aa:bb:cc:00:11:22".into())
        );
        assert!(parse_mac("aabb.cc00.1122").is_some());
        assert!(parse_mac("aa:bb:cc").is_none());
        assert!(parse_mac("zz:bb:cc:00:11:22").is_none());
        assert_eq!(
            parse_mac("00:00:00:00:fe:80:00:00:00:00:00:00:02:00:5e:10:00:00:00:01")
                .map(|b| b.len()),
            Some(20)
        );
        assert_eq!(parse_mac("0000.5e00.5301.0203").map(|b| b.len()), Some(8));
        for bad in [
            // Go's hex digits have no sign.
            "+a:bb:cc:dd:ee:ff",
            "aa:bb:cc:dd:ee:+f",
            // One separator throughout.
            "aa:bb-cc:dd:ee:ff",
            "aabb.ccdd-eeff",
            "aa:bb:cc:dd:ee:ff:",
            "aabb.ccdd.eeff.",
            "aab.bccdd.eeff",
            // Not ASCII: refused, never a panic inside a character.
            "a\u{e9}b.ccdd.eeff",
            "0\u{2013}20.12ff.0000",
            "aa:bb:cc:dd:ee:\u{e9}",
        ] {
            assert!(parse_mac(bad).is_none(), "{bad}");
        }
    }
}
