//! Fuzz target `reassembly`: the input (decoded with `arbitrary`) is a list of TCP segments of
//! one HTTP connection and IP fragments of one DNS response in any order, with overlaps,
//! holes, duplicates and altered copies (see `tamper_fuzz::reassembly`), turned into a pcap
//! and run through the whole pipeline, so that IP defragmentation and TCP reassembly see
//! them; it must not reassemble anything itself.

#![no_main]

use libfuzzer_sys::fuzz_target;
use tamper_fuzz::reassembly::{to_pcap, Input};

fuzz_target!(|input: Input| {
    tamper_fuzz::analyze_capture(&to_pcap(&input));
});
