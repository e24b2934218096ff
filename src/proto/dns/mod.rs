//! DNS support: message parsing ([`parse`]) and DNS-over-TCP framing.

mod name;
pub mod parse;
mod rdata;
mod tcp;
