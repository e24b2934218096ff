//! Groups packets into bidirectional TCP and UDP flows with client/server roles, counters and a
//! bounded packet log; it never parses payloads or judges interference.
//!
//! A flow is keyed on the 5-tuple (and the tunnel depth). The client is the SYN sender for TCP;
//! for UDP it is the sender of the first packet, corrected by well-known server ports (53, 443,
//! 123, ...). How the role was decided is recorded in [`RoleBasis`], so a reader knows when it
//! was a guess. A TCP SYN with a new initial sequence number on a known 5-tuple starts a new
//! flow (port reuse), as Wireshark does.

mod table;
mod vantage;

use serde::{Serialize, Serializer};

pub use table::{decide_roles, Flow, FlowLimits, FlowTable, Lookup, RoleHint};
pub use vantage::{
    HandshakeSide, HandshakeVotes, HostBasis, Vantage, VantageCounter, VantageHost,
    MAX_VANTAGE_ADDRESSES,
};

use crate::decode::{IpHeader, TcpFlags};
use crate::ids::{Direction, FlowId, FrameNumber};
pub use crate::ids::{Endpoint, L4Proto};
use crate::time::{Span, Timestamp};

/// Direction-neutral flow key: endpoints in sorted order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FlowKey {
    /// Transport protocol.
    pub proto: L4Proto,
    /// The lower endpoint.
    pub lo: Endpoint,
    /// The higher endpoint.
    pub hi: Endpoint,
    /// Tunnel depth (0 = outermost).
    pub depth: u8,
}

impl FlowKey {
    /// The key of a packet from `src` to `dst`.
    pub fn new(proto: L4Proto, src: Endpoint, dst: Endpoint, depth: u8) -> FlowKey {
        let (lo, hi) = if src <= dst { (src, dst) } else { (dst, src) };
        FlowKey {
            proto,
            lo,
            hi,
            depth,
        }
    }
}

/// How the client/server roles of a flow were decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RoleBasis {
    /// The client sent a SYN (without ACK).
    Syn,
    /// The first packet seen was a SYN-ACK; its receiver is the client.
    SynAck,
    /// The first packet seen came from a well-known server port to a non-well-known one.
    ServerPort,
    /// A DNS message's QR bit showed which side answered.
    DnsResponse,
    /// Nothing better: the sender of the first packet seen is taken as the client.
    FirstPacket,
}

impl RoleBasis {
    /// True when the roles are a guess (the capture started mid-flow or the protocol has no
    /// handshake).
    pub fn is_guess(self) -> bool {
        matches!(self, RoleBasis::FirstPacket | RoleBasis::ServerPort)
    }
}

/// Ports on which a UDP or TCP endpoint is almost certainly the server.
pub const WELL_KNOWN_SERVER_PORTS: &[u16] = &[
    20, 21, 22, 23, 25, 53, 67, 69, 80, 88, 110, 123, 137, 138, 143, 161, 389, 443, 465, 500, 514,
    587, 636, 853, 993, 995, 1194, 1812, 3128, 3389, 3478, 4500, 5060, 5222, 5349, 8080, 8443,
    51820,
];

/// True if `port` is a well-known server port (or below 1024).
pub fn is_server_port(port: u16) -> bool {
    port < 1024 || WELL_KNOWN_SERVER_PORTS.contains(&port)
}

/// How a flow ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FlowEnd {
    /// Both sides sent FIN.
    Fin,
    /// The client sent FIN, the server did not.
    FinByClient,
    /// The server sent FIN, the client did not.
    FinByServer,
    /// The client sent RST.
    RstByClient,
    /// The server sent RST.
    RstByServer,
    /// No packet for longer than the idle timeout.
    IdleTimeout,
    /// Still open when the capture ended.
    CaptureEnd,
    /// Dropped from a full flow table.
    Evicted,
}

impl FlowEnd {
    /// The snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            FlowEnd::Fin => "fin",
            FlowEnd::FinByClient => "fin_by_client",
            FlowEnd::FinByServer => "fin_by_server",
            FlowEnd::RstByClient => "rst_by_client",
            FlowEnd::RstByServer => "rst_by_server",
            FlowEnd::IdleTimeout => "idle_timeout",
            FlowEnd::CaptureEnd => "capture_end",
            FlowEnd::Evicted => "evicted",
        }
    }
}

/// Counters for one direction of a flow.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct DirStats {
    /// Packets.
    pub packets: u64,
    /// Bytes on the wire (frame lengths as captured on the link, `orig_len`).
    pub bytes: u64,
    /// Transport payload bytes declared by the headers (TCP retransmissions included).
    pub payload_bytes: u64,
    /// First packet time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_ts: Option<Timestamp>,
    /// Last packet time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_ts: Option<Timestamp>,
}

/// Application-level labels of a flow, for listings and triggers.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct AppLabels {
    /// Application protocol recognised (`tls`, `http`, `dns`, `quic`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub app: Option<&'static str>,
    /// TLS SNI of the first ClientHello.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sni: Option<String>,
    /// HTTP Host of the first request.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http_host: Option<String>,
    /// First DNS query name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dns_query: Option<String>,
}

/// Zeek-style connection history: one letter per event kind, in order of first occurrence;
/// upper case for the client, lower case for the server.
///
/// `S`/`s` SYN, `H`/`h` SYN-ACK, `A`/`a` pure ACK, `D`/`d` data, `F`/`f` FIN, `R`/`r` RST,
/// `T`/`t` retransmission, `G`/`g` sequence gap, `W`/`w` zero window, `^` roles guessed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct History {
    letters: String,
}

impl History {
    /// Appends `letter` if it has not occurred yet.
    pub fn add(&mut self, letter: char) {
        if !self.letters.contains(letter) && self.letters.len() < 32 {
            self.letters.push(letter);
        }
    }

    /// Appends the upper-case (client) or lower-case (server) form of `letter`.
    pub fn add_dir(&mut self, letter: char, dir: Direction) {
        match dir {
            Direction::ClientToServer => self.add(letter.to_ascii_uppercase()),
            Direction::ServerToClient => self.add(letter.to_ascii_lowercase()),
        }
    }

    /// The letters.
    pub fn as_str(&self) -> &str {
        &self.letters
    }
}

impl Serialize for History {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.letters)
    }
}

/// Compact per-packet features kept in a flow's log for evidence (about 40 bytes each).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PacketRecord {
    /// Frame number.
    pub frame: FrameNumber,
    /// Capture time.
    pub ts: Timestamp,
    /// Direction.
    pub dir: Direction,
    /// IP TTL / hop limit.
    pub ttl: u8,
    /// IPv4 identification.
    pub ip_id: Option<u16>,
    /// IPv4 DF bit.
    pub df: bool,
    /// TCP flags (empty for UDP).
    pub flags: TcpFlags,
    /// TCP sequence number (0 for UDP).
    pub seq: u32,
    /// TCP acknowledgment field (0 for UDP).
    pub ack: u32,
    /// TCP window (0 for UDP).
    pub window: u16,
    /// Transport payload length declared by the headers.
    pub payload_len: u32,
}

impl PacketRecord {
    /// Builds a record from decoded header fields.
    pub fn new(
        frame: FrameNumber,
        ts: Timestamp,
        dir: Direction,
        ip: &IpHeader,
        tcp: Option<(TcpFlags, u32, u32, u16)>,
        payload_len: u32,
    ) -> PacketRecord {
        let (flags, seq, ack, window) = tcp.unwrap_or_default();
        PacketRecord {
            frame,
            ts,
            dir,
            ttl: ip.ttl,
            ip_id: ip.ip_id,
            df: ip.df,
            flags,
            seq,
            ack,
            window,
            payload_len,
        }
    }
}

/// The first packets of a flow and a ring of its latest ones, for evidence.
#[derive(Clone, Debug, Default)]
pub struct PacketLog {
    head: Vec<PacketRecord>,
    tail: Vec<PacketRecord>,
    tail_next: usize,
    head_cap: u16,
    tail_cap: u16,
    dropped: u64,
}

impl PacketLog {
    /// A log keeping the first `head` and last `tail` packets.
    pub fn new(head: u16, tail: u16) -> PacketLog {
        PacketLog {
            head_cap: head,
            tail_cap: tail,
            ..PacketLog::default()
        }
    }

    /// Records a packet.
    pub fn push(&mut self, rec: PacketRecord) {
        if self.head.len() < usize::from(self.head_cap) {
            self.head.push(rec);
            return;
        }
        if self.tail_cap == 0 {
            self.dropped += 1;
            return;
        }
        if self.tail.len() < usize::from(self.tail_cap) {
            self.tail.push(rec);
        } else {
            if let Some(slot) = self.tail.get_mut(self.tail_next) {
                *slot = rec;
            }
            self.dropped += 1;
        }
        self.tail_next = (self.tail_next + 1) % usize::from(self.tail_cap);
    }

    /// Every kept record in frame order.
    pub fn records(&self) -> Vec<PacketRecord> {
        let mut out = self.head.clone();
        if self.tail.len() < usize::from(self.tail_cap) {
            out.extend_from_slice(&self.tail);
        } else {
            out.extend_from_slice(self.tail.get(self.tail_next..).unwrap_or(&[]));
            out.extend_from_slice(self.tail.get(..self.tail_next).unwrap_or(&[]));
        }
        out
    }

    /// The record of `frame`, if kept.
    pub fn find(&self, frame: FrameNumber) -> Option<PacketRecord> {
        self.head
            .iter()
            .chain(self.tail.iter())
            .find(|r| r.frame == frame)
            .copied()
    }

    /// Packets seen but no longer in the log (between head and tail).
    pub fn dropped(&self) -> u64 {
        self.dropped
    }
}

/// Bytes and packets per direction over time, in at most [`Timeline::MAX_BINS`] bins whose
/// width doubles whenever the flow outlasts them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Timeline {
    start: Timestamp,
    width: Span,
    /// Per bin: client bytes, client packets, server bytes, server packets.
    bins: Vec<[u64; 4]>,
}

impl Timeline {
    /// Bins kept at most.
    pub const MAX_BINS: usize = 64;
    /// Initial bin width.
    pub const INITIAL_WIDTH: Span = Span::from_millis(100);

    /// An empty timeline starting at `start`.
    pub fn new(start: Timestamp) -> Timeline {
        Timeline {
            start,
            width: Timeline::INITIAL_WIDTH,
            bins: Vec::new(),
        }
    }

    /// Counts a packet of `bytes` payload bytes.
    pub fn add(&mut self, ts: Timestamp, dir: Direction, bytes: u64) {
        let off = ts.since(self.start).as_nanos().max(0);
        let mut idx = (off / self.width.as_nanos().max(1)) as usize;
        while idx >= Timeline::MAX_BINS {
            self.coarsen();
            idx = (off / self.width.as_nanos().max(1)) as usize;
        }
        if self.bins.len() <= idx {
            self.bins.resize(idx + 1, [0; 4]);
        }
        if let Some(bin) = self.bins.get_mut(idx) {
            let base = dir.index() * 2;
            bin[base] += bytes;
            bin[base + 1] += 1;
        }
    }

    fn coarsen(&mut self) {
        let merged: Vec<[u64; 4]> = self
            .bins
            .chunks(2)
            .map(|c| {
                let mut m = [0u64; 4];
                for b in c {
                    for (x, y) in m.iter_mut().zip(b) {
                        *x += y;
                    }
                }
                m
            })
            .collect();
        self.bins = merged;
        self.width = Span::from_nanos(self.width.as_nanos().saturating_mul(2));
    }

    /// Bin width.
    pub fn width(&self) -> Span {
        self.width
    }

    /// Start of the first bin.
    pub fn start(&self) -> Timestamp {
        self.start
    }

    /// (bytes, packets) of `dir` in each bin.
    pub fn series(&self, dir: Direction) -> Vec<(u64, u64)> {
        let base = dir.index() * 2;
        self.bins.iter().map(|b| (b[base], b[base + 1])).collect()
    }
}

/// Everything tamper knows about a flow apart from protocol state.
#[derive(Clone, Debug)]
pub struct FlowRecord {
    /// Deterministic id (first frame and tunnel depth).
    pub id: FlowId,
    /// Transport protocol.
    pub proto: L4Proto,
    /// The endpoint that opened the flow.
    pub client: Endpoint,
    /// The endpoint that answered.
    pub server: Endpoint,
    /// How the roles were decided.
    pub role_basis: RoleBasis,
    /// Tunnel depth (0 = not tunnelled).
    pub depth: u8,
    /// First packet.
    pub first_ts: Timestamp,
    /// Last packet.
    pub last_ts: Timestamp,
    /// Per-direction counters, indexed by [`Direction::index`].
    pub stats: [DirStats; 2],
    /// Connection history letters.
    pub history: History,
    /// Application labels.
    pub labels: AppLabels,
    /// How the flow ended, once it has.
    pub end: Option<FlowEnd>,
    /// First and last packets, for evidence.
    pub log: PacketLog,
    /// Traffic over time.
    pub timeline: Timeline,
}

impl FlowRecord {
    /// Counters of one direction.
    pub fn dir(&self, dir: Direction) -> &DirStats {
        &self.stats[dir.index()]
    }

    /// Total packets both ways.
    pub fn packets(&self) -> u64 {
        self.stats[0].packets + self.stats[1].packets
    }

    /// Total wire bytes both ways.
    pub fn bytes(&self) -> u64 {
        self.stats[0].bytes + self.stats[1].bytes
    }

    /// Time from first to last packet.
    pub fn duration(&self) -> Span {
        self.last_ts.since(self.first_ts)
    }

    /// The endpoint that sends in `dir`.
    pub fn sender(&self, dir: Direction) -> Endpoint {
        match dir {
            Direction::ClientToServer => self.client,
            Direction::ServerToClient => self.server,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(n: u64) -> PacketRecord {
        PacketRecord {
            frame: FrameNumber::new(n).unwrap(),
            ts: Timestamp::from_nanos(n as i64),
            dir: Direction::ClientToServer,
            ttl: 64,
            ip_id: None,
            df: false,
            flags: TcpFlags::default(),
            seq: 0,
            ack: 0,
            window: 0,
            payload_len: 0,
        }
    }

    #[test]
    fn packet_log_keeps_head_and_tail() {
        let mut log = PacketLog::new(3, 2);
        for n in 1..=10 {
            log.push(rec(n));
        }
        let frames: Vec<u64> = log.records().iter().map(|r| r.frame.get()).collect();
        assert_eq!(frames, vec![1, 2, 3, 9, 10]);
        assert_eq!(log.dropped(), 5);
        assert!(log.find(FrameNumber::new(9).unwrap()).is_some());
        assert!(log.find(FrameNumber::new(5).unwrap()).is_none());
    }

    #[test]
    fn timeline_coarsens() {
        let t0 = Timestamp::from_parts(100, 0);
        let mut t = Timeline::new(t0);
        t.add(t0, Direction::ClientToServer, 10);
        t.add(
            t0.plus(Span::from_secs(20)),
            Direction::ServerToClient,
            1000,
        );
        assert!(t.width() >= Span::from_millis(400));
        let s2c = t.series(Direction::ServerToClient);
        assert!(s2c.len() <= Timeline::MAX_BINS);
        assert_eq!(s2c.iter().map(|b| b.0).sum::<u64>(), 1000);
        assert_eq!(t.series(Direction::ClientToServer)[0], (10, 1));
    }

    #[test]
    fn keys_are_direction_neutral() {
        let a = Endpoint {
            addr: "10.0.0.1".parse().unwrap(),
            port: 5000,
        };
        let b = Endpoint {
            addr: "10.0.0.2".parse().unwrap(),
            port: 80,
        };
        assert_eq!(
            FlowKey::new(L4Proto::Tcp, a, b, 0),
            FlowKey::new(L4Proto::Tcp, b, a, 0)
        );
        assert_ne!(
            FlowKey::new(L4Proto::Tcp, a, b, 0),
            FlowKey::new(L4Proto::Udp, a, b, 0)
        );
        assert_eq!(
            Endpoint {
                addr: "2001:db8::1".parse().unwrap(),
                port: 443
            }
            .to_string(),
            "[2001:db8::1]:443"
        );
    }

    #[test]
    fn history_letters_once_in_order() {
        let mut h = History::default();
        h.add_dir('s', Direction::ClientToServer);
        h.add_dir('h', Direction::ServerToClient);
        h.add_dir('s', Direction::ClientToServer);
        h.add_dir('d', Direction::ClientToServer);
        assert_eq!(h.as_str(), "ShD");
    }
}
