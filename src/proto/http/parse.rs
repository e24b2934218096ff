//! Decodes HTTP/1.x message heads (with `httparse`) into owned values and works out how each
//! message's body is delimited; it keeps no state and never reads a body (that is
//! [`super::scan::HttpScanner`]'s job).

#![cfg_attr(
    not(test),
    deny(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used)
)]

use serde::Serialize;

pub use super::scan::{HttpBody, HttpEvent, HttpLimit, HttpRole, HttpScanner};

/// Default for [`HttpLimits::max_head_len`]: bytes of one head (start line + headers + blank).
pub const DEFAULT_MAX_HEAD_LEN: usize = 16 * 1024;
/// Default for [`HttpLimits::max_headers`].
pub const DEFAULT_MAX_HEADERS: usize = 100;
/// Default for [`HttpLimits::body_excerpt_len`].
pub const DEFAULT_BODY_EXCERPT_LEN: usize = 4096;
/// Default for [`HttpLimits::max_chunk_line_len`]; RFC 9112 §7.1.1 allows chunk extensions but
/// sets no bound, real ones are a few bytes.
pub const DEFAULT_MAX_CHUNK_LINE_LEN: usize = 4096;
/// Default for [`HttpLimits::max_trailer_len`]: bytes of a chunked trailer section.
pub const DEFAULT_MAX_TRAILER_LEN: usize = 16 * 1024;
/// Default for [`HttpLimits::max_pending_requests`]: request methods remembered for responses.
pub const DEFAULT_MAX_PENDING_REQUESTS: usize = 256;
/// RFC 9110 §8.6: Content-Length digits accepted (19 decimal digits always fit in a u64).
const MAX_CONTENT_LENGTH_DIGITS: usize = 19;
/// RFC 9112 §2.3: the status line starts with "HTTP/1.x" followed by SP and a 3-digit code.
const STATUS_LINE_PREFIX_LEN: usize = 12;

/// Bounds applied by the scanner; each one hit is reported as an [`HttpEvent::LimitReached`]
/// (or, for the excerpt, by [`HttpBody::complete`] and [`HttpEvent::BodyEnd`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpLimits {
    /// Longest head accepted.
    pub max_head_len: usize,
    /// Most header fields per head.
    pub max_headers: usize,
    /// Bytes of each body kept in [`HttpBody::excerpt`] (after de-chunking).
    pub body_excerpt_len: usize,
    /// Longest chunk-size line (with extensions).
    pub max_chunk_line_len: usize,
    /// Longest chunked trailer section.
    pub max_trailer_len: usize,
    /// Request methods queued by [`HttpScanner::expect_response_to`]; the oldest is dropped
    /// beyond it.
    pub max_pending_requests: usize,
}

impl Default for HttpLimits {
    fn default() -> Self {
        HttpLimits {
            max_head_len: DEFAULT_MAX_HEAD_LEN,
            max_headers: DEFAULT_MAX_HEADERS,
            body_excerpt_len: DEFAULT_BODY_EXCERPT_LEN,
            max_chunk_line_len: DEFAULT_MAX_CHUNK_LINE_LEN,
            max_trailer_len: DEFAULT_MAX_TRAILER_LEN,
            max_pending_requests: DEFAULT_MAX_PENDING_REQUESTS,
        }
    }
}

/// HTTP/1 minor version (RFC 9112 §2.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum HttpVersion {
    /// HTTP/1.0
    Http10,
    /// HTTP/1.1
    Http11,
}

impl HttpVersion {
    fn from_minor(minor: u8) -> Self {
        if minor == 0 {
            HttpVersion::Http10
        } else {
            HttpVersion::Http11
        }
    }
}

/// One header field as sent (name case kept, value bytes untouched).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HttpHeader {
    /// Field name.
    pub name: String,
    /// Field value bytes (without surrounding whitespace).
    pub value: Vec<u8>,
}

/// Adds header lookups (names compared ignoring ASCII case) to a head type with a `headers`
/// field.
macro_rules! header_lookups {
    ($t:ty) => {
        impl $t {
            /// Value of the first field named `name`.
            pub fn header(&self, name: &str) -> Option<&[u8]> {
                self.headers
                    .iter()
                    .find(|h| h.name.eq_ignore_ascii_case(name))
                    .map(|h| h.value.as_slice())
            }

            /// Value of the first field named `name` as text (invalid UTF-8 replaced).
            pub fn header_str(&self, name: &str) -> Option<String> {
                self.header(name)
                    .map(|v| String::from_utf8_lossy(v).into_owned())
            }

            /// Values of every field named `name`, in order.
            pub fn header_values(&self, name: &str) -> Vec<&[u8]> {
                self.headers
                    .iter()
                    .filter(|h| h.name.eq_ignore_ascii_case(name))
                    .map(|h| h.value.as_slice())
                    .collect()
            }

            /// Content-Length if present and valid (all values equal, digits only).
            pub fn content_length(&self) -> Option<u64> {
                content_length(&self.headers).ok().flatten()
            }

            /// Transfer-Encoding (all fields joined with `, `).
            pub fn transfer_encoding(&self) -> Option<String> {
                joined(&self.headers, "transfer-encoding")
            }

            /// Content-Encoding (all fields joined with `, `); bodies are never decompressed.
            pub fn content_encoding(&self) -> Option<String> {
                joined(&self.headers, "content-encoding")
            }

            /// Content-Type.
            pub fn content_type(&self) -> Option<String> {
                self.header_str("content-type")
            }

            /// Connection (all fields joined with `, `).
            pub fn connection(&self) -> Option<String> {
                joined(&self.headers, "connection")
            }
        }
    };
}

fn joined(headers: &[HttpHeader], name: &str) -> Option<String> {
    let parts: Vec<String> = headers
        .iter()
        .filter(|h| h.name.eq_ignore_ascii_case(name))
        .map(|h| String::from_utf8_lossy(&h.value).into_owned())
        .collect();
    if parts.is_empty() {
        None
    } else {
        Some(parts.join(", "))
    }
}

/// A request head (RFC 9112 §3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RequestHead {
    /// Stream offset of the first byte of the request line.
    pub stream_offset: u64,
    /// Method as sent.
    pub method: String,
    /// Request target as sent (origin form path, absolute URI, authority or `*`).
    pub target: String,
    /// HTTP version.
    pub version: HttpVersion,
    /// Host header value, if any.
    pub host: Option<String>,
    /// Header fields in order (at most [`HttpLimits::max_headers`]).
    pub headers: Vec<HttpHeader>,
    /// Head length in bytes, blank line included.
    pub head_len: usize,
}

header_lookups!(RequestHead);

/// A response head (RFC 9112 §4).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ResponseHead {
    /// Stream offset of the first byte of the status line.
    pub stream_offset: u64,
    /// HTTP version.
    pub version: HttpVersion,
    /// Status code.
    pub status: u16,
    /// Reason phrase as sent (invalid UTF-8 replaced).
    pub reason: String,
    /// Header fields in order (at most [`HttpLimits::max_headers`]).
    pub headers: Vec<HttpHeader>,
    /// Head length in bytes, blank line included.
    pub head_len: usize,
}

header_lookups!(ResponseHead);

impl ResponseHead {
    /// Location (redirect target).
    pub fn location(&self) -> Option<String> {
        self.header_str("location")
    }
    /// Server.
    pub fn server(&self) -> Option<String> {
        self.header_str("server")
    }
    /// Via (all fields joined with `, `).
    pub fn via(&self) -> Option<String> {
        joined(&self.headers, "via")
    }
    /// Refresh (a non-standard redirect used by some blockpages).
    pub fn refresh(&self) -> Option<String> {
        self.header_str("refresh")
    }
    /// Whether the status is a redirect (3xx with a Location).
    pub fn is_redirect(&self) -> bool {
        (300..400).contains(&self.status) && self.header("location").is_some()
    }
}

/// Why a head could not be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum HeadError {
    /// More header fields than allowed.
    TooManyHeaders,
    /// Not a valid head.
    Invalid(String),
}

fn convert_headers(headers: &[httparse::Header<'_>]) -> Vec<HttpHeader> {
    headers
        .iter()
        .map(|h| HttpHeader {
            name: h.name.to_string(),
            value: h.value.to_vec(),
        })
        .collect()
}

fn map_err(e: httparse::Error) -> HeadError {
    match e {
        httparse::Error::TooManyHeaders => HeadError::TooManyHeaders,
        other => HeadError::Invalid(other.to_string()),
    }
}

/// Parses a complete request head (`bytes` ends with the blank line).
pub(crate) fn parse_request_head(
    bytes: &[u8],
    stream_offset: u64,
    max_headers: usize,
) -> Result<RequestHead, HeadError> {
    let mut storage = vec![httparse::EMPTY_HEADER; max_headers];
    let mut req = httparse::Request::new(&mut storage);
    let mut config = httparse::ParserConfig::default();
    config.allow_multiple_spaces_in_request_line_delimiters(true);
    match config.parse_request(&mut req, bytes).map_err(map_err)? {
        httparse::Status::Complete(n) if n == bytes.len() => {}
        _ => {
            return Err(HeadError::Invalid(
                "head does not end at the blank line".into(),
            ))
        }
    }
    let headers = convert_headers(req.headers);
    let host = headers
        .iter()
        .find(|h| h.name.eq_ignore_ascii_case("host"))
        .map(|h| String::from_utf8_lossy(&h.value).into_owned());
    Ok(RequestHead {
        stream_offset,
        method: req.method.unwrap_or_default().to_string(),
        target: req.path.unwrap_or_default().to_string(),
        version: HttpVersion::from_minor(req.version.unwrap_or(1)),
        host,
        headers,
        head_len: bytes.len(),
    })
}

/// Parses a complete response head (`bytes` ends with the blank line).
pub(crate) fn parse_response_head(
    bytes: &[u8],
    stream_offset: u64,
    max_headers: usize,
) -> Result<ResponseHead, HeadError> {
    let mut storage = vec![httparse::EMPTY_HEADER; max_headers];
    let mut resp = httparse::Response::new(&mut storage);
    let mut config = httparse::ParserConfig::default();
    config
        .allow_spaces_after_header_name_in_responses(true)
        .allow_obsolete_multiline_headers_in_responses(true)
        .allow_multiple_spaces_in_response_status_delimiters(true);
    match config.parse_response(&mut resp, bytes).map_err(map_err)? {
        httparse::Status::Complete(n) if n == bytes.len() => {}
        _ => {
            return Err(HeadError::Invalid(
                "head does not end at the blank line".into(),
            ))
        }
    }
    Ok(ResponseHead {
        stream_offset,
        version: HttpVersion::from_minor(resp.version.unwrap_or(1)),
        status: resp.code.unwrap_or_default(),
        reason: raw_reason(bytes),
        headers: convert_headers(resp.headers),
        head_len: bytes.len(),
    })
}

/// The reason phrase straight from the status line: httparse replaces a reason with bytes it
/// does not accept by an empty string, and blockpages are not always tidy.
fn raw_reason(head: &[u8]) -> String {
    let line_end = head.iter().position(|&b| b == b'\n').unwrap_or(head.len());
    let line = head.get(..line_end).unwrap_or(&[]);
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let after = line.get(STATUS_LINE_PREFIX_LEN..).unwrap_or(&[]);
    let start = after.iter().position(|&b| b != b' ').unwrap_or(after.len());
    String::from_utf8_lossy(after.get(start..).unwrap_or(&[])).into_owned()
}

/// All Content-Length values, checked (RFC 9110 §8.6, RFC 9112 §6.3 item 5): `Ok(None)` when
/// absent, `Err` when any value is not digits or values differ.
pub(crate) fn content_length(headers: &[HttpHeader]) -> Result<Option<u64>, String> {
    let mut found: Option<u64> = None;
    for h in headers
        .iter()
        .filter(|h| h.name.eq_ignore_ascii_case("content-length"))
    {
        for part in h.value.split(|&b| b == b',') {
            let part = part.trim_ascii();
            if part.is_empty()
                || part.len() > MAX_CONTENT_LENGTH_DIGITS
                || !part.iter().all(u8::is_ascii_digit)
            {
                return Err(format!(
                    "invalid Content-Length {:?}",
                    String::from_utf8_lossy(&h.value)
                ));
            }
            let n = part.iter().fold(0u64, |acc, &d| {
                acc.saturating_mul(10).saturating_add(u64::from(d - b'0'))
            });
            match found {
                Some(prev) if prev != n => {
                    return Err(format!("conflicting Content-Length values {prev} and {n}"));
                }
                _ => found = Some(n),
            }
        }
    }
    Ok(found)
}

/// What Transfer-Encoding says about framing (RFC 9112 §6.1, §6.3 items 3-4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TransferCoding {
    /// No Transfer-Encoding field.
    Absent,
    /// The final coding is chunked.
    Chunked,
    /// Present, but the final coding is not chunked.
    NotChunked,
}

pub(crate) fn transfer_coding(headers: &[HttpHeader]) -> TransferCoding {
    let mut last: Option<Vec<u8>> = None;
    let mut present = false;
    for h in headers
        .iter()
        .filter(|h| h.name.eq_ignore_ascii_case("transfer-encoding"))
    {
        present = true;
        for part in h.value.split(|&b| b == b',') {
            let coding = part.trim_ascii();
            if !coding.is_empty() {
                last = Some(coding.to_ascii_lowercase());
            }
        }
    }
    match (present, last.as_deref()) {
        (false, _) => TransferCoding::Absent,
        (true, Some(b"chunked")) => TransferCoding::Chunked,
        (true, _) => TransferCoding::NotChunked,
    }
}

/// Parses a chunk-size line without its line ending (RFC 9112 §7.1): hex digits, optional
/// whitespace, optional `;` extensions.
pub(crate) fn parse_chunk_size(line: &[u8]) -> Option<u64> {
    let digits_end = line
        .iter()
        .position(|b| !b.is_ascii_hexdigit())
        .unwrap_or(line.len());
    let (digits, rest) = line.split_at_checked(digits_end)?;
    // 16 hex digits fill a u64; more would overflow.
    if digits.is_empty() || digits.len() > 16 {
        return None;
    }
    let rest = rest.trim_ascii_start();
    if !(rest.is_empty() || rest.first() == Some(&b';')) {
        return None;
    }
    digits.iter().try_fold(0u64, |acc, &d| {
        let v = char::from(d).to_digit(16)?;
        Some((acc << 4) | u64::from(v))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_head() {
        let h = b"GET /x?y=1 HTTP/1.1\r\nHost: Example.COM\r\nX-A:  b \r\n\r\n";
        let r = parse_request_head(h, 7, 10).unwrap();
        assert_eq!(r.method, "GET");
        assert_eq!(r.target, "/x?y=1");
        assert_eq!(r.version, HttpVersion::Http11);
        assert_eq!(r.host.as_deref(), Some("Example.COM"));
        assert_eq!(r.headers[1].value, b"b");
        assert_eq!(r.head_len, h.len());
        assert_eq!(r.stream_offset, 7);
        assert_eq!(r.header("x-a"), Some(&b"b"[..]));
    }

    #[test]
    fn response_head_helpers() {
        let h = b"HTTP/1.0 302 Moved \xff\r\nLocation: http://block.example/\r\nServer: nginx\r\n\
Via: 1.1 a\r\nVia: 1.1 b\r\nContent-Type: text/html\r\nContent-Length: 5, 5\r\n\
Transfer-Encoding: gzip, chunked\r\nContent-Encoding: gzip\r\nConnection: close\r\n\
Refresh: 0; url=http://x/\r\n\r\n";
        let r = parse_response_head(h, 0, 100).unwrap();
        assert_eq!(r.status, 302);
        assert_eq!(r.version, HttpVersion::Http10);
        assert_eq!(r.reason, "Moved \u{fffd}");
        assert_eq!(r.location().as_deref(), Some("http://block.example/"));
        assert_eq!(r.server().as_deref(), Some("nginx"));
        assert_eq!(r.via().as_deref(), Some("1.1 a, 1.1 b"));
        assert_eq!(r.content_type().as_deref(), Some("text/html"));
        assert_eq!(r.content_length(), Some(5));
        assert_eq!(r.transfer_encoding().as_deref(), Some("gzip, chunked"));
        assert_eq!(r.content_encoding().as_deref(), Some("gzip"));
        assert_eq!(r.connection().as_deref(), Some("close"));
        assert_eq!(r.refresh().as_deref(), Some("0; url=http://x/"));
        assert!(r.is_redirect());
        assert_eq!(transfer_coding(&r.headers), TransferCoding::Chunked);
    }

    #[test]
    fn too_many_headers() {
        let h = b"HTTP/1.1 200 OK\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n";
        assert_eq!(
            parse_response_head(h, 0, 2).unwrap_err(),
            HeadError::TooManyHeaders
        );
        assert!(parse_response_head(h, 0, 3).is_ok());
    }

    #[test]
    fn content_length_rules() {
        let hs = |vals: &[&str]| -> Vec<HttpHeader> {
            vals.iter()
                .map(|v| HttpHeader {
                    name: "Content-Length".into(),
                    value: v.as_bytes().to_vec(),
                })
                .collect()
        };
        assert_eq!(content_length(&hs(&[])), Ok(None));
        assert_eq!(content_length(&hs(&["12"])), Ok(Some(12)));
        assert_eq!(content_length(&hs(&["12", " 12 "])), Ok(Some(12)));
        assert!(content_length(&hs(&["12", "13"])).is_err());
        assert!(content_length(&hs(&["-1"])).is_err());
        assert!(content_length(&hs(&["0x10"])).is_err());
        assert!(content_length(&hs(&["99999999999999999999"])).is_err());
    }

    #[test]
    fn chunk_sizes() {
        assert_eq!(parse_chunk_size(b"1a"), Some(26));
        assert_eq!(parse_chunk_size(b"0"), Some(0));
        assert_eq!(parse_chunk_size(b"A ; name=val"), Some(10));
        assert_eq!(parse_chunk_size(b"ffffffffffffffff"), Some(u64::MAX));
        assert_eq!(parse_chunk_size(b"1ffffffffffffffff"), None);
        assert_eq!(parse_chunk_size(b""), None);
        assert_eq!(parse_chunk_size(b";x"), None);
        assert_eq!(parse_chunk_size(b"12 34"), None);
        assert_eq!(parse_chunk_size(b"-1"), None);
    }
}
