//! Detector behaviour that the fixture catalogue cannot show: limits reached, with the
//! detector's cap lowered so a small fixture reaches it.

mod common;

use tamper::capture::InputSource;
use tamper::detect::dns_injection::DnsInjection;
use tamper::detect::Detector;
use tamper::pipeline::{self, Options};

#[test]
fn dns_judgement_limit_is_reported_and_races_are_still_found() {
    let path = common::fixtures_dir().join("dns/race-forged-first-then-real-a.pcap");
    let run = |cap: usize| {
        let detectors: Vec<Box<dyn Detector>> =
            vec![Box::new(DnsInjection::default().with_max_deferred(cap))];
        pipeline::analyze_input(
            &InputSource::Path(path.clone()),
            &Options::default(),
            Some(detectors),
        )
    };
    let limit = |r: &tamper::report::CaptureReport| {
        r.diagnostics
            .iter()
            .filter(|d| d.kind.as_str() == "limit_reached_dns_judgement")
            .map(|d| d.count)
            .sum::<u64>()
    };
    // Four transactions (three baseline lookups and the raced one): a cap of four is not hit.
    let roomy = run(4);
    assert_eq!(limit(&roomy), 0);
    // A cap of zero judges every transaction as it completes, against the baseline so far:
    // the limit is reported once, and the race needs no baseline to be found.
    let tight = run(0);
    assert_eq!(limit(&tight), 1, "{:?}", tight.diagnostics);
    for r in [&roomy, &tight] {
        let races: Vec<_> = r
            .findings
            .iter()
            .filter(|f| f.kind.as_str() == "dns_answer_race")
            .collect();
        assert_eq!(races.len(), 1, "{:?}", r.findings);
        assert!(races[0].frames.iter().any(|f| f.get() == 8));
    }
}
