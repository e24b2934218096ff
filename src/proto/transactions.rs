//! Pairs DNS queries with every response they get (same flow, transaction ID and question)
//! in a bounded table; it parses nothing and judges nothing.
//!
//! A query stays open for the transaction window after it was sent, collecting responses (an
//! on-path injector's forged answer and the resolver's real one both land here); then the
//! whole transaction is handed to detectors. The table is capped (`--max-pending-dns`); when
//! full, the oldest query is closed early and `limit_reached_dns_pending` is reported.

use std::collections::{HashMap, VecDeque};

use super::dns::parse::DnsMessage;
use super::event::{DnsQueryRef, DnsResponseRef};
use crate::decode::IpHeader;
use crate::diag::{DiagnosticKind, Diagnostics};
use crate::flow::FlowKey;
use crate::ids::{FlowId, FrameNumber, L4Proto};
use crate::time::{Span, Timestamp};

/// Limits of the DNS transaction table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DnsTrackLimits {
    /// Queries waiting for responses at once (`--max-pending-dns`).
    pub max_pending: usize,
    /// How long after a query its responses are collected.
    pub window: Span,
    /// Responses kept per query (more are counted in events but not stored).
    pub max_responses: usize,
}

impl Default for DnsTrackLimits {
    fn default() -> Self {
        DnsTrackLimits {
            max_pending: 65_536,
            window: Span::from_secs(10),
            max_responses: 16,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct TxKey {
    flow: FlowId,
    id: u16,
    qname: String,
    qtype: u16,
}

#[derive(Debug)]
struct Pending {
    flow_key: FlowKey,
    transport: L4Proto,
    query: DnsQueryRef,
    responses: Vec<DnsResponseRef>,
    answered: u32,
    serial: u64,
}

/// A finished transaction.
#[derive(Debug)]
pub struct ClosedTransaction {
    /// The flow it belongs to.
    pub flow_key: FlowKey,
    /// The flow id.
    pub flow_id: FlowId,
    /// Transport.
    pub transport: L4Proto,
    /// The query.
    pub query: DnsQueryRef,
    /// Its responses in arrival order.
    pub responses: Vec<DnsResponseRef>,
}

/// The DNS transaction table of one capture.
#[derive(Debug, Default)]
pub struct DnsTracker {
    limits: DnsTrackLimits,
    pending: HashMap<TxKey, Pending>,
    by_flow: HashMap<FlowId, Vec<TxKey>>,
    order: VecDeque<(TxKey, u64)>,
    serial: u64,
}

fn key_of(flow: FlowId, msg: &DnsMessage) -> Option<TxKey> {
    let q = msg.question()?;
    Some(TxKey {
        flow,
        id: msg.header.id,
        qname: q.name.to_lowercase(),
        qtype: q.qtype.0,
    })
}

impl DnsTracker {
    /// An empty table.
    pub fn new(limits: DnsTrackLimits) -> DnsTracker {
        DnsTracker {
            limits,
            ..DnsTracker::default()
        }
    }

    /// Records a query. Returns whether it repeats an open query, plus transactions closed
    /// early to make room.
    #[allow(clippy::too_many_arguments)] // The query's facts.
    pub fn on_query(
        &mut self,
        flow_key: FlowKey,
        flow: FlowId,
        transport: L4Proto,
        frame: FrameNumber,
        ts: Timestamp,
        ip: &IpHeader,
        msg: &DnsMessage,
        diags: &mut Diagnostics,
    ) -> (bool, Vec<ClosedTransaction>) {
        let Some(key) = key_of(flow, msg) else {
            return (false, Vec::new());
        };
        if let Some(p) = self.pending.get_mut(&key) {
            p.query.sends += 1;
            return (true, Vec::new());
        }
        let mut closed = Vec::new();
        while self.pending.len() >= self.limits.max_pending {
            let max = self.limits.max_pending;
            diags.note(DiagnosticKind::LimitReachedDnsPending, Some(frame), || {
                format!("{max} DNS queries were waiting for responses; the oldest was closed early")
            });
            match self.pop_oldest() {
                Some(c) => closed.push(c),
                None => break,
            }
        }
        let q = msg.question();
        self.serial += 1;
        self.order.push_back((key.clone(), self.serial));
        self.by_flow.entry(flow).or_default().push(key.clone());
        self.pending.insert(
            key,
            Pending {
                flow_key,
                transport,
                query: DnsQueryRef {
                    frame,
                    ts,
                    ip: *ip,
                    id: msg.header.id,
                    qname: q.map(|q| q.name.as_str().to_string()).unwrap_or_default(),
                    qtype: q.map_or(0, |q| q.qtype.0),
                    edns: msg.edns.is_some(),
                    sends: 1,
                },
                responses: Vec::new(),
                answered: 0,
                serial: self.serial,
            },
        );
        (false, closed)
    }

    /// Records a response; returns the query it answers and its rank (1 = first response), or
    /// `(None, 0)` when no open query matches.
    pub fn on_response(
        &mut self,
        flow: FlowId,
        frame: FrameNumber,
        ts: Timestamp,
        ip: &IpHeader,
        msg: &DnsMessage,
    ) -> (Option<DnsQueryRef>, u32) {
        let Some(key) = key_of(flow, msg) else {
            return (None, 0);
        };
        let Some(p) = self.pending.get_mut(&key) else {
            return (None, 0);
        };
        p.answered += 1;
        if p.responses.len() < self.limits.max_responses {
            p.responses.push(DnsResponseRef {
                frame,
                ts,
                ip: *ip,
                message: msg.clone(),
            });
        }
        (Some(p.query.clone()), p.answered)
    }

    /// Closes transactions whose window has passed.
    pub fn expire(&mut self, now: Timestamp) -> Vec<ClosedTransaction> {
        let mut out = Vec::new();
        while let Some((key, serial)) = self.order.front().cloned() {
            match self.pending.get(&key) {
                Some(p) if p.serial == serial => {
                    if now.since(p.query.ts) < self.limits.window {
                        break;
                    }
                    if let Some(c) = self.pop_oldest() {
                        out.push(c);
                    }
                }
                _ => {
                    self.order.pop_front();
                }
            }
        }
        out
    }

    /// Closes every transaction of a flow that ended, in query order.
    pub fn close_flow(&mut self, flow: FlowId) -> Vec<ClosedTransaction> {
        let Some(keys) = self.by_flow.remove(&flow) else {
            return Vec::new();
        };
        let mut out: Vec<ClosedTransaction> =
            keys.into_iter().filter_map(|k| self.take(&k)).collect();
        out.sort_by_key(|c| c.query.frame);
        out
    }

    /// Closes everything (end of capture), in query order.
    pub fn drain(&mut self) -> Vec<ClosedTransaction> {
        let mut out = Vec::new();
        while let Some(c) = self.pop_oldest() {
            out.push(c);
        }
        out
    }

    fn pop_oldest(&mut self) -> Option<ClosedTransaction> {
        while let Some((key, serial)) = self.order.pop_front() {
            if self.pending.get(&key).is_some_and(|p| p.serial == serial) {
                if let Some(list) = self.by_flow.get_mut(&key.flow) {
                    list.retain(|k| k != &key);
                    if list.is_empty() {
                        self.by_flow.remove(&key.flow);
                    }
                }
                return self.take(&key);
            }
        }
        None
    }

    fn take(&mut self, key: &TxKey) -> Option<ClosedTransaction> {
        let p = self.pending.remove(key)?;
        Some(ClosedTransaction {
            flow_key: p.flow_key,
            flow_id: key.flow,
            transport: p.transport,
            query: p.query,
            responses: p.responses,
        })
    }
}
