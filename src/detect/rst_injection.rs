//! Finds forged TCP teardown (RST, RST+ACK and FIN claiming to come from the other endpoint),
//! injected data segments, forged SYN-ACKs and residual blocking, and names the device when a
//! fingerprint matches; it reads events and flow views only, never bytes.
//!
//! # Signal
//!
//! A forged packet claims to come from the remote endpoint of the capture (the server in a
//! client-side capture, the client in a server-side one; either in between). The vantage point
//! comes from the handshake: the side whose packets still carry an initial TTL (32, 64, 128,
//! 255) is the capturing host, else the timing of the handshake legs decides (see
//! `proto::tcp::decide_vantage`). Packets from the capturing host itself are never suspects.
//!
//! Each suspect is compared with the claimed sender's *reference*: its other packets in the
//! flow, without RSTs, without SYN-ACKs whose authenticity is disputed, and without packets
//! whose TTL is more than 2 away from the sender's most common TTL (injectors forge data and
//! SYN-ACKs too).
//!
//! Strong signals, each enough for `high` confidence:
//! - **The race** (Weaver, Sommer, Paxson, "Detecting Forged TCP Reset Packets", NDSS 2009;
//!   Clayton, Murdoch, Watson, PET 2006; Suricata `stream.suspected_rst_inject`, Zeek
//!   `data_after_reset`): after the RST, the claimed sender keeps sending data whose sequence
//!   numbers go past anything it had sent before, or acknowledgments past anything it had
//!   acknowledged, or answers the handshake (a SYN-ACK before any packet of its own, or with a
//!   new initial sequence number when the client sent no new SYN). Old retransmissions do not
//!   count.
//! - **RST_SEQ_CHANGE** (Weaver et al. 2009, Appendix A, as reimplemented in
//!   `sheharbano/InjectedResetDetector`): two back-to-back RSTs from one side, the second more
//!   than 2 past the first, less than 2 s later, beyond the highest sequence number the sender
//!   used and beyond the highest acknowledgment from the other side + 2, with no FIN before
//!   the first and no RST from the other side before it. Checked whatever the headers look
//!   like (an injector may copy the sender's TTL).
//! - **A device fingerprint** from `data/tcp-devices.json` (GFW types I–III from Wu, Zohaib,
//!   Durumeric et al., IEEE S&P 2025; the 2017 GFW burst X, X+1460, X+4380 from Wang et al.,
//!   IMC 2017; the Henan firewall's payload; Turkmenistan's IP ID 30000; Airtel's IP ID 242),
//!   when distinctive, or when the packet also looks foreign to the flow.
//! - **An IP ID derived from the peer's** (equal to, or one or two above, the identification of
//!   the packet it answers, as in Zeek's `rst-inject-rae` trace and CenTrace's middleboxes),
//!   together with a TTL or DF bit foreign to the sender.
//!
//! Header anomalies against the reference (signatures.md §0.1, §1.1(d), (e), (j)): TTL or hop
//! limit more than 2 outside the range the sender used (a hop or two of path change is
//! tolerated); an IP ID that breaks the sender's sequence (zero, constant or incrementing, with
//! Zeek's byte-swap rule), compared with the sender's packets within 1 s (a RST with IP ID 0
//! from a stack that also sent its SYN or SYN-ACK with IP ID 0 is that stack's habit); the DF
//! bit flipped; odd control fields (an ACK field without the ACK flag, reserved bits, a RST
//! window neither 0 nor within a factor of 4 of the windows the sender advertised). A
//! payload on a RST is quoted but not counted (legal and common; Zeek dropped the check). Two
//! independent anomalies, or one with the timing signal, give `medium`; one alone gives `low`.
//!
//! Timing (signatures.md §1.1(f)): in a client-side capture, a RST from the server that arrives
//! less than three quarters of the handshake round trip after the trigger (the ClientHello with
//! SNI or the HTTP request with Host) cannot be the server's reply to it.
//!
//! Forged FIN: the same tests on the first FIN from the remote side; the race (new data past the
//! FIN) gives `high`, timing together with a header anomaly gives `medium`.
//!
//! Injected data (Zeek `rexmit_inconsistency`, Suricata
//! `stream.reassembly_overlap_different_data`): two copies of the same sequence range with
//! different bytes; `high` when exactly one copy has headers foreign to the sender, `medium`
//! when both do or one is unknown, `low` when both look like the sender's own.
//!
//! Forged SYN-ACK and residual blocking (Wang et al., IMC 2017; S&P 2025: 90–180 s): two
//! SYN-ACKs with different initial sequence numbers, a SYN-ACK claiming to come from the client
//! (which opened the connection), or (server side) a client acknowledging an initial sequence
//! number the server never sent, is `tcp_synack_forged`. A later connection between the same
//! client address, server address and port, within 180 s of an injection of at least
//! `medium`, that is reset by the remote side without a finding of its own (or with only a
//! weak one, which it replaces) or answered by a forged SYN-ACK, is `tcp_residual_block`,
//! linked to the first flow.
//!
//! # Evidence
//!
//! The forged packets (frame, TTL, IP ID, DF, flags, seq, ack, window), the trigger and its
//! frames, the time from trigger to RST next to the RTT, each anomaly as observed versus the
//! sender's values and the frames they come from, the packets of the race, the devices matched
//! with the packets that matched, and the vantage point with its reason.
//!
//! # Known false positives, and what keeps them out
//!
//! - A server's own RST after FIN or after close: RSTs after any FIN are ignored unless a strong
//!   signal is present.
//! - A RST answering the other side's RST: needs two anomalies or a strong signal.
//! - A host resetting a connection it no longer has draws the IP ID from another counter
//!   (Linux: a per-destination counter once no socket is left), so after a suspect RST a RST
//!   whose only oddity is its IP ID is taken as the real host's, and later RSTs are not
//!   examined.
//! - Connection refused (RST to a SYN): no packet of the sender to compare with, so ignored
//!   unless a strong signal (a SYN-ACK after it, a fingerprint) or residual context.
//! - Load balancers and CDN front ends resetting with their own TTL: a TTL difference alone is
//!   at most `low`.
//! - Path changes: TTL differences of up to 2 are tolerated.
//! - RSTs sent by the capturing host: never suspects.
//! - Retransmissions, reordering and duplicated packets: the race requires sequence or
//!   acknowledgment numbers beyond anything sent before the RST.
//! - Flows captured mid-stream: no handshake, so no RTT; confidence one step lower, and a
//!   single weak signal is not reported.
//!
//! # Fixtures
//!
//! `fixtures/rst/`: a positive fixture for every pattern and a benign twin for each trap, at the
//! client and at the server, IPv4 and IPv6, pcap and pcapng; see `fixtures/README.md`.

use std::collections::HashMap;

use super::devices::{DeviceFingerprint, DeviceSet, PacketFacts};
use super::{Detector, FlowView};
use crate::finding::{
    Confidence, Evidence, Finding, FindingBuilder, FindingClass, FindingKind, FindingSink, FlowRef,
    Payload,
};
use crate::flow::PacketRecord;
use crate::ids::{Direction, FlowId, FrameNumber};
use crate::proto::baseline::{classify_ip_ids, IpIdPattern, INITIAL_TTLS};
use crate::proto::event::{PacketInfo, ProtoEvent};
use crate::proto::tcp::seq::SeqNumber;
use crate::proto::tcp::{SeqClass, Vantage};
use crate::time::{Span, Timestamp};

/// Forged RST or RST+ACK.
pub const TCP_RST_INJECTED: FindingKind =
    FindingKind::new("tcp_rst_injected", FindingClass::RstInjection);
/// Forged FIN teardown.
pub const TCP_FIN_INJECTED: FindingKind =
    FindingKind::new("tcp_fin_injected", FindingClass::RstInjection);
/// A segment racing the real one with different bytes.
pub const TCP_DATA_INJECTED: FindingKind =
    FindingKind::new("tcp_data_injected", FindingClass::RstInjection);
/// A SYN-ACK with a forged initial sequence number.
pub const TCP_SYNACK_FORGED: FindingKind =
    FindingKind::new("tcp_synack_forged", FindingClass::RstInjection);
/// A later connection blocked during the residual period after an injection.
pub const TCP_RESIDUAL_BLOCK: FindingKind =
    FindingKind::new("tcp_residual_block", FindingClass::RstInjection);

/// Every kind this detector emits.
pub const KINDS: [FindingKind; 5] = [
    TCP_RST_INJECTED,
    TCP_FIN_INJECTED,
    TCP_DATA_INJECTED,
    TCP_SYNACK_FORGED,
    TCP_RESIDUAL_BLOCK,
];

const NAME: &str = "rst_injection";
/// TTL differences up to this are path changes, not anomalies.
const TTL_TOLERANCE: u8 = 2;
/// A RST window more than this factor outside the sender's advertised windows is odd.
const WINDOW_FACTOR: u32 = 4;
/// An IP ID step larger than this breaks an incrementing sequence.
const IP_ID_MAX_STEP: u16 = 4096;
/// IP IDs of the sender's packets further than this from the suspect one are not compared.
const IP_ID_WINDOW: Span = Span::from_secs(1);
/// RSTs closer than this belong to one burst.
const BURST_GAP: Span = Span::from_millis(100);
/// RST_SEQ_CHANGE: the two RSTs are less than this apart (Weaver et al.).
const SEQ_CHANGE_WINDOW: Span = Span::from_secs(2);
/// A reply from the other endpoint takes at least a round trip; allow for jitter.
const FAST_FRACTION: f64 = 0.75;
/// Residual blocking lasts up to this long after an injection (GFW: 90–180 s).
const RESIDUAL_WINDOW: Span = Span::from_secs(180);
/// Bounds of per-flow state.
const MAX_SUSPECTS: usize = 16;
const MAX_RACE: usize = 8;
const MAX_CONFLICTS: usize = 4;

#[derive(Clone, Debug)]
struct Trigger {
    kind: &'static str,
    value: String,
    frames: Vec<FrameNumber>,
    ts: Timestamp,
}

/// A RST or FIN from one side, with what was known when it arrived.
#[derive(Clone, Debug)]
pub(super) struct Suspect {
    pub(super) pkt: PacketInfo,
    /// The sender's highest sequence number before it (end of its furthest segment).
    pub(super) sender_next_seq: Option<SeqNumber>,
    /// The highest acknowledgment the sender had sent before it.
    pub(super) sender_max_ack: Option<SeqNumber>,
    /// The sender's initial sequence number, if its SYN or SYN-ACK was seen.
    pub(super) sender_isn: Option<u32>,
    /// The highest acknowledgment the other side had sent before it.
    pub(super) peer_max_ack: Option<SeqNumber>,
    /// A FIN had been seen (either way) before it.
    pub(super) fin_before: bool,
    /// The other side had sent a RST before it.
    pub(super) peer_rst_before: bool,
    /// Payload bytes (RSTs with payload).
    pub(super) payload: Option<Vec<u8>>,
}

#[derive(Clone, Copy, Debug)]
enum RaceKind {
    Data,
    Ack,
    Handshake,
}

#[derive(Clone, Copy, Debug)]
struct RacePacket {
    suspect: usize,
    pkt: PacketInfo,
    kind: RaceKind,
}

/// Two copies of a stream range with different bytes.
#[derive(Clone, Copy, Debug)]
struct Conflict {
    dir: Direction,
    /// The later copy, and its headers when the packet event was seen just before.
    frame: FrameNumber,
    packet: Option<PacketInfo>,
    /// The earlier copy.
    first: Option<FrameNumber>,
    offset: u64,
    differing: u32,
}

#[derive(Default, Debug)]
struct FlowState {
    /// The client's last SYN (without ACK).
    last_client_syn: Option<FrameNumber>,
    triggers: Vec<Trigger>,
    suspects: Vec<Suspect>,
    race: Vec<RacePacket>,
    conflicts: Vec<Conflict>,
    /// Server-side view: a client ACK for an ISN the server never sent (frame, ack, real ISN).
    foreign_synack_ack: Option<(FrameNumber, u32, u32)>,
}

/// What a flow showed, kept for residual linking at the end of the capture.
#[derive(Clone, Debug)]
struct Outcome {
    flow: FlowRef,
    first_ts: Timestamp,
    /// An injection finding on this flow: time of the forged packet and its frames.
    injected: Option<(Timestamp, Vec<FrameNumber>)>,
    /// A remote reset or forged SYN-ACK without a finding of its own: its packets.
    blocked: Option<BlockedWithout>,
    /// A low-confidence RST finding, reported unless residual blocking explains it.
    weak: Option<Finding>,
}

#[derive(Clone, Debug, Default)]
struct BlockedWithout {
    /// How: "reset by the remote side", "forged SYN-ACK".
    what: Vec<&'static str>,
    /// The packets and anomalies that show it.
    evidence: Vec<Evidence>,
}

impl BlockedWithout {
    fn add(&mut self, what: &'static str, evidence: Vec<Evidence>) {
        if !self.what.contains(&what) {
            self.what.push(what);
        }
        for e in evidence {
            if !self.evidence.contains(&e) {
                self.evidence.push(e);
            }
        }
    }
}

/// One way a connection was blocked, from one judgement.
#[derive(Clone, Debug)]
struct Blocked {
    what: &'static str,
    evidence: Vec<Evidence>,
}

/// The packets and header mismatches of a finding, without its notes and references.
fn blocking_evidence(f: &Finding) -> Vec<Evidence> {
    f.evidence
        .iter()
        .filter(|e| match e {
            Evidence::Packet { role, .. } => role.contains("forged") || role.contains("SYN-ACK"),
            Evidence::Mismatch { .. } => true,
            _ => false,
        })
        .cloned()
        .collect()
}

/// The RST-injection detector.
pub struct RstInjection {
    devices: DeviceSet,
    flows: HashMap<FlowId, FlowState>,
    outcomes: Vec<Outcome>,
    /// The last packet event (overlap conflicts follow the packet that caused them).
    last_packet: Option<(FlowId, PacketInfo)>,
}

impl Default for RstInjection {
    fn default() -> Self {
        RstInjection::new(DeviceSet::builtin())
    }
}

impl RstInjection {
    /// A detector using these device fingerprints.
    pub fn new(devices: DeviceSet) -> RstInjection {
        RstInjection {
            devices,
            flows: HashMap::new(),
            outcomes: Vec::new(),
            last_packet: None,
        }
    }
}

impl Detector for RstInjection {
    fn name(&self) -> &'static str {
        NAME
    }

    fn on_event(&mut self, flow: &FlowView<'_>, event: &ProtoEvent, _sink: &mut FindingSink) {
        let Some(tcp) = flow.tcp else {
            return;
        };
        let id = flow.record.id;
        match event {
            ProtoEvent::TlsClientHello {
                dir: Direction::ClientToServer,
                frames,
                ts,
                hello,
            } => {
                if let Some(sni) = &hello.sni {
                    self.flows.entry(id).or_default().triggers.push(Trigger {
                        kind: "sni",
                        value: sni.clone(),
                        frames: frames.clone(),
                        ts: *ts,
                    });
                }
            }
            ProtoEvent::HttpRequest {
                dir: Direction::ClientToServer,
                frames,
                ts,
                head,
            } => {
                let value = head.host.clone().unwrap_or_else(|| head.target.clone());
                self.flows.entry(id).or_default().triggers.push(Trigger {
                    kind: if head.host.is_some() {
                        "http_host"
                    } else {
                        "http_url"
                    },
                    value,
                    frames: frames.clone(),
                    ts: *ts,
                });
            }
            ProtoEvent::TcpOverlapConflict {
                dir,
                frame,
                conflict,
            } => {
                let packet = self
                    .last_packet
                    .filter(|(f, p)| *f == id && p.frame == *frame)
                    .map(|(_, p)| p);
                let state = self.flows.entry(id).or_default();
                if state.conflicts.len() < MAX_CONFLICTS {
                    state.conflicts.push(Conflict {
                        dir: *dir,
                        frame: *frame,
                        packet,
                        first: conflict.first_frame,
                        offset: conflict.offset,
                        differing: conflict.differing,
                    });
                }
            }
            ProtoEvent::TcpRstPayload { frame, bytes, .. } => {
                if let Some(state) = self.flows.get_mut(&id) {
                    if let Some(s) = state.suspects.iter_mut().find(|s| s.pkt.frame == *frame) {
                        s.payload = Some(bytes.clone());
                    }
                }
            }
            ProtoEvent::Packet(p) => {
                let Some(seg) = p.tcp else {
                    return;
                };
                if p.payload_len > 0 {
                    self.last_packet = Some((id, *p));
                }
                let flags = seg.flags;
                let dir = p.dir;
                let sender = tcp.half(dir);
                let peer = tcp.half(dir.reverse());
                // A client acknowledging an initial sequence number the server never sent: seen
                // from the server, the client got a forged SYN-ACK.
                if dir == Direction::ClientToServer
                    && flags.ack()
                    && !flags.syn()
                    && !flags.rst()
                    && tcp.handshake.ack.is_none()
                {
                    if let Some(isn) = tcp.handshake.syn_ack_isn {
                        let expected = SeqNumber(isn.wrapping_add(1));
                        if SeqNumber(seg.ack).diff(expected).abs() > 65_536 {
                            let state = self.flows.entry(id).or_default();
                            state
                                .foreign_synack_ack
                                .get_or_insert((p.frame, seg.ack, isn));
                        }
                    }
                }
                let is_rst = flags.rst();
                let is_fin = flags.fin() && !flags.syn() && !flags.rst();
                if is_rst || (is_fin && sender.fin.is_some_and(|f| f.frame == p.frame)) {
                    let fin_before = [Direction::ClientToServer, Direction::ServerToClient]
                        .iter()
                        .any(|d| tcp.half(*d).fin.is_some_and(|f| f.frame < p.frame));
                    let state = self.flows.entry(id).or_default();
                    if state.suspects.len() < MAX_SUSPECTS {
                        state.suspects.push(Suspect {
                            pkt: *p,
                            sender_next_seq: sender.next_seq,
                            sender_max_ack: sender.max_ack,
                            sender_isn: sender.isn.map(|i| i.0),
                            peer_max_ack: peer.max_ack,
                            fin_before,
                            peer_rst_before: peer.first_rst.is_some_and(|f| f < p.frame),
                            payload: None,
                        });
                    }
                    return;
                }
                let Some(state) = self.flows.get_mut(&id) else {
                    return;
                };
                if dir == Direction::ClientToServer && flags.syn() && !flags.ack() {
                    state.last_client_syn = Some(p.frame);
                }
                // The race: the claimed sender of an earlier RST/FIN still talking.
                for (i, s) in state.suspects.iter().enumerate() {
                    if s.pkt.dir != dir || state.race.len() >= MAX_RACE {
                        continue;
                    }
                    if state.race.iter().any(|r| r.suspect == i) {
                        continue;
                    }
                    let s_flags = s.pkt.tcp.map(|t| t.flags).unwrap_or_default();
                    // A SYN-ACK after the RST answers the handshake: before any packet of
                    // the sender, or with a new initial sequence number when the client sent
                    // no new SYN after the RST.
                    let new_isn = s.sender_isn.is_some_and(|isn| isn != seg.seq)
                        && state.last_client_syn.is_none_or(|f| f < s.pkt.frame);
                    let kind = if flags.syn()
                        && flags.ack()
                        && dir == Direction::ServerToClient
                        && (s.sender_next_seq.is_none() || new_isn)
                    {
                        Some(RaceKind::Handshake)
                    } else if s_flags.fin() && !s_flags.rst() {
                        // After a FIN only new data past it counts.
                        let fin_end = s
                            .pkt
                            .tcp
                            .map(|t| SeqNumber(t.seq).wrapping_add(t.payload_len + 1));
                        let end = SeqNumber(seg.seq).wrapping_add(seg.payload_len);
                        (seg.payload_len > 0 && fin_end.is_some_and(|f| end.diff(f) > 0))
                            .then_some(RaceKind::Data)
                    } else {
                        new_data_or_ack(s, &seg)
                    };
                    if let Some(kind) = kind {
                        state.race.push(RacePacket {
                            suspect: i,
                            pkt: *p,
                            kind,
                        });
                    }
                }
            }
            _ => {}
        }
    }

    fn on_flow_end(&mut self, flow: &FlowView<'_>, sink: &mut FindingSink) {
        let Some(tcp) = flow.tcp else {
            return;
        };
        let state = self.flows.remove(&flow.record.id).unwrap_or_default();
        let ctx = Context::new(flow, tcp);
        // What blocked this connection, for residual linking: the remote side's resets and
        // forged SYN-ACKs, with their packets.
        let mut blocked = BlockedWithout::default();
        let mut findings = Vec::new();
        let mut weak: Option<Finding> = None;
        for claimed in [Direction::ServerToClient, Direction::ClientToServer] {
            if !ctx.is_remote(claimed) {
                continue;
            }
            match self.judge_rsts(&ctx, &state, claimed) {
                Judgement::Finding(f) => {
                    blocked.add("reset by the remote side", blocking_evidence(&f));
                    if f.confidence == Confidence::Low && weak.is_none() {
                        // A single weak signal: held back until the end of the capture,
                        // because residual blocking explains the same reset better.
                        weak = Some(*f);
                    } else {
                        findings.push(*f);
                    }
                }
                Judgement::BlockedWithout(b) => blocked.add(b.what, b.evidence),
                Judgement::Nothing => {}
            }
            if let Some(f) = judge_fin(&ctx, &state, claimed) {
                findings.push(f);
            }
        }
        findings.extend(judge_conflicts(&ctx, &state));
        let synack = judge_synack(&ctx, &state);
        if let Some(f) = &synack {
            blocked.add("forged SYN-ACK", blocking_evidence(f));
        }
        findings.extend(synack);
        let injected = findings
            .iter()
            .filter(|f| f.kind != TCP_SYNACK_FORGED && f.confidence >= Confidence::Medium)
            .min_by_key(|f| f.ts)
            .map(|f| (f.ts, f.frames.clone()));
        // A connection with an injection of its own is where a residual period starts, not
        // a victim of one, unless it was also answered by a forged SYN-ACK (which only
        // happens inside a residual period).
        let residual_victim = !blocked.what.is_empty()
            && (injected.is_none() || blocked.what.contains(&"forged SYN-ACK"));
        if injected.is_some() || residual_victim {
            self.outcomes.push(Outcome {
                flow: flow.flow_ref(),
                first_ts: flow.record.first_ts,
                injected,
                blocked: residual_victim.then_some(blocked),
                weak,
            });
        } else if let Some(w) = weak {
            sink.push(w);
        }
        for f in findings {
            sink.push(f);
        }
    }

    fn finish(&mut self, sink: &mut FindingSink) {
        // Every flow has been through on_flow_end by now. Link connections that were blocked
        // without a finding of their own (or with only a weak one) to an earlier injection
        // between the same client address, server address and port.
        let mut outcomes = std::mem::take(&mut self.outcomes);
        outcomes.sort_by_key(|o| o.flow.id);
        let mut injections: HashMap<(std::net::IpAddr, crate::ids::Endpoint), Vec<usize>> =
            HashMap::new();
        for (i, o) in outcomes.iter().enumerate() {
            if o.injected.is_some() {
                injections
                    .entry((o.flow.client.addr, o.flow.server))
                    .or_default()
                    .push(i);
            }
        }
        for later in &outcomes {
            let Some(blocked) = &later.blocked else {
                if let Some(w) = &later.weak {
                    sink.push(w.clone());
                }
                continue;
            };
            let earlier = injections
                .get(&(later.flow.client.addr, later.flow.server))
                .into_iter()
                .flatten()
                .map(|&i| &outcomes[i])
                .rfind(|o| {
                    o.flow.id < later.flow.id
                        && o.injected.as_ref().is_some_and(|(t, _)| {
                            let since = later.first_ts.since(*t);
                            !since.is_negative() && since <= RESIDUAL_WINDOW
                        })
                });
            let Some((first, (t0, frames0))) =
                earlier.and_then(|o| o.injected.as_ref().map(|inj| (o, inj)))
            else {
                if let Some(w) = &later.weak {
                    sink.push(w.clone());
                }
                continue;
            };
            let since = later.first_ts.since(*t0);
            let mut b = FindingBuilder::new(
                NAME,
                TCP_RESIDUAL_BLOCK,
                Confidence::Medium,
                later.flow,
                format!(
                    "Connection {} → {} blocked ({}) {} after the injection on flow {}: consistent with residual blocking between the same hosts",
                    later.flow.client, later.flow.server, blocked.what.join(" and "), since, first.flow.id
                ),
            )
            .evidence(Evidence::Note {
                text: format!(
                    "flow {} between the same client, server and port was interfered with {} earlier (its forged packets are frames {}); the Great Firewall keeps blocking such a triple for 90-180 s",
                    first.flow.id,
                    since,
                    join(frames0)
                ),
                frames: frames0.clone(),
            });
            for e in &blocked.evidence {
                b = b.evidence(e.clone());
            }
            if let Some(w) = &later.weak {
                // The weak finding's evidence moves here; the finding itself is dropped.
                for e in w
                    .evidence
                    .iter()
                    .filter(|e| !matches!(e, Evidence::Note { .. }))
                {
                    b = b.evidence(e.clone());
                }
                b = b.frames(w.frames.iter().copied());
            }
            sink.push(
                b.frames([later.flow.id.first_frame])
                    .at(later.first_ts)
                    .build(),
            );
        }
    }
}

/// A suspect's sender sent new data or new acknowledgments after it.
fn new_data_or_ack(s: &Suspect, seg: &crate::proto::tcp::TcpSegment) -> Option<RaceKind> {
    let flags = seg.flags;
    let carries = seg.payload_len > 0 || flags.fin();
    if carries
        && matches!(
            seg.class,
            SeqClass::InOrder
                | SeqClass::AfterGap
                | SeqClass::PartialRetransmission
                | SeqClass::First
        )
    {
        let end = SeqNumber(seg.seq).wrapping_add(seg.payload_len);
        let beyond = match s.sender_next_seq {
            Some(prev) => end.diff(prev) > 0,
            None => true,
        };
        if beyond {
            return Some(RaceKind::Data);
        }
    }
    if flags.ack() && !flags.syn() {
        if let Some(prev) = s.sender_max_ack {
            if SeqNumber(seg.ack).diff(prev) > 0 {
                return Some(RaceKind::Ack);
            }
        }
    }
    None
}

/// Facts about the flow used by every judgement.
pub(super) struct Context<'a> {
    pub(super) view: &'a FlowView<'a>,
    pub(super) tcp: &'a crate::proto::tcp::TcpConn,
    pub(super) log: Vec<PacketRecord>,
    pub(super) vantage: Option<Vantage>,
    pub(super) vantage_note: String,
    pub(super) rtt: Option<Span>,
    pub(super) mid_stream: bool,
}

impl<'a> Context<'a> {
    pub(super) fn new(view: &'a FlowView<'a>, tcp: &'a crate::proto::tcp::TcpConn) -> Context<'a> {
        let log = view.record.log.records();
        let mid_stream = tcp.half(Direction::ClientToServer).isn.is_none()
            && tcp.half(Direction::ServerToClient).isn.is_none();
        let (vantage, vantage_note) = match (tcp.handshake.vantage, tcp.handshake.vantage_basis) {
            (Some(v), Some(basis)) => {
                let why = match basis {
                    crate::proto::tcp::VantageBasis::Ttl => {
                        "one side's packets carry an initial TTL (sent from the capturing host)"
                    }
                    crate::proto::tcp::VantageBasis::Timing => {
                        "the handshake leg that crossed the network is the long one"
                    }
                };
                (
                    Some(v),
                    format!("capture taken {}: {why}", vantage_words(v)),
                )
            }
            _ => {
                // No handshake: the TTLs alone.
                let initial = |d: Direction| {
                    let ttls: Vec<u8> = log.iter().filter(|r| r.dir == d).map(|r| r.ttl).collect();
                    !ttls.is_empty() && ttls.iter().all(|t| INITIAL_TTLS.contains(t))
                };
                match (initial(Direction::ClientToServer), initial(Direction::ServerToClient)) {
                    (true, false) => (
                        Some(Vantage::Client),
                        "capture taken at the client: its packets carry an initial TTL (no complete handshake seen)".to_string(),
                    ),
                    (false, true) => (
                        Some(Vantage::Server),
                        "capture taken at the server: its packets carry an initial TTL (no complete handshake seen)".to_string(),
                    ),
                    _ => (None, "vantage point unknown (no complete handshake, no initial TTL)".to_string()),
                }
            }
        };
        Context {
            view,
            tcp,
            log,
            vantage,
            vantage_note,
            rtt: tcp.handshake.rtt,
            mid_stream,
        }
    }

    /// Packets claiming to come from the sender of `dir` are candidates unless the capture
    /// was taken at that sender.
    pub(super) fn is_remote(&self, dir: Direction) -> bool {
        match self.vantage {
            Some(Vantage::Client) => dir == Direction::ServerToClient,
            Some(Vantage::Server) => dir == Direction::ClientToServer,
            Some(Vantage::Middle) | None => true,
        }
    }

    fn who(dir: Direction) -> &'static str {
        match dir {
            Direction::ClientToServer => "client",
            Direction::ServerToClient => "server",
        }
    }
}

fn vantage_words(v: Vantage) -> &'static str {
    match v {
        Vantage::Client => "at the client",
        Vantage::Server => "at the server",
        Vantage::Middle => "between client and server",
    }
}

/// The sender's own packets in the flow (from its log), excluding `suspects`.
pub(super) struct SenderRef {
    pub(super) frames: Vec<FrameNumber>,
    pub(super) ttl: Option<(u8, u8)>,
    pub(super) ids: Vec<(FrameNumber, Timestamp, u16)>,
    pub(super) df: Option<bool>,
    pub(super) control_id_zero: bool,
    /// Range of the raw TCP window field outside SYNs.
    pub(super) window: Option<(u16, u16)>,
}

pub(super) fn sender_ref(ctx: &Context<'_>, dir: Direction, suspects: &[FrameNumber]) -> SenderRef {
    // Two SYN-ACKs with different initial sequence numbers: one is forged and nothing says
    // which yet, so neither is a reference.
    let hs = &ctx.tcp.handshake;
    let disputed: Vec<FrameNumber> = match (hs.syn_ack, hs.conflicting_syn_ack) {
        (Some((a, _)), Some(b)) => vec![a, b],
        _ => Vec::new(),
    };
    let own: Vec<&PacketRecord> = ctx
        .log
        .iter()
        .filter(|r| {
            r.dir == dir
                && !r.flags.rst()
                && !suspects.contains(&r.frame)
                && !disputed.contains(&r.frame)
                && hs.reverse_syn_ack != Some(r.frame)
        })
        .collect();
    // Packets whose TTL is far from the sender's usual one are not its own either (injectors
    // forge data and SYN-ACKs too): keep the packets within the tolerance of the most common
    // TTL (ties go to the earliest packet's).
    let mut counts: Vec<(u8, usize, FrameNumber)> = Vec::new();
    for r in &own {
        match counts.iter_mut().find(|(t, _, _)| *t == r.ttl) {
            Some(c) => c.1 += 1,
            None => counts.push((r.ttl, 1, r.frame)),
        }
    }
    let mode = counts
        .iter()
        .max_by(|a, b| a.1.cmp(&b.1).then(b.2.cmp(&a.2)))
        .map(|c| c.0);
    let own: Vec<&PacketRecord> = own
        .into_iter()
        .filter(|r| mode.is_none_or(|m| r.ttl.abs_diff(m) <= TTL_TOLERANCE))
        .collect();
    let mut ttl: Option<(u8, u8)> = None;
    for r in &own {
        ttl = Some(ttl.map_or((r.ttl, r.ttl), |(lo, hi)| (lo.min(r.ttl), hi.max(r.ttl))));
    }
    let ids: Vec<(FrameNumber, Timestamp, u16)> = own
        .iter()
        .filter_map(|r| r.ip_id.map(|i| (r.frame, r.ts, i)))
        .collect();
    let dfs: Vec<bool> = own
        .iter()
        .filter(|r| r.ip_id.is_some())
        .map(|r| r.df)
        .collect();
    let df = match (dfs.iter().all(|d| *d), dfs.iter().all(|d| !*d)) {
        _ if dfs.is_empty() => None,
        (true, _) => Some(true),
        (_, true) => Some(false),
        _ => None,
    };
    let control_id_zero = own.iter().any(|r| r.flags.syn() && r.ip_id == Some(0));
    let mut window: Option<(u16, u16)> = None;
    for r in own.iter().filter(|r| !r.flags.syn()) {
        window = Some(window.map_or((r.window, r.window), |(lo, hi)| {
            (lo.min(r.window), hi.max(r.window))
        }));
    }
    SenderRef {
        frames: own.iter().map(|r| r.frame).collect(),
        ttl,
        ids,
        df,
        control_id_zero,
        window,
    }
}

/// Anomalies of one suspect packet against its sender's own packets.
#[derive(Default)]
pub(super) struct Anomalies {
    pub(super) ttl: Option<Evidence>,
    pub(super) ip_id: Option<Evidence>,
    pub(super) ip_id_copied: Option<Evidence>,
    pub(super) df: Option<Evidence>,
    pub(super) odd: Vec<Evidence>,
}

impl Anomalies {
    pub(super) fn count(&self) -> usize {
        usize::from(self.ttl.is_some())
            + usize::from(self.ip_id.is_some() || self.ip_id_copied.is_some())
            + usize::from(self.df.is_some())
            + usize::from(!self.odd.is_empty())
    }

    pub(super) fn items(&self) -> Vec<Evidence> {
        let mut v = Vec::new();
        v.extend(self.ttl.clone());
        v.extend(self.ip_id.clone());
        v.extend(self.ip_id_copied.clone());
        v.extend(self.df.clone());
        v.extend(self.odd.iter().cloned());
        v
    }
}

pub(super) fn anomalies(ctx: &Context<'_>, s: &Suspect, r: &SenderRef) -> Anomalies {
    let p = &s.pkt;
    let mut a = Anomalies::default();
    let who = Context::who(p.dir);
    if let Some((lo, hi)) = r.ttl {
        let d = if p.ip.ttl < lo {
            lo - p.ip.ttl
        } else {
            p.ip.ttl.saturating_sub(hi)
        };
        if d > TTL_TOLERANCE {
            a.ttl = Some(Evidence::Mismatch {
                field: "ip_ttl".into(),
                observed: serde_json::json!(p.ip.ttl),
                expected: format!(
                    "{} ({}'s other packets in this flow; up to {TTL_TOLERANCE} hops of path change tolerated)",
                    range(lo, hi),
                    who
                ),
                frames: vec![p.frame],
                baseline_frames: r.frames.iter().take(6).copied().collect(),
            });
        }
    }
    if let Some(id) = p.ip.ip_id {
        a.ip_id = ip_id_break(id, p.frame, p.ts, r, who);
        // Derived from the peer's identification: equal or just above the peer's packet before it.
        let peer_id = ctx
            .log
            .iter()
            .rfind(|x| x.dir != p.dir && x.frame < p.frame)
            .and_then(|x| x.ip_id.map(|i| (x.frame, i)));
        if let Some((pf, pid)) = peer_id {
            let delta = id.wrapping_sub(pid);
            let follows_own = r
                .ids
                .iter()
                .any(|(_, _, own)| id.wrapping_sub(*own) <= IP_ID_MAX_STEP);
            if delta <= 2 && !follows_own {
                a.ip_id_copied = Some(Evidence::Mismatch {
                    field: "ip_id".into(),
                    observed: serde_json::json!(id),
                    expected: format!(
                        "the {who}'s own IP ID sequence; instead it is the {}'s IP ID {pid}{} from frame {pf}, as injectors that derive it from the packet they answer do",
                        Context::who(p.dir.reverse()),
                        if delta == 0 { String::new() } else { format!(" + {delta}") }
                    ),
                    frames: vec![p.frame],
                    baseline_frames: vec![pf],
                });
                a.ip_id = None;
            }
        }
        if let Some(df) = r.df {
            if p.ip.df != df {
                a.df = Some(Evidence::Mismatch {
                    field: "ip_df".into(),
                    observed: serde_json::json!(p.ip.df),
                    expected: format!("{df} (every other packet from the {who})"),
                    frames: vec![p.frame],
                    baseline_frames: r.frames.iter().take(6).copied().collect(),
                });
            }
        }
    }
    if let Some(t) = p.tcp {
        if !t.flags.ack() && t.ack != 0 {
            a.odd.push(Evidence::Mismatch {
                field: "tcp_ack".into(),
                observed: serde_json::json!(t.ack),
                expected: "0 when the ACK flag is clear".into(),
                frames: vec![p.frame],
                baseline_frames: vec![],
            });
        }
        if t.flags.intersects(crate::proto::event::TcpFlags::RESERVED) {
            a.odd.push(Evidence::Mismatch {
                field: "tcp_reserved_bits".into(),
                observed: serde_json::json!(format!(
                    "0x{:03x}",
                    t.flags.0 & crate::proto::event::TcpFlags::RESERVED.0
                )),
                expected: "0 (reserved bits are never set by ordinary stacks)".into(),
                frames: vec![p.frame],
                baseline_frames: vec![],
            });
        }
        // A RST carries window 0 (no socket left) or the sender's current window; a window
        // far outside anything the sender advertised is the injector's own value.
        if let Some((lo, hi)) = r.window {
            let w = u32::from(t.window);
            let odd = t.flags.rst()
                && w != 0
                && (w * WINDOW_FACTOR < u32::from(lo) || w > u32::from(hi) * WINDOW_FACTOR);
            if odd {
                a.odd.push(Evidence::Mismatch {
                    field: "tcp_window".into(),
                    observed: serde_json::json!(t.window),
                    expected: format!(
                        "0 or near {} (the {who}'s advertised windows, raw field; a real RST carries 0 or the current window)",
                        range16(lo, hi)
                    ),
                    frames: vec![p.frame],
                    baseline_frames: r.frames.iter().take(6).copied().collect(),
                });
            }
        }
        // A payload on a RST is reported (as a payload item) but not counted: RFC 9293 allows
        // it and Zeek found it too common to be interesting; only a device's specific payload
        // (the Henan firewall's) is a signal, through the fingerprints.
    }
    a
}

fn ip_id_break(
    id: u16,
    frame: FrameNumber,
    ts: Timestamp,
    r: &SenderRef,
    who: &str,
) -> Option<Evidence> {
    if r.ids.len() < 2 {
        return None;
    }
    if id == 0 && r.control_id_zero {
        // The stack sends control packets with IP ID 0 (Linux does for SYN-ACKs and RSTs).
        return None;
    }
    let values: Vec<u16> = r.ids.iter().map(|(_, _, i)| *i).collect();
    let pattern = classify_ip_ids(&values);
    let mismatch = |expected: String| {
        Some(Evidence::Mismatch {
            field: "ip_id".into(),
            observed: serde_json::json!(id),
            expected,
            frames: vec![frame],
            baseline_frames: r.ids.iter().map(|(f, _, _)| *f).take(6).collect(),
        })
    };
    match pattern {
        IpIdPattern::Zero if id != 0 => mismatch(format!("0 (the {who} always sends IP ID 0)")),
        IpIdPattern::Constant { value } if id != value => {
            mismatch(format!("{value} (the {who} always sends this IP ID)"))
        }
        IpIdPattern::Incrementing { byte_swapped, .. } => {
            let norm = |v: u16| if byte_swapped { v.swap_bytes() } else { v };
            // A host's counter also moves with its other traffic: compare only with packets
            // sent close in time to the suspect one.
            let near = |t: Timestamp| t.since(ts).as_nanos().abs() <= IP_ID_WINDOW.as_nanos();
            let prev = r
                .ids
                .iter()
                .rfind(|(f, t, _)| *f < frame && near(*t))
                .map(|(_, _, i)| norm(*i));
            let next = r
                .ids
                .iter()
                .find(|(f, t, _)| *f > frame && near(*t))
                .map(|(_, _, i)| norm(*i));
            if prev.is_none() && next.is_none() {
                return None;
            }
            let x = norm(id);
            let fits_prev = prev.is_none_or(|p| x.wrapping_sub(p) <= IP_ID_MAX_STEP);
            let fits_next = next.is_none_or(|n| n.wrapping_sub(x) <= IP_ID_MAX_STEP);
            if fits_prev && fits_next {
                None
            } else {
                let around = match (prev, next) {
                    (Some(p), Some(n)) => format!("between {} and {}", norm(p), norm(n)),
                    (Some(p), None) => format!("a little above {}", norm(p)),
                    (None, Some(n)) => format!("a little below {}", norm(n)),
                    (None, None) => String::from("in the sender's sequence"),
                };
                mismatch(format!(
                    "{around} (the {who}'s IP ID counter{})",
                    if byte_swapped { ", byte-swapped" } else { "" }
                ))
            }
        }
        _ => None,
    }
}

enum Judgement {
    Finding(Box<Finding>),
    BlockedWithout(Box<Blocked>),
    Nothing,
}

impl RstInjection {
    fn judge_rsts(&self, ctx: &Context<'_>, state: &FlowState, claimed: Direction) -> Judgement {
        let all: Vec<(usize, &Suspect)> = state
            .suspects
            .iter()
            .enumerate()
            .filter(|(_, s)| s.pkt.dir == claimed && s.pkt.tcp.is_some_and(|t| t.flags.rst()))
            .collect();
        if all.is_empty() {
            return Judgement::Nothing;
        }
        let who = Context::who(claimed);
        let frames: Vec<FrameNumber> = all.iter().map(|(_, s)| s.pkt.frame).collect();
        let r = sender_ref(ctx, claimed, &frames);
        let has_ref = r.ttl.is_some();

        // Consider RSTs up to the first one that looks like the sender's own (later ones answer
        // a connection that is already gone), and group them into the first burst.
        // A race packet must itself look like the sender's (an injector's own follow-up
        // packets prove nothing).
        let valid_race: Vec<&RacePacket> = state
            .race
            .iter()
            .filter(|x| {
                r.ttl.is_none_or(|(lo, hi)| {
                    x.pkt.ip.ttl.saturating_add(TTL_TOLERANCE) >= lo
                        && x.pkt.ip.ttl <= hi.saturating_add(TTL_TOLERANCE)
                })
            })
            .collect();
        let assessed: Vec<(usize, &Suspect, Anomalies)> = all
            .iter()
            .map(|(i, s)| (*i, *s, anomalies(ctx, s, &r)))
            .collect();
        // RST_SEQ_CHANGE looks at consecutive RSTs whatever their headers (an injector may
        // copy the sender's TTL).
        let seq_change = seq_change(&assessed);
        let mut considered: Vec<(usize, &Suspect, Anomalies)> = Vec::new();
        for (i, s, a) in assessed {
            // After a suspect RST, a RST whose only oddity is its IP ID is the sender
            // answering for a connection it no longer has: stacks draw the IP ID of such
            // packets from another counter (Linux: a per-destination counter, as no socket
            // is left).
            let own = has_ref
                && (a.count() == 0
                    || (!considered.is_empty()
                        && a.count() == 1
                        && a.ip_id.is_some()
                        && a.ip_id_copied.is_none()));
            let in_seq_change = seq_change
                .as_ref()
                .is_some_and(|(_, frames)| frames.iter().any(|f| *f >= s.pkt.frame));
            if own && !in_seq_change && !valid_race.iter().any(|x| x.suspect == i) {
                break;
            }
            considered.push((i, s, a));
        }
        if considered.is_empty() {
            return Judgement::Nothing;
        }
        let first = considered[0].1;
        let trigger = state
            .triggers
            .iter()
            .rfind(|t| t.ts <= first.pkt.ts)
            .or_else(|| state.triggers.first());

        // Strong signals.
        let race: Vec<&RacePacket> = valid_race
            .iter()
            .copied()
            .filter(|x| considered.iter().any(|(i, _, _)| *i == x.suspect))
            .collect();
        // One packet can answer several RSTs of a burst: cite it once.
        let mut race = race;
        race.dedup_by_key(|x| x.pkt.frame);
        let seq_change = seq_change.map(|(e, _)| e);
        let burst: Vec<&Suspect> = considered
            .iter()
            .map(|(_, s, _)| *s)
            .take_while(|s| s.pkt.ts.since(first.pkt.ts) <= BURST_GAP)
            .collect();
        let facts: Vec<PacketFacts> = burst.iter().map(|s| facts_of(s)).collect();
        let anomaly_total: usize = considered
            .iter()
            .map(|(_, _, a)| a.count())
            .max()
            .unwrap_or(0);
        // Fingerprints that count: distinctive ones, or any on packets that also look foreign.
        let devices: Vec<(&DeviceFingerprint, Vec<FrameNumber>)> = self
            .devices
            .matching(&facts)
            .into_iter()
            .filter(|(d, _)| d.distinctive || anomaly_total > 0 || !race.is_empty())
            .map(|(d, idx)| (d, idx.iter().map(|&i| burst[i].pkt.frame).collect()))
            .collect();
        let copied = considered
            .iter()
            .any(|(_, _, a)| a.ip_id_copied.is_some() && (a.ttl.is_some() || a.df.is_some()));
        let strong = !race.is_empty() || seq_change.is_some() || !devices.is_empty() || copied;

        // Timing, in a client-side capture.
        let fast = match (trigger, ctx.rtt, ctx.vantage) {
            (Some(t), Some(rtt), Some(Vantage::Client)) if claimed == Direction::ServerToClient => {
                let d = first.pkt.ts.since(t.ts);
                (!d.is_negative() && (d.as_nanos() as f64) < FAST_FRACTION * rtt.as_nanos() as f64)
                    .then_some((t, d, rtt))
            }
            _ => None,
        };

        // The first of the most anomalous suspects speaks for them.
        let best = considered
            .iter()
            .rev()
            .max_by_key(|(_, _, a)| a.count())
            .map(|(_, _, a)| a);
        let n = best.map_or(0, |a| a.count());
        // Without a strong signal, benign look-alikes stay silent: a RST after a FIN (a normal or
        // abortive close), a RST with nothing of the sender's to compare with (connection
        // refused), a RST that matches the sender. A reset like that is only remembered, in
        // case it falls in the residual period of an injection between the same hosts.
        // A RST answering the other side's RST is usually the sender's own reaction to it;
        // only two independent header anomalies keep it a suspect.
        let suppressed = first.fin_before || (first.peer_rst_before && n < 2) || !has_ref;
        if !strong && (suppressed || (n == 0 && fast.is_none())) {
            let sender_sent_data = ctx
                .log
                .iter()
                .any(|x| x.dir == claimed && x.frame < first.pkt.frame && x.payload_len > 0);
            if !first.fin_before
                && !first.peer_rst_before
                && (n > 0 || !has_ref || !sender_sent_data)
            {
                return Judgement::BlockedWithout(Box::new(Blocked {
                    what: "reset by the remote side",
                    evidence: considered
                        .iter()
                        .map(|(_, s, _)| {
                            packet_evidence(&s.pkt, "reset claiming to come from the remote side")
                        })
                        .chain(best.map(Anomalies::items).unwrap_or_default())
                        .collect(),
                }));
            }
            return Judgement::Nothing;
        }
        let mut confidence = if strong {
            Confidence::High
        } else if n >= 2 || (n >= 1 && fast.is_some()) {
            Confidence::Medium
        } else {
            Confidence::Low
        };
        if ctx.mid_stream {
            // Without the handshake there is no round trip and fewer reference packets: one
            // step less sure, and a single weak signal is not worth reporting.
            confidence = match confidence {
                Confidence::High => Confidence::Medium,
                Confidence::Medium => Confidence::Low,
                Confidence::Low => return Judgement::Nothing,
            };
        }

        // Evidence.
        let mut reasons: Vec<String> = Vec::new();
        let mut b = FindingBuilder::new(
            NAME,
            TCP_RST_INJECTED,
            confidence,
            ctx.view.flow_ref(),
            String::new(),
        )
        .at(first.pkt.ts);
        for (_, s, _) in &considered {
            b = b.evidence(packet_evidence(
                &s.pkt,
                &format!("forged RST (claims to be the {who})"),
            ));
            if let Some(bytes) = &s.payload {
                b = b.evidence(Evidence::Payload {
                    frame: s.pkt.frame,
                    what: "RST payload".into(),
                    bytes: Payload(bytes.clone()),
                    truncated: s.pkt.payload_len as usize > bytes.len(),
                });
            }
        }
        if let Some(first_ref) = ctx.log.iter().find(|x| r.frames.contains(&x.frame)) {
            b = b.evidence(record_evidence(
                first_ref,
                &format!("{who}'s first packet (reference)"),
            ));
        }
        if let Some(a) = best {
            for e in a.items() {
                b = b.evidence(e);
            }
            if a.ttl.is_some() {
                reasons.push(format!(
                    "TTL {} where the {who}'s packets have {}",
                    first_ttl(&considered),
                    r.ttl.map_or(String::new(), |(lo, hi)| range(lo, hi))
                ));
            }
            if a.ip_id_copied.is_some() {
                reasons.push("an IP ID derived from the other side's".into());
            } else if a.ip_id.is_some() {
                reasons.push("an IP ID that breaks the sender's sequence".into());
            }
            if a.df.is_some() {
                reasons.push("the DF bit flipped".into());
            }
            for e in &a.odd {
                if let Evidence::Mismatch {
                    field, observed, ..
                } = e
                {
                    reasons.push(match field.as_str() {
                        "tcp_window" => format!("window {observed}, unlike the {who}'s"),
                        "tcp_ack" => "an acknowledgment number without the ACK flag".into(),
                        _ => format!("odd {field} {observed}"),
                    });
                }
            }
        }
        if let Some(t) = trigger {
            b = b.trigger(t.kind, t.value.clone(), t.frames.last().copied());
            b = b.frames(t.frames.iter().copied());
        }
        if let Some((t, d, rtt)) = fast {
            b = b.evidence(Evidence::Timing {
                what: "rst_after_trigger".into(),
                delta_ms: d.as_millis_f64(),
                from_frame: t.frames.last().copied().unwrap_or(first.pkt.frame),
                to_frame: first.pkt.frame,
                reference: Some(
                    "handshake round-trip time: the server's reply cannot come sooner".into(),
                ),
                reference_ms: Some(rtt.as_millis_f64()),
            });
            reasons.push(format!(
                "{d} after the {} when the round trip takes {rtt}",
                trigger_word(t.kind)
            ));
        } else if let (Some(t), Some(rtt)) = (trigger, ctx.rtt) {
            let d = first.pkt.ts.since(t.ts);
            b = b.evidence(Evidence::Timing {
                what: "rst_after_trigger".into(),
                delta_ms: d.as_millis_f64(),
                from_frame: t.frames.last().copied().unwrap_or(first.pkt.frame),
                to_frame: first.pkt.frame,
                reference: Some("handshake round-trip time".into()),
                reference_ms: Some(rtt.as_millis_f64()),
            });
        }
        if !race.is_empty() {
            for x in &race {
                let role = match x.kind {
                    RaceKind::Data => {
                        format!("the real {who} still sending new data after the RST")
                    }
                    RaceKind::Ack => {
                        format!("the real {who} still acknowledging new data after the RST")
                    }
                    RaceKind::Handshake => {
                        format!("the real {who} answering the handshake after the RST")
                    }
                };
                b = b.evidence(packet_evidence(&x.pkt, &role));
            }
            b = b.evidence(Evidence::Note {
                text: format!(
                    "race: after the RST the {who} kept sending, with sequence or acknowledgment numbers past anything it had sent before; a host that really reset the connection sends nothing more"
                ),
                frames: race.iter().map(|x| x.pkt.frame).collect(),
            });
            reasons.push(format!("the real {who} kept talking afterwards"));
        }
        if let Some(note) = &seq_change {
            b = b.evidence(note.clone());
            reasons.push(
                "back-to-back RSTs jump past every sequence number in use (RST_SEQ_CHANGE)".into(),
            );
        }
        if burst.len() > 1 {
            let base = burst[0].pkt.tcp.map_or(0, |t| t.seq);
            let offsets: Vec<String> = burst
                .iter()
                .map(|s| {
                    s.pkt
                        .tcp
                        .map_or(0, |t| t.seq)
                        .wrapping_sub(base)
                        .to_string()
                })
                .collect();
            b = b.evidence(Evidence::Note {
                text: format!(
                    "a burst of {} RSTs within {}; sequence numbers relative to the first: {}",
                    burst.len(),
                    burst
                        .last()
                        .map_or(Span::ZERO, |l| l.pkt.ts.since(first.pkt.ts)),
                    offsets.join(", ")
                ),
                frames: burst.iter().map(|s| s.pkt.frame).collect(),
            });
        }
        for (d, frames) in &devices {
            b = b.evidence(Evidence::Fingerprint {
                name: d.name.clone(),
                source: d.source.clone(),
                scope: d.scope.clone(),
                location: "tcp.rst".into(),
                matched: d.device.clone(),
                frames: frames.clone(),
            });
        }
        if !devices.is_empty() {
            let names: Vec<&str> = devices.iter().map(|(d, _)| d.device.as_str()).collect();
            reasons.push(format!("matches {}", names.join(" and ")));
        }
        b = b.evidence(Evidence::Note {
            text: ctx.vantage_note.clone(),
            frames: vec![],
        });
        if ctx.mid_stream {
            b = b.evidence(Evidence::Note {
                text: "the flow was captured without its handshake: no round-trip time, fewer reference packets, so the confidence is lowered".into(),
                frames: vec![],
            });
        }
        if confidence == Confidence::Low {
            b = b.evidence(Evidence::Note {
                text: format!("a single weak signal: a {who} RST that does not look like the {who}'s other packets, but nothing proves it was forged (load balancers and middleboxes reset with their own headers too)"),
                frames: vec![],
            });
        }
        let trig = trigger.map_or(String::new(), |t| {
            format!(" after the {} for {}", trigger_word(t.kind), t.value)
        });
        let count = if considered.len() == 1 {
            "RST".to_string()
        } else {
            format!("{} RSTs", considered.len())
        };
        let summary = format!(
            "{} {count} claiming to come from the {who}{trig}: {}",
            match confidence {
                Confidence::High => "Injected",
                Confidence::Medium => "Probably injected",
                Confidence::Low => "Suspicious",
            },
            if reasons.is_empty() {
                "header fields foreign to the flow".to_string()
            } else {
                reasons.join("; ")
            }
        );
        let mut f = b.build();
        f.summary = summary;
        Judgement::Finding(Box::new(f))
    }
}

fn first_ttl(considered: &[(usize, &Suspect, Anomalies)]) -> u8 {
    considered.first().map_or(0, |(_, s, _)| s.pkt.ip.ttl)
}

fn trigger_word(kind: &str) -> &'static str {
    match kind {
        "sni" => "ClientHello",
        "http_host" | "http_url" => "HTTP request",
        _ => "trigger",
    }
}

/// RST_SEQ_CHANGE between consecutive RSTs (Weaver, Sommer, Paxson, NDSS 2009).
fn seq_change(considered: &[(usize, &Suspect, Anomalies)]) -> Option<(Evidence, Vec<FrameNumber>)> {
    let first = considered.first()?.1;
    if first.fin_before || first.peer_rst_before {
        return None;
    }
    for w in considered.windows(2) {
        let (r1, r2) = (w[0].1, w[1].1);
        let (Some(t1), Some(t2)) = (r1.pkt.tcp, r2.pkt.tcp) else {
            continue;
        };
        let s1 = SeqNumber(t1.seq);
        let s2 = SeqNumber(t2.seq);
        let jump = s2.diff(s1) > 2;
        let soon = r2.pkt.ts.since(r1.pkt.ts) < SEQ_CHANGE_WINDOW;
        let beyond_sent = r2.sender_next_seq.is_none_or(|m| s2.diff(m) > 0);
        let beyond_acked = r2.peer_max_ack.is_none_or(|a| s2.diff(a) > 2);
        if jump && soon && beyond_sent && beyond_acked {
            return Some((Evidence::Note {
                text: format!(
                    "RST_SEQ_CHANGE: RST in frame {} has seq {} and the next, {} later in frame {}, jumps to {} ({} further), past the highest sequence number the sender used ({}) and the highest acknowledgment from the other side ({}); no FIN and no RST from the other side came before",
                    r1.pkt.frame,
                    t1.seq,
                    r2.pkt.ts.since(r1.pkt.ts),
                    r2.pkt.frame,
                    t2.seq,
                    s2.diff(s1),
                    r2.sender_next_seq.map_or("none".into(), |m| m.0.to_string()),
                    r2.peer_max_ack.map_or("none".into(), |m| m.0.to_string()),
                ),
                frames: vec![r1.pkt.frame, r2.pkt.frame],
            }, vec![r1.pkt.frame, r2.pkt.frame]));
        }
    }
    None
}

fn facts_of(s: &Suspect) -> PacketFacts {
    let t = s.pkt.tcp;
    PacketFacts {
        flags: t.map(|t| t.flags).unwrap_or_default(),
        ttl: s.pkt.ip.ttl,
        ip_id: s.pkt.ip.ip_id,
        df: s.pkt.ip.df,
        window: t.map_or(0, |t| t.window),
        seq: t.map_or(0, |t| t.seq),
        ack: t.map_or(0, |t| t.ack),
        payload_len: s.pkt.payload_len,
        payload: s.payload.clone(),
    }
}

fn judge_fin(ctx: &Context<'_>, state: &FlowState, claimed: Direction) -> Option<Finding> {
    let (idx, s) = state.suspects.iter().enumerate().find(|(_, s)| {
        s.pkt.dir == claimed && s.pkt.tcp.is_some_and(|t| t.flags.fin() && !t.flags.rst())
    })?;
    let who = Context::who(claimed);
    let r = sender_ref(ctx, claimed, &[s.pkt.frame]);
    r.ttl?;
    let a = anomalies(ctx, s, &r);
    let race: Vec<&RacePacket> = state.race.iter().filter(|x| x.suspect == idx).collect();
    let trigger = state.triggers.iter().rfind(|t| t.ts <= s.pkt.ts);
    let fast = match (trigger, ctx.rtt, ctx.vantage) {
        (Some(t), Some(rtt), Some(Vantage::Client)) if claimed == Direction::ServerToClient => {
            let d = s.pkt.ts.since(t.ts);
            (!d.is_negative() && (d.as_nanos() as f64) < FAST_FRACTION * rtt.as_nanos() as f64)
                .then_some((t, d, rtt))
        }
        _ => None,
    };
    let confidence = if !race.is_empty() && (a.count() > 0 || fast.is_some()) {
        Confidence::High
    } else if fast.is_some() && a.count() >= 1 {
        Confidence::Medium
    } else {
        return None;
    };
    let confidence = if ctx.mid_stream {
        confidence.min(Confidence::Medium)
    } else {
        confidence
    };
    let mut b = FindingBuilder::new(
        NAME,
        TCP_FIN_INJECTED,
        confidence,
        ctx.view.flow_ref(),
        String::new(),
    )
    .at(s.pkt.ts)
    .evidence(packet_evidence(
        &s.pkt,
        &format!("forged FIN (claims to be the {who})"),
    ));
    for e in a.items() {
        b = b.evidence(e);
    }
    let mut reasons = Vec::new();
    if a.ttl.is_some() {
        reasons.push(format!(
            "TTL {} unlike the {who}'s other packets",
            s.pkt.ip.ttl
        ));
    }
    if let Some((t, d, rtt)) = fast {
        b = b.evidence(Evidence::Timing {
            what: "fin_after_trigger".into(),
            delta_ms: d.as_millis_f64(),
            from_frame: t.frames.last().copied().unwrap_or(s.pkt.frame),
            to_frame: s.pkt.frame,
            reference: Some(
                "handshake round-trip time: the server's reply cannot come sooner".into(),
            ),
            reference_ms: Some(rtt.as_millis_f64()),
        });
        reasons.push(format!(
            "{d} after the {} when the round trip takes {rtt}",
            trigger_word(t.kind)
        ));
    }
    if let Some(t) = trigger {
        b = b
            .trigger(t.kind, t.value.clone(), t.frames.last().copied())
            .frames(t.frames.iter().copied());
    }
    for x in &race {
        b = b.evidence(packet_evidence(
            &x.pkt,
            &format!("the real {who} still sending new data after the FIN"),
        ));
    }
    if !race.is_empty() {
        reasons.push(format!("the real {who} kept sending new data after it"));
    }
    b = b.evidence(Evidence::Note {
        text: ctx.vantage_note.clone(),
        frames: vec![],
    });
    let mut f = b.build();
    f.summary = format!(
        "{} FIN claiming to come from the {who}{}: {}",
        if confidence == Confidence::High {
            "Injected"
        } else {
            "Probably injected"
        },
        trigger.map_or(String::new(), |t| format!(
            " after the {} for {}",
            trigger_word(t.kind),
            t.value
        )),
        reasons.join("; ")
    );
    Some(f)
}

fn judge_conflicts(ctx: &Context<'_>, state: &FlowState) -> Vec<Finding> {
    let mut out = Vec::new();
    let Some(c) = state.conflicts.first() else {
        return out;
    };
    let who = Context::who(c.dir);
    // The headers of both copies, against the sender's other packets: an injector's copy
    // usually has foreign headers; two copies that both look like the sender's mean the
    // sender itself (or a rewriting middlebox) sent different bytes.
    let mut copies: Vec<FrameNumber> = vec![c.frame];
    copies.extend(c.first);
    let r = sender_ref(ctx, c.dir, &copies);
    struct Copy {
        frame: FrameNumber,
        evidence: Evidence,
        ttl: u8,
        ip_id: Option<u16>,
        odd: Vec<Evidence>,
    }
    let mut seen: Vec<Copy> = Vec::new();
    for (i, f) in copies.iter().enumerate() {
        let role = if i == 0 {
            "later copy, different bytes"
        } else {
            "earlier copy"
        };
        let head = match (i, c.packet) {
            (0, Some(p)) => Some((
                packet_evidence(&p, role),
                p.ip.ttl,
                p.ip.ip_id,
                p.ip.df,
                p.ts,
            )),
            _ => ctx
                .log
                .iter()
                .find(|x| x.frame == *f)
                .map(|x| (record_evidence(x, role), x.ttl, x.ip_id, x.df, x.ts)),
        };
        if let Some((evidence, ttl, ip_id, df, ts)) = head {
            let odd = header_oddities(*f, ts, ttl, ip_id, df, &r, who);
            seen.push(Copy {
                frame: *f,
                evidence,
                ttl,
                ip_id,
                odd,
            });
        }
    }
    let odd: Vec<&Copy> = seen.iter().filter(|x| !x.odd.is_empty()).collect();
    let known = seen.len() == copies.len() && r.ttl.is_some();
    let (mut confidence, verdict) = match (odd.len(), known) {
        (1, true) => (
            Confidence::High,
            format!("frame {}'s headers are foreign to the {who}'s other packets, so it is the injected copy", odd[0].frame),
        ),
        (_, true) if odd.is_empty() => (
            Confidence::Low,
            format!("both copies carry the {who}'s own TTL and IP ID sequence, so the {who} itself (or a middlebox rewriting its packets) may have sent the different bytes; nothing shows a second sender"),
        ),
        (_, true) => (
            Confidence::Medium,
            format!("both copies have headers unlike the {who}'s other packets"),
        ),
        _ => (
            Confidence::Medium,
            "the headers of both copies are not both known, so the injected one cannot be named".to_string(),
        ),
    };
    if ctx.mid_stream {
        confidence = match confidence {
            Confidence::High => Confidence::Medium,
            _ => Confidence::Low,
        };
    }
    let mut b = FindingBuilder::new(
        NAME,
        TCP_DATA_INJECTED,
        confidence,
        ctx.view.flow_ref(),
        String::new(),
    )
    .frames(copies.iter().copied());
    let mut details = Vec::new();
    for x in &seen {
        details.push(format!(
            "frame {}: TTL {}{}",
            x.frame,
            x.ttl,
            x.ip_id.map_or(String::new(), |i| format!(", IP ID {i}"))
        ));
        b = b.evidence(x.evidence.clone());
        for e in &x.odd {
            b = b.evidence(e.clone());
        }
    }
    b = b.evidence(Evidence::Note {
        text: format!(
            "two copies of the {who}'s stream bytes at offset {} differ in {} byte(s): frame {} carried them first, frame {} repeats the range with other bytes ({}); {verdict}",
            c.offset,
            c.differing,
            c.first.map_or("?".to_string(), |f| f.to_string()),
            c.frame,
            if details.is_empty() { "headers not kept".to_string() } else { details.join("; ") }
        ),
        frames: copies.clone(),
    });
    if let Some(t) = state.triggers.first() {
        b = b
            .trigger(t.kind, t.value.clone(), t.frames.last().copied())
            .frames(t.frames.iter().copied());
    }
    b = b.evidence(Evidence::Note {
        text: ctx.vantage_note.clone(),
        frames: vec![],
    });
    let mut sorted = copies.clone();
    sorted.sort();
    let mut f = b.build();
    f.summary = format!(
        "{}: the {who}'s bytes at stream offset {} arrived twice with different contents (frames {}){}",
        match confidence {
            Confidence::High => "Injected data",
            Confidence::Medium => "Probably injected data",
            Confidence::Low => "Conflicting data",
        },
        c.offset,
        join(&sorted),
        match confidence {
            Confidence::High => format!(", the injected copy in frame {} with headers foreign to the {who}", odd.first().map_or(c.frame, |x| x.frame)),
            Confidence::Medium => format!(", the signature of an injector racing the real {who}"),
            Confidence::Low => format!("; both copies look like the {who}'s own packets"),
        }
    );
    out.push(f);
    out
}

/// TTL, IP ID and DF of one packet against its sender's own packets.
fn header_oddities(
    frame: FrameNumber,
    ts: Timestamp,
    ttl: u8,
    ip_id: Option<u16>,
    df: bool,
    r: &SenderRef,
    who: &str,
) -> Vec<Evidence> {
    let mut v = Vec::new();
    if let Some((lo, hi)) = r.ttl {
        if ttl.saturating_add(TTL_TOLERANCE) < lo || ttl > hi.saturating_add(TTL_TOLERANCE) {
            v.push(Evidence::Mismatch {
                field: "ip_ttl".into(),
                observed: serde_json::json!(ttl),
                expected: format!("{} ({who}'s other packets in this flow)", range(lo, hi)),
                frames: vec![frame],
                baseline_frames: r.frames.iter().take(6).copied().collect(),
            });
        }
    }
    if let Some(id) = ip_id {
        v.extend(ip_id_break(id, frame, ts, r, who));
        if let Some(d) = r.df {
            if d != df {
                v.push(Evidence::Mismatch {
                    field: "ip_df".into(),
                    observed: serde_json::json!(df),
                    expected: format!("{d} (every other packet from the {who})"),
                    frames: vec![frame],
                    baseline_frames: r.frames.iter().take(6).copied().collect(),
                });
            }
        }
    }
    v
}

fn judge_synack(ctx: &Context<'_>, state: &FlowState) -> Option<Finding> {
    let hs = &ctx.tcp.handshake;
    if let (Some((first, _)), Some(second)) = (hs.syn_ack, hs.conflicting_syn_ack) {
        let server_ttls: Vec<u8> = ctx
            .log
            .iter()
            .filter(|r| r.dir == Direction::ServerToClient && !r.flags.syn() && !r.flags.rst())
            .map(|r| r.ttl)
            .collect();
        let rec = |f: FrameNumber| ctx.log.iter().find(|r| r.frame == f).copied();
        let (r1, r2) = (rec(first), rec(second));
        let far = |r: &PacketRecord| {
            server_ttls
                .iter()
                .map(|t| t.abs_diff(r.ttl))
                .min()
                .is_some_and(|d| d > TTL_TOLERANCE)
        };
        let forged = match (&r1, &r2) {
            (Some(a), Some(b)) if far(a) && !far(b) => Some(*a),
            (Some(a), Some(b)) if far(b) && !far(a) => Some(*b),
            _ => None,
        };
        let confidence = if forged.is_some() {
            Confidence::High
        } else {
            Confidence::Medium
        };
        let mut b = FindingBuilder::new(
            NAME,
            TCP_SYNACK_FORGED,
            confidence,
            ctx.view.flow_ref(),
            String::new(),
        );
        if let Some(r) = forged.or(r2) {
            b = b.at(r.ts);
        }
        for r in [&r1, &r2].into_iter().flatten() {
            let role = if forged.is_some_and(|f| f.frame == r.frame) {
                "forged SYN-ACK"
            } else {
                "SYN-ACK"
            };
            b = b.evidence(record_evidence(r, role));
        }
        b = b.frames([first, second]).evidence(Evidence::Note {
            text: format!(
                "two SYN-ACKs answer the same SYN with different initial sequence numbers (frames {first} and {second}); a server sends one, so one of them was forged{}",
                match forged {
                    Some(f) => format!(": frame {}'s TTL {} differs from the server's other packets", f.frame, f.ttl),
                    None => String::new(),
                }
            ),
            frames: vec![first, second],
        });
        let mut f = b.build();
        f.summary = format!(
            "Forged SYN-ACK: two SYN-ACKs with different initial sequence numbers answered the client's SYN (frames {first} and {second})"
        );
        return Some(f);
    }
    if let Some(frame) = hs.reverse_syn_ack {
        // A SYN-ACK from the client's address: the client sent the SYN, so only a simultaneous
        // open (a SYN from the server too) would explain it.
        let server_syn = ctx
            .log
            .iter()
            .any(|r| r.dir == Direction::ServerToClient && r.flags.syn() && !r.flags.ack());
        if !server_syn {
            let rec = ctx.log.iter().find(|r| r.frame == frame).copied();
            let client_ttls: Vec<u8> = ctx
                .log
                .iter()
                .filter(|r| {
                    r.dir == Direction::ClientToServer
                        && !r.flags.rst()
                        && !(r.flags.syn() && r.flags.ack())
                })
                .map(|r| r.ttl)
                .collect();
            let ttl_off = rec.is_some_and(|r| {
                client_ttls
                    .iter()
                    .map(|t| t.abs_diff(r.ttl))
                    .min()
                    .is_some_and(|d| d > TTL_TOLERANCE)
            });
            let confidence = if ttl_off {
                Confidence::High
            } else {
                Confidence::Medium
            };
            let mut b = FindingBuilder::new(
                NAME,
                TCP_SYNACK_FORGED,
                confidence,
                ctx.view.flow_ref(),
                String::new(),
            );
            if let Some(r) = &rec {
                b = b
                    .evidence(record_evidence(
                        r,
                        "forged SYN-ACK (claims to be the client)",
                    ))
                    .at(r.ts);
                if ttl_off {
                    let lo = client_ttls.iter().min().copied().unwrap_or(0);
                    let hi = client_ttls.iter().max().copied().unwrap_or(0);
                    b = b.evidence(Evidence::Mismatch {
                        field: "ip_ttl".into(),
                        observed: serde_json::json!(r.ttl),
                        expected: format!(
                            "{} (the client's other packets in this flow)",
                            range(lo, hi)
                        ),
                        frames: vec![r.frame],
                        baseline_frames: ctx
                            .log
                            .iter()
                            .filter(|x| x.dir == Direction::ClientToServer && !x.flags.rst())
                            .map(|x| x.frame)
                            .take(6)
                            .collect(),
                    });
                }
            }
            if let Some((syn, _)) = hs.syn {
                b = b.frames([syn]);
            }
            b = b.evidence(Evidence::Note {
                text: format!(
                    "frame {frame} is a SYN-ACK from the client's address and port, sent to the server; the client opened the connection with a SYN and the server sent no SYN, so no real client stack sends this packet: something on the path forged it, as the Great Firewall does to desynchronise the server during residual blocking"
                ),
                frames: vec![frame],
            });
            let mut f = b.build();
            f.summary = format!(
                "Forged SYN-ACK: frame {frame} claims to come from the client{}, but the client opened this connection itself",
                match (ttl_off, rec) {
                    (true, Some(r)) => format!(" with TTL {}", r.ttl),
                    _ => String::new(),
                }
            );
            return Some(f);
        }
    }
    if let Some((frame, ack, isn)) = state.foreign_synack_ack {
        let mut b = FindingBuilder::new(
            NAME,
            TCP_SYNACK_FORGED,
            Confidence::Medium,
            ctx.view.flow_ref(),
            String::new(),
        );
        if let Some(r) = ctx.log.iter().find(|r| r.frame == frame) {
            b = b
                .evidence(record_evidence(
                    r,
                    "client ACK for a SYN-ACK the server never sent",
                ))
                .at(r.ts);
        }
        if let Some((sa, _)) = hs.syn_ack {
            b = b.frames([sa]);
        }
        b = b.evidence(Evidence::Mismatch {
            field: "tcp_ack".into(),
            observed: serde_json::json!(ack),
            expected: format!(
                "{} (the server's initial sequence number {isn} + 1)",
                isn.wrapping_add(1)
            ),
            frames: vec![frame],
            baseline_frames: hs.syn_ack.map(|(f, _)| vec![f]).unwrap_or_default(),
        });
        b = b.evidence(Evidence::Note {
            text: "the client acknowledged an initial sequence number the server never sent: a forged SYN-ACK reached the client first".into(),
            frames: vec![frame],
        });
        let mut f = b.build();
        f.summary = format!(
            "Forged SYN-ACK: the client's ACK in frame {frame} acknowledges sequence {ack}, but the server's SYN-ACK started at {isn}"
        );
        return Some(f);
    }
    None
}

pub(super) fn packet_evidence(p: &PacketInfo, role: &str) -> Evidence {
    let t = p.tcp;
    Evidence::Packet {
        frame: p.frame,
        role: role.to_string(),
        direction: p.dir,
        ts: p.ts,
        ttl: p.ip.ttl,
        ip_id: p.ip.ip_id,
        df: p.ip.ip_id.map(|_| p.ip.df),
        tcp_flags: t.map(|t| t.flags.to_string()),
        seq: t.map(|t| t.seq),
        ack: t.map(|t| t.ack),
        window: t.map(|t| t.window),
        payload_len: p.payload_len,
    }
}

pub(super) fn record_evidence(r: &PacketRecord, role: &str) -> Evidence {
    Evidence::Packet {
        frame: r.frame,
        role: role.to_string(),
        direction: r.dir,
        ts: r.ts,
        ttl: r.ttl,
        ip_id: r.ip_id,
        df: r.ip_id.map(|_| r.df),
        tcp_flags: Some(r.flags.to_string()),
        seq: Some(r.seq),
        ack: Some(r.ack),
        window: Some(r.window),
        payload_len: r.payload_len,
    }
}

fn range16(lo: u16, hi: u16) -> String {
    if lo == hi {
        lo.to_string()
    } else {
        format!("{lo}-{hi}")
    }
}

fn range(lo: u8, hi: u8) -> String {
    if lo == hi {
        lo.to_string()
    } else {
        format!("{lo}-{hi}")
    }
}

fn join(frames: &[FrameNumber]) -> String {
    frames
        .iter()
        .map(|f| f.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(n: u64) -> FrameNumber {
        FrameNumber::new(n).expect("frame numbers start at 1")
    }

    fn ms(n: i64) -> Timestamp {
        Timestamp::from_nanos(n * 1_000_000)
    }

    /// A sender with packets at frames 1.., 100 ms apart, TTL 52, DF set, these IP IDs.
    fn sender(ids: &[u16], control_id_zero: bool) -> SenderRef {
        SenderRef {
            frames: (1..=ids.len() as u64).map(frame).collect(),
            ttl: Some((52, 52)),
            ids: ids
                .iter()
                .enumerate()
                .map(|(i, id)| (frame(i as u64 + 1), ms(i as i64 * 100), *id))
                .collect(),
            df: Some(true),
            control_id_zero,
            window: Some((500, 509)),
        }
    }

    #[test]
    fn ip_id_breaking_an_incrementing_counter_is_an_anomaly() {
        let r = sender(&[1000, 1001, 1002, 1003], false);
        // Between frames 2 and 3, far from the counter.
        assert!(ip_id_break(42828, frame(2), ms(150), &r, "server").is_some());
        // Close to the counter: the sender's own.
        assert!(ip_id_break(1002, frame(2), ms(150), &r, "server").is_none());
        // Byte-swapped counters are recognised.
        let swapped = sender(&[0x0100, 0x0200, 0x0300, 0x0400], false);
        assert!(ip_id_break(0x0300, frame(3), ms(250), &swapped, "server").is_none());
        assert!(ip_id_break(0x1234, frame(3), ms(250), &swapped, "server").is_some());
    }

    #[test]
    fn ip_id_is_compared_only_with_packets_sent_close_in_time() {
        let r = sender(&[1000, 1001, 1002, 1003], false);
        // Ten seconds after the last packet the host's counter may have moved on.
        assert!(ip_id_break(30000, frame(9), ms(10_000), &r, "server").is_none());
    }

    #[test]
    fn ip_id_zero_from_a_stack_that_sends_zero_on_control_packets_is_not_an_anomaly() {
        let r = sender(&[1000, 1001, 1002, 1003], true);
        assert!(ip_id_break(0, frame(3), ms(250), &r, "server").is_none());
        let r = sender(&[1000, 1001, 1002, 1003], false);
        assert!(ip_id_break(0, frame(3), ms(250), &r, "server").is_some());
    }

    #[test]
    fn header_oddities_tolerate_two_hops_and_report_ttl_and_df() {
        let r = sender(&[1000, 1001, 1002, 1003], false);
        assert!(header_oddities(frame(9), ms(350), 50, Some(1004), true, &r, "server").is_empty());
        let odd = header_oddities(frame(9), ms(350), 96, Some(1004), false, &r, "server");
        let fields: Vec<&str> = odd
            .iter()
            .filter_map(|e| match e {
                Evidence::Mismatch { field, .. } => Some(field.as_str()),
                _ => None,
            })
            .collect();
        assert_eq!(fields, ["ip_ttl", "ip_df"]);
    }
}
