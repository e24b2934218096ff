//! The `blockpage/` fixture group: captures of blockpages, injected HTTP
//! responses and forced redirects, each with the ground truth a blockpage
//! detector must reproduce, next to benign look-alikes that must stay
//! silent; it never writes or reads files and never looks at the clock.
//!
//! Every capture is taken at a Linux client (TTL 64, counting IP IDs, DF)
//! unless its description says otherwise. The servers' packets arrive with
//! one TTL, consecutive IP IDs from a counter, DF and one window, one round
//! trip plus a little think time after the request. What a path device
//! forges differs from that in the ways the descriptions list: it arrives a
//! few milliseconds after the request, with its own TTL, IP ID and
//! sometimes DF or window, and is followed at once by a FIN or RST from the
//! same forged sender. Where the device does not drop the request, the real
//! server's response arrives one round trip later over the same sequence
//! numbers.
//!
//! Fingerprint strings come from OONI's `fingerprints_http.csv`
//! (github.com/ooni/blocking-fingerprints); each positive names the row it
//! is built to match. Page texts, addresses and URLs are otherwise invented.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::app::{DnsMessage, DnsRecord, HttpRequest, HttpResponse, RCODE_NOERROR, TYPE_A};
use super::fixtures::{Fact, Fixture, GroundTruth, T0};
use super::link::LINKTYPE_ETHERNET;
use super::packet::{TCP_ACK, TCP_FIN, TCP_RST};
use super::scenario::{
    Host, HostId, IpIdMode, Scenario, Segment, Side, TcpConn, TcpParams, MS, US,
};
use super::writer::{write_pcap, write_pcapng, Endian, InterfaceDesc, PcapOptions};
use super::SynthError;

// ------------------------------------------------------------ hosts

/// MAC of the home router the remote hosts appear behind (the same as in
/// the other fixture groups).
const ROUTER_MAC: [u8; 6] = [0x02, 0x5E, 0x10, 0x00, 0x00, 0x01];
/// MAC of the capturing client.
const CLIENT_MAC: [u8; 6] = [0x02, 0x5E, 0x10, 0x00, 0x00, 0x20];
/// How long the client's stack takes to react to a packet.
const LOCAL_DELAY: i64 = 41 * US;
/// Spacing of back-to-back segments from one sender.
const GAP: i64 = 12 * US;
/// Time from the client's final handshake ACK to its request.
const REQUEST_AFTER: i64 = 150 * US;
/// The web servers' think time before a response.
const THINK: i64 = 2 * MS;

fn v4(a: u8, b: u8, c: u8, d: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(a, b, c, d))
}

fn v6(s: &str) -> IpAddr {
    // Only called with literals from this file.
    IpAddr::V6(s.parse::<Ipv6Addr>().unwrap_or(Ipv6Addr::UNSPECIFIED))
}

/// The two ends of a connection.
struct Ends {
    client: HostId,
    server: HostId,
}

/// A Linux client (192.168.1.20, or 2001:db8:1::20 for an IPv6 `server`)
/// and a server whose packets arrive with `ttl` and IP IDs counting from
/// `ip_id`.
fn ends(sc: &mut Scenario, server: IpAddr, ttl: u8, ip_id: u16) -> Ends {
    sc.set_local_delay(LOCAL_DELAY);
    sc.set_segment_gap(GAP);
    let client = if server.is_ipv6() {
        v6("2001:db8:1::20")
    } else {
        v4(192, 168, 1, 20)
    };
    Ends {
        client: sc.add_host(Host::local(client).with_mac(CLIENT_MAC)),
        server: sc.add_host(Host::remote(server, ttl).with_mac(ROUTER_MAC).with_ip_id(
            IpIdMode::Counter {
                start: ip_id,
                step: 1,
            },
        )),
    }
}

/// An HTTP connection to port 80 with this round-trip time.
fn http_conn(sc: &mut Scenario, e: &Ends, rtt: i64) -> Result<TcpConn, SynthError> {
    sc.tcp(e.client, e.server, TcpParams::new(80).rtt(rtt).think(THINK))
}

/// The handshake at `t` and a GET for `host` and `path` 150 µs after it, in
/// one segment. Returns the capture time of the request.
fn open_and_get(
    conn: &mut TcpConn,
    sc: &mut Scenario,
    t: i64,
    host: &str,
    path: &str,
) -> Result<i64, SynthError> {
    let at = conn.handshake(sc, t)? + REQUEST_AFTER;
    let req = HttpRequest::get(host, path).encode();
    one_segment(conn, &req)?;
    conn.send_segments(sc, Side::Client, at, &req)?;
    Ok(at)
}

/// Fails unless `data` fits one segment (every cited response head is the
/// whole response in one frame).
fn one_segment(conn: &TcpConn, data: &[u8]) -> Result<(), SynthError> {
    if data.len() > conn.max_payload() {
        return Err(SynthError::InvalidRequest(
            "a message does not fit one segment",
        ));
    }
    Ok(())
}

/// A response with exactly these header fields (Content-Length is added).
fn response(status: u16, reason: &str, headers: &[(&str, &str)], body: &str) -> Vec<u8> {
    HttpResponse {
        status,
        reason: reason.to_string(),
        headers: headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        body: body.as_bytes().to_vec(),
        chunk_size: None,
    }
    .encode()
}

/// A date header value inside the capture's timeline (2024-05-14).
const DATE: &str = "Tue, 14 May 2024 09:30:00 GMT";

fn eth_pcap(sc: Scenario) -> Vec<u8> {
    write_pcap(&PcapOptions::new(LINKTYPE_ETHERNET), &sc.finish())
}

fn eth_pcapng(sc: Scenario) -> Vec<u8> {
    let mut iface = InterfaceDesc::new(LINKTYPE_ETHERNET);
    iface.snaplen = 262_144;
    iface.name = Some("eth0".to_string());
    write_pcapng(Endian::Little, &[iface], &sc.finish())
}

// ------------------------------------------------------------ forging

/// The IP and TCP header fields a path device puts on the packets it
/// forges "as if from" the server.
#[derive(Clone, Copy)]
struct Forger {
    /// TTL (hop limit over IPv6) as the packets arrive.
    ttl: u8,
    /// IP ID of the next forged packet.
    ip_id: u16,
    /// How the IP ID moves from one forged packet to the next (0: fixed).
    step: u16,
    /// DF bit.
    df: bool,
    /// Window field; the server's when `None`.
    window: Option<u16>,
}

impl Forger {
    /// `seg` with the forger's headers; advances its IP ID.
    fn stamp(&mut self, seg: Segment) -> Segment {
        let mut s = seg
            .with_ttl(self.ttl)
            .with_ip_id(self.ip_id)
            .with_dont_fragment(self.df);
        if let Some(w) = self.window {
            s = s.with_window(w);
        }
        self.ip_id = self.ip_id.wrapping_add(self.step);
        s
    }
}

/// The forged response at `at` in one segment, at the server's next
/// sequence number.
fn inject(
    conn: &mut TcpConn,
    sc: &mut Scenario,
    f: &mut Forger,
    at: i64,
    resp: &[u8],
) -> Result<(), SynthError> {
    one_segment(conn, resp)?;
    conn.emit(
        sc,
        Side::Server,
        at,
        &f.stamp(Segment::data(resp).advancing()),
    )
}

/// The forged response at `at`, the forger's FIN+ACK right behind it, and
/// the client's ACK of both. Returns the time of that ACK.
fn inject_then_fin(
    conn: &mut TcpConn,
    sc: &mut Scenario,
    f: &mut Forger,
    at: i64,
    resp: &[u8],
) -> Result<i64, SynthError> {
    inject(conn, sc, f, at, resp)?;
    let fin = at + GAP;
    conn.emit(
        sc,
        Side::Server,
        fin,
        &f.stamp(Segment::flags(TCP_FIN | TCP_ACK).advancing()),
    )?;
    let ack = fin + conn.delay(sc, Side::Client);
    conn.ack(sc, Side::Client, ack)?;
    Ok(ack)
}

/// The forged response at `at` and the forger's RST+ACK right behind it;
/// the RST closes the client's socket before it ACKs anything.
fn inject_then_rst(
    conn: &mut TcpConn,
    sc: &mut Scenario,
    f: &mut Forger,
    at: i64,
    resp: &[u8],
) -> Result<(), SynthError> {
    inject(conn, sc, f, at, resp)?;
    conn.emit(
        sc,
        Side::Server,
        at + GAP,
        &f.stamp(Segment::flags(TCP_RST | TCP_ACK)).with_window(0),
    )
}

/// What a Linux host sends when it refuses a segment with its receiving side
/// shut or no socket left (RFC 9293 §3.10.7.1): RST without ACK whose
/// sequence number is the segment's acknowledgment number, IP ID 0, DF.
fn refusing_reset(
    conn: &mut TcpConn,
    sc: &mut Scenario,
    side: Side,
    t: i64,
    seg_ack: u32,
) -> Result<(), SynthError> {
    conn.emit(
        sc,
        side,
        t,
        &Segment::flags(TCP_RST)
            .with_seq(seg_ack)
            .with_ack(0)
            .with_window(0)
            .with_ip_id(0),
    )
}

/// The race after an injected response and FIN. The client, done with the
/// forged page, closes at `close_at`. The real server received the request
/// (`x` is its next sequence number then, `a` the end of the request) and
/// its `real` response arrives at the request time `req` plus the round
/// trip and think time, over the sequence numbers the forged page took.
/// Linux refuses data past a FIN it has received (its receiving side is
/// shut) with a RST; the server, having got the client's FIN meanwhile,
/// sends its own FIN, which meets a RST too.
fn real_response_after_close(
    conn: &mut TcpConn,
    sc: &mut Scenario,
    close_at: i64,
    req: i64,
    x: u32,
    a: u32,
    real: &[u8],
) -> Result<(), SynthError> {
    one_segment(conn, real)?;
    conn.fin(sc, Side::Client, close_at)?;
    let rtt = conn.params().rtt_ns;
    let real_at = req + rtt + THINK;
    conn.send_segments_at(sc, Side::Server, real_at, x, a, real)?;
    let d = conn.delay(sc, Side::Client);
    refusing_reset(conn, sc, Side::Client, real_at + d, a)?;
    let srv_fin = (close_at + rtt).max(real_at + GAP);
    conn.emit(
        sc,
        Side::Server,
        srv_fin,
        &Segment::flags(TCP_FIN | TCP_ACK)
            .with_seq(x.wrapping_add(real.len() as u32))
            .with_ack(a.wrapping_add(1)),
    )?;
    refusing_reset(conn, sc, Side::Client, srv_fin + d, a.wrapping_add(1))
}

/// A server's ordinary page about `title`, about 600 bytes.
fn real_page(title: &str) -> Vec<u8> {
    let body = format!(
        "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>{title}</title>\n\
         <link rel=\"stylesheet\" href=\"/static/site.css\"></head>\n<body>\n\
         <header><h1>{title}</h1><nav><a href=\"/\">Home</a> <a href=\"/latest\">Latest</a> \
         <a href=\"/about\">About</a></nav></header>\n<main><article><h2>Today's picks</h2>\n\
         <p>Fresh stories, clips and comments from our readers, updated every hour.</p>\n\
         <ul><li><a href=\"/p/4411\">Spring in the mountains</a></li>\
         <li><a href=\"/p/4410\">Ten quick dinners</a></li>\
         <li><a href=\"/p/4407\">The weekend match report</a></li></ul>\n\
         </article></main>\n<footer>&copy; 2024 {title}</footer>\n</body></html>\n"
    );
    response(
        200,
        "OK",
        &[
            ("Server", "nginx"),
            ("Date", DATE),
            ("Content-Type", "text/html; charset=utf-8"),
            ("Cache-Control", "max-age=300"),
            ("Connection", "keep-alive"),
        ],
        &body,
    )
}

// ------------------------------------------------------------ positives

/// Server of the injected positives, 12 hops away.
const BLOCKED_SERVER: [u8; 4] = [198, 51, 100, 87];
/// Where the real servers' IP ID counters stand at the start.
const SERVER_IP_IDS: u16 = 0x5E21;

const IRAN_HOST: &str = "www.blocked-news.example";

/// Iran's injected page: a 403 whose body is an iframe to the national
/// blockpage at 10.10.34.34. Matches OONI `ooni.ir_0` (body contains
/// `iframe src="http://10.10`), `cl.nat_ir_iframe_forward_ipv4` and
/// `cp.b_nat_ir_national_2` (`10.10.34.34`).
fn iran_iframe_page() -> Vec<u8> {
    response(
        403,
        "Forbidden",
        &[("Connection", "close")],
        "<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=windows-1256\">\
         <title>M1-2</title></head><body><iframe src=\"http://10.10.34.34?type=Invalid Site&policy=MainPolicy\" \
         style=\"width: 100%; height: 100%\" scrolling=\"no\" marginwidth=\"0\" marginheight=\"0\" \
         frameborder=\"0\" vspace=\"0\" hspace=\"0\"></iframe></body></html>",
    )
}

fn iran_iframe_blockpage_injected() -> Result<Vec<u8>, SynthError> {
    let mut sc = Scenario::new(401);
    let [a, b, c, d] = BLOCKED_SERVER;
    let e = ends(&mut sc, v4(a, b, c, d), 50, SERVER_IP_IDS);
    let mut conn = http_conn(&mut sc, &e, 140 * MS)?;
    let req = open_and_get(&mut conn, &mut sc, T0, IRAN_HOST, "/")?;
    let mut f = Forger {
        ttl: 59,
        ip_id: 0x0001,
        step: 1,
        df: false,
        window: None,
    };
    let acked = inject_then_fin(
        &mut conn,
        &mut sc,
        &mut f,
        req + 2_300 * US,
        &iran_iframe_page(),
    )?;
    // The filter drops the request and everything after it: the client's
    // FIN goes unanswered before the capture ends.
    conn.fin(&mut sc, Side::Client, acked + 870 * US)?;
    Ok(eth_pcap(sc))
}

const RU_HOST: &str = "www.banned-video.example";

/// Rostelecom's redirect to its warning page: OONI `ooni.ru_6`
/// (header.location prefix `http://warning.rt.ru`).
fn russia_warning_redirect_response() -> Vec<u8> {
    response(
        302,
        "Found",
        &[
            (
                "Location",
                "http://warning.rt.ru/?id=17&st=0&dt=198.51.100.87&rs=http%3A%2F%2Fwww.banned-video.example%2F",
            ),
            ("Connection", "close"),
        ],
        "",
    )
}

fn russia_warning_redirect() -> Result<Vec<u8>, SynthError> {
    let mut sc = Scenario::new(402);
    let [a, b, c, d] = BLOCKED_SERVER;
    let e = ends(&mut sc, v4(a, b, c, d), 54, SERVER_IP_IDS);
    let mut conn = http_conn(&mut sc, &e, 120 * MS)?;
    let req = open_and_get(&mut conn, &mut sc, T0, RU_HOST, "/")?;
    let (x, a) = (conn.next_seq(Side::Server), conn.next_seq(Side::Client));
    let mut f = Forger {
        ttl: 250,
        ip_id: 0x6B90,
        step: 0,
        df: true,
        window: Some(0x2000),
    };
    let acked = inject_then_fin(
        &mut conn,
        &mut sc,
        &mut f,
        req + 1_600 * US,
        &russia_warning_redirect_response(),
    )?;
    // The DPI box watches a copy of the traffic; the request reaches the
    // server, whose page arrives after the client has closed.
    real_response_after_close(
        &mut conn,
        &mut sc,
        acked + 600 * US,
        req,
        x,
        a,
        &real_page("Banned Video"),
    )?;
    Ok(eth_pcap(sc))
}

const SA_HOST: &str = "www.dating-site.example";

/// A WireFilter appliance's 403: OONI `ooni.ae_0` (header.server prefix
/// `Protected by WireFilter`).
fn wirefilter_page() -> Vec<u8> {
    response(
        403,
        "Forbidden",
        &[
            ("Server", "Protected by WireFilter 8000 (KSA)"),
            ("Content-Type", "text/html"),
            ("Connection", "close"),
        ],
        "<html><head><title>Site unreachable</title></head><body>\
         <p>The site you requested is not reachable from this network.</p></body></html>",
    )
}

fn wirefilter_server_header() -> Result<Vec<u8>, SynthError> {
    let mut sc = Scenario::new(403);
    let e = ends(&mut sc, v4(198, 51, 100, 31), 49, 0x1F3A);
    let mut conn = http_conn(&mut sc, &e, 150 * MS)?;
    let req = open_and_get(&mut conn, &mut sc, T0, SA_HOST, "/")?;
    let mut f = Forger {
        ttl: 61,
        ip_id: 0xA3C0,
        step: 1,
        df: false,
        window: Some(5840),
    };
    inject_then_rst(
        &mut conn,
        &mut sc,
        &mut f,
        req + 3_400 * US,
        &wirefilter_page(),
    )?;
    Ok(eth_pcap(sc))
}

const SQUID_HOST: &str = "www.gaming-forum.example";

/// A Squid ERR_ACCESS_DENIED page in its usual shape (shortened, in our own
/// words apart from the fingerprinted stylesheet comment and the title).
/// Matches `cl.prod_squid_error_page` (body contains `Stylesheet for Squid
/// Error pages`, scope prod, confidence 10).
fn squid_access_denied() -> Vec<u8> {
    let body = "<!DOCTYPE html PUBLIC \"-//W3C//DTD HTML 4.01//EN\" \"http://www.w3.org/TR/html4/strict.dtd\">\n\
<html><head>\n<meta http-equiv=\"Content-Type\" content=\"text/html; charset=utf-8\">\n\
<title>ERROR: The requested URL could not be retrieved</title>\n\
<style type=\"text/css\"><!--\n /*\n Stylesheet for Squid Error pages\n*/\n\
html body { margin: 0; padding: 0; background: #efefef; font-size: 12px; }\n\
#content { padding: 10px; background: #ffffff; }\n--></style>\n\
</head><body id=ERR_ACCESS_DENIED>\n\
<div id=\"titles\"><h1>ERROR</h1><h2>The requested URL could not be retrieved</h2></div>\n<hr>\n\
<div id=\"content\">\n<p>While fetching <a href=\"http://www.gaming-forum.example/\">http://www.gaming-forum.example/</a> \
the proxy stopped with this error:</p>\n\
<blockquote id=\"error\"><p><b>Access Denied.</b></p></blockquote>\n\
<p>The proxy's rules do not let this request through. Ask the network's administrators if you think this is wrong.</p>\n\
</div>\n<hr>\n<div id=\"footer\"><p>Generated Tue, 14 May 2024 09:30:00 GMT by proxy (squid/4.13)</p></div>\n\
</body></html>\n";
    response(
        403,
        "Forbidden",
        &[
            ("Server", "squid/4.13"),
            ("Mime-Version", "1.0"),
            ("Date", DATE),
            ("Content-Type", "text/html;charset=utf-8"),
            ("X-Squid-Error", "ERR_ACCESS_DENIED 0"),
            ("Vary", "Accept-Language"),
            ("Content-Language", "en"),
            ("X-Cache", "MISS from proxy"),
            ("X-Cache-Lookup", "NONE from proxy:3128"),
            ("Via", "1.1 proxy (squid/4.13)"),
            ("Connection", "keep-alive"),
        ],
        body,
    )
}

fn squid_access_denied_proxy() -> Result<Vec<u8>, SynthError> {
    let mut sc = Scenario::new(404);
    // The interception proxy one hop away answers the handshake itself
    // (with the server's address), so every packet is its own: one TTL, one
    // IP ID counter, one window, its own short round trip.
    let e = ends(&mut sc, v4(198, 51, 100, 140), 63, 0x0C41);
    let mut conn = http_conn(&mut sc, &e, 11 * MS)?;
    let req = open_and_get(&mut conn, &mut sc, T0, SQUID_HOST, "/")?;
    let resp = squid_access_denied();
    one_segment(&conn, &resp)?;
    let at = req + conn.delay(&sc, Side::Server) + THINK;
    let sent = conn.send_segments(&mut sc, Side::Server, at, &resp)?;
    let t = conn.ack_segments(&mut sc, Side::Server, &sent)?;
    conn.close(&mut sc, Side::Client, t + 1_300 * US)?;
    Ok(eth_pcapng(sc))
}

const UNKNOWN_HOST: &str = "www.video-portal.example";

/// A short page no fingerprint knows and with no blocking words.
fn page_unavailable() -> Vec<u8> {
    response(
        200,
        "OK",
        &[("Content-Type", "text/html"), ("Connection", "close")],
        "<html><head><title>Notice</title></head><body><p>Page unavailable</p></body></html>",
    )
}

fn injected_unknown_page_with_race() -> Result<Vec<u8>, SynthError> {
    let mut sc = Scenario::new(405);
    let [a, b, c, d] = BLOCKED_SERVER;
    let e = ends(&mut sc, v4(a, b, c, d), 52, SERVER_IP_IDS);
    let mut conn = http_conn(&mut sc, &e, 170 * MS)?;
    let req = open_and_get(&mut conn, &mut sc, T0, UNKNOWN_HOST, "/")?;
    let (x, a) = (conn.next_seq(Side::Server), conn.next_seq(Side::Client));
    let mut f = Forger {
        ttl: 113,
        ip_id: 0x0D2C,
        step: 1,
        df: true,
        window: None,
    };
    let acked = inject_then_fin(
        &mut conn,
        &mut sc,
        &mut f,
        req + 3_100 * US,
        &page_unavailable(),
    )?;
    real_response_after_close(
        &mut conn,
        &mut sc,
        acked + 1_050 * US,
        req,
        x,
        a,
        &real_page("Video Portal"),
    )?;
    Ok(eth_pcap(sc))
}

const NO_RACE_HOST: &str = "www.chat-forum.example";

fn injected_unknown_page_no_race() -> Result<Vec<u8>, SynthError> {
    let mut sc = Scenario::new(406);
    let e = ends(&mut sc, v4(198, 51, 100, 52), 52, 0x33B0);
    let mut conn = http_conn(&mut sc, &e, 160 * MS)?;
    let req = open_and_get(&mut conn, &mut sc, T0, NO_RACE_HOST, "/")?;
    let mut f = Forger {
        ttl: 44,
        ip_id: 0xE871,
        step: 1,
        df: true,
        window: None,
    };
    let page = response(
        200,
        "OK",
        &[("Content-Type", "text/html"), ("Connection", "close")],
        "<html><body><h3>This page cannot be displayed right now.</h3></body></html>",
    );
    inject_then_rst(&mut conn, &mut sc, &mut f, req + 2_700 * US, &page)?;
    Ok(eth_pcap(sc))
}

const DOWNLOAD_HOST: &str = "download.media-player.example";
/// Where the forced redirect sends the download: an invented public-looking
/// address (not a documentation or special-purpose range).
const REDIRECT_IP: &str = "91.207.61.44";

fn injected_307_to_ip_address() -> Result<Vec<u8>, SynthError> {
    let mut sc = Scenario::new(407);
    let e = ends(&mut sc, v4(198, 51, 100, 96), 47, 0x7A02);
    let mut conn = http_conn(&mut sc, &e, 130 * MS)?;
    let req = open_and_get(
        &mut conn,
        &mut sc,
        T0,
        DOWNLOAD_HOST,
        "/files/player-setup-4.2.exe",
    )?;
    let mut f = Forger {
        ttl: 60,
        ip_id: 0x3412,
        step: 0,
        df: false,
        window: None,
    };
    let location = format!("http://{REDIRECT_IP}/d/player-setup-4.2.exe?src=dl");
    let resp = response(
        307,
        "Temporary Redirect",
        &[
            ("Location", &location),
            ("Content-Type", "text/html"),
            ("Connection", "close"),
        ],
        "<html><body>Redirecting</body></html>",
    );
    let acked = inject_then_fin(&mut conn, &mut sc, &mut f, req + 1_900 * US, &resp)?;
    // The device dropped the request; the client closes and goes on to the
    // address it was sent to (another flow, not in this capture).
    conn.fin(&mut sc, Side::Client, acked + 420 * US)?;
    Ok(eth_pcap(sc))
}

const NOTICE_HOST: &str = "www.suspended-forum.example";

/// A hosting provider's notice in place of a suspended site: blocking words
/// that no OONI or Censored Planet row matches.
fn court_order_notice() -> Vec<u8> {
    response(
        200,
        "OK",
        &[
            ("Server", "nginx"),
            ("Date", DATE),
            ("Content-Type", "text/html; charset=utf-8"),
            ("Connection", "keep-alive"),
        ],
        "<!doctype html>\n<html><head><title>Website unavailable</title></head><body>\n\
         <h1>This website is unavailable</h1>\n\
         <p>Access to this website has been blocked in accordance with a court order \
         (case 2-1187/2024). The hosting provider will restore it once the order is lifted.</p>\n\
         </body></html>\n",
    )
}

/// A GET for `host` and `path` answered by the server itself after the
/// round trip and its think time, then a client close 3 ms later.
#[allow(clippy::too_many_arguments)]
fn server_answers(
    seed: u64,
    server: IpAddr,
    ttl: u8,
    ip_id: u16,
    rtt: i64,
    think: i64,
    host: &str,
    path: &str,
    resp: &[u8],
) -> Result<Scenario, SynthError> {
    let mut sc = Scenario::new(seed);
    let e = ends(&mut sc, server, ttl, ip_id);
    let mut conn = sc.tcp(e.client, e.server, TcpParams::new(80).rtt(rtt).think(think))?;
    one_segment(&conn, resp)?;
    let t = conn.handshake(&mut sc, T0)? + REQUEST_AFTER;
    let req = HttpRequest::get(host, path).encode();
    let t = conn.exchange(&mut sc, t, &req, resp)?;
    conn.close(&mut sc, Side::Client, t + 3 * MS)?;
    Ok(sc)
}

fn generic_block_notice_from_server() -> Result<Vec<u8>, SynthError> {
    let sc = server_answers(
        408,
        v4(198, 51, 100, 23),
        52,
        0x4C1D,
        150 * MS,
        THINK,
        NOTICE_HOST,
        "/",
        &court_order_notice(),
    )?;
    Ok(eth_pcap(sc))
}

const GEO_HOST: &str = "www.tv-streams.example";

fn geoblock_451_from_site() -> Result<Vec<u8>, SynthError> {
    let resp = response(
        451,
        "Unavailable For Legal Reasons",
        &[
            ("Server", "nginx"),
            ("Date", DATE),
            ("Content-Type", "text/html; charset=utf-8"),
            ("Cache-Control", "no-store"),
            ("Connection", "keep-alive"),
        ],
        "<!doctype html>\n<html><head><title>Not available in your region</title></head><body>\n\
         <h1>Sorry!</h1>\n<p>This content is not available in your country because of \
         licensing restrictions.</p>\n</body></html>\n",
    );
    let sc = server_answers(
        409,
        v4(198, 51, 100, 61),
        53,
        0x21E4,
        165 * MS,
        5 * MS,
        GEO_HOST,
        "/live/channel-4",
        &resp,
    )?;
    Ok(eth_pcap(sc))
}

const BANNED_HOST: &str = "www.banned-site.example";

/// Names looked up before the blocked one, with their genuine addresses.
const BASELINE: [(&str, [u8; 4]); 3] = [
    ("www.weather-site.com", [104, 18, 22, 51]),
    ("api.shop-site.net", [13, 224, 5, 31]),
    ("img.photo-site.org", [151, 101, 129, 91]),
];
/// When each baseline lookup leaves, after T0, and what it adds to the
/// resolver's round trip.
const BASELINE_AT: [(i64, i64); 3] = [
    (0, 1_284 * US),
    (1_312 * MS, 3_117 * US),
    (2_478 * MS, 412 * US),
];

/// The national blockpage at 10.10.34.34 (invented text around the link
/// OONI `ooni.ir_3` matches: body contains `peyvandha.ir/1-2`).
fn iran_national_blockpage() -> Vec<u8> {
    response(
        200,
        "OK",
        &[
            ("Content-Type", "text/html; charset=utf-8"),
            ("Connection", "keep-alive"),
        ],
        "<html><head><meta charset=\"utf-8\"><title>peyvandha</title></head>\
         <body style=\"margin:0\"><div dir=\"rtl\" style=\"text-align:center\">\
         <a href=\"http://peyvandha.ir/1-2.htm\"><img src=\"http://peyvandha.ir/1-2.jpg\" \
         width=\"100%\"></a></div></body></html>",
    )
}

fn dns_to_blockpage_ip_then_fetch() -> Result<Vec<u8>, SynthError> {
    let mut sc = Scenario::new(410);
    sc.set_local_delay(LOCAL_DELAY);
    let client = sc.add_host(Host::local(v4(192, 168, 1, 20)).with_mac(CLIENT_MAC));
    // A public resolver: TTL 117 at the client, random IP IDs, DF clear.
    let resolver = sc.add_host(
        Host::remote(v4(8, 8, 8, 8), 117)
            .with_mac(ROUTER_MAC)
            .with_ip_id(IpIdMode::Random)
            .with_dont_fragment(false),
    );
    let dns_rtt = 38 * MS;
    for ((name, addr), (at, jitter)) in BASELINE.into_iter().zip(BASELINE_AT) {
        let id = sc.rng().next_u16();
        let q = DnsMessage::query(id, name, TYPE_A).with_edns(1232, false);
        let r = DnsMessage::response_to(&q, RCODE_NOERROR).answer(DnsRecord::a(
            name,
            300,
            Ipv4Addr::from(addr),
        ));
        sc.dns_exchange(
            T0 + at,
            client,
            resolver,
            dns_rtt + jitter,
            &q.encode(),
            &r.encode(),
        )?;
    }
    let id = sc.rng().next_u16();
    let q = DnsMessage::query(id, BANNED_HOST, TYPE_A).with_edns(1232, false);
    let r = DnsMessage::response_to(&q, RCODE_NOERROR).answer(DnsRecord::a(
        BANNED_HOST,
        300,
        Ipv4Addr::new(10, 10, 34, 34),
    ));
    let ex = sc.dns_exchange(
        T0 + 3_905 * MS,
        client,
        resolver,
        dns_rtt + 1_529 * US,
        &q.encode(),
        &r.encode(),
    )?;
    // The blockpage server inside the country: 4 hops, a short round trip.
    let bp = sc.add_host(
        Host::remote(v4(10, 10, 34, 34), 60)
            .with_mac(ROUTER_MAC)
            .with_ip_id(IpIdMode::Counter {
                start: 0x0B55,
                step: 1,
            }),
    );
    let mut conn = sc.tcp(client, bp, TcpParams::new(80).rtt(23 * MS).think(MS))?;
    let page = iran_national_blockpage();
    one_segment(&conn, &page)?;
    let t = conn.handshake(&mut sc, ex.response_ts + 2 * MS)? + REQUEST_AFTER;
    let t = conn.exchange(
        &mut sc,
        t,
        &HttpRequest::get(BANNED_HOST, "/").encode(),
        &page,
    )?;
    conn.close(&mut sc, Side::Client, t + 2 * MS)?;
    Ok(eth_pcap(sc))
}

const V6_HOST: &str = "www.blocked-forum.example";

fn injected_302_to_other_site_ipv6() -> Result<Vec<u8>, SynthError> {
    let mut sc = Scenario::new(411);
    let e = ends(&mut sc, v6("2001:db8:bad::80"), 55, 0);
    let mut conn = http_conn(&mut sc, &e, 150 * MS)?;
    let req = open_and_get(&mut conn, &mut sc, T0, V6_HOST, "/threads/latest")?;
    let (x, a) = (conn.next_seq(Side::Server), conn.next_seq(Side::Client));
    let mut f = Forger {
        ttl: 62,
        ip_id: 0,
        step: 0,
        df: false,
        window: None,
    };
    let resp = response(
        302,
        "Found",
        &[
            (
                "Location",
                "http://notice.isp-filter.example/?u=www.blocked-forum.example%2Fthreads%2Flatest",
            ),
            ("Connection", "close"),
        ],
        "",
    );
    let acked = inject_then_fin(&mut conn, &mut sc, &mut f, req + 2_200 * US, &resp)?;
    real_response_after_close(
        &mut conn,
        &mut sc,
        acked + 700 * US,
        req,
        x,
        a,
        &real_page("Blocked Forum"),
    )?;
    Ok(eth_pcapng(sc))
}

// ------------------------------------------------------------ benign twins

/// nginx's page for a status (what it sends with `server_tokens off`).
fn nginx_status_page(code: &str) -> String {
    format!(
        "<html>\r\n<head><title>{code}</title></head>\r\n<body>\r\n\
         <center><h1>{code}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
    )
}

const NEWS_HOST: &str = "www.daily-news.example";

fn http_to_https_301_same_site() -> Result<Vec<u8>, SynthError> {
    let resp = response(
        301,
        "Moved Permanently",
        &[
            ("Server", "nginx"),
            ("Date", DATE),
            ("Content-Type", "text/html"),
            ("Connection", "keep-alive"),
            ("Location", "https://www.daily-news.example/"),
        ],
        &nginx_status_page("301 Moved Permanently"),
    );
    let sc = server_answers(
        412,
        v4(198, 51, 100, 71),
        52,
        0x2D90,
        145 * MS,
        THINK,
        NEWS_HOST,
        "/",
        &resp,
    )?;
    Ok(eth_pcap(sc))
}

const BAKERY_HOST: &str = "bakery-site.example";

fn www_canonicalisation_301() -> Result<Vec<u8>, SynthError> {
    let resp = response(
        301,
        "Moved Permanently",
        &[
            ("Date", DATE),
            ("Server", "Apache/2.4.58 (Ubuntu)"),
            ("Location", "http://www.bakery-site.example/"),
            ("Content-Type", "text/html; charset=iso-8859-1"),
        ],
        "<!DOCTYPE HTML PUBLIC \"-//IETF//DTD HTML 2.0//EN\">\n<html><head>\n\
         <title>301 Moved Permanently</title>\n</head><body>\n<h1>Moved Permanently</h1>\n\
         <p>The document has moved <a href=\"http://www.bakery-site.example/\">here</a>.</p>\n\
         <hr>\n<address>Apache/2.4.58 (Ubuntu) Server at bakery-site.example Port 80</address>\n\
         </body></html>\n",
    );
    let sc = server_answers(
        413,
        v4(198, 51, 100, 12),
        50,
        0x6611,
        125 * MS,
        THINK,
        BAKERY_HOST,
        "/",
        &resp,
    )?;
    Ok(eth_pcap(sc))
}

const WIKI_HOST: &str = "app.team-wiki.example";

fn login_redirect_same_site() -> Result<Vec<u8>, SynthError> {
    let resp = response(
        302,
        "Found",
        &[
            ("Server", "gunicorn"),
            ("Date", DATE),
            ("Location", "/login?next=%2Faccount"),
            ("Set-Cookie", "csrftoken=q3XbT1; Path=/; SameSite=Lax"),
            ("Vary", "Cookie"),
        ],
        "",
    );
    let sc = server_answers(
        414,
        v4(198, 51, 100, 44),
        51,
        0x0E07,
        135 * MS,
        4 * MS,
        WIKI_HOST,
        "/account",
        &resp,
    )?;
    Ok(eth_pcap(sc))
}

const TICKET_HOST: &str = "www.ticket-shop.example";

/// A Cloudflare managed challenge ("Just a moment..."), shortened. Its
/// footer's `Ray ID:` is Censored Planet's false-positive row
/// `x_cloudflare_error_1` (OONI `cp.fp_x_cloudflare_error_1`); no blocking
/// row matches it.
fn cloudflare_challenge() -> Vec<u8> {
    response(
        403,
        "Forbidden",
        &[
            ("Date", DATE),
            ("Content-Type", "text/html; charset=UTF-8"),
            ("Connection", "keep-alive"),
            ("cf-mitigated", "challenge"),
            (
                "Cache-Control",
                "private, max-age=0, no-store, no-cache, must-revalidate, post-check=0, pre-check=0",
            ),
            ("Server", "cloudflare"),
            ("CF-RAY", "8837c2a9fb1e5e21-FRA"),
        ],
        "<!DOCTYPE html><html lang=\"en-US\"><head><title>Just a moment...</title>\
         <meta http-equiv=\"Content-Type\" content=\"text/html; charset=UTF-8\">\
         <meta name=\"robots\" content=\"noindex,nofollow\">\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\"></head><body>\
         <div class=\"main-wrapper\" role=\"main\"><div class=\"main-content\">\
         <h1 class=\"zone-name-title h1\">www.ticket-shop.example</h1>\
         <h2 class=\"h2\">Verifying you are human. This may take a few seconds.</h2>\
         <noscript><div class=\"h2\">Enable JavaScript and cookies to continue</div></noscript>\
         </div></div><div class=\"footer\" role=\"contentinfo\"><div class=\"footer-inner\">\
         <div class=\"text-center\">Ray ID: <code>8837c2a9fb1e5e21</code></div>\
         <div class=\"text-center\">Performance &amp; security by Cloudflare</div>\
         </div></div></body></html>",
    )
}

fn cloudflare_challenge_403() -> Result<Vec<u8>, SynthError> {
    // A Cloudflare edge in the same city: 7 hops, a short round trip.
    let sc = server_answers(
        415,
        v4(198, 51, 100, 200),
        57,
        0x5A5A,
        18 * MS,
        3 * MS,
        TICKET_HOST,
        "/events/summer-festival",
        &cloudflare_challenge(),
    )?;
    Ok(eth_pcap(sc))
}

const FRESH_HOST: &str = "www.fresh-install.example";

/// nginx's welcome page on a freshly installed server: Censored Planet's
/// false-positive rows `x_fpru_nginx` (`<p><em>Thank you for using
/// nginx.</em></p>`) and `satellite_fp_nginx_welcome` (`Welcome to nginx!`).
fn nginx_welcome() -> Vec<u8> {
    response(
        200,
        "OK",
        &[
            ("Server", "nginx/1.24.0 (Ubuntu)"),
            ("Date", DATE),
            ("Content-Type", "text/html"),
            ("Last-Modified", "Mon, 13 May 2024 18:02:11 GMT"),
            ("Connection", "keep-alive"),
            ("ETag", "\"66425533-267\""),
            ("Accept-Ranges", "bytes"),
        ],
        "<!DOCTYPE html>\n<html>\n<head>\n<title>Welcome to nginx!</title>\n<style>\n\
         html { color-scheme: light dark; }\nbody { width: 35em; margin: 0 auto;\n\
         font-family: Tahoma, Verdana, Arial, sans-serif; }\n</style>\n</head>\n<body>\n\
         <h1>Welcome to nginx!</h1>\n<p>If you see this page, the nginx web server is \
         successfully installed and\nworking. Further configuration is required.</p>\n\n\
         <p>For online documentation and support please refer to\n\
         <a href=\"http://nginx.org/\">nginx.org</a>.<br/>\n\
         Commercial support is available at\n<a href=\"http://nginx.com/\">nginx.com</a>.</p>\n\n\
         <p><em>Thank you for using nginx.</em></p>\n</body>\n</html>\n",
    )
}

fn nginx_default_page() -> Result<Vec<u8>, SynthError> {
    let sc = server_answers(
        416,
        v4(198, 51, 100, 150),
        49,
        0x7301,
        175 * MS,
        MS,
        FRESH_HOST,
        "/",
        &nginx_welcome(),
    )?;
    Ok(eth_pcap(sc))
}

const MIRROR_HOST: &str = "files.mirror-site.example";

fn genuine_403_forbidden() -> Result<Vec<u8>, SynthError> {
    let resp = response(
        403,
        "Forbidden",
        &[
            ("Server", "nginx"),
            ("Date", DATE),
            ("Content-Type", "text/html"),
            ("Connection", "keep-alive"),
        ],
        &nginx_status_page("403 Forbidden"),
    );
    let sc = server_answers(
        417,
        v4(198, 51, 100, 9),
        52,
        0x1B6E,
        155 * MS,
        MS,
        MIRROR_HOST,
        "/private/",
        &resp,
    )?;
    Ok(eth_pcap(sc))
}

const REPORT_HOST: &str = "reports.analytics-site.example";

fn slow_server_response() -> Result<Vec<u8>, SynthError> {
    // 2.6 s of think time: the server ACKs the request on its own after its
    // 40 ms delayed-ACK timer, and the page follows much later.
    let sc = server_answers(
        418,
        v4(198, 51, 100, 180),
        52,
        0x48F2,
        160 * MS,
        2_600 * MS,
        REPORT_HOST,
        "/report?year=2023",
        &real_page("Annual Report"),
    )?;
    Ok(eth_pcap(sc))
}

const SHORT_HOST: &str = "go.short-link.example";

fn short_link_redirect_to_other_site() -> Result<Vec<u8>, SynthError> {
    let target = "https://www.recipe-blog.example/2024/05/lemon-tart";
    let resp = response(
        301,
        "Moved Permanently",
        &[
            ("Server", "nginx"),
            ("Date", DATE),
            ("Content-Type", "text/html; charset=utf-8"),
            ("Cache-Control", "private, max-age=90"),
            ("Location", target),
            ("Connection", "keep-alive"),
        ],
        &format!(
            "<html>\n<head><title>go.short-link.example</title></head>\n\
             <body><a href=\"{target}\">moved here</a></body>\n</html>"
        ),
    );
    let sc = server_answers(
        419,
        v4(198, 51, 100, 120),
        54,
        0x39C4,
        128 * MS,
        THINK,
        SHORT_HOST,
        "/x7Kp2",
        &resp,
    )?;
    Ok(eth_pcap(sc))
}

const API_HOST: &str = "status.tiny-api.example";

fn server_fin_after_response() -> Result<Vec<u8>, SynthError> {
    let mut sc = Scenario::new(420);
    let e = ends(&mut sc, v4(198, 51, 100, 66), 52, 0x6C08);
    let mut conn = http_conn(&mut sc, &e, 150 * MS)?;
    let req = open_and_get(&mut conn, &mut sc, T0, API_HOST, "/health")?;
    let resp = response(
        200,
        "OK",
        &[
            ("Server", "nginx"),
            ("Date", DATE),
            ("Content-Type", "application/json"),
            ("Connection", "close"),
        ],
        "{\"status\":\"ok\"}\n",
    );
    // The server answers after the round trip with its usual headers and
    // closes at once (Connection: close): data and FIN back to back.
    let at = req + conn.delay(&sc, Side::Server) + THINK;
    conn.send_segments(&mut sc, Side::Server, at, &resp)?;
    conn.fin(&mut sc, Side::Server, at + GAP)?;
    let d = conn.delay(&sc, Side::Client);
    conn.ack(&mut sc, Side::Client, at + GAP + d)?;
    let cfin = at + GAP + d + 180 * US;
    conn.fin(&mut sc, Side::Client, cfin)?;
    let srv = conn.delay(&sc, Side::Server);
    conn.ack(&mut sc, Side::Server, cfin + srv)?;
    Ok(eth_pcap(sc))
}

// ------------------------------------------------------------ catalogue

/// Facts every benign twin carries: no blockpage finding and no injection
/// finding, plus the Host of its request.
fn benign(host: &'static str) -> Vec<Fact> {
    vec![
        Fact::NoFinding { class: "blockpage" },
        Fact::NoFinding {
            class: "rst_injection",
        },
        Fact::HttpHost(host),
    ]
}

/// The blockpage/ fixtures with their ground truth, in README order.
pub(crate) fn blockpage_fixtures() -> Vec<Fixture> {
    vec![
        Fixture {
            path: "blockpage/iran-iframe-blockpage-injected.pcap",
            description: "Iran: GET for www.blocked-news.example (frame 4) answered after 2.3 ms of a 140 ms round trip by a forged 403 (frame 5; TTL 59 where the server's packets have 50, IP ID 1 against the server's counter, DF clear) whose body is the iframe to http://10.10.34.34 (OONI ooni.ir_0 and cl.nat_ir_iframe_forward_ipv4), then a forged FIN (frame 6); the client ACKs and closes, the real server never answers.",
            build: iran_iframe_blockpage_injected,
            truth: GroundTruth {
                frames: 8,
                first_ts_ns: Some(T0),
                last_ts_ns: Some(T0 + 143_414_000),
                tcp_flows: 1,
                udp_flows: 0,
                facts: vec![Fact::Finding { kind: "http_blockpage", min_confidence: "high", frames: &[4, 5] }, Fact::HttpHost(IRAN_HOST)],
                partial: false,
            },
        },
        Fixture {
            path: "blockpage/russia-warning-redirect.pcap",
            description: "Russia: an on-path box answers the GET for www.banned-video.example (frame 4) after 1.6 ms of a 120 ms round trip with a 302 to http://warning.rt.ru/?... (frame 5, OONI ooni.ru_6; TTL 250 where the server has 54, a fixed IP ID, window 8192) and a FIN (frame 6); the real server's 200 over the same sequence numbers arrives at frame 9 and meets the closed client's RST.",
            build: russia_warning_redirect,
            truth: GroundTruth {
                frames: 12,
                first_ts_ns: Some(T0),
                last_ts_ns: Some(T0 + 242_485_000),
                tcp_flows: 1,
                udp_flows: 0,
                facts: vec![Fact::Finding { kind: "http_blockpage", min_confidence: "high", frames: &[4, 5] }, Fact::HttpHost(RU_HOST)],
                partial: false,
            },
        },
        Fixture {
            path: "blockpage/wirefilter-server-header.pcap",
            description: "A path device answers the GET for www.dating-site.example (frame 4) 3.4 ms into a 150 ms round trip with a 403 carrying Server: Protected by WireFilter 8000 (KSA) (frame 5, OONI ooni.ae_0; TTL 61 where the server has 49, foreign IP ID, DF clear, window 5840) and a RST+ACK (frame 6).",
            build: wirefilter_server_header,
            truth: GroundTruth {
                frames: 6,
                first_ts_ns: Some(T0),
                last_ts_ns: Some(T0 + 153_603_000),
                tcp_flows: 1,
                udp_flows: 0,
                facts: vec![Fact::Finding { kind: "http_blockpage", min_confidence: "high", frames: &[4, 5] }, Fact::HttpHost(SA_HOST)],
                partial: false,
            },
        },
        Fixture {
            path: "blockpage/squid-access-denied-proxy.pcapng",
            description: "A transparent Squid one hop away intercepts the connection (it answers the handshake, 11 ms round trip, TTL 63, its own consistent headers) and returns ERR_ACCESS_DENIED (frame 5: Server: squid/4.13, X-Squid-Error: ERR_ACCESS_DENIED 0, Via: 1.1 proxy (squid/4.13)) for www.gaming-forum.example. The body matches prod row cl.prod_squid_error_page but also false-positive row cp.fp_p_fp_14 (The requested URL could not be retrieved), which silences it: a proxy's access-denied notice without tells.",
            build: squid_access_denied_proxy,
            truth: GroundTruth {
                frames: 9,
                first_ts_ns: Some(T0),
                last_ts_ns: Some(T0 + 36_573_000),
                tcp_flows: 1,
                udp_flows: 0,
                facts: vec![Fact::Finding { kind: "http_block_notice", min_confidence: "low", frames: &[4, 5] }, Fact::HttpHost(SQUID_HOST)],
                partial: false,
            },
        },
        Fixture {
            path: "blockpage/injected-unknown-page-with-race.pcap",
            description: "A short page no fingerprint knows (Page unavailable, frame 5) answers the GET for www.video-portal.example (frame 4) 3.1 ms into a 170 ms round trip with TTL 113 (server: 52) and a foreign IP ID, followed by a FIN (frame 6); the real server's 200 starts at the same sequence number with other bytes (frame 9) and is refused with a RST.",
            build: injected_unknown_page_with_race,
            truth: GroundTruth {
                frames: 12,
                first_ts_ns: Some(T0),
                last_ts_ns: Some(T0 + 344_435_000),
                tcp_flows: 1,
                udp_flows: 0,
                facts: vec![Fact::Finding { kind: "http_injected_response", min_confidence: "high", frames: &[4, 5, 9] }, Fact::HttpHost(UNKNOWN_HOST)],
                partial: false,
            },
        },
        Fixture {
            path: "blockpage/injected-unknown-page-no-race.pcap",
            description: "The same kind of unknown page for www.chat-forum.example (frame 5): 2.7 ms into a 160 ms round trip, TTL 44 where the server has 52, IP ID far from the server's counter, then a RST+ACK from the same forged sender (frame 6); the real server never answers.",
            build: injected_unknown_page_no_race,
            truth: GroundTruth {
                frames: 6,
                first_ts_ns: Some(T0),
                last_ts_ns: Some(T0 + 162_903_000),
                tcp_flows: 1,
                udp_flows: 0,
                facts: vec![Fact::Finding { kind: "http_injected_response", min_confidence: "medium", frames: &[4, 5] }, Fact::HttpHost(NO_RACE_HOST)],
                partial: false,
            },
        },
        Fixture {
            path: "blockpage/injected-307-to-ip-address.pcap",
            description: "A forced download redirect in the style of the injections Citizen Lab tied to Sandvine PacketLogic devices (Bad Traffic, 2018): the GET for /files/player-setup-4.2.exe on download.media-player.example (frame 4) gets, 1.9 ms into a 130 ms round trip, a 307 to http://91.207.61.44/d/... (frame 5; an invented address; TTL 60 where the server has 47, IP ID fixed at 0x3412, DF clear) and a FIN (frame 6).",
            build: injected_307_to_ip_address,
            truth: GroundTruth {
                frames: 8,
                first_ts_ns: Some(T0),
                last_ts_ns: Some(T0 + 132_564_000),
                tcp_flows: 1,
                udp_flows: 0,
                facts: vec![Fact::Finding { kind: "http_redirect_injected", min_confidence: "medium", frames: &[4, 5] }, Fact::HttpHost(DOWNLOAD_HOST)],
                partial: false,
            },
        },
        Fixture {
            path: "blockpage/generic-block-notice-from-server.pcap",
            description: "The server of www.suspended-forum.example itself, one round trip after the GET and with its own TTL, IP ID and window, returns a small page saying access to this website has been blocked in accordance with a court order (frame 5); no OONI or Censored Planet row matches the text.",
            build: generic_block_notice_from_server,
            truth: GroundTruth {
                frames: 9,
                first_ts_ns: Some(T0),
                last_ts_ns: Some(T0 + 455_273_000),
                tcp_flows: 1,
                udp_flows: 0,
                facts: vec![Fact::Finding { kind: "http_block_notice", min_confidence: "low", frames: &[4, 5] }, Fact::HttpHost(NOTICE_HOST)],
                partial: false,
            },
        },
        Fixture {
            path: "blockpage/geoblock-451-from-site.pcap",
            description: "The site www.tv-streams.example answers GET /live/channel-4 itself with 451 Unavailable For Legal Reasons and a page saying the content is not available in your country (frame 5), with normal timing and headers. Only Censored Planet's vague f_gen_451 pattern matches, and only if run over the status line.",
            build: geoblock_451_from_site,
            truth: GroundTruth {
                frames: 9,
                first_ts_ns: Some(T0),
                last_ts_ns: Some(T0 + 503_273_000),
                tcp_flows: 1,
                udp_flows: 0,
                facts: vec![Fact::Finding { kind: "http_geoblock", min_confidence: "low", frames: &[4, 5] }, Fact::HttpHost(GEO_HOST)],
                partial: false,
            },
        },
        Fixture {
            path: "blockpage/dns-to-blockpage-ip-then-fetch.pcap",
            description: "Three ordinary lookups at 8.8.8.8, then www.banned-site.example is answered 10.10.34.34 (frame 8, OONI DNS row ooni.ir_4) with the resolver's usual headers; the client connects to 10.10.34.34:80, sends the GET (frame 12) and receives Iran's national blockpage linking to peyvandha.ir/1-2 (frame 13, OONI ooni.ir_3).",
            build: dns_to_blockpage_ip_then_fetch,
            truth: GroundTruth {
                frames: 17,
                first_ts_ns: Some(T0),
                last_ts_ns: Some(T0 + 4_018_802_000),
                tcp_flows: 1,
                udp_flows: 4,
                facts: vec![Fact::Finding { kind: "dns_blockpage_fetch", min_confidence: "high", frames: &[8, 13] }, Fact::Finding { kind: "dns_blocking_address", min_confidence: "high", frames: &[8] }, Fact::DnsQuery("www.weather-site.com"), Fact::DnsQuery("api.shop-site.net"), Fact::DnsQuery("img.photo-site.org"), Fact::DnsQuery(BANNED_HOST), Fact::HttpHost(BANNED_HOST)],
                partial: false,
            },
        },
        Fixture {
            path: "blockpage/injected-302-to-other-site-ipv6.pcapng",
            description: "IPv6: the GET for www.blocked-forum.example (frame 4) gets, 2.2 ms into a 150 ms round trip, a 302 to http://notice.isp-filter.example/?u=... (frame 5; hop limit 62 where the server's packets have 55) and a FIN (frame 6); the real server's 200 over the same sequence numbers follows (frame 9) and meets the client's RST.",
            build: injected_302_to_other_site_ipv6,
            truth: GroundTruth {
                frames: 12,
                first_ts_ns: Some(T0),
                last_ts_ns: Some(T0 + 303_185_000),
                tcp_flows: 1,
                udp_flows: 0,
                facts: vec![Fact::Finding { kind: "http_redirect_injected", min_confidence: "high", frames: &[4, 5, 9] }, Fact::HttpHost(V6_HOST)],
                partial: false,
            },
        },
        Fixture {
            path: "blockpage/http-to-https-301-same-site.pcap",
            description: "Benign: www.daily-news.example's own nginx sends 301 to https://www.daily-news.example/ one round trip after the GET, with the TTL, next IP ID, DF and window of its SYN-ACK. No blockpage, no injection.",
            build: http_to_https_301_same_site,
            truth: GroundTruth {
                frames: 9,
                first_ts_ns: Some(T0),
                last_ts_ns: Some(T0 + 440_273_000),
                tcp_flows: 1,
                udp_flows: 0,
                facts: benign(NEWS_HOST),
                partial: false,
            },
        },
        Fixture {
            path: "blockpage/www-canonicalisation-301.pcap",
            description: "Benign: Apache on bakery-site.example redirects to http://www.bakery-site.example/ with its own headers and normal timing (the body matches false-positive row cp.fp_x_moved_here). No blockpage, no injection.",
            build: www_canonicalisation_301,
            truth: GroundTruth {
                frames: 9,
                first_ts_ns: Some(T0),
                last_ts_ns: Some(T0 + 380_273_000),
                tcp_flows: 1,
                udp_flows: 0,
                facts: benign(BAKERY_HOST),
                partial: false,
            },
        },
        Fixture {
            path: "blockpage/login-redirect-same-site.pcap",
            description: "Benign: app.team-wiki.example answers GET /account with 302 to the relative /login?next=%2Faccount and a cookie, from the server itself after the round trip. No blockpage, no injection.",
            build: login_redirect_same_site,
            truth: GroundTruth {
                frames: 9,
                first_ts_ns: Some(T0),
                last_ts_ns: Some(T0 + 412_273_000),
                tcp_flows: 1,
                udp_flows: 0,
                facts: benign(WIKI_HOST),
                partial: false,
            },
        },
        Fixture {
            path: "blockpage/cloudflare-challenge-403.pcap",
            description: "Benign: a nearby Cloudflare edge (18 ms round trip) answers with its 403 Just a moment... challenge, Server: cloudflare, CF-RAY and cf-mitigated: challenge, with consistent headers; its Ray ID: footer is false-positive row cp.fp_x_cloudflare_error_1 and no blocking row matches. No blockpage, no injection.",
            build: cloudflare_challenge_403,
            truth: GroundTruth {
                frames: 9,
                first_ts_ns: Some(T0),
                last_ts_ns: Some(T0 + 60_273_000),
                tcp_flows: 1,
                udp_flows: 0,
                facts: benign(TICKET_HOST),
                partial: false,
            },
        },
        Fixture {
            path: "blockpage/nginx-default-page.pcap",
            description: "Benign: a freshly installed server returns nginx's Welcome to nginx! page (false-positive rows cp.fp_x_fpru_nginx and cp.fp_satellite_fp_nginx_welcome) one round trip after the GET. No blockpage, no injection.",
            build: nginx_default_page,
            truth: GroundTruth {
                frames: 9,
                first_ts_ns: Some(T0),
                last_ts_ns: Some(T0 + 529_273_000),
                tcp_flows: 1,
                udp_flows: 0,
                facts: benign(FRESH_HOST),
                partial: false,
            },
        },
        Fixture {
            path: "blockpage/genuine-403-forbidden.pcap",
            description: "Benign: files.mirror-site.example's nginx answers GET /private/ with its stock 403 Forbidden page (false-positive row cp.fp_r_fp_1) after the round trip, headers consistent with its SYN-ACK. No blockpage, no injection.",
            build: genuine_403_forbidden,
            truth: GroundTruth {
                frames: 9,
                first_ts_ns: Some(T0),
                last_ts_ns: Some(T0 + 469_273_000),
                tcp_flows: 1,
                udp_flows: 0,
                facts: benign(MIRROR_HOST),
                partial: false,
            },
        },
        Fixture {
            path: "blockpage/slow-server-response.pcap",
            description: "Benign: reports.analytics-site.example ACKs the GET after its 40 ms delayed-ACK timer (frame 5) and sends the page 2.6 s later (frame 6), long after the 160 ms round trip, with its own TTL and next IP IDs. No blockpage, no injection.",
            build: slow_server_response,
            truth: GroundTruth {
                frames: 10,
                first_ts_ns: Some(T0),
                last_ts_ns: Some(T0 + 3_083_273_000),
                tcp_flows: 1,
                udp_flows: 0,
                facts: benign(REPORT_HOST),
                partial: false,
            },
        },
        Fixture {
            path: "blockpage/short-link-redirect-to-other-site.pcap",
            description: "Benign: the link shortener go.short-link.example answers GET /x7Kp2 with its own 301 to https://www.recipe-blog.example/2024/05/lemon-tart (another site) after the round trip, with consistent headers. No blockpage, no injection.",
            build: short_link_redirect_to_other_site,
            truth: GroundTruth {
                frames: 9,
                first_ts_ns: Some(T0),
                last_ts_ns: Some(T0 + 389_273_000),
                tcp_flows: 1,
                udp_flows: 0,
                facts: benign(SHORT_HOST),
                partial: false,
            },
        },
        Fixture {
            path: "blockpage/server-fin-after-response.pcap",
            description: "Benign: status.tiny-api.example answers GET /health with a small 200 (Connection: close) one round trip later and sends its FIN 12 microseconds after it (frame 6), both with the TTL, next IP IDs, DF and window of its SYN-ACK. No blockpage, no injection.",
            build: server_fin_after_response,
            truth: GroundTruth {
                frames: 9,
                first_ts_ns: Some(T0),
                last_ts_ns: Some(T0 + 452_424_000),
                tcp_flows: 1,
                udp_flows: 0,
                facts: benign(API_HOST),
                partial: false,
            },
        },
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synth::reference;

    /// The fields of one captured packet the checks look at.
    struct Pkt {
        ts: i64,
        src: IpAddr,
        ttl: u8,
        /// IPv4 only.
        ip_id: Option<u16>,
        df: Option<bool>,
        proto: u8,
        sport: u16,
        flags: u8,
        seq: u32,
        window: u16,
        payload: Vec<u8>,
    }

    fn pkt(ts: i64, ip: &[u8]) -> Pkt {
        let (proto, src, ttl, ip_id, df, l4) = if ip[0] >> 4 == 4 {
            let ihl = usize::from(ip[0] & 15) * 4;
            let total = usize::from(u16::from_be_bytes([ip[2], ip[3]]));
            let a: [u8; 4] = ip[12..16].try_into().unwrap();
            let id = u16::from_be_bytes([ip[4], ip[5]]);
            let df = ip[6] & 0x40 != 0;
            (
                ip[9],
                IpAddr::from(a),
                ip[8],
                Some(id),
                Some(df),
                &ip[ihl..total],
            )
        } else {
            let len = usize::from(u16::from_be_bytes([ip[4], ip[5]]));
            let a: [u8; 16] = ip[8..24].try_into().unwrap();
            (ip[6], IpAddr::from(a), ip[7], None, None, &ip[40..40 + len])
        };
        let be16 = |at: usize| u16::from_be_bytes([l4[at], l4[at + 1]]);
        let (flags, seq, window, payload) = match proto {
            6 => (
                l4[13],
                u32::from_be_bytes([l4[4], l4[5], l4[6], l4[7]]),
                be16(14),
                l4[usize::from(l4[12] >> 4) * 4..].to_vec(),
            ),
            17 => (0, 0, 0, l4[8..].to_vec()),
            other => panic!("protocol {other}"),
        };
        Pkt {
            ts,
            src,
            ttl,
            ip_id,
            df,
            proto,
            sport: be16(0),
            flags,
            seq,
            window,
            payload,
        }
    }

    fn contains(hay: &[u8], needle: &[u8]) -> bool {
        hay.windows(needle.len()).any(|w| w == needle)
    }

    fn is_get(p: &Pkt) -> bool {
        p.proto == 6 && p.payload.starts_with(b"GET ")
    }

    fn is_response(p: &Pkt) -> bool {
        p.proto == 6 && p.payload.starts_with(b"HTTP/1.1 ")
    }

    fn status(p: &Pkt) -> u16 {
        std::str::from_utf8(&p.payload[9..12])
            .unwrap()
            .parse()
            .unwrap()
    }

    /// A header field's value in a message head.
    fn header(p: &Pkt, name: &str) -> Option<String> {
        let text = String::from_utf8_lossy(&p.payload).into_owned();
        let head = text.split("\r\n\r\n").next().unwrap_or("").to_string();
        head.lines().skip(1).find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case(name).then(|| v.trim().to_string())
        })
    }

    /// The last two labels of a name (every site here is under `.example`,
    /// `.com`, `.net`, `.org` or `.ru`).
    fn site(host: &str) -> String {
        let labels: Vec<&str> = host.split('.').collect();
        labels[labels.len().saturating_sub(2)..].join(".")
    }

    /// The host of an absolute http(s) URL; `None` for a relative one.
    fn url_host(url: &str) -> Option<String> {
        let rest = url.split_once("://")?.1;
        let end = rest.find(['/', '?', ':']).unwrap_or(rest.len());
        Some(rest[..end].to_string())
    }

    /// The server's handshake packet and the round-trip time.
    fn synack(pkts: &[Pkt]) -> (&Pkt, i64) {
        let syn = pkts.iter().position(|p| p.flags & 0x12 == 0x02).unwrap();
        let sa = pkts.iter().position(|p| p.flags & 0x12 == 0x12).unwrap();
        (&pkts[sa], pkts[sa].ts - pkts[syn].ts)
    }

    /// How many injection tells a response has against the SYN-ACK and the
    /// server's packets after the handshake.
    fn tells(pkts: &[Pkt], k: usize, req: &Pkt) -> usize {
        let (sa, rtt) = synack(pkts);
        let p = &pkts[k];
        let own_window = pkts
            .iter()
            .find(|q| q.src == sa.src && q.flags & 0x02 == 0 && q.ttl == sa.ttl)
            .map(|q| q.window);
        let fast = p.ts - req.ts < rtt / 2;
        let ttl = p.ttl.abs_diff(sa.ttl) > 2;
        let ip_id = match (p.ip_id, sa.ip_id) {
            (Some(a), Some(b)) => a.wrapping_sub(b) > 64,
            _ => false,
        };
        let df = p.df != sa.df;
        let window = own_window.is_some_and(|w| {
            let (a, b) = (u32::from(w.max(1)), u32::from(p.window.max(1)));
            a.max(b) > 4 * a.min(b)
        });
        let closes = pkts[k + 1..]
            .iter()
            .find(|q| q.src == p.src)
            .is_some_and(|q| q.flags & 0x05 != 0 && q.ttl == p.ttl && q.ts - p.ts < MS);
        [fast, ttl, ip_id, df, window, closes]
            .iter()
            .filter(|x| **x)
            .count()
    }

    /// The server's own response: one round trip or more after the request,
    /// with the SYN-ACK's TTL, DF and a following IP ID.
    fn assert_genuine(p: &Pkt, pkts: &[Pkt], req: &Pkt, what: &str) {
        let (sa, rtt) = synack(pkts);
        assert!(p.ts - req.ts >= rtt, "{what}: too fast");
        assert_eq!((p.ttl, p.df), (sa.ttl, sa.df), "{what}: headers");
        if let (Some(a), Some(b)) = (p.ip_id, sa.ip_id) {
            assert!(a.wrapping_sub(b) <= 8, "{what}: IP ID {a:#x} after {b:#x}");
        }
    }

    /// The fingerprinted string each fixture is built around.
    const PATTERNS: [(&str, &str); 5] = [
        ("iran-iframe", "iframe src=\"http://10.10"),
        ("russia-warning", "Location: http://warning.rt.ru"),
        ("wirefilter", "Server: Protected by WireFilter"),
        ("squid", "Stylesheet for Squid Error pages"),
        ("dns-to-blockpage", "peyvandha.ir/1-2"),
    ];

    #[test]
    fn synth_blockpage_fixtures_cite_the_packets_they_describe() {
        let all = blockpage_fixtures();
        assert_eq!(all.len(), 20);
        for f in all {
            let p = f.path;
            assert!(p.starts_with("blockpage/"), "{p}");
            let r = reference::read(&(f.build)().unwrap());
            let pkts: Vec<Pkt> = r
                .frames
                .iter()
                .map(|x| {
                    pkt(
                        x.ts_ns.unwrap(),
                        reference::ip_of(x.linktype, &x.data).unwrap(),
                    )
                })
                .collect();
            // One GET per fixture, naming its HttpHost fact.
            let hosts: Vec<&str> = f
                .truth
                .facts
                .iter()
                .filter_map(|x| match x {
                    Fact::HttpHost(n) => Some(*n),
                    _ => None,
                })
                .collect();
            let gets: Vec<usize> = (0..pkts.len()).filter(|&k| is_get(&pkts[k])).collect();
            assert_eq!((gets.len(), hosts.len()), (1, 1), "{p}");
            let req = &pkts[gets[0]];
            let host = hosts[0];
            assert!(
                contains(&req.payload, format!("\r\nHost: {host}\r\n").as_bytes()),
                "{p}"
            );
            for (name, pattern) in PATTERNS {
                if p.contains(name) {
                    assert!(
                        pkts.iter()
                            .any(|x| contains(&x.payload, pattern.as_bytes())),
                        "{p}: {pattern}"
                    );
                }
            }
            let findings: Vec<(&str, &str, &[u64])> = f
                .truth
                .facts
                .iter()
                .filter_map(|x| match x {
                    Fact::Finding {
                        kind,
                        min_confidence,
                        frames,
                    } => Some((*kind, *min_confidence, *frames)),
                    _ => None,
                })
                .collect();
            let benign = f
                .truth
                .facts
                .contains(&Fact::NoFinding { class: "blockpage" });
            assert_eq!(benign, findings.is_empty(), "{p}: finding or benign twin");
            assert_eq!(
                benign,
                f.truth.facts.contains(&Fact::NoFinding {
                    class: "rst_injection"
                }),
                "{p}"
            );
            if benign {
                let (sa, _) = synack(&pkts);
                let mut server: Vec<&Pkt> = pkts
                    .iter()
                    .filter(|x| x.src == sa.src && x.flags & 0x02 == 0)
                    .collect();
                assert!(server.iter().all(|x| x.flags & 0x04 == 0), "{p}: a RST");
                let w = server[0].window;
                assert!(server.iter().all(|x| x.window == w), "{p}: window");
                server.retain(|x| is_response(x));
                assert_eq!(server.len(), 1, "{p}: one response");
                assert_genuine(server[0], &pkts, req, p);
                continue;
            }
            for (kind, confidence, cited) in findings {
                let cited: Vec<usize> = cited.iter().map(|&n| n as usize - 1).collect();
                let responses: Vec<usize> = cited
                    .iter()
                    .copied()
                    .filter(|&k| is_response(&pkts[k]))
                    .collect();
                let dns: Vec<usize> = cited
                    .iter()
                    .copied()
                    .filter(|&k| pkts[k].proto == 17 && pkts[k].sport == 53)
                    .collect();
                let requests: Vec<usize> = cited
                    .iter()
                    .copied()
                    .filter(|&k| is_get(&pkts[k]))
                    .collect();
                assert_eq!(
                    responses.len() + dns.len() + requests.len(),
                    cited.len(),
                    "{p}: {kind} cites {cited:?}"
                );
                let blocking = [10, 10, 34, 34];
                if kind.starts_with("dns_") {
                    let [d] = dns[..] else {
                        panic!("{p}: {kind} DNS frames {dns:?}")
                    };
                    assert!(contains(&pkts[d].payload, &blocking), "{p}: answer");
                    if kind == "dns_blockpage_fetch" {
                        let [h] = responses[..] else {
                            panic!("{p}: {kind}")
                        };
                        assert!(h > d && pkts[h].src == IpAddr::from(blocking), "{p}");
                    } else {
                        assert_eq!(cited, [d], "{p}: {kind}");
                    }
                    continue;
                }
                assert_eq!(requests, gets, "{p}: {kind} cites the request");
                assert!(!responses.is_empty() && dns.is_empty(), "{p}: {kind}");
                assert!(responses.iter().all(|&k| k > gets[0]), "{p}: order");
                let first = &pkts[responses[0]];
                match kind {
                    "http_blockpage" => {
                        assert_eq!(responses.len(), 1, "{p}");
                        assert_eq!(confidence, "high", "{p}");
                    }
                    "http_injected_response" | "http_redirect_injected" => {
                        let n = tells(&pkts, responses[0], req);
                        assert!(n >= 2, "{p}: {n} tells");
                        let race = responses.len() == 2;
                        assert_eq!(confidence == "high", race, "{p}: confidence");
                        if race {
                            let real = &pkts[responses[1]];
                            assert_eq!(first.seq, real.seq, "{p}: same sequence number");
                            let n = first.payload.len().min(real.payload.len());
                            assert_ne!(first.payload[..n], real.payload[..n], "{p}: same bytes");
                            assert_genuine(real, &pkts, req, p);
                        }
                        let text = String::from_utf8_lossy(&first.payload).to_lowercase();
                        if kind == "http_injected_response" {
                            assert_eq!(status(first), 200, "{p}");
                            for word in ["block", "denied", "forbidden", "country", "iframe"] {
                                assert!(!text.contains(word), "{p}: {word}");
                            }
                        } else {
                            assert!((300..400).contains(&status(first)), "{p}");
                            let loc = header(first, "Location").unwrap();
                            let to = url_host(&loc).unwrap();
                            assert!(
                                to.parse::<IpAddr>().is_ok() || site(&to) != site(host),
                                "{p}: {to}"
                            );
                        }
                    }
                    "http_block_notice" | "http_geoblock" => {
                        assert_eq!(responses.len(), 1, "{p}");
                        assert_eq!(confidence, "low", "{p}");
                        assert_genuine(first, &pkts, req, p);
                        assert!(tells(&pkts, responses[0], req) == 0, "{p}: tells");
                        let text = String::from_utf8_lossy(&first.payload).to_lowercase();
                        if kind == "http_geoblock" {
                            assert!(status(first) == 451 || text.contains("in your country"));
                        } else {
                            assert!(text.contains("blocked") || text.contains("x-squid-error"));
                        }
                    }
                    other => panic!("{p}: unknown kind {other}"),
                }
            }
        }
    }

    #[test]
    fn synth_blockpage_benign_redirects_stay_on_their_site_or_are_the_servers_own() {
        let f = blockpage_fixtures();
        let find = |name: &str| f.iter().find(|x| x.path.contains(name)).unwrap();
        for (name, same_site) in [
            ("http-to-https", true),
            ("www-canonicalisation", true),
            ("login-redirect", true),
            ("short-link", false),
        ] {
            let x = find(name);
            let r = reference::read(&(x.build)().unwrap());
            let pkts: Vec<Pkt> = r
                .frames
                .iter()
                .map(|x| {
                    pkt(
                        x.ts_ns.unwrap(),
                        reference::ip_of(x.linktype, &x.data).unwrap(),
                    )
                })
                .collect();
            let resp = pkts.iter().find(|p| is_response(p)).unwrap();
            let req = pkts.iter().find(|p| is_get(p)).unwrap();
            let host = header(req, "Host").unwrap();
            let loc = header(resp, "Location").unwrap();
            let on_site = url_host(&loc).is_none_or(|h| site(&h) == site(&host));
            assert_eq!(on_site, same_site, "{name}: {loc}");
        }
    }
}
