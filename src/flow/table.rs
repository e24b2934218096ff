//! The flow table: finds, creates and expires flows in capture time under a size cap; it never
//! inspects packets beyond their addresses, ports and the hints it is given.

use std::collections::HashMap;

use super::{
    is_server_port, Endpoint, FlowEnd, FlowKey, FlowRecord, L4Proto, PacketLog, RoleBasis, Timeline,
};
use crate::decode::TcpFlags;
use crate::ids::{Direction, FlowId, FrameNumber};
use crate::time::{Span, Timestamp};

/// Limits and timeouts of the flow table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FlowLimits {
    /// Flows tracked at once (`--max-flows`). When the table is full, flows idle for more than
    /// `emergency_idle` are expired early; if that frees nothing, packets of new flows are
    /// counted but not analyzed and `limit_reached_flow_table` is reported.
    pub max_flows: usize,
    /// A flow with no packet for this long is ended (`--flow-timeout`, default one hour so that
    /// flows match Wireshark's conversations on ordinary captures).
    pub idle_timeout: Span,
    /// A TCP flow that has closed (FIN both ways or RST) is kept this long for late packets.
    pub closed_timeout: Span,
    /// Idle time after which flows may be expired early when the table is full.
    pub emergency_idle: Span,
    /// Packets kept at the start of each flow's evidence log.
    pub log_head: u16,
    /// Packets kept in the ring of each flow's latest packets.
    pub log_tail: u16,
}

impl Default for FlowLimits {
    fn default() -> Self {
        FlowLimits {
            max_flows: 1_000_000,
            idle_timeout: Span::from_secs(3600),
            closed_timeout: Span::from_secs(120),
            emergency_idle: Span::from_secs(30),
            log_head: 12,
            log_tail: 12,
        }
    }
}

/// A flow and its protocol state.
#[derive(Debug)]
pub struct Flow<S> {
    /// Addresses, roles, counters.
    pub record: FlowRecord,
    /// Protocol state owned by the layer above.
    pub state: S,
    /// When the flow closed (TCP FIN both ways or RST), if it has.
    pub closed_at: Option<Timestamp>,
}

/// Result of asking the table for a packet's flow.
pub enum Lookup<'a, S> {
    /// The packet's flow (new or existing) and its direction within it.
    Flow {
        /// The flow.
        flow: &'a mut Flow<S>,
        /// Direction of the packet.
        dir: Direction,
        /// The packet created the flow.
        created: bool,
    },
    /// The table is full; the packet's flow is not tracked.
    Full,
}

/// Hints about the first packet of a flow used to decide the roles.
#[derive(Clone, Copy, Debug, Default)]
pub struct RoleHint {
    /// TCP flags, for TCP.
    pub tcp_flags: Option<TcpFlags>,
    /// DNS QR bit (true = response), when the payload is a DNS message.
    pub dns_response: Option<bool>,
}

/// All flows of one capture (or one shard of it).
pub struct FlowTable<S> {
    limits: FlowLimits,
    flows: HashMap<FlowKey, Flow<S>>,
    now: Timestamp,
    last_sweep: Option<Timestamp>,
    last_emergency: Option<Timestamp>,
    untracked_packets: u64,
    peak: usize,
}

impl<S> FlowTable<S> {
    /// An empty table.
    pub fn new(limits: FlowLimits) -> FlowTable<S> {
        FlowTable {
            limits,
            flows: HashMap::new(),
            now: Timestamp::EPOCH,
            last_sweep: None,
            last_emergency: None,
            untracked_packets: 0,
            peak: 0,
        }
    }

    /// The limits in force.
    pub fn limits(&self) -> &FlowLimits {
        &self.limits
    }

    /// Flows currently tracked.
    pub fn len(&self) -> usize {
        self.flows.len()
    }

    /// True when no flow is tracked.
    pub fn is_empty(&self) -> bool {
        self.flows.is_empty()
    }

    /// Most flows tracked at once.
    pub fn peak(&self) -> usize {
        self.peak
    }

    /// Packets that belonged to flows the full table could not track.
    pub fn untracked_packets(&self) -> u64 {
        self.untracked_packets
    }

    /// The flow of `key`, if tracked.
    pub fn get_mut(&mut self, key: &FlowKey) -> Option<&mut Flow<S>> {
        self.flows.get_mut(key)
    }

    /// Removes a flow (for example when a new SYN reuses its 5-tuple).
    pub fn remove(&mut self, key: &FlowKey) -> Option<Flow<S>> {
        self.flows.remove(key)
    }

    /// Advances capture time; returns flows that timed out, oldest id first. Sweeps run at
    /// most once per tenth of the idle timeout of capture time, so their cost stays small.
    pub fn advance(&mut self, ts: Timestamp) -> Vec<Flow<S>> {
        if ts > self.now {
            self.now = ts;
        }
        let interval =
            Span::from_nanos((self.limits.idle_timeout.as_nanos() / 10).max(1_000_000_000));
        match self.last_sweep {
            None => {
                self.last_sweep = Some(self.now);
                Vec::new()
            }
            Some(last) if self.now.since(last) >= interval => {
                self.last_sweep = Some(self.now);
                self.sweep(self.limits.idle_timeout)
            }
            Some(_) => Vec::new(),
        }
    }

    fn sweep(&mut self, idle: Span) -> Vec<Flow<S>> {
        let now = self.now;
        let closed = self.limits.closed_timeout;
        let expired_keys: Vec<FlowKey> = self
            .flows
            .iter()
            .filter(|(_, f)| {
                let limit = if f.closed_at.is_some() {
                    closed.min(idle)
                } else {
                    idle
                };
                now.since(f.record.last_ts) >= limit
            })
            .map(|(k, _)| *k)
            .collect();
        let mut out: Vec<Flow<S>> = expired_keys
            .iter()
            .filter_map(|k| self.flows.remove(k))
            .map(|mut f| {
                if f.record.end.is_none() {
                    f.record.end = Some(FlowEnd::IdleTimeout);
                }
                f
            })
            .collect();
        out.sort_by_key(|f| f.record.id);
        out
    }

    /// Looks up the flow of a packet from `src` to `dst`, creating it when new. Flows evicted
    /// to make room are appended to `ended`.
    #[allow(clippy::too_many_arguments)] // Each argument is a distinct fact about the packet.
    pub fn lookup(
        &mut self,
        key: FlowKey,
        src: Endpoint,
        dst: Endpoint,
        hint: RoleHint,
        frame: FrameNumber,
        ts: Timestamp,
        new_state: impl FnOnce(&FlowRecord) -> S,
        ended: &mut Vec<Flow<S>>,
    ) -> Lookup<'_, S> {
        if !self.flows.contains_key(&key) && self.flows.len() >= self.limits.max_flows {
            let due = self
                .last_emergency
                .is_none_or(|t| self.now.since(t) >= Span::from_secs(1));
            if due {
                self.last_emergency = Some(self.now);
                ended.extend(
                    self.sweep(self.limits.emergency_idle)
                        .into_iter()
                        .map(|mut f| {
                            f.record.end = Some(FlowEnd::Evicted);
                            f
                        }),
                );
            }
            if self.flows.len() >= self.limits.max_flows {
                self.untracked_packets += 1;
                return Lookup::Full;
            }
        }
        let limits = self.limits;
        let mut created = false;
        let flow = self.flows.entry(key).or_insert_with(|| {
            created = true;
            let (client, server, role_basis) = decide_roles(key.proto, src, dst, hint);
            let mut history = super::History::default();
            if role_basis.is_guess() {
                history.add('^');
            }
            let record = FlowRecord {
                id: FlowId {
                    first_frame: frame,
                    depth: key.depth,
                },
                proto: key.proto,
                client,
                server,
                role_basis,
                depth: key.depth,
                first_ts: ts,
                last_ts: ts,
                stats: Default::default(),
                history,
                labels: Default::default(),
                end: None,
                log: PacketLog::new(limits.log_head, limits.log_tail),
                timeline: Timeline::new(ts),
            };
            let state = new_state(&record);
            Flow {
                record,
                state,
                closed_at: None,
            }
        });
        let dir = if src == flow.record.client && dst == flow.record.server {
            Direction::ClientToServer
        } else {
            Direction::ServerToClient
        };
        if self.flows.len() > self.peak {
            self.peak = self.flows.len();
        }
        match self.flows.get_mut(&key) {
            Some(flow) => Lookup::Flow { flow, dir, created },
            None => Lookup::Full,
        }
    }

    /// Ends every remaining flow (capture over), oldest id first.
    pub fn drain(&mut self) -> Vec<Flow<S>> {
        let mut out: Vec<Flow<S>> = self
            .flows
            .drain()
            .map(|(_, mut f)| {
                if f.record.end.is_none() {
                    f.record.end = Some(FlowEnd::CaptureEnd);
                }
                f
            })
            .collect();
        out.sort_by_key(|f| f.record.id);
        out
    }
}

/// Decides client and server for the first packet of a flow.
pub fn decide_roles(
    proto: L4Proto,
    src: Endpoint,
    dst: Endpoint,
    hint: RoleHint,
) -> (Endpoint, Endpoint, RoleBasis) {
    if proto == L4Proto::Tcp {
        if let Some(flags) = hint.tcp_flags {
            if flags.syn() && !flags.ack() {
                return (src, dst, RoleBasis::Syn);
            }
            if flags.syn() && flags.ack() {
                return (dst, src, RoleBasis::SynAck);
            }
        }
    }
    if let Some(response) = hint.dns_response {
        return if response {
            (dst, src, RoleBasis::DnsResponse)
        } else {
            (src, dst, RoleBasis::DnsResponse)
        };
    }
    if is_server_port(src.port) && !is_server_port(dst.port) {
        (dst, src, RoleBasis::ServerPort)
    } else {
        (src, dst, RoleBasis::FirstPacket)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ep(a: &str, port: u16) -> Endpoint {
        Endpoint {
            addr: a.parse().unwrap(),
            port,
        }
    }

    fn frame(n: u64) -> FrameNumber {
        FrameNumber::new(n).unwrap()
    }

    #[test]
    fn roles() {
        let c = ep("10.0.0.1", 50000);
        let s = ep("10.0.0.2", 443);
        let syn = RoleHint {
            tcp_flags: Some(TcpFlags::SYN),
            dns_response: None,
        };
        assert_eq!(
            decide_roles(L4Proto::Tcp, c, s, syn),
            (c, s, RoleBasis::Syn)
        );
        let synack = RoleHint {
            tcp_flags: Some(TcpFlags::SYN | TcpFlags::ACK),
            dns_response: None,
        };
        assert_eq!(
            decide_roles(L4Proto::Tcp, s, c, synack),
            (c, s, RoleBasis::SynAck)
        );
        assert_eq!(
            decide_roles(L4Proto::Udp, s, c, RoleHint::default()),
            (c, s, RoleBasis::ServerPort)
        );
        let dns = RoleHint {
            tcp_flags: None,
            dns_response: Some(true),
        };
        let r = ep("9.9.9.9", 53);
        assert_eq!(
            decide_roles(L4Proto::Udp, r, c, dns),
            (c, r, RoleBasis::DnsResponse)
        );
        let ntp_a = ep("10.0.0.1", 123);
        let ntp_b = ep("10.0.0.9", 123);
        assert_eq!(
            decide_roles(L4Proto::Udp, ntp_a, ntp_b, RoleHint::default()),
            (ntp_a, ntp_b, RoleBasis::FirstPacket)
        );
    }

    #[test]
    fn lookup_creates_then_finds_both_directions() {
        let mut t: FlowTable<u32> = FlowTable::new(FlowLimits::default());
        let c = ep("10.0.0.1", 50000);
        let s = ep("10.0.0.2", 80);
        let key = FlowKey::new(L4Proto::Tcp, c, s, 0);
        let mut ended = Vec::new();
        let ts = Timestamp::from_parts(1, 0);
        match t.lookup(
            key,
            c,
            s,
            RoleHint::default(),
            frame(1),
            ts,
            |_| 7,
            &mut ended,
        ) {
            Lookup::Flow { flow, dir, created } => {
                assert!(created);
                assert_eq!(dir, Direction::ClientToServer);
                assert_eq!(flow.state, 7);
            }
            Lookup::Full => panic!(),
        }
        match t.lookup(
            key,
            s,
            c,
            RoleHint::default(),
            frame(2),
            ts,
            |_| 9,
            &mut ended,
        ) {
            Lookup::Flow { flow, dir, created } => {
                assert!(!created);
                assert_eq!(dir, Direction::ServerToClient);
                assert_eq!(flow.record.id.first_frame, frame(1));
            }
            Lookup::Full => panic!(),
        }
    }

    #[test]
    fn idle_flows_expire_in_capture_time_sorted() {
        let limits = FlowLimits {
            idle_timeout: Span::from_secs(60),
            ..FlowLimits::default()
        };
        let mut t: FlowTable<()> = FlowTable::new(limits);
        let mut ended = Vec::new();
        for i in 0..5u16 {
            let c = ep("10.0.0.1", 1000 + i);
            let s = ep("10.0.0.2", 53);
            let ts = Timestamp::from_parts(i64::from(i), 0);
            t.advance(ts);
            let key = FlowKey::new(L4Proto::Udp, c, s, 0);
            let _ = t.lookup(
                key,
                c,
                s,
                RoleHint::default(),
                frame(u64::from(i) + 1),
                ts,
                |_| (),
                &mut ended,
            );
            if let Some(f) = t.get_mut(&key) {
                f.record.last_ts = ts;
            }
        }
        assert!(t.advance(Timestamp::from_parts(30, 0)).is_empty());
        let gone = t.advance(Timestamp::from_parts(62, 500_000_000));
        let ids: Vec<u64> = gone.iter().map(|f| f.record.id.first_frame.get()).collect();
        assert_eq!(ids, vec![1, 2, 3]);
        assert!(gone
            .iter()
            .all(|f| f.record.end == Some(FlowEnd::IdleTimeout)));
        assert_eq!(t.len(), 2);
        let rest = t.drain();
        assert_eq!(rest.len(), 2);
        assert_eq!(rest[0].record.end, Some(FlowEnd::CaptureEnd));
    }

    #[test]
    fn full_table_degrades_gracefully() {
        let limits = FlowLimits {
            max_flows: 2,
            ..FlowLimits::default()
        };
        let mut t: FlowTable<()> = FlowTable::new(limits);
        let mut ended = Vec::new();
        let s = ep("10.0.0.2", 80);
        let ts = Timestamp::from_parts(1, 0);
        for i in 0..3u16 {
            let c = ep("10.0.0.1", 1000 + i);
            let key = FlowKey::new(L4Proto::Tcp, c, s, 0);
            let r = t.lookup(
                key,
                c,
                s,
                RoleHint::default(),
                frame(u64::from(i) + 1),
                ts,
                |_| (),
                &mut ended,
            );
            assert_eq!(matches!(r, Lookup::Full), i == 2);
        }
        assert_eq!(t.untracked_packets(), 1);
        assert_eq!(t.peak(), 2);
    }
}
