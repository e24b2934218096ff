//! Helpers shared by tamper's fuzz targets and their seed extractor: the whole pipeline run
//! over capture bytes under fuzzing limits with its self-checks, the byte format of the
//! `packet` target, and deterministic chunkings for the streaming parsers; it must not analyze
//! anything itself (every check calls tamper's own entry points) and never touches files.

use std::io::Cursor;

use tamper::capture::CaptureReader;
use tamper::pipeline::{self, Options};
use tamper::report::{Report, ReportFormat};
use tamper::synth::rng::SplitMix64;
use tamper::synth::writer::{write_pcap, Frame, PcapOptions};

pub mod reassembly;

/// Ceiling on the bytes a compressed input may decompress to while fuzzing: 16 MiB holds every
/// fixture and corpus capture used as a seed, and keeps a compression bomb found by the fuzzer
/// to well under a second and a few tens of MiB of memory (the default is 256 GiB).
pub const MAX_DECOMPRESSED: u64 = 16 << 20;

/// Name the inputs are reported under.
const NAME: &str = "fuzz-input";

/// The analysis options of the pipeline targets: the defaults, flow summaries collected (so
/// the flow writers run too), and the low decompression ceiling.
pub fn options() -> Options {
    let mut o = Options {
        collect_flows: true,
        ..Options::default()
    };
    o.limits.max_decompressed = MAX_DECOMPRESSED;
    o
}

/// Runs the whole analysis (reader, every layer, every detector) over `bytes` as a capture
/// file, writes the report in every text format, and checks what the project promises of
/// any input: no panic, findings that cite frames that were read, and the same output bytes
/// when the same input is analyzed twice (nothing depends on hash order or the clock).
pub fn analyze_capture(bytes: &[u8]) {
    let first = analyze_once(bytes);
    let second = analyze_once(bytes);
    assert!(
        first == second,
        "the same input gave two different reports:\n{}\n----\n{}",
        String::from_utf8_lossy(&first),
        String::from_utf8_lossy(&second)
    );
}

/// One analysis of `bytes`, returned as the concatenation of every rendering of the report.
fn analyze_once(bytes: &[u8]) -> Vec<u8> {
    let input = Box::new(Cursor::new(bytes.to_vec()));
    let reader = match CaptureReader::from_reader_with_ceiling(input, NAME, MAX_DECOMPRESSED) {
        Ok(r) => r,
        // Not a capture at all: a clean error is the right answer; its text must render.
        Err(e) => return e.to_string().into_bytes(),
    };
    let capture = pipeline::analyze_reader(NAME.to_string(), reader, &options(), None);
    let frames = capture.summary.as_ref().map_or(0, |s| s.frames);
    for f in &capture.findings {
        assert!(!f.frames.is_empty(), "a finding without frames: {f:?}");
        for n in &f.frames {
            assert!(
                (1..=frames).contains(&n.get()),
                "a finding cites frame {n} of {frames}: {f:?}"
            );
        }
    }
    let report = Report::new(vec![capture]);
    let mut out = Vec::new();
    for format in [
        ReportFormat::Jsonl,
        ReportFormat::Csv,
        ReportFormat::Markdown,
    ] {
        report
            .write(format, &mut out)
            .expect("writing a report to memory");
        report
            .write_flows(format, &mut out)
            .expect("writing flows to memory");
    }
    report
        .write_diagnostics(&mut out)
        .expect("writing diagnostics to memory");
    out
}

/// Link types of the `packet` target, chosen by its first input byte (modulo the length):
/// every link layer tamper strips.
pub const PACKET_LINK_TYPES: [u32; 10] = [
    1,   // Ethernet (with VLAN, MPLS, PPPoE, LLC/SNAP below it)
    101, // raw IP
    113, // Linux SLL
    276, // Linux SLL2
    0,   // BSD NULL
    9,   // PPP
    108, // BSD LOOP
    228, // raw IPv4
    229, // raw IPv6
    239, // NFLOG
];

/// Capture time of the first frame of a `packet` input (2023-11-14, any fixed time works).
const PACKET_EPOCH_NS: i64 = 1_700_000_000_000_000_000;

/// Turns a `packet` input into a classic pcap file.
///
/// Format: one byte choosing the link type ([`PACKET_LINK_TYPES`], modulo its length), then
/// frames, each as a time step byte `t` (the frame comes `t³` microseconds after the previous
/// one, so from 0 to about 16.6 s), a big-endian 16-bit length and that many bytes (fewer
/// when the input ends first).
pub fn packet_input_to_pcap(data: &[u8]) -> Vec<u8> {
    let Some((&selector, mut rest)) = data.split_first() else {
        return Vec::new();
    };
    let linktype = PACKET_LINK_TYPES[usize::from(selector) % PACKET_LINK_TYPES.len()];
    let mut frames = Vec::new();
    let mut ts = PACKET_EPOCH_NS;
    while let [step, hi, lo, tail @ ..] = rest {
        let len = usize::from(u16::from_be_bytes([*hi, *lo])).min(tail.len());
        let (bytes, after) = tail.split_at(len);
        ts += i64::from(*step).pow(3) * 1_000;
        frames.push(Frame::new(ts, bytes.to_vec()));
        rest = after;
    }
    write_pcap(&PcapOptions::new(linktype), &frames)
}

/// Builds a `packet` input from frames of one link type with their time steps (the inverse
/// of [`packet_input_to_pcap`]); `None` when the link type is not one the target chooses.
pub fn packet_input(linktype: u32, frames: &[(u8, &[u8])]) -> Option<Vec<u8>> {
    let selector = PACKET_LINK_TYPES.iter().position(|&l| l == linktype)?;
    let mut out = vec![u8::try_from(selector).ok()?];
    for (step, bytes) in frames {
        let bytes = bytes.get(..usize::from(u16::MAX)).unwrap_or(bytes);
        out.push(*step);
        out.extend_from_slice(&(bytes.len() as u16).to_be_bytes());
        out.extend_from_slice(bytes);
    }
    Some(out)
}

/// The time step byte closest to `gap_ns` in the [`packet_input_to_pcap`] encoding.
pub fn time_step(gap_ns: i64) -> u8 {
    let us = (gap_ns.max(0) / 1_000) as f64;
    us.cbrt().round().min(255.0) as u8
}

/// Splits `data` into consecutive pieces chosen by a generator seeded from the bytes
/// themselves (so a reproducer replays the same split): single bytes, short pieces, long
/// pieces, or two halves. Streaming parsers must give the same events for any split.
pub fn chunks(data: &[u8]) -> Vec<&[u8]> {
    let seed = data.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    });
    let mut rng = SplitMix64::new(seed);
    let max = match seed % 4 {
        0 => 1,
        1 => 16,
        2 => 512,
        _ => (data.len() / 2).max(1),
    } as u64;
    let mut out = Vec::new();
    let mut rest = data;
    while !rest.is_empty() {
        let n = (rng.range_u64(1, max) as usize).min(rest.len());
        let (piece, after) = rest.split_at(n);
        out.push(piece);
        rest = after;
    }
    out
}

/// A generator seeded from `data`, for targets that derive small choices from their input.
pub fn rng_for(data: &[u8]) -> SplitMix64 {
    SplitMix64::new(data.iter().fold(0x9e37_79b9_7f4a_7c15u64, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packet_inputs_round_trip_through_pcap() {
        let input = packet_input(276, &[(0, b"abc"), (10, b"defg")]).unwrap();
        let pcap = packet_input_to_pcap(&input);
        // 24-byte header, two 16-byte record headers, 7 bytes of frames.
        assert_eq!(pcap.len(), 24 + 16 * 2 + 7);
        assert_eq!(&pcap[20..24], &276u32.to_le_bytes());
        assert_eq!(time_step(1_000_000), 10);
    }

    #[test]
    fn chunks_cover_the_input() {
        let data: Vec<u8> = (0..=255).collect();
        assert_eq!(chunks(&data).concat(), data);
        assert!(chunks(&[]).is_empty());
    }
}
