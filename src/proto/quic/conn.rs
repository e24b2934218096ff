//! Follows the QUIC connections of one UDP flow through their Initial packets: ties packets to
//! connections by connection ID, decrypts Initials with the keys of the client's original
//! Destination Connection ID, reassembles CRYPTO data, parses the hellos and emits one
//! [`ProtoEvent::QuicInitial`] per side and connection; it never judges what it sees and never
//! looks past the Initial packet number space.
//!
//! Which side sent a packet is the flow direction (the flow table makes the non-443 end the
//! client). A client Initial belongs to the connection whose original DCID, or whose server's
//! chosen SCID, is its DCID; otherwise it starts a new connection whose keys derive from that
//! DCID (RFC 9001 §5.2). A server packet belongs to the newest connection whose client SCID is
//! its DCID and whose server keys authenticate it. After a Retry the client's next Initial
//! carries a new DCID and so starts a new connection, as its keys change too.
//!
//! Events: the client side is reported when its ClientHello is whole (or at the end of the
//! flow, flagged incomplete); the server side at the end of its first datagram, unless that
//! datagram began a ServerHello it did not finish, in which case when the ServerHello is whole,
//! after [`MAX_SERVER_WAIT_DATAGRAMS`] datagrams, or at the end of the flow. Each side is
//! reported once per connection; after that its Initials are not decrypted any more.

#![cfg_attr(
    not(test),
    deny(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used)
)]

use crate::diag::{DiagnosticKind, Diagnostics};
use crate::ids::{Direction, FrameNumber};
use crate::proto::event::ProtoEvent;
use crate::proto::tcp::stream::ReassemblyBudget;
use crate::proto::tls::parse::{
    parse_client_hello, parse_server_hello, ClientHello, MessageOrigin, ServerHello,
    ServerHelloKind, HANDSHAKE_HEADER_LEN, HS_CLIENT_HELLO, HS_SERVER_HELLO,
};
use crate::time::Timestamp;

use super::crypto::{open, verify_retry, InitialKeys, OpenError};
use super::frames::{parse_frames, ConnectionClose};
use super::packet::{split_datagram, ConnectionId, HeaderError, LongPacket, PacketType};
use super::stream::{CryptoStream, MAX_CRYPTO_BYTES};

/// Most QUIC connections followed at once in one UDP flow; a further one makes the oldest be
/// reported as it stands and forgotten (`limit_reached_quic_connections`).
pub const MAX_CONNECTIONS_PER_FLOW: usize = 8;
/// Most frame numbers an event cites.
pub const MAX_EVENT_FRAMES: usize = 32;
/// Server datagrams waited for the rest of a ServerHello before reporting without it.
pub const MAX_SERVER_WAIT_DATAGRAMS: u32 = 4;
/// Most Initial key sets kept per connection (one per QUIC version seen, for compatible
/// version negotiation from v1 to v2).
const MAX_KEY_SETS: usize = 2;

/// The frame being processed.
#[derive(Clone, Copy, Debug)]
pub struct DatagramCtx {
    /// Direction in the flow.
    pub dir: Direction,
    /// Frame number.
    pub frame: FrameNumber,
    /// Capture time.
    pub ts: Timestamp,
    /// The datagram was cut by the snapshot length (fewer bytes captured than declared).
    pub cut: bool,
}

/// What one side (client or server) of a connection showed.
#[derive(Debug, Default)]
struct Side {
    started: bool,
    packet_type: Option<PacketType>,
    version: u32,
    dcid: ConnectionId,
    scid: ConnectionId,
    frames: Vec<FrameNumber>,
    ts: Timestamp,
    packets: u32,
    datagrams: u32,
    decrypted: bool,
    largest_pn: Option<u64>,
    crypto: CryptoStream,
    crypto_limit_reported: bool,
    close: Option<ConnectionClose>,
    retry_verified: Option<bool>,
    offered_versions: Vec<u32>,
    /// The hello message is settled: whole (parsed or not), or given up on.
    hello_done: bool,
    /// The hello message was whole.
    hello_whole: bool,
    hello_frames: Vec<FrameNumber>,
    client_hello: Option<Box<ClientHello>>,
    server_hello: Option<Box<ServerHello>>,
    emitted: bool,
}

impl Side {
    fn note_packet(&mut self, ctx: &DatagramCtx, p: &LongPacket<'_>) {
        if !self.started {
            self.started = true;
            self.packet_type = Some(p.packet_type);
            self.version = p.version;
            self.dcid = p.dcid;
            self.scid = p.scid;
        }
        self.packets = self.packets.saturating_add(1);
        self.ts = ctx.ts;
        if self.frames.last() != Some(&ctx.frame) && self.frames.len() < MAX_EVENT_FRAMES {
            self.frames.push(ctx.frame);
        }
    }
}

/// One QUIC connection seen in the flow.
#[derive(Debug)]
struct Conn {
    odcid: ConnectionId,
    client_scid: ConnectionId,
    server_scid: Option<ConnectionId>,
    keys: Vec<(u32, Box<InitialKeys>)>,
    sides: [Side; 2],
}

impl Conn {
    fn new(p: &LongPacket<'_>) -> Conn {
        Conn {
            odcid: p.dcid,
            client_scid: p.scid,
            server_scid: None,
            keys: Vec::new(),
            sides: [Side::default(), Side::default()],
        }
    }

    /// The Initial keys for `version`, derived on first use.
    fn keys(&mut self, version: u32) -> Option<&InitialKeys> {
        if !self.keys.iter().any(|(v, _)| *v == version) {
            let keys = InitialKeys::derive(version, self.odcid.as_slice())?;
            if self.keys.len() >= MAX_KEY_SETS {
                self.keys.remove(0);
            }
            self.keys.push((version, Box::new(keys)));
        }
        self.keys
            .iter()
            .find(|(v, _)| *v == version)
            .map(|(_, k)| &**k)
    }

    fn side(&mut self, dir: Direction) -> &mut Side {
        let [client, server] = &mut self.sides;
        match dir {
            Direction::ClientToServer => client,
            Direction::ServerToClient => server,
        }
    }
}

/// The QUIC state of one UDP flow.
#[derive(Debug, Default)]
pub struct QuicFlow {
    conns: Vec<Conn>,
    /// A server packet belonging to no known connection was reported.
    orphan_reported: bool,
    /// Some packet of a known version was delimited here.
    seen: bool,
    /// Some packet authenticated (this flow certainly carries QUIC).
    confirmed: bool,
    /// The flow uses a QUIC port, so problems are worth reporting before anything
    /// authenticates.
    quic_port: bool,
}

impl QuicFlow {
    /// State for a new flow; `quic_port` says whether a port already marks it as QUIC.
    pub fn new(quic_port: bool) -> QuicFlow {
        QuicFlow {
            quic_port,
            ..QuicFlow::default()
        }
    }

    /// Whether the flow carries QUIC: a packet authenticated, or, on a QUIC port, a
    /// long-header packet of a known version was seen.
    pub fn is_quic(&self) -> bool {
        self.confirmed || (self.quic_port && self.seen)
    }

    fn reporting(&self) -> bool {
        self.confirmed || self.quic_port
    }

    /// Processes one UDP payload of the flow; events go to `out`.
    pub fn on_datagram(
        &mut self,
        ctx: DatagramCtx,
        payload: &[u8],
        diags: &mut Diagnostics,
        budget: &mut ReassemblyBudget,
        out: &mut Vec<ProtoEvent>,
    ) {
        let d = split_datagram(payload);
        if !d.packets.is_empty() {
            self.seen = true;
        }
        let mut touched: Vec<usize> = Vec::new();
        for p in &d.packets {
            if let Some(i) = self.on_packet(&ctx, p, diags, budget, out) {
                if !touched.contains(&i) {
                    touched.push(i);
                }
            }
        }
        if let Some((offset, e)) = &d.error {
            // A header cut by the snapshot length is not malformed (packet_snaplen_cut says
            // so already).
            let cut_short = ctx.cut && matches!(e, HeaderError::Truncated { .. });
            if self.reporting() && !cut_short {
                let n = ctx.frame;
                diags.note(DiagnosticKind::QuicPacketMalformed, Some(n), || {
                    format!("frame {n}: QUIC long header at datagram byte {offset}: {e}")
                });
            }
        }
        // Settle the touched sides of this direction.
        for i in touched {
            let Some(conn) = self.conns.get_mut(i) else {
                continue;
            };
            let side = conn.side(ctx.dir);
            side.datagrams = side.datagrams.saturating_add(1);
            let ready = match ctx.dir {
                Direction::ClientToServer => side.hello_done,
                Direction::ServerToClient => {
                    side.hello_done
                        || side.crypto.contiguous().is_empty()
                        || side.datagrams >= MAX_SERVER_WAIT_DATAGRAMS
                }
            };
            if ready && side.started && !side.emitted {
                out.push(emit(ctx.dir, side, budget));
            }
        }
    }

    /// Handles one packet; returns the index of the connection it belongs to.
    fn on_packet(
        &mut self,
        ctx: &DatagramCtx,
        p: &LongPacket<'_>,
        diags: &mut Diagnostics,
        budget: &mut ReassemblyBudget,
        out: &mut Vec<ProtoEvent>,
    ) -> Option<usize> {
        let client = ctx.dir == Direction::ClientToServer;
        if client {
            if matches!(
                p.packet_type,
                PacketType::VersionNegotiation | PacketType::Retry
            ) {
                return None;
            }
            let found = self
                .conns
                .iter()
                .rposition(|c| c.odcid == p.dcid || c.server_scid.is_some_and(|s| s == p.dcid));
            let i = match found {
                Some(i) => i,
                None if p.packet_type == PacketType::Initial => {
                    self.add_conn(p, budget, out, diags, ctx)
                }
                None => return None,
            };
            let reporting = self.reporting();
            let conn = self.conns.get_mut(i)?;
            conn.side(ctx.dir).note_packet(ctx, p);
            if p.packet_type == PacketType::Initial {
                let opened = self.open_initial(i, ctx, p, diags, budget, reporting);
                if opened {
                    self.confirmed = true;
                }
            }
            return Some(i);
        }
        // Server side: connections whose client SCID is this DCID, newest first.
        let candidates: Vec<usize> = (0..self.conns.len())
            .rev()
            .filter(|&i| self.conns.get(i).is_some_and(|c| c.client_scid == p.dcid))
            .collect();
        let Some(&newest) = candidates.first() else {
            self.orphan(ctx, p, diags, out);
            return None;
        };
        let mut chosen = newest;
        if p.packet_type == PacketType::Initial && candidates.len() > 1 {
            // The connection whose server keys authenticate the packet.
            for &i in &candidates {
                let Some(conn) = self.conns.get_mut(i) else {
                    continue;
                };
                let largest = conn.side(ctx.dir).largest_pn;
                let ok = conn
                    .keys(p.version)
                    .is_some_and(|k| open(&k.server, p, largest).is_ok());
                if ok {
                    chosen = i;
                    break;
                }
            }
        }
        let reporting = self.reporting();
        let conn = self.conns.get_mut(chosen)?;
        if conn.server_scid.is_none()
            && matches!(p.packet_type, PacketType::Initial | PacketType::Handshake)
        {
            conn.server_scid = Some(p.scid);
        }
        let odcid = conn.odcid;
        let side = conn.side(ctx.dir);
        side.note_packet(ctx, p);
        match p.packet_type {
            PacketType::Retry => {
                if side.retry_verified.is_none() {
                    side.retry_verified = verify_retry(p.version, odcid.as_slice(), p.bytes);
                }
            }
            PacketType::VersionNegotiation => {
                if side.offered_versions.is_empty() {
                    side.offered_versions = p.offered_versions.clone();
                }
            }
            PacketType::Initial => {
                if self.open_initial(chosen, ctx, p, diags, budget, reporting) {
                    self.confirmed = true;
                }
            }
            PacketType::ZeroRtt | PacketType::Handshake => {}
        }
        Some(chosen)
    }

    /// Starts a connection for a client Initial with an unknown DCID; returns its index.
    fn add_conn(
        &mut self,
        p: &LongPacket<'_>,
        budget: &mut ReassemblyBudget,
        out: &mut Vec<ProtoEvent>,
        diags: &mut Diagnostics,
        ctx: &DatagramCtx,
    ) -> usize {
        if self.conns.len() >= MAX_CONNECTIONS_PER_FLOW {
            let mut old = self.conns.remove(0);
            let n = ctx.frame;
            diags.note(
                DiagnosticKind::LimitReachedQuicConnections,
                Some(n),
                || {
                    format!(
                        "frame {n}: more than {MAX_CONNECTIONS_PER_FLOW} QUIC connections in one UDP flow; the one with original DCID {} was reported as it stood",
                        old.odcid
                    )
                },
            );
            flush_conn(&mut old, budget, out);
        }
        self.conns.push(Conn::new(p));
        self.conns.len() - 1
    }

    /// Opens an Initial packet of connection `i` sent in `ctx.dir` and takes in its frames;
    /// returns whether it authenticated.
    fn open_initial(
        &mut self,
        i: usize,
        ctx: &DatagramCtx,
        p: &LongPacket<'_>,
        diags: &mut Diagnostics,
        budget: &mut ReassemblyBudget,
        reporting: bool,
    ) -> bool {
        let Some(conn) = self.conns.get_mut(i) else {
            return false;
        };
        if conn.side(ctx.dir).emitted {
            // Already reported: retransmissions and ACK-only Initials are not opened.
            return false;
        }
        let client = ctx.dir == Direction::ClientToServer;
        let n = ctx.frame;
        let who = if client { "client" } else { "server" };
        if p.cut {
            if reporting {
                let why = if ctx.cut {
                    "cut by the snapshot length"
                } else {
                    "its Length field runs past the end of the datagram"
                };
                diags.note(DiagnosticKind::QuicInitialUndecryptable, Some(n), || {
                    format!(
                        "frame {n}: {who} Initial (DCID {}) not decrypted: {why}",
                        p.dcid
                    )
                });
            }
            return false;
        }
        let odcid = conn.odcid;
        let largest = conn.side(ctx.dir).largest_pn;
        let result = match conn.keys(p.version) {
            Some(k) => open(if client { &k.client } else { &k.server }, p, largest),
            None => Err(OpenError::Authentication),
        };
        let opened = match result {
            Ok(o) => o,
            Err(e) => {
                if reporting {
                    diags.note(DiagnosticKind::QuicInitialUndecryptable, Some(n), || {
                        format!(
                            "frame {n}: {who} Initial (DCID {}) not decrypted with the keys of original DCID {odcid}: {e}",
                            p.dcid
                        )
                    });
                }
                return false;
            }
        };
        let side = conn.side(ctx.dir);
        side.decrypted = true;
        side.largest_pn = Some(
            side.largest_pn
                .map_or(opened.packet_number, |l| l.max(opened.packet_number)),
        );
        let frames = parse_frames(&opened.payload);
        if let Some(e) = frames.error {
            diags.note(DiagnosticKind::QuicPacketMalformed, Some(n), || {
                format!(
                    "frame {n}: decrypted {who} Initial packet {}: {e}",
                    opened.packet_number
                )
            });
        }
        if side.close.is_none() {
            side.close = frames.close.clone();
        }
        for c in &frames.crypto {
            let added = side.crypto.add(c.offset, c.data, n, budget);
            // A refusal by the shared budget is reported by the pipeline, which watches it.
            if added.over_cap && !side.crypto_limit_reported {
                side.crypto_limit_reported = true;
                let offset = c.offset;
                diags.note(DiagnosticKind::LimitReachedQuicCrypto, Some(n), || {
                    format!(
                        "frame {n}: {who} CRYPTO data of QUIC connection {odcid} at offset {offset} runs past the {MAX_CRYPTO_BYTES}-byte cap or is too fragmented; the rest was dropped"
                    )
                });
            }
        }
        check_hello(side, client, n, diags);
        true
    }

    /// A server packet that belongs to no connection seen here (the client's Initial was not
    /// captured): reported once per flow, undecrypted.
    fn orphan(
        &mut self,
        ctx: &DatagramCtx,
        p: &LongPacket<'_>,
        diags: &mut Diagnostics,
        out: &mut Vec<ProtoEvent>,
    ) {
        if p.packet_type == PacketType::Initial && self.reporting() {
            let n = ctx.frame;
            diags.note(DiagnosticKind::QuicInitialUndecryptable, Some(n), || {
                format!(
                    "frame {n}: server Initial (DCID {}) not decrypted: no client Initial of this flow to derive the keys from",
                    p.dcid
                )
            });
        }
        if self.orphan_reported {
            return;
        }
        self.orphan_reported = true;
        let mut side = Side::default();
        side.note_packet(ctx, p);
        side.offered_versions = p.offered_versions.clone();
        let mut scratch = ReassemblyBudget::new(0);
        out.push(emit(ctx.dir, &mut side, &mut scratch));
    }

    /// The flow ended: reports every side not reported yet and frees all buffers.
    pub fn finish(&mut self, budget: &mut ReassemblyBudget, out: &mut Vec<ProtoEvent>) {
        for mut conn in self.conns.drain(..) {
            flush_conn(&mut conn, budget, out);
        }
    }
}

/// Reports both sides of a connection that are not reported yet, and frees its buffers.
fn flush_conn(conn: &mut Conn, budget: &mut ReassemblyBudget, out: &mut Vec<ProtoEvent>) {
    for dir in [Direction::ClientToServer, Direction::ServerToClient] {
        let side = conn.side(dir);
        if side.started && !side.emitted {
            out.push(emit(dir, side, budget));
        }
        side.crypto.release(budget);
    }
}

/// Looks for the side's hello at the start of its CRYPTO stream and parses it once whole.
fn check_hello(side: &mut Side, client: bool, frame: FrameNumber, diags: &mut Diagnostics) {
    if side.hello_done {
        return;
    }
    let buf = side.crypto.contiguous();
    let Some(&[msg_type, l0, l1, l2]) = buf.get(..HANDSHAKE_HEADER_LEN) else {
        return;
    };
    let (expected, name) = if client {
        (HS_CLIENT_HELLO, "ClientHello")
    } else {
        (HS_SERVER_HELLO, "ServerHello")
    };
    if msg_type != expected {
        side.hello_done = true;
        diags.note(DiagnosticKind::TlsMessageMalformed, Some(frame), || {
            format!(
                "frame {frame}: QUIC CRYPTO stream starts with handshake type {msg_type}, not a {name}"
            )
        });
        return;
    }
    let body_len = usize::from(l0) << 16 | usize::from(l1) << 8 | usize::from(l2);
    let total = HANDSHAKE_HEADER_LEN + body_len;
    if total > MAX_CRYPTO_BYTES as usize {
        side.hello_done = true;
        diags.note(DiagnosticKind::LimitReachedQuicCrypto, Some(frame), || {
            format!(
                "frame {frame}: QUIC {name} of {total} bytes is larger than the {MAX_CRYPTO_BYTES}-byte CRYPTO cap"
            )
        });
        return;
    }
    let Some(body) = buf.get(HANDSHAKE_HEADER_LEN..total) else {
        return;
    };
    side.hello_done = true;
    side.hello_whole = true;
    side.hello_frames = side.crypto.frames_for(total as u32);
    // QUIC carries handshake messages without TLS records (RFC 9001 §4).
    let origin = MessageOrigin {
        stream_offset: 0,
        record_count: 0,
        record_version: 0,
    };
    let result = if client {
        parse_client_hello(body, origin).map(|h| side.client_hello = Some(Box::new(h)))
    } else {
        parse_server_hello(body, origin, ServerHelloKind::ServerHello)
            .map(|h| side.server_hello = Some(Box::new(h)))
    };
    if let Err(e) = result {
        diags.note(DiagnosticKind::TlsMessageMalformed, Some(frame), || {
            format!("frame {frame}: QUIC {name}: {e}")
        });
    }
}

/// Builds the event for a side and frees its CRYPTO buffer.
fn emit(dir: Direction, side: &mut Side, budget: &mut ReassemblyBudget) -> ProtoEvent {
    side.emitted = true;
    let crypto_bytes = u32::try_from(side.crypto.contiguous().len()).unwrap_or(u32::MAX);
    side.crypto.release(budget);
    let frames = if side.hello_whole && !side.hello_frames.is_empty() {
        std::mem::take(&mut side.hello_frames)
    } else {
        side.frames.clone()
    };
    let client_hello = side.client_hello.take();
    let server_hello = side.server_hello.take();
    let sni = client_hello.as_ref().and_then(|h| h.sni.clone());
    let alpn = match (&client_hello, &server_hello) {
        (Some(h), _) => h.alpn.clone(),
        (None, Some(h)) => h.alpn.iter().cloned().collect(),
        (None, None) => Vec::new(),
    };
    ProtoEvent::QuicInitial {
        dir,
        frames,
        ts: side.ts,
        packet_type: side.packet_type.unwrap_or(PacketType::Initial),
        version: side.version,
        dcid: side.dcid,
        scid: side.scid,
        decrypted: side.decrypted,
        complete: side.hello_whole,
        crypto_bytes,
        sni,
        alpn,
        client_hello,
        server_hello,
        close: side.close.take().map(Box::new),
        retry_verified: side.retry_verified,
        offered_versions: std::mem::take(&mut side.offered_versions),
        packets: side.packets,
    }
}

#[cfg(test)]
mod tests {
    use super::super::crypto::seal;
    use super::super::packet::{VERSION_1, VERSION_2};
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        let s: String = s.chars().filter(|c| c.is_ascii_hexdigit()).collect();
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    const ODCID: &str = "8394c8f03e515708";
    const CLIENT_SCID: &[u8] = &[0xc1, 0x1e];
    const SERVER_SCID: &[u8] = &[0x5e, 0x77, 0xe7];

    /// The ClientHello of RFC 9001 A.2 (SNI example.com, ALPN "alpn"), with its header.
    fn client_hello() -> Vec<u8> {
        let frame = hex(include_str!("testdata/rfc9001-a2-crypto-frame.hex"));
        // CRYPTO type (1), offset (1), 2-byte length: the message starts at byte 4.
        frame[4..].to_vec()
    }

    /// The ServerHello of RFC 9001 A.3, with its header.
    fn server_hello() -> Vec<u8> {
        let payload = hex(include_str!("testdata/rfc9001-a3-server-payload.hex"));
        payload[9..].to_vec()
    }

    fn crypto(offset: u64, data: &[u8]) -> Vec<u8> {
        assert!(offset < 1 << 14 && data.len() < 1 << 14);
        let mut f = vec![0x06];
        f.extend_from_slice(&(0x4000u16 | offset as u16).to_be_bytes());
        f.extend_from_slice(&(0x4000u16 | data.len() as u16).to_be_bytes());
        f.extend_from_slice(data);
        f
    }

    fn padded(mut payload: Vec<u8>) -> Vec<u8> {
        payload.resize(payload.len().max(1162), 0);
        payload
    }

    fn client_initial(dcid: &[u8], pn: u32, frames: Vec<u8>) -> Vec<u8> {
        seal::initial(
            VERSION_1,
            &hex(ODCID),
            true,
            dcid,
            CLIENT_SCID,
            &[],
            pn,
            &padded(frames),
        )
    }

    fn server_initial(pn: u32, frames: Vec<u8>) -> Vec<u8> {
        seal::initial(
            VERSION_1,
            &hex(ODCID),
            false,
            CLIENT_SCID,
            SERVER_SCID,
            &[],
            pn,
            &frames,
        )
    }

    struct Harness {
        flow: QuicFlow,
        diags: Diagnostics,
        budget: ReassemblyBudget,
        events: Vec<ProtoEvent>,
        frame: u64,
    }

    impl Harness {
        fn new() -> Harness {
            Harness {
                flow: QuicFlow::new(true),
                diags: Diagnostics::default(),
                budget: ReassemblyBudget::new(1 << 20),
                events: Vec::new(),
                frame: 0,
            }
        }

        fn send(&mut self, dir: Direction, datagram: &[u8]) {
            self.send_cut(dir, datagram, false);
        }

        fn send_cut(&mut self, dir: Direction, datagram: &[u8], cut: bool) {
            self.frame += 1;
            let ctx = DatagramCtx {
                dir,
                frame: FrameNumber::new(self.frame).unwrap(),
                ts: Timestamp::from_nanos(self.frame as i64 * 1_000_000),
                cut,
            };
            self.flow.on_datagram(
                ctx,
                datagram,
                &mut self.diags,
                &mut self.budget,
                &mut self.events,
            );
        }

        fn finish(&mut self) {
            self.flow.finish(&mut self.budget, &mut self.events);
            assert_eq!(self.budget.used(), 0, "every buffer released");
        }
    }

    const C2S: Direction = Direction::ClientToServer;
    const S2C: Direction = Direction::ServerToClient;

    fn frames_of(e: &ProtoEvent) -> Vec<u64> {
        match e {
            ProtoEvent::QuicInitial { frames, .. } => frames.iter().map(|f| f.get()).collect(),
            _ => panic!("not a QUIC event"),
        }
    }

    #[test]
    fn client_hello_split_over_two_initials_is_reassembled() {
        let ch = client_hello();
        for reversed in [false, true] {
            let mut h = Harness::new();
            let first = client_initial(&hex(ODCID), 0, crypto(0, &ch[..120]));
            let second = client_initial(&hex(ODCID), 1, crypto(120, &ch[120..]));
            let (a, b) = if reversed {
                (second, first)
            } else {
                (first, second)
            };
            h.send(C2S, &a);
            assert!(h.events.is_empty(), "not whole after one packet");
            h.send(C2S, &b);
            assert_eq!(h.events.len(), 1);
            let ProtoEvent::QuicInitial {
                dir,
                sni,
                alpn,
                complete,
                decrypted,
                client_hello,
                dcid,
                scid,
                version,
                packet_type,
                crypto_bytes,
                ..
            } = &h.events[0]
            else {
                panic!()
            };
            assert_eq!(*dir, C2S);
            assert_eq!(sni.as_deref(), Some("example.com"));
            assert_eq!(alpn, &["alpn"]);
            assert!(complete & decrypted);
            assert_eq!(*crypto_bytes as usize, ch.len());
            let hello = client_hello.as_ref().unwrap();
            assert_eq!(hello.supported_versions, [0x0304]);
            assert_eq!(hello.record_count, 0, "no TLS records in QUIC");
            assert_eq!(dcid.to_hex(), ODCID);
            assert_eq!(scid.as_slice(), CLIENT_SCID);
            assert_eq!((*version, *packet_type), (VERSION_1, PacketType::Initial));
            assert_eq!(frames_of(&h.events[0]), [1, 2]);
            // Retransmissions are not reported again.
            h.send(C2S, &client_initial(&hex(ODCID), 2, crypto(0, &ch)));
            h.finish();
            assert_eq!(h.events.len(), 1);
            assert!(h.diags.is_empty(), "{:?}", h.diags.summaries());
        }
    }

    #[test]
    fn server_answer_is_decrypted_with_keys_from_the_original_dcid() {
        let mut h = Harness::new();
        h.send(
            C2S,
            &client_initial(&hex(ODCID), 0, crypto(0, &client_hello())),
        );
        let mut reply = server_initial(0, {
            let mut f = hex("02 00 00 00 00"); // ACK of packet 0
            f.extend_from_slice(&crypto(0, &server_hello()));
            f
        });
        // A coalesced Handshake packet of the same connection.
        reply.extend_from_slice(&[
            0xe0, 0, 0, 0, 1, 2, 0xc1, 0x1e, 3, 0x5e, 0x77, 0xe7, 5, 1, 2, 3, 4, 5,
        ]);
        h.send(S2C, &reply);
        assert_eq!(h.events.len(), 2);
        let ProtoEvent::QuicInitial {
            dir,
            server_hello,
            complete,
            decrypted,
            scid,
            packets,
            ..
        } = &h.events[1]
        else {
            panic!()
        };
        assert_eq!(*dir, S2C);
        assert!(complete & decrypted);
        assert_eq!(server_hello.as_ref().unwrap().cipher, 0x1301);
        assert_eq!(scid.as_slice(), SERVER_SCID);
        assert_eq!(*packets, 2, "Initial and Handshake");
        // The client's next Initial uses the server's SCID and stays in the same connection.
        h.send(C2S, &client_initial(SERVER_SCID, 1, hex("02 00 00 00 00")));
        h.finish();
        assert_eq!(h.events.len(), 2, "{:?}", h.events);
        assert!(h.diags.is_empty(), "{:?}", h.diags.summaries());
    }

    #[test]
    fn server_hello_split_over_two_server_initials_waits_for_the_rest() {
        let mut h = Harness::new();
        h.send(
            C2S,
            &client_initial(&hex(ODCID), 0, crypto(0, &client_hello())),
        );
        let sh = server_hello();
        h.send(S2C, &server_initial(0, crypto(0, &sh[..40])));
        assert_eq!(h.events.len(), 1, "server side waits");
        h.send(S2C, &server_initial(1, crypto(40, &sh[40..])));
        assert_eq!(h.events.len(), 2);
        assert_eq!(frames_of(&h.events[1]), [2, 3]);
        assert!(matches!(
            &h.events[1],
            ProtoEvent::QuicInitial {
                server_hello: Some(_),
                ..
            }
        ));
    }

    #[test]
    fn partial_client_hello_is_reported_at_the_end_of_the_flow() {
        let mut h = Harness::new();
        h.send(
            C2S,
            &client_initial(&hex(ODCID), 0, crypto(0, &client_hello()[..100])),
        );
        assert!(h.events.is_empty());
        h.finish();
        let ProtoEvent::QuicInitial {
            complete,
            decrypted,
            crypto_bytes,
            sni,
            ..
        } = &h.events[0]
        else {
            panic!()
        };
        assert!(!complete && *decrypted);
        assert_eq!((*crypto_bytes, sni), (100, &None));
    }

    #[test]
    fn retry_is_verified_and_the_next_initial_starts_a_new_connection() {
        let mut h = Harness::new();
        let ch = client_hello();
        // RFC 9001 A.2 client (empty SCID) and its A.4 Retry.
        h.send(
            C2S,
            &seal::initial(
                VERSION_1,
                &hex(ODCID),
                true,
                &hex(ODCID),
                &[],
                &[],
                0,
                &padded(crypto(0, &ch)),
            ),
        );
        h.send(S2C, &hex(include_str!("testdata/rfc9001-a4-retry.hex")));
        assert_eq!(h.events.len(), 2);
        let ProtoEvent::QuicInitial {
            packet_type,
            retry_verified,
            ..
        } = &h.events[1]
        else {
            panic!()
        };
        assert_eq!(*packet_type, PacketType::Retry);
        assert_eq!(*retry_verified, Some(true));
        // The client's Initial after the Retry: DCID and keys from the Retry's SCID.
        let new_dcid = hex("f067a5502a4262b5");
        h.send(
            C2S,
            &seal::initial(
                VERSION_1,
                &new_dcid,
                true,
                &new_dcid,
                &[],
                b"token",
                1,
                &padded(crypto(0, &ch)),
            ),
        );
        assert_eq!(h.events.len(), 3);
        let ProtoEvent::QuicInitial { dcid, sni, .. } = &h.events[2] else {
            panic!()
        };
        assert_eq!(dcid.as_slice(), &new_dcid[..]);
        assert_eq!(sni.as_deref(), Some("example.com"));
        assert!(h.diags.is_empty(), "{:?}", h.diags.summaries());
    }

    #[test]
    fn version_negotiation_is_reported_with_its_versions() {
        let mut h = Harness::new();
        h.send(
            C2S,
            &client_initial(&hex(ODCID), 0, crypto(0, &client_hello())),
        );
        let mut vn = vec![0x80, 0, 0, 0, 0, 2, 0xc1, 0x1e, 8];
        vn.extend_from_slice(&hex(ODCID));
        vn.extend_from_slice(&hex("6b3343cf ff00001d"));
        h.send(S2C, &vn);
        let ProtoEvent::QuicInitial {
            packet_type,
            offered_versions,
            decrypted,
            version,
            ..
        } = &h.events[1]
        else {
            panic!()
        };
        assert_eq!(*packet_type, PacketType::VersionNegotiation);
        assert_eq!(offered_versions, &[VERSION_2, 0xff00_001d]);
        assert!(!decrypted);
        assert_eq!(*version, 0);
    }

    #[test]
    fn v2_initial_of_rfc9369_is_read() {
        let mut h = Harness::new();
        h.send(
            C2S,
            &hex(include_str!("testdata/rfc9369-a2-client-initial.hex")),
        );
        h.send(
            S2C,
            &hex(include_str!("testdata/rfc9369-a3-server-initial.hex")),
        );
        assert_eq!(h.events.len(), 2);
        for e in &h.events {
            let ProtoEvent::QuicInitial {
                version,
                decrypted,
                complete,
                ..
            } = e
            else {
                panic!()
            };
            assert_eq!(*version, VERSION_2);
            assert!(decrypted & complete);
        }
        assert!(
            matches!(&h.events[0], ProtoEvent::QuicInitial { sni: Some(s), .. } if s == "example.com")
        );
        assert!(h.flow.is_quic());
    }

    #[test]
    fn connection_close_in_a_server_initial_is_carried() {
        let mut h = Harness::new();
        h.send(
            C2S,
            &client_initial(&hex(ODCID), 0, crypto(0, &client_hello())),
        );
        // CONNECTION_CLOSE: CRYPTO_ERROR with alert 120 (no_application_protocol).
        h.send(S2C, &server_initial(0, hex("1c 4178 06 00")));
        let ProtoEvent::QuicInitial {
            close,
            server_hello,
            complete,
            ..
        } = &h.events[1]
        else {
            panic!()
        };
        let close = close.as_ref().unwrap();
        assert_eq!(close.tls_alert(), Some(120));
        assert!(server_hello.is_none() && !complete);
    }

    #[test]
    fn undecryptable_and_cut_initials_become_diagnostics_and_an_undecrypted_event() {
        let mut h = Harness::new();
        let mut bad = client_initial(&hex(ODCID), 0, crypto(0, &client_hello()));
        bad[600] ^= 0x55;
        h.send(C2S, &bad);
        let good = client_initial(&hex(ODCID), 1, crypto(0, &client_hello()));
        h.send_cut(C2S, &good[..256], true);
        assert_eq!(h.diags.count(DiagnosticKind::QuicInitialUndecryptable), 2);
        // Cut inside the header: nothing to say beyond packet_snaplen_cut.
        h.send_cut(C2S, &good[..12], true);
        assert_eq!(h.diags.count(DiagnosticKind::QuicPacketMalformed), 0);
        h.send(C2S, &good[..12]);
        assert_eq!(h.diags.count(DiagnosticKind::QuicPacketMalformed), 1);
        h.finish();
        assert_eq!(h.events.len(), 1);
        let ProtoEvent::QuicInitial {
            decrypted,
            complete,
            ..
        } = &h.events[0]
        else {
            panic!()
        };
        assert!(!decrypted && !complete);
        assert_eq!(frames_of(&h.events[0]), [1, 2]);
        assert_eq!(h.diags.count(DiagnosticKind::QuicPacketMalformed), 1);
        // A server packet with no client Initial in the flow.
        let mut h = Harness::new();
        h.send(S2C, &server_initial(0, crypto(0, &server_hello())));
        assert_eq!(h.events.len(), 1);
        assert_eq!(h.diags.count(DiagnosticKind::QuicInitialUndecryptable), 1);
    }

    #[test]
    fn malformed_frames_in_an_authentic_packet_are_reported() {
        let mut h = Harness::new();
        let mut frames = crypto(0, &client_hello());
        frames.extend_from_slice(&hex("08 00")); // a STREAM frame: not allowed in Initials
        h.send(C2S, &client_initial(&hex(ODCID), 0, frames));
        assert_eq!(h.diags.count(DiagnosticKind::QuicPacketMalformed), 1);
        assert_eq!(h.events.len(), 1, "what came before is used");
        // A CRYPTO stream that does not start with a ClientHello.
        let mut h = Harness::new();
        h.send(
            C2S,
            &client_initial(&hex(ODCID), 0, crypto(0, &server_hello())),
        );
        assert_eq!(h.diags.count(DiagnosticKind::TlsMessageMalformed), 1);
        assert_eq!(h.events.len(), 1);
    }

    #[test]
    fn connections_per_flow_are_capped() {
        let mut h = Harness::new();
        for i in 0..(MAX_CONNECTIONS_PER_FLOW as u8 + 2) {
            let dcid = [i; 8];
            h.send(
                C2S,
                &seal::initial(
                    VERSION_1,
                    &dcid,
                    true,
                    &dcid,
                    &[],
                    &[],
                    0,
                    &padded(crypto(0, &client_hello()[..50])),
                ),
            );
        }
        assert_eq!(
            h.diags.count(DiagnosticKind::LimitReachedQuicConnections),
            2
        );
        assert_eq!(h.events.len(), 2, "the evicted ones are reported");
        h.finish();
        assert_eq!(h.events.len(), MAX_CONNECTIONS_PER_FLOW + 2);
    }

    #[test]
    fn crypto_past_the_cap_is_reported_once() {
        let mut h = Harness::new();
        let mut frames = crypto(0, &client_hello()[..10]);
        frames.extend_from_slice(&crypto(u64::from(MAX_CRYPTO_BYTES) - 5, &[1; 10]));
        h.send(C2S, &client_initial(&hex(ODCID), 0, frames));
        assert_eq!(h.diags.count(DiagnosticKind::LimitReachedQuicCrypto), 1);
        h.finish();
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_datagrams_never_panic(
            datagrams in proptest::collection::vec(
                (proptest::bool::ANY, proptest::collection::vec(proptest::num::u8::ANY, 0..1400)),
                1..6,
            ),
            long_header in proptest::bool::ANY,
        ) {
            let mut h = Harness::new();
            for (client, mut d) in datagrams {
                if long_header && d.len() > 5 {
                    // Make the walk reach the version-specific parts.
                    d[0] |= 0xc0;
                    d[1..5].copy_from_slice(&VERSION_1.to_be_bytes());
                }
                h.send(if client { C2S } else { S2C }, &d);
            }
            h.finish();
        }

        #[test]
        fn mutated_rfc_initials_never_panic(
            idx in 0usize..1200, val in proptest::num::u8::ANY, cut in 0usize..1300,
        ) {
            let mut h = Harness::new();
            let mut c = hex(include_str!("testdata/rfc9001-a2-client-initial.hex"));
            c[idx] = val;
            c.truncate(cut);
            h.send(C2S, &c);
            let mut s = hex(include_str!("testdata/rfc9001-a3-server-initial.hex"));
            let i = idx % s.len();
            s[i] = val;
            h.send(S2C, &s);
            h.finish();
        }
    }

    #[test]
    fn hostile_datagrams_never_panic() {
        let good = client_initial(&hex(ODCID), 0, crypto(0, &client_hello()));
        let server = server_initial(0, crypto(0, &server_hello()));
        let mut seed = 0x9e37_79b9u32;
        let mut rnd = move || {
            seed ^= seed << 13;
            seed ^= seed >> 17;
            seed ^= seed << 5;
            seed
        };
        let mut h = Harness::new();
        for round in 0..3000 {
            let base = if round % 2 == 0 { &good } else { &server };
            let mut d = base.clone();
            for _ in 0..(rnd() % 4) {
                let i = rnd() as usize % d.len();
                d[i] = rnd() as u8;
            }
            let cut = rnd() as usize % (d.len() + 1);
            d.truncate(if round % 3 == 0 { cut } else { d.len() });
            let dir = if round % 2 == 0 { C2S } else { S2C };
            h.send(dir, &d);
        }
        h.finish();
    }
}
