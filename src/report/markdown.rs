//! Markdown and plain-text writers: a readable summary per capture and the `tamper flows`
//! table; they only format what the report holds.

use std::fmt::Write as _;
use std::io::{self, Write};

use super::{CaptureReport, CaptureStatus, FlowSummary, Report};
use crate::finding::{Confidence, Evidence, Finding, FindingClass};

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

/// Inline code with backticks removed from the content.
fn code(s: &str) -> String {
    format!("`{}`", s.replace('`', "'").replace('\n', " "))
}

pub(super) fn write(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let mut s = String::new();
    let total: usize = report.captures.iter().map(|c| c.findings.len()).sum();
    let _ = writeln!(s, "# tamper report\n");
    let _ = writeln!(
        s,
        "tamper {} · {} capture{} · {} finding{}\n",
        report.tool_version,
        report.captures.len(),
        plural(report.captures.len()),
        total,
        plural(total)
    );
    for c in &report.captures {
        capture(&mut s, c);
    }
    out.write_all(s.as_bytes())
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

fn capture(s: &mut String, c: &CaptureReport) {
    let _ = writeln!(s, "## {}\n", cell(&c.name));
    let _ = writeln!(s, "| | |\n|---|---|");
    let status = match &c.status {
        CaptureStatus::Complete => "read completely".to_string(),
        CaptureStatus::Partial { reason } => format!("**partly read**: {reason}"),
        CaptureStatus::Failed { error } => format!("**not analyzed**: {error}"),
    };
    let _ = writeln!(s, "| Status | {} |", cell(&status));
    if let Some(sum) = &c.summary {
        let comp = if sum.compression.is_empty() {
            String::new()
        } else {
            format!(
                ", {}-compressed",
                sum.compression
                    .iter()
                    .map(|c| c.to_string())
                    .collect::<Vec<_>>()
                    .join("+")
            )
        };
        let _ = writeln!(s, "| Format | {}{} |", sum.format, comp);
        let mut links: Vec<String> = sum
            .interfaces
            .iter()
            .map(|i| i.link_type.to_string())
            .collect();
        links.dedup();
        let _ = writeln!(s, "| Link types | {} |", cell(&links.join(", ")));
        let _ = writeln!(s, "| Frames | {} ({} bytes) |", sum.frames, sum.bytes);
        if let (Some(a), Some(b)) = (sum.first_ts, sum.last_ts) {
            let _ = writeln!(s, "| Time span | {a} → {b} ({}) |", b.since(a));
        }
        let _ = writeln!(
            s,
            "| Flows | {} TCP, {} UDP (at most {} at once) |",
            sum.flows.tcp, sum.flows.udp, sum.flows.peak
        );
        let p = &sum.packets;
        let _ = writeln!(
            s,
            "| Packets | {} IP, {} other network protocols, {} not decodable, {} IP fragments |",
            p.ip, p.not_ip, p.undecoded, p.fragments
        );
    }
    let _ = writeln!(s);
    findings(s, c);
    diagnostics(s, c);
}

fn findings(s: &mut String, c: &CaptureReport) {
    if matches!(c.status, CaptureStatus::Failed { .. }) {
        return;
    }
    if c.findings.is_empty() {
        let _ = writeln!(
            s,
            "### Findings\n\nNo interference found in this capture.\n"
        );
        return;
    }
    let _ = writeln!(s, "### Findings ({})\n", c.findings.len());
    let _ = writeln!(s, "| class | high | medium | low |\n|---|---|---|---|");
    for class in FindingClass::ALL {
        let count = |conf: Confidence| {
            c.findings
                .iter()
                .filter(|f| f.class == class && f.confidence == conf)
                .count()
        };
        let (h, m, l) = (
            count(Confidence::High),
            count(Confidence::Medium),
            count(Confidence::Low),
        );
        if h + m + l > 0 {
            let _ = writeln!(s, "| {class} | {h} | {m} | {l} |");
        }
    }
    let _ = writeln!(s);
    for f in &c.findings {
        finding(s, f);
    }
}

fn finding(s: &mut String, f: &Finding) {
    let _ = writeln!(
        s,
        "#### {} · {} / {} · {} confidence\n",
        f.id, f.class, f.kind, f.confidence
    );
    let _ = writeln!(s, "{}\n", cell(&f.summary));
    let _ = writeln!(
        s,
        "- Flow {}: {} {} → {}",
        f.flow.id, f.flow.proto, f.flow.client, f.flow.server
    );
    if let Some(t) = &f.trigger {
        let frame = t.frame.map(|n| format!(" (frame {n})")).unwrap_or_default();
        let _ = writeln!(s, "- Trigger: {} {}{}", t.kind, code(&t.value), frame);
    }
    let _ = writeln!(s, "- Time: {}", f.ts);
    let _ = writeln!(s, "- In Wireshark: {}\n", code(&f.wireshark_filter));
    let _ = writeln!(s, "| evidence | details |\n|---|---|");
    for e in &f.evidence {
        let (kind, detail) = evidence(e);
        let _ = writeln!(s, "| {kind} | {} |", cell(&detail));
    }
    let _ = writeln!(s);
}

fn evidence(e: &Evidence) -> (&'static str, String) {
    match e {
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
            let mut d = format!(
                "frame {frame} ({role}), {}, {ts}, TTL {ttl}",
                direction.arrow()
            );
            if let Some(id) = ip_id {
                let _ = write!(d, ", IP ID {id}");
            }
            if let Some(df) = df {
                let _ = write!(d, ", DF {}", u8::from(*df));
            }
            if let Some(fl) = tcp_flags {
                let _ = write!(d, ", flags {fl}");
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
            ("packet", d)
        }
        Evidence::Mismatch {
            field,
            observed,
            expected,
            frames,
            ..
        } => (
            "mismatch",
            format!(
                "{field}: observed {observed} in {}, expected {expected}",
                frames_words(frames)
            ),
        ),
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
            (
                "payload",
                format!(
                    "{what} in frame {frame}{}: {shown}",
                    if *truncated { " (start)" } else { "" }
                ),
            )
        }
        Evidence::Fingerprint {
            name,
            source,
            scope,
            location,
            matched,
            frames,
        } => (
            "fingerprint",
            format!(
                "{name} ({scope}, from {source}) matched {location} {matched:?} in {}",
                frames_words(frames)
            ),
        ),
        Evidence::Measurement {
            metric,
            value,
            unit,
            reference,
            reference_label,
            frames,
        } => {
            let mut d = format!("{metric} = {} {unit}", number(*value));
            match (reference, reference_label) {
                (Some(r), Some(l)) => {
                    let _ = write!(d, " (vs {} {unit}: {l})", number(*r));
                }
                (Some(r), None) => {
                    let _ = write!(d, " (vs {} {unit})", number(*r));
                }
                (None, Some(l)) => {
                    let _ = write!(d, " ({l})");
                }
                (None, None) => {}
            }
            if !frames.is_empty() {
                let _ = write!(d, " in {}", frames_words(frames));
            }
            ("measurement", d)
        }
        Evidence::Timing {
            what,
            delta_ms,
            from_frame,
            to_frame,
            reference,
            reference_ms,
        } => {
            let mut d =
                format!("{what}: {delta_ms:.3} ms from frame {from_frame} to frame {to_frame}");
            if let (Some(r), Some(ms)) = (reference, reference_ms) {
                let _ = write!(d, " ({r}: {ms:.3} ms)");
            }
            ("timing", d)
        }
        Evidence::Note { text, frames } => {
            let mut d = text.clone();
            if !frames.is_empty() {
                let _ = write!(d, " ({})", frames_words(frames));
            }
            ("note", d)
        }
    }
}

fn join<T: ToString>(items: &[T]) -> String {
    items
        .iter()
        .map(|i| i.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

fn diagnostics(s: &mut String, c: &CaptureReport) {
    if c.diagnostics.is_empty() {
        return;
    }
    let _ = writeln!(
        s,
        "### Diagnostics\n\nWhat tamper could not read or decode, and limits it reached. These bound what the findings above can say.\n"
    );
    let _ = writeln!(
        s,
        "| severity | diagnostic | count | first example |\n|---|---|---|---|"
    );
    for d in &c.diagnostics {
        let example = d
            .examples
            .first()
            .map(|e| e.detail.clone())
            .unwrap_or_default();
        let sev = serde_json::to_value(d.severity)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        let _ = writeln!(
            s,
            "| {sev} | {} | {} | {} |",
            d.kind,
            d.count,
            cell(&example)
        );
    }
    let _ = writeln!(s);
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

/// `frame 7` or `frames 5, 6, 7`.
fn frames_words(frames: &[crate::ids::FrameNumber]) -> String {
    match frames {
        [one] => format!("frame {one}"),
        many => format!("frames {}", join(many)),
    }
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
