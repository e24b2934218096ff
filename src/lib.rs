//! tamper: finds the fingerprints of network interference in packet captures.

pub mod capture;
pub mod decode;
pub mod defrag;
pub mod diag;
pub mod finding;
pub mod flow;
pub mod ids;
pub mod proto;
pub mod report;
pub mod synth;
pub mod time;
