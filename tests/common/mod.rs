//! Helpers shared by the integration tests: paths, a detector that records protocol facts,
//! and running the library on a file.
#![allow(dead_code)] // Each test binary uses a different subset.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use tamper::capture::InputSource;
use tamper::detect::{Detector, FlowView};
use tamper::finding::FindingSink;
use tamper::pipeline::{self, Options};
use tamper::proto::event::ProtoEvent;
use tamper::report::CaptureReport;

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `fixtures/` in the repository.
pub fn fixtures_dir() -> PathBuf {
    root().join("fixtures")
}

/// The `tamper` binary of this build, to run as a command.
pub fn tamper() -> std::process::Command {
    use assert_cmd::cargo::CommandCargoExt;
    std::process::Command::cargo_bin("tamper").expect("tamper binary")
}

/// The path of a fixture, given relative to `fixtures/`, as a command-line argument.
pub fn fixture(rel: &str) -> String {
    fixtures_dir().join(rel).to_string_lossy().into_owned()
}

/// Every file below `fixtures/` that `keep` accepts, in sorted order.
pub fn fixture_files(keep: impl Fn(&Path) -> bool) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut dirs = vec![fixtures_dir()];
    while let Some(d) = dirs.pop() {
        for e in std::fs::read_dir(&d).expect("fixtures dir").flatten() {
            let p = e.path();
            if p.is_dir() {
                dirs.push(p);
            } else if keep(&p) {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// The shared real-capture corpus, when this checkout has it (`../shared/corpus`).
pub fn corpus_dir() -> Option<PathBuf> {
    let p = root().join("..").join("shared").join("corpus");
    p.join("INDEX.md").is_file().then_some(p)
}

/// Prints why a corpus test is skipped.
pub fn skip_without_corpus(test: &str) {
    use std::io::Write;
    // Written to the real standard error (not `eprintln!`, which the test harness captures),
    // so the skip shows in `cargo test` output.
    let _ = writeln!(
        std::io::stderr(),
        "SKIPPED {test}: ../shared/corpus is not present next to this checkout (a fresh clone has no corpus; CI provides it)"
    );
}

/// Names seen in protocol events.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Facts {
    pub sni: BTreeSet<String>,
    pub quic_sni: BTreeSet<String>,
    pub http_host: BTreeSet<String>,
    pub dns_query: BTreeSet<String>,
    pub events: BTreeSet<&'static str>,
}

/// A detector that finds nothing and records the SNIs, Hosts and query names it is shown.
pub struct FactCollector(pub Arc<Mutex<Facts>>);

impl Detector for FactCollector {
    fn name(&self) -> &'static str {
        "fact_collector"
    }

    fn on_event(&mut self, _flow: &FlowView<'_>, event: &ProtoEvent, _sink: &mut FindingSink) {
        let Ok(mut f) = self.0.lock() else { return };
        f.events.insert(event.name());
        match event {
            ProtoEvent::TlsClientHello { hello, .. } => {
                if let Some(s) = &hello.sni {
                    f.sni.insert(s.clone());
                }
            }
            ProtoEvent::QuicInitial { sni: Some(s), .. } => {
                f.quic_sni.insert(s.clone());
            }
            ProtoEvent::HttpRequest { head, .. } => {
                if let Some(h) = &head.host {
                    f.http_host.insert(h.clone());
                }
            }
            ProtoEvent::DnsQuery { message, .. } | ProtoEvent::DnsResponse { message, .. } => {
                if let Some(q) = message.question() {
                    f.dns_query.insert(q.name.to_lowercase());
                }
            }
            _ => {}
        }
    }
}

/// Analyzes a file with the shipped detectors plus a fact collector; flows are collected.
pub fn analyze_with_facts(path: &Path) -> (CaptureReport, Facts) {
    let facts = Arc::new(Mutex::new(Facts::default()));
    let mut detectors = tamper::detect::all_detectors(&Default::default());
    detectors.push(Box::new(FactCollector(facts.clone())));
    let options = Options {
        collect_flows: true,
        ..Options::default()
    };
    let report = pipeline::analyze_input(
        &InputSource::Path(path.to_path_buf()),
        &options,
        Some(detectors),
    );
    let f = facts.lock().map(|f| f.clone()).unwrap_or_default();
    (report, f)
}
