//! Scans one direction of a TCP stream as TLS records and reports handshake facts as events; it
//! holds at most one record and one handshake message, never decrypts anything, and stops doing
//! per-record work once the handshake is encrypted (later records are only counted).
//!
//! The scanner reassembles handshake messages split across records and across calls to
//! [`TlsScanner::feed`], so the events do not depend on how the stream was chunked. It knows
//! the handshake became encrypted after a ServerHello selecting TLS 1.3, after a
//! ChangeCipherSpec, or at the first application_data record; the pipeline can also say so with
//! [`TlsScanner::set_encrypted`] (e.g. for the client direction once the server picked TLS 1.3).
//! After that, record headers are still checked and counted, and tiny plaintext
//! ChangeCipherSpec (1 byte) and Alert (2 bytes) records, which cannot be ciphertext, are still
//! reported.

#![cfg_attr(
    not(test),
    deny(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used)
)]

use serde::Serialize;

use super::parse::{
    parse_certificate, parse_certificate_prefix, parse_client_hello, parse_server_hello,
    CertificateSummary, ClientHello, MessageOrigin, ServerHello, ServerHelloKind, CONTENT_ALERT,
    CONTENT_APPLICATION_DATA, CONTENT_CHANGE_CIPHER_SPEC, CONTENT_HANDSHAKE, CONTENT_HEARTBEAT,
    HANDSHAKE_HEADER_LEN, HS_CERTIFICATE, HS_CLIENT_HELLO, HS_HELLO_RETRY_REQUEST_DRAFT,
    HS_SERVER_HELLO, MAX_HANDSHAKE_LEN, MAX_RECORD_LEN, RECORD_HEADER_LEN,
};

/// RFC 8446 §6: an alert is level (1) + description (1).
const ALERT_LEN: usize = 2;
/// RFC 5246 §7.1: a ChangeCipherSpec body is the single byte 1.
const CCS_LEN: usize = 1;
/// RFC 5246 §6.2.1: the record version's major byte is 3 for SSL 3.0 through TLS 1.3.
const RECORD_VERSION_MAJOR: u8 = 3;
/// Highest minor version accepted in a record header (TLS 1.3 never sends more than 3 there,
/// but some stacks put 0x0304).
const RECORD_VERSION_MAX_MINOR: u8 = 4;

/// What made the scanner treat the rest of the direction as encrypted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum EncryptionCause {
    /// A ServerHello selected TLS 1.3 (RFC 8446 §2: everything after it is encrypted).
    ServerHelloTls13,
    /// A ChangeCipherSpec record (TLS 1.2 and earlier, or TLS 1.3 middlebox compatibility).
    ChangeCipherSpec,
    /// An application_data record.
    ApplicationData,
    /// [`TlsScanner::set_encrypted`] was called.
    External,
}

/// A bound of the scanner that was hit; the scanner stops afterwards.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum TlsLimit {
    /// A handshake message longer than [`MAX_HANDSHAKE_LEN`].
    HandshakeMessage {
        /// The 24-bit length it declared.
        declared: u32,
        /// The cap.
        max: usize,
    },
}

/// Why the scanner gave up on the stream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum TlsMalformed {
    /// A record content type outside 20..=24.
    UnknownContentType(u8),
    /// A record version whose major byte is not 3, or minor above 4.
    BadRecordVersion(u16),
    /// A record length above [`MAX_RECORD_LEN`].
    RecordTooLong(u16),
    /// An alert record whose length is not a positive multiple of 2.
    BadAlertLength(u16),
    /// A handshake message `tls-parser` could not decode.
    BadHandshake {
        /// HandshakeType.
        msg_type: u8,
        /// What failed.
        detail: String,
    },
}

/// Something the scanner saw.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum TlsEvent {
    /// A complete ClientHello.
    ClientHello(ClientHello),
    /// A complete ServerHello or HelloRetryRequest.
    ServerHello(ServerHello),
    /// A plaintext (TLS 1.2 and earlier) Certificate message, or from
    /// [`TlsScanner::finish`] the part of one that arrived.
    Certificate(CertificateSummary),
    /// Any other plaintext handshake message.
    OtherHandshake {
        /// Stream offset of the first record holding the message.
        offset: u64,
        /// HandshakeType.
        msg_type: u8,
        /// Body length.
        len: u32,
    },
    /// A ChangeCipherSpec record.
    ChangeCipherSpec {
        /// Stream offset of the record.
        offset: u64,
    },
    /// One plaintext alert (RFC 8446 §6).
    Alert {
        /// Stream offset of the record.
        offset: u64,
        /// AlertLevel (1 warning, 2 fatal).
        level: u8,
        /// AlertDescription (see [`alert_description_name`]).
        description: u8,
    },
    /// From `offset` on, records are encrypted and only counted.
    Encrypted {
        /// Stream offset of the first encrypted byte.
        offset: u64,
        /// Why.
        cause: EncryptionCause,
    },
    /// The first application_data record (later ones are only counted).
    ApplicationData {
        /// Stream offset of the record.
        offset: u64,
        /// Record length.
        len: u16,
    },
    /// The stream is not (or no longer) TLS; the scanner stops.
    Malformed {
        /// Stream offset of the offending record.
        offset: u64,
        /// What is wrong.
        reason: TlsMalformed,
    },
    /// A bound was hit; the scanner stops.
    LimitReached {
        /// Stream offset of the record where it was hit.
        offset: u64,
        /// Which bound.
        limit: TlsLimit,
    },
}

/// Counters kept by the scanner.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct TlsScanStats {
    /// Bytes fed.
    pub bytes: u64,
    /// Complete records seen.
    pub records: u64,
    /// Records skipped as encrypted.
    pub encrypted_records: u64,
    /// Body bytes of those records.
    pub encrypted_bytes: u64,
    /// application_data records (plaintext phase and encrypted phase).
    pub application_data_records: u64,
    /// Heartbeat records.
    pub heartbeat_records: u64,
}

/// RFC 8446 §6 / RFC 5246 §7.2 AlertDescription names.
pub fn alert_description_name(description: u8) -> Option<&'static str> {
    Some(match description {
        0 => "close_notify",
        10 => "unexpected_message",
        20 => "bad_record_mac",
        22 => "record_overflow",
        40 => "handshake_failure",
        42 => "bad_certificate",
        43 => "unsupported_certificate",
        44 => "certificate_revoked",
        45 => "certificate_expired",
        46 => "certificate_unknown",
        47 => "illegal_parameter",
        48 => "unknown_ca",
        49 => "access_denied",
        50 => "decode_error",
        51 => "decrypt_error",
        70 => "protocol_version",
        71 => "insufficient_security",
        80 => "internal_error",
        86 => "inappropriate_fallback",
        90 => "user_canceled",
        100 => "no_renegotiation",
        109 => "missing_extension",
        110 => "unsupported_extension",
        112 => "unrecognized_name",
        113 => "bad_certificate_status_response",
        115 => "unknown_psk_identity",
        116 => "certificate_required",
        120 => "no_application_protocol",
        _ => return None,
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Plaintext,
    Encrypted,
    Stopped,
}

/// Incremental TLS scanner for one direction of a TCP stream.
#[derive(Debug, Clone)]
pub struct TlsScanner {
    phase: Phase,
    /// Stream offset of the next byte to be fed.
    offset: u64,
    /// Current record header bytes.
    hdr: [u8; RECORD_HEADER_LEN],
    hdr_len: usize,
    /// Stream offset of the current record.
    rec_start: u64,
    /// Body length of the current record, once its header is complete.
    body_len: usize,
    /// Body bytes of the current record consumed so far.
    body_got: usize,
    /// Whether the current record body is kept (else skipped).
    buffering: bool,
    /// The current record body (at most [`MAX_RECORD_LEN`]).
    body: Vec<u8>,
    /// Bytes of handshake messages not complete yet.
    hs: Vec<u8>,
    /// Origin of the message at the head of `hs`.
    hs_origin: MessageOrigin,
    app_data_seen: bool,
    stats: TlsScanStats,
}

impl Default for TlsScanner {
    fn default() -> Self {
        Self::new()
    }
}

impl TlsScanner {
    /// A scanner at stream offset 0.
    pub fn new() -> Self {
        TlsScanner {
            phase: Phase::Plaintext,
            offset: 0,
            hdr: [0; RECORD_HEADER_LEN],
            hdr_len: 0,
            rec_start: 0,
            body_len: 0,
            body_got: 0,
            buffering: false,
            body: Vec::new(),
            hs: Vec::new(),
            hs_origin: MessageOrigin {
                stream_offset: 0,
                record_count: 0,
                record_version: 0,
            },
            app_data_seen: false,
            stats: TlsScanStats::default(),
        }
    }

    /// Feeds the next contiguous bytes of this direction; returns what they completed.
    pub fn feed(&mut self, data: &[u8]) -> Vec<TlsEvent> {
        let mut ev = Vec::new();
        self.stats.bytes = self.stats.bytes.saturating_add(data.len() as u64);
        let mut rest = data;
        while !rest.is_empty() {
            if self.phase == Phase::Stopped {
                self.advance(rest.len());
                break;
            }
            if self.hdr_len < RECORD_HEADER_LEN {
                if self.hdr_len == 0 {
                    self.rec_start = self.offset;
                }
                let n = RECORD_HEADER_LEN
                    .saturating_sub(self.hdr_len)
                    .min(rest.len());
                let (now, later) = rest.split_at_checked(n).unwrap_or((rest, &[]));
                for (slot, &b) in self.hdr.iter_mut().skip(self.hdr_len).zip(now) {
                    *slot = b;
                }
                self.hdr_len = self.hdr_len.saturating_add(now.len());
                self.advance(now.len());
                rest = later;
                if self.hdr_len == RECORD_HEADER_LEN {
                    self.on_header(&mut ev);
                }
                continue;
            }
            let n = self.body_len.saturating_sub(self.body_got).min(rest.len());
            let (now, later) = rest.split_at_checked(n).unwrap_or((rest, &[]));
            if self.buffering {
                self.body.extend_from_slice(now);
            }
            self.body_got = self.body_got.saturating_add(now.len());
            self.advance(now.len());
            rest = later;
            if self.body_got == self.body_len {
                self.finish_record(&mut ev);
            }
        }
        ev
    }

    /// The stream ended (the flow is over): whole handshake messages at the front of a record
    /// cut short are reported, and a Certificate message still incomplete is summarised from
    /// the bytes that arrived ([`parse_certificate_prefix`]), so that a leaf certificate
    /// followed by a reset or a cut capture is still reported. Other incomplete messages are
    /// dropped. The scanner stops afterwards.
    pub fn finish(&mut self) -> Vec<TlsEvent> {
        let mut ev = Vec::new();
        if self.phase != Phase::Plaintext {
            return ev;
        }
        // The handshake bytes of a record cut short count too.
        let [ct, major, minor, _, _] = self.hdr;
        let partial_record = self.hdr_len == RECORD_HEADER_LEN
            && self.buffering
            && ct == CONTENT_HANDSHAKE
            && !self.body.is_empty();
        if partial_record {
            if self.hs.is_empty() {
                self.hs_origin = MessageOrigin {
                    stream_offset: self.rec_start,
                    record_count: 1,
                    record_version: u16::from_be_bytes([major, minor]),
                };
            } else {
                self.hs_origin.record_count = self.hs_origin.record_count.saturating_add(1);
            }
            let body = std::mem::take(&mut self.body);
            self.hs.extend_from_slice(&body);
            // Whole messages at the front of that record are reported as usual.
            self.drain_handshake(&mut ev);
        }
        if self.phase != Phase::Plaintext {
            return ev;
        }
        if let Some((&[msg_type, _, _, _], body)) = self.hs.split_at_checked(HANDSHAKE_HEADER_LEN) {
            if msg_type == HS_CERTIFICATE {
                ev.push(TlsEvent::Certificate(parse_certificate_prefix(
                    body,
                    self.hs_origin.stream_offset,
                )));
            }
        }
        self.phase = Phase::Stopped;
        self.hs = Vec::new();
        self.body = Vec::new();
        ev
    }

    /// Tells the scanner the handshake is encrypted from here on (e.g. the peer selected
    /// TLS 1.3); later records are only counted.
    pub fn set_encrypted(&mut self) {
        if self.phase == Phase::Plaintext {
            self.phase = Phase::Encrypted;
            self.hs.clear();
        }
    }

    /// Whether records are now treated as encrypted.
    pub fn is_encrypted(&self) -> bool {
        self.phase == Phase::Encrypted
    }

    /// Whether the scanner gave up (after a `Malformed` or `LimitReached` event).
    pub fn is_stopped(&self) -> bool {
        self.phase == Phase::Stopped
    }

    /// Counters so far.
    pub fn stats(&self) -> TlsScanStats {
        self.stats
    }

    /// Stream offset of the next byte expected.
    pub fn stream_offset(&self) -> u64 {
        self.offset
    }

    fn advance(&mut self, n: usize) {
        self.offset = self.offset.saturating_add(n as u64);
    }

    fn stop(&mut self, ev: &mut Vec<TlsEvent>, event: TlsEvent) {
        ev.push(event);
        self.phase = Phase::Stopped;
        self.hs = Vec::new();
        self.body = Vec::new();
    }

    fn rec_end(&self) -> u64 {
        self.rec_start
            .saturating_add((RECORD_HEADER_LEN as u64).saturating_add(self.body_len as u64))
    }

    fn on_header(&mut self, ev: &mut Vec<TlsEvent>) {
        let [ct, major, minor, l0, l1] = self.hdr;
        let len = u16::from_be_bytes([l0, l1]);
        let malformed = if !(CONTENT_CHANGE_CIPHER_SPEC..=CONTENT_HEARTBEAT).contains(&ct) {
            Some(TlsMalformed::UnknownContentType(ct))
        } else if major != RECORD_VERSION_MAJOR || minor > RECORD_VERSION_MAX_MINOR {
            Some(TlsMalformed::BadRecordVersion(u16::from_be_bytes([
                major, minor,
            ])))
        } else if usize::from(len) > MAX_RECORD_LEN {
            Some(TlsMalformed::RecordTooLong(len))
        } else {
            None
        };
        if let Some(reason) = malformed {
            let offset = self.rec_start;
            self.stop(ev, TlsEvent::Malformed { offset, reason });
            return;
        }
        self.body_len = usize::from(len);
        self.body_got = 0;
        self.body.clear();
        if ct == CONTENT_APPLICATION_DATA {
            self.stats.application_data_records =
                self.stats.application_data_records.saturating_add(1);
            if !self.app_data_seen {
                self.app_data_seen = true;
                ev.push(TlsEvent::ApplicationData {
                    offset: self.rec_start,
                    len,
                });
            }
            if self.phase == Phase::Plaintext {
                self.phase = Phase::Encrypted;
                self.hs.clear();
                ev.push(TlsEvent::Encrypted {
                    offset: self.rec_start,
                    cause: EncryptionCause::ApplicationData,
                });
            }
        }
        self.buffering = match self.phase {
            Phase::Plaintext => true,
            // These cannot be ciphertext: any AEAD or MAC adds more than a byte or two.
            Phase::Encrypted => {
                (ct == CONTENT_CHANGE_CIPHER_SPEC && self.body_len == CCS_LEN)
                    || (ct == CONTENT_ALERT && self.body_len == ALERT_LEN)
            }
            Phase::Stopped => false,
        };
        if self.body_len == 0 {
            self.finish_record(ev);
        }
    }

    fn finish_record(&mut self, ev: &mut Vec<TlsEvent>) {
        self.stats.records = self.stats.records.saturating_add(1);
        let [ct, major, minor, _, _] = self.hdr;
        self.hdr_len = 0;
        if ct == CONTENT_HEARTBEAT {
            self.stats.heartbeat_records = self.stats.heartbeat_records.saturating_add(1);
        }
        if !self.buffering {
            if self.phase == Phase::Encrypted {
                self.stats.encrypted_records = self.stats.encrypted_records.saturating_add(1);
                self.stats.encrypted_bytes = self
                    .stats
                    .encrypted_bytes
                    .saturating_add(self.body_len as u64);
            }
            return;
        }
        let body = std::mem::take(&mut self.body);
        match ct {
            CONTENT_CHANGE_CIPHER_SPEC => {
                ev.push(TlsEvent::ChangeCipherSpec {
                    offset: self.rec_start,
                });
                if self.phase == Phase::Plaintext {
                    self.phase = Phase::Encrypted;
                    self.hs.clear();
                    ev.push(TlsEvent::Encrypted {
                        offset: self.rec_end(),
                        cause: EncryptionCause::ChangeCipherSpec,
                    });
                }
            }
            CONTENT_ALERT => {
                if body.is_empty() || !body.len().is_multiple_of(ALERT_LEN) {
                    let offset = self.rec_start;
                    let len = u16::try_from(body.len()).unwrap_or(u16::MAX);
                    self.stop(
                        ev,
                        TlsEvent::Malformed {
                            offset,
                            reason: TlsMalformed::BadAlertLength(len),
                        },
                    );
                    return;
                }
                for pair in body.chunks_exact(ALERT_LEN) {
                    if let &[level, description] = pair {
                        ev.push(TlsEvent::Alert {
                            offset: self.rec_start,
                            level,
                            description,
                        });
                    }
                }
            }
            CONTENT_HANDSHAKE => {
                if self.hs.is_empty() {
                    self.hs_origin = MessageOrigin {
                        stream_offset: self.rec_start,
                        record_count: 1,
                        record_version: u16::from_be_bytes([major, minor]),
                    };
                } else {
                    self.hs_origin.record_count = self.hs_origin.record_count.saturating_add(1);
                }
                self.hs.extend_from_slice(&body);
                self.drain_handshake(ev);
            }
            _ => {}
        }
        // Keep the allocation for the next record.
        if self.phase != Phase::Stopped {
            self.body = body;
            self.body.clear();
        }
    }

    /// Emits every complete handshake message at the head of `hs`.
    fn drain_handshake(&mut self, ev: &mut Vec<TlsEvent>) {
        while self.phase == Phase::Plaintext {
            let Some(&[msg_type, l0, l1, l2]) = self.hs.get(..HANDSHAKE_HEADER_LEN) else {
                return;
            };
            let declared = u32::from_be_bytes([0, l0, l1, l2]);
            let len = declared as usize;
            if len > MAX_HANDSHAKE_LEN {
                let offset = self.hs_origin.stream_offset;
                self.stop(
                    ev,
                    TlsEvent::LimitReached {
                        offset,
                        limit: TlsLimit::HandshakeMessage {
                            declared,
                            max: MAX_HANDSHAKE_LEN,
                        },
                    },
                );
                return;
            }
            let total = HANDSHAKE_HEADER_LEN.saturating_add(len);
            let Some(body) = self.hs.get(HANDSHAKE_HEADER_LEN..total) else {
                return;
            };
            let origin = self.hs_origin;
            let event = match msg_type {
                HS_CLIENT_HELLO => parse_client_hello(body, origin).map(TlsEvent::ClientHello),
                HS_SERVER_HELLO | HS_HELLO_RETRY_REQUEST_DRAFT => {
                    let kind = if msg_type == HS_HELLO_RETRY_REQUEST_DRAFT {
                        ServerHelloKind::DraftHelloRetryRequest
                    } else {
                        ServerHelloKind::ServerHello
                    };
                    parse_server_hello(body, origin, kind).map(TlsEvent::ServerHello)
                }
                HS_CERTIFICATE => Ok(TlsEvent::Certificate(parse_certificate(
                    body,
                    origin.stream_offset,
                ))),
                _ => Ok(TlsEvent::OtherHandshake {
                    offset: origin.stream_offset,
                    msg_type,
                    len: declared,
                }),
            };
            match event {
                Ok(e) => {
                    let tls13 = matches!(
                        &e,
                        TlsEvent::ServerHello(sh) if sh.selects_tls13() && !sh.is_hello_retry_request
                    );
                    ev.push(e);
                    if tls13 {
                        self.phase = Phase::Encrypted;
                        self.hs.clear();
                        ev.push(TlsEvent::Encrypted {
                            offset: self.rec_end(),
                            cause: EncryptionCause::ServerHelloTls13,
                        });
                        return;
                    }
                }
                Err(detail) => {
                    let offset = origin.stream_offset;
                    self.stop(
                        ev,
                        TlsEvent::Malformed {
                            offset,
                            reason: TlsMalformed::BadHandshake { msg_type, detail },
                        },
                    );
                    return;
                }
            }
            self.hs.drain(..total);
            if !self.hs.is_empty() {
                // The next message starts inside the record just added.
                self.hs_origin.stream_offset = self.rec_start;
                self.hs_origin.record_count = 1;
                let [_, major, minor, _, _] = self.hdr;
                self.hs_origin.record_version = u16::from_be_bytes([major, minor]);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::parse::tests::{
        client_hello_body, ext, server_hello_body, sni, tls12_certificate_layout, tls12_chain,
        tls12_client_hello, tls12_server_flight, TLS12_CLIENT_SUITES, TRIPWIRE_CLIENT,
        TRIPWIRE_SERVER,
    };
    use super::super::parse::{EXT_KEY_SHARE, EXT_SUPPORTED_VERSIONS, TLS13};
    use super::*;
    use proptest::prelude::*;

    fn hs_msg(msg_type: u8, body: &[u8]) -> Vec<u8> {
        let mut v = vec![msg_type];
        v.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
        v.extend_from_slice(body);
        v
    }

    fn record(ct: u8, payload: &[u8]) -> Vec<u8> {
        let mut v = vec![ct, 3, 1];
        v.extend_from_slice(&(payload.len() as u16).to_be_bytes());
        v.extend_from_slice(payload);
        v
    }

    /// Splits `payload` into handshake records at the given cut points.
    fn records_split(payload: &[u8], cuts: &[usize]) -> Vec<u8> {
        let mut v = Vec::new();
        let mut prev = 0;
        for &c in cuts.iter().chain([payload.len()].iter()) {
            v.extend(record(CONTENT_HANDSHAKE, &payload[prev..c]));
            prev = c;
        }
        v
    }

    fn scan_whole(stream: &[u8]) -> Vec<TlsEvent> {
        TlsScanner::new().feed(stream)
    }

    fn scan_bytewise(stream: &[u8]) -> Vec<TlsEvent> {
        let mut s = TlsScanner::new();
        stream
            .iter()
            .flat_map(|b| s.feed(std::slice::from_ref(b)))
            .collect()
    }

    #[test]
    fn real_tls13_client_direction() {
        let ev = scan_whole(TRIPWIRE_CLIENT);
        assert_eq!(ev.len(), 1);
        let TlsEvent::ClientHello(ch) = &ev[0] else {
            panic!("{ev:?}")
        };
        assert_eq!(ch.stream_offset, 0);
        assert_eq!(ch.record_count, 1);
        assert_eq!(ch.record_version, 0x0301);
        assert_eq!(ch.sni.as_deref(), Some("www.wikipedia.org"));
        assert_eq!(scan_bytewise(TRIPWIRE_CLIENT), ev);
    }

    #[test]
    fn real_tls13_server_direction() {
        let mut s = TlsScanner::new();
        let ev = s.feed(TRIPWIRE_SERVER);
        let TlsEvent::ServerHello(sh) = &ev[0] else {
            panic!("{ev:?}")
        };
        assert_eq!(sh.selected_version, Some(TLS13));
        assert_eq!(sh.cipher, 0x1302);
        assert_eq!(sh.key_share_group, Some(0x1d));
        assert_eq!(sh.extensions, [EXT_KEY_SHARE, EXT_SUPPORTED_VERSIONS]);
        assert!(!sh.is_hello_retry_request);
        assert_eq!(
            ev[1..],
            [
                TlsEvent::Encrypted {
                    offset: 127,
                    cause: EncryptionCause::ServerHelloTls13
                },
                TlsEvent::ChangeCipherSpec { offset: 127 },
                TlsEvent::ApplicationData {
                    offset: 133,
                    len: 0x0ab9
                },
            ]
        );
        assert!(s.is_encrypted());
        let st = s.stats();
        assert_eq!(st.bytes, TRIPWIRE_SERVER.len() as u64);
        assert_eq!(st.records, 3);
        assert_eq!(st.encrypted_records, 1);
        assert_eq!(st.encrypted_bytes, 0x0ab9);
        assert_eq!(st.application_data_records, 1);
        assert_eq!(scan_bytewise(TRIPWIRE_SERVER), ev);
    }

    #[test]
    fn tls12_server_flight_with_certificate() {
        let flight = tls12_server_flight();
        let (cert_at, cert_body_len) = tls12_certificate_layout();
        // ServerHello record, Certificate record, ServerHelloDone record (empty body).
        let done_at = cert_at + RECORD_HEADER_LEN + HANDSHAKE_HEADER_LEN + cert_body_len;
        assert_eq!(
            flight.len(),
            done_at + RECORD_HEADER_LEN + HANDSHAKE_HEADER_LEN
        );
        let mut s = TlsScanner::new();
        let ev = s.feed(&flight);
        assert_eq!(ev.len(), 3, "{ev:?}");
        let TlsEvent::ServerHello(sh) = &ev[0] else {
            panic!("{ev:?}")
        };
        assert_eq!(sh.stream_offset, 0);
        assert_eq!(sh.record_count, 1);
        assert_eq!(sh.legacy_version, 0x0303);
        assert_eq!(sh.cipher, 0x009c);
        assert_eq!(sh.session_id_len, 32);
        assert_eq!(sh.selected_version, None);
        assert_eq!(sh.extensions, [0]);
        assert!(!sh.is_hello_retry_request && !sh.selects_tls13());
        assert!(sh.anomalies.is_empty(), "{:?}", sh.anomalies);
        let [leaf, issuer] = tls12_chain();
        let TlsEvent::Certificate(cert) = &ev[1] else {
            panic!("{ev:?}")
        };
        assert_eq!(
            cert,
            &super::super::parse::parse_certificate(
                &super::super::parse::tests::cert_body(&[&leaf, &issuer]),
                cert_at as u64
            )
        );
        assert_eq!(cert.stream_offset, cert_at as u64);
        assert_eq!(cert.count, 2);
        assert_eq!(cert.first_cert_len, Some(leaf.len()));
        assert!(!cert.malformed && cert.complete);
        let l = cert.leaf.as_ref().unwrap();
        assert_eq!(l.subject.cn.as_deref(), Some("notion.example"));
        assert_eq!(cert.chain_issuers.len(), 1);
        assert_eq!(
            ev[2],
            TlsEvent::OtherHandshake {
                offset: done_at as u64,
                msg_type: 14,
                len: 0
            }
        );
        assert!(!s.is_encrypted());
        let st = s.stats();
        assert_eq!(st.bytes, flight.len() as u64);
        assert_eq!(st.records, 3);
        assert_eq!(st.encrypted_records, 0);
        assert_eq!(scan_bytewise(&flight), ev);

        let client = tls12_client_hello();
        let ev_c = scan_whole(&client);
        assert_eq!(ev_c.len(), 1, "{ev_c:?}");
        let TlsEvent::ClientHello(ch) = &ev_c[0] else {
            panic!("{ev_c:?}")
        };
        assert_eq!(ch.stream_offset, 0);
        assert_eq!(ch.record_version, 0x0301);
        assert_eq!(ch.legacy_version, 0x0303);
        assert_eq!(ch.sni.as_deref(), Some("notion.example"));
        assert_eq!(ch.cipher_suites.len(), 17);
        assert_eq!(ch.cipher_suites, TLS12_CLIENT_SUITES);
        assert!(ch.supported_versions.is_empty());
        assert!(ch.key_share_groups.is_empty());
        assert!(ch.alpn.is_empty());
        assert!(!ch.grease && !ch.ech && !ch.esni);
        assert!(ch.anomalies.is_empty(), "{:?}", ch.anomalies);
        assert_eq!(scan_bytewise(&client), ev_c);
    }

    #[test]
    fn client_hello_split_across_records_and_feeds() {
        let msg = hs_msg(
            HS_CLIENT_HELLO,
            &client_hello_body(&[0x1301, 0x1302], &[sni(b"blocked.example")]),
        );
        let one = record(CONTENT_HANDSHAKE, &msg);
        let two = records_split(&msg, &[20]);
        let ev_one = scan_whole(&one);
        let ev_two = scan_whole(&two);
        let (TlsEvent::ClientHello(a), TlsEvent::ClientHello(b)) = (&ev_one[0], &ev_two[0]) else {
            panic!("{ev_one:?} {ev_two:?}")
        };
        assert_eq!(a.record_count, 1);
        assert_eq!(b.record_count, 2);
        assert_eq!(b.stream_offset, 0);
        assert_eq!(b.sni.as_deref(), Some("blocked.example"));
        let mut b2 = b.clone();
        b2.record_count = 1;
        assert_eq!(*a, b2);
        // Split in the middle of the handshake header, then fed byte by byte.
        let three = records_split(&msg, &[2, 3, 50]);
        let ev_three = scan_bytewise(&three);
        let TlsEvent::ClientHello(c) = &ev_three[0] else {
            panic!("{ev_three:?}")
        };
        assert_eq!(c.record_count, 4);
        assert_eq!(c.sni.as_deref(), Some("blocked.example"));
        assert_eq!(ev_three, scan_whole(&three));
    }

    #[test]
    fn several_messages_and_record_origins() {
        // Record 1: message A whole + first 3 bytes of B; record 2: more of B;
        // record 3: rest of B + first 2 bytes of C; record 4: rest of C.
        let a = hs_msg(20, &[1; 12]);
        let b = hs_msg(16, &[2; 40]);
        let c = hs_msg(15, &[3; 8]);
        let mut payload = a.clone();
        payload.extend(&b);
        payload.extend(&c);
        let cuts = [a.len() + 3, a.len() + 20, a.len() + b.len() + 2];
        let stream = records_split(&payload, &cuts);
        let ev = scan_whole(&stream);
        let rec2 = (5 + cuts[0]) as u64;
        let rec3 = rec2 + 5 + (cuts[1] - cuts[0]) as u64;
        let rec4 = rec3 + 5 + (cuts[2] - cuts[1]) as u64;
        assert_eq!(
            ev,
            [
                TlsEvent::OtherHandshake {
                    offset: 0,
                    msg_type: 20,
                    len: 12
                },
                TlsEvent::OtherHandshake {
                    offset: 0,
                    msg_type: 16,
                    len: 40
                },
                TlsEvent::OtherHandshake {
                    offset: rec3,
                    msg_type: 15,
                    len: 8
                },
            ]
        );
        assert!(rec4 > rec3);
        assert_eq!(scan_bytewise(&stream), ev);
    }

    #[test]
    fn tls12_client_becomes_encrypted_after_ccs() {
        let mut stream = record(
            CONTENT_HANDSHAKE,
            &hs_msg(HS_CLIENT_HELLO, &client_hello_body(&[0xc02f], &[])),
        );
        stream.extend(record(CONTENT_HANDSHAKE, &hs_msg(16, &[0; 33])));
        let ccs_at = stream.len() as u64;
        stream.extend(record(CONTENT_CHANGE_CIPHER_SPEC, &[1]));
        // Encrypted Finished: would not parse as a handshake message.
        stream.extend(record(CONTENT_HANDSHAKE, &[0xff; 40]));
        // A 2-byte alert cannot be ciphertext: still reported.
        stream.extend(record(CONTENT_ALERT, &[2, 40]));
        stream.extend(record(CONTENT_APPLICATION_DATA, &[9; 30]));
        stream.extend(record(CONTENT_APPLICATION_DATA, &[9; 30]));
        let mut s = TlsScanner::new();
        let ev = s.feed(&stream);
        assert!(matches!(ev[0], TlsEvent::ClientHello(_)));
        assert!(matches!(
            ev[1],
            TlsEvent::OtherHandshake { msg_type: 16, .. }
        ));
        assert_eq!(ev[2], TlsEvent::ChangeCipherSpec { offset: ccs_at });
        assert_eq!(
            ev[3],
            TlsEvent::Encrypted {
                offset: ccs_at + 6,
                cause: EncryptionCause::ChangeCipherSpec
            }
        );
        assert!(matches!(
            ev[4],
            TlsEvent::Alert {
                level: 2,
                description: 40,
                ..
            }
        ));
        assert!(matches!(ev[5], TlsEvent::ApplicationData { len: 30, .. }));
        assert_eq!(ev.len(), 6);
        assert_eq!(s.stats().encrypted_records, 3);
        assert_eq!(alert_description_name(40), Some("handshake_failure"));
    }

    #[test]
    fn plaintext_alert_and_app_data_switch() {
        let mut stream = record(CONTENT_ALERT, &[2, 112, 1, 0]);
        stream.extend(record(CONTENT_APPLICATION_DATA, b"hello"));
        let ev = scan_whole(&stream);
        assert_eq!(
            ev,
            [
                TlsEvent::Alert {
                    offset: 0,
                    level: 2,
                    description: 112
                },
                TlsEvent::Alert {
                    offset: 0,
                    level: 1,
                    description: 0
                },
                TlsEvent::ApplicationData { offset: 9, len: 5 },
                TlsEvent::Encrypted {
                    offset: 9,
                    cause: EncryptionCause::ApplicationData
                },
            ]
        );
    }

    #[test]
    fn hello_retry_request_is_not_encryption() {
        let hrr = server_hello_body(
            super::super::parse::HELLO_RETRY_REQUEST_RANDOM,
            &[
                ext(EXT_SUPPORTED_VERSIONS, &[3, 4]),
                ext(EXT_KEY_SHARE, &[0, 0x1d]),
            ],
        );
        let mut stream = record(CONTENT_HANDSHAKE, &hs_msg(HS_SERVER_HELLO, &hrr));
        stream.extend(record(CONTENT_CHANGE_CIPHER_SPEC, &[1]));
        let mut s = TlsScanner::new();
        let ev = s.feed(&stream);
        let TlsEvent::ServerHello(sh) = &ev[0] else {
            panic!("{ev:?}")
        };
        assert!(sh.is_hello_retry_request);
        assert!(matches!(ev[1], TlsEvent::ChangeCipherSpec { .. }));
    }

    #[test]
    fn malformed_records_stop_the_scanner() {
        for (bytes, reason) in [
            (
                b"HTTP/1.1 200 OK\r\n".to_vec(),
                TlsMalformed::UnknownContentType(b'H'),
            ),
            (
                vec![22, 2, 0, 0, 1, 0],
                TlsMalformed::BadRecordVersion(0x0200),
            ),
            (
                vec![23, 3, 3, 0x48, 0x01],
                TlsMalformed::RecordTooLong(0x4801),
            ),
            (
                vec![21, 3, 3, 0, 3, 2, 40, 0],
                TlsMalformed::BadAlertLength(3),
            ),
        ] {
            let mut s = TlsScanner::new();
            let ev = s.feed(&bytes);
            assert_eq!(ev, [TlsEvent::Malformed { offset: 0, reason }]);
            assert!(s.is_stopped());
            assert!(s.feed(&[22, 3, 1, 0, 1, 1]).is_empty());
        }
        // A second record that is bad, after a good one: offset is the bad record's.
        let mut stream = record(CONTENT_ALERT, &[1, 0]);
        stream.extend_from_slice(&[99, 3, 3, 0, 0]);
        let ev = scan_whole(&stream);
        assert_eq!(
            ev[1],
            TlsEvent::Malformed {
                offset: 7,
                reason: TlsMalformed::UnknownContentType(99)
            }
        );
    }

    #[test]
    fn bad_hello_body_is_malformed() {
        let stream = record(CONTENT_HANDSHAKE, &hs_msg(HS_CLIENT_HELLO, &[3, 3, 1]));
        let ev = scan_whole(&stream);
        assert!(matches!(
            &ev[..],
            [TlsEvent::Malformed {
                offset: 0,
                reason: TlsMalformed::BadHandshake { msg_type: 1, .. }
            }]
        ));
    }

    #[test]
    fn oversized_handshake_message_hits_the_limit() {
        let stream = record(CONTENT_HANDSHAKE, &[1, 0x01, 0x00, 0x01, 0, 0]);
        let mut s = TlsScanner::new();
        let ev = s.feed(&stream);
        assert_eq!(
            ev,
            [TlsEvent::LimitReached {
                offset: 0,
                limit: TlsLimit::HandshakeMessage {
                    declared: 0x010001,
                    max: MAX_HANDSHAKE_LEN
                }
            }]
        );
        assert!(s.is_stopped());
    }

    /// A real-looking leaf certificate with `sans` DNS names (about 25 bytes each).
    fn big_leaf(sans: usize) -> Vec<u8> {
        use crate::synth::x509::{CertSpec, Name};
        let names: Vec<String> = (0..sans)
            .map(|i| format!("tenant{i:05}.hosting.example"))
            .collect();
        CertSpec::new(
            Name::cn("hosting.example"),
            Name::org_cn("Example Trust CA", "Example Trust RSA CA 2023"),
            1_714_000_000,
            90,
            5,
        )
        .with_dns(&names)
        .der()
    }

    #[test]
    fn large_handshake_message_under_the_limit() {
        // A 40 KB certificate (1500 names) in a message spread over three records.
        let leaf = big_leaf(1500);
        assert!(leaf.len() > 2 * 16384, "{}", leaf.len());
        let body = super::super::parse::tests::cert_body(&[&leaf]);
        let msg = hs_msg(HS_CERTIFICATE, &body);
        let stream = records_split(&msg, &[16384, 32768]);
        let ev = scan_whole(&stream);
        let TlsEvent::Certificate(c) = &ev[0] else {
            panic!("{ev:?}")
        };
        assert_eq!(c.count, 1);
        assert_eq!(c.first_cert_len, Some(leaf.len()));
        assert!(!c.malformed && c.complete);
        let l = c.leaf.as_ref().unwrap();
        assert_eq!(l.san_dns.len(), crate::proto::tls::cert::MAX_SAN_DNS);
        assert_eq!(l.san_dns_total, 1500);
        assert_eq!(scan_bytewise(&stream), ev);
    }

    #[test]
    fn finish_reports_a_certificate_the_stream_ended_inside() {
        let flight = tls12_server_flight();
        let (cert_at, body_len) = tls12_certificate_layout();
        let [leaf, _] = tls12_chain();
        // Header, list length, leaf length, leaf.
        let leaf_end = cert_at + RECORD_HEADER_LEN + HANDSHAKE_HEADER_LEN + 3 + 3 + leaf.len();
        let cert_end = cert_at + RECORD_HEADER_LEN + HANDSHAKE_HEADER_LEN + body_len;
        // Where the leaf's length field ends.
        let leaf_len_end = cert_at + RECORD_HEADER_LEN + HANDSHAKE_HEADER_LEN + 3 + 3;
        for cut in [
            cert_at + 2,
            cert_at + 12,
            leaf_len_end,
            leaf_end - 1,
            leaf_end,
            leaf_end + 100,
            cert_end - 1,
        ] {
            let mut s = TlsScanner::new();
            let mut ev = s.feed(&flight[..cut]);
            assert!(
                matches!(ev.as_slice(), [TlsEvent::ServerHello(_)]),
                "{ev:?}"
            );
            ev.extend(s.finish());
            assert!(s.is_stopped());
            assert!(s.finish().is_empty() && s.feed(&flight[cut..]).is_empty());
            if cut < cert_at + RECORD_HEADER_LEN + HANDSHAKE_HEADER_LEN {
                assert_eq!(ev.len(), 1, "cut {cut}: {ev:?}");
                continue;
            }
            let [_, TlsEvent::Certificate(c)] = ev.as_slice() else {
                panic!("cut {cut}: {ev:?}")
            };
            assert_eq!(c.stream_offset, cert_at as u64);
            assert!(!c.complete && !c.malformed, "cut {cut}: {c:?}");
            assert_eq!(c.leaf.is_some(), cut >= leaf_end, "cut {cut}");
            if (leaf_len_end..leaf_end).contains(&cut) {
                assert!(c.leaf_error.as_deref().unwrap().contains("cut short"));
            } else {
                assert_eq!(c.leaf_error, None);
            }
        }
        // Whole messages at the start of a record cut short: ServerHello and the start of the
        // Certificate in one record.
        let sh = hs_msg(
            HS_SERVER_HELLO,
            &super::super::parse::tests::tls12_server_hello_body(),
        );
        let cert = hs_msg(
            HS_CERTIFICATE,
            &super::super::parse::tests::cert_body(&[&leaf]),
        );
        let one = record(CONTENT_HANDSHAKE, &[sh, cert].concat());
        let mut s = TlsScanner::new();
        assert!(s.feed(&one[..one.len() - 50]).is_empty());
        let ev = s.finish();
        let [TlsEvent::ServerHello(_), TlsEvent::Certificate(c)] = ev.as_slice() else {
            panic!("{ev:?}")
        };
        assert!(!c.complete && c.leaf.is_none() && c.stream_offset == 0);
        // Nothing to report: a complete flight, an encrypted stream, a cut ClientHello.
        let mut s = TlsScanner::new();
        s.feed(&flight);
        assert!(s.finish().is_empty());
        let mut s = TlsScanner::new();
        s.feed(&TRIPWIRE_SERVER[..300]);
        assert!(s.finish().is_empty());
        let mut s = TlsScanner::new();
        s.feed(&TRIPWIRE_CLIENT[..300]);
        assert!(s.finish().is_empty());
    }

    #[test]
    fn every_prefix_gives_a_prefix_of_the_events() {
        let client = tls12_client_hello();
        let flight = tls12_server_flight();
        for stream in [
            TRIPWIRE_CLIENT,
            &client[..],
            &flight[..],
            &TRIPWIRE_SERVER[..400],
        ] {
            let full = scan_whole(stream);
            for cut in 0..stream.len() {
                let part = scan_whole(&stream[..cut]);
                assert!(full.starts_with(&part), "cut {cut}: {part:?}");
            }
        }
    }

    #[test]
    fn zero_length_records() {
        let mut stream = record(CONTENT_HANDSHAKE, &[]);
        stream.extend(record(
            CONTENT_HANDSHAKE,
            &hs_msg(HS_CLIENT_HELLO, &client_hello_body(&[0x1301], &[])),
        ));
        let ev = scan_whole(&stream);
        let TlsEvent::ClientHello(ch) = &ev[0] else {
            panic!("{ev:?}")
        };
        // The empty record carried no byte of the message.
        assert_eq!(ch.stream_offset, 5);
        assert_eq!(scan_bytewise(&stream), ev);
    }

    #[test]
    fn set_encrypted_counts_only() {
        let mut s = TlsScanner::new();
        s.set_encrypted();
        let ev = s.feed(&record(CONTENT_HANDSHAKE, &[1, 0, 0, 1, 0]));
        assert!(ev.is_empty());
        assert_eq!(s.stats().encrypted_records, 1);
    }

    fn feed_chunked(stream: &[u8], cuts: &[usize]) -> Vec<TlsEvent> {
        let mut cuts: Vec<usize> = cuts.iter().map(|&c| c.min(stream.len())).collect();
        cuts.sort_unstable();
        let mut s = TlsScanner::new();
        let mut out = Vec::new();
        let mut prev = 0;
        for c in cuts.into_iter().chain([stream.len()]) {
            out.extend(s.feed(&stream[prev..c]));
            prev = c;
        }
        out
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(
            bytes in proptest::collection::vec(any::<u8>(), 0..3000),
            cuts in proptest::collection::vec(0usize..3000, 0..8),
        ) {
            let whole = scan_whole(&bytes);
            prop_assert_eq!(feed_chunked(&bytes, &cuts), whole);
        }

        #[test]
        fn tls_shaped_bytes_never_panic(
            parts in proptest::collection::vec(
                (20u8..=24, proptest::collection::vec(any::<u8>(), 0..300)), 0..6),
            cuts in proptest::collection::vec(0usize..2000, 0..8),
        ) {
            let mut stream = Vec::new();
            for (ct, payload) in &parts {
                stream.extend(record(*ct, payload));
            }
            let whole = scan_whole(&stream);
            prop_assert_eq!(feed_chunked(&stream, &cuts), whole);
        }

        #[test]
        fn mutated_hellos_never_panic(idx in 0usize..517, val in any::<u8>()) {
            let mut b = TRIPWIRE_CLIENT.to_vec();
            b[idx] = val;
            let _ = scan_whole(&b);
            let mut n = tls12_server_flight();
            let i = idx * 5 % n.len();
            n[i] = val;
            let _ = scan_whole(&n);
        }

        #[test]
        fn real_streams_in_any_chunking(cuts in proptest::collection::vec(0usize..3000, 0..12)) {
            let client = tls12_client_hello();
            let flight = tls12_server_flight();
            for stream in [TRIPWIRE_CLIENT, TRIPWIRE_SERVER, &client[..], &flight[..]] {
                prop_assert_eq!(feed_chunked(stream, &cuts), scan_whole(stream));
            }
        }
    }
}
