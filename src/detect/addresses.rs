//! Classifies IP addresses into the special-purpose ranges that DNS answers for public names
//! should not contain (bogons) and decides whether a resolver is local; it knows nothing of
//! flows or findings.
//!
//! Ranges: the IANA IPv4 and IPv6 Special-Purpose Address Registries (RFC 6890 and updates),
//! multicast, the reserved class E, and the documentation prefixes (RFC 5737, RFC 3849,
//! RFC 9637). OONI flags the same kind of answers as bogons (`ooni/probe-cli`
//! `internal/netxlite/bogon.go`, from ipinfo's bogon list) and Censored Planet as `ip.invalid`;
//! signatures.md §2.1(e). The NAT64 prefixes 64:ff9b::/96 (RFC 6052) and 64:ff9b:1::/48
//! (RFC 8215) are not bogons: DNS64 resolvers synthesise answers in them on purpose.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// A special-purpose range an address belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SpecialRange {
    /// The range, as CIDR text.
    pub cidr: &'static str,
    /// What the range is for.
    pub purpose: &'static str,
}

const V4: &[(u32, u8, &str, &str)] = &[
    (0x0000_0000, 8, "0.0.0.0/8", "\"this network\" (RFC 791)"),
    (0x0a00_0000, 8, "10.0.0.0/8", "private use (RFC 1918)"),
    (
        0x6440_0000,
        10,
        "100.64.0.0/10",
        "shared address space for carrier-grade NAT (RFC 6598)",
    ),
    (0x7f00_0000, 8, "127.0.0.0/8", "loopback (RFC 1122)"),
    (0xa9fe_0000, 16, "169.254.0.0/16", "link-local (RFC 3927)"),
    (0xac10_0000, 12, "172.16.0.0/12", "private use (RFC 1918)"),
    (
        0xc000_0000,
        24,
        "192.0.0.0/24",
        "IETF protocol assignments (RFC 6890)",
    ),
    (
        0xc000_0200,
        24,
        "192.0.2.0/24",
        "documentation TEST-NET-1 (RFC 5737)",
    ),
    (0xc0a8_0000, 16, "192.168.0.0/16", "private use (RFC 1918)"),
    (0xc612_0000, 15, "198.18.0.0/15", "benchmarking (RFC 2544)"),
    (
        0xc633_6400,
        24,
        "198.51.100.0/24",
        "documentation TEST-NET-2 (RFC 5737)",
    ),
    (
        0xcb00_7100,
        24,
        "203.0.113.0/24",
        "documentation TEST-NET-3 (RFC 5737)",
    ),
    (0xe000_0000, 4, "224.0.0.0/4", "multicast (RFC 5771)"),
    (
        0xf000_0000,
        4,
        "240.0.0.0/4",
        "reserved (RFC 1112), including the broadcast address",
    ),
];

const V6: &[(u128, u8, &str, &str)] = &[
    (0, 128, "::/128", "unspecified (RFC 4291)"),
    (1, 128, "::1/128", "loopback (RFC 4291)"),
    (
        0x0100_0000_0000_0000_0000_0000_0000_0000,
        64,
        "100::/64",
        "discard-only (RFC 6666)",
    ),
    (
        0x2001_0db8_0000_0000_0000_0000_0000_0000,
        32,
        "2001:db8::/32",
        "documentation (RFC 3849)",
    ),
    (
        0x3fff_0000_0000_0000_0000_0000_0000_0000,
        20,
        "3fff::/20",
        "documentation (RFC 9637)",
    ),
    (
        0xfc00_0000_0000_0000_0000_0000_0000_0000,
        7,
        "fc00::/7",
        "unique local (RFC 4193)",
    ),
    (
        0xfe80_0000_0000_0000_0000_0000_0000_0000,
        10,
        "fe80::/10",
        "link-local (RFC 4291)",
    ),
    (
        0xff00_0000_0000_0000_0000_0000_0000_0000,
        8,
        "ff00::/8",
        "multicast (RFC 4291)",
    ),
];

fn in_v4(a: Ipv4Addr, net: u32, len: u8) -> bool {
    let mask = if len == 0 {
        0
    } else {
        u32::MAX << (32 - u32::from(len))
    };
    u32::from(a) & mask == net
}

fn in_v6(a: Ipv6Addr, net: u128, len: u8) -> bool {
    let mask = if len == 0 {
        0
    } else {
        u128::MAX << (128 - u32::from(len))
    };
    u128::from(a) & mask == net
}

/// The special-purpose range of `addr`, if any (IPv4-mapped IPv6 addresses are judged by their
/// IPv4 address; the NAT64 prefixes are not special here).
pub fn special_range(addr: IpAddr) -> Option<SpecialRange> {
    match addr {
        IpAddr::V4(a) => V4
            .iter()
            .find(|(net, len, _, _)| in_v4(a, *net, *len))
            .map(|(_, _, cidr, purpose)| SpecialRange { cidr, purpose }),
        IpAddr::V6(a) => {
            if let Some(v4) = a.to_ipv4_mapped() {
                return special_range(IpAddr::V4(v4));
            }
            V6.iter()
                .find(|(net, len, _, _)| in_v6(a, *net, *len))
                .map(|(_, _, cidr, purpose)| SpecialRange { cidr, purpose })
        }
    }
}

/// True for the NAT64 prefixes DNS64 resolvers synthesise AAAA answers in.
pub fn is_nat64(addr: IpAddr) -> bool {
    match addr {
        IpAddr::V6(a) => {
            in_v6(a, 0x0064_ff9b_0000_0000_0000_0000_0000_0000, 96)
                || in_v6(a, 0x0064_ff9b_0001_0000_0000_0000_0000_0000, 48)
        }
        IpAddr::V4(_) => false,
    }
}

/// A resolver on the capturing host or its local network (loopback, private, link-local,
/// carrier-grade NAT, unique local): split-horizon answers with private addresses are its
/// business.
pub fn is_local(addr: IpAddr) -> bool {
    match special_range(addr) {
        Some(r) => matches!(
            r.cidr,
            "127.0.0.0/8"
                | "10.0.0.0/8"
                | "172.16.0.0/12"
                | "192.168.0.0/16"
                | "169.254.0.0/16"
                | "100.64.0.0/10"
                | "::1/128"
                | "fc00::/7"
                | "fe80::/10"
        ),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("address")
    }

    #[test]
    fn bogons_are_recognised() {
        for a in [
            "0.1.2.3",
            "10.10.34.34",
            "100.64.0.1",
            "127.0.0.1",
            "169.254.1.1",
            "172.31.255.255",
            "192.168.168.4",
            "198.19.0.1",
            "203.0.113.30",
            "224.0.0.251",
            "255.255.255.255",
            "::",
            "::1",
            "fd00::1",
            "fe80::1",
            "2001:db8::1",
            "::ffff:10.0.0.1",
        ] {
            assert!(special_range(ip(a)).is_some(), "{a}");
        }
        for a in [
            "8.8.8.8",
            "93.184.215.14",
            "172.32.0.1",
            "100.128.0.1",
            "2606:4700::6810:84e5",
            "64:ff9b::5db8:d70e",
            "::ffff:8.8.8.8",
        ] {
            assert!(special_range(ip(a)).is_none(), "{a}");
        }
        assert_eq!(
            special_range(ip("10.6.6.6")).map(|r| r.cidr),
            Some("10.0.0.0/8")
        );
    }

    #[test]
    fn nat64_and_local_resolvers() {
        assert!(is_nat64(ip("64:ff9b::5db8:d70e")));
        assert!(is_nat64(ip("64:ff9b:1::1")));
        assert!(!is_nat64(ip("2606:4700::1")));
        assert!(is_local(ip("127.0.0.53")));
        assert!(is_local(ip("192.168.1.1")));
        assert!(is_local(ip("fe80::1")));
        assert!(!is_local(ip("8.8.8.8")));
        assert!(
            !is_local(ip("203.0.113.5")),
            "documentation space is not a local network"
        );
    }
}
