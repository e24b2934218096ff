//! The Markdown write-up: its sections, the order of classes, the "not found" list, the
//! inferred vantage point, the input hash and byte-for-byte determinism.

mod common;

use common::{fixture, tamper};

use std::collections::BTreeSet;
use std::io::Write as _;
use std::process::Stdio;

use sha2::{Digest, Sha256};
use tamper::capture::InputSource;
use tamper::finding::{
    Confidence, Evidence, Finding, FindingBuilder, FindingClass, FindingKind, FlowRef,
};
use tamper::flow::{HandshakeSide, HostBasis};
use tamper::ids::{Endpoint, FlowId, FrameNumber, L4Proto};
use tamper::pipeline::{self, Options};
use tamper::report::{CaptureReport, CaptureStatus, Report, ReportFormat};

const GFW: &str = "rst/gfw-rst-burst-after-http-host-at-client.pcap";
const ONE_WAY: &str = "blackhole/one-directional-capture.pcap";

const SECTIONS: [&str; 5] = [
    "## What was captured",
    "## What was found",
    "## What was not found",
    "## What limits these conclusions",
    "## How to reproduce",
];

fn markdown(report: &Report) -> String {
    let mut out = Vec::new();
    report.write(ReportFormat::Markdown, &mut out).unwrap();
    String::from_utf8(out).unwrap()
}

fn analyze(rel: &[&str]) -> Report {
    let inputs: Vec<InputSource> = rel
        .iter()
        .map(|r| InputSource::Path(common::fixtures_dir().join(r)))
        .collect();
    pipeline::analyze_all(&inputs, &Options::default())
}

/// The text of a `## ` section, up to the next one.
fn section<'a>(md: &'a str, heading: &str) -> &'a str {
    let start = md.find(heading).unwrap_or_else(|| panic!("no {heading}"));
    let rest = &md[start + heading.len()..];
    match rest.find("\n## ") {
        Some(end) => &rest[..end],
        None => rest,
    }
}

fn cli_markdown(args: &[&str]) -> Vec<u8> {
    let out = tamper()
        .args(["analyze", "--format", "markdown"])
        .args(args)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

#[test]
fn every_section_is_there_in_order() {
    let md = markdown(&analyze(&[GFW]));
    assert!(md.starts_with("# tamper report: "), "{md}");
    let mut last = 0;
    for h in SECTIONS {
        let at = md.find(h).unwrap_or_else(|| panic!("{h} missing:\n{md}"));
        assert!(at > last, "{h} out of order");
        last = at;
    }
    let found = section(&md, "## What was found");
    assert!(
        found.contains("#### F1 · tcp_rst_injected · high confidence"),
        "{found}"
    );
    assert!(found.contains("**How sure and why.** High confidence: a benign cause"));
    assert!(found.contains("| what | observed | expected / baseline | frames |"));
    assert!(found.contains("- Trigger: http_host `blocked.example` in frame 4"));
    assert!(found.contains(
        "- Display filter, the frames this finding cites: `frame.number in {2 4 5 6 7 8 9}`"
    ));
    assert!(found.contains("Statistics → Conversations, TCP tab: the row of 192.168.1.20 port 59881 and 198.51.100.80 port 80"));
    // The overview names the strongest finding in words.
    let overview = &md[..md.find("## What was captured").unwrap()];
    assert!(
        overview.contains("The strongest is F1, a high-confidence `tcp_rst_injected`"),
        "{overview}"
    );
    let how = section(&md, "## How to reproduce");
    assert!(
        how.contains(&format!(
            "tamper analyze --format markdown {}",
            fixture(GFW)
        )),
        "{how}"
    );
    assert!(how.contains(&format!("tamper {}", env!("CARGO_PKG_VERSION"))));
    assert!(how.contains("Frame numbers count from 1"));
}

fn flow() -> FlowRef {
    FlowRef {
        proto: L4Proto::Tcp,
        client: Endpoint {
            addr: "10.0.0.2".parse().unwrap(),
            port: 40000,
        },
        server: Endpoint {
            addr: "203.0.113.9".parse().unwrap(),
            port: 443,
        },
        id: FlowId {
            first_frame: FrameNumber::FIRST,
            depth: 0,
        },
    }
}

fn made_up(name: &'static str, class: FindingClass, confidence: Confidence, frame: u64) -> Finding {
    // Kinds are declared as constants by detectors; a leaked one is fine in a test.
    let kind = FindingKind::new(name, class);
    FindingBuilder::new(
        "test",
        kind,
        confidence,
        flow(),
        format!("{name} at {frame}"),
    )
    .evidence(Evidence::Note {
        text: "made up".into(),
        frames: vec![FrameNumber::new(frame).unwrap()],
    })
    .build()
}

fn report_of(findings: Vec<Finding>) -> Report {
    Report::new(vec![CaptureReport {
        name: "made-up.pcap".into(),
        status: CaptureStatus::Complete,
        summary: None,
        findings,
        flows: Vec::new(),
        diagnostics: Vec::new(),
        source: None,
        vantage: None,
    }])
}

#[test]
fn classes_come_strongest_first_and_findings_by_confidence_then_frame() {
    let report = report_of(vec![
        made_up(
            "early_low_rst",
            FindingClass::RstInjection,
            Confidence::Low,
            3,
        ),
        made_up(
            "medium_dns",
            FindingClass::DnsInjection,
            Confidence::Medium,
            5,
        ),
        made_up(
            "late_high_throttle",
            FindingClass::Throttling,
            Confidence::High,
            40,
        ),
        made_up(
            "late_high_rst",
            FindingClass::RstInjection,
            Confidence::High,
            30,
        ),
        made_up(
            "early_medium_rst",
            FindingClass::RstInjection,
            Confidence::Medium,
            9,
        ),
        made_up(
            "second_high_throttle",
            FindingClass::Throttling,
            Confidence::High,
            50,
        ),
    ]);
    let md = markdown(&report);
    let found = section(&md, "## What was found");
    let classes: Vec<&str> = found
        .lines()
        .filter_map(|l| l.strip_prefix("### "))
        .map(|l| l.split(':').next().unwrap())
        .collect();
    // Throttling has two high findings, rst_injection one: throttling first.
    assert_eq!(classes, ["throttling", "rst_injection", "dns_injection"]);
    let kinds: Vec<&str> = found
        .lines()
        .filter_map(|l| l.strip_prefix("#### "))
        .map(|l| l.split(" · ").nth(1).unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "late_high_throttle",
            "second_high_throttle",
            "late_high_rst",
            "early_medium_rst",
            "early_low_rst",
            "medium_dns"
        ]
    );
    // The summary table lists them in the same order.
    let table: Vec<&str> = found
        .lines()
        .filter(|l| l.starts_with("| F"))
        .map(|l| l.split(" | ").nth(2).unwrap())
        .collect();
    assert_eq!(table, kinds);
    let overview = &md[..md.find("## What was captured").unwrap()];
    assert!(
        overview.contains("The strongest is F5, a high-confidence `late_high_throttle`"),
        "{overview}"
    );
}

fn not_found_classes(md: &str) -> BTreeSet<String> {
    section(md, "## What was not found")
        .lines()
        .filter_map(|l| l.strip_prefix("- **"))
        .map(|l| l.split("**").next().unwrap().to_string())
        .collect()
}

#[test]
fn not_found_lists_exactly_the_absent_classes() {
    let report = report_of(vec![
        made_up("a", FindingClass::Blockpage, Confidence::Low, 3),
        made_up("b", FindingClass::Blackhole, Confidence::Medium, 5),
    ]);
    assert_eq!(
        not_found_classes(&markdown(&report)),
        ["dns_injection", "rst_injection", "throttling"]
            .map(String::from)
            .into()
    );
    let all = report_of(
        FindingClass::ALL
            .into_iter()
            .enumerate()
            .map(|(i, c)| made_up("x", c, Confidence::Low, i as u64 + 1))
            .collect(),
    );
    let md = markdown(&all);
    assert!(not_found_classes(&md).is_empty());
    assert!(section(&md, "## What was not found").contains("Every class has at least one finding."));
    // On a real capture: the GFW fixture has rst_injection findings only.
    let report = analyze(&[GFW]);
    let present: BTreeSet<String> = report.findings().map(|f| f.class.to_string()).collect();
    let expected: BTreeSet<String> = FindingClass::ALL
        .iter()
        .map(|c| c.to_string())
        .filter(|c| !present.contains(c))
        .collect();
    assert_eq!(not_found_classes(&markdown(&report)), expected);
}

#[test]
fn the_vantage_point_is_inferred_from_the_flows() {
    let report = analyze(&[GFW]);
    let v = report.captures[0].vantage.as_ref().expect("vantage");
    let host = v.inferred().next().expect("an inferred host");
    assert_eq!(host.addr.to_string(), "192.168.1.20");
    assert_eq!(host.as_client, host.family_flows);
    // One conversation: both ends are in every flow, and the handshake decides.
    assert_eq!(host.basis, HostBasis::Handshakes);
    assert_eq!(host.handshakes.majority(), Some(HandshakeSide::Client));
    let md = markdown(&report);
    let captured = section(&md, "## What was captured");
    assert!(
        captured.contains(
            "| Vantage point | 192.168.1.20 (inferred: it and 198.51.100.80 each take part in 1 of 1 IPv4 flow, and by TTL or timing, the one TCP handshake places the capture at the client, so the capture was taken at the client's end) |"
        ),
        "{captured}"
    );
    assert!(captured.contains("| Both directions | yes"), "{captured}");
    // A capture of many flows: the client of all of them, confirmed by the handshakes.
    let md = markdown(&analyze(&["blackhole/collateral-range-telegram.pcap"]));
    assert!(
        md.contains(
            "| Vantage point | 192.168.1.20 (inferred: it is the client of 6 of 6 IPv4 flows; by TTL or timing, all 4 TCP handshakes place the capture at the client) |"
        ),
        "{md}"
    );
    // Taken at the server: the handshake names the server's end.
    let report = analyze(&["throttling/freeze-at-server.pcap"]);
    let host = report.captures[0].vantage.as_ref().unwrap().hosts[0];
    assert_eq!(host.addr.to_string(), "203.0.113.90");
    assert!(host.is_mostly_server());
    // A capture of one direction says so, and the blackhole absence is qualified.
    let md = markdown(&analyze(&[ONE_WAY]));
    assert!(
        section(&md, "## What was captured").contains("| Both directions | **no**"),
        "{md}"
    );
    assert!(
        section(&md, "## What was not found").contains("**This capture looks one-directional**")
    );
    assert!(section(&md, "## What limits these conclusions").contains("`capture_one_directional`"));
}

#[test]
fn file_inputs_carry_their_size_and_sha256() {
    let path = fixture(GFW);
    let bytes = std::fs::read(&path).unwrap();
    let want: String = Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let md = String::from_utf8(cli_markdown(&[&path])).unwrap();
    assert!(md.contains(&format!("| SHA-256 | {want} |")), "{md}");
    assert!(md.contains(&format!("| Size | {} bytes as stored |", bytes.len())));
    // A compressed capture is hashed as stored, not decompressed.
    let gz = fixture("capture/pcap-gzip-compressed-in-two-members.pcap.gz");
    let gz_sha: String = Sha256::digest(std::fs::read(&gz).unwrap())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let md = String::from_utf8(cli_markdown(&[&gz])).unwrap();
    assert!(md.contains(&format!("| SHA-256 | {gz_sha} |")));
    // Standard input is not hashed, and the report says so.
    let mut child = tamper()
        .args(["analyze", "--format", "markdown", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(&bytes).unwrap();
    let out = child.wait_with_output().unwrap();
    let md = String::from_utf8(out.stdout).unwrap();
    assert!(
        md.contains("| SHA-256 | not hashed: read from standard input |"),
        "{md}"
    );
    assert!(md.contains("… | tamper analyze --format markdown -"));
    // JSON Lines findings stay as they were: no hash, no vantage.
    let out = tamper().args(["analyze", &path]).output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(!text.contains("sha256") && !text.contains("vantage"));
}

#[test]
fn the_same_input_gives_the_same_bytes() {
    let a = fixture(GFW);
    let b = fixture(ONE_WAY);
    let first = cli_markdown(&["-j", "1", &a, &b]);
    let second = cli_markdown(&["-j", "2", &a, &b]);
    assert_eq!(first, second);
    assert_eq!(cli_markdown(&[&a]), cli_markdown(&[&a]));
    let md = String::from_utf8(first).unwrap();
    assert!(md.starts_with("# tamper report: 2 captures"));
    assert!(md.contains("| F1-1 | "), "{md}");
}

#[test]
fn the_command_to_reproduce_names_limits_that_differ_from_the_defaults() {
    use clap::Parser as _;
    use tamper::report::LimitsUsed;
    assert_eq!(
        pipeline::limits_used(&pipeline::Limits::default()),
        LimitsUsed::DEFAULT
    );
    let cli = tamper::cli::Cli::try_parse_from(["tamper", "analyze", "x.pcap"]).unwrap();
    let tamper::cli::Command::Analyze(a) = cli.command else {
        panic!("not analyze")
    };
    assert_eq!(
        pipeline::limits_used(&a.limits.limits()),
        LimitsUsed::DEFAULT
    );
    let path = fixture(GFW);
    let md = String::from_utf8(cli_markdown(&["--max-flows", "500", &path])).unwrap();
    assert!(
        md.contains(&format!(
            "tamper analyze --format markdown --max-flows 500 {path}"
        )),
        "{md}"
    );
}
