//! Decodes the rdata of one DNS record into a typed [`RData`]; it never fails the whole message:
//! rdata that does not match its type becomes [`RData::Malformed`].
//!
//! Every copy of opaque bytes is capped by [`DnsLimits::max_rdata_copy`], and the declared length
//! is kept next to the copy so a cut is visible.

#![cfg_attr(
    not(test),
    deny(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used)
)]

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use serde::Serialize;

use super::name::{read_name, DnsName, NameError};
use super::parse::{DnsLimits, DnsMalformedKind, RecordType};

/// RFC 1035 §3.4.1: A rdata is 4 octets.
const A_LEN: usize = 4;
/// RFC 3596 §2.2: AAAA rdata is 16 octets.
const AAAA_LEN: usize = 16;
/// RFC 1035 §3.3.13: SOA has five 32-bit counters after its two names.
const SOA_COUNTERS_LEN: usize = 20;
/// RFC 6891 §6.1.2: each option starts with OPTION-CODE and OPTION-LENGTH (2 + 2 octets).
const EDNS_OPTION_HEADER_LEN: usize = 4;
/// RFC 9460 §2.2: each SvcParam starts with SvcParamKey and SvcParamValue length (2 + 2).
const SVC_PARAM_HEADER_LEN: usize = 4;

/// RFC 9460 §14.3.2 SvcParamKey registry values.
const SVC_KEY_MANDATORY: u16 = 0;
const SVC_KEY_ALPN: u16 = 1;
const SVC_KEY_NO_DEFAULT_ALPN: u16 = 2;
const SVC_KEY_PORT: u16 = 3;
const SVC_KEY_IPV4HINT: u16 = 4;
const SVC_KEY_ECH: u16 = 5;
const SVC_KEY_IPV6HINT: u16 = 6;

/// Typed record data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum RData {
    /// IPv4 address.
    A(Ipv4Addr),
    /// IPv6 address.
    Aaaa(Ipv6Addr),
    /// Canonical name target.
    Cname(DnsName),
    /// Name server.
    Ns(DnsName),
    /// Pointer target.
    Ptr(DnsName),
    /// Delegation target (RFC 6672).
    Dname(DnsName),
    /// Mail exchange.
    Mx {
        /// Preference (lower first).
        preference: u16,
        /// Exchange host.
        exchange: DnsName,
    },
    /// Character strings (RFC 1035 §3.3.14), copied up to the rdata copy limit.
    Txt {
        /// The strings, in order.
        strings: Vec<Vec<u8>>,
        /// Bytes of strings not copied because of the limit.
        omitted_bytes: usize,
    },
    /// Start of authority.
    Soa {
        /// Primary name server.
        mname: DnsName,
        /// Responsible mailbox.
        rname: DnsName,
        /// Zone serial.
        serial: u32,
        /// Refresh interval.
        refresh: u32,
        /// Retry interval.
        retry: u32,
        /// Expire limit.
        expire: u32,
        /// Negative-caching TTL (RFC 2308).
        minimum: u32,
    },
    /// Service location (RFC 2782).
    Srv {
        /// Priority.
        priority: u16,
        /// Weight.
        weight: u16,
        /// Port.
        port: u16,
        /// Target host.
        target: DnsName,
    },
    /// SVCB (RFC 9460).
    Svcb(SvcbData),
    /// HTTPS (RFC 9460).
    Https(SvcbData),
    /// EDNS options of an OPT pseudo-record (RFC 6891 §6.1.2).
    Opt {
        /// Options kept.
        options: Vec<EdnsOption>,
        /// Options not kept because of [`DnsLimits::max_edns_options`].
        omitted: usize,
    },
    /// Any other type: the first bytes of the rdata.
    Other {
        /// The record type.
        rtype: RecordType,
        /// RDLENGTH.
        len: u16,
        /// At most [`DnsLimits::max_rdata_copy`] bytes.
        bytes: Vec<u8>,
    },
    /// Rdata that does not match its type.
    Malformed {
        /// The record type.
        rtype: RecordType,
        /// What is wrong.
        kind: DnsMalformedKind,
        /// Message offset where it was detected.
        offset: usize,
    },
}

/// One EDNS option.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EdnsOption {
    /// OPTION-CODE (e.g. 10 = cookie, 12 = padding, 15 = extended DNS error).
    pub code: u16,
    /// OPTION-LENGTH as sent.
    pub len: u16,
    /// At most [`DnsLimits::max_rdata_copy`] bytes of the data.
    pub data: Vec<u8>,
}

/// SVCB/HTTPS rdata (RFC 9460 §2.2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SvcbData {
    /// SvcPriority (0 = alias mode).
    pub priority: u16,
    /// TargetName.
    pub target: DnsName,
    /// SvcParams in wire order, at most [`DnsLimits::max_svc_params`].
    pub params: Vec<SvcParam>,
    /// Params not kept because of the limit.
    pub params_omitted: usize,
}

impl SvcbData {
    /// ipv4hint and ipv6hint addresses, in order.
    pub fn hint_addresses(&self) -> Vec<IpAddr> {
        let mut out = Vec::new();
        for p in &self.params {
            match p {
                SvcParam::Ipv4Hint(v) => out.extend(v.iter().map(|a| IpAddr::V4(*a))),
                SvcParam::Ipv6Hint(v) => out.extend(v.iter().map(|a| IpAddr::V6(*a))),
                _ => {}
            }
        }
        out
    }

    /// ALPN protocol ids, if an alpn param is present.
    pub fn alpn(&self) -> Option<&[String]> {
        self.params.iter().find_map(|p| match p {
            SvcParam::Alpn(v) => Some(v.as_slice()),
            _ => None,
        })
    }

    /// Whether an ech param is present.
    pub fn has_ech(&self) -> bool {
        self.params
            .iter()
            .any(|p| matches!(p, SvcParam::Ech { .. }))
    }
}

/// One SvcParam (RFC 9460 §7).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum SvcParam {
    /// Keys the client must understand.
    Mandatory(Vec<u16>),
    /// ALPN ids (non-printable bytes escaped as `\xNN`).
    Alpn(Vec<String>),
    /// no-default-alpn.
    NoDefaultAlpn,
    /// Alternative port.
    Port(u16),
    /// IPv4 hints.
    Ipv4Hint(Vec<Ipv4Addr>),
    /// An ECHConfigList is present (RFC 9460 §14.3.2 key 5); only its length is kept.
    Ech {
        /// Length of the ECHConfigList.
        len: u16,
    },
    /// IPv6 hints.
    Ipv6Hint(Vec<Ipv6Addr>),
    /// Any other key, or a known key whose value has the wrong shape.
    Other {
        /// SvcParamKey.
        key: u16,
        /// Value length as sent.
        len: u16,
        /// At most [`DnsLimits::max_rdata_copy`] bytes of the value.
        bytes: Vec<u8>,
    },
}

/// Result of decoding one rdata.
pub(crate) struct ParsedRdata {
    pub rdata: RData,
    pub forward_pointers: u32,
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

/// A cursor over the rdata bytes `[pos, end)` of the whole message.
struct Cursor<'a> {
    msg: &'a [u8],
    pos: usize,
    end: usize,
    limits: &'a DnsLimits,
    forward_pointers: u32,
}

/// Why a field could not be read: kind and message offset.
type Fail = (DnsMalformedKind, usize);

impl<'a> Cursor<'a> {
    fn bad_len(&self) -> Fail {
        (DnsMalformedKind::BadRdataLength, self.pos)
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], Fail> {
        let new = self.pos.checked_add(n).ok_or(self.bad_len())?;
        if new > self.end {
            return Err(self.bad_len());
        }
        let s = self.msg.get(self.pos..new).ok_or(self.bad_len())?;
        self.pos = new;
        Ok(s)
    }

    fn u8(&mut self) -> Result<u8, Fail> {
        let s = self.take(1)?;
        s.first()
            .copied()
            .ok_or((DnsMalformedKind::BadRdataLength, 0))
    }

    fn u16(&mut self) -> Result<u16, Fail> {
        let s: [u8; 2] = self
            .take(2)?
            .try_into()
            .map_err(|_| (DnsMalformedKind::BadRdataLength, 0))?;
        Ok(u16::from_be_bytes(s))
    }

    fn u32(&mut self) -> Result<u32, Fail> {
        let s: [u8; 4] = self
            .take(4)?
            .try_into()
            .map_err(|_| (DnsMalformedKind::BadRdataLength, 0))?;
        Ok(u32::from_be_bytes(s))
    }

    fn name(&mut self) -> Result<DnsName, Fail> {
        if self.pos >= self.end {
            return Err(self.bad_len());
        }
        let r = read_name(self.msg, self.pos, self.limits)
            .map_err(|NameError { kind, offset }| (kind, offset))?;
        if r.next > self.end {
            return Err((DnsMalformedKind::BadRdataLength, self.pos));
        }
        self.forward_pointers = self.forward_pointers.saturating_add(r.forward_pointers);
        self.pos = r.next;
        Ok(r.name)
    }

    fn remaining(&self) -> usize {
        self.end.saturating_sub(self.pos)
    }

    fn finish(&self) -> Result<(), Fail> {
        if self.pos == self.end {
            Ok(())
        } else {
            Err(self.bad_len())
        }
    }

    /// Copies at most the rdata copy limit of `bytes`.
    fn copy(&self, bytes: &[u8]) -> Vec<u8> {
        bytes
            .iter()
            .take(self.limits.max_rdata_copy)
            .copied()
            .collect()
    }
}

/// Decodes the rdata at `[start, start + len)` of `msg` for a record of type `rtype`.
///
/// The caller has checked that the rdata lies inside `msg`.
pub(crate) fn parse_rdata(
    msg: &[u8],
    rtype: RecordType,
    start: usize,
    len: u16,
    limits: &DnsLimits,
) -> ParsedRdata {
    let mut c = Cursor {
        msg,
        pos: start,
        end: start.saturating_add(usize::from(len)),
        limits,
        forward_pointers: 0,
    };
    let rdata = match typed(&mut c, rtype) {
        Ok(r) => r,
        Err((kind, offset)) => RData::Malformed {
            rtype,
            kind,
            offset,
        },
    };
    ParsedRdata {
        rdata,
        forward_pointers: c.forward_pointers,
    }
}

fn typed(c: &mut Cursor<'_>, rtype: RecordType) -> Result<RData, Fail> {
    let rdata = match rtype {
        RecordType::A => {
            let b: [u8; A_LEN] = c.take(A_LEN)?.try_into().map_err(|_| c.bad_len())?;
            RData::A(Ipv4Addr::from(b))
        }
        RecordType::AAAA => {
            let b: [u8; AAAA_LEN] = c.take(AAAA_LEN)?.try_into().map_err(|_| c.bad_len())?;
            RData::Aaaa(Ipv6Addr::from(b))
        }
        RecordType::CNAME => RData::Cname(c.name()?),
        RecordType::NS => RData::Ns(c.name()?),
        RecordType::PTR => RData::Ptr(c.name()?),
        RecordType::DNAME => RData::Dname(c.name()?),
        RecordType::MX => {
            let preference = c.u16()?;
            RData::Mx {
                preference,
                exchange: c.name()?,
            }
        }
        RecordType::TXT => txt(c)?,
        RecordType::SOA => {
            let mname = c.name()?;
            let rname = c.name()?;
            if c.remaining() < SOA_COUNTERS_LEN {
                return Err(c.bad_len());
            }
            RData::Soa {
                mname,
                rname,
                serial: c.u32()?,
                refresh: c.u32()?,
                retry: c.u32()?,
                expire: c.u32()?,
                minimum: c.u32()?,
            }
        }
        RecordType::SRV => {
            let priority = c.u16()?;
            let weight = c.u16()?;
            let port = c.u16()?;
            RData::Srv {
                priority,
                weight,
                port,
                target: c.name()?,
            }
        }
        RecordType::SVCB => RData::Svcb(svcb(c)?),
        RecordType::HTTPS => RData::Https(svcb(c)?),
        RecordType::OPT => opt(c)?,
        _ => {
            let len = u16::try_from(c.remaining()).unwrap_or(u16::MAX);
            let all = c.take(c.remaining())?;
            RData::Other {
                rtype,
                len,
                bytes: c.copy(all),
            }
        }
    };
    c.finish()?;
    Ok(rdata)
}

fn txt(c: &mut Cursor<'_>) -> Result<RData, Fail> {
    let mut strings = Vec::new();
    let mut copied: usize = 0;
    let mut omitted_bytes: usize = 0;
    let limit = c.limits.max_rdata_copy;
    while c.remaining() > 0 {
        let n = usize::from(c.u8()?);
        let s = c.take(n)?;
        let room = limit.saturating_sub(copied);
        if room == 0 {
            omitted_bytes = omitted_bytes.saturating_add(n);
            continue;
        }
        let kept: Vec<u8> = s.iter().take(room).copied().collect();
        omitted_bytes = omitted_bytes.saturating_add(n.saturating_sub(kept.len()));
        copied = copied.saturating_add(kept.len());
        strings.push(kept);
    }
    Ok(RData::Txt {
        strings,
        omitted_bytes,
    })
}

fn opt(c: &mut Cursor<'_>) -> Result<RData, Fail> {
    let mut options = Vec::new();
    let mut omitted: usize = 0;
    while c.remaining() > 0 {
        if c.remaining() < EDNS_OPTION_HEADER_LEN {
            return Err(c.bad_len());
        }
        let code = c.u16()?;
        let len = c.u16()?;
        let data = c.take(usize::from(len))?;
        if options.len() < c.limits.max_edns_options {
            options.push(EdnsOption {
                code,
                len,
                data: c.copy(data),
            });
        } else {
            omitted = omitted.saturating_add(1);
        }
    }
    Ok(RData::Opt { options, omitted })
}

fn svcb(c: &mut Cursor<'_>) -> Result<SvcbData, Fail> {
    let priority = c.u16()?;
    // RFC 9460 §2.2 forbids compressing TargetName; a compressed one is still decoded.
    let target = c.name()?;
    let mut params = Vec::new();
    let mut params_omitted: usize = 0;
    while c.remaining() > 0 {
        if c.remaining() < SVC_PARAM_HEADER_LEN {
            return Err(c.bad_len());
        }
        let key = c.u16()?;
        let len = c.u16()?;
        let value = c.take(usize::from(len))?;
        if params.len() >= c.limits.max_svc_params {
            params_omitted = params_omitted.saturating_add(1);
            continue;
        }
        let param = svc_param(key, value).unwrap_or_else(|| SvcParam::Other {
            key,
            len,
            bytes: c.copy(value),
        });
        params.push(param);
    }
    Ok(SvcbData {
        priority,
        target,
        params,
        params_omitted,
    })
}

/// Decodes a known SvcParam value; `None` for unknown keys or values of the wrong shape.
fn svc_param(key: u16, value: &[u8]) -> Option<SvcParam> {
    match key {
        SVC_KEY_MANDATORY => {
            if !value.len().is_multiple_of(2) {
                return None;
            }
            let keys = value
                .chunks_exact(2)
                .filter_map(|k| <[u8; 2]>::try_from(k).ok().map(u16::from_be_bytes))
                .collect();
            Some(SvcParam::Mandatory(keys))
        }
        SVC_KEY_ALPN => {
            let mut ids = Vec::new();
            let mut rest = value;
            while let Some((&n, tail)) = rest.split_first() {
                let (id, after) = tail.split_at_checked(usize::from(n))?;
                ids.push(escape_bytes(id));
                rest = after;
            }
            Some(SvcParam::Alpn(ids))
        }
        SVC_KEY_NO_DEFAULT_ALPN if value.is_empty() => Some(SvcParam::NoDefaultAlpn),
        SVC_KEY_PORT => {
            let b: [u8; 2] = value.try_into().ok()?;
            Some(SvcParam::Port(u16::from_be_bytes(b)))
        }
        SVC_KEY_IPV4HINT => {
            if !value.len().is_multiple_of(A_LEN) {
                return None;
            }
            let v = value
                .chunks_exact(A_LEN)
                .filter_map(|a| <[u8; A_LEN]>::try_from(a).ok().map(Ipv4Addr::from))
                .collect();
            Some(SvcParam::Ipv4Hint(v))
        }
        SVC_KEY_ECH => Some(SvcParam::Ech {
            len: u16::try_from(value.len()).unwrap_or(u16::MAX),
        }),
        SVC_KEY_IPV6HINT => {
            if !value.len().is_multiple_of(AAAA_LEN) {
                return None;
            }
            let v = value
                .chunks_exact(AAAA_LEN)
                .filter_map(|a| <[u8; AAAA_LEN]>::try_from(a).ok().map(Ipv6Addr::from))
                .collect();
            Some(SvcParam::Ipv6Hint(v))
        }
        _ => None,
    }
}
