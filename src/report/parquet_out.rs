//! Parquet writers (cargo feature `parquet`): a findings table and a flows table with typed
//! columns for DuckDB or Spark; like the other writers they only lay out a finished report.
//!
//! Column lists are documented in `docs/report-format.md` ("Parquet"). Evidence stays one
//! JSON text per finding (its items have many shapes); everything a query groups or filters
//! on (class, kind, confidence, endpoints, addresses, ports, time, trigger) is its own column.

use std::io::{self, Write};
use std::sync::Arc;

use arrow_array::builder::{ListBuilder, UInt64Builder};
use arrow_array::{
    ArrayRef, Float64Array, RecordBatch, StringArray, TimestampNanosecondArray, UInt16Array,
    UInt64Array, UInt8Array,
};
use arrow_schema::{DataType, Field, Schema, TimeUnit};
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;

use super::{FlowSummary, Report};
use crate::finding::Finding;

fn ts_type() -> DataType {
    DataType::Timestamp(TimeUnit::Nanosecond, Some("UTC".into()))
}

fn text(name: &str, nullable: bool) -> Field {
    Field::new(name, DataType::Utf8, nullable)
}

fn strings<'a>(values: impl Iterator<Item = Option<&'a str>>) -> ArrayRef {
    Arc::new(values.collect::<StringArray>())
}

fn owned(values: impl Iterator<Item = Option<String>>) -> ArrayRef {
    Arc::new(values.collect::<StringArray>())
}

fn timestamps(values: impl Iterator<Item = i64>) -> ArrayRef {
    Arc::new(TimestampNanosecondArray::from(values.collect::<Vec<_>>()).with_timezone("UTC"))
}

/// A value's serde name (`"rst_by_client"` for a unit enum variant), for enums that have no
/// `Display`.
fn serde_name<T: serde::Serialize>(v: &T) -> Option<String> {
    match serde_json::to_value(v).ok()? {
        serde_json::Value::String(s) => Some(s),
        other => Some(other.to_string()),
    }
}

fn write_batch(batch: &RecordBatch, out: &mut dyn Write) -> io::Result<()> {
    // ArrowWriter needs an owned `Write + Send`; the report is already in memory, so the file
    // is built in memory too and copied out.
    let props = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .set_created_by(format!("tamper {}", env!("CARGO_PKG_VERSION")))
        .build();
    let mut buf = Vec::new();
    let mut w =
        ArrowWriter::try_new(&mut buf, batch.schema(), Some(props)).map_err(io::Error::other)?;
    w.write(batch).map_err(io::Error::other)?;
    w.close().map_err(io::Error::other)?;
    out.write_all(&buf)
}

/// The findings table.
pub(super) fn write_findings(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let fs: Vec<&Finding> = report.findings().collect();
    let schema = Arc::new(Schema::new(vec![
        text("capture", false),
        text("id", false),
        text("class", false),
        text("kind", false),
        text("confidence", false),
        text("proto", false),
        text("client", false),
        text("client_ip", false),
        Field::new("client_port", DataType::UInt16, false),
        text("server", false),
        text("server_ip", false),
        Field::new("server_port", DataType::UInt16, false),
        text("flow_id", false),
        Field::new(
            "frames",
            DataType::List(Arc::new(Field::new("item", DataType::UInt64, true))),
            false,
        ),
        Field::new("ts", ts_type(), false),
        text("summary", false),
        text("trigger_kind", true),
        text("trigger_value", true),
        Field::new("trigger_frame", DataType::UInt64, true),
        text("evidence", false),
        text("detector", false),
        text("wireshark_filter", false),
        text("wireshark_flow_filter", false),
    ]));
    let mut frames = ListBuilder::new(UInt64Builder::new()).with_field(Arc::new(Field::new(
        "item",
        DataType::UInt64,
        true,
    )));
    for f in &fs {
        for n in &f.frames {
            frames.values().append_value(n.get());
        }
        frames.append(true);
    }
    let columns: Vec<ArrayRef> = vec![
        strings(fs.iter().map(|f| Some(f.capture.as_str()))),
        strings(fs.iter().map(|f| Some(f.id.as_str()))),
        strings(fs.iter().map(|f| Some(f.class.as_str()))),
        owned(fs.iter().map(|f| Some(f.kind.to_string()))),
        strings(fs.iter().map(|f| Some(f.confidence.as_str()))),
        strings(fs.iter().map(|f| Some(f.flow.proto.as_str()))),
        owned(fs.iter().map(|f| Some(f.flow.client.to_string()))),
        owned(fs.iter().map(|f| Some(f.flow.client.addr.to_string()))),
        Arc::new(
            fs.iter()
                .map(|f| f.flow.client.port)
                .collect::<UInt16Array>(),
        ),
        owned(fs.iter().map(|f| Some(f.flow.server.to_string()))),
        owned(fs.iter().map(|f| Some(f.flow.server.addr.to_string()))),
        Arc::new(
            fs.iter()
                .map(|f| f.flow.server.port)
                .collect::<UInt16Array>(),
        ),
        owned(fs.iter().map(|f| Some(f.flow.id.to_string()))),
        Arc::new(frames.finish()),
        timestamps(fs.iter().map(|f| f.ts.as_nanos())),
        strings(fs.iter().map(|f| Some(f.summary.as_str()))),
        strings(fs.iter().map(|f| f.trigger.as_ref().map(|t| t.kind))),
        strings(
            fs.iter()
                .map(|f| f.trigger.as_ref().map(|t| t.value.as_str())),
        ),
        Arc::new(
            fs.iter()
                .map(|f| f.trigger.as_ref().and_then(|t| t.frame).map(|n| n.get()))
                .collect::<UInt64Array>(),
        ),
        owned(fs.iter().map(|f| serde_json::to_string(&f.evidence).ok())),
        strings(fs.iter().map(|f| Some(f.detector))),
        strings(fs.iter().map(|f| Some(f.wireshark_filter.as_str()))),
        strings(fs.iter().map(|f| Some(f.wireshark_flow_filter.as_str()))),
    ];
    let batch = RecordBatch::try_new(schema, columns).map_err(io::Error::other)?;
    write_batch(&batch, out)
}

/// The flows table.
pub(super) fn write_flows(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let fl: Vec<&FlowSummary> = report
        .captures
        .iter()
        .flat_map(|c| c.flows.iter())
        .collect();
    let u64s = |get: fn(&FlowSummary) -> u64| -> ArrayRef {
        Arc::new(fl.iter().map(|f| get(f)).collect::<UInt64Array>())
    };
    let schema = Arc::new(Schema::new(vec![
        text("capture", false),
        text("id", false),
        text("proto", false),
        text("client", false),
        text("client_ip", false),
        Field::new("client_port", DataType::UInt16, false),
        text("server", false),
        text("server_ip", false),
        Field::new("server_port", DataType::UInt16, false),
        text("role_basis", true),
        Field::new("depth", DataType::UInt8, false),
        Field::new("first_ts", ts_type(), false),
        Field::new("last_ts", ts_type(), false),
        Field::new("duration_s", DataType::Float64, false),
        Field::new("packets_c2s", DataType::UInt64, false),
        Field::new("packets_s2c", DataType::UInt64, false),
        Field::new("bytes_c2s", DataType::UInt64, false),
        Field::new("bytes_s2c", DataType::UInt64, false),
        text("app", true),
        text("sni", true),
        text("http_host", true),
        text("dns_query", true),
        text("end", true),
        text("history", false),
        Field::new("rtt_ms", DataType::Float64, true),
        Field::new("retransmissions", DataType::UInt64, true),
    ]));
    let columns: Vec<ArrayRef> = vec![
        strings(fl.iter().map(|f| Some(f.capture.as_str()))),
        owned(fl.iter().map(|f| Some(f.id.to_string()))),
        strings(fl.iter().map(|f| Some(f.proto.as_str()))),
        owned(fl.iter().map(|f| Some(f.client.to_string()))),
        owned(fl.iter().map(|f| Some(f.client.addr.to_string()))),
        Arc::new(fl.iter().map(|f| f.client.port).collect::<UInt16Array>()),
        owned(fl.iter().map(|f| Some(f.server.to_string()))),
        owned(fl.iter().map(|f| Some(f.server.addr.to_string()))),
        Arc::new(fl.iter().map(|f| f.server.port).collect::<UInt16Array>()),
        owned(fl.iter().map(|f| serde_name(&f.role_basis))),
        Arc::new(fl.iter().map(|f| f.depth).collect::<UInt8Array>()),
        timestamps(fl.iter().map(|f| f.first_ts.as_nanos())),
        timestamps(fl.iter().map(|f| f.last_ts.as_nanos())),
        Arc::new(fl.iter().map(|f| f.duration_s).collect::<Float64Array>()),
        u64s(|f| f.packets_c2s),
        u64s(|f| f.packets_s2c),
        u64s(|f| f.bytes_c2s),
        u64s(|f| f.bytes_s2c),
        strings(fl.iter().map(|f| f.app)),
        strings(fl.iter().map(|f| f.sni.as_deref())),
        strings(fl.iter().map(|f| f.http_host.as_deref())),
        strings(fl.iter().map(|f| f.dns_query.as_deref())),
        owned(fl.iter().map(|f| serde_name(&f.end))),
        strings(fl.iter().map(|f| Some(f.history.as_str()))),
        Arc::new(fl.iter().map(|f| f.rtt_ms).collect::<Float64Array>()),
        Arc::new(
            fl.iter()
                .map(|f| f.retransmissions)
                .collect::<UInt64Array>(),
        ),
    ];
    let batch = RecordBatch::try_new(schema, columns).map_err(io::Error::other)?;
    write_batch(&batch, out)
}
