//! The regression bench over the real corpus: what tamper says about every capture in
//! `../shared/corpus` must match `tests/corpus/expected-findings.jsonl`, checked through
//! `tamper check` exactly as a maintainer runs it, so that any change shows up in review.
//!
//! Without the corpus (a fresh clone) the comparison prints SKIPPED and passes; the
//! justification check runs everywhere.

mod common;

use std::process::Command;

use assert_cmd::cargo::CommandCargoExt;

const EXPECTATION: &str = "tests/corpus/expected-findings.jsonl";

#[test]
fn corpus_findings_match_the_committed_expectation() {
    let Some(corpus) = common::corpus_dir() else {
        common::skip_without_corpus("corpus_findings_match_the_committed_expectation");
        return;
    };
    let out = Command::cargo_bin("tamper")
        .unwrap()
        .args(["check", "--expect"])
        .arg(common::root().join(EXPECTATION))
        .arg(&corpus)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "tamper's findings on the real corpus changed:\n{}\n{}\nIf the change is intended, review it and run: \
         cargo run --release -- check --update --expect {EXPECTATION} ../shared/corpus",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Every capture the expectation says shows interference (any finding) carries a `why`: the
/// upstream ground truth it rests on. Benign captures need none.
#[test]
fn every_interference_expectation_is_justified() {
    let text = std::fs::read_to_string(common::root().join(EXPECTATION)).unwrap();
    let mut unjustified = Vec::new();
    let mut with_findings = 0;
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        if v["record"] != "capture" || v["findings"].as_u64().unwrap_or(0) == 0 {
            continue;
        }
        with_findings += 1;
        let why = v["why"].as_str().unwrap_or("").trim();
        if why.len() < 20 {
            unjustified.push(v["capture"].as_str().unwrap_or("?").to_string());
        }
    }
    assert!(
        with_findings > 10,
        "the expectation covers the corpus's interference captures"
    );
    assert!(
        unjustified.is_empty(),
        "captures with findings but no justification (`why`): {unjustified:#?}"
    );
}
