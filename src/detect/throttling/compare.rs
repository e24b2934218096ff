//! Compares the finished TCP flows of one capture with each other: a flow with a trigger
//! (SNI, HTTP Host) held far below comparable flows to the same network (targeted
//! throttling), flows policed at one rate across unrelated networks (a plan-wide cap), and
//! an opening exchange far slower than the same server's others (slow handshake); pure
//! arithmetic on per-flow summaries, it never sees packets and must not call a slowdown that
//! every flow shares targeted.
//!
//! # Sources
//!
//! - Targeted throttling: signatures.md §4.1(b) (Xue et al., "Throttling Twitter", IMC 2021:
//!   SNI-triggered policing converging to 130–150 kbit/s), §4.1(e) (OONI dd-007: "extreme"
//!   throttling is a slowdown of at least 10× against what is typical, concurrent targets
//!   being the weaker baseline), §4.1(f) (Wehe-style comparison with a control; in a passive
//!   capture, concurrent flows to the same server without the trigger) and §4.3
//!   `THROTTLE_TARGETED` (rate at most 1/10 of comparable concurrent flows, or a known cap).
//! - Plan-wide cap: §4.2 (subscriber plan caps and shaping of all traffic, the Tele2-3G
//!   confounder; "compare with concurrent non-target flows"), §4.1(a) (PD's rate clusters of
//!   ±5 % per AS on data-plan values; we allow ±10 % for our own rate error).
//! - Slow handshake: §4.1(d) (OONI's YouTube measurements in Russia, 2024: handshakes of
//!   1.32 s and 5 s against 0.43–0.65 s, with smaller reads, consistent with drops) and §4.3
//!   `HANDSHAKE_SLOW` (at least 10× the median for the same server in the capture).

use std::collections::BTreeMap;
use std::net::IpAddr;

use crate::finding::FlowRef;
use crate::ids::FrameNumber;
use crate::time::{Span, Timestamp};

/// A slowdown at least this large against comparable flows (OONI dd-007, signatures.md §4.3).
pub const TARGETED_RATIO: f64 = 10.0;
/// Comparable flows carried between 1/4 and 4 times the suspect's bytes.
pub const SIZE_FACTOR: f64 = 4.0;
/// Comparable flows moved data within this long of the suspect's transfer.
pub const OVERLAP_MARGIN: Span = Span::from_secs(120);
/// A suspect flow carried at least this many bytes from the server (a rate needs data).
pub const MIN_SUSPECT_BYTES: u64 = 30_000;
/// A suspect's transfer lasted at least this long.
pub const MIN_SUSPECT_DURATION: Span = Span::from_secs(1);
/// Loss signals a suspect needs when it was not found policed (a slow flow without loss is
/// limited by its application or its receiver, not by a dropper).
pub const MIN_SUSPECT_LOSSES: u32 = 5;
/// Policed rates within this fraction of one another are one cap.
pub const SAME_RATE: f64 = 0.10;
/// The rate Russia's throttling of Twitter converged to (Xue et al., IMC 2021), kbit/s.
pub const TWITTER_2021_KBPS: (f64, f64) = (130.0, 150.0);
/// Margin around that range.
pub const TWITTER_2021_MARGIN: f64 = 0.10;
/// A slow opening exchange takes at least this many times the median of the others
/// (signatures.md §4.3).
pub const HANDSHAKE_RATIO: f64 = 10.0;
/// And at least this long (so that sub-millisecond LAN handshakes with jitter never count;
/// the throttled YouTube handshakes of §4.1(d) took 1.32 s and 5 s).
pub const HANDSHAKE_MIN: Span = Span::from_millis(500);
/// Other openings to the same server needed for a comparison.
pub const HANDSHAKE_MIN_OTHERS: usize = 2;
/// Comparison flows quoted in a finding.
pub const COMPARISONS_QUOTED: usize = 8;

/// What the comparisons need of one finished flow.
#[derive(Clone, Debug)]
pub struct FlowSummary {
    /// The flow.
    pub flow: FlowRef,
    /// The trigger (kind, value, first frame).
    pub trigger: Option<(&'static str, String, Option<FrameNumber>)>,
    /// Bytes of new server data.
    pub bytes: u64,
    /// First and last server data.
    pub first_data: Option<(Timestamp, FrameNumber)>,
    /// Last server data.
    pub last_data: Option<(Timestamp, FrameNumber)>,
    /// Loss signals of the server's data.
    pub losses: u32,
    /// The policing rate when the server's data was found policed, bit/s.
    pub policed_bps: Option<f64>,
    /// The opening exchange: first client data, first server data after it.
    pub opening: Option<Opening>,
    /// Handshake RTT.
    pub rtt: Option<Span>,
}

/// The opening exchange of a flow (ClientHello or first request, and the first answer).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Opening {
    /// The client's first data.
    pub client: (Timestamp, FrameNumber),
    /// The server's first data after it.
    pub server: (Timestamp, FrameNumber),
    /// Client retransmissions before the answer.
    pub client_retransmissions: u32,
    /// Loss signals of the server's data before the client spoke again.
    pub server_losses: u32,
    /// Server data segments before the client spoke again, and their bytes.
    pub server_segments: u32,
    /// Their bytes.
    pub server_bytes: u64,
}

impl Opening {
    /// Time from the client's first data to the first answer.
    pub fn duration(&self) -> Span {
        self.server.0.since(self.client.0)
    }

    /// Losses in either direction.
    pub fn losses(&self) -> u32 {
        self.client_retransmissions
            .saturating_add(self.server_losses)
    }
}

impl FlowSummary {
    /// The server's delivery rate, bit/s: the policing rate when policed, otherwise the bytes
    /// over the time from the first to the last server data (at least one handshake RTT).
    pub fn rate_bps(&self) -> f64 {
        if let Some(r) = self.policed_bps {
            return r;
        }
        let span = self.duration().as_secs_f64();
        let floor = self.rtt.map_or(0.001, Span::as_secs_f64).max(0.001);
        self.bytes as f64 * 8.0 / span.max(floor)
    }

    /// Time from the first to the last server data.
    pub fn duration(&self) -> Span {
        match (self.first_data, self.last_data) {
            (Some((a, _)), Some((b, _))) => b.since(a),
            _ => Span::ZERO,
        }
    }

    fn overlaps(&self, other: &FlowSummary) -> bool {
        let (Some((a0, _)), Some((a1, _)), Some((b0, _)), Some((b1, _))) = (
            self.first_data,
            self.last_data,
            other.first_data,
            other.last_data,
        ) else {
            return false;
        };
        let m = OVERLAP_MARGIN.as_nanos();
        b0.as_nanos() <= a1.as_nanos().saturating_add(m)
            && b1.as_nanos() >= a0.as_nanos().saturating_sub(m)
    }
}

/// The network of a server: its /24 (IPv4) or /48 (IPv6).
pub fn network(addr: IpAddr) -> IpAddr {
    match addr {
        IpAddr::V4(a) => {
            let o = a.octets();
            IpAddr::V4(std::net::Ipv4Addr::new(o[0], o[1], o[2], 0))
        }
        IpAddr::V6(a) => {
            let s = a.segments();
            IpAddr::V6(std::net::Ipv6Addr::new(s[0], s[1], s[2], 0, 0, 0, 0, 0))
        }
    }
}

/// Is `kbps` within the margin of the 2021 Twitter cap?
pub fn near_twitter_cap(kbps: f64) -> bool {
    let (lo, hi) = TWITTER_2021_KBPS;
    kbps >= lo * (1.0 - TWITTER_2021_MARGIN) && kbps <= hi * (1.0 + TWITTER_2021_MARGIN)
}

/// Policed flows at one rate across several networks: a cap on the line or plan.
#[derive(Clone, Debug, PartialEq)]
pub struct UniformCap {
    /// Indices of the member flows in the summaries.
    pub members: Vec<usize>,
    /// Distinct server networks among them.
    pub networks: usize,
    /// Lowest and highest member rate, bit/s.
    pub range_bps: (f64, f64),
}

/// Groups the policed flows into rate clusters (sorted by rate; a flow joins the cluster when
/// its rate is within [`SAME_RATE`] of the cluster's lowest) and keeps those spanning at least
/// two server networks.
pub fn uniform_caps(summaries: &[FlowSummary]) -> Vec<UniformCap> {
    let mut policed: Vec<(f64, usize)> = summaries
        .iter()
        .enumerate()
        .filter_map(|(i, s)| {
            s.policed_bps
                .filter(|r| r.is_finite() && *r > 0.0)
                .map(|r| (r, i))
        })
        .collect();
    policed.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    let mut out = Vec::new();
    let mut k = 0;
    while k < policed.len() {
        let low = policed[k].0;
        let mut end = k;
        while end < policed.len() && policed[end].0 <= low * (1.0 + SAME_RATE) {
            end += 1;
        }
        let members: Vec<usize> = policed[k..end].iter().map(|&(_, i)| i).collect();
        let networks: std::collections::BTreeSet<IpAddr> = members
            .iter()
            .map(|&i| network(summaries[i].flow.server.addr))
            .collect();
        if networks.len() >= 2 {
            out.push(UniformCap {
                members,
                networks: networks.len(),
                range_bps: (low, policed[end - 1].0),
            });
        }
        k = end;
    }
    out
}

/// A flow held far below comparable flows.
#[derive(Clone, Debug, PartialEq)]
pub struct Targeted {
    /// The slow flow's index.
    pub suspect: usize,
    /// The comparison flows' indices (fastest first).
    pub comparisons: Vec<usize>,
    /// The suspect's rate, bit/s.
    pub rate_bps: f64,
    /// The comparison flows' median rate, bit/s (0 without comparisons).
    pub comparison_bps: f64,
    /// Their ratio (0 without comparisons).
    pub ratio: f64,
    /// No comparison flows: the verdict rests on the known cap alone.
    pub cap_only: bool,
}

/// Finds targeted throttling. `caps` are the uniform caps of the same summaries; their
/// members are never suspects.
pub fn targeted(summaries: &[FlowSummary], caps: &[UniformCap]) -> Vec<Targeted> {
    let in_cap = |i: usize| caps.iter().any(|c| c.members.contains(&i));
    let mut by_net: BTreeMap<IpAddr, Vec<usize>> = BTreeMap::new();
    for (i, s) in summaries.iter().enumerate() {
        if s.bytes > 0 {
            by_net
                .entry(network(s.flow.server.addr))
                .or_default()
                .push(i);
        }
    }
    let mut out = Vec::new();
    for (i, s) in summaries.iter().enumerate() {
        let Some((_, trigger, _)) = &s.trigger else {
            continue;
        };
        if in_cap(i)
            || s.bytes < MIN_SUSPECT_BYTES
            || s.duration() < MIN_SUSPECT_DURATION
            || (s.policed_bps.is_none() && s.losses < MIN_SUSPECT_LOSSES)
        {
            continue;
        }
        let rate = s.rate_bps();
        if rate <= 0.0 || !rate.is_finite() {
            continue;
        }
        let peers = by_net
            .get(&network(s.flow.server.addr))
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        let mut comparisons: Vec<(f64, usize)> = peers
            .iter()
            .copied()
            .filter(|&j| j != i)
            .filter(|&j| {
                let o = &summaries[j];
                let same_trigger = o.trigger.as_ref().is_some_and(|(_, v, _)| v == trigger);
                let lo = s.bytes as f64 / SIZE_FACTOR;
                let hi = s.bytes as f64 * SIZE_FACTOR;
                !same_trigger && (o.bytes as f64) >= lo && (o.bytes as f64) <= hi && s.overlaps(o)
            })
            .map(|j| (summaries[j].rate_bps(), j))
            .collect();
        comparisons.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        if comparisons.is_empty() {
            if s.policed_bps.is_some() && near_twitter_cap(rate / 1000.0) {
                out.push(Targeted {
                    suspect: i,
                    comparisons: Vec::new(),
                    rate_bps: rate,
                    comparison_bps: 0.0,
                    ratio: 0.0,
                    cap_only: true,
                });
            }
            continue;
        }
        let rates: Vec<f64> = comparisons.iter().map(|c| c.0).collect();
        let median = median(&rates);
        let ratio = median / rate;
        if ratio >= TARGETED_RATIO {
            out.push(Targeted {
                suspect: i,
                comparisons: comparisons.iter().map(|c| c.1).collect(),
                rate_bps: rate,
                comparison_bps: median,
                ratio,
                cap_only: false,
            });
        }
    }
    out
}

/// An opening exchange far slower than the same server's others.
#[derive(Clone, Debug, PartialEq)]
pub struct SlowOpening {
    /// The slow flow's index.
    pub flow: usize,
    /// The other flows to the same server with an opening (fastest first).
    pub others: Vec<usize>,
    /// The median of their opening times.
    pub median: Span,
}

/// Finds slow opening exchanges: at least [`HANDSHAKE_RATIO`] times the median of at least
/// [`HANDSHAKE_MIN_OTHERS`] other openings to the same server address, at least
/// [`HANDSHAKE_MIN`] long, with at least one loss during it.
pub fn slow_openings(summaries: &[FlowSummary]) -> Vec<SlowOpening> {
    let mut by_server: BTreeMap<IpAddr, Vec<usize>> = BTreeMap::new();
    for (i, s) in summaries.iter().enumerate() {
        if s.opening.is_some() && s.trigger.is_some() {
            by_server.entry(s.flow.server.addr).or_default().push(i);
        }
    }
    let mut out = Vec::new();
    for flows in by_server.values() {
        if flows.len() <= HANDSHAKE_MIN_OTHERS {
            continue;
        }
        for &i in flows {
            let Some(o) = summaries[i].opening else {
                continue;
            };
            if o.losses() == 0 || o.duration() < HANDSHAKE_MIN {
                continue;
            }
            let mut others: Vec<(Span, usize)> = flows
                .iter()
                .copied()
                .filter(|&j| j != i)
                .filter_map(|j| summaries[j].opening.map(|x| (x.duration(), j)))
                .collect();
            others.sort_by_key(|&(d, j)| (d, j));
            let ds: Vec<f64> = others.iter().map(|(d, _)| d.as_secs_f64()).collect();
            let med = median(&ds);
            if o.duration().as_secs_f64() >= HANDSHAKE_RATIO * med && med >= 0.0 {
                out.push(SlowOpening {
                    flow: i,
                    others: others.iter().map(|&(_, j)| j).collect(),
                    median: Span::from_nanos((med * 1e9) as i64),
                });
            }
        }
    }
    out
}

fn median(v: &[f64]) -> f64 {
    let mut v: Vec<f64> = v.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::{Endpoint, FlowId, L4Proto};

    fn f(n: u64) -> FrameNumber {
        FrameNumber::new(n).unwrap()
    }

    fn t(ms: i64) -> Timestamp {
        Timestamp::from_nanos(ms * 1_000_000)
    }

    fn summary(id: u64, server: &str, sni: &str, bytes: u64, secs: i64) -> FlowSummary {
        FlowSummary {
            flow: FlowRef {
                proto: L4Proto::Tcp,
                client: Endpoint {
                    addr: "192.168.1.20".parse().unwrap(),
                    port: 50000,
                },
                server: Endpoint {
                    addr: server.parse().unwrap(),
                    port: 443,
                },
                id: FlowId {
                    first_frame: f(id + 1),
                    depth: 0,
                },
            },
            trigger: Some(("sni", sni.to_string(), Some(f(4)))),
            bytes,
            first_data: Some((t(100), f(5))),
            last_data: Some((t(100 + secs * 1000), f(9))),
            losses: 0,
            policed_bps: None,
            opening: None,
            rtt: Some(Span::from_millis(40)),
        }
    }

    #[test]
    fn a_policed_flow_beside_a_fast_one_is_targeted_but_a_plan_cap_is_not() {
        let mut slow = summary(1, "198.51.100.150", "abs.twimg.example", 90_000, 5);
        slow.policed_bps = Some(140_000.0);
        let fast = summary(2, "198.51.100.150", "www.neutral.example", 100_000, 0);
        let v = vec![slow.clone(), fast];
        let caps = uniform_caps(&v);
        assert!(caps.is_empty());
        let found = targeted(&v, &caps);
        assert_eq!(found.len(), 1);
        assert!(found[0].ratio >= TARGETED_RATIO && !found[0].cap_only);

        let mut a = summary(1, "198.51.100.14", "a.example", 80_000, 2);
        a.policed_bps = Some(140_000.0);
        let mut b = summary(2, "203.0.113.201", "b.example", 90_000, 2);
        b.policed_bps = Some(145_000.0);
        let v = vec![a, b];
        let caps = uniform_caps(&v);
        assert_eq!(caps.len(), 1);
        assert!(targeted(&v, &caps).is_empty());
        // Alone, a policed flow at the Twitter rate is targeted on the cap alone.
        let v = vec![slow];
        let found = targeted(&v, &[]);
        assert!(found[0].cap_only);
    }

    #[test]
    fn slow_flows_without_loss_are_not_suspects() {
        let slow = summary(1, "198.51.100.150", "x.example", 90_000, 20);
        let fast = summary(2, "198.51.100.150", "y.example", 100_000, 0);
        assert!(targeted(&[slow, fast], &[]).is_empty());
    }

    #[test]
    fn slow_openings_need_losses_and_company() {
        let mut v = Vec::new();
        for k in 0..4u64 {
            let mut s = summary(k, "198.51.100.200", "v.example", 12_000, 0);
            let d = if k == 2 { 1030 } else { 46 };
            s.opening = Some(Opening {
                client: (t(0), f(4)),
                server: (t(d), f(6)),
                client_retransmissions: u32::from(k == 2),
                server_losses: 0,
                server_segments: 3,
                server_bytes: 4000,
            });
            v.push(s);
        }
        let found = slow_openings(&v);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].flow, 2);
        if let Some(o) = v[2].opening.as_mut() {
            o.client_retransmissions = 0;
        }
        assert!(slow_openings(&v).is_empty());
    }
}
