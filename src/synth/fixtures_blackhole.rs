//! The `blackhole/` fixture group: captures in which something on the path
//! drops traffic without a word (SYNs that are never answered, requests
//! dropped after the handshake, whole networks cut off, an address range
//! blocked with every name on it) or says no with an ICMP "administratively
//! prohibited", each next to the benign look-alikes a silent-drop detector
//! must leave alone; it builds bytes and ground truth only, never writes or
//! reads files and never looks at the clock.
//!
//! Every capture is taken at a Linux client (192.168.1.20, TTL 64, counting
//! IP IDs, DF) on Ethernet unless its description says otherwise; the
//! servers' packets arrive with lower TTLs. Blocked servers have ordinary
//! public addresses (silent drops to private or documentation space are not
//! judged at all); the addresses and names are illustrative, chosen to look
//! like the services of the cases they recall (Telegram's data centres in
//! 149.154.160.0/20 and 91.108.56.0/22), and say nothing about how those
//! services are reached today. Every positive also holds answered traffic (a
//! DNS lookup, a completed connection to another server) and runs on at
//! least 5 s after the failing flow's last attempt, because a drop is only a
//! drop when the same capture shows answers coming back and the failure did
//! not just run into the end of the capture.
//!
//! Timers follow Linux: SYNs are retransmitted after 1, 2, 4, 8 s (RFC 6298
//! §5.5 backoff with a 1 s initial timeout); data is retransmitted after
//! about the round trip plus 200 ms, doubling each time.

use std::net::{IpAddr, Ipv4Addr};

use super::app::{
    client_hello_session_id, tls_application_data, tls_change_cipher_spec, ClientHello, DnsMessage,
    DnsRecord, HttpRequest, HttpResponse, ServerHello, RCODE_NOERROR, TYPE_A,
};
use super::fixtures::{Diagnostic, Fact, Fixture, GroundTruth, T0};
use super::link::LINKTYPE_ETHERNET;
use super::packet::{
    icmp_packet, internet_checksum, quote_original, IcmpMessage, TcpOption, TCP_ACK, TCP_FIN,
    TCP_RST, TCP_SYN,
};
use super::scenario::{
    Host, HostId, IpIdMode, IpOverrides, Scenario, Segment, Side, TcpConn, TcpParams, DNS_PORT, MS,
    S, US,
};
use super::writer::{write_pcap, PcapOptions};
use super::SynthError;

// ------------------------------------------------------------ hosts and timing

/// MAC of the home router the remote hosts appear behind (as in the other groups).
const ROUTER_MAC: [u8; 6] = [0x02, 0x5E, 0x10, 0x00, 0x00, 0x01];
/// MAC of the capturing client.
const CLIENT_MAC: [u8; 6] = [0x02, 0x5E, 0x10, 0x00, 0x00, 0x20];
/// The capturing client.
const CLIENT: [u8; 4] = [192, 168, 1, 20];
/// The public resolver the client asks; its answers arrive with TTL 58.
const RESOLVER: [u8; 4] = [1, 1, 1, 1];
/// Round trip to the resolver.
const DNS_RTT: i64 = 14 * MS;
/// How long the client's stack takes to react to a packet.
const LOCAL_DELAY: i64 = 41 * US;
/// Spacing of back-to-back segments from one sender.
const GAP: i64 = 12 * US;
/// Time from the handshake's last ACK to the client's first data.
const REQUEST_AFTER: i64 = 150 * US;
/// A data retransmission timeout after a handshake of about 40-60 ms:
/// the round trip plus Linux's 200 ms minimum variance term.
const DATA_RTO: i64 = 250 * MS;
/// Linux's SYN retransmission times after the first SYN: 1, 2, 4, 8 s of
/// backoff.
const SYN_BACKOFF: [i64; 5] = [0, S, 3 * S, 7 * S, 15 * S];

fn v4(a: [u8; 4]) -> IpAddr {
    IpAddr::V4(Ipv4Addr::from(a))
}

/// The client and its resolver.
pub(super) struct Home {
    pub(super) client: HostId,
    resolver: HostId,
}

pub(super) fn home(sc: &mut Scenario) -> Home {
    sc.set_local_delay(LOCAL_DELAY);
    sc.set_segment_gap(GAP);
    Home {
        client: sc.add_host(Host::local(v4(CLIENT)).with_mac(CLIENT_MAC)),
        resolver: sc.add_host(
            Host::remote(v4(RESOLVER), 58)
                .with_mac(ROUTER_MAC)
                .with_ip_id(IpIdMode::Random),
        ),
    }
}

/// A server whose packets arrive through the home router with `ttl`.
pub(super) fn remote(sc: &mut Scenario, addr: [u8; 4], ttl: u8) -> HostId {
    sc.add_host(Host::remote(v4(addr), ttl).with_mac(ROUTER_MAC))
}

/// An A lookup for `name` at `t`, answered with `addr`. Returns the time of
/// the answer.
pub(super) fn lookup(
    sc: &mut Scenario,
    h: &Home,
    t: i64,
    name: &str,
    addr: [u8; 4],
) -> Result<i64, SynthError> {
    let id = sc.rng().next_u16();
    let q = DnsMessage::query(id, name, TYPE_A).with_edns(1232, false);
    let r = DnsMessage::response_to(&q, RCODE_NOERROR).answer(DnsRecord::a(
        name,
        300,
        Ipv4Addr::from(addr),
    ));
    let ex = sc.dns_exchange(t, h.client, h.resolver, DNS_RTT, &q.encode(), &r.encode())?;
    Ok(ex.response_ts)
}

/// An A query for `name` at `t` that nobody answers, sent again from the
/// same port after each of `retries` (glibc's resolver waits 5 s).
pub(super) fn unanswered_lookup(
    sc: &mut Scenario,
    h: &Home,
    t: i64,
    name: &str,
    retries: &[i64],
) -> Result<(), SynthError> {
    let id = sc.rng().next_u16();
    let q = DnsMessage::query(id, name, TYPE_A)
        .with_edns(1232, false)
        .encode();
    let port = sc.rng().ephemeral_port();
    sc.dns_query(t, h.client, h.resolver, port, &q)?;
    for r in retries {
        sc.send_udp(t + r, h.client, h.resolver, port, DNS_PORT, &q)?;
    }
    Ok(())
}

/// A ClientHello for `sni` as a browser sends it.
fn hello(sni: &str, seed: u64) -> ClientHello {
    let mut h = ClientHello::new(sni);
    h.grease = true;
    h.seed = seed;
    h
}

/// A resumed TLS 1.3 handshake's server flight: ServerHello,
/// ChangeCipherSpec and the encrypted EncryptedExtensions and Finished
/// (no certificate, so it fits one segment).
fn resumed_flight(hello: &ClientHello, seed: u64) -> Vec<u8> {
    let mut v = ServerHello::tls13(client_hello_session_id(hello), seed).record();
    v.extend_from_slice(&tls_change_cipher_spec());
    v.extend_from_slice(&tls_application_data(80, seed ^ 1));
    v
}

/// The client's ChangeCipherSpec, Finished and first request.
fn client_finished(seed: u64) -> Vec<u8> {
    let mut v = tls_change_cipher_spec();
    v.extend_from_slice(&tls_application_data(53, seed));
    v.extend_from_slice(&tls_application_data(120, seed ^ 2));
    v
}

/// Fails unless `data` fits one segment (every cited message is one frame).
fn one_segment(conn: &TcpConn, data: &[u8]) -> Result<(), SynthError> {
    if data.len() > conn.max_payload() {
        return Err(SynthError::InvalidRequest(
            "a message does not fit one segment",
        ));
    }
    Ok(())
}

/// A complete HTTPS fetch from `server` for `sni` starting at `t`: the
/// handshake, a resumed TLS 1.3 handshake, one request and a small response,
/// then the client's close. Returns the time of the last packet.
pub(super) fn https_fetch(
    sc: &mut Scenario,
    client: HostId,
    server: HostId,
    t: i64,
    sni: &str,
    rtt: i64,
    seed: u64,
) -> Result<i64, SynthError> {
    let mut conn = sc.tcp(client, server, TcpParams::new(443).rtt(rtt))?;
    let h = hello(sni, seed);
    one_segment(&conn, &h.record())?;
    let t = conn.handshake(sc, t)? + REQUEST_AFTER;
    let t = conn.exchange(sc, t, &h.record(), &resumed_flight(&h, seed))?;
    let t = conn.exchange(
        sc,
        t + 300 * US,
        &client_finished(seed ^ 3),
        &tls_application_data(420, seed ^ 4),
    )?;
    conn.close(sc, Side::Client, t + 4 * MS)
}

/// A browser's GET for `host` and `path`.
fn browser_get(host: &str, path: &str) -> Vec<u8> {
    let mut r = HttpRequest::get(host, path);
    r.headers = vec![
        (
            "User-Agent".to_string(),
            "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0".to_string(),
        ),
        (
            "Accept".to_string(),
            "text/html,application/xhtml+xml,*/*;q=0.8".to_string(),
        ),
        ("Accept-Language".to_string(), "en-GB,en;q=0.5".to_string()),
        ("Connection".to_string(), "keep-alive".to_string()),
    ];
    r.encode()
}

/// A small HTML page.
fn small_page(title: &str) -> Vec<u8> {
    let body = format!(
        "<!doctype html>\n<html><head><title>{title}</title></head>\n\
         <body><h1>{title}</h1><p>Sunny spells, 18 C, light wind from the west.</p></body></html>\n"
    );
    let mut r = HttpResponse::new(200, "OK", body.as_bytes());
    r.headers = vec![
        ("Server".to_string(), "nginx".to_string()),
        (
            "Content-Type".to_string(),
            "text/html; charset=utf-8".to_string(),
        ),
    ];
    r.encode()
}

/// A plain HTTP fetch of a small page, closed by the client. Returns the
/// time of the last packet.
fn http_fetch(
    sc: &mut Scenario,
    client: HostId,
    server: HostId,
    t: i64,
    host: &str,
    rtt: i64,
) -> Result<i64, SynthError> {
    let mut conn = sc.tcp(client, server, TcpParams::new(80).rtt(rtt).think(2 * MS))?;
    let t = conn.handshake(sc, t)? + REQUEST_AFTER;
    let t = conn.exchange(sc, t, &browser_get(host, "/"), &small_page("Weather"))?;
    conn.close(sc, Side::Client, t + 3 * MS)
}

/// SYNs of one connection at `t` plus each of `at` (same port and ISN),
/// none answered. Returns the time of the last.
fn syns(sc: &mut Scenario, conn: &mut TcpConn, t: i64, at: &[i64]) -> Result<i64, SynthError> {
    let mut last = t;
    for dt in at {
        last = t + dt;
        conn.unanswered_syns(sc, last, 1)?;
    }
    Ok(last)
}

/// The handshake at `t`, then `payload` in one segment 150 µs later,
/// retransmitted `sends - 1` times with a doubling timeout and never
/// acknowledged. Returns the times of the first and the last send.
fn dropped_after_handshake(
    sc: &mut Scenario,
    conn: &mut TcpConn,
    t: i64,
    payload: &[u8],
    sends: usize,
) -> Result<(i64, i64), SynthError> {
    one_segment(conn, payload)?;
    let first = conn.handshake(sc, t)? + REQUEST_AFTER;
    let seq = conn.next_seq(Side::Client);
    conn.emit(sc, Side::Client, first, &Segment::data(payload).advancing())?;
    let (mut at, mut rto) = (first, DATA_RTO);
    for _ in 1..sends {
        at += rto;
        rto *= 2;
        conn.emit(sc, Side::Client, at, &Segment::data(payload).with_seq(seq))?;
    }
    Ok((first, at))
}

/// An ICMP destination unreachable with `code` from `router` to the client
/// at `t`, quoting the frame added last (a SYN of the client's) as the
/// router received it: one hop on, so with the TTL one lower and the header
/// checksum fixed, after the home router's NAT restored the client's
/// address (RFC 5508 §4.2).
pub(super) fn icmp_unreachable(
    sc: &mut Scenario,
    t: i64,
    router: HostId,
    client: HostId,
    code: u8,
) -> Result<(), SynthError> {
    let frame = sc
        .frames()
        .last()
        .ok_or(SynthError::InvalidRequest("no packet to refuse"))?;
    // Ethernet header, then the IPv4 packet.
    let mut original = frame.data.get(14..).unwrap_or_default().to_vec();
    if original.len() < 28 || original[0] >> 4 != 4 {
        return Err(SynthError::InvalidPacket("the refused packet is not IPv4"));
    }
    let ihl = usize::from(original[0] & 15) * 4;
    original[8] -= 1;
    original[10] = 0;
    original[11] = 0;
    let sum = internet_checksum(&original[..ihl]);
    original[10..12].copy_from_slice(&sum.to_be_bytes());
    let ip = sc.ip_spec(router, client, &IpOverrides::default())?;
    let p = icmp_packet(
        &ip,
        &IcmpMessage::DestinationUnreachable {
            code,
            original: quote_original(&original, 576),
        },
    );
    sc.push_ip(t, router, client, &p);
    Ok(())
}

pub(super) fn eth_pcap(sc: Scenario) -> Vec<u8> {
    write_pcap(&PcapOptions::new(LINKTYPE_ETHERNET), &sc.finish())
}

// ------------------------------------------------------------ positives

/// A Telegram data-centre address (illustrative).
const TELEGRAM_DC: [u8; 4] = [149, 154, 167, 51];
/// Another Telegram address, in 91.108.56.0/22 (illustrative).
const TELEGRAM_DC_2: [u8; 4] = [91, 108, 56, 130];
/// Background traffic that is answered: names (in real top-level domains,
/// since a public resolver answering for `.example` would itself be a
/// forgery) and illustrative addresses.
const PHOTO_HOST: &str = "img.photo-site.org";
const PHOTO_CDN: [u8; 4] = [151, 101, 1, 140];
pub(super) const SHOP_HOST: &str = "api.shop-site.net";
pub(super) const SHOP: [u8; 4] = [13, 224, 5, 31];
pub(super) const WEATHER_HOST: &str = "www.weather-site.com";
pub(super) const WEATHER: [u8; 4] = [93, 158, 134, 11];

fn syn_unanswered_telegram_address() -> Result<Vec<u8>, SynthError> {
    let mut sc = Scenario::new(501);
    let h = home(&mut sc);
    let news = remote(&mut sc, PHOTO_CDN, 57);
    let tg = remote(&mut sc, TELEGRAM_DC, 50);
    let t = lookup(&mut sc, &h, T0, PHOTO_HOST, PHOTO_CDN)?;
    https_fetch(
        &mut sc,
        h.client,
        news,
        t + 300 * US,
        PHOTO_HOST,
        21 * MS,
        5011,
    )?;
    // Telegram connects to its data centres by address, without DNS.
    let mut conn = sc.tcp(h.client, tg, TcpParams::new(443).rtt(48 * MS))?;
    let last = syns(&mut sc, &mut conn, T0 + 2 * S, &SYN_BACKOFF)?;
    // The capture stops 6 s after the fifth SYN, before the sixth is due,
    // right after another lookup was answered.
    lookup(&mut sc, &h, last + 6 * S - DNS_RTT, SHOP_HOST, SHOP)?;
    Ok(eth_pcap(sc))
}

/// A shared front end holding both names (illustrative).
const SHARED_FRONT: [u8; 4] = [104, 244, 42, 65];
const NEUTRAL_SNI: &str = "www.neutral.example";
const BLOCKED_SNI: &str = "www.blocked.example";

fn clienthello_dropped_same_server_answers() -> Result<Vec<u8>, SynthError> {
    let mut sc = Scenario::new(502);
    let h = home(&mut sc);
    let front = remote(&mut sc, SHARED_FRONT, 54);
    // Both names are in the client's DNS cache; a lookup for another name
    // is answered meanwhile.
    lookup(&mut sc, &h, T0, WEATHER_HOST, WEATHER)?;
    https_fetch(
        &mut sc,
        h.client,
        front,
        T0 + 40 * MS,
        NEUTRAL_SNI,
        44 * MS,
        5021,
    )?;
    let t = T0 + 1_200 * MS;
    let mut conn = sc.tcp(h.client, front, TcpParams::new(443).rtt(44 * MS))?;
    let (first, _) = dropped_after_handshake(
        &mut sc,
        &mut conn,
        t + 300 * US,
        &hello(BLOCKED_SNI, 5022).record(),
        5,
    )?;
    // The client gives up 7 s after the ClientHello, before the sixth send
    // is due, and aborts the connection.
    let abort = first + 7 * S;
    conn.reset(&mut sc, Side::Client, abort)?;
    lookup(&mut sc, &h, abort + 5_500 * MS, SHOP_HOST, SHOP)?;
    Ok(eth_pcap(sc))
}

/// The blocked news site's address (illustrative).
const BLOCKED_NEWS: [u8; 4] = [5, 255, 255, 70];
const BLOCKED_NEWS_HOST: &str = "www.blocked-news.example";

fn http_request_dropped() -> Result<Vec<u8>, SynthError> {
    let mut sc = Scenario::new(503);
    let h = home(&mut sc);
    let weather = remote(&mut sc, WEATHER, 55);
    let news = remote(&mut sc, BLOCKED_NEWS, 53);
    let t = lookup(&mut sc, &h, T0, WEATHER_HOST, WEATHER)?;
    http_fetch(
        &mut sc,
        h.client,
        weather,
        t + 300 * US,
        WEATHER_HOST,
        38 * MS,
    )?;
    // The blocked site's address comes from the client's DNS cache.
    let t = T0 + 1_500 * MS;
    let mut conn = sc.tcp(h.client, news, TcpParams::new(80).rtt(52 * MS))?;
    let (first, _) = dropped_after_handshake(
        &mut sc,
        &mut conn,
        t + 300 * US,
        &browser_get(BLOCKED_NEWS_HOST, "/"),
        5,
    )?;
    let abort = first + 7 * S;
    conn.reset(&mut sc, Side::Client, abort)?;
    lookup(&mut sc, &h, abort + 5_500 * MS, SHOP_HOST, SHOP)?;
    Ok(eth_pcap(sc))
}

/// A social network's address (illustrative).
const SOCIAL: [u8; 4] = [31, 13, 72, 36];
const SOCIAL_HOST: &str = "www.social-site.com";
/// The ISP's router, two hops out, that filters the address.
const ISP_ROUTER: [u8; 4] = [10, 20, 0, 1];
/// ICMP type 3 codes.
const CODE_HOST_UNREACHABLE: u8 = 1;
const CODE_ADMIN_PROHIBITED: u8 = 13;
/// When a soft-error client sends its SYNs: two retransmissions (as Windows
/// does by default), after 1 and 2 s.
const SOFT_SYNS: [i64; 3] = [0, S, 3 * S];

/// SYNs to `server` port 443 at `t` + [`SOFT_SYNS`], each answered `delay`
/// later by an ICMP destination unreachable with `code` from `router`; the
/// client takes them as soft errors (RFC 1122 §4.2.3.9) and keeps trying.
/// Returns the time of the last ICMP.
fn syns_refused_by_icmp(
    sc: &mut Scenario,
    client: HostId,
    server: HostId,
    router: HostId,
    t: i64,
    delay: i64,
    code: u8,
) -> Result<i64, SynthError> {
    let mut conn = sc.tcp(client, server, TcpParams::new(443))?;
    let mut last = t;
    for dt in SOFT_SYNS {
        conn.unanswered_syns(sc, t + dt, 1)?;
        last = t + dt + delay;
        icmp_unreachable(sc, last, router, client, code)?;
    }
    Ok(last)
}

fn icmp_admin_prohibited_from_router() -> Result<Vec<u8>, SynthError> {
    let mut sc = Scenario::new(504);
    let h = home(&mut sc);
    let social = remote(&mut sc, SOCIAL, 51);
    // A Cisco-style router: ICMP with TTL 255, one hop (the home router) on.
    let router = sc.add_host(
        Host::remote(v4(ISP_ROUTER), 254)
            .with_mac(ROUTER_MAC)
            .with_dont_fragment(false),
    );
    let t = lookup(&mut sc, &h, T0, SOCIAL_HOST, SOCIAL)?;
    let last = syns_refused_by_icmp(
        &mut sc,
        h.client,
        social,
        router,
        t + 400 * US,
        4 * MS,
        CODE_ADMIN_PROHIBITED,
    )?;
    lookup(&mut sc, &h, last + 6 * S, SHOP_HOST, SHOP)?;
    Ok(eth_pcap(sc))
}

/// The servers of the network-cut capture: (name, address, TTL, RTT).
const CUT_SERVERS: [(&str, [u8; 4], u8, i64); 4] = [
    (PHOTO_HOST, PHOTO_CDN, 57, 21 * MS),
    ("mail.post-site.com", [142, 250, 74, 101], 59, 19 * MS),
    ("chat.talk-site.net", [157, 240, 9, 53], 53, 33 * MS),
    ("www.video-site.org", [185, 15, 59, 224], 55, 27 * MS),
];
/// The new flows after the cut: (server index, start after the cut).
const CUT_FLOWS: [(usize, i64); 6] = [
    (0, 0),
    (1, 400 * MS),
    (2, 1_200 * MS),
    (3, 4 * S),
    (0, 7_500 * MS),
    (1, 10 * S),
];
/// SYNs of each failing flow after the cut.
const CUT_SYNS: [i64; 4] = [0, S, 3 * S, 7 * S];

fn network_cut_midway() -> Result<Vec<u8>, SynthError> {
    let mut sc = Scenario::new(505);
    let h = home(&mut sc);
    let mut servers = Vec::new();
    for (k, (name, addr, ttl, rtt)) in CUT_SERVERS.into_iter().enumerate() {
        let s = remote(&mut sc, addr, ttl);
        servers.push(s);
        if k < 3 {
            // Before the cut: each name looked up and fetched.
            let t = lookup(&mut sc, &h, T0 + k as i64 * 6 * S, name, addr)?;
            https_fetch(
                &mut sc,
                h.client,
                s,
                t + 300 * US,
                name,
                rtt,
                5050 + k as u64,
            )?;
        } else {
            lookup(&mut sc, &h, T0 + 18 * S, name, addr)?;
        }
    }
    // From T0 + 30 s nothing comes back: the browser retries the addresses
    // it knows, and a new name's lookup goes unanswered.
    let cut = T0 + 30 * S;
    let mut last = cut;
    for (k, start) in CUT_FLOWS {
        let (_, _, _, rtt) = CUT_SERVERS[k];
        let mut conn = sc.tcp(h.client, servers[k], TcpParams::new(443).rtt(rtt))?;
        last = last.max(syns(&mut sc, &mut conn, cut + start, &CUT_SYNS)?);
    }
    unanswered_lookup(&mut sc, &h, cut + 2 * S, "maps.photo-site.org", &[5 * S])?;
    // The capture runs on 10 s after the last SYN; a last lookup is
    // unanswered too.
    unanswered_lookup(&mut sc, &h, last + 10 * S, "www.search-site.com", &[])?;
    Ok(eth_pcap(sc))
}

/// Unrelated names on three addresses of 91.108.56.0/24, which the filter
/// drops as a whole (illustrative).
const RANGE_NAMES: [(&str, [u8; 4]); 3] = [
    ("cdn.news-a.example", [91, 108, 56, 130]),
    ("api.shop-b.example", [91, 108, 56, 181]),
    ("t.me", [91, 108, 56, 100]),
];

fn collateral_range_telegram() -> Result<Vec<u8>, SynthError> {
    let mut sc = Scenario::new(506);
    let h = home(&mut sc);
    let weather = remote(&mut sc, WEATHER, 55);
    let t = lookup(&mut sc, &h, T0, WEATHER_HOST, WEATHER)?;
    let done = https_fetch(
        &mut sc,
        h.client,
        weather,
        t + 300 * US,
        WEATHER_HOST,
        38 * MS,
        5061,
    )?;
    let mut last = done;
    for (k, (name, addr)) in RANGE_NAMES.into_iter().enumerate() {
        let s = remote(&mut sc, addr, 49);
        // The addresses come from the client's DNS cache.
        let t = done + 200 * MS + k as i64 * 900 * MS;
        let mut conn = sc.tcp(h.client, s, TcpParams::new(443).rtt(61 * MS))?;
        let (first, _) = dropped_after_handshake(
            &mut sc,
            &mut conn,
            t + 300 * US,
            &hello(name, 5062 + k as u64).record(),
            4,
        )?;
        conn.reset(&mut sc, Side::Client, first + 5 * S)?;
        last = first + 5 * S;
    }
    // Lookups are still answered after the range was given up on.
    lookup(&mut sc, &h, last + S, SHOP_HOST, SHOP)?;
    Ok(eth_pcap(sc))
}

// ------------------------------------------------------------ benign twins

/// The client's side of an HTTPS connection whose server's packets the
/// capture does not hold: the SYN, the ACK of an unseen SYN-ACK, the
/// ClientHello, ACKs of unseen data, the client's flight and close.
fn client_side_only(
    sc: &mut Scenario,
    client: HostId,
    server: HostId,
    t: i64,
    sni: &str,
    rtt: i64,
    seed: u64,
) -> Result<(), SynthError> {
    let mut conn = sc.tcp(client, server, TcpParams::new(443).rtt(rtt))?;
    conn.unanswered_syns(sc, t, 1)?;
    let server_isn = conn.isn(Side::Server);
    conn.set_next_seq(Side::Server, server_isn.wrapping_add(1));
    let mut at = t + rtt + LOCAL_DELAY;
    conn.ack(sc, Side::Client, at)?;
    let h = hello(sni, seed);
    at += REQUEST_AFTER;
    conn.emit(
        sc,
        Side::Client,
        at,
        &Segment::data(&h.record()).advancing(),
    )?;
    // The server's flight (unseen), ACKed by the client.
    let flight = resumed_flight(&h, seed).len() as u32;
    let x = conn.next_seq(Side::Server).wrapping_add(flight);
    conn.set_next_seq(Side::Server, x);
    at += rtt + MS + LOCAL_DELAY;
    conn.ack(sc, Side::Client, at)?;
    at += 300 * US;
    conn.emit(
        sc,
        Side::Client,
        at,
        &Segment::data(&client_finished(seed ^ 3)).advancing(),
    )?;
    let resp = tls_application_data(420, seed ^ 4).len() as u32;
    conn.set_next_seq(Side::Server, x.wrapping_add(resp));
    at += rtt + MS + LOCAL_DELAY;
    conn.ack(sc, Side::Client, at)?;
    at += 4 * MS;
    conn.fin(sc, Side::Client, at)?;
    // The server's FIN (unseen), ACKed.
    let y = conn.next_seq(Side::Server).wrapping_add(1);
    conn.set_next_seq(Side::Server, y);
    conn.ack(sc, Side::Client, at + rtt + LOCAL_DELAY)?;
    Ok(())
}

/// A capture filtered to the client's own packets: its lookups (answered,
/// but the answers are filtered out), the client side of a working HTTPS
/// connection, and SYNs to two addresses that really are not answered.
fn one_directional_capture() -> Result<Vec<u8>, SynthError> {
    let mut sc = Scenario::new(507);
    let h = home(&mut sc);
    let news = remote(&mut sc, PHOTO_CDN, 57);
    let tg = remote(&mut sc, TELEGRAM_DC, 50);
    let tg2 = remote(&mut sc, TELEGRAM_DC_2, 50);
    unanswered_lookup(&mut sc, &h, T0, PHOTO_HOST, &[])?;
    client_side_only(
        &mut sc,
        h.client,
        news,
        T0 + DNS_RTT + 300 * US,
        PHOTO_HOST,
        21 * MS,
        5071,
    )?;
    let mut conn = sc.tcp(h.client, tg, TcpParams::new(443))?;
    syns(&mut sc, &mut conn, T0 + 2 * S, &CUT_SYNS)?;
    let mut conn = sc.tcp(h.client, tg2, TcpParams::new(443))?;
    syns(&mut sc, &mut conn, T0 + 2_300 * MS, &CUT_SYNS)?;
    unanswered_lookup(&mut sc, &h, T0 + 9 * S, SHOP_HOST, &[])?;
    unanswered_lookup(&mut sc, &h, T0 + 15 * S, WEATHER_HOST, &[])?;
    Ok(eth_pcap(sc))
}

/// A host that answers port scans by design (illustrative use).
const SCAN_TARGET: [u8; 4] = [45, 33, 32, 156];
const SCAN_NAME: &str = "scanme.nmap.org";
/// The ports probed, in the scanner's order.
const SCAN_PORTS: [u16; 30] = [
    443, 80, 22, 3389, 21, 25, 8080, 110, 139, 445, 143, 53, 135, 3306, 993, 23, 995, 1723, 111,
    5900, 587, 8888, 199, 1025, 554, 113, 256, 465, 1720, 548,
];

fn port_scan() -> Result<Vec<u8>, SynthError> {
    let mut sc = Scenario::new(508);
    let h = home(&mut sc);
    let target = remote(&mut sc, SCAN_TARGET, 52);
    let t = lookup(&mut sc, &h, T0, SCAN_NAME, SCAN_TARGET)?;
    // A raw-socket SYN scan: one source port, window 1024, an MSS option
    // only, a probe every 0.3 ms, nothing sent again.
    let sport = sc.rng().ephemeral_port();
    let mut at = t + 5 * MS;
    for port in SCAN_PORTS {
        let mut conn = sc.tcp(h.client, target, TcpParams::new(port).client_port(sport))?;
        let isn = conn.isn(Side::Client);
        conn.emit(
            &mut sc,
            Side::Client,
            at,
            &Segment::flags(TCP_SYN)
                .with_seq(isn)
                .with_ack(0)
                .with_window(1024)
                .with_options(vec![TcpOption::Mss(1460)]),
        )?;
        at += 300 * US;
    }
    lookup(&mut sc, &h, at + 6 * S, PHOTO_HOST, PHOTO_CDN)?;
    Ok(eth_pcap(sc))
}

/// Ports of the connect scan with retries.
const CONNECT_SCAN_PORTS: [u16; 24] = [
    443, 80, 22, 3389, 21, 25, 8080, 110, 139, 445, 143, 53, 135, 3306, 993, 23, 995, 1723, 111,
    5900, 587, 8888, 199, 1025,
];

fn port_scan_with_retries() -> Result<Vec<u8>, SynthError> {
    let mut sc = Scenario::new(514);
    let h = home(&mut sc);
    let target = remote(&mut sc, SCAN_TARGET, 52);
    let t = lookup(&mut sc, &h, T0, SCAN_NAME, SCAN_TARGET)?;
    // A connect() scan: the kernel's own SYNs from a new port each, sent
    // again after the 1 s timeout; the scanner closes each socket before
    // the third SYN would go out.
    let mut at = t + 5 * MS;
    for port in CONNECT_SCAN_PORTS {
        let mut conn = sc.tcp(h.client, target, TcpParams::new(port))?;
        syns(&mut sc, &mut conn, at, &[0, S])?;
        at += 2 * MS;
    }
    lookup(&mut sc, &h, at + 6 * S, PHOTO_HOST, PHOTO_CDN)?;
    Ok(eth_pcap(sc))
}

/// A server the client starts to reach as the capture stops (illustrative).
const LATE_SERVER: [u8; 4] = [188, 114, 97, 3];
const LATE_HOST: &str = "docs.tools-site.io";

fn capture_ends_during_connect() -> Result<Vec<u8>, SynthError> {
    let mut sc = Scenario::new(509);
    let h = home(&mut sc);
    let news = remote(&mut sc, PHOTO_CDN, 57);
    let late = remote(&mut sc, LATE_SERVER, 56);
    let t = lookup(&mut sc, &h, T0, PHOTO_HOST, PHOTO_CDN)?;
    https_fetch(
        &mut sc,
        h.client,
        news,
        t + 300 * US,
        PHOTO_HOST,
        21 * MS,
        5091,
    )?;
    let t = lookup(&mut sc, &h, T0 + 4 * S, LATE_HOST, LATE_SERVER)?;
    // The SYN, and its retransmission 1 s later as the capture's last frame.
    let mut conn = sc.tcp(h.client, late, TcpParams::new(443))?;
    syns(&mut sc, &mut conn, t + 300 * US, &[0, S])?;
    Ok(eth_pcap(sc))
}

/// A server with nothing listening on 443 (illustrative).
const CLOSED_SERVER: [u8; 4] = [185, 199, 108, 153];
const CLOSED_HOST: &str = "git.code-site.net";

fn connection_refused() -> Result<Vec<u8>, SynthError> {
    let mut sc = Scenario::new(510);
    let h = home(&mut sc);
    let server = remote(&mut sc, CLOSED_SERVER, 55);
    let t = lookup(&mut sc, &h, T0, CLOSED_HOST, CLOSED_SERVER)?;
    // The application tries twice, 1 s apart; each SYN is refused at once
    // with the RST+ACK a Linux server sends for a closed port (sequence 0,
    // IP ID 0).
    let mut at = t + 300 * US;
    for _ in 0..2 {
        let mut conn = sc.tcp(h.client, server, TcpParams::new(443).rtt(31 * MS))?;
        conn.unanswered_syns(&mut sc, at, 1)?;
        let ack = conn.isn(Side::Client).wrapping_add(1);
        conn.emit(
            &mut sc,
            Side::Server,
            at + 31 * MS,
            &Segment::flags(TCP_RST | TCP_ACK)
                .with_seq(0)
                .with_ack(ack)
                .with_window(0)
                .with_ip_id(0),
        )?;
        at += S;
    }
    lookup(&mut sc, &h, at + 5 * S, PHOTO_HOST, PHOTO_CDN)?;
    Ok(eth_pcap(sc))
}

/// A server that is switched off (illustrative) and the router in front of
/// it (illustrative).
const OFF_SERVER: [u8; 4] = [94, 130, 210, 45];
const OFF_HOST: &str = "www.switched-off.net";
const OFF_ROUTER: [u8; 4] = [213, 239, 229, 1];

fn host_unreachable_from_router() -> Result<Vec<u8>, SynthError> {
    let mut sc = Scenario::new(511);
    let h = home(&mut sc);
    let server = remote(&mut sc, OFF_SERVER, 52);
    // The server's last-hop router, 12 hops away, gives up on ARP for it
    // (about 3 s) and reports host unreachable; a Linux router's ICMP
    // starts at TTL 64.
    let router = sc.add_host(
        Host::remote(v4(OFF_ROUTER), 53)
            .with_mac(ROUTER_MAC)
            .with_dont_fragment(false),
    );
    let t = lookup(&mut sc, &h, T0, OFF_HOST, OFF_SERVER)?;
    let last = syns_refused_by_icmp(
        &mut sc,
        h.client,
        server,
        router,
        t + 400 * US,
        3_046 * MS,
        CODE_HOST_UNREACHABLE,
    )?;
    lookup(&mut sc, &h, last + 6 * S, PHOTO_HOST, PHOTO_CDN)?;
    Ok(eth_pcap(sc))
}

/// The NAS on the LAN, switched off.
const NAS: [u8; 4] = [192, 168, 1, 50];
const NAS_MAC: [u8; 6] = [0x02, 0x5E, 0x10, 0x00, 0x00, 0x50];

fn lan_host_down() -> Result<Vec<u8>, SynthError> {
    let mut sc = Scenario::new(512);
    let h = home(&mut sc);
    let news = remote(&mut sc, PHOTO_CDN, 57);
    let nas = sc.add_host(Host::remote(v4(NAS), 64).with_mac(NAS_MAC));
    let t = lookup(&mut sc, &h, T0, PHOTO_HOST, PHOTO_CDN)?;
    https_fetch(
        &mut sc,
        h.client,
        news,
        t + 300 * US,
        PHOTO_HOST,
        21 * MS,
        5121,
    )?;
    // SMB to the NAS, whose MAC is still in the neighbour cache: four SYNs
    // go out before the entry fails and the kernel stops sending.
    let mut conn = sc.tcp(h.client, nas, TcpParams::new(445).rtt(MS))?;
    let last = syns(&mut sc, &mut conn, T0 + 2 * S, &CUT_SYNS)?;
    lookup(&mut sc, &h, last + 8 * S, SHOP_HOST, SHOP)?;
    Ok(eth_pcap(sc))
}

/// A slow server (illustrative).
const SLOW_SERVER: [u8; 4] = [195, 82, 146, 214];
const SLOW_HOST: &str = "www.slow-site.org";

fn slow_but_answered() -> Result<Vec<u8>, SynthError> {
    let mut sc = Scenario::new(513);
    let h = home(&mut sc);
    let server = remote(&mut sc, SLOW_SERVER, 49);
    let t = lookup(&mut sc, &h, T0, SLOW_HOST, SLOW_SERVER)?;
    // Two SYNs lost on a congested path; the third is answered and the
    // page loads.
    let mut conn = sc.tcp(h.client, server, TcpParams::new(443).rtt(180 * MS))?;
    let hs = conn.handshake_after_lost_syns(&mut sc, t + 300 * US, 2)?;
    let hl = hello(SLOW_HOST, 5131);
    let t = conn.exchange(
        &mut sc,
        hs + REQUEST_AFTER,
        &hl.record(),
        &resumed_flight(&hl, 5131),
    )?;
    let t = conn.exchange(
        &mut sc,
        t + 300 * US,
        &client_finished(5132),
        &tls_application_data(420, 5133),
    )?;
    conn.close(&mut sc, Side::Client, t + 4 * MS)?;
    Ok(eth_pcap(sc))
}

// ------------------------------------------------------------ second round

fn icmp_prohibited_linux_abort() -> Result<Vec<u8>, SynthError> {
    let mut sc = Scenario::new(521);
    let h = home(&mut sc);
    let social = remote(&mut sc, SOCIAL, 51);
    let router = sc.add_host(
        Host::remote(v4(ISP_ROUTER), 254)
            .with_mac(ROUTER_MAC)
            .with_dont_fragment(false),
    );
    let t = lookup(&mut sc, &h, T0, SOCIAL_HOST, SOCIAL)?;
    // Linux takes "administratively prohibited" in SYN-SENT as a hard error:
    // connect() fails at once and no SYN is sent again.
    let mut conn = sc.tcp(h.client, social, TcpParams::new(443))?;
    conn.unanswered_syns(&mut sc, t + 400 * US, 1)?;
    let icmp_at = t + 400 * US + 4 * MS;
    icmp_unreachable(&mut sc, icmp_at, router, h.client, CODE_ADMIN_PROHIBITED)?;
    lookup(&mut sc, &h, icmp_at + 6 * S, SHOP_HOST, SHOP)?;
    Ok(eth_pcap(sc))
}

/// A server whose own firewall rejects with "administratively prohibited"
/// (iptables `REJECT --reject-with icmp-admin-prohibited`; illustrative).
const FIREWALLED: [u8; 4] = [78, 46, 112, 9];
const FIREWALLED_HOST: &str = "intranet.office-site.net";

fn icmp_prohibited_from_server() -> Result<Vec<u8>, SynthError> {
    let mut sc = Scenario::new(522);
    let h = home(&mut sc);
    let server = remote(&mut sc, FIREWALLED, 52);
    let t = lookup(&mut sc, &h, T0, FIREWALLED_HOST, FIREWALLED)?;
    // The ICMP comes from the destination itself, with its TTL.
    let last = syns_refused_by_icmp(
        &mut sc,
        h.client,
        server,
        server,
        t + 400 * US,
        37 * MS,
        CODE_ADMIN_PROHIBITED,
    )?;
    lookup(&mut sc, &h, last + 6 * S, PHOTO_HOST, PHOTO_CDN)?;
    Ok(eth_pcap(sc))
}

/// Unrelated names whose addresses, known only from the DNS answers in the
/// capture, share 149.154.167.0/24 (illustrative).
const DNS_RANGE_NAMES: [(&str, [u8; 4]); 3] = [
    ("static.pics-cdn.net", [149, 154, 167, 220]),
    ("app.fitness-log.io", [149, 154, 167, 99]),
    ("web.telegram.org", [149, 154, 167, 50]),
];

fn collateral_range_dns_names() -> Result<Vec<u8>, SynthError> {
    let mut sc = Scenario::new(523);
    let h = home(&mut sc);
    let weather = remote(&mut sc, WEATHER, 55);
    let t = lookup(&mut sc, &h, T0, WEATHER_HOST, WEATHER)?;
    let done = https_fetch(
        &mut sc,
        h.client,
        weather,
        t + 300 * US,
        WEATHER_HOST,
        38 * MS,
        5231,
    )?;
    let mut last = done;
    for (k, (name, addr)) in DNS_RANGE_NAMES.into_iter().enumerate() {
        let s = remote(&mut sc, addr, 49);
        let t = lookup(
            &mut sc,
            &h,
            done + 200 * MS + k as i64 * 900 * MS,
            name,
            addr,
        )?;
        let mut conn = sc.tcp(h.client, s, TcpParams::new(443).rtt(61 * MS))?;
        last = last.max(syns(&mut sc, &mut conn, t + 300 * US, &CUT_SYNS)?);
    }
    lookup(&mut sc, &h, last + 6 * S, SHOP_HOST, SHOP)?;
    Ok(eth_pcap(sc))
}

/// The home router, which also resolves names (from its cache when the
/// uplink is down).
const LAN_ROUTER: [u8; 4] = [192, 168, 1, 1];

fn network_cut_local_resolver() -> Result<Vec<u8>, SynthError> {
    let mut sc = Scenario::new(524);
    sc.set_local_delay(LOCAL_DELAY);
    sc.set_segment_gap(GAP);
    let h = Home {
        client: sc.add_host(Host::local(v4(CLIENT)).with_mac(CLIENT_MAC)),
        resolver: sc.add_host(
            Host::remote(v4(LAN_ROUTER), 64)
                .with_mac(ROUTER_MAC)
                .with_ip_id(IpIdMode::Random),
        ),
    };
    let mut servers = Vec::new();
    for (k, (name, addr, ttl, rtt)) in CUT_SERVERS.into_iter().enumerate() {
        let s = remote(&mut sc, addr, ttl);
        servers.push(s);
        if k < 3 {
            let t = lookup(&mut sc, &h, T0 + k as i64 * 6 * S, name, addr)?;
            https_fetch(
                &mut sc,
                h.client,
                s,
                t + 300 * US,
                name,
                rtt,
                5240 + k as u64,
            )?;
        } else {
            lookup(&mut sc, &h, T0 + 18 * S, name, addr)?;
        }
    }
    // The uplink goes down at T0 + 30 s; the router keeps answering
    // lookups of names in its cache.
    let cut = T0 + 30 * S;
    let mut last = cut;
    for (k, start) in CUT_FLOWS {
        let (_, _, _, rtt) = CUT_SERVERS[k];
        let mut conn = sc.tcp(h.client, servers[k], TcpParams::new(443).rtt(rtt))?;
        last = last.max(syns(&mut sc, &mut conn, cut + start, &CUT_SYNS)?);
    }
    lookup(&mut sc, &h, cut + 2 * S, CUT_SERVERS[1].0, CUT_SERVERS[1].1)?;
    lookup(
        &mut sc,
        &h,
        last + 10 * S,
        CUT_SERVERS[2].0,
        CUT_SERVERS[2].1,
    )?;
    Ok(eth_pcap(sc))
}

/// A video site whose address is filtered after the hello (illustrative).
const IDLE_FIN_SERVER: [u8; 4] = [172, 67, 180, 12];
const IDLE_FIN_SNI: &str = "www.blocked-video.example";

fn clienthello_dropped_server_idle_fin() -> Result<Vec<u8>, SynthError> {
    let mut sc = Scenario::new(525);
    let h = home(&mut sc);
    let weather = remote(&mut sc, WEATHER, 55);
    let video = remote(&mut sc, IDLE_FIN_SERVER, 56);
    let t = lookup(&mut sc, &h, T0, WEATHER_HOST, WEATHER)?;
    let done = https_fetch(
        &mut sc,
        h.client,
        weather,
        t + 300 * US,
        WEATHER_HOST,
        38 * MS,
        5251,
    )?;
    let mut conn = sc.tcp(h.client, video, TcpParams::new(443).rtt(42 * MS))?;
    let (first, _) = dropped_after_handshake(
        &mut sc,
        &mut conn,
        done + 200 * MS,
        &hello(IDLE_FIN_SNI, 5252).record(),
        5,
    )?;
    // The server never saw the hello: 5 s after the handshake its idle
    // timer closes the connection with a FIN that acknowledges the SYN only.
    let fin_at = first + 5 * S;
    let syn_only = conn.isn(Side::Client).wrapping_add(1);
    let server_seq = conn.next_seq(Side::Server);
    conn.emit(
        &mut sc,
        Side::Server,
        fin_at,
        &Segment::flags(TCP_FIN | TCP_ACK)
            .with_seq(server_seq)
            .with_ack(syn_only),
    )?;
    conn.set_next_seq(Side::Server, server_seq.wrapping_add(1));
    // The client acknowledges the FIN, gives up 7 s after the hello and
    // aborts.
    conn.ack(&mut sc, Side::Client, fin_at + LOCAL_DELAY)?;
    conn.reset(&mut sc, Side::Client, first + 7 * S)?;
    lookup(&mut sc, &h, first + 13 * S, SHOP_HOST, SHOP)?;
    Ok(eth_pcap(sc))
}

/// A front end holding a neutral and a blocked name, probed the way
/// Censored Planet's CenTrace probes (illustrative address); its packets
/// arrive with TTL 50, 14 hops from an initial 64.
const PROBED_FRONT: [u8; 4] = [104, 244, 43, 10];
const PROBED_FRONT_TTL: u8 = 50;
/// Routers on the way to it that answer expired probes (illustrative), with
/// the TTL their ICMP arrives with.
const PROBE_ROUTERS: [([u8; 4], u8); 4] = [
    ([62, 115, 137, 58], 251),
    ([62, 115, 134, 239], 250),
    ([80, 91, 254, 90], 249),
    ([213, 248, 87, 253], 248),
];
/// How long a probe waits for an answer before closing its connection.
const PROBE_WAIT: i64 = 3 * S;

/// An ICMP time exceeded from `router` to the client at `t`, quoting the
/// frame added last (a probe's request) as the router received it, TTL 1.
fn icmp_time_exceeded(
    sc: &mut Scenario,
    t: i64,
    router: HostId,
    client: HostId,
) -> Result<(), SynthError> {
    let frame = sc
        .frames()
        .last()
        .ok_or(SynthError::InvalidRequest("no packet to expire"))?;
    let mut original = frame.data.get(14..).unwrap_or_default().to_vec();
    if original.len() < 28 || original[0] >> 4 != 4 {
        return Err(SynthError::InvalidPacket("the expired packet is not IPv4"));
    }
    let ihl = usize::from(original[0] & 15) * 4;
    original[8] = 1;
    original[10] = 0;
    original[11] = 0;
    let sum = internet_checksum(&original[..ihl]);
    original[10..12].copy_from_slice(&sum.to_be_bytes());
    let ip = sc.ip_spec(router, client, &IpOverrides::default())?;
    let p = icmp_packet(
        &ip,
        &IcmpMessage::TimeExceeded {
            code: 0,
            original: quote_original(&original, 576),
        },
    );
    sc.push_ip(t, router, client, &p);
    Ok(())
}

/// One probe at `t`: its own connection to port 443, the handshake, one
/// ClientHello for [`BLOCKED_SNI_2`] sent once with IP TTL `ttl` (answered by an ICMP
/// time exceeded from `expired_at` if given), and [`PROBE_WAIT`] later the
/// client's FIN, which the server, still waiting for the hello's bytes,
/// answers with a duplicate ACK of the SYN only. Returns the time of the
/// last packet.
fn probe(
    sc: &mut Scenario,
    client: HostId,
    server: HostId,
    t: i64,
    seed: u64,
    ttl: u8,
    expired_at: Option<HostId>,
) -> Result<i64, SynthError> {
    let mut conn = sc.tcp(client, server, TcpParams::new(443).rtt(52 * MS))?;
    let h = hello(BLOCKED_SNI_2, seed).record();
    one_segment(&conn, &h)?;
    let sent = conn.handshake(sc, t)? + REQUEST_AFTER;
    conn.emit(
        sc,
        Side::Client,
        sent,
        &Segment::data(&h).advancing().with_ttl(ttl),
    )?;
    if let Some(router) = expired_at {
        icmp_time_exceeded(sc, sent + 4 * MS, router, client)?;
    }
    let fin = sent + PROBE_WAIT;
    conn.fin(sc, Side::Client, fin)?;
    let syn_only = conn.isn(Side::Client).wrapping_add(1);
    let server_seq = conn.next_seq(Side::Server);
    let dup = fin + 26 * MS;
    conn.emit(
        sc,
        Side::Server,
        dup,
        &Segment::flags(TCP_ACK)
            .with_seq(server_seq)
            .with_ack(syn_only),
    )?;
    Ok(dup)
}

/// The front end answers a fetch for the neutral name, then four probes for
/// the blocked name with IP TTLs from `ttls`, each expired at the matching
/// router of [`PROBE_ROUTERS`] when `expire`.
fn probed_front(seed: u64, ttls: [u8; 4], expire: bool) -> Result<Vec<u8>, SynthError> {
    let mut sc = Scenario::new(seed);
    let h = home(&mut sc);
    let front = remote(&mut sc, PROBED_FRONT, PROBED_FRONT_TTL);
    let mut routers = Vec::new();
    for (addr, ttl) in PROBE_ROUTERS {
        routers.push(
            sc.add_host(
                Host::remote(v4(addr), ttl)
                    .with_mac(ROUTER_MAC)
                    .with_dont_fragment(false),
            ),
        );
    }
    let t = lookup(&mut sc, &h, T0, NEUTRAL_SNI_2, PROBED_FRONT)?;
    let mut t = https_fetch(
        &mut sc,
        h.client,
        front,
        t + 300 * US,
        NEUTRAL_SNI_2,
        52 * MS,
        seed * 10,
    )?;
    for (i, ttl) in ttls.into_iter().enumerate() {
        let router = expire.then(|| routers[i]);
        t = probe(
            &mut sc,
            h.client,
            front,
            t + S,
            seed * 10 + 1 + i as u64,
            ttl,
            router,
        )?;
    }
    lookup(&mut sc, &h, t + 6 * S, SHOP_HOST, SHOP)?;
    Ok(eth_pcap(sc))
}

/// The neutral and the blocked name of the probed front end.
const NEUTRAL_SNI_2: &str = "www.neutral-news.org";
const BLOCKED_SNI_2: &str = "forum.blocked-site.org";

fn clienthello_dropped_probes_same_server() -> Result<Vec<u8>, SynthError> {
    probed_front(526, [20, 21, 22, 23], false)
}

fn ttl_limited_probes_expired() -> Result<Vec<u8>, SynthError> {
    probed_front(527, [5, 6, 7, 8], true)
}

// ------------------------------------------------------------ catalogue

/// No forged DNS: every answer comes from the resolver for a name in a real
/// top-level domain.
pub(super) const NO_DNS_FINDING: Fact = Fact::NoFinding {
    class: "dns_injection",
};
/// No silent-drop finding.
pub(super) const NO_BLACKHOLE: Fact = Fact::NoFinding { class: "blackhole" };
/// No injected RST: the only RSTs are the client's own or a closed port's.
const NO_RST_FINDING: Fact = Fact::NoFinding {
    class: "rst_injection",
};

/// The blackhole/ fixtures with their ground truth, in README order.
pub(crate) fn blackhole_fixtures() -> Vec<Fixture> {
    vec![
        Fixture {
            path: "blackhole/syn-unanswered-telegram-address.pcap",
            description: "Blocking by address, as of Telegram in Russia in 2018: after a lookup (frames 1-2) and an HTTPS fetch from img.photo-site.org (frames 3-14) are answered, the client's SYN to 149.154.167.51:443 (frame 15; a Telegram data-centre address, for illustration) is sent again after 1, 2, 4 and 8 s (frames 16-19) and nothing comes back: no SYN-ACK, RST or ICMP. The capture runs on 6 s after the fifth SYN (another lookup answered, frames 20-21). No trigger is visible, so medium.",
            build: syn_unanswered_telegram_address,
            truth: GroundTruth {
                frames: 21,
                first_ts_ns: Some(T0),
                last_ts_ns: Some(T0 + 23_000_000_000),
                tcp_flows: 2,
                udp_flows: 2,
                facts: vec![Fact::Finding { kind: "tcp_syn_unanswered", min_confidence: "medium", frames: &[15, 16, 17, 18, 19] }, NO_DNS_FINDING, Fact::DnsQuery(PHOTO_HOST), Fact::TlsSni(PHOTO_HOST), Fact::DnsQuery(SHOP_HOST)],
                partial: false,
            },
        },
        Fixture {
            path: "blackhole/clienthello-dropped-same-server-answers.pcap",
            description: "One front end (104.244.42.65, illustrative) holds two names, both in the client's DNS cache: an HTTPS connection for www.neutral.example completes (frames 3-14); a second one completes its handshake (frames 15-17), but its ClientHello for www.blocked.example (frame 18) is sent again after 0.25, 0.5, 1 and 2 s (frames 19-22), never acknowledged, and the client aborts with a RST+ACK 7 s after the hello (frame 23). The same server answering the other name (frame 4) makes it high. Lookups for other names are answered before and after (frames 1-2, 24-25).",
            build: clienthello_dropped_same_server_answers,
            truth: GroundTruth {
                frames: 25,
                first_ts_ns: Some(T0),
                last_ts_ns: Some(T0 + 13_758_491_000),
                tcp_flows: 2,
                udp_flows: 2,
                facts: vec![Fact::Finding { kind: "tcp_dropped_after_trigger", min_confidence: "high", frames: &[4, 18, 19, 20, 21, 22] }, NO_RST_FINDING, NO_DNS_FINDING, Fact::TlsSni(NEUTRAL_SNI), Fact::TlsSni(BLOCKED_SNI), Fact::DnsQuery(WEATHER_HOST)],
                partial: false,
            },
        },
        Fixture {
            path: "blackhole/http-request-dropped.pcap",
            description: "A GET for www.blocked-news.example to 5.255.255.70:80 (frame 15; illustrative address, from the client's DNS cache) after a completed handshake (frames 12-14) is sent again after 0.25, 0.5, 1 and 2 s (frames 16-19), never acknowledged, and the client resets the connection 7 s after the request (frame 20). Another server (www.weather-site.com, frames 3-11) answered a GET just before; the blocked server has no other connection in the capture, so medium.",
            build: http_request_dropped,
            truth: GroundTruth {
                frames: 22,
                first_ts_ns: Some(T0),
                last_ts_ns: Some(T0 + 14_066_491_000),
                tcp_flows: 2,
                udp_flows: 2,
                facts: vec![Fact::Finding { kind: "tcp_dropped_after_trigger", min_confidence: "medium", frames: &[15, 16, 17, 18, 19] }, NO_RST_FINDING, NO_DNS_FINDING, Fact::HttpHost(BLOCKED_NEWS_HOST), Fact::HttpHost(WEATHER_HOST), Fact::DnsQuery(WEATHER_HOST)],
                partial: false,
            },
        },
        Fixture {
            path: "blackhole/icmp-admin-prohibited-from-router.pcap",
            description: "Each SYN to 31.13.72.36:443 (www.social-site.com, looked up in frames 1-2; illustrative address) is answered 4 ms later by an ICMP destination unreachable, code 13 (communication administratively prohibited), from the ISP router 10.20.0.1 (frames 4, 6, 8; TTL 254), quoting the SYN as it reached the router (TTL 63). This client takes the ICMP as a soft error and sends the SYN again after 1 and 2 s (frames 3, 5, 7); a Linux client would abort at the first ICMP instead.",
            build: icmp_admin_prohibited_from_router,
            truth: GroundTruth {
                frames: 10,
                first_ts_ns: Some(T0),
                last_ts_ns: Some(T0 + 9_032_400_000),
                tcp_flows: 1,
                udp_flows: 2,
                facts: vec![Fact::Finding { kind: "icmp_prohibited", min_confidence: "medium", frames: &[3, 4] }, NO_DNS_FINDING, Fact::DnsQuery(SOCIAL_HOST)],
                partial: false,
            },
        },
        Fixture {
            path: "blackhole/network-cut-midway.pcap",
            description: "Until T0+18 s everything is answered: four lookups and HTTPS fetches from three servers (img.photo-site.org, mail.post-site.com, chat.talk-site.net; frames 3-14, 17-28, 31-42; the last answer is frame 44). From T0+30 s nothing is: six new connections to four servers (first SYNs in frames 45, 46, 48, 54, 61, 64), each SYN sent again after 1, 2 and 4 s, and a lookup (frames 50, 59). The capture runs on 10 s after the last SYN (frame 71, another unanswered query). Addresses illustrative.",
            build: network_cut_midway,
            truth: GroundTruth {
                frames: 71,
                first_ts_ns: Some(T0),
                last_ts_ns: Some(T0 + 57_000_000_000),
                tcp_flows: 9,
                udp_flows: 6,
                facts: vec![Fact::Finding { kind: "network_cut", min_confidence: "medium", frames: &[44, 45, 46, 48, 54, 61, 64] }, NO_DNS_FINDING, Fact::TlsSni(PHOTO_HOST), Fact::DnsQuery("www.video-site.org")],
                partial: false,
            },
        },
        Fixture {
            path: "blackhole/collateral-range-telegram.pcap",
            description: "Three unrelated names on three addresses of 91.108.56.0/24 (cdn.news-a.example on .130, api.shop-b.example on .181, t.me on .100; illustrative, from the client's DNS cache): each handshake completes, but each ClientHello (frames 18, 24, 31) is sent again after 0.25, 0.5 and 1 s, never acknowledged, and each connection is reset 5 s after its hello (frames 36-38). Meanwhile www.weather-site.com answers a lookup and an HTTPS fetch (frames 1-14) and a later lookup is answered (frames 39-40): a filter on the whole range catches names that have nothing to do with each other, the collateral damage seen when Telegram's ranges were blocked.",
            build: collateral_range_telegram,
            truth: GroundTruth {
                frames: 40,
                first_ts_ns: Some(T0),
                last_ts_ns: Some(T0 + 8_248_405_000),
                tcp_flows: 4,
                udp_flows: 2,
                facts: vec![Fact::Finding { kind: "collateral_blocking", min_confidence: "medium", frames: &[18, 24, 31] }, NO_RST_FINDING, NO_DNS_FINDING, Fact::TlsSni("cdn.news-a.example"), Fact::TlsSni("api.shop-b.example"), Fact::TlsSni("t.me")],
                partial: false,
            },
        },
        Fixture {
            path: "blackhole/one-directional-capture.pcap",
            description: "Benign look-alike: a capture filtered to the client's own packets (src host 192.168.1.20). Lookups (frames 1, 17, 19) and the client's side of a working HTTPS connection (frames 2-9: the ACK of an unseen SYN-ACK, the ClientHello, ACKs of unseen data, the close) sit next to SYNs to 149.154.167.51 and 91.108.56.130, four of each (frames 10-16, 18). Nothing in the capture is answered, so drops cannot be told from a missing direction: no finding, and the diagnostic capture_one_directional.",
            build: one_directional_capture,
            truth: GroundTruth {
                frames: 19,
                first_ts_ns: Some(T0),
                last_ts_ns: Some(T0 + 15_000_000_000),
                tcp_flows: 3,
                udp_flows: 3,
                facts: vec![NO_BLACKHOLE, Fact::Diagnostic(Diagnostic::CaptureOneDirectional), Fact::TlsSni(PHOTO_HOST), Fact::DnsQuery(PHOTO_HOST)],
                partial: false,
            },
        },
        Fixture {
            path: "blackhole/port-scan.pcap",
            description: "Benign look-alike: a raw-socket SYN scan of scanme.nmap.org (45.33.32.156, looked up in frames 1-2): one SYN to each of 30 ports from one source port, window 1024, an MSS option only (frames 3-32), none answered and none sent again; a lookup is answered 6 s later (frames 33-34). Single SYNs without a client's backoff are not judged, and unanswered SYNs to 20 or more ports of one host are a scan.",
            build: port_scan,
            truth: GroundTruth {
                frames: 34,
                first_ts_ns: Some(T0),
                last_ts_ns: Some(T0 + 6_042_000_000),
                tcp_flows: 30,
                udp_flows: 2,
                facts: vec![NO_BLACKHOLE, NO_DNS_FINDING, Fact::DnsQuery(SCAN_NAME)],
                partial: false,
            },
        },
        Fixture {
            path: "blackhole/port-scan-with-retries.pcap",
            description: "Benign look-alike: a connect() scan of scanme.nmap.org: the kernel's own SYNs to 24 ports, each from its own source port (frames 3-26), each sent again after 1 s (frames 27-50) and none answered; the scanner gives up before a third. Every flow has the two attempts a judgement needs, so only the rule that unanswered SYNs to 20 or more ports of one host are a scan keeps it silent.",
            build: port_scan_with_retries,
            truth: GroundTruth {
                frames: 52,
                first_ts_ns: Some(T0),
                last_ts_ns: Some(T0 + 6_081_000_000),
                tcp_flows: 24,
                udp_flows: 2,
                facts: vec![NO_BLACKHOLE, NO_DNS_FINDING, Fact::DnsQuery(SCAN_NAME)],
                partial: false,
            },
        },
        Fixture {
            path: "blackhole/capture-ends-during-connect.pcap",
            description: "Benign look-alike: after an answered HTTPS fetch (frames 3-14) and the lookup of docs.tools-site.io (frames 15-16), a SYN to its address 188.114.97.3 (frame 17; illustrative) and its retransmission 1 s later (frame 18) are the capture's last frames: the connection may well have been answered after the capture stopped.",
            build: capture_ends_during_connect,
            truth: GroundTruth {
                frames: 18,
                first_ts_ns: Some(T0),
                last_ts_ns: Some(T0 + 5_014_300_000),
                tcp_flows: 2,
                udp_flows: 2,
                facts: vec![NO_BLACKHOLE, NO_DNS_FINDING, Fact::DnsQuery(LATE_HOST), Fact::TlsSni(PHOTO_HOST)],
                partial: false,
            },
        },
        Fixture {
            path: "blackhole/connection-refused.pcap",
            description: "Benign look-alike: nothing listens on port 443 of git.code-site.net (185.199.108.153, illustrative): each of two connection attempts 1 s apart (frames 3, 5) is refused one round trip later with the RST+ACK a closed port sends (frames 4, 6: sequence 0, IP ID 0, the server's TTL). An answer, so an ordinary failure.",
            build: connection_refused,
            truth: GroundTruth {
                frames: 8,
                first_ts_ns: Some(T0),
                last_ts_ns: Some(T0 + 7_028_300_000),
                tcp_flows: 2,
                udp_flows: 2,
                facts: vec![NO_BLACKHOLE, NO_RST_FINDING, NO_DNS_FINDING, Fact::DnsQuery(CLOSED_HOST)],
                partial: false,
            },
        },
        Fixture {
            path: "blackhole/host-unreachable-from-router.pcap",
            description: "Benign twin of icmp-admin-prohibited-from-router: the SYNs to www.switched-off.net (94.130.210.45, illustrative; frames 3-5, sent again after 1 and 2 s) are each answered about 3 s later, once the server's last-hop router 213.239.229.1 has given up resolving the switched-off host, by ICMP type 3 code 1, host unreachable (frames 6-8). An ordinary failure of a server that is down.",
            build: host_unreachable_from_router,
            truth: GroundTruth {
                frames: 10,
                first_ts_ns: Some(T0),
                last_ts_ns: Some(T0 + 12_074_400_000),
                tcp_flows: 1,
                udp_flows: 2,
                facts: vec![NO_BLACKHOLE, NO_DNS_FINDING, Fact::DnsQuery(OFF_HOST)],
                partial: false,
            },
        },
        Fixture {
            path: "blackhole/lan-host-down.pcap",
            description: "Benign look-alike: SMB to a switched-off NAS on the LAN (192.168.1.50:445), whose MAC was still in the client's neighbour cache: four SYNs with 1, 2 and 4 s of backoff (frames 15-18) go unanswered (later ones wait for ARP and never leave; the capture holds IP only) while HTTPS to the internet works (frames 3-14). A private destination is a local matter, not blocking.",
            build: lan_host_down,
            truth: GroundTruth {
                frames: 20,
                first_ts_ns: Some(T0),
                last_ts_ns: Some(T0 + 17_014_000_000),
                tcp_flows: 2,
                udp_flows: 2,
                facts: vec![NO_BLACKHOLE, NO_DNS_FINDING, Fact::TlsSni(PHOTO_HOST)],
                partial: false,
            },
        },
        Fixture {
            path: "blackhole/slow-but-answered.pcap",
            description: "Benign look-alike: two SYNs to www.slow-site.org (195.82.146.214, illustrative) are lost on a congested path (frames 3-4); the third, 3 s after the first (frame 5), is answered after a 180 ms round trip (frame 6) and the HTTPS exchange completes (frames 7-16).",
            build: slow_but_answered,
            truth: GroundTruth {
                frames: 16,
                first_ts_ns: Some(T0),
                last_ts_ns: Some(T0 + 3_740_914_000),
                tcp_flows: 1,
                udp_flows: 1,
                facts: vec![NO_BLACKHOLE, NO_DNS_FINDING, Fact::TlsSni(SLOW_HOST), Fact::DnsQuery(SLOW_HOST)],
                partial: false,
            },
        },
        Fixture {
            path: "blackhole/icmp-prohibited-linux-abort.pcap",
            description: "A Linux client's single SYN to 31.13.72.36:443 (www.social-site.com, looked up in frames 1-2; illustrative) is answered 4 ms later by ICMP type 3 code 13, administratively prohibited, from the ISP router 10.20.0.1 (frame 4). Linux takes that as a hard error in SYN-SENT: connect() fails and no SYN is sent again. One attempt with a prohibited ICMP from a hop is enough. Another lookup is answered 6 s later (frames 5-6).",
            build: icmp_prohibited_linux_abort,
            truth: GroundTruth {
                frames: 6,
                first_ts_ns: Some(T0),
                last_ts_ns: Some(T0 + 6_032_400_000),
                tcp_flows: 1,
                udp_flows: 2,
                facts: vec![Fact::Finding { kind: "icmp_prohibited", min_confidence: "medium", frames: &[3, 4] }, NO_DNS_FINDING, Fact::DnsQuery(SOCIAL_HOST)],
                partial: false,
            },
        },
        Fixture {
            path: "blackhole/icmp-prohibited-from-server.pcap",
            description: "Benign twin of icmp-admin-prohibited-from-router: the SYNs to intranet.office-site.net (78.46.112.9, illustrative; frames 3, 5, 7, sent again after 1 and 2 s) are each refused one round trip later by ICMP type 3 code 13 sent by 78.46.112.9 itself (frames 4, 6, 8): the server's own firewall rejects the port (iptables REJECT --reject-with icmp-admin-prohibited). The destination answering is an ordinary failure, not a block on the path.",
            build: icmp_prohibited_from_server,
            truth: GroundTruth {
                frames: 10,
                first_ts_ns: Some(T0),
                last_ts_ns: Some(T0 + 9_065_400_000),
                tcp_flows: 1,
                udp_flows: 2,
                facts: vec![NO_BLACKHOLE, NO_DNS_FINDING, Fact::DnsQuery(FIREWALLED_HOST)],
                partial: false,
            },
        },
        Fixture {
            path: "blackhole/collateral-range-dns-names.pcap",
            description: "Range blocking at the SYN, with the names known only from DNS: after an answered lookup and HTTPS fetch of www.weather-site.com (frames 1-14), static.pics-cdn.net, app.fitness-log.io and web.telegram.org are looked up (answers in frames 16, 21, 26), each at an address in 149.154.167.0/24 (illustrative), and each connection's SYN (frames 17, 20, 24) is sent four times with 1, 2 and 4 s of backoff without an answer. The names come from the DNS answers, which link them to the failed flows: one collateral_blocking finding. A last lookup is answered 6 s after the last SYN (frames 33-34).",
            build: collateral_range_dns_names,
            truth: GroundTruth {
                frames: 34,
                first_ts_ns: Some(T0),
                last_ts_ns: Some(T0 + 15_201_214_000),
                tcp_flows: 4,
                udp_flows: 5,
                facts: vec![Fact::Finding { kind: "collateral_blocking", min_confidence: "medium", frames: &[16, 17, 19, 20, 23, 24] }, NO_DNS_FINDING, Fact::DnsQuery("static.pics-cdn.net"), Fact::DnsQuery("app.fitness-log.io"), Fact::DnsQuery("web.telegram.org")],
                partial: false,
            },
        },
        Fixture {
            path: "blackhole/network-cut-local-resolver.pcap",
            description: "The network cut of network-cut-midway behind a home router that resolves names itself (192.168.1.1): until T0+18 s lookups and HTTPS fetches are answered; from T0+30 s six new connections to four servers (first SYNs in frames 45, 46, 48, 55, 61, 64) get no answer to their SYNs, while the router keeps answering lookups from its cache (frames 51, 72). The last public answer is frame 41. Answers from a LAN address say nothing about the path beyond it, so they do not cancel the cut.",
            build: network_cut_local_resolver,
            truth: GroundTruth {
                frames: 72,
                first_ts_ns: Some(T0),
                last_ts_ns: Some(T0 + 57_014_000_000),
                tcp_flows: 9,
                udp_flows: 6,
                facts: vec![Fact::Finding { kind: "network_cut", min_confidence: "medium", frames: &[32, 45, 46, 48, 55, 61, 64] }, NO_DNS_FINDING, Fact::TlsSni(PHOTO_HOST)],
                partial: false,
            },
        },
        Fixture {
            path: "blackhole/clienthello-dropped-server-idle-fin.pcap",
            description: "A ClientHello for www.blocked-video.example to 172.67.180.12 (frame 18; illustrative) after a completed handshake (frames 15-17) is sent again after 0.25, 0.5, 1 and 2 s, never acknowledged; 5 s after the hello the server, which never received it, closes the idle connection with a FIN+ACK that acknowledges only the SYN (frame 23), the client acknowledges the FIN and resets the connection 7 s after the hello. A FIN that does not acknowledge the request is no answer to it: still a drop. www.weather-site.com answered just before (frames 1-14).",
            build: clienthello_dropped_server_idle_fin,
            truth: GroundTruth {
                frames: 27,
                first_ts_ns: Some(T0),
                last_ts_ns: Some(T0 + 13_429_105_000),
                tcp_flows: 2,
                udp_flows: 2,
                facts: vec![Fact::Finding { kind: "tcp_dropped_after_trigger", min_confidence: "medium", frames: &[18, 19, 20, 21, 22] }, NO_RST_FINDING, NO_DNS_FINDING, Fact::TlsSni(IDLE_FIN_SNI), Fact::TlsSni(WEATHER_HOST)],
                partial: false,
            },
        },
        Fixture {
            path: "blackhole/clienthello-dropped-probes-same-server.pcap",
            description: "Repeated single-send connections, the way Censored Planet's CenTrace probes a server: after www.neutral-news.org is looked up (frames 1-2) and fetched over HTTPS from 104.244.43.10 (illustrative; frames 3-14, ClientHello frame 6 acknowledged and answered in frame 7), four new connections to the same address (SYN-ACKs in frames 16, 22, 28, 34, TTL 50: about 14 hops from an initial 64) each carry one ClientHello for forum.blocked-site.org, sent once with IP TTL 20, 21, 22 and 23 (frames 18, 24, 30, 36), enough to reach the server. None is acknowledged or answered and no router reports it expired; 3 s later each client FIN is met by a duplicate ACK of the SYN only (the server never got the hello). Two or more such connections, outnumbering the answered requests with that name, while the same server answered another name: high. A lookup is answered 6 s after the last (frames 39-40).",
            build: clienthello_dropped_probes_same_server,
            truth: GroundTruth {
                frames: 40,
                first_ts_ns: Some(T0),
                last_ts_ns: Some(T0 + 22_555_678_000),
                tcp_flows: 5,
                udp_flows: 2,
                facts: vec![Fact::Finding { kind: "tcp_dropped_after_trigger", min_confidence: "high", frames: &[6, 7, 16, 18, 22, 24, 28, 30, 34, 36] }, NO_RST_FINDING, NO_DNS_FINDING, Fact::TlsSni(BLOCKED_SNI_2), Fact::TlsSni(NEUTRAL_SNI_2)],
                partial: false,
            },
        },
        Fixture {
            path: "blackhole/ttl-limited-probes-expired.pcap",
            description: "Benign twin of clienthello-dropped-probes-same-server, ordinary traceroute-style probing: the same fetch and the same four connections at the same times, but each ClientHello for forum.blocked-site.org carries IP TTL 5, 6, 7 or 8 (frames 18, 25, 32, 39), fewer than the 14 hops the SYN-ACKs crossed, and each is answered 4 ms later by an ICMP time exceeded from a router on the path quoting it (frames 19, 26, 33, 40). The requests expired on the way, as the routers say: no drop.",
            build: ttl_limited_probes_expired,
            truth: GroundTruth {
                frames: 44,
                first_ts_ns: Some(T0),
                last_ts_ns: Some(T0 + 22_555_678_000),
                tcp_flows: 5,
                udp_flows: 2,
                facts: vec![NO_BLACKHOLE, NO_RST_FINDING, NO_DNS_FINDING, Fact::TlsSni(BLOCKED_SNI_2), Fact::TlsSni(NEUTRAL_SNI_2)],
                partial: false,
            },
        },
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synth::reference;

    /// The fields of one captured IPv4 packet the checks look at.
    struct Pkt {
        ts: i64,
        src: Ipv4Addr,
        dst: Ipv4Addr,
        ttl: u8,
        proto: u8,
        sport: u16,
        dport: u16,
        flags: u8,
        seq: u32,
        payload: Vec<u8>,
    }

    fn pkt(ts: i64, ip: &[u8]) -> Pkt {
        assert_eq!(ip[0] >> 4, 4);
        let ihl = usize::from(ip[0] & 15) * 4;
        let total = usize::from(u16::from_be_bytes([ip[2], ip[3]]));
        let l4 = &ip[ihl..total];
        let be16 = |at: usize| u16::from_be_bytes([l4[at], l4[at + 1]]);
        let (sport, dport, flags, seq, payload) = match ip[9] {
            6 => (
                be16(0),
                be16(2),
                l4[13],
                u32::from_be_bytes([l4[4], l4[5], l4[6], l4[7]]),
                l4[usize::from(l4[12] >> 4) * 4..].to_vec(),
            ),
            17 => (be16(0), be16(2), 0, 0, l4[8..].to_vec()),
            // ICMP: type and code in place of the ports, the message after the header.
            1 => (u16::from(l4[0]), u16::from(l4[1]), 0, 0, l4[8..].to_vec()),
            other => panic!("protocol {other}"),
        };
        Pkt {
            ts,
            src: Ipv4Addr::new(ip[12], ip[13], ip[14], ip[15]),
            dst: Ipv4Addr::new(ip[16], ip[17], ip[18], ip[19]),
            ttl: ip[8],
            proto: ip[9],
            sport,
            dport,
            flags,
            seq,
            payload,
        }
    }

    fn packets(f: &Fixture) -> Vec<Pkt> {
        let r = reference::read(&(f.build)().unwrap());
        r.frames
            .iter()
            .map(|x| {
                pkt(
                    x.ts_ns.unwrap(),
                    reference::ip_of(x.linktype, &x.data).unwrap(),
                )
            })
            .collect()
    }

    fn contains(hay: &[u8], needle: &[u8]) -> bool {
        hay.windows(needle.len()).any(|w| w == needle)
    }

    const CLIENT_IP: Ipv4Addr = Ipv4Addr::new(CLIENT[0], CLIENT[1], CLIENT[2], CLIENT[3]);
    const SYN: u8 = 0x02;
    const SYN_ACK: u8 = 0x12;

    /// Gaps between consecutive times, each twice the one before.
    fn assert_backoff(times: &[i64], first_gap: i64, what: &str) {
        let mut gap = first_gap;
        for w in times.windows(2) {
            assert_eq!(w[1] - w[0], gap, "{what}: backoff");
            gap *= 2;
        }
    }

    /// The same connection (client port, server address and port) as `p`.
    fn same_flow(a: &Pkt, p: &Pkt) -> bool {
        let (c, s, sp) = (p.sport, p.dst, p.dport);
        (a.src == CLIENT_IP && a.sport == c && a.dst == s && a.dport == sp)
            || (a.dst == CLIENT_IP && a.dport == c && a.src == s && a.sport == sp)
    }

    #[test]
    fn synth_blackhole_fixtures_show_what_they_claim() {
        let all = blackhole_fixtures();
        assert_eq!(all.len(), 21);
        for f in &all {
            let p = f.path;
            assert!(p.starts_with("blackhole/"), "{p}");
            let pkts = packets(f);
            let end = pkts.last().unwrap().ts;
            // The client sends with TTL 64 (but for the requests of the TTL-limited probes);
            // TCP and UDP from elsewhere arrive lower.
            let probes = p.contains("probes");
            for x in &pkts {
                if probes && x.src == CLIENT_IP && x.proto == 6 && !x.payload.is_empty() {
                    assert!(x.ttl <= 64, "{p}");
                } else if x.src == CLIENT_IP || x.src == Ipv4Addr::from(LAN_ROUTER) {
                    assert_eq!(x.ttl, 64, "{p}");
                } else if x.proto != 1 {
                    assert!(x.ttl < 64, "{p}: TTL {} from {}", x.ttl, x.src);
                }
            }
            let answered = |near: i64| {
                pkts.iter()
                    .any(|x| x.dst == CLIENT_IP && x.proto != 1 && (x.ts - near).abs() <= 120 * S)
            };
            let findings: Vec<(&str, &[u64])> = f
                .truth
                .facts
                .iter()
                .filter_map(|x| match x {
                    Fact::Finding { kind, frames, .. } => Some((*kind, *frames)),
                    _ => None,
                })
                .collect();
            let benign = f.truth.facts.contains(&NO_BLACKHOLE);
            assert_eq!(benign, findings.is_empty(), "{p}: finding or benign twin");
            if benign {
                let one_way = p.contains("one-directional");
                assert_eq!(
                    one_way,
                    !pkts.iter().any(|x| x.dst == CLIENT_IP),
                    "{p}: answers"
                );
                continue;
            }
            for (kind, cited) in findings {
                let cited: Vec<&Pkt> = cited.iter().map(|&n| &pkts[n as usize - 1]).collect();
                match kind {
                    "tcp_syn_unanswered" => {
                        let first = cited[0];
                        assert!(cited.iter().all(|x| x.flags == SYN && same_flow(x, first)));
                        let times: Vec<i64> = cited.iter().map(|x| x.ts).collect();
                        assert_backoff(&times, S, p);
                        assert!(!pkts.iter().any(|x| x.src == first.dst), "{p}: an answer");
                        assert!(end - times[times.len() - 1] >= 5 * S, "{p}: runs on");
                        assert!(answered(first.ts), "{p}: nothing answered");
                    }
                    "tcp_dropped_after_trigger" if probes => {
                        // Each cited request is its own connection's only data, sent once
                        // with more TTL than the 14 hops the SYN-ACKs crossed, with no
                        // ICMP and no acknowledgment; the cited contrast is answered.
                        let requests: Vec<&&Pkt> = cited
                            .iter()
                            .filter(|x| x.src == CLIENT_IP && !x.payload.is_empty())
                            .collect();
                        let blocked: Vec<&&&Pkt> = requests
                            .iter()
                            .filter(|x| contains(&x.payload, BLOCKED_SNI_2.as_bytes()))
                            .collect();
                        assert_eq!(blocked.len(), 4, "{p}");
                        assert!(!pkts.iter().any(|x| x.proto == 1), "{p}: ICMP");
                        for r in &blocked {
                            let flow: Vec<&Pkt> = pkts.iter().filter(|x| same_flow(x, r)).collect();
                            let sa = flow.iter().find(|x| x.flags == SYN_ACK).unwrap();
                            assert!(cited.iter().any(|x| x.ts == sa.ts && x.flags == SYN_ACK));
                            assert!(r.ttl > 64 - sa.ttl, "{p}: TTL {}", r.ttl);
                            assert!(
                                flow.iter()
                                    .all(|x| x.src == CLIENT_IP || x.payload.is_empty()),
                                "{p}: answered"
                            );
                            assert_eq!(
                                flow.iter().filter(|x| !x.payload.is_empty()).count(),
                                1,
                                "{p}: sent again"
                            );
                        }
                        let neutral = requests
                            .iter()
                            .find(|x| contains(&x.payload, NEUTRAL_SNI_2.as_bytes()))
                            .unwrap();
                        assert!(cited.iter().any(|x| x.src == neutral.dst
                            && same_flow(x, neutral)
                            && !x.payload.is_empty()));
                        assert!(end - blocked[3].ts >= 5 * S, "{p}: runs on");
                    }
                    "tcp_dropped_after_trigger" => {
                        let sends: Vec<&&Pkt> =
                            cited.iter().filter(|x| x.src == CLIENT_IP).collect();
                        let first = sends[0];
                        let name = f
                            .truth
                            .facts
                            .iter()
                            .find_map(|x| match x {
                                Fact::TlsSni(n) | Fact::HttpHost(n)
                                    if contains(&first.payload, n.as_bytes()) =>
                                {
                                    Some(*n)
                                }
                                _ => None,
                            })
                            .unwrap();
                        assert!(name.contains("blocked"), "{p}: {name}");
                        assert!(sends
                            .iter()
                            .all(|x| same_flow(x, first) && x.payload == first.payload));
                        let times: Vec<i64> = sends.iter().map(|x| x.ts).collect();
                        assert_backoff(&times, DATA_RTO, p);
                        let flow: Vec<&Pkt> = pkts.iter().filter(|x| same_flow(x, first)).collect();
                        assert!(flow.iter().any(|x| x.flags == SYN_ACK), "{p}: handshake");
                        assert!(
                            flow.iter()
                                .all(|x| x.src == CLIENT_IP || x.payload.is_empty()),
                            "{p}: the server sent data"
                        );
                        let last = flow.iter().map(|x| x.ts).max().unwrap();
                        assert!(end - last >= 5 * S, "{p}: runs on");
                        assert!(answered(first.ts), "{p}: nothing answered");
                        // High: the same server answered another connection (cited).
                        let same_server = cited
                            .iter()
                            .any(|x| x.src == first.dst && !same_flow(x, first));
                        assert_eq!(same_server, p.contains("same-server"), "{p}");
                    }
                    "icmp_prohibited" => {
                        let [syn, icmp] = cited[..] else {
                            panic!("{p}: cites {}", cited.len())
                        };
                        assert_eq!((icmp.proto, icmp.sport, icmp.dport), (1, 3, 13), "{p}");
                        assert_ne!(icmp.src, syn.dst, "{p}: from the server itself");
                        let q = &icmp.payload;
                        let ihl = usize::from(q[0] & 15) * 4;
                        let quoted = pkt(0, &q[..usize::from(u16::from_be_bytes([q[2], q[3]]))]);
                        assert_eq!(
                            (quoted.src, quoted.dst, quoted.flags, quoted.seq),
                            (CLIENT_IP, syn.dst, SYN, syn.seq),
                            "{p}: quote"
                        );
                        assert_eq!(quoted.ttl, 63, "{p}: one hop on");
                        assert!(ihl == 20 && icmp.ts > syn.ts, "{p}");
                        assert!(answered(syn.ts), "{p}: nothing answered");
                    }
                    "network_cut" => {
                        let (last_ok, failed) = (cited[0], &cited[1..]);
                        assert_eq!(last_ok.dst, CLIENT_IP, "{p}");
                        let servers: std::collections::BTreeSet<Ipv4Addr> =
                            failed.iter().map(|x| x.dst).collect();
                        assert!(failed.len() >= 6 && servers.len() >= 3, "{p}");
                        assert!(failed.iter().all(|x| x.flags == SYN), "{p}");
                        let cut = failed[0].ts;
                        assert!(
                            !pkts.iter().any(|x| x.dst == CLIENT_IP
                                && x.ts >= cut
                                && x.src != Ipv4Addr::from(LAN_ROUTER)),
                            "{p}: an answer after the cut"
                        );
                        let last_syn = pkts
                            .iter()
                            .filter(|x| x.flags == SYN)
                            .map(|x| x.ts)
                            .max()
                            .unwrap();
                        assert!(end - last_syn >= 10 * S, "{p}: runs on");
                    }
                    "collateral_blocking" if p.contains("dns-names") => {
                        // Each cited DNS answer names one of the three, each cited SYN goes
                        // to the address it gave, and nothing comes back from the range.
                        for (name, addr) in DNS_RANGE_NAMES {
                            let addr = Ipv4Addr::from(addr);
                            assert!(cited.iter().any(|x| x.sport == 53
                                && contains(&x.payload, &addr.octets())
                                && contains(
                                    &x.payload,
                                    name.split('.').nth(1).unwrap().as_bytes()
                                )));
                            assert!(cited.iter().any(|x| x.flags == SYN && x.dst == addr));
                            assert!(!pkts.iter().any(|x| x.src == addr), "{p}");
                        }
                        assert!(answered(cited[0].ts), "{p}: nothing answered");
                    }
                    "collateral_blocking" => {
                        let names: std::collections::BTreeSet<&str> = RANGE_NAMES
                            .iter()
                            .filter(|(n, _)| {
                                cited.iter().any(|x| contains(&x.payload, n.as_bytes()))
                            })
                            .map(|(n, _)| *n)
                            .collect();
                        assert_eq!(names.len(), 3, "{p}");
                        assert!(cited.iter().all(|x| x.dst.octets()[..3] == [91, 108, 56]));
                        for hello in &cited {
                            let flow: Vec<&Pkt> =
                                pkts.iter().filter(|x| same_flow(x, hello)).collect();
                            assert!(flow.iter().any(|x| x.flags == SYN_ACK), "{p}");
                            let resent = flow
                                .iter()
                                .filter(|x| x.src == CLIENT_IP && x.payload == hello.payload)
                                .count();
                            assert!(resent >= 3, "{p}: {resent} sends");
                            assert!(
                                flow.iter()
                                    .all(|x| x.src == CLIENT_IP || x.payload.is_empty()),
                                "{p}"
                            );
                        }
                        assert!(answered(cited[0].ts), "{p}: nothing answered");
                    }
                    other => panic!("{p}: unknown kind {other}"),
                }
            }
        }
    }

    #[test]
    fn synth_blackhole_twins_differ_from_their_positives_where_they_say() {
        let all = blackhole_fixtures();
        let find = |name: &str| packets(all.iter().find(|f| f.path.contains(name)).unwrap());
        // The ICMP twins: the same shape, another code from another kind of sender.
        let icmp_codes = |pkts: &[Pkt]| -> Vec<u16> {
            pkts.iter()
                .filter(|x| x.proto == 1)
                .map(|x| x.dport)
                .collect()
        };
        assert_eq!(icmp_codes(&find("admin-prohibited")), [13, 13, 13]);
        assert_eq!(icmp_codes(&find("host-unreachable")), [1, 1, 1]);
        // The scans: unanswered SYNs to at least 20 ports of one host.
        for (name, per_port) in [("port-scan.pcap", 1), ("port-scan-with-retries", 2)] {
            let pkts = find(name);
            let syns: Vec<&Pkt> = pkts.iter().filter(|x| x.flags == SYN).collect();
            let ports: std::collections::BTreeSet<u16> = syns.iter().map(|x| x.dport).collect();
            assert!(ports.len() >= 20, "{name}");
            assert_eq!(syns.len(), ports.len() * per_port, "{name}");
            assert!(!pkts.iter().any(|x| x.src == Ipv4Addr::from(SCAN_TARGET)));
        }
        // The end of the capture: two SYNs within its last 1.5 s.
        let pkts = find("capture-ends");
        let end = pkts.last().unwrap().ts;
        let late: Vec<&Pkt> = pkts
            .iter()
            .filter(|x| x.flags == SYN && end - x.ts <= 1_500 * MS)
            .collect();
        assert_eq!(late.len(), 2);
        // Refused: every SYN gets a RST+ACK acknowledging it.
        let pkts = find("connection-refused");
        let rsts = pkts
            .iter()
            .filter(|x| x.flags == 0x14 && x.seq == 0)
            .count();
        assert_eq!(rsts, pkts.iter().filter(|x| x.flags == SYN).count());
        // Slow: three SYNs, then the SYN-ACK.
        let pkts = find("slow-but-answered");
        let flags: Vec<u8> = pkts
            .iter()
            .filter(|x| x.proto == 6)
            .take(4)
            .map(|x| x.flags)
            .collect();
        assert_eq!(flags, [SYN, SYN, SYN, SYN_ACK]);
        // The probes: the same connections at the same times; the twin's requests carry TTLs
        // below the 14 hops and each is answered by a time exceeded quoting it.
        let (pos, neg) = (find("dropped-probes"), find("probes-expired"));
        let requests = |pkts: &[Pkt]| -> Vec<(i64, u8)> {
            pkts.iter()
                .filter(|x| x.proto == 6 && x.src == CLIENT_IP && x.ttl < 64)
                .map(|x| (x.ts, x.ttl))
                .collect()
        };
        let times = |v: Vec<(i64, u8)>| v.into_iter().map(|x| x.0).collect::<Vec<_>>();
        assert_eq!(times(requests(&pos)), times(requests(&neg)));
        assert!(requests(&pos).iter().all(|x| x.1 > 14));
        assert!(requests(&neg).iter().all(|x| x.1 <= 14));
        let expired: Vec<&Pkt> = neg.iter().filter(|x| x.proto == 1).collect();
        assert_eq!(expired.len(), 4);
        for (icmp, (t, _)) in expired.iter().zip(requests(&neg)) {
            assert_eq!((icmp.sport, icmp.dport), (11, 0));
            assert!(icmp.ts > t && icmp.ts - t < 10 * MS);
        }
        assert!(!pos.iter().any(|x| x.proto == 1));
    }
}
