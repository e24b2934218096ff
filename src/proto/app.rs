//! Recognises the application protocol of a TCP stream (TLS, HTTP/1.x, DNS) and runs the
//! matching incremental parsers on each direction's reassembled bytes; it turns parser output
//! into items with stream positions and never judges anything.

use super::dns::parse::DnsTcpFramer;
use super::http::parse::{HttpEvent, HttpScanner};
use super::tls::parse::{looks_like_tls, TlsEvent, TlsScanner};
use crate::ids::Direction;

/// Server ports that identify a protocol when the first bytes do not.
const TLS_PORTS: &[u16] = &[443, 465, 563, 636, 853, 989, 990, 993, 995, 5061, 8443];
const HTTP_PORTS: &[u16] = &[80, 3128, 8000, 8008, 8080, 8888];
const DNS_PORT: u16 = 53;
/// HTTP/1.x request methods recognised at the start of a client stream.
const HTTP_METHODS: &[&[u8]] = &[
    b"GET ",
    b"POST ",
    b"HEAD ",
    b"PUT ",
    b"DELETE ",
    b"OPTIONS ",
    b"CONNECT ",
    b"PATCH ",
    b"TRACE ",
];

/// The application protocol of a TCP flow.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AppKind {
    /// TLS.
    Tls,
    /// HTTP/1.x.
    Http,
    /// DNS over TCP.
    Dns,
    /// Something tamper does not parse.
    Other,
}

impl AppKind {
    /// Label used in flow listings.
    pub fn label(self) -> Option<&'static str> {
        match self {
            AppKind::Tls => Some("tls"),
            AppKind::Http => Some("http"),
            AppKind::Dns => Some("dns"),
            AppKind::Other => None,
        }
    }
}

/// What a parser produced, with the stream range it came from.
#[derive(Debug)]
pub struct AppItem {
    /// Direction of the stream.
    pub dir: Direction,
    /// First stream offset of the item.
    pub start: u64,
    /// One past its last stream offset (approximate for multi-record messages).
    pub end: u64,
    /// The item.
    pub kind: AppItemKind,
}

/// Parser output.
#[derive(Debug)]
pub enum AppItemKind {
    /// A TLS scanner event.
    Tls(TlsEvent),
    /// An HTTP scanner event.
    Http(HttpEvent),
    /// A complete DNS message from a TCP stream (still to be parsed).
    Dns(Vec<u8>),
}

enum Parser {
    Tls(TlsScanner),
    Http(HttpScanner),
    Dns(DnsTcpFramer),
    Done,
}

impl Parser {
    fn wants_more(&self) -> bool {
        match self {
            Parser::Tls(t) => !t.is_stopped() && !t.is_encrypted(),
            Parser::Http(h) => !h.is_stopped(),
            Parser::Dns(_) => true,
            Parser::Done => false,
        }
    }
}

/// The application parsers of one TCP flow.
pub struct TcpApps {
    kind: Option<AppKind>,
    parsers: [Parser; 2],
    server_port: u16,
    /// Stream offset and length of the latest HTTP head per direction, to place bodies.
    last_head: [(u64, u64); 2],
}

impl std::fmt::Debug for TcpApps {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TcpApps").field("kind", &self.kind).finish()
    }
}

impl TcpApps {
    /// Parsers for a flow whose server listens on `server_port`.
    pub fn new(server_port: u16) -> TcpApps {
        TcpApps {
            kind: None,
            parsers: [Parser::Done, Parser::Done],
            server_port,
            last_head: [(0, 0); 2],
        }
    }

    /// The protocol, once recognised.
    pub fn kind(&self) -> Option<AppKind> {
        self.kind
    }

    /// Whether bytes of `dir` are still wanted.
    pub fn wants(&self, dir: Direction) -> bool {
        match self.kind {
            None => true,
            Some(_) => self.parsers[dir.index()].wants_more(),
        }
    }

    /// Recognises the protocol from the first bytes of a direction; `None` when the server
    /// spoke first with bytes that do not tell (then the client's first bytes decide).
    fn recognise(&self, dir: Direction, first: &[u8]) -> Option<AppKind> {
        let port = self.server_port;
        let client = dir == Direction::ClientToServer;
        let http_start = if client {
            HTTP_METHODS.iter().any(|m| first.starts_with(m))
        } else {
            first.starts_with(b"HTTP/1.")
        };
        Some(
            if looks_like_tls(first) && (client || TLS_PORTS.contains(&port)) {
                AppKind::Tls
            } else if http_start {
                AppKind::Http
            } else if port == DNS_PORT {
                AppKind::Dns
            } else if !client {
                return None;
            } else if HTTP_PORTS.contains(&port) {
                AppKind::Http
            } else {
                AppKind::Other
            },
        )
    }

    fn decide(&mut self, kind: AppKind) {
        self.kind = Some(kind);
        self.parsers = match kind {
            AppKind::Tls => [
                Parser::Tls(TlsScanner::new()),
                Parser::Tls(TlsScanner::new()),
            ],
            AppKind::Http => [
                Parser::Http(HttpScanner::requests()),
                Parser::Http(HttpScanner::responses()),
            ],
            AppKind::Dns => [
                Parser::Dns(DnsTcpFramer::new()),
                Parser::Dns(DnsTcpFramer::new()),
            ],
            AppKind::Other => [Parser::Done, Parser::Done],
        };
    }

    /// Feeds contiguous bytes of `dir` starting at stream `offset`.
    pub fn feed(&mut self, dir: Direction, offset: u64, bytes: &[u8], out: &mut Vec<AppItem>) {
        if self.kind.is_none() {
            if offset != 0 {
                // Not the start of this direction (its first bytes were not recognisable or
                // were missed): only the client's first bytes may still decide.
                if dir == Direction::ClientToServer {
                    self.decide(AppKind::Other);
                }
                return;
            }
            match self.recognise(dir, bytes) {
                Some(kind) => self.decide(kind),
                None => return,
            }
        }
        let (mine, theirs) = if dir.index() == 0 {
            let (a, b) = self.parsers.split_at_mut(1);
            (&mut a[0], &mut b[0])
        } else {
            let (a, b) = self.parsers.split_at_mut(1);
            (&mut b[0], &mut a[0])
        };
        match mine {
            Parser::Tls(scanner) => {
                for ev in scanner.feed(bytes) {
                    let (start, end) = tls_span(&ev);
                    out.push(AppItem {
                        dir,
                        start,
                        end,
                        kind: AppItemKind::Tls(ev),
                    });
                }
            }
            Parser::Http(scanner) => {
                for ev in scanner.feed(bytes) {
                    if let (HttpEvent::RequestHead(head), Parser::Http(resp)) = (&ev, &mut *theirs)
                    {
                        resp.expect_response_to(&head.method);
                    }
                    let (start, end) = http_span(&ev, &mut self.last_head[dir.index()]);
                    out.push(AppItem {
                        dir,
                        start,
                        end,
                        kind: AppItemKind::Http(ev),
                    });
                }
            }
            Parser::Dns(framer) => {
                for m in framer.feed(bytes) {
                    out.push(AppItem {
                        dir,
                        start: m.stream_offset,
                        end: m.stream_offset + 2 + m.bytes.len() as u64,
                        kind: AppItemKind::Dns(m.bytes),
                    });
                }
            }
            Parser::Done => {}
        }
    }

    /// The stream of `dir` ended (FIN, or the flow is over): flush what parsers hold.
    pub fn finish(&mut self, dir: Direction, out: &mut Vec<AppItem>) {
        if let Parser::Http(scanner) = &mut self.parsers[dir.index()] {
            for ev in scanner.finish() {
                let (start, end) = http_span(&ev, &mut self.last_head[dir.index()]);
                out.push(AppItem {
                    dir,
                    start,
                    end,
                    kind: AppItemKind::Http(ev),
                });
            }
        }
    }

    /// The flow is over: [`Self::finish`], and the TLS scanner of `dir` reports what it still
    /// holds (a Certificate message the stream ended inside). Kept apart from `finish`, which
    /// also runs at a FIN, because bytes before an out-of-order FIN may still arrive.
    pub fn end(&mut self, dir: Direction, out: &mut Vec<AppItem>) {
        self.finish(dir, out);
        if let Parser::Tls(scanner) = &mut self.parsers[dir.index()] {
            for ev in scanner.finish() {
                let (start, end) = tls_span(&ev);
                out.push(AppItem {
                    dir,
                    start,
                    end,
                    kind: AppItemKind::Tls(ev),
                });
            }
        }
    }
}

/// Stream range of a TLS event (records add 5 bytes each to the handshake length).
fn tls_span(ev: &TlsEvent) -> (u64, u64) {
    match ev {
        TlsEvent::ClientHello(h) => (
            h.stream_offset,
            h.stream_offset + u64::from(h.record_count) * 5 + 4 + u64::from(h.handshake_len),
        ),
        TlsEvent::ServerHello(h) => (
            h.stream_offset,
            h.stream_offset + u64::from(h.record_count) * 5 + 4,
        ),
        TlsEvent::Certificate(c) => (c.stream_offset, c.stream_offset + 9),
        TlsEvent::OtherHandshake { offset, len, .. } => (*offset, offset + 9 + u64::from(*len)),
        TlsEvent::ChangeCipherSpec { offset }
        | TlsEvent::Alert { offset, .. }
        | TlsEvent::Encrypted { offset, .. }
        | TlsEvent::ApplicationData { offset, .. }
        | TlsEvent::Malformed { offset, .. }
        | TlsEvent::LimitReached { offset, .. } => (*offset, offset + 7),
    }
}

/// Stream range of an HTTP event; remembers head positions so bodies can be placed.
fn http_span(ev: &HttpEvent, last_head: &mut (u64, u64)) -> (u64, u64) {
    match ev {
        HttpEvent::RequestHead(h) => {
            *last_head = (h.stream_offset, h.head_len as u64);
            (h.stream_offset, h.stream_offset + h.head_len as u64)
        }
        HttpEvent::ResponseHead(h) => {
            *last_head = (h.stream_offset, h.head_len as u64);
            (h.stream_offset, h.stream_offset + h.head_len as u64)
        }
        HttpEvent::Body(b) => {
            let start = if b.head_offset == last_head.0 {
                last_head.0 + last_head.1
            } else {
                b.head_offset
            };
            (start, start + (b.excerpt.len() as u64).max(1))
        }
        HttpEvent::BodyEnd { head_offset, .. } => (*head_offset, head_offset + 1),
        HttpEvent::ProtocolSwitch { offset }
        | HttpEvent::IncompleteHead { offset, .. }
        | HttpEvent::Malformed { offset, .. }
        | HttpEvent::LimitReached { offset, .. } => (*offset, offset + 1),
    }
}
