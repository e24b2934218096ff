//! The HTML report over real captures: one self-contained page (no script, nothing loaded,
//! only on-page links), well-formed (tags balanced, ids unique, every link's anchor present),
//! pictures placed under their finding, and `tamper analyze --format html` writing it.

mod common;

use std::collections::BTreeSet;
use std::process::Command;

use assert_cmd::cargo::CommandCargoExt;
use tamper::capture::InputSource;
use tamper::pipeline::{self, Options};
use tamper::report::{
    DnsEvent, DnsTimeline, Ladder, LadderPacket, Picture, Pictures, Report, ReportFormat,
    SeriesLine, SeriesPlot,
};

const RST: &str = "rst/gfw-rst-burst-after-http-host-at-client.pcap";

fn analyze(rels: &[&str]) -> Report {
    let captures = rels
        .iter()
        .map(|rel| {
            pipeline::analyze_input(
                &InputSource::Path(common::fixtures_dir().join(rel)),
                &Options::default(),
                None,
            )
        })
        .collect();
    Report::new(captures)
}

fn html(report: &Report, pictures: &Pictures) -> String {
    let mut out = Vec::new();
    report.write_html(pictures, &mut out).unwrap();
    String::from_utf8(out).expect("the page is UTF-8")
}

const VOID: &[&str] = &[
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track",
    "wbr",
];

/// The value of attribute `name` in the text of one tag.
fn attr<'a>(tag: &'a str, name: &str) -> Option<&'a str> {
    let key = format!(" {name}=\"");
    let start = tag.find(&key)? + key.len();
    let len = tag[start..].find('"')?;
    Some(&tag[start..start + len])
}

/// Checks that the page loads nothing, runs nothing, links only to itself and is well formed:
/// every opened element is closed in order, ids are unique and every `#link` has its anchor.
fn check_page(page: &str) {
    assert!(page.starts_with("<!DOCTYPE html>\n"));
    assert!(
        page.contains("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src &#39;none&#39;; style-src &#39;unsafe-inline&#39;; img-src data:\">"),
        "the CSP meta is missing"
    );
    assert!(
        !page.to_ascii_lowercase().contains("<script"),
        "a script element"
    );
    assert!(!page.contains("NaN"), "a NaN reached the page");
    let mut stack: Vec<String> = Vec::new();
    let mut ids = BTreeSet::new();
    let mut links = BTreeSet::new();
    let mut rest = page;
    while let Some(lt) = rest.find('<') {
        rest = &rest[lt + 1..];
        if rest.starts_with("!DOCTYPE") {
            continue;
        }
        assert!(!rest.starts_with("!--"), "no comments expected");
        let gt = rest.find('>').expect("a tag is closed with >");
        let tag = &rest[..gt];
        let closing = tag.starts_with('/');
        let name: String = tag
            .trim_start_matches('/')
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect::<String>()
            .to_ascii_lowercase();
        assert!(!name.is_empty(), "a bare < in the text: <{tag}>");
        assert!(
            !tag.contains(" src="),
            "an element loads something: <{tag}>"
        );
        assert!(!tag.contains(" on"), "an event handler attribute: <{tag}>");
        if let Some(href) = attr(tag, "href") {
            assert!(href.starts_with('#'), "a link off the page: <{tag}>");
            links.insert(href[1..].to_string());
        }
        if let Some(id) = attr(tag, "id") {
            assert!(ids.insert(id.to_string()), "duplicate id {id}");
        }
        if closing {
            let open = stack.pop();
            assert_eq!(
                open.as_deref(),
                Some(name.as_str()),
                "</{name}> closes {open:?}"
            );
        } else if !tag.ends_with('/') && !VOID.contains(&name.as_str()) {
            stack.push(name.clone());
        }
        rest = &rest[gt + 1..];
        if name == "style" && !closing {
            // CSS is not markup: jump to its end tag.
            let end = rest.find("</style>").expect("</style>");
            rest = &rest[end..];
        }
    }
    assert!(stack.is_empty(), "unclosed elements: {stack:?}");
    for l in &links {
        assert!(ids.contains(l), "link to #{l} without an anchor");
    }
}

#[test]
fn fixture_report_is_self_contained_and_well_formed() {
    let report = analyze(&[RST]);
    assert!(report.findings().count() > 0, "the fixture has findings");
    let page = html(&report, &Pictures::default());
    check_page(&page);
    for f in report.findings() {
        assert!(page.contains(&format!(
            "<section class=\"finding conf-{}\" id=\"{}\">",
            f.confidence, f.id
        )));
        assert!(page.contains(&format!(
            "<a href=\"#{0}\"><span class=\"fid\">{0}</span></a>",
            f.id
        )));
        assert!(page.contains(&format!(
            "<code class=\"filter\">{}</code>",
            f.wireshark_filter
        )));
    }
    for class in tamper::finding::FindingClass::ALL {
        assert!(page.contains(&format!("<th scope=\"row\"><code>{class}</code></th>")));
    }
    assert!(page.contains("tcp_rst_injected") && page.contains("gfw_rst_type_2"));
    // Report::write with the Html format is the same page without pictures.
    let mut via_format = Vec::new();
    report.write(ReportFormat::Html, &mut via_format).unwrap();
    assert_eq!(via_format, page.as_bytes());
    assert_eq!(ReportFormat::Html.extension(), "html");
}

#[test]
fn pictures_are_drawn_under_their_finding() {
    let report = analyze(&[RST, "dns/race-forged-first-then-real-a.pcap"]);
    let ids: Vec<String> = report.findings().map(|f| f.id.clone()).collect();
    assert!(ids.len() >= 2, "{ids:?}");
    let mut pictures = Pictures::default();
    let first = ids[0].clone();
    let last = ids[ids.len() - 1].clone();
    pictures.push(
        first.clone(),
        Picture::Ladder(Ladder {
            client: "192.168.1.20:59881".into(),
            server: "198.51.100.80:80".into(),
            packets: (1..=9)
                .map(|f| LadderPacket {
                    frame: f,
                    t_ms: f as f64 * 20.0,
                    from_client: f % 2 == 1,
                    label: format!("seg <{f}>"),
                    ttl: 52,
                    ip_id: Some(100 + f as u32),
                    note: String::new(),
                    marked: f == 5,
                })
                .collect(),
            baseline: vec![("server TTL".into(), "52".into())],
            ..Ladder::default()
        }),
    );
    pictures.push(
        last.clone(),
        Picture::DnsTimeline(DnsTimeline {
            question: "blocked.example A".into(),
            client: "10.0.0.2".into(),
            resolver: "8.8.8.8".into(),
            events: vec![DnsEvent {
                frame: 1,
                is_query: true,
                ttl: 64,
                ..DnsEvent::default()
            }],
        }),
    );
    pictures.push(
        last.clone(),
        Picture::Series(SeriesPlot {
            title: "goodput".into(),
            lines: vec![SeriesLine {
                label: "x".into(),
                points: vec![(0.0, 1.0), (1.0, f64::NAN), (2.0, 3.0)],
            }],
            ..SeriesPlot::default()
        }),
    );
    // A picture for an id the report does not have is not drawn.
    pictures.push("F99", Picture::Series(SeriesPlot::default()));
    let page = html(&report, &pictures);
    check_page(&page);
    assert_eq!(page.matches("<svg ").count(), 3);
    assert!(page.contains("seg &lt;5&gt;"));
    let at = |id: &str| page.find(&format!("id=\"{id}\"")).unwrap();
    let first_svg = page.find("<svg ").unwrap();
    assert!(at(&first) < first_svg);
    if let Some(next) = ids.get(1) {
        assert!(first_svg < at(next), "the ladder sits in {first}'s section");
    }
    let last_svg = page.rfind("<svg ").unwrap();
    assert!(at(&last) < last_svg);
    assert_eq!(page, html(&report, &pictures), "deterministic");
}

#[test]
fn every_fixture_renders_a_well_formed_page() {
    let paths: Vec<&str> = tamper::synth::fixtures::catalogue()
        .iter()
        .map(|f| f.path)
        .collect();
    assert!(paths.len() > 50);
    let report = analyze(&paths);
    let page = html(&report, &Pictures::default());
    check_page(&page);
    assert_eq!(
        page.matches("<section class=\"finding ").count(),
        report.findings().count()
    );
}

#[test]
fn committed_example_page_is_well_formed() {
    let page = std::fs::read_to_string(common::root().join("src/report/snapshots/report.html"))
        .expect("the committed example page");
    check_page(&page);
    assert_eq!(page.matches("<svg ").count(), 3);
}

#[test]
fn cli_writes_html_and_csv_flows() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("report.html");
    let flows = dir.path().join("flows.csv");
    let status = Command::cargo_bin("tamper")
        .unwrap()
        .args(["analyze", "--format", "html", "-o"])
        .arg(&out)
        .arg("--flows")
        .arg(&flows)
        .arg(common::fixtures_dir().join(RST))
        .output()
        .unwrap();
    assert_eq!(
        status.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&status.stderr)
    );
    let page = std::fs::read_to_string(&out).unwrap();
    check_page(&page);
    assert!(page.contains("tcp_rst_injected"));
    let csv = std::fs::read_to_string(&flows).unwrap();
    assert!(csv.starts_with("capture,"), "{}", &csv[..csv.len().min(80)]);
}
