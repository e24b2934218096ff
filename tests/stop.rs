//! Stopping before the end: the per-capture time budget (`--time-budget`) and Ctrl-C. A
//! budget that runs out leaves a partial capture with what was read analyzed and a limit
//! diagnostic; an interrupt stops the run, says how far it got and writes no report (and,
//! with a directory output, no manifest line for the unfinished captures).

mod common;

use common::tamper;

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use tamper::capture::{CaptureReader, InputSource, ReadEnd};
use tamper::diag::DiagnosticKind;
use tamper::pipeline::{self, Options, PacketTap, StopWhen, STOP_CHECK_FRAMES};
use tamper::report::CaptureStatus;

fn sample() -> PathBuf {
    common::fixtures_dir().join("sample/incident.pcapng")
}

#[test]
fn an_exhausted_time_budget_leaves_a_partial_capture_and_a_diagnostic() {
    let options = Options {
        stop: StopWhen {
            interrupt: None,
            time_budget: Some(std::time::Duration::ZERO),
        },
        ..Options::default()
    };
    let report = pipeline::analyze_input(&InputSource::Path(sample()), &options, None);
    let CaptureStatus::Partial { reason } = &report.status else {
        panic!("{:?}", report.status)
    };
    assert!(
        reason.contains("time budget of 0 s ran out after 0 frames"),
        "{reason}"
    );
    let summary = report.summary.as_ref().unwrap();
    assert_eq!(summary.frames, 0);
    assert!(matches!(
        summary.read_end,
        ReadEnd::Stopped {
            interrupted: false,
            ..
        }
    ));
    assert!(report
        .diagnostics
        .iter()
        .any(|d| d.kind == DiagnosticKind::LimitReachedTimeBudget));
    assert_eq!(report.interrupted(), None, "a budget is not an interrupt");
}

#[test]
fn a_generous_time_budget_changes_nothing() {
    let plain = pipeline::analyze_input(&InputSource::Path(sample()), &Options::default(), None);
    let options = Options {
        stop: StopWhen {
            interrupt: Some(Arc::new(AtomicBool::new(false))),
            time_budget: Some(std::time::Duration::from_secs(3600)),
        },
        ..Options::default()
    };
    let budgeted = pipeline::analyze_input(&InputSource::Path(sample()), &options, None);
    assert_eq!(plain, budgeted);
    assert_eq!(plain.status, CaptureStatus::Complete);
}

/// Raises the interrupt flag when it sees a given frame, as a Ctrl-C would.
struct InterruptAt {
    frame: u64,
    flag: Arc<AtomicBool>,
}

impl PacketTap for InterruptAt {
    fn frame(&mut self, frame: &tamper::capture::Frame<'_>) {
        if frame.number.get() == self.frame {
            self.flag.store(true, Ordering::SeqCst);
        }
    }
}

#[test]
fn an_interrupt_stops_at_the_next_check_and_says_how_far() {
    let flag = Arc::new(AtomicBool::new(false));
    let options = Options {
        stop: StopWhen {
            interrupt: Some(flag.clone()),
            time_budget: None,
        },
        ..Options::default()
    };
    let mut tap = InterruptAt {
        frame: 10,
        flag: flag.clone(),
    };
    let reader = CaptureReader::open(&InputSource::Path(sample())).unwrap();
    let report =
        pipeline::analyze_reader_tapped("sample".into(), reader, &options, None, Some(&mut tap));
    let summary = report.summary.as_ref().unwrap();
    assert_eq!(summary.frames, STOP_CHECK_FRAMES);
    let how_far = report.interrupted().expect("interrupted");
    assert!(
        how_far.starts_with(&format!("stopped after {STOP_CHECK_FRAMES} frames")),
        "{how_far}"
    );
    // No limit diagnostic for an interrupt: it is not a property of the capture.
    assert!(!report
        .diagnostics
        .iter()
        .any(|d| d.kind == DiagnosticKind::LimitReachedTimeBudget));
    // Captures not started when the flag is up are not started at all.
    let later = pipeline::analyze_input(&InputSource::Path(sample()), &options, None);
    assert_eq!(later.interrupted().as_deref(), Some("not started"));
    assert!(later.summary.is_none());
}

#[test]
fn an_interrupted_directory_run_writes_no_report_or_manifest_line_for_unfinished_captures() {
    let out = tempfile::tempdir().unwrap();
    let inputs = [InputSource::Path(sample())];
    let options = Options {
        stop: StopWhen {
            interrupt: Some(Arc::new(AtomicBool::new(true))),
            time_budget: None,
        },
        ..Options::default()
    };
    let args = [sample().display().to_string()];
    let cfg = tamper::corpus::RunConfig {
        args: &args,
        inputs: &inputs,
        dir: out.path(),
        format: tamper::report::ReportFormat::Jsonl,
        options: &options,
        options_digest: "test".into(),
        shard: None,
        resume: false,
        force: false,
        keep_details: false,
    };
    let outcome = tamper::corpus::run(&cfg).unwrap();
    assert_eq!(outcome.analyzed, 0);
    assert_eq!(
        outcome.interrupted,
        vec![("incident.pcapng".to_string(), "not started".to_string())]
    );
    let manifest = std::fs::read_to_string(out.path().join("manifest.jsonl")).unwrap();
    assert_eq!(manifest, "", "{manifest}");
    let files: Vec<_> = std::fs::read_dir(out.path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert_eq!(files, vec![std::ffi::OsString::from("manifest.jsonl")]);
}

#[test]
fn time_budget_on_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("r.jsonl");
    let diags = dir.path().join("d.jsonl");
    let out = tamper()
        .args(["analyze", "--time-budget", "0", "-o"])
        .arg(&report)
        .arg("--diagnostics")
        .arg(&diags)
        .arg(sample())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    // Partly read: status 1, and the report is written.
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("time budget of 0 s ran out"), "{err}");
    assert_eq!(std::fs::read_to_string(&report).unwrap(), "");
    let d = std::fs::read_to_string(&diags).unwrap();
    assert!(d.contains("limit_reached_time_budget"), "{d}");
    for bad in ["-1", "soon", "NaN"] {
        let out = tamper()
            .args(["analyze", &format!("--time-budget={bad}"), "-o", "-"])
            .arg(sample())
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{bad}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("seconds"), "{bad}: {err}");
    }
}

/// A real Ctrl-C (SIGINT) while tamper reads an endless capture from standard input: it
/// stops, says how far it got, exits with status 130 and leaves no report behind.
#[cfg(unix)]
#[test]
fn ctrl_c_stops_cleanly_without_a_report() {
    let pcap = std::fs::read(
        common::fixtures_dir().join("rst/gfw-rst-burst-after-http-host-at-client.pcap"),
    )
    .unwrap();
    let (header, records) = pcap.split_at(24);
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("report.jsonl");
    let mut child = tamper()
        .args(["analyze", "-o"])
        .arg(&report)
        .arg("-")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(header).unwrap();
    // Once this much was taken from the pipe (more than its buffer and tamper's read
    // buffer), tamper is reading frames and its handler is installed.
    let mut written = 0usize;
    while written < 8 << 20 {
        stdin.write_all(records).unwrap();
        written += records.len();
    }
    let kill = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    // Keep feeding it until it stops reading (the pipe breaks when it exits).
    let mut more = 0usize;
    while stdin.write_all(records).is_ok() {
        more += records.len();
        assert!(more < 1 << 30, "tamper went on reading after Ctrl-C");
    }
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{err}");
    assert!(err.contains("interrupted: stopping"), "{err}");
    assert!(err.contains("tamper: -: stopped after"), "{err}");
    assert!(err.contains("no report was written"), "{err}");
    assert!(!report.exists());
    let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().flatten().collect();
    assert!(left.is_empty(), "{left:?}");
}
