//! The `sample/incident.pcapng` capture: one finding of every class, made by laying committed
//! fixtures end to end on one time line; it only re-times packets already built and adds none.
//!
//! The parts are classic little-endian microsecond pcaps written by [`super::writer`], so the
//! tiny reader here needs to understand nothing else.

use super::fixtures::{find, T0};
use super::writer::{Endian, Frame, InterfaceDesc, PcapngOption, PcapngWriter, TsResolution};
use super::SynthError;

/// The parts, in time order.
pub const PARTS: [&str; 6] = [
    "dns/race-forged-first-then-real-a.pcap",
    "rst/gfw-rst-burst-after-http-host-at-client.pcap",
    "blockpage/russia-warning-redirect.pcap",
    "blackhole/clienthello-dropped-same-server-answers.pcap",
    "throttling/policed-2mbit-tls-at-client.pcap",
    "throttling/freeze-16kb-at-client.pcap",
];

/// Quiet time between the end of one part and the start of the next.
const GAP_NS: i64 = 5_000_000_000;

/// Frames of a little-endian microsecond pcap written by this crate's writer.
fn pcap_frames(bytes: &[u8]) -> Result<Vec<Frame>, SynthError> {
    let bad = || SynthError::InvalidRequest("sample part is not a little-endian microsecond pcap");
    if bytes.get(..4) != Some(&0xa1b2_c3d4_u32.to_le_bytes()[..]) {
        return Err(bad());
    }
    let u32_at = |off: usize| -> Result<u32, SynthError> {
        bytes
            .get(off..off + 4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .ok_or_else(bad)
    };
    let mut frames = Vec::new();
    let mut off = 24;
    while off < bytes.len() {
        let secs = i64::from(u32_at(off)?);
        let micros = i64::from(u32_at(off + 4)?);
        let incl = u32_at(off + 8)? as usize;
        let orig = u32_at(off + 12)?;
        let data = bytes.get(off + 16..off + 16 + incl).ok_or_else(bad)?;
        let mut f = Frame::new(secs * 1_000_000_000 + micros * 1_000, data.to_vec());
        f.orig_len = orig;
        frames.push(f);
        off += 16 + incl;
    }
    Ok(frames)
}

/// Builds `sample/incident.pcapng`.
pub fn sample_incident() -> Result<Vec<u8>, SynthError> {
    let mut w = PcapngWriter::new(Endian::Little);
    w.section(
        Endian::Little,
        &[PcapngOption::comment(
            "tamper sample: a synthetic incident with one finding of every class (forged DNS, injected RSTs, a blockpage, a dropped ClientHello, policing and a frozen transfer), built from the fixtures named in fixtures/README.md",
        )],
    );
    let mut iface = InterfaceDesc::new(1);
    iface.tsresol = Some(TsResolution::Decimal(9));
    iface.name = Some("eth0".to_string());
    w.interface(&iface);
    let mut next_start = T0;
    for part in PARTS {
        let fixture = find(part).ok_or(SynthError::InvalidRequest("sample part missing"))?;
        let frames = pcap_frames(&(fixture.build)()?)?;
        let (Some(first), Some(last)) = (
            frames.iter().map(|f| f.ts_ns).min(),
            frames.iter().map(|f| f.ts_ns).max(),
        ) else {
            continue;
        };
        let shift = next_start - first;
        for mut f in frames {
            f.ts_ns += shift;
            w.packet(&f);
        }
        next_start = last + shift + GAP_NS;
    }
    Ok(w.finish())
}
