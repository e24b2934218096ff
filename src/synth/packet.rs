//! Builds IPv4/IPv6 packets carrying TCP, UDP or ICMP with correct (or
//! deliberately wrong) checksums, and splits packets into IP fragments; it
//! never adds a link layer and never decides timing.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::SynthError;

// IP protocol / IPv6 next-header numbers (IANA "Assigned Internet Protocol
// Numbers").
/// IPv6 Hop-by-Hop Options header (RFC 8200 §4.3).
pub const IPPROTO_HOPOPTS: u8 = 0;
/// ICMP for IPv4 (RFC 792).
pub const IPPROTO_ICMP: u8 = 1;
/// TCP (RFC 9293).
pub const IPPROTO_TCP: u8 = 6;
/// UDP (RFC 768).
pub const IPPROTO_UDP: u8 = 17;
/// IPv6 Routing header (RFC 8200 §4.4).
pub const IPPROTO_ROUTING: u8 = 43;
/// IPv6 Fragment header (RFC 8200 §4.5).
pub const IPPROTO_FRAGMENT: u8 = 44;
/// ICMPv6 (RFC 4443).
pub const IPPROTO_ICMPV6: u8 = 58;
/// IPv6 "no next header" (RFC 8200 §4.7).
pub const IPPROTO_NONE: u8 = 59;
/// IPv6 Destination Options header (RFC 8200 §4.6).
pub const IPPROTO_DSTOPTS: u8 = 60;

/// Length of an IPv4 header without options (RFC 791 §3.1).
pub const IPV4_HEADER_LEN: usize = 20;
/// Maximum IPv4 options length: IHL is 4 bits of 32-bit words (RFC 791 §3.1).
pub const IPV4_MAX_OPTIONS_LEN: usize = 40;
/// IPv4 flags field, "don't fragment" bit, in the flags/offset word (RFC 791 §3.1).
const IPV4_FLAG_DF: u16 = 0x4000;
/// IPv4 flags field, "more fragments" bit (RFC 791 §3.1).
const IPV4_FLAG_MF: u16 = 0x2000;
/// IPv4 flags field, reserved bit (RFC 791 §3.1; RFC 3514 for fun).
const IPV4_FLAG_RESERVED: u16 = 0x8000;
/// Fragment offset mask in the IPv4 flags/offset word (RFC 791 §3.1).
const IPV4_OFFSET_MASK: u16 = 0x1FFF;
/// IPv4 option "copied" flag: the option is copied into every fragment (RFC 791 §3.1).
const IPV4_OPTION_COPIED: u8 = 0x80;
/// IPv4 End of Option List (RFC 791 §3.1).
const IPV4_OPTION_EOL: u8 = 0;
/// IPv4 No Operation option (RFC 791 §3.1).
const IPV4_OPTION_NOP: u8 = 1;

/// Length of the fixed IPv6 header (RFC 8200 §3).
pub const IPV6_HEADER_LEN: usize = 40;
/// IPv6 Pad1 option (RFC 8200 §4.2).
const IPV6_OPT_PAD1: u8 = 0;
/// IPv6 PadN option (RFC 8200 §4.2).
const IPV6_OPT_PADN: u8 = 1;
/// IPv6 Router Alert option type (RFC 2711 §2.1).
pub const IPV6_OPT_ROUTER_ALERT: u8 = 5;
/// Routing type of the deprecated source route (RFC 5095 deprecates RFC 2460's type 0).
pub const ROUTING_TYPE_0: u8 = 0;
/// Routing type of the Segment Routing Header (RFC 8754 §2).
pub const ROUTING_TYPE_SRH: u8 = 4;

/// Length of the fixed TCP header (RFC 9293 §3.1).
pub const TCP_HEADER_LEN: usize = 20;
/// Maximum TCP options length: data offset is 4 bits of 32-bit words (RFC 9293 §3.1).
pub const TCP_MAX_OPTIONS_LEN: usize = 40;
/// Length of the UDP header (RFC 768).
pub const UDP_HEADER_LEN: usize = 8;

// TCP flag bits as a 12-bit value: the low byte is byte 13 of the header,
// bits 8..11 are the low nibble of byte 12 (RFC 9293 §3.1, RFC 3168 §6.1,
// RFC 3540 for NS).
/// FIN (RFC 9293 §3.1).
pub const TCP_FIN: u16 = 0x001;
/// SYN (RFC 9293 §3.1).
pub const TCP_SYN: u16 = 0x002;
/// RST (RFC 9293 §3.1).
pub const TCP_RST: u16 = 0x004;
/// PSH (RFC 9293 §3.1).
pub const TCP_PSH: u16 = 0x008;
/// ACK (RFC 9293 §3.1).
pub const TCP_ACK: u16 = 0x010;
/// URG (RFC 9293 §3.1).
pub const TCP_URG: u16 = 0x020;
/// ECE (RFC 3168 §6.1).
pub const TCP_ECE: u16 = 0x040;
/// CWR (RFC 3168 §6.1).
pub const TCP_CWR: u16 = 0x080;
/// NS, the ECN nonce sum bit (RFC 3540, historic; now AE in RFC 9768 drafts).
pub const TCP_NS: u16 = 0x100;
/// The three remaining reserved bits of byte 12 (RFC 9293 §3.1).
pub const TCP_RESERVED: u16 = 0xE00;

// TCP option kinds (IANA "TCP Option Kind Numbers").
/// End of option list (RFC 9293 §3.2).
const TCPOPT_EOL: u8 = 0;
/// No operation (RFC 9293 §3.2).
const TCPOPT_NOP: u8 = 1;
/// Maximum segment size (RFC 9293 §3.2).
const TCPOPT_MSS: u8 = 2;
/// Window scale (RFC 7323 §2.2).
const TCPOPT_WSCALE: u8 = 3;
/// SACK permitted (RFC 2018 §2).
const TCPOPT_SACK_PERMITTED: u8 = 4;
/// SACK blocks (RFC 2018 §3).
const TCPOPT_SACK: u8 = 5;
/// Timestamps (RFC 7323 §3.2).
const TCPOPT_TIMESTAMPS: u8 = 8;

// ICMP message types.
/// ICMPv4 echo reply (RFC 792).
pub const ICMPV4_ECHO_REPLY: u8 = 0;
/// ICMPv4 destination unreachable (RFC 792).
pub const ICMPV4_DEST_UNREACHABLE: u8 = 3;
/// ICMPv4 echo request (RFC 792).
pub const ICMPV4_ECHO_REQUEST: u8 = 8;
/// ICMPv4 time exceeded (RFC 792).
pub const ICMPV4_TIME_EXCEEDED: u8 = 11;
/// ICMPv6 destination unreachable (RFC 4443 §3.1).
pub const ICMPV6_DEST_UNREACHABLE: u8 = 1;
/// ICMPv6 packet too big (RFC 4443 §3.2).
pub const ICMPV6_PACKET_TOO_BIG: u8 = 2;
/// ICMPv6 time exceeded (RFC 4443 §3.3).
pub const ICMPV6_TIME_EXCEEDED: u8 = 3;
/// ICMPv6 echo request (RFC 4443 §4.1).
pub const ICMPV6_ECHO_REQUEST: u8 = 128;
/// ICMPv6 echo reply (RFC 4443 §4.2).
pub const ICMPV6_ECHO_REPLY: u8 = 129;

/// How a checksum field is filled.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Checksum {
    /// The correct checksum.
    #[default]
    Correct,
    /// A checksum that is guaranteed not to verify (the correct one with its
    /// low byte inverted, which never lands on the other representation of
    /// one's-complement zero).
    Wrong,
    /// Exactly this value (0 means "no checksum" for UDP over IPv4).
    Value(u16),
}

impl Checksum {
    fn apply(self, correct: u16) -> u16 {
        match self {
            Checksum::Correct => correct,
            Checksum::Wrong => correct ^ 0x00FF,
            Checksum::Value(v) => v,
        }
    }
}

/// Adds `data` as big-endian 16-bit words to a one's-complement running sum
/// (RFC 1071 §4.1); an odd trailing byte is padded with zero.
pub fn ones_complement_add(mut sum: u64, data: &[u8]) -> u64 {
    let mut chunks = data.chunks_exact(2);
    for c in &mut chunks {
        sum += u64::from(u16::from_be_bytes([c[0], c[1]]));
    }
    if let [last] = chunks.remainder() {
        sum += u64::from(*last) << 8;
    }
    sum
}

/// Folds a running sum to 16 bits and complements it (RFC 1071 §4.1).
pub fn ones_complement_finish(mut sum: u64) -> u16 {
    while sum >> 16 != 0 {
        sum = (sum & 0xFFFF) + (sum >> 16);
    }
    !(sum as u16)
}

/// The Internet checksum of `data` alone (RFC 1071).
pub fn internet_checksum(data: &[u8]) -> u16 {
    ones_complement_finish(ones_complement_add(0, data))
}

/// Fields of an IPv4 header (RFC 791 §3.1). The protocol and lengths are filled
/// in by [`Ipv4Spec::build`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ipv4Spec {
    /// Source address.
    pub src: Ipv4Addr,
    /// Destination address.
    pub dst: Ipv4Addr,
    /// Time to live, as it should appear in the capture.
    pub ttl: u8,
    /// Identification field.
    pub id: u16,
    /// Type of service / DSCP+ECN byte.
    pub tos: u8,
    /// The DF flag.
    pub dont_fragment: bool,
    /// The MF flag.
    pub more_fragments: bool,
    /// The reserved ("evil") flag bit.
    pub reserved_flag: bool,
    /// Fragment offset in 8-byte units (13 bits; higher bits are dropped).
    pub fragment_offset: u16,
    /// Raw option bytes; padded with EOL to a multiple of 4 and cut at 40.
    pub options: Vec<u8>,
    /// Header checksum mode.
    pub checksum: Checksum,
    /// Overrides the total length field (for malformed packets).
    pub total_length: Option<u16>,
}

impl Ipv4Spec {
    /// A plain header: TTL 64, ID 0, DF set, no options.
    pub fn new(src: Ipv4Addr, dst: Ipv4Addr) -> Self {
        Self {
            src,
            dst,
            ttl: 64,
            id: 0,
            tos: 0,
            dont_fragment: true,
            more_fragments: false,
            reserved_flag: false,
            fragment_offset: 0,
            options: Vec::new(),
            checksum: Checksum::Correct,
            total_length: None,
        }
    }

    fn padded_options(&self) -> Vec<u8> {
        let mut o = self.options.clone();
        o.truncate(IPV4_MAX_OPTIONS_LEN);
        while !o.len().is_multiple_of(4) {
            o.push(IPV4_OPTION_EOL);
        }
        o
    }

    /// The header bytes for a payload of `payload_len` bytes of `protocol`.
    pub fn header(&self, protocol: u8, payload_len: usize) -> Vec<u8> {
        let options = self.padded_options();
        let header_len = IPV4_HEADER_LEN + options.len();
        let total = self
            .total_length
            .unwrap_or_else(|| (header_len + payload_len).min(usize::from(u16::MAX)) as u16);
        let mut flags_offset = self.fragment_offset & IPV4_OFFSET_MASK;
        if self.dont_fragment {
            flags_offset |= IPV4_FLAG_DF;
        }
        if self.more_fragments {
            flags_offset |= IPV4_FLAG_MF;
        }
        if self.reserved_flag {
            flags_offset |= IPV4_FLAG_RESERVED;
        }
        let mut h = Vec::with_capacity(header_len);
        h.push(0x40 | (header_len / 4) as u8);
        h.push(self.tos);
        h.extend_from_slice(&total.to_be_bytes());
        h.extend_from_slice(&self.id.to_be_bytes());
        h.extend_from_slice(&flags_offset.to_be_bytes());
        h.push(self.ttl);
        h.push(protocol);
        h.extend_from_slice(&[0, 0]);
        h.extend_from_slice(&self.src.octets());
        h.extend_from_slice(&self.dst.octets());
        h.extend_from_slice(&options);
        let sum = self.checksum.apply(internet_checksum(&h));
        h[10..12].copy_from_slice(&sum.to_be_bytes());
        h
    }

    /// The whole packet: header followed by `payload`.
    pub fn build(&self, protocol: u8, payload: &[u8]) -> Vec<u8> {
        let mut p = self.header(protocol, payload.len());
        p.extend_from_slice(payload);
        p
    }
}

/// An IPv6 extension header (RFC 8200 §4).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ipv6Ext {
    /// Hop-by-Hop Options with these raw TLV options (padded with Pad1/PadN).
    HopByHop(Vec<u8>),
    /// Destination Options with these raw TLV options (padded with Pad1/PadN).
    DestinationOptions(Vec<u8>),
    /// A Routing header. Type 4 is laid out as a Segment Routing Header
    /// (RFC 8754: last entry, flags, tag, segment list); every other type as
    /// type 0 (4 reserved bytes, then the addresses).
    Routing {
        /// Routing type.
        routing_type: u8,
        /// Segments left.
        segments_left: u8,
        /// The address list.
        addresses: Vec<Ipv6Addr>,
    },
    /// A Fragment header.
    Fragment {
        /// Fragment offset in 8-byte units (13 bits).
        offset: u16,
        /// The M (more fragments) flag.
        more: bool,
        /// Identification.
        id: u32,
    },
}

impl Ipv6Ext {
    /// The next-header number that announces this extension header.
    pub fn protocol(&self) -> u8 {
        match self {
            Ipv6Ext::HopByHop(_) => IPPROTO_HOPOPTS,
            Ipv6Ext::DestinationOptions(_) => IPPROTO_DSTOPTS,
            Ipv6Ext::Routing { .. } => IPPROTO_ROUTING,
            Ipv6Ext::Fragment { .. } => IPPROTO_FRAGMENT,
        }
    }

    /// A Router Alert option (RFC 2711) for use in a Hop-by-Hop header.
    pub fn router_alert_option(value: u16) -> Vec<u8> {
        let v = value.to_be_bytes();
        vec![IPV6_OPT_ROUTER_ALERT, 2, v[0], v[1]]
    }

    /// Encodes the header with `next` as its next-header field.
    pub fn encode(&self, next: u8) -> Vec<u8> {
        match self {
            Ipv6Ext::HopByHop(opts) | Ipv6Ext::DestinationOptions(opts) => {
                let mut h = vec![next, 0];
                h.extend_from_slice(opts);
                let pad = (8 - h.len() % 8) % 8;
                match pad {
                    0 => {}
                    1 => h.push(IPV6_OPT_PAD1),
                    n => {
                        h.push(IPV6_OPT_PADN);
                        h.push((n - 2) as u8);
                        h.extend(std::iter::repeat_n(0, n - 2));
                    }
                }
                h[1] = (h.len() / 8 - 1).min(255) as u8;
                h
            }
            Ipv6Ext::Routing {
                routing_type,
                segments_left,
                addresses,
            } => {
                let n = addresses.len().min(127);
                let mut h = vec![next, (2 * n) as u8, *routing_type, *segments_left];
                if *routing_type == ROUTING_TYPE_SRH {
                    // Last Entry, Flags, Tag (RFC 8754 §2).
                    h.push(n.saturating_sub(1) as u8);
                    h.extend_from_slice(&[0, 0, 0]);
                } else {
                    h.extend_from_slice(&[0, 0, 0, 0]);
                }
                for a in &addresses[..n] {
                    h.extend_from_slice(&a.octets());
                }
                h
            }
            Ipv6Ext::Fragment { offset, more, id } => {
                let word = ((offset & 0x1FFF) << 3) | u16::from(*more);
                let mut h = vec![next, 0];
                h.extend_from_slice(&word.to_be_bytes());
                h.extend_from_slice(&id.to_be_bytes());
                h
            }
        }
    }
}

/// Fields of an IPv6 header (RFC 8200 §3) and its extension headers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ipv6Spec {
    /// Source address.
    pub src: Ipv6Addr,
    /// Destination address.
    pub dst: Ipv6Addr,
    /// Hop limit, as it should appear in the capture.
    pub hop_limit: u8,
    /// Traffic class.
    pub traffic_class: u8,
    /// Flow label (20 bits; higher bits are dropped).
    pub flow_label: u32,
    /// Extension headers in order, between the fixed header and the upper layer.
    pub extensions: Vec<Ipv6Ext>,
}

impl Ipv6Spec {
    /// A plain header: hop limit 64, no extension headers.
    pub fn new(src: Ipv6Addr, dst: Ipv6Addr) -> Self {
        Self {
            src,
            dst,
            hop_limit: 64,
            traffic_class: 0,
            flow_label: 0,
            extensions: Vec::new(),
        }
    }

    /// The destination used in upper-layer checksums: the final destination
    /// of a routing header with segments left (RFC 8200 §8.1), otherwise `dst`.
    pub fn pseudo_destination(&self) -> Ipv6Addr {
        for e in &self.extensions {
            if let Ipv6Ext::Routing {
                routing_type,
                segments_left,
                addresses,
            } = e
            {
                if *segments_left > 0 {
                    let last = if *routing_type == ROUTING_TYPE_SRH {
                        addresses.first()
                    } else {
                        addresses.last()
                    };
                    if let Some(a) = last {
                        return *a;
                    }
                }
            }
        }
        self.dst
    }

    /// The whole packet: fixed header, extension headers, then `payload` of
    /// upper-layer `protocol`.
    pub fn build(&self, protocol: u8, payload: &[u8]) -> Vec<u8> {
        let mut exts = Vec::new();
        for (i, e) in self.extensions.iter().enumerate() {
            let next = self
                .extensions
                .get(i + 1)
                .map_or(protocol, Ipv6Ext::protocol);
            exts.extend_from_slice(&e.encode(next));
        }
        let first = self.extensions.first().map_or(protocol, Ipv6Ext::protocol);
        let payload_len = (exts.len() + payload.len()).min(usize::from(u16::MAX)) as u16;
        let word =
            (6u32 << 28) | (u32::from(self.traffic_class) << 20) | (self.flow_label & 0xF_FFFF);
        let mut p = Vec::with_capacity(IPV6_HEADER_LEN + exts.len() + payload.len());
        p.extend_from_slice(&word.to_be_bytes());
        p.extend_from_slice(&payload_len.to_be_bytes());
        p.push(first);
        p.push(self.hop_limit);
        p.extend_from_slice(&self.src.octets());
        p.extend_from_slice(&self.dst.octets());
        p.extend_from_slice(&exts);
        p.extend_from_slice(payload);
        p
    }
}

/// An IPv4 or IPv6 header description.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IpSpec {
    /// IPv4.
    V4(Ipv4Spec),
    /// IPv6.
    V6(Ipv6Spec),
}

impl IpSpec {
    /// A plain header between two addresses of the same family.
    pub fn new(src: IpAddr, dst: IpAddr) -> Result<Self, SynthError> {
        match (src, dst) {
            (IpAddr::V4(s), IpAddr::V4(d)) => Ok(IpSpec::V4(Ipv4Spec::new(s, d))),
            (IpAddr::V6(s), IpAddr::V6(d)) => Ok(IpSpec::V6(Ipv6Spec::new(s, d))),
            _ => Err(SynthError::InvalidRequest(
                "source and destination address families differ",
            )),
        }
    }

    /// Source address.
    pub fn src(&self) -> IpAddr {
        match self {
            IpSpec::V4(h) => IpAddr::V4(h.src),
            IpSpec::V6(h) => IpAddr::V6(h.src),
        }
    }

    /// Destination address.
    pub fn dst(&self) -> IpAddr {
        match self {
            IpSpec::V4(h) => IpAddr::V4(h.dst),
            IpSpec::V6(h) => IpAddr::V6(h.dst),
        }
    }

    /// Sets the TTL (IPv4) or hop limit (IPv6).
    pub fn set_ttl(&mut self, ttl: u8) {
        match self {
            IpSpec::V4(h) => h.ttl = ttl,
            IpSpec::V6(h) => h.hop_limit = ttl,
        }
    }

    /// The one's-complement sum of the upper-layer pseudo-header
    /// (RFC 9293 §3.1 for IPv4, RFC 8200 §8.1 for IPv6).
    pub fn pseudo_header_sum(&self, protocol: u8, upper_len: usize) -> u64 {
        match self {
            IpSpec::V4(h) => {
                let mut s = ones_complement_add(0, &h.src.octets());
                s = ones_complement_add(s, &h.dst.octets());
                s += u64::from(protocol);
                s + (upper_len as u64 & 0xFFFF)
            }
            IpSpec::V6(h) => {
                let mut s = ones_complement_add(0, &h.src.octets());
                s = ones_complement_add(s, &h.pseudo_destination().octets());
                s = ones_complement_add(s, &(upper_len as u32).to_be_bytes());
                s + u64::from(protocol)
            }
        }
    }

    /// The whole packet carrying `payload` of upper-layer `protocol`.
    pub fn build(&self, protocol: u8, payload: &[u8]) -> Vec<u8> {
        match self {
            IpSpec::V4(h) => h.build(protocol, payload),
            IpSpec::V6(h) => h.build(protocol, payload),
        }
    }
}

/// A TCP option (RFC 9293 §3.2 and the RFCs named on each variant).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TcpOption {
    /// End of option list (kind 0).
    Eol,
    /// No operation (kind 1).
    Nop,
    /// Maximum segment size (kind 2).
    Mss(u16),
    /// Window scale shift count (kind 3, RFC 7323 §2).
    WindowScale(u8),
    /// SACK permitted (kind 4, RFC 2018).
    SackPermitted,
    /// SACK blocks as (left edge, right edge) pairs (kind 5, RFC 2018).
    Sack(Vec<(u32, u32)>),
    /// Timestamps (kind 8, RFC 7323 §3).
    Timestamps {
        /// TSval.
        value: u32,
        /// TSecr.
        echo: u32,
    },
    /// Any other option: kind and value bytes (the length byte is added).
    Raw {
        /// Option kind.
        kind: u8,
        /// Option data after the length byte.
        data: Vec<u8>,
    },
}

impl TcpOption {
    fn encode_into(&self, out: &mut Vec<u8>) {
        match self {
            TcpOption::Eol => out.push(TCPOPT_EOL),
            TcpOption::Nop => out.push(TCPOPT_NOP),
            TcpOption::Mss(m) => {
                out.extend_from_slice(&[TCPOPT_MSS, 4]);
                out.extend_from_slice(&m.to_be_bytes());
            }
            TcpOption::WindowScale(s) => out.extend_from_slice(&[TCPOPT_WSCALE, 3, *s]),
            TcpOption::SackPermitted => out.extend_from_slice(&[TCPOPT_SACK_PERMITTED, 2]),
            TcpOption::Sack(blocks) => {
                out.push(TCPOPT_SACK);
                out.push((2 + 8 * blocks.len()).min(255) as u8);
                for (l, r) in blocks {
                    out.extend_from_slice(&l.to_be_bytes());
                    out.extend_from_slice(&r.to_be_bytes());
                }
            }
            TcpOption::Timestamps { value, echo } => {
                out.extend_from_slice(&[TCPOPT_TIMESTAMPS, 10]);
                out.extend_from_slice(&value.to_be_bytes());
                out.extend_from_slice(&echo.to_be_bytes());
            }
            TcpOption::Raw { kind, data } => {
                out.push(*kind);
                out.push((2 + data.len()).min(255) as u8);
                out.extend_from_slice(data);
            }
        }
    }

    /// The option list a Linux client puts in a SYN: MSS, SACK permitted,
    /// timestamps (when `ts` is given), NOP, window scale.
    pub fn linux_syn(mss: u16, wscale: u8, ts: Option<(u32, u32)>) -> Vec<TcpOption> {
        let mut v = vec![TcpOption::Mss(mss)];
        match ts {
            Some((value, echo)) => {
                v.push(TcpOption::SackPermitted);
                v.push(TcpOption::Timestamps { value, echo });
            }
            None => {
                v.push(TcpOption::Nop);
                v.push(TcpOption::Nop);
                v.push(TcpOption::SackPermitted);
            }
        }
        v.push(TcpOption::Nop);
        v.push(TcpOption::WindowScale(wscale));
        v
    }

    /// NOP, NOP, timestamps: the option list of an established Linux segment.
    pub fn timestamps(value: u32, echo: u32) -> Vec<TcpOption> {
        vec![
            TcpOption::Nop,
            TcpOption::Nop,
            TcpOption::Timestamps { value, echo },
        ]
    }
}

/// Encodes options, padding with EOL (zero) bytes to a multiple of 4 and
/// cutting at the 40-byte maximum.
pub fn encode_tcp_options(options: &[TcpOption]) -> Vec<u8> {
    let mut out = Vec::new();
    for o in options {
        o.encode_into(&mut out);
    }
    out.truncate(TCP_MAX_OPTIONS_LEN);
    while !out.len().is_multiple_of(4) {
        out.push(TCPOPT_EOL);
    }
    out
}

/// Fields of a TCP header (RFC 9293 §3.1). The acknowledgment number is
/// written as given even when the ACK flag is clear, so "ACK field non-zero
/// without the ACK flag" is just `ack: x` with `flags` lacking [`TCP_ACK`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TcpSpec {
    /// Source port.
    pub src_port: u16,
    /// Destination port.
    pub dst_port: u16,
    /// Sequence number.
    pub seq: u32,
    /// Acknowledgment number (written even without the ACK flag).
    pub ack: u32,
    /// Flag bits, see the `TCP_*` constants (12 bits, including NS and reserved).
    pub flags: u16,
    /// Window.
    pub window: u16,
    /// Urgent pointer.
    pub urgent: u16,
    /// Options, encoded in order and padded.
    pub options: Vec<TcpOption>,
    /// Checksum mode.
    pub checksum: Checksum,
}

impl TcpSpec {
    /// A header with these ports and flags, zero seq/ack, window 64240.
    pub fn new(src_port: u16, dst_port: u16, flags: u16) -> Self {
        Self {
            src_port,
            dst_port,
            seq: 0,
            ack: 0,
            flags,
            window: 64240,
            urgent: 0,
            options: Vec::new(),
            checksum: Checksum::Correct,
        }
    }

    /// The TCP segment bytes (header and payload) with the checksum computed
    /// over `ip`'s pseudo-header.
    pub fn encode(&self, ip: &IpSpec, payload: &[u8]) -> Vec<u8> {
        let opts = encode_tcp_options(&self.options);
        let header_len = TCP_HEADER_LEN + opts.len();
        let mut s = Vec::with_capacity(header_len + payload.len());
        s.extend_from_slice(&self.src_port.to_be_bytes());
        s.extend_from_slice(&self.dst_port.to_be_bytes());
        s.extend_from_slice(&self.seq.to_be_bytes());
        s.extend_from_slice(&self.ack.to_be_bytes());
        s.push((((header_len / 4) as u8) << 4) | ((self.flags >> 8) & 0x0F) as u8);
        s.push((self.flags & 0xFF) as u8);
        s.extend_from_slice(&self.window.to_be_bytes());
        s.extend_from_slice(&[0, 0]);
        s.extend_from_slice(&self.urgent.to_be_bytes());
        s.extend_from_slice(&opts);
        s.extend_from_slice(payload);
        let sum = ones_complement_add(ip.pseudo_header_sum(IPPROTO_TCP, s.len()), &s);
        let c = self.checksum.apply(ones_complement_finish(sum));
        s[16..18].copy_from_slice(&c.to_be_bytes());
        s
    }
}

/// A complete IP packet carrying a TCP segment.
pub fn tcp_packet(ip: &IpSpec, tcp: &TcpSpec, payload: &[u8]) -> Vec<u8> {
    ip.build(IPPROTO_TCP, &tcp.encode(ip, payload))
}

/// Fields of a UDP header (RFC 768).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UdpSpec {
    /// Source port.
    pub src_port: u16,
    /// Destination port.
    pub dst_port: u16,
    /// Checksum mode; a computed zero is sent as 0xFFFF (RFC 768).
    pub checksum: Checksum,
    /// Overrides the length field (for malformed datagrams).
    pub length: Option<u16>,
}

impl UdpSpec {
    /// A header with these ports and a correct checksum.
    pub fn new(src_port: u16, dst_port: u16) -> Self {
        Self {
            src_port,
            dst_port,
            checksum: Checksum::Correct,
            length: None,
        }
    }

    /// The UDP datagram bytes with the checksum over `ip`'s pseudo-header.
    pub fn encode(&self, ip: &IpSpec, payload: &[u8]) -> Vec<u8> {
        let true_len = UDP_HEADER_LEN + payload.len();
        let len = self
            .length
            .unwrap_or(true_len.min(usize::from(u16::MAX)) as u16);
        let mut d = Vec::with_capacity(true_len);
        d.extend_from_slice(&self.src_port.to_be_bytes());
        d.extend_from_slice(&self.dst_port.to_be_bytes());
        d.extend_from_slice(&len.to_be_bytes());
        d.extend_from_slice(&[0, 0]);
        d.extend_from_slice(payload);
        let sum = ones_complement_add(ip.pseudo_header_sum(IPPROTO_UDP, true_len), &d);
        let mut correct = ones_complement_finish(sum);
        if correct == 0 {
            correct = 0xFFFF;
        }
        let c = self.checksum.apply(correct);
        d[6..8].copy_from_slice(&c.to_be_bytes());
        d
    }
}

/// A complete IP packet carrying a UDP datagram.
pub fn udp_packet(ip: &IpSpec, udp: &UdpSpec, payload: &[u8]) -> Vec<u8> {
    ip.build(IPPROTO_UDP, &udp.encode(ip, payload))
}

/// An ICMP message; the type numbers follow the IP family of the packet it is
/// built into (ICMPv4 for IPv4, ICMPv6 for IPv6).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IcmpMessage {
    /// Echo request with identifier, sequence number and data.
    EchoRequest {
        /// Identifier.
        ident: u16,
        /// Sequence number.
        seq: u16,
        /// Data.
        data: Vec<u8>,
    },
    /// Echo reply.
    EchoReply {
        /// Identifier.
        ident: u16,
        /// Sequence number.
        seq: u16,
        /// Data.
        data: Vec<u8>,
    },
    /// Destination unreachable quoting the start of the offending packet.
    DestinationUnreachable {
        /// Code (e.g. 3 port unreachable for ICMPv4, 4 for ICMPv6; 13 / 1
        /// administratively prohibited).
        code: u8,
        /// The quoted original packet (see [`quote_original`]).
        original: Vec<u8>,
    },
    /// Time exceeded (code 0: TTL / hop limit exceeded in transit).
    TimeExceeded {
        /// Code.
        code: u8,
        /// The quoted original packet.
        original: Vec<u8>,
    },
    /// ICMPv6 Packet Too Big / ICMPv4 fragmentation needed (type 3 code 4).
    PacketTooBig {
        /// Next-hop MTU.
        mtu: u32,
        /// The quoted original packet.
        original: Vec<u8>,
    },
    /// Anything else: type, code, the 4 bytes after the checksum, and data.
    Other {
        /// Type.
        icmp_type: u8,
        /// Code.
        code: u8,
        /// The "rest of header" word.
        rest: u32,
        /// Data.
        data: Vec<u8>,
    },
}

/// At most `max_len` bytes from the start of `packet`, as an ICMP error quotes
/// it: RFC 792 needs the IP header plus 8 bytes, RFC 1812 §4.3.2.3 allows up to
/// 576 bytes in total, RFC 4443 §2.4 up to the 1280-byte minimum MTU.
pub fn quote_original(packet: &[u8], max_len: usize) -> Vec<u8> {
    packet[..packet.len().min(max_len)].to_vec()
}

/// ICMPv4 "fragmentation needed" code of destination unreachable (RFC 1191 §4).
const ICMPV4_CODE_FRAG_NEEDED: u8 = 4;

/// A complete IP packet carrying an ICMP (IPv4) or ICMPv6 (IPv6) message.
pub fn icmp_packet(ip: &IpSpec, msg: &IcmpMessage) -> Vec<u8> {
    let v6 = matches!(ip, IpSpec::V6(_));
    let (t, code, rest, data): (u8, u8, u32, &[u8]) = match msg {
        IcmpMessage::EchoRequest { ident, seq, data } => (
            if v6 {
                ICMPV6_ECHO_REQUEST
            } else {
                ICMPV4_ECHO_REQUEST
            },
            0,
            (u32::from(*ident) << 16) | u32::from(*seq),
            data,
        ),
        IcmpMessage::EchoReply { ident, seq, data } => (
            if v6 {
                ICMPV6_ECHO_REPLY
            } else {
                ICMPV4_ECHO_REPLY
            },
            0,
            (u32::from(*ident) << 16) | u32::from(*seq),
            data,
        ),
        IcmpMessage::DestinationUnreachable { code, original } => (
            if v6 {
                ICMPV6_DEST_UNREACHABLE
            } else {
                ICMPV4_DEST_UNREACHABLE
            },
            *code,
            0,
            original,
        ),
        IcmpMessage::TimeExceeded { code, original } => (
            if v6 {
                ICMPV6_TIME_EXCEEDED
            } else {
                ICMPV4_TIME_EXCEEDED
            },
            *code,
            0,
            original,
        ),
        IcmpMessage::PacketTooBig { mtu, original } => {
            if v6 {
                (ICMPV6_PACKET_TOO_BIG, 0, *mtu, original)
            } else {
                // RFC 1191 §4: unused 16 bits, then the next-hop MTU.
                (
                    ICMPV4_DEST_UNREACHABLE,
                    ICMPV4_CODE_FRAG_NEEDED,
                    *mtu & 0xFFFF,
                    original,
                )
            }
        }
        IcmpMessage::Other {
            icmp_type,
            code,
            rest,
            data,
        } => (*icmp_type, *code, *rest, data),
    };
    let mut m = vec![t, code, 0, 0];
    m.extend_from_slice(&rest.to_be_bytes());
    m.extend_from_slice(data);
    let proto = if v6 { IPPROTO_ICMPV6 } else { IPPROTO_ICMP };
    let start = if v6 {
        ip.pseudo_header_sum(proto, m.len())
    } else {
        0
    };
    let c = ones_complement_finish(ones_complement_add(start, &m));
    m[2..4].copy_from_slice(&c.to_be_bytes());
    ip.build(proto, &m)
}

/// Splits an IPv4 packet into fragments carrying at most `max_payload` bytes
/// each (rounded down to a multiple of 8, RFC 791 §3.2). Offsets continue from
/// the packet's own offset, MF is set on all but the last (which keeps the
/// original MF), DF is cleared, options are copied into later fragments only
/// when their "copied" bit is set. The checksum of every fragment is correct.
pub fn fragment_ipv4(packet: &[u8], max_payload: usize) -> Result<Vec<Vec<u8>>, SynthError> {
    if packet.len() < IPV4_HEADER_LEN || packet[0] >> 4 != 4 {
        return Err(SynthError::InvalidPacket("not an IPv4 packet"));
    }
    let ihl = usize::from(packet[0] & 0x0F) * 4;
    let total = usize::from(u16::from_be_bytes([packet[2], packet[3]]));
    if ihl < IPV4_HEADER_LEN || total < ihl || total > packet.len() {
        return Err(SynthError::InvalidPacket("IPv4 header or total length"));
    }
    let chunk = max_payload / 8 * 8;
    if chunk == 0 {
        return Err(SynthError::InvalidRequest(
            "fragment payload must be at least 8 bytes",
        ));
    }
    let word = u16::from_be_bytes([packet[6], packet[7]]);
    let base_offset = usize::from(word & IPV4_OFFSET_MASK) * 8;
    let orig_mf = word & IPV4_FLAG_MF != 0;
    let options = &packet[IPV4_HEADER_LEN..ihl];
    let copied = copied_ipv4_options(options);
    let payload = &packet[ihl..total];
    let mut out = Vec::new();
    let mut pos = 0;
    while pos < payload.len() || (pos == 0 && payload.is_empty()) {
        let end = (pos + chunk).min(payload.len());
        let last = end == payload.len();
        let opts: &[u8] = if pos == 0 { options } else { &copied };
        let header_len = IPV4_HEADER_LEN + opts.len();
        let mut h = packet[..IPV4_HEADER_LEN].to_vec();
        h[0] = 0x40 | (header_len / 4) as u8;
        let len = (header_len + end - pos) as u16;
        h[2..4].copy_from_slice(&len.to_be_bytes());
        let mut w = (((base_offset + pos) / 8) as u16) & IPV4_OFFSET_MASK;
        if !last || orig_mf {
            w |= IPV4_FLAG_MF;
        }
        w |= word & IPV4_FLAG_RESERVED;
        h[6..8].copy_from_slice(&w.to_be_bytes());
        h[10] = 0;
        h[11] = 0;
        h.extend_from_slice(opts);
        let c = internet_checksum(&h);
        h[10..12].copy_from_slice(&c.to_be_bytes());
        h.extend_from_slice(&payload[pos..end]);
        out.push(h);
        if last {
            break;
        }
        pos = end;
    }
    Ok(out)
}

/// The options with the "copied" flag, padded to a multiple of 4.
fn copied_ipv4_options(options: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < options.len() {
        let kind = options[i];
        if kind == IPV4_OPTION_EOL {
            break;
        }
        if kind == IPV4_OPTION_NOP {
            i += 1;
            continue;
        }
        let len = usize::from(*options.get(i + 1).unwrap_or(&2)).max(2);
        let end = (i + len).min(options.len());
        if kind & IPV4_OPTION_COPIED != 0 {
            out.extend_from_slice(&options[i..end]);
        }
        i = end;
    }
    while !out.len().is_multiple_of(4) {
        out.push(IPV4_OPTION_EOL);
    }
    out
}

/// Splits an IPv6 packet into fragments carrying at most `max_payload` bytes
/// of the fragmentable part each (rounded down to a multiple of 8), inserting
/// a Fragment header with identification `id` (RFC 8200 §4.5). The
/// unfragmentable part is the fixed header plus any Hop-by-Hop header and
/// headers up to the last Routing header; it is repeated in every fragment.
pub fn fragment_ipv6(
    packet: &[u8],
    max_payload: usize,
    id: u32,
) -> Result<Vec<Vec<u8>>, SynthError> {
    if packet.len() < IPV6_HEADER_LEN || packet[0] >> 4 != 6 {
        return Err(SynthError::InvalidPacket("not an IPv6 packet"));
    }
    let payload_len = usize::from(u16::from_be_bytes([packet[4], packet[5]]));
    let end = IPV6_HEADER_LEN + payload_len;
    if end > packet.len() {
        return Err(SynthError::InvalidPacket("IPv6 payload length"));
    }
    let chunk = max_payload / 8 * 8;
    if chunk == 0 {
        return Err(SynthError::InvalidRequest(
            "fragment payload must be at least 8 bytes",
        ));
    }
    // Walk the chain, remembering where the unfragmentable part ends and
    // which next-header byte has to announce the Fragment header.
    let mut next = packet[6];
    let mut pos = IPV6_HEADER_LEN;
    let mut unfrag_end = IPV6_HEADER_LEN;
    let mut unfrag_next_field = 6usize;
    while let IPPROTO_HOPOPTS | IPPROTO_ROUTING | IPPROTO_DSTOPTS = next {
        if pos + 2 > end {
            return Err(SynthError::InvalidPacket("IPv6 extension header"));
        }
        let len = (usize::from(packet[pos + 1]) + 1) * 8;
        if pos + len > end {
            return Err(SynthError::InvalidPacket("IPv6 extension header"));
        }
        let this = next;
        let field = pos;
        next = packet[pos];
        pos += len;
        if this != IPPROTO_DSTOPTS {
            unfrag_end = pos;
            unfrag_next_field = field;
        }
    }
    let frag_next = packet[unfrag_next_field];
    let unfrag = &packet[..unfrag_end];
    let body = &packet[unfrag_end..end];
    let mut out = Vec::new();
    let mut p = 0;
    loop {
        let stop = (p + chunk).min(body.len());
        let last = stop == body.len();
        let mut f = unfrag.to_vec();
        f[unfrag_next_field] = IPPROTO_FRAGMENT;
        f.extend_from_slice(
            &Ipv6Ext::Fragment {
                offset: (p / 8) as u16,
                more: !last,
                id,
            }
            .encode(frag_next),
        );
        f.extend_from_slice(&body[p..stop]);
        let pl = (f.len() - IPV6_HEADER_LEN) as u16;
        f[4..6].copy_from_slice(&pl.to_be_bytes());
        out.push(f);
        if last {
            break;
        }
        p = stop;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use etherparse::{NetSlice, SlicedPacket, TransportSlice};

    fn v4() -> IpSpec {
        IpSpec::new(
            IpAddr::V4(Ipv4Addr::new(192, 168, 1, 10)),
            IpAddr::V4(Ipv4Addr::new(93, 184, 216, 34)),
        )
        .unwrap()
    }

    fn v6() -> IpSpec {
        IpSpec::new(
            "2001:db8::10".parse().unwrap(),
            "2001:db8:ffff::1".parse().unwrap(),
        )
        .unwrap()
    }

    /// Independent check: the one's-complement sum over pseudo-header and
    /// segment including its checksum field folds to 0xFFFF.
    fn transport_verifies(ip: &[u8], proto: u8) -> bool {
        let (src, dst, body): (Vec<u8>, Vec<u8>, &[u8]) = if ip[0] >> 4 == 4 {
            let ihl = usize::from(ip[0] & 15) * 4;
            (ip[12..16].to_vec(), ip[16..20].to_vec(), &ip[ihl..])
        } else {
            // Skip extension headers for this check.
            let mut next = ip[6];
            let mut pos = 40;
            while matches!(next, 0 | 43 | 60) {
                next = ip[pos];
                pos += (usize::from(ip[pos + 1]) + 1) * 8;
            }
            (ip[8..24].to_vec(), ip[24..40].to_vec(), &ip[pos..])
        };
        let mut s = ones_complement_add(0, &src);
        s = ones_complement_add(s, &dst);
        if ip[0] >> 4 == 4 {
            s += u64::from(proto) + body.len() as u64;
        } else {
            s = ones_complement_add(s, &(body.len() as u32).to_be_bytes());
            s += u64::from(proto);
        }
        s = ones_complement_add(s, body);
        ones_complement_finish(s) == 0
    }

    #[test]
    fn synth_ipv4_tcp_checksums_match_etherparse() {
        let ip = v4();
        let mut tcp = TcpSpec::new(51000, 443, TCP_SYN);
        tcp.seq = 0xDEAD_BEEF;
        tcp.options = TcpOption::linux_syn(1460, 7, Some((1, 0)));
        let pkt = tcp_packet(&ip, &tcp, b"");
        let s = SlicedPacket::from_ip(&pkt).unwrap();
        let Some(NetSlice::Ipv4(v4s)) = &s.net else {
            panic!("not ipv4")
        };
        let hdr = v4s.header();
        assert_eq!(internet_checksum(hdr.slice()), 0);
        let Some(TransportSlice::Tcp(t)) = &s.transport else {
            panic!("not tcp")
        };
        assert_eq!(t.sequence_number(), 0xDEAD_BEEF);
        assert!(t.syn() && !t.ack());
        let want = t
            .to_header()
            .calc_checksum_ipv4_raw(hdr.source(), hdr.destination(), t.payload())
            .unwrap();
        assert_eq!(t.checksum(), want);
        assert_eq!(t.to_header().header_len(), 40);
        assert!(transport_verifies(&pkt, IPPROTO_TCP));
    }

    #[test]
    fn synth_ipv6_tcp_and_udp_checksums_verify() {
        let ip = v6();
        let mut tcp = TcpSpec::new(40000, 80, TCP_PSH | TCP_ACK);
        tcp.seq = 7;
        tcp.ack = 9;
        let pkt = tcp_packet(&ip, &tcp, b"GET / HTTP/1.1\r\n\r\n");
        assert!(transport_verifies(&pkt, IPPROTO_TCP));
        let s = SlicedPacket::from_ip(&pkt).unwrap();
        let Some(NetSlice::Ipv6(h)) = &s.net else {
            panic!("not ipv6")
        };
        let Some(TransportSlice::Tcp(t)) = &s.transport else {
            panic!("not tcp")
        };
        let want = t
            .to_header()
            .calc_checksum_ipv6_raw(h.header().source(), h.header().destination(), t.payload())
            .unwrap();
        assert_eq!(t.checksum(), want);

        let udp = udp_packet(&ip, &UdpSpec::new(5353, 53), b"odd-length!");
        assert!(transport_verifies(&udp, IPPROTO_UDP));
        let udp4 = udp_packet(&v4(), &UdpSpec::new(5353, 53), b"x");
        assert!(transport_verifies(&udp4, IPPROTO_UDP));
        let s = SlicedPacket::from_ip(&udp4).unwrap();
        let Some(TransportSlice::Udp(u)) = &s.transport else {
            panic!("not udp")
        };
        assert_eq!(u.length(), 9);
    }

    #[test]
    fn synth_wrong_checksums_never_verify() {
        for seq in 0..2000u32 {
            let mut tcp = TcpSpec::new(1, 2, TCP_ACK);
            tcp.seq = seq.wrapping_mul(2_654_435_761);
            tcp.checksum = Checksum::Wrong;
            let pkt = tcp_packet(&v4(), &tcp, b"");
            assert!(!transport_verifies(&pkt, IPPROTO_TCP));
        }
        let mut h = Ipv4Spec::new(Ipv4Addr::LOCALHOST, Ipv4Addr::LOCALHOST);
        h.checksum = Checksum::Wrong;
        assert_ne!(internet_checksum(&h.header(6, 0)), 0);
    }

    #[test]
    fn synth_tcp_odd_flags_and_ack_without_ack_flag() {
        let mut tcp = TcpSpec::new(1, 2, TCP_SYN | TCP_FIN | TCP_NS | TCP_RESERVED | TCP_URG);
        tcp.ack = 12345;
        tcp.urgent = 3;
        let pkt = tcp_packet(&v4(), &tcp, b"abc");
        let t = &pkt[20..];
        assert_eq!(t[12], 0x50 | 0x0F);
        assert_eq!(t[13], 0x23);
        assert_eq!(u32::from_be_bytes([t[8], t[9], t[10], t[11]]), 12345);
        assert!(transport_verifies(&pkt, IPPROTO_TCP));
    }

    #[test]
    fn synth_tcp_options_encode_and_pad() {
        let o = encode_tcp_options(&[
            TcpOption::Nop,
            TcpOption::Nop,
            TcpOption::Sack(vec![(1, 2), (3, 4)]),
            TcpOption::WindowScale(8),
        ]);
        assert_eq!(o.len(), 24);
        assert_eq!(&o[..4], &[1, 1, 5, 18]);
        assert_eq!(&o[20..], &[3, 3, 8, 0]);
        let syn = encode_tcp_options(&TcpOption::linux_syn(1460, 7, Some((100, 0))));
        assert_eq!(syn.len(), 20);
        assert_eq!(&syn[..4], &[2, 4, 0x05, 0xB4]);
    }

    #[test]
    fn synth_ipv6_extension_chain_parses() {
        let mut ip = Ipv6Spec::new(
            "2001:db8::1".parse().unwrap(),
            "2001:db8::2".parse().unwrap(),
        );
        ip.extensions = vec![
            Ipv6Ext::HopByHop(Ipv6Ext::router_alert_option(0)),
            Ipv6Ext::Routing {
                routing_type: ROUTING_TYPE_SRH,
                segments_left: 0,
                addresses: vec!["2001:db8::2".parse().unwrap()],
            },
            Ipv6Ext::DestinationOptions(vec![]),
        ];
        let spec = IpSpec::V6(ip);
        let pkt = tcp_packet(&spec, &TcpSpec::new(1000, 80, TCP_SYN), b"");
        assert_eq!(pkt.len(), 40 + 8 + 24 + 8 + 20);
        assert!(transport_verifies(&pkt, IPPROTO_TCP));
        let s = SlicedPacket::from_ip(&pkt).unwrap();
        assert!(matches!(s.transport, Some(TransportSlice::Tcp(_))));
        let Some(NetSlice::Ipv6(h)) = &s.net else {
            panic!()
        };
        assert_eq!(h.extensions().first_header(), Some(etherparse::IpNumber(0)));
    }

    #[test]
    fn synth_routing_header_with_segments_left_uses_final_destination() {
        let final_dst: Ipv6Addr = "2001:db8::99".parse().unwrap();
        let mut ip = Ipv6Spec::new(
            "2001:db8::1".parse().unwrap(),
            "2001:db8::2".parse().unwrap(),
        );
        ip.extensions = vec![Ipv6Ext::Routing {
            routing_type: ROUTING_TYPE_0,
            segments_left: 1,
            addresses: vec![final_dst],
        }];
        assert_eq!(ip.pseudo_destination(), final_dst);
        let spec = IpSpec::V6(ip.clone());
        let pkt = udp_packet(&spec, &UdpSpec::new(1, 2), b"data");
        // Verify against a plain header addressed to the final destination.
        let mut direct = ip;
        direct.extensions.clear();
        direct.dst = final_dst;
        let plain = udp_packet(&IpSpec::V6(direct), &UdpSpec::new(1, 2), b"data");
        assert_eq!(&pkt[40 + 24..], &plain[40..]);
        let mut srh = Ipv6Spec::new(
            "2001:db8::1".parse().unwrap(),
            "2001:db8::2".parse().unwrap(),
        );
        srh.extensions = vec![Ipv6Ext::Routing {
            routing_type: ROUTING_TYPE_SRH,
            segments_left: 1,
            addresses: vec![final_dst, "2001:db8::2".parse().unwrap()],
        }];
        assert_eq!(srh.pseudo_destination(), final_dst);
    }

    #[test]
    fn synth_ipv4_fragmentation_offsets_and_flags() {
        let payload: Vec<u8> = (0..1000u32).map(|i| i as u8).collect();
        let mut h = Ipv4Spec::new(Ipv4Addr::new(8, 8, 8, 8), Ipv4Addr::new(10, 0, 0, 2));
        h.id = 0x1234;
        h.options = vec![0x83, 7, 4, 10, 0, 0, 1, IPV4_OPTION_NOP, 7, 3, 4];
        let pkt = udp_packet(&IpSpec::V4(h), &UdpSpec::new(53, 40000), &payload);
        let frags = fragment_ipv4(&pkt, 500).unwrap();
        assert_eq!(frags.len(), 3);
        let mut joined = Vec::new();
        for (i, f) in frags.iter().enumerate() {
            let ihl = usize::from(f[0] & 15) * 4;
            assert_eq!(internet_checksum(&f[..ihl]), 0);
            let w = u16::from_be_bytes([f[6], f[7]]);
            assert_eq!(w & IPV4_FLAG_MF != 0, i < 2);
            assert_eq!(w & IPV4_FLAG_DF, 0);
            assert_eq!(usize::from(w & IPV4_OFFSET_MASK) * 8, joined.len());
            assert_eq!(usize::from(u16::from_be_bytes([f[2], f[3]])), f.len());
            if i == 0 {
                assert_eq!(ihl, 32);
            } else {
                // Only the copied LSRR option (0x83) remains.
                assert_eq!(ihl, 28);
                assert_eq!(f[20], 0x83);
            }
            joined.extend_from_slice(&f[ihl..]);
        }
        let ihl = usize::from(pkt[0] & 15) * 4;
        assert_eq!(joined, pkt[ihl..]);
    }

    #[test]
    fn synth_ipv6_fragmentation_keeps_unfragmentable_part() {
        let mut ip = Ipv6Spec::new(
            "2001:db8::53".parse().unwrap(),
            "2001:db8::10".parse().unwrap(),
        );
        ip.extensions = vec![Ipv6Ext::HopByHop(vec![])];
        let spec = IpSpec::V6(ip);
        let payload = vec![0xAB; 1500];
        let pkt = udp_packet(&spec, &UdpSpec::new(53, 50000), &payload);
        let frags = fragment_ipv6(&pkt, 1000, 0xCAFE).unwrap();
        assert_eq!(frags.len(), 2);
        let mut joined = Vec::new();
        for (i, f) in frags.iter().enumerate() {
            assert_eq!(f[6], IPPROTO_HOPOPTS);
            assert_eq!(f[40], IPPROTO_FRAGMENT);
            assert_eq!(f[48], IPPROTO_UDP);
            let w = u16::from_be_bytes([f[50], f[51]]);
            assert_eq!(usize::from(w >> 3) * 8, joined.len());
            assert_eq!(w & 1 == 1, i == 0);
            assert_eq!(u32::from_be_bytes([f[52], f[53], f[54], f[55]]), 0xCAFE);
            assert_eq!(usize::from(u16::from_be_bytes([f[4], f[5]])), f.len() - 40);
            joined.extend_from_slice(&f[56..]);
        }
        assert_eq!(joined, pkt[48..]);
        assert!(fragment_ipv6(&pkt, 4, 1).is_err());
        assert!(fragment_ipv4(&pkt, 100).is_err());
    }

    #[test]
    fn synth_icmp_messages_verify() {
        let orig = udp_packet(&v4(), &UdpSpec::new(1, 2), b"hello world");
        let mut ip = Ipv4Spec::new(Ipv4Addr::new(10, 0, 0, 1), Ipv4Addr::new(192, 168, 1, 10));
        ip.ttl = 250;
        let m = icmp_packet(
            &IpSpec::V4(ip),
            &IcmpMessage::TimeExceeded {
                code: 0,
                original: quote_original(&orig, 28),
            },
        );
        assert_eq!(m.len(), 20 + 8 + 28);
        assert_eq!(internet_checksum(&m[20..]), 0);
        let s = SlicedPacket::from_ip(&m).unwrap();
        assert!(matches!(s.transport, Some(TransportSlice::Icmpv4(_))));

        let e = icmp_packet(
            &v6(),
            &IcmpMessage::EchoRequest {
                ident: 1,
                seq: 2,
                data: b"ping".to_vec(),
            },
        );
        assert!(transport_verifies(&e, IPPROTO_ICMPV6));
        assert_eq!(e[40], ICMPV6_ECHO_REQUEST);
    }
}
