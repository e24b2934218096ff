//! Splits one direction of a DNS-over-TCP stream into messages (RFC 1035 §4.2.2 length
//! prefixes); it does not parse the messages and buffers at most one message.
//!
//! Framing is considered lost when a length prefix announces fewer bytes than a DNS header
//! (that cannot start a DNS message), or when the caller reports a gap with
//! [`DnsTcpFramer::gap`]; from then on every byte is skipped and counted, because a length
//! prefix has no marker that would allow resynchronising.

#![cfg_attr(
    not(test),
    deny(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used)
)]

use serde::Serialize;

use super::parse::HEADER_LEN;

/// RFC 1035 §4.2.2: each message is preceded by a two-byte big-endian length.
pub const DNS_TCP_LENGTH_PREFIX: usize = 2;
/// RFC 1035 §4.2.2: the length prefix limits a message to 65535 bytes.
pub const DNS_TCP_MAX_MESSAGE: usize = u16::MAX as usize;

/// One complete message taken from the stream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DnsTcpMessage {
    /// Stream offset of the length prefix.
    pub stream_offset: u64,
    /// The message without its length prefix (pass it to `parse_message`).
    pub bytes: Vec<u8>,
}

/// Whether the framer still follows the length prefixes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum FramingState {
    /// Following length prefixes.
    InSync,
    /// Lost at this stream offset; everything after is skipped.
    Lost {
        /// Stream offset where framing was lost.
        at: u64,
    },
}

/// Incremental framer for one direction of a DNS-over-TCP stream.
#[derive(Debug, Clone)]
pub struct DnsTcpFramer {
    /// Length prefix and body of the message being collected (at most 2 + 65535 bytes).
    buf: Vec<u8>,
    /// Stream offset of `buf[0]`.
    buf_offset: u64,
    /// Stream offset of the next byte to be fed.
    offset: u64,
    state: FramingState,
    skipped: u64,
}

impl Default for DnsTcpFramer {
    fn default() -> Self {
        Self::new()
    }
}

impl DnsTcpFramer {
    /// A framer at stream offset 0.
    pub fn new() -> Self {
        DnsTcpFramer {
            buf: Vec::new(),
            buf_offset: 0,
            offset: 0,
            state: FramingState::InSync,
            skipped: 0,
        }
    }

    /// Feeds the next contiguous bytes of the stream; returns the messages they complete.
    pub fn feed(&mut self, data: &[u8]) -> Vec<DnsTcpMessage> {
        let mut out = Vec::new();
        let mut rest = data;
        while !rest.is_empty() {
            if let FramingState::Lost { .. } = self.state {
                self.skip(rest.len());
                self.offset = self.offset.saturating_add(rest.len() as u64);
                break;
            }
            if self.buf.is_empty() {
                self.buf_offset = self.offset;
            }
            let want = match self.announced() {
                None => DNS_TCP_LENGTH_PREFIX,
                Some(len) => DNS_TCP_LENGTH_PREFIX.saturating_add(len),
            };
            let need = want.saturating_sub(self.buf.len());
            let (now, later) = rest.split_at_checked(need).unwrap_or((rest, &[]));
            self.buf.extend_from_slice(now);
            self.offset = self.offset.saturating_add(now.len() as u64);
            rest = later;
            match self.announced() {
                Some(len) if len < HEADER_LEN => {
                    // The prefix cannot announce a DNS message: count it and everything after.
                    self.state = FramingState::Lost {
                        at: self.buf_offset,
                    };
                    let n = self.buf.len();
                    self.buf.clear();
                    self.skip(n);
                }
                Some(len) if self.buf.len() == DNS_TCP_LENGTH_PREFIX.saturating_add(len) => {
                    let bytes = self
                        .buf
                        .get(DNS_TCP_LENGTH_PREFIX..)
                        .unwrap_or(&[])
                        .to_vec();
                    out.push(DnsTcpMessage {
                        stream_offset: self.buf_offset,
                        bytes,
                    });
                    self.buf.clear();
                }
                _ => {}
            }
        }
        out
    }

    /// Tells the framer that `len` bytes of the stream are missing: framing is lost.
    pub fn gap(&mut self, len: u64) {
        if self.state == FramingState::InSync {
            self.state = FramingState::Lost { at: self.offset };
        }
        let n = self.buf.len();
        self.buf.clear();
        self.skip(n);
        self.offset = self.offset.saturating_add(len);
    }

    /// Whether framing is still followed, or where it was lost.
    pub fn state(&self) -> FramingState {
        self.state
    }

    /// Bytes skipped since framing was lost (including a partial message dropped by a gap).
    pub fn skipped_bytes(&self) -> u64 {
        self.skipped
    }

    /// Bytes of an incomplete message held right now (at most 2 + 65535).
    pub fn buffered_len(&self) -> usize {
        self.buf.len()
    }

    /// Stream offset of the next byte expected.
    pub fn stream_offset(&self) -> u64 {
        self.offset
    }

    fn announced(&self) -> Option<usize> {
        let p: [u8; DNS_TCP_LENGTH_PREFIX] =
            self.buf.get(..DNS_TCP_LENGTH_PREFIX)?.try_into().ok()?;
        Some(usize::from(u16::from_be_bytes(p)))
    }

    fn skip(&mut self, n: usize) {
        self.skipped = self.skipped.saturating_add(n as u64);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn framed(msgs: &[&[u8]]) -> Vec<u8> {
        let mut v = Vec::new();
        for m in msgs {
            v.extend_from_slice(&(m.len() as u16).to_be_bytes());
            v.extend_from_slice(m);
        }
        v
    }

    #[test]
    fn two_messages_whole_and_bytewise() {
        let a = [1u8; 12];
        let b = [2u8; 30];
        let stream = framed(&[&a, &b]);
        let mut f = DnsTcpFramer::new();
        let got = f.feed(&stream);
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].bytes, a);
        assert_eq!(got[0].stream_offset, 0);
        assert_eq!(got[1].bytes, b);
        assert_eq!(got[1].stream_offset, 14);
        let mut f = DnsTcpFramer::new();
        let mut got2 = Vec::new();
        for byte in &stream {
            got2.extend(f.feed(std::slice::from_ref(byte)));
        }
        assert_eq!(got, got2);
        assert_eq!(f.buffered_len(), 0);
        assert_eq!(f.skipped_bytes(), 0);
    }

    #[test]
    fn partial_message_is_buffered() {
        let stream = framed(&[&[7u8; 20]]);
        let mut f = DnsTcpFramer::new();
        assert!(f.feed(&stream[..10]).is_empty());
        assert_eq!(f.buffered_len(), 10);
        assert_eq!(f.feed(&stream[10..]).len(), 1);
    }

    #[test]
    fn short_prefix_loses_framing() {
        let mut stream = framed(&[&[1u8; 12]]);
        stream.extend_from_slice(&[0, 3, 9, 9, 9, 0, 12]);
        let mut f = DnsTcpFramer::new();
        let got = f.feed(&stream);
        assert_eq!(got.len(), 1);
        assert_eq!(f.state(), FramingState::Lost { at: 14 });
        assert_eq!(f.skipped_bytes(), 7);
        assert!(f.feed(&[0, 12, 1, 2]).is_empty());
        assert_eq!(f.skipped_bytes(), 11);
    }

    #[test]
    fn gap_loses_framing() {
        let stream = framed(&[&[1u8; 12], &[2u8; 12]]);
        let mut f = DnsTcpFramer::new();
        assert_eq!(f.feed(&stream[..16]).len(), 1);
        f.gap(5);
        assert_eq!(f.skipped_bytes(), 2);
        assert!(f.feed(&stream[16..]).is_empty());
        assert!(matches!(f.state(), FramingState::Lost { .. }));
    }

    #[test]
    fn max_message() {
        let big = vec![0u8; DNS_TCP_MAX_MESSAGE];
        let stream = framed(&[&big]);
        let mut f = DnsTcpFramer::new();
        let got = f.feed(&stream);
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].bytes.len(), DNS_TCP_MAX_MESSAGE);
    }
}
