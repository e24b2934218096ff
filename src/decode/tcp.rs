//! Decodes a TCP header and its options into plain values (with etherparse); it keeps no
//! connection state.

use std::fmt;

use etherparse::{TcpOptionElement, TcpSlice};
use serde::{Serialize, Serializer};

use super::DecodeError;

/// TCP control bits, including NS and the three reserved bits (RFC 9293 §3.1, RFC 3540).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct TcpFlags(pub u16);

impl TcpFlags {
    /// No more data from sender.
    pub const FIN: TcpFlags = TcpFlags(0x001);
    /// Synchronize sequence numbers.
    pub const SYN: TcpFlags = TcpFlags(0x002);
    /// Reset the connection.
    pub const RST: TcpFlags = TcpFlags(0x004);
    /// Push function.
    pub const PSH: TcpFlags = TcpFlags(0x008);
    /// Acknowledgment field is significant.
    pub const ACK: TcpFlags = TcpFlags(0x010);
    /// Urgent pointer field is significant.
    pub const URG: TcpFlags = TcpFlags(0x020);
    /// ECN echo.
    pub const ECE: TcpFlags = TcpFlags(0x040);
    /// Congestion window reduced.
    pub const CWR: TcpFlags = TcpFlags(0x080);
    /// ECN nonce (historic).
    pub const NS: TcpFlags = TcpFlags(0x100);
    /// The three reserved bits (must be zero).
    pub const RESERVED: TcpFlags = TcpFlags(0xe00);

    /// True if every bit of `other` is set.
    pub fn contains(self, other: TcpFlags) -> bool {
        self.0 & other.0 == other.0
    }

    /// True if any bit of `other` is set.
    pub fn intersects(self, other: TcpFlags) -> bool {
        self.0 & other.0 != 0
    }

    /// SYN set.
    pub fn syn(self) -> bool {
        self.intersects(TcpFlags::SYN)
    }
    /// ACK set.
    pub fn ack(self) -> bool {
        self.intersects(TcpFlags::ACK)
    }
    /// RST set.
    pub fn rst(self) -> bool {
        self.intersects(TcpFlags::RST)
    }
    /// FIN set.
    pub fn fin(self) -> bool {
        self.intersects(TcpFlags::FIN)
    }
}

impl std::ops::BitOr for TcpFlags {
    type Output = TcpFlags;
    fn bitor(self, rhs: TcpFlags) -> TcpFlags {
        TcpFlags(self.0 | rhs.0)
    }
}

impl fmt::Display for TcpFlags {
    /// Wireshark-style names joined by commas: `SYN,ACK`; `none` when no bit is set.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const NAMES: [(TcpFlags, &str); 10] = [
            (TcpFlags::SYN, "SYN"),
            (TcpFlags::FIN, "FIN"),
            (TcpFlags::RST, "RST"),
            (TcpFlags::PSH, "PSH"),
            (TcpFlags::ACK, "ACK"),
            (TcpFlags::URG, "URG"),
            (TcpFlags::ECE, "ECE"),
            (TcpFlags::CWR, "CWR"),
            (TcpFlags::NS, "NS"),
            (TcpFlags::RESERVED, "RES"),
        ];
        let mut first = true;
        for (flag, name) in NAMES {
            if self.intersects(flag) {
                if !first {
                    f.write_str(",")?;
                }
                f.write_str(name)?;
                first = false;
            }
        }
        if first {
            f.write_str("none")?;
        }
        Ok(())
    }
}

impl Serialize for TcpFlags {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// The TCP options tamper uses as evidence (RFC 9293 §3.2, RFC 7323, RFC 2018).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TcpOptions {
    /// Maximum segment size.
    pub mss: Option<u16>,
    /// Window scale shift.
    pub window_scale: Option<u8>,
    /// SACK permitted.
    pub sack_permitted: bool,
    /// Number of SACK blocks.
    pub sack_blocks: u8,
    /// The SACK blocks themselves, in the order sent (the first may be a D-SACK, RFC 2883).
    pub sack: SackBlocks,
    /// Timestamps (TSval, TSecr).
    pub timestamps: Option<(u32, u32)>,
    /// The option kinds in order of appearance, as a compact signature (at most 8 kinds; used
    /// to compare a suspect packet with its sender's usual options).
    pub layout: [u8; 8],
    /// Number of options (NOPs included).
    pub count: u8,
    /// The option list is malformed (bad length, cut short).
    pub malformed: bool,
}

impl TcpOptions {
    /// The option kinds in order (`layout` truncated to `count`).
    pub fn kinds(&self) -> &[u8] {
        &self.layout[..usize::from(self.count.min(8))]
    }
}

/// The SACK blocks of one segment (RFC 2018 §3: at most four fit in the option space), each as
/// (left edge, right edge) sequence numbers, in the order the receiver sent them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SackBlocks {
    blocks: [(u32, u32); 4],
    len: u8,
}

impl SackBlocks {
    /// Adds a block; a fifth and later block is ignored (it cannot fit in a TCP header).
    pub fn push(&mut self, block: (u32, u32)) {
        if let Some(slot) = self.blocks.get_mut(usize::from(self.len)) {
            *slot = block;
            self.len += 1;
        }
    }

    /// The blocks, first one first.
    pub fn as_slice(&self) -> &[(u32, u32)] {
        &self.blocks[..usize::from(self.len).min(4)]
    }

    /// True when the segment carried no SACK block.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

/// A decoded TCP header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TcpHeader {
    /// Source port.
    pub src_port: u16,
    /// Destination port.
    pub dst_port: u16,
    /// Sequence number.
    pub seq: u32,
    /// Acknowledgment field (meaningful when the ACK flag is set, but kept either way:
    /// a non-zero value without the flag is an injection tell).
    pub ack: u32,
    /// Control bits.
    pub flags: TcpFlags,
    /// Advertised window (unscaled).
    pub window: u16,
    /// Urgent pointer.
    pub urgent: u16,
    /// Header length in bytes.
    pub header_len: u8,
    /// Options.
    pub options: TcpOptions,
    /// Payload length the sender meant (from the IP length), even if fewer bytes were captured.
    pub payload_len: u32,
}

/// Decodes a TCP header; returns it with the captured payload.
pub(super) fn decode(segment: &[u8], declared_len: u32) -> Result<(TcpHeader, &[u8]), DecodeError> {
    let tcp = TcpSlice::from_slice(segment).map_err(|e| DecodeError::Tcp(e.to_string()))?;
    let header_len = tcp.header_slice().len();
    let raw_flags = segment
        .get(12..14)
        .map_or(0, |b| u16::from_be_bytes([b[0], b[1]]) & 0x0fff);
    let mut options = TcpOptions::default();
    for opt in tcp.options_iterator() {
        let kind = match opt {
            Ok(TcpOptionElement::Noop) => 1,
            Ok(TcpOptionElement::MaximumSegmentSize(m)) => {
                options.mss = Some(m);
                2
            }
            Ok(TcpOptionElement::WindowScale(w)) => {
                options.window_scale = Some(w);
                3
            }
            Ok(TcpOptionElement::SelectiveAcknowledgementPermitted) => {
                options.sack_permitted = true;
                4
            }
            Ok(TcpOptionElement::SelectiveAcknowledgement(first, rest)) => {
                options.sack_blocks = 1 + rest.iter().filter(|r| r.is_some()).count() as u8;
                options.sack.push(first);
                for block in rest.into_iter().flatten() {
                    options.sack.push(block);
                }
                5
            }
            Ok(TcpOptionElement::Timestamp(a, b)) => {
                options.timestamps = Some((a, b));
                8
            }
            Err(etherparse::TcpOptionReadError::UnknownId(id)) => {
                // etherparse stops at options it does not know; record the kind and stop.
                push_kind(&mut options, id);
                break;
            }
            Err(_) => {
                options.malformed = true;
                break;
            }
        };
        push_kind(&mut options, kind);
    }
    let payload_len = declared_len.saturating_sub(header_len as u32);
    let data = tcp.payload();
    let data = data
        .get(..(payload_len as usize).min(data.len()))
        .unwrap_or(data);
    Ok((
        TcpHeader {
            src_port: tcp.source_port(),
            dst_port: tcp.destination_port(),
            seq: tcp.sequence_number(),
            ack: tcp.acknowledgment_number(),
            flags: TcpFlags(raw_flags),
            window: tcp.window_size(),
            urgent: tcp.urgent_pointer(),
            header_len: header_len as u8,
            options,
            payload_len,
        },
        data,
    ))
}

fn push_kind(options: &mut TcpOptions, kind: u8) {
    if let Some(slot) = options.layout.get_mut(usize::from(options.count)) {
        *slot = kind;
    }
    options.count = options.count.saturating_add(1);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_display() {
        assert_eq!((TcpFlags::SYN | TcpFlags::ACK).to_string(), "SYN,ACK");
        assert_eq!((TcpFlags::RST | TcpFlags::ACK).to_string(), "RST,ACK");
        assert_eq!(TcpFlags(0).to_string(), "none");
        assert_eq!(
            TcpFlags(0xfff).to_string(),
            "SYN,FIN,RST,PSH,ACK,URG,ECE,CWR,NS,RES"
        );
    }

    /// SYN from 192.168.1.2:52000 with MSS 1460, SACK-permitted, timestamps, NOP, window scale 7.
    const SYN_WITH_OPTIONS: [u8; 40] = [
        0xcb, 0x20, 0x01, 0xbb, 0xde, 0xad, 0xbe, 0xef, 0, 0, 0, 0, 0xa0, 0x02, 0xfa, 0xf0, 0, 0,
        0, 0, 0x02, 0x04, 0x05, 0xb4, 0x04, 0x02, 0x08, 0x0a, 0, 0, 0, 1, 0, 0, 0, 0, 0x01, 0x03,
        0x03, 0x07,
    ];

    #[test]
    fn options_and_fields() {
        let (h, data) = decode(&SYN_WITH_OPTIONS, 40).unwrap();
        assert!(data.is_empty());
        assert_eq!(h.seq, 0xdeadbeef);
        assert_eq!(h.header_len, 40);
        assert_eq!(h.options.mss, Some(1460));
        assert_eq!(h.options.window_scale, Some(7));
        assert!(h.options.sack_permitted);
        assert_eq!(h.options.timestamps, Some((1, 0)));
        assert_eq!(h.options.kinds(), &[2, 4, 8, 1, 3]);
        assert!(!h.options.malformed);
    }

    #[test]
    fn sack_blocks_are_kept_in_order() {
        // ACK with NOP, NOP, SACK of two blocks: 1000-2000 (a D-SACK below the ACK) and
        // 5000-6000.
        let mut seg = vec![
            0x01, 0xbb, 0xcb, 0x20, 0, 0, 0, 1, 0, 0, 0x0b, 0xb8, 0xa0, 0x10, 0xff, 0xff, 0, 0, 0,
            0, 0x01, 0x01, 0x05, 0x12,
        ];
        for edge in [1000u32, 2000, 5000, 6000] {
            seg.extend(edge.to_be_bytes());
        }
        let (h, _) = decode(&seg, 40).unwrap();
        assert_eq!(h.options.sack_blocks, 2);
        assert_eq!(h.options.sack.as_slice(), &[(1000, 2000), (5000, 6000)]);
        let mut five = SackBlocks::default();
        for i in 0..5 {
            five.push((i, i + 1));
        }
        assert_eq!(five.as_slice().len(), 4);
        assert!(SackBlocks::default().is_empty());
    }

    #[test]
    fn truncated_and_impossible_headers() {
        for n in 0..40 {
            assert!(decode(&SYN_WITH_OPTIONS[..n], 40).is_err(), "len {n}");
        }
        let mut bad = SYN_WITH_OPTIONS;
        bad[12] = 0x40; // data offset 4 words < 5
        assert!(decode(&bad, 40).is_err());
        let mut bad_opt = SYN_WITH_OPTIONS;
        bad_opt[21] = 0; // MSS option with length 0
        let (h, _) = decode(&bad_opt, 40).unwrap();
        assert!(h.options.malformed);
    }

    #[test]
    fn payload_limited_to_declared_length() {
        let mut seg = SYN_WITH_OPTIONS.to_vec();
        seg.extend([1, 2, 3, 4, 0, 0]); // 4 bytes of data then padding
        let (h, data) = decode(&seg, 44).unwrap();
        assert_eq!((h.payload_len, data), (4, &[1, 2, 3, 4][..]));
        // Snaplen cut: 1000 bytes declared, 4 captured.
        let (h, data) = decode(&seg[..44], 1040).unwrap();
        assert_eq!((h.payload_len, data.len()), (1000, 4));
    }
}
