//! Builds the compact, bounded record of one direction of one TCP flow segment that the
//! throttling checks read: every transmission with its fate (passed, lost, spurious), the
//! acknowledgment that covered it, and RTT samples; it reads packet facts handed to it by the
//! detector, never bytes, and judges nothing.
//!
//! # Losses
//!
//! - **Capture at or before the bottleneck (sender side).** A segment that repeats bytes sent
//!   before marks the most recent earlier transmission carrying its first byte as repeated
//!   (PD's `find_previous_tx`). The repeated transmission is *lost* unless it was spurious:
//!   an acknowledgment (cumulative or SACK) already covered it when the repeat was seen, or a
//!   D-SACK (RFC 2883: a SACK block below the cumulative acknowledgment) later reported its
//!   bytes as received twice. A segment that reaches past the highest byte sent so far is new
//!   data, even if it also repeats some (PD does the same).
//! - **Capture after the bottleneck (receiver side).** A lost segment never shows; the segment
//!   after it arrives with a sequence hole before it. The hole is recorded at once, split into
//!   segment-sized placeholders, and resolved when bytes fill it: filled within tamper's
//!   reordering window ([`SeqClass::OutOfOrder`], 3 ms) it was reordering and the placeholders
//!   vanish; filled later it was lost. The filling segment is itself a transmission that
//!   passed. Each placeholder is timed at the *previous* arrival, not at the segment that
//!   revealed the hole, nor at the one that filled it: a policer drops the tail of a flight
//!   once its bucket is empty, and the next segment to arrive usually belongs to the next
//!   flight, up to a round trip later, when the bucket has refilled (timing the loss there, or
//!   at the retransmission that passed the policer later still, puts tokens in the bucket at
//!   every loss: in the simulated transfers of `tests/policing.rs`, timing losses at the
//!   revealing segment narrowed the gap between the median tokens at passes and at losses by
//!   about 0.85 RTT's worth of data, and PD's pass check failed). Caveats: a drop at the
//!   start of a flight is timed too early; a retransmission dropped again is invisible (the
//!   hole counts once); a hole never filled (capture loss, end of capture) is not a loss. A
//!   hole wider than [`MAX_GAP_UNITS`] segments is taken as a capture gap and ignored.
//!
//! [`SeqClass::OutOfOrder`]: crate::proto::tcp::SeqClass::OutOfOrder
//!
//! # RTT samples
//!
//! - **Acknowledgment samples** (PD): the time from a transmission to the first
//!   acknowledgment covering it, cumulatively or by a SACK block. Karn's rule: no sample from a
//!   transmission that was repeated or that repeats another. Meaningful where the capture is
//!   at the sender, where the acknowledgment has crossed the path.
//! - **Echo samples** (for captures at the receiver, RFC 7323 §4 as Linux's
//!   `tcp_rcv_rtt_measure_ts` uses it): the receiver's acknowledgment carrying timestamp value
//!   V leaves the capture point; the first data segment echoing V arrives one round trip
//!   later. The sample is attached to the transmission that carried the echo.
//!
//! The detector chooses between the two from the vantage point.
//!
//! # Bounds
//!
//! At most [`MAX_TXS`] transmissions per direction and segment (16,384 segments, about 23 MB
//! at a 1448-byte MSS; the heuristic only needs losses from the first 2 MB on); after that the
//! record stops growing and says so ([`SegmentRecord::full`]). A direction that shows no loss
//! and has every byte of its first [`LATE_LOSS_THRESHOLD`] acknowledged is abandoned: nothing
//! later can make PD call it policed. A shared [`Budget`] caps transmissions across all flows.
//! At most [`MAX_UNACKED`] transmissions wait for an acknowledgment, [`MAX_TSVALS`] receiver
//! timestamps wait for their echo, and a hole is split into at most [`MAX_GAP_UNITS`]
//! placeholders.

use std::collections::{BTreeMap, VecDeque};

use super::policing::{Tx, LATE_LOSS_THRESHOLD};
use crate::ids::FrameNumber;
use crate::proto::tcp::seq::SeqNumber;
use crate::time::{Span, Timestamp};

/// Transmissions kept per direction and segment.
pub const MAX_TXS: usize = 16_384;
/// Transmissions waiting for an acknowledgment at once (more get no acknowledgment sample).
pub const MAX_UNACKED: usize = 4096;
/// Receiver timestamp values waiting for their echo.
pub const MAX_TSVALS: usize = 64;
/// A hole wider than this many segments is a capture gap, not a policer's drop.
pub const MAX_GAP_UNITS: u64 = 256;
/// Segment size assumed for splitting a hole when no full-sized segment was seen yet.
const DEFAULT_UNIT: u32 = 1448;

/// Transmissions that all records of one capture may hold together.
#[derive(Clone, Copy, Debug)]
pub struct Budget {
    /// Transmissions held now.
    pub used: usize,
    /// The cap.
    pub max: usize,
    /// A record was refused room at least once.
    pub exhausted: bool,
}

impl Budget {
    /// A budget of `max` transmissions.
    pub fn new(max: usize) -> Budget {
        Budget {
            used: 0,
            max,
            exhausted: false,
        }
    }

    fn take(&mut self) -> bool {
        if self.used < self.max {
            self.used += 1;
            true
        } else {
            self.exhausted = true;
            false
        }
    }

    fn give_back(&mut self, n: usize) {
        self.used = self.used.saturating_sub(n);
    }
}

/// What became of a transmission.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fate {
    /// Seen on the wire.
    Sent,
    /// A placeholder for bytes missing at the receiver, not resolved yet.
    HolePending,
    /// A placeholder for bytes that were missing and came back later: lost.
    HoleLost,
    /// A placeholder for bytes that came back within the reordering window: not a loss.
    HoleReordered,
}

/// One transmission (or placeholder) of the direction.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Transmission {
    /// When it was seen (placeholders: when the hole appeared).
    pub ts: Timestamp,
    /// The frame that carried it (placeholders: the frame that revealed the hole).
    pub frame: FrameNumber,
    /// Offset of its first byte from the start of the segment's data.
    pub seq: u64,
    /// Length in bytes.
    pub len: u32,
    /// What became of it.
    pub fate: Fate,
    /// The transmission whose bytes this one repeats.
    pub repeat_of: Option<u32>,
    /// Its bytes were sent again later.
    pub repeated: bool,
    /// It was repeated although it had arrived (acknowledged before the repeat, or D-SACK).
    pub spurious: bool,
    /// The first acknowledgment covering it.
    pub acked: Option<(Timestamp, FrameNumber)>,
    /// An echo RTT sample completed by this transmission.
    pub echo_rtt: Option<Span>,
}

impl Transmission {
    fn end(&self) -> u64 {
        self.seq.saturating_add(u64::from(self.len))
    }

    /// Lost: repeated and not spurious, or a hole filled late.
    pub fn lost(&self) -> bool {
        match self.fate {
            Fate::Sent => self.repeated && !self.spurious,
            Fate::HoleLost => true,
            Fate::HolePending | Fate::HoleReordered => false,
        }
    }

    /// The transmission takes part in the analysis (unresolved and reordering placeholders
    /// do not).
    pub fn counts(&self) -> bool {
        matches!(self.fate, Fate::Sent | Fate::HoleLost)
    }

    /// The acknowledgment RTT sample, by Karn's rule.
    pub fn ack_rtt(&self) -> Option<Span> {
        if self.fate != Fate::Sent || self.repeated || self.repeat_of.is_some() {
            return None;
        }
        self.acked.map(|(t, _)| t.since(self.ts))
    }
}

/// Whether the record still grows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RecordState {
    /// Recording.
    Recording,
    /// [`MAX_TXS`] or the shared budget reached: later data is not recorded.
    Full,
    /// No loss in the first [`LATE_LOSS_THRESHOLD`] bytes, all of them acknowledged: the
    /// transmissions were dropped.
    Abandoned,
}

/// What a data segment did to the record.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DataEffect {
    /// Transmissions newly found lost.
    pub losses: u32,
    /// The time of the last of them (for the series).
    pub loss_ts: Option<Timestamp>,
}

/// The record of one direction of one flow segment.
#[derive(Clone, Debug)]
pub struct SegmentRecord {
    txs: Vec<Transmission>,
    /// Transmissions of new data and hole placeholders, in sequence order (start, index).
    fresh: Vec<(u64, u32)>,
    /// Repeats: the latest transmission starting at each offset.
    repeats: BTreeMap<u64, u32>,
    unacked: VecDeque<u32>,
    /// (sequence number, offset) of the highest byte end seen: the unwrapping reference.
    anchor: (u32, u64),
    hi: u64,
    cum_ack: Option<u64>,
    /// Time of the sender's first packet in the segment.
    pub first_packet: Option<Timestamp>,
    /// Whether the record still grows.
    pub state: RecordState,
    unit: u32,
    tsvals: VecDeque<(u32, Timestamp)>,
    pending_holes: usize,
    losses: usize,
    /// Holes ignored as capture gaps.
    pub gaps_ignored: u32,
    /// Transmissions not recorded because the record was full.
    pub unrecorded: u64,
}

impl SegmentRecord {
    /// A record whose data starts at sequence number `base`.
    pub fn new(base: u32) -> SegmentRecord {
        SegmentRecord {
            txs: Vec::new(),
            fresh: Vec::new(),
            repeats: BTreeMap::new(),
            unacked: VecDeque::new(),
            anchor: (base, 0),
            hi: 0,
            cum_ack: None,
            first_packet: None,
            state: RecordState::Recording,
            unit: 0,
            tsvals: VecDeque::new(),
            pending_holes: 0,
            losses: 0,
            gaps_ignored: 0,
            unrecorded: 0,
        }
    }

    /// The transmissions, in capture order.
    pub fn transmissions(&self) -> &[Transmission] {
        &self.txs
    }

    /// Bytes of sequence space covered so far.
    pub fn bytes(&self) -> u64 {
        self.hi
    }

    /// The highest byte end as a sequence number (where the next segment record starts).
    pub fn next_seq(&self) -> u32 {
        self.anchor.0
    }

    /// The record stopped growing at its cap.
    pub fn full(&self) -> bool {
        self.state == RecordState::Full
    }

    /// Offset of `seq` from the start, if it is not before it.
    fn offset(&self, seq: u32) -> Option<u64> {
        let d = SeqNumber(seq).diff(SeqNumber(self.anchor.0));
        let rel = i64::try_from(self.anchor.1).ok()?.checked_add(d)?;
        u64::try_from(rel).ok()
    }

    /// Frees the memory and returns the budget (the record is done).
    pub fn release(&mut self, budget: &mut Budget) {
        budget.give_back(self.txs.len());
        self.txs = Vec::new();
        self.fresh = Vec::new();
        self.repeats = BTreeMap::new();
        self.unacked = VecDeque::new();
        self.tsvals = VecDeque::new();
    }

    /// A timestamp value the receiver sent (on any of its segments) at `ts`.
    pub fn receiver_tsval(&mut self, tsval: u32, ts: Timestamp) {
        // Only the first segment with each value starts a sample (values only grow, so
        // comparing with the last one is enough; an older value seen again is harmless, the
        // echo matches its first occurrence).
        if self.tsvals.back().is_some_and(|&(v, _)| v == tsval) {
            return;
        }
        if self.tsvals.len() >= MAX_TSVALS {
            self.tsvals.pop_front();
        }
        self.tsvals.push_back((tsval, ts));
    }

    /// An acknowledgment from the receiver: cumulative `ack` and SACK `blocks`, at `ts` in
    /// `frame`. Returns the bytes by which the cumulative acknowledgment moved.
    pub fn on_ack(
        &mut self,
        ts: Timestamp,
        frame: FrameNumber,
        ack: u32,
        blocks: &[(u32, u32)],
    ) -> u64 {
        let Some(rel_ack) = self.offset(ack) else {
            return 0;
        };
        // Acknowledgments beyond anything sent are not trusted past the data seen.
        let rel_ack = rel_ack.min(self.hi);
        let before = self.cum_ack.unwrap_or(0);
        let advanced = self.cum_ack.is_none_or(|c| rel_ack > c);
        if advanced {
            self.cum_ack = Some(rel_ack);
        }
        let mut sacks = [(0u64, 0u64); 4];
        let mut n = 0;
        for &(s, e) in blocks.iter().take(4) {
            if let (Some(s), Some(e)) = (self.offset(s), self.offset(e)) {
                if s < e {
                    sacks[n] = (s, e);
                    n += 1;
                }
            }
        }
        let sacks = &sacks[..n];
        if advanced || !sacks.is_empty() {
            let cum = self.cum_ack.unwrap_or(0);
            let txs = &mut self.txs;
            let pending = &mut self.pending_holes;
            let mut settle = |i: u32| -> bool {
                let Some(t) = txs.get_mut(i as usize) else {
                    return true;
                };
                let covered = t.end() <= cum
                    || (t.fate == Fate::Sent
                        && sacks.iter().any(|&(s, e)| s <= t.seq && t.end() <= e));
                if covered {
                    t.acked.get_or_insert((ts, frame));
                    if t.fate == Fate::HolePending {
                        // Acknowledged without ever showing here: the capture missed it.
                        t.fate = Fate::HoleReordered;
                        *pending = pending.saturating_sub(1);
                    }
                }
                covered
            };
            if sacks.is_empty() {
                // A cumulative acknowledgment alone: new data waits in sequence order from the
                // front, repeats are appended at the back; settle both ends (the common case,
                // without scanning the whole window on every acknowledgment).
                while self.unacked.front().is_some_and(|&i| settle(i)) {
                    self.unacked.pop_front();
                }
                while self.unacked.back().is_some_and(|&i| settle(i)) {
                    self.unacked.pop_back();
                }
            } else {
                self.unacked.retain(|&i| !settle(i));
            }
        }
        // D-SACK: a block at or below the cumulative acknowledgment reports bytes received
        // twice; the transmission that was repeated was spurious.
        for &(s, e) in sacks {
            if s < rel_ack && e <= rel_ack {
                self.dsack(s, e);
            }
        }
        if advanced {
            rel_ack.saturating_sub(before)
        } else {
            0
        }
    }

    fn dsack(&mut self, s: u64, e: u64) {
        let mut cur = self.lookup(s);
        // Walk from the latest transmission of these bytes to older ones.
        let mut steps = 0;
        while let Some(i) = cur {
            let Some(t) = self.txs.get_mut(i as usize) else {
                return;
            };
            if t.fate == Fate::Sent && t.repeated && t.seq <= s && e <= t.end() {
                if !t.spurious {
                    t.spurious = true;
                    self.losses = self.losses.saturating_sub(1);
                }
                return;
            }
            cur = t.repeat_of;
            steps += 1;
            if steps > 16 {
                return;
            }
        }
    }

    /// The most recent transmission carrying byte `at`.
    fn lookup(&self, at: u64) -> Option<u32> {
        let carries = |i: u32| {
            self.txs
                .get(i as usize)
                .is_some_and(|t| t.seq <= at && at < t.end())
        };
        let k = self.fresh.partition_point(|&(s, _)| s <= at);
        let first = k
            .checked_sub(1)
            .and_then(|j| self.fresh.get(j))
            .map(|&(_, i)| i)
            .filter(|&i| carries(i));
        let repeat = self
            .repeats
            .range(..=at)
            .next_back()
            .map(|(_, &i)| i)
            .filter(|&i| carries(i));
        first.max(repeat)
    }

    /// Records a transmission; `fresh` for new data and hole placeholders (kept in sequence
    /// order without a map), false for repeats.
    fn push(&mut self, t: Transmission, fresh: bool, budget: &mut Budget) -> Option<u32> {
        if self.state != RecordState::Recording {
            self.unrecorded += 1;
            return None;
        }
        if self.txs.len() >= MAX_TXS || !budget.take() {
            self.state = RecordState::Full;
            self.unrecorded += 1;
            return None;
        }
        let i = u32::try_from(self.txs.len()).ok()?;
        if fresh && self.fresh.last().is_none_or(|&(s, _)| s < t.seq) {
            self.fresh.push((t.seq, i));
        } else {
            self.repeats.insert(t.seq, i);
        }
        if self.unacked.len() < MAX_UNACKED {
            self.unacked.push_back(i);
        }
        self.txs.push(t);
        Some(i)
    }

    /// A data segment from the sender: `len` bytes at `seq`, seen at `ts` in `frame`;
    /// `reordered` when the connection tracker classified it as filling a hole within its
    /// reordering window; `mss` is the receiver's advertised MSS (segments larger than it were
    /// offloaded and are split); `tsecr` the timestamp echo it carried.
    #[allow(clippy::too_many_arguments)] // The segment's facts.
    pub fn on_data(
        &mut self,
        ts: Timestamp,
        frame: FrameNumber,
        seq: u32,
        len: u32,
        reordered: bool,
        mss: Option<u16>,
        tsecr: Option<u32>,
        budget: &mut Budget,
    ) -> DataEffect {
        let mut effect = DataEffect::default();
        if len == 0 || self.state == RecordState::Abandoned {
            return effect;
        }
        let Some(start) = self.offset(seq) else {
            return effect;
        };
        let mss = mss.map(u32::from).filter(|&m| m > 0);
        let unit = match mss {
            Some(m) if len <= m => {
                self.unit = self.unit.max(len);
                len
            }
            Some(m) => {
                if self.unit > 0 {
                    self.unit
                } else {
                    m
                }
            }
            None => len,
        };
        let mut echo = tsecr.and_then(|e| self.take_echo(e, ts));
        let mut off = 0u32;
        while off < len {
            let n = unit.min(len - off).max(1);
            let s = start.saturating_add(u64::from(off));
            let e = s.saturating_add(u64::from(n));
            if e <= self.hi {
                self.repeat(ts, frame, s, n, reordered, budget, &mut effect);
            } else {
                if s > self.hi {
                    self.hole(ts, frame, self.hi, s, budget);
                }
                let rtt = echo.take();
                self.push(
                    Transmission {
                        ts,
                        frame,
                        seq: s,
                        len: n,
                        fate: Fate::Sent,
                        repeat_of: None,
                        repeated: false,
                        spurious: false,
                        acked: None,
                        echo_rtt: rtt,
                    },
                    true,
                    budget,
                );
                self.hi = e;
                self.anchor = (seq.wrapping_add(off).wrapping_add(n), e);
            }
            off += n;
        }
        self.maybe_abandon(budget);
        effect
    }

    fn take_echo(&mut self, tsecr: u32, ts: Timestamp) -> Option<Span> {
        let pos = self.tsvals.iter().position(|&(v, _)| v == tsecr)?;
        let sent = self.tsvals.get(pos)?.1;
        self.tsvals.drain(..=pos);
        let rtt = ts.since(sent);
        (!rtt.is_negative()).then_some(rtt)
    }

    #[allow(clippy::too_many_arguments)] // One unit of a segment and its context.
    fn repeat(
        &mut self,
        ts: Timestamp,
        frame: FrameNumber,
        s: u64,
        n: u32,
        reordered: bool,
        budget: &mut Budget,
        effect: &mut DataEffect,
    ) {
        let prev = self.lookup(s);
        if let Some(i) = prev {
            if let Some(t) = self.txs.get_mut(i as usize) {
                match t.fate {
                    Fate::Sent => {
                        if !t.repeated {
                            t.repeated = true;
                            if t.acked.is_some() {
                                t.spurious = true;
                            } else {
                                self.losses += 1;
                                effect.losses += 1;
                                effect.loss_ts = Some(t.ts);
                            }
                        }
                    }
                    Fate::HolePending => {
                        self.pending_holes = self.pending_holes.saturating_sub(1);
                        if reordered {
                            t.fate = Fate::HoleReordered;
                        } else {
                            t.fate = Fate::HoleLost;
                            self.losses += 1;
                            effect.losses += 1;
                            effect.loss_ts = Some(t.ts);
                        }
                    }
                    Fate::HoleLost | Fate::HoleReordered => {}
                }
            }
        }
        // A segment filling a hole in time is not a retransmission: it stands in for the
        // placeholder and is not flagged as repeating anything.
        let repeat_of = match prev.and_then(|i| self.txs.get(i as usize)) {
            Some(t) if t.fate == Fate::HoleReordered => None,
            _ => prev,
        };
        self.push(
            Transmission {
                ts,
                frame,
                seq: s,
                len: n,
                fate: Fate::Sent,
                repeat_of,
                repeated: false,
                spurious: false,
                acked: None,
                echo_rtt: None,
            },
            false,
            budget,
        );
    }

    fn hole(&mut self, ts: Timestamp, frame: FrameNumber, from: u64, to: u64, budget: &mut Budget) {
        let unit = u64::from(if self.unit > 0 {
            self.unit
        } else {
            DEFAULT_UNIT
        });
        let width = to - from;
        if width.div_ceil(unit) > MAX_GAP_UNITS {
            self.gaps_ignored += 1;
            return;
        }
        // The bytes went missing after the previous segment arrived: time the loss there.
        let ts = self.txs.last().map_or(ts, |t| t.ts.min(ts));
        let mut s = from;
        while s < to {
            let n = unit.min(to - s);
            let pushed = self.push(
                Transmission {
                    ts,
                    frame,
                    seq: s,
                    len: u32::try_from(n).unwrap_or(u32::MAX),
                    fate: Fate::HolePending,
                    repeat_of: None,
                    repeated: false,
                    spurious: false,
                    acked: None,
                    echo_rtt: None,
                },
                true,
                budget,
            );
            if pushed.is_some() {
                self.pending_holes += 1;
            }
            s += n;
        }
    }

    fn maybe_abandon(&mut self, budget: &mut Budget) {
        if self.state == RecordState::Recording
            && self.losses == 0
            && self.pending_holes == 0
            && self.hi > LATE_LOSS_THRESHOLD
            && self.cum_ack.is_some_and(|c| c > LATE_LOSS_THRESHOLD)
        {
            self.release(budget);
            self.state = RecordState::Abandoned;
        }
    }

    /// The transmissions as the policing heuristic reads them, with RTT samples from
    /// acknowledgments (`echo` false) or from timestamp echoes (`echo` true).
    pub fn policing_input(&self, echo: bool) -> Vec<Tx> {
        self.txs
            .iter()
            .filter(|t| t.counts())
            .map(|t| Tx {
                ts: t.ts,
                frame: t.frame,
                seq: t.seq,
                len: t.len,
                repeated: t.repeated || t.fate == Fate::HoleLost,
                lost: t.lost(),
                rtt: if t.lost() {
                    None
                } else if echo {
                    t.echo_rtt
                } else {
                    t.ack_rtt()
                },
                acked_by: t.acked.map(|(_, f)| f),
            })
            .collect()
    }

    /// Acknowledgment and echo RTT samples (count and median), to choose between them.
    pub fn rtt_medians(&self) -> [(usize, Option<Span>); 2] {
        let mut ack: Vec<i64> = self
            .txs
            .iter()
            .filter_map(|t| t.ack_rtt().map(Span::as_nanos))
            .collect();
        let mut echo: Vec<i64> = self
            .txs
            .iter()
            .filter_map(|t| t.echo_rtt.map(Span::as_nanos))
            .collect();
        [median_of(&mut ack), median_of(&mut echo)]
    }
}

fn median_of(v: &mut [i64]) -> (usize, Option<Span>) {
    v.sort_unstable();
    (v.len(), v.get(v.len() / 2).map(|&x| Span::from_nanos(x)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(n: u64) -> FrameNumber {
        FrameNumber::new(n).unwrap()
    }

    fn t(ms: i64) -> Timestamp {
        Timestamp::from_nanos(ms * 1_000_000)
    }

    const BASE: u32 = u32::MAX - 3000; // wraps inside the test

    fn data(r: &mut SegmentRecord, b: &mut Budget, ms: i64, n: u64, k: u32) -> DataEffect {
        r.on_data(
            t(ms),
            f(n),
            BASE.wrapping_add(k * 1000),
            1000,
            false,
            Some(1000),
            None,
            b,
        )
    }

    #[test]
    fn sender_side_retransmission_marks_the_original_lost() {
        let mut b = Budget::new(1000);
        let mut r = SegmentRecord::new(BASE);
        for k in 0..5 {
            data(&mut r, &mut b, i64::from(k), u64::from(k) + 1, k);
        }
        // ACK for the first two segments, SACK for 3..5: segment 2 missing.
        let sack = [(BASE.wrapping_add(3000), BASE.wrapping_add(5000))];
        r.on_ack(t(100), f(10), BASE.wrapping_add(2000), &sack);
        let e = data(&mut r, &mut b, 101, 11, 2);
        assert_eq!(e.losses, 1);
        assert_eq!(e.loss_ts, Some(t(2)));
        r.on_ack(t(200), f(12), BASE.wrapping_add(5000), &[]);
        let txs = r.transmissions();
        assert_eq!(txs.len(), 6);
        assert!(txs[2].lost());
        assert_eq!(txs[0].ack_rtt(), Some(Span::from_millis(100)));
        assert_eq!(txs[3].ack_rtt(), Some(Span::from_millis(97)));
        assert_eq!(txs[2].ack_rtt(), None, "Karn: repeated");
        assert_eq!(txs[5].ack_rtt(), None, "Karn: a repeat");
        assert_eq!(txs[5].repeat_of, Some(2));
        let input = r.policing_input(false);
        assert_eq!(input.iter().filter(|x| x.lost).count(), 1);
        assert_eq!(input[2].acked_by, Some(f(12)));
        assert_eq!(b.used, 6);
        r.release(&mut b);
        assert_eq!(b.used, 0);
    }

    #[test]
    fn spurious_retransmissions_are_not_losses() {
        let mut b = Budget::new(1000);
        let mut r = SegmentRecord::new(BASE);
        for k in 0..3 {
            data(&mut r, &mut b, 0, u64::from(k) + 1, k);
        }
        // Already acknowledged, then repeated: spurious.
        r.on_ack(t(50), f(4), BASE.wrapping_add(1000), &[]);
        assert_eq!(data(&mut r, &mut b, 60, 5, 0).losses, 0);
        // Repeated before any acknowledgment, then a D-SACK says it had arrived.
        assert_eq!(data(&mut r, &mut b, 61, 6, 1).losses, 1);
        let dsack = [(BASE.wrapping_add(1000), BASE.wrapping_add(2000))];
        r.on_ack(t(120), f(7), BASE.wrapping_add(3000), &dsack);
        assert!(r.transmissions().iter().all(|x| !x.lost()));
        assert_eq!(r.losses, 0);
    }

    #[test]
    fn receiver_side_holes_become_losses_or_reordering() {
        let mut b = Budget::new(1000);
        let mut r = SegmentRecord::new(BASE);
        data(&mut r, &mut b, 0, 1, 0);
        // Segment 1 missing: segment 2 arrives after a hole.
        data(&mut r, &mut b, 1, 2, 2);
        // Segment 4 missing too, 3 and 5 arrive.
        data(&mut r, &mut b, 2, 3, 3);
        data(&mut r, &mut b, 3, 4, 5);
        // Segment 4 arrives 1 ms later: reordering.
        let e = r.on_data(
            t(4),
            f(5),
            BASE.wrapping_add(4000),
            1000,
            true,
            Some(1000),
            None,
            &mut b,
        );
        assert_eq!(e.losses, 0);
        // Segment 1 arrives a round trip later: lost.
        let e = data(&mut r, &mut b, 150, 6, 1);
        // Timed at the arrival before the hole.
        assert_eq!((e.losses, e.loss_ts), (1, Some(t(0))));
        let input = r.policing_input(false);
        let lost: Vec<u64> = input.iter().filter(|x| x.lost).map(|x| x.seq).collect();
        assert_eq!(lost, vec![1000]);
        // Placeholder (lost), the five real segments and the late fill; the reordered
        // placeholder is gone.
        assert_eq!(input.len(), 7);
        assert!(input.iter().all(|x| x.seq <= 5000));
    }

    #[test]
    fn echo_samples_measure_the_round_trip_at_the_receiver() {
        let mut b = Budget::new(1000);
        let mut r = SegmentRecord::new(BASE);
        r.receiver_tsval(77, t(0));
        r.receiver_tsval(77, t(1));
        r.on_data(t(80), f(2), BASE, 1000, false, None, Some(77), &mut b);
        r.on_data(
            t(81),
            f(3),
            BASE.wrapping_add(1000),
            1000,
            false,
            None,
            Some(77),
            &mut b,
        );
        let txs = r.transmissions();
        assert_eq!(txs[0].echo_rtt, Some(Span::from_millis(80)));
        assert_eq!(txs[1].echo_rtt, None, "first echo only");
        assert_eq!(r.rtt_medians()[1], (1, Some(Span::from_millis(80))));
        assert_eq!(r.policing_input(true)[0].rtt, Some(Span::from_millis(80)));
    }

    #[test]
    fn offloaded_segments_are_split_and_holes_too_wide_ignored() {
        let mut b = Budget::new(1000);
        let mut r = SegmentRecord::new(BASE);
        r.on_data(t(0), f(1), BASE, 1000, false, Some(1000), None, &mut b);
        r.on_data(
            t(1),
            f(2),
            BASE.wrapping_add(1000),
            4000,
            false,
            Some(1000),
            None,
            &mut b,
        );
        assert_eq!(r.transmissions().len(), 5);
        assert!(r.transmissions().iter().all(|x| x.len == 1000));
        // A jump of 1 MB: a capture gap, not 1000 lost segments.
        r.on_data(
            t(2),
            f(3),
            BASE.wrapping_add(1_005_000),
            1000,
            false,
            Some(1000),
            None,
            &mut b,
        );
        assert_eq!(r.gaps_ignored, 1);
        assert_eq!(r.transmissions().len(), 6);
        // Data before the start is ignored.
        r.on_data(
            t(3),
            f(4),
            BASE.wrapping_sub(5000),
            1000,
            false,
            Some(1000),
            None,
            &mut b,
        );
        assert_eq!(r.transmissions().len(), 6);
    }

    use proptest::prelude::*;

    /// One packet of an arbitrary exchange: data from the sender, or an acknowledgment.
    #[derive(Clone, Debug)]
    enum Op {
        Data(i64, u32, u16, bool, Option<u32>),
        Ack(i64, u32, Vec<(u32, u32)>, Option<u32>),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            (
                any::<i64>(),
                any::<u32>(),
                any::<u16>(),
                any::<bool>(),
                proptest::option::of(any::<u32>())
            )
                .prop_map(|(t, s, l, r, e)| Op::Data(t, s, l, r, e)),
            (
                any::<i64>(),
                any::<u32>(),
                proptest::collection::vec((any::<u32>(), any::<u32>()), 0..5),
                proptest::option::of(any::<u32>())
            )
                .prop_map(|(t, a, b, v)| Op::Ack(t, a, b, v)),
        ]
    }

    proptest! {
        #[test]
        fn arbitrary_packets_never_panic(
            base in any::<u32>(),
            mss in proptest::option::of(any::<u16>()),
            ops in proptest::collection::vec(op(), 0..200),
        ) {
            let mut b = Budget::new(500);
            let mut r = SegmentRecord::new(base);
            for (n, o) in ops.into_iter().enumerate() {
                let frame = f(n as u64 + 1);
                match o {
                    Op::Data(ts, seq, len, reordered, ecr) => {
                        r.on_data(Timestamp::from_nanos(ts), frame, seq, u32::from(len), reordered, mss, ecr, &mut b);
                    }
                    Op::Ack(ts, ack, blocks, val) => {
                        r.on_ack(Timestamp::from_nanos(ts), frame, ack, &blocks);
                        if let Some(v) = val {
                            r.receiver_tsval(v, Timestamp::from_nanos(ts));
                        }
                    }
                }
            }
            prop_assert!(r.transmissions().len() <= 500);
            for echo in [false, true] {
                let input = r.policing_input(echo);
                let start = input.first().map_or(Timestamp::EPOCH, |t| t.ts);
                for cutoff in [0, 2] {
                    let _ = super::super::policing::analyze(&input, start, Some(Span::from_millis(50)), cutoff);
                }
            }
            let _ = r.rtt_medians();
            r.release(&mut b);
            prop_assert_eq!(b.used, 0);
        }
    }

    #[test]
    fn a_transmission_is_small() {
        // docs/diagnostics.md sizes the shared budget from this.
        assert!(std::mem::size_of::<Transmission>() <= 72);
    }

    #[test]
    fn caps_and_abandonment() {
        let mut b = Budget::new(10);
        let mut r = SegmentRecord::new(0);
        for k in 0..20u32 {
            r.on_data(
                t(0),
                f(u64::from(k) + 1),
                k * 1000,
                1000,
                false,
                None,
                None,
                &mut b,
            );
        }
        assert!(r.full());
        assert!(b.exhausted);
        assert_eq!(r.transmissions().len(), 10);
        assert_eq!(r.unrecorded, 10);
        // A clean transfer past 2 MB, fully acknowledged, is dropped.
        let mut b = Budget::new(100_000);
        let mut r = SegmentRecord::new(0);
        for k in 0..2100u32 {
            r.on_data(
                t(0),
                f(u64::from(k) + 1),
                k * 1000,
                1000,
                false,
                None,
                None,
                &mut b,
            );
            if k % 10 == 9 {
                r.on_ack(t(1), f(9999), (k + 1) * 1000, &[]);
            }
        }
        assert_eq!(r.state, RecordState::Abandoned);
        assert!(r.transmissions().is_empty());
        assert_eq!(b.used, 0);
    }
}
