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

// ----- QUIC ------------------------------------------------------------------------------

/// Hex test vectors of RFC 9001 Appendix A, shared with the unit tests.
fn rfc_vector(name: &str) -> Vec<u8> {
    let path = common::root().join("src/proto/quic/testdata").join(name);
    let text = std::fs::read_to_string(&path).unwrap();
    let digits: String = text.chars().filter(|c| c.is_ascii_hexdigit()).collect();
    (0..digits.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&digits[i..i + 2], 16).unwrap())
        .collect()
}

/// The QUIC events of a capture built from the RFC 9001 A.2 client Initial and A.3 server
/// Initial on UDP ports `(client, server)`, with a DNS query first on the same hosts.
fn quic_rfc_capture_events(client_port: u16, server_port: u16) -> Vec<ProtoEvent> {
    use tamper::synth::fixtures::T0;
    use tamper::synth::link::LINKTYPE_ETHERNET;
    use tamper::synth::scenario::{Host, Scenario, MS};
    use tamper::synth::writer::{write_pcap, PcapOptions};
    let mut sc = Scenario::new(9);
    let client = sc.add_host(Host::local("192.0.2.10".parse().unwrap()));
    let server = sc.add_host(Host::remote("198.51.100.20".parse().unwrap(), 52));
    sc.send_udp(
        T0,
        client,
        server,
        client_port,
        server_port,
        &rfc_vector("rfc9001-a2-client-initial.hex"),
    )
    .unwrap();
    sc.send_udp(
        T0 + 30 * MS,
        server,
        client,
        server_port,
        client_port,
        &rfc_vector("rfc9001-a3-server-initial.hex"),
    )
    .unwrap();
    let bytes = write_pcap(&PcapOptions::new(LINKTYPE_ETHERNET), &sc.finish());
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("quic.pcap");
    std::fs::write(&path, bytes).unwrap();
    let store = Arc::new(Mutex::new(Vec::new()));
    let report = pipeline::analyze_input(
        &InputSource::Path(path),
        &Options::default(),
        Some(vec![Box::new(Recorder(store.clone()))]),
    );
    assert!(report.summary.is_some());
    let ev = store.lock().unwrap().clone();
    ev.into_iter()
        .filter(|e| matches!(e, ProtoEvent::QuicInitial { .. }))
        .collect()
}

#[test]
fn quic_initials_of_rfc9001_reach_detectors_on_443_and_on_other_ports() {
    for (client_port, server_port) in [(50_000, 443), (50_000, 4433)] {
        let ev = quic_rfc_capture_events(client_port, server_port);
        assert_eq!(ev.len(), 2, "port {server_port}: {ev:?}");
        let ProtoEvent::QuicInitial {
            dir,
            frames,
            sni,
            alpn,
            version,
            decrypted,
            complete,
            ..
        } = &ev[0]
        else {
            unreachable!()
        };
        assert_eq!(*dir, Direction::ClientToServer);
        assert_eq!(frames.iter().map(|f| f.get()).collect::<Vec<_>>(), [1]);
        assert_eq!(sni.as_deref(), Some("example.com"));
        assert_eq!(alpn, &["alpn"]);
        assert_eq!(*version, 1);
        assert!(decrypted & complete);
        let ProtoEvent::QuicInitial {
            dir,
            frames,
            server_hello,
            ..
        } = &ev[1]
        else {
            unreachable!()
        };
        assert_eq!(*dir, Direction::ServerToClient);
        assert_eq!(frames.iter().map(|f| f.get()).collect::<Vec<_>>(), [2]);
        assert!(server_hello.is_some());
    }
    // The DNS port is DNS's, whatever the bytes look like.
    assert!(quic_rfc_capture_events(50_000, 53).is_empty());
}

/// The QUIC events of a corpus capture, with its report.
fn corpus_quic_events(rel: &str) -> Option<(Vec<ProtoEvent>, tamper::report::CaptureReport)> {
    let corpus = common::corpus_dir()?;
    let store = Arc::new(Mutex::new(Vec::new()));
    let report = pipeline::analyze_input(
        &InputSource::Path(corpus.join(rel)),
        &Options::default(),
        Some(vec![Box::new(Recorder(store.clone()))]),
    );
    assert!(report.summary.is_some(), "{rel}: {:?}", report.status);
    let ev = store.lock().unwrap().clone();
    let quic = ev
        .into_iter()
        .filter(|e| matches!(e, ProtoEvent::QuicInitial { .. }))
        .collect();
    Some((quic, report))
}

/// (direction, frames, SNI, decrypted, hello whole) of each QUIC event, in order.
type QuicFact = (Direction, Vec<u64>, Option<String>, bool, bool);

fn quic_facts(ev: &[ProtoEvent]) -> Vec<QuicFact> {
    ev.iter()
        .filter_map(|e| match e {
            ProtoEvent::QuicInitial {
                dir,
                frames,
                sni,
                decrypted,
                complete,
                ..
            } => Some((
                *dir,
                frames.iter().map(|f| f.get()).collect(),
                sni.clone(),
                *decrypted,
                *complete,
            )),
            _ => None,
        })
        .collect()
}

const C2S: Direction = Direction::ClientToServer;
const S2C: Direction = Direction::ServerToClient;

#[test]
fn quic_chromium_client_hello_in_shuffled_crypto_frames() {
    // Zeek's trace: Chromium 115 sends its ClientHello as ten CRYPTO frames in shuffled order
    // inside the first Initial (frame 1); the server's Initial (frame 2) carries the
    // ServerHello. tshark: `-Y quic -T fields -e frame.number
    // -e tls.handshake.extensions_server_name` gives www.google.de on frame 1 and a
    // ServerHello (handshake type 2) on frame 2.
    let rel = "zeek/testing/btest/Traces/quic/chromium-115.0.5790.110-google-de-fragmented.pcap";
    let Some((ev, report)) = corpus_quic_events(rel) else {
        common::skip_without_corpus("quic_chromium_client_hello_in_shuffled_crypto_frames");
        return;
    };
    assert_eq!(
        quic_facts(&ev),
        [
            (C2S, vec![1], Some("www.google.de".to_string()), true, true),
            (S2C, vec![2], None, true, true),
        ]
    );
    let ProtoEvent::QuicInitial {
        alpn,
        dcid,
        client_hello,
        ..
    } = &ev[0]
    else {
        unreachable!()
    };
    assert_eq!(alpn, &["h3"]);
    assert_eq!(dcid.to_hex(), "5a37463b0eb7cc5d");
    assert!(client_hello
        .as_ref()
        .unwrap()
        .supported_versions
        .contains(&0x0304));
    let ProtoEvent::QuicInitial {
        server_hello, scid, ..
    } = &ev[1]
    else {
        unreachable!()
    };
    assert_eq!(
        server_hello.as_ref().unwrap().selected_version,
        Some(0x0304)
    );
    assert_eq!(scid.to_hex(), "da37463b0eb7cc5d");
    let quic_diags: Vec<_> = report
        .diagnostics
        .iter()
        .filter(|d| d.kind.as_str().contains("quic"))
        .collect();
    assert!(quic_diags.is_empty(), "{quic_diags:?}");
}

#[test]
fn quic_handshake_cut_by_the_snapshot_length() {
    // tcpdump's trace, snaplen 256: the client Initials (frames 1 and 5) are cut, so they
    // cannot be decrypted (tshark: "Decryption failed"), but their headers give the keys that
    // open the server's Initial in frame 2 (tshark shows its ServerHello).
    let rel = "tcpdump/tests/quic_handshake_truncated.pcap";
    let Some((ev, report)) = corpus_quic_events(rel) else {
        common::skip_without_corpus("quic_handshake_cut_by_the_snapshot_length");
        return;
    };
    assert_eq!(
        quic_facts(&ev),
        [
            (S2C, vec![2], None, true, true),
            (C2S, vec![1, 5, 6, 7], None, false, false),
        ]
    );
    let undecryptable = report
        .diagnostics
        .iter()
        .find(|d| d.kind.as_str() == "quic_initial_undecryptable")
        .expect("a diagnostic for the cut Initials");
    assert_eq!(undecryptable.count, 2);
    let frames: Vec<u64> = undecryptable
        .examples
        .iter()
        .filter_map(|e| e.frame.map(|f| f.get()))
        .collect();
    assert_eq!(frames, [1, 5]);
    assert!(undecryptable.examples[0].detail.contains("snapshot length"));
}

#[test]
fn quic_great_firewall_captures_give_the_sni_of_every_initial() {
    // gfw-report/usenixsecurity25-quic-sni. tshark decrypts the first Initial of each DCID and
    // shows the SNI there; it marks the later ones, which repeat the same CRYPTO data from new
    // source ports, as retransmissions. Each source port is its own UDP flow here, so each
    // carries its own ClientHello and its own event.
    let cases: &[(&str, &[(u64, &str)])] = &[
        (
            // Server side: random UDP payload (frame 1), then QUIC Initials for google.com
            // from the same 4-tuple after 60 s, which the GFW blocks.
            "usenixsecurity25-quic-sni/experiments/flow-tracking-time/flow-tracking-time.pcap",
            &[(2, "google.com")],
        ),
        (
            // Attacker client: 16 Initials for google.com from one port, one flow.
            "usenixsecurity25-quic-sni/experiments/availability-attack/pcap/quic_attacker_client_anon.pcap",
            &[(1, "google.com")],
        ),
        (
            // Server side: http3check.net from the victim's many ports, google.com from the
            // attacker's port 12345 (frames 5 and 10, one flow).
            "usenixsecurity25-quic-sni/experiments/availability-attack/pcap/quic_server_anon.pcap",
            &[
                (1, "http3check.net"),
                (2, "http3check.net"),
                (3, "http3check.net"),
                (4, "http3check.net"),
                (5, "google.com"),
                (6, "http3check.net"),
                (7, "http3check.net"),
                (8, "http3check.net"),
                (9, "http3check.net"),
                (11, "http3check.net"),
                (12, "http3check.net"),
            ],
        ),
    ];
    let mut ran = false;
    for (rel, expected) in cases {
        let Some((ev, _)) = corpus_quic_events(rel) else {
            break;
        };
        ran = true;
        let want: Vec<QuicFact> = expected
            .iter()
            .map(|(f, sni)| (C2S, vec![*f], Some(sni.to_string()), true, true))
            .collect();
        assert_eq!(quic_facts(&ev), want, "{rel}");
    }
    // Victim client: 42 Initials for http3check.net, each from a new port; none answered.
    let rel = "usenixsecurity25-quic-sni/experiments/availability-attack/pcap/quic_victim_client_anon.pcap";
    if let Some((ev, _)) = corpus_quic_events(rel) {
        let want: Vec<QuicFact> = (1..=42)
            .map(|f| (C2S, vec![f], Some("http3check.net".to_string()), true, true))
            .collect();
        assert_eq!(quic_facts(&ev), want);
    }
    if !ran {
        common::skip_without_corpus("quic_great_firewall_captures_give_the_sni_of_every_initial");
    }
}
