//! Fuzz target `capture_file`: the input is a whole capture file (pcap, pcapng, or either of
//! them gzip-, xz- or zstd-compressed, recognised by magic bytes) read from memory and run
//! through every layer and detector of the pipeline; it must not do any analysis itself.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    tamper_fuzz::analyze_capture(data);
});
