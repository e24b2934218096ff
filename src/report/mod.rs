//! The report model (captures, findings, flows, diagnostics) and its writers (JSON Lines, CSV,
//! Markdown, HTML); writers are pure functions of a finished, sorted report (and, for HTML, of
//! the pictures given with it) and compute nothing a detector should.

mod csv_out;
mod html;
mod jsonl;
mod markdown;
mod output;
#[cfg(feature = "parquet")]
mod parquet_out;
pub mod pictures;
#[cfg(test)]
mod snapshot;
pub mod svg;

use std::io;

use serde::Serialize;

pub use html::CONTENT_SECURITY_POLICY;
pub use output::{AtomicFile, OutputError, OutputTarget};
pub use pictures::{
    DnsEvent, DnsTimeline, Ladder, LadderPacket, Picture, Pictures, SeriesLine, SeriesPlot,
};

use crate::capture::{CaptureFormat, Compression, InterfaceInfo, ReadEnd};
use crate::diag::DiagnosticSummary;
use crate::finding::Finding;
use crate::flow::{FlowEnd, RoleBasis, Vantage};
use crate::ids::{Endpoint, FlowId, L4Proto};
use crate::time::Timestamp;

/// Report formats of `tamper analyze`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ReportFormat {
    /// JSON Lines: one finding per line (the machine contract).
    Jsonl,
    /// CSV: one finding per row.
    Csv,
    /// Markdown: an incident write-up (what was captured, found and not found, what limits
    /// the conclusions, how to reproduce) to paste into a report.
    Markdown,
    /// HTML: one self-contained offline page (no scripts, nothing fetched).
    Html,
    /// Parquet: a findings table (and a flows table with `--flows`), for DuckDB or Spark.
    #[cfg(feature = "parquet")]
    Parquet,
}

impl ReportFormat {
    /// True for formats that are not text (Parquet).
    pub fn is_binary(self) -> bool {
        #[cfg(feature = "parquet")]
        if self == ReportFormat::Parquet {
            return true;
        }
        false
    }

    /// File extension for per-capture outputs.
    pub fn extension(self) -> &'static str {
        match self {
            ReportFormat::Jsonl => "jsonl",
            ReportFormat::Csv => "csv",
            ReportFormat::Markdown => "md",
            ReportFormat::Html => "html",
            #[cfg(feature = "parquet")]
            ReportFormat::Parquet => "parquet",
        }
    }
}

/// How far a capture could be read.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum CaptureStatus {
    /// Every record was read and analyzed.
    Complete,
    /// Part of the file could not be read; results cover the frames before the problem.
    Partial {
        /// What stopped reading.
        reason: String,
    },
    /// The input could not be analyzed at all.
    Failed {
        /// Why.
        error: String,
    },
}

impl CaptureStatus {
    /// True unless the capture was read completely.
    pub fn is_incomplete(&self) -> bool {
        !matches!(self, CaptureStatus::Complete)
    }
}

/// Packet-level counters of a capture.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct PacketCounts {
    /// Frames holding an IPv4 or IPv6 packet.
    pub ip: u64,
    /// Frames with another network protocol (ARP, ...).
    pub not_ip: u64,
    /// Frames that could not be decoded (unsupported link type, broken headers).
    pub undecoded: u64,
    /// IP fragments (counted once per fragment).
    pub fragments: u64,
    /// Packets of flows the full flow table could not track.
    pub untracked: u64,
}

/// Flow counters of a capture.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct FlowCounts {
    /// TCP flows.
    pub tcp: u64,
    /// UDP flows.
    pub udp: u64,
    /// Most flows tracked at once.
    pub peak: u64,
}

/// The limits a capture was analyzed under (so a reader knows what was cut).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct LimitsUsed {
    /// `--max-flows`.
    pub max_flows: u64,
    /// `--flow-timeout` in seconds.
    pub flow_timeout_secs: u64,
    /// `--reassembly-bytes` per direction.
    pub reassembly_bytes: u64,
    /// Reassembly memory budget for the capture.
    pub reassembly_memory: u64,
    /// `--max-pending-dns`.
    pub max_pending_dns: u64,
    /// Fragmented datagrams in flight.
    pub max_fragments_in_flight: u64,
}

impl LimitsUsed {
    /// The limits of a run with no limit option given (the pipeline's and the command line's
    /// defaults; tests keep the three in step).
    pub const DEFAULT: LimitsUsed = LimitsUsed {
        max_flows: 1_000_000,
        flow_timeout_secs: 3600,
        reassembly_bytes: 16_384,
        reassembly_memory: 512 * 1024 * 1024,
        max_pending_dns: 65_536,
        max_fragments_in_flight: 4096,
    };
}

/// What was read from one capture.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CaptureSummary {
    /// Container format.
    pub format: CaptureFormat,
    /// Compression layers undone, outermost first.
    pub compression: Vec<Compression>,
    /// Interfaces (one for classic pcap).
    pub interfaces: Vec<InterfaceInfo>,
    /// Frames read.
    pub frames: u64,
    /// Decompressed bytes read.
    pub bytes: u64,
    /// First frame time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_ts: Option<Timestamp>,
    /// Last frame time (the latest, if timestamps go backwards).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_ts: Option<Timestamp>,
    /// How reading ended.
    pub read_end: ReadEnd,
    /// Flow counts.
    pub flows: FlowCounts,
    /// Packet counts.
    pub packets: PacketCounts,
    /// Limits in force.
    pub limits: LimitsUsed,
}

/// One flow as listed in reports and by `tamper flows`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FlowSummary {
    /// The capture it belongs to.
    pub capture: String,
    /// Flow id.
    pub id: FlowId,
    /// `tcp` or `udp`.
    pub proto: L4Proto,
    /// Client endpoint.
    pub client: Endpoint,
    /// Server endpoint.
    pub server: Endpoint,
    /// How the roles were decided.
    pub role_basis: RoleBasis,
    /// Tunnel depth (0 = not tunnelled).
    pub depth: u8,
    /// First packet.
    pub first_ts: Timestamp,
    /// Last packet.
    pub last_ts: Timestamp,
    /// Duration in seconds.
    pub duration_s: f64,
    /// Packets client to server.
    pub packets_c2s: u64,
    /// Packets server to client.
    pub packets_s2c: u64,
    /// Wire bytes client to server.
    pub bytes_c2s: u64,
    /// Wire bytes server to client.
    pub bytes_s2c: u64,
    /// Application protocol recognised.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub app: Option<&'static str>,
    /// TLS SNI.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sni: Option<String>,
    /// HTTP Host.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http_host: Option<String>,
    /// First DNS query name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dns_query: Option<String>,
    /// How the flow ended.
    pub end: FlowEnd,
    /// Connection history letters.
    pub history: String,
    /// Handshake round-trip time in milliseconds (TCP).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rtt_ms: Option<f64>,
    /// Retransmitted segments, both directions (TCP).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retransmissions: Option<u64>,
}

impl FlowSummary {
    /// The SNI, Host or query name, whichever the flow has.
    pub fn name(&self) -> Option<&str> {
        self.sni
            .as_deref()
            .or(self.http_host.as_deref())
            .or(self.dns_query.as_deref())
    }
}

/// The input file as given on the command line: the bytes on disk, compressed or not.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SourceFacts {
    /// File size in bytes.
    pub size: u64,
    /// SHA-256 of the file's bytes, lowercase hex.
    pub sha256: String,
}

/// Everything reported about one capture.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CaptureReport {
    /// The input as named on the command line.
    pub name: String,
    /// How far it could be read.
    pub status: CaptureStatus,
    /// What was read (absent when the input could not be opened).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub summary: Option<CaptureSummary>,
    /// Findings, sorted.
    pub findings: Vec<Finding>,
    /// Flows, when they were collected.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub flows: Vec<FlowSummary>,
    /// Diagnostics, worst first.
    pub diagnostics: Vec<DiagnosticSummary>,
    /// Size and SHA-256 of the input file, when it was hashed (Markdown reports and
    /// directory outputs of files; never standard input). Written only in Markdown.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<SourceFacts>,
    /// Where the capture was taken and whether both directions are in it, inferred from its
    /// flows (absent when the input could not be opened). Written only in Markdown.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vantage: Option<Vantage>,
}

/// The error of a capture that was never started because the run was interrupted.
pub const NOT_STARTED_INTERRUPTED: &str = "not analyzed: the run was interrupted first";

impl CaptureReport {
    /// How far the analysis got when the run was interrupted (Ctrl-C) before this capture
    /// was finished; None when it was not interrupted. Such a report is incomplete and is
    /// never written.
    pub fn interrupted(&self) -> Option<String> {
        if let Some(s) = &self.summary {
            if let ReadEnd::Stopped {
                interrupted: true,
                offset,
                ..
            } = &s.read_end
            {
                return Some(format!(
                    "stopped after {} frames (byte {offset} of the capture stream)",
                    s.frames
                ));
            }
        }
        match &self.status {
            CaptureStatus::Failed { error } if error == NOT_STARTED_INTERRUPTED => {
                Some("not started".to_string())
            }
            _ => None,
        }
    }

    /// A report for an input that could not be analyzed.
    pub fn failed(name: String, error: String) -> CaptureReport {
        CaptureReport {
            name,
            status: CaptureStatus::Failed { error },
            summary: None,
            findings: Vec::new(),
            flows: Vec::new(),
            diagnostics: Vec::new(),
            source: None,
            vantage: None,
        }
    }
}

/// A finished report over one or more captures.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Report {
    /// tamper's version.
    pub tool_version: &'static str,
    /// Captures in the order of the command line (directories expanded in sorted order).
    pub captures: Vec<CaptureReport>,
}

impl Report {
    /// Builds a report and assigns finding ids: `F<capture number>-<n>` when several captures
    /// are reported together, `F<n>` otherwise; `n` counts the capture's findings in order.
    pub fn new(mut captures: Vec<CaptureReport>) -> Report {
        let many = captures.len() > 1;
        for (ci, c) in captures.iter_mut().enumerate() {
            crate::finding::sort_findings(&mut c.findings);
            for (fi, f) in c.findings.iter_mut().enumerate() {
                f.capture = c.name.clone();
                f.id = if many {
                    format!("F{}-{}", ci + 1, fi + 1)
                } else {
                    format!("F{}", fi + 1)
                };
            }
        }
        Report {
            tool_version: env!("CARGO_PKG_VERSION"),
            captures,
        }
    }

    /// All findings, capture by capture.
    pub fn findings(&self) -> impl Iterator<Item = &Finding> {
        self.captures.iter().flat_map(|c| c.findings.iter())
    }

    /// True if any capture could not be read completely.
    pub fn any_incomplete(&self) -> bool {
        self.captures.iter().any(|c| c.status.is_incomplete())
    }

    /// Writes the findings in `format`.
    pub fn write(&self, format: ReportFormat, out: &mut dyn io::Write) -> io::Result<()> {
        match format {
            ReportFormat::Jsonl => jsonl::write_findings(self, out),
            ReportFormat::Csv => csv_out::write_findings(self, out),
            ReportFormat::Markdown => markdown::write(self, out),
            ReportFormat::Html => html::write(self, &Pictures::default(), out),
            #[cfg(feature = "parquet")]
            ReportFormat::Parquet => parquet_out::write_findings(self, out),
        }
    }

    /// Writes the HTML page with pictures (looked up by finding id in `pictures.by_finding`;
    /// a finding without an entry gets none). [`Report::write`] with [`ReportFormat::Html`]
    /// writes the same page without pictures.
    pub fn write_html(&self, pictures: &Pictures, out: &mut dyn io::Write) -> io::Result<()> {
        html::write(self, pictures, out)
    }

    /// Writes the flow list: CSV for CSV, Markdown and HTML reports, a Parquet table for
    /// Parquet reports, JSON Lines otherwise.
    pub fn write_flows(&self, format: ReportFormat, out: &mut dyn io::Write) -> io::Result<()> {
        match format {
            ReportFormat::Jsonl => jsonl::write_flows(self, out),
            ReportFormat::Csv | ReportFormat::Markdown | ReportFormat::Html => {
                csv_out::write_flows(self, out)
            }
            #[cfg(feature = "parquet")]
            ReportFormat::Parquet => parquet_out::write_flows(self, out),
        }
    }

    /// Writes diagnostics and capture summaries as JSON Lines.
    pub fn write_diagnostics(&self, out: &mut dyn io::Write) -> io::Result<()> {
        jsonl::write_diagnostics(self, out)
    }
}

/// Writes a flow table like `tshark -z conv` for `tamper flows`.
pub fn write_flow_table(flows: &[FlowSummary], out: &mut dyn io::Write) -> io::Result<()> {
    markdown::write_flow_table_text(flows, out)
}
