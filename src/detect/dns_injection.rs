//! Finds forged and injected DNS answers: races between an injector and the real resolver,
//! lone forged responses, known blocking addresses, bogon answers and NXDOMAIN rewriting; it
//! reads DNS transactions and flow starts, never bytes.
//!
//! # Signal
//!
//! Each DNS transaction (one query instance, matched on flow, transaction ID and question by
//! `proto::transactions`, with every response that arrived within the transaction window) is
//! kept until the end of the capture and judged against the resolver's *baseline*: the IP TTL,
//! IP ID, DF bit, RA flag, OPT echo and fastest round trip of that resolver's other clean
//! answers in the same capture (leave-one-out, at least 3 of them). The number of transactions
//! kept is bounded (`MAX_DEFERRED`); beyond it the oldest are judged early against the baseline
//! seen so far and `limit_reached_dns_judgement` is reported.
//!
//! - **The race** (Duan et al., "Hold-On", 2012; Anonymous et al., "Triplet Censors", FOCI
//!   2020; OONI `dnsping` delayed responses; signatures.md §2.1(a)): two or more responses to
//!   one query instance whose answers differ: address sets disjoint, or one with addresses and
//!   another NXDOMAIN or empty. A resolver sends one response per query, so `high`. The
//!   responses are scored against the baseline to name the forged one; when nothing tells them
//!   apart, the first is named as the probable forgery (injectors answer first).
//! - **Injector formats** (signatures.md §2.1(d); the Wallbleed analysis of the Great
//!   Firewall's injector, GFW Report et al., NDSS 2025; the Turkmenistan injector,
//!   `breakerspace/turkmenistan-censorship` and net4people/bbs#80): an A record answering a
//!   non-A, non-ANY question; bytes after the end of the DNS message; IP ID 30000 with the
//!   answer 127.0.0.1. Each is `high` for a lone response (`dns_forged_response`).
//! - **Header and timing anomalies** against the baseline (signatures.md §2.1(b), (c)): the
//!   answer came in less than half the resolver's fastest round trip; IP TTL more than 2 from
//!   the resolver's usual; IP ID or DF unlike the resolver's; RA clear although the resolver
//!   sets it; the query's EDNS OPT not echoed although the resolver echoes it (or, without a
//!   baseline, in the injector's one-answer, no-authority, no-additional shape). Two
//!   independent anomalies make a lone response `medium`; one alone is not reported, nor are
//!   anomalies of a resolver on the local network (a query to it does not cross the censor's
//!   path; home gateways answer some queries from a different code path).
//! - **Known blocking addresses** (`dns_blocking_address`): an answer address or CNAME target
//!   in the fingerprint list (`data/fingerprints/dns.csv`, OONI blocking-fingerprints, plus
//!   user files given with `--fingerprints`), `high` when the entry is a national, ISP,
//!   product or institution fingerprint with `confidence_no_fp` of 5 or more, `medium`
//!   otherwise.
//! - **Bogon answers** (`dns_bogon_answer`, OONI `AnalysisFlagDNSBogon`; Censored Planet
//!   `ip.invalid`): an address in a special-purpose range from a resolver whose own address is
//!   public (not local, not documentation or other special space), for a name that is not
//!   local; `low`, as some names really resolve to private addresses.
//! - **NXDOMAIN rewriting** (`dns_nxdomain_rewrite`; Weaver, Kreibich, Paxson, "Redirecting DNS
//!   for Ads and Profit", FOCI 2011): a resolver answered with addresses for a name that it
//!   declared nonexistent for another record type (a name either exists or not, RFC 8020), or
//!   that another resolver in the capture answered NXDOMAIN for, or under a reserved TLD that
//!   cannot exist (`.invalid`, `.test`, `.example`, RFC 2606/6761); `medium`.
//!
//! When the client then opens a connection to an address from a judged response, the
//! connection's first frame is cited: it shows which answer the client used.
//!
//! # Known false positives, and what keeps them out
//!
//! - A retransmitted query answered twice with the same answers, or a duplicated packet:
//!   identical contents are one answer.
//! - A retransmitted query answered twice by the same resolver with different CDN edges:
//!   overlapping address sets are consistent (OONI's IP-overlap rule); disjoint sets from a
//!   query sent several times are a race only when the responses' headers or timing differ.
//! - CDN answer variety between queries or resolvers, parallel resolvers: only responses to the
//!   same query instance are compared.
//! - Genuine NXDOMAIN or SERVFAIL: never a finding by itself.
//! - Split-horizon answers from a local resolver, names under local suffixes, DNS64 answers in
//!   64:ff9b::/96: not bogons.
//! - A home gateway padding its answers with zero bytes, or answering some queries (REFUSED,
//!   search-domain names) with other flags and timing: zero padding is not trailing data,
//!   and header or timing anomalies of a local resolver are not reported.
//! - A stub resolver on the capturing host relaying an answer already judged upstream: not
//!   reported twice.
//! - Anycast resolvers whose IP TTL changes between instances, cache hits and misses: one
//!   anomaly alone is never reported.
//!
//! # Fixtures
//!
//! `fixtures/dns/`: a positive fixture per pattern and a negative twin per trap, over UDP and
//! TCP, IPv4 and IPv6; see `fixtures/README.md`.

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;

use super::addresses::{is_local, is_nat64, special_range};
use super::fingerprints::{Fingerprint, FingerprintSet, Scope};
use super::{Detector, FlowView};
use crate::finding::{
    Confidence, Evidence, Finding, FindingBuilder, FindingClass, FindingKind, FindingSink, FlowRef,
    Payload,
};
use crate::ids::{Direction, FlowId, FrameNumber, L4Proto};
use crate::proto::baseline::{classify_ip_ids, IpIdPattern};
use crate::proto::dns::parse::{DnsMessage, RData, RecordType};
use crate::proto::event::{DnsQueryRef, DnsResponseRef, ProtoEvent};
use crate::time::{Span, Timestamp};

/// Two or more different responses to one query.
pub const DNS_ANSWER_RACE: FindingKind =
    FindingKind::new("dns_answer_race", FindingClass::DnsInjection);
/// A lone response judged forged by its format or its headers and timing.
pub const DNS_FORGED_RESPONSE: FindingKind =
    FindingKind::new("dns_forged_response", FindingClass::DnsInjection);
/// An answer that is a known blocking or poison address or blockpage name.
pub const DNS_BLOCKING_ADDRESS: FindingKind =
    FindingKind::new("dns_blocking_address", FindingClass::DnsInjection);
/// An answer in a special-purpose (bogon) range from a public resolver.
pub const DNS_BOGON_ANSWER: FindingKind =
    FindingKind::new("dns_bogon_answer", FindingClass::DnsInjection);
/// Addresses for a name the resolver or another one declared nonexistent.
pub const DNS_NXDOMAIN_REWRITE: FindingKind =
    FindingKind::new("dns_nxdomain_rewrite", FindingClass::DnsInjection);

/// Every kind this detector emits.
pub const KINDS: [FindingKind; 5] = [
    DNS_ANSWER_RACE,
    DNS_FORGED_RESPONSE,
    DNS_BLOCKING_ADDRESS,
    DNS_BOGON_ANSWER,
    DNS_NXDOMAIN_REWRITE,
];

const NAME: &str = "dns_injection";
/// Transactions kept for judgement at the end of the capture.
pub const MAX_DEFERRED: usize = 200_000;
/// (client, answered address) pairs watched for the client's next connection.
const MAX_WATCH: usize = 65_536;
/// Clean answers needed before a resolver's baseline is used.
const MIN_BASELINE: usize = 3;
/// IP TTL differences up to this are path changes.
const TTL_TOLERANCE: u8 = 2;
/// An answer faster than this fraction of the resolver's fastest round trip is not its own.
const FAST_FRACTION: f64 = 0.5;
/// Round trips shorter than this are too short to judge speed by.
const FAST_MIN_RTT: Span = Span::from_millis(10);
/// A resolver habit (RA set, OPT echoed, DF) holds in at least this share of its answers.
const HABIT: f64 = 0.9;
/// The usual TTL holds in at least this share of the resolver's answers.
const TTL_HABIT: f64 = 0.6;
/// IP IDs of the resolver's answers further than this in time are not compared.
const IP_ID_WINDOW: Span = Span::from_secs(10);
/// An IP ID step larger than this breaks an incrementing counter.
const IP_ID_MAX_STEP: u16 = 4096;
/// IP IDs kept per resolver for the baseline.
const MAX_IDS: usize = 4096;
/// A connection counts as using an answer when it starts within this time of the answer.
const USE_WINDOW: Span = Span::from_secs(120);
/// Answers kept per response.
const MAX_ANSWERS: usize = 32;
/// Trailing bytes quoted.
const MAX_TRAILING_QUOTE: usize = 64;
/// Query names under these suffixes are local: private answers for them are expected.
const LOCAL_SUFFIXES: &[&str] = &[
    ".local",
    ".localhost",
    ".localdomain",
    ".home.arpa",
    ".internal",
    ".lan",
    ".home",
    ".intranet",
    ".corp",
    ".private",
];
/// Reserved top-level domains that cannot exist (RFC 2606, RFC 6761).
const RESERVED_TLDS: &[&str] = &[".invalid", ".test", ".example"];

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum Value {
    Addr(IpAddr),
    Name(String),
    Other(String),
}

impl std::fmt::Display for Value {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Value::Addr(a) => write!(f, "{a}"),
            Value::Name(n) => f.write_str(n),
            Value::Other(o) => f.write_str(o),
        }
    }
}

#[derive(Clone, Debug)]
struct Answer {
    owner: String,
    rtype: u16,
    value: Value,
}

fn type_name(t: u16) -> String {
    RecordType(t)
        .name()
        .map(str::to_string)
        .unwrap_or_else(|| format!("TYPE{t}"))
}

/// What is kept of one response.
#[derive(Clone, Debug)]
struct Resp {
    frame: FrameNumber,
    ts: Timestamp,
    ttl: u8,
    ip_id: Option<u16>,
    df: bool,
    flags: u16,
    rcode: u16,
    counts: [u16; 3],
    opt: bool,
    answers: Vec<Answer>,
    trailing_len: usize,
    trailing: Vec<u8>,
    /// An A record for the question name answering a question of another type.
    a_for_other: Option<Ipv4Addr>,
    payload_len: u32,
}

impl Resp {
    fn new(r: &DnsResponseRef, qname_lc: &str, qtype: u16) -> Resp {
        let m: &DnsMessage = &r.message;
        let answers: Vec<Answer> = m
            .answers
            .iter()
            .take(MAX_ANSWERS)
            .map(|rr| Answer {
                owner: rr.name.to_lowercase(),
                rtype: rr.rtype.0,
                value: match &rr.rdata {
                    RData::A(a) => Value::Addr(IpAddr::V4(*a)),
                    RData::Aaaa(a) => Value::Addr(IpAddr::V6(*a)),
                    RData::Cname(n) | RData::Dname(n) => Value::Name(n.to_lowercase()),
                    other => Value::Other(format!("{other:?}").chars().take(80).collect()),
                },
            })
            .collect();
        let cname_for_q = answers
            .iter()
            .any(|a| a.owner == qname_lc && a.rtype == RecordType::CNAME.0);
        let a_for_other = if qtype != RecordType::A.0 && qtype != 255 && !cname_for_q {
            answers.iter().find_map(|a| match a.value {
                Value::Addr(IpAddr::V4(v4)) if a.owner == qname_lc && a.rtype == 1 => Some(v4),
                _ => None,
            })
        } else {
            None
        };
        Resp {
            frame: r.frame,
            ts: r.ts,
            ttl: r.ip.ttl,
            ip_id: r.ip.ip_id,
            df: r.ip.df,
            flags: m.header.flags,
            rcode: m.header.rcode().0,
            counts: [m.header.ancount, m.header.nscount, m.header.arcount],
            opt: m.edns.is_some(),
            answers,
            trailing_len: m.trailing_bytes,
            trailing: m
                .trailing
                .iter()
                .take(MAX_TRAILING_QUOTE)
                .copied()
                .collect(),
            a_for_other,
            payload_len: m.len as u32,
        }
    }

    fn ra(&self) -> bool {
        self.flags & 0x0080 != 0
    }

    fn addrs(&self) -> BTreeSet<IpAddr> {
        self.answers
            .iter()
            .filter_map(|a| match a.value {
                Value::Addr(x) => Some(x),
                _ => None,
            })
            .collect()
    }

    /// What two responses are compared on: rcode and the answer records, ignoring order and
    /// DNS TTLs.
    fn content(&self) -> (u16, BTreeSet<(u16, Value)>) {
        (
            self.rcode,
            self.answers
                .iter()
                .map(|a| (a.rtype, a.value.clone()))
                .collect(),
        )
    }

    /// No address, and the resolver says the name or the data does not exist.
    fn says_nothing_exists(&self) -> bool {
        self.addrs().is_empty() && (self.rcode == 3 || (self.rcode == 0 && self.answers.is_empty()))
    }

    fn answer_text(&self) -> String {
        let rcode = match self.rcode {
            0 => String::new(),
            3 => "NXDOMAIN".into(),
            2 => "SERVFAIL".into(),
            5 => "REFUSED".into(),
            c => format!("rcode {c}"),
        };
        let list: Vec<String> = self
            .answers
            .iter()
            .map(|a| format!("{} {}", type_name(a.rtype), a.value))
            .collect();
        match (rcode.is_empty(), list.is_empty()) {
            (true, true) => "no answer (NOERROR)".into(),
            (true, false) => list.join(", "),
            (false, true) => rcode,
            (false, false) => format!("{rcode}: {}", list.join(", ")),
        }
    }
}

#[derive(Clone, Debug)]
struct Query {
    frame: FrameNumber,
    id: u16,
    ts: Timestamp,
    ttl: u8,
    ip_id: Option<u16>,
    df: bool,
    qname: String,
    qname_lc: String,
    qtype: u16,
    edns: bool,
    sends: u32,
}

/// One transaction kept for judgement.
#[derive(Clone, Debug)]
struct Tx {
    serial: u64,
    flow: FlowRef,
    resolver: IpAddr,
    query: Query,
    responses: Vec<Resp>,
    /// Counted in the resolver's baseline.
    clean: bool,
}

impl Tx {
    fn delay(&self, r: &Resp) -> Span {
        r.ts.since(self.query.ts)
    }

    /// Distinct response contents, each with its responses, in arrival order.
    fn groups(&self) -> Vec<Vec<&Resp>> {
        let mut groups: Vec<Vec<&Resp>> = Vec::new();
        for r in &self.responses {
            match groups.iter_mut().find(|g| g[0].content() == r.content()) {
                Some(g) => g.push(r),
                None => groups.push(vec![r]),
            }
        }
        groups
    }
}

/// A resolver's habits, from its clean answers.
#[derive(Clone, Debug, Default)]
struct Baseline {
    n: usize,
    ttl: HashMap<u8, usize>,
    /// The two fastest answers to queries sent once: (delay, serial).
    fastest: Vec<(Span, u64)>,
    ra: (usize, usize),
    opt: (usize, usize),
    df: (usize, usize),
    ids: Vec<(Timestamp, u16, u64)>,
    frames: Vec<FrameNumber>,
}

impl Baseline {
    fn add(&mut self, tx: &Tx) {
        let Some(r) = tx.responses.first() else {
            return;
        };
        self.n += 1;
        *self.ttl.entry(r.ttl).or_default() += 1;
        if tx.query.sends == 1 {
            self.fastest.push((tx.delay(r), tx.serial));
            self.fastest.sort();
            self.fastest.truncate(2);
        }
        self.ra.1 += 1;
        self.ra.0 += usize::from(r.ra());
        if tx.query.edns {
            self.opt.1 += 1;
            self.opt.0 += usize::from(r.opt);
        }
        if let Some(id) = r.ip_id {
            self.df.1 += 1;
            self.df.0 += usize::from(r.df);
            if self.ids.len() < MAX_IDS {
                self.ids.push((r.ts, id, tx.serial));
            }
        }
        if self.frames.len() < 6 {
            self.frames.push(r.frame);
        }
    }
}

/// A baseline with one transaction left out.
struct View<'a> {
    b: &'a Baseline,
    without: Option<&'a Tx>,
}

impl View<'_> {
    fn own(&self) -> Option<&Resp> {
        self.without
            .filter(|t| t.clean)
            .and_then(|t| t.responses.first())
    }

    fn n(&self) -> usize {
        self.b.n - usize::from(self.own().is_some())
    }

    fn usual_ttl(&self) -> Option<u8> {
        let n = self.n();
        if n < MIN_BASELINE {
            return None;
        }
        let own = self.own().map(|r| r.ttl);
        let (ttl, count) = self
            .b
            .ttl
            .iter()
            .map(|(t, c)| (*t, c - usize::from(own == Some(*t))))
            .max_by_key(|(t, c)| (*c, std::cmp::Reverse(*t)))?;
        (count as f64 >= TTL_HABIT * n as f64).then_some(ttl)
    }

    fn fastest(&self) -> Option<Span> {
        let serial = self.without.map(|t| t.serial);
        let others: Vec<Span> = self
            .b
            .fastest
            .iter()
            .filter(|(_, s)| Some(*s) != serial)
            .map(|(d, _)| *d)
            .collect();
        (self.n() >= MIN_BASELINE)
            .then(|| others.first().copied())
            .flatten()
    }

    fn habit(&self, (yes, n): (usize, usize), own: Option<bool>) -> Option<bool> {
        let (yes, n) = match own {
            Some(o) => (yes - usize::from(o), n - 1),
            None => (yes, n),
        };
        if n < MIN_BASELINE {
            return None;
        }
        if yes as f64 >= HABIT * n as f64 {
            Some(true)
        } else if (n - yes) as f64 >= HABIT * n as f64 {
            Some(false)
        } else {
            None
        }
    }

    fn ra(&self) -> Option<bool> {
        self.habit(self.b.ra, self.own().map(Resp::ra))
    }

    fn opt(&self) -> Option<bool> {
        let own = self
            .without
            .filter(|t| t.clean && t.query.edns)
            .and_then(|t| t.responses.first())
            .map(|r| r.opt);
        self.habit(self.b.opt, own)
    }

    fn df(&self) -> Option<bool> {
        let own = self.own().and_then(|r| r.ip_id.map(|_| r.df));
        self.habit(self.b.df, own)
    }

    fn ids(&self) -> Vec<(Timestamp, u16)> {
        let serial = self.without.map(|t| t.serial);
        self.b
            .ids
            .iter()
            .filter(|(_, _, s)| Some(*s) != serial)
            .map(|(t, i, _)| (*t, *i))
            .collect()
    }
}

/// Where the client used an answered address.
#[derive(Clone, Copy, Debug)]
struct Usage {
    addr: IpAddr,
    frame: FrameNumber,
    flow: FlowId,
    proto: L4Proto,
    port: u16,
    response_frame: FrameNumber,
}

/// The DNS-injection detector.
pub struct DnsInjection {
    fingerprints: Arc<FingerprintSet>,
    deferred: VecDeque<Tx>,
    baselines: HashMap<IpAddr, Baseline>,
    serial: u64,
    /// (client, answered address) → (query frame, response frame, response time).
    watch: HashMap<(IpAddr, IpAddr), (FrameNumber, FrameNumber, Timestamp)>,
    watch_order: VecDeque<(IpAddr, IpAddr)>,
    /// Query frame → the client's first connection to an answered address.
    usage: HashMap<FrameNumber, Usage>,
    /// Findings of transactions judged early because the backlog was full.
    early: Vec<Judged>,
    limit_noted: bool,
    max_deferred: usize,
}

impl DnsInjection {
    /// A detector matching answers against these fingerprints.
    pub fn new(fingerprints: Arc<FingerprintSet>) -> DnsInjection {
        DnsInjection {
            fingerprints,
            deferred: VecDeque::new(),
            baselines: HashMap::new(),
            serial: 0,
            watch: HashMap::new(),
            watch_order: VecDeque::new(),
            usage: HashMap::new(),
            early: Vec::new(),
            limit_noted: false,
            max_deferred: MAX_DEFERRED,
        }
    }

    /// The same detector keeping at most `n` transactions for judgement at the end (tests of
    /// the limit; [`MAX_DEFERRED`] otherwise).
    pub fn with_max_deferred(mut self, n: usize) -> DnsInjection {
        self.max_deferred = n;
        self
    }
}

impl Default for DnsInjection {
    fn default() -> Self {
        DnsInjection::new(Arc::new(FingerprintSet::builtin()))
    }
}

impl Detector for DnsInjection {
    fn name(&self) -> &'static str {
        NAME
    }

    fn on_event(&mut self, flow: &FlowView<'_>, event: &ProtoEvent, sink: &mut FindingSink) {
        match event {
            ProtoEvent::Packet(p) if p.frame == flow.record.id.first_frame => {
                // A new flow: does it use an address from an earlier answer?
                let key = (flow.record.client.addr, flow.record.server.addr);
                if let Some((qframe, rframe, rts)) = self.watch.get(&key).copied() {
                    let since = p.ts.since(rts);
                    if !since.is_negative()
                        && since <= USE_WINDOW
                        && self.usage.len() < self.max_deferred.max(MAX_WATCH)
                    {
                        self.usage.entry(qframe).or_insert(Usage {
                            addr: key.1,
                            frame: p.frame,
                            flow: flow.record.id,
                            proto: flow.record.proto,
                            port: flow.record.server.port,
                            response_frame: rframe,
                        });
                    }
                }
            }
            ProtoEvent::DnsResponse {
                frame,
                ts,
                message,
                query: Some(q),
                dir: Direction::ServerToClient,
                ..
            } => {
                let client = flow.record.client.addr;
                for rr in &message.answers {
                    let addr = match rr.rdata {
                        RData::A(a) => IpAddr::V4(a),
                        RData::Aaaa(a) => IpAddr::V6(a),
                        _ => continue,
                    };
                    let key = (client, addr);
                    if self.watch.insert(key, (q.frame, *frame, *ts)).is_none() {
                        self.watch_order.push_back(key);
                        while self.watch.len() > MAX_WATCH {
                            match self.watch_order.pop_front() {
                                Some(old) => {
                                    self.watch.remove(&old);
                                }
                                None => break,
                            }
                        }
                    }
                }
            }
            ProtoEvent::DnsTransaction {
                query, responses, ..
            } => {
                if responses.is_empty() {
                    return;
                }
                let tx = self.make_tx(flow, query, responses);
                if tx.clean {
                    self.baselines.entry(tx.resolver).or_default().add(&tx);
                }
                self.deferred.push_back(tx);
                if self.deferred.len() > self.max_deferred {
                    if !self.limit_noted {
                        self.limit_noted = true;
                        sink.diagnostic(
                            crate::diag::DiagnosticKind::LimitReachedDnsJudgement,
                            Some(query.frame),
                            format!(
                                "more than {} DNS transactions waiting for the end of the capture; the oldest are judged against the resolver baselines seen so far",
                                self.max_deferred
                            ),
                        );
                    }
                    if let Some(old) = self.deferred.pop_front() {
                        if let Some(j) = self.judge(&old) {
                            self.early.push(j);
                        }
                    }
                }
            }
            _ => {}
        }
    }

    fn finish(&mut self, sink: &mut FindingSink) {
        let txs: Vec<Tx> = std::mem::take(&mut self.deferred).into_iter().collect();
        let rewrites = nxdomain_evidence(&txs);
        let mut judged: Vec<Judged> = std::mem::take(&mut self.early);
        for tx in &txs {
            let j = match self.judge(tx) {
                Some(j) => Some(j),
                None => rewrites.get(&tx.serial).map(|nx| self.rewrite(tx, nx)),
            };
            judged.extend(j);
        }
        // A stub resolver on the capturing host relays what its upstream answered: when the
        // upstream transaction is already reported, the relayed copy adds nothing.
        let upstream: BTreeSet<(String, BTreeSet<IpAddr>)> = judged
            .iter()
            .filter(|j| !j.resolver.is_loopback())
            .map(|j| (j.qname_lc.clone(), j.addrs.clone()))
            .collect();
        for j in judged {
            if j.resolver.is_loopback()
                && !j.addrs.is_empty()
                && upstream.contains(&(j.qname_lc.clone(), j.addrs.clone()))
            {
                continue;
            }
            sink.push(j.finding);
        }
    }
}

/// A judgement, with what relay suppression needs.
struct Judged {
    resolver: IpAddr,
    qname_lc: String,
    addrs: BTreeSet<IpAddr>,
    finding: Finding,
}

/// Signals of one response that need no baseline.
#[derive(Default)]
struct Own {
    device: Option<String>,
    a_for_other: Option<Ipv4Addr>,
    trailing: bool,
    fingerprints: Vec<(Value, Fingerprint)>,
    bogons: Vec<(IpAddr, &'static str, &'static str)>,
}

impl Own {
    fn strong(&self) -> bool {
        self.device.is_some() || self.a_for_other.is_some() || self.trailing
    }
}

/// Anomalies of one response against its resolver's baseline.
#[derive(Default)]
struct Anomalies {
    fast: Option<Evidence>,
    ttl: Option<Evidence>,
    header: Vec<Evidence>,
    ra: Option<Evidence>,
    opt: Option<Evidence>,
    words: Vec<String>,
}

impl Anomalies {
    fn count(&self) -> usize {
        usize::from(self.fast.is_some())
            + usize::from(self.ttl.is_some())
            + usize::from(!self.header.is_empty())
            + usize::from(self.ra.is_some())
            + usize::from(self.opt.is_some())
    }

    fn items(&self) -> Vec<Evidence> {
        let mut v = Vec::new();
        v.extend(self.fast.clone());
        v.extend(self.ttl.clone());
        v.extend(self.header.iter().cloned());
        v.extend(self.ra.clone());
        v.extend(self.opt.clone());
        v
    }
}

fn is_local_name(qname_lc: &str) -> bool {
    let n = qname_lc.trim_end_matches('.');
    !n.contains('.') || LOCAL_SUFFIXES.iter().any(|s| n.ends_with(s))
}

impl DnsInjection {
    fn make_tx(
        &mut self,
        flow: &FlowView<'_>,
        q: &DnsQueryRef,
        responses: &[DnsResponseRef],
    ) -> Tx {
        self.serial += 1;
        let qname_lc = q.qname.to_lowercase();
        let resps: Vec<Resp> = responses
            .iter()
            .map(|r| Resp::new(r, &qname_lc, q.qtype))
            .collect();
        let mut tx = Tx {
            serial: self.serial,
            flow: flow.flow_ref(),
            resolver: flow.record.server.addr,
            query: Query {
                frame: q.frame,
                id: q.id,
                ts: q.ts,
                ttl: q.ip.ttl,
                ip_id: q.ip.ip_id,
                df: q.ip.df,
                qname: q.qname.clone(),
                qname_lc,
                qtype: q.qtype,
                edns: q.edns,
                sends: q.sends,
            },
            responses: resps,
            clean: false,
        };
        let single = tx.groups().len() == 1;
        let first = &tx.responses[0];
        let own = self.own_signals(&tx, first);
        tx.clean = single
            && matches!(first.rcode, 0 | 3)
            && !own.strong()
            && own.fingerprints.is_empty()
            && own.bogons.is_empty();
        tx
    }

    fn own_signals(&self, tx: &Tx, r: &Resp) -> Own {
        let mut own = Own {
            a_for_other: r.a_for_other,
            // Zero padding (some home gateways pad every answer to 512 bytes) is not the
            // leaked memory or copied query bytes of an injector.
            trailing: r.trailing_len > 0 && r.trailing.iter().any(|&b| b != 0),
            ..Own::default()
        };
        let loopback = IpAddr::V4(Ipv4Addr::LOCALHOST);
        if r.ip_id == Some(30000) && r.addrs().contains(&loopback) {
            own.device = Some(
                "the Turkmenistan DNS injector (IP ID 30000, answer 127.0.0.1; breakerspace/turkmenistan-censorship, net4people/bbs#80)"
                    .into(),
            );
        }
        for a in &r.answers {
            let hits: Vec<&Fingerprint> = match &a.value {
                Value::Addr(x) => self.fingerprints.match_dns_address(*x),
                Value::Name(n) => self.fingerprints.match_dns_name(n),
                Value::Other(_) => Vec::new(),
            };
            for h in hits {
                if !own.fingerprints.iter().any(|(_, f)| f.name == h.name) {
                    own.fingerprints.push((a.value.clone(), h.clone()));
                }
            }
        }
        if special_range(tx.resolver).is_none() && !is_local_name(&tx.query.qname_lc) {
            for x in r.addrs() {
                if is_nat64(x) {
                    continue;
                }
                if let Some(s) = special_range(x) {
                    own.bogons.push((x, s.cidr, s.purpose));
                }
            }
        }
        own
    }

    fn anomalies(&self, tx: &Tx, r: &Resp, view: &View<'_>) -> Anomalies {
        let mut a = Anomalies::default();
        let base = view.b.frames.clone();
        if tx.query.sends == 1 {
            if let Some(fastest) = view.fastest() {
                let d = tx.delay(r);
                if fastest >= FAST_MIN_RTT
                    && (d.as_nanos() as f64) < FAST_FRACTION * fastest.as_nanos() as f64
                {
                    a.fast = Some(Evidence::Timing {
                        what: "dns_response_after_query".into(),
                        delta_ms: d.as_millis_f64(),
                        from_frame: tx.query.frame,
                        to_frame: r.frame,
                        reference: Some(
                            "the resolver's fastest answer to any other query in this capture: its own answer cannot come much sooner"
                                .into(),
                        ),
                        reference_ms: Some(fastest.as_millis_f64()),
                    });
                    a.words.push(format!("arrived {d} after the query when the resolver never answered in less than {fastest}"));
                }
            }
        }
        if let Some(usual) = view.usual_ttl() {
            if r.ttl.abs_diff(usual) > TTL_TOLERANCE {
                a.ttl = Some(Evidence::Mismatch {
                    field: "ip_ttl".into(),
                    observed: serde_json::json!(r.ttl),
                    expected: format!(
                        "{usual} (the resolver's other answers in this capture; up to {TTL_TOLERANCE} hops of path change tolerated)"
                    ),
                    frames: vec![r.frame],
                    baseline_frames: base.clone(),
                });
                a.words.push(format!(
                    "IP TTL {} where the resolver's answers have {usual}",
                    r.ttl
                ));
            }
        }
        if let Some(id) = r.ip_id {
            if let Some(df) = view.df() {
                if r.df != df {
                    a.header.push(Evidence::Mismatch {
                        field: "ip_df".into(),
                        observed: serde_json::json!(r.df),
                        expected: format!("{df} (the resolver's other answers)"),
                        frames: vec![r.frame],
                        baseline_frames: base.clone(),
                    });
                    a.words.push("the DF bit unlike the resolver's".into());
                }
            }
            if let Some(e) = ip_id_anomaly(id, r, &view.ids(), &base) {
                a.header.push(e);
                a.words
                    .push(format!("IP ID {id} outside the resolver's sequence"));
            }
        }
        if view.ra() == Some(true) && !r.ra() {
            a.ra = Some(Evidence::Mismatch {
                field: "dns_flags".into(),
                observed: serde_json::json!(format!("0x{:04x} (RA clear)", r.flags)),
                expected: "RA set, as in every other answer of this recursive resolver".into(),
                frames: vec![r.frame],
                baseline_frames: base.clone(),
            });
            a.words
                .push("recursion-available flag clear, unlike the resolver's answers".into());
        }
        if tx.query.edns && !r.opt {
            let shape = r.counts == [1, 0, 0];
            match view.opt() {
                Some(true) => {
                    a.opt = Some(Evidence::Mismatch {
                        field: "dns_opt".into(),
                        observed: serde_json::json!("no OPT record"),
                        expected: "an OPT record: the query carried EDNS and the resolver echoes it in its other answers".into(),
                        frames: vec![r.frame],
                        baseline_frames: base.clone(),
                    });
                    a.words.push("the query's EDNS OPT not echoed".into());
                }
                None if shape => {
                    a.opt = Some(Evidence::Mismatch {
                        field: "dns_opt".into(),
                        observed: serde_json::json!("one answer, no authority, no additional records"),
                        expected: "an OPT record: the query carried EDNS, and an EDNS-aware resolver echoes it (the Great Firewall's injector does not)".into(),
                        frames: vec![r.frame],
                        baseline_frames: vec![tx.query.frame],
                    });
                    a.words
                        .push("the injector's shape: one answer, no OPT echo".into());
                }
                _ => {}
            }
        }
        a
    }

    fn judge(&self, tx: &Tx) -> Option<Judged> {
        let empty = Baseline::default();
        let view = View {
            b: self.baselines.get(&tx.resolver).unwrap_or(&empty),
            without: Some(tx),
        };
        let groups = tx.groups();
        let finding = if groups.len() >= 2 {
            self.judge_race(tx, &groups, &view)
        } else {
            self.judge_single(tx, &view)
        }?;
        let addrs = groups.iter().flat_map(|g| g[0].addrs()).collect();
        Some(Judged {
            resolver: tx.resolver,
            qname_lc: tx.query.qname_lc.clone(),
            addrs,
            finding,
        })
    }

    fn builder(&self, tx: &Tx, kind: FindingKind, confidence: Confidence) -> FindingBuilder {
        FindingBuilder::new(NAME, kind, confidence, tx.flow, String::new())
            .trigger("dns_query", tx.query.qname.clone(), Some(tx.query.frame))
            .evidence(Evidence::Packet {
                frame: tx.query.frame,
                role: format!(
                    "query for {} {}{}",
                    tx.query.qname,
                    type_name(tx.query.qtype),
                    if tx.query.sends > 1 {
                        format!(" (sent {} times)", tx.query.sends)
                    } else {
                        String::new()
                    }
                ),
                direction: Direction::ClientToServer,
                ts: tx.query.ts,
                ttl: tx.query.ttl,
                ip_id: tx.query.ip_id,
                df: tx.query.ip_id.map(|_| tx.query.df),
                tcp_flags: None,
                seq: None,
                ack: None,
                window: None,
                payload_len: 0,
            })
    }

    fn usage_evidence(&self, tx: &Tx, forged: &[&Resp]) -> (Option<Evidence>, Option<String>) {
        let Some(u) = self.usage.get(&tx.query.frame) else {
            return (None, None);
        };
        let from_forged = forged.iter().any(|r| r.addrs().contains(&u.addr));
        let which = if from_forged {
            "the forged answer"
        } else if forged.is_empty() {
            "this answer"
        } else {
            "the genuine answer"
        };
        let text = format!(
            "the client then opened a {} connection to {}:{} (frame {}, flow {}), an address from {which} (frame {})",
            u.proto, u.addr, u.port, u.frame, u.flow, u.response_frame
        );
        let words = format!("the client then connected to {} ({which})", u.addr);
        (
            Some(Evidence::Note {
                text,
                frames: vec![u.frame],
            }),
            Some(words),
        )
    }

    fn judge_race(&self, tx: &Tx, groups: &[Vec<&Resp>], view: &View<'_>) -> Option<Finding> {
        // Do the answers really disagree?
        let firsts: Vec<&Resp> = groups.iter().map(|g| g[0]).collect();
        let mut disagree = false;
        for (i, a) in firsts.iter().enumerate() {
            for b in &firsts[i + 1..] {
                let (x, y) = (a.addrs(), b.addrs());
                let disjoint = !x.is_empty() && !y.is_empty() && x.is_disjoint(&y);
                let one_empty = (!x.is_empty() && b.says_nothing_exists())
                    || (!y.is_empty() && a.says_nothing_exists());
                disagree |= disjoint || one_empty;
            }
        }
        if !disagree {
            // Overlapping answers (round robin, CDN subsets) or two kinds of failure.
            return None;
        }
        let owns: Vec<Own> = firsts.iter().map(|r| self.own_signals(tx, r)).collect();
        let anomalies: Vec<Anomalies> =
            firsts.iter().map(|r| self.anomalies(tx, r, view)).collect();
        // A query sent several times may be answered several times by the resolver itself.
        if tx.query.sends >= 2 && tx.responses.len() as u32 <= tx.query.sends {
            let same_sender = firsts.windows(2).all(|w| {
                w[0].ttl.abs_diff(w[1].ttl) <= TTL_TOLERANCE
                    && w[0].df == w[1].df
                    && w[0].ra() == w[1].ra()
            });
            let quiet = owns
                .iter()
                .all(|o| !o.strong() && o.fingerprints.is_empty() && o.bogons.is_empty())
                && anomalies.iter().all(|a| a.fast.is_none());
            if same_sender && quiet {
                return None;
            }
        }
        // Score each distinct answer to name the forged one.
        let scores: Vec<usize> = owns
            .iter()
            .zip(&anomalies)
            .map(|(o, a)| {
                2 * (usize::from(o.strong()) + usize::from(!o.fingerprints.is_empty()))
                    + usize::from(!o.bogons.is_empty())
                    + a.count()
            })
            .collect();
        let max = scores.iter().copied().max().unwrap_or(0);
        let min = scores.iter().copied().min().unwrap_or(0);
        let forged_idx: Vec<usize> = if max > min {
            (0..firsts.len()).filter(|&i| scores[i] == max).collect()
        } else {
            Vec::new()
        };
        let mut b = self
            .builder(tx, DNS_ANSWER_RACE, Confidence::High)
            .at(firsts[0].ts);
        let mut lines = Vec::new();
        for (gi, g) in groups.iter().enumerate() {
            for r in g {
                let role = if forged_idx.contains(&gi) {
                    "forged response"
                } else if !forged_idx.is_empty() {
                    "genuine response"
                } else if gi == 0 {
                    "first response (probably forged: injectors answer first)"
                } else {
                    "later response"
                };
                b = b.evidence(response_packet(r, tx, role));
            }
            let r = g[0];
            lines.push(format!(
                "frame {} ({} after the query, IP TTL {}{}): {}",
                r.frame,
                tx.delay(r),
                r.ttl,
                r.ip_id.map_or(String::new(), |i| format!(", IP ID {i}")),
                r.answer_text()
            ));
        }
        b = b.evidence(Evidence::Note {
            text: format!(
                "{} different answers to one query (same resolver, ports, transaction ID 0x{:04x} and question); a resolver answers a query once, so something else answered too: {}",
                groups.len(),
                tx.query.id,
                lines.join("; ")
            ),
            frames: tx.responses.iter().map(|r| r.frame).collect(),
        });
        let forged: Vec<&Resp> = forged_idx.iter().map(|&i| firsts[i]).collect();
        let genuine: Vec<&Resp> = (0..firsts.len())
            .filter(|i| !forged_idx.contains(i))
            .map(|i| firsts[i])
            .collect();
        let mut reasons = Vec::new();
        for &i in &forged_idx {
            let r = firsts[i];
            if let Some(g) = genuine.first() {
                b = b.evidence(Evidence::Mismatch {
                    field: "dns_answer".into(),
                    observed: serde_json::json!(r.answer_text()),
                    expected: format!("{} (frame {})", g.answer_text(), g.frame),
                    frames: vec![r.frame],
                    baseline_frames: vec![g.frame],
                });
            }
            for e in own_items(&owns[i], r) {
                b = b.evidence(e);
            }
            for e in anomalies[i].items() {
                b = b.evidence(e);
            }
            reasons.extend(own_words(&owns[i]));
            reasons.extend(anomalies[i].words.iter().cloned());
        }
        let (usage, usage_words) = self.usage_evidence(tx, &forged);
        if let Some(e) = usage {
            b = b.evidence(e);
        }
        let mut f = b.build();
        let list: Vec<String> = firsts
            .iter()
            .map(|r| format!("{} (frame {}, {})", r.answer_text(), r.frame, tx.delay(r)))
            .collect();
        let mut summary = format!(
            "{} different answers to one DNS query for {} {} from {}: {}",
            groups.len(),
            tx.query.qname,
            type_name(tx.query.qtype),
            tx.resolver,
            list.join(" vs ")
        );
        if forged_idx.is_empty() {
            summary.push_str("; the headers do not tell which is forged, the first probably is");
        } else {
            let which: Vec<String> = forged
                .iter()
                .map(|r| format!("frame {}", r.frame))
                .collect();
            summary.push_str(&format!("; forged: {}", which.join(", ")));
            if !reasons.is_empty() {
                summary.push_str(&format!(" ({})", reasons.join("; ")));
            }
        }
        if let Some(w) = usage_words {
            summary.push_str(&format!("; {w}"));
        }
        f.summary = summary;
        Some(f)
    }

    fn judge_single(&self, tx: &Tx, view: &View<'_>) -> Option<Finding> {
        let r = &tx.responses[0];
        let own = self.own_signals(tx, r);
        let a = self.anomalies(tx, r, view);
        let strong_fp = own.fingerprints.iter().any(|(_, f)| strong_fingerprint(f));
        let (kind, confidence) = if own.strong() {
            (DNS_FORGED_RESPONSE, Confidence::High)
        } else if a.count() >= 2 && !is_local(tx.resolver) {
            (
                DNS_FORGED_RESPONSE,
                if strong_fp {
                    Confidence::High
                } else {
                    Confidence::Medium
                },
            )
        } else if !own.fingerprints.is_empty() {
            (
                DNS_BLOCKING_ADDRESS,
                if strong_fp {
                    Confidence::High
                } else {
                    Confidence::Medium
                },
            )
        } else if !own.bogons.is_empty() {
            (DNS_BOGON_ANSWER, Confidence::Low)
        } else {
            return None;
        };
        let mut b = self.builder(tx, kind, confidence).at(r.ts);
        let role = match kind {
            k if k == DNS_FORGED_RESPONSE => "forged response",
            _ => "response",
        };
        for x in &tx.responses {
            b = b.evidence(response_packet(x, tx, role));
        }
        for e in own_items(&own, r) {
            b = b.evidence(e);
        }
        for e in a.items() {
            b = b.evidence(e);
        }
        if kind == DNS_BOGON_ANSWER {
            b = b.evidence(Evidence::Note {
                text: format!(
                    "the resolver {} is not on the local network, yet it answered {} with an address reserved for special use; some names really resolve to private addresses, so this alone is only a hint",
                    tx.resolver, tx.query.qname
                ),
                frames: vec![r.frame],
            });
        }
        let forged: Vec<&Resp> = if kind == DNS_FORGED_RESPONSE {
            vec![r]
        } else {
            Vec::new()
        };
        let (usage, usage_words) = self.usage_evidence(tx, &forged);
        if let Some(e) = usage {
            b = b.evidence(e);
        }
        let mut reasons = own_words(&own);
        reasons.extend(a.words.iter().cloned());
        if let Some(w) = usage_words {
            reasons.push(w);
        }
        let mut f = b.build();
        let head = match kind {
            k if k == DNS_FORGED_RESPONSE => "Forged DNS response",
            k if k == DNS_BLOCKING_ADDRESS => "Known blocking answer",
            _ => "Bogon DNS answer",
        };
        f.summary = format!(
            "{head} for {} {} from {} (frame {}, {} after the query): {}; {}",
            tx.query.qname,
            type_name(tx.query.qtype),
            tx.resolver,
            r.frame,
            tx.delay(r),
            r.answer_text(),
            reasons.join("; ")
        );
        Some(f)
    }

    fn rewrite(&self, tx: &Tx, nx: &NxEvidence) -> Judged {
        let r = &tx.responses[0];
        let mut b = self
            .builder(tx, DNS_NXDOMAIN_REWRITE, Confidence::Medium)
            .at(r.ts);
        b = b.evidence(response_packet(r, tx, "response with addresses"));
        for (frame, what) in &nx.nx {
            b = b.evidence(Evidence::Note {
                text: what.clone(),
                frames: vec![*frame],
            });
        }
        if let Some(reason) = &nx.reserved {
            b = b.evidence(Evidence::Note {
                text: reason.clone(),
                frames: vec![r.frame],
            });
        }
        b = b.evidence(Evidence::Note {
            text: "resolvers that rewrite NXDOMAIN answers send users to a search or advertising page instead of reporting that the name does not exist; this is manipulation of DNS, not necessarily censorship".into(),
            frames: vec![],
        });
        let mut f = b.build();
        f.summary = format!(
            "NXDOMAIN rewritten: {} answered {} {} with {} (frame {}), but {}",
            tx.resolver,
            tx.query.qname,
            type_name(tx.query.qtype),
            r.answer_text(),
            r.frame,
            nx.words.join("; and ")
        );
        Judged {
            resolver: tx.resolver,
            qname_lc: tx.query.qname_lc.clone(),
            addrs: r.addrs(),
            finding: f,
        }
    }
}

fn strong_fingerprint(f: &Fingerprint) -> bool {
    !matches!(f.scope, Scope::Vbw | Scope::Fp) && f.confidence_no_fp >= 5
}

fn response_packet(r: &Resp, tx: &Tx, role: &str) -> Evidence {
    let _ = tx;
    Evidence::Packet {
        frame: r.frame,
        role: format!("{role}: {}", r.answer_text()),
        direction: Direction::ServerToClient,
        ts: r.ts,
        ttl: r.ttl,
        ip_id: r.ip_id,
        df: r.ip_id.map(|_| r.df),
        tcp_flags: None,
        seq: None,
        ack: None,
        window: None,
        payload_len: r.payload_len,
    }
}

fn own_items(own: &Own, r: &Resp) -> Vec<Evidence> {
    let mut v = Vec::new();
    if let Some(d) = &own.device {
        v.push(Evidence::Fingerprint {
            name: "tm_dns_injector".into(),
            source: "breakerspace/turkmenistan-censorship README; net4people/bbs#80".into(),
            scope: "nat".into(),
            location: "dns.header".into(),
            matched: d.clone(),
            frames: vec![r.frame],
        });
    }
    if let Some(a) = own.a_for_other {
        v.push(Evidence::Mismatch {
            field: "dns_answer_type".into(),
            observed: serde_json::json!(format!("A {a}")),
            expected: "records of the queried type (or a CNAME): no resolver answers another type's question with an A record; the Great Firewall's injector does (Wallbleed analysis, NDSS 2025)".into(),
            frames: vec![r.frame],
            baseline_frames: vec![],
        });
    }
    if own.trailing {
        v.push(Evidence::Payload {
            frame: r.frame,
            what: format!(
                "{} bytes after the end of the DNS message (a resolver sends none; injectors have leaked memory or copied query bytes there)",
                r.trailing_len
            ),
            bytes: Payload(r.trailing.clone()),
            truncated: r.trailing_len > r.trailing.len(),
        });
    }
    for (value, f) in &own.fingerprints {
        v.push(Evidence::Fingerprint {
            name: f.name.clone(),
            source: format!(
                "{}{}",
                f.source,
                if f.origin == "builtin" {
                    " (tamper's bundled list, from OONI blocking-fingerprints)".to_string()
                } else {
                    format!(" (from {})", f.origin)
                }
            ),
            scope: f.scope.as_str().into(),
            location: "dns.answer".into(),
            matched: format!(
                "{value}{}{}",
                if f.countries.is_empty() {
                    String::new()
                } else {
                    format!(" [{}]", f.countries.join(","))
                },
                if f.notes.is_empty() {
                    String::new()
                } else {
                    format!(": {}", f.notes)
                }
            ),
            frames: vec![r.frame],
        });
    }
    for (addr, cidr, purpose) in &own.bogons {
        v.push(Evidence::Mismatch {
            field: "dns_answer".into(),
            observed: serde_json::json!(addr.to_string()),
            expected: format!("a public address; {addr} is in {cidr}, {purpose}"),
            frames: vec![r.frame],
            baseline_frames: vec![],
        });
    }
    v
}

fn own_words(own: &Own) -> Vec<String> {
    let mut v = Vec::new();
    if let Some(d) = &own.device {
        v.push(format!("matches {d}"));
    }
    if let Some(a) = own.a_for_other {
        v.push(format!(
            "an A record ({a}) answering a question of another type"
        ));
    }
    if own.trailing {
        v.push("bytes after the end of the message".into());
    }
    for (value, f) in &own.fingerprints {
        let countries = if f.countries.is_empty() || f.countries.iter().all(|c| c == "ZZ") {
            String::new()
        } else {
            format!(", {}", f.countries.join("/"))
        };
        let what = match value {
            Value::Addr(_) => "address",
            _ => "name",
        };
        v.push(format!(
            "{value} is a known blocking {what} ({}: {}{countries})",
            f.name,
            f.scope.describe()
        ));
    }
    for (addr, cidr, _) in &own.bogons {
        v.push(format!("{addr} is a bogon ({cidr})"));
    }
    v
}

fn ip_id_anomaly(
    id: u16,
    r: &Resp,
    ids: &[(Timestamp, u16)],
    base: &[FrameNumber],
) -> Option<Evidence> {
    let values: Vec<u16> = ids.iter().map(|(_, i)| *i).collect();
    let mismatch = |expected: String| {
        Some(Evidence::Mismatch {
            field: "ip_id".into(),
            observed: serde_json::json!(id),
            expected,
            frames: vec![r.frame],
            baseline_frames: base.to_vec(),
        })
    };
    match classify_ip_ids(&values) {
        IpIdPattern::Zero if id != 0 => {
            mismatch("0 (the resolver's answers always carry IP ID 0)".into())
        }
        IpIdPattern::Constant { value } if id != value => mismatch(format!(
            "{value} (the resolver's answers always carry this IP ID)"
        )),
        IpIdPattern::Incrementing { byte_swapped, .. } => {
            let norm = |v: u16| if byte_swapped { v.swap_bytes() } else { v };
            let near = |t: Timestamp| t.since(r.ts).as_nanos().abs() <= IP_ID_WINDOW.as_nanos();
            let prev = ids
                .iter()
                .filter(|(t, _)| *t <= r.ts && near(*t))
                .map(|(_, i)| norm(*i))
                .next_back();
            let next = ids
                .iter()
                .find(|(t, _)| *t > r.ts && near(*t))
                .map(|(_, i)| norm(*i));
            if prev.is_none() && next.is_none() {
                return None;
            }
            let x = norm(id);
            let fits_prev = prev.is_none_or(|p| x.wrapping_sub(p) <= IP_ID_MAX_STEP);
            let fits_next = next.is_none_or(|n| n.wrapping_sub(x) <= IP_ID_MAX_STEP);
            if fits_prev && fits_next {
                None
            } else {
                mismatch(match (prev, next) {
                    (Some(p), Some(n)) => {
                        format!("between {p} and {n} (the resolver's IP ID counter)")
                    }
                    (Some(p), None) => format!("a little above {p} (the resolver's IP ID counter)"),
                    (None, Some(n)) => format!("a little below {n} (the resolver's IP ID counter)"),
                    (None, None) => "in the resolver's IP ID sequence".into(),
                })
            }
        }
        _ => None,
    }
}

/// Why a transaction's addresses contradict a nonexistent name.
struct NxEvidence {
    nx: Vec<(FrameNumber, String)>,
    reserved: Option<String>,
    words: Vec<String>,
}

/// Transactions whose addresses contradict an NXDOMAIN elsewhere in the capture, or a name
/// that cannot exist.
fn nxdomain_evidence(txs: &[Tx]) -> HashMap<u64, NxEvidence> {
    let mut nx: HashMap<&str, Vec<&Tx>> = HashMap::new();
    for tx in txs {
        if tx.groups().len() == 1 && tx.responses[0].rcode == 3 {
            nx.entry(tx.query.qname_lc.as_str()).or_default().push(tx);
        }
    }
    let mut out = HashMap::new();
    for tx in txs {
        if tx.groups().len() != 1 {
            continue;
        }
        let r = &tx.responses[0];
        let addrs = r.addrs();
        if r.rcode != 0 || addrs.is_empty() {
            continue;
        }
        // A split-horizon resolver on the local network knows names the public ones do not.
        let private = addrs.iter().all(|a| special_range(*a).is_some());
        if is_local(tx.resolver) && private {
            continue;
        }
        let mut ev = NxEvidence {
            nx: Vec::new(),
            reserved: None,
            words: Vec::new(),
        };
        for other in nx.get(tx.query.qname_lc.as_str()).into_iter().flatten() {
            let o = &other.responses[0];
            if other.resolver == tx.resolver && other.query.qtype != tx.query.qtype {
                ev.nx.push((
                    o.frame,
                    format!(
                        "the same resolver answered {} {} with NXDOMAIN (frame {}, query frame {}): the name does not exist for any type (RFC 8020)",
                        other.query.qname,
                        type_name(other.query.qtype),
                        o.frame,
                        other.query.frame
                    ),
                ));
                ev.words.push(format!(
                    "it answered {} with NXDOMAIN (frame {})",
                    type_name(other.query.qtype),
                    o.frame
                ));
            } else if other.resolver != tx.resolver && other.query.qtype == tx.query.qtype {
                ev.nx.push((
                    o.frame,
                    format!(
                        "the resolver {} answered the same question with NXDOMAIN (frame {}, query frame {})",
                        other.resolver, o.frame, other.query.frame
                    ),
                ));
                ev.words.push(format!(
                    "{} answered NXDOMAIN (frame {})",
                    other.resolver, o.frame
                ));
            }
        }
        let name = tx.query.qname_lc.trim_end_matches('.');
        if let Some(tld) = RESERVED_TLDS.iter().find(|t| name.ends_with(*t)) {
            ev.reserved = Some(format!(
                "{} is under the reserved top-level domain {tld}, which does not exist in the public DNS (RFC 2606, RFC 6761)",
                tx.query.qname
            ));
            ev.words.push(format!("{tld} names do not exist"));
        }
        if !ev.nx.is_empty() || ev.reserved.is_some() {
            out.insert(tx.serial, ev);
        }
    }
    out
}
