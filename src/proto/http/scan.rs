//! Scans one direction of an HTTP/1.x stream into head and body events; it buffers at most one
//! head (bounded) and one body excerpt, skips the rest of each body without buffering, never
//! decompresses, and stops at the first thing it cannot frame.
//!
//! Events depend only on the bytes, not on how they were split across calls to
//! [`HttpScanner::feed`]: a body's [`HttpEvent::Body`] is emitted when the body ends, or as soon
//! as a body byte arrives that no longer fits in the excerpt (then [`HttpEvent::BodyEnd`] follows
//! when the body ends, found by following Content-Length or chunk sizes so that the next
//! pipelined or keep-alive message is found).

#![cfg_attr(
    not(test),
    deny(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used)
)]

use std::collections::VecDeque;

use serde::Serialize;

use super::parse::{
    content_length, parse_chunk_size, parse_request_head, parse_response_head, transfer_coding,
    HeadError, HttpLimits, RequestHead, ResponseHead, TransferCoding,
};

/// Which direction the scanner reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum HttpRole {
    /// Client to server.
    Requests,
    /// Server to client.
    Responses,
}

/// A bound that was hit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum HttpLimit {
    /// A head longer than [`HttpLimits::max_head_len`]; the scanner stops.
    HeadTooLong {
        /// The bound.
        max: usize,
    },
    /// More header fields than [`HttpLimits::max_headers`]; the scanner stops.
    TooManyHeaders {
        /// The bound.
        max: usize,
    },
    /// A chunk-size line longer than [`HttpLimits::max_chunk_line_len`]; the scanner stops.
    ChunkLineTooLong {
        /// The bound.
        max: usize,
    },
    /// A trailer section longer than [`HttpLimits::max_trailer_len`]; the scanner stops.
    TrailersTooLong {
        /// The bound.
        max: usize,
    },
    /// More outstanding requests than [`HttpLimits::max_pending_requests`]: the oldest
    /// expectation was dropped (scanning goes on).
    PendingRequests {
        /// The bound.
        max: usize,
    },
}

/// A body excerpt (after de-chunking; never decompressed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HttpBody {
    /// Stream offset of the head this body belongs to.
    pub head_offset: u64,
    /// The first [`HttpLimits::body_excerpt_len`] body bytes.
    pub excerpt: Vec<u8>,
    /// Body bytes seen when the event was emitted.
    pub body_len_seen: u64,
    /// Whether the body ended (by its length, its last chunk, or the end of the stream for a
    /// response without length).
    pub complete: bool,
    /// Whether the body is chunked.
    pub chunked: bool,
    /// Content-Length, if one was sent.
    pub declared_len: Option<u64>,
}

/// Something the scanner saw.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum HttpEvent {
    /// A request head.
    RequestHead(RequestHead),
    /// A response head.
    ResponseHead(ResponseHead),
    /// A body excerpt: at the body's end, or when the excerpt overflowed.
    Body(HttpBody),
    /// End of a body whose [`HttpEvent::Body`] was emitted early (excerpt full).
    BodyEnd {
        /// Stream offset of the head.
        head_offset: u64,
        /// Body bytes in total.
        body_len: u64,
        /// Whether the body ended properly (rather than with the stream).
        complete: bool,
    },
    /// After a 101 response, a 2xx response to CONNECT, or a CONNECT request, the rest of the
    /// direction is not HTTP/1; it is no longer parsed.
    ProtocolSwitch {
        /// Stream offset where the other protocol starts.
        offset: u64,
    },
    /// The stream ended inside a head.
    IncompleteHead {
        /// Stream offset of the head.
        offset: u64,
        /// Bytes of it that arrived.
        buffered: usize,
    },
    /// Not HTTP/1 (or not framable); the scanner stops.
    Malformed {
        /// Stream offset of the head or byte at fault.
        offset: u64,
        /// What is wrong.
        reason: String,
    },
    /// A bound was hit.
    LimitReached {
        /// Stream offset where it was hit.
        offset: u64,
        /// Which one.
        limit: HttpLimit,
    },
}

/// Where a chunked body is (RFC 9112 §7.1).
#[derive(Debug, Clone)]
enum Chunk {
    /// Reading a chunk-size line (bytes so far, bounded).
    SizeLine(Vec<u8>),
    /// Inside chunk data.
    Data(u64),
    /// After chunk data: expecting CRLF (whether the CR was seen).
    DataEnd(bool),
    /// Reading trailer lines: current line length, whether it starts with CR, total bytes.
    Trailers {
        line_len: usize,
        starts_cr: bool,
        total: usize,
    },
}

#[derive(Debug, Clone)]
enum Framing {
    Length(u64),
    Chunked(Chunk),
    UntilClose,
}

#[derive(Debug, Clone)]
struct Body {
    head_offset: u64,
    framing: Framing,
    excerpt: Vec<u8>,
    seen: u64,
    reported: bool,
    chunked: bool,
    declared_len: Option<u64>,
}

impl Body {
    fn event(&self, complete: bool) -> HttpEvent {
        if self.reported {
            HttpEvent::BodyEnd {
                head_offset: self.head_offset,
                body_len: self.seen,
                complete,
            }
        } else {
            HttpEvent::Body(HttpBody {
                head_offset: self.head_offset,
                excerpt: self.excerpt.clone(),
                body_len_seen: self.seen,
                complete,
                chunked: self.chunked,
                declared_len: self.declared_len,
            })
        }
    }
}

#[derive(Debug, Clone)]
enum State {
    Head,
    Body(Body),
    /// Not HTTP/1 any more (protocol switch); bytes are only counted.
    Opaque,
    /// Gave up, or [`HttpScanner::finish`] was called.
    Stopped,
}

/// Result of one step over body bytes.
enum Step {
    /// Consumed this many bytes; the body goes on.
    Continue(usize),
    /// Consumed this many bytes; the body ended.
    Done(usize),
    /// Stop with this event.
    Fail(HttpEvent),
}

/// Incremental HTTP/1.x scanner for one direction of a stream.
#[derive(Debug, Clone)]
pub struct HttpScanner {
    role: HttpRole,
    limits: HttpLimits,
    state: State,
    /// Stream offset of the next byte to be fed.
    offset: u64,
    /// The head being collected (at most `limits.max_head_len`).
    head: Vec<u8>,
    /// Stream offset of `head[0]`.
    head_offset: u64,
    /// Where to resume looking for the blank line in `head`.
    scan_from: usize,
    /// Methods of requests whose responses have not started yet (responses only).
    pending: VecDeque<String>,
    /// Events produced outside `feed` (by `expect_response_to`), returned by the next call.
    queued: Vec<HttpEvent>,
}

impl HttpScanner {
    /// A scanner for the client-to-server direction with default limits.
    pub fn requests() -> Self {
        Self::with_limits(HttpRole::Requests, HttpLimits::default())
    }

    /// A scanner for the server-to-client direction with default limits.
    pub fn responses() -> Self {
        Self::with_limits(HttpRole::Responses, HttpLimits::default())
    }

    /// A scanner with explicit limits.
    pub fn with_limits(role: HttpRole, limits: HttpLimits) -> Self {
        HttpScanner {
            role,
            limits,
            state: State::Head,
            offset: 0,
            head: Vec::new(),
            head_offset: 0,
            scan_from: 0,
            pending: VecDeque::new(),
            queued: Vec::new(),
        }
    }

    /// Which direction this scanner reads.
    pub fn role(&self) -> HttpRole {
        self.role
    }

    /// Stream offset of the next byte expected.
    pub fn stream_offset(&self) -> u64 {
        self.offset
    }

    /// Whether the scanner stopped (malformed input, a hard limit, or `finish`).
    pub fn is_stopped(&self) -> bool {
        matches!(self.state, State::Stopped)
    }

    /// Responses only: the next response (in order) answers a request with this method, so
    /// HEAD responses have no body and a 2xx to CONNECT switches protocols.
    pub fn expect_response_to(&mut self, method: &str) {
        if self.pending.len() >= self.limits.max_pending_requests {
            self.pending.pop_front();
            self.queued.push(HttpEvent::LimitReached {
                offset: self.offset,
                limit: HttpLimit::PendingRequests {
                    max: self.limits.max_pending_requests,
                },
            });
        }
        if self.limits.max_pending_requests > 0 {
            self.pending.push_back(method.to_ascii_uppercase());
        }
    }

    /// Tells the scanner the connection switched protocols (e.g. the response scanner reported
    /// a 101): the rest of this direction is not parsed.
    pub fn protocol_switched(&mut self) {
        if !matches!(self.state, State::Stopped) {
            self.state = State::Opaque;
        }
    }

    /// Feeds the next contiguous bytes of this direction; returns what they completed.
    pub fn feed(&mut self, data: &[u8]) -> Vec<HttpEvent> {
        let mut ev = std::mem::take(&mut self.queued);
        let mut rest = data;
        while !rest.is_empty() {
            let used = match self.state {
                State::Opaque | State::Stopped => rest.len(),
                State::Head => self.feed_head(rest, &mut ev),
                State::Body(_) => self.feed_body(rest, &mut ev),
            };
            // Every step consumes at least one byte, so this loop ends.
            debug_assert!(used > 0);
            let used = used.clamp(1, rest.len());
            self.offset = self.offset.saturating_add(used as u64);
            rest = rest.get(used..).unwrap_or(&[]);
        }
        ev
    }

    /// The stream ended: flushes a body running to the end of the stream (complete), a body cut
    /// short (incomplete), or reports a head cut short. The scanner stops.
    pub fn finish(&mut self) -> Vec<HttpEvent> {
        let mut ev = std::mem::take(&mut self.queued);
        match std::mem::replace(&mut self.state, State::Stopped) {
            State::Head if !self.head.is_empty() => ev.push(HttpEvent::IncompleteHead {
                offset: self.head_offset,
                buffered: self.head.len(),
            }),
            State::Body(b) => {
                let complete = matches!(b.framing, Framing::UntilClose);
                ev.push(b.event(complete));
            }
            _ => {}
        }
        self.head = Vec::new();
        ev
    }

    fn stop(&mut self, ev: &mut Vec<HttpEvent>, event: HttpEvent) {
        ev.push(event);
        self.state = State::Stopped;
        self.head = Vec::new();
    }

    /// Collects head bytes; returns how many bytes of `data` were used.
    fn feed_head(&mut self, data: &[u8], ev: &mut Vec<HttpEvent>) -> usize {
        if self.head.is_empty() {
            // RFC 9112 §2.2: ignore empty lines before a start line (also stray CRLF after a
            // body).
            let skip = data
                .iter()
                .position(|&b| b != b'\r' && b != b'\n')
                .unwrap_or(data.len());
            if skip > 0 {
                return skip;
            }
            self.head_offset = self.offset;
            self.scan_from = 0;
        }
        let room = self.limits.max_head_len.saturating_sub(self.head.len());
        if room == 0 {
            let offset = self.head_offset;
            let max = self.limits.max_head_len;
            self.stop(
                ev,
                HttpEvent::LimitReached {
                    offset,
                    limit: HttpLimit::HeadTooLong { max },
                },
            );
            return data.len();
        }
        let take = room.min(data.len());
        let before = self.head.len();
        self.head
            .extend_from_slice(data.get(..take).unwrap_or(data));
        let Some(end) = self.find_head_end() else {
            return take;
        };
        // Bytes after the blank line belong to the body or the next message.
        let used = end.saturating_sub(before);
        self.head.truncate(end);
        let head = std::mem::take(&mut self.head);
        self.on_head(&head, ev);
        // Keep the allocation for the next head.
        if matches!(self.state, State::Head | State::Body(_)) {
            self.head = head;
            self.head.clear();
        }
        used
    }

    /// Looks for the blank line ending the head (`\n\n` or `\n\r\n`); returns the head length.
    fn find_head_end(&mut self) -> Option<usize> {
        let buf = &self.head;
        let mut i = self.scan_from;
        while let Some(rel) = buf
            .get(i..)
            .and_then(|s| s.iter().position(|&b| b == b'\n'))
        {
            let nl = i.saturating_add(rel);
            match (buf.get(nl.saturating_add(1)), buf.get(nl.saturating_add(2))) {
                (Some(b'\n'), _) => return Some(nl.saturating_add(2)),
                (Some(b'\r'), Some(b'\n')) => return Some(nl.saturating_add(3)),
                (None, _) | (Some(b'\r'), None) => {
                    // Not decidable yet: resume at this newline next time.
                    self.scan_from = nl;
                    return None;
                }
                _ => i = nl.saturating_add(1),
            }
        }
        self.scan_from = buf.len();
        None
    }

    fn on_head(&mut self, head: &[u8], ev: &mut Vec<HttpEvent>) {
        let offset = self.head_offset;
        let max_headers = self.limits.max_headers;
        let parsed = match self.role {
            HttpRole::Requests => parse_request_head(head, offset, max_headers)
                .map(|r| self.after_request_head(r, ev)),
            HttpRole::Responses => parse_response_head(head, offset, max_headers)
                .map(|r| self.after_response_head(r, ev)),
        };
        match parsed {
            Ok(()) => {}
            Err(HeadError::TooManyHeaders) => self.stop(
                ev,
                HttpEvent::LimitReached {
                    offset,
                    limit: HttpLimit::TooManyHeaders { max: max_headers },
                },
            ),
            Err(HeadError::Invalid(reason)) => {
                self.stop(ev, HttpEvent::Malformed { offset, reason })
            }
        }
    }

    fn after_request_head(&mut self, r: RequestHead, ev: &mut Vec<HttpEvent>) {
        let offset = r.stream_offset;
        let head_end = offset.saturating_add(r.head_len as u64);
        let connect = r.method.eq_ignore_ascii_case("CONNECT");
        let framing = match (transfer_coding(&r.headers), content_length(&r.headers)) {
            (TransferCoding::Chunked, cl) => Ok(Some((
                Framing::Chunked(Chunk::SizeLine(Vec::new())),
                cl.ok().flatten(),
            ))),
            // RFC 9112 §6.3 item 4: a request with another final coding cannot be framed.
            (TransferCoding::NotChunked, _) => {
                Err("request Transfer-Encoding does not end with chunked".to_string())
            }
            (TransferCoding::Absent, Ok(Some(n))) => Ok(Some((Framing::Length(n), Some(n)))),
            (TransferCoding::Absent, Ok(None)) => Ok(None),
            (TransferCoding::Absent, Err(e)) => Err(e),
        };
        ev.push(HttpEvent::RequestHead(r));
        match framing {
            Err(reason) => self.stop(ev, HttpEvent::Malformed { offset, reason }),
            Ok(_) if connect => {
                ev.push(HttpEvent::ProtocolSwitch { offset: head_end });
                self.state = State::Opaque;
            }
            Ok(None) => self.state = State::Head,
            Ok(Some((framing, declared))) => self.start_body(offset, framing, declared, ev),
        }
    }

    fn after_response_head(&mut self, r: ResponseHead, ev: &mut Vec<HttpEvent>) {
        let offset = r.stream_offset;
        let head_end = offset.saturating_add(r.head_len as u64);
        let status = r.status;
        let interim = (100..200).contains(&status) && status != 101;
        let method = if interim {
            None
        } else {
            self.pending.pop_front()
        };
        let is_head = method.as_deref() == Some("HEAD");
        let is_connect = method.as_deref() == Some("CONNECT");
        let framing = if interim || status == 204 || status == 304 || is_head || status == 101 {
            Ok(None)
        } else {
            match (transfer_coding(&r.headers), content_length(&r.headers)) {
                (TransferCoding::Chunked, cl) => Ok(Some((
                    Framing::Chunked(Chunk::SizeLine(Vec::new())),
                    cl.ok().flatten(),
                ))),
                // RFC 9112 §6.3 item 4: read until the connection closes.
                (TransferCoding::NotChunked, cl) => {
                    Ok(Some((Framing::UntilClose, cl.ok().flatten())))
                }
                (TransferCoding::Absent, Ok(Some(n))) => Ok(Some((Framing::Length(n), Some(n)))),
                (TransferCoding::Absent, Ok(None)) => Ok(Some((Framing::UntilClose, None))),
                (TransferCoding::Absent, Err(e)) => Err(e),
            }
        };
        ev.push(HttpEvent::ResponseHead(r));
        let switch = status == 101 || (is_connect && (200..300).contains(&status));
        match framing {
            Err(reason) => self.stop(ev, HttpEvent::Malformed { offset, reason }),
            Ok(_) if switch => {
                ev.push(HttpEvent::ProtocolSwitch { offset: head_end });
                self.state = State::Opaque;
            }
            Ok(None) => self.state = State::Head,
            Ok(Some((framing, declared))) => self.start_body(offset, framing, declared, ev),
        }
    }

    fn start_body(
        &mut self,
        head_offset: u64,
        framing: Framing,
        declared_len: Option<u64>,
        ev: &mut Vec<HttpEvent>,
    ) {
        let body = Body {
            head_offset,
            chunked: matches!(framing, Framing::Chunked(_)),
            framing,
            excerpt: Vec::new(),
            seen: 0,
            reported: false,
            declared_len,
        };
        if matches!(body.framing, Framing::Length(0)) {
            ev.push(body.event(true));
            self.state = State::Head;
        } else {
            self.state = State::Body(body);
        }
    }

    /// Consumes body bytes; returns how many bytes of `data` were used.
    fn feed_body(&mut self, data: &[u8], ev: &mut Vec<HttpEvent>) -> usize {
        let State::Body(body) = &mut self.state else {
            return data.len();
        };
        let step = body_step(body, data, self.offset, &self.limits, ev);
        match step {
            Step::Continue(n) => n,
            Step::Done(n) => {
                ev.push(body.event(true));
                self.state = State::Head;
                n
            }
            Step::Fail(e) => {
                self.stop(ev, e);
                data.len()
            }
        }
    }
}

/// Takes body data bytes: fills the excerpt, emitting the early `Body` event first if the
/// excerpt is already full. Returns how many bytes of `data` (at most `max`) were taken.
fn take_data(
    body: &mut Body,
    data: &[u8],
    max: u64,
    limits: &HttpLimits,
    ev: &mut Vec<HttpEvent>,
) -> usize {
    let avail = usize::try_from(max).unwrap_or(usize::MAX).min(data.len());
    if avail == 0 {
        return 0;
    }
    let room = limits.body_excerpt_len.saturating_sub(body.excerpt.len());
    let n = if room == 0 {
        if !body.reported {
            // A body byte that does not fit: report the excerpt now.
            ev.push(body.event(false));
            body.reported = true;
        }
        avail
    } else {
        // Stop exactly when the excerpt is full, so the early report does not depend on how
        // the stream was chunked.
        let n = avail.min(room);
        body.excerpt.extend_from_slice(data.get(..n).unwrap_or(&[]));
        n
    };
    body.seen = body.seen.saturating_add(n as u64);
    n
}

fn body_step(
    body: &mut Body,
    data: &[u8],
    offset: u64,
    limits: &HttpLimits,
    ev: &mut Vec<HttpEvent>,
) -> Step {
    let malformed = |at: usize, reason: &str| {
        Step::Fail(HttpEvent::Malformed {
            offset: offset.saturating_add(at as u64),
            reason: reason.to_string(),
        })
    };
    match &mut body.framing {
        Framing::UntilClose => {
            let n = take_data(body, data, u64::MAX, limits, ev);
            Step::Continue(n)
        }
        Framing::Length(remaining) => {
            let rem = *remaining;
            let n = take_data(body, data, rem, limits, ev);
            let left = rem.saturating_sub(n as u64);
            if let Framing::Length(r) = &mut body.framing {
                *r = left;
            }
            if left == 0 {
                Step::Done(n)
            } else {
                Step::Continue(n)
            }
        }
        Framing::Chunked(Chunk::Data(remaining)) => {
            let rem = *remaining;
            let n = take_data(body, data, rem, limits, ev);
            let left = rem.saturating_sub(n as u64);
            body.framing = Framing::Chunked(if left == 0 {
                Chunk::DataEnd(false)
            } else {
                Chunk::Data(left)
            });
            Step::Continue(n)
        }
        Framing::Chunked(Chunk::DataEnd(seen_cr)) => match data.first() {
            Some(b'\r') if !*seen_cr => {
                *seen_cr = true;
                Step::Continue(1)
            }
            Some(b'\n') => {
                body.framing = Framing::Chunked(Chunk::SizeLine(Vec::new()));
                Step::Continue(1)
            }
            _ => malformed(0, "chunk data not followed by CRLF"),
        },
        Framing::Chunked(Chunk::SizeLine(line)) => {
            let nl = data.iter().position(|&b| b == b'\n');
            let part = data.get(..nl.unwrap_or(data.len())).unwrap_or(&[]);
            if line.len().saturating_add(part.len()) > limits.max_chunk_line_len {
                // Report where the line started, whatever the chunking of the stream.
                return Step::Fail(HttpEvent::LimitReached {
                    offset: offset.saturating_sub(line.len() as u64),
                    limit: HttpLimit::ChunkLineTooLong {
                        max: limits.max_chunk_line_len,
                    },
                });
            }
            line.extend_from_slice(part);
            let Some(nl) = nl else {
                return Step::Continue(data.len());
            };
            let text = line.strip_suffix(b"\r").unwrap_or(line);
            let Some(size) = parse_chunk_size(text) else {
                return malformed(nl, "invalid chunk size line");
            };
            body.framing = Framing::Chunked(if size == 0 {
                Chunk::Trailers {
                    line_len: 0,
                    starts_cr: false,
                    total: 0,
                }
            } else {
                Chunk::Data(size)
            });
            Step::Continue(nl.saturating_add(1))
        }
        Framing::Chunked(Chunk::Trailers {
            line_len,
            starts_cr,
            total,
        }) => {
            let nl = data.iter().position(|&b| b == b'\n');
            let part = data.get(..nl.unwrap_or(data.len())).unwrap_or(&[]);
            if *line_len == 0 {
                if let Some(&first) = part.first() {
                    *starts_cr = first == b'\r';
                }
            }
            *line_len = line_len.saturating_add(part.len());
            let used = nl.map_or(data.len(), |i| i.saturating_add(1));
            let section_start = offset.saturating_sub(*total as u64);
            *total = total.saturating_add(used);
            if *total > limits.max_trailer_len {
                // Report where the trailer section started, whatever the chunking.
                return Step::Fail(HttpEvent::LimitReached {
                    offset: section_start,
                    limit: HttpLimit::TrailersTooLong {
                        max: limits.max_trailer_len,
                    },
                });
            }
            if nl.is_none() {
                return Step::Continue(used);
            }
            let blank = *line_len == 0 || (*line_len == 1 && *starts_cr);
            *line_len = 0;
            *starts_cr = false;
            if blank {
                Step::Done(used)
            } else {
                Step::Continue(used)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::parse::HttpVersion;
    use super::*;
    use proptest::prelude::*;

    /// censorship-detection/testdata/airtel_example.pcap (lhmerino/censorship-detection,
    /// BSD-3-Clause), tcp.stream 0, frame 4: the client's request.
    const AIRTEL_CLIENT: &[u8] = include_bytes!("testdata/airtel_stream0_client.bin");
    /// Same stream, frames 6-9: the server's 200 response with Content-Length 10701.
    const AIRTEL_SERVER: &[u8] = include_bytes!("testdata/airtel_stream0_server.bin");
    /// suricata-verify/tests/bug-4810/pppoe-session-http.pcap (OISF/suricata-verify, MIT),
    /// tcp.stream 0, frame 4: GET / for www.google.nl.
    const GOOGLE_CLIENT: &[u8] = include_bytes!("testdata/suricata_pppoe_stream0_client.bin");
    /// Same stream, frames 6-21: a chunked 200 response (14796 body bytes).
    const GOOGLE_SERVER: &[u8] = include_bytes!("testdata/suricata_pppoe_stream0_server.bin");

    fn whole(mut s: HttpScanner, data: &[u8]) -> Vec<HttpEvent> {
        let mut ev = s.feed(data);
        ev.extend(s.finish());
        ev
    }

    fn bytewise(mut s: HttpScanner, data: &[u8]) -> Vec<HttpEvent> {
        let mut ev: Vec<HttpEvent> = data
            .iter()
            .flat_map(|b| s.feed(std::slice::from_ref(b)))
            .collect();
        ev.extend(s.finish());
        ev
    }

    fn chunked(mut s: HttpScanner, data: &[u8], cuts: &[usize]) -> Vec<HttpEvent> {
        let mut cuts: Vec<usize> = cuts.iter().map(|&c| c.min(data.len())).collect();
        cuts.sort_unstable();
        let mut ev = Vec::new();
        let mut prev = 0;
        for c in cuts.into_iter().chain([data.len()]) {
            ev.extend(s.feed(&data[prev..c]));
            prev = c;
        }
        ev.extend(s.finish());
        ev
    }

    fn small_excerpt(role: HttpRole, n: usize) -> HttpScanner {
        HttpScanner::with_limits(
            role,
            HttpLimits {
                body_excerpt_len: n,
                ..HttpLimits::default()
            },
        )
    }

    /// Limits small enough for generated streams to hit every one of them.
    fn tiny_limits(role: HttpRole) -> HttpScanner {
        let mut s = HttpScanner::with_limits(
            role,
            HttpLimits {
                max_head_len: 60,
                max_headers: 2,
                body_excerpt_len: 3,
                max_chunk_line_len: 4,
                max_trailer_len: 8,
                max_pending_requests: 1,
            },
        );
        s.expect_response_to("GET");
        s.expect_response_to("HEAD");
        s
    }

    #[test]
    fn real_request() {
        let ev = whole(HttpScanner::requests(), AIRTEL_CLIENT);
        let [HttpEvent::RequestHead(r)] = &ev[..] else {
            panic!("{ev:?}")
        };
        assert_eq!(r.method, "GET");
        assert_eq!(r.target, "/");
        assert_eq!(r.host.as_deref(), Some("youporn.com"));
        assert_eq!(r.version, HttpVersion::Http11);
        assert_eq!(r.head_len, AIRTEL_CLIENT.len());
        assert_eq!(r.headers.len(), 3);
    }

    #[test]
    fn real_response_with_content_length() {
        let ev = whole(HttpScanner::responses(), AIRTEL_SERVER);
        let HttpEvent::ResponseHead(h) = &ev[0] else {
            panic!("{ev:?}")
        };
        assert_eq!(h.status, 200);
        assert_eq!(h.reason, "OK");
        assert_eq!(h.server().as_deref(), Some("Apache/2.4.38 (Debian)"));
        assert_eq!(h.content_length(), Some(10701));
        assert_eq!(h.head_len, 255);
        let HttpEvent::Body(b) = &ev[1] else {
            panic!("{ev:?}")
        };
        assert_eq!(b.excerpt.len(), DEFAULT_EXCERPT);
        assert_eq!(&b.excerpt[..], &AIRTEL_SERVER[255..255 + DEFAULT_EXCERPT]);
        assert!(!b.complete);
        assert_eq!(b.declared_len, Some(10701));
        assert_eq!(b.body_len_seen, DEFAULT_EXCERPT as u64);
        assert_eq!(
            ev[2],
            HttpEvent::BodyEnd {
                head_offset: 0,
                body_len: 10701,
                complete: true
            }
        );
        assert_eq!(ev.len(), 3);
        assert_eq!(bytewise(HttpScanner::responses(), AIRTEL_SERVER), ev);
    }

    const DEFAULT_EXCERPT: usize = super::super::parse::DEFAULT_BODY_EXCERPT_LEN;

    #[test]
    fn real_chunked_response() {
        let mut s = HttpScanner::responses();
        s.expect_response_to("GET");
        let ev = whole(s, GOOGLE_SERVER);
        let HttpEvent::ResponseHead(h) = &ev[0] else {
            panic!("{ev:?}")
        };
        assert_eq!(h.transfer_encoding().as_deref(), Some("chunked"));
        assert_eq!(h.server().as_deref(), Some("gws"));
        let HttpEvent::Body(b) = &ev[1] else {
            panic!("{ev:?}")
        };
        assert!(b.chunked);
        assert!(b.excerpt.starts_with(b"<!doctype html>"));
        assert_eq!(b.excerpt.len(), DEFAULT_EXCERPT);
        assert_eq!(
            ev[2],
            HttpEvent::BodyEnd {
                head_offset: 0,
                body_len: 14796,
                complete: true
            }
        );
        assert_eq!(ev.len(), 3);
        let req = whole(HttpScanner::requests(), GOOGLE_CLIENT);
        assert!(
            matches!(&req[..], [HttpEvent::RequestHead(r)] if r.host.as_deref() == Some("www.google.nl"))
        );
    }

    #[test]
    fn head_split_at_every_position() {
        let stream: &[u8] =
            b"HTTP/1.1 403 Forbidden\r\nServer: censor\r\nContent-Length: 4\r\n\r\nnope";
        let expected = whole(HttpScanner::responses(), stream);
        assert_eq!(expected.len(), 2);
        for cut in 0..=stream.len() {
            assert_eq!(
                chunked(HttpScanner::responses(), stream, &[cut]),
                expected,
                "cut {cut}"
            );
        }
        assert_eq!(bytewise(HttpScanner::responses(), stream), expected);
    }

    #[test]
    fn every_prefix_is_safe_and_consistent() {
        let synthetic: &[u8] = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\
5\r\nhello\r\n0\r\n\r\nHTTP/1.1 301 Moved\r\nLocation: /x\r\nContent-Length: 2\r\n\r\nok";
        for (role, stream) in [
            (HttpRole::Responses, synthetic),
            (HttpRole::Responses, &GOOGLE_SERVER[..1500]),
            (HttpRole::Requests, AIRTEL_CLIENT),
        ] {
            let mut full = HttpScanner::with_limits(role, HttpLimits::default());
            let full = full.feed(stream);
            for cut in 0..stream.len() {
                let mut s = HttpScanner::with_limits(role, HttpLimits::default());
                let part = s.feed(&stream[..cut]);
                assert!(full.starts_with(&part), "cut {cut}: {part:?}");
                // Ending the stream there reports the cut.
                let end = s.finish();
                assert!(end.len() <= 1, "cut {cut}: {end:?}");
                if let Some(HttpEvent::Body(b)) = end.first() {
                    assert!(!b.complete);
                }
            }
        }
    }

    #[test]
    fn pipelined_requests() {
        let stream: &[u8] =
            b"\r\nGET /a HTTP/1.1\r\nHost: a\r\n\r\nPOST /b HTTP/1.1\r\nHost: b\r\n\
Content-Length: 5\r\n\r\nhello\r\nPUT /c HTTP/1.0\nHost: c\nTransfer-Encoding: chunked\n\n\
3\nabc\n0\n\nGET /d HTTP/1.1\r\n\r\n";
        let ev = whole(HttpScanner::requests(), stream);
        let kinds: Vec<String> = ev
            .iter()
            .map(|e| match e {
                HttpEvent::RequestHead(r) => format!("{} {}", r.method, r.target),
                HttpEvent::Body(b) => format!("body {:?}", String::from_utf8_lossy(&b.excerpt)),
                other => format!("{other:?}"),
            })
            .collect();
        assert_eq!(
            kinds,
            [
                "GET /a",
                "POST /b",
                "body \"hello\"",
                "PUT /c",
                "body \"abc\"",
                "GET /d"
            ]
        );
        let HttpEvent::RequestHead(a) = &ev[0] else {
            panic!()
        };
        assert_eq!(a.stream_offset, 2);
        let HttpEvent::RequestHead(c) = &ev[3] else {
            panic!()
        };
        assert_eq!(c.version, HttpVersion::Http10);
        assert_eq!(bytewise(HttpScanner::requests(), stream), ev);
    }

    #[test]
    fn chunked_body_with_extensions_and_trailers() {
        let stream: &[u8] = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\nContent-Encoding: gzip\r\n\r\n\
4;ext=1\r\nWiki\r\n5 \r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n0\r\nX-Trailer: 1\r\n\r\n\
HTTP/1.1 204 No Content\r\n\r\n";
        let ev = whole(HttpScanner::responses(), stream);
        let HttpEvent::Body(b) = &ev[1] else {
            panic!("{ev:?}")
        };
        assert_eq!(b.excerpt, b"Wikipedia in\r\n\r\nchunks.");
        assert!(b.complete && b.chunked);
        assert_eq!(b.body_len_seen, 23);
        assert!(matches!(&ev[2], HttpEvent::ResponseHead(h) if h.status == 204));
        assert_eq!(ev.len(), 3);
        assert_eq!(bytewise(HttpScanner::responses(), stream), ev);
        // With a tiny excerpt the body is reported early, then ended.
        let ev = whole(small_excerpt(HttpRole::Responses, 4), stream);
        assert!(matches!(&ev[1], HttpEvent::Body(b) if b.excerpt == b"Wiki" && !b.complete));
        assert_eq!(
            ev[2],
            HttpEvent::BodyEnd {
                head_offset: 0,
                body_len: 23,
                complete: true
            }
        );
        for cut in 0..stream.len() {
            assert_eq!(
                chunked(small_excerpt(HttpRole::Responses, 4), stream, &[cut]),
                ev
            );
        }
    }

    #[test]
    fn bad_chunks_are_malformed() {
        for (stream, at) in [
            (
                &b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"[..],
                50,
            ),
            (
                &b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabX"[..],
                52,
            ),
            (
                &b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\r\n"[..],
                48,
            ),
        ] {
            let ev = whole(HttpScanner::responses(), stream);
            let Some(HttpEvent::Malformed { offset, .. }) = ev.last() else {
                panic!("{ev:?}")
            };
            assert_eq!(*offset, at, "{ev:?}");
        }
    }

    #[test]
    fn chunk_line_and_trailer_limits() {
        let mut stream = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1".to_vec();
        stream.extend(vec![b';'; 5000]);
        let ev = whole(HttpScanner::responses(), &stream);
        assert!(matches!(
            ev.last(),
            Some(HttpEvent::LimitReached {
                offset: 47,
                limit: HttpLimit::ChunkLineTooLong { .. },
            })
        ));
        assert_eq!(bytewise(HttpScanner::responses(), &stream), ev);
        let mut stream = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n".to_vec();
        for _ in 0..2000 {
            stream.extend_from_slice(b"X-Pad: 0123456789\r\n");
        }
        let ev = whole(HttpScanner::responses(), &stream);
        assert!(matches!(
            ev.last(),
            Some(HttpEvent::LimitReached {
                offset: 50,
                limit: HttpLimit::TrailersTooLong { .. },
            })
        ));
        assert_eq!(bytewise(HttpScanner::responses(), &stream), ev);
    }

    #[test]
    fn response_bodies_depend_on_the_request() {
        let stream: &[u8] =
            b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n\
HTTP/1.1 304 Not Modified\r\nContent-Length: 99\r\n\r\n\
HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc";
        let mut s = HttpScanner::responses();
        s.expect_response_to("HEAD");
        s.expect_response_to("GET");
        s.expect_response_to("get");
        let ev = whole(s, stream);
        let statuses: Vec<String> = ev
            .iter()
            .map(|e| match e {
                HttpEvent::ResponseHead(h) => h.status.to_string(),
                HttpEvent::Body(b) => format!("body {}", b.body_len_seen),
                other => format!("{other:?}"),
            })
            .collect();
        assert_eq!(statuses, ["100", "200", "304", "200", "body 3"]);
    }

    #[test]
    fn body_until_close_and_truncated_bodies() {
        let stream: &[u8] =
            b"HTTP/1.0 200 OK\r\nContent-Type: text/html\r\n\r\n<html>blocked</html>";
        let ev = whole(HttpScanner::responses(), stream);
        assert!(
            matches!(&ev[1], HttpEvent::Body(b) if b.complete && b.excerpt == b"<html>blocked</html>" && b.declared_len.is_none())
        );
        // Content-Length promised more than arrived: incomplete at finish.
        let stream: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort";
        let ev = whole(HttpScanner::responses(), stream);
        assert!(matches!(&ev[1], HttpEvent::Body(b) if !b.complete && b.body_len_seen == 5));
        // Body reported early, then the stream is cut.
        let stream: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789";
        let ev = whole(small_excerpt(HttpRole::Responses, 4), stream);
        assert_eq!(
            ev[2],
            HttpEvent::BodyEnd {
                head_offset: 0,
                body_len: 10,
                complete: false
            }
        );
        // A head cut short.
        let ev = whole(HttpScanner::responses(), b"\r\nHTTP/1.1 200 OK\r\nServ");
        assert_eq!(
            ev,
            [HttpEvent::IncompleteHead {
                offset: 2,
                buffered: 21
            }]
        );
    }

    #[test]
    fn zero_length_and_no_body() {
        let ev = whole(
            HttpScanner::requests(),
            b"POST / HTTP/1.1\r\nContent-Length: 0\r\n\r\nGET / HTTP/1.1\r\n\r\n",
        );
        assert!(matches!(&ev[1], HttpEvent::Body(b) if b.complete && b.excerpt.is_empty()));
        assert!(matches!(&ev[2], HttpEvent::RequestHead(_)));
        assert_eq!(ev.len(), 3);
    }

    #[test]
    fn protocol_switches() {
        let ev = whole(
            HttpScanner::responses(),
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n\x81\x05hello",
        );
        assert_eq!(ev[1], HttpEvent::ProtocolSwitch { offset: 56 });
        assert_eq!(ev.len(), 2);
        let ev = whole(
            HttpScanner::requests(),
            b"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n\x16\x03\x01",
        );
        assert!(matches!(&ev[0], HttpEvent::RequestHead(r) if r.target == "example.com:443"));
        assert!(matches!(ev[1], HttpEvent::ProtocolSwitch { .. }));
        let mut s = HttpScanner::responses();
        s.expect_response_to("CONNECT");
        let ev = whole(
            s,
            b"HTTP/1.1 200 Connection established\r\n\r\n\x16\x03\x03",
        );
        assert!(matches!(ev[1], HttpEvent::ProtocolSwitch { offset: 39 }));
    }

    #[test]
    fn malformed_and_limits() {
        let ev = whole(
            HttpScanner::responses(),
            b"\x16\x03\x01\x02\x00\x01\x00\r\n\r\n",
        );
        assert!(matches!(ev[..], [HttpEvent::Malformed { offset: 0, .. }]));
        let ev = whole(
            HttpScanner::requests(),
            b"GET / HTTP/1.1\r\nContent-Length: 1, 2\r\n\r\n",
        );
        assert!(matches!(
            ev[..],
            [HttpEvent::RequestHead(_), HttpEvent::Malformed { .. }]
        ));
        let ev = whole(
            HttpScanner::requests(),
            b"POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n",
        );
        assert!(matches!(ev[1], HttpEvent::Malformed { .. }));
        let mut big = b"GET / HTTP/1.1\r\n".to_vec();
        big.extend(vec![b'a'; 20_000]);
        let mut s = HttpScanner::requests();
        let ev = s.feed(&big);
        assert_eq!(
            ev,
            [HttpEvent::LimitReached {
                offset: 0,
                limit: HttpLimit::HeadTooLong {
                    max: super::super::parse::DEFAULT_MAX_HEAD_LEN
                }
            }]
        );
        assert!(s.is_stopped());
        let mut many = b"GET / HTTP/1.1\r\n".to_vec();
        for i in 0..101 {
            many.extend(format!("X-{i}: v\r\n").as_bytes());
        }
        many.extend_from_slice(b"\r\n");
        let ev = whole(HttpScanner::requests(), &many);
        assert_eq!(
            ev,
            [HttpEvent::LimitReached {
                offset: 0,
                limit: HttpLimit::TooManyHeaders { max: 100 }
            }]
        );
    }

    #[test]
    fn pending_request_limit_is_reported() {
        let mut s = HttpScanner::with_limits(
            HttpRole::Responses,
            HttpLimits {
                max_pending_requests: 1,
                ..HttpLimits::default()
            },
        );
        s.expect_response_to("GET");
        s.expect_response_to("HEAD");
        let ev = s.feed(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n");
        assert!(matches!(
            ev[0],
            HttpEvent::LimitReached {
                limit: HttpLimit::PendingRequests { max: 1 },
                ..
            }
        ));
        // The remaining expectation is HEAD: no body.
        assert_eq!(ev.len(), 2);
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(
            bytes in proptest::collection::vec(any::<u8>(), 0..2000),
            cuts in proptest::collection::vec(0usize..2000, 0..8),
            excerpt in 0usize..16,
        ) {
            for role in [HttpRole::Requests, HttpRole::Responses] {
                let a = chunked(small_excerpt(role, excerpt), &bytes, &cuts);
                let b = chunked(small_excerpt(role, excerpt), &bytes, &[]);
                prop_assert_eq!(a, b);
            }
        }

        #[test]
        fn http_shaped_bytes_never_panic(
            parts in proptest::collection::vec(prop_oneof![
                Just(&b"HTTP/1.1 200 OK\r\n"[..]),
                Just(&b"GET / HTTP/1.1\r\n"[..]),
                Just(&b"Transfer-Encoding: chunked\r\n"[..]),
                Just(&b"Content-Length: 3\r\n"[..]),
                Just(&b"\r\n"[..]),
                Just(&b"5\r\n"[..]),
                Just(&b"0\r\n"[..]),
                Just(&b"abcde"[..]),
                Just(&b";x\n"[..]),
            ], 0..30),
            cuts in proptest::collection::vec(0usize..600, 0..8),
        ) {
            let stream: Vec<u8> = parts.concat();
            for role in [HttpRole::Requests, HttpRole::Responses] {
                let a = chunked(small_excerpt(role, 2), &stream, &cuts);
                let b = chunked(small_excerpt(role, 2), &stream, &[]);
                prop_assert_eq!(a, b);
                let a = chunked(tiny_limits(role), &stream, &cuts);
                let b = chunked(tiny_limits(role), &stream, &[]);
                prop_assert_eq!(a, b);
            }
        }

        #[test]
        fn real_streams_in_any_chunking(cuts in proptest::collection::vec(0usize..16000, 0..12)) {
            for (role, stream) in [
                (HttpRole::Requests, AIRTEL_CLIENT),
                (HttpRole::Responses, AIRTEL_SERVER),
                (HttpRole::Requests, GOOGLE_CLIENT),
                (HttpRole::Responses, GOOGLE_SERVER),
            ] {
                let a = chunked(HttpScanner::with_limits(role, HttpLimits::default()), stream, &cuts);
                let b = chunked(HttpScanner::with_limits(role, HttpLimits::default()), stream, &[]);
                prop_assert_eq!(a, b);
            }
        }
    }
}
