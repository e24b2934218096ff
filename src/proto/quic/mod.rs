//! QUIC support: splits datagrams into long-header packets ([`packet`]), derives Initial keys
//! and opens Initial packets ([`crypto`]), reads their frames ([`frames`]), reassembles CRYPTO
//! data ([`stream`]) and follows each UDP flow's connections to the TLS hellos they carry
//! ([`conn`]); it never decrypts anything but Initial packets, whose keys are public by design
//! (RFC 9001 §5.2, §7), and never judges what it finds.
//!
//! Specifications: RFC 8999 (version-independent properties), RFC 9000 (transport: §12.2
//! coalescing, §16 varints, §17.2 long headers, §19 frames), RFC 9001 (packet protection:
//! §5.2 Initial secrets, §5.3 AEAD, §5.4 header protection, §5.8 Retry integrity), RFC 9369
//! (version 2: salt, labels and packet-type bits), and draft-ietf-quic-tls-29 §5.2 for the
//! draft-29 salt. The ClientHello and ServerHello found in CRYPTO data are decoded by the same
//! code as over TCP ([`super::tls::parse`]).

pub mod conn;
pub mod crypto;
pub mod frames;
pub mod packet;
pub mod stream;

pub use conn::{DatagramCtx, QuicFlow};
pub use frames::ConnectionClose;
pub use packet::{looks_like_quic_long_header, ConnectionId, PacketType};

/// UDP server ports on which QUIC is expected (HTTP/3 on 443, and the 80 and 8443 some
/// deployments use); on other ports a datagram must itself look like a QUIC long header.
pub const QUIC_PORTS: &[u16] = &[443, 80, 8443];
