//! IPv4 prefixes and VLAN ranges as the fabric's Go code reads them.
//!
//! A small type of our own rather than a crate such as `ipnet`: the parse must accept exactly
//! what Go's `netip.ParsePrefix` accepts (no leading zeros in the prefix length, no octal
//! octets, IPv4 only as fabricator's `meta.Prefix` requires) and print what Go prints (the
//! address as written, not masked), because both end up in the upstream error texts.

use std::fmt;
use std::net::Ipv4Addr;

/// An IPv4 prefix as written (`172.30.0.1/21` keeps its host bits, like Go's `netip.Prefix`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Ipv4Prefix {
    /// The address part, host bits included.
    pub addr: Ipv4Addr,
    /// The prefix length, 0 to 32.
    pub len: u8,
}

/// Why a text is not an IPv4 prefix (Go's `netip.ParsePrefix` plus fabricator's IPv4-only rule).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PrefixError {
    /// No `/` in the text.
    #[error("no '/'")]
    NoSlash,
    /// The address part is not an IPv4 address (an IPv6 one included: fabricator wants IPv4).
    #[error("bad IPv4 address {0:?}")]
    BadAddr(String),
    /// The length is not a decimal 0..=32 without sign or leading zero.
    #[error("bad bits after slash: {0:?}")]
    BadBits(String),
}

impl Ipv4Prefix {
    /// Parses `a.b.c.d/n` the way Go's `netip.ParsePrefix` does, IPv4 only.
    pub fn parse(text: &str) -> Result<Self, PrefixError> {
        let (addr, bits) = text.split_once('/').ok_or(PrefixError::NoSlash)?;
        // std rejects octets with leading zeros, as Go does since 1.17.
        let addr: Ipv4Addr = addr
            .parse()
            .map_err(|_| PrefixError::BadAddr(addr.to_string()))?;
        let digits_ok = !bits.is_empty()
            && bits.bytes().all(|b| b.is_ascii_digit())
            && (bits.len() == 1 || !bits.starts_with('0'));
        let len = match bits.parse::<u8>() {
            Ok(n) if digits_ok && n <= 32 => n,
            _ => return Err(PrefixError::BadBits(bits.to_string())),
        };
        Ok(Self { addr, len })
    }

    /// The mask of this length, as a number.
    pub fn mask(&self) -> u32 {
        if self.len == 0 {
            0
        } else {
            u32::MAX << (32 - u32::from(self.len))
        }
    }

    /// The prefix with its host bits cleared (Go's `Prefix.Masked`).
    pub fn masked(&self) -> Self {
        Self {
            addr: Ipv4Addr::from(u32::from(self.addr) & self.mask()),
            len: self.len,
        }
    }

    /// Whether `ip` is inside the prefix's network (Go's `Prefix.Contains`, which ignores host bits).
    pub fn contains(&self, ip: Ipv4Addr) -> bool {
        (u32::from(ip) & self.mask()) == (u32::from(self.addr) & self.mask())
    }

    /// Whether the two networks share an address (Go's `Prefix.Overlaps`).
    pub fn overlaps(&self, other: &Self) -> bool {
        let shorter = self.len.min(other.len);
        let probe = Self {
            addr: self.addr,
            len: shorter,
        };
        probe.contains(other.addr)
    }
}

impl fmt::Display for Ipv4Prefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.len)
    }
}

/// An inclusive VLAN range (`meta.VLANRange`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct VlanRange {
    /// First VLAN.
    pub from: u16,
    /// Last VLAN (after normalisation never 0: `to: 0` means `to = from`).
    pub to: u16,
}

impl VlanRange {
    /// Whether `vlan` is inside the range.
    pub fn contains(&self, vlan: u16) -> bool {
        self.from <= vlan && vlan <= self.to
    }
}

impl fmt::Display for VlanRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.from, self.to)
    }
}

/// `meta.NormalizedVLANRanges`: `to: 0` becomes `from`, bounds 1..=4094, then sorted and
/// merged. Faithful to upstream, including its merge, which takes the later range's end even
/// when that range lies inside the earlier one (`[1-100, 10-20]` becomes `[1-20]`). The error
/// is upstream's text (`invalid range <i>: from > to`, ...).
pub fn normalized_vlan_ranges(ranges: &[VlanRange]) -> Result<Vec<VlanRange>, String> {
    let mut out = ranges.to_vec();
    for (idx, r) in out.iter_mut().enumerate() {
        if r.to == 0 {
            r.to = r.from;
        }
        if r.from > r.to {
            return Err(format!("invalid range {idx}: from > to"));
        }
        if r.from < 1 || r.from > 4094 {
            return Err(format!("invalid range {idx}: from < 1 || from > 4094"));
        }
        if r.to < 1 || r.to > 4094 {
            return Err(format!("invalid range {idx}: to < 1 || to > 4094"));
        }
    }
    if out.len() < 2 {
        return Ok(out);
    }
    out.sort();
    let mut merged = vec![out[0]];
    for r in &out[1..] {
        match merged.last_mut() {
            Some(last) if last.to >= r.from => last.to = r.to,
            _ => merged.push(*r),
        }
    }
    Ok(merged)
}

/// `meta.CheckVLANRangesOverlap`: sorts, then reports the first neighbours that overlap, with
/// upstream's text `VLAN ranges overlap: <a>-<b> and <c>-<d>`.
pub fn check_vlan_ranges_overlap(ranges: &[VlanRange]) -> Result<(), String> {
    let mut sorted = ranges.to_vec();
    sorted.sort();
    for pair in sorted.windows(2) {
        if pair[0].to >= pair[1].from {
            return Err(format!(
                "VLAN ranges overlap: {}-{} and {}-{}",
                pair[0].from, pair[0].to, pair[1].from, pair[1].to
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Ipv4Prefix {
        Ipv4Prefix::parse(s).unwrap()
    }

    #[test]
    fn parse_accepts_what_go_accepts() {
        assert_eq!(p("172.30.0.1/21").to_string(), "172.30.0.1/21");
        assert_eq!(p("172.30.0.1/21").masked().to_string(), "172.30.0.0/21");
        assert_eq!(p("0.0.0.0/0").mask(), 0);
        assert_eq!(p("10.0.0.1/32").mask(), u32::MAX);
    }

    #[test]
    fn parse_refuses_what_go_refuses() {
        for bad in [
            "172.30.0.0",
            "172.30.0.0/",
            "172.30.0.0/021",
            "172.30.0.0/+21",
            "172.30.0.0/33",
            "172.030.0.0/21",
            "fd00::/64",
            "x/8",
        ] {
            assert!(Ipv4Prefix::parse(bad).is_err(), "{bad} should be refused");
        }
    }

    #[test]
    fn contains_and_overlaps() {
        let mgmt = p("172.30.0.0/21");
        assert!(mgmt.contains("172.30.7.255".parse().unwrap()));
        assert!(!mgmt.contains("172.30.8.0".parse().unwrap()));
        assert!(mgmt.overlaps(&p("172.30.4.0/24")));
        assert!(p("172.30.4.0/24").overlaps(&mgmt));
        assert!(!mgmt.overlaps(&p("172.30.8.0/22")));
    }

    #[test]
    fn vlan_ranges_normalise_like_upstream() {
        let r = |from, to| VlanRange { from, to };
        assert_eq!(normalized_vlan_ranges(&[r(5, 0)]).unwrap(), vec![r(5, 5)]);
        assert_eq!(
            normalized_vlan_ranges(&[r(20, 30), r(1, 10), r(10, 15)]).unwrap(),
            vec![r(1, 15), r(20, 30)]
        );
        // upstream's merge shrinks a range that contains the next one
        assert_eq!(
            normalized_vlan_ranges(&[r(1, 100), r(10, 20)]).unwrap(),
            vec![r(1, 20)]
        );
        assert_eq!(
            normalized_vlan_ranges(&[r(1, 2), r(9, 3)]).unwrap_err(),
            "invalid range 1: from > to"
        );
        assert_eq!(
            normalized_vlan_ranges(&[r(4095, 4095)]).unwrap_err(),
            "invalid range 0: from < 1 || from > 4094"
        );
        assert_eq!(
            check_vlan_ranges_overlap(&[r(3900, 3999), r(3000, 3999)]).unwrap_err(),
            "VLAN ranges overlap: 3000-3999 and 3900-3999"
        );
        assert!(check_vlan_ranges_overlap(&[r(3900, 3999), r(3000, 3899)]).is_ok());
    }
}
