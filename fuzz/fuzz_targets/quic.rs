//! Fuzz target `quic`: the input is a UDP datagram, given to the long-header splitter, the
//! Initial frame parser and a QUIC flow as a client and as a server datagram, and it is also
//! the plaintext of client and server Initial packets that the target seals with the real
//! Initial keys (RFC 9001 §5.2) through tamper's own packet builder, so that fuzzed frames get
//! past packet protection into CRYPTO reassembly and the hello decoders. It must not parse
//! anything itself.

#![no_main]

use libfuzzer_sys::fuzz_target;
use tamper::diag::Diagnostics;
use tamper::ids::{Direction, FrameNumber};
use tamper::proto::quic::frames::parse_frames;
use tamper::proto::quic::packet::{split_datagram, VERSION_1, VERSION_2};
use tamper::proto::quic::{DatagramCtx, QuicFlow};
use tamper::proto::tcp::stream::ReassemblyBudget;
use tamper::synth::quic::LongPacket;
use tamper::time::Timestamp;

/// Reassembly budget of the flows (as large as the pipeline's default would allow here).
const BUDGET: usize = 64 << 20;
/// The client's original Destination Connection ID of sealed packets, and its SCID.
const DCID: [u8; 8] = [0x83, 0x94, 0xc8, 0xf0, 0x3e, 0x51, 0x57, 0x08];
const SCID: [u8; 4] = [0xc1, 0x01, 0x5e, 0xed];
const SERVER_SCID: [u8; 5] = [0x5e, 0x4e, 0xe4, 0x00, 0x01];

/// Feeds `datagrams` (direction, bytes) to one new flow on a QUIC port, then ends the flow.
fn run_flow(datagrams: &[(Direction, Vec<u8>)], cut_last: bool) {
    let mut flow = QuicFlow::new(true);
    let mut diags = Diagnostics::default();
    let mut budget = ReassemblyBudget::new(BUDGET);
    let mut out = Vec::new();
    let mut frame = FrameNumber::new(1).expect("1 is a frame number");
    for (i, (dir, bytes)) in datagrams.iter().enumerate() {
        let ctx = DatagramCtx {
            dir: *dir,
            frame,
            ts: Timestamp::from_nanos(1_700_000_000_000_000_000 + i as i64 * 1_000_000),
            cut: cut_last && i + 1 == datagrams.len(),
        };
        flow.on_datagram(ctx, bytes, &mut diags, &mut budget, &mut out);
        frame = frame.next();
    }
    flow.finish(&mut budget, &mut out);
    let _ = flow.is_quic();
}

fuzz_target!(|data: &[u8]| {
    // The datagram as it came.
    let d = split_datagram(data);
    for p in &d.packets {
        let _ = p.packet_type.label();
    }
    let _ = parse_frames(data);
    let mut rng = tamper_fuzz::rng_for(data);
    run_flow(
        &[
            (Direction::ClientToServer, data.to_vec()),
            (Direction::ServerToClient, data.to_vec()),
        ],
        rng.range_u64(0, 1) == 1,
    );

    // The input as plaintext frames: up to three client Initials and a server Initial.
    let version = if rng.range_u64(0, 1) == 0 {
        VERSION_1
    } else {
        VERSION_2
    };
    let client_packets = rng.range_u64(1, 3) as usize;
    let mut pieces = Vec::new();
    let mut rest = data;
    for _ in 0..client_packets {
        let n = (rng.range_u64(0, rest.len() as u64)) as usize;
        let (piece, after) = rest.split_at(n.min(rest.len()));
        pieces.push(piece);
        rest = after;
    }
    let mut datagrams = Vec::new();
    for (pn, piece) in pieces.iter().enumerate() {
        let p = LongPacket::client_initial(version, &DCID, &SCID, pn as u64, piece.to_vec());
        if let Ok(bytes) = p.protect_initial(&DCID, true) {
            datagrams.push((Direction::ClientToServer, bytes));
        }
    }
    let server = LongPacket::server_initial(version, &SCID, &SERVER_SCID, 0, rest.to_vec());
    if let Ok(bytes) = server.protect_initial(&DCID, false) {
        datagrams.push((Direction::ServerToClient, bytes));
    }
    // In the order sent, and with the server's answer first (a capture may reorder them).
    run_flow(&datagrams, false);
    datagrams.reverse();
    run_flow(&datagrams, false);
});
