//! http protocol support.

pub mod parse;
