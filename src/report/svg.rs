//! Deterministic SVG renderers for the HTML report's pictures (packet ladders, goodput plots,
//! DNS timelines); they draw the plain data of `pictures.rs` and must not compute any finding
//! or read anything but their argument.
//!
//! Output is byte-stable: every number goes through [`fixed`] (fixed precision, non-finite
//! values replaced), every text through the report's one escaping function, and every input is
//! bounded (ladder rows, points per line, DNS events) so a picture stays small whatever it is
//! given. Colours come with a second cue (dash pattern, marker shape) so the pictures survive
//! greyscale printing. Arrowheads are drawn as polygons rather than `<marker>`s, so several
//! pictures on one page share no element ids.

use std::fmt::Write as _;

use super::html::escape;
use super::pictures::{DnsEvent, DnsTimeline, Ladder, LadderPacket, SeriesPlot};

/// Most ladder rows drawn (packets; gap notes come on top).
pub const MAX_LADDER_ROWS: usize = 60;
/// Most points drawn per series line (and RTT samples, loss ticks).
pub const MAX_POINTS: usize = 600;
/// Most lines in one series plot.
pub const MAX_LINES: usize = 8;
/// Most DNS messages drawn in a timeline.
pub const MAX_DNS_EVENTS: usize = 40;
/// Most baseline entries shown beside a ladder.
const MAX_BASELINE: usize = 12;

const SANS: &str =
    "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif";
const MONO: &str = "ui-monospace, SFMono-Regular, Menlo, Consolas, 'DejaVu Sans Mono', monospace";

const INK: &str = "#1f2328";
const MUTED: &str = "#57606a";
const GRID: &str = "#d8dee4";
const C2S: &str = "#0b5cad";
const S2C: &str = "#3d444d";
const MARK: &str = "#b42318";
const MARK_BG: &str = "#fdecea";
const MARK_DASH: &str = "7 4";
/// Series colours and dash patterns (Okabe–Ito palette; the first is the suspect flow).
const PALETTE: [(&str, &str); 8] = [
    ("#d55e00", ""),
    ("#0072b2", "7 3"),
    ("#009e73", "2 3"),
    ("#cc79a7", "9 3 2 3"),
    ("#e69f00", "4 2"),
    ("#56b4e9", "12 4"),
    ("#000000", "1 3"),
    ("#8c564b", "6 2 1 2"),
];

/// `v` with `decimals` fixed decimals; NaN and infinities become 0 and `-0` becomes `0`, so
/// the text is the same on every platform and never `NaN`.
pub(super) fn fixed(v: f64, decimals: usize) -> String {
    let v = if v.is_finite() { v } else { 0.0 };
    // Clamp to a range any SVG viewer handles; beyond it a picture would be meaningless anyway.
    let v = v.clamp(-1e12, 1e12);
    let s = format!("{v:.decimals$}");
    if s.starts_with('-') && s[1..].chars().all(|c| c == '0' || c == '.') {
        s[1..].to_string()
    } else {
        s
    }
}

/// A coordinate: one decimal.
fn c(v: f64) -> String {
    fixed(v, 1)
}

/// `v` with at most `max_decimals`, trailing zeros removed: `3`, `0.25`, `180.5`.
pub(super) fn short(v: f64, max_decimals: usize) -> String {
    let s = fixed(v, max_decimals);
    if s.contains('.') {
        let t = s.trim_end_matches('0').trim_end_matches('.');
        if t == "-0" {
            "0".to_string()
        } else {
            t.to_string()
        }
    } else {
        s
    }
}

/// A time in milliseconds, in ms below one second and in s above: `3.104 ms`, `12.250 s`.
pub(super) fn fmt_ms(t: f64) -> String {
    let t = if t.is_finite() { t } else { 0.0 };
    if t.abs() < 1000.0 {
        format!("{} ms", fixed(t, 3))
    } else {
        format!("{} s", fixed(t / 1000.0, 3))
    }
}

/// Bytes in decimal units: `950 B`, `15.2 kB`, `3.40 MB`.
fn fmt_bytes(b: f64) -> String {
    let b = if b.is_finite() { b.max(0.0) } else { 0.0 };
    if b < 1000.0 {
        format!("{} B", fixed(b, 0))
    } else if b < 1e6 {
        format!("{} kB", fixed(b / 1e3, 1))
    } else if b < 1e9 {
        format!("{} MB", fixed(b / 1e6, 2))
    } else {
        format!("{} GB", fixed(b / 1e9, 2))
    }
}

/// At most `max` characters of `s`, with `…` when cut.
fn clip(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
        out.push('…');
        out
    }
}

/// `s` in lines of at most `width` characters, broken at spaces where possible, at most
/// `max_lines` (the last one clipped with `…`).
fn wrap(s: &str, width: usize, max_lines: usize) -> Vec<String> {
    let width = width.max(2);
    let mut lines: Vec<String> = Vec::new();
    let mut cur = String::new();
    for word in s.split(' ') {
        let mut word = word.to_string();
        loop {
            let cur_len = cur.chars().count();
            let word_len = word.chars().count();
            let need = if cur.is_empty() {
                word_len
            } else {
                cur_len + 1 + word_len
            };
            if need <= width {
                if !cur.is_empty() {
                    cur.push(' ');
                }
                cur.push_str(&word);
                break;
            }
            if !cur.is_empty() {
                lines.push(std::mem::take(&mut cur));
                continue;
            }
            // A word longer than a line is cut.
            let head: String = word.chars().take(width).collect();
            word = word.chars().skip(width).collect();
            lines.push(head);
            if word.is_empty() {
                break;
            }
        }
        if lines.len() > max_lines {
            break;
        }
    }
    if !cur.is_empty() {
        lines.push(cur);
    }
    if lines.len() > max_lines {
        lines.truncate(max_lines);
        if let Some(last) = lines.last_mut() {
            *last = clip(&format!("{last} …"), width);
            if !last.ends_with('…') {
                last.push('…');
            }
        }
    }
    if lines.is_empty() {
        lines.push(String::new());
    }
    lines
}

/// The step of "nice" axis ticks (1, 2 or 5 times a power of ten) giving about `target`
/// intervals over `span`.
pub(super) fn nice_step(span: f64, target: usize) -> f64 {
    let span = if span.is_finite() && span > 0.0 {
        span
    } else {
        1.0
    };
    let raw = span / target.max(1) as f64;
    let mag = 10f64.powf(raw.log10().floor());
    let norm = raw / mag;
    let nice = if norm <= 1.0 {
        1.0
    } else if norm <= 2.0 {
        2.0
    } else if norm <= 5.0 {
        5.0
    } else {
        10.0
    };
    nice * mag
}

/// An axis from `lo` to `hi` widened to multiples of a nice step, with its ticks.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct Axis {
    pub lo: f64,
    pub hi: f64,
    pub step: f64,
    /// Tick values, computed as integer multiples of the step (no accumulated error).
    pub ticks: Vec<f64>,
    /// Decimals needed to print the ticks.
    pub decimals: usize,
}

impl Axis {
    pub(super) fn new(lo: f64, hi: f64, target: usize) -> Axis {
        // Finite and within what `fixed` prints, so every tick is a real number.
        let (mut lo, mut hi) = (
            if lo.is_finite() {
                lo.clamp(-1e12, 1e12)
            } else {
                0.0
            },
            if hi.is_finite() {
                hi.clamp(-1e12, 1e12)
            } else {
                1.0
            },
        );
        if hi < lo {
            std::mem::swap(&mut lo, &mut hi);
        }
        if hi - lo <= f64::EPSILON * hi.abs().max(1.0) {
            hi = lo + if lo == 0.0 { 1.0 } else { lo.abs() * 0.1 };
        }
        let step = nice_step(hi - lo, target);
        let k0 = (lo / step).floor();
        let k1 = (hi / step).ceil();
        let count = ((k1 - k0) as i64).clamp(1, 40);
        let ticks = (0..=count).map(|i| (k0 + i as f64) * step).collect();
        let decimals = if step >= 1.0 {
            0
        } else {
            (-step.log10()).ceil().clamp(0.0, 9.0) as usize
        };
        Axis {
            lo: k0 * step,
            hi: (k0 + count as f64) * step,
            step,
            ticks,
            decimals,
        }
    }

    /// Maps `v` to the pixel range `[p0, p1]`.
    fn map(&self, v: f64, p0: f64, p1: f64) -> f64 {
        let span = self.hi - self.lo;
        let f = if span > 0.0 {
            (v - self.lo) / span
        } else {
            0.0
        };
        let f = if f.is_finite() {
            f.clamp(-0.05, 1.05)
        } else {
            0.0
        };
        p0 + f * (p1 - p0)
    }

    fn label(&self, v: f64) -> String {
        fixed(v, self.decimals)
    }
}

/// Builds one SVG document.
struct Svg {
    out: String,
}

impl Svg {
    fn new(w: f64, h: f64, title: &str, desc: &str) -> Svg {
        let mut out = String::with_capacity(16 * 1024);
        let _ = write!(
            out,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {w} {h}\" width=\"{w}\" height=\"{h}\" role=\"img\" font-family=\"{SANS}\" font-size=\"12\" fill=\"{INK}\">\n<title>{}</title>\n<desc>{}</desc>\n",
            escape(title),
            escape(desc),
            w = c(w),
            h = c(h),
        );
        let _ = writeln!(
            out,
            "<rect x=\"0\" y=\"0\" width=\"{}\" height=\"{}\" fill=\"#ffffff\"/>",
            c(w),
            c(h)
        );
        Svg { out }
    }

    fn finish(mut self) -> String {
        self.out.push_str("</svg>\n");
        self.out
    }

    #[allow(clippy::too_many_arguments)]
    fn line(&mut self, x1: f64, y1: f64, x2: f64, y2: f64, stroke: &str, width: f64, dash: &str) {
        let dash = if dash.is_empty() {
            String::new()
        } else {
            format!(" stroke-dasharray=\"{dash}\"")
        };
        let _ = writeln!(
            self.out,
            "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"{stroke}\" stroke-width=\"{}\"{dash}/>",
            c(x1),
            c(y1),
            c(x2),
            c(y2),
            fixed(width, 1)
        );
    }

    fn rect(&mut self, x: f64, y: f64, w: f64, h: f64, attrs: &str) {
        let _ = writeln!(
            self.out,
            "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" {attrs}/>",
            c(x),
            c(y),
            c(w.max(0.0)),
            c(h.max(0.0))
        );
    }

    /// Text; `attrs` are trusted attribute text, `s` is escaped.
    fn text(&mut self, x: f64, y: f64, s: &str, attrs: &str) {
        let sep = if attrs.is_empty() { "" } else { " " };
        let _ = writeln!(
            self.out,
            "<text x=\"{}\" y=\"{}\"{sep}{attrs}>{}</text>",
            c(x),
            c(y),
            escape(s)
        );
    }

    fn polygon(&mut self, pts: &[(f64, f64)], fill: &str) {
        let p: Vec<String> = pts
            .iter()
            .map(|(x, y)| format!("{},{}", c(*x), c(*y)))
            .collect();
        let _ = writeln!(
            self.out,
            "<polygon points=\"{}\" fill=\"{fill}\"/>",
            p.join(" ")
        );
    }

    /// A line ending in a filled arrowhead at `(x2, y2)`.
    #[allow(clippy::too_many_arguments)]
    fn arrow(&mut self, x1: f64, y1: f64, x2: f64, y2: f64, stroke: &str, width: f64, dash: &str) {
        let (dx, dy) = (x2 - x1, y2 - y1);
        let len = (dx * dx + dy * dy).sqrt();
        let (ux, uy) = if len > 0.0 {
            (dx / len, dy / len)
        } else {
            (1.0, 0.0)
        };
        let (bx, by) = (x2 - 10.0 * ux, y2 - 10.0 * uy);
        // The shaft stops at the head's base so a dashed shaft does not poke through it.
        self.line(x1, y1, bx, by, stroke, width, dash);
        self.polygon(
            &[
                (x2, y2),
                (bx - 4.5 * uy, by + 4.5 * ux),
                (bx + 4.5 * uy, by - 4.5 * ux),
            ],
            stroke,
        );
    }

    fn group_start(&mut self, tooltip: &str) {
        let _ = writeln!(self.out, "<g>\n<title>{}</title>", escape(tooltip));
    }

    fn group_end(&mut self) {
        self.out.push_str("</g>\n");
    }
}

fn mono(size: f64, anchor: &str, fill: &str) -> String {
    format!(
        "font-family=\"{MONO}\" font-size=\"{}\" text-anchor=\"{anchor}\" fill=\"{fill}\"",
        fixed(size, 1)
    )
}

fn sans(size: f64, anchor: &str, fill: &str, extra: &str) -> String {
    let sep = if extra.is_empty() { "" } else { " " };
    format!(
        "font-size=\"{}\" text-anchor=\"{anchor}\" fill=\"{fill}\"{sep}{extra}",
        fixed(size, 1)
    )
}

// ---------------------------------------------------------------------------------------------
// Ladder
// ---------------------------------------------------------------------------------------------

/// Which packets a ladder shows when there are more than `cap`: every cited packet first
/// (up to the cap), then the packets nearest to a cited packet or to the start of the list,
/// in capture order. Without cited packets the start and the end are kept.
fn ladder_rows(packets: &[LadderPacket], cap: usize) -> Vec<usize> {
    let n = packets.len();
    if n <= cap {
        return (0..n).collect();
    }
    let mut anchor: Vec<bool> = packets.iter().map(|p| p.marked).collect();
    let any_marked = anchor.iter().any(|a| *a);
    if let Some(a) = anchor.first_mut() {
        *a = true;
    }
    if !any_marked {
        if let Some(a) = anchor.last_mut() {
            *a = true;
        }
    }
    // Distance to the nearest anchor, in two linear passes.
    let mut dist = vec![usize::MAX; n];
    let mut last: Option<usize> = None;
    for i in 0..n {
        if anchor.get(i).copied().unwrap_or(false) {
            last = Some(i);
        }
        if let (Some(l), Some(d)) = (last, dist.get_mut(i)) {
            *d = i - l;
        }
    }
    let mut next: Option<usize> = None;
    for i in (0..n).rev() {
        if anchor.get(i).copied().unwrap_or(false) {
            next = Some(i);
        }
        if let (Some(x), Some(d)) = (next, dist.get_mut(i)) {
            *d = (*d).min(x - i);
        }
    }
    let mut order: Vec<(usize, bool, usize)> = packets
        .iter()
        .enumerate()
        .map(|(i, p)| (dist.get(i).copied().unwrap_or(usize::MAX), !p.marked, i))
        .collect();
    order.sort_unstable();
    let mut keep: Vec<usize> = order.into_iter().take(cap).map(|(_, _, i)| i).collect();
    keep.sort_unstable();
    keep
}

enum Row<'a> {
    Packet(&'a LadderPacket),
    Gap(String),
}

fn packets_word(n: u64) -> &'static str {
    if n == 1 {
        "packet"
    } else {
        "packets"
    }
}

/// A sequence diagram: the client's column on the left, the server's on the right, one arrow
/// per packet in capture order (rows evenly spaced; the time is written beside each), cited
/// packets dashed and red on a tinted row, and the real endpoint's baseline in a box beside.
pub fn ladder(l: &Ladder) -> String {
    const W: f64 = 900.0;
    const GUTTER_X: f64 = 108.0;
    const CX: f64 = 162.0;
    const SX: f64 = 452.0;
    const DETAIL_X: f64 = 468.0;
    const BASE_X: f64 = 672.0;
    const BASE_W: f64 = 220.0;
    const TOP: f64 = 62.0;
    const ROW: f64 = 40.0;
    const GAP_ROW: f64 = 26.0;
    const SLOPE: f64 = 12.0;

    let keep = ladder_rows(&l.packets, MAX_LADDER_ROWS);
    let mut rows: Vec<Row> = Vec::new();
    let first_kept = keep.first().copied().unwrap_or(0) as u64;
    let before = l.elided_before.saturating_add(first_kept);
    if before > 0 {
        rows.push(Row::Gap(format!(
            "… {before} earlier {} of the flow not shown",
            packets_word(before)
        )));
    }
    let mut prev: Option<usize> = None;
    for &i in &keep {
        if let Some(p) = prev {
            let skipped = (i - p).saturating_sub(1) as u64;
            if skipped > 0 {
                rows.push(Row::Gap(format!(
                    "… {skipped} {} not shown",
                    packets_word(skipped)
                )));
            }
        }
        if let Some(pk) = l.packets.get(i) {
            rows.push(Row::Packet(pk));
        }
        prev = Some(i);
    }
    let after_in_list = match keep.last() {
        Some(&last) => (l.packets.len() - 1 - last) as u64,
        None => 0,
    };
    let after = l.elided_after.saturating_add(after_in_list);
    if after > 0 {
        rows.push(Row::Gap(format!(
            "… {after} later {} of the flow not shown",
            packets_word(after)
        )));
    }
    if rows.is_empty() {
        rows.push(Row::Gap("no packets to show".to_string()));
    }

    let rows_h: f64 = rows
        .iter()
        .map(|r| match r {
            Row::Packet(_) => ROW,
            Row::Gap(_) => GAP_ROW,
        })
        .sum();
    let baseline: Vec<(&str, Vec<String>)> = l
        .baseline
        .iter()
        .take(MAX_BASELINE)
        .map(|(k, v)| (k.as_str(), wrap(v, 29, 3)))
        .collect();
    let base_h = if baseline.is_empty() {
        0.0
    } else {
        let lines: usize = baseline.iter().map(|(_, v)| v.len()).sum();
        26.0 + 18.0 * baseline.len() as f64
            + 14.0 * lines as f64
            + if l.baseline.len() > MAX_BASELINE {
                16.0
            } else {
                0.0
            }
    };
    let body_bottom = (TOP + rows_h).max(TOP - 12.0 + base_h);
    let legend_y = body_bottom + 24.0;
    let h = legend_y + 22.0;

    let marked: Vec<u64> = l
        .packets
        .iter()
        .filter(|p| p.marked)
        .map(|p| p.frame)
        .collect();
    let title = format!("Packet ladder: {} ↔ {}", l.client, l.server);
    let mut desc = format!(
        "Sequence diagram of {} {} between client {} (left) and server {} (right), time running down",
        l.packets.len(),
        packets_word(l.packets.len() as u64),
        l.client,
        l.server
    );
    if let (Some(a), Some(b)) = (l.packets.first(), l.packets.last()) {
        let _ = write!(desc, ", frames {} to {}", a.frame, b.frame);
    }
    if !marked.is_empty() {
        let list: Vec<String> = marked.iter().take(20).map(|f| f.to_string()).collect();
        let _ = write!(
            desc,
            "; suspect (forged or out of line): frame{} {}{}",
            if marked.len() == 1 { "" } else { "s" },
            list.join(", "),
            if marked.len() > 20 { ", …" } else { "" }
        );
    }
    desc.push('.');
    let mut s = Svg::new(W, h, &title, &desc);

    // Column heads.
    s.text(
        CX,
        20.0,
        "client",
        &sans(12.0, "middle", MUTED, "font-weight=\"600\""),
    );
    s.text(CX, 37.0, &clip(&l.client, 40), &mono(11.0, "middle", INK));
    s.text(
        SX,
        20.0,
        "server",
        &sans(12.0, "middle", MUTED, "font-weight=\"600\""),
    );
    s.text(SX, 37.0, &clip(&l.server, 40), &mono(11.0, "middle", INK));
    s.text(
        GUTTER_X,
        20.0,
        "frame · time",
        &sans(11.0, "end", MUTED, ""),
    );
    s.text(
        DETAIL_X + 24.0,
        20.0,
        "TTL · IP ID",
        &sans(11.0, "start", MUTED, ""),
    );
    s.line(8.0, 46.0, BASE_X - 16.0, 46.0, GRID, 1.0, "");

    // Row backgrounds first, so the lifelines sit on top of them.
    let mut y = TOP;
    for r in &rows {
        match r {
            Row::Packet(p) => {
                if p.marked {
                    s.rect(
                        4.0,
                        y - 16.0,
                        BASE_X - 16.0,
                        ROW - 2.0,
                        &format!("fill=\"{MARK_BG}\" rx=\"3\""),
                    );
                }
                y += ROW;
            }
            Row::Gap(_) => y += GAP_ROW,
        }
    }
    s.line(CX, 46.0, CX, body_bottom, "#8c959f", 1.5, "");
    s.line(SX, 46.0, SX, body_bottom, "#8c959f", 1.5, "");

    let mut y = TOP;
    for r in &rows {
        match r {
            Row::Gap(text) => {
                s.rect(CX + 20.0, y - 8.0, SX - CX - 40.0, 18.0, "fill=\"#ffffff\"");
                s.text(
                    (CX + SX) / 2.0,
                    y + 5.0,
                    text,
                    &sans(11.0, "middle", MUTED, "font-style=\"italic\""),
                );
                y += GAP_ROW;
            }
            Row::Packet(p) => {
                ladder_packet(&mut s, p, y, [GUTTER_X, CX, SX, DETAIL_X], SLOPE);
                y += ROW;
            }
        }
    }

    // Baseline box.
    if !baseline.is_empty() {
        let by = TOP - 12.0;
        s.rect(
            BASE_X,
            by,
            BASE_W,
            base_h,
            "fill=\"#f6f8fa\" stroke=\"#d0d7de\" rx=\"4\"",
        );
        s.text(
            BASE_X + 10.0,
            by + 19.0,
            "Baseline (real endpoint)",
            &sans(11.5, "start", INK, "font-weight=\"600\""),
        );
        let mut yy = by + 38.0;
        for (k, lines) in &baseline {
            s.text(
                BASE_X + 10.0,
                yy,
                &clip(k, 34),
                &sans(10.5, "start", MUTED, ""),
            );
            for line in lines {
                yy += 14.0;
                s.text(BASE_X + 10.0, yy, line, &mono(11.0, "start", INK));
            }
            yy += 18.0;
        }
        if l.baseline.len() > MAX_BASELINE {
            s.text(
                BASE_X + 10.0,
                yy,
                &format!("… {} more", l.baseline.len() - MAX_BASELINE),
                &sans(10.5, "start", MUTED, "font-style=\"italic\""),
            );
        }
    }

    // Legend.
    s.line(
        8.0,
        legend_y - 14.0,
        W - 8.0,
        legend_y - 14.0,
        GRID,
        1.0,
        "",
    );
    let mut x = 12.0;
    s.arrow(x, legend_y, x + 34.0, legend_y, C2S, 1.6, "");
    s.text(
        x + 42.0,
        legend_y + 4.0,
        "client → server",
        &sans(11.0, "start", INK, ""),
    );
    x += 160.0;
    s.arrow(x + 34.0, legend_y, x, legend_y, S2C, 1.6, "");
    s.text(
        x + 42.0,
        legend_y + 4.0,
        "server → client",
        &sans(11.0, "start", INK, ""),
    );
    x += 160.0;
    s.rect(
        x - 4.0,
        legend_y - 9.0,
        200.0,
        18.0,
        &format!("fill=\"{MARK_BG}\" rx=\"3\""),
    );
    s.arrow(x, legend_y, x + 34.0, legend_y, MARK, 2.2, MARK_DASH);
    s.text(
        x + 42.0,
        legend_y + 4.0,
        "suspect (forged or out of line)",
        &sans(11.0, "start", MARK, "font-weight=\"600\""),
    );
    s.finish()
}

fn ladder_packet(s: &mut Svg, p: &LadderPacket, y: f64, xs: [f64; 4], slope: f64) {
    let [gutter_x, cx, sx, detail_x] = xs;
    let (x1, x2) = if p.from_client { (cx, sx) } else { (sx, cx) };
    let (stroke, width, dash) = if p.marked {
        (MARK, 2.2, MARK_DASH)
    } else if p.from_client {
        (C2S, 1.6, "")
    } else {
        (S2C, 1.6, "")
    };
    let ttl_id = match p.ip_id {
        Some(id) => format!("TTL {} · IP ID {id}", p.ttl),
        None => format!("TTL {}", p.ttl),
    };
    let mut tip = format!(
        "frame {}, {}, {}: {}, {ttl_id}",
        p.frame,
        fmt_ms(p.t_ms),
        if p.from_client {
            "client → server"
        } else {
            "server → client"
        },
        p.label
    );
    if !p.note.is_empty() {
        let _ = write!(tip, " ({})", p.note);
    }
    if p.marked {
        tip.push_str(" [suspect (forged or out of line)]");
    }
    s.group_start(&tip);
    s.text(
        gutter_x,
        y + 1.0,
        &format!("#{}", p.frame),
        &format!("{} font-weight=\"600\"", mono(12.0, "end", INK)),
    );
    s.text(
        gutter_x,
        y + 15.0,
        &fmt_ms(p.t_ms),
        &mono(10.5, "end", MUTED),
    );
    s.arrow(x1, y, x2, y + slope, stroke, width, dash);
    let label_attrs = if p.marked {
        sans(12.0, "middle", MARK, "font-weight=\"700\"")
    } else {
        sans(12.0, "middle", INK, "font-weight=\"500\"")
    };
    let label = if p.marked {
        format!("{} ✱", clip(&p.label, 40))
    } else {
        clip(&p.label, 42)
    };
    s.text((cx + sx) / 2.0, y - 4.0, &label, &label_attrs);
    s.text(
        detail_x,
        y + 1.0,
        &ttl_id,
        &mono(11.0, "start", if p.marked { MARK } else { INK }),
    );
    if !p.note.is_empty() {
        s.text(
            detail_x,
            y + 15.0,
            &clip(&p.note, 28),
            &sans(10.5, "start", MUTED, "font-style=\"italic\""),
        );
    }
    s.group_end();
}

// ---------------------------------------------------------------------------------------------
// Series
// ---------------------------------------------------------------------------------------------

/// Finite points, at most `max`: when there are more, each of `max / 2` equal runs of points
/// keeps its lowest and its highest point, in time order, so peaks and dips survive.
pub(super) fn downsample(points: &[(f64, f64)], max: usize) -> Vec<(f64, f64)> {
    let pts: Vec<(f64, f64)> = points
        .iter()
        .copied()
        .filter(|(x, y)| x.is_finite() && y.is_finite())
        .collect();
    if pts.len() <= max {
        return pts;
    }
    let buckets = (max / 2).max(1);
    let n = pts.len();
    let mut out = Vec::with_capacity(buckets * 2);
    for b in 0..buckets {
        let lo = b * n / buckets;
        let hi = ((b + 1) * n / buckets).min(n);
        let Some(run) = pts.get(lo..hi) else { continue };
        let mut imin = 0;
        let mut imax = 0;
        for (i, p) in run.iter().enumerate() {
            if run.get(imin).is_some_and(|m| p.1 < m.1) {
                imin = i;
            }
            if run.get(imax).is_some_and(|m| p.1 > m.1) {
                imax = i;
            }
        }
        let (a, b2) = if imin <= imax {
            (imin, imax)
        } else {
            (imax, imin)
        };
        if let Some(p) = run.get(a) {
            out.push(*p);
        }
        if b2 != a {
            if let Some(p) = run.get(b2) {
                out.push(*p);
            }
        }
    }
    out
}

/// Every `n / max`-th value when there are more than `max` (finite values only).
fn thin<T: Copy>(items: &[T], max: usize, finite: impl Fn(&T) -> bool) -> Vec<T> {
    let v: Vec<T> = items.iter().copied().filter(|t| finite(t)).collect();
    if v.len() <= max || max == 0 {
        return v;
    }
    let n = v.len();
    (0..max)
        .filter_map(|i| v.get(i * n / max).copied())
        .collect()
}

struct LegendItem {
    label: String,
    kind: LegendKind,
}

enum LegendKind {
    Line(&'static str, &'static str, f64),
    Band,
    Tick,
    Dot,
}

/// Goodput over time: one line per flow direction (the suspect first, thick), the estimated
/// policing rate as a dashed level, loss events as ticks on the time axis, a freeze as a shaded
/// band, and RTT samples in a small panel below.
pub fn series(p: &SeriesPlot) -> String {
    const W: f64 = 900.0;
    const LEFT: f64 = 78.0;
    const RIGHT: f64 = 24.0;
    const PLOT_H: f64 = 250.0;
    const RTT_H: f64 = 90.0;

    let lines: Vec<(String, Vec<(f64, f64)>)> = p
        .lines
        .iter()
        .take(MAX_LINES)
        .map(|l| (l.label.clone(), downsample(&l.points, MAX_POINTS)))
        .collect();
    let losses = thin(&p.losses_s, MAX_POINTS, |t| t.is_finite());
    let rtt = thin(&p.rtt_ms, MAX_POINTS, |(t, v)| {
        t.is_finite() && v.is_finite()
    });
    let rate = p.rate_kbps.filter(|r| r.is_finite() && *r >= 0.0);
    let plateau = p
        .plateau
        .filter(|(a, b, n)| a.is_finite() && b.is_finite() && n.is_finite());

    // Ranges.
    let mut t_lo: f64 = 0.0;
    let mut t_hi: f64 = 0.0;
    let mut y_hi: f64 = 0.0;
    let mut y_lo: f64 = 0.0;
    for (_, pts) in &lines {
        for (t, v) in pts {
            t_lo = t_lo.min(*t);
            t_hi = t_hi.max(*t);
            y_hi = y_hi.max(*v);
            y_lo = y_lo.min(*v);
        }
    }
    for t in &losses {
        t_lo = t_lo.min(*t);
        t_hi = t_hi.max(*t);
    }
    for (t, _) in &rtt {
        t_lo = t_lo.min(*t);
        t_hi = t_hi.max(*t);
    }
    if let Some((a, b, _)) = plateau {
        t_lo = t_lo.min(a.min(b));
        t_hi = t_hi.max(a.max(b));
    }
    if let Some(r) = rate {
        y_hi = y_hi.max(r);
    }
    // Mbit/s when the numbers get long.
    let (scale, unit) = if y_hi >= 10_000.0 {
        (1000.0, "Mbit/s")
    } else {
        (1.0, "kbit/s")
    };
    let xa = Axis::new(t_lo, t_hi, 8);
    let ya = Axis::new(y_lo / scale, y_hi * 1.05 / scale, 5);

    // Legend items.
    let mut legend: Vec<LegendItem> = Vec::new();
    for (i, (label, _)) in lines.iter().enumerate() {
        let (col, dash) = PALETTE.get(i).copied().unwrap_or(("#000000", ""));
        let width = if i == 0 { 2.6 } else { 1.6 };
        let label = if label.is_empty() {
            format!("line {}", i + 1)
        } else {
            label.clone()
        };
        legend.push(LegendItem {
            label: clip(&label, 48),
            kind: LegendKind::Line(col, dash, width),
        });
    }
    if let Some(r) = rate {
        legend.push(LegendItem {
            label: format!("estimated policing rate ({} kbit/s)", short(r, 1)),
            kind: LegendKind::Line(INK, "6 4", 1.4),
        });
    }
    if plateau.is_some() {
        legend.push(LegendItem {
            label: "freeze (no progress)".into(),
            kind: LegendKind::Band,
        });
    }
    if !losses.is_empty() {
        legend.push(LegendItem {
            label: "loss event".into(),
            kind: LegendKind::Tick,
        });
    }
    if !rtt.is_empty() {
        legend.push(LegendItem {
            label: "RTT sample".into(),
            kind: LegendKind::Dot,
        });
    }
    // Lay the legend out in rows.
    let mut legend_rows: Vec<Vec<(f64, &LegendItem)>> = vec![Vec::new()];
    let mut lx = LEFT;
    for item in &legend {
        let w = 44.0 + 6.6 * item.label.chars().count() as f64 + 18.0;
        if lx + w > W - RIGHT && lx > LEFT {
            legend_rows.push(Vec::new());
            lx = LEFT;
        }
        if let Some(row) = legend_rows.last_mut() {
            row.push((lx, item));
        }
        lx += w;
    }
    let legend_h = if legend.is_empty() {
        0.0
    } else {
        18.0 * legend_rows.len() as f64 + 6.0
    };
    let dropped_lines = p.lines.len().saturating_sub(MAX_LINES);

    let title_y = 22.0;
    let legend_y0 = 44.0;
    let plot_top = legend_y0 + legend_h + 8.0;
    let plot_bottom = plot_top + PLOT_H;
    let x_axis_label_y = plot_bottom + 38.0;
    let (rtt_top, rtt_bottom) = (x_axis_label_y + 22.0, x_axis_label_y + 22.0 + RTT_H);
    let mut h = if rtt.is_empty() {
        x_axis_label_y + 14.0
    } else {
        rtt_bottom + 38.0
    };
    if dropped_lines > 0 {
        h += 18.0;
    }
    let (px0, px1) = (LEFT, W - RIGHT);
    let xm = |t: f64| xa.map(t, px0, px1);
    let ym = |v: f64| ya.map(v / scale, plot_bottom, plot_top);

    let title = if p.title.is_empty() {
        "Goodput over time".to_string()
    } else {
        p.title.clone()
    };
    let mut desc = format!(
        "Goodput in {unit} against time in seconds for {} line{}",
        lines.len(),
        if lines.len() == 1 { "" } else { "s" }
    );
    for (i, (label, pts)) in lines.iter().enumerate() {
        let peak = pts.iter().map(|p| p.1).fold(0.0, f64::max);
        let _ = write!(
            desc,
            "{} {} (peak {} kbit/s)",
            if i == 0 { ":" } else { ";" },
            label,
            short(peak, 1)
        );
    }
    if let Some(r) = rate {
        let _ = write!(desc, "; estimated policing rate {} kbit/s", short(r, 1));
    }
    if !losses.is_empty() {
        let _ = write!(desc, "; {} loss events", losses.len());
    }
    if let Some((a, b, n)) = plateau {
        let _ = write!(
            desc,
            "; freeze from {} s to {} s after {}",
            short(a, 3),
            short(b, 3),
            fmt_bytes(n)
        );
    }
    if !rtt.is_empty() {
        let _ = write!(desc, "; {} RTT samples below", rtt.len());
    }
    desc.push('.');
    let mut s = Svg::new(W, h, &title, &desc);
    s.text(
        LEFT,
        title_y,
        &clip(&title, 110),
        &sans(14.0, "start", INK, "font-weight=\"600\""),
    );

    // Legend.
    for (ri, row) in legend_rows.iter().enumerate() {
        let y = legend_y0 + 18.0 * ri as f64;
        for (x, item) in row {
            let x = *x;
            match item.kind {
                LegendKind::Line(col, dash, w) => {
                    s.line(x, y - 4.0, x + 36.0, y - 4.0, col, w, dash)
                }
                LegendKind::Band => s.rect(
                    x,
                    y - 12.0,
                    36.0,
                    14.0,
                    "fill=\"#f3e3bf\" stroke=\"#c9a34a\" stroke-dasharray=\"3 2\"",
                ),
                LegendKind::Tick => {
                    s.line(x + 18.0, y - 12.0, x + 18.0, y + 2.0, MARK, 2.0, "");
                }
                LegendKind::Dot => {
                    let _ = writeln!(
                        s.out,
                        "<circle cx=\"{}\" cy=\"{}\" r=\"3\" fill=\"{MUTED}\"/>",
                        c(x + 18.0),
                        c(y - 4.0)
                    );
                }
            }
            s.text(x + 44.0, y, &item.label, &sans(11.5, "start", INK, ""));
        }
    }

    // Freeze band under everything else.
    if let Some((a, b, n)) = plateau {
        let (xa0, xa1) = (xm(a.min(b)), xm(a.max(b)));
        s.rect(
            xa0,
            plot_top,
            (xa1 - xa0).max(1.0),
            PLOT_H,
            "fill=\"#f3e3bf\" stroke=\"#c9a34a\" stroke-dasharray=\"3 2\"",
        );
        s.text(
            (xa0 + 6.0).min(px1 - 4.0),
            plot_top + 16.0,
            &format!("freeze after {}", fmt_bytes(n)),
            &sans(11.0, "start", "#7a5a12", "font-weight=\"600\""),
        );
    }

    // Grid, axes and tick labels.
    for &v in &ya.ticks {
        let y = ya.map(v, plot_bottom, plot_top);
        s.line(px0, y, px1, y, GRID, 1.0, "");
        s.text(px0 - 8.0, y + 4.0, &ya.label(v), &mono(11.0, "end", MUTED));
    }
    for &t in &xa.ticks {
        let x = xa.map(t, px0, px1);
        s.line(x, plot_bottom, x, plot_bottom + 5.0, MUTED, 1.0, "");
        s.text(
            x,
            plot_bottom + 19.0,
            &xa.label(t),
            &mono(11.0, "middle", MUTED),
        );
    }
    s.line(px0, plot_top, px0, plot_bottom, MUTED, 1.0, "");
    s.line(px0, plot_bottom, px1, plot_bottom, MUTED, 1.0, "");
    s.text(
        (px0 + px1) / 2.0,
        x_axis_label_y,
        "time (s)",
        &sans(11.5, "middle", MUTED, ""),
    );
    let ymid = (plot_top + plot_bottom) / 2.0;
    s.text(
        18.0,
        ymid,
        &format!("goodput ({unit})"),
        &sans(
            11.5,
            "middle",
            MUTED,
            &format!("transform=\"rotate(-90 18 {})\"", c(ymid)),
        ),
    );

    // Lines, comparison flows first so the suspect one is drawn on top.
    for (i, (_, pts)) in lines.iter().enumerate().rev() {
        if pts.is_empty() {
            continue;
        }
        let (col, dash) = PALETTE.get(i).copied().unwrap_or(("#000000", ""));
        let width = if i == 0 { 2.6 } else { 1.6 };
        let coords: Vec<String> = pts
            .iter()
            .map(|(t, v)| format!("{},{}", c(xm(*t)), c(ym(*v))))
            .collect();
        let dash = if dash.is_empty() {
            String::new()
        } else {
            format!(" stroke-dasharray=\"{dash}\"")
        };
        let _ = writeln!(
            s.out,
            "<polyline points=\"{}\" fill=\"none\" stroke=\"{col}\" stroke-width=\"{}\" stroke-linejoin=\"round\"{dash}/>",
            coords.join(" "),
            fixed(width, 1)
        );
        if pts.len() == 1 {
            if let Some((t, v)) = pts.first() {
                let _ = writeln!(
                    s.out,
                    "<circle cx=\"{}\" cy=\"{}\" r=\"3\" fill=\"{col}\"/>",
                    c(xm(*t)),
                    c(ym(*v))
                );
            }
        }
    }

    if let Some(r) = rate {
        let y = ym(r);
        s.line(px0, y, px1, y, INK, 1.4, "6 4");
        s.text(
            px1 - 4.0,
            y - 6.0,
            &format!("policing rate ≈ {} kbit/s", short(r, 1)),
            &sans(11.0, "end", INK, "font-weight=\"600\""),
        );
    }

    for t in &losses {
        let x = xm(*t);
        s.line(x, plot_bottom - 10.0, x, plot_bottom, MARK, 2.0, "");
    }

    if !rtt.is_empty() {
        let r_hi = rtt.iter().map(|(_, v)| *v).fold(0.0, f64::max);
        let r_lo = rtt.iter().map(|(_, v)| *v).fold(0.0, f64::min);
        let ra = Axis::new(r_lo, r_hi * 1.05, 3);
        for &v in &ra.ticks {
            let y = ra.map(v, rtt_bottom, rtt_top);
            s.line(px0, y, px1, y, GRID, 1.0, "");
            s.text(px0 - 8.0, y + 4.0, &ra.label(v), &mono(11.0, "end", MUTED));
        }
        for &t in &xa.ticks {
            let x = xa.map(t, px0, px1);
            s.line(x, rtt_bottom, x, rtt_bottom + 5.0, MUTED, 1.0, "");
        }
        s.line(px0, rtt_top, px0, rtt_bottom, MUTED, 1.0, "");
        s.line(px0, rtt_bottom, px1, rtt_bottom, MUTED, 1.0, "");
        let rmid = (rtt_top + rtt_bottom) / 2.0;
        s.text(
            18.0,
            rmid,
            "RTT (ms)",
            &sans(
                11.5,
                "middle",
                MUTED,
                &format!("transform=\"rotate(-90 18 {})\"", c(rmid)),
            ),
        );
        for (t, v) in &rtt {
            let _ = writeln!(
                s.out,
                "<circle cx=\"{}\" cy=\"{}\" r=\"2.2\" fill=\"{MUTED}\"/>",
                c(xm(*t)),
                c(ra.map(*v, rtt_bottom, rtt_top))
            );
        }
        s.text(
            (px0 + px1) / 2.0,
            rtt_bottom + 22.0,
            "round-trip time samples (same time axis)",
            &sans(11.0, "middle", MUTED, ""),
        );
    }
    if dropped_lines > 0 {
        s.text(
            LEFT,
            h - 8.0,
            &format!(
                "… {dropped_lines} more comparison line{} not drawn",
                if dropped_lines == 1 { "" } else { "s" }
            ),
            &sans(11.0, "start", MUTED, "font-style=\"italic\""),
        );
    }
    s.finish()
}

// ---------------------------------------------------------------------------------------------
// DNS timeline
// ---------------------------------------------------------------------------------------------

/// Which DNS messages a timeline shows: queries and cited responses first, then the others in
/// capture order, at most `cap`, returned in capture order.
fn dns_rows(events: &[DnsEvent], cap: usize) -> Vec<usize> {
    let mut order: Vec<(bool, usize)> = events
        .iter()
        .enumerate()
        .map(|(i, e)| (!(e.is_query || e.marked), i))
        .collect();
    order.sort_unstable();
    let mut keep: Vec<usize> = order.into_iter().take(cap).map(|(_, i)| i).collect();
    keep.sort_unstable();
    keep
}

/// A DNS query and every response to it on one time axis: one row per message with its frame,
/// time, TTL and answers, the marker placed at its time; cited responses red with a dashed ring
/// on a tinted row.
pub fn dns_timeline(d: &DnsTimeline) -> String {
    const W: f64 = 900.0;
    const PX0: f64 = 318.0;
    const PX1: f64 = 580.0;
    const ANS_X: f64 = 620.0;
    const ROW: f64 = 28.0;

    let keep = dns_rows(&d.events, MAX_DNS_EVENTS);
    let shown: Vec<&DnsEvent> = keep.iter().filter_map(|&i| d.events.get(i)).collect();
    let hidden = d.events.len().saturating_sub(shown.len());
    let t_lo = shown
        .iter()
        .map(|e| e.t_ms)
        .filter(|t| t.is_finite())
        .fold(0.0, f64::min);
    let t_hi = shown
        .iter()
        .map(|e| e.t_ms)
        .filter(|t| t.is_finite())
        .fold(0.0, f64::max);
    let xa = Axis::new(t_lo, t_hi, 5);

    let axis_y = 72.0;
    let top = axis_y + 26.0;
    let rows_h = ROW * shown.len().max(1) as f64;
    let mut bottom = top + rows_h;
    if hidden > 0 {
        bottom += 20.0;
    }
    let legend_y = bottom + 22.0;
    let h = legend_y + 20.0;

    let responses = d.events.iter().filter(|e| !e.is_query).count();
    let marked: Vec<String> = d
        .events
        .iter()
        .filter(|e| e.marked)
        .take(20)
        .map(|e| e.frame.to_string())
        .collect();
    let title = format!("DNS timeline: {}", d.question);
    let mut desc = format!(
        "{} quer{} for {} from {} to {} and {} response{}, on one time axis in milliseconds",
        d.events.len() - responses,
        if d.events.len() - responses == 1 {
            "y"
        } else {
            "ies"
        },
        d.question,
        d.client,
        d.resolver,
        responses,
        if responses == 1 { "" } else { "s" }
    );
    if !marked.is_empty() {
        let _ = write!(
            desc,
            "; suspect (forged or out of line): frames {}",
            marked.join(", ")
        );
    }
    desc.push('.');
    let mut s = Svg::new(W, h, &title, &desc);
    s.text(
        12.0,
        22.0,
        &clip(&format!("DNS: {}", d.question), 100),
        &sans(14.0, "start", INK, "font-weight=\"600\""),
    );
    s.text(
        12.0,
        40.0,
        &clip(
            &format!("client {} → resolver {}", d.client, d.resolver),
            120,
        ),
        &mono(11.5, "start", MUTED),
    );

    // Header and time axis.
    s.text(12.0, axis_y - 2.0, "frame", &sans(11.0, "start", MUTED, ""));
    s.text(62.0, axis_y - 2.0, "time", &sans(11.0, "start", MUTED, ""));
    s.text(
        160.0,
        axis_y - 2.0,
        "message",
        &sans(11.0, "start", MUTED, ""),
    );
    s.text(
        ANS_X,
        axis_y - 2.0,
        "answers",
        &sans(11.0, "start", MUTED, ""),
    );
    s.line(PX0, axis_y + 6.0, PX1, axis_y + 6.0, MUTED, 1.0, "");
    for &t in &xa.ticks {
        let x = xa.map(t, PX0, PX1);
        s.line(x, axis_y + 6.0, x, bottom, GRID, 1.0, "");
        s.text(x, axis_y - 2.0, &xa.label(t), &mono(10.5, "middle", MUTED));
    }
    s.text(
        (PX0 + PX1) / 2.0,
        axis_y - 18.0,
        "ms since the query",
        &sans(11.0, "middle", MUTED, ""),
    );

    let mut y = top;
    if shown.is_empty() {
        s.text(
            12.0,
            y + 4.0,
            "no messages to show",
            &sans(11.0, "start", MUTED, "font-style=\"italic\""),
        );
    }
    for e in &shown {
        let kind = if e.is_query { "query" } else { "response" };
        let mut tip = format!(
            "frame {}, {}, {kind}, TTL {}",
            e.frame,
            fmt_ms(e.t_ms),
            e.ttl
        );
        if !e.answers.is_empty() {
            let _ = write!(tip, ": {}", e.answers);
        }
        if e.marked {
            tip.push_str(" [suspect (forged or out of line)]");
        }
        s.group_start(&tip);
        if e.marked {
            s.rect(
                4.0,
                y - 14.0,
                W - 8.0,
                ROW - 2.0,
                &format!("fill=\"{MARK_BG}\" rx=\"3\""),
            );
        }
        let ink = if e.marked { MARK } else { INK };
        s.text(
            12.0,
            y + 4.0,
            &format!("#{}", e.frame),
            &format!("{} font-weight=\"600\"", mono(11.5, "start", ink)),
        );
        s.text(62.0, y + 4.0, &fmt_ms(e.t_ms), &mono(11.0, "start", MUTED));
        s.text(
            160.0,
            y + 4.0,
            &format!("{kind} · TTL {}", e.ttl),
            &sans(
                11.5,
                "start",
                ink,
                if e.marked { "font-weight=\"700\"" } else { "" },
            ),
        );
        s.line(PX0, y, PX1, y, "#eaeef2", 1.0, "");
        let x = xa.map(if e.t_ms.is_finite() { e.t_ms } else { 0.0 }, PX0, PX1);
        if e.is_query {
            s.rect(x - 5.0, y - 5.0, 10.0, 10.0, &format!("fill=\"{C2S}\""));
        } else if e.marked {
            let _ = writeln!(
                s.out,
                "<circle cx=\"{0}\" cy=\"{1}\" r=\"9\" fill=\"none\" stroke=\"{MARK}\" stroke-width=\"1.6\" stroke-dasharray=\"3 2\"/>\n<circle cx=\"{0}\" cy=\"{1}\" r=\"5\" fill=\"{MARK}\"/>",
                c(x),
                c(y)
            );
        } else {
            let _ = writeln!(
                s.out,
                "<circle cx=\"{}\" cy=\"{}\" r=\"5\" fill=\"{S2C}\"/>",
                c(x),
                c(y)
            );
        }
        let answers = if e.is_query && e.answers.is_empty() {
            String::new()
        } else if e.answers.is_empty() {
            "(no answers)".to_string()
        } else {
            e.answers.clone()
        };
        s.text(
            ANS_X,
            y + 4.0,
            &clip(&answers, 44),
            &mono(11.0, "start", ink),
        );
        s.group_end();
        y += ROW;
    }
    if hidden > 0 {
        s.text(
            12.0,
            y + 2.0,
            &format!(
                "… {hidden} more message{} not shown",
                if hidden == 1 { "" } else { "s" }
            ),
            &sans(11.0, "start", MUTED, "font-style=\"italic\""),
        );
    }

    // Legend.
    s.line(
        8.0,
        legend_y - 14.0,
        W - 8.0,
        legend_y - 14.0,
        GRID,
        1.0,
        "",
    );
    let mut x = 14.0;
    s.rect(
        x - 5.0,
        legend_y - 5.0,
        10.0,
        10.0,
        &format!("fill=\"{C2S}\""),
    );
    s.text(
        x + 12.0,
        legend_y + 4.0,
        "query",
        &sans(11.0, "start", INK, ""),
    );
    x += 80.0;
    let _ = writeln!(
        s.out,
        "<circle cx=\"{}\" cy=\"{}\" r=\"5\" fill=\"{S2C}\"/>",
        c(x),
        c(legend_y)
    );
    s.text(
        x + 12.0,
        legend_y + 4.0,
        "response",
        &sans(11.0, "start", INK, ""),
    );
    x += 100.0;
    s.rect(
        x - 12.0,
        legend_y - 11.0,
        170.0,
        22.0,
        &format!("fill=\"{MARK_BG}\" rx=\"3\""),
    );
    let _ = writeln!(
        s.out,
        "<circle cx=\"{0}\" cy=\"{1}\" r=\"9\" fill=\"none\" stroke=\"{MARK}\" stroke-width=\"1.6\" stroke-dasharray=\"3 2\"/>\n<circle cx=\"{0}\" cy=\"{1}\" r=\"5\" fill=\"{MARK}\"/>",
        c(x),
        c(legend_y)
    );
    s.text(
        x + 16.0,
        legend_y + 4.0,
        "suspect (forged or out of line)",
        &sans(11.0, "start", MARK, "font-weight=\"600\""),
    );
    s.finish()
}

#[cfg(test)]
pub(super) mod tests {
    use super::super::pictures::{SeriesLine, SeriesPlot};
    use super::super::snapshot::assert_snapshot;
    use super::*;

    fn pkt(
        frame: u64,
        t_ms: f64,
        from_client: bool,
        label: &str,
        ttl: u8,
        ip_id: u32,
    ) -> LadderPacket {
        LadderPacket {
            frame,
            t_ms,
            from_client,
            label: label.to_string(),
            ttl,
            ip_id: Some(ip_id),
            note: String::new(),
            marked: false,
        }
    }

    /// A Great Firewall-style reset burst after an HTTP request.
    pub(in crate::report) fn example_ladder() -> Ladder {
        let mut packets = vec![
            pkt(1, 0.0, true, "SYN", 64, 40001),
            pkt(2, 180.0, false, "SYN ACK", 52, 24097),
            pkt(3, 180.2, true, "ACK", 64, 40002),
            pkt(4, 180.3, true, "PSH ACK 77 B", 64, 40003),
        ];
        if let Some(p) = packets.last_mut() {
            p.note = "HTTP GET, Host: blocked.example".into();
        }
        for (i, f) in [5u64, 6, 7].iter().enumerate() {
            let mut p = pkt(*f, 183.3 + 0.025 * i as f64, false, "RST ACK", 96, 15407);
            p.marked = true;
            p.note = "forged: TTL 96, IP ID off the counter".into();
            packets.push(p);
        }
        let mut real = pkt(8, 361.2, false, "PSH ACK 1460 B", 52, 24098);
        real.note = "real server keeps sending".into();
        packets.push(real);
        packets.push(pkt(9, 361.3, false, "FIN PSH ACK 320 B", 52, 24099));
        Ladder {
            client: "192.168.1.20:59881".into(),
            server: "198.51.100.80:80".into(),
            packets,
            elided_before: 0,
            elided_after: 2,
            baseline: vec![
                ("server TTL".into(), "52".into()),
                ("server IP ID".into(), "+1 per packet from 24097".into()),
                ("handshake RTT".into(), "180.0 ms".into()),
                (
                    "client TTL".into(),
                    "64 (capture taken at the client)".into(),
                ),
            ],
        }
    }

    /// A flow policed to about 500 kbit/s next to two unhindered flows to the same network.
    pub(in crate::report) fn example_series() -> SeriesPlot {
        let suspect: Vec<(f64, f64)> = (0..120)
            .map(|i| {
                let t = i as f64 * 0.25;
                let burst = if i < 6 {
                    4000.0 - 550.0 * i as f64
                } else {
                    0.0
                };
                let wobble = ((i * 37) % 11) as f64 * 9.0 - 45.0;
                (t, (500.0 + wobble).max(burst))
            })
            .collect();
        let cmp = |base: f64, seed: usize| -> Vec<(f64, f64)> {
            (0..120)
                .map(|i| {
                    let t = i as f64 * 0.25;
                    let v = base + ((i * seed) % 13) as f64 * 40.0 - 260.0;
                    (t, v)
                })
                .collect()
        };
        SeriesPlot {
            title:
                "Goodput server → client, flow 17 (video.example) against 2 flows to 203.0.113.0/24"
                    .into(),
            lines: vec![
                SeriesLine {
                    label: "flow 17 video.example (suspect)".into(),
                    points: suspect,
                },
                SeriesLine {
                    label: "flow 3 static.example".into(),
                    points: cmp(7600.0, 7),
                },
                SeriesLine {
                    label: "flow 44 cdn.example".into(),
                    points: cmp(6100.0, 5),
                },
            ],
            rate_kbps: Some(512.0),
            losses_s: vec![1.5, 1.52, 3.75, 6.0, 9.25, 13.5, 18.0, 24.25],
            rtt_ms: (0..60)
                .map(|i| (i as f64 * 0.5, 180.0 + ((i * 13) % 17) as f64 * 6.0))
                .collect(),
            plateau: None,
        }
    }

    /// A transfer that froze after 15 kB.
    fn example_freeze() -> SeriesPlot {
        let mut pts: Vec<(f64, f64)> = (0..8)
            .map(|i| (i as f64 * 0.1, 1200.0 - 100.0 * i as f64))
            .collect();
        pts.extend((8..40).map(|i| (i as f64 * 0.5 - 3.2, 0.0)));
        SeriesPlot {
            title: "Transfer freeze: flow 9 (blocked.example)".into(),
            lines: vec![SeriesLine {
                label: "flow 9 server → client".into(),
                points: pts,
            }],
            rate_kbps: None,
            losses_s: vec![],
            rtt_ms: vec![],
            plateau: Some((0.7, 16.3, 15_232.0)),
        }
    }

    /// An injected DNS answer racing the real one.
    pub(in crate::report) fn example_dns() -> DnsTimeline {
        DnsTimeline {
            question: "blocked.example A".into(),
            client: "10.0.0.2:53211".into(),
            resolver: "8.8.8.8:53".into(),
            events: vec![
                DnsEvent {
                    frame: 12,
                    t_ms: 0.0,
                    is_query: true,
                    answers: String::new(),
                    ttl: 64,
                    marked: false,
                },
                DnsEvent {
                    frame: 13,
                    t_ms: 2.104,
                    is_query: false,
                    answers: "A 8.7.198.45".into(),
                    ttl: 96,
                    marked: true,
                },
                DnsEvent {
                    frame: 14,
                    t_ms: 2.350,
                    is_query: false,
                    answers: "A 8.7.198.45".into(),
                    ttl: 91,
                    marked: true,
                },
                DnsEvent {
                    frame: 17,
                    t_ms: 181.77,
                    is_query: false,
                    answers: "A 93.184.216.34".into(),
                    ttl: 57,
                    marked: false,
                },
            ],
        }
    }

    #[test]
    fn fixed_is_stable_and_sane() {
        assert_eq!(fixed(1.0, 2), "1.00");
        assert_eq!(fixed(2.5, 0), "2");
        assert_eq!(fixed(-0.0001, 2), "0.00");
        assert_eq!(fixed(-0.0, 1), "0.0");
        assert_eq!(fixed(-1.25, 1), "-1.2");
        assert_eq!(fixed(f64::NAN, 1), "0.0");
        assert_eq!(fixed(f64::INFINITY, 0), "0");
        assert_eq!(fixed(f64::NEG_INFINITY, 3), "0.000");
        assert_eq!(fixed(1e300, 0), "1000000000000");
        assert_eq!(short(180.0, 3), "180");
        assert_eq!(short(0.250, 3), "0.25");
        assert_eq!(short(-0.0004, 3), "0");
        assert_eq!(fmt_ms(3.1045), "3.104 ms");
        assert_eq!(fmt_ms(12_250.0), "12.250 s");
        assert_eq!(fmt_ms(f64::NAN), "0.000 ms");
        assert_eq!(fmt_bytes(950.0), "950 B");
        assert_eq!(fmt_bytes(15_232.0), "15.2 kB");
        assert_eq!(fmt_bytes(3_400_000.0), "3.40 MB");
    }

    #[test]
    fn wrap_lines() {
        assert_eq!(
            wrap("+1 per packet from 24097", 12, 3),
            ["+1 per", "packet from", "24097"]
        );
        assert_eq!(wrap("short", 12, 3), ["short"]);
        assert_eq!(wrap("", 12, 3), [""]);
        assert_eq!(wrap("abcdefghij", 4, 3), ["abcd", "efgh", "ij"]);
        let w = wrap("one two three four five six seven", 9, 2);
        assert_eq!(w.len(), 2);
        assert!(w[1].ends_with('…') && w[1].chars().count() <= 9, "{w:?}");
    }

    #[test]
    fn nice_ticks() {
        assert_eq!(nice_step(7.3, 5), 2.0);
        assert_eq!(nice_step(100.0, 5), 20.0);
        assert_eq!(nice_step(0.9, 4), 0.5);
        assert_eq!(nice_step(0.0, 5), 0.2);
        assert_eq!(nice_step(f64::NAN, 5), 0.2);
        let a = Axis::new(0.0, 7.3, 5);
        assert_eq!(a.ticks, vec![0.0, 2.0, 4.0, 6.0, 8.0]);
        assert_eq!((a.lo, a.hi, a.decimals), (0.0, 8.0, 0));
        let a = Axis::new(0.0, 0.9, 4);
        let labels: Vec<String> = a.ticks.iter().map(|t| a.label(*t)).collect();
        assert_eq!(labels, ["0.0", "0.5", "1.0"]);
        let a = Axis::new(0.0, 0.0, 5);
        assert_eq!(a.hi, 1.0);
        let a = Axis::new(f64::NAN, f64::INFINITY, 5);
        assert!(a.ticks.iter().all(|t| t.is_finite()));
        let a = Axis::new(0.0, 1e300, 5);
        assert!(a.ticks.len() <= 41);
        let a = Axis::new(-f64::MAX, f64::MAX, 5);
        assert!(a.ticks.iter().all(|t| t.is_finite()) && a.hi > a.lo);
    }

    #[test]
    fn downsample_keeps_extremes_and_bounds_size() {
        let pts: Vec<(f64, f64)> = (0..10_000)
            .map(|i| (i as f64, if i == 4321 { 1e6 } else { (i % 100) as f64 }))
            .collect();
        let d = downsample(&pts, 600);
        assert!(d.len() <= 600);
        assert!(d.contains(&(4321.0, 1e6)));
        assert!(d.windows(2).all(|w| w[0].0 <= w[1].0));
        let with_nan = [
            (0.0, 1.0),
            (f64::NAN, 2.0),
            (2.0, f64::INFINITY),
            (3.0, 4.0),
        ];
        assert_eq!(downsample(&with_nan, 600), vec![(0.0, 1.0), (3.0, 4.0)]);
    }

    #[test]
    fn ladder_snapshot() {
        assert_snapshot("ladder.svg", &ladder(&example_ladder()));
    }

    #[test]
    fn series_snapshot() {
        assert_snapshot("series.svg", &series(&example_series()));
        assert_snapshot("series-freeze.svg", &series(&example_freeze()));
    }

    #[test]
    fn dns_timeline_snapshot() {
        assert_snapshot("dns-timeline.svg", &dns_timeline(&example_dns()));
    }

    #[test]
    fn long_ladder_is_capped_around_the_cited_packets() {
        let packets: Vec<LadderPacket> = (0..5000u64)
            .map(|i| {
                let mut p = pkt(i + 1, i as f64 * 3.0, i % 2 == 0, "ACK", 52, i as u32);
                p.marked = i == 2500 || i == 4999;
                p
            })
            .collect();
        let l = Ladder {
            client: "a".into(),
            server: "b".into(),
            packets,
            elided_before: 7,
            ..Ladder::default()
        };
        let svg = ladder(&l);
        let rows = svg.matches("<g>").count();
        assert_eq!(rows, MAX_LADDER_ROWS);
        assert!(svg.contains("#2501"), "the cited packet is drawn");
        assert!(svg.contains("#5000"), "the last cited packet is drawn");
        assert!(svg.contains("#1<"), "the flow's start is drawn");
        assert!(svg.contains("… 7 earlier packets of the flow not shown"));
        assert!(svg.contains("not shown"));
        assert!(svg.len() < 100_000, "{} bytes", svg.len());
    }

    #[test]
    fn sizes_are_bounded_and_numbers_finite_whatever_the_input() {
        let huge: Vec<(f64, f64)> = (0..200_000)
            .map(|i| {
                (
                    i as f64 * 0.001,
                    if i % 7 == 0 {
                        f64::NAN
                    } else {
                        (i % 1000) as f64
                    },
                )
            })
            .collect();
        let p = SeriesPlot {
            title: "<b>&title</b>".into(),
            lines: (0..20)
                .map(|i| SeriesLine {
                    label: format!("line {i} \"quoted\""),
                    points: if i == 1 {
                        vec![(0.0, f64::MAX), (f64::MAX, -f64::MAX), (-1e300, 1.0)]
                    } else {
                        huge.clone()
                    },
                })
                .collect(),
            rate_kbps: Some(f64::INFINITY),
            losses_s: (0..100_000).map(|i| i as f64 * 0.002).collect(),
            rtt_ms: (0..100_000).map(|i| (i as f64 * 0.002, f64::NAN)).collect(),
            plateau: Some((f64::NAN, 1.0, 2.0)),
        };
        let svg = series(&p);
        assert!(svg.len() < 400_000, "{} bytes", svg.len());
        assert!(!svg.contains("NaN") && !svg.contains("inf"));
        assert!(!svg.contains("<b>") && svg.contains("&lt;b&gt;&amp;title"));
        assert!(svg.contains("12 more comparison lines not drawn"));
        let d = DnsTimeline {
            question: "x\u{202e}y".into(),
            events: (0..1000)
                .map(|i| DnsEvent {
                    frame: i,
                    t_ms: if i == 3 { f64::NAN } else { i as f64 },
                    is_query: i == 0,
                    answers: "<script>".into(),
                    ttl: 1,
                    marked: i == 999,
                })
                .collect(),
            ..DnsTimeline::default()
        };
        let svg = dns_timeline(&d);
        assert_eq!(svg.matches("<g>").count(), MAX_DNS_EVENTS);
        assert!(svg.contains("#999<"), "the cited response is kept");
        assert!(svg.contains("960 more messages not shown"));
        assert!(!svg.contains("<script") && !svg.contains('\u{202e}'));
        assert!(!svg.contains("NaN"));
        // Empty pictures still render.
        for s in [
            ladder(&Ladder::default()),
            series(&SeriesPlot::default()),
            dns_timeline(&DnsTimeline::default()),
        ] {
            assert!(s.starts_with("<svg ") && s.ends_with("</svg>\n"));
            assert!(!s.contains("NaN"));
        }
    }

    #[test]
    fn rendering_is_deterministic_and_accessible() {
        for s in [
            ladder(&example_ladder()),
            series(&example_series()),
            dns_timeline(&example_dns()),
        ] {
            assert!(s.contains("role=\"img\"") && s.contains("viewBox=\"0 0 "));
            assert!(s.contains("<title>") && s.contains("<desc>"));
            assert!(
                !s.contains("id="),
                "no element ids: pictures share one page"
            );
        }
        assert_eq!(ladder(&example_ladder()), ladder(&example_ladder()));
        assert_eq!(series(&example_series()), series(&example_series()));
        let l = ladder(&example_ladder());
        assert!(l.contains("suspect (forged or out of line)"));
        assert!(l.contains("stroke-dasharray=\"7 4\""));
        assert!(l.contains("TTL 96 · IP ID 15407"));
        assert!(l.contains("… 2 later packets of the flow not shown"));
    }
}
