//! HTTP/1.x support: decodes heads ([`parse`]) and scans one direction of a stream ([`scan`]);
//! it never decompresses bodies and keeps only bounded excerpts of them.

pub mod parse;
pub mod scan;
