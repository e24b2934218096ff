//! The `throttling/` fixture group: downloads through token-bucket policers (one aimed at a
//! server name), transfers that freeze after a few kilobytes, a TLS handshake slowed by
//! losses, and the benign look-alikes a throttling detector must leave alone (a bottleneck
//! link, a shaper, random loss, an application or a receiver that pauses, slow and fast clean
//! downloads, a cap applied to every flow alike); it builds bytes and ground truth only, never
//! writes or reads files.
//!
//! Every transfer is simulated by [`super::transfer`]: a Linux-like sender and receiver over a
//! path whose element (policer, shaper, freeze, ...) is what the description names, behind a
//! 50 Mbit/s access link unless the description gives another. A capture "at the client" is
//! taken on the Linux client 192.168.1.20: what the path dropped never appears, and a loss
//! shows as a hole in the server's sequence numbers filled later by a retransmission. A
//! capture "at the server" is taken on the Linux server: every packet it sent appears,
//! including those the path dropped afterwards. Linux numbers the IP IDs of a connected
//! socket's packets per socket, so every connection gets its own pair of counters, drawn from
//! the scenario's seed.
//!
//! TLS connections are TLS 1.3: ClientHello, the server's flight (ServerHello,
//! ChangeCipherSpec and about 3.9 KB of encrypted handshake), the client's Finished with its
//! request, then the response in application-data records of up to 16 KB. Payloads are
//! pseudo-random bytes (what encrypted records and compressed media look like), never cut by a
//! snapshot length.

use std::net::{IpAddr, Ipv4Addr};

use super::app::{
    client_hello_session_id, tls_application_data, tls_change_cipher_spec, ClientHello,
    HttpRequest, HttpResponse, ServerHello,
};
use super::fixtures::{Fact, Fixture, GroundTruth, T0};
use super::link::LINKTYPE_ETHERNET;
use super::rng::SplitMix64;
use super::scenario::{
    Host, HostId, IpIdMode, Scenario, Side, TcpConn, TcpParams, Vantage, MS, S, US,
};
use super::transfer::{self, capture_time, send_time, Path, Reader, Supply, Transfer};
use super::writer::{write_pcap, write_pcapng, Endian, InterfaceDesc, PcapOptions};
use super::SynthError;

// ------------------------------------------------------------ hosts

/// MAC of the home router the remote hosts appear behind (as in the other groups).
const ROUTER_MAC: [u8; 6] = [0x02, 0x5E, 0x10, 0x00, 0x00, 0x01];
/// MAC of the capturing client.
const CLIENT_MAC: [u8; 6] = [0x02, 0x5E, 0x10, 0x00, 0x00, 0x20];
/// MAC of a capturing server.
const SERVER_MAC: [u8; 6] = [0x02, 0x5E, 0x30, 0x00, 0x00, 0x10];
/// MAC of the data centre's gateway a capturing server's clients appear behind.
const DC_GATEWAY_MAC: [u8; 6] = [0x02, 0x5E, 0x30, 0x00, 0x00, 0x01];
/// The capturing client.
const CLIENT: Ipv4Addr = Ipv4Addr::new(192, 168, 1, 20);
/// How long the capturing host's stack takes to react.
const LOCAL_DELAY: i64 = 41 * US;
/// From the client's ACK of the handshake to its first request.
const FIRST_REQUEST_AFTER: i64 = 150 * US;
/// From the server's flight to the client's Finished and request (certificate checks, key
/// schedule).
const CLIENT_REACTION: i64 = 2 * MS;
/// From the end of a response to the client's FIN.
const CLOSE_AFTER: i64 = 120 * MS;

/// The two ends of one connection.
struct Ends {
    client: HostId,
    server: HostId,
}

/// A host whose IP IDs count from a start drawn from the scenario's generator (a socket's own
/// counter).
fn socket_host(sc: &mut Scenario, host: Host) -> HostId {
    let start = sc.rng().next_u16();
    sc.add_host(host.with_ip_id(IpIdMode::Counter { start, step: 1 }))
}

/// One connection's ends, captured at the client, to a server whose packets arrive with `ttl`.
fn at_client(sc: &mut Scenario, server: Ipv4Addr, ttl: u8) -> Ends {
    sc.set_local_delay(LOCAL_DELAY);
    let client = socket_host(sc, Host::local(IpAddr::V4(CLIENT)).with_mac(CLIENT_MAC));
    let server = socket_host(
        sc,
        Host::remote(IpAddr::V4(server), ttl).with_mac(ROUTER_MAC),
    );
    Ends { client, server }
}

/// One connection's ends, captured at the server, from a client whose packets arrive with
/// `ttl`.
fn at_server(sc: &mut Scenario, client: Ipv4Addr, ttl: u8, server: Ipv4Addr) -> Ends {
    sc.set_vantage(Vantage::Server);
    sc.set_local_delay(LOCAL_DELAY);
    let client = socket_host(
        sc,
        Host::remote(IpAddr::V4(client), ttl).with_mac(DC_GATEWAY_MAC),
    );
    let server = socket_host(sc, Host::local(IpAddr::V4(server)).with_mac(SERVER_MAC));
    Ends { client, server }
}

/// A connection between `e` with this round trip and server think time (a Linux server
/// sends its SYN-ACK with IP ID 0).
fn connection(
    sc: &mut Scenario,
    e: &Ends,
    port: u16,
    rtt: i64,
    think: i64,
) -> Result<TcpConn, SynthError> {
    let mut p = TcpParams::new(port).rtt(rtt).think(think).with_timestamps();
    if sc.vantage() == Vantage::Server {
        p = p.synack_ip_id(0);
    }
    sc.tcp(e.client, e.server, p)
}

fn pcap(sc: Scenario) -> Vec<u8> {
    write_pcap(&PcapOptions::new(LINKTYPE_ETHERNET), &sc.finish())
}

fn pcapng(sc: Scenario, name: &str) -> Vec<u8> {
    let mut d = InterfaceDesc::new(LINKTYPE_ETHERNET);
    d.snaplen = 262_144;
    d.name = Some(name.to_string());
    write_pcapng(Endian::Little, &[d], &sc.finish())
}

// ------------------------------------------------------------ downloads

/// How one download goes over the path.
struct Plan {
    /// Client → server: the ClientHello or request, and the client's Finished.
    up: Path,
    /// Server → client: the server's flight and the response.
    down: Path,
    /// The client's TCP keepalives (idle, interval) while the response is due.
    keepalive: Option<(i64, i64)>,
    /// The capture stops this long after the response starts, with no close.
    stop_after: Option<i64>,
    /// The client's receive buffer.
    receive_buffer: u64,
    /// When the server has the response.
    supply: Supply,
    /// How the client application reads the response.
    reader: Reader,
}

impl Plan {
    fn new(down: Path) -> Self {
        Self {
            up: Path::clear(),
            down,
            keepalive: None,
            stop_after: None,
            receive_buffer: transfer::DEFAULT_RECEIVE_BUFFER,
            supply: Supply::All,
            reader: Reader::Immediate,
        }
    }
}

fn incomplete() -> SynthError {
    SynthError::InvalidRequest("a simulated transfer did not complete")
}

/// `len` bytes of TLS 1.3 application data in records of at most 16 401 bytes (16 KiB of
/// plaintext, its content type and the AEAD tag).
fn tls_records(len: usize, seed: u64) -> Vec<u8> {
    let mut out = Vec::with_capacity(len + 5 * (len / 16_401 + 1));
    let (mut left, mut k) = (len, 0u64);
    while left > 0 {
        let n = left.min(16_401);
        out.extend(tls_application_data(n, seed.wrapping_add(k)));
        left -= n;
        k += 1;
    }
    out
}

/// The exchange after the TCP handshake (whose last ACK is captured at `t`): `first` from the
/// client, `flight` from the server (skipped when empty) answered by the client's `second`,
/// then the server's `response`, then (unless the capture stops) the client closes. Returns
/// the capture time of the connection's last packet.
#[allow(clippy::too_many_arguments)]
fn converse(
    sc: &mut Scenario,
    conn: &mut TcpConn,
    t: i64,
    first: &[u8],
    flight: &[u8],
    second: &[u8],
    response: &[u8],
    plan: &mut Plan,
) -> Result<i64, SynthError> {
    let think = conn.params().server_think_ns;
    let buffer = plan.receive_buffer;
    let at = send_time(sc, conn, Side::Client, t) + FIRST_REQUEST_AFTER;
    let up = transfer::run(
        sc,
        conn,
        &mut plan.up,
        &Transfer::new(Side::Client, first, at),
    )?;
    let mut at = up.trace.receiver_done.ok_or_else(incomplete)? + think;
    if !flight.is_empty() {
        let f = transfer::run(
            sc,
            conn,
            &mut plan.down,
            &Transfer::new(Side::Server, flight, at).receive_buffer(buffer),
        )?;
        let got = f.trace.receiver_done.ok_or_else(incomplete)?;
        let up = transfer::run(
            sc,
            conn,
            &mut plan.up,
            &Transfer::new(Side::Client, second, got + CLIENT_REACTION),
        )?;
        at = up.trace.receiver_done.ok_or_else(incomplete)? + think;
    }
    let mut tr = Transfer::new(Side::Server, response, at)
        .receive_buffer(buffer)
        .supply(plan.supply)
        .reader(plan.reader);
    if let Some((idle, interval)) = plan.keepalive {
        tr = tr.keepalive(idle, interval);
    }
    if let Some(d) = plan.stop_after {
        tr = tr.until(at + d);
    }
    let response = transfer::run(sc, conn, &mut plan.down, &tr)?;
    let mut end = response.last_capture.unwrap_or(at);
    if plan.stop_after.is_none() {
        let done = response.trace.receiver_done.ok_or_else(incomplete)?;
        let fin = capture_time(sc, conn, Side::Client, done + CLOSE_AFTER);
        end = conn.close(sc, Side::Client, fin)?;
    }
    Ok(end)
}

/// A TLS 1.3 download of `len` bytes of application data for `sni` with the TCP handshake
/// at `t`.
fn tls_download(
    sc: &mut Scenario,
    conn: &mut TcpConn,
    t: i64,
    sni: &str,
    len: usize,
    seed: u64,
    mut plan: Plan,
) -> Result<i64, SynthError> {
    let t = conn.handshake(sc, t)?;
    let mut hello = ClientHello::new(sni);
    hello.seed = seed;
    let mut flight = ServerHello::tls13(client_hello_session_id(&hello), seed).record();
    flight.extend(tls_change_cipher_spec());
    flight.extend(tls_application_data(3_900, seed ^ 1));
    let mut finish = tls_change_cipher_spec();
    finish.extend(tls_application_data(53, seed ^ 2));
    finish.extend(tls_application_data(470, seed ^ 3));
    let response = tls_records(len, seed ^ 4);
    converse(
        sc,
        conn,
        t,
        &hello.record(),
        &flight,
        &finish,
        &response,
        &mut plan,
    )
}

/// An HTTP/1.1 GET for `host` and `path` answered with `len` bytes of `content_type`, with the
/// TCP handshake at `t`.
#[allow(clippy::too_many_arguments)]
fn http_download(
    sc: &mut Scenario,
    conn: &mut TcpConn,
    t: i64,
    host: &str,
    path: &str,
    content_type: &str,
    len: usize,
    seed: u64,
    mut plan: Plan,
) -> Result<i64, SynthError> {
    let t = conn.handshake(sc, t)?;
    let request = HttpRequest::get(host, path).encode();
    let mut response = HttpResponse::new(200, "OK", &SplitMix64::new(seed).bytes(len));
    response.headers.retain(|(k, _)| k != "Content-Type");
    let response = response
        .header("Content-Type", content_type)
        .header("Accept-Ranges", "bytes");
    converse(
        sc,
        conn,
        t,
        &request,
        &[],
        &[],
        &response.encode(),
        &mut plan,
    )
}

// ------------------------------------------------------------ policing

/// Host of the first policed download.
const CLIPSTORE: &str = "media.clipstore.example";
/// Server name of the download policed at the server.
const MIRROR: &str = "downloads.mirror-site.example";
/// Server name of the 2 Mbit/s policed download.
const PHOTOS: &str = "static.photo-share.example";

fn policed_150kbit_http_at_client() -> Result<Vec<u8>, SynthError> {
    let mut sc = Scenario::new(601);
    let e = at_client(&mut sc, Ipv4Addr::new(198, 51, 100, 31), 53);
    let mut conn = connection(&mut sc, &e, 80, 70 * MS, 3 * MS)?;
    http_download(
        &mut sc,
        &mut conn,
        T0,
        CLIPSTORE,
        "/v/7f3a/segment-0042.mp4",
        "video/mp4",
        110_000,
        601,
        Plan::new(Path::policer(150_000, 20_000)),
    )?;
    Ok(pcap(sc))
}

fn policed_500kbit_tls_at_server() -> Result<Vec<u8>, SynthError> {
    let mut sc = Scenario::new(602);
    let e = at_server(
        &mut sc,
        Ipv4Addr::new(198, 51, 100, 77),
        47,
        Ipv4Addr::new(203, 0, 113, 45),
    );
    let mut conn = connection(&mut sc, &e, 443, 55 * MS, MS)?;
    tls_download(
        &mut sc,
        &mut conn,
        T0,
        MIRROR,
        90_000,
        602,
        Plan::new(Path::policer(500_000, 40_000)),
    )?;
    Ok(pcap(sc))
}

fn policed_2mbit_tls_at_client() -> Result<Vec<u8>, SynthError> {
    let mut sc = Scenario::new(603);
    let e = at_client(&mut sc, Ipv4Addr::new(192, 0, 2, 80), 55);
    let mut conn = connection(&mut sc, &e, 443, 40 * MS, 2 * MS)?;
    tls_download(
        &mut sc,
        &mut conn,
        T0,
        PHOTOS,
        130_000,
        603,
        Plan::new(Path::policer(2_000_000, 32_000)),
    )?;
    Ok(pcap(sc))
}

/// The server name a throttling box targets.
const THROTTLED_SNI: &str = "abs.twimg.example";
/// A server name on the same server that it leaves alone.
const NEUTRAL_SNI: &str = "www.neutral-site.example";

fn targeted_sni_same_server() -> Result<Vec<u8>, SynthError> {
    let mut sc = Scenario::new(604);
    let server = Ipv4Addr::new(198, 51, 100, 150);
    let a = at_client(&mut sc, server, 52);
    let b = at_client(&mut sc, server, 52);
    let mut throttled = connection(&mut sc, &a, 443, 45 * MS, 2 * MS)?;
    let mut neutral = connection(&mut sc, &b, 443, 45 * MS, 2 * MS)?;
    tls_download(
        &mut sc,
        &mut throttled,
        T0,
        THROTTLED_SNI,
        60_000,
        604,
        Plan::new(Path::policer(140_000, 12_000)),
    )?;
    tls_download(
        &mut sc,
        &mut neutral,
        T0 + 180 * MS,
        NEUTRAL_SNI,
        60_000,
        605,
        Plan::new(Path::clear()),
    )?;
    Ok(pcapng(sc, "wlan0"))
}

// ------------------------------------------------------------ freezes

/// A service on a foreign hosting provider's range.
const HOSTED_APP: &str = "app.hosted-service.example";
/// Another one, seen from its server.
const HOSTED_API: &str = "api.cloud-tenant.example";

fn freeze_16kb_at_client() -> Result<Vec<u8>, SynthError> {
    let mut sc = Scenario::new(605);
    let e = at_client(&mut sc, Ipv4Addr::new(203, 0, 113, 77), 50);
    let mut conn = connection(&mut sc, &e, 443, 65 * MS, 2 * MS)?;
    let mut plan = Plan::new(Path::freeze(16_000));
    plan.keepalive = Some((10 * S, 10 * S));
    plan.stop_after = Some(31 * S);
    tls_download(&mut sc, &mut conn, T0, HOSTED_APP, 180_000, 605, plan)?;
    Ok(pcap(sc))
}

fn freeze_at_server() -> Result<Vec<u8>, SynthError> {
    let mut sc = Scenario::new(606);
    let e = at_server(
        &mut sc,
        Ipv4Addr::new(198, 51, 100, 60),
        44,
        Ipv4Addr::new(203, 0, 113, 90),
    );
    let mut conn = connection(&mut sc, &e, 443, 70 * MS, MS)?;
    let mut plan = Plan::new(Path::freeze(20_000));
    plan.stop_after = Some(32 * S);
    tls_download(&mut sc, &mut conn, T0, HOSTED_API, 150_000, 606, plan)?;
    Ok(pcap(sc))
}

/// A chat service that answers and then waits for events (a long-lived connection).
const CHAT: &str = "push.chat-service.example";

fn idle_after_response() -> Result<Vec<u8>, SynthError> {
    let mut sc = Scenario::new(619);
    let e = at_client(&mut sc, Ipv4Addr::new(203, 0, 113, 140), 50);
    let mut conn = connection(&mut sc, &e, 443, 60 * MS, 2 * MS)?;
    // The server has 16 000 bytes to send, then nothing for a minute; the client's
    // keepalives are answered by bare ACKs at exactly what it received.
    let mut plan = Plan::new(Path::clear());
    plan.supply = Supply::Chunks {
        bytes: 16_000,
        every_ns: 60 * S,
    };
    plan.keepalive = Some((10 * S, 10 * S));
    plan.stop_after = Some(31 * S);
    tls_download(&mut sc, &mut conn, T0, CHAT, 32_000, 619, plan)?;
    Ok(pcap(sc))
}

fn download_cut_by_capture_end() -> Result<Vec<u8>, SynthError> {
    let mut sc = Scenario::new(620);
    let e = at_client(&mut sc, Ipv4Addr::new(198, 51, 100, 177), 52);
    let mut conn = connection(&mut sc, &e, 443, 80 * MS, 2 * MS)?;
    // A slow line; the capture stops 1.2 s into the response, about 17 KB in.
    let mut plan = Plan::new(Path::bottleneck(120_000, 64 * 1024));
    plan.stop_after = Some(1_200 * MS);
    tls_download(
        &mut sc,
        &mut conn,
        T0,
        "files.slow-host.example",
        120_000,
        620,
        plan,
    )?;
    Ok(pcap(sc))
}

// ------------------------------------------------------------ slow handshake

/// The names the client fetches from one video site's server, in order; the third
/// handshake is the slow one.
const VIDEO_NAMES: [&str; 4] = [
    "www.video-portal.example",
    "i.video-portal.example",
    "media.video-portal.example",
    "api.video-portal.example",
];

fn slow_tls_handshake() -> Result<Vec<u8>, SynthError> {
    let mut sc = Scenario::new(607);
    let server = Ipv4Addr::new(198, 51, 100, 200);
    let mut t = T0;
    for (k, sni) in VIDEO_NAMES.iter().enumerate() {
        let e = at_client(&mut sc, server, 54);
        let mut conn = connection(&mut sc, &e, 443, 45 * MS, MS)?;
        let mut plan = Plan::new(Path::clear());
        if k == 2 {
            // The ClientHello is lost once; the server's whole flight (three segments) is
            // lost, and so is the retransmission of its first segment.
            plan.up = Path::drops(&[0]);
            plan.down = Path::drops(&[0, 1, 2, 3]);
        }
        let d = tls_download(&mut sc, &mut conn, t, sni, 12_000, 607 + k as u64, plan)?;
        t = d + 180 * MS;
    }
    Ok(pcap(sc))
}

/// The same site's handshakes, one of them slow because the server took its time (no loss).
const BUSY_NAMES: [&str; 4] = [
    "www.busy-portal.example",
    "img.busy-portal.example",
    "search.busy-portal.example",
    "api.busy-portal.example",
];

fn slow_server_handshake_no_loss() -> Result<Vec<u8>, SynthError> {
    let mut sc = Scenario::new(621);
    let server = Ipv4Addr::new(198, 51, 100, 210);
    let mut t = T0;
    for (k, sni) in BUSY_NAMES.iter().enumerate() {
        let e = at_client(&mut sc, server, 54);
        // The third connection lands on a busy server process: 900 ms before it answers.
        let think = if k == 2 { 900 * MS } else { MS };
        let mut conn = connection(&mut sc, &e, 443, 45 * MS, think)?;
        let d = tls_download(
            &mut sc,
            &mut conn,
            t,
            sni,
            12_000,
            621 + k as u64,
            Plan::new(Path::clear()),
        )?;
        t = d + 180 * MS;
    }
    Ok(pcap(sc))
}

// ------------------------------------------------------------ benign look-alikes

fn bottleneck_drop_tail() -> Result<Vec<u8>, SynthError> {
    let mut sc = Scenario::new(611);
    let e = at_client(&mut sc, Ipv4Addr::new(198, 51, 100, 41), 56);
    let mut conn = connection(&mut sc, &e, 443, 40 * MS, MS)?;
    tls_download(
        &mut sc,
        &mut conn,
        T0,
        "www.software-updates.example",
        120_000,
        611,
        Plan::new(Path::bottleneck(4_000_000, 32 * 1024)),
    )?;
    Ok(pcap(sc))
}

fn shaper_500kbit() -> Result<Vec<u8>, SynthError> {
    let mut sc = Scenario::new(612);
    let e = at_client(&mut sc, Ipv4Addr::new(203, 0, 113, 18), 51);
    let mut conn = connection(&mut sc, &e, 443, 50 * MS, MS)?;
    tls_download(
        &mut sc,
        &mut conn,
        T0,
        "cdn.podcast-host.example",
        110_000,
        612,
        Plan::new(Path::shaper(500_000, 4_000, 96 * 1024)),
    )?;
    Ok(pcap(sc))
}

fn wireless_random_loss() -> Result<Vec<u8>, SynthError> {
    let mut sc = Scenario::new(613);
    let e = at_client(&mut sc, Ipv4Addr::new(192, 0, 2, 33), 57);
    let mut conn = connection(&mut sc, &e, 443, 35 * MS, MS)?;
    tls_download(
        &mut sc,
        &mut conn,
        T0,
        "www.encyclopedia-site.example",
        120_000,
        613,
        Plan::new(Path::random_loss(30_000, 613).with_link(20_000_000, 128 * 1024)),
    )?;
    Ok(pcap(sc))
}

fn app_limited_chunks() -> Result<Vec<u8>, SynthError> {
    let mut sc = Scenario::new(614);
    let e = at_client(&mut sc, Ipv4Addr::new(198, 51, 100, 88), 55);
    let mut conn = connection(&mut sc, &e, 80, 30 * MS, 2 * MS)?;
    let mut plan = Plan::new(Path::clear());
    plan.supply = Supply::Chunks {
        bytes: 30_000,
        every_ns: 2 * S,
    };
    http_download(
        &mut sc,
        &mut conn,
        T0,
        "vod.lecture-site.example",
        "/vod/lecture-12/720p.mp4",
        "video/mp4",
        90_000,
        614,
        plan,
    )?;
    Ok(pcap(sc))
}

fn zero_window_receiver() -> Result<Vec<u8>, SynthError> {
    let mut sc = Scenario::new(615);
    let e = at_client(&mut sc, Ipv4Addr::new(203, 0, 113, 120), 49);
    let mut conn = connection(&mut sc, &e, 443, 45 * MS, MS)?;
    let mut plan = Plan::new(Path::clear());
    plan.receive_buffer = 64 * 1024;
    plan.reader = Reader::Pauses {
        every_bytes: 40_000,
        pause_ns: 2_500 * MS,
    };
    tls_download(
        &mut sc,
        &mut conn,
        T0,
        "files.backup-service.example",
        130_000,
        615,
        plan,
    )?;
    Ok(pcap(sc))
}

fn fast_download() -> Result<Vec<u8>, SynthError> {
    let mut sc = Scenario::new(616);
    let e = at_client(&mut sc, Ipv4Addr::new(192, 0, 2, 140), 58);
    let mut conn = connection(&mut sc, &e, 443, 25 * MS, MS)?;
    tls_download(
        &mut sc,
        &mut conn,
        T0,
        "www.fast-mirror.example",
        80_000,
        616,
        Plan::new(Path::clear()),
    )?;
    Ok(pcap(sc))
}

fn slow_steady_download() -> Result<Vec<u8>, SynthError> {
    let mut sc = Scenario::new(617);
    let e = at_client(&mut sc, Ipv4Addr::new(198, 51, 100, 222), 50);
    let mut conn = connection(&mut sc, &e, 80, 60 * MS, 2 * MS)?;
    let mut plan = Plan::new(Path::bottleneck(300_000, 160 * 1024));
    plan.receive_buffer = 64 * 1024;
    http_download(
        &mut sc,
        &mut conn,
        T0,
        "archive.old-forum.example",
        "/attachments/manual-v2.pdf",
        "application/pdf",
        110_000,
        617,
        plan,
    )?;
    Ok(pcap(sc))
}

/// The three sites of the plan-wide cap.
const CAPPED: [(&str, [u8; 4], u8); 3] = [
    ("www.news-site.example", [198, 51, 100, 14], 54),
    ("cdn.shop-site.example", [203, 0, 113, 201], 49),
    ("img.photo-site.example", [192, 0, 2, 61], 57),
];

fn plan_wide_cap() -> Result<Vec<u8>, SynthError> {
    let mut sc = Scenario::new(618);
    let starts = [0, 90 * MS, 210 * MS];
    let sizes = [65_000, 70_000, 60_000];
    for (k, (sni, a, ttl)) in CAPPED.iter().enumerate() {
        let e = at_client(&mut sc, Ipv4Addr::from(*a), *ttl);
        let mut conn = connection(&mut sc, &e, 443, (35 + 10 * k as i64) * MS, MS)?;
        tls_download(
            &mut sc,
            &mut conn,
            T0 + starts[k],
            sni,
            sizes[k],
            618 + k as u64,
            Plan::new(Path::policer(384_000, 12_000)),
        )?;
    }
    Ok(pcapng(sc, "eth0"))
}

// ------------------------------------------------------------ catalogue

/// Ground truth of a one-connection fixture: `frames`, the first frame at T0, the last at
/// `last`, these facts.
fn truth(frames: usize, last: i64, tcp_flows: usize, facts: Vec<Fact>) -> GroundTruth {
    GroundTruth {
        frames,
        first_ts_ns: Some(T0),
        last_ts_ns: Some(last),
        tcp_flows,
        udp_flows: 0,
        facts,
        partial: false,
    }
}

/// No throttling finding of any kind.
const BENIGN: Fact = Fact::NoFinding {
    class: "throttling",
};

/// The `throttling/` fixtures, in README order.
pub(crate) fn throttling_fixtures() -> Vec<Fixture> {
    vec![
        Fixture {
            path: "throttling/policed-150kbit-http-at-client.pcap",
            description: "An HTTP GET of a 110 000-byte video segment from media.clipstore.example (198.51.100.31, 70 ms RTT) through a token-bucket policer of 150 kbit/s with a 20 KB bucket, captured at the client (TCP timestamps on): the first 20 KB arrive at line rate, then the server's sequence numbers show holes filled by 36 retransmissions (frames 29 to 138) while throughput stays flat at about 150 kbit/s and the RTT does not grow. Policing, at the level of the 2021 Twitter throttling.",
            build: policed_150kbit_http_at_client,
            truth: truth(
                149,
                1_715_679_005_405_880_000,
                1,
                vec![
                    Fact::Finding {
                        kind: "tcp_policing",
                        min_confidence: "high",
                        frames: &[29, 138],
                    },
                    Fact::HttpHost(CLIPSTORE),
                ],
            ),
        },
        Fixture {
            path: "throttling/policed-500kbit-tls-at-server.pcap",
            description: "A TLS download of 90 000 bytes from downloads.mirror-site.example (55 ms RTT) through a 500 kbit/s policer with a 40 KB bucket, captured at the server 203.0.113.45: after the first 40 KB burst every send beyond the token rate is lost, and the server retransmits 48 times (frames 93 to 169) in SACK recovery while the client's ACKs advance at about 500 kbit/s with no RTT growth. Policing.",
            build: policed_500kbit_tls_at_server,
            truth: truth(
                174,
                1_715_679_001_287_731_000,
                1,
                vec![
                    Fact::Finding {
                        kind: "tcp_policing",
                        min_confidence: "high",
                        frames: &[93, 167],
                    },
                    Fact::TlsSni(MIRROR),
                ],
            ),
        },
        Fixture {
            path: "throttling/policed-2mbit-tls-at-client.pcap",
            description: "A TLS download of 130 000 bytes from static.photo-share.example (192.0.2.80, 40 ms RTT) through a 2 Mbit/s policer with a 32 KB bucket, captured at the client: a 40 KB burst, then a saw-tooth of losses (39 retransmissions, frames 73 to 177) at a flat 2 Mbit/s with the RTT at its base. Policing.",
            build: policed_2mbit_tls_at_client,
            truth: truth(
                181,
                1_715_679_000_731_309_000,
                1,
                vec![
                    Fact::Finding {
                        kind: "tcp_policing",
                        min_confidence: "high",
                        frames: &[73, 175],
                    },
                    Fact::TlsSni(PHOTOS),
                ],
            ),
        },
        Fixture {
            path: "throttling/targeted-sni-same-server.pcapng",
            description: "Two TLS connections from one client to the same server 198.51.100.150 (45 ms RTT) opened 180 ms apart: the one whose ClientHello (frame 4) names abs.twimg.example is policed at 140 kbit/s (12 KB bucket) and takes 3.5 s for 60 000 bytes with 22 retransmissions; the one for www.neutral-site.example (ClientHello in frame 26) gets 60 000 bytes in a quarter of a second without loss. Throttling aimed at one server name.",
            build: targeted_sni_same_server,
            truth: truth(
                175,
                1_715_679_003_673_059_000,
                2,
                vec![
                    Fact::Finding {
                        kind: "targeted_throttling",
                        min_confidence: "medium",
                        frames: &[4],
                    },
                    Fact::TlsSni(THROTTLED_SNI),
                    Fact::TlsSni(NEUTRAL_SNI),
                ],
            ),
        },
        Fixture {
            path: "throttling/freeze-16kb-at-client.pcap",
            description: "A TLS connection to app.hosted-service.example on a hosting provider's address (203.0.113.77, 65 ms RTT), captured at the client: once 15 622 bytes have come from the server (the last in frame 23) nothing more arrives; the client has ACKed it all, sends a TCP keepalive every 10 s and the server answers each with a bare ACK whose sequence number is past what arrived; no FIN or RST in 30 s. A freeze after about 16 KB.",
            build: freeze_16kb_at_client,
            truth: truth(
                30,
                1_715_679_030_399_197_000,
                1,
                vec![
                    Fact::Finding {
                        kind: "transfer_freeze",
                        min_confidence: "high",
                        frames: &[23],
                    },
                    Fact::TlsSni(HOSTED_APP),
                ],
            ),
        },
        Fixture {
            path: "throttling/freeze-at-server.pcap",
            description: "A TLS connection for api.cloud-tenant.example captured at the server 203.0.113.90 (70 ms RTT): the client ACKs the first 19 966 bytes (the last delivered in frame 24) and nothing after; the server retransmits the next segment six times (frames 51 to 56), the timeout doubling, and never hears from the client again; no FIN or RST. A freeze after about 20 KB.",
            build: freeze_at_server,
            truth: truth(
                56,
                1_715_679_017_695_910_000,
                1,
                vec![
                    Fact::Finding {
                        kind: "transfer_freeze",
                        min_confidence: "high",
                        frames: &[24],
                    },
                    Fact::TlsSni(HOSTED_API),
                ],
            ),
        },
        Fixture {
            path: "throttling/slow-tls-handshake.pcap",
            description: "Four TLS connections in a row to one video site's server 198.51.100.200 (45 ms RTT): three get their ServerHello 46 ms after the ClientHello; for media.video-portal.example the ClientHello (frame 62) is lost once and retransmitted (frame 63), then the server's whole flight and the retransmission of its first segment are lost, and the ServerHello arrives 1.03 s after the ClientHello. A handshake slowed by losses.",
            build: slow_tls_handshake,
            truth: truth(
                117,
                1_715_679_002_833_254_000,
                4,
                vec![
                    Fact::Finding {
                        kind: "slow_handshake",
                        min_confidence: "medium",
                        frames: &[62],
                    },
                    Fact::TlsSni(VIDEO_NAMES[0]),
                    Fact::TlsSni(VIDEO_NAMES[1]),
                    Fact::TlsSni(VIDEO_NAMES[2]),
                    Fact::TlsSni(VIDEO_NAMES[3]),
                ],
            ),
        },
        Fixture {
            path: "throttling/bottleneck-drop-tail.pcap",
            description: "Benign: a TLS download of 120 000 bytes over a 4 Mbit/s link with a 32 KB drop-tail queue (40 ms base RTT), captured at the client: the rate is flat at the link rate, the RTT grows as the queue fills, and the 12 retransmissions follow queue overflows. Congestion, not policing.",
            build: bottleneck_drop_tail,
            truth: truth(
                151,
                1_715_679_000_590_011_000,
                1,
                vec![BENIGN, Fact::TlsSni("www.software-updates.example")],
            ),
        },
        Fixture {
            path: "throttling/shaper-500kbit.pcap",
            description: "Benign: a TLS download of 110 000 bytes through a 500 kbit/s token-bucket shaper with a 96 KB queue (50 ms base RTT), captured at the client: packets wait instead of being dropped and the RTT climbs with the queue; no loss. Shaping, not policing.",
            build: shaper_500kbit,
            truth: truth(
                129,
                1_715_679_002_098_415_000,
                1,
                vec![BENIGN, Fact::TlsSni("cdn.podcast-host.example")],
            ),
        },
        Fixture {
            path: "throttling/wireless-random-loss.pcap",
            description: "Benign: a TLS download of 120 000 bytes over a 20 Mbit/s link that loses 3 % of packets at random (a weak Wi-Fi link, 35 ms RTT), captured at the client: scattered losses repaired by retransmissions, no token-bucket pattern.",
            build: wireless_random_loss,
            truth: truth(
                158,
                1_715_679_000_449_864_000,
                1,
                vec![BENIGN, Fact::TlsSni("www.encyclopedia-site.example")],
            ),
        },
        Fixture {
            path: "throttling/app-limited-chunks.pcap",
            description: "Benign: an HTTP download of a 90 000-byte lecture video that the server hands over in 30 000-byte chunks every 2 s (30 ms RTT), captured at the client: bursts at line rate separated by idle gaps, no loss. An application-limited sender.",
            build: app_limited_chunks,
            truth: truth(
                106,
                1_715_679_006_212_282_000,
                1,
                vec![BENIGN, Fact::HttpHost("vod.lecture-site.example")],
            ),
        },
        Fixture {
            path: "throttling/zero-window-receiver.pcap",
            description: "Benign: a TLS download of 130 000 bytes to a client with a 64 KB receive buffer whose application stops reading for 2.5 s after every 40 000 bytes (45 ms RTT), captured at the client: the window closes to zero, the server sends zero-window probes, the client's window update restarts the transfer. Receiver-limited.",
            build: zero_window_receiver,
            truth: truth(
                157,
                1_715_679_002_904_287_000,
                1,
                vec![BENIGN, Fact::TlsSni("files.backup-service.example")],
            ),
        },
        Fixture {
            path: "throttling/fast-download.pcap",
            description: "Benign: a TLS download of 80 000 bytes over a clean 50 Mbit/s path (25 ms RTT), captured at the client: slow start, no loss, done in about a tenth of a second.",
            build: fast_download,
            truth: truth(
                99,
                1_715_679_000_282_241_000,
                1,
                vec![BENIGN, Fact::TlsSni("www.fast-mirror.example")],
            ),
        },
        Fixture {
            path: "throttling/slow-steady-download.pcap",
            description: "Benign: an HTTP download of a 110 000-byte PDF over a 300 kbit/s link whose 160 KB queue is larger than the client's 64 KB window (60 ms base RTT), captured at the client: a steady 300 kbit/s for 3 s while the queue delay grows, no loss, and the connection closes normally. Slow but not throttled.",
            build: slow_steady_download,
            truth: truth(
                124,
                1_715_679_003_345_325_000,
                1,
                vec![BENIGN, Fact::HttpHost("archive.old-forum.example")],
            ),
        },
        Fixture {
            path: "throttling/plan-wide-cap.pcapng",
            description: "Three concurrent TLS downloads (65 000, 70 000 and 60 000 bytes) from three different servers, each policed at the same 384 kbit/s with a 12 KB bucket (a subscriber plan's cap), captured at the client. Every flow is policed alike, so no server name is singled out: policing (each finding notes the capture-wide cap), but no targeted throttling.",
            build: plan_wide_cap,
            truth: truth(
                302,
                1_715_679_001_955_978_000,
                3,
                vec![
                    Fact::Finding {
                        kind: "tcp_policing",
                        min_confidence: "medium",
                        frames: &[50, 259],
                    },
                    Fact::Finding {
                        kind: "tcp_policing",
                        min_confidence: "medium",
                        frames: &[76, 296],
                    },
                    Fact::Finding {
                        kind: "tcp_policing",
                        min_confidence: "medium",
                        frames: &[134, 287],
                    },
                    Fact::NoFindingKind {
                        kind: "targeted_throttling",
                    },
                    Fact::TlsSni(CAPPED[0].0),
                    Fact::TlsSni(CAPPED[1].0),
                    Fact::TlsSni(CAPPED[2].0),
                ],
            ),
        },
        Fixture {
            path: "throttling/idle-after-response.pcap",
            description: "Benign: a TLS connection to push.chat-service.example (203.0.113.140, 60 ms RTT) whose server sends 16 000 bytes of events (about 20 KB with the handshake; the last in frame 29) and then has nothing more for a minute, captured at the client: the client's keepalives every 10 s are answered by bare ACKs at exactly what it received; no FIN or RST in 30 s. An idle application, not a freeze.",
            build: idle_after_response,
            truth: truth(
                36,
                1_715_679_030_428_099_000,
                1, vec![BENIGN, Fact::TlsSni(CHAT)]),
        },
        Fixture {
            path: "throttling/download-cut-by-capture-end.pcap",
            description: "Benign: a TLS download from files.slow-host.example over a 120 kbit/s line (80 ms RTT), captured at the client, where the capture stops 1.2 s into the response, about 20 KB in (the last data in frame 34): the transfer was still running. The end of a capture proves nothing.",
            build: download_cut_by_capture_end,
            truth: truth(
                35,
                1_715_679_001_665_976_000,
                1, vec![BENIGN, Fact::TlsSni("files.slow-host.example")]),
        },
        Fixture {
            path: "throttling/slow-server-handshake-no-loss.pcap",
            description: "Benign: four TLS connections in a row to one site's server 198.51.100.210 (45 ms RTT); for search.busy-portal.example (ClientHello in frame 62) the server process takes 900 ms before its ServerHello, without any loss; the three others answer in 46 ms. A slow server, not a handshake slowed by drops.",
            build: slow_server_handshake_no_loss,
            truth: truth(
                116,
                1_715_679_003_566_172_000,
                4, vec![BENIGN, Fact::TlsSni(BUSY_NAMES[2])]),
        },
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synth::reference;
    use std::collections::BTreeMap;

    /// One TCP segment of a fixture.
    #[derive(Clone, Debug)]
    struct Tcp {
        /// 1-based frame number.
        frame: u64,
        ts: i64,
        src: End,
        dst: End,
        seq: u32,
        ack: u32,
        flags: u8,
        payload: Vec<u8>,
    }

    const FIN: u8 = 0x01;
    const SYN: u8 = 0x02;
    const RST: u8 = 0x04;

    fn segments(bytes: &[u8]) -> Vec<Tcp> {
        let r = reference::read(bytes);
        r.frames
            .iter()
            .enumerate()
            .map(|(i, f)| {
                let ip = reference::ip_of(f.linktype, &f.data).unwrap();
                assert_eq!(ip[0] >> 4, 4);
                let ihl = usize::from(ip[0] & 15) * 4;
                let total = usize::from(u16::from_be_bytes([ip[2], ip[3]]));
                let t = &ip[ihl..total];
                let doff = usize::from(t[12] >> 4) * 4;
                let addr = |o: usize| [ip[o], ip[o + 1], ip[o + 2], ip[o + 3]];
                let be16 = |o: usize| u16::from_be_bytes([t[o], t[o + 1]]);
                let be32 = |o: usize| u32::from_be_bytes([t[o], t[o + 1], t[o + 2], t[o + 3]]);
                Tcp {
                    frame: i as u64 + 1,
                    ts: f.ts_ns.unwrap(),
                    src: (addr(12), be16(0)),
                    dst: (addr(16), be16(2)),
                    seq: be32(4),
                    ack: be32(8),
                    flags: t[13],
                    payload: t[doff..].to_vec(),
                }
            })
            .collect()
    }

    fn is_server(end: End) -> bool {
        end.1 == 80 || end.1 == 443
    }

    /// What one connection shows.
    #[derive(Debug, Default)]
    struct Flow {
        server: [u8; 4],
        sni: Option<String>,
        /// Frames of the client's ClientHello (or request) transmissions.
        hellos: Vec<u64>,
        /// Time from the first ClientHello to the first server payload.
        hello_to_answer: Option<i64>,
        /// Server → client retransmissions (payload starting below the highest sequence
        /// number the server had sent before).
        retransmissions: Vec<u64>,
        /// Server payload bytes, counting each byte once.
        delivered: u64,
        /// Highest ACK of the client, relative to the server's ISN + 1.
        highest_ack: u64,
        /// The server data frame ending at `highest_ack` (first transmission).
        last_delivered: Option<u64>,
        data_frames: usize,
        first_ts: i64,
        last_ts: i64,
        last_data_ts: i64,
        fin_or_rst: bool,
    }

    fn sni_of(payload: &[u8]) -> Option<String> {
        // The hello of these fixtures: the server_name extension's host name follows the
        // bytes 00 00 <len16> <len16 - 2> 00 <len16 - 5>.
        if payload.len() < 6 || payload[0] != 0x16 || payload[5] != 0x01 {
            return None;
        }
        let pos = payload.windows(2).enumerate().find_map(|(i, w)| {
            if w != [0, 0] || i + 9 > payload.len() {
                return None;
            }
            let l1 = usize::from(u16::from_be_bytes([payload[i + 2], payload[i + 3]]));
            let l2 = usize::from(u16::from_be_bytes([payload[i + 4], payload[i + 5]]));
            let l3 = usize::from(u16::from_be_bytes([payload[i + 7], payload[i + 8]]));
            (l1 >= 5 && l2 + 2 == l1 && payload[i + 6] == 0 && l3 + 3 == l2).then_some((i + 9, l3))
        })?;
        payload
            .get(pos.0..pos.0 + pos.1)
            .map(|b| String::from_utf8_lossy(b).into_owned())
    }

    /// An address and port.
    type End = ([u8; 4], u16);

    /// Flows by (client, server).
    fn flows(segs: &[Tcp]) -> BTreeMap<(End, End), Flow> {
        let mut out: BTreeMap<_, Flow> = BTreeMap::new();
        let mut isn: BTreeMap<_, (u32, u32)> = BTreeMap::new();
        let mut high: BTreeMap<_, u64> = BTreeMap::new();
        let mut ends: BTreeMap<_, Vec<(u64, u64)>> = BTreeMap::new();
        for s in segs {
            let from_server = is_server(s.src);
            let key = if from_server {
                (s.dst, s.src)
            } else {
                (s.src, s.dst)
            };
            let f = out.entry(key).or_insert_with(|| Flow {
                server: key.1 .0,
                first_ts: s.ts,
                ..Flow::default()
            });
            f.last_ts = s.ts;
            if s.flags & (FIN | RST) != 0 {
                f.fin_or_rst = true;
            }
            let e = isn.entry(key).or_insert((0, 0));
            if s.flags & SYN != 0 {
                if from_server {
                    e.1 = s.seq.wrapping_add(1);
                } else {
                    e.0 = s.seq.wrapping_add(1);
                }
                continue;
            }
            let (_, server_base) = *e;
            if from_server && !s.payload.is_empty() {
                let off = u64::from(s.seq.wrapping_sub(server_base));
                let end = off + s.payload.len() as u64;
                let h = high.entry(key).or_insert(0);
                if off < *h {
                    f.retransmissions.push(s.frame);
                } else {
                    f.delivered += end - off;
                    ends.entry(key).or_default().push((end, s.frame));
                }
                *h = (*h).max(end);
                f.data_frames += 1;
                f.last_data_ts = s.ts;
                if f.hello_to_answer.is_none() {
                    let first = segs[f.hellos[0] as usize - 1].ts;
                    f.hello_to_answer = Some(s.ts - first);
                }
            }
            if !from_server {
                if s.flags & 0x10 != 0 {
                    let a = u64::from(s.ack.wrapping_sub(server_base));
                    if a < 1 << 31 {
                        f.highest_ack = f.highest_ack.max(a);
                    }
                }
                if !s.payload.is_empty() && (f.hellos.is_empty() || f.hello_to_answer.is_none()) {
                    if let Some(n) = sni_of(&s.payload) {
                        f.sni = Some(n);
                    }
                    if f.hellos.is_empty() || segs[f.hellos[0] as usize - 1].payload == s.payload {
                        f.hellos.push(s.frame);
                    }
                }
            }
        }
        for (key, f) in out.iter_mut() {
            f.last_delivered = ends
                .get(key)
                .and_then(|v| v.iter().find(|e| e.0 == f.highest_ack).map(|e| e.1));
        }
        out
    }

    /// Bytes per second the server delivered: the client's highest ACK over the time from
    /// the SYN to the last server payload.
    fn rate(f: &Flow) -> f64 {
        f.highest_ack as f64 / ((f.last_data_ts - f.first_ts) as f64 / 1e9)
    }

    #[test]
    fn synth_throttling_fixtures_cite_the_packets_they_describe() {
        for fx in throttling_fixtures() {
            let p = fx.path;
            let bytes = (fx.build)().unwrap();
            let segs = segments(&bytes);
            let fl = flows(&segs);
            let mut positive = false;
            for fact in &fx.truth.facts {
                let Fact::Finding { kind, frames, .. } = fact else {
                    continue;
                };
                positive = true;
                match *kind {
                    "tcp_policing" => {
                        // The retransmissions that repaired the first and the last loss the
                        // policing heuristic used (Wireshark marks both as retransmissions),
                        // in a flow that lost at least the 15 packets the heuristic needs.
                        let f = fl
                            .values()
                            .find(|f| frames.iter().all(|n| f.retransmissions.contains(n)))
                            .unwrap_or_else(|| panic!("{p}: {frames:?}"));
                        assert_eq!(frames.len(), 2, "{p}");
                        assert!(f.retransmissions.len() >= 15, "{p}");
                    }
                    "targeted_throttling" => {
                        // The ClientHello of the slow flow, at least 10 times slower than
                        // every other flow to the same server.
                        let f = fl
                            .values()
                            .find(|f| f.hellos.first() == frames.first())
                            .unwrap_or_else(|| panic!("{p}: {frames:?}"));
                        assert_eq!(f.sni.as_deref(), Some(THROTTLED_SNI), "{p}");
                        let others: Vec<&Flow> = fl
                            .values()
                            .filter(|o| o.server == f.server && o.hellos != f.hellos)
                            .collect();
                        assert!(!others.is_empty(), "{p}");
                        for o in others {
                            assert!(rate(o) >= 10.0 * rate(f), "{p}");
                        }
                    }
                    "transfer_freeze" => {
                        // The last data the client acknowledged, 10-25 KB into the flow,
                        // then at least 10 s without a FIN or RST.
                        let f = fl
                            .values()
                            .find(|f| f.last_delivered.as_ref() == frames.first())
                            .unwrap_or_else(|| panic!("{p}: {frames:?}"));
                        assert!((10_000..=25_000).contains(&f.highest_ack), "{p}");
                        assert!(!f.fin_or_rst, "{p}");
                        let cited = segs[frames[0] as usize - 1].ts;
                        assert!(f.last_ts - cited >= 10 * S, "{p}");
                    }
                    "slow_handshake" => {
                        // The first ClientHello of the connection answered at least five
                        // times later than any other to the same server.
                        let f = fl
                            .values()
                            .find(|f| f.hellos.first() == frames.first())
                            .unwrap_or_else(|| panic!("{p}: {frames:?}"));
                        assert!(f.hellos.len() > 1 && f.sni.is_some(), "{p}");
                        let slow = f.hello_to_answer.unwrap();
                        for o in fl.values().filter(|o| o.hellos != f.hellos) {
                            assert_eq!(o.server, f.server, "{p}");
                            assert!(slow >= 5 * o.hello_to_answer.unwrap(), "{p}");
                        }
                    }
                    other => panic!("{p}: no check for {other}"),
                }
            }
            // The benign look-alikes complete and close, except the two that show a
            // connection left open (an idle one, and one the capture cut short).
            let open_on_purpose = p.ends_with("idle-after-response.pcap")
                || p.ends_with("download-cut-by-capture-end.pcap");
            if !positive && !open_on_purpose {
                assert!(fl.values().all(|f| f.fin_or_rst), "{p}");
            }
        }
    }
}
