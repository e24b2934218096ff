//! Real captures from `../shared/corpus`: every file is analyzed without panic, and on every file
//! that tshark can open tamper counts the same frames and TCP/UDP conversations as Wireshark.
//!
//! The expectations in `tests/corpus/tshark-expectations.tsv` were recorded with
//! `scripts/corpus-expectations.py` (tshark 4.0); tamper never runs tshark. The corpus is not
//! part of the repository: without it these tests print SKIPPED and pass.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::Path;

struct Expectation {
    tshark_ok: bool,
    frames: u64,
    tcp: u64,
    udp: u64,
    /// Sum over frames of frame.number x frame.len (mod 2^64): equal sums mean the same
    /// frames under the same numbers.
    fingerprint: u64,
    /// frame.time_epoch of the first and last frame (empty when the frame has no time).
    first_epoch: String,
    last_epoch: String,
    message: String,
}

fn expectations() -> BTreeMap<String, Expectation> {
    let path = common::root().join("tests/corpus/tshark-expectations.tsv");
    let text = fs::read_to_string(&path).expect("tests/corpus/tshark-expectations.tsv");
    let mut out = BTreeMap::new();
    for line in text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
    {
        let f: Vec<&str> = line.split('\t').collect();
        assert!(f.len() >= 8, "bad expectation line: {line}");
        out.insert(
            f[0].to_string(),
            Expectation {
                tshark_ok: f[1] == "ok",
                frames: f[2].parse().expect("frames"),
                tcp: f[3].parse().expect("tcp"),
                udp: f[4].parse().expect("udp"),
                fingerprint: f[5].parse().expect("fingerprint"),
                first_epoch: f[6].to_string(),
                last_epoch: f[7].to_string(),
                message: f.get(8).unwrap_or(&"").to_string(),
            },
        );
    }
    out
}

fn corpus_captures(dir: &Path) -> Vec<String> {
    fn walk(dir: &Path, base: &Path, out: &mut Vec<String>) {
        let Ok(rd) = fs::read_dir(dir) else { return };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(&p, base, out);
            } else if let Some(name) = p.file_name().and_then(|n| n.to_str()) {
                let capture_like = [".pcap", ".pcapng", ".pcap.gz", ".pcap.xz", ".bin"]
                    .iter()
                    .any(|s| name.ends_with(s));
                if capture_like {
                    if let Ok(rel) = p.strip_prefix(base) {
                        out.push(rel.to_string_lossy().into_owned());
                    }
                }
            }
        }
    }
    let mut v = Vec::new();
    walk(dir, dir, &mut v);
    v.sort();
    v
}

/// Frames whose time tamper deliberately reads differently from tshark, with the reason.
const TIME_EXCEPTIONS: &[(&str, &str, &str)] = &[(
    "tcpdump/tests/timestamp_invalid_nano.pcap",
    "last",
    "the nanosecond field holds 2147483648 (more than a second): tshark prints a negative \
     time; tamper carries the excess into the seconds and reports capture_timestamp_invalid",
)];

/// A frame's time as `seconds.nanoseconds`, and whether the frame carries a time at all.
type FrameTime = (String, bool);

/// Reads a capture with the capture layer alone: (frame fingerprint, first and last frame time
/// as `seconds.nanoseconds`, whether each of those frames has a time).
fn read_frames(path: &Path) -> Option<(u64, Option<FrameTime>, Option<FrameTime>)> {
    use tamper::capture::{CaptureReader, FrameContent, InputSource};
    let mut reader = CaptureReader::open(&InputSource::Path(path.to_path_buf())).ok()?;
    let mut diags = tamper::diag::Diagnostics::default();
    let mut fingerprint = 0u64;
    let mut first = None;
    let mut last = None;
    while let Some(frame) = reader.next_frame(&mut diags) {
        fingerprint =
            fingerprint.wrapping_add(frame.number.get().wrapping_mul(u64::from(frame.orig_len)));
        let ns = frame.ts.as_nanos();
        let text = format!(
            "{}.{:09}",
            ns.div_euclid(1_000_000_000),
            ns.rem_euclid(1_000_000_000)
        );
        let timed = matches!(frame.content, FrameContent::Packet(_));
        let entry = Some((text, timed));
        if first.is_none() {
            first = entry.clone();
        }
        last = entry;
    }
    Some((fingerprint, first, last))
}

#[test]
fn corpus_frame_numbers_and_times_match_wireshark() {
    let Some(corpus) = common::corpus_dir() else {
        common::skip_without_corpus("corpus_frame_numbers_and_times_match_wireshark");
        return;
    };
    let mut problems = Vec::new();
    let mut compared = 0;
    for (rel, exp) in expectations() {
        if exp.frames == 0 {
            continue;
        }
        let Some((fingerprint, first, last)) = read_frames(&corpus.join(&rel)) else {
            problems.push(format!(
                "{rel}: cannot be opened, tshark read {} frames",
                exp.frames
            ));
            continue;
        };
        compared += 1;
        if fingerprint != exp.fingerprint {
            problems.push(format!(
                "{rel}: frame fingerprint {fingerprint}, tshark {} (frames numbered or sized differently)",
                exp.fingerprint
            ));
        }
        for (which, ours, theirs) in [
            ("first", first, &exp.first_epoch),
            ("last", last, &exp.last_epoch),
        ] {
            // tshark prints no time for frames without one (simple packet and custom blocks).
            if theirs.is_empty()
                || TIME_EXCEPTIONS
                    .iter()
                    .any(|(p, w, _)| *p == rel && *w == which)
            {
                continue;
            }
            match ours {
                Some((t, true)) if &t == theirs => {}
                other => problems.push(format!(
                    "{rel}: {which} frame time {other:?}, tshark {theirs}"
                )),
            }
        }
    }
    assert!(compared > 190, "only {compared} captures compared");
    assert!(problems.is_empty(), "\n{}", problems.join("\n"));
}

#[test]
fn corpus_frame_and_flow_counts_match_wireshark() {
    let Some(corpus) = common::corpus_dir() else {
        common::skip_without_corpus("corpus_frame_and_flow_counts_match_wireshark");
        return;
    };
    let expected = expectations();
    let files = corpus_captures(&corpus);
    let mut problems = Vec::new();
    let mut checked = 0;
    for rel in &files {
        let Some(exp) = expected.get(rel) else {
            problems.push(format!(
                "{rel}: no recorded tshark expectation (run scripts/corpus-expectations.py)"
            ));
            continue;
        };
        let (report, _) = common::analyze_with_facts(&corpus.join(rel));
        checked += 1;
        let (frames, tcp, udp) = report
            .summary
            .as_ref()
            .map_or((0, 0, 0), |s| (s.frames, s.flows.tcp, s.flows.udp));
        if exp.tshark_ok {
            if report.status.is_incomplete() {
                problems.push(format!(
                    "{rel}: tshark reads it fully, tamper reports {:?}",
                    report.status
                ));
            }
            if (frames, tcp, udp) != (exp.frames, exp.tcp, exp.udp) {
                problems.push(format!(
                    "{rel}: frames/tcp/udp {frames}/{tcp}/{udp}, tshark {}/{}/{}",
                    exp.frames, exp.tcp, exp.udp
                ));
            }
        } else {
            // tshark rejects or stops early: tamper must say the input is damaged, and read
            // exactly the frames before the damage.
            if !report.status.is_incomplete() {
                problems.push(format!(
                    "{rel}: tshark fails ({}), tamper reports it complete",
                    exp.message
                ));
            }
            if frames != exp.frames {
                problems.push(format!(
                    "{rel}: {frames} frames read, tshark read {}",
                    exp.frames
                ));
            }
        }
    }
    for rel in expected.keys() {
        if !files.contains(rel) {
            problems.push(format!("{rel}: expected but not in the corpus"));
        }
    }
    assert!(checked > 200, "only {checked} corpus captures found");
    assert!(problems.is_empty(), "\n{}", problems.join("\n"));
}

#[test]
fn corpus_protocol_facts_are_extracted() {
    let Some(corpus) = common::corpus_dir() else {
        common::skip_without_corpus("corpus_protocol_facts_are_extracted");
        return;
    };
    // Facts checked by hand in Wireshark on these real captures.
    let cases: &[(&str, &str, &str)] = &[
        (
            "censorship-detection/testdata/tripwire-1597963966.pcap",
            "sni",
            "www.wikipedia.org",
        ),
        (
            "censorship-detection/testdata/airtel_example.pcap",
            "host",
            "youporn.com",
        ),
        ("DnsPoison/dns.pcap", "dns", "www.chase.com"),
        (
            "CenTrace/examples/pcaps/195.64.201.42_psiphon.ca_psiphon.ca_0.pcap",
            "sni",
            "psiphon.ca",
        ),
        ("tcpdump/tests/dns_tcp.pcap", "dns", "www.tcpdump.org"),
        (
            "suricata-verify/tests/bug-4810/pppoe-session-http.pcap",
            "events",
            "http_request",
        ),
        (
            "zeek/testing/btest/Traces/quic/chromium-115.0.5790.110-google-de-fragmented.pcap",
            "quic_sni",
            "www.google.de",
        ),
    ];
    let mut problems = Vec::new();
    for (rel, what, value) in cases {
        let (_, facts) = common::analyze_with_facts(&corpus.join(rel));
        let found = match *what {
            "sni" => facts.sni.contains(*value),
            "host" => facts.http_host.contains(*value),
            "dns" => facts.dns_query.contains(*value),
            "quic_sni" => facts.quic_sni.contains(*value),
            _ => facts.events.contains(value),
        };
        if !found {
            problems.push(format!("{rel}: {what} {value} not found; saw {facts:?}"));
        }
    }
    assert!(problems.is_empty(), "\n{}", problems.join("\n"));
}

/// The findings of one class in one capture.
fn class_findings(
    path: &Path,
    class: tamper::finding::FindingClass,
) -> Vec<tamper::finding::Finding> {
    let (report, _) = common::analyze_with_facts(path);
    report
        .findings
        .into_iter()
        .filter(|f| f.class == class)
        .collect()
}

/// The rst_injection findings of one capture.
fn rst_findings(path: &Path) -> Vec<tamper::finding::Finding> {
    class_findings(path, tamper::finding::FindingClass::RstInjection)
}

/// The dns_injection findings of one capture.
fn dns_findings(path: &Path) -> Vec<tamper::finding::Finding> {
    class_findings(path, tamper::finding::FindingClass::DnsInjection)
}

/// Captures from other tools' test suites that contain crafted or real injection, with what
/// tamper reports there and why it is right.
const RST_ELSEWHERE: &[(&str, &str)] = &[
    (
        "suricata-verify/tests/bug-3286-02-linux-evasion/with_evasion_linux.pcap",
        "a crafted RST the target ignores: the server keeps talking (race)",
    ),
    (
        "suricata-verify/tests/eve-overlap-payload-01/tcp-overlap.pcap",
        "a crafted overlap with different bytes (low: both copies carry the sender's headers)",
    ),
    (
        "censorship-detection/testdata/test1/test.pcap",
        "a Great Firewall type II RST burst",
    ),
    (
        "censorship-detection/testdata/test2/smtp.pcap",
        "RSTs with TTL 163 against the client's 50 while the client keeps talking",
    ),
];

#[test]
fn corpus_rst_injection_matches_ground_truth() {
    use tamper::finding::Confidence;
    let Some(corpus) = common::corpus_dir() else {
        common::skip_without_corpus("corpus_rst_injection_matches_ground_truth");
        return;
    };
    let mut problems = Vec::new();
    let port = |f: &tamper::finding::Finding| f.flow.client.port;

    // Great Firewall, server side: Tripwire's expected outputs list the blocked connections.
    let dir = corpus.join("censorship-detection/testdata");
    let found = rst_findings(&dir.join("tripwire-1597963966.pcap"));
    // Each connection once (the two logs overlap), with the union of Tripwire's detectors.
    let mut upstream: BTreeMap<u16, Vec<String>> = BTreeMap::new();
    for log in ["test3/stdout.log", "test4/stdout.log"] {
        let text = fs::read_to_string(dir.join(log)).expect("Tripwire expected output");
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            let v: serde_json::Value = serde_json::from_str(line).expect("Tripwire JSON line");
            let p: u16 = v["collector"]["ports"]["src"]
                .as_str()
                .and_then(|s| s.parse().ok())
                .expect("client port");
            let entry = upstream.entry(p).or_default();
            for d in v["detectors"].as_array().into_iter().flatten() {
                if let Some(d) = d.as_str() {
                    entry.push(d.to_string());
                }
            }
        }
    }
    let mut reset_upstream = 0;
    for (p, detectors) in &upstream {
        let ours: Vec<_> = found.iter().filter(|f| port(f) == *p).collect();
        if detectors.iter().any(|d| d.ends_with("_rstacks")) {
            // Tripwire saw RST+ACKs: every such connection is reported.
            reset_upstream += 1;
            if !ours.iter().any(|f| f.confidence >= Confidence::Medium) {
                problems.push(format!(
                    "tripwire: connection from port {p} ({detectors:?}) not reported"
                ));
            }
        } else if !ours.is_empty() {
            // Without RSTs: the you.com control, and TLS connections with the encrypted SNI
            // extension (0xffce) whose server packets were dropped on the way back (the
            // Great Firewall's ESNI blocking of August 2020): not RST injection.
            problems.push(format!(
                "tripwire: port {p} ({detectors:?}, no RST) reported as {:?}",
                ours.iter().map(|f| f.kind.as_str()).collect::<Vec<_>>()
            ));
        }
    }
    if reset_upstream != 39 || upstream.len() != 44 {
        problems.push(format!(
            "tripwire: {} connections upstream, {reset_upstream} with RSTs; expected 44 and 39",
            upstream.len()
        ));
    }

    // Airtel: three forged RST+ACKs with IP ID 242, each attributed.
    let airtel = rst_findings(&dir.join("airtel_example.pcap"));
    let attributed = airtel
        .iter()
        .filter(|f| {
            f.confidence == Confidence::High
                && f.evidence.iter().any(|e| {
                    matches!(e, tamper::finding::Evidence::Fingerprint { name, .. } if name == "airtel_india_rst")
                })
        })
        .count();
    if airtel.len() != 3 || attributed != 3 {
        problems.push(format!(
            "airtel: {} findings, {attributed} attributed to airtel_india_rst at high; expected 3 and 3",
            airtel.len()
        ));
    }

    // Zeek's injected-reset trace.
    let rae = rst_findings(&corpus.join("zeek/testing/btest/Traces/tcp/rst-inject-rae.pcap"));
    if !(rae.len() == 1 && rae[0].confidence == Confidence::High) {
        problems.push(format!("rst-inject-rae: {rae:?}"));
    }

    // Censored Planet CenTrace probes: test domains reset on the path, example.com controls
    // and the unblocked probes silent.
    let centrace = [
        (
            "examples/pcaps/195.64.201.42_psiphon.ca_psiphon.ca_0.pcap",
            Some(Confidence::High),
        ),
        (
            "examples/pcaps/195.64.201.42_psiphon.ca_psiphon.ca_1.pcap",
            Some(Confidence::High),
        ),
        (
            "examples/pcaps/195.64.201.42_psiphon.ca_psiphon.ca_2.pcap",
            Some(Confidence::High),
        ),
        (
            "testdata/188.65.24.82_www.nifty.org_www.nifty.org.pcap",
            Some(Confidence::High),
        ),
        (
            "testdata/195.46.232.198_minecraft.net_minecraft.net.pcap",
            Some(Confidence::Medium),
        ),
        (
            "testdata/116.223.148.197_www.ft.com_www.ft.com.pcap",
            Some(Confidence::Medium),
        ),
        ("testdata/95.167.150.101_sohu.com_sohu.com.pcap", None),
    ];
    for (rel, want) in centrace {
        let got = rst_findings(&corpus.join("CenTrace").join(rel));
        let best = got.iter().map(|f| f.confidence).max();
        let ok = match want {
            Some(c) => best.is_some_and(|b| b >= c),
            None => got.is_empty(),
        };
        if !ok {
            problems.push(format!(
                "CenTrace/{rel}: expected {want:?}, got best {best:?}"
            ));
        }
    }

    // Everything else in the corpus is ordinary traffic, format tests or other interference:
    // silent, apart from the test traces listed with their reasons.
    let known: Vec<&str> = [
        "censorship-detection/testdata/tripwire-1597963966.pcap",
        "censorship-detection/testdata/airtel_example.pcap",
        "zeek/testing/btest/Traces/tcp/rst-inject-rae.pcap",
    ]
    .into_iter()
    .chain(RST_ELSEWHERE.iter().map(|(p, _)| *p))
    .collect();
    for rel in corpus_captures(&corpus) {
        if known.contains(&rel.as_str())
            || rel.starts_with("CenTrace/") && !rel.contains("_example.com")
        {
            continue;
        }
        let got = rst_findings(&corpus.join(&rel));
        if !got.is_empty() {
            problems.push(format!(
                "{rel}: unexpected {:?}",
                got.iter()
                    .map(|f| format!("{} {:?} {}", f.kind.as_str(), f.confidence, f.summary))
                    .collect::<Vec<_>>()
            ));
        }
    }
    for (rel, why) in RST_ELSEWHERE {
        if rst_findings(&corpus.join(rel)).is_empty() {
            problems.push(format!("{rel}: nothing reported, expected {why}"));
        }
    }
    assert!(problems.is_empty(), "\n{}", problems.join("\n"));
}

/// Captures with two DNS responses to one query, or a response without its query, that are
/// not injection, and why tamper stays silent on them.
const DNS_SILENT: &[(&str, &str)] = &[
    (
        "zeek/testing/btest/Traces/dns-two-responses.pcap",
        "a duplicated answer: same transaction ID, identical answers 0.1 ms apart",
    ),
    (
        "suricata-verify/tests/dns/dns-udp-double-request-response/dns-udp-double-request-response.pcap",
        "two queries on one flow, each answered once",
    ),
    (
        "suricata-verify/tests/dns/dns-udp-unsolicited-response/dns-response-2x.pcap",
        "a response whose transaction ID matches no query, then the real answer: nothing raced the real answer",
    ),
    (
        "DNSPoisoning101/attack_example_packet.pcap",
        "a lone forged response without its query: no transaction to judge",
    ),
];

#[test]
fn corpus_dns_injection_matches_ground_truth() {
    use tamper::finding::{Confidence, Evidence};
    let Some(corpus) = common::corpus_dir() else {
        common::skip_without_corpus("corpus_dns_injection_matches_ground_truth");
        return;
    };
    let mut problems = Vec::new();

    // DnsPoison: a scapy spoofer on the LAN answers seven names (README.txt) with 192.168.168.4
    // or 10.6.6.6, IP ID 1 and TTL 64, racing the real resolver 77.88.8.8 (TTL 255). The same
    // answers relayed by the 127.0.0.53 stub resolver are not reported again.
    let found = dns_findings(&corpus.join("DnsPoison/dns.pcap"));
    let spoofed: BTreeMap<&str, &str> = [
        ("www.google.com", "192.168.168.4"),
        ("www.reddit.com", "192.168.168.4"),
        ("www.chase.com", "192.168.168.4"),
        ("www.facebook.com", "192.168.168.4"),
        ("www.cs.stonybrook.edu", "192.168.168.4"),
        ("foo.example.com", "10.6.6.6"),
        ("bar.example.com", "10.6.6.6"),
    ]
    .into_iter()
    .collect();
    for f in &found {
        let name = f.trigger.as_ref().map(|t| t.value.as_str()).unwrap_or("");
        let Some(addr) = spoofed.get(name) else {
            problems.push(format!("DnsPoison: unexpected finding {}", f.summary));
            continue;
        };
        // The forged answer is named by its headers (TTL 64 against 255), not by guessing.
        let named = f.evidence.iter().any(|e| {
            matches!(e, Evidence::Mismatch { field, observed, .. }
                if field == "dns_answer" && observed.as_str().is_some_and(|o| o.contains(addr)))
        });
        let ttl = f.evidence.iter().any(|e| {
            matches!(e, Evidence::Mismatch { field, observed, .. }
                if field == "ip_ttl" && observed == &serde_json::json!(64))
        });
        if f.kind.as_str() != "dns_answer_race"
            || f.confidence != Confidence::High
            || !named
            || !ttl
            || f.flow.server.addr.to_string() != "77.88.8.8"
        {
            problems.push(format!(
                "DnsPoison {name}: {} {:?} named={named} ttl64={ttl} server {}: {}",
                f.kind.as_str(),
                f.confidence,
                f.flow.server,
                f.summary
            ));
        }
    }
    let names: BTreeSet<&str> = found
        .iter()
        .filter_map(|f| f.trigger.as_ref().map(|t| t.value.as_str()))
        .collect();
    if found.len() != 7 || names.len() != 7 {
        problems.push(format!(
            "DnsPoison: {} findings for {names:?}; expected one race per spoofed name",
            found.len()
        ));
    }

    for (rel, why) in DNS_SILENT {
        let got = dns_findings(&corpus.join(rel));
        if !got.is_empty() {
            problems.push(format!(
                "{rel} ({why}): reported {:?}",
                got.iter().map(|f| f.summary.clone()).collect::<Vec<_>>()
            ));
        }
    }

    // Everything else: no DNS injection anywhere in the corpus.
    for rel in corpus_captures(&corpus) {
        if rel == "DnsPoison/dns.pcap" {
            continue;
        }
        let got = dns_findings(&corpus.join(&rel));
        if !got.is_empty() {
            problems.push(format!(
                "{rel}: unexpected {:?}",
                got.iter()
                    .map(|f| format!("{} {:?} {}", f.kind.as_str(), f.confidence, f.summary))
                    .collect::<Vec<_>>()
            ));
        }
    }
    assert!(problems.is_empty(), "\n{}", problems.join("\n"));
}

/// The blockpage findings of one capture.
fn blockpage_findings(path: &Path) -> Vec<tamper::finding::Finding> {
    class_findings(path, tamper::finding::FindingClass::Blockpage)
}

#[test]
fn corpus_blockpage_matches_ground_truth() {
    use tamper::finding::{Confidence, Evidence};
    let Some(corpus) = common::corpus_dir() else {
        common::skip_without_corpus("corpus_blockpage_matches_ground_truth");
        return;
    };
    let mut problems = Vec::new();

    // CenTrace's bitcomet.com probe: a FortiGate on the path answers the HTTP request with its
    // "Application Control Violation" page; the example.com control to the same endpoint gets
    // no such page.
    let rel = "CenTrace/testdata/91.199.201.114_www.bitcomet.com_www.bitcomet.com.pcap";
    let found = blockpage_findings(&corpus.join(rel));
    let fortinet = found.iter().any(|f| {
        f.kind.as_str() == "http_blockpage"
            && f.confidence == Confidence::High
            && f.evidence.iter().any(|e| {
                matches!(e, Evidence::Fingerprint { name, scope, .. }
                    if scope == "prod" && (name.contains("fortinet") || name.contains("fortiguard")))
            })
    });
    if found.len() != 1 || !fortinet {
        problems.push(format!(
            "{rel}: expected one high http_blockpage naming a Fortinet fingerprint, got {:?}",
            found.iter().map(|f| f.summary.clone()).collect::<Vec<_>>()
        ));
    }

    // Controls that reach an endpoint which does not serve example.com get that endpoint's own
    // certificate (a bank's WatchGuard appliance, a Cloudflare default certificate): a
    // certificate for another name, reported at low only (a hint, not a claim).
    let mismatched = [
        "CenTrace/examples/pcaps/195.64.201.42_psiphon.ca_example.com_0.pcap",
        "CenTrace/examples/pcaps/195.64.201.42_psiphon.ca_example.com_1.pcap",
        "CenTrace/examples/pcaps/195.64.201.42_psiphon.ca_example.com_2.pcap",
        "CenTrace/testdata/104.16.7.6_notion.site_example.com.pcap",
    ];
    for rel in mismatched {
        let got = blockpage_findings(&corpus.join(rel));
        let ok = got.len() == 1
            && got[0].kind.as_str() == "tls_certificate_mismatch"
            && got[0].confidence == Confidence::Low;
        if !ok {
            problems.push(format!(
                "{rel}: expected one low tls_certificate_mismatch, got {:?}",
                got.iter()
                    .map(|f| format!("{} {:?} {}", f.kind.as_str(), f.confidence, f.summary))
                    .collect::<Vec<_>>()
            ));
        }
    }

    // Everything else, including the ordinary web traffic of packets/http_*, Suricata's and
    // Zeek's HTTP traces: no blockpage finding.
    for rel in corpus_captures(&corpus) {
        if rel.contains("bitcomet.com_www.bitcomet.com") || mismatched.contains(&rel.as_str()) {
            continue;
        }
        let got = blockpage_findings(&corpus.join(&rel));
        if !got.is_empty() {
            problems.push(format!(
                "{rel}: unexpected {:?}",
                got.iter()
                    .map(|f| format!("{} {:?} {}", f.kind.as_str(), f.confidence, f.summary))
                    .collect::<Vec<_>>()
            ));
        }
    }
    assert!(problems.is_empty(), "\n{}", problems.join("\n"));
}

/// Runs only the throttling detector (with PD's second cutoff logged too) and returns its
/// findings and per-segment verdicts.
fn throttling_run(
    path: &Path,
) -> (
    Vec<tamper::finding::Finding>,
    Vec<tamper::detect::throttling::SegmentVerdict>,
) {
    use std::sync::{Arc, Mutex};
    use tamper::detect::throttling::Throttling;
    use tamper::detect::{Detector, FlowView};
    use tamper::finding::FindingSink;
    use tamper::proto::event::ProtoEvent;

    struct Shared(Arc<Mutex<Throttling>>);
    impl Detector for Shared {
        fn name(&self) -> &'static str {
            "throttling"
        }
        fn on_event(&mut self, f: &FlowView<'_>, e: &ProtoEvent, s: &mut FindingSink) {
            if let Ok(mut t) = self.0.lock() {
                t.on_event(f, e, s);
            }
        }
        fn on_flow_end(&mut self, f: &FlowView<'_>, s: &mut FindingSink) {
            if let Ok(mut t) = self.0.lock() {
                t.on_flow_end(f, s);
            }
        }
        fn finish(&mut self, s: &mut FindingSink) {
            if let Ok(mut t) = self.0.lock() {
                t.finish(s);
            }
        }
    }
    let shared = Arc::new(Mutex::new(Throttling::new().with_second_cutoff(2)));
    let report = tamper::pipeline::analyze_input(
        &tamper::capture::InputSource::Path(path.to_path_buf()),
        &tamper::pipeline::Options::default(),
        Some(vec![Box::new(Shared(shared.clone()))]),
    );
    let verdicts = shared
        .lock()
        .map(|t| t.verdicts().to_vec())
        .unwrap_or_default();
    (report.findings, verdicts)
}

/// One row of the published detector's `validation.csv`: segment, data packets, losses, and
/// the result code and rate (bit/s) of its two runs (cutoff 0 and 2).
#[derive(Debug)]
struct PdRow {
    segment: u32,
    packets: usize,
    losses: usize,
    runs: [(u8, Option<f64>); 2],
}

fn pd_rows(csv_gz: &Path) -> BTreeMap<String, Vec<PdRow>> {
    use std::io::Read;
    let mut text = String::new();
    let file = fs::File::open(csv_gz).expect("validation.csv.gz");
    flate2::read::GzDecoder::new(file)
        .read_to_string(&mut text)
        .expect("gzip");
    let re = regex::Regex::new(
        r"^(.*?)\.filtered,(\d+),(\d+),(a2b|b2a),(\d+),(\d+),(?:True|False),\[code (\d+), ([^,]+), [^\]]+\],(?:True|False),\[code (\d+), ([^,]+), [^\]]+\]$",
    )
    .expect("regex");
    let rate = |s: &str| s.strip_suffix(" bps").and_then(|r| r.parse::<f64>().ok());
    let mut out: BTreeMap<String, Vec<PdRow>> = BTreeMap::new();
    for line in text.lines() {
        let Some(c) = re.captures(line) else { continue };
        // Only flow 0 (the filtered test connection) in the data direction is published.
        if &c[2] != "0" || &c[4] != "b2a" {
            continue;
        }
        out.entry(c[1].to_string()).or_default().push(PdRow {
            segment: c[3].parse().unwrap_or(0),
            packets: c[5].parse().unwrap_or(0),
            losses: c[6].parse().unwrap_or(0),
            runs: [
                (c[7].parse().unwrap_or(99), rate(&c[8])),
                (c[9].parse().unwrap_or(99), rate(&c[10])),
            ],
        });
    }
    out
}

/// A number from the trace name (`PCIR=500000` → 500000).
fn setup_value(name: &str, key: &str) -> Option<u64> {
    name.split('-')
        .find_map(|p| p.strip_prefix(key)?.strip_prefix('=')?.parse().ok())
}

/// A flow tamper reports as policed: client port, lowest and highest acceptable rate
/// (kbit/s).
type PolicedFlow = (u16, f64, f64);

/// What tamper concludes on each lab trace of the PD repository: the client ports of the
/// flows reported as policed, with the rate range (kbit/s) the finding must give. Each
/// conclusion and its agreement with the published detector is explained in
/// docs/findings.md ("Checked against the PD lab traces").
const POLICING_EXPECTED: &[(&str, &[PolicedFlow])] = &[
    // Policer 500 kbit/s, 2 MB bucket, with cross traffic: PD rejects all 5 segments (code 5).
    ("CP1=16377-CP2=16378", &[]),
    // Policer 10 Mbit/s shared with cross traffic: the second test connection's first segment
    // is policed at its share (PD did not publish that connection).
    ("CP1=16532-CP2=16533", &[(16533, 4000.0, 4700.0)]),
    // Policer 1.5 Mbit/s, 8 kB bucket, cross traffic: PD rejects (code 5).
    ("CP1=16887-CP2=16888", &[]),
    ("CP=10052", &[(10052, 2700.0, 3300.0)]),
    ("CP=11470", &[]),
    // Policer 10 Mbit/s, 100 kB bucket: flagged at 6.7 Mbit/s, as PD (the goodput between
    // losses underestimates a policer whose bucket is smaller than the bandwidth-delay product).
    ("CP=10077", &[(10077, 6500.0, 6800.0)]),
    ("CP=10063", &[(10063, 450.0, 550.0)]),
    ("CP=11475", &[]),
    ("CP=10847", &[]),
    ("CP=11465", &[]),
    ("CP=10808", &[]),
    ("CP=10805", &[]),
];

#[test]
fn corpus_policing_matches_the_published_detector() {
    use tamper::detect::throttling::policing::Outcome;
    use tamper::ids::Direction;
    let Some(corpus) = common::corpus_dir() else {
        common::skip_without_corpus("corpus_policing_matches_the_published_detector");
        return;
    };
    let dir = corpus.join("policing-detection/data/validation");
    let published = pd_rows(&dir.join("validation.csv.gz"));
    let mut problems = Vec::new();
    let mut table = Vec::new();
    let (mut segments, mut same_code, mut same_code_2, mut same_counts) = (0, 0, 0, 0);
    let mut files: Vec<_> = fs::read_dir(&dir)
        .expect("validation dir")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.to_string_lossy().ends_with(".pcap.xz"))
        .collect();
    files.sort();
    assert_eq!(files.len(), POLICING_EXPECTED.len(), "lab traces");
    for path in files {
        let file = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_string();
        let name = file.trim_end_matches(".pcap.xz");
        let Some((_, expected)) = POLICING_EXPECTED.iter().find(|(k, _)| name.ends_with(k)) else {
            problems.push(format!("{name}: no expectation"));
            continue;
        };
        let (findings, verdicts) = throttling_run(&path);
        // The flows reported, with their rates.
        let mut reported: Vec<(u16, f64)> =
            findings
                .iter()
                .filter(|f| f.kind.as_str() == "tcp_policing")
                .map(|f| {
                    let kbps =
                        f.evidence
                            .iter()
                            .find_map(|e| match e {
                                tamper::finding::Evidence::Measurement {
                                    metric, value, ..
                                } if metric == "policing_rate" => Some(*value),
                                _ => None,
                            })
                            .unwrap_or(0.0);
                    (f.flow.client.port, kbps)
                })
                .collect();
        reported.sort_by_key(|a| a.0);
        let ok = reported.len() == expected.len()
            && reported
                .iter()
                .zip(expected.iter())
                .all(|(&(p, k), &(ep, lo, hi))| p == ep && (lo..=hi).contains(&k));
        if !ok {
            problems.push(format!(
                "{name}: reported {reported:?}, expected {expected:?}"
            ));
        }
        // Segment by segment against the published run on the test connection (client port
        // CP, or CP1 with cross traffic).
        let port = setup_value(name, "CP1")
            .or_else(|| setup_value(name, "CP"))
            .and_then(|p| u16::try_from(p).ok())
            .unwrap_or(0);
        let rows = published.get(name).map(Vec::as_slice).unwrap_or(&[]);
        if rows.len() != 5 {
            problems.push(format!("{name}: {} published rows, expected 5", rows.len()));
        }
        for row in rows {
            segments += 1;
            let mine = verdicts.iter().find(|v| {
                v.dir == Direction::ServerToClient
                    && v.segment == row.segment
                    && v.flow.client.port == port
            });
            let Some(v) = mine else {
                problems.push(format!("{name}: segment {} not analysed", row.segment));
                continue;
            };
            let codes = [
                v.outcome.map_or(1, Outcome::code),
                v.second.map_or(1, |(o, _)| o.code()),
            ];
            let rates = [v.rate_bps, v.second.map_or(0.0, |(_, r)| r)];
            for run in 0..2 {
                let (code, rate) = row.runs[run];
                if codes[run] != code {
                    problems.push(format!(
                        "{name} segment {} run {}: code {} where PD gave {code}",
                        row.segment,
                        run + 1,
                        codes[run]
                    ));
                }
                if let Some(r) = rate {
                    if (rates[run] - r).abs() > r * 0.001 {
                        problems.push(format!(
                            "{name} segment {} run {}: rate {:.0} where PD gave {r:.0}",
                            row.segment,
                            run + 1,
                            rates[run]
                        ));
                    }
                }
            }
            same_code += usize::from(codes[0] == row.runs[0].0);
            same_code_2 += usize::from(codes[1] == row.runs[1].0);
            let counts_agree = v.transmissions == row.packets && v.losses == row.losses;
            same_counts += usize::from(counts_agree);
            // The one count that differs: three retransmissions of segments the client had
            // already acknowledged by SACK, which tamper takes as spurious and PD as losses.
            let known = name.ends_with("CP1=16377-CP2=16378")
                && row.segment == 0
                && (v.transmissions, v.losses) == (2036, 651);
            if !counts_agree && !known {
                problems.push(format!(
                    "{name} segment {}: {}/{} packets/losses where PD counted {}/{}",
                    row.segment, v.transmissions, v.losses, row.packets, row.losses
                ));
            }
            table.push(format!(
                "{name} seg {}: PD {}/{} codes {} {} rates {:?} {:?} | tamper {}/{} codes {} {} rates {:.0} {:.0}",
                row.segment,
                row.packets,
                row.losses,
                row.runs[0].0,
                row.runs[1].0,
                row.runs[0].1,
                row.runs[1].1,
                v.transmissions,
                v.losses,
                codes[0],
                codes[1],
                rates[0],
                rates[1]
            ));
        }
    }
    eprintln!("{}", table.join("\n"));
    eprintln!(
        "segments {segments}: same code {same_code} (run 1), {same_code_2} (run 2), same packet and loss counts {same_counts}"
    );
    if segments != 60 {
        problems.push(format!(
            "{segments} published segments compared, expected 60"
        ));
    }

    // Nothing else in the corpus is policed: ordinary traffic with retransmissions, zero
    // windows, latency and failed fetches included.
    for rel in corpus_captures(&corpus) {
        if rel.starts_with("policing-detection/") {
            continue;
        }
        let got = class_findings(
            &corpus.join(&rel),
            tamper::finding::FindingClass::Throttling,
        );
        if !got.is_empty() {
            problems.push(format!(
                "{rel}: unexpected {:?}",
                got.iter()
                    .map(|f| format!("{} {:?} {}", f.kind.as_str(), f.confidence, f.summary))
                    .collect::<Vec<_>>()
            ));
        }
    }
    for rel in [
        "packets/tcp_zerowindowdead.pcapng",
        "packets/tcp_zerowindowrecovery.pcapng",
        "packets/latency1.pcapng",
        "packets/http_espn_fail.pcapng",
    ] {
        if !corpus.join(rel).is_file() {
            problems.push(format!("{rel}: missing from the corpus"));
        }
    }
    assert!(problems.is_empty(), "\n{}", problems.join("\n"));
}

/// The Great Firewall's QUIC captures (gfw-report/usenixsecurity25-quic-sni). Each holds one
/// direction only: the victim's and the attacker's Initials (captured at the senders) and the
/// server's capture (at a server in private address space that never answers). The blocking the
/// upstream READMEs describe shows only by comparing captures (the victim's Initials of
/// 15:21:10-15:23:56 sent but never received by the server after the spoofed google.com Initial
/// of 15:21:04), so no single capture may claim it: tamper reports no blackhole finding and says,
/// with the decrypted SNI, why it cannot judge.
#[test]
fn corpus_blackhole_quic_captures_are_not_over_claimed() {
    let Some(corpus) = common::corpus_dir() else {
        common::skip_without_corpus("corpus_blackhole_quic_captures_are_not_over_claimed");
        return;
    };
    let mut problems = Vec::new();
    let base = "usenixsecurity25-quic-sni/experiments";
    let cases: [(&str, Option<&str>); 4] = [
        (
            "availability-attack/pcap/quic_victim_client_anon.pcap",
            Some("42 UDP flows carried QUIC Initials (SNI http3check.net)"),
        ),
        (
            "availability-attack/pcap/quic_attacker_client_anon.pcap",
            Some("1 UDP flows carried QUIC Initials (SNI google.com)"),
        ),
        (
            "availability-attack/pcap/quic_server_anon.pcap",
            Some("SNI google.com, http3check.net"),
        ),
        (
            "flow-tracking-time/flow-tracking-time.pcap",
            Some("(SNI google.com)"),
        ),
    ];
    for (rel, diag) in cases {
        let path = corpus.join(base).join(rel);
        let (report, _) = common::analyze_with_facts(&path);
        let bh: Vec<_> = report
            .findings
            .iter()
            .filter(|f| f.class == tamper::finding::FindingClass::Blackhole)
            .map(|f| f.summary.clone())
            .collect();
        if !bh.is_empty() {
            problems.push(format!("{rel}: over-claimed {bh:?}"));
        }
        if let Some(text) = diag {
            let found = report.diagnostics.iter().any(|d| {
                d.kind.as_str() == "capture_one_directional"
                    && d.examples.iter().any(|e| e.detail.contains(text))
            });
            if !found {
                problems.push(format!(
                    "{rel}: no capture_one_directional naming {text:?}: {:?}",
                    report.diagnostics
                ));
            }
        }
    }
    assert!(problems.is_empty(), "\n{}", problems.join("\n"));
}

/// Censored Planet's CenTrace probes (censoredplanet/CenTrace testdata, test_pcap_parse.py at
/// 2c2e2de): each probe is its own connection with one request sent once at a growing IP TTL.
/// The probes upstream describes as timeouts at TTLs that reach the endpoint are one grouped
/// tcp_dropped_after_trigger each (store.steampowered.com: test_timeout_censorship,
/// ENDPOINT_FIREWALL; youtube.com: test_multiple_file_format, whose requests from TTL 20 on
/// vanish while its control is answered at TTL 21). Every example.com control stays silent,
/// among them torproject's with its one timeout (test_find_icmp_correctly), and so do the
/// reset-based and no-censorship cases; gawker.com's handshake timeouts
/// (test_parse_handshake_timeouts) are not claimed: its control shows as many.
#[test]
fn corpus_blackhole_centrace_timeouts_flagged_controls_silent() {
    let Some(corpus) = common::corpus_dir() else {
        common::skip_without_corpus("corpus_blackhole_centrace_timeouts_flagged_controls_silent");
        return;
    };
    // (capture, Host, hop estimate, a cited request, requests that must not be cited)
    let flagged: [(&str, &str, f64, u64, &[u64]); 2] = [
        (
            "testdata/185.236.34.4_store.steampowered.com_store.steampowered.com.pcap",
            "store.steampowered.com",
            18.0,
            172,
            // TTL 17 and 18 (below the 18 hops) and TTL 19 (answered by a time exceeded).
            &[150, 158, 163],
        ),
        (
            "testdata/123.30.89.9_youtube.com_youtube.com_0.pcap",
            "youtube.com",
            17.0,
            170,
            // TTL 18 (the server's RST after the FIN) and TTL 19 (a time exceeded).
            &[153, 161],
        ),
    ];
    let mut problems = Vec::new();
    let mut seen = 0;
    for dir in ["testdata", "examples/pcaps"] {
        let Ok(entries) = std::fs::read_dir(corpus.join("CenTrace").join(dir)) else {
            continue;
        };
        let mut names: Vec<_> = entries.flatten().map(|e| e.path()).collect();
        names.sort();
        for path in names {
            let rel = format!(
                "{dir}/{}",
                path.file_name().unwrap_or_default().to_string_lossy()
            );
            let found = class_findings(&path, tamper::finding::FindingClass::Blackhole);
            let Some(&(_, host, hops, cited, not_cited)) = flagged.iter().find(|(r, ..)| *r == rel)
            else {
                if !found.is_empty() {
                    let s: Vec<_> = found.iter().map(|f| f.summary.clone()).collect();
                    problems.push(format!("{rel}: {s:?}"));
                }
                continue;
            };
            seen += 1;
            let [f] = &found[..] else {
                problems.push(format!("{rel}: {} blackhole findings", found.len()));
                continue;
            };
            let frames: Vec<u64> = f.frames.iter().map(|x| x.get()).collect();
            let estimate = f.evidence.iter().find_map(|e| match e {
                tamper::finding::Evidence::Measurement { metric, value, .. }
                    if metric == "hop_distance_estimate" =>
                {
                    Some(*value)
                }
                _ => None,
            });
            if f.kind.as_str() != "tcp_dropped_after_trigger"
                || f.confidence != tamper::finding::Confidence::Medium
                || f.trigger.as_ref().map(|t| t.value.as_str()) != Some(host)
                || estimate != Some(hops)
                || !frames.contains(&cited)
                || not_cited.iter().any(|n| frames.contains(n))
            {
                problems.push(format!(
                    "{rel}: {} {:?} {:?} estimate {estimate:?} frames {frames:?}",
                    f.kind.as_str(),
                    f.confidence,
                    f.summary
                ));
            }
        }
    }
    if seen != flagged.len() && corpus.join("CenTrace/testdata").is_dir() {
        problems.push(format!(
            "{seen} of {} flagged captures present",
            flagged.len()
        ));
    }
    assert!(problems.is_empty(), "\n{}", problems.join("\n"));
}
