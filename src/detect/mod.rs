//! The detector interface and registry: detectors read protocol events and flow views and emit
//! findings; they never see bytes, captures or reports.
//!
//! # Adding a detector
//!
//! 1. Read `../shared/reference/signatures.md` for the class; cite each rule's source in the
//!    module docs under **Signal / Evidence / Known false positives / Fixtures**.
//! 2. Create `src/detect/<name>.rs` with a type implementing [`Detector`] and a
//!    `FindingKind` constant per kind it emits; list the kinds in [`all_kinds`].
//! 3. Register it in [`all_detectors`].
//! 4. Add fixtures (a positive scenario and its benign negative twin) to the generator in
//!    `src/synth/fixtures.rs`, regenerate with `TAMPER_UPDATE=1 cargo test --test fixtures`,
//!    review the diff, and document the kinds in `docs/findings.md`.

pub mod addresses;
pub mod blackhole;
pub mod blockpage;
pub mod devices;
pub mod dns_injection;
pub mod fingerprints;
pub mod rst_injection;
pub mod throttling;

use crate::finding::{FindingKind, FindingSink};
use crate::flow::FlowRecord;
use crate::proto::event::ProtoEvent;
use crate::proto::tcp::TcpConn;

/// What a detector may see of a flow: its record and, for TCP, the connection state. Read-only.
#[derive(Clone, Copy)]
pub struct FlowView<'a> {
    /// Addresses, roles, counters, labels, packet log.
    pub record: &'a FlowRecord,
    /// TCP state (halves, handshake, baselines), for TCP flows.
    pub tcp: Option<&'a TcpConn>,
    /// Header baselines of a UDP flow per direction (client, server).
    pub udp_baselines: Option<&'a [crate::proto::baseline::HeaderBaseline; 2]>,
}

impl FlowView<'_> {
    /// The flow reference used in findings.
    pub fn flow_ref(&self) -> crate::finding::FlowRef {
        crate::finding::FlowRef {
            proto: self.record.proto,
            client: self.record.client,
            server: self.record.server,
            id: self.record.id,
        }
    }
}

/// A detector: called for every event of every flow in capture order, when each flow ends, and
/// once when the capture ends. One instance serves one capture, so state across flows is fine.
pub trait Detector: Send {
    /// The detector's name (appears in findings as `detector`).
    fn name(&self) -> &'static str;

    /// An event on a flow.
    fn on_event(&mut self, flow: &FlowView<'_>, event: &ProtoEvent, sink: &mut FindingSink);

    /// A flow ended (FIN/RST close, idle timeout, or end of capture).
    fn on_flow_end(&mut self, flow: &FlowView<'_>, sink: &mut FindingSink) {
        let _ = (flow, sink);
    }

    /// The capture ended; capture-wide conclusions go here.
    fn finish(&mut self, sink: &mut FindingSink) {
        let _ = sink;
    }
}

/// Settings shared by detectors.
#[derive(Clone, Debug)]
pub struct DetectConfig {
    /// Blocking fingerprints (the bundled rows, then any user files), shared by every
    /// detector instance of a run.
    pub fingerprints: std::sync::Arc<fingerprints::FingerprintSet>,
}

impl Default for DetectConfig {
    /// The bundled fingerprints only.
    fn default() -> Self {
        DetectConfig {
            fingerprints: fingerprints::FingerprintSet::shared_builtin(),
        }
    }
}

/// Every detector tamper ships, configured.
pub fn all_detectors(config: &DetectConfig) -> Vec<Box<dyn Detector>> {
    vec![
        Box::new(rst_injection::RstInjection::default()),
        Box::new(dns_injection::DnsInjection::new(
            config.fingerprints.clone(),
        )),
        Box::new(blockpage::Blockpage::new(config.fingerprints.clone())),
        Box::new(throttling::Throttling::new()),
        Box::new(blackhole::Blackhole::default()),
    ]
}

/// Every finding kind tamper can emit (the catalogue documented in `docs/findings.md`).
pub fn all_kinds() -> Vec<FindingKind> {
    let mut kinds = rst_injection::KINDS.to_vec();
    kinds.extend(dns_injection::KINDS);
    kinds.extend(blockpage::KINDS);
    kinds.extend(throttling::KINDS);
    kinds.extend(blackhole::KINDS);
    kinds
}
