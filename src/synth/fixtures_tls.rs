//! The `tls/` fixtures: TLS connections in which something answers the ClientHello with a
//! certificate (a filtering product's, one for another name) and their benign look-alikes
//! (shared CDN certificates, long name lists, TLS 1.3, no SNI); it builds bytes and ground
//! truth only, never writes or reads files.
//!
//! Every fixture is one connection seen at a Linux client on Ethernet: the TCP handshake to
//! port 443, a ClientHello, the server's flight, then either the client's fatal alert and
//! close (it rejected the certificate) or the rest of the handshake and some encrypted data.

use std::net::{IpAddr, Ipv4Addr};

use super::app::{
    client_hello_session_id, tls12_client_key_exchange, tls12_server_finished, tls12_server_flight,
    tls_alert, tls_application_data, tls_change_cipher_spec, ClientHello, ServerHello, ALERT_FATAL,
    TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
};
use super::fixtures::{Fact, Fixture, GroundTruth, T0};
use super::link::LINKTYPE_ETHERNET;
use super::scenario::{Host, Scenario, Side, TcpConn, TcpParams, MS, S, US};
use super::writer::{write_pcap, PcapOptions};
use super::x509::{CertSpec, KeyKind, Name};
use super::SynthError;

/// MAC of the home router the remote hosts appear behind (as in the other groups).
const ROUTER_MAC: [u8; 6] = [0x02, 0x5E, 0x10, 0x00, 0x00, 0x01];
/// MAC of the capturing client.
const CLIENT_MAC: [u8; 6] = [0x02, 0x5E, 0x10, 0x00, 0x00, 0x20];
/// The capturing client.
const CLIENT: Ipv4Addr = Ipv4Addr::new(192, 168, 1, 20);
/// T0 in seconds, for certificate validity.
const NOW_S: i64 = T0 / S;
/// One day in seconds.
const DAY_S: i64 = 86_400;
/// alert unknown_ca (RFC 5246 §7.2.2): what a browser sends for an untrusted issuer.
const ALERT_UNKNOWN_CA: u8 = 48;
/// alert bad_certificate (RFC 5246 §7.2.2).
const ALERT_BAD_CERTIFICATE: u8 = 42;
/// Delay between the client's ACK of the flight and its next flight (certificate checks,
/// key exchange).
const CLIENT_REACTION: i64 = 2 * MS;

/// Where the server of a fixture is and how it behaves.
struct Path {
    server: Ipv4Addr,
    /// TTL the server's packets arrive with.
    ttl: u8,
    rtt: i64,
    think: i64,
}

/// The scenario and connection of a fixture, after the TCP handshake at T0. Returns the time
/// of the handshake's last ACK.
fn connect(seed: u64, path: &Path) -> Result<(Scenario, TcpConn, i64), SynthError> {
    let mut sc = Scenario::new(seed);
    sc.set_local_delay(41 * US);
    let client = sc.add_host(Host::local(IpAddr::V4(CLIENT)).with_mac(CLIENT_MAC));
    let server = sc.add_host(Host::remote(IpAddr::V4(path.server), path.ttl).with_mac(ROUTER_MAC));
    let mut conn = sc.tcp(
        client,
        server,
        TcpParams::new(443).rtt(path.rtt).think(path.think),
    )?;
    let t = conn.handshake(&mut sc, T0)?;
    Ok((sc, conn, t))
}

/// The ClientHello 150 µs after the handshake and the server's answer; returns the time of
/// the client's ACK of the answer.
fn hello_and_answer(
    sc: &mut Scenario,
    conn: &mut TcpConn,
    t: i64,
    hello: &ClientHello,
    answer: &[u8],
) -> Result<i64, SynthError> {
    conn.exchange(sc, t + 150 * US, &hello.record(), answer)
}

/// The client refuses the certificate: a fatal alert, then it closes.
fn reject(sc: &mut Scenario, conn: &mut TcpConn, t: i64, alert: u8) -> Result<(), SynthError> {
    let at = t + CLIENT_REACTION;
    conn.send_segments(sc, Side::Client, at, &tls_alert(ALERT_FATAL, alert))?;
    conn.close(sc, Side::Client, at + 60 * US)?;
    Ok(())
}

/// The client accepts the TLS 1.2 certificate: key exchange and Finished both ways, one
/// request and response, then the client closes.
fn complete_tls12(
    sc: &mut Scenario,
    conn: &mut TcpConn,
    t: i64,
    seed: u64,
) -> Result<(), SynthError> {
    let t = conn.exchange(
        sc,
        t + CLIENT_REACTION,
        &tls12_client_key_exchange(seed),
        &tls12_server_finished(seed),
    )?;
    let t = conn.exchange(
        sc,
        t + 300 * US,
        &tls_application_data(412, seed ^ 0x11),
        &tls_application_data(2300, seed ^ 0x12),
    )?;
    conn.close(sc, Side::Client, t + 150 * MS)?;
    Ok(())
}

fn eth_pcap(sc: Scenario) -> Vec<u8> {
    write_pcap(&PcapOptions::new(LINKTYPE_ETHERNET), &sc.finish())
}

/// A ClientHello for `sni` (a current browser's, TLS 1.3 and 1.2 offered).
fn hello(sni: &str, seed: u64) -> ClientHello {
    let mut h = ClientHello::new(sni);
    h.seed = seed;
    h
}

/// A TLS 1.2 server flight with this chain (RSA key, ECDHE key exchange).
fn flight12(chain: &[Vec<u8>], seed: u64) -> Vec<u8> {
    let sh = ServerHello::tls12(TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, seed);
    tls12_server_flight(&sh, chain, true, seed)
}

/// The public CA of the benign fixtures and its intermediate's certificate (seeded).
fn example_trust_intermediate(seed: u64) -> (Name, Vec<u8>) {
    let intermediate =
        Name::org_cn("Example Trust CA", "Example Trust RSA CA 2023").with_country("US");
    let root = Name::org_cn("Example Trust CA", "Example Trust Root R1").with_country("US");
    let der = CertSpec::new(intermediate.clone(), root, NOW_S - 500 * DAY_S, 3650, seed)
        .with_key(KeyKind::Rsa2048)
        .with_basic_constraints(true)
        .der();
    (intermediate, der)
}

// ------------------------------------------------------------ the blocked sites

/// A site a FortiGate's web filter blocks.
const FORTI_SNI: &str = "www.blocked-news.example";
/// A site an ISP blocks with its own notice server.
const ISP_SNI: &str = "www.blocked-forum.example";

fn filtering_product_ca_certificate() -> Result<Vec<u8>, SynthError> {
    // The FortiGate is in the path, one hop from the client: it answers for the real server
    // (its address, TTL 63, 3 ms round trip) with the FortiGuard block certificate issued by
    // its own CA, which the browser does not trust.
    let (mut sc, mut conn, t) = connect(
        301,
        &Path {
            server: Ipv4Addr::new(203, 0, 113, 61),
            ttl: 63,
            rtt: 3 * MS,
            think: 400 * US,
        },
    )?;
    let ca = Name::org_cn("Fortinet", "FortiGate CA")
        .with_country("US")
        .with_unit("Certificate Authority");
    let leaf = CertSpec::new(
        Name::org_cn("Fortinet", "FortiGuard Web Filtering")
            .with_country("US")
            .with_unit("FortiGuard"),
        ca.clone(),
        NOW_S - 700 * DAY_S,
        3650,
        301,
    )
    .with_key(KeyKind::Rsa2048)
    .with_basic_constraints(false);
    let ca_cert =
        CertSpec::self_signed(ca, NOW_S - 700 * DAY_S, 3650, 302).with_basic_constraints(true);
    let answer = flight12(&[leaf.der(), ca_cert.der()], 301);
    let t = hello_and_answer(&mut sc, &mut conn, t, &hello(FORTI_SNI, 301), &answer)?;
    reject(&mut sc, &mut conn, t, ALERT_UNKNOWN_CA)?;
    Ok(eth_pcap(sc))
}

fn certificate_for_another_name() -> Result<Vec<u8>, SynthError> {
    // The ISP's transparent proxy answers in place of the site with its notice server's
    // self-signed certificate.
    let (mut sc, mut conn, t) = connect(
        302,
        &Path {
            server: Ipv4Addr::new(198, 51, 100, 72),
            ttl: 58,
            rtt: 9 * MS,
            think: 700 * US,
        },
    )?;
    let notice = Name::org_cn("Example ISP", "block.isp-notice.example").with_country("GB");
    let cert = CertSpec::self_signed(notice, NOW_S - 200 * DAY_S, 365, 303)
        .with_dns(&["block.isp-notice.example"])
        .with_basic_constraints(false);
    let answer = flight12(&[cert.der()], 302);
    let t = hello_and_answer(&mut sc, &mut conn, t, &hello(ISP_SNI, 302), &answer)?;
    reject(&mut sc, &mut conn, t, ALERT_BAD_CERTIFICATE)?;
    Ok(eth_pcap(sc))
}

// ------------------------------------------------------------ benign look-alikes

/// A CDN customer's host name.
const CDN_SNI: &str = "img.cdn-customer.example";
/// A shop on shared hosting.
const SHOP_SNI: &str = "www.small-shop.example";
/// A site that negotiates TLS 1.3.
const TLS13_SNI: &str = "www.tls13-site.example";

/// `n` names of other customers sharing a certificate.
fn tenants(n: usize, suffix: &str) -> Vec<String> {
    (0..n)
        .map(|i| {
            if i % 3 == 0 {
                format!("*.customer{i:02}-{suffix}")
            } else {
                format!("www.customer{i:02}-{suffix}")
            }
        })
        .collect()
}

fn cdn_wildcard_certificate() -> Result<Vec<u8>, SynthError> {
    let (mut sc, mut conn, t) = connect(
        303,
        &Path {
            server: Ipv4Addr::new(198, 51, 100, 140),
            ttl: 56,
            rtt: 14 * MS,
            think: 300 * US,
        },
    )?;
    let (issuer, intermediate) = example_trust_intermediate(304);
    // The CDN's shared certificate: its own name as CN, the customer's wildcard somewhere in
    // a list of 41 names.
    let mut names = tenants(40, "cdn.example");
    names.insert(17, "*.cdn-customer.example".to_string());
    let leaf = CertSpec::new(
        Name::org_cn("Example CDN Inc", "sni.cdn-edge.example").with_country("US"),
        issuer,
        NOW_S - 40 * DAY_S,
        90,
        305,
    )
    .with_dns(&names)
    .with_key(KeyKind::Rsa2048)
    .with_basic_constraints(false);
    let answer = flight12(&[leaf.der(), intermediate], 303);
    let t = hello_and_answer(&mut sc, &mut conn, t, &hello(CDN_SNI, 303), &answer)?;
    complete_tls12(&mut sc, &mut conn, t, 303)?;
    Ok(eth_pcap(sc))
}

fn exact_name_in_long_san_list() -> Result<Vec<u8>, SynthError> {
    let (mut sc, mut conn, t) = connect(
        304,
        &Path {
            server: Ipv4Addr::new(203, 0, 113, 150),
            ttl: 49,
            rtt: 27 * MS,
            think: 900 * US,
        },
    )?;
    let (issuer, intermediate) = example_trust_intermediate(306);
    // Shared hosting: 60 names, the shop's own name 57th; the CN is the host's.
    let mut names = tenants(59, "hosting.example");
    names.insert(56, SHOP_SNI.to_string());
    let leaf = CertSpec::new(
        Name::cn("multi-tenant.hosting.example"),
        issuer,
        NOW_S - 10 * DAY_S,
        90,
        307,
    )
    .with_dns(&names)
    .with_key(KeyKind::Rsa2048)
    .with_basic_constraints(false);
    // A TLS 1.2-only client.
    let mut ch = hello(SHOP_SNI, 304);
    ch.supported_versions.clear();
    ch.key_shares.clear();
    let answer = flight12(&[leaf.der(), intermediate], 304);
    let t = hello_and_answer(&mut sc, &mut conn, t, &ch, &answer)?;
    complete_tls12(&mut sc, &mut conn, t, 304)?;
    Ok(eth_pcap(sc))
}

fn tls13_no_certificate_visible() -> Result<Vec<u8>, SynthError> {
    let (mut sc, mut conn, t) = connect(
        305,
        &Path {
            server: Ipv4Addr::new(198, 51, 100, 13),
            ttl: 54,
            rtt: 18 * MS,
            think: 500 * US,
        },
    )?;
    let ch = hello(TLS13_SNI, 305);
    // ServerHello selecting TLS 1.3, the compatibility ChangeCipherSpec, then the encrypted
    // EncryptedExtensions, Certificate, CertificateVerify and Finished.
    let mut answer = ServerHello::tls13(client_hello_session_id(&ch), 305).record();
    answer.extend(tls_change_cipher_spec());
    answer.extend(tls_application_data(2750, 305 ^ 1));
    let t = hello_and_answer(&mut sc, &mut conn, t, &ch, &answer)?;
    let mut finish = tls_change_cipher_spec();
    finish.extend(tls_application_data(53, 305 ^ 2));
    finish.extend(tls_application_data(420, 305 ^ 3));
    let t = conn.exchange(
        &mut sc,
        t + CLIENT_REACTION,
        &finish,
        &tls_application_data(2100, 305 ^ 4),
    )?;
    conn.close(&mut sc, Side::Client, t + 150 * MS)?;
    Ok(eth_pcap(sc))
}

fn ip_address_connection_without_sni() -> Result<Vec<u8>, SynthError> {
    // An application connects to a bare address: no server_name; the server sends its usual
    // certificate, which names a host (and not the address).
    let (mut sc, mut conn, t) = connect(
        306,
        &Path {
            server: Ipv4Addr::new(198, 51, 100, 44),
            ttl: 53,
            rtt: 22 * MS,
            think: 600 * US,
        },
    )?;
    let (issuer, intermediate) = example_trust_intermediate(308);
    let leaf = CertSpec::new(
        Name::cn("api.device-cloud.example"),
        issuer,
        NOW_S - 30 * DAY_S,
        90,
        309,
    )
    .with_dns(&["api.device-cloud.example", "device-cloud.example"])
    .with_key(KeyKind::Rsa2048)
    .with_basic_constraints(false);
    let mut ch = hello("unused.example", 306);
    ch.sni = None;
    let answer = flight12(&[leaf.der(), intermediate], 306);
    let t = hello_and_answer(&mut sc, &mut conn, t, &ch, &answer)?;
    complete_tls12(&mut sc, &mut conn, t, 306)?;
    Ok(eth_pcap(sc))
}

// ------------------------------------------------------------ catalogue

/// The `tls/` fixtures, in README order.
pub(crate) fn tls_fixtures() -> Vec<Fixture> {
    vec![
        Fixture {
            path: "tls/filtering-product-ca-certificate.pcap",
            description: "A ClientHello for www.blocked-news.example answered 3 ms later (TTL 63: one hop away) by a TLS 1.2 flight whose certificate is the FortiGuard Web Filtering block certificate issued by O=Fortinet, CN=FortiGate CA, with no name for the site; the client sends a fatal unknown_ca alert and closes. A filtering product's certificate.",
            build: filtering_product_ca_certificate,
            truth: GroundTruth {
                frames: 11,
                first_ts_ns: Some(1_715_679_000_000_000_000),
                last_ts_ns: Some(1_715_679_000_011_745_000),
                tcp_flows: 1,
                udp_flows: 0,
                facts: vec![
                    Fact::Finding {
                        kind: "tls_certificate_mismatch",
                        min_confidence: "high",
                        frames: &[4, 5],
                    },
                    Fact::TlsSni(FORTI_SNI),
                ],
                partial: false,
            },
        },
        Fixture {
            path: "tls/certificate-for-another-name.pcap",
            description: "A ClientHello for www.blocked-forum.example answered by a TLS 1.2 flight with a self-signed certificate for block.isp-notice.example (O=Example ISP, no name for the site); the client sends a fatal bad_certificate alert and closes. A certificate for another name.",
            build: certificate_for_another_name,
            truth: GroundTruth {
                frames: 10,
                first_ts_ns: Some(1_715_679_000_000_000_000),
                last_ts_ns: Some(1_715_679_000_030_033_000),
                tcp_flows: 1,
                udp_flows: 0,
                facts: vec![
                    Fact::Finding {
                        kind: "tls_certificate_mismatch",
                        min_confidence: "medium",
                        frames: &[4, 5],
                    },
                    Fact::TlsSni(ISP_SNI),
                ],
                partial: false,
            },
        },
        Fixture {
            path: "tls/cdn-wildcard-certificate.pcap",
            description: "Benign: a ClientHello for img.cdn-customer.example answered with a CDN's shared certificate (CN sni.cdn-edge.example, issuer O=Example Trust CA) whose 41 DNS names include *.cdn-customer.example; the handshake completes and data flows. No blockpage.",
            build: cdn_wildcard_certificate,
            truth: GroundTruth {
                frames: 19,
                first_ts_ns: Some(1_715_679_000_000_000_000),
                last_ts_ns: Some(1_715_679_000_223_591_000),
                tcp_flows: 1,
                udp_flows: 0,
                facts: vec![
                    Fact::NoFinding { class: "blockpage" },
                    Fact::TlsSni(CDN_SNI),
                ],
                partial: false,
            },
        },
        Fixture {
            path: "tls/exact-name-in-long-san-list.pcap",
            description: "Benign: a TLS 1.2-only ClientHello for www.small-shop.example answered with a shared-hosting certificate (CN multi-tenant.hosting.example) listing the name exactly, 57th of 60 DNS names; the handshake completes. No blockpage.",
            build: exact_name_in_long_san_list,
            truth: GroundTruth {
                frames: 19,
                first_ts_ns: Some(1_715_679_000_000_000_000),
                last_ts_ns: Some(1_715_679_000_290_391_000),
                tcp_flows: 1,
                udp_flows: 0,
                facts: vec![
                    Fact::NoFinding { class: "blockpage" },
                    Fact::TlsSni(SHOP_SNI),
                ],
                partial: false,
            },
        },
        Fixture {
            path: "tls/tls13-no-certificate-visible.pcap",
            description: "Benign: a ClientHello for www.tls13-site.example answered by a ServerHello selecting TLS 1.3 (supported_versions 0x0304), ChangeCipherSpec and encrypted records: the certificate is never visible. No blockpage.",
            build: tls13_no_certificate_visible,
            truth: GroundTruth {
                frames: 14,
                first_ts_ns: Some(1_715_679_000_000_000_000),
                last_ts_ns: Some(1_715_679_000_225_338_000),
                tcp_flows: 1,
                udp_flows: 0,
                facts: vec![
                    Fact::NoFinding { class: "blockpage" },
                    Fact::TlsSni(TLS13_SNI),
                ],
                partial: false,
            },
        },
        Fixture {
            path: "tls/ip-address-connection-without-sni.pcap",
            description: "Benign: a ClientHello without server_name to 198.51.100.44 answered with the server's usual certificate for api.device-cloud.example (no address among its names); the handshake completes. Nothing to compare the certificate with. No blockpage.",
            build: ip_address_connection_without_sni,
            truth: GroundTruth {
                frames: 17,
                first_ts_ns: Some(1_715_679_000_000_000_000),
                last_ts_ns: Some(1_715_679_000_264_479_000),
                tcp_flows: 1,
                udp_flows: 0,
                facts: vec![Fact::NoFinding { class: "blockpage" }],
                partial: false,
            },
        },
    ]
}
