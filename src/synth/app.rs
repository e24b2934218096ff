//! Builds application payloads (DNS messages, TLS records, HTTP/1.1 heads and
//! bodies) as bytes; it never adds transport headers and never parses
//! anything it did not build.

use std::net::{Ipv4Addr, Ipv6Addr};

use super::rng::SplitMix64;

// ---------------------------------------------------------------- DNS

/// Length of the DNS header (RFC 1035 §4.1.1).
pub const DNS_HEADER_LEN: usize = 12;
/// QR bit: the message is a response (RFC 1035 §4.1.1).
pub const DNS_FLAG_QR: u16 = 0x8000;
/// AA bit: authoritative answer (RFC 1035 §4.1.1).
pub const DNS_FLAG_AA: u16 = 0x0400;
/// TC bit: truncated (RFC 1035 §4.1.1).
pub const DNS_FLAG_TC: u16 = 0x0200;
/// RD bit: recursion desired (RFC 1035 §4.1.1).
pub const DNS_FLAG_RD: u16 = 0x0100;
/// RA bit: recursion available (RFC 1035 §4.1.1).
pub const DNS_FLAG_RA: u16 = 0x0080;
/// AD bit: authentic data (RFC 4035 §3.2.3).
pub const DNS_FLAG_AD: u16 = 0x0020;
/// CD bit: checking disabled (RFC 4035 §3.2.2).
pub const DNS_FLAG_CD: u16 = 0x0010;
/// RCODE NOERROR (RFC 1035 §4.1.1).
pub const RCODE_NOERROR: u8 = 0;
/// RCODE FORMERR.
pub const RCODE_FORMERR: u8 = 1;
/// RCODE SERVFAIL.
pub const RCODE_SERVFAIL: u8 = 2;
/// RCODE NXDOMAIN.
pub const RCODE_NXDOMAIN: u8 = 3;
/// RCODE REFUSED.
pub const RCODE_REFUSED: u8 = 5;

// RR types (IANA "Resource Record (RR) TYPEs").
/// A (RFC 1035 §3.4.1).
pub const TYPE_A: u16 = 1;
/// NS (RFC 1035 §3.3.11).
pub const TYPE_NS: u16 = 2;
/// CNAME (RFC 1035 §3.3.1).
pub const TYPE_CNAME: u16 = 5;
/// SOA (RFC 1035 §3.3.13).
pub const TYPE_SOA: u16 = 6;
/// PTR (RFC 1035 §3.3.12).
pub const TYPE_PTR: u16 = 12;
/// MX (RFC 1035 §3.3.9).
pub const TYPE_MX: u16 = 15;
/// TXT (RFC 1035 §3.3.14).
pub const TYPE_TXT: u16 = 16;
/// AAAA (RFC 3596 §2.1).
pub const TYPE_AAAA: u16 = 28;
/// OPT pseudo-RR (RFC 6891 §6.1.1).
pub const TYPE_OPT: u16 = 41;
/// SVCB (RFC 9460 §2).
pub const TYPE_SVCB: u16 = 64;
/// HTTPS (RFC 9460 §9).
pub const TYPE_HTTPS: u16 = 65;
/// Class IN (RFC 1035 §3.2.4).
pub const CLASS_IN: u16 = 1;
/// DO bit in the OPT TTL field (RFC 3225 §3).
const EDNS_DO: u32 = 0x8000;
/// Compression pointer marker: top two bits of a length byte (RFC 1035 §4.1.4).
pub const DNS_POINTER: u8 = 0xC0;
/// Highest offset a compression pointer can reach (14 bits).
const DNS_MAX_POINTER: usize = 0x3FFF;
/// Maximum label length (RFC 1035 §2.3.4).
const DNS_MAX_LABEL: usize = 63;

// SvcParamKeys (RFC 9460 §14.3.2).
/// mandatory.
const SVC_MANDATORY: u16 = 0;
/// alpn.
const SVC_ALPN: u16 = 1;
/// no-default-alpn.
const SVC_NO_DEFAULT_ALPN: u16 = 2;
/// port.
const SVC_PORT: u16 = 3;
/// ipv4hint.
const SVC_IPV4HINT: u16 = 4;
/// ech.
const SVC_ECH: u16 = 5;
/// ipv6hint.
const SVC_IPV6HINT: u16 = 6;

/// A service parameter of an SVCB/HTTPS record (RFC 9460 §7).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SvcParam {
    /// mandatory keys.
    Mandatory(Vec<u16>),
    /// ALPN protocol IDs.
    Alpn(Vec<String>),
    /// no-default-alpn.
    NoDefaultAlpn,
    /// Port.
    Port(u16),
    /// IPv4 hints.
    Ipv4Hint(Vec<Ipv4Addr>),
    /// An ECHConfigList, opaque.
    Ech(Vec<u8>),
    /// IPv6 hints.
    Ipv6Hint(Vec<Ipv6Addr>),
    /// Any key with a raw value.
    Raw {
        /// Key.
        key: u16,
        /// Value.
        value: Vec<u8>,
    },
}

impl SvcParam {
    fn encode_into(&self, out: &mut Vec<u8>) {
        let (key, value): (u16, Vec<u8>) = match self {
            SvcParam::Mandatory(keys) => (
                SVC_MANDATORY,
                keys.iter().flat_map(|k| k.to_be_bytes()).collect(),
            ),
            SvcParam::Alpn(ids) => {
                let mut v = Vec::new();
                for id in ids {
                    v.push(id.len().min(255) as u8);
                    v.extend_from_slice(&id.as_bytes()[..id.len().min(255)]);
                }
                (SVC_ALPN, v)
            }
            SvcParam::NoDefaultAlpn => (SVC_NO_DEFAULT_ALPN, Vec::new()),
            SvcParam::Port(p) => (SVC_PORT, p.to_be_bytes().to_vec()),
            SvcParam::Ipv4Hint(a) => (SVC_IPV4HINT, a.iter().flat_map(|x| x.octets()).collect()),
            SvcParam::Ech(c) => (SVC_ECH, c.clone()),
            SvcParam::Ipv6Hint(a) => (SVC_IPV6HINT, a.iter().flat_map(|x| x.octets()).collect()),
            SvcParam::Raw { key, value } => (*key, value.clone()),
        };
        out.extend_from_slice(&key.to_be_bytes());
        out.extend_from_slice(&(value.len() as u16).to_be_bytes());
        out.extend_from_slice(&value);
    }
}

/// Record data. Names inside CNAME, NS, PTR, MX and SOA are compressed; the
/// SVCB/HTTPS target is not (RFC 9460 §2.2).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RData {
    /// IPv4 address.
    A(Ipv4Addr),
    /// IPv6 address.
    Aaaa(Ipv6Addr),
    /// Canonical name.
    Cname(String),
    /// Name server.
    Ns(String),
    /// Pointer.
    Ptr(String),
    /// Mail exchange.
    Mx {
        /// Preference.
        preference: u16,
        /// Exchange host.
        exchange: String,
    },
    /// Character strings (each at most 255 bytes).
    Txt(Vec<Vec<u8>>),
    /// Start of authority.
    Soa {
        /// Primary name server.
        mname: String,
        /// Responsible mailbox.
        rname: String,
        /// Serial.
        serial: u32,
        /// Refresh.
        refresh: u32,
        /// Retry.
        retry: u32,
        /// Expire.
        expire: u32,
        /// Minimum / negative TTL.
        minimum: u32,
    },
    /// SVCB or HTTPS data.
    Svcb {
        /// SvcPriority (0 = alias mode).
        priority: u16,
        /// TargetName ("." is written as the root).
        target: String,
        /// Parameters, written in the given order (RFC 9460 wants ascending keys).
        params: Vec<SvcParam>,
    },
    /// EDNS options as (code, data).
    Opt(Vec<(u16, Vec<u8>)>),
    /// Opaque RDATA for any type.
    Raw(Vec<u8>),
}

/// A resource record. For OPT the class is the UDP payload size and the TTL
/// holds extended RCODE, version and flags (RFC 6891 §6.1.3).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DnsRecord {
    /// Owner name.
    pub name: String,
    /// Type.
    pub rtype: u16,
    /// Class.
    pub class: u16,
    /// TTL.
    pub ttl: u32,
    /// Data.
    pub rdata: RData,
}

impl DnsRecord {
    fn new(name: &str, rtype: u16, ttl: u32, rdata: RData) -> Self {
        Self {
            name: name.to_string(),
            rtype,
            class: CLASS_IN,
            ttl,
            rdata,
        }
    }

    /// An A record.
    pub fn a(name: &str, ttl: u32, addr: Ipv4Addr) -> Self {
        Self::new(name, TYPE_A, ttl, RData::A(addr))
    }

    /// An AAAA record.
    pub fn aaaa(name: &str, ttl: u32, addr: Ipv6Addr) -> Self {
        Self::new(name, TYPE_AAAA, ttl, RData::Aaaa(addr))
    }

    /// A CNAME record.
    pub fn cname(name: &str, ttl: u32, target: &str) -> Self {
        Self::new(name, TYPE_CNAME, ttl, RData::Cname(target.to_string()))
    }

    /// An NS record.
    pub fn ns(name: &str, ttl: u32, host: &str) -> Self {
        Self::new(name, TYPE_NS, ttl, RData::Ns(host.to_string()))
    }

    /// An MX record.
    pub fn mx(name: &str, ttl: u32, preference: u16, exchange: &str) -> Self {
        Self::new(
            name,
            TYPE_MX,
            ttl,
            RData::Mx {
                preference,
                exchange: exchange.to_string(),
            },
        )
    }

    /// A TXT record with one character string per element.
    pub fn txt(name: &str, ttl: u32, strings: &[&[u8]]) -> Self {
        Self::new(
            name,
            TYPE_TXT,
            ttl,
            RData::Txt(strings.iter().map(|s| s.to_vec()).collect()),
        )
    }

    /// An SOA record with typical timers.
    pub fn soa(name: &str, ttl: u32, mname: &str, rname: &str, serial: u32) -> Self {
        Self::new(
            name,
            TYPE_SOA,
            ttl,
            RData::Soa {
                mname: mname.to_string(),
                rname: rname.to_string(),
                serial,
                refresh: 7200,
                retry: 3600,
                expire: 1_209_600,
                minimum: 300,
            },
        )
    }

    /// An HTTPS record (type 65).
    pub fn https(name: &str, ttl: u32, priority: u16, target: &str, params: Vec<SvcParam>) -> Self {
        Self::new(
            name,
            TYPE_HTTPS,
            ttl,
            RData::Svcb {
                priority,
                target: target.to_string(),
                params,
            },
        )
    }

    /// An SVCB record (type 64).
    pub fn svcb(name: &str, ttl: u32, priority: u16, target: &str, params: Vec<SvcParam>) -> Self {
        let mut r = Self::https(name, ttl, priority, target, params);
        r.rtype = TYPE_SVCB;
        r
    }

    /// A record of any type with opaque RDATA.
    pub fn raw(name: &str, rtype: u16, ttl: u32, rdata: Vec<u8>) -> Self {
        Self::new(name, rtype, ttl, RData::Raw(rdata))
    }

    /// An EDNS(0) OPT pseudo-record (RFC 6891) with this UDP payload size and
    /// DO bit.
    pub fn opt(udp_size: u16, dnssec_ok: bool) -> Self {
        Self {
            name: String::new(),
            rtype: TYPE_OPT,
            class: udp_size,
            ttl: if dnssec_ok { EDNS_DO } else { 0 },
            rdata: RData::Opt(Vec::new()),
        }
    }
}

/// A question (RFC 1035 §4.1.2).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DnsQuestion {
    /// Name.
    pub name: String,
    /// QTYPE.
    pub qtype: u16,
    /// QCLASS.
    pub qclass: u16,
}

/// A DNS message (RFC 1035 §4.1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DnsMessage {
    /// Transaction ID.
    pub id: u16,
    /// Flags word including opcode and RCODE.
    pub flags: u16,
    /// Questions.
    pub questions: Vec<DnsQuestion>,
    /// Answer section.
    pub answers: Vec<DnsRecord>,
    /// Authority section.
    pub authorities: Vec<DnsRecord>,
    /// Additional section (OPT goes here).
    pub additionals: Vec<DnsRecord>,
}

impl DnsMessage {
    /// A recursive query (RD set) for one name and type, class IN.
    pub fn query(id: u16, name: &str, qtype: u16) -> Self {
        Self {
            id,
            flags: DNS_FLAG_RD,
            questions: vec![DnsQuestion {
                name: name.to_string(),
                qtype,
                qclass: CLASS_IN,
            }],
            answers: Vec::new(),
            authorities: Vec::new(),
            additionals: Vec::new(),
        }
    }

    /// Adds an OPT record with this UDP size and DO bit.
    pub fn with_edns(mut self, udp_size: u16, dnssec_ok: bool) -> Self {
        self.additionals.push(DnsRecord::opt(udp_size, dnssec_ok));
        self
    }

    /// A response to `query`: same ID and questions, QR and RA set, RD copied,
    /// this RCODE; an OPT record is echoed (size 1232) if the query had one.
    pub fn response_to(query: &DnsMessage, rcode: u8) -> Self {
        let mut additionals = Vec::new();
        if query.additionals.iter().any(|r| r.rtype == TYPE_OPT) {
            additionals.push(DnsRecord::opt(1232, false));
        }
        Self {
            id: query.id,
            flags: DNS_FLAG_QR
                | DNS_FLAG_RA
                | (query.flags & DNS_FLAG_RD)
                | u16::from(rcode & 0x0F),
            questions: query.questions.clone(),
            answers: Vec::new(),
            authorities: Vec::new(),
            additionals,
        }
    }

    /// A forged response in the format of the GFW's DNS injector
    /// (reverse-engineered in "Wallbleed", NDSS 2025): the query's ID and
    /// question copied, flags 0x8180 (QR, RD, RA) when the query asked for
    /// recursion and 0x8400 (QR, AA) otherwise, this one answer and nothing
    /// else: no authority records and no OPT record even when the query had
    /// one (ANCOUNT=1, NSCOUNT=0, ARCOUNT=0).
    pub fn injected_response(query: &DnsMessage, answer: DnsRecord) -> Self {
        let flags = if query.flags & DNS_FLAG_RD != 0 {
            DNS_FLAG_QR | DNS_FLAG_RD | DNS_FLAG_RA
        } else {
            DNS_FLAG_QR | DNS_FLAG_AA
        };
        Self {
            id: query.id,
            flags,
            questions: query.questions.clone(),
            answers: vec![answer],
            authorities: Vec::new(),
            additionals: Vec::new(),
        }
    }

    /// Removes any OPT record (a response that does not echo EDNS).
    pub fn without_edns(mut self) -> Self {
        self.additionals.retain(|r| r.rtype != TYPE_OPT);
        self
    }

    /// Appends an answer record.
    pub fn answer(mut self, r: DnsRecord) -> Self {
        self.answers.push(r);
        self
    }

    /// Appends an authority record.
    pub fn authority(mut self, r: DnsRecord) -> Self {
        self.authorities.push(r);
        self
    }

    /// Appends an additional record.
    pub fn additional(mut self, r: DnsRecord) -> Self {
        self.additionals.push(r);
        self
    }

    /// The wire format with name compression.
    pub fn encode(&self) -> Vec<u8> {
        let mut w = NameWriter::default();
        w.buf.extend_from_slice(&self.id.to_be_bytes());
        w.buf.extend_from_slice(&self.flags.to_be_bytes());
        for n in [
            self.questions.len(),
            self.answers.len(),
            self.authorities.len(),
            self.additionals.len(),
        ] {
            w.buf
                .extend_from_slice(&(n.min(usize::from(u16::MAX)) as u16).to_be_bytes());
        }
        for q in &self.questions {
            w.name(&q.name, true);
            w.buf.extend_from_slice(&q.qtype.to_be_bytes());
            w.buf.extend_from_slice(&q.qclass.to_be_bytes());
        }
        for r in self
            .answers
            .iter()
            .chain(&self.authorities)
            .chain(&self.additionals)
        {
            w.record(r);
        }
        w.buf
    }
}

/// Prefixes a DNS message with its 2-byte length for DNS over TCP (RFC 1035 §4.2.2).
pub fn dns_over_tcp(message: &[u8]) -> Vec<u8> {
    let mut v = (message.len().min(usize::from(u16::MAX)) as u16)
        .to_be_bytes()
        .to_vec();
    v.extend_from_slice(message);
    v
}

/// Writes names with compression: remembers where each suffix was written.
#[derive(Default)]
struct NameWriter {
    buf: Vec<u8>,
    suffixes: Vec<(String, u16)>,
}

impl NameWriter {
    fn name(&mut self, name: &str, compress: bool) {
        let labels: Vec<&str> = name
            .trim_end_matches('.')
            .split('.')
            .filter(|l| !l.is_empty())
            .collect();
        for i in 0..labels.len() {
            let suffix = labels[i..].join(".").to_ascii_lowercase();
            if compress {
                if let Some((_, off)) = self.suffixes.iter().find(|(s, _)| *s == suffix) {
                    let p = u16::from(DNS_POINTER) << 8 | off;
                    self.buf.extend_from_slice(&p.to_be_bytes());
                    return;
                }
                if self.buf.len() <= DNS_MAX_POINTER {
                    self.suffixes.push((suffix, self.buf.len() as u16));
                }
            }
            let l = &labels[i].as_bytes()[..labels[i].len().min(DNS_MAX_LABEL)];
            self.buf.push(l.len() as u8);
            self.buf.extend_from_slice(l);
        }
        self.buf.push(0);
    }

    fn record(&mut self, r: &DnsRecord) {
        self.name(&r.name, true);
        self.buf.extend_from_slice(&r.rtype.to_be_bytes());
        self.buf.extend_from_slice(&r.class.to_be_bytes());
        self.buf.extend_from_slice(&r.ttl.to_be_bytes());
        let len_at = self.buf.len();
        self.buf.extend_from_slice(&[0, 0]);
        match &r.rdata {
            RData::A(a) => self.buf.extend_from_slice(&a.octets()),
            RData::Aaaa(a) => self.buf.extend_from_slice(&a.octets()),
            RData::Cname(n) | RData::Ns(n) | RData::Ptr(n) => self.name(n, true),
            RData::Mx {
                preference,
                exchange,
            } => {
                self.buf.extend_from_slice(&preference.to_be_bytes());
                self.name(exchange, true);
            }
            RData::Txt(strings) => {
                for s in strings {
                    let s = &s[..s.len().min(255)];
                    self.buf.push(s.len() as u8);
                    self.buf.extend_from_slice(s);
                }
            }
            RData::Soa {
                mname,
                rname,
                serial,
                refresh,
                retry,
                expire,
                minimum,
            } => {
                self.name(mname, true);
                self.name(rname, true);
                for v in [serial, refresh, retry, expire, minimum] {
                    self.buf.extend_from_slice(&v.to_be_bytes());
                }
            }
            RData::Svcb {
                priority,
                target,
                params,
            } => {
                self.buf.extend_from_slice(&priority.to_be_bytes());
                self.name(target, false);
                for p in params {
                    p.encode_into(&mut self.buf);
                }
            }
            RData::Opt(opts) => {
                for (code, data) in opts {
                    self.buf.extend_from_slice(&code.to_be_bytes());
                    self.buf
                        .extend_from_slice(&(data.len() as u16).to_be_bytes());
                    self.buf.extend_from_slice(data);
                }
            }
            RData::Raw(b) => self.buf.extend_from_slice(b),
        }
        let rdlen = (self.buf.len() - len_at - 2).min(usize::from(u16::MAX)) as u16;
        self.buf[len_at..len_at + 2].copy_from_slice(&rdlen.to_be_bytes());
    }
}

// ---------------------------------------------------------------- TLS

/// TLS record content type change_cipher_spec (RFC 8446 §5.1).
pub const TLS_CHANGE_CIPHER_SPEC: u8 = 20;
/// TLS record content type alert.
pub const TLS_ALERT: u8 = 21;
/// TLS record content type handshake.
pub const TLS_HANDSHAKE: u8 = 22;
/// TLS record content type application_data.
pub const TLS_APPLICATION_DATA: u8 = 23;
/// Handshake type client_hello (RFC 8446 §4).
pub const HS_CLIENT_HELLO: u8 = 1;
/// Handshake type server_hello.
pub const HS_SERVER_HELLO: u8 = 2;
/// Handshake type certificate.
pub const HS_CERTIFICATE: u8 = 11;
/// Handshake type server_key_exchange (RFC 5246 §7.4.3).
pub const HS_SERVER_KEY_EXCHANGE: u8 = 12;
/// Handshake type server_hello_done (RFC 5246 §7.4).
pub const HS_SERVER_HELLO_DONE: u8 = 14;
/// Handshake type client_key_exchange (RFC 5246 §7.4.7).
pub const HS_CLIENT_KEY_EXCHANGE: u8 = 16;
/// TLS 1.0 version number (legacy record version of many ClientHellos).
pub const TLS_1_0: u16 = 0x0301;
/// TLS 1.2 version number.
pub const TLS_1_2: u16 = 0x0303;
/// TLS 1.3 version number (RFC 8446 §4.2.1).
pub const TLS_1_3: u16 = 0x0304;
/// Maximum plaintext fragment length of a record (RFC 8446 §5.1).
pub const TLS_MAX_FRAGMENT: usize = 16_384;
/// Length of a TLS record header.
pub const TLS_RECORD_HEADER_LEN: usize = 5;

// Extension types (IANA "TLS ExtensionType Values").
/// server_name (RFC 6066 §3).
pub const EXT_SERVER_NAME: u16 = 0;
/// status_request (RFC 6066 §8).
const EXT_STATUS_REQUEST: u16 = 5;
/// supported_groups (RFC 8422 §5.1.1).
const EXT_SUPPORTED_GROUPS: u16 = 10;
/// ec_point_formats (RFC 8422 §5.1.2).
const EXT_EC_POINT_FORMATS: u16 = 11;
/// signature_algorithms (RFC 8446 §4.2.3).
const EXT_SIGNATURE_ALGORITHMS: u16 = 13;
/// application_layer_protocol_negotiation (RFC 7301 §3.1).
pub const EXT_ALPN: u16 = 16;
/// padding (RFC 7685).
pub const EXT_PADDING: u16 = 21;
/// extended_master_secret (RFC 7627).
const EXT_EXTENDED_MASTER_SECRET: u16 = 23;
/// session_ticket (RFC 5077).
const EXT_SESSION_TICKET: u16 = 35;
/// supported_versions (RFC 8446 §4.2.1).
pub const EXT_SUPPORTED_VERSIONS: u16 = 43;
/// psk_key_exchange_modes (RFC 8446 §4.2.9).
const EXT_PSK_KEY_EXCHANGE_MODES: u16 = 45;
/// key_share (RFC 8446 §4.2.8).
pub const EXT_KEY_SHARE: u16 = 51;
/// encrypted_client_hello (draft-ietf-tls-esni, code point 0xfe0d).
pub const EXT_ECH: u16 = 0xFE0D;
/// renegotiation_info (RFC 5746).
const EXT_RENEGOTIATION_INFO: u16 = 0xFF01;
/// SNI name type host_name (RFC 6066 §3).
const SNI_HOST_NAME: u8 = 0;

// Named groups (IANA "TLS Supported Groups").
/// secp256r1 (RFC 8422).
pub const GROUP_SECP256R1: u16 = 0x0017;
/// x25519 (RFC 8422); 32-byte key shares.
pub const GROUP_X25519: u16 = 0x001D;
/// X25519MLKEM768 (draft-ietf-tls-ecdhe-mlkem); the client share is 1216
/// bytes, the server share 1120.
pub const GROUP_X25519_MLKEM768: u16 = 0x11EC;
/// Client key-share size of X25519MLKEM768.
pub const X25519_MLKEM768_CLIENT_SHARE_LEN: usize = 1216;
/// Server key-share size of X25519MLKEM768.
pub const X25519_MLKEM768_SERVER_SHARE_LEN: usize = 1120;

// Cipher suites (IANA "TLS Cipher Suites").
/// TLS_AES_128_GCM_SHA256 (RFC 8446 §B.4).
pub const TLS_AES_128_GCM_SHA256: u16 = 0x1301;
/// TLS_AES_256_GCM_SHA384.
pub const TLS_AES_256_GCM_SHA384: u16 = 0x1302;
/// TLS_CHACHA20_POLY1305_SHA256.
pub const TLS_CHACHA20_POLY1305_SHA256: u16 = 0x1303;
/// TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 (RFC 5289).
pub const TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256: u16 = 0xC02B;
/// TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 (RFC 5289).
pub const TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256: u16 = 0xC02F;

// Alerts (RFC 8446 §6).
/// Alert level warning.
pub const ALERT_WARNING: u8 = 1;
/// Alert level fatal.
pub const ALERT_FATAL: u8 = 2;
/// close_notify.
pub const ALERT_CLOSE_NOTIFY: u8 = 0;
/// handshake_failure.
pub const ALERT_HANDSHAKE_FAILURE: u8 = 40;
/// access_denied.
pub const ALERT_ACCESS_DENIED: u8 = 49;
/// internal_error.
pub const ALERT_INTERNAL_ERROR: u8 = 80;
/// unrecognized_name (RFC 6066 §3).
pub const ALERT_UNRECOGNIZED_NAME: u8 = 112;

/// Mixed into a [`ClientHello`] seed so client and server filler differ.
const CLIENT_HELLO_SALT: u64 = 0x00C1_1E17_E110;
/// Mixed into a [`ServerHello`] seed.
const SERVER_HELLO_SALT: u64 = 0x005E_4EE4_E110;

/// A GREASE value (RFC 8701 §2): 0x0A0A, 0x1A1A, ... 0xFAFA.
pub fn grease_value(index: u8) -> u16 {
    let n = u16::from(index & 0x0F);
    (n << 12) | 0x0A00 | (n << 4) | 0x0A
}

fn push_u16(v: &mut Vec<u8>, x: u16) {
    v.extend_from_slice(&x.to_be_bytes());
}

fn push_u24(v: &mut Vec<u8>, x: usize) {
    let x = x.min(0xFF_FFFF) as u32;
    v.extend_from_slice(&x.to_be_bytes()[1..]);
}

fn push_ext(v: &mut Vec<u8>, ext_type: u16, data: &[u8]) {
    push_u16(v, ext_type);
    push_u16(v, data.len().min(usize::from(u16::MAX)) as u16);
    v.extend_from_slice(data);
}

/// Wraps a fragment in one TLS record (content type, version, length).
pub fn tls_record(content_type: u8, version: u16, fragment: &[u8]) -> Vec<u8> {
    let mut r = Vec::with_capacity(TLS_RECORD_HEADER_LEN + fragment.len());
    r.push(content_type);
    push_u16(&mut r, version);
    push_u16(&mut r, fragment.len().min(usize::from(u16::MAX)) as u16);
    r.extend_from_slice(fragment);
    r
}

/// Wraps data in as many records as needed (at most 16384 bytes each).
pub fn tls_records(content_type: u8, version: u16, data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    for chunk in data.chunks(TLS_MAX_FRAGMENT) {
        out.extend_from_slice(&tls_record(content_type, version, chunk));
    }
    if data.is_empty() {
        out.extend_from_slice(&tls_record(content_type, version, &[]));
    }
    out
}

/// A handshake message: type, 24-bit length, body (RFC 8446 §4).
pub fn tls_handshake(msg_type: u8, body: &[u8]) -> Vec<u8> {
    let mut m = vec![msg_type];
    push_u24(&mut m, body.len());
    m.extend_from_slice(body);
    m
}

/// A ChangeCipherSpec record (the TLS 1.3 middlebox-compatibility one too).
pub fn tls_change_cipher_spec() -> Vec<u8> {
    tls_record(TLS_CHANGE_CIPHER_SPEC, TLS_1_2, &[1])
}

/// A plaintext alert record.
pub fn tls_alert(level: u8, description: u8) -> Vec<u8> {
    tls_record(TLS_ALERT, TLS_1_2, &[level, description])
}

/// An application-data record of `len` opaque pseudo-random bytes (what
/// encrypted traffic looks like on the wire).
pub fn tls_application_data(len: usize, seed: u64) -> Vec<u8> {
    tls_record(
        TLS_APPLICATION_DATA,
        TLS_1_2,
        &SplitMix64::new(seed).bytes(len),
    )
}

/// A TLS 1.2 Certificate handshake message carrying these DER blobs
/// (RFC 5246 §7.4.2).
pub fn tls12_certificate(certs: &[Vec<u8>]) -> Vec<u8> {
    let mut list = Vec::new();
    for c in certs {
        push_u24(&mut list, c.len());
        list.extend_from_slice(c);
    }
    let mut body = Vec::new();
    push_u24(&mut body, list.len());
    body.extend_from_slice(&list);
    tls_handshake(HS_CERTIFICATE, &body)
}

/// Length of an x25519 public key (RFC 7748 §6.1).
const X25519_KEY_LEN: usize = 32;
/// Length of the signature in a ServerKeyExchange made with an RSA-2048 key.
const RSA_2048_SIGNATURE_LEN: usize = 256;
/// A TLS 1.2 AES-GCM Finished record body: 8-byte explicit nonce, 16 bytes of handshake
/// (header and 12-byte verify_data), 16-byte tag (RFC 5288 §3).
const TLS12_GCM_FINISHED_LEN: usize = 40;
/// ECParameters curve_type named_curve (RFC 8422 §5.4).
const EC_CURVE_TYPE_NAMED: u8 = 3;
/// SignatureScheme rsa_pss_rsae_sha256 (RFC 8446 §4.2.3), also used by TLS 1.2 peers.
const SIG_RSA_PSS_RSAE_SHA256: u16 = 0x0804;
/// Mixed into the seed of a TLS 1.2 key exchange.
const KEY_EXCHANGE_SALT: u64 = 0x0001_2EC0_0E5C;

/// A plaintext TLS 1.2 server flight, one record per handshake message as OpenSSL sends it:
/// `hello`, a Certificate carrying `chain` (leaf first), an ECDHE ServerKeyExchange (x25519
/// share and a 256-byte signature) when `ecdhe`, then ServerHelloDone (RFC 5246 §7.3).
pub fn tls12_server_flight(
    hello: &ServerHello,
    chain: &[Vec<u8>],
    ecdhe: bool,
    seed: u64,
) -> Vec<u8> {
    let mut out = hello.record();
    out.extend(tls_records(
        TLS_HANDSHAKE,
        TLS_1_2,
        &tls12_certificate(chain),
    ));
    if ecdhe {
        let mut rng = SplitMix64::new(seed ^ KEY_EXCHANGE_SALT);
        let mut body = vec![EC_CURVE_TYPE_NAMED];
        push_u16(&mut body, GROUP_X25519);
        body.push(X25519_KEY_LEN as u8);
        body.extend(rng.bytes(X25519_KEY_LEN));
        push_u16(&mut body, SIG_RSA_PSS_RSAE_SHA256);
        push_u16(&mut body, RSA_2048_SIGNATURE_LEN as u16);
        body.extend(rng.bytes(RSA_2048_SIGNATURE_LEN));
        out.extend(tls_record(
            TLS_HANDSHAKE,
            TLS_1_2,
            &tls_handshake(HS_SERVER_KEY_EXCHANGE, &body),
        ));
    }
    out.extend(tls_record(
        TLS_HANDSHAKE,
        TLS_1_2,
        &tls_handshake(HS_SERVER_HELLO_DONE, &[]),
    ));
    out
}

/// The client's second TLS 1.2 ECDHE flight: ClientKeyExchange with an x25519 share,
/// ChangeCipherSpec, then the encrypted Finished (an AES-GCM handshake record).
pub fn tls12_client_key_exchange(seed: u64) -> Vec<u8> {
    let mut rng = SplitMix64::new(seed ^ KEY_EXCHANGE_SALT ^ CLIENT_HELLO_SALT);
    let mut body = vec![X25519_KEY_LEN as u8];
    body.extend(rng.bytes(X25519_KEY_LEN));
    let mut out = tls_record(
        TLS_HANDSHAKE,
        TLS_1_2,
        &tls_handshake(HS_CLIENT_KEY_EXCHANGE, &body),
    );
    out.extend(tls_change_cipher_spec());
    out.extend(tls_record(
        TLS_HANDSHAKE,
        TLS_1_2,
        &rng.bytes(TLS12_GCM_FINISHED_LEN),
    ));
    out
}

/// The server's last TLS 1.2 flight: ChangeCipherSpec and the encrypted Finished.
pub fn tls12_server_finished(seed: u64) -> Vec<u8> {
    let mut rng = SplitMix64::new(seed ^ KEY_EXCHANGE_SALT ^ SERVER_HELLO_SALT);
    let mut out = tls_change_cipher_spec();
    out.extend(tls_record(
        TLS_HANDSHAKE,
        TLS_1_2,
        &rng.bytes(TLS12_GCM_FINISHED_LEN),
    ));
    out
}

/// A ClientHello description. Defaults resemble a current browser.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientHello {
    /// Record-layer version of the record(s) carrying the hello.
    pub record_version: u16,
    /// legacy_version in the hello body.
    pub legacy_version: u16,
    /// Client random; derived from `seed` when `None`.
    pub random: Option<[u8; 32]>,
    /// Legacy session ID length (32 in TLS 1.3 middlebox-compatibility mode).
    pub session_id_len: usize,
    /// Cipher suites.
    pub cipher_suites: Vec<u16>,
    /// Server name (SNI), if any.
    pub sni: Option<String>,
    /// ALPN protocol IDs; empty means no ALPN extension.
    pub alpn: Vec<String>,
    /// supported_versions; empty means no extension (a TLS 1.2-only hello).
    pub supported_versions: Vec<u16>,
    /// supported_groups.
    pub groups: Vec<u16>,
    /// key_share entries as (group, key length); the key bytes are filler.
    pub key_shares: Vec<(u16, usize)>,
    /// Outer ECH extension with a payload of this many bytes.
    pub ech_payload_len: Option<usize>,
    /// GREASE cipher suite, group, version, key share and extensions (RFC 8701).
    pub grease: bool,
    /// Padding extension bringing the handshake message to at least this length.
    pub pad_to: Option<usize>,
    /// Further extensions as (type, data), written after supported_versions (a QUIC client's
    /// quic_transport_parameters, RFC 9001 §8.2).
    pub extra_extensions: Vec<(u16, Vec<u8>)>,
    /// Seed for the random, session ID, key shares and GREASE picks.
    pub seed: u64,
}

impl ClientHello {
    /// A TLS 1.3 hello for `sni` offering h2 and http/1.1 with an x25519 share.
    pub fn new(sni: &str) -> Self {
        Self {
            record_version: TLS_1_2,
            legacy_version: TLS_1_2,
            random: None,
            session_id_len: 32,
            cipher_suites: vec![
                TLS_AES_128_GCM_SHA256,
                TLS_AES_256_GCM_SHA384,
                TLS_CHACHA20_POLY1305_SHA256,
                TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
                TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
            ],
            sni: Some(sni.to_string()),
            alpn: vec!["h2".to_string(), "http/1.1".to_string()],
            supported_versions: vec![TLS_1_3, TLS_1_2],
            groups: vec![GROUP_X25519, GROUP_SECP256R1],
            key_shares: vec![(GROUP_X25519, 32)],
            ech_payload_len: None,
            grease: false,
            pad_to: None,
            extra_extensions: Vec::new(),
            seed: 0,
        }
    }

    /// Adds a post-quantum X25519MLKEM768 share (1216 bytes) in front of the
    /// x25519 one, as current browsers do: the hello no longer fits one
    /// 1460-byte segment.
    pub fn with_post_quantum(mut self) -> Self {
        self.groups.insert(0, GROUP_X25519_MLKEM768);
        self.key_shares
            .insert(0, (GROUP_X25519_MLKEM768, X25519_MLKEM768_CLIENT_SHARE_LEN));
        self
    }

    /// The handshake message (type 1, 24-bit length, body).
    pub fn handshake(&self) -> Vec<u8> {
        let mut rng = SplitMix64::new(self.seed ^ CLIENT_HELLO_SALT);
        let random = self.random.unwrap_or_else(|| {
            let mut r = [0u8; 32];
            rng.fill(&mut r);
            r
        });
        let session_id = rng.bytes(self.session_id_len.min(32));
        let g = |rng: &mut SplitMix64| grease_value(rng.next_u32() as u8);
        let grease_ext_first = g(&mut rng);
        let mut grease_ext_last = g(&mut rng);
        if grease_ext_last == grease_ext_first {
            grease_ext_last = grease_value(((grease_ext_first >> 12) as u8).wrapping_add(1));
        }
        let grease_group = g(&mut rng);

        let mut body = Vec::new();
        push_u16(&mut body, self.legacy_version);
        body.extend_from_slice(&random);
        body.push(session_id.len() as u8);
        body.extend_from_slice(&session_id);
        let mut suites = Vec::new();
        if self.grease {
            suites.push(g(&mut rng));
        }
        suites.extend_from_slice(&self.cipher_suites);
        push_u16(&mut body, (suites.len() * 2) as u16);
        for s in suites {
            push_u16(&mut body, s);
        }
        body.push(1); // compression methods: null only
        body.push(0);

        let mut exts = Vec::new();
        if self.grease {
            push_ext(&mut exts, grease_ext_first, &[]);
        }
        if let Some(name) = &self.sni {
            let mut list = vec![SNI_HOST_NAME];
            push_u16(&mut list, name.len() as u16);
            list.extend_from_slice(name.as_bytes());
            let mut d = Vec::new();
            push_u16(&mut d, list.len() as u16);
            d.extend_from_slice(&list);
            push_ext(&mut exts, EXT_SERVER_NAME, &d);
        }
        push_ext(&mut exts, EXT_EXTENDED_MASTER_SECRET, &[]);
        push_ext(&mut exts, EXT_RENEGOTIATION_INFO, &[0]);
        {
            let mut groups = Vec::new();
            if self.grease {
                groups.push(grease_group);
            }
            groups.extend_from_slice(&self.groups);
            let mut d = Vec::new();
            push_u16(&mut d, (groups.len() * 2) as u16);
            for x in groups {
                push_u16(&mut d, x);
            }
            push_ext(&mut exts, EXT_SUPPORTED_GROUPS, &d);
        }
        push_ext(&mut exts, EXT_EC_POINT_FORMATS, &[1, 0]);
        push_ext(&mut exts, EXT_SESSION_TICKET, &[]);
        if !self.alpn.is_empty() {
            let mut list = Vec::new();
            for p in &self.alpn {
                list.push(p.len().min(255) as u8);
                list.extend_from_slice(&p.as_bytes()[..p.len().min(255)]);
            }
            let mut d = Vec::new();
            push_u16(&mut d, list.len() as u16);
            d.extend_from_slice(&list);
            push_ext(&mut exts, EXT_ALPN, &d);
        }
        push_ext(&mut exts, EXT_STATUS_REQUEST, &[1, 0, 0, 0, 0]);
        {
            // ecdsa_secp256r1_sha256, rsa_pss_rsae_sha256, rsa_pkcs1_sha256,
            // ecdsa_secp384r1_sha384, rsa_pss_rsae_sha384, rsa_pkcs1_sha384,
            // rsa_pss_rsae_sha512, rsa_pkcs1_sha512 (RFC 8446 §4.2.3).
            let algs = [
                0x0403u16, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601,
            ];
            let mut d = Vec::new();
            push_u16(&mut d, (algs.len() * 2) as u16);
            for a in algs {
                push_u16(&mut d, a);
            }
            push_ext(&mut exts, EXT_SIGNATURE_ALGORITHMS, &d);
        }
        if !self.key_shares.is_empty() || self.grease {
            let mut list = Vec::new();
            if self.grease {
                push_u16(&mut list, grease_group);
                push_u16(&mut list, 1);
                list.push(0);
            }
            for (group, len) in &self.key_shares {
                push_u16(&mut list, *group);
                push_u16(&mut list, *len as u16);
                list.extend_from_slice(&rng.bytes(*len));
            }
            let mut d = Vec::new();
            push_u16(&mut d, list.len() as u16);
            d.extend_from_slice(&list);
            push_ext(&mut exts, EXT_KEY_SHARE, &d);
        }
        push_ext(&mut exts, EXT_PSK_KEY_EXCHANGE_MODES, &[1, 1]);
        if !self.supported_versions.is_empty() {
            let mut vs = Vec::new();
            if self.grease {
                vs.push(g(&mut rng));
            }
            vs.extend_from_slice(&self.supported_versions);
            let mut d = vec![(vs.len() * 2) as u8];
            for v in vs {
                push_u16(&mut d, v);
            }
            push_ext(&mut exts, EXT_SUPPORTED_VERSIONS, &d);
        }
        for (ext_type, data) in &self.extra_extensions {
            push_ext(&mut exts, *ext_type, data);
        }
        if let Some(n) = self.ech_payload_len {
            // ECHClientHello, outer variant: type 0, HPKE suite
            // (HKDF-SHA256, AES-128-GCM), config id, enc, payload.
            let mut d = vec![0];
            push_u16(&mut d, 0x0001);
            push_u16(&mut d, 0x0001);
            d.push(rng.next_u32() as u8);
            push_u16(&mut d, 32);
            d.extend_from_slice(&rng.bytes(32));
            push_u16(&mut d, n as u16);
            d.extend_from_slice(&rng.bytes(n));
            push_ext(&mut exts, EXT_ECH, &d);
        }
        if self.grease {
            push_ext(&mut exts, grease_ext_last, &[0]);
        }
        if let Some(target) = self.pad_to {
            // handshake = 4 (header) + body + 2 (extensions length) + exts.
            let current = 4 + body.len() + 2 + exts.len();
            if current + 4 <= target {
                let pad = target - current - 4;
                push_ext(&mut exts, EXT_PADDING, &vec![0; pad]);
            }
        }
        push_u16(&mut body, exts.len().min(usize::from(u16::MAX)) as u16);
        body.extend_from_slice(&exts);
        tls_handshake(HS_CLIENT_HELLO, &body)
    }

    /// The hello in one record (or several if it exceeds 16384 bytes).
    pub fn record(&self) -> Vec<u8> {
        tls_records(TLS_HANDSHAKE, self.record_version, &self.handshake())
    }

    /// The hello split over two records, the first carrying `first_len`
    /// bytes of the handshake message (clamped to leave at least one byte
    /// for the second).
    pub fn split_records(&self, first_len: usize) -> Vec<u8> {
        let hs = self.handshake();
        let cut = first_len.clamp(1, hs.len().saturating_sub(1).max(1));
        let mut out = tls_record(TLS_HANDSHAKE, self.record_version, &hs[..cut]);
        out.extend_from_slice(&tls_record(TLS_HANDSHAKE, self.record_version, &hs[cut..]));
        out
    }
}

/// A ServerHello description.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerHello {
    /// The session ID to echo (32 bytes in TLS 1.3 compatibility mode).
    pub session_id: Vec<u8>,
    /// Chosen cipher suite.
    pub cipher_suite: u16,
    /// TLS 1.3 style: supported_versions = 0x0304 and a key share.
    pub tls13: bool,
    /// Key share as (group, length) for TLS 1.3.
    pub key_share: (u16, usize),
    /// ALPN protocol in the hello (TLS 1.2 style; TLS 1.3 sends it encrypted).
    pub alpn: Option<String>,
    /// Seed for random and key bytes.
    pub seed: u64,
}

impl ServerHello {
    /// A TLS 1.3 ServerHello with an x25519 share answering a hello with this
    /// session ID length.
    pub fn tls13(session_id: Vec<u8>, seed: u64) -> Self {
        Self {
            session_id,
            cipher_suite: TLS_AES_128_GCM_SHA256,
            tls13: true,
            key_share: (GROUP_X25519, 32),
            alpn: None,
            seed,
        }
    }

    /// A TLS 1.2 ServerHello choosing `cipher_suite`, with a fresh 32-byte session ID (RFC
    /// 5246 §7.4.1.3), renegotiation_info and extended_master_secret.
    pub fn tls12(cipher_suite: u16, seed: u64) -> Self {
        Self {
            session_id: SplitMix64::new(seed ^ SERVER_HELLO_SALT ^ 0x5E55).bytes(32),
            cipher_suite,
            tls13: false,
            key_share: (GROUP_X25519, 0),
            alpn: None,
            seed,
        }
    }

    /// The handshake message.
    pub fn handshake(&self) -> Vec<u8> {
        let mut rng = SplitMix64::new(self.seed ^ SERVER_HELLO_SALT);
        let mut body = Vec::new();
        push_u16(&mut body, TLS_1_2);
        body.extend_from_slice(&rng.bytes(32));
        body.push(self.session_id.len().min(32) as u8);
        body.extend_from_slice(&self.session_id[..self.session_id.len().min(32)]);
        push_u16(&mut body, self.cipher_suite);
        body.push(0);
        let mut exts = Vec::new();
        if self.tls13 {
            let mut ks = Vec::new();
            push_u16(&mut ks, self.key_share.0);
            push_u16(&mut ks, self.key_share.1 as u16);
            ks.extend_from_slice(&rng.bytes(self.key_share.1));
            push_ext(&mut exts, EXT_KEY_SHARE, &ks);
            let mut v = Vec::new();
            push_u16(&mut v, TLS_1_3);
            push_ext(&mut exts, EXT_SUPPORTED_VERSIONS, &v);
        } else {
            push_ext(&mut exts, EXT_RENEGOTIATION_INFO, &[0]);
            push_ext(&mut exts, EXT_EXTENDED_MASTER_SECRET, &[]);
        }
        if let Some(p) = &self.alpn {
            let mut list = vec![p.len() as u8];
            list.extend_from_slice(p.as_bytes());
            let mut d = Vec::new();
            push_u16(&mut d, list.len() as u16);
            d.extend_from_slice(&list);
            push_ext(&mut exts, EXT_ALPN, &d);
        }
        push_u16(&mut body, exts.len() as u16);
        body.extend_from_slice(&exts);
        tls_handshake(HS_SERVER_HELLO, &body)
    }

    /// The hello in one record.
    pub fn record(&self) -> Vec<u8> {
        tls_record(TLS_HANDSHAKE, TLS_1_2, &self.handshake())
    }
}

/// The session ID a [`ClientHello`] will carry (to echo in the ServerHello).
pub fn client_hello_session_id(hello: &ClientHello) -> Vec<u8> {
    let hs = hello.handshake();
    // type(1) len(3) version(2) random(32) sid_len(1)
    let at = 4 + 2 + 32;
    let n = usize::from(hs[at]);
    hs[at + 1..at + 1 + n].to_vec()
}

// ---------------------------------------------------------------- HTTP

/// An HTTP/1.1 request (RFC 9112 §3).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpRequest {
    /// Method.
    pub method: String,
    /// Request target.
    pub path: String,
    /// Host header value (written first), if any.
    pub host: Option<String>,
    /// Further header fields in order.
    pub headers: Vec<(String, String)>,
    /// Body; a Content-Length header is added when non-empty.
    pub body: Vec<u8>,
}

impl HttpRequest {
    /// A GET with Host, User-Agent and Accept headers.
    pub fn get(host: &str, path: &str) -> Self {
        Self {
            method: "GET".to_string(),
            path: path.to_string(),
            host: Some(host.to_string()),
            headers: vec![
                ("User-Agent".to_string(), "curl/8.5.0".to_string()),
                ("Accept".to_string(), "*/*".to_string()),
            ],
            body: Vec::new(),
        }
    }

    /// Adds a header field.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }

    /// The request bytes: head and body.
    pub fn encode(&self) -> Vec<u8> {
        let mut s = format!("{} {} HTTP/1.1\r\n", self.method, self.path);
        if let Some(h) = &self.host {
            s.push_str(&format!("Host: {h}\r\n"));
        }
        for (k, v) in &self.headers {
            s.push_str(&format!("{k}: {v}\r\n"));
        }
        if !self.body.is_empty() {
            s.push_str(&format!("Content-Length: {}\r\n", self.body.len()));
        }
        s.push_str("\r\n");
        let mut b = s.into_bytes();
        b.extend_from_slice(&self.body);
        b
    }
}

/// An HTTP/1.1 response (RFC 9112 §4).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpResponse {
    /// Status code.
    pub status: u16,
    /// Reason phrase.
    pub reason: String,
    /// Header fields in order (framing headers are added automatically).
    pub headers: Vec<(String, String)>,
    /// Body.
    pub body: Vec<u8>,
    /// Send the body with chunked transfer coding in chunks of this size;
    /// `None` sends Content-Length.
    pub chunk_size: Option<usize>,
}

impl HttpResponse {
    /// A response with a text/html body and Content-Length framing.
    pub fn new(status: u16, reason: &str, body: &[u8]) -> Self {
        Self {
            status,
            reason: reason.to_string(),
            headers: vec![
                ("Server".to_string(), "nginx".to_string()),
                (
                    "Content-Type".to_string(),
                    "text/html; charset=utf-8".to_string(),
                ),
            ],
            body: body.to_vec(),
            chunk_size: None,
        }
    }

    /// Switches to chunked transfer coding with this chunk size.
    pub fn chunked(mut self, chunk_size: usize) -> Self {
        self.chunk_size = Some(chunk_size.max(1));
        self
    }

    /// Adds a header field.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }

    /// The response bytes: status line, headers, body.
    pub fn encode(&self) -> Vec<u8> {
        let mut s = format!("HTTP/1.1 {} {}\r\n", self.status, self.reason);
        for (k, v) in &self.headers {
            s.push_str(&format!("{k}: {v}\r\n"));
        }
        match self.chunk_size {
            Some(_) => s.push_str("Transfer-Encoding: chunked\r\n"),
            None => s.push_str(&format!("Content-Length: {}\r\n", self.body.len())),
        }
        s.push_str("\r\n");
        let mut b = s.into_bytes();
        match self.chunk_size {
            Some(n) => {
                for c in self.body.chunks(n) {
                    b.extend_from_slice(format!("{:x}\r\n", c.len()).as_bytes());
                    b.extend_from_slice(c);
                    b.extend_from_slice(b"\r\n");
                }
                b.extend_from_slice(b"0\r\n\r\n");
            }
            None => b.extend_from_slice(&self.body),
        }
        b
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn synth_dns_query_layout() {
        let q = DnsMessage::query(0x1234, "www.example.com", TYPE_A)
            .with_edns(1232, true)
            .encode();
        assert_eq!(&q[..4], &[0x12, 0x34, 0x01, 0x00]);
        assert_eq!(&q[4..12], &[0, 1, 0, 0, 0, 0, 0, 1]);
        assert_eq!(&q[12..29], b"\x03www\x07example\x03com\x00");
        assert_eq!(&q[29..33], &[0, 1, 0, 1]);
        // OPT: root, type 41, class 1232, ttl with DO, rdlen 0.
        assert_eq!(&q[33..], &[0, 0, 41, 0x04, 0xD0, 0, 0, 0x80, 0, 0, 0]);
    }

    #[test]
    fn synth_dns_response_uses_compression_pointers() {
        let q = DnsMessage::query(7, "www.example.com", TYPE_HTTPS);
        let r = DnsMessage::response_to(&q, RCODE_NOERROR)
            .answer(DnsRecord::cname("www.example.com", 300, "cdn.example.com"))
            .answer(DnsRecord::https(
                "cdn.example.com",
                300,
                1,
                ".",
                vec![
                    SvcParam::Alpn(vec!["h2".into(), "h3".into()]),
                    SvcParam::Ipv4Hint(vec![Ipv4Addr::new(192, 0, 2, 1)]),
                    SvcParam::Ipv6Hint(vec!["2001:db8::1".parse().unwrap()]),
                ],
            ))
            .authority(DnsRecord::soa(
                "example.com",
                60,
                "ns1.example.com",
                "hostmaster.example.com",
                2024,
            ))
            .encode();
        assert_eq!(u16::from_be_bytes([r[2], r[3]]), 0x8180);
        // First answer owner is a pointer to the question name at offset 12.
        let a0 = 12 + 17 + 4;
        assert_eq!(&r[a0..a0 + 2], &[0xC0, 12]);
        // CNAME target: "cdn" label then a pointer to "example.com" at 16.
        let rd = a0 + 2 + 10;
        assert_eq!(&r[rd..rd + 6], &[3, b'c', b'd', b'n', 0xC0, 16]);
        // HTTPS owner points at the CNAME target.
        let a1 = rd + 6;
        assert_eq!(&r[a1..a1 + 2], &[0xC0, rd as u8]);
        assert_eq!(&r[a1 + 2..a1 + 4], &[0, 65]);
        // Priority 1, root target, alpn key 1 length 6.
        let s = a1 + 12;
        assert_eq!(&r[s..s + 9], &[0, 1, 0, 0, 1, 0, 6, 2, b'h']);
        assert!(r.len() < 200);
    }

    #[test]
    fn synth_dns_injected_response_has_the_injector_layout() {
        let q = DnsMessage::query(0xBEEF, "www.blocked-site.com", TYPE_AAAA).with_edns(1232, false);
        let forged = DnsMessage::injected_response(
            &q,
            DnsRecord::a("www.blocked-site.com", 60, Ipv4Addr::new(8, 7, 198, 45)),
        )
        .encode();
        // ID, flags 0x8180, QD=1 AN=1 NS=0 AR=0.
        assert_eq!(
            &forged[..12],
            &[0xBE, 0xEF, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0]
        );
        // The question is copied byte for byte (AAAA), the answer is an A
        // record whose owner is the pointer c0 0c, and nothing follows it.
        let qlen = 22 + 4;
        assert_eq!(&forged[12..12 + qlen], &q.encode()[12..12 + qlen]);
        let a = 12 + qlen;
        assert_eq!(&forged[a..a + 4], &[0xC0, 0x0C, 0, 1]);
        assert_eq!(&forged[a + 10..a + 12], &[0, 4]);
        assert_eq!(&forged[a + 12..], &[8, 7, 198, 45]);
        // Without RD the injector answers "authoritatively".
        let mut plain = DnsMessage::query(1, "a.blocked-site.com", TYPE_A);
        plain.flags = 0;
        let r = DnsMessage::injected_response(
            &plain,
            DnsRecord::a("a.blocked-site.com", 60, Ipv4Addr::new(8, 7, 198, 45)),
        );
        assert_eq!(r.flags, 0x8400);
        // A resolver's response drops its OPT echo on request.
        let echoed = DnsMessage::response_to(&q, RCODE_NOERROR);
        assert_eq!(echoed.additionals.len(), 1);
        assert!(echoed.without_edns().additionals.is_empty());
    }

    #[test]
    fn synth_dns_over_tcp_prefix() {
        assert_eq!(dns_over_tcp(&[1, 2, 3]), vec![0, 3, 1, 2, 3]);
    }

    #[test]
    fn synth_client_hello_parses_with_tls_parser() {
        let mut ch = ClientHello::new("www.example.com").with_post_quantum();
        ch.grease = true;
        ch.ech_payload_len = Some(200);
        let rec = ch.record();
        assert!(
            rec.len() > 1460,
            "post-quantum hello should exceed a segment"
        );
        let (rest, plain) = tls_parser::parse_tls_plaintext(&rec).unwrap();
        assert!(rest.is_empty());
        let tls_parser::TlsMessage::Handshake(tls_parser::TlsMessageHandshake::ClientHello(c)) =
            &plain.msg[0]
        else {
            panic!("not a client hello")
        };
        let exts = tls_parser::parse_tls_client_hello_extensions(c.ext.unwrap())
            .unwrap()
            .1;
        let sni = exts.iter().find_map(|e| match e {
            tls_parser::TlsExtension::SNI(v) => Some(v[0].1),
            _ => None,
        });
        assert_eq!(sni, Some(&b"www.example.com"[..]));
        let alpn = exts.iter().find_map(|e| match e {
            tls_parser::TlsExtension::ALPN(v) => Some(v.clone()),
            _ => None,
        });
        assert_eq!(alpn, Some(vec![&b"h2"[..], &b"http/1.1"[..]]));
        // Deterministic.
        assert_eq!(rec, ch.record());
        // Padding brings the message to the target length.
        let mut small = ClientHello::new("a.example");
        small.pad_to = Some(512);
        assert_eq!(small.handshake().len(), 512);
    }

    #[test]
    fn synth_client_hello_split_over_two_records() {
        let ch = ClientHello::new("split.example");
        let hs = ch.handshake();
        let two = ch.split_records(100);
        assert_eq!(two.len(), hs.len() + 10);
        assert_eq!(&two[..5], &[22, 3, 3, 0, 100]);
        assert_eq!(&two[5..105], &hs[..100]);
        assert_eq!(two[105], 22);
        assert_eq!(&two[110..], &hs[100..]);
    }

    #[test]
    fn synth_server_hello_and_small_records() {
        let ch = ClientHello::new("x.example");
        let sid = client_hello_session_id(&ch);
        assert_eq!(sid.len(), 32);
        let sh = ServerHello::tls13(sid, 1).record();
        let (rest, plain) = tls_parser::parse_tls_plaintext(&sh).unwrap();
        assert!(rest.is_empty());
        assert!(matches!(
            plain.msg[0],
            tls_parser::TlsMessage::Handshake(tls_parser::TlsMessageHandshake::ServerHello(_))
        ));
        assert_eq!(tls_change_cipher_spec(), vec![20, 3, 3, 0, 1, 1]);
        assert_eq!(tls_alert(2, 40), vec![21, 3, 3, 0, 2, 2, 40]);
        assert_eq!(tls_application_data(10, 3).len(), 15);
        let cert = tls12_certificate(&[vec![0x30, 0x82, 0, 0]]);
        assert_eq!(&cert[..4], &[11, 0, 0, 10]);
        assert_eq!(grease_value(0), 0x0A0A);
        assert_eq!(grease_value(15), 0xFAFA);
    }

    #[test]
    fn synth_http_messages_parse_with_httparse() {
        let req = HttpRequest::get("example.com", "/index.html").encode();
        let mut headers = [httparse::EMPTY_HEADER; 8];
        let mut r = httparse::Request::new(&mut headers);
        assert!(r.parse(&req).unwrap().is_complete());
        assert_eq!(r.path, Some("/index.html"));
        assert_eq!(r.headers[0].name, "Host");
        assert_eq!(r.headers[0].value, b"example.com");

        let resp = HttpResponse::new(200, "OK", b"hello world")
            .chunked(4)
            .encode();
        let mut headers = [httparse::EMPTY_HEADER; 8];
        let mut p = httparse::Response::new(&mut headers);
        let httparse::Status::Complete(n) = p.parse(&resp).unwrap() else {
            panic!()
        };
        assert_eq!(p.code, Some(200));
        assert_eq!(
            &resp[n..],
            b"4\r\nhell\r\n4\r\no wo\r\n3\r\nrld\r\n0\r\n\r\n"
        );
        let cl = HttpResponse::new(404, "Not Found", b"nope").encode();
        assert!(cl.ends_with(b"Content-Length: 4\r\n\r\nnope"));
    }
}
