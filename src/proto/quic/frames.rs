//! Reads the frames of a decrypted QUIC Initial packet (RFC 9000 §19: PADDING, PING, ACK,
//! CRYPTO, CONNECTION_CLOSE); it never allocates frame data (CRYPTO data is borrowed) and stops
//! at the first frame it cannot read or that an Initial packet may not carry.
//!
//! RFC 9000 §12.4 (Table 3) allows only PADDING, PING, ACK, CRYPTO and CONNECTION_CLOSE of type
//! 0x1c in Initial packets; the application variant 0x1d is read too, for robustness. Anything
//! else ends the walk with [`FrameError::NotAllowed`]: frames carry no lengths of their own, so
//! nothing after an unknown frame can be found.

#![cfg_attr(
    not(test),
    deny(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used)
)]

use std::fmt;

use serde::Serialize;

use super::packet::read_varint;

/// RFC 9000 §19 frame types read here.
const PADDING: u64 = 0x00;
const PING: u64 = 0x01;
const ACK: u64 = 0x02;
const ACK_ECN: u64 = 0x03;
const CRYPTO: u64 = 0x06;
const CONNECTION_CLOSE: u64 = 0x1c;
const CONNECTION_CLOSE_APP: u64 = 0x1d;

/// Longest CONNECTION_CLOSE reason phrase kept (bytes; longer ones are cut).
pub const MAX_REASON_LEN: usize = 128;

/// One CRYPTO frame (RFC 9000 §19.6).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CryptoFrame<'a> {
    /// Offset of `data` in the direction's CRYPTO stream.
    pub offset: u64,
    /// The data.
    pub data: &'a [u8],
}

/// A CONNECTION_CLOSE frame (RFC 9000 §19.19).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ConnectionClose {
    /// The error code: a transport error (RFC 9000 §20.1; 0x0100-0x01ff carry a TLS alert) or,
    /// for the application variant, an application error.
    pub error_code: u64,
    /// The frame type that caused the error (transport variant only; 0 when unknown).
    pub frame_type: Option<u64>,
    /// Whether this is the application variant (type 0x1d).
    pub application: bool,
    /// The reason phrase, non-printable bytes escaped as `\xNN`, at most
    /// [`MAX_REASON_LEN`] bytes of it.
    pub reason: String,
}

impl ConnectionClose {
    /// The TLS alert a transport error code carries (RFC 9001 §4.8: CRYPTO_ERROR is 0x0100
    /// plus the alert), if it is one.
    pub fn tls_alert(&self) -> Option<u8> {
        if self.application {
            return None;
        }
        self.error_code
            .checked_sub(0x0100)
            .and_then(|a| u8::try_from(a).ok())
    }
}

/// Why the frame walk stopped early.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FrameError {
    /// A frame of `frame_type` at payload offset `at` runs past the payload.
    Truncated {
        /// The frame type.
        frame_type: u64,
        /// Its offset in the payload.
        at: usize,
    },
    /// A frame type an Initial packet may not carry (or tamper does not read) at offset `at`.
    NotAllowed {
        /// The frame type.
        frame_type: u64,
        /// Its offset in the payload.
        at: usize,
    },
}

impl fmt::Display for FrameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FrameError::Truncated { frame_type, at } => {
                write!(f, "frame type 0x{frame_type:02x} at payload byte {at} is cut short")
            }
            FrameError::NotAllowed { frame_type, at } => write!(
                f,
                "frame type 0x{frame_type:02x} at payload byte {at} is not allowed in an Initial packet"
            ),
        }
    }
}

/// The frames of one Initial packet.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Frames<'a> {
    /// CRYPTO frames in packet order.
    pub crypto: Vec<CryptoFrame<'a>>,
    /// The first CONNECTION_CLOSE frame.
    pub close: Option<ConnectionClose>,
    /// A PING frame was present.
    pub ping: bool,
    /// An ACK frame was present.
    pub ack: bool,
    /// Bytes of PADDING.
    pub padding: usize,
    /// Where and why the walk stopped early.
    pub error: Option<FrameError>,
}

/// Renders bytes as text: printable ASCII as is, anything else (and `\`) as `\xNN`.
fn escape(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    let mut s = String::with_capacity(bytes.len());
    for &b in bytes {
        if (0x20..0x7f).contains(&b) && b != b'\\' {
            s.push(char::from(b));
        } else {
            // Writing to a String cannot fail.
            let _ = write!(s, "\\x{b:02x}");
        }
    }
    s
}

/// Reads `len` bytes at `*pos`.
fn take<'a>(payload: &'a [u8], pos: &mut usize, len: u64) -> Option<&'a [u8]> {
    let len = usize::try_from(len).ok()?;
    let end = pos.checked_add(len)?;
    let out = payload.get(*pos..end)?;
    *pos = end;
    Some(out)
}

/// Reads the frames of a decrypted Initial payload.
pub fn parse_frames(payload: &[u8]) -> Frames<'_> {
    let mut out = Frames::default();
    let mut pos = 0;
    while pos < payload.len() {
        let at = pos;
        let Some(frame_type) = read_varint(payload, &mut pos) else {
            out.error = Some(FrameError::Truncated { frame_type: 0, at });
            break;
        };
        let truncated = FrameError::Truncated { frame_type, at };
        let ok = match frame_type {
            PADDING => {
                let run = payload
                    .get(pos..)
                    .map_or(0, |r| r.iter().take_while(|&&b| b == 0).count());
                pos += run;
                out.padding += run + 1;
                true
            }
            PING => {
                out.ping = true;
                true
            }
            ACK | ACK_ECN => {
                out.ack = true;
                read_ack(payload, &mut pos, frame_type == ACK_ECN).is_some()
            }
            CRYPTO => {
                let frame = (|| {
                    let offset = read_varint(payload, &mut pos)?;
                    let len = read_varint(payload, &mut pos)?;
                    let data = take(payload, &mut pos, len)?;
                    // RFC 9000 §19.6: the stream may not reach 2^62.
                    (offset.checked_add(len)? < 1 << 62).then_some(CryptoFrame { offset, data })
                })();
                match frame {
                    Some(f) => {
                        out.crypto.push(f);
                        true
                    }
                    None => false,
                }
            }
            CONNECTION_CLOSE | CONNECTION_CLOSE_APP => {
                let application = frame_type == CONNECTION_CLOSE_APP;
                let close = (|| {
                    let error_code = read_varint(payload, &mut pos)?;
                    let frame_type = if application {
                        None
                    } else {
                        Some(read_varint(payload, &mut pos)?)
                    };
                    let len = read_varint(payload, &mut pos)?;
                    let reason = take(payload, &mut pos, len)?;
                    Some(ConnectionClose {
                        error_code,
                        frame_type,
                        application,
                        reason: escape(reason.get(..MAX_REASON_LEN).unwrap_or(reason)),
                    })
                })();
                match close {
                    Some(c) => {
                        out.close.get_or_insert(c);
                        true
                    }
                    None => false,
                }
            }
            _ => {
                out.error = Some(FrameError::NotAllowed { frame_type, at });
                break;
            }
        };
        if !ok {
            out.error = Some(truncated);
            break;
        }
    }
    out
}

/// Steps over an ACK frame's fields (RFC 9000 §19.3); every range costs at least two bytes,
/// so a hostile range count ends at the end of the payload.
fn read_ack(payload: &[u8], pos: &mut usize, ecn: bool) -> Option<()> {
    let _largest = read_varint(payload, pos)?;
    let _delay = read_varint(payload, pos)?;
    let ranges = read_varint(payload, pos)?;
    let _first = read_varint(payload, pos)?;
    let mut left = ranges;
    while left > 0 {
        read_varint(payload, pos)?;
        read_varint(payload, pos)?;
        left -= 1;
    }
    if ecn {
        for _ in 0..3 {
            read_varint(payload, pos)?;
        }
    }
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
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
    fn rfc9001_a2_payload_is_one_crypto_frame_and_padding() {
        let mut p = hex(include_str!("testdata/rfc9001-a2-crypto-frame.hex"));
        let crypto_len = p.len();
        p.resize(1162, 0);
        let f = parse_frames(&p);
        assert_eq!(f.error, None);
        assert_eq!(f.crypto.len(), 1);
        assert_eq!(f.crypto[0].offset, 0);
        assert_eq!(f.crypto[0].data.len(), 241);
        assert_eq!(f.crypto[0].data[0], 1, "a ClientHello");
        assert_eq!(f.padding, 1162 - crypto_len);
    }

    #[test]
    fn rfc9001_a3_payload_is_ack_then_crypto() {
        let p = hex(include_str!("testdata/rfc9001-a3-server-payload.hex"));
        let f = parse_frames(&p);
        assert_eq!(f.error, None);
        assert!(f.ack);
        assert_eq!(f.crypto.len(), 1);
        assert_eq!(f.crypto[0].data[0], 2, "a ServerHello");
        assert_eq!(f.crypto[0].data.len(), 90);
    }

    #[test]
    fn connection_close_and_ping_and_ecn_ack() {
        // PING; ACK_ECN with one extra range and three counts; CONNECTION_CLOSE with
        // CRYPTO_ERROR(alert 40 handshake_failure) for frame type CRYPTO and reason "no".
        let p = hex("01 03 05 00 01 00 01 01 01 02 03 1c 4128 06 02 6e6f");
        let f = parse_frames(&p);
        assert_eq!(f.error, None);
        assert!(f.ping && f.ack);
        let c = f.close.unwrap();
        assert_eq!(c.error_code, 0x0128);
        assert_eq!(c.tls_alert(), Some(40));
        assert_eq!(c.frame_type, Some(6));
        assert_eq!(c.reason, "no");
        let f = parse_frames(h("1d 05 02 ff00"));
        let c = f.close.unwrap();
        assert!(c.application && c.tls_alert().is_none());
        assert_eq!(c.reason, "\\xff\\x00");
    }

    #[test]
    fn unknown_and_truncated_frames_stop_the_walk() {
        let f = parse_frames(h("01 08 00 00"));
        assert!(f.ping);
        assert_eq!(
            f.error,
            Some(FrameError::NotAllowed {
                frame_type: 8,
                at: 1
            })
        );
        let f = parse_frames(h("06 00 10 0102"));
        assert!(f.crypto.is_empty());
        assert_eq!(
            f.error,
            Some(FrameError::Truncated {
                frame_type: 6,
                at: 0
            })
        );
        // A hostile ACK range count.
        let f = parse_frames(h("02 00 00 bfffffffffffffff 00 00 00"));
        assert!(matches!(f.error, Some(FrameError::Truncated { .. })));
        // CRYPTO reaching 2^62.
        let f = parse_frames(h("06 ffffffffffffffff 01 00"));
        assert!(f.crypto.is_empty() && f.error.is_some());
    }

    #[test]
    fn arbitrary_bytes_never_panic() {
        let mut seed = 0x1234_5678u32;
        for len in 0..300 {
            let bytes: Vec<u8> = (0..len)
                .map(|_| {
                    seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                    (seed >> 24) as u8
                })
                .collect();
            let _ = parse_frames(&bytes);
        }
    }
}
