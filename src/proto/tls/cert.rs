//! Reads the facts tamper reports about one DER certificate (subject and issuer names,
//! subjectAltName entries, validity, self-signedness) into small bounded values with
//! `x509-parser`; it never verifies signatures, chains or trust, and malformed DER becomes a
//! short error text, never a panic.
//!
//! Every string is bounded and printable: DNS names are cut at [`MAX_DNS_NAME_LEN`]
//! characters, other names at [`MAX_TEXT_LEN`], at most [`MAX_SAN_DNS`] DNS names and
//! [`MAX_SAN_IP`] addresses are kept (the totals are counted), and control characters and
//! bytes that are not UTF-8 are written as escapes, so a certificate from a stranger cannot
//! blow up a report or smuggle terminal escapes into it.

#![cfg_attr(
    not(test),
    deny(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used)
)]

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use serde::Serialize;
use x509_parser::asn1_rs::Tag;
use x509_parser::certificate::X509Certificate;
use x509_parser::extensions::{GeneralName, ParsedExtension};
use x509_parser::nom;
use x509_parser::prelude::FromDer;
use x509_parser::x509::{AttributeTypeAndValue, X509Name};

use super::parse::escape_bytes;

/// Most subjectAltName DNS names kept from one certificate (the rest are only counted).
pub const MAX_SAN_DNS: usize = 64;
/// Most subjectAltName IP addresses kept from one certificate.
pub const MAX_SAN_IP: usize = 16;
/// Longest DNS name kept, in characters (RFC 1035 §2.3.4: 253 in text form).
pub const MAX_DNS_NAME_LEN: usize = 253;
/// Longest organizationName kept, in characters (RFC 5280 Appendix A.1 bounds it at 64; real
/// certificates sometimes exceed that). A commonName may be a host name and is kept up to
/// [`MAX_DNS_NAME_LEN`].
pub const MAX_TEXT_LEN: usize = 128;
/// Longest parse-error text.
pub const MAX_ERROR_LEN: usize = 96;

/// A commonName and organizationName pair from a subject or issuer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct NameFacts {
    /// The first commonName, if any.
    pub cn: Option<String>,
    /// The first organizationName, if any.
    pub o: Option<String>,
}

/// What tamper keeps of a leaf (end-entity) certificate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LeafCertificate {
    /// Subject commonName and organizationName.
    pub subject: NameFacts,
    /// Issuer commonName and organizationName.
    pub issuer: NameFacts,
    /// Whether the certificate has a subjectAltName extension (with any kind of entry).
    pub has_san: bool,
    /// subjectAltName dNSName entries in order, at most [`MAX_SAN_DNS`].
    pub san_dns: Vec<String>,
    /// How many dNSName entries the extension held (more than `san_dns.len()` when cut).
    pub san_dns_total: usize,
    /// subjectAltName iPAddress entries in order, at most [`MAX_SAN_IP`].
    pub san_ip: Vec<IpAddr>,
    /// How many iPAddress entries the extension held.
    pub san_ip_total: usize,
    /// notBefore, seconds since the Unix epoch.
    pub not_before: i64,
    /// notAfter, seconds since the Unix epoch.
    pub not_after: i64,
    /// Whether the subject and issuer names are byte-for-byte equal (self-issued; the
    /// signature is not checked).
    pub self_signed: bool,
}

impl LeafCertificate {
    /// Whether some subjectAltName DNS names were dropped by the [`MAX_SAN_DNS`] cap.
    pub fn san_dns_cut(&self) -> bool {
        self.san_dns_total > self.san_dns.len()
    }
}

/// Parses a leaf certificate; the error is a short text saying what is wrong with the DER.
pub fn leaf_facts(der: &[u8]) -> Result<LeafCertificate, String> {
    let (_, cert) = X509Certificate::from_der(der).map_err(|e| error_text(&e))?;
    let mut leaf = LeafCertificate {
        subject: name_facts(cert.subject()),
        issuer: name_facts(cert.issuer()),
        has_san: false,
        san_dns: Vec::new(),
        san_dns_total: 0,
        san_ip: Vec::new(),
        san_ip_total: 0,
        not_before: cert.validity().not_before.timestamp(),
        not_after: cert.validity().not_after.timestamp(),
        self_signed: cert.subject().as_raw() == cert.issuer().as_raw(),
    };
    // Every subjectAltName extension counts (RFC 5280 §4.2 forbids two, strangers send them).
    for ext in cert.extensions() {
        let ParsedExtension::SubjectAlternativeName(san) = ext.parsed_extension() else {
            continue;
        };
        leaf.has_san = true;
        for name in &san.general_names {
            match name {
                GeneralName::DNSName(n) => push_dns(&mut leaf, bounded(n, MAX_DNS_NAME_LEN)),
                // A dNSName that is not UTF-8 (x509-parser gives it up as Invalid).
                GeneralName::Invalid(tag, raw) if tag.0 == 2 => {
                    push_dns(&mut leaf, bounded(&escape_bytes(raw), MAX_DNS_NAME_LEN));
                }
                GeneralName::IPAddress(raw) => {
                    let ip = <[u8; 4]>::try_from(*raw)
                        .ok()
                        .map(|a| IpAddr::V4(Ipv4Addr::from(a)))
                        .or_else(|| {
                            <[u8; 16]>::try_from(*raw)
                                .ok()
                                .map(|a| IpAddr::V6(Ipv6Addr::from(a)))
                        });
                    if let Some(ip) = ip {
                        leaf.san_ip_total = leaf.san_ip_total.saturating_add(1);
                        if leaf.san_ip.len() < MAX_SAN_IP {
                            leaf.san_ip.push(ip);
                        }
                    }
                }
                _ => {}
            }
        }
    }
    Ok(leaf)
}

/// The issuer names of a further certificate in a chain, or `None` when it does not parse.
pub fn issuer_facts(der: &[u8]) -> Option<NameFacts> {
    X509Certificate::from_der(der)
        .ok()
        .map(|(_, cert)| name_facts(cert.issuer()))
}

fn push_dns(leaf: &mut LeafCertificate, name: String) {
    leaf.san_dns_total = leaf.san_dns_total.saturating_add(1);
    if leaf.san_dns.len() < MAX_SAN_DNS {
        leaf.san_dns.push(name);
    }
}

fn name_facts(name: &X509Name<'_>) -> NameFacts {
    NameFacts {
        // A commonName may hold a host name: keep as much as a DNS name.
        cn: name
            .iter_common_name()
            .next()
            .map(|a| attribute_text(a, MAX_DNS_NAME_LEN)),
        o: name
            .iter_organization()
            .next()
            .map(|a| attribute_text(a, MAX_TEXT_LEN)),
    }
}

/// The text of a name attribute: the string types x509-parser reads as UTF-8, BMPString as
/// UTF-16, anything else (TeletexString, UniversalString, bad UTF-8) as escaped bytes.
fn attribute_text(attr: &AttributeTypeAndValue<'_>, max: usize) -> String {
    if let Ok(s) = attr.as_str() {
        return bounded(s, max);
    }
    let raw = attr.as_slice();
    if attr.attr_value().tag() == Tag::BmpString && raw.len().is_multiple_of(2) {
        let units = raw
            .chunks_exact(2)
            .map(|c| u16::from_be_bytes(<[u8; 2]>::try_from(c).unwrap_or([0, 0])));
        let text: String = char::decode_utf16(units)
            .map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER))
            .collect();
        return bounded(&text, max);
    }
    bounded(&escape_bytes(raw), max)
}

/// At most `max` characters of `s`, with control characters (and `\`) escaped.
pub(crate) fn bounded(s: &str, max: usize) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    for c in s.chars().take(max) {
        if c.is_control() {
            // Writing to a String cannot fail.
            let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
        } else {
            out.push(c);
        }
    }
    out
}

/// A short text for a parse failure.
fn error_text(e: &nom::Err<x509_parser::error::X509Error>) -> String {
    let text = match e {
        nom::Err::Incomplete(_) => "DER cut short".to_string(),
        nom::Err::Error(e) | nom::Err::Failure(e) => e.to_string(),
    };
    bounded(&text, MAX_ERROR_LEN)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synth::x509::{CertSpec, KeyKind, Name};

    /// 2024-05-14T09:30:00Z.
    const T: i64 = 1_715_679_000;

    fn leaf_spec() -> CertSpec {
        CertSpec::new(
            Name::org_cn("Example Shop Ltd", "www.shop.example").with_country("GB"),
            Name::org_cn("Example Trust CA", "Example Trust RSA CA 2023").with_country("US"),
            T - 30 * 86_400,
            90,
            11,
        )
        .with_dns(&["www.shop.example", "shop.example", "*.cdn.shop.example"])
        .with_ips(&["192.0.2.7".parse().unwrap(), "2001:db8::7".parse().unwrap()])
        .with_basic_constraints(false)
    }

    #[test]
    fn leaf_from_the_synthetic_builder() {
        let leaf = leaf_facts(&leaf_spec().der()).unwrap();
        assert_eq!(leaf.subject.cn.as_deref(), Some("www.shop.example"));
        assert_eq!(leaf.subject.o.as_deref(), Some("Example Shop Ltd"));
        assert_eq!(leaf.issuer.cn.as_deref(), Some("Example Trust RSA CA 2023"));
        assert_eq!(leaf.issuer.o.as_deref(), Some("Example Trust CA"));
        assert!(leaf.has_san);
        assert_eq!(
            leaf.san_dns,
            ["www.shop.example", "shop.example", "*.cdn.shop.example"]
        );
        assert_eq!(leaf.san_dns_total, 3);
        assert!(!leaf.san_dns_cut());
        assert_eq!(leaf.san_ip.len(), 2);
        assert_eq!(leaf.san_ip[0], "192.0.2.7".parse::<IpAddr>().unwrap());
        assert_eq!(leaf.san_ip[1], "2001:db8::7".parse::<IpAddr>().unwrap());
        assert_eq!(leaf.not_before, T - 30 * 86_400);
        assert_eq!(leaf.not_after, T + 60 * 86_400);
        assert!(!leaf.self_signed);
    }

    #[test]
    fn self_signed_without_san_and_with_ec_signature() {
        let spec = CertSpec::self_signed(Name::cn("block.isp-notice.example"), T, 3650, 12)
            .with_key(KeyKind::EcP256)
            .signed_with(KeyKind::EcP256);
        let leaf = leaf_facts(&spec.der()).unwrap();
        assert!(leaf.self_signed);
        assert!(!leaf.has_san);
        assert!(leaf.san_dns.is_empty() && leaf.san_ip.is_empty());
        assert_eq!(leaf.subject, leaf.issuer);
        assert_eq!(leaf.subject.o, None);
        // Ten years on: 2034, still UTCTime.
        assert_eq!(leaf.not_after, T + 3650 * 86_400);
        // After 2049 the builder switches to GeneralizedTime; the parser reads both.
        let far = CertSpec::self_signed(Name::cn("far.example"), T, 40 * 366, 13);
        assert_eq!(
            leaf_facts(&far.der()).unwrap().not_after,
            T + 40 * 366 * 86_400
        );
    }

    #[test]
    fn san_lists_are_capped_and_counted() {
        let names: Vec<String> = (0..200).map(|i| format!("host{i}.example")).collect();
        let long = "a".repeat(300);
        let mut spec = leaf_spec().with_dns(&names).with_dns(&[long]);
        spec.san_ip = (0..40u8)
            .map(|i| IpAddr::V4(Ipv4Addr::new(10, 0, 0, i)))
            .collect();
        let leaf = leaf_facts(&spec.der()).unwrap();
        assert_eq!(leaf.san_dns.len(), MAX_SAN_DNS);
        assert_eq!(leaf.san_dns_total, 204);
        assert!(leaf.san_dns_cut());
        assert_eq!(leaf.san_ip.len(), MAX_SAN_IP);
        assert_eq!(leaf.san_ip_total, 40);
        // The over-long name is beyond the cap here; alone it is cut to 253 characters.
        let one = leaf_spec().with_dns(&["b".repeat(300)]);
        let leaf = leaf_facts(&one.der()).unwrap();
        assert_eq!(leaf.san_dns[3].chars().count(), MAX_DNS_NAME_LEN);
    }

    #[test]
    fn hostile_strings_are_escaped_and_bounded() {
        let mut spec = leaf_spec();
        spec.subject = Name::org_cn(&"O".repeat(500), "evil\u{1b}[31m.example\u{7}");
        spec.san_dns = vec!["x\ny.example".to_string()];
        let leaf = leaf_facts(&spec.der()).unwrap();
        assert_eq!(
            leaf.subject.cn.as_deref(),
            Some("evil\\u{1b}[31m.example\\u{7}")
        );
        assert_eq!(leaf.subject.o.as_ref().unwrap().len(), MAX_TEXT_LEN);
        assert_eq!(leaf.san_dns, ["x\\u{a}y.example"]);
    }

    #[test]
    fn malformed_der_is_an_error_text() {
        let der = leaf_spec().der();
        for bad in [
            &[][..],
            &[0x30][..],
            &[0x30, 0x82, 0x10, 0x00, 0x30][..],
            &[0x04, 0x00][..],
        ] {
            let e = leaf_facts(bad).unwrap_err();
            assert!(!e.is_empty() && e.chars().count() <= MAX_ERROR_LEN, "{e}");
        }
        for cut in (0..der.len()).step_by(7) {
            let e = leaf_facts(&der[..cut]).unwrap_err();
            assert!(e.chars().count() <= MAX_ERROR_LEN, "{e}");
        }
        assert!(issuer_facts(&der[..der.len() / 2]).is_none());
        assert_eq!(
            issuer_facts(&der).unwrap().o.as_deref(),
            Some("Example Trust CA")
        );
        // Flipping any single byte never panics.
        for i in 0..der.len() {
            for v in [0x00, 0x7f, 0x80, 0xff] {
                let mut m = der.clone();
                m[i] = v;
                let _ = leaf_facts(&m);
            }
        }
    }

    #[test]
    fn non_utf8_attribute_types() {
        use crate::synth::x509::{sequence, tlv};
        // A Name with a BMPString CN and a TeletexString O, put in place of the issuer.
        let bmp: Vec<u8> = "Grüße CA"
            .encode_utf16()
            .flat_map(|u| u.to_be_bytes())
            .collect();
        let cn = sequence(&[crate::synth::x509::oid(&[2, 5, 4, 3]), tlv(0x1E, &bmp)]);
        let o = sequence(&[
            crate::synth::x509::oid(&[2, 5, 4, 10]),
            tlv(0x14, b"Caf\xe9"),
        ]);
        let name = sequence(&[tlv(0x31, &o), tlv(0x31, &cn)]);
        let spec = leaf_spec();
        let der = spec.der();
        let issuer = spec.issuer.der();
        let at = der.windows(issuer.len()).position(|w| w == issuer).unwrap();
        // Rebuild the certificate around the replaced issuer (lengths change).
        let tbs = spec.tbs_der();
        let tbs_at = tbs.windows(issuer.len()).position(|w| w == issuer).unwrap();
        let mut tbs_content = tbs[4..tbs_at].to_vec();
        tbs_content.extend_from_slice(&name);
        tbs_content.extend_from_slice(&tbs[tbs_at + issuer.len()..]);
        let new_tbs = tlv(0x30, &tbs_content);
        let rest = &der[4 + tbs.len()..];
        assert!(at > 0);
        let mut content = new_tbs;
        content.extend_from_slice(rest);
        let cert = tlv(0x30, &content);
        let leaf = leaf_facts(&cert).unwrap();
        assert_eq!(leaf.issuer.cn.as_deref(), Some("Grüße CA"));
        assert_eq!(leaf.issuer.o.as_deref(), Some("Caf\\xe9"));
    }
}
