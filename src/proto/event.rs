//! The protocol events detectors read (every packet's features, handshakes, overlap conflicts,
//! TLS hellos and alerts, HTTP messages, DNS queries and responses, QUIC Initials, ICMP errors);
//! plain values, no logic.
//!
//! Anything a detector needs from a packet is carried here, so detectors never touch bytes and
//! can be tested with hand-built events.

use std::net::IpAddr;

pub use crate::decode::{IpHeader, SackBlocks, TcpFlags};
use crate::ids::{Direction, FrameNumber, L4Proto};
use crate::time::Timestamp;

use super::dns::parse::DnsMessage;
use super::http::parse::{HttpBody, RequestHead, ResponseHead};
use super::quic::{ConnectionClose, ConnectionId, PacketType};
use super::tcp::seq::SeqNumber;
use super::tcp::stream::OverlapConflict;
use super::tcp::{Handshake, TcpSegment};
use super::tls::parse::{CertificateSummary, ClientHello, ServerHello};

/// The features of one packet of a flow.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PacketInfo {
    /// Frame number (for a reassembled IP datagram, the frame that completed it).
    pub frame: FrameNumber,
    /// Capture time.
    pub ts: Timestamp,
    /// Direction within the flow.
    pub dir: Direction,
    /// IP header fields (TTL, IP ID, DF, ...).
    pub ip: IpHeader,
    /// Length on the wire.
    pub wire_len: u32,
    /// Transport payload length declared by the headers.
    pub payload_len: u32,
    /// TCP segment facts (absent for UDP).
    pub tcp: Option<TcpSegment>,
    /// The packet was reassembled from IP fragments.
    pub reassembled: bool,
}

/// A DNS query, as remembered for matching its responses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DnsQueryRef {
    /// Frame of the query.
    pub frame: FrameNumber,
    /// When it was sent.
    pub ts: Timestamp,
    /// Its IP header (TTL, IP ID).
    pub ip: IpHeader,
    /// Transaction ID.
    pub id: u16,
    /// Question name as sent (case preserved).
    pub qname: String,
    /// Question type.
    pub qtype: u16,
    /// The query carried an EDNS OPT record.
    pub edns: bool,
    /// Times this query (same ID and question) was sent.
    pub sends: u32,
}

/// One response seen for a DNS query.
#[derive(Clone, Debug, PartialEq)]
pub struct DnsResponseRef {
    /// Frame of the response.
    pub frame: FrameNumber,
    /// Arrival time.
    pub ts: Timestamp,
    /// Its IP header (TTL, IP ID).
    pub ip: IpHeader,
    /// The parsed message.
    pub message: DnsMessage,
}

/// Something a flow's protocols revealed.
#[derive(Clone, Debug, PartialEq)]
pub enum ProtoEvent {
    /// Every packet of the flow, in capture order.
    Packet(PacketInfo),
    /// The TCP three-way handshake completed.
    TcpHandshake(Handshake),
    /// Retransmitted TCP bytes differ from the first copy (the first copy was kept).
    TcpOverlapConflict {
        /// Direction of the conflicting segment.
        dir: Direction,
        /// The conflicting segment's frame.
        frame: FrameNumber,
        /// Where and how much.
        conflict: OverlapConflict,
    },
    /// The payload a RST segment carried (RFC 9293 allows it; some injectors add a fixed one).
    TcpRstPayload {
        /// Direction of the RST.
        dir: Direction,
        /// Its frame.
        frame: FrameNumber,
        /// The first bytes of the payload (at most 64).
        bytes: Vec<u8>,
    },
    /// A TLS ClientHello (reassembled across records and segments).
    TlsClientHello {
        /// Direction it travelled (normally client to server).
        dir: Direction,
        /// Frames that carried it.
        frames: Vec<FrameNumber>,
        /// Time of the frame that completed it.
        ts: Timestamp,
        /// Its contents.
        hello: Box<ClientHello>,
    },
    /// A TLS ServerHello or HelloRetryRequest.
    TlsServerHello {
        /// Direction it travelled.
        dir: Direction,
        /// Frames that carried it.
        frames: Vec<FrameNumber>,
        /// Time of the frame that completed it.
        ts: Timestamp,
        /// Its contents.
        hello: Box<ServerHello>,
    },
    /// A plaintext TLS Certificate message (TLS 1.2 and earlier) with facts about its leaf
    /// certificate; at the end of a flow, also the part of one the stream ended inside
    /// (`certificate.complete` is then false).
    TlsCertificate {
        /// Direction.
        dir: Direction,
        /// Frames that carried it.
        frames: Vec<FrameNumber>,
        /// Time.
        ts: Timestamp,
        /// Summary.
        certificate: CertificateSummary,
    },
    /// A plaintext TLS alert.
    TlsAlert {
        /// Direction.
        dir: Direction,
        /// Frame that carried it.
        frame: FrameNumber,
        /// Time.
        ts: Timestamp,
        /// AlertLevel (1 warning, 2 fatal).
        level: u8,
        /// AlertDescription.
        description: u8,
    },
    /// An HTTP/1.x request head.
    HttpRequest {
        /// Direction (normally client to server).
        dir: Direction,
        /// Frames that carried the head.
        frames: Vec<FrameNumber>,
        /// Time of the frame that completed the head.
        ts: Timestamp,
        /// The head.
        head: Box<RequestHead>,
    },
    /// An HTTP/1.x response: head and the start of the body.
    HttpResponse {
        /// Direction (normally server to client).
        dir: Direction,
        /// Frames that carried the head and the quoted body.
        frames: Vec<FrameNumber>,
        /// Time of the frame that completed the head.
        ts: Timestamp,
        /// The head.
        head: Box<ResponseHead>,
        /// The first bytes of the body, when there is one.
        body: Option<Box<HttpBody>>,
    },
    /// A DNS query (UDP or TCP).
    DnsQuery {
        /// Transport.
        transport: L4Proto,
        /// Direction.
        dir: Direction,
        /// Frame.
        frame: FrameNumber,
        /// Time.
        ts: Timestamp,
        /// IP header of the query.
        ip: IpHeader,
        /// The message.
        message: Box<DnsMessage>,
        /// This repeats an earlier query with the same ID and question.
        retransmission: bool,
    },
    /// A DNS response, matched to its query when possible.
    DnsResponse {
        /// Transport.
        transport: L4Proto,
        /// Direction.
        dir: Direction,
        /// Frame.
        frame: FrameNumber,
        /// Arrival time.
        ts: Timestamp,
        /// IP header of the response (TTL, IP ID).
        ip: IpHeader,
        /// The message.
        message: Box<DnsMessage>,
        /// The query it answers (same flow, ID and question), if seen.
        query: Option<Box<DnsQueryRef>>,
        /// 1 for the first response to that query, 2 for the second, ...; 0 if unmatched.
        nth: u32,
    },
    /// A DNS query and every response it got, once no more responses are expected (the
    /// transaction window passed, or the flow ended).
    DnsTransaction {
        /// Transport.
        transport: L4Proto,
        /// The query.
        query: Box<DnsQueryRef>,
        /// Its responses in arrival order.
        responses: Vec<DnsResponseRef>,
    },
    /// What one side of a QUIC connection showed in its first long-header packets: for the
    /// client, its Initial flight (reported when the ClientHello in the decrypted CRYPTO data
    /// is whole, or when the flow ends without it); for the server, its first answer (an
    /// Initial with the ServerHello, or a Handshake, Retry or Version Negotiation packet).
    /// Reported once per side and connection (a UDP flow may carry several connections, and a
    /// Retry starts a new one).
    QuicInitial {
        /// Direction of the packets (client to server for the client's flight).
        dir: Direction,
        /// Frames that carried the hello when it was whole; otherwise the frames of the
        /// side's long-header packets (at most 32).
        frames: Vec<FrameNumber>,
        /// Time of the last frame counted in.
        ts: Timestamp,
        /// Type of the side's first long-header packet (`Initial` for a client).
        packet_type: PacketType,
        /// QUIC version of that packet (1, 0x6b3343cf for v2, 0xff00001d for draft-29; 0 for
        /// Version Negotiation).
        version: u32,
        /// Destination connection ID of that packet (for the client, the original DCID the
        /// Initial keys derive from).
        dcid: ConnectionId,
        /// Source connection ID of that packet.
        scid: ConnectionId,
        /// Some Initial packet of this side decrypted and authenticated.
        decrypted: bool,
        /// The hello (ClientHello for the client, ServerHello for the server) was whole in the
        /// CRYPTO data; false when absent or only partly seen.
        complete: bool,
        /// CRYPTO bytes held contiguously from offset 0 when reported.
        crypto_bytes: u32,
        /// Server name from the ClientHello.
        sni: Option<String>,
        /// ALPN protocols offered by the client, or the one the ServerHello selected (rare:
        /// servers usually send it encrypted).
        alpn: Vec<String>,
        /// The decoded ClientHello (client side, when whole and parsable).
        client_hello: Option<Box<ClientHello>>,
        /// The decoded ServerHello (server side, when whole and parsable).
        server_hello: Option<Box<ServerHello>>,
        /// The first CONNECTION_CLOSE in this side's decrypted Initials before it was reported.
        close: Option<Box<ConnectionClose>>,
        /// For a Retry: whether its integrity tag verified against the client's original DCID
        /// (`None` when not checkable).
        retry_verified: Option<bool>,
        /// For a Version Negotiation packet: the versions offered (at most 16).
        offered_versions: Vec<u32>,
        /// Long-header packets of this side counted in.
        packets: u32,
    },
    /// An ICMP error about a packet of this flow.
    IcmpError {
        /// Frame of the ICMP message.
        frame: FrameNumber,
        /// Time.
        ts: Timestamp,
        /// Who sent it (a router on the path, or the destination).
        from: IpAddr,
        /// TTL of the ICMP packet.
        ttl: u8,
        /// ICMPv6 rather than ICMPv4.
        v6: bool,
        /// ICMP type.
        icmp_type: u8,
        /// ICMP code.
        code: u8,
        /// Direction of the quoted packet within the flow.
        quoted_dir: Direction,
        /// TCP sequence number of the quoted packet, when TCP.
        quoted_seq: Option<SeqNumber>,
    },
}

impl ProtoEvent {
    /// A short stable name (for tests and debugging).
    pub fn name(&self) -> &'static str {
        match self {
            ProtoEvent::Packet(_) => "packet",
            ProtoEvent::TcpHandshake(_) => "tcp_handshake",
            ProtoEvent::TcpOverlapConflict { .. } => "tcp_overlap_conflict",
            ProtoEvent::TcpRstPayload { .. } => "tcp_rst_payload",
            ProtoEvent::TlsClientHello { .. } => "tls_client_hello",
            ProtoEvent::TlsServerHello { .. } => "tls_server_hello",
            ProtoEvent::TlsCertificate { .. } => "tls_certificate",
            ProtoEvent::TlsAlert { .. } => "tls_alert",
            ProtoEvent::HttpRequest { .. } => "http_request",
            ProtoEvent::HttpResponse { .. } => "http_response",
            ProtoEvent::DnsQuery { .. } => "dns_query",
            ProtoEvent::DnsResponse { .. } => "dns_response",
            ProtoEvent::DnsTransaction { .. } => "dns_transaction",
            ProtoEvent::QuicInitial { .. } => "quic_initial",
            ProtoEvent::IcmpError { .. } => "icmp_error",
        }
    }
}
