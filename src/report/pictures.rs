//! Plain data for the pictures of the HTML report (packet ladders, goodput plots, DNS
//! timelines), keyed by finding id; it holds values only and must not read captures or decide
//! anything (whoever builds the report fills these from a pass over the capture).
//!
//! Values are taken as they come: the renderers in `svg.rs` bound sizes, drop non-finite
//! numbers and escape every text, so any content here is safe to draw.

use std::collections::BTreeMap;

/// Pictures for findings, keyed by finding id (`"F1"`, `"F2-3"`, exactly
/// [`Finding::id`](crate::finding::Finding::id)).
#[derive(Clone, Debug, Default)]
pub struct Pictures {
    /// The pictures of each finding, drawn in this order under the finding.
    pub by_finding: BTreeMap<String, Vec<Picture>>,
    /// A remark shown once at the top of the report, e.g. "pictures need a capture file, not
    /// standard input".
    pub note: Option<String>,
}

impl Pictures {
    /// The pictures of one finding (empty when it has none).
    pub fn of(&self, finding_id: &str) -> &[Picture] {
        self.by_finding
            .get(finding_id)
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }

    /// Adds a picture to a finding.
    pub fn push(&mut self, finding_id: impl Into<String>, picture: Picture) {
        self.by_finding
            .entry(finding_id.into())
            .or_default()
            .push(picture);
    }
}

/// One picture.
#[derive(Clone, Debug)]
pub enum Picture {
    /// A sequence diagram of one flow's packets.
    Ladder(Ladder),
    /// Goodput over time.
    Series(SeriesPlot),
    /// A DNS query and its responses.
    DnsTimeline(DnsTimeline),
}

impl Picture {
    /// A short caption naming the kind of picture.
    pub fn caption(&self) -> &'static str {
        match self {
            Picture::Ladder(_) => "Packet ladder",
            Picture::Series(_) => "Goodput over time",
            Picture::DnsTimeline(_) => "DNS query and responses",
        }
    }
}

/// A sequence (ladder) diagram of one flow's packets around an event.
#[derive(Clone, Debug, Default)]
pub struct Ladder {
    /// `ip:port` label of the left column (the flow's client).
    pub client: String,
    /// `ip:port` label of the right column (the flow's server).
    pub server: String,
    /// The packets shown, in capture order.
    pub packets: Vec<LadderPacket>,
    /// Packets of the flow left out before the first one shown.
    pub elided_before: u64,
    /// Packets of the flow left out after the last one shown.
    pub elided_after: u64,
    /// What the real endpoint's packets look like, e.g. `("server TTL", "52")`,
    /// `("server IP ID", "+1 per packet from 31007")`.
    pub baseline: Vec<(String, String)>,
}

/// One packet of a [`Ladder`].
#[derive(Clone, Debug, Default)]
pub struct LadderPacket {
    /// Frame number (1-based, as in Wireshark).
    pub frame: u64,
    /// Milliseconds since the flow's first packet.
    pub t_ms: f64,
    /// True when the client sent it (drawn left to right).
    pub from_client: bool,
    /// What it is: `SYN`, `PSH ACK 120 B`, `RST`, `DNS A? x`, `HTTP 200`.
    pub label: String,
    /// IP TTL or hop limit.
    pub ttl: u8,
    /// IPv4 identification (`None` for IPv6).
    pub ip_id: Option<u32>,
    /// Short extra text (may be empty).
    pub note: String,
    /// Held against by the finding (forged, injected or out of line): drawn in a distinct
    /// colour and dashed. Cited baseline and trigger packets are not marked.
    pub marked: bool,
}

/// Goodput over time for throttling findings.
#[derive(Clone, Debug, Default)]
pub struct SeriesPlot {
    /// What the plot shows.
    pub title: String,
    /// The suspect flow direction first, then comparison flows.
    pub lines: Vec<SeriesLine>,
    /// Estimated policing rate in kbit/s (a dashed horizontal line).
    pub rate_kbps: Option<f64>,
    /// Loss events, seconds since the start (ticks on the time axis).
    pub losses_s: Vec<f64>,
    /// RTT samples `(t_s, ms)`, drawn in a small panel below.
    pub rtt_ms: Vec<(f64, f64)>,
    /// A freeze: `(start_s, end_s, bytes delivered)`, a shaded band.
    pub plateau: Option<(f64, f64, f64)>,
}

/// One line of a [`SeriesPlot`].
#[derive(Clone, Debug, Default)]
pub struct SeriesLine {
    /// Legend text.
    pub label: String,
    /// `(t_s, kbit/s)` points in time order.
    pub points: Vec<(f64, f64)>,
}

/// A DNS query and every response, on one time axis.
#[derive(Clone, Debug, Default)]
pub struct DnsTimeline {
    /// The question: `"blocked.example A"`.
    pub question: String,
    /// The client's address.
    pub client: String,
    /// The resolver's address.
    pub resolver: String,
    /// The query and the responses, in capture order.
    pub events: Vec<DnsEvent>,
}

/// One message of a [`DnsTimeline`].
#[derive(Clone, Debug, Default)]
pub struct DnsEvent {
    /// Frame number.
    pub frame: u64,
    /// Milliseconds since the query.
    pub t_ms: f64,
    /// True for the query, false for a response.
    pub is_query: bool,
    /// The answers (`"1.2.3.4, 5.6.7.8"`, `"NXDOMAIN"`); empty for the query.
    pub answers: String,
    /// IP TTL or hop limit.
    pub ttl: u8,
    /// Cited by the finding as forged or suspect.
    pub marked: bool,
}
