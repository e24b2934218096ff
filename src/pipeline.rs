//! Runs the whole analysis of a capture (read, decode, defragment, track flows, extract
//! protocol facts, run detectors) and of many captures in parallel; it wires the layers
//! together and owns no analysis logic of its own.
//!
//! One capture is analyzed on one thread, streaming, in capture order; several captures run
//! in parallel on a rayon pool. Flows, findings and diagnostics are sorted before they leave,
//! so the report is identical for any thread count.

use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::capture::{CaptureReader, Frame, FrameContent, InputSource, ReadEnd};
use crate::decode::{self, ip_proto, link, DecodeError, Inner, IpHeader, Transport};
use crate::defrag::{DefragLimits, DefragOutcome, Defragmenter};
use crate::detect::{self, DetectConfig, Detector, FlowView};
use crate::diag::{DiagnosticKind, Diagnostics};
use crate::finding::FindingSink;
use crate::flow::{
    Endpoint, Flow, FlowEnd, FlowKey, FlowLimits, FlowRecord, FlowTable, HandshakeSide, L4Proto,
    Lookup, PacketRecord, RoleHint, VantageCounter,
};
use crate::ids::{Direction, FlowId, FrameNumber};
use crate::proto::app::{AppItem, AppItemKind, TcpApps};
use crate::proto::baseline::HeaderBaseline;
use crate::proto::dns::parse::{parse_message, DnsLimits, DnsMessage};
use crate::proto::event::{PacketInfo, ProtoEvent};
use crate::proto::http::parse::HttpEvent;
use crate::proto::quic::{looks_like_quic_long_header, DatagramCtx, QuicFlow, QUIC_PORTS};
use crate::proto::tcp::stream::{ReassemblyBudget, StreamLimits};
use crate::proto::tcp::TcpConn;
use crate::proto::tls::parse::TlsEvent;
use crate::proto::transactions::{ClosedTransaction, DnsTrackLimits, DnsTracker};
use crate::report::{
    CaptureReport, CaptureStatus, CaptureSummary, FlowCounts, FlowSummary, LimitsUsed,
    PacketCounts, Report,
};
use crate::time::Timestamp;

/// Tunnels followed at most this deep (IP-in-IP, GRE, VXLAN, Geneve).
pub const MAX_TUNNEL_DEPTH: u8 = 4;
/// DNS over UDP and TCP is recognised on this port.
const DNS_PORT: u16 = 53;

/// Every limit of the analysis, with its default.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Flow table size and timeouts.
    pub flows: FlowLimits,
    /// Per-direction reassembly buffers.
    pub stream: StreamLimits,
    /// Reassembly memory for all flows of a capture together.
    pub reassembly_memory: usize,
    /// DNS transaction table.
    pub dns: DnsTrackLimits,
    /// IP fragment pool.
    pub defrag: DefragLimits,
    /// Bytes a compressed capture may decompress to (`--max-decompressed-bytes`).
    pub max_decompressed: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            flows: FlowLimits::default(),
            stream: StreamLimits::default(),
            reassembly_memory: 512 * 1024 * 1024,
            dns: DnsTrackLimits::default(),
            defrag: DefragLimits::default(),
            max_decompressed: crate::capture::DEFAULT_MAX_DECOMPRESSED,
        }
    }
}

/// When to stop analyzing a capture before the end of its input.
#[derive(Clone, Debug, Default)]
pub struct StopWhen {
    /// Raised (by a Ctrl-C handler) to stop the run: captures being analyzed stop at their
    /// next check, captures not yet started are not started.
    pub interrupt: Option<std::sync::Arc<std::sync::atomic::AtomicBool>>,
    /// Wall-clock time one capture's analysis may take (`--time-budget`); what was read
    /// before it ran out is analyzed and reported, the capture `partial`.
    pub time_budget: Option<std::time::Duration>,
}

/// The stop conditions are checked once every this many frames (and before the first).
pub const STOP_CHECK_FRAMES: u64 = 256;

impl StopWhen {
    /// True once the run was interrupted.
    pub fn interrupted(&self) -> bool {
        self.interrupt
            .as_ref()
            .is_some_and(|f| f.load(std::sync::atomic::Ordering::Relaxed))
    }
}

/// Options of one analysis run.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Limits.
    pub limits: Limits,
    /// When to stop before the end of a capture (interrupt, time budget).
    pub stop: StopWhen,
    /// Keep a summary of every flow (for `--flows` and `tamper flows`).
    pub collect_flows: bool,
    /// Run no detectors (for `tamper flows`).
    pub skip_detectors: bool,
    /// Detector settings.
    pub detect: DetectConfig,
}

/// Detector settings with the bundled blocking fingerprints followed by the rows of
/// `fingerprint_files`, merged in the given order (a later row replaces an earlier one of the
/// same name).
pub fn detect_config(
    fingerprint_files: &[PathBuf],
) -> Result<DetectConfig, detect::fingerprints::FingerprintError> {
    let mut config = DetectConfig::default();
    if fingerprint_files.is_empty() {
        return Ok(config);
    }
    let mut set = detect::fingerprints::FingerprintSet::clone(&config.fingerprints);
    for file in fingerprint_files {
        set.merge(detect::fingerprints::FingerprintSet::load_file(file)?);
    }
    config.fingerprints = std::sync::Arc::new(set);
    Ok(config)
}

/// Analyzes several inputs in parallel (on the current rayon pool) and builds the report;
/// captures keep the order of `inputs`.
pub fn analyze_all(inputs: &[InputSource], options: &Options) -> Report {
    let captures: Vec<CaptureReport> = inputs
        .par_iter()
        .map(|input| analyze_input(input, options, None))
        .collect();
    Report::new(captures)
}

/// Analyzes one input with the shipped detectors, or with `detectors` when given.
pub fn analyze_input(
    input: &InputSource,
    options: &Options,
    detectors: Option<Vec<Box<dyn Detector>>>,
) -> CaptureReport {
    let name = input.display_name();
    if options.stop.interrupted() {
        return CaptureReport::failed(name, crate::report::NOT_STARTED_INTERRUPTED.to_string());
    }
    match CaptureReader::open_with_ceiling(input, options.limits.max_decompressed) {
        Ok(reader) => analyze_reader(name, reader, options, detectors),
        Err(e) => CaptureReport::failed(name, e.to_string()),
    }
}

/// Analyzes an opened capture.
pub fn analyze_reader(
    name: String,
    reader: CaptureReader,
    options: &Options,
    detectors: Option<Vec<Box<dyn Detector>>>,
) -> CaptureReport {
    analyze_reader_tapped(name, reader, options, detectors, None)
}

/// What a [`PacketTap`] is told about one packet the pipeline assigned to a flow.
#[derive(Clone, Copy, Debug)]
pub struct TappedPacket<'a> {
    /// The flow.
    pub flow: FlowId,
    /// Its transport protocol.
    pub proto: L4Proto,
    /// The flow's client.
    pub client: Endpoint,
    /// The flow's server.
    pub server: Endpoint,
    /// The header facts the flow's log keeps (frame, time, direction, TTL, IP ID, TCP fields).
    pub record: PacketRecord,
    /// The transport payload as captured (possibly cut by the snapshot length).
    pub payload: &'a [u8],
    /// Every fragment's frame when the packet was reassembled from IP fragments (empty
    /// otherwise; the last one is `record.frame`).
    pub fragment_frames: &'a [FrameNumber],
}

/// Watches the pipeline's packets without changing the analysis: used to show and carve the
/// packets of chosen flows (`tamper explain`, `tamper extract`, report pictures).
pub trait PacketTap {
    /// Every frame read, before it is analyzed.
    fn frame(&mut self, _frame: &Frame<'_>) {}
    /// A TCP or UDP packet, once its flow is known.
    fn packet(&mut self, _packet: &TappedPacket<'_>) {}
    /// An ICMP error whose quoted packet belongs to a tracked flow.
    fn icmp_error(&mut self, _icmp: &TappedIcmp) {}
}

/// What a [`PacketTap`] is told about an ICMP error quoting a flow's packet.
#[derive(Clone, Copy, Debug)]
pub struct TappedIcmp {
    /// The ICMP message's frame.
    pub frame: FrameNumber,
    /// Its time.
    pub ts: Timestamp,
    /// The flow its quoted packet belongs to.
    pub flow: FlowId,
    /// Who sent the ICMP message.
    pub from: std::net::IpAddr,
    /// Its TTL / hop limit.
    pub ttl: u8,
    /// ICMPv6 rather than ICMPv4.
    pub v6: bool,
    /// ICMP type.
    pub icmp_type: u8,
    /// ICMP code.
    pub code: u8,
}

/// Analyzes an opened capture and tells `tap` about every packet.
pub fn analyze_reader_tapped(
    name: String,
    mut reader: CaptureReader,
    options: &Options,
    detectors: Option<Vec<Box<dyn Detector>>>,
    tap: Option<&mut dyn PacketTap>,
) -> CaptureReport {
    let detectors = match detectors {
        Some(d) => d,
        None if options.skip_detectors => Vec::new(),
        None => detect::all_detectors(&options.detect),
    };
    let mut a = Analyzer::new(name, options, detectors);
    a.tap = tap;
    let mut first_ts: Option<Timestamp> = None;
    let mut last_ts: Option<Timestamp> = None;
    let started = std::time::Instant::now();
    let mut stopped = None;
    loop {
        if reader.frames_read().is_multiple_of(STOP_CHECK_FRAMES) {
            stopped = stop_now(&options.stop, started, reader.frames_read());
            if stopped.is_some() {
                break;
            }
        }
        let Some(frame) = reader.next_frame(&mut a.diags) else {
            break;
        };
        first_ts.get_or_insert(frame.ts);
        last_ts = Some(last_ts.map_or(frame.ts, |l| l.max(frame.ts)));
        a.on_frame(&frame);
    }
    let read_end = match stopped {
        Some((detail, interrupted)) => {
            if !interrupted {
                a.diags
                    .note(DiagnosticKind::LimitReachedTimeBudget, None, || {
                        detail.clone()
                    });
            }
            ReadEnd::Stopped {
                offset: reader.bytes_consumed(),
                detail,
                interrupted,
            }
        }
        None => reader.end_state().cloned().unwrap_or(ReadEnd::Complete),
    };
    let summary = CaptureSummary {
        format: reader.format(),
        compression: reader.compression().to_vec(),
        interfaces: reader.interfaces().to_vec(),
        frames: reader.frames_read(),
        bytes: reader.bytes_consumed(),
        first_ts,
        last_ts,
        read_end: read_end.clone(),
        flows: FlowCounts::default(),
        packets: PacketCounts::default(),
        limits: LimitsUsed::default(),
    };
    a.finish(summary, read_end)
}

/// Whether to stop before reading the next frame: why (with how far it got), and whether
/// it is an interrupt rather than the time budget.
fn stop_now(stop: &StopWhen, started: std::time::Instant, frames: u64) -> Option<(String, bool)> {
    if stop.interrupted() {
        return Some((format!("interrupted after {frames} frames"), true));
    }
    let budget = stop.time_budget?;
    let spent = started.elapsed();
    (spent >= budget).then(|| {
        (
            format!(
                "the time budget of {} s ran out after {frames} frames ({:.1} s spent): the rest of the capture was not analyzed",
                budget.as_secs_f64(),
                spent.as_secs_f64()
            ),
            false,
        )
    })
}

/// Per-flow protocol state.
enum Conn {
    Tcp(Box<TcpState>),
    Udp(Box<UdpState>),
}

struct TcpState {
    tcp: TcpConn,
    apps: TcpApps,
    app_label_set: bool,
    prefix_full_reported: [bool; 2],
    /// HTTP response heads waiting for their body excerpt: (frames, ts, head).
    pending_response: Option<(
        Vec<FrameNumber>,
        Timestamp,
        Box<crate::proto::http::parse::ResponseHead>,
    )>,
}

struct UdpState {
    baselines: [HeaderBaseline; 2],
    /// QUIC state, once a datagram of the flow was taken for QUIC.
    quic: Option<Box<QuicFlow>>,
}

/// The state of one capture's analysis.
struct Analyzer<'t> {
    tap: Option<&'t mut dyn PacketTap>,
    /// Fragment frames of the datagram being processed (empty unless reassembled).
    fragment_frames: Vec<FrameNumber>,
    name: String,
    limits: Limits,
    collect_flows: bool,
    diags: Diagnostics,
    defrag: Defragmenter,
    flows: FlowTable<Conn>,
    dns: DnsTracker,
    dns_limits: DnsLimits,
    budget: ReassemblyBudget,
    budget_refusals_seen: u64,
    detectors: Vec<Box<dyn Detector>>,
    sink: FindingSink,
    packets: PacketCounts,
    flow_counts: FlowCounts,
    flow_summaries: Vec<FlowSummary>,
    vantage: VantageCounter,
    events: Vec<ProtoEvent>,
    items: Vec<AppItem>,
    now: Timestamp,
}

/// Facts of the frame being processed, passed down the layers.
#[derive(Clone, Copy)]
struct FrameCtx {
    number: FrameNumber,
    ts: Timestamp,
    wire_len: u32,
}

impl<'t> Analyzer<'t> {
    fn new(name: String, options: &Options, detectors: Vec<Box<dyn Detector>>) -> Analyzer<'t> {
        let limits = options.limits;
        Analyzer {
            tap: None,
            fragment_frames: Vec::new(),
            name,
            limits,
            collect_flows: options.collect_flows,
            diags: Diagnostics::default(),
            defrag: Defragmenter::new(limits.defrag),
            flows: FlowTable::new(limits.flows),
            dns: DnsTracker::new(limits.dns),
            dns_limits: DnsLimits::default(),
            budget: ReassemblyBudget::new(limits.reassembly_memory),
            budget_refusals_seen: 0,
            detectors,
            sink: FindingSink::new(),
            packets: PacketCounts::default(),
            flow_counts: FlowCounts::default(),
            flow_summaries: Vec::new(),
            vantage: VantageCounter::new(),
            events: Vec::new(),
            items: Vec::new(),
            now: Timestamp::EPOCH,
        }
    }

    fn on_frame(&mut self, frame: &Frame<'_>) {
        if let Some(tap) = self.tap.as_mut() {
            tap.frame(frame);
        }
        if frame.ts > self.now {
            self.now = frame.ts;
            self.defrag.expire(self.now, &mut self.diags);
            let expired = self.flows.advance(self.now);
            for f in expired {
                self.end_flow(f);
            }
            let closed = self.dns.expire(self.now);
            self.dispatch_transactions(closed, None);
        }
        let FrameContent::Packet(link_type) = frame.content else {
            return;
        };
        let ctx = FrameCtx {
            number: frame.number,
            ts: frame.ts,
            wire_len: frame.orig_len,
        };
        match link::strip(link_type, frame.data) {
            Ok(net) => match net.proto {
                link::NetProto::Ip => self.on_ip(ctx, net.bytes, 0),
                link::NetProto::Other(ty) => {
                    self.packets.not_ip += 1;
                    self.diags
                        .note(DiagnosticKind::LinkPayloadNotIp, Some(ctx.number), || {
                            format!("frame {}: network protocol 0x{ty:04x}, not IP", ctx.number)
                        });
                }
            },
            Err(link::LinkError::Unsupported(lt)) => {
                self.packets.undecoded += 1;
                self.diags.note(
                    DiagnosticKind::LinkTypeUnsupported,
                    Some(ctx.number),
                    || format!("frame {}: link type {lt} is not decoded", ctx.number),
                );
            }
            Err(link::LinkError::Invalid(why)) => {
                self.packets.undecoded += 1;
                self.diags
                    .note(DiagnosticKind::LinkHeaderInvalid, Some(ctx.number), || {
                        format!("frame {}: {why}", ctx.number)
                    });
            }
        }
    }

    fn on_ip(&mut self, ctx: FrameCtx, bytes: &[u8], depth: u8) {
        let (packet, ext_err) = match decode::ip(bytes) {
            Ok(p) => p,
            Err(e) => {
                if depth == 0 {
                    self.packets.undecoded += 1;
                }
                self.decode_error(ctx, e);
                return;
            }
        };
        if let Some(e) = ext_err {
            self.decode_error(ctx, e);
        }
        if depth == 0 {
            self.packets.ip += 1;
        }
        let header = packet.header;
        if let Some(frag) = header.fragment {
            self.packets.fragments += 1;
            let outcome = self.defrag.push(
                &header,
                frag,
                packet.payload,
                ctx.number,
                ctx.ts,
                &mut self.diags,
            );
            if let DefragOutcome::Complete(r) = outcome {
                let mut h = r.header;
                let mut payload: &[u8] = &r.payload;
                if h.version == decode::IpVersion::V6 {
                    let (proto, rest) = decode::skip_ipv6_extensions(h.protocol, payload);
                    h.protocol = proto;
                    h.payload_len = rest.len() as u32;
                    payload = rest;
                }
                if self.tap.is_some() {
                    self.fragment_frames.clone_from(&r.frames);
                }
                self.on_l4(ctx, &h, payload, depth, true);
                self.fragment_frames.clear();
            }
            return;
        }
        self.on_l4(ctx, &header, packet.payload, depth, false);
    }

    fn decode_error(&mut self, ctx: FrameCtx, e: DecodeError) {
        let n = ctx.number;
        let (kind, detail) = match e {
            DecodeError::Ip(d) => (DiagnosticKind::IpHeaderInvalid, d),
            DecodeError::IpExtension(d) => (DiagnosticKind::IpExtensionInvalid, d),
            DecodeError::Tcp(d) => (DiagnosticKind::TcpHeaderInvalid, d),
            DecodeError::Udp(d) => (DiagnosticKind::UdpHeaderInvalid, d),
            DecodeError::Icmp(d) => (DiagnosticKind::IcmpInvalid, d),
        };
        self.diags
            .note(kind, Some(n), || format!("frame {n}: {detail}"));
    }

    fn tunnel(&mut self, ctx: FrameCtx, inner: Inner<'_>, depth: u8) {
        if matches!(inner, Inner::None) {
            return;
        }
        if depth >= MAX_TUNNEL_DEPTH {
            self.diags.note(
                DiagnosticKind::TunnelDepthExceeded,
                Some(ctx.number),
                || {
                    format!(
                        "frame {}: more than {MAX_TUNNEL_DEPTH} nested tunnels",
                        ctx.number
                    )
                },
            );
            return;
        }
        let next = depth + 1;
        match inner {
            Inner::Ip(b) => self.on_ip(ctx, b, next),
            Inner::Ethernet(b) => match link::ethernet(b, 0) {
                Ok(net) if net.proto == link::NetProto::Ip => self.on_ip(ctx, net.bytes, next),
                Ok(_) => {}
                Err(link::LinkError::Invalid(why)) => {
                    self.diags
                        .note(DiagnosticKind::LinkHeaderInvalid, Some(ctx.number), || {
                            format!("frame {}: tunnelled Ethernet: {why}", ctx.number)
                        })
                }
                Err(link::LinkError::Unsupported(_)) => {}
            },
            Inner::Ppp(b) => {
                if let Ok(net) = link::strip(crate::capture::LinkType::PPP, b) {
                    if net.proto == link::NetProto::Ip {
                        self.on_ip(ctx, net.bytes, next);
                    }
                }
            }
            Inner::None => {}
        }
    }

    fn on_l4(
        &mut self,
        ctx: FrameCtx,
        ip: &IpHeader,
        payload: &[u8],
        depth: u8,
        reassembled: bool,
    ) {
        match ip.protocol {
            ip_proto::IPIP | ip_proto::IPV6 => {
                self.tunnel(ctx, Inner::Ip(payload), depth);
                return;
            }
            ip_proto::GRE => {
                self.tunnel(ctx, decode::gre(payload), depth);
                return;
            }
            _ => {}
        }
        let transport = match decode::transport(ip.protocol, payload, ip.payload_len) {
            Ok(t) => t,
            Err(e) => {
                self.decode_error(ctx, e);
                return;
            }
        };
        match transport {
            Transport::Tcp(tcp, data) => self.on_tcp(ctx, ip, &tcp, data, depth, reassembled),
            Transport::Udp(udp, data) => {
                self.on_udp(ctx, ip, &udp, data, depth, reassembled);
                if udp.dst_port == decode::VXLAN_PORT || udp.dst_port == decode::GENEVE_PORT {
                    self.tunnel(ctx, decode::udp_tunnel(udp.dst_port, data), depth);
                }
            }
            Transport::Icmp(icmp, quoted) => self.on_icmp(ctx, ip, icmp, quoted, depth),
            Transport::Other => {}
        }
    }

    // ----- TCP ---------------------------------------------------------------------------

    fn on_tcp(
        &mut self,
        ctx: FrameCtx,
        ip: &IpHeader,
        tcp: &decode::TcpHeader,
        data: &[u8],
        depth: u8,
        reassembled: bool,
    ) {
        let src = Endpoint {
            addr: ip.src,
            port: tcp.src_port,
        };
        let dst = Endpoint {
            addr: ip.dst,
            port: tcp.dst_port,
        };
        let key = FlowKey::new(L4Proto::Tcp, src, dst, depth);
        // Port reuse: a new SYN with a different initial sequence number ends the old flow.
        let reuse = match self.flows.get_mut(&key) {
            Some(f) => {
                let dir = if src == f.record.client {
                    Direction::ClientToServer
                } else {
                    Direction::ServerToClient
                };
                match &f.state {
                    Conn::Tcp(t) => t.tcp.is_port_reuse(dir, tcp.flags, tcp.seq),
                    Conn::Udp(_) => false,
                }
            }
            None => false,
        };
        if reuse {
            if let Some(old) = self.flows.remove(&key) {
                self.end_flow(old);
            }
        }
        let mut ended = Vec::new();
        let hint = RoleHint {
            tcp_flags: Some(tcp.flags),
            dns_response: None,
        };
        let lookup = self.flows.lookup(
            key,
            src,
            dst,
            hint,
            ctx.number,
            ctx.ts,
            |record| {
                Conn::Tcp(Box::new(TcpState {
                    tcp: TcpConn::new(),
                    apps: TcpApps::new(record.server.port),
                    app_label_set: false,
                    prefix_full_reported: [false, false],
                    pending_response: None,
                }))
            },
            &mut ended,
        );
        let (flow, dir, created) = match lookup {
            Lookup::Flow { flow, dir, created } => (flow, dir, created),
            Lookup::Full => {
                self.packets.untracked += 1;
                let max = self.limits.flows.max_flows;
                self.diags.note(
                    DiagnosticKind::LimitReachedFlowTable,
                    Some(ctx.number),
                    || {
                        format!(
                            "frame {}: {max} flows tracked; this packet's flow was not analyzed",
                            ctx.number
                        )
                    },
                );
                for f in ended {
                    self.end_flow(f);
                }
                return;
            }
        };
        if created {
            self.flow_counts.tcp += 1;
        }
        let Conn::Tcp(state) = &mut flow.state else {
            return;
        };
        let record = &mut flow.record;
        count_packet(record, dir, &ctx, u64::from(tcp.payload_len));
        let rec = PacketRecord::new(
            ctx.number,
            ctx.ts,
            dir,
            ip,
            Some((tcp.flags, tcp.seq, tcp.ack, tcp.window)),
            tcp.payload_len,
        );
        record.log.push(rec);
        if let Some(tap) = self.tap.as_mut() {
            tap.packet(&TappedPacket {
                flow: record.id,
                proto: L4Proto::Tcp,
                client: record.client,
                server: record.server,
                record: rec,
                payload: data,
                fragment_frames: &self.fragment_frames,
            });
        }

        let TcpState {
            tcp: conn,
            apps,
            app_label_set,
            prefix_full_reported,
            pending_response,
        } = &mut **state;
        let items = &mut self.items;
        items.clear();
        let (seg, outcome) = conn.on_segment(
            ctx.number,
            ctx.ts,
            dir,
            ip,
            tcp,
            data,
            &self.limits.stream,
            &mut self.budget,
            &mut |d, off, bytes, _frame| {
                if apps.wants(d) {
                    apps.feed(d, off, bytes, items);
                }
            },
        );
        if tcp.flags.fin() {
            apps.finish(dir, items);
        }
        // History letters.
        let h = &mut record.history;
        if tcp.flags.syn() && !tcp.flags.ack() {
            h.add_dir('s', dir);
        } else if tcp.flags.syn() {
            h.add_dir('h', dir);
        }
        if tcp.flags.rst() {
            h.add_dir('r', dir);
        }
        if tcp.flags.fin() {
            h.add_dir('f', dir);
        }
        if tcp.payload_len > 0 {
            h.add_dir('d', dir);
        } else if tcp.flags.ack() && !tcp.flags.syn() && !tcp.flags.fin() && !tcp.flags.rst() {
            h.add_dir('a', dir);
        }
        use crate::proto::tcp::SeqClass;
        match seg.class {
            SeqClass::Retransmission | SeqClass::PartialRetransmission => h.add_dir('t', dir),
            SeqClass::AfterGap => h.add_dir('g', dir),
            _ => {}
        }
        if tcp.window == 0 && !tcp.flags.rst() && !tcp.flags.syn() {
            h.add_dir('w', dir);
        }
        if let Some(kind) = apps.kind() {
            if !*app_label_set {
                record.labels.app = kind.label();
                *app_label_set = true;
            }
        }
        // Stop feeding parsers that are done.
        for d in [Direction::ClientToServer, Direction::ServerToClient] {
            if apps.kind().is_some() && !apps.wants(d) && conn.deliver[d.index()] {
                conn.stop_delivery(d, &mut self.budget);
            }
        }
        if outcome.prefix_full && !prefix_full_reported[dir.index()] {
            prefix_full_reported[dir.index()] = true;
            let cap = self.limits.stream.prefix_bytes;
            self.diags.note(DiagnosticKind::LimitReachedReassemblyBytes, Some(ctx.number), || {
                format!(
                    "flow {}: the first {cap} bytes {} are kept; later bytes are parsed in order but not kept",
                    record.id,
                    crate::finding::from_whom(dir)
                )
            });
        }
        if self.budget.refused() > self.budget_refusals_seen {
            self.budget_refusals_seen = self.budget.refused();
            let max = self.budget.max();
            self.diags.note(DiagnosticKind::LimitReachedReassemblyMemory, Some(ctx.number), || {
                format!("reassembly memory budget of {max} bytes spent; flow {} is not fully reassembled", record.id)
            });
        }
        if outcome.closed {
            flow.closed_at = Some(ctx.ts);
        }

        // Events.
        let events = &mut self.events;
        events.clear();
        events.push(ProtoEvent::Packet(PacketInfo {
            frame: ctx.number,
            ts: ctx.ts,
            dir,
            ip: *ip,
            wire_len: ctx.wire_len,
            payload_len: tcp.payload_len,
            tcp: Some(seg),
            reassembled,
        }));
        if outcome.handshake_completed {
            events.push(ProtoEvent::TcpHandshake(conn.handshake));
        }
        if tcp.flags.rst() && !data.is_empty() {
            events.push(ProtoEvent::TcpRstPayload {
                dir,
                frame: ctx.number,
                bytes: data.get(..64).unwrap_or(data).to_vec(),
            });
        }
        if let Some(conflict) = outcome.conflict {
            events.push(ProtoEvent::TcpOverlapConflict {
                dir,
                frame: ctx.number,
                conflict,
            });
        }
        let mid_stream = [
            conn.half(Direction::ClientToServer).isn.is_none(),
            conn.half(Direction::ServerToClient).isn.is_none(),
        ];
        let mut dns_messages = Vec::new();
        for item in self.items.drain(..) {
            let frames = {
                let mut f = conn
                    .stream(item.dir)
                    .frames_for(item.start, item.end.max(item.start + 1));
                if !f.contains(&ctx.number) && item.dir == dir {
                    f.push(ctx.number);
                    f.sort();
                }
                f
            };
            app_item(
                item,
                frames,
                ctx,
                record,
                pending_response,
                mid_stream,
                &mut self.diags,
                events,
                &mut dns_messages,
            );
        }
        let record_ref: &FlowRecord = &flow.record;
        let view = FlowView {
            record: record_ref,
            tcp: match &flow.state {
                Conn::Tcp(t) => Some(&t.tcp),
                Conn::Udp(_) => None,
            },
            udp_baselines: None,
        };
        for ev in events.iter() {
            for d in self.detectors.iter_mut() {
                d.on_event(&view, ev, &mut self.sink);
            }
        }
        let flow_id = flow.record.id;
        for (dir_m, frame_m, msg) in dns_messages {
            self.on_dns_message(key, flow_id, L4Proto::Tcp, dir_m, frame_m, ctx.ts, ip, msg);
        }
        for f in ended {
            self.end_flow(f);
        }
    }

    // ----- UDP ---------------------------------------------------------------------------

    fn on_udp(
        &mut self,
        ctx: FrameCtx,
        ip: &IpHeader,
        udp: &decode::UdpHeader,
        data: &[u8],
        depth: u8,
        reassembled: bool,
    ) {
        let src = Endpoint {
            addr: ip.src,
            port: udp.src_port,
        };
        let dst = Endpoint {
            addr: ip.dst,
            port: udp.dst_port,
        };
        let is_dns_port = udp.src_port == DNS_PORT || udp.dst_port == DNS_PORT;
        // A datagram cut by the snapshot length is parsed as far as it goes; its missing end
        // is not a malformed message (packet_snaplen_cut already says so).
        let cut = (data.len() as u32) < udp.payload_len;
        let dns = if is_dns_port {
            match parse_message(data, &self.dns_limits) {
                Ok(m) => Some(m),
                Err(e) => {
                    if !cut {
                        self.diags.note(
                            DiagnosticKind::DnsMessageMalformed,
                            Some(ctx.number),
                            || format!("frame {}: {e}", ctx.number),
                        );
                    }
                    None
                }
            }
        } else {
            None
        };
        let key = FlowKey::new(L4Proto::Udp, src, dst, depth);
        let hint = RoleHint {
            tcp_flags: None,
            dns_response: dns.as_ref().map(DnsMessage::is_response),
        };
        let mut ended = Vec::new();
        let lookup = self.flows.lookup(
            key,
            src,
            dst,
            hint,
            ctx.number,
            ctx.ts,
            |_| {
                Conn::Udp(Box::new(UdpState {
                    baselines: Default::default(),
                    quic: None,
                }))
            },
            &mut ended,
        );
        let (flow, dir, created) = match lookup {
            Lookup::Flow { flow, dir, created } => (flow, dir, created),
            Lookup::Full => {
                self.packets.untracked += 1;
                let max = self.limits.flows.max_flows;
                self.diags.note(
                    DiagnosticKind::LimitReachedFlowTable,
                    Some(ctx.number),
                    || {
                        format!(
                            "frame {}: {max} flows tracked; this packet's flow was not analyzed",
                            ctx.number
                        )
                    },
                );
                for f in ended {
                    self.end_flow(f);
                }
                return;
            }
        };
        if created {
            self.flow_counts.udp += 1;
        }
        let record = &mut flow.record;
        count_packet(record, dir, &ctx, u64::from(udp.payload_len));
        let rec = PacketRecord::new(ctx.number, ctx.ts, dir, ip, None, udp.payload_len);
        record.log.push(rec);
        if let Some(tap) = self.tap.as_mut() {
            tap.packet(&TappedPacket {
                flow: record.id,
                proto: L4Proto::Udp,
                client: record.client,
                server: record.server,
                record: rec,
                payload: data,
                fragment_frames: &self.fragment_frames,
            });
        }
        if udp.payload_len > 0 {
            record.history.add_dir('d', dir);
        }
        if let Conn::Udp(state) = &mut flow.state {
            state.baselines[dir.index()].learn(ctx.number, ip.ttl, ip.ip_id, ip.df, None);
        }
        if let Some(m) = &dns {
            record.labels.app = Some("dns");
            if record.labels.dns_query.is_none() {
                record.labels.dns_query = m.question().map(|q| q.name.to_lowercase());
            }
        }
        let flow_id = record.id;
        let packet = ProtoEvent::Packet(PacketInfo {
            frame: ctx.number,
            ts: ctx.ts,
            dir,
            ip: *ip,
            wire_len: ctx.wire_len,
            payload_len: udp.payload_len,
            tcp: None,
            reassembled,
        });
        let view = FlowView {
            record: &flow.record,
            tcp: None,
            udp_baselines: match &flow.state {
                Conn::Udp(u) => Some(&u.baselines),
                Conn::Tcp(_) => None,
            },
        };
        for d in self.detectors.iter_mut() {
            d.on_event(&view, &packet, &mut self.sink);
        }
        // QUIC: on a QUIC port, or when the datagram itself is a QUIC long header; never on
        // the DNS port.
        if !is_dns_port {
            self.events.clear();
            let mut is_quic = false;
            if let Conn::Udp(state) = &mut flow.state {
                let quic_port =
                    QUIC_PORTS.contains(&udp.src_port) || QUIC_PORTS.contains(&udp.dst_port);
                if state.quic.is_none() && (quic_port || looks_like_quic_long_header(data)) {
                    state.quic = Some(Box::new(QuicFlow::new(quic_port)));
                }
                if let Some(quic) = state.quic.as_deref_mut() {
                    let qctx = DatagramCtx {
                        dir,
                        frame: ctx.number,
                        ts: ctx.ts,
                        cut,
                    };
                    quic.on_datagram(
                        qctx,
                        data,
                        &mut self.diags,
                        &mut self.budget,
                        &mut self.events,
                    );
                    is_quic = quic.is_quic();
                }
            }
            if is_quic && flow.record.labels.app.is_none() {
                flow.record.labels.app = Some("quic");
            }
            let view = flow_view(flow);
            for ev in self.events.iter() {
                for d in self.detectors.iter_mut() {
                    d.on_event(&view, ev, &mut self.sink);
                }
            }
            self.note_budget_refusals(ctx.number, flow_id);
        }
        if let Some(mut m) = dns {
            if cut {
                m.malformed = None;
            }
            self.on_dns_message(key, flow_id, L4Proto::Udp, dir, ctx.number, ctx.ts, ip, m);
        }
        for f in ended {
            self.end_flow(f);
        }
    }

    /// Reports a refusal of the shared reassembly budget since the last one reported.
    fn note_budget_refusals(&mut self, frame: FrameNumber, flow_id: crate::ids::FlowId) {
        if self.budget.refused() > self.budget_refusals_seen {
            self.budget_refusals_seen = self.budget.refused();
            let max = self.budget.max();
            self.diags.note(DiagnosticKind::LimitReachedReassemblyMemory, Some(frame), || {
                format!("reassembly memory budget of {max} bytes spent; flow {flow_id} is not fully reassembled")
            });
        }
    }

    /// Tracks a DNS message and hands the resulting events to detectors.
    #[allow(clippy::too_many_arguments)] // The message's facts.
    fn on_dns_message(
        &mut self,
        key: FlowKey,
        flow_id: crate::ids::FlowId,
        transport: L4Proto,
        dir: Direction,
        frame: FrameNumber,
        ts: Timestamp,
        ip: &IpHeader,
        msg: DnsMessage,
    ) {
        if let Some(m) = &msg.malformed {
            self.diags
                .note(DiagnosticKind::DnsMessageMalformed, Some(frame), || {
                    format!(
                    "frame {frame}: DNS message malformed ({:?} at byte {} in the {:?} section)",
                    m.kind, m.offset, m.section
                )
                });
        }
        let event = if msg.is_response() {
            let (query, nth) = self.dns.on_response(flow_id, frame, ts, ip, &msg);
            ProtoEvent::DnsResponse {
                transport,
                dir,
                frame,
                ts,
                ip: *ip,
                message: Box::new(msg),
                query: query.map(Box::new),
                nth,
            }
        } else {
            let (retransmission, closed) = self.dns.on_query(
                key,
                flow_id,
                transport,
                frame,
                ts,
                ip,
                &msg,
                &mut self.diags,
            );
            self.dispatch_transactions(closed, None);
            ProtoEvent::DnsQuery {
                transport,
                dir,
                frame,
                ts,
                ip: *ip,
                message: Box::new(msg),
                retransmission,
            }
        };
        if let Some(flow) = self.flows.get_mut(&key) {
            let view = flow_view(flow);
            for d in self.detectors.iter_mut() {
                d.on_event(&view, &event, &mut self.sink);
            }
        }
    }

    /// Hands closed DNS transactions to detectors, with their flow (live, or the one ending).
    fn dispatch_transactions(
        &mut self,
        closed: Vec<ClosedTransaction>,
        ending: Option<&Flow<Conn>>,
    ) {
        for c in closed {
            let event = ProtoEvent::DnsTransaction {
                transport: c.transport,
                query: Box::new(c.query),
                responses: c.responses,
            };
            let flow = match ending {
                Some(f) if f.record.id == c.flow_id => Some(f),
                _ => None,
            };
            match flow {
                Some(f) => {
                    let view = flow_view(f);
                    for d in self.detectors.iter_mut() {
                        d.on_event(&view, &event, &mut self.sink);
                    }
                }
                None => {
                    if let Some(f) = self.flows.get_mut(&c.flow_key) {
                        if f.record.id == c.flow_id {
                            let view = flow_view(f);
                            for d in self.detectors.iter_mut() {
                                d.on_event(&view, &event, &mut self.sink);
                            }
                        }
                    }
                }
            }
        }
    }

    // ----- ICMP --------------------------------------------------------------------------

    fn on_icmp(
        &mut self,
        ctx: FrameCtx,
        ip: &IpHeader,
        icmp: decode::IcmpHeader,
        quoted: &[u8],
        depth: u8,
    ) {
        if !icmp.is_error() {
            return;
        }
        // The quoted packet: its IP header and at least 8 bytes of transport header.
        let Ok((inner, _)) = decode::ip(quoted) else {
            return;
        };
        let h = inner.header;
        let proto = match h.protocol {
            ip_proto::TCP => L4Proto::Tcp,
            ip_proto::UDP => L4Proto::Udp,
            _ => return,
        };
        let Some(ports) = inner.payload.get(..4) else {
            return;
        };
        let sport = u16::from_be_bytes([ports[0], ports[1]]);
        let dport = u16::from_be_bytes([ports[2], ports[3]]);
        let quoted_seq = if proto == L4Proto::Tcp {
            inner.payload.get(4..8).map(|b| {
                crate::proto::tcp::seq::SeqNumber(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
            })
        } else {
            None
        };
        let src = Endpoint {
            addr: h.src,
            port: sport,
        };
        let dst = Endpoint {
            addr: h.dst,
            port: dport,
        };
        let key = FlowKey::new(proto, src, dst, depth);
        let Some(flow) = self.flows.get_mut(&key) else {
            return;
        };
        if let Some(tap) = self.tap.as_mut() {
            tap.icmp_error(&TappedIcmp {
                frame: ctx.number,
                ts: ctx.ts,
                flow: flow.record.id,
                from: ip.src,
                ttl: ip.ttl,
                v6: icmp.v6,
                icmp_type: icmp.icmp_type,
                code: icmp.code,
            });
        }
        let quoted_dir = if src == flow.record.client {
            Direction::ClientToServer
        } else {
            Direction::ServerToClient
        };
        let event = ProtoEvent::IcmpError {
            frame: ctx.number,
            ts: ctx.ts,
            from: ip.src,
            ttl: ip.ttl,
            v6: icmp.v6,
            icmp_type: icmp.icmp_type,
            code: icmp.code,
            quoted_dir,
            quoted_seq,
        };
        let view = flow_view(flow);
        for d in self.detectors.iter_mut() {
            d.on_event(&view, &event, &mut self.sink);
        }
    }

    // ----- flow end and capture end -------------------------------------------------------

    fn end_flow(&mut self, mut flow: Flow<Conn>) {
        // Flush parsers and HTTP responses still waiting for a body.
        if let Conn::Tcp(state) = &mut flow.state {
            let mut items = Vec::new();
            for d in [Direction::ClientToServer, Direction::ServerToClient] {
                state.apps.end(d, &mut items);
            }
            let mut events = Vec::new();
            let mid_stream = [
                state.tcp.half(Direction::ClientToServer).isn.is_none(),
                state.tcp.half(Direction::ServerToClient).isn.is_none(),
            ];
            let ts = flow.record.last_ts;
            let ctx = FrameCtx {
                number: flow.record.id.first_frame,
                ts,
                wire_len: 0,
            };
            let mut dns_messages = Vec::new();
            for item in items {
                let frames = state
                    .tcp
                    .stream(item.dir)
                    .frames_for(item.start, item.end.max(item.start + 1));
                app_item(
                    item,
                    frames,
                    ctx,
                    &mut flow.record,
                    &mut state.pending_response,
                    mid_stream,
                    &mut self.diags,
                    &mut events,
                    &mut dns_messages,
                );
            }
            if let Some((frames, ts, head)) = state.pending_response.take() {
                events.push(ProtoEvent::HttpResponse {
                    dir: Direction::ServerToClient,
                    frames,
                    ts,
                    head,
                    body: None,
                });
            }
            state.tcp.release(&mut self.budget);
            if flow.record.end.is_none()
                || matches!(
                    flow.record.end,
                    Some(FlowEnd::IdleTimeout | FlowEnd::CaptureEnd)
                )
            {
                if let Some(end) = tcp_end(&state.tcp) {
                    flow.record.end = Some(end);
                }
            }
            let view = flow_view(&flow);
            for ev in &events {
                for d in self.detectors.iter_mut() {
                    d.on_event(&view, ev, &mut self.sink);
                }
            }
        }
        let mut quic_events = Vec::new();
        if let Conn::Udp(state) = &mut flow.state {
            if let Some(quic) = state.quic.as_deref_mut() {
                quic.finish(&mut self.budget, &mut quic_events);
            }
        }
        if !quic_events.is_empty() {
            let view = flow_view(&flow);
            for ev in &quic_events {
                for d in self.detectors.iter_mut() {
                    d.on_event(&view, ev, &mut self.sink);
                }
            }
        }
        let closed = self.dns.close_flow(flow.record.id);
        self.dispatch_transactions(closed, Some(&flow));
        let view = flow_view(&flow);
        for d in self.detectors.iter_mut() {
            d.on_flow_end(&view, &mut self.sink);
        }
        let handshake = match &flow.state {
            Conn::Tcp(t) => t.tcp.handshake.vantage.map(|v| match v {
                crate::proto::tcp::Vantage::Client => HandshakeSide::Client,
                crate::proto::tcp::Vantage::Server => HandshakeSide::Server,
                crate::proto::tcp::Vantage::Middle => HandshakeSide::Middle,
            }),
            Conn::Udp(_) => None,
        };
        self.vantage.add(&flow.record, handshake);
        if self.collect_flows {
            self.flow_summaries.push(summarize(&self.name, &flow));
        }
    }

    fn finish(mut self, mut summary: CaptureSummary, read_end: ReadEnd) -> CaptureReport {
        self.defrag.finish(&mut self.diags);
        for f in self.flows.drain() {
            self.end_flow(f);
        }
        let leftovers = self.dns.drain();
        self.dispatch_transactions(leftovers, None);
        for d in self.detectors.iter_mut() {
            d.finish(&mut self.sink);
        }
        for (kind, frame, detail) in self.sink.take_diagnostics() {
            self.diags.note(kind, frame, || detail);
        }
        summary.flows = FlowCounts {
            peak: self.flows.peak() as u64,
            ..self.flow_counts
        };
        summary.packets = self.packets;
        summary.limits = limits_used(&self.limits);
        let status = match &read_end {
            ReadEnd::Complete => CaptureStatus::Complete,
            ReadEnd::Truncated { detail, .. }
            | ReadEnd::Invalid { detail, .. }
            | ReadEnd::ReadError { detail, .. }
            | ReadEnd::Stopped { detail, .. } => CaptureStatus::Partial {
                reason: detail.clone(),
            },
        };
        let mut flows = std::mem::take(&mut self.flow_summaries);
        flows.sort_by_key(|f| f.id);
        let refused = self.sink.refused().len();
        if refused > 0 {
            eprintln!("tamper: internal error: {refused} finding(s) without evidence were dropped");
        }
        CaptureReport {
            name: self.name,
            status,
            summary: Some(summary),
            findings: self.sink.into_sorted(),
            flows,
            diagnostics: self.diags.into_summaries(),
            source: None,
            vantage: Some(self.vantage.finish()),
        }
    }
}

/// The limits as reports record them.
pub fn limits_used(limits: &Limits) -> LimitsUsed {
    LimitsUsed {
        max_flows: limits.flows.max_flows as u64,
        flow_timeout_secs: (limits.flows.idle_timeout.as_nanos() / 1_000_000_000) as u64,
        reassembly_bytes: u64::from(limits.stream.prefix_bytes),
        reassembly_memory: limits.reassembly_memory as u64,
        max_pending_dns: limits.dns.max_pending as u64,
        max_fragments_in_flight: limits.defrag.max_datagrams as u64,
    }
}

fn flow_view(flow: &Flow<Conn>) -> FlowView<'_> {
    FlowView {
        record: &flow.record,
        tcp: match &flow.state {
            Conn::Tcp(t) => Some(&t.tcp),
            Conn::Udp(_) => None,
        },
        udp_baselines: match &flow.state {
            Conn::Udp(u) => Some(&u.baselines),
            Conn::Tcp(_) => None,
        },
    }
}

fn count_packet(record: &mut FlowRecord, dir: Direction, ctx: &FrameCtx, payload: u64) {
    let s = &mut record.stats[dir.index()];
    s.packets += 1;
    s.bytes += u64::from(ctx.wire_len);
    s.payload_bytes += payload;
    s.first_ts.get_or_insert(ctx.ts);
    s.last_ts = Some(ctx.ts);
    if ctx.ts > record.last_ts {
        record.last_ts = ctx.ts;
    }
    record.timeline.add(ctx.ts, dir, payload);
}

/// How a TCP flow ended, from its FIN/RST state.
fn tcp_end(conn: &TcpConn) -> Option<FlowEnd> {
    let c = conn.half(Direction::ClientToServer);
    let s = conn.half(Direction::ServerToClient);
    let first_rst = match (c.first_rst, s.first_rst) {
        (Some(a), Some(b)) => Some(if a <= b {
            Direction::ClientToServer
        } else {
            Direction::ServerToClient
        }),
        (Some(_), None) => Some(Direction::ClientToServer),
        (None, Some(_)) => Some(Direction::ServerToClient),
        (None, None) => None,
    };
    let both_fin = c.fin.is_some() && s.fin.is_some();
    // A RST after both FINs is an ordinary abortive close; report the FIN close.
    let rst_first = match (first_rst, c.fin, s.fin) {
        (Some(d), Some(cf), Some(sf)) => {
            let rst_frame = conn.half(d).first_rst;
            rst_frame.is_some_and(|r| r < cf.frame.max(sf.frame))
        }
        (Some(_), _, _) => true,
        _ => false,
    };
    if rst_first {
        return first_rst.map(|d| match d {
            Direction::ClientToServer => FlowEnd::RstByClient,
            Direction::ServerToClient => FlowEnd::RstByServer,
        });
    }
    if both_fin {
        Some(FlowEnd::Fin)
    } else if c.fin.is_some() {
        Some(FlowEnd::FinByClient)
    } else if s.fin.is_some() {
        Some(FlowEnd::FinByServer)
    } else {
        None
    }
}

fn summarize(capture: &str, flow: &Flow<Conn>) -> FlowSummary {
    let r = &flow.record;
    let (rtt_ms, retransmissions) = match &flow.state {
        Conn::Tcp(t) => (
            t.tcp.handshake.rtt.map(|s| s.as_millis_f64()),
            Some(t.tcp.halves[0].counts.retransmissions + t.tcp.halves[1].counts.retransmissions),
        ),
        Conn::Udp(_) => (None, None),
    };
    FlowSummary {
        capture: capture.to_string(),
        id: r.id,
        proto: r.proto,
        client: r.client,
        server: r.server,
        role_basis: r.role_basis,
        depth: r.depth,
        first_ts: r.first_ts,
        last_ts: r.last_ts,
        duration_s: r.duration().as_secs_f64(),
        packets_c2s: r.stats[0].packets,
        packets_s2c: r.stats[1].packets,
        bytes_c2s: r.stats[0].bytes,
        bytes_s2c: r.stats[1].bytes,
        app: r.labels.app,
        sni: r.labels.sni.clone(),
        http_host: r.labels.http_host.clone(),
        dns_query: r.labels.dns_query.clone(),
        end: r.end.unwrap_or(FlowEnd::CaptureEnd),
        history: r.history.as_str().to_string(),
        rtt_ms,
        retransmissions,
    }
}

/// Where a TLS or HTTP parser gave up, for its diagnostic.
struct AppProblem {
    kind: DiagnosticKind,
    proto: &'static str,
    frame: FrameNumber,
    flow: crate::ids::FlowId,
    dir: Direction,
    offset: u64,
}

impl AppProblem {
    fn note(&self, diags: &mut Diagnostics, detail: impl FnOnce() -> String) {
        diags.note(self.kind, Some(self.frame), || {
            format!(
                "flow {}: {} {} at stream offset {}: {}",
                self.flow,
                self.proto,
                crate::finding::from_whom(self.dir),
                self.offset,
                detail()
            )
        });
    }
}

/// Turns one parser item into events (and flow labels).
#[allow(clippy::too_many_arguments)] // The item and everything it updates.
fn app_item(
    item: AppItem,
    frames: Vec<FrameNumber>,
    ctx: FrameCtx,
    record: &mut FlowRecord,
    pending_response: &mut Option<(
        Vec<FrameNumber>,
        Timestamp,
        Box<crate::proto::http::parse::ResponseHead>,
    )>,
    mid_stream: [bool; 2],
    diags: &mut Diagnostics,
    events: &mut Vec<ProtoEvent>,
    dns_messages: &mut Vec<(Direction, FrameNumber, DnsMessage)>,
) {
    let dir = item.dir;
    let first_frame = frames.first().copied().unwrap_or(ctx.number);
    match item.kind {
        AppItemKind::Tls(ev) => match ev {
            TlsEvent::ClientHello(hello) => {
                if record.labels.sni.is_none() {
                    record.labels.sni = hello.sni.clone();
                }
                events.push(ProtoEvent::TlsClientHello {
                    dir,
                    frames,
                    ts: ctx.ts,
                    hello: Box::new(hello),
                });
            }
            TlsEvent::ServerHello(hello) => events.push(ProtoEvent::TlsServerHello {
                dir,
                frames,
                ts: ctx.ts,
                hello: Box::new(hello),
            }),
            TlsEvent::Certificate(certificate) => events.push(ProtoEvent::TlsCertificate {
                dir,
                frames,
                ts: ctx.ts,
                certificate,
            }),
            TlsEvent::Alert {
                level, description, ..
            } => events.push(ProtoEvent::TlsAlert {
                dir,
                frame: first_frame,
                ts: ctx.ts,
                level,
                description,
            }),
            // A stream picked up mid-way rarely starts at a message boundary: no diagnostic.
            TlsEvent::Malformed { offset, reason } if !mid_stream[dir.index()] => {
                let p = AppProblem {
                    kind: DiagnosticKind::TlsMessageMalformed,
                    proto: "TLS",
                    frame: first_frame,
                    flow: record.id,
                    dir,
                    offset,
                };
                p.note(diags, || format!("{reason:?}"));
            }
            TlsEvent::LimitReached { offset, limit } => {
                let p = AppProblem {
                    kind: DiagnosticKind::TlsMessageMalformed,
                    proto: "TLS",
                    frame: first_frame,
                    flow: record.id,
                    dir,
                    offset,
                };
                p.note(diags, || format!("limit reached: {limit:?}"));
            }
            TlsEvent::Malformed { .. } => {}
            TlsEvent::OtherHandshake { .. }
            | TlsEvent::ChangeCipherSpec { .. }
            | TlsEvent::Encrypted { .. }
            | TlsEvent::ApplicationData { .. } => {}
        },
        AppItemKind::Http(ev) => match ev {
            HttpEvent::RequestHead(head) => {
                if record.labels.http_host.is_none() {
                    record.labels.http_host = head.host.clone();
                }
                events.push(ProtoEvent::HttpRequest {
                    dir,
                    frames,
                    ts: ctx.ts,
                    head: Box::new(head),
                });
            }
            HttpEvent::ResponseHead(head) => {
                if let Some((f, t, h)) = pending_response.take() {
                    events.push(ProtoEvent::HttpResponse {
                        dir,
                        frames: f,
                        ts: t,
                        head: h,
                        body: None,
                    });
                }
                // Responses that never have a body are complete with their head.
                let bodyless =
                    (100..200).contains(&head.status) || head.status == 204 || head.status == 304;
                if bodyless {
                    events.push(ProtoEvent::HttpResponse {
                        dir,
                        frames,
                        ts: ctx.ts,
                        head: Box::new(head),
                        body: None,
                    });
                } else {
                    *pending_response = Some((frames, ctx.ts, Box::new(head)));
                }
            }
            HttpEvent::Body(body) => {
                if let Some((mut f, t, h)) = pending_response.take() {
                    f.extend(frames);
                    f.sort();
                    f.dedup();
                    events.push(ProtoEvent::HttpResponse {
                        dir,
                        frames: f,
                        ts: t,
                        head: h,
                        body: Some(Box::new(body)),
                    });
                }
            }
            HttpEvent::Malformed { offset, reason } if !mid_stream[dir.index()] => {
                let p = AppProblem {
                    kind: DiagnosticKind::HttpMessageMalformed,
                    proto: "HTTP",
                    frame: first_frame,
                    flow: record.id,
                    dir,
                    offset,
                };
                p.note(diags, || reason.clone());
            }
            HttpEvent::LimitReached { offset, limit } => {
                let p = AppProblem {
                    kind: DiagnosticKind::HttpMessageMalformed,
                    proto: "HTTP",
                    frame: first_frame,
                    flow: record.id,
                    dir,
                    offset,
                };
                p.note(diags, || format!("limit reached: {limit:?}"));
            }
            HttpEvent::Malformed { .. } => {}
            HttpEvent::BodyEnd { .. }
            | HttpEvent::ProtocolSwitch { .. }
            | HttpEvent::IncompleteHead { .. } => {}
        },
        AppItemKind::Dns(bytes) => match parse_message(&bytes, &DnsLimits::default()) {
            Ok(m) => {
                if record.labels.dns_query.is_none() {
                    record.labels.dns_query = m.question().map(|q| q.name.to_lowercase());
                }
                dns_messages.push((dir, first_frame, m));
            }
            Err(e) => diags.note(
                DiagnosticKind::DnsMessageMalformed,
                Some(first_frame),
                || format!("flow {}: DNS over TCP: {e}", record.id),
            ),
        },
    }
}

/// Expands command-line inputs: `-` is standard input, a directory is walked recursively
/// (sorted; only files that start like a capture or a compressed file are taken), anything
/// else is a file. Returns the inputs and the number of files skipped in directories.
pub fn expand_inputs(args: &[String]) -> (Vec<InputSource>, usize) {
    let mut out = Vec::new();
    let mut skipped = 0;
    for a in args {
        let p = Path::new(a);
        if a != "-" && p.is_dir() {
            let mut files = Vec::new();
            walk(p, &mut files);
            files.sort();
            for f in files {
                if looks_like_input(&f) {
                    out.push(InputSource::Path(f));
                } else {
                    skipped += 1;
                }
            }
        } else {
            out.push(InputSource::from_arg(a));
        }
    }
    (out, skipped)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let path = e.path();
        match e.file_type() {
            Ok(t) if t.is_dir() => walk(&path, out),
            Ok(t) if t.is_file() => out.push(path),
            _ => {}
        }
    }
}

fn looks_like_input(path: &Path) -> bool {
    use std::io::Read;
    let mut head = [0u8; 6];
    let Ok(mut f) = std::fs::File::open(path) else {
        return false;
    };
    let n = f.read(&mut head).unwrap_or(0);
    let head = &head[..n];
    const MAGICS: [&[u8]; 10] = [
        &[0xd4, 0xc3, 0xb2, 0xa1],
        &[0xa1, 0xb2, 0xc3, 0xd4],
        &[0x4d, 0x3c, 0xb2, 0xa1],
        &[0xa1, 0xb2, 0x3c, 0x4d],
        &[0x34, 0xcd, 0xb2, 0xa1],
        &[0xa1, 0xb2, 0xcd, 0x34],
        &[0x0a, 0x0d, 0x0d, 0x0a],
        &[0x1f, 0x8b],
        &[0xfd, b'7', b'z', b'X', b'Z', 0x00],
        &[0x28, 0xb5, 0x2f, 0xfd],
    ];
    MAGICS.iter().any(|m| head.starts_with(m))
}
