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

/// Go's `netip.ParseAddr`: no leading zeros in IPv4 octets, no zone for our purposes.
pub fn parse_ip(s: &str) -> Result<IpAddr, String> {
    s.parse::<IpAddr>()
        .map_err(|_| format!("ParseAddr({s:?}): unable to parse IP"))
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

/// Go's `net.ParseMAC`: 6, 8 or 20 bytes as `aa:bb:..`, `aa-bb-..` or `aabb.ccdd.eeff`.
pub fn parse_mac(s: &str) -> Option<Vec<u8>> {
    let hex = |t: &str| u8::from_str_radix(t, 16).ok().filter(|_| t.len() == 2);
    let bytes: Option<Vec<u8>> = if s.contains(':') || s.contains('-') {
        let sep = if s.contains(':') { ':' } else { '-' };
        s.split(sep).map(hex).collect()
    } else if s.contains('.') {
        let groups: Vec<&str> = s.split('.').collect();
        if groups.iter().any(|g| g.len() != 4) {
            return None;
        }
        groups
            .iter()
            .flat_map(|g| [hex(&g[..2]), hex(&g[2..])])
            .collect()
    } else {
        None
    };
    bytes.filter(|b| matches!(b.len(), 6 | 8 | 20))
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
    fn macs_in_every_go_form() {
        assert_eq!(
            parse_mac("AA-BB-CC-00-11-22").map(|b| mac_string(&b)),
            Some("aa:bb:cc:00:11:22".into())
        );
        assert!(parse_mac("aabb.cc00.1122").is_some());
        assert!(parse_mac("aa:bb:cc").is_none());
        assert!(parse_mac("zz:bb:cc:00:11:22").is_none());
    }
}
