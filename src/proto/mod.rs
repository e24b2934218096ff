//! Extracts protocol facts from flows (TCP state and reassembly, TLS, HTTP/1.x, DNS, QUIC
//! Initials) and turns them into events for detectors; it never decides what is interference.

pub mod app;
pub mod baseline;
pub mod dns;
pub mod event;
pub mod http;
pub mod quic;
pub mod tcp;
pub mod tls;
pub mod transactions;
