//! Blocking fingerprints in OONI's CSV format (the bundled DNS rows plus user files given with
//! `--fingerprints`): loading, validating and looking up DNS answers in them; it must not decide
//! whether an answer was forged, and it never reads captures.
//!
//! The format, the meaning of every column and the provenance of the bundled rows are described
//! in `docs/fingerprints.md`; the bundled data and its attribution are in
//! `src/detect/data/fingerprints/`.
//!
//! # Matching DNS answers
//!
//! Rows with `location_found` = `dns` are indexed when a set is built:
//!
//! * `full` rows whose pattern parses as an IP address go into an address map and match an
//!   answer address that is the same address (compared as addresses, so `2001:DB8::1` equals
//!   `2001:db8:0::1`; IPv4-mapped IPv6 addresses count as their IPv4 address);
//! * other `full` rows are names (CNAME targets such as Indonesia's `internet-positif.org`)
//!   and go into a name map; names are compared without ASCII case and without a trailing dot;
//! * `prefix`, `contains` and `regexp` rows are kept in a short list and tried against the
//!   canonical text of an address (`Ipv4Addr`/`Ipv6Addr` display form, lowercase) and against
//!   the normalised name (lowercase, no trailing dot); `prefix` and `contains` ignore ASCII
//!   case, a regular expression sees the normalised text as it is.
//!
//! Rows of scope `fp` describe values known to be innocent. [`FingerprintSet::match_dns_address`]
//! and [`FingerprintSet::match_dns_name`] never return them: when an `fp` row matches a value,
//! they return no row at all for it. [`FingerprintSet::is_false_positive_dns_address`] and
//! [`FingerprintSet::is_false_positive_dns_name`] say when that happened.
//!
//! Results come in set order: bundled rows first, then the rows of each user file in the order
//! the files were merged, each file in its own row order.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::net::IpAddr;
use std::path::Path;
use std::sync::{Arc, OnceLock};

use regex::Regex;
use serde::Deserialize;

/// The bundled DNS rows (OONI blocking-fingerprints, unchanged).
const BUILTIN_DNS: &str = include_str!("data/fingerprints/dns.csv");

/// The `origin` of the bundled rows.
pub const BUILTIN_ORIGIN: &str = "builtin";

/// The collection the bundled rows come from, credited in [`Fingerprint::attribution`].
pub const BUILTIN_COLLECTION: &str = "OONI blocking-fingerprints";

/// The name prefix of bundled rows that are tamper's own rather than OONI's.
const OWN_PREFIX: &str = "tamper.";

/// Columns every fingerprint file must name in its header row.
const REQUIRED_COLUMNS: [&str; 5] = ["name", "scope", "location_found", "pattern_type", "pattern"];

/// Highest value of `confidence_no_fp` (the values in OONI's files run from 0 to 10).
const MAX_CONFIDENCE: u8 = 10;

/// Who blocks, or what a pattern is for (OONI's `scope`, after Citizen Lab's annotations).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// `nat`: a national blockpage or filter.
    Nat,
    /// `isp`: one ISP's blockpage or filter.
    Isp,
    /// `prod`: a middlebox or filtering product.
    Prod,
    /// `inst`: a voluntary filter of an institution (school, office).
    Inst,
    /// `vbw`: a vague blocking word (weak evidence by itself).
    Vbw,
    /// `fp`: a pattern of something innocent that looks like blocking (a false positive).
    Fp,
    /// `injb`: a benign injection, such as a home router's firmware-update notice (used in
    /// OONI's HTTP file).
    Injb,
    /// `prov`: a block by the content provider itself, such as a geoblock redirect (used in
    /// OONI's HTTP file).
    Prov,
}

impl Scope {
    /// Every scope, in the order of OONI's documentation.
    pub const ALL: [Scope; 8] = [
        Scope::Nat,
        Scope::Isp,
        Scope::Prod,
        Scope::Inst,
        Scope::Vbw,
        Scope::Fp,
        Scope::Injb,
        Scope::Prov,
    ];

    /// The value as written in the file (`nat`, `isp`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Nat => "nat",
            Scope::Isp => "isp",
            Scope::Prod => "prod",
            Scope::Inst => "inst",
            Scope::Vbw => "vbw",
            Scope::Fp => "fp",
            Scope::Injb => "injb",
            Scope::Prov => "prov",
        }
    }

    /// A few words for reports: what a match of this scope means.
    pub fn describe(self) -> &'static str {
        match self {
            Scope::Nat => "a national filter",
            Scope::Isp => "an ISP's filter",
            Scope::Prod => "a filtering product",
            Scope::Inst => "an institution's filter",
            Scope::Vbw => "a conventional blocking answer, weak evidence alone",
            Scope::Fp => "a known innocent look-alike",
            Scope::Injb => "a benign injection",
            Scope::Prov => "the content provider's own block",
        }
    }

    fn parse(text: &str) -> Option<Scope> {
        let text = text.trim();
        Scope::ALL
            .into_iter()
            .find(|s| s.as_str().eq_ignore_ascii_case(text))
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a pattern is looked for (OONI's `location_found`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Location {
    /// `dns`: an answer of a DNS response (an address, or a name such as a CNAME target).
    Dns,
    /// `body`: an HTTP response body.
    Body,
    /// `header.<name>`: the value of an HTTP response header; the name is kept in lowercase.
    Header(String),
}

impl Location {
    fn parse(text: &str) -> Option<Location> {
        let text = text.trim();
        if text.eq_ignore_ascii_case("dns") {
            return Some(Location::Dns);
        }
        if text.eq_ignore_ascii_case("body") {
            return Some(Location::Body);
        }
        let (prefix, header) = text.split_once('.')?;
        let token = |c: char| c.is_ascii_graphic() && !"()<>@,;:\\\"/[]?={}".contains(c);
        (prefix.eq_ignore_ascii_case("header") && !header.is_empty() && header.chars().all(token))
            .then(|| Location::Header(header.to_ascii_lowercase()))
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Dns => f.write_str("dns"),
            Location::Body => f.write_str("body"),
            Location::Header(name) => write!(f, "header.{name}"),
        }
    }
}

impl serde::Serialize for Location {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// How a pattern is compared with a value (OONI's `pattern_type`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PatternType {
    /// `full`: the value equals the pattern.
    Full,
    /// `prefix`: the value starts with the pattern.
    Prefix,
    /// `contains`: the value contains the pattern.
    Contains,
    /// `regexp`: the regular expression matches somewhere in the value.
    Regexp,
}

impl PatternType {
    /// Every pattern type.
    pub const ALL: [PatternType; 4] = [
        PatternType::Full,
        PatternType::Prefix,
        PatternType::Contains,
        PatternType::Regexp,
    ];

    /// The value as written in the file (`full`, `prefix`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            PatternType::Full => "full",
            PatternType::Prefix => "prefix",
            PatternType::Contains => "contains",
            PatternType::Regexp => "regexp",
        }
    }

    fn parse(text: &str) -> Option<PatternType> {
        let text = text.trim();
        PatternType::ALL
            .into_iter()
            .find(|p| p.as_str().eq_ignore_ascii_case(text))
    }
}

impl fmt::Display for PatternType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One row of a fingerprint file.
#[derive(Clone, Debug)]
pub struct Fingerprint {
    /// Identifier, unique within its file (`ooni.cn_0`); reported in findings.
    pub name: String,
    /// Who blocks, or `fp` for a false-positive pattern.
    pub scope: Scope,
    /// Names of the same fingerprint in other collections (`cl.dns_nat_cn_poison_01`).
    pub other_names: Vec<String>,
    /// Where the pattern is looked for.
    pub location: Location,
    /// How the pattern is compared.
    pub pattern_type: PatternType,
    /// The pattern, exactly as written (leading and trailing spaces are part of text patterns).
    pub pattern: String,
    /// How unlikely a false positive is, 0 (likely, or not rated) to 10 (very unlikely); the
    /// authors' own assessment.
    pub confidence_no_fp: u8,
    /// Countries where the pattern is expected (ISO codes in uppercase; `ZZ` is OONI's
    /// "anywhere"); empty when not given.
    pub countries: Vec<String>,
    /// Where the fingerprint comes from, as given (an organisation or URLs; may be empty).
    pub source: String,
    /// A measurement that shows the fingerprint.
    pub exp_url: Option<String>,
    /// Free-form notes.
    pub notes: String,
    /// [`BUILTIN_ORIGIN`] for bundled rows, or the path of the user file the row came from.
    pub origin: String,
    /// The compiled pattern of a `regexp` row.
    regex: Option<Regex>,
}

impl Fingerprint {
    /// The compiled regular expression of a `regexp` row (`None` for other pattern types).
    pub fn regex(&self) -> Option<&Regex> {
        self.regex.as_ref()
    }

    /// Credit for the row, never empty: its `source`, and for bundled rows from OONI's
    /// collection that collection too (`ooni (via OONI blocking-fingerprints)`); a row without
    /// a source is credited to its file. Bundled rows of tamper's own (named `tamper.*`) are
    /// not credited to OONI.
    pub fn attribution(&self) -> String {
        let source = self.source.trim();
        let from_ooni = self.origin == BUILTIN_ORIGIN && !self.name.starts_with(OWN_PREFIX);
        match (from_ooni, source.is_empty()) {
            (true, true) => BUILTIN_COLLECTION.to_string(),
            (true, false) => format!("{source} (via {BUILTIN_COLLECTION})"),
            (false, true) => self.origin.clone(),
            (false, false) => source.to_string(),
        }
    }

    /// True for rows of scope `fp` (patterns of innocent look-alikes).
    pub fn is_false_positive(&self) -> bool {
        self.scope == Scope::Fp
    }

    /// Whether this row's pattern matches `text` under a non-`full` pattern type; `lowered` is
    /// the pattern in ASCII lowercase, `text` is already normalised.
    fn matches_normalised(&self, lowered: &str, text: &str) -> bool {
        match self.pattern_type {
            PatternType::Full => lowered == text,
            PatternType::Prefix => text.starts_with(lowered),
            PatternType::Contains => text.contains(lowered),
            PatternType::Regexp => self.regex.as_ref().is_some_and(|r| r.is_match(text)),
        }
    }
}

/// Why a fingerprint file could not be used. The message names the file and, for a bad row or
/// header, its line (1-based, counted as a text editor does).
#[derive(Debug, thiserror::Error)]
pub enum FingerprintError {
    /// The file could not be read.
    #[error("cannot read fingerprint file {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A line of the file is not a valid header or row.
    #[error("fingerprint file {path}, line {line}: {message}")]
    Invalid {
        /// The file ([`BUILTIN_ORIGIN`] for the bundled data).
        path: String,
        /// The line where the bad header or row starts.
        line: u64,
        /// What is wrong.
        message: String,
    },
}

impl FingerprintError {
    /// The file the error is about.
    pub fn path(&self) -> &str {
        match self {
            FingerprintError::Read { path, .. } | FingerprintError::Invalid { path, .. } => path,
        }
    }

    /// The line the error is about, when it is about a line.
    pub fn line(&self) -> Option<u64> {
        match self {
            FingerprintError::Read { .. } => None,
            FingerprintError::Invalid { line, .. } => Some(*line),
        }
    }
}

/// A row as written, before validation. Columns not listed here are ignored; optional columns
/// may be missing.
#[derive(Deserialize)]
struct RawRow {
    name: String,
    scope: String,
    location_found: String,
    pattern_type: String,
    pattern: String,
    #[serde(default)]
    other_names: String,
    #[serde(default)]
    confidence_no_fp: String,
    #[serde(default)]
    expected_countries: String,
    #[serde(default)]
    source: String,
    #[serde(default)]
    exp_url: String,
    #[serde(default)]
    notes: String,
}

/// A non-`full` DNS row: its index and its pattern in ASCII lowercase.
#[derive(Clone, Debug)]
struct TextualRow {
    row: usize,
    lowered: String,
}

/// Lookup structures over the `dns` rows of a set (indices into its rows, ascending).
#[derive(Clone, Debug, Default)]
struct DnsIndex {
    by_address: HashMap<IpAddr, Vec<usize>>,
    by_name: HashMap<String, Vec<usize>>,
    textual: Vec<TextualRow>,
}

/// An ordered collection of fingerprints with lookup structures for DNS answers.
#[derive(Clone, Default)]
pub struct FingerprintSet {
    rows: Vec<Fingerprint>,
    dns: DnsIndex,
}

impl fmt::Debug for FingerprintSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Hundreds of rows are of no use in a debug print: say how many came from where.
        let mut origins: Vec<(&str, usize)> = Vec::new();
        for r in &self.rows {
            match origins.last_mut() {
                Some((o, n)) if *o == r.origin => *n += 1,
                _ => origins.push((&r.origin, 1)),
            }
        }
        f.debug_struct("FingerprintSet")
            .field("rows", &self.rows.len())
            .field("origins", &origins)
            .finish()
    }
}

impl FingerprintSet {
    /// The fingerprints shipped with tamper (OONI's DNS rows).
    pub fn builtin() -> FingerprintSet {
        // The bundled file is checked by a unit test; an empty set is the safe fallback.
        FingerprintSet::parse(BUILTIN_DNS.as_bytes(), BUILTIN_ORIGIN).unwrap_or_default()
    }

    /// The bundled set, parsed once per process and shared.
    pub fn shared_builtin() -> Arc<FingerprintSet> {
        static BUILTIN: OnceLock<Arc<FingerprintSet>> = OnceLock::new();
        Arc::clone(BUILTIN.get_or_init(|| Arc::new(FingerprintSet::builtin())))
    }

    /// Reads a user fingerprint file; its rows get the path as their `origin`.
    pub fn load_file(path: impl AsRef<Path>) -> Result<FingerprintSet, FingerprintError> {
        let path = path.as_ref();
        let origin = path.display().to_string();
        let data = std::fs::read(path).map_err(|source| FingerprintError::Read {
            path: origin.clone(),
            source,
        })?;
        FingerprintSet::parse(&data, &origin)
    }

    /// Parses fingerprint CSV text (OONI's schema, header row first); `origin` names the source
    /// in errors and in every row's `origin`.
    pub fn parse(data: &[u8], origin: &str) -> Result<FingerprintSet, FingerprintError> {
        let invalid = |line: u64, message: String| FingerprintError::Invalid {
            path: origin.to_string(),
            line,
            message,
        };
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(true)
            .trim(csv::Trim::Headers)
            .from_reader(data);
        let headers = reader
            .headers()
            .map_err(|e| invalid(1, csv_problem(&e)))?
            .clone();
        if headers.iter().all(str::is_empty) {
            return Err(invalid(
                1,
                "no header row (the first line must name the columns, as in OONI's files)".into(),
            ));
        }
        for column in REQUIRED_COLUMNS {
            if !headers.iter().any(|h| h == column) {
                return Err(invalid(
                    1,
                    format!(
                        "the header row has no `{column}` column (required: {})",
                        REQUIRED_COLUMNS.join(", ")
                    ),
                ));
            }
        }
        let mut rows = Vec::new();
        let mut first_line: HashMap<String, u64> = HashMap::new();
        for record in reader.records() {
            let record = record.map_err(|e| {
                let line = e.position().map_or(0, |p| p.line());
                invalid(line, csv_problem(&e))
            })?;
            let line = record.position().map_or(0, |p| p.line());
            let raw: RawRow = record
                .deserialize(Some(&headers))
                .map_err(|e| invalid(line, e.to_string()))?;
            let row = validate(raw, origin).map_err(|m| invalid(line, m))?;
            if let Some(earlier) = first_line.insert(row.name.clone(), line) {
                return Err(invalid(
                    line,
                    format!(
                        "the name `{}` is already used on line {earlier}; names must be unique within a file",
                        row.name
                    ),
                ));
            }
            rows.push(row);
        }
        Ok(FingerprintSet::from_rows(rows))
    }

    /// Adds the rows of `other` after this set's rows. A row of `other` whose name is already
    /// in this set replaces the older row (which is dropped; the newer row takes its place at
    /// the end, in `other`'s order).
    pub fn merge(&mut self, other: FingerprintSet) {
        let replaced: HashSet<&str> = other.rows.iter().map(|r| r.name.as_str()).collect();
        let mut rows: Vec<Fingerprint> = std::mem::take(&mut self.rows)
            .into_iter()
            .filter(|r| !replaced.contains(r.name.as_str()))
            .collect();
        rows.extend(other.rows);
        *self = FingerprintSet::from_rows(rows);
    }

    /// Every row, in set order.
    pub fn rows(&self) -> &[Fingerprint] {
        &self.rows
    }

    /// The number of rows.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// True when the set has no rows.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The row with this name, if any.
    pub fn get(&self, name: &str) -> Option<&Fingerprint> {
        self.rows.iter().find(|r| r.name == name)
    }

    /// The `dns` rows (other than `fp` rows) that match an address found in a DNS answer, in
    /// set order; nothing when an `fp` row matches the address.
    pub fn match_dns_address(&self, addr: IpAddr) -> Vec<&Fingerprint> {
        self.without_false_positives(self.dns_address_hits(addr))
    }

    /// The `dns` rows (other than `fp` rows) that match a name found in a DNS answer (a CNAME
    /// target, say), in set order; nothing when an `fp` row matches the name. Case and a
    /// trailing dot do not matter.
    pub fn match_dns_name(&self, name: &str) -> Vec<&Fingerprint> {
        self.without_false_positives(self.dns_name_hits(name))
    }

    /// True when an `fp` row matches the address (and [`Self::match_dns_address`] is therefore
    /// empty for it).
    pub fn is_false_positive_dns_address(&self, addr: IpAddr) -> bool {
        self.dns_address_hits(addr)
            .iter()
            .any(|&i| self.rows[i].is_false_positive())
    }

    /// True when an `fp` row matches the name (and [`Self::match_dns_name`] is therefore empty
    /// for it).
    pub fn is_false_positive_dns_name(&self, name: &str) -> bool {
        self.dns_name_hits(name)
            .iter()
            .any(|&i| self.rows[i].is_false_positive())
    }

    fn from_rows(rows: Vec<Fingerprint>) -> FingerprintSet {
        let mut dns = DnsIndex::default();
        for (i, r) in rows.iter().enumerate() {
            if r.location != Location::Dns {
                continue;
            }
            if r.pattern_type != PatternType::Full {
                dns.textual.push(TextualRow {
                    row: i,
                    lowered: r.pattern.trim().to_ascii_lowercase(),
                });
            } else if let Some(addr) = parse_address(&r.pattern) {
                dns.by_address.entry(addr).or_default().push(i);
            } else {
                let name = normalise_name(&r.pattern);
                if !name.is_empty() {
                    dns.by_name.entry(name).or_default().push(i);
                }
            }
        }
        FingerprintSet { rows, dns }
    }

    /// Indices of every `dns` row (`fp` included) matching the address, ascending.
    fn dns_address_hits(&self, addr: IpAddr) -> Vec<usize> {
        let addr = addr.to_canonical();
        let mut hits = self.dns.by_address.get(&addr).cloned().unwrap_or_default();
        if !self.dns.textual.is_empty() {
            let text = addr.to_string();
            self.textual_hits(&text, &mut hits);
        }
        hits
    }

    /// Indices of every `dns` row (`fp` included) matching the name, ascending.
    fn dns_name_hits(&self, name: &str) -> Vec<usize> {
        let name = normalise_name(name);
        if name.is_empty() {
            return Vec::new();
        }
        let mut hits = self.dns.by_name.get(&name).cloned().unwrap_or_default();
        self.textual_hits(&name, &mut hits);
        hits
    }

    fn textual_hits(&self, text: &str, hits: &mut Vec<usize>) {
        let before = hits.len();
        hits.extend(
            self.dns
                .textual
                .iter()
                .filter(|t| self.rows[t.row].matches_normalised(&t.lowered, text))
                .map(|t| t.row),
        );
        if hits.len() > before {
            hits.sort_unstable();
        }
    }

    fn without_false_positives(&self, hits: Vec<usize>) -> Vec<&Fingerprint> {
        let rows: Vec<&Fingerprint> = hits.into_iter().map(|i| &self.rows[i]).collect();
        if rows.iter().any(|r| r.is_false_positive()) {
            Vec::new()
        } else {
            rows
        }
    }
}

/// A DNS row's pattern as an address (IPv4-mapped IPv6 addresses become IPv4).
fn parse_address(pattern: &str) -> Option<IpAddr> {
    pattern
        .trim()
        .parse::<IpAddr>()
        .ok()
        .map(|a| a.to_canonical())
}

/// A DNS name for comparison: ASCII lowercase, surrounding spaces and one trailing dot removed.
fn normalise_name(name: &str) -> String {
    let name = name.trim();
    let name = name.strip_suffix('.').unwrap_or(name);
    name.to_ascii_lowercase()
}

/// Compiles a `regexp` pattern. OONI's patterns were written for Python, where a `{` that does
/// not open a repetition count (`{2}`, `{2,}`, `{2,5}`) is an ordinary character; Rust's regex
/// refuses such a brace, so when a pattern does not compile as written it is tried again with
/// those braces escaped. The first error is the one reported.
fn compile_regex(pattern: &str) -> Result<Regex, regex::Error> {
    Regex::new(pattern).or_else(|first| {
        let lenient = escape_literal_braces(pattern);
        if lenient == pattern {
            return Err(first);
        }
        Regex::new(&lenient).map_err(|_| first)
    })
}

/// `pattern` with every `{` outside a character class that does not open a repetition count
/// written as `\{`.
fn escape_literal_braces(pattern: &str) -> String {
    let chars: Vec<char> = pattern.chars().collect();
    let mut out = String::with_capacity(pattern.len() + 4);
    let mut in_class = false;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        out.push(c);
        match c {
            '\\' => {
                // An escaped character stays as it is.
                if let Some(&next) = chars.get(i + 1) {
                    out.push(next);
                    i += 1;
                }
            }
            '[' if !in_class => {
                in_class = true;
                // A `]` first in a class (after an optional `^`) is a member, not the end.
                if chars.get(i + 1) == Some(&'^') {
                    out.push('^');
                    i += 1;
                }
                if chars.get(i + 1) == Some(&']') {
                    out.push(']');
                    i += 1;
                }
            }
            ']' if in_class => in_class = false,
            '{' if !in_class && !opens_repetition(&chars[i + 1..]) => {
                out.pop();
                out.push_str("\\{");
            }
            _ => {}
        }
        i += 1;
    }
    out
}

/// Whether the text after a `{` is a repetition count: digits, optionally a comma and more
/// digits, then `}`.
fn opens_repetition(rest: &[char]) -> bool {
    let digits = |from: usize| {
        from + rest[from.min(rest.len())..]
            .iter()
            .take_while(|c| c.is_ascii_digit())
            .count()
    };
    let mut j = digits(0);
    if j == 0 {
        return false;
    }
    if rest.get(j) == Some(&',') {
        j = digits(j + 1);
    }
    rest.get(j) == Some(&'}')
}

/// Splits a comma-separated cell into trimmed, non-empty items.
fn list(cell: &str) -> Vec<String> {
    cell.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// What a CSV reading error means for the user.
fn csv_problem(e: &csv::Error) -> String {
    match e.kind() {
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => format!("the row has {len} fields but the header row has {expected_len}"),
        csv::ErrorKind::Utf8 { .. } => "the text is not valid UTF-8".to_string(),
        _ => e.to_string(),
    }
}

/// Checks a row and turns it into a fingerprint, or says what is wrong with it.
fn validate(raw: RawRow, origin: &str) -> Result<Fingerprint, String> {
    let name = raw.name.trim().to_string();
    if name.is_empty() {
        return Err("the `name` is empty".into());
    }
    let scope = Scope::parse(&raw.scope).ok_or_else(|| {
        let all: Vec<&str> = Scope::ALL.iter().map(|s| s.as_str()).collect();
        format!(
            "unknown scope `{}` in row `{name}` (expected one of {})",
            raw.scope,
            all.join(", ")
        )
    })?;
    let location = Location::parse(&raw.location_found).ok_or_else(|| {
        format!(
            "unknown location_found `{}` in row `{name}` (expected dns, body or header.<name>)",
            raw.location_found
        )
    })?;
    let pattern_type = PatternType::parse(&raw.pattern_type).ok_or_else(|| {
        let all: Vec<&str> = PatternType::ALL.iter().map(|p| p.as_str()).collect();
        format!(
            "unknown pattern_type `{}` in row `{name}` (expected one of {})",
            raw.pattern_type,
            all.join(", ")
        )
    })?;
    if raw.pattern.trim().is_empty() {
        return Err(format!("the `pattern` of row `{name}` is empty"));
    }
    let regex = match pattern_type {
        PatternType::Regexp => Some(compile_regex(&raw.pattern).map_err(|e| {
            format!("the `pattern` of row `{name}` is not a valid regular expression: {e}")
        })?),
        _ => None,
    };
    let confidence = raw.confidence_no_fp.trim();
    let confidence_no_fp = if confidence.is_empty() {
        0
    } else {
        confidence
            .parse::<u8>()
            .ok()
            .filter(|c| *c <= MAX_CONFIDENCE)
            .ok_or_else(|| {
                format!(
                    "confidence_no_fp `{confidence}` of row `{name}` is not a whole number from 0 to {MAX_CONFIDENCE}"
                )
            })?
    };
    let exp_url = Some(raw.exp_url.trim().to_string()).filter(|u| !u.is_empty());
    Ok(Fingerprint {
        name,
        scope,
        other_names: list(&raw.other_names),
        location,
        pattern_type,
        pattern: raw.pattern,
        confidence_no_fp,
        countries: list(&raw.expected_countries)
            .into_iter()
            .map(|c| c.to_ascii_uppercase())
            .collect(),
        source: raw.source,
        exp_url,
        notes: raw.notes,
        origin: origin.to_string(),
        regex,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "name,scope,other_names,location_found,pattern_type,pattern,confidence_no_fp,expected_countries,source,exp_url,notes\n";

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn names(rows: &[&Fingerprint]) -> Vec<String> {
        rows.iter().map(|r| r.name.clone()).collect()
    }

    fn user(text: &str) -> Result<FingerprintSet, FingerprintError> {
        FingerprintSet::parse(text.as_bytes(), "user.csv")
    }

    fn error_of(text: &str) -> String {
        user(text).expect_err("must be refused").to_string()
    }

    #[test]
    fn bundled_file_parses_with_unique_names_and_attribution() {
        let set = FingerprintSet::parse(BUILTIN_DNS.as_bytes(), BUILTIN_ORIGIN)
            .expect("bundled fingerprint file");
        let dns = set
            .rows()
            .iter()
            .filter(|r| r.location == Location::Dns)
            .count();
        assert!(dns >= 200, "{dns} DNS rows");
        let mut seen = HashSet::new();
        assert!(set.rows().iter().all(|r| seen.insert(r.name.clone())));
        assert!(set.rows().iter().all(|r| r.origin == BUILTIN_ORIGIN));
        // Names and sources are OONI's, unchanged: compare with the raw CSV cells.
        let mut reader = csv::Reader::from_reader(BUILTIN_DNS.as_bytes());
        let raw: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
        assert_eq!(raw.len(), set.len());
        for (rec, row) in raw.iter().zip(set.rows()) {
            assert_eq!(&rec[0], row.name);
            assert_eq!(&rec[8], row.source);
        }
        assert_eq!(FingerprintSet::builtin().len(), set.len());
        assert_eq!(FingerprintSet::shared_builtin().len(), set.len());
    }

    #[test]
    fn bundled_addresses_and_names_match() {
        let set = FingerprintSet::builtin();
        assert_eq!(
            names(&set.match_dns_address(ip("8.7.198.45"))),
            ["ooni.cn_0"]
        );
        assert_eq!(
            names(&set.match_dns_address(ip("10.10.34.35"))),
            ["ooni.ir_5"]
        );
        let cn = set.match_dns_address(ip("8.7.198.45"))[0];
        assert_eq!(cn.scope, Scope::Nat);
        assert_eq!(cn.countries, ["CN"]);
        assert_eq!(cn.other_names, ["cl.dns_nat_cn_poison_01"]);
        assert_eq!(cn.source, "ooni");
        assert_eq!(cn.attribution(), "ooni (via OONI blocking-fingerprints)");
        let zero = set.match_dns_address(ip("0.0.0.0"))[0];
        assert_eq!(zero.name, "cl.dns_br_allzero");
        assert_eq!(zero.attribution(), "OONI blocking-fingerprints");
        let own = FingerprintSet::parse(
            format!("{HEADER}tamper.xx_1,isp,,dns,full,192.0.2.9,5,,a paper,,\n").as_bytes(),
            BUILTIN_ORIGIN,
        )
        .unwrap();
        assert_eq!(own.rows()[0].attribution(), "a paper");
        // IPv6 compared as addresses, whatever the spelling.
        assert_eq!(
            names(&set.match_dns_address(ip("D0:0:0::11"))),
            ["ooni.ir_ipv6_1"]
        );
        // An IPv4-mapped answer is its IPv4 address.
        assert_eq!(
            names(&set.match_dns_address(ip("::ffff:8.7.198.45"))),
            ["ooni.cn_0"]
        );
        // CNAME targets: no case, trailing dot ignored.
        assert_eq!(
            names(&set.match_dns_name("Internet-Positif.ORG.")),
            ["ooni.id_44"]
        );
        assert!(set.match_dns_name("positif.org").is_empty());
        assert!(set.match_dns_name("").is_empty());
        assert!(set.match_dns_name(".").is_empty());
        assert!(set.match_dns_address(ip("192.0.2.1")).is_empty());
        // Address rows are not names.
        assert!(set.match_dns_name("8.7.198.45").is_empty());
    }

    #[test]
    fn user_rows_follow_the_bundled_rows_in_order() {
        let mut set = FingerprintSet::builtin();
        let n = set.len();
        let extra = user(&format!(
            "{HEADER}me.poison_1,nat,,dns,full,8.7.198.45,7,XX,me,,\nme.poison_2,isp,,dns,prefix,8.7.198.,3,,me,,\n"
        ))
        .unwrap();
        set.merge(extra);
        assert_eq!(set.len(), n + 2);
        assert_eq!(
            names(&set.match_dns_address(ip("8.7.198.45"))),
            ["ooni.cn_0", "me.poison_1", "me.poison_2"]
        );
        assert_eq!(set.rows()[n].origin, "user.csv");
        assert_eq!(set.rows()[n].countries, ["XX"]);
        assert_eq!(set.rows()[n].attribution(), "me");
        // A later file redefining a name replaces the earlier row.
        set.merge(
            user(&format!(
                "{HEADER}ooni.cn_0,isp,,dns,full,192.0.2.7,5,,me,,\n"
            ))
            .unwrap(),
        );
        assert_eq!(set.len(), n + 2);
        assert_eq!(
            names(&set.match_dns_address(ip("8.7.198.45"))),
            ["me.poison_1", "me.poison_2"]
        );
        assert_eq!(
            names(&set.match_dns_address(ip("192.0.2.7"))),
            ["ooni.cn_0"]
        );
        assert_eq!(set.get("ooni.cn_0").unwrap().origin, "user.csv");
    }

    #[test]
    fn textual_patterns_on_addresses_and_names() {
        let set = user(&format!(
            "{HEADER}\
t.prefix,isp,,dns,prefix,10.66.,5,,t,,\n\
t.v6prefix,isp,,dns,prefix,2001:DB8:,5,,t,,\n\
t.contains,isp,,dns,contains,Blocked,5,,t,,\n\
t.regexp,prod,,dns,regexp,^warn[0-9]+\\.example\\.net$,5,,t,,\n"
        ))
        .unwrap();
        assert_eq!(names(&set.match_dns_address(ip("10.66.1.2"))), ["t.prefix"]);
        assert!(set.match_dns_address(ip("10.6.6.1")).is_empty());
        assert_eq!(
            names(&set.match_dns_address(ip("2001:0db8::5"))),
            ["t.v6prefix"]
        );
        assert_eq!(
            names(&set.match_dns_name("www.BLOCKED-sites.example.")),
            ["t.contains"]
        );
        assert_eq!(
            names(&set.match_dns_name("WARN12.example.net.")),
            ["t.regexp"]
        );
        assert!(set.match_dns_name("warn.example.net").is_empty());
        assert!(set.get("t.regexp").unwrap().regex().is_some());
        assert!(set.get("t.prefix").unwrap().regex().is_none());
    }

    #[test]
    fn false_positive_rows_silence_matches() {
        let set = user(&format!(
            "{HEADER}\
b.private,vbw,,dns,prefix,10.,2,,t,,\n\
b.mine,fp,,dns,full,10.1.2.3,10,,t,,my own split-horizon server\n\
b.name,isp,,dns,contains,block,5,,t,,\n\
b.name_fp,fp,,dns,full,blockchain.example,10,,t,,\n"
        ))
        .unwrap();
        assert_eq!(names(&set.match_dns_address(ip("10.9.9.9"))), ["b.private"]);
        assert!(!set.is_false_positive_dns_address(ip("10.9.9.9")));
        assert!(set.match_dns_address(ip("10.1.2.3")).is_empty());
        assert!(set.is_false_positive_dns_address(ip("10.1.2.3")));
        assert_eq!(names(&set.match_dns_name("block.isp.example")), ["b.name"]);
        assert!(set.match_dns_name("BlockChain.example.").is_empty());
        assert!(set.is_false_positive_dns_name("blockchain.example"));
        assert!(!set.is_false_positive_dns_name("block.isp.example"));
    }

    #[test]
    fn http_rows_extra_and_missing_columns_are_accepted() {
        // Columns in another order, an extra column, optional columns missing, CRLF endings,
        // a byte-order mark, quoted cells with commas and newlines.
        let text = "\u{feff}pattern_type,name,location_found,scope,pattern,comment\r\n\
prefix,x.loc,header.Location,isp,http://warning.example/,ignored\r\n\
contains,x.body,body,nat,\" <title>Blocked, sorry</title>\n\",\r\n\
regexp,x.re,body,fp,You don.t have permission to access.*on this server\\.,\r\n\
contains,x.injb,body,injb,/main/fwUpInfoBlock.htm,\r\n\
contains,x.prov,header.location,prov,/blank.php?rkn=,\r\n";
        let set = user(text).unwrap();
        assert_eq!(set.len(), 5);
        let loc = set.get("x.loc").unwrap();
        assert_eq!(loc.location, Location::Header("location".into()));
        assert_eq!(loc.location.to_string(), "header.location");
        assert_eq!(loc.confidence_no_fp, 0);
        assert!(loc.countries.is_empty() && loc.source.is_empty() && loc.exp_url.is_none());
        assert_eq!(loc.attribution(), "user.csv");
        assert_eq!(
            set.get("x.body").unwrap().pattern,
            " <title>Blocked, sorry</title>\n"
        );
        assert!(set.get("x.re").unwrap().regex().is_some());
        assert_eq!(set.get("x.injb").unwrap().scope, Scope::Injb);
        assert_eq!(set.get("x.prov").unwrap().scope, Scope::Prov);
        // HTTP rows are not DNS rows.
        assert!(set.match_dns_name("warning.example").is_empty());
    }

    #[test]
    fn bad_rows_name_the_file_and_line() {
        let e = error_of(&format!(
            "{HEADER}a,nat,,dns,full,192.0.2.1,5,,t,,\nb,national,,dns,full,192.0.2.2,5,,t,,\n"
        ));
        assert!(
            e.contains("user.csv") && e.contains("line 3") && e.contains("national"),
            "{e}"
        );
        let e = error_of(&format!("{HEADER}a,nat,,answer,full,192.0.2.1,5,,t,,\n"));
        assert!(e.contains("line 2") && e.contains("location_found"), "{e}");
        let e = error_of(&format!("{HEADER}a,nat,,header.,full,x,5,,t,,\n"));
        assert!(e.contains("line 2") && e.contains("header."), "{e}");
        let e = error_of(&format!("{HEADER}a,nat,,dns,glob,192.0.2.1,5,,t,,\n"));
        assert!(e.contains("line 2") && e.contains("pattern_type"), "{e}");
        let e = error_of(&format!("{HEADER}a,nat,,body,regexp,(unclosed,5,,t,,\n"));
        assert!(
            e.contains("line 2") && e.contains("regular expression"),
            "{e}"
        );
        let e = error_of(&format!("{HEADER}a,nat,,dns,full,192.0.2.1,11,,t,,\n"));
        assert!(
            e.contains("line 2") && e.contains("confidence_no_fp"),
            "{e}"
        );
        let e = error_of(&format!("{HEADER}a,nat,,dns,full,  ,5,,t,,\n"));
        assert!(e.contains("line 2") && e.contains("empty"), "{e}");
        let e = error_of(&format!("{HEADER}a,nat,,dns,full,192.0.2.1,5\n"));
        assert!(e.contains("line 2") && e.contains("fields"), "{e}");
        let e = error_of(&format!(
            "{HEADER}a,nat,,dns,full,192.0.2.1,5,,t,,\n\"b\nc\",nat,,dns,full,192.0.2.2,5,,t,,\na,isp,,dns,full,192.0.2.3,5,,t,,\n"
        ));
        assert!(e.contains("line 5") && e.contains("line 2"), "{e}");
        let e = error_of("name,scope,location_found,pattern\na,nat,dns,192.0.2.1\n");
        assert!(e.contains("line 1") && e.contains("pattern_type"), "{e}");
        let e = error_of("");
        assert!(e.contains("line 1") && e.contains("header"), "{e}");
        let e = error_of("ooni.cn_0,nat,,dns,full,8.7.198.45,5,CN,ooni,,\n");
        assert!(e.contains("line 1") && e.contains("header"), "{e}");
        let bad_utf8 = [HEADER.as_bytes(), b"a,nat,,dns,full,\xff,5,,t,,\n"].concat();
        let e = FingerprintSet::parse(&bad_utf8, "user.csv")
            .unwrap_err()
            .to_string();
        assert!(e.contains("line 2") && e.contains("UTF-8"), "{e}");
        // A header alone is a valid, empty file.
        assert!(user(HEADER).unwrap().is_empty());
    }

    #[test]
    fn python_style_literal_braces_are_accepted() {
        assert_eq!(
            escape_literal_braces(r#"{"msg":.*"id":"#),
            r#"\{"msg":.*"id":"#
        );
        for kept in [r"a{2}b{3,}c{4,5}", r"[{}]x", r"\{y", r"[]{]z", r"[^]{]z"] {
            assert_eq!(escape_literal_braces(kept), kept);
        }
        assert_eq!(escape_literal_braces("a{b}{2"), r"a\{b}\{2");
        let set = user(&format!(
            "{HEADER}cp.fp_x_msg_id,fp,,body,regexp,\"{{\"\"msg\"\":.*\"\"id\"\":\",5,,t,,\n"
        ))
        .unwrap();
        let re = set.get("cp.fp_x_msg_id").unwrap();
        assert_eq!(re.pattern, r#"{"msg":.*"id":"#);
        assert!(re.regex().unwrap().is_match(r#"{"msg": "gone", "id": 4}"#));
        // Still an error when escaping braces does not help; the original error is given.
        let e = error_of(&format!("{HEADER}a,nat,,body,regexp,{{x(,5,,t,,\n"));
        assert!(e.contains("line 2") && e.contains("{x("), "{e}");
    }

    #[test]
    fn unreadable_file_names_the_path() {
        let e = FingerprintSet::load_file("/nonexistent/fingerprints.csv").unwrap_err();
        assert_eq!(e.path(), "/nonexistent/fingerprints.csv");
        assert_eq!(e.line(), None);
        assert!(e.to_string().contains("/nonexistent/fingerprints.csv"));
    }

    #[test]
    fn oonis_own_files_load_unchanged() {
        // The reference copies of OONI's files sit next to the project when available.
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/reference/fingerprints");
        let mut found = 0;
        for file in ["ooni_fingerprints_dns.csv", "ooni_fingerprints_http.csv"] {
            let path = dir.join(file);
            if !path.exists() {
                continue;
            }
            found += 1;
            let set = FingerprintSet::load_file(&path)
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            assert!(set.len() > 200, "{}", path.display());
        }
        if found == 0 {
            eprintln!(
                "SKIPPED oonis_own_files_load_unchanged: no reference files in {}",
                dir.display()
            );
        }
    }

    #[test]
    fn debug_print_is_short() {
        let text = format!("{:?}", FingerprintSet::builtin());
        assert!(text.len() < 200 && text.contains("builtin"), "{text}");
    }
}
