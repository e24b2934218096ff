//! Decodes one packet's headers (link, IP, TCP/UDP/ICMP, tunnel headers) into plain values;
//! it is stateless and never reassembles, tracks flows or judges anything.
//!
//! Decoding is lax, as a capture analyzer must be: a packet cut by the snapshot length still
//! yields every header that fits, and the declared lengths are kept apart from the captured
//! ones so that sequence tracking stays right. Anything impossible is returned as a
//! [`DecodeError`] naming the layer, which the pipeline turns into a diagnostic.

pub mod link;
mod tcp;

use std::net::IpAddr;

use etherparse::{LaxIpSlice, UdpSlice};
use serde::Serialize;

pub use tcp::{SackBlocks, TcpFlags, TcpHeader, TcpOptions};

/// IP protocol numbers (IANA "Assigned Internet Protocol Numbers").
pub mod ip_proto {
    /// ICMP.
    pub const ICMP: u8 = 1;
    /// IPv4 encapsulated in IP.
    pub const IPIP: u8 = 4;
    /// TCP.
    pub const TCP: u8 = 6;
    /// UDP.
    pub const UDP: u8 = 17;
    /// IPv6 encapsulated in IP.
    pub const IPV6: u8 = 41;
    /// Generic Routing Encapsulation.
    pub const GRE: u8 = 47;
    /// ICMPv6.
    pub const ICMPV6: u8 = 58;
}

/// UDP header length (RFC 768).
const UDP_HEADER_LEN: u32 = 8;
/// ICMP header length before any quoted packet (RFC 792, RFC 4443).
const ICMP_HEADER_LEN: usize = 8;

/// IP version.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum IpVersion {
    /// IPv4.
    #[serde(rename = "ipv4")]
    V4,
    /// IPv6.
    #[serde(rename = "ipv6")]
    V6,
}

/// Fragmentation fields of an IPv4 header or IPv6 fragment header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FragmentInfo {
    /// Identification (16 bits for IPv4, 32 for IPv6).
    pub id: u32,
    /// Offset of this fragment's data in the original payload, in bytes.
    pub offset: u32,
    /// More fragments follow.
    pub more: bool,
}

/// The network-layer facts of one packet, as carried on every event for evidence.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IpHeader {
    /// IPv4 or IPv6.
    pub version: IpVersion,
    /// Source address.
    pub src: IpAddr,
    /// Destination address.
    pub dst: IpAddr,
    /// IPv4 TTL or IPv6 hop limit, as observed at the capture point.
    pub ttl: u8,
    /// IPv4 identification (`None` for IPv6).
    pub ip_id: Option<u16>,
    /// IPv4 Don't Fragment bit (always false for IPv6).
    pub df: bool,
    /// The DSCP/ECN byte (IPv4 TOS, IPv6 traffic class).
    pub tos: u8,
    /// Upper-layer protocol after any extension headers.
    pub protocol: u8,
    /// Set for a fragment of a larger datagram (not for atomic fragments).
    pub fragment: Option<FragmentInfo>,
    /// Payload length declared by the header (after extension headers).
    pub payload_len: u32,
    /// True when fewer payload bytes were captured than declared.
    pub payload_cut: bool,
}

/// A decoded IP packet: its header and the payload bytes that were captured.
#[derive(Clone, Copy, Debug)]
pub struct IpPacket<'a> {
    /// Header fields.
    pub header: IpHeader,
    /// Payload after the IP header and extension headers (possibly shorter than declared).
    pub payload: &'a [u8],
}

/// The layer at which decoding stopped, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DecodeError {
    /// The IP header is cut short or impossible.
    Ip(String),
    /// An IPv6 extension header (or IPv4 authentication header) is malformed; what precedes
    /// it was decoded.
    IpExtension(String),
    /// The TCP header is cut short or impossible.
    Tcp(String),
    /// The UDP header is cut short.
    Udp(String),
    /// The ICMP header is cut short.
    Icmp(String),
}

/// Decodes an IPv4 or IPv6 packet. An extension-header problem is returned alongside the
/// packet (the header fields before it are still good).
pub fn ip(bytes: &[u8]) -> Result<(IpPacket<'_>, Option<DecodeError>), DecodeError> {
    let (slice, ext_err) =
        LaxIpSlice::from_slice(bytes).map_err(|e| DecodeError::Ip(e.to_string()))?;
    let ext_err = ext_err.map(|(e, layer)| DecodeError::IpExtension(format!("{layer:?}: {e}")));
    let payload = slice.payload();
    let header = match &slice {
        LaxIpSlice::Ipv4(v4) => {
            let h = v4.header();
            let declared = u32::from(h.total_len()).saturating_sub(u32::from(h.ihl()) * 4);
            // The auth header, if any, sits between the IPv4 header and the payload.
            let ext_len = v4.extensions().auth.map_or(0, |a| a.slice().len() as u32);
            let offset = u32::from(h.fragments_offset().value()) * 8;
            let more = h.more_fragments();
            IpHeader {
                version: IpVersion::V4,
                src: IpAddr::V4(h.source_addr()),
                dst: IpAddr::V4(h.destination_addr()),
                ttl: h.ttl(),
                ip_id: Some(h.identification()),
                df: h.dont_fragment(),
                tos: h.slice().get(1).copied().unwrap_or(0),
                protocol: payload.ip_number.0,
                fragment: (offset != 0 || more).then_some(FragmentInfo {
                    id: u32::from(h.identification()),
                    offset,
                    more,
                }),
                payload_len: declared_len(payload, declared.saturating_sub(ext_len)),
                payload_cut: payload.incomplete,
            }
        }
        LaxIpSlice::Ipv6(v6) => {
            let h = v6.header();
            // Walked by hand, with every length checked: etherparse 0.21's extension iterator
            // trusts lengths that lax slicing of a damaged packet has not checked, and reads
            // past the slice (found by tests/robustness.rs).
            let fragment = ipv6_fragment(
                v6.extensions().first_header().map(|n| n.0),
                v6.extensions().slice(),
            );
            let ext_len = v6.extensions().slice().len() as u32;
            IpHeader {
                version: IpVersion::V6,
                src: IpAddr::V6(h.source_addr()),
                dst: IpAddr::V6(h.destination_addr()),
                ttl: h.hop_limit(),
                ip_id: None,
                df: false,
                tos: h.traffic_class(),
                protocol: payload.ip_number.0,
                fragment,
                payload_len: declared_len(
                    payload,
                    u32::from(h.payload_length()).saturating_sub(ext_len),
                ),
                payload_cut: payload.incomplete,
            }
        }
    };
    Ok((
        IpPacket {
            header,
            payload: payload.payload,
        },
        ext_err,
    ))
}

/// The fragment header among IPv6 extension headers (`first` names the first header of
/// `data`), when the packet is a fragment; `None` for an unfragmented packet or a chain that is
/// cut short or not understood.
fn ipv6_fragment(first: Option<u8>, mut data: &[u8]) -> Option<FragmentInfo> {
    let mut next = first?;
    loop {
        let (len, header) = match next {
            // Hop-by-hop options, routing, destination options: 8-octet units after the first.
            0 | 43 | 60 => (usize::from(*data.get(1)?) * 8 + 8, next),
            // Fragment: always 8 octets.
            44 => (8, next),
            // Authentication header: 4-octet units, plus two.
            51 => (usize::from(*data.get(1)?) * 4 + 8, next),
            _ => return None,
        };
        let this = data.get(..len)?;
        if header == 44 {
            let field = u16::from_be_bytes([this[2], this[3]]);
            let offset = u32::from(field >> 3) * 8;
            let more = field & 1 == 1;
            if offset != 0 || more {
                return Some(FragmentInfo {
                    id: u32::from_be_bytes([this[4], this[5], this[6], this[7]]),
                    offset,
                    more,
                });
            }
        }
        next = this[0];
        data = &data[len..];
    }
}

/// The payload length the sender meant. When the capture holds the whole packet etherparse has
/// already cut the payload to the header's length (or, for a zero length field as written by
/// TCP segmentation offload, kept the whole frame), so the captured length is right; only a
/// packet cut by the snapshot length needs the header's figure.
fn declared_len(payload: &etherparse::LaxIpPayloadSlice<'_>, from_header: u32) -> u32 {
    if payload.incomplete {
        from_header.max(payload.payload.len() as u32)
    } else {
        payload.payload.len() as u32
    }
}

/// Finds the upper-layer protocol and payload after IPv6 extension headers that were inside a
/// reassembled fragmented datagram (RFC 8200 §4.5: the fragmentable part may start with
/// destination options or routing headers).
pub fn skip_ipv6_extensions(next_header: u8, data: &[u8]) -> (u8, &[u8]) {
    let (_, proto, rest, _) =
        etherparse::Ipv6ExtensionsSlice::from_slice_lax(etherparse::IpNumber(next_header), data);
    (proto.0, rest)
}

/// UDP header fields.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UdpHeader {
    /// Source port.
    pub src_port: u16,
    /// Destination port.
    pub dst_port: u16,
    /// Payload length declared by the UDP length field.
    pub payload_len: u32,
}

/// ICMP or ICMPv6 header fields.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IcmpHeader {
    /// ICMPv6 rather than ICMPv4.
    pub v6: bool,
    /// Type.
    pub icmp_type: u8,
    /// Code.
    pub code: u8,
}

impl IcmpHeader {
    /// True for error messages that quote the packet that caused them (destination
    /// unreachable, time exceeded, parameter problem, source quench / packet too big).
    pub fn is_error(&self) -> bool {
        if self.v6 {
            (1..=4).contains(&self.icmp_type)
        } else {
            matches!(self.icmp_type, 3 | 4 | 5 | 11 | 12)
        }
    }
}

/// The transport layer of a packet.
#[derive(Clone, Copy, Debug)]
pub enum Transport<'a> {
    /// TCP header and the captured payload.
    Tcp(TcpHeader, &'a [u8]),
    /// UDP header and the captured payload.
    Udp(UdpHeader, &'a [u8]),
    /// ICMP header and the bytes after it (for errors: the quoted packet).
    Icmp(IcmpHeader, &'a [u8]),
    /// Any other protocol.
    Other,
}

/// Decodes the transport header of a complete (or reassembled) IP payload. `declared_len` is
/// the payload length the IP header announced, which may exceed `payload.len()` when the
/// frame was cut by the snapshot length.
pub fn transport(
    protocol: u8,
    payload: &[u8],
    declared_len: u32,
) -> Result<Transport<'_>, DecodeError> {
    match protocol {
        ip_proto::TCP => {
            let (h, data) = tcp::decode(payload, declared_len)?;
            Ok(Transport::Tcp(h, data))
        }
        ip_proto::UDP => {
            let udp =
                UdpSlice::from_slice_lax(payload).map_err(|e| DecodeError::Udp(e.to_string()))?;
            let len_field = u32::from(udp.length());
            // A zero or too-small length field (jumbograms, broken senders): trust the IP layer.
            let payload_len = if len_field >= UDP_HEADER_LEN {
                len_field - UDP_HEADER_LEN
            } else {
                declared_len.saturating_sub(UDP_HEADER_LEN)
            };
            let data = payload.get(UDP_HEADER_LEN as usize..).unwrap_or(&[]);
            let data = data
                .get(..(payload_len as usize).min(data.len()))
                .unwrap_or(data);
            Ok(Transport::Udp(
                UdpHeader {
                    src_port: udp.source_port(),
                    dst_port: udp.destination_port(),
                    payload_len,
                },
                data,
            ))
        }
        ip_proto::ICMP | ip_proto::ICMPV6 => {
            if payload.len() < 4 {
                return Err(DecodeError::Icmp(format!(
                    "ICMP header needs 4 bytes, {} present",
                    payload.len()
                )));
            }
            Ok(Transport::Icmp(
                IcmpHeader {
                    v6: protocol == ip_proto::ICMPV6,
                    icmp_type: payload[0],
                    code: payload[1],
                },
                payload.get(ICMP_HEADER_LEN..).unwrap_or(&[]),
            ))
        }
        _ => Ok(Transport::Other),
    }
}

/// GRE header flags (RFC 2784 §2.1, RFC 2890 §2): checksum, key and sequence present.
const GRE_FLAG_CHECKSUM: u16 = 0x8000;
const GRE_FLAG_KEY: u16 = 0x2000;
const GRE_FLAG_SEQ: u16 = 0x1000;
/// Enhanced GRE (PPTP, RFC 2637 §4.1) also has an acknowledgment number.
const GRE_FLAG_ACK: u16 = 0x0080;
/// VXLAN header length (RFC 7348 §5) and Geneve base header (RFC 8926 §3.4).
const VXLAN_HEADER_LEN: usize = 8;
const GENEVE_HEADER_LEN: usize = 8;
/// UDP ports of UDP-based tunnels (IANA).
pub const VXLAN_PORT: u16 = 4789;
/// Geneve's UDP port.
pub const GENEVE_PORT: u16 = 6081;
/// PPP in GRE (PPTP).
const GRE_PROTO_PPP: u16 = 0x880b;

/// What a tunnel header carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Inner<'a> {
    /// An IP packet.
    Ip(&'a [u8]),
    /// An Ethernet frame.
    Ethernet(&'a [u8]),
    /// A PPP frame (PPTP).
    Ppp(&'a [u8]),
    /// Nothing tamper follows.
    None,
}

/// Strips a GRE header (versions 0 and 1).
pub fn gre(payload: &[u8]) -> Inner<'_> {
    let Some(&[f0, f1, p0, p1]) = payload.get(..4).and_then(|s| <&[u8; 4]>::try_from(s).ok())
    else {
        return Inner::None;
    };
    let flags = u16::from_be_bytes([f0, f1]);
    let proto = u16::from_be_bytes([p0, p1]);
    let version = flags & 0x0007;
    let mut len = 4usize;
    if version == 0 {
        if flags & GRE_FLAG_CHECKSUM != 0 {
            len += 4;
        }
        if flags & GRE_FLAG_KEY != 0 {
            len += 4;
        }
        if flags & GRE_FLAG_SEQ != 0 {
            len += 4;
        }
    } else if version == 1 {
        // Enhanced GRE always carries a key (payload length + call id).
        len += 4;
        if flags & GRE_FLAG_SEQ != 0 {
            len += 4;
        }
        if flags & GRE_FLAG_ACK != 0 {
            len += 4;
        }
    } else {
        return Inner::None;
    }
    let rest = payload.get(len..).unwrap_or(&[]);
    match proto {
        link::ether_type::IPV4 | link::ether_type::IPV6 => Inner::Ip(rest),
        link::ether_type::TEB => Inner::Ethernet(rest),
        GRE_PROTO_PPP => Inner::Ppp(rest),
        _ => Inner::None,
    }
}

/// Strips a VXLAN or Geneve header from a UDP payload on the tunnel's port.
pub fn udp_tunnel(dst_port: u16, payload: &[u8]) -> Inner<'_> {
    match dst_port {
        VXLAN_PORT if payload.len() >= VXLAN_HEADER_LEN && payload[0] & 0x08 != 0 => {
            Inner::Ethernet(&payload[VXLAN_HEADER_LEN..])
        }
        GENEVE_PORT if payload.len() >= GENEVE_HEADER_LEN && payload[0] >> 6 == 0 => {
            let opt_len = usize::from(payload[0] & 0x3f) * 4;
            let proto = u16::from_be_bytes([payload[2], payload[3]]);
            let rest = payload.get(GENEVE_HEADER_LEN + opt_len..).unwrap_or(&[]);
            match proto {
                link::ether_type::TEB => Inner::Ethernet(rest),
                link::ether_type::IPV4 | link::ether_type::IPV6 => Inner::Ip(rest),
                _ => Inner::None,
            }
        }
        _ => Inner::None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An IPv4/TCP SYN: 10.0.0.1:40000 -> 10.0.0.2:80, TTL 64, ID 0x1234, DF.
    const IPV4_TCP_SYN: [u8; 44] = [
        0x45, 0x00, 0x00, 0x2c, 0x12, 0x34, 0x40, 0x00, 0x40, 0x06, 0x00, 0x00, 10, 0, 0, 1, 10, 0,
        0, 2, 0x9c, 0x40, 0x00, 0x50, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x60, 0x02,
        0xfa, 0xf0, 0x00, 0x00, 0x00, 0x00, 0x02, 0x04, 0x05, 0xb4,
    ];

    #[test]
    fn ipv4_tcp_syn() {
        let (p, ext) = ip(&IPV4_TCP_SYN).unwrap();
        assert!(ext.is_none());
        let h = p.header;
        assert_eq!(h.version, IpVersion::V4);
        assert_eq!(h.src, "10.0.0.1".parse::<IpAddr>().unwrap());
        assert_eq!(
            (h.ttl, h.ip_id, h.df, h.protocol),
            (64, Some(0x1234), true, 6)
        );
        assert_eq!(h.payload_len, 24);
        assert!(h.fragment.is_none());
        let Transport::Tcp(t, data) = transport(h.protocol, p.payload, h.payload_len).unwrap()
        else {
            panic!("not tcp")
        };
        assert!(data.is_empty());
        assert_eq!(
            (t.src_port, t.dst_port, t.seq, t.flags),
            (40000, 80, 1, TcpFlags::SYN)
        );
        assert_eq!(t.options.mss, Some(1460));
    }

    #[test]
    fn truncated_ip_and_tcp() {
        for n in 0..20 {
            assert!(ip(&IPV4_TCP_SYN[..n]).is_err(), "len {n}");
        }
        // Header complete, TCP cut: IP decodes, TCP reports the problem.
        let (p, _) = ip(&IPV4_TCP_SYN[..30]).unwrap();
        assert!(p.header.payload_cut);
        assert!(matches!(
            transport(p.header.protocol, p.payload, p.header.payload_len),
            Err(DecodeError::Tcp(_))
        ));
    }

    #[test]
    fn impossible_ip_header_length() {
        let mut bad = IPV4_TCP_SYN;
        bad[0] = 0x43; // IHL 3 (12 bytes) is below the minimum of 5
        assert!(ip(&bad).is_err());
        let mut v9 = IPV4_TCP_SYN;
        v9[0] = 0x95;
        assert!(ip(&v9).is_err());
    }

    #[test]
    fn ipv4_fragment_fields() {
        let mut frag = IPV4_TCP_SYN;
        frag[6] = 0x20; // MF
        frag[7] = 0x02; // offset 2 * 8 = 16
        let (p, _) = ip(&frag).unwrap();
        assert_eq!(
            p.header.fragment,
            Some(FragmentInfo {
                id: 0x1234,
                offset: 16,
                more: true
            })
        );
    }

    #[test]
    fn udp_uses_declared_length() {
        // UDP length 12 (4 bytes payload) inside a longer IP payload (Ethernet padding).
        let udp = [
            0x00, 0x35, 0x04, 0xd2, 0x00, 0x0c, 0x00, 0x00, 1, 2, 3, 4, 0, 0,
        ];
        let Transport::Udp(h, data) = transport(17, &udp, 14).unwrap() else {
            panic!()
        };
        assert_eq!(
            (h.src_port, h.dst_port, h.payload_len, data),
            (53, 1234, 4, &[1, 2, 3, 4][..])
        );
        assert!(matches!(
            transport(17, &udp[..5], 14),
            Err(DecodeError::Udp(_))
        ));
    }

    #[test]
    fn icmp_error_quotes() {
        let icmp = [3, 3, 0, 0, 0, 0, 0, 0, 0x45, 0];
        let Transport::Icmp(h, q) = transport(1, &icmp, 10).unwrap() else {
            panic!()
        };
        assert!(h.is_error());
        assert_eq!(q, &[0x45, 0]);
        assert!(transport(1, &[3], 1).is_err());
    }

    #[test]
    fn gre_and_vxlan() {
        let mut g = vec![0x20, 0x00, 0x08, 0x00, 0, 0, 0, 7];
        g.extend([0x45, 0]);
        assert_eq!(gre(&g), Inner::Ip(&[0x45, 0]));
        let teb = [0x00, 0x00, 0x65, 0x58, 9];
        assert_eq!(gre(&teb), Inner::Ethernet(&[9]));
        assert_eq!(gre(&[0, 0]), Inner::None);
        let vx = [0x08, 0, 0, 0, 0, 0, 1, 0, 0xaa];
        assert_eq!(udp_tunnel(VXLAN_PORT, &vx), Inner::Ethernet(&[0xaa]));
        assert_eq!(udp_tunnel(53, &vx), Inner::None);
    }
}
