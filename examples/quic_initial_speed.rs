//! Measures what reading QUIC costs: a new connection's client Initial (key derivation, header
//! protection, AES-GCM, frames, ClientHello), its server Initial, and a short-header datagram
//! that is only looked at. Uses the protected packets of RFC 9001 Appendix A. Not a test; run
//! with `cargo run --release --example quic_initial_speed` (a debug build is slower).

use std::hint::black_box;
use std::time::Instant;

use tamper::diag::Diagnostics;
use tamper::ids::{Direction, FrameNumber};
use tamper::proto::event::ProtoEvent;
use tamper::proto::quic::{DatagramCtx, QuicFlow};
use tamper::proto::tcp::stream::ReassemblyBudget;
use tamper::time::Timestamp;

fn vector(name: &str) -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("src/proto/quic/testdata")
        .join(name);
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let digits: String = text.chars().filter(|c| c.is_ascii_hexdigit()).collect();
    (0..digits.len())
        .step_by(2)
        .filter_map(|i| digits.get(i..i + 2))
        .filter_map(|h| u8::from_str_radix(h, 16).ok())
        .collect()
}

fn ctx(dir: Direction, frame: u64) -> DatagramCtx {
    DatagramCtx {
        dir,
        frame: FrameNumber::new(frame).unwrap_or(FrameNumber::FIRST),
        ts: Timestamp::EPOCH,
        cut: false,
    }
}

fn main() {
    let client = vector("rfc9001-a2-client-initial.hex");
    let server = vector("rfc9001-a3-server-initial.hex");
    let short = {
        let mut d = vec![0x41u8];
        d.resize(1200, 0xab);
        d
    };
    let mut diags = Diagnostics::default();
    let mut budget = ReassemblyBudget::new(1 << 30);
    let mut events: Vec<ProtoEvent> = Vec::new();

    let runs = 20_000u32;
    let start = Instant::now();
    for _ in 0..runs {
        let mut flow = QuicFlow::new(true);
        flow.on_datagram(
            ctx(Direction::ClientToServer, 1),
            &client,
            &mut diags,
            &mut budget,
            &mut events,
        );
        flow.on_datagram(
            ctx(Direction::ServerToClient, 2),
            &server,
            &mut diags,
            &mut budget,
            &mut events,
        );
        flow.finish(&mut budget, &mut events);
        black_box(events.len());
        events.clear();
    }
    let per = start.elapsed().as_secs_f64() * 1e6 / f64::from(runs);
    println!("new connection, client Initial (1200 bytes) + server Initial: {per:.1} µs");

    let mut flow = QuicFlow::new(true);
    let runs = 1_000_000u32;
    let start = Instant::now();
    for i in 0..runs {
        flow.on_datagram(
            ctx(Direction::ServerToClient, u64::from(i) + 1),
            black_box(&short),
            &mut diags,
            &mut budget,
            &mut events,
        );
    }
    let per = start.elapsed().as_secs_f64() * 1e9 / f64::from(runs);
    println!("short-header datagram: {per:.0} ns");
}
