//! Decides whether the names in a certificate summary cover a host name, by the rules of RFC
//! 6125 §6.4 as browsers apply them; it only compares strings, never parses certificates and
//! never decides what a mismatch means.
//!
//! The rules: names compare without regard to ASCII case and one trailing dot; a wildcard is
//! only a whole left-most label `*` and stands for exactly one non-empty label, so
//! `*.example.com` covers `a.example.com` but neither `example.com` nor `a.b.example.com`;
//! partial wildcards (`f*.example.com`) and wildcards over fewer than two labels (`*.com`) match
//! nothing, as in current browsers (RFC 6125 §6.4.3 leaves them to the client; the CA/Browser
//! Forum Baseline Requirements forbid them). The subject commonName is consulted only when the
//! certificate has no subjectAltName DNS names (RFC 6125 §6.4.4); an IP address host matches
//! only iPAddress entries (RFC 6125 §3.1.3.2 via RFC 5280 §4.2.1.6).

use std::net::IpAddr;

use serde::Serialize;

use super::parse::CertificateSummary;

/// Whether a certificate covers a host, as far as the summary can tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Coverage {
    /// A presented name matches the host.
    Covered,
    /// No presented name matches, and every name was seen.
    NotCovered,
    /// No leaf facts (the leaf did not parse or was cut short), or no kept name matches but
    /// the summary dropped some names at its caps.
    Unknown,
}

/// Whether the presented DNS name `pattern` matches the reference `host` (RFC 6125 §6.4).
pub fn name_matches(pattern: &str, host: &str) -> bool {
    let pattern = pattern.strip_suffix('.').unwrap_or(pattern);
    let host = host.strip_suffix('.').unwrap_or(host);
    if host.is_empty() || host.contains('*') || host.split('.').any(str::is_empty) {
        return false;
    }
    match pattern.strip_prefix("*.") {
        Some(rest) => {
            let base_labels = rest.split('.').count();
            if base_labels < 2
                || rest.contains('*')
                || rest.split('.').any(str::is_empty)
                || host.parse::<IpAddr>().is_ok()
            {
                return false;
            }
            match host.split_once('.') {
                Some((first, host_rest)) => {
                    !first.is_empty() && host_rest.eq_ignore_ascii_case(rest)
                }
                None => false,
            }
        }
        None => !pattern.contains('*') && pattern.eq_ignore_ascii_case(host),
    }
}

/// How far the leaf certificate in `summary` covers `host` (a DNS name, or an IP address with
/// or without IPv6 brackets).
pub fn certificate_coverage(summary: &CertificateSummary, host: &str) -> Coverage {
    let Some(leaf) = &summary.leaf else {
        return Coverage::Unknown;
    };
    let bare = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    if let Ok(ip) = bare.parse::<IpAddr>() {
        return if leaf.san_ip.contains(&ip) {
            Coverage::Covered
        } else if leaf.san_ip_total > leaf.san_ip.len() {
            Coverage::Unknown
        } else {
            Coverage::NotCovered
        };
    }
    if leaf.san_dns_total > 0 {
        return if leaf.san_dns.iter().any(|n| name_matches(n, host)) {
            Coverage::Covered
        } else if leaf.san_dns_cut() {
            Coverage::Unknown
        } else {
            Coverage::NotCovered
        };
    }
    match &leaf.subject.cn {
        Some(cn) if name_matches(cn, host) => Coverage::Covered,
        _ => Coverage::NotCovered,
    }
}

/// Whether a name in the leaf certificate of `summary` is known to cover `host`: false both
/// when it does not and when the summary cannot tell (see [`certificate_coverage`]).
pub fn certificate_covers(summary: &CertificateSummary, host: &str) -> bool {
    certificate_coverage(summary, host) == Coverage::Covered
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::tls::cert::{LeafCertificate, NameFacts};

    #[test]
    fn exact_names() {
        assert!(name_matches("www.example.com", "www.example.com"));
        assert!(name_matches("WWW.Example.COM", "www.example.com"));
        assert!(name_matches("www.example.com.", "www.example.com"));
        assert!(name_matches("www.example.com", "www.EXAMPLE.com."));
        assert!(!name_matches("www.example.com", "example.com"));
        assert!(!name_matches("example.com", "www.example.com"));
        assert!(!name_matches("", ""));
        assert!(!name_matches("www..com", "www..com"));
        assert!(!name_matches("a.example.com", "a.example.co"));
    }

    #[test]
    fn wildcards() {
        assert!(name_matches("*.example.com", "a.example.com"));
        assert!(name_matches("*.Example.com", "A.EXAMPLE.com"));
        assert!(name_matches("*.example.com.", "xn--bcher-kva.example.com"));
        assert!(!name_matches("*.example.com", "example.com"));
        assert!(!name_matches("*.example.com", "a.b.example.com"));
        assert!(!name_matches("*.example.com", ".example.com"));
        assert!(!name_matches("*.example.com", "*.example.com"));
        // Partial, embedded, several and too-broad wildcards match nothing.
        assert!(!name_matches("f*.example.com", "foo.example.com"));
        assert!(!name_matches("*oo.example.com", "foo.example.com"));
        assert!(!name_matches("a.*.example.com", "a.b.example.com"));
        assert!(!name_matches("*.*.example.com", "a.b.example.com"));
        assert!(!name_matches("*.com", "example.com"));
        assert!(!name_matches("*", "localhost"));
        assert!(!name_matches("*.", "a."));
        // A wildcard never covers an address.
        assert!(!name_matches("*.0.2.1", "192.0.2.1"));
    }

    fn summary(cn: Option<&str>, dns: &[&str], ips: &[&str]) -> CertificateSummary {
        CertificateSummary {
            stream_offset: 0,
            count: 1,
            first_cert_len: Some(1000),
            malformed: false,
            complete: true,
            leaf: Some(LeafCertificate {
                subject: NameFacts {
                    cn: cn.map(str::to_string),
                    o: None,
                },
                issuer: NameFacts::default(),
                has_san: !dns.is_empty() || !ips.is_empty(),
                san_dns: dns.iter().map(|s| s.to_string()).collect(),
                san_dns_total: dns.len(),
                san_ip: ips.iter().map(|s| s.parse().unwrap()).collect(),
                san_ip_total: ips.len(),
                not_before: 0,
                not_after: 1,
                self_signed: false,
            }),
            leaf_error: None,
            chain_issuers: Vec::new(),
        }
    }

    #[test]
    fn san_before_common_name() {
        let s = summary(
            Some("cn-only.example"),
            &["*.cdn.example", "www.site.example"],
            &[],
        );
        assert!(certificate_covers(&s, "img.cdn.example"));
        assert!(certificate_covers(&s, "WWW.site.example"));
        // The CN is ignored when DNS names are present.
        assert!(!certificate_covers(&s, "cn-only.example"));
        assert_eq!(
            certificate_coverage(&s, "cn-only.example"),
            Coverage::NotCovered
        );
        let cn_only = summary(Some("www.site.example"), &[], &[]);
        assert!(certificate_covers(&cn_only, "www.site.example"));
        assert!(!certificate_covers(&cn_only, "site.example"));
        // Only IP entries: the CN still counts for names (RFC 6125 §6.4.4).
        let ip_and_cn = summary(Some("*.site.example"), &[], &["192.0.2.9"]);
        assert!(certificate_covers(&ip_and_cn, "a.site.example"));
        assert!(!certificate_covers(&summary(None, &[], &[]), "a.example"));
    }

    #[test]
    fn addresses() {
        let s = summary(
            Some("192.0.2.1"),
            &["www.site.example", "192.0.2.1"],
            &["192.0.2.9", "2001:db8::9"],
        );
        assert!(certificate_covers(&s, "192.0.2.9"));
        assert!(certificate_covers(&s, "2001:db8::9"));
        assert!(certificate_covers(&s, "[2001:db8::9]"));
        assert!(certificate_covers(&s, "2001:DB8:0::9"));
        // A DNS entry or a CN spelling the address does not count.
        assert!(!certificate_covers(&s, "192.0.2.1"));
        assert_eq!(certificate_coverage(&s, "192.0.2.1"), Coverage::NotCovered);
    }

    #[test]
    fn unknown_when_the_summary_cannot_tell() {
        let mut s = summary(None, &["a.example"], &["192.0.2.1"]);
        if let Some(leaf) = s.leaf.as_mut() {
            leaf.san_dns_total = 100;
            leaf.san_ip_total = 30;
        }
        assert_eq!(certificate_coverage(&s, "a.example"), Coverage::Covered);
        assert_eq!(certificate_coverage(&s, "b.example"), Coverage::Unknown);
        assert_eq!(certificate_coverage(&s, "192.0.2.2"), Coverage::Unknown);
        s.leaf = None;
        assert_eq!(certificate_coverage(&s, "a.example"), Coverage::Unknown);
        assert!(!certificate_covers(&s, "a.example"));
    }
}
