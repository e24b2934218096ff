//! The command line as users meet it: exit statuses, standard output and error, output files,
//! standard input, several inputs with a bad one among them, a broken pipe, thread counts.

mod common;

use common::{fixture, tamper};

use std::io::Read;
use std::process::Stdio;

use serde_json::Value;

const SAMPLE: &str = "sample/browsing.pcapng";
const TRUNCATED: &str = "capture/pcap-cut-in-the-middle-of-the-last-record.pcap";

fn jsonl(bytes: &[u8]) -> Vec<Value> {
    String::from_utf8_lossy(bytes)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON: {l}: {e}")))
        .collect()
}

#[test]
fn analyze_sample_to_stdout_succeeds() {
    let out = tamper()
        .args([
            "analyze",
            "--format",
            "jsonl",
            "--output",
            "-",
            &fixture(SAMPLE),
        ])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Whatever is found, every line is one finding object.
    for f in jsonl(&out.stdout) {
        assert!(f.get("class").is_some() && f.get("frames").is_some());
    }
    assert!(
        out.stderr.is_empty(),
        "clean run prints nothing on stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn usage_errors_exit_2_with_advice() {
    let out = tamper().args(["analyze"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("CAPTURE"));
    let out = tamper()
        .args(["analyze", "--format", "xml", &fixture(SAMPLE)])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("jsonl") && err.contains("markdown"),
        "lists the valid formats: {err}"
    );
    let out = tamper()
        .args(["analyze", "--max-flows", "0", &fixture(SAMPLE)])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = tamper().args(["frobnicate"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = tamper().args(["--version"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("tamper "));
}

#[test]
fn truncated_capture_exits_1_and_still_reports() {
    let dir = tempfile::tempdir().unwrap();
    let diag = dir.path().join("d.jsonl");
    let out = tamper()
        .args([
            "analyze",
            "--diagnostics",
            diag.to_str().unwrap(),
            &fixture(TRUNCATED),
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("partly read") && err.contains("capture_truncated"),
        "{err}"
    );
    let recs = jsonl(&std::fs::read(&diag).unwrap());
    assert_eq!(recs[0]["status"], "partial");
    assert_eq!(recs[0]["summary"]["frames"], 10);
}

#[test]
fn a_bad_file_among_good_ones_is_reported_and_the_rest_analyzed() {
    let dir = tempfile::tempdir().unwrap();
    let text = dir.path().join("notes.txt");
    std::fs::write(&text, "10:00:01 IP 10.0.0.1 > 10.0.0.2: Flags [S]\n").unwrap();
    let zip = dir.path().join("capture.zip");
    std::fs::write(&zip, b"PK\x03\x04\x14\x00\x00\x00rest").unwrap();
    let empty = dir.path().join("empty.pcap");
    std::fs::write(&empty, b"").unwrap();
    let diag = dir.path().join("d.jsonl");
    let missing = dir.path().join("missing.pcap");
    let out = tamper()
        .args([
            "analyze",
            "--diagnostics",
            diag.to_str().unwrap(),
            &fixture(SAMPLE),
            text.to_str().unwrap(),
            zip.to_str().unwrap(),
            empty.to_str().unwrap(),
            missing.to_str().unwrap(),
            &fixture("link/linux-cooked-sll2.pcap"),
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("not a capture file: starts with bytes 31 30 3a 30"),
        "{err}"
    );
    assert!(err.contains("looks like text"), "{err}");
    assert!(
        err.contains("looks like a zip archive: extract the capture from it first"),
        "{err}"
    );
    assert!(err.contains("empty file"), "{err}");
    assert!(
        err.contains("missing.pcap") && err.contains("No such file"),
        "{err}"
    );
    let statuses: Vec<String> = jsonl(&std::fs::read(&diag).unwrap())
        .iter()
        .filter(|r| r["record"] == "capture")
        .map(|r| r["status"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        statuses,
        ["complete", "failed", "failed", "failed", "failed", "complete"]
    );
}

#[test]
fn outputs_are_not_overwritten_without_force() {
    let dir = tempfile::tempdir().unwrap();
    let out_path = dir.path().join("report.md");
    std::fs::write(&out_path, "precious").unwrap();
    let out = tamper()
        .args([
            "analyze",
            "-f",
            "markdown",
            "-o",
            out_path.to_str().unwrap(),
            &fixture(SAMPLE),
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--force"));
    assert_eq!(std::fs::read_to_string(&out_path).unwrap(), "precious");
    let out = tamper()
        .args([
            "analyze",
            "-f",
            "markdown",
            "--force",
            "-o",
            out_path.to_str().unwrap(),
            &fixture(SAMPLE),
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let md = std::fs::read_to_string(&out_path).unwrap();
    assert!(md.starts_with("# tamper report"));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("78 frames"),
        "summary line when writing a file"
    );
    // No temporary files left behind.
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names.len(), 1, "{names:?}");
}

#[test]
fn an_input_is_never_an_output() {
    let dir = tempfile::tempdir().unwrap();
    let cap = dir.path().join("c.pcapng");
    std::fs::copy(fixture(SAMPLE), &cap).unwrap();
    let before = std::fs::read(&cap).unwrap();
    let out = tamper()
        .args([
            "analyze",
            "--force",
            "-o",
            cap.to_str().unwrap(),
            cap.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("also an input"));
    assert_eq!(std::fs::read(&cap).unwrap(), before);
}

#[test]
fn output_directory_gets_one_report_per_capture() {
    let dir = tempfile::tempdir().unwrap();
    let outdir = dir.path().join("reports/");
    let out = tamper()
        .args([
            "analyze",
            "-f",
            "csv",
            "-o",
            outdir.to_str().unwrap(),
            &fixture(SAMPLE),
            &fixture("capture/pcap-little-endian-microseconds.pcap"),
        ])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut names: Vec<String> = std::fs::read_dir(&outdir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "browsing.pcapng.tamper.csv",
            "manifest.jsonl",
            "pcap-little-endian-microseconds.pcap.tamper.csv"
        ]
    );
    let csv = std::fs::read_to_string(outdir.join("browsing.pcapng.tamper.csv")).unwrap();
    assert!(csv.starts_with("id,capture,class,kind,confidence"));
}

#[test]
fn standard_input_and_compression() {
    let bytes = std::fs::read(fixture(
        "capture/pcap-gzip-compressed-in-two-members.pcap.gz",
    ))
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let diag = dir.path().join("d.jsonl");
    let mut child = tamper()
        .args(["analyze", "--diagnostics", diag.to_str().unwrap(), "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(&bytes).unwrap();
    }
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let recs = jsonl(&std::fs::read(&diag).unwrap());
    assert_eq!(recs[0]["capture"], "-");
    assert_eq!(
        recs[0]["summary"]["compression"],
        serde_json::json!(["gzip"])
    );
    assert_eq!(recs[0]["summary"]["frames"], 11);
}

#[test]
fn flows_lists_names_and_endings() {
    let out = tamper().args(["flows", &fixture(SAMPLE)]).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let table = String::from_utf8_lossy(&out.stdout);
    let header = table.lines().next().unwrap();
    for col in [
        "flow",
        "proto",
        "client",
        "server",
        "packets c>s",
        "name",
        "end",
    ] {
        assert!(header.contains(col), "{header}");
    }
    assert!(table.contains("www.example.com") && table.contains("static.example.net"));
    assert!(table.contains("plain.example.org"));
    assert_eq!(
        table.lines().count(),
        1 + 7,
        "3 TCP + 4 UDP flows:\n{table}"
    );
    let out = tamper()
        .args(["flows", "-f", "jsonl", &fixture(SAMPLE)])
        .output()
        .unwrap();
    let flows = jsonl(&out.stdout);
    assert_eq!(flows.len(), 7);
    assert!(flows
        .iter()
        .any(|f| f["sni"] == "static.example.net" && f["app"] == "tls"));
}

#[test]
fn broken_pipe_ends_quietly() {
    // A capture with many flows, so the table is far larger than a pipe buffer.
    use tamper::synth::scenario::{Host, Scenario};
    use tamper::synth::writer::{write_pcap, PcapOptions};
    let mut sc = Scenario::new(7);
    let client = sc.add_host(Host::local("10.1.0.2".parse().unwrap()));
    let resolver = sc.add_host(Host::remote("10.1.0.53".parse().unwrap(), 60));
    for i in 0..3000i64 {
        sc.dns_exchange(
            i * 1_000_000,
            client,
            resolver,
            2_000_000,
            &[0u8; 12],
            &[0x80u8; 12],
        )
        .unwrap();
    }
    let frames = sc.finish();
    let dir = tempfile::tempdir().unwrap();
    let cap = dir.path().join("many.pcap");
    std::fs::write(&cap, write_pcap(&PcapOptions::new(1), &frames)).unwrap();
    let mut child = tamper()
        .args(["flows", cap.to_str().unwrap()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut first = [0u8; 64];
    stdout.read_exact(&mut first).unwrap();
    drop(stdout);
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0), "stderr: {err}");
    assert!(
        !err.contains("Broken pipe") && !err.contains("panicked"),
        "{err}"
    );
}

#[test]
fn results_do_not_depend_on_thread_count() {
    let dir = tempfile::tempdir().unwrap();
    let mut outputs = Vec::new();
    for threads in ["1", "2", "4"] {
        let flows = dir.path().join(format!("flows-{threads}.jsonl"));
        let diag = dir.path().join(format!("diag-{threads}.jsonl"));
        let out = tamper()
            .args([
                "analyze",
                "-j",
                threads,
                "--flows",
                flows.to_str().unwrap(),
                "--diagnostics",
                diag.to_str().unwrap(),
                &common::fixtures_dir().to_string_lossy(),
            ])
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(1),
            "fixtures include damaged captures"
        );
        outputs.push((
            out.stdout,
            std::fs::read(flows).unwrap(),
            std::fs::read(diag).unwrap(),
        ));
    }
    assert!(outputs.windows(2).all(|w| w[0] == w[1]));
    assert!(outputs[0].1.len() > 1000);
}

#[test]
fn fail_on_findings_does_not_fail_a_clean_capture() {
    let out = tamper()
        .args([
            "analyze",
            "--fail-on-findings",
            &fixture("capture/pcapng-little-endian.pcapng"),
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
}

const FINGERPRINT_HEADER: &str = "name,scope,other_names,location_found,pattern_type,pattern,confidence_no_fp,expected_countries,source,exp_url,notes\n";

#[test]
fn extra_fingerprint_files_are_accepted() {
    let dir = tempfile::tempdir().unwrap();
    let dns = dir.path().join("mine.csv");
    std::fs::write(
        &dns,
        format!("{FINGERPRINT_HEADER}me.dns_1,isp,,dns,full,192.0.2.66,5,XX,my notes,,\n"),
    )
    .unwrap();
    // Rows for HTTP locations, another column order and an unknown column are fine too.
    let http = dir.path().join("http.csv");
    std::fs::write(
        &http,
        "scope,name,location_found,pattern_type,pattern,seen\n\
         isp,me.http_1,header.location,prefix,http://warning.example/,2024\n",
    )
    .unwrap();
    let out = tamper()
        .args([
            "analyze",
            "--fingerprints",
            dns.to_str().unwrap(),
            "--fingerprints",
            http.to_str().unwrap(),
            &fixture(SAMPLE),
        ])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_bad_fingerprint_file_is_a_usage_error_naming_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.csv");
    std::fs::write(
        &bad,
        format!(
            "{FINGERPRINT_HEADER}me.ok,isp,,dns,full,192.0.2.1,5,,me,,\n\
             me.bad,country,,dns,full,192.0.2.2,5,,me,,\n"
        ),
    )
    .unwrap();
    let out = tamper()
        .args([
            "analyze",
            "--fingerprints",
            bad.to_str().unwrap(),
            &fixture(SAMPLE),
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty(), "no report for a usage error");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("bad.csv") && err.contains("line 3") && err.contains("country"),
        "{err}"
    );
    let missing = dir.path().join("missing.csv");
    let out = tamper()
        .args([
            "analyze",
            "--fingerprints",
            missing.to_str().unwrap(),
            &fixture(SAMPLE),
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("missing.csv"));
}

/// `check --update` writes an expectation that the same run then matches; a changed
/// expectation makes `check` exit 4 and name the capture, flow and field; `diff` compares two
/// files the same way.
#[test]
fn check_and_diff_report_regressions() {
    let dir = tempfile::tempdir().unwrap();
    let expect = dir.path().join("expected.jsonl");
    let rst = fixture("rst");
    let run = |args: &[&str]| tamper().args(args).output().unwrap();
    let e = expect.to_str().unwrap();

    let missing = run(&["check", "--expect", e, &rst]);
    assert_eq!(
        missing.status.code(),
        Some(2),
        "no expectation yet is a usage error"
    );
    assert!(String::from_utf8_lossy(&missing.stderr).contains("--update"));

    let update = run(&["check", "--update", "--expect", e, &rst]);
    assert_eq!(
        update.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&update.stderr)
    );
    let text = std::fs::read_to_string(&expect).unwrap();
    let lines = jsonl(text.as_bytes());
    // Names do not depend on where the fixtures live; volatile fields are left out.
    let airtel = lines
        .iter()
        .find(|l| l["capture"] == "airtel-rst-ipid-242-at-server.pcap" && l.get("class").is_some())
        .expect("the Airtel finding");
    assert_eq!(airtel["kind"], "tcp_rst_injected");
    for volatile in ["id", "summary", "evidence", "ts", "wireshark_filter"] {
        assert!(airtel.get(volatile).is_none(), "{volatile} is left out");
    }
    assert!(lines.iter().any(|l| l["record"] == "capture"
        && l["capture"] == "server-rst-after-its-fin-is-benign.pcap"
        && l["findings"] == 0));

    let same = run(&["check", "--expect", e, &rst]);
    assert_eq!(same.status.code(), Some(0));
    assert_eq!(
        String::from_utf8_lossy(&same.stdout).trim(),
        "no differences"
    );

    // Lower the Airtel finding's confidence and drop a benign capture from the expectation.
    let edited: String = text
        .lines()
        .filter(|l| !l.contains("server-rst-after-its-fin-is-benign"))
        .map(|l| {
            if l.contains("airtel") && l.contains("\"class\"") {
                l.replace("\"confidence\":\"high\"", "\"confidence\":\"low\"")
            } else {
                l.to_string()
            }
        })
        .map(|l| l + "\n")
        .collect();
    let edited_path = dir.path().join("edited.jsonl");
    std::fs::write(&edited_path, &edited).unwrap();
    let ed = edited_path.to_str().unwrap();
    let changed = run(&["check", "--expect", ed, &rst]);
    assert_eq!(changed.status.code(), Some(4));
    let out = String::from_utf8_lossy(&changed.stdout);
    assert!(out.contains("airtel-rst-ipid-242-at-server.pcap\n  ~ rst_injection/tcp_rst_injected tcp 198.51.100.23:57501 -> 203.0.113.43:80: confidence low -> high"), "{out}");
    assert!(
        out.contains("server-rst-after-its-fin-is-benign.pcap\n  + capture not in the expectation"),
        "{out}"
    );
    assert!(out.contains("2 difference(s) in 2 capture(s)"), "{out}");

    // diff: the same differences between the two files, also as JSON Lines.
    let d = run(&["diff", "--format", "jsonl", ed, e]);
    assert_eq!(d.status.code(), Some(4));
    let changes = jsonl(&d.stdout);
    assert_eq!(changes.len(), 2, "{changes:?}");
    assert_eq!(changes[0]["change"], "changed");
    assert_eq!(changes[0]["what"][0], "confidence low -> high");
    assert_eq!(changes[1]["change"], "capture_new");
    assert_eq!(run(&["diff", e, e]).status.code(), Some(0));

    // --update keeps a maintainer's justification on findings that are still there.
    let justified = text.replacen(
        "\"kind\":\"tcp_rst_injected\",",
        "\"kind\":\"tcp_rst_injected\",\"why\":\"upstream ground truth\",",
        1,
    );
    std::fs::write(&expect, justified).unwrap();
    let again = run(&["check", "--update", "--expect", e, &rst]);
    assert_eq!(again.status.code(), Some(0));
    let kept = std::fs::read_to_string(&expect).unwrap();
    assert_eq!(kept.matches("upstream ground truth").count(), 1, "{kept}");
}

/// A corpus split into three shards and merged gives byte for byte the report of one run over
/// the whole directory; the manifests list every capture once; `--resume` skips what is done
/// and redoes a capture whose report went missing; without it, nothing is overwritten.
#[test]
fn sharded_runs_merge_into_one_run_and_resume_skips_done_captures() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let outs = format!("{}/", out.display());
    let corpus = fixture("rst");
    let run = |args: &[&str]| tamper().args(args).output().unwrap();
    for k in 0..3 {
        let shard = format!("{k}/3");
        let r = run(&["analyze", "-q", "-o", &outs, "--shard", &shard, &corpus]);
        assert_eq!(
            r.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&r.stderr)
        );
    }
    let mut manifests: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("manifest"))
        .collect();
    manifests.sort();
    assert_eq!(
        manifests,
        [
            "manifest.shard-0-of-3.jsonl",
            "manifest.shard-1-of-3.jsonl",
            "manifest.shard-2-of-3.jsonl"
        ]
    );
    let mut captures = Vec::new();
    for m in &manifests {
        let text = std::fs::read_to_string(out.join(m)).unwrap();
        let lines = jsonl(text.as_bytes());
        assert!(!lines.is_empty(), "{m} has a share of 19 captures");
        for l in lines {
            assert_eq!(l["sha256"].as_str().unwrap().len(), 64);
            assert!(l["size"].as_u64().unwrap() > 0);
            assert_eq!(l["status"], "complete");
            captures.push(l["capture"].as_str().unwrap().to_string());
        }
    }
    captures.sort();
    let before = captures.len();
    captures.dedup();
    assert_eq!(
        (before, captures.len()),
        (19, 19),
        "every capture in exactly one shard"
    );

    let merged = run(&["merge", "-q", &out.to_string_lossy()]);
    assert_eq!(
        merged.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&merged.stderr)
    );
    let single = run(&["analyze", "-q", "--format", "jsonl", "-o", "-", &corpus]);
    assert!(!single.stdout.is_empty());
    assert_eq!(
        String::from_utf8_lossy(&merged.stdout),
        String::from_utf8_lossy(&single.stdout),
        "three shards merged equal one run"
    );

    // Without --resume or --force, a second run refuses to overwrite.
    let again = run(&["analyze", "-q", "-o", &outs, "--shard", "0/3", &corpus]);
    assert_eq!(again.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&again.stderr).contains("--resume"));

    // --resume: everything of shard 1 is done, except a report deleted since.
    let m1 = std::fs::read_to_string(out.join("manifest.shard-1-of-3.jsonl")).unwrap();
    let first = jsonl(m1.as_bytes())[0].clone();
    std::fs::remove_file(out.join(first["report"].as_str().unwrap())).unwrap();
    let resumed = run(&[
        "analyze", "-o", &outs, "--shard", "1/3", "--resume", &corpus,
    ]);
    assert_eq!(resumed.status.code(), Some(0));
    let err = String::from_utf8_lossy(&resumed.stderr);
    let done = jsonl(m1.as_bytes()).len() - 1;
    assert!(
        err.contains(&format!("1 analyzed, {done} already done (--resume), ")),
        "{err}"
    );
    assert!(out.join(first["report"].as_str().unwrap()).is_file());
    assert!(
        err.contains("class ") && err.contains("rst_injection"),
        "summary table: {err}"
    );
    let merged_again = run(&["merge", "-q", &out.to_string_lossy()]);
    assert_eq!(merged_again.stdout, single.stdout);
}

/// Writing to a device (`/dev/null`) or a pipe writes in place: tamper must never rename a
/// temporary file over it (as root that would replace the device with a regular file and break
/// every program that uses it), and needs no `--force` for it.
#[cfg(unix)]
#[test]
fn devices_are_written_in_place_not_replaced() {
    use std::os::unix::fs::FileTypeExt;
    let null = std::path::Path::new("/dev/null");
    if !std::fs::metadata(null).is_ok_and(|m| m.file_type().is_char_device()) {
        // Not this test's doing; say so rather than fail on a broken machine.
        eprintln!("SKIPPED devices_are_written_in_place_not_replaced: /dev/null is not a character device here");
        return;
    }
    for args in [
        vec![
            "analyze",
            "-q",
            "-o",
            "/dev/null",
            "--flows",
            "/dev/null",
            "--diagnostics",
            "/dev/null",
        ],
        vec!["flows", "-o", "/dev/null"],
    ] {
        let mut a: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        a.push(fixture(SAMPLE));
        let out = tamper().args(&a).output().unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{a:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let meta = std::fs::metadata(null).unwrap();
        assert!(
            meta.file_type().is_char_device(),
            "/dev/null was replaced by {a:?}"
        );
    }
}

/// A compressed capture that decompresses past `--max-decompressed-bytes` (a compression bomb)
/// stops at the ceiling with an error naming it; what came before is still analyzed, and the
/// exit status says the capture was only partly read.
#[test]
fn a_compression_bomb_stops_at_the_ceiling() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let bomb = dir.path().join("zeros.pcap.gz");
    // A pcap header, then 8 MB of zeros: 524,288 empty records, compressed to a few KB.
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    let mut header = Vec::new();
    header.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
    header.extend_from_slice(&2u16.to_le_bytes());
    header.extend_from_slice(&4u16.to_le_bytes());
    header.extend_from_slice(&[0; 8]);
    header.extend_from_slice(&65_535u32.to_le_bytes());
    header.extend_from_slice(&1u32.to_le_bytes());
    gz.write_all(&header).unwrap();
    gz.write_all(&vec![0u8; 8 << 20]).unwrap();
    std::fs::write(&bomb, gz.finish().unwrap()).unwrap();
    assert!(std::fs::metadata(&bomb).unwrap().len() < 100_000);

    let capped = tamper()
        .args(["analyze", "-o", "-", "--max-decompressed-bytes", "1000000"])
        .arg(&bomb)
        .output()
        .unwrap();
    assert_eq!(capped.status.code(), Some(1));
    let err = String::from_utf8_lossy(&capped.stderr);
    assert!(
        err.contains("partly read")
            && err.contains("more than 1000000 bytes")
            && err.contains("--max-decompressed-bytes"),
        "{err}"
    );
    // Under the default ceiling the same file is read to its end.
    let whole = tamper()
        .args(["analyze", "-q", "-o", "-"])
        .arg(&bomb)
        .output()
        .unwrap();
    assert_eq!(
        whole.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&whole.stderr)
    );
}

/// The progress bar is for a person at a terminal: with standard error redirected (scripts,
/// CI, this test) nothing but the closing summary is written there.
#[test]
fn no_progress_bar_when_standard_error_is_not_a_terminal() {
    let out = tamper()
        .args(["analyze", "--format", "jsonl", "--output", "-"])
        .arg(common::root().join("fixtures/sample/incident.pcapng"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains('\r') && !err.contains("\u{1b}["), "{err:?}");
    assert!(!err.contains(" left"), "{err:?}");
}
