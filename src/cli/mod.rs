//! The command line: argument definitions (clap), their validation into analysis options, and
//! the `analyze` and `flows` commands' output handling; it holds no analysis logic.

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, CommandFactory, Parser, Subcommand, ValueEnum};

mod evidence;

pub use evidence::{render_explain, ExplainArgs, ExtractArgs};

use crate::capture::InputSource;
use crate::compare;
use crate::diag::Severity;
use crate::pipeline::{self, Limits, Options};
use crate::report::{AtomicFile, OutputTarget, Report, ReportFormat};
use crate::time::Span;

/// Exit status: every input was analyzed (findings or not).
pub const EXIT_OK: u8 = 0;
/// Exit status: some input could only be partly read, or not at all (the rest is reported).
pub const EXIT_PARTIAL: u8 = 1;
/// Exit status: usage error (bad arguments), or output that could not be written.
pub const EXIT_USAGE: u8 = 2;
/// Exit status: `--fail-on-findings` was given and something was found.
pub const EXIT_FINDINGS: u8 = 3;
/// Exit status: `check` or `diff` found a difference.
pub const EXIT_DIFFERENT: u8 = 4;
/// Exit status: interrupted (Ctrl-C) before the analysis finished; no report was written.
pub const EXIT_INTERRUPTED: u8 = 130;

/// Finds the fingerprints of network interference in packet captures: injected TCP resets,
/// forged DNS answers, blockpages and forced redirects, throttling, and silent drops.
#[derive(Debug, Parser)]
#[command(name = "tamper", version, about, long_about = None, propagate_version = true)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Analyze captures and report findings with their evidence.
    Analyze(AnalyzeArgs),
    /// List the flows of captures (like `tshark -z conv`), with SNI/Host/query and how each ended.
    Flows(FlowsArgs),
    /// Analyze captures and compare the findings with an expectation file (regression check).
    Check(CheckArgs),
    /// Compare the findings of two reports or expectation files.
    Diff(DiffArgs),
    /// Combine the output directories of sharded `analyze -o DIR` runs into one report.
    Merge(MergeArgs),
    /// Show a flow's packets as readable lines (frame, time, direction, flags, relative
    /// sequence numbers, TTL, IP ID, window, length, notes), the findings' packets marked.
    Explain(ExplainArgs),
    /// Carve the packets of a finding or flow into a small pcapng or pcap for Wireshark.
    Extract(ExtractArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions(CompletionsArgs),
    /// Print the manual page (roff), or write one page per command into a directory.
    Man(ManArgs),
}

/// `tamper completions`.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// `tamper man`.
#[derive(Debug, Args)]
pub struct ManArgs {
    /// Write tamper.1 and tamper-COMMAND.1 for every command into this directory instead of
    /// printing tamper.1.
    #[arg(value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

/// Limits shared by the subcommands.
#[derive(Debug, Args, Clone)]
pub struct LimitArgs {
    /// Most flows tracked at once; when full, idle flows are expired early, then new flows are
    /// counted but not analyzed (reported as limit_reached_flow_table).
    #[arg(long, value_name = "N", default_value_t = 1_000_000, value_parser = clap::value_parser!(u64).range(1..))]
    pub max_flows: u64,
    /// A flow with no packet for this many seconds of capture time is ended (a later packet on
    /// the same addresses and ports starts a new flow). The default of an hour keeps flows the
    /// same as Wireshark's conversations on ordinary captures; lower it for captures with
    /// millions of flows.
    #[arg(long, value_name = "SECONDS", default_value_t = 3600, value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub flow_timeout: u64,
    /// Bytes kept from the start of each direction of a TCP stream for parsing TLS and HTTP
    /// and for checking retransmitted bytes.
    #[arg(long, value_name = "BYTES", default_value_t = 16_384, value_parser = clap::value_parser!(u32).range(1024..=16_777_216))]
    pub reassembly_bytes: u32,
    /// Most DNS queries waiting for responses at once.
    #[arg(long, value_name = "N", default_value_t = 65_536, value_parser = clap::value_parser!(u64).range(1..))]
    pub max_pending_dns: u64,
    /// Most bytes a compressed capture may decompress to (default 256 GiB); past it the
    /// capture is reported as partly read, as a possible compression bomb.
    #[arg(long, value_name = "BYTES", default_value_t = crate::capture::DEFAULT_MAX_DECOMPRESSED, value_parser = clap::value_parser!(u64).range(1..))]
    pub max_decompressed_bytes: u64,
}

impl LimitArgs {
    /// The analysis limits these arguments select.
    pub fn limits(&self) -> Limits {
        let mut l = Limits::default();
        l.flows.max_flows = usize::try_from(self.max_flows).unwrap_or(usize::MAX);
        l.flows.idle_timeout = Span::from_secs(self.flow_timeout as i64);
        l.stream.prefix_bytes = self.reassembly_bytes;
        l.stream.out_of_order_bytes = self.reassembly_bytes;
        l.dns.max_pending = usize::try_from(self.max_pending_dns).unwrap_or(usize::MAX);
        l.max_decompressed = self.max_decompressed_bytes;
        l
    }
}

/// `tamper analyze`.
#[derive(Debug, Args)]
pub struct AnalyzeArgs {
    /// Capture files (pcap, pcapng; gzip/xz/zstd-compressed or not), directories (walked
    /// recursively), or `-` for standard input.
    #[arg(value_name = "CAPTURE", required = true)]
    pub inputs: Vec<String>,
    /// Report format.
    #[arg(short, long, value_enum, default_value_t = ReportFormat::Jsonl)]
    pub format: ReportFormat,
    /// Where to write: a file, a directory (one report per capture), or `-` for standard output.
    #[arg(short, long, value_name = "FILE|DIR|-", default_value = "-")]
    pub output: String,
    /// Also write the flow table to this file (CSV for csv and markdown reports, JSON Lines
    /// for jsonl).
    #[arg(long, value_name = "FILE")]
    pub flows: Option<PathBuf>,
    /// Also write capture summaries and diagnostics to this file as JSON Lines.
    #[arg(long, value_name = "FILE")]
    pub diagnostics: Option<PathBuf>,
    /// Overwrite output files that already exist.
    #[arg(long)]
    pub force: bool,
    /// Threads for analyzing several captures at once (default: all cores).
    #[arg(short = 'j', long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=1024))]
    pub threads: Option<u64>,
    /// Exit with status 3 when anything is found (for scripts and CI).
    #[arg(long)]
    pub fail_on_findings: bool,
    /// Print nothing on standard error except errors (no progress bar, no summary). The
    /// progress bar is drawn only when standard error is a terminal.
    #[arg(short, long)]
    pub quiet: bool,
    /// With a directory output: go on with an interrupted run, skipping captures whose
    /// report the directory's manifest already lists (same file size and time, same tamper
    /// version and options).
    #[arg(long)]
    pub resume: bool,
    /// With a directory output: analyze only part K of N of the inputs (K from 0), chosen by
    /// a hash of each capture's name so that N jobs of an array each take a disjoint share;
    /// `tamper merge` combines their directories (docs/scale.md).
    #[arg(long, value_name = "K/N")]
    pub shard: Option<crate::corpus::Shard>,
    /// Extra blocking fingerprints: a CSV file in OONI's blocking-fingerprints format (see
    /// docs/fingerprints.md), used after the bundled ones. Repeat for several files; a later
    /// row replaces an earlier one of the same name.
    #[arg(long = "fingerprints", value_name = "FILE")]
    pub fingerprints: Vec<PathBuf>,
    /// Replace every IP address in the report with its Crypto-PAn pseudonym under this key
    /// (64 hex digits, a 32-character string, or @FILE holding either), so a report can be
    /// shared without the volunteer's address. Payload excerpts, SNI, Host and DNS names are
    /// not hidden (docs/anonymization.md). Text formats only.
    #[arg(long, value_name = "KEY")]
    pub anonymize: Option<String>,
    /// Stop analyzing a capture after this many seconds (wall-clock time, decimals allowed):
    /// what was read before is analyzed and reported, and the capture is reported partial with
    /// a limit_reached_time_budget diagnostic. Off by default; with it, results depend on the
    /// machine's speed.
    #[arg(long, value_name = "SECONDS", value_parser = parse_seconds)]
    pub time_budget: Option<std::time::Duration>,
    /// Limits.
    #[command(flatten)]
    pub limits: LimitArgs,
}

/// A number of seconds, zero or more, decimals allowed.
fn parse_seconds(s: &str) -> Result<std::time::Duration, String> {
    let secs: f64 = s
        .trim()
        .parse()
        .map_err(|_| format!("`{s}` is not a number of seconds (e.g. 600 or 2.5)"))?;
    std::time::Duration::try_from_secs_f64(secs)
        .map_err(|_| format!("`{s}` is not a duration: give zero or more seconds"))
}

/// Output formats of `tamper flows`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum FlowsFormat {
    /// Aligned text table.
    Table,
    /// CSV.
    Csv,
    /// JSON Lines.
    Jsonl,
}

/// `tamper flows`.
#[derive(Debug, Args)]
pub struct FlowsArgs {
    /// Capture files, directories, or `-` for standard input.
    #[arg(value_name = "CAPTURE", required = true)]
    pub inputs: Vec<String>,
    /// Output format.
    #[arg(short, long, value_enum, default_value_t = FlowsFormat::Table)]
    pub format: FlowsFormat,
    /// Where to write (a file, or `-` for standard output).
    #[arg(short, long, value_name = "FILE|-", default_value = "-")]
    pub output: String,
    /// Overwrite an output file that already exists.
    #[arg(long)]
    pub force: bool,
    /// Threads for reading several captures at once (default: all cores).
    #[arg(short = 'j', long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=1024))]
    pub threads: Option<u64>,
    /// Limits.
    #[command(flatten)]
    pub limits: LimitArgs,
}

/// `tamper merge`.
#[derive(Debug, Args)]
pub struct MergeArgs {
    /// Output directories of `tamper analyze --format jsonl -o DIR` runs (one per shard).
    #[arg(value_name = "DIR", required = true)]
    pub dirs: Vec<PathBuf>,
    /// Where to write the merged JSON Lines report: a file or `-` for standard output.
    #[arg(short, long, value_name = "FILE|-", default_value = "-")]
    pub output: String,
    /// Also write the merged manifest (one line per capture) to this file.
    #[arg(long, value_name = "FILE")]
    pub manifest: Option<PathBuf>,
    /// Overwrite output files that already exist.
    #[arg(long)]
    pub force: bool,
    /// Print no summary table on standard error.
    #[arg(short, long)]
    pub quiet: bool,
}

/// How `check` and `diff` print differences.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum DiffFormat {
    /// One block per capture, one line per difference, then a count.
    Text,
    /// JSON Lines, one object per difference (`change` says which).
    Jsonl,
}

/// `tamper check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The expectation file (docs/regression.md): JSON Lines of expected findings.
    #[arg(long, value_name = "FILE")]
    pub expect: PathBuf,
    /// Rewrite the expectation from this run instead of comparing (justifications, the `why`
    /// fields, are kept for findings that are still there).
    #[arg(long)]
    pub update: bool,
    /// Expected captures not given on this command line are not differences (checking part
    /// of a corpus).
    #[arg(long)]
    pub subset: bool,
    /// How to print the differences.
    #[arg(short, long, value_enum, default_value_t = DiffFormat::Text)]
    pub format: DiffFormat,
    /// Capture files or directories. Captures are named by their path below the directory
    /// given (or by file name), so the expectation does not depend on where a corpus lives.
    #[arg(value_name = "CAPTURE", required = true)]
    pub inputs: Vec<String>,
    /// Threads for analyzing several captures at once (default: all cores).
    #[arg(short = 'j', long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=1024))]
    pub threads: Option<u64>,
    /// Extra blocking fingerprints, as for `analyze`.
    #[arg(long = "fingerprints", value_name = "FILE")]
    pub fingerprints: Vec<PathBuf>,
    /// Limits.
    #[command(flatten)]
    pub limits: LimitArgs,
}

/// `tamper diff`.
#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The earlier report or expectation (JSON Lines; `-` for standard input).
    #[arg(value_name = "A")]
    pub before: PathBuf,
    /// The later report or expectation.
    #[arg(value_name = "B")]
    pub after: PathBuf,
    /// Captures only in A are not differences.
    #[arg(long)]
    pub subset: bool,
    /// How to print the differences.
    #[arg(short, long, value_enum, default_value_t = DiffFormat::Text)]
    pub format: DiffFormat,
}

/// Runs a parsed command line and returns the exit status.
pub fn run(cli: Cli) -> ExitCode {
    let result = match cli.command {
        Command::Analyze(a) => analyze(a),
        Command::Flows(f) => flows(f),
        Command::Check(c) => check(c),
        Command::Diff(d) => diff(d),
        Command::Merge(m) => merge(m),
        Command::Explain(e) => evidence::explain(e),
        Command::Extract(e) => evidence::extract(e),
        Command::Completions(c) => completions(c),
        Command::Man(m) => man(m),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) if is_broken_pipe(&e) => ExitCode::from(EXIT_OK),
        Err(e) => {
            eprintln!("tamper: {e:#}");
            ExitCode::from(EXIT_USAGE)
        }
    }
}

/// True when the error chain ends in a broken pipe (the reader of our output went away, as
/// with `tamper ... | head`): Unix tools end quietly then.
fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<io::Error>()
            .is_some_and(|io| io.kind() == io::ErrorKind::BrokenPipe)
    })
}

fn pool(threads: Option<u64>) -> anyhow::Result<rayon::ThreadPool> {
    let mut b = rayon::ThreadPoolBuilder::new();
    if let Some(n) = threads {
        b = b.num_threads(usize::try_from(n).unwrap_or(1));
    }
    Ok(b.build()?)
}

fn inputs(args: &[String], quiet: bool) -> anyhow::Result<Vec<InputSource>> {
    let stdin_count = args.iter().filter(|a| *a == "-").count();
    if stdin_count > 1 {
        anyhow::bail!("standard input (`-`) can be given only once");
    }
    let (inputs, skipped) = pipeline::expand_inputs(args);
    if skipped > 0 && !quiet {
        eprintln!("tamper: skipped {skipped} file(s) in the given directories that do not look like captures");
    }
    if inputs.is_empty() {
        anyhow::bail!("no capture files found in {}", args.join(", "));
    }
    Ok(inputs)
}

fn analyze(args: AnalyzeArgs) -> anyhow::Result<u8> {
    // A bad fingerprint file or key is a usage error, found before anything else is done.
    let detect = pipeline::detect_config(&args.fingerprints)?;
    let anonymizer = args
        .anonymize
        .as_deref()
        .map(|k| anonymizer(k, &detect))
        .transpose()?
        .map(std::sync::Mutex::new);
    if anonymizer.is_some() && args.format.is_binary() {
        anyhow::bail!(
            "--anonymize works on text reports (jsonl, csv, markdown, html); write one of those"
        );
    }
    if anonymizer.is_some() && (args.flows.is_some() || args.diagnostics.is_some()) {
        anyhow::bail!("--anonymize covers the report only: leave out --flows and --diagnostics, or write them without --anonymize");
    }
    if anonymizer.is_some() && matches!(OutputTarget::from_arg(&args.output), OutputTarget::Dir(_))
    {
        anyhow::bail!(
            "--anonymize writes one report: give a file or `-` as the output, not a directory"
        );
    }
    let target = OutputTarget::from_arg(&args.output);
    let inputs = inputs(&args.inputs, args.quiet)?;
    if let OutputTarget::Dir(d) = &target {
        std::fs::create_dir_all(d)
            .map_err(|e| anyhow::anyhow!("cannot create output directory {}: {e}", d.display()))?;
    }
    // Refuse to clobber before spending time on the analysis.
    for p in [
        Some(&args.output)
            .filter(|_| matches!(target, OutputTarget::File(_)))
            .map(PathBuf::from),
        args.flows.clone(),
        args.diagnostics.clone(),
    ]
    .into_iter()
    .flatten()
    {
        // A device or pipe (`/dev/null`, a FIFO) is written in place and loses nothing.
        let regular_or_dir = std::fs::metadata(&p).is_ok_and(|m| m.is_file() || m.is_dir());
        if !args.force && regular_or_dir {
            anyhow::bail!(
                "{} already exists: choose another name, delete it, or pass --force to overwrite it",
                p.display()
            );
        }
        for i in &inputs {
            if let InputSource::Path(ip) = i {
                if same_file(ip, &p) {
                    anyhow::bail!(
                        "output {} is also an input: refusing to overwrite a capture",
                        p.display()
                    );
                }
            }
        }
    }
    let options = Options {
        limits: args.limits.limits(),
        stop: pipeline::StopWhen {
            interrupt: Some(interrupt_flag()),
            time_budget: args.time_budget,
        },
        collect_flows: args.flows.is_some(),
        skip_detectors: false,
        detect,
    };
    if let OutputTarget::Dir(d) = &target {
        return analyze_corpus(&args, &inputs, &options, d);
    }
    if args.resume || args.shard.is_some() {
        anyhow::bail!("--resume and --shard need a directory output (-o DIR/)");
    }
    let progress = Progress::start(&inputs, args.quiet);
    let report = pool(args.threads)?.install(|| {
        let mut report = pipeline::analyze_all(&inputs, &options);
        // The write-up names each input file by size and SHA-256. Only Markdown and HTML
        // show them, so other formats do not pay for reading every file a second time.
        if matches!(args.format, ReportFormat::Markdown | ReportFormat::Html) {
            add_source_facts(&mut report, &inputs);
        }
        report
    });
    drop(progress);
    let stopped: Vec<(String, String)> = report
        .captures
        .iter()
        .filter_map(|c| c.interrupted().map(|how_far| (c.name.clone(), how_far)))
        .collect();
    if !stopped.is_empty() {
        let finished: Vec<String> = report
            .captures
            .iter()
            .filter(|c| c.interrupted().is_none())
            .map(|c| c.name.clone())
            .collect();
        say_interrupted(
            &finished,
            &stopped,
            "no report was written (run the command again to analyze the captures)",
        )?;
        return Ok(EXIT_INTERRUPTED);
    }
    let found = report.findings().count();
    let pictures = (args.format == ReportFormat::Html)
        .then(|| {
            pool(args.threads).map(|p| p.install(|| report_pictures(&report, &inputs, &options)))
        })
        .transpose()?;
    match &target {
        OutputTarget::Stdout => {
            let stdout = io::stdout();
            let mut lock = stdout.lock();
            write_report(
                &report,
                args.format,
                pictures.as_ref(),
                anonymizer.as_ref(),
                &mut lock,
            )?;
            lock.flush()?;
        }
        OutputTarget::File(p) => write_atomic(p, args.force, |w| {
            write_report(
                &report,
                args.format,
                pictures.as_ref(),
                anonymizer.as_ref(),
                w,
            )
        })?,
        OutputTarget::Dir(_) => unreachable!("directory outputs are corpus runs"),
    }
    if let Some(p) = &args.flows {
        write_atomic(p, args.force, |w| report.write_flows(args.format, w))?;
    }
    if let Some(p) = &args.diagnostics {
        write_atomic(p, args.force, |w| report.write_diagnostics(w))?;
    }
    if !args.quiet {
        // Summaries go to standard error when the report does not (a file, or a terminal
        // where an empty JSON Lines report would otherwise look like nothing happened).
        use std::io::IsTerminal;
        let to_pipe = matches!(target, OutputTarget::Stdout) && !io::stdout().is_terminal();
        print_problems(&report, to_pipe);
    }
    Ok(if report.any_incomplete() {
        EXIT_PARTIAL
    } else if args.fail_on_findings && found > 0 {
        EXIT_FINDINGS
    } else {
        EXIT_OK
    })
}

/// Installs the Ctrl-C handler and returns the flag it raises. The first Ctrl-C raises the
/// flag: captures being analyzed stop at their next check, the rest are not started, and the
/// command says how far it got and writes no report. A second Ctrl-C exits at once.
fn interrupt_flag() -> std::sync::Arc<std::sync::atomic::AtomicBool> {
    use std::sync::atomic::{AtomicBool, Ordering};
    let flag = std::sync::Arc::new(AtomicBool::new(false));
    let raised = std::sync::Arc::clone(&flag);
    // Fails only if a handler is already installed (a second analysis in one process): the
    // run then simply cannot be interrupted cleanly.
    let _ = ctrlc::set_handler(move || {
        if raised.swap(true, Ordering::SeqCst) {
            eprintln!("tamper: interrupted again: exiting at once");
            std::process::exit(i32::from(EXIT_INTERRUPTED));
        }
        eprintln!("tamper: interrupted: stopping (Ctrl-C again to exit at once)");
    });
    flag
}

/// Tells, on standard error, how far an interrupted run got.
fn say_interrupted(
    finished: &[String],
    stopped: &[(String, String)],
    next: &str,
) -> anyhow::Result<()> {
    let mut err = io::stderr().lock();
    for name in finished {
        writeln!(err, "tamper: {name}: finished")?;
    }
    for (name, how_far) in stopped {
        writeln!(err, "tamper: {name}: {how_far}")?;
    }
    writeln!(
        err,
        "tamper: interrupted: {} of {} capture(s) finished; {next}",
        finished.len(),
        finished.len() + stopped.len()
    )?;
    Ok(())
}

/// A progress bar on standard error (bytes read of the inputs' total size, rate, time left),
/// drawn only on a terminal and never with `--quiet`; it reads a counter and changes nothing.
/// The bar disappears when the value is dropped, however the analysis ended.
struct Progress {
    bar: indicatif::ProgressBar,
    /// [`crate::capture::RAW_BYTES_READ`] when the bar started.
    base: u64,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    ticker: Option<std::thread::JoinHandle<()>>,
}

impl Progress {
    /// The bar for `inputs`, or a hidden one when standard error is not a terminal or `quiet`.
    fn start(inputs: &[InputSource], quiet: bool) -> Progress {
        use std::io::IsTerminal;
        let target = if quiet || !io::stderr().is_terminal() {
            indicatif::ProgressDrawTarget::hidden()
        } else {
            indicatif::ProgressDrawTarget::stderr_with_hz(4)
        };
        Progress::with_target(inputs, target)
    }

    fn with_target(inputs: &[InputSource], target: indicatif::ProgressDrawTarget) -> Progress {
        use std::sync::atomic::{AtomicBool, Ordering};
        // Standard input has no known length: a spinner with the bytes and the rate.
        let total: Option<u64> = inputs
            .iter()
            .map(|i| match i {
                InputSource::Path(p) => std::fs::metadata(p).ok().map(|m| m.len()),
                InputSource::Stdin => None,
            })
            .sum();
        let (bar, template) = match total {
            Some(t) => (
                indicatif::ProgressBar::with_draw_target(Some(t), target),
                "{bar:30} {bytes}/{total_bytes} {bytes_per_sec}, {eta} left",
            ),
            None => (
                indicatif::ProgressBar::with_draw_target(None, target),
                "{spinner} {bytes} read, {bytes_per_sec}",
            ),
        };
        if let Ok(style) = indicatif::ProgressStyle::with_template(template) {
            bar.set_style(style);
        }
        let base = crate::capture::RAW_BYTES_READ.load(Ordering::Relaxed);
        let stop = std::sync::Arc::new(AtomicBool::new(false));
        // A hidden bar needs no ticker thread.
        let ticker = (!bar.is_hidden()).then(|| {
            let (bar, stop) = (bar.clone(), std::sync::Arc::clone(&stop));
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    bar.set_position(Progress::read_since(base));
                    std::thread::sleep(std::time::Duration::from_millis(200));
                }
            })
        });
        Progress {
            bar,
            base,
            stop,
            ticker,
        }
    }

    fn read_since(base: u64) -> u64 {
        crate::capture::RAW_BYTES_READ
            .load(std::sync::atomic::Ordering::Relaxed)
            .saturating_sub(base)
    }

    /// Bytes read since the bar started, as the bar shows them.
    #[cfg(test)]
    fn position(&self) -> u64 {
        self.bar.set_position(Progress::read_since(self.base));
        self.bar.position()
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        if let Some(t) = self.ticker.take() {
            let _ = t.join();
        }
        self.bar.set_position(Progress::read_since(self.base));
        self.bar.finish_and_clear();
    }
}

/// The `--anonymize` anonymizer: Crypto-PAn under `key`, keeping special-purpose addresses
/// (private, loopback, documentation...: they identify nobody, and the analysis judges by
/// their class) and the blocking addresses of the fingerprints in use (published evidence), so
/// that an anonymized capture gives the same findings as the original.
pub fn anonymizer(
    key: &str,
    detect: &crate::detect::DetectConfig,
) -> anyhow::Result<crate::anon::Anonymizer> {
    let pan =
        crate::anon::CryptoPan::parse_key(key).map_err(|e| anyhow::anyhow!("--anonymize: {e}"))?;
    let fingerprints = std::sync::Arc::clone(&detect.fingerprints);
    Ok(
        crate::anon::Anonymizer::new(pan).keeping(std::sync::Arc::new(move |a| {
            crate::detect::addresses::special_range(a).is_some()
                || !fingerprints.match_dns_address(a).is_empty()
        })),
    )
}

/// Pictures for the findings of every capture read from a file (a second pass over each such
/// capture; standard input cannot be read again).
fn report_pictures(
    report: &Report,
    inputs: &[InputSource],
    options: &Options,
) -> crate::report::pictures::Pictures {
    use rayon::prelude::*;
    let parts: Vec<(crate::report::pictures::Pictures, Option<String>)> = report
        .captures
        .par_iter()
        .zip(inputs.par_iter())
        .map(|(c, input)| {
            if c.findings.is_empty() {
                return (Default::default(), None);
            }
            if *input == InputSource::Stdin {
                return (
                    Default::default(),
                    Some("no pictures for standard input: it cannot be read a second time; give the capture as a file".to_string()),
                );
            }
            match crate::inspect::pictures::pictures_for(input, options, c) {
                Ok(p) => (p, None),
                Err(e) => (Default::default(), Some(format!("no pictures for {}: {e}", c.name))),
            }
        })
        .collect();
    let mut all = crate::report::pictures::Pictures::default();
    let mut notes = Vec::new();
    for (p, note) in parts {
        all.by_finding.extend(p.by_finding);
        notes.extend(note);
    }
    if !notes.is_empty() {
        all.note = Some(notes.join("; "));
    }
    all
}

fn write_report(
    report: &Report,
    format: ReportFormat,
    pictures: Option<&crate::report::pictures::Pictures>,
    anonymizer: Option<&std::sync::Mutex<crate::anon::Anonymizer>>,
    w: &mut dyn Write,
) -> io::Result<()> {
    let write = |w: &mut dyn Write| match (format, pictures) {
        (ReportFormat::Html, Some(p)) => report.write_html(p, w),
        _ => report.write(format, w),
    };
    match anonymizer {
        None => write(w),
        Some(a) => {
            // Every address literal of the finished text is replaced, wherever the writer
            // put it (flows, summaries, evidence, filters, pictures).
            let mut text = Vec::new();
            write(&mut text)?;
            let mut a = a
                .lock()
                .map_err(|_| io::Error::other("anonymizer poisoned"))?;
            w.write_all(a.anonymize_text(&String::from_utf8_lossy(&text)).as_bytes())
        }
    }
}

/// Fills in the size and SHA-256 of every input file (in parallel on the current pool);
/// standard input is not hashed, and a file that cannot be read again is left without them.
fn add_source_facts(report: &mut Report, inputs: &[InputSource]) {
    use rayon::prelude::*;
    let facts: Vec<_> = inputs
        .par_iter()
        .map(|i| match i {
            InputSource::Path(p) => crate::corpus::source_facts(p).ok(),
            InputSource::Stdin => None,
        })
        .collect();
    for (c, f) in report.captures.iter_mut().zip(facts) {
        c.source = f;
    }
}

fn flows(args: FlowsArgs) -> anyhow::Result<u8> {
    let target = OutputTarget::from_arg(&args.output);
    if let OutputTarget::Dir(d) = &target {
        anyhow::bail!(
            "`tamper flows --output` takes a file or `-`, not a directory ({})",
            d.display()
        );
    }
    let inputs = inputs(&args.inputs, false)?;
    let options = Options {
        limits: args.limits.limits(),
        collect_flows: true,
        skip_detectors: true,
        detect: Default::default(),
        stop: Default::default(),
    };
    let report = pool(args.threads)?.install(|| pipeline::analyze_all(&inputs, &options));
    let write = |w: &mut dyn Write| -> io::Result<()> {
        match args.format {
            FlowsFormat::Table => {
                let all: Vec<_> = report
                    .captures
                    .iter()
                    .flat_map(|c| c.flows.iter().cloned())
                    .collect();
                crate::report::write_flow_table(&all, w)
            }
            FlowsFormat::Csv => report.write_flows(ReportFormat::Csv, w),
            FlowsFormat::Jsonl => report.write_flows(ReportFormat::Jsonl, w),
        }
    };
    match &target {
        OutputTarget::File(p) => write_atomic(p, args.force, write)?,
        _ => {
            let stdout = io::stdout();
            let mut lock = stdout.lock();
            write(&mut lock)?;
            lock.flush()?;
        }
    }
    print_problems(&report, true);
    Ok(if report.any_incomplete() {
        EXIT_PARTIAL
    } else {
        EXIT_OK
    })
}

fn print_changes(changes: &[compare::Change], format: DiffFormat) -> anyhow::Result<()> {
    let stdout = io::stdout();
    let mut lock = stdout.lock();
    match format {
        DiffFormat::Text => compare::write_text(changes, &mut lock)?,
        DiffFormat::Jsonl => compare::write_jsonl(changes, &mut lock)?,
    }
    lock.flush()?;
    Ok(())
}

fn check(args: CheckArgs) -> anyhow::Result<u8> {
    let detect = pipeline::detect_config(&args.fingerprints)?;
    let inputs = inputs(&args.inputs, false)?;
    if inputs.iter().any(|i| !matches!(i, InputSource::Path(_))) {
        anyhow::bail!("`tamper check` reads capture files, not standard input");
    }
    let names = compare::capture_names(&args.inputs, &inputs).map_err(anyhow::Error::msg)?;
    let old = if args.expect.exists() {
        Some(compare::Expectation::read(&args.expect)?)
    } else if args.update {
        None
    } else {
        anyhow::bail!(
            "{} does not exist: run with --update to create it",
            args.expect.display()
        );
    };
    let options = Options {
        limits: args.limits.limits(),
        collect_flows: false,
        skip_detectors: false,
        detect,
        stop: Default::default(),
    };
    let report = pool(args.threads)?.install(|| pipeline::analyze_all(&inputs, &options));
    let mut new = compare::Expectation::from_captures(&report.captures, &names);
    let opts = compare::CompareOptions {
        subset: args.subset,
    };
    if args.update {
        let mut merged = old.clone().unwrap_or_default();
        if let Some(o) = &old {
            new.keep_justifications(o);
        }
        if !args.subset {
            merged.captures.clear();
        }
        for (name, c) in new.captures {
            merged.captures.insert(name, c);
        }
        let changes = old
            .as_ref()
            .map(|o| compare::compare(o, &merged, opts))
            .unwrap_or_default();
        write_atomic(&args.expect, true, |w| merged.write(w))?;
        eprintln!(
            "tamper: wrote {} ({} capture(s), {} change(s) from before)",
            args.expect.display(),
            merged.captures.len(),
            changes.len()
        );
        return Ok(EXIT_OK);
    }
    let old = old.unwrap_or_default();
    let changes = compare::compare(&old, &new, opts);
    print_changes(&changes, args.format)?;
    Ok(if changes.is_empty() {
        EXIT_OK
    } else {
        EXIT_DIFFERENT
    })
}

fn diff(args: DiffArgs) -> anyhow::Result<u8> {
    if args.before == Path::new("-") && args.after == Path::new("-") {
        anyhow::bail!("only one of A and B can be standard input");
    }
    let a = compare::Expectation::read(&args.before)?;
    let b = compare::Expectation::read(&args.after)?;
    let changes = compare::compare(
        &a,
        &b,
        compare::CompareOptions {
            subset: args.subset,
        },
    );
    print_changes(&changes, args.format)?;
    Ok(if changes.is_empty() {
        EXIT_OK
    } else {
        EXIT_DIFFERENT
    })
}

/// A corpus run: one report per capture in `dir`, a manifest, `--resume` and `--shard`.
fn analyze_corpus(
    args: &AnalyzeArgs,
    inputs: &[InputSource],
    options: &Options,
    dir: &Path,
) -> anyhow::Result<u8> {
    if inputs.iter().any(|i| matches!(i, InputSource::Stdin)) && args.shard.is_some() {
        anyhow::bail!("--shard needs capture files, not standard input");
    }
    // What changes results: the format, the limits and the fingerprint files' contents.
    let mut description = format!("{:?} {:?}", args.format, options.limits);
    for f in &args.fingerprints {
        let bytes =
            std::fs::read(f).map_err(|e| anyhow::anyhow!("cannot read {}: {e}", f.display()))?;
        description.push_str(&crate::corpus::options_digest(&String::from_utf8_lossy(
            &bytes,
        )));
    }
    let cfg = crate::corpus::RunConfig {
        args: &args.inputs,
        inputs,
        dir,
        format: args.format,
        options,
        options_digest: crate::corpus::options_digest(&description),
        shard: args.shard,
        resume: args.resume,
        force: args.force,
        keep_details: args.flows.is_some() || args.diagnostics.is_some(),
    };
    let progress = Progress::start(inputs, args.quiet);
    let outcome = pool(args.threads)?.install(|| crate::corpus::run(&cfg));
    drop(progress);
    let outcome = outcome?;
    if !outcome.interrupted.is_empty() {
        let finished: Vec<String> = outcome
            .entries
            .keys()
            .filter(|k| !outcome.interrupted.iter().any(|(n, _)| n == *k))
            .cloned()
            .collect();
        say_interrupted(
            &finished,
            &outcome.interrupted,
            "their reports are in place and in the manifest; add --resume to the same command to analyze the rest",
        )?;
        return Ok(EXIT_INTERRUPTED);
    }
    let report = Report::new(outcome.details);
    if let Some(p) = &args.flows {
        write_atomic(p, args.force, |w| report.write_flows(args.format, w))?;
    }
    if let Some(p) = &args.diagnostics {
        write_atomic(p, args.force, |w| report.write_diagnostics(w))?;
    }
    let found: usize = outcome.entries.values().map(|e| e.findings).sum();
    if !args.quiet {
        print_problems(&report, true);
        let mut err = io::stderr().lock();
        writeln!(
            err,
            "tamper: {} analyzed, {} already done (--resume), {} left to other shards",
            outcome.analyzed, outcome.resumed, outcome.other_shards
        )?;
        crate::corpus::write_summary(&outcome.entries, &mut err)?;
    }
    Ok(if outcome.incomplete {
        EXIT_PARTIAL
    } else if args.fail_on_findings && found > 0 {
        EXIT_FINDINGS
    } else {
        EXIT_OK
    })
}

fn merge(args: MergeArgs) -> anyhow::Result<u8> {
    let target = OutputTarget::from_arg(&args.output);
    if let OutputTarget::Dir(d) = &target {
        anyhow::bail!(
            "`tamper merge --output` takes a file or `-`, not a directory ({})",
            d.display()
        );
    }
    let entries = match &target {
        OutputTarget::File(p) => {
            let mut file = AtomicFile::create(p, args.force)?;
            let e = crate::corpus::merge(&args.dirs, file.writer())?;
            file.commit()?;
            e
        }
        _ => {
            let stdout = io::stdout();
            let mut lock = stdout.lock();
            let e = crate::corpus::merge(&args.dirs, &mut lock)?;
            lock.flush()?;
            e
        }
    };
    if let Some(p) = &args.manifest {
        write_atomic(p, args.force, |w| {
            crate::corpus::write_manifest(&entries, w)
        })?;
    }
    if !args.quiet {
        crate::corpus::write_summary(&entries, &mut io::stderr().lock())?;
    }
    Ok(if entries.values().any(|e| e.status != "complete") {
        EXIT_PARTIAL
    } else {
        EXIT_OK
    })
}

fn completions(args: CompletionsArgs) -> anyhow::Result<u8> {
    let mut cmd = Cli::command();
    let stdout = io::stdout();
    let mut lock = stdout.lock();
    clap_complete::generate(args.shell, &mut cmd, "tamper", &mut lock);
    lock.flush()?;
    Ok(EXIT_OK)
}

/// The manual pages: `tamper.1`, then `tamper-COMMAND.1` for every command, as (file name,
/// roff text).
pub fn man_pages() -> io::Result<Vec<(String, Vec<u8>)>> {
    let cmd = Cli::command();
    let mut pages = Vec::new();
    let mut top = Vec::new();
    clap_mangen::Man::new(cmd.clone()).render(&mut top)?;
    pages.push(("tamper.1".to_string(), top));
    for sub in cmd.get_subcommands() {
        let name = format!("tamper-{}", sub.get_name());
        let sub = sub.clone().name(name.clone());
        let mut page = Vec::new();
        clap_mangen::Man::new(sub).render(&mut page)?;
        pages.push((format!("{name}.1"), page));
    }
    Ok(pages)
}

fn man(args: ManArgs) -> anyhow::Result<u8> {
    let pages = man_pages()?;
    match &args.dir {
        None => {
            let stdout = io::stdout();
            let mut lock = stdout.lock();
            if let Some((_, top)) = pages.first() {
                lock.write_all(top)?;
            }
            lock.flush()?;
        }
        Some(dir) => {
            std::fs::create_dir_all(dir)
                .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", dir.display()))?;
            for (name, page) in &pages {
                write_atomic(&dir.join(name), true, |w| w.write_all(page))?;
            }
        }
    }
    Ok(EXIT_OK)
}

fn write_atomic(
    path: &Path,
    force: bool,
    f: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> anyhow::Result<()> {
    let mut file = AtomicFile::create(path, force)?;
    f(file.writer()).map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?;
    file.commit()?;
    Ok(())
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(x), Ok(y)) => x == y,
        _ => false,
    }
}

/// Prints failed inputs and warning/error diagnostics to standard error; with `summary`, also
/// a one-line count per capture.
fn print_problems(report: &Report, summary_only_on_problems: bool) {
    for c in &report.captures {
        match &c.status {
            crate::report::CaptureStatus::Failed { error } => {
                eprintln!("tamper: error: {error}");
                continue;
            }
            crate::report::CaptureStatus::Partial { reason } => {
                eprintln!("tamper: {}: partly read: {reason}", c.name);
            }
            crate::report::CaptureStatus::Complete => {}
        }
        let serious: Vec<_> = c
            .diagnostics
            .iter()
            .filter(|d| d.severity >= Severity::Warning)
            .collect();
        for d in &serious {
            let example = d.examples.first().map(|e| e.detail.as_str()).unwrap_or("");
            eprintln!("tamper: {}: {} x{}: {example}", c.name, d.kind, d.count);
        }
        if !summary_only_on_problems {
            if let Some(s) = &c.summary {
                eprintln!(
                    "tamper: {}: {} frames, {} TCP and {} UDP flows, {} finding(s)",
                    c.name,
                    s.frames,
                    s.flows.tcp,
                    s.flows.udp,
                    c.findings.len()
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_counts_the_bytes_read_from_capture_files() {
        let path =
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/sample/incident.pcapng");
        let size = std::fs::metadata(&path).unwrap().len();
        let inputs = [InputSource::Path(path)];
        let progress = Progress::with_target(&inputs, indicatif::ProgressDrawTarget::hidden());
        assert_eq!(progress.bar.length(), Some(size));
        let (mut stream, _) = inputs[0].open().unwrap();
        let mut sink = Vec::new();
        io::copy(&mut stream, &mut sink).unwrap();
        // Other tests read captures at the same time and the counter is the process's.
        assert!(
            progress.position() >= size,
            "{} < {size}",
            progress.position()
        );
        // A hidden bar starts no thread.
        assert!(progress.ticker.is_none());
    }

    #[test]
    fn progress_on_standard_input_has_no_total() {
        let progress = Progress::with_target(
            &[InputSource::Stdin],
            indicatif::ProgressDrawTarget::hidden(),
        );
        assert_eq!(progress.bar.length(), None);
    }
}
