//! Finds throttling in TCP flows (policing, throttling aimed at a server name, freezes after a
//! few kilobytes, slow handshakes) and keeps per-direction time series for plots; it reads
//! packet, handshake, TLS and HTTP events only, never bytes, and must not report a slowdown
//! that a bottleneck, the application, the receiver or the whole line explains.
//!
//! # Kinds
//!
//! - `tcp_policing`: below.
//! - `transfer_freeze` (signatures.md §4.1(c), §4.3 `STALL_AFTER_N_BYTES`): judged per flow
//!   when it ends by [`freeze::judge`]; see that module for the rule and its bounds.
//! - `targeted_throttling` (§4.1(b), (e), (f), §4.3 `THROTTLE_TARGETED`) and `slow_handshake`
//!   (§4.1(d), §4.3 `HANDSHAKE_SLOW`): judged when the capture ends by [`compare`], on a
//!   summary of every finished flow ([`MAX_FLOW_SUMMARIES`]). Policed flows to several
//!   networks at one rate are a plan-wide cap ([`compare::uniform_caps`], §4.2): their
//!   `tcp_policing` findings (held until the end of the capture for this) get a
//!   `capture-wide:` note and none of them can be targeted.
//!
//! # Signal of `tcp_policing`
//!
//! `tcp_policing` (signatures.md §4.1(a)): each TCP flow is cut into segments as the PD tool
//! does (`tcp_segment.py`): a segment starts when the client sends new data after the server
//! has sent data, so an HTTP/1.1 connection with five request/response exchanges has five
//! segments, and a bulk transfer is one. Unlike PD, the client's data starts a segment only
//! once the client has acknowledged all the server's data: a control message sent in the
//! middle of a response (an HTTP/2 `WINDOW_UPDATE`) does not cut it. For each direction of
//! each segment, [`record`] builds the transmissions with their fate and RTT samples, and
//! [`policing::analyze`] runs
//! the published heuristic on them with PD's constants (at least 15 losses and 15 passes in
//! 3 RTT-long slices, first loss within 2 MB, bucket empty at losses and not overdrawn at
//! passes, no RTT inflation before more than 20 % of the losses). A direction policed in at
//! least one segment gets one finding for the flow.
//!
//! RTT samples: where the capture is at the data's sender (from the handshake's vantage
//! point: the server's data in a server-side capture), PD's acknowledgment samples; where it
//! is at the receiver (the server's data in a client-side capture), timestamp-echo samples
//! (RFC 7323); in between, or without a handshake, acknowledgment samples unless echo
//! samples are longer (the acknowledgment leg then misses the far side). With no sample at
//! all the handshake RTT stands in and the RTT-inflation veto cannot run: the finding is
//! then `medium` instead of `high`.
//!
//! The rate is the goodput between the first and last loss; a rate within 10 % of 130–150
//! kbit/s is noted as the level of the 2021 Russian throttling of Twitter (Xue et al., "Throttling
//! Twitter: an emerging censorship technique in Russia", IMC 2021).
//!
//! # Evidence
//!
//! Measurements of the estimated rate (kbit/s), burst (bytes before the first loss), losses
//! against passes and the loss rate, the median and 10th-percentile RTT with the fraction of
//! losses after an inflated RTT, the token-bucket checks (tokens at losses and passes, the
//! fractions out of range, the initial fill, the RTT slices with loss, the first loss's offset)
//! each with its threshold; the first and last loss frames; how many segments of the flow were
//! policed; the per-direction time series (new and acknowledged data, loss signals and mean
//! RTT per bin, [`series::FlowSeries::render`]; the series of reported directions are also
//! kept for plots, [`Throttling::series`]); the trigger (SNI or HTTP Host) when seen.
//!
//! # Known false positives
//!
//! PD's own validation (signatures.md §4.1(a)): a drop-tail bottleneck with a very small
//! queue (8 kB) looks like a policer (the RTT-inflation veto cannot see a queue that small); a
//! shaper with a small queue likewise. Random loss, AQM and ordinary congestion were rejected
//! in nearly all runs (a sender at a perfectly steady rate with random loss would pass: see
//! the unit tests of [`policing`]). An application-limited sender (video chunks, think time) is handled by cutting flows
//! into request/response segments. Receive-window-limited transfers do not lose packets and
//! are not reported. Captures taken at the receiver place each loss at the hole it leaves
//! (see [`record`]); capture drops that are acknowledged are not counted as losses.
//!
//! # Bounds
//!
//! Per flow: one [`record::SegmentRecord`] per direction for the current segment (at most
//! [`record::MAX_TXS`] transmissions, freed when the segment ends), one
//! [`series::FlowSeries`] per direction ([`series::MAX_BINS`] bins), at most
//! [`MAX_POLICED_KEPT`] policed segments per direction. Per capture: at most
//! [`MAX_TOTAL_TXS`] transmissions across all records (`limit_reached_throttling_records`
//! when reached), the series of at most [`MAX_SERIES_KEPT`] reported directions, at most
//! [`MAX_FLOW_SUMMARIES`] finished-flow summaries (`limit_reached_throttling_flows`) and the
//! series of at most [`MAX_CANDIDATE_SERIES`] candidate flows for the end-of-capture
//! findings (beyond that a finding quotes no series). The freeze state of a flow remembers at
//! most [`freeze::RECENT_DATA`] recent server segments.
//!
//! # Fixtures
//!
//! `fixtures/throttling/` (written separately from this detector); the real lab traces of the
//! PD repository are checked segment by segment against PD's output in `tests/corpus.rs`;
//! simulated transfers through a policer and a shaper, captured at either end, in
//! `tests/policing.rs`.

pub mod compare;
pub mod freeze;
pub mod policing;
pub mod record;
pub mod series;

use std::collections::BTreeMap;

use self::compare::{FlowSummary, Opening};
use self::freeze::FreezeTrack;
use self::policing::{Analysis, Outcome};
use self::record::{Budget, RecordState, SegmentRecord};
use self::series::FlowSeries;
use super::{Detector, FlowView};
use crate::diag::DiagnosticKind;
use crate::finding::{
    Confidence, Evidence, FindingBuilder, FindingClass, FindingKind, FindingSink, FlowRef,
};
use crate::ids::{Direction, FlowId, FrameNumber};
use crate::proto::event::{PacketInfo, ProtoEvent};
use crate::proto::tcp::seq::SeqNumber;
use crate::proto::tcp::{SeqClass, TcpConn, Vantage};
use crate::time::{Span, Timestamp};

/// Losses that follow a token bucket: a policer.
pub const TCP_POLICING: FindingKind = FindingKind::new("tcp_policing", FindingClass::Throttling);

/// A flow with a trigger held far below comparable flows to the same network.
pub const TARGETED_THROTTLING: FindingKind =
    FindingKind::new("targeted_throttling", FindingClass::Throttling);
/// Server data stopped at a plateau of a few kilobytes with the connection still open.
pub const TRANSFER_FREEZE: FindingKind =
    FindingKind::new("transfer_freeze", FindingClass::Throttling);
/// An opening exchange far slower than the same server's others, with losses.
pub const SLOW_HANDSHAKE: FindingKind =
    FindingKind::new("slow_handshake", FindingClass::Throttling);

/// Every kind this detector emits.
pub const KINDS: [FindingKind; 4] = [
    TCP_POLICING,
    TARGETED_THROTTLING,
    TRANSFER_FREEZE,
    SLOW_HANDSHAKE,
];

const NAME: &str = "throttling";

/// Transmissions held by all records of one capture together (72 bytes each, plus about 25
/// bytes of index).
pub const MAX_TOTAL_TXS: usize = 1 << 20;
/// Policed segments kept per flow direction (the rest are counted).
pub const MAX_POLICED_KEPT: usize = 8;
/// Series of reported directions kept for [`Throttling::series`].
pub const MAX_SERIES_KEPT: usize = 64;
/// Segment verdicts kept for [`Throttling::verdicts`].
pub const MAX_VERDICTS_KEPT: usize = 4096;
/// Finished flows summarised for the comparisons at the end of the capture (about 200
/// bytes each); later flows are not compared (`limit_reached_throttling_flows`).
pub const MAX_FLOW_SUMMARIES: usize = 65_536;
/// Series of flows that may become targeted-throttling or slow-handshake findings, kept
/// until the end of the capture.
pub const MAX_CANDIDATE_SERIES: usize = 256;
/// At most this many bins of the series are quoted in a finding.
const SERIES_BINS_QUOTED: usize = 32;
/// Fewer acknowledgment or echo samples than this: the handshake RTT stands in as well.
const MIN_RTT_SAMPLES: usize = 2;

/// Where the RTT samples of an analysis came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RttSource {
    /// Data to first covering acknowledgment (capture at the sender).
    Ack,
    /// Receiver timestamp to its first echo (capture at the receiver).
    Echo,
    /// The handshake RTT alone.
    Handshake,
}

impl RttSource {
    fn describe(self) -> &'static str {
        match self {
            RttSource::Ack => "data-to-acknowledgment samples (capture at the sender)",
            RttSource::Echo => "timestamp-echo samples (capture at the receiver)",
            RttSource::Handshake => "the handshake RTT alone (no per-packet samples)",
        }
    }
}

/// One analysed segment of one direction.
#[derive(Clone, Debug)]
pub struct SegmentResult {
    /// Index of the segment in the flow (0 for the first).
    pub segment: u32,
    /// The heuristic's numbers and outcome.
    pub analysis: Analysis,
    /// Where the RTT samples came from.
    pub rtt_source: RttSource,
    /// Time and frame of the first and last loss used.
    pub first_loss: Option<(Timestamp, FrameNumber)>,
    /// Time and frame of the last loss used.
    pub last_loss: Option<(Timestamp, FrameNumber)>,
    /// Offset of the first loss in the segment's data.
    pub first_loss_offset: u64,
    /// The record hit its cap; later data was not analysed.
    pub truncated: bool,
    /// The transmissions that repaired the first and the last loss (what Wireshark marks as
    /// retransmissions).
    pub repairs: (Option<FrameNumber>, Option<FrameNumber>),
}

/// The verdict on one direction of one segment, for tests and comparisons with PD's output.
#[derive(Clone, Debug, PartialEq)]
pub struct SegmentVerdict {
    /// The flow.
    pub flow: FlowRef,
    /// The direction.
    pub dir: Direction,
    /// Index of the segment in the flow.
    pub segment: u32,
    /// Transmissions analysed (placeholders for holes included).
    pub transmissions: usize,
    /// Losses among them.
    pub losses: usize,
    /// The outcome; `None` when the record was abandoned (no loss in the first 2 MB).
    pub outcome: Option<Outcome>,
    /// Estimated rate, bit/s (0 unless computed).
    pub rate_bps: f64,
    /// Burst before the first loss, bytes.
    pub burst_bytes: u64,
    /// Where the RTT samples came from.
    pub rtt_source: Option<RttSource>,
    /// The outcome with PD's second cutoff, when [`Throttling::with_second_cutoff`] asked for
    /// it (the published tool reports runs with cutoffs 0 and 2).
    pub second: Option<(Outcome, f64)>,
    /// Everything the heuristic computed (absent when the record was abandoned).
    pub analysis: Option<Analysis>,
}

#[derive(Default)]
struct DirState {
    record: Option<SegmentRecord>,
    /// End of the highest data sent so far (carried across segments).
    next_seq: Option<u32>,
    /// Highest acknowledgment of this direction's data.
    max_ack: Option<u32>,
    /// First packet from this sender in the current segment.
    first_packet: Option<Timestamp>,
    series: FlowSeries,
    segments_analysed: u32,
    outcomes: BTreeMap<Outcome, u32>,
    abandoned: u32,
    policed: Vec<SegmentResult>,
    policed_count: u32,
}

#[derive(Default)]
struct FlowState {
    dirs: [DirState; 2],
    segment: u32,
    segment_started: bool,
    server_data_in_segment: bool,
    trigger: Option<(&'static str, String, Vec<FrameNumber>)>,
    freeze: FreezeTrack,
    opening: OpeningTrack,
}

/// The opening exchange as it happens.
#[derive(Default)]
struct OpeningTrack {
    client: Option<(Timestamp, FrameNumber)>,
    server: Option<(Timestamp, FrameNumber)>,
    /// The client spoke again after the answer: the opening is over.
    done: bool,
    client_retransmissions: u32,
    server_losses: u32,
    server_segments: u32,
    server_bytes: u64,
}

/// A policing finding waiting for the capture-wide comparison.
struct PendingPolicing {
    summary: Option<usize>,
    builder: FindingBuilder,
}

/// The throttling detector.
pub struct Throttling {
    flows: BTreeMap<FlowId, FlowState>,
    budget: Budget,
    budget_reported: bool,
    summaries: Vec<FlowSummary>,
    summaries_reported: bool,
    candidate_series: BTreeMap<usize, FlowSeries>,
    pending: Vec<PendingPolicing>,
    series: BTreeMap<(FlowId, Direction), FlowSeries>,
    verdicts: Vec<SegmentVerdict>,
    second_cutoff: Option<usize>,
}

impl Default for Throttling {
    fn default() -> Self {
        Throttling::new()
    }
}

impl Throttling {
    /// A detector with the default bounds.
    pub fn new() -> Throttling {
        Throttling::with_budget(MAX_TOTAL_TXS)
    }

    /// A detector whose records may hold at most `max_txs` transmissions together.
    pub fn with_budget(max_txs: usize) -> Throttling {
        Throttling {
            flows: BTreeMap::new(),
            budget: Budget::new(max_txs),
            budget_reported: false,
            summaries: Vec::new(),
            summaries_reported: false,
            candidate_series: BTreeMap::new(),
            pending: Vec::new(),
            series: BTreeMap::new(),
            verdicts: Vec::new(),
            second_cutoff: None,
        }
    }

    /// Also runs the heuristic ignoring `cutoff` losses at each end and logs that outcome in
    /// the verdicts (for comparisons with the published tool's second run; findings still
    /// come from the first run).
    pub fn with_second_cutoff(mut self, cutoff: usize) -> Throttling {
        self.second_cutoff = Some(cutoff);
        self
    }

    /// The time series of the directions reported so far (at most [`MAX_SERIES_KEPT`]), for
    /// plots; the report layer does not read it yet.
    pub fn series(&self) -> &BTreeMap<(FlowId, Direction), FlowSeries> {
        &self.series
    }

    /// The verdict on every direction of every segment with data analysed so far (at most
    /// [`MAX_VERDICTS_KEPT`], in the order the segments ended).
    pub fn verdicts(&self) -> &[SegmentVerdict] {
        &self.verdicts
    }

    fn on_packet(
        &mut self,
        flow: &FlowView<'_>,
        tcp: &TcpConn,
        p: &PacketInfo,
        sink: &mut FindingSink,
    ) {
        let Some(seg) = p.tcp else { return };
        let id = flow.record.id;
        let budget = &mut self.budget;
        let state = self.flows.entry(id).or_default();
        if seg.flags.rst() || seg.flags.fin() {
            state.freeze.closed = true;
        }
        if seg.flags.rst() {
            return;
        }
        let d = p.dir;
        let r = d.reverse();
        // Acknowledgments first: they belong to the data of the other direction, and the
        // request that opens a new segment still acknowledges the previous response.
        if seg.flags.ack() && !seg.flags.syn() {
            let other = &mut state.dirs[r.index()];
            let moved = match other.max_ack {
                Some(m) => SeqNumber(seg.ack).diff(SeqNumber(m)),
                None => 0,
            };
            if other.max_ack.is_none() || moved > 0 {
                other.max_ack = Some(seg.ack);
            }
            if moved > 0 {
                other
                    .series
                    .add_acked(p.ts, p.frame, u64::try_from(moved).unwrap_or(0));
            }
            if let Some(rec) = other.record.as_mut() {
                rec.on_ack(p.ts, p.frame, seg.ack, seg.sack.as_slice());
            }
        }
        if let (Some((tsval, _)), Some(rec)) =
            (seg.timestamps, state.dirs[r.index()].record.as_mut())
        {
            rec.receiver_tsval(tsval, p.ts);
        }
        let carries_data = p.payload_len > 0
            && !seg.flags.syn()
            && !matches!(
                seg.class,
                SeqClass::KeepAlive | SeqClass::OutOfWindow | SeqClass::NoData
            );
        track_freeze(state, tcp, p, &seg, carries_data);
        track_opening(state, p, &seg, carries_data);
        // A new segment: the client sends new data after the server sent data, and (ours) the
        // client has acknowledged all of it: a new request, not a control message sent in the
        // middle of a response (an HTTP/2 WINDOW_UPDATE would otherwise cut a download into
        // pieces too small to judge).
        let server = &state.dirs[Direction::ServerToClient.index()];
        let response_acked = match (server.next_seq, server.max_ack) {
            (Some(n), Some(a)) => SeqNumber(a).diff(SeqNumber(n)) >= 0,
            _ => true,
        };
        if carries_data
            && d == Direction::ClientToServer
            && seg.advance > 0
            && state.server_data_in_segment
            && response_acked
        {
            finish_segment(
                flow.flow_ref(),
                state,
                tcp,
                budget,
                &mut self.verdicts,
                self.second_cutoff,
            );
            state.segment = state.segment.saturating_add(1);
            state.server_data_in_segment = false;
            for ds in &mut state.dirs {
                ds.first_packet = None;
            }
        }
        // PD's segments begin with their first data packet: the handshake and pure ACKs
        // before it do not count as the sender's first packet.
        if carries_data {
            state.segment_started = true;
        }
        let started = state.segment_started;
        let ds = &mut state.dirs[d.index()];
        if started {
            ds.first_packet.get_or_insert(p.ts);
        }
        ds.series.touch(p.ts);
        if !carries_data {
            return;
        }
        if d == Direction::ServerToClient && seg.advance > 0 {
            state.server_data_in_segment = true;
        }
        let new_bytes = seg.advance.clamp(0, i64::from(p.payload_len));
        ds.series
            .add_bytes(p.ts, p.frame, u64::try_from(new_bytes).unwrap_or(0));
        if ds.record.is_none() {
            let base = ds
                .next_seq
                .unwrap_or_else(|| tcp.half(d).isn.map_or(seg.seq, |isn| isn.wrapping_add(1).0));
            let mut rec = SegmentRecord::new(base);
            rec.first_packet = ds.first_packet;
            // Timestamps the receiver sent earlier in this segment are not known to this
            // record; echo samples start with the receiver's next segment.
            ds.record = Some(rec);
        }
        if let Some(rec) = ds.record.as_mut() {
            let effect = rec.on_data(
                p.ts,
                p.frame,
                seg.seq,
                p.payload_len,
                seg.class == SeqClass::OutOfOrder,
                tcp.half(r).mss,
                seg.timestamps.map(|(_, ecr)| ecr),
                budget,
            );
            for _ in 0..effect.losses.min(64) {
                if let Some(t) = effect.loss_ts {
                    ds.series.add_loss(t);
                }
            }
        }
        if seg.advance > 0 {
            let end = SeqNumber(seg.seq).wrapping_add(p.payload_len);
            if ds.next_seq.is_none_or(|n| end.diff(SeqNumber(n)) > 0) {
                ds.next_seq = Some(end.0);
            }
        }
        if budget.exhausted && !self.budget_reported {
            self.budget_reported = true;
            sink.diagnostic(
                DiagnosticKind::LimitReachedThrottlingRecords,
                Some(p.frame),
                format!(
                    "frame {}: the throttling detector holds {} transmissions across flows; later data of flows over the cap is not checked for policing",
                    p.frame, budget.max
                ),
            );
        }
    }
}

impl Detector for Throttling {
    fn name(&self) -> &'static str {
        NAME
    }

    fn on_event(&mut self, flow: &FlowView<'_>, event: &ProtoEvent, sink: &mut FindingSink) {
        let Some(tcp) = flow.tcp else { return };
        match event {
            ProtoEvent::Packet(p) => self.on_packet(flow, tcp, p, sink),
            ProtoEvent::TlsClientHello {
                dir: Direction::ClientToServer,
                frames,
                hello,
                ..
            } => {
                if let (Some(sni), Some(state)) = (&hello.sni, self.flows.get_mut(&flow.record.id))
                {
                    state
                        .trigger
                        .get_or_insert(("sni", sni.clone(), frames.clone()));
                }
            }
            ProtoEvent::HttpRequest {
                dir: Direction::ClientToServer,
                frames,
                head,
                ..
            } => {
                if let (Some(host), Some(state)) = (&head.host, self.flows.get_mut(&flow.record.id))
                {
                    state
                        .trigger
                        .get_or_insert(("http_host", host.clone(), frames.clone()));
                }
            }
            _ => {}
        }
    }

    fn on_flow_end(&mut self, flow: &FlowView<'_>, sink: &mut FindingSink) {
        let Some(mut state) = self.flows.remove(&flow.record.id) else {
            return;
        };
        let Some(tcp) = flow.tcp else {
            for ds in &mut state.dirs {
                if let Some(mut rec) = ds.record.take() {
                    rec.release(&mut self.budget);
                }
            }
            return;
        };
        finish_segment(
            flow.flow_ref(),
            &mut state,
            tcp,
            &mut self.budget,
            &mut self.verdicts,
            self.second_cutoff,
        );
        if let Some(f) = freeze_finding(flow, tcp, &state) {
            sink.push(f);
            self.keep_series(flow.record.id, Direction::ServerToClient, &state);
        }
        let summary = self.summarise(flow, tcp, &state, sink);
        for d in [Direction::ClientToServer, Direction::ServerToClient] {
            let Some(builder) = policing_finding(flow, &state, d) else {
                continue;
            };
            self.keep_series(flow.record.id, d, &state);
            // Server data waits for the capture-wide comparison (a plan-wide cap is noted);
            // the client's data has nothing to compare with.
            if d == Direction::ServerToClient && summary.is_some() {
                self.pending.push(PendingPolicing { summary, builder });
            } else {
                sink.push(builder.build());
            }
        }
    }

    fn finish(&mut self, sink: &mut FindingSink) {
        let caps = compare::uniform_caps(&self.summaries);
        for pending in std::mem::take(&mut self.pending) {
            let mut b = pending.builder;
            if let Some(cap) = pending
                .summary
                .and_then(|i| caps.iter().find(|c| c.members.contains(&i)))
            {
                b = b.evidence(Evidence::Note {
                    text: uniform_cap_text(cap),
                    frames: Vec::new(),
                });
            }
            sink.push(b.build());
        }
        for t in compare::targeted(&self.summaries, &caps) {
            let f = targeted_finding(&self.summaries, &t, self.candidate_series.get(&t.suspect));
            sink.push(f);
            if let Some(series) = self.candidate_series.get(&t.suspect) {
                if self.series.len() < MAX_SERIES_KEPT {
                    let id = self.summaries[t.suspect].flow.id;
                    self.series
                        .insert((id, Direction::ServerToClient), series.clone());
                }
            }
        }
        for slow in compare::slow_openings(&self.summaries) {
            sink.push(slow_handshake_finding(&self.summaries, &slow));
            if let Some(series) = self.candidate_series.get(&slow.flow) {
                if self.series.len() < MAX_SERIES_KEPT {
                    let id = self.summaries[slow.flow].flow.id;
                    self.series
                        .insert((id, Direction::ServerToClient), series.clone());
                }
            }
        }
    }
}

impl Throttling {
    fn keep_series(&mut self, id: FlowId, d: Direction, state: &FlowState) {
        if self.series.len() < MAX_SERIES_KEPT {
            self.series
                .insert((id, d), state.dirs[d.index()].series.clone());
        }
    }

    /// Summarises a finished flow for the comparisons; `None` when it carried no server
    /// data or the summaries are full.
    fn summarise(
        &mut self,
        flow: &FlowView<'_>,
        tcp: &TcpConn,
        state: &FlowState,
        sink: &mut FindingSink,
    ) -> Option<usize> {
        let server = &state.dirs[Direction::ServerToClient.index()];
        if server.series.total_bytes == 0 {
            return None;
        }
        if self.summaries.len() >= MAX_FLOW_SUMMARIES {
            if !self.summaries_reported {
                self.summaries_reported = true;
                sink.diagnostic(
                    DiagnosticKind::LimitReachedThrottlingFlows,
                    Some(flow.record.id.first_frame),
                    format!(
                        "flow {}: the throttling detector keeps {MAX_FLOW_SUMMARIES} finished flows for its capture-wide comparisons (targeted throttling, plan-wide caps, slow handshakes); later flows are not compared",
                        flow.record.id
                    ),
                );
            }
            return None;
        }
        let losses: u32 = server
            .series
            .bins
            .iter()
            .fold(0u32, |a, b| a.saturating_add(b.losses));
        let policed_bps = server.policed.first().map(|p| p.analysis.rate_bps);
        let o = &state.opening;
        let opening = match (o.client, o.server) {
            (Some(client), Some(server)) => Some(Opening {
                client,
                server,
                client_retransmissions: o.client_retransmissions,
                server_losses: o.server_losses,
                server_segments: o.server_segments,
                server_bytes: o.server_bytes,
            }),
            _ => None,
        };
        let trigger = state
            .trigger
            .as_ref()
            .map(|(k, v, frames)| (*k, v.clone(), frames.first().copied()));
        let idx = self.summaries.len();
        let candidate = trigger.is_some()
            && (policed_bps.is_some()
                || losses >= compare::MIN_SUSPECT_LOSSES
                || opening.is_some_and(|o| o.losses() > 0));
        if candidate && self.candidate_series.len() < MAX_CANDIDATE_SERIES {
            self.candidate_series.insert(idx, server.series.clone());
        }
        self.summaries.push(FlowSummary {
            flow: flow.flow_ref(),
            trigger,
            bytes: server.series.total_bytes,
            first_data: server.series.first_data,
            last_data: server.series.last_data,
            losses,
            policed_bps,
            opening,
            rtt: tcp.handshake.rtt,
        });
        Some(idx)
    }
}

/// The transmission after `loss` that carries its first byte again.
fn repair_of(input: &[policing::Tx], loss: Option<usize>) -> Option<FrameNumber> {
    let i = loss?;
    let lost = input.get(i)?;
    input
        .iter()
        .skip(i + 1)
        .find(|t| t.seq <= lost.seq && lost.seq < t.seq.saturating_add(u64::from(t.len)))
        .map(|t| t.frame)
}

/// Follows what happens after the server's last delivered data (see [`freeze`]).
fn track_freeze(
    state: &mut FlowState,
    tcp: &TcpConn,
    p: &PacketInfo,
    seg: &crate::proto::tcp::TcpSegment,
    carries_data: bool,
) {
    let at = (p.ts, p.frame);
    let fz = &mut state.freeze;
    match p.dir {
        Direction::ClientToServer => {
            let mut progressed = false;
            if seg.flags.ack() && !seg.flags.syn() {
                let shift = tcp
                    .half(Direction::ClientToServer)
                    .window_scale
                    .unwrap_or(0)
                    .min(14);
                let window = u64::from(seg.window) << shift;
                progressed = fz.client_ack(seg.ack, window, at);
            }
            if !progressed {
                fz.after.client_packets = fz.after.client_packets.saturating_add(1);
            }
            if seg.class == SeqClass::KeepAlive {
                fz.after.keepalives = fz.after.keepalives.saturating_add(1);
                fz.after.first_keepalive.get_or_insert(at);
                fz.after.last_keepalive = Some(at);
            }
            if carries_data {
                if matches!(
                    seg.class,
                    SeqClass::Retransmission | SeqClass::PartialRetransmission
                ) {
                    fz.after.client_retransmissions =
                        fz.after.client_retransmissions.saturating_add(1);
                    fz.after.first_client_retransmission.get_or_insert(p.frame);
                }
                if seg.advance > 0 {
                    let end = SeqNumber(seg.seq).wrapping_add(p.payload_len).0;
                    if fz
                        .client_next
                        .is_none_or(|n| SeqNumber(end).diff(SeqNumber(n)) > 0)
                    {
                        fz.client_next = Some(end);
                    }
                }
            }
        }
        Direction::ServerToClient => {
            fz.after.server_packets = fz.after.server_packets.saturating_add(1);
            if seg.flags.ack()
                && fz
                    .client_acked
                    .is_none_or(|a| SeqNumber(seg.ack).diff(SeqNumber(a)) > 0)
            {
                fz.client_acked = Some(seg.ack);
            }
            if carries_data {
                fz.after.server_data = fz.after.server_data.saturating_add(1);
                if matches!(
                    seg.class,
                    SeqClass::Retransmission | SeqClass::PartialRetransmission
                ) {
                    fz.after.server_retransmissions =
                        fz.after.server_retransmissions.saturating_add(1);
                    fz.after.first_server_retransmission.get_or_insert(at);
                    fz.after.last_server_retransmission = Some(at);
                }
                if seg.advance > 0 {
                    fz.server_new_data(SeqNumber(seg.seq).wrapping_add(p.payload_len).0, at);
                }
            } else if !seg.flags.syn() {
                if let Some(acked) = fz.acked {
                    let past = SeqNumber(seg.seq).diff(SeqNumber(acked));
                    if past > 0 {
                        fz.after.server_seq_beyond = fz.after.server_seq_beyond.saturating_add(1);
                        fz.after
                            .first_seq_beyond
                            .get_or_insert((p.frame, u64::try_from(past).unwrap_or(0)));
                    }
                }
            }
        }
    }
    fz.after.last_packet = Some(at);
}

/// Follows the opening exchange: the client's first data, the server's first answer, and the
/// losses in between (until the client speaks again).
fn track_opening(
    state: &mut FlowState,
    p: &PacketInfo,
    seg: &crate::proto::tcp::TcpSegment,
    carries_data: bool,
) {
    let o = &mut state.opening;
    if !carries_data || o.done {
        return;
    }
    let repeat = matches!(
        seg.class,
        SeqClass::Retransmission | SeqClass::PartialRetransmission
    );
    match p.dir {
        Direction::ClientToServer => {
            if o.client.is_none() {
                o.client = Some((p.ts, p.frame));
            } else if o.server.is_none() {
                if repeat {
                    o.client_retransmissions = o.client_retransmissions.saturating_add(1);
                }
            } else if seg.advance > 0 {
                o.done = true;
            }
        }
        Direction::ServerToClient => {
            if o.client.is_none() {
                // The server spoke first (SMTP, SSH banners): no opening to time.
                o.done = true;
                return;
            }
            o.server.get_or_insert((p.ts, p.frame));
            o.server_segments = o.server_segments.saturating_add(1);
            o.server_bytes = o.server_bytes.saturating_add(u64::from(p.payload_len));
            if repeat || seg.class == SeqClass::AfterGap {
                o.server_losses = o.server_losses.saturating_add(1);
            }
        }
    }
}

/// Is the capture at the receiver of `d`'s data? `None` when the handshake did not tell, or
/// put the capture in between.
fn at_receiver(tcp: &TcpConn, d: Direction) -> Option<bool> {
    match (tcp.handshake.vantage?, d) {
        (Vantage::Middle, _) => None,
        (Vantage::Client, Direction::ServerToClient)
        | (Vantage::Server, Direction::ClientToServer) => Some(true),
        _ => Some(false),
    }
}

/// Analyses and releases the records of the current segment.
fn finish_segment(
    flow: FlowRef,
    state: &mut FlowState,
    tcp: &TcpConn,
    budget: &mut Budget,
    verdicts: &mut Vec<SegmentVerdict>,
    second_cutoff: Option<usize>,
) {
    let segment = state.segment;
    let mut log = |v: SegmentVerdict| {
        if verdicts.len() < MAX_VERDICTS_KEPT {
            verdicts.push(v);
        }
    };
    for d in [Direction::ClientToServer, Direction::ServerToClient] {
        let ds = &mut state.dirs[d.index()];
        let Some(mut rec) = ds.record.take() else {
            continue;
        };
        if rec.state == RecordState::Abandoned {
            ds.abandoned = ds.abandoned.saturating_add(1);
            log(SegmentVerdict {
                flow,
                dir: d,
                segment,
                transmissions: 0,
                losses: 0,
                outcome: None,
                rate_bps: 0.0,
                burst_bytes: 0,
                rtt_source: None,
                second: None,
                analysis: None,
            });
            rec.release(budget);
            continue;
        }
        let [(n_ack, med_ack), (n_echo, med_echo)] = rec.rtt_medians();
        let echo = match at_receiver(tcp, d) {
            Some(at) => at,
            // In between or unknown: the longer of the two medians has crossed more path.
            None => n_echo >= MIN_RTT_SAMPLES && (n_ack < MIN_RTT_SAMPLES || med_echo > med_ack),
        };
        let samples = if echo { n_echo } else { n_ack };
        let rtt_source = match (samples >= MIN_RTT_SAMPLES, echo) {
            (false, _) => RttSource::Handshake,
            (true, true) => RttSource::Echo,
            (true, false) => RttSource::Ack,
        };
        let mut input = rec.policing_input(echo);
        if rtt_source == RttSource::Handshake {
            for t in &mut input {
                t.rtt = None;
            }
        }
        let start = rec
            .first_packet
            .or(input.first().map(|t| t.ts))
            .unwrap_or(Timestamp::EPOCH);
        let analysis = policing::analyze(&input, start, tcp.handshake.rtt, 0);
        for t in &input {
            if let Some(r) = t.rtt {
                ds.series.add_rtt(t.ts, r);
            }
        }
        ds.segments_analysed = ds.segments_analysed.saturating_add(1);
        log(SegmentVerdict {
            flow,
            dir: d,
            segment,
            transmissions: analysis.transmissions,
            losses: analysis.losses,
            outcome: Some(analysis.outcome()),
            rate_bps: analysis.rate_bps,
            burst_bytes: analysis.burst_bytes,
            rtt_source: Some(rtt_source),
            second: second_cutoff.map(|c| {
                let b = policing::analyze(&input, start, tcp.handshake.rtt, c);
                (b.outcome(), b.rate_bps)
            }),
            analysis: Some(analysis.clone()),
        });
        *ds.outcomes.entry(analysis.outcome()).or_default() += 1;
        if analysis.outcome() == Outcome::Policed {
            ds.policed_count = ds.policed_count.saturating_add(1);
            if ds.policed.len() < MAX_POLICED_KEPT {
                let at = |i: Option<usize>| i.and_then(|i| input.get(i)).map(|t| (t.ts, t.frame));
                let first_loss_offset = analysis
                    .first_loss
                    .and_then(|i| input.get(i))
                    .map_or(0, |t| t.seq);
                let repairs = (
                    repair_of(&input, analysis.first_loss),
                    repair_of(&input, analysis.last_loss),
                );
                ds.policed.push(SegmentResult {
                    segment,
                    first_loss: at(analysis.first_loss),
                    last_loss: at(analysis.last_loss),
                    first_loss_offset,
                    truncated: rec.full(),
                    rtt_source,
                    analysis,
                    repairs,
                });
            }
        }
        rec.release(budget);
    }
}

fn measurement(
    metric: &str,
    value: f64,
    unit: &str,
    reference: Option<(f64, String)>,
    frames: Vec<FrameNumber>,
) -> Evidence {
    let (reference, reference_label) = match reference {
        Some((v, l)) => (Some(v), Some(l)),
        None => (None, None),
    };
    Evidence::Measurement {
        metric: metric.to_string(),
        value: round3(value),
        unit: unit.to_string(),
        reference: reference.map(round3),
        reference_label,
        frames,
    }
}

/// Rounds to three decimals so reports do not carry float noise.
fn round3(x: f64) -> f64 {
    if x.is_finite() {
        (x * 1000.0).round() / 1000.0
    } else {
        0.0
    }
}

fn ms(s: Option<Span>) -> f64 {
    s.map_or(0.0, Span::as_millis_f64)
}

fn policing_finding(
    flow: &FlowView<'_>,
    state: &FlowState,
    d: Direction,
) -> Option<FindingBuilder> {
    let ds = &state.dirs[d.index()];
    let main = ds.policed.first()?;
    let a = &main.analysis;
    let kbps = a.rate_bps / 1000.0;
    let loss_frames: Vec<FrameNumber> = [main.first_loss, main.last_loss]
        .iter()
        .flatten()
        .map(|&(_, f)| f)
        .collect();
    let who = crate::finding::from_whom(d);
    let loss_rate = if a.transmissions > 0 {
        a.losses as f64 / a.transmissions as f64
    } else {
        0.0
    };
    let confidence = if main.rtt_source == RttSource::Handshake {
        Confidence::Medium
    } else {
        Confidence::High
    };
    let summary = format!(
        "Traffic policing {who}: {} losses in {} data segments ({:.0} %) track a token bucket filling at {:.0} kbit/s after a burst of {} bytes, without RTT inflation before the losses",
        a.losses,
        a.transmissions,
        loss_rate * 100.0,
        kbps,
        a.burst_bytes,
    );
    let mut b = FindingBuilder::new(NAME, TCP_POLICING, confidence, flow.flow_ref(), summary);
    if let Some((kind, value, frames)) = &state.trigger {
        b = b.trigger(kind, value.clone(), frames.first().copied());
    }
    let median = ms(a.median_rtt);
    b = b
        .evidence(measurement(
            "policing_rate",
            kbps,
            "kbit/s",
            None,
            loss_frames.clone(),
        ))
        .evidence(measurement(
            "burst_before_first_loss",
            a.burst_bytes as f64,
            "bytes",
            None,
            Vec::new(),
        ))
        .evidence(measurement(
            "losses",
            a.losses as f64,
            "segments",
            Some((
                (a.transmissions - a.losses.min(a.transmissions)) as f64,
                "segments that passed".to_string(),
            )),
            Vec::new(),
        ))
        .evidence(measurement(
            "loss_rate",
            loss_rate * 100.0,
            "%",
            None,
            Vec::new(),
        ))
        .evidence(measurement(
            "loss_samples",
            a.loss_samples as f64,
            "segments",
            Some((policing::MIN_NUM_SAMPLES as f64, "minimum (PD MIN_NUM_SAMPLES)".into())),
            Vec::new(),
        ))
        .evidence(measurement(
            "pass_samples",
            a.pass_samples as f64,
            "segments",
            Some((policing::MIN_NUM_SAMPLES as f64, "minimum (PD MIN_NUM_SAMPLES)".into())),
            Vec::new(),
        ))
        .evidence(measurement(
            "rtt_slices_with_loss",
            f64::from(a.slices_with_loss),
            "slices",
            Some((
                f64::from(policing::MIN_NUM_SLICES_WITH_LOSS),
                "minimum (PD MIN_NUM_SLICES_WITH_LOSS)".into(),
            )),
            Vec::new(),
        ))
        .evidence(measurement(
            "first_loss_offset",
            main.first_loss_offset as f64,
            "bytes",
            Some((
                policing::LATE_LOSS_THRESHOLD as f64,
                "maximum (PD LATE_LOSS_THRESHOLD)".into(),
            )),
            Vec::new(),
        ))
        .evidence(measurement(
            "median_rtt",
            median,
            "ms",
            Some((ms(a.p10_rtt), "10th percentile RTT".into())),
            Vec::new(),
        ))
        .evidence(measurement(
            "losses_after_inflated_rtt",
            a.inflated_fraction() * 100.0,
            "%",
            Some((
                policing::INFLATED_RTT_TOLERANCE * 100.0,
                "maximum (PD INFLATED_RTT_TOLERANCE)".into(),
            )),
            Vec::new(),
        ))
        .evidence(measurement(
            "mean_tokens_at_loss",
            a.mean_tokens_loss,
            "bytes",
            Some((a.mean_tokens_pass, "mean tokens at passes (must be higher)".into())),
            Vec::new(),
        ))
        .evidence(measurement(
            "median_tokens_at_loss",
            a.median_tokens_loss,
            "bytes",
            Some((a.median_tokens_pass, "median tokens at passes (must be higher)".into())),
            Vec::new(),
        ))
        .evidence(measurement(
            "losses_far_from_empty_bucket",
            ratio_pct(a.loss_out_of_range, a.loss_samples),
            "%",
            Some((
                policing::ZERO_THRESHOLD_LOSS_OUT_OF_RANGE * 100.0,
                format!(
                    "maximum; far = more than {:.0} bytes (2 median RTTs at the rate) from the median tokens at loss",
                    a.loss_zero_threshold
                ),
            )),
            Vec::new(),
        ))
        .evidence(measurement(
            "passes_on_overdrawn_bucket",
            ratio_pct(a.pass_out_of_range, a.pass_samples),
            "%",
            Some((
                policing::ZERO_THRESHOLD_PASS_OUT_OF_RANGE * 100.0,
                format!(
                    "maximum; overdrawn = more than {:.0} bytes (0.75 median RTTs at the rate) below the median tokens at loss",
                    a.pass_zero_threshold
                ),
            )),
            Vec::new(),
        ))
        .evidence(measurement(
            "initial_bucket_fill",
            a.y_intercept,
            "bytes",
            Some((-a.pass_zero_threshold, "minimum (minus the pass tolerance)".into())),
            Vec::new(),
        ));
    let mut notes = Vec::new();
    if let (Some((t1, f1)), Some((t2, f2))) = (main.first_loss, main.last_loss) {
        notes.push(Evidence::Note {
            text: format!(
                "first loss in frame {f1}, {} bytes into the data of segment {}; last loss in frame {f2}, {:.3} s later (the rate is the goodput between them)",
                main.first_loss_offset,
                main.segment,
                t2.since(t1).as_secs_f64()
            ),
            frames: vec![f1, f2],
        });
    }
    notes.push(Evidence::Note {
        text: format!("RTT from {}", main.rtt_source.describe()),
        frames: Vec::new(),
    });
    if main.rtt_source == RttSource::Handshake {
        notes.push(Evidence::Note {
            text: "no per-packet RTT samples: the RTT-inflation veto (queueing before losses means congestion or shaping) could not be applied".into(),
            frames: Vec::new(),
        });
    }
    if main.truncated {
        notes.push(Evidence::Note {
            text: format!(
                "the segment was longer than the {} transmissions kept; only its beginning was analysed",
                record::MAX_TXS
            ),
            frames: Vec::new(),
        });
    }
    if let (Some(f1), Some(f2)) = main.repairs {
        notes.push(Evidence::Note {
            text: format!(
                "the first loss was repaired by the retransmission in frame {f1}, the last by frame {f2} (Wireshark marks these as retransmissions)"
            ),
            frames: vec![f1, f2],
        });
    }
    if compare::near_twitter_cap(kbps) {
        notes.push(Evidence::Note {
            text: "the rate matches the 130-150 kbit/s to which Russia throttled Twitter in 2021 (Xue et al., IMC 2021)".to_string(),
            frames: Vec::new(),
        });
    }
    let segments = ds.segments_analysed.saturating_add(ds.abandoned);
    let others: Vec<String> = ds
        .policed
        .iter()
        .skip(1)
        .map(|s| {
            format!(
                "segment {} at {:.0} kbit/s",
                s.segment,
                s.analysis.rate_bps / 1000.0
            )
        })
        .collect();
    let mut text = format!(
        "policed in {} of {} request/response segments of this flow {who}",
        ds.policed_count, segments
    );
    if !others.is_empty() {
        text.push_str(&format!("; also {}", others.join(", ")));
    }
    notes.push(Evidence::Note {
        text,
        frames: Vec::new(),
    });
    notes.push(Evidence::Note {
        text: format!(
            "time series {who}: {}",
            ds.series.render(SERIES_BINS_QUOTED)
        ),
        frames: Vec::new(),
    });
    for n in notes {
        b = b.evidence(n);
    }
    if let Some((t, _)) = main.first_loss {
        b = b.at(t);
    }
    Some(b)
}

fn ratio_pct(a: usize, b: usize) -> f64 {
    if b == 0 {
        0.0
    } else {
        a as f64 * 100.0 / b as f64
    }
}

fn kbps(bps: f64) -> f64 {
    bps / 1000.0
}

fn uniform_cap_text(cap: &compare::UniformCap) -> String {
    format!(
        "capture-wide: {} flows to {} different server networks are policed at {:.0}-{:.0} kbit/s (within {:.0} % of one another): a cap on the subscriber's line or plan, not aimed at this server (no targeted throttling is reported for them)",
        cap.members.len(),
        cap.networks,
        kbps(cap.range_bps.0),
        kbps(cap.range_bps.1),
        compare::SAME_RATE * 100.0
    )
}

fn freeze_finding(
    flow: &FlowView<'_>,
    tcp: &TcpConn,
    state: &FlowState,
) -> Option<crate::finding::Finding> {
    let at_client = match tcp.handshake.vantage? {
        Vantage::Client => true,
        Vantage::Server => false,
        Vantage::Middle => return None,
    };
    let server_base = tcp.half(Direction::ServerToClient).isn?.wrapping_add(1).0;
    let cx = freeze::Context {
        at_client,
        server_base,
        server_next: state.dirs[Direction::ServerToClient.index()].next_seq,
        rtt: tcp.handshake.rtt,
        mss: u64::from(tcp.half(Direction::ServerToClient).mss.unwrap_or(536)),
    };
    let v = freeze::judge(&state.freeze, &cx)?;
    let a = &state.freeze.after;
    let confidence = match v.strength {
        freeze::Strength::Strong => Confidence::High,
        freeze::Strength::Weak => Confidence::Medium,
    };
    let (t_last, f_last) = v.last_delivered;
    let summary = format!(
        "Transfer froze after {} bytes from the server: nothing more was delivered for {:.1} s, with no FIN or RST, while the connection stayed open ({})",
        v.plateau,
        v.stalled_for.as_secs_f64(),
        if at_client { "seen at the client" } else { "seen at the server" }
    );
    let mut b = FindingBuilder::new(NAME, TRANSFER_FREEZE, confidence, flow.flow_ref(), summary);
    if let Some((kind, value, frames)) = &state.trigger {
        b = b.trigger(kind, value.clone(), frames.first().copied());
    }
    let last_frame = a.last_packet.map(|(_, f)| f);
    b = b
        .evidence(measurement(
            "plateau_bytes",
            v.plateau as f64,
            "bytes",
            Some((
                freeze::MAX_PLATEAU as f64,
                format!(
                    "judged between {} and {} bytes (signatures.md §4.3)",
                    freeze::MIN_PLATEAU,
                    freeze::MAX_PLATEAU
                ),
            )),
            vec![f_last],
        ))
        .evidence(measurement(
            "stalled_for",
            v.stalled_for.as_millis_f64(),
            "ms",
            Some((
                v.rto.as_millis_f64() * freeze::RTO_MULTIPLE as f64,
                format!(
                    "minimum: {} retransmission timeouts of {:.0} ms",
                    freeze::RTO_MULTIPLE,
                    v.rto.as_millis_f64()
                ),
            )),
            last_frame.into_iter().collect(),
        ))
        .evidence(measurement(
            "bytes_sent_past_plateau",
            v.outstanding as f64,
            "bytes",
            None,
            Vec::new(),
        ))
        .evidence(measurement(
            "client_packets_after",
            f64::from(a.client_packets),
            "packets",
            None,
            Vec::new(),
        ))
        .evidence(measurement(
            "client_keepalives_after",
            f64::from(a.keepalives),
            "packets",
            None,
            [a.first_keepalive, a.last_keepalive]
                .iter()
                .flatten()
                .map(|&(_, f)| f)
                .collect(),
        ))
        .evidence(measurement(
            "server_packets_after",
            f64::from(a.server_packets),
            "packets",
            None,
            Vec::new(),
        ))
        .evidence(measurement(
            "server_retransmissions_after",
            f64::from(a.server_retransmissions),
            "segments",
            Some((
                f64::from(freeze::MIN_SERVER_RETRANSMISSIONS),
                "minimum when seen at the server".into(),
            )),
            [a.first_server_retransmission, a.last_server_retransmission]
                .iter()
                .flatten()
                .map(|&(_, f)| f)
                .collect(),
        ));
    if let Some(rtt) = tcp.handshake.rtt {
        b = b.evidence(measurement(
            "handshake_rtt",
            rtt.as_millis_f64(),
            "ms",
            None,
            Vec::new(),
        ));
    }
    b = b
        .evidence(Evidence::Note {
            text: format!("last delivered server data in frame {f_last}; {}", v.sign),
            frames: vec![f_last],
        })
        .evidence(Evidence::Note {
            text: format!(
                "time series from the server: {}",
                state.dirs[Direction::ServerToClient.index()]
                    .series
                    .render(SERIES_BINS_QUOTED)
            ),
            frames: Vec::new(),
        });
    if let Some((_, f)) = a.first_seq_beyond.map(|(f, past)| (past, f)) {
        b = b.frames([f]);
    }
    Some(b.at(t_last).build())
}

fn comparison_text(s: &FlowSummary) -> String {
    let trigger = s
        .trigger
        .as_ref()
        .map_or_else(|| "no trigger".to_string(), |(k, v, _)| format!("{k} {v}"));
    format!(
        "flow {} ({}, {}): {} bytes at {:.0} kbit/s{}",
        s.flow.id,
        s.flow.server,
        trigger,
        s.bytes,
        kbps(s.rate_bps()),
        s.first_data.map_or_else(String::new, |(_, f)| format!(
            ", first server data in frame {f}"
        ))
    )
}

fn targeted_finding(
    summaries: &[FlowSummary],
    t: &compare::Targeted,
    series: Option<&FlowSeries>,
) -> crate::finding::Finding {
    let s = &summaries[t.suspect];
    let (kind, value, frame) = s.trigger.clone().unwrap_or(("sni", String::new(), None));
    let rate = kbps(t.rate_bps);
    // Policed and far below comparable flows: high. Far below them without a policing
    // verdict: medium. Policed at the known cap with nothing to compare: low (a plan capped at
    // that rate would look the same).
    let confidence = match (t.cap_only, s.policed_bps.is_some()) {
        (false, true) => Confidence::High,
        (false, false) => Confidence::Medium,
        (true, _) => Confidence::Low,
    };
    let summary = if t.cap_only {
        format!(
            "Throttling aimed at {value}: the server's data is policed at {rate:.0} kbit/s, the level of the 2021 Russian throttling of Twitter; no comparable flow in the capture to compare with"
        )
    } else {
        format!(
            "Throttling aimed at {value}: the server's data arrives at {rate:.0} kbit/s, {:.0} times slower than {} comparable flow(s) to the same network at the same time ({:.0} kbit/s)",
            t.ratio,
            t.comparisons.len(),
            kbps(t.comparison_bps)
        )
    };
    let mut b = FindingBuilder::new(NAME, TARGETED_THROTTLING, confidence, s.flow, summary)
        .trigger(kind, value, frame);
    b = b
        .evidence(measurement(
            "rate",
            rate,
            "kbit/s",
            (!t.cap_only).then(|| {
                (
                    kbps(t.comparison_bps),
                    "median rate of the comparison flows".to_string(),
                )
            }),
            Vec::new(),
        ))
        .evidence(measurement(
            "bytes",
            s.bytes as f64,
            "bytes",
            None,
            Vec::new(),
        ))
        .evidence(measurement(
            "transfer_duration",
            s.duration().as_millis_f64(),
            "ms",
            None,
            [s.first_data, s.last_data]
                .iter()
                .flatten()
                .map(|&(_, f)| f)
                .collect(),
        ))
        .evidence(measurement(
            "loss_signals",
            f64::from(s.losses),
            "signals",
            Some((
                f64::from(compare::MIN_SUSPECT_LOSSES),
                "minimum unless policed".into(),
            )),
            Vec::new(),
        ));
    if !t.cap_only {
        b = b
            .evidence(measurement(
                "slowdown",
                t.ratio,
                "x",
                Some((
                    compare::TARGETED_RATIO,
                    "minimum (OONI dd-007, signatures.md §4.3)".into(),
                )),
                Vec::new(),
            ))
            .evidence(measurement(
                "comparison_flows",
                t.comparisons.len() as f64,
                "flows",
                None,
                Vec::new(),
            ));
        for &j in t.comparisons.iter().take(compare::COMPARISONS_QUOTED) {
            let o = &summaries[j];
            b = b.evidence(Evidence::Note {
                text: format!("comparison {}", comparison_text(o)),
                frames: o.first_data.map(|(_, f)| f).into_iter().collect(),
            });
        }
        if t.comparisons.len() > compare::COMPARISONS_QUOTED {
            b = b.evidence(Evidence::Note {
                text: format!(
                    "{} more comparison flows not listed",
                    t.comparisons.len() - compare::COMPARISONS_QUOTED
                ),
                frames: Vec::new(),
            });
        }
    } else {
        b = b.evidence(Evidence::Note {
            text: "no flow to the same network of similar size at the same time: without a comparison only the rate points at the known cap, so the confidence is low".into(),
            frames: Vec::new(),
        });
    }
    b = b.evidence(Evidence::Note {
        text: match s.policed_bps {
            Some(_) => "the server's data was also found policed (tcp_policing): losses follow a token bucket".into(),
            None => "the server's data was not found policed; the rate is its bytes over the time from its first to its last data".into(),
        },
        frames: Vec::new(),
    });
    if compare::near_twitter_cap(rate) {
        b = b.evidence(Evidence::Note {
            text: "the rate matches the 130-150 kbit/s to which Russia throttled Twitter in 2021 (Xue et al., IMC 2021)".into(),
            frames: Vec::new(),
        });
    }
    if let Some(series) = series {
        b = b.evidence(Evidence::Note {
            text: format!(
                "time series from the server: {}",
                series.render(SERIES_BINS_QUOTED)
            ),
            frames: Vec::new(),
        });
    }
    if let Some((t0, _)) = s.first_data {
        b = b.at(t0);
    }
    b.build()
}

fn slow_handshake_finding(
    summaries: &[FlowSummary],
    slow: &compare::SlowOpening,
) -> crate::finding::Finding {
    let s = &summaries[slow.flow];
    // `slow_openings` only returns flows with an opening and a trigger.
    let o = s.opening.unwrap_or(Opening {
        client: (Timestamp::EPOCH, s.flow.id.first_frame),
        server: (Timestamp::EPOCH, s.flow.id.first_frame),
        client_retransmissions: 0,
        server_losses: 0,
        server_segments: 0,
        server_bytes: 0,
    });
    let (kind, value, frame) = s.trigger.clone().unwrap_or(("sni", String::new(), None));
    let what = if kind == "sni" {
        "TLS handshake"
    } else {
        "first response"
    };
    let d = o.duration();
    let ratio = if slow.median.as_nanos() > 0 {
        d.as_secs_f64() / slow.median.as_secs_f64()
    } else {
        f64::INFINITY
    };
    let summary = format!(
        "Slow {what} for {value}: the server's first answer came {:.0} ms after the client's first data, {} the median of {} other connection(s) to the same server ({:.0} ms), with {} loss(es) on the way",
        d.as_millis_f64(),
        if ratio.is_finite() {
            format!("{ratio:.0} times")
        } else {
            "far above".to_string()
        },
        slow.others.len(),
        slow.median.as_millis_f64(),
        o.losses()
    );
    let mut b = FindingBuilder::new(NAME, SLOW_HANDSHAKE, Confidence::Medium, s.flow, summary)
        .trigger(kind, value, frame);
    b = b
        .evidence(Evidence::Timing {
            what: "first_answer_after_first_data".into(),
            delta_ms: round3(d.as_millis_f64()),
            from_frame: o.client.1,
            to_frame: o.server.1,
            reference: Some(format!(
                "median of {} other openings to the same server",
                slow.others.len()
            )),
            reference_ms: Some(round3(slow.median.as_millis_f64())),
        })
        .evidence(measurement(
            "slowdown",
            if ratio.is_finite() { ratio } else { 0.0 },
            "x",
            Some((
                compare::HANDSHAKE_RATIO,
                format!(
                    "minimum (signatures.md §4.3), and at least {} ms",
                    compare::HANDSHAKE_MIN.as_millis_f64()
                ),
            )),
            Vec::new(),
        ))
        .evidence(measurement(
            "client_retransmissions",
            f64::from(o.client_retransmissions),
            "segments",
            None,
            Vec::new(),
        ))
        .evidence(measurement(
            "server_loss_signals",
            f64::from(o.server_losses),
            "signals",
            None,
            Vec::new(),
        ))
        .evidence(measurement(
            "server_segments_in_opening",
            f64::from(o.server_segments),
            "segments",
            Some((o.server_bytes as f64, "bytes they carried".into())),
            Vec::new(),
        ));
    if let Some(rtt) = s.rtt {
        b = b.evidence(measurement(
            "handshake_rtt",
            rtt.as_millis_f64(),
            "ms",
            None,
            Vec::new(),
        ));
    }
    for &j in slow.others.iter().take(compare::COMPARISONS_QUOTED) {
        let x = &summaries[j];
        if let Some(xo) = x.opening {
            b = b.evidence(Evidence::Note {
                text: format!(
                    "comparison flow {} ({}): answered after {:.0} ms (frames {} to {})",
                    x.flow.id,
                    x.trigger
                        .as_ref()
                        .map_or_else(String::new, |(k, v, _)| format!("{k} {v}")),
                    xo.duration().as_millis_f64(),
                    xo.client.1,
                    xo.server.1
                ),
                frames: Vec::new(),
            });
        }
    }
    b.at(o.client.0).build()
}
