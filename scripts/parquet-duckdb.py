#!/usr/bin/env python3
"""Writes the Parquet tables of a fixture group with tamper and queries them with DuckDB.

Usage: scripts/parquet-duckdb.py TAMPER_BINARY FIXTURES_DIR

Checks that DuckDB reads both tables, that the findings table has the same rows as the JSON
Lines report, and runs the example query of docs/scale.md (findings per class per client
network per day), printing its result. Exits non-zero on any mismatch. Needs the `duckdb`
Python package (pip install duckdb) and a tamper built with `--features parquet`.
"""
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import duckdb

QUERY = """
SELECT class,
       CASE WHEN contains(client_ip, ':')
            THEN array_to_string(string_split(client_ip, ':')[1:3], ':') || '::/48'
            ELSE array_to_string(string_split(client_ip, '.')[1:3], '.') || '.0/24'
       END AS network,
       CAST(CAST(ts AS TIMESTAMPTZ) AS DATE) AS day,
       count(*) AS findings
FROM read_parquet(?)
GROUP BY ALL
ORDER BY day, network, class
"""


def main() -> int:
    tamper, fixtures = sys.argv[1], sys.argv[2]
    with tempfile.TemporaryDirectory() as tmp:
        findings = Path(tmp) / "findings.parquet"
        flows = Path(tmp) / "flows.parquet"
        subprocess.run([tamper, "analyze", "-q", "--format", "parquet", "-o", str(findings),
                        "--flows", str(flows), fixtures], check=True)
        jsonl = subprocess.run([tamper, "analyze", "-q", "--format", "jsonl", "-o", "-", fixtures],
                               check=True, capture_output=True, text=True).stdout
        expected = [json.loads(l) for l in jsonl.splitlines() if l.strip()]
        con = duckdb.connect()
        rows = con.execute("SELECT id, class, kind, confidence, frames, trigger_value "
                           "FROM read_parquet(?) ORDER BY capture, id", [str(findings)]).fetchall()
        want = sorted(((e["capture"], e["id"]), e) for e in expected)
        if len(rows) != len(expected):
            print(f"parquet has {len(rows)} findings, jsonl {len(expected)}")
            return 1
        for row, (_, e) in zip(rows, want):
            got = (row[0], row[1], row[2], row[3], list(row[4]), row[5])
            exp = (e["id"], e["class"], e["kind"], e["confidence"], e["frames"],
                   (e.get("trigger") or {}).get("value"))
            if got != exp:
                print(f"mismatch: {got} != {exp}")
                return 1
        nflows = con.execute("SELECT count(*) FROM read_parquet(?)", [str(flows)]).fetchone()[0]
        result = con.execute(QUERY, [str(findings)]).fetchall()
        total = sum(r[3] for r in result)
        if total != len(expected) or not result:
            print(f"example query counted {total} findings, expected {len(expected)}")
            return 1
        print(f"{len(rows)} findings and {nflows} flows read back with DuckDB {duckdb.__version__}")
        print("class | network | day | findings")
        for r in result:
            print(f"{r[0]} | {r[1]} | {r[2]:%Y-%m-%d} | {r[3]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
