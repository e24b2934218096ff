//! Capture time in nanoseconds (timestamps and spans); it never reads the wall clock.
//!
//! Every timestamp in tamper is the capture's own, kept at nanosecond resolution from the
//! file to the report. Analysis never looks at the machine's clock, so the same capture gives
//! the same report anywhere.

use std::fmt;

use serde::{Serialize, Serializer};

const NANOS_PER_SEC: i64 = 1_000_000_000;

/// A point in capture time: nanoseconds since the Unix epoch (UTC), as recorded in the file.
///
/// `i64` nanoseconds cover the years 1677 to 2262; pcap timestamps (unsigned 32-bit seconds)
/// all fit.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(i64);

impl Timestamp {
    /// The Unix epoch.
    pub const EPOCH: Timestamp = Timestamp(0);

    /// From nanoseconds since the epoch.
    pub const fn from_nanos(ns: i64) -> Timestamp {
        Timestamp(ns)
    }

    /// From whole seconds plus a nanosecond fraction (saturating).
    pub fn from_parts(secs: i64, nanos: i64) -> Timestamp {
        Timestamp(secs.saturating_mul(NANOS_PER_SEC).saturating_add(nanos))
    }

    /// Nanoseconds since the epoch.
    pub const fn as_nanos(self) -> i64 {
        self.0
    }

    /// Seconds since the epoch as a float (for display and plots only).
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / NANOS_PER_SEC as f64
    }

    /// The span from `earlier` to `self` (negative if `earlier` is later).
    pub fn since(self, earlier: Timestamp) -> Span {
        Span(self.0.saturating_sub(earlier.0))
    }

    /// This timestamp moved by `span`.
    pub fn plus(self, span: Span) -> Timestamp {
        Timestamp(self.0.saturating_add(span.0))
    }

    /// RFC 3339 UTC with nanoseconds, e.g. `2020-08-20T22:52:46.123456789Z`.
    pub fn to_rfc3339(self) -> String {
        self.to_string()
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs = self.0.div_euclid(NANOS_PER_SEC);
        let nanos = self.0.rem_euclid(NANOS_PER_SEC);
        let days = secs.div_euclid(86_400);
        let sod = secs.rem_euclid(86_400);
        let (y, m, d) = civil_from_days(days);
        write!(
            f,
            "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{nanos:09}Z",
            sod / 3600,
            (sod / 60) % 60,
            sod % 60
        )
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// Converts days since 1970-01-01 to a (year, month, day) civil date (proleptic Gregorian).
///
/// The algorithm is the well-known era-based conversion described by Howard Hinnant in
/// "chrono-Compatible Low-Level Date Algorithms".
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// A signed span of capture time in nanoseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Span(i64);

impl Span {
    /// No time.
    pub const ZERO: Span = Span(0);

    /// From nanoseconds.
    pub const fn from_nanos(ns: i64) -> Span {
        Span(ns)
    }

    /// From microseconds.
    pub const fn from_micros(us: i64) -> Span {
        Span(us * 1_000)
    }

    /// From milliseconds.
    pub const fn from_millis(ms: i64) -> Span {
        Span(ms * 1_000_000)
    }

    /// From whole seconds.
    pub const fn from_secs(s: i64) -> Span {
        Span(s * NANOS_PER_SEC)
    }

    /// Nanoseconds.
    pub const fn as_nanos(self) -> i64 {
        self.0
    }

    /// Milliseconds as a float (for evidence and display).
    pub fn as_millis_f64(self) -> f64 {
        self.0 as f64 / 1_000_000.0
    }

    /// Seconds as a float (for evidence and display).
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / NANOS_PER_SEC as f64
    }

    /// The span without its sign.
    pub fn abs(self) -> Span {
        Span(self.0.saturating_abs())
    }

    /// True for a negative span (the end before the start).
    pub fn is_negative(self) -> bool {
        self.0 < 0
    }
}

impl fmt::Display for Span {
    /// Human form with a unit chosen by size: `850 µs`, `3.2 ms`, `1.25 s`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ns = self.0;
        let abs = ns.unsigned_abs();
        if abs < 1_000 {
            write!(f, "{ns} ns")
        } else if abs < 1_000_000 {
            write!(f, "{:.0} µs", ns as f64 / 1e3)
        } else if abs < 1_000_000_000 {
            write!(f, "{:.1} ms", ns as f64 / 1e6)
        } else {
            write!(f, "{:.2} s", ns as f64 / 1e9)
        }
    }
}

impl Serialize for Span {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_i64(self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_known_dates() {
        assert_eq!(
            Timestamp::EPOCH.to_string(),
            "1970-01-01T00:00:00.000000000Z"
        );
        // 2012-06-29 07:28:25.298858 UTC (pcapng spec example).
        let t = Timestamp::from_parts(1_340_954_905, 298_858_000);
        assert_eq!(t.to_string(), "2012-06-29T07:28:25.298858000Z");
        // Leap day and a nanosecond fraction.
        let t = Timestamp::from_parts(1_582_934_400, 123_456_789);
        assert_eq!(t.to_string(), "2020-02-29T00:00:00.123456789Z");
        // Before the epoch.
        let t = Timestamp::from_nanos(-1);
        assert_eq!(t.to_string(), "1969-12-31T23:59:59.999999999Z");
    }

    #[test]
    fn spans() {
        let a = Timestamp::from_parts(10, 0);
        let b = Timestamp::from_parts(10, 3_000_000);
        assert_eq!(b.since(a), Span::from_millis(3));
        assert!(a.since(b).is_negative());
        assert_eq!(a.plus(Span::from_millis(3)), b);
        assert_eq!(Span::from_millis(3).to_string(), "3.0 ms");
        assert_eq!(Span::from_micros(850).to_string(), "850 µs");
        assert_eq!(Span::from_secs(2).to_string(), "2.00 s");
    }
}
