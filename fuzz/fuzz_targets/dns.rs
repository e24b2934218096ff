//! Fuzz target `dns`: the input is a DNS message (as in a UDP datagram) for the message
//! parser under the default and under tight limits, and a DNS-over-TCP stream for the
//! length-prefix framer, whose messages must not depend on how the stream is split; it must
//! not parse anything itself.

#![no_main]

use libfuzzer_sys::fuzz_target;
use tamper::proto::dns::parse::{
    parse_message, DnsLimits, DnsMessage, DnsTcpFramer, DnsTcpMessage, ForwardPointerPolicy,
};

/// What detectors ask of a parsed message.
fn use_message(m: &DnsMessage) {
    let _ = m.kind();
    let _ = m.question();
    let _ = m.full_rcode();
    let _ = m.answer_addresses();
    let _ = m.hint_addresses();
    let _ = m.all_answer_addresses();
    let _ = m.cname_chain();
    let _ = m.has_problems();
}

fn frame<'a>(pieces: impl IntoIterator<Item = &'a [u8]>) -> Vec<DnsTcpMessage> {
    let mut framer = DnsTcpFramer::new();
    let mut out = Vec::new();
    for p in pieces {
        out.extend(framer.feed(p));
    }
    out
}

fuzz_target!(|data: &[u8]| {
    let default = DnsLimits::default();
    let tight = DnsLimits {
        max_records_per_section: 2,
        max_labels: 4,
        max_pointer_jumps: 1,
        forward_pointers: ForwardPointerPolicy::Reject,
        max_rdata_copy: 4,
        max_trailing_copy: 2,
        max_edns_options: 1,
        max_svc_params: 1,
    };
    for limits in [&default, &tight] {
        if let Ok(m) = parse_message(data, limits) {
            use_message(&m);
        }
    }
    let whole = frame([data]);
    let split = frame(tamper_fuzz::chunks(data));
    assert_eq!(whole, split, "DNS-over-TCP messages depend on the split");
    for m in &whole {
        if let Ok(m) = parse_message(&m.bytes, &default) {
            use_message(&m);
        }
    }
});
