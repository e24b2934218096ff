//! Simulates one direction of a TCP bulk transfer (slow start, congestion avoidance, SACK
//! fast retransmit, retransmission timeouts, delayed ACKs, receive windows, keepalives) over
//! a modelled path and emits what a capture at either end records through a [`Scenario`];
//! it never reads the clock or OS randomness and never models two flows sharing a queue.
//!
//! The model, in one global clock that is also the capture clock:
//!
//! * The **sender** is a Linux-like Reno sender counting its window in packets: an initial
//!   window of 10 segments, slow start up to `ssthresh`, one segment more per window in
//!   congestion avoidance, and growth only while the window is what limits it. Three
//!   duplicate ACKs (or three SACKed segments) start fast recovery: `ssthresh` becomes 0.7 ×
//!   the window (CUBIC's factor), the first hole is retransmitted at once and every segment
//!   sent before one the receiver has since SACKed counts as lost (the path never reorders,
//!   so that rule, RACK's, is exact). A retransmission timeout (`srtt + max(4 rttvar, 200
//!   ms)`, doubled on each expiry) marks everything unSACKed lost and restarts from one
//!   segment. A zero receive window arms the persist timer and its window probes.
//! * The **path** in the data direction is an optional element (token-bucket policer,
//!   token-bucket shaper with a queue, random loss, a freeze after so many payload bytes,
//!   drops of chosen transmissions), then an access link of fixed rate with a drop-tail
//!   queue, then the propagation delay. The reverse direction is loss-free.
//! * The **receiver** ACKs every second segment or after 40 ms, at once when a segment is
//!   out of order (with up to three SACK blocks), fills a hole or completes the data. Its
//!   window is its buffer minus what the application has not read yet, and zero below one
//!   MSS. It may send TCP keepalives while nothing arrives.
//!
//! A capture at the receiver sees the data after the path (drops are invisible: holes, then
//! retransmissions) and its own ACKs when sent; a capture at the sender sees every data
//! packet when sent and the ACKs when they arrive. IP IDs are drawn from the hosts' counters
//! in sending order, so packets the path drops leave gaps at the receiver.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};

use super::packet::{TcpOption, TCP_ACK, TCP_PSH};
use super::rng::SplitMix64;
use super::scenario::{Scenario, Segment, Side, TcpConn, Vantage, MS, S, US};
use super::SynthError;

/// The receiver's delayed-ACK timer (Linux `TCP_DELACK_MIN`).
pub const DELAYED_ACK_NS: i64 = 40 * MS;
/// The lower bound of the retransmission timeout (Linux `TCP_RTO_MIN`).
pub const MIN_RTO_NS: i64 = 200 * MS;
/// The upper bound of the retransmission timeout (Linux `TCP_RTO_MAX`).
pub const MAX_RTO_NS: i64 = 120 * S;
/// Initial congestion window in segments (RFC 6928).
pub const INITIAL_WINDOW: u32 = 10;
/// Receive buffer a receiver advertises by default (an autotuned Linux buffer).
pub const DEFAULT_RECEIVE_BUFFER: u64 = 256 * 1024;
/// Access-link rate when none is given: a 50 Mbit/s line.
pub const DEFAULT_LINK_BPS: u64 = 50_000_000;
/// Queue of that access link: 256 KiB.
pub const DEFAULT_LINK_QUEUE: u64 = 256 * 1024;
/// The sender's own interface rate (1 Gbit/s: 12 µs per full Ethernet frame).
const SENDER_NIC_BPS: u64 = 1_000_000_000;
/// SACK blocks per ACK (RFC 2018 allows four without timestamps; Linux sends up to three
/// once timestamps take their room, and three here keeps the options uniform).
const MAX_SACK_BLOCKS: usize = 3;
/// Retransmission timeouts doubled at most this many times.
const MAX_BACKOFF: u32 = 15;
/// Nanoseconds per second, for bit-rate arithmetic.
const NS: u128 = 1_000_000_000;

/// What sits in the data direction of the path before the access link.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Element {
    /// Nothing: only the access link.
    Clear,
    /// A token-bucket policer: tokens fill at `rate_bps` up to `bucket_bytes` (full at the
    /// start); a packet that finds fewer tokens than its IP length is dropped, none is ever
    /// delayed.
    Policer {
        /// Token rate in bit/s.
        rate_bps: u64,
        /// Bucket depth in bytes.
        bucket_bytes: u64,
    },
    /// A token-bucket shaper: packets wait in a FIFO queue until there are tokens for them;
    /// a packet that does not fit in the queue (`queue_bytes` of waiting IP bytes) is
    /// dropped.
    Shaper {
        /// Token rate in bit/s.
        rate_bps: u64,
        /// Bucket depth in bytes.
        bucket_bytes: u64,
        /// Queue limit in bytes.
        queue_bytes: u64,
    },
    /// Every packet is lost with this probability, in parts per million (seeded).
    RandomLoss {
        /// Loss probability × 10⁶.
        per_million: u32,
        /// Seed of the loss draws.
        seed: u64,
    },
    /// Payload-carrying packets pass until `after_bytes` of payload have passed; from the
    /// first packet that would go beyond, every packet with payload is dropped. Pure ACKs
    /// and window probes still pass.
    Freeze {
        /// Payload bytes let through.
        after_bytes: u64,
    },
    /// The payload-carrying packets with these 0-based transmission numbers (counting
    /// retransmissions) are dropped.
    Drops(Vec<u32>),
}

/// The data direction of a path, with its state (token counts, queues, the freeze latch),
/// which carries over from one transfer to the next on the same connection.
#[derive(Clone, Debug)]
pub struct Path {
    /// The element before the access link.
    pub element: Element,
    /// Access-link rate in bit/s.
    pub link_bps: u64,
    /// Access-link drop-tail queue in bytes.
    pub link_queue_bytes: u64,
    /// Tokens in bit·ns per s (bits × 10⁹), so that refills stay exact integers.
    tokens: u128,
    tokens_at: Option<i64>,
    shaper_queue: VecDeque<(i64, u64)>,
    shaper_last: i64,
    link_queue: VecDeque<(i64, u64)>,
    link_free: i64,
    passed_payload: u64,
    frozen: bool,
    data_sent: u32,
    rng: SplitMix64,
}

impl Path {
    /// A path with this element and the default 50 Mbit/s access link.
    pub fn new(element: Element) -> Self {
        let seed = match &element {
            Element::RandomLoss { seed, .. } => *seed,
            _ => 0,
        };
        Self {
            element,
            link_bps: DEFAULT_LINK_BPS,
            link_queue_bytes: DEFAULT_LINK_QUEUE,
            tokens: 0,
            tokens_at: None,
            shaper_queue: VecDeque::new(),
            shaper_last: i64::MIN,
            link_queue: VecDeque::new(),
            link_free: i64::MIN,
            passed_payload: 0,
            frozen: false,
            data_sent: 0,
            rng: SplitMix64::new(seed),
        }
    }

    /// Only the default access link.
    pub fn clear() -> Self {
        Self::new(Element::Clear)
    }

    /// A token-bucket policer.
    pub fn policer(rate_bps: u64, bucket_bytes: u64) -> Self {
        Self::new(Element::Policer {
            rate_bps,
            bucket_bytes,
        })
    }

    /// A token-bucket shaper with a queue.
    pub fn shaper(rate_bps: u64, bucket_bytes: u64, queue_bytes: u64) -> Self {
        Self::new(Element::Shaper {
            rate_bps,
            bucket_bytes,
            queue_bytes,
        })
    }

    /// A bottleneck: an access link of this rate with a drop-tail queue of this size.
    pub fn bottleneck(rate_bps: u64, queue_bytes: u64) -> Self {
        Self::clear().with_link(rate_bps, queue_bytes)
    }

    /// Random loss.
    pub fn random_loss(per_million: u32, seed: u64) -> Self {
        Self::new(Element::RandomLoss { per_million, seed })
    }

    /// A freeze after this many payload bytes.
    pub fn freeze(after_bytes: u64) -> Self {
        Self::new(Element::Freeze { after_bytes })
    }

    /// Drops of the given payload transmissions.
    pub fn drops(transmissions: &[u32]) -> Self {
        Self::new(Element::Drops(transmissions.to_vec()))
    }

    /// Sets the access link.
    pub fn with_link(mut self, rate_bps: u64, queue_bytes: u64) -> Self {
        self.link_bps = rate_bps.max(1);
        self.link_queue_bytes = queue_bytes;
        self
    }

    /// True once a freeze has started dropping.
    pub fn frozen(&self) -> bool {
        self.frozen
    }

    /// Tops the token bucket up to time `t`; it starts full.
    fn refill(&mut self, rate_bps: u64, bucket_bytes: u64, t: i64) {
        let cap = u128::from(bucket_bytes) * 8 * NS;
        match self.tokens_at {
            None => self.tokens = cap,
            Some(at) if t > at => {
                let add = u128::from(rate_bps) * (t - at) as u128;
                self.tokens = (self.tokens + add).min(cap);
            }
            Some(_) => {}
        }
        self.tokens_at = Some(self.tokens_at.map_or(t, |at| at.max(t)));
    }

    /// A packet of `wire` IP bytes carrying `payload` bytes enters the path at `t`: the time
    /// it leaves the access link, or `None` when it is dropped.
    fn forward(&mut self, t: i64, wire: u64, payload: u64) -> Option<i64> {
        let cost = u128::from(wire) * 8 * NS;
        let mut out = t;
        match self.element.clone() {
            Element::Clear => {}
            Element::Policer {
                rate_bps,
                bucket_bytes,
            } => {
                self.refill(rate_bps, bucket_bytes, t);
                if self.tokens < cost {
                    return None;
                }
                self.tokens -= cost;
            }
            Element::Shaper {
                rate_bps,
                bucket_bytes,
                queue_bytes,
            } => {
                while self.shaper_queue.front().is_some_and(|q| q.0 <= t) {
                    self.shaper_queue.pop_front();
                }
                let queued: u64 = self.shaper_queue.iter().map(|q| q.1).sum();
                if queued + wire > queue_bytes {
                    return None;
                }
                let mut d = t.max(self.shaper_last);
                self.refill(rate_bps, bucket_bytes, d);
                if self.tokens < cost {
                    let rate = u128::from(rate_bps.max(1));
                    let wait = (cost - self.tokens).div_ceil(rate);
                    d += wait as i64;
                    self.refill(rate_bps, bucket_bytes, d);
                }
                self.tokens = self.tokens.saturating_sub(cost);
                self.shaper_last = d;
                self.shaper_queue.push_back((d, wire));
                out = d;
            }
            Element::RandomLoss { per_million, .. } => {
                if self.rng.range_u64(0, 999_999) < u64::from(per_million) {
                    return None;
                }
            }
            Element::Freeze { after_bytes } => {
                if payload > 0 {
                    if self.frozen || self.passed_payload + payload > after_bytes {
                        self.frozen = true;
                        return None;
                    }
                    self.passed_payload += payload;
                }
            }
            Element::Drops(list) => {
                if payload > 0 {
                    let n = self.data_sent;
                    self.data_sent += 1;
                    if list.contains(&n) {
                        return None;
                    }
                }
            }
        }
        while self.link_queue.front().is_some_and(|q| q.0 <= out) {
            self.link_queue.pop_front();
        }
        let queued: u64 = self.link_queue.iter().map(|q| q.1).sum();
        if queued + wire > self.link_queue_bytes {
            return None;
        }
        let start = out.max(self.link_free);
        let end = start + serialization(wire, self.link_bps);
        self.link_free = end;
        self.link_queue.push_back((end, wire));
        Some(end)
    }
}

/// Nanoseconds to put `bytes` on a line of `bps`.
fn serialization(bytes: u64, bps: u64) -> i64 {
    (u128::from(bytes) * 8 * NS).div_ceil(u128::from(bps.max(1))) as i64
}

/// When the sender has the data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Supply {
    /// All of it at the start.
    All,
    /// `bytes` at the start and `bytes` more every `every_ns` (a video player's chunks, a
    /// rate-limited application).
    Chunks {
        /// Bytes per chunk.
        bytes: u64,
        /// Interval between chunks.
        every_ns: i64,
    },
}

/// How the receiving application reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reader {
    /// At once: the window stays open.
    Immediate,
    /// After every `every_bytes` it stops reading for `pause_ns` (the buffer fills and the
    /// window closes), then reads all that waits.
    Pauses {
        /// Bytes read between pauses.
        every_bytes: u64,
        /// Length of a pause.
        pause_ns: i64,
    },
}

/// TCP keepalives the receiver sends while nothing arrives (`SO_KEEPALIVE` with
/// `TCP_KEEPIDLE` and `TCP_KEEPINTVL`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Keepalive {
    /// Silence before the first probe.
    pub idle_ns: i64,
    /// Interval between unanswered probes.
    pub interval_ns: i64,
}

/// One transfer: who sends what from when, and how the ends behave.
#[derive(Clone, Debug)]
pub struct Transfer<'a> {
    /// The side sending the data (the server for a download).
    pub sender: Side,
    /// The payload.
    pub data: &'a [u8],
    /// Global (capture-clock) time at which the sender starts.
    pub start: i64,
    /// When the data becomes available to the sender.
    pub supply: Supply,
    /// How the receiving application reads.
    pub reader: Reader,
    /// The receiver's buffer in bytes.
    pub receive_buffer: u64,
    /// The sender's initial window in segments.
    pub initial_window: u32,
    /// The receiver's keepalives, if any.
    pub keepalive: Option<Keepalive>,
    /// Nothing after this global time is simulated or captured (the capture stops).
    pub until: Option<i64>,
}

impl<'a> Transfer<'a> {
    /// All of `data` from `sender` at `start`, read at once, default buffers, no
    /// keepalives, simulated until the data is acknowledged (or 600 s have passed).
    pub fn new(sender: Side, data: &'a [u8], start: i64) -> Self {
        Self {
            sender,
            data,
            start,
            supply: Supply::All,
            reader: Reader::Immediate,
            receive_buffer: DEFAULT_RECEIVE_BUFFER,
            initial_window: INITIAL_WINDOW,
            keepalive: None,
            until: None,
        }
    }

    /// Sets the supply.
    pub fn supply(mut self, supply: Supply) -> Self {
        self.supply = supply;
        self
    }

    /// Sets the reader.
    pub fn reader(mut self, reader: Reader) -> Self {
        self.reader = reader;
        self
    }

    /// Sets the receive buffer.
    pub fn receive_buffer(mut self, bytes: u64) -> Self {
        self.receive_buffer = bytes;
        self
    }

    /// Turns on the receiver's keepalives.
    pub fn keepalive(mut self, idle_ns: i64, interval_ns: i64) -> Self {
        self.keepalive = Some(Keepalive {
            idle_ns,
            interval_ns,
        });
        self
    }

    /// Stops the simulation (and the capture) at this global time.
    pub fn until(mut self, t: i64) -> Self {
        self.until = Some(t);
        self
    }
}

/// The network facts a simulation needs about the connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Net {
    /// Payload bytes per full segment.
    pub mss: u32,
    /// IP plus TCP header bytes of a data packet.
    pub header_bytes: u32,
    /// Propagation delay sender → receiver.
    pub owd_forward: i64,
    /// Propagation delay receiver → sender.
    pub owd_reverse: i64,
    /// The capture is at the sender (otherwise at the receiver).
    pub capture_at_sender: bool,
    /// How long either end's stack takes to answer a packet (ACK one, send more data after
    /// an ACK).
    pub reaction_ns: i64,
}

/// What a simulated packet is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PacketKind {
    /// Payload from the sender: bytes `offset..offset + len` of the data.
    Data {
        /// Offset into the data.
        offset: u64,
        /// Payload length.
        len: u32,
        /// A retransmission of bytes sent before.
        retransmission: bool,
        /// PSH set (the segment ends what the sender had).
        push: bool,
    },
    /// An ACK from the receiver.
    Ack {
        /// Cumulative ACK as an offset into the data.
        ack: u64,
        /// Window in bytes.
        window: u64,
        /// SACK blocks as offsets, most recent first.
        sack: Vec<(u64, u64)>,
        /// Sent because a segment arrived out of order or twice (a duplicate ACK).
        duplicate: bool,
    },
    /// A keepalive probe from the receiver (sequence number one below its next).
    Keepalive {
        /// Cumulative ACK as an offset.
        ack: u64,
        /// Window in bytes.
        window: u64,
    },
    /// The sender's pure ACK answering a keepalive; `seq` is its next offset then.
    KeepaliveReply {
        /// The sender's next sequence offset.
        seq: u64,
    },
    /// A zero-window probe from the sender (sequence number one below `una`).
    WindowProbe {
        /// The sender's oldest unacknowledged offset.
        una: u64,
    },
}

/// One simulated packet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SimPacket {
    /// Who sent it.
    pub from: Side,
    /// Global time it left its sender.
    pub sent_at: i64,
    /// Global time it reached the other end; `None` when the path dropped it.
    pub arrived_at: Option<i64>,
    /// What it is.
    pub kind: PacketKind,
}

impl SimPacket {
    /// Payload bytes.
    pub fn payload_len(&self) -> u64 {
        match self.kind {
            PacketKind::Data { len, .. } => u64::from(len),
            _ => 0,
        }
    }

    /// The global time it is captured in a transfer from `sender`: when sent if it comes
    /// from the capture point, when it arrived otherwise (`None`: dropped before the capture
    /// point, or after the capture stopped at `until`).
    pub fn captured_at(&self, sender: Side, net: &Net, until: i64) -> Option<i64> {
        let from_capture_point = (self.from == sender) == net.capture_at_sender;
        let t = if from_capture_point {
            Some(self.sent_at)
        } else {
            self.arrived_at
        };
        t.filter(|t| *t <= until)
    }
}

/// The result of a simulation.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Trace {
    /// Every packet either end sent, in sending order.
    pub packets: Vec<SimPacket>,
    /// Bytes the receiver got in order.
    pub delivered: u64,
    /// The sender's next offset at the end (bytes sent at least once).
    pub sent: u64,
    /// Global time the receiver had all the data.
    pub receiver_done: Option<i64>,
    /// Global time the sender saw all the data acknowledged.
    pub sender_done: Option<i64>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Ev {
    Supply(u64),
    Arrive(usize),
    Rto(u64),
    Persist(u64),
    DelAck(u64),
    ReadResume,
    Keepalive(u64),
}

#[derive(Clone, Copy, Debug)]
struct Seg {
    off: u64,
    len: u32,
    sent_at: i64,
    txs: u32,
    sacked: bool,
    lost: bool,
    in_flight: bool,
    push: bool,
}

impl Seg {
    fn end(&self) -> u64 {
        self.off + u64::from(self.len)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Recovery {
    /// Fast recovery after duplicate ACKs.
    Fast,
    /// Loss recovery after a timeout.
    Loss,
}

struct Sim<'a, 'p> {
    t: &'a Transfer<'a>,
    net: Net,
    path: &'p mut Path,
    until: i64,
    total: u64,
    heap: BinaryHeap<Reverse<(i64, u64, Ev)>>,
    order: u64,
    packets: Vec<SimPacket>,
    // sender
    available: u64,
    una: u64,
    nxt: u64,
    segs: VecDeque<Seg>,
    cwnd: u32,
    cwnd_cnt: u32,
    ssthresh: u32,
    cwnd_limited: bool,
    rwnd: u64,
    srtt: i64,
    rttvar: i64,
    backoff: u32,
    rto_gen: u64,
    rto_armed: bool,
    persist_gen: u64,
    persist_armed: bool,
    persist_backoff: u32,
    dupacks: u32,
    recovery: Option<(Recovery, u64)>,
    prr_delivered: u32,
    prr_out: u32,
    recover_fs: u32,
    rack_sent: i64,
    free_at: i64,
    last_sent: i64,
    sender_done: Option<i64>,
    // receiver
    rcv_nxt: u64,
    ooo: Vec<(u64, u64)>,
    recent: Option<(u64, u64)>,
    read: u64,
    paused: bool,
    next_pause: u64,
    unacked: u32,
    delack_gen: u64,
    last_adv: u64,
    last_rx: i64,
    ka_gen: u64,
    receiver_done: Option<i64>,
}

/// Simulates `t` over `path` with a connection whose base round trip is `rtt_ns`.
pub fn simulate(path: &mut Path, t: &Transfer<'_>, net: Net, rtt_ns: i64) -> Trace {
    let until = t.until.unwrap_or(t.start + 600 * S);
    let total = t.data.len() as u64;
    let mut sim = Sim {
        t,
        net,
        path,
        until,
        total,
        heap: BinaryHeap::new(),
        order: 0,
        packets: Vec::new(),
        available: 0,
        una: 0,
        nxt: 0,
        segs: VecDeque::new(),
        cwnd: t.initial_window.max(1),
        cwnd_cnt: 0,
        ssthresh: u32::MAX,
        cwnd_limited: false,
        rwnd: t.receive_buffer,
        srtt: rtt_ns,
        rttvar: rtt_ns / 2,
        backoff: 0,
        rto_gen: 0,
        rto_armed: false,
        persist_gen: 0,
        persist_armed: false,
        persist_backoff: 0,
        dupacks: 0,
        recovery: None,
        prr_delivered: 0,
        prr_out: 0,
        recover_fs: 1,
        rack_sent: i64::MIN,
        free_at: t.start,
        last_sent: t.start,
        sender_done: None,
        rcv_nxt: 0,
        ooo: Vec::new(),
        recent: None,
        read: 0,
        paused: false,
        next_pause: match t.reader {
            Reader::Immediate => u64::MAX,
            Reader::Pauses { every_bytes, .. } => every_bytes.max(1),
        },
        unacked: 0,
        delack_gen: 0,
        last_adv: t.receive_buffer,
        last_rx: t.start,
        ka_gen: 0,
        receiver_done: None,
    };
    sim.run();
    Trace {
        delivered: sim.rcv_nxt,
        sent: sim.nxt,
        receiver_done: sim.receiver_done,
        sender_done: sim.sender_done,
        packets: sim.packets,
    }
}

impl Sim<'_, '_> {
    fn at(&mut self, time: i64, ev: Ev) {
        self.order += 1;
        self.heap.push(Reverse((time, self.order, ev)));
    }

    fn run(&mut self) {
        let start = self.t.start;
        match self.t.supply {
            Supply::All => self.available = self.total,
            Supply::Chunks { bytes, every_ns } => {
                self.available = bytes.min(self.total);
                let chunks = self.total.div_ceil(bytes.max(1));
                for k in 1..chunks {
                    self.at(start + k as i64 * every_ns, Ev::Supply(k));
                }
            }
        }
        if let Some(ka) = self.t.keepalive {
            self.at(start + ka.idle_ns, Ev::Keepalive(0));
        }
        if self.total == 0 {
            self.sender_done = Some(start);
            self.receiver_done = Some(start);
        }
        self.transmit(start);
        while let Some(Reverse((now, _, ev))) = self.heap.pop() {
            if now > self.until {
                break;
            }
            match ev {
                Ev::Supply(k) => self.on_supply(now, k),
                Ev::Arrive(i) => {
                    if self.packets[i].from == self.t.sender {
                        self.receiver_gets(now, i);
                    } else {
                        self.sender_gets(now, i);
                    }
                }
                Ev::Rto(g) => self.on_rto(now, g),
                Ev::Persist(g) => self.on_persist(now, g),
                Ev::DelAck(g) => {
                    if g == self.delack_gen && self.unacked > 0 {
                        self.send_ack(now, false);
                    }
                }
                Ev::ReadResume => self.on_read_resume(now),
                Ev::Keepalive(g) => self.on_keepalive(now, g),
            }
        }
    }

    // ------------------------------------------------------------ sender

    fn rto(&self) -> i64 {
        let base = (self.srtt + (4 * self.rttvar).max(MIN_RTO_NS)).clamp(MIN_RTO_NS, MAX_RTO_NS);
        base.saturating_mul(1 << self.backoff.min(MAX_BACKOFF))
            .min(MAX_RTO_NS)
    }

    fn pipe(&self) -> u32 {
        self.segs
            .iter()
            .filter(|s| s.in_flight && !s.sacked)
            .count() as u32
    }

    /// Puts a packet from the sender on the path at the sender's next free slot.
    fn sender_emit(&mut self, now: i64, kind: PacketKind) -> i64 {
        let payload = match kind {
            PacketKind::Data { len, .. } => u64::from(len),
            _ => 0,
        };
        let wire = payload + u64::from(self.net.header_bytes);
        let sent_at = now.max(self.free_at);
        self.free_at = sent_at + serialization(wire + 14, SENDER_NIC_BPS).max(US);
        let arrived_at = self
            .path
            .forward(sent_at, wire, payload)
            .map(|left| left + self.net.owd_forward);
        self.push_packet(self.t.sender, sent_at, arrived_at, kind);
        sent_at
    }

    fn push_packet(&mut self, from: Side, sent_at: i64, arrived_at: Option<i64>, kind: PacketKind) {
        let i = self.packets.len();
        self.packets.push(SimPacket {
            from,
            sent_at,
            arrived_at,
            kind,
        });
        if let Some(a) = arrived_at {
            self.at(a, Ev::Arrive(i));
        }
    }

    fn send_segment(&mut self, now: i64, idx: usize) {
        let seg = self.segs[idx];
        let retransmission = seg.txs > 0;
        let sent_at = self.sender_emit(
            now,
            PacketKind::Data {
                offset: seg.off,
                len: seg.len,
                retransmission,
                push: seg.push,
            },
        );
        let s = &mut self.segs[idx];
        s.txs += 1;
        s.sent_at = sent_at;
        s.lost = false;
        s.in_flight = true;
        self.last_sent = sent_at;
        if !self.rto_armed {
            self.arm_rto(sent_at);
        }
    }

    fn arm_rto(&mut self, from: i64) {
        self.rto_gen += 1;
        self.rto_armed = true;
        let at = from + self.rto();
        self.at(at, Ev::Rto(self.rto_gen));
    }

    fn transmit(&mut self, now: i64) {
        self.transmit_up_to(now, None);
    }

    /// Sends what the window allows: retransmissions of lost segments first, then new data.
    /// With a `budget` (fast recovery), at most that many packets whatever the window;
    /// returns how many were sent.
    fn transmit_up_to(&mut self, now: i64, budget: Option<u32>) -> u32 {
        if self.sender_done.is_some() {
            return 0;
        }
        let mss = u64::from(self.net.mss);
        let mut sent = 0;
        loop {
            match budget {
                Some(b) if sent >= b => break,
                None if self.pipe() >= self.cwnd => {
                    self.cwnd_limited = true;
                    break;
                }
                _ => {}
            }
            if let Some(i) = self.segs.iter().position(|s| s.lost && !s.sacked) {
                self.send_segment(now, i);
                sent += 1;
                continue;
            }
            let right = self.una + self.rwnd;
            if self.nxt < self.available && self.nxt < right {
                let room = right - self.nxt;
                let left = self.available - self.nxt;
                let len = mss.min(left).min(room);
                // Sender silly-window avoidance: no runt segment while a window's worth is
                // still unacknowledged.
                if len < mss && len < left && !self.segs.is_empty() {
                    self.cwnd_limited = false;
                    break;
                }
                let end = self.nxt + len;
                self.segs.push_back(Seg {
                    off: self.nxt,
                    len: len as u32,
                    sent_at: now,
                    txs: 0,
                    sacked: false,
                    lost: false,
                    in_flight: false,
                    push: end == self.available,
                });
                self.nxt = end;
                let i = self.segs.len() - 1;
                self.send_segment(now, i);
                sent += 1;
                continue;
            }
            self.cwnd_limited = false;
            break;
        }
        if self.segs.is_empty() && self.nxt < self.available && self.una + self.rwnd <= self.nxt {
            if !self.persist_armed {
                self.persist_gen += 1;
                self.persist_armed = true;
                let at = now + self.persist_interval();
                self.at(at, Ev::Persist(self.persist_gen));
            }
        } else if self.persist_armed && !self.segs.is_empty() {
            self.persist_armed = false;
            self.persist_gen += 1;
            self.persist_backoff = 0;
        }
        sent
    }

    fn persist_interval(&self) -> i64 {
        let base = (self.srtt + (4 * self.rttvar).max(MIN_RTO_NS)).clamp(MIN_RTO_NS, MAX_RTO_NS);
        base.saturating_mul(1 << self.persist_backoff.min(MAX_BACKOFF))
            .min(MAX_RTO_NS)
    }

    fn on_supply(&mut self, now: i64, k: u64) {
        if let Supply::Chunks { bytes, .. } = self.t.supply {
            self.available = ((k + 1) * bytes).min(self.total);
        }
        // Slow start after idle (RFC 5681 §4.1, Linux tcp_slow_start_after_idle).
        if self.segs.is_empty() && now - self.last_sent > self.rto() {
            self.cwnd = self.cwnd.min(self.t.initial_window.max(1));
        }
        self.transmit(now);
    }

    fn grow(&mut self, acked: u32) {
        if !self.cwnd_limited || acked == 0 {
            return;
        }
        let mut acked = acked;
        if self.cwnd < self.ssthresh {
            let room = self.ssthresh - self.cwnd;
            let step = acked.min(room);
            self.cwnd += step;
            acked -= step;
        }
        if acked > 0 && self.cwnd >= self.ssthresh {
            self.cwnd_cnt += acked;
            while self.cwnd_cnt >= self.cwnd {
                self.cwnd_cnt -= self.cwnd;
                self.cwnd += 1;
            }
        }
        self.cwnd = self.cwnd.min(100_000);
    }

    fn rtt_sample(&mut self, r: i64) {
        // RFC 6298 §2.3.
        let err = (self.srtt - r).abs();
        self.rttvar = (3 * self.rttvar + err) / 4;
        self.srtt = (7 * self.srtt + r) / 8;
    }

    fn sender_gets(&mut self, now: i64, i: usize) {
        let now = now + self.net.reaction_ns;
        let kind = self.packets[i].kind.clone();
        match kind {
            PacketKind::Ack {
                ack,
                window,
                sack,
                duplicate,
            } => self.on_ack(now, ack, window, &sack, duplicate),
            PacketKind::Keepalive { window, .. } => {
                self.rwnd = window;
                let seq = self.nxt;
                self.sender_emit(now, PacketKind::KeepaliveReply { seq });
            }
            _ => {}
        }
    }

    fn on_ack(&mut self, now: i64, ack: u64, window: u64, sack: &[(u64, u64)], duplicate: bool) {
        if self.sender_done.is_some() {
            return;
        }
        self.rwnd = window;
        let mut delivered = 0;
        let advanced = ack > self.una;
        if ack > self.una {
            let mut acked = 0;
            let mut sample = None;
            while self.segs.front().is_some_and(|s| s.end() <= ack) {
                if let Some(s) = self.segs.pop_front() {
                    if !s.sacked {
                        acked += 1;
                    }
                    if s.txs == 1 && !s.sacked {
                        sample = Some(now - s.sent_at);
                    }
                    self.rack_sent = self.rack_sent.max(s.sent_at);
                }
            }
            delivered += acked;
            self.una = ack;
            self.dupacks = 0;
            self.backoff = 0;
            if let Some(r) = sample {
                self.rtt_sample(r);
            }
            self.rto_armed = false;
            self.rto_gen += 1;
            if !self.segs.is_empty() {
                self.arm_rto(now);
            }
            match self.recovery {
                Some((kind, recover)) if self.una >= recover => {
                    self.recovery = None;
                    if kind == Recovery::Fast {
                        self.cwnd = self.ssthresh.max(2);
                        self.cwnd_cnt = 0;
                    } else {
                        self.grow(acked);
                    }
                }
                Some((Recovery::Loss, _)) | None => self.grow(acked),
                Some((Recovery::Fast, _)) => {}
            }
            if self.una >= self.total {
                self.sender_done = Some(now);
                self.rto_gen += 1;
                self.persist_gen += 1;
                return;
            }
        } else if ack == self.una && !self.segs.is_empty() && duplicate {
            self.dupacks += 1;
        }
        for &(l, r) in sack {
            for s in self.segs.iter_mut() {
                if !s.sacked && s.off >= l && s.end() <= r {
                    delivered += 1;
                    s.sacked = true;
                    s.lost = false;
                    s.in_flight = false;
                    self.rack_sent = self.rack_sent.max(s.sent_at);
                }
            }
        }
        let mut entered = false;
        if self.recovery.is_none() {
            let sacked = self.segs.iter().filter(|s| s.sacked).count();
            if self.dupacks >= 3 || sacked >= 3 {
                entered = true;
                self.recovery = Some((Recovery::Fast, self.nxt));
                self.recover_fs = (self.segs.len() as u32).max(1);
                self.prr_delivered = 0;
                self.prr_out = 0;
                self.ssthresh = (self.cwnd * 7 / 10).max(2);
                self.cwnd = self.ssthresh;
                self.cwnd_cnt = 0;
            }
        }
        let newly_lost = if self.recovery.is_some() {
            self.mark_lost()
        } else {
            0
        };
        if self.rwnd > 0 && self.persist_armed {
            self.persist_armed = false;
            self.persist_gen += 1;
            self.persist_backoff = 0;
        }
        if matches!(self.recovery, Some((Recovery::Fast, _))) {
            // Proportional rate reduction (RFC 6937) as Linux does it: while the pipe is
            // above ssthresh, send in proportion to what is delivered; below it, one more
            // than delivered only when the cumulative ACK advanced without new losses
            // (slow-start reduction bound), otherwise exactly what was delivered. The first
            // hole goes out at once (fast retransmit).
            self.prr_delivered += delivered;
            let pipe = i64::from(self.pipe());
            let ssthresh = i64::from(self.ssthresh);
            let (pd, po) = (i64::from(self.prr_delivered), i64::from(self.prr_out));
            let mut sndcnt = if pipe > ssthresh {
                (pd * ssthresh + i64::from(self.recover_fs) - 1) / i64::from(self.recover_fs) - po
            } else if advanced && newly_lost == 0 {
                (ssthresh - pipe).min((pd - po).max(i64::from(delivered)) + 1)
            } else {
                (ssthresh - pipe).min(i64::from(delivered))
            };
            if entered {
                sndcnt = sndcnt.max(1);
            }
            let sndcnt = sndcnt.max(0) as u32;
            // Linux keeps the window at what is in flight plus what it may send.
            self.cwnd = (self.pipe() + sndcnt).max(1);
            let sent = self.transmit_up_to(now, Some(sndcnt));
            self.prr_out += sent;
        } else {
            self.transmit(now);
        }
    }

    /// RACK (RFC 8985) without a reordering window: the path never reorders, so a segment
    /// sent before one that has been delivered is lost.
    /// Returns how many segments it marked.
    fn mark_lost(&mut self) -> u32 {
        let rack = self.rack_sent;
        let mut n = 0;
        for s in self.segs.iter_mut() {
            if !s.sacked && s.in_flight && s.sent_at < rack {
                s.in_flight = false;
                s.lost = true;
                n += 1;
            }
        }
        n
    }

    fn on_rto(&mut self, now: i64, g: u64) {
        if g != self.rto_gen || !self.rto_armed || self.segs.is_empty() {
            return;
        }
        // A timeout in the middle of a recovery keeps the ssthresh that recovery set (Linux
        // tcp_enter_loss).
        if self.recovery.is_none() {
            self.ssthresh = (self.cwnd * 7 / 10).max(2);
        }
        self.cwnd = 1;
        self.cwnd_cnt = 0;
        self.dupacks = 0;
        self.recovery = Some((Recovery::Loss, self.nxt));
        for s in self.segs.iter_mut() {
            if !s.sacked {
                s.lost = true;
                s.in_flight = false;
            }
        }
        self.backoff = (self.backoff + 1).min(MAX_BACKOFF);
        self.rto_armed = false;
        self.rto_gen += 1;
        self.cwnd_limited = true;
        self.transmit(now);
        if !self.rto_armed {
            self.arm_rto(now);
        }
    }

    fn on_persist(&mut self, now: i64, g: u64) {
        if g != self.persist_gen || !self.persist_armed || self.sender_done.is_some() {
            return;
        }
        if !self.segs.is_empty() || self.una + self.rwnd > self.nxt {
            self.persist_armed = false;
            self.transmit(now);
            return;
        }
        let una = self.una;
        self.sender_emit(now, PacketKind::WindowProbe { una });
        self.persist_backoff = (self.persist_backoff + 1).min(MAX_BACKOFF);
        self.persist_gen += 1;
        let at = now + self.persist_interval();
        self.at(at, Ev::Persist(self.persist_gen));
    }

    // ------------------------------------------------------------ receiver

    fn window(&self) -> u64 {
        let unread = self.rcv_nxt - self.read;
        let free = self.t.receive_buffer.saturating_sub(unread);
        if free < u64::from(self.net.mss) {
            0
        } else {
            free
        }
    }

    fn receiver_emit(&mut self, now: i64, kind: PacketKind) {
        let sent = now + self.net.reaction_ns;
        let arrived = sent + self.net.owd_reverse;
        let from = self.t.sender.other();
        self.push_packet(from, sent, Some(arrived), kind);
    }

    fn send_ack(&mut self, now: i64, duplicate: bool) {
        self.unacked = 0;
        self.delack_gen += 1;
        let window = self.window();
        self.last_adv = window;
        let mut sack = Vec::new();
        if let Some(r) = self.recent {
            if let Some(b) = self.ooo.iter().find(|b| b.0 <= r.0 && r.1 <= b.1) {
                sack.push(*b);
            }
        }
        for b in self.ooo.iter().rev() {
            if sack.len() >= MAX_SACK_BLOCKS {
                break;
            }
            if !sack.contains(b) {
                sack.push(*b);
            }
        }
        let ack = self.rcv_nxt;
        self.receiver_emit(
            now,
            PacketKind::Ack {
                ack,
                window,
                sack,
                duplicate,
            },
        );
    }

    fn app_read(&mut self, now: i64) {
        if self.paused {
            return;
        }
        match self.t.reader {
            Reader::Immediate => self.read = self.rcv_nxt,
            Reader::Pauses {
                every_bytes,
                pause_ns,
            } => {
                self.read = self.rcv_nxt.min(self.next_pause);
                if self.read == self.next_pause && self.read < self.total {
                    self.paused = true;
                    self.next_pause += every_bytes.max(1);
                    self.at(now + pause_ns, Ev::ReadResume);
                }
            }
        }
    }

    fn on_read_resume(&mut self, now: i64) {
        self.paused = false;
        self.app_read(now);
        let half = self.t.receive_buffer / 2;
        if self.receiver_done.is_none() && self.last_adv < half && self.window() >= half {
            self.send_ack(now, false);
        }
    }

    fn receiver_gets(&mut self, now: i64, i: usize) {
        self.last_rx = now;
        let kind = self.packets[i].kind.clone();
        match kind {
            PacketKind::Data { offset, len, .. } => self.on_data(now, offset, u64::from(len)),
            PacketKind::WindowProbe { .. } => self.send_ack(now, false),
            _ => {}
        }
    }

    fn on_data(&mut self, now: i64, off: u64, len: u64) {
        let end = off + len;
        if end <= self.rcv_nxt {
            // A copy of bytes already here: ACK at once (Linux would add a D-SACK block).
            self.send_ack(now, true);
            return;
        }
        let had_hole = !self.ooo.is_empty();
        if off <= self.rcv_nxt {
            self.rcv_nxt = end;
            self.ooo.sort_unstable();
            while let Some(&(l, r)) = self.ooo.first() {
                if l > self.rcv_nxt {
                    break;
                }
                self.rcv_nxt = self.rcv_nxt.max(r);
                self.ooo.remove(0);
            }
            if self.ooo.is_empty() {
                self.recent = None;
            }
            self.app_read(now);
            if self.rcv_nxt >= self.total {
                self.receiver_done.get_or_insert(now);
                self.send_ack(now, false);
            } else if had_hole {
                self.send_ack(now, false);
            } else {
                self.unacked += 1;
                if self.unacked >= 2 {
                    self.send_ack(now, false);
                } else {
                    self.delack_gen += 1;
                    let g = self.delack_gen;
                    self.at(now + DELAYED_ACK_NS, Ev::DelAck(g));
                }
            }
        } else {
            let (mut l, mut r) = (off, end);
            self.ooo.retain(|&(a, b)| {
                if a <= r && l <= b {
                    l = l.min(a);
                    r = r.max(b);
                    false
                } else {
                    true
                }
            });
            self.ooo.push((l, r));
            self.ooo.sort_unstable();
            self.recent = Some((off, end));
            self.send_ack(now, true);
        }
    }

    fn on_keepalive(&mut self, now: i64, g: u64) {
        let Some(ka) = self.t.keepalive else { return };
        if g != self.ka_gen || self.sender_done.is_some() {
            // Once the data is acknowledged the caller carries on with the connection.
            return;
        }
        self.ka_gen += 1;
        let g = self.ka_gen;
        if now - self.last_rx >= ka.idle_ns {
            let (ack, window) = (self.rcv_nxt, self.window());
            self.receiver_emit(now, PacketKind::Keepalive { ack, window });
            self.at(now + ka.interval_ns, Ev::Keepalive(g));
        } else {
            self.at(self.last_rx + ka.idle_ns, Ev::Keepalive(g));
        }
    }
}

// ------------------------------------------------------------ through a Scenario

/// Propagation delay of a packet from `from` to the other end of `conn`: half the round
/// trip towards the client, the rest towards the server.
pub fn one_way(conn: &TcpConn, from: Side) -> i64 {
    let rtt = conn.params().rtt_ns;
    match from {
        Side::Server => rtt / 2,
        Side::Client => rtt - rtt / 2,
    }
}

/// The side at the capture point.
pub fn capture_side(sc: &Scenario) -> Side {
    match sc.vantage() {
        Vantage::Client => Side::Client,
        Vantage::Server => Side::Server,
    }
}

/// The global time at which a packet from `from` captured at `captured` (and not lost)
/// reaches the other end.
pub fn arrival(sc: &Scenario, conn: &TcpConn, from: Side, captured: i64) -> i64 {
    if capture_side(sc) == from {
        captured + one_way(conn, from)
    } else {
        captured
    }
}

/// The global time at which `from` sent a packet captured at `captured`.
pub fn send_time(sc: &Scenario, conn: &TcpConn, from: Side, captured: i64) -> i64 {
    if capture_side(sc) == from {
        captured
    } else {
        captured - one_way(conn, from)
    }
}

/// The capture time of a packet `from` sends at global time `sent` (and that arrives).
pub fn capture_time(sc: &Scenario, conn: &TcpConn, from: Side, sent: i64) -> i64 {
    if capture_side(sc) == from {
        sent
    } else {
        sent + one_way(conn, from)
    }
}

/// What [`run`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// The simulation.
    pub trace: Trace,
    /// Capture time of every packet in `trace.packets` that was captured.
    pub captured: Vec<Option<i64>>,
    /// Capture time of the last captured packet.
    pub last_capture: Option<i64>,
}

/// The network facts of `conn` in `sc` for a transfer from `sender`.
pub fn net_of(sc: &Scenario, conn: &TcpConn, sender: Side) -> Net {
    let v6 = sc.host(conn.client).addr.is_ipv6();
    let ts = if conn.params().timestamps { 12 } else { 0 };
    Net {
        mss: conn.max_payload() as u32,
        header_bytes: if v6 { 60 } else { 40 } + ts,
        owd_forward: one_way(conn, sender),
        owd_reverse: one_way(conn, sender.other()),
        capture_at_sender: capture_side(sc) == sender,
        reaction_ns: sc.local_delay(),
    }
}

/// Simulates `t` on `conn` over `path` and emits the captured packets into `sc`, with IP IDs
/// taken from the hosts' counters in sending order. Data segments carry the connection's
/// current ACK for the other direction; ACKs carry the receiver's current sequence number,
/// its window (scaled by its handshake shift) and SACK blocks. When the connection uses TCP
/// timestamps (RFC 7323), every segment carries its sender's clock at the time it left (the
/// remote end's clock shifted by the one-way delay, as the scenario stamps the handshake) and
/// echoes the highest value that had *reached* its sender by then, so echo-based RTT
/// estimates at either end see the real round trip. Afterwards the sender's next sequence
/// number is past everything it sent, and each end echoes the last value it received.
pub fn run(
    sc: &mut Scenario,
    conn: &mut TcpConn,
    path: &mut Path,
    t: &Transfer<'_>,
) -> Result<Outcome, SynthError> {
    let net = net_of(sc, conn, t.sender);
    let trace = simulate(path, t, net, conn.params().rtt_ns);
    let until = t.until.unwrap_or(i64::MAX);
    let sender = t.sender;
    let receiver = sender.other();
    let host = |side: Side| match side {
        Side::Client => conn.client,
        Side::Server => conn.server,
    };
    // IP IDs in sending order.
    let mut by_send: Vec<usize> = (0..trace.packets.len()).collect();
    by_send.sort_by_key(|&i| (trace.packets[i].sent_at, i));
    let mut ids = vec![0u16; trace.packets.len()];
    for i in by_send {
        ids[i] = sc.next_ip_id(host(trace.packets[i].from));
    }
    let captured: Vec<Option<i64>> = trace
        .packets
        .iter()
        .map(|p| p.captured_at(sender, &net, until))
        .collect();
    let mut order: Vec<usize> = (0..trace.packets.len())
        .filter(|&i| captured[i].is_some())
        .collect();
    order.sort_by_key(|&i| (captured[i], i));
    let base = conn.next_seq(sender);
    let rbase = conn.next_seq(receiver);
    let shift = match receiver {
        Side::Client => conn.params().window_scale.0,
        Side::Server => conn.params().window_scale.1,
    };
    let timestamps = conn.params().timestamps;
    // The clock value each packet carries: the capture point stamps when it sends; the
    // remote end's clock runs one propagation delay ahead of the capture clock, as the
    // scenario stamps the handshake (at capture time).
    let at_capture = |side: Side| (side == sender) == net.capture_at_sender;
    let owd = |side: Side| {
        if side == sender {
            net.owd_forward
        } else {
            net.owd_reverse
        }
    };
    let tsvals: Vec<u32> = trace
        .packets
        .iter()
        .map(|p| {
            let t = if at_capture(p.from) {
                p.sent_at
            } else {
                p.sent_at + owd(p.from)
            };
            conn.tsval(p.from, t)
        })
        .collect();
    // Per receiving side: (arrival, tsval) of the packets that reached it, by arrival, with
    // the highest value seen so far (what that side echoes from then on).
    let mut reached: [Vec<(i64, u32)>; 2] = [Vec::new(), Vec::new()];
    for (i, p) in trace.packets.iter().enumerate() {
        if let Some(a) = p.arrived_at {
            reached[side_index(p.from.other())].push((a, tsvals[i]));
        }
    }
    let mut echo_start = [conn.ts_echo(Side::Client), conn.ts_echo(Side::Server)];
    for (k, v) in reached.iter_mut().enumerate() {
        v.sort_by_key(|&(a, _)| a);
        let mut high = echo_start[k];
        for e in v.iter_mut() {
            if e.1.wrapping_sub(high) < 1 << 31 {
                high = e.1;
            }
            e.1 = high;
        }
        if let Some(&(_, last)) = v.last() {
            echo_start[k] = last;
        }
    }
    let initial_echo = [conn.ts_echo(Side::Client), conn.ts_echo(Side::Server)];
    let echo_of = |side: Side, at: i64| {
        let v = &reached[side_index(side)];
        let n = v.partition_point(|&(a, _)| a <= at);
        if n == 0 {
            initial_echo[side_index(side)]
        } else {
            v[n - 1].1
        }
    };
    let seq = |off: u64| base.wrapping_add(off as u32);
    let field = |w: u64| (w >> shift).min(u64::from(u16::MAX)) as u16;
    let mut last_capture = None;
    for i in order {
        let p = &trace.packets[i];
        let at = captured[i].unwrap_or_default();
        last_capture = Some(at);
        let seg = match &p.kind {
            PacketKind::Data {
                offset, len, push, ..
            } => {
                let bytes = &t.data[*offset as usize..(*offset + u64::from(*len)) as usize];
                let flags = if *push { TCP_ACK | TCP_PSH } else { TCP_ACK };
                Segment::data(bytes)
                    .with_seq(seq(*offset))
                    .with_flags(flags)
            }
            PacketKind::Ack {
                ack, window, sack, ..
            } => {
                let mut s = Segment::default()
                    .with_seq(rbase)
                    .with_ack(seq(*ack))
                    .with_window(field(*window));
                if !sack.is_empty() {
                    let blocks = sack.iter().map(|&(l, r)| (seq(l), seq(r))).collect();
                    s = s.with_options(vec![
                        TcpOption::Nop,
                        TcpOption::Nop,
                        TcpOption::Sack(blocks),
                    ]);
                }
                s
            }
            PacketKind::Keepalive { ack, window } => Segment::default()
                .with_seq(rbase.wrapping_sub(1))
                .with_ack(seq(*ack))
                .with_window(field(*window)),
            PacketKind::KeepaliveReply { seq: s } => Segment::default().with_seq(seq(*s)),
            PacketKind::WindowProbe { una } => {
                Segment::default().with_seq(seq(*una).wrapping_sub(1))
            }
        };
        let mut seg = seg.with_ip_id(ids[i]);
        if timestamps {
            let mut options = TcpOption::timestamps(tsvals[i], echo_of(p.from, p.sent_at));
            options.extend(seg.options.take().unwrap_or_default());
            seg = seg.with_options(options);
        }
        conn.emit(sc, p.from, at, &seg)?;
    }
    if timestamps {
        conn.set_ts_echo(Side::Client, echo_start[side_index(Side::Client)]);
        conn.set_ts_echo(Side::Server, echo_start[side_index(Side::Server)]);
    }
    conn.set_next_seq(sender, seq(trace.sent));
    Ok(Outcome {
        trace,
        captured,
        last_capture,
    })
}

fn side_index(side: Side) -> usize {
    match side {
        Side::Client => 0,
        Side::Server => 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RTT: i64 = 60 * MS;

    fn net(capture_at_sender: bool) -> Net {
        Net {
            mss: 1460,
            header_bytes: 40,
            owd_forward: RTT / 2,
            owd_reverse: RTT / 2,
            capture_at_sender,
            reaction_ns: 40 * US,
        }
    }

    fn data(n: usize) -> Vec<u8> {
        SplitMix64::new(n as u64).bytes(n)
    }

    fn lost(tr: &Trace) -> Vec<&SimPacket> {
        tr.packets
            .iter()
            .filter(|p| p.payload_len() > 0 && p.arrived_at.is_none())
            .collect()
    }

    /// An ACK's arrival time, cumulative ACK and SACK blocks.
    type AckSeen<'a> = (i64, u64, &'a [(u64, u64)]);

    /// RTT samples at the sender: each delivered first transmission to the first ACK that
    /// covers it, cumulatively or with a SACK block.
    fn rtts(tr: &Trace) -> Vec<i64> {
        let acks: Vec<AckSeen<'_>> = tr
            .packets
            .iter()
            .filter_map(|p| match &p.kind {
                PacketKind::Ack { ack, sack, .. } => p.arrived_at.map(|a| (a, *ack, &sack[..])),
                _ => None,
            })
            .collect();
        tr.packets
            .iter()
            .filter_map(|p| match p.kind {
                PacketKind::Data {
                    offset,
                    len,
                    retransmission: false,
                    ..
                } if p.arrived_at.is_some() => {
                    let end = offset + u64::from(len);
                    acks.iter()
                        .find(|a| {
                            a.0 > p.sent_at
                                && (a.1 >= end || a.2.iter().any(|b| b.0 <= offset && end <= b.1))
                        })
                        .map(|a| a.0 - p.sent_at)
                }
                _ => None,
            })
            .collect()
    }

    #[test]
    fn synth_transfer_clean_path_completes_in_a_few_round_trips() {
        let d = data(300_000);
        let mut path = Path::clear();
        let tr = simulate(
            &mut path,
            &Transfer::new(Side::Server, &d, 0),
            net(false),
            RTT,
        );
        assert_eq!(tr.delivered, 300_000);
        assert!(lost(&tr).is_empty());
        let done = tr.sender_done.unwrap();
        // Slow start from 10 segments: 10, 20, 40, 80, 160 > 206 segments in ~5 RTTs, plus
        // the 50 Mbit/s serialization (48 ms).
        assert!(done < 8 * RTT, "{done}");
        assert!(tr.packets.iter().all(|p| !matches!(
            p.kind,
            PacketKind::Data {
                retransmission: true,
                ..
            }
        )));
    }

    #[test]
    fn synth_transfer_policer_goodput_matches_its_rate() {
        let d = data(600_000);
        for (rate, bucket) in [
            (500_000u64, 100_000u64),
            (2_000_000, 64_000),
            (150_000, 20_000),
        ] {
            let mut path = Path::policer(rate, bucket);
            let tr = simulate(
                &mut path,
                &Transfer::new(Side::Server, &d, 0),
                net(true),
                RTT,
            );
            assert_eq!(tr.delivered, 600_000, "{rate}");
            let l = lost(&tr);
            assert!(l.len() >= 15, "{rate}: {} losses", l.len());
            let (first, last) = (l[0].sent_at, l[l.len() - 1].sent_at);
            let passed: u64 = tr
                .packets
                .iter()
                .filter(|p| p.arrived_at.is_some() && p.sent_at > first && p.sent_at <= last)
                .map(|p| p.payload_len() + 40)
                .sum();
            let bps = passed as f64 * 8.0 / ((last - first) as f64 / 1e9);
            let err = (bps - rate as f64).abs() / rate as f64;
            assert!(err < 0.05, "{rate}: measured {bps:.0} bit/s");
            // Policing drops without queueing: the RTT stays at the base RTT plus
            // serialization (samples ended by a delayed ACK are 40 ms longer).
            let mut r = rtts(&tr);
            r.sort_unstable();
            let median = r[r.len() / 2];
            assert!(median < RTT * 11 / 10, "{rate}: median RTT {median}");
            assert!(
                r.iter().all(|x| *x < RTT + DELAYED_ACK_NS + 15 * MS),
                "{rate}: {r:?}"
            );
        }
    }

    #[test]
    fn synth_transfer_shaper_inflates_rtt_and_keeps_the_rate() {
        let d = data(400_000);
        let mut path = Path::shaper(500_000, 3_000, 64 * 1024);
        let tr = simulate(
            &mut path,
            &Transfer::new(Side::Server, &d, 0),
            net(true),
            RTT,
        );
        assert_eq!(tr.delivered, 400_000);
        let r = rtts(&tr);
        let max = *r.iter().max().unwrap();
        assert!(max > 5 * RTT, "max RTT {max}");
        // Goodput close to the shaped rate over the whole transfer.
        let secs = tr.sender_done.unwrap() as f64 / 1e9;
        let bps = 400_000.0 * 8.0 / secs;
        assert!(bps > 400_000.0 && bps < 500_000.0, "{bps}");
    }

    #[test]
    fn synth_transfer_bottleneck_queue_delays_then_drops_when_full() {
        let d = data(500_000);
        let mut path = Path::bottleneck(4_000_000, 32 * 1024);
        let tr = simulate(
            &mut path,
            &Transfer::new(Side::Server, &d, 0),
            net(true),
            RTT,
        );
        assert_eq!(tr.delivered, 500_000);
        assert!(!lost(&tr).is_empty());
        let r = rtts(&tr);
        assert!(*r.iter().max().unwrap() > RTT + 40 * MS);
    }

    #[test]
    fn synth_transfer_freeze_stops_delivery_at_the_threshold() {
        let d = data(200_000);
        let mut path = Path::freeze(16_000);
        let t = Transfer::new(Side::Server, &d, 0)
            .keepalive(10 * S, 10 * S)
            .until(30 * S);
        let tr = simulate(&mut path, &t, net(false), RTT);
        assert_eq!(tr.delivered, 10 * 1460);
        assert!(tr.sender_done.is_none() && path.frozen());
        // The sender keeps retransmitting with doubling gaps.
        let retx: Vec<i64> = tr
            .packets
            .iter()
            .filter(|p| {
                matches!(
                    p.kind,
                    PacketKind::Data {
                        retransmission: true,
                        ..
                    }
                )
            })
            .map(|p| p.sent_at)
            .collect();
        assert!(retx.len() >= 5, "{retx:?}");
        for w in retx.windows(3) {
            assert!(w[2] - w[1] >= 2 * (w[1] - w[0]) - MS, "{retx:?}");
        }
        // Keepalives at 10 s intervals are answered.
        let ka = tr
            .packets
            .iter()
            .filter(|p| matches!(p.kind, PacketKind::Keepalive { .. }))
            .count();
        let replies = tr
            .packets
            .iter()
            .filter(|p| {
                matches!(p.kind, PacketKind::KeepaliveReply { .. }) && p.arrived_at.is_some()
            })
            .count();
        assert!(ka >= 2 && replies == ka, "{ka} {replies}");
    }

    #[test]
    fn synth_transfer_random_loss_recovers() {
        let d = data(500_000);
        let mut path = Path::random_loss(20_000, 7);
        let tr = simulate(
            &mut path,
            &Transfer::new(Side::Server, &d, 0),
            net(false),
            RTT,
        );
        assert_eq!(tr.delivered, 500_000);
        let n = lost(&tr).len();
        assert!((3..=20).contains(&n), "{n}");
    }

    #[test]
    fn synth_transfer_zero_window_probes_and_resumes() {
        let d = data(400_000);
        let mut path = Path::clear();
        let t = Transfer::new(Side::Server, &d, 0)
            .receive_buffer(64 * 1024)
            .reader(Reader::Pauses {
                every_bytes: 150_000,
                pause_ns: 3 * S,
            });
        let tr = simulate(&mut path, &t, net(false), RTT);
        assert_eq!(tr.delivered, 400_000);
        let zero = tr
            .packets
            .iter()
            .filter(|p| matches!(p.kind, PacketKind::Ack { window: 0, .. }))
            .count();
        let probes = tr
            .packets
            .iter()
            .filter(|p| matches!(p.kind, PacketKind::WindowProbe { .. }))
            .count();
        assert!(zero >= 2 && probes >= 2, "{zero} {probes}");
        assert!(lost(&tr).is_empty());
        assert!(tr.sender_done.unwrap() > 6 * S);
    }

    #[test]
    fn synth_transfer_app_limited_sender_pauses_between_chunks() {
        let d = data(400_000);
        let mut path = Path::clear();
        let t = Transfer::new(Side::Server, &d, 0).supply(Supply::Chunks {
            bytes: 100_000,
            every_ns: 2 * S,
        });
        let tr = simulate(&mut path, &t, net(true), RTT);
        assert_eq!(tr.delivered, 400_000);
        let sends: Vec<i64> = tr
            .packets
            .iter()
            .filter(|p| p.payload_len() > 0)
            .map(|p| p.sent_at)
            .collect();
        let gaps = sends.windows(2).filter(|w| w[1] - w[0] > S).count();
        assert_eq!(gaps, 3);
    }

    #[test]
    fn synth_transfer_scripted_drops_and_determinism() {
        let d = data(2_000);
        let run = || {
            let mut path = Path::drops(&[0, 2]);
            simulate(
                &mut path,
                &Transfer::new(Side::Server, &d, 0),
                net(false),
                RTT,
            )
        };
        let a = run();
        assert_eq!(a, run());
        assert_eq!(a.delivered, 2_000);
        // Segment 0 dropped twice (its first retransmission is transmission 2): one
        // duplicate ACK is not enough for a fast retransmit, so two timeouts, the second
        // twice as long.
        let retx: Vec<i64> = a
            .packets
            .iter()
            .filter(|p| matches!(p.kind, PacketKind::Data { offset: 0, .. }))
            .map(|p| p.sent_at)
            .collect();
        assert_eq!(retx.len(), 3);
        assert!(retx[2] - retx[1] >= 2 * (retx[1] - retx[0]) - MS);
    }

    #[test]
    fn synth_transfer_run_emits_what_the_capture_point_sees() {
        use crate::synth::scenario::{Host, TcpParams};
        for vantage in [Vantage::Client, Vantage::Server] {
            let mut sc = Scenario::new(9);
            sc.set_vantage(vantage);
            let c = sc.add_host(Host::local("192.168.1.20".parse().unwrap()));
            let s = sc.add_host(Host::remote("198.51.100.9".parse().unwrap(), 50));
            let mut conn = sc.tcp(c, s, TcpParams::new(443).rtt(RTT)).unwrap();
            let t = conn.handshake(&mut sc, 0).unwrap();
            let base = conn.next_seq(Side::Server);
            let d = data(120_000);
            let mut path = Path::policer(300_000, 15_000);
            let start = arrival(&sc, &conn, Side::Client, t);
            let out = run(
                &mut sc,
                &mut conn,
                &mut path,
                &Transfer::new(Side::Server, &d, start),
            )
            .unwrap();
            assert_eq!(out.trace.delivered, 120_000);
            assert_eq!(conn.next_seq(Side::Server), base.wrapping_add(120_000));
            let dropped = out
                .trace
                .packets
                .iter()
                .filter(|p| p.from == Side::Server && p.arrived_at.is_none())
                .count();
            assert!(dropped > 0);
            // Server data as captured: (IP ID, seq offset, payload).
            let frames = sc.finish();
            let data: Vec<(u16, u32, &[u8])> = frames
                .iter()
                .filter_map(|f| {
                    let ip = &f.data[14..];
                    let t = &ip[20..];
                    let from_server = u16::from_be_bytes([t[0], t[1]]) == 443;
                    let payload = &t[usize::from(t[12] >> 4) * 4..];
                    let seq = u32::from_be_bytes([t[4], t[5], t[6], t[7]]).wrapping_sub(base);
                    (from_server && !payload.is_empty())
                        .then(|| (u16::from_be_bytes([ip[4], ip[5]]), seq, payload))
                })
                .collect();
            let sent = out
                .trace
                .packets
                .iter()
                .filter(|p| p.from == Side::Server)
                .count();
            let captured = match vantage {
                // At the receiver the path's drops never appear...
                Vantage::Client => sent - dropped,
                // ... at the sender everything it sent does.
                Vantage::Server => sent,
            };
            let bare = out
                .trace
                .packets
                .iter()
                .filter(|p| p.from == Side::Server && p.payload_len() == 0)
                .count();
            assert_eq!(data.len(), captured - bare);
            // Payload bytes are the data at their offsets.
            for (_, seq, payload) in &data {
                let o = *seq as usize;
                assert_eq!(*payload, &d[o..o + payload.len()]);
            }
            // IP IDs count up in sending order; at the client the dropped packets leave
            // gaps that add up to the drops.
            let gaps: u32 = data
                .windows(2)
                .map(|w| u32::from(w[1].0.wrapping_sub(w[0].0)) - 1)
                .sum();
            match vantage {
                Vantage::Client => assert_eq!(gaps as usize, dropped),
                Vantage::Server => assert_eq!(gaps, 0),
            }
        }
    }
}
