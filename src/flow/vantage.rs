//! Counts, as flows end, which addresses take part in them as client or server and whether both
//! directions were seen, to infer the capturing host (the vantage point); it keeps a bounded
//! table and never judges interference.
//!
//! The capturing host is usually the client of most flows of a capture (a laptop browsing) or,
//! for a capture taken at a server, the server of most of them. Nothing in a pcap file names the
//! host, so this is an inference, and reports say so: for each IP family the address that takes
//! part in the most outermost (not tunnelled) flows is a candidate, and it is the vantage point
//! when it takes part in more than half of that family's flows. A router or mirror port carrying
//! many hosts has no such address.
//!
//! Cost: one map update per address per ended flow; the map holds at most
//! [`MAX_VANTAGE_ADDRESSES`] addresses. An address first seen after the map is full is not
//! counted (a host that takes part in most flows is met long before that).

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;

use serde::Serialize;

use super::FlowRecord;

/// Most distinct addresses counted per capture.
pub const MAX_VANTAGE_ADDRESSES: usize = 4096;

/// How often an address took part in flows.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct AddrCount {
    flows: u64,
    as_client: u64,
    as_server: u64,
}

/// Where a TCP handshake places the capture (from its TTLs or timing, decided by the TCP
/// layer).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum HandshakeSide {
    /// Near the client.
    Client,
    /// Near the server.
    Server,
    /// Somewhere between.
    Middle,
}

/// How many TCP handshakes of a family place the capture at each side.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct HandshakeVotes {
    /// Near the client.
    pub client: u64,
    /// Near the server.
    pub server: u64,
    /// In between.
    pub middle: u64,
}

impl HandshakeVotes {
    /// Handshakes counted.
    pub fn total(&self) -> u64 {
        self.client + self.server + self.middle
    }

    /// The side most handshakes name, when more than half of them name it.
    pub fn majority(&self) -> Option<HandshakeSide> {
        let half = self.total();
        [
            (self.client, HandshakeSide::Client),
            (self.server, HandshakeSide::Server),
            (self.middle, HandshakeSide::Middle),
        ]
        .into_iter()
        .find(|(n, _)| n.saturating_mul(2) > half)
        .map(|(_, side)| side)
    }
}

/// What decided the candidate capturing host of a family.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum HostBasis {
    /// It takes part in more flows than any other address.
    Flows,
    /// Another address takes part in as many flows (a capture of one conversation); most TCP
    /// handshakes place the capture at its side.
    Handshakes,
    /// Another address takes part in as many flows and no handshake decides: the one that
    /// opened more of them is named.
    Guess,
}

/// The candidate capturing host of one IP family.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct VantageHost {
    /// The address.
    pub addr: IpAddr,
    /// Flows of its family it takes part in.
    pub flows: u64,
    /// Of those, flows it opened (client).
    pub as_client: u64,
    /// Of those, flows it answered (server).
    pub as_server: u64,
    /// Outermost flows of its family in the capture.
    pub family_flows: u64,
    /// What decided it.
    pub basis: HostBasis,
    /// The other address taking part in as many flows, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tied_with: Option<IpAddr>,
    /// Where the family's TCP handshakes place the capture.
    pub handshakes: HandshakeVotes,
}

impl VantageHost {
    /// True when the address takes part in more than half of its family's flows: the
    /// inference holds.
    pub fn is_majority(&self) -> bool {
        self.flows.saturating_mul(2) > self.family_flows
    }

    /// True when the address answered more of its flows than it opened (a server-side
    /// capture).
    pub fn is_mostly_server(&self) -> bool {
        self.as_server > self.as_client
    }
}

/// Where a capture was taken, as far as its flows tell, and whether both directions of
/// traffic are in it. Counts cover outermost (not tunnelled) flows only.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Vantage {
    /// Outermost flows counted.
    pub flows: u64,
    /// Flows with packets in both directions.
    pub both_directions: u64,
    /// Flows with packets from the client only.
    pub client_to_server_only: u64,
    /// Flows with packets from the server only.
    pub server_to_client_only: u64,
    /// The candidate per IP family (IPv4 first), when the family has flows.
    pub hosts: Vec<VantageHost>,
    /// Flows per application protocol recognised (`dns`, `http`, `quic`, `tls`).
    pub apps: BTreeMap<&'static str, u64>,
    /// The address table was full: addresses first seen later were not counted.
    pub addresses_capped: bool,
}

impl Vantage {
    /// The candidates that take part in most flows of their family (the inferred capturing
    /// host's addresses).
    pub fn inferred(&self) -> impl Iterator<Item = &VantageHost> {
        self.hosts.iter().filter(|h| h.is_majority())
    }
}

/// Collects [`Vantage`] counts as flows end.
#[derive(Debug, Default)]
pub struct VantageCounter {
    addrs: HashMap<IpAddr, AddrCount>,
    family_flows: [u64; 2],
    votes: [HandshakeVotes; 2],
    summary: Vantage,
}

fn family(a: IpAddr) -> usize {
    match a {
        IpAddr::V4(_) => 0,
        IpAddr::V6(_) => 1,
    }
}

impl VantageCounter {
    /// An empty counter.
    pub fn new() -> VantageCounter {
        VantageCounter::default()
    }

    /// Counts one ended flow (tunnelled flows are skipped), with where its TCP handshake
    /// placed the capture, if it had one.
    pub fn add(&mut self, record: &FlowRecord, handshake: Option<HandshakeSide>) {
        if record.depth != 0 {
            return;
        }
        let s = &mut self.summary;
        s.flows += 1;
        let (c2s, s2c) = (record.stats[0].packets > 0, record.stats[1].packets > 0);
        match (c2s, s2c) {
            (true, true) => s.both_directions += 1,
            (true, false) => s.client_to_server_only += 1,
            (false, true) => s.server_to_client_only += 1,
            (false, false) => {}
        }
        if let Some(app) = record.labels.app {
            *s.apps.entry(app).or_insert(0) += 1;
        }
        let client = record.client.addr;
        let server = record.server.addr;
        let fam = family(client);
        if let Some(slot) = self.family_flows.get_mut(fam) {
            *slot += 1;
        }
        if let (Some(v), Some(side)) = (self.votes.get_mut(fam), handshake) {
            match side {
                HandshakeSide::Client => v.client += 1,
                HandshakeSide::Server => v.server += 1,
                HandshakeSide::Middle => v.middle += 1,
            }
        }
        self.count(client, true, false);
        if server != client {
            self.count(server, false, true);
        } else if let Some(c) = self.addrs.get_mut(&client) {
            c.as_server += 1;
        }
    }

    fn count(&mut self, addr: IpAddr, client: bool, server: bool) {
        let full = self.addrs.len() >= MAX_VANTAGE_ADDRESSES;
        let entry = match self.addrs.get_mut(&addr) {
            Some(e) => e,
            None if full => {
                self.summary.addresses_capped = true;
                return;
            }
            None => self.addrs.entry(addr).or_default(),
        };
        entry.flows += 1;
        entry.as_client += u64::from(client);
        entry.as_server += u64::from(server);
    }

    /// The summary: per family the address in the most flows. Between two addresses in as
    /// many flows, the side most TCP handshakes name wins, else the one that opened more
    /// flows (then the lower address).
    pub fn finish(self) -> Vantage {
        let mut summary = self.summary;
        let mut ranked: [Vec<(IpAddr, AddrCount)>; 2] = [Vec::new(), Vec::new()];
        for (addr, count) in self.addrs {
            if let Some(r) = ranked.get_mut(family(addr)) {
                r.push((addr, count));
            }
        }
        for (fam, mut r) in ranked.into_iter().enumerate() {
            let votes = self.votes.get(fam).copied().unwrap_or_default();
            let by_server = votes.majority() == Some(HandshakeSide::Server);
            r.sort_by_key(|(addr, c)| {
                let side = if by_server { c.as_server } else { c.as_client };
                (
                    std::cmp::Reverse(c.flows),
                    std::cmp::Reverse(side),
                    std::cmp::Reverse(c.as_client),
                    *addr,
                )
            });
            let Some(&(addr, c)) = r.first() else {
                continue;
            };
            let tied_with = r
                .get(1)
                .filter(|(_, other)| other.flows == c.flows)
                .map(|(a, _)| *a);
            let basis = match (tied_with, votes.majority()) {
                (None, _) => HostBasis::Flows,
                (Some(_), Some(HandshakeSide::Client | HandshakeSide::Server)) => {
                    HostBasis::Handshakes
                }
                (Some(_), _) => HostBasis::Guess,
            };
            summary.hosts.push(VantageHost {
                addr,
                flows: c.flows,
                as_client: c.as_client,
                as_server: c.as_server,
                family_flows: self.family_flows.get(fam).copied().unwrap_or(0),
                basis,
                tied_with,
                handshakes: votes,
            });
        }
        summary
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flow::{Endpoint, PacketLog, RoleBasis, Timeline};
    use crate::ids::{FlowId, FrameNumber, L4Proto};
    use crate::time::Timestamp;

    fn flow(n: u64, client: &str, server: &str, c2s: u64, s2c: u64) -> FlowRecord {
        let mut r = FlowRecord {
            id: FlowId {
                first_frame: FrameNumber::new(n).unwrap(),
                depth: 0,
            },
            proto: L4Proto::Tcp,
            client: Endpoint {
                addr: client.parse().unwrap(),
                port: 40000,
            },
            server: Endpoint {
                addr: server.parse().unwrap(),
                port: 443,
            },
            role_basis: RoleBasis::Syn,
            depth: 0,
            first_ts: Timestamp::EPOCH,
            last_ts: Timestamp::EPOCH,
            stats: Default::default(),
            history: Default::default(),
            labels: Default::default(),
            end: None,
            log: PacketLog::new(1, 1),
            timeline: Timeline::new(Timestamp::EPOCH),
        };
        r.stats[0].packets = c2s;
        r.stats[1].packets = s2c;
        r
    }

    #[test]
    fn the_client_of_most_flows_is_the_vantage_point() {
        let mut v = VantageCounter::new();
        for (i, server) in ["1.1.1.1", "8.8.8.8", "9.9.9.9"].iter().enumerate() {
            v.add(&flow(i as u64 + 1, "192.168.1.20", server, 3, 2), None);
        }
        v.add(&flow(9, "192.168.1.30", "1.1.1.1", 2, 0), None);
        v.add(&flow(10, "2001:db8::2", "2001:db8::1", 1, 1), None);
        let s = v.finish();
        assert_eq!(s.flows, 5);
        assert_eq!(s.both_directions, 4);
        assert_eq!(s.client_to_server_only, 1);
        let h = s.hosts[0];
        assert_eq!(h.addr.to_string(), "192.168.1.20");
        assert_eq!((h.flows, h.as_client, h.family_flows), (3, 3, 4));
        assert!(h.is_majority() && !h.is_mostly_server());
        assert_eq!(h.basis, HostBasis::Flows);
        // One IPv6 flow and no handshake: its client is named, as a guess.
        assert_eq!(s.hosts[1].addr.to_string(), "2001:db8::2");
        assert_eq!(s.hosts[1].basis, HostBasis::Guess);
        assert_eq!(s.hosts[1].tied_with, "2001:db8::1".parse().ok());
        assert_eq!(s.inferred().count(), 2);
    }

    #[test]
    fn handshakes_decide_between_the_two_ends_of_one_conversation() {
        let mut v = VantageCounter::new();
        for n in 1..=3 {
            v.add(
                &flow(n, "10.0.0.2", "203.0.113.5", 4, 4),
                Some(HandshakeSide::Server),
            );
        }
        let s = v.finish();
        let h = s.hosts[0];
        assert_eq!(h.addr.to_string(), "203.0.113.5");
        assert_eq!(h.basis, HostBasis::Handshakes);
        assert!(h.is_mostly_server());
        assert_eq!(h.handshakes.majority(), Some(HandshakeSide::Server));
    }

    #[test]
    fn a_router_capture_has_no_majority_and_the_table_is_bounded() {
        let mut v = VantageCounter::new();
        for i in 0..(MAX_VANTAGE_ADDRESSES as u64) {
            let c = format!("10.{}.{}.1", i / 256, i % 256);
            let s = format!("172.16.{}.{}", i / 256, i % 256);
            v.add(&flow(i + 1, &c, &s, 1, 1), None);
        }
        assert!(v.addrs.len() <= MAX_VANTAGE_ADDRESSES);
        let s = v.finish();
        assert!(s.addresses_capped);
        assert_eq!(s.inferred().count(), 0);
        assert_eq!(s.hosts[0].flows, 1);
    }
}
