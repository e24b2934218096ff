//! Reads capture files (pcap, pcapng; gzip/xz/zstd-compressed or not) into numbered, timestamped
//! frames; it never decodes packet contents.
//!
//! [`CaptureReader`] streams: memory stays bounded by the largest record the formats allow,
//! whatever the file size. Frame numbers follow Wireshark's `frame.number` exactly (every
//! packet record, plus the pcapng custom and systemd-journal blocks Wireshark also shows as
//! frames). A truncated or corrupt file yields every frame before the damage, then a
//! diagnostic; only an input that is not a capture at all is an error.

mod reader;
mod source;

use std::fmt;

use serde::Serialize;

pub use reader::{CaptureReader, ReadEnd};
pub use source::{Compression, InputSource, DEFAULT_MAX_DECOMPRESSED, RAW_BYTES_READ};

use crate::ids::FrameNumber;
use crate::time::Timestamp;

/// A link-layer type number from the tcpdump.org LINKTYPE registry (the value stored in pcap
/// headers and pcapng interface blocks).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LinkType(pub u16);

impl LinkType {
    /// BSD loopback: 4-byte address family in the writer's byte order.
    pub const NULL: LinkType = LinkType(0);
    /// Ethernet II / 802.3.
    pub const ETHERNET: LinkType = LinkType(1);
    /// PPP (RFC 1661 framing, optional HDLC address/control bytes).
    pub const PPP: LinkType = LinkType(9);
    /// Raw IPv4 or IPv6, version taken from the first nibble.
    pub const RAW: LinkType = LinkType(101);
    /// BSD loopback with the address family in network byte order.
    pub const LOOP: LinkType = LinkType(108);
    /// Linux "cooked" capture v1.
    pub const LINUX_SLL: LinkType = LinkType(113);
    /// Linux netfilter NFLOG.
    pub const NFLOG: LinkType = LinkType(239);
    /// Raw IPv4 only.
    pub const IPV4: LinkType = LinkType(228);
    /// Raw IPv6 only.
    pub const IPV6: LinkType = LinkType(229);
    /// Linux "cooked" capture v2.
    pub const LINUX_SLL2: LinkType = LinkType(276);

    /// The registry name, for reports (`ethernet`, `linux_sll`, ... or `linktype_N`).
    pub fn name(self) -> String {
        match self {
            LinkType::NULL => "null".into(),
            LinkType::ETHERNET => "ethernet".into(),
            LinkType::PPP => "ppp".into(),
            LinkType::RAW | LinkType(12) | LinkType(14) => "raw".into(),
            LinkType::LOOP => "loop".into(),
            LinkType::LINUX_SLL => "linux_sll".into(),
            LinkType::NFLOG => "nflog".into(),
            LinkType::IPV4 => "ipv4".into(),
            LinkType::IPV6 => "ipv6".into(),
            LinkType::LINUX_SLL2 => "linux_sll2".into(),
            LinkType(n) => format!("linktype_{n}"),
        }
    }
}

impl fmt::Display for LinkType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.name(), self.0)
    }
}

impl Serialize for LinkType {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.name())
    }
}

/// What a frame holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FrameContent {
    /// A captured packet of the given link type.
    Packet(LinkType),
    /// A record Wireshark numbers as a frame but that holds no packet (pcapng custom or
    /// systemd journal export block).
    NonPacket,
}

/// One frame, borrowed from the reader's buffer until the next call to
/// [`CaptureReader::next_frame`].
#[derive(Clone, Copy, Debug)]
pub struct Frame<'a> {
    /// The frame's 1-based number, as Wireshark counts it.
    pub number: FrameNumber,
    /// Capture timestamp.
    pub ts: Timestamp,
    /// Interface index (pcapng: counted across all sections, like Wireshark's
    /// `frame.interface_id`; classic pcap: always 0).
    pub interface: u32,
    /// What the frame holds.
    pub content: FrameContent,
    /// The captured bytes (possibly shorter than on the wire).
    pub data: &'a [u8],
    /// The length on the wire.
    pub orig_len: u32,
    /// Byte offset of the record in the (decompressed) capture stream.
    pub offset: u64,
}

/// The container format of a capture.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CaptureFormat {
    /// Classic libpcap format.
    Pcap {
        /// Byte order of the file.
        big_endian: bool,
        /// Timestamps in nanoseconds (magic a1b23c4d) rather than microseconds.
        nanosecond: bool,
        /// Kuznetzov "modified" pcap (24-byte record headers).
        modified: bool,
    },
    /// pcapng (any number of sections and interfaces).
    Pcapng,
}

impl fmt::Display for CaptureFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CaptureFormat::Pcap {
                big_endian,
                nanosecond,
                modified,
            } => {
                write!(
                    f,
                    "pcap ({}, {}{})",
                    if *big_endian {
                        "big-endian"
                    } else {
                        "little-endian"
                    },
                    if *nanosecond {
                        "nanosecond"
                    } else {
                        "microsecond"
                    },
                    if *modified { ", modified" } else { "" }
                )
            }
            CaptureFormat::Pcapng => f.write_str("pcapng"),
        }
    }
}

/// An interface described by the capture (classic pcap files have exactly one).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct InterfaceInfo {
    /// Global interface index.
    pub index: u32,
    /// Its link type.
    pub link_type: LinkType,
    /// Snapshot length (0 = unlimited).
    pub snaplen: u32,
    /// Timestamp units per second (pcapng `if_tsresol`; 10^6 or 10^9 for pcap).
    pub ts_units_per_sec: u64,
    /// pcapng `if_tsoffset` in seconds.
    pub ts_offset_secs: i64,
}

/// Why a capture could not be analyzed at all.
#[derive(Debug, thiserror::Error)]
pub enum CaptureError {
    /// The file could not be opened or read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// What was being read.
        path: String,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// The input is empty.
    #[error("{path}: empty file (0 bytes): not a capture")]
    Empty {
        /// The input.
        path: String,
    },
    /// The input does not start with a capture or compression header tamper knows.
    #[error("{path}: not a capture file: starts with bytes {magic}, {guess}")]
    NotACapture {
        /// The input.
        path: String,
        /// The first bytes in hex.
        magic: String,
        /// What the bytes look like, and what to do.
        guess: String,
    },
    /// The capture header is present but not one tamper (or Wireshark) accepts.
    #[error("{path}: unsupported capture header: {reason}")]
    BadHeader {
        /// The input.
        path: String,
        /// What is wrong with the header.
        reason: String,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_type_names() {
        assert_eq!(LinkType::ETHERNET.name(), "ethernet");
        assert_eq!(LinkType(147).name(), "linktype_147");
        assert_eq!(LinkType::LINUX_SLL2.to_string(), "linux_sll2 (276)");
    }
}
