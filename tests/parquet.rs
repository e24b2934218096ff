//! `--format parquet` (cargo feature `parquet`): the findings and flows tables read back with
//! the parquet crate hold the same rows and values as the JSON Lines report.
#![cfg(feature = "parquet")]

mod common;

use std::process::Command;

use arrow_array::{Array, ListArray, StringArray, TimestampNanosecondArray, UInt64Array};
use assert_cmd::cargo::CommandCargoExt;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

fn read(path: &std::path::Path) -> Vec<arrow_array::RecordBatch> {
    let file = std::fs::File::open(path).unwrap();
    ParquetRecordBatchReaderBuilder::try_new(file)
        .unwrap()
        .build()
        .unwrap()
        .map(|b| b.unwrap())
        .collect()
}

#[test]
fn parquet_tables_match_the_json_lines_report() {
    let dir = tempfile::tempdir().unwrap();
    let findings = dir.path().join("findings.parquet");
    let flows = dir.path().join("flows.parquet");
    let rst = common::fixtures_dir().join("rst");
    let out = Command::cargo_bin("tamper")
        .unwrap()
        .args(["analyze", "-q", "--format", "parquet", "-o"])
        .arg(&findings)
        .arg("--flows")
        .arg(&flows)
        .arg(&rst)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json = Command::cargo_bin("tamper")
        .unwrap()
        .args(["analyze", "-q", "--format", "jsonl", "-o", "-"])
        .arg(&rst)
        .output()
        .unwrap();
    let expected: Vec<serde_json::Value> = String::from_utf8_lossy(&json.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(expected.len() > 10);

    let batches = read(&findings);
    let rows: usize = batches.iter().map(|b| b.num_rows()).sum();
    assert_eq!(rows, expected.len());
    let b = &batches[0];
    let col = |name: &str| {
        b.column_by_name(name)
            .unwrap_or_else(|| panic!("column {name}"))
    };
    let ids = col("id").as_any().downcast_ref::<StringArray>().unwrap();
    let kinds = col("kind").as_any().downcast_ref::<StringArray>().unwrap();
    let client_ip = col("client_ip")
        .as_any()
        .downcast_ref::<StringArray>()
        .unwrap();
    let frames = col("frames").as_any().downcast_ref::<ListArray>().unwrap();
    let ts = col("ts")
        .as_any()
        .downcast_ref::<TimestampNanosecondArray>()
        .unwrap();
    let trig = col("trigger_value")
        .as_any()
        .downcast_ref::<StringArray>()
        .unwrap();
    for (i, e) in expected.iter().take(b.num_rows()).enumerate() {
        assert_eq!(ids.value(i), e["id"].as_str().unwrap());
        assert_eq!(kinds.value(i), e["kind"].as_str().unwrap());
        let client = e["flow"]["client"].as_str().unwrap();
        assert!(
            client.contains(client_ip.value(i)),
            "{client} vs {}",
            client_ip.value(i)
        );
        let f = frames.value(i);
        let f = f.as_any().downcast_ref::<UInt64Array>().unwrap();
        let want: Vec<u64> = e["frames"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().unwrap())
            .collect();
        assert_eq!(f.values().to_vec(), want);
        assert!(
            ts.value(i) > 1_600_000_000_000_000_000,
            "ns since the epoch"
        );
        match e["trigger"]["value"].as_str() {
            Some(v) => assert_eq!(trig.value(i), v),
            None => assert!(trig.is_null(i)),
        }
    }

    let flow_rows: usize = read(&flows).iter().map(|b| b.num_rows()).sum();
    let flows_jsonl = Command::cargo_bin("tamper")
        .unwrap()
        .args(["flows", "--format", "jsonl"])
        .arg(&rst)
        .output()
        .unwrap();
    let n = String::from_utf8_lossy(&flows_jsonl.stdout).lines().count();
    assert_eq!(flow_rows, n);
}
