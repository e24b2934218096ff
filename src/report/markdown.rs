//! Markdown and plain-text writers: an incident write-up of a run (what was captured, what was
//! found and how sure, what was not found, what limits the conclusions, how to reproduce) and
//! the `tamper flows` table; they only phrase what the report holds and decide nothing.
//!
//! The write-up is deterministic: the same report gives the same bytes (no wall-clock time, no
//! map iteration order). Its wording of classes, confidence levels and absences follows
//! `docs/findings.md`; its layout is not a machine format.

use std::fmt::Write as _;
use std::io::{self, Write};

use super::{CaptureReport, CaptureStatus, CaptureSummary, FlowSummary, LimitsUsed, Report};
use crate::diag::{DiagnosticKind, DiagnosticSummary};
use crate::finding::{Confidence, Evidence, Finding, FindingClass};
use crate::flow::{
    HandshakeSide, HandshakeVotes, HostBasis, Vantage, VantageHost, MAX_VANTAGE_ADDRESSES,
};
use crate::ids::L4Proto;

/// Escapes text for a Markdown table cell (pipes, newlines, backticks, angle brackets).
fn cell(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '|' => out.push_str("\\|"),
            '\n' => out.push_str("<br>"),
            '\r' => {}
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '`' => out.push('\''),
            c if c.is_control() => out.push_str(&format!("\\x{:02x}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

/// Escapes text for running prose: no HTML, no emphasis, no code spans, one line.
fn prose(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '*' | '\\' | '[' | ']' => {
                out.push('\\');
                out.push(c);
            }
            '`' => out.push('\''),
            '\n' | '\r' | '\t' => out.push(' '),
            c if c.is_control() => out.push_str(&format!("\\x{:02x}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

/// Prose that ends with a full stop.
fn sentence(s: &str) -> String {
    let mut p = prose(s.trim_end());
    if !p.ends_with(['.', '!', '?']) {
        p.push('.');
    }
    p
}

/// Inline code with backticks removed from the content.
fn code(s: &str) -> String {
    let clean: String = s
        .chars()
        .map(|c| match c {
            '`' => '\'',
            c if c.is_control() => ' ',
            c => c,
        })
        .collect();
    format!("`{clean}`")
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// `1 finding`, `3 findings`.
fn count(n: usize, noun: &str) -> String {
    format!("{n} {noun}{}", plural(n))
}

/// Capital first letter.
fn capitalized(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// What a confidence level means (docs/findings.md, "Confidence").
fn confidence_meaning(c: Confidence) -> &'static str {
    match c {
        Confidence::High => {
            "a benign cause cannot produce this in practice (an injection race together with \
             header fields foreign to the flow, or an exact match of a known device fingerprint)"
        }
        Confidence::Medium => {
            "several independent signals point to interference; a rare benign cause remains \
             possible"
        }
        Confidence::Low => {
            "one weak signal, reported for context; not a claim of interference by itself"
        }
    }
}

/// What a class covers (docs/findings.md, "Classes").
fn class_covers(c: FindingClass) -> &'static str {
    match c {
        FindingClass::RstInjection => {
            "forged TCP RST or FIN teardown claiming to come from the other endpoint, injected \
             data and forged SYN-ACKs"
        }
        FindingClass::DnsInjection => {
            "forged or injected DNS answers, and resolvers rewriting answers"
        }
        FindingClass::Blockpage => {
            "block notices and forced redirects, injected or served by a filtering proxy, and \
             certificates for another name"
        }
        FindingClass::Throttling => {
            "policing, targeted slowdowns, transfers frozen after a few kilobytes and slow \
             handshakes"
        }
        FindingClass::Blackhole => {
            "silent drops: unanswered handshakes, requests dropped after the trigger, blocked \
             QUIC, whole-network cuts"
        }
    }
}

/// What tamper looked for in a class, and what an absence does and does not mean
/// (docs/findings.md, each class's section).
fn class_absence(c: FindingClass) -> (&'static str, &'static str) {
    match c {
        FindingClass::RstInjection => (
            "tamper compared every RST, FIN and data segment claiming to come from the remote \
             side of a TCP flow with that side's own packets in the flow (TTL, IP ID, DF, \
             sequence numbers, timing, whether the real endpoint kept sending) and with known \
             injector fingerprints.",
            "No finding means no teardown in these flows looked forged. It does not mean no \
             connection was reset on the path: an injector that copies the real sender's \
             header fields leaves no trace in them, and a reset the capture did not record \
             cannot be judged.",
        ),
        FindingClass::DnsInjection => (
            "tamper paired every DNS query with the responses that arrived within 10 s and \
             looked for answers that race and disagree, responses whose IP and DNS headers or \
             timing differ from the resolver's other answers, known blocking addresses, bogon \
             answers and NXDOMAIN rewriting.",
            "No finding means the DNS answers in the capture look like their resolvers' own. \
             It says nothing about DNS over HTTPS, TLS or QUIC (encrypted), responses whose \
             query is not in the capture, or a filtering resolver that answers with an \
             ordinary-looking address that is not a known blocking address.",
        ),
        FindingClass::Blockpage => (
            "tamper matched every plain-HTTP response against OONI's and Censored Planet's \
             blockpage fingerprints, checked for injected responses and redirects (timing, \
             header tells, a race with the real response), block notices and geoblocks, and \
             checked TLS certificates for another name or a filtering product's CA.",
            "No finding means no plain-HTTP response and no visible certificate looked like \
             blocking. It does not mean nothing was blocked: pages inside TLS cannot be read, \
             TLS 1.3 hides the certificate, and an unknown blockpage in the site's own style \
             looks like the site's page.",
        ),
        FindingClass::Throttling => (
            "tamper checked each TCP transfer for traffic policing (the token-bucket heuristic \
             of Flach et al., SIGCOMM 2016), compared flows with comparable flows to the same \
             server network for targeted slowdowns, and looked for transfers frozen at 10 to \
             25 KB and handshakes far slower than the same server's others.",
            "No finding means no TCP transfer showed these patterns. It does not mean the line \
             was fast: a cap on all traffic alike is not targeted throttling, short transfers \
             carry too little data to judge, and UDP (QUIC) transfers are not examined.",
        ),
        FindingClass::Blackhole => (
            "tamper looked for connections the client really tried (repeated SYNs, or a request \
             retransmitted after the handshake) to public addresses that got no answer while \
             other traffic in the same capture was answered, ICMP \"administratively \
             prohibited\" from routers, whole-network cuts and unanswered QUIC Initials.",
            "No finding means no such silent drop was seen. It does not prove nothing was \
             dropped: single attempts, failures running into the end of the capture, private \
             destinations and captures taken at the server are not judged, and a capture that \
             holds one direction of traffic cannot show a drop at all.",
        ),
    }
}

/// The order of the write-up: classes by their strongest finding (confidence, then how many
/// findings share it, then where the first of them is), each class's findings by confidence,
/// then by capture and first frame.
fn ordered(report: &Report) -> Vec<(FindingClass, Vec<(usize, &Finding)>)> {
    let mut groups: Vec<(FindingClass, Vec<(usize, &Finding)>)> = Vec::new();
    for class in FindingClass::ALL {
        let mut fs: Vec<(usize, &Finding)> = report
            .captures
            .iter()
            .enumerate()
            .flat_map(|(ci, c)| c.findings.iter().map(move |f| (ci, f)))
            .filter(|(_, f)| f.class == class)
            .collect();
        if fs.is_empty() {
            continue;
        }
        // Stable: the report's order (capture, first frame, class, kind, flow) within a level.
        fs.sort_by_key(|(ci, f)| {
            (
                std::cmp::Reverse(f.confidence),
                *ci,
                f.frames.first().copied(),
            )
        });
        groups.push((class, fs));
    }
    groups.sort_by_key(|(class, fs)| {
        let top = fs.first().map(|(_, f)| f.confidence);
        let at_top = fs.iter().filter(|(_, f)| Some(f.confidence) == top).count();
        let first = fs.first().map(|(ci, f)| (*ci, f.frames.first().copied()));
        (
            std::cmp::Reverse(top),
            std::cmp::Reverse(at_top),
            first,
            *class,
        )
    });
    groups
}

/// `2 high, 1 low`.
fn by_confidence(fs: &[(usize, &Finding)]) -> String {
    let mut parts = Vec::new();
    for c in [Confidence::High, Confidence::Medium, Confidence::Low] {
        let n = fs.iter().filter(|(_, f)| f.confidence == c).count();
        if n > 0 {
            parts.push(format!("{n} {c}"));
        }
    }
    parts.join(", ")
}

pub(super) fn write(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let groups = ordered(report);
    let mut s = String::new();
    overview(&mut s, report, &groups);
    captured(&mut s, report);
    found(&mut s, report, &groups);
    not_found(&mut s, report, &groups);
    limits(&mut s, report);
    reproduce(&mut s, report);
    out.write_all(s.as_bytes())
}

fn overview(s: &mut String, report: &Report, groups: &[(FindingClass, Vec<(usize, &Finding)>)]) {
    let n = report.captures.len();
    match report.captures.as_slice() {
        [one] => {
            let _ = writeln!(s, "# tamper report: {}\n", title_name(&one.name));
        }
        _ => {
            let _ = writeln!(s, "# tamper report: {n} captures\n");
        }
    }
    let total: usize = groups.iter().map(|(_, fs)| fs.len()).sum();
    let mut p = String::new();
    let what = match report.captures.as_slice() {
        [one] => match &one.summary {
            Some(sum) => format!(
                "one capture, {} ({}{})",
                input_words(&one.name),
                count(usize::try_from(sum.frames).unwrap_or(usize::MAX), "frame"),
                match (sum.first_ts, sum.last_ts) {
                    (Some(a), Some(b)) => format!(" over {}", b.since(a)),
                    _ => String::new(),
                }
            ),
            None => format!("one capture, {}", input_words(&one.name)),
        },
        _ => {
            let frames: u64 = report
                .captures
                .iter()
                .filter_map(|c| c.summary.as_ref().map(|s| s.frames))
                .sum();
            format!("{n} captures ({frames} frames in all)")
        }
    };
    let _ = write!(p, "tamper {} analyzed {what} and ", report.tool_version);
    if total == 0 {
        let _ = write!(
            p,
            "reports no finding: none of the five classes of interference it looks for showed. \
             What that does and does not mean is under *What was not found*."
        );
    } else {
        let classes: Vec<String> = groups
            .iter()
            .map(|(c, fs)| format!("{} {c} ({})", fs.len(), by_confidence(fs)))
            .collect();
        let _ = write!(
            p,
            "reports {}: {}.",
            count(total, "finding"),
            classes.join(", ")
        );
        if let Some((_, f)) = groups.first().and_then(|(_, fs)| fs.first()) {
            let _ = write!(
                p,
                " The strongest is {}, a {}-confidence `{}` ({}) finding: {}",
                f.id,
                f.confidence,
                f.kind,
                f.class,
                sentence(&f.summary)
            );
        }
        let absent: Vec<String> = FindingClass::ALL
            .iter()
            .filter(|c| !groups.iter().any(|(g, _)| g == *c))
            .map(|c| c.to_string())
            .collect();
        if !absent.is_empty() {
            let _ = write!(p, " Nothing was found of {}.", words_list(&absent, "or"));
        }
    }
    let incomplete: Vec<&CaptureReport> = report
        .captures
        .iter()
        .filter(|c| c.status.is_incomplete())
        .collect();
    if !incomplete.is_empty() {
        let _ = write!(
            p,
            " {} could not be read completely (see *What limits these conclusions*).",
            if n == 1 {
                "The capture".to_string()
            } else {
                format!("{} of the captures", incomplete.len())
            }
        );
    }
    let _ = writeln!(s, "{p}\n");
    let _ = writeln!(
        s,
        "A finding is a signal with the evidence to check it, not a verdict. Frame numbers are \
         those Wireshark shows.\n"
    );
}

/// How a capture is named in headings: its name, or `standard input`.
fn title_name(name: &str) -> String {
    if name == "-" {
        "standard input".into()
    } else {
        prose(name)
    }
}

/// How a capture is named in its own section's heading.
fn section_name(name: &str) -> String {
    if name == "-" {
        "Standard input".into()
    } else {
        prose(name)
    }
}

/// How a capture is named in prose: its name as code, or `standard input`.
fn input_words(name: &str) -> String {
    if name == "-" {
        "read from standard input".into()
    } else {
        code(name)
    }
}

/// `a, b or c`.
fn words_list(items: &[String], last: &str) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., tail] => format!("{} {last} {tail}", init.join(", ")),
    }
}

fn captured(s: &mut String, report: &Report) {
    let _ = writeln!(s, "## What was captured\n");
    for c in &report.captures {
        capture(s, c);
    }
}

fn capture(s: &mut String, c: &CaptureReport) {
    let stdin = c.name == "-";
    let _ = writeln!(s, "### {}\n", section_name(&c.name));
    let _ = writeln!(s, "| | |\n|---|---|");
    if stdin {
        let _ = writeln!(s, "| File | standard input (`-`) |");
    } else {
        let _ = writeln!(s, "| File | {} |", cell(&c.name));
    }
    match (&c.source, stdin) {
        (Some(src), _) => {
            let _ = writeln!(s, "| Size | {} bytes as stored |", src.size);
            let _ = writeln!(s, "| SHA-256 | {} |", src.sha256);
        }
        (None, true) => {
            let _ = writeln!(s, "| SHA-256 | not hashed: read from standard input |");
        }
        (None, false) => {
            let why = if matches!(c.status, CaptureStatus::Failed { .. }) {
                ": the file could not be read"
            } else {
                ""
            };
            let _ = writeln!(s, "| SHA-256 | not hashed{why} |");
        }
    }
    let status = match &c.status {
        CaptureStatus::Complete => "read completely".to_string(),
        CaptureStatus::Partial { reason } => format!("**partly read**: {reason}"),
        CaptureStatus::Failed { error } => format!("**not analyzed**: {error}"),
    };
    let _ = writeln!(s, "| Status | {} |", cell(&status));
    if let Some(sum) = &c.summary {
        summary_rows(s, sum);
    }
    if let Some(v) = &c.vantage {
        let _ = writeln!(s, "| Vantage point | {} |", cell(&vantage_words(v)));
        let _ = writeln!(s, "| Both directions | {} |", cell(&directions_words(v)));
    }
    let _ = writeln!(s);
}

fn summary_rows(s: &mut String, sum: &CaptureSummary) {
    let comp = if sum.compression.is_empty() {
        "not compressed".to_string()
    } else {
        format!(
            "{}-compressed",
            sum.compression
                .iter()
                .map(|c| c.to_string())
                .collect::<Vec<_>>()
                .join("+")
        )
    };
    let _ = writeln!(s, "| Format | {}, {comp} |", sum.format);
    let _ = writeln!(
        s,
        "| Frames | {} ({} bytes of capture data{}) |",
        sum.frames,
        sum.bytes,
        if sum.compression.is_empty() {
            ""
        } else {
            " after decompression"
        }
    );
    match (sum.first_ts, sum.last_ts) {
        (Some(a), Some(b)) => {
            let _ = writeln!(s, "| First frame | {a} |");
            let _ = writeln!(s, "| Last frame | {b} |");
            let _ = writeln!(s, "| Duration | {} |", b.since(a));
        }
        _ => {
            let _ = writeln!(s, "| Time span | no frames |");
        }
    }
    const SHOWN: usize = 8;
    let mut ifaces: Vec<String> = sum
        .interfaces
        .iter()
        .take(SHOWN)
        .map(|i| {
            let snap = if i.snaplen == 0 {
                "no snapshot length".to_string()
            } else {
                format!("snapshot length {}", i.snaplen)
            };
            format!("{}: {}, {snap}", i.index, i.link_type)
        })
        .collect();
    if sum.interfaces.len() > SHOWN {
        ifaces.push(format!("and {} more", sum.interfaces.len() - SHOWN));
    }
    if ifaces.is_empty() {
        ifaces.push("none".into());
    }
    let _ = writeln!(s, "| Interfaces | {} |", cell(&ifaces.join("; ")));
    let _ = writeln!(
        s,
        "| Flows | {} TCP, {} UDP (at most {} at once) |",
        sum.flows.tcp, sum.flows.udp, sum.flows.peak
    );
    let p = &sum.packets;
    let _ = writeln!(
        s,
        "| Packets | {} IP, {} other network protocols, {} not decodable, {} IP fragments{} |",
        p.ip,
        p.not_ip,
        p.undecoded,
        p.fragments,
        if p.untracked > 0 {
            format!(
                ", {} in flows a full flow table could not track",
                p.untracked
            )
        } else {
            String::new()
        }
    );
}

fn family(h: &VantageHost) -> &'static str {
    if h.addr.is_ipv4() {
        "IPv4"
    } else {
        "IPv6"
    }
}

/// The capturing host's addresses, inferred, and how.
fn vantage_words(v: &Vantage) -> String {
    if v.hosts.is_empty() {
        return "unknown: the capture holds no TCP or UDP flow".into();
    }
    let mut parts = Vec::new();
    for h in &v.hosts {
        let fam = family(h);
        let of_flows = |n: u64| {
            format!(
                "{n} of {} {fam} flow{}",
                h.family_flows,
                plural_u64(h.family_flows)
            )
        };
        let hs = handshake_words(&h.handshakes);
        let (role, as_role) = if h.is_mostly_server() {
            ("server", h.as_server)
        } else {
            ("client", h.as_client)
        };
        let at_server = if h.is_mostly_server() {
            ", so the capture was probably taken at the server"
        } else {
            ""
        };
        if !h.is_majority() {
            parts.push(format!(
                "no single {fam} address takes part in most {fam} flows (the most, {}, in {}): \
                 the capture may come from a router or mirror port carrying several hosts",
                h.addr,
                of_flows(h.flows)
            ));
            continue;
        }
        let other = h.tied_with.map(|a| a.to_string()).unwrap_or_default();
        parts.push(match h.basis {
            HostBasis::Flows => {
                let hs = if hs.is_empty() {
                    String::new()
                } else {
                    format!("; {hs}")
                };
                format!(
                    "{} (inferred: it is the {role} of {}{at_server}{hs})",
                    h.addr,
                    of_flows(as_role)
                )
            }
            HostBasis::Handshakes => format!(
                "{} (inferred: it and {other} each take part in {}, and {hs}, so the capture \
                 was taken at the {role}'s end)",
                h.addr,
                of_flows(h.flows)
            ),
            HostBasis::Guess => format!(
                "{} or {other} (each takes part in {}, and no TCP handshake tells which end \
                 the capture was taken at; {} opened more of them)",
                h.addr,
                of_flows(h.flows),
                h.addr
            ),
        });
    }
    let mut out = parts.join("; ");
    if v.addresses_capped {
        let _ = write!(
            out,
            " (counted over the first {MAX_VANTAGE_ADDRESSES} addresses seen)"
        );
    }
    out
}

/// `by TTL or timing, 3 of 4 TCP handshakes place the capture at the client`.
fn handshake_words(v: &HandshakeVotes) -> String {
    let total = v.total();
    if total == 0 {
        return String::new();
    }
    let handshakes = format!("{total} TCP handshake{}", plural_u64(total));
    match v.majority() {
        Some(side) => {
            let (n, at) = match side {
                HandshakeSide::Client => (v.client, "at the client"),
                HandshakeSide::Server => (v.server, "at the server"),
                HandshakeSide::Middle => (v.middle, "between the ends"),
            };
            if n == total {
                format!(
                    "by TTL or timing, {} place{} the capture {at}",
                    all_of(total, "TCP handshake"),
                    if total == 1 { "s" } else { "" }
                )
            } else {
                format!("by TTL or timing, {n} of {handshakes} place the capture {at}")
            }
        }
        None => format!(
            "the {handshakes} disagree on where the capture was taken ({} at the client, {} at the server, {} between)",
            v.client, v.server, v.middle
        ),
    }
}

/// `the one flow`, `both flows`, `all 5 flows`.
fn all_of(n: u64, noun: &str) -> String {
    match n {
        1 => format!("the one {noun}"),
        2 => format!("both {noun}s"),
        _ => format!("all {n} {noun}s"),
    }
}

fn plural_u64(n: u64) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// Whether traffic of both directions is in the capture.
fn directions_words(v: &Vantage) -> String {
    let n = v.flows;
    let one_way = format!(
        "{} from the client only, {} from the server only",
        v.client_to_server_only, v.server_to_client_only
    );
    if n == 0 {
        "unknown: no flows".into()
    } else if v.both_directions == n {
        format!(
            "yes: {} carr{} packets both ways",
            all_of(n, "flow"),
            if n == 1 { "ies" } else { "y" }
        )
    } else if v.both_directions > 0 {
        format!(
            "yes: {} of {n} flows carry packets both ways ({one_way})",
            v.both_directions
        )
    } else {
        format!(
            "**no**: none of the {n} flow{} carries packets both ways ({one_way}); the capture \
             looks one-directional",
            plural_u64(n)
        )
    }
}

fn found(s: &mut String, report: &Report, groups: &[(FindingClass, Vec<(usize, &Finding)>)]) {
    let _ = writeln!(s, "## What was found\n");
    if groups.is_empty() {
        let analyzed = report
            .captures
            .iter()
            .any(|c| !matches!(c.status, CaptureStatus::Failed { .. }));
        let _ = writeln!(
            s,
            "{}\n",
            if analyzed {
                "No finding."
            } else {
                "Nothing could be analyzed."
            }
        );
        return;
    }
    let many = report.captures.len() > 1;
    let _ = writeln!(
        s,
        "Strongest first: classes by their strongest finding, findings by confidence, then by \
         first frame.\n"
    );
    let _ = writeln!(
        s,
        "| id |{} class | kind | confidence | flow | trigger | first frame |",
        if many { " capture |" } else { "" }
    );
    let _ = writeln!(
        s,
        "|---|{}---|---|---|---|---|---|",
        if many { "---|" } else { "" }
    );
    for (_, fs) in groups {
        for (_, f) in fs {
            let capture = if many {
                format!(" {} |", cell(&f.capture))
            } else {
                String::new()
            };
            let trigger = f
                .trigger
                .as_ref()
                .map(|t| format!("{} {}", t.kind, t.value))
                .unwrap_or_else(|| "—".into());
            let first = f.frames.first().map(|n| n.to_string()).unwrap_or_default();
            let _ = writeln!(
                s,
                "| {} |{capture} {} | {} | {} | {} {} → {} | {} | {first} |",
                f.id,
                f.class,
                f.kind,
                f.confidence,
                f.flow.proto,
                f.flow.client,
                f.flow.server,
                cell(&trigger)
            );
        }
    }
    let _ = writeln!(s);
    for (class, fs) in groups {
        let _ = writeln!(
            s,
            "### {class}: {} ({})\n",
            count(fs.len(), "finding"),
            by_confidence(fs)
        );
        let _ = writeln!(s, "{}.\n", capitalized(class_covers(*class)));
        for (_, f) in fs {
            finding(s, f, many);
        }
    }
}

fn finding(s: &mut String, f: &Finding, many: bool) {
    let _ = writeln!(
        s,
        "#### {} · {} · {} confidence\n",
        f.id, f.kind, f.confidence
    );
    let _ = writeln!(s, "{}\n", sentence(&f.summary));
    if many {
        let _ = writeln!(s, "- Capture: {}", code(&f.capture));
    }
    let tunnel = if f.flow.id.depth > 0 {
        format!(", inside a tunnel (depth {})", f.flow.id.depth)
    } else {
        String::new()
    };
    let _ = writeln!(
        s,
        "- Flow {}: {} {} → {}, opened at frame {}{tunnel}",
        f.flow.id,
        f.flow.proto.as_str().to_uppercase(),
        f.flow.client,
        f.flow.server,
        f.flow.id.first_frame
    );
    let _ = writeln!(s, "- Time: {}", f.ts);
    match &f.trigger {
        Some(t) => {
            let frame = t
                .frame
                .map(|n| format!(" in frame {n}"))
                .unwrap_or_default();
            let _ = writeln!(s, "- Trigger: {} {}{frame}", t.kind, code(&t.value));
        }
        None => {
            let _ = writeln!(s, "- Trigger: not identified");
        }
    }
    let _ = writeln!(s);
    let _ = writeln!(
        s,
        "**How sure and why.** {} confidence: {}. The evidence:\n",
        capitalized(f.confidence.as_str()),
        confidence_meaning(f.confidence)
    );
    let _ = writeln!(
        s,
        "| what | observed | expected / baseline | frames |\n|---|---|---|---|"
    );
    for e in &f.evidence {
        let r = evidence_row(e);
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} |",
            cell(&r.what),
            cell(&r.observed),
            cell(&r.expected),
            cell(&r.frames)
        );
    }
    let _ = writeln!(s);

    let _ = writeln!(s, "**Reproduce in Wireshark.**\n");
    for (label, filter) in wireshark_filters(f) {
        let _ = writeln!(s, "- Display filter, {label}: {}", code(filter));
    }
    let (tab, follow) = match f.flow.proto {
        L4Proto::Tcp => ("TCP", "TCP Stream"),
        L4Proto::Udp => ("UDP", "UDP Stream"),
    };
    let _ = writeln!(
        s,
        "- Statistics → Conversations, {tab} tab: the row of {} port {} and {} port {}{}.",
        f.flow.client.addr,
        f.flow.client.port,
        f.flow.server.addr,
        f.flow.server.port,
        if f.flow.id.depth > 0 {
            " (the tunnel's inner addresses)"
        } else {
            ""
        }
    );
    let _ = writeln!(
        s,
        "- Select frame {} (the flow's first) and use Analyze → Follow → {follow} to read the \
         whole exchange.\n",
        f.flow.id.first_frame
    );
}

/// The display filters of a finding, each with what it shows. One line per filter; the
/// finding's flow filter goes after the frames filter when the finding carries one.
fn wireshark_filters(f: &Finding) -> Vec<(&'static str, &str)> {
    let mut v = Vec::new();
    if !f.wireshark_filter.is_empty() {
        v.push(("the frames this finding cites", f.wireshark_filter.as_str()));
    }
    if !f.wireshark_flow_filter.is_empty() {
        v.push(("the whole flow", f.wireshark_flow_filter.as_str()));
    }
    v
}

/// One row of a finding's evidence table.
struct EvidenceRow {
    what: String,
    observed: String,
    expected: String,
    frames: String,
}

const NONE: &str = "—";

fn evidence_row(e: &Evidence) -> EvidenceRow {
    match e {
        Evidence::Packet {
            frame,
            role,
            direction,
            ttl,
            ip_id,
            df,
            tcp_flags,
            seq,
            ack,
            window,
            payload_len,
            ..
        } => {
            let mut d = format!("{}, TTL {ttl}", direction.words());
            if let Some(id) = ip_id {
                let _ = write!(d, ", IP ID {id}");
            }
            if let Some(df) = df {
                let _ = write!(d, ", DF {}", u8::from(*df));
            }
            if let Some(fl) = tcp_flags {
                let _ = write!(d, ", {fl}");
            }
            if let Some(q) = seq {
                let _ = write!(d, ", seq {q}");
            }
            if let Some(a) = ack {
                let _ = write!(d, ", ack {a}");
            }
            if let Some(w) = window {
                let _ = write!(d, ", win {w}");
            }
            let _ = write!(d, ", {payload_len} payload bytes");
            EvidenceRow {
                what: format!("packet: {role}"),
                observed: d,
                expected: NONE.into(),
                frames: frame.to_string(),
            }
        }
        Evidence::Mismatch {
            field,
            observed,
            expected,
            frames,
            baseline_frames,
        } => {
            let observed = match observed {
                serde_json::Value::String(t) => t.clone(),
                v => v.to_string(),
            };
            let mut expected = expected.clone();
            if !baseline_frames.is_empty() {
                let _ = write!(expected, "; baseline frames {}", join(baseline_frames));
            }
            EvidenceRow {
                what: field.clone(),
                observed,
                expected,
                frames: join(frames),
            }
        }
        Evidence::Payload {
            frame,
            what,
            bytes,
            truncated,
        } => {
            let shown = match bytes.text() {
                Some(t) => format!("{:?}", t.chars().take(300).collect::<String>()),
                None => format!("hex {}", bytes.hex().chars().take(200).collect::<String>()),
            };
            EvidenceRow {
                what: format!("payload: {what}"),
                observed: if *truncated {
                    format!("{shown} (the beginning)")
                } else {
                    shown
                },
                expected: NONE.into(),
                frames: frame.to_string(),
            }
        }
        Evidence::Fingerprint {
            name,
            source,
            scope,
            location,
            matched,
            frames,
        } => EvidenceRow {
            what: format!("fingerprint {name}"),
            observed: format!("{location} matched {matched:?}"),
            expected: format!("known {scope} fingerprint, from {source}"),
            frames: join(frames),
        },
        Evidence::Measurement {
            metric,
            value,
            unit,
            reference,
            reference_label,
            frames,
        } => {
            let expected = match (reference, reference_label) {
                (Some(r), Some(l)) => format!("{} {unit}: {l}", number(*r)),
                (Some(r), None) => format!("{} {unit}", number(*r)),
                (None, Some(l)) => l.clone(),
                (None, None) => NONE.into(),
            };
            EvidenceRow {
                what: metric.clone(),
                observed: format!("{} {unit}", number(*value)),
                expected,
                frames: if frames.is_empty() {
                    NONE.into()
                } else {
                    join(frames)
                },
            }
        }
        Evidence::Timing {
            what,
            delta_ms,
            from_frame,
            to_frame,
            reference,
            reference_ms,
        } => EvidenceRow {
            what: what.clone(),
            observed: format!("{delta_ms:.3} ms"),
            expected: match (reference, reference_ms) {
                (Some(r), Some(ms)) => format!("{r}: {ms:.3} ms"),
                (Some(r), None) => r.clone(),
                (None, Some(ms)) => format!("{ms:.3} ms"),
                (None, None) => NONE.into(),
            },
            frames: format!("{from_frame} → {to_frame}"),
        },
        Evidence::Note { text, frames } => EvidenceRow {
            what: "note".into(),
            observed: text.clone(),
            expected: NONE.into(),
            frames: if frames.is_empty() {
                NONE.into()
            } else {
                join(frames)
            },
        },
    }
}

fn join<T: ToString>(items: &[T]) -> String {
    items
        .iter()
        .map(|i| i.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// What the captures held, summed, for the caveats of absent classes.
#[derive(Default)]
struct Totals {
    /// Captures not failed.
    analyzed: usize,
    /// Of those, captures whose flow counts are known (always, outside of tests).
    counted: usize,
    tcp: u64,
    dns: u64,
    web: u64,
    one_directional: Vec<String>,
}

fn totals(report: &Report) -> Totals {
    let mut t = Totals::default();
    for c in &report.captures {
        if matches!(c.status, CaptureStatus::Failed { .. }) {
            continue;
        }
        t.analyzed += 1;
        if let (Some(sum), Some(v)) = (&c.summary, &c.vantage) {
            t.counted += 1;
            t.tcp += sum.flows.tcp;
            let app = |a: &str| v.apps.get(a).copied().unwrap_or(0);
            t.dns += app("dns");
            t.web += app("http") + app("tls");
        }
        let flagged = c
            .diagnostics
            .iter()
            .any(|d| d.kind == DiagnosticKind::CaptureOneDirectional);
        let no_two_way = c
            .vantage
            .as_ref()
            .is_some_and(|v| v.flows > 0 && v.both_directions == 0);
        if flagged || no_two_way {
            t.one_directional.push(c.name.clone());
        }
    }
    t
}

fn not_found(s: &mut String, report: &Report, groups: &[(FindingClass, Vec<(usize, &Finding)>)]) {
    let _ = writeln!(s, "## What was not found\n");
    let absent: Vec<FindingClass> = FindingClass::ALL
        .into_iter()
        .filter(|c| !groups.iter().any(|(g, _)| g == c))
        .collect();
    if absent.is_empty() {
        let _ = writeln!(s, "Every class has at least one finding.\n");
        return;
    }
    let t = totals(report);
    if t.analyzed == 0 {
        let _ = writeln!(
            s,
            "No capture could be analyzed, so the absence of findings says nothing.\n"
        );
        return;
    }
    let many = report.captures.len() > 1;
    let these = if many {
        "these captures"
    } else {
        "this capture"
    };
    for class in absent {
        let (looked, means) = class_absence(class);
        let mut caveat = String::new();
        // "Nothing of that kind was there" only when every analyzed capture was counted.
        let known = t.counted == t.analyzed;
        let none_of = |what: &str| {
            format!(" **In {these}:** no {what} was recognised, so there was nothing to examine.")
        };
        match class {
            FindingClass::RstInjection | FindingClass::Throttling if known && t.tcp == 0 => {
                caveat = none_of("TCP flow");
            }
            FindingClass::DnsInjection if known && t.dns == 0 => {
                caveat = format!(
                    " **In {these}:** no DNS traffic was recognised (the host may use encrypted \
                     DNS, or resolve names before the capture started), so this says nothing \
                     about DNS."
                );
            }
            FindingClass::Blockpage if known && t.web == 0 => caveat = none_of("HTTP or TLS flow"),
            FindingClass::Blackhole if !t.one_directional.is_empty() => {
                caveat = if many {
                    format!(
                        " **One-directional:** {} look{} one-directional, so the absence of \
                         blackhole findings there means nothing.",
                        words_list(
                            &t.one_directional
                                .iter()
                                .map(|n| code(n))
                                .collect::<Vec<_>>(),
                            "and"
                        ),
                        if t.one_directional.len() == 1 {
                            "s"
                        } else {
                            ""
                        }
                    )
                } else {
                    " **This capture looks one-directional**, so the absence of blackhole \
                     findings means nothing here."
                        .to_string()
                };
            }
            _ => {}
        }
        let _ = writeln!(s, "- **{class}**: {looked} {means}{caveat}");
    }
    let _ = writeln!(s);
}

/// How the diagnostics are grouped in the write-up.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Group {
    CutShort,
    OneDirectional,
    Limits,
    Undecoded,
    Notes,
}

impl Group {
    const ALL: [Group; 5] = [
        Group::CutShort,
        Group::OneDirectional,
        Group::Limits,
        Group::Undecoded,
        Group::Notes,
    ];

    fn of(kind: DiagnosticKind) -> Group {
        use DiagnosticKind as K;
        // Exhaustive on purpose: a new diagnostic kind must be placed in a group.
        match kind {
            K::CaptureTruncated | K::CaptureRecordInvalid | K::CaptureReadError => Group::CutShort,
            K::PacketSnaplenCut | K::LimitReachedTimeBudget => Group::CutShort,
            K::CaptureOneDirectional => Group::OneDirectional,
            K::LimitReachedFragments
            | K::LimitReachedFlowTable
            | K::LimitReachedReassemblyBytes
            | K::LimitReachedReassemblyMemory
            | K::LimitReachedDnsPending
            | K::LimitReachedDnsJudgement
            | K::LimitReachedBlockpageState
            | K::LimitReachedThrottlingRecords
            | K::LimitReachedThrottlingFlows
            | K::LimitReachedBlackholeFlows
            | K::LimitReachedBlackholeNames
            | K::LimitReachedQuicCrypto
            | K::LimitReachedQuicConnections
            | K::TunnelDepthExceeded => Group::Limits,
            K::CaptureTimestampInvalid
            | K::LinkTypeUnsupported
            | K::LinkHeaderInvalid
            | K::IpHeaderInvalid
            | K::IpExtensionInvalid
            | K::TcpHeaderInvalid
            | K::UdpHeaderInvalid
            | K::IcmpInvalid
            | K::IpFragmentOverlapConflict
            | K::IpFragmentIncomplete
            | K::IpFragmentInvalid
            | K::DnsMessageMalformed
            | K::TlsMessageMalformed
            | K::HttpMessageMalformed
            | K::QuicInitialUndecryptable
            | K::QuicPacketMalformed => Group::Undecoded,
            K::CaptureBlockSkipped
            | K::CaptureNonPacketRecord
            | K::CaptureTimestampOutOfOrder
            | K::LinkPayloadNotIp => Group::Notes,
        }
    }

    fn title(self) -> &'static str {
        match self {
            Group::CutShort => "Missing data: the file or its packets are cut short",
            Group::OneDirectional => "One direction of traffic only",
            Group::Limits => "Limits reached",
            Group::Undecoded => "Data that could not be decoded",
            Group::Notes => "Other notes (ordinary in real captures)",
        }
    }

    fn explanation(self) -> &'static str {
        match self {
            Group::CutShort => {
                "Findings cover only what was recorded and read; interference in the missing \
                 part cannot be seen."
            }
            Group::OneDirectional => {
                "Unanswered traffic cannot be told apart from traffic whose answers were not \
                 recorded, so silent drops were not judged."
            }
            Group::Limits => {
                "tamper stays within fixed memory bounds; past them it keeps less state, and \
                 what that cost is said per item."
            }
            Group::Undecoded => {
                "The analysis went on without these bytes; a finding that needed them could \
                 not be made."
            }
            Group::Notes => "These do not weaken the findings.",
        }
    }
}

fn limits(s: &mut String, report: &Report) {
    let _ = writeln!(s, "## What limits these conclusions\n");
    let many = report.captures.len() > 1;
    for c in &report.captures {
        if many {
            let _ = writeln!(s, "### {}\n", section_name(&c.name));
        }
        match &c.status {
            CaptureStatus::Complete => {}
            CaptureStatus::Partial { reason } => {
                let frames = c.summary.as_ref().map_or(0, |s| s.frames);
                let _ = writeln!(
                    s,
                    "**The capture was only partly read**: {}. The findings cover frames 1 to \
                     {frames}; whatever came after is not in this report.\n",
                    prose(reason.trim_end_matches('.'))
                );
            }
            CaptureStatus::Failed { error } => {
                let _ = writeln!(
                    s,
                    "**The capture could not be analyzed**: {}. Nothing in this report comes \
                     from it.\n",
                    prose(error.trim_end_matches('.'))
                );
                continue;
            }
        }
        if c.diagnostics.is_empty() {
            let _ = writeln!(
                s,
                "Nothing in the capture limited the analysis: every frame was read and decoded, \
                 and no limit was reached.\n"
            );
            continue;
        }
        for g in Group::ALL {
            let items: Vec<&DiagnosticSummary> = c
                .diagnostics
                .iter()
                .filter(|d| Group::of(d.kind) == g)
                .collect();
            if items.is_empty() {
                continue;
            }
            let _ = writeln!(s, "**{}.** {}\n", g.title(), g.explanation());
            for d in items {
                diagnostic(s, d);
            }
            let _ = writeln!(s);
        }
    }
    let _ = writeln!(
        s,
        "In any case tamper sees only what the capture recorded, from where it was recorded: \
         packets the capturing host dropped or never saw leave no trace.\n"
    );
}

fn diagnostic(s: &mut String, d: &DiagnosticSummary) {
    let first = d.examples.first();
    let at = match first.and_then(|e| e.frame) {
        Some(n) => format!(", first at frame {n}"),
        None => String::new(),
    };
    let times = if d.count == 1 {
        "once".to_string()
    } else {
        format!("{} times", d.count)
    };
    let mut line = format!(
        "- `{}` ({}, {times}{at}): {}",
        d.kind,
        serde_json::to_value(d.severity)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default(),
        d.kind.description()
    );
    if let Some(e) = first {
        if !e.detail.is_empty() {
            let _ = write!(line, " First: {}", prose(&e.detail));
        }
    }
    let _ = writeln!(s, "{line}");
}

/// A command-line argument quoted for a POSIX shell when it needs to be.
fn shell_word(arg: &str) -> String {
    let plain = !arg.is_empty()
        && arg
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:@%+,=".contains(c));
    if plain {
        arg.to_string()
    } else {
        format!("'{}'", arg.replace('\'', "'\\''"))
    }
}

/// The limit options a run needs to be repeated, when they differ from the defaults.
fn limit_flags(l: &LimitsUsed) -> Vec<String> {
    let d = LimitsUsed::DEFAULT;
    let mut flags = Vec::new();
    if l.max_flows != d.max_flows {
        flags.push(format!("--max-flows {}", l.max_flows));
    }
    if l.flow_timeout_secs != d.flow_timeout_secs {
        flags.push(format!("--flow-timeout {}", l.flow_timeout_secs));
    }
    if l.reassembly_bytes != d.reassembly_bytes {
        flags.push(format!("--reassembly-bytes {}", l.reassembly_bytes));
    }
    if l.max_pending_dns != d.max_pending_dns {
        flags.push(format!("--max-pending-dns {}", l.max_pending_dns));
    }
    flags
}

fn reproduce(s: &mut String, report: &Report) {
    let _ = writeln!(s, "## How to reproduce\n");
    let mut words = vec!["tamper analyze --format markdown".to_string()];
    if let Some(l) = report
        .captures
        .iter()
        .find_map(|c| c.summary.as_ref().map(|s| s.limits))
    {
        words.extend(limit_flags(&l));
    }
    let stdin = report.captures.iter().any(|c| c.name == "-");
    words.extend(report.captures.iter().map(|c| shell_word(&c.name)));
    let command = words.join(" ");
    let _ = writeln!(
        s,
        "```sh\n{}{command}\n```\n",
        if stdin { "… | " } else { "" }
    );
    let _ = writeln!(
        s,
        "- Made by tamper {}. The same version, inputs (in the same order) and options give \
         this report byte for byte: it holds no wall-clock time.",
        report.tool_version
    );
    if stdin {
        let _ = writeln!(
            s,
            "- `-` is standard input: pipe the same capture bytes in again."
        );
    }
    let _ = writeln!(
        s,
        "- Extra fingerprint files (`--fingerprints FILE`) are not recorded here; give the same \
         ones again if the run used any."
    );
    let _ = writeln!(
        s,
        "- Frame numbers count from 1 in file order across all interfaces, as Wireshark's \
         `frame.number` does; a flow's id is the number of its first frame (with `.N` for a \
         flow inside a tunnel at depth N). Times are the capture's own timestamps, in UTC."
    );
    let _ = writeln!(
        s,
        "- `--format jsonl` writes the same findings as JSON Lines, and `--diagnostics FILE` \
         the capture summaries and diagnostics (docs/report-format.md)."
    );
}

/// The `tamper flows` text table, aligned like `tshark -z conv`.
pub(super) fn write_flow_table_text(flows: &[FlowSummary], out: &mut dyn Write) -> io::Result<()> {
    let header = [
        "flow",
        "proto",
        "client",
        "server",
        "packets c>s",
        "packets s>c",
        "bytes c>s",
        "bytes s>c",
        "start",
        "duration",
        "name",
        "end",
    ];
    let rows: Vec<[String; 12]> = flows
        .iter()
        .map(|f| {
            [
                f.id.to_string(),
                f.proto.to_string(),
                f.client.to_string(),
                f.server.to_string(),
                f.packets_c2s.to_string(),
                f.packets_s2c.to_string(),
                f.bytes_c2s.to_string(),
                f.bytes_s2c.to_string(),
                f.first_ts.to_string(),
                format!("{:.3}s", f.duration_s),
                f.name().unwrap_or("-").to_string(),
                f.end.as_str().to_string(),
            ]
        })
        .collect();
    let mut widths = header.map(|h| h.chars().count());
    for r in &rows {
        for (w, c) in widths.iter_mut().zip(r) {
            *w = (*w).max(c.chars().count());
        }
    }
    let fmt_row = |cells: &[String]| -> String {
        let mut line = String::new();
        for (i, (c, w)) in cells.iter().zip(widths.iter()).enumerate() {
            if i > 0 {
                line.push_str("  ");
            }
            // Numbers right-aligned, text left-aligned; the last column is not padded.
            let numeric = (4..=7).contains(&i);
            if i + 1 == cells.len() {
                line.push_str(c);
            } else if numeric {
                let _ = write!(line, "{c:>w$}");
            } else {
                let _ = write!(line, "{c:<w$}");
            }
        }
        line.push('\n');
        line
    };
    let head: Vec<String> = header.iter().map(|h| h.to_string()).collect();
    out.write_all(fmt_row(&head).as_bytes())?;
    for r in &rows {
        out.write_all(fmt_row(r).as_bytes())?;
    }
    Ok(())
}

/// A number without needless decimals: `3`, `0.25`, `180.123`.
fn number(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{v:.0}")
    } else {
        let s = format!("{v:.3}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}
