//! The finding model shared by every detector (class, kind, confidence, flow, frames, summary,
//! trigger, typed evidence); it holds values only and never decides anything.
//!
//! A finding is a signal with its evidence, not a verdict: "this RST arrived 3 ms after the
//! ClientHello with TTL 114 where the server's packets had 52". Every finding names the frames
//! a reader can check in Wireshark; [`FindingSink::push`] refuses findings without evidence.

mod evidence;

use std::fmt;

use serde::Serialize;

pub use evidence::{Evidence, Payload};

use crate::ids::{Direction, Endpoint, FlowId, FrameNumber, L4Proto};
use crate::time::Timestamp;

/// The five classes of interference tamper looks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FindingClass {
    /// Forged TCP RST (or FIN) teardown.
    RstInjection,
    /// Forged or injected DNS answers, and resolver rewriting.
    DnsInjection,
    /// Blockpages and forced redirects.
    Blockpage,
    /// Rate limiting, targeted slowdowns and freezes.
    Throttling,
    /// Silent drops: unanswered handshakes, dropped requests, blocked QUIC.
    Blackhole,
}

impl FindingClass {
    /// All classes.
    pub const ALL: [FindingClass; 5] = [
        FindingClass::RstInjection,
        FindingClass::DnsInjection,
        FindingClass::Blockpage,
        FindingClass::Throttling,
        FindingClass::Blackhole,
    ];

    /// The snake_case name used in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            FindingClass::RstInjection => "rst_injection",
            FindingClass::DnsInjection => "dns_injection",
            FindingClass::Blockpage => "blockpage",
            FindingClass::Throttling => "throttling",
            FindingClass::Blackhole => "blackhole",
        }
    }
}

impl fmt::Display for FindingClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How sure a finding is. Defined in `docs/findings.md`:
///
/// - `high`: a benign cause cannot produce this in practice (an injection race together with
///   header fields foreign to the flow, or an exact match of a known device fingerprint).
/// - `medium`: several independent signals point to interference; a rare benign cause remains
///   possible.
/// - `low`: one weak signal, reported for context; not a claim of interference by itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Confidence {
    /// One weak signal.
    Low,
    /// Several independent signals.
    Medium,
    /// No plausible benign explanation.
    High,
}

impl Confidence {
    /// `low`, `medium` or `high`.
    pub fn as_str(self) -> &'static str {
        match self {
            Confidence::Low => "low",
            Confidence::Medium => "medium",
            Confidence::High => "high",
        }
    }
}

impl fmt::Display for Confidence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A finding kind: a stable snake_case name within a class. Names are API; each is declared
/// once as a constant next to its detector, listed in [`FindingKind::registry`]'s source, and
/// documented in `docs/findings.md`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FindingKind {
    name: &'static str,
    class: FindingClass,
}

impl FindingKind {
    /// Declares a kind (used for the detector constants).
    pub const fn new(name: &'static str, class: FindingClass) -> FindingKind {
        FindingKind { name, class }
    }

    /// The stable name.
    pub fn as_str(self) -> &'static str {
        self.name
    }

    /// The class the kind belongs to.
    pub fn class(self) -> FindingClass {
        self.class
    }
}

impl fmt::Display for FindingKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name)
    }
}

impl Serialize for FindingKind {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name)
    }
}

/// The flow a finding belongs to, as written in reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct FlowRef {
    /// `tcp` or `udp`.
    pub proto: L4Proto,
    /// The endpoint that opened the flow (`ip:port`).
    pub client: Endpoint,
    /// The endpoint that answered (`ip:port`).
    pub server: Endpoint,
    /// The flow's id (first frame, and tunnel depth when inside a tunnel).
    pub id: FlowId,
}

/// What most likely set the interference off.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Trigger {
    /// `sni`, `http_host`, `http_url`, `dns_query`, `quic_sni` or `destination`.
    pub kind: &'static str,
    /// The name or address.
    pub value: String,
    /// The frame that carried it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub frame: Option<FrameNumber>,
}

/// One piece of evidence that interference happened.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Finding {
    /// Identifier, unique and stable within a report (assigned when the report is built).
    pub id: String,
    /// The capture the finding comes from, as named on the command line.
    pub capture: String,
    /// Interference class.
    pub class: FindingClass,
    /// Stable kind name within the class.
    pub kind: FindingKind,
    /// How sure.
    pub confidence: Confidence,
    /// The flow.
    pub flow: FlowRef,
    /// Every frame the evidence cites, ascending, 1-based as in Wireshark.
    pub frames: Vec<FrameNumber>,
    /// Time of the first cited frame.
    pub ts: Timestamp,
    /// One sentence for humans, with the key numbers.
    pub summary: String,
    /// What set it off, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trigger: Option<Trigger>,
    /// Typed evidence items.
    pub evidence: Vec<Evidence>,
    /// The detector that made it.
    pub detector: &'static str,
    /// A Wireshark display filter showing the cited frames.
    pub wireshark_filter: String,
    /// A Wireshark display filter showing the whole flow (both directions, and ICMP errors
    /// quoting it), as Wireshark's own conversation filter writes it.
    pub wireshark_flow_filter: String,
}

/// Builds a finding; the report fills in `id` and `capture`.
pub struct FindingBuilder {
    finding: Finding,
}

impl FindingBuilder {
    /// Starts a finding of `kind` on `flow`.
    pub fn new(
        detector: &'static str,
        kind: FindingKind,
        confidence: Confidence,
        flow: FlowRef,
        summary: impl Into<String>,
    ) -> FindingBuilder {
        FindingBuilder {
            finding: Finding {
                id: String::new(),
                capture: String::new(),
                class: kind.class(),
                kind,
                confidence,
                flow,
                frames: Vec::new(),
                ts: Timestamp::EPOCH,
                summary: summary.into(),
                trigger: None,
                evidence: Vec::new(),
                detector,
                wireshark_filter: String::new(),
                wireshark_flow_filter: String::new(),
            },
        }
    }

    /// Sets the trigger.
    pub fn trigger(
        mut self,
        kind: &'static str,
        value: impl Into<String>,
        frame: Option<FrameNumber>,
    ) -> Self {
        self.finding.trigger = Some(Trigger {
            kind,
            value: value.into(),
            frame,
        });
        self
    }

    /// Adds an evidence item (its frames are cited automatically).
    pub fn evidence(mut self, e: Evidence) -> Self {
        self.finding.evidence.push(e);
        self
    }

    /// Cites extra frames that no evidence item names.
    pub fn frames(mut self, frames: impl IntoIterator<Item = FrameNumber>) -> Self {
        self.finding.frames.extend(frames);
        self
    }

    /// Sets the time of the finding (otherwise the time is that of the earliest cited packet
    /// evidence, if any).
    pub fn at(mut self, ts: Timestamp) -> Self {
        self.finding.ts = ts;
        self
    }

    /// Finishes: collects and sorts the cited frames and builds the Wireshark filter.
    pub fn build(mut self) -> Finding {
        let mut frames = std::mem::take(&mut self.finding.frames);
        for e in &self.finding.evidence {
            frames.extend(e.frames());
        }
        if let Some(t) = &self.finding.trigger {
            frames.extend(t.frame);
        }
        frames.sort();
        frames.dedup();
        if self.finding.ts == Timestamp::EPOCH {
            if let Some(ts) = self
                .finding
                .evidence
                .iter()
                .filter_map(Evidence::packet_ts)
                .min()
            {
                self.finding.ts = ts;
            }
        }
        self.finding.wireshark_filter = wireshark_filter(&frames);
        self.finding.wireshark_flow_filter = wireshark_flow_filter(&self.finding.flow);
        self.finding.frames = frames;
        self.finding
    }
}

/// `frame.number in {3 7 9}` (or `frame.number == 3` for one frame).
pub fn wireshark_filter(frames: &[FrameNumber]) -> String {
    match frames {
        [] => String::new(),
        [one] => format!("frame.number == {one}"),
        many => format!(
            "frame.number in {{{}}}",
            many.iter()
                .map(|f| f.to_string())
                .collect::<Vec<_>>()
                .join(" ")
        ),
    }
}

/// `ip.addr == A && ip.addr == B && tcp.port == P && tcp.port == Q` (`ipv6.addr` for IPv6,
/// `udp.port` for UDP; one port term when both ends use the same port).
pub fn wireshark_flow_filter(flow: &FlowRef) -> String {
    let ip = if flow.client.addr.is_ipv4() {
        "ip.addr"
    } else {
        "ipv6.addr"
    };
    let l4 = match flow.proto {
        L4Proto::Tcp => "tcp.port",
        L4Proto::Udp => "udp.port",
    };
    let mut terms = vec![format!("{ip} == {}", flow.client.addr)];
    if flow.server.addr != flow.client.addr {
        terms.push(format!("{ip} == {}", flow.server.addr));
    }
    terms.push(format!("{l4} == {}", flow.client.port));
    if flow.server.port != flow.client.port {
        terms.push(format!("{l4} == {}", flow.server.port));
    }
    terms.join(" && ")
}

/// Why a finding was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FindingError {
    /// A finding must carry at least one evidence item and cite at least one frame.
    #[error("finding {kind} on flow {flow} has no evidence or cites no frame")]
    NoEvidence {
        /// The kind.
        kind: &'static str,
        /// The flow id.
        flow: String,
    },
}

/// Collects the findings of one capture.
#[derive(Debug, Default)]
pub struct FindingSink {
    findings: Vec<Finding>,
    refused: Vec<FindingError>,
    diagnostics: Vec<DetectorDiagnostic>,
}

/// A diagnostic raised by a detector: its kind, the frame where it happened, and a detail.
pub type DetectorDiagnostic = (
    crate::diag::DiagnosticKind,
    Option<crate::ids::FrameNumber>,
    String,
);

impl FindingSink {
    /// An empty sink.
    pub fn new() -> FindingSink {
        FindingSink::default()
    }

    /// Adds a finding. A finding without evidence is a bug in its detector: it is refused
    /// (and counted, so tests catch it) rather than reported.
    pub fn push(&mut self, finding: Finding) {
        if finding.evidence.is_empty() || finding.frames.is_empty() {
            self.refused.push(FindingError::NoEvidence {
                kind: finding.kind.as_str(),
                flow: finding.flow.id.to_string(),
            });
            return;
        }
        self.findings.push(finding);
    }

    /// Reports a diagnostic from a detector (a limit it reached); the pipeline adds it to the
    /// capture's diagnostics.
    pub fn diagnostic(
        &mut self,
        kind: crate::diag::DiagnosticKind,
        frame: Option<crate::ids::FrameNumber>,
        detail: String,
    ) {
        self.diagnostics.push((kind, frame, detail));
    }

    /// Takes the diagnostics reported by detectors.
    pub fn take_diagnostics(&mut self) -> Vec<DetectorDiagnostic> {
        std::mem::take(&mut self.diagnostics)
    }

    /// Findings refused for lack of evidence.
    pub fn refused(&self) -> &[FindingError] {
        &self.refused
    }

    /// Number of findings.
    pub fn len(&self) -> usize {
        self.findings.len()
    }

    /// True when there are none.
    pub fn is_empty(&self) -> bool {
        self.findings.is_empty()
    }

    /// The findings, sorted deterministically: by time, first frame, class, kind, flow.
    pub fn into_sorted(mut self) -> Vec<Finding> {
        sort_findings(&mut self.findings);
        self.findings
    }
}

/// Sorts findings deterministically (first cited frame, class, kind, flow, summary).
pub fn sort_findings(findings: &mut [Finding]) {
    findings.sort_by(|a, b| {
        a.capture
            .cmp(&b.capture)
            .then(a.frames.first().cmp(&b.frames.first()))
            .then(a.class.cmp(&b.class))
            .then(a.kind.as_str().cmp(b.kind.as_str()))
            .then(a.flow.cmp(&b.flow))
            .then(a.summary.cmp(&b.summary))
    });
}

/// The direction a packet took, phrased for summaries: "from the server".
pub fn from_whom(dir: Direction) -> &'static str {
    match dir {
        Direction::ClientToServer => "from the client",
        Direction::ServerToClient => "from the server",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEST_KIND: FindingKind = FindingKind::new("test_kind", FindingClass::RstInjection);

    fn flow() -> FlowRef {
        FlowRef {
            proto: L4Proto::Tcp,
            client: Endpoint {
                addr: "10.0.0.1".parse().unwrap(),
                port: 5000,
            },
            server: Endpoint {
                addr: "10.0.0.2".parse().unwrap(),
                port: 443,
            },
            id: FlowId {
                first_frame: FrameNumber::FIRST,
                depth: 0,
            },
        }
    }

    fn f(n: u64) -> FrameNumber {
        FrameNumber::new(n).unwrap()
    }

    #[test]
    fn builder_collects_frames_and_filter() {
        let finding = FindingBuilder::new("test", TEST_KIND, Confidence::High, flow(), "x")
            .trigger("sni", "example.com", Some(f(4)))
            .evidence(Evidence::Note {
                text: "n".into(),
                frames: vec![f(9), f(4)],
            })
            .frames([f(2)])
            .build();
        assert_eq!(finding.frames, vec![f(2), f(4), f(9)]);
        assert_eq!(finding.wireshark_filter, "frame.number in {2 4 9}");
        assert_eq!(finding.class, FindingClass::RstInjection);
        assert_eq!(wireshark_filter(&[f(7)]), "frame.number == 7");
    }

    #[test]
    fn sink_refuses_findings_without_evidence() {
        let mut sink = FindingSink::new();
        let bare = FindingBuilder::new("test", TEST_KIND, Confidence::Low, flow(), "x").build();
        sink.push(bare);
        assert_eq!(sink.refused().len(), 1);
        assert!(sink.is_empty());
    }

    #[test]
    fn json_shape() {
        let finding = FindingBuilder::new("test", TEST_KIND, Confidence::Medium, flow(), "s")
            .evidence(Evidence::Note {
                text: "n".into(),
                frames: vec![f(3)],
            })
            .build();
        let v = serde_json::to_value(&finding).unwrap();
        assert_eq!(v["class"], "rst_injection");
        assert_eq!(v["kind"], "test_kind");
        assert_eq!(v["confidence"], "medium");
        assert_eq!(v["flow"]["client"], "10.0.0.1:5000");
        assert_eq!(v["flow"]["proto"], "tcp");
        assert_eq!(v["frames"], serde_json::json!([3]));
    }
}
