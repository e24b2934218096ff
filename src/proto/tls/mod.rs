//! TLS support: handshake message decoding ([`parse`]) and the per-direction record scanner
//! ([`scan`]).

pub mod parse;
pub mod scan;
