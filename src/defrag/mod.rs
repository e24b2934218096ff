//! Reassembles fragmented IPv4 and IPv6 datagrams in a bounded pool with a timeout; it never
//! looks past the IP layer.
//!
//! Written here rather than taken from `etherparse::defrag` because an analyzer needs three
//! things that pool does not give: overlapping fragments whose bytes differ must be reported
//! (an evasion and injection tell) rather than silently merged, every fragment's frame number
//! must stay attached to the datagram as evidence, and memory must be capped with the cap
//! reported when hit.
//!
//! Policy: the first copy of any byte wins (later overlapping bytes are compared, not
//! written). Datagrams are keyed on (version, source, destination, protocol, identification)
//! as RFC 791 §3.2 and RFC 8200 §4.5 prescribe.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;

use crate::decode::{FragmentInfo, IpHeader, IpVersion};
use crate::diag::{DiagnosticKind, Diagnostics};
use crate::ids::FrameNumber;
use crate::time::{Span, Timestamp};

/// Largest reassembled payload (the IPv4/IPv6 length fields are 16 bits).
pub const MAX_DATAGRAM_PAYLOAD: u32 = 65_535;

/// Limits of the reassembly pool.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DefragLimits {
    /// Datagrams being reassembled at once (`--max-fragments-in-flight`).
    pub max_datagrams: usize,
    /// Bytes buffered across all datagrams.
    pub max_bytes: usize,
    /// A datagram not completed this long after its first fragment is dropped (capture time;
    /// Linux uses 30 s, `ipfrag_time`).
    pub timeout: Span,
}

impl Default for DefragLimits {
    fn default() -> Self {
        DefragLimits {
            max_datagrams: 4096,
            max_bytes: 64 * 1024 * 1024,
            timeout: Span::from_secs(30),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct Key {
    version: IpVersion,
    src: IpAddr,
    dst: IpAddr,
    protocol: u8,
    id: u32,
}

#[derive(Debug)]
struct Datagram {
    data: Vec<u8>,
    /// Covered byte ranges, sorted and merged.
    covered: Vec<(u32, u32)>,
    /// Total payload length, once the last fragment has been seen.
    total: Option<u32>,
    /// Header of the fragment at offset 0, once seen.
    first: Option<IpHeader>,
    frames: Vec<FrameNumber>,
    started: Timestamp,
    serial: u64,
    conflict_reported: bool,
}

/// A datagram put back together.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reassembled {
    /// The header of the first fragment, with the fragment fields cleared and the payload
    /// length set to the whole datagram's.
    pub header: IpHeader,
    /// The reassembled payload.
    pub payload: Vec<u8>,
    /// Every fragment's frame, in arrival order.
    pub frames: Vec<FrameNumber>,
}

/// What happened to a fragment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DefragOutcome {
    /// It completed a datagram.
    Complete(Reassembled),
    /// More fragments are needed.
    Pending,
    /// It was dropped (impossible offsets); a diagnostic was recorded.
    Dropped,
}

/// The reassembly pool of one capture.
#[derive(Debug)]
pub struct Defragmenter {
    limits: DefragLimits,
    pending: HashMap<Key, Datagram>,
    /// Insertion order for eviction: (key, serial); stale entries are skipped.
    order: VecDeque<(Key, u64)>,
    bytes: usize,
    serial: u64,
}

impl Defragmenter {
    /// An empty pool.
    pub fn new(limits: DefragLimits) -> Defragmenter {
        Defragmenter {
            limits,
            pending: HashMap::new(),
            order: VecDeque::new(),
            bytes: 0,
            serial: 0,
        }
    }

    /// Datagrams currently waiting for fragments.
    pub fn in_flight(&self) -> usize {
        self.pending.len()
    }

    /// Adds one fragment (`header.fragment` must be set) with its captured payload.
    pub fn push(
        &mut self,
        header: &IpHeader,
        frag: FragmentInfo,
        payload: &[u8],
        frame: FrameNumber,
        ts: Timestamp,
        diags: &mut Diagnostics,
    ) -> DefragOutcome {
        let key = Key {
            version: header.version,
            src: header.src,
            dst: header.dst,
            protocol: header.protocol,
            id: frag.id,
        };
        let len = payload.len() as u32;
        let end = frag.offset.saturating_add(len);
        if end > MAX_DATAGRAM_PAYLOAD {
            diags.note(DiagnosticKind::IpFragmentInvalid, Some(frame), || {
                format!(
                    "fragment of datagram {} {}->{} ends at byte {end}, beyond the {MAX_DATAGRAM_PAYLOAD}-byte maximum",
                    frag.id, header.src, header.dst
                )
            });
            return DefragOutcome::Dropped;
        }
        if !self.pending.contains_key(&key) {
            self.make_room(len as usize, frame, diags);
            self.serial += 1;
            self.order.push_back((key, self.serial));
            self.pending.insert(
                key,
                Datagram {
                    data: Vec::new(),
                    covered: Vec::new(),
                    total: None,
                    first: None,
                    frames: Vec::new(),
                    started: ts,
                    serial: self.serial,
                    conflict_reported: false,
                },
            );
        }
        let Some(d) = self.pending.get_mut(&key) else {
            return DefragOutcome::Dropped;
        };
        d.frames.push(frame);
        if frag.offset == 0 && d.first.is_none() {
            d.first = Some(*header);
        }
        if !frag.more {
            match d.total {
                Some(t) if t != end => {
                    diags.note(DiagnosticKind::IpFragmentInvalid, Some(frame), || {
                        format!(
                            "datagram {} {}->{}: two last fragments disagree on its length ({t} vs {end} bytes)",
                            frag.id, header.src, header.dst
                        )
                    });
                }
                Some(_) => {}
                None => d.total = Some(end),
            }
        }
        let grow = (end as usize).saturating_sub(d.data.len());
        if grow > 0 {
            d.data.resize(end as usize, 0);
            self.bytes += grow;
        }
        // Compare against bytes already held (first copy wins), then fill the gaps.
        let mut conflict = false;
        for &(s, e) in &d.covered {
            let lo = s.max(frag.offset);
            let hi = e.min(end);
            if lo < hi {
                let old = &d.data[lo as usize..hi as usize];
                let new = &payload[(lo - frag.offset) as usize..(hi - frag.offset) as usize];
                if old != new {
                    conflict = true;
                }
            }
        }
        for (s, e) in gaps(&d.covered, frag.offset, end) {
            d.data[s as usize..e as usize]
                .copy_from_slice(&payload[(s - frag.offset) as usize..(e - frag.offset) as usize]);
        }
        insert_range(&mut d.covered, frag.offset, end);
        if conflict && !d.conflict_reported {
            d.conflict_reported = true;
            let frames = d.frames.clone();
            diags.note(DiagnosticKind::IpFragmentOverlapConflict, Some(frame), || {
                format!(
                    "datagram {} {}->{}: fragment in frame {frame} overlaps earlier fragments (frames {}) with different bytes; the first copy was kept",
                    frag.id,
                    header.src,
                    header.dst,
                    join_frames(&frames)
                )
            });
        }
        let complete = match (d.total, d.first) {
            // Complete once [0, total) is covered (a fragment may reach past the announced end:
            // its extra bytes are dropped, as Wireshark and the Linux stack do).
            (Some(t), Some(_)) => {
                t == 0 || d.covered.first().is_some_and(|&(s, e)| s == 0 && e >= t)
            }
            _ => false,
        };
        if !complete {
            return DefragOutcome::Pending;
        }
        let Some(d) = self.pending.remove(&key) else {
            return DefragOutcome::Dropped;
        };
        self.bytes = self.bytes.saturating_sub(d.data.len());
        let total = d.total.unwrap_or(0);
        let mut header = d.first.unwrap_or(*header);
        header.fragment = None;
        header.payload_len = total;
        header.payload_cut = false;
        let mut payload = d.data;
        payload.truncate(total as usize);
        DefragOutcome::Complete(Reassembled {
            header,
            payload,
            frames: d.frames,
        })
    }

    /// Drops datagrams older than the timeout, reporting each as incomplete.
    pub fn expire(&mut self, now: Timestamp, diags: &mut Diagnostics) {
        while let Some(&(key, serial)) = self.order.front() {
            match self.pending.get(&key) {
                Some(d) if d.serial == serial => {
                    if now.since(d.started) < self.limits.timeout {
                        break;
                    }
                    self.drop_front(DropReason::Timeout, diags);
                }
                _ => {
                    self.order.pop_front();
                }
            }
        }
    }

    /// Reports every datagram still incomplete at the end of the capture.
    pub fn finish(&mut self, diags: &mut Diagnostics) {
        while !self.order.is_empty() {
            self.drop_front(DropReason::CaptureEnd, diags);
        }
    }

    fn make_room(&mut self, incoming: usize, frame: FrameNumber, diags: &mut Diagnostics) {
        while !self.pending.is_empty()
            && (self.pending.len() >= self.limits.max_datagrams
                || self.bytes + incoming > self.limits.max_bytes)
        {
            let limits = self.limits;
            diags.note(DiagnosticKind::LimitReachedFragments, Some(frame), || {
                format!(
                    "fragment reassembly pool full ({} datagrams, limit {}; {} bytes, limit {}): oldest datagram dropped",
                    self.pending.len(),
                    limits.max_datagrams,
                    self.bytes,
                    limits.max_bytes
                )
            });
            self.drop_front(DropReason::Evicted, diags);
        }
    }

    fn drop_front(&mut self, reason: DropReason, diags: &mut Diagnostics) {
        let Some((key, serial)) = self.order.pop_front() else {
            return;
        };
        let live = self.pending.get(&key).is_some_and(|d| d.serial == serial);
        if !live {
            return;
        }
        if let Some(d) = self.pending.remove(&key) {
            self.bytes = self.bytes.saturating_sub(d.data.len());
            let why = match reason {
                DropReason::Timeout => "timed out",
                DropReason::CaptureEnd => "still incomplete at the end of the capture",
                DropReason::Evicted => "evicted because the pool was full",
            };
            let have: u32 = d.covered.iter().map(|(s, e)| e - s).sum();
            let frame = d.frames.first().copied();
            diags.note(DiagnosticKind::IpFragmentIncomplete, frame, || {
                format!(
                    "datagram {} {}->{} {why}: {have} of {} bytes from frames {}",
                    key.id,
                    key.src,
                    key.dst,
                    d.total
                        .map_or_else(|| "an unknown number of".to_string(), |t| t.to_string()),
                    join_frames(&d.frames)
                )
            });
        }
    }
}

#[derive(Clone, Copy)]
enum DropReason {
    Timeout,
    CaptureEnd,
    Evicted,
}

fn join_frames(frames: &[FrameNumber]) -> String {
    frames
        .iter()
        .map(|f| f.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The parts of [start, end) not covered by `covered` (sorted, merged).
fn gaps(covered: &[(u32, u32)], start: u32, end: u32) -> Vec<(u32, u32)> {
    let mut out = Vec::new();
    let mut at = start;
    for &(s, e) in covered {
        if e <= at {
            continue;
        }
        if s >= end {
            break;
        }
        if s > at {
            out.push((at, s.min(end)));
        }
        at = at.max(e);
        if at >= end {
            break;
        }
    }
    if at < end {
        out.push((at, end));
    }
    out
}

/// Inserts [start, end) into a sorted list of disjoint ranges, merging touching ones.
fn insert_range(covered: &mut Vec<(u32, u32)>, start: u32, end: u32) {
    if start >= end {
        return;
    }
    let mut merged = (start, end);
    let mut out = Vec::with_capacity(covered.len() + 1);
    let mut placed = false;
    for &(s, e) in covered.iter() {
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
    *covered = out;
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn header(proto: u8) -> IpHeader {
        IpHeader {
            version: IpVersion::V4,
            src: "10.0.0.1".parse().unwrap(),
            dst: "10.0.0.2".parse().unwrap(),
            ttl: 64,
            ip_id: Some(7),
            df: false,
            tos: 0,
            protocol: proto,
            fragment: None,
            payload_len: 0,
            payload_cut: false,
        }
    }

    fn frag(offset: u32, more: bool) -> FragmentInfo {
        FragmentInfo {
            id: 7,
            offset,
            more,
        }
    }

    fn f(n: u64) -> FrameNumber {
        FrameNumber::new(n).unwrap()
    }

    #[test]
    fn reassembles_out_of_order() {
        let data: Vec<u8> = (0..40u8).collect();
        let mut d = Defragmenter::new(DefragLimits::default());
        let mut diags = Diagnostics::default();
        let h = header(17);
        let t = Timestamp::EPOCH;
        assert_eq!(
            d.push(&h, frag(32, false), &data[32..], f(1), t, &mut diags),
            DefragOutcome::Pending
        );
        assert_eq!(
            d.push(&h, frag(0, true), &data[..16], f(2), t, &mut diags),
            DefragOutcome::Pending
        );
        let DefragOutcome::Complete(r) =
            d.push(&h, frag(16, true), &data[16..32], f(3), t, &mut diags)
        else {
            panic!("not complete")
        };
        assert_eq!(r.payload, data);
        assert_eq!(r.frames, vec![f(1), f(2), f(3)]);
        assert_eq!(r.header.payload_len, 40);
        assert!(r.header.fragment.is_none());
        assert!(diags.is_empty());
        assert_eq!(d.in_flight(), 0);
    }

    #[test]
    fn overlap_with_different_bytes_is_reported_first_copy_wins() {
        let mut d = Defragmenter::new(DefragLimits::default());
        let mut diags = Diagnostics::default();
        let h = header(17);
        let t = Timestamp::EPOCH;
        d.push(&h, frag(0, true), &[1; 16], f(1), t, &mut diags);
        d.push(&h, frag(8, true), &[2; 16], f(2), t, &mut diags);
        let DefragOutcome::Complete(r) = d.push(&h, frag(24, false), &[3; 8], f(3), t, &mut diags)
        else {
            panic!()
        };
        assert_eq!(&r.payload[..16], &[1; 16]);
        assert_eq!(&r.payload[16..24], &[2; 8]);
        assert_eq!(diags.count(DiagnosticKind::IpFragmentOverlapConflict), 1);
        // Identical overlap is not a conflict.
        let mut diags = Diagnostics::default();
        d.push(&h, frag(0, true), &[1; 16], f(4), t, &mut diags);
        d.push(&h, frag(8, false), &[1; 16], f(5), t, &mut diags);
        assert_eq!(diags.count(DiagnosticKind::IpFragmentOverlapConflict), 0);
    }

    #[test]
    fn timeout_capture_end_and_limits() {
        let limits = DefragLimits {
            max_datagrams: 2,
            max_bytes: 1 << 20,
            timeout: Span::from_secs(30),
        };
        let mut d = Defragmenter::new(limits);
        let mut diags = Diagnostics::default();
        let mut h = header(17);
        for (i, id) in [1u32, 2, 3].into_iter().enumerate() {
            h.ip_id = Some(id as u16);
            let fi = FragmentInfo {
                id,
                offset: 0,
                more: true,
            };
            d.push(
                &h,
                fi,
                &[0; 8],
                f(i as u64 + 1),
                Timestamp::from_parts(i as i64, 0),
                &mut diags,
            );
        }
        assert_eq!(diags.count(DiagnosticKind::LimitReachedFragments), 1);
        assert_eq!(d.in_flight(), 2);
        d.expire(Timestamp::from_parts(31, 500_000_000), &mut diags);
        assert_eq!(d.in_flight(), 1);
        d.finish(&mut diags);
        assert_eq!(d.in_flight(), 0);
        assert_eq!(diags.count(DiagnosticKind::IpFragmentIncomplete), 3);
    }

    #[test]
    fn oversized_fragment_dropped() {
        let mut d = Defragmenter::new(DefragLimits::default());
        let mut diags = Diagnostics::default();
        let out = d.push(
            &header(17),
            frag(65_528, false),
            &[0; 16],
            f(1),
            Timestamp::EPOCH,
            &mut diags,
        );
        assert_eq!(out, DefragOutcome::Dropped);
        assert_eq!(diags.count(DiagnosticKind::IpFragmentInvalid), 1);
    }

    proptest! {
        /// Any arrival order of the same fragments gives the same bytes.
        #[test]
        fn any_order_same_bytes(order in Just((0..6usize).collect::<Vec<_>>()).prop_shuffle()) {
            let data: Vec<u8> = (0..48u8).map(|b| b.wrapping_mul(7)).collect();
            let mut d = Defragmenter::new(DefragLimits::default());
            let mut diags = Diagnostics::default();
            let h = header(6);
            let mut result = None;
            for (n, &i) in order.iter().enumerate() {
                let off = (i * 8) as u32;
                let out = d.push(&h, frag(off, i != 5), &data[i * 8..i * 8 + 8], f(n as u64 + 1), Timestamp::EPOCH, &mut diags);
                if let DefragOutcome::Complete(r) = out {
                    result = Some(r.payload);
                }
            }
            prop_assert_eq!(result, Some(data));
            prop_assert!(diags.is_empty());
        }

        #[test]
        fn ranges_stay_sorted_and_disjoint(ranges in proptest::collection::vec((0u32..200, 1u32..40), 0..30)) {
            let mut covered = Vec::new();
            for (s, l) in ranges {
                insert_range(&mut covered, s, s + l);
            }
            for w in covered.windows(2) {
                prop_assert!(w[0].1 < w[1].0);
            }
        }
    }
}
