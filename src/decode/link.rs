//! Strips link-layer headers (Ethernet with VLAN stacks, MPLS, PPPoE, Linux SLL/SLL2, BSD
//! NULL/LOOP, PPP, raw IP, NFLOG) down to the network-layer bytes; it never looks inside IP.

use crate::capture::LinkType;

/// EtherType values (IEEE registry).
pub mod ether_type {
    /// IPv4.
    pub const IPV4: u16 = 0x0800;
    /// ARP.
    pub const ARP: u16 = 0x0806;
    /// 802.1Q VLAN tag.
    pub const VLAN: u16 = 0x8100;
    /// IPv6.
    pub const IPV6: u16 = 0x86dd;
    /// MPLS unicast.
    pub const MPLS: u16 = 0x8847;
    /// MPLS multicast.
    pub const MPLS_MULTICAST: u16 = 0x8848;
    /// PPPoE discovery stage.
    pub const PPPOE_DISCOVERY: u16 = 0x8863;
    /// PPPoE session stage.
    pub const PPPOE_SESSION: u16 = 0x8864;
    /// 802.1ad provider bridging (QinQ outer tag).
    pub const QINQ: u16 = 0x88a8;
    /// Pre-standard QinQ tags still seen in the wild.
    pub const QINQ_OLD_1: u16 = 0x9100;
    /// Pre-standard QinQ tags still seen in the wild.
    pub const QINQ_OLD_2: u16 = 0x9200;
    /// Transparent Ethernet bridging (Ethernet inside GRE).
    pub const TEB: u16 = 0x6558;
}

/// Ethernet II header: destination, source, EtherType (IEEE 802.3 §3.1).
const ETHERNET_HEADER_LEN: usize = 14;
/// A VLAN tag: TCI then the inner EtherType (IEEE 802.1Q §9.6).
const VLAN_TAG_LEN: usize = 4;
/// EtherType values at or below this are 802.3 lengths, followed by LLC.
const ETHERNET_MAX_LENGTH_FIELD: u16 = 1500;
/// LLC + SNAP header: DSAP AA, SSAP AA, control 03, OUI (3), EtherType (2) (RFC 1042).
const LLC_SNAP_LEN: usize = 8;
/// One MPLS label stack entry (RFC 3032 §2.1); bit 0 of byte 2 marks the bottom of the stack.
const MPLS_LABEL_LEN: usize = 4;
/// PPPoE session header: ver/type, code, session id, length (RFC 2516 §4).
const PPPOE_HEADER_LEN: usize = 6;
/// Linux cooked header v1 (16 bytes, protocol at 14) and v2 (20 bytes, protocol at 0).
const SLL_HEADER_LEN: usize = 16;
const SLL2_HEADER_LEN: usize = 20;
/// BSD NULL/LOOP: a 4-byte address family.
const NULL_HEADER_LEN: usize = 4;
/// PPP protocol numbers (RFC 1661 §2, IANA PPP DLL protocol numbers).
const PPP_IPV4: u16 = 0x0021;
const PPP_IPV6: u16 = 0x0057;
/// BSD address families for IPv4 and the several IPv6 values of different systems.
const AF_INET: u32 = 2;
const AF_INET6_VALUES: [u32; 4] = [10, 24, 28, 30];
/// NFLOG: 4-byte header then TLVs; type 9 carries the packet (Linux nfnetlink_log.h).
const NFLOG_HEADER_LEN: usize = 4;
const NFLOG_TLV_PAYLOAD: u16 = 9;
/// How many stacked VLAN tags or MPLS labels are followed before giving up.
pub const MAX_LINK_STACK: usize = 16;

/// What sits under the link layer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NetProto {
    /// IPv4 or IPv6, to be told apart by the version nibble.
    Ip,
    /// Something else, by EtherType (or 0 when no EtherType applies).
    Other(u16),
}

/// The network-layer bytes of a frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NetSlice<'a> {
    /// What the bytes hold.
    pub proto: NetProto,
    /// The bytes after all link-layer headers.
    pub bytes: &'a [u8],
    /// Number of VLAN tags crossed.
    pub vlan_tags: u8,
}

/// Why a frame's link layer could not be stripped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LinkError {
    /// The link type is not one tamper decodes.
    Unsupported(LinkType),
    /// A header is cut short or inconsistent.
    Invalid(String),
}

/// Strips the link layer of a frame of type `link`.
pub fn strip(link: LinkType, data: &[u8]) -> Result<NetSlice<'_>, LinkError> {
    match link {
        LinkType::ETHERNET => ethernet(data, 0),
        LinkType::RAW | LinkType(12) | LinkType(14) | LinkType::IPV4 | LinkType::IPV6 => {
            Ok(ip(data))
        }
        LinkType::LINUX_SLL => {
            let proto = be16(data, 14).ok_or_else(|| short("Linux SLL", SLL_HEADER_LEN, data))?;
            ether_payload(proto, tail(data, SLL_HEADER_LEN), 0)
        }
        LinkType::LINUX_SLL2 => {
            if data.len() < SLL2_HEADER_LEN {
                return Err(short("Linux SLL2", SLL2_HEADER_LEN, data));
            }
            let proto = be16(data, 0).unwrap_or(0);
            ether_payload(proto, tail(data, SLL2_HEADER_LEN), 0)
        }
        LinkType::NULL | LinkType::LOOP => {
            let raw: [u8; 4] = data
                .get(..NULL_HEADER_LEN)
                .and_then(|s| s.try_into().ok())
                .ok_or_else(|| short("BSD loopback", NULL_HEADER_LEN, data))?;
            // NULL stores the family in the writer's byte order: a value with its high half set
            // was written big-endian. LOOP is always big-endian.
            let family = if link == LinkType::LOOP {
                u32::from_be_bytes(raw)
            } else {
                let le = u32::from_le_bytes(raw);
                if le & 0xFFFF_0000 != 0 {
                    u32::from_be_bytes(raw)
                } else {
                    le
                }
            };
            let rest = tail(data, NULL_HEADER_LEN);
            if family == AF_INET || AF_INET6_VALUES.contains(&family) {
                Ok(ip(rest))
            } else {
                Ok(NetSlice {
                    proto: NetProto::Other(0),
                    bytes: rest,
                    vlan_tags: 0,
                })
            }
        }
        LinkType::PPP | LinkType(50) => ppp(data),
        LinkType(51) => pppoe(data, 0),
        LinkType::NFLOG => nflog(data),
        other => Err(LinkError::Unsupported(other)),
    }
}

/// Strips an Ethernet header (and any VLAN/MPLS/PPPoE layers under it); also used for
/// Ethernet carried in tunnels.
pub fn ethernet(data: &[u8], vlans: u8) -> Result<NetSlice<'_>, LinkError> {
    let ty = be16(data, 12).ok_or_else(|| short("Ethernet", ETHERNET_HEADER_LEN, data))?;
    let rest = tail(data, ETHERNET_HEADER_LEN);
    if ty <= ETHERNET_MAX_LENGTH_FIELD {
        // 802.3 length field: only LLC/SNAP can carry IP.
        if rest.get(..3) == Some(&[0xaa, 0xaa, 0x03]) {
            let inner = be16(rest, 6).ok_or_else(|| short("LLC/SNAP", LLC_SNAP_LEN, rest))?;
            return ether_payload(inner, tail(rest, LLC_SNAP_LEN), vlans);
        }
        return Ok(NetSlice {
            proto: NetProto::Other(0),
            bytes: rest,
            vlan_tags: vlans,
        });
    }
    ether_payload(ty, rest, vlans)
}

/// Follows an EtherType chain (VLAN tags, MPLS, PPPoE) to the network layer.
fn ether_payload(mut ty: u16, mut data: &[u8], mut vlans: u8) -> Result<NetSlice<'_>, LinkError> {
    for _ in 0..MAX_LINK_STACK {
        match ty {
            ether_type::IPV4 | ether_type::IPV6 => return Ok(ip_as(data, vlans)),
            ether_type::VLAN
            | ether_type::QINQ
            | ether_type::QINQ_OLD_1
            | ether_type::QINQ_OLD_2 => {
                ty = be16(data, 2).ok_or_else(|| short("VLAN tag", VLAN_TAG_LEN, data))?;
                data = tail(data, VLAN_TAG_LEN);
                vlans = vlans.saturating_add(1);
            }
            ether_type::MPLS | ether_type::MPLS_MULTICAST => return mpls(data, vlans),
            ether_type::PPPOE_SESSION => return pppoe(data, vlans),
            other => {
                return Ok(NetSlice {
                    proto: NetProto::Other(other),
                    bytes: data,
                    vlan_tags: vlans,
                })
            }
        }
    }
    Err(LinkError::Invalid(format!(
        "more than {MAX_LINK_STACK} stacked VLAN tags"
    )))
}

fn mpls(mut data: &[u8], vlans: u8) -> Result<NetSlice<'_>, LinkError> {
    for _ in 0..MAX_LINK_STACK {
        let entry = data
            .get(..MPLS_LABEL_LEN)
            .ok_or_else(|| short("MPLS label", MPLS_LABEL_LEN, data))?;
        let bottom = entry.get(2).is_some_and(|b| b & 0x01 != 0);
        data = tail(data, MPLS_LABEL_LEN);
        if bottom {
            // RFC 4385: a first nibble of 4 or 6 is IP; 0 is a pseudowire control word, after
            // which comes an Ethernet frame.
            return match data.first().map(|b| b >> 4) {
                Some(4) | Some(6) => Ok(ip_as(data, vlans)),
                Some(0) => ethernet(tail(data, 4), vlans),
                _ => Ok(NetSlice {
                    proto: NetProto::Other(ether_type::MPLS),
                    bytes: data,
                    vlan_tags: vlans,
                }),
            };
        }
    }
    Err(LinkError::Invalid(format!(
        "more than {MAX_LINK_STACK} MPLS labels without a bottom-of-stack bit"
    )))
}

fn pppoe(data: &[u8], vlans: u8) -> Result<NetSlice<'_>, LinkError> {
    if data.len() < PPPOE_HEADER_LEN + 1 {
        return Err(short("PPPoE session", PPPOE_HEADER_LEN + 1, data));
    }
    // PPP protocol field compression applies inside PPPoE too (RFC 1661 §6.5).
    let body = tail(data, PPPOE_HEADER_LEN);
    match body.first() {
        Some(b) if b & 1 == 1 => Ok(ppp_protocol(u16::from(*b), tail(body, 1), vlans)),
        _ => {
            let proto = be16(body, 0).unwrap_or(0);
            Ok(ppp_protocol(proto, tail(body, 2), vlans))
        }
    }
}

fn ppp(data: &[u8]) -> Result<NetSlice<'_>, LinkError> {
    // Optional HDLC address/control bytes 0xff 0x03 (RFC 1662 §3.1).
    let data = if data.starts_with(&[0xff, 0x03]) {
        tail(data, 2)
    } else {
        data
    };
    // Protocol field compression (RFC 1661 §6.5): an odd first byte is a 1-byte protocol.
    match data.first() {
        None => Err(short("PPP", 2, data)),
        Some(b) if b & 1 == 1 => Ok(ppp_protocol(u16::from(*b), tail(data, 1), 0)),
        Some(_) => {
            let proto = be16(data, 0).ok_or_else(|| short("PPP", 2, data))?;
            Ok(ppp_protocol(proto, tail(data, 2), 0))
        }
    }
}

fn ppp_protocol(proto: u16, rest: &[u8], vlans: u8) -> NetSlice<'_> {
    match proto {
        PPP_IPV4 | PPP_IPV6 => ip_as(rest, vlans),
        other => NetSlice {
            proto: NetProto::Other(other),
            bytes: rest,
            vlan_tags: vlans,
        },
    }
}

fn nflog(data: &[u8]) -> Result<NetSlice<'_>, LinkError> {
    if data.len() < NFLOG_HEADER_LEN {
        return Err(short("NFLOG", NFLOG_HEADER_LEN, data));
    }
    let mut rest = tail(data, NFLOG_HEADER_LEN);
    // TLVs: length and type in host byte order (little-endian in every capture seen), length
    // includes the 4-byte TLV header, padded to 4 bytes.
    while rest.len() >= 4 {
        let len = usize::from(u16::from_le_bytes([rest[0], rest[1]]));
        let ty = u16::from_le_bytes([rest[2], rest[3]]) & 0x7fff;
        if len < 4 {
            return Err(LinkError::Invalid(format!("NFLOG TLV with length {len}")));
        }
        if ty == NFLOG_TLV_PAYLOAD {
            let end = len.min(rest.len());
            return Ok(ip(rest.get(4..end).unwrap_or(&[])));
        }
        let padded = (len + 3) & !3;
        rest = tail(rest, padded);
    }
    Ok(NetSlice {
        proto: NetProto::Other(0),
        bytes: &[],
        vlan_tags: 0,
    })
}

fn ip(data: &[u8]) -> NetSlice<'_> {
    ip_as(data, 0)
}

fn ip_as(data: &[u8], vlans: u8) -> NetSlice<'_> {
    NetSlice {
        proto: NetProto::Ip,
        bytes: data,
        vlan_tags: vlans,
    }
}

fn be16(data: &[u8], at: usize) -> Option<u16> {
    let b = data.get(at..at.checked_add(2)?)?;
    Some(u16::from_be_bytes([b[0], b[1]]))
}

fn tail(data: &[u8], n: usize) -> &[u8] {
    data.get(n..).unwrap_or(&[])
}

fn short(what: &str, need: usize, data: &[u8]) -> LinkError {
    LinkError::Invalid(format!(
        "{what} header needs {need} bytes, {} present",
        data.len()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    const IPV4_START: [u8; 4] = [0x45, 0, 0, 20];

    fn eth(ty: u16, payload: &[u8]) -> Vec<u8> {
        let mut v = vec![0u8; 12];
        v.extend(ty.to_be_bytes());
        v.extend(payload);
        v
    }

    #[test]
    fn ethernet_vlan_qinq() {
        let f = eth(ether_type::IPV4, &IPV4_START);
        let n = strip(LinkType::ETHERNET, &f).unwrap();
        assert_eq!(
            (n.proto, n.bytes, n.vlan_tags),
            (NetProto::Ip, &IPV4_START[..], 0)
        );

        let mut inner = vec![0x00, 0x64];
        inner.extend(ether_type::VLAN.to_be_bytes());
        inner.extend([0x00, 0xc8]);
        inner.extend(ether_type::IPV6.to_be_bytes());
        inner.extend([0x60, 0, 0, 0]);
        let f = eth(ether_type::QINQ, &inner);
        let n = strip(LinkType::ETHERNET, &f).unwrap();
        assert_eq!(
            (n.proto, n.bytes, n.vlan_tags),
            (NetProto::Ip, &[0x60, 0, 0, 0][..], 2)
        );
    }

    #[test]
    fn ethernet_errors_and_other_protocols() {
        assert!(matches!(
            strip(LinkType::ETHERNET, &[0; 13]),
            Err(LinkError::Invalid(_))
        ));
        let arp = eth(ether_type::ARP, &[0; 28]);
        assert_eq!(
            strip(LinkType::ETHERNET, &arp).unwrap().proto,
            NetProto::Other(ether_type::ARP)
        );
        let vlan_cut = eth(ether_type::VLAN, &[0, 1]);
        assert!(matches!(
            strip(LinkType::ETHERNET, &vlan_cut),
            Err(LinkError::Invalid(_))
        ));
        // A flood of VLAN tags is bounded.
        let mut tags = Vec::new();
        for _ in 0..40 {
            tags.extend([0, 1]);
            tags.extend(ether_type::VLAN.to_be_bytes());
        }
        assert!(matches!(
            strip(LinkType::ETHERNET, &eth(ether_type::VLAN, &tags)),
            Err(LinkError::Invalid(_))
        ));
        assert!(matches!(
            strip(LinkType(147), &[1, 2, 3]),
            Err(LinkError::Unsupported(LinkType(147)))
        ));
    }

    #[test]
    fn llc_snap_mpls_pppoe() {
        let mut snap = vec![0xaa, 0xaa, 0x03, 0, 0, 0];
        snap.extend(ether_type::IPV4.to_be_bytes());
        snap.extend(IPV4_START);
        assert_eq!(
            strip(LinkType::ETHERNET, &eth(40, &snap)).unwrap().bytes,
            &IPV4_START
        );

        let mpls_frame = eth(
            ether_type::MPLS,
            &[0, 0x10, 0x00, 64, 0, 0x20, 0x01, 64, 0x45, 0],
        );
        assert_eq!(
            strip(LinkType::ETHERNET, &mpls_frame).unwrap().bytes,
            &[0x45, 0]
        );

        let mut pppoe_body = vec![0x11, 0x00, 0x00, 0x01, 0x00, 0x16];
        pppoe_body.extend(PPP_IPV4.to_be_bytes());
        pppoe_body.extend(IPV4_START);
        let frame = eth(ether_type::PPPOE_SESSION, &pppoe_body);
        let n = strip(LinkType::ETHERNET, &frame).unwrap();
        assert_eq!((n.proto, n.bytes), (NetProto::Ip, &IPV4_START[..]));
    }

    #[test]
    fn cooked_and_loopback() {
        let mut sll = vec![0u8; 14];
        sll.extend(ether_type::IPV4.to_be_bytes());
        sll.extend(IPV4_START);
        assert_eq!(strip(LinkType::LINUX_SLL, &sll).unwrap().bytes, &IPV4_START);

        let mut sll2 = ether_type::IPV6.to_be_bytes().to_vec();
        sll2.extend([0u8; 18]);
        sll2.extend([0x60, 1]);
        assert_eq!(
            strip(LinkType::LINUX_SLL2, &sll2).unwrap().bytes,
            &[0x60, 1]
        );

        let mut null_le = 30u32.to_le_bytes().to_vec();
        null_le.extend([0x60, 2]);
        assert_eq!(strip(LinkType::NULL, &null_le).unwrap().proto, NetProto::Ip);
        let mut null_be = 2u32.to_be_bytes().to_vec();
        null_be.extend(IPV4_START);
        assert_eq!(strip(LinkType::NULL, &null_be).unwrap().bytes, &IPV4_START);
        let mut lo = 2u32.to_be_bytes().to_vec();
        lo.extend(IPV4_START);
        assert_eq!(strip(LinkType::LOOP, &lo).unwrap().bytes, &IPV4_START);
        assert!(matches!(
            strip(LinkType::NULL, &[2, 0]),
            Err(LinkError::Invalid(_))
        ));
    }

    #[test]
    fn ppp_variants() {
        let mut hdlc = vec![0xff, 0x03, 0x00, 0x21];
        hdlc.extend(IPV4_START);
        assert_eq!(strip(LinkType::PPP, &hdlc).unwrap().bytes, &IPV4_START);
        let mut compressed = vec![0x21];
        compressed.extend(IPV4_START);
        assert_eq!(
            strip(LinkType::PPP, &compressed).unwrap().bytes,
            &IPV4_START
        );
        let lcp = [0xc0, 0x21, 1, 2];
        assert_eq!(
            strip(LinkType::PPP, &lcp).unwrap().proto,
            NetProto::Other(0xc021)
        );
        assert!(strip(LinkType::PPP, &[]).is_err());
    }

    #[test]
    fn nflog_payload_tlv() {
        let mut f = vec![2, 0, 0, 0];
        // A 6-byte TLV padded to 8, then the payload TLV.
        f.extend([6, 0, 1, 0, 0xaa, 0xbb, 0, 0]);
        f.extend(((4 + IPV4_START.len()) as u16).to_le_bytes());
        f.extend(NFLOG_TLV_PAYLOAD.to_le_bytes());
        f.extend(IPV4_START);
        assert_eq!(strip(LinkType::NFLOG, &f).unwrap().bytes, &IPV4_START);
        assert!(strip(LinkType::NFLOG, &[2, 0, 0, 0, 0, 0, 9, 0]).is_err());
    }

    #[test]
    fn never_panics_on_short_input() {
        for lt in [0u16, 1, 9, 50, 51, 101, 108, 113, 228, 229, 239, 276] {
            for len in 0..40 {
                let data = vec![0x81u8; len];
                let _ = strip(LinkType(lt), &data);
                let data = vec![0x00u8; len];
                let _ = strip(LinkType(lt), &data);
            }
        }
    }
}
