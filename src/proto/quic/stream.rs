//! Reassembles one direction's CRYPTO stream of a QUIC connection from CRYPTO frames in any
//! order (RFC 9000 §19.6, §7.5) into a bounded buffer; it never parses what it holds and never
//! grows past its cap or the shared reassembly budget.
//!
//! The first copy of a byte wins, as for TCP: retransmitted CRYPTO data fills only gaps. The
//! frames whose data was used are remembered so an event can cite every frame that carried a
//! handshake message (a Chromium ClientHello comes in up to ten CRYPTO frames, in shuffled
//! order).

#![cfg_attr(
    not(test),
    deny(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used)
)]

use crate::ids::FrameNumber;
use crate::proto::tcp::stream::ReassemblyBudget;

/// Most CRYPTO bytes kept per direction of a connection: the whole of any real ClientHello or
/// ServerHello (a few KiB even with post-quantum key shares). Data past it is dropped and
/// reported as `limit_reached_quic_crypto`.
pub const MAX_CRYPTO_BYTES: u32 = 16 * 1024;
/// Most disjoint byte ranges held at once; more fragmentation than this is dropped (reported
/// as `limit_reached_quic_crypto`).
pub const MAX_RANGES: usize = 32;
/// Most (range, frame) pieces remembered for citing frames.
pub const MAX_PIECES: usize = 64;

/// What adding one CRYPTO frame did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CryptoAdd {
    /// Bytes that were new (filled a gap).
    pub new_bytes: usize,
    /// Part of the frame lay past [`MAX_CRYPTO_BYTES`] or would have made more than
    /// [`MAX_RANGES`] ranges, and was dropped.
    pub over_cap: bool,
    /// The shared reassembly budget refused the memory.
    pub refused: bool,
}

/// One direction's CRYPTO stream.
#[derive(Debug, Default)]
pub struct CryptoStream {
    data: Vec<u8>,
    /// Sorted, disjoint, non-touching `[start, end)` ranges held.
    ranges: Vec<(u32, u32)>,
    /// Which frame supplied which new bytes.
    pieces: Vec<(u32, u32, FrameNumber)>,
    /// Bytes charged to the budget.
    charged: usize,
}

impl CryptoStream {
    /// Adds the data of a CRYPTO frame at stream `offset`, carried by `frame`.
    pub fn add(
        &mut self,
        offset: u64,
        bytes: &[u8],
        frame: FrameNumber,
        budget: &mut ReassemblyBudget,
    ) -> CryptoAdd {
        let mut out = CryptoAdd::default();
        let cap = u64::from(MAX_CRYPTO_BYTES);
        let end = offset.saturating_add(bytes.len() as u64);
        if end > cap {
            out.over_cap = true;
        }
        if offset >= cap || bytes.is_empty() {
            return out;
        }
        // Both fit in u32 now.
        let start = offset as u32;
        let end = end.min(cap) as u32;
        let gaps = self.gaps(start, end);
        if gaps.is_empty() {
            return out;
        }
        if self.ranges.len() + 1 > MAX_RANGES && !self.touches_existing(start, end) {
            out.over_cap = true;
            return out;
        }
        let need = end as usize;
        if need > self.data.len() {
            let grow = need - self.data.len();
            if !budget.take(grow) {
                out.refused = true;
                return out;
            }
            self.charged += grow;
            self.data.resize(need, 0);
        }
        for (gs, ge) in gaps {
            let src = bytes.get((gs - start) as usize..(ge - start) as usize);
            let dst = self.data.get_mut(gs as usize..ge as usize);
            if let (Some(src), Some(dst)) = (src, dst) {
                dst.copy_from_slice(src);
                out.new_bytes += src.len();
                self.note_piece(gs, ge, frame);
            }
        }
        self.insert_range(start, end);
        out
    }

    /// The gaps of `[start, end)` not yet held.
    fn gaps(&self, start: u32, end: u32) -> Vec<(u32, u32)> {
        let mut out = Vec::new();
        let mut cursor = start;
        for &(s, e) in &self.ranges {
            if e <= cursor {
                continue;
            }
            if s >= end {
                break;
            }
            if s > cursor {
                out.push((cursor, s));
            }
            cursor = cursor.max(e);
            if cursor >= end {
                break;
            }
        }
        if cursor < end {
            out.push((cursor, end));
        }
        out
    }

    /// Whether `[start, end)` overlaps or touches a held range (so inserting it adds none).
    fn touches_existing(&self, start: u32, end: u32) -> bool {
        self.ranges.iter().any(|&(s, e)| s <= end && start <= e)
    }

    fn insert_range(&mut self, start: u32, end: u32) {
        let mut merged = (start, end);
        let mut out = Vec::with_capacity(self.ranges.len() + 1);
        let mut placed = false;
        for &(s, e) in &self.ranges {
            if e < merged.0 {
                out.push((s, e));
            } else if s > merged.1 {
                if !placed {
                    out.push(merged);
                    placed = true;
                }
                out.push((s, e));
            } else {
                merged = (merged.0.min(s), merged.1.max(e));
            }
        }
        if !placed {
            out.push(merged);
        }
        self.ranges = out;
    }

    fn note_piece(&mut self, start: u32, end: u32, frame: FrameNumber) {
        if let Some(last) = self.pieces.last_mut() {
            if last.2 == frame && last.1 == start {
                last.1 = end;
                return;
            }
        }
        if self.pieces.len() < MAX_PIECES {
            self.pieces.push((start, end, frame));
        }
    }

    /// The bytes held contiguously from offset 0.
    pub fn contiguous(&self) -> &[u8] {
        match self.ranges.first() {
            Some(&(0, e)) => self.data.get(..e as usize).unwrap_or(&[]),
            _ => &[],
        }
    }

    /// The frames that supplied bytes below `end`, sorted, without repeats.
    pub fn frames_for(&self, end: u32) -> Vec<FrameNumber> {
        let mut out: Vec<FrameNumber> = self
            .pieces
            .iter()
            .filter(|p| p.0 < end)
            .map(|p| p.2)
            .collect();
        out.sort_unstable();
        out.dedup();
        out
    }

    /// Frees the buffer and returns its memory to the budget.
    pub fn release(&mut self, budget: &mut ReassemblyBudget) {
        budget.give(self.charged);
        *self = CryptoStream::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(n: u64) -> FrameNumber {
        FrameNumber::new(n).unwrap()
    }

    #[test]
    fn out_of_order_fragments_reassemble_and_cite_their_frames() {
        let msg: Vec<u8> = (0..200u8).collect();
        let mut budget = ReassemblyBudget::new(1 << 20);
        let mut s = CryptoStream::default();
        // Shuffled pieces across two frames, one retransmitted.
        let pieces = [
            (150, 200, 2),
            (0, 40, 1),
            (90, 150, 1),
            (40, 90, 2),
            (0, 60, 3),
        ];
        for (a, b, fr) in pieces {
            s.add(a as u64, &msg[a..b], f(fr), &mut budget);
            if b == 200 {
                assert!(s.contiguous().is_empty());
            }
        }
        assert_eq!(s.contiguous(), &msg[..]);
        assert_eq!(s.frames_for(200), vec![f(1), f(2)]);
        assert_eq!(s.frames_for(40), vec![f(1)]);
        assert_eq!(budget.used(), 200);
        s.release(&mut budget);
        assert_eq!(budget.used(), 0);
    }

    #[test]
    fn first_copy_wins() {
        let mut budget = ReassemblyBudget::new(1 << 20);
        let mut s = CryptoStream::default();
        s.add(0, b"hello", f(1), &mut budget);
        let a = s.add(2, b"XXXXX!", f(2), &mut budget);
        assert_eq!(a.new_bytes, 3);
        assert_eq!(s.contiguous(), b"helloXX!");
    }

    #[test]
    fn caps_hold() {
        let mut budget = ReassemblyBudget::new(1 << 20);
        let mut s = CryptoStream::default();
        let a = s.add(u64::from(MAX_CRYPTO_BYTES) - 2, b"abcd", f(1), &mut budget);
        assert!(a.over_cap);
        assert_eq!(a.new_bytes, 2);
        let a = s.add(u64::MAX - 1, b"abcd", f(1), &mut budget);
        assert!(a.over_cap && a.new_bytes == 0);
        // Too many ranges.
        let mut s = CryptoStream::default();
        for i in 0..(MAX_RANGES as u64 + 5) {
            s.add(10 + i * 3, b"x", f(1), &mut budget);
        }
        assert!(s.ranges.len() <= MAX_RANGES);
        // Budget refusal.
        let mut small = ReassemblyBudget::new(10);
        let mut s = CryptoStream::default();
        let a = s.add(0, &[0; 20], f(1), &mut small);
        assert!(a.refused);
        assert!(s.contiguous().is_empty());
    }
}
