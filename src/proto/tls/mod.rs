//! TLS support: decodes handshake messages ([`parse`]) and the certificates in them
//! ([`cert`]), scans one direction of a stream ([`scan`]) and matches host names against
//! certificate names ([`names`]); it never decrypts, never verifies a certificate and never
//! looks past the point where the handshake is encrypted.

pub mod cert;
pub mod names;
pub mod parse;
pub mod scan;
