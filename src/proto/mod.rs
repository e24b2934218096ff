//! Protocol facts extracted from flows: TCP state, DNS, TLS and HTTP events.

pub mod baseline;
pub mod dns;
pub mod http;
pub mod tcp;
pub mod tls;
