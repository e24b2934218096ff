//! Replays the inputs on which a fuzz target once failed (`tests/fuzz-regressions/`, see its
//! README): every file runs through the whole pipeline as a capture, reported in every
//! format, and the payloads kept for a parser target also go through that parser; nothing may
//! panic. It does not depend on the fuzz crate (`fuzz/`), which depends on this one.

mod common;

use std::io::Cursor;
use std::path::{Path, PathBuf};

use tamper::capture::CaptureReader;
use tamper::diag::Diagnostics;
use tamper::ids::{Direction, FrameNumber};
use tamper::pipeline::{self, Options};
use tamper::proto::dns::parse::{parse_message, DnsLimits, DnsTcpFramer};
use tamper::proto::http::parse::HttpScanner;
use tamper::proto::quic::{DatagramCtx, QuicFlow};
use tamper::proto::tcp::stream::ReassemblyBudget;
use tamper::proto::tls::parse::{
    parse_certificate, parse_client_hello, parse_server_hello, MessageOrigin, ServerHelloKind,
    TlsScanner,
};
use tamper::report::{Report, ReportFormat};
use tamper::time::Timestamp;

fn regressions_dir() -> PathBuf {
    common::root().join("tests").join("fuzz-regressions")
}

/// Every file below `dir` but the README, sorted.
fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut dirs = vec![dir.to_path_buf()];
    while let Some(d) = dirs.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                dirs.push(p);
            } else if p.file_name().is_some_and(|n| n != "README.md") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// The whole pipeline, as the `capture_file` target runs it (16 MiB decompression ceiling).
fn analyze(bytes: &[u8], name: &str) {
    let mut options = Options {
        collect_flows: true,
        ..Options::default()
    };
    options.limits.max_decompressed = 16 << 20;
    let Ok(reader) = CaptureReader::from_reader_with_ceiling(
        Box::new(Cursor::new(bytes.to_vec())),
        name,
        options.limits.max_decompressed,
    ) else {
        return;
    };
    let capture = pipeline::analyze_reader(name.to_string(), reader, &options, None);
    let report = Report::new(vec![capture]);
    let mut out = Vec::new();
    for format in [
        ReportFormat::Jsonl,
        ReportFormat::Csv,
        ReportFormat::Markdown,
    ] {
        report.write(format, &mut out).unwrap();
        report.write_flows(format, &mut out).unwrap();
    }
}

/// The parser a payload of the `target` directory was found with.
fn parse_payload(target: &str, data: &[u8]) {
    match target {
        "dns" => {
            let _ = parse_message(data, &DnsLimits::default());
            for m in DnsTcpFramer::new().feed(data) {
                let _ = parse_message(&m.bytes, &DnsLimits::default());
            }
        }
        "http" => {
            for mut s in [HttpScanner::requests(), HttpScanner::responses()] {
                s.feed(data);
                s.finish();
            }
        }
        "tls" => {
            let mut s = TlsScanner::new();
            s.feed(data);
            s.finish();
            let origin = MessageOrigin {
                stream_offset: 0,
                record_count: 1,
                record_version: 0x0303,
            };
            for body in [0, 4, 9].iter().filter_map(|&skip| data.get(skip..)) {
                let _ = parse_client_hello(body, origin);
                let _ = parse_server_hello(body, origin, ServerHelloKind::ServerHello);
                let _ = parse_certificate(body, 0);
            }
        }
        "quic" => {
            let mut flow = QuicFlow::new(true);
            let mut diags = Diagnostics::default();
            let mut budget = ReassemblyBudget::new(64 << 20);
            let mut out = Vec::new();
            for (n, dir) in [
                (1, Direction::ClientToServer),
                (2, Direction::ServerToClient),
            ] {
                let ctx = DatagramCtx {
                    dir,
                    frame: FrameNumber::new(n).unwrap(),
                    ts: Timestamp::from_nanos(n as i64),
                    cut: false,
                };
                flow.on_datagram(ctx, data, &mut diags, &mut budget, &mut out);
            }
            flow.finish(&mut budget, &mut out);
        }
        _ => {}
    }
}

#[test]
fn fuzz_regressions_never_panic() {
    let dir = regressions_dir();
    assert!(
        dir.join("README.md").is_file(),
        "{} is there",
        dir.display()
    );
    for path in files(&dir) {
        let bytes = std::fs::read(&path).unwrap();
        let rel = path.strip_prefix(&dir).unwrap();
        let target = rel
            .components()
            .next()
            .and_then(|c| c.as_os_str().to_str())
            .unwrap_or("");
        let name = rel.display().to_string();
        eprintln!("{name}");
        analyze(&bytes, &name);
        parse_payload(target, &bytes);
    }
}
