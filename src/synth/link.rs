//! Wraps IP packets in link-layer headers and names the pcap LINKTYPE of each
//! encapsulation; it never builds IP packets itself and never writes files.

// LINKTYPE values (tcpdump.org "Link-layer header types", also
// draft-ietf-opsawg-pcaplinktype).
/// LINKTYPE_NULL: BSD loopback, 4-byte address family in the writer's host order.
pub const LINKTYPE_NULL: u32 = 0;
/// LINKTYPE_ETHERNET: IEEE 802.3 Ethernet.
pub const LINKTYPE_ETHERNET: u32 = 1;
/// LINKTYPE_PPP: PPP in HDLC-like framing (RFC 1662), address/control optional.
pub const LINKTYPE_PPP: u32 = 9;
/// LINKTYPE_RAW: raw IPv4 or IPv6; some systems write DLT 12 or 14 in memory,
/// but the file value is 101.
pub const LINKTYPE_RAW: u32 = 101;
/// LINKTYPE_LOOP: OpenBSD loopback, 4-byte address family in network order.
pub const LINKTYPE_LOOP: u32 = 108;
/// LINKTYPE_LINUX_SLL: Linux "cooked" capture v1 (16-byte header).
pub const LINKTYPE_LINUX_SLL: u32 = 113;
/// LINKTYPE_USER0: first of the private-use types 147..=162.
pub const LINKTYPE_USER0: u32 = 147;
/// LINKTYPE_IPV4: raw IPv4 only.
pub const LINKTYPE_IPV4: u32 = 228;
/// LINKTYPE_IPV6: raw IPv6 only.
pub const LINKTYPE_IPV6: u32 = 229;
/// LINKTYPE_LINUX_SLL2: Linux "cooked" capture v2 (20-byte header).
pub const LINKTYPE_LINUX_SLL2: u32 = 276;

// EtherTypes (IEEE 802 numbers, IANA "ieee-802-numbers").
/// IPv4 EtherType.
pub const ETHERTYPE_IPV4: u16 = 0x0800;
/// IPv6 EtherType.
pub const ETHERTYPE_IPV6: u16 = 0x86DD;
/// IEEE 802.1Q customer VLAN tag protocol identifier.
pub const ETHERTYPE_VLAN: u16 = 0x8100;
/// IEEE 802.1ad service VLAN tag ("QinQ") protocol identifier.
pub const ETHERTYPE_QINQ: u16 = 0x88A8;
/// MPLS unicast (RFC 3032 §5).
pub const ETHERTYPE_MPLS: u16 = 0x8847;
/// PPPoE session stage (RFC 2516 §4).
pub const ETHERTYPE_PPPOE_SESSION: u16 = 0x8864;

// PPP protocol numbers (RFC 1332 §2, RFC 5072 §2).
/// PPP protocol field for IPv4.
pub const PPP_IPV4: u16 = 0x0021;
/// PPP protocol field for IPv6.
pub const PPP_IPV6: u16 = 0x0057;
/// PPP HDLC all-stations address byte (RFC 1662 §3.1).
const PPP_ADDRESS: u8 = 0xFF;
/// PPP HDLC unnumbered-information control byte (RFC 1662 §3.1).
const PPP_CONTROL: u8 = 0x03;
/// PPPoE version 1 and type 1 in one byte (RFC 2516 §4).
const PPPOE_VER_TYPE: u8 = 0x11;
/// PPPoE code for session data (RFC 2516 §5).
const PPPOE_CODE_SESSION: u8 = 0x00;

/// BSD AF_INET.
pub const AF_INET: u32 = 2;
/// AF_INET6 on NetBSD and OpenBSD.
pub const AF_INET6_BSD: u32 = 24;
/// AF_INET6 on FreeBSD and DragonFly.
pub const AF_INET6_FREEBSD: u32 = 28;
/// AF_INET6 on macOS / Darwin.
pub const AF_INET6_DARWIN: u32 = 30;

/// ARPHRD_ETHER, the Linux hardware type of Ethernet devices (linux/if_arp.h).
pub const ARPHRD_ETHER: u16 = 1;
/// Linux sll packet type: addressed to this host (linux/if_packet.h PACKET_HOST).
pub const PACKET_HOST: u8 = 0;
/// Linux sll packet type: sent by this host (PACKET_OUTGOING).
pub const PACKET_OUTGOING: u8 = 4;

/// Length of an Ethernet II header.
pub const ETHERNET_HEADER_LEN: usize = 14;
/// Length of the Linux SLL header.
pub const SLL_HEADER_LEN: usize = 16;
/// Length of the Linux SLL2 header.
pub const SLL2_HEADER_LEN: usize = 20;

/// A VLAN tag: TPID (0x8100 or 0x88a8), priority, drop-eligible bit, VLAN ID.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VlanTag {
    /// Tag protocol identifier.
    pub tpid: u16,
    /// Priority code point (3 bits).
    pub pcp: u8,
    /// Drop eligible indicator.
    pub dei: bool,
    /// VLAN identifier (12 bits).
    pub vid: u16,
}

impl VlanTag {
    /// An 802.1Q customer tag with this VLAN ID.
    pub fn dot1q(vid: u16) -> Self {
        Self {
            tpid: ETHERTYPE_VLAN,
            pcp: 0,
            dei: false,
            vid,
        }
    }

    /// An 802.1ad service tag with this VLAN ID.
    pub fn dot1ad(vid: u16) -> Self {
        Self {
            tpid: ETHERTYPE_QINQ,
            pcp: 0,
            dei: false,
            vid,
        }
    }
}

/// An MPLS label stack entry (RFC 3032 §2.1); the bottom-of-stack bit is set
/// on the last entry automatically.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MplsLabel {
    /// Label value (20 bits).
    pub label: u32,
    /// Traffic class (3 bits).
    pub tc: u8,
    /// TTL.
    pub ttl: u8,
}

/// The per-frame link addressing: who sends, who receives, and whether the
/// capturing host sent the frame (Linux cooked captures record this).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct LinkMeta {
    /// Source MAC.
    pub src_mac: [u8; 6],
    /// Destination MAC.
    pub dst_mac: [u8; 6],
    /// True when the capturing host sent the frame.
    pub outgoing: bool,
}

/// A link-layer encapsulation and its parameters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LinkLayer {
    /// Ethernet II with a stack of VLAN tags (outermost first).
    Ethernet {
        /// VLAN tags, outermost first; empty for untagged frames.
        vlans: Vec<VlanTag>,
    },
    /// LINKTYPE_RAW (101): the IP packet alone.
    Raw,
    /// LINKTYPE_IPV4 (228): the IPv4 packet alone.
    Ipv4,
    /// LINKTYPE_IPV6 (229): the IPv6 packet alone.
    Ipv6,
    /// Linux cooked v1 (113).
    LinuxSll,
    /// Linux cooked v2 (276) with this interface index.
    LinuxSll2 {
        /// Interface index.
        ifindex: u32,
    },
    /// BSD NULL (0) with the family in the writer's byte order.
    Null {
        /// True when the writing host was big-endian.
        big_endian: bool,
        /// The AF_INET6 value of the writing OS (24, 28 or 30).
        af_inet6: u32,
    },
    /// OpenBSD LOOP (108), family in network byte order.
    Loop {
        /// The AF_INET6 value of the writing OS.
        af_inet6: u32,
    },
    /// PPP (9) with address/control bytes.
    Ppp,
    /// PPPoE session frames over Ethernet.
    PppoeEthernet {
        /// PPPoE session ID.
        session_id: u16,
    },
    /// MPLS over Ethernet with this label stack (top first).
    MplsEthernet {
        /// Labels, top of stack first.
        labels: Vec<MplsLabel>,
    },
    /// Any other LINKTYPE; the payload is written as opaque bytes.
    User {
        /// The LINKTYPE number.
        linktype: u32,
    },
}

impl LinkLayer {
    /// Untagged Ethernet.
    pub fn ethernet() -> Self {
        LinkLayer::Ethernet { vlans: Vec::new() }
    }

    /// The pcap/pcapng LINKTYPE number of this encapsulation.
    pub fn linktype(&self) -> u32 {
        match self {
            LinkLayer::Ethernet { .. }
            | LinkLayer::PppoeEthernet { .. }
            | LinkLayer::MplsEthernet { .. } => LINKTYPE_ETHERNET,
            LinkLayer::Raw => LINKTYPE_RAW,
            LinkLayer::Ipv4 => LINKTYPE_IPV4,
            LinkLayer::Ipv6 => LINKTYPE_IPV6,
            LinkLayer::LinuxSll => LINKTYPE_LINUX_SLL,
            LinkLayer::LinuxSll2 { .. } => LINKTYPE_LINUX_SLL2,
            LinkLayer::Null { .. } => LINKTYPE_NULL,
            LinkLayer::Loop { .. } => LINKTYPE_LOOP,
            LinkLayer::Ppp => LINKTYPE_PPP,
            LinkLayer::User { linktype } => *linktype,
        }
    }

    /// Wraps `packet` (an IP packet, or opaque bytes for [`LinkLayer::User`])
    /// in this link layer. The IP version is read from the first nibble;
    /// anything that is not 6 is treated as IPv4.
    pub fn wrap(&self, meta: &LinkMeta, packet: &[u8]) -> Vec<u8> {
        let v6 = packet.first().is_some_and(|b| b >> 4 == 6);
        let ethertype = if v6 { ETHERTYPE_IPV6 } else { ETHERTYPE_IPV4 };
        let mut f = Vec::with_capacity(packet.len() + 32);
        match self {
            LinkLayer::Ethernet { vlans } => {
                ethernet_header(&mut f, meta, vlans, ethertype);
            }
            LinkLayer::Raw | LinkLayer::Ipv4 | LinkLayer::Ipv6 | LinkLayer::User { .. } => {}
            LinkLayer::LinuxSll => {
                let pkt_type = if meta.outgoing {
                    PACKET_OUTGOING
                } else {
                    PACKET_HOST
                };
                f.extend_from_slice(&u16::from(pkt_type).to_be_bytes());
                f.extend_from_slice(&ARPHRD_ETHER.to_be_bytes());
                f.extend_from_slice(&6u16.to_be_bytes());
                f.extend_from_slice(&meta.src_mac);
                f.extend_from_slice(&[0, 0]);
                f.extend_from_slice(&ethertype.to_be_bytes());
            }
            LinkLayer::LinuxSll2 { ifindex } => {
                let pkt_type = if meta.outgoing {
                    PACKET_OUTGOING
                } else {
                    PACKET_HOST
                };
                f.extend_from_slice(&ethertype.to_be_bytes());
                f.extend_from_slice(&[0, 0]);
                f.extend_from_slice(&ifindex.to_be_bytes());
                f.extend_from_slice(&ARPHRD_ETHER.to_be_bytes());
                f.push(pkt_type);
                f.push(6);
                f.extend_from_slice(&meta.src_mac);
                f.extend_from_slice(&[0, 0]);
            }
            LinkLayer::Null {
                big_endian,
                af_inet6,
            } => {
                let af = if v6 { *af_inet6 } else { AF_INET };
                if *big_endian {
                    f.extend_from_slice(&af.to_be_bytes());
                } else {
                    f.extend_from_slice(&af.to_le_bytes());
                }
            }
            LinkLayer::Loop { af_inet6 } => {
                let af = if v6 { *af_inet6 } else { AF_INET };
                f.extend_from_slice(&af.to_be_bytes());
            }
            LinkLayer::Ppp => {
                f.push(PPP_ADDRESS);
                f.push(PPP_CONTROL);
                f.extend_from_slice(&ppp_protocol(v6).to_be_bytes());
            }
            LinkLayer::PppoeEthernet { session_id } => {
                ethernet_header(&mut f, meta, &[], ETHERTYPE_PPPOE_SESSION);
                f.push(PPPOE_VER_TYPE);
                f.push(PPPOE_CODE_SESSION);
                f.extend_from_slice(&session_id.to_be_bytes());
                // The PPPoE length covers the PPP protocol field and payload.
                let len = (packet.len() + 2).min(usize::from(u16::MAX)) as u16;
                f.extend_from_slice(&len.to_be_bytes());
                f.extend_from_slice(&ppp_protocol(v6).to_be_bytes());
            }
            LinkLayer::MplsEthernet { labels } => {
                ethernet_header(&mut f, meta, &[], ETHERTYPE_MPLS);
                for (i, l) in labels.iter().enumerate() {
                    let bos = u32::from(i + 1 == labels.len());
                    let entry = ((l.label & 0xF_FFFF) << 12)
                        | (u32::from(l.tc & 7) << 9)
                        | (bos << 8)
                        | u32::from(l.ttl);
                    f.extend_from_slice(&entry.to_be_bytes());
                }
            }
        }
        f.extend_from_slice(packet);
        f
    }
}

fn ppp_protocol(v6: bool) -> u16 {
    if v6 {
        PPP_IPV6
    } else {
        PPP_IPV4
    }
}

fn ethernet_header(f: &mut Vec<u8>, meta: &LinkMeta, vlans: &[VlanTag], ethertype: u16) {
    f.extend_from_slice(&meta.dst_mac);
    f.extend_from_slice(&meta.src_mac);
    for v in vlans {
        f.extend_from_slice(&v.tpid.to_be_bytes());
        let tci = (u16::from(v.pcp & 7) << 13) | (u16::from(v.dei) << 12) | (v.vid & 0x0FFF);
        f.extend_from_slice(&tci.to_be_bytes());
    }
    f.extend_from_slice(&ethertype.to_be_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synth::packet::{tcp_packet, IpSpec, TcpSpec, TCP_SYN};
    use etherparse::{SlicedPacket, TransportSlice};

    fn meta() -> LinkMeta {
        LinkMeta {
            src_mac: [2, 0, 0, 0, 0, 1],
            dst_mac: [2, 0, 0, 0, 0, 2],
            outgoing: true,
        }
    }

    fn v4_packet() -> Vec<u8> {
        let ip = IpSpec::new("10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap()).unwrap();
        tcp_packet(&ip, &TcpSpec::new(1234, 80, TCP_SYN), b"")
    }

    fn v6_packet() -> Vec<u8> {
        let ip = IpSpec::new("fe80::1".parse().unwrap(), "fe80::2".parse().unwrap()).unwrap();
        tcp_packet(&ip, &TcpSpec::new(1234, 80, TCP_SYN), b"")
    }

    #[test]
    fn synth_link_qinq_parses_with_etherparse() {
        let l = LinkLayer::Ethernet {
            vlans: vec![VlanTag::dot1ad(100), VlanTag::dot1q(200)],
        };
        let f = l.wrap(&meta(), &v4_packet());
        assert_eq!(&f[12..14], &[0x88, 0xA8]);
        assert_eq!(&f[16..18], &[0x81, 0x00]);
        let s = SlicedPacket::from_ethernet(&f).unwrap();
        assert_eq!(s.vlan_ids().len(), 2);
        assert!(matches!(s.transport, Some(TransportSlice::Tcp(_))));
    }

    #[test]
    fn synth_link_headers_have_documented_sizes() {
        let p4 = v4_packet();
        let p6 = v6_packet();
        let cases: Vec<(LinkLayer, usize, u32)> = vec![
            (LinkLayer::Raw, 0, 101),
            (LinkLayer::Ipv4, 0, 228),
            (LinkLayer::Ipv6, 0, 229),
            (LinkLayer::LinuxSll, 16, 113),
            (LinkLayer::LinuxSll2 { ifindex: 3 }, 20, 276),
            (
                LinkLayer::Null {
                    big_endian: false,
                    af_inet6: AF_INET6_DARWIN,
                },
                4,
                0,
            ),
            (
                LinkLayer::Loop {
                    af_inet6: AF_INET6_BSD,
                },
                4,
                108,
            ),
            (LinkLayer::Ppp, 4, 9),
            (LinkLayer::PppoeEthernet { session_id: 7 }, 22, 1),
            (
                LinkLayer::MplsEthernet {
                    labels: vec![
                        MplsLabel {
                            label: 16,
                            tc: 0,
                            ttl: 64,
                        },
                        MplsLabel {
                            label: 17,
                            tc: 0,
                            ttl: 64,
                        },
                    ],
                },
                22,
                1,
            ),
            (LinkLayer::User { linktype: 147 }, 0, 147),
        ];
        for (l, hl, lt) in cases {
            assert_eq!(l.linktype(), lt, "{l:?}");
            let f = l.wrap(&meta(), &p4);
            assert_eq!(f.len(), p4.len() + hl, "{l:?}");
            assert_eq!(&f[hl..], &p4[..]);
        }
        let null = LinkLayer::Null {
            big_endian: false,
            af_inet6: AF_INET6_DARWIN,
        };
        assert_eq!(&null.wrap(&meta(), &p6)[..4], &[30, 0, 0, 0]);
        assert_eq!(&null.wrap(&meta(), &p4)[..4], &[2, 0, 0, 0]);
        let lp = LinkLayer::Loop { af_inet6: 24 };
        assert_eq!(&lp.wrap(&meta(), &p6)[..4], &[0, 0, 0, 24]);
        let sll = LinkLayer::LinuxSll.wrap(&meta(), &p6);
        assert_eq!(&sll[..2], &[0, 4]);
        assert_eq!(&sll[14..16], &[0x86, 0xDD]);
        let s = SlicedPacket::from_linux_sll(&sll).unwrap();
        assert!(matches!(s.transport, Some(TransportSlice::Tcp(_))));
        let pppoe = LinkLayer::PppoeEthernet { session_id: 7 }.wrap(&meta(), &p6);
        assert_eq!(&pppoe[12..14], &[0x88, 0x64]);
        assert_eq!(
            usize::from(u16::from_be_bytes([pppoe[18], pppoe[19]])),
            p6.len() + 2
        );
        assert_eq!(&pppoe[20..22], &[0x00, 0x57]);
        let mpls = LinkLayer::MplsEthernet {
            labels: vec![
                MplsLabel {
                    label: 16,
                    tc: 0,
                    ttl: 64,
                },
                MplsLabel {
                    label: 17,
                    tc: 0,
                    ttl: 63,
                },
            ],
        }
        .wrap(&meta(), &p4);
        // Top label: no bottom-of-stack bit; second label: bottom of stack.
        assert_eq!(&mpls[14..18], &[0x00, 0x01, 0x00, 64]);
        assert_eq!(&mpls[18..22], &[0x00, 0x01, 0x11, 63]);
    }
}
