//! Keeps the layers apart: each module may use only the layers below it (the table in
//! `docs/architecture.md`). Crude on purpose: it looks for `crate::<module>` in the source
//! text, which is how every cross-module path in this crate is written.

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;

/// Module → the crate modules it may use.
const ALLOWED: &[(&str, &[&str])] = &[
    ("ids", &[]),
    ("time", &[]),
    ("diag", &["ids"]),
    ("capture", &["diag", "ids", "time"]),
    ("decode", &["capture", "ids"]),
    ("defrag", &["decode", "diag", "ids", "time"]),
    ("flow", &["decode", "ids", "time"]),
    ("proto", &["decode", "diag", "flow", "ids", "time"]),
    ("finding", &["diag", "ids", "time"]),
    (
        "detect",
        &["diag", "finding", "flow", "proto", "ids", "time"],
    ),
    (
        "report",
        &["capture", "diag", "finding", "flow", "ids", "time"],
    ),
    (
        "pipeline",
        &[
            "capture", "decode", "defrag", "detect", "diag", "finding", "flow", "ids", "proto",
            "report", "time",
        ],
    ),
    (
        "inspect",
        &[
            "capture", "decode", "diag", "finding", "flow", "ids", "pipeline", "proto", "report",
            "time",
        ],
    ),
    ("compare", &["capture", "report"]),
    ("corpus", &["capture", "diag", "pipeline", "report"]),
    (
        "cli",
        &[
            "anon", "capture", "compare", "corpus", "decode", "detect", "diag", "finding", "flow",
            "ids", "inspect", "pipeline", "report", "time",
        ],
    ),
    // synth::quic seals QUIC Initials with the decoder's Initial key derivation and
    // packet-protection helpers (proto::quic::crypto), both pinned to the RFC 9001 / RFC 9369
    // test vectors, rather than a second copy of them.
    ("synth", &["proto", "synth"]),
    // Address anonymization stands alone: it takes bytes and text, not the pipeline's types.
    ("anon", &[]),
];

/// The non-test Rust source of every file under `path` (unit-test modules may use test
/// helpers such as `synth` freely).
fn sources(path: &Path, out: &mut Vec<String>) {
    if path.is_file() {
        if path.extension().is_some_and(|e| e == "rs") {
            let text = fs::read_to_string(path).unwrap_or_default();
            let code = match text.find("#[cfg(test)]") {
                Some(i) => text[..i].to_string(),
                None => text,
            };
            out.push(code);
        }
    } else if let Ok(rd) = fs::read_dir(path) {
        for e in rd.flatten() {
            sources(&e.path(), out);
        }
    }
}

fn used_modules(text: &str) -> BTreeSet<String> {
    let mut used = BTreeSet::new();
    for (i, _) in text.match_indices("crate::") {
        let rest = &text[i + "crate::".len()..];
        let name: String = rest
            .chars()
            .take_while(|c| c.is_ascii_lowercase() || *c == '_')
            .collect();
        if !name.is_empty() {
            used.insert(name);
        }
    }
    used
}

#[test]
fn layers_use_only_the_layers_below() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut problems = Vec::new();
    for (module, allowed) in ALLOWED {
        let dir = src.join(module);
        let path = if dir.is_dir() {
            dir
        } else {
            src.join(format!("{module}.rs"))
        };
        assert!(path.exists(), "{} missing", path.display());
        let mut texts = Vec::new();
        sources(&path, &mut texts);
        let used: BTreeSet<String> = texts.iter().flat_map(|t| used_modules(t)).collect();
        for u in used {
            if u != *module && !allowed.contains(&u.as_str()) {
                problems.push(format!("src/{module} uses crate::{u}"));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "layering violations:\n{}",
        problems.join("\n")
    );
}

#[test]
fn every_module_is_in_the_table() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let known: BTreeSet<&str> = ALLOWED.iter().map(|(m, _)| *m).collect();
    for e in fs::read_dir(&src).unwrap().flatten() {
        let name = e
            .file_name()
            .to_string_lossy()
            .trim_end_matches(".rs")
            .to_string();
        if name == "lib" || name == "main" {
            continue;
        }
        assert!(
            known.contains(name.as_str()),
            "src/{name} is not in the layering table"
        );
    }
}

#[test]
fn every_module_doc_says_what_it_does() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut missing = Vec::new();
    fn walk(p: &Path, missing: &mut Vec<String>) {
        for e in fs::read_dir(p).unwrap().flatten() {
            let path = e.path();
            if path.is_dir() {
                walk(&path, missing);
            } else if path.extension().is_some_and(|x| x == "rs") {
                let text = fs::read_to_string(&path).unwrap_or_default();
                let first = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
                if !first.starts_with("//!") {
                    missing.push(path.display().to_string());
                }
            }
        }
    }
    walk(&src, &mut missing);
    assert!(
        missing.is_empty(),
        "files without a //! module doc: {missing:?}"
    );
}
