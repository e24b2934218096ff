//! CSV writers: one finding per row, or one flow per row; columns are documented in
//! `docs/report-format.md`.

use std::io::{self, Write};

use super::Report;

fn csv_err(e: csv::Error) -> io::Error {
    match e.into_kind() {
        csv::ErrorKind::Io(e) => e,
        other => io::Error::other(format!("{other:?}")),
    }
}

/// Column names of the findings CSV.
pub const FINDING_COLUMNS: [&str; 17] = [
    "id",
    "capture",
    "class",
    "kind",
    "confidence",
    "proto",
    "client",
    "server",
    "flow_id",
    "frames",
    "ts",
    "trigger_kind",
    "trigger",
    "summary",
    "wireshark_filter",
    "wireshark_flow_filter",
    "evidence_json",
];

pub(super) fn write_findings(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record(FINDING_COLUMNS).map_err(csv_err)?;
    for f in report.findings() {
        let frames = f
            .frames
            .iter()
            .map(|n| n.to_string())
            .collect::<Vec<_>>()
            .join(";");
        let evidence = serde_json::to_string(&f.evidence).map_err(io::Error::other)?;
        w.write_record([
            f.id.as_str(),
            f.capture.as_str(),
            f.class.as_str(),
            f.kind.as_str(),
            f.confidence.as_str(),
            f.flow.proto.as_str(),
            &f.flow.client.to_string(),
            &f.flow.server.to_string(),
            &f.flow.id.to_string(),
            &frames,
            &f.ts.to_string(),
            f.trigger.as_ref().map_or("", |t| t.kind),
            f.trigger.as_ref().map_or("", |t| t.value.as_str()),
            &f.summary,
            &f.wireshark_filter,
            &f.wireshark_flow_filter,
            &evidence,
        ])
        .map_err(csv_err)?;
    }
    w.flush()
}

/// Column names of the flows CSV.
pub const FLOW_COLUMNS: [&str; 22] = [
    "capture",
    "flow_id",
    "proto",
    "client",
    "server",
    "role_basis",
    "depth",
    "first_ts",
    "last_ts",
    "duration_s",
    "packets_c2s",
    "packets_s2c",
    "bytes_c2s",
    "bytes_s2c",
    "app",
    "sni",
    "http_host",
    "dns_query",
    "end",
    "history",
    "rtt_ms",
    "retransmissions",
];

pub(super) fn write_flows(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record(FLOW_COLUMNS).map_err(csv_err)?;
    for c in &report.captures {
        for f in &c.flows {
            let role = serde_json::to_value(f.role_basis).map_err(io::Error::other)?;
            let end = serde_json::to_value(f.end).map_err(io::Error::other)?;
            w.write_record([
                f.capture.as_str(),
                &f.id.to_string(),
                f.proto.as_str(),
                &f.client.to_string(),
                &f.server.to_string(),
                role.as_str().unwrap_or(""),
                &f.depth.to_string(),
                &f.first_ts.to_string(),
                &f.last_ts.to_string(),
                &format!("{:.6}", f.duration_s),
                &f.packets_c2s.to_string(),
                &f.packets_s2c.to_string(),
                &f.bytes_c2s.to_string(),
                &f.bytes_s2c.to_string(),
                f.app.unwrap_or(""),
                f.sni.as_deref().unwrap_or(""),
                f.http_host.as_deref().unwrap_or(""),
                f.dns_query.as_deref().unwrap_or(""),
                end.as_str().unwrap_or(""),
                &f.history,
                &f.rtt_ms.map_or(String::new(), |r| format!("{r:.3}")),
                &f.retransmissions.map_or(String::new(), |r| r.to_string()),
            ])
            .map_err(csv_err)?;
        }
    }
    w.flush()
}
