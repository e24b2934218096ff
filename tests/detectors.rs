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

/// The blackhole summaries say once that nothing came back, and a dropped request's duration
/// spans its transmissions (0.25 + 0.5 + 1 + 2 s), not the time until the client's RST (7 s).
#[test]
fn blackhole_wording_and_durations() {
    let dir = common::fixtures_dir().join("blackhole");
    let finding = |file: &str, kind: &str| {
        let (report, _) = common::analyze_with_facts(&dir.join(file));
        report
            .findings
            .into_iter()
            .find(|f| f.kind.as_str() == kind)
            .unwrap_or_else(|| panic!("{file}: no {kind}"))
    };
    let span = |f: &tamper::finding::Finding| {
        f.evidence
            .iter()
            .find_map(|e| match e {
                tamper::finding::Evidence::Measurement { metric, value, .. }
                    if metric == "attempts_span" =>
                {
                    Some(*value)
                }
                _ => None,
            })
            .expect("attempts_span")
    };
    let syn = finding("syn-unanswered-telegram-address.pcap", "tcp_syn_unanswered");
    let s = syn.summary.to_ascii_lowercase();
    assert_eq!(
        s.matches("no answer").count()
            + s.matches("without answer").count()
            + s.matches("got no").count(),
        1,
        "{}",
        syn.summary
    );
    assert_eq!(span(&syn), 15_000.0);
    let dropped = finding("http-request-dropped.pcap", "tcp_dropped_after_trigger");
    assert_eq!(span(&dropped), 3_750.0);
    assert!(
        dropped.summary.contains("over 3.75 s"),
        "{}",
        dropped.summary
    );
}

/// A flow with more HTTP requests waiting for responses than the blockpage detector keeps
/// (64) reports `limit_reached_blockpage_state` instead of dropping them silently.
#[test]
fn blockpage_request_cap_is_reported() {
    use std::net::{IpAddr, Ipv4Addr};
    use tamper::synth::app::HttpRequest;
    use tamper::synth::link::LINKTYPE_ETHERNET;
    use tamper::synth::scenario::{Host, Scenario, Side, TcpParams};
    use tamper::synth::writer::{write_pcap, PcapOptions};

    let build = |requests: usize| {
        let mut sc = Scenario::new(7);
        let client = sc.add_host(Host::local(IpAddr::V4(Ipv4Addr::new(192, 168, 1, 20))));
        let server = sc.add_host(Host::remote(
            IpAddr::V4(Ipv4Addr::new(198, 51, 100, 80)),
            52,
        ));
        let mut conn = sc
            .tcp(client, server, TcpParams::new(80).rtt(20_000_000))
            .unwrap();
        let mut t = conn.handshake(&mut sc, 1_000_000_000).unwrap();
        for i in 0..requests {
            let req = HttpRequest::get("pipelined.example", &format!("/item/{i}")).encode();
            t = conn
                .send(&mut sc, Side::Client, t + 1_000_000, &req)
                .unwrap();
        }
        conn.close(&mut sc, Side::Client, t + 5_000_000).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pipelined.pcap");
        std::fs::write(
            &path,
            write_pcap(&PcapOptions::new(LINKTYPE_ETHERNET), &sc.finish()),
        )
        .unwrap();
        let report = pipeline::analyze_input(&InputSource::Path(path), &Options::default(), None);
        report
            .diagnostics
            .iter()
            .filter(|d| d.kind.as_str() == "limit_reached_blockpage_state")
            .map(|d| d.count)
            .sum::<u64>()
    };
    assert_eq!(build(64), 0, "64 waiting requests fit");
    assert_eq!(build(70), 6, "each request past the cap is counted");
}
