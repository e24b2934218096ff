//! Reads Censored Planet's signature files (JSON Lines of `{"fingerprint": name, "pattern":
//! regex}`, from censoredplanet-analysis) into fingerprint rows; it must not match anything and
//! leaves OONI's CSV format to the parent module.
//!
//! Each signature becomes a `regexp` row with location `response` (Censored Planet's pipeline
//! searches the status line, the header lines and the body together, with `re.DOTALL`):
//!
//! * the name is `cp.<fingerprint>` for blockpage signatures and `cp.fp_<fingerprint>` for
//!   false-positive signatures, the names OONI gave the signatures it merged into its own
//!   list;
//! * the scope comes from the category prefix of the name (`a_prod` → `prod`, `b_nat` → `nat`,
//!   `c_isp` → `isp`, `d_corp` → `inst`, `e_unk` and `f_gen` → `vbw`); every signature of the
//!   false-positive file has scope `fp`;
//! * a name used again later in the same file (Censored Planet's files repeat a few, and its
//!   Python loader keeps only the last pattern of each) keeps every pattern here: the second
//!   becomes `cp.<fingerprint>_2`, the third `_3`, skipping names the file already uses;
//! * `confidence_no_fp` is 0 (not rated), `source` is [`CP_SOURCE`], `notes` give the
//!   original name and line.
//!
//! Blank lines are skipped, as Censored Planet's loader does.

#![cfg_attr(
    not(test),
    deny(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used)
)]

use std::collections::HashSet;

use serde::Deserialize;

use super::{
    compile_regex, Collection, Fingerprint, FingerprintError, Location, PatternType, Scope,
};

/// The `source` of every row read from a Censored Planet file.
pub const CP_SOURCE: &str = "censored planet (censoredplanet-analysis, Apache-2.0)";

/// Which of Censored Planet's two signature files a text is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CensoredPlanetFile {
    /// `blockpage_signatures.json`: patterns of blockpages.
    Blockpages,
    /// `false_positive_signatures.json`: patterns of innocent pages that look like blocking.
    FalsePositives,
}

impl CensoredPlanetFile {
    /// The file's name upstream (in `pipeline/metadata/data/`).
    pub fn upstream_name(self) -> &'static str {
        match self {
            CensoredPlanetFile::Blockpages => "blockpage_signatures.json",
            CensoredPlanetFile::FalsePositives => "false_positive_signatures.json",
        }
    }

    fn name_prefix(self) -> &'static str {
        match self {
            CensoredPlanetFile::Blockpages => "cp.",
            CensoredPlanetFile::FalsePositives => "cp.fp_",
        }
    }
}

/// The category prefixes of blockpage signature names and the scope each maps to.
pub const CATEGORY_SCOPES: [(&str, Scope); 6] = [
    ("a_prod_", Scope::Prod),
    ("b_nat_", Scope::Nat),
    ("c_isp_", Scope::Isp),
    ("d_corp_", Scope::Inst),
    ("e_unk_", Scope::Vbw),
    ("f_gen_", Scope::Vbw),
];

#[derive(Deserialize)]
struct Signature {
    fingerprint: String,
    pattern: String,
}

/// The scope of a signature of `file` named `name`, or `None` for an unknown category.
fn scope_of(file: CensoredPlanetFile, name: &str) -> Option<Scope> {
    match file {
        CensoredPlanetFile::FalsePositives => Some(Scope::Fp),
        CensoredPlanetFile::Blockpages => CATEGORY_SCOPES
            .iter()
            .find(|(prefix, _)| name.starts_with(prefix))
            .map(|(_, scope)| *scope),
    }
}

/// The rows of one signature file, in file order; `origin` names the file in errors and in
/// every row's `origin`.
pub(super) fn parse(
    data: &[u8],
    file: CensoredPlanetFile,
    origin: &str,
) -> Result<Vec<Fingerprint>, FingerprintError> {
    let invalid = |line: usize, message: String| FingerprintError::Invalid {
        path: origin.to_string(),
        line: u64::try_from(line).unwrap_or(u64::MAX),
        message,
    };
    let mut signatures = Vec::new();
    for (index, raw) in data.split(|&b| b == b'\n').enumerate() {
        let line = index + 1;
        let text = std::str::from_utf8(raw)
            .map_err(|_| invalid(line, "the text is not valid UTF-8".into()))?;
        if text.trim().is_empty() {
            continue;
        }
        let signature: Signature = serde_json::from_str(text).map_err(|e| {
            invalid(
                line,
                format!("not a signature object ({{\"fingerprint\": ..., \"pattern\": ...}}): {e}"),
            )
        })?;
        if signature.fingerprint.trim().is_empty() {
            return Err(invalid(line, "the `fingerprint` is empty".into()));
        }
        if signature.pattern.is_empty() {
            return Err(invalid(
                line,
                format!("the `pattern` of `{}` is empty", signature.fingerprint),
            ));
        }
        signatures.push((line, signature));
    }
    let taken: HashSet<String> = signatures
        .iter()
        .map(|(_, s)| format!("{}{}", file.name_prefix(), s.fingerprint))
        .collect();
    let mut used: HashSet<String> = HashSet::new();
    let mut rows = Vec::with_capacity(signatures.len());
    for (line, signature) in signatures {
        let Signature {
            fingerprint,
            pattern,
        } = signature;
        let scope = scope_of(file, &fingerprint).ok_or_else(|| {
            let known: Vec<&str> = CATEGORY_SCOPES.iter().map(|(p, _)| *p).collect();
            invalid(
                line,
                format!(
                    "the blockpage signature `{fingerprint}` has no known category prefix ({})",
                    known.join(", ")
                ),
            )
        })?;
        let regex = compile_regex(&pattern).map_err(|e| {
            invalid(
                line,
                format!("the pattern of `{fingerprint}` is not a valid regular expression: {e}"),
            )
        })?;
        let base = format!("{}{fingerprint}", file.name_prefix());
        let (name, nth) = if used.contains(&base) {
            let mut n = 2;
            loop {
                let candidate = format!("{base}_{n}");
                if !used.contains(&candidate) && !taken.contains(&candidate) {
                    break (candidate, n);
                }
                n += 1;
            }
        } else {
            (base, 1)
        };
        used.insert(name.clone());
        let repeat = if nth > 1 {
            format!("; pattern {nth} of that name in the file")
        } else {
            String::new()
        };
        rows.push(Fingerprint {
            name,
            scope,
            other_names: Vec::new(),
            location: Location::Response,
            pattern_type: PatternType::Regexp,
            pattern,
            confidence_no_fp: 0,
            countries: Vec::new(),
            source: CP_SOURCE.to_string(),
            exp_url: None,
            notes: format!(
                "Censored Planet signature `{fingerprint}`, line {line} of {}{repeat}",
                file.upstream_name()
            ),
            origin: origin.to_string(),
            collection: Collection::CensoredPlanet,
            regex: Some(regex),
        });
    }
    Ok(rows)
}
