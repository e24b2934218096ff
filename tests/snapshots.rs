//! Byte-for-byte snapshots of every text report format for the bundled sample capture
//! (`fixtures/sample/incident.pcapng`: findings of all five classes), as the command line
//! writes them. A change to any report shows up here as a diff to review; regenerate with
//! `TAMPER_UPDATE=1 cargo test --test snapshots`.

mod common;

const SAMPLE: &str = "fixtures/sample/incident.pcapng";

/// The report the command line writes for the sample, run from the repository root so that
/// the capture's name in the report is the relative path a reader of the README types.
fn report(format: &str) -> Vec<u8> {
    let out = common::tamper()
        .current_dir(common::root())
        .args(["analyze", "-q", "--format", format, "--output", "-", SAMPLE])
        .output()
        .expect("run tamper");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{format}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

fn check(format: &str, file: &str) {
    let path = common::root().join("tests/snapshots").join(file);
    let now = report(format);
    if std::env::var_os("TAMPER_UPDATE").is_some() {
        std::fs::write(&path, &now).expect("write snapshot");
        return;
    }
    let committed = std::fs::read(&path).unwrap_or_else(|e| {
        panic!(
            "{} is missing ({e}): run `TAMPER_UPDATE=1 cargo test --test snapshots`",
            path.display()
        )
    });
    if committed != now {
        let (a, b) = (
            String::from_utf8_lossy(&committed),
            String::from_utf8_lossy(&now),
        );
        let first = a
            .lines()
            .zip(b.lines())
            .position(|(x, y)| x != y)
            .unwrap_or(a.lines().count().min(b.lines().count()));
        panic!(
            "{} differs from what `tamper analyze --format {format}` writes now, first at line {}:\n  committed: {:?}\n  now:       {:?}\nrun `TAMPER_UPDATE=1 cargo test --test snapshots` and review the diff",
            path.display(),
            first + 1,
            a.lines().nth(first).unwrap_or(""),
            b.lines().nth(first).unwrap_or(""),
        );
    }
}

#[test]
fn jsonl_report_of_the_sample() {
    check("jsonl", "incident.jsonl");
}

#[test]
fn csv_report_of_the_sample() {
    check("csv", "incident.csv");
}

#[test]
fn markdown_report_of_the_sample() {
    check("markdown", "incident.md");
}

#[test]
fn html_report_of_the_sample() {
    check("html", "incident.html");
}

/// The snapshots hold what they are meant to: a finding of every class in every format.
#[test]
fn snapshots_cover_all_five_classes() {
    let dir = common::root().join("tests/snapshots");
    for file in [
        "incident.jsonl",
        "incident.csv",
        "incident.md",
        "incident.html",
    ] {
        let text = std::fs::read_to_string(dir.join(file)).expect("snapshot");
        for class in [
            "rst_injection",
            "dns_injection",
            "blockpage",
            "throttling",
            "blackhole",
        ] {
            assert!(text.contains(class), "{file} has no {class} finding");
        }
    }
}
