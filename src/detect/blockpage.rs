//! Finds blockpages, injected HTTP responses, forced redirects and TLS certificates that do
//! not belong to the requested site; it reads HTTP, TLS and DNS events and the flow's packet
//! log, never bytes of the capture.
//!
//! # Signal
//!
//! Every HTTP/1.x response is paired with its request (in order, as HTTP/1.1 requires) and
//! looked at in three ways; only responses with something to say are kept until the end of
//! the flow, where the packet log is complete and the judgement is made.
//!
//! - **Fingerprints** (signatures.md §3.1(a)): the response's headers and body against the
//!   bundled OONI blocking-fingerprints HTTP list and Censored Planet's blockpage signatures
//!   (`data/fingerprints/`, `--fingerprints FILE` for more), false-positive patterns first as
//!   both projects' matchers do. A national, ISP, product or institution fingerprint with
//!   `confidence_no_fp` of 5 or more makes an `http_blockpage` `high`; a vague one (`vbw`, or
//!   a low `confidence_no_fp`) is `medium` with an injection tell and `low` without; a
//!   provider's own block (`prov`) is an `http_geoblock`.
//! - **Injection tells** against the server's own packets in the flow (its SYN-ACK and other
//!   segments; CenTrace's terminating-response features; Citizen Lab, "Bad Traffic", 2018;
//!   signatures.md §3.1(b), §1.1): the response arrived sooner after the request than half the
//!   handshake round trip allows (capture at the client); its IP TTL, IP ID, DF bit or TCP
//!   window are not the server's. The race (the real server's response later carries the same
//!   sequence numbers with other bytes) proves the injection. Two tells make an unknown page an
//!   `http_injected_response` (`medium`), the race makes it `high`.
//! - **Suspicious redirects** (signatures.md §3.2, ours): a 30x whose `Location` host is an IP
//!   address (worse: a special-purpose one) or another site than the request's, together with
//!   at least one tell: `http_redirect_injected`. A redirect to the same site (http→https,
//!   www, a login page) is never suspicious by itself.
//! - **Generic notices** (FilterMap, Sundara Raman et al., NDSS 2020, on why words alone are
//!   weak; signatures.md §3.1(a)): a small page with blocking phrases in several languages, an
//!   iframe to a private address, or a proxy's access-denied signature, without tells or
//!   fingerprint: `http_block_notice`, always `low`. A "not available in your country" page or
//!   status 451 from the server itself: `http_geoblock`, `low`, the site's own choice.
//! - **DNS to blockpage**: an HTTP response from an address that a DNS answer in the capture
//!   gave the client and that is a known blocking address: `dns_blockpage_fetch`, `high`,
//!   citing the DNS query and answer next to the HTTP exchange (the `dns_injection` finding
//!   on the same answer is the other half).
//! - **Certificates** (Censored Planet `tls.baddomain`/`tls.badca` outcomes; signatures.md
//!   §6.3): a TLS 1.2 leaf certificate that does not cover the ClientHello's SNI is a
//!   `tls_certificate_mismatch`: `high` when its issuer is a filtering or interception
//!   product's CA, `medium` when it is self-signed or its packets show a tell, `low` otherwise
//!   (misconfigured servers exist).
//!
//! # Known false positives, and what keeps them out
//!
//! - Redirects within the site (http→https, www canonicalisation, login): the same registrable
//!   domain is never suspicious. Link shorteners redirecting elsewhere: no tells, no finding.
//! - CDN and WAF challenge pages, default, parked and error pages: the false-positive
//!   fingerprints silence them; without tells nothing else applies.
//! - A genuine 403 from the server, a server closing with FIN at once (`Connection: close`), a
//!   slow server: its packets match its own baseline, so no tell.
//! - A capture taken at the server: every response is the server's own; not judged.
//! - A certificate covering the name by a wildcard or one of many SANs; TLS 1.3 (certificate
//!   encrypted); no SNI: not judged as a mismatch.
//!
//! # Fixtures
//!
//! `fixtures/blockpage/` and `fixtures/tls/`: a positive per pattern and a negative twin per
//! trap; see `fixtures/README.md`.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::Arc;

use super::addresses::special_range;
use super::fingerprints::{Fingerprint, FingerprintSet, Scope};
use super::rst_injection::{anomalies, record_evidence, sender_ref, Context, Suspect};
use super::{Detector, FlowView};
use crate::finding::{
    Confidence, Evidence, Finding, FindingBuilder, FindingClass, FindingKind, FindingSink, Payload,
};
use crate::flow::PacketRecord;
use crate::ids::{Direction, FlowId, FrameNumber};
use crate::proto::dns::parse::RData;
use crate::proto::event::{PacketInfo, ProtoEvent};
use crate::proto::http::parse::ResponseHead;
use crate::proto::tcp::Vantage;
use crate::time::{Span, Timestamp};

/// A response matching a blockpage fingerprint.
pub const HTTP_BLOCKPAGE: FindingKind = FindingKind::new("http_blockpage", FindingClass::Blockpage);
/// An unknown response injected on the path.
pub const HTTP_INJECTED_RESPONSE: FindingKind =
    FindingKind::new("http_injected_response", FindingClass::Blockpage);
/// A redirect to another site or an address, injected on the path.
pub const HTTP_REDIRECT_INJECTED: FindingKind =
    FindingKind::new("http_redirect_injected", FindingClass::Blockpage);
/// A page with generic blocking words, without other evidence.
pub const HTTP_BLOCK_NOTICE: FindingKind =
    FindingKind::new("http_block_notice", FindingClass::Blockpage);
/// The site's own geographic block.
pub const HTTP_GEOBLOCK: FindingKind = FindingKind::new("http_geoblock", FindingClass::Blockpage);
/// An HTTP fetch from a blocking address a DNS answer pointed to.
pub const DNS_BLOCKPAGE_FETCH: FindingKind =
    FindingKind::new("dns_blockpage_fetch", FindingClass::Blockpage);
/// A TLS certificate for another name, or from a filtering product's CA.
pub const TLS_CERTIFICATE_MISMATCH: FindingKind =
    FindingKind::new("tls_certificate_mismatch", FindingClass::Blockpage);

/// Every kind this detector emits.
pub const KINDS: [FindingKind; 7] = [
    HTTP_BLOCKPAGE,
    HTTP_INJECTED_RESPONSE,
    HTTP_REDIRECT_INJECTED,
    HTTP_BLOCK_NOTICE,
    HTTP_GEOBLOCK,
    DNS_BLOCKPAGE_FETCH,
    TLS_CERTIFICATE_MISMATCH,
];

const NAME: &str = "blockpage";

/// Reports that one of this detector's per-flow or per-capture caps dropped something.
fn note_limit(sink: &mut FindingSink, frame: Option<FrameNumber>, detail: String) {
    sink.diagnostic(
        crate::diag::DiagnosticKind::LimitReachedBlockpageState,
        frame,
        detail,
    );
}
/// Requests waiting for their response, per flow.
const MAX_PENDING_REQUESTS: usize = 64;
/// Responses kept for judgement per flow (blocking happens on the first ones).
const MAX_CANDIDATES: usize = 4;
/// Server packets remembered per flow to find a response's first packet.
const MAX_RECENT: usize = 16;
/// Overlap conflicts kept per flow.
const MAX_CONFLICTS: usize = 8;
/// (client, address) pairs from DNS answers with a blocking address.
const MAX_DNS_LINKS: usize = 4096;
/// Body bytes quoted in evidence.
const BODY_QUOTE: usize = 1024;
/// Pages larger than this are not generic notices.
const NOTICE_MAX_BODY: u64 = 16 * 1024;
/// A response sooner than this fraction of the handshake round trip is not the server's.
const FAST_FRACTION: f64 = 0.5;
/// Round trips shorter than this are too short to judge speed by.
const FAST_MIN_RTT: Span = Span::from_millis(10);
/// A window more than this factor outside the server's is not its own.
const WINDOW_FACTOR: u32 = 4;
/// A FIN or RST this soon after the response closes it "at once".
const TEARDOWN_GAP: Span = Span::from_millis(50);

/// Blocking phrases of generic notices, lowercase (English, Russian, Persian, Turkish,
/// Arabic, Indonesian, French, Spanish, Portuguese, German, Chinese).
const BLOCK_PHRASES: &[&str] = &[
    "access to this site has been blocked",
    "access to this website has been blocked",
    "access to this page has been blocked",
    "access to this resource has been blocked",
    "this site has been blocked",
    "this website has been blocked",
    "this website is blocked",
    "this site is blocked",
    "the page you have requested has been blocked",
    "the site you requested has been blocked",
    "has been blocked in accordance with",
    "blocked by order of",
    "blocked by court order",
    "restricted by order of",
    "access has been restricted",
    "web page blocked",
    "url has been blocked",
    "доступ к ресурсу ограничен",
    "доступ к сайту ограничен",
    "доступ к запрашиваемому ресурсу ограничен",
    "ресурс заблокирован",
    "сайт заблокирован",
    "دسترسی به این سایت",
    "این سایت مسدود",
    "bu siteye erişim",
    "erişim engellenmiştir",
    "الموقع المطلوب محجوب",
    "هذا الموقع محجوب",
    "situs ini diblokir",
    "internet positif",
    "ce site a été bloqué",
    "l'accès à ce site a été bloqué",
    "este sitio ha sido bloqueado",
    "acceso a este sitio ha sido bloqueado",
    "este site foi bloqueado",
    "acesso a este site foi bloqueado",
    "diese seite wurde gesperrt",
    "zugriff auf diese seite wurde gesperrt",
    "该网站已被屏蔽",
    "访问被拒绝",
];

/// A proxy's access-denied signatures, lowercase (Squid's error page and header).
const PROXY_SIGNATURES: &[&str] = &[
    "err_access_denied",
    "x-squid-error: err_access_denied",
    "generated by squid",
    "access control configuration prevents your request",
];

/// Phrases of a site's own geographic block, lowercase.
const GEOBLOCK_PHRASES: &[&str] = &[
    "not available in your country",
    "not available in your region",
    "unavailable in your country",
    "unavailable in your region",
    "not available in your location",
    "not accessible in your country",
    "is not available in your area",
];

/// Issuers of interception or filtering certificates (organisation or common name contains,
/// lowercase), with the product named in findings. Sources: Censored Planet `tls.badca`
/// outcomes; Waked et al., "The Sorry State of TLS Security in Enterprise Interception
/// Appliances", 2018; Raman et al., "Investigating Large Scale HTTPS Interception in
/// Kazakhstan", IMC 2020.
const FILTERING_CAS: &[(&str, &str)] = &[
    ("fortinet", "Fortinet FortiGate"),
    ("fortigate", "Fortinet FortiGate"),
    ("fortiguard", "Fortinet FortiGuard"),
    ("sophos", "Sophos"),
    ("cyberoam", "Cyberoam"),
    ("blue coat", "Blue Coat"),
    ("bluecoat", "Blue Coat"),
    ("netsweeper", "Netsweeper"),
    ("watchguard", "WatchGuard"),
    ("palo alto networks", "Palo Alto Networks"),
    ("barracuda", "Barracuda"),
    ("zscaler", "Zscaler"),
    ("mcafee web gateway", "McAfee Web Gateway"),
    ("sonicwall", "SonicWall"),
    ("kerio", "Kerio Control"),
    ("untangle", "Untangle"),
    ("smoothwall", "Smoothwall"),
    ("lightspeed", "Lightspeed Systems"),
    ("iboss", "iboss"),
    ("websense", "Websense/Forcepoint"),
    ("forcepoint", "Websense/Forcepoint"),
    ("cisco umbrella", "Cisco Umbrella"),
    ("opendns", "Cisco Umbrella (OpenDNS)"),
    ("check point", "Check Point"),
    (
        "qaznet",
        "Kazakhstan's Qaznet Trust Network (national interception CA)",
    ),
];

#[derive(Clone, Debug)]
struct Request {
    frames: Vec<FrameNumber>,
    ts: Timestamp,
    method: String,
    host: Option<String>,
    target: String,
}

impl Request {
    fn describe(&self) -> String {
        format!(
            "{} {}{}",
            self.method,
            self.host.as_deref().unwrap_or(""),
            if self.target.starts_with('/') {
                self.target.clone()
            } else if self.host.is_some() {
                format!(" {}", self.target)
            } else {
                self.target.clone()
            }
        )
    }
}

/// A fingerprint hit kept for the judgement.
#[derive(Clone, Debug)]
struct Hit {
    fingerprint: Fingerprint,
    location: String,
    excerpt: String,
}

/// A DNS answer with a blocking address, remembered for the client's fetch from it.
#[derive(Clone, Debug)]
struct DnsLink {
    qname: String,
    query_frame: FrameNumber,
    response_frame: FrameNumber,
    resolver: IpAddr,
    hits: Vec<Fingerprint>,
}

#[derive(Clone, Debug)]
struct Redirect {
    location: String,
    why: Option<String>,
}

/// A response kept for judgement at the end of its flow.
#[derive(Clone, Debug)]
struct Candidate {
    request: Option<Request>,
    frames: Vec<FrameNumber>,
    ts: Timestamp,
    first: Option<PacketInfo>,
    status: u16,
    reason: String,
    headers: Vec<(String, String)>,
    range: (u64, u64),
    body: Vec<u8>,
    body_len: u64,
    blocking: Vec<Hit>,
    false_positive: Vec<Hit>,
    redirect: Option<Redirect>,
    notice: Vec<String>,
    geoblock: Option<String>,
    dns: Option<DnsLink>,
}

#[derive(Clone, Debug)]
struct Certificate {
    frames: Vec<FrameNumber>,
    summary: crate::proto::tls::parse::CertificateSummary,
}

#[derive(Default, Debug)]
struct FlowState {
    requests: VecDeque<Request>,
    recent: VecDeque<PacketInfo>,
    candidates: Vec<Candidate>,
    /// The last response that was not kept, in case the real one races it later.
    last: Option<Candidate>,
    conflicts: Vec<(FrameNumber, Option<FrameNumber>, u64)>,
    sni: Option<(String, Vec<FrameNumber>)>,
    certificate: Option<Certificate>,
}

/// The blockpage detector.
pub struct Blockpage {
    fingerprints: Arc<FingerprintSet>,
    flows: HashMap<FlowId, FlowState>,
    dns: HashMap<(IpAddr, IpAddr), DnsLink>,
    dns_order: VecDeque<(IpAddr, IpAddr)>,
}

impl Blockpage {
    /// A detector matching responses against these fingerprints.
    pub fn new(fingerprints: Arc<FingerprintSet>) -> Blockpage {
        Blockpage {
            fingerprints,
            flows: HashMap::new(),
            dns: HashMap::new(),
            dns_order: VecDeque::new(),
        }
    }
}

impl Default for Blockpage {
    fn default() -> Self {
        Blockpage::new(FingerprintSet::shared_builtin())
    }
}

impl Detector for Blockpage {
    fn name(&self) -> &'static str {
        NAME
    }

    fn on_event(&mut self, flow: &FlowView<'_>, event: &ProtoEvent, sink: &mut FindingSink) {
        let id = flow.record.id;
        match event {
            ProtoEvent::DnsResponse {
                frame,
                message,
                query: Some(q),
                dir: Direction::ServerToClient,
                ..
            } => {
                for rr in &message.answers {
                    let addr = match rr.rdata {
                        RData::A(a) => IpAddr::V4(a),
                        RData::Aaaa(a) => IpAddr::V6(a),
                        _ => continue,
                    };
                    let hits: Vec<Fingerprint> = self
                        .fingerprints
                        .match_dns_address(addr)
                        .into_iter()
                        .cloned()
                        .collect();
                    if hits.is_empty() {
                        continue;
                    }
                    let key = (flow.record.client.addr, addr);
                    let link = DnsLink {
                        qname: q.qname.clone(),
                        query_frame: q.frame,
                        response_frame: *frame,
                        resolver: flow.record.server.addr,
                        hits,
                    };
                    if self.dns.insert(key, link).is_none() {
                        self.dns_order.push_back(key);
                        while self.dns.len() > MAX_DNS_LINKS {
                            match self.dns_order.pop_front() {
                                Some(old) => {
                                    self.dns.remove(&old);
                                    note_limit(
                                        sink,
                                        Some(*frame),
                                        format!(
                                            "more than {MAX_DNS_LINKS} client-address pairs from DNS answers with a blocking address: the oldest ({} for {}) was forgotten, so a later fetch from it is not linked to its DNS answer",
                                            old.1, old.0
                                        ),
                                    );
                                }
                                None => break,
                            }
                        }
                    }
                }
            }
            ProtoEvent::HttpRequest {
                dir: Direction::ClientToServer,
                frames,
                ts,
                head,
            } if flow.tcp.is_some() => {
                let state = self.flows.entry(id).or_default();
                if state.requests.len() >= MAX_PENDING_REQUESTS {
                    note_limit(
                        sink,
                        frames.first().copied(),
                        format!(
                            "flow {id}: more than {MAX_PENDING_REQUESTS} HTTP requests waiting for responses; this one is not paired with its response"
                        ),
                    );
                }
                if state.requests.len() < MAX_PENDING_REQUESTS {
                    state.requests.push_back(Request {
                        frames: frames.clone(),
                        ts: *ts,
                        method: head.method.clone(),
                        host: head.host.clone(),
                        target: head.target.clone(),
                    });
                }
            }
            ProtoEvent::TlsClientHello {
                dir: Direction::ClientToServer,
                frames,
                hello,
                ..
            } if flow.tcp.is_some() => {
                if let Some(sni) = &hello.sni {
                    let state = self.flows.entry(id).or_default();
                    state.sni.get_or_insert((sni.clone(), frames.clone()));
                }
            }
            ProtoEvent::TlsCertificate {
                dir: Direction::ServerToClient,
                frames,
                certificate,
                ..
            } => {
                if let Some(state) = self.flows.get_mut(&id) {
                    if state.certificate.is_none() {
                        state.certificate = Some(Certificate {
                            frames: frames.clone(),
                            summary: certificate.clone(),
                        });
                    }
                }
            }
            ProtoEvent::Packet(p) if p.dir == Direction::ServerToClient && p.payload_len > 0 => {
                if let Some(state) = self.flows.get_mut(&id) {
                    if state.recent.len() >= MAX_RECENT {
                        state.recent.pop_front();
                    }
                    state.recent.push_back(*p);
                }
            }
            ProtoEvent::TcpOverlapConflict {
                dir: Direction::ServerToClient,
                frame,
                conflict,
            } => {
                if let Some(state) = self.flows.get_mut(&id) {
                    if state.conflicts.len() < MAX_CONFLICTS {
                        state
                            .conflicts
                            .push((*frame, conflict.first_frame, conflict.offset));
                    }
                    // The real response racing one that was not kept: keep it now.
                    let races = |c: &Candidate| {
                        conflict.offset >= c.range.0
                            && conflict.offset < c.range.1.max(c.range.0 + 1)
                    };
                    if state.last.as_ref().is_some_and(races)
                        && state.candidates.len() < MAX_CANDIDATES
                    {
                        if let Some(c) = state.last.take() {
                            state.candidates.push(c);
                        }
                    }
                }
            }
            ProtoEvent::HttpResponse {
                dir: Direction::ServerToClient,
                frames,
                ts,
                head,
                body,
            } => {
                let Some(state) = self.flows.get_mut(&id) else {
                    return;
                };
                let request = state.requests.pop_front();
                let first = frames
                    .first()
                    .and_then(|f| state.recent.iter().find(|p| p.frame == *f).copied());
                let (excerpt, body_len) = match body {
                    Some(b) => (b.excerpt.as_slice(), b.body_len_seen),
                    None => (&[][..], 0),
                };
                let matches = self.fingerprints.match_http(head, excerpt);
                let hit = |h: &super::fingerprints::HttpHit<'_>| Hit {
                    fingerprint: h.fingerprint.clone(),
                    location: h.location.to_string(),
                    excerpt: h.excerpt.clone(),
                };
                let false_positive: Vec<Hit> = matches.false_positives.iter().map(hit).collect();
                // False-positive rows first, as OONI's and Censored Planet's matchers do; a
                // benign injection (`injb`, a router's notice) is not a block either. A row
                // that another matching row lists among its other names is the same
                // fingerprint twice.
                let blocking: Vec<Hit> = if false_positive.is_empty() {
                    let all: Vec<Hit> = matches
                        .blocking
                        .iter()
                        .filter(|h| h.fingerprint.scope != Scope::Injb)
                        .map(hit)
                        .collect();
                    all.iter()
                        .filter(|h| {
                            !all.iter().any(|g| {
                                g.fingerprint.name != h.fingerprint.name
                                    && g.fingerprint.other_names.contains(&h.fingerprint.name)
                            })
                        })
                        .cloned()
                        .collect()
                } else {
                    Vec::new()
                };
                let redirect = redirect_of(head, request.as_ref());
                let text_lc = String::from_utf8_lossy(excerpt).to_lowercase();
                let mut notice = Vec::new();
                let mut geoblock = None;
                if body_len <= NOTICE_MAX_BODY {
                    notice = notice_signals(head, &text_lc, !false_positive.is_empty());
                    geoblock = geoblock_signal(head, &text_lc);
                }
                let dns = self
                    .dns
                    .get(&(flow.record.client.addr, flow.record.server.addr))
                    .cloned();
                let headers: Vec<(String, String)> = head
                    .headers
                    .iter()
                    .filter(|h| {
                        [
                            "location",
                            "server",
                            "via",
                            "content-length",
                            "content-type",
                            "connection",
                            "refresh",
                            "x-squid-error",
                            "cf-ray",
                        ]
                        .iter()
                        .any(|n| h.name.eq_ignore_ascii_case(n))
                    })
                    .take(12)
                    .map(|h| {
                        (
                            h.name.clone(),
                            String::from_utf8_lossy(&h.value)
                                .chars()
                                .take(200)
                                .collect(),
                        )
                    })
                    .collect();
                let range_end = head.stream_offset + head.head_len as u64 + body_len;
                let candidate = Candidate {
                    request,
                    frames: frames.clone(),
                    ts: *ts,
                    first,
                    status: head.status,
                    reason: head.reason.clone(),
                    headers,
                    range: (head.stream_offset, range_end),
                    body: excerpt.iter().take(BODY_QUOTE).copied().collect(),
                    body_len,
                    blocking,
                    false_positive,
                    redirect,
                    notice,
                    geoblock,
                    dns,
                };
                let interesting = !candidate.blocking.is_empty()
                    || candidate.redirect.as_ref().is_some_and(|r| r.why.is_some())
                    || !candidate.notice.is_empty()
                    || candidate.geoblock.is_some()
                    || candidate.dns.is_some()
                    || quick_tell(flow, &candidate);
                if interesting && state.candidates.len() >= MAX_CANDIDATES {
                    note_limit(
                        sink,
                        candidate.frames.first().copied(),
                        format!(
                            "flow {id}: more than {MAX_CANDIDATES} suspicious HTTP responses; this one is not judged (blocking shows on the first ones)"
                        ),
                    );
                }
                if interesting && state.candidates.len() < MAX_CANDIDATES {
                    state.candidates.push(candidate);
                } else {
                    state.last = Some(candidate);
                }
            }
            _ => {}
        }
    }

    fn on_flow_end(&mut self, flow: &FlowView<'_>, sink: &mut FindingSink) {
        let Some(state) = self.flows.remove(&flow.record.id) else {
            return;
        };
        let Some(tcp) = flow.tcp else {
            return;
        };
        let ctx = Context::new(flow, tcp);
        if !ctx.is_remote(Direction::ServerToClient) {
            // Captured at the server: its responses are its own.
            return;
        }
        for c in &state.candidates {
            if let Some(f) = judge_response(&ctx, &state, c) {
                sink.push(f);
            }
        }
        if let Some(f) = judge_certificate(&ctx, &state) {
            sink.push(f);
        }
    }
}

/// The host of a URL or of a Host header, lowercase, without port or brackets.
fn url_host(url: &str) -> Option<String> {
    let rest = url
        .split_once("://")
        .map(|(_, r)| r)
        .or_else(|| url.strip_prefix("//"))?;
    let authority = rest.split(['/', '?', '#']).next()?;
    let authority = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    Some(strip_port(authority))
}

fn strip_port(host: &str) -> String {
    let h = if let Some(r) = host.strip_prefix('[') {
        r.split(']').next().unwrap_or(r)
    } else if host.matches(':').count() == 1 {
        host.split(':').next().unwrap_or(host)
    } else {
        host
    };
    h.trim_end_matches('.').to_ascii_lowercase()
}

/// The registrable part of a host name, approximately: the last two labels, or three when
/// the second-level label is a short generic one under a country code (`co.uk`, `com.br`).
/// Without the public-suffix list this can err on exotic suffixes; it only decides whether a
/// redirect leaves the site, which alone never makes a finding.
fn site_of(host: &str) -> String {
    let labels: Vec<&str> = host.split('.').filter(|l| !l.is_empty()).collect();
    let n = labels.len();
    if n <= 2 {
        return labels.join(".");
    }
    let tld = labels[n - 1];
    let second = labels[n - 2];
    let generic = [
        "co", "com", "net", "org", "gov", "edu", "ac", "or", "ne", "go", "gob", "mil",
    ];
    if tld.len() == 2 && generic.contains(&second) {
        labels[n - 3..].join(".")
    } else {
        labels[n - 2..].join(".")
    }
}

fn redirect_of(head: &ResponseHead, request: Option<&Request>) -> Option<Redirect> {
    if !(300..400).contains(&head.status) {
        return None;
    }
    let location = head.location()?;
    let host = url_host(&location);
    let req_host = request.and_then(|r| r.host.as_deref()).map(strip_port);
    let why = match &host {
        None => None, // relative: same site
        Some(h) => match h.parse::<IpAddr>() {
            Ok(ip) => Some(match special_range(ip) {
                Some(r) => format!(
                    "the Location host is {ip}, an address reserved for {} ({})",
                    r.purpose, r.cidr
                ),
                None => format!("the Location host is an IP address ({ip}), not a name"),
            }),
            Err(_) => match &req_host {
                Some(rh) if site_of(rh) != site_of(h) && rh.parse::<IpAddr>().is_err() => Some(
                    format!("the Location leaves the requested site ({rh} → {h})"),
                ),
                _ => None,
            },
        },
    };
    Some(Redirect { location, why })
}

/// Generic blocking signals of a page. When a false-positive fingerprint matched the page,
/// its words are not counted (error pages share them); a proxy's access-denied signature and
/// an iframe to a private address still are.
fn notice_signals(head: &ResponseHead, text_lc: &str, false_positive: bool) -> Vec<String> {
    let mut v = Vec::new();
    for p in BLOCK_PHRASES.iter().filter(|_| !false_positive) {
        if text_lc.contains(p) {
            v.push(format!("blocking phrase \"{p}\""));
        }
    }
    let mut headers_lc = String::new();
    for h in &head.headers {
        headers_lc.push_str(&h.name.to_ascii_lowercase());
        headers_lc.push_str(": ");
        headers_lc.push_str(&String::from_utf8_lossy(&h.value).to_lowercase());
        headers_lc.push('\n');
    }
    for p in PROXY_SIGNATURES {
        if text_lc.contains(p) || headers_lc.contains(p) {
            v.push(format!("proxy access-denied signature \"{p}\""));
        }
    }
    if let Some(addr) = private_iframe(text_lc) {
        v.push(format!("an iframe to the private address {addr}"));
    }
    v
}

/// An `<iframe src=...>` to an address in private or other special-purpose space.
fn private_iframe(text_lc: &str) -> Option<String> {
    let mut rest = text_lc;
    while let Some(i) = rest.find("<iframe") {
        let tag = &rest[i..];
        let end = tag.find('>').unwrap_or(tag.len());
        let attrs = &tag[..end];
        if let Some(j) = attrs.find("src=") {
            let v = attrs[j + 4..].trim_start_matches(['"', '\'']);
            let url: String = v
                .chars()
                .take_while(|c| !matches!(c, '"' | '\'' | ' ' | '>'))
                .collect();
            if let Some(h) = url_host(&url) {
                if let Ok(ip) = h.parse::<IpAddr>() {
                    if special_range(ip).is_some() {
                        return Some(ip.to_string());
                    }
                }
            }
        }
        rest = &tag[end.min(tag.len())..];
        if rest.len() == tag.len() {
            break;
        }
    }
    None
}

fn geoblock_signal(head: &ResponseHead, text_lc: &str) -> Option<String> {
    if head.status == 451 {
        return Some("status 451 (Unavailable For Legal Reasons)".into());
    }
    GEOBLOCK_PHRASES
        .iter()
        .find(|p| text_lc.contains(*p))
        .map(|p| format!("geographic block phrase \"{p}\""))
}

/// A cheap look at arrival time and TTL when the response arrives, to decide whether it is
/// worth keeping.
fn quick_tell(flow: &FlowView<'_>, c: &Candidate) -> bool {
    let (Some(tcp), Some(first)) = (flow.tcp, c.first) else {
        return false;
    };
    if let (Some(rtt), Some(req)) = (tcp.handshake.rtt, &c.request) {
        if rtt >= FAST_MIN_RTT {
            let d = first.ts.since(req.ts);
            if (d.as_nanos() as f64) < FAST_FRACTION * rtt.as_nanos() as f64 {
                return true;
            }
        }
    }
    // The SYN-ACK's TTL, looked up by frame (no copy of the packet log per response).
    tcp.handshake
        .syn_ack
        .and_then(|(frame, _)| flow.record.log.find(frame))
        .is_some_and(|r| r.ttl.abs_diff(first.ip.ttl) > 2)
}

/// The injection tells of one response against the server's packets.
struct Tells {
    items: Vec<Evidence>,
    words: Vec<String>,
    count: usize,
    race: Vec<(FrameNumber, Option<FrameNumber>)>,
    teardown: Option<PacketRecord>,
}

fn tells(ctx: &Context<'_>, state: &FlowState, c: &Candidate) -> Tells {
    let mut t = Tells {
        items: Vec::new(),
        words: Vec::new(),
        count: 0,
        race: Vec::new(),
        teardown: None,
    };
    let Some(first) = c.first else {
        return t;
    };
    // Other bytes over the response's stream range, from a packet with another TTL: two
    // senders. (Different bytes with the same headers are a sender rewriting its own data,
    // which `rst_injection` reports at low confidence.)
    for (frame, earlier, offset) in &state.conflicts {
        let other_sender = ctx
            .log
            .iter()
            .find(|r| r.frame == *frame)
            .is_some_and(|r| r.ttl.abs_diff(first.ip.ttl) > 2);
        if other_sender && *offset >= c.range.0 && *offset < c.range.1.max(c.range.0 + 1) {
            t.race.push((*frame, *earlier));
        }
    }
    // The real response: a later server segment over the same sequence numbers, from another
    // sender (its TTL is not the injected response's).
    if let Some(seg) = first.tcp {
        let start = crate::proto::tcp::seq::SeqNumber(seg.seq);
        let end = start.wrapping_add((c.range.1 - c.range.0).min(u64::from(u32::MAX)) as u32);
        let last = c.frames.last().copied().unwrap_or(first.frame);
        for r in &ctx.log {
            if r.dir == Direction::ServerToClient
                && r.frame > last
                && r.payload_len > 0
                && !c.frames.contains(&r.frame)
                && crate::proto::tcp::seq::SeqNumber(r.seq).diff(end) < 0
                && crate::proto::tcp::seq::SeqNumber(r.seq).diff(start) >= 0
                && r.ttl.abs_diff(first.ip.ttl) > 2
                && !t.race.iter().any(|(f, _)| *f == r.frame)
            {
                t.race.push((r.frame, Some(first.frame)));
                break;
            }
        }
    }
    // A FIN or RST from the same sender right after the response, with its TTL.
    let last_frame = c.frames.last().copied().unwrap_or(first.frame);
    let last_ts = ctx
        .log
        .iter()
        .find(|r| r.frame == last_frame)
        .map_or(c.ts, |r| r.ts);
    t.teardown = ctx
        .log
        .iter()
        .find(|r| {
            r.dir == Direction::ServerToClient
                && r.frame > last_frame
                && (r.flags.fin() || r.flags.rst())
                && r.ts.since(last_ts) <= TEARDOWN_GAP
                && r.ttl.abs_diff(first.ip.ttl) <= 2
        })
        .copied();
    let mut suspects: Vec<FrameNumber> = c.frames.clone();
    suspects.extend(t.teardown.map(|r| r.frame));
    // Packets of the racing real response are the server's own.
    let reference = sender_ref(ctx, Direction::ServerToClient, &suspects);
    let suspect = Suspect {
        pkt: first,
        sender_next_seq: None,
        sender_max_ack: None,
        sender_isn: None,
        peer_max_ack: None,
        fin_before: false,
        peer_rst_before: false,
        payload: None,
    };
    let a = anomalies(ctx, &suspect, &reference);
    if a.ttl.is_some() {
        t.words.push(format!(
            "IP TTL {} unlike the server's other packets",
            first.ip.ttl
        ));
    }
    if a.ip_id.is_some() || a.ip_id_copied.is_some() {
        t.words.push(format!(
            "IP ID {} outside the server's sequence",
            first.ip.ip_id.unwrap_or(0)
        ));
    }
    if a.df.is_some() {
        t.words.push("DF bit unlike the server's".into());
    }
    t.count += usize::from(a.ttl.is_some())
        + usize::from(a.ip_id.is_some() || a.ip_id_copied.is_some())
        + usize::from(a.df.is_some());
    t.items.extend(a.ttl.clone());
    t.items.extend(a.ip_id.clone());
    t.items.extend(a.ip_id_copied.clone());
    t.items.extend(a.df.clone());
    if let (Some(seg), Some((lo, hi))) = (first.tcp, reference.window) {
        let w = u32::from(seg.window);
        if w * WINDOW_FACTOR < u32::from(lo) || w > u32::from(hi) * WINDOW_FACTOR {
            t.count += 1;
            t.words.push(format!(
                "TCP window {} unlike the server's ({}–{})",
                seg.window, lo, hi
            ));
            t.items.push(Evidence::Mismatch {
                field: "tcp_window".into(),
                observed: serde_json::json!(seg.window),
                expected: format!(
                    "{lo}–{hi} (raw window field of the server's other packets; within a factor of {WINDOW_FACTOR})"
                ),
                frames: vec![first.frame],
                baseline_frames: reference.frames.iter().take(6).copied().collect(),
            });
        }
    }
    if ctx.vantage == Some(Vantage::Client) {
        if let (Some(rtt), Some(req)) = (ctx.rtt, &c.request) {
            let d = first.ts.since(req.ts);
            if rtt >= FAST_MIN_RTT && (d.as_nanos() as f64) < FAST_FRACTION * rtt.as_nanos() as f64
            {
                t.count += 1;
                t.words.push(format!(
                    "arrived {d} after the request when the round trip to the server is {rtt}"
                ));
                t.items.push(Evidence::Timing {
                    what: "http_response_after_request".into(),
                    delta_ms: d.as_millis_f64(),
                    from_frame: req.frames.last().copied().unwrap_or(first.frame),
                    to_frame: first.frame,
                    reference: Some(
                        "handshake round trip: the server's own answer cannot come sooner".into(),
                    ),
                    reference_ms: Some(rtt.as_millis_f64()),
                });
            }
        }
    }
    t
}

fn strong(f: &Fingerprint) -> bool {
    matches!(f.scope, Scope::Nat | Scope::Isp | Scope::Prod | Scope::Inst)
        && f.confidence_no_fp >= 5
}

fn hit_evidence(h: &Hit, frames: &[FrameNumber]) -> Evidence {
    let countries = if h.fingerprint.countries.is_empty() {
        String::new()
    } else {
        format!(" [{}]", h.fingerprint.countries.join(","))
    };
    Evidence::Fingerprint {
        name: h.fingerprint.name.clone(),
        source: h.fingerprint.attribution(),
        scope: h.fingerprint.scope.as_str().into(),
        location: h.location.clone(),
        matched: format!("{}{countries}", h.excerpt),
        frames: frames.to_vec(),
    }
}

fn hit_words(h: &Hit) -> String {
    let countries = if h.fingerprint.countries.is_empty()
        || h.fingerprint.countries.iter().all(|c| c == "ZZ")
    {
        String::new()
    } else {
        format!(", {}", h.fingerprint.countries.join("/"))
    };
    format!(
        "{} matches {} ({}{countries})",
        h.location,
        h.fingerprint.name,
        h.fingerprint.scope.describe()
    )
}

fn judge_response(ctx: &Context<'_>, state: &FlowState, c: &Candidate) -> Option<Finding> {
    let t = tells(ctx, state, c);
    let raced = !t.race.is_empty();
    let strong_hit = c.blocking.iter().find(|h| strong(&h.fingerprint));
    let weak_hit = c
        .blocking
        .iter()
        .any(|h| !strong(&h.fingerprint) && h.fingerprint.scope != Scope::Prov);
    let prov_hit = c
        .blocking
        .iter()
        .any(|h| h.fingerprint.scope == Scope::Prov);
    let suspicious_redirect = c.redirect.as_ref().and_then(|r| r.why.clone());
    let (kind, confidence) = if c.dns.is_some() {
        (DNS_BLOCKPAGE_FETCH, Confidence::High)
    } else if strong_hit.is_some() || (weak_hit && (t.count >= 1 || raced)) {
        let conf = if strong_hit.is_some() || raced {
            Confidence::High
        } else {
            Confidence::Medium
        };
        (HTTP_BLOCKPAGE, conf)
    } else if raced || t.count >= 2 || (suspicious_redirect.is_some() && t.count >= 1) {
        let conf = if raced {
            Confidence::High
        } else {
            Confidence::Medium
        };
        if suspicious_redirect.is_some() {
            (HTTP_REDIRECT_INJECTED, conf)
        } else {
            (HTTP_INJECTED_RESPONSE, conf)
        }
    } else if !c.notice.is_empty() {
        (HTTP_BLOCK_NOTICE, Confidence::Low)
    } else if c.geoblock.is_some() || prov_hit {
        (HTTP_GEOBLOCK, Confidence::Low)
    } else if weak_hit {
        (HTTP_BLOCKPAGE, Confidence::Low)
    } else {
        return None;
    };

    let first_frame = c.first.map(|p| p.frame).or(c.frames.first().copied())?;
    let mut b =
        FindingBuilder::new(NAME, kind, confidence, ctx.view.flow_ref(), String::new()).at(c.ts);
    if let Some(req) = &c.request {
        let (kind_t, value) = match &req.host {
            Some(h) => ("http_host", h.clone()),
            None => ("http_url", req.target.clone()),
        };
        b = b.trigger(kind_t, value, req.frames.first().copied());
        for f in &req.frames {
            match ctx.log.iter().find(|r| r.frame == *f) {
                Some(r) => {
                    b = b.evidence(record_evidence(r, &format!("request: {}", req.describe())))
                }
                None => {
                    b = b.evidence(Evidence::Note {
                        text: format!("request: {}", req.describe()),
                        frames: vec![*f],
                    })
                }
            }
        }
    }
    let role = match kind {
        k if k == HTTP_INJECTED_RESPONSE || k == HTTP_REDIRECT_INJECTED => "injected response",
        k if k == HTTP_BLOCKPAGE && (t.count > 0 || raced) => "injected blockpage",
        k if k == HTTP_BLOCKPAGE => "blockpage",
        _ => "response",
    };
    let status_line = format!("HTTP {} {}", c.status, c.reason);
    for (i, f) in c.frames.iter().enumerate() {
        let what = if i == 0 {
            format!("{role}: {status_line}")
        } else {
            format!("{role} (continued)")
        };
        match ctx.log.iter().find(|r| r.frame == *f) {
            Some(r) => b = b.evidence(record_evidence(r, &what)),
            None if i == 0 => {
                b = b.evidence(Evidence::Note {
                    text: what,
                    frames: vec![*f],
                })
            }
            None => {}
        }
    }
    if !c.headers.is_empty() {
        b = b.evidence(Evidence::Note {
            text: format!(
                "response headers: {}",
                c.headers
                    .iter()
                    .map(|(n, v)| format!("{n}: {v}"))
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
            frames: vec![first_frame],
        });
    }
    if !c.body.is_empty() {
        b = b.evidence(Evidence::Payload {
            frame: first_frame,
            what: format!("HTTP response body ({} bytes seen)", c.body_len),
            bytes: Payload(c.body.clone()),
            truncated: (c.body.len() as u64) < c.body_len,
        });
    }
    let mut reasons: Vec<String> = Vec::new();
    if let Some(d) = &c.dns {
        b = b.evidence(Evidence::Note {
            text: format!(
                "the client fetched this from {}, the address {} gave for {} (query frame {}, answer frame {}); the dns_injection finding on that answer is the other half of this block",
                ctx.view.record.server.addr, d.resolver, d.qname, d.query_frame, d.response_frame
            ),
            frames: vec![d.query_frame, d.response_frame],
        });
        for h in &d.hits {
            b = b.evidence(Evidence::Fingerprint {
                name: h.name.clone(),
                source: h.attribution(),
                scope: h.scope.as_str().into(),
                location: "dns.answer".into(),
                matched: ctx.view.record.server.addr.to_string(),
                frames: vec![d.response_frame],
            });
        }
        reasons.push(format!(
            "{} answered {} with the blocking address {} ({})",
            d.resolver,
            d.qname,
            ctx.view.record.server.addr,
            d.hits
                .iter()
                .map(|h| h.name.clone())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    for h in &c.blocking {
        b = b.evidence(hit_evidence(h, &c.frames));
        reasons.push(hit_words(h));
    }
    for h in &c.false_positive {
        b = b.evidence(Evidence::Note {
            text: format!(
                "also matches the false-positive pattern {} ({}): {}",
                h.fingerprint.name, h.location, h.excerpt
            ),
            frames: vec![first_frame],
        });
    }
    if let Some(r) = &c.redirect {
        if let Some(why) = &r.why {
            b = b.evidence(Evidence::Mismatch {
                field: "http_location".into(),
                observed: serde_json::json!(r.location),
                expected: format!(
                    "a location on the requested site ({}); {why}",
                    c.request
                        .as_ref()
                        .and_then(|q| q.host.clone())
                        .unwrap_or_else(|| "no Host header".into())
                ),
                frames: vec![first_frame],
                baseline_frames: c
                    .request
                    .as_ref()
                    .map(|q| q.frames.clone())
                    .unwrap_or_default(),
            });
            reasons.push(format!("redirect to {}: {why}", r.location));
        } else if kind != HTTP_BLOCKPAGE {
            reasons.push(format!("redirect to {}", r.location));
        }
    }
    for n in &c.notice {
        reasons.push(n.clone());
    }
    if !c.notice.is_empty() {
        b = b.evidence(Evidence::Note {
            text: format!(
                "generic blocking signals in the page: {}; words alone are weak evidence (error pages look alike)",
                c.notice.join(", ")
            ),
            frames: vec![first_frame],
        });
    }
    if kind == HTTP_GEOBLOCK {
        if let Some(g) = &c.geoblock {
            reasons.push(g.clone());
        }
        b = b.evidence(Evidence::Note {
            text: "the server's own packets, timing and headers: the site itself declines to serve this region; this is the site's choice, not interference on the network".into(),
            frames: vec![first_frame],
        });
    }
    for e in &t.items {
        b = b.evidence(e.clone());
    }
    reasons.extend(t.words.iter().cloned());
    if let Some(td) = &t.teardown {
        if t.count > 0 {
            b = b.evidence(record_evidence(
                td,
                "teardown right after the response, with the response's TTL",
            ));
            reasons.push(format!(
                "closed at once with {} (frame {})",
                if td.flags.rst() { "RST" } else { "FIN" },
                td.frame
            ));
        }
    }
    if raced {
        let frames: Vec<FrameNumber> = t
            .race
            .iter()
            .flat_map(|(a, b)| std::iter::once(*a).chain(*b))
            .collect();
        for (real, _) in &t.race {
            if let Some(r) = ctx.log.iter().find(|r| r.frame == *real) {
                b = b.evidence(record_evidence(
                    r,
                    "the real server's response: same sequence numbers, other bytes",
                ));
            }
        }
        b = b.evidence(Evidence::Note {
            text: "the server's own response arrived later over the same stream bytes: two senders answered one request, so the first answer was injected".into(),
            frames,
        });
        reasons.push(format!(
            "the real server's response followed (frame {})",
            t.race[0].0
        ));
    }
    if kind == HTTP_BLOCKPAGE && strong_hit.is_none() && !raced && t.count == 0 {
        b = b.evidence(Evidence::Note {
            text: "only a vague fingerprint matched and the packets look like the server's own: a hint, not a proof".into(),
            frames: vec![first_frame],
        });
    }
    let mut f = b.build();
    let head = match kind {
        k if k == DNS_BLOCKPAGE_FETCH => "Blockpage fetched from a DNS-forged address",
        k if k == HTTP_BLOCKPAGE => "Blockpage",
        k if k == HTTP_INJECTED_RESPONSE => "Injected HTTP response",
        k if k == HTTP_REDIRECT_INJECTED => "Injected redirect",
        k if k == HTTP_BLOCK_NOTICE => "Possible block notice",
        _ => "Geographic block by the site",
    };
    let req = c
        .request
        .as_ref()
        .map(|r| {
            format!(
                " to {} (frame {})",
                r.describe(),
                r.frames.first().map_or(0, |f| f.get())
            )
        })
        .unwrap_or_default();
    f.summary = format!(
        "{head}: {status_line} (frame {first_frame}){req}; {}",
        reasons.join("; ")
    );
    Some(f)
}

fn judge_certificate(ctx: &Context<'_>, state: &FlowState) -> Option<Finding> {
    let (sni, hello_frames) = state.sni.as_ref()?;
    let cert = state.certificate.as_ref()?;
    let leaf = cert.summary.leaf.as_ref()?;
    if crate::proto::tls::names::certificate_coverage(&cert.summary, sni)
        != crate::proto::tls::names::Coverage::NotCovered
    {
        return None;
    }
    let issuer = [leaf.issuer.o.clone(), leaf.issuer.cn.clone()]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" / ");
    let issuer_lc = issuer.to_lowercase();
    let product = FILTERING_CAS
        .iter()
        .find(|(k, _)| issuer_lc.contains(k))
        .map(|(_, p)| *p);
    let first = cert.frames.first().copied()?;
    let packet = ctx.log.iter().find(|r| r.frame == first).copied();
    let reference = sender_ref(ctx, Direction::ServerToClient, &cert.frames);
    let ttl_off = match (packet, reference.ttl) {
        (Some(p), Some((lo, hi))) => p.ttl + 2 < lo || p.ttl > hi + 2,
        _ => false,
    };
    let confidence = if product.is_some() {
        Confidence::High
    } else if leaf.self_signed || ttl_off {
        Confidence::Medium
    } else {
        Confidence::Low
    };
    let names: Vec<String> = if leaf.san_dns.is_empty() {
        leaf.subject.cn.iter().cloned().collect()
    } else {
        leaf.san_dns.iter().take(8).cloned().collect()
    };
    let mut b = FindingBuilder::new(
        NAME,
        TLS_CERTIFICATE_MISMATCH,
        confidence,
        ctx.view.flow_ref(),
        String::new(),
    )
    .trigger("sni", sni.clone(), hello_frames.first().copied());
    for f in hello_frames {
        if let Some(r) = ctx.log.iter().find(|r| r.frame == *f) {
            b = b.evidence(record_evidence(r, &format!("ClientHello for {sni}")));
        }
    }
    if let Some(p) = packet {
        b = b.at(p.ts);
        b = b.evidence(record_evidence(&p, "certificate"));
    }
    b = b.evidence(Evidence::Mismatch {
        field: "tls_certificate_names".into(),
        observed: serde_json::json!(names),
        expected: format!("a name covering {sni} (subjectAltName, or the CN when there is none)"),
        frames: cert.frames.clone(),
        baseline_frames: hello_frames.clone(),
    });
    let mut reasons = vec![format!(
        "the certificate names {} instead of {sni}",
        if names.is_empty() {
            "nothing".to_string()
        } else {
            names.join(", ")
        }
    )];
    b = b.evidence(Evidence::Note {
        text: format!(
            "issuer: {}{}",
            if issuer.is_empty() {
                "(none)"
            } else {
                issuer.as_str()
            },
            if leaf.self_signed {
                " (self-signed)"
            } else {
                ""
            }
        ),
        frames: cert.frames.clone(),
    });
    if let Some(p) = product {
        b = b.evidence(Evidence::Fingerprint {
            name: "tls_filtering_ca".into(),
            source: "Censored Planet tls.badca outcomes; Waked et al. 2018; Raman et al. IMC 2020"
                .into(),
            scope: "prod".into(),
            location: "tls.certificate.issuer".into(),
            matched: format!("{issuer} ({p})"),
            frames: cert.frames.clone(),
        });
        reasons.push(format!("issued by {issuer}, the CA of {p}"));
    } else if leaf.self_signed {
        reasons.push("self-signed".into());
    } else {
        reasons.push(format!(
            "issued by {issuer}; a misconfigured server can send a certificate for another name, so alone this is a hint"
        ));
    }
    if ttl_off {
        if let (Some(p), Some((lo, hi))) = (packet, reference.ttl) {
            b = b.evidence(Evidence::Mismatch {
                field: "ip_ttl".into(),
                observed: serde_json::json!(p.ttl),
                expected: format!("{lo}–{hi} (the server's other packets)"),
                frames: vec![p.frame],
                baseline_frames: reference.frames.iter().take(6).copied().collect(),
            });
            reasons.push(format!("IP TTL {} unlike the server's", p.ttl));
        }
    }
    let mut f = b.build();
    f.summary = format!(
        "TLS certificate for another name in answer to SNI {sni} (frame {first}): {}",
        reasons.join("; ")
    );
    Some(f)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_and_sites() {
        assert_eq!(
            url_host("http://Example.COM:8080/x").as_deref(),
            Some("example.com")
        );
        assert_eq!(
            url_host("https://[2001:db8::1]/").as_deref(),
            Some("2001:db8::1")
        );
        assert_eq!(
            url_host("https://u:p@10.10.34.34/a").as_deref(),
            Some("10.10.34.34")
        );
        assert_eq!(url_host("/login?next=/"), None);
        assert_eq!(site_of("www.example.co.uk"), "example.co.uk");
        assert_eq!(site_of("a.b.example.com"), "example.com");
        assert_eq!(site_of("example.org"), "example.org");
    }

    #[test]
    fn iframes_to_private_addresses_are_found() {
        let page = r#"<html><body><iframe src="http://10.10.34.34?type=invalid" style="width:100%"></iframe></body></html>"#;
        assert_eq!(private_iframe(page).as_deref(), Some("10.10.34.34"));
        assert_eq!(
            private_iframe(r#"<iframe src="https://www.youtube.com/embed/x">"#),
            None
        );
        assert_eq!(private_iframe("<iframe"), None);
    }
}
