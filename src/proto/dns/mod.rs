//! DNS support: parses messages ([`parse`]) and splits DNS-over-TCP streams into messages; it
//! keeps no flow state and never does I/O.

mod name;
pub mod parse;
mod rdata;
mod tcp;
