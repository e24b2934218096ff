//! Re-reads a capture to list, describe and carve the packets of chosen flows (for `tamper
//! explain`, `tamper extract` and the pictures of HTML reports); it judges nothing and never
//! changes what the analysis reports.
//!
//! Packets are assigned to flows by the analysis pipeline itself (through a
//! [`PacketTap`]), so a flow here is exactly the flow a finding names: same id, same port-reuse
//! splits, same fragments. Memory is bounded by [`Selection::max_packets_per_flow`] per chosen
//! flow, [`MAX_PACKETS_TOTAL`] over all of them and [`MAX_DNS_CONTEXT_PACKETS`] for DNS
//! context; packets past a cap are counted in [`FlowPackets::omitted`].

pub mod pictures;

use std::collections::{BTreeMap, BTreeSet};
use std::io::{self, Write};
use std::net::IpAddr;

use crate::capture::{CaptureError, CaptureReader, Frame, FrameContent, InputSource, LinkType};
use crate::decode::TcpFlags;
use crate::flow::{Endpoint, L4Proto, PacketRecord};
use crate::ids::{Direction, FlowId, FrameNumber};
use crate::pipeline::{self, Options, PacketTap, TappedIcmp, TappedPacket};
use crate::proto::dns::parse::{parse_message, DnsLimits, DnsMessage, RData, RecordType};
use crate::report::CaptureReport;

/// Packets kept per chosen flow unless the selection says otherwise.
pub const DEFAULT_MAX_PACKETS_PER_FLOW: usize = 200_000;
/// Packets kept over all chosen flows together.
pub const MAX_PACKETS_TOTAL: usize = 2_000_000;
/// Packets of DNS flows kept while looking for the lookups that answered a chosen server.
pub const MAX_DNS_CONTEXT_PACKETS: usize = 100_000;
/// DNS port.
const DNS_PORT: u16 = 53;

/// Which flows to collect.
#[derive(Clone, Debug)]
pub struct Selection {
    /// Flows whose packets are kept.
    pub flows: BTreeSet<FlowId>,
    /// Also keep the flows whose server is one of these addresses (the baselines a finding
    /// was judged against).
    pub servers: BTreeSet<IpAddr>,
    /// Also find the DNS flows whose answers name one of these addresses.
    pub dns_answers_for: BTreeSet<IpAddr>,
    /// Also report which flow each of these frames belongs to.
    pub frames_of_interest: BTreeSet<FrameNumber>,
    /// Most packets kept per flow (later ones are counted in [`FlowPackets::omitted`]).
    pub max_packets_per_flow: usize,
}

impl Default for Selection {
    fn default() -> Self {
        Selection {
            flows: BTreeSet::new(),
            servers: BTreeSet::new(),
            dns_answers_for: BTreeSet::new(),
            frames_of_interest: BTreeSet::new(),
            max_packets_per_flow: DEFAULT_MAX_PACKETS_PER_FLOW,
        }
    }
}

/// An ICMP error about a flow.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IcmpView {
    /// Who sent it.
    pub from: IpAddr,
    /// ICMPv6 rather than ICMPv4.
    pub v6: bool,
    /// Type.
    pub icmp_type: u8,
    /// Code.
    pub code: u8,
}

/// One packet of a flow, as shown to a reader.
#[derive(Clone, Debug, PartialEq)]
pub struct PacketView {
    /// Header facts (for an ICMP error: its frame, time, TTL and IP ID; TCP fields empty).
    pub record: PacketRecord,
    /// What the payload is, in a few words (`DNS query A example.com`, `TLS ClientHello SNI
    /// example.com`, `GET / HTTP/1.1 Host example.com`); empty when nothing is recognised.
    pub note: String,
    /// Every fragment's frame when the packet was reassembled from IP fragments.
    pub fragment_frames: Vec<FrameNumber>,
    /// Set for an ICMP error quoting one of the flow's packets.
    pub icmp: Option<IcmpView>,
}

impl PacketView {
    /// Every frame this packet was read from (fragments included).
    pub fn frames(&self) -> Vec<FrameNumber> {
        if self.fragment_frames.is_empty() {
            vec![self.record.frame]
        } else {
            self.fragment_frames.clone()
        }
    }
}

/// The packets of one flow.
#[derive(Clone, Debug, PartialEq)]
pub struct FlowPackets {
    /// Flow id.
    pub id: FlowId,
    /// Transport protocol.
    pub proto: L4Proto,
    /// Client.
    pub client: Endpoint,
    /// Server.
    pub server: Endpoint,
    /// Packets in capture order.
    pub packets: Vec<PacketView>,
    /// Packets past the per-flow cap, not kept.
    pub omitted: u64,
}

impl FlowPackets {
    /// The sequence number each direction's relative numbers count from: its SYN's, or else
    /// its first segment's (as Wireshark's relative sequence numbers do).
    pub fn isn(&self, dir: Direction) -> Option<u32> {
        if self.proto != L4Proto::Tcp {
            return None;
        }
        let mine = || {
            self.packets
                .iter()
                .filter(|p| p.icmp.is_none() && p.record.dir == dir)
        };
        mine()
            .find(|p| p.record.flags.syn())
            .or_else(|| mine().next())
            .map(|p| p.record.seq)
    }

    /// Relative sequence and acknowledgment numbers of a TCP packet (`None` for fields that
    /// do not apply: no ACK flag, unknown base).
    pub fn relative(&self, p: &PacketView) -> (Option<u32>, Option<u32>) {
        if self.proto != L4Proto::Tcp || p.icmp.is_some() {
            return (None, None);
        }
        let seq = self.isn(p.record.dir).map(|b| p.record.seq.wrapping_sub(b));
        let ack = if p.record.flags.ack() {
            self.isn(p.record.dir.reverse())
                .map(|b| p.record.ack.wrapping_sub(b))
        } else {
            None
        };
        (seq, ack)
    }

    /// Every frame of the flow kept here.
    pub fn frames(&self) -> BTreeSet<FrameNumber> {
        self.packets.iter().flat_map(|p| p.frames()).collect()
    }
}

/// What a collecting pass found.
#[derive(Clone, Debug)]
pub struct Collected {
    /// The analysis report of the pass (the same as `tamper analyze` gives).
    pub report: CaptureReport,
    /// The chosen flows that were seen, by id.
    pub flows: BTreeMap<FlowId, FlowPackets>,
    /// DNS flows whose answers named an address of [`Selection::dns_answers_for`], with
    /// their packets.
    pub dns_context: BTreeMap<FlowId, FlowPackets>,
    /// The flow of each frame of [`Selection::frames_of_interest`] that belongs to one.
    pub flow_of_frame: BTreeMap<FrameNumber, FlowId>,
}

impl Collected {
    /// What the collection caps left out, for the user to be told (`None` when nothing was):
    /// the packets past [`Selection::max_packets_per_flow`] or [`MAX_PACKETS_TOTAL`] in the
    /// chosen flows, and past [`MAX_DNS_CONTEXT_PACKETS`] in the DNS lookups.
    pub fn omitted_note(&self, sel: &Selection) -> Option<String> {
        let part = |flows: &BTreeMap<FlowId, FlowPackets>, what: &str, cap: String| {
            let hit: Vec<String> = flows
                .values()
                .filter(|f| f.omitted > 0)
                .map(|f| format!("{} packet(s) of flow {}", f.omitted, f.id))
                .collect();
            (!hit.is_empty()).then(|| format!("{} ({what}: {cap})", hit.join(", ")))
        };
        let parts: Vec<String> = [
            part(
                &self.flows,
                "chosen flows",
                format!(
                    "{} packets per flow, {MAX_PACKETS_TOTAL} in all",
                    sel.max_packets_per_flow
                ),
            ),
            part(
                &self.dns_context,
                "DNS lookups",
                format!("{MAX_DNS_CONTEXT_PACKETS} packets in all"),
            ),
        ]
        .into_iter()
        .flatten()
        .collect();
        (!parts.is_empty())
            .then(|| format!("past the collection caps, left out: {}", parts.join("; ")))
    }
}

struct Collector<'s> {
    sel: &'s Selection,
    limits: DnsLimits,
    flows: BTreeMap<FlowId, FlowPackets>,
    dns: BTreeMap<FlowId, FlowPackets>,
    dns_kept: usize,
    kept: usize,
    dns_matching: BTreeSet<FlowId>,
    flow_of_frame: BTreeMap<FrameNumber, FlowId>,
}

fn new_flow(p: &TappedPacket<'_>) -> FlowPackets {
    FlowPackets {
        id: p.flow,
        proto: p.proto,
        client: p.client,
        server: p.server,
        packets: Vec::new(),
        omitted: 0,
    }
}

impl PacketTap for Collector<'_> {
    fn packet(&mut self, p: &TappedPacket<'_>) {
        if !self.sel.frames_of_interest.is_empty() {
            let frames: &[FrameNumber] = if p.fragment_frames.is_empty() {
                std::slice::from_ref(&p.record.frame)
            } else {
                p.fragment_frames
            };
            for f in frames {
                if self.sel.frames_of_interest.contains(f) {
                    self.flow_of_frame.insert(*f, p.flow);
                }
            }
        }
        let is_dns = p.client.port == DNS_PORT || p.server.port == DNS_PORT;
        let chosen = self.sel.flows.contains(&p.flow) || self.sel.servers.contains(&p.server.addr);
        let dns_context = is_dns && !self.sel.dns_answers_for.is_empty();
        if !chosen && !dns_context {
            return;
        }
        let view = PacketView {
            record: p.record,
            note: describe_payload(p.proto, p.client, p.server, p.payload),
            fragment_frames: p.fragment_frames.to_vec(),
            icmp: None,
        };
        if dns_context {
            if let Some(m) = dns_message(p.proto, p.payload, &self.limits) {
                let names_one = m.answers.iter().any(|r| match &r.rdata {
                    RData::A(a) => self.sel.dns_answers_for.contains(&IpAddr::V4(*a)),
                    RData::Aaaa(a) => self.sel.dns_answers_for.contains(&IpAddr::V6(*a)),
                    _ => false,
                });
                if names_one {
                    self.dns_matching.insert(p.flow);
                }
            }
            if !chosen {
                let entry = self.dns.entry(p.flow).or_insert_with(|| new_flow(p));
                if self.dns_kept < MAX_DNS_CONTEXT_PACKETS {
                    self.dns_kept += 1;
                    entry.packets.push(view.clone());
                } else {
                    entry.omitted += 1;
                }
            }
        }
        if chosen {
            let entry = self.flows.entry(p.flow).or_insert_with(|| new_flow(p));
            if entry.packets.len() < self.sel.max_packets_per_flow && self.kept < MAX_PACKETS_TOTAL
            {
                self.kept += 1;
                entry.packets.push(view);
            } else {
                entry.omitted += 1;
            }
        }
    }

    fn icmp_error(&mut self, i: &TappedIcmp) {
        if self.sel.frames_of_interest.contains(&i.frame) {
            self.flow_of_frame.insert(i.frame, i.flow);
        }
        let Some(entry) = self.flows.get_mut(&i.flow) else {
            return;
        };
        if entry.packets.len() >= self.sel.max_packets_per_flow || self.kept >= MAX_PACKETS_TOTAL {
            entry.omitted += 1;
            return;
        }
        self.kept += 1;
        let dir = if i.from == entry.client.addr {
            Direction::ClientToServer
        } else {
            Direction::ServerToClient
        };
        let icmp = IcmpView {
            from: i.from,
            v6: i.v6,
            icmp_type: i.icmp_type,
            code: i.code,
        };
        entry.packets.push(PacketView {
            record: PacketRecord {
                frame: i.frame,
                ts: i.ts,
                dir,
                ttl: i.ttl,
                ip_id: None,
                df: false,
                flags: TcpFlags::default(),
                seq: 0,
                ack: 0,
                window: 0,
                payload_len: 0,
            },
            note: describe_icmp(&icmp),
            fragment_frames: Vec::new(),
            icmp: Some(icmp),
        });
    }
}

/// Analyzes `input` once and collects the packets `sel` asks for.
pub fn collect(
    input: &InputSource,
    options: &Options,
    sel: &Selection,
) -> Result<Collected, CaptureError> {
    let reader = CaptureReader::open_with_ceiling(input, options.limits.max_decompressed)?;
    let mut c = Collector {
        sel,
        limits: DnsLimits::default(),
        flows: BTreeMap::new(),
        dns: BTreeMap::new(),
        dns_kept: 0,
        kept: 0,
        dns_matching: BTreeSet::new(),
        flow_of_frame: BTreeMap::new(),
    };
    let report =
        pipeline::analyze_reader_tapped(input.display_name(), reader, options, None, Some(&mut c));
    let mut dns_context = BTreeMap::new();
    for id in &c.dns_matching {
        if let Some(f) = c.flows.get(id).or_else(|| c.dns.get(id)) {
            dns_context.insert(*id, f.clone());
        }
    }
    Ok(Collected {
        report,
        flows: c.flows,
        dns_context,
        flow_of_frame: c.flow_of_frame,
    })
}

fn dns_message(proto: L4Proto, payload: &[u8], limits: &DnsLimits) -> Option<DnsMessage> {
    match proto {
        L4Proto::Udp => parse_message(payload, limits).ok(),
        L4Proto::Tcp => {
            // One whole length-prefixed message at the start of the segment.
            let len = usize::from(u16::from_be_bytes([*payload.first()?, *payload.get(1)?]));
            parse_message(payload.get(2..2 + len)?, limits).ok()
        }
    }
}

fn rtype(t: RecordType) -> String {
    t.name()
        .map_or_else(|| format!("TYPE{}", t.0), str::to_string)
}

/// A few words on what a packet's payload is, or an empty string.
pub fn describe_payload(
    proto: L4Proto,
    client: Endpoint,
    server: Endpoint,
    payload: &[u8],
) -> String {
    if payload.is_empty() {
        return String::new();
    }
    if client.port == DNS_PORT || server.port == DNS_PORT {
        if let Some(m) = dns_message(proto, payload, &DnsLimits::default()) {
            return describe_dns(&m);
        }
    }
    if proto == L4Proto::Tcp {
        if let Some(s) = describe_http(payload) {
            return s;
        }
        if let Some(s) = describe_tls(payload) {
            return s;
        }
    } else if crate::proto::quic::looks_like_quic_long_header(payload) {
        return "QUIC long header".to_string();
    }
    String::new()
}

fn describe_dns(m: &DnsMessage) -> String {
    let q = m
        .questions
        .first()
        .map(|q| format!("{} {}", rtype(q.qtype), q.name))
        .unwrap_or_default();
    if !m.header.qr() {
        return format!("DNS query 0x{:04x} {q}", m.header.id);
    }
    let rcode = m
        .header
        .rcode()
        .name()
        .map_or_else(|| format!("RCODE{}", m.header.rcode().0), str::to_string);
    let mut answers: Vec<String> = Vec::new();
    for r in m.answers.iter().take(6) {
        let a = match &r.rdata {
            RData::A(a) => a.to_string(),
            RData::Aaaa(a) => a.to_string(),
            RData::Cname(n) => format!("CNAME {n}"),
            _ => rtype(r.rtype),
        };
        answers.push(a);
    }
    if m.answers.len() > 6 {
        answers.push(format!("… {} more", m.answers.len() - 6));
    }
    let ttl = m
        .answers
        .first()
        .map(|r| format!(" (TTL {} s)", r.ttl))
        .unwrap_or_default();
    if answers.is_empty() {
        format!("DNS response 0x{:04x} {q}: {rcode}, no answer", m.header.id)
    } else {
        format!(
            "DNS response 0x{:04x} {q}: {}{ttl}",
            m.header.id,
            answers.join(", ")
        )
    }
}

const METHODS: [&str; 9] = [
    "GET ", "POST ", "HEAD ", "PUT ", "DELETE ", "OPTIONS ", "CONNECT ", "PATCH ", "TRACE ",
];

fn first_line(payload: &[u8]) -> String {
    let end = payload
        .iter()
        .position(|&b| b == b'\r' || b == b'\n')
        .unwrap_or(payload.len())
        .min(100);
    String::from_utf8_lossy(payload.get(..end).unwrap_or_default())
        .chars()
        .map(|c| if c.is_control() { '.' } else { c })
        .collect()
}

fn describe_http(payload: &[u8]) -> Option<String> {
    if payload.starts_with(b"HTTP/1.") {
        return Some(first_line(payload));
    }
    if !METHODS.iter().any(|m| payload.starts_with(m.as_bytes())) {
        return None;
    }
    let mut s = first_line(payload);
    let head = payload.get(..payload.len().min(4096)).unwrap_or_default();
    let text = String::from_utf8_lossy(head);
    for line in text.split("\r\n").skip(1) {
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            if name.eq_ignore_ascii_case("host") {
                s.push_str(" Host ");
                s.push_str(value.trim());
                break;
            }
        }
    }
    Some(s)
}

fn describe_tls(payload: &[u8]) -> Option<String> {
    use crate::proto::tls::parse::{looks_like_tls, parse_client_hello, MessageOrigin};
    if !looks_like_tls(payload) {
        return None;
    }
    let content_type = *payload.first()?;
    Some(match content_type {
        22 => match payload.get(5) {
            Some(1) => {
                let len = payload
                    .get(6..9)
                    .map(|b| usize::from(b[0]) << 16 | usize::from(b[1]) << 8 | usize::from(b[2]))
                    .unwrap_or(0);
                let body = payload
                    .get(9..payload.len().min(9 + len))
                    .unwrap_or_default();
                let origin = MessageOrigin {
                    stream_offset: 0,
                    record_count: 1,
                    record_version: u16::from_be_bytes([
                        *payload.get(1).unwrap_or(&0),
                        *payload.get(2).unwrap_or(&0),
                    ]),
                };
                match parse_client_hello(body, origin).ok().and_then(|ch| ch.sni) {
                    Some(sni) => format!("TLS ClientHello SNI {sni}"),
                    None => "TLS ClientHello".to_string(),
                }
            }
            Some(2) => "TLS ServerHello".to_string(),
            Some(11) => "TLS Certificate".to_string(),
            _ => "TLS handshake".to_string(),
        },
        20 => "TLS ChangeCipherSpec".to_string(),
        21 => "TLS Alert".to_string(),
        23 => "TLS application data".to_string(),
        _ => return None,
    })
}

/// A few words on an ICMP error.
pub fn describe_icmp(i: &IcmpView) -> String {
    let what = match (i.v6, i.icmp_type, i.code) {
        (false, 3, 0) => "network unreachable",
        (false, 3, 1) => "host unreachable",
        (false, 3, 2) => "protocol unreachable",
        (false, 3, 3) => "port unreachable",
        (false, 3, 9 | 10 | 13) => "administratively prohibited",
        (false, 3, _) => "destination unreachable",
        (false, 11, _) => "time exceeded",
        (true, 1, 1) => "administratively prohibited",
        (true, 1, 3) => "address unreachable",
        (true, 1, 4) => "port unreachable",
        (true, 1, 6) => "reject route",
        (true, 1, _) => "destination unreachable",
        (true, 3, _) => "time exceeded",
        _ => "error",
    };
    let v = if i.v6 { "ICMPv6" } else { "ICMP" };
    format!(
        "{v} {what} (type {}, code {}) from {}",
        i.icmp_type, i.code, i.from
    )
}

// ----- carving ---------------------------------------------------------------------------

/// The container of a carved capture.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum CarveFormat {
    /// Classic pcap with nanosecond timestamps (one link type only).
    Pcap,
    /// pcapng with nanosecond timestamps, one interface per original interface, and a
    /// comment on every packet naming its frame number in the original capture.
    Pcapng,
}

/// What was carved.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CarveStats {
    /// Frames written.
    pub written: u64,
    /// Original frame number of each written frame, in order (the extract's frame `i + 1`).
    pub original_frames: Vec<FrameNumber>,
    /// Frames whose edit failed (written unchanged, or left out when the edit asked).
    pub edit_failures: u64,
}

/// What an edit of a carved frame did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EditOutcome {
    /// Write the frame (possibly changed).
    Keep,
    /// Leave the frame out, with the reason.
    Drop(String),
}

/// Frames of several link types cannot go into one classic pcap.
#[derive(Debug, thiserror::Error)]
pub enum CarveError {
    /// The capture could not be opened.
    #[error(transparent)]
    Capture(#[from] CaptureError),
    /// Writing failed.
    #[error("writing the extract: {0}")]
    Io(#[from] io::Error),
    /// pcap holds one link type.
    #[error("the chosen frames have several link types ({0}); write pcapng instead (--format pcapng or an output name ending in .pcapng)")]
    MixedLinkTypes(String),
}

struct CarveWriter<'w> {
    out: &'w mut dyn Write,
    format: CarveFormat,
    /// Original interface index → (new index, link type) for pcapng.
    interfaces: BTreeMap<u32, u32>,
    header_done: bool,
    link: Option<LinkType>,
    source: String,
}

fn pad4(v: &mut Vec<u8>) {
    while !v.len().is_multiple_of(4) {
        v.push(0);
    }
}

fn option(v: &mut Vec<u8>, code: u16, value: &[u8]) {
    let len = value.len().min(usize::from(u16::MAX) - 3);
    v.extend_from_slice(&code.to_le_bytes());
    v.extend_from_slice(&(len as u16).to_le_bytes());
    v.extend_from_slice(value.get(..len).unwrap_or_default());
    pad4(v);
}

fn block(out: &mut dyn Write, block_type: u32, body: &[u8]) -> io::Result<()> {
    let total = (12 + body.len()) as u32;
    let mut b = Vec::with_capacity(total as usize);
    b.extend_from_slice(&block_type.to_le_bytes());
    b.extend_from_slice(&total.to_le_bytes());
    b.extend_from_slice(body);
    b.extend_from_slice(&total.to_le_bytes());
    out.write_all(&b)
}

impl CarveWriter<'_> {
    fn header(&mut self, link: LinkType) -> Result<(), CarveError> {
        if self.header_done {
            return Ok(());
        }
        self.header_done = true;
        match self.format {
            CarveFormat::Pcap => {
                let mut h = Vec::with_capacity(24);
                h.extend_from_slice(&0xa1b2_3c4d_u32.to_le_bytes());
                h.extend_from_slice(&2u16.to_le_bytes());
                h.extend_from_slice(&4u16.to_le_bytes());
                h.extend_from_slice(&0i32.to_le_bytes());
                h.extend_from_slice(&0u32.to_le_bytes());
                h.extend_from_slice(&262_144u32.to_le_bytes());
                h.extend_from_slice(&u32::from(link.0).to_le_bytes());
                self.out.write_all(&h)?;
            }
            CarveFormat::Pcapng => {
                let mut body = Vec::new();
                body.extend_from_slice(&0x1A2B_3C4D_u32.to_le_bytes());
                body.extend_from_slice(&1u16.to_le_bytes());
                body.extend_from_slice(&0u16.to_le_bytes());
                body.extend_from_slice(&(-1i64).to_le_bytes());
                let comment = format!(
                    "Extracted by tamper {} from {}",
                    env!("CARGO_PKG_VERSION"),
                    self.source
                );
                option(&mut body, 1, comment.as_bytes());
                option(
                    &mut body,
                    4,
                    format!("tamper {}", env!("CARGO_PKG_VERSION")).as_bytes(),
                );
                option(&mut body, 0, &[]);
                block(self.out, 0x0A0D_0D0A, &body)?;
            }
        }
        Ok(())
    }

    fn frame(&mut self, frame: &Frame<'_>, link: LinkType, data: &[u8]) -> Result<(), CarveError> {
        self.header(link)?;
        let ns = frame.ts.as_nanos();
        match self.format {
            CarveFormat::Pcap => {
                match self.link {
                    Some(l) if l != link => {
                        return Err(CarveError::MixedLinkTypes(format!(
                            "{} and {}",
                            l.0, link.0
                        )))
                    }
                    _ => self.link = Some(link),
                }
                let mut r = Vec::with_capacity(16 + data.len());
                let secs = ns.div_euclid(1_000_000_000);
                let frac = ns.rem_euclid(1_000_000_000);
                r.extend_from_slice(&(secs as u32).to_le_bytes());
                r.extend_from_slice(&(frac as u32).to_le_bytes());
                r.extend_from_slice(&(data.len() as u32).to_le_bytes());
                r.extend_from_slice(&frame.orig_len.max(data.len() as u32).to_le_bytes());
                r.extend_from_slice(data);
                self.out.write_all(&r)?;
            }
            CarveFormat::Pcapng => {
                let next = self.interfaces.len() as u32;
                let iface = match self.interfaces.get(&frame.interface) {
                    Some(i) => *i,
                    None => {
                        let mut body = Vec::new();
                        body.extend_from_slice(&link.0.to_le_bytes());
                        body.extend_from_slice(&0u16.to_le_bytes());
                        body.extend_from_slice(&0u32.to_le_bytes());
                        option(&mut body, 9, &[9]);
                        option(&mut body, 0, &[]);
                        block(self.out, 1, &body)?;
                        self.interfaces.insert(frame.interface, next);
                        next
                    }
                };
                let units = ns as u64;
                let mut body = Vec::with_capacity(28 + data.len() + 48);
                body.extend_from_slice(&iface.to_le_bytes());
                body.extend_from_slice(&((units >> 32) as u32).to_le_bytes());
                body.extend_from_slice(&(units as u32).to_le_bytes());
                body.extend_from_slice(&(data.len() as u32).to_le_bytes());
                body.extend_from_slice(&frame.orig_len.max(data.len() as u32).to_le_bytes());
                body.extend_from_slice(data);
                pad4(&mut body);
                let comment = format!("frame {} of {}", frame.number, self.source);
                option(&mut body, 1, comment.as_bytes());
                option(&mut body, 0, &[]);
                block(self.out, 6, &body)?;
            }
        }
        Ok(())
    }
}

/// Copies the frames numbered in `frames` from `input` into a new capture written to `out`,
/// after `edit` (which may change the bytes: anonymization, payload stripping) has seen each.
/// Frames that are not packets (pcapng custom blocks) are never copied. `source` names the
/// original capture in pcapng comments.
pub fn carve(
    input: &InputSource,
    source: &str,
    max_decompressed: u64,
    frames: &BTreeSet<FrameNumber>,
    format: CarveFormat,
    out: &mut dyn Write,
    edit: &mut dyn FnMut(LinkType, &mut Vec<u8>) -> EditOutcome,
) -> Result<CarveStats, CarveError> {
    let mut reader = CaptureReader::open_with_ceiling(input, max_decompressed)?;
    let mut diags = crate::diag::Diagnostics::default();
    let mut w = CarveWriter {
        out,
        format,
        interfaces: BTreeMap::new(),
        header_done: false,
        link: None,
        source: source.to_string(),
    };
    let mut stats = CarveStats::default();
    let last = frames.iter().next_back().copied();
    let mut buf = Vec::new();
    while let Some(frame) = reader.next_frame(&mut diags) {
        if Some(frame.number) > last {
            break;
        }
        if !frames.contains(&frame.number) {
            continue;
        }
        let FrameContent::Packet(link) = frame.content else {
            continue;
        };
        buf.clear();
        buf.extend_from_slice(frame.data);
        match edit(link, &mut buf) {
            EditOutcome::Keep => {}
            EditOutcome::Drop(_) => {
                stats.edit_failures += 1;
                continue;
            }
        }
        w.frame(&frame, link, &buf)?;
        stats.written += 1;
        stats.original_frames.push(frame.number);
    }
    if !w.header_done {
        // An empty extract is still a valid capture.
        w.header(LinkType(1))?;
    }
    w.out.flush()?;
    Ok(stats)
}

/// Cuts a frame after its transport header (TCP, UDP or ICMP), as a snapshot length would:
/// the headers and the original length stay, the payload goes. Returns false when the frame
/// could not be decoded that far (it is then left whole, and the caller should drop it).
pub fn strip_payload(link: LinkType, frame: &mut Vec<u8>) -> bool {
    let Some(keep) = headers_len(link, frame) else {
        return false;
    };
    frame.truncate(keep);
    true
}

fn headers_len(link: LinkType, frame: &[u8]) -> Option<usize> {
    use crate::decode::{self, link as l, Transport};
    let net = l::strip(link, frame).ok()?;
    if net.proto != l::NetProto::Ip {
        // Not IP: nothing we know to be payload; keep only the link header.
        return Some(frame.len() - net.bytes.len());
    }
    let link_len = frame.len() - net.bytes.len();
    let (packet, _) = decode::ip(net.bytes).ok()?;
    let ip_len = net.bytes.len() - packet.payload.len();
    if packet.header.fragment.is_some_and(|f| f.offset != 0) {
        // A later fragment is all payload.
        return Some(link_len + ip_len);
    }
    let l4 = match decode::transport(
        packet.header.protocol,
        packet.payload,
        packet.header.payload_len,
    )
    .ok()?
    {
        Transport::Tcp(_, data) | Transport::Udp(_, data) => packet.payload.len() - data.len(),
        // ICMP errors quote the packet they are about: headers, kept whole.
        Transport::Icmp(..) => packet.payload.len(),
        Transport::Other => 0,
    };
    Some(link_len + ip_len + l4)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flow(first: u64, omitted: u64) -> FlowPackets {
        let ep = |s: &str| {
            let a: std::net::SocketAddr = s.parse().unwrap();
            Endpoint {
                addr: a.ip(),
                port: a.port(),
            }
        };
        FlowPackets {
            id: FlowId {
                first_frame: FrameNumber::new(first).unwrap(),
                depth: 0,
            },
            proto: L4Proto::Tcp,
            client: ep("10.0.0.1:40000"),
            server: ep("192.0.2.1:443"),
            packets: Vec::new(),
            omitted,
        }
    }

    #[test]
    fn omitted_packets_are_named_with_the_caps() {
        let sel = Selection::default();
        let mut c = Collected {
            report: CaptureReport::failed("x".into(), String::new()),
            flows: BTreeMap::new(),
            dns_context: BTreeMap::new(),
            flow_of_frame: BTreeMap::new(),
        };
        c.flows.insert(flow(1, 0).id, flow(1, 0));
        assert_eq!(c.omitted_note(&sel), None);
        c.flows.insert(flow(5, 12).id, flow(5, 12));
        c.dns_context.insert(flow(2, 3).id, flow(2, 3));
        let note = c.omitted_note(&sel).unwrap();
        assert!(note.contains("12 packet(s) of flow 5"), "{note}");
        assert!(
            note.contains(&format!(
                "{DEFAULT_MAX_PACKETS_PER_FLOW} packets per flow, {MAX_PACKETS_TOTAL} in all"
            )),
            "{note}"
        );
        assert!(
            note.contains("3 packet(s) of flow 2 (DNS lookups"),
            "{note}"
        );
    }
}
