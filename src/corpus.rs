//! Corpus runs: one report per capture into a directory, a run manifest written as captures
//! finish, `--resume`, deterministic shards for job arrays, and `merge` of shard outputs into
//! one report; it runs the pipeline per capture and adds no analysis of its own.
//!
//! `docs/scale.md` is the user's guide. The manifest is a journal: one JSON line per finished
//! capture, appended and flushed as soon as the capture's report has been renamed into place,
//! so that a run killed half-way (a pre-empted cluster job) leaves a manifest that says
//! exactly which reports are complete and `--resume` can go on from there.

use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Instant;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::capture::InputSource;
use crate::pipeline::{self, Options};
use crate::report::{AtomicFile, CaptureReport, CaptureStatus, Report, ReportFormat, SourceFacts};

/// One of `count` deterministic parts of an input list (`--shard K/N`, `K` from 0).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    /// This part, `0..count`.
    pub index: u32,
    /// How many parts.
    pub count: u32,
}

impl std::str::FromStr for Shard {
    type Err = String;

    fn from_str(s: &str) -> Result<Shard, String> {
        let (k, n) = s
            .split_once('/')
            .ok_or_else(|| format!("`{s}` is not K/N (for example 0/4)"))?;
        let index: u32 = k
            .trim()
            .parse()
            .map_err(|_| format!("`{k}` is not a shard number"))?;
        let count: u32 = n
            .trim()
            .parse()
            .map_err(|_| format!("`{n}` is not a shard count"))?;
        if count == 0 || index >= count {
            return Err(format!(
                "shard {index}/{count}: K counts from 0 and must be below N (0/{count} to {}/{count})",
                count.saturating_sub(1)
            ));
        }
        Ok(Shard { index, count })
    }
}

impl Shard {
    /// True when the capture named `name` (its name in the corpus, see [`corpus_names`]) is
    /// in this shard. The choice depends only on the name, so it does not change when the
    /// input list is reordered or other captures are added.
    pub fn takes(&self, name: &str) -> bool {
        let d = Sha256::digest(name.as_bytes());
        let mut b = [0u8; 8];
        b.copy_from_slice(&d[..8]);
        u64::from_be_bytes(b) % u64::from(self.count) == u64::from(self.index)
    }

    fn file_suffix(&self) -> String {
        format!(".shard-{}-of-{}", self.index, self.count)
    }
}

/// [`InputSource::name_below`] the directory arguments, for every input; a name already taken gets `.2`, `.3`... after it.
pub fn corpus_names(args: &[String], inputs: &[InputSource]) -> Vec<String> {
    let dirs = InputSource::dir_args(args);
    let mut seen = BTreeMap::<String, usize>::new();
    inputs
        .iter()
        .map(|i| {
            let base = match i.name_below(&dirs) {
                n if n == "-" => "stdin".to_string(),
                n => n,
            };
            let n = seen.entry(base.clone()).or_insert(0);
            *n += 1;
            if *n == 1 {
                base
            } else {
                format!("{base}.{n}")
            }
        })
        .collect()
}

/// One finished capture, as the manifest records it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ManifestEntry {
    /// The capture's name in the corpus (path below the directory given).
    pub capture: String,
    /// The input path as given on the command line.
    pub input: String,
    /// File size in bytes (as stored, before decompression).
    pub size: u64,
    /// Modification time, nanoseconds since the Unix epoch, when the file system has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mtime_ns: Option<u128>,
    /// SHA-256 of the file as stored, hex.
    pub sha256: String,
    /// `complete`, `partial` or `failed`.
    pub status: String,
    /// Why reading stopped or failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Frames read.
    pub frames: u64,
    /// Findings reported.
    pub findings: usize,
    /// Findings per class.
    pub by_class: BTreeMap<String, usize>,
    /// Warning and error diagnostics (counted occurrences).
    pub problems: u64,
    /// Wall-clock seconds the analysis took (hashing included).
    pub seconds: f64,
    /// The report file, relative to the output directory.
    pub report: String,
    /// The tool that made it, `tamper <version>`.
    pub tool: String,
    /// A digest of the options that change results (format, limits, fingerprint files).
    pub options: String,
}

/// Reads every `manifest*.jsonl` in `dir`; a last line cut short by an interrupted run is
/// skipped. Later entries for the same capture replace earlier ones.
pub fn read_manifests(dir: &Path) -> io::Result<BTreeMap<String, ManifestEntry>> {
    let mut out = BTreeMap::new();
    let mut files: Vec<PathBuf> = match fs::read_dir(dir) {
        Ok(rd) => rd
            .flatten()
            .map(|e| e.path())
            .filter(|p| {
                p.file_name().and_then(|n| n.to_str()).is_some_and(|n| {
                    n.starts_with("manifest") && n.ends_with(".jsonl") && !n.starts_with('.')
                })
            })
            .collect(),
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(out),
        Err(e) => return Err(e),
    };
    files.sort();
    for f in files {
        for line in BufReader::new(File::open(&f)?).lines() {
            let line = line?;
            if let Ok(e) = serde_json::from_str::<ManifestEntry>(&line) {
                out.insert(e.capture.clone(), e);
            }
        }
    }
    Ok(out)
}

/// How a corpus run is set up.
pub struct RunConfig<'a> {
    /// The command-line arguments the inputs came from.
    pub args: &'a [String],
    /// The expanded inputs.
    pub inputs: &'a [InputSource],
    /// Output directory.
    pub dir: &'a Path,
    /// Report format.
    pub format: ReportFormat,
    /// Analysis options.
    pub options: &'a Options,
    /// Digest of the options that change results.
    pub options_digest: String,
    /// Only this part of the inputs.
    pub shard: Option<Shard>,
    /// Skip captures the manifest already has with the same tool, options, size and time.
    pub resume: bool,
    /// Overwrite existing reports and manifest.
    pub force: bool,
    /// Keep flows and diagnostics of every capture for `--flows` / `--diagnostics`.
    pub keep_details: bool,
}

/// What a corpus run did.
pub struct RunOutcome {
    /// Every entry of this run's manifest (kept from before and new), by capture name.
    pub entries: BTreeMap<String, ManifestEntry>,
    /// Captures analyzed in this run.
    pub analyzed: usize,
    /// Captures skipped by `--resume`.
    pub resumed: usize,
    /// Captures left to other shards.
    pub other_shards: usize,
    /// With `keep_details`: the analyzed captures' reports (findings, flows, diagnostics), in
    /// input order.
    pub details: Vec<CaptureReport>,
    /// Any capture could not be read completely.
    pub incomplete: bool,
    /// Captures left unfinished because the run was interrupted (Ctrl-C), in input order,
    /// with how far each got; they have no report and no manifest line.
    pub interrupted: Vec<(String, String)>,
}

/// Why a corpus run could not go on.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// A report or the manifest exists and neither `--force` nor `--resume` was given.
    #[error("{0} already exists: pass --resume to go on with an interrupted run, or --force to start again")]
    Exists(PathBuf),
    /// Writing failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: io::Error,
    },
    /// Writing a report failed.
    #[error(transparent)]
    Output(#[from] crate::report::OutputError),
}

fn io_at(path: &Path) -> impl FnOnce(io::Error) -> RunError + '_ {
    move |source| RunError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// The SHA-256 (hex), size and modification time of a file.
fn file_facts(path: &Path) -> io::Result<(String, u64, Option<u128>)> {
    let meta = fs::metadata(path)?;
    let mtime = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map(|d| d.as_nanos());
    let mut h = Sha256::new();
    let mut f = File::open(path)?;
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok((hex(&h.finalize()), meta.len(), mtime))
}

/// The size and SHA-256 of a file as stored (the bytes on disk, compressed or not), for
/// reports that name their input.
pub fn source_facts(path: &Path) -> io::Result<SourceFacts> {
    let (sha256, size, _) = file_facts(path)?;
    Ok(SourceFacts { size, sha256 })
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A short digest of a description of the options that change results.
pub fn options_digest(description: &str) -> String {
    hex(&Sha256::digest(description.as_bytes())[..8])
}

/// The tool name recorded in manifests.
pub fn tool() -> String {
    format!("tamper {}", env!("CARGO_PKG_VERSION"))
}

/// Runs the corpus: every input of the shard not already done is analyzed on the current
/// rayon pool, its report written (atomically) under `dir` and its manifest line appended.
pub fn run(cfg: &RunConfig<'_>) -> Result<RunOutcome, RunError> {
    let names = corpus_names(cfg.args, cfg.inputs);
    let manifest_path = cfg.dir.join(format!(
        "manifest{}.jsonl",
        cfg.shard.map(|s| s.file_suffix()).unwrap_or_default()
    ));
    let previous = if cfg.resume {
        read_manifests(cfg.dir).map_err(io_at(cfg.dir))?
    } else {
        BTreeMap::new()
    };
    if !cfg.resume && !cfg.force && manifest_path.exists() {
        return Err(RunError::Exists(manifest_path));
    }
    let tool = tool();
    let mut todo = Vec::new();
    let mut kept = BTreeMap::new();
    let mut other_shards = 0;
    for (i, (input, name)) in cfg.inputs.iter().zip(&names).enumerate() {
        if let Some(s) = cfg.shard {
            if !s.takes(name) {
                other_shards += 1;
                continue;
            }
        }
        let report_rel = format!("{name}.tamper.{}", cfg.format.extension());
        if let (Some(prev), InputSource::Path(p)) = (previous.get(name), input) {
            let same_file = fs::metadata(p).ok().is_some_and(|m| {
                m.len() == prev.size
                    && m.modified()
                        .ok()
                        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                        .map(|d| d.as_nanos())
                        == prev.mtime_ns
            });
            if same_file
                && prev.tool == tool
                && prev.options == cfg.options_digest
                && prev.report == report_rel
                && cfg.dir.join(&prev.report).is_file()
            {
                kept.insert(name.clone(), prev.clone());
                continue;
            }
        }
        let report_path = cfg.dir.join(&report_rel);
        if !cfg.force && !cfg.resume && report_path.exists() {
            return Err(RunError::Exists(report_path));
        }
        todo.push((i, input, name.clone(), report_rel));
    }
    // The journal starts with what is kept, written atomically, then grows line by line.
    {
        let mut f = AtomicFile::create(&manifest_path, true)?;
        for e in kept.values() {
            write_line(f.writer(), e).map_err(io_at(&manifest_path))?;
        }
        f.commit()?;
    }
    let journal = OpenOptions::new()
        .append(true)
        .open(&manifest_path)
        .map_err(io_at(&manifest_path))?;
    let journal = Mutex::new(journal);
    let results: Vec<Result<Analyzed, RunError>> = todo
        .par_iter()
        .map(|(_, input, name, report_rel)| {
            let started = Instant::now();
            let facts = match input {
                InputSource::Path(p) => file_facts(p).ok(),
                InputSource::Stdin => None,
            };
            let mut capture = pipeline::analyze_input(input, cfg.options, None);
            // An interrupted capture gets no report and no manifest line: `--resume` will
            // analyze it again.
            if let Some(how_far) = capture.interrupted() {
                return Ok(Analyzed::Interrupted {
                    name: name.clone(),
                    how_far,
                });
            }
            capture.source = facts.as_ref().map(|(sha256, size, _)| SourceFacts {
                size: *size,
                sha256: sha256.clone(),
            });
            let report_path = cfg.dir.join(report_rel);
            if let Some(parent) = report_path.parent() {
                fs::create_dir_all(parent).map_err(io_at(parent))?;
            }
            let single = Report::new(vec![capture]);
            let mut file = AtomicFile::create(&report_path, true)?;
            single
                .write(cfg.format, file.writer())
                .map_err(io_at(&report_path))?;
            file.commit()?;
            let capture = single.captures.into_iter().next().expect("one capture");
            let (sha256, size, mtime_ns) = facts.unwrap_or_default();
            let entry = entry_for(
                &capture,
                name,
                input,
                (sha256, size, mtime_ns),
                started.elapsed().as_secs_f64(),
                report_rel,
                &tool,
                &cfg.options_digest,
            );
            {
                let mut j = journal.lock().unwrap_or_else(|p| p.into_inner());
                write_line(&mut *j, &entry).map_err(io_at(&manifest_path))?;
                j.flush().map_err(io_at(&manifest_path))?;
            }
            let detail = cfg.keep_details.then_some(capture);
            Ok(Analyzed::Done { entry, detail })
        })
        .collect();
    let mut entries = kept;
    let resumed = entries.len();
    let mut details = Vec::new();
    let mut incomplete = false;
    let mut interrupted = Vec::new();
    for r in results {
        let (entry, detail) = match r? {
            Analyzed::Done { entry, detail } => (entry, detail),
            Analyzed::Interrupted { name, how_far } => {
                interrupted.push((name, how_far));
                continue;
            }
        };
        incomplete |= entry.status != "complete";
        entries.insert(entry.capture.clone(), entry);
        details.extend(detail);
    }
    incomplete |= entries.values().any(|e| e.status != "complete");
    Ok(RunOutcome {
        entries,
        analyzed: todo.len() - interrupted.len(),
        resumed,
        other_shards,
        details,
        incomplete,
        interrupted,
    })
}

/// What became of one capture of a corpus run (one per capture, held until the run ends:
/// the size difference between the variants costs nothing worth a box).
#[allow(clippy::large_enum_variant)]
enum Analyzed {
    /// Its report is written and its manifest line added; `detail` with `keep_details`.
    Done {
        entry: ManifestEntry,
        detail: Option<CaptureReport>,
    },
    /// The run was interrupted first: no report, no manifest line.
    Interrupted { name: String, how_far: String },
}

#[allow(clippy::too_many_arguments)]
fn entry_for(
    c: &CaptureReport,
    name: &str,
    input: &InputSource,
    facts: (String, u64, Option<u128>),
    seconds: f64,
    report_rel: &str,
    tool: &str,
    options: &str,
) -> ManifestEntry {
    let (status, reason) = match &c.status {
        CaptureStatus::Complete => ("complete", None),
        CaptureStatus::Partial { reason } => ("partial", Some(reason.clone())),
        CaptureStatus::Failed { error } => ("failed", Some(error.clone())),
    };
    let mut by_class = BTreeMap::new();
    for f in &c.findings {
        *by_class.entry(f.class.to_string()).or_insert(0) += 1;
    }
    ManifestEntry {
        capture: name.to_string(),
        input: input.display_name(),
        size: facts.1,
        mtime_ns: facts.2,
        sha256: facts.0,
        status: status.into(),
        reason,
        frames: c.summary.as_ref().map_or(0, |s| s.frames),
        findings: c.findings.len(),
        by_class,
        problems: c
            .diagnostics
            .iter()
            .filter(|d| d.severity >= crate::diag::Severity::Warning)
            .map(|d| d.count)
            .sum(),
        seconds: (seconds * 1000.0).round() / 1000.0,
        report: report_rel.to_string(),
        tool: tool.to_string(),
        options: options.to_string(),
    }
}

fn write_line<T: Serialize>(out: &mut dyn Write, v: &T) -> io::Result<()> {
    let mut line = serde_json::to_vec(v).map_err(io::Error::other)?;
    line.push(b'\n');
    // One write per line, so that an interrupted run leaves at most one partial line.
    out.write_all(&line)
}

/// The end-of-run table: findings per class, then per capture (captures with findings or
/// problems only), then totals.
pub fn write_summary(
    entries: &BTreeMap<String, ManifestEntry>,
    out: &mut dyn Write,
) -> io::Result<()> {
    let mut classes = BTreeMap::<&str, (usize, usize)>::new();
    for e in entries.values() {
        for (c, n) in &e.by_class {
            let slot = classes.entry(c).or_insert((0, 0));
            slot.0 += n;
            slot.1 += 1;
        }
    }
    writeln!(out, "{:<16} {:>9} {:>9}", "class", "findings", "captures")?;
    for (c, (n, caps)) in &classes {
        writeln!(out, "{c:<16} {n:>9} {caps:>9}")?;
    }
    let shown: Vec<&ManifestEntry> = entries
        .values()
        .filter(|e| e.findings > 0 || e.status != "complete")
        .collect();
    if !shown.is_empty() {
        writeln!(out)?;
        writeln!(
            out,
            "{:<9} {:>8}  {:<40} capture",
            "status", "findings", "by class"
        )?;
        for e in shown {
            let by: Vec<String> = e.by_class.iter().map(|(c, n)| format!("{c} {n}")).collect();
            writeln!(
                out,
                "{:<9} {:>8}  {:<40} {}",
                e.status,
                e.findings,
                by.join(", "),
                e.capture
            )?;
        }
    }
    let total: usize = entries.values().map(|e| e.findings).sum();
    let bytes: u64 = entries.values().map(|e| e.size).sum();
    let incomplete = entries.values().filter(|e| e.status != "complete").count();
    writeln!(
        out,
        "{} capture(s), {} byte(s), {} finding(s), {} not read completely",
        entries.len(),
        bytes,
        total,
        incomplete
    )
}

/// Why shard outputs could not be merged.
#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    /// Reading failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: io::Error,
    },
    /// The directories hold no manifest.
    #[error(
        "no manifest*.jsonl in {0}: merge takes the output directories of `tamper analyze -o DIR`"
    )]
    NoManifest(String),
    /// Runs with different versions or options.
    #[error(
        "{a} and {b} were made with different tool versions or options ({c}); run them again alike"
    )]
    Mixed {
        /// One capture.
        a: String,
        /// Another.
        b: String,
        /// The two settings.
        c: String,
    },
    /// A report is not JSON Lines.
    #[error("{0} is not a JSON Lines report: merge needs `--format jsonl` runs")]
    NotJsonl(String),
}

/// Merges the output directories of shard runs: every manifest entry (the last one of a
/// capture wins), ordered by input path as a single run orders them, and the findings of
/// their reports with ids renumbered as one report over all of them would number them.
pub fn merge(
    dirs: &[PathBuf],
    out: &mut dyn Write,
) -> Result<BTreeMap<String, ManifestEntry>, MergeError> {
    // By capture name, so that a later directory's entry replaces an earlier one in O(log n).
    let mut by_name: BTreeMap<String, (PathBuf, ManifestEntry)> = BTreeMap::new();
    for d in dirs {
        let m = read_manifests(d).map_err(|source| MergeError::Io {
            path: d.clone(),
            source,
        })?;
        if m.is_empty() {
            return Err(MergeError::NoManifest(d.display().to_string()));
        }
        for (name, e) in m {
            by_name.insert(name, (d.clone(), e));
        }
    }
    let mut all: Vec<(PathBuf, ManifestEntry)> = by_name.into_values().collect();
    if let Some((_, first)) = all.first() {
        if let Some((_, other)) = all
            .iter()
            .find(|(_, e)| e.tool != first.tool || e.options != first.options)
        {
            return Err(MergeError::Mixed {
                a: first.capture.clone(),
                b: other.capture.clone(),
                c: format!(
                    "{} {} vs {} {}",
                    first.tool, first.options, other.tool, other.options
                ),
            });
        }
    }
    all.sort_by(|a, b| {
        a.1.input
            .cmp(&b.1.input)
            .then(a.1.capture.cmp(&b.1.capture))
    });
    let many = all.len() > 1;
    for (pos, (dir, e)) in all.iter().enumerate() {
        if !e.report.ends_with(".jsonl") {
            return Err(MergeError::NotJsonl(e.report.clone()));
        }
        let path = dir.join(&e.report);
        let io_err = |source| MergeError::Io {
            path: path.clone(),
            source,
        };
        let reader = BufReader::new(File::open(&path).map_err(io_err)?);
        let mut n = 0usize;
        for line in reader.lines() {
            let line = line.map_err(|source| MergeError::Io {
                path: path.clone(),
                source,
            })?;
            if line.trim().is_empty() {
                continue;
            }
            // The writer puts the id first; it is replaced in place so that every other byte
            // stays as the shard wrote it.
            let rest = line
                .strip_prefix("{\"id\":\"")
                .and_then(|r| r.find('"').map(|end| &r[end..]))
                .ok_or_else(|| MergeError::NotJsonl(path.display().to_string()))?;
            n += 1;
            let id = if many {
                format!("F{}-{}", pos + 1, n)
            } else {
                format!("F{n}")
            };
            let mut bytes = format!("{{\"id\":\"{id}{rest}").into_bytes();
            bytes.push(b'\n');
            out.write_all(&bytes).map_err(|source| MergeError::Io {
                path: PathBuf::from("output"),
                source,
            })?;
        }
    }
    Ok(all
        .into_iter()
        .map(|(_, e)| (e.capture.clone(), e))
        .collect())
}

/// Writes merged manifest entries, one per line, in capture-name order.
pub fn write_manifest(
    entries: &BTreeMap<String, ManifestEntry>,
    out: &mut dyn Write,
) -> io::Result<()> {
    for e in entries.values() {
        write_line(out, e)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_parse_and_reject_nonsense() {
        assert_eq!("2/4".parse::<Shard>(), Ok(Shard { index: 2, count: 4 }));
        assert!("4/4".parse::<Shard>().is_err());
        assert!("1/0".parse::<Shard>().is_err());
        assert!("x".parse::<Shard>().is_err());
    }

    #[test]
    fn every_name_is_in_exactly_one_shard_and_shards_are_not_empty() {
        let names: Vec<String> = (0..400).map(|i| format!("dir/capture-{i}.pcap")).collect();
        let n = 5;
        let mut sizes = [0usize; 5];
        for name in &names {
            let owners: Vec<u32> = (0..n)
                .filter(|&k| Shard { index: k, count: n }.takes(name))
                .collect();
            assert_eq!(owners.len(), 1, "{name}");
            sizes[owners[0] as usize] += 1;
        }
        // 400 names over 5 shards: each gets a fair share (binomial, far from the bounds).
        assert!(sizes.iter().all(|&s| (40..=120).contains(&s)), "{sizes:?}");
    }

    #[test]
    fn names_are_relative_to_directory_arguments_and_made_unique() {
        let dir = tempfile::tempdir().unwrap();
        let sub = dir.path().join("a");
        fs::create_dir_all(&sub).unwrap();
        let arg = dir.path().to_string_lossy().into_owned();
        let inputs = vec![
            InputSource::Path(sub.join("x.pcap")),
            InputSource::Path(PathBuf::from("/elsewhere/x.pcap")),
            InputSource::Path(PathBuf::from("/other/x.pcap")),
        ];
        assert_eq!(
            corpus_names(&[arg, "/elsewhere/x.pcap".into()], &inputs),
            ["a/x.pcap", "x.pcap", "x.pcap.2"]
        );
    }

    #[test]
    fn a_manifest_cut_in_the_middle_of_a_line_keeps_the_whole_lines() {
        let dir = tempfile::tempdir().unwrap();
        let e = ManifestEntry {
            capture: "a.pcap".into(),
            input: "in/a.pcap".into(),
            size: 10,
            mtime_ns: Some(5),
            sha256: "00".into(),
            status: "complete".into(),
            reason: None,
            frames: 3,
            findings: 0,
            by_class: BTreeMap::new(),
            problems: 0,
            seconds: 0.1,
            report: "a.pcap.tamper.jsonl".into(),
            tool: tool(),
            options: "x".into(),
        };
        let mut text = serde_json::to_string(&e).unwrap();
        text.push('\n');
        text.push_str("{\"capture\":\"b.pc");
        fs::write(dir.path().join("manifest.jsonl"), text).unwrap();
        let m = read_manifests(dir.path()).unwrap();
        assert_eq!(m.len(), 1);
        assert_eq!(m["a.pcap"], e);
    }
}
