//! The `reassembly` target's input, a list of TCP segments of one HTTP connection and IP
//! fragments of one DNS response (each with its offset, length, flags and whether its bytes
//! differ from the true stream, in any order and with any gaps in time), and its conversion
//! into a raw-IP pcap built with tamper's own packet builder; it must not reassemble anything
//! itself.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use arbitrary::Arbitrary;
use tamper::synth::app::{DnsMessage, DnsRecord, HttpRequest, HttpResponse};
use tamper::synth::link::LINKTYPE_RAW;
use tamper::synth::packet::{
    tcp_packet, udp_packet, IpSpec, Ipv4Spec, Ipv6Ext, Ipv6Spec, TcpSpec, UdpSpec, TCP_ACK, TCP_SYN,
};
use tamper::synth::writer::{write_pcap, Frame, PcapOptions};

/// Pieces beyond this many are ignored (keeps one input fast).
const MAX_PIECES: usize = 256;
/// Longest segment or fragment payload.
const MAX_PIECE_LEN: usize = 1500;
const CLIENT_PORT: u16 = 51_000;
const IP_PROTO_UDP: u8 = 17;

/// A reassembly input.
#[derive(Arbitrary, Debug)]
pub struct Input {
    /// IPv6 rather than IPv4.
    pub v6: bool,
    /// The client's initial sequence number (any value, so wrap-around is covered).
    pub client_isn: u32,
    /// The server's initial sequence number.
    pub server_isn: u32,
    /// Start with a three-way handshake.
    pub handshake: bool,
    /// The packets after the query and the handshake, in capture order (at most 256 used).
    pub pieces: Vec<Piece>,
}

/// One packet of a reassembly input.
#[derive(Arbitrary, Debug)]
pub enum Piece {
    /// A segment of the TCP connection.
    Segment {
        /// Server to client rather than client to server.
        from_server: bool,
        /// Offset in that direction's stream.
        offset: u16,
        len: u16,
        /// TCP flags (FIN, SYN, RST, PSH, ACK, URG, ECE, CWR).
        flags: u8,
        /// The bytes differ from the true stream (a racing injector's copy).
        altered: bool,
        /// Time since the previous piece, in units of 0.1 ms squared.
        gap: u16,
    },
    /// A fragment of the DNS response.
    Fragment {
        /// Offset in 8-byte units.
        offset: u16,
        len: u16,
        more: bool,
        altered: bool,
        /// Another identification (a second datagram interleaved with the first).
        other_id: bool,
        gap: u16,
    },
}

/// The bytes `offset..offset + len` of `stream`, clipped, changed when `altered`.
fn slice(stream: &[u8], offset: usize, len: usize, altered: bool) -> Vec<u8> {
    let start = offset.min(stream.len());
    let end = offset
        .saturating_add(len.min(MAX_PIECE_LEN))
        .min(stream.len());
    let mut bytes = stream[start..end].to_vec();
    if altered {
        for b in &mut bytes {
            *b ^= 0x20;
        }
    }
    bytes
}

/// The raw-IP pcap file of `input`: a DNS query, the handshake if asked for, then every piece
/// in input order.
pub fn to_pcap(input: &Input) -> Vec<u8> {
    let (client, server, resolver): (IpAddr, IpAddr, IpAddr) = if input.v6 {
        (
            IpAddr::V6(Ipv6Addr::new(0x2a02, 0x8108, 0, 0, 0, 0, 0, 0x20)),
            IpAddr::V6(Ipv6Addr::new(0x2606, 0x2800, 0x220, 1, 0, 0, 0, 0x34)),
            IpAddr::V6(Ipv6Addr::new(0x2001, 0x4860, 0x4860, 0, 0, 0, 0, 0x8888)),
        )
    } else {
        (
            IpAddr::V4(Ipv4Addr::new(192, 168, 1, 20)),
            IpAddr::V4(Ipv4Addr::new(93, 184, 216, 34)),
            IpAddr::V4(Ipv4Addr::new(8, 8, 8, 8)),
        )
    };
    let Ok(c2s) = IpSpec::new(client, server) else {
        return Vec::new();
    };
    let Ok(s2c) = IpSpec::new(server, client) else {
        return Vec::new();
    };
    let Ok(to_resolver) = IpSpec::new(client, resolver) else {
        return Vec::new();
    };
    let Ok(from_resolver) = IpSpec::new(resolver, client) else {
        return Vec::new();
    };

    // The true streams: an HTTP request and its response; a DNS query and a long response.
    let request = HttpRequest::get("www.example.com", "/index.html").encode();
    let body: Vec<u8> = (0..3000u32).map(|i| b'a' + (i % 26) as u8).collect();
    let response = HttpResponse::new(200, "OK", &body).encode();
    let query = DnsMessage::query(0x1234, "www.example.com", 1);
    let mut answer = DnsMessage::response_to(&query, 0);
    for i in 0..40u8 {
        answer = answer.answer(DnsRecord::a(
            "www.example.com",
            300,
            Ipv4Addr::new(93, 184, 216, i),
        ));
    }
    let udp_answer = UdpSpec::new(53, CLIENT_PORT).encode(&from_resolver, &answer.encode());

    let mut frames = Vec::new();
    let mut ts: i64 = 1_700_000_000_000_000_000;
    let mut push = |ts: i64, packet: Vec<u8>| frames.push(Frame::new(ts, packet));
    push(
        ts,
        udp_packet(
            &to_resolver,
            &UdpSpec::new(CLIENT_PORT, 53),
            &query.encode(),
        ),
    );
    let tcp = |from_server: bool, seq: u32, ack: u32, flags: u16| {
        let (src, dst) = if from_server {
            (80, CLIENT_PORT)
        } else {
            (CLIENT_PORT, 80)
        };
        TcpSpec {
            seq,
            ack,
            ..TcpSpec::new(src, dst, flags)
        }
    };
    let client_next = input.client_isn.wrapping_add(1);
    let server_next = input.server_isn.wrapping_add(1);
    if input.handshake {
        ts += 1_000_000;
        push(
            ts,
            tcp_packet(&c2s, &tcp(false, input.client_isn, 0, TCP_SYN), &[]),
        );
        ts += 20_000_000;
        push(
            ts,
            tcp_packet(
                &s2c,
                &tcp(true, input.server_isn, client_next, TCP_SYN | TCP_ACK),
                &[],
            ),
        );
        ts += 100_000;
        push(
            ts,
            tcp_packet(&c2s, &tcp(false, client_next, server_next, TCP_ACK), &[]),
        );
    }
    for piece in input.pieces.iter().take(MAX_PIECES) {
        match *piece {
            Piece::Segment {
                from_server,
                offset,
                len,
                flags,
                altered,
                gap,
            } => {
                ts += i64::from(gap).pow(2) * 100_000;
                let (stream, ip, seq, ack) = if from_server {
                    (&response, &s2c, server_next, client_next)
                } else {
                    (&request, &c2s, client_next, server_next)
                };
                let payload = slice(stream, usize::from(offset), usize::from(len), altered);
                let seq = seq.wrapping_add(u32::from(offset));
                let spec = tcp(from_server, seq, ack, u16::from(flags));
                push(ts, tcp_packet(ip, &spec, &payload));
            }
            Piece::Fragment {
                offset,
                len,
                more,
                altered,
                other_id,
                gap,
            } => {
                ts += i64::from(gap).pow(2) * 100_000;
                let offset = offset & 0x1fff;
                let payload = slice(
                    &udp_answer,
                    usize::from(offset) * 8,
                    usize::from(len),
                    altered,
                );
                let id = if other_id { 0x2222 } else { 0x1111 };
                let packet = match (resolver, client) {
                    (IpAddr::V4(src), IpAddr::V4(dst)) => Ipv4Spec {
                        id,
                        dont_fragment: false,
                        more_fragments: more,
                        fragment_offset: offset,
                        ttl: 57,
                        ..Ipv4Spec::new(src, dst)
                    }
                    .build(IP_PROTO_UDP, &payload),
                    (IpAddr::V6(src), IpAddr::V6(dst)) => Ipv6Spec {
                        hop_limit: 57,
                        extensions: vec![Ipv6Ext::Fragment {
                            offset,
                            more,
                            id: u32::from(id),
                        }],
                        ..Ipv6Spec::new(src, dst)
                    }
                    .build(IP_PROTO_UDP, &payload),
                    _ => continue,
                };
                push(ts, packet);
            }
        }
    }
    write_pcap(&PcapOptions::new(LINKTYPE_RAW), &frames)
}
