//! The protocol facts detectors receive: the events produced on fixtures whose contents are
//! known (split and reordered TLS hellos, split HTTP heads, DNS over TCP, retransmissions with
//! different bytes, reordering, fragments, wrap-around).

mod common;

use std::sync::{Arc, Mutex};

use tamper::capture::InputSource;
use tamper::detect::{Detector, FlowView};
use tamper::finding::FindingSink;
use tamper::ids::{Direction, L4Proto};
use tamper::pipeline::{self, Options};
use tamper::proto::event::ProtoEvent;
use tamper::proto::tcp::SeqClass;

struct Recorder(Arc<Mutex<Vec<ProtoEvent>>>);

impl Detector for Recorder {
    fn name(&self) -> &'static str {
        "recorder"
    }
    fn on_event(&mut self, _flow: &FlowView<'_>, event: &ProtoEvent, _sink: &mut FindingSink) {
        if let Ok(mut v) = self.0.lock() {
            v.push(event.clone());
        }
    }
}

fn events(rel: &str) -> Vec<ProtoEvent> {
    let store = Arc::new(Mutex::new(Vec::new()));
    let report = pipeline::analyze_input(
        &InputSource::Path(common::fixtures_dir().join(rel)),
        &Options::default(),
        Some(vec![Box::new(Recorder(store.clone()))]),
    );
    assert!(report.summary.is_some(), "{rel}: {:?}", report.status);
    let v = store.lock().unwrap().clone();
    v
}

#[test]
fn client_hello_split_and_reordered_is_reassembled_with_its_frames() {
    let ev = events("decode/tls-client-hello-split-over-two-segments-out-of-order.pcap");
    let hellos: Vec<_> = ev
        .iter()
        .filter_map(|e| match e {
            ProtoEvent::TlsClientHello {
                dir, frames, hello, ..
            } => Some((*dir, frames.clone(), hello)),
            _ => None,
        })
        .collect();
    assert_eq!(hellos.len(), 1);
    let (dir, hello_frames, hello) = &hellos[0];
    assert_eq!(*dir, Direction::ClientToServer);
    assert_eq!(hello.sni.as_deref(), Some("out-of-order.example.com"));
    assert!(hello.handshake_len > 1460, "a post-quantum sized hello");
    assert_eq!(
        hello_frames.len(),
        2,
        "both segments cited: {hello_frames:?}"
    );
    assert!(ev
        .iter()
        .any(|e| matches!(e, ProtoEvent::TlsServerHello { .. })));
    // The segment that arrived first is after a gap; the second one fills it (reordering).
    let classes: Vec<SeqClass> = ev
        .iter()
        .filter_map(|e| match e {
            ProtoEvent::Packet(p) if p.dir == Direction::ClientToServer && p.payload_len > 0 => {
                p.tcp.map(|t| t.class)
            }
            _ => None,
        })
        .collect();
    assert!(classes.contains(&SeqClass::AfterGap), "{classes:?}");
    assert!(classes.contains(&SeqClass::OutOfOrder), "{classes:?}");
}

#[test]
fn http_head_split_over_three_segments_cites_all_three() {
    let ev = events("decode/http-request-head-split-over-three-segments.pcap");
    let req = ev
        .iter()
        .find_map(|e| match e {
            ProtoEvent::HttpRequest { frames, head, .. } => Some((frames.clone(), head.clone())),
            _ => None,
        })
        .expect("request");
    assert_eq!(req.0.len(), 3, "{:?}", req.0);
    assert_eq!(req.1.host.as_deref(), Some("split-head.example.org"));
    assert_eq!(req.1.method, "GET");
    let resp = ev
        .iter()
        .find_map(|e| match e {
            ProtoEvent::HttpResponse { head, body, .. } => Some((head.status, body.clone())),
            _ => None,
        })
        .expect("response");
    assert_eq!(resp.0, 200);
    assert!(resp.1.is_some_and(|b| !b.excerpt.is_empty()));
}

#[test]
fn retransmission_with_different_bytes_raises_an_overlap_conflict() {
    let ev = events("decode/tcp-retransmission-with-different-bytes.pcap");
    let conflicts: Vec<_> = ev
        .iter()
        .filter_map(|e| match e {
            ProtoEvent::TcpOverlapConflict {
                frame, conflict, ..
            } => Some((*frame, *conflict)),
            _ => None,
        })
        .collect();
    assert_eq!(conflicts.len(), 1, "{conflicts:?}");
    let (frame, c) = conflicts[0];
    let first = c.first_frame.expect("the first copy's frame is known");
    assert!(
        first < frame,
        "first copy {first} before the conflicting one {frame}"
    );
    assert!(c.differing > 0);
}

#[test]
fn dns_over_tcp_pairs_queries_and_responses() {
    let ev = events("decode/dns-over-tcp-two-queries-split-across-segments.pcap");
    let mut queries = Vec::new();
    let mut answered = Vec::new();
    for e in &ev {
        match e {
            ProtoEvent::DnsQuery {
                transport, message, ..
            } => {
                assert_eq!(*transport, L4Proto::Tcp);
                queries.push(message.question().unwrap().name.to_lowercase());
            }
            ProtoEvent::DnsResponse { query, nth, .. } => {
                let q = query.as_ref().expect("matched to its query");
                assert_eq!(*nth, 1);
                answered.push(q.qname.to_lowercase());
            }
            _ => {}
        }
    }
    assert_eq!(
        queries,
        ["first-over-tcp.example.com", "second-over-tcp.example.com"]
    );
    assert_eq!(answered, queries);
    let transactions = ev
        .iter()
        .filter(
            |e| matches!(e, ProtoEvent::DnsTransaction { responses, .. } if responses.len() == 1),
        )
        .count();
    assert_eq!(transactions, 2);
}

#[test]
fn sample_has_handshakes_with_rtts_and_complete_dns_transactions() {
    let ev = events("sample/browsing.pcapng");
    let rtts: Vec<_> = ev
        .iter()
        .filter_map(|e| match e {
            ProtoEvent::TcpHandshake(h) => h.rtt,
            _ => None,
        })
        .collect();
    assert_eq!(rtts.len(), 3);
    assert!(rtts.iter().all(|r| r.as_millis_f64() > 1.0));
    let tx: Vec<_> = ev
        .iter()
        .filter_map(|e| match e {
            ProtoEvent::DnsTransaction {
                query, responses, ..
            } => Some((query.qname.clone(), responses.len())),
            _ => None,
        })
        .collect();
    assert_eq!(tx.len(), 6, "A and AAAA lookups over 4 UDP flows: {tx:?}");
    assert!(tx.iter().all(|(_, n)| *n == 1));
    // Responses carry the IP facts detectors compare (TTL, IP ID) and their delay.
    let resp = ev
        .iter()
        .find_map(|e| match e {
            ProtoEvent::DnsResponse {
                ip,
                ts,
                query: Some(q),
                ..
            } => Some((ip.ttl, ip.ip_id, ts.since(q.ts))),
            _ => None,
        })
        .unwrap();
    assert!(resp.0 > 0 && resp.1.is_some() && !resp.2.is_negative());
}

#[test]
fn fragmented_dns_response_arrives_as_one_reassembled_packet() {
    let ev = events("decode/ipv4-fragmented-dns-response-arriving-out-of-order.pcap");
    let reassembled: Vec<_> = ev
        .iter()
        .filter_map(|e| match e {
            ProtoEvent::Packet(p) if p.reassembled => Some(p.frame),
            _ => None,
        })
        .collect();
    assert_eq!(reassembled.len(), 1);
    let r = ev
        .iter()
        .find_map(|e| match e {
            ProtoEvent::DnsResponse { message, frame, .. } => Some((message.clone(), *frame)),
            _ => None,
        })
        .expect("response");
    assert_eq!(r.1, reassembled[0]);
    assert!(r.0.malformed.is_none());
    assert!(!r.0.answers.is_empty());
}

#[test]
fn sequence_numbers_wrapping_around_zero_stay_in_order() {
    let ev = events("decode/tcp-sequence-numbers-wrapping-around-zero.pcap");
    for e in &ev {
        if let ProtoEvent::Packet(p) = e {
            let class = p.tcp.unwrap().class;
            assert!(
                !matches!(
                    class,
                    SeqClass::Retransmission | SeqClass::AfterGap | SeqClass::OutOfWindow
                ),
                "frame {}: {class:?}",
                p.frame
            );
        }
    }
    assert!(ev.iter().any(|e| matches!(e, ProtoEvent::HttpRequest { head, .. } if head.host.as_deref() == Some("wrap.example.com"))));
    assert!(ev
        .iter()
        .any(|e| matches!(e, ProtoEvent::HttpResponse { .. })));
}

#[test]
fn retransmissions_and_reordering_are_told_apart() {
    let ev = events("decode/tcp-retransmission-and-reordering.pcap");
    let classes: Vec<SeqClass> = ev
        .iter()
        .filter_map(|e| match e {
            ProtoEvent::Packet(p) if p.payload_len > 0 => p.tcp.map(|t| t.class),
            _ => None,
        })
        .collect();
    assert!(classes.contains(&SeqClass::Retransmission), "{classes:?}");
    assert!(
        classes.contains(&SeqClass::OutOfOrder) || classes.contains(&SeqClass::AfterGap),
        "{classes:?}"
    );
    assert!(
        ev.iter()
            .all(|e| !matches!(e, ProtoEvent::TcpOverlapConflict { .. })),
        "same bytes are no conflict"
    );
}

/// The certificate events of a fixture: (frames, summary), and the SNI of its ClientHello.
fn certificates(
    rel: &str,
) -> (
    Vec<(Vec<u64>, tamper::proto::tls::parse::CertificateSummary)>,
    Option<String>,
) {
    let ev = events(rel);
    let certs = ev
        .iter()
        .filter_map(|e| match e {
            ProtoEvent::TlsCertificate {
                dir,
                frames,
                certificate,
                ..
            } => {
                assert_eq!(*dir, Direction::ServerToClient, "{rel}");
                Some((
                    frames.iter().map(|f| f.get()).collect(),
                    certificate.clone(),
                ))
            }
            _ => None,
        })
        .collect();
    let sni = ev.iter().find_map(|e| match e {
        ProtoEvent::TlsClientHello { hello, .. } => hello.sni.clone(),
        _ => None,
    });
    (certs, sni)
}

#[test]
fn tls_fixture_certificates_reach_detectors_with_leaf_facts() {
    use tamper::proto::tls::names::{certificate_coverage, certificate_covers, Coverage};

    let (certs, sni) = certificates("tls/filtering-product-ca-certificate.pcap");
    let [(frames, c)] = certs.as_slice() else {
        panic!("{certs:?}")
    };
    // The frame with the message's first bytes, and the one that completed it.
    assert_eq!(frames, &[5, 6]);
    assert!(c.complete && !c.malformed && c.count == 2);
    let leaf = c.leaf.as_ref().unwrap();
    assert_eq!(leaf.subject.cn.as_deref(), Some("FortiGuard Web Filtering"));
    assert_eq!(leaf.issuer.cn.as_deref(), Some("FortiGate CA"));
    assert_eq!(leaf.issuer.o.as_deref(), Some("Fortinet"));
    assert!(!leaf.has_san && !leaf.self_signed);
    let ca = c.chain_issuers[0].as_ref().unwrap();
    assert_eq!(ca.o.as_deref(), Some("Fortinet"));
    let sni = sni.unwrap();
    assert_eq!(sni, "www.blocked-news.example");
    assert_eq!(certificate_coverage(c, &sni), Coverage::NotCovered);

    let (certs, sni) = certificates("tls/certificate-for-another-name.pcap");
    let [(frames, c)] = certs.as_slice() else {
        panic!("{certs:?}")
    };
    assert_eq!(frames, &[5]);
    let leaf = c.leaf.as_ref().unwrap();
    assert!(leaf.self_signed);
    assert_eq!(leaf.san_dns, ["block.isp-notice.example"]);
    assert!(c.chain_issuers.is_empty());
    assert_eq!(certificate_coverage(c, &sni.unwrap()), Coverage::NotCovered);

    let (certs, sni) = certificates("tls/cdn-wildcard-certificate.pcap");
    let [(frames, c)] = certs.as_slice() else {
        panic!("{certs:?}")
    };
    assert_eq!(frames, &[5, 6]);
    let leaf = c.leaf.as_ref().unwrap();
    assert_eq!(leaf.san_dns_total, 41);
    assert_eq!(leaf.issuer.o.as_deref(), Some("Example Trust CA"));
    assert!(certificate_covers(c, &sni.unwrap()));

    let (certs, sni) = certificates("tls/exact-name-in-long-san-list.pcap");
    let [(_, c)] = certs.as_slice() else {
        panic!("{certs:?}")
    };
    assert_eq!(c.leaf.as_ref().unwrap().san_dns_total, 60);
    assert!(certificate_covers(c, &sni.unwrap()));

    let (certs, sni) = certificates("tls/tls13-no-certificate-visible.pcap");
    assert!(certs.is_empty(), "{certs:?}");
    assert_eq!(sni.as_deref(), Some("www.tls13-site.example"));

    let (certs, sni) = certificates("tls/ip-address-connection-without-sni.pcap");
    assert_eq!(sni, None);
    let [(_, c)] = certs.as_slice() else {
        panic!("{certs:?}")
    };
    assert_eq!(
        c.leaf.as_ref().unwrap().subject.cn.as_deref(),
        Some("api.device-cloud.example")
    );
    assert!(!certificate_covers(c, "198.51.100.44"));
}

#[test]
fn certificate_cut_by_a_reset_still_gives_its_leaf() {
    use tamper::synth::app::{
        tls12_server_flight, ClientHello, ServerHello, TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
    };
    use tamper::synth::fixtures::T0;
    use tamper::synth::link::LINKTYPE_ETHERNET;
    use tamper::synth::scenario::{Host, Scenario, Side, TcpParams, MS, US};
    use tamper::synth::writer::{write_pcap, PcapOptions};
    use tamper::synth::x509::{CertSpec, KeyKind, Name};

    // The server's flight stops after the leaf and part of the second certificate; then the
    // connection is reset. The summary reports the leaf and says the message was incomplete.
    let mut sc = Scenario::new(77);
    let client = sc.add_host(Host::local("192.168.1.20".parse().unwrap()));
    let server = sc.add_host(Host::remote("198.51.100.9".parse().unwrap(), 52));
    let mut conn = sc
        .tcp(client, server, TcpParams::new(443).rtt(20 * MS))
        .unwrap();
    let t = conn.handshake(&mut sc, T0).unwrap();
    let ca = Name::org_cn("Example Trust CA", "Example Trust RSA CA 2023");
    let leaf = CertSpec::new(Name::cn("cut.example"), ca.clone(), 1_715_000_000, 90, 1)
        .with_dns(&["cut.example"])
        .der();
    let issuer = CertSpec::new(
        ca,
        Name::cn("Example Trust Root R1"),
        1_600_000_000,
        3650,
        2,
    )
    .with_key(KeyKind::Rsa2048)
    .der();
    let sh = ServerHello::tls12(TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, 3);
    let flight = tls12_server_flight(&sh, &[leaf.clone(), issuer], true, 3);
    let mut hello = ClientHello::new("cut.example");
    hello.seed = 4;
    let t = conn
        .exchange(&mut sc, t + 150 * US, &hello.record(), &flight[..1400])
        .unwrap();
    conn.reset(&mut sc, Side::Server, t + MS).unwrap();
    let bytes = write_pcap(&PcapOptions::new(LINKTYPE_ETHERNET), &sc.finish());
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cut.pcap");
    std::fs::write(&path, bytes).unwrap();
    let store = Arc::new(Mutex::new(Vec::new()));
    let report = pipeline::analyze_input(
        &InputSource::Path(path),
        &Options::default(),
        Some(vec![Box::new(Recorder(store.clone()))]),
    );
    assert!(report.summary.is_some());
    let ev = store.lock().unwrap().clone();
    let certs: Vec<_> = ev
        .iter()
        .filter_map(|e| match e {
            ProtoEvent::TlsCertificate {
                frames,
                certificate,
                ..
            } => Some((frames.clone(), certificate.clone())),
            _ => None,
        })
        .collect();
    let [(frames, c)] = certs.as_slice() else {
        panic!("{certs:?}")
    };
    assert_eq!(frames.iter().map(|f| f.get()).collect::<Vec<_>>(), [5]);
    assert!(!c.complete && !c.malformed);
    assert_eq!(c.count, 1);
    assert_eq!(c.first_cert_len, Some(leaf.len()));
    let l = c.leaf.as_ref().unwrap();
    assert_eq!(l.san_dns, ["cut.example"]);
    assert!(c.chain_issuers.is_empty());
}
