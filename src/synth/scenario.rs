//! Builds the frame timeline of one capture: hosts with realistic TTLs and IP
//! IDs, TCP connections with consistent sequence numbers and round-trip
//! times, UDP exchanges and raw injections; it never writes files and never
//! reads the clock (every time is given by the caller or derived from RTTs).

use std::net::IpAddr;

use super::link::{LinkLayer, LinkMeta};
use super::packet::{
    tcp_packet, udp_packet, Checksum, IpSpec, Ipv6Ext, TcpOption, TcpSpec, UdpSpec, TCP_ACK,
    TCP_FIN, TCP_PSH, TCP_RST, TCP_SYN,
};
use super::rng::SplitMix64;
use super::writer::Frame;
use super::SynthError;

/// One millisecond in ns.
pub const MS: i64 = 1_000_000;
/// One microsecond in ns.
pub const US: i64 = 1_000;
/// One second in ns.
pub const S: i64 = 1_000_000_000;
/// Linux initial SYN retransmission timeout (RFC 6298 §2 recommends 1 s).
pub const SYN_RTO_NS: i64 = S;
/// Default MSS over IPv4 Ethernet: 1500 - 20 - 20.
pub const MSS_IPV4: u16 = 1460;
/// Default MSS over IPv6 Ethernet: 1500 - 40 - 20.
pub const MSS_IPV6: u16 = 1440;
/// Bytes the timestamps option takes in every segment (NOP, NOP, 10 bytes).
const TS_OPTION_LEN: usize = 12;
/// The delayed-ACK timer after which a receiver ACKs on its own (Linux
/// TCP_DELACK_MIN, 40 ms; RFC 9293 §3.8.6.3 allows up to 500 ms).
const DELAYED_ACK_NS: i64 = 40 * MS;
/// Window a Linux client advertises in its SYN (tcp_rmem default).
pub const LINUX_SYN_WINDOW: u16 = 64240;
/// Window a Linux server advertises in its SYN-ACK.
pub const LINUX_SYNACK_WINDOW: u16 = 65160;

/// How a host fills the IPv4 identification field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IpIdMode {
    /// Always zero (Linux for DF packets on some paths).
    Zero,
    /// A per-host counter starting at `start`, advancing by `step` per packet.
    Counter {
        /// First value.
        start: u16,
        /// Increment.
        step: u16,
    },
    /// Drawn from the scenario's seeded generator for every packet.
    Random,
    /// Always this value.
    Fixed(u16),
}

/// A host as seen from the capture point.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Host {
    /// Address (IPv4 or IPv6).
    pub addr: IpAddr,
    /// MAC address its frames carry at the capture point (for a remote host
    /// behind a router, the router's MAC).
    pub mac: [u8; 6],
    /// TTL / hop limit of its packets as observed at the capture point.
    pub ttl: u8,
    /// IP ID behaviour.
    pub ip_id: IpIdMode,
    /// Whether it sets DF on IPv4 packets.
    pub dont_fragment: bool,
    /// True for the capturing host itself (Linux cooked captures mark its
    /// packets as outgoing).
    pub local: bool,
    /// IPv6 extension headers put in front of the upper layer of every
    /// packet it sends (ignored for IPv4).
    pub ipv6_extensions: Vec<Ipv6Ext>,
}

fn mac_from_addr(addr: &IpAddr, prefix: u8) -> [u8; 6] {
    let b: Vec<u8> = match addr {
        IpAddr::V4(a) => a.octets().to_vec(),
        IpAddr::V6(a) => a.octets()[12..].to_vec(),
    };
    [prefix, 0x00, b[0], b[1], b[2], b[3]]
}

fn counter_start(addr: &IpAddr) -> u16 {
    let mut r = SplitMix64::new(match addr {
        IpAddr::V4(a) => u64::from(u32::from(*a)),
        IpAddr::V6(a) => u128::from(*a) as u64,
    });
    r.next_u16()
}

impl Host {
    /// The capturing host: TTL 64, counter IP IDs, DF set, a locally
    /// administered MAC derived from the address.
    pub fn local(addr: IpAddr) -> Self {
        Self {
            addr,
            mac: mac_from_addr(&addr, 0x02),
            ttl: 64,
            ip_id: IpIdMode::Counter {
                start: counter_start(&addr),
                step: 1,
            },
            dont_fragment: true,
            local: true,
            ipv6_extensions: Vec::new(),
        }
    }

    /// A host some hops away whose packets arrive with this TTL.
    pub fn remote(addr: IpAddr, ttl: u8) -> Self {
        Self {
            addr,
            mac: mac_from_addr(&addr, 0x06),
            ttl,
            ip_id: IpIdMode::Counter {
                start: counter_start(&addr),
                step: 1,
            },
            dont_fragment: true,
            local: false,
            ipv6_extensions: Vec::new(),
        }
    }

    /// Sets the MAC.
    pub fn with_mac(mut self, mac: [u8; 6]) -> Self {
        self.mac = mac;
        self
    }

    /// Sets the observed TTL.
    pub fn with_ttl(mut self, ttl: u8) -> Self {
        self.ttl = ttl;
        self
    }

    /// Sets the IP ID mode.
    pub fn with_ip_id(mut self, mode: IpIdMode) -> Self {
        self.ip_id = mode;
        self
    }

    /// Sets the IPv6 extension headers of every packet it sends.
    pub fn with_ipv6_extensions(mut self, extensions: Vec<Ipv6Ext>) -> Self {
        self.ipv6_extensions = extensions;
        self
    }

    /// Sets the DF behaviour.
    pub fn with_dont_fragment(mut self, df: bool) -> Self {
        self.dont_fragment = df;
        self
    }
}

/// A host registered in a [`Scenario`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct HostId(usize);

/// Where the capture was taken.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Vantage {
    /// At the client: its packets are seen when sent, the server's one RTT later.
    #[default]
    Client,
    /// At the server: the client's packets are seen when they arrive, and the
    /// client's reactions come one RTT after the server's packets.
    Server,
}

/// One end of a TCP connection or UDP exchange.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    /// The initiator.
    Client,
    /// The responder.
    Server,
}

impl Side {
    /// The other end.
    pub fn other(self) -> Side {
        match self {
            Side::Client => Side::Server,
            Side::Server => Side::Client,
        }
    }

    fn idx(self) -> usize {
        match self {
            Side::Client => 0,
            Side::Server => 1,
        }
    }
}

/// IP-level overrides for one packet; `None` keeps the host's behaviour.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct IpOverrides {
    /// TTL / hop limit.
    pub ttl: Option<u8>,
    /// IPv4 identification (does not consume the host's counter).
    pub ip_id: Option<u16>,
    /// DF flag.
    pub dont_fragment: Option<bool>,
    /// TOS / traffic class.
    pub tos: Option<u8>,
}

#[derive(Clone, Debug)]
struct HostState {
    host: Host,
    next_id: u16,
}

/// Collects the frames of one capture.
#[derive(Clone, Debug)]
pub struct Scenario {
    rng: SplitMix64,
    hosts: Vec<HostState>,
    link: LinkLayer,
    vantage: Vantage,
    interface: u32,
    local_delay_ns: i64,
    segment_gap_ns: i64,
    frames: Vec<Frame>,
}

impl Scenario {
    /// An empty Ethernet capture at the client, with all randomness from `seed`.
    pub fn new(seed: u64) -> Self {
        Self {
            rng: SplitMix64::new(seed),
            hosts: Vec::new(),
            link: LinkLayer::ethernet(),
            vantage: Vantage::Client,
            interface: 0,
            local_delay_ns: 40 * US,
            segment_gap_ns: 12 * US,
            frames: Vec::new(),
        }
    }

    /// Sets the link layer for frames added from now on.
    pub fn set_link(&mut self, link: LinkLayer) {
        self.link = link;
    }

    /// The current link layer.
    pub fn link(&self) -> &LinkLayer {
        &self.link
    }

    /// Sets the vantage point.
    pub fn set_vantage(&mut self, vantage: Vantage) {
        self.vantage = vantage;
    }

    /// The vantage point.
    pub fn vantage(&self) -> Vantage {
        self.vantage
    }

    /// Sets the interface ID of frames added from now on.
    pub fn set_interface(&mut self, interface: u32) {
        self.interface = interface;
    }

    /// Sets how long the host at the capture point takes to react (default 40 µs).
    pub fn set_local_delay(&mut self, ns: i64) {
        self.local_delay_ns = ns;
    }

    /// How long the host at the capture point takes to react.
    pub fn local_delay(&self) -> i64 {
        self.local_delay_ns
    }

    /// Sets the spacing of back-to-back segments of one burst (default 12 µs).
    pub fn set_segment_gap(&mut self, ns: i64) {
        self.segment_gap_ns = ns;
    }

    /// The seeded generator, for callers who need more random values.
    pub fn rng(&mut self) -> &mut SplitMix64 {
        &mut self.rng
    }

    /// Registers a host.
    pub fn add_host(&mut self, host: Host) -> HostId {
        let next_id = match host.ip_id {
            IpIdMode::Counter { start, .. } => start,
            _ => 0,
        };
        self.hosts.push(HostState { host, next_id });
        HostId(self.hosts.len() - 1)
    }

    /// A registered host.
    pub fn host(&self, id: HostId) -> &Host {
        &self.hosts[id.0].host
    }

    /// A registered host, to change it from now on (a route change alters
    /// the observed TTL, for instance). Changing `ip_id` does not restart a
    /// counter: it continues from where it was.
    pub fn host_mut(&mut self, id: HostId) -> &mut Host {
        &mut self.hosts[id.0].host
    }

    /// The next IP ID of a host (advancing its counter).
    pub fn next_ip_id(&mut self, id: HostId) -> u16 {
        let mode = self.hosts[id.0].host.ip_id;
        match mode {
            IpIdMode::Zero => 0,
            IpIdMode::Fixed(v) => v,
            IpIdMode::Random => self.rng.next_u16(),
            IpIdMode::Counter { step, .. } => {
                let s = &mut self.hosts[id.0];
                let v = s.next_id;
                s.next_id = v.wrapping_add(step);
                v
            }
        }
    }

    /// How long after a packet captured at t the given side's reaction is
    /// captured: the local delay for the side at the vantage point, one RTT
    /// for the far side.
    pub fn reaction_delay(&self, reactor: Side, rtt_ns: i64) -> i64 {
        let near = match self.vantage {
            Vantage::Client => Side::Client,
            Vantage::Server => Side::Server,
        };
        if reactor == near {
            self.local_delay_ns
        } else {
            rtt_ns
        }
    }

    /// The IP header a packet from `from` to `to` gets, with overrides.
    pub fn ip_spec(
        &mut self,
        from: HostId,
        to: HostId,
        ov: &IpOverrides,
    ) -> Result<IpSpec, SynthError> {
        let (src, dst) = (self.host(from).addr, self.host(to).addr);
        let mut spec = IpSpec::new(src, dst)?;
        let ttl = ov.ttl.unwrap_or(self.host(from).ttl);
        spec.set_ttl(ttl);
        match &mut spec {
            IpSpec::V4(h) => {
                h.dont_fragment = ov
                    .dont_fragment
                    .unwrap_or(self.hosts[from.0].host.dont_fragment);
                h.tos = ov.tos.unwrap_or(0);
                h.id = match ov.ip_id {
                    Some(v) => v,
                    None => self.next_ip_id(from),
                };
            }
            IpSpec::V6(h) => {
                h.traffic_class = ov.tos.unwrap_or(0);
                h.extensions = self.hosts[from.0].host.ipv6_extensions.clone();
            }
        }
        Ok(spec)
    }

    /// Adds an IP packet sent from `from` to `to`, wrapped in the current
    /// link layer, captured at `t`.
    pub fn push_ip(&mut self, t: i64, from: HostId, to: HostId, packet: &[u8]) {
        let meta = LinkMeta {
            src_mac: self.host(from).mac,
            dst_mac: self.host(to).mac,
            outgoing: self.host(from).local,
        };
        let data = self.link.wrap(&meta, packet);
        self.frames
            .push(Frame::new(t, data).on_interface(self.interface));
    }

    /// Adds a ready-made frame as is.
    pub fn push_frame(&mut self, frame: Frame) {
        self.frames.push(frame);
    }

    /// Adds a byte-identical copy of the frame added `index`-th (0-based, in
    /// insertion order) captured at `t`: a packet the network duplicated.
    pub fn duplicate_frame(&mut self, index: usize, t: i64) -> Result<(), SynthError> {
        let mut copy = self
            .frames
            .get(index)
            .cloned()
            .ok_or(SynthError::InvalidRequest("no frame to duplicate"))?;
        copy.ts_ns = t;
        self.frames.push(copy);
        Ok(())
    }

    /// Sends one TCP segment described at the header level.
    pub fn send_tcp(
        &mut self,
        t: i64,
        from: HostId,
        to: HostId,
        ov: &IpOverrides,
        tcp: &TcpSpec,
        payload: &[u8],
    ) -> Result<(), SynthError> {
        let ip = self.ip_spec(from, to, ov)?;
        let p = tcp_packet(&ip, tcp, payload);
        self.push_ip(t, from, to, &p);
        Ok(())
    }

    /// Sends one UDP datagram.
    pub fn send_udp(
        &mut self,
        t: i64,
        from: HostId,
        to: HostId,
        src_port: u16,
        dst_port: u16,
        payload: &[u8],
    ) -> Result<(), SynthError> {
        let udp = UdpSpec::new(src_port, dst_port);
        self.send_udp_with(t, from, to, &udp, &IpOverrides::default(), payload)
    }

    /// Sends one UDP datagram with a full header description (checksum or
    /// length overrides) and IP-level overrides (TTL, IP ID, DF, TOS).
    pub fn send_udp_with(
        &mut self,
        t: i64,
        from: HostId,
        to: HostId,
        udp: &UdpSpec,
        ov: &IpOverrides,
        payload: &[u8],
    ) -> Result<(), SynthError> {
        let ip = self.ip_spec(from, to, ov)?;
        let p = udp_packet(&ip, udp, payload);
        self.push_ip(t, from, to, &p);
        Ok(())
    }

    /// Another answer in an existing exchange, from the resolver's port 53 to
    /// the client's port at `t`, with IP-level overrides (a forged answer
    /// racing the real one typically differs in TTL and IP ID).
    pub fn udp_reply(
        &mut self,
        ex: &UdpExchange,
        t: i64,
        ov: &IpOverrides,
        payload: &[u8],
    ) -> Result<(), SynthError> {
        let udp = UdpSpec::new(ex.server_port, ex.client_port);
        self.send_udp_with(t, ex.server, ex.client, &udp, ov, payload)
    }

    /// A query from `client` (random ephemeral port) to `resolver` port 53
    /// at `t`, answered after the reaction delay for `rtt_ns`.
    pub fn dns_exchange(
        &mut self,
        t: i64,
        client: HostId,
        resolver: HostId,
        rtt_ns: i64,
        query: &[u8],
        response: &[u8],
    ) -> Result<UdpExchange, SynthError> {
        let port = self.rng.ephemeral_port();
        self.dns_exchange_from_port(t, client, resolver, port, rtt_ns, query, response)
    }

    /// A query from `client`'s `client_port` to `resolver` port 53 at `t`
    /// and no answer: the caller adds the responses (genuine, forged,
    /// duplicated) with [`Scenario::udp_reply`], and a retransmission of the
    /// query with [`Scenario::send_udp`] on the same ports. The returned
    /// exchange's `response_ts` is the query time, as nothing was answered.
    pub fn dns_query(
        &mut self,
        t: i64,
        client: HostId,
        resolver: HostId,
        client_port: u16,
        query: &[u8],
    ) -> Result<UdpExchange, SynthError> {
        self.send_udp(t, client, resolver, client_port, DNS_PORT, query)?;
        Ok(UdpExchange {
            client,
            server: resolver,
            client_port,
            server_port: DNS_PORT,
            query_ts: t,
            response_ts: t,
        })
    }

    /// Like [`Scenario::dns_exchange`] from a given client port.
    #[allow(clippy::too_many_arguments)]
    pub fn dns_exchange_from_port(
        &mut self,
        t: i64,
        client: HostId,
        resolver: HostId,
        client_port: u16,
        rtt_ns: i64,
        query: &[u8],
        response: &[u8],
    ) -> Result<UdpExchange, SynthError> {
        self.send_udp(t, client, resolver, client_port, DNS_PORT, query)?;
        let rt = t + self.reaction_delay(Side::Server, rtt_ns);
        self.send_udp(rt, resolver, client, DNS_PORT, client_port, response)?;
        Ok(UdpExchange {
            client,
            server: resolver,
            client_port,
            server_port: DNS_PORT,
            query_ts: t,
            response_ts: rt,
        })
    }

    /// Opens the bookkeeping for a TCP connection (no packet is sent yet).
    /// Ports and ISNs not given in `params` come from the seeded generator.
    pub fn tcp(
        &mut self,
        client: HostId,
        server: HostId,
        params: TcpParams,
    ) -> Result<TcpConn, SynthError> {
        let (c, s) = (self.host(client).addr, self.host(server).addr);
        if c.is_ipv4() != s.is_ipv4() {
            return Err(SynthError::InvalidRequest(
                "client and server address families differ",
            ));
        }
        let client_port = params
            .client_port
            .unwrap_or_else(|| self.rng.ephemeral_port());
        let client_isn = params.client_isn.unwrap_or_else(|| self.rng.next_u32());
        let server_isn = params.server_isn.unwrap_or_else(|| self.rng.next_u32());
        let ts_base = [self.rng.next_u32(), self.rng.next_u32()];
        let default_mss = if c.is_ipv4() { MSS_IPV4 } else { MSS_IPV6 };
        let mss = params.mss.unwrap_or(default_mss);
        Ok(TcpConn {
            client,
            server,
            client_port,
            server_port: params.server_port,
            isn: [client_isn, server_isn],
            nxt: [client_isn, server_isn],
            ts_base,
            ts_seen: [0, 0],
            mss,
            params,
        })
    }

    /// The frames added so far, in insertion order.
    pub fn frames(&self) -> &[Frame] {
        &self.frames
    }

    /// The frames sorted by timestamp; frames with equal timestamps keep
    /// their insertion order.
    pub fn finish(mut self) -> Vec<Frame> {
        self.frames.sort_by_key(|f| f.ts_ns);
        self.frames
    }
}

/// The DNS port (RFC 1035 §4.2).
pub const DNS_PORT: u16 = 53;

/// What [`Scenario::dns_exchange`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UdpExchange {
    /// The querying host.
    pub client: HostId,
    /// The answering host.
    pub server: HostId,
    /// The client's source port.
    pub client_port: u16,
    /// The server's port.
    pub server_port: u16,
    /// Capture time of the query.
    pub query_ts: i64,
    /// Capture time of the response.
    pub response_ts: i64,
}

/// Parameters of a TCP connection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TcpParams {
    /// Server port.
    pub server_port: u16,
    /// Client port; random ephemeral when `None`.
    pub client_port: Option<u16>,
    /// Client ISN; random when `None` (give one near 2^32 to test wrap-around).
    pub client_isn: Option<u32>,
    /// Server ISN; random when `None`.
    pub server_isn: Option<u32>,
    /// Round-trip time between client and server.
    pub rtt_ns: i64,
    /// Server think time before a response.
    pub server_think_ns: i64,
    /// MSS both sides announce; 1460 (IPv4) / 1440 (IPv6) when `None`.
    pub mss: Option<u16>,
    /// Window scale shifts (client, server) announced in the handshake.
    pub window_scale: (u8, u8),
    /// Window fields after the handshake (already scaled down).
    pub windows: (u16, u16),
    /// Use the timestamps option (RFC 7323) in every segment.
    pub timestamps: bool,
    /// IP ID of the server's SYN-ACK; the server host's IP ID behaviour when
    /// `None` (Linux sends its SYN-ACKs with DF set and IP ID 0).
    pub synack_ip_id: Option<u16>,
}

impl TcpParams {
    /// Defaults: 20 ms RTT, 1 ms think time, window scale 7, no timestamps.
    pub fn new(server_port: u16) -> Self {
        Self {
            server_port,
            client_port: None,
            client_isn: None,
            server_isn: None,
            rtt_ns: 20 * MS,
            server_think_ns: MS,
            mss: None,
            window_scale: (7, 7),
            windows: (502, 509),
            timestamps: false,
            synack_ip_id: None,
        }
    }

    /// Sets the RTT.
    pub fn rtt(mut self, ns: i64) -> Self {
        self.rtt_ns = ns;
        self
    }

    /// Sets the server think time.
    pub fn think(mut self, ns: i64) -> Self {
        self.server_think_ns = ns;
        self
    }

    /// Fixes the client port.
    pub fn client_port(mut self, port: u16) -> Self {
        self.client_port = Some(port);
        self
    }

    /// Fixes both ISNs.
    pub fn isns(mut self, client: u32, server: u32) -> Self {
        self.client_isn = Some(client);
        self.server_isn = Some(server);
        self
    }

    /// Turns on the timestamps option.
    pub fn with_timestamps(mut self) -> Self {
        self.timestamps = true;
        self
    }

    /// Sets the MSS.
    pub fn mss(mut self, mss: u16) -> Self {
        self.mss = Some(mss);
        self
    }

    /// Fixes the IP ID of the server's SYN-ACK (0 for a Linux server).
    pub fn synack_ip_id(mut self, id: u16) -> Self {
        self.synack_ip_id = Some(id);
        self
    }
}

/// A TCP segment to emit "as if from" one side. Every `None` field takes the
/// connection's current value: seq = that side's next sequence number, ack =
/// the peer's, flags = ACK (plus PSH with a payload), the side's window,
/// TTL / IP ID / DF from its host, timestamps if the connection uses them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Segment {
    /// Flags.
    pub flags: Option<u16>,
    /// Sequence number.
    pub seq: Option<u32>,
    /// Acknowledgment number (written even without the ACK flag).
    pub ack: Option<u32>,
    /// Window.
    pub window: Option<u16>,
    /// Options.
    pub options: Option<Vec<TcpOption>>,
    /// Urgent pointer.
    pub urgent: u16,
    /// TCP checksum mode.
    pub checksum: Checksum,
    /// IP-level overrides.
    pub ip: IpOverrides,
    /// Payload.
    pub payload: Vec<u8>,
    /// Move the side's next sequence number past this segment if it is ahead.
    pub advance: bool,
}

impl Segment {
    /// A segment with this payload and default everything.
    pub fn data(payload: &[u8]) -> Self {
        Self {
            payload: payload.to_vec(),
            ..Self::default()
        }
    }

    /// An empty segment with these flags.
    pub fn flags(flags: u16) -> Self {
        Self {
            flags: Some(flags),
            ..Self::default()
        }
    }

    /// Sets the flags.
    pub fn with_flags(mut self, flags: u16) -> Self {
        self.flags = Some(flags);
        self
    }

    /// Sets the sequence number.
    pub fn with_seq(mut self, seq: u32) -> Self {
        self.seq = Some(seq);
        self
    }

    /// Sets the acknowledgment number.
    pub fn with_ack(mut self, ack: u32) -> Self {
        self.ack = Some(ack);
        self
    }

    /// Sets the window.
    pub fn with_window(mut self, window: u16) -> Self {
        self.window = Some(window);
        self
    }

    /// Sets the TTL.
    pub fn with_ttl(mut self, ttl: u8) -> Self {
        self.ip.ttl = Some(ttl);
        self
    }

    /// Sets the IP ID.
    pub fn with_ip_id(mut self, id: u16) -> Self {
        self.ip.ip_id = Some(id);
        self
    }

    /// Sets DF.
    pub fn with_dont_fragment(mut self, df: bool) -> Self {
        self.ip.dont_fragment = Some(df);
        self
    }

    /// Sets the options.
    pub fn with_options(mut self, options: Vec<TcpOption>) -> Self {
        self.options = Some(options);
        self
    }

    /// Sets the checksum mode.
    pub fn with_checksum(mut self, c: Checksum) -> Self {
        self.checksum = c;
        self
    }

    /// Advances the side's sequence number past this segment.
    pub fn advancing(mut self) -> Self {
        self.advance = true;
        self
    }
}

/// Sequence-number bookkeeping of one TCP connection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TcpConn {
    /// The initiating host.
    pub client: HostId,
    /// The responding host.
    pub server: HostId,
    /// Client port.
    pub client_port: u16,
    /// Server port.
    pub server_port: u16,
    isn: [u32; 2],
    nxt: [u32; 2],
    ts_base: [u32; 2],
    ts_seen: [u32; 2],
    mss: u16,
    params: TcpParams,
}

/// True when `a` is after `b` in sequence space (RFC 9293 §3.4).
fn seq_after(a: u32, b: u32) -> bool {
    (a.wrapping_sub(b) as i32) > 0
}

impl TcpConn {
    /// The ISN of a side.
    pub fn isn(&self, side: Side) -> u32 {
        self.isn[side.idx()]
    }

    /// The next sequence number a side will send.
    pub fn next_seq(&self, side: Side) -> u32 {
        self.nxt[side.idx()]
    }

    /// Overrides the next sequence number of a side.
    pub fn set_next_seq(&mut self, side: Side, seq: u32) {
        self.nxt[side.idx()] = seq;
    }

    /// The connection's parameters.
    pub fn params(&self) -> &TcpParams {
        &self.params
    }

    /// Payload bytes per full segment (MSS minus the timestamps option).
    pub fn max_payload(&self) -> usize {
        let m = usize::from(self.mss);
        if self.params.timestamps {
            m.saturating_sub(TS_OPTION_LEN).max(1)
        } else {
            m.max(1)
        }
    }

    fn host(&self, side: Side) -> HostId {
        match side {
            Side::Client => self.client,
            Side::Server => self.server,
        }
    }

    fn ports(&self, side: Side) -> (u16, u16) {
        match side {
            Side::Client => (self.client_port, self.server_port),
            Side::Server => (self.server_port, self.client_port),
        }
    }

    /// The TCP timestamp value `side`'s clock (1 ms per tick) shows at time `t`.
    pub fn tsval(&self, side: Side, t: i64) -> u32 {
        self.ts_base[side.idx()].wrapping_add((t.div_euclid(MS)) as u32)
    }

    /// The timestamp value `side` echoes in its next segment (the last one it received).
    pub fn ts_echo(&self, side: Side) -> u32 {
        self.ts_seen[side.idx()]
    }

    /// Sets the timestamp value `side` echoes from now on.
    pub fn set_ts_echo(&mut self, side: Side, value: u32) {
        self.ts_seen[side.idx()] = value;
    }

    /// The reaction delay of `reactor` in this connection.
    pub fn delay(&self, sc: &Scenario, reactor: Side) -> i64 {
        sc.reaction_delay(reactor, self.params.rtt_ns)
    }

    /// Emits one segment "as if from" `side` at capture time `t`.
    pub fn emit(
        &mut self,
        sc: &mut Scenario,
        side: Side,
        t: i64,
        seg: &Segment,
    ) -> Result<(), SynthError> {
        let i = side.idx();
        let flags = seg.flags.unwrap_or(if seg.payload.is_empty() {
            TCP_ACK
        } else {
            TCP_ACK | TCP_PSH
        });
        let seq = seg.seq.unwrap_or(self.nxt[i]);
        let ack = seg.ack.unwrap_or(self.nxt[side.other().idx()]);
        let window = seg.window.unwrap_or(match side {
            Side::Client => self.params.windows.0,
            Side::Server => self.params.windows.1,
        });
        let options = match &seg.options {
            Some(o) => o.clone(),
            None if self.params.timestamps => {
                TcpOption::timestamps(self.tsval(side, t), self.ts_seen[i])
            }
            None => Vec::new(),
        };
        let (src_port, dst_port) = self.ports(side);
        let tcp = TcpSpec {
            src_port,
            dst_port,
            seq,
            ack,
            flags,
            window,
            urgent: seg.urgent,
            options,
            checksum: seg.checksum,
        };
        sc.send_tcp(
            t,
            self.host(side),
            self.host(side.other()),
            &seg.ip,
            &tcp,
            &seg.payload,
        )?;
        if self.params.timestamps {
            self.ts_seen[side.other().idx()] = self.tsval(side, t);
        }
        if seg.advance {
            let mut len = seg.payload.len() as u32;
            if flags & TCP_SYN != 0 {
                len = len.wrapping_add(1);
            }
            if flags & TCP_FIN != 0 {
                len = len.wrapping_add(1);
            }
            let end = seq.wrapping_add(len);
            if seq_after(end, self.nxt[i]) {
                self.nxt[i] = end;
            }
        }
        Ok(())
    }

    fn syn_options(&self, side: Side, t: i64) -> Vec<TcpOption> {
        let ws = match side {
            Side::Client => self.params.window_scale.0,
            Side::Server => self.params.window_scale.1,
        };
        let ts = self
            .params
            .timestamps
            .then(|| (self.tsval(side, t), self.ts_seen[side.idx()]));
        TcpOption::linux_syn(self.mss, ws, ts)
    }

    fn syn(&mut self, sc: &mut Scenario, t: i64) -> Result<(), SynthError> {
        let seg = Segment {
            flags: Some(TCP_SYN),
            seq: Some(self.isn[0]),
            ack: Some(0),
            window: Some(LINUX_SYN_WINDOW),
            options: Some(self.syn_options(Side::Client, t)),
            ..Segment::default()
        };
        self.emit(sc, Side::Client, t, &seg)
    }

    /// SYNs with no answer at `t`, then after 1 s, 2 s, 4 s ... of
    /// exponential backoff (RFC 6298 §5.5). Returns the time of the last one.
    pub fn unanswered_syns(
        &mut self,
        sc: &mut Scenario,
        t: i64,
        count: usize,
    ) -> Result<i64, SynthError> {
        let mut at = t;
        let mut rto = SYN_RTO_NS;
        for k in 0..count {
            if k > 0 {
                at += rto;
                rto *= 2;
            }
            self.syn(sc, at)?;
        }
        self.nxt[0] = self.isn[0].wrapping_add(1);
        Ok(at)
    }

    /// The three-way handshake starting with the SYN at `t`. Returns the
    /// capture time of the final ACK.
    pub fn handshake(&mut self, sc: &mut Scenario, t: i64) -> Result<i64, SynthError> {
        self.handshake_after_lost_syns(sc, t, 0)
    }

    /// A handshake whose first `lost` SYNs go unanswered (retransmitted after
    /// 1 s, 2 s, ...). Returns the capture time of the final ACK.
    pub fn handshake_after_lost_syns(
        &mut self,
        sc: &mut Scenario,
        t: i64,
        lost: usize,
    ) -> Result<i64, SynthError> {
        let syn_at = if lost > 0 {
            let last = self.unanswered_syns(sc, t, lost)?;
            last + SYN_RTO_NS * (1 << (lost - 1).min(30))
        } else {
            t
        };
        self.syn(sc, syn_at)?;
        self.nxt[0] = self.isn[0].wrapping_add(1);
        let synack_at = syn_at + self.delay(sc, Side::Server);
        let seg = Segment {
            flags: Some(TCP_SYN | TCP_ACK),
            seq: Some(self.isn[1]),
            ack: Some(self.nxt[0]),
            window: Some(LINUX_SYNACK_WINDOW),
            options: Some(self.syn_options(Side::Server, synack_at)),
            ip: IpOverrides {
                ip_id: self.params.synack_ip_id,
                ..IpOverrides::default()
            },
            ..Segment::default()
        };
        self.emit(sc, Side::Server, synack_at, &seg)?;
        self.nxt[1] = self.isn[1].wrapping_add(1);
        let ack_at = synack_at + self.delay(sc, Side::Client);
        self.emit(sc, Side::Client, ack_at, &Segment::default())?;
        Ok(ack_at)
    }

    /// Sends `data` from `side` starting at `t`, cut into MSS-sized segments
    /// spaced by the scenario's segment gap; the peer ACKs every second
    /// segment and the last. Returns the capture time of the last ACK.
    pub fn send(
        &mut self,
        sc: &mut Scenario,
        side: Side,
        t: i64,
        data: &[u8],
    ) -> Result<i64, SynthError> {
        let sent = self.send_segments(sc, side, t, data)?;
        self.ack_segments(sc, side, &sent)
    }

    /// Sends `data` from `side` without any ACK from the peer; returns the
    /// (capture time, end sequence number) of every segment.
    pub fn send_segments(
        &mut self,
        sc: &mut Scenario,
        side: Side,
        t: i64,
        data: &[u8],
    ) -> Result<Vec<(i64, u32)>, SynthError> {
        let mut out = Vec::new();
        let mut at = t;
        let max = self.max_payload();
        for chunk in data.chunks(max) {
            self.emit(sc, side, at, &Segment::data(chunk).advancing())?;
            out.push((at, self.nxt[side.idx()]));
            at += sc.segment_gap_ns;
        }
        Ok(out)
    }

    /// Sends `data` from `side` as it would have gone out from an earlier
    /// state of the connection: MSS-sized segments from sequence number
    /// `seq`, every one acknowledging `ack`, with the side's own headers, and
    /// without moving either side's next sequence number. This is the real
    /// sender's copy of a range someone else already filled (the server's
    /// response racing an injected one). Returns the (capture time, end
    /// sequence number) of every segment.
    pub fn send_segments_at(
        &mut self,
        sc: &mut Scenario,
        side: Side,
        t: i64,
        seq: u32,
        ack: u32,
        data: &[u8],
    ) -> Result<Vec<(i64, u32)>, SynthError> {
        let mut out = Vec::new();
        let (mut at, mut s) = (t, seq);
        let max = self.max_payload();
        for chunk in data.chunks(max) {
            self.emit(
                sc,
                side,
                at,
                &Segment::data(chunk).with_seq(s).with_ack(ack),
            )?;
            s = s.wrapping_add(chunk.len() as u32);
            out.push((at, s));
            at += sc.segment_gap_ns;
        }
        Ok(out)
    }

    /// The peer of `data_side` ACKs the given segments (every second one and
    /// the last). Returns the time of the last ACK (or of the last segment).
    pub fn ack_segments(
        &mut self,
        sc: &mut Scenario,
        data_side: Side,
        sent: &[(i64, u32)],
    ) -> Result<i64, SynthError> {
        self.ack_some(sc, data_side, sent, true)
    }

    fn ack_some(
        &mut self,
        sc: &mut Scenario,
        data_side: Side,
        sent: &[(i64, u32)],
        ack_last: bool,
    ) -> Result<i64, SynthError> {
        let peer = data_side.other();
        let d = self.delay(sc, peer);
        let mut last = sent.last().map_or(0, |s| s.0);
        for (k, (at, end)) in sent.iter().enumerate() {
            let is_last = k + 1 == sent.len();
            if (k % 2 == 1 && !is_last) || (is_last && ack_last) {
                let ack_at = at + d;
                self.emit(sc, peer, ack_at, &Segment::default().with_ack(*end))?;
                last = last.max(ack_at);
            }
        }
        Ok(last)
    }

    /// A request from the client at `t` and the server's response: the
    /// server ACKs the end of the request separately when its think time
    /// reaches the 40 ms delayed-ACK timer, otherwise the response carries
    /// the ACK. The client ACKs the response. Returns the time of the
    /// client's last ACK.
    pub fn exchange(
        &mut self,
        sc: &mut Scenario,
        t: i64,
        request: &[u8],
        response: &[u8],
    ) -> Result<i64, SynthError> {
        let think = self.params.server_think_ns;
        let separate_ack = think >= DELAYED_ACK_NS || response.is_empty();
        let sent = self.send_segments(sc, Side::Client, t, request)?;
        let server_sees = sent.last().map_or(t, |s| s.0) + self.delay(sc, Side::Server);
        self.ack_some(sc, Side::Client, &sent, separate_ack)?;
        if response.is_empty() {
            return Ok(server_sees);
        }
        let sent = self.send_segments(sc, Side::Server, server_sees + think, response)?;
        self.ack_segments(sc, Side::Server, &sent)
    }

    /// A pure ACK from `side` at `t`.
    pub fn ack(&mut self, sc: &mut Scenario, side: Side, t: i64) -> Result<(), SynthError> {
        self.emit(sc, side, t, &Segment::default())
    }

    /// A FIN from `side` at `t` (FIN+ACK, consuming one sequence number).
    pub fn fin(&mut self, sc: &mut Scenario, side: Side, t: i64) -> Result<(), SynthError> {
        self.emit(sc, side, t, &Segment::flags(TCP_FIN | TCP_ACK).advancing())
    }

    /// Orderly teardown started by `side` at `t`: FIN, the peer's FIN+ACK,
    /// the final ACK. Returns the time of the final ACK.
    pub fn close(&mut self, sc: &mut Scenario, side: Side, t: i64) -> Result<i64, SynthError> {
        self.fin(sc, side, t)?;
        let peer_at = t + self.delay(sc, side.other());
        self.fin(sc, side.other(), peer_at)?;
        let last = peer_at + self.delay(sc, side);
        self.ack(sc, side, last)?;
        Ok(last)
    }

    /// An RST+ACK from `side` at `t` with its current sequence number.
    pub fn reset(&mut self, sc: &mut Scenario, side: Side, t: i64) -> Result<(), SynthError> {
        self.emit(
            sc,
            side,
            t,
            &Segment::flags(TCP_RST | TCP_ACK).with_window(0),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synth::packet::internet_checksum;

    fn hosts(sc: &mut Scenario) -> (HostId, HostId) {
        let c = sc.add_host(Host::local("192.168.1.20".parse().unwrap()));
        let s = sc.add_host(Host::remote("93.184.216.34".parse().unwrap(), 52));
        (c, s)
    }

    struct Seg {
        ts: i64,
        ttl: u8,
        ip_id: u16,
        sport: u16,
        seq: u32,
        ack: u32,
        flags: u8,
        len: usize,
    }

    fn parse(frames: &[Frame]) -> Vec<Seg> {
        frames
            .iter()
            .map(|f| {
                let ip = &f.data[14..];
                assert_eq!(internet_checksum(&ip[..20]), 0);
                let ihl = usize::from(ip[0] & 15) * 4;
                let total = usize::from(u16::from_be_bytes([ip[2], ip[3]]));
                let t = &ip[ihl..total];
                let doff = usize::from(t[12] >> 4) * 4;
                Seg {
                    ts: f.ts_ns,
                    ttl: ip[8],
                    ip_id: u16::from_be_bytes([ip[4], ip[5]]),
                    sport: u16::from_be_bytes([t[0], t[1]]),
                    seq: u32::from_be_bytes([t[4], t[5], t[6], t[7]]),
                    ack: u32::from_be_bytes([t[8], t[9], t[10], t[11]]),
                    flags: t[13],
                    len: t.len() - doff,
                }
            })
            .collect()
    }

    #[test]
    fn synth_scenario_handshake_data_close_bookkeeping() {
        let mut sc = Scenario::new(1);
        let (c, s) = hosts(&mut sc);
        let mut conn = sc
            .tcp(
                c,
                s,
                TcpParams::new(80)
                    .isns(u32::MAX - 10, 5000)
                    .client_port(40000)
                    .rtt(30 * MS)
                    .think(0),
            )
            .unwrap();
        let t0 = 1_000 * S;
        let t1 = conn.handshake(&mut sc, t0).unwrap();
        assert_eq!(t1, t0 + 30 * MS + 40 * US);
        let req = vec![b'a'; 3000];
        let t2 = conn.exchange(&mut sc, t1 + MS, &req, b"ok").unwrap();
        conn.close(&mut sc, Side::Client, t2 + MS).unwrap();
        let frames = sc.finish();
        let segs = parse(&frames);
        // SYN, SYN-ACK, ACK, 3 request segments, server response (with ACK),
        // client ACK, FIN, FIN, ACK. The server ACKs the request with its
        // data segment only when think time is short, so no pure ACK here...
        // except the ACK of segment 2 (every second segment).
        let flags: Vec<u8> = segs.iter().map(|s| s.flags).collect();
        assert_eq!(flags[..3], [0x02, 0x12, 0x10]);
        assert_eq!(segs[0].seq, u32::MAX - 10);
        assert_eq!(segs[1].ack, u32::MAX - 9);
        assert_eq!(segs[2].seq, u32::MAX - 9);
        // Data wraps around 2^32: the last request byte ends at isn+1+3000.
        let end = (u32::MAX - 9).wrapping_add(3000);
        let srv_acks: Vec<u32> = segs
            .iter()
            .filter(|s| s.sport == 80 && s.flags & 0x10 != 0)
            .map(|s| s.ack)
            .collect();
        assert!(srv_acks.contains(&end));
        // TTLs as observed and IP IDs counting per host.
        for s in &segs {
            assert_eq!(s.ttl, if s.sport == 80 { 52 } else { 64 });
        }
        let ids: Vec<u16> = segs
            .iter()
            .filter(|s| s.sport == 40000)
            .map(|s| s.ip_id)
            .collect();
        for w in ids.windows(2) {
            assert_eq!(w[1], w[0].wrapping_add(1));
        }
        // Sorted by time and the last three are FIN, FIN, ACK.
        assert!(segs.windows(2).all(|w| w[0].ts <= w[1].ts));
        let n = segs.len();
        assert_eq!(segs[n - 3].flags & 0x01, 1);
        assert_eq!(segs[n - 2].flags & 0x01, 1);
        assert_eq!(segs[n - 1].flags, 0x10);
        assert_eq!(segs[n - 1].ack, segs[n - 2].seq.wrapping_add(1));
        let payload: usize = segs
            .iter()
            .filter(|s| s.sport == 40000)
            .map(|s| s.len)
            .sum();
        assert_eq!(payload, 3000);
    }

    #[test]
    fn synth_scenario_server_vantage_delays_client_reactions() {
        let mut sc = Scenario::new(2);
        sc.set_vantage(Vantage::Server);
        let c = sc.add_host(Host::remote("198.51.100.7".parse().unwrap(), 49));
        let s = sc.add_host(Host::local("203.0.113.5".parse().unwrap()));
        let mut conn = sc.tcp(c, s, TcpParams::new(443).rtt(50 * MS)).unwrap();
        let end = conn.handshake(&mut sc, 10 * S).unwrap();
        let segs = parse(&sc.finish());
        assert_eq!(segs[1].ts - segs[0].ts, 40 * US);
        assert_eq!(segs[2].ts - segs[1].ts, 50 * MS);
        assert_eq!(end, segs[2].ts);
    }

    #[test]
    fn synth_scenario_synack_ip_id_and_route_change() {
        let mut sc = Scenario::new(6);
        let (c, s) = hosts(&mut sc);
        let mut conn = sc.tcp(c, s, TcpParams::new(80).synack_ip_id(0)).unwrap();
        let t = conn.handshake(&mut sc, 0).unwrap();
        sc.host_mut(s).ttl = 51;
        conn.ack(&mut sc, Side::Server, t + MS).unwrap();
        let segs = parse(&sc.finish());
        assert_eq!((segs[1].flags, segs[1].ip_id, segs[1].ttl), (0x12, 0, 52));
        // The counter was not used by the SYN-ACK; the later segment takes
        // its first value and the new TTL.
        assert_eq!(segs[3].ttl, 51);
        assert_eq!(
            segs[3].ip_id,
            counter_start(&"93.184.216.34".parse().unwrap())
        );
    }

    #[test]
    fn synth_scenario_dns_exchange_and_extra_reply() {
        let mut sc = Scenario::new(5);
        let (c, r) = hosts(&mut sc);
        let ex = sc
            .dns_exchange(S, c, r, 12 * MS, b"query", b"real")
            .unwrap();
        let forged = IpOverrides {
            ttl: Some(61),
            ip_id: Some(0x1234),
            ..IpOverrides::default()
        };
        sc.udp_reply(&ex, S + 3 * MS, &forged, b"forged").unwrap();
        let frames = sc.finish();
        assert_eq!(frames.len(), 3);
        // The forged answer (3 ms) is captured before the real one (12 ms).
        let ip = &frames[1].data[14..];
        assert_eq!(ip[8], 61);
        assert_eq!(&ip[4..6], &[0x12, 0x34]);
        assert_eq!(&ip[28..], b"forged");
        assert_eq!(u16::from_be_bytes([ip[22], ip[23]]), ex.client_port);
        assert_eq!(frames[2].ts_ns, ex.response_ts);
        assert_eq!(&frames[2].data[14 + 28..], b"real");
        assert_eq!(frames[2].data[14 + 8], 52);
    }

    #[test]
    fn synth_scenario_dns_query_retransmission_and_duplicate() {
        let mut sc = Scenario::new(7);
        let c = sc.add_host(Host::local("2001:470:1f0b:5a1::20".parse().unwrap()));
        let r = sc.add_host(
            Host::remote("2001:4860:4860::8888".parse().unwrap(), 117).with_ip_id(IpIdMode::Random),
        );
        let ex = sc.dns_query(S, c, r, 50_000, b"query").unwrap();
        assert_eq!((ex.query_ts, ex.response_ts), (S, S));
        assert_eq!((ex.client_port, ex.server_port), (50_000, DNS_PORT));
        sc.send_udp(2 * S, c, r, ex.client_port, ex.server_port, b"query")
            .unwrap();
        sc.udp_reply(&ex, 2 * S + 40 * MS, &IpOverrides::default(), b"answer")
            .unwrap();
        sc.duplicate_frame(2, 2 * S + 40 * MS + 100 * US).unwrap();
        assert!(sc.duplicate_frame(9, 0).is_err());
        let frames = sc.finish();
        assert_eq!(frames.len(), 4);
        // IPv6 UDP: next header 17, hop limit as observed, ports kept.
        let ip = &frames[2].data[14..];
        assert_eq!((ip[0] >> 4, ip[6], ip[7]), (6, 17, 117));
        assert_eq!(u16::from_be_bytes([ip[40], ip[41]]), DNS_PORT);
        assert_eq!(u16::from_be_bytes([ip[42], ip[43]]), 50_000);
        assert_eq!(&ip[48..], b"answer");
        assert_eq!(&frames[0].data[14 + 48..], b"query");
        assert_eq!(
            frames[0].data[14 + 40..14 + 42],
            frames[1].data[14 + 40..14 + 42]
        );
        assert_eq!(frames[3].data, frames[2].data);
        assert_eq!(frames[3].ts_ns - frames[2].ts_ns, 100 * US);
    }

    #[test]
    fn synth_scenario_segments_from_an_earlier_state() {
        let mut sc = Scenario::new(8);
        let (c, s) = hosts(&mut sc);
        let mut conn = sc.tcp(c, s, TcpParams::new(80).mss(100)).unwrap();
        let t = conn.handshake(&mut sc, 0).unwrap();
        let (x, a) = (conn.next_seq(Side::Server), conn.next_seq(Side::Client));
        conn.emit(
            &mut sc,
            Side::Server,
            t,
            &Segment::data(b"forged").advancing(),
        )
        .unwrap();
        conn.emit(
            &mut sc,
            Side::Client,
            t + MS,
            &Segment::data(b"more").advancing(),
        )
        .unwrap();
        let sent = conn
            .send_segments_at(&mut sc, Side::Server, t + 2 * MS, x, a, &[b'r'; 150])
            .unwrap();
        assert_eq!(sent.len(), 2);
        assert_eq!(sent[1].1, x.wrapping_add(150));
        // Neither side's next sequence number moved.
        assert_eq!(conn.next_seq(Side::Server), x.wrapping_add(6));
        assert_eq!(conn.next_seq(Side::Client), a.wrapping_add(4));
        let segs = parse(&sc.finish());
        let n = segs.len();
        assert_eq!(
            (segs[n - 2].seq, segs[n - 2].ack, segs[n - 2].len),
            (x, a, 100)
        );
        assert_eq!(
            (segs[n - 1].seq, segs[n - 1].len),
            (x.wrapping_add(100), 50)
        );
        assert_eq!(segs[n - 1].ttl, 52);
    }

    #[test]
    fn synth_scenario_unanswered_syns_back_off() {
        let mut sc = Scenario::new(3);
        let (c, s) = hosts(&mut sc);
        let mut conn = sc.tcp(c, s, TcpParams::new(443)).unwrap();
        conn.unanswered_syns(&mut sc, 0, 3).unwrap();
        let segs = parse(&sc.finish());
        let ts: Vec<i64> = segs.iter().map(|s| s.ts).collect();
        assert_eq!(ts, vec![0, S, 3 * S]);
        assert!(segs.iter().all(|s| s.flags == 0x02 && s.seq == segs[0].seq));
    }

    #[test]
    fn synth_scenario_emit_overrides_and_stable_sort() {
        let mut sc = Scenario::new(4);
        let (c, s) = hosts(&mut sc);
        let mut conn = sc.tcp(c, s, TcpParams::new(80).with_timestamps()).unwrap();
        let t = conn.handshake(&mut sc, 0).unwrap() + 5 * MS;
        let seq = conn.next_seq(Side::Server);
        conn.emit(
            &mut sc,
            Side::Server,
            t,
            &Segment::flags(TCP_RST)
                .with_seq(seq)
                .with_ack(77)
                .with_ttl(200)
                .with_ip_id(0xBEEF),
        )
        .unwrap();
        conn.emit(&mut sc, Side::Server, t, &Segment::data(b"second"))
            .unwrap();
        let frames = sc.finish();
        let segs = parse(&frames);
        let n = segs.len();
        assert_eq!(segs[n - 2].flags, 0x04);
        assert_eq!(segs[n - 2].ttl, 200);
        assert_eq!(segs[n - 2].ip_id, 0xBEEF);
        assert_eq!(segs[n - 2].ack, 77);
        assert_eq!(segs[n - 1].len, 6);
        // Timestamps option present: data offset 8 words.
        assert_eq!(frames[n - 1].data[14 + 20 + 12] >> 4, 8);
    }
}
