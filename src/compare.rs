//! Compares what two runs found (expectation files and JSON Lines reports) and lists what
//! appeared, disappeared or changed, capture by capture and flow by flow; it never analyzes a
//! capture itself and never looks at the wording of summaries or evidence.
//!
//! The expectation format (`docs/regression.md`) is the JSON Lines finding contract reduced to
//! the fields a change in analysis shows up in: `capture`, `class`, `kind`, `confidence`,
//! `flow` (`proto`, `client`, `server`), `frames` and `trigger`, plus an optional `why` that
//! a maintainer writes to justify the finding (kept by `--update`, never compared). Each
//! capture also gets a `{"record":"capture"}` line with its read status and finding count, so
//! that "no findings" and "not analyzed" are told apart.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{self, BufRead, Write};
use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::report::{CaptureReport, CaptureStatus};

/// The flow a finding is about, as the contract writes it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct FlowKey {
    /// `tcp`, `udp`, `icmp`...
    pub proto: String,
    /// Client endpoint, "ip:port".
    pub client: String,
    /// Server endpoint, "ip:port".
    pub server: String,
}

/// What set a finding off, reduced to what is compared.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct TriggerKey {
    /// `tls_sni`, `http_host`, `dns_qname`...
    pub kind: String,
    /// The name.
    pub value: String,
}

/// One expected finding.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Expected {
    /// Capture name (see [`capture_names`]).
    pub capture: String,
    /// Finding class.
    pub class: String,
    /// Finding kind.
    pub kind: String,
    /// Confidence.
    pub confidence: String,
    /// The flow.
    pub flow: FlowKey,
    /// Cited frames.
    pub frames: Vec<u64>,
    /// The trigger, when the finding has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trigger: Option<TriggerKey>,
    /// A maintainer's justification (upstream ground truth); never compared.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub why: Option<String>,
}

impl Expected {
    fn sort_key(&self) -> (&FlowKey, &str, &str, &[u64]) {
        (&self.flow, &self.class, &self.kind, &self.frames)
    }

    /// The fields that differ from `other`, as "field: before -> after" phrases.
    fn differences(&self, after: &Expected) -> Vec<String> {
        let mut d = Vec::new();
        if self.class != after.class {
            d.push(format!("class {} -> {}", self.class, after.class));
        }
        if self.kind != after.kind {
            d.push(format!("kind {} -> {}", self.kind, after.kind));
        }
        if self.confidence != after.confidence {
            d.push(format!(
                "confidence {} -> {}",
                self.confidence, after.confidence
            ));
        }
        if self.frames != after.frames {
            d.push(format!(
                "frames {} -> {}",
                frames(&self.frames),
                frames(&after.frames)
            ));
        }
        if self.trigger != after.trigger {
            d.push(format!(
                "trigger {} -> {}",
                trigger(&self.trigger),
                trigger(&after.trigger)
            ));
        }
        d
    }

    fn one_line(&self) -> String {
        let mut s = format!(
            "{}/{} {} {} {} -> {} frames {}",
            self.class,
            self.kind,
            self.confidence,
            self.flow.proto,
            self.flow.client,
            self.flow.server,
            frames(&self.frames)
        );
        if self.trigger.is_some() {
            let _ = write!(s, " trigger {}", trigger(&self.trigger));
        }
        s
    }
}

fn frames(f: &[u64]) -> String {
    let parts: Vec<String> = f.iter().map(u64::to_string).collect();
    format!("[{}]", parts.join(","))
}

fn trigger(t: &Option<TriggerKey>) -> String {
    match t {
        Some(t) => format!("{}={}", t.kind, t.value),
        None => "none".into(),
    }
}

/// What is known of one capture in a run.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CaptureExpect {
    /// `complete`, `partial` or `failed`; `None` when the source had no capture record (a
    /// findings-only report).
    pub status: Option<String>,
    /// Its findings, sorted by flow, class, kind and frames.
    pub findings: Vec<Expected>,
    /// A maintainer's note on the capture as a whole (upstream ground truth); never compared.
    pub why: Option<String>,
}

/// Everything a run found, by capture name.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Expectation {
    /// Captures by name.
    pub captures: BTreeMap<String, CaptureExpect>,
}

#[derive(Serialize, Deserialize)]
struct CaptureLine {
    record: String,
    capture: String,
    status: String,
    findings: usize,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    why: Option<String>,
}

/// Why a file could not be read as findings.
#[derive(Debug, thiserror::Error)]
pub enum CompareError {
    /// The file could not be opened or read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The cause.
        source: io::Error,
    },
    /// A line is not a finding, capture record or other known record.
    #[error("{path}, line {line}: {message}")]
    Line {
        /// The file.
        path: String,
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        message: String,
    },
}

impl Expectation {
    /// Builds the expectation of analyzed captures; `names[i]` replaces the name of
    /// `captures[i]` (see [`capture_names`]).
    pub fn from_captures(captures: &[CaptureReport], names: &[String]) -> Expectation {
        let mut e = Expectation::default();
        for (c, name) in captures.iter().zip(names) {
            let status = match c.status {
                CaptureStatus::Complete => "complete",
                CaptureStatus::Partial { .. } => "partial",
                CaptureStatus::Failed { .. } => "failed",
            };
            let findings = c
                .findings
                .iter()
                .map(|f| Expected {
                    capture: name.clone(),
                    class: f.class.to_string(),
                    kind: f.kind.to_string(),
                    confidence: f.confidence.to_string(),
                    flow: FlowKey {
                        proto: f.flow.proto.to_string(),
                        client: f.flow.client.to_string(),
                        server: f.flow.server.to_string(),
                    },
                    frames: f.frames.iter().map(|n| n.get()).collect(),
                    trigger: f.trigger.as_ref().map(|t| TriggerKey {
                        kind: t.kind.to_string(),
                        value: t.value.clone(),
                    }),
                    why: None,
                })
                .collect();
            e.insert_capture(name.clone(), Some(status.to_string()), findings);
        }
        e
    }

    fn insert_capture(&mut self, name: String, status: Option<String>, findings: Vec<Expected>) {
        let entry = self.captures.entry(name).or_default();
        if status.is_some() {
            entry.status = status;
        }
        entry.findings.extend(findings);
        entry
            .findings
            .sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    }

    /// Reads an expectation file or a JSON Lines report (`tamper analyze --format jsonl`, with
    /// or without `--diagnostics` records mixed in). Flow records and diagnostics are skipped;
    /// findings and capture records are kept. `-` reads standard input.
    pub fn read(path: &Path) -> Result<Expectation, CompareError> {
        let shown = path.display().to_string();
        let io_err = |source| CompareError::Io {
            path: shown.clone(),
            source,
        };
        let reader: Box<dyn BufRead> = if path == Path::new("-") {
            Box::new(io::BufReader::new(io::stdin()))
        } else {
            Box::new(io::BufReader::new(
                std::fs::File::open(path).map_err(io_err)?,
            ))
        };
        let mut e = Expectation::default();
        let mut counted: BTreeMap<String, usize> = BTreeMap::new();
        for (i, line) in reader.lines().enumerate() {
            let line = line.map_err(io_err)?;
            let bad = |message: String| CompareError::Line {
                path: shown.clone(),
                line: i + 1,
                message,
            };
            let text = line.trim();
            if text.is_empty() {
                continue;
            }
            let v: Value =
                serde_json::from_str(text).map_err(|err| bad(format!("not JSON: {err}")))?;
            match v.get("record").and_then(Value::as_str) {
                Some("capture") => {
                    let capture = v
                        .get("capture")
                        .and_then(Value::as_str)
                        .ok_or_else(|| bad("capture record without a capture name".into()))?;
                    let status = v
                        .get("status")
                        .and_then(Value::as_str)
                        .ok_or_else(|| bad("capture record without a status".into()))?;
                    if let Some(n) = v.get("findings").and_then(Value::as_u64) {
                        counted.insert(capture.to_string(), n as usize);
                    }
                    e.insert_capture(capture.to_string(), Some(status.to_string()), Vec::new());
                    if let Some(why) = v.get("why").and_then(Value::as_str) {
                        if let Some(c) = e.captures.get_mut(capture) {
                            c.why = Some(why.to_string());
                        }
                    }
                    continue;
                }
                Some(_) => continue, // diagnostics and other records
                None => {}
            }
            if v.get("class").is_none() {
                continue; // a flow record
            }
            let f: Expected = serde_json::from_value(reduce(&v))
                .map_err(|err| bad(format!("not a finding: {err}")))?;
            e.insert_capture(f.capture.clone(), None, vec![f]);
        }
        for (name, n) in counted {
            let have = e.captures.get(&name).map_or(0, |c| c.findings.len());
            if have != n {
                return Err(CompareError::Line {
                    path: shown,
                    line: 0,
                    message: format!(
                        "the capture record of {name} counts {n} finding(s) but the file holds {have}"
                    ),
                });
            }
        }
        Ok(e)
    }

    /// Writes the expectation: per capture, its record, then its findings.
    pub fn write(&self, out: &mut dyn Write) -> io::Result<()> {
        for (name, c) in &self.captures {
            let rec = CaptureLine {
                record: "capture".into(),
                capture: name.clone(),
                status: c.status.clone().unwrap_or_else(|| "complete".into()),
                findings: c.findings.len(),
                why: c.why.clone(),
            };
            serde_json::to_writer(&mut *out, &rec).map_err(io::Error::other)?;
            out.write_all(b"\n")?;
            for f in &c.findings {
                serde_json::to_writer(&mut *out, f).map_err(io::Error::other)?;
                out.write_all(b"\n")?;
            }
        }
        Ok(())
    }

    /// Copies each `why` of `old` onto the finding of `self` it pairs with.
    pub fn keep_justifications(&mut self, old: &Expectation) {
        for (name, c) in self.captures.iter_mut() {
            let Some(o) = old.captures.get(name) else {
                continue;
            };
            if c.why.is_none() {
                c.why = o.why.clone();
            }
            for (before, after) in pair(&o.findings, &c.findings).matched {
                if c.findings[after].why.is_none() {
                    c.findings[after].why = o.findings[before].why.clone();
                }
            }
        }
    }
}

/// Keeps the compared fields of a full finding object (and `why` when present).
fn reduce(v: &Value) -> Value {
    let mut out = serde_json::Map::new();
    for k in ["capture", "class", "kind", "confidence", "frames", "why"] {
        if let Some(x) = v.get(k) {
            out.insert(k.into(), x.clone());
        }
    }
    if let Some(flow) = v.get("flow") {
        let mut f = serde_json::Map::new();
        for k in ["proto", "client", "server"] {
            if let Some(x) = flow.get(k) {
                f.insert(k.into(), x.clone());
            }
        }
        out.insert("flow".into(), Value::Object(f));
    }
    if let Some(t) = v.get("trigger").filter(|t| !t.is_null()) {
        let mut m = serde_json::Map::new();
        for k in ["kind", "value"] {
            if let Some(x) = t.get(k) {
                m.insert(k.into(), x.clone());
            }
        }
        out.insert("trigger".into(), Value::Object(m));
    }
    Value::Object(out)
}

/// One difference between two runs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "change", rename_all = "snake_case")]
pub enum Change {
    /// Expected, but the capture was not in the new run.
    CaptureMissing {
        /// The capture.
        capture: String,
    },
    /// In the new run, but not expected.
    CaptureNew {
        /// The capture.
        capture: String,
        /// Its status.
        status: Option<String>,
    },
    /// The capture was read differently (complete, partial, failed).
    StatusChanged {
        /// The capture.
        capture: String,
        /// Before.
        before: String,
        /// After.
        after: String,
    },
    /// A finding the new run has and the old did not.
    Appeared {
        /// The finding.
        finding: Expected,
    },
    /// A finding the old run had and the new does not.
    Disappeared {
        /// The finding.
        finding: Expected,
    },
    /// A finding on the same flow whose class, kind, confidence, frames or trigger changed.
    Changed {
        /// Before.
        before: Box<Expected>,
        /// After.
        after: Box<Expected>,
        /// What changed, as "field before -> after" phrases.
        what: Vec<String>,
    },
}

impl Change {
    /// The capture it concerns.
    pub fn capture(&self) -> &str {
        match self {
            Change::CaptureMissing { capture }
            | Change::CaptureNew { capture, .. }
            | Change::StatusChanged { capture, .. } => capture,
            Change::Appeared { finding } | Change::Disappeared { finding } => &finding.capture,
            Change::Changed { after, .. } => &after.capture,
        }
    }
}

struct Pairing {
    /// (index in old, index in new) of paired findings.
    matched: Vec<(usize, usize)>,
    old_only: Vec<usize>,
    new_only: Vec<usize>,
}

/// Pairs the findings of one capture: identical ones first, then same flow and kind, then
/// same flow and class, then any two left on the same flow.
fn pair(old: &[Expected], new: &[Expected]) -> Pairing {
    let mut old_used = vec![false; old.len()];
    let mut new_used = vec![false; new.len()];
    let mut matched = Vec::new();
    type Same = fn(&Expected, &Expected) -> bool;
    let rules: [Same; 4] = [
        |a, b| a.differences(b).is_empty() && a.flow == b.flow,
        |a, b| a.flow == b.flow && a.kind == b.kind,
        |a, b| a.flow == b.flow && a.class == b.class,
        |a, b| a.flow == b.flow,
    ];
    for rule in rules {
        for (i, a) in old.iter().enumerate() {
            if old_used[i] {
                continue;
            }
            if let Some(j) = (0..new.len()).find(|&j| !new_used[j] && rule(a, &new[j])) {
                old_used[i] = true;
                new_used[j] = true;
                matched.push((i, j));
            }
        }
    }
    matched.sort_unstable();
    Pairing {
        matched,
        old_only: (0..old.len()).filter(|&i| !old_used[i]).collect(),
        new_only: (0..new.len()).filter(|&j| !new_used[j]).collect(),
    }
}

/// How to treat captures that only one side has.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CompareOptions {
    /// Expected captures that the new run did not analyze are not differences (checking a
    /// subset, or one shard, of a corpus).
    pub subset: bool,
}

/// Every difference from `old` to `new`, by capture name, then flow.
pub fn compare(old: &Expectation, new: &Expectation, opts: CompareOptions) -> Vec<Change> {
    let mut out = Vec::new();
    let names: std::collections::BTreeSet<&String> =
        old.captures.keys().chain(new.captures.keys()).collect();
    for name in names {
        let (o, n) = match (old.captures.get(name), new.captures.get(name)) {
            (Some(o), Some(n)) => (o, n),
            (Some(_), None) => {
                if !opts.subset {
                    out.push(Change::CaptureMissing {
                        capture: name.clone(),
                    });
                }
                continue;
            }
            (None, Some(n)) => {
                out.push(Change::CaptureNew {
                    capture: name.clone(),
                    status: n.status.clone(),
                });
                let empty = CaptureExpect::default();
                push_findings(&empty, n, &mut out);
                continue;
            }
            (None, None) => continue,
        };
        if let (Some(a), Some(b)) = (&o.status, &n.status) {
            if a != b {
                out.push(Change::StatusChanged {
                    capture: name.clone(),
                    before: a.clone(),
                    after: b.clone(),
                });
            }
        }
        push_findings(o, n, &mut out);
    }
    out
}

fn push_findings(o: &CaptureExpect, n: &CaptureExpect, out: &mut Vec<Change>) {
    let p = pair(&o.findings, &n.findings);
    let mut items: Vec<(&FlowKey, Change)> = Vec::new();
    for &(i, j) in &p.matched {
        let (a, b) = (&o.findings[i], &n.findings[j]);
        let what = a.differences(b);
        if !what.is_empty() {
            items.push((
                &b.flow,
                Change::Changed {
                    before: Box::new(a.clone()),
                    after: Box::new(b.clone()),
                    what,
                },
            ));
        }
    }
    for &i in &p.old_only {
        let f = &o.findings[i];
        items.push((&f.flow, Change::Disappeared { finding: f.clone() }));
    }
    for &j in &p.new_only {
        let f = &n.findings[j];
        items.push((&f.flow, Change::Appeared { finding: f.clone() }));
    }
    // Stable: within a flow, the order above (changed, disappeared, appeared) is kept.
    items.sort_by(|a, b| a.0.cmp(b.0));
    out.extend(items.into_iter().map(|(_, c)| c));
}

/// Writes the changes for people: one block per capture, one line per change, then a count.
pub fn write_text(changes: &[Change], out: &mut dyn Write) -> io::Result<()> {
    let mut current: Option<&str> = None;
    for c in changes {
        if current != Some(c.capture()) {
            current = Some(c.capture());
            writeln!(out, "{}", c.capture())?;
        }
        match c {
            Change::CaptureMissing { .. } => {
                writeln!(out, "  - capture expected but not analyzed in this run")?
            }
            Change::CaptureNew { status, .. } => writeln!(
                out,
                "  + capture not in the expectation ({})",
                status.as_deref().unwrap_or("findings only")
            )?,
            Change::StatusChanged { before, after, .. } => {
                writeln!(out, "  ~ read status {before} -> {after}")?
            }
            Change::Appeared { finding } => writeln!(out, "  + {}", finding.one_line())?,
            Change::Disappeared { finding } => writeln!(out, "  - {}", finding.one_line())?,
            Change::Changed { before, what, .. } => writeln!(
                out,
                "  ~ {}/{} {} {} -> {}: {}",
                before.class,
                before.kind,
                before.flow.proto,
                before.flow.client,
                before.flow.server,
                what.join("; ")
            )?,
        }
    }
    let captures: std::collections::BTreeSet<&str> = changes.iter().map(Change::capture).collect();
    if changes.is_empty() {
        writeln!(out, "no differences")?;
    } else {
        writeln!(
            out,
            "{} difference(s) in {} capture(s)",
            changes.len(),
            captures.len()
        )?;
    }
    Ok(())
}

/// Writes the changes as JSON Lines, one object per change (`change` says which).
pub fn write_jsonl(changes: &[Change], out: &mut dyn Write) -> io::Result<()> {
    for c in changes {
        serde_json::to_writer(&mut *out, c).map_err(io::Error::other)?;
        out.write_all(b"\n")?;
    }
    Ok(())
}

/// Names that do not depend on where a corpus is checked out: for a capture found under a
/// directory argument, its path below that directory (with `/` separators); for a file
/// argument, its file name; `-` stays `-`. Fails when two captures get the same name.
pub fn capture_names(
    args: &[String],
    inputs: &[crate::capture::InputSource],
) -> Result<Vec<String>, String> {
    use crate::capture::InputSource;
    let dirs = InputSource::dir_args(args);
    let mut names = Vec::with_capacity(inputs.len());
    let mut seen = std::collections::BTreeSet::new();
    for input in inputs {
        let name = input.name_below(&dirs);
        if !seen.insert(name.clone()) {
            return Err(format!(
                "two captures would both be named {name} in the expectation: pass the directory that holds them instead of the files"
            ));
        }
        names.push(name);
    }
    Ok(names)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(capture: &str, client: &str, kind: &str, conf: &str, frames: &[u64]) -> Expected {
        Expected {
            capture: capture.into(),
            class: if kind.starts_with("dns") {
                "dns_injection".into()
            } else {
                "rst_injection".into()
            },
            kind: kind.into(),
            confidence: conf.into(),
            flow: FlowKey {
                proto: "tcp".into(),
                client: client.into(),
                server: "192.0.2.1:443".into(),
            },
            frames: frames.to_vec(),
            trigger: Some(TriggerKey {
                kind: "tls_sni".into(),
                value: "blocked.example".into(),
            }),
            why: None,
        }
    }

    fn exp(status: &str, findings: Vec<Expected>) -> Expectation {
        let mut e = Expectation::default();
        let name = findings
            .first()
            .map(|f| f.capture.clone())
            .unwrap_or_else(|| "a.pcap".into());
        e.insert_capture(name, Some(status.into()), findings);
        e
    }

    #[test]
    fn identical_runs_have_no_differences() {
        let a = exp(
            "complete",
            vec![f(
                "a.pcap",
                "10.0.0.1:1",
                "tcp_rst_injected",
                "high",
                &[3, 4],
            )],
        );
        assert!(compare(&a, &a.clone(), CompareOptions::default()).is_empty());
    }

    #[test]
    fn confidence_and_frames_changes_are_one_change() {
        let a = exp(
            "complete",
            vec![f(
                "a.pcap",
                "10.0.0.1:1",
                "tcp_rst_injected",
                "high",
                &[3, 4],
            )],
        );
        let b = exp(
            "complete",
            vec![f(
                "a.pcap",
                "10.0.0.1:1",
                "tcp_rst_injected",
                "medium",
                &[3, 5],
            )],
        );
        let c = compare(&a, &b, CompareOptions::default());
        assert_eq!(c.len(), 1);
        match &c[0] {
            Change::Changed { what, .. } => {
                assert_eq!(
                    what,
                    &vec![
                        "confidence high -> medium".to_string(),
                        "frames [3,4] -> [3,5]".to_string()
                    ]
                );
            }
            other => panic!("expected a change, got {other:?}"),
        }
    }

    #[test]
    fn findings_on_other_flows_appear_and_disappear() {
        let a = exp(
            "complete",
            vec![f("a.pcap", "10.0.0.1:1", "tcp_rst_injected", "high", &[3])],
        );
        let b = exp(
            "complete",
            vec![f("a.pcap", "10.0.0.2:1", "tcp_rst_injected", "high", &[3])],
        );
        let c = compare(&a, &b, CompareOptions::default());
        assert!(matches!(c[0], Change::Disappeared { .. }), "{c:?}");
        assert!(matches!(c[1], Change::Appeared { .. }), "{c:?}");
        assert_eq!(c.len(), 2);
    }

    #[test]
    fn a_class_change_on_the_same_flow_is_reported_as_such() {
        let a = exp(
            "complete",
            vec![f("a.pcap", "10.0.0.1:1", "tcp_rst_injected", "high", &[3])],
        );
        let b = exp(
            "complete",
            vec![f("a.pcap", "10.0.0.1:1", "dns_answer_race", "high", &[3])],
        );
        let c = compare(&a, &b, CompareOptions::default());
        assert_eq!(c.len(), 1);
        let Change::Changed { what, .. } = &c[0] else {
            panic!("{c:?}")
        };
        assert!(
            what[0].starts_with("class rst_injection -> dns_injection"),
            "{what:?}"
        );
    }

    #[test]
    fn missing_captures_count_unless_checking_a_subset() {
        let a = exp(
            "complete",
            vec![f("a.pcap", "10.0.0.1:1", "tcp_rst_injected", "high", &[3])],
        );
        let b = Expectation::default();
        assert_eq!(
            compare(&a, &b, CompareOptions::default()),
            vec![Change::CaptureMissing {
                capture: "a.pcap".into()
            }]
        );
        assert!(compare(&a, &b, CompareOptions { subset: true }).is_empty());
    }

    #[test]
    fn status_changes_are_differences() {
        let a = exp("complete", vec![]);
        let b = exp("partial", vec![]);
        assert_eq!(compare(&a, &b, CompareOptions::default()).len(), 1);
    }

    #[test]
    fn written_expectations_read_back_and_keep_justifications() {
        let mut a = exp(
            "complete",
            vec![
                f("a.pcap", "10.0.0.1:1", "tcp_rst_injected", "high", &[3]),
                f("a.pcap", "10.0.0.1:2", "tcp_rst_injected", "low", &[7]),
            ],
        );
        a.captures.get_mut("a.pcap").unwrap().findings[0].why =
            Some("upstream README: reset after the SNI".into());
        a.captures.get_mut("a.pcap").unwrap().why = Some("lab capture of a censor".into());
        let mut buf = Vec::new();
        a.write(&mut buf).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("e.jsonl");
        std::fs::write(&p, &buf).unwrap();
        let back = Expectation::read(&p).unwrap();
        assert_eq!(back, a);
        // An update that changes the confidence keeps the justification of the paired finding.
        let mut b = exp(
            "complete",
            vec![
                f("a.pcap", "10.0.0.1:1", "tcp_rst_injected", "medium", &[3]),
                f("a.pcap", "10.0.0.1:2", "tcp_rst_injected", "low", &[7]),
            ],
        );
        b.keep_justifications(&back);
        let fs = &b.captures["a.pcap"].findings;
        assert_eq!(
            fs[0].why.as_deref(),
            Some("upstream README: reset after the SNI")
        );
        assert_eq!(fs[1].why, None);
        assert_eq!(
            b.captures["a.pcap"].why.as_deref(),
            Some("lab capture of a censor")
        );
    }

    #[test]
    fn a_capture_record_that_disagrees_with_its_findings_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("e.jsonl");
        std::fs::write(
            &p,
            "{\"record\":\"capture\",\"capture\":\"a.pcap\",\"status\":\"complete\",\"findings\":2}\n",
        )
        .unwrap();
        let err = Expectation::read(&p).unwrap_err().to_string();
        assert!(err.contains("counts 2 finding(s)"), "{err}");
    }

    #[test]
    fn full_report_lines_reduce_to_the_compared_fields() {
        let line = r#"{"id":"F1-1","capture":"x.pcap","class":"rst_injection","kind":"tcp_rst_injected","confidence":"high","flow":{"proto":"tcp","client":"1.1.1.1:1","server":"2.2.2.2:80","id":"1"},"frames":[1,5],"ts":"2024-05-14T09:30:00.000000000Z","summary":"s","trigger":{"kind":"http_host","value":"b.example","frame":4},"evidence":[],"detector":"rst_injection","wireshark_filter":"frame.number in {1 5}"}"#;
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("r.jsonl");
        std::fs::write(&p, format!("{line}\n\n")).unwrap();
        let e = Expectation::read(&p).unwrap();
        let c = &e.captures["x.pcap"];
        assert_eq!(c.status, None);
        assert_eq!(c.findings[0].frames, vec![1, 5]);
        assert_eq!(c.findings[0].trigger.as_ref().unwrap().value, "b.example");
    }
}
