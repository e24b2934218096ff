//! Fuzz target `http`: the input is one direction of an HTTP/1.x stream, scanned as requests
//! and as responses (after requests of methods drawn from the input), under the default and
//! under tight limits; events must not depend on how the stream is split. It must not parse
//! anything itself.

#![no_main]

use libfuzzer_sys::fuzz_target;
use tamper::proto::http::parse::{HttpEvent, HttpLimits, HttpRole, HttpScanner};

const METHODS: [&str; 5] = ["GET", "HEAD", "CONNECT", "POST", "OPTIONS"];

/// Every event of one scan of `pieces`, the end of the stream included.
fn scan<'a>(
    role: HttpRole,
    limits: &HttpLimits,
    methods: &[&str],
    pieces: impl IntoIterator<Item = &'a [u8]>,
) -> Vec<HttpEvent> {
    let mut s = HttpScanner::with_limits(role, limits.clone());
    for m in methods {
        s.expect_response_to(m);
    }
    let mut events = Vec::new();
    for p in pieces {
        events.extend(s.feed(p));
    }
    events.extend(s.finish());
    events
}

fuzz_target!(|data: &[u8]| {
    let mut rng = tamper_fuzz::rng_for(data);
    let count = rng.range_u64(0, 3) as usize;
    let methods: Vec<&str> = (0..count)
        .map(|_| METHODS[rng.range_u64(0, METHODS.len() as u64 - 1) as usize])
        .collect();
    let tight = HttpLimits {
        max_head_len: 64,
        max_headers: 3,
        body_excerpt_len: 8,
        max_chunk_line_len: 8,
        max_trailer_len: 16,
        max_pending_requests: 1,
    };
    for limits in [&HttpLimits::default(), &tight] {
        for role in [HttpRole::Requests, HttpRole::Responses] {
            let whole = scan(role, limits, &methods, [data]);
            let split = scan(role, limits, &methods, tamper_fuzz::chunks(data));
            assert_eq!(whole, split, "{role:?} events depend on the split");
        }
    }
});
