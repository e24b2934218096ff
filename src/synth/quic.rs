//! QUIC packet builders: Initial packets protected with the real Initial keys (RFC 9001 §5.2
//! secrets from the client's original Destination Connection ID, §5.3 AEAD_AES_128_GCM packet
//! protection, §5.4 AES-128-ECB header protection; RFC 9369 for version 2), Handshake and
//! 1-RTT packets protected the same way under keys an observer cannot know, the frames they
//! carry, and the TLS hellos a QUIC client and server put in them. It builds bytes only; the
//! key derivation and the header-protection mask are the decoder's own
//! ([`crate::proto::quic::crypto`]), so the two cannot drift apart.
//!
//! Crates: `aes-gcm` seals the payloads, `aes` computes header-protection masks, and `hkdf` +
//! `sha2` derive the keys (inside the decoder's `initial_raw_keys`).

use aes_gcm::aead::AeadInPlace;
use aes_gcm::{Aes128Gcm, KeyInit, Nonce};

use super::app::{
    ClientHello, ServerHello, GROUP_X25519, TLS_1_3, TLS_AES_128_GCM_SHA256,
    TLS_AES_256_GCM_SHA384, TLS_CHACHA20_POLY1305_SHA256,
};
use super::rng::SplitMix64;
use super::SynthError;
use crate::proto::quic::crypto::{
    header_protection_mask, initial_raw_keys, packet_nonce, RawKeys, SAMPLE_LEN, SAMPLE_OFFSET,
    TAG_LEN,
};
pub use crate::proto::quic::packet::{VERSION_1, VERSION_2};

/// RFC 9000 §14.1: a client pads every datagram carrying an Initial to at least this size.
pub const MIN_CLIENT_INITIAL: usize = 1200;
/// RFC 9001 §8.2: the quic_transport_parameters TLS extension.
pub const EXT_QUIC_TRANSPORT_PARAMETERS: u16 = 0x39;

/// Frame types (RFC 9000 §19).
const FRAME_PING: u8 = 0x01;
const FRAME_ACK: u8 = 0x02;
const FRAME_CRYPTO: u8 = 0x06;
const FRAME_CONNECTION_CLOSE_APP: u8 = 0x1d;

/// Long-header packet types this builder writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LongType {
    /// Initial: carries a token and is protected with the Initial keys.
    Initial,
    /// Handshake: protected with handshake keys from the TLS key schedule.
    Handshake,
}

impl LongType {
    /// The two type bits of the first byte (RFC 9000 §17.2; RFC 9369 §3.2 reorders them).
    fn bits(self, version: u32) -> u8 {
        match (self, version == VERSION_2) {
            (LongType::Initial, false) => 0b00,
            (LongType::Handshake, false) => 0b10,
            (LongType::Initial, true) => 0b01,
            (LongType::Handshake, true) => 0b11,
        }
    }
}

/// A long-header packet before protection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LongPacket {
    /// QUIC version ([`VERSION_1`] or [`VERSION_2`]).
    pub version: u32,
    /// Initial or Handshake.
    pub packet_type: LongType,
    /// Destination Connection ID.
    pub dcid: Vec<u8>,
    /// Source Connection ID.
    pub scid: Vec<u8>,
    /// Token (Initial packets only).
    pub token: Vec<u8>,
    /// Full packet number.
    pub packet_number: u64,
    /// Bytes the packet number is written in (1 to 4).
    pub pn_len: usize,
    /// The plaintext frames.
    pub frames: Vec<u8>,
    /// PADDING frames are appended until the packet is at least this long.
    pub min_len: usize,
}

impl LongPacket {
    /// A client Initial carrying `frames`, padded to [`MIN_CLIENT_INITIAL`] bytes, with a
    /// one-byte packet number.
    pub fn client_initial(
        version: u32,
        dcid: &[u8],
        scid: &[u8],
        pn: u64,
        frames: Vec<u8>,
    ) -> Self {
        LongPacket {
            version,
            packet_type: LongType::Initial,
            dcid: dcid.to_vec(),
            scid: scid.to_vec(),
            token: Vec::new(),
            packet_number: pn,
            pn_len: 1,
            frames,
            min_len: MIN_CLIENT_INITIAL,
        }
    }

    /// A server Initial carrying `frames` (not padded), with a one-byte packet number.
    pub fn server_initial(
        version: u32,
        dcid: &[u8],
        scid: &[u8],
        pn: u64,
        frames: Vec<u8>,
    ) -> Self {
        LongPacket {
            min_len: 0,
            ..LongPacket::client_initial(version, dcid, scid, pn, frames)
        }
    }

    /// A Handshake packet carrying `frames`, with a one-byte packet number.
    pub fn handshake(version: u32, dcid: &[u8], scid: &[u8], pn: u64, frames: Vec<u8>) -> Self {
        LongPacket {
            packet_type: LongType::Handshake,
            ..LongPacket::server_initial(version, dcid, scid, pn, frames)
        }
    }

    /// The protected packet under `keys` (one direction's key, IV and header-protection key).
    pub fn protect(&self, keys: &RawKeys) -> Result<Vec<u8>, SynthError> {
        if !(1..=4).contains(&self.pn_len) {
            return Err(SynthError::InvalidRequest(
                "packet number length must be 1 to 4",
            ));
        }
        if self.packet_type != LongType::Initial && !self.token.is_empty() {
            return Err(SynthError::InvalidRequest(
                "only Initial packets carry a token",
            ));
        }
        let cid_len = |c: &[u8]| {
            u8::try_from(c.len())
                .ok()
                .filter(|&n| n <= 20)
                .ok_or(SynthError::InvalidRequest(
                    "connection IDs hold at most 20 bytes",
                ))
        };
        let pn_len = self.pn_len as u8;
        let mut header = vec![0xc0 | self.packet_type.bits(self.version) << 4 | (pn_len - 1)];
        header.extend_from_slice(&self.version.to_be_bytes());
        header.push(cid_len(&self.dcid)?);
        header.extend_from_slice(&self.dcid);
        header.push(cid_len(&self.scid)?);
        header.extend_from_slice(&self.scid);
        if self.packet_type == LongType::Initial {
            varint(self.token.len() as u64, &mut header);
            header.extend_from_slice(&self.token);
        }
        // Length (always a 2-byte varint) covers the packet number, payload and tag.
        let fixed = header.len() + 2 + self.pn_len + TAG_LEN;
        let payload_len = self
            .frames
            .len()
            .max(self.min_len.saturating_sub(fixed))
            // The header-protection sample must lie inside the ciphertext (RFC 9001 §5.4.2).
            .max(SAMPLE_OFFSET + SAMPLE_LEN - self.pn_len - TAG_LEN);
        let length = self.pn_len + payload_len + TAG_LEN;
        if length >= 1 << 14 {
            return Err(SynthError::InvalidRequest(
                "packet too long for a 2-byte length",
            ));
        }
        header.extend_from_slice(&(0x4000 | length as u16).to_be_bytes());
        let mut payload = self.frames.clone();
        payload.resize(payload_len, 0);
        Ok(seal(
            keys,
            header,
            self.packet_number,
            self.pn_len,
            payload,
            0x0f,
        ))
    }

    /// The protected packet under the Initial keys of `version` derived from the client's
    /// original Destination Connection ID `odcid`, client keys when `client`.
    pub fn protect_initial(&self, odcid: &[u8], client: bool) -> Result<Vec<u8>, SynthError> {
        let (c, s) = initial_raw_keys(self.version, odcid).ok_or(SynthError::InvalidRequest(
            "no Initial keys for this version",
        ))?;
        self.protect(if client { &c } else { &s })
    }
}

/// A 1-RTT (short-header) packet to `dcid` carrying `frames`, protected under `keys`, with a
/// one-byte packet number (RFC 9000 §17.3.1).
pub fn short_packet(keys: &RawKeys, dcid: &[u8], pn: u64, frames: &[u8]) -> Vec<u8> {
    let mut header = vec![0x40];
    header.extend_from_slice(dcid);
    let mut payload = frames.to_vec();
    payload.resize(
        payload.len().max(SAMPLE_OFFSET + SAMPLE_LEN - 1 - TAG_LEN),
        0,
    );
    seal(keys, header, pn, 1, payload, 0x1f)
}

/// Appends the packet number to `header`, seals `payload` with the header as associated
/// data, then masks the first byte's low bits (`first_mask`) and the packet number.
fn seal(
    keys: &RawKeys,
    mut header: Vec<u8>,
    pn: u64,
    pn_len: usize,
    mut payload: Vec<u8>,
    first_mask: u8,
) -> Vec<u8> {
    let pn_offset = header.len();
    header.extend_from_slice(&pn.to_be_bytes()[8 - pn_len..]);
    let aead = Aes128Gcm::new(&keys.key.into());
    let nonce = packet_nonce(&keys.iv, pn);
    let tag = aead
        .encrypt_in_place_detached(&Nonce::from(nonce), &header, &mut payload)
        .expect("AES-GCM seals any packet-sized payload");
    let mut packet = header;
    packet.extend_from_slice(&payload);
    packet.extend_from_slice(&tag);
    let start = pn_offset + SAMPLE_OFFSET;
    let mut sample = [0u8; SAMPLE_LEN];
    sample.copy_from_slice(&packet[start..start + SAMPLE_LEN]);
    let mask = header_protection_mask(&keys.hp, sample);
    packet[0] ^= mask[0] & first_mask;
    for (b, m) in packet[pn_offset..pn_offset + pn_len]
        .iter_mut()
        .zip(&mask[1..])
    {
        *b ^= m;
    }
    packet
}

/// Keys from the TLS key schedule (handshake or application traffic): an observer without
/// the endpoints' secrets cannot derive them, so they are simply drawn from `seed`.
pub fn opaque_keys(seed: u64) -> RawKeys {
    let mut rng = SplitMix64::new(seed ^ 0x0A0E_5EC2_E750_0001);
    let mut k = RawKeys {
        secret: [0; 32],
        key: [0; 16],
        iv: [0; 12],
        hp: [0; 16],
    };
    rng.fill(&mut k.secret);
    rng.fill(&mut k.key);
    rng.fill(&mut k.iv);
    rng.fill(&mut k.hp);
    k
}

/// Appends `v` as a QUIC variable-length integer in the fewest bytes (RFC 9000 §16).
pub fn varint(v: u64, out: &mut Vec<u8>) {
    if v < 1 << 6 {
        out.push(v as u8);
    } else if v < 1 << 14 {
        out.extend_from_slice(&(0x4000 | v as u16).to_be_bytes());
    } else if v < 1 << 30 {
        out.extend_from_slice(&(0x8000_0000 | v as u32).to_be_bytes());
    } else {
        out.extend_from_slice(&(0xc000_0000_0000_0000 | v).to_be_bytes());
    }
}

/// A CRYPTO frame with `data` at `offset` of the packet number space's TLS stream.
pub fn crypto_frame(offset: u64, data: &[u8]) -> Vec<u8> {
    let mut f = vec![FRAME_CRYPTO];
    varint(offset, &mut f);
    varint(data.len() as u64, &mut f);
    f.extend_from_slice(data);
    f
}

/// An ACK frame acknowledging packets `largest - first_range ..= largest`, with the delay in
/// units of 8 µs (the default ack_delay_exponent of 3).
pub fn ack_frame(largest: u64, delay: u64, first_range: u64) -> Vec<u8> {
    let mut f = vec![FRAME_ACK];
    varint(largest, &mut f);
    varint(delay, &mut f);
    varint(0, &mut f);
    varint(first_range, &mut f);
    f
}

/// A PING frame.
pub fn ping_frame() -> Vec<u8> {
    vec![FRAME_PING]
}

/// An application CONNECTION_CLOSE with `code` (H3_NO_ERROR is 0x100) and no reason.
pub fn application_close_frame(code: u64) -> Vec<u8> {
    let mut f = vec![FRAME_CONNECTION_CLOSE_APP];
    varint(code, &mut f);
    varint(0, &mut f);
    f
}

/// A client's transport parameters (RFC 9000 §18.2) naming `scid` as its
/// initial_source_connection_id, with limits like a browser's.
pub fn client_transport_parameters(scid: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut param = |id: u64, value: &[u8]| {
        varint(id, &mut out);
        varint(value.len() as u64, &mut out);
        out.extend_from_slice(value);
    };
    let int = |v: u64| {
        let mut b = Vec::new();
        varint(v, &mut b);
        b
    };
    param(0x01, &int(30_000)); // max_idle_timeout, ms
    param(0x03, &int(1472)); // max_udp_payload_size
    param(0x04, &int(15_728_640)); // initial_max_data
    param(0x05, &int(6_291_456)); // initial_max_stream_data_bidi_local
    param(0x06, &int(6_291_456)); // initial_max_stream_data_bidi_remote
    param(0x07, &int(6_291_456)); // initial_max_stream_data_uni
    param(0x08, &int(100)); // initial_max_streams_bidi
    param(0x09, &int(103)); // initial_max_streams_uni
    param(0x0e, &int(4)); // active_connection_id_limit
    param(0x0f, scid); // initial_source_connection_id
    out
}

/// The ClientHello an HTTP/3 client sends for `sni` (RFC 9001 §8): TLS 1.3 only, ALPN "h3",
/// an empty legacy session ID (no middlebox compatibility mode, §8.4), GREASE, and the
/// quic_transport_parameters extension naming `scid`.
pub fn quic_client_hello(sni: &str, scid: &[u8], seed: u64) -> ClientHello {
    let mut h = ClientHello::new(sni);
    h.session_id_len = 0;
    h.cipher_suites = vec![
        TLS_AES_128_GCM_SHA256,
        TLS_AES_256_GCM_SHA384,
        TLS_CHACHA20_POLY1305_SHA256,
    ];
    h.alpn = vec!["h3".to_string()];
    h.supported_versions = vec![TLS_1_3];
    h.grease = true;
    h.seed = seed;
    h.extra_extensions = vec![(
        EXT_QUIC_TRANSPORT_PARAMETERS,
        client_transport_parameters(scid),
    )];
    h
}

/// The ServerHello answering a [`quic_client_hello`]: TLS 1.3, an empty session ID echoed,
/// TLS_AES_128_GCM_SHA256 and an x25519 share.
pub fn quic_server_hello(seed: u64) -> ServerHello {
    let mut s = ServerHello::tls13(Vec::new(), seed);
    s.key_share = (GROUP_X25519, 32);
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::Diagnostics;
    use crate::ids::{Direction, FrameNumber};
    use crate::proto::event::ProtoEvent;
    use crate::proto::quic::{DatagramCtx, QuicFlow};
    use crate::proto::tcp::stream::ReassemblyBudget;
    use crate::time::Timestamp;

    fn hex(s: &str) -> Vec<u8> {
        let s: String = s.chars().filter(|c| c.is_ascii_hexdigit()).collect();
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    /// RFC 9001 A.1 / RFC 9369 A.1: the client's original DCID.
    const ODCID: &str = "8394c8f03e515708";
    /// RFC 9001 A.3: the server's SCID.
    const SERVER_SCID: &str = "f067a5502a4262b5";

    fn testdata(name: &str) -> Vec<u8> {
        let path = format!(
            "{}/src/proto/quic/testdata/{name}.hex",
            env!("CARGO_MANIFEST_DIR")
        );
        hex(&std::fs::read_to_string(path).unwrap())
    }

    /// RFC 9001 A.2 / RFC 9369 A.2: a 4-byte packet number 2, an empty SCID, and the CRYPTO
    /// frame padded to 1200 bytes by the builder.
    fn appendix_client_initial(version: u32) -> Vec<u8> {
        let p = LongPacket {
            pn_len: 4,
            ..LongPacket::client_initial(
                version,
                &hex(ODCID),
                &[],
                2,
                testdata("rfc9001-a2-crypto-frame"),
            )
        };
        p.protect_initial(&hex(ODCID), true).unwrap()
    }

    #[test]
    fn client_initial_reproduces_rfc9001_a2() {
        let built = appendix_client_initial(VERSION_1);
        assert_eq!(built.len(), MIN_CLIENT_INITIAL);
        assert_eq!(built, testdata("rfc9001-a2-client-initial"));
    }

    #[test]
    fn client_initial_reproduces_rfc9369_a2() {
        let built = appendix_client_initial(VERSION_2);
        assert_eq!(built.len(), MIN_CLIENT_INITIAL);
        assert_eq!(built, testdata("rfc9369-a2-client-initial"));
    }

    #[test]
    fn server_initial_reproduces_rfc9001_a3_and_rfc9369_a3() {
        for (version, file) in [
            (VERSION_1, "rfc9001-a3-server-initial"),
            (VERSION_2, "rfc9369-a3-server-initial"),
        ] {
            let p = LongPacket {
                pn_len: 2,
                ..LongPacket::server_initial(
                    version,
                    &[],
                    &hex(SERVER_SCID),
                    1,
                    testdata("rfc9001-a3-server-payload"),
                )
            };
            assert_eq!(
                p.protect_initial(&hex(ODCID), false).unwrap(),
                testdata(file),
                "{file}"
            );
        }
    }

    #[test]
    fn varints_use_the_fewest_bytes() {
        for (v, want) in [
            (37u64, "25"),
            (15_293, "7bbd"),
            (494_878_333, "9d7f3e7d"),
            (151_288_809_941_952_652, "c2197c5eff14e88c"),
        ] {
            let mut out = Vec::new();
            varint(v, &mut out);
            assert_eq!(out, hex(want), "{v}");
        }
    }

    #[test]
    fn bad_requests_are_refused() {
        let mut p = LongPacket::client_initial(VERSION_1, &[1; 8], &[], 0, vec![FRAME_PING]);
        p.pn_len = 5;
        assert!(p.protect_initial(&[1; 8], true).is_err());
        p.pn_len = 1;
        p.dcid = vec![0; 21];
        assert!(p.protect_initial(&[1; 8], true).is_err());
        assert!(
            LongPacket::client_initial(0x1a2a_3a4a, &[1; 8], &[], 0, vec![])
                .protect_initial(&[1; 8], true)
                .is_err()
        );
    }

    /// Feeds datagrams through tamper's QUIC decoder and returns its events.
    fn decode(datagrams: &[(Direction, Vec<u8>)]) -> (Vec<ProtoEvent>, Diagnostics) {
        let mut flow = QuicFlow::new(true);
        let mut diags = Diagnostics::default();
        let mut budget = ReassemblyBudget::new(1 << 20);
        let mut events = Vec::new();
        for (i, (dir, d)) in datagrams.iter().enumerate() {
            let ctx = DatagramCtx {
                dir: *dir,
                frame: FrameNumber::new(i as u64 + 1).unwrap(),
                ts: Timestamp::from_nanos(i as i64 * 1_000_000),
                cut: false,
            };
            flow.on_datagram(ctx, d, &mut diags, &mut budget, &mut events);
        }
        flow.finish(&mut budget, &mut events);
        (events, diags)
    }

    #[test]
    fn built_initials_decode_to_their_sni_alpn_and_connection_ids() {
        let dcid = hex("5a1c3e0d7b9f2468");
        let scid = hex("c0ffee01");
        let server_scid = hex("5e7e0002");
        for version in [VERSION_1, VERSION_2] {
            let hello = quic_client_hello("blocked.example", &scid, 7).handshake();
            let client =
                LongPacket::client_initial(version, &dcid, &scid, 0, crypto_frame(0, &hello))
                    .protect_initial(&dcid, true)
                    .unwrap();
            assert_eq!(client.len(), MIN_CLIENT_INITIAL);
            let mut frames = ack_frame(0, 0, 0);
            frames.extend_from_slice(&crypto_frame(0, &quic_server_hello(8).handshake()));
            let mut server = LongPacket::server_initial(version, &scid, &server_scid, 0, frames)
                .protect_initial(&dcid, false)
                .unwrap();
            server.extend_from_slice(
                &LongPacket::handshake(version, &scid, &server_scid, 0, vec![0x06; 300])
                    .protect(&opaque_keys(9))
                    .unwrap(),
            );
            let (events, diags) = decode(&[
                (Direction::ClientToServer, client),
                (Direction::ServerToClient, server),
            ]);
            assert!(diags.is_empty(), "{:?}", diags.summaries());
            let client_event = events
                .iter()
                .find_map(|e| match e {
                    ProtoEvent::QuicInitial {
                        dir: Direction::ClientToServer,
                        sni,
                        alpn,
                        dcid: d,
                        scid: s,
                        version: v,
                        decrypted,
                        complete,
                        ..
                    } => Some((
                        sni.clone(),
                        alpn.clone(),
                        d.to_hex(),
                        s.to_hex(),
                        *v,
                        *decrypted,
                        *complete,
                    )),
                    _ => None,
                })
                .unwrap();
            assert_eq!(
                client_event,
                (
                    Some("blocked.example".to_string()),
                    vec!["h3".to_string()],
                    "5a1c3e0d7b9f2468".to_string(),
                    "c0ffee01".to_string(),
                    version,
                    true,
                    true
                )
            );
            let server_event = events.iter().any(|e| {
                matches!(
                    e,
                    ProtoEvent::QuicInitial {
                        dir: Direction::ServerToClient,
                        decrypted: true,
                        complete: true,
                        ..
                    }
                )
            });
            assert!(server_event, "{events:?}");
        }
    }
}
