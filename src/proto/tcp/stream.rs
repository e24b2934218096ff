//! Puts one direction of a TCP stream back in order and hands contiguous bytes to protocol
//! parsers, keeping at most a bounded prefix; it never interprets the bytes.
//!
//! Retransmitted bytes that fall inside the kept prefix are compared with the first copy:
//! a difference is an overlap conflict (Zeek's `rexmit_inconsistency`, Suricata's
//! `reassembly_overlap_different_data`), the classic trace of a racing injector. The first
//! copy wins, as in the Linux stack the receiver most likely ran.

use std::collections::BTreeMap;

use super::seq::SeqNumber;
use crate::ids::FrameNumber;

/// Distance beyond which a segment is taken as out of the window rather than data to buffer.
const MAX_SEQ_JUMP: i64 = 1 << 30;
/// Segment start offsets remembered to map stream bytes back to frames.
const MAX_SEGMENT_MARKS: usize = 512;

/// Limits of one stream's buffers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StreamLimits {
    /// Bytes of the stream's beginning kept for parsing and overlap checks
    /// (`--reassembly-bytes`, default 16 KiB).
    pub prefix_bytes: u32,
    /// Out-of-order bytes buffered while waiting for a hole to fill.
    pub out_of_order_bytes: u32,
}

impl Default for StreamLimits {
    fn default() -> Self {
        StreamLimits {
            prefix_bytes: 16 * 1024,
            out_of_order_bytes: 16 * 1024,
        }
    }
}

/// A memory budget shared by every stream of a capture.
#[derive(Clone, Debug)]
pub struct ReassemblyBudget {
    used: usize,
    max: usize,
    refused: u64,
}

impl ReassemblyBudget {
    /// A budget of `max` bytes.
    pub fn new(max: usize) -> ReassemblyBudget {
        ReassemblyBudget {
            used: 0,
            max,
            refused: 0,
        }
    }

    /// Reserves `n` bytes; false (and counted as refused) when the budget is spent.
    pub(crate) fn take(&mut self, n: usize) -> bool {
        if self.used + n > self.max {
            self.refused += 1;
            false
        } else {
            self.used += n;
            true
        }
    }

    /// Returns `n` bytes reserved earlier.
    pub(crate) fn give(&mut self, n: usize) {
        self.used = self.used.saturating_sub(n);
    }

    /// Bytes currently held.
    pub fn used(&self) -> usize {
        self.used
    }

    /// The budget.
    pub fn max(&self) -> usize {
        self.max
    }

    /// Requests refused because the budget was spent.
    pub fn refused(&self) -> u64 {
        self.refused
    }
}

/// Two copies of the same stream bytes that differ.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OverlapConflict {
    /// Stream offset of the first differing byte.
    pub offset: u64,
    /// How many bytes of the overlap differ.
    pub differing: u32,
    /// The frame that carried the first copy, when known.
    pub first_frame: Option<FrameNumber>,
}

/// What [`StreamBuf::add`] saw.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AddOutcome {
    /// Bytes of the segment that had been delivered before.
    pub old_bytes: u32,
    /// The segment disagrees with bytes delivered before.
    pub conflict: Option<OverlapConflict>,
    /// The segment was parked until a hole before it fills.
    pub parked: bool,
    /// The segment could not be used (out of the window, or buffers full).
    pub dropped: bool,
    /// The prefix limit was reached with this segment.
    pub prefix_full: bool,
}

#[derive(Clone, Debug)]
struct Parked {
    data: Vec<u8>,
    frame: FrameNumber,
}

/// One direction of a TCP stream.
#[derive(Clone, Debug, Default)]
pub struct StreamBuf {
    next_seq: Option<SeqNumber>,
    next_off: u64,
    stored: Vec<u8>,
    prefix_full: bool,
    parked: BTreeMap<u64, Parked>,
    parked_bytes: usize,
    marks: Vec<(u64, FrameNumber)>,
    reserved: usize,
}

impl StreamBuf {
    /// Sets the sequence number of stream offset 0 (the ISN + 1 from a SYN), if the stream has
    /// not started yet.
    pub fn set_base(&mut self, seq: SeqNumber) {
        if self.next_seq.is_none() {
            self.next_seq = Some(seq);
        }
    }

    /// True once the start of the stream is known.
    pub fn has_base(&self) -> bool {
        self.next_seq.is_some()
    }

    /// Stream offset of the next byte expected in order.
    pub fn delivered(&self) -> u64 {
        self.next_off
    }

    /// The kept prefix of the stream.
    pub fn prefix(&self) -> &[u8] {
        &self.stored
    }

    /// The frames that carried stream bytes `[start, end)`, when they were remembered.
    pub fn frames_for(&self, start: u64, end: u64) -> Vec<FrameNumber> {
        let mut out = Vec::new();
        for (i, &(off, frame)) in self.marks.iter().enumerate() {
            let next = self.marks.get(i + 1).map_or(u64::MAX, |m| m.0);
            if off < end && next > start && !out.contains(&frame) {
                out.push(frame);
            }
        }
        out.sort();
        out
    }

    /// Adds a segment's payload (`seq` is the number of its first data byte) and calls
    /// `deliver(offset, bytes, frame)` for every run of bytes that becomes contiguous.
    pub fn add(
        &mut self,
        seq: SeqNumber,
        data: &[u8],
        frame: FrameNumber,
        limits: &StreamLimits,
        budget: &mut ReassemblyBudget,
        mut deliver: impl FnMut(u64, &[u8], FrameNumber),
    ) -> AddOutcome {
        let mut out = AddOutcome::default();
        if data.is_empty() {
            return out;
        }
        let next_seq = *self.next_seq.get_or_insert(seq);
        let rel = seq.diff(next_seq);
        if rel.abs() > MAX_SEQ_JUMP {
            out.dropped = true;
            return out;
        }
        let mut start = self.next_off as i64 + rel;
        let mut data = data;
        if start < 0 {
            // Bytes before the stream's first byte (for example data on a retransmitted SYN).
            let skip = (-start) as usize;
            data = data.get(skip..).unwrap_or(&[]);
            start = 0;
        }
        let start = start as u64;
        let end = start + data.len() as u64;
        if start < self.next_off {
            let overlap_end = end.min(self.next_off);
            out.old_bytes = (overlap_end - start) as u32;
            out.conflict = self.compare(start, &data[..(overlap_end - start) as usize]);
            data = &data[(overlap_end - start) as usize..];
            if data.is_empty() {
                return out;
            }
        }
        let start = start.max(self.next_off);
        if start > self.next_off {
            let room = (limits.out_of_order_bytes as usize).saturating_sub(self.parked_bytes);
            let ahead = start - self.next_off;
            if data.len() > room
                || ahead > u64::from(limits.out_of_order_bytes) * 64
                || self.parked.contains_key(&start)
                || !budget.take(data.len())
            {
                out.dropped = true;
                return out;
            }
            self.reserved += data.len();
            self.parked_bytes += data.len();
            self.parked.insert(
                start,
                Parked {
                    data: data.to_vec(),
                    frame,
                },
            );
            out.parked = true;
            return out;
        }
        self.accept(data, frame, limits, budget, &mut deliver, &mut out);
        // Drain parked segments that are now contiguous.
        while let Some((&off, _)) = self.parked.first_key_value() {
            if off > self.next_off {
                break;
            }
            let Some(p) = self.parked.remove(&off) else {
                break;
            };
            self.parked_bytes -= p.data.len();
            self.reserved -= p.data.len();
            budget.give(p.data.len());
            let end = off + p.data.len() as u64;
            if end <= self.next_off {
                if let Some(c) = self.compare(off, &p.data) {
                    out.conflict.get_or_insert(c);
                }
                continue;
            }
            let skip = (self.next_off - off) as usize;
            if let Some(c) = self.compare(off, &p.data[..skip]) {
                out.conflict.get_or_insert(c);
            }
            let rest = p.data[skip..].to_vec();
            self.accept(&rest, p.frame, limits, budget, &mut deliver, &mut out);
        }
        out
    }

    fn accept(
        &mut self,
        data: &[u8],
        frame: FrameNumber,
        limits: &StreamLimits,
        budget: &mut ReassemblyBudget,
        deliver: &mut impl FnMut(u64, &[u8], FrameNumber),
        out: &mut AddOutcome,
    ) {
        let off = self.next_off;
        if self.marks.len() < MAX_SEGMENT_MARKS {
            self.marks.push((off, frame));
        }
        if !self.prefix_full {
            let room = (limits.prefix_bytes as usize).saturating_sub(self.stored.len());
            let take = data.len().min(room);
            if take > 0 && budget.take(take) {
                self.reserved += take;
                self.stored.extend_from_slice(&data[..take]);
            } else if take > 0 {
                self.prefix_full = true;
            }
            if self.stored.len() >= limits.prefix_bytes as usize {
                self.prefix_full = true;
                out.prefix_full = true;
            }
        }
        deliver(off, data, frame);
        self.next_off += data.len() as u64;
        self.next_seq = self.next_seq.map(|s| s.wrapping_add(data.len() as u32));
    }

    /// Compares bytes at `offset` with the kept prefix.
    fn compare(&self, offset: u64, data: &[u8]) -> Option<OverlapConflict> {
        let kept = self.stored.len() as u64;
        if offset >= kept {
            return None;
        }
        let n = ((kept - offset) as usize).min(data.len());
        let old = self.stored.get(offset as usize..offset as usize + n)?;
        let new = data.get(..n)?;
        let first = old.iter().zip(new).position(|(a, b)| a != b)?;
        let differing = old.iter().zip(new).filter(|(a, b)| a != b).count() as u32;
        let at = offset + first as u64;
        Some(OverlapConflict {
            offset: at,
            differing,
            first_frame: self.frames_for(at, at + 1).first().copied(),
        })
    }

    /// Releases all buffers (the flow ended or parsing is over).
    pub fn release(&mut self, budget: &mut ReassemblyBudget) {
        budget.give(self.reserved);
        self.reserved = 0;
        self.stored = Vec::new();
        self.parked.clear();
        self.parked_bytes = 0;
        self.prefix_full = true;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn f(n: u64) -> FrameNumber {
        FrameNumber::new(n).unwrap()
    }

    fn run(
        segments: &[(u32, Vec<u8>)],
        base: u32,
        limits: StreamLimits,
    ) -> (Vec<u8>, Vec<AddOutcome>) {
        let mut s = StreamBuf::default();
        s.set_base(SeqNumber(base));
        let mut budget = ReassemblyBudget::new(1 << 20);
        let mut got = Vec::new();
        let mut outs = Vec::new();
        for (i, (seq, data)) in segments.iter().enumerate() {
            outs.push(s.add(
                SeqNumber(*seq),
                data,
                f(i as u64 + 1),
                &limits,
                &mut budget,
                |off, b, _| {
                    assert_eq!(off as usize, got.len());
                    got.extend_from_slice(b);
                },
            ));
        }
        (got, outs)
    }

    #[test]
    fn in_order_and_reordered() {
        let segs = vec![
            (100, b"hello ".to_vec()),
            (112, b"!".to_vec()),
            (106, b"world".to_vec()),
        ];
        let (got, outs) = run(&segs, 100, StreamLimits::default());
        assert_eq!(got, b"hello world");
        assert!(outs[1].parked);
        // "world" is 5 bytes at 106..111, "!" at 112: still a 1-byte hole at 111.
        let segs = vec![
            (100, b"hello ".to_vec()),
            (111, b"!".to_vec()),
            (106, b"world".to_vec()),
        ];
        let (got, _) = run(&segs, 100, StreamLimits::default());
        assert_eq!(got, b"hello world!");
    }

    #[test]
    fn wraparound() {
        let base = u32::MAX - 3;
        let segs = vec![(base, b"abcd".to_vec()), (0, b"efgh".to_vec())];
        let (got, _) = run(&segs, base, StreamLimits::default());
        assert_eq!(got, b"abcdefgh");
    }

    #[test]
    fn retransmission_same_and_different_bytes() {
        let segs = vec![(1, b"GET / HTTP/1.1".to_vec()), (1, b"GET /".to_vec())];
        let (_, outs) = run(&segs, 1, StreamLimits::default());
        assert_eq!(outs[1].old_bytes, 5);
        assert_eq!(outs[1].conflict, None);
        let segs = vec![(1, b"GET / HTTP/1.1".to_vec()), (5, b"/evil".to_vec())];
        let (got, outs) = run(&segs, 1, StreamLimits::default());
        assert_eq!(got, b"GET / HTTP/1.1");
        let c = outs[1].conflict.unwrap();
        assert_eq!(c.offset, 5);
        assert_eq!(c.first_frame, Some(f(1)));
        assert!(c.differing >= 4);
    }

    #[test]
    fn prefix_limit_keeps_delivering_in_order() {
        let limits = StreamLimits {
            prefix_bytes: 4,
            out_of_order_bytes: 4,
        };
        let segs = vec![
            (0, b"abc".to_vec()),
            (3, b"defg".to_vec()),
            (7, b"hi".to_vec()),
        ];
        let (got, outs) = run(&segs, 0, limits);
        assert_eq!(got, b"abcdefghi");
        assert!(outs[1].prefix_full);
        // Out-of-order data beyond the buffer limit is dropped, not buffered.
        let segs = vec![(0, b"a".to_vec()), (10, b"0123456789".to_vec())];
        let (_, outs) = run(&segs, 0, limits);
        assert!(outs[1].dropped);
    }

    #[test]
    fn out_of_window_is_ignored() {
        let segs = vec![
            (0, b"ab".to_vec()),
            (0x8000_0000, b"zz".to_vec()),
            (2, b"cd".to_vec()),
        ];
        let (got, outs) = run(&segs, 0, StreamLimits::default());
        assert_eq!(got, b"abcd");
        assert!(outs[1].dropped);
    }

    #[test]
    fn budget_is_respected_and_returned() {
        let mut s = StreamBuf::default();
        s.set_base(SeqNumber(0));
        let mut budget = ReassemblyBudget::new(8);
        let limits = StreamLimits::default();
        let mut got = Vec::new();
        s.add(
            SeqNumber(0),
            b"0123456789",
            f(1),
            &limits,
            &mut budget,
            |_, b, _| got.extend_from_slice(b),
        );
        assert_eq!(got, b"0123456789", "delivery does not depend on the budget");
        assert_eq!(s.prefix().len(), 0);
        assert_eq!(budget.refused(), 1);
        s.release(&mut budget);
        assert_eq!(budget.used(), 0);
    }

    proptest! {
        /// Any arrival order (with duplicates) of the segments of a stream delivers the same
        /// bytes, provided the buffers are large enough.
        #[test]
        fn any_order_same_bytes(
            cuts in proptest::collection::btree_set(1usize..200, 0..12),
            order in Just((0..13usize).collect::<Vec<_>>()).prop_shuffle(),
            dups in proptest::collection::vec(0usize..13, 0..4),
            isn in any::<u32>(),
        ) {
            let stream: Vec<u8> = (0..200u32).map(|i| (i * 31 % 251) as u8).collect();
            let mut bounds = vec![0usize];
            bounds.extend(cuts.iter().copied());
            bounds.push(200);
            let pieces: Vec<(u32, Vec<u8>)> = bounds.windows(2)
                .map(|w| (isn.wrapping_add(w[0] as u32), stream[w[0]..w[1]].to_vec()))
                .collect();
            let mut segs: Vec<(u32, Vec<u8>)> = order.iter().filter_map(|&i| pieces.get(i).cloned()).collect();
            for d in dups {
                if let Some(p) = pieces.get(d) { segs.push(p.clone()); }
            }
            let (got, outs) = run(&segs, isn, StreamLimits { prefix_bytes: 1024, out_of_order_bytes: 1024 });
            prop_assert_eq!(got, stream);
            prop_assert!(outs.iter().all(|o| o.conflict.is_none()));
        }
    }
}
