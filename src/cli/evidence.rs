//! The `explain` and `extract` commands: a flow's packets as readable lines, and the packets of
//! a finding or flow carved into a small capture; they print and copy what the analysis and
//! [`crate::inspect`] found, and judge nothing themselves.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::io::{self, Write};
use std::path::PathBuf;

use clap::Args;

use super::{write_atomic, LimitArgs, EXIT_OK, EXIT_PARTIAL};
use crate::capture::InputSource;
use crate::finding::Finding;
use crate::flow::L4Proto;
use crate::ids::{Direction, FlowId, FrameNumber};
use crate::inspect::{self, CarveFormat, EditOutcome, FlowPackets, Selection};
use crate::pipeline::{self, Options};
use crate::report::{CaptureReport, OutputTarget};

/// `tamper explain`.
#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// The capture file.
    #[arg(value_name = "CAPTURE")]
    pub input: String,
    /// The flow to show (its id, as `tamper flows` and the reports give it: 12 or 12.1).
    #[arg(long, value_name = "ID", required_unless_present = "finding")]
    pub flow: Option<FlowId>,
    /// Show the flow of this finding (its id in `tamper analyze`'s report of this capture
    /// alone, like F2) and mark the finding's packets.
    #[arg(long, value_name = "ID", conflicts_with = "flow")]
    pub finding: Option<String>,
    /// Show at most this many packets (the first ones, then the ones around the findings).
    #[arg(long, value_name = "N", default_value_t = 500, value_parser = clap::value_parser!(u64).range(1..))]
    pub limit: u64,
    /// Extra blocking fingerprints, as for `analyze`.
    #[arg(long = "fingerprints", value_name = "FILE")]
    pub fingerprints: Vec<PathBuf>,
    /// Limits.
    #[command(flatten)]
    pub limits: LimitArgs,
}

/// `tamper extract`.
#[derive(Debug, Args)]
pub struct ExtractArgs {
    /// The capture file.
    #[arg(value_name = "CAPTURE")]
    pub input: String,
    /// Carve the packets of this finding (its id in `tamper analyze`'s report of this
    /// capture alone, like F2): every packet of its flow and every frame it cites.
    /// Repeatable.
    #[arg(long, value_name = "ID", required_unless_present = "flow")]
    pub finding: Vec<String>,
    /// Carve every packet of this flow (12 or 12.1, as `tamper flows` gives it). Repeatable.
    #[arg(long, value_name = "ID")]
    pub flow: Vec<FlowId>,
    /// Also carve the linked flows: the flows of frames the finding cites, the other flows
    /// to the same server (the baselines a finding is judged against), the DNS lookups
    /// whose answers named the server, and the capture's last frame (silence is evidence
    /// only while the capture was running).
    #[arg(long)]
    pub context: bool,
    /// Where to write the extract (a file, or `-` for standard output).
    #[arg(short, long, value_name = "FILE|-")]
    pub output: String,
    /// Container: pcapng (the default, and whenever the output name does not end in .pcap)
    /// keeps each packet's original frame number in a comment; pcap holds one link type.
    #[arg(long, value_enum)]
    pub format: Option<CarveFormat>,
    /// Cut every packet after its TCP/UDP header, as a snapshot length would: addresses,
    /// ports, flags, sequence numbers and lengths stay; the contents go.
    #[arg(long)]
    pub strip_payload: bool,
    /// Replace the IP addresses in every packet (headers, quoted ICMP headers, DNS answers)
    /// with their Crypto-PAn pseudonyms under this key (64 hex digits, a 32-character
    /// string, or @FILE); the same key gives the same pseudonyms as `analyze --anonymize`.
    /// Payloads, SNI, Host and DNS names are not hidden: add --strip-payload
    /// (docs/anonymization.md).
    #[arg(long, value_name = "KEY")]
    pub anonymize: Option<String>,
    /// Overwrite an output file that already exists.
    #[arg(long)]
    pub force: bool,
    /// Print nothing on standard error except errors.
    #[arg(short, long)]
    pub quiet: bool,
    /// Extra blocking fingerprints, as for `analyze` (they change which findings exist).
    #[arg(long = "fingerprints", value_name = "FILE")]
    pub fingerprints: Vec<PathBuf>,
    /// Limits.
    #[command(flatten)]
    pub limits: LimitArgs,
}

fn options(limits: &LimitArgs, fingerprints: &[PathBuf]) -> anyhow::Result<Options> {
    Ok(Options {
        limits: limits.limits(),
        collect_flows: false,
        skip_detectors: false,
        detect: pipeline::detect_config(fingerprints)?,
        stop: Default::default(),
    })
}

fn one_input(arg: &str) -> anyhow::Result<InputSource> {
    let input = InputSource::from_arg(arg);
    if input == InputSource::Stdin {
        anyhow::bail!("this command reads the capture more than once: give a file, not `-`");
    }
    Ok(input)
}

/// The findings named by `ids` in a report of one capture, or an error listing the ids there are.
fn findings_named<'r>(
    report: &'r CaptureReport,
    ids: &[String],
) -> anyhow::Result<Vec<&'r Finding>> {
    let mut out = Vec::new();
    for id in ids {
        match report
            .findings
            .iter()
            .find(|f| f.id.eq_ignore_ascii_case(id))
        {
            Some(f) => out.push(f),
            None => {
                let have: Vec<&str> = report.findings.iter().map(|f| f.id.as_str()).collect();
                if have.is_empty() {
                    anyhow::bail!(
                        "{}: no finding {id}: the capture has no findings",
                        report.name
                    );
                }
                anyhow::bail!(
                    "{}: no finding {id}; this capture's findings are {}",
                    report.name,
                    have.join(", ")
                );
            }
        }
    }
    Ok(out)
}

/// Numbers the findings of a one-capture report as `tamper analyze` does for one capture.
fn numbered(report: CaptureReport) -> CaptureReport {
    let mut r = crate::report::Report::new(vec![report]);
    r.captures
        .pop()
        .unwrap_or_else(|| CaptureReport::failed(String::new(), String::new()))
}

fn failed(report: &CaptureReport) -> anyhow::Result<()> {
    if let crate::report::CaptureStatus::Failed { error } = &report.status {
        anyhow::bail!("{error}");
    }
    Ok(())
}

pub(super) fn explain(args: ExplainArgs) -> anyhow::Result<u8> {
    let input = one_input(&args.input)?;
    let options = options(&args.limits, &args.fingerprints)?;
    let flow_id = match (&args.flow, &args.finding) {
        (Some(f), _) => *f,
        (None, Some(id)) => {
            let report = numbered(pipeline::analyze_input(&input, &options, None));
            failed(&report)?;
            findings_named(&report, std::slice::from_ref(id))?[0]
                .flow
                .id
        }
        (None, None) => anyhow::bail!("give --flow ID or --finding ID"),
    };
    let sel = Selection {
        flows: BTreeSet::from([flow_id]),
        ..Selection::default()
    };
    let collected = inspect::collect(&input, &options, &sel)?;
    let report = numbered(collected.report);
    failed(&report)?;
    let Some(flow) = collected.flows.get(&flow_id) else {
        anyhow::bail!(
            "{}: no flow {flow_id}; `tamper flows {}` lists the flows and their ids",
            report.name,
            args.input
        );
    };
    let findings: Vec<&Finding> = report
        .findings
        .iter()
        .filter(|f| {
            f.flow.id == flow_id
                && args
                    .finding
                    .as_ref()
                    .is_none_or(|id| f.id.eq_ignore_ascii_case(id))
        })
        .collect();
    let text = render_explain(&report.name, flow, &findings, args.limit as usize);
    let stdout = io::stdout();
    let mut lock = stdout.lock();
    lock.write_all(text.as_bytes())?;
    lock.flush()?;
    Ok(if report.status.is_incomplete() {
        EXIT_PARTIAL
    } else {
        EXIT_OK
    })
}

fn flags_text(p: &inspect::PacketView, proto: L4Proto) -> String {
    if let Some(i) = &p.icmp {
        return if i.v6 { "ICMPv6".into() } else { "ICMP".into() };
    }
    if proto == L4Proto::Udp {
        return "UDP".into();
    }
    let f = p.record.flags;
    let mut parts = Vec::new();
    for (on, name) in [
        (f.syn(), "SYN"),
        (f.fin(), "FIN"),
        (f.rst(), "RST"),
        (f.0 & crate::decode::TcpFlags::PSH.0 != 0, "PSH"),
        (f.ack(), "ACK"),
    ] {
        if on {
            parts.push(name);
        }
    }
    if parts.is_empty() {
        "none".into()
    } else {
        parts.join(" ")
    }
}

/// The lines `tamper explain` prints for a flow, with the packets the findings cite marked.
pub fn render_explain(
    capture: &str,
    flow: &FlowPackets,
    findings: &[&Finding],
    limit: usize,
) -> String {
    let mut s = String::new();
    let total = flow.packets.len() as u64 + flow.omitted;
    let _ = writeln!(
        s,
        "{capture}: flow {} ({}) client {} server {}, {total} packet(s)",
        flow.id, flow.proto, flow.client, flow.server
    );
    for f in findings {
        let _ = writeln!(
            s,
            "  {} {} ({}): {}",
            f.id,
            f.kind.as_str(),
            f.confidence.as_str(),
            f.summary
        );
        let _ = writeln!(s, "    Wireshark: {}", f.wireshark_filter);
        let _ = writeln!(s, "    Wireshark, whole flow: {}", f.wireshark_flow_filter);
    }
    if !findings.is_empty() {
        let _ = writeln!(s, "  packets cited by a finding are marked with *");
    }
    let cited = |frame: FrameNumber| -> Vec<&str> {
        findings
            .iter()
            .filter(|f| f.frames.contains(&frame))
            .map(|f| f.id.as_str())
            .collect()
    };
    // Which packets to show: all when few, else the first ones and those around cited frames.
    let n = flow.packets.len();
    let mut show = vec![n <= limit; n];
    if n > limit {
        let cited_idx: Vec<usize> = (0..n)
            .filter(|&i| !cited(flow.packets[i].record.frame).is_empty())
            .collect();
        let mut budget = limit;
        for slot in show.iter_mut().take(limit / 2) {
            *slot = true;
            budget -= 1;
        }
        'outer: for radius in 0..=n {
            for &c in &cited_idx {
                for i in [c.saturating_sub(radius), (c + radius).min(n - 1)] {
                    if budget == 0 {
                        break 'outer;
                    }
                    if !show[i] {
                        show[i] = true;
                        budget -= 1;
                    }
                }
            }
            if cited_idx.is_empty() {
                break;
            }
        }
    }
    let t0 = flow.packets.first().map(|p| p.record.ts);
    let _ = writeln!(
        s,
        "  {:>8} {:>11} {:<4} {:<13} {:>10} {:>10} {:>6} {:>4} {:>6} {:>6}  notes",
        "frame", "time (s)", "dir", "flags", "seq", "ack", "len", "TTL", "IP ID", "window"
    );
    let mut skipped = 0usize;
    for (i, p) in flow.packets.iter().enumerate() {
        if !show[i] {
            skipped += 1;
            continue;
        }
        if skipped > 0 {
            let _ = writeln!(s, "  … {skipped} packet(s) not shown");
            skipped = 0;
        }
        let r = &p.record;
        let marks = cited(r.frame);
        let t = t0.map_or(0.0, |t0| r.ts.since(t0).as_secs_f64());
        let dir = match r.dir {
            Direction::ClientToServer => "C→S",
            Direction::ServerToClient => "S→C",
        };
        let (seq, ack) = flow.relative(p);
        let num = |v: Option<u32>| v.map_or_else(|| "-".to_string(), |v| v.to_string());
        let ip_id = r.ip_id.map_or_else(|| "-".to_string(), |v| v.to_string());
        let tcp = flow.proto == L4Proto::Tcp && p.icmp.is_none();
        let mut notes = Vec::new();
        if !p.note.is_empty() {
            notes.push(p.note.clone());
        }
        if p.fragment_frames.len() > 1 {
            let list: Vec<String> = p.fragment_frames.iter().map(|f| f.to_string()).collect();
            notes.push(format!("reassembled from frames {}", list.join(", ")));
        }
        if !marks.is_empty() {
            notes.push(format!("cited by {}", marks.join(", ")));
        }
        let _ = writeln!(
            s,
            "{} {:>8} {:>11.6} {:<4} {:<13} {:>10} {:>10} {:>6} {:>4} {:>6} {:>6}  {}",
            if marks.is_empty() { ' ' } else { '*' },
            r.frame.get(),
            t,
            dir,
            flags_text(p, flow.proto),
            if tcp { num(seq) } else { "-".into() },
            if tcp { num(ack) } else { "-".into() },
            r.payload_len,
            r.ttl,
            ip_id,
            if tcp {
                r.window.to_string()
            } else {
                "-".into()
            },
            notes.join("; ")
        );
    }
    if skipped > 0 {
        let _ = writeln!(s, "  … {skipped} packet(s) not shown");
    }
    if flow.omitted > 0 {
        let _ = writeln!(
            s,
            "  … {} later packet(s) past the collection cap not shown",
            flow.omitted
        );
    }
    s
}

pub(super) fn extract(args: ExtractArgs) -> anyhow::Result<u8> {
    let input = one_input(&args.input)?;
    let options = options(&args.limits, &args.fingerprints)?;
    let target = OutputTarget::from_arg(&args.output);
    if let OutputTarget::Dir(d) = &target {
        anyhow::bail!(
            "`tamper extract -o` takes a file name or `-`, not a directory ({})",
            d.display()
        );
    }
    if let (OutputTarget::File(p), InputSource::Path(ip)) = (&target, &input) {
        if super::same_file(ip, p) {
            anyhow::bail!(
                "output {} is also the input: refusing to overwrite a capture",
                p.display()
            );
        }
        if !args.force && std::fs::metadata(p).is_ok_and(|m| m.is_file()) {
            anyhow::bail!(
                "{} already exists: choose another name, delete it, or pass --force to overwrite it",
                p.display()
            );
        }
    }
    let format = args.format.unwrap_or(match &target {
        OutputTarget::File(p)
            if p.extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("pcap")) =>
        {
            CarveFormat::Pcap
        }
        _ => CarveFormat::Pcapng,
    });
    // Which flows and frames.
    let mut flows: BTreeSet<FlowId> = args.flow.iter().copied().collect();
    let mut cited: BTreeSet<FrameNumber> = BTreeSet::new();
    let mut named = Vec::new();
    if !args.finding.is_empty() {
        let report = numbered(pipeline::analyze_input(&input, &options, None));
        failed(&report)?;
        for f in findings_named(&report, &args.finding)? {
            flows.insert(f.flow.id);
            cited.extend(f.frames.iter().copied());
            named.push((f.id.clone(), f.frames.clone()));
        }
    }
    let mut sel = Selection {
        flows: flows.clone(),
        frames_of_interest: if args.context {
            cited.clone()
        } else {
            BTreeSet::new()
        },
        ..Selection::default()
    };
    let mut collected = inspect::collect(&input, &options, &sel)?;
    if args.context {
        let before = sel.flows.len();
        sel.flows.extend(collected.flow_of_frame.values().copied());
        sel.dns_answers_for = collected.flows.values().map(|f| f.server.addr).collect();
        sel.servers = sel.dns_answers_for.clone();
        sel.frames_of_interest.clear();
        if sel.flows.len() > before || !sel.dns_answers_for.is_empty() {
            collected = inspect::collect(&input, &options, &sel)?;
        }
    }
    let missing: Vec<String> = flows
        .iter()
        .filter(|id| !collected.flows.contains_key(id))
        .map(|id| id.to_string())
        .collect();
    if !missing.is_empty() {
        anyhow::bail!(
            "{}: no flow {}; `tamper flows {}` lists the flows and their ids",
            input.display_name(),
            missing.join(", "),
            args.input
        );
    }
    // The extract is incomplete when a cap was hit: always said, even with --quiet.
    if let Some(note) = collected.omitted_note(&sel) {
        eprintln!("tamper: warning: the extract is incomplete: {note}");
    }
    let mut frames: BTreeSet<FrameNumber> = cited.clone();
    if args.context {
        // The capture's last frame shows how long it went on: silence after a request is
        // evidence only while the capture was still running.
        if let Some(last) = collected
            .report
            .summary
            .as_ref()
            .and_then(|s| FrameNumber::new(s.frames))
        {
            frames.insert(last);
        }
    }
    for f in collected
        .flows
        .values()
        .chain(collected.dns_context.values())
    {
        frames.extend(f.frames());
    }
    let strip = args.strip_payload;
    let mut anonymizer = args
        .anonymize
        .as_deref()
        .map(|k| super::anonymizer(k, &options.detect))
        .transpose()?;
    let mut edit = |link: crate::capture::LinkType, bytes: &mut Vec<u8>| -> EditOutcome {
        if strip && !inspect::strip_payload(link, bytes) {
            return EditOutcome::Drop("could not find where its payload starts".into());
        }
        if let Some(a) = anonymizer.as_mut() {
            // A frame whose addresses could not all be found is left out rather than
            // written with real ones.
            match a.anonymize_frame(u32::from(link.0), bytes) {
                Ok(crate::anon::FrameRewrite::Ip(_) | crate::anon::FrameRewrite::Arp { .. }) => {}
                Ok(crate::anon::FrameRewrite::NotIp { protocol }) => {
                    return EditOutcome::Drop(format!(
                        "protocol 0x{protocol:04x} is not anonymized"
                    ))
                }
                Err(e) => return EditOutcome::Drop(e.to_string()),
            }
        }
        EditOutcome::Keep
    };
    let max = options.limits.max_decompressed;
    // An anonymized extract does not name the file it came from (paths often name people).
    let source = if args.anonymize.is_some() {
        "the original capture".to_string()
    } else {
        input.display_name()
    };
    let stats = match &target {
        OutputTarget::File(p) => {
            let mut stats = None;
            let mut err = None;
            write_atomic(p, args.force, |w| {
                match inspect::carve(&input, &source, max, &frames, format, w, &mut edit) {
                    Ok(s) => stats = Some(s),
                    Err(inspect::CarveError::Io(e)) => return Err(e),
                    Err(e) => {
                        err = Some(e);
                        return Err(io::Error::other("extract failed"));
                    }
                }
                Ok(())
            })
            .map_err(|e| match err.take() {
                Some(c) => anyhow::anyhow!(c),
                None => e,
            })?;
            stats.unwrap_or_default()
        }
        _ => {
            let stdout = io::stdout();
            let mut lock = stdout.lock();
            inspect::carve(&input, &source, max, &frames, format, &mut lock, &mut edit)?
        }
    };
    if !args.quiet {
        let where_to = match &target {
            OutputTarget::File(p) => p.display().to_string(),
            _ => "standard output".to_string(),
        };
        let flow_list: Vec<String> = collected.flows.keys().map(|f| f.to_string()).collect();
        eprintln!(
            "tamper: wrote {} frame(s) of flow(s) {} to {where_to}{}",
            stats.written,
            flow_list.join(", "),
            if collected.dns_context.is_empty() {
                String::new()
            } else {
                format!(
                    " with the DNS lookup flow(s) {}",
                    collected
                        .dns_context
                        .keys()
                        .map(|f| f.to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            }
        );
        for (id, fr) in &named {
            let renumbered: Vec<String> = fr
                .iter()
                .filter_map(|f| stats.original_frames.iter().position(|o| o == f))
                .map(|i| (i + 1).to_string())
                .collect();
            eprintln!(
                "tamper: {id}'s frames {} are frames {} of the extract",
                fr.iter()
                    .map(|f| f.to_string())
                    .collect::<Vec<_>>()
                    .join(" "),
                renumbered.join(" ")
            );
        }
        if stats.edit_failures > 0 {
            eprintln!(
                "tamper: {} frame(s) left out because their payload could not be cut off or their addresses could not all be anonymized",
                stats.edit_failures
            );
        }
    }
    Ok(if collected.report.status.is_incomplete() {
        EXIT_PARTIAL
    } else {
        EXIT_OK
    })
}
