//! The policing check end to end on simulated bulk transfers: a small SACK TCP sender pushes
//! 3 MB through a token-bucket policer or a drop-tail shaper, and the capture is taken at the
//! sender or at the receiver. What the lab traces of `tests/corpus.rs` cannot show: captures
//! at the receiver (losses seen as holes, timestamp-echo RTTs) and the handshake fallback.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::io::Write;

use tamper::capture::InputSource;
use tamper::finding::{Confidence, Evidence, Finding};
use tamper::pipeline::{self, Options};
use tamper::synth::link::LINKTYPE_ETHERNET;
use tamper::synth::packet::{TcpOption, TCP_ACK, TCP_PSH};
use tamper::synth::scenario::{Host, Scenario, Segment, Side, TcpParams, Vantage};
use tamper::synth::writer::{write_pcap, PcapOptions};

const MS: i64 = 1_000_000;
const MSS: u32 = 1448;

/// What sits between the server and the client.
#[derive(Clone, Copy)]
enum Middlebox {
    /// A token bucket: `rate` bit/s, `bucket` bytes; excess packets are dropped.
    Policer { rate: f64, bucket: f64 },
    /// A queue served at `rate` bit/s holding at most `queue` packets; excess dropped.
    Shaper { rate: f64, queue: usize },
}

struct Setup {
    middlebox: Middlebox,
    /// Capture at the server (the data's sender) or at the client.
    at_server: bool,
    timestamps: bool,
    bytes: u32,
    /// The client sends a small message every 100 segments it receives (as an HTTP/2 client
    /// sends WINDOW_UPDATE frames during a download).
    chatter: bool,
}

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Ev {
    /// A data segment (index, TSval, TSecr, client bytes acknowledged) reaches the client.
    Arrive(u32, u32, u32, u32),
    /// An acknowledgment (cumulative, up to three SACK blocks, TSval echoed) reaches the
    /// server.
    Ack(u32, [(u32, u32); 3], u32),
    /// The server may send.
    Send,
    /// Retransmission timer check.
    Rto,
}

/// A captured packet: time at the capture point, sender side, segment.
type Out = (i64, Side, Segment);

/// Simulates the transfer and returns the capture as pcap bytes.
fn simulate(s: &Setup) -> Vec<u8> {
    let one_way = 50 * MS;
    let link_ns = |bytes: u32| i64::from(bytes) * 8 * 1_000_000_000 / 20_000_000; // 20 Mbit/s
    let mut sc = Scenario::new(7);
    let (c_addr, s_addr) = ("10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap());
    let (client, server) = if s.at_server {
        sc.set_vantage(Vantage::Server);
        (
            sc.add_host(Host::remote(c_addr, 52)),
            sc.add_host(Host::local(s_addr)),
        )
    } else {
        (
            sc.add_host(Host::local(c_addr)),
            sc.add_host(Host::remote(s_addr, 52)),
        )
    };
    let mut params = TcpParams::new(80).rtt(2 * one_way).mss(MSS as u16);
    if s.timestamps {
        params = params.with_timestamps();
    }
    // With timestamps the synthesizer takes 12 bytes off the MSS for the option.
    let mut conn = sc.tcp(client, server, params).unwrap();
    let hs_end = conn.handshake(&mut sc, 0).unwrap();
    let c_isn = conn.next_seq(Side::Client);
    let s_isn = conn.next_seq(Side::Server);
    let request = vec![b'G'; 100];
    // Physical times: the client sends its request when the capture sees the handshake end
    // (client side) or one way earlier (server side).
    let t_req_client = if s.at_server {
        hs_end - one_way
    } else {
        hs_end + MS
    };
    let t0 = t_req_client + one_way; // the request reaches the server
    let mut out: Vec<Out> = Vec::new();
    let cap_client = |t: i64| if s.at_server { t + one_way } else { t };
    let opts = |tsval: u32, tsecr: u32, sack: &[(u32, u32)]| {
        let mut v = Vec::new();
        if s.timestamps {
            v.extend(TcpOption::timestamps(tsval, tsecr));
        }
        if !sack.is_empty() {
            v.push(TcpOption::Nop);
            v.push(TcpOption::Nop);
            v.push(TcpOption::Sack(sack.to_vec()));
        }
        v
    };
    let ms_clock = |t: i64| (t / MS) as u32 + 1000;
    out.push((
        cap_client(t_req_client),
        Side::Client,
        Segment {
            flags: Some(TCP_ACK | TCP_PSH),
            seq: Some(c_isn),
            ack: Some(s_isn),
            options: Some(opts(ms_clock(t_req_client), 0, &[])),
            payload: request.clone(),
            ..Segment::default()
        },
    ));
    let mut c_next = c_isn.wrapping_add(request.len() as u32);
    let data_segment = |i: u32, ts_val: u32, ts_ecr: u32, c_acked: u32| Segment {
        flags: Some(TCP_ACK),
        seq: Some(s_isn.wrapping_add(i * MSS)),
        ack: Some(c_acked),
        options: Some(opts(ts_val, ts_ecr, &[])),
        payload: vec![0u8; MSS.min(s.bytes - i * MSS) as usize],
        ..Segment::default()
    };

    // Sender state (segment indices).
    let total = s.bytes.div_ceil(MSS);
    let seg_len = |i: u32| MSS.min(s.bytes - i * MSS);
    let mut una = 0u32; // first unacknowledged segment
    let mut nxt = 0u32; // next new segment
    let mut sacked = vec![false; total as usize];
    let mut lost_pending: Vec<u32> = Vec::new(); // to retransmit, in order
    let mut retransmitted_at = vec![i64::MIN; total as usize];
    let mut cwnd = 10.0f64;
    let mut ssthresh = f64::MAX;
    let mut recovery_until: Option<u32> = None;
    let mut last_progress = t0;
    let mut echo = 0u32; // latest client TSval seen by the server
    let mut link_free = t0;
    // Middlebox state.
    let mut tokens = match s.middlebox {
        Middlebox::Policer { bucket, .. } => bucket,
        Middlebox::Shaper { .. } => 0.0,
    };
    let mut last_fill = t0;
    let mut queue_free = t0; // shaper: when the queue's head leaves
    let mut queued: Vec<i64> = Vec::new(); // shaper: departure times of queued packets
                                           // Receiver state.
    let mut received = vec![false; total as usize];
    let mut received_twice = vec![false; total as usize];
    // What the server has received of the client's stream (the one-way delay is ignored).
    let mut c_at_server = c_next;
    let mut events: BinaryHeap<Reverse<(i64, u64, Ev)>> = BinaryHeap::new();
    let mut order = 0u64;
    let mut push = |events: &mut BinaryHeap<Reverse<(i64, u64, Ev)>>, t: i64, e: Ev| {
        order += 1;
        events.push(Reverse((t, order, e)));
    };
    push(&mut events, t0, Ev::Send);
    push(&mut events, t0 + 1000 * MS, Ev::Rto);
    let mut guard = 0;
    while let Some(Reverse((t, _, ev))) = events.pop() {
        guard += 1;
        assert!(guard < 2_000_000, "simulation runs away");
        match ev {
            Ev::Arrive(i, ts_val, ts_ecr, c_acked) => {
                if !s.at_server {
                    out.push((t, Side::Server, data_segment(i, ts_val, ts_ecr, c_acked)));
                }
                received[i as usize] = true;
                let mut cum = 0;
                while cum < total && received[cum as usize] {
                    cum += 1;
                }
                // SACK blocks: the highest three runs above the cumulative point.
                let mut runs: Vec<(u32, u32)> = Vec::new();
                let mut k = cum;
                while k < total {
                    if received[k as usize] {
                        let start = k;
                        while k < total && received[k as usize] {
                            k += 1;
                        }
                        runs.push((start, k));
                    } else {
                        k += 1;
                    }
                }
                runs.reverse();
                let mut blocks = [(0, 0); 3];
                for (b, r) in blocks.iter_mut().zip(runs.iter()) {
                    *b = *r;
                }
                let ack_seq = |seg: u32| s_isn.wrapping_add((seg * MSS).min(s.bytes));
                let sack: Vec<(u32, u32)> = runs
                    .iter()
                    .take(3)
                    .map(|&(a, b)| (ack_seq(a), ack_seq(b)))
                    .collect();
                let tsval = ms_clock(t);
                out.push((
                    cap_client(t),
                    Side::Client,
                    Segment {
                        flags: Some(TCP_ACK),
                        seq: Some(c_next),
                        ack: Some(ack_seq(cum)),
                        options: Some(opts(tsval, 0, &sack)),
                        ..Segment::default()
                    },
                ));
                push(&mut events, t + one_way, Ev::Ack(cum, blocks, tsval));
                if s.chatter && i % 100 == 50 && !received_twice[i as usize] {
                    received_twice[i as usize] = true;
                    out.push((
                        cap_client(t),
                        Side::Client,
                        Segment {
                            flags: Some(TCP_ACK | TCP_PSH),
                            seq: Some(c_next),
                            ack: Some(ack_seq(cum)),
                            options: Some(opts(tsval, 0, &[])),
                            payload: vec![b'W'; 13],
                            ..Segment::default()
                        },
                    ));
                    c_next = c_next.wrapping_add(13);
                    c_at_server = c_next;
                }
            }
            Ev::Ack(cum, blocks, tsval) => {
                echo = echo.max(tsval);
                for &(a, b) in &blocks {
                    for k in a..b {
                        sacked[k as usize] = true;
                    }
                }
                if cum > una {
                    let newly = f64::from(cum - una);
                    una = cum;
                    last_progress = t;
                    match recovery_until {
                        Some(p) if una >= p => recovery_until = None,
                        Some(_) => {}
                        None => {
                            if cwnd < ssthresh {
                                cwnd += newly;
                            } else {
                                cwnd += newly / cwnd;
                            }
                        }
                    }
                }
                // A hole with three SACKed segments above it is lost (RFC 6675).
                let highest = blocks.iter().map(|b| b.1).max().unwrap_or(0);
                let mut above = 0;
                let mut k = highest;
                while k > una {
                    k -= 1;
                    if sacked[k as usize] {
                        above += 1;
                    } else if above >= 3
                        && t.saturating_sub(retransmitted_at[k as usize]) > 2 * one_way + 20 * MS
                        && !lost_pending.contains(&k)
                    {
                        lost_pending.push(k);
                        if recovery_until.is_none() {
                            ssthresh = (cwnd / 2.0).max(2.0);
                            cwnd = ssthresh;
                            recovery_until = Some(nxt);
                        }
                    }
                }
                lost_pending.sort_unstable();
                push(&mut events, t, Ev::Send);
            }
            Ev::Rto => {
                if una >= total {
                    continue;
                }
                if t - last_progress >= 1000 * MS {
                    for k in una..nxt {
                        if !sacked[k as usize] && !lost_pending.contains(&k) {
                            lost_pending.push(k);
                        }
                    }
                    lost_pending.sort_unstable();
                    ssthresh = (cwnd / 2.0).max(2.0);
                    cwnd = 1.0;
                    recovery_until = Some(nxt);
                    last_progress = t;
                    push(&mut events, t, Ev::Send);
                }
                push(&mut events, t + 200 * MS, Ev::Rto);
            }
            Ev::Send => {
                let in_flight = |nxt: u32, una: u32, sacked: &[bool], lp: &[u32]| {
                    (una..nxt)
                        .filter(|&k| !sacked[k as usize] && !lp.contains(&k))
                        .count() as f64
                };
                while in_flight(nxt, una, &sacked, &lost_pending) < cwnd.floor() {
                    let (i, is_rtx) = if let Some(k) = lost_pending.first().copied() {
                        lost_pending.remove(0);
                        if k < una || sacked[k as usize] {
                            continue;
                        }
                        (k, true)
                    } else if nxt < total {
                        nxt += 1;
                        (nxt - 1, false)
                    } else {
                        break;
                    };
                    let len = seg_len(i);
                    let dep = link_free.max(t);
                    link_free = dep + link_ns(len + 66);
                    if is_rtx {
                        retransmitted_at[i as usize] = dep;
                    }
                    let (ts_val, ts_ecr) = (ms_clock(dep), echo);
                    if s.at_server {
                        out.push((
                            dep,
                            Side::Server,
                            data_segment(i, ts_val, ts_ecr, c_at_server),
                        ));
                    }
                    // Through the middlebox next to the server.
                    match s.middlebox {
                        Middlebox::Policer { rate, bucket } => {
                            tokens =
                                (tokens + (dep - last_fill) as f64 / 1e9 * rate / 8.0).min(bucket);
                            last_fill = dep;
                            if tokens >= f64::from(len) {
                                tokens -= f64::from(len);
                                push(
                                    &mut events,
                                    dep + one_way,
                                    Ev::Arrive(i, ts_val, ts_ecr, c_at_server),
                                );
                            }
                        }
                        Middlebox::Shaper { rate, queue } => {
                            queued.retain(|&d| d > dep);
                            if queued.len() < queue {
                                let leave = queue_free.max(dep)
                                    + (f64::from(len + 66) * 8.0 / rate * 1e9) as i64;
                                queue_free = leave;
                                queued.push(leave);
                                push(
                                    &mut events,
                                    leave + one_way,
                                    Ev::Arrive(i, ts_val, ts_ecr, c_at_server),
                                );
                            }
                        }
                    }
                }
                if link_free > t && (nxt < total || !lost_pending.is_empty()) {
                    push(&mut events, link_free, Ev::Send);
                }
            }
        }
        if una >= total && lost_pending.is_empty() {
            break;
        }
    }
    for (t, side, seg) in out {
        conn.emit(&mut sc, side, t, &seg).unwrap();
    }
    write_pcap(&PcapOptions::new(LINKTYPE_ETHERNET), &sc.finish())
}

fn analyze(pcap: &[u8]) -> Vec<Finding> {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    file.write_all(pcap).unwrap();
    let report = pipeline::analyze_input(
        &InputSource::Path(file.path().to_path_buf()),
        &Options::default(),
        None,
    );
    report
        .findings
        .into_iter()
        .filter(|f| f.kind.as_str() == "tcp_policing")
        .collect()
}

fn measurement(f: &Finding, name: &str) -> f64 {
    f.evidence
        .iter()
        .find_map(|e| match e {
            Evidence::Measurement { metric, value, .. } if metric == name => Some(*value),
            _ => None,
        })
        .unwrap_or(f64::NAN)
}

fn notes(f: &Finding) -> String {
    f.evidence
        .iter()
        .filter_map(|e| match e {
            Evidence::Note { text, .. } => Some(text.clone()),
            _ => None,
        })
        .collect::<Vec<_>>()
        .join(" | ")
}

const POLICER: Middlebox = Middlebox::Policer {
    rate: 1_000_000.0,
    bucket: 32_000.0,
};

#[test]
fn policing_seen_at_the_sender() {
    let found = analyze(&simulate(&Setup {
        middlebox: POLICER,
        at_server: true,
        timestamps: false,
        bytes: 3_000_000,
        chatter: false,
    }));
    assert_eq!(found.len(), 1, "{found:#?}");
    let f = &found[0];
    assert_eq!(f.confidence, Confidence::High, "{}", notes(f));
    let rate = measurement(f, "policing_rate");
    assert!((rate - 1000.0).abs() < 100.0, "rate {rate}");
    assert!(notes(f).contains("acknowledgment samples"), "{}", notes(f));
}

#[test]
fn policing_seen_at_the_receiver_with_timestamps() {
    let found = analyze(&simulate(&Setup {
        middlebox: POLICER,
        at_server: false,
        timestamps: true,
        bytes: 3_000_000,
        chatter: false,
    }));
    assert_eq!(found.len(), 1, "{found:#?}");
    let f = &found[0];
    assert_eq!(f.confidence, Confidence::High, "{}", notes(f));
    let rate = measurement(f, "policing_rate");
    assert!((rate - 1000.0).abs() < 100.0, "rate {rate}");
    assert!(notes(f).contains("timestamp-echo"), "{}", notes(f));
    let rtt = measurement(f, "median_rtt");
    assert!((95.0..130.0).contains(&rtt), "median RTT {rtt}");
}

#[test]
fn policing_seen_at_the_receiver_without_timestamps_is_medium() {
    let found = analyze(&simulate(&Setup {
        middlebox: POLICER,
        at_server: false,
        timestamps: false,
        bytes: 3_000_000,
        chatter: false,
    }));
    assert_eq!(found.len(), 1, "{found:#?}");
    let f = &found[0];
    assert_eq!(f.confidence, Confidence::Medium, "{}", notes(f));
    assert!(notes(f).contains("handshake RTT"), "{}", notes(f));
}

#[test]
fn a_shaper_queue_is_not_policing() {
    for at_server in [true, false] {
        let found = analyze(&simulate(&Setup {
            middlebox: Middlebox::Shaper {
                rate: 1_000_000.0,
                queue: 60,
            },
            at_server,
            timestamps: true,
            bytes: 3_000_000,
            chatter: false,
        }));
        assert!(found.is_empty(), "at server {at_server}: {found:#?}");
    }
}

#[test]
fn an_unhindered_transfer_is_not_policing() {
    let found = analyze(&simulate(&Setup {
        middlebox: Middlebox::Policer {
            rate: 1e12,
            bucket: 1e12,
        },
        at_server: true,
        timestamps: true,
        bytes: 3_000_000,
        chatter: false,
    }));
    assert!(found.is_empty(), "{found:#?}");
}

#[test]
fn client_messages_during_the_response_do_not_cut_it() {
    // One 13-byte client message per 100 segments received: PD's segmentation would cut the
    // download into 100-segment pieces, each too short to judge.
    for at_server in [true, false] {
        let found = analyze(&simulate(&Setup {
            middlebox: POLICER,
            at_server,
            timestamps: true,
            bytes: 3_000_000,
            chatter: true,
        }));
        assert_eq!(found.len(), 1, "at server {at_server}: {found:#?}");
        let rate = measurement(&found[0], "policing_rate");
        assert!((rate - 1000.0).abs() < 100.0, "rate {rate}");
    }
}
