//! The HTML writer: one self-contained offline page per report (what was read, findings by
//! class and confidence, diagnostics, every finding with its evidence and pictures); it only
//! formats what the report and the given pictures hold, and the page must never load anything.
//!
//! The page carries a Content-Security-Policy that forbids every fetch (`default-src 'none'`)
//! and has no script at all; styles are embedded and pictures are inline SVG. Every text that
//! comes from the report goes through [`escape`], which also makes control and bidirectional
//! formatting characters visible, since capture contents are chosen by whoever sent the
//! packets. The same report and pictures always give the same bytes.

use std::fmt::Write as _;
use std::io::{self, Write};

use super::pictures::{Picture, Pictures};
use super::svg;
use super::{CaptureReport, CaptureStatus, Report};
use crate::capture::ReadEnd;
use crate::finding::{Confidence, Evidence, Finding, FindingClass};
use crate::ids::FrameNumber;

/// The page's Content-Security-Policy: nothing may be fetched; inline styles and `data:`
/// images are the only exceptions.
pub const CONTENT_SECURITY_POLICY: &str =
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:";

/// Most payload bytes quoted in one evidence item (detectors keep a few KiB at most).
const MAX_PAYLOAD_SHOWN: usize = 4096;

/// Escapes text for HTML element content and quoted attribute values (and for SVG/XML): `&`,
/// `<`, `>`, `"` and `'` become entities; control characters other than tab, LF and CR become
/// a visible `\xNN`; bidirectional formatting characters and Unicode noncharacters become a
/// visible `\u{NNNN}`, so captured text can neither break the markup nor disguise itself.
pub(super) fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + s.len() / 8);
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\t' | '\n' | '\r' => out.push(ch),
            ch if ch.is_control() => {
                let _ = write!(out, "\\x{:02x}", ch as u32);
            }
            ch if is_bidi_control(ch) || is_noncharacter(ch) => {
                let _ = write!(out, "\\u{{{:04x}}}", ch as u32);
            }
            ch => out.push(ch),
        }
    }
    out
}

/// Characters that reorder the display of text around them (Trojan Source, CVE-2021-42574).
fn is_bidi_control(ch: char) -> bool {
    matches!(
        ch,
        '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'
    )
}

/// Unicode noncharacters (an HTML parse error when present in the input stream).
fn is_noncharacter(ch: char) -> bool {
    let v = ch as u32;
    (0xfdd0..=0xfdef).contains(&v) || (v & 0xfffe) == 0xfffe
}

/// Writes the whole page.
pub(super) fn write(report: &Report, pictures: &Pictures, out: &mut dyn Write) -> io::Result<()> {
    let mut s = String::with_capacity(64 * 1024);
    let total: usize = report.captures.iter().map(|c| c.findings.len()).sum();
    let title = match report.captures.as_slice() {
        [one] => format!("tamper report: {}", one.name),
        many => format!("tamper report: {} captures", many.len()),
    };
    s.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    let _ = writeln!(
        s,
        "<meta http-equiv=\"Content-Security-Policy\" content=\"{}\">",
        escape(CONTENT_SECURITY_POLICY)
    );
    s.push_str("<meta name=\"referrer\" content=\"no-referrer\">\n");
    s.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    let _ = writeln!(
        s,
        "<meta name=\"generator\" content=\"tamper {}\">",
        escape(report.tool_version)
    );
    let _ = writeln!(s, "<title>{}</title>", escape(&title));
    let _ = writeln!(s, "<style>\n{CSS}</style>\n</head>\n<body>");
    s.push_str("<div class=\"page\">\n<header id=\"top\">\n<h1>tamper report</h1>\n");
    let _ = writeln!(
        s,
        "<p class=\"meta\">tamper {} · {} capture{} · {} finding{}</p>",
        escape(report.tool_version),
        report.captures.len(),
        plural(report.captures.len()),
        total,
        plural(total)
    );
    s.push_str(
        "<p class=\"lede\">A finding is a signal of interference with its evidence, not a \
         verdict. Every finding names the frames to check in Wireshark (frame numbers as \
         Wireshark counts them); the diagnostics say what could not be read and so bound what \
         the findings can claim.</p>\n",
    );
    if let Some(note) = &pictures.note {
        let _ = writeln!(s, "<p class=\"callout info\">{}</p>", escape(note));
    }
    s.push_str("</header>\n");
    contents(&mut s, report);
    s.push_str("<main>\n");
    for (i, c) in report.captures.iter().enumerate() {
        capture(&mut s, i, c, pictures);
    }
    s.push_str("</main>\n");
    let _ = writeln!(
        s,
        "<footer><p>Written by tamper {} from the capture data alone; this page loads nothing \
         and runs no script.</p></footer>",
        escape(report.tool_version)
    );
    s.push_str("</div>\n</body>\n</html>\n");
    out.write_all(s.as_bytes())
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// `1234567` as `1,234,567`.
fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

fn capture_anchor(index: usize) -> String {
    format!("capture-{}", index + 1)
}

/// The table of contents: each capture, and each of its findings linking to its anchor.
fn contents(s: &mut String, report: &Report) {
    s.push_str("<nav class=\"toc\" aria-label=\"Contents\">\n<h2>Contents</h2>\n");
    for (i, c) in report.captures.iter().enumerate() {
        let _ = writeln!(
            s,
            "<p class=\"toc-capture\"><a href=\"#{}\">{}</a> <span class=\"muted\">· {} finding{}{}</span></p>",
            capture_anchor(i),
            escape(&c.name),
            c.findings.len(),
            plural(c.findings.len()),
            match c.status {
                CaptureStatus::Complete => "",
                CaptureStatus::Partial { .. } => " · partly read",
                CaptureStatus::Failed { .. } => " · not analyzed",
            }
        );
        if c.findings.is_empty() {
            continue;
        }
        s.push_str("<ol class=\"toc-findings\">\n");
        for f in &c.findings {
            let _ = writeln!(
                s,
                "<li><a href=\"#{id}\"><span class=\"fid\">{id}</span></a> {badge} <span class=\"kind\">{class} / {kind}</span> <span class=\"toc-summary\">{summary}</span></li>",
                id = escape(&f.id),
                badge = badge(f.confidence),
                class = escape(f.class.as_str()),
                kind = escape(f.kind.as_str()),
                summary = escape(&clip(&f.summary, 160)),
            );
        }
        s.push_str("</ol>\n");
    }
    s.push_str("</nav>\n");
}

fn clip(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
        out.push('…');
        out
    }
}

fn badge(c: Confidence) -> String {
    format!(
        "<span class=\"badge {0}\" title=\"{0} confidence\">{0}</span>",
        c.as_str()
    )
}

fn capture(s: &mut String, index: usize, c: &CaptureReport, pictures: &Pictures) {
    let _ = writeln!(
        s,
        "<section class=\"capture\" id=\"{}\">\n<h2><span class=\"muted\">Capture</span> {}</h2>",
        capture_anchor(index),
        escape(&c.name)
    );
    match &c.status {
        CaptureStatus::Complete => {
            s.push_str("<p class=\"status ok\">Read completely.</p>\n");
        }
        CaptureStatus::Partial { reason } => {
            let _ = writeln!(
                s,
                "<p class=\"callout warn\"><strong>Partly read:</strong> {}. The findings cover the frames before the problem.</p>",
                escape(reason.trim_end_matches('.'))
            );
        }
        CaptureStatus::Failed { error } => {
            let _ = writeln!(
                s,
                "<p class=\"callout error\"><strong>Not analyzed:</strong> {}</p>",
                escape(error)
            );
        }
    }
    what_was_read(s, c);
    if !matches!(c.status, CaptureStatus::Failed { .. }) {
        counts(s, c);
    }
    if !(c.diagnostics.is_empty() && matches!(c.status, CaptureStatus::Failed { .. })) {
        diagnostics(s, c);
    }
    if matches!(c.status, CaptureStatus::Failed { .. }) {
        s.push_str("</section>\n");
        return;
    }
    if c.findings.is_empty() {
        s.push_str("<h3>Findings</h3>\n<p>No interference found in this capture.</p>\n");
    } else {
        let _ = writeln!(s, "<h3>Findings ({})</h3>", c.findings.len());
        for f in &c.findings {
            finding(s, f, pictures.of(&f.id));
        }
    }
    s.push_str("</section>\n");
}

fn kv(s: &mut String, key: &str, value_html: &str) {
    let _ = writeln!(
        s,
        "<tr><th scope=\"row\">{}</th><td>{value_html}</td></tr>",
        escape(key)
    );
}

fn what_was_read(s: &mut String, c: &CaptureReport) {
    let Some(sum) = &c.summary else {
        return;
    };
    s.push_str("<h3>What was read</h3>\n<table class=\"kv\">\n<tbody>\n");
    let mut format = sum.format.to_string();
    if !sum.compression.is_empty() {
        let layers: Vec<String> = sum.compression.iter().map(|c| c.to_string()).collect();
        let _ = write!(format, ", {}-compressed", layers.join("+"));
    }
    kv(s, "Format", &escape(&format));
    let mut links: Vec<String> = sum
        .interfaces
        .iter()
        .map(|i| i.link_type.to_string())
        .collect();
    links.dedup();
    kv(
        s,
        "Link types",
        &format!(
            "{} <span class=\"muted\">· {} interface{}</span>",
            escape(&links.join(", ")),
            sum.interfaces.len(),
            plural(sum.interfaces.len())
        ),
    );
    kv(
        s,
        "Frames",
        &format!("{} ({} bytes)", grouped(sum.frames), grouped(sum.bytes)),
    );
    if let (Some(a), Some(b)) = (sum.first_ts, sum.last_ts) {
        kv(
            s,
            "Time span",
            &format!(
                "{} → {} ({})",
                escape(&a.to_string()),
                escape(&b.to_string()),
                escape(&b.since(a).to_string())
            ),
        );
    }
    kv(
        s,
        "Flows",
        &format!(
            "{} TCP, {} UDP (at most {} at once)",
            grouped(sum.flows.tcp),
            grouped(sum.flows.udp),
            grouped(sum.flows.peak)
        ),
    );
    let p = &sum.packets;
    kv(
        s,
        "Packets",
        &format!(
            "{} IP, {} other network protocols, {} not decodable, {} IP fragments, {} untracked",
            grouped(p.ip),
            grouped(p.not_ip),
            grouped(p.undecoded),
            grouped(p.fragments),
            grouped(p.untracked)
        ),
    );
    let end = match &sum.read_end {
        ReadEnd::Complete => "every record was read".to_string(),
        ReadEnd::Truncated { offset, detail } => {
            format!("file cut short at byte {offset}: {detail}")
        }
        ReadEnd::Invalid { offset, detail } => {
            format!("impossible record at byte {offset}: {detail}")
        }
        ReadEnd::ReadError { offset, detail } => {
            format!("read error at byte {offset}: {detail}")
        }
        ReadEnd::Stopped { offset, detail, .. } => {
            format!("stopped at byte {offset}: {detail}")
        }
    };
    kv(s, "Reading ended", &escape(&end));
    let l = &sum.limits;
    kv(
        s,
        "Limits",
        &format!(
            "<span class=\"small\">max flows {}, flow timeout {} s, reassembly {} bytes per direction and {} bytes in all, {} pending DNS queries, {} fragmented datagrams in flight</span>",
            grouped(l.max_flows),
            grouped(l.flow_timeout_secs),
            grouped(l.reassembly_bytes),
            grouped(l.reassembly_memory),
            grouped(l.max_pending_dns),
            grouped(l.max_fragments_in_flight)
        ),
    );
    s.push_str("</tbody>\n</table>\n");
}

/// Findings by class and confidence, every class listed.
fn counts(s: &mut String, c: &CaptureReport) {
    s.push_str("<h3>Findings by class and confidence</h3>\n<table class=\"counts\">\n");
    s.push_str("<thead><tr><th scope=\"col\">class</th><th scope=\"col\" class=\"num\">high</th><th scope=\"col\" class=\"num\">medium</th><th scope=\"col\" class=\"num\">low</th><th scope=\"col\" class=\"num\">total</th></tr></thead>\n<tbody>\n");
    let levels = [Confidence::High, Confidence::Medium, Confidence::Low];
    let mut column_totals = [0usize; 3];
    for class in FindingClass::ALL {
        let mut cells = String::new();
        let mut row_total = 0;
        for (li, level) in levels.iter().enumerate() {
            let n = c
                .findings
                .iter()
                .filter(|f| f.class == class && f.confidence == *level)
                .count();
            row_total += n;
            if let Some(t) = column_totals.get_mut(li) {
                *t += n;
            }
            let _ = write!(cells, "{}", count_cell(n, Some(*level)));
        }
        let _ = writeln!(
            s,
            "<tr><th scope=\"row\"><code>{}</code></th>{cells}{}</tr>",
            class.as_str(),
            count_cell(row_total, None)
        );
    }
    let all: usize = column_totals.iter().sum();
    let _ = write!(s, "<tr class=\"total\"><th scope=\"row\">all classes</th>");
    for n in column_totals {
        s.push_str(&count_cell(n, None));
    }
    let _ = writeln!(s, "{}</tr>", count_cell(all, None));
    s.push_str("</tbody>\n</table>\n");
}

fn count_cell(n: usize, level: Option<Confidence>) -> String {
    match (n, level) {
        (0, _) => "<td class=\"num zero\">0</td>".to_string(),
        (n, Some(l)) => format!("<td class=\"num nz-{}\">{n}</td>", l.as_str()),
        (n, None) => format!("<td class=\"num\">{n}</td>"),
    }
}

fn diagnostics(s: &mut String, c: &CaptureReport) {
    s.push_str("<h3>Diagnostics</h3>\n");
    if c.diagnostics.is_empty() {
        s.push_str(
            "<p>None: nothing was left unread or undecoded, and no limit was reached.</p>\n",
        );
        return;
    }
    s.push_str(
        "<p class=\"small\">What tamper could not read or decode, and limits it reached, worst first. These bound what the findings can say.</p>\n",
    );
    s.push_str("<table class=\"diagnostics\">\n<thead><tr><th scope=\"col\">severity</th><th scope=\"col\">diagnostic</th><th scope=\"col\" class=\"num\">count</th><th scope=\"col\">first examples</th></tr></thead>\n<tbody>\n");
    for d in &c.diagnostics {
        let sev = serde_json::to_value(d.severity)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        let mut examples = String::new();
        for e in d.examples.iter().take(3) {
            let frame = e.frame.map(|f| format!("frame {f}: ")).unwrap_or_default();
            let _ = write!(
                examples,
                "<div>{}{}</div>",
                escape(&frame),
                escape(&clip(&e.detail, 400))
            );
        }
        if d.examples.len() > 3 {
            let _ = write!(
                examples,
                "<div class=\"muted\">… {} more example{} in the diagnostics file</div>",
                d.examples.len() - 3,
                plural(d.examples.len() - 3)
            );
        }
        let _ = writeln!(
            s,
            "<tr><td><span class=\"sev {sev}\">{sev}</span></td><td><code>{}</code><div class=\"small muted\">{}</div></td><td class=\"num\">{}</td><td class=\"small\">{examples}</td></tr>",
            escape(d.kind.as_str()),
            escape(d.kind.description()),
            d.count,
            sev = escape(&sev),
        );
    }
    s.push_str("</tbody>\n</table>\n");
}

fn finding(s: &mut String, f: &Finding, pictures: &[Picture]) {
    let id = escape(&f.id);
    let _ = writeln!(
        s,
        "<section class=\"finding conf-{conf}\" id=\"{id}\">\n<h4><a class=\"fid\" href=\"#{id}\">{id}</a> {badge} <span class=\"kind\"><code>{class}</code> / <code>{kind}</code></span></h4>",
        conf = f.confidence.as_str(),
        badge = badge(f.confidence),
        class = escape(f.class.as_str()),
        kind = escape(f.kind.as_str()),
    );
    let _ = writeln!(s, "<p class=\"summary\">{}</p>", escape(&f.summary));
    s.push_str("<table class=\"kv\">\n<tbody>\n");
    kv(
        s,
        "Flow",
        &format!(
            "<span class=\"mono\">{} {} → {}</span> <span class=\"muted\">(flow {})</span>",
            escape(&f.flow.proto.to_string()),
            escape(&f.flow.client.to_string()),
            escape(&f.flow.server.to_string()),
            escape(&f.flow.id.to_string())
        ),
    );
    if let Some(t) = &f.trigger {
        let frame = t
            .frame
            .map(|n| format!(" <span class=\"muted\">(frame {n})</span>"))
            .unwrap_or_default();
        kv(
            s,
            "Trigger",
            &format!(
                "{} <code>{}</code>{frame}",
                escape(t.kind),
                escape(&t.value)
            ),
        );
    }
    kv(s, "Time", &escape(&f.ts.to_string()));
    kv(
        s,
        "Frames",
        &format!(
            "<span class=\"mono\">{}</span>",
            escape(&frame_list(&f.frames))
        ),
    );
    if !f.wireshark_filter.is_empty() {
        kv(
            s,
            "Wireshark filter",
            &format!(
                "<code class=\"filter\">{}</code>",
                escape(&f.wireshark_filter)
            ),
        );
    }
    if !f.wireshark_flow_filter.is_empty() {
        kv(
            s,
            "Wireshark flow filter",
            &format!(
                "<code class=\"filter\">{}</code>",
                escape(&f.wireshark_flow_filter)
            ),
        );
    }
    kv(
        s,
        "Detector",
        &format!("<code>{}</code>", escape(f.detector)),
    );
    s.push_str("</tbody>\n</table>\n");

    let _ = writeln!(
        s,
        "<table class=\"evidence\">\n<caption>Evidence ({} item{})</caption>\n<thead><tr><th scope=\"col\" class=\"num\">#</th><th scope=\"col\">type</th><th scope=\"col\">details</th></tr></thead>\n<tbody>",
        f.evidence.len(),
        plural(f.evidence.len())
    );
    for (i, e) in f.evidence.iter().enumerate() {
        let (kind, details) = evidence(e);
        let _ = writeln!(
            s,
            "<tr><td class=\"num\">{}</td><td><span class=\"etype\">{kind}</span></td><td>{details}</td></tr>",
            i + 1
        );
    }
    s.push_str("</tbody>\n</table>\n");

    for p in pictures {
        let svg = match p {
            Picture::Ladder(l) => svg::ladder(l),
            Picture::Series(sp) => svg::series(sp),
            Picture::DnsTimeline(d) => svg::dns_timeline(d),
        };
        let _ = writeln!(
            s,
            "<figure class=\"picture\">\n{svg}<figcaption>{} for {id}</figcaption>\n</figure>",
            escape(p.caption())
        );
    }
    s.push_str("<p class=\"back\"><a href=\"#top\">↑ contents</a></p>\n</section>\n");
}

/// `3, 7, 9`.
fn frame_list(frames: &[FrameNumber]) -> String {
    frames
        .iter()
        .map(|f| f.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// `frame 7` or `frames 5, 6, 7`.
fn frames_words(frames: &[FrameNumber]) -> String {
    match frames {
        [] => "no frame".to_string(),
        [one] => format!("frame {one}"),
        many => format!("frames {}", frame_list(many)),
    }
}

/// A number without needless decimals; non-finite values as Rust prints them.
fn number(v: f64) -> String {
    if !v.is_finite() {
        format!("{v}")
    } else if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{v:.0}")
    } else {
        svg::short(v, 3)
    }
}

/// One `name value` field of an evidence item (the name as in the JSON report).
fn field(out: &mut String, name: &str, value_html: &str) {
    let _ = write!(
        out,
        "<li><span class=\"k\">{}</span> {value_html}</li>",
        escape(name)
    );
}

/// The type name and the details cell of an evidence item, every field shown.
fn evidence(e: &Evidence) -> (&'static str, String) {
    let mut d = String::new();
    let kind = match e {
        Evidence::Packet {
            frame,
            role,
            direction,
            ts,
            ttl,
            ip_id,
            df,
            tcp_flags,
            seq,
            ack,
            window,
            payload_len,
        } => {
            let _ = write!(
                d,
                "<div class=\"head\">frame {frame}: {} <span class=\"muted\">({})</span></div><ul class=\"fields\">",
                escape(role),
                direction.words()
            );
            field(&mut d, "ts", &escape(&ts.to_string()));
            field(&mut d, "ttl", &ttl.to_string());
            if let Some(id) = ip_id {
                field(&mut d, "ip_id", &id.to_string());
            }
            if let Some(df) = df {
                field(&mut d, "df", if *df { "1" } else { "0" });
            }
            if let Some(fl) = tcp_flags {
                field(&mut d, "tcp_flags", &escape(fl));
            }
            if let Some(q) = seq {
                field(&mut d, "seq", &q.to_string());
            }
            if let Some(a) = ack {
                field(&mut d, "ack", &a.to_string());
            }
            if let Some(w) = window {
                field(&mut d, "window", &w.to_string());
            }
            field(&mut d, "payload_len", &payload_len.to_string());
            d.push_str("</ul>");
            "packet"
        }
        Evidence::Mismatch {
            field: name,
            observed,
            expected,
            frames,
            baseline_frames,
        } => {
            let observed = match observed {
                serde_json::Value::String(s) => s.clone(),
                v => v.to_string(),
            };
            let _ = write!(
                d,
                "<div class=\"head\"><code>{}</code>: observed <strong>{}</strong>, expected {}</div><ul class=\"fields\">",
                escape(name),
                escape(&observed),
                escape(expected)
            );
            field(&mut d, "frames", &escape(&frame_list(frames)));
            if !baseline_frames.is_empty() {
                field(
                    &mut d,
                    "baseline_frames",
                    &escape(&frame_list(baseline_frames)),
                );
            }
            d.push_str("</ul>");
            "mismatch"
        }
        Evidence::Payload {
            frame,
            what,
            bytes,
            truncated,
        } => {
            let _ = write!(
                d,
                "<div class=\"head\">{} in frame {frame}{}</div><ul class=\"fields\">",
                escape(what),
                if *truncated {
                    " <span class=\"muted\">(only the beginning was kept)</span>"
                } else {
                    ""
                }
            );
            field(&mut d, "length", &format!("{} bytes", bytes.0.len()));
            field(
                &mut d,
                "truncated",
                if *truncated { "true" } else { "false" },
            );
            d.push_str("</ul>");
            let shown = bytes.0.get(..MAX_PAYLOAD_SHOWN).unwrap_or(&bytes.0);
            let cut = if shown.len() < bytes.0.len() {
                format!(
                    "<div class=\"small muted\">first {} of {} bytes shown</div>",
                    shown.len(),
                    bytes.0.len()
                )
            } else {
                String::new()
            };
            match bytes.text() {
                Some(t) => {
                    let t: String = t.chars().take(MAX_PAYLOAD_SHOWN).collect();
                    let _ = write!(d, "<pre class=\"payload\">{}</pre>{cut}", escape(&t));
                }
                None => {
                    let _ = write!(
                        d,
                        "<pre class=\"payload hex\">{}</pre>{cut}",
                        escape(&hexdump(shown))
                    );
                }
            }
            "payload"
        }
        Evidence::Fingerprint {
            name,
            source,
            scope,
            location,
            matched,
            frames,
        } => {
            let _ = write!(
                d,
                "<div class=\"head\"><code>{}</code> matched at <code>{}</code></div><ul class=\"fields\">",
                escape(name),
                escape(location)
            );
            field(
                &mut d,
                "matched",
                &format!("<code>{}</code>", escape(matched)),
            );
            field(&mut d, "scope", &escape(scope));
            field(&mut d, "source", &escape(source));
            field(&mut d, "frames", &escape(&frame_list(frames)));
            d.push_str("</ul>");
            "fingerprint"
        }
        Evidence::Measurement {
            metric,
            value,
            unit,
            reference,
            reference_label,
            frames,
        } => {
            let _ = write!(
                d,
                "<div class=\"head\"><code>{}</code> = <strong>{} {}</strong></div><ul class=\"fields\">",
                escape(metric),
                escape(&number(*value)),
                escape(unit)
            );
            if let Some(r) = reference {
                field(
                    &mut d,
                    "reference",
                    &escape(&format!("{} {unit}", number(*r))),
                );
            }
            if let Some(l) = reference_label {
                field(&mut d, "reference_label", &escape(l));
            }
            if !frames.is_empty() {
                field(&mut d, "frames", &escape(&frame_list(frames)));
            }
            d.push_str("</ul>");
            "measurement"
        }
        Evidence::Timing {
            what,
            delta_ms,
            from_frame,
            to_frame,
            reference,
            reference_ms,
        } => {
            let _ = write!(
                d,
                "<div class=\"head\"><code>{}</code>: <strong>{} ms</strong> from frame {from_frame} to frame {to_frame}</div><ul class=\"fields\">",
                escape(what),
                escape(&number(*delta_ms))
            );
            if let Some(r) = reference {
                field(&mut d, "reference", &escape(r));
            }
            if let Some(ms) = reference_ms {
                field(
                    &mut d,
                    "reference_ms",
                    &escape(&format!("{} ms", number(*ms))),
                );
            }
            d.push_str("</ul>");
            "timing"
        }
        Evidence::Note { text, frames } => {
            let _ = write!(d, "<div class=\"head\">{}</div>", escape(text));
            if !frames.is_empty() {
                let _ = write!(
                    d,
                    "<ul class=\"fields\"><li><span class=\"k\">frames</span> {}</li></ul>",
                    escape(&frames_words(frames))
                );
            }
            "note"
        }
    };
    (kind, d)
}

/// A hex dump: offset, 16 bytes in hex, and the printable ASCII.
fn hexdump(bytes: &[u8]) -> String {
    let mut out = String::new();
    for (i, chunk) in bytes.chunks(16).enumerate() {
        let _ = write!(out, "{:06x}  ", i * 16);
        for j in 0..16 {
            match chunk.get(j) {
                Some(b) => {
                    let _ = write!(out, "{b:02x} ");
                }
                None => out.push_str("   "),
            }
            if j == 7 {
                out.push(' ');
            }
        }
        out.push(' ');
        for b in chunk {
            out.push(if b.is_ascii_graphic() || *b == b' ' {
                *b as char
            } else {
                '.'
            });
        }
        out.push('\n');
    }
    out
}

const CSS: &str = r#":root {
  color-scheme: light dark;
  --fg: #1f2328; --muted: #59636e; --bg: #ffffff; --panel: #f6f8fa; --line: #d1d9e0;
  --link: #0969da; --ok: #1a7f37;
  --high: #b42318; --high-bg: #fdecea; --medium: #8a5a00; --medium-bg: #fff3d1;
  --low: #37598a; --low-bg: #e7eef8;
  --warn-bg: #fff8e1; --warn-line: #d4a72c; --error-bg: #fdecea; --error-line: #cf222e;
  --info-bg: #eef4fb; --info-line: #54aeff;
}
@media (prefers-color-scheme: dark) {
  :root {
    --fg: #e6edf3; --muted: #9198a1; --bg: #0d1117; --panel: #151b23; --line: #3d444d;
    --link: #4493f8; --ok: #3fb950;
    --high: #ff8e86; --high-bg: #3c1618; --medium: #e3b341; --medium-bg: #332a10;
    --low: #9dc1f5; --low-bg: #16243b;
    --warn-bg: #2e2610; --warn-line: #9e7a1f; --error-bg: #3c1618; --error-line: #f85149;
    --info-bg: #12233a; --info-line: #316dca;
  }
}
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body {
  margin: 0; background: var(--bg); color: var(--fg);
  font: 15px/1.55 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, "Noto Sans", sans-serif;
}
.page { max-width: 1040px; margin: 0 auto; padding: 28px 32px 64px; }
a { color: var(--link); text-decoration: none; }
a:hover { text-decoration: underline; }
h1 { font-size: 1.75rem; margin: 0 0 2px; letter-spacing: -0.01em; }
h2 { font-size: 1.35rem; margin: 44px 0 12px; padding-bottom: 6px; border-bottom: 1px solid var(--line); }
h3 { font-size: 1.08rem; margin: 28px 0 8px; }
h4 { font-size: 1.02rem; margin: 0 0 8px; display: flex; flex-wrap: wrap; align-items: center; gap: 8px; }
p { margin: 6px 0 10px; }
.meta { color: var(--muted); margin: 0 0 8px; }
.lede { max-width: 52em; }
.muted { color: var(--muted); }
.small { font-size: 0.87rem; }
code, pre, .mono, .fid {
  font-family: ui-monospace, SFMono-Regular, "SF Mono", Menlo, Consolas, "DejaVu Sans Mono", "Liberation Mono", monospace;
}
code { font-size: 0.86em; background: var(--panel); border: 1px solid var(--line); border-radius: 4px; padding: 0 4px; overflow-wrap: anywhere; }
.mono { font-size: 0.9em; overflow-wrap: anywhere; }
pre {
  font-size: 0.82rem; line-height: 1.45; background: var(--panel); border: 1px solid var(--line);
  border-radius: 6px; padding: 8px 10px; margin: 6px 0 2px; max-height: 24em; overflow: auto;
  white-space: pre-wrap; overflow-wrap: anywhere;
}
pre.hex { white-space: pre; }
table { border-collapse: collapse; width: 100%; margin: 6px 0 14px; font-size: 0.92rem; }
caption { text-align: left; font-weight: 600; padding: 4px 0 6px; }
th, td { border: 1px solid var(--line); padding: 5px 10px; text-align: left; vertical-align: top; }
thead th { background: var(--panel); font-weight: 600; }
table.kv th { width: 10.5em; background: var(--panel); font-weight: 600; white-space: nowrap; }
table.counts { width: auto; min-width: 30em; }
th.num, td.num { text-align: right; font-variant-numeric: tabular-nums; }
td.zero { color: var(--muted); }
td.nz-high { color: var(--high); font-weight: 700; }
td.nz-medium { color: var(--medium); font-weight: 700; }
td.nz-low { color: var(--low); font-weight: 700; }
tr.total th, tr.total td { font-weight: 700; background: var(--panel); }
.badge {
  display: inline-block; padding: 0 9px; border-radius: 999px; font-size: 0.75rem; font-weight: 700;
  line-height: 1.6; letter-spacing: 0.04em; text-transform: uppercase; border: 1px solid currentColor;
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif; white-space: nowrap;
}
.badge.high { color: var(--high); background: var(--high-bg); }
.badge.medium { color: var(--medium); background: var(--medium-bg); }
.badge.low { color: var(--low); background: var(--low-bg); }
.sev { font-weight: 600; }
.sev.error { color: var(--high); }
.sev.warning { color: var(--medium); }
.sev.info { color: var(--muted); }
.status.ok { color: var(--ok); font-weight: 600; }
.callout { border: 1px solid; border-left-width: 5px; border-radius: 6px; padding: 8px 12px; }
.callout.warn { background: var(--warn-bg); border-color: var(--warn-line); }
.callout.error { background: var(--error-bg); border-color: var(--error-line); }
.callout.info { background: var(--info-bg); border-color: var(--info-line); }
.toc { border: 1px solid var(--line); border-radius: 8px; padding: 4px 18px 10px; margin-top: 20px; background: var(--panel); }
.toc h2 { margin: 10px 0 6px; border: 0; font-size: 1.1rem; padding: 0; }
.toc-capture { margin: 8px 0 4px; font-weight: 600; overflow-wrap: anywhere; }
.toc-capture .muted { font-weight: 400; }
.toc-findings { list-style: none; margin: 0 0 8px; padding: 0; }
.toc-findings li { padding: 3px 0; font-size: 0.9rem; border-top: 1px solid var(--line); }
.toc-findings li:first-child { border-top: 0; }
.toc-findings .fid { display: inline-block; min-width: 3.6em; font-weight: 600; }
.toc-findings .kind { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, "DejaVu Sans Mono", monospace; font-size: 0.85em; margin: 0 6px; }
.toc-summary { color: var(--muted); }
.capture h2 { overflow-wrap: anywhere; }
.finding {
  border: 1px solid var(--line); border-left: 6px solid var(--low); border-radius: 8px;
  padding: 14px 18px 6px; margin: 18px 0 26px; scroll-margin-top: 12px;
}
.finding.conf-high { border-left-color: var(--high); }
.finding.conf-medium { border-left-color: var(--medium); }
.finding:target { box-shadow: 0 0 0 3px var(--info-line); }
.finding .fid { font-size: 1.05rem; font-weight: 700; color: var(--fg); }
.finding .kind code { font-size: 0.9em; }
.summary { font-size: 1rem; margin: 4px 0 12px; max-width: 60em; }
code.filter { user-select: all; }
.evidence td:nth-child(1) { width: 2.5em; color: var(--muted); }
.evidence td:nth-child(2) { width: 7.5em; }
.etype { font-size: 0.78rem; font-weight: 600; text-transform: uppercase; letter-spacing: 0.04em; color: var(--muted); }
.evidence .head { overflow-wrap: anywhere; }
.diagnostics td:nth-child(4) { width: 42%; overflow-wrap: anywhere; }
ul.fields { list-style: none; margin: 3px 0 0; padding: 0; display: flex; flex-wrap: wrap; gap: 2px 14px; font-size: 0.85rem; }
ul.fields li { overflow-wrap: anywhere; }
ul.fields .k { color: var(--muted); font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, "DejaVu Sans Mono", monospace; font-size: 0.92em; }
figure.picture { margin: 16px 0 10px; }
figure.picture svg { display: block; width: 100%; max-width: 100%; height: auto; border: 1px solid var(--line); border-radius: 6px; background: #ffffff; }
figcaption { color: var(--muted); font-size: 0.85rem; margin-top: 4px; }
.back { text-align: right; font-size: 0.85rem; margin: 4px 0 8px; }
footer { margin-top: 48px; padding-top: 10px; border-top: 1px solid var(--line); color: var(--muted); font-size: 0.85rem; }
@media (max-width: 640px) {
  .page { padding: 16px 12px 40px; }
  table.kv th { width: auto; white-space: normal; }
}
@media print {
  body { font-size: 10.5pt; background: #ffffff; color: #000000; }
  .page { max-width: none; padding: 0; }
  a { color: inherit; }
  .back { display: none; }
  .toc { background: none; }
  pre { max-height: none; overflow: visible; }
  .finding, figure, tr { break-inside: avoid; }
  h2, h3, h4 { break-after: avoid; }
}
"#;

#[cfg(test)]
mod tests {
    use super::super::pictures::{Picture, Pictures};
    use super::super::snapshot::assert_snapshot;
    use super::super::svg::tests::{example_dns, example_ladder, example_series};
    use super::super::{
        CaptureReport, CaptureStatus, CaptureSummary, FlowCounts, LimitsUsed, PacketCounts, Report,
    };
    use super::*;
    use crate::capture::{CaptureFormat, InterfaceInfo, LinkType};
    use crate::diag::{DiagnosticExample, DiagnosticKind, DiagnosticSummary};
    use crate::finding::{FindingBuilder, FindingKind, FlowRef, Payload};
    use crate::ids::Direction;
    use crate::ids::{Endpoint, FlowId, L4Proto};
    use crate::time::Timestamp;

    fn fr(n: u64) -> FrameNumber {
        FrameNumber::new(n).unwrap()
    }

    fn flow(client: &str, server: &str, first: u64, proto: L4Proto) -> FlowRef {
        let ep = |s: &str| {
            let (a, p) = s.rsplit_once(':').unwrap();
            Endpoint {
                addr: a.trim_matches(['[', ']']).parse().unwrap(),
                port: p.parse().unwrap(),
            }
        };
        FlowRef {
            proto,
            client: ep(client),
            server: ep(server),
            id: FlowId {
                first_frame: fr(first),
                depth: 0,
            },
        }
    }

    const T0: i64 = 1_715_679_000_000_000_000;

    fn ts(ms: f64) -> Timestamp {
        Timestamp::from_nanos(T0 + (ms * 1e6) as i64)
    }

    fn packet(frame: u64, role: &str, dir: Direction, ms: f64, ttl: u8, flags: &str) -> Evidence {
        Evidence::Packet {
            frame: fr(frame),
            role: role.into(),
            direction: dir,
            ts: ts(ms),
            ttl,
            ip_id: Some(15407),
            df: Some(true),
            tcp_flags: Some(flags.into()),
            seq: Some(3_827_395_404),
            ack: Some(1_988_822_199),
            window: Some(0),
            payload_len: 0,
        }
    }

    /// A report over three captures: one with a finding of four classes (every evidence type,
    /// hostile text included), one partly read, one that failed.
    pub(in crate::report) fn example_report() -> (Report, Pictures) {
        let rst = FindingBuilder::new(
            "rst_injection",
            FindingKind::new("tcp_rst_injected", FindingClass::RstInjection),
            Confidence::High,
            flow("192.168.1.20:59881", "198.51.100.80:80", 1, L4Proto::Tcp),
            "Injected 3 RSTs claiming to come from the server after the HTTP request for blocked.example: TTL 96 where the server's packets have 52",
        )
        .trigger("http_host", "blocked.example", Some(fr(4)))
        .evidence(packet(5, "forged RST (claims to be the server)", Direction::ServerToClient, 183.3, 96, "RST,ACK"))
        .evidence(Evidence::Mismatch {
            field: "ip_ttl".into(),
            observed: serde_json::json!(96),
            expected: "52 (server's other packets in this flow)".into(),
            frames: vec![fr(5)],
            baseline_frames: vec![fr(2), fr(8)],
        })
        .evidence(Evidence::Timing {
            what: "rst_after_trigger".into(),
            delta_ms: 3.0,
            from_frame: fr(4),
            to_frame: fr(5),
            reference: Some("handshake round-trip time".into()),
            reference_ms: Some(180.0),
        })
        .evidence(Evidence::Fingerprint {
            name: "gfw_rst_type_2".into(),
            source: "Wu, Zohaib, Durumeric et al., IEEE S&P 2023".into(),
            scope: "device".into(),
            location: "tcp.rst".into(),
            matched: "RST,ACK burst of 3, window 0".into(),
            frames: vec![fr(5), fr(6), fr(7)],
        })
        .evidence(Evidence::Note {
            text: "race: after the RST the server kept sending".into(),
            frames: vec![fr(8)],
        })
        .build();
        let dns = FindingBuilder::new(
            "dns_injection",
            FindingKind::new("dns_answer_race", FindingClass::DnsInjection),
            Confidence::Medium,
            flow("10.0.0.2:53211", "8.8.8.8:53", 12, L4Proto::Udp),
            "Two answers to blocked.example A: 8.7.198.45 first (2.1 ms), then 93.184.216.34",
        )
        .trigger("dns_query", "blocked.example", Some(fr(12)))
        .at(ts(2.104))
        .evidence(Evidence::Mismatch {
            field: "dns_answer".into(),
            observed: serde_json::json!("8.7.198.45"),
            expected: "93.184.216.34 (the resolver's own answer, frame 17)".into(),
            frames: vec![fr(13)],
            baseline_frames: vec![fr(17)],
        })
        .build();
        let page = FindingBuilder::new(
            "blockpage",
            FindingKind::new("blockpage_fingerprint", FindingClass::Blockpage),
            Confidence::Low,
            flow("10.0.0.2:40000", "[2001:db8::1]:80", 30, L4Proto::Tcp),
            "A notice page <script>alert('x')</script> & \"quotes\" \u{202e}reversed",
        )
        .trigger("http_url", "http://blocked.example/<a href=\"x\">", Some(fr(32)))
        .at(ts(5_012.5))
        .evidence(Evidence::Payload {
            frame: fr(34),
            what: "HTTP response head and body".into(),
            bytes: Payload(
                b"HTTP/1.1 403 Forbidden\r\nContent-Type: text/html\r\n\r\n<html><script src=\"https://evil.example/x.js\"></script><img src=x onerror=alert(1)></html>".to_vec(),
            ),
            truncated: true,
        })
        .evidence(Evidence::Payload {
            frame: fr(35),
            what: "RST payload".into(),
            bytes: Payload(vec![0x00, 0x1b, 0x3c, 0x73, 0xff, 0x41, 0x42, 0x0a]),
            truncated: false,
        })
        .build();
        let throttle = FindingBuilder::new(
            "throttling",
            FindingKind::new("targeted_throttling", FindingClass::Throttling),
            Confidence::Medium,
            flow("10.0.0.2:40100", "203.0.113.7:443", 40, L4Proto::Tcp),
            "Flow held at 0.5 Mbit/s while 2 flows to 203.0.113.0/24 got 6.8 Mbit/s (ratio 13.6)",
        )
        .trigger("sni", "video.example", Some(fr(42)))
        .at(ts(9_870.25))
        .evidence(Evidence::Measurement {
            metric: "goodput".into(),
            value: 498.25,
            unit: "kbit/s".into(),
            reference: Some(6812.5),
            reference_label: Some("median of 2 comparison flows".into()),
            frames: vec![fr(40), fr(900)],
        })
        .build();
        let summary = CaptureSummary {
            format: CaptureFormat::Pcapng,
            compression: vec![],
            interfaces: vec![InterfaceInfo {
                index: 0,
                link_type: LinkType(1),
                snaplen: 262_144,
                ts_units_per_sec: 1_000_000,
                ts_offset_secs: 0,
            }],
            frames: 1200,
            bytes: 987_654,
            first_ts: Some(ts(0.0)),
            last_ts: Some(ts(30_500.0)),
            read_end: ReadEnd::Complete,
            flows: FlowCounts {
                tcp: 12,
                udp: 4,
                peak: 9,
            },
            packets: PacketCounts {
                ip: 1190,
                not_ip: 10,
                ..PacketCounts::default()
            },
            limits: LimitsUsed::default(),
        };
        let first = CaptureReport {
            name: "volunteer <1>.pcapng".into(),
            status: CaptureStatus::Complete,
            summary: Some(summary.clone()),
            findings: vec![throttle, page, dns, rst],
            flows: vec![],
            source: None,
            vantage: None,
            diagnostics: vec![DiagnosticSummary {
                kind: DiagnosticKind::PacketSnaplenCut,
                severity: DiagnosticKind::PacketSnaplenCut.severity(),
                count: 5,
                examples: (0..5)
                    .map(|i| DiagnosticExample {
                        frame: Some(fr(100 + i)),
                        detail: format!("captured 96 of 1514 bytes <{i}>"),
                    })
                    .collect(),
            }],
        };
        let second = CaptureReport {
            name: "cut.pcap".into(),
            status: CaptureStatus::Partial {
                reason: "the file ends inside a record".into(),
            },
            summary: Some(CaptureSummary {
                read_end: ReadEnd::Truncated {
                    offset: 4096,
                    detail: "record of 1514 bytes, 200 present".into(),
                },
                ..summary
            }),
            findings: vec![],
            flows: vec![],
            source: None,
            vantage: None,
            diagnostics: vec![DiagnosticSummary {
                kind: DiagnosticKind::CaptureTruncated,
                severity: DiagnosticKind::CaptureTruncated.severity(),
                count: 1,
                examples: vec![DiagnosticExample {
                    frame: None,
                    detail: "record of 1514 bytes, 200 present".into(),
                }],
            }],
        };
        let third = CaptureReport::failed(
            "missing.pcap".into(),
            "cannot open missing.pcap: No such file or directory".into(),
        );
        let report = Report::new(vec![first, second, third]);
        let mut pictures = Pictures::default();
        for f in report.findings() {
            let p = match f.class {
                FindingClass::RstInjection => Picture::Ladder(example_ladder()),
                FindingClass::DnsInjection => Picture::DnsTimeline(example_dns()),
                FindingClass::Throttling => Picture::Series(example_series()),
                _ => continue,
            };
            pictures.push(f.id.clone(), p);
        }
        (report, pictures)
    }

    fn render(report: &Report, pictures: &Pictures) -> String {
        let mut out = Vec::new();
        write(report, pictures, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn page_snapshot() {
        let (report, pictures) = example_report();
        assert_snapshot("report.html", &render(&report, &pictures));
    }

    #[test]
    fn page_is_self_contained_escaped_and_deterministic() {
        let (report, pictures) = example_report();
        let page = render(&report, &pictures);
        assert_eq!(page, render(&report, &pictures));
        assert!(page.starts_with("<!DOCTYPE html>\n"));
        assert!(page.contains(
            "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src &#39;none&#39;; style-src &#39;unsafe-inline&#39;; img-src data:\">"
        ));
        assert!(!page.to_ascii_lowercase().contains("<script"));
        assert!(!page.contains("<img") && !page.contains("<a href=\"x"));
        assert!(page.contains("&lt;script src=&quot;https://evil.example/x.js&quot;&gt;"));
        assert!(page.contains("volunteer &lt;1&gt;.pcapng"));
        assert!(page.contains("\\u{202e}reversed") && !page.contains('\u{202e}'));
        // Every link stays on the page and nothing is loaded: with every text escaped, each
        // `<` opens a real tag.
        for tag in page.split('<').skip(1).filter_map(|t| t.split('>').next()) {
            assert!(!tag.contains(" src="), "a tag loads something: <{tag}>");
            if let Some(i) = tag.find(" href=\"") {
                assert!(tag[i + 7..].starts_with('#'), "link off the page: <{tag}>");
            }
        }
        // Anchors and the contents.
        for f in report.findings() {
            assert!(page.contains(&format!("id=\"{}\"", f.id)), "{}", f.id);
            assert!(page.contains(&format!(
                "<a href=\"#{0}\"><span class=\"fid\">{0}</span></a>",
                f.id
            )));
        }
        // All five classes are counted, even at zero.
        for class in FindingClass::ALL {
            assert!(page.contains(&format!("<th scope=\"row\"><code>{class}</code></th>")));
        }
        // Pictures sit in their findings.
        assert_eq!(page.matches("<svg ").count(), 3);
        assert!(page.contains("Partly read:") && page.contains("Not analyzed:"));
        assert!(page.contains("2 more examples in the diagnostics file"));
        // Binary payloads are dumped in hex.
        assert!(page.contains("000000  00 1b 3c 73 ff 41 42 0a"));
    }

    #[test]
    fn pictures_note_and_no_pictures() {
        let (report, _) = example_report();
        let pictures = Pictures {
            note: Some("pictures need a capture file, not standard input".into()),
            ..Pictures::default()
        };
        let page = render(&report, &pictures);
        assert!(page.contains("pictures need a capture file, not standard input"));
        assert!(!page.contains("<svg"));
        let mut via_format = Vec::new();
        report
            .write(super::super::ReportFormat::Html, &mut via_format)
            .unwrap();
        assert_eq!(
            String::from_utf8(via_format).unwrap(),
            render(&report, &Pictures::default())
        );
    }

    #[test]
    fn escape_markup_and_quotes() {
        assert_eq!(
            escape("<script>alert(\"x\" & 'y')</script>"),
            "&lt;script&gt;alert(&quot;x&quot; &amp; &#39;y&#39;)&lt;/script&gt;"
        );
        assert_eq!(escape("a &amp; b"), "a &amp;amp; b");
        assert_eq!(
            escape("plain text, ümlaut, 日本"),
            "plain text, ümlaut, 日本"
        );
    }

    #[test]
    fn escape_control_and_bidi_characters() {
        assert_eq!(escape("a\tb\nc\r"), "a\tb\nc\r");
        assert_eq!(
            escape("\0\u{1b}[31m\u{7f}\u{85}"),
            "\\x00\\x1b[31m\\x7f\\x85"
        );
        assert_eq!(escape("abc\u{202e}fed"), "abc\\u{202e}fed");
        assert_eq!(escape("\u{2066}x\u{2069}"), "\\u{2066}x\\u{2069}");
        assert_eq!(
            escape("\u{fffe}\u{fdd0}\u{1ffff}"),
            "\\u{fffe}\\u{fdd0}\\u{1ffff}"
        );
        // Nothing that could open a tag, entity or attribute survives.
        let nasty: String = (0u32..0x300).filter_map(char::from_u32).collect();
        let e = escape(&nasty);
        assert!(!e.contains('<') && !e.contains('>') && !e.contains('"') && !e.contains('\''));
        assert!(e
            .chars()
            .all(|c| !c.is_control() || matches!(c, '\t' | '\n' | '\r')));
    }

    #[test]
    fn hexdump_layout() {
        let d = hexdump(b"GET /\x00\x01 0123456789abcdefXYZ");
        let lines: Vec<&str> = d.lines().collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(
            lines[0],
            "000000  47 45 54 20 2f 00 01 20  30 31 32 33 34 35 36 37  GET /.. 01234567"
        );
        assert!(lines[1].starts_with("000010  38 39 61 62"));
        assert!(lines[1].ends_with("89abcdefXYZ"));
    }

    #[test]
    fn grouped_digits() {
        assert_eq!(grouped(0), "0");
        assert_eq!(grouped(999), "999");
        assert_eq!(grouped(1000), "1,000");
        assert_eq!(grouped(536_870_912), "536,870,912");
        assert_eq!(grouped(u64::MAX), "18,446,744,073,709,551,615");
    }

    #[test]
    fn numbers_in_evidence() {
        assert_eq!(number(3.0), "3");
        assert_eq!(number(0.25), "0.25");
        assert_eq!(number(180.1234), "180.123");
        assert_eq!(number(f64::NAN), "NaN");
    }
}
