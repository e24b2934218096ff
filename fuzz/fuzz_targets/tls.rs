//! Fuzz target `tls`: the input is one direction of a TLS stream for the record scanner, whose
//! events and counters must not depend on how the stream is split, and, at the offsets where a
//! record's handshake body would start, a handshake body for the ClientHello, ServerHello and
//! Certificate decoders, the leaf-certificate reader and the host-name matching run on what
//! they return. It must not parse anything itself.

#![no_main]

use libfuzzer_sys::fuzz_target;
use tamper::proto::tls::cert::{issuer_facts, leaf_facts};
use tamper::proto::tls::names::{certificate_coverage, name_matches};
use tamper::proto::tls::parse::{
    parse_certificate, parse_certificate_prefix, parse_client_hello, parse_server_hello,
    MessageOrigin, ServerHelloKind, TlsEvent, TlsScanStats, TlsScanner,
};

/// Every event of one scan of `pieces` (the end of the stream included) and the counters.
fn scan<'a>(pieces: impl IntoIterator<Item = &'a [u8]>) -> (Vec<TlsEvent>, TlsScanStats) {
    let mut s = TlsScanner::new();
    let mut events = Vec::new();
    for p in pieces {
        events.extend(s.feed(p));
    }
    events.extend(s.finish());
    (events, s.stats())
}

/// Host names to match certificates against: fixed ones and the input's own SNI.
const HOSTS: [&str; 4] = [
    "example.com",
    "a.b.example.com",
    "192.0.2.1",
    "[2001:db8::1]",
];

fuzz_target!(|data: &[u8]| {
    let whole = scan([data]);
    let split = scan(tamper_fuzz::chunks(data));
    assert_eq!(whole, split, "TLS events depend on the split");

    let origin = MessageOrigin {
        stream_offset: 0,
        record_count: 1,
        record_version: 0x0303,
    };
    // The body itself, after a handshake header, and after a record and a handshake header.
    for skip in [0, 4, 9] {
        let Some(body) = data.get(skip..) else {
            continue;
        };
        let mut hosts: Vec<String> = HOSTS.iter().map(|h| h.to_string()).collect();
        if let Ok(ch) = parse_client_hello(body, origin) {
            hosts.extend(ch.sni);
        }
        for kind in [
            ServerHelloKind::ServerHello,
            ServerHelloKind::DraftHelloRetryRequest,
        ] {
            let _ = parse_server_hello(body, origin, kind);
        }
        let _ = parse_certificate_prefix(body, 0);
        let summary = parse_certificate(body, 0);
        for h in &hosts {
            let _ = certificate_coverage(&summary, h);
            if let Some(leaf) = &summary.leaf {
                for pattern in &leaf.san_dns {
                    let _ = name_matches(pattern, h);
                }
            }
        }
        let _ = leaf_facts(body);
        let _ = issuer_facts(body);
    }
});
