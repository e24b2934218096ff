//! Measures how long matching one HTTP response against the bundled fingerprint set takes: an
//! ordinary 4 KiB HTML page with a typical head, a redirect, and a blockpage. Not a test; run
//! with `cargo run --release --example fingerprint_match_speed` (numbers from a debug build
//! are slower).

use std::hint::black_box;
use std::time::{Duration, Instant};

use tamper::detect::fingerprints::FingerprintSet;
use tamper::proto::http::parse::{HttpHeader, HttpVersion, ResponseHead};

fn head(status: u16, reason: &str, headers: &[(&str, &str)]) -> ResponseHead {
    ResponseHead {
        stream_offset: 0,
        version: HttpVersion::Http11,
        status,
        reason: reason.to_string(),
        headers: headers
            .iter()
            .map(|(name, value)| HttpHeader {
                name: name.to_string(),
                value: value.as_bytes().to_vec(),
            })
            .collect(),
        head_len: 0,
    }
}

/// About 4 KiB of ordinary HTML.
fn ordinary_page() -> String {
    let mut page = String::from(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Local news</title>\
         <link rel=\"stylesheet\" href=\"/style.css\"></head><body><header><nav><a href=\"/\">Home</a> \
         <a href=\"/about\">About</a></nav></header><main>\n",
    );
    let mut n = 0;
    while page.len() < 4000 {
        n += 1;
        page.push_str(&format!(
            "<article><h2>Story {n}</h2><p>The council met on Tuesday to discuss the new bus \
             timetable, the library's opening hours and repairs to the bridge.</p></article>\n"
        ));
    }
    page.push_str("</main><footer>&copy; 2024 Local news</footer></body></html>\n");
    page
}

fn measure(label: &str, runs: u32, mut f: impl FnMut() -> usize) {
    let start = Instant::now();
    let mut hits = 0;
    for _ in 0..runs {
        hits = black_box(f());
    }
    let per = start.elapsed() / runs;
    println!("{label}: {:.1} µs per response ({hits} hits)", micros(per));
}

fn micros(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

fn main() {
    let start = Instant::now();
    let set = FingerprintSet::builtin();
    println!(
        "loading {} bundled rows: {:.1} ms",
        set.len(),
        micros(start.elapsed()) / 1e3
    );

    let page = ordinary_page();
    let ok = head(
        200,
        "OK",
        &[
            ("Date", "Mon, 04 Mar 2024 10:00:00 GMT"),
            ("Server", "Apache/2.4.57 (Debian)"),
            ("Last-Modified", "Mon, 04 Mar 2024 09:00:00 GMT"),
            ("ETag", "\"1000-6129b7a2c5e80\""),
            ("Accept-Ranges", "bytes"),
            ("Content-Length", "4096"),
            ("Vary", "Accept-Encoding"),
            ("Content-Type", "text/html; charset=UTF-8"),
        ],
    );
    let start = Instant::now();
    let first = set.match_http(&ok, page.as_bytes()).iter().count();
    println!(
        "first match (builds the matchers): {:.1} ms ({first} hits)",
        micros(start.elapsed()) / 1e3
    );

    let runs = 20_000;
    println!("body: {} bytes", page.len());
    measure("ordinary 4 KiB page", runs, || {
        set.match_http(&ok, page.as_bytes()).iter().count()
    });
    let redirect = head(
        302,
        "Found",
        &[
            ("Server", "nginx"),
            ("Location", "http://warning.rt.ru/?id=17&st=0&dt=192.0.2.1"),
            ("Content-Length", "0"),
        ],
    );
    measure("blocking redirect, empty body", runs, || {
        set.match_http(&redirect, b"").iter().count()
    });
    let blockpage = format!(
        "<html><head><title>Web Filter Violation</title></head><body><h1>FortiGuard Web \
         Filtering</h1>{}</body></html>",
        page
    );
    measure("FortiGuard blockpage, 4 KiB", runs, || {
        set.match_http(&ok, blockpage.as_bytes()).iter().count()
    });
}
