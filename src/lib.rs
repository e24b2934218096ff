//! tamper: finds the fingerprints of network interference in packet captures.
//!
//! The pipeline, one layer per module (each module's doc says what it must not do):
//!
//! ```text
//! capture ─Frame─▶ decode ─IpPacket─▶ defrag ─▶ flow ─(flow, direction, packet)─▶ proto
//! (pcap/pcapng,      (link, IP,        (bounded    (5-tuple table,             (TCP state and
//!  decompression,     TCP/UDP/ICMP,     IPv4/IPv6   roles, counters,            reassembly, TLS,
//!  frame numbers)     tunnels)          pool)       expiry)                     HTTP, DNS events)
//!                                                                                   │ ProtoEvent
//!                                                                                   ▼
//! report ◀─Report─ pipeline (sort, ids) ◀─Finding / Diagnostic─ detect (one detector per class)
//! (jsonl, csv, markdown)
//! ```
//!
//! [`pipeline::analyze_all`] runs it over many captures; `docs/architecture.md` explains the
//! layers and how to add a detector.

#![deny(unsafe_code)]

pub mod anon;
pub mod capture;
pub mod cli;
pub mod compare;
pub mod corpus;
pub mod decode;
pub mod defrag;
pub mod detect;
pub mod diag;
pub mod finding;
pub mod flow;
pub mod ids;
pub mod inspect;
pub mod pipeline;
pub mod proto;
pub mod report;
pub mod synth;
pub mod time;
