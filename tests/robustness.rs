//! Hostile input: every committed fixture, damaged in many deterministic ways (bytes
//! overwritten, bits flipped, a run of bytes deleted or repeated, the file cut short), is
//! analyzed without a panic and gives a report (or a clean error when it no longer looks like
//! a capture), and every finding in it still cites frames.
//!
//! The damage is drawn from a fixed seed per fixture, so a failure names the fixture and the
//! mutation and reproduces exactly. A failure that aborts the process instead of panicking
//! (a violated unsafe precondition in a dependency) cannot be caught and named here: run with
//! `TAMPER_ROBUST_TRACE=1` to print each mutation before it is analyzed.

mod common;

use std::io::Cursor;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;

use tamper::capture::CaptureReader;
use tamper::pipeline::{self, Options};
use tamper::synth::rng::SplitMix64;

/// Mutations per fixture (about 170 fixtures).
const MUTATIONS: usize = 64;

fn fixtures() -> Vec<PathBuf> {
    common::fixture_files(|p| {
        p.file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| !n.ends_with(".jsonl") && !n.ends_with(".md"))
    })
}

/// One deterministic kind of damage, described for the failure message.
fn mutate(bytes: &[u8], rng: &mut SplitMix64) -> (Vec<u8>, String) {
    let mut b = bytes.to_vec();
    if b.is_empty() {
        return (b, "empty".into());
    }
    let len = b.len() as u64;
    let at = rng.range_u64(0, len - 1) as usize;
    match rng.range_u64(0, 5) {
        0 => {
            let n = rng.range_u64(1, 8) as usize;
            for i in at..(at + n).min(b.len()) {
                b[i] = rng.next_u32() as u8;
            }
            (b, format!("{n} random bytes at {at}"))
        }
        1 => {
            let bit = rng.range_u64(0, 7);
            b[at] ^= 1 << bit;
            (b, format!("bit {bit} flipped at {at}"))
        }
        2 => {
            let n = rng.range_u64(1, 64) as usize;
            let end = (at + n).min(b.len());
            b.drain(at..end);
            (b, format!("bytes {at}..{end} deleted"))
        }
        3 => {
            let n = rng.range_u64(1, 64) as usize;
            let end = (at + n).min(b.len());
            let copy = b[at..end].to_vec();
            b.splice(at..at, copy);
            (b, format!("bytes {at}..{end} repeated"))
        }
        4 => {
            // Lengths are where parsers go wrong: set a 16- or 32-bit field to an extreme.
            let v: u8 = if rng.next_u32() & 1 == 0 { 0xff } else { 0x00 };
            for i in at..(at + 4).min(b.len()) {
                b[i] = v;
            }
            (b, format!("4 bytes at {at} set to {v:#04x}"))
        }
        _ => {
            b.truncate(at);
            (b, format!("cut at {at}"))
        }
    }
}

#[test]
fn damaged_fixtures_never_panic() {
    let files = fixtures();
    assert!(files.len() > 100, "the fixture catalogue is there");
    let options = Options::default();
    let mut analyzed = 0;
    for path in &files {
        let bytes = std::fs::read(path).unwrap();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        // A seed per fixture, from its name, so adding a fixture does not change the others.
        let seed = name.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, c| {
            (h ^ u64::from(c)).wrapping_mul(0x100_0000_01b3)
        });
        let mut rng = SplitMix64::new(seed);
        for m in 0..MUTATIONS {
            let (damaged, what) = mutate(&bytes, &mut rng);
            if std::env::var_os("TAMPER_ROBUST_TRACE").is_some() {
                eprintln!("{} {m} {what}", path.display());
            }
            let result = catch_unwind(AssertUnwindSafe(|| {
                match CaptureReader::from_reader(Box::new(Cursor::new(damaged)), &name) {
                    Ok(reader) => {
                        let r = pipeline::analyze_reader(name.clone(), reader, &options, None);
                        // Whatever happened, the report is consistent with itself.
                        for f in &r.findings {
                            assert!(!f.frames.is_empty(), "a finding without frames");
                        }
                        true
                    }
                    Err(_) => false, // not recognisable as a capture any more: a clean error
                }
            }));
            match result {
                Ok(true) => analyzed += 1,
                Ok(false) => {}
                Err(_) => panic!("{}: mutation {m} ({what}) panicked", path.display()),
            }
        }
    }
    // Most damage leaves a readable capture: the test really exercises the analysis.
    assert!(
        analyzed > files.len() * MUTATIONS / 2,
        "{analyzed} analyzed"
    );
}
