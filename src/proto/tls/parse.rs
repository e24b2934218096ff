//! Decodes single TLS handshake messages (ClientHello, ServerHello, Certificate) and record
//! headers into owned summaries; it keeps no state and never reassembles streams (that is
//! [`super::scan::TlsScanner`]'s job).
//!
//! Hello bodies are parsed with `tls-parser` and certificates with `x509-parser` (in
//! [`super::cert`]). Lists are walked by hand. The extension list: each extension is handed to
//! `tls-parser` on its own, because the crate's list parser silently stops at the first
//! extension it cannot decode, which would hide every later extension (the SNI among them) and
//! hide the fact that something was odd. Walking the list ourselves keeps all extension types,
//! reports undecodable ones as a [`HelloAnomaly`], and also lets us salvage a list whose declared
//! length overruns the message. The certificate list: for the same reason, and so that a
//! Certificate message the stream ended inside still gives its leaf
//! ([`parse_certificate_prefix`]).

#![cfg_attr(
    not(test),
    deny(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used)
)]

use serde::Serialize;
use tls_parser::{
    parse_tls_client_hello_extension, parse_tls_handshake_client_hello,
    parse_tls_handshake_msg_server_hello, parse_tls_server_hello_extension, SNIType, TlsExtension,
    TlsMessageHandshake,
};

use super::cert::{issuer_facts, leaf_facts, LeafCertificate, NameFacts};

pub use super::scan::{
    alert_description_name, EncryptionCause, TlsEvent, TlsLimit, TlsMalformed, TlsScanStats,
    TlsScanner,
};

/// RFC 8446 §5.1: content type (1), legacy_record_version (2), length (2).
pub const RECORD_HEADER_LEN: usize = 5;
/// RFC 8446 §5.1: plaintext fragments are at most 2^14 bytes.
pub const MAX_PLAINTEXT_LEN: usize = 1 << 14;
/// RFC 5246 §6.2.3: ciphertext fragments are at most 2^14 + 2048 bytes; anything longer is
/// reported as malformed.
pub const MAX_RECORD_LEN: usize = MAX_PLAINTEXT_LEN + 2048;
/// RFC 8446 §4: msg_type (1) and a 24-bit length (3).
pub const HANDSHAKE_HEADER_LEN: usize = 4;
/// Our cap on one reassembled handshake message (real ClientHellos are a few KiB, certificate
/// chains rarely exceed 16 KiB); over it the scanner reports [`TlsLimit::HandshakeMessage`].
pub const MAX_HANDSHAKE_LEN: usize = 64 * 1024;

/// RFC 8446 §5.1 ContentType values.
pub const CONTENT_CHANGE_CIPHER_SPEC: u8 = 20;
/// RFC 8446 §5.1.
pub const CONTENT_ALERT: u8 = 21;
/// RFC 8446 §5.1.
pub const CONTENT_HANDSHAKE: u8 = 22;
/// RFC 8446 §5.1.
pub const CONTENT_APPLICATION_DATA: u8 = 23;
/// RFC 6520 §3.
pub const CONTENT_HEARTBEAT: u8 = 24;

/// RFC 8446 §4 HandshakeType values.
pub const HS_CLIENT_HELLO: u8 = 1;
/// RFC 8446 §4.
pub const HS_SERVER_HELLO: u8 = 2;
/// TLS 1.3 drafts before 22 used a distinct HelloRetryRequest type.
pub const HS_HELLO_RETRY_REQUEST_DRAFT: u8 = 6;
/// RFC 8446 §4.
pub const HS_CERTIFICATE: u8 = 11;

/// RFC 6066 §3.
pub const EXT_SERVER_NAME: u16 = 0;
/// RFC 8422 §5.1.1 (formerly elliptic_curves).
pub const EXT_SUPPORTED_GROUPS: u16 = 10;
/// RFC 7301 §3.1.
pub const EXT_ALPN: u16 = 16;
/// RFC 7685 §3.
pub const EXT_PADDING: u16 = 21;
/// RFC 8446 §4.2.1.
pub const EXT_SUPPORTED_VERSIONS: u16 = 43;
/// RFC 8446 §4.2.8.
pub const EXT_KEY_SHARE: u16 = 51;
/// draft-ietf-tls-esni (ECH) encrypted_client_hello.
pub const EXT_ECH: u16 = 0xfe0d;
/// draft-ietf-tls-esni-01..04 encrypted_server_name.
pub const EXT_ESNI: u16 = 0xffce;

/// RFC 8446 §4.2.1 version number of TLS 1.3.
pub const TLS13: u16 = 0x0304;
/// TLS 1.3 drafts are 0x7fNN.
const TLS13_DRAFT_HIGH: u8 = 0x7f;
/// RFC 6066 §3 NameType host_name.
const SNI_HOST_NAME: u8 = 0;
/// RFC 1035 §2.3.4 / RFC 6066 §3: longest host name accepted as a valid SNI.
const MAX_HOSTNAME_LEN: usize = 253;
/// RFC 8446 §4.1.3: the ServerHello.random value that marks a HelloRetryRequest
/// (SHA-256 of "HelloRetryRequest").
pub const HELLO_RETRY_REQUEST_RANDOM: [u8; 32] = [
    0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
    0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
];

/// Whether a 16-bit code point is a GREASE value (RFC 8701 §2: 0x?A?A with equal bytes).
pub fn is_grease(v: u16) -> bool {
    let [hi, lo] = v.to_be_bytes();
    hi == lo && lo & 0x0f == 0x0a
}

/// Whether the first bytes of a stream look like a TLS record header.
///
/// Needs at least 3 bytes: a content type from change_cipher_spec (20) to application_data (23)
/// and a version 3.0 to 3.4; with 5 bytes the length must also be 1..=[`MAX_RECORD_LEN`]. An
/// SSLv2-format hello is not recognised.
pub fn looks_like_tls(first_bytes: &[u8]) -> bool {
    let (Some(&ct), Some(&major), Some(&minor)) =
        (first_bytes.first(), first_bytes.get(1), first_bytes.get(2))
    else {
        return false;
    };
    if !(CONTENT_CHANGE_CIPHER_SPEC..=CONTENT_APPLICATION_DATA).contains(&ct)
        || major != 3
        || minor > 4
    {
        return false;
    }
    match (first_bytes.get(3), first_bytes.get(4)) {
        (Some(&h), Some(&l)) => {
            let len = usize::from(u16::from_be_bytes([h, l]));
            (1..=MAX_RECORD_LEN).contains(&len)
        }
        _ => true,
    }
}

/// Something odd in a hello that did not prevent decoding it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum HelloAnomaly {
    /// The extensions block length runs past the message; what was there was walked anyway.
    ExtensionsOverrun,
    /// Bytes after the extensions block.
    TrailingBytes(usize),
    /// An extension whose length runs past the extensions block.
    ExtensionTruncated(u16),
    /// 1 to 3 bytes left at the end of the extensions block, too few for an extension header.
    ExtensionsTrailingBytes(usize),
    /// An extension decoded only in part: its inner list length disagrees with its entries
    /// or with the extension length (`tls-parser` silently drops what does not fit).
    ExtensionPartlyDecoded(u16),
    /// An extension whose content `tls-parser` could not decode.
    ExtensionUndecodable(u16),
    /// An extension type present more than once (RFC 8446 §4.2 forbids it).
    DuplicateExtension(u16),
    /// More than one host_name in the server_name extension.
    MultipleServerNames(usize),
}

/// Summary of a ClientHello (RFC 8446 §4.1.2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClientHello {
    /// Stream offset of the record holding the first byte of this handshake message.
    pub stream_offset: u64,
    /// Number of records the message was spread over.
    pub record_count: u32,
    /// legacy_record_version of that first record.
    pub record_version: u16,
    /// Handshake body length (the 24-bit length field).
    pub handshake_len: u32,
    /// legacy_version (0x0303 for TLS 1.2 and 1.3).
    pub legacy_version: u16,
    /// legacy_session_id length.
    pub session_id_len: u8,
    /// Cipher suites in order.
    pub cipher_suites: Vec<u16>,
    /// Number of compression methods offered.
    pub compression_methods: usize,
    /// Extension types in wire order.
    pub extensions: Vec<u16>,
    /// server_name host_name as text, when it is valid UTF-8.
    pub sni: Option<String>,
    /// The raw host_name bytes, only when they are not a valid UTF-8 host name.
    pub sni_raw: Option<Vec<u8>>,
    /// ALPN protocol ids (non-printable bytes escaped as `\xNN`).
    pub alpn: Vec<String>,
    /// supported_versions in order.
    pub supported_versions: Vec<u16>,
    /// supported_groups in order.
    pub supported_groups: Vec<u16>,
    /// Groups of the key_share entries in order.
    pub key_share_groups: Vec<u16>,
    /// encrypted_client_hello (0xfe0d) present.
    pub ech: bool,
    /// Draft encrypted_server_name (0xffce) present.
    pub esni: bool,
    /// Any GREASE value among cipher suites, extensions, versions or groups.
    pub grease: bool,
    /// Length of the padding extension, if present.
    pub padding_len: Option<usize>,
    /// Oddities found while decoding.
    pub anomalies: Vec<HelloAnomaly>,
}

/// Summary of a ServerHello or HelloRetryRequest (RFC 8446 §4.1.3, §4.1.4).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ServerHello {
    /// Stream offset of the record holding the first byte of this handshake message.
    pub stream_offset: u64,
    /// Number of records the message was spread over.
    pub record_count: u32,
    /// legacy_version.
    pub legacy_version: u16,
    /// The version from supported_versions, if present.
    pub selected_version: Option<u16>,
    /// The chosen cipher suite.
    pub cipher: u16,
    /// The chosen compression method.
    pub compression: u8,
    /// legacy_session_id_echo length.
    pub session_id_len: u8,
    /// Whether this is a HelloRetryRequest (special random, or the draft message type).
    pub is_hello_retry_request: bool,
    /// Extension types in wire order.
    pub extensions: Vec<u16>,
    /// The selected ALPN protocol, if any.
    pub alpn: Option<String>,
    /// The key_share group (selected or requested), if any.
    pub key_share_group: Option<u16>,
    /// Oddities found while decoding.
    pub anomalies: Vec<HelloAnomaly>,
}

impl ServerHello {
    /// The negotiated version: supported_versions if present, else legacy_version.
    pub fn version(&self) -> u16 {
        self.selected_version.unwrap_or(self.legacy_version)
    }

    /// Whether TLS 1.3 (or a draft of it) was selected, after which the handshake is encrypted.
    pub fn selects_tls13(&self) -> bool {
        let v = self.version();
        let [hi, _] = v.to_be_bytes();
        v == TLS13 || hi == TLS13_DRAFT_HIGH
    }
}

/// Summary of a plaintext Certificate message (TLS 1.2 and earlier, RFC 5246 §7.4.2), with
/// facts about the leaf certificate ([`super::cert`]) and the issuers of the rest of the chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CertificateSummary {
    /// Stream offset of the record holding the first byte of this handshake message.
    pub stream_offset: u64,
    /// Number of whole certificates in the chain (in what was seen of it).
    pub count: usize,
    /// DER length the first (leaf) certificate declares, when its length field was seen.
    pub first_cert_len: Option<usize>,
    /// Whether the chain did not parse as a TLS 1.2 certificate list (lengths that disagree,
    /// trailing bytes), or the leaf certificate did not parse as X.509.
    pub malformed: bool,
    /// Whether the whole message was seen. False when the stream ended inside it and only a
    /// prefix was summarised: then `count` and the leaf facts cover only what arrived.
    pub complete: bool,
    /// Facts from the leaf certificate, when its DER was all there and parsed.
    pub leaf: Option<LeafCertificate>,
    /// Why there are no leaf facts although the list has a first entry: a short parse error,
    /// or that the leaf was cut short.
    pub leaf_error: Option<String>,
    /// Issuer names of the further certificates, in chain order, at most
    /// [`MAX_CHAIN_ISSUERS`]; `None` for one that did not parse.
    pub chain_issuers: Vec<Option<NameFacts>>,
}

/// Most further certificates of a chain whose issuer is kept.
pub const MAX_CHAIN_ISSUERS: usize = 8;

/// Where a handshake message came from in the stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MessageOrigin {
    /// Stream offset of the first record holding the message.
    pub stream_offset: u64,
    /// Records the message was spread over.
    pub record_count: u32,
    /// legacy_record_version of the first record.
    pub record_version: u16,
}

/// Renders bytes as text: printable ASCII as is, anything else (and `\`) as `\xNN`.
pub(crate) fn escape_bytes(bytes: &[u8]) -> String {
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

/// Whether `name` is a plausible DNS host name for SNI: 1..=253 bytes of letters, digits,
/// `-`, `_` and `.` (underscores appear in real names although RFC 952 forbids them).
pub fn is_valid_hostname(name: &[u8]) -> bool {
    !name.is_empty()
        && name.len() <= MAX_HOSTNAME_LEN
        && name
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// One extension as found by the hand walk: its type, and the whole TLV (for `tls-parser`).
struct RawExtension<'a> {
    ext_type: u16,
    tlv: &'a [u8],
    data: &'a [u8],
}

/// Splits an extensions block into extensions; stops at the first one that overruns the
/// block and reports it.
fn walk_extensions<'a>(
    mut block: &'a [u8],
    anomalies: &mut Vec<HelloAnomaly>,
) -> Vec<RawExtension<'a>> {
    let mut out = Vec::new();
    while !block.is_empty() {
        let Some((header, _)) = block.split_at_checked(4) else {
            anomalies.push(HelloAnomaly::ExtensionsTrailingBytes(block.len()));
            break;
        };
        let [t0, t1, l0, l1] = <[u8; 4]>::try_from(header).unwrap_or([0; 4]);
        let ext_type = u16::from_be_bytes([t0, t1]);
        let len = usize::from(u16::from_be_bytes([l0, l1]));
        let Some((tlv, rest)) = block.split_at_checked(4usize.saturating_add(len)) else {
            anomalies.push(HelloAnomaly::ExtensionTruncated(ext_type));
            break;
        };
        out.push(RawExtension {
            ext_type,
            tlv,
            data: tlv.get(4..).unwrap_or(&[]),
        });
        block = rest;
    }
    let mut types: Vec<u16> = out.iter().map(|e| e.ext_type).collect();
    types.sort_unstable();
    let mut last_reported = None;
    for pair in types.windows(2) {
        if let [a, b] = pair {
            if a == b && last_reported != Some(*a) {
                anomalies.push(HelloAnomaly::DuplicateExtension(*a));
                last_reported = Some(*a);
            }
        }
    }
    out
}

/// Extracts the extensions block of a hello body given what `tls-parser` left unconsumed.
fn extension_block<'a>(
    ext: Option<&'a [u8]>,
    rest: &'a [u8],
    anomalies: &mut Vec<HelloAnomaly>,
) -> &'a [u8] {
    match ext {
        Some(block) => {
            if !rest.is_empty() {
                anomalies.push(HelloAnomaly::TrailingBytes(rest.len()));
            }
            block
        }
        // tls-parser drops an extensions block whose length overruns the message; salvage
        // whatever follows the length field.
        None if !rest.is_empty() => {
            anomalies.push(HelloAnomaly::ExtensionsOverrun);
            rest.get(2..).unwrap_or(&[])
        }
        None => &[],
    }
}

/// Whether a `u16`-length-prefixed list of `u8`/`u16`-length-prefixed entries exactly fills
/// `data` given the entry payloads `tls-parser` returned (`entry_header` bytes precede each).
fn list_fully_decoded(data: &[u8], entries: &[&[u8]], entry_header: usize) -> bool {
    let Some(len) = data
        .get(..2)
        .and_then(|l| <[u8; 2]>::try_from(l).ok())
        .map(|l| usize::from(u16::from_be_bytes(l)))
    else {
        return false;
    };
    let used = entries.iter().fold(0usize, |acc, e| {
        acc.saturating_add(entry_header).saturating_add(e.len())
    });
    len == used && data.len() == len.saturating_add(2)
}

/// Groups of a ClientHello key_share (RFC 8446 §4.2.8): `client_shares<0..2^16-1>` of
/// (group, key_exchange<1..2^16-1>). `tls-parser` leaves this extension raw.
fn key_share_groups(data: &[u8]) -> Option<Vec<u16>> {
    let (len, mut list) = data.split_at_checked(2)?;
    let len = usize::from(u16::from_be_bytes(len.try_into().ok()?));
    if list.len() != len {
        return None;
    }
    let mut groups = Vec::new();
    while !list.is_empty() {
        let (head, rest) = list.split_at_checked(4)?;
        let [g0, g1, k0, k1] = <[u8; 4]>::try_from(head).ok()?;
        groups.push(u16::from_be_bytes([g0, g1]));
        let (_, after) = rest.split_at_checked(usize::from(u16::from_be_bytes([k0, k1])))?;
        list = after;
    }
    Some(groups)
}

/// Decodes a ClientHello body (the handshake message without its 4-byte header).
pub fn parse_client_hello(body: &[u8], origin: MessageOrigin) -> Result<ClientHello, String> {
    let (rest, ch) = parse_tls_handshake_client_hello(body)
        .map_err(|e| format!("ClientHello body does not parse: {e:?}"))?;
    let mut anomalies = Vec::new();
    let block = extension_block(ch.ext, rest, &mut anomalies);
    let raw = walk_extensions(block, &mut anomalies);
    let cipher_suites: Vec<u16> = ch.ciphers.iter().map(|c| c.0).collect();
    let mut out = ClientHello {
        stream_offset: origin.stream_offset,
        record_count: origin.record_count,
        record_version: origin.record_version,
        handshake_len: u32::try_from(body.len()).unwrap_or(u32::MAX),
        legacy_version: ch.version.0,
        session_id_len: u8::try_from(ch.session_id.map_or(0, <[u8]>::len)).unwrap_or(u8::MAX),
        grease: cipher_suites.iter().any(|&c| is_grease(c)),
        cipher_suites,
        compression_methods: ch.comp.len(),
        extensions: raw.iter().map(|e| e.ext_type).collect(),
        sni: None,
        sni_raw: None,
        alpn: Vec::new(),
        supported_versions: Vec::new(),
        supported_groups: Vec::new(),
        key_share_groups: Vec::new(),
        ech: false,
        esni: false,
        padding_len: None,
        anomalies: Vec::new(),
    };
    for e in &raw {
        match e.ext_type {
            EXT_ECH => out.ech = true,
            EXT_ESNI => out.esni = true,
            EXT_PADDING => out.padding_len = Some(e.data.len()),
            t if is_grease(t) => out.grease = true,
            _ => {}
        }
        if e.ext_type == EXT_KEY_SHARE {
            match key_share_groups(e.data) {
                Some(g) => out.key_share_groups = g,
                None => anomalies.push(HelloAnomaly::ExtensionUndecodable(e.ext_type)),
            }
            continue;
        }
        let decoded = match parse_tls_client_hello_extension(e.tlv) {
            Ok((_, d)) => d,
            Err(_) => {
                anomalies.push(HelloAnomaly::ExtensionUndecodable(e.ext_type));
                continue;
            }
        };
        match decoded {
            TlsExtension::SNI(names) => {
                let all: Vec<&[u8]> = names.iter().map(|(_, n)| *n).collect();
                // ServerName entries: name_type (1) + HostName length (2) + name.
                if !list_fully_decoded(e.data, &all, 3) {
                    anomalies.push(HelloAnomaly::ExtensionPartlyDecoded(e.ext_type));
                }
                let hosts: Vec<&[u8]> = names
                    .iter()
                    .filter(|(t, _)| *t == SNIType(SNI_HOST_NAME))
                    .map(|(_, n)| *n)
                    .collect();
                if hosts.len() > 1 {
                    anomalies.push(HelloAnomaly::MultipleServerNames(hosts.len()));
                }
                if let Some(host) = hosts.first() {
                    let text = std::str::from_utf8(host).ok();
                    out.sni = text.map(str::to_string);
                    if text.is_none() || !is_valid_hostname(host) {
                        out.sni_raw = Some(host.to_vec());
                    }
                }
            }
            TlsExtension::ALPN(ids) => {
                // ProtocolName entries: length (1) + name.
                if !list_fully_decoded(e.data, &ids, 1) {
                    anomalies.push(HelloAnomaly::ExtensionPartlyDecoded(e.ext_type));
                }
                out.alpn = ids.iter().map(|id| escape_bytes(id)).collect();
            }
            TlsExtension::SupportedVersions(v) => {
                out.supported_versions = v.iter().map(|v| v.0).collect();
            }
            TlsExtension::EllipticCurves(g) => {
                out.supported_groups = g.iter().map(|g| g.0).collect();
            }
            _ => {}
        }
    }
    out.grease |= out
        .supported_versions
        .iter()
        .chain(&out.supported_groups)
        .chain(&out.key_share_groups)
        .any(|&v| is_grease(v));
    out.anomalies = anomalies;
    Ok(out)
}

/// Which handshake message carries a server hello.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum ServerHelloKind {
    /// HandshakeType server_hello (2), including RFC 8446 HelloRetryRequests.
    ServerHello,
    /// HandshakeType 6: the HelloRetryRequest of TLS 1.3 drafts before 22.
    DraftHelloRetryRequest,
}

/// Decodes a ServerHello (or draft HelloRetryRequest) body, without the 4-byte header.
pub fn parse_server_hello(
    body: &[u8],
    origin: MessageOrigin,
    kind: ServerHelloKind,
) -> Result<ServerHello, String> {
    let mut anomalies = Vec::new();
    let draft_hrr = kind == ServerHelloKind::DraftHelloRetryRequest;
    let (legacy_version, cipher, compression, session_id_len, is_hrr, block) = if draft_hrr {
        // Draft HelloRetryRequest: version, cipher_suite, extensions (no random).
        let (rest, msg) = tls_parser::parse_tls_handshake_msg_hello_retry_request(body)
            .map_err(|e| format!("HelloRetryRequest body does not parse: {e:?}"))?;
        let TlsMessageHandshake::HelloRetryRequest(h) = msg else {
            return Err("HelloRetryRequest body does not parse".to_string());
        };
        let block = extension_block(h.ext, rest, &mut anomalies);
        (h.version.0, h.cipher.0, 0, 0, true, block)
    } else {
        let (rest, msg) = parse_tls_handshake_msg_server_hello(body)
            .map_err(|e| format!("ServerHello body does not parse: {e:?}"))?;
        match msg {
            TlsMessageHandshake::ServerHello(sh) => {
                let block = extension_block(sh.ext, rest, &mut anomalies);
                (
                    sh.version.0,
                    sh.cipher.0,
                    sh.compression.0,
                    u8::try_from(sh.session_id.map_or(0, <[u8]>::len)).unwrap_or(u8::MAX),
                    sh.random == HELLO_RETRY_REQUEST_RANDOM,
                    block,
                )
            }
            TlsMessageHandshake::ServerHelloV13Draft18(sh) => {
                let block = extension_block(sh.ext, rest, &mut anomalies);
                (sh.version.0, sh.cipher.0, 0, 0, false, block)
            }
            _ => return Err("ServerHello body does not parse".to_string()),
        }
    };
    let raw = walk_extensions(block, &mut anomalies);
    let mut out = ServerHello {
        stream_offset: origin.stream_offset,
        record_count: origin.record_count,
        legacy_version,
        selected_version: None,
        cipher,
        compression,
        session_id_len,
        is_hello_retry_request: is_hrr,
        extensions: raw.iter().map(|e| e.ext_type).collect(),
        alpn: None,
        key_share_group: None,
        anomalies: Vec::new(),
    };
    for e in &raw {
        if e.ext_type == EXT_KEY_SHARE {
            // ServerHello: KeyShareEntry; HelloRetryRequest: NamedGroup (RFC 8446 §4.2.8).
            out.key_share_group = e
                .data
                .get(..2)
                .and_then(|g| g.try_into().ok())
                .map(u16::from_be_bytes);
            if out.key_share_group.is_none() {
                anomalies.push(HelloAnomaly::ExtensionUndecodable(e.ext_type));
            }
            continue;
        }
        if e.ext_type != EXT_SUPPORTED_VERSIONS && e.ext_type != EXT_ALPN {
            continue;
        }
        match parse_tls_server_hello_extension(e.tlv) {
            Ok((_, TlsExtension::SupportedVersions(v))) if v.len() == 1 => {
                out.selected_version = v.first().map(|v| v.0);
            }
            Ok((_, TlsExtension::ALPN(ids))) => {
                out.alpn = ids.first().map(|id| escape_bytes(id));
            }
            _ => anomalies.push(HelloAnomaly::ExtensionUndecodable(e.ext_type)),
        }
    }
    out.anomalies = anomalies;
    Ok(out)
}

/// Decodes a TLS 1.2-style Certificate body (without the 4-byte header).
pub fn parse_certificate(body: &[u8], stream_offset: u64) -> CertificateSummary {
    summarise_certificate(body, stream_offset, true)
}

/// Summarises the first bytes of a Certificate body whose stream ended before the rest
/// arrived: what is whole in them is reported, the summary says it is incomplete, and the
/// missing part is not counted as malformed.
pub fn parse_certificate_prefix(prefix: &[u8], stream_offset: u64) -> CertificateSummary {
    summarise_certificate(prefix, stream_offset, false)
}

/// Reads a 24-bit big-endian length.
fn u24(bytes: &[u8]) -> Option<usize> {
    let [a, b, c] = <[u8; 3]>::try_from(bytes).ok()?;
    Some(usize::from(a) << 16 | usize::from(b) << 8 | usize::from(c))
}

/// Walks `certificate_list<0..2^24-1>` of `ASN.1Cert<1..2^24-1>` entries by hand (like the
/// extension lists: a list cut short or overrunning still yields the entries before the
/// damage, which `tls-parser` would drop) and reads the leaf and the issuers.
fn summarise_certificate(body: &[u8], stream_offset: u64, complete: bool) -> CertificateSummary {
    let mut out = CertificateSummary {
        stream_offset,
        count: 0,
        first_cert_len: None,
        malformed: false,
        complete,
        leaf: None,
        leaf_error: None,
        chain_issuers: Vec::new(),
    };
    let Some((declared, list)) = body
        .split_at_checked(3)
        .and_then(|(l, rest)| Some((u24(l)?, rest)))
    else {
        out.malformed = complete;
        return out;
    };
    // The list as far as it was seen; `cut` when the stream ended inside it.
    let cut = list.len() < declared;
    if complete && list.len() != declared {
        out.malformed = true;
    }
    let mut rest = list.get(..declared).unwrap_or(list);
    while !rest.is_empty() {
        let Some((len, after_len)) = rest
            .split_at_checked(3)
            .and_then(|(l, r)| Some((u24(l)?, r)))
        else {
            out.malformed |= !cut;
            break;
        };
        if out.count == 0 {
            out.first_cert_len = Some(len);
        }
        let Some((der, after)) = after_len.split_at_checked(len) else {
            out.malformed |= !cut;
            if out.count == 0 {
                let what = if cut {
                    "cut short"
                } else {
                    "overruns the list"
                };
                out.leaf_error = Some(format!(
                    "leaf certificate {what}: {} of {len} bytes",
                    after_len.len()
                ));
            }
            break;
        };
        if out.count == 0 {
            match leaf_facts(der) {
                Ok(leaf) => out.leaf = Some(leaf),
                Err(e) => {
                    out.malformed = true;
                    out.leaf_error = Some(e);
                }
            }
        } else if out.chain_issuers.len() < MAX_CHAIN_ISSUERS {
            out.chain_issuers.push(issuer_facts(der));
        }
        out.count = out.count.saturating_add(1);
        rest = after;
    }
    out
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Client direction of TCP stream 36 in
    /// `censorship-detection/testdata/tripwire-1597963966.pcap` (lhmerino/censorship-detection,
    /// BSD-3-Clause; frame 559): an OpenSSL TLS 1.3 ClientHello for www.wikipedia.org.
    pub(crate) const TRIPWIRE_CLIENT: &[u8] =
        include_bytes!("testdata/tripwire_stream36_client.bin");
    /// Server direction of the same stream (frames 562 and 564): ServerHello selecting TLS 1.3,
    /// a compatibility ChangeCipherSpec, then encrypted records.
    pub(crate) const TRIPWIRE_SERVER: &[u8] =
        include_bytes!("testdata/tripwire_stream36_server.bin");
    /// The 17 cipher suites offered by [`tls12_client_hello`] (IANA code points: TLS 1.3 suites,
    /// ECDHE GCM/ChaCha20/CBC suites, then RSA key-exchange suites).
    pub(crate) const TLS12_CLIENT_SUITES: [u16; 17] = [
        0x1301, 0x1302, 0x1303, 0xc02b, 0xc02c, 0xc02f, 0xc030, 0xcca9, 0xcca8, 0xc013, 0xc014,
        0x009c, 0x009d, 0x002f, 0x0035, 0x000a, 0x009f,
    ];
    /// A TLS 1.2-only ClientHello for notion.example, built with the crate's own synthesis
    /// module: legacy record version 0x0301, 17 cipher suites, SNI, no supported_versions, no
    /// key_share, no ALPN, empty session ID.
    pub(crate) fn tls12_client_hello() -> Vec<u8> {
        use crate::synth::app::{ClientHello, TLS_1_0};
        let mut ch = ClientHello::new("notion.example");
        ch.record_version = TLS_1_0;
        ch.session_id_len = 0;
        ch.cipher_suites = TLS12_CLIENT_SUITES.to_vec();
        ch.alpn.clear();
        ch.supported_versions.clear();
        ch.key_shares.clear();
        ch.seed = 8;
        ch.record()
    }

    /// Body of the ServerHello in [`tls12_server_flight`]: TLS 1.2, a 32-byte session ID,
    /// cipher 0x009c (TLS_RSA_WITH_AES_128_GCM_SHA256), null compression and one empty
    /// server_name extension (RFC 6066 §3 acknowledgement).
    pub(crate) fn tls12_server_hello_body() -> Vec<u8> {
        let mut v = vec![3, 3];
        v.extend_from_slice(&[0x52; 32]);
        v.push(32);
        v.extend_from_slice(&[0x53; 32]);
        v.extend_from_slice(&0x009cu16.to_be_bytes());
        v.push(0);
        v.extend_from_slice(&[0, 4]);
        v.extend_from_slice(&EXT_SERVER_NAME.to_be_bytes());
        v.extend_from_slice(&[0, 0]);
        v
    }

    /// The leaf and issuer certificates of [`tls12_server_flight`], built with
    /// `crate::synth::x509`: an EC leaf for notion.example (and a wildcard) from "Example
    /// Trust RSA CA 2023", and that CA's own RSA certificate from "Example Trust Root R1".
    pub(crate) fn tls12_chain() -> [Vec<u8>; 2] {
        use crate::synth::x509::{CertSpec, KeyKind, Name};
        let ca = Name::org_cn("Example Trust CA", "Example Trust RSA CA 2023").with_country("US");
        let root = Name::org_cn("Example Trust CA", "Example Trust Root R1").with_country("US");
        let leaf = CertSpec::new(
            Name::cn("notion.example"),
            ca.clone(),
            1_714_000_000,
            90,
            21,
        )
        .with_dns(&["notion.example", "*.notion.example"])
        .with_basic_constraints(false);
        let issuer = CertSpec::new(ca, root, 1_600_000_000, 3650, 22)
            .with_key(KeyKind::Rsa2048)
            .with_basic_constraints(true);
        [leaf.der(), issuer.der()]
    }

    /// A plaintext TLS 1.2 server flight in three records (record version 0x0303), each
    /// carrying one handshake message: ServerHello ([`tls12_server_hello_body`]), Certificate
    /// with [`tls12_chain`], ServerHelloDone.
    pub(crate) fn tls12_server_flight() -> Vec<u8> {
        use crate::synth::app::{
            tls12_certificate, tls_handshake, tls_record, HS_SERVER_HELLO_DONE, TLS_1_2,
            TLS_HANDSHAKE,
        };
        let server_hello = tls_handshake(HS_SERVER_HELLO, &tls12_server_hello_body());
        let certificate = tls12_certificate(&tls12_chain());
        let done = tls_handshake(HS_SERVER_HELLO_DONE, &[]);
        let mut v = tls_record(TLS_HANDSHAKE, TLS_1_2, &server_hello);
        v.extend(tls_record(TLS_HANDSHAKE, TLS_1_2, &certificate));
        v.extend(tls_record(TLS_HANDSHAKE, TLS_1_2, &done));
        v
    }

    /// Where [`tls12_server_flight`]'s Certificate record starts, and the length of the
    /// Certificate message body, computed from the parts rather than read from the stream.
    pub(crate) fn tls12_certificate_layout() -> (usize, usize) {
        let cert_record_at =
            RECORD_HEADER_LEN + HANDSHAKE_HEADER_LEN + tls12_server_hello_body().len();
        let [leaf, issuer] = tls12_chain();
        let cert_body_len = 3 + (3 + leaf.len()) + (3 + issuer.len());
        (cert_record_at, cert_body_len)
    }

    pub(crate) fn ext(t: u16, data: &[u8]) -> (u16, Vec<u8>) {
        (t, data.to_vec())
    }

    pub(crate) fn sni(name: &[u8]) -> (u16, Vec<u8>) {
        let mut v = ((name.len() + 3) as u16).to_be_bytes().to_vec();
        v.push(0);
        v.extend_from_slice(&(name.len() as u16).to_be_bytes());
        v.extend_from_slice(name);
        (EXT_SERVER_NAME, v)
    }

    pub(crate) fn client_hello_body(suites: &[u16], exts: &[(u16, Vec<u8>)]) -> Vec<u8> {
        let mut v = vec![3, 3];
        v.extend_from_slice(&[0x11; 32]);
        v.push(0);
        v.extend_from_slice(&((suites.len() * 2) as u16).to_be_bytes());
        for s in suites {
            v.extend_from_slice(&s.to_be_bytes());
        }
        v.extend_from_slice(&[1, 0]);
        let mut block = Vec::new();
        for (t, d) in exts {
            block.extend_from_slice(&t.to_be_bytes());
            block.extend_from_slice(&(d.len() as u16).to_be_bytes());
            block.extend_from_slice(d);
        }
        v.extend_from_slice(&(block.len() as u16).to_be_bytes());
        v.extend(block);
        v
    }

    pub(crate) fn server_hello_body(random: [u8; 32], exts: &[(u16, Vec<u8>)]) -> Vec<u8> {
        let mut v = vec![3, 3];
        v.extend_from_slice(&random);
        v.push(0);
        v.extend_from_slice(&0x1301u16.to_be_bytes());
        v.push(0);
        let mut block = Vec::new();
        for (t, d) in exts {
            block.extend_from_slice(&t.to_be_bytes());
            block.extend_from_slice(&(d.len() as u16).to_be_bytes());
            block.extend_from_slice(d);
        }
        v.extend_from_slice(&(block.len() as u16).to_be_bytes());
        v.extend(block);
        v
    }

    fn origin() -> MessageOrigin {
        MessageOrigin {
            stream_offset: 0,
            record_count: 1,
            record_version: 0x0301,
        }
    }

    #[test]
    fn grease_values() {
        assert!(is_grease(0x0a0a));
        assert!(is_grease(0xfafa));
        assert!(!is_grease(0x0a1a));
        assert!(!is_grease(0x1301));
    }

    #[test]
    fn sniffing() {
        assert!(looks_like_tls(TRIPWIRE_CLIENT));
        assert!(looks_like_tls(&tls12_server_flight()));
        assert!(looks_like_tls(&tls12_client_hello()));
        assert!(looks_like_tls(&[22, 3, 1]));
        assert!(!looks_like_tls(&[22, 3]));
        assert!(!looks_like_tls(b"GET / HTTP/1.1\r\n"));
        assert!(!looks_like_tls(&[22, 3, 1, 0, 0]));
        assert!(!looks_like_tls(&[22, 3, 1, 0xff, 0xff]));
        assert!(!looks_like_tls(&[0x80, 0x2e, 0x01, 0x03, 0x01]));
        assert!(!looks_like_tls(&[24, 3, 3, 0, 3]));
    }

    #[test]
    fn real_tls13_client_hello() {
        let body = &TRIPWIRE_CLIENT[9..];
        let ch = parse_client_hello(body, origin()).unwrap();
        assert_eq!(ch.sni.as_deref(), Some("www.wikipedia.org"));
        assert_eq!(ch.sni_raw, None);
        assert_eq!(ch.alpn, ["h2", "http/1.1"]);
        assert_eq!(ch.supported_versions, [0x0304, 0x0303, 0x0302, 0x0301]);
        assert_eq!(ch.key_share_groups, [0x001d]);
        assert_eq!(ch.supported_groups, [0x1d, 0x17, 0x1e, 0x19, 0x18]);
        assert_eq!(ch.cipher_suites.len(), 31);
        assert_eq!(ch.cipher_suites[0], 0x1302);
        assert_eq!(ch.session_id_len, 32);
        assert_eq!(ch.compression_methods, 1);
        assert_eq!(ch.legacy_version, 0x0303);
        assert_eq!(ch.padding_len, Some(176));
        assert_eq!(ch.handshake_len, 508);
        assert_eq!(
            ch.extensions,
            [0, 11, 10, 13172, 16, 22, 23, 13, 43, 45, 51, 21]
        );
        assert!(!ch.grease && !ch.ech && !ch.esni);
        assert!(ch.anomalies.is_empty(), "{:?}", ch.anomalies);
    }

    #[test]
    fn synthetic_client_hello_features() {
        let body = client_hello_body(
            &[0x3a3a, 0x1301],
            &[
                ext(0x2a2a, &[]),
                sni(b"bad host\xff"),
                ext(EXT_ECH, &[0, 1, 2]),
                ext(EXT_ESNI, &[1, 2, 3]),
                ext(EXT_ALPN, b"\x00\x03\x02h\x01"),
                ext(EXT_SUPPORTED_VERSIONS, &[]),
                ext(EXT_KEY_SHARE, &[0, 4, 0x4a, 0x4a, 0, 0]),
                ext(EXT_ECH, &[]),
            ],
        );
        let ch = parse_client_hello(&body, origin()).unwrap();
        assert!(ch.grease && ch.ech && ch.esni);
        assert_eq!(ch.sni, None);
        assert_eq!(ch.sni_raw.as_deref(), Some(&b"bad host\xff"[..]));
        assert_eq!(ch.alpn, ["h\\x01"]);
        assert_eq!(ch.key_share_groups, [0x4a4a]);
        assert!(ch
            .anomalies
            .contains(&HelloAnomaly::DuplicateExtension(EXT_ECH)));
        assert!(ch
            .anomalies
            .contains(&HelloAnomaly::ExtensionUndecodable(EXT_SUPPORTED_VERSIONS)));
        // The draft ESNI content is not the draft layout: undecodable, but still recorded.
        assert!(ch
            .anomalies
            .contains(&HelloAnomaly::ExtensionUndecodable(EXT_ESNI)));
        assert_eq!(ch.extensions.len(), 8);
    }

    #[test]
    fn utf8_but_not_hostname_sni() {
        let body = client_hello_body(&[0x1301], &[sni("bücher.example".as_bytes())]);
        let ch = parse_client_hello(&body, origin()).unwrap();
        assert_eq!(ch.sni.as_deref(), Some("bücher.example"));
        assert!(ch.sni_raw.is_some());
    }

    #[test]
    fn extension_overruns_are_salvaged() {
        let mut body = client_hello_body(&[0x1301], &[sni(b"a.example"), ext(0x1234, &[9; 4])]);
        // Make the last extension claim 200 bytes and the block claim 300.
        let n = body.len();
        body[n - 6] = 0;
        body[n - 5] = 200;
        let block_len_at = 2 + 32 + 1 + 2 + 2 + 2;
        body[block_len_at] = 1;
        body[block_len_at + 1] = 44;
        let ch = parse_client_hello(&body, origin()).unwrap();
        assert_eq!(ch.sni.as_deref(), Some("a.example"));
        assert_eq!(
            ch.anomalies,
            [
                HelloAnomaly::ExtensionsOverrun,
                HelloAnomaly::ExtensionTruncated(0x1234)
            ]
        );
    }

    #[test]
    fn sni_length_off_by_one_is_reported() {
        // Like the generated hellos of censorlab/experiments/04_shadowsocks/pcap/test.pcap
        // (tcp.stream 3): the server_name extension length is one byte short, which leaves the
        // host name cut and one stray byte after the extension.
        let mut sni_data = b"\x00\x0c\x00\x00\x0aamazon.co".to_vec();
        let mut body = client_hello_body(&[0xc02c], &[(EXT_SERVER_NAME, sni_data.clone())]);
        // The stray byte belongs to the extensions block (whose length counts it).
        body.push(b'm');
        let at = body.len() - 1 - sni_data.len() - 4 - 2;
        let block_len = u16::from_be_bytes([body[at], body[at + 1]]) + 1;
        body[at..at + 2].copy_from_slice(&block_len.to_be_bytes());
        sni_data.clear();
        let ch = parse_client_hello(&body, origin()).unwrap();
        assert_eq!(ch.sni, None);
        assert_eq!(
            ch.anomalies,
            [
                HelloAnomaly::ExtensionsTrailingBytes(1),
                HelloAnomaly::ExtensionPartlyDecoded(EXT_SERVER_NAME)
            ]
        );
        let bad_alpn = client_hello_body(&[0x1301], &[ext(EXT_ALPN, b"\x00\x04\x02h2\x05")]);
        let ch = parse_client_hello(&bad_alpn, origin()).unwrap();
        assert_eq!(
            ch.anomalies,
            [HelloAnomaly::ExtensionPartlyDecoded(EXT_ALPN)]
        );
        assert_eq!(ch.alpn, ["h2"]);
    }

    #[test]
    fn bad_client_hello_is_an_error() {
        assert!(parse_client_hello(&[3, 3, 0], origin()).is_err());
        let mut body = client_hello_body(&[0x1301], &[]);
        body[34] = 33; // session id longer than 32
        assert!(parse_client_hello(&body, origin()).is_err());
    }

    #[test]
    fn hello_retry_request() {
        let body = server_hello_body(
            HELLO_RETRY_REQUEST_RANDOM,
            &[
                ext(EXT_SUPPORTED_VERSIONS, &[3, 4]),
                ext(EXT_KEY_SHARE, &[0, 0x17]),
            ],
        );
        let sh = parse_server_hello(&body, origin(), ServerHelloKind::ServerHello).unwrap();
        assert!(sh.is_hello_retry_request);
        assert_eq!(sh.selected_version, Some(TLS13));
        assert_eq!(sh.key_share_group, Some(0x17));
        assert!(sh.selects_tls13());
        let plain = server_hello_body([7; 32], &[ext(EXT_ALPN, b"\x00\x03\x02h2")]);
        let sh = parse_server_hello(&plain, origin(), ServerHelloKind::ServerHello).unwrap();
        assert!(!sh.is_hello_retry_request);
        assert!(!sh.selects_tls13());
        assert_eq!(sh.alpn.as_deref(), Some("h2"));
        assert_eq!(sh.version(), 0x0303);
    }

    #[test]
    fn server_hello_unknown_version_is_error() {
        let mut body = server_hello_body([7; 32], &[]);
        body[0] = 9;
        assert!(parse_server_hello(&body, origin(), ServerHelloKind::ServerHello).is_err());
    }

    #[test]
    fn every_prefix_of_hello_bodies_is_safe() {
        let ch = &TRIPWIRE_CLIENT[9..];
        for cut in 0..ch.len() {
            let _ = parse_client_hello(&ch[..cut], origin());
            let _ = parse_server_hello(&ch[..cut], origin(), ServerHelloKind::ServerHello);
            let _ = parse_server_hello(
                &ch[..cut],
                origin(),
                ServerHelloKind::DraftHelloRetryRequest,
            );
            let _ = parse_certificate(&ch[..cut], 0);
        }
        let flight = tls12_server_flight();
        let (at, body_len) = tls12_certificate_layout();
        let hs_at = at + RECORD_HEADER_LEN;
        assert_eq!(flight[hs_at], HS_CERTIFICATE);
        assert_eq!(
            &flight[hs_at + 1..hs_at + HANDSHAKE_HEADER_LEN],
            &(body_len as u32).to_be_bytes()[1..]
        );
        let cert_body =
            &flight[hs_at + HANDSHAKE_HEADER_LEN..hs_at + HANDSHAKE_HEADER_LEN + body_len];
        let full = parse_certificate(cert_body, at as u64);
        assert_eq!(full.stream_offset, at as u64);
        assert_eq!(full.count, 2);
        let [leaf_der, _] = tls12_chain();
        assert_eq!(full.first_cert_len, Some(leaf_der.len()));
        assert!(!full.malformed && full.complete);
        assert!(full.leaf.is_some() && full.leaf_error.is_none());
        let leaf_end = 3 + 3 + leaf_der.len();
        for cut in 0..cert_body.len() {
            let c = parse_certificate(&cert_body[..cut], at as u64);
            assert!(c.malformed, "cut {cut}");
            // The same bytes as a prefix are not malformed, and keep the leaf once it is whole.
            let p = parse_certificate_prefix(&cert_body[..cut], at as u64);
            assert!(!p.malformed && !p.complete, "cut {cut}: {p:?}");
            assert_eq!(p.leaf.is_some(), cut >= leaf_end, "cut {cut}");
            assert_eq!(
                p.leaf,
                if cut >= leaf_end {
                    full.leaf.clone()
                } else {
                    None
                }
            );
            assert_eq!(
                p.leaf_error.is_some(),
                (6..leaf_end).contains(&cut),
                "cut {cut}"
            );
            assert_eq!(p.first_cert_len.is_some(), cut >= 6, "cut {cut}");
        }
    }

    /// A Certificate body carrying these DER entries.
    pub(crate) fn cert_body(certs: &[&[u8]]) -> Vec<u8> {
        let mut list = Vec::new();
        for c in certs {
            list.extend_from_slice(&(c.len() as u32).to_be_bytes()[1..]);
            list.extend_from_slice(c);
        }
        let mut v = (list.len() as u32).to_be_bytes()[1..].to_vec();
        v.extend(list);
        v
    }

    #[test]
    fn certificate_leaf_and_chain_facts() {
        let [leaf, issuer] = tls12_chain();
        let c = parse_certificate(&cert_body(&[&leaf, &issuer]), 7);
        let l = c.leaf.as_ref().unwrap();
        assert_eq!(l.subject.cn.as_deref(), Some("notion.example"));
        assert_eq!(l.issuer.o.as_deref(), Some("Example Trust CA"));
        assert_eq!(l.san_dns, ["notion.example", "*.notion.example"]);
        assert!(!l.self_signed);
        assert_eq!(c.chain_issuers.len(), 1);
        let root = c.chain_issuers[0].as_ref().unwrap();
        assert_eq!(root.cn.as_deref(), Some("Example Trust Root R1"));
        assert_eq!(root.o.as_deref(), Some("Example Trust CA"));
        // Issuers are kept for at most eight further certificates; a bad one is `None`.
        let mut chain: Vec<&[u8]> = vec![&leaf, b"\x30\x03\x02\x01\x01"];
        chain.extend(std::iter::repeat_n(&issuer[..], 12));
        let c = parse_certificate(&cert_body(&chain), 0);
        assert_eq!(c.count, 14);
        assert_eq!(c.chain_issuers.len(), MAX_CHAIN_ISSUERS);
        assert_eq!(c.chain_issuers[0], None);
        assert!(c.chain_issuers[1].is_some());
        assert!(!c.malformed);
        // An empty list (a client without a certificate) is fine.
        let c = parse_certificate(&[0, 0, 0], 0);
        assert!(!c.malformed && c.count == 0 && c.leaf.is_none() && c.leaf_error.is_none());
    }

    #[test]
    fn malformed_leaf_becomes_a_note() {
        let [leaf, issuer] = tls12_chain();
        // Filler that is not X.509.
        let mut junk = vec![0x30, 0x82, 0x01, 0x00];
        junk.resize(260, 0xa1);
        let c = parse_certificate(&cert_body(&[&junk, &issuer]), 0);
        assert!(c.malformed);
        assert_eq!(c.count, 2);
        assert_eq!(c.first_cert_len, Some(260));
        assert!(c.leaf.is_none());
        let e = c.leaf_error.unwrap();
        assert!(!e.is_empty() && e.len() <= 96, "{e}");
        // A leaf whose DER is cut inside a well-framed entry.
        let c = parse_certificate(&cert_body(&[&leaf[..leaf.len() - 40], &issuer]), 0);
        assert!(c.malformed && c.leaf.is_none() && c.leaf_error.is_some());
        assert!(c.chain_issuers[0].is_some());
        // An entry that overruns the list: the entries before it are still read.
        let mut body = cert_body(&[&issuer, &leaf]);
        let n = body.len();
        body.truncate(n - 10);
        body[..3].copy_from_slice(&((n - 13) as u32).to_be_bytes()[1..]);
        let c = parse_certificate(&body, 0);
        assert!(c.malformed);
        assert_eq!(c.count, 1);
        assert_eq!(
            c.leaf.unwrap().subject.cn.as_deref(),
            Some("Example Trust RSA CA 2023")
        );
        // Trailing bytes after the list.
        let mut body = cert_body(&[&leaf]);
        body.push(0);
        let c = parse_certificate(&body, 0);
        assert!(c.malformed && c.leaf.is_some());
    }

    #[test]
    fn mutated_certificates_never_panic() {
        let [leaf, issuer] = tls12_chain();
        let body = cert_body(&[&leaf, &issuer]);
        for i in 0..body.len() {
            for v in [0x00, 0x01, 0x7f, 0x80, 0x81, 0xff] {
                let mut m = body.clone();
                m[i] = v;
                let _ = parse_certificate(&m, 0);
                let _ = parse_certificate_prefix(&m[..i], 0);
            }
        }
    }
}
