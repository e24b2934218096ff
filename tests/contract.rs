//! The output contract: every JSON Lines record tamper writes validates against
//! `docs/report.schema.json`, and every field of the schema is documented in
//! `docs/report-format.md`.
//!
//! The shipped detectors may find nothing on the bundled fixtures, so a probe detector built on
//! the public API emits findings carrying every kind of evidence, exercising the whole path from
//! detector to writer.

mod common;

use std::collections::BTreeSet;

use serde_json::Value;
use tamper::capture::InputSource;
use tamper::detect::{Detector, FlowView};
use tamper::finding::{
    Confidence, Evidence, FindingBuilder, FindingClass, FindingKind, FindingSink, Payload,
};
use tamper::ids::Direction;
use tamper::pipeline::{self, Options};
use tamper::proto::event::ProtoEvent;
use tamper::report::{Report, ReportFormat};

const PROBE_KIND: FindingKind = FindingKind::new("contract_probe", FindingClass::Blockpage);

/// Emits one finding per TLS ClientHello and HTTP request, with every evidence type.
struct Probe;

impl Detector for Probe {
    fn name(&self) -> &'static str {
        "contract_probe"
    }

    fn on_event(&mut self, flow: &FlowView<'_>, event: &ProtoEvent, sink: &mut FindingSink) {
        let (frames, ts, trigger) = match event {
            ProtoEvent::TlsClientHello {
                frames, ts, hello, ..
            } => (
                frames.clone(),
                *ts,
                ("sni", hello.sni.clone().unwrap_or_default()),
            ),
            ProtoEvent::HttpRequest {
                frames, ts, head, ..
            } => (
                frames.clone(),
                *ts,
                ("http_host", head.host.clone().unwrap_or_default()),
            ),
            _ => return,
        };
        let Some(&frame) = frames.first() else { return };
        let first = flow.record.log.records().first().copied();
        let mut b = FindingBuilder::new(
            "contract_probe",
            PROBE_KIND,
            Confidence::Low,
            flow.flow_ref(),
            format!("probe finding for {}", trigger.1),
        )
        .trigger(trigger.0, trigger.1, Some(frame))
        .evidence(Evidence::Payload {
            frame,
            what: "binary bytes".into(),
            bytes: Payload(vec![0, 1, 0xff]),
            truncated: true,
        })
        .evidence(Evidence::Payload {
            frame,
            what: "text bytes".into(),
            bytes: Payload(b"HTTP/1.1 403 Forbidden\r\n".to_vec()),
            truncated: false,
        })
        .evidence(Evidence::Mismatch {
            field: "ip_ttl".into(),
            observed: serde_json::json!(114),
            expected: "50-52".into(),
            frames: vec![frame],
            baseline_frames: vec![flow.record.id.first_frame],
        })
        .evidence(Evidence::Fingerprint {
            name: "probe.fp".into(),
            source: "tests/contract.rs".into(),
            scope: "test".into(),
            location: "body".into(),
            matched: "403".into(),
            frames: vec![frame],
        })
        .evidence(Evidence::Measurement {
            metric: "goodput".into(),
            value: 140.5,
            unit: "kbit/s".into(),
            reference: Some(20_000.0),
            reference_label: Some("comparable flows".into()),
            frames: vec![frame],
        })
        .evidence(Evidence::Timing {
            what: "response_after_request".into(),
            delta_ms: 3.25,
            from_frame: flow.record.id.first_frame,
            to_frame: frame,
            reference: Some("handshake RTT".into()),
            reference_ms: Some(180.0),
        })
        .evidence(Evidence::Note {
            text: "a note".into(),
            frames: vec![],
        })
        .at(ts);
        if let Some(r) = first {
            b = b.evidence(Evidence::Packet {
                frame: r.frame,
                role: "first packet of the flow".into(),
                direction: Direction::ClientToServer,
                ts: r.ts,
                ttl: r.ttl,
                ip_id: r.ip_id,
                df: r.ip_id.map(|_| r.df),
                tcp_flags: Some(r.flags.to_string()),
                seq: Some(r.seq),
                ack: Some(r.ack),
                window: Some(r.window),
                payload_len: r.payload_len,
            });
        }
        sink.push(b.build());
    }
}

fn schema() -> Value {
    let text = std::fs::read_to_string(common::root().join("docs/report.schema.json"))
        .expect("docs/report.schema.json");
    serde_json::from_str(&text).expect("schema is JSON")
}

fn validator(def: &str) -> jsonschema::Validator {
    let mut s = schema();
    s["$ref"] = Value::String(format!("#/$defs/{def}"));
    jsonschema::validator_for(&s).expect("schema compiles")
}

fn lines(bytes: &[u8]) -> Vec<Value> {
    String::from_utf8(bytes.to_vec())
        .expect("UTF-8 output")
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is one JSON object"))
        .collect()
}

fn check(validator: &jsonschema::Validator, v: &Value) {
    let errors: Vec<String> = validator
        .iter_errors(v)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{v}\n{}", errors.join("\n"));
}

fn run(paths: &[&str]) -> Report {
    let options = Options {
        collect_flows: true,
        ..Options::default()
    };
    let captures = paths
        .iter()
        .map(|p| {
            let input = if p.starts_with('/') {
                InputSource::Path(p.into())
            } else {
                InputSource::Path(common::fixtures_dir().join(p))
            };
            pipeline::analyze_input(&input, &options, Some(vec![Box::new(Probe)]))
        })
        .collect();
    Report::new(captures)
}

#[test]
fn every_record_validates_against_the_schema() {
    let report = run(&[
        "sample/browsing.pcapng",
        "capture/pcap-cut-in-the-middle-of-the-last-record.pcap",
        "/nonexistent/capture.pcap",
    ]);
    let mut findings = Vec::new();
    report.write(ReportFormat::Jsonl, &mut findings).unwrap();
    let findings = lines(&findings);
    assert!(
        findings.len() >= 4,
        "the probe should fire on the sample: {}",
        findings.len()
    );
    let v = validator("finding");
    let mut ids = BTreeSet::new();
    for f in &findings {
        check(&v, f);
        assert!(
            ids.insert(f["id"].as_str().unwrap().to_string()),
            "ids are unique"
        );
        let frames: Vec<u64> = f["frames"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_u64().unwrap())
            .collect();
        let mut sorted = frames.clone();
        sorted.sort();
        assert_eq!(frames, sorted, "frames ascending");
        for e in f["evidence"].as_array().unwrap() {
            for key in ["frame", "from_frame", "to_frame"] {
                if let Some(n) = e.get(key).and_then(Value::as_u64) {
                    assert!(frames.contains(&n), "evidence frame {n} cited in frames");
                }
            }
        }
    }
    let types: BTreeSet<&str> = findings
        .iter()
        .flat_map(|f| f["evidence"].as_array().unwrap().iter())
        .filter_map(|e| e["type"].as_str())
        .collect();
    assert_eq!(types.len(), 7, "every evidence type exercised: {types:?}");

    let mut flows = Vec::new();
    report.write_flows(ReportFormat::Jsonl, &mut flows).unwrap();
    let flows = lines(&flows);
    assert!(!flows.is_empty());
    let v = validator("flow");
    for f in &flows {
        check(&v, f);
    }

    let mut diags = Vec::new();
    report.write_diagnostics(&mut diags).unwrap();
    let (vc, vd) = (validator("capture_record"), validator("diagnostic_record"));
    let mut statuses = BTreeSet::new();
    for r in lines(&diags) {
        match r["record"].as_str() {
            Some("capture") => {
                check(&vc, &r);
                statuses.insert(r["status"].as_str().unwrap().to_string());
            }
            Some("diagnostic") => check(&vd, &r),
            other => panic!("unknown record {other:?}"),
        }
    }
    assert_eq!(
        statuses,
        ["complete", "failed", "partial"]
            .iter()
            .map(|s| s.to_string())
            .collect()
    );
}

#[test]
fn every_schema_field_is_documented() {
    let doc = std::fs::read_to_string(common::root().join("docs/report-format.md"))
        .expect("docs/report-format.md");
    let mut names = BTreeSet::new();
    fn collect(v: &Value, names: &mut BTreeSet<String>) {
        match v {
            Value::Object(m) => {
                if let Some(Value::Object(props)) = m.get("properties") {
                    for (k, sub) in props {
                        names.insert(k.clone());
                        collect(sub, names);
                    }
                }
                for (k, sub) in m {
                    if k != "properties" {
                        collect(sub, names);
                    }
                }
            }
            Value::Array(a) => a.iter().for_each(|x| collect(x, names)),
            _ => {}
        }
    }
    collect(&schema(), &mut names);
    let missing: Vec<_> = names
        .iter()
        .filter(|n| !doc.contains(&format!("`{n}`")))
        .collect();
    assert!(
        missing.is_empty(),
        "fields not documented in docs/report-format.md: {missing:?}"
    );
}

#[test]
fn csv_has_one_row_per_finding() {
    let report = run(&["sample/browsing.pcapng"]);
    let mut out = Vec::new();
    report.write(ReportFormat::Csv, &mut out).unwrap();
    let mut r = csv::Reader::from_reader(out.as_slice());
    let headers = r.headers().unwrap().clone();
    assert_eq!(headers.get(0), Some("id"));
    assert_eq!(headers.get(2), Some("class"));
    let rows: Vec<_> = r.records().map(|x| x.unwrap()).collect();
    assert_eq!(rows.len(), report.findings().count());
    let evidence = headers
        .iter()
        .position(|h| h == "evidence_json")
        .expect("evidence_json column");
    assert_eq!(
        evidence,
        headers.len() - 1,
        "evidence_json stays the last column"
    );
    for row in &rows {
        let ev: Value = serde_json::from_str(row.get(evidence).unwrap()).unwrap();
        assert!(ev.as_array().is_some_and(|a| !a.is_empty()));
        assert!(row
            .get(9)
            .unwrap()
            .split(';')
            .all(|n| n.parse::<u64>().is_ok()));
    }
}

#[test]
fn markdown_lists_findings_and_diagnostics() {
    let report = run(&[
        "sample/browsing.pcapng",
        "capture/pcap-cut-inside-a-record-header.pcap",
    ]);
    let mut out = Vec::new();
    report.write(ReportFormat::Markdown, &mut out).unwrap();
    let md = String::from_utf8(out).unwrap();
    assert!(md.starts_with("# tamper report: 2 captures"));
    assert!(
        md.contains("#### F1-1 · contract_probe · low confidence"),
        "{md}"
    );
    assert!(md.contains("### blockpage: "));
    assert!(md.contains("`frame.number in {"));
    assert!(md.contains("**partly read**"));
    assert!(md.contains("**The capture was only partly read**"));
    assert!(md.contains("- `capture_truncated` (error, once"), "{md}");
    // Every evidence type has a row (the probe emits all of them).
    for what in [
        "| packet: ",
        "| payload: ",
        "| ip_ttl |",
        "| fingerprint probe.fp |",
        "| goodput |",
        "| response_after_request |",
        "| note |",
    ] {
        assert!(md.contains(what), "no evidence row {what}");
    }
    // Table cells are escaped.
    assert!(!md.contains("403 Forbidden\r\n"));
}

#[test]
fn every_diagnostic_and_finding_kind_is_documented() {
    let diags = std::fs::read_to_string(common::root().join("docs/diagnostics.md")).unwrap();
    for k in tamper::diag::DiagnosticKind::ALL {
        let sev = serde_json::to_value(k.severity()).unwrap();
        let row = format!("| `{}` | {} |", k.as_str(), sev.as_str().unwrap());
        assert!(
            diags.contains(&row),
            "docs/diagnostics.md lacks the row for {k}"
        );
    }
    let findings = std::fs::read_to_string(common::root().join("docs/findings.md")).unwrap();
    for k in tamper::detect::all_kinds() {
        assert!(
            findings.contains(&format!("`{}`", k.as_str())),
            "docs/findings.md lacks {k}"
        );
    }
}
