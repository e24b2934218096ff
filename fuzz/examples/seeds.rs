//! Writes seed inputs for the `packet`, `dns`, `http`, `tls` and `quic` fuzz targets from
//! capture files: each capture's first frames in the `packet` format, and the UDP payloads and
//! per-direction TCP byte streams of its DNS, HTTP, TLS and QUIC traffic. It decodes with
//! tamper's own layers and must not be used for anything but seeding (it ignores every
//! problem a capture has, skipping what does not decode).
//!
//! Usage: `cargo run --manifest-path fuzz/Cargo.toml --example seeds -- CORPUS_DIR CAPTURE...`
//! writes into `CORPUS_DIR/<target>/`, one file per distinct seed, named by a hash of its
//! bytes (so running it again adds nothing new). The `quic` target also gets plaintext
//! Initial payloads built with tamper's QUIC packet builder (CRYPTO frames holding a
//! ClientHello, whole and split out of order, and a ServerHello), which the target seals with
//! the real Initial keys.

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use tamper::capture::{CaptureReader, FrameContent, InputSource};
use tamper::decode::link::{strip, NetProto};
use tamper::decode::{ip, transport, Transport};
use tamper::diag::Diagnostics;
use tamper::proto::quic::looks_like_quic_long_header;
use tamper::proto::tls::parse::looks_like_tls;
use tamper::synth::quic::{ack_frame, crypto_frame, quic_client_hello, quic_server_hello};

/// Bytes of frames put in one `packet` seed.
const PACKET_SEED_BYTES: usize = 64 * 1024;
/// Bytes kept of one direction of a TCP stream.
const STREAM_BYTES: usize = 16 * 1024;
/// Seeds of one kind taken from one capture.
const PER_CAPTURE: usize = 8;

const HTTP_PORTS: [u16; 4] = [80, 3128, 8000, 8080];
const TLS_PORTS: [u16; 4] = [443, 853, 993, 8443];
const HTTP_STARTS: [&[u8]; 6] = [
    b"GET ",
    b"POST ",
    b"HEAD ",
    b"PUT ",
    b"CONNECT ",
    b"HTTP/1.",
];

/// One direction of a TCP connection.
type DirKey = (IpAddr, u16, IpAddr, u16);

#[derive(Default)]
struct Stream {
    next_seq: Option<u32>,
    bytes: Vec<u8>,
}

#[derive(Default)]
struct Seeds {
    packet: Vec<Vec<u8>>,
    dns: Vec<Vec<u8>>,
    http: Vec<Vec<u8>>,
    tls: Vec<Vec<u8>>,
    quic: Vec<Vec<u8>>,
}

fn push_limited(list: &mut Vec<Vec<u8>>, bytes: &[u8]) {
    if list.len() < PER_CAPTURE && !bytes.is_empty() && !list.iter().any(|b| b == bytes) {
        list.push(bytes.to_vec());
    }
}

fn seeds_of(path: &Path) -> Seeds {
    let mut seeds = Seeds::default();
    let Ok(mut reader) = CaptureReader::open(&InputSource::Path(path.to_path_buf())) else {
        return seeds;
    };
    let mut diags = Diagnostics::default();
    let mut streams: HashMap<DirKey, Stream> = HashMap::new();
    let mut order: Vec<DirKey> = Vec::new();
    let mut packet_frames: Vec<(u8, Vec<u8>)> = Vec::new();
    let mut packet_link = None;
    let mut packet_bytes = 0;
    let mut last_ts = None;
    while let Some(frame) = reader.next_frame(&mut diags) {
        let FrameContent::Packet(link) = frame.content else {
            continue;
        };
        // The first frames of the capture's first link type, as one `packet` seed.
        if packet_link.is_none_or(|l| l == link.0) && packet_bytes < PACKET_SEED_BYTES {
            packet_link = Some(link.0);
            let gap = last_ts.map_or(0, |t: i64| frame.ts.as_nanos() - t);
            packet_frames.push((tamper_fuzz::time_step(gap), frame.data.to_vec()));
            packet_bytes += frame.data.len() + 3;
            last_ts = Some(frame.ts.as_nanos());
        }
        let Ok(net) = strip(link, frame.data) else {
            continue;
        };
        if net.proto != NetProto::Ip {
            continue;
        }
        let Ok((packet, _)) = ip(net.bytes) else {
            continue;
        };
        let h = packet.header;
        if h.fragment.is_some() {
            continue;
        }
        match transport(h.protocol, packet.payload, h.payload_len) {
            Ok(Transport::Udp(u, data)) => {
                if u.src_port == 53 || u.dst_port == 53 {
                    push_limited(&mut seeds.dns, data);
                } else if (u.src_port == 443 || u.dst_port == 443)
                    && looks_like_quic_long_header(data)
                {
                    push_limited(&mut seeds.quic, data);
                }
            }
            Ok(Transport::Tcp(t, data)) if !data.is_empty() => {
                let key = (h.src, t.src_port, h.dst, t.dst_port);
                let s = streams.entry(key).or_insert_with(|| {
                    order.push(key);
                    Stream::default()
                });
                // In-order bytes only: retransmissions and reordered segments are skipped.
                if s.next_seq.is_none_or(|n| n == t.seq) && s.bytes.len() < STREAM_BYTES {
                    let room = STREAM_BYTES - s.bytes.len();
                    s.bytes.extend_from_slice(&data[..data.len().min(room)]);
                    s.next_seq = Some(t.seq.wrapping_add(data.len() as u32));
                }
            }
            _ => {}
        }
    }
    if let Some(link) = packet_link {
        let frames: Vec<(u8, &[u8])> = packet_frames
            .iter()
            .map(|(t, b)| (*t, b.as_slice()))
            .collect();
        if let Some(seed) = tamper_fuzz::packet_input(u32::from(link), &frames) {
            seeds.packet.push(seed);
        }
    }
    for key in order {
        let (_, sport, _, dport) = key;
        let Some(s) = streams.get(&key) else {
            continue;
        };
        let ports = [sport, dport];
        if ports.contains(&53) {
            push_limited(&mut seeds.dns, &s.bytes);
        } else if looks_like_tls(&s.bytes) || ports.iter().any(|p| TLS_PORTS.contains(p)) {
            push_limited(&mut seeds.tls, &s.bytes);
        } else if HTTP_STARTS.iter().any(|m| s.bytes.starts_with(m))
            || ports.iter().any(|p| HTTP_PORTS.contains(p))
        {
            push_limited(&mut seeds.http, &s.bytes);
        }
    }
    seeds
}

/// Plaintext Initial payloads for the `quic` target's sealed packets.
fn quic_plaintexts() -> Vec<Vec<u8>> {
    let scid = [0xc1, 0x01, 0x5e, 0xed];
    let client = quic_client_hello("www.example.com", &scid, 7).handshake();
    let server = quic_server_hello(7).handshake();
    let whole = crypto_frame(0, &client);
    let half = client.len() / 2;
    let mut split = crypto_frame(half as u64, &client[half..]);
    split.extend(crypto_frame(0, &client[..half]));
    let mut answer = ack_frame(0, 0, 0);
    answer.extend(crypto_frame(0, &server));
    let mut both = whole.clone();
    both.extend(&answer);
    vec![whole, split, both]
}

fn name(bytes: &[u8]) -> String {
    let h = bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    });
    format!("seed-{h:016x}")
}

fn main() {
    let mut args = std::env::args_os().skip(1);
    let Some(out) = args.next().map(PathBuf::from) else {
        eprintln!("usage: seeds CORPUS_DIR CAPTURE...");
        std::process::exit(2);
    };
    let mut written: HashMap<&str, usize> = HashMap::new();
    let mut seen = HashSet::new();
    for capture in args.map(PathBuf::from) {
        let seeds = seeds_of(&capture);
        for (target, list) in [
            ("packet", &seeds.packet),
            ("dns", &seeds.dns),
            ("http", &seeds.http),
            ("tls", &seeds.tls),
            ("quic", &seeds.quic),
        ] {
            let dir = out.join(target);
            for seed in list {
                let file = dir.join(name(seed));
                if !seen.insert(file.clone()) {
                    continue;
                }
                if let Err(e) =
                    std::fs::create_dir_all(&dir).and_then(|()| std::fs::write(&file, seed))
                {
                    eprintln!("seeds: {}: {e}", file.display());
                    std::process::exit(1);
                }
                *written.entry(target).or_default() += 1;
            }
        }
    }
    let dir = out.join("quic");
    for seed in quic_plaintexts() {
        let file = dir.join(name(&seed));
        if let Err(e) = std::fs::create_dir_all(&dir).and_then(|()| std::fs::write(&file, &seed)) {
            eprintln!("seeds: {}: {e}", file.display());
            std::process::exit(1);
        }
        *written.entry("quic").or_default() += 1;
    }
    let mut counts: Vec<_> = written.into_iter().collect();
    counts.sort();
    for (target, n) in counts {
        println!("{target}: {n} seeds extracted");
    }
}
