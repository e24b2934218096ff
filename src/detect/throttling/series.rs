//! Keeps a bounded time series of one direction of one flow (new bytes, acknowledged bytes,
//! loss signals and RTT samples per time bin) for plots and for the throttling checks that
//! look at progress over time; it only adds up what it is told and never judges.
//!
//! Bins start [`FIRST_BIN`] wide from the direction's first packet. When a packet falls past
//! [`MAX_BINS`] bins, neighbouring bins are merged in pairs and the width doubles, so a flow
//! of any length fits in at most [`MAX_BINS`] bins.

use crate::ids::FrameNumber;
use crate::time::{Span, Timestamp};

/// Width of a bin before any merging.
pub const FIRST_BIN: Span = Span::from_millis(100);
/// Most bins kept per direction (merging doubles the width beyond).
pub const MAX_BINS: usize = 128;

/// What happened in one direction during one bin.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Bin {
    /// Bytes of new data (sequence space not seen before).
    pub bytes: u64,
    /// Bytes newly acknowledged by the other side (cumulative acknowledgment progress).
    pub acked: u64,
    /// Loss signals: transmissions later found lost (at their own time) and sequence holes.
    pub losses: u32,
    /// RTT samples taken in the bin.
    pub rtt_samples: u32,
    /// Sum of those samples (for the mean).
    pub rtt_sum: Span,
    /// The largest of them.
    pub rtt_max: Span,
}

impl Bin {
    fn merge(&mut self, other: &Bin) {
        self.bytes = self.bytes.saturating_add(other.bytes);
        self.acked = self.acked.saturating_add(other.acked);
        self.losses = self.losses.saturating_add(other.losses);
        self.rtt_samples = self.rtt_samples.saturating_add(other.rtt_samples);
        self.rtt_sum = Span::from_nanos(
            self.rtt_sum
                .as_nanos()
                .saturating_add(other.rtt_sum.as_nanos()),
        );
        if other.rtt_max > self.rtt_max {
            self.rtt_max = other.rtt_max;
        }
    }

    /// Mean RTT of the bin's samples.
    pub fn rtt_mean(&self) -> Option<Span> {
        (self.rtt_samples > 0)
            .then(|| Span::from_nanos(self.rtt_sum.as_nanos() / i64::from(self.rtt_samples)))
    }
}

/// The time series of one direction of one flow.
#[derive(Clone, Debug, PartialEq)]
pub struct FlowSeries {
    /// Time of the direction's first packet (bin 0 starts here).
    pub start: Option<Timestamp>,
    /// Current bin width.
    pub bin: Span,
    /// The bins, oldest first.
    pub bins: Vec<Bin>,
    /// Total new bytes.
    pub total_bytes: u64,
    /// First packet carrying new data.
    pub first_data: Option<(Timestamp, FrameNumber)>,
    /// Last packet carrying new data.
    pub last_data: Option<(Timestamp, FrameNumber)>,
    /// Last acknowledgment from the other side that moved the cumulative acknowledgment.
    pub last_ack_progress: Option<(Timestamp, FrameNumber)>,
}

impl Default for FlowSeries {
    fn default() -> Self {
        FlowSeries {
            start: None,
            bin: FIRST_BIN,
            bins: Vec::new(),
            total_bytes: 0,
            first_data: None,
            last_data: None,
            last_ack_progress: None,
        }
    }
}

impl FlowSeries {
    /// Notes any packet of the direction (starts the clock).
    pub fn touch(&mut self, ts: Timestamp) {
        self.start.get_or_insert(ts);
    }

    /// Adds `bytes` of new data seen at `ts` in `frame`.
    pub fn add_bytes(&mut self, ts: Timestamp, frame: FrameNumber, bytes: u64) {
        if bytes == 0 {
            return;
        }
        self.total_bytes = self.total_bytes.saturating_add(bytes);
        self.first_data.get_or_insert((ts, frame));
        self.last_data = Some((ts, frame));
        let b = self.slot(ts);
        b.bytes = b.bytes.saturating_add(bytes);
    }

    /// Adds `bytes` newly acknowledged at `ts` by `frame`.
    pub fn add_acked(&mut self, ts: Timestamp, frame: FrameNumber, bytes: u64) {
        if bytes == 0 {
            return;
        }
        self.last_ack_progress = Some((ts, frame));
        let b = self.slot(ts);
        b.acked = b.acked.saturating_add(bytes);
    }

    /// Adds a loss signal at `ts`.
    pub fn add_loss(&mut self, ts: Timestamp) {
        let b = self.slot(ts);
        b.losses = b.losses.saturating_add(1);
    }

    /// Adds an RTT sample taken at `ts`.
    pub fn add_rtt(&mut self, ts: Timestamp, rtt: Span) {
        let b = self.slot(ts);
        b.rtt_samples = b.rtt_samples.saturating_add(1);
        b.rtt_sum = Span::from_nanos(b.rtt_sum.as_nanos().saturating_add(rtt.as_nanos()));
        if rtt > b.rtt_max {
            b.rtt_max = rtt;
        }
    }

    /// The bin for `ts`, growing or coarsening the series as needed. Times before the start
    /// count in the first bin.
    fn slot(&mut self, ts: Timestamp) -> &mut Bin {
        let start = *self.start.get_or_insert(ts);
        let offset = ts.since(start).as_nanos().max(0);
        let mut idx = index(offset, self.bin);
        while idx >= MAX_BINS {
            self.coarsen();
            idx = index(offset, self.bin);
        }
        if self.bins.len() <= idx {
            self.bins.resize(idx + 1, Bin::default());
        }
        // `idx < MAX_BINS` and the vector was just grown past it.
        let last = self.bins.len() - 1;
        &mut self.bins[idx.min(last)]
    }

    /// Merges neighbouring bins in pairs and doubles the width.
    fn coarsen(&mut self) {
        let merged: Vec<Bin> = self
            .bins
            .chunks(2)
            .map(|pair| {
                let mut b = pair[0];
                if let Some(second) = pair.get(1) {
                    b.merge(second);
                }
                b
            })
            .collect();
        self.bins = merged;
        self.bin = Span::from_nanos(self.bin.as_nanos().saturating_mul(2));
    }

    /// The series with bins merged until at most `max_bins` remain (for a compact rendering).
    pub fn coarsened_to(&self, max_bins: usize) -> FlowSeries {
        let mut s = self.clone();
        while s.bins.len() > max_bins.max(1) && s.bin.as_nanos() < i64::MAX / 2 {
            s.coarsen();
        }
        s
    }

    /// New data of each bin in kbit/s (sequence progress: at the sender this excludes
    /// retransmissions, so it is not the goodput; see [`FlowSeries::acked_kbps`]).
    pub fn new_data_kbps(&self) -> Vec<f64> {
        let secs = self.bin.as_secs_f64();
        self.bins
            .iter()
            .map(|b| {
                if secs > 0.0 {
                    b.bytes as f64 * 8.0 / secs / 1000.0
                } else {
                    0.0
                }
            })
            .collect()
    }

    /// Acknowledged bytes of each bin in kbit/s (goodput as the receiver confirmed it).
    pub fn acked_kbps(&self) -> Vec<f64> {
        let secs = self.bin.as_secs_f64();
        self.bins
            .iter()
            .map(|b| {
                if secs > 0.0 {
                    b.acked as f64 * 8.0 / secs / 1000.0
                } else {
                    0.0
                }
            })
            .collect()
    }

    /// One line for a report: the bin width, then new data and acknowledged data (kbit/s),
    /// loss signals and mean RTT (ms, `-` without samples) per bin, at most `max_bins` bins.
    pub fn render(&self, max_bins: usize) -> String {
        let s = self.coarsened_to(max_bins);
        let join = |v: Vec<String>| v.join(" ");
        let kbps = |v: Vec<f64>| join(v.iter().map(|k| format!("{k:.0}")).collect());
        format!(
            "per {:.0} ms bin from the first packet: new data kbit/s [{}]; acknowledged kbit/s [{}]; loss signals [{}]; mean RTT ms [{}]",
            s.bin.as_millis_f64(),
            kbps(s.new_data_kbps()),
            kbps(s.acked_kbps()),
            join(s.bins.iter().map(|b| b.losses.to_string()).collect()),
            join(
                s.bins
                    .iter()
                    .map(|b| b
                        .rtt_mean()
                        .map_or_else(|| "-".to_string(), |r| format!("{:.0}", r.as_millis_f64())))
                    .collect()
            )
        )
    }
}

fn index(offset_ns: i64, bin: Span) -> usize {
    let w = bin.as_nanos().max(1);
    usize::try_from(offset_ns / w).unwrap_or(usize::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(n: u64) -> FrameNumber {
        FrameNumber::new(n).unwrap()
    }

    #[test]
    fn bins_grow_then_coarsen_within_the_cap() {
        let mut s = FlowSeries::default();
        let t0 = Timestamp::from_nanos(1_000_000_000);
        s.touch(t0);
        s.add_bytes(t0, f(1), 1000);
        s.add_bytes(t0.plus(Span::from_millis(150)), f(2), 500);
        assert_eq!(s.bins.len(), 2);
        assert_eq!(s.bins[1].bytes, 500);
        // One hour later: far beyond 128 bins of 100 ms.
        s.add_bytes(t0.plus(Span::from_secs(3600)), f(3), 10);
        assert!(s.bins.len() <= MAX_BINS);
        assert_eq!(s.bins.iter().map(|b| b.bytes).sum::<u64>(), 1510);
        assert_eq!(s.total_bytes, 1510);
        assert_eq!(s.last_data, Some((t0.plus(Span::from_secs(3600)), f(3))));
        // Out-of-order timestamps land in the first bin.
        s.add_loss(Timestamp::EPOCH);
        assert_eq!(s.bins[0].losses, 1);
    }

    use proptest::prelude::*;

    proptest! {
        #[test]
        fn arbitrary_times_stay_within_the_bins(
            events in proptest::collection::vec((any::<i64>(), 0u8..4, any::<u32>()), 0..300),
        ) {
            let mut s = FlowSeries::default();
            for (i, (t, kind, x)) in events.into_iter().enumerate() {
                let ts = Timestamp::from_nanos(t);
                match kind {
                    0 => s.add_bytes(ts, f(i as u64 + 1), u64::from(x)),
                    1 => s.add_acked(ts, f(i as u64 + 1), u64::from(x)),
                    2 => s.add_loss(ts),
                    _ => s.add_rtt(ts, Span::from_nanos(i64::from(x))),
                }
                prop_assert!(s.bins.len() <= MAX_BINS);
            }
            let _ = s.render(8);
        }
    }

    #[test]
    fn rendering_is_compact() {
        let mut s = FlowSeries::default();
        let t0 = Timestamp::from_nanos(0);
        for i in 0..200 {
            let t = t0.plus(Span::from_millis(i * 100));
            s.add_bytes(t, f(i as u64 + 1), 1250);
            s.add_rtt(t, Span::from_millis(100));
        }
        s.add_acked(t0, f(1), 10);
        let text = s.render(16);
        assert!(text.starts_with("per 1600 ms bin"), "{text}");
        assert!(text.contains("new data kbit/s [100 100"), "{text}");
        assert!(text.contains("mean RTT ms [100"), "{text}");
        assert_eq!(s.bins[0].rtt_mean(), Some(Span::from_millis(100)));
    }
}
