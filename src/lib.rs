//! tamper: finds the fingerprints of network interference in packet captures.

pub mod proto;
pub mod synth;
