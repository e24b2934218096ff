//! Blocking fingerprints (OONI's CSV rows and Censored Planet's signatures bundled, plus user
//! files given with `--fingerprints`): loading, validating, and matching DNS answers and HTTP
//! responses against them; it must not decide whether an answer was forged or a page is a
//! blockpage, and it never reads captures.
//!
//! The format, the meaning of every column and the provenance of the bundled rows are described
//! in `docs/fingerprints.md`; the bundled data and its attribution are in
//! `src/detect/data/fingerprints/`.
//!
//! # The bundled set
//!
//! [`FingerprintSet::builtin`] merges, in this order (a later row of the same name replaces an
//! earlier one, see [`FingerprintSet::merge`]):
//!
//! 1. Censored Planet's `blockpage_signatures.json` and `false_positive_signatures.json`, read
//!    by [`FingerprintSet::parse_censored_planet`] into `cp.*` rows of location `response`;
//! 2. OONI's `fingerprints_http.csv`, whose curated `cp.*` rows (with countries and notes)
//!    replace Censored Planet's rows of the same name;
//! 3. OONI's `fingerprints_dns.csv`.
//!
//! User files given with `--fingerprints` are merged after them.
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
//! # Matching HTTP responses
//!
//! [`FingerprintSet::match_http`] tries the `body`, `header.<name>` and `response` rows on a
//! response and returns an [`HttpMatches`]: false-positive hits and blocking hits in separate
//! lists, each hit with its row, where it matched and an excerpt. The comparisons are OONI's
//! and Censored Planet's: case-sensitive on the pattern and the value, header names without
//! regard to case, regular expressions with `.` matching line breaks (both projects compile
//! with Python's `re.DOTALL`). The matchers are built on the first HTTP match of a set and
//! rebuilt after a merge; see the `http_match` submodule for how.
//!
//! Results come in set order: bundled rows first, then the rows of each user file in the order
//! the files were merged, each file in its own row order.

mod censored_planet;
mod http_match;

pub use censored_planet::{CensoredPlanetFile, CATEGORY_SCOPES, CP_SOURCE};
pub use http_match::{HttpHit, HttpMatches, EXCERPT_CHARS};

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::net::IpAddr;
use std::path::Path;
use std::sync::{Arc, OnceLock};

use regex::{Regex, RegexBuilder};
use serde::Deserialize;

use crate::proto::http::parse::{HttpHeader, ResponseHead};

/// The bundled DNS rows (OONI blocking-fingerprints, unchanged).
const BUILTIN_DNS: &str = include_str!("data/fingerprints/dns.csv");

/// The bundled HTTP rows (OONI blocking-fingerprints, unchanged).
const BUILTIN_HTTP: &str = include_str!("data/fingerprints/http.csv");

/// Censored Planet's blockpage signatures (censoredplanet-analysis, unchanged).
const BUILTIN_CP_BLOCKPAGES: &str =
    include_str!("data/fingerprints/censoredplanet_blockpage_signatures.json");

/// Censored Planet's false-positive signatures (censoredplanet-analysis, unchanged).
const BUILTIN_CP_FALSE_POSITIVES: &str =
    include_str!("data/fingerprints/censoredplanet_false_positive_signatures.json");

/// The `origin` of the bundled rows.
pub const BUILTIN_ORIGIN: &str = "builtin";

/// The collection the bundled CSV rows come from, credited in [`Fingerprint::attribution`].
pub const BUILTIN_COLLECTION: &str = "OONI blocking-fingerprints";

/// The collection the bundled signature files come from.
pub const CP_COLLECTION: &str = "Censored Planet (censoredplanet-analysis)";

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
    /// `response`: the whole HTTP response as Censored Planet's pipeline rebuilds it (status
    /// line, header lines, blank line, body; see `docs/fingerprints.md`). Used by the rows read
    /// from Censored Planet's files; a tamper extension of OONI's format.
    Response,
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
        if text.eq_ignore_ascii_case("response") {
            return Some(Location::Response);
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
            Location::Response => f.write_str("response"),
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
    /// The published collection the row comes from.
    collection: Collection,
    /// The pattern of a `regexp` row, checked when the row was read.
    regex: Option<CheckedRegex>,
}

/// A `regexp` pattern that compiles. A pattern that is a plain literal (most of Censored
/// Planet's, which the HTTP matchers search as text) is compiled again only when
/// [`Fingerprint::regex`] is first asked for it, so a thousand bundled literals keep no
/// compiled expression in memory.
#[derive(Clone, Debug)]
struct CheckedRegex {
    /// The source that compiled (the pattern, or the pattern with Python's literal braces
    /// escaped).
    source: String,
    compiled: OnceLock<Option<Regex>>,
}

impl CheckedRegex {
    fn get(&self) -> Option<&Regex> {
        self.compiled
            .get_or_init(|| build_regex(&self.source).ok())
            .as_ref()
    }
}

/// The published collection a row comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Collection {
    /// OONI blocking-fingerprints (a bundled CSV row not named `tamper.*`).
    Ooni,
    /// Censored Planet's signature files (read with [`FingerprintSet::parse_censored_planet`]).
    CensoredPlanet,
    /// Anything else: tamper's own rows, user files.
    Other,
}

impl Fingerprint {
    /// The compiled regular expression of a `regexp` row (`None` for other pattern types).
    /// It is compiled with `.` matching line breaks, as OONI and Censored Planet compile theirs.
    pub fn regex(&self) -> Option<&Regex> {
        self.regex.as_ref().and_then(CheckedRegex::get)
    }

    /// The source [`Self::regex`] is compiled from (the pattern, with Python's literal braces
    /// escaped when that was needed).
    fn regex_source(&self) -> Option<&str> {
        self.regex.as_ref().map(|r| r.source.as_str())
    }

    /// The published collection the row was read from: [`BUILTIN_COLLECTION`] for the bundled
    /// OONI rows, [`CP_COLLECTION`] for rows read from Censored Planet's files, `None` for
    /// tamper's own rows and user CSV files.
    pub fn collection(&self) -> Option<&'static str> {
        match self.collection {
            Collection::Ooni => Some(BUILTIN_COLLECTION),
            Collection::CensoredPlanet => Some(CP_COLLECTION),
            Collection::Other => None,
        }
    }

    /// Credit for the row, never empty: its `source`, and for bundled rows from OONI's
    /// collection that collection too (`ooni (via OONI blocking-fingerprints)`); a row without
    /// a source is credited to its file. Bundled rows of tamper's own (named `tamper.*`) are
    /// not credited to OONI. Rows read from Censored Planet's files carry their credit in
    /// their source ([`CP_SOURCE`]).
    pub fn attribution(&self) -> String {
        let source = self.source.trim();
        let from_ooni = self.collection == Collection::Ooni;
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

    /// What identifies a row in a set: its name and whether it is a DNS row.
    fn key(&self) -> (&str, bool) {
        (self.name.as_str(), self.location == Location::Dns)
    }

    /// Whether this row's pattern matches `text` under a non-`full` pattern type; `lowered` is
    /// the pattern in ASCII lowercase, `text` is already normalised.
    fn matches_normalised(&self, lowered: &str, text: &str) -> bool {
        match self.pattern_type {
            PatternType::Full => lowered == text,
            PatternType::Prefix => text.starts_with(lowered),
            PatternType::Contains => text.contains(lowered),
            PatternType::Regexp => self.regex().is_some_and(|r| r.is_match(text)),
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

/// An ordered collection of fingerprints with lookup structures for DNS answers and (built on
/// first use) matchers for HTTP responses.
#[derive(Clone, Default)]
pub struct FingerprintSet {
    rows: Vec<Fingerprint>,
    dns: DnsIndex,
    http: OnceLock<http_match::HttpIndex>,
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
    /// The fingerprints shipped with tamper: Censored Planet's signatures, then OONI's HTTP
    /// rows (replacing Censored Planet's rows of the same name), then OONI's DNS rows.
    pub fn builtin() -> FingerprintSet {
        // Every bundled file is checked by a unit test; an empty part is the safe fallback.
        let parts = [
            FingerprintSet::parse_censored_planet(
                BUILTIN_CP_BLOCKPAGES.as_bytes(),
                CensoredPlanetFile::Blockpages,
                BUILTIN_ORIGIN,
            ),
            FingerprintSet::parse_censored_planet(
                BUILTIN_CP_FALSE_POSITIVES.as_bytes(),
                CensoredPlanetFile::FalsePositives,
                BUILTIN_ORIGIN,
            ),
            FingerprintSet::parse(BUILTIN_HTTP.as_bytes(), BUILTIN_ORIGIN),
            FingerprintSet::parse(BUILTIN_DNS.as_bytes(), BUILTIN_ORIGIN),
        ];
        let mut set = FingerprintSet::default();
        for part in parts {
            set.merge(part.unwrap_or_default());
        }
        set
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

    /// Reads one of Censored Planet's signature files (JSON Lines, as published in
    /// censoredplanet-analysis) into `regexp` rows of location `response`; `origin` names the
    /// source in errors and in every row's `origin`. See `docs/fingerprints.md` for the
    /// mapping of names and scopes.
    pub fn parse_censored_planet(
        data: &[u8],
        file: CensoredPlanetFile,
        origin: &str,
    ) -> Result<FingerprintSet, FingerprintError> {
        censored_planet::parse(data, file, origin).map(FingerprintSet::from_rows)
    }

    /// Adds the rows of `other` after this set's rows. A row of `other` whose name is already
    /// used by a row of the same kind (DNS, or HTTP) in this set replaces the older row (which
    /// is dropped; the newer row takes its place at the end, in `other`'s order). Names are
    /// compared per kind because OONI's DNS and HTTP files are separate namespaces that share
    /// a few names (`ooni.th_9` is a DNS row and an HTTP row).
    pub fn merge(&mut self, other: FingerprintSet) {
        let replaced: HashSet<(&str, bool)> = other.rows.iter().map(Fingerprint::key).collect();
        let mut rows: Vec<Fingerprint> = std::mem::take(&mut self.rows)
            .into_iter()
            .filter(|r| !replaced.contains(&r.key()))
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

    /// The first row with this name, if any (a name can be used by one DNS row and one HTTP
    /// row; see [`Self::merge`]).
    pub fn get(&self, name: &str) -> Option<&Fingerprint> {
        self.rows.iter().find(|r| r.name == name)
    }

    /// The HTTP row (location other than `dns`) with this name, if any.
    pub fn get_http(&self, name: &str) -> Option<&Fingerprint> {
        self.rows
            .iter()
            .find(|r| r.name == name && r.location != Location::Dns)
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

    /// Every row matching an HTTP response: `header.<name>` rows against each header of that
    /// name (every one, not only the first), `body` rows against `body`, and `response` rows
    /// against the response as Censored Planet rebuilds it. `body` should be the body as the
    /// server meant it (de-chunked and, when it was compressed, decompressed); `full` and
    /// `prefix` body rows compare with exactly what is given. False-positive hits and the
    /// others come in separate lists; see [`HttpMatches`].
    pub fn match_http(&self, head: &ResponseHead, body: &[u8]) -> HttpMatches<'_> {
        self.match_http_parts(head.status, &head.reason, &head.headers, body)
    }

    /// [`Self::match_http`] for a response given in parts: the status code, the reason phrase,
    /// the header fields in the order received, and the body.
    pub fn match_http_parts(
        &self,
        status: u16,
        reason: &str,
        headers: &[HttpHeader],
        body: &[u8],
    ) -> HttpMatches<'_> {
        self.http_index()
            .match_response(&self.rows, status, reason, headers, body)
    }

    /// The `header.<name>` rows matching one header value (`name` without regard to case).
    /// `response` rows are not tried.
    pub fn match_http_header(&self, name: &str, value: &[u8]) -> HttpMatches<'_> {
        self.http_index().match_header(&self.rows, name, value)
    }

    /// The `header.location` rows matching a redirect target, such as a `Location` value or
    /// the URL of a `Refresh` header or an HTML meta refresh.
    pub fn match_http_location(&self, url: &str) -> HttpMatches<'_> {
        self.match_http_header("location", url.as_bytes())
    }

    fn http_index(&self) -> &http_match::HttpIndex {
        self.http
            .get_or_init(|| http_match::HttpIndex::build(&self.rows))
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
        FingerprintSet {
            rows,
            dns,
            http: OnceLock::new(),
        }
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

/// Checks a `regexp` pattern by compiling it with `.` matching line breaks (OONI and Censored
/// Planet compile theirs with Python's `re.DOTALL`). Their patterns were written for Python,
/// where a `{` that does not open a repetition count (`{2}`, `{2,}`, `{2,5}`) is an ordinary
/// character; Rust's regex refuses such a brace, so when a pattern does not compile as written
/// it is tried again with those braces escaped. The first error is the one reported. The
/// compiled expression is kept unless the pattern is a plain literal (see [`CheckedRegex`]).
fn compile_regex(pattern: &str) -> Result<CheckedRegex, regex::Error> {
    let (source, compiled) = match build_regex(pattern) {
        Ok(compiled) => (pattern.to_string(), compiled),
        Err(first) => {
            let lenient = escape_literal_braces(pattern);
            if lenient == pattern {
                return Err(first);
            }
            let compiled = build_regex(&lenient).map_err(|_| first)?;
            (lenient, compiled)
        }
    };
    let kept = OnceLock::new();
    if http_match::regex_literal(&source).is_none() {
        let _ = kept.set(Some(compiled));
    }
    Ok(CheckedRegex {
        source,
        compiled: kept,
    })
}

/// Compiles a checked source with the flags every `regexp` pattern gets.
fn build_regex(source: &str) -> Result<Regex, regex::Error> {
    RegexBuilder::new(source).dot_matches_new_line(true).build()
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
            "unknown location_found `{}` in row `{name}` (expected dns, body, header.<name> or response)",
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
    let collection = if origin == BUILTIN_ORIGIN && !name.starts_with(OWN_PREFIX) {
        Collection::Ooni
    } else {
        Collection::Other
    };
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
        collection,
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
    fn bundled_csv_files_parse_unchanged() {
        for (data, min_rows) in [(BUILTIN_DNS, 200), (BUILTIN_HTTP, 1700)] {
            let set = FingerprintSet::parse(data.as_bytes(), BUILTIN_ORIGIN)
                .expect("bundled fingerprint file");
            assert!(set.len() >= min_rows, "{} rows", set.len());
            let mut seen = HashSet::new();
            assert!(set.rows().iter().all(|r| seen.insert(r.name.clone())));
            assert!(set.rows().iter().all(|r| r.origin == BUILTIN_ORIGIN));
            assert!(set
                .rows()
                .iter()
                .all(|r| r.collection() == Some(BUILTIN_COLLECTION)));
            // Names and sources are OONI's, unchanged: compare with the raw CSV cells.
            let mut reader = csv::Reader::from_reader(data.as_bytes());
            let raw: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
            assert_eq!(raw.len(), set.len());
            for (rec, row) in raw.iter().zip(set.rows()) {
                assert_eq!(&rec[0], row.name);
                assert_eq!(&rec[8], row.source);
                assert_eq!(&rec[5], row.pattern);
            }
        }
        let dns = FingerprintSet::parse(BUILTIN_DNS.as_bytes(), BUILTIN_ORIGIN).unwrap();
        assert!(dns.rows().iter().all(|r| r.location == Location::Dns));
        assert_eq!(dns.len(), 226);
        let http = FingerprintSet::parse(BUILTIN_HTTP.as_bytes(), BUILTIN_ORIGIN).unwrap();
        assert_eq!(http.len(), 1729);
        assert!(http
            .rows()
            .iter()
            .all(|r| matches!(r.location, Location::Body | Location::Header(_))));
        // Every regular expression of OONI's HTTP file compiles.
        let regexps = http
            .rows()
            .iter()
            .filter(|r| r.pattern_type == PatternType::Regexp);
        assert_eq!(regexps.clone().count(), 14);
        assert!(regexps.clone().all(|r| r.regex().is_some()));
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

    // ---- Censored Planet files, the bundled set, HTTP matching ----

    use crate::proto::http::parse::HttpVersion;

    fn head(status: u16, reason: &str, headers: &[(&str, &str)]) -> ResponseHead {
        ResponseHead {
            stream_offset: 0,
            version: HttpVersion::Http11,
            status,
            reason: reason.to_string(),
            headers: headers
                .iter()
                .map(|(name, value)| HttpHeader {
                    name: name.to_string(),
                    value: value.as_bytes().to_vec(),
                })
                .collect(),
            head_len: 0,
        }
    }

    fn hit_names<'a>(hits: &[HttpHit<'a>]) -> Vec<&'a str> {
        hits.iter().map(|h| h.fingerprint.name.as_str()).collect()
    }

    fn hit<'m, 'a>(matches: &'m HttpMatches<'a>, name: &str) -> &'m HttpHit<'a> {
        matches
            .iter()
            .find(|h| h.fingerprint.name == name)
            .unwrap_or_else(|| panic!("no hit of {name}: {matches:?}"))
    }

    fn cp_lines(data: &str) -> usize {
        data.lines().filter(|l| !l.trim().is_empty()).count()
    }

    #[test]
    fn censored_planet_files_load_every_signature() {
        let blockpages = FingerprintSet::parse_censored_planet(
            BUILTIN_CP_BLOCKPAGES.as_bytes(),
            CensoredPlanetFile::Blockpages,
            BUILTIN_ORIGIN,
        )
        .expect("bundled blockpage signatures");
        let false_positives = FingerprintSet::parse_censored_planet(
            BUILTIN_CP_FALSE_POSITIVES.as_bytes(),
            CensoredPlanetFile::FalsePositives,
            BUILTIN_ORIGIN,
        )
        .expect("bundled false-positive signatures");
        // Every signature is kept, and every pattern compiles: no exclusions are needed.
        assert_eq!(blockpages.len(), cp_lines(BUILTIN_CP_BLOCKPAGES));
        assert_eq!(blockpages.len(), 622);
        assert_eq!(false_positives.len(), cp_lines(BUILTIN_CP_FALSE_POSITIVES));
        assert_eq!(false_positives.len(), 460);
        for (set, prefix) in [(&blockpages, "cp."), (&false_positives, "cp.fp_")] {
            let mut seen = HashSet::new();
            for r in set.rows() {
                assert!(seen.insert(r.name.clone()), "{} twice", r.name);
                assert!(r.name.starts_with(prefix), "{}", r.name);
                assert_eq!(r.location, Location::Response);
                assert_eq!(r.pattern_type, PatternType::Regexp);
                assert!(r.regex().is_some(), "{}", r.name);
                assert_eq!(r.source, CP_SOURCE);
                assert_eq!(r.attribution(), CP_SOURCE);
                assert_eq!(r.collection(), Some(CP_COLLECTION));
                assert_eq!(r.origin, BUILTIN_ORIGIN);
                assert_eq!(r.confidence_no_fp, 0);
                assert!(r.notes.contains("Censored Planet signature"), "{}", r.notes);
            }
        }
        // The false-positive file is all `fp`; blockpage scopes follow the category prefix.
        assert!(false_positives.rows().iter().all(|r| r.scope == Scope::Fp));
        for r in blockpages.rows() {
            let category = r.name.trim_start_matches("cp.");
            let (_, scope) = CATEGORY_SCOPES
                .iter()
                .find(|(p, _)| category.starts_with(p))
                .unwrap();
            assert_eq!(r.scope, *scope, "{}", r.name);
        }
        let count =
            |set: &FingerprintSet, scope| set.rows().iter().filter(|r| r.scope == scope).count();
        assert_eq!(
            [Scope::Prod, Scope::Nat, Scope::Isp, Scope::Inst, Scope::Vbw]
                .map(|s| count(&blockpages, s)),
            [78, 68, 164, 64, 92 + 156]
        );
        // Names repeated in the file keep every pattern, under numbered names.
        let taiget = blockpages.get("cp.c_isp_ru_taiget").unwrap();
        assert_eq!(taiget.pattern, r"http://hold\.taiget\.ru/block");
        let taiget_2 = blockpages.get("cp.c_isp_ru_taiget_2").unwrap();
        assert_eq!(taiget_2.pattern, r"https://hold\.taiget\.ru/block\?");
        assert!(
            taiget_2.notes.contains("`c_isp_ru_taiget`") && taiget_2.notes.contains("pattern 2")
        );
        let renamed = |set: &FingerprintSet| {
            set.rows()
                .iter()
                .filter(|r| r.notes.contains("; pattern "))
                .count()
        };
        assert_eq!(renamed(&blockpages), 7);
        assert_eq!(renamed(&false_positives), 4);
        assert_eq!(
            false_positives.get("cp.fp_x_fpru_nginx").unwrap().pattern,
            r"<p><em>Thank you for using nginx\.</em></p>"
        );
        // Python's literal braces are accepted here too.
        let msg = false_positives.get("cp.fp_x_msg_id").unwrap();
        assert!(msg
            .regex()
            .unwrap()
            .is_match("{\"msg\": \"x\",\n \"id\": 3}"));
    }

    #[test]
    fn censored_planet_parse_errors_name_the_line() {
        let parse = |text: &str, file| {
            FingerprintSet::parse_censored_planet(text.as_bytes(), file, "cp.json")
                .unwrap_err()
                .to_string()
        };
        let ok = "{\"fingerprint\":\"a_prod_x\",\"pattern\":\"x\"}\n\n";
        let e = parse(&format!("{ok}not json\n"), CensoredPlanetFile::Blockpages);
        assert!(e.contains("cp.json") && e.contains("line 3"), "{e}");
        let e = parse(
            &format!("{ok}{{\"fingerprint\":\"z_new_x\",\"pattern\":\"x\"}}\n"),
            CensoredPlanetFile::Blockpages,
        );
        assert!(e.contains("line 3") && e.contains("category"), "{e}");
        let e = parse(
            "{\"fingerprint\":\"a_prod_x\",\"pattern\":\"(x\"}",
            CensoredPlanetFile::Blockpages,
        );
        assert!(
            e.contains("line 1") && e.contains("regular expression"),
            "{e}"
        );
        let e = parse(
            "{\"fingerprint\":\"\",\"pattern\":\"x\"}",
            CensoredPlanetFile::FalsePositives,
        );
        assert!(e.contains("line 1") && e.contains("empty"), "{e}");
        let e = parse(
            "{\"fingerprint\":\"x\",\"pattern\":\"\"}",
            CensoredPlanetFile::FalsePositives,
        );
        assert!(e.contains("line 1") && e.contains("empty"), "{e}");
        // Any name is fine in the false-positive file; repeats skip names already taken.
        let set = FingerprintSet::parse_censored_planet(
            b"{\"fingerprint\":\"x\",\"pattern\":\"a\"}\n{\"fingerprint\":\"x_2\",\"pattern\":\"b\"}\n{\"fingerprint\":\"x\",\"pattern\":\"c\"}\n",
            CensoredPlanetFile::FalsePositives,
            "user.json",
        )
        .unwrap();
        assert_eq!(
            names(&set.rows().iter().collect::<Vec<_>>()),
            ["cp.fp_x", "cp.fp_x_2", "cp.fp_x_3"]
        );
        assert_eq!(set.get("cp.fp_x_3").unwrap().pattern, "c");
        assert!(
            FingerprintSet::parse_censored_planet(b"", CensoredPlanetFile::Blockpages, "e")
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn builtin_set_merges_censored_planet_then_ooni_http_then_dns() {
        let set = FingerprintSet::builtin();
        // Names are unique per kind; OONI's DNS and HTTP files share three names, and both
        // rows of each are kept.
        let mut seen = HashSet::new();
        assert!(set.rows().iter().all(|r| seen.insert(r.key())));
        let mut shared: Vec<&str> = set
            .rows()
            .iter()
            .filter(|r| r.location == Location::Dns && set.get_http(&r.name).is_some())
            .map(|r| r.name.as_str())
            .collect();
        shared.sort_unstable();
        assert_eq!(shared, ["ooni.id_39", "ooni.th_10", "ooni.th_9"]);
        assert_eq!(set.get("ooni.th_9").unwrap().location, Location::Body);
        assert_eq!(
            set.get_http("ooni.th_9").unwrap().pattern,
            "<title>Tcsd.info</title>"
        );
        assert_eq!(
            names(&set.match_dns_address(ip("125.26.170.3"))),
            ["ooni.th_9"]
        );
        assert_eq!(FingerprintSet::shared_builtin().len(), set.len());
        let collection = |r: &Fingerprint| r.collection();
        // Order: Censored Planet rows OONI does not redefine, then OONI's HTTP rows, then DNS.
        let kinds: Vec<(Option<&str>, bool)> = set
            .rows()
            .iter()
            .map(|r| (collection(r), r.location == Location::Dns))
            .collect();
        let cp = kinds
            .iter()
            .take_while(|k| k.0 == Some(CP_COLLECTION))
            .count();
        let http = kinds[cp..]
            .iter()
            .take_while(|k| k.0 == Some(BUILTIN_COLLECTION) && !k.1)
            .count();
        let dns = kinds[cp + http..]
            .iter()
            .take_while(|k| k.0 == Some(BUILTIN_COLLECTION) && k.1)
            .count();
        assert_eq!((cp, http, dns), (152, 1729, 226));
        assert_eq!(set.len(), cp + http + dns);
        let count = |scope| set.rows().iter().filter(|r| r.scope == scope).count();
        // nat, isp, prod, inst, vbw, fp, injb, prov
        assert_eq!(Scope::ALL.map(count), [326, 790, 166, 139, 190, 494, 1, 1]);
        let http_count = |scope| {
            set.rows()
                .iter()
                .filter(|r| r.scope == scope && r.location != Location::Dns)
                .count()
        };
        assert_eq!(
            Scope::ALL.map(http_count),
            [248, 665, 148, 137, 187, 494, 1, 1]
        );
        let cp_count = |scope| {
            set.rows()
                .iter()
                .filter(|r| r.scope == scope && r.collection() == Some(CP_COLLECTION))
                .count()
        };
        assert_eq!(Scope::ALL.map(cp_count), [9, 81, 8, 11, 24, 19, 0, 0]);
        // OONI's curated row replaced Censored Planet's row of the same name.
        let forti = set.get("cp.a_prod_fortinet_1").unwrap();
        assert_eq!(
            (forti.location.clone(), forti.pattern_type),
            (Location::Body, PatternType::Contains)
        );
        assert_eq!(
            forti.attribution(),
            "censored planet (via OONI blocking-fingerprints)"
        );
        // A signature OONI does not carry stays as Censored Planet wrote it.
        let ttk = set.get("cp.c_isp_ru_ttk_redirect_302_satellite").unwrap();
        assert_eq!(ttk.location, Location::Response);
        assert_eq!(ttk.pattern, r"Location: http://fz139\.ttk\.ru");
        // DNS behaviour is unchanged.
        assert_eq!(
            names(&set.match_dns_address(ip("8.7.198.45"))),
            ["ooni.cn_0"]
        );
    }

    #[test]
    fn known_blockpages_match_their_fingerprints() {
        let set = FingerprintSet::shared_builtin();
        // Iran: the national filter's iframe to 10.10.34.34.
        let iran = head(
            200,
            "OK",
            &[("Content-Type", "text/html; charset=windows-1256")],
        );
        let body = "<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=windows-1256\"><title>M1-2</title></head><body><iframe src=\"http://10.10.34.34?type=Invalid Site&policy=MainPolicy \" style=\"width: 100%; height: 100%\" scrolling=\"no\" marginwidth=\"0\" marginheight=\"0\" frameborder=\"0\" vspace=\"0\" hspace=\"0\"></iframe></body></html>\r\n\r\n";
        let m = set.match_http(&iran, body.as_bytes());
        assert!(m.false_positives.is_empty(), "{m:?}");
        let found = hit_names(&m.blocking);
        for name in ["cl.nat_ir_iframe_forward_ipv4", "cp.b_nat_ir_national_2"] {
            assert!(found.contains(&name), "{found:?}");
        }
        let h = hit(&m, "cp.b_nat_ir_national_2");
        assert_eq!(h.location, Location::Body);
        assert_eq!(&h.excerpt[h.matched.clone()], "10.10.34.34");
        assert_eq!(m.confirmed().len(), m.blocking.len());
        // Rostelecom's redirect to its warning page.
        let rt = head(302, "Found", &[("Location", "http://warning.rt.ru/?id=17&st=0&dt=195.82.146.214&rs=http%3A%2F%2Frutracker.org%2F")]);
        let m = set.match_http(&rt, b"");
        assert_eq!(hit_names(&m.blocking), ["ooni.ru_6"], "{m:?}");
        let h = &m.blocking[0];
        assert_eq!(h.location, Location::Header("location".into()));
        assert!(h.excerpt.starts_with("http://warning.rt.ru/?id=17"));
        assert_eq!(h.matched, 0.."http://warning.rt.ru".len());
        assert_eq!(h.fingerprint.countries, ["RU"]);
        assert_eq!(
            names(
                &set.match_http_location("http://warning.rt.ru/?id=1")
                    .blocking
                    .iter()
                    .map(|h| h.fingerprint)
                    .collect::<Vec<_>>()
            ),
            ["ooni.ru_6"]
        );
        // A WireFilter appliance names itself in `Server`.
        let wf = head(
            403,
            "Forbidden",
            &[("Server", "Protected by WireFilter 8.0")],
        );
        let m = set.match_http(&wf, b"");
        assert_eq!(hit_names(&m.blocking), ["ooni.ae_0"], "{m:?}");
        assert_eq!(m.blocking[0].location, Location::Header("server".into()));
        // FortiGuard's web-filter page.
        let forti = "<html><head><title>Web Filter Violation</title></head><body><h1>FortiGuard Web Filtering</h1><p>The page you have requested has been blocked, because the URL is banned.</p><p>URL: http://example.com/</p><p>Category: Proxy Avoidance</p></body></html>";
        let m = set.match_http(&head(200, "OK", &[]), forti.as_bytes());
        assert!(m.false_positives.is_empty(), "{m:?}");
        let found = hit_names(&m.blocking);
        for name in ["cp.a_prod_fortinet_1", "cp.a_prod_fortinet_6"] {
            assert!(found.contains(&name), "{found:?}");
        }
        let h = hit(&m, "ooni.in_12");
        assert!(
            h.excerpt.starts_with("<html><head>"),
            "body excerpts show only the body: {h:?}"
        );
        // Squid's access-denied page.
        let squid = "<!DOCTYPE html PUBLIC \"-//W3C//DTD HTML 4.01//EN\" \"http://www.w3.org/TR/html4/strict.dtd\">\n<html><head>\n<meta type=\"copyright\" content=\"Copyright (C) 1996-2020 The Squid Software Foundation and contributors\">\n<meta http-equiv=\"Content-Type\" CONTENT=\"text/html; charset=utf-8\">\n<title>ERROR: The requested URL could not be retrieved</title>\n<style type=\"text/css\"><!--\n /*\n * Copyright (C) 1996-2020 The Squid Software Foundation and contributors\n */\n\n/*\n Stylesheet for Squid Error pages\n Adapted from design by Free CSS Templates\n http://www.freecsstemplates.org\n Released for free under a Creative Commons Attribution 2.5 License\n*/\n--></style>\n</head><body id=ERR_ACCESS_DENIED>\n<div id=\"content\">\n<p>The following error was encountered while trying to retrieve the URL: <a href=\"http://example.com/\">http://example.com/</a></p>\n<blockquote id=\"error\">\n<p><b>Access Denied.</b></p>\n</blockquote>\n<p>Access control configuration prevents your request from being allowed at this time.</p>\n</div></body></html>\n";
        let m = set.match_http(
            &head(
                403,
                "Forbidden",
                &[
                    ("Server", "squid/4.13"),
                    ("X-Squid-Error", "ERR_ACCESS_DENIED 0"),
                ],
            ),
            squid.as_bytes(),
        );
        let h = hit(&m, "cl.prod_squid_error_page");
        assert_eq!(h.location, Location::Body);
        assert!(
            h.excerpt.contains("Stylesheet for Squid Error pages"),
            "{h:?}"
        );
        assert!(!h.excerpt.contains('\n'));
        assert!(h.excerpt.chars().count() <= EXCERPT_CHARS);
    }

    #[test]
    fn innocent_pages_hit_false_positive_rows() {
        let set = FingerprintSet::shared_builtin();
        let nginx = "<!DOCTYPE html>\n<html>\n<head>\n<title>Welcome to nginx!</title>\n</head>\n<body>\n<h1>Welcome to nginx!</h1>\n<p>If you see this page, the nginx web server is successfully installed and\nworking. Further configuration is required.</p>\n\n<p>For online documentation and support please refer to\n<a href=\"http://nginx.org/\">nginx.org</a>.<br/>\nCommercial support is available at\n<a href=\"http://nginx.com/\">nginx.com</a>.</p>\n\n<p><em>Thank you for using nginx.</em></p>\n</body>\n</html>\n";
        let m = set.match_http(
            &head(200, "OK", &[("Server", "nginx/1.18.0")]),
            nginx.as_bytes(),
        );
        let fps = hit_names(&m.false_positives);
        for name in [
            "cp.fp_x_fpru_nginx",
            "cp.fp_satellite_fp_nginx_1",
            "cp.fp_satellite_fp_nginx_welcome",
        ] {
            assert!(fps.contains(&name), "{fps:?}");
        }
        assert!(m.blocking.is_empty(), "{m:?}");
        assert!(m.is_false_positive() && m.confirmed().is_empty());
        // Cloudflare's browser check: innocent for Censored Planet, a blocking product for
        // some of OONI's rows; both are reported and the false positive wins.
        let challenge = "<!DOCTYPE HTML>\n<html lang=\"en-US\">\n<head>\n<title>Please Wait... | Cloudflare</title>\n</head>\n<body>\n<div class=\"cf-browser-verification cf-im-under-attack\">\n<h1><span class=\"cf-checking-browser\">Checking your browser before accessing</span> example.com.</h1>\n<p>This process is automatic. Your browser will redirect to your requested content shortly.</p>\n<p>Please allow up to 5 seconds&hellip;</p>\n</div>\n<div class=\"cf-error-footer\">Cloudflare Ray ID: <strong>6c2a1b2c3d4e5f60</strong></div>\n</body>\n</html>\n";
        let m = set.match_http(
            &head(
                503,
                "Service Temporarily Unavailable",
                &[("Server", "cloudflare"), ("CF-RAY", "6c2a1b2c3d4e5f60-FRA")],
            ),
            challenge.as_bytes(),
        );
        let fps = hit_names(&m.false_positives);
        for name in ["cp.fp_x_cloudflare_check", "cp.fp_x_cloudflare_error_1"] {
            assert!(fps.contains(&name), "{fps:?}");
        }
        assert!(hit_names(&m.blocking).contains(&"ooni.in_6"), "{m:?}");
        assert!(m.confirmed().is_empty());
        assert!(m.iter().count() == m.false_positives.len() + m.blocking.len());
        // An ordinary page matches nothing.
        let page = ordinary_page();
        let m = set.match_http(
            &head(
                200,
                "OK",
                &[("Server", "Apache"), ("Content-Type", "text/html")],
            ),
            page.as_bytes(),
        );
        assert!(m.is_empty(), "{m:?}");
    }

    /// About 4 KiB of ordinary HTML.
    fn ordinary_page() -> String {
        let mut page = String::from("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Local news</title><link rel=\"stylesheet\" href=\"/style.css\"></head><body><header><nav><a href=\"/\">Home</a> <a href=\"/about\">About</a></nav></header><main>\n");
        let mut n = 0;
        while page.len() < 4000 {
            n += 1;
            page.push_str(&format!("<article><h2>Story {n}</h2><p>The council met on Tuesday to discuss the new bus timetable, the library's opening hours and repairs to the bridge.</p></article>\n"));
        }
        page.push_str("</main><footer>&copy; 2024 Local news</footer></body></html>\n");
        page
    }

    #[test]
    fn censored_planet_rows_search_the_whole_response() {
        let set = FingerprintSet::shared_builtin();
        // Header names are written in Go's canonical case before Censored Planet's
        // `Location: ...` patterns are tried.
        let ttk = head(
            302,
            "Moved Temporarily",
            &[
                ("content-length", "0"),
                ("location", "http://fz139.ttk.ru/?u=x"),
            ],
        );
        let m = set.match_http(&ttk, b"");
        let h = hit(&m, "cp.c_isp_ru_ttk_redirect_302_satellite");
        assert_eq!(h.location, Location::Header("location".into()));
        assert_eq!(
            &h.excerpt[h.matched.clone()],
            "Location: http://fz139.ttk.ru"
        );
        // OONI's row for the same redirect matches the header itself.
        assert!(hit_names(&m.blocking).contains(&"ooni.ru_29"));
        // The status line is searched too.
        let m = set.match_http(&head(451, "Unavailable For Legal Reasons", &[]), b"");
        let on_status: Vec<&str> = m
            .blocking
            .iter()
            .filter(|h| h.location == Location::Response)
            .map(|h| h.fingerprint.name.as_str())
            .collect();
        assert_eq!(on_status, ["cp.f_gen_451_status_code_satellite"], "{m:?}");
        // Patterns spanning lines: `.` matches line breaks, as with Python's re.DOTALL.
        let m = set.match_http(
            &head(
                200,
                "OK",
                &[("Set-Cookie", "a=b; path=/;\r\n domain=.example.com")],
            ),
            b"",
        );
        assert!(m.is_false_positive() || m.is_empty());
    }

    #[test]
    fn user_rows_header_case_locations_and_merges() {
        let mut set = FingerprintSet::builtin();
        let page = head(
            302,
            "Found",
            &[("LOCATION", "http://blocked.example.net/?u=1")],
        );
        assert!(set.match_http(&page, b"").is_empty());
        set.merge(
            user(&format!(
                "{HEADER}\
me.loc,isp,,header.location,prefix,http://blocked.example.net/,8,XX,me,,\n\
me.filter,isp,,header.X-Filter,full,Blocked,8,XX,me,,\n\
me.server,prod,,header.server,regexp,^Filter(Box|Wall)/[0-9]+$,8,,me,,\n\
me.full,isp,,body,full,blocked,8,,me,,\n\
me.prefix,isp,,body,prefix,<html><b>Blocked,8,,me,,\n\
me.re,isp,,body,regexp,Access.*denied,8,,me,,\n\
me.lit,isp,,body,regexp,blocked\\.example\\.net,8,,me,,\n\
me.resp,isp,,response,contains,X-Filter: Blocked,8,,me,,\n\
me.fp,fp,,header.location,contains,/?u=allowed,8,,me,,\n"
            ))
            .unwrap(),
        );
        // Merging rebuilt the matchers: the new rows match at once.
        let m = set.match_http(&page, b"");
        assert_eq!(hit_names(&m.blocking), ["me.loc"]);
        assert_eq!(m.blocking[0].location, Location::Header("location".into()));
        assert_eq!(m.blocking[0].fingerprint.origin, "user.csv");
        // Values are compared with case.
        let upper = head(302, "Found", &[("Location", "HTTP://BLOCKED.EXAMPLE.NET/")]);
        assert!(set.match_http(&upper, b"").is_empty());
        // Every header of a name is tried, not only the first.
        let two = head(
            302,
            "Found",
            &[
                ("Location", "http://fine.example/"),
                ("location", "http://blocked.example.net/?u=allowed"),
            ],
        );
        let m = set.match_http(&two, b"");
        assert_eq!(
            (hit_names(&m.blocking), hit_names(&m.false_positives)),
            (vec!["me.loc"], vec!["me.fp"])
        );
        assert!(m.confirmed().is_empty());
        // `full` compares the whole value; the response row sees the header line.
        let filtered = head(403, "Forbidden", &[("x-filter", "Blocked")]);
        let m = set.match_http(&filtered, b"");
        assert_eq!(hit_names(&m.blocking), ["me.filter", "me.resp"]);
        let m = set.match_http(&head(403, "Forbidden", &[("X-Filter", "Blocked!")]), b"");
        assert_eq!(hit_names(&m.blocking), ["me.resp"]);
        // Header helpers.
        assert_eq!(
            hit_names(&set.match_http_header("Server", b"FilterWall/7").blocking),
            ["me.server"]
        );
        assert!(set
            .match_http_header("Server", b"FilterWall/7 (x)")
            .is_empty());
        assert!(set.match_http_header("Via", b"FilterWall/7").is_empty());
        assert_eq!(
            hit_names(
                &set.match_http_location("http://blocked.example.net/x")
                    .blocking
            ),
            ["me.loc"]
        );
        // Body: `full`, `prefix`, a regular expression across lines, a literal one.
        let ok = head(200, "OK", &[]);
        assert_eq!(
            hit_names(&set.match_http(&ok, b"blocked").blocking),
            ["me.full"]
        );
        assert!(set.match_http(&ok, b"blocked ").is_empty());
        assert_eq!(
            hit_names(&set.match_http(&ok, b"<html><b>Blocked</b>").blocking),
            ["me.prefix"]
        );
        assert!(set.match_http(&ok, b" <html><b>Blocked</b>").is_empty());
        assert_eq!(
            hit_names(&set.match_http(&ok, b"Access\n\nis denied").blocking),
            ["me.re"]
        );
        let m = set.match_http(&ok, b"see http://blocked.example.net/");
        assert_eq!(hit_names(&m.blocking), ["me.lit"]);
        assert_eq!(
            &m.blocking[0].excerpt[m.blocking[0].matched.clone()],
            "blocked.example.net"
        );
        // A body row does not match the head.
        assert!(set
            .match_http(
                &head(200, "blocked", &[("X-Note", "<html><b>Blocked")]),
                b""
            )
            .is_empty());
        // `response` is accepted in user files.
        assert_eq!(set.get("me.resp").unwrap().location, Location::Response);
        assert_eq!(Location::Response.to_string(), "response");
    }

    #[test]
    fn excerpts_are_bounded_and_point_at_the_match() {
        let set = user(&format!(
            "{HEADER}x.mid,isp,,body,contains,NEEDLE,5,,t,,\nx.long,isp,,body,contains,{},5,,t,,\n",
            "L".repeat(200)
        ))
        .unwrap();
        let ok = head(200, "OK", &[]);
        let body = format!("{}\tNEEDLE\n{}", "é".repeat(5000), "ü".repeat(5000));
        let m = set.match_http(&ok, body.as_bytes());
        let h = &m.blocking[0];
        assert_eq!(h.excerpt.chars().count(), EXCERPT_CHARS);
        assert_eq!(&h.excerpt[h.matched.clone()], "NEEDLE");
        assert!(h.excerpt.contains(" NEEDLE "), "{h:?}");
        // Near the start, the room goes after the match.
        let m = set.match_http(&ok, format!("NEEDLE{}", "x".repeat(500)).as_bytes());
        assert_eq!(
            (m.blocking[0].matched.clone(), m.blocking[0].excerpt.len()),
            (0..6, EXCERPT_CHARS)
        );
        let m = set.match_http(&ok, b"NEEDLE");
        assert_eq!(m.blocking[0].excerpt, "NEEDLE");
        // A match longer than an excerpt is cut.
        let m = set.match_http(&ok, format!("a{}b", "L".repeat(300)).as_bytes());
        let h = &m.blocking[0];
        assert_eq!(
            (h.excerpt.len(), h.matched.clone()),
            (EXCERPT_CHARS, 0..EXCERPT_CHARS)
        );
        // Invalid UTF-8 is searched as U+FFFD.
        let m = set.match_http(&ok, b"\xff\xfeNEEDLE\xff");
        assert_eq!(m.blocking[0].excerpt, "\u{fffd}\u{fffd}NEEDLE\u{fffd}");
    }

    #[test]
    fn helpers() {
        use http_match::{excerpt, regex_literal};
        assert_eq!(
            regex_literal(r"fortinet\.net").as_deref(),
            Some("fortinet.net")
        );
        assert_eq!(regex_literal(r"a\(b\)\?/c d").as_deref(), Some("a(b)?/c d"));
        for not_literal in [
            r"a.b", r"a\d", r"^a", r"a|b", r"a{2}", r"\<a", r"(?i)a", r"a\", "",
        ] {
            assert_eq!(regex_literal(not_literal), None, "{not_literal}");
        }
        // Out-of-range and mid-character offsets are clamped, never a panic.
        assert_eq!(excerpt("abc", 5..9), ("abc".to_string(), 3..3));
        assert_eq!(excerpt("aé", 2..3), ("aé".to_string(), 1..3));
        assert_eq!(excerpt("", 0..0), (String::new(), 0..0));
    }

    #[test]
    fn accelerated_and_plain_matching_agree() {
        let set = FingerprintSet::builtin();
        let plain = http_match::HttpIndex::build_unaccelerated(set.rows());
        let summary = |m: &HttpMatches| -> Vec<(String, String, String)> {
            m.iter()
                .map(|h| {
                    (
                        h.fingerprint.name.clone(),
                        h.location.to_string(),
                        h.excerpt.clone(),
                    )
                })
                .collect()
        };
        let forti = "<html><head><title>Web Filter Violation</title></head><body><h1>FortiGuard Web Filtering</h1></body></html>";
        let iran = "<html><body><iframe src=\"http://10.10.34.34?type=Invalid Site&policy=MainPolicy \"></iframe></body></html>";
        let cases: Vec<(ResponseHead, String)> = vec![
            (head(200, "OK", &[("Server", "Apache")]), ordinary_page()),
            (head(200, "OK", &[]), forti.to_string()),
            (
                head(200, "OK", &[("Server", "nginx")]),
                format!("{iran}<p><em>Thank you for using nginx.</em></p>"),
            ),
            (
                head(
                    302,
                    "Found",
                    &[
                        ("location", "http://fz139.ttk.ru/"),
                        ("Server", "Protected by WireFilter"),
                    ],
                ),
                String::new(),
            ),
            (
                head(
                    451,
                    "Unavailable For Legal Reasons",
                    &[("Set-Cookie", "a=b; domain=.example.com")],
                ),
                "Access Denied".to_string(),
            ),
        ];
        for (page, body) in &cases {
            let fast = set.match_http(page, body.as_bytes());
            let slow = plain.match_response(
                set.rows(),
                page.status,
                &page.reason,
                &page.headers,
                body.as_bytes(),
            );
            assert_eq!(summary(&fast), summary(&slow), "{body}");
        }
        assert!(cases
            .iter()
            .skip(1)
            .all(|(p, b)| !set.match_http(p, b.as_bytes()).is_empty()));
    }

    proptest::proptest! {
        #[test]
        fn matching_never_panics_and_excerpts_stay_bounded(
            body in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..600),
            value in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..80),
            seed in "(Access Denied|FortiGuard Web Filtering|Location: |10\\.10\\.34\\.34|é|\u{fffd}){0,3}",
        ) {
            let set = FingerprintSet::shared_builtin();
            let mut body = body;
            body.extend_from_slice(seed.as_bytes());
            let page = ResponseHead {
                headers: vec![
                    HttpHeader { name: "Location".into(), value: value.clone() },
                    HttpHeader { name: "sérver".into(), value: seed.clone().into_bytes() },
                ],
                ..head(302, "Found", &[])
            };
            let m = set.match_http(&page, &body);
            for h in m.iter() {
                proptest::prop_assert!(h.excerpt.chars().count() <= EXCERPT_CHARS);
                proptest::prop_assert!(h.excerpt.get(h.matched.clone()).is_some());
            }
            let _ = set.match_http_header("location", &value);
        }
    }

    #[test]
    fn debug_print_is_short() {
        let text = format!("{:?}", FingerprintSet::builtin());
        assert!(text.len() < 200 && text.contains("builtin"), "{text}");
    }
}
