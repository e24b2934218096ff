//! Decides whether the losses of one direction of one flow segment follow a token-bucket
//! policer (the PD heuristic of Flach et al., SIGCOMM 2016), from a compact record of that
//! direction's transmissions; pure arithmetic, it never sees packets, flows or findings.
//!
//! # Source
//!
//! Tobias Flach, Pavlos Papageorge, Andreas Terzis, Luis Pedrosa, Yuchung Cheng, Tayeb Karim,
//! Ethan Katz-Bassett, Ramesh Govindan, "An Internet-Wide Analysis of Traffic Policing",
//! ACM SIGCOMM 2016, §3 and Table 1; the authors' public implementation
//! `USC-NSL/policing-detection` (`policing_detector.py`, Apache-2.0), whose behaviour this
//! module reproduces (read for its constants and order of checks; the code here is our own).
//! `../shared/reference/signatures.md` §4.1(a) summarises both.
//!
//! # The heuristic, step by step
//!
//! The input is one sender's transmissions in capture order ([`Tx`]): each with its time, its
//! sequence offset from the start of the segment, its length, whether it was lost (retransmitted
//! later and not shown spurious), and, when the collector could measure one, the RTT sample it
//! carries. [`analyze`] then:
//!
//! 1. finds the first and the last loss (skipping `cutoff` losses at each end; the published
//!    tool runs with 0 and 2); fewer than two losses is [`Outcome::InsufficientLoss`];
//! 2. rejects a first loss more than [`LATE_LOSS_THRESHOLD`] bytes into the segment
//!    ([`Outcome::LateLoss`]): a policer with a bucket that large is indistinguishable from
//!    congestion;
//! 3. estimates the policing rate as the goodput between the first and the last loss (bytes of
//!    transmissions from the first loss up to, not including, the last loss that were not lost,
//!    over the time between the two) and the burst as the bytes sent before the first loss;
//! 4. takes the median of the RTT samples and derives the zero-fill tolerances
//!    ([`ZERO_THRESHOLD_LOSS_RTT_MULTIPLIER`] and [`ZERO_THRESHOLD_PASS_RTT_MULTIPLIER`] times
//!    the median RTT times the rate, in bytes);
//! 5. checks that the line through the first loss with the policing slope does not start below
//!    minus the pass tolerance at the start of the segment ([`Outcome::NegativeFill`]): the
//!    bucket cannot have started with a negative fill;
//! 6. simulates a bucket that is empty at the first loss and fills at the rate; every lost
//!    transmission records the tokens available, every passed one records them and spends its
//!    length. Along the way it counts RTT-long slices containing losses (a new slice starts at
//!    the first loss more than one median RTT after the current slice began) and, at every
//!    loss, whether the second most recent RTT sample was inflated (at least the running
//!    median, more than [`INFLATED_RTT_THRESHOLD`] times the running 10th percentile, and at
//!    least [`INFLATED_RTT_MIN`]). RTT samples are skipped while a loss is being repaired: a
//!    transmission contributes its sample only if it comes after the acknowledgment that
//!    finally covered every earlier loss;
//! 7. requires [`MIN_NUM_SLICES_WITH_LOSS`] slices and [`MIN_NUM_SAMPLES`] loss and pass
//!    samples ([`Outcome::InsufficientLoss`]);
//! 8. requires fewer tokens at losses than at passes, in mean and in median
//!    ([`Outcome::HigherFillOnLoss`]);
//! 9. allows at most [`ZERO_THRESHOLD_LOSS_OUT_OF_RANGE`] of the losses to see a token count
//!    further than the loss tolerance from the median count at losses
//!    ([`Outcome::LossFillOutOfRange`]) and at most [`ZERO_THRESHOLD_PASS_OUT_OF_RANGE`] of the
//!    passes to see more than the pass tolerance below that median
//!    ([`Outcome::PassFillOutOfRange`]): losses happen when the bucket is empty, passes when it
//!    is not;
//! 10. vetoes when more than [`INFLATED_RTT_TOLERANCE`] of the losses follow an inflated RTT
//!     ([`Outcome::InflatedRtt`]): queueing before losses means a congested or shaped
//!     bottleneck, not a policer, which drops without queueing.
//!
//! The result codes are the published tool's (0 policed, 1 to 7 in the order above), so the
//! outcome can be compared with its CSV output row by row.
//!
//! # Differences from the published code, all deliberate
//!
//! - RTTs are kept at nanosecond precision; the tool truncates them to whole milliseconds
//!   (Python 2 integer division). Only samples within a millisecond of a threshold can differ.
//! - The RTT samples are whatever the collector attached to each transmission; with none at
//!   all, a fallback RTT (the handshake's) may be given, and without either the direction is
//!   [`Outcome::NoRtt`] (the tool would compare against NaN and silently pass the RTT checks).
//! - Only transmissions carrying data are counted; the tool also counts the sender's pure ACKs
//!   as passes of zero bytes (they change the pass counts and medians slightly).

use crate::ids::FrameNumber;
use crate::time::{Span, Timestamp};

/// At least this many loss samples and this many pass samples (PD `MIN_NUM_SAMPLES`; the paper
/// ran the detector only on flows with at least 15 losses after lower values produced false
/// positives in a parameter sweep).
pub const MIN_NUM_SAMPLES: usize = 15;
/// Losses must fall in at least this many RTT-long slices (PD `MIN_NUM_SLICES_WITH_LOSS`): a
/// single burst of losses says nothing about a rate.
pub const MIN_NUM_SLICES_WITH_LOSS: u32 = 3;
/// The first loss must come within this many bytes of the segment's start (PD
/// `LATE_LOSS_THRESHOLD = 2E6`).
pub const LATE_LOSS_THRESHOLD: u64 = 2_000_000;
/// Token tolerance at losses, in median RTTs of data at the policing rate (PD
/// `ZERO_THRESHOLD_LOSS_RTT_MULTIPLIER`).
pub const ZERO_THRESHOLD_LOSS_RTT_MULTIPLIER: f64 = 2.0;
/// Token tolerance at passes, in median RTTs of data at the policing rate (PD
/// `ZERO_THRESHOLD_PASS_RTT_MULTIPLIER`).
pub const ZERO_THRESHOLD_PASS_RTT_MULTIPLIER: f64 = 0.75;
/// Largest fraction of losses allowed outside the loss tolerance (PD
/// `ZERO_THRESHOLD_LOSS_OUT_OF_RANGE`).
pub const ZERO_THRESHOLD_LOSS_OUT_OF_RANGE: f64 = 0.10;
/// Largest fraction of passes allowed below the pass tolerance (PD
/// `ZERO_THRESHOLD_PASS_OUT_OF_RANGE`).
pub const ZERO_THRESHOLD_PASS_OUT_OF_RANGE: f64 = 0.03;
/// The RTT percentile that defines an uninflated RTT (PD `INFLATED_RTT_PERCENTILE`).
pub const INFLATED_RTT_PERCENTILE: f64 = 10.0;
/// An RTT sample above this multiple of the percentile is inflated (PD
/// `INFLATED_RTT_THRESHOLD`).
pub const INFLATED_RTT_THRESHOLD: f64 = 1.3;
/// An inflated RTT sample is also at least this long (the literal `20` ms in PD's check).
pub const INFLATED_RTT_MIN: Span = Span::from_millis(20);
/// Largest fraction of losses that may follow an inflated RTT (PD `INFLATED_RTT_TOLERANCE`).
pub const INFLATED_RTT_TOLERANCE: f64 = 0.2;

/// One transmission of the analysed direction, as the heuristic needs it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Tx {
    /// When it was seen (for a loss seen only as a hole at the receiver: when the hole
    /// appeared).
    pub ts: Timestamp,
    /// The frame that carried it (for a hole: the segment that revealed it). Also orders
    /// transmissions against acknowledgments.
    pub frame: FrameNumber,
    /// Offset of its first byte from the start of the segment's data.
    pub seq: u64,
    /// Payload bytes.
    pub len: u32,
    /// It was sent again later (PD's `rtx`), whether or not it was lost.
    pub repeated: bool,
    /// It was lost: sent again later, and no acknowledgment or D-SACK showed that the first
    /// copy arrived.
    pub lost: bool,
    /// The RTT sample this transmission carries, if any (never for lost ones).
    pub rtt: Option<Span>,
    /// The acknowledgment that first covered it (for a lost transmission: the one that ended
    /// its repair).
    pub acked_by: Option<FrameNumber>,
}

/// What the heuristic concluded; the published tool's result codes in [`Outcome::code`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Outcome {
    /// Every check passed: the losses follow a token bucket (code 0).
    Policed,
    /// Too few losses, loss samples, pass samples or RTT slices with loss (code 1).
    InsufficientLoss,
    /// The first loss came after [`LATE_LOSS_THRESHOLD`] bytes (code 2).
    LateLoss,
    /// The bucket would have started with a negative fill (code 3).
    NegativeFill,
    /// Losses saw as many tokens as passes, in mean or median (code 4).
    HigherFillOnLoss,
    /// Too many losses saw a bucket far from empty (code 5).
    LossFillOutOfRange,
    /// Too many passes saw a bucket far below empty (code 6).
    PassFillOutOfRange,
    /// Too many losses followed an inflated RTT: queueing, not policing (code 7).
    InflatedRtt,
    /// No RTT sample and no fallback: the tolerances cannot be computed (ours, code 8).
    NoRtt,
}

impl Outcome {
    /// The published tool's result code (8 is ours).
    pub fn code(self) -> u8 {
        match self {
            Outcome::Policed => 0,
            Outcome::InsufficientLoss => 1,
            Outcome::LateLoss => 2,
            Outcome::NegativeFill => 3,
            Outcome::HigherFillOnLoss => 4,
            Outcome::LossFillOutOfRange => 5,
            Outcome::PassFillOutOfRange => 6,
            Outcome::InflatedRtt => 7,
            Outcome::NoRtt => 8,
        }
    }

    /// A short snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Policed => "policed",
            Outcome::InsufficientLoss => "insufficient_loss",
            Outcome::LateLoss => "late_loss",
            Outcome::NegativeFill => "negative_fill",
            Outcome::HigherFillOnLoss => "higher_fill_on_loss",
            Outcome::LossFillOutOfRange => "loss_fill_out_of_range",
            Outcome::PassFillOutOfRange => "pass_fill_out_of_range",
            Outcome::InflatedRtt => "inflated_rtt",
            Outcome::NoRtt => "no_rtt",
        }
    }
}

/// Everything the heuristic computed, for evidence; values of steps not reached stay zero.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Analysis {
    /// The conclusion.
    pub outcome: Option<Outcome>,
    /// Transmissions in the record.
    pub transmissions: usize,
    /// Lost transmissions in the record.
    pub losses: usize,
    /// Index of the first loss used (after the cutoff).
    pub first_loss: Option<usize>,
    /// Index of the last loss used (after the cutoff).
    pub last_loss: Option<usize>,
    /// Estimated policing rate, bit/s.
    pub rate_bps: f64,
    /// Bytes sent before the first loss.
    pub burst_bytes: u64,
    /// RTT samples available.
    pub rtt_samples: usize,
    /// Median RTT used for the tolerances (the fallback when there were no samples).
    pub median_rtt: Option<Span>,
    /// 10th percentile of all RTT samples.
    pub p10_rtt: Option<Span>,
    /// Token tolerance at losses, bytes.
    pub loss_zero_threshold: f64,
    /// Token tolerance at passes, bytes.
    pub pass_zero_threshold: f64,
    /// Bucket fill at the segment's start implied by the first loss and the rate, bytes.
    pub y_intercept: f64,
    /// Loss samples from the first loss on.
    pub loss_samples: usize,
    /// Pass samples from the first loss on.
    pub pass_samples: usize,
    /// RTT-long slices containing losses.
    pub slices_with_loss: u32,
    /// Mean tokens available at losses, bytes.
    pub mean_tokens_loss: f64,
    /// Mean tokens available at passes, bytes.
    pub mean_tokens_pass: f64,
    /// Median tokens available at losses, bytes.
    pub median_tokens_loss: f64,
    /// Median tokens available at passes, bytes.
    pub median_tokens_pass: f64,
    /// Losses further than the loss tolerance from the median at losses.
    pub loss_out_of_range: usize,
    /// Passes more than the pass tolerance below the median at losses.
    pub pass_out_of_range: usize,
    /// Losses preceded by an inflated RTT sample.
    pub inflated_losses: usize,
}

impl Analysis {
    /// The outcome (never absent once [`analyze`] returned).
    pub fn outcome(&self) -> Outcome {
        self.outcome.unwrap_or(Outcome::InsufficientLoss)
    }

    /// Fraction of losses preceded by an inflated RTT.
    pub fn inflated_fraction(&self) -> f64 {
        ratio(self.inflated_losses, self.loss_samples)
    }
}

fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 {
        0.0
    } else {
        a as f64 / b as f64
    }
}

/// Runs the heuristic on one direction of one flow segment. `start` is the time of the
/// sender's first packet in the segment (PD measures the initial fill from there);
/// `fallback_rtt` stands in when no transmission carries an RTT sample; `cutoff` losses are
/// ignored at each end when choosing the first and last loss.
pub fn analyze(
    txs: &[Tx],
    start: Timestamp,
    fallback_rtt: Option<Span>,
    cutoff: usize,
) -> Analysis {
    let mut a = Analysis {
        transmissions: txs.len(),
        losses: txs.iter().filter(|t| t.lost).count(),
        ..Analysis::default()
    };
    a.outcome = Some(run(txs, start, fallback_rtt, cutoff, &mut a));
    a
}

fn run(
    txs: &[Tx],
    start: Timestamp,
    fallback_rtt: Option<Span>,
    cutoff: usize,
    a: &mut Analysis,
) -> Outcome {
    // 1. First and last loss.
    let lost: Vec<usize> = (0..txs.len()).filter(|&i| txs[i].lost).collect();
    let Some(&first_no_skip) = lost.first() else {
        return Outcome::InsufficientLoss;
    };
    let (Some(&first), Some(&last)) = (
        lost.get(cutoff),
        lost.len().checked_sub(cutoff + 1).and_then(|i| lost.get(i)),
    ) else {
        return Outcome::InsufficientLoss;
    };
    if last <= first {
        return Outcome::InsufficientLoss;
    }
    a.first_loss = Some(first);
    a.last_loss = Some(last);
    let (f, l) = (&txs[first], &txs[last]);
    // 2. Late first loss.
    if f.seq > LATE_LOSS_THRESHOLD {
        return Outcome::LateLoss;
    }
    // 3. Rate and burst.
    a.rate_bps = goodput_bps(txs, first, last);
    a.burst_bytes = txs[..first_no_skip].iter().map(|t| u64::from(t.len)).sum();
    let _ = l;
    // 4. RTT and tolerances.
    let mut all: Vec<i64> = txs
        .iter()
        .filter_map(|t| t.rtt.map(Span::as_nanos))
        .collect();
    all.sort_unstable();
    a.rtt_samples = all.len();
    let median_ns = if all.is_empty() {
        match fallback_rtt {
            Some(r) => r.as_nanos() as f64,
            None => return Outcome::NoRtt,
        }
    } else {
        percentile(&all, 50.0)
    };
    a.median_rtt = Some(Span::from_nanos(median_ns.round() as i64));
    if !all.is_empty() {
        a.p10_rtt = Some(Span::from_nanos(
            percentile(&all, INFLATED_RTT_PERCENTILE).round() as i64,
        ));
    }
    let median_s = median_ns / 1e9;
    let bytes_per_s = a.rate_bps / 8.0;
    a.loss_zero_threshold = ZERO_THRESHOLD_LOSS_RTT_MULTIPLIER * median_s * bytes_per_s;
    a.pass_zero_threshold = ZERO_THRESHOLD_PASS_RTT_MULTIPLIER * median_s * bytes_per_s;
    // 5. Initial fill.
    a.y_intercept = f.seq as f64 - bytes_per_s * secs(f.ts.since(start));
    if a.y_intercept < -a.pass_zero_threshold {
        return Outcome::NegativeFill;
    }
    // 6. Bucket simulation.
    let mut used = 0.0f64;
    let mut on_loss = Vec::new();
    let mut on_pass = Vec::new();
    let mut running = RunningRtts::new(all.clone());
    let mut repair_until: Option<FrameNumber> = None;
    let mut slices = 1u32;
    let mut slice_end = f.ts.plus(Span::from_nanos(median_ns.round() as i64));
    let mut inflated = 0usize;
    for (i, t) in txs.iter().enumerate() {
        if t.repeated {
            repair_until = repair_until.max(t.acked_by);
        } else if let Some(r) = t.rtt {
            if repair_until.is_none_or(|u| t.frame > u) {
                running.push(r.as_nanos());
            }
        }
        if i < first {
            continue;
        }
        let tokens = bytes_per_s * secs(t.ts.since(f.ts)) - used;
        if t.lost {
            on_loss.push(tokens);
            if running.second_last_inflated() {
                inflated += 1;
            }
            if t.ts > slice_end {
                slice_end = t.ts.plus(Span::from_nanos(median_ns.round() as i64));
                slices += 1;
            }
        } else {
            on_pass.push(tokens);
            used += f64::from(t.len);
        }
    }
    a.slices_with_loss = slices;
    a.loss_samples = on_loss.len();
    a.pass_samples = on_pass.len();
    a.inflated_losses = inflated;
    // 7. Enough evidence.
    if slices < MIN_NUM_SLICES_WITH_LOSS
        || on_loss.len() < MIN_NUM_SAMPLES
        || on_pass.len() < MIN_NUM_SAMPLES
    {
        return Outcome::InsufficientLoss;
    }
    // 8. Fewer tokens at losses than at passes.
    a.mean_tokens_loss = mean(&on_loss);
    a.mean_tokens_pass = mean(&on_pass);
    a.median_tokens_loss = median_f64(&on_loss);
    a.median_tokens_pass = median_f64(&on_pass);
    if a.mean_tokens_loss >= a.mean_tokens_pass || a.median_tokens_loss >= a.median_tokens_pass {
        return Outcome::HigherFillOnLoss;
    }
    // 9. Bucket empty at losses, not overdrawn at passes.
    let m = a.median_tokens_loss;
    a.loss_out_of_range = on_loss
        .iter()
        .filter(|&&t| (t - m).abs() > a.loss_zero_threshold)
        .count();
    a.pass_out_of_range = on_pass
        .iter()
        .filter(|&&t| t - m < -a.pass_zero_threshold)
        .count();
    if (on_loss.len() as f64) * ZERO_THRESHOLD_LOSS_OUT_OF_RANGE < a.loss_out_of_range as f64 {
        return Outcome::LossFillOutOfRange;
    }
    if (on_pass.len() as f64) * ZERO_THRESHOLD_PASS_OUT_OF_RANGE < a.pass_out_of_range as f64 {
        return Outcome::PassFillOutOfRange;
    }
    // 10. No queueing before losses.
    if inflated as f64 > INFLATED_RTT_TOLERANCE * on_loss.len() as f64 {
        return Outcome::InflatedRtt;
    }
    Outcome::Policed
}

/// Goodput in bit/s from the transmission at `first` up to (not including) the one at `last`:
/// bytes not lost over the time between the two.
fn goodput_bps(txs: &[Tx], first: usize, last: usize) -> f64 {
    let (Some(f), Some(l)) = (txs.get(first), txs.get(last)) else {
        return 0.0;
    };
    let dt = secs(l.ts.since(f.ts));
    if first == last || dt <= 0.0 {
        return 0.0;
    }
    let bytes: u64 = txs[first..last]
        .iter()
        .filter(|t| !t.lost)
        .map(|t| u64::from(t.len))
        .sum();
    bytes as f64 * 8.0 / dt
}

fn secs(s: Span) -> f64 {
    s.as_nanos() as f64 / 1e9
}

fn mean(v: &[f64]) -> f64 {
    if v.is_empty() {
        0.0
    } else {
        v.iter().sum::<f64>() / v.len() as f64
    }
}

fn median_f64(v: &[f64]) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    match s.len() {
        0 => 0.0,
        n if n % 2 == 1 => s[n / 2],
        n => (s[n / 2 - 1] + s[n / 2]) / 2.0,
    }
}

/// The `q`th percentile of sorted values with linear interpolation between the two nearest
/// ranks (numpy's default, which PD uses).
fn percentile(sorted: &[i64], q: f64) -> f64 {
    match sorted.len() {
        0 => 0.0,
        n => {
            let pos = (n - 1) as f64 * q / 100.0;
            let lo = pos.floor() as usize;
            let hi = pos.ceil() as usize;
            let (Some(&a), Some(&b)) = (sorted.get(lo), sorted.get(hi)) else {
                return 0.0;
            };
            a as f64 + (b as f64 - a as f64) * (pos - lo as f64)
        }
    }
}

/// The RTT samples seen so far, for the running percentiles: counts over the sorted distinct
/// values of every sample the run may see, in a Fenwick tree (adding a sample and finding the
/// k-th smallest both take O(log n), so a record of 16,384 transmissions costs no more than
/// sorting it); and the last two samples in arrival order, for PD's "sample before the loss".
struct RunningRtts {
    values: Vec<i64>,
    tree: Vec<usize>,
    count: usize,
    last_two: [Option<i64>; 2],
}

impl RunningRtts {
    /// Ready for samples taken from `candidates` (values outside it are ignored).
    fn new(mut candidates: Vec<i64>) -> RunningRtts {
        candidates.sort_unstable();
        candidates.dedup();
        let n = candidates.len();
        RunningRtts {
            values: candidates,
            tree: vec![0; n + 1],
            count: 0,
            last_two: [None, None],
        }
    }

    fn push(&mut self, ns: i64) {
        let Ok(rank) = self.values.binary_search(&ns) else {
            return;
        };
        let mut i = rank + 1;
        while let Some(slot) = self.tree.get_mut(i) {
            *slot += 1;
            i += i & i.wrapping_neg();
        }
        self.count += 1;
        self.last_two = [self.last_two[1], Some(ns)];
    }

    /// The `k`th smallest sample (0-based).
    fn kth(&self, k: usize) -> Option<i64> {
        let mut pos = 0usize;
        let mut rem = k + 1;
        let mut step = (self.tree.len().max(2) - 1).next_power_of_two();
        while step > 0 {
            let next = pos + step;
            if let Some(&c) = self.tree.get(next) {
                if c < rem {
                    pos = next;
                    rem -= c;
                }
            }
            step >>= 1;
        }
        self.values.get(pos).copied()
    }

    /// The running `q`th percentile, interpolated as numpy does.
    fn percentile(&self, q: f64) -> f64 {
        if self.count == 0 {
            return 0.0;
        }
        let pos = (self.count - 1) as f64 * q / 100.0;
        let lo = pos.floor() as usize;
        let hi = pos.ceil() as usize;
        match (self.kth(lo), self.kth(hi)) {
            (Some(a), Some(b)) => a as f64 + (b as f64 - a as f64) * (pos - lo as f64),
            _ => 0.0,
        }
    }

    /// PD's inflation test on the second most recent sample: at least the running median,
    /// above 1.3 times the running 10th percentile, and at least 20 ms.
    fn second_last_inflated(&self) -> bool {
        let Some(x) = self.last_two[0] else {
            return false;
        };
        if self.count < 2 {
            return false;
        }
        let x = x as f64;
        x >= self.percentile(50.0)
            && x > INFLATED_RTT_THRESHOLD * self.percentile(INFLATED_RTT_PERCENTILE)
            && x >= INFLATED_RTT_MIN.as_nanos() as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MSS: u32 = 1000;

    fn frame(n: usize) -> FrameNumber {
        FrameNumber::new(n as u64 + 1).unwrap()
    }

    fn ms(x: f64) -> Timestamp {
        Timestamp::from_nanos((x * 1e6) as i64)
    }

    /// A sender at `send_bps` through a policer of `rate_bps` with a bucket of `bucket`
    /// bytes, `n` packets of 1000 bytes, RTT `rtt_ms` for every passing packet (plus
    /// `queue_ms` of extra delay growing with the backlog when `queue_ms` > 0).
    fn policed(n: usize, send_bps: f64, rate_bps: f64, bucket: f64, rtt_ms: f64) -> Vec<Tx> {
        let mut tokens = bucket;
        let mut last = 0.0;
        let mut out = Vec::new();
        let mut seq = 0u64;
        let gap_ms = f64::from(MSS) * 8.0 / send_bps * 1000.0;
        for i in 0..n {
            let t = i as f64 * gap_ms;
            tokens = (tokens + (t - last) / 1000.0 * rate_bps / 8.0).min(bucket);
            last = t;
            let pass = tokens >= f64::from(MSS);
            if pass {
                tokens -= f64::from(MSS);
            }
            out.push(Tx {
                ts: ms(t),
                frame: frame(i),
                seq,
                len: MSS,
                repeated: !pass,
                lost: !pass,
                rtt: pass.then(|| Span::from_nanos((rtt_ms * 1e6) as i64)),
                acked_by: Some(frame(i + 5)),
            });
            seq += u64::from(MSS);
        }
        out
    }

    #[test]
    fn a_token_bucket_is_recognised_with_its_rate_and_burst() {
        // 2 Mbit/s offered into a 500 kbit/s policer with a 20 kB bucket, 100 ms RTT.
        let txs = policed(2000, 2e6, 5e5, 20_000.0, 100.0);
        let a = analyze(&txs, txs[0].ts, None, 0);
        assert_eq!(a.outcome(), Outcome::Policed, "{a:?}");
        assert!((a.rate_bps - 5e5).abs() / 5e5 < 0.05, "rate {}", a.rate_bps);
        // The bucket plus what trickled in while it drained (26 segments at 2 Mbit/s).
        assert_eq!(a.burst_bytes, 26_000);
        assert!(a.loss_samples >= MIN_NUM_SAMPLES && a.pass_samples >= MIN_NUM_SAMPLES);
        assert_eq!(a.inflated_losses, 0);
        assert_eq!(a.median_rtt, Some(Span::from_millis(100)));
        assert_eq!(Outcome::Policed.code(), 0);
        // The published tool's second run ignores two losses at each end.
        assert_eq!(
            analyze(&txs, txs[0].ts, None, 2).outcome(),
            Outcome::Policed
        );
    }

    #[test]
    fn random_loss_is_not_a_token_bucket() {
        // An application sending 50-segment chunks every 500 ms at 10 Mbit/s, with 5 %
        // random loss: losses early in a chunk find the bucket refilled by the pause, late
        // ones find it drained, so the tokens at losses spread far beyond 2 RTTs of data.
        // (A sender at a perfectly constant rate with random loss would pass: TCP's bursts
        // and pauses are what tells random loss apart in practice.)
        let mut x: u32 = 12345;
        let mut txs = Vec::new();
        for i in 0..2000usize {
            let t = (i / 50) as f64 * 500.0 + (i % 50) as f64 * 0.8;
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
            let lost = (x >> 16) % 100 < 5;
            txs.push(Tx {
                ts: ms(t),
                frame: frame(i),
                seq: i as u64 * u64::from(MSS),
                len: MSS,
                repeated: lost,
                lost,
                rtt: (!lost).then(|| Span::from_millis(100)),
                acked_by: Some(frame(i + 5)),
            });
        }
        let a = analyze(&txs, txs[0].ts, None, 0);
        assert_ne!(a.outcome(), Outcome::Policed, "{a:?}");
    }

    #[test]
    fn random_loss_at_a_perfectly_steady_rate_passes_the_token_checks() {
        // A known limit of the heuristic, documented in docs/findings.md: a sender at an
        // exactly constant rate with random loss has an empty "bucket" at every loss.
        let mut txs = policed(2000, 2e6, 1e9, 1e12, 100.0);
        let mut x: u32 = 12345;
        for t in txs.iter_mut() {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
            if (x >> 16) % 100 < 5 {
                t.repeated = true;
                t.lost = true;
                t.rtt = None;
            }
        }
        assert_eq!(
            analyze(&txs, txs[0].ts, None, 0).outcome(),
            Outcome::Policed
        );
    }

    #[test]
    fn losses_after_inflated_rtts_are_queueing() {
        let mut txs = policed(2000, 2e6, 5e5, 20_000.0, 100.0);
        // A queue: RTTs climb to 300 ms just before every loss.
        for i in 0..txs.len() {
            let loss_soon = (1..=2).any(|k| txs.get(i + k).is_some_and(|n| n.lost));
            if !txs[i].lost && loss_soon {
                txs[i].rtt = Some(Span::from_millis(300));
            }
        }
        let a = analyze(&txs, txs[0].ts, None, 0);
        assert_eq!(a.outcome(), Outcome::InflatedRtt, "{a:?}");
        assert!(a.inflated_fraction() > INFLATED_RTT_TOLERANCE);
    }

    #[test]
    fn too_few_losses_late_losses_and_no_rtt() {
        let clean = policed(500, 2e6, 1e9, 1e12, 100.0);
        assert_eq!(
            analyze(&clean, clean[0].ts, None, 0).outcome(),
            Outcome::InsufficientLoss
        );
        assert_eq!(
            analyze(&[], Timestamp::EPOCH, None, 0).outcome(),
            Outcome::InsufficientLoss
        );
        // The policer only starts dropping after 2 MB (bucket of 3 MB).
        let late = policed(6000, 2e6, 5e5, 3e6, 100.0);
        assert_eq!(
            analyze(&late, late[0].ts, None, 0).outcome(),
            Outcome::LateLoss
        );
        let mut no_rtt = policed(2000, 2e6, 5e5, 20_000.0, 100.0);
        for t in &mut no_rtt {
            t.rtt = None;
        }
        assert_eq!(
            analyze(&no_rtt, no_rtt[0].ts, None, 0).outcome(),
            Outcome::NoRtt
        );
        let a = analyze(&no_rtt, no_rtt[0].ts, Some(Span::from_millis(100)), 0);
        assert_eq!(a.outcome(), Outcome::Policed);
        assert_eq!(a.p10_rtt, None);
    }

    #[test]
    fn one_burst_of_losses_is_not_enough() {
        // 20 losses back to back (80 ms), then nothing: one RTT slice.
        let mut txs = policed(600, 2e6, 1e9, 1e12, 100.0);
        for t in txs.iter_mut().skip(100).take(20) {
            t.repeated = true;
            t.lost = true;
            t.rtt = None;
        }
        let a = analyze(&txs, txs[0].ts, None, 0);
        assert_eq!(a.outcome(), Outcome::InsufficientLoss);
        assert_eq!(a.slices_with_loss, 1);
    }

    #[test]
    fn a_bucket_starting_negative_is_refused() {
        let txs = policed(2000, 2e6, 5e5, 20_000.0, 100.0);
        // Pretend the sender started long before: the line through the first loss would
        // start far below zero.
        let a = analyze(&txs, txs[0].ts.plus(Span::from_secs(-100)), None, 0);
        assert_eq!(a.outcome(), Outcome::NegativeFill);
        assert!(a.y_intercept < -a.pass_zero_threshold);
    }

    #[test]
    fn percentiles_match_numpy() {
        let v = [10, 20, 30, 40];
        assert_eq!(percentile(&v, 50.0), 25.0);
        assert!((percentile(&v, 10.0) - 13.0).abs() < 1e-9);
        assert_eq!(percentile(&[7], 10.0), 7.0);
        assert_eq!(percentile(&[], 50.0), 0.0);
        assert_eq!(median_f64(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median_f64(&[]), 0.0);
    }

    #[test]
    fn running_percentiles_match_a_sorted_list() {
        let samples = [
            100, 100, 100, 100, 100, 100, 100, 100, 100, 100, 400, 100, 37, 250, 250,
        ];
        let ns: Vec<i64> = samples.iter().map(|x| x * 1_000_000).collect();
        let mut r = RunningRtts::new(ns.clone());
        assert!(!r.second_last_inflated());
        assert_eq!(r.percentile(50.0), 0.0);
        let mut sorted = Vec::new();
        for (i, &x) in ns.iter().enumerate() {
            r.push(x);
            sorted.push(x);
            sorted.sort_unstable();
            for q in [0.0, 10.0, 50.0, 90.0, 100.0] {
                assert_eq!(r.percentile(q), percentile(&sorted, q), "after {i}, q {q}");
            }
            if i == 11 {
                // The second most recent sample (400 ms) is inflated.
                assert!(r.second_last_inflated());
            }
        }
        // A value it was not prepared for is ignored.
        r.push(5);
        assert_eq!(r.count, ns.len());
    }
}
