//! dns protocol support.

pub mod parse;
