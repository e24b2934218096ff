//! Builds the pictures of the HTML report (packet ladders, DNS timelines, goodput plots) from
//! the packets [`super::collect`] gathered for a capture's findings; it draws nothing (that is
//! `report::svg`) and decides nothing about interference (the findings say what is cited).

use std::collections::{BTreeMap, BTreeSet};

use super::{collect, Collected, FlowPackets, PacketView, Selection};
use crate::capture::{CaptureError, InputSource};
use crate::finding::{Evidence, Finding, FindingClass};
use crate::flow::L4Proto;
use crate::ids::{Direction, FlowId, FrameNumber};
use crate::pipeline::Options;
use crate::report::pictures::{
    DnsEvent, DnsTimeline, Ladder, LadderPacket, Picture, Pictures, SeriesLine, SeriesPlot,
};
use crate::report::CaptureReport;
use crate::time::Timestamp;

/// Bins of a goodput line (fewer when the flow is short).
const SERIES_BINS: usize = 120;
/// The narrowest bin, in seconds.
const MIN_BIN_S: f64 = 0.05;
/// Comparison flows drawn beside a suspect flow.
const MAX_COMPARISONS: usize = 4;

/// Gathers the packets of `report`'s findings from `input` (one more pass over the capture,
/// two when a finding cites frames of other flows) and builds their pictures, keyed by the
/// findings' ids as the report has them.
pub fn pictures_for(
    input: &InputSource,
    options: &Options,
    report: &CaptureReport,
) -> Result<Pictures, CaptureError> {
    let mut pictures = Pictures::default();
    if report.findings.is_empty() {
        return Ok(pictures);
    }
    let mut sel = Selection {
        flows: report.findings.iter().map(|f| f.flow.id).collect(),
        frames_of_interest: report
            .findings
            .iter()
            .filter(|f| f.class == FindingClass::Throttling)
            .flat_map(|f| f.frames.iter().copied())
            .collect(),
        ..Selection::default()
    };
    // Options as the report was made, but no flow list: only packets are wanted here.
    let options = Options {
        collect_flows: false,
        ..options.clone()
    };
    let mut collected = collect(input, &options, &sel)?;
    let extra: BTreeSet<FlowId> = collected
        .flow_of_frame
        .values()
        .copied()
        .filter(|id| !sel.flows.contains(id))
        .collect();
    if !extra.is_empty() {
        sel.flows.extend(extra);
        sel.frames_of_interest.clear();
        let again = collect(input, &options, &sel)?;
        collected.flows = again.flows;
    }
    for f in &report.findings {
        for p in pictures_of(f, &collected) {
            pictures.push(f.id.clone(), p);
        }
    }
    Ok(pictures)
}

/// The pictures of one finding.
pub fn pictures_of(f: &Finding, c: &Collected) -> Vec<Picture> {
    let Some(flow) = c.flows.get(&f.flow.id) else {
        return Vec::new();
    };
    let cited = suspects(f);
    let is_dns = flow.proto == L4Proto::Udp && (flow.server.port == 53 || flow.client.port == 53);
    let mut out = Vec::new();
    if f.class == FindingClass::Throttling {
        out.push(Picture::Series(series(f, flow, c)));
        if f.kind.as_str() == "slow_handshake" {
            out.push(Picture::Ladder(ladder(flow, &cited, &roles(f))));
        }
    } else if is_dns {
        out.push(Picture::DnsTimeline(dns_timeline(f, flow, &cited)));
    } else {
        out.push(Picture::Ladder(ladder(flow, &cited, &roles(f))));
    }
    out
}

/// The frames a finding holds against (forged, injected or out of line): those its
/// mismatches, fingerprint matches and timings point at, and packets whose role says forged or
/// injected; all its frames when the evidence singles none out. Baseline and trigger packets
/// are cited too, but drawn as ordinary packets with their role as a note.
fn suspects(f: &Finding) -> BTreeSet<FrameNumber> {
    let mut out = BTreeSet::new();
    for e in &f.evidence {
        match e {
            Evidence::Mismatch { frames, .. } | Evidence::Fingerprint { frames, .. } => {
                out.extend(frames.iter().copied())
            }
            Evidence::Timing { to_frame, .. } => {
                out.insert(*to_frame);
            }
            Evidence::Packet { frame, role, .. } => {
                let r = role.to_ascii_lowercase();
                if r.contains("forged") || r.contains("injected") || r.contains("suspect") {
                    out.insert(*frame);
                }
            }
            _ => {}
        }
    }
    out.retain(|fr| f.frames.contains(fr));
    if out.is_empty() {
        out.extend(f.frames.iter().copied());
    }
    out
}

/// What the finding's evidence says each cited packet is (its packet role, or "baseline" /
/// "trigger").
fn roles(f: &Finding) -> BTreeMap<FrameNumber, String> {
    let mut out = BTreeMap::new();
    if let Some(t) = &f.trigger {
        if let Some(fr) = t.frame {
            out.insert(fr, format!("trigger: {} {}", t.kind, t.value));
        }
    }
    for e in &f.evidence {
        match e {
            Evidence::Packet { frame, role, .. } => {
                out.insert(*frame, role.clone());
            }
            Evidence::Mismatch {
                baseline_frames, ..
            } => {
                for fr in baseline_frames {
                    out.entry(*fr).or_insert_with(|| "baseline".to_string());
                }
            }
            _ => {}
        }
    }
    out
}

fn ms_since(t: Timestamp, t0: Timestamp) -> f64 {
    t.since(t0).as_secs_f64() * 1000.0
}

fn label(p: &PacketView, proto: L4Proto) -> String {
    if let Some(i) = &p.icmp {
        return if i.v6 { "ICMPv6".into() } else { "ICMP".into() };
    }
    let r = &p.record;
    let mut s = if proto == L4Proto::Tcp {
        let f = r.flags;
        let mut parts = Vec::new();
        for (on, name) in [
            (f.syn(), "SYN"),
            (f.fin(), "FIN"),
            (f.rst(), "RST"),
            (f.0 & crate::decode::TcpFlags::PSH.0 != 0, "PSH"),
            (f.ack(), "ACK"),
        ] {
            if on {
                parts.push(name);
            }
        }
        parts.join(" ")
    } else {
        "UDP".to_string()
    };
    if r.payload_len > 0 {
        s.push_str(&format!(" {} B", r.payload_len));
    }
    s
}

/// What the packets the finding does not hold against look like, per direction.
fn baseline(flow: &FlowPackets, cited: &BTreeSet<FrameNumber>) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (dir, who) in [
        (Direction::ServerToClient, "server"),
        (Direction::ClientToServer, "client"),
    ] {
        let own: Vec<&PacketView> = flow
            .packets
            .iter()
            .filter(|p| p.icmp.is_none() && p.record.dir == dir && !cited.contains(&p.record.frame))
            .collect();
        if own.is_empty() {
            out.push((format!("{who} packets not suspect"), "none".to_string()));
            continue;
        }
        let ttls: BTreeSet<u8> = own.iter().map(|p| p.record.ttl).collect();
        out.push((
            format!("{who} TTL (other packets)"),
            ttls.iter()
                .map(|t| t.to_string())
                .collect::<Vec<_>>()
                .join(", "),
        ));
        let ids: Vec<u16> = own.iter().filter_map(|p| p.record.ip_id).collect();
        if let (Some(first), Some(last)) = (ids.first(), ids.last()) {
            let text = if ids.len() == 1 {
                first.to_string()
            } else {
                format!("{first} … {last} over {} packets", ids.len())
            };
            out.push((format!("{who} IP ID (other packets)"), text));
        }
    }
    out
}

fn ladder(
    flow: &FlowPackets,
    cited: &BTreeSet<FrameNumber>,
    roles: &BTreeMap<FrameNumber, String>,
) -> Ladder {
    let t0 = flow.packets.first().map(|p| p.record.ts);
    Ladder {
        client: flow.client.to_string(),
        server: flow.server.to_string(),
        packets: flow
            .packets
            .iter()
            .map(|p| LadderPacket {
                frame: p.record.frame.get(),
                t_ms: t0.map_or(0.0, |t0| ms_since(p.record.ts, t0)),
                from_client: p.record.dir == Direction::ClientToServer,
                label: label(p, flow.proto),
                ttl: p.record.ttl,
                ip_id: p.record.ip_id.map(u32::from),
                note: match (roles.get(&p.record.frame), p.note.is_empty()) {
                    (Some(r), true) => r.clone(),
                    (Some(r), false) => format!("{r}; {}", p.note),
                    (None, _) => p.note.clone(),
                },
                marked: cited.contains(&p.record.frame),
            })
            .collect(),
        elided_before: 0,
        elided_after: flow.omitted,
        baseline: baseline(flow, cited),
    }
}

fn dns_timeline(f: &Finding, flow: &FlowPackets, cited: &BTreeSet<FrameNumber>) -> DnsTimeline {
    // The query the finding is about: the cited query, else the flow's first.
    let query = flow
        .packets
        .iter()
        .find(|p| p.record.dir == Direction::ClientToServer && cited.contains(&p.record.frame))
        .or_else(|| {
            flow.packets
                .iter()
                .find(|p| p.record.dir == Direction::ClientToServer)
        });
    let t0 = query
        .or(flow.packets.first())
        .map(|p| p.record.ts)
        .unwrap_or(Timestamp::EPOCH);
    let question = query
        .and_then(|q| q.note.strip_prefix("DNS query "))
        .and_then(|rest| rest.split_once(' '))
        .map(|(_, q)| match q.split_once(' ') {
            Some((ty, name)) => format!("{name} {ty}"),
            None => q.to_string(),
        })
        .or_else(|| f.trigger.as_ref().map(|t| t.value.clone()))
        .unwrap_or_default();
    DnsTimeline {
        question,
        client: flow.client.to_string(),
        resolver: flow.server.to_string(),
        events: flow
            .packets
            .iter()
            .filter(|p| p.icmp.is_none())
            .map(|p| {
                let is_query = p.record.dir == Direction::ClientToServer;
                DnsEvent {
                    frame: p.record.frame.get(),
                    t_ms: ms_since(p.record.ts, t0),
                    is_query,
                    answers: if is_query {
                        String::new()
                    } else {
                        p.note
                            .split_once(": ")
                            .map_or_else(|| p.note.clone(), |(_, a)| a.to_string())
                    },
                    ttl: p.record.ttl,
                    marked: cited.contains(&p.record.frame),
                }
            })
            .collect(),
    }
}

/// Goodput, retransmissions and RTT samples of the direction of a TCP flow that carries the
/// most data.
struct Progress {
    dir: Direction,
    /// (time, new bytes) per packet that advanced the sequence space.
    new_data: Vec<(Timestamp, u64)>,
    /// Times of retransmitted segments.
    retransmissions: Vec<Timestamp>,
    /// (time of the data, RTT) from data to the first acknowledgment covering it.
    rtt: Vec<(Timestamp, f64)>,
    last_new: Option<Timestamp>,
    total: u64,
}

fn progress(flow: &FlowPackets) -> Progress {
    let bytes = |d: Direction| -> u64 {
        flow.packets
            .iter()
            .filter(|p| p.icmp.is_none() && p.record.dir == d)
            .map(|p| u64::from(p.record.payload_len))
            .sum()
    };
    let dir = if bytes(Direction::ServerToClient) >= bytes(Direction::ClientToServer) {
        Direction::ServerToClient
    } else {
        Direction::ClientToServer
    };
    let mut out = Progress {
        dir,
        new_data: Vec::new(),
        retransmissions: Vec::new(),
        rtt: Vec::new(),
        last_new: None,
        total: 0,
    };
    let mut highest: Option<u64> = None;
    // First transmissions waiting for their acknowledgment: (end, time).
    let mut waiting: Vec<(u64, Timestamp)> = Vec::new();
    let mut retransmitted_ends: BTreeSet<u64> = BTreeSet::new();
    for p in flow.packets.iter().filter(|p| p.icmp.is_none()) {
        let (seq, ack) = flow.relative(p);
        if p.record.dir == dir {
            let (Some(seq), len) = (seq, u64::from(p.record.payload_len)) else {
                continue;
            };
            if len == 0 {
                continue;
            }
            let start = u64::from(seq);
            let end = start + len;
            match highest {
                Some(h) if end <= h => {
                    out.retransmissions.push(p.record.ts);
                    retransmitted_ends.insert(end);
                }
                h => {
                    let new = end - h.unwrap_or(start).max(start).min(end);
                    out.new_data.push((p.record.ts, new));
                    out.total += new;
                    out.last_new = Some(p.record.ts);
                    highest = Some(end);
                    if waiting.len() < 100_000 {
                        waiting.push((end, p.record.ts));
                    }
                }
            }
        } else if let Some(ack) = ack {
            let ack = u64::from(ack);
            // Karn: no sample from a segment that was sent again.
            let mut keep = Vec::with_capacity(waiting.len());
            for (end, t) in waiting.drain(..) {
                if end <= ack {
                    if !retransmitted_ends.contains(&end) {
                        out.rtt.push((t, ms_since(p.record.ts, t)));
                    }
                } else {
                    keep.push((end, t));
                }
            }
            waiting = keep;
        }
    }
    out
}

fn goodput_line(label: String, pr: &Progress, t0: Timestamp, bin_s: f64) -> SeriesLine {
    let mut bins: BTreeMap<u64, u64> = BTreeMap::new();
    for (t, b) in &pr.new_data {
        let s = t.since(t0).as_secs_f64().max(0.0);
        *bins.entry((s / bin_s) as u64).or_default() += b;
    }
    let last = bins.keys().next_back().copied().unwrap_or(0);
    let first = bins.keys().next().copied().unwrap_or(0);
    let points = (first..=last)
        .map(|i| {
            let bytes = bins.get(&i).copied().unwrap_or(0);
            (
                (i as f64 + 0.5) * bin_s,
                bytes as f64 * 8.0 / bin_s / 1000.0,
            )
        })
        .collect();
    SeriesLine { label, points }
}

fn measurement(f: &Finding, metric: &str) -> Option<f64> {
    f.evidence.iter().find_map(|e| match e {
        Evidence::Measurement {
            metric: m, value, ..
        } if m == metric => Some(*value),
        _ => None,
    })
}

fn series(f: &Finding, flow: &FlowPackets, c: &Collected) -> SeriesPlot {
    let pr = progress(flow);
    let t0 = flow
        .packets
        .first()
        .map(|p| p.record.ts)
        .unwrap_or(Timestamp::EPOCH);
    let end = flow.packets.last().map(|p| p.record.ts).unwrap_or(t0);
    let span = end.since(t0).as_secs_f64().max(MIN_BIN_S);
    let bin_s = (span / SERIES_BINS as f64).max(MIN_BIN_S);
    let who = match pr.dir {
        Direction::ServerToClient => format!("{} → client", flow.server),
        Direction::ClientToServer => format!("{} → server", flow.client),
    };
    let mut lines = vec![goodput_line(
        format!("flow {} ({who})", flow.id),
        &pr,
        t0,
        bin_s,
    )];
    // Comparison flows: the other flows whose frames the finding cites.
    let others: BTreeSet<FlowId> = f
        .frames
        .iter()
        .filter_map(|fr| c.flow_of_frame.get(fr).copied())
        .chain(c.flows.keys().copied().filter(|id| {
            f.frames.iter().any(|fr| {
                c.flows
                    .get(id)
                    .is_some_and(|fl| fl.packets.iter().any(|p| p.record.frame == *fr))
            })
        }))
        .filter(|id| *id != flow.id)
        .collect();
    for id in others.into_iter().take(MAX_COMPARISONS) {
        if let Some(other) = c.flows.get(&id) {
            let po = progress(other);
            lines.push(goodput_line(
                format!("flow {id} (comparison, {})", other.server),
                &po,
                t0,
                bin_s,
            ));
        }
    }
    // RTT samples only where they measure a path (at the sender's side of the capture).
    let mut samples: Vec<f64> = pr.rtt.iter().map(|(_, r)| *r).collect();
    samples.sort_by(f64::total_cmp);
    let median = samples.get(samples.len() / 2).copied().unwrap_or(0.0);
    let rtt_ms = if median >= 1.0 {
        pr.rtt
            .iter()
            .map(|(t, r)| (t.since(t0).as_secs_f64(), *r))
            .collect()
    } else {
        Vec::new()
    };
    let plateau = (f.kind.as_str() == "transfer_freeze")
        .then(|| {
            let start = pr.last_new?;
            Some((
                start.since(t0).as_secs_f64(),
                end.since(t0).as_secs_f64(),
                measurement(f, "plateau_bytes").unwrap_or(pr.total as f64),
            ))
        })
        .flatten();
    SeriesPlot {
        title: format!(
            "Goodput of flow {} ({}), {} ms bins",
            flow.id,
            who,
            (bin_s * 1000.0).round()
        ),
        lines,
        rate_kbps: measurement(f, "policing_rate").or_else(|| measurement(f, "rate")),
        losses_s: pr
            .retransmissions
            .iter()
            .map(|t| t.since(t0).as_secs_f64())
            .collect(),
        rtt_ms,
        plateau,
    }
}
