//! Splits a UDP datagram into QUIC packets and reads their long headers (RFC 9000 §17.2,
//! RFC 8999 §5, RFC 9369 §3.2); it never decrypts, never keeps state, and stops at the first
//! packet it cannot delimit instead of guessing.
//!
//! Only long-header packets are read: a short-header (1-RTT) packet has no length field and
//! carries nothing tamper can see, so it ends the walk. The long header is versioned: its
//! invariant part (RFC 8999) gives the version and both connection IDs, and the rest is read
//! only for versions whose layout is known (QUIC v1, v2 and draft-29, which share it except for
//! the packet-type bits of v2). Version Negotiation (version 0) and Retry packets run to the end
//! of the datagram; the others carry a Length field, which is how coalesced packets (RFC 9000
//! §12.2) are split.

#![cfg_attr(
    not(test),
    deny(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used)
)]

use std::fmt;

use serde::{Serialize, Serializer};

/// QUIC version 1 (RFC 9000 §15).
pub const VERSION_1: u32 = 0x0000_0001;
/// QUIC version 2 (RFC 9369 §3.1).
pub const VERSION_2: u32 = 0x6b33_43cf;
/// draft-ietf-quic-transport-29, still sent by some older clients; same layout and labels as
/// version 1, its own Initial salt.
pub const VERSION_DRAFT_29: u32 = 0xff00_001d;
/// The version field of a Version Negotiation packet (RFC 9000 §17.2.1).
pub const VERSION_NEGOTIATION: u32 = 0;
/// RFC 9000 §17.2: a version 1 connection ID is at most 20 bytes.
pub const MAX_CID_LEN: usize = 20;
/// RFC 9001 §5.8: the Retry Integrity Tag is 16 bytes.
pub const RETRY_TAG_LEN: usize = 16;
/// Most versions kept from one Version Negotiation packet.
pub const MAX_OFFERED_VERSIONS: usize = 16;

/// RFC 9000 §17.2: Header Form bit (1 for a long header).
const HEADER_FORM: u8 = 0x80;
/// RFC 9000 §17.2: Fixed Bit.
const FIXED_BIT: u8 = 0x40;

/// Whether tamper knows the long-header layout and Initial keys of `version`.
pub fn is_known_version(version: u32) -> bool {
    matches!(version, VERSION_1 | VERSION_2 | VERSION_DRAFT_29)
}

/// Whether the first bytes of a UDP payload look like a QUIC long-header packet of a known
/// version (header form and fixed bits set, then the version). Used to recognise QUIC on
/// ports that do not tell.
pub fn looks_like_quic_long_header(payload: &[u8]) -> bool {
    match (payload.first(), read_u32(payload, 1)) {
        (Some(&first), Some(version)) => {
            first & (HEADER_FORM | FIXED_BIT) == HEADER_FORM | FIXED_BIT
                && is_known_version(version)
        }
        _ => false,
    }
}

/// The long-header packet types (RFC 9000 §17.2, Table 5), plus Version Negotiation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PacketType {
    /// Initial: carries the first CRYPTO data, protected with keys anyone can derive.
    Initial,
    /// 0-RTT: early application data.
    ZeroRtt,
    /// Handshake: protected with keys from the TLS handshake (opaque to tamper).
    Handshake,
    /// Retry: the server asks the client to prove its address.
    Retry,
    /// Version Negotiation: the server does not support the client's version.
    VersionNegotiation,
}

impl PacketType {
    /// The type encoded by the two type bits of the first byte, for a known version
    /// (RFC 9000 §17.2 for v1 and draft-29; RFC 9369 §3.2 for v2, which permutes them).
    fn from_bits(version: u32, bits: u8) -> PacketType {
        let v2 = version == VERSION_2;
        match (bits & 0x03, v2) {
            (0, false) | (1, true) => PacketType::Initial,
            (1, false) | (2, true) => PacketType::ZeroRtt,
            (2, false) | (3, true) => PacketType::Handshake,
            _ => PacketType::Retry,
        }
    }

    /// A short lower-case label.
    pub fn label(self) -> &'static str {
        match self {
            PacketType::Initial => "initial",
            PacketType::ZeroRtt => "0-rtt",
            PacketType::Handshake => "handshake",
            PacketType::Retry => "retry",
            PacketType::VersionNegotiation => "version_negotiation",
        }
    }
}

/// A connection ID of at most [`MAX_CID_LEN`] bytes, kept inline (no allocation). Serialised
/// as lower-case hex.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct ConnectionId {
    len: u8,
    bytes: [u8; MAX_CID_LEN],
}

impl ConnectionId {
    /// The ID holding `bytes`, or `None` when longer than [`MAX_CID_LEN`].
    pub fn new(bytes: &[u8]) -> Option<ConnectionId> {
        let mut out = ConnectionId::default();
        out.bytes.get_mut(..bytes.len())?.copy_from_slice(bytes);
        out.len = u8::try_from(bytes.len()).ok()?;
        Some(out)
    }

    /// The bytes.
    pub fn as_slice(&self) -> &[u8] {
        self.bytes.get(..usize::from(self.len)).unwrap_or(&[])
    }

    /// Length in bytes (0 to 20).
    pub fn len(&self) -> usize {
        usize::from(self.len)
    }

    /// Whether the ID is empty (zero-length connection IDs are allowed).
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Lower-case hex.
    pub fn to_hex(&self) -> String {
        use std::fmt::Write as _;
        let mut s = String::with_capacity(self.len() * 2);
        for b in self.as_slice() {
            // Writing to a String cannot fail.
            let _ = write!(s, "{b:02x}");
        }
        s
    }
}

impl fmt::Debug for ConnectionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ConnectionId({})", self.to_hex())
    }
}

impl fmt::Display for ConnectionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl Serialize for ConnectionId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_hex())
    }
}

/// One long-header packet, delimited but still protected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LongPacket<'a> {
    /// The packet's type.
    pub packet_type: PacketType,
    /// Version field.
    pub version: u32,
    /// Destination connection ID.
    pub dcid: ConnectionId,
    /// Source connection ID.
    pub scid: ConnectionId,
    /// Initial: the token; Retry: the retry token; otherwise empty.
    pub token: &'a [u8],
    /// The whole packet, from the first byte to the end of its payload (for a Retry, the tag
    /// included).
    pub bytes: &'a [u8],
    /// Initial, 0-RTT, Handshake: offset of the (protected) packet number in `bytes`.
    pub pn_offset: usize,
    /// Version Negotiation: the versions the server offers (at most
    /// [`MAX_OFFERED_VERSIONS`]).
    pub offered_versions: Vec<u32>,
    /// The Fixed Bit was clear (RFC 9287 allows it when both ends agreed; otherwise invalid).
    pub fixed_bit_clear: bool,
    /// The Length field runs past the end of the datagram: `bytes` holds what there is (a
    /// datagram cut by the snapshot length, or a lying Length), and the walk ends here.
    pub cut: bool,
}

/// Why a datagram's packets could not all be delimited.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HeaderError {
    /// The header or the length it declares runs past the captured bytes: `needed` bytes from
    /// the packet start, `available` captured.
    Truncated {
        /// Bytes the packet needs from its start.
        needed: usize,
        /// Bytes there are.
        available: usize,
    },
    /// A connection ID longer than 20 bytes in a version that forbids it.
    ConnectionIdTooLong(usize),
    /// A Length field smaller than the packet number it must cover, or a Retry too short for
    /// its tag, or a Version Negotiation packet whose version list is not a multiple of 4.
    Impossible(&'static str),
}

impl fmt::Display for HeaderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HeaderError::Truncated { needed, available } => write!(
                f,
                "packet needs {needed} bytes but only {available} are there"
            ),
            HeaderError::ConnectionIdTooLong(n) => {
                write!(f, "connection ID of {n} bytes (at most 20 allowed)")
            }
            HeaderError::Impossible(why) => f.write_str(why),
        }
    }
}

/// What walking a datagram found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Datagram<'a> {
    /// The long-header packets that could be delimited, in order.
    pub packets: Vec<LongPacket<'a>>,
    /// The walk stopped at a packet whose header is broken; the packets before it are kept.
    pub error: Option<(usize, HeaderError)>,
    /// A long header of a version tamper does not know (the walk stopped there).
    pub unknown_version: Option<u32>,
    /// Packets after the first whose destination connection ID differed and were ignored, as
    /// RFC 9000 §12.2 tells receivers to.
    pub ignored_other_dcid: usize,
    /// Bytes at the end that were not a long-header packet (a short-header packet or padding).
    pub trailing: usize,
}

/// Reads a QUIC variable-length integer (RFC 9000 §16) at `*pos`, advancing it.
pub fn read_varint(bytes: &[u8], pos: &mut usize) -> Option<u64> {
    let first = *bytes.get(*pos)?;
    let len = 1usize << (first >> 6);
    let raw = bytes.get(*pos..pos.checked_add(len)?)?;
    let mut v = u64::from(first & 0x3f);
    for &b in raw.iter().skip(1) {
        v = (v << 8) | u64::from(b);
    }
    *pos += len;
    Some(v)
}

fn read_u32(bytes: &[u8], at: usize) -> Option<u32> {
    let b: [u8; 4] = bytes.get(at..at.checked_add(4)?)?.try_into().ok()?;
    Some(u32::from_be_bytes(b))
}

/// Reads a length-prefixed connection ID at `*pos`. An ID longer than 20 bytes (RFC 8999
/// allows up to 255 in unknown versions) is stepped over and returned as `Err(length)` inside
/// the `Ok`, for the caller to refuse when its version forbids it.
fn read_cid(bytes: &[u8], pos: &mut usize) -> Result<Result<ConnectionId, usize>, HeaderError> {
    let truncated = |needed: usize| HeaderError::Truncated {
        needed,
        available: bytes.len(),
    };
    let len = usize::from(*bytes.get(*pos).ok_or_else(|| truncated(*pos + 1))?);
    let start = *pos + 1;
    let cid = bytes
        .get(start..start + len)
        .ok_or_else(|| truncated(start + len))?;
    *pos = start + len;
    Ok(ConnectionId::new(cid).ok_or(len))
}

/// Delimits the long-header packet at the start of `bytes` (whose first byte has the header
/// form bit set). Returns the packet and the bytes after it.
fn parse_long(bytes: &[u8]) -> Result<(LongPacket<'_>, &[u8]), LongError> {
    let truncated = |needed: usize| {
        LongError::Header(HeaderError::Truncated {
            needed,
            available: bytes.len(),
        })
    };
    let first = *bytes.first().ok_or_else(|| truncated(1))?;
    let version = read_u32(bytes, 1).ok_or_else(|| truncated(5))?;
    let mut pos = 5;
    let dcid = read_cid(bytes, &mut pos).map_err(LongError::Header)?;
    let scid = read_cid(bytes, &mut pos).map_err(LongError::Header)?;
    if version == VERSION_NEGOTIATION {
        // RFC 9000 §17.2.1: the rest of the datagram is the list of supported versions.
        let dcid = dcid.map_err(|n| LongError::Header(HeaderError::ConnectionIdTooLong(n)))?;
        let scid = scid.map_err(|n| LongError::Header(HeaderError::ConnectionIdTooLong(n)))?;
        let list = bytes.get(pos..).unwrap_or(&[]);
        if list.is_empty() || list.len() % 4 != 0 {
            return Err(LongError::Header(HeaderError::Impossible(
                "Version Negotiation version list empty or not a multiple of 4 bytes",
            )));
        }
        let offered_versions = list
            .chunks_exact(4)
            .take(MAX_OFFERED_VERSIONS)
            .filter_map(|c| <[u8; 4]>::try_from(c).ok().map(u32::from_be_bytes))
            .collect();
        let packet = LongPacket {
            packet_type: PacketType::VersionNegotiation,
            version,
            dcid,
            scid,
            token: &[],
            bytes,
            pn_offset: 0,
            offered_versions,
            fixed_bit_clear: false,
            cut: false,
        };
        return Ok((packet, &[]));
    }
    if !is_known_version(version) {
        return Err(LongError::UnknownVersion(version));
    }
    let dcid = dcid.map_err(|n| LongError::Header(HeaderError::ConnectionIdTooLong(n)))?;
    let scid = scid.map_err(|n| LongError::Header(HeaderError::ConnectionIdTooLong(n)))?;
    let packet_type = PacketType::from_bits(version, (first >> 4) & 0x03);
    let fixed_bit_clear = first & FIXED_BIT == 0;
    let mut token: &[u8] = &[];
    match packet_type {
        PacketType::Retry => {
            // RFC 9000 §17.2.5: Retry Token, then the 16-byte Retry Integrity Tag; the packet
            // runs to the end of the datagram.
            let rest = bytes.len().saturating_sub(pos);
            if rest < RETRY_TAG_LEN {
                return Err(LongError::Header(HeaderError::Impossible(
                    "Retry packet shorter than its integrity tag",
                )));
            }
            token = bytes.get(pos..bytes.len() - RETRY_TAG_LEN).unwrap_or(&[]);
            let packet = LongPacket {
                packet_type,
                version,
                dcid,
                scid,
                token,
                bytes,
                pn_offset: 0,
                offered_versions: Vec::new(),
                fixed_bit_clear,
                cut: false,
            };
            return Ok((packet, &[]));
        }
        PacketType::Initial => {
            // RFC 9000 §17.2.2: Token Length, Token.
            let token_len = read_varint(bytes, &mut pos).ok_or_else(|| truncated(pos + 1))?;
            let token_len = usize::try_from(token_len).map_err(|_| truncated(usize::MAX))?;
            let end = pos
                .checked_add(token_len)
                .ok_or_else(|| truncated(usize::MAX))?;
            token = bytes.get(pos..end).ok_or_else(|| truncated(end))?;
            pos = end;
        }
        PacketType::ZeroRtt | PacketType::Handshake | PacketType::VersionNegotiation => {}
    }
    let length = read_varint(bytes, &mut pos).ok_or_else(|| truncated(pos + 1))?;
    let length = usize::try_from(length).map_err(|_| truncated(usize::MAX))?;
    if length < 1 {
        return Err(LongError::Header(HeaderError::Impossible(
            "Length field of 0 cannot hold a packet number",
        )));
    }
    let end = pos.saturating_add(length);
    let cut = end > bytes.len();
    let packet = LongPacket {
        packet_type,
        version,
        dcid,
        scid,
        token,
        bytes: bytes.get(..end).unwrap_or(bytes),
        pn_offset: pos,
        offered_versions: Vec::new(),
        fixed_bit_clear,
        cut,
    };
    Ok((packet, bytes.get(end..).unwrap_or(&[])))
}

enum LongError {
    Header(HeaderError),
    UnknownVersion(u32),
}

/// Splits a UDP payload into its long-header packets (RFC 9000 §12.2).
pub fn split_datagram(payload: &[u8]) -> Datagram<'_> {
    let mut out = Datagram::default();
    let mut rest = payload;
    let mut first_dcid: Option<ConnectionId> = None;
    while let Some(&first) = rest.first() {
        if first & HEADER_FORM == 0 {
            // A short-header packet (or zero padding): it runs to the end of the datagram.
            out.trailing = rest.len();
            break;
        }
        let offset = payload.len() - rest.len();
        match parse_long(rest) {
            Ok((packet, after)) => {
                rest = after;
                match first_dcid {
                    Some(d) if d != packet.dcid => out.ignored_other_dcid += 1,
                    _ => {
                        first_dcid = Some(packet.dcid);
                        out.packets.push(packet);
                    }
                }
            }
            Err(LongError::UnknownVersion(v)) => {
                out.unknown_version = Some(v);
                break;
            }
            Err(LongError::Header(e)) => {
                out.error = Some((offset, e));
                break;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn hex(s: &str) -> Vec<u8> {
        let s: String = s.chars().filter(|c| c.is_ascii_hexdigit()).collect();
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    /// Test bytes that outlive the statement.
    fn h(s: &str) -> &'static [u8] {
        Box::leak(hex(s).into_boxed_slice())
    }

    #[test]
    fn varints_of_every_length() {
        // RFC 9000 Appendix A.1 examples.
        for (bytes, value) in [
            ("c2197c5eff14e88c", 151_288_809_941_952_652u64),
            ("9d7f3e7d", 494_878_333),
            ("7bbd", 15_293),
            ("25", 37),
            ("4025", 37),
        ] {
            let b = hex(bytes);
            let mut pos = 0;
            assert_eq!(read_varint(&b, &mut pos), Some(value), "{bytes}");
            assert_eq!(pos, b.len());
        }
        let mut pos = 0;
        assert_eq!(read_varint(&hex("c2197c"), &mut pos), None);
        assert_eq!(pos, 0);
    }

    #[test]
    fn rfc9001_client_initial_header() {
        let b = hex(include_str!("testdata/rfc9001-a2-client-initial.hex"));
        let d = split_datagram(&b);
        assert_eq!(d.error, None);
        assert_eq!(d.packets.len(), 1);
        let p = &d.packets[0];
        assert_eq!(p.packet_type, PacketType::Initial);
        assert_eq!(p.version, VERSION_1);
        assert_eq!(p.dcid.to_hex(), "8394c8f03e515708");
        assert!(p.scid.is_empty());
        assert!(p.token.is_empty());
        assert_eq!(p.pn_offset, 18);
        assert_eq!(p.bytes.len(), 1200);
        assert!(looks_like_quic_long_header(&b));
    }

    #[test]
    fn v2_packet_types_are_permuted() {
        let b = hex(include_str!("testdata/rfc9369-a2-client-initial.hex"));
        let d = split_datagram(&b);
        assert_eq!(d.packets[0].packet_type, PacketType::Initial);
        assert_eq!(d.packets[0].version, VERSION_2);
        let r = hex(include_str!("testdata/rfc9369-a4-retry.hex"));
        let d = split_datagram(&r);
        assert_eq!(d.packets[0].packet_type, PacketType::Retry);
        assert_eq!(d.packets[0].token, b"token");
        let r = hex(include_str!("testdata/rfc9001-a4-retry.hex"));
        let d = split_datagram(&r);
        assert_eq!(d.packets[0].packet_type, PacketType::Retry);
        assert_eq!(d.packets[0].token, b"token");
        assert_eq!(d.packets[0].scid.to_hex(), "f067a5502a4262b5");
    }

    #[test]
    fn coalesced_packets_are_split_and_short_header_ends_the_walk() {
        let server = hex(include_str!("testdata/rfc9001-a3-server-initial.hex"));
        let mut dgram = server.clone();
        // A Handshake packet of the same connection (type bits 10), 5-byte payload.
        dgram.extend_from_slice(&hex("e2 00000001 00 08 f067a5502a4262b5 05 0102030405"));
        // A short-header packet.
        dgram.extend_from_slice(&hex("41 aabbccdd"));
        let d = split_datagram(&dgram);
        assert_eq!(d.error, None);
        let types: Vec<_> = d.packets.iter().map(|p| p.packet_type).collect();
        assert_eq!(types, [PacketType::Initial, PacketType::Handshake]);
        assert_eq!(d.packets[0].bytes, &server[..]);
        assert_eq!(d.trailing, 5);
    }

    #[test]
    fn version_negotiation_lists_versions() {
        let b = hex("80 00000000 04 01020304 00 00000001 6b3343cf");
        let d = split_datagram(&b);
        let p = &d.packets[0];
        assert_eq!(p.packet_type, PacketType::VersionNegotiation);
        assert_eq!(p.offered_versions, [VERSION_1, VERSION_2]);
        assert_eq!(p.dcid.to_hex(), "01020304");
    }

    #[test]
    fn broken_headers_are_errors_not_panics() {
        let full = hex(include_str!("testdata/rfc9001-a2-client-initial.hex"));
        // Cut inside the header (the Length field ends at byte 18).
        for cut in 0..18 {
            let d = split_datagram(&full[..cut]);
            assert!(d.packets.is_empty(), "cut {cut}");
        }
        // Cut inside the payload: the header is whole, the packet is marked cut.
        let d = split_datagram(&full[..600]);
        assert_eq!(d.error, None);
        assert!(d.packets[0].cut);
        assert_eq!(d.packets[0].bytes.len(), 600);
        assert_eq!(d.packets[0].dcid.to_hex(), "8394c8f03e515708");
        // A 21-byte DCID in version 1.
        let mut b = hex("c0 00000001 15");
        b.extend_from_slice(&[7; 21]);
        b.extend_from_slice(&hex("00 00 01 00"));
        let d = split_datagram(&b);
        assert_eq!(d.error, Some((0, HeaderError::ConnectionIdTooLong(21))));
        // Unknown version.
        let d = split_datagram(h("c0 1a2a3a4a 00 00 00 01 00"));
        assert_eq!(d.unknown_version, Some(0x1a2a_3a4a));
        assert!(!looks_like_quic_long_header(&hex("c0 1a2a3a4a")));
    }

    #[test]
    fn other_dcid_after_the_first_is_ignored() {
        let mut b = hex("e0 00000001 02 aaaa 00 02 0102");
        b.extend_from_slice(&hex("e0 00000001 02 bbbb 00 02 0102"));
        let d = split_datagram(&b);
        assert_eq!(d.packets.len(), 1);
        assert_eq!(d.ignored_other_dcid, 1);
    }
}
