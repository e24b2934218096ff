//! Deterministic capture synthesis: builds packets, link-layer frames, capture
//! files and the committed test fixtures byte for byte; it never reads
//! captures, never looks at the clock and never uses OS randomness.
//!
//! The layers, bottom-up:
//!
//! * [`rng`]: the seeded SplitMix64 generator every "random" choice comes from.
//! * [`packet`]: IPv4/IPv6 packets with TCP, UDP and ICMP payloads and correct
//!   (or deliberately wrong) checksums, plus IP fragmentation.
//! * [`link`]: link-layer encapsulations (Ethernet with VLAN tags, raw IP,
//!   Linux cooked, BSD loopback, PPP, PPPoE, MPLS, opaque "user" types).
//! * [`app`]: DNS, TLS and HTTP/1.1 payload builders.
//! * [`x509`]: small deterministic X.509 certificates in hand-written DER.
//! * [`quic`]: QUIC Initial packets protected with the real Initial keys (RFC 9001, RFC 9369),
//!   opaque Handshake and 1-RTT packets, their frames, and the hellos QUIC carries.
//! * [`writer`]: classic pcap and pcapng writers, compression, and helpers to
//!   cut files short.
//! * [`scenario`]: a timeline builder that keeps TCP sequence numbers, TTLs,
//!   IP IDs and round-trip times consistent.
//! * [`transfer`]: a TCP bulk-transfer simulator (congestion control, loss
//!   recovery, windows) over a policer, shaper, bottleneck, lossy or freezing
//!   path, emitting through a scenario.
//! * [`fixtures`]: the catalogue of committed format and decoding fixtures,
//!   with the ground truth tamper must reproduce for each.
//! * `fixtures_tls`, `fixtures_blockpage`, `fixtures_throttling` and
//!   `fixtures_blackhole`: the `tls/`, `blockpage/`, `throttling/` and
//!   `blackhole/` groups of that catalogue (certificates; blockpages, injected
//!   responses, forced redirects; policed, frozen and slowed transfers; silent
//!   drops, prohibited ICMP, network cuts and collateral blocking; each with
//!   their benign look-alikes); `fixtures_quic` adds the `blackhole/quic-*`
//!   captures (QUIC Initials sealed with real keys, dropped or answered);
//!   `fixtures_sample` lays fixtures of every class end to end into
//!   `sample/incident.pcapng`.
//!
//! Everything here is deterministic: the same calls give byte-identical
//! output on every machine.

#![deny(missing_docs)]

pub mod app;
pub mod fixtures;
mod fixtures_blackhole;
mod fixtures_blockpage;
mod fixtures_quic;
mod fixtures_sample;
mod fixtures_throttling;
mod fixtures_tls;
pub mod link;
pub mod packet;
pub mod quic;
#[cfg(test)]
mod reference;
pub mod rng;
pub mod scenario;
pub mod transfer;
pub mod writer;
pub mod x509;

/// Errors from synthesis: malformed input handed to a helper that has to
/// parse it (fragmentation), or a failing compressor.
#[derive(Debug, thiserror::Error)]
pub enum SynthError {
    /// A packet given to a helper is not what the helper needs.
    #[error("invalid input packet: {0}")]
    InvalidPacket(&'static str),
    /// A request the builder cannot satisfy (mismatched address families, a
    /// fragment size too small, ...).
    #[error("invalid request: {0}")]
    InvalidRequest(&'static str),
    /// The compressor failed.
    #[error("compression failed: {0}")]
    Compression(#[from] std::io::Error),
}
