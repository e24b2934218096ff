//! JSON Lines writers: one finding, flow or diagnostic per line; the format is the machine
//! contract documented in `docs/report-format.md`.

use std::io::{self, Write};

use serde::Serialize;

use super::{CaptureStatus, CaptureSummary, Report};
use crate::diag::DiagnosticSummary;

fn line<T: Serialize>(out: &mut dyn Write, value: &T) -> io::Result<()> {
    serde_json::to_writer(&mut *out, value).map_err(io::Error::other)?;
    out.write_all(b"\n")
}

/// One finding per line, in report order.
pub(super) fn write_findings(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    for f in report.findings() {
        line(out, f)?;
    }
    Ok(())
}

/// One flow per line.
pub(super) fn write_flows(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    for c in &report.captures {
        for f in &c.flows {
            line(out, f)?;
        }
    }
    Ok(())
}

#[derive(Serialize)]
#[serde(tag = "record", rename_all = "snake_case")]
enum DiagRecord<'a> {
    Capture {
        capture: &'a str,
        #[serde(flatten)]
        status: &'a CaptureStatus,
        #[serde(skip_serializing_if = "Option::is_none")]
        summary: Option<&'a CaptureSummary>,
        findings: usize,
    },
    Diagnostic {
        capture: &'a str,
        #[serde(flatten)]
        diagnostic: &'a DiagnosticSummary,
    },
}

/// A `capture` record per capture (status and summary), then its diagnostics.
pub(super) fn write_diagnostics(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    for c in &report.captures {
        line(
            out,
            &DiagRecord::Capture {
                capture: &c.name,
                status: &c.status,
                summary: c.summary.as_ref(),
                findings: c.findings.len(),
            },
        )?;
        for d in &c.diagnostics {
            line(
                out,
                &DiagRecord::Diagnostic {
                    capture: &c.name,
                    diagnostic: d,
                },
            )?;
        }
    }
    Ok(())
}
