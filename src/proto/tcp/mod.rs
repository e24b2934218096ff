//! Tracks the state of one TCP connection per direction (sequence space, handshake and RTT,
//! retransmissions, gaps, FIN/RST, header baselines) and reassembles each direction's stream;
//! it never parses application data or decides what is interference.

pub mod seq;
pub mod stream;

use serde::Serialize;

use self::seq::SeqNumber;
use self::stream::{OverlapConflict, ReassemblyBudget, StreamBuf, StreamLimits};
use super::baseline::{HeaderBaseline, INITIAL_TTLS};
use crate::decode::{IpHeader, SackBlocks, TcpFlags, TcpHeader};
use crate::ids::{Direction, FrameNumber};
use crate::time::{Span, Timestamp};

/// A sequence jump larger than this is "out of window" rather than data after a loss (Zeek's
/// `TOO_LARGE_SEQ_DELTA` is 2^20; injected packets with random sequence numbers land here).
pub const MAX_SEQ_ADVANCE: i64 = 1 << 20;
/// Holes (missing sequence ranges) remembered per direction to tell reordering from loss.
const MAX_HOLES: usize = 8;
/// A hole filled within this time of being seen counts as reordering, not retransmission
/// (Wireshark's out-of-order rule uses 3 ms).
const REORDER_WINDOW: Span = Span::from_millis(3);

/// Where a segment falls in its sender's sequence space.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SeqClass {
    /// The first segment seen from this sender.
    First,
    /// Continues the stream exactly.
    InOrder,
    /// Starts beyond the highest sequence seen: bytes before it are missing (lost or
    /// reordered, or not captured).
    AfterGap,
    /// Fills a hole shortly after it appeared: reordering.
    OutOfOrder,
    /// Repeats bytes sent before.
    Retransmission,
    /// Repeats some bytes sent before and adds new ones.
    PartialRetransmission,
    /// A keep-alive probe (zero or one byte at the highest sequence minus one).
    KeepAlive,
    /// Far outside the sequence space in use (more than 2^20 away).
    OutOfWindow,
    /// Carries no sequence space (pure ACK, or RST/SYN handled on their own).
    NoData,
}

/// The facts of one TCP segment, as carried on every packet event.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct TcpSegment {
    /// Sequence number.
    pub seq: u32,
    /// Acknowledgment field (also when the ACK flag is clear).
    pub ack: u32,
    /// Sequence number relative to the sender's initial one (or first seen), as Wireshark shows.
    pub rel_seq: u32,
    /// Control bits.
    pub flags: TcpFlags,
    /// Advertised window (unscaled).
    pub window: u16,
    /// Payload length declared by the headers.
    pub payload_len: u32,
    /// Where the segment falls in the sequence space.
    pub class: SeqClass,
    /// How far beyond the sender's highest sequence before this segment its end reaches
    /// (negative when entirely old).
    pub advance: i64,
    /// SACK blocks (RFC 2018; a first block below the acknowledgment is a D-SACK, RFC 2883).
    #[serde(skip)]
    pub sack: SackBlocks,
    /// Timestamps option (TSval, TSecr), RFC 7323.
    #[serde(skip)]
    pub timestamps: Option<(u32, u32)>,
}

/// Counters for one direction.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct TcpCounts {
    /// Segments carrying data.
    pub data_segments: u64,
    /// Retransmissions (full or partial).
    pub retransmissions: u64,
    /// Reordered segments.
    pub out_of_order: u64,
    /// Segments after a sequence gap.
    pub gaps: u64,
    /// Keep-alive probes.
    pub keepalives: u64,
    /// Duplicate ACKs.
    pub dup_acks: u64,
    /// Zero-window advertisements.
    pub zero_windows: u64,
    /// Segments far outside the sequence space.
    pub out_of_window: u64,
    /// Retransmissions whose bytes differ from the first copy.
    pub overlap_conflicts: u64,
    /// RST segments.
    pub rsts: u64,
    /// Segments with a non-zero acknowledgment field but no ACK flag.
    pub ack_field_without_flag: u64,
}

/// A sender's FIN.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct FinSeen {
    /// Frame of the first FIN.
    pub frame: FrameNumber,
    /// When.
    pub ts: Timestamp,
    /// Its sequence number.
    pub seq: u32,
}

/// State of one direction, named after the sender.
#[derive(Clone, Debug, Default)]
pub struct TcpHalf {
    /// Initial sequence number from this sender's SYN.
    pub isn: Option<SeqNumber>,
    /// First sequence number seen from this sender (SYN or not): Wireshark's base, used to
    /// recognise port reuse.
    pub base_seq: Option<SeqNumber>,
    /// Highest sequence number reached (end of the furthest segment, SYN and FIN included).
    pub next_seq: Option<SeqNumber>,
    /// Highest acknowledgment this sender has sent (with the ACK flag, on segments other than
    /// RSTs).
    pub max_ack: Option<SeqNumber>,
    /// SYN segments sent (retransmissions included).
    pub syns: u32,
    /// Window scale from this sender's SYN.
    pub window_scale: Option<u8>,
    /// MSS from this sender's SYN.
    pub mss: Option<u16>,
    /// First FIN.
    pub fin: Option<FinSeen>,
    /// Frame of the first RST.
    pub first_rst: Option<FrameNumber>,
    /// Counters.
    pub counts: TcpCounts,
    /// Header features learned from the first packets.
    pub baseline: HeaderBaseline,
    last_ack: Option<(u32, u16)>,
    holes: Vec<(SeqNumber, SeqNumber, Timestamp)>,
}

/// Where the capture was probably taken, from the handshake timing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Vantage {
    /// Near the client: the SYN-ACK took most of the round trip.
    Client,
    /// Near the server: the client's ACK took most of the round trip.
    Server,
    /// Somewhere between.
    Middle,
}

/// The three-way handshake as observed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Handshake {
    /// The SYN answered by the SYN-ACK (the last one sent before it).
    pub syn: Option<(FrameNumber, Timestamp)>,
    /// The first SYN-ACK.
    pub syn_ack: Option<(FrameNumber, Timestamp)>,
    /// Initial sequence number of the first SYN-ACK.
    #[serde(skip)]
    pub syn_ack_isn: Option<u32>,
    /// A later SYN-ACK with a different initial sequence number (a forged SYN-ACK tell).
    pub conflicting_syn_ack: Option<FrameNumber>,
    /// A SYN-ACK claiming to come from the client (which sent the SYN): only a simultaneous
    /// open explains one, otherwise it was forged towards the server.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reverse_syn_ack: Option<FrameNumber>,
    /// The client's ACK completing the handshake.
    pub ack: Option<(FrameNumber, Timestamp)>,
    /// From the SYN to the SYN-ACK, as captured.
    pub syn_to_synack: Option<Span>,
    /// From the SYN-ACK to the ACK, as captured.
    pub synack_to_ack: Option<Span>,
    /// Round-trip time between the two endpoints: the leg that crossed the network as seen
    /// from the vantage point (SYN to SYN-ACK near the client, SYN-ACK to ACK near the server,
    /// both together in between).
    pub rtt: Option<Span>,
    /// Probable vantage point.
    pub vantage: Option<Vantage>,
    /// How the vantage point was decided.
    pub vantage_basis: Option<VantageBasis>,
}

/// What told the vantage point apart.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum VantageBasis {
    /// One side's packets carry an initial TTL (they were captured where they were sent), the
    /// other side's do not.
    Ttl,
    /// The handshake timing: the leg that crossed the network is much longer than the other.
    Timing,
}

/// What one segment did to the connection.
#[derive(Clone, Copy, Debug, Default)]
pub struct SegmentOutcome {
    /// The handshake completed with this segment.
    pub handshake_completed: bool,
    /// The segment's bytes differ from bytes delivered before.
    pub conflict: Option<OverlapConflict>,
    /// The reassembly prefix limit was reached in this direction.
    pub prefix_full: bool,
    /// The segment closed the connection (second FIN, or a RST).
    pub closed: bool,
}

/// Receives contiguous stream bytes: `(direction, stream offset, bytes, frame)`.
pub type Deliver<'a> = dyn FnMut(Direction, u64, &[u8], FrameNumber) + 'a;

/// One TCP connection.
#[derive(Clone, Debug, Default)]
pub struct TcpConn {
    /// Per-direction state, indexed by [`Direction::index`].
    pub halves: [TcpHalf; 2],
    /// The handshake.
    pub handshake: Handshake,
    streams: [StreamBuf; 2],
    /// Keep delivering bytes in each direction (set to false when no parser wants them).
    pub deliver: [bool; 2],
}

impl TcpConn {
    /// A connection about to see its first segment.
    pub fn new() -> TcpConn {
        TcpConn {
            deliver: [true, true],
            ..TcpConn::default()
        }
    }

    /// State of the sender of `dir`.
    pub fn half(&self, dir: Direction) -> &TcpHalf {
        &self.halves[dir.index()]
    }

    /// The reassembled stream of `dir`.
    pub fn stream(&self, dir: Direction) -> &StreamBuf {
        &self.streams[dir.index()]
    }

    /// True if a SYN (without ACK) from `dir`'s sender with sequence `seq` starts a new
    /// connection on this 5-tuple: a new initial sequence number, as Wireshark decides.
    pub fn is_port_reuse(&self, dir: Direction, flags: TcpFlags, seq: u32) -> bool {
        flags.syn()
            && !flags.ack()
            && self.halves[dir.index()]
                .base_seq
                .is_some_and(|b| b != SeqNumber(seq))
    }

    /// True once both sides sent FIN or either sent RST.
    pub fn is_closed(&self) -> bool {
        let [c, s] = &self.halves;
        (c.fin.is_some() && s.fin.is_some()) || c.first_rst.is_some() || s.first_rst.is_some()
    }

    /// Processes one segment. Contiguous payload bytes are passed to `deliver(dir, offset,
    /// bytes, frame)` when delivery in that direction is on.
    #[allow(clippy::too_many_arguments)] // The segment's facts plus the shared limits.
    pub fn on_segment(
        &mut self,
        frame: FrameNumber,
        ts: Timestamp,
        dir: Direction,
        ip: &IpHeader,
        tcp: &TcpHeader,
        payload: &[u8],
        limits: &StreamLimits,
        budget: &mut ReassemblyBudget,
        deliver: &mut Deliver<'_>,
    ) -> (TcpSegment, SegmentOutcome) {
        let mut outcome = SegmentOutcome::default();
        let was_closed = self.is_closed();
        let flags = tcp.flags;
        let seq = SeqNumber(tcp.seq);
        let i = dir.index();

        // Handshake bookkeeping (before the half is updated).
        if flags.syn() && !flags.ack() && self.handshake.syn_ack.is_none() {
            self.handshake.syn = Some((frame, ts));
        } else if flags.syn() && flags.ack() && dir == Direction::ClientToServer {
            self.handshake.reverse_syn_ack.get_or_insert(frame);
        } else if flags.syn() && flags.ack() {
            match self.handshake.syn_ack_isn {
                None => {
                    self.handshake.syn_ack = Some((frame, ts));
                    self.handshake.syn_ack_isn = Some(tcp.seq);
                }
                Some(isn) if isn != tcp.seq && self.handshake.conflicting_syn_ack.is_none() => {
                    self.handshake.conflicting_syn_ack = Some(frame);
                }
                Some(_) => {}
            }
        } else if flags.ack()
            && !flags.syn()
            && !flags.rst()
            && self.handshake.ack.is_none()
            && self.handshake.syn_ack.is_some()
            && dir == Direction::ClientToServer
            && self
                .handshake
                .syn_ack_isn
                .is_some_and(|isn| tcp.ack == isn.wrapping_add(1))
        {
            self.handshake.ack = Some((frame, ts));
            if let (Some((_, t_syn)), Some((_, t_sa))) =
                (self.handshake.syn, self.handshake.syn_ack)
            {
                let there = t_sa.since(t_syn);
                let back = ts.since(t_sa);
                if !there.is_negative() && !back.is_negative() {
                    let ttl_of =
                        |h: &TcpHalf| h.baseline.frames.first().map(|_| h.baseline.ttl_max);
                    let (vantage, basis) = decide_vantage(
                        ttl_of(&self.halves[0]),
                        ttl_of(&self.halves[1]),
                        there,
                        back,
                    );
                    self.handshake.syn_to_synack = Some(there);
                    self.handshake.synack_to_ack = Some(back);
                    self.handshake.vantage = Some(vantage);
                    self.handshake.vantage_basis = Some(basis);
                    self.handshake.rtt = Some(match vantage {
                        Vantage::Client => there,
                        Vantage::Server => back,
                        Vantage::Middle => Span::from_nanos(there.as_nanos() + back.as_nanos()),
                    });
                }
            }
            outcome.handshake_completed = true;
        }

        let half = &mut self.halves[i];
        if flags.syn() {
            half.syns += 1;
            if half.isn.is_none() {
                half.isn = Some(seq);
                half.window_scale = tcp.options.window_scale;
                half.mss = tcp.options.mss;
            }
        }
        if half.base_seq.is_none() {
            half.base_seq = Some(seq);
        }
        // The ACK field of a RST is not trusted (Zeek does the same): a forged RST must not move
        // what the sender is known to have acknowledged.
        if flags.ack() && !flags.rst() {
            let a = SeqNumber(tcp.ack);
            half.max_ack = Some(half.max_ack.map_or(a, |m| m.max(a)));
        } else if !flags.ack() && tcp.ack != 0 {
            half.counts.ack_field_without_flag += 1;
        }
        if flags.rst() {
            half.counts.rsts += 1;
            half.first_rst.get_or_insert(frame);
            half.baseline.freeze();
        } else {
            half.baseline.learn(
                frame,
                ip.ttl,
                ip.ip_id,
                ip.df,
                Some((tcp.window, flags.syn(), tcp.options.kinds())),
            );
        }
        if flags.fin() {
            if half.fin.is_none() {
                half.fin = Some(FinSeen {
                    frame,
                    ts,
                    seq: tcp.seq.wrapping_add(tcp.payload_len),
                });
            }
            half.baseline.freeze();
        }
        if tcp.window == 0 && !flags.rst() && !flags.syn() {
            half.counts.zero_windows += 1;
        }

        // Sequence-space classification.
        let seq_len = tcp.payload_len + u32::from(flags.syn()) + u32::from(flags.fin());
        let data_seq = if flags.syn() {
            seq.wrapping_add(1)
        } else {
            seq
        };
        let (class, advance) = if flags.rst() {
            (SeqClass::NoData, 0)
        } else {
            classify(half, seq, seq_len, tcp, ts)
        };
        match class {
            SeqClass::Retransmission | SeqClass::PartialRetransmission => {
                half.counts.retransmissions += 1
            }
            SeqClass::OutOfOrder => half.counts.out_of_order += 1,
            SeqClass::AfterGap => half.counts.gaps += 1,
            SeqClass::KeepAlive => half.counts.keepalives += 1,
            SeqClass::OutOfWindow => half.counts.out_of_window += 1,
            _ => {}
        }
        if tcp.payload_len > 0 {
            half.counts.data_segments += 1;
        }
        // Duplicate ACK: a pure ACK repeating the previous acknowledgment and window.
        if flags.ack() && seq_len == 0 && !flags.rst() {
            let key = (tcp.ack, tcp.window);
            if half.last_ack == Some(key) {
                half.counts.dup_acks += 1;
            }
            half.last_ack = Some(key);
        } else if flags.ack() {
            half.last_ack = Some((tcp.ack, tcp.window));
        }
        let rel_base = half.isn.or(half.base_seq).unwrap_or(seq);
        let rel_seq = seq.0.wrapping_sub(rel_base.0);

        // Stream reassembly.
        if flags.syn() {
            self.streams[i].set_base(seq.wrapping_add(1));
        }
        if !payload.is_empty() && !flags.rst() && class != SeqClass::OutOfWindow && self.deliver[i]
        {
            let on = &mut *deliver;
            let add = self.streams[i].add(
                data_seq,
                payload,
                frame,
                limits,
                budget,
                |off, bytes, fr| on(dir, off, bytes, fr),
            );
            if add.conflict.is_some() {
                self.halves[i].counts.overlap_conflicts += 1;
                outcome.conflict = add.conflict;
            }
            outcome.prefix_full = add.prefix_full;
        }
        outcome.closed = !was_closed && self.is_closed();
        (
            TcpSegment {
                seq: tcp.seq,
                ack: tcp.ack,
                rel_seq,
                flags,
                window: tcp.window,
                payload_len: tcp.payload_len,
                class,
                advance,
                sack: tcp.options.sack,
                timestamps: tcp.options.timestamps,
            },
            outcome,
        )
    }

    /// Stops delivering bytes in `dir` and frees its buffers.
    pub fn stop_delivery(&mut self, dir: Direction, budget: &mut ReassemblyBudget) {
        self.deliver[dir.index()] = false;
        self.streams[dir.index()].release(budget);
    }

    /// Frees all buffers (the flow is over).
    pub fn release(&mut self, budget: &mut ReassemblyBudget) {
        for s in &mut self.streams {
            s.release(budget);
        }
    }
}

/// Decides where a capture was taken from the handshake: by TTL when exactly one side's packets
/// carry an initial TTL (sent from the capturing host, not routed yet), else by timing (the leg
/// that crossed the network is more than four times the other).
pub fn decide_vantage(
    client_ttl: Option<u8>,
    server_ttl: Option<u8>,
    syn_to_synack: Span,
    synack_to_ack: Span,
) -> (Vantage, VantageBasis) {
    let initial = |t: Option<u8>| t.is_some_and(|t| INITIAL_TTLS.contains(&t));
    match (initial(client_ttl), initial(server_ttl)) {
        (true, false) => (Vantage::Client, VantageBasis::Ttl),
        (false, true) => (Vantage::Server, VantageBasis::Ttl),
        _ => {
            let there = syn_to_synack.as_nanos();
            let back = synack_to_ack.as_nanos();
            let v = if there > 4 * back {
                Vantage::Client
            } else if back > 4 * there {
                Vantage::Server
            } else {
                Vantage::Middle
            };
            (v, VantageBasis::Timing)
        }
    }
}

/// Classifies a segment in its sender's sequence space and updates the highest sequence.
fn classify(
    half: &mut TcpHalf,
    seq: SeqNumber,
    seq_len: u32,
    tcp: &TcpHeader,
    ts: Timestamp,
) -> (SeqClass, i64) {
    let Some(next) = half.next_seq else {
        half.next_seq = Some(seq.wrapping_add(seq_len));
        return (
            if seq_len == 0 {
                SeqClass::NoData
            } else {
                SeqClass::First
            },
            i64::from(seq_len),
        );
    };
    let start = seq.diff(next);
    let end = start + i64::from(seq_len);
    if start.abs() > MAX_SEQ_ADVANCE {
        return (SeqClass::OutOfWindow, end);
    }
    if seq_len == 0 {
        return (SeqClass::NoData, end);
    }
    if tcp.payload_len <= 1 && start == -1 && !tcp.flags.syn() && !tcp.flags.fin() {
        return (SeqClass::KeepAlive, end);
    }
    if start == 0 {
        half.next_seq = Some(seq.wrapping_add(seq_len));
        return (SeqClass::InOrder, end);
    }
    if start > 0 {
        if half.holes.len() < MAX_HOLES {
            half.holes.push((next, seq, ts));
        }
        half.next_seq = Some(seq.wrapping_add(seq_len));
        return (SeqClass::AfterGap, end);
    }
    // Starts before the highest sequence: a retransmission, reordering, or both.
    let seg_end = seq.wrapping_add(seq_len);
    let mut filled_recent = false;
    let mut filled_any = false;
    half.holes.retain_mut(|(h_start, h_end, h_ts)| {
        let overlaps = seq.diff(*h_end) < 0 && seg_end.diff(*h_start) > 0;
        if !overlaps {
            return true;
        }
        filled_any = true;
        if ts.since(*h_ts) <= REORDER_WINDOW {
            filled_recent = true;
        }
        // Shrink or drop the hole.
        if seq.diff(*h_start) <= 0 && seg_end.diff(*h_end) >= 0 {
            false
        } else {
            if seq.diff(*h_start) <= 0 {
                *h_start = seg_end;
            } else {
                *h_end = seq;
            }
            true
        }
    });
    if end > 0 {
        half.next_seq = Some(seg_end);
        return (SeqClass::PartialRetransmission, end);
    }
    if filled_any && filled_recent {
        (SeqClass::OutOfOrder, end)
    } else {
        (SeqClass::Retransmission, end)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::{IpVersion, TcpOptions};

    fn ip() -> IpHeader {
        IpHeader {
            version: IpVersion::V4,
            src: "10.0.0.1".parse().unwrap(),
            dst: "10.0.0.2".parse().unwrap(),
            ttl: 64,
            ip_id: Some(1),
            df: true,
            tos: 0,
            protocol: 6,
            fragment: None,
            payload_len: 0,
            payload_cut: false,
        }
    }

    fn tcp(seq: u32, ack: u32, flags: TcpFlags, len: u32) -> TcpHeader {
        TcpHeader {
            src_port: 1,
            dst_port: 2,
            seq,
            ack,
            flags,
            window: 1000,
            urgent: 0,
            header_len: 20,
            options: TcpOptions::default(),
            payload_len: len,
        }
    }

    struct Run {
        conn: TcpConn,
        budget: ReassemblyBudget,
        n: u64,
        got: [Vec<u8>; 2],
    }

    impl Run {
        fn new() -> Run {
            Run {
                conn: TcpConn::new(),
                budget: ReassemblyBudget::new(1 << 20),
                n: 0,
                got: Default::default(),
            }
        }
        fn seg(
            &mut self,
            ms: i64,
            dir: Direction,
            seq: u32,
            ack: u32,
            flags: TcpFlags,
            data: &[u8],
        ) -> (TcpSegment, SegmentOutcome) {
            self.n += 1;
            let got = &mut self.got;
            self.conn.on_segment(
                FrameNumber::new(self.n).unwrap(),
                Timestamp::from_nanos(ms * 1_000_000),
                dir,
                &ip(),
                &tcp(seq, ack, flags, data.len() as u32),
                data,
                &StreamLimits::default(),
                &mut self.budget,
                &mut |d, _off, b, _f| got[d.index()].extend_from_slice(b),
            )
        }
    }

    const C: Direction = Direction::ClientToServer;
    const S: Direction = Direction::ServerToClient;

    #[test]
    fn handshake_rtt_and_vantage() {
        let mut r = Run::new();
        r.seg(0, C, 1000, 0, TcpFlags::SYN, b"");
        r.seg(180, S, 5000, 1001, TcpFlags::SYN | TcpFlags::ACK, b"");
        let (_, o) = r.seg(181, C, 1001, 5001, TcpFlags::ACK, b"");
        assert!(o.handshake_completed);
        // Both sides carry TTL 64 in this test, so the timing decides: the SYN-ACK took 180 ms.
        assert_eq!(r.conn.handshake.rtt, Some(Span::from_millis(180)));
        assert_eq!(r.conn.handshake.vantage_basis, Some(VantageBasis::Timing));
        assert_eq!(r.conn.handshake.vantage, Some(Vantage::Client));
        let (s, _) = r.seg(182, C, 1001, 5001, TcpFlags::ACK | TcpFlags::PSH, b"GET /");
        assert_eq!((s.class, s.rel_seq), (SeqClass::InOrder, 1));
        assert_eq!(r.got[0], b"GET /");
    }

    #[test]
    fn vantage_by_ttl_beats_a_slow_local_ack() {
        // CenTrace-like prober: the client's own ACK comes 1.5 s after the SYN-ACK.
        let ms = Span::from_millis;
        assert_eq!(
            decide_vantage(Some(64), Some(228), ms(244), ms(1500)),
            (Vantage::Client, VantageBasis::Ttl)
        );
        assert_eq!(
            decide_vantage(Some(50), Some(64), ms(1), ms(160)),
            (Vantage::Server, VantageBasis::Ttl)
        );
        assert_eq!(
            decide_vantage(Some(62), Some(49), ms(1266), ms(2)),
            (Vantage::Client, VantageBasis::Timing)
        );
        assert_eq!(
            decide_vantage(Some(60), Some(50), ms(30), ms(40)),
            (Vantage::Middle, VantageBasis::Timing)
        );
    }

    #[test]
    fn retransmission_reordering_keepalive_gap() {
        let mut r = Run::new();
        r.seg(0, C, 100, 0, TcpFlags::SYN, b"");
        r.seg(10, C, 101, 0, TcpFlags::ACK, b"aaaa");
        let (s, _) = r.seg(20, C, 109, 0, TcpFlags::ACK, b"cccc");
        assert_eq!(s.class, SeqClass::AfterGap);
        let (s, _) = r.seg(21, C, 105, 0, TcpFlags::ACK, b"bbbb");
        assert_eq!(s.class, SeqClass::OutOfOrder);
        let (s, _) = r.seg(400, C, 101, 0, TcpFlags::ACK, b"aaaa");
        assert_eq!(s.class, SeqClass::Retransmission);
        let (s, _) = r.seg(500, C, 112, 0, TcpFlags::ACK, b"");
        assert_eq!(s.class, SeqClass::NoData);
        let (s, _) = r.seg(600, C, 112, 0, TcpFlags::ACK, b"x");
        assert_eq!(s.class, SeqClass::KeepAlive);
        let (s, _) = r.seg(700, C, 0x9000_0000, 0, TcpFlags::ACK, b"zz");
        assert_eq!(s.class, SeqClass::OutOfWindow);
        assert_eq!(r.got[0], b"aaaabbbbcccc");
        let c = r.conn.half(C).counts;
        assert_eq!(
            (
                c.retransmissions,
                c.out_of_order,
                c.gaps,
                c.keepalives,
                c.out_of_window
            ),
            (1, 1, 1, 1, 1)
        );
    }

    #[test]
    fn late_hole_fill_is_a_retransmission() {
        let mut r = Run::new();
        r.seg(0, S, 1, 0, TcpFlags::ACK, b"1111");
        r.seg(1, S, 9, 0, TcpFlags::ACK, b"3333");
        let (s, _) = r.seg(300, S, 5, 0, TcpFlags::ACK, b"2222");
        assert_eq!(s.class, SeqClass::Retransmission);
        assert_eq!(r.got[1], b"111122223333");
    }

    #[test]
    fn close_and_port_reuse() {
        let mut r = Run::new();
        r.seg(0, C, 100, 0, TcpFlags::SYN, b"");
        assert!(!r.conn.is_port_reuse(C, TcpFlags::SYN, 100));
        assert!(r.conn.is_port_reuse(C, TcpFlags::SYN, 7777));
        r.seg(1, C, 101, 0, TcpFlags::FIN | TcpFlags::ACK, b"");
        assert!(!r.conn.is_closed());
        let (_, o) = r.seg(2, S, 9, 0, TcpFlags::FIN | TcpFlags::ACK, b"");
        assert!(o.closed);
        assert!(r.conn.is_closed());
    }

    #[test]
    fn conflicting_retransmission_and_conflicting_syn_ack() {
        let mut r = Run::new();
        r.seg(0, C, 100, 0, TcpFlags::SYN, b"");
        r.seg(1, S, 500, 101, TcpFlags::SYN | TcpFlags::ACK, b"");
        r.seg(2, S, 9999, 101, TcpFlags::SYN | TcpFlags::ACK, b"");
        assert_eq!(r.conn.handshake.conflicting_syn_ack, FrameNumber::new(3));
        r.seg(3, S, 501, 101, TcpFlags::ACK, b"HTTP/1.1 200 OK");
        let (_, o) = r.seg(4, S, 501, 101, TcpFlags::ACK, b"HTTP/1.1 403 No");
        assert!(o.conflict.is_some());
        assert_eq!(r.conn.half(S).counts.overlap_conflicts, 1);
        // The first copy wins.
        assert_eq!(r.got[1], b"HTTP/1.1 200 OK");
    }

    #[test]
    fn rst_freezes_baseline_and_ack_without_flag_counted() {
        let mut r = Run::new();
        r.seg(0, S, 1, 0, TcpFlags::ACK, b"");
        let before = r.conn.half(S).baseline.frames.len();
        r.seg(1, S, 1, 77, TcpFlags::RST, b"");
        assert_eq!(r.conn.half(S).baseline.frames.len(), before);
        assert_eq!(r.conn.half(S).counts.ack_field_without_flag, 1);
        assert_eq!(r.conn.half(S).first_rst, FrameNumber::new(2));
    }
}
