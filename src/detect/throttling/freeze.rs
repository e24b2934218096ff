//! Follows what happens on a TCP flow after the server's data stopped being delivered and
//! decides whether the flow froze at a plateau of a few kilobytes (the Russian "16–20 KB"
//! freeze of 2024–2025); it reads the packet facts the detector hands it, never bytes, and
//! must not call a completed, idle, window-limited or merely cut-short transfer a freeze.
//!
//! # Source
//!
//! `../shared/reference/signatures.md` §4.1(c) (net4people/bbs issues #490, #546, #662 and the
//! Cloudflare analysis of 2025-06-26 as summarised there): once about 15–20 KB have flowed
//! from a foreign hosting range, further server packets stop arriving, with no RST; reported as
//! the first 10–14 packets of the response. §4.3 `STALL_AFTER_N_BYTES` suggests the plateau
//! `N ∈ [~10 KB, ~25 KB]`, no FIN/RST, and the client still ACKing or retransmitting for at
//! least two retransmission timeouts.
//!
//! # The rule
//!
//! The *plateau* is the server's data the client acknowledged, counted from the server's
//! first byte (TLS handshake included, as the box counts the connection's bytes). Every time
//! the acknowledgment moves, the counters of "what happened after" start again, so at the end
//! of the flow they describe the time after the last delivery. A freeze needs all of:
//!
//! - a plateau of [`MIN_PLATEAU`]..=[`MAX_PLATEAU`] bytes (10,000 to 25,000: §4.3's bounds,
//!   which hold the reported 14–22 KB and 10–14 full segments with room for headers);
//! - no FIN and no RST from either side anywhere in the flow (a closed connection is not
//!   frozen);
//! - the flow visibly alive for at least [`RTO_MULTIPLE`] retransmission timeouts after the
//!   last delivery (the timeout taken as the larger of [`MIN_RTO`], RFC 6298's minimum, and
//!   [`RTO_RTT_MULTIPLE`] handshake RTTs): the last seconds of a capture prove nothing;
//! - a client window of at least one full segment at its last acknowledgment (a zero or full
//!   receive window stops the server legitimately);
//! - a positive sign that the server had more to send and it did not get through:
//!   - at the client: a packet from the server whose sequence number is past the plateau
//!     while none of those bytes arrived (a keepalive answer or bare ACK: `high`); or the
//!     client's own data after the plateau retransmitted without acknowledgment, or two or
//!     more keepalives the server never answered (`medium`: also what a vanished server
//!     looks like);
//!   - at the server: the server sent data beyond the plateau and retransmitted it at least
//!     [`MIN_SERVER_RETRANSMISSIONS`] times with no acknowledgment progress (`high`).
//!
//! With no such sign (the server simply had nothing more: an application that pauses, a
//! long-poll, a completed response) the flow is left alone. Captures taken in between (neither
//! end's vantage) or without the handshake are not judged.

use crate::ids::FrameNumber;
use crate::proto::tcp::seq::SeqNumber;
use crate::time::{Span, Timestamp};

/// Smallest plateau judged, bytes of server data acknowledged.
pub const MIN_PLATEAU: u64 = 10_000;
/// Largest plateau judged.
pub const MAX_PLATEAU: u64 = 25_000;
/// The smallest retransmission timeout assumed (RFC 6298 §2.4).
pub const MIN_RTO: Span = Span::from_secs(1);
/// Handshake RTTs that make one assumed timeout when that is longer.
pub const RTO_RTT_MULTIPLE: i64 = 3;
/// Timeouts the flow must stay alive after the last delivery.
pub const RTO_MULTIPLE: i64 = 2;
/// Server retransmissions of undelivered data (capture at the server).
pub const MIN_SERVER_RETRANSMISSIONS: u32 = 2;
/// Unanswered client keepalives that count as a sign on their own.
pub const MIN_UNANSWERED_KEEPALIVES: u32 = 2;
/// Recent server data frames remembered to cite the last delivered one.
pub const RECENT_DATA: usize = 64;

/// A time and frame.
pub type At = (Timestamp, FrameNumber);

/// What happened after the last delivery (reset each time the acknowledgment moves).
#[derive(Clone, Debug, Default)]
pub struct After {
    /// Client packets.
    pub client_packets: u32,
    /// Client keepalives, first and last.
    pub keepalives: u32,
    /// First keepalive.
    pub first_keepalive: Option<At>,
    /// Last keepalive.
    pub last_keepalive: Option<At>,
    /// Client segments repeating its own data.
    pub client_retransmissions: u32,
    /// Frame of the first of them.
    pub first_client_retransmission: Option<FrameNumber>,
    /// Server packets of any kind.
    pub server_packets: u32,
    /// Server data segments (new or repeated).
    pub server_data: u32,
    /// Server data segments repeating bytes it sent before.
    pub server_retransmissions: u32,
    /// First and last of them.
    pub first_server_retransmission: Option<At>,
    /// Last of them.
    pub last_server_retransmission: Option<At>,
    /// Server packets without data whose sequence number is past the plateau.
    pub server_seq_beyond: u32,
    /// The first of them and the sequence distance past the plateau.
    pub first_seq_beyond: Option<(FrameNumber, u64)>,
    /// Last packet of the flow in either direction.
    pub last_packet: Option<At>,
}

/// The freeze state of one flow.
#[derive(Clone, Debug, Default)]
pub struct FreezeTrack {
    /// Highest server sequence acknowledged by the client.
    pub acked: Option<u32>,
    /// When and by which frame it last moved.
    pub last_progress: Option<At>,
    /// Recent server data segments: (end sequence, time, frame), first transmissions only.
    pub recent: std::collections::VecDeque<(u32, Timestamp, FrameNumber)>,
    /// The client's last advertised window, bytes (scaled).
    pub client_window: Option<u64>,
    /// Highest client sequence acknowledged by the server.
    pub client_acked: Option<u32>,
    /// Highest client sequence sent.
    pub client_next: Option<u32>,
    /// A FIN or RST was seen.
    pub closed: bool,
    /// What happened since the last delivery.
    pub after: After,
}

impl FreezeTrack {
    /// A client acknowledgment of `ack` at `at`, with its scaled window; true when it moved
    /// the acknowledgment (the counters then start again).
    pub fn client_ack(&mut self, ack: u32, window: u64, at: At) -> bool {
        self.client_window = Some(window);
        let moved = self
            .acked
            .is_none_or(|a| SeqNumber(ack).diff(SeqNumber(a)) > 0);
        if moved {
            self.acked = Some(ack);
            self.last_progress = Some(at);
            self.after = After::default();
        }
        moved
    }

    /// A new server data segment ending at `end`.
    pub fn server_new_data(&mut self, end: u32, at: At) {
        if self.recent.len() >= RECENT_DATA {
            self.recent.pop_front();
        }
        self.recent.push_back((end, at.0, at.1));
    }

    /// The data frame whose end the client acknowledged last.
    pub fn last_delivered(&self) -> Option<At> {
        let a = self.acked?;
        self.recent
            .iter()
            .rev()
            .find(|(end, _, _)| *end == a)
            .map(|&(_, t, f)| (t, f))
    }
}

/// The facts the judgment needs beyond the track.
#[derive(Clone, Copy, Debug)]
pub struct Context {
    /// Where the capture was taken: `Some(true)` at the client, `Some(false)` at the server.
    pub at_client: bool,
    /// The server's first sequence number of data (ISN + 1).
    pub server_base: u32,
    /// The server's highest sequence sent.
    pub server_next: Option<u32>,
    /// The handshake RTT.
    pub rtt: Option<Span>,
    /// The client's maximum segment size (for the window check), bytes.
    pub mss: u64,
}

/// How sure the freeze is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Strength {
    /// A sign that the server's data was sent and lost.
    Strong,
    /// A sign that is also what a vanished server looks like.
    Weak,
}

/// A freeze, with the numbers behind it.
#[derive(Clone, Debug)]
pub struct Verdict {
    /// Bytes of server data delivered.
    pub plateau: u64,
    /// Server bytes sent past the plateau (capture at the server; 0 when unknown).
    pub outstanding: u64,
    /// The last delivered data frame (or the acknowledgment that ended the delivery).
    pub last_delivered: At,
    /// Time from the last delivery to the last packet of the flow.
    pub stalled_for: Span,
    /// The assumed retransmission timeout.
    pub rto: Span,
    /// How sure.
    pub strength: Strength,
    /// Which sign decided, in words.
    pub sign: String,
}

/// Judges the flow at its end. `None`: not a freeze.
pub fn judge(track: &FreezeTrack, cx: &Context) -> Option<Verdict> {
    if track.closed {
        return None;
    }
    let acked = track.acked?;
    let plateau = u64::try_from(SeqNumber(acked).diff(SeqNumber(cx.server_base))).ok()?;
    if !(MIN_PLATEAU..=MAX_PLATEAU).contains(&plateau) {
        return None;
    }
    let progress = track.last_progress?;
    let last = track.after.last_packet?;
    let rto = cx
        .rtt
        .map(|r| Span::from_nanos(r.as_nanos().saturating_mul(RTO_RTT_MULTIPLE)))
        .filter(|r| *r > MIN_RTO)
        .unwrap_or(MIN_RTO);
    let stalled_for = last.0.since(progress.0);
    if stalled_for.as_nanos() < rto.as_nanos().saturating_mul(RTO_MULTIPLE) {
        return None;
    }
    if track.client_window.unwrap_or(0) < cx.mss.max(1) {
        return None;
    }
    let a = &track.after;
    let outstanding = cx
        .server_next
        .and_then(|n| u64::try_from(SeqNumber(n).diff(SeqNumber(acked))).ok())
        .unwrap_or(0);
    let (strength, sign) = if cx.at_client {
        if a.server_data > 0 {
            // Server data arrived after the plateau without being acknowledged: holes, not
            // a freeze.
            return None;
        }
        let client_unacked = match (track.client_next, track.client_acked) {
            (Some(n), Some(k)) => SeqNumber(n).diff(SeqNumber(k)) > 0,
            (Some(_), None) => true,
            _ => false,
        };
        if let Some((frame, past)) = a.first_seq_beyond {
            (
                Strength::Strong,
                format!(
                    "{} packet(s) from the server carry sequence numbers past the plateau (frame {frame}: {past} bytes past it) although none of those bytes arrived: the server sent them and they were lost",
                    a.server_seq_beyond
                ),
            )
        } else if a.client_retransmissions > 0 && client_unacked {
            (
                Strength::Weak,
                format!(
                    "the client retransmitted its own data {} time(s) after the plateau (first in frame {}) and the server never acknowledged it",
                    a.client_retransmissions,
                    a.first_client_retransmission.map_or(0, FrameNumber::get)
                ),
            )
        } else if a.keepalives >= MIN_UNANSWERED_KEEPALIVES && a.server_packets == 0 {
            (
                Strength::Weak,
                format!(
                    "the client sent {} keepalives after the plateau and the server answered none",
                    a.keepalives
                ),
            )
        } else {
            return None;
        }
    } else {
        if outstanding == 0 || a.server_retransmissions < MIN_SERVER_RETRANSMISSIONS {
            return None;
        }
        (
            Strength::Strong,
            format!(
                "the server sent {outstanding} bytes past the plateau and retransmitted them {} times without any acknowledgment{}",
                a.server_retransmissions,
                if a.client_packets == 0 {
                    "; the client sent nothing more"
                } else {
                    ""
                }
            ),
        )
    };
    let last_delivered = track.last_delivered().unwrap_or(progress);
    Some(Verdict {
        plateau,
        outstanding,
        last_delivered,
        stalled_for,
        rto,
        strength,
        sign,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(ms: i64, f: u64) -> At {
        (
            Timestamp::from_nanos(ms * 1_000_000),
            FrameNumber::new(f).unwrap(),
        )
    }

    fn cx(at_client: bool) -> Context {
        Context {
            at_client,
            server_base: 1000,
            server_next: Some(1000 + 30_000),
            rtt: Some(Span::from_millis(60)),
            mss: 1448,
        }
    }

    fn frozen_track() -> FreezeTrack {
        let mut t = FreezeTrack::default();
        t.server_new_data(1000 + 16_000, at(100, 20));
        t.client_ack(1000 + 16_000, 65_535, at(101, 21));
        t.after.last_packet = Some(at(20_000, 30));
        t.after.server_packets = 1;
        t.after.server_seq_beyond = 1;
        t.after.first_seq_beyond = Some((FrameNumber::new(25).unwrap(), 1448));
        t
    }

    #[test]
    fn a_clean_freeze_at_the_client_is_strong() {
        let v = judge(&frozen_track(), &cx(true)).unwrap();
        assert_eq!(v.plateau, 16_000);
        assert_eq!(v.strength, Strength::Strong);
        assert_eq!(v.last_delivered.1.get(), 20);
    }

    #[test]
    fn closed_short_zero_window_or_silent_flows_are_not_frozen() {
        let mut t = frozen_track();
        t.closed = true;
        assert!(judge(&t, &cx(true)).is_none());
        let mut t = frozen_track();
        t.after.last_packet = Some(at(1_500, 30));
        assert!(judge(&t, &cx(true)).is_none(), "capture ends too soon");
        let mut t = frozen_track();
        t.client_window = Some(0);
        assert!(judge(&t, &cx(true)).is_none(), "zero window");
        let mut t = frozen_track();
        t.after.server_seq_beyond = 0;
        t.after.first_seq_beyond = None;
        assert!(judge(&t, &cx(true)).is_none(), "no sign: an idle server");
        let mut t = frozen_track();
        t.client_ack(1000 + 40_000, 65_535, at(200, 40));
        t.after.last_packet = Some(at(20_000, 50));
        assert!(judge(&t, &cx(true)).is_none(), "plateau too high");
    }

    #[test]
    fn the_server_view_needs_unacknowledged_retransmissions() {
        let mut t = frozen_track();
        t.after.server_retransmissions = 1;
        assert!(judge(&t, &cx(false)).is_none());
        t.after.server_retransmissions = 5;
        let v = judge(&t, &cx(false)).unwrap();
        assert_eq!(v.outstanding, 14_000);
    }
}
