//! The QUIC fixtures of the `blackhole/` group (`blackhole/quic-*`): client Initials
//! protected with the real Initial keys ([`super::quic`]), whose decrypted ClientHello names
//! a server, sent to a server that never answers (the Great Firewall's SNI-based QUIC
//! blocking, with its 180 s of residual UDP blocking), next to the benign look-alikes: an
//! answered handshake, a connection the client closes, a capture with nothing answered at
//! all, and a capture that ends right after the Initial. It builds bytes and ground truth
//! only, never writes or reads files and never looks at the clock.
//!
//! The hosts, resolver and background traffic are those of the other `blackhole/` fixtures (a
//! Linux client at 192.168.1.20 on Ethernet). Client Initials are padded to 1200 bytes and
//! retransmitted after the RFC 9002 §6.2.2 probe timeout (1 s for a first connection, doubling).
//! Handshake and 1-RTT packets are sealed under keys drawn from the seed, as opaque to tamper
//! (and to Wireshark) as real ones.

use super::fixtures::{Diagnostic, Fact, Fixture, GroundTruth, T0};
use super::fixtures_blackhole::{
    eth_pcap, home, https_fetch, icmp_unreachable, lookup, remote, unanswered_lookup, Home,
    NO_BLACKHOLE, NO_DNS_FINDING, SHOP, SHOP_HOST, WEATHER, WEATHER_HOST,
};
use super::quic::{
    ack_frame, application_close_frame, crypto_frame, opaque_keys, ping_frame, quic_client_hello,
    quic_server_hello, short_packet, LongPacket, VERSION_1, VERSION_2,
};
use super::scenario::{HostId, Scenario, MS, S, US};
use super::SynthError;

/// The QUIC server (an illustrative public address).
const QUIC_SERVER: [u8; 4] = [104, 21, 72, 190];
/// The name blocked over QUIC.
const BLOCKED_SNI: &str = "blocked.example";
/// A name nobody blocks, on the same server.
const NEUTRAL_SNI: &str = "www.neutral.example";
/// An ordinary name served over QUIC.
const OPEN_SNI: &str = "www.open.example";
/// Round trip to the QUIC server.
const QUIC_RTT: i64 = 36 * MS;
/// When the client sends its Initial again after the first: the RFC 9002 probe timeout of
/// 1 s for a first connection, doubling (1, 2, 4 s).
const PTO_BACKOFF: [i64; 4] = [0, S, 3 * S, 7 * S];
/// ICMP destination unreachable, port unreachable (RFC 792).
const CODE_PORT_UNREACHABLE: u8 = 3;
/// HTTP/3's H3_NO_ERROR (RFC 9114 §8.1).
const H3_NO_ERROR: u64 = 0x100;

/// One QUIC connection attempt of the client's: its UDP port, connection IDs and version.
struct Attempt {
    client: HostId,
    server: HostId,
    port: u16,
    version: u32,
    dcid: Vec<u8>,
    scid: Vec<u8>,
    server_scid: Vec<u8>,
    sni: &'static str,
    seed: u64,
}

impl Attempt {
    fn new(
        sc: &mut Scenario,
        h: &Home,
        server: HostId,
        version: u32,
        sni: &'static str,
        seed: u64,
    ) -> Attempt {
        // Browsers pick ephemeral ports above 32768: larger than 443, as the Great Firewall
        // requires before it blocks.
        let port = sc.rng().ephemeral_port();
        let dcid = sc.rng().bytes(8);
        let scid = sc.rng().bytes(8);
        let server_scid = sc.rng().bytes(8);
        Attempt {
            client: h.client,
            server,
            port,
            version,
            dcid,
            scid,
            server_scid,
            sni,
            seed,
        }
    }

    fn client_send(&self, sc: &mut Scenario, t: i64, datagram: &[u8]) -> Result<(), SynthError> {
        sc.send_udp(t, self.client, self.server, self.port, 443, datagram)
    }

    fn server_send(&self, sc: &mut Scenario, t: i64, datagram: &[u8]) -> Result<(), SynthError> {
        sc.send_udp(t, self.server, self.client, 443, self.port, datagram)
    }

    /// The client's Initial with packet number `pn`, carrying the whole ClientHello.
    fn client_initial(&self, pn: u64) -> Result<Vec<u8>, SynthError> {
        let hello = quic_client_hello(self.sni, &self.scid, self.seed).handshake();
        LongPacket::client_initial(
            self.version,
            &self.dcid,
            &self.scid,
            pn,
            crypto_frame(0, &hello),
        )
        .protect_initial(&self.dcid, true)
    }

    /// The Initial sent at `t` and again after each later entry of `at`, unanswered.
    /// Returns the time of the last.
    fn unanswered(&self, sc: &mut Scenario, t: i64, at: &[i64]) -> Result<i64, SynthError> {
        let mut last = t;
        for (pn, dt) in at.iter().enumerate() {
            last = t + dt;
            self.client_send(sc, last, &self.client_initial(pn as u64)?)?;
        }
        Ok(last)
    }

    /// A full handshake and one HTTP/3 request and response starting at `t`: the client's
    /// Initial; the server's Initial (ACK, ServerHello) coalesced with its first Handshake
    /// packet, then a second Handshake datagram (rest of the certificate, Finished); the
    /// client's Initial ACK with its Handshake Finished, padded to 1200 bytes, and its
    /// request; the server's response (with HANDSHAKE_DONE) in `response_datagrams`
    /// datagrams; the client's ACK. Returns the time of that ACK.
    fn handshake_and_fetch(
        &self,
        sc: &mut Scenario,
        t: i64,
        response_datagrams: usize,
    ) -> Result<i64, SynthError> {
        let tc = self.handshake(sc, t)?;
        self.respond(sc, tc, response_datagrams)
    }

    /// The handshake of [`Attempt::handshake_and_fetch`] up to the client's request.
    /// Returns the time of the request.
    fn handshake(&self, sc: &mut Scenario, t: i64) -> Result<i64, SynthError> {
        let v = self.version;
        let hs_server = opaque_keys(self.seed ^ 0x51);
        let hs_client = opaque_keys(self.seed ^ 0xc1);
        let app_client = opaque_keys(self.seed ^ 0xc2);
        self.client_send(sc, t, &self.client_initial(0)?)?;
        // The server's first flight, one round trip later.
        let ts = t + QUIC_RTT;
        let mut frames = ack_frame(0, 0, 0);
        frames.extend_from_slice(&crypto_frame(
            0,
            &quic_server_hello(self.seed ^ 5).handshake(),
        ));
        let mut d1 = LongPacket::server_initial(v, &self.scid, &self.server_scid, 0, frames)
            .protect_initial(&self.dcid, false)?;
        // EncryptedExtensions and the start of the certificate.
        d1.extend_from_slice(
            &LongPacket::handshake(
                v,
                &self.scid,
                &self.server_scid,
                0,
                crypto_frame(0, &sc.rng().bytes(1040)),
            )
            .protect(&hs_server)?,
        );
        self.server_send(sc, ts, &d1)?;
        // The rest of the certificate, CertificateVerify and Finished.
        let d2 = LongPacket::handshake(
            v,
            &self.scid,
            &self.server_scid,
            1,
            crypto_frame(1040, &sc.rng().bytes(820)),
        )
        .protect(&hs_server)?;
        self.server_send(sc, ts + 30 * US, &d2)?;
        // The client acknowledges the Initial, sends its Finished, then its request.
        let tc = ts + 30 * US + 2 * MS;
        let mut d3 = LongPacket {
            min_len: 0,
            ..LongPacket::client_initial(v, &self.server_scid, &self.scid, 1, ack_frame(0, 0, 0))
        }
        .protect_initial(&self.dcid, true)?;
        let mut fin = ack_frame(1, 0, 1);
        fin.extend_from_slice(&crypto_frame(0, &sc.rng().bytes(36)));
        let hs = LongPacket {
            min_len: 1200 - d3.len(),
            ..LongPacket::handshake(v, &self.server_scid, &self.scid, 0, fin)
        };
        d3.extend_from_slice(&hs.protect(&hs_client)?);
        self.client_send(sc, tc, &d3)?;
        // HEADERS of a GET on stream 0 (opaque).
        let mut req = vec![0x0b, 0x00];
        req.extend_from_slice(&sc.rng().bytes(60));
        let d4 = short_packet(&app_client, &self.server_scid, 0, &req);
        self.client_send(sc, tc + 40 * US, &d4)?;
        Ok(tc + 40 * US)
    }

    /// The server's response to the request sent at `tc` in `response_datagrams` datagrams
    /// and the client's ACK. Returns the time of the ACK.
    fn respond(
        &self,
        sc: &mut Scenario,
        tc: i64,
        response_datagrams: usize,
    ) -> Result<i64, SynthError> {
        let app_server = opaque_keys(self.seed ^ 0x52);
        let app_client = opaque_keys(self.seed ^ 0xc2);
        // The response, after the server's reaction and one round trip.
        let mut tr = tc + QUIC_RTT + 3 * MS;
        for i in 0..response_datagrams {
            let mut frames = if i == 0 { vec![0x1e] } else { Vec::new() };
            frames.extend_from_slice(&ack_frame(0, 0, 0));
            frames.extend_from_slice(&sc.rng().bytes(if i + 1 == response_datagrams {
                640
            } else {
                1180
            }));
            let d = short_packet(&app_server, &self.scid, i as u64, &frames);
            self.server_send(sc, tr, &d)?;
            tr += 40 * US;
        }
        // The client's ACK.
        let ta = tr + MS;
        let d = short_packet(
            &app_client,
            &self.server_scid,
            1,
            &ack_frame(
                response_datagrams as u64 - 1,
                0,
                response_datagrams as u64 - 1,
            ),
        );
        self.client_send(sc, ta, &d)?;
        Ok(ta)
    }

    /// The client's probes (1-RTT PINGs, packet numbers from 1) at `t` plus each of `at`.
    fn probes(&self, sc: &mut Scenario, t: i64, at: &[i64]) -> Result<i64, SynthError> {
        let keys = opaque_keys(self.seed ^ 0xc2);
        let mut last = t;
        for (i, dt) in at.iter().enumerate() {
            last = t + dt;
            let d = short_packet(&keys, &self.server_scid, i as u64 + 1, &ping_frame());
            self.client_send(sc, last, &d)?;
        }
        Ok(last)
    }

    /// The client's 1-RTT packet `pn` with CONNECTION_CLOSE (H3_NO_ERROR) at `t`.
    fn close(&self, sc: &mut Scenario, t: i64, pn: u64) -> Result<(), SynthError> {
        let d = short_packet(
            &opaque_keys(self.seed ^ 0xc2),
            &self.server_scid,
            pn,
            &application_close_frame(H3_NO_ERROR),
        );
        self.client_send(sc, t, &d)
    }
}

/// A lookup and an HTTPS fetch of www.weather-site.com (answered, at another address)
/// from `t`. Returns the time of the last packet.
fn background(sc: &mut Scenario, h: &Home, t: i64, seed: u64) -> Result<i64, SynthError> {
    let weather = remote(sc, WEATHER, 55);
    let t = lookup(sc, h, t, WEATHER_HOST, WEATHER)?;
    https_fetch(
        sc,
        h.client,
        weather,
        t + 300 * US,
        WEATHER_HOST,
        38 * MS,
        seed,
    )
}

fn quic_initial_unanswered() -> Result<Vec<u8>, SynthError> {
    let mut sc = Scenario::new(541);
    let h = home(&mut sc);
    background(&mut sc, &h, T0, 5411)?;
    let server = remote(&mut sc, QUIC_SERVER, 52);
    // The address comes from the client's cache (an HTTPS record seen earlier).
    let a = Attempt::new(&mut sc, &h, server, VERSION_1, BLOCKED_SNI, 5412);
    let last = a.unanswered(&mut sc, T0 + 1_500 * MS, &PTO_BACKOFF)?;
    lookup(&mut sc, &h, last + 6 * S, SHOP_HOST, SHOP)?;
    Ok(eth_pcap(sc))
}

fn quic_initial_unanswered_same_server_answers_tcp() -> Result<Vec<u8>, SynthError> {
    let mut sc = Scenario::new(547);
    let h = home(&mut sc);
    let server = remote(&mut sc, QUIC_SERVER, 52);
    // The page for another name on the same server loads over TCP and TLS.
    lookup(&mut sc, &h, T0, WEATHER_HOST, WEATHER)?;
    https_fetch(
        &mut sc,
        h.client,
        server,
        T0 + 40 * MS,
        NEUTRAL_SNI,
        36 * MS,
        5471,
    )?;
    let a = Attempt::new(&mut sc, &h, server, VERSION_1, BLOCKED_SNI, 5472);
    let last = a.unanswered(&mut sc, T0 + 1_500 * MS, &PTO_BACKOFF)?;
    lookup(&mut sc, &h, last + 6 * S, SHOP_HOST, SHOP)?;
    Ok(eth_pcap(sc))
}

fn quic_server_silent_after_initial_exchange() -> Result<Vec<u8>, SynthError> {
    let mut sc = Scenario::new(548);
    let h = home(&mut sc);
    background(&mut sc, &h, T0, 5481)?;
    let server = remote(&mut sc, QUIC_SERVER, 52);
    let a = Attempt::new(&mut sc, &h, server, VERSION_1, BLOCKED_SNI, 5482);
    // The server's Initial and Handshake flight arrives; after the client's Finished and
    // request nothing more does, and the client probes after 1, 2 and 4 s.
    let tc = a.handshake(&mut sc, T0 + 1_500 * MS)?;
    let last = a.probes(&mut sc, tc, &[S, 3 * S, 7 * S])?;
    lookup(&mut sc, &h, last + 6 * S, SHOP_HOST, SHOP)?;
    Ok(eth_pcap(sc))
}

fn quic_initial_port_unreachable() -> Result<Vec<u8>, SynthError> {
    let mut sc = Scenario::new(549);
    let h = home(&mut sc);
    background(&mut sc, &h, T0, 5491)?;
    let server = remote(&mut sc, QUIC_SERVER, 52);
    let a = Attempt::new(&mut sc, &h, server, VERSION_1, OPEN_SNI, 5492);
    // Nothing listens on UDP 443: the server's kernel answers each Initial with ICMP port
    // unreachable.
    let t = T0 + 1_500 * MS;
    for (pn, dt) in PTO_BACKOFF[..2].iter().enumerate() {
        a.client_send(&mut sc, t + dt, &a.client_initial(pn as u64)?)?;
        icmp_unreachable(
            &mut sc,
            t + dt + QUIC_RTT,
            server,
            h.client,
            CODE_PORT_UNREACHABLE,
        )?;
    }
    lookup(&mut sc, &h, t + 8 * S, SHOP_HOST, SHOP)?;
    Ok(eth_pcap(sc))
}

fn quic_initial_unanswered_residual_udp() -> Result<Vec<u8>, SynthError> {
    let mut sc = Scenario::new(542);
    let h = home(&mut sc);
    background(&mut sc, &h, T0, 5421)?;
    let server = remote(&mut sc, QUIC_SERVER, 52);
    let a = Attempt::new(&mut sc, &h, server, VERSION_1, BLOCKED_SNI, 5422);
    let first = T0 + 1_500 * MS;
    // Three sends each (fixtures stay under 10 KB; 1200-byte Initials add up).
    a.unanswered(&mut sc, first, &PTO_BACKOFF[..3])?;
    // 40 s later a new connection (new port and connection IDs) for a name nobody blocks,
    // to the same server and port: dropped as well.
    let b = Attempt::new(&mut sc, &h, server, VERSION_1, NEUTRAL_SNI, 5423);
    let last = b.unanswered(&mut sc, first + 40 * S, &PTO_BACKOFF[..2])?;
    lookup(&mut sc, &h, last + 6 * S, SHOP_HOST, SHOP)?;
    Ok(eth_pcap(sc))
}

fn quic_handshake_answered() -> Result<Vec<u8>, SynthError> {
    let mut sc = Scenario::new(543);
    let h = home(&mut sc);
    background(&mut sc, &h, T0, 5431)?;
    let server = remote(&mut sc, QUIC_SERVER, 52);
    let a = Attempt::new(&mut sc, &h, server, VERSION_1, OPEN_SNI, 5432);
    let last = a.handshake_and_fetch(&mut sc, T0 + 1_500 * MS, 2)?;
    lookup(&mut sc, &h, last + 6 * S, SHOP_HOST, SHOP)?;
    Ok(eth_pcap(sc))
}

fn quic_v2_answered_then_client_closes() -> Result<Vec<u8>, SynthError> {
    let mut sc = Scenario::new(544);
    let h = home(&mut sc);
    background(&mut sc, &h, T0, 5441)?;
    let server = remote(&mut sc, QUIC_SERVER, 52);
    let a = Attempt::new(&mut sc, &h, server, VERSION_2, OPEN_SNI, 5442);
    // The server's whole answer is three datagrams (its Initial flight of two and a short
    // response): as many as a server that went silent after the Initial exchange.
    let last = a.handshake_and_fetch(&mut sc, T0 + 1_500 * MS, 1)?;
    // The user closes the tab 4 s later: one CONNECTION_CLOSE, nothing more on the flow.
    a.close(&mut sc, last + 4 * S, 2)?;
    lookup(&mut sc, &h, last + 12 * S, SHOP_HOST, SHOP)?;
    Ok(eth_pcap(sc))
}

fn quic_initial_unanswered_nothing_answered() -> Result<Vec<u8>, SynthError> {
    let mut sc = Scenario::new(545);
    let h = home(&mut sc);
    let server = remote(&mut sc, QUIC_SERVER, 52);
    let a = Attempt::new(&mut sc, &h, server, VERSION_1, BLOCKED_SNI, 5451);
    let last = a.unanswered(&mut sc, T0, &PTO_BACKOFF)?;
    // A lookup 2 s later, sent again after 5 s, is not answered either: the capture holds the
    // client's packets only (or the client's network is down).
    unanswered_lookup(&mut sc, &h, last + 2 * S, SHOP_HOST, &[5 * S])?;
    Ok(eth_pcap(sc))
}

fn quic_capture_ends_after_initial() -> Result<Vec<u8>, SynthError> {
    let mut sc = Scenario::new(546);
    let h = home(&mut sc);
    let end = background(&mut sc, &h, T0, 5461)?;
    let server = remote(&mut sc, QUIC_SERVER, 52);
    let a = Attempt::new(&mut sc, &h, server, VERSION_1, BLOCKED_SNI, 5462);
    // The Initial and its first retransmission; the capture stops 2.5 s after the Initial.
    a.unanswered(&mut sc, end + 800 * MS, &PTO_BACKOFF[..2])?;
    let close = end + 800 * MS + 2_500 * MS;
    lookup(&mut sc, &h, close - 14 * MS, SHOP_HOST, SHOP)?;
    Ok(eth_pcap(sc))
}

/// The QUIC fixtures of the blackhole/ group with their ground truth, in README order.
pub(crate) fn quic_fixtures() -> Vec<Fixture> {
    vec![
        Fixture {
            path: "blackhole/quic-initial-unanswered.pcap",
            description: "The Great Firewall's SNI-based QUIC blocking (Zohaib et al., USENIX Security 2025): after a lookup (frames 1-2) and an HTTPS fetch from www.weather-site.com (frames 3-14) are answered, the client's QUIC v1 Initial to 104.21.72.190:443 (frame 15; an illustrative address taken from the client's cache), padded to 1200 bytes and sealed with the real Initial keys of its DCID, carries a ClientHello for blocked.example with ALPN h3; it is sent again (new packet numbers, same CRYPTO data) after 1, 2 and 4 s of probe timeout (frames 16-18) and nothing comes back. Client port > 443. The capture runs on 6 s after the last Initial (a lookup answered, frames 19-20). Only another server answered, and a server that does not speak QUIC is silent too: medium. tshark 4.0 decrypts the Initials by itself and shows SNI blocked.example and ALPN h3 in frame 15.",
            build: quic_initial_unanswered,
            truth: GroundTruth {
                frames: 20,
                first_ts_ns: Some(T0),
                last_ts_ns: Some(T0 + 14_514_000_000),
                tcp_flows: 1,
                udp_flows: 3,
                facts: vec![Fact::Finding { kind: "quic_blocked", min_confidence: "medium", frames: &[4, 15, 16, 17, 18] }, NO_DNS_FINDING, Fact::QuicSni(BLOCKED_SNI), Fact::TlsSni(WEATHER_HOST)],
                partial: false,
            },
        },
        Fixture {
            path: "blackhole/quic-initial-unanswered-same-server-answers-tcp.pcap",
            description: "As quic-initial-unanswered, but the server is shown to be up: an HTTPS fetch over TCP for www.neutral.example from the same address 104.21.72.190 completes first (frames 3-14, SYN-ACK in frame 4); then the QUIC v1 Initial for blocked.example (frame 15) and its three retransmissions (frames 16-18) get no answer. The same server answering other traffic makes it high. tshark 4.0 decrypts the Initials by itself and shows SNI blocked.example in frame 15 (and www.neutral.example in the TCP ClientHello, frame 6).",
            build: quic_initial_unanswered_same_server_answers_tcp,
            truth: GroundTruth {
                frames: 20,
                first_ts_ns: Some(T0),
                last_ts_ns: Some(T0 + 14_514_000_000),
                tcp_flows: 1,
                udp_flows: 3,
                facts: vec![Fact::Finding { kind: "quic_blocked", min_confidence: "high", frames: &[4, 15, 16, 17, 18] }, NO_DNS_FINDING, Fact::TlsSni(NEUTRAL_SNI), Fact::QuicSni(BLOCKED_SNI)],
                partial: false,
            },
        },
        Fixture {
            path: "blackhole/quic-initial-unanswered-residual-udp.pcap",
            description: "Residual blocking: as quic-initial-unanswered (the Initial for blocked.example in frame 15, sent again after 1 and 2 s in frames 16-17, unanswered), then 40 s after the first Initial a new QUIC connection from another port with new connection IDs, for the innocuous www.neutral.example, to the same 104.21.72.190:443 (frame 18, sent again after 1 s in frame 19) gets no answer either: the Great Firewall drops the hosts' UDP for 180 s after the trigger. One quic_blocked finding for blocked.example lists the later flow as residual blocking (residual_flows 1); the innocuous name gets no finding of its own. A lookup is answered 6 s after the last Initial (frames 20-21). tshark 4.0 decrypts the Initials by itself and shows SNI blocked.example in frame 15 and www.neutral.example in frame 18.",
            build: quic_initial_unanswered_residual_udp,
            truth: GroundTruth {
                frames: 21,
                first_ts_ns: Some(T0),
                last_ts_ns: Some(T0 + 48_514_000_000),
                tcp_flows: 1,
                udp_flows: 4,
                facts: vec![Fact::Finding { kind: "quic_blocked", min_confidence: "medium", frames: &[4, 15, 16, 17, 18, 19] }, NO_DNS_FINDING, Fact::QuicSni(BLOCKED_SNI), Fact::QuicSni(NEUTRAL_SNI)],
                partial: false,
            },
        },
        Fixture {
            path: "blackhole/quic-server-silent-after-initial-exchange.pcap",
            description: "Silence after the Initial exchange: the QUIC v1 Initial for blocked.example (frame 15) is answered by the server's Initial (ACK, ServerHello) coalesced with a Handshake packet and a second Handshake datagram (frames 16-17); the client's Initial ACK with its Handshake Finished (frame 18) and its 1-RTT request (frame 19) get nothing more, and the client's probes after 1, 2 and 4 s (frames 20-22) go unanswered. Handshake and 1-RTT packets are sealed under keys an observer cannot know. www.weather-site.com answered before (frames 1-14): medium. tshark 4.0 decrypts the Initials by itself and shows SNI blocked.example in frame 15 and the server's ServerHello in frame 16.",
            build: quic_server_silent_after_initial_exchange,
            truth: GroundTruth {
                frames: 24,
                first_ts_ns: Some(T0),
                last_ts_ns: Some(T0 + 14_552_070_000),
                tcp_flows: 1,
                udp_flows: 3,
                facts: vec![Fact::Finding { kind: "quic_blocked", min_confidence: "medium", frames: &[4, 15, 16, 20, 21, 22] }, NO_DNS_FINDING, Fact::QuicSni(BLOCKED_SNI)],
                partial: false,
            },
        },
        Fixture {
            path: "blackhole/quic-handshake-answered.pcap",
            description: "Benign twin of quic-initial-unanswered: the QUIC v1 Initial for www.open.example (frame 15) to the same 104.21.72.190:443 is answered: the server's Initial with Handshake (frames 16-17), the client's Finished and request (frames 18-19), a response in two 1-RTT datagrams (frames 20-21) and the client's ACK (frame 22); then the connection idles while the capture runs on 6 s. No blackhole finding. tshark 4.0 decrypts the Initials by itself and shows SNI www.open.example in frame 15 and the ServerHello in frame 16.",
            build: quic_handshake_answered,
            truth: GroundTruth {
                frames: 24,
                first_ts_ns: Some(T0),
                last_ts_ns: Some(T0 + 7_592_150_000),
                tcp_flows: 1,
                udp_flows: 3,
                facts: vec![NO_BLACKHOLE, NO_DNS_FINDING, Fact::QuicSni(OPEN_SNI)],
                partial: false,
            },
        },
        Fixture {
            path: "blackhole/quic-v2-answered-then-client-closes.pcap",
            description: "Benign: a QUIC v2 (0x6b3343cf, RFC 9369 keys and packet types) connection for www.open.example whose server answers with exactly three datagrams, as many as a server gone silent after its Initial flight: Initial with Handshake and a second Handshake datagram (frames 16-17), one 1-RTT response (frame 20). The client acknowledges it (frame 21) and closes the connection 4 s later with one CONNECTION_CLOSE (frame 22); nothing more is sent. A single datagram after the server's last is a close, not a retry: no blackhole finding. tshark 4.0 decrypts the Initials by itself and shows SNI www.open.example in frame 15 (QUIC v2).",
            build: quic_v2_answered_then_client_closes,
            truth: GroundTruth {
                frames: 24,
                first_ts_ns: Some(T0),
                last_ts_ns: Some(T0 + 13_592_110_000),
                tcp_flows: 1,
                udp_flows: 3,
                facts: vec![NO_BLACKHOLE, NO_DNS_FINDING, Fact::QuicSni(OPEN_SNI)],
                partial: false,
            },
        },
        Fixture {
            path: "blackhole/quic-initial-port-unreachable.pcap",
            description: "Benign: nothing listens on UDP 443 at 104.21.72.190: the QUIC v1 Initial for www.open.example (frame 15) and its retransmission (frame 17) are each answered by ICMP port unreachable from the server itself (frames 16, 18). A server that does not speak QUIC is no block: no blackhole finding. tshark 4.0 decrypts the Initials by itself and shows SNI www.open.example in frame 15.",
            build: quic_initial_port_unreachable,
            truth: GroundTruth {
                frames: 20,
                first_ts_ns: Some(T0),
                last_ts_ns: Some(T0 + 9_514_000_000),
                tcp_flows: 1,
                udp_flows: 3,
                facts: vec![NO_BLACKHOLE, NO_DNS_FINDING, Fact::QuicSni(OPEN_SNI)],
                partial: false,
            },
        },
        Fixture {
            path: "blackhole/quic-initial-unanswered-nothing-answered.pcap",
            description: "Benign: nothing in the capture is answered: the QUIC v1 Initial for blocked.example (frames 1-4, 1, 2 and 4 s apart) and a lookup of api.shop-site.net sent again after 5 s (frames 5-6). The capture may hold the client's packets only, or the client's network is down for everyone: no finding, the diagnostic capture_one_directional names the SNI instead. tshark 4.0 decrypts the Initials by itself and shows SNI blocked.example in frame 1.",
            build: quic_initial_unanswered_nothing_answered,
            truth: GroundTruth {
                frames: 6,
                first_ts_ns: Some(T0),
                last_ts_ns: Some(T0 + 14_000_000_000),
                tcp_flows: 0,
                udp_flows: 2,
                facts: vec![NO_BLACKHOLE, Fact::Diagnostic(Diagnostic::CaptureOneDirectional), Fact::QuicSni(BLOCKED_SNI)],
                partial: false,
            },
        },
        Fixture {
            path: "blackhole/quic-capture-ends-after-initial.pcap",
            description: "Benign: the capture stops 2.5 s after the QUIC v1 Initial for blocked.example (frame 15, retransmitted once after 1 s, frame 16), right after an answered lookup (frames 17-18): the last seconds of a capture prove nothing, no blackhole finding. tshark 4.0 decrypts the Initials by itself and shows SNI blocked.example in frame 15.",
            build: quic_capture_ends_after_initial,
            truth: GroundTruth {
                frames: 18,
                first_ts_ns: Some(T0),
                last_ts_ns: Some(T0 + 3_472_914_000),
                tcp_flows: 1,
                udp_flows: 3,
                facts: vec![NO_BLACKHOLE, NO_DNS_FINDING, Fact::QuicSni(BLOCKED_SNI)],
                partial: false,
            },
        },
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synth::reference;
    use std::net::Ipv4Addr;

    /// (time, source, destination, source port, destination port, UDP payload) of the UDP
    /// datagrams of a fixture, by frame number (1-based; `None` for other frames).
    type Datagram = (i64, Ipv4Addr, Ipv4Addr, u16, u16, Vec<u8>);
    type Udp = Option<Datagram>;

    fn udp(f: &Fixture) -> Vec<Udp> {
        let r = reference::read(&(f.build)().unwrap());
        r.frames
            .iter()
            .map(|x| {
                let ip = reference::ip_of(x.linktype, &x.data).unwrap();
                if ip[9] != 17 {
                    return None;
                }
                let ihl = usize::from(ip[0] & 15) * 4;
                let l4 = &ip[ihl..];
                let len = usize::from(u16::from_be_bytes([l4[4], l4[5]]));
                Some((
                    x.ts_ns.unwrap(),
                    Ipv4Addr::new(ip[12], ip[13], ip[14], ip[15]),
                    Ipv4Addr::new(ip[16], ip[17], ip[18], ip[19]),
                    u16::from_be_bytes([l4[0], l4[1]]),
                    u16::from_be_bytes([l4[2], l4[3]]),
                    l4[8..len].to_vec(),
                ))
            })
            .collect()
    }

    #[test]
    fn synth_quic_fixtures_show_what_they_claim() {
        let server = Ipv4Addr::from(QUIC_SERVER);
        let all = quic_fixtures();
        assert_eq!(all.len(), 9);
        for f in &all {
            let p = f.path;
            assert!(p.starts_with("blackhole/quic-"), "{p}");
            let frames = udp(f);
            let end = frames.iter().flatten().map(|x| x.0).max().unwrap();
            // Every datagram the client sends to the QUIC server that starts with a long
            // header is an Initial or Handshake of a known version; Initials are padded.
            for (_, src, dst, sport, dport, payload) in frames.iter().flatten() {
                if *dst == server && *dport == 443 && payload[0] & 0x80 != 0 {
                    assert!(*sport > 443, "{p}: client port");
                    let version = u32::from_be_bytes(payload[1..5].try_into().unwrap());
                    assert!(version == VERSION_1 || version == VERSION_2, "{p}");
                    assert!(payload.len() >= 1200, "{p}: client Initial padding");
                }
                let resolver = Ipv4Addr::new(1, 1, 1, 1);
                assert!(
                    [*src, *dst].contains(&server) || [*src, *dst].contains(&resolver),
                    "{p}: UDP only to the QUIC server and the resolver"
                );
            }
            let finding = f.truth.facts.iter().find_map(|x| match x {
                Fact::Finding { frames, .. } => Some(*frames),
                _ => None,
            });
            let Some(cited) = finding else {
                continue;
            };
            // The cited client datagrams: long-header Initials first, to the server, with a
            // 1 s probe timeout doubling; the capture runs on at least 5 s after the last.
            let sends: Vec<&Datagram> = cited
                .iter()
                .filter_map(|&n| frames[n as usize - 1].as_ref())
                .filter(|x| x.2 == server)
                .collect();
            let first = sends[0];
            assert_eq!(first.5[0] & 0xb0, 0x80, "{p}: a v1 Initial first");
            let same: Vec<i64> = sends
                .iter()
                .filter(|x| x.3 == first.3 && x.5[0] & 0x80 != 0)
                .map(|x| x.0)
                .collect();
            let mut gap = S;
            for w in same.windows(2) {
                assert_eq!(w[1] - w[0], gap, "{p}: backoff");
                gap *= 2;
            }
            let last = sends.iter().map(|x| x.0).max().unwrap();
            assert!(end - last >= 5 * S, "{p}: runs on");
            // Silent server: nothing from it after the client's first retry, on any port.
            let answers: Vec<i64> = frames
                .iter()
                .flatten()
                .filter(|x| x.1 == server && x.0 > first.0)
                .map(|x| x.0)
                .collect();
            if p.contains("silent-after") {
                assert_eq!(answers.len(), 2, "{p}: the server's Initial flight");
            } else {
                assert!(answers.is_empty(), "{p}: an answer");
            }
            // Residual flows begin within 180 s of the trigger, from another port.
            if p.contains("residual") {
                let later: Vec<&&Datagram> = sends.iter().filter(|x| x.3 != first.3).collect();
                assert!(!later.is_empty(), "{p}");
                assert!(later.iter().all(|x| x.0 - first.0 <= 180 * S), "{p}");
            }
        }
    }
}
