//! Derives QUIC Initial keys from a client's Destination Connection ID, removes header
//! protection and opens Initial packets, and checks Retry integrity tags (RFC 9001 §5.2, §5.4,
//! §5.3, §5.8; RFC 9369 §3.3); it never keeps state, never sees anything but Initial and Retry
//! packets, and never encrypts (the fixture generator `synth::quic` seals packets with the
//! nonce and mask helpers exposed here).
//!
//! Initial keys are public by design: anyone who sees the client's first Initial packet can
//! derive them from a per-version salt and the connection ID (RFC 9001 §7). The derivation is
//! HKDF-SHA256 with TLS 1.3's HKDF-Expand-Label (RFC 8446 §7.1); packets are protected with
//! AEAD_AES_128_GCM and headers with an AES-128-ECB mask computed over a sample of the
//! ciphertext. A failed AEAD check is the only proof that keys are wrong, so callers try keys
//! and keep the ones that authenticate.

#![cfg_attr(
    not(test),
    deny(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used)
)]

use std::fmt;

use aes::cipher::{BlockEncrypt, KeyInit};
use aes::Aes128;
use aes_gcm::aead::AeadInPlace;
use aes_gcm::{Aes128Gcm, Nonce, Tag};
use hkdf::Hkdf;
use sha2::Sha256;

use super::packet::{LongPacket, VERSION_1, VERSION_2, VERSION_DRAFT_29};

/// RFC 9001 §5.2: the version 1 Initial salt.
const SALT_V1: [u8; 20] = [
    0x38, 0x76, 0x2c, 0xf7, 0xf5, 0x59, 0x34, 0xb3, 0x4d, 0x17, 0x9a, 0xe6, 0xa4, 0xc8, 0x0c, 0xad,
    0xcc, 0xbb, 0x7f, 0x0a,
];
/// RFC 9369 §3.3.1: the version 2 Initial salt.
const SALT_V2: [u8; 20] = [
    0x0d, 0xed, 0xe3, 0xde, 0xf7, 0x00, 0xa6, 0xdb, 0x81, 0x93, 0x81, 0xbe, 0x6e, 0x26, 0x9d, 0xcb,
    0xf9, 0xbd, 0x2e, 0xd9,
];
/// draft-ietf-quic-tls-29 §5.2: the draft-29 Initial salt.
const SALT_DRAFT_29: [u8; 20] = [
    0xaf, 0xbf, 0xec, 0x28, 0x99, 0x93, 0xd2, 0x4c, 0x9e, 0x97, 0x86, 0xf1, 0x9c, 0x61, 0x11, 0xe0,
    0x43, 0x90, 0xa8, 0x99,
];
/// RFC 9001 §5.8: the version 1 Retry Integrity Tag key and nonce.
const RETRY_KEY_V1: [u8; 16] = [
    0xbe, 0x0c, 0x69, 0x0b, 0x9f, 0x66, 0x57, 0x5a, 0x1d, 0x76, 0x6b, 0x54, 0xe3, 0x68, 0xc8, 0x4e,
];
const RETRY_NONCE_V1: [u8; 12] = [
    0x46, 0x15, 0x99, 0xd3, 0x5d, 0x63, 0x2b, 0xf2, 0x23, 0x98, 0x25, 0xbb,
];
/// RFC 9369 §3.3.3: the version 2 Retry Integrity Tag key and nonce.
const RETRY_KEY_V2: [u8; 16] = [
    0x8f, 0xb4, 0xb0, 0x1b, 0x56, 0xac, 0x48, 0xe2, 0x60, 0xfb, 0xcb, 0xce, 0xad, 0x7c, 0xcc, 0x92,
];
const RETRY_NONCE_V2: [u8; 12] = [
    0xd8, 0x69, 0x69, 0xbc, 0x2d, 0x7c, 0x6d, 0x99, 0x90, 0xef, 0xb0, 0x4a,
];

/// RFC 9001 §5.4.2: header protection samples 16 bytes, starting 4 bytes after the start of
/// the packet number field.
pub(crate) const SAMPLE_LEN: usize = 16;
pub(crate) const SAMPLE_OFFSET: usize = 4;
/// RFC 9001 §5.3: AEAD_AES_128_GCM's tag length.
pub(crate) const TAG_LEN: usize = 16;

/// HKDF labels (RFC 9001 §5.1; RFC 9369 §3.3.2 changes the three key labels for v2).
struct Labels {
    key: &'static [u8],
    iv: &'static [u8],
    hp: &'static [u8],
}

const LABELS_V1: Labels = Labels {
    key: b"quic key",
    iv: b"quic iv",
    hp: b"quic hp",
};
const LABELS_V2: Labels = Labels {
    key: b"quicv2 key",
    iv: b"quicv2 iv",
    hp: b"quicv2 hp",
};

fn salt_and_labels(version: u32) -> Option<(&'static [u8; 20], &'static Labels)> {
    match version {
        VERSION_1 => Some((&SALT_V1, &LABELS_V1)),
        VERSION_2 => Some((&SALT_V2, &LABELS_V2)),
        VERSION_DRAFT_29 => Some((&SALT_DRAFT_29, &LABELS_V1)),
        _ => None,
    }
}

/// HKDF-Expand-Label (RFC 8446 §7.1) with an empty context, into `out`.
fn expand_label(prk: &Hkdf<Sha256>, label: &[u8], out: &mut [u8]) -> Option<()> {
    const PREFIX: &[u8] = b"tls13 ";
    let len = u16::try_from(out.len()).ok()?.to_be_bytes();
    let label_len = [u8::try_from(PREFIX.len() + label.len()).ok()?];
    // HkdfLabel: uint16 length, opaque label<7..255>, opaque context<0..255> (empty).
    prk.expand_multi_info(&[&len, &label_len, PREFIX, label, &[0u8]], out)
        .ok()
}

/// The raw key material of one direction (for tests against the RFC's printed values).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RawKeys {
    /// The direction's Initial secret.
    pub secret: [u8; 32],
    /// AEAD key.
    pub key: [u8; 16],
    /// AEAD IV.
    pub iv: [u8; 12],
    /// Header protection key.
    pub hp: [u8; 16],
}

/// Client and server raw Initial key material for `version` and the client's first
/// Destination Connection ID; `None` for versions without known Initial keys.
pub fn initial_raw_keys(version: u32, dcid: &[u8]) -> Option<(RawKeys, RawKeys)> {
    let (salt, labels) = salt_and_labels(version)?;
    let initial = Hkdf::<Sha256>::new(Some(salt), dcid);
    let side = |label: &[u8]| -> Option<RawKeys> {
        let mut secret = [0u8; 32];
        expand_label(&initial, label, &mut secret)?;
        let prk = Hkdf::<Sha256>::from_prk(&secret).ok()?;
        let mut raw = RawKeys {
            secret,
            key: [0; 16],
            iv: [0; 12],
            hp: [0; 16],
        };
        expand_label(&prk, labels.key, &mut raw.key)?;
        expand_label(&prk, labels.iv, &mut raw.iv)?;
        expand_label(&prk, labels.hp, &mut raw.hp)?;
        Some(raw)
    };
    Some((side(b"client in")?, side(b"server in")?))
}

/// Ready-to-use keys of one direction.
#[derive(Clone)]
pub struct PacketKeys {
    aead: Aes128Gcm,
    iv: [u8; 12],
    hp: Aes128,
}

impl fmt::Debug for PacketKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PacketKeys(..)")
    }
}

impl PacketKeys {
    fn new(raw: &RawKeys) -> PacketKeys {
        PacketKeys {
            aead: Aes128Gcm::new(&raw.key.into()),
            iv: raw.iv,
            hp: Aes128::new(&raw.hp.into()),
        }
    }
}

/// The Initial keys of both directions of one connection.
#[derive(Clone, Debug)]
pub struct InitialKeys {
    /// Keys protecting what the client sends.
    pub client: PacketKeys,
    /// Keys protecting what the server sends.
    pub server: PacketKeys,
}

impl InitialKeys {
    /// Derives the keys for `version` from the client's first Destination Connection ID
    /// (RFC 9001 §5.2); `None` for versions without known Initial keys.
    pub fn derive(version: u32, client_dcid: &[u8]) -> Option<InitialKeys> {
        let (client, server) = initial_raw_keys(version, client_dcid)?;
        Some(InitialKeys {
            client: PacketKeys::new(&client),
            server: PacketKeys::new(&server),
        })
    }
}

/// An opened (decrypted and authenticated) packet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Opened {
    /// The full packet number.
    pub packet_number: u64,
    /// The plaintext frames.
    pub payload: Vec<u8>,
    /// The two reserved bits of the unprotected first byte (RFC 9000 §17.2: must be 0).
    pub reserved_bits: u8,
}

/// Why a packet could not be opened.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OpenError {
    /// Too short to hold the header protection sample and the AEAD tag.
    TooShort(usize),
    /// The AEAD tag did not verify: wrong keys, or altered or cut bytes.
    Authentication,
}

impl fmt::Display for OpenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OpenError::TooShort(n) => write!(
                f,
                "packet of {n} bytes is too short for a header protection sample and an AEAD tag"
            ),
            OpenError::Authentication => f.write_str("AEAD authentication failed"),
        }
    }
}

/// RFC 9000 Appendix A.3: the full packet number closest to the next expected one.
pub fn decode_packet_number(largest: Option<u64>, truncated: u64, bits: u32) -> u64 {
    let expected = largest.map_or(0, |l| l.saturating_add(1));
    let win = 1u64 << bits;
    let hwin = win / 2;
    let mask = win - 1;
    let candidate = (expected & !mask) | truncated;
    if expected >= hwin && candidate <= expected - hwin && candidate < (1u64 << 62) - win {
        candidate + win
    } else if candidate > expected.saturating_add(hwin) && candidate >= win {
        candidate - win
    } else {
        candidate
    }
}

/// RFC 9001 §5.3: the AEAD nonce of a packet, the IV with the packet number (left-padded to the
/// IV's length) XORed into its last bytes.
pub(crate) fn packet_nonce(iv: &[u8; 12], packet_number: u64) -> [u8; 12] {
    let mut nonce = *iv;
    for (n, p) in nonce.iter_mut().skip(4).zip(packet_number.to_be_bytes()) {
        *n ^= p;
    }
    nonce
}

/// RFC 9001 §5.4.3: the header protection mask for a 16-byte ciphertext sample, the first five
/// bytes of AES-128-ECB of the sample under the header protection key.
pub(crate) fn header_protection_mask(hp_key: &[u8; 16], sample: [u8; SAMPLE_LEN]) -> [u8; 5] {
    mask_with(&Aes128::new(&(*hp_key).into()), sample)
}

fn mask_with(hp: &Aes128, sample: [u8; SAMPLE_LEN]) -> [u8; 5] {
    let mut block = aes::Block::from(sample);
    hp.encrypt_block(&mut block);
    let mut mask = [0u8; 5];
    for (m, b) in mask.iter_mut().zip(block.iter()) {
        *m = *b;
    }
    mask
}

/// Removes header protection (RFC 9001 §5.4) and packet protection (§5.3) from an Initial,
/// 0-RTT or Handshake packet with `keys`; `largest` is the largest packet number opened so far
/// in this packet number space and direction.
pub fn open(
    keys: &PacketKeys,
    packet: &LongPacket<'_>,
    largest: Option<u64>,
) -> Result<Opened, OpenError> {
    let bytes = packet.bytes;
    let pn_offset = packet.pn_offset;
    let too_short = || OpenError::TooShort(bytes.len());
    let sample_start = pn_offset + SAMPLE_OFFSET;
    let sample: [u8; SAMPLE_LEN] = bytes
        .get(sample_start..sample_start + SAMPLE_LEN)
        .and_then(|s| s.try_into().ok())
        .ok_or_else(too_short)?;
    let mask = mask_with(&keys.hp, sample);
    let first = bytes.first().ok_or_else(too_short)? ^ (mask[0] & 0x0f);
    let pn_len = usize::from(first & 0x03) + 1;
    let header_len = pn_offset + pn_len;
    let mut header = bytes.get(..header_len).ok_or_else(too_short)?.to_vec();
    if let Some(b) = header.first_mut() {
        *b = first;
    }
    let mut truncated = 0u64;
    for (i, m) in mask.iter().skip(1).take(pn_len).enumerate() {
        if let Some(b) = header.get_mut(pn_offset + i) {
            *b ^= m;
            truncated = (truncated << 8) | u64::from(*b);
        }
    }
    let packet_number = decode_packet_number(largest, truncated, 8 * pn_len as u32);
    let protected = bytes.get(header_len..).ok_or_else(too_short)?;
    let tag_start = protected.len().checked_sub(TAG_LEN).ok_or_else(too_short)?;
    let (ciphertext, tag) = protected.split_at(tag_start);
    let tag: [u8; TAG_LEN] = tag.try_into().map_err(|_| too_short())?;
    let nonce = packet_nonce(&keys.iv, packet_number);
    let mut payload = ciphertext.to_vec();
    keys.aead
        .decrypt_in_place_detached(&Nonce::from(nonce), &header, &mut payload, &Tag::from(tag))
        .map_err(|_| OpenError::Authentication)?;
    Ok(Opened {
        packet_number,
        payload,
        reserved_bits: (first >> 2) & 0x03,
    })
}

/// Checks the Retry Integrity Tag of a Retry packet (RFC 9001 §5.8) against the client's
/// original Destination Connection ID; `None` when the version's Retry key is not known.
pub fn verify_retry(version: u32, odcid: &[u8], retry: &[u8]) -> Option<bool> {
    let (key, nonce) = match version {
        VERSION_1 => (RETRY_KEY_V1, RETRY_NONCE_V1),
        VERSION_2 => (RETRY_KEY_V2, RETRY_NONCE_V2),
        _ => return None,
    };
    let Some(tag_start) = retry.len().checked_sub(TAG_LEN) else {
        return Some(false);
    };
    let (body, tag) = retry.split_at(tag_start);
    let Ok(tag) = <[u8; TAG_LEN]>::try_from(tag) else {
        return Some(false);
    };
    let Ok(odcid_len) = u8::try_from(odcid.len()) else {
        return Some(false);
    };
    // The Retry Pseudo-Packet: ODCID Length, ODCID, then the Retry packet without its tag.
    let mut pseudo = Vec::with_capacity(1 + odcid.len() + body.len());
    pseudo.push(odcid_len);
    pseudo.extend_from_slice(odcid);
    pseudo.extend_from_slice(body);
    let aead = Aes128Gcm::new(&key.into());
    Some(
        aead.decrypt_in_place_detached(&Nonce::from(nonce), &pseudo, &mut [], &Tag::from(tag))
            .is_ok(),
    )
}

/// Builds protected Initial packets for tests with the fixture generator's QUIC builder (tamper
/// itself never encrypts).
#[cfg(test)]
pub(crate) mod seal {
    use crate::synth::quic::LongPacket;

    /// An Initial packet of `version` for the connection whose original DCID is `odcid`,
    /// sent by the client (`client`) or the server, with a 4-byte packet number and no
    /// padding beyond `payload`.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn initial(
        version: u32,
        odcid: &[u8],
        client: bool,
        dcid: &[u8],
        scid: &[u8],
        token: &[u8],
        pn: u32,
        payload: &[u8],
    ) -> Vec<u8> {
        LongPacket {
            token: token.to_vec(),
            pn_len: 4,
            ..LongPacket::server_initial(version, dcid, scid, pn.into(), payload.to_vec())
        }
        .protect_initial(odcid, client)
        .unwrap()
    }
}

#[cfg(test)]
mod tests {
    use super::super::packet::split_datagram;
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        let s: String = s.chars().filter(|c| c.is_ascii_hexdigit()).collect();
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    const DCID: &str = "8394c8f03e515708";

    #[test]
    fn sealing_reproduces_rfc9001_a2() {
        let mut payload = hex(include_str!("testdata/rfc9001-a2-crypto-frame.hex"));
        payload.resize(1162, 0);
        let packet = seal::initial(
            VERSION_1,
            &hex(DCID),
            true,
            &hex(DCID),
            &[],
            &[],
            2,
            &payload,
        );
        assert_eq!(
            packet,
            hex(include_str!("testdata/rfc9001-a2-client-initial.hex"))
        );
    }

    #[test]
    fn rfc9001_a1_keys() {
        let (c, s) = initial_raw_keys(VERSION_1, &hex(DCID)).unwrap();
        assert_eq!(
            c.secret.to_vec(),
            hex("c00cf151ca5be075ed0ebfb5c80323c42d6b7db67881289af4008f1f6c357aea")
        );
        assert_eq!(c.key.to_vec(), hex("1f369613dd76d5467730efcbe3b1a22d"));
        assert_eq!(c.iv.to_vec(), hex("fa044b2f42a3fd3b46fb255c"));
        assert_eq!(c.hp.to_vec(), hex("9f50449e04a0e810283a1e9933adedd2"));
        assert_eq!(
            s.secret.to_vec(),
            hex("3c199828fd139efd216c155ad844cc81fb82fa8d7446fa7d78be803acdda951b")
        );
        assert_eq!(s.key.to_vec(), hex("cf3a5331653c364c88f0f379b6067e37"));
        assert_eq!(s.iv.to_vec(), hex("0ac1493ca1905853b0bba03e"));
        assert_eq!(s.hp.to_vec(), hex("c206b8d9b9f0f37644430b490eeaa314"));
    }

    #[test]
    fn rfc9369_a1_keys() {
        let (c, s) = initial_raw_keys(VERSION_2, &hex(DCID)).unwrap();
        assert_eq!(
            c.secret.to_vec(),
            hex("14ec9d6eb9fd7af83bf5a668bc17a7e283766aade7ecd0891f70f9ff7f4bf47b")
        );
        assert_eq!(c.key.to_vec(), hex("8b1a0bc121284290a29e0971b5cd045d"));
        assert_eq!(c.iv.to_vec(), hex("91f73e2351d8fa91660e909f"));
        assert_eq!(c.hp.to_vec(), hex("45b95e15235d6f45a6b19cbcb0294ba9"));
        assert_eq!(
            s.secret.to_vec(),
            hex("0263db1782731bf4588e7e4d93b7463907cb8cd8200b5da55a8bd488eafc37c1")
        );
        assert_eq!(s.key.to_vec(), hex("82db637861d55e1d011f19ea71d5d2a7"));
        assert_eq!(s.iv.to_vec(), hex("dd13c276499c0249d3310652"));
        assert_eq!(s.hp.to_vec(), hex("edf6d05c83121201b436e16877593c3a"));
    }

    #[test]
    fn header_protection_mask_matches_rfc9001_a2() {
        let (c, _) = initial_raw_keys(VERSION_1, &hex(DCID)).unwrap();
        let hp = Aes128::new(&c.hp.into());
        let sample: [u8; 16] = hex("d1b1c98dd7689fb8ec11d242b123dc9b").try_into().unwrap();
        let mut block = aes::Block::from(sample);
        hp.encrypt_block(&mut block);
        assert_eq!(block[..5].to_vec(), hex("437b9aec36"));
    }

    fn open_vector(version: u32, file: &str, server: bool) -> Opened {
        let bytes = hex(file);
        let d = split_datagram(&bytes);
        assert_eq!(d.error, None);
        let keys = InitialKeys::derive(version, &hex(DCID)).unwrap();
        let k = if server { &keys.server } else { &keys.client };
        open(k, &d.packets[0], None).unwrap()
    }

    fn a2_payload() -> Vec<u8> {
        let mut p = hex(include_str!("testdata/rfc9001-a2-crypto-frame.hex"));
        p.resize(1162, 0);
        p
    }

    #[test]
    fn rfc9001_a2_client_initial_opens_to_its_crypto_frame() {
        let o = open_vector(
            VERSION_1,
            include_str!("testdata/rfc9001-a2-client-initial.hex"),
            false,
        );
        assert_eq!(o.packet_number, 2);
        assert_eq!(o.reserved_bits, 0);
        assert_eq!(o.payload, a2_payload());
    }

    #[test]
    fn rfc9001_a3_server_initial_opens() {
        let o = open_vector(
            VERSION_1,
            include_str!("testdata/rfc9001-a3-server-initial.hex"),
            true,
        );
        assert_eq!(o.packet_number, 1);
        assert_eq!(
            o.payload,
            hex(include_str!("testdata/rfc9001-a3-server-payload.hex"))
        );
    }

    #[test]
    fn rfc9369_a2_and_a3_open() {
        let o = open_vector(
            VERSION_2,
            include_str!("testdata/rfc9369-a2-client-initial.hex"),
            false,
        );
        assert_eq!(o.packet_number, 2);
        assert_eq!(o.payload, a2_payload());
        let o = open_vector(
            VERSION_2,
            include_str!("testdata/rfc9369-a3-server-initial.hex"),
            true,
        );
        assert_eq!(o.packet_number, 1);
        // RFC 9369 A.3 uses the same server payload as RFC 9001 A.3.
        assert_eq!(
            o.payload,
            hex(include_str!("testdata/rfc9001-a3-server-payload.hex"))
        );
    }

    #[test]
    fn wrong_keys_or_altered_bytes_fail_authentication() {
        let mut bytes = hex(include_str!("testdata/rfc9001-a2-client-initial.hex"));
        let keys = InitialKeys::derive(VERSION_1, &hex(DCID)).unwrap();
        {
            let d = split_datagram(&bytes);
            // Server keys on a client packet.
            assert_eq!(
                open(&keys.server, &d.packets[0], None),
                Err(OpenError::Authentication)
            );
        }
        bytes[700] ^= 1;
        let d = split_datagram(&bytes);
        assert_eq!(
            open(&keys.client, &d.packets[0], None),
            Err(OpenError::Authentication)
        );
        // Other versions' keys do not open it.
        let v2 = InitialKeys::derive(VERSION_2, &hex(DCID)).unwrap();
        assert!(open(&v2.client, &d.packets[0], None).is_err());
        assert!(InitialKeys::derive(0x1a2a_3a4a, &hex(DCID)).is_none());
    }

    #[test]
    fn retry_tags_of_rfc9001_a4_and_rfc9369_a4_verify() {
        let odcid = hex(DCID);
        let r1 = hex(include_str!("testdata/rfc9001-a4-retry.hex"));
        assert_eq!(verify_retry(VERSION_1, &odcid, &r1), Some(true));
        assert_eq!(verify_retry(VERSION_1, &[1, 2, 3], &r1), Some(false));
        let r2 = hex(include_str!("testdata/rfc9369-a4-retry.hex"));
        assert_eq!(verify_retry(VERSION_2, &odcid, &r2), Some(true));
        assert_eq!(verify_retry(VERSION_1, &odcid, &r2), Some(false));
        assert_eq!(verify_retry(VERSION_DRAFT_29, &odcid, &r1), None);
        assert_eq!(verify_retry(VERSION_1, &odcid, &r1[..10]), Some(false));
    }

    #[test]
    fn packet_numbers_decode_near_the_expected_one() {
        // RFC 9000 Appendix A.3 example.
        assert_eq!(
            decode_packet_number(Some(0xa82f30ea), 0x9b32, 16),
            0xa82f9b32
        );
        assert_eq!(decode_packet_number(None, 2, 32), 2);
        assert_eq!(decode_packet_number(None, 0, 8), 0);
        assert_eq!(decode_packet_number(Some(255), 0, 8), 256);
        let _ = decode_packet_number(Some(u64::MAX), 5, 8);
        assert_eq!(
            decode_packet_number(Some((1 << 62) - 1), 0xff, 8),
            (1 << 62) - 1
        );
    }
}
