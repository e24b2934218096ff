//! HTTP/1.x support: head decoding ([`parse`]) and the per-direction stream scanner ([`scan`]).

pub mod parse;
pub mod scan;
