//! A capture cut short anywhere gives, for the frames before the cut, exactly the findings
//! of the same frames in an intact file: the unreadable tail costs the frames in it and
//! nothing else. For every uncompressed fixture, at cut points drawn from a fixed seed, the
//! findings of the truncated file are compared with those of the file cut cleanly at the
//! start of the record the reader reported incomplete.

mod common;

use std::io::Cursor;
use std::path::PathBuf;

use tamper::capture::{CaptureReader, ReadEnd};
use tamper::pipeline::{self, Options};
use tamper::report::{Report, ReportFormat};
use tamper::synth::rng::SplitMix64;

/// Cut points per fixture.
const CUTS: usize = 8;

fn captures() -> Vec<PathBuf> {
    common::fixture_files(|p| {
        p.extension()
            .and_then(|x| x.to_str())
            .is_some_and(|x| x == "pcap" || x == "pcapng")
    })
}

/// The findings (JSON Lines) and how reading ended, or None when the bytes are no capture.
fn analyze(bytes: &[u8]) -> Option<(String, ReadEnd, u64)> {
    let reader = CaptureReader::from_reader(Box::new(Cursor::new(bytes.to_vec())), "cut").ok()?;
    let report = pipeline::analyze_reader("cut".into(), reader, &Options::default(), None);
    let summary = report.summary.as_ref()?;
    let (end, frames) = (summary.read_end.clone(), summary.frames);
    let mut out = Vec::new();
    Report::new(vec![report])
        .write(ReportFormat::Jsonl, &mut out)
        .unwrap();
    Some((String::from_utf8(out).unwrap(), end, frames))
}

#[test]
fn findings_before_a_cut_are_those_of_the_intact_frames() {
    let files = captures();
    assert!(files.len() > 100, "only {} fixtures", files.len());
    let (mut compared, mut with_findings) = (0, 0);
    for path in files {
        let bytes = std::fs::read(&path).unwrap();
        let name = path
            .strip_prefix(common::fixtures_dir())
            .unwrap()
            .display()
            .to_string();
        let mut rng = SplitMix64::new(bytes.len() as u64 ^ 0x7275_6e63);
        for _ in 0..CUTS {
            let cut = rng.range_u64(1, bytes.len() as u64 - 1) as usize;
            let Some((findings, end, frames)) = analyze(&bytes[..cut]) else {
                continue; // cut inside the file header: not a capture, a clean error
            };
            let offset = match end {
                // (Some fixtures are damaged by design: reading stops at a bad record, which
                // the cut may come after.)
                ReadEnd::Truncated { offset, .. } | ReadEnd::Invalid { offset, .. } => {
                    offset as usize
                }
                // The cut fell on a record boundary: the file is intact as it is.
                ReadEnd::Complete => cut,
                other => panic!("{name} cut at {cut}: read ended {other:?}"),
            };
            assert!(
                offset <= cut,
                "{name} cut at {cut}: incomplete record at {offset}"
            );
            let (clean, clean_end, clean_frames) = analyze(&bytes[..offset])
                .unwrap_or_else(|| panic!("{name}: the first {offset} bytes are no capture"));
            assert!(
                !clean_end.is_partial(),
                "{name}: cut at the record boundary {offset} still reads {clean_end:?}"
            );
            assert_eq!(frames, clean_frames, "{name} cut at {cut}: frames read");
            assert_eq!(
                findings, clean,
                "{name} cut at {cut} (incomplete record at {offset}): findings differ from those of the intact frames"
            );
            compared += 1;
            with_findings += usize::from(!findings.is_empty());
        }
    }
    // The property is only worth something if cuts leave findings to compare.
    assert!(compared > 500, "{compared} cuts compared");
    assert!(with_findings > 100, "{with_findings} cuts with findings");
}
