//! tls protocol support.

pub mod parse;
