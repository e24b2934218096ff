//! Builds small deterministic X.509 v3 certificates in hand-written DER (names, validity,
//! subjectAltName, basicConstraints, a made-up key and signature); it never signs anything
//! for real, so nothing it makes verifies, and it never parses certificates.
//!
//! The encoding follows X.690 (DER: definite lengths in the fewest bytes, INTEGERs in the fewest
//! octets, BOOLEAN true as 0xFF, DEFAULT fields left out) and RFC 5280 §4.1 for the structure.
//! Keys and signatures are pseudo-random bytes from a seeded [`SplitMix64`], shaped like the
//! real thing (an RSA-2048 modulus with exponent 65537, or an uncompressed P-256 point; a
//! 256-byte RSA signature or an ECDSA (r, s) pair) so the sizes look like what servers send.

use std::net::IpAddr;

use super::rng::SplitMix64;

// ---------------------------------------------------------------- DER tags (X.690 §8)

const TAG_BOOLEAN: u8 = 0x01;
const TAG_INTEGER: u8 = 0x02;
const TAG_BIT_STRING: u8 = 0x03;
const TAG_OCTET_STRING: u8 = 0x04;
const TAG_NULL: u8 = 0x05;
const TAG_OID: u8 = 0x06;
const TAG_UTF8_STRING: u8 = 0x0C;
const TAG_PRINTABLE_STRING: u8 = 0x13;
const TAG_UTC_TIME: u8 = 0x17;
const TAG_GENERALIZED_TIME: u8 = 0x18;
const TAG_SEQUENCE: u8 = 0x30;
const TAG_SET: u8 = 0x31;
/// `[0]` EXPLICIT, constructed (the TBSCertificate version).
const TAG_CONTEXT_0: u8 = 0xA0;
/// `[3]` EXPLICIT, constructed (the TBSCertificate extensions).
const TAG_CONTEXT_3: u8 = 0xA3;
/// GeneralName `dNSName [2] IA5String`, implicit and primitive (RFC 5280 §4.2.1.6).
const TAG_SAN_DNS: u8 = 0x82;
/// GeneralName `iPAddress [7] OCTET STRING`, implicit and primitive.
const TAG_SAN_IP: u8 = 0x87;

// ---------------------------------------------------------------- object identifiers

/// id-at-commonName (RFC 5280 Appendix A.1).
const OID_COMMON_NAME: &[u64] = &[2, 5, 4, 3];
/// id-at-countryName.
const OID_COUNTRY: &[u64] = &[2, 5, 4, 6];
/// id-at-organizationName.
const OID_ORGANIZATION: &[u64] = &[2, 5, 4, 10];
/// id-at-organizationalUnitName.
const OID_ORGANIZATIONAL_UNIT: &[u64] = &[2, 5, 4, 11];
/// id-ce-subjectAltName (RFC 5280 §4.2.1.6).
const OID_SUBJECT_ALT_NAME: &[u64] = &[2, 5, 29, 17];
/// id-ce-basicConstraints (RFC 5280 §4.2.1.9).
const OID_BASIC_CONSTRAINTS: &[u64] = &[2, 5, 29, 19];
/// rsaEncryption (RFC 8017 Appendix C).
const OID_RSA_ENCRYPTION: &[u64] = &[1, 2, 840, 113_549, 1, 1, 1];
/// sha256WithRSAEncryption (RFC 8017 Appendix C).
const OID_SHA256_WITH_RSA: &[u64] = &[1, 2, 840, 113_549, 1, 1, 11];
/// id-ecPublicKey (RFC 5480 §2.1.1).
const OID_EC_PUBLIC_KEY: &[u64] = &[1, 2, 840, 10_045, 2, 1];
/// secp256r1 / prime256v1 (RFC 5480 §2.1.1.1).
const OID_PRIME256V1: &[u64] = &[1, 2, 840, 10_045, 3, 1, 7];
/// ecdsa-with-SHA256 (RFC 5758 §3.2).
const OID_ECDSA_WITH_SHA256: &[u64] = &[1, 2, 840, 10_045, 4, 3, 2];

/// The public exponent every RSA key here carries (F4).
const RSA_EXPONENT: u32 = 65_537;
/// Bytes of an RSA-2048 modulus or signature.
const RSA_2048_BYTES: usize = 256;
/// Bytes of one P-256 coordinate or ECDSA scalar.
const P256_BYTES: usize = 32;
/// SEC 1 §2.3.3: the first byte of an uncompressed point.
const EC_POINT_UNCOMPRESSED: u8 = 0x04;
/// Mixed into a certificate's seed so its key and its signature differ from other filler.
const KEY_SALT: u64 = 0x0C3A_7EC0_FFEE;
/// Mixed into the seed for the signature bytes.
const SIGNATURE_SALT: u64 = 0x0516_0A70_12E5;

/// Seconds in a day.
const DAY_S: i64 = 86_400;
/// RFC 5280 §4.1.2.5: dates in 1950..=2049 are UTCTime, others GeneralizedTime.
const UTC_TIME_YEARS: std::ops::RangeInclusive<i64> = 1950..=2049;

/// The kind of key a certificate holds, or that signed it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyKind {
    /// RSA-2048 (signatures: sha256WithRSAEncryption).
    Rsa2048,
    /// ECDSA P-256 (signatures: ecdsa-with-SHA256).
    EcP256,
}

/// A distinguished name with the attributes TLS server certificates commonly carry, in the
/// usual order (C, O, OU, CN); absent attributes are left out.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Name {
    /// countryName (PrintableString, two letters).
    pub country: Option<String>,
    /// organizationName (UTF8String).
    pub organization: Option<String>,
    /// organizationalUnitName (UTF8String).
    pub organizational_unit: Option<String>,
    /// commonName (UTF8String).
    pub common_name: Option<String>,
}

impl Name {
    /// A name with only a commonName.
    pub fn cn(common_name: &str) -> Self {
        Self {
            common_name: Some(common_name.to_string()),
            ..Self::default()
        }
    }

    /// A name with an organization and a commonName.
    pub fn org_cn(organization: &str, common_name: &str) -> Self {
        Self {
            organization: Some(organization.to_string()),
            common_name: Some(common_name.to_string()),
            ..Self::default()
        }
    }

    /// The same name with a countryName.
    pub fn with_country(mut self, country: &str) -> Self {
        self.country = Some(country.to_string());
        self
    }

    /// The same name with an organizationalUnitName.
    pub fn with_unit(mut self, unit: &str) -> Self {
        self.organizational_unit = Some(unit.to_string());
        self
    }

    /// The Name DER: a SEQUENCE of single-attribute SETs (RFC 5280 §4.1.2.4).
    pub fn der(&self) -> Vec<u8> {
        let attributes = [
            (OID_COUNTRY, &self.country, TAG_PRINTABLE_STRING),
            (OID_ORGANIZATION, &self.organization, TAG_UTF8_STRING),
            (
                OID_ORGANIZATIONAL_UNIT,
                &self.organizational_unit,
                TAG_UTF8_STRING,
            ),
            (OID_COMMON_NAME, &self.common_name, TAG_UTF8_STRING),
        ];
        let mut rdns = Vec::new();
        for (oid_arcs, value, string_tag) in attributes {
            if let Some(v) = value {
                let atv = sequence(&[oid(oid_arcs), tlv(string_tag, v.as_bytes())]);
                rdns.extend(tlv(TAG_SET, &atv));
            }
        }
        tlv(TAG_SEQUENCE, &rdns)
    }
}

/// What goes into a certificate. [`CertSpec::der`] turns it into bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CertSpec {
    /// Serial number bytes (big-endian, positive); derived from `seed` when empty.
    pub serial: Vec<u8>,
    /// Subject.
    pub subject: Name,
    /// Issuer (equal to the subject for a self-signed certificate).
    pub issuer: Name,
    /// notBefore, seconds since the Unix epoch.
    pub not_before: i64,
    /// notAfter, seconds since the Unix epoch.
    pub not_after: i64,
    /// subjectAltName dNSName entries, in order.
    pub san_dns: Vec<String>,
    /// subjectAltName iPAddress entries, after the DNS names.
    pub san_ip: Vec<IpAddr>,
    /// Whether there is a subjectAltName extension even with no entries above (an empty
    /// one is invalid per RFC 5280 but occurs; useful for tests).
    pub force_san: bool,
    /// basicConstraints: `None` leaves the extension out, `Some(ca)` adds it (critical for a
    /// CA, as RFC 5280 §4.2.1.9 requires).
    pub basic_constraints: Option<bool>,
    /// The subject's key.
    pub key: KeyKind,
    /// The issuer's key, which decides the signature algorithm.
    pub signed_with: KeyKind,
    /// Seed for the serial, key and signature bytes.
    pub seed: u64,
}

impl CertSpec {
    /// An end-entity certificate for `subject` from `issuer`, valid for `days` from
    /// `not_before`, with an EC key signed by an RSA CA and no extensions yet.
    pub fn new(subject: Name, issuer: Name, not_before: i64, days: i64, seed: u64) -> Self {
        Self {
            serial: Vec::new(),
            subject,
            issuer,
            not_before,
            not_after: not_before.saturating_add(days.saturating_mul(DAY_S)),
            san_dns: Vec::new(),
            san_ip: Vec::new(),
            force_san: false,
            basic_constraints: None,
            key: KeyKind::EcP256,
            signed_with: KeyKind::Rsa2048,
            seed,
        }
    }

    /// A self-signed certificate: the issuer is the subject and the key signs itself.
    pub fn self_signed(subject: Name, not_before: i64, days: i64, seed: u64) -> Self {
        let mut s = Self::new(subject.clone(), subject, not_before, days, seed);
        s.key = KeyKind::Rsa2048;
        s.signed_with = KeyKind::Rsa2048;
        s
    }

    /// Adds DNS names to the subjectAltName.
    pub fn with_dns<S: AsRef<str>>(mut self, names: &[S]) -> Self {
        self.san_dns
            .extend(names.iter().map(|n| n.as_ref().to_string()));
        self
    }

    /// Adds IP addresses to the subjectAltName.
    pub fn with_ips(mut self, ips: &[IpAddr]) -> Self {
        self.san_ip.extend_from_slice(ips);
        self
    }

    /// Sets basicConstraints.
    pub fn with_basic_constraints(mut self, ca: bool) -> Self {
        self.basic_constraints = Some(ca);
        self
    }

    /// Sets the subject's key kind.
    pub fn with_key(mut self, key: KeyKind) -> Self {
        self.key = key;
        self
    }

    /// Sets the issuer's key kind.
    pub fn signed_with(mut self, key: KeyKind) -> Self {
        self.signed_with = key;
        self
    }

    /// The TBSCertificate DER (RFC 5280 §4.1.2).
    pub fn tbs_der(&self) -> Vec<u8> {
        let mut rng = SplitMix64::new(self.seed ^ KEY_SALT);
        let serial = if self.serial.is_empty() {
            // 16 random bytes, as CAs issue them (CA/B Baseline Requirements §7.1: at least
            // 64 bits of entropy); positive and without a redundant leading zero.
            let mut s = rng.bytes(16);
            s[0] = (s[0] & 0x7F) | 0x10;
            s
        } else {
            self.serial.clone()
        };
        let validity = sequence(&[time(self.not_before), time(self.not_after)]);
        let mut extensions = Vec::new();
        if let Some(ca) = self.basic_constraints {
            // BasicConstraints ::= SEQUENCE { cA BOOLEAN DEFAULT FALSE, ... }: DER omits a
            // false cA.
            let value = if ca {
                sequence(&[tlv(TAG_BOOLEAN, &[0xFF])])
            } else {
                sequence(&[])
            };
            extensions.push(extension(OID_BASIC_CONSTRAINTS, ca, &value));
        }
        if self.force_san || !self.san_dns.is_empty() || !self.san_ip.is_empty() {
            let mut names = Vec::new();
            for n in &self.san_dns {
                names.extend(tlv(TAG_SAN_DNS, n.as_bytes()));
            }
            for ip in &self.san_ip {
                match ip {
                    IpAddr::V4(a) => names.extend(tlv(TAG_SAN_IP, &a.octets())),
                    IpAddr::V6(a) => names.extend(tlv(TAG_SAN_IP, &a.octets())),
                }
            }
            extensions.push(extension(
                OID_SUBJECT_ALT_NAME,
                false,
                &tlv(TAG_SEQUENCE, &names),
            ));
        }
        let mut fields = vec![
            // version [0] EXPLICIT INTEGER v3(2).
            tlv(TAG_CONTEXT_0, &integer(&[2])),
            integer(&serial),
            signature_algorithm(self.signed_with),
            self.issuer.der(),
            validity,
            self.subject.der(),
            public_key_info(self.key, &mut rng),
        ];
        if !extensions.is_empty() {
            fields.push(tlv(TAG_CONTEXT_3, &sequence(&extensions)));
        }
        sequence(&fields)
    }

    /// The whole certificate DER: TBSCertificate, signature algorithm, signature value.
    pub fn der(&self) -> Vec<u8> {
        let mut rng = SplitMix64::new(self.seed ^ SIGNATURE_SALT);
        let signature = match self.signed_with {
            KeyKind::Rsa2048 => {
                let mut s = rng.bytes(RSA_2048_BYTES);
                // Below the modulus, like any real RSA signature value.
                s[0] &= 0x7F;
                s
            }
            KeyKind::EcP256 => sequence(&[integer(&scalar(&mut rng)), integer(&scalar(&mut rng))]),
        };
        sequence(&[
            self.tbs_der(),
            signature_algorithm(self.signed_with),
            bit_string(&signature),
        ])
    }
}

// ---------------------------------------------------------------- DER primitives

/// The DER length octets (X.690 §8.1.3: short form below 128, else the fewest bytes).
pub fn der_length(len: usize) -> Vec<u8> {
    if len < 0x80 {
        return vec![len as u8];
    }
    let bytes = len.to_be_bytes();
    let skip = bytes.iter().take_while(|&&b| b == 0).count();
    let significant = &bytes[skip..];
    let mut out = vec![0x80 | significant.len() as u8];
    out.extend_from_slice(significant);
    out
}

/// One TLV: tag, DER length, content.
pub fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    out.extend(der_length(content.len()));
    out.extend_from_slice(content);
    out
}

/// A SEQUENCE of already encoded elements.
pub fn sequence(elements: &[Vec<u8>]) -> Vec<u8> {
    tlv(TAG_SEQUENCE, &elements.concat())
}

/// A non-negative INTEGER from big-endian magnitude bytes: leading zeros dropped, one zero
/// added back when the top bit is set (X.690 §8.3).
pub fn integer(magnitude: &[u8]) -> Vec<u8> {
    let skip = magnitude.iter().take_while(|&&b| b == 0).count();
    let mut content: Vec<u8> = magnitude[skip..].to_vec();
    if content.first().is_none_or(|&b| b & 0x80 != 0) {
        content.insert(0, 0);
    }
    tlv(TAG_INTEGER, &content)
}

/// An OBJECT IDENTIFIER from its arcs (X.690 §8.19: the first two arcs in one subidentifier,
/// base-128 with continuation bits).
pub fn oid(arcs: &[u64]) -> Vec<u8> {
    let mut content = Vec::new();
    let first = arcs.first().copied().unwrap_or(0) * 40 + arcs.get(1).copied().unwrap_or(0);
    for arc in std::iter::once(first).chain(arcs.iter().skip(2).copied()) {
        let mut groups = vec![(arc & 0x7F) as u8];
        let mut rest = arc >> 7;
        while rest > 0 {
            groups.push(0x80 | (rest & 0x7F) as u8);
            rest >>= 7;
        }
        groups.reverse();
        content.extend(groups);
    }
    tlv(TAG_OID, &content)
}

/// A BIT STRING with no unused bits.
pub fn bit_string(bytes: &[u8]) -> Vec<u8> {
    let mut content = vec![0];
    content.extend_from_slice(bytes);
    tlv(TAG_BIT_STRING, &content)
}

/// An Extension (RFC 5280 §4.1): extnID, critical only when true, extnValue.
fn extension(id: &[u64], critical: bool, value: &[u8]) -> Vec<u8> {
    let mut parts = vec![oid(id)];
    if critical {
        parts.push(tlv(TAG_BOOLEAN, &[0xFF]));
    }
    parts.push(tlv(TAG_OCTET_STRING, value));
    sequence(&parts)
}

/// The AlgorithmIdentifier of a signature by a key of this kind.
fn signature_algorithm(by: KeyKind) -> Vec<u8> {
    match by {
        // RFC 4055 §5: the RSA algorithms carry an explicit NULL parameter.
        KeyKind::Rsa2048 => sequence(&[oid(OID_SHA256_WITH_RSA), tlv(TAG_NULL, &[])]),
        // RFC 5758 §3.2: ECDSA algorithms omit the parameters.
        KeyKind::EcP256 => sequence(&[oid(OID_ECDSA_WITH_SHA256)]),
    }
}

/// SubjectPublicKeyInfo with pseudo-random key material.
fn public_key_info(key: KeyKind, rng: &mut SplitMix64) -> Vec<u8> {
    match key {
        KeyKind::Rsa2048 => {
            let mut modulus = rng.bytes(RSA_2048_BYTES);
            // A 2048-bit odd modulus.
            modulus[0] |= 0x80;
            modulus[RSA_2048_BYTES - 1] |= 1;
            let rsa_key = sequence(&[integer(&modulus), integer(&RSA_EXPONENT.to_be_bytes())]);
            sequence(&[
                sequence(&[oid(OID_RSA_ENCRYPTION), tlv(TAG_NULL, &[])]),
                bit_string(&rsa_key),
            ])
        }
        KeyKind::EcP256 => {
            let mut point = vec![EC_POINT_UNCOMPRESSED];
            point.extend(rng.bytes(2 * P256_BYTES));
            sequence(&[
                sequence(&[oid(OID_EC_PUBLIC_KEY), oid(OID_PRIME256V1)]),
                bit_string(&point),
            ])
        }
    }
}

/// A pseudo-random ECDSA scalar (32 bytes, top bit clear so it is below the group order's
/// leading byte most of the time; the value is never checked).
fn scalar(rng: &mut SplitMix64) -> Vec<u8> {
    let mut s = rng.bytes(P256_BYTES);
    s[0] &= 0x7F;
    s
}

/// UTCTime for 1950..=2049, GeneralizedTime otherwise (RFC 5280 §4.1.2.5), always in UTC
/// with seconds and a `Z`.
pub fn time(unix_s: i64) -> Vec<u8> {
    let days = unix_s.div_euclid(DAY_S);
    let secs = unix_s.rem_euclid(DAY_S);
    let (y, m, d) = civil_from_days(days);
    let (hh, mm, ss) = (secs / 3600, secs / 60 % 60, secs % 60);
    if UTC_TIME_YEARS.contains(&y) {
        let text = format!("{:02}{m:02}{d:02}{hh:02}{mm:02}{ss:02}Z", y % 100);
        tlv(TAG_UTC_TIME, text.as_bytes())
    } else {
        let text = format!("{y:04}{m:02}{d:02}{hh:02}{mm:02}{ss:02}Z");
        tlv(TAG_GENERALIZED_TIME, text.as_bytes())
    }
}

/// The proleptic Gregorian date (year, month, day) of a day count since 1970-01-01, by the
/// era arithmetic of Howard Hinnant's "chrono-Compatible Low-Level Date Algorithms".
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn synth_der_lengths_integers_and_oids() {
        assert_eq!(der_length(0), [0]);
        assert_eq!(der_length(127), [127]);
        assert_eq!(der_length(128), [0x81, 0x80]);
        assert_eq!(der_length(256), [0x82, 1, 0]);
        assert_eq!(der_length(70_000), [0x83, 0x01, 0x11, 0x70]);
        assert_eq!(integer(&[2]), [2, 1, 2]);
        assert_eq!(integer(&[0, 0, 0x80]), [2, 2, 0, 0x80]);
        assert_eq!(integer(&[]), [2, 1, 0]);
        assert_eq!(integer(&[0, 0]), [2, 1, 0]);
        // 2.5.29.17 and 1.2.840.113549.1.1.11 as every DER dump shows them.
        assert_eq!(oid(OID_SUBJECT_ALT_NAME), [6, 3, 0x55, 0x1D, 0x11]);
        assert_eq!(
            oid(OID_SHA256_WITH_RSA),
            [6, 9, 0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 1, 1, 0x0B]
        );
    }

    #[test]
    fn synth_der_times() {
        // 2024-05-14T09:30:00Z.
        assert_eq!(time(1_715_679_000), tlv(TAG_UTC_TIME, b"240514093000Z"));
        assert_eq!(time(0), tlv(TAG_UTC_TIME, b"700101000000Z"));
        // 2050-01-01T00:00:00Z switches to GeneralizedTime.
        assert_eq!(
            time(2_524_608_000),
            tlv(TAG_GENERALIZED_TIME, b"20500101000000Z")
        );
        // 2000-02-29 (a leap day of a century leap year) and 1969-12-31T23:59:59Z.
        assert_eq!(time(951_782_400), tlv(TAG_UTC_TIME, b"000229000000Z"));
        assert_eq!(time(-1), tlv(TAG_UTC_TIME, b"691231235959Z"));
    }

    #[test]
    fn synth_certificates_are_deterministic_and_well_framed() {
        let spec = CertSpec::new(
            Name::cn("www.example.com"),
            Name::org_cn("Example CA", "Example CA R1").with_country("US"),
            1_700_000_000,
            90,
            7,
        )
        .with_dns(&["www.example.com", "example.com"])
        .with_basic_constraints(false);
        let a = spec.der();
        assert_eq!(a, spec.der());
        assert_ne!(
            a,
            CertSpec {
                seed: 8,
                ..spec.clone()
            }
            .der()
        );
        // Outer SEQUENCE with a two-byte length covering the rest exactly.
        assert_eq!(a[0], TAG_SEQUENCE);
        assert_eq!(a[1], 0x82);
        assert_eq!(usize::from(u16::from_be_bytes([a[2], a[3]])), a.len() - 4);
        let rsa = CertSpec::self_signed(Name::cn("x"), 0, 1, 1).der();
        assert!(rsa.len() > 2 * RSA_2048_BYTES);
    }
}
