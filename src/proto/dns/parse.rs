//! Parses one DNS message from bytes into an owned, best-effort [`DnsMessage`]; it keeps no state,
//! never touches flows, and never panics or allocates beyond the bounds in [`DnsLimits`].
//!
//! Parsing stops at the first structural problem (a truncated record, a pointer loop, ...) and
//! the returned message keeps everything parsed before it, with [`DnsMessage::malformed`] telling
//! what went wrong, where, and in which section. A record whose rdata does not match its type only
//! gets [`RData::Malformed`]: its length is known, so parsing continues with the next record.
//!
//! Bytes after the last record announced by the header counts are kept as
//! [`DnsMessage::trailing_bytes`] and a bounded copy in [`DnsMessage::trailing`]; injectors have
//! been seen to leak or copy bytes there.

#![cfg_attr(
    not(test),
    deny(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used)
)]

use std::net::IpAddr;

use serde::Serialize;

use super::name::{read_name, skip_name, NameError};
pub use super::name::{DnsName, MAX_LABELS, MAX_LABEL_LEN, MAX_NAME_WIRE_LEN};
use super::rdata::parse_rdata;
pub use super::rdata::{EdnsOption, RData, SvcParam, SvcbData};
pub use super::tcp::{
    DnsTcpFramer, DnsTcpMessage, FramingState, DNS_TCP_LENGTH_PREFIX, DNS_TCP_MAX_MESSAGE,
};

/// RFC 1035 §4.1.1: the header is 12 octets.
pub const HEADER_LEN: usize = 12;
/// RFC 1035 §4.1.2: QTYPE and QCLASS follow the question name (2 + 2 octets).
pub const QUESTION_FIXED_LEN: usize = 4;
/// RFC 1035 §4.1.3: TYPE, CLASS, TTL and RDLENGTH follow the owner name (2 + 2 + 4 + 2 octets).
pub const RECORD_FIXED_LEN: usize = 10;

/// Default for [`DnsLimits::max_records_per_section`].
pub const DEFAULT_MAX_RECORDS_PER_SECTION: usize = 256;
/// Default for [`DnsLimits::max_pointer_jumps`]; real encoders use one or two per name.
pub const DEFAULT_MAX_POINTER_JUMPS: usize = 32;
/// Default for [`DnsLimits::max_rdata_copy`]: bytes kept of opaque rdata, TXT, options, params.
pub const DEFAULT_MAX_RDATA_COPY: usize = 1024;
/// Default for [`DnsLimits::max_trailing_copy`]: bytes kept of data after the last record.
pub const DEFAULT_MAX_TRAILING_COPY: usize = 256;
/// Default for [`DnsLimits::max_edns_options`]: EDNS options kept per OPT record.
pub const DEFAULT_MAX_EDNS_OPTIONS: usize = 32;
/// Default for [`DnsLimits::max_svc_params`]: SvcParams kept per SVCB/HTTPS record.
pub const DEFAULT_MAX_SVC_PARAMS: usize = 32;

// RFC 1035 §4.1.1 header flag layout (bits of the 16-bit flags word).
const FLAG_QR: u16 = 0x8000;
const OPCODE_SHIFT: u16 = 11;
const OPCODE_MASK: u16 = 0x0f;
const FLAG_AA: u16 = 0x0400;
const FLAG_TC: u16 = 0x0200;
const FLAG_RD: u16 = 0x0100;
const FLAG_RA: u16 = 0x0080;
/// RFC 1035 §4.1.1 Z bit (the one left after RFC 4035 took AD and CD).
const FLAG_Z: u16 = 0x0040;
/// RFC 4035 §3.2.3.
const FLAG_AD: u16 = 0x0020;
/// RFC 4035 §3.2.2.
const FLAG_CD: u16 = 0x0010;
const RCODE_MASK: u16 = 0x000f;
/// RFC 6891 §6.1.3: DO bit in the OPT TTL's low 16 bits.
const EDNS_FLAG_DO: u16 = 0x8000;
/// RFC 6891 §6.1.3: the extended rcode is the high 8 bits of a 12-bit value.
const EXTENDED_RCODE_SHIFT: u16 = 4;

/// Bounds applied while parsing; every one that is hit is visible in the output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DnsLimits {
    /// Records (or questions) stored per section; the rest are skipped and counted in
    /// [`DnsMessage::skipped`].
    pub max_records_per_section: usize,
    /// Labels per name (at most [`MAX_LABELS`]); over it: [`DnsMalformedKind::TooManyLabels`].
    pub max_labels: usize,
    /// Compression pointers followed per name; over it: [`DnsMalformedKind::TooManyPointers`].
    pub max_pointer_jumps: usize,
    /// What to do with a pointer to a later offset (counted in [`DnsMessage::forward_pointers`]).
    pub forward_pointers: ForwardPointerPolicy,
    /// Bytes copied of opaque rdata, TXT strings, EDNS option data and unknown SvcParams; the
    /// declared length is always kept next to the copy.
    pub max_rdata_copy: usize,
    /// Bytes copied of the data following the last record ([`DnsMessage::trailing`]).
    pub max_trailing_copy: usize,
    /// EDNS options kept per OPT record; the rest are counted.
    pub max_edns_options: usize,
    /// SvcParams kept per SVCB/HTTPS record; the rest are counted.
    pub max_svc_params: usize,
}

impl Default for DnsLimits {
    fn default() -> Self {
        DnsLimits {
            max_records_per_section: DEFAULT_MAX_RECORDS_PER_SECTION,
            max_labels: MAX_LABELS,
            max_pointer_jumps: DEFAULT_MAX_POINTER_JUMPS,
            forward_pointers: ForwardPointerPolicy::Follow,
            max_rdata_copy: DEFAULT_MAX_RDATA_COPY,
            max_trailing_copy: DEFAULT_MAX_TRAILING_COPY,
            max_edns_options: DEFAULT_MAX_EDNS_OPTIONS,
            max_svc_params: DEFAULT_MAX_SVC_PARAMS,
        }
    }
}

/// How to treat a compression pointer to a later offset (RFC 1035 §4.1.4 says "prior").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum ForwardPointerPolicy {
    /// Follow it (loops are still caught) and count it.
    Follow,
    /// Stop with [`DnsMalformedKind::ForwardPointer`].
    Reject,
}

/// The only hard failure: not even a header.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DnsError {
    /// Fewer than [`HEADER_LEN`] bytes.
    #[error("DNS message of {len} bytes is shorter than the 12-byte header")]
    TooShort {
        /// Bytes available.
        len: usize,
    },
}

/// Which part of the message a problem was found in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum DnsSection {
    /// The 12-byte header.
    Header,
    /// The question section.
    Question,
    /// The answer section.
    Answer,
    /// The authority section.
    Authority,
    /// The additional section.
    Additional,
}

/// What kind of structural problem stopped parsing (or made one rdata unusable).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum DnsMalformedKind {
    /// The message ends inside an item announced by a count or length.
    Truncated,
    /// A name longer than 255 octets (RFC 1035 §2.3.4).
    NameTooLong,
    /// More labels than [`DnsLimits::max_labels`].
    TooManyLabels,
    /// A label type other than normal (00) or pointer (11) (RFC 6891 §5 deprecates the others).
    BadLabelType,
    /// A compression pointer chain that comes back to itself.
    PointerLoop,
    /// A compression pointer to a later offset, rejected by [`ForwardPointerPolicy::Reject`].
    ForwardPointer,
    /// A compression pointer beyond the end of the message.
    PointerOutOfRange,
    /// More than [`DnsLimits::max_pointer_jumps`] pointers in one name.
    TooManyPointers,
    /// Rdata whose content does not fill, or overruns, its RDLENGTH.
    BadRdataLength,
}

/// Where and why parsing stopped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DnsMalformed {
    /// What went wrong.
    pub kind: DnsMalformedKind,
    /// Byte offset in the message where it was detected.
    pub offset: usize,
    /// Section being parsed.
    pub section: DnsSection,
}

/// DNS opcode (RFC 1035 §4.1.1, 4 bits).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct Opcode(pub u8);

impl Opcode {
    /// Standard query.
    pub const QUERY: Opcode = Opcode(0);
    /// Inverse query (obsolete).
    pub const IQUERY: Opcode = Opcode(1);
    /// Server status request.
    pub const STATUS: Opcode = Opcode(2);
    /// RFC 1996 notify.
    pub const NOTIFY: Opcode = Opcode(4);
    /// RFC 2136 update.
    pub const UPDATE: Opcode = Opcode(5);
}

/// DNS response code: 4 bits in the header, 12 bits with the EDNS extension (RFC 6891 §6.1.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct Rcode(pub u16);

impl Rcode {
    /// No error.
    pub const NOERROR: Rcode = Rcode(0);
    /// Format error.
    pub const FORMERR: Rcode = Rcode(1);
    /// Server failure.
    pub const SERVFAIL: Rcode = Rcode(2);
    /// Name does not exist.
    pub const NXDOMAIN: Rcode = Rcode(3);
    /// Not implemented.
    pub const NOTIMP: Rcode = Rcode(4);
    /// Refused.
    pub const REFUSED: Rcode = Rcode(5);
    /// RFC 6891 bad EDNS version (needs the extended rcode).
    pub const BADVERS: Rcode = Rcode(16);
    /// RFC 7873 bad cookie (needs the extended rcode).
    pub const BADCOOKIE: Rcode = Rcode(23);

    /// Mnemonic for the well-known codes.
    pub fn name(self) -> Option<&'static str> {
        Some(match self.0 {
            0 => "NOERROR",
            1 => "FORMERR",
            2 => "SERVFAIL",
            3 => "NXDOMAIN",
            4 => "NOTIMP",
            5 => "REFUSED",
            6 => "YXDOMAIN",
            7 => "YXRRSET",
            8 => "NXRRSET",
            9 => "NOTAUTH",
            10 => "NOTZONE",
            16 => "BADVERS",
            23 => "BADCOOKIE",
            _ => return None,
        })
    }
}

/// Resource record type (RFC 1035 §3.2.2 and the IANA registry).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct RecordType(pub u16);

impl RecordType {
    /// IPv4 address.
    pub const A: RecordType = RecordType(1);
    /// Name server.
    pub const NS: RecordType = RecordType(2);
    /// Canonical name.
    pub const CNAME: RecordType = RecordType(5);
    /// Start of authority.
    pub const SOA: RecordType = RecordType(6);
    /// Domain name pointer.
    pub const PTR: RecordType = RecordType(12);
    /// Mail exchange.
    pub const MX: RecordType = RecordType(15);
    /// Text strings.
    pub const TXT: RecordType = RecordType(16);
    /// IPv6 address (RFC 3596).
    pub const AAAA: RecordType = RecordType(28);
    /// Service location (RFC 2782).
    pub const SRV: RecordType = RecordType(33);
    /// Delegation name (RFC 6672).
    pub const DNAME: RecordType = RecordType(39);
    /// EDNS pseudo-record (RFC 6891).
    pub const OPT: RecordType = RecordType(41);
    /// Service binding (RFC 9460).
    pub const SVCB: RecordType = RecordType(64);
    /// HTTPS service binding (RFC 9460).
    pub const HTTPS: RecordType = RecordType(65);
    /// Query for all records.
    pub const ANY: RecordType = RecordType(255);

    /// Mnemonic for the types this parser knows.
    pub fn name(self) -> Option<&'static str> {
        Some(match self {
            RecordType::A => "A",
            RecordType::NS => "NS",
            RecordType::CNAME => "CNAME",
            RecordType::SOA => "SOA",
            RecordType::PTR => "PTR",
            RecordType::MX => "MX",
            RecordType::TXT => "TXT",
            RecordType::AAAA => "AAAA",
            RecordType::SRV => "SRV",
            RecordType::DNAME => "DNAME",
            RecordType::OPT => "OPT",
            RecordType::SVCB => "SVCB",
            RecordType::HTTPS => "HTTPS",
            RecordType::ANY => "ANY",
            _ => return None,
        })
    }
}

/// Record class (RFC 1035 §3.2.4); for OPT it carries the UDP payload size instead.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct DnsClass(pub u16);

impl DnsClass {
    /// The Internet.
    pub const IN: DnsClass = DnsClass(1);
    /// Chaos (used for `version.bind` probes).
    pub const CH: DnsClass = DnsClass(3);
    /// Any class.
    pub const ANY: DnsClass = DnsClass(255);
}

/// Whether a message asks or answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum MessageKind {
    /// QR = 0.
    Query,
    /// QR = 1.
    Response,
}

/// The 12-byte header (RFC 1035 §4.1.1), counts exactly as sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct DnsHeader {
    /// Transaction id.
    pub id: u16,
    /// The raw flags word (QR, opcode, AA, TC, RD, RA, Z, AD, CD, rcode).
    pub flags: u16,
    /// QDCOUNT.
    pub qdcount: u16,
    /// ANCOUNT.
    pub ancount: u16,
    /// NSCOUNT.
    pub nscount: u16,
    /// ARCOUNT.
    pub arcount: u16,
}

impl DnsHeader {
    fn from_bytes(b: &[u8; HEADER_LEN]) -> Self {
        let [i0, i1, f0, f1, q0, q1, a0, a1, n0, n1, r0, r1] = *b;
        DnsHeader {
            id: u16::from_be_bytes([i0, i1]),
            flags: u16::from_be_bytes([f0, f1]),
            qdcount: u16::from_be_bytes([q0, q1]),
            ancount: u16::from_be_bytes([a0, a1]),
            nscount: u16::from_be_bytes([n0, n1]),
            arcount: u16::from_be_bytes([r0, r1]),
        }
    }

    /// QR: set in responses.
    pub fn qr(&self) -> bool {
        self.flags & FLAG_QR != 0
    }
    /// Query or response, from QR.
    pub fn kind(&self) -> MessageKind {
        if self.qr() {
            MessageKind::Response
        } else {
            MessageKind::Query
        }
    }
    /// The 4-bit opcode.
    pub fn opcode(&self) -> Opcode {
        // Masked to 4 bits, so the narrowing cannot lose anything.
        Opcode(((self.flags >> OPCODE_SHIFT) & OPCODE_MASK) as u8)
    }
    /// AA: authoritative answer.
    pub fn aa(&self) -> bool {
        self.flags & FLAG_AA != 0
    }
    /// TC: truncated.
    pub fn tc(&self) -> bool {
        self.flags & FLAG_TC != 0
    }
    /// RD: recursion desired.
    pub fn rd(&self) -> bool {
        self.flags & FLAG_RD != 0
    }
    /// RA: recursion available.
    pub fn ra(&self) -> bool {
        self.flags & FLAG_RA != 0
    }
    /// Z: reserved, must be zero.
    pub fn z(&self) -> bool {
        self.flags & FLAG_Z != 0
    }
    /// AD: authentic data (RFC 4035).
    pub fn ad(&self) -> bool {
        self.flags & FLAG_AD != 0
    }
    /// CD: checking disabled (RFC 4035).
    pub fn cd(&self) -> bool {
        self.flags & FLAG_CD != 0
    }
    /// The 4-bit header rcode (see [`DnsMessage::full_rcode`] for the EDNS-extended value).
    pub fn rcode(&self) -> Rcode {
        Rcode(self.flags & RCODE_MASK)
    }
}

/// One question entry (RFC 1035 §4.1.2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DnsQuestion {
    /// QNAME with the original case.
    pub name: DnsName,
    /// QTYPE.
    pub qtype: RecordType,
    /// QCLASS.
    pub qclass: DnsClass,
    /// Offset of the name in the message.
    pub offset: usize,
}

/// One resource record (RFC 1035 §4.1.3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DnsRecord {
    /// Owner name with the original case.
    pub name: DnsName,
    /// TYPE.
    pub rtype: RecordType,
    /// CLASS (UDP payload size for OPT).
    pub class: DnsClass,
    /// TTL in seconds (extended rcode, version and flags for OPT).
    pub ttl: u32,
    /// Offset of the owner name in the message.
    pub offset: usize,
    /// Offset of the rdata in the message.
    pub rdata_offset: usize,
    /// RDLENGTH.
    pub rdata_len: u16,
    /// Typed rdata.
    pub rdata: RData,
}

/// EDNS information from the first OPT pseudo-record of the additional section (RFC 6891 §6.1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Edns {
    /// Requestor's UDP payload size (the OPT CLASS field).
    pub udp_payload_size: u16,
    /// Upper 8 bits of the 12-bit rcode.
    pub extended_rcode: u8,
    /// EDNS version.
    pub version: u8,
    /// The 16 flag bits (DO is the top one).
    pub flags: u16,
    /// DO: DNSSEC OK.
    pub dnssec_ok: bool,
    /// Owner name (must be the root).
    pub owner: DnsName,
    /// Options, at most [`DnsLimits::max_edns_options`].
    pub options: Vec<EdnsOption>,
    /// Options not kept because of the limit.
    pub options_omitted: usize,
    /// Whether the option list was well formed.
    pub options_malformed: bool,
}

/// Records not stored because a section hit [`DnsLimits::max_records_per_section`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct SkippedRecords {
    /// Questions skipped.
    pub questions: usize,
    /// Answers skipped.
    pub answers: usize,
    /// Authority records skipped.
    pub authorities: usize,
    /// Additional records skipped.
    pub additionals: usize,
}

impl SkippedRecords {
    /// Sum over all sections.
    pub fn total(&self) -> usize {
        self.questions
            .saturating_add(self.answers)
            .saturating_add(self.authorities)
            .saturating_add(self.additionals)
    }
}

/// A best-effort parsed DNS message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DnsMessage {
    /// The header, counts as sent.
    pub header: DnsHeader,
    /// Questions parsed.
    pub questions: Vec<DnsQuestion>,
    /// Answer records parsed.
    pub answers: Vec<DnsRecord>,
    /// Authority records parsed.
    pub authorities: Vec<DnsRecord>,
    /// Additional records parsed, OPT included (as [`RData::Opt`]).
    pub additionals: Vec<DnsRecord>,
    /// EDNS from the first OPT record of the additional section.
    pub edns: Option<Edns>,
    /// Number of OPT records in the additional section (more than one is a FORMERR, RFC 6891).
    pub opt_records: usize,
    /// Records beyond the per-section limit, walked over but not stored.
    pub skipped: SkippedRecords,
    /// Compression pointers that pointed forward (see [`ForwardPointerPolicy`]).
    pub forward_pointers: u32,
    /// Records whose rdata is [`RData::Malformed`].
    pub malformed_rdata: usize,
    /// Bytes after the last announced record (0 when parsing stopped early).
    pub trailing_bytes: usize,
    /// The first [`DnsLimits::max_trailing_copy`] of those bytes.
    pub trailing: Vec<u8>,
    /// Total message length in bytes.
    pub len: usize,
    /// Where and why parsing stopped, if it did.
    pub malformed: Option<DnsMalformed>,
}

impl DnsMessage {
    /// Query or response, from the QR bit.
    pub fn kind(&self) -> MessageKind {
        self.header.kind()
    }

    /// Whether QR is set.
    pub fn is_response(&self) -> bool {
        self.header.qr()
    }

    /// The first question, if any was parsed.
    pub fn question(&self) -> Option<&DnsQuestion> {
        self.questions.first()
    }

    /// The 12-bit rcode: the EDNS extended rcode (if any OPT) above the 4 header bits.
    pub fn full_rcode(&self) -> Rcode {
        let high = self
            .edns
            .as_ref()
            .map_or(0, |e| u16::from(e.extended_rcode));
        Rcode((high << EXTENDED_RCODE_SHIFT) | self.header.rcode().0)
    }

    /// A and AAAA addresses in the answer section, in order.
    pub fn answer_addresses(&self) -> Vec<IpAddr> {
        self.answers
            .iter()
            .filter_map(|r| match &r.rdata {
                RData::A(a) => Some(IpAddr::V4(*a)),
                RData::Aaaa(a) => Some(IpAddr::V6(*a)),
                _ => None,
            })
            .collect()
    }

    /// ipv4hint and ipv6hint addresses of HTTPS/SVCB records in the answer section, in order.
    pub fn hint_addresses(&self) -> Vec<IpAddr> {
        let mut out = Vec::new();
        for r in &self.answers {
            if let RData::Https(s) | RData::Svcb(s) = &r.rdata {
                out.extend(s.hint_addresses());
            }
        }
        out
    }

    /// Answer addresses followed by HTTPS/SVCB hint addresses.
    pub fn all_answer_addresses(&self) -> Vec<IpAddr> {
        let mut out = self.answer_addresses();
        out.extend(self.hint_addresses());
        out
    }

    /// Follows CNAME records in the answer section from the question name.
    ///
    /// Returns `None` without a question. Owner names are matched ignoring case; the walk is
    /// bounded by the number of answers and stops on a repeated name.
    pub fn cname_chain(&self) -> Option<CnameChain> {
        let q = self.question()?;
        let mut names = vec![q.name.clone()];
        let mut looped = false;
        for _ in 0..self.answers.len() {
            let Some(current) = names.last() else { break };
            let next = self.answers.iter().find_map(|r| match &r.rdata {
                RData::Cname(target) if r.name.same_name(current) => Some(target.clone()),
                _ => None,
            });
            let Some(next) = next else { break };
            if names.iter().any(|n| n.same_name(&next)) {
                looped = true;
                break;
            }
            names.push(next);
        }
        let last = names.last().cloned().unwrap_or_else(|| q.name.clone());
        let addresses = self
            .answers
            .iter()
            .filter(|r| r.name.same_name(&last))
            .filter_map(|r| match &r.rdata {
                RData::A(a) => Some(IpAddr::V4(*a)),
                RData::Aaaa(a) => Some(IpAddr::V6(*a)),
                _ => None,
            })
            .collect();
        Some(CnameChain {
            names,
            looped,
            addresses,
        })
    }

    /// Whether any record has [`RData::Malformed`] or parsing stopped early.
    pub fn has_problems(&self) -> bool {
        self.malformed.is_some() || self.malformed_rdata > 0
    }
}

/// The CNAME chain from the question name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CnameChain {
    /// The question name, then each CNAME target in order.
    pub names: Vec<DnsName>,
    /// Whether the chain came back to a name already in it.
    pub looped: bool,
    /// A/AAAA addresses owned by the last name of the chain.
    pub addresses: Vec<IpAddr>,
}

fn be_u16_at(b: &[u8], off: usize) -> Option<u16> {
    let end = off.checked_add(2)?;
    let s: [u8; 2] = b.get(off..end)?.try_into().ok()?;
    Some(u16::from_be_bytes(s))
}

fn be_u32_at(b: &[u8], off: usize) -> Option<u32> {
    let end = off.checked_add(4)?;
    let s: [u8; 4] = b.get(off..end)?.try_into().ok()?;
    Some(u32::from_be_bytes(s))
}

/// Shared state while walking one message.
struct Walker<'a> {
    msg: &'a [u8],
    limits: &'a DnsLimits,
    pos: usize,
    forward_pointers: u32,
}

impl Walker<'_> {
    fn name(&mut self, section: DnsSection) -> Result<DnsName, DnsMalformed> {
        let read = read_name(self.msg, self.pos, self.limits).map_err(|e| at(e, section))?;
        self.forward_pointers = self.forward_pointers.saturating_add(read.forward_pointers);
        self.pos = read.next;
        Ok(read.name)
    }

    fn question(&mut self, section: DnsSection) -> Result<DnsQuestion, DnsMalformed> {
        let offset = self.pos;
        let name = self.name(section)?;
        let (Some(qtype), Some(qclass)) = (
            be_u16_at(self.msg, self.pos),
            be_u16_at(self.msg, self.pos.saturating_add(2)),
        ) else {
            return Err(truncated(self.pos, section));
        };
        self.pos = self.pos.saturating_add(QUESTION_FIXED_LEN);
        Ok(DnsQuestion {
            name,
            qtype: RecordType(qtype),
            qclass: DnsClass(qclass),
            offset,
        })
    }

    fn skip_question(&mut self, section: DnsSection) -> Result<(), DnsMalformed> {
        let after = skip_name(self.msg, self.pos).map_err(|e| at(e, section))?;
        let end = after.saturating_add(QUESTION_FIXED_LEN);
        if end > self.msg.len() {
            return Err(truncated(after, section));
        }
        self.pos = end;
        Ok(())
    }

    /// Reads the fixed part after an owner name: (type, class, ttl, rdlength, rdata offset).
    fn fixed(&self, section: DnsSection) -> Result<(u16, u16, u32, u16, usize), DnsMalformed> {
        let p = self.pos;
        let (Some(rtype), Some(class), Some(ttl), Some(rdlen)) = (
            be_u16_at(self.msg, p),
            be_u16_at(self.msg, p.saturating_add(2)),
            be_u32_at(self.msg, p.saturating_add(4)),
            be_u16_at(self.msg, p.saturating_add(8)),
        ) else {
            return Err(truncated(p, section));
        };
        let rdata_offset = p.saturating_add(RECORD_FIXED_LEN);
        if rdata_offset.saturating_add(usize::from(rdlen)) > self.msg.len() {
            return Err(truncated(p, section));
        }
        Ok((rtype, class, ttl, rdlen, rdata_offset))
    }

    fn record(&mut self, section: DnsSection) -> Result<DnsRecord, DnsMalformed> {
        let offset = self.pos;
        let name = self.name(section)?;
        let (rtype, class, ttl, rdata_len, rdata_offset) = self.fixed(section)?;
        let rtype = RecordType(rtype);
        let parsed = parse_rdata(self.msg, rtype, rdata_offset, rdata_len, self.limits);
        self.forward_pointers = self
            .forward_pointers
            .saturating_add(parsed.forward_pointers);
        self.pos = rdata_offset.saturating_add(usize::from(rdata_len));
        Ok(DnsRecord {
            name,
            rtype,
            class: DnsClass(class),
            ttl,
            offset,
            rdata_offset,
            rdata_len,
            rdata: parsed.rdata,
        })
    }

    fn skip_record(&mut self, section: DnsSection) -> Result<(), DnsMalformed> {
        self.pos = skip_name(self.msg, self.pos).map_err(|e| at(e, section))?;
        let (_, _, _, rdlen, rdata_offset) = self.fixed(section)?;
        self.pos = rdata_offset.saturating_add(usize::from(rdlen));
        Ok(())
    }

    /// Parses `count` records of one section into `out`; returns how many were skipped.
    fn records(
        &mut self,
        count: u16,
        section: DnsSection,
        out: &mut Vec<DnsRecord>,
        skipped: &mut usize,
    ) -> Result<(), DnsMalformed> {
        for _ in 0..count {
            if out.len() < self.limits.max_records_per_section {
                let r = self.record(section)?;
                out.push(r);
            } else {
                self.skip_record(section)?;
                *skipped = skipped.saturating_add(1);
            }
        }
        Ok(())
    }
}

fn at(e: NameError, section: DnsSection) -> DnsMalformed {
    DnsMalformed {
        kind: e.kind,
        offset: e.offset,
        section,
    }
}

fn truncated(offset: usize, section: DnsSection) -> DnsMalformed {
    DnsMalformed {
        kind: DnsMalformedKind::Truncated,
        offset,
        section,
    }
}

/// Parses one DNS message (as carried in a UDP payload, or a TCP message without its length
/// prefix).
///
/// Fails only when `bytes` is shorter than the 12-byte header; otherwise returns everything
/// that could be parsed, with [`DnsMessage::malformed`] set if parsing stopped early.
pub fn parse_message(bytes: &[u8], limits: &DnsLimits) -> Result<DnsMessage, DnsError> {
    let header_bytes: &[u8; HEADER_LEN] = bytes
        .get(..HEADER_LEN)
        .and_then(|h| h.try_into().ok())
        .ok_or(DnsError::TooShort { len: bytes.len() })?;
    let header = DnsHeader::from_bytes(header_bytes);
    let mut msg = DnsMessage {
        header,
        questions: Vec::new(),
        answers: Vec::new(),
        authorities: Vec::new(),
        additionals: Vec::new(),
        edns: None,
        opt_records: 0,
        skipped: SkippedRecords::default(),
        forward_pointers: 0,
        malformed_rdata: 0,
        trailing_bytes: 0,
        trailing: Vec::new(),
        len: bytes.len(),
        malformed: None,
    };
    let mut w = Walker {
        msg: bytes,
        limits,
        pos: HEADER_LEN,
        forward_pointers: 0,
    };
    let result = walk(&mut w, &mut msg);
    msg.forward_pointers = w.forward_pointers;
    msg.malformed_rdata = [&msg.answers, &msg.authorities, &msg.additionals]
        .iter()
        .flat_map(|s| s.iter())
        .filter(|r| matches!(r.rdata, RData::Malformed { .. }))
        .count();
    msg.opt_records = msg
        .additionals
        .iter()
        .filter(|r| r.rtype == RecordType::OPT)
        .count();
    msg.edns = msg.additionals.iter().find_map(edns_from_record);
    match result {
        Ok(()) => {
            let rest = bytes.get(w.pos..).unwrap_or(&[]);
            msg.trailing_bytes = rest.len();
            msg.trailing = rest
                .iter()
                .take(limits.max_trailing_copy)
                .copied()
                .collect();
        }
        Err(m) => msg.malformed = Some(m),
    }
    Ok(msg)
}

fn walk(w: &mut Walker<'_>, msg: &mut DnsMessage) -> Result<(), DnsMalformed> {
    for _ in 0..msg.header.qdcount {
        if msg.questions.len() < w.limits.max_records_per_section {
            let q = w.question(DnsSection::Question)?;
            msg.questions.push(q);
        } else {
            w.skip_question(DnsSection::Question)?;
            msg.skipped.questions = msg.skipped.questions.saturating_add(1);
        }
    }
    w.records(
        msg.header.ancount,
        DnsSection::Answer,
        &mut msg.answers,
        &mut msg.skipped.answers,
    )?;
    w.records(
        msg.header.nscount,
        DnsSection::Authority,
        &mut msg.authorities,
        &mut msg.skipped.authorities,
    )?;
    w.records(
        msg.header.arcount,
        DnsSection::Additional,
        &mut msg.additionals,
        &mut msg.skipped.additionals,
    )?;
    Ok(())
}

fn edns_from_record(r: &DnsRecord) -> Option<Edns> {
    if r.rtype != RecordType::OPT {
        return None;
    }
    let [ext, version, f0, f1] = r.ttl.to_be_bytes();
    let flags = u16::from_be_bytes([f0, f1]);
    let (options, options_omitted, options_malformed) = match &r.rdata {
        RData::Opt { options, omitted } => (options.clone(), *omitted, false),
        _ => (Vec::new(), 0, true),
    };
    Some(Edns {
        udp_payload_size: r.class.0,
        extended_rcode: ext,
        version,
        flags,
        dnssec_ok: flags & EDNS_FLAG_DO != 0,
        owner: r.name.clone(),
        options,
        options_omitted,
        options_malformed,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::net::{Ipv4Addr, Ipv6Addr};

    fn unhex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    /// tcpdump/tests/dns_udp.pcap (the-tcpdump-group/tcpdump, BSD-3-Clause), frame 1: UDP
    /// payload of a query for www.tcpdump.org A with an EDNS cookie option.
    const REAL_QUERY: &str = "593401200001000000000001037777770774637064756d70036f72670000010001\
        000029100000000000000c000a000842f5d00996f90b13";

    /// tcpdump/tests/dns_udp.pcap (the-tcpdump-group/tcpdump, BSD-3-Clause), frame 2: UDP
    /// payload of the response: 2 A answers, 2 NS, 4 glue records and an OPT.
    const REAL_RESPONSE: &str =
        "593485000001000200020005037777770774637064756d70036f72670000010001\
        c00c000100010000003c0004c08b2e42c00c000100010000003c0004c6c75868c0100002000100015180001203\
        736e7308636f6f7065726978036e657400c01000020001000151800012036e69630973616e64656c6d616e0263\
        6100c06b000100010000012c0004d157f912c06b001c00010000012c00102607f0b0000f000000000000babef0\
        0dc04d0001000100001c200004616b850fc04d001c000100001c20001026003c0300000000f03c91fffe96e8ef\
        0000291000000000000000";

    fn header(id: u16, flags: u16, counts: [u16; 4]) -> Vec<u8> {
        let mut v = Vec::new();
        v.extend_from_slice(&id.to_be_bytes());
        v.extend_from_slice(&flags.to_be_bytes());
        for c in counts {
            v.extend_from_slice(&c.to_be_bytes());
        }
        v
    }

    fn name(s: &str) -> Vec<u8> {
        let mut v = Vec::new();
        for label in s.split('.').filter(|l| !l.is_empty()) {
            v.push(label.len() as u8);
            v.extend_from_slice(label.as_bytes());
        }
        v.push(0);
        v
    }

    fn question(owner: &[u8], qtype: u16) -> Vec<u8> {
        let mut v = owner.to_vec();
        v.extend_from_slice(&qtype.to_be_bytes());
        v.extend_from_slice(&1u16.to_be_bytes());
        v
    }

    fn rr(owner: &[u8], rtype: u16, ttl: u32, rdata: &[u8]) -> Vec<u8> {
        let mut v = owner.to_vec();
        v.extend_from_slice(&rtype.to_be_bytes());
        v.extend_from_slice(&1u16.to_be_bytes());
        v.extend_from_slice(&ttl.to_be_bytes());
        v.extend_from_slice(&(rdata.len() as u16).to_be_bytes());
        v.extend_from_slice(rdata);
        v
    }

    fn parse(b: &[u8]) -> DnsMessage {
        parse_message(b, &DnsLimits::default()).unwrap()
    }

    #[test]
    fn real_response() {
        let b = unhex(REAL_RESPONSE);
        let m = parse(&b);
        assert_eq!(m.malformed, None);
        assert_eq!(m.header.id, 0x5934);
        assert!(m.is_response());
        assert_eq!(m.kind(), MessageKind::Response);
        assert!(m.header.aa());
        assert!(m.header.rd());
        assert!(!m.header.ra());
        assert!(!m.header.tc());
        assert_eq!(m.header.opcode(), Opcode::QUERY);
        assert_eq!(m.header.rcode(), Rcode::NOERROR);
        let q = m.question().unwrap();
        assert_eq!(q.name.as_str(), "www.tcpdump.org");
        assert_eq!(q.qtype, RecordType::A);
        assert_eq!(q.qclass, DnsClass::IN);
        assert_eq!(m.answers.len(), 2);
        assert_eq!(m.authorities.len(), 2);
        assert_eq!(m.additionals.len(), 5);
        assert_eq!(
            m.answer_addresses(),
            vec![
                IpAddr::V4(Ipv4Addr::new(192, 139, 46, 66)),
                IpAddr::V4(Ipv4Addr::new(198, 199, 88, 104))
            ]
        );
        assert_eq!(m.answers[0].ttl, 60);
        assert_eq!(m.answers[0].rdata_offset, 45);
        assert_eq!(m.answers[0].rdata_len, 4);
        match &m.authorities[0].rdata {
            RData::Ns(n) => assert_eq!(n.as_str(), "sns.cooperix.net"),
            other => panic!("{other:?}"),
        }
        match &m.additionals[1].rdata {
            RData::Aaaa(a) => {
                assert_eq!(
                    *a,
                    "2607:f0b0:f:0:0:0:babe:f00d".parse::<Ipv6Addr>().unwrap()
                )
            }
            other => panic!("{other:?}"),
        }
        let edns = m.edns.as_ref().unwrap();
        assert_eq!(edns.udp_payload_size, 4096);
        assert!(!edns.dnssec_ok);
        assert!(edns.owner.is_root());
        assert_eq!(m.opt_records, 1);
        assert_eq!(m.trailing_bytes, 0);
        assert_eq!(m.len, b.len());
        let chain = m.cname_chain().unwrap();
        assert_eq!(chain.names.len(), 1);
        assert_eq!(chain.addresses.len(), 2);
        assert!(!m.has_problems());
        // Serialisable for reports.
        let json = serde_json::to_string(&m).unwrap();
        assert!(json.contains("\"www.tcpdump.org\""));
    }

    #[test]
    fn real_query_with_cookie() {
        let m = parse(&unhex(REAL_QUERY));
        assert_eq!(m.malformed, None);
        assert_eq!(m.kind(), MessageKind::Query);
        assert!(!m.is_response());
        assert!(m.header.ad());
        let edns = m.edns.unwrap();
        assert_eq!(edns.options.len(), 1);
        assert_eq!(edns.options[0].code, 10);
        assert_eq!(edns.options[0].len, 8);
        assert_eq!(edns.options[0].data, unhex("42f5d00996f90b13"));
    }

    #[test]
    fn every_prefix_is_reported() {
        for full in [unhex(REAL_RESPONSE), unhex(REAL_QUERY)] {
            for cut in 0..full.len() {
                let prefix = &full[..cut];
                match parse_message(prefix, &DnsLimits::default()) {
                    Err(DnsError::TooShort { len }) => {
                        assert!(cut < HEADER_LEN);
                        assert_eq!(len, cut);
                    }
                    Ok(m) => {
                        assert!(cut >= HEADER_LEN);
                        let bad = m.malformed.expect("prefix must be malformed");
                        assert_eq!(bad.kind, DnsMalformedKind::Truncated, "cut {cut}");
                        assert!(bad.offset <= cut);
                        assert_eq!(m.trailing_bytes, 0);
                    }
                }
            }
        }
    }

    #[test]
    fn impossible_counts_stop_quickly() {
        let b = header(1, 0x8180, [u16::MAX; 4]);
        let m = parse(&b);
        assert_eq!(
            m.malformed,
            Some(DnsMalformed {
                kind: DnsMalformedKind::Truncated,
                offset: 12,
                section: DnsSection::Question
            })
        );
        assert_eq!(m.header.qdcount, u16::MAX);
    }

    #[test]
    fn rdlength_past_end() {
        let mut b = header(1, 0x8180, [1, 1, 0, 0]);
        b.extend(question(&name("a.example"), 1));
        let mut r = rr(&[0xc0, 12], 1, 5, &[1, 2, 3, 4]);
        r[11] = 0x40; // RDLENGTH 0x0040, far more than present.
        b.extend(r);
        let m = parse(&b);
        let bad = m.malformed.unwrap();
        assert_eq!(bad.kind, DnsMalformedKind::Truncated);
        assert_eq!(bad.section, DnsSection::Answer);
        assert_eq!(m.questions.len(), 1);
        assert!(m.answers.is_empty());
    }

    #[test]
    fn pointer_loop_in_question() {
        let mut b = header(1, 0, [1, 0, 0, 0]);
        b.extend_from_slice(&[0xc0, 12, 0, 1, 0, 1]);
        let m = parse(&b);
        assert_eq!(
            m.malformed,
            Some(DnsMalformed {
                kind: DnsMalformedKind::PointerLoop,
                offset: 12,
                section: DnsSection::Question
            })
        );
    }

    #[test]
    fn pointer_loop_in_rdata_is_local() {
        let mut b = header(1, 0x8180, [1, 2, 0, 0]);
        b.extend(question(&name("x.test"), 5));
        // CNAME whose target is a pointer to itself.
        let rdata_at = b.len() + 2 + 10;
        b.extend(rr(
            &[0xc0, 12],
            5,
            30,
            &[0xc0 | (rdata_at >> 8) as u8, rdata_at as u8],
        ));
        b.extend(rr(&[0xc0, 12], 1, 30, &[10, 0, 0, 1]));
        let m = parse(&b);
        assert_eq!(m.malformed, None);
        assert_eq!(m.malformed_rdata, 1);
        assert!(m.has_problems());
        assert_eq!(
            m.answers[0].rdata,
            RData::Malformed {
                rtype: RecordType::CNAME,
                kind: DnsMalformedKind::PointerLoop,
                offset: rdata_at
            }
        );
        assert_eq!(
            m.answer_addresses(),
            vec![IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1))]
        );
    }

    #[test]
    fn forward_pointer_is_counted_or_rejected() {
        // The question name is a pointer to the answer's owner name, which follows it.
        let mut b = header(1, 0x8180, [1, 1, 0, 0]);
        let owner_at = 12 + 2 + 4;
        b.extend_from_slice(&[0xc0, owner_at as u8, 0, 1, 0, 1]);
        b.extend(rr(&name("fwd.example"), 1, 1, &[1, 1, 1, 1]));
        let m = parse(&b);
        assert_eq!(m.malformed, None);
        assert_eq!(m.forward_pointers, 1);
        assert_eq!(m.question().unwrap().name.as_str(), "fwd.example");
        let strict = DnsLimits {
            forward_pointers: ForwardPointerPolicy::Reject,
            ..DnsLimits::default()
        };
        let m = parse_message(&b, &strict).unwrap();
        assert_eq!(m.malformed.unwrap().kind, DnsMalformedKind::ForwardPointer);
    }

    #[test]
    fn long_name_in_answer() {
        let mut b = header(1, 0x8180, [0, 1, 0, 0]);
        let mut long = Vec::new();
        for _ in 0..5 {
            long.push(60);
            long.extend_from_slice(&[b'z'; 60]);
        }
        long.push(0);
        b.extend(rr(&long, 1, 1, &[1, 2, 3, 4]));
        let m = parse(&b);
        let bad = m.malformed.unwrap();
        assert_eq!(bad.kind, DnsMalformedKind::NameTooLong);
        assert_eq!(bad.section, DnsSection::Answer);
    }

    #[test]
    fn bad_a_length_continues() {
        let mut b = header(1, 0x8180, [0, 2, 0, 0]);
        b.extend(rr(&name("a"), 1, 1, &[1, 2, 3, 4, 5]));
        b.extend(rr(&name("b"), 28, 1, &[0; 16]));
        let m = parse(&b);
        assert_eq!(m.malformed, None);
        assert!(matches!(
            m.answers[0].rdata,
            RData::Malformed {
                kind: DnsMalformedKind::BadRdataLength,
                ..
            }
        ));
        assert_eq!(m.answers[1].rdata, RData::Aaaa(Ipv6Addr::UNSPECIFIED));
    }

    #[test]
    fn trailing_bytes_are_kept() {
        let mut b = header(7, 0x8180, [1, 1, 0, 0]);
        b.extend(question(&name("t.example"), 1));
        b.extend(rr(&[0xc0, 12], 1, 1, &[9, 9, 9, 9]));
        let body_len = b.len();
        b.extend(vec![0xab; 300]);
        let m = parse(&b);
        assert_eq!(m.malformed, None);
        assert_eq!(m.trailing_bytes, 300);
        assert_eq!(m.trailing.len(), DEFAULT_MAX_TRAILING_COPY);
        assert_eq!(m.len, body_len + 300);
    }

    #[test]
    fn records_over_limit_are_skipped_and_counted() {
        let limits = DnsLimits {
            max_records_per_section: 2,
            ..DnsLimits::default()
        };
        let mut b = header(1, 0x8180, [3, 5, 0, 0]);
        for i in 0..3 {
            b.extend(question(&name(&format!("q{i}.example")), 1));
        }
        for i in 0..5u8 {
            b.extend(rr(&[0xc0, 12], 1, 1, &[10, 0, 0, i]));
        }
        b.extend_from_slice(b"XY");
        let m = parse_message(&b, &limits).unwrap();
        assert_eq!(m.malformed, None);
        assert_eq!(m.questions.len(), 2);
        assert_eq!(m.answers.len(), 2);
        assert_eq!(m.skipped.questions, 1);
        assert_eq!(m.skipped.answers, 3);
        assert_eq!(m.skipped.total(), 4);
        assert_eq!(m.trailing, b"XY");
    }

    #[test]
    fn zero_x20_case_is_kept() {
        let mut b = header(1, 0x8180, [1, 1, 0, 0]);
        b.extend(question(&name("wWw.GooGLe.cOm"), 1));
        b.extend(rr(&name("www.google.com"), 1, 1, &[8, 8, 8, 8]));
        let m = parse(&b);
        let q = &m.question().unwrap().name;
        assert_eq!(q.as_str(), "wWw.GooGLe.cOm");
        assert!(q.has_uppercase());
        assert_eq!(q.to_lowercase(), "www.google.com");
        assert!(!m.answers[0].name.has_uppercase());
        assert!(q.same_name(&m.answers[0].name));
    }

    #[test]
    fn typed_rdata() {
        let mut b = header(1, 0x8180, [0, 9, 0, 0]);
        let mut mx = 10u16.to_be_bytes().to_vec();
        mx.extend(name("mail.example"));
        b.extend(rr(&name("example"), 15, 1, &mx));
        b.extend(rr(&name("example"), 16, 1, b"\x05hello\x00\x03abc"));
        let mut soa = name("ns1.example");
        soa.extend(name("hostmaster.example"));
        for v in [2024u32, 7200, 3600, 1209600, 300] {
            soa.extend_from_slice(&v.to_be_bytes());
        }
        b.extend(rr(&name("example"), 6, 1, &soa));
        let mut srv = Vec::new();
        for v in [1u16, 2, 443] {
            srv.extend_from_slice(&v.to_be_bytes());
        }
        srv.extend(name("svc.example"));
        b.extend(rr(&name("_x._tcp.example"), 33, 1, &srv));
        b.extend(rr(
            &name("4.3.2.1.in-addr.arpa"),
            12,
            1,
            &name("host.example"),
        ));
        b.extend(rr(&name("old.example"), 39, 1, &name("new.example")));
        b.extend(rr(&name("example"), 99, 1, &[1, 2, 3]));
        b.extend(rr(&name("big.example"), 999, 1, &vec![7u8; 2000]));
        b.extend(rr(&name("soa.bad"), 6, 1, &name("only.one")));
        let m = parse(&b);
        assert_eq!(m.malformed, None);
        let r: Vec<&RData> = m.answers.iter().map(|r| &r.rdata).collect();
        assert!(
            matches!(r[0], RData::Mx { preference: 10, exchange } if exchange.as_str() == "mail.example")
        );
        assert_eq!(
            *r[1],
            RData::Txt {
                strings: vec![b"hello".to_vec(), vec![], b"abc".to_vec()],
                omitted_bytes: 0
            }
        );
        assert!(
            matches!(r[2], RData::Soa { serial: 2024, minimum: 300, rname, .. } if rname.as_str() == "hostmaster.example")
        );
        assert!(
            matches!(r[3], RData::Srv { port: 443, target, .. } if target.as_str() == "svc.example")
        );
        assert!(matches!(r[4], RData::Ptr(n) if n.as_str() == "host.example"));
        assert!(matches!(r[5], RData::Dname(n) if n.as_str() == "new.example"));
        assert_eq!(
            *r[6],
            RData::Other {
                rtype: RecordType(99),
                len: 3,
                bytes: vec![1, 2, 3]
            }
        );
        match r[7] {
            RData::Other { len, bytes, .. } => {
                assert_eq!(*len, 2000);
                assert_eq!(bytes.len(), DEFAULT_MAX_RDATA_COPY);
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            r[8],
            RData::Malformed {
                kind: DnsMalformedKind::BadRdataLength,
                ..
            }
        ));
    }

    #[test]
    fn txt_over_copy_limit() {
        let limits = DnsLimits {
            max_rdata_copy: 4,
            ..DnsLimits::default()
        };
        let mut b = header(1, 0x8180, [0, 1, 0, 0]);
        b.extend(rr(&name("t"), 16, 1, b"\x03abc\x03def\x02gh"));
        let m = parse_message(&b, &limits).unwrap();
        assert_eq!(
            m.answers[0].rdata,
            RData::Txt {
                strings: vec![b"abc".to_vec(), b"d".to_vec()],
                omitted_bytes: 4
            }
        );
    }

    fn svc_param(key: u16, value: &[u8]) -> Vec<u8> {
        let mut v = key.to_be_bytes().to_vec();
        v.extend_from_slice(&(value.len() as u16).to_be_bytes());
        v.extend_from_slice(value);
        v
    }

    #[test]
    fn https_record() {
        let mut rdata = 1u16.to_be_bytes().to_vec();
        rdata.push(0); // TargetName "." (the owner).
        rdata.extend(svc_param(0, &[0, 1]));
        rdata.extend(svc_param(1, b"\x02h2\x08http/1.1"));
        rdata.extend(svc_param(3, &443u16.to_be_bytes()));
        rdata.extend(svc_param(4, &[104, 16, 7, 6, 104, 16, 8, 6]));
        rdata.extend(svc_param(5, &[0xfe, 0x0d, 0, 0]));
        let mut v6 = vec![0x26, 0x06, 0x47, 0];
        v6.extend_from_slice(&[0; 11]);
        v6.push(1);
        rdata.extend(svc_param(6, &v6));
        rdata.extend(svc_param(0x1234, b"xyz"));
        rdata.extend(svc_param(3, b"bad"));
        let mut b = header(1, 0x8180, [1, 1, 0, 0]);
        b.extend(question(&name("cf.example"), 65));
        b.extend(rr(&[0xc0, 12], 65, 300, &rdata));
        let m = parse(&b);
        assert_eq!(m.malformed, None);
        let RData::Https(s) = &m.answers[0].rdata else {
            panic!("{:?}", m.answers[0].rdata)
        };
        assert_eq!(s.priority, 1);
        assert!(s.target.is_root());
        assert_eq!(
            s.alpn().unwrap(),
            ["h2".to_string(), "http/1.1".to_string()]
        );
        assert!(s.has_ech());
        assert_eq!(s.params[0], SvcParam::Mandatory(vec![1]));
        assert_eq!(s.params[2], SvcParam::Port(443));
        assert_eq!(s.params[4], SvcParam::Ech { len: 4 });
        assert_eq!(
            s.params[6],
            SvcParam::Other {
                key: 0x1234,
                len: 3,
                bytes: b"xyz".to_vec()
            }
        );
        assert!(matches!(s.params[7], SvcParam::Other { key: 3, .. }));
        assert_eq!(
            m.hint_addresses(),
            vec![
                IpAddr::V4(Ipv4Addr::new(104, 16, 7, 6)),
                IpAddr::V4(Ipv4Addr::new(104, 16, 8, 6)),
                IpAddr::V6("2606:4700::1".parse().unwrap()),
            ]
        );
        assert!(m.answer_addresses().is_empty());
        assert_eq!(m.all_answer_addresses().len(), 3);
    }

    #[test]
    fn svcb_param_with_bad_length_is_malformed() {
        let mut rdata = 1u16.to_be_bytes().to_vec();
        rdata.push(0);
        rdata.extend_from_slice(&[0, 1, 0, 9, 2]); // value runs past RDLENGTH
        let mut b = header(1, 0x8180, [0, 1, 0, 0]);
        b.extend(rr(&name("s"), 64, 1, &rdata));
        let m = parse(&b);
        assert!(matches!(
            m.answers[0].rdata,
            RData::Malformed {
                rtype: RecordType::SVCB,
                kind: DnsMalformedKind::BadRdataLength,
                ..
            }
        ));
    }

    #[test]
    fn edns_extended_rcode_and_flags() {
        let mut b = header(1, 0x8183, [0, 0, 0, 2]);
        // OPT: root owner, payload 1232, ext rcode 1, version 0, DO set, one padding option.
        let mut opt = vec![0u8, 0, 41];
        opt.extend_from_slice(&1232u16.to_be_bytes());
        opt.extend_from_slice(&[1, 0, 0x80, 0]);
        let options = [0u8, 12, 0, 3, 0, 0, 0];
        opt.extend_from_slice(&(options.len() as u16).to_be_bytes());
        opt.extend_from_slice(&options);
        b.extend_from_slice(&opt);
        b.extend_from_slice(&opt);
        let m = parse(&b);
        assert_eq!(m.malformed, None);
        let e = m.edns.as_ref().unwrap();
        assert_eq!(e.udp_payload_size, 1232);
        assert_eq!(e.extended_rcode, 1);
        assert!(e.dnssec_ok);
        assert_eq!(e.options[0].code, 12);
        assert_eq!(m.opt_records, 2);
        assert_eq!(m.header.rcode(), Rcode::NXDOMAIN);
        assert_eq!(m.full_rcode(), Rcode(0x13));
        assert_eq!(Rcode(16).name(), Some("BADVERS"));
    }

    #[test]
    fn cname_chain_follows_and_detects_loops() {
        let mut b = header(1, 0x8180, [1, 4, 0, 0]);
        b.extend(question(&name("WWW.Example.com"), 1));
        b.extend(rr(&name("www.example.com"), 5, 1, &name("edge.cdn.net")));
        b.extend(rr(&name("EDGE.cdn.net"), 5, 1, &name("a1.cdn.net")));
        b.extend(rr(&name("a1.cdn.net"), 1, 1, &[1, 2, 3, 4]));
        b.extend(rr(&name("www.example.com"), 1, 1, &[6, 6, 6, 6]));
        let m = parse(&b);
        let c = m.cname_chain().unwrap();
        let names: Vec<String> = c.names.iter().map(|n| n.to_lowercase()).collect();
        assert_eq!(names, ["www.example.com", "edge.cdn.net", "a1.cdn.net"]);
        assert!(!c.looped);
        assert_eq!(c.addresses, vec![IpAddr::V4(Ipv4Addr::new(1, 2, 3, 4))]);

        let mut b = header(1, 0x8180, [1, 2, 0, 0]);
        b.extend(question(&name("a.test"), 1));
        b.extend(rr(&name("a.test"), 5, 1, &name("b.test")));
        b.extend(rr(&name("b.test"), 5, 1, &name("A.test")));
        let c = parse(&b).cname_chain().unwrap();
        assert!(c.looped);
        assert_eq!(c.names.len(), 2);
    }

    #[test]
    fn header_flags() {
        let b = header(0xbeef, 0b1010_1111_1111_0110, [0; 4]);
        let m = parse(&b);
        let h = m.header;
        assert!(h.qr() && h.aa() && h.tc() && h.rd() && h.ra() && h.z() && h.ad() && h.cd());
        assert_eq!(h.opcode(), Opcode::UPDATE);
        assert_eq!(h.rcode().0, 6);
        assert!(m.question().is_none());
        assert!(m.cname_chain().is_none());
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
            if let Ok(m) = parse_message(&bytes, &DnsLimits::default()) {
                prop_assert!(m.trailing.len() <= DEFAULT_MAX_TRAILING_COPY);
                let _ = m.cname_chain();
                let _ = m.all_answer_addresses();
            }
        }

        #[test]
        fn mutated_real_messages_never_panic(
            idx in 0usize..400, val in any::<u8>(), cut in 0usize..400
        ) {
            let mut b = unhex(REAL_RESPONSE);
            let i = idx % b.len();
            b[i] = val;
            b.truncate(cut.max(i));
            let _ = parse_message(&b, &DnsLimits::default());
        }

        #[test]
        fn framer_chunking_is_irrelevant(
            msgs in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 12..80), 0..5),
            cuts in proptest::collection::vec(0usize..400, 0..10),
        ) {
            let mut stream = Vec::new();
            for m in &msgs {
                stream.extend_from_slice(&(m.len() as u16).to_be_bytes());
                stream.extend_from_slice(m);
            }
            let mut whole = DnsTcpFramer::new();
            let expected = whole.feed(&stream);
            prop_assert_eq!(expected.len(), msgs.len());
            let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c.min(stream.len())).collect();
            cuts.sort_unstable();
            let mut f = DnsTcpFramer::new();
            let mut got = Vec::new();
            let mut prev = 0;
            for c in cuts.into_iter().chain([stream.len()]) {
                got.extend(f.feed(&stream[prev..c]));
                prev = c;
            }
            prop_assert_eq!(got, expected);
        }

        #[test]
        fn framer_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..2000)) {
            let mut f = DnsTcpFramer::new();
            for m in f.feed(&bytes) {
                let _ = parse_message(&m.bytes, &DnsLimits::default());
            }
            prop_assert!(f.buffered_len() <= DNS_TCP_LENGTH_PREFIX + DNS_TCP_MAX_MESSAGE);
        }
    }
}
