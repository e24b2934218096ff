//! The catalogue of committed format and decoding fixtures: for each, its
//! path under `fixtures/`, a one-line description, a deterministic build
//! function and the ground truth tamper must reproduce; it never writes files
//! (the test harness in the main repository does that) and never reads them.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::app::{
    client_hello_session_id, dns_over_tcp, tls_application_data, tls_change_cipher_spec,
    ClientHello, DnsMessage, DnsRecord, HttpRequest, HttpResponse, ServerHello, SvcParam, CLASS_IN,
    DNS_FLAG_RA, DNS_POINTER, RCODE_NOERROR, RCODE_NXDOMAIN, RCODE_SERVFAIL, TYPE_A, TYPE_AAAA,
    TYPE_HTTPS, TYPE_TXT,
};
use super::link::{
    LinkLayer, MplsLabel, VlanTag, AF_INET6_BSD, AF_INET6_DARWIN, LINKTYPE_ETHERNET,
    LINKTYPE_LINUX_SLL, LINKTYPE_RAW, LINKTYPE_USER0,
};
use super::packet::{
    fragment_ipv4, fragment_ipv6, udp_packet, Ipv6Ext, TcpOption, UdpSpec, ROUTING_TYPE_SRH,
    TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN,
};
use super::rng::SplitMix64;
use super::scenario::{
    Host, HostId, IpIdMode, IpOverrides, Scenario, Segment, Side, TcpConn, TcpParams, UdpExchange,
    Vantage, DNS_PORT, LINUX_SYNACK_WINDOW, LINUX_SYN_WINDOW, MS, MSS_IPV4, S, US,
};
use super::writer::{
    gzip_members, truncate, write_pcap, write_pcap_with_layout, write_pcapng, xz, zstd, Endian,
    Frame, InterfaceDesc, PcapFlavor, PcapOptions, PcapngWriter, TsResolution, DSB_TLS_KEY_LOG,
};
use super::SynthError;

/// 2024-05-14T09:30:00Z: every fixture's timeline starts here.
pub const T0: i64 = 1_715_679_000 * S;

/// A diagnostic tamper must report for a fixture.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Diagnostic {
    /// The file ends inside a record or block.
    CaptureTruncated,
    /// A record or block header is structurally impossible.
    CaptureRecordInvalid,
    /// Frames of a link type tamper cannot decode.
    LinkTypeUnsupported,
    /// Frames were cut by the snaplen (caplen < original length).
    PacketSnaplenCut,
    /// IP fragments overlap with different bytes.
    IpFragmentOverlapConflict,
    /// A fragmented datagram never became complete.
    IpFragmentIncomplete,
    /// A DNS message could not be parsed.
    DnsMessageMalformed,
    /// Flows went unanswered and none was answered: the capture may hold one
    /// direction only.
    CaptureOneDirectional,
}

impl Diagnostic {
    /// The diagnostic's name as tamper reports it.
    pub fn name(self) -> &'static str {
        match self {
            Diagnostic::CaptureTruncated => "capture_truncated",
            Diagnostic::CaptureRecordInvalid => "capture_record_invalid",
            Diagnostic::LinkTypeUnsupported => "link_type_unsupported",
            Diagnostic::PacketSnaplenCut => "packet_snaplen_cut",
            Diagnostic::IpFragmentOverlapConflict => "ip_fragment_overlap_conflict",
            Diagnostic::IpFragmentIncomplete => "ip_fragment_incomplete",
            Diagnostic::DnsMessageMalformed => "dns_message_malformed",
            Diagnostic::CaptureOneDirectional => "capture_one_directional",
        }
    }
}

/// Something tamper must observe in a fixture.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Fact {
    /// A TLS ClientHello with this server name.
    TlsSni(&'static str),
    /// A QUIC client Initial whose decrypted ClientHello has this server name.
    QuicSni(&'static str),
    /// An HTTP request with this Host header.
    HttpHost(&'static str),
    /// A DNS query for this name.
    DnsQuery(&'static str),
    /// A diagnostic.
    Diagnostic(Diagnostic),
    /// A finding tamper must report: its kind, the lowest acceptable confidence (`low`,
    /// `medium`, `high`), and frames it must cite (1-based).
    Finding {
        /// Finding kind (`tcp_rst_injected`, ...).
        kind: &'static str,
        /// Lowest acceptable confidence.
        min_confidence: &'static str,
        /// Frames the finding must cite (it may cite more).
        frames: &'static [u64],
    },
    /// No finding of this class may be reported (the benign twin of a positive fixture).
    NoFinding {
        /// Finding class (`rst_injection`, ...).
        class: &'static str,
    },
    /// No finding of this kind may be reported, though other kinds of its class may be
    /// (policing of every flow, but no throttling aimed at one of them).
    NoFindingKind {
        /// Finding kind (`targeted_throttling`, ...).
        kind: &'static str,
    },
}

impl Fact {
    /// A short human-readable form, e.g. `SNI www.example.com`.
    pub fn describe(&self) -> String {
        match self {
            Fact::TlsSni(n) => format!("SNI {n}"),
            Fact::QuicSni(n) => format!("QUIC Initial SNI {n}"),
            Fact::HttpHost(n) => format!("HTTP Host {n}"),
            Fact::DnsQuery(n) => format!("DNS query {n}"),
            Fact::Diagnostic(d) => format!("diagnostic `{}`", d.name()),
            Fact::Finding {
                kind,
                min_confidence,
                frames,
            } => format!(
                "finding `{kind}` ({min_confidence} or higher) citing frames {}",
                frames
                    .iter()
                    .map(|f| f.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Fact::NoFinding { class } => format!("no `{class}` finding"),
            Fact::NoFindingKind { kind } => format!("no `{kind}` finding"),
        }
    }
}

/// What tamper must reproduce for a fixture.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GroundTruth {
    /// Number of frames (records / packet blocks) that can be read.
    pub frames: usize,
    /// Timestamp of the first frame in file order, ns since the epoch.
    pub first_ts_ns: Option<i64>,
    /// Timestamp of the last readable frame in file order.
    pub last_ts_ns: Option<i64>,
    /// TCP flows (5-tuples; a new SYN after a FIN/RST-closed connection on
    /// the same 5-tuple starts a new flow).
    pub tcp_flows: usize,
    /// UDP flows (5-tuples, both directions together).
    pub udp_flows: usize,
    /// Facts tamper must report.
    pub facts: Vec<Fact>,
    /// Only part of the file can be read.
    pub partial: bool,
}

/// One committed fixture.
#[derive(Clone, Debug)]
pub struct Fixture {
    /// Path relative to `fixtures/`.
    pub path: &'static str,
    /// One line for `fixtures/README.md`.
    pub description: &'static str,
    /// Builds the file bytes (deterministic).
    pub build: fn() -> Result<Vec<u8>, SynthError>,
    /// Ground truth.
    pub truth: GroundTruth,
}

// ------------------------------------------------------------ shared hosts

/// MAC of the home router / default gateway the remote hosts appear behind.
const ROUTER_MAC: [u8; 6] = [0x02, 0x5E, 0x10, 0x00, 0x00, 0x01];
/// MAC of the capturing client.
const CLIENT_MAC: [u8; 6] = [0x02, 0x5E, 0x10, 0x00, 0x00, 0x20];

fn v4(a: u8, b: u8, c: u8, d: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(a, b, c, d))
}

fn v6(s: &str) -> IpAddr {
    // Only called with literals from this file.
    IpAddr::V6(s.parse::<Ipv6Addr>().unwrap_or(Ipv6Addr::UNSPECIFIED))
}

struct Lan {
    client: HostId,
    resolver: HostId,
    server: HostId,
}

/// Client, LAN resolver and a web server 12 hops away.
fn lan(sc: &mut Scenario, ipv6: bool) -> Lan {
    let (c, r, s) = if ipv6 {
        (
            v6("2001:db8:1::20"),
            v6("2001:db8:1::1"),
            v6("2001:db8:80::80"),
        )
    } else {
        (v4(192, 168, 1, 20), v4(192, 168, 1, 1), v4(203, 0, 113, 80))
    };
    Lan {
        client: sc.add_host(Host::local(c).with_mac(CLIENT_MAC)),
        resolver: sc.add_host(Host::remote(r, 64).with_mac(ROUTER_MAC)),
        server: sc.add_host(Host::remote(s, 52).with_mac(ROUTER_MAC)),
    }
}

/// Timing of a conversation; the nanosecond variant has sub-µs digits.
#[derive(Clone, Copy)]
struct Timing {
    start: i64,
    dns_rtt: i64,
    tcp_rtt: i64,
    local_delay: i64,
}

const US_TIMING: Timing = Timing {
    start: T0,
    dns_rtt: 11_874 * US,
    tcp_rtt: 23_457 * US,
    local_delay: 41 * US,
};

const NS_TIMING: Timing = Timing {
    start: T0 + 321,
    dns_rtt: 11_874_213,
    tcp_rtt: 23_456_789,
    local_delay: 41_357,
};

/// The web page every fixture server returns.
fn page(title: &str) -> Vec<u8> {
    let body = format!(
        "<!doctype html>\n<html><head><title>{title}</title></head>\n<body><h1>{title}</h1>\n\
         <p>This domain is for use in documentation examples.</p></body></html>\n"
    );
    HttpResponse::new(200, "OK", body.as_bytes())
        .header("Cache-Control", "max-age=604800")
        .encode()
}

/// The name of the basic conversation's web site.
const WWW: &str = "www.example.com";

/// A DNS lookup of `host` (A, or AAAA over IPv6) followed by an HTTP GET,
/// a 200 response and a client-side close: 11 frames, one UDP and one TCP
/// flow. Returns the time of the last frame.
fn conversation(sc: &mut Scenario, ipv6: bool, tm: Timing, host: &str) -> Result<i64, SynthError> {
    sc.set_local_delay(tm.local_delay);
    let n = lan(sc, ipv6);
    let id = sc.rng().next_u16();
    let server_addr = sc.host(n.server).addr;
    let (q, answer) = match server_addr {
        IpAddr::V4(a) => (
            DnsMessage::query(id, host, TYPE_A),
            DnsRecord::a(host, 300, a),
        ),
        IpAddr::V6(a) => (
            DnsMessage::query(id, host, TYPE_AAAA),
            DnsRecord::aaaa(host, 300, a),
        ),
    };
    let q = q.with_edns(1232, false);
    let r = DnsMessage::response_to(&q, RCODE_NOERROR).answer(answer);
    let ex = sc.dns_exchange(
        tm.start,
        n.client,
        n.resolver,
        tm.dns_rtt,
        &q.encode(),
        &r.encode(),
    )?;
    let mut conn = sc.tcp(n.client, n.server, TcpParams::new(80).rtt(tm.tcp_rtt))?;
    let t = conn.handshake(sc, ex.response_ts + 2 * MS)?;
    let t = conn.exchange(
        sc,
        t + tm.local_delay,
        &HttpRequest::get(host, "/").encode(),
        &page(host),
    )?;
    conn.close(sc, Side::Client, t + 3 * MS)
}

/// The basic conversation on one link layer.
fn basic(link: LinkLayer, ipv6: bool, tm: Timing, seed: u64) -> Result<Vec<Frame>, SynthError> {
    let mut sc = Scenario::new(seed);
    sc.set_link(link);
    conversation(&mut sc, ipv6, tm, WWW)?;
    Ok(sc.finish())
}

/// The IPv4 conversation, then the IPv6 one two seconds later.
fn basic_dual(link: LinkLayer, seed: u64) -> Result<Vec<Frame>, SynthError> {
    let mut sc = Scenario::new(seed);
    sc.set_link(link);
    conversation(&mut sc, false, US_TIMING, WWW)?;
    let mut later = US_TIMING;
    later.start += 2 * S;
    conversation(&mut sc, true, later, WWW)?;
    Ok(sc.finish())
}

fn pcap(frames: &[Frame], linktype: u32) -> Vec<u8> {
    write_pcap(&PcapOptions::new(linktype), frames)
}

fn eth_v4() -> Result<Vec<Frame>, SynthError> {
    basic(LinkLayer::ethernet(), false, US_TIMING, 1)
}

// ------------------------------------------------------------ capture/

fn capture_pcap_le_us() -> Result<Vec<u8>, SynthError> {
    Ok(pcap(&eth_v4()?, LINKTYPE_ETHERNET))
}

fn capture_pcap_be_us() -> Result<Vec<u8>, SynthError> {
    let mut o = PcapOptions::new(LINKTYPE_ETHERNET);
    o.endian = Endian::Big;
    Ok(write_pcap(&o, &eth_v4()?))
}

fn ns_frames() -> Result<Vec<Frame>, SynthError> {
    basic(LinkLayer::ethernet(), false, NS_TIMING, 2)
}

fn capture_pcap_le_ns() -> Result<Vec<u8>, SynthError> {
    let mut o = PcapOptions::new(LINKTYPE_ETHERNET);
    o.flavor = PcapFlavor::Nanosecond;
    Ok(write_pcap(&o, &ns_frames()?))
}

fn capture_pcap_be_ns() -> Result<Vec<u8>, SynthError> {
    let mut o = PcapOptions::new(LINKTYPE_ETHERNET);
    o.flavor = PcapFlavor::Nanosecond;
    o.endian = Endian::Big;
    Ok(write_pcap(&o, &ns_frames()?))
}

fn capture_pcap_modified() -> Result<Vec<u8>, SynthError> {
    let mut o = PcapOptions::new(LINKTYPE_ETHERNET);
    o.flavor = PcapFlavor::Modified;
    let frames: Vec<Frame> = eth_v4()?.into_iter().map(|f| f.on_interface(2)).collect();
    Ok(write_pcap(&o, &frames))
}

fn eth_iface() -> InterfaceDesc {
    let mut d = InterfaceDesc::new(LINKTYPE_ETHERNET);
    d.snaplen = 262_144;
    d.name = Some("eth0".to_string());
    d
}

fn capture_pcapng_le() -> Result<Vec<u8>, SynthError> {
    Ok(write_pcapng(Endian::Little, &[eth_iface()], &eth_v4()?))
}

fn capture_pcapng_be() -> Result<Vec<u8>, SynthError> {
    Ok(write_pcapng(Endian::Big, &[eth_iface()], &eth_v4()?))
}

fn capture_pcapng_two_sections() -> Result<Vec<u8>, SynthError> {
    let (head, tail) = split_basic(5)?;
    let mut w = PcapngWriter::new(Endian::Little);
    w.interface(&eth_iface());
    for f in &head {
        w.packet(f);
    }
    w.section(Endian::Big, &[]);
    w.interface(&eth_iface());
    for f in &tail {
        w.packet(f);
    }
    Ok(w.finish())
}

/// Interfaces of the three-interface fixture.
fn three_interfaces() -> [InterfaceDesc; 3] {
    let mut a = eth_iface();
    a.tsresol = Some(TsResolution::Decimal(6));
    let mut b = InterfaceDesc::new(LINKTYPE_RAW);
    b.tsresol = Some(TsResolution::Decimal(9));
    b.name = Some("tun0".to_string());
    let mut c = InterfaceDesc::new(LINKTYPE_LINUX_SLL);
    c.tsresol = Some(TsResolution::Binary(20));
    c.tsoffset_s = T0 / S;
    c.name = Some("any".to_string());
    [a, b, c]
}

/// Moves every timestamp down to one the interface represents exactly.
fn snap_to_interface(frames: &mut [Frame], desc: &InterfaceDesc) {
    let off = i128::from(desc.tsoffset_s) * 1_000_000_000;
    for f in frames {
        let snapped = desc.resolution().snap_ns(i128::from(f.ts_ns) - off) + off;
        f.ts_ns = snapped as i64;
    }
}

fn capture_pcapng_three_interfaces() -> Result<Vec<u8>, SynthError> {
    let ifaces = three_interfaces();
    // Interface 0: Ethernet, IPv4 conversation.
    let mut all = eth_v4()?;
    // Interface 1: raw IP, IPv6 conversation with nanosecond timing.
    let mut sc = Scenario::new(31);
    sc.set_link(LinkLayer::Raw);
    sc.set_interface(1);
    let mut tm = NS_TIMING;
    tm.start += 5 * MS;
    conversation(&mut sc, true, tm, "v6.example.net")?;
    all.extend(sc.finish());
    // Interface 2: Linux cooked, two DNS lookups, 2^-20 s units after an offset.
    let mut sc = Scenario::new(32);
    sc.set_link(LinkLayer::LinuxSll);
    sc.set_interface(2);
    let n = lan(&mut sc, false);
    for (k, at) in [(0u16, 10 * MS), (1, 40 * MS)] {
        let q = DnsMessage::query(0x5110 + k, "sll.example.org", TYPE_A);
        let r = DnsMessage::response_to(&q, RCODE_NOERROR).answer(DnsRecord::a(
            "sll.example.org",
            60,
            Ipv4Addr::new(192, 0, 2, 44),
        ));
        sc.dns_exchange(
            T0 + at,
            n.client,
            n.resolver,
            9 * MS,
            &q.encode(),
            &r.encode(),
        )?;
    }
    let mut sll = sc.finish();
    snap_to_interface(&mut sll, &ifaces[2]);
    all.extend(sll);
    all.sort_by_key(|f| f.ts_ns);
    Ok(write_pcapng(Endian::Little, &ifaces, &all))
}

fn capture_pcapng_simple_packets() -> Result<Vec<u8>, SynthError> {
    let frames = eth_v4()?;
    let mut w = PcapngWriter::new(Endian::Little);
    w.interface(&eth_iface());
    let last = frames.len().saturating_sub(1);
    for (i, f) in frames.iter().enumerate() {
        if i == 0 || i == last {
            w.packet(f);
        } else {
            w.simple_packet(&f.data, f.orig_len);
        }
    }
    Ok(w.finish())
}

fn capture_pcapng_obsolete_packet_block() -> Result<Vec<u8>, SynthError> {
    let frames = eth_v4()?;
    let mut w = PcapngWriter::new(Endian::Little);
    w.interface(&eth_iface());
    for f in &frames {
        w.obsolete_packet(f);
    }
    Ok(w.finish())
}

/// An unassigned block type a reader has to skip.
const UNKNOWN_BLOCK_TYPE: u32 = 0x0000_7E57;
/// The documentation Private Enterprise Number (RFC 5612).
const DOC_PEN: u32 = 32473;

fn capture_pcapng_skippable_blocks() -> Result<Vec<u8>, SynthError> {
    let frames = eth_v4()?;
    let mut w = PcapngWriter::new(Endian::Little);
    w.interface(&eth_iface());
    for (i, f) in frames.iter().enumerate() {
        w.packet(f);
        match i {
            0 => w.name_resolution(&[
                (v4(203, 0, 113, 80), WWW),
                (v4(192, 168, 1, 1), "router.lan"),
            ]),
            2 => w.decryption_secrets(
                DSB_TLS_KEY_LOG,
                b"CLIENT_RANDOM 0011223344556677 8899aabbccddeeff\n",
            ),
            4 => w.custom(true, DOC_PEN, b"copy me"),
            5 => w.custom(false, DOC_PEN, b"do not copy me"),
            7 => w.block(UNKNOWN_BLOCK_TYPE, b"a block type nobody has assigned"),
            _ => {}
        }
    }
    if let Some(f) = frames.last() {
        w.interface_statistics(0, f.ts_ns + MS, frames.len() as u64, 0);
    }
    Ok(w.finish())
}

fn capture_gzip_two_members() -> Result<Vec<u8>, SynthError> {
    let (bytes, layout) = write_pcap_with_layout(&PcapOptions::new(LINKTYPE_ETHERNET), &eth_v4()?);
    let split = layout.get(5).map_or(bytes.len() / 2, |r| r.start);
    gzip_members(&bytes, &[split])
}

fn capture_xz() -> Result<Vec<u8>, SynthError> {
    xz(&capture_pcap_le_us()?)
}

fn capture_zstd_pcap() -> Result<Vec<u8>, SynthError> {
    zstd(&capture_pcap_le_us()?)
}

fn capture_zstd_pcapng() -> Result<Vec<u8>, SynthError> {
    zstd(&capture_pcapng_le()?)
}

fn capture_cut_mid_record() -> Result<Vec<u8>, SynthError> {
    let (bytes, layout) = write_pcap_with_layout(&PcapOptions::new(LINKTYPE_ETHERNET), &eth_v4()?);
    let last = layout.last().cloned().unwrap_or(0..0);
    let data_start = last.start + 16;
    Ok(truncate(&bytes, data_start + (last.end - data_start) / 2))
}

fn capture_cut_in_header() -> Result<Vec<u8>, SynthError> {
    let (bytes, layout) = write_pcap_with_layout(&PcapOptions::new(LINKTYPE_ETHERNET), &eth_v4()?);
    let last = layout.last().cloned().unwrap_or(0..0);
    Ok(truncate(&bytes, last.start + 7))
}

fn capture_pcapng_cut_mid_block() -> Result<Vec<u8>, SynthError> {
    let mut w = PcapngWriter::new(Endian::Little);
    w.interface(&eth_iface());
    for f in &eth_v4()? {
        w.packet(f);
    }
    let start = w.block_starts().last().copied().unwrap_or(0);
    let len = w.len();
    let bytes = w.finish();
    Ok(truncate(&bytes, start + (len - start) / 2))
}

fn capture_snaplen_96() -> Result<Vec<u8>, SynthError> {
    let mut o = PcapOptions::new(LINKTYPE_ETHERNET);
    o.snaplen = 96;
    Ok(write_pcap(&o, &eth_v4()?))
}

fn capture_empty_pcap() -> Result<Vec<u8>, SynthError> {
    Ok(pcap(&[], LINKTYPE_ETHERNET))
}

fn capture_empty_pcapng() -> Result<Vec<u8>, SynthError> {
    Ok(write_pcapng(Endian::Little, &[eth_iface()], &[]))
}

/// A record length no real capture can have (libpcap rejects caplen above
/// its 256 KiB maximum snaplen).
const IMPOSSIBLE_CAPLEN: u32 = 0x7FFF_FFFF;

/// The basic conversation's frames split before frame `at` (0-based).
fn split_basic(at: usize) -> Result<(Vec<Frame>, Vec<Frame>), SynthError> {
    let mut head = eth_v4()?;
    if at > head.len() {
        return Err(SynthError::InvalidRequest(
            "split point past the last frame",
        ));
    }
    let tail = head.split_off(at);
    Ok((head, tail))
}

fn capture_impossible_record_length() -> Result<Vec<u8>, SynthError> {
    let (head, tail) = split_basic(5)?;
    let sixth = tail
        .first()
        .ok_or(SynthError::InvalidRequest("no sixth frame"))?;
    let mut bytes = pcap(&head, LINKTYPE_ETHERNET);
    let ts = sixth.ts_ns;
    bytes.extend_from_slice(&((ts / S) as u32).to_le_bytes());
    bytes.extend_from_slice(&(((ts % S) / 1000) as u32).to_le_bytes());
    bytes.extend_from_slice(&IMPOSSIBLE_CAPLEN.to_le_bytes());
    bytes.extend_from_slice(&IMPOSSIBLE_CAPLEN.to_le_bytes());
    bytes.extend_from_slice(&sixth.data);
    Ok(bytes)
}

// ------------------------------------------------------------ link/

fn link_vlan() -> Result<Vec<u8>, SynthError> {
    let l = LinkLayer::Ethernet {
        vlans: vec![VlanTag::dot1q(100)],
    };
    Ok(pcap(&basic(l, false, US_TIMING, 3)?, LINKTYPE_ETHERNET))
}

fn link_qinq() -> Result<Vec<u8>, SynthError> {
    let l = LinkLayer::Ethernet {
        vlans: vec![VlanTag::dot1ad(300), VlanTag::dot1q(100)],
    };
    Ok(pcap(&basic(l, false, US_TIMING, 4)?, LINKTYPE_ETHERNET))
}

fn link_raw() -> Result<Vec<u8>, SynthError> {
    Ok(pcap(
        &basic_dual(LinkLayer::Raw, 5)?,
        LinkLayer::Raw.linktype(),
    ))
}

fn link_ipv4() -> Result<Vec<u8>, SynthError> {
    Ok(pcap(
        &basic(LinkLayer::Ipv4, false, US_TIMING, 6)?,
        LinkLayer::Ipv4.linktype(),
    ))
}

fn link_ipv6() -> Result<Vec<u8>, SynthError> {
    Ok(pcap(
        &basic(LinkLayer::Ipv6, true, US_TIMING, 7)?,
        LinkLayer::Ipv6.linktype(),
    ))
}

fn link_sll() -> Result<Vec<u8>, SynthError> {
    Ok(pcap(
        &basic(LinkLayer::LinuxSll, false, US_TIMING, 8)?,
        LinkLayer::LinuxSll.linktype(),
    ))
}

fn link_sll2() -> Result<Vec<u8>, SynthError> {
    let l = LinkLayer::LinuxSll2 { ifindex: 2 };
    let lt = l.linktype();
    Ok(pcap(&basic(l, false, US_TIMING, 9)?, lt))
}

fn link_null() -> Result<Vec<u8>, SynthError> {
    let l = LinkLayer::Null {
        big_endian: false,
        af_inet6: AF_INET6_DARWIN,
    };
    let lt = l.linktype();
    Ok(pcap(&basic_dual(l, 10)?, lt))
}

fn link_loop() -> Result<Vec<u8>, SynthError> {
    let l = LinkLayer::Loop {
        af_inet6: AF_INET6_BSD,
    };
    let lt = l.linktype();
    Ok(pcap(&basic_dual(l, 11)?, lt))
}

fn link_ppp() -> Result<Vec<u8>, SynthError> {
    Ok(pcap(
        &basic(LinkLayer::Ppp, false, US_TIMING, 12)?,
        LinkLayer::Ppp.linktype(),
    ))
}

fn link_pppoe() -> Result<Vec<u8>, SynthError> {
    let l = LinkLayer::PppoeEthernet { session_id: 0x1A2B };
    Ok(pcap(&basic(l, false, US_TIMING, 13)?, LINKTYPE_ETHERNET))
}

fn link_mpls() -> Result<Vec<u8>, SynthError> {
    let l = LinkLayer::MplsEthernet {
        labels: vec![
            MplsLabel {
                label: 16_001,
                tc: 0,
                ttl: 255,
            },
            MplsLabel {
                label: 24_005,
                tc: 0,
                ttl: 255,
            },
        ],
    };
    Ok(pcap(&basic(l, false, US_TIMING, 14)?, LINKTYPE_ETHERNET))
}

fn link_unsupported_147() -> Result<Vec<u8>, SynthError> {
    let mut frames = eth_v4()?;
    let mut rng = SplitMix64::new(147);
    for (k, at) in [MS, 50 * MS, 100 * MS].into_iter().enumerate() {
        let mut data = b"\x00\x93vendor-specific record ".to_vec();
        data.push(b'0' + k as u8);
        data.extend_from_slice(&rng.bytes(24));
        frames.push(Frame::new(T0 + at, data).on_interface(1));
    }
    frames.sort_by_key(|f| f.ts_ns);
    let mut user = InterfaceDesc::new(LINKTYPE_USER0);
    user.name = Some("vendor0".to_string());
    Ok(write_pcapng(Endian::Little, &[eth_iface(), user], &frames))
}

// ------------------------------------------------------------ decode/

fn eth_pcap(sc: Scenario) -> Vec<u8> {
    pcap(&sc.finish(), LINKTYPE_ETHERNET)
}

fn decode_ipv6_extension_headers() -> Result<Vec<u8>, SynthError> {
    let mut sc = Scenario::new(101);
    let server_addr = v6("2001:db8:80::80");
    let client = sc.add_host(
        Host::local(v6("2001:db8:1::20"))
            .with_mac(CLIENT_MAC)
            .with_ipv6_extensions(vec![
                Ipv6Ext::HopByHop(Vec::new()),
                Ipv6Ext::Routing {
                    routing_type: ROUTING_TYPE_SRH,
                    segments_left: 0,
                    addresses: vec![match server_addr {
                        IpAddr::V6(a) => a,
                        IpAddr::V4(_) => Ipv6Addr::UNSPECIFIED,
                    }],
                },
                Ipv6Ext::DestinationOptions(Vec::new()),
            ]),
    );
    let server = sc.add_host(Host::remote(server_addr, 52).with_mac(ROUTER_MAC));
    let host = "ext-headers.example.com";
    let mut conn = sc.tcp(client, server, TcpParams::new(80).rtt(31 * MS))?;
    let t = conn.handshake(&mut sc, T0)?;
    let t = conn.exchange(
        &mut sc,
        t + 100 * US,
        &HttpRequest::get(host, "/").encode(),
        &page(host),
    )?;
    conn.close(&mut sc, Side::Client, t + 2 * MS)?;
    Ok(eth_pcap(sc))
}

/// A resolver 7 hops away.
fn remote_resolver(sc: &mut Scenario, ipv6: bool) -> HostId {
    let a = if ipv6 {
        v6("2001:db8:53::53")
    } else {
        v4(198, 51, 100, 53)
    };
    sc.add_host(Host::remote(a, 57).with_mac(ROUTER_MAC))
}

fn local_client(sc: &mut Scenario, ipv6: bool) -> HostId {
    let a = if ipv6 {
        v6("2001:db8:1::20")
    } else {
        v4(192, 168, 1, 20)
    };
    sc.add_host(Host::local(a).with_mac(CLIENT_MAC))
}

/// A TXT response too big for one 576-byte-MTU path: five 250-byte strings.
fn big_txt_response(q: &DnsMessage, name: &str, fill: u8) -> DnsMessage {
    let mut r = DnsMessage::response_to(q, RCODE_NOERROR);
    for k in 0..5u8 {
        let mut s = format!("v=verify{k} ").into_bytes();
        s.resize(250, fill.wrapping_add(k));
        r = r.answer(DnsRecord::txt(name, 300, &[&s]));
    }
    r
}

/// Sends a UDP datagram from `from` to `to` as IPv4 fragments of at most
/// `size` payload bytes, in the order given by `order`, 15 µs apart.
#[allow(clippy::too_many_arguments)]
fn fragmented_udp(
    sc: &mut Scenario,
    t: i64,
    from: HostId,
    to: HostId,
    ports: (u16, u16),
    payload: &[u8],
    size: usize,
    order: &[usize],
) -> Result<(), SynthError> {
    let spec = sc.ip_spec(
        from,
        to,
        &IpOverrides {
            dont_fragment: Some(false),
            ..IpOverrides::default()
        },
    )?;
    let pkt = udp_packet(&spec, &UdpSpec::new(ports.0, ports.1), payload);
    let frags = fragment_ipv4(&pkt, size)?;
    for (k, &i) in order.iter().enumerate() {
        if let Some(f) = frags.get(i) {
            sc.push_ip(t + 15 * US * k as i64, from, to, f);
        }
    }
    Ok(())
}

fn decode_ipv4_fragmented_dns_out_of_order() -> Result<Vec<u8>, SynthError> {
    let mut sc = Scenario::new(102);
    let client = local_client(&mut sc, false);
    let resolver = remote_resolver(&mut sc, false);
    let name = "fragmented.example.net";
    let q = DnsMessage::query(0x2F01, name, TYPE_TXT).with_edns(4096, false);
    let r = big_txt_response(&q, name, b'a');
    let port = sc.rng().ephemeral_port();
    sc.send_udp(T0, client, resolver, port, DNS_PORT, &q.encode())?;
    fragmented_udp(
        &mut sc,
        T0 + 18 * MS,
        resolver,
        client,
        (DNS_PORT, port),
        &r.encode(),
        480,
        &[2, 0, 1],
    )?;
    Ok(eth_pcap(sc))
}

fn decode_ipv6_fragmented_udp() -> Result<Vec<u8>, SynthError> {
    let mut sc = Scenario::new(103);
    let client = local_client(&mut sc, true);
    let resolver = remote_resolver(&mut sc, true);
    let name = "fragmented6.example.net";
    let q = DnsMessage::query(0x2F06, name, TYPE_AAAA).with_edns(4096, false);
    let mut r = DnsMessage::response_to(&q, RCODE_NOERROR);
    for k in 0..60u16 {
        r = r.answer(DnsRecord::aaaa(
            name,
            300,
            Ipv6Addr::new(0x2001, 0xdb8, 0x60, 0, 0, 0, 0, 0x100 + k),
        ));
    }
    let port = sc.rng().ephemeral_port();
    sc.send_udp(T0, client, resolver, port, DNS_PORT, &q.encode())?;
    let spec = sc.ip_spec(resolver, client, &IpOverrides::default())?;
    let pkt = udp_packet(&spec, &UdpSpec::new(DNS_PORT, port), &r.encode());
    for (k, f) in fragment_ipv6(&pkt, 1232, 0x5EED_0001)?.iter().enumerate() {
        sc.push_ip(T0 + 21 * MS + 15 * US * k as i64, resolver, client, f);
    }
    Ok(eth_pcap(sc))
}

fn a_records_response(q: &DnsMessage, name: &str, first_octet: u8) -> DnsMessage {
    let mut r = DnsMessage::response_to(q, RCODE_NOERROR);
    for k in 0..20u8 {
        r = r.answer(DnsRecord::a(
            name,
            60,
            Ipv4Addr::new(first_octet, 0, 2, 10 + k),
        ));
    }
    r
}

fn decode_ipv4_fragments_overlap() -> Result<Vec<u8>, SynthError> {
    let mut sc = Scenario::new(104);
    let client = local_client(&mut sc, false);
    let resolver = remote_resolver(&mut sc, false);
    let name = "overlap.example.net";
    let q = DnsMessage::query(0x0E1A, name, TYPE_A).with_edns(1232, false);
    let port = sc.rng().ephemeral_port();
    sc.send_udp(T0, client, resolver, port, DNS_PORT, &q.encode())?;
    let spec = sc.ip_spec(
        resolver,
        client,
        &IpOverrides {
            dont_fragment: Some(false),
            ..IpOverrides::default()
        },
    )?;
    let udp = UdpSpec::new(DNS_PORT, port);
    let real = udp_packet(&spec, &udp, &a_records_response(&q, name, 192).encode());
    let forged = udp_packet(&spec, &udp, &a_records_response(&q, name, 10).encode());
    let real_f = fragment_ipv4(&real, 128)?;
    let forged_f = fragment_ipv4(&forged, 128)?;
    let mut t = T0 + 18 * MS;
    for (k, f) in real_f.iter().enumerate() {
        sc.push_ip(t, resolver, client, f);
        t += 15 * US;
        if k == 1 {
            // Same offset and length, different bytes.
            if let Some(g) = forged_f.get(1) {
                sc.push_ip(t, resolver, client, g);
                t += 15 * US;
            }
        }
    }
    Ok(eth_pcap(sc))
}

fn decode_ipv4_fragment_missing() -> Result<Vec<u8>, SynthError> {
    let mut sc = Scenario::new(105);
    let client = local_client(&mut sc, false);
    let resolver = remote_resolver(&mut sc, false);
    let name = "incomplete.example.net";
    let q = DnsMessage::query(0x1C0B, name, TYPE_TXT).with_edns(4096, false);
    let r = big_txt_response(&q, name, b'm');
    let port = sc.rng().ephemeral_port();
    sc.send_udp(T0, client, resolver, port, DNS_PORT, &q.encode())?;
    fragmented_udp(
        &mut sc,
        T0 + 18 * MS,
        resolver,
        client,
        (DNS_PORT, port),
        &r.encode(),
        480,
        &[0, 2],
    )?;
    Ok(eth_pcap(sc))
}

/// ServerHello, ChangeCipherSpec and an encrypted flight of `len` bytes.
fn server_flight(hello: &ClientHello, len: usize, seed: u64) -> Vec<u8> {
    let mut v = ServerHello::tls13(client_hello_session_id(hello), seed).record();
    v.extend_from_slice(&tls_change_cipher_spec());
    v.extend_from_slice(&tls_application_data(len, seed ^ 1));
    v
}

/// ChangeCipherSpec, Finished and a request, all as the client sends them.
fn client_finish(request_len: usize, seed: u64) -> Vec<u8> {
    let mut v = tls_change_cipher_spec();
    v.extend_from_slice(&tls_application_data(53, seed));
    v.extend_from_slice(&tls_application_data(request_len, seed ^ 2));
    v
}

fn decode_tls_hello_out_of_order() -> Result<Vec<u8>, SynthError> {
    let mut sc = Scenario::new(106);
    sc.set_vantage(Vantage::Server);
    let client = sc.add_host(Host::remote(v4(198, 51, 100, 23), 47).with_mac(ROUTER_MAC));
    let server = sc.add_host(Host::local(v4(203, 0, 113, 43)).with_mac(CLIENT_MAC));
    let mut conn = sc.tcp(client, server, TcpParams::new(443).rtt(38 * MS))?;
    let t = conn.handshake(&mut sc, T0)?;
    let mut hello = ClientHello::new("out-of-order.example.com").with_post_quantum();
    hello.grease = true;
    hello.seed = 106;
    let rec = hello.record();
    let mp = conn.max_payload().min(rec.len());
    let s0 = conn.next_seq(Side::Client);
    let total = rec.len() as u32;
    let t1 = t + 2 * MS;
    // The second segment arrives first; the server sends a duplicate ACK
    // with a SACK block, then the first segment fills the hole.
    conn.emit(
        &mut sc,
        Side::Client,
        t1,
        &Segment::data(&rec[mp..]).with_seq(s0.wrapping_add(mp as u32)),
    )?;
    conn.emit(
        &mut sc,
        Side::Server,
        t1 + 41 * US,
        &Segment::default().with_ack(s0).with_options(vec![
            TcpOption::Nop,
            TcpOption::Nop,
            TcpOption::Sack(vec![(s0.wrapping_add(mp as u32), s0.wrapping_add(total))]),
        ]),
    )?;
    let t2 = t1 + 90 * US;
    conn.emit(
        &mut sc,
        Side::Client,
        t2,
        &Segment::data(&rec[..mp]).with_seq(s0),
    )?;
    conn.set_next_seq(Side::Client, s0.wrapping_add(total));
    let t = conn.exchange(&mut sc, t2, b"", &server_flight(&hello, 2600, 106))?;
    let t = conn.exchange(
        &mut sc,
        t + 200 * US,
        &client_finish(420, 107),
        &tls_application_data(1800, 108),
    )?;
    conn.close(&mut sc, Side::Client, t + 5 * MS)?;
    Ok(eth_pcap(sc))
}

fn decode_http_head_three_segments() -> Result<Vec<u8>, SynthError> {
    let mut sc = Scenario::new(107);
    let n = lan(&mut sc, false);
    let host = "split-head.example.org";
    let mut conn = sc.tcp(n.client, n.server, TcpParams::new(80).rtt(27 * MS))?;
    let t = conn.handshake(&mut sc, T0)?;
    let req = HttpRequest::get(host, "/articles/42")
        .header("Accept-Language", "en-GB,en;q=0.8")
        .encode();
    let text = String::from_utf8_lossy(&req).to_string();
    let a = text.find("Host").map_or(10, |i| i + 2);
    let b = text.find("User-Agent").map_or(a + 10, |i| i + 5);
    let mut at = t + 150 * US;
    for part in [&req[..a], &req[a..b], &req[b..]] {
        conn.emit(&mut sc, Side::Client, at, &Segment::data(part).advancing())?;
        at += 200 * US;
    }
    let t = conn.exchange(&mut sc, at - 200 * US, b"", &page(host))?;
    conn.close(&mut sc, Side::Client, t + 2 * MS)?;
    Ok(eth_pcap(sc))
}

fn decode_dns_over_tcp_split() -> Result<Vec<u8>, SynthError> {
    let mut sc = Scenario::new(108);
    let client = local_client(&mut sc, false);
    let resolver = remote_resolver(&mut sc, false);
    let (n1, n2) = ("first-over-tcp.example.com", "second-over-tcp.example.com");
    let q1 = DnsMessage::query(0x7C01, n1, TYPE_A);
    let q2 = DnsMessage::query(0x7C02, n2, TYPE_AAAA);
    let r1 = DnsMessage::response_to(&q1, RCODE_NOERROR).answer(DnsRecord::a(
        n1,
        120,
        Ipv4Addr::new(192, 0, 2, 71),
    ));
    let r2 = DnsMessage::response_to(&q2, RCODE_NOERROR).answer(DnsRecord::aaaa(
        n2,
        120,
        Ipv6Addr::new(0x2001, 0xdb8, 0x72, 0, 0, 0, 0, 2),
    ));
    let mut conn = sc.tcp(client, resolver, TcpParams::new(DNS_PORT).rtt(18 * MS))?;
    let t = conn.handshake(&mut sc, T0)?;
    let m1 = dns_over_tcp(&q1.encode());
    let mut stream = m1.clone();
    stream.extend_from_slice(&dns_over_tcp(&q2.encode()));
    // One byte of the first length prefix; the rest of query 1 with the
    // start of query 2; the rest of query 2.
    let cuts = [0, 1, m1.len() + 5, stream.len()];
    let mut at = t + 100 * US;
    for w in cuts.windows(2) {
        conn.emit(
            &mut sc,
            Side::Client,
            at,
            &Segment::data(&stream[w[0]..w[1]]).advancing(),
        )?;
        at += 150 * US;
    }
    let rm1 = dns_over_tcp(&r1.encode());
    let mut answers = rm1.clone();
    answers.extend_from_slice(&dns_over_tcp(&r2.encode()));
    let split = rm1.len() + 7;
    let mut at = at - 150 * US + conn.delay(&sc, Side::Server) + MS;
    let mut sent = Vec::new();
    for part in [&answers[..split], &answers[split..]] {
        conn.emit(&mut sc, Side::Server, at, &Segment::data(part).advancing())?;
        sent.push((at, conn.next_seq(Side::Server)));
        at += 12 * US;
    }
    let t = conn.ack_segments(&mut sc, Side::Server, &sent)?;
    conn.close(&mut sc, Side::Client, t + MS)?;
    Ok(eth_pcap(sc))
}

fn decode_tcp_wraparound() -> Result<Vec<u8>, SynthError> {
    let mut sc = Scenario::new(109);
    let n = lan(&mut sc, false);
    let host = "wrap.example.com";
    let params = TcpParams::new(80)
        .isns(0xFFFF_FF00, 0xFFFF_FFA0)
        .rtt(22 * MS);
    let mut conn = sc.tcp(n.client, n.server, params)?;
    let t = conn.handshake(&mut sc, T0)?;
    let req = HttpRequest::get(host, "/a/path/long/enough/to/cross/the/wrap")
        .header("Accept-Language", "en-US,en;q=0.9")
        .header("Cookie", "session=0123456789abcdef0123456789abcdef")
        .encode();
    let t = conn.exchange(&mut sc, t + 100 * US, &req, &page(host))?;
    conn.close(&mut sc, Side::Client, t + 2 * MS)?;
    Ok(eth_pcap(sc))
}

/// A body of `len` bytes of HTML-looking text.
fn filler_html(len: usize) -> Vec<u8> {
    let line = b"<p>Lorem ipsum dolor sit amet, consectetur adipiscing elit.</p>\n";
    line.iter().copied().cycle().take(len).collect()
}

fn decode_tcp_retransmission_reordering() -> Result<Vec<u8>, SynthError> {
    let mut sc = Scenario::new(110);
    let n = lan(&mut sc, false);
    let host = "retransmit.example.com";
    let mut conn = sc.tcp(n.client, n.server, TcpParams::new(80).rtt(24 * MS))?;
    let t = conn.handshake(&mut sc, T0)?;
    let req = HttpRequest::get(host, "/report.html").encode();
    let s0 = conn.next_seq(Side::Client);
    conn.emit(
        &mut sc,
        Side::Client,
        t + 100 * US,
        &Segment::data(&req).advancing(),
    )?;
    // The request is lost upstream; the client retransmits it after its RTO.
    let rt = t + 100 * US + 224 * MS;
    conn.emit(&mut sc, Side::Client, rt, &Segment::data(&req).with_seq(s0))?;
    let resp = HttpResponse::new(200, "OK", &filler_html(3600)).encode();
    let mp = conn.max_payload();
    let r0 = conn.next_seq(Side::Server);
    let segs: Vec<(u32, &[u8])> = resp
        .chunks(mp)
        .enumerate()
        .map(|(k, c)| (r0.wrapping_add((k * mp) as u32), c))
        .collect();
    let end = r0.wrapping_add(resp.len() as u32);
    let at = rt + 24 * MS + MS;
    // Captured order: 1, 3, 2; then a spurious retransmission of 2.
    let order = [0usize, 2, 1];
    for (k, &i) in order.iter().enumerate() {
        if let Some((seq, data)) = segs.get(i) {
            conn.emit(
                &mut sc,
                Side::Server,
                at + 12 * US * k as i64,
                &Segment::data(data).with_seq(*seq),
            )?;
        }
    }
    conn.set_next_seq(Side::Server, end);
    if let (Some((s1, d1)), Some((s2, d2))) = (segs.get(1), segs.get(2)) {
        let after1 = s1.wrapping_add(d1.len() as u32);
        let after2 = s2.wrapping_add(d2.len() as u32);
        conn.emit(
            &mut sc,
            Side::Client,
            at + 41 * US,
            &Segment::default().with_ack(*s1),
        )?;
        conn.emit(
            &mut sc,
            Side::Client,
            at + 12 * US + 41 * US,
            &Segment::default().with_ack(*s1).with_options(vec![
                TcpOption::Nop,
                TcpOption::Nop,
                TcpOption::Sack(vec![(*s2, after2)]),
            ]),
        )?;
        conn.emit(
            &mut sc,
            Side::Client,
            at + 24 * US + 41 * US,
            &Segment::default().with_ack(end),
        )?;
        let again = at + 24 * MS;
        conn.emit(
            &mut sc,
            Side::Server,
            again,
            &Segment::data(d1).with_seq(*s1),
        )?;
        conn.emit(
            &mut sc,
            Side::Client,
            again + 41 * US,
            &Segment::default().with_ack(end).with_options(vec![
                TcpOption::Nop,
                TcpOption::Nop,
                TcpOption::Sack(vec![(*s1, after1)]),
            ]),
        )?;
        conn.close(&mut sc, Side::Client, again + 5 * MS)?;
    }
    Ok(eth_pcap(sc))
}

fn decode_tcp_retransmission_different_bytes() -> Result<Vec<u8>, SynthError> {
    let mut sc = Scenario::new(111);
    let n = lan(&mut sc, false);
    let host = "conflict.example.com";
    let mut conn = sc.tcp(n.client, n.server, TcpParams::new(80).rtt(26 * MS))?;
    let t = conn.handshake(&mut sc, T0)?;
    let resp = HttpResponse::new(200, "OK", &filler_html(2000)).encode();
    let t = conn.exchange(
        &mut sc,
        t + 100 * US,
        &HttpRequest::get(host, "/").encode(),
        &resp,
    )?;
    // The second response segment "retransmitted" with other bytes.
    let mp = conn.max_payload();
    let end = conn.next_seq(Side::Server);
    let start = end.wrapping_sub((resp.len() - mp) as u32);
    let mut other = resp[mp..].to_vec();
    for b in other.iter_mut() {
        *b = b.to_ascii_uppercase();
    }
    let at = t + 30 * MS;
    conn.emit(
        &mut sc,
        Side::Server,
        at,
        &Segment::data(&other).with_seq(start),
    )?;
    conn.emit(
        &mut sc,
        Side::Client,
        at + 41 * US,
        &Segment::default().with_options(vec![
            TcpOption::Nop,
            TcpOption::Nop,
            TcpOption::Sack(vec![(start, end)]),
        ]),
    )?;
    conn.close(&mut sc, Side::Client, at + 3 * MS)?;
    Ok(eth_pcap(sc))
}

fn decode_udp_dns_first_seen_from_server() -> Result<Vec<u8>, SynthError> {
    let mut sc = Scenario::new(112);
    let n = lan(&mut sc, false);
    let name = "first-seen.example.net";
    let port = sc.rng().ephemeral_port();
    // The A query left before the capture started; only its answer is seen.
    let qa = DnsMessage::query(0x0A0A, name, TYPE_A);
    let ra = DnsMessage::response_to(&qa, RCODE_NOERROR).answer(DnsRecord::a(
        name,
        300,
        Ipv4Addr::new(192, 0, 2, 80),
    ));
    sc.send_udp(T0, n.resolver, n.client, DNS_PORT, port, &ra.encode())?;
    let q6 = DnsMessage::query(0x0A0B, name, TYPE_AAAA);
    let r6 = DnsMessage::response_to(&q6, RCODE_NOERROR).answer(DnsRecord::aaaa(
        name,
        300,
        Ipv6Addr::new(0x2001, 0xdb8, 0x80, 0, 0, 0, 0, 0x80),
    ));
    sc.dns_exchange_from_port(
        T0 + 150 * US,
        n.client,
        n.resolver,
        port,
        9 * MS,
        &q6.encode(),
        &r6.encode(),
    )?;
    Ok(eth_pcap(sc))
}

fn decode_tcp_mid_stream() -> Result<Vec<u8>, SynthError> {
    let mut sc = Scenario::new(113);
    let n = lan(&mut sc, false);
    let host = "midstream.example.com";
    let mut conn = sc.tcp(n.client, n.server, TcpParams::new(80).rtt(25 * MS))?;
    // Established long ago: one request and most of a response went by.
    let c = conn.isn(Side::Client).wrapping_add(1 + 412);
    let s = conn.isn(Side::Server).wrapping_add(1 + 48_000);
    conn.set_next_seq(Side::Client, c);
    conn.set_next_seq(Side::Server, s);
    let tail = filler_html(2500);
    let sent = conn.send_segments(&mut sc, Side::Server, T0, &tail)?;
    let t = conn.ack_segments(&mut sc, Side::Server, &sent)?;
    let t = conn.exchange(
        &mut sc,
        t + 800 * MS,
        &HttpRequest::get(host, "/second").encode(),
        &page(host),
    )?;
    conn.close(&mut sc, Side::Client, t + 4 * MS)?;
    Ok(eth_pcap(sc))
}

fn decode_tcp_port_reuse() -> Result<Vec<u8>, SynthError> {
    let mut sc = Scenario::new(114);
    let n = lan(&mut sc, false);
    let host = "reuse.example.com";
    let mut t = T0;
    for k in 0..2 {
        let params = TcpParams::new(80).client_port(50_123).rtt(21 * MS);
        let mut conn = sc.tcp(n.client, n.server, params)?;
        let h = conn.handshake(&mut sc, t)?;
        let path = if k == 0 { "/" } else { "/again" };
        let e = conn.exchange(
            &mut sc,
            h + 100 * US,
            &HttpRequest::get(host, path).encode(),
            &page(host),
        )?;
        let end = conn.close(&mut sc, Side::Client, e + 2 * MS)?;
        t = end + 2 * S;
    }
    Ok(eth_pcap(sc))
}

fn decode_dns_pointer_loop() -> Result<Vec<u8>, SynthError> {
    let mut sc = Scenario::new(115);
    let n = lan(&mut sc, false);
    let name = "loop.example.com";
    let q = DnsMessage::query(0x100F, name, TYPE_A);
    let mut r = DnsMessage::response_to(&q, RCODE_NOERROR).encode();
    // ANCOUNT = 1 (RFC 1035 §4.1.1, bytes 6..8), then an answer whose owner
    // name is a compression pointer to itself.
    r[6..8].copy_from_slice(&1u16.to_be_bytes());
    let at = r.len() as u16;
    r.extend_from_slice(&((u16::from(DNS_POINTER) << 8) | at).to_be_bytes());
    r.extend_from_slice(&TYPE_A.to_be_bytes());
    r.extend_from_slice(&CLASS_IN.to_be_bytes());
    r.extend_from_slice(&300u32.to_be_bytes());
    r.extend_from_slice(&4u16.to_be_bytes());
    r.extend_from_slice(&[192, 0, 2, 99]);
    sc.dns_exchange(T0, n.client, n.resolver, 9 * MS, &q.encode(), &r)?;
    Ok(eth_pcap(sc))
}

// ------------------------------------------------------------ sample/

/// One TLS 1.3 connection: handshake, ClientHello, server flight, client
/// Finished and request, response(s), client close. Returns the last time.
fn tls_session(
    sc: &mut Scenario,
    conn: &mut TcpConn,
    t: i64,
    hello: &ClientHello,
    exchanges: &[(usize, usize)],
    seed: u64,
) -> Result<i64, SynthError> {
    let t = conn.handshake(sc, t)?;
    let mut t = conn.exchange(
        sc,
        t + 150 * US,
        &hello.record(),
        &server_flight(hello, 2900, seed),
    )?;
    for (k, &(req, resp)) in exchanges.iter().enumerate() {
        let s = seed.wrapping_add(10 * k as u64);
        let out = if k == 0 {
            client_finish(req, s)
        } else {
            tls_application_data(req, s)
        };
        t = conn.exchange(sc, t + 300 * US, &out, &tls_application_data(resp, s + 1))?;
    }
    conn.close(sc, Side::Client, t + 120 * MS)
}

fn sample_browsing() -> Result<Vec<u8>, SynthError> {
    let mut sc = Scenario::new(0xB0B5E);
    let c4 = sc.add_host(Host::local(v4(192, 168, 1, 23)).with_mac(CLIENT_MAC));
    let c6 = sc.add_host(Host::local(v6("2001:db8:1::23")).with_mac(CLIENT_MAC));
    let resolver = sc.add_host(Host::remote(v4(192, 168, 1, 1), 64).with_mac(ROUTER_MAC));
    let www = sc.add_host(Host::remote(v4(198, 51, 100, 10), 55).with_mac(ROUTER_MAC));
    let static6 = sc.add_host(Host::remote(v6("2001:db8:5::10"), 54).with_mac(ROUTER_MAC));
    let plain = sc.add_host(Host::remote(v4(203, 0, 113, 30), 49).with_mac(ROUTER_MAC));
    let dns_rtt = 8_412 * US;

    // www.example.com: A and AAAA from one socket, then HTTPS from another.
    let www_name = "www.example.com";
    let cdn = "www.example.com.cdn.example.net";
    let p1 = sc.rng().ephemeral_port();
    let qa = DnsMessage::query(0x3A01, www_name, TYPE_A).with_edns(1232, false);
    let ra = DnsMessage::response_to(&qa, RCODE_NOERROR)
        .answer(DnsRecord::cname(www_name, 3600, cdn))
        .answer(DnsRecord::a(cdn, 60, Ipv4Addr::new(198, 51, 100, 10)));
    sc.dns_exchange_from_port(T0, c4, resolver, p1, dns_rtt, &qa.encode(), &ra.encode())?;
    let q6 = DnsMessage::query(0x3A02, www_name, TYPE_AAAA).with_edns(1232, false);
    let r6 = DnsMessage::response_to(&q6, RCODE_NOERROR)
        .answer(DnsRecord::cname(www_name, 3600, cdn))
        .authority(DnsRecord::soa(
            "cdn.example.net",
            300,
            "ns1.cdn.example.net",
            "hostmaster.example.net",
            2_024_051_401,
        ));
    sc.dns_exchange_from_port(
        T0 + 120 * US,
        c4,
        resolver,
        p1,
        dns_rtt + 310 * US,
        &q6.encode(),
        &r6.encode(),
    )?;
    let qh = DnsMessage::query(0x3A03, www_name, TYPE_HTTPS).with_edns(1232, false);
    let rh = DnsMessage::response_to(&qh, RCODE_NOERROR).answer(DnsRecord::https(
        www_name,
        300,
        1,
        ".",
        vec![
            SvcParam::Alpn(vec!["h2".to_string(), "http/1.1".to_string()]),
            SvcParam::Ipv4Hint(vec![Ipv4Addr::new(198, 51, 100, 10)]),
        ],
    ));
    sc.dns_exchange(
        T0 + 240 * US,
        c4,
        resolver,
        dns_rtt + 520 * US,
        &qh.encode(),
        &rh.encode(),
    )?;

    // TLS to www.example.com over IPv4.
    let mut hello = ClientHello::new(www_name).with_post_quantum();
    hello.grease = true;
    hello.seed = 1;
    let mut conn = sc.tcp(
        c4,
        www,
        TcpParams::new(443).rtt(18_250 * US).with_timestamps(),
    )?;
    tls_session(
        &mut sc,
        &mut conn,
        T0 + dns_rtt + 900 * US,
        &hello,
        &[(480, 5200), (310, 12_000)],
        100,
    )?;

    // static.example.net over IPv6.
    let st = "static.example.net";
    let p3 = sc.rng().ephemeral_port();
    let t = T0 + 180 * MS;
    let qa = DnsMessage::query(0x3A04, st, TYPE_A).with_edns(1232, false);
    let ra = DnsMessage::response_to(&qa, RCODE_NOERROR).answer(DnsRecord::a(
        st,
        300,
        Ipv4Addr::new(198, 51, 100, 20),
    ));
    sc.dns_exchange_from_port(t, c4, resolver, p3, dns_rtt, &qa.encode(), &ra.encode())?;
    let q6 = DnsMessage::query(0x3A05, st, TYPE_AAAA).with_edns(1232, false);
    let r6 = DnsMessage::response_to(&q6, RCODE_NOERROR).answer(DnsRecord::aaaa(
        st,
        300,
        Ipv6Addr::new(0x2001, 0xdb8, 5, 0, 0, 0, 0, 0x10),
    ));
    sc.dns_exchange_from_port(
        t + 110 * US,
        c4,
        resolver,
        p3,
        dns_rtt + 95 * US,
        &q6.encode(),
        &r6.encode(),
    )?;
    let mut hello6 = ClientHello::new(st);
    hello6.alpn = vec!["h2".to_string()];
    hello6.seed = 2;
    let mut conn6 = sc.tcp(
        c6,
        static6,
        TcpParams::new(443).rtt(21_700 * US).with_timestamps(),
    )?;
    tls_session(
        &mut sc,
        &mut conn6,
        t + dns_rtt + 700 * US,
        &hello6,
        &[(350, 7400)],
        200,
    )?;

    // A plain HTTP page.
    let pl = "plain.example.org";
    let t = T0 + 420 * MS;
    let qp = DnsMessage::query(0x3A06, pl, TYPE_A).with_edns(1232, false);
    let rp = DnsMessage::response_to(&qp, RCODE_NOERROR).answer(DnsRecord::a(
        pl,
        300,
        Ipv4Addr::new(203, 0, 113, 30),
    ));
    let ex = sc.dns_exchange(t, c4, resolver, dns_rtt, &qp.encode(), &rp.encode())?;
    let mut conn = sc.tcp(c4, plain, TcpParams::new(80).rtt(33_100 * US).think(4 * MS))?;
    let h = conn.handshake(&mut sc, ex.response_ts + 500 * US)?;
    let req = HttpRequest::get(pl, "/")
        .header("Accept-Language", "en-GB,en;q=0.9")
        .encode();
    let e = conn.exchange(&mut sc, h + 100 * US, &req, &page("Plain example"))?;
    conn.close(&mut sc, Side::Client, e + 2 * S)?;

    let mut w = PcapngWriter::new(Endian::Little);
    let mut d = eth_iface();
    d.name = Some("wlan0".to_string());
    w.interface(&d);
    for f in sc.finish() {
        w.packet(&f);
    }
    Ok(w.finish())
}

// ------------------------------------------------------------ rst/

/// Round-trip time between the client and the servers of the rst/ fixtures
/// (a path that crosses a national border).
const RST_RTT: i64 = 180 * MS;
/// The servers' think time before a response.
const RST_THINK: i64 = MS;
/// The Linux RTO after one 180 ms RTT sample: srtt + 4 * (rtt / 2) = 540 ms
/// (RFC 6298 §2.2), doubled for each further retransmission.
const RST_RTO: i64 = 3 * RST_RTT;
/// A name the censor blocks.
const BLOCKED: &str = "blocked.example";
/// Another blocked name, for TLS.
const WWW_BLOCKED: &str = "www.blocked.example";
/// A name nobody blocks, for the benign twins.
const ALLOWED: &str = "allowed.example";
/// TTL of the GFW's forged packets (the server's arrive with 52).
const GFW_TTL: u8 = 96;
/// The IP ID every packet of a GFW burst carries.
const GFW_IP_ID: u16 = 0x3C2F;

/// The IP ID counter of the remote servers, far from every IP ID the
/// forged packets carry.
const RST_SERVER_IP_IDS: IpIdMode = IpIdMode::Counter {
    start: 0x5E21,
    step: 1,
};
/// The IP ID counter of the remote clients seen from the server.
const RST_CLIENT_IP_IDS: IpIdMode = IpIdMode::Counter {
    start: 0x2B67,
    step: 1,
};

/// The two ends of the connections of an rst/ fixture.
struct Ends {
    client: HostId,
    server: HostId,
}

/// A capture at a Linux client (TTL 64, counting IP IDs, DF) of a server
/// whose packets arrive with `server_ttl` (hop limit over IPv6).
fn rst_at_client(sc: &mut Scenario, ipv6: bool, server_ttl: u8) -> Ends {
    sc.set_local_delay(41 * US);
    let (c, s) = if ipv6 {
        (v6("2001:db8:1::20"), v6("2001:db8:bad::80"))
    } else {
        (v4(192, 168, 1, 20), v4(198, 51, 100, 80))
    };
    Ends {
        client: sc.add_host(Host::local(c).with_mac(CLIENT_MAC)),
        server: sc.add_host(
            Host::remote(s, server_ttl)
                .with_mac(ROUTER_MAC)
                .with_ip_id(RST_SERVER_IP_IDS),
        ),
    }
}

/// A capture at a Linux server (TTL 64, IP ID 0 on its SYN-ACKs and RSTs,
/// counting on data) of a client whose packets arrive with `client_ttl`.
fn rst_at_server(sc: &mut Scenario, client_ttl: u8) -> Ends {
    sc.set_vantage(Vantage::Server);
    sc.set_local_delay(41 * US);
    Ends {
        client: sc.add_host(
            Host::remote(v4(198, 51, 100, 23), client_ttl)
                .with_mac(ROUTER_MAC)
                .with_ip_id(RST_CLIENT_IP_IDS),
        ),
        server: sc.add_host(Host::local(v4(203, 0, 113, 43)).with_mac(CLIENT_MAC)),
    }
}

/// Parameters of the connections of the rst/ fixtures.
fn rst_params(port: u16, sc: &Scenario) -> TcpParams {
    let p = TcpParams::new(port).rtt(RST_RTT).think(RST_THINK);
    match sc.vantage() {
        Vantage::Server => p.synack_ip_id(0),
        Vantage::Client => p,
    }
}

/// A segment forged "as if from" one side: these flags and header fields,
/// the side's current sequence numbers unless set afterwards.
fn forged(flags: u16, ttl: u8, ip_id: u16, df: bool, window: u16) -> Segment {
    Segment::flags(flags)
        .with_ttl(ttl)
        .with_ip_id(ip_id)
        .with_dont_fragment(df)
        .with_window(window)
}

/// What a Linux host sends from its control socket when it refuses a
/// segment, for a connection it no longer has (RFC 9293 §3.10.7.1) or data
/// after its receiving side was shut: RST without ACK whose sequence number
/// is the segment's acknowledgment number, IP ID 0, DF.
fn refusing_reset(
    conn: &mut TcpConn,
    sc: &mut Scenario,
    side: Side,
    t: i64,
    seg_ack: u32,
) -> Result<(), SynthError> {
    conn.emit(
        sc,
        side,
        t,
        &Segment::flags(TCP_RST)
            .with_seq(seg_ack)
            .with_ack(0)
            .with_window(0)
            .with_ip_id(0),
    )
}

/// The real server's `response` arriving at `t` at a client whose socket a
/// forged RST already closed: the client's stack answers every segment
/// with a RST. Returns the time of the last of those RSTs.
fn response_to_a_reset_client(
    conn: &mut TcpConn,
    sc: &mut Scenario,
    t: i64,
    response: &[u8],
) -> Result<i64, SynthError> {
    let client_next = conn.next_seq(Side::Client);
    let sent = conn.send_segments(sc, Side::Server, t, response)?;
    let d = conn.delay(sc, Side::Client);
    let mut last = t;
    for (at, _) in sent {
        refusing_reset(conn, sc, Side::Client, at + d, client_next)?;
        last = at + d;
    }
    Ok(last)
}

/// The handshake at T0 and a GET for `host` from the client 150 µs after
/// it. Returns the capture time of the request.
fn rst_get(conn: &mut TcpConn, sc: &mut Scenario, host: &str) -> Result<i64, SynthError> {
    let t = conn.handshake(sc, T0)? + 150 * US;
    conn.send_segments(sc, Side::Client, t, &HttpRequest::get(host, "/").encode())?;
    Ok(t)
}

/// The request segment at `seq` sent again after the RTO at `t`, and once
/// more after twice the RTO (RFC 6298 §5.5).
fn retransmit_twice(
    conn: &mut TcpConn,
    sc: &mut Scenario,
    t: i64,
    seq: u32,
    data: &[u8],
) -> Result<(), SynthError> {
    let seg = Segment::data(data).with_seq(seq);
    conn.emit(sc, Side::Client, t + RST_RTO, &seg)?;
    conn.emit(sc, Side::Client, t + 3 * RST_RTO, &seg)
}

/// A 200 response of about `len` body bytes.
fn html_response(len: usize) -> Vec<u8> {
    HttpResponse::new(200, "OK", &filler_html(len)).encode()
}

/// The GFW's burst: three RST+ACKs with TTL 96, DF, one IP ID and window 0
/// at the server's next sequence number, 25 µs apart from `t`.
fn gfw_rst_burst(conn: &mut TcpConn, sc: &mut Scenario, t: i64) -> Result<(), SynthError> {
    for k in 0..3 {
        conn.emit(
            sc,
            Side::Server,
            t + k * 25 * US,
            &forged(TCP_RST | TCP_ACK, GFW_TTL, GFW_IP_ID, true, 0),
        )?;
    }
    Ok(())
}

/// The GFW flow: GET for blocked.example, a RST burst 3 ms later, and the
/// real response one RTT after the request, answered with the client's RSTs.
fn gfw_http_flow(sc: &mut Scenario, e: &Ends) -> Result<i64, SynthError> {
    let mut conn = sc.tcp(e.client, e.server, rst_params(80, sc))?;
    let req = rst_get(&mut conn, sc, BLOCKED)?;
    gfw_rst_burst(&mut conn, sc, req + 3 * MS)?;
    response_to_a_reset_client(
        &mut conn,
        sc,
        req + RST_RTT + RST_THINK,
        &html_response(1800),
    )
}

fn rst_gfw_burst_http_at_client() -> Result<Vec<u8>, SynthError> {
    let mut sc = Scenario::new(201);
    let e = rst_at_client(&mut sc, false, 52);
    gfw_http_flow(&mut sc, &e)?;
    Ok(eth_pcap(sc))
}

fn rst_forged_race_after_sni_at_server() -> Result<Vec<u8>, SynthError> {
    let mut sc = Scenario::new(202);
    let e = rst_at_server(&mut sc, 50);
    let mut conn = sc.tcp(e.client, e.server, rst_params(443, &sc))?;
    let t = conn.handshake(&mut sc, T0)?;
    let mut hello = ClientHello::new(WWW_BLOCKED);
    hello.seed = 202;
    let ch = t + 160 * US;
    conn.send_segments(&mut sc, Side::Client, ch, &hello.record())?;
    // The forged RST "from the client": TTL 101 where the client's packets
    // arrive with 50, DF clear where the client sets it, an IP ID far from
    // the client's counter; exact sequence numbers.
    conn.emit(
        &mut sc,
        Side::Client,
        ch + 2 * MS,
        &forged(TCP_RST | TCP_ACK, 101, 0x8D1E, false, 0),
    )?;
    // The server answered the hello before the RST reached it; the client
    // never saw a RST and ACKs the server's flight one RTT later.
    let flight = server_flight(&hello, 1800, 202);
    let at = ch + conn.delay(&sc, Side::Server) + RST_THINK;
    let sent = conn.send_segments(&mut sc, Side::Server, at, &flight)?;
    let acked = conn.ack_segments(&mut sc, Side::Server, &sent)?;
    let server_next = conn.next_seq(Side::Server);
    let d = conn.delay(&sc, Side::Server);
    refusing_reset(&mut conn, &mut sc, Side::Server, acked + d, server_next)?;
    let sent = conn.send_segments(
        &mut sc,
        Side::Client,
        acked + 300 * US,
        &client_finish(380, 203),
    )?;
    for (at, _) in sent {
        refusing_reset(&mut conn, &mut sc, Side::Server, at + d, server_next)?;
    }
    Ok(write_pcapng(Endian::Little, &[eth_iface()], &sc.finish()))
}

fn rst_seq_change_ipv6_at_client() -> Result<Vec<u8>, SynthError> {
    let mut sc = Scenario::new(203);
    let e = rst_at_client(&mut sc, true, 55);
    let mut conn = sc.tcp(e.client, e.server, rst_params(80, &sc))?;
    let s0 = conn.isn(Side::Client).wrapping_add(1);
    let req = rst_get(&mut conn, &mut sc, BLOCKED)?;
    let x = conn.next_seq(Side::Server);
    // Two RSTs in the client's window but ahead of anything the server
    // sent: Linux answers the first with a challenge ACK (RFC 5961 §3.2)
    // and rate-limits the second; the request is retransmitted.
    let first = req + 4 * MS;
    for (at, ahead) in [(first, 3000u32), (first + 10 * MS, 9000)] {
        conn.emit(
            &mut sc,
            Side::Server,
            at,
            &Segment::flags(TCP_RST | TCP_ACK)
                .with_seq(x.wrapping_add(ahead))
                .with_window(0),
        )?;
    }
    let d = conn.delay(&sc, Side::Client);
    conn.ack(&mut sc, Side::Client, first + d)?;
    retransmit_twice(
        &mut conn,
        &mut sc,
        req,
        s0,
        &HttpRequest::get(BLOCKED, "/").encode(),
    )?;
    Ok(write_pcapng(Endian::Little, &[eth_iface()], &sc.finish()))
}

fn rst_gfw_seq_offsets() -> Result<Vec<u8>, SynthError> {
    let mut sc = Scenario::new(204);
    let e = rst_at_client(&mut sc, false, 52);
    let mut conn = sc.tcp(e.client, e.server, rst_params(80, &sc))?;
    let req = rst_get(&mut conn, &mut sc, BLOCKED)?;
    let x = conn.next_seq(Side::Server);
    // Type 1: RST alone, TTL 80, IP ID 0, DF clear, an odd window.
    conn.emit(
        &mut sc,
        Side::Server,
        req + 2_910 * US,
        &forged(TCP_RST, 80, 0, false, 3817).with_ack(0),
    )?;
    // Type 2: three RST+ACKs at X, X+1460, X+4380 with TTLs 101..103.
    for (k, (ahead, ttl, id)) in [
        (0u32, 101u8, 0x9A3Eu16),
        (1460, 102, 0x1C57),
        (4380, 103, 0xE2B0),
    ]
    .into_iter()
    .enumerate()
    {
        conn.emit(
            &mut sc,
            Side::Server,
            req + 3_070 * US + 20 * US * k as i64,
            &forged(TCP_RST | TCP_ACK, ttl, id, true, 0).with_seq(x.wrapping_add(ahead)),
        )?;
    }
    Ok(eth_pcap(sc))
}

fn rst_henan_with_payload() -> Result<Vec<u8>, SynthError> {
    let mut sc = Scenario::new(205);
    let e = rst_at_client(&mut sc, false, 47);
    let mut conn = sc.tcp(e.client, e.server, rst_params(443, &sc))?;
    let t = conn.handshake(&mut sc, T0)?;
    let mut hello = ClientHello::new(BLOCKED);
    hello.seed = 205;
    let ch = t + 150 * US;
    conn.send_segments(&mut sc, Side::Client, ch, &hello.record())?;
    conn.emit(
        &mut sc,
        Side::Server,
        ch + 3 * MS,
        &Segment::data(&[1, 2, 3, 4, 5, 6, 7, 8, 9, 0])
            .with_flags(TCP_RST | TCP_ACK)
            .with_ttl(58)
            .with_ip_id(1)
            .with_dont_fragment(false)
            .with_window(0),
    )?;
    Ok(eth_pcap(sc))
}

fn rst_turkmenistan_ipid() -> Result<Vec<u8>, SynthError> {
    let mut sc = Scenario::new(206);
    let e = rst_at_client(&mut sc, false, 50);
    let mut conn = sc.tcp(e.client, e.server, rst_params(80, &sc))?;
    let s0 = conn.isn(Side::Client).wrapping_add(1);
    let req = rst_get(&mut conn, &mut sc, BLOCKED)?;
    conn.emit(
        &mut sc,
        Side::Server,
        req + 4 * MS,
        &forged(TCP_RST, 102, 30000, false, 0)
            .with_seq(0)
            .with_ack(0),
    )?;
    // Sequence number 0 is outside the client's window: the RST is ignored,
    // the request was dropped and goes out again.
    retransmit_twice(
        &mut conn,
        &mut sc,
        req,
        s0,
        &HttpRequest::get(BLOCKED, "/").encode(),
    )?;
    Ok(eth_pcap(sc))
}

fn rst_airtel_ipid_at_server() -> Result<Vec<u8>, SynthError> {
    let mut sc = Scenario::new(207);
    let e = rst_at_server(&mut sc, 44);
    let mut conn = sc.tcp(e.client, e.server, rst_params(80, &sc))?;
    let s0 = conn.isn(Side::Client).wrapping_add(1);
    let req = rst_get(&mut conn, &mut sc, BLOCKED)?;
    // The RST "from the client" carries the request's first sequence
    // number: behind the server's window, so the server ignores it.
    conn.emit(
        &mut sc,
        Side::Client,
        req + 300 * US,
        &forged(TCP_RST | TCP_ACK, 49, 242, false, 16).with_seq(s0),
    )?;
    let at = req + conn.delay(&sc, Side::Server) + RST_THINK;
    let sent = conn.send_segments(&mut sc, Side::Server, at, &html_response(3300))?;
    let acked = conn.ack_segments(&mut sc, Side::Server, &sent)?;
    conn.close(&mut sc, Side::Client, acked + 2 * MS)?;
    Ok(eth_pcap(sc))
}

fn rst_foreign_ttl_and_ipid() -> Result<Vec<u8>, SynthError> {
    let mut sc = Scenario::new(208);
    let e = rst_at_client(&mut sc, false, 52);
    let mut conn = sc.tcp(e.client, e.server, rst_params(80, &sc))?;
    let req = rst_get(&mut conn, &mut sc, BLOCKED)?;
    conn.emit(
        &mut sc,
        Side::Server,
        req + 4 * MS,
        &forged(TCP_RST | TCP_ACK, 120, 0x0B7D, true, 0),
    )?;
    Ok(eth_pcap(sc))
}

fn rst_forged_fin() -> Result<Vec<u8>, SynthError> {
    let mut sc = Scenario::new(209);
    let e = rst_at_client(&mut sc, false, 52);
    let mut conn = sc.tcp(e.client, e.server, rst_params(80, &sc))?;
    let req = rst_get(&mut conn, &mut sc, BLOCKED)?;
    let x = conn.next_seq(Side::Server);
    let fin_at = req + 3 * MS;
    conn.emit(
        &mut sc,
        Side::Server,
        fin_at,
        &Segment::flags(TCP_FIN | TCP_ACK)
            .with_ttl(110)
            .with_ip_id(0xB38E),
    )?;
    // The client's stack ACKs the FIN; the real response then overlaps
    // the sequence number the FIN took, and Linux, whose receiving side the
    // FIN shut, answers data after a FIN with a RST.
    let d = conn.delay(&sc, Side::Client);
    conn.emit(
        &mut sc,
        Side::Client,
        fin_at + d,
        &Segment::default().with_ack(x.wrapping_add(1)),
    )?;
    let client_next = conn.next_seq(Side::Client);
    let sent = conn.send_segments(
        &mut sc,
        Side::Server,
        req + RST_RTT + RST_THINK,
        &page(BLOCKED),
    )?;
    for (at, _) in sent {
        refusing_reset(&mut conn, &mut sc, Side::Client, at + d, client_next)?;
    }
    Ok(eth_pcap(sc))
}

/// An injected 403 page exactly `len` bytes long, if one fits.
fn forbidden_page(len: usize) -> Option<Vec<u8>> {
    let body =
        "<html><head><title>403 Forbidden</title></head><body><h1>Forbidden</h1></body></html>\n";
    (0..len).find_map(|pad| {
        let mut b = body.as_bytes().to_vec();
        b.resize(b.len() + pad, b' ');
        let r = HttpResponse::new(403, "Forbidden", &b)
            .header("Connection", "close")
            .encode();
        (r.len() == len).then_some(r)
    })
}

fn rst_injected_segment_races_response() -> Result<Vec<u8>, SynthError> {
    let mut sc = Scenario::new(210);
    let e = rst_at_client(&mut sc, false, 52);
    let mut conn = sc.tcp(e.client, e.server, rst_params(80, &sc))?;
    let req = rst_get(&mut conn, &mut sc, BLOCKED)?;
    let (x, a) = (conn.next_seq(Side::Server), conn.next_seq(Side::Client));
    let real = page(BLOCKED);
    let fake = forbidden_page(real.len()).ok_or(SynthError::InvalidRequest(
        "the real page is shorter than a 403 page",
    ))?;
    let inj = req + 3 * MS;
    conn.emit(
        &mut sc,
        Side::Server,
        inj,
        &Segment::data(&fake)
            .with_ttl(99)
            .with_ip_id(0xC1A5)
            .advancing(),
    )?;
    let d = conn.delay(&sc, Side::Client);
    conn.ack(&mut sc, Side::Client, inj + d)?;
    // The 403 says "Connection: close": the client closes.
    let fin_at = inj + 1_200 * US;
    conn.fin(&mut sc, Side::Client, fin_at)?;
    // The real response covers the same bytes; the client sees a duplicate
    // and answers with a D-SACK (RFC 2883).
    let real_at = req + RST_RTT + RST_THINK;
    conn.emit(
        &mut sc,
        Side::Server,
        real_at,
        &Segment::data(&real).with_seq(x).with_ack(a),
    )?;
    let end = x.wrapping_add(real.len() as u32);
    conn.emit(
        &mut sc,
        Side::Client,
        real_at + d,
        &Segment::default().with_options(vec![
            TcpOption::Nop,
            TcpOption::Nop,
            TcpOption::Sack(vec![(x, end)]),
        ]),
    )?;
    let srv_fin = fin_at + RST_RTT;
    conn.fin(&mut sc, Side::Server, srv_fin)?;
    conn.ack(&mut sc, Side::Client, srv_fin + d)?;
    Ok(eth_pcap(sc))
}

fn rst_forged_synack_residual() -> Result<Vec<u8>, SynthError> {
    let mut sc = Scenario::new(211);
    let e = rst_at_client(&mut sc, false, 52);
    gfw_http_flow(&mut sc, &e)?;
    // 30 s later, a new connection to the same server and port.
    let params = rst_params(80, &sc).client_port(51_822);
    let mut conn = sc.tcp(e.client, e.server, params)?;
    let syn = T0 + 30 * S;
    conn.unanswered_syns(&mut sc, syn, 1)?;
    let c1 = conn.next_seq(Side::Client);
    let fake_isn = 0x5F0E_11A3;
    conn.emit(
        &mut sc,
        Side::Server,
        syn + 2 * MS,
        &forged(TCP_SYN | TCP_ACK, GFW_TTL, 0x47D2, true, LINUX_SYN_WINDOW)
            .with_seq(fake_isn)
            .with_options(vec![TcpOption::Mss(MSS_IPV4)]),
    )?;
    conn.set_next_seq(Side::Server, fake_isn.wrapping_add(1));
    let d = conn.delay(&sc, Side::Client);
    let ack_at = syn + 2 * MS + d;
    conn.ack(&mut sc, Side::Client, ack_at)?;
    conn.emit(
        &mut sc,
        Side::Server,
        ack_at + 2 * MS,
        &forged(TCP_RST | TCP_ACK, GFW_TTL + 1, 0x47D3, true, 0),
    )?;
    // The real SYN-ACK arrives after the RTT; the client's socket is gone.
    let real_at = syn + RST_RTT;
    conn.emit(
        &mut sc,
        Side::Server,
        real_at,
        &Segment::flags(TCP_SYN | TCP_ACK)
            .with_seq(conn.isn(Side::Server))
            .with_ack(c1)
            .with_window(LINUX_SYNACK_WINDOW)
            .with_options(TcpOption::linux_syn(MSS_IPV4, 7, None)),
    )?;
    refusing_reset(&mut conn, &mut sc, Side::Client, real_at + d, c1)?;
    Ok(eth_pcap(sc))
}

fn rst_lone_ttl_difference() -> Result<Vec<u8>, SynthError> {
    let mut sc = Scenario::new(212);
    let e = rst_at_client(&mut sc, false, 52);
    let mut conn = sc.tcp(e.client, e.server, rst_params(80, &sc))?;
    let req = rst_get(&mut conn, &mut sc, BLOCKED)?;
    // The server's delayed ACK of the request, then its RST 30 ms later with
    // the next IP ID and DF, but a TTL 7 lower.
    conn.ack(&mut sc, Side::Server, req + RST_RTT + 40 * MS)?;
    conn.emit(
        &mut sc,
        Side::Server,
        req + 250 * MS,
        &Segment::flags(TCP_RST | TCP_ACK)
            .with_ttl(45)
            .with_window(0),
    )?;
    Ok(eth_pcap(sc))
}

fn rst_benign_after_server_fin() -> Result<Vec<u8>, SynthError> {
    let mut sc = Scenario::new(213);
    let e = rst_at_client(&mut sc, false, 52);
    let mut conn = sc.tcp(e.client, e.server, rst_params(80, &sc))?;
    let req = rst_get(&mut conn, &mut sc, ALLOWED)?;
    let resp = HttpResponse::new(200, "OK", &filler_html(600))
        .header("Connection", "close")
        .encode();
    let sent = conn.send_segments(&mut sc, Side::Server, req + RST_RTT + RST_THINK, &resp)?;
    let last = sent.last().map_or(req, |s| s.0);
    conn.fin(&mut sc, Side::Server, last + 12 * US)?;
    let cfin = last + 12 * US + 120 * US;
    conn.fin(&mut sc, Side::Client, cfin)?;
    conn.reset(&mut sc, Side::Server, cfin + RST_RTT)?;
    Ok(eth_pcap(sc))
}

fn rst_benign_connection_refused() -> Result<Vec<u8>, SynthError> {
    let mut sc = Scenario::new(214);
    let e = rst_at_client(&mut sc, true, 55);
    let mut t = T0;
    for _ in 0..2 {
        let mut conn = sc.tcp(e.client, e.server, rst_params(80, &sc))?;
        conn.unanswered_syns(&mut sc, t, 1)?;
        let c1 = conn.next_seq(Side::Client);
        conn.emit(
            &mut sc,
            Side::Server,
            t + RST_RTT,
            &Segment::flags(TCP_RST | TCP_ACK)
                .with_seq(0)
                .with_ack(c1)
                .with_window(0),
        )?;
        t += RST_RTT + S;
    }
    let mut hello = ClientHello::new(ALLOWED);
    hello.seed = 214;
    let mut conn = sc.tcp(e.client, e.server, rst_params(443, &sc))?;
    tls_session(&mut sc, &mut conn, t, &hello, &[(300, 900)], 214)?;
    Ok(write_pcapng(Endian::Little, &[eth_iface()], &sc.finish()))
}

fn rst_benign_idle_timeout() -> Result<Vec<u8>, SynthError> {
    let mut sc = Scenario::new(215);
    let e = rst_at_client(&mut sc, false, 52);
    let mut conn = sc.tcp(e.client, e.server, rst_params(80, &sc))?;
    let t = conn.handshake(&mut sc, T0)?;
    let req = HttpRequest::get(ALLOWED, "/")
        .header("Connection", "keep-alive")
        .encode();
    let t = conn.exchange(&mut sc, t + 150 * US, &req, &page(ALLOWED))?;
    conn.reset(&mut sc, Side::Server, t + 120 * S)?;
    Ok(eth_pcap(sc))
}

fn rst_benign_from_capturing_host() -> Result<Vec<u8>, SynthError> {
    let mut sc = Scenario::new(216);
    let e = rst_at_client(&mut sc, false, 52);
    let mut conn = sc.tcp(e.client, e.server, rst_params(80, &sc))?;
    let req = rst_get(&mut conn, &mut sc, ALLOWED)?;
    let resp = html_response(8000);
    let part = &resp[..2 * conn.max_payload()];
    let sent = conn.send_segments(&mut sc, Side::Server, req + RST_RTT + RST_THINK, part)?;
    let t = conn.ack_segments(&mut sc, Side::Server, &sent)?;
    // The rest never comes; the user gives up and the client aborts.
    conn.reset(&mut sc, Side::Client, t + 4 * S)?;
    Ok(eth_pcap(sc))
}

fn rst_benign_linux_server_ipid_zero() -> Result<Vec<u8>, SynthError> {
    let mut sc = Scenario::new(217);
    let e = rst_at_server(&mut sc, 50);
    let mut conn = sc.tcp(e.client, e.server, rst_params(80, &sc))?;
    let req = rst_get(&mut conn, &mut sc, ALLOWED)?;
    let resp = HttpResponse::new(200, "OK", &filler_html(2400))
        .header("Connection", "close")
        .encode();
    let at = req + conn.delay(&sc, Side::Server) + RST_THINK;
    let sent = conn.send_segments(&mut sc, Side::Server, at, &resp)?;
    let last = sent.last().map_or(at, |s| s.0);
    conn.fin(&mut sc, Side::Server, last + 12 * US)?;
    // The client ACKs the data and the FIN, and its application, which had
    // not read yet, writes a second request on the closed connection.
    let acked = last + 12 * US + conn.delay(&sc, Side::Client);
    conn.ack(&mut sc, Side::Client, acked)?;
    let server_next = conn.next_seq(Side::Server);
    let more = acked + 200 * US;
    conn.emit(
        &mut sc,
        Side::Client,
        more,
        &Segment::data(&HttpRequest::get(ALLOWED, "/favicon.ico").encode()).advancing(),
    )?;
    let d = conn.delay(&sc, Side::Server);
    refusing_reset(&mut conn, &mut sc, Side::Server, more + d, server_next)?;
    // The client application reads the head, finds the end of the stream
    // and closes with the body unread: RST+ACK from its socket.
    conn.reset(&mut sc, Side::Client, more + 3 * MS)?;
    Ok(eth_pcap(sc))
}

fn rst_benign_path_change() -> Result<Vec<u8>, SynthError> {
    let mut sc = Scenario::new(218);
    let e = rst_at_client(&mut sc, false, 52);
    let mut conn = sc.tcp(e.client, e.server, rst_params(80, &sc))?;
    let t = conn.handshake(&mut sc, T0)?;
    let t = conn.exchange(
        &mut sc,
        t + 150 * US,
        &HttpRequest::get(ALLOWED, "/").encode(),
        &page(ALLOWED),
    )?;
    sc.host_mut(e.server).ttl = 51;
    let req2 = t + 500 * MS;
    conn.exchange(
        &mut sc,
        req2,
        &HttpRequest::get(ALLOWED, "/style.css").encode(),
        &html_response(900),
    )?;
    conn.reset(&mut sc, Side::Server, req2 + 2 * S)?;
    Ok(eth_pcap(sc))
}

fn rst_benign_mid_stream() -> Result<Vec<u8>, SynthError> {
    let mut sc = Scenario::new(219);
    let e = rst_at_client(&mut sc, false, 52);
    let mut conn = sc.tcp(e.client, e.server, rst_params(80, &sc))?;
    let c = conn.isn(Side::Client).wrapping_add(1 + 388);
    let s = conn.isn(Side::Server).wrapping_add(1 + 96_000);
    conn.set_next_seq(Side::Client, c);
    conn.set_next_seq(Side::Server, s);
    let sent = conn.send_segments(&mut sc, Side::Server, T0, &filler_html(3000))?;
    let t = conn.ack_segments(&mut sc, Side::Server, &sent)?;
    // 30 s later the client reuses the connection; the server has dropped
    // it meanwhile and answers with a RST.
    let req = t + 30 * S;
    conn.emit(
        &mut sc,
        Side::Client,
        req,
        &Segment::data(&HttpRequest::get(ALLOWED, "/next").encode()).advancing(),
    )?;
    let server_next = conn.next_seq(Side::Server);
    conn.emit(
        &mut sc,
        Side::Server,
        req + RST_RTT,
        &Segment::flags(TCP_RST)
            .with_seq(server_next)
            .with_ack(0)
            .with_window(0),
    )?;
    Ok(eth_pcap(sc))
}

// ------------------------------------------------------------ dns/

/// The capturing client of the dns/ fixtures (IPv4: a home network behind
/// NAT; IPv6: a global address from a tunnel broker's range).
fn dns_client(sc: &mut Scenario, ipv6: bool) -> HostId {
    sc.set_local_delay(41 * US);
    let a = if ipv6 {
        v6("2001:470:1f0b:5a1::20")
    } else {
        v4(192, 168, 1, 20)
    };
    sc.add_host(Host::local(a).with_mac(CLIENT_MAC))
}

/// A resolver as the client sees it: its host and its round-trip time.
#[derive(Clone, Copy)]
struct Resolver {
    host: HostId,
    rtt: i64,
}

/// A public resolver whose packets arrive with `ttl`, random IP IDs and DF
/// clear (resolvers avoid DF on UDP), `rtt` away.
fn public_resolver(sc: &mut Scenario, addr: IpAddr, ttl: u8, rtt: i64) -> Resolver {
    let host = sc.add_host(
        Host::remote(addr, ttl)
            .with_mac(ROUTER_MAC)
            .with_ip_id(IpIdMode::Random)
            .with_dont_fragment(false),
    );
    Resolver { host, rtt }
}

/// Google Public DNS over IPv4: TTL 117 at the client.
fn google_v4(sc: &mut Scenario, rtt: i64) -> Resolver {
    public_resolver(sc, v4(8, 8, 8, 8), 117, rtt)
}

/// Cloudflare's resolver: TTL 57 at the client (initial 64).
fn cloudflare_v4(sc: &mut Scenario, rtt: i64) -> Resolver {
    public_resolver(sc, v4(1, 1, 1, 1), 57, rtt)
}

/// Quad9: TTL 55 at the client (initial 64).
fn quad9_v4(sc: &mut Scenario, rtt: i64) -> Resolver {
    public_resolver(sc, v4(9, 9, 9, 9), 55, rtt)
}

/// Names with their genuine IPv4 and IPv6 addresses, looked up before the
/// interesting query so a detector can learn each resolver's TTL, IP ID,
/// DF, flags, EDNS echo and round-trip time.
const BASELINE: [(&str, [u8; 4], &str); 5] = [
    (
        "www.weather-site.com",
        [104, 18, 22, 51],
        "2606:4700::6812:1633",
    ),
    (
        "api.shop-site.net",
        [13, 224, 5, 31],
        "2600:9000:21f0:b600:1f:31e5:9a40:93a1",
    ),
    (
        "img.photo-site.org",
        [151, 101, 129, 91],
        "2a04:4e42:600::347",
    ),
    (
        "mail.post-site.com",
        [142, 250, 186, 37],
        "2a00:1450:4001:82b::2005",
    ),
    (
        "docs.tools-site.io",
        [185, 199, 110, 153],
        "2606:50c0:8002::153",
    ),
];
/// When the k-th baseline lookup leaves, after T0.
const BASELINE_AT: [i64; 5] = [0, 1_312 * MS, 2_478 * MS, 3_905 * MS, 4_651 * MS];
/// What the k-th baseline lookup adds to the resolver's round-trip time.
const BASELINE_JITTER: [i64; 5] = [1_284 * US, 3_117 * US, 412 * US, 2_659 * US, 1_803 * US];
/// When the interesting query of a dns/ fixture leaves (after every
/// baseline lookup was answered).
const DNS_QUERY_AT: i64 = T0 + 6_120 * MS;
/// The EDNS(0) UDP payload size stub resolvers announce.
const EDNS_SIZE: u16 = 1232;

/// The baseline lookups `range` (A, or AAAA over IPv6, with EDNS) at `r`,
/// each from a fresh port with a fresh ID, answered after `r.rtt` plus a
/// little jitter with RA set and the OPT record echoed.
fn baseline_lookups(
    sc: &mut Scenario,
    client: HostId,
    r: Resolver,
    range: std::ops::Range<usize>,
    ipv6: bool,
) -> Result<(), SynthError> {
    for k in range {
        let (name, a4, a6) = BASELINE[k];
        let id = sc.rng().next_u16();
        let (q, answer) = if ipv6 {
            let a6 = a6.parse::<Ipv6Addr>().unwrap_or(Ipv6Addr::UNSPECIFIED);
            (
                DnsMessage::query(id, name, TYPE_AAAA),
                DnsRecord::aaaa(name, 300, a6),
            )
        } else {
            (
                DnsMessage::query(id, name, TYPE_A),
                DnsRecord::a(name, 300, Ipv4Addr::from(a4)),
            )
        };
        let q = q.with_edns(EDNS_SIZE, false);
        let resp = DnsMessage::response_to(&q, RCODE_NOERROR).answer(answer);
        sc.dns_exchange(
            T0 + BASELINE_AT[k],
            client,
            r.host,
            r.rtt + BASELINE_JITTER[k],
            &q.encode(),
            &resp.encode(),
        )?;
    }
    Ok(())
}

/// A recursive query with EDNS and a fresh ID.
fn edns_query(sc: &mut Scenario, name: &str, qtype: u16) -> DnsMessage {
    let id = sc.rng().next_u16();
    DnsMessage::query(id, name, qtype).with_edns(EDNS_SIZE, false)
}

/// A query from a fresh port at `t`, not yet answered.
fn ask(
    sc: &mut Scenario,
    t: i64,
    client: HostId,
    r: Resolver,
    q: &DnsMessage,
) -> Result<UdpExchange, SynthError> {
    let port = sc.rng().ephemeral_port();
    sc.dns_query(t, client, r.host, port, &q.encode())
}

/// IP header fields of a forged response: TTL, IP ID and DF set.
fn forged_ip(ttl: u8, ip_id: u16) -> IpOverrides {
    IpOverrides {
        ttl: Some(ttl),
        ip_id: Some(ip_id),
        dont_fragment: Some(true),
        tos: None,
    }
}

/// The resolver's own IP header (no overrides).
const GENUINE: IpOverrides = IpOverrides {
    ttl: None,
    ip_id: None,
    dont_fragment: None,
    tos: None,
};

fn ip4(a: u8, b: u8, c: u8, d: u8) -> Ipv4Addr {
    Ipv4Addr::new(a, b, c, d)
}

fn ip6(s: &str) -> Ipv6Addr {
    // Only called with literals from this file.
    s.parse().unwrap_or(Ipv6Addr::UNSPECIFIED)
}

/// An SOA record as an authoritative server returns it with a negative
/// answer.
fn zone_soa(zone: &str) -> DnsRecord {
    DnsRecord::soa(
        zone,
        1800,
        &format!("ns1.{zone}"),
        &format!("hostmaster.{zone}"),
        2_024_051_001,
    )
}

/// The `.com` zone's SOA (a name under `.com` that does not exist).
fn com_soa() -> DnsRecord {
    DnsRecord::soa(
        "com",
        900,
        "a.gtld-servers.net",
        "nstld.verisign-grs.com",
        1_715_678_970,
    )
}

const WWW_BLOCKED_SITE: &str = "www.blocked-site.com";

fn dns_race_forged_first_then_real_a() -> Result<Vec<u8>, SynthError> {
    let mut sc = Scenario::new(301);
    let client = dns_client(&mut sc, false);
    let r = google_v4(&mut sc, 42 * MS);
    let poison = sc.add_host(Host::remote(v4(8, 7, 198, 45), 50).with_mac(ROUTER_MAC));
    baseline_lookups(&mut sc, client, r, 0..3, false)?;
    let q = edns_query(&mut sc, WWW_BLOCKED_SITE, TYPE_A);
    let ex = ask(&mut sc, DNS_QUERY_AT, client, r, &q)?;
    let forged_at = DNS_QUERY_AT + 8 * MS;
    let forged =
        DnsMessage::injected_response(&q, DnsRecord::a(WWW_BLOCKED_SITE, 60, ip4(8, 7, 198, 45)));
    sc.udp_reply(&ex, forged_at, &forged_ip(102, 0x6C1E), &forged.encode())?;
    let real = DnsMessage::response_to(&q, RCODE_NOERROR).answer(DnsRecord::a(
        WWW_BLOCKED_SITE,
        3600,
        ip4(93, 184, 215, 14),
    ));
    sc.udp_reply(
        &ex,
        DNS_QUERY_AT + r.rtt + 906 * US,
        &GENUINE,
        &real.encode(),
    )?;
    // The client took the first answer and connects to the poison address,
    // which never answers.
    let mut conn = sc.tcp(client, poison, TcpParams::new(443).rtt(r.rtt))?;
    conn.unanswered_syns(&mut sc, forged_at + 310 * US, 2)?;
    Ok(eth_pcap(sc))
}

fn dns_race_answer_vs_nxdomain_ipv6() -> Result<Vec<u8>, SynthError> {
    let mut sc = Scenario::new(302);
    let client = dns_client(&mut sc, true);
    let r = public_resolver(&mut sc, v6("2001:4860:4860::8888"), 117, 46 * MS);
    baseline_lookups(&mut sc, client, r, 0..3, true)?;
    let name = "foo.censored-site.org";
    let q = edns_query(&mut sc, name, TYPE_AAAA);
    let ex = ask(&mut sc, DNS_QUERY_AT, client, r, &q)?;
    let forged = DnsMessage::injected_response(
        &q,
        DnsRecord::aaaa(name, 185, ip6("2a03:2880:f12f:83:face:b00c:0:25de")),
    );
    sc.udp_reply(
        &ex,
        DNS_QUERY_AT + 7 * MS,
        &IpOverrides {
            ttl: Some(94),
            ..IpOverrides::default()
        },
        &forged.encode(),
    )?;
    let real = DnsMessage::response_to(&q, RCODE_NXDOMAIN).authority(zone_soa("censored-site.org"));
    sc.udp_reply(
        &ex,
        DNS_QUERY_AT + r.rtt + 1_377 * US,
        &GENUINE,
        &real.encode(),
    )?;
    Ok(write_pcapng(Endian::Little, &[eth_iface()], &sc.finish()))
}

fn dns_race_cname_chain() -> Result<Vec<u8>, SynthError> {
    let mut sc = Scenario::new(303);
    let client = dns_client(&mut sc, false);
    let r = cloudflare_v4(&mut sc, 48 * MS);
    baseline_lookups(&mut sc, client, r, 0..3, false)?;
    let (name, cdn) = ("www.news-site.com", "news-site.cdn-host.net");
    let q = edns_query(&mut sc, name, TYPE_A);
    let ex = ask(&mut sc, DNS_QUERY_AT, client, r, &q)?;
    let forged = DnsMessage::injected_response(&q, DnsRecord::a(name, 92, ip4(46, 82, 174, 68)));
    sc.udp_reply(
        &ex,
        DNS_QUERY_AT + 5 * MS,
        &forged_ip(75, 0x1F4B),
        &forged.encode(),
    )?;
    let real = DnsMessage::response_to(&q, RCODE_NOERROR)
        .answer(DnsRecord::cname(name, 300, cdn))
        .answer(DnsRecord::a(cdn, 30, ip4(151, 101, 1, 140)))
        .answer(DnsRecord::a(cdn, 30, ip4(151, 101, 65, 140)));
    sc.udp_reply(
        &ex,
        DNS_QUERY_AT + r.rtt + 2_046 * US,
        &GENUINE,
        &real.encode(),
    )?;
    Ok(write_pcapng(Endian::Little, &[eth_iface()], &sc.finish()))
}

/// A lone forged answer made by `forge` from a `qtype` query for `name`,
/// arriving `after` the query with these IP header fields, following three
/// baseline lookups at the resolver; the real answer never arrives.
fn lone_forged_answer(
    seed: u64,
    resolver: &dyn Fn(&mut Scenario) -> Resolver,
    (name, qtype): (&str, u16),
    after: i64,
    ip: IpOverrides,
    forge: &dyn Fn(&DnsMessage) -> Vec<u8>,
) -> Result<Vec<u8>, SynthError> {
    let mut sc = Scenario::new(seed);
    let client = dns_client(&mut sc, false);
    let r = resolver(&mut sc);
    baseline_lookups(&mut sc, client, r, 0..3, false)?;
    let q = edns_query(&mut sc, name, qtype);
    let ex = ask(&mut sc, DNS_QUERY_AT, client, r, &q)?;
    sc.udp_reply(&ex, DNS_QUERY_AT + after, &ip, &forge(&q))?;
    Ok(eth_pcap(sc))
}

fn dns_gfw_a_record_for_aaaa_query() -> Result<Vec<u8>, SynthError> {
    let name = "www.banned-news.com";
    lone_forged_answer(
        304,
        &|sc| google_v4(sc, 44 * MS),
        (name, TYPE_AAAA),
        6 * MS,
        forged_ip(99, 0x8D02),
        &|q| {
            DnsMessage::injected_response(q, DnsRecord::a(name, 134, ip4(31, 13, 94, 37))).encode()
        },
    )
}

fn dns_gfw_a_record_for_https_query() -> Result<Vec<u8>, SynthError> {
    let name = "chat.blocked-app.com";
    lone_forged_answer(
        305,
        &|sc| google_v4(sc, 45 * MS),
        (name, TYPE_HTTPS),
        5 * MS,
        forged_ip(98, 0x2A77),
        &|q| {
            DnsMessage::injected_response(q, DnsRecord::a(name, 211, ip4(69, 171, 248, 65)))
                .encode()
        },
    )
}

/// Bytes of the injector's memory that leaked after the forged message:
/// the end of someone else's packet (a DNS answer's TTL, length and address,
/// then the start of an HTTP header line).
const LEAKED: [u8; 24] = *b"\x00\x00\x0e\x10\x00\x04\x5d\xb8\xd7\x0eHost: mail.goo";

fn dns_injected_answer_with_trailing_bytes() -> Result<Vec<u8>, SynthError> {
    let name = "forum.blocked-board.net";
    lone_forged_answer(
        306,
        &|sc| cloudflare_v4(sc, 51 * MS),
        (name, TYPE_A),
        4 * MS,
        forged_ip(68, 0x4E3B),
        &|q| {
            let mut b =
                DnsMessage::injected_response(q, DnsRecord::a(name, 300, ip4(199, 16, 156, 40)))
                    .encode();
            b.extend_from_slice(&LEAKED);
            b
        },
    )
}

fn dns_turkmenistan_loopback_ipid_30000() -> Result<Vec<u8>, SynthError> {
    let name = "www.blocked-portal.com";
    lone_forged_answer(
        307,
        &|sc| google_v4(sc, 70 * MS),
        (name, TYPE_A),
        4 * MS,
        // Initial TTL 128 three hops away; DF clear like the resolver's.
        IpOverrides {
            ttl: Some(125),
            ip_id: Some(30000),
            dont_fragment: Some(false),
            tos: None,
        },
        &|q| {
            DnsMessage::injected_response(q, DnsRecord::a(name, 300, Ipv4Addr::LOCALHOST)).encode()
        },
    )
}

fn dns_forged_by_timing_and_headers() -> Result<Vec<u8>, SynthError> {
    let mut sc = Scenario::new(328);
    let client = dns_client(&mut sc, false);
    let r = public_resolver(&mut sc, v4(8, 8, 8, 8), 116, 80 * MS);
    baseline_lookups(&mut sc, client, r, 0..4, false)?;
    let name = "www.micro-blog-site.com";
    let q = edns_query(&mut sc, name, TYPE_A);
    let ex = ask(&mut sc, DNS_QUERY_AT, client, r, &q)?;
    let mut forged = DnsMessage::response_to(&q, RCODE_NOERROR)
        .answer(DnsRecord::a(name, 1800, ip4(104, 244, 42, 1)))
        .without_edns();
    forged.flags &= !DNS_FLAG_RA;
    // Only the TTL is off in the IP header: the IP ID is as random as the
    // resolver's and DF is clear like its.
    let ip = IpOverrides {
        ttl: Some(62),
        ..IpOverrides::default()
    };
    sc.udp_reply(&ex, DNS_QUERY_AT + 3 * MS, &ip, &forged.encode())?;
    Ok(eth_pcap(sc))
}

/// Three baseline lookups at the resolver, then a lookup of `name` answered
/// with `answer` after the resolver's usual round trip with its own
/// headers, RA and the OPT echo.
fn consistent_single_answer(
    seed: u64,
    resolver: &dyn Fn(&mut Scenario) -> Resolver,
    name: &str,
    answer: Ipv4Addr,
) -> Result<Vec<u8>, SynthError> {
    let mut sc = Scenario::new(seed);
    let client = dns_client(&mut sc, false);
    let r = resolver(&mut sc);
    baseline_lookups(&mut sc, client, r, 0..3, false)?;
    let q = edns_query(&mut sc, name, TYPE_A);
    let resp = DnsMessage::response_to(&q, RCODE_NOERROR).answer(DnsRecord::a(name, 300, answer));
    sc.dns_exchange(
        DNS_QUERY_AT,
        client,
        r.host,
        r.rtt + 1_529 * US,
        &q.encode(),
        &resp.encode(),
    )?;
    Ok(eth_pcap(sc))
}

fn dns_known_poison_address_single_response() -> Result<Vec<u8>, SynthError> {
    // 114DNS, a public resolver inside China whose answers pass the GFW.
    consistent_single_answer(
        309,
        &|sc| public_resolver(sc, v4(114, 114, 114, 114), 59, 41 * MS),
        "www.video-share-site.com",
        ip4(37, 61, 54, 158),
    )
}

fn dns_iran_blockpage_address_over_tcp() -> Result<Vec<u8>, SynthError> {
    let mut sc = Scenario::new(310);
    let client = dns_client(&mut sc, false);
    let r = public_resolver(&mut sc, v4(8, 8, 8, 8), 116, 95 * MS);
    baseline_lookups(&mut sc, client, r, 0..2, false)?;
    let name = "www.social-network-site.com";
    let q = edns_query(&mut sc, name, TYPE_A);
    let resp = DnsMessage::response_to(&q, RCODE_NOERROR).answer(DnsRecord::a(
        name,
        300,
        ip4(10, 10, 34, 34),
    ));
    let mut conn = sc.tcp(client, r.host, TcpParams::new(DNS_PORT).rtt(r.rtt))?;
    let t = conn.handshake(&mut sc, DNS_QUERY_AT)?;
    let t = conn.exchange(
        &mut sc,
        t + 90 * US,
        &dns_over_tcp(&q.encode()),
        &dns_over_tcp(&resp.encode()),
    )?;
    conn.close(&mut sc, Side::Client, t + 150 * US)?;
    Ok(eth_pcap(sc))
}

fn dns_bogon_answer_from_public_resolver() -> Result<Vec<u8>, SynthError> {
    consistent_single_answer(
        311,
        &|sc| quad9_v4(sc, 52 * MS),
        WWW_BLOCKED_SITE,
        ip4(127, 0, 0, 2),
    )
}

fn dns_nxdomain_rewrite_by_isp_resolver() -> Result<Vec<u8>, SynthError> {
    let mut sc = Scenario::new(312);
    let client = dns_client(&mut sc, false);
    let isp = public_resolver(&mut sc, v4(194, 168, 4, 100), 61, 40 * MS);
    let google = google_v4(&mut sc, 44 * MS);
    baseline_lookups(&mut sc, client, isp, 0..3, false)?;
    let name = "wwww.typo-domain-xyz.com";
    // A and AAAA from one socket, as glibc sends them.
    let qa = edns_query(&mut sc, name, TYPE_A);
    let q6 = edns_query(&mut sc, name, TYPE_AAAA);
    let ex = ask(&mut sc, DNS_QUERY_AT, client, isp, &qa)?;
    sc.send_udp(
        DNS_QUERY_AT + 120 * US,
        client,
        isp.host,
        ex.client_port,
        DNS_PORT,
        &q6.encode(),
    )?;
    let rewritten = DnsMessage::response_to(&qa, RCODE_NOERROR).answer(DnsRecord::a(
        name,
        60,
        ip4(92, 242, 140, 21),
    ));
    sc.udp_reply(
        &ex,
        DNS_QUERY_AT + isp.rtt + 611 * US,
        &GENUINE,
        &rewritten.encode(),
    )?;
    let nx6 = DnsMessage::response_to(&q6, RCODE_NXDOMAIN).authority(com_soa());
    sc.udp_reply(
        &ex,
        DNS_QUERY_AT + isp.rtt + 902 * US,
        &GENUINE,
        &nx6.encode(),
    )?;
    // The user checks with another resolver.
    let qg = edns_query(&mut sc, name, TYPE_A);
    let nxg = DnsMessage::response_to(&qg, RCODE_NXDOMAIN).authority(com_soa());
    sc.dns_exchange(
        DNS_QUERY_AT + 3 * S,
        client,
        google.host,
        google.rtt + 1_188 * US,
        &qg.encode(),
        &nxg.encode(),
    )?;
    Ok(eth_pcap(sc))
}

/// A query from a fresh port at `t`, sent again with the same ID and port
/// after 1 s because the resolver was slow: the resolver's answers `first`
/// (to the original, when its recursion finished) and `second` (to the
/// retransmission) arrive after the retransmission.
fn retransmitted_query(
    sc: &mut Scenario,
    client: HostId,
    r: Resolver,
    q: &DnsMessage,
    first: &DnsMessage,
    second: &DnsMessage,
) -> Result<(), SynthError> {
    let ex = ask(sc, DNS_QUERY_AT, client, r, q)?;
    let again = DNS_QUERY_AT + S;
    sc.send_udp(again, client, r.host, ex.client_port, DNS_PORT, &q.encode())?;
    sc.udp_reply(&ex, again + 31 * MS, &GENUINE, &first.encode())?;
    sc.udp_reply(&ex, again + r.rtt + 1_062 * US, &GENUINE, &second.encode())
}

fn dns_retransmitted_query_answered_twice_identically() -> Result<Vec<u8>, SynthError> {
    let mut sc = Scenario::new(313);
    let client = dns_client(&mut sc, false);
    let r = google_v4(&mut sc, 43 * MS);
    baseline_lookups(&mut sc, client, r, 0..3, false)?;
    let name = "www.slow-zone-site.com";
    let q = edns_query(&mut sc, name, TYPE_A);
    let resp = DnsMessage::response_to(&q, RCODE_NOERROR).answer(DnsRecord::a(
        name,
        300,
        ip4(185, 199, 108, 153),
    ));
    retransmitted_query(&mut sc, client, r, &q, &resp, &resp)?;
    Ok(eth_pcap(sc))
}

fn dns_duplicate_response_identical() -> Result<Vec<u8>, SynthError> {
    let mut sc = Scenario::new(314);
    let client = dns_client(&mut sc, false);
    let r = cloudflare_v4(&mut sc, 47 * MS);
    baseline_lookups(&mut sc, client, r, 0..3, false)?;
    let name = "static.cdn-site.net";
    let q = edns_query(&mut sc, name, TYPE_A);
    let resp = DnsMessage::response_to(&q, RCODE_NOERROR).answer(DnsRecord::a(
        name,
        3600,
        ip4(104, 16, 132, 229),
    ));
    let ex = sc.dns_exchange(
        DNS_QUERY_AT,
        client,
        r.host,
        r.rtt + 733 * US,
        &q.encode(),
        &resp.encode(),
    )?;
    let last = sc.frames().len() - 1;
    sc.duplicate_frame(last, ex.response_ts + 100 * US)?;
    Ok(write_pcapng(Endian::Little, &[eth_iface()], &sc.finish()))
}

fn dns_cdn_answers_differ_between_queries() -> Result<Vec<u8>, SynthError> {
    let mut sc = Scenario::new(315);
    let client = dns_client(&mut sc, false);
    let r = google_v4(&mut sc, 42 * MS);
    baseline_lookups(&mut sc, client, r, 0..3, false)?;
    let name = "cdn-site.net";
    let sets = [
        [ip4(23, 215, 0, 138), ip4(23, 215, 0, 136)],
        [ip4(23, 192, 228, 84), ip4(23, 192, 228, 80)],
    ];
    for (k, set) in sets.iter().enumerate() {
        let q = edns_query(&mut sc, name, TYPE_A);
        let mut resp = DnsMessage::response_to(&q, RCODE_NOERROR);
        for a in set {
            resp = resp.answer(DnsRecord::a(name, 20, *a));
        }
        sc.dns_exchange(
            DNS_QUERY_AT + k as i64 * 60 * S,
            client,
            r.host,
            r.rtt + BASELINE_JITTER[k],
            &q.encode(),
            &resp.encode(),
        )?;
    }
    Ok(eth_pcap(sc))
}

fn dns_parallel_resolvers_different_answers() -> Result<Vec<u8>, SynthError> {
    let mut sc = Scenario::new(316);
    let client = dns_client(&mut sc, false);
    let google = google_v4(&mut sc, 42 * MS);
    let cloudflare = cloudflare_v4(&mut sc, 47 * MS);
    baseline_lookups(&mut sc, client, google, 0..2, false)?;
    baseline_lookups(&mut sc, client, cloudflare, 2..4, false)?;
    let name = "video.stream-site.com";
    let answers = [
        (
            cloudflare,
            0,
            [ip4(104, 86, 110, 72), ip4(104, 86, 110, 81)],
        ),
        (
            google,
            150 * US,
            [ip4(23, 55, 161, 8), ip4(23, 55, 161, 16)],
        ),
    ];
    for (r, at, set) in answers {
        let q = edns_query(&mut sc, name, TYPE_A);
        let mut resp = DnsMessage::response_to(&q, RCODE_NOERROR);
        for a in set {
            resp = resp.answer(DnsRecord::a(name, 20, a));
        }
        sc.dns_exchange(
            DNS_QUERY_AT + at,
            client,
            r.host,
            r.rtt + 1_407 * US,
            &q.encode(),
            &resp.encode(),
        )?;
    }
    Ok(eth_pcap(sc))
}

fn dns_genuine_nxdomain_and_servfail() -> Result<Vec<u8>, SynthError> {
    let mut sc = Scenario::new(317);
    let client = dns_client(&mut sc, false);
    let google = google_v4(&mut sc, 42 * MS);
    let cloudflare = cloudflare_v4(&mut sc, 47 * MS);
    baseline_lookups(&mut sc, client, google, 0..2, false)?;
    baseline_lookups(&mut sc, client, cloudflare, 2..4, false)?;
    let missing = "missing.quiet-site.net";
    for (k, r) in [google, cloudflare].into_iter().enumerate() {
        let q = edns_query(&mut sc, missing, TYPE_A);
        let nx = DnsMessage::response_to(&q, RCODE_NXDOMAIN).authority(zone_soa("quiet-site.net"));
        sc.dns_exchange(
            DNS_QUERY_AT + k as i64 * 2_500 * MS,
            client,
            r.host,
            r.rtt + BASELINE_JITTER[k],
            &q.encode(),
            &nx.encode(),
        )?;
    }
    // A zone whose DNSSEC validation fails: the resolver gives up.
    let broken = "www.broken-dnssec-site.org";
    let q = edns_query(&mut sc, broken, TYPE_A);
    let fail = DnsMessage::response_to(&q, RCODE_SERVFAIL);
    sc.dns_exchange(
        DNS_QUERY_AT + 5 * S,
        client,
        google.host,
        google.rtt + 612 * MS,
        &q.encode(),
        &fail.encode(),
    )?;
    Ok(eth_pcap(sc))
}

fn dns_split_horizon_private_answer_from_local_resolver() -> Result<Vec<u8>, SynthError> {
    let mut sc = Scenario::new(318);
    let client = dns_client(&mut sc, false);
    // The home router's forwarder: TTL 64, counting IP IDs, DF set.
    let local = sc.add_host(Host::remote(v4(192, 168, 1, 1), 64).with_mac(ROUTER_MAC));
    // Two lookups it forwards upstream, then the first name again from its
    // cache, then the intranet name from its local zone.
    let (w, wa, _) = BASELINE[0];
    let (s, sa, _) = BASELINE[1];
    let lookups = [
        (w, Ipv4Addr::from(wa), 300, 0, 19_311 * US),
        (s, Ipv4Addr::from(sa), 300, 1_312 * MS, 22_804 * US),
        (w, Ipv4Addr::from(wa), 297, 3_905 * MS, 412 * US),
        (
            "intranet.corp-internal.net",
            ip4(10, 1, 2, 3),
            3600,
            6_120 * MS,
            518 * US,
        ),
    ];
    for (name, addr, ttl, at, rtt) in lookups {
        let q = edns_query(&mut sc, name, TYPE_A);
        let resp = DnsMessage::response_to(&q, RCODE_NOERROR).answer(DnsRecord::a(name, ttl, addr));
        sc.dns_exchange(T0 + at, client, local, rtt, &q.encode(), &resp.encode())?;
    }
    Ok(eth_pcap(sc))
}

fn dns_dns64_synthesized_aaaa() -> Result<Vec<u8>, SynthError> {
    let mut sc = Scenario::new(319);
    let client = dns_client(&mut sc, true);
    // Google's public DNS64 service, on an IPv6-only network with NAT64.
    let r = public_resolver(&mut sc, v6("2001:4860:4860::6464"), 117, 45 * MS);
    baseline_lookups(&mut sc, client, r, 0..3, true)?;
    let name = "legacy.ipv4only-site.com";
    let q = edns_query(&mut sc, name, TYPE_AAAA);
    // 93.184.215.14 behind the well-known prefix 64:ff9b::/96 (RFC 6052).
    let resp = DnsMessage::response_to(&q, RCODE_NOERROR).answer(DnsRecord::aaaa(
        name,
        300,
        ip6("64:ff9b::5db8:d70e"),
    ));
    sc.dns_exchange(
        DNS_QUERY_AT,
        client,
        r.host,
        r.rtt + 1_893 * US,
        &q.encode(),
        &resp.encode(),
    )?;
    Ok(write_pcapng(Endian::Little, &[eth_iface()], &sc.finish()))
}

fn dns_retransmit_with_round_robin_answers() -> Result<Vec<u8>, SynthError> {
    let mut sc = Scenario::new(320);
    let client = dns_client(&mut sc, false);
    let r = quad9_v4(&mut sc, 52 * MS);
    baseline_lookups(&mut sc, client, r, 0..3, false)?;
    let name = "www.rotating-site.com";
    let q = edns_query(&mut sc, name, TYPE_A);
    let (a, b, c) = (
        ip4(52, 84, 150, 11),
        ip4(52, 84, 150, 39),
        ip4(52, 84, 150, 72),
    );
    let answer = |x: Ipv4Addr, y: Ipv4Addr| {
        DnsMessage::response_to(&q, RCODE_NOERROR)
            .answer(DnsRecord::a(name, 60, x))
            .answer(DnsRecord::a(name, 60, y))
    };
    retransmitted_query(&mut sc, client, r, &q, &answer(a, b), &answer(b, c))?;
    Ok(eth_pcap(sc))
}

fn dns_anycast_resolver_ttl_change() -> Result<Vec<u8>, SynthError> {
    let mut sc = Scenario::new(321);
    let client = dns_client(&mut sc, false);
    let r = cloudflare_v4(&mut sc, 46 * MS);
    baseline_lookups(&mut sc, client, r, 0..3, false)?;
    // The fourth lookup is answered by another anycast instance, 4 hops
    // further away.
    sc.host_mut(r.host).ttl = 53;
    baseline_lookups(&mut sc, client, r, 3..4, false)?;
    sc.host_mut(r.host).ttl = 57;
    baseline_lookups(&mut sc, client, r, 4..5, false)?;
    Ok(eth_pcap(sc))
}

// ------------------------------------------------------------ catalogue

fn diag(d: Diagnostic) -> Fact {
    Fact::Diagnostic(d)
}

/// Facts of the basic conversation.
fn www_facts() -> Vec<Fact> {
    vec![Fact::DnsQuery(WWW), Fact::HttpHost(WWW)]
}

/// Every committed fixture with its ground truth, in README order.
pub fn catalogue() -> Vec<Fixture> {
    vec![
        Fixture {
            path: "capture/pcap-little-endian-microseconds.pcap",
            description: "Classic pcap, little-endian, microsecond timestamps: a DNS lookup then an HTTP GET over Ethernet.",
            build: capture_pcap_le_us,
            truth: GroundTruth {
                frames: 11,
                first_ts_ns: Some(1_715_679_000_000_000_000),
                last_ts_ns: Some(1_715_679_000_088_409_000),
                tcp_flows: 1,
                udp_flows: 1,
                facts: www_facts(),
                partial: false,
            },
        },
        Fixture {
            path: "capture/pcap-big-endian-microseconds.pcap",
            description: "The same conversation in a big-endian microsecond pcap (as written on SPARC or PowerPC).",
            build: capture_pcap_be_us,
            truth: GroundTruth {
                frames: 11,
                first_ts_ns: Some(1_715_679_000_000_000_000),
                last_ts_ns: Some(1_715_679_000_088_409_000),
                tcp_flows: 1,
                udp_flows: 1,
                facts: www_facts(),
                partial: false,
            },
        },
        Fixture {
            path: "capture/pcap-little-endian-nanoseconds.pcap",
            description: "Little-endian nanosecond pcap (magic a1b23c4d) whose timestamps have non-zero sub-microsecond digits.",
            build: capture_pcap_le_ns,
            truth: GroundTruth {
                frames: 11,
                first_ts_ns: Some(1_715_679_000_000_000_321),
                last_ts_ns: Some(1_715_679_000_088_410_329),
                tcp_flows: 1,
                udp_flows: 1,
                facts: www_facts(),
                partial: false,
            },
        },
        Fixture {
            path: "capture/pcap-big-endian-nanoseconds.pcap",
            description: "Big-endian nanosecond pcap with sub-microsecond timestamp digits.",
            build: capture_pcap_be_ns,
            truth: GroundTruth {
                frames: 11,
                first_ts_ns: Some(1_715_679_000_000_000_321),
                last_ts_ns: Some(1_715_679_000_088_410_329),
                tcp_flows: 1,
                udp_flows: 1,
                facts: www_facts(),
                partial: false,
            },
        },
        Fixture {
            path: "capture/pcap-modified-kuznetzov-format.pcap",
            description: "Kuznetzov's modified pcap (magic a1b2cd34): 24-byte record headers with ifindex, protocol and packet type.",
            build: capture_pcap_modified,
            truth: GroundTruth {
                frames: 11,
                first_ts_ns: Some(1_715_679_000_000_000_000),
                last_ts_ns: Some(1_715_679_000_088_409_000),
                tcp_flows: 1,
                udp_flows: 1,
                facts: www_facts(),
                partial: false,
            },
        },
        Fixture {
            path: "capture/pcapng-little-endian.pcapng",
            description: "pcapng, one little-endian section with one Ethernet interface.",
            build: capture_pcapng_le,
            truth: GroundTruth {
                frames: 11,
                first_ts_ns: Some(1_715_679_000_000_000_000),
                last_ts_ns: Some(1_715_679_000_088_409_000),
                tcp_flows: 1,
                udp_flows: 1,
                facts: www_facts(),
                partial: false,
            },
        },
        Fixture {
            path: "capture/pcapng-big-endian.pcapng",
            description: "pcapng, one big-endian section.",
            build: capture_pcapng_be,
            truth: GroundTruth {
                frames: 11,
                first_ts_ns: Some(1_715_679_000_000_000_000),
                last_ts_ns: Some(1_715_679_000_088_409_000),
                tcp_flows: 1,
                udp_flows: 1,
                facts: www_facts(),
                partial: false,
            },
        },
        Fixture {
            path: "capture/pcapng-two-sections-of-different-byte-order.pcapng",
            description: "Two sections in one file: the first little-endian, the second big-endian, each with its own interface.",
            build: capture_pcapng_two_sections,
            truth: GroundTruth {
                frames: 11,
                first_ts_ns: Some(1_715_679_000_000_000_000),
                last_ts_ns: Some(1_715_679_000_088_409_000),
                tcp_flows: 1,
                udp_flows: 1,
                facts: www_facts(),
                partial: false,
            },
        },
        Fixture {
            path: "capture/pcapng-three-interfaces-with-different-link-types-and-resolutions.pcapng",
            description: "Ethernet (10^-6 s), raw IP (10^-9 s) and Linux cooked (2^-20 s with a non-zero if_tsoffset) interfaces, packets interleaved.",
            build: capture_pcapng_three_interfaces,
            truth: GroundTruth {
                frames: 26,
                first_ts_ns: Some(1_715_679_000_000_000_000),
                last_ts_ns: Some(1_715_679_000_093_410_329),
                tcp_flows: 2,
                udp_flows: 4,
                facts: vec![Fact::DnsQuery(WWW), Fact::HttpHost(WWW), Fact::DnsQuery("v6.example.net"), Fact::HttpHost("v6.example.net"), Fact::DnsQuery("sll.example.org")],
                partial: false,
            },
        },
        Fixture {
            path: "capture/pcapng-simple-packet-blocks.pcapng",
            description: "Simple Packet Blocks (no timestamp, no interface ID) between an Enhanced Packet Block at each end.",
            build: capture_pcapng_simple_packets,
            truth: GroundTruth {
                frames: 11,
                first_ts_ns: Some(1_715_679_000_000_000_000),
                last_ts_ns: Some(1_715_679_000_088_409_000),
                tcp_flows: 1,
                udp_flows: 1,
                facts: www_facts(),
                partial: false,
            },
        },
        Fixture {
            path: "capture/pcapng-obsolete-packet-blocks.pcapng",
            description: "Every packet in the obsolete Packet Block (type 2) that old writers produced.",
            build: capture_pcapng_obsolete_packet_block,
            truth: GroundTruth {
                frames: 11,
                first_ts_ns: Some(1_715_679_000_000_000_000),
                last_ts_ns: Some(1_715_679_000_088_409_000),
                tcp_flows: 1,
                udp_flows: 1,
                facts: www_facts(),
                partial: false,
            },
        },
        Fixture {
            path: "capture/pcapng-with-blocks-readers-must-skip.pcapng",
            description: "Name Resolution, Decryption Secrets, two Custom, one unknown-type and an Interface Statistics block between the packets; Wireshark numbers the two Custom blocks as frames.",
            build: capture_pcapng_skippable_blocks,
            truth: GroundTruth {
                frames: 13,
                first_ts_ns: Some(1_715_679_000_000_000_000),
                last_ts_ns: Some(1_715_679_000_088_409_000),
                tcp_flows: 1,
                udp_flows: 1,
                facts: www_facts(),
                partial: false,
            },
        },
        Fixture {
            path: "capture/pcap-gzip-compressed-in-two-members.pcap.gz",
            description: "A pcap compressed as two concatenated gzip members (the second starts at record 6).",
            build: capture_gzip_two_members,
            truth: GroundTruth {
                frames: 11,
                first_ts_ns: Some(1_715_679_000_000_000_000),
                last_ts_ns: Some(1_715_679_000_088_409_000),
                tcp_flows: 1,
                udp_flows: 1,
                facts: www_facts(),
                partial: false,
            },
        },
        Fixture {
            path: "capture/pcap-xz-compressed.pcap.xz",
            description: "A pcap compressed with xz.",
            build: capture_xz,
            truth: GroundTruth {
                frames: 11,
                first_ts_ns: Some(1_715_679_000_000_000_000),
                last_ts_ns: Some(1_715_679_000_088_409_000),
                tcp_flows: 1,
                udp_flows: 1,
                facts: www_facts(),
                partial: false,
            },
        },
        Fixture {
            path: "capture/pcap-zstd-compressed.pcap.zst",
            description: "A pcap compressed with zstd.",
            build: capture_zstd_pcap,
            truth: GroundTruth {
                frames: 11,
                first_ts_ns: Some(1_715_679_000_000_000_000),
                last_ts_ns: Some(1_715_679_000_088_409_000),
                tcp_flows: 1,
                udp_flows: 1,
                facts: www_facts(),
                partial: false,
            },
        },
        Fixture {
            path: "capture/pcapng-zstd-compressed.pcapng.zst",
            description: "A pcapng compressed with zstd.",
            build: capture_zstd_pcapng,
            truth: GroundTruth {
                frames: 11,
                first_ts_ns: Some(1_715_679_000_000_000_000),
                last_ts_ns: Some(1_715_679_000_088_409_000),
                tcp_flows: 1,
                udp_flows: 1,
                facts: www_facts(),
                partial: false,
            },
        },
        Fixture {
            path: "capture/pcap-cut-in-the-middle-of-the-last-record.pcap",
            description: "A pcap that ends halfway through the last packet's data, as when tcpdump is killed.",
            build: capture_cut_mid_record,
            truth: GroundTruth {
                frames: 10,
                first_ts_ns: Some(1_715_679_000_000_000_000),
                last_ts_ns: Some(1_715_679_000_088_368_000),
                tcp_flows: 1,
                udp_flows: 1,
                facts: vec![Fact::DnsQuery(WWW), Fact::HttpHost(WWW), diag(Diagnostic::CaptureTruncated)],
                partial: true,
            },
        },
        Fixture {
            path: "capture/pcap-cut-inside-a-record-header.pcap",
            description: "A pcap that ends 7 bytes into the last record header.",
            build: capture_cut_in_header,
            truth: GroundTruth {
                frames: 10,
                first_ts_ns: Some(1_715_679_000_000_000_000),
                last_ts_ns: Some(1_715_679_000_088_368_000),
                tcp_flows: 1,
                udp_flows: 1,
                facts: vec![Fact::DnsQuery(WWW), Fact::HttpHost(WWW), diag(Diagnostic::CaptureTruncated)],
                partial: true,
            },
        },
        Fixture {
            path: "capture/pcapng-cut-in-the-middle-of-a-block.pcapng",
            description: "A pcapng that ends halfway through its last Enhanced Packet Block.",
            build: capture_pcapng_cut_mid_block,
            truth: GroundTruth {
                frames: 10,
                first_ts_ns: Some(1_715_679_000_000_000_000),
                last_ts_ns: Some(1_715_679_000_088_368_000),
                tcp_flows: 1,
                udp_flows: 1,
                facts: vec![Fact::DnsQuery(WWW), Fact::HttpHost(WWW), diag(Diagnostic::CaptureTruncated)],
                partial: true,
            },
        },
        Fixture {
            path: "capture/pcap-record-with-an-impossible-length.pcap",
            description: "Five good records, then a record header claiming 2^31-1 captured bytes.",
            build: capture_impossible_record_length,
            truth: GroundTruth {
                frames: 5,
                first_ts_ns: Some(1_715_679_000_000_000_000),
                last_ts_ns: Some(1_715_679_000_037_372_000),
                tcp_flows: 1,
                udp_flows: 1,
                facts: vec![Fact::DnsQuery(WWW), diag(Diagnostic::CaptureRecordInvalid)],
                partial: true,
            },
        },
        Fixture {
            path: "capture/pcap-with-snaplen-96-cuts-long-packets.pcap",
            description: "Snaplen 96: the HTTP request and response are cut (caplen < original length); DNS fits.",
            build: capture_snaplen_96,
            truth: GroundTruth {
                frames: 11,
                first_ts_ns: Some(1_715_679_000_000_000_000),
                last_ts_ns: Some(1_715_679_000_088_409_000),
                tcp_flows: 1,
                udp_flows: 1,
                facts: vec![Fact::DnsQuery(WWW), diag(Diagnostic::PacketSnaplenCut)],
                partial: false,
            },
        },
        Fixture {
            path: "capture/empty-pcap-with-only-a-file-header.pcap",
            description: "A pcap file header and no records.",
            build: capture_empty_pcap,
            truth: GroundTruth {
                frames: 0,
                first_ts_ns: None,
                last_ts_ns: None,
                tcp_flows: 0,
                udp_flows: 0,
                facts: vec![],
                partial: false,
            },
        },
        Fixture {
            path: "capture/empty-pcapng-with-only-section-and-interface.pcapng",
            description: "A pcapng with a Section Header and an Interface Description and no packets.",
            build: capture_empty_pcapng,
            truth: GroundTruth {
                frames: 0,
                first_ts_ns: None,
                last_ts_ns: None,
                tcp_flows: 0,
                udp_flows: 0,
                facts: vec![],
                partial: false,
            },
        },
        Fixture {
            path: "link/ethernet-with-an-802-1q-vlan-tag.pcap",
            description: "Ethernet frames with one 802.1Q tag (VLAN 100).",
            build: link_vlan,
            truth: GroundTruth {
                frames: 11,
                first_ts_ns: Some(1_715_679_000_000_000_000),
                last_ts_ns: Some(1_715_679_000_088_409_000),
                tcp_flows: 1,
                udp_flows: 1,
                facts: www_facts(),
                partial: false,
            },
        },
        Fixture {
            path: "link/ethernet-with-qinq-802-1ad-and-802-1q-tags.pcap",
            description: "Ethernet frames with an 802.1ad service tag (VLAN 300) over an 802.1Q tag (VLAN 100).",
            build: link_qinq,
            truth: GroundTruth {
                frames: 11,
                first_ts_ns: Some(1_715_679_000_000_000_000),
                last_ts_ns: Some(1_715_679_000_088_409_000),
                tcp_flows: 1,
                udp_flows: 1,
                facts: www_facts(),
                partial: false,
            },
        },
        Fixture {
            path: "link/raw-ip-101-with-ipv4-and-ipv6.pcap",
            description: "LINKTYPE_RAW (101): bare IPv4 packets, then bare IPv6 packets.",
            build: link_raw,
            truth: GroundTruth {
                frames: 22,
                first_ts_ns: Some(1_715_679_000_000_000_000),
                last_ts_ns: Some(1_715_679_002_088_409_000),
                tcp_flows: 2,
                udp_flows: 2,
                facts: www_facts(),
                partial: false,
            },
        },
        Fixture {
            path: "link/linktype-ipv4-228.pcap",
            description: "LINKTYPE_IPV4 (228): bare IPv4 packets.",
            build: link_ipv4,
            truth: GroundTruth {
                frames: 11,
                first_ts_ns: Some(1_715_679_000_000_000_000),
                last_ts_ns: Some(1_715_679_000_088_409_000),
                tcp_flows: 1,
                udp_flows: 1,
                facts: www_facts(),
                partial: false,
            },
        },
        Fixture {
            path: "link/linktype-ipv6-229.pcap",
            description: "LINKTYPE_IPV6 (229): bare IPv6 packets.",
            build: link_ipv6,
            truth: GroundTruth {
                frames: 11,
                first_ts_ns: Some(1_715_679_000_000_000_000),
                last_ts_ns: Some(1_715_679_000_088_409_000),
                tcp_flows: 1,
                udp_flows: 1,
                facts: www_facts(),
                partial: false,
            },
        },
        Fixture {
            path: "link/linux-cooked-sll.pcap",
            description: "Linux cooked capture v1 (113, 16-byte header), outgoing and incoming packets.",
            build: link_sll,
            truth: GroundTruth {
                frames: 11,
                first_ts_ns: Some(1_715_679_000_000_000_000),
                last_ts_ns: Some(1_715_679_000_088_409_000),
                tcp_flows: 1,
                udp_flows: 1,
                facts: www_facts(),
                partial: false,
            },
        },
        Fixture {
            path: "link/linux-cooked-sll2.pcap",
            description: "Linux cooked capture v2 (276, 20-byte header with interface index).",
            build: link_sll2,
            truth: GroundTruth {
                frames: 11,
                first_ts_ns: Some(1_715_679_000_000_000_000),
                last_ts_ns: Some(1_715_679_000_088_409_000),
                tcp_flows: 1,
                udp_flows: 1,
                facts: www_facts(),
                partial: false,
            },
        },
        Fixture {
            path: "link/bsd-null-little-endian-with-ipv4-and-ipv6.pcap",
            description: "BSD NULL loopback (0) written on a little-endian Mac: AF_INET 2 and AF_INET6 30.",
            build: link_null,
            truth: GroundTruth {
                frames: 22,
                first_ts_ns: Some(1_715_679_000_000_000_000),
                last_ts_ns: Some(1_715_679_002_088_409_000),
                tcp_flows: 2,
                udp_flows: 2,
                facts: www_facts(),
                partial: false,
            },
        },
        Fixture {
            path: "link/bsd-loop-with-ipv4-and-ipv6.pcap",
            description: "OpenBSD LOOP (108): address family in network byte order, AF_INET6 24.",
            build: link_loop,
            truth: GroundTruth {
                frames: 22,
                first_ts_ns: Some(1_715_679_000_000_000_000),
                last_ts_ns: Some(1_715_679_002_088_409_000),
                tcp_flows: 2,
                udp_flows: 2,
                facts: www_facts(),
                partial: false,
            },
        },
        Fixture {
            path: "link/ppp-with-address-and-control.pcap",
            description: "PPP (9) with 0xff03 address/control and protocol 0x0021.",
            build: link_ppp,
            truth: GroundTruth {
                frames: 11,
                first_ts_ns: Some(1_715_679_000_000_000_000),
                last_ts_ns: Some(1_715_679_000_088_409_000),
                tcp_flows: 1,
                udp_flows: 1,
                facts: www_facts(),
                partial: false,
            },
        },
        Fixture {
            path: "link/pppoe-session-over-ethernet.pcap",
            description: "PPPoE session frames (ethertype 0x8864, session 0x1a2b) carrying PPP IPv4.",
            build: link_pppoe,
            truth: GroundTruth {
                frames: 11,
                first_ts_ns: Some(1_715_679_000_000_000_000),
                last_ts_ns: Some(1_715_679_000_088_409_000),
                tcp_flows: 1,
                udp_flows: 1,
                facts: www_facts(),
                partial: false,
            },
        },
        Fixture {
            path: "link/mpls-over-ethernet-with-two-labels.pcap",
            description: "MPLS over Ethernet (ethertype 0x8847) with a two-label stack over IPv4.",
            build: link_mpls,
            truth: GroundTruth {
                frames: 11,
                first_ts_ns: Some(1_715_679_000_000_000_000),
                last_ts_ns: Some(1_715_679_000_088_409_000),
                tcp_flows: 1,
                udp_flows: 1,
                facts: www_facts(),
                partial: false,
            },
        },
        Fixture {
            path: "link/pcapng-unsupported-link-type-147-next-to-ethernet.pcapng",
            description: "An Ethernet interface and a LINKTYPE_USER0 (147) interface whose three opaque frames tamper cannot decode.",
            build: link_unsupported_147,
            truth: GroundTruth {
                frames: 14,
                first_ts_ns: Some(1_715_679_000_000_000_000),
                last_ts_ns: Some(1_715_679_000_100_000_000),
                tcp_flows: 1,
                udp_flows: 1,
                facts: vec![Fact::DnsQuery(WWW), Fact::HttpHost(WWW), diag(Diagnostic::LinkTypeUnsupported)],
                partial: false,
            },
        },
        Fixture {
            path: "decode/ipv6-extension-headers-before-tcp.pcap",
            description: "IPv6 client packets carrying hop-by-hop, routing (SRH, no segments left) and destination-options headers before TCP.",
            build: decode_ipv6_extension_headers,
            truth: GroundTruth {
                frames: 9,
                first_ts_ns: Some(1_715_679_000_000_000_000),
                last_ts_ns: Some(1_715_679_000_096_220_000),
                tcp_flows: 1,
                udp_flows: 0,
                facts: vec![Fact::HttpHost("ext-headers.example.com")],
                partial: false,
            },
        },
        Fixture {
            path: "decode/ipv4-fragmented-dns-response-arriving-out-of-order.pcap",
            description: "A TXT response in three IPv4 fragments, captured in the order 3, 1, 2.",
            build: decode_ipv4_fragmented_dns_out_of_order,
            truth: GroundTruth {
                frames: 4,
                first_ts_ns: Some(1_715_679_000_000_000_000),
                last_ts_ns: Some(1_715_679_000_018_030_000),
                tcp_flows: 0,
                udp_flows: 1,
                facts: vec![Fact::DnsQuery("fragmented.example.net")],
                partial: false,
            },
        },
        Fixture {
            path: "decode/ipv6-fragmented-udp-datagram.pcap",
            description: "A large AAAA response sent as two IPv6 fragments (Fragment extension header).",
            build: decode_ipv6_fragmented_udp,
            truth: GroundTruth {
                frames: 3,
                first_ts_ns: Some(1_715_679_000_000_000_000),
                last_ts_ns: Some(1_715_679_000_021_015_000),
                tcp_flows: 0,
                udp_flows: 1,
                facts: vec![Fact::DnsQuery("fragmented6.example.net")],
                partial: false,
            },
        },
        Fixture {
            path: "decode/ipv4-fragments-overlapping-with-different-bytes.pcap",
            description: "A fragmented DNS response whose second fragment arrives twice with different bytes.",
            build: decode_ipv4_fragments_overlap,
            truth: GroundTruth {
                frames: 5,
                first_ts_ns: Some(1_715_679_000_000_000_000),
                last_ts_ns: Some(1_715_679_000_018_045_000),
                tcp_flows: 0,
                udp_flows: 1,
                facts: vec![Fact::DnsQuery("overlap.example.net"), diag(Diagnostic::IpFragmentOverlapConflict)],
                partial: false,
            },
        },
        Fixture {
            path: "decode/ipv4-fragmented-datagram-with-a-missing-fragment.pcap",
            description: "A fragmented DNS response whose middle fragment never arrives.",
            build: decode_ipv4_fragment_missing,
            truth: GroundTruth {
                frames: 3,
                first_ts_ns: Some(1_715_679_000_000_000_000),
                last_ts_ns: Some(1_715_679_000_018_015_000),
                tcp_flows: 0,
                udp_flows: 1,
                facts: vec![Fact::DnsQuery("incomplete.example.net"), diag(Diagnostic::IpFragmentIncomplete)],
                partial: false,
            },
        },
        Fixture {
            path: "decode/tls-client-hello-split-over-two-segments-out-of-order.pcap",
            description: "A post-quantum TLS ClientHello (SNI, ALPN, 1216-byte key share) over two TCP segments, the second captured first (server vantage).",
            build: decode_tls_hello_out_of_order,
            truth: GroundTruth {
                frames: 16,
                first_ts_ns: Some(1_715_679_000_000_000_000),
                last_ts_ns: Some(1_715_679_000_161_474_000),
                tcp_flows: 1,
                udp_flows: 0,
                facts: vec![Fact::TlsSni("out-of-order.example.com")],
                partial: false,
            },
        },
        Fixture {
            path: "decode/http-request-head-split-over-three-segments.pcap",
            description: "An HTTP request head sent in three segments, split inside the Host and User-Agent header names.",
            build: decode_http_head_three_segments,
            truth: GroundTruth {
                frames: 11,
                first_ts_ns: Some(1_715_679_000_000_000_000),
                last_ts_ns: Some(1_715_679_000_084_670_000),
                tcp_flows: 1,
                udp_flows: 0,
                facts: vec![Fact::HttpHost("split-head.example.org")],
                partial: false,
            },
        },
        Fixture {
            path: "decode/dns-over-tcp-two-queries-split-across-segments.pcap",
            description: "DNS over TCP: two length-prefixed queries and two answers whose boundaries fall inside segments.",
            build: decode_dns_over_tcp_split,
            truth: GroundTruth {
                frames: 12,
                first_ts_ns: Some(1_715_679_000_000_000_000),
                last_ts_ns: Some(1_715_679_000_056_532_000),
                tcp_flows: 1,
                udp_flows: 0,
                facts: vec![Fact::DnsQuery("first-over-tcp.example.com"), Fact::DnsQuery("second-over-tcp.example.com")],
                partial: false,
            },
        },
        Fixture {
            path: "decode/tcp-sequence-numbers-wrapping-around-zero.pcap",
            description: "Both ISNs just below 2^32 so the request and the response cross the sequence-number wrap.",
            build: decode_tcp_wraparound,
            truth: GroundTruth {
                frames: 9,
                first_ts_ns: Some(1_715_679_000_000_000_000),
                last_ts_ns: Some(1_715_679_000_069_220_000),
                tcp_flows: 1,
                udp_flows: 0,
                facts: vec![Fact::HttpHost("wrap.example.com")],
                partial: false,
            },
        },
        Fixture {
            path: "decode/tcp-retransmission-and-reordering.pcap",
            description: "A retransmitted request, response segments captured out of order with SACK, and a spurious retransmission.",
            build: decode_tcp_retransmission_reordering,
            truth: GroundTruth {
                frames: 16,
                first_ts_ns: Some(1_715_679_000_000_000_000),
                last_ts_ns: Some(1_715_679_000_326_180_000),
                tcp_flows: 1,
                udp_flows: 0,
                facts: vec![Fact::HttpHost("retransmit.example.com")],
                partial: false,
            },
        },
        Fixture {
            path: "decode/tcp-retransmission-with-different-bytes.pcap",
            description: "A response segment \"retransmitted\" with the same sequence range but different bytes.",
            build: decode_tcp_retransmission_different_bytes,
            truth: GroundTruth {
                frames: 12,
                first_ts_ns: Some(1_715_679_000_000_000_000),
                last_ts_ns: Some(1_715_679_000_112_232_000),
                tcp_flows: 1,
                udp_flows: 0,
                facts: vec![Fact::HttpHost("conflict.example.com")],
                partial: false,
            },
        },
        Fixture {
            path: "decode/udp-dns-flow-first-seen-from-the-server.pcap",
            description: "A UDP DNS flow whose first captured packet is the resolver's answer; port 53 decides the roles.",
            build: decode_udp_dns_first_seen_from_server,
            truth: GroundTruth {
                frames: 3,
                first_ts_ns: Some(1_715_679_000_000_000_000),
                last_ts_ns: Some(1_715_679_000_009_150_000),
                tcp_flows: 0,
                udp_flows: 1,
                facts: vec![Fact::DnsQuery("first-seen.example.net")],
                partial: false,
            },
        },
        Fixture {
            path: "decode/tcp-flow-captured-mid-stream-without-handshake.pcap",
            description: "A keep-alive connection picked up mid-response, then a second request on it.",
            build: decode_tcp_mid_stream,
            truth: GroundTruth {
                frames: 9,
                first_ts_ns: Some(1_715_679_000_000_000_000),
                last_ts_ns: Some(1_715_679_000_855_132_000),
                tcp_flows: 1,
                udp_flows: 0,
                facts: vec![Fact::HttpHost("midstream.example.com")],
                partial: false,
            },
        },
        Fixture {
            path: "decode/tcp-port-reuse-after-fin-makes-two-flows.pcap",
            description: "Two connections on the same 5-tuple two seconds apart, the first closed with FINs: two TCP flows.",
            build: decode_tcp_port_reuse,
            truth: GroundTruth {
                frames: 18,
                first_ts_ns: Some(1_715_679_000_000_000_000),
                last_ts_ns: Some(1_715_679_002_132_440_000),
                tcp_flows: 2,
                udp_flows: 0,
                facts: vec![Fact::HttpHost("reuse.example.com")],
                partial: false,
            },
        },
        Fixture {
            path: "decode/dns-response-with-a-compression-pointer-loop.pcap",
            description: "A DNS response whose answer name is a compression pointer to itself.",
            build: decode_dns_pointer_loop,
            truth: GroundTruth {
                frames: 2,
                first_ts_ns: Some(1_715_679_000_000_000_000),
                last_ts_ns: Some(1_715_679_000_009_000_000),
                tcp_flows: 0,
                udp_flows: 1,
                facts: vec![Fact::DnsQuery("loop.example.com"), diag(Diagnostic::DnsMessageMalformed)],
                partial: false,
            },
        },
        Fixture {
            path: "sample/browsing.pcapng",
            description: "A clean little browsing session: DNS (A, AAAA, HTTPS), two TLS 1.3 sites (one over IPv6) and a plain HTTP page. No interference.",
            build: sample_browsing,
            truth: GroundTruth {
                frames: 78,
                first_ts_ns: Some(1_715_679_000_000_000_000),
                last_ts_ns: Some(1_715_679_002_532_432_000),
                tcp_flows: 3,
                udp_flows: 4,
                facts: vec![Fact::DnsQuery("www.example.com"), Fact::DnsQuery("static.example.net"), Fact::DnsQuery("plain.example.org"), Fact::TlsSni("www.example.com"), Fact::TlsSni("static.example.net"), Fact::HttpHost("plain.example.org")],
                partial: false,
            },
        },
        Fixture {
            path: "rst/gfw-rst-burst-after-http-host-at-client.pcap",
            description: "Client-side capture: a GET for blocked.example answered 3 ms later by three RST+ACKs with TTL 96 (server 52), one IP ID and window 0; the real response still arrives one RTT later and the client's stack resets it.",
            build: rst_gfw_burst_http_at_client,
            truth: GroundTruth {
                frames: 11,
                first_ts_ns: Some(1_715_679_000_000_000_000),
                last_ts_ns: Some(1_715_679_000_361_244_000),
                tcp_flows: 1,
                udp_flows: 0,
                facts: vec![Fact::Finding { kind: "tcp_rst_injected", min_confidence: "high", frames: &[4, 5, 6, 7] }, Fact::HttpHost("blocked.example")],
                partial: false,
            },
        },
        Fixture {
            path: "rst/forged-rst-race-after-sni-at-server.pcapng",
            description: "Server-side capture: 2 ms after a ClientHello for www.blocked.example a RST+ACK claiming to be the client (TTL 101 where the client's packets have 50, DF clear, foreign IP ID); the client's ACK of the server flight and its Finished still arrive.",
            build: rst_forged_race_after_sni_at_server,
            truth: GroundTruth {
                frames: 11,
                first_ts_ns: Some(1_715_679_000_000_000_000),
                last_ts_ns: Some(1_715_679_000_361_595_000),
                tcp_flows: 1,
                udp_flows: 0,
                facts: vec![Fact::Finding { kind: "tcp_rst_injected", min_confidence: "high", frames: &[4, 7] }, Fact::TlsSni("www.blocked.example")],
                partial: false,
            },
        },
        Fixture {
            path: "rst/rst-seq-change-ipv6-at-client.pcapng",
            description: "IPv6 client-side capture: after a GET two RST+ACKs 10 ms apart at 3000 and 9000 bytes past anything the server sent; the client answers with a challenge ACK and retransmits the request to a silent server.",
            build: rst_seq_change_ipv6_at_client,
            truth: GroundTruth {
                frames: 9,
                first_ts_ns: Some(1_715_679_000_000_000_000),
                last_ts_ns: Some(1_715_679_001_800_191_000),
                tcp_flows: 1,
                udp_flows: 0,
                facts: vec![Fact::Finding { kind: "tcp_rst_injected", min_confidence: "high", frames: &[4, 5, 7] }, Fact::HttpHost("blocked.example")],
                partial: false,
            },
        },
        Fixture {
            path: "rst/gfw-rst-seq-offsets-1460-4380.pcap",
            description: "GFW fingerprint: after a GET for blocked.example a RST (TTL 80, IP ID 0, DF clear, window 3817) and three RST+ACKs at X, X+1460 and X+4380 with TTLs 101, 102, 103.",
            build: rst_gfw_seq_offsets,
            truth: GroundTruth {
                frames: 8,
                first_ts_ns: Some(1_715_679_000_000_000_000),
                last_ts_ns: Some(1_715_679_000_183_301_000),
                tcp_flows: 1,
                udp_flows: 0,
                facts: vec![Fact::Finding { kind: "tcp_rst_injected", min_confidence: "high", frames: &[4, 5, 6, 7, 8] }, Fact::HttpHost("blocked.example")],
                partial: false,
            },
        },
        Fixture {
            path: "rst/henan-firewall-rst-with-payload.pcap",
            description: "Henan firewall fingerprint: 3 ms after a ClientHello for blocked.example a RST+ACK with TTL 58 (server 47), IP ID 1, DF clear and the 10-byte payload 01 02 03 04 05 06 07 08 09 00.",
            build: rst_henan_with_payload,
            truth: GroundTruth {
                frames: 5,
                first_ts_ns: Some(1_715_679_000_000_000_000),
                last_ts_ns: Some(1_715_679_000_183_191_000),
                tcp_flows: 1,
                udp_flows: 0,
                facts: vec![Fact::Finding { kind: "tcp_rst_injected", min_confidence: "high", frames: &[4, 5] }, Fact::TlsSni("blocked.example")],
                partial: false,
            },
        },
        Fixture {
            path: "rst/turkmenistan-rst-ipid-30000.pcap",
            description: "Turkmenistan fingerprint: 4 ms after a GET for blocked.example a RST with sequence number 0, window 0, IP ID 30000 and TTL 102 (server 50); the client retransmits the request.",
            build: rst_turkmenistan_ipid,
            truth: GroundTruth {
                frames: 7,
                first_ts_ns: Some(1_715_679_000_000_000_000),
                last_ts_ns: Some(1_715_679_001_800_191_000),
                tcp_flows: 1,
                udp_flows: 0,
                facts: vec![Fact::Finding { kind: "tcp_rst_injected", min_confidence: "high", frames: &[4, 5] }, Fact::HttpHost("blocked.example")],
                partial: false,
            },
        },
        Fixture {
            path: "rst/airtel-rst-ipid-242-at-server.pcap",
            description: "Airtel fingerprint, server-side capture: 0.3 ms after a GET for blocked.example a RST+ACK claiming to be the client with IP ID 242, TTL 49 (client 44), DF clear, window 16 and the request's first sequence number; the client then ACKs the response and closes.",
            build: rst_airtel_ipid_at_server,
            truth: GroundTruth {
                frames: 13,
                first_ts_ns: Some(1_715_679_000_000_000_000),
                last_ts_ns: Some(1_715_679_000_543_297_000),
                tcp_flows: 1,
                udp_flows: 0,
                facts: vec![Fact::Finding { kind: "tcp_rst_injected", min_confidence: "high", frames: &[4, 5] }, Fact::HttpHost("blocked.example")],
                partial: false,
            },
        },
        Fixture {
            path: "rst/rst-with-foreign-ttl-and-ipid-soon-after-request.pcap",
            description: "One RST+ACK 4 ms after a GET for blocked.example (RTT 180 ms) with TTL 120 (server 52) and an IP ID far from the server's; no race, the server stays silent.",
            build: rst_foreign_ttl_and_ipid,
            truth: GroundTruth {
                frames: 5,
                first_ts_ns: Some(1_715_679_000_000_000_000),
                last_ts_ns: Some(1_715_679_000_184_191_000),
                tcp_flows: 1,
                udp_flows: 0,
                facts: vec![Fact::Finding { kind: "tcp_rst_injected", min_confidence: "medium", frames: &[4, 5] }, Fact::HttpHost("blocked.example")],
                partial: false,
            },
        },
        Fixture {
            path: "rst/forged-fin-before-real-response.pcap",
            description: "A FIN+ACK with TTL 110 and a foreign IP ID 3 ms after a GET for blocked.example; the real response, at the sequence number the FIN took, arrives one RTT after the request and the client resets it.",
            build: rst_forged_fin,
            truth: GroundTruth {
                frames: 8,
                first_ts_ns: Some(1_715_679_000_000_000_000),
                last_ts_ns: Some(1_715_679_000_361_232_000),
                tcp_flows: 1,
                udp_flows: 0,
                facts: vec![Fact::Finding { kind: "tcp_fin_injected", min_confidence: "high", frames: &[4, 5] }, Fact::HttpHost("blocked.example")],
                partial: false,
            },
        },
        Fixture {
            path: "rst/injected-segment-races-real-response.pcap",
            description: "A 403 page with TTL 99 at the server's next sequence number 3 ms after a GET for blocked.example, then the real 200 response over the same bytes with TTL 52 one RTT later; the client D-SACKs it.",
            build: rst_injected_segment_races_response,
            truth: GroundTruth {
                frames: 11,
                first_ts_ns: Some(1_715_679_000_000_000_000),
                last_ts_ns: Some(1_715_679_000_364_432_000),
                tcp_flows: 1,
                udp_flows: 0,
                facts: vec![Fact::Finding { kind: "tcp_data_injected", min_confidence: "high", frames: &[4, 5, 8] }, Fact::HttpHost("blocked.example")],
                partial: false,
            },
        },
        Fixture {
            path: "rst/forged-synack-then-residual-reset.pcap",
            description: "A GFW RST burst after a GET for blocked.example, then 30 s later a new connection to the same server and port: a SYN-ACK with a wrong ISN and TTL 96 before the real one, and a RST+ACK with TTL 97 2 ms after the client's ACK.",
            build: rst_forged_synack_residual,
            truth: GroundTruth {
                frames: 17,
                first_ts_ns: Some(1_715_679_000_000_000_000),
                last_ts_ns: Some(1_715_679_030_180_041_000),
                tcp_flows: 2,
                udp_flows: 0,
                facts: vec![Fact::Finding { kind: "tcp_rst_injected", min_confidence: "high", frames: &[4, 5, 6, 7] }, Fact::Finding { kind: "tcp_synack_forged", min_confidence: "medium", frames: &[13] }, Fact::Finding { kind: "tcp_residual_block", min_confidence: "medium", frames: &[15] }, Fact::HttpHost("blocked.example")],
                partial: false,
            },
        },
        Fixture {
            path: "rst/lone-rst-with-only-a-ttl-difference.pcap",
            description: "A RST+ACK 250 ms after a GET for blocked.example (after the RTT and the server's ACK) whose IP ID and DF continue the server's but whose TTL is 45 instead of 52.",
            build: rst_lone_ttl_difference,
            truth: GroundTruth {
                frames: 6,
                first_ts_ns: Some(1_715_679_000_000_000_000),
                last_ts_ns: Some(1_715_679_000_430_191_000),
                tcp_flows: 1,
                udp_flows: 0,
                facts: vec![Fact::Finding { kind: "tcp_rst_injected", min_confidence: "low", frames: &[4, 6] }, Fact::HttpHost("blocked.example")],
                partial: false,
            },
        },
        Fixture {
            path: "rst/server-rst-after-its-fin-is-benign.pcap",
            description: "Benign: a 200 response for allowed.example, the server's FIN, the client's FIN+ACK, then the server's RST+ACK with its own TTL and next IP ID (an abortive close).",
            build: rst_benign_after_server_fin,
            truth: GroundTruth {
                frames: 8,
                first_ts_ns: Some(1_715_679_000_000_000_000),
                last_ts_ns: Some(1_715_679_000_541_323_000),
                tcp_flows: 1,
                udp_flows: 0,
                facts: vec![Fact::NoFinding { class: "rst_injection" }, Fact::HttpHost("allowed.example")],
                partial: false,
            },
        },
        Fixture {
            path: "rst/connection-refused-is-benign.pcapng",
            description: "Benign, IPv6: two SYNs to port 80 refused with RST+ACK (seq 0, hop limit 55 like the server's), then a working TLS connection for allowed.example to port 443 of the same address.",
            build: rst_benign_connection_refused,
            truth: GroundTruth {
                frames: 19,
                first_ts_ns: Some(1_715_679_000_000_000_000),
                last_ts_ns: Some(1_715_679_003_202_638_000),
                tcp_flows: 3,
                udp_flows: 0,
                facts: vec![Fact::NoFinding { class: "rst_injection" }, Fact::TlsSni("allowed.example")],
                partial: false,
            },
        },
        Fixture {
            path: "rst/load-balancer-idle-rst-is-benign.pcap",
            description: "Benign: a keep-alive HTTP exchange for allowed.example, 120 s idle, then a RST+ACK from the server side with TTL 52 and the server's next IP ID.",
            build: rst_benign_idle_timeout,
            truth: GroundTruth {
                frames: 7,
                first_ts_ns: Some(1_715_679_000_000_000_000),
                last_ts_ns: Some(1_715_679_120_361_232_000),
                tcp_flows: 1,
                udp_flows: 0,
                facts: vec![Fact::NoFinding { class: "rst_injection" }, Fact::HttpHost("allowed.example")],
                partial: false,
            },
        },
        Fixture {
            path: "rst/rst-from-capturing-host-is-benign.pcap",
            description: "Benign: a GET for allowed.example, part of the response, then the capturing client aborts with its own RST+ACK (TTL 64); the server stays silent.",
            build: rst_benign_from_capturing_host,
            truth: GroundTruth {
                frames: 8,
                first_ts_ns: Some(1_715_679_000_000_000_000),
                last_ts_ns: Some(1_715_679_004_361_244_000),
                tcp_flows: 1,
                udp_flows: 0,
                facts: vec![Fact::NoFinding { class: "rst_injection" }, Fact::HttpHost("allowed.example")],
                partial: false,
            },
        },
        Fixture {
            path: "rst/linux-server-rst-with-ip-id-zero-at-server-is-benign.pcap",
            description: "Benign, server-side capture of a Linux server: it answers data after its FIN with a RST with IP ID 0 and TTL 64, and the client aborts with a RST+ACK with its own TTL 50 and next IP ID.",
            build: rst_benign_linux_server_ipid_zero,
            truth: GroundTruth {
                frames: 11,
                first_ts_ns: Some(1_715_679_000_000_000_000),
                last_ts_ns: Some(1_715_679_000_364_456_000),
                tcp_flows: 1,
                udp_flows: 0,
                facts: vec![Fact::NoFinding { class: "rst_injection" }, Fact::HttpHost("allowed.example")],
                partial: false,
            },
        },
        Fixture {
            path: "rst/path-change-ttl-off-by-one-is-benign.pcap",
            description: "Benign: the server's TTL goes from 52 to 51 after a route change between two requests; its RST+ACK 2 s after the second request has TTL 51 and its next IP ID.",
            build: rst_benign_path_change,
            truth: GroundTruth {
                frames: 10,
                first_ts_ns: Some(1_715_679_000_000_000_000),
                last_ts_ns: Some(1_715_679_002_861_232_000),
                tcp_flows: 1,
                udp_flows: 0,
                facts: vec![Fact::NoFinding { class: "rst_injection" }, Fact::HttpHost("allowed.example")],
                partial: false,
            },
        },
        Fixture {
            path: "rst/mid-stream-flow-with-plain-rst-is-benign.pcap",
            description: "Benign: a flow picked up mid-stream; after 30 s idle the client sends a request and the server, which dropped the connection, answers with a RST with its own TTL 52 and next IP ID.",
            build: rst_benign_mid_stream,
            truth: GroundTruth {
                frames: 7,
                first_ts_ns: Some(1_715_679_000_000_000_000),
                last_ts_ns: Some(1_715_679_030_180_065_000),
                tcp_flows: 1,
                udp_flows: 0,
                facts: vec![Fact::NoFinding { class: "rst_injection" }, Fact::HttpHost("allowed.example")],
                partial: false,
            },
        },
        Fixture {
            path: "dns/race-forged-first-then-real-a.pcap",
            description: "Three clean lookups at 8.8.8.8 (TTL 117, RTT about 43 ms), then an A query for www.blocked-site.com answered 8 ms later by a forged 8.7.198.45 (flags 0x8180, no OPT echo, TTL 102, DF set) and after the RTT by the real 93.184.215.14; the client connects to the poison address and gets no answer. A DNS answer race.",
            build: dns_race_forged_first_then_real_a,
            truth: GroundTruth {
                frames: 11,
                first_ts_ns: Some(1_715_679_000_000_000_000),
                last_ts_ns: Some(1_715_679_007_128_310_000),
                tcp_flows: 1,
                udp_flows: 4,
                facts: vec![Fact::Finding { kind: "dns_answer_race", min_confidence: "high", frames: &[7, 8, 9, 10] }, Fact::DnsQuery("www.weather-site.com"), Fact::DnsQuery("api.shop-site.net"), Fact::DnsQuery("img.photo-site.org"), Fact::DnsQuery("www.blocked-site.com")],
                partial: false,
            },
        },
        Fixture {
            path: "dns/race-answer-vs-nxdomain-ipv6.pcapng",
            description: "IPv6: three clean AAAA lookups at 2001:4860:4860::8888 (hop limit 117), then an AAAA query for foo.censored-site.org answered 7 ms later by a forged AAAA (hop limit 94, no OPT echo) and after the RTT by the real NXDOMAIN with the zone's SOA. A DNS answer race.",
            build: dns_race_answer_vs_nxdomain_ipv6,
            truth: GroundTruth {
                frames: 9,
                first_ts_ns: Some(1_715_679_000_000_000_000),
                last_ts_ns: Some(1_715_679_006_167_377_000),
                tcp_flows: 0,
                udp_flows: 4,
                facts: vec![Fact::Finding { kind: "dns_answer_race", min_confidence: "high", frames: &[7, 8, 9] }, Fact::DnsQuery("www.weather-site.com"), Fact::DnsQuery("api.shop-site.net"), Fact::DnsQuery("img.photo-site.org"), Fact::DnsQuery("foo.censored-site.org")],
                partial: false,
            },
        },
        Fixture {
            path: "dns/race-cname-chain.pcapng",
            description: "Three clean lookups at 1.1.1.1 (TTL 57), then an A query for www.news-site.com answered 5 ms later by a forged single A 46.82.174.68 (TTL 75) and after the RTT by the real CNAME chain to news-site.cdn-host.net with 151.101.1.140 and 151.101.65.140. A DNS answer race.",
            build: dns_race_cname_chain,
            truth: GroundTruth {
                frames: 9,
                first_ts_ns: Some(1_715_679_000_000_000_000),
                last_ts_ns: Some(1_715_679_006_170_046_000),
                tcp_flows: 0,
                udp_flows: 4,
                facts: vec![Fact::Finding { kind: "dns_answer_race", min_confidence: "high", frames: &[7, 8, 9] }, Fact::DnsQuery("www.weather-site.com"), Fact::DnsQuery("api.shop-site.net"), Fact::DnsQuery("img.photo-site.org"), Fact::DnsQuery("www.news-site.com")],
                partial: false,
            },
        },
        Fixture {
            path: "dns/gfw-a-record-for-aaaa-query.pcap",
            description: "Three clean lookups at 8.8.8.8, then an AAAA query with EDNS for www.banned-news.com answered 6 ms later by one response holding an A record, no OPT record and TTL 99; the real answer never comes. A forged response by its format.",
            build: dns_gfw_a_record_for_aaaa_query,
            truth: GroundTruth {
                frames: 8,
                first_ts_ns: Some(1_715_679_000_000_000_000),
                last_ts_ns: Some(1_715_679_006_126_000_000),
                tcp_flows: 0,
                udp_flows: 4,
                facts: vec![Fact::Finding { kind: "dns_forged_response", min_confidence: "high", frames: &[7, 8] }, Fact::DnsQuery("www.weather-site.com"), Fact::DnsQuery("api.shop-site.net"), Fact::DnsQuery("img.photo-site.org"), Fact::DnsQuery("www.banned-news.com")],
                partial: false,
            },
        },
        Fixture {
            path: "dns/gfw-a-record-for-https-query.pcap",
            description: "Three clean lookups at 8.8.8.8, then an HTTPS (type 65) query for chat.blocked-app.com answered 5 ms later by one response holding an A record (flags 0x8180, no OPT record); the real answer never comes. A forged response by its format.",
            build: dns_gfw_a_record_for_https_query,
            truth: GroundTruth {
                frames: 8,
                first_ts_ns: Some(1_715_679_000_000_000_000),
                last_ts_ns: Some(1_715_679_006_125_000_000),
                tcp_flows: 0,
                udp_flows: 4,
                facts: vec![Fact::Finding { kind: "dns_forged_response", min_confidence: "high", frames: &[7, 8] }, Fact::DnsQuery("www.weather-site.com"), Fact::DnsQuery("api.shop-site.net"), Fact::DnsQuery("img.photo-site.org"), Fact::DnsQuery("chat.blocked-app.com")],
                partial: false,
            },
        },
        Fixture {
            path: "dns/injected-answer-with-trailing-bytes.pcap",
            description: "Three clean lookups at 1.1.1.1, then an A query for forum.blocked-board.net answered 4 ms later by one A response followed by 24 leaked bytes after its last record; no other answer. A forged response by its content.",
            build: dns_injected_answer_with_trailing_bytes,
            truth: GroundTruth {
                frames: 8,
                first_ts_ns: Some(1_715_679_000_000_000_000),
                last_ts_ns: Some(1_715_679_006_124_000_000),
                tcp_flows: 0,
                udp_flows: 4,
                facts: vec![Fact::Finding { kind: "dns_forged_response", min_confidence: "high", frames: &[7, 8] }, Fact::DnsQuery("www.weather-site.com"), Fact::DnsQuery("api.shop-site.net"), Fact::DnsQuery("img.photo-site.org"), Fact::DnsQuery("forum.blocked-board.net")],
                partial: false,
            },
        },
        Fixture {
            path: "dns/turkmenistan-loopback-ipid-30000.pcap",
            description: "Turkmenistan injector: three clean lookups at 8.8.8.8 (RTT about 71 ms), then an A query for www.blocked-portal.com answered 4 ms later with A 127.0.0.1 (DNS TTL 300), IP ID 30000 and TTL 125. A forged response from a known device.",
            build: dns_turkmenistan_loopback_ipid_30000,
            truth: GroundTruth {
                frames: 8,
                first_ts_ns: Some(1_715_679_000_000_000_000),
                last_ts_ns: Some(1_715_679_006_124_000_000),
                tcp_flows: 0,
                udp_flows: 4,
                facts: vec![Fact::Finding { kind: "dns_forged_response", min_confidence: "high", frames: &[7, 8] }, Fact::DnsQuery("www.weather-site.com"), Fact::DnsQuery("api.shop-site.net"), Fact::DnsQuery("img.photo-site.org"), Fact::DnsQuery("www.blocked-portal.com")],
                partial: false,
            },
        },
        Fixture {
            path: "dns/forged-by-timing-and-headers.pcap",
            description: "Four clean lookups at 8.8.8.8 (RTT about 80 ms, TTL 116, RA set, OPT echoed), then an A query for www.micro-blog-site.com answered once, after 3 ms, with TTL 62, RA clear and no OPT (A 104.244.42.1). A forged response by several anomalies.",
            build: dns_forged_by_timing_and_headers,
            truth: GroundTruth {
                frames: 10,
                first_ts_ns: Some(1_715_679_000_000_000_000),
                last_ts_ns: Some(1_715_679_006_123_000_000),
                tcp_flows: 0,
                udp_flows: 5,
                facts: vec![Fact::Finding { kind: "dns_forged_response", min_confidence: "medium", frames: &[9, 10] }, Fact::DnsQuery("www.weather-site.com"), Fact::DnsQuery("api.shop-site.net"), Fact::DnsQuery("img.photo-site.org"), Fact::DnsQuery("mail.post-site.com"), Fact::DnsQuery("www.micro-blog-site.com")],
                partial: false,
            },
        },
        Fixture {
            path: "dns/known-poison-address-single-response.pcap",
            description: "Three clean lookups at 114.114.114.114, then www.video-share-site.com answered with the GFW poison address 37.61.54.158 with the resolver's own TTL, flags, OPT echo and round trip. A known blocking address.",
            build: dns_known_poison_address_single_response,
            truth: GroundTruth {
                frames: 8,
                first_ts_ns: Some(1_715_679_000_000_000_000),
                last_ts_ns: Some(1_715_679_006_162_529_000),
                tcp_flows: 0,
                udp_flows: 4,
                facts: vec![Fact::Finding { kind: "dns_blocking_address", min_confidence: "high", frames: &[8] }, Fact::DnsQuery("www.weather-site.com"), Fact::DnsQuery("api.shop-site.net"), Fact::DnsQuery("img.photo-site.org"), Fact::DnsQuery("www.video-share-site.com")],
                partial: false,
            },
        },
        Fixture {
            path: "dns/iran-blockpage-address-over-tcp.pcap",
            description: "Two clean UDP lookups at 8.8.8.8, then DNS over TCP (handshake, length-prefixed query and response, close) for www.social-network-site.com answered with 10.10.34.34, Iran's blockpage address. A known blocking address.",
            build: dns_iran_blockpage_address_over_tcp,
            truth: GroundTruth {
                frames: 13,
                first_ts_ns: Some(1_715_679_000_000_000_000),
                last_ts_ns: Some(1_715_679_006_406_363_000),
                tcp_flows: 1,
                udp_flows: 2,
                facts: vec![Fact::Finding { kind: "dns_blocking_address", min_confidence: "high", frames: &[9] }, Fact::DnsQuery("www.weather-site.com"), Fact::DnsQuery("api.shop-site.net"), Fact::DnsQuery("www.social-network-site.com")],
                partial: false,
            },
        },
        Fixture {
            path: "dns/bogon-answer-from-public-resolver.pcap",
            description: "Three clean lookups at 9.9.9.9, then www.blocked-site.com answered with 127.0.0.2 with the resolver's own TTL, flags, OPT echo and round trip. A bogon answer from a public resolver, nothing else wrong.",
            build: dns_bogon_answer_from_public_resolver,
            truth: GroundTruth {
                frames: 8,
                first_ts_ns: Some(1_715_679_000_000_000_000),
                last_ts_ns: Some(1_715_679_006_173_529_000),
                tcp_flows: 0,
                udp_flows: 4,
                facts: vec![Fact::Finding { kind: "dns_bogon_answer", min_confidence: "low", frames: &[8] }, Fact::DnsQuery("www.weather-site.com"), Fact::DnsQuery("api.shop-site.net"), Fact::DnsQuery("img.photo-site.org"), Fact::DnsQuery("www.blocked-site.com")],
                partial: false,
            },
        },
        Fixture {
            path: "dns/nxdomain-rewrite-by-isp-resolver.pcap",
            description: "An ISP resolver (194.168.4.100) answers the AAAA query for wwww.typo-domain-xyz.com with NXDOMAIN but the A query with 92.242.140.21; 8.8.8.8 then answers the same A query with NXDOMAIN. An NXDOMAIN rewrite.",
            build: dns_nxdomain_rewrite_by_isp_resolver,
            truth: GroundTruth {
                frames: 12,
                first_ts_ns: Some(1_715_679_000_000_000_000),
                last_ts_ns: Some(1_715_679_009_165_188_000),
                tcp_flows: 0,
                udp_flows: 5,
                facts: vec![Fact::Finding { kind: "dns_nxdomain_rewrite", min_confidence: "medium", frames: &[9, 10, 12] }, Fact::DnsQuery("www.weather-site.com"), Fact::DnsQuery("api.shop-site.net"), Fact::DnsQuery("img.photo-site.org"), Fact::DnsQuery("wwww.typo-domain-xyz.com")],
                partial: false,
            },
        },
        Fixture {
            path: "dns/retransmitted-query-answered-twice-identically.pcap",
            description: "Benign: an A query for www.slow-zone-site.com sent again with the same ID and port after 1 s to a slow resolver; both answers arrive after the retransmission with the same address and the resolver's headers. No DNS injection.",
            build: dns_retransmitted_query_answered_twice_identically,
            truth: GroundTruth {
                frames: 10,
                first_ts_ns: Some(1_715_679_000_000_000_000),
                last_ts_ns: Some(1_715_679_007_164_062_000),
                tcp_flows: 0,
                udp_flows: 4,
                facts: vec![Fact::NoFinding { class: "dns_injection" }, Fact::DnsQuery("www.weather-site.com"), Fact::DnsQuery("api.shop-site.net"), Fact::DnsQuery("img.photo-site.org"), Fact::DnsQuery("www.slow-zone-site.com")],
                partial: false,
            },
        },
        Fixture {
            path: "dns/duplicate-response-identical.pcapng",
            description: "Benign: one A query for static.cdn-site.net and two byte-identical responses 0.1 ms apart (a packet the network duplicated). No DNS injection.",
            build: dns_duplicate_response_identical,
            truth: GroundTruth {
                frames: 9,
                first_ts_ns: Some(1_715_679_000_000_000_000),
                last_ts_ns: Some(1_715_679_006_167_833_000),
                tcp_flows: 0,
                udp_flows: 4,
                facts: vec![Fact::NoFinding { class: "dns_injection" }, Fact::DnsQuery("www.weather-site.com"), Fact::DnsQuery("api.shop-site.net"), Fact::DnsQuery("img.photo-site.org"), Fact::DnsQuery("static.cdn-site.net")],
                partial: false,
            },
        },
        Fixture {
            path: "dns/cdn-answers-differ-between-queries.pcap",
            description: "Benign: cdn-site.net looked up twice a minute apart from different ports with different IDs; the CDN answers with a different pair of addresses each time. No DNS injection.",
            build: dns_cdn_answers_differ_between_queries,
            truth: GroundTruth {
                frames: 10,
                first_ts_ns: Some(1_715_679_000_000_000_000),
                last_ts_ns: Some(1_715_679_066_165_117_000),
                tcp_flows: 0,
                udp_flows: 5,
                facts: vec![Fact::NoFinding { class: "dns_injection" }, Fact::DnsQuery("www.weather-site.com"), Fact::DnsQuery("api.shop-site.net"), Fact::DnsQuery("img.photo-site.org"), Fact::DnsQuery("cdn-site.net")],
                partial: false,
            },
        },
        Fixture {
            path: "dns/parallel-resolvers-different-answers.pcap",
            description: "Benign: video.stream-site.com asked of 8.8.8.8 and 1.1.1.1 at the same moment; each returns a different pair of CDN addresses. No DNS injection.",
            build: dns_parallel_resolvers_different_answers,
            truth: GroundTruth {
                frames: 12,
                first_ts_ns: Some(1_715_679_000_000_000_000),
                last_ts_ns: Some(1_715_679_006_168_407_000),
                tcp_flows: 0,
                udp_flows: 6,
                facts: vec![Fact::NoFinding { class: "dns_injection" }, Fact::DnsQuery("www.weather-site.com"), Fact::DnsQuery("api.shop-site.net"), Fact::DnsQuery("img.photo-site.org"), Fact::DnsQuery("mail.post-site.com"), Fact::DnsQuery("video.stream-site.com")],
                partial: false,
            },
        },
        Fixture {
            path: "dns/genuine-nxdomain-and-servfail.pcap",
            description: "Benign: missing.quiet-site.net is NXDOMAIN with the zone's SOA at both 8.8.8.8 and 1.1.1.1, and www.broken-dnssec-site.org gets SERVFAIL after 654 ms. No DNS injection.",
            build: dns_genuine_nxdomain_and_servfail,
            truth: GroundTruth {
                frames: 14,
                first_ts_ns: Some(1_715_679_000_000_000_000),
                last_ts_ns: Some(1_715_679_011_774_000_000),
                tcp_flows: 0,
                udp_flows: 7,
                facts: vec![Fact::NoFinding { class: "dns_injection" }, Fact::DnsQuery("www.weather-site.com"), Fact::DnsQuery("api.shop-site.net"), Fact::DnsQuery("img.photo-site.org"), Fact::DnsQuery("mail.post-site.com"), Fact::DnsQuery("missing.quiet-site.net"), Fact::DnsQuery("www.broken-dnssec-site.org")],
                partial: false,
            },
        },
        Fixture {
            path: "dns/split-horizon-private-answer-from-local-resolver.pcap",
            description: "Benign: the home router's resolver 192.168.1.1 answers intranet.corp-internal.net with 10.1.2.3 from its local zone with its usual TTL 64, IP IDs, flags and timing, after two forwarded lookups and one from its cache. No DNS injection.",
            build: dns_split_horizon_private_answer_from_local_resolver,
            truth: GroundTruth {
                frames: 8,
                first_ts_ns: Some(1_715_679_000_000_000_000),
                last_ts_ns: Some(1_715_679_006_120_518_000),
                tcp_flows: 0,
                udp_flows: 4,
                facts: vec![Fact::NoFinding { class: "dns_injection" }, Fact::DnsQuery("www.weather-site.com"), Fact::DnsQuery("api.shop-site.net"), Fact::DnsQuery("intranet.corp-internal.net")],
                partial: false,
            },
        },
        Fixture {
            path: "dns/dns64-synthesized-aaaa.pcapng",
            description: "Benign: an IPv6-only client's DNS64 resolver 2001:4860:4860::6464 answers AAAA for legacy.ipv4only-site.com with 64:ff9b::5db8:d70e, with its usual hop limit, flags and timing. No DNS injection.",
            build: dns_dns64_synthesized_aaaa,
            truth: GroundTruth {
                frames: 8,
                first_ts_ns: Some(1_715_679_000_000_000_000),
                last_ts_ns: Some(1_715_679_006_166_893_000),
                tcp_flows: 0,
                udp_flows: 4,
                facts: vec![Fact::NoFinding { class: "dns_injection" }, Fact::DnsQuery("www.weather-site.com"), Fact::DnsQuery("api.shop-site.net"), Fact::DnsQuery("img.photo-site.org"), Fact::DnsQuery("legacy.ipv4only-site.com")],
                partial: false,
            },
        },
        Fixture {
            path: "dns/retransmit-with-round-robin-answers.pcap",
            description: "Benign: an A query for www.rotating-site.com sent again with the same ID after 1 s; the resolver answers both with overlapping address pairs from its round-robin set (a and b, then b and c), same TTL, normal timing. No DNS injection.",
            build: dns_retransmit_with_round_robin_answers,
            truth: GroundTruth {
                frames: 10,
                first_ts_ns: Some(1_715_679_000_000_000_000),
                last_ts_ns: Some(1_715_679_007_173_062_000),
                tcp_flows: 0,
                udp_flows: 4,
                facts: vec![Fact::NoFinding { class: "dns_injection" }, Fact::DnsQuery("www.weather-site.com"), Fact::DnsQuery("api.shop-site.net"), Fact::DnsQuery("img.photo-site.org"), Fact::DnsQuery("www.rotating-site.com")],
                partial: false,
            },
        },
        Fixture {
            path: "dns/anycast-resolver-ttl-change.pcap",
            description: "Benign: five lookups at 1.1.1.1; the fourth answer arrives with TTL 53 instead of 57 (another anycast instance) but with normal timing, flags and OPT echo. No DNS injection.",
            build: dns_anycast_resolver_ttl_change,
            truth: GroundTruth {
                frames: 10,
                first_ts_ns: Some(1_715_679_000_000_000_000),
                last_ts_ns: Some(1_715_679_004_698_803_000),
                tcp_flows: 0,
                udp_flows: 5,
                facts: vec![Fact::NoFinding { class: "dns_injection" }, Fact::DnsQuery("www.weather-site.com"), Fact::DnsQuery("api.shop-site.net"), Fact::DnsQuery("img.photo-site.org"), Fact::DnsQuery("mail.post-site.com"), Fact::DnsQuery("docs.tools-site.io")],
                partial: false,
            },
        },
    ]
    .into_iter()
    .chain(super::fixtures_tls::tls_fixtures())
    .chain(super::fixtures_blockpage::blockpage_fixtures())
    .chain(super::fixtures_throttling::throttling_fixtures())
    .chain(super::fixtures_blackhole::blackhole_fixtures())
    .chain(super::fixtures_quic::quic_fixtures())
    .chain(std::iter::once(Fixture {
        path: "sample/incident.pcapng",
        description: "A synthetic incident with one finding of every class: the fixtures dns/race-forged-first-then-real-a, rst/gfw-rst-burst-after-http-host-at-client, blockpage/russia-warning-redirect, blackhole/clienthello-dropped-same-server-answers, throttling/policed-2mbit-tls-at-client and throttling/freeze-16kb-at-client laid end to end, 5 s apart, in one pcapng. Now that the capture goes on past the forged DNS answer, the client's unanswered SYNs to the forged address are reported too (tcp_syn_unanswered, low). The README's first command makes its HTML report.",
        build: super::fixtures_sample::sample_incident,
        truth: GroundTruth {
            frames: 270,
            first_ts_ns: Some(1_715_679_000_000_000_000),
            last_ts_ns: Some(1_715_679_077_621_036_000),
            tcp_flows: 7,
            udp_flows: 6,
            facts: vec![
                Fact::DnsQuery("www.blocked-site.com"),
                Fact::HttpHost("blocked.example"),
                Fact::Finding { kind: "dns_answer_race", min_confidence: "high", frames: &[2, 4, 6, 7, 8, 9, 10] },
                Fact::Finding { kind: "tcp_syn_unanswered", min_confidence: "low", frames: &[8, 9, 11] },
                Fact::Finding { kind: "tcp_rst_injected", min_confidence: "high", frames: &[13, 15, 16, 17, 18, 19, 20] },
                Fact::Finding { kind: "tcp_fin_injected", min_confidence: "high", frames: &[24, 26, 28, 31, 33] },
                Fact::Finding { kind: "http_blockpage", min_confidence: "high", frames: &[24, 26, 27, 28, 31, 33] },
                Fact::Finding { kind: "tcp_dropped_after_trigger", min_confidence: "high", frames: &[36, 38, 50, 52, 53, 54, 55, 56] },
                Fact::Finding { kind: "tcp_policing", min_confidence: "high", frames: &[63, 114, 132, 220, 234] },
                Fact::Finding { kind: "transfer_freeze", min_confidence: "high", frames: &[244, 263, 266, 270] },
            ],
            partial: false,
        },
    }))
    .collect()
}

/// What each fixture directory holds (README section headings).
const SECTIONS: [(&str, &str); 10] = [
    (
        "capture",
        "Capture file formats, compression and damaged files",
    ),
    ("link", "Link-layer encapsulations"),
    ("decode", "IP, TCP and application decoding"),
    ("sample", "Samples"),
    ("rst", "TCP RST, FIN, SYN-ACK and data injection"),
    (
        "dns",
        "Forged DNS answers, blocking addresses and benign look-alikes",
    ),
    ("tls", "TLS certificates in answer to the ClientHello"),
    (
        "blockpage",
        "Blockpages, injected responses and forced redirects, with benign look-alikes",
    ),
    (
        "throttling",
        "Policing, targeted throttling, freezes and slow handshakes, with benign look-alikes",
    ),
    (
        "blackhole",
        "Silent drops: unanswered SYNs, dropped requests, prohibited ICMP, cuts, collateral blocking and dropped QUIC Initials, with benign look-alikes",
    ),
];

/// The expected-facts cell of a fixture's README row.
fn facts_cell(t: &GroundTruth) -> String {
    let mut facts = vec![format!(
        "{} frames; {} TCP + {} UDP flows",
        t.frames, t.tcp_flows, t.udp_flows
    )];
    if let (Some(a), Some(b)) = (t.first_ts_ns, t.last_ts_ns) {
        facts.push(format!("first {a}, last {b}"));
    }
    facts.extend(t.facts.iter().map(Fact::describe));
    if t.partial {
        facts.push("only partly readable".to_string());
    }
    facts.join("; ")
}

/// Renders `fixtures/README.md` from [`catalogue`]: one table per directory
/// with the path, what the fixture shows and the expected facts.
pub fn readme() -> String {
    let mut s = String::new();
    s.push_str("# Fixtures\n\n");
    s.push_str(
        "Generated by `tamper::synth::fixtures`; do not edit by hand: change the \
         catalogue and regenerate. Every file is built deterministically, so the \
         bytes here are exactly what the code produces.\n\n\
         - *frames* counts packet records only (pcap records, pcapng Enhanced, \
         Simple and obsolete Packet Blocks); Wireshark also lists pcapng Custom \
         Blocks as frames.\n\
         - *first* / *last* are the timestamps (ns since the Unix epoch) of the \
         first and last readable frame in file order.\n\
         - A flow is a 5-tuple, both directions together; a new SYN after a \
         FIN- or RST-closed connection on the same 5-tuple starts a new TCP flow.\n\
         - Diagnostics are the names tamper must report.\n",
    );
    let all = catalogue();
    for (dir, title) in SECTIONS {
        let rows: Vec<&Fixture> = all
            .iter()
            .filter(|f| f.path.split('/').next() == Some(dir))
            .collect();
        if rows.is_empty() {
            continue;
        }
        s.push_str(&format!("\n## {title} (`{dir}/`)\n\n"));
        s.push_str("| Path | What it shows | Expected facts |\n|---|---|---|\n");
        for f in rows {
            s.push_str(&format!(
                "| `{}` | {} | {} |\n",
                f.path,
                f.description,
                facts_cell(&f.truth)
            ));
        }
    }
    s
}

/// The fixture at `path`, if catalogued.
pub fn find(path: &str) -> Option<Fixture> {
    catalogue().into_iter().find(|f| f.path == path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synth::reference;
    use pcap_parser::pcapng::Block;
    use pcap_parser::{
        parse_block_be, parse_block_le, parse_pcap_frame, parse_pcap_frame_be,
        parse_pcap_frame_modified, parse_pcap_header,
    };
    use std::collections::{BTreeMap, BTreeSet};

    fn has(t: &GroundTruth, d: Diagnostic) -> bool {
        t.facts.contains(&Fact::Diagnostic(d))
    }

    fn dns_wire(name: &str) -> Vec<u8> {
        let mut v = Vec::new();
        for l in name.split('.') {
            v.push(l.len() as u8);
            v.extend_from_slice(l.as_bytes());
        }
        v.push(0);
        v
    }

    fn contains(hay: &[u8], needle: &[u8]) -> bool {
        hay.windows(needle.len()).any(|w| w == needle)
    }

    #[test]
    fn synth_fixtures_build_twice_to_identical_small_files() {
        for f in catalogue() {
            let a = (f.build)().unwrap();
            let b = (f.build)().unwrap();
            assert_eq!(a, b, "{} is not deterministic", f.path);
            // Throttling needs transfers long enough to show a rate: real payload bytes,
            // kept to a few hundred kilobytes.
            let limit = if f.path == "sample/incident.pcapng" {
                // Six fixtures, two of them throttled transfers.
                256 * 1024
            } else if f.path.starts_with("sample/") {
                64 * 1024
            } else if f.path.starts_with("throttling/") {
                320 * 1024
            } else {
                10 * 1024
            };
            assert!(a.len() < limit, "{} is {} bytes", f.path, a.len());
        }
    }

    #[test]
    fn synth_fixture_paths_and_descriptions_are_tidy() {
        let all = catalogue();
        let mut paths: Vec<&str> = all.iter().map(|f| f.path).collect();
        paths.sort_unstable();
        paths.dedup();
        assert_eq!(paths.len(), all.len(), "duplicate paths");
        for f in &all {
            let (dir, name) = f.path.split_once('/').unwrap();
            assert!(SECTIONS.iter().any(|s| s.0 == dir), "{}", f.path);
            assert!(
                name.bytes().all(|b| b.is_ascii_lowercase()
                    || b.is_ascii_digit()
                    || b == b'-'
                    || b == b'.'),
                "{}",
                f.path
            );
            assert!(!f.description.is_empty() && !f.description.contains(['\n', '|']));
            assert!(f.truth.first_ts_ns.is_some() == (f.truth.frames > 0));
        }
        for p in [
            "capture/pcap-little-endian-microseconds.pcap",
            "sample/browsing.pcapng",
        ] {
            assert!(find(p).is_some(), "{p}");
        }
    }

    #[test]
    fn synth_fixtures_match_their_ground_truth() {
        for f in catalogue() {
            let bytes = (f.build)().unwrap();
            let t = &f.truth;
            let r = reference::read(&bytes);
            let p = f.path;
            assert_eq!(r.frames.len(), t.frames, "{p}: frames");
            assert_eq!(
                r.frames.first().and_then(|x| x.ts_ns),
                t.first_ts_ns,
                "{p}: first"
            );
            assert_eq!(
                r.frames.last().and_then(|x| x.ts_ns),
                t.last_ts_ns,
                "{p}: last"
            );
            let stamps: Vec<i64> = r.frames.iter().filter_map(|x| x.ts_ns).collect();
            assert!(stamps.windows(2).all(|w| w[0] <= w[1]), "{p}: time order");
            assert_eq!(
                reference::count_flows(&r.frames),
                (t.tcp_flows, t.udp_flows),
                "{p}: flows"
            );
            assert_eq!(r.truncated, has(t, Diagnostic::CaptureTruncated), "{p}");
            assert_eq!(r.invalid, has(t, Diagnostic::CaptureRecordInvalid), "{p}");
            assert_eq!(t.partial, r.truncated || r.invalid, "{p}: partial");
            let cut = r.frames.iter().any(|x| x.data.len() < x.orig_len as usize);
            assert_eq!(cut, has(t, Diagnostic::PacketSnaplenCut), "{p}: snaplen");
            let unsupported = r
                .frames
                .iter()
                .any(|x| x.linktype != u32::MAX && reference::ip_of(x.linktype, &x.data).is_none());
            assert_eq!(unsupported, has(t, Diagnostic::LinkTypeUnsupported), "{p}");
            let plain = reference::decompress(&bytes);
            for fact in &t.facts {
                match fact {
                    Fact::TlsSni(n) | Fact::HttpHost(n) => {
                        assert!(contains(&plain, n.as_bytes()), "{p}: {n}")
                    }
                    Fact::DnsQuery(n) => assert!(contains(&plain, &dns_wire(n)), "{p}: {n}"),
                    // Sealed in a QUIC Initial: the name shows only after decryption.
                    Fact::QuicSni(n) => assert!(!contains(&plain, n.as_bytes()), "{p}: {n}"),
                    Fact::Finding { frames, .. } => {
                        for &n in *frames {
                            assert!(n >= 1 && n as usize <= r.frames.len(), "{p}: frame {n}");
                        }
                    }
                    Fact::Diagnostic(_) | Fact::NoFinding { .. } | Fact::NoFindingKind { .. } => {}
                }
            }
        }
    }

    #[test]
    fn synth_fixture_checksums_verify() {
        for f in catalogue() {
            let r = reference::read(&(f.build)().unwrap());
            for (i, fr) in r.frames.iter().enumerate() {
                if fr.data.len() < fr.orig_len as usize {
                    continue;
                }
                if let Some(ip) = reference::ip_of(fr.linktype, &fr.data) {
                    assert_ne!(
                        reference::checksums_ok(ip),
                        Some(false),
                        "{} frame {}",
                        f.path,
                        i + 1
                    );
                }
            }
        }
    }

    /// Counts packets with pcap-parser, stopping at the first error.
    fn pcap_parser_count(bytes: &[u8]) -> usize {
        let b = reference::decompress(bytes);
        let mut n = 0;
        if b[..4] == [0x0A, 0x0D, 0x0D, 0x0A] {
            let mut rest: &[u8] = &b;
            let mut big = false;
            while !rest.is_empty() {
                if rest.len() >= 12 && rest[..4] == [0x0A, 0x0D, 0x0D, 0x0A] {
                    big = rest[8..12] == [0x1A, 0x2B, 0x3C, 0x4D];
                }
                let parsed = if big {
                    parse_block_be(rest)
                } else {
                    parse_block_le(rest)
                };
                let Ok((r, blk)) = parsed else { break };
                match blk {
                    Block::EnhancedPacket(_) | Block::SimplePacket(_) | Block::Custom(_) => n += 1,
                    Block::Unknown(u) if u.block_type == 2 => n += 1,
                    _ => {}
                }
                rest = r;
            }
        } else {
            let (mut rest, hdr) = parse_pcap_header(&b).unwrap();
            while !rest.is_empty() {
                let parsed = if hdr.is_modified_format() {
                    parse_pcap_frame_modified(rest)
                } else if hdr.is_bigendian() {
                    parse_pcap_frame_be(rest)
                } else {
                    parse_pcap_frame(rest)
                };
                let Ok((r, _)) = parsed else { break };
                n += 1;
                rest = r;
            }
        }
        n
    }

    #[test]
    fn synth_fixture_frame_counts_agree_with_pcap_parser() {
        for f in catalogue() {
            let bytes = (f.build)().unwrap();
            assert_eq!(pcap_parser_count(&bytes), f.truth.frames, "{}", f.path);
        }
    }

    /// TCP fields of an unfragmented IPv4 or extension-free IPv6 packet:
    /// (flags, seq, payload).
    fn tcp_fields(ip: &[u8]) -> Option<(u8, u32, Vec<u8>)> {
        let (proto, l4) = if ip[0] >> 4 == 4 {
            let ihl = usize::from(ip[0] & 15) * 4;
            let total = usize::from(u16::from_be_bytes([ip[2], ip[3]]));
            (ip[9], &ip[ihl..total])
        } else {
            let len = usize::from(u16::from_be_bytes([ip[4], ip[5]]));
            (ip[6], &ip[40..40 + len])
        };
        if proto != 6 {
            return None;
        }
        let doff = usize::from(l4[12] >> 4) * 4;
        let seq = u32::from_be_bytes([l4[4], l4[5], l4[6], l4[7]]);
        Some((l4[13], seq, l4[doff..].to_vec()))
    }

    #[test]
    fn synth_rst_fixtures_cite_the_packets_they_describe() {
        const RST: u8 = 0x04;
        const FIN: u8 = 0x01;
        const SYN_ACK: u8 = 0x12;
        for f in catalogue()
            .into_iter()
            .filter(|f| f.path.starts_with("rst/"))
        {
            let p = f.path;
            let r = reference::read(&(f.build)().unwrap());
            let segs: Vec<(u8, u32, Vec<u8>)> = r
                .frames
                .iter()
                .map(|x| tcp_fields(reference::ip_of(x.linktype, &x.data).unwrap()).unwrap())
                .collect();
            let names: Vec<&str> = f
                .truth
                .facts
                .iter()
                .filter_map(|x| match x {
                    Fact::HttpHost(n) | Fact::TlsSni(n) => Some(*n),
                    _ => None,
                })
                .collect();
            assert!(!names.is_empty(), "{p}: no trigger name");
            let findings: Vec<(&str, &[u64])> = f
                .truth
                .facts
                .iter()
                .filter_map(|x| match x {
                    Fact::Finding { kind, frames, .. } => Some((*kind, *frames)),
                    _ => None,
                })
                .collect();
            let benign = f.truth.facts.contains(&Fact::NoFinding {
                class: "rst_injection",
            });
            assert_eq!(benign, findings.is_empty(), "{p}: finding or benign twin");
            assert_eq!(
                benign,
                p.ends_with("-is-benign.pcap") || p.ends_with("-is-benign.pcapng")
            );
            if benign {
                assert!(
                    segs.iter().any(|s| s.0 & RST != 0),
                    "{p}: a benign twin without a RST"
                );
            }
            for (kind, frames) in findings {
                // A request or ClientHello carrying the trigger name is the
                // trigger; the rest are the forged (or raced) packets.
                let (trigger, cited): (Vec<u64>, Vec<u64>) = frames.iter().partition(|&&n| {
                    let payload = &segs[n as usize - 1].2;
                    (payload.starts_with(b"GET ") || payload.starts_with(&[0x16, 0x03]))
                        && names.iter().any(|name| contains(payload, name.as_bytes()))
                });
                assert!(trigger.len() <= 1, "{p}: {kind} cites two triggers");
                assert!(!cited.is_empty(), "{p}: {kind} cites no packet");
                let of = |n: u64| &segs[n as usize - 1];
                match kind {
                    "tcp_rst_injected" | "tcp_residual_block" => {
                        assert!(cited.iter().all(|&n| of(n).0 & RST != 0), "{p}: {kind}")
                    }
                    "tcp_fin_injected" => assert!(
                        cited.iter().all(|&n| of(n).0 & (FIN | RST) == FIN),
                        "{p}: {kind}"
                    ),
                    "tcp_synack_forged" => {
                        assert!(
                            cited.iter().all(|&n| of(n).0 & 0x17 == SYN_ACK),
                            "{p}: {kind}"
                        )
                    }
                    "tcp_data_injected" => {
                        let [a, b] = cited[..] else {
                            panic!("{p}: {kind} cites {cited:?}")
                        };
                        let (a, b) = (of(a), of(b));
                        assert_eq!((a.1, a.2.len()), (b.1, b.2.len()), "{p}: same range");
                        assert!(!a.2.is_empty() && a.2 != b.2, "{p}: different bytes");
                    }
                    other => panic!("{p}: unknown kind {other}"),
                }
            }
        }
    }

    /// The fields of an unfragmented IPv4 or extension-free IPv6 packet the
    /// dns/ checks look at.
    struct Pkt {
        src: IpAddr,
        dst: IpAddr,
        proto: u8,
        sport: u16,
        dport: u16,
        tcp_flags: u8,
        ttl: u8,
        payload: Vec<u8>,
    }

    fn pkt(ip: &[u8]) -> Pkt {
        let (proto, src, dst, l4) = if ip[0] >> 4 == 4 {
            let ihl = usize::from(ip[0] & 15) * 4;
            let total = usize::from(u16::from_be_bytes([ip[2], ip[3]]));
            let a: [u8; 4] = ip[12..16].try_into().unwrap();
            let b: [u8; 4] = ip[16..20].try_into().unwrap();
            (ip[9], IpAddr::from(a), IpAddr::from(b), &ip[ihl..total])
        } else {
            let len = usize::from(u16::from_be_bytes([ip[4], ip[5]]));
            let a: [u8; 16] = ip[8..24].try_into().unwrap();
            let b: [u8; 16] = ip[24..40].try_into().unwrap();
            (ip[6], IpAddr::from(a), IpAddr::from(b), &ip[40..40 + len])
        };
        let port = |at: usize| u16::from_be_bytes([l4[at], l4[at + 1]]);
        let (tcp_flags, payload) = match proto {
            6 => (l4[13], l4[usize::from(l4[12] >> 4) * 4..].to_vec()),
            17 => (0, l4[8..].to_vec()),
            _ => panic!("protocol {proto}"),
        };
        Pkt {
            src,
            dst,
            proto,
            sport: port(0),
            dport: port(2),
            tcp_flags,
            ttl: if ip[0] >> 4 == 4 { ip[8] } else { ip[7] },
            payload,
        }
    }

    /// A DNS message as the dns/ checks see it.
    #[derive(Clone, Debug)]
    struct Msg {
        id: u16,
        flags: u16,
        qname: String,
        qtype: u16,
        /// (type, RDATA) of the answer section.
        answers: Vec<(u16, Vec<u8>)>,
        opt: bool,
        /// Bytes after the last record.
        trailing: usize,
    }

    impl Msg {
        fn rcode(&self) -> u16 {
            self.flags & 0x0F
        }

        fn addrs(&self) -> BTreeSet<IpAddr> {
            self.answers
                .iter()
                .filter_map(|(t, d)| match (*t, d.len()) {
                    (1, 4) => Some(IpAddr::from(<[u8; 4]>::try_from(&d[..]).unwrap())),
                    (28, 16) => Some(IpAddr::from(<[u8; 16]>::try_from(&d[..]).unwrap())),
                    _ => None,
                })
                .collect()
        }
    }

    /// A name at `pos` (following compression pointers) and the offset after
    /// it in place.
    fn read_name(m: &[u8], mut pos: usize) -> Option<(String, usize)> {
        let mut labels = Vec::new();
        let mut end = None;
        for _ in 0..128 {
            let len = usize::from(*m.get(pos)?);
            if len & 0xC0 == 0xC0 {
                end.get_or_insert(pos + 2);
                pos = (len & 0x3F) << 8 | usize::from(*m.get(pos + 1)?);
            } else if len == 0 {
                return Some((labels.join("."), end.unwrap_or(pos + 1)));
            } else {
                labels.push(String::from_utf8_lossy(m.get(pos + 1..pos + 1 + len)?).into_owned());
                pos += 1 + len;
            }
        }
        None
    }

    fn parse_dns(m: &[u8]) -> Option<Msg> {
        let at =
            |p: usize| -> Option<u16> { Some(u16::from_be_bytes([*m.get(p)?, *m.get(p + 1)?])) };
        let (qd, an) = (at(4)?, usize::from(at(6)?));
        let records = an + usize::from(at(8)?) + usize::from(at(10)?);
        assert_eq!(qd, 1);
        let (qname, mut pos) = read_name(m, 12)?;
        let qtype = at(pos)?;
        pos += 4;
        let mut rrs = Vec::new();
        for _ in 0..records {
            let (_, p) = read_name(m, pos)?;
            let rtype = at(p)?;
            let rdlen = usize::from(at(p + 8)?);
            rrs.push((rtype, m.get(p + 10..p + 10 + rdlen)?.to_vec()));
            pos = p + 10 + rdlen;
        }
        Some(Msg {
            id: at(0)?,
            flags: at(2)?,
            qname: qname.to_ascii_lowercase(),
            qtype,
            opt: rrs[an..].iter().any(|r| r.0 == 41),
            answers: rrs[..an].to_vec(),
            trailing: m.len() - pos,
        })
    }

    /// What a frame of a dns/ fixture is.
    #[derive(Debug)]
    enum DnsFrame {
        Query(Msg),
        Response(Msg),
        Syn,
        OtherTcp,
    }

    fn dns_frame(p: &Pkt) -> DnsFrame {
        let dns = p.sport == DNS_PORT || p.dport == DNS_PORT;
        let msg = match p.proto {
            17 if dns => Some(&p.payload[..]),
            6 if dns && p.payload.len() > 2 => {
                let n = usize::from(u16::from_be_bytes([p.payload[0], p.payload[1]]));
                assert_eq!(n, p.payload.len() - 2, "one DNS message per segment");
                Some(&p.payload[2..])
            }
            6 if p.tcp_flags & 0x17 == 0x02 => return DnsFrame::Syn,
            6 => None,
            _ => panic!("not DNS: {}", p.proto),
        };
        match msg.map(|m| parse_dns(m).expect("a DNS message")) {
            Some(m) if m.flags & 0x8000 != 0 => DnsFrame::Response(m),
            Some(m) => DnsFrame::Query(m),
            None => DnsFrame::OtherTcp,
        }
    }

    /// A query instance: client address and port, resolver, ID, name, type.
    type Instance = (IpAddr, u16, IpAddr, u16, String, u16);

    fn instance(p: &Pkt, f: &DnsFrame) -> Option<Instance> {
        match f {
            DnsFrame::Query(m) => Some((p.src, p.sport, p.dst, m.id, m.qname.clone(), m.qtype)),
            DnsFrame::Response(m) => Some((p.dst, p.dport, p.src, m.id, m.qname.clone(), m.qtype)),
            _ => None,
        }
    }

    /// Poison and blockpage addresses from the OONI DNS fingerprints that the
    /// dns/ fixtures use.
    const POISON: [Ipv4Addr; 5] = [
        Ipv4Addr::new(8, 7, 198, 45),
        Ipv4Addr::new(37, 61, 54, 158),
        Ipv4Addr::new(46, 82, 174, 68),
        Ipv4Addr::new(10, 10, 34, 34),
        Ipv4Addr::new(195, 175, 254, 2),
    ];

    fn in_v4(a: Ipv4Addr, net: [u8; 4], bits: u32) -> bool {
        let mask = u32::MAX.checked_shl(32 - bits).unwrap_or(0);
        u32::from(a) & mask == u32::from(Ipv4Addr::from(net)) & mask
    }

    fn documentation(a: IpAddr) -> bool {
        match a {
            IpAddr::V4(a) => [[192, 0, 2, 0], [198, 51, 100, 0], [203, 0, 113, 0]]
                .iter()
                .any(|n| in_v4(a, *n, 24)),
            IpAddr::V6(a) => a.segments()[..2] == [0x2001, 0x0db8],
        }
    }

    /// Special-purpose addresses a public resolver should not return (the
    /// DNS64 prefix 64:ff9b::/96 is not one of them).
    fn bogon(a: IpAddr) -> bool {
        match a {
            IpAddr::V4(a) => {
                [
                    ([0, 0, 0, 0], 8),
                    ([10, 0, 0, 0], 8),
                    ([100, 64, 0, 0], 10),
                    ([127, 0, 0, 0], 8),
                    ([169, 254, 0, 0], 16),
                    ([172, 16, 0, 0], 12),
                    ([192, 168, 0, 0], 16),
                    ([198, 18, 0, 0], 15),
                    ([224, 0, 0, 0], 3),
                ]
                .iter()
                .any(|(n, b)| in_v4(a, *n, *b))
                    || documentation(IpAddr::V4(a))
            }
            IpAddr::V6(a) => {
                let s = a.segments();
                a.is_loopback()
                    || a.is_unspecified()
                    || s[0] & 0xFE00 == 0xFC00
                    || s[0] & 0xFFC0 == 0xFE80
                    || documentation(IpAddr::V6(a))
            }
        }
    }

    #[test]
    fn synth_dns_fixtures_cite_the_packets_they_describe() {
        let all: Vec<Fixture> = catalogue()
            .into_iter()
            .filter(|f| f.path.starts_with("dns/"))
            .collect();
        assert_eq!(all.len(), 21);
        for f in all {
            let p = f.path;
            let r = reference::read(&(f.build)().unwrap());
            let pkts: Vec<Pkt> = r
                .frames
                .iter()
                .map(|x| pkt(reference::ip_of(x.linktype, &x.data).unwrap()))
                .collect();
            let frames: Vec<DnsFrame> = pkts.iter().map(dns_frame).collect();
            // The names queried are exactly the DnsQuery facts.
            let queried: BTreeSet<&str> = frames
                .iter()
                .filter_map(|x| match x {
                    DnsFrame::Query(m) => Some(m.qname.as_str()),
                    _ => None,
                })
                .collect();
            let named: BTreeSet<&str> = f
                .truth
                .facts
                .iter()
                .filter_map(|x| match x {
                    Fact::DnsQuery(n) => Some(*n),
                    _ => None,
                })
                .collect();
            assert_eq!(queried, named, "{p}: DnsQuery facts");
            // Every response answers a query seen earlier; no documentation
            // addresses anywhere.
            let mut asked = BTreeSet::new();
            for (x, f) in pkts.iter().zip(&frames) {
                assert!(!documentation(x.src) && !documentation(x.dst), "{p}");
                match f {
                    DnsFrame::Query(_) => {
                        asked.insert(instance(x, f));
                    }
                    DnsFrame::Response(m) => {
                        assert!(asked.contains(&instance(x, f)), "{p}: unsolicited");
                        assert!(m.addrs().iter().all(|a| !documentation(*a)), "{p}");
                    }
                    _ => {}
                }
            }
            let responses_to = |i: &Instance| -> Vec<usize> {
                (0..frames.len())
                    .filter(|&k| {
                        matches!(frames[k], DnsFrame::Response(_))
                            && instance(&pkts[k], &frames[k]).as_ref() == Some(i)
                    })
                    .collect()
            };
            // The TTL most of the other responses from the same resolver
            // arrive with.
            let usual_ttl = |k: usize| -> Option<u8> {
                let mut counts: BTreeMap<u8, usize> = BTreeMap::new();
                for (j, (x, fr)) in pkts.iter().zip(&frames).enumerate() {
                    if j != k && x.src == pkts[k].src && matches!(fr, DnsFrame::Response(_)) {
                        *counts.entry(x.ttl).or_default() += 1;
                    }
                }
                counts.into_iter().max_by_key(|c| c.1).map(|c| c.0)
            };
            let findings: Vec<(&str, &[u64])> = f
                .truth
                .facts
                .iter()
                .filter_map(|x| match x {
                    Fact::Finding { kind, frames, .. } => Some((*kind, *frames)),
                    _ => None,
                })
                .collect();
            let benign = f.truth.facts.contains(&Fact::NoFinding {
                class: "dns_injection",
            });
            assert_eq!(benign, findings.is_empty(), "{p}: finding or benign twin");
            assert!(findings.len() <= 1, "{p}");
            for (kind, cited) in findings {
                let mut queries = Vec::new();
                let mut responses = Vec::new();
                let mut syns = Vec::new();
                for &n in cited {
                    let k = n as usize - 1;
                    match &frames[k] {
                        DnsFrame::Query(m) => queries.push((k, m)),
                        DnsFrame::Response(m) => responses.push((k, m)),
                        DnsFrame::Syn => syns.push(k),
                        DnsFrame::OtherTcp => panic!("{p}: {kind} cites frame {n}"),
                    }
                }
                let inst = |k: usize| instance(&pkts[k], &frames[k]).unwrap();
                let addrs = |rs: &[(usize, &Msg)]| -> BTreeSet<IpAddr> {
                    rs.iter().flat_map(|(_, m)| m.addrs()).collect()
                };
                match kind {
                    "dns_answer_race" | "dns_forged_response" => {
                        let [(q, _)] = queries[..] else {
                            panic!("{p}: {kind} cites {queries:?}")
                        };
                        // Every response to the instance, and only those.
                        let all: Vec<usize> = responses_to(&inst(q));
                        let mine: Vec<usize> = responses.iter().map(|r| r.0).collect();
                        assert_eq!(mine, all, "{p}: {kind} responses");
                        if kind == "dns_forged_response" {
                            assert_eq!(mine.len(), 1, "{p}: a lone response");
                            assert!(syns.is_empty(), "{p}");
                            // Something in the response itself gives it away.
                            let (k, m) = responses[0];
                            let wrong_type =
                                m.answers.iter().any(|(t, _)| *t != m.qtype && *t != 5);
                            let ttl_off = usual_ttl(k).is_some_and(|u| u.abs_diff(pkts[k].ttl) > 2);
                            let tell = wrong_type || m.trailing > 0 || ttl_off;
                            assert!(tell, "{p}: nothing gives frame {} away", k + 1);
                            continue;
                        }
                        assert!(mine.len() >= 2, "{p}: a race needs two responses");
                        let differ = responses.iter().enumerate().any(|(i, (_, a))| {
                            responses[i + 1..].iter().any(|(_, b)| {
                                let (x, y) = (a.addrs(), b.addrs());
                                x.is_disjoint(&y) && (!x.is_empty() || !y.is_empty())
                            })
                        });
                        assert!(differ, "{p}: the answers of the race agree");
                        assert!(syns.len() <= 1, "{p}");
                        for &s in &syns {
                            assert_eq!(pkts[s].src, pkts[q].src, "{p}: the client's SYN");
                            assert!(addrs(&responses).contains(&pkts[s].dst), "{p}: SYN target");
                            assert!(s > responses[0].0, "{p}: SYN after an answer");
                        }
                    }
                    "dns_blocking_address" | "dns_bogon_answer" => {
                        assert!(queries.is_empty() && syns.is_empty(), "{p}");
                        let [(k, m)] = responses[..] else {
                            panic!("{p}: {kind} cites {responses:?}")
                        };
                        // Nothing else is wrong with the response: the
                        // resolver's TTL, RA, the OPT echo, no second answer.
                        assert_eq!(Some(pkts[k].ttl), usual_ttl(k), "{p}: TTL");
                        assert!(m.flags & 0x0080 != 0 && m.opt && m.trailing == 0, "{p}");
                        assert_eq!(responses_to(&inst(k)), [k], "{p}: a lone response");
                        let a = m.addrs();
                        if kind == "dns_blocking_address" {
                            assert!(POISON.iter().any(|x| a.contains(&IpAddr::V4(*x))), "{p}");
                        } else {
                            assert!(a.iter().any(|x| bogon(*x)), "{p}: no bogon");
                            assert!(!bogon(pkts[k].src), "{p}: a local resolver");
                        }
                    }
                    "dns_nxdomain_rewrite" => {
                        assert!(queries.is_empty() && syns.is_empty(), "{p}");
                        let (with, nx): (Vec<_>, Vec<_>) =
                            responses.iter().partition(|(_, m)| !m.addrs().is_empty());
                        assert_eq!(with.len(), 1, "{p}: one rewritten response");
                        assert!(!nx.is_empty(), "{p}: no NXDOMAIN");
                        assert!(nx.iter().all(|(_, m)| m.rcode() == 3), "{p}");
                        assert!(
                            responses.iter().all(|(_, m)| m.qname == with[0].1.qname),
                            "{p}: one name"
                        );
                    }
                    other => panic!("{p}: unknown kind {other}"),
                }
            }
            if benign {
                // None of the tells of the positive fixtures: every response
                // is well formed, answers its question's type (or a CNAME),
                // carries no known poison address and no bogon from a
                // public resolver, and the responses to one query instance
                // share an address (or all agree there is none).
                let mut seen = BTreeSet::new();
                for (k, (x, fr)) in pkts.iter().zip(&frames).enumerate() {
                    let DnsFrame::Response(m) = fr else { continue };
                    assert_eq!(m.trailing, 0, "{p}: trailing bytes");
                    assert!(
                        m.answers.iter().all(|(t, _)| *t == m.qtype || *t == 5),
                        "{p}: answer type"
                    );
                    for a in m.addrs() {
                        assert!(!matches!(a, IpAddr::V4(v) if POISON.contains(&v)), "{p}");
                        assert!(!bogon(a) || bogon(x.src), "{p}: bogon {a}");
                    }
                    assert!(m.flags & 0x0080 != 0 && m.opt, "{p}: RA and OPT echo");
                    let i = instance(x, fr).unwrap();
                    if seen.insert(i.clone()) {
                        let sets: Vec<BTreeSet<IpAddr>> = responses_to(&i)
                            .iter()
                            .map(|&r| match &frames[r] {
                                DnsFrame::Response(m) => m.addrs(),
                                _ => unreachable!(),
                            })
                            .collect();
                        assert!(
                            sets.iter().all(|s| s.is_empty())
                                || sets.iter().all(|s| !s.is_disjoint(&sets[0])),
                            "{p}: frame {} races",
                            k + 1
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn synth_readme_has_one_row_per_fixture() {
        let md = readme();
        let all = catalogue();
        let rows = md.lines().filter(|l| l.starts_with("| `")).count();
        assert_eq!(rows, all.len());
        for f in &all {
            assert!(md.contains(&format!("| `{}` | {} |", f.path, f.description)));
        }
        assert!(md.contains("diagnostic `capture_truncated`"));
        assert!(md.contains("SNI out-of-order.example.com"));
    }
}
