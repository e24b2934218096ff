//! Finds silent drops: SYNs to an address that never answers, requests dropped after their
//! trigger, ICMP "administratively prohibited" from a hop, whole-network cuts and collateral
//! blocking of an address range, and QUIC Initials the server never answered; it reads flow
//! summaries and protocol events, never bytes, and must not judge a capture that shows no answer.
//!
//! # Signal
//!
//! Each TCP flow seen from the client is summarised when it ends; the judgement waits for the
//! end of the capture, because a drop is only a drop when the same capture shows that other
//! traffic was answered (both directions are captured) and the failure did not just run into
//! the end of the capture.
//!
//! - **Unanswered SYNs** (`tcp_syn_unanswered`; signatures.md §6.1; OONI `tcp_connect`
//!   `generic_timeout_error`; the Telegram blocking in Russia, 2018): the client retransmitted
//!   its SYN with the usual backoff and nothing came back (no SYN-ACK, RST or ICMP), while
//!   other servers answered within `PROOF_WINDOW`. No trigger is visible, so at most
//!   `medium`.
//! - **Drop after the trigger** (`tcp_dropped_after_trigger`; signatures.md §6.2; TSPU and the
//!   Great Firewall's ESNI blocking): the handshake completed, the client sent its ClientHello
//!   or HTTP request and retransmitted it, unacknowledged, until it gave up. `high` when
//!   another connection to the same server address was answered in the capture (so the
//!   server is up and only this trigger is dropped), `medium` with other servers answering.
//! - **Repeated single-send probes** (`tcp_dropped_after_trigger`; Censored Planet's CenTrace,
//!   Sundara Raman et al., CoNEXT 2022): measurement tools send each request once on its own
//!   connection, with a limited IP TTL, and never retransmit. Such connections are judged
//!   together per client, server address and port, and trigger: a request counts as silent when
//!   the handshake completed, it was sent once and never acknowledged nor answered (no data, no
//!   RST), no ICMP error came back about it, the capture ran on `MIN_WAIT` after it, and it
//!   could have reached the server (its TTL exceeds the hop distance estimated from the
//!   SYN-ACK's TTL against 64/128/255, and the client's SYN shows the capture was taken at the
//!   client's end). At least `PROBE_MIN_SILENT` silent requests, outnumbering the answered ones
//!   of the group, make one finding: `high` when the same server answered another trigger,
//!   else `medium` (the SYN-ACKs prove both directions). Single unanswered SYNs are still
//!   never judged: they carry no trigger, and CenTrace's gawker.com control shows as many
//!   handshake timeouts as its test.
//! - **ICMP prohibited** (`icmp_prohibited`; RFC 792/1812 codes 9, 10, 13; RFC 4443 code 1):
//!   a router on the path, not the destination, says the flow is administratively
//!   prohibited: `medium`.
//! - **Network cut** (`network_cut`; Belarus, August 2020): from some point on, every new flow
//!   to at least `CUT_MIN_SERVERS` servers fails while flows before it were answered: one
//!   finding with the time it began instead of one per flow.
//! - **Collateral blocking** (`collateral_blocking`; the Telegram case): flows for at least
//!   `COLLATERAL_MIN_NAMES` unrelated names to one address range (/24, /48) all fail: one
//!   finding listing the names.
//! - **QUIC blocked** (`quic_blocked`; signatures.md §6.4; Zohaib et al., USENIX Security
//!   2025): a client Initial with a decrypted SNI that the server never answered (or answered
//!   and then went silent), with later unanswered UDP between the same hosts within
//!   `QUIC_RESIDUAL` (180 s) listed as residual blocking (a later named Initial in that window
//!   gets no finding of its own). Needs an answered public flow; `high` when the same server
//!   answered other traffic. A capture that ends within `QUIC_MIN_WAIT` of the Initial proves
//!   nothing; an ICMP error tied to the flow (port unreachable: no QUIC there) makes the
//!   failure ordinary.
//!
//! # Known false positives, and what keeps them out
//!
//! - A capture holding one direction only: no flow anywhere was answered, so nothing is judged
//!   and the diagnostic `capture_one_directional` says why.
//! - The last seconds of a capture: a flow whose client was still trying within
//!   `CAPTURE_END_GRACE` of the capture's end, with fewer than three attempts, proves nothing;
//!   nor does one whose first attempt came less than `MIN_WAIT` (3 s) before the end, however
//!   many retries it sent (Chris Sanders' `nowebaccess3.pcapng`: three SYNs within one second,
//!   then the capture stops).
//! - Traceroute-style probing: requests whose TTL runs out on the way (a router's time
//!   exceeded, or a TTL at or below the hop estimate) are not counted; one lost request among
//!   answered ones is ordinary loss.
//! - A port scan: single SYNs are never judged (the backoff of a real client is required), and
//!   a client with unanswered SYNs to `SCAN_PORTS` or more ports of one host is a scan.
//! - A server that is down: an RST, an ICMP unreachable other than "prohibited", "prohibited"
//!   sent by the destination itself (a host firewall's `REJECT`), or any answer from it makes
//!   the failure ordinary. A FIN that acknowledges only the SYN is no answer (a server's idle
//!   timeout after a request that never arrived).
//! - Answers from private or other special-purpose addresses (a home router resolving from its
//!   cache) neither prove that both directions are captured nor interrupt a network cut.
//!
//! One SYN is enough when a router answers it with "prohibited": Linux aborts `connect()` at
//! the first such ICMP. Flows without a name of their own are named by the DNS answer in the
//! capture that gave their address (at most `MAX_NAMES` addresses), so range blocking at the
//! SYN level groups by the names the client looked up.
//! - A destination in private, documentation or other special-purpose space (a LAN host that
//!   is off, an anonymised capture such as `packets/http_espn_fail.pcapng`): not judged.
//! - A capture taken at the server: the client's drops are not visible there; not judged.
//!
//! # Fixtures
//!
//! `fixtures/blackhole/`: a positive per pattern and a negative twin per trap; the
//! `blackhole/quic-*` captures hold QUIC Initials sealed with real Initial keys.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::IpAddr;

use super::{Detector, FlowView};
use crate::finding::{
    Confidence, Evidence, FindingBuilder, FindingClass, FindingKind, FindingSink, FlowRef,
};
use crate::flow::FlowEnd;
use crate::ids::{Direction, FlowId, FrameNumber, L4Proto};
use crate::proto::event::ProtoEvent;
use crate::proto::tcp::Vantage;
use crate::time::{Span, Timestamp};

/// SYNs retransmitted without any answer.
pub const TCP_SYN_UNANSWERED: FindingKind =
    FindingKind::new("tcp_syn_unanswered", FindingClass::Blackhole);
/// A request dropped after the handshake, retransmitted until the client gave up.
pub const TCP_DROPPED_AFTER_TRIGGER: FindingKind =
    FindingKind::new("tcp_dropped_after_trigger", FindingClass::Blackhole);
/// An ICMP "administratively prohibited" from a router on the path.
pub const ICMP_PROHIBITED: FindingKind =
    FindingKind::new("icmp_prohibited", FindingClass::Blackhole);
/// Every flow failing from some point in the capture on.
pub const NETWORK_CUT: FindingKind = FindingKind::new("network_cut", FindingClass::Blackhole);
/// Unrelated names failing together to one address range.
pub const COLLATERAL_BLOCKING: FindingKind =
    FindingKind::new("collateral_blocking", FindingClass::Blackhole);
/// A QUIC Initial with a server name that the server never answered (or stopped answering
/// after the Initial exchange).
pub const QUIC_BLOCKED: FindingKind = FindingKind::new("quic_blocked", FindingClass::Blackhole);

/// Every kind this detector emits.
pub const KINDS: [FindingKind; 6] = [
    TCP_SYN_UNANSWERED,
    TCP_DROPPED_AFTER_TRIGGER,
    ICMP_PROHIBITED,
    NETWORK_CUT,
    COLLATERAL_BLOCKING,
    QUIC_BLOCKED,
];

const NAME: &str = "blackhole";
/// Flow summaries kept for the end of the capture.
pub const MAX_OUTCOMES: usize = 500_000;
/// An answered flow this close in time to a failure proves both directions are captured.
const PROOF_WINDOW: Span = Span::from_secs(120);
/// A failure still being retried this close to the capture's end proves nothing.
const CAPTURE_END_GRACE: Span = Span::from_secs(3);
/// A failure counts only when the capture goes on at least this long after the first attempt:
/// a client's retries (Windows resends a SYN after a few ms and then after 1 s) can pile up
/// within a second, before any answer could be called missing.
const MIN_WAIT: Span = Span::from_secs(3);
/// Attempts (SYNs, or request transmissions) needed before a failure counts.
const MIN_ATTEMPTS: u32 = 2;
/// Unanswered SYNs to this many ports of one host are a scan.
const SCAN_PORTS: usize = 20;
/// A network cut needs failures to at least this many servers...
const CUT_MIN_SERVERS: usize = 3;
/// ...and at least this many failed flows.
const CUT_MIN_FLOWS: usize = 5;
/// Collateral blocking needs this many distinct names failing to one range.
const COLLATERAL_MIN_NAMES: usize = 3;
/// Frames cited per failed flow.
const MAX_FRAMES: usize = 8;
/// Addresses from DNS answers linked to a name (the first name seen for each).
pub const MAX_NAMES: usize = 65_536;
/// How long the Great Firewall keeps dropping UDP between the same hosts after a QUIC Initial
/// with a blocked name (Zohaib et al., USENIX Security 2025): later unanswered UDP within this
/// time is residual blocking.
const QUIC_RESIDUAL: Span = Span::from_secs(180);
/// A QUIC Initial proves nothing unless the capture runs on this long after it (a server
/// answers within a round trip; clients retransmit after a 1 s PTO, RFC 9002 §6.2.2).
const QUIC_MIN_WAIT: Span = Span::from_secs(3);
/// A server that sent no more than this many datagrams (its Initial flight) and then nothing
/// while the client kept sending went silent after the Initial exchange.
const SERVER_INITIAL_FLIGHT: u64 = 3;
/// Silent single-send requests needed before repeated connections count as a drop (and they
/// must outnumber the answered requests of the same group).
const PROBE_MIN_SILENT: usize = 2;
/// Silent connections cited per grouped finding.
const MAX_PROBES: usize = 20;
/// Later flows quoted as residual blocking per finding.
const MAX_RESIDUAL: usize = 16;

#[derive(Clone, Debug, PartialEq, Eq)]
enum Failure {
    /// SYNs without answer.
    NoSynAck { syns: u32 },
    /// Request retransmitted without answer after the handshake.
    Dropped { sends: u32 },
}

#[derive(Clone, Debug)]
struct Icmp {
    frame: FrameNumber,
    from: IpAddr,
    v6: bool,
    icmp_type: u8,
    code: u8,
    ttl: u8,
}

impl Icmp {
    fn prohibited(&self) -> bool {
        if self.v6 {
            self.icmp_type == 1 && self.code == 1
        } else {
            self.icmp_type == 3 && matches!(self.code, 9 | 10 | 13)
        }
    }

    fn describe(&self) -> String {
        let what = if self.prohibited() {
            "administratively prohibited"
        } else {
            "destination unreachable"
        };
        format!(
            "ICMP{} type {} code {} ({what}) from {} (frame {}, TTL {})",
            if self.v6 { "v6" } else { "" },
            self.icmp_type,
            self.code,
            self.from,
            self.frame,
            self.ttl
        )
    }
}

/// What a flow came to.
#[derive(Clone, Debug)]
struct Outcome {
    flow: FlowRef,
    first_ts: Timestamp,
    last_client_ts: Timestamp,
    failure: Option<Failure>,
    /// The server sent something (answered).
    answered: bool,
    trigger: Option<(&'static str, String, Option<FrameNumber>)>,
    frames: Vec<FrameNumber>,
    icmp: Option<Icmp>,
    /// First and last attempt (SYN, or transmission of the request).
    attempts: Option<(Timestamp, Timestamp)>,
    /// A completed handshake followed by a request: what became of the request.
    probe: Option<Probe>,
}

/// A request sent after a completed handshake, for judging repeated single-send connections
/// together.
#[derive(Clone, Debug)]
struct Probe {
    /// The request's first segment, its time and IP TTL.
    frame: FrameNumber,
    ts: Timestamp,
    ttl: u8,
    /// The SYN-ACK's frame and IP TTL.
    syn_ack: (FrameNumber, u8),
    /// The IP TTL of the client's first SYN as captured.
    syn_ttl: u8,
    /// Sent once, never acknowledged nor answered, no RST from the server.
    silent: bool,
    /// The server acknowledged the request or sent data.
    answered: bool,
    /// The server's first packet acknowledging the request or carrying data.
    answer_frame: Option<FrameNumber>,
}

impl Probe {
    /// Routers between the server and the client, estimated from the SYN-ACK's TTL and the
    /// nearest common initial TTL (64, 128, 255) at or above it.
    fn hops(&self) -> u8 {
        hops_from(self.syn_ack.1)
    }

    /// The request carried enough TTL to cross as many routers as the server's answer did,
    /// and the capture was taken at the client's end: its SYN crossed fewer routers before
    /// the capture point than the server's SYN-ACK did (a capture at the server sees the
    /// client's packets after the path, where their TTL says nothing of their reach).
    fn could_reach(&self) -> bool {
        self.ttl > self.hops() && hops_from(self.syn_ttl) < self.hops()
    }
}

/// The blackhole detector.
#[derive(Default)]
pub struct Blackhole {
    outcomes: Vec<Outcome>,
    icmp: HashMap<FlowId, Icmp>,
    triggers: HashMap<FlowId, (&'static str, String, Option<FrameNumber>)>,
    last_ts: Option<Timestamp>,
    dropped_outcomes: u64,
    /// Address -> the first name a DNS answer in the capture gave it, with the answer's frame.
    names: HashMap<IpAddr, (String, FrameNumber)>,
    dropped_names: u64,
    /// The first client Initial with a server name, per UDP flow.
    quic: HashMap<FlowId, QuicHello>,
    /// UDP flows with a named client Initial, judged at the end.
    quic_outcomes: Vec<QuicOutcome>,
    /// UDP flows the server never answered (candidates for residual blocking).
    udp_silent: Vec<UdpSilent>,
}

/// What a client's QUIC Initial flight showed.
#[derive(Clone, Debug)]
struct QuicHello {
    sni: String,
    alpn: Vec<String>,
    version: u32,
    dcid: String,
    scid: String,
    frames: Vec<FrameNumber>,
    ts: Timestamp,
    packets: u32,
}

/// A UDP flow that carried a named QUIC Initial.
#[derive(Clone, Debug)]
struct QuicOutcome {
    flow: FlowRef,
    hello: QuicHello,
    /// Client datagrams and the first and last of their times.
    client_packets: u64,
    client_last: Timestamp,
    /// Server datagrams, and the time of the last.
    server_packets: u64,
    server_last: Option<Timestamp>,
    /// Client datagrams sent more than a second after the server's last.
    client_after_silence: u64,
    first_server_frame: Option<FrameNumber>,
    /// The client's unanswered datagrams (all of them when the server sent nothing, those
    /// after its last datagram otherwise), at most `MAX_FRAMES`.
    unanswered_frames: Vec<FrameNumber>,
    /// An ICMP error quoting the client's datagrams (port unreachable: no QUIC there).
    icmp: Option<Icmp>,
}

/// An unanswered UDP flow.
#[derive(Clone, Debug)]
struct UdpSilent {
    flow: FlowRef,
    first_ts: Timestamp,
    packets: u64,
    frames: Vec<FrameNumber>,
}

impl Detector for Blackhole {
    fn name(&self) -> &'static str {
        NAME
    }

    fn on_event(&mut self, flow: &FlowView<'_>, event: &ProtoEvent, _sink: &mut FindingSink) {
        match event {
            ProtoEvent::Packet(p) => {
                self.last_ts = Some(self.last_ts.map_or(p.ts, |t| t.max(p.ts)));
            }
            ProtoEvent::IcmpError {
                frame,
                from,
                ttl,
                v6,
                icmp_type,
                code,
                quoted_dir: Direction::ClientToServer,
                ..
            } => {
                self.icmp.entry(flow.record.id).or_insert(Icmp {
                    frame: *frame,
                    from: *from,
                    v6: *v6,
                    icmp_type: *icmp_type,
                    code: *code,
                    ttl: *ttl,
                });
            }
            ProtoEvent::TlsClientHello {
                dir: Direction::ClientToServer,
                frames,
                hello,
                ..
            } => {
                if let Some(sni) = &hello.sni {
                    self.triggers.entry(flow.record.id).or_insert((
                        "sni",
                        sni.clone(),
                        frames.first().copied(),
                    ));
                }
            }
            ProtoEvent::QuicInitial {
                dir: Direction::ClientToServer,
                frames,
                ts,
                version,
                dcid,
                scid,
                sni: Some(sni),
                alpn,
                packets,
                ..
            } => {
                self.quic.entry(flow.record.id).or_insert(QuicHello {
                    sni: sni.clone(),
                    alpn: alpn.clone(),
                    version: *version,
                    dcid: dcid.to_hex(),
                    scid: scid.to_hex(),
                    frames: frames.iter().take(MAX_FRAMES).copied().collect(),
                    ts: *ts,
                    packets: *packets,
                });
            }
            ProtoEvent::DnsResponse { frame, message, .. } => {
                let Some(q) = message.questions.first() else {
                    return;
                };
                let name = q.name.to_string();
                let name = name.trim_end_matches('.');
                for a in message.answer_addresses() {
                    if self.names.contains_key(&a) {
                        continue;
                    }
                    if self.names.len() >= MAX_NAMES {
                        self.dropped_names += 1;
                        continue;
                    }
                    self.names.insert(a, (name.to_string(), *frame));
                }
            }
            ProtoEvent::HttpRequest {
                dir: Direction::ClientToServer,
                frames,
                head,
                ..
            } => {
                let (k, v) = match &head.host {
                    Some(h) => ("http_host", h.clone()),
                    None => ("http_url", head.target.clone()),
                };
                self.triggers
                    .entry(flow.record.id)
                    .or_insert((k, v, frames.first().copied()));
            }
            _ => {}
        }
    }

    fn on_flow_end(&mut self, flow: &FlowView<'_>, _sink: &mut FindingSink) {
        let id = flow.record.id;
        let icmp = self.icmp.remove(&id);
        let mut trigger = self.triggers.remove(&id);
        if flow.record.proto != L4Proto::Tcp {
            // An answered UDP flow (DNS, QUIC) proves both directions are captured.
            let r = flow.record;
            let server = r.dir(Direction::ServerToClient);
            let client = r.dir(Direction::ClientToServer);
            let log = r.log.records();
            if let Some(hello) = self.quic.remove(&id) {
                if self.quic_outcomes.len() < MAX_OUTCOMES {
                    let server_last = server.last_ts;
                    let unanswered_frames = log
                        .iter()
                        .filter(|p| {
                            p.dir == Direction::ClientToServer
                                && server_last.is_none_or(|sl| p.ts.since(sl) > Span::from_secs(1))
                        })
                        .map(|p| p.frame)
                        .take(MAX_FRAMES)
                        .collect();
                    let client_after_silence = server_last.map_or(0, |sl| {
                        log.iter()
                            .filter(|p| {
                                p.dir == Direction::ClientToServer
                                    && p.ts.since(sl) > Span::from_secs(1)
                            })
                            .count() as u64
                    });
                    self.quic_outcomes.push(QuicOutcome {
                        flow: flow.flow_ref(),
                        hello,
                        client_packets: client.packets,
                        client_last: client.last_ts.unwrap_or(r.first_ts),
                        server_packets: server.packets,
                        server_last,
                        client_after_silence,
                        first_server_frame: log
                            .iter()
                            .find(|p| p.dir == Direction::ServerToClient)
                            .map(|p| p.frame),
                        unanswered_frames,
                        icmp: icmp.clone(),
                    });
                } else {
                    self.dropped_outcomes += 1;
                }
            }
            if server.packets == 0 && client.packets > 0 {
                if self.udp_silent.len() < MAX_OUTCOMES {
                    self.udp_silent.push(UdpSilent {
                        flow: flow.flow_ref(),
                        first_ts: r.first_ts,
                        packets: client.packets,
                        frames: log.iter().map(|p| p.frame).take(4).collect(),
                    });
                } else {
                    self.dropped_outcomes += 1;
                }
            }
            if server.packets > 0 && self.outcomes.len() < MAX_OUTCOMES {
                let first_answer = r
                    .log
                    .records()
                    .iter()
                    .find(|p| p.dir == Direction::ServerToClient)
                    .map(|p| p.frame);
                self.outcomes.push(Outcome {
                    flow: flow.flow_ref(),
                    first_ts: r.first_ts,
                    last_client_ts: r
                        .dir(Direction::ClientToServer)
                        .last_ts
                        .unwrap_or(r.first_ts),
                    failure: None,
                    answered: true,
                    trigger: None,
                    frames: first_answer.into_iter().collect(),
                    icmp,
                    attempts: None,
                    probe: None,
                });
            }
            return;
        }
        let Some(tcp) = flow.tcp else {
            return;
        };
        if tcp.handshake.vantage == Some(Vantage::Server) {
            return;
        }
        let r = flow.record;
        let server = r.dir(Direction::ServerToClient);
        let client = r.dir(Direction::ClientToServer);
        // A RST from the server is an answer (refused, or injected: the RST detector's
        // business). A FIN is not, unless it acknowledges the request: servers close idle
        // connections whose request never arrived with a FIN that acknowledges only the SYN.
        let server_rst = matches!(r.end, Some(FlowEnd::RstByServer));
        let log = r.log.records();
        let last_client_ts = client.last_ts.unwrap_or(r.first_ts);
        let mut failure = None;
        let mut frames = Vec::new();
        let mut attempts = None;
        if server.packets == 0 {
            let syns = tcp.half(Direction::ClientToServer).syns;
            if syns >= 1 && client.payload_bytes == 0 {
                failure = Some(Failure::NoSynAck { syns });
                let sent = log
                    .iter()
                    .filter(|p| p.dir == Direction::ClientToServer && p.flags.syn());
                attempts = span_of(sent.clone().map(|p| p.ts));
                frames = sent.map(|p| p.frame).take(MAX_FRAMES).collect();
            }
        } else if tcp.handshake.syn_ack.is_some()
            && server.payload_bytes == 0
            && client.payload_bytes > 0
            && !server_rst
        {
            let c = tcp.half(Direction::ClientToServer);
            let s = tcp.half(Direction::ServerToClient);
            let unacked = match (c.next_seq, s.max_ack) {
                (Some(next), Some(ack)) => next.diff(ack) > 0,
                (Some(_), None) => true,
                _ => false,
            };
            // Transmissions of data, not the tracker's retransmission count: a FIN whose
            // sequence number ignores the unacknowledged request (CenTrace's probes) is no
            // second attempt.
            let sends = request_sends(&log);
            if unacked && sends >= 2 {
                failure = Some(Failure::Dropped { sends });
                let sent = log
                    .iter()
                    .filter(|p| p.dir == Direction::ClientToServer && p.payload_len > 0);
                attempts = span_of(sent.clone().map(|p| p.ts));
                frames = sent.map(|p| p.frame).take(MAX_FRAMES).collect();
                if let Some(h) = tcp.handshake.syn_ack {
                    frames.insert(0, h.0);
                }
            }
        }
        let probe = probe_of(flow, tcp, server_rst, &log);
        if trigger.is_none() {
            trigger = r
                .labels
                .sni
                .clone()
                .map(|s| ("sni", s, None))
                .or_else(|| r.labels.http_host.clone().map(|h| ("http_host", h, None)));
        }
        if failure.is_none() {
            // The first packet of the answer, cited as proof that both directions are seen.
            frames = log
                .iter()
                .filter(|p| p.dir == Direction::ServerToClient)
                .map(|p| p.frame)
                .take(1)
                .collect();
        }
        if self.outcomes.len() >= MAX_OUTCOMES {
            self.dropped_outcomes += 1;
            return;
        }
        self.outcomes.push(Outcome {
            flow: flow.flow_ref(),
            first_ts: r.first_ts,
            last_client_ts,
            answered: server.packets > 0 && failure.is_none(),
            failure,
            trigger,
            frames,
            icmp,
            attempts,
            probe,
        });
    }

    fn finish(&mut self, sink: &mut FindingSink) {
        let mut outcomes = std::mem::take(&mut self.outcomes);
        outcomes.sort_by_key(|o| o.flow.id);
        if self.dropped_outcomes > 0 {
            sink.diagnostic(
                crate::diag::DiagnosticKind::LimitReachedBlackholeFlows,
                None,
                format!(
                    "more than {MAX_OUTCOMES} TCP flows: {} later flows were not judged for silent drops",
                    self.dropped_outcomes
                ),
            );
        }
        if self.dropped_names > 0 {
            sink.diagnostic(
                crate::diag::DiagnosticKind::LimitReachedBlackholeNames,
                None,
                format!(
                    "more than {MAX_NAMES} addresses in DNS answers: {} later addresses were not linked to a name",
                    self.dropped_names
                ),
            );
        }
        // A flow without a name of its own is named by the DNS answer that gave its address.
        for o in &mut outcomes {
            if o.trigger.is_none() {
                if let Some((n, fr)) = self.names.get(&o.flow.server.addr) {
                    o.trigger = Some(("dns_query", n.clone(), Some(*fr)));
                }
            }
        }
        let Some(end) = self.last_ts else {
            return;
        };
        self.judge_quic(&outcomes, end, sink);
        // Repeated single-send connections whose request vanished, judged together (their
        // SYN-ACKs show that both directions are captured).
        judge_probes(&outcomes, end, sink);
        let failed: Vec<&Outcome> = outcomes.iter().filter(|o| o.failure.is_some()).collect();
        if failed.is_empty() {
            return;
        }
        // Anything that came back (an answer, or an ICMP error about a flow) shows the capture
        // holds the inbound direction.
        if !outcomes.iter().any(|o| o.answered || o.icmp.is_some()) {
            sink.diagnostic(
                crate::diag::DiagnosticKind::CaptureOneDirectional,
                failed[0].frames.first().copied(),
                format!(
                    "{} TCP flows got no answer and no flow in the capture was answered: the capture may hold one direction only, so silent drops cannot be told apart",
                    failed.len()
                ),
            );
            return;
        }
        // Answers from public addresses only: a local resolver or router answering says
        // nothing about the path beyond it.
        let answered: Vec<&Outcome> = outcomes
            .iter()
            .filter(|o| o.answered && !is_special(o.flow.server.addr))
            .collect();
        // Scans: many ports of one host without answer.
        let mut ports: BTreeMap<(IpAddr, IpAddr), BTreeSet<u16>> = BTreeMap::new();
        for o in &failed {
            if matches!(o.failure, Some(Failure::NoSynAck { .. })) {
                ports
                    .entry((o.flow.client.addr, o.flow.server.addr))
                    .or_default()
                    .insert(o.flow.server.port);
            }
        }
        let scanned = |o: &Outcome| {
            ports
                .get(&(o.flow.client.addr, o.flow.server.addr))
                .is_some_and(|p| p.len() >= SCAN_PORTS)
        };
        // Failures that count.
        let judged: Vec<&Outcome> = failed
            .iter()
            .copied()
            .filter(|o| {
                // A private, documentation or other special-purpose destination that does
                // not answer is a local or routing matter (or an anonymised capture), not the
                // blackholing of a public address.
                if is_special(o.flow.server.addr) || scanned(o) {
                    return false;
                }
                match &o.icmp {
                    // A router says "prohibited": Linux aborts connect() at the first such
                    // ICMP, so one attempt is enough, and the answer came before the end.
                    Some(i) if i.prohibited() && i.from != o.flow.server.addr => return true,
                    // Any other ICMP error, or "prohibited" from the destination itself (a
                    // host firewall's REJECT), is an ordinary failure.
                    Some(_) => return false,
                    None => {}
                }
                let attempts = match o.failure {
                    Some(Failure::NoSynAck { syns }) => syns,
                    Some(Failure::Dropped { sends }) => sends,
                    None => 0,
                };
                let first_attempt = o.attempts.map_or(o.first_ts, |(first, _)| first);
                let near_end = end.since(first_attempt) < MIN_WAIT
                    || (end.since(o.last_client_ts) < CAPTURE_END_GRACE && attempts < 3);
                attempts >= MIN_ATTEMPTS && !near_end
            })
            .collect();
        let proof = |o: &Outcome| -> Option<&Outcome> {
            answered
                .iter()
                .copied()
                .filter(|a| a.flow.server.addr != o.flow.server.addr)
                .filter(|a| {
                    let d = a.first_ts.since(o.first_ts);
                    d.abs() <= PROOF_WINDOW
                })
                .min_by_key(|a| (a.first_ts.since(o.first_ts).abs(), a.flow.id))
        };
        let mut reported: BTreeSet<FlowId> = BTreeSet::new();

        // A whole-network cut: from some flow on, every flow fails.
        let mut all: Vec<&Outcome> = answered
            .iter()
            .copied()
            .chain(judged.iter().copied())
            .collect();
        all.sort_by_key(|o| (o.first_ts, o.flow.id));
        all.dedup_by_key(|o| o.flow.id);
        let mut cut_start = all.len();
        for i in (0..all.len()).rev() {
            if all[i].answered {
                break;
            }
            cut_start = i;
        }
        let tail = &all[cut_start.min(all.len())..];
        let servers: BTreeSet<IpAddr> = tail.iter().map(|o| o.flow.server.addr).collect();
        if cut_start > 0 && tail.len() >= CUT_MIN_FLOWS && servers.len() >= CUT_MIN_SERVERS {
            let first = tail[0];
            let last_ok = all[cut_start - 1];
            let mut b = FindingBuilder::new(
                NAME,
                NETWORK_CUT,
                Confidence::Medium,
                first.flow,
                String::new(),
            )
            .at(first.first_ts);
            b = b.evidence(Evidence::Note {
                text: format!(
                    "last answered flow before the cut: flow {} to {} (frame {})",
                    last_ok.flow.id,
                    last_ok.flow.server,
                    last_ok.frames.first().map_or(0, |f| f.get())
                ),
                frames: last_ok.frames.iter().take(1).copied().collect(),
            });
            for o in tail.iter().take(20) {
                b = b.evidence(failure_note(o, 2));
            }
            b = b.evidence(Evidence::Measurement {
                metric: "failed_flows_after_cut".into(),
                value: tail.len() as f64,
                unit: "flows".into(),
                reference: Some(servers.len() as f64),
                reference_label: Some("distinct servers".into()),
                frames: vec![],
            });
            let mut f = b.build();
            f.summary = format!(
                "Network cut: from {} on, all {} new flows to {} servers failed without answer, while flows before were answered (last at {})",
                first.first_ts,
                tail.len(),
                servers.len(),
                last_ok.first_ts
            );
            for o in tail {
                reported.insert(o.flow.id);
            }
            sink.push(f);
        }

        // Collateral blocking: several names failing to one range.
        let mut ranges: BTreeMap<String, Vec<&Outcome>> = BTreeMap::new();
        for o in judged
            .iter()
            .copied()
            .filter(|o| !reported.contains(&o.flow.id))
        {
            ranges
                .entry(range_of(o.flow.server.addr))
                .or_default()
                .push(o);
        }
        for (range, flows) in &ranges {
            let names: BTreeSet<String> = flows
                .iter()
                .filter_map(|o| o.trigger.as_ref().map(|t| t.1.to_ascii_lowercase()))
                .collect();
            if names.len() < COLLATERAL_MIN_NAMES {
                continue;
            }
            let Some(p) = proof(flows[0]) else {
                continue;
            };
            let mut b = FindingBuilder::new(
                NAME,
                COLLATERAL_BLOCKING,
                Confidence::Medium,
                flows[0].flow,
                String::new(),
            )
            .at(flows[0].first_ts);
            for o in flows.iter().take(20) {
                b = b.evidence(failure_note(o, 2));
                if let Some(("dns_query", n, Some(fr))) = &o.trigger {
                    b = b.evidence(Evidence::Note {
                        text: format!(
                            "the DNS answer that gave {n} the address {}",
                            o.flow.server.addr
                        ),
                        frames: vec![*fr],
                    });
                }
                reported.insert(o.flow.id);
            }
            b = b.evidence(proof_note(p));
            let mut f = b.build();
            f.summary = format!(
                "Collateral blocking of {range}: {} unrelated names ({}) failed without answer to addresses in this range, while other servers answered",
                names.len(),
                names.iter().take(6).cloned().collect::<Vec<_>>().join(", ")
            );
            sink.push(f);
        }

        // The rest, one by one.
        for o in judged {
            if reported.contains(&o.flow.id) {
                continue;
            }
            if let Some(i) = o.icmp.as_ref().filter(|i| i.prohibited()) {
                let mut b = FindingBuilder::new(
                    NAME,
                    ICMP_PROHIBITED,
                    Confidence::Medium,
                    o.flow,
                    String::new(),
                )
                .at(o.first_ts);
                if let Some((k, v, fr)) = &o.trigger {
                    b = b.trigger(k, v.clone(), *fr);
                }
                for fr in &o.frames {
                    b = b.evidence(Evidence::Note {
                        text: "client packet of the flow".into(),
                        frames: vec![*fr],
                    });
                }
                b = b.evidence(Evidence::Note {
                    text: i.describe(),
                    frames: vec![i.frame],
                });
                let mut f = b.build();
                f.summary = format!(
                    "A router ({}) declared the flow to {}{} administratively prohibited: {}",
                    i.from,
                    o.flow.server,
                    trigger_words(o),
                    i.describe()
                );
                sink.push(f);
                continue;
            }
            let Some(p) = proof(o) else {
                continue;
            };
            let (kind, confidence) = match o.failure {
                Some(Failure::NoSynAck { syns }) => (
                    TCP_SYN_UNANSWERED,
                    if syns >= 3 {
                        Confidence::Medium
                    } else {
                        Confidence::Low
                    },
                ),
                Some(Failure::Dropped { .. }) => {
                    let same_server = answered
                        .iter()
                        .any(|a| a.flow.server.addr == o.flow.server.addr);
                    (
                        TCP_DROPPED_AFTER_TRIGGER,
                        if same_server && o.trigger.is_some() {
                            Confidence::High
                        } else {
                            Confidence::Medium
                        },
                    )
                }
                None => continue,
            };
            let mut b =
                FindingBuilder::new(NAME, kind, confidence, o.flow, String::new()).at(o.first_ts);
            if let Some((k, v, fr)) = &o.trigger {
                b = b.trigger(k, v.clone(), *fr);
            }
            for fr in &o.frames {
                b = b.evidence(Evidence::Note {
                    text: match o.failure {
                        Some(Failure::NoSynAck { .. }) => "SYN without answer".into(),
                        _ => "request (or its retransmission) without answer".into(),
                    },
                    frames: vec![*fr],
                });
            }
            let (first, last) = o.attempts.unwrap_or((o.first_ts, o.last_client_ts));
            b = b.evidence(Evidence::Measurement {
                metric: "attempts_span".into(),
                value: last.since(first).as_millis_f64(),
                unit: "ms".into(),
                reference: None,
                reference_label: None,
                frames: vec![],
            });
            b = b.evidence(proof_note(p));
            if kind == TCP_DROPPED_AFTER_TRIGGER {
                if let Some(a) = answered
                    .iter()
                    .find(|a| a.flow.server.addr == o.flow.server.addr)
                {
                    b = b.evidence(Evidence::Note {
                        text: format!(
                            "the same server answered flow {}{}: it is up, only this request was dropped",
                            a.flow.id,
                            a.trigger
                                .as_ref()
                                .map(|t| format!(" ({} {})", t.0, t.1))
                                .unwrap_or_default()
                        ),
                        frames: a.frames.iter().take(1).copied().collect(),
                    });
                }
            }
            let mut f = b.build();
            f.summary = match o.failure {
                Some(Failure::NoSynAck { syns }) => format!(
                    "{syns} SYNs to {}{} over {} got no SYN-ACK, RST or ICMP, while {} answered",
                    o.flow.server,
                    trigger_words(o),
                    last.since(first),
                    p.flow.server
                ),
                _ => format!(
                    "Request{} to {} dropped after the handshake: {}, while {} answered",
                    o.trigger
                        .as_ref()
                        .map(|t| format!(" for {}", t.1))
                        .unwrap_or_default(),
                    o.flow.server,
                    failure_words(o),
                    p.flow.server
                ),
            };
            sink.push(f);
        }
    }
}

impl Blackhole {
    /// QUIC: named client Initials the server never answered, or stopped answering after the
    /// Initial exchange, with later unanswered UDP between the same hosts as residual blocking.
    fn judge_quic(&mut self, outcomes: &[Outcome], end: Timestamp, sink: &mut FindingSink) {
        let mut quic = std::mem::take(&mut self.quic_outcomes);
        quic.sort_by_key(|q| q.flow.id);
        let mut silent = std::mem::take(&mut self.udp_silent);
        silent.sort_by_key(|u| (u.first_ts, u.flow.id));
        let answered_quic: Vec<&QuicOutcome> =
            quic.iter().filter(|q| q.server_packets > 0).collect();
        // An ICMP error quoting the Initials (port unreachable: the server does not speak
        // QUIC) makes the failure ordinary.
        let mut failing: Vec<&QuicOutcome> = quic
            .iter()
            .filter(|q| !is_special(q.flow.server.addr) && q.icmp.is_none())
            .filter(|q| {
                q.server_packets == 0
                    || (q.client_after_silence >= 2 && q.server_packets <= SERVER_INITIAL_FLIGHT)
            })
            .collect();
        failing.sort_by_key(|q| (q.hello.ts, q.flow.id));
        // The server names of the Initials each UDP flow carried (for residual flows).
        let sni_of: HashMap<FlowId, &str> = quic
            .iter()
            .map(|q| (q.flow.id, q.hello.sni.as_str()))
            .collect();
        // Findings made so far: (client, server, time of the trigger).
        let mut reported: Vec<(IpAddr, IpAddr, Timestamp)> = Vec::new();
        // Named Initials without any answer, whatever the addresses (for the diagnostic: a
        // capture at a server in private space holds them too).
        let unanswered: Vec<&QuicOutcome> = quic.iter().filter(|q| q.server_packets == 0).collect();
        if failing.is_empty() && unanswered.is_empty() {
            return;
        }
        let anything_back =
            outcomes.iter().any(|o| o.answered || o.icmp.is_some()) || !answered_quic.is_empty();
        if !anything_back {
            let names: BTreeSet<&str> = unanswered.iter().map(|q| q.hello.sni.as_str()).collect();
            sink.diagnostic(
                crate::diag::DiagnosticKind::CaptureOneDirectional,
                unanswered.first().and_then(|q| q.hello.frames.first().copied()),
                format!(
                    "{} UDP flows carried QUIC Initials (SNI {}) that got no answer, and nothing in the capture was answered: the capture may hold one direction only (a capture at the server, or of the client's packets only), so whether they were dropped on the path cannot be told",
                    unanswered.len(),
                    names.into_iter().take(6).collect::<Vec<_>>().join(", ")
                ),
            );
            return;
        }
        let public_answers: Vec<(FlowRef, Timestamp, Option<FrameNumber>, Option<String>)> =
            outcomes
                .iter()
                .filter(|o| o.answered && !is_special(o.flow.server.addr))
                .map(|o| {
                    (
                        o.flow,
                        o.first_ts,
                        o.frames.first().copied(),
                        o.trigger.as_ref().map(|t| t.1.clone()),
                    )
                })
                .chain(
                    answered_quic
                        .iter()
                        .filter(|q| !is_special(q.flow.server.addr))
                        .map(|q| {
                            (
                                q.flow,
                                q.hello.ts,
                                q.first_server_frame,
                                Some(q.hello.sni.clone()),
                            )
                        }),
                )
                .collect();
        for q in failing {
            // The capture must run on after the Initial: its last seconds prove nothing.
            if end.since(q.hello.ts) < QUIC_MIN_WAIT {
                continue;
            }
            // A later Initial between the same hosts within the residual time is listed as
            // residual blocking on the earlier finding: its own name proves nothing.
            if reported.iter().any(|&(c, s, t)| {
                c == q.flow.client.addr
                    && s == q.flow.server.addr
                    && q.hello.ts > t
                    && q.hello.ts.since(t) <= QUIC_RESIDUAL
            }) {
                continue;
            }
            let proof = public_answers
                .iter()
                .filter(|a| a.0.server.addr != q.flow.server.addr)
                .filter(|a| a.1.since(q.hello.ts).abs() <= PROOF_WINDOW)
                .min_by_key(|a| (a.1.since(q.hello.ts).abs(), a.0.id));
            let Some(proof) = proof else {
                continue;
            };
            // The same server answering other traffic (TCP fallback, another name over QUIC)
            // shows it is up: only this name is dropped.
            let same_server = public_answers
                .iter()
                .filter(|a| a.0.server.addr == q.flow.server.addr && a.0.id != q.flow.id)
                .min_by_key(|a| a.0.id);
            let confidence = if same_server.is_some() {
                Confidence::High
            } else {
                Confidence::Medium
            };
            let h = &q.hello;
            let mut b = FindingBuilder::new(NAME, QUIC_BLOCKED, confidence, q.flow, String::new())
                .at(h.ts)
                .trigger("quic_sni", h.sni.clone(), h.frames.first().copied());
            b = b.evidence(Evidence::Note {
                text: format!(
                    "client Initial: QUIC version {}, SNI {}, ALPN {}, DCID {}, SCID {}, the ClientHello in {} long-header packets",
                    version_name(h.version),
                    h.sni,
                    if h.alpn.is_empty() {
                        "none".to_string()
                    } else {
                        h.alpn.join(",")
                    },
                    if h.dcid.is_empty() { "(empty)" } else { &h.dcid },
                    if h.scid.is_empty() { "(empty)" } else { &h.scid },
                    h.packets
                ),
                frames: h.frames.clone(),
            });
            let silence = match q.server_last {
                None => format!(
                    "the server sent nothing: {} client datagrams over {} got no answer",
                    q.client_packets,
                    q.client_last.since(h.ts)
                ),
                Some(sl) => format!(
                    "the server answered the Initial ({} datagrams) and went silent: {} client datagrams after {} got no answer",
                    q.server_packets, q.client_after_silence, sl
                ),
            };
            b = b.evidence(Evidence::Note {
                text: silence,
                frames: q
                    .first_server_frame
                    .into_iter()
                    .chain(q.unanswered_frames.iter().copied())
                    .collect(),
            });
            b = b.evidence(Evidence::Note {
                text: format!(
                    "client port {} {} server port {} (the Great Firewall blocks only when the client port is the larger)",
                    q.flow.client.port,
                    if q.flow.client.port > q.flow.server.port { ">" } else { "<=" },
                    q.flow.server.port
                ),
                frames: vec![],
            });
            b = b.evidence(Evidence::Note {
                text: format!(
                    "both directions are captured: flow {} to {}{} was answered at {}",
                    proof.0.id,
                    proof.0.server,
                    proof
                        .3
                        .as_ref()
                        .map(|n| format!(" ({n})"))
                        .unwrap_or_default(),
                    proof.1
                ),
                frames: proof.2.into_iter().collect(),
            });
            if let Some(a) = same_server {
                b = b.evidence(Evidence::Note {
                    text: format!(
                        "the same server answered flow {} ({}{}): it is up, only this name is dropped",
                        a.0.id,
                        a.0.proto,
                        a.3.as_ref().map(|n| format!(", {n}")).unwrap_or_default()
                    ),
                    frames: a.2.into_iter().collect(),
                });
            }
            // Residual blocking: later UDP between the same hosts that got no answer.
            let mut residual = 0usize;
            let mut last_residual = None;
            for u in silent.iter().filter(|u| {
                u.flow.id != q.flow.id
                    && u.flow.client.addr == q.flow.client.addr
                    && u.flow.server.addr == q.flow.server.addr
                    && u.first_ts > h.ts
                    && u.first_ts.since(h.ts) <= QUIC_RESIDUAL
            }) {
                residual += 1;
                last_residual = Some(u.first_ts.since(h.ts));
                if residual <= MAX_RESIDUAL {
                    b = b.evidence(Evidence::Note {
                        text: format!(
                            "residual blocking: UDP flow {} to {} from port {}{}, {} after the trigger, {} datagrams, no answer",
                            u.flow.id,
                            u.flow.server,
                            u.flow.client.port,
                            sni_of
                                .get(&u.flow.id)
                                .map(|n| format!(" (QUIC Initial for {n})"))
                                .unwrap_or_default(),
                            u.first_ts.since(h.ts),
                            u.packets
                        ),
                        frames: u.frames.iter().take(2).copied().collect(),
                    });
                }
            }
            if residual > 0 {
                b = b.evidence(Evidence::Measurement {
                    metric: "residual_flows".into(),
                    value: residual as f64,
                    unit: "flows".into(),
                    reference: last_residual.map(|s| s.as_millis_f64() / 1000.0),
                    reference_label: Some("seconds from the trigger to the last one".into()),
                    frames: vec![],
                });
            }
            reported.push((q.flow.client.addr, q.flow.server.addr, h.ts));
            let mut f = b.build();
            f.summary = format!(
                "QUIC to {} for {} got no answer{}{}, while {} answered",
                q.flow.server,
                h.sni,
                if q.server_last.is_some() {
                    " after the Initial exchange"
                } else {
                    " to its Initial"
                },
                if residual > 0 {
                    format!(
                        "; {residual} later UDP flows to the same host within {} s also went unanswered (residual blocking)",
                        QUIC_RESIDUAL.as_millis_f64() / 1000.0
                    )
                } else {
                    String::new()
                },
                proof.0.server
            );
            sink.push(f);
        }
    }
}

/// Repeated connections, each with a completed handshake and one request sent once that was
/// never acknowledged nor answered although it could have reached the server, for one client,
/// server address and port, and trigger: one `tcp_dropped_after_trigger` per group.
fn judge_probes(outcomes: &[Outcome], end: Timestamp, sink: &mut FindingSink) {
    type Key = (IpAddr, IpAddr, u16, String);
    let mut groups: BTreeMap<Key, Vec<&Outcome>> = BTreeMap::new();
    for o in outcomes {
        let (Some(_), Some(t)) = (&o.probe, &o.trigger) else {
            continue;
        };
        if is_special(o.flow.server.addr) {
            continue;
        }
        groups
            .entry((
                o.flow.client.addr,
                o.flow.server.addr,
                o.flow.server.port,
                t.1.to_ascii_lowercase(),
            ))
            .or_default()
            .push(o);
    }
    for ((client, server, _, _), flows) in &groups {
        let probe = |o: &&Outcome| o.probe.clone();
        // Silent requests that count: sent with enough TTL, no ICMP about the flow, and the
        // capture ran on long enough for an answer.
        let silent: Vec<&Outcome> = flows
            .iter()
            .copied()
            .filter(|o| {
                probe(o).is_some_and(|p| {
                    p.silent && p.could_reach() && o.icmp.is_none() && end.since(p.ts) >= MIN_WAIT
                })
            })
            .collect();
        let answered = flows
            .iter()
            .filter(|o| probe(o).is_some_and(|p| p.answered))
            .count();
        // Two failures at least, and more failures than answers: one lost request among
        // answered ones is ordinary loss.
        if silent.len() < PROBE_MIN_SILENT || silent.len() <= answered {
            continue;
        }
        let not_counted = flows
            .iter()
            .filter(|o| {
                probe(o).is_some_and(|p| p.silent) && !silent.iter().any(|s| s.flow.id == o.flow.id)
            })
            .count();
        // Contrast: requests to the same server answered in this capture, other triggers first.
        let trigger = flows[0].trigger.clone();
        let mut contrast: Vec<&Outcome> = outcomes
            .iter()
            .filter(|o| {
                o.flow.client.addr == *client
                    && o.flow.server.addr == *server
                    && o.probe.as_ref().is_some_and(|p| p.answered)
            })
            .collect();
        let other_trigger = |o: &Outcome| {
            o.trigger.as_ref().map(|t| t.1.to_ascii_lowercase())
                != trigger.as_ref().map(|t| t.1.to_ascii_lowercase())
        };
        contrast.sort_by_key(|o| (!other_trigger(o), o.flow.id));
        let high = contrast.first().is_some_and(|o| other_trigger(o));
        let first = silent[0];
        let mut b = FindingBuilder::new(
            NAME,
            TCP_DROPPED_AFTER_TRIGGER,
            if high {
                Confidence::High
            } else {
                Confidence::Medium
            },
            first.flow,
            String::new(),
        )
        .at(first.probe.as_ref().map_or(first.first_ts, |p| p.ts));
        if let Some((k, v, fr)) = &first.trigger {
            b = b.trigger(k, v.clone(), *fr);
        }
        let probes: Vec<Probe> = silent.iter().filter_map(|o| o.probe.clone()).collect();
        for (o, p) in silent.iter().zip(&probes).take(MAX_PROBES) {
            b = b.evidence(Evidence::Note {
                text: format!(
                    "flow {} from port {}: handshake completed (SYN-ACK TTL {}, about {} hops), request sent once with IP TTL {}, never acknowledged nor answered, no ICMP about it",
                    o.flow.id,
                    o.flow.client.port,
                    p.syn_ack.1,
                    p.hops(),
                    p.ttl
                ),
                frames: vec![p.syn_ack.0, p.frame],
            });
        }
        let hops_min = probes.iter().map(Probe::hops).min().unwrap_or(0);
        let hops_max = probes.iter().map(Probe::hops).max().unwrap_or(0);
        let ttl_min = probes.iter().map(|p| p.ttl).min().unwrap_or(0);
        let ttl_max = probes.iter().map(|p| p.ttl).max().unwrap_or(0);
        b = b.evidence(Evidence::Measurement {
            metric: "hop_distance_estimate".into(),
            value: f64::from(hops_max),
            unit: "hops".into(),
            reference: Some(f64::from(probes[0].syn_ack.1)),
            reference_label: Some("TTL of the first SYN-ACK (initial TTL 64, 128 or 255)".into()),
            frames: vec![probes[0].syn_ack.0],
        });
        b = b.evidence(Evidence::Note {
            text: format!(
                "request IP TTLs: {}",
                probes
                    .iter()
                    .map(|p| p.ttl.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            frames: vec![],
        });
        b = b.evidence(Evidence::Measurement {
            metric: "silent_requests".into(),
            value: silent.len() as f64,
            unit: "connections".into(),
            reference: Some(answered as f64),
            reference_label: Some("requests with the same trigger answered".into()),
            frames: vec![],
        });
        if not_counted > 0 {
            b = b.evidence(Evidence::Note {
                text: format!(
                    "{not_counted} other unanswered requests with this trigger were not counted: sent with too low a TTL to reach the server, reported expired by a router, or too close to the capture's end"
                ),
                frames: vec![],
            });
        }
        for a in contrast.iter().take(3) {
            b = b.evidence(Evidence::Note {
                text: format!(
                    "flow {} to {}{}: request answered (IP TTL {})",
                    a.flow.id,
                    a.flow.server,
                    trigger_words(a),
                    a.probe.as_ref().map_or(0, |p| p.ttl)
                ),
                frames: a
                    .probe
                    .iter()
                    .flat_map(|p| std::iter::once(p.frame).chain(p.answer_frame))
                    .collect(),
            });
        }
        let mut f = b.build();
        f.summary = format!(
            "{} requests{} to {}, each on its own connection whose handshake completed, were never acknowledged nor answered, though sent with IP TTL {}{} (the server is about {}{} hops away) and no router reported them expired; {}",
            silent.len(),
            for_words(first),
            first.flow.server,
            ttl_min,
            if ttl_max > ttl_min { format!("-{ttl_max}") } else { String::new() },
            hops_min,
            if hops_max > hops_min { format!("-{hops_max}") } else { String::new() },
            match contrast.first() {
                Some(a) if high => format!(
                    "the same server answered a request{} in flow {}",
                    for_words(a),
                    a.flow.id
                ),
                Some(a) => format!("the same request was answered once (flow {})", a.flow.id),
                None => "no request to this server was answered in the capture".into(),
            }
        );
        sink.push(f);
    }
}

/// Routers a packet crossed, from its TTL and the nearest common initial TTL (64, 128, 255)
/// at or above it.
fn hops_from(ttl: u8) -> u8 {
    let initial = [64u8, 128, 255]
        .into_iter()
        .find(|i| *i >= ttl)
        .unwrap_or(255);
    initial - ttl
}

/// Transmissions of the request's first segment (the request and its retransmissions): data
/// segments of the client's starting at the sequence number of its first.
fn request_sends(log: &[crate::flow::PacketRecord]) -> u32 {
    let mut data = log
        .iter()
        .filter(|p| p.dir == Direction::ClientToServer && p.payload_len > 0);
    let Some(first) = data.next() else {
        return 0;
    };
    let n = 1 + data.filter(|p| p.seq == first.seq).count();
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// What became of the request of a TCP connection whose handshake completed, if it had one.
fn probe_of(
    flow: &FlowView<'_>,
    tcp: &crate::proto::tcp::TcpConn,
    server_rst: bool,
    log: &[crate::flow::PacketRecord],
) -> Option<Probe> {
    let (syn_ack_frame, _) = tcp.handshake.syn_ack?;
    let syn_ack = log.iter().find(|p| p.frame == syn_ack_frame)?;
    let request = log
        .iter()
        .find(|p| p.dir == Direction::ClientToServer && p.payload_len > 0)?;
    let syn = log
        .iter()
        .find(|p| p.dir == Direction::ClientToServer && p.flags.syn())?;
    let end = request.seq.wrapping_add(request.payload_len);
    // The server acknowledged the request's last byte (sequence arithmetic, RFC 9293 §3.4).
    let answer = log.iter().find(|p| {
        p.dir == Direction::ServerToClient
            && (p.payload_len > 0 || (p.flags.ack() && p.ack.wrapping_sub(end) as i32 >= 0))
    });
    let server = flow.record.dir(Direction::ServerToClient);
    let answered = answer.is_some() || server.payload_bytes > 0;
    let sends = request_sends(log);
    Some(Probe {
        frame: request.frame,
        ts: request.ts,
        ttl: request.ttl,
        syn_ack: (syn_ack.frame, syn_ack.ttl),
        syn_ttl: syn.ttl,
        silent: !answered && !server_rst && sends == 1,
        answered,
        answer_frame: answer.map(|p| p.frame),
    })
}

/// A QUIC version for people.
fn version_name(v: u32) -> String {
    match v {
        crate::proto::quic::packet::VERSION_1 => "1".into(),
        crate::proto::quic::packet::VERSION_2 => "2".into(),
        crate::proto::quic::packet::VERSION_DRAFT_29 => "draft-29".into(),
        other => format!("0x{other:08x}"),
    }
}

/// First and last of some times.
fn span_of(ts: impl Iterator<Item = Timestamp>) -> Option<(Timestamp, Timestamp)> {
    ts.fold(None, |acc, t| match acc {
        None => Some((t, t)),
        Some((a, b)) => Some((a.min(t), b.max(t))),
    })
}

fn is_special(a: IpAddr) -> bool {
    super::addresses::special_range(a).is_some()
}

/// ` (name)` for a flow with a trigger.
fn trigger_words(o: &Outcome) -> String {
    o.trigger
        .as_ref()
        .map(|t| format!(" ({})", t.1))
        .unwrap_or_default()
}

/// ` for name` for a flow with a trigger.
fn for_words(o: &Outcome) -> String {
    o.trigger
        .as_ref()
        .map(|t| format!(" for {}", t.1))
        .unwrap_or_default()
}

fn failure_words(o: &Outcome) -> String {
    let (first, last) = o.attempts.unwrap_or((o.first_ts, o.last_client_ts));
    let tried = last.since(first);
    let icmp = o
        .icmp
        .as_ref()
        .map(|i| format!("; {}", i.describe()))
        .unwrap_or_default();
    match o.failure {
        Some(Failure::NoSynAck { syns }) => {
            format!("{syns} SYNs over {tried} without SYN-ACK or RST{icmp}")
        }
        Some(Failure::Dropped { sends }) => {
            format!("sent {sends} times over {tried}, never acknowledged{icmp}")
        }
        None => "answered".into(),
    }
}

/// A note on one failed flow of a grouped finding, citing its first `n` frames and any ICMP.
fn failure_note(o: &Outcome, n: usize) -> Evidence {
    let mut frames: Vec<FrameNumber> = o.frames.iter().take(n).copied().collect();
    if let Some(i) = &o.icmp {
        frames.push(i.frame);
    }
    Evidence::Note {
        text: format!(
            "flow {} to {}{}: {}",
            o.flow.id,
            o.flow.server,
            trigger_words(o),
            failure_words(o)
        ),
        frames,
    }
}

fn proof_note(p: &Outcome) -> Evidence {
    Evidence::Note {
        text: format!(
            "both directions are captured: flow {} to {} was answered at {}",
            p.flow.id, p.flow.server, p.first_ts
        ),
        frames: p.frames.iter().take(1).copied().collect(),
    }
}

/// The /24 (IPv4) or /48 (IPv6) holding an address.
fn range_of(a: IpAddr) -> String {
    match a {
        IpAddr::V4(v) => {
            let o = v.octets();
            format!("{}.{}.{}.0/24", o[0], o[1], o[2])
        }
        IpAddr::V6(v) => {
            let s = v.segments();
            format!("{:x}:{:x}:{:x}::/48", s[0], s[1], s[2])
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::Endpoint;

    fn fr(n: u64) -> FrameNumber {
        FrameNumber::new(n).unwrap()
    }

    fn flow(proto: L4Proto, frame: u64, server: [u8; 4], cport: u16, sport: u16) -> FlowRef {
        FlowRef {
            proto,
            client: Endpoint {
                addr: IpAddr::from([192, 168, 1, 20]),
                port: cport,
            },
            server: Endpoint {
                addr: IpAddr::from(server),
                port: sport,
            },
            id: FlowId {
                first_frame: fr(frame),
                depth: 0,
            },
        }
    }

    fn ts(s: i64) -> Timestamp {
        Timestamp::from_nanos(1_700_000_000_000_000_000 + s * 1_000_000_000)
    }

    const BLOCKED: [u8; 4] = [142, 250, 74, 110];

    /// A capture at the client: a TCP fetch from another server answered at 0 s, a QUIC Initial
    /// for google.com at 1 s with no answer, a later UDP flow to the same host at 60 s with no
    /// answer; the capture ends at `end` s. `server_packets` datagrams answer the Initial.
    fn run(end: i64, server_packets: u64) -> (Vec<crate::finding::Finding>, Vec<String>) {
        finish(setup(end, server_packets))
    }

    fn setup(end: i64, server_packets: u64) -> Blackhole {
        let mut d = Blackhole {
            last_ts: Some(ts(end)),
            ..Default::default()
        };
        d.outcomes.push(Outcome {
            flow: flow(L4Proto::Tcp, 1, [93, 158, 134, 11], 40000, 443),
            first_ts: ts(0),
            last_client_ts: ts(0),
            failure: None,
            answered: true,
            trigger: None,
            frames: vec![fr(2)],
            icmp: None,
            attempts: None,
            probe: None,
        });
        d.quic_outcomes.push(QuicOutcome {
            flow: flow(L4Proto::Udp, 10, BLOCKED, 51000, 443),
            hello: QuicHello {
                sni: "google.com".into(),
                alpn: vec!["h3".into()],
                version: crate::proto::quic::packet::VERSION_1,
                dcid: "0336d55ba695d78e".into(),
                scid: String::new(),
                frames: vec![fr(10)],
                ts: ts(1),
                packets: 1,
            },
            client_packets: 3,
            client_last: ts(4),
            server_packets,
            server_last: (server_packets > 0).then(|| ts(1)),
            client_after_silence: 0,
            first_server_frame: (server_packets > 0).then(|| fr(11)),
            unanswered_frames: vec![fr(10), fr(12), fr(13)],
            icmp: None,
        });
        d.udp_silent.push(UdpSilent {
            flow: flow(L4Proto::Udp, 30, BLOCKED, 52000, 443),
            first_ts: ts(60),
            packets: 2,
            frames: vec![fr(30), fr(31)],
        });
        d
    }

    fn finish(mut d: Blackhole) -> (Vec<crate::finding::Finding>, Vec<String>) {
        let mut sink = FindingSink::new();
        d.finish(&mut sink);
        let diags = sink
            .take_diagnostics()
            .into_iter()
            .map(|(k, _, _)| k.as_str().to_string())
            .collect();
        (sink.into_sorted(), diags)
    }

    #[test]
    fn quic_initial_without_answer_is_blocked_with_residual_flows() {
        let (found, _) = run(200, 0);
        assert_eq!(found.len(), 1, "{found:?}");
        let f = &found[0];
        assert_eq!(f.kind, QUIC_BLOCKED);
        assert_eq!(f.confidence, Confidence::Medium);
        assert_eq!(f.trigger.as_ref().unwrap().value, "google.com");
        let frames: Vec<u64> = f.frames.iter().map(|x| x.get()).collect();
        assert!(frames.contains(&10) && frames.contains(&30) && frames.contains(&2));
        // The retransmitted Initials are cited.
        assert!(frames.contains(&12) && frames.contains(&13));
        assert!(f.summary.contains("residual"), "{}", f.summary);
        assert!(f.evidence.iter().any(|e| matches!(e,
            Evidence::Note { text, .. } if text.contains("DCID 0336d55ba695d78e") && text.contains("ALPN h3"))));
    }

    /// Connections to one server for one Host, each with a request at `ttls[i]`; those with
    /// `answered[i]` were answered. The SYN-ACKs arrive with TTL 46 (18 hops), the client's
    /// SYNs with `syn_ttl`; the capture ends at 300 s.
    fn probes(ttls: &[u8], answered: &[bool], syn_ttl: u8) -> Vec<crate::finding::Finding> {
        let mut d = Blackhole {
            last_ts: Some(ts(300)),
            ..Default::default()
        };
        for (i, (&ttl, &ok)) in ttls.iter().zip(answered).enumerate() {
            let n = 10 * i as u64 + 1;
            d.outcomes.push(Outcome {
                flow: flow(L4Proto::Tcp, n, [185, 236, 34, 4], 50000 + i as u16, 80),
                first_ts: ts(10 * i as i64),
                last_client_ts: ts(10 * i as i64 + 3),
                failure: None,
                answered: true,
                trigger: Some(("http_host", "blocked.example.org".into(), Some(fr(n + 3)))),
                frames: vec![fr(n + 1)],
                icmp: None,
                attempts: None,
                probe: Some(Probe {
                    frame: fr(n + 3),
                    ts: ts(10 * i as i64),
                    ttl,
                    syn_ack: (fr(n + 1), 46),
                    syn_ttl,
                    silent: !ok,
                    answered: ok,
                    answer_frame: ok.then(|| fr(n + 4)),
                }),
            });
        }
        let mut sink = FindingSink::new();
        d.finish(&mut sink);
        sink.into_sorted()
    }

    #[test]
    fn repeated_silent_requests_that_could_reach_the_server_are_dropped() {
        let found = probes(&[20, 21, 22], &[false; 3], 64);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].kind, TCP_DROPPED_AFTER_TRIGGER);
        assert_eq!(found[0].confidence, Confidence::Medium);
        assert!(
            found[0].summary.contains("IP TTL 20-22"),
            "{}",
            found[0].summary
        );
        assert!(
            found[0].summary.contains("about 18 hops"),
            "{}",
            found[0].summary
        );
    }

    #[test]
    fn silent_requests_that_do_not_count_stay_silent() {
        // One failure is not enough.
        assert!(probes(&[20, 8], &[false, true], 64).is_empty());
        // Too little TTL to cross the 18 hops.
        assert!(probes(&[15, 16, 17, 18], &[false; 4], 64).is_empty());
        // A minority among answered requests: ordinary loss.
        assert!(probes(&[20, 21, 22, 23], &[false, false, true, true], 64).is_empty());
        // The capture was taken at the server: the client's SYN crossed as many routers.
        assert!(probes(&[50, 50, 50], &[false; 3], 46).is_empty());
    }

    #[test]
    fn quic_twins_stay_silent() {
        // The capture ends right after the Initial.
        assert!(run(2, 0).0.is_empty());
        // The server answered.
        assert!(run(200, 2).0.is_empty());
        // The server itself says port unreachable: no QUIC there.
        let mut d = setup(200, 0);
        d.quic_outcomes[0].icmp = Some(Icmp {
            frame: fr(11),
            from: IpAddr::from(BLOCKED),
            v6: false,
            icmp_type: 3,
            code: 3,
            ttl: 52,
        });
        assert!(finish(d).0.is_empty());
    }

    #[test]
    fn a_later_named_initial_to_the_same_host_is_residual_not_a_second_finding() {
        let mut d = setup(200, 0);
        let mut later = d.quic_outcomes[0].clone();
        later.flow = d.udp_silent[0].flow;
        later.hello.sni = "www.neutral.example".into();
        later.hello.ts = ts(60);
        d.quic_outcomes.push(later);
        let (found, _) = finish(d);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].trigger.as_ref().unwrap().value, "google.com");
        assert!(found[0].evidence.iter().any(|e| matches!(e,
            Evidence::Note { text, .. } if text.contains("residual blocking") && text.contains("(QUIC Initial for www.neutral.example)"))));
    }

    #[test]
    fn quic_without_any_answer_is_a_one_directional_capture() {
        let mut d = Blackhole {
            last_ts: Some(ts(100)),
            ..Default::default()
        };
        d.quic_outcomes.push(QuicOutcome {
            flow: flow(L4Proto::Udp, 1, BLOCKED, 51000, 443),
            hello: QuicHello {
                sni: "google.com".into(),
                alpn: vec![],
                version: 1,
                dcid: String::new(),
                scid: String::new(),
                frames: vec![fr(1)],
                ts: ts(1),
                packets: 1,
            },
            client_packets: 1,
            client_last: ts(1),
            server_packets: 0,
            server_last: None,
            client_after_silence: 0,
            first_server_frame: None,
            unanswered_frames: vec![fr(1)],
            icmp: None,
        });
        let mut sink = FindingSink::new();
        d.finish(&mut sink);
        let diags = sink.take_diagnostics();
        assert!(sink.into_sorted().is_empty());
        assert_eq!(diags.len(), 1);
        assert!(diags[0].2.contains("SNI google.com"));
    }
}
