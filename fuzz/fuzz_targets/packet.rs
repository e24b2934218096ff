//! Fuzz target `packet`: the input is one or several frames of a link type it chooses (see
//! `tamper_fuzz::packet_input_to_pcap` for the format), wrapped into a small pcap and run
//! through the per-packet pipeline (link layer, IP, defragmentation, flows, TCP and protocol
//! events, detectors); it must not do any analysis itself.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let pcap = tamper_fuzz::packet_input_to_pcap(data);
    if !pcap.is_empty() {
        tamper_fuzz::analyze_capture(&pcap);
    }
});
