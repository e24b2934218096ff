//! TLS support: decodes handshake messages ([`parse`]) and scans one direction of a stream
//! ([`scan`]); it never decrypts and never looks past the point where the handshake is
//! encrypted.

pub mod parse;
pub mod scan;
