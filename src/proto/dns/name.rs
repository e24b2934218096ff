//! Decodes DNS domain names (with compression pointers) from a message; it keeps the original
//! case of every label and never allocates more than one bounded name at a time.
//!
//! Names are rendered in presentation form (RFC 1035 §5.1): labels joined by `.`, no trailing
//! dot (the root name is `.`), and any byte that is not printable ASCII, or is `.` or `\`, escaped
//! as `\DDD` / `\.` / `\\`. Because the case of every label is kept, 0x20 randomisation (a resolver
//! mixing the case of the query name, and an answer copying it back) stays observable.

#![cfg_attr(
    not(test),
    deny(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used)
)]

use std::fmt;

use serde::{Serialize, Serializer};

use super::parse::{DnsLimits, DnsMalformedKind, ForwardPointerPolicy};

/// RFC 1035 §2.3.4: a name is at most 255 octets on the wire (length octets included).
pub const MAX_NAME_WIRE_LEN: usize = 255;
/// RFC 1035 §2.3.4: a label is at most 63 octets (the two top bits of the length byte are zero).
pub const MAX_LABEL_LEN: u8 = 63;
/// RFC 1035 §3.1: with 255 octets and at least two octets per label, at most 127 labels fit.
pub const MAX_LABELS: usize = 127;
/// RFC 1035 §4.1.4: the two top bits `11` mark a compression pointer.
const POINTER_TAG: u8 = 0b1100_0000;
/// RFC 1035 §4.1.4: the low 14 bits of a pointer are the offset.
const POINTER_OFFSET_MASK: u16 = 0x3fff;
/// RFC 1035 §4.1.4: mask of the two label-type bits of a length byte.
const LABEL_TYPE_MASK: u8 = 0b1100_0000;

/// A domain name as found in a message, in presentation form with the original case.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DnsName {
    text: String,
    labels: u8,
    wire_len: u16,
}

impl DnsName {
    /// The root name `.`.
    pub fn root() -> Self {
        DnsName {
            text: ".".to_string(),
            labels: 0,
            wire_len: 1,
        }
    }

    /// Presentation form with the case exactly as sent (no trailing dot; the root is `.`).
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// ASCII-lowercased presentation form, for matching names case-insensitively.
    pub fn to_lowercase(&self) -> String {
        self.text.to_ascii_lowercase()
    }

    /// Whether this name equals `other` ignoring ASCII case (a trailing dot on `other` is ignored).
    pub fn eq_ignore_case(&self, other: &str) -> bool {
        let other = match other.strip_suffix('.') {
            Some(rest) if !rest.is_empty() => rest,
            _ => other,
        };
        self.text.eq_ignore_ascii_case(other)
    }

    /// Whether this name equals another name ignoring ASCII case.
    pub fn same_name(&self, other: &DnsName) -> bool {
        self.text.eq_ignore_ascii_case(&other.text)
    }

    /// Whether any label contains an upper-case ASCII letter (a sign of 0x20 randomisation).
    pub fn has_uppercase(&self) -> bool {
        self.text.bytes().any(|b| b.is_ascii_uppercase())
    }

    /// Whether this is the root name.
    pub fn is_root(&self) -> bool {
        self.labels == 0
    }

    /// Number of labels (the root label not counted).
    pub fn label_count(&self) -> u8 {
        self.labels
    }

    /// Length of the uncompressed wire form in octets (length bytes and final zero included).
    pub fn wire_len(&self) -> u16 {
        self.wire_len
    }
}

impl fmt::Display for DnsName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl Serialize for DnsName {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.text)
    }
}

/// A name decoding failure: what went wrong and at which message offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct NameError {
    pub kind: DnsMalformedKind,
    pub offset: usize,
}

/// A decoded name plus where the bytes following it start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct NameRead {
    pub name: DnsName,
    /// Offset just after the name at its original position (after the first pointer, if any).
    pub next: usize,
    /// How many compression pointers pointed forward (at or after themselves).
    pub forward_pointers: u32,
}

fn err(kind: DnsMalformedKind, offset: usize) -> NameError {
    NameError { kind, offset }
}

/// Appends one label to `text` in presentation form (RFC 1035 §5.1 escaping).
fn push_label(text: &mut String, label: &[u8]) {
    use fmt::Write as _;
    if !text.is_empty() {
        text.push('.');
    }
    for &b in label {
        match b {
            b'.' | b'\\' => {
                text.push('\\');
                text.push(char::from(b));
            }
            0x21..=0x7e => text.push(char::from(b)),
            _ => {
                // Writing to a String cannot fail.
                let _ = write!(text, "\\{b:03}");
            }
        }
    }
}

/// Decodes the name starting at `start` in `msg`, following compression pointers.
///
/// Every step is bounded: at most `limits.max_pointer_jumps` pointers, at most
/// [`MAX_NAME_WIRE_LEN`] octets and `limits.max_labels` labels, and a pointer seen twice in one
/// name is reported as [`DnsMalformedKind::PointerLoop`].
pub(crate) fn read_name(
    msg: &[u8],
    start: usize,
    limits: &DnsLimits,
) -> Result<NameRead, NameError> {
    let mut pos = start;
    let mut next: Option<usize> = None;
    let mut visited: Vec<usize> = Vec::new();
    let mut text = String::new();
    let mut labels: usize = 0;
    let mut wire_len: usize = 0;
    let mut forward_pointers: u32 = 0;
    let max_labels = limits.max_labels.min(MAX_LABELS);
    loop {
        let len_byte = *msg.get(pos).ok_or(err(DnsMalformedKind::Truncated, pos))?;
        match len_byte & LABEL_TYPE_MASK {
            0 if len_byte == 0 => {
                wire_len = wire_len.saturating_add(1);
                if wire_len > MAX_NAME_WIRE_LEN {
                    return Err(err(DnsMalformedKind::NameTooLong, pos));
                }
                let after = pos
                    .checked_add(1)
                    .ok_or(err(DnsMalformedKind::Truncated, pos))?;
                let next = next.unwrap_or(after);
                let text = if labels == 0 { ".".to_string() } else { text };
                return Ok(NameRead {
                    name: DnsName {
                        text,
                        labels: u8::try_from(labels).unwrap_or(u8::MAX),
                        wire_len: u16::try_from(wire_len).unwrap_or(u16::MAX),
                    },
                    next,
                    forward_pointers,
                });
            }
            0 => {
                let len = usize::from(len_byte);
                debug_assert!(len_byte <= MAX_LABEL_LEN);
                let label_start = pos.saturating_add(1);
                let label_end = label_start.saturating_add(len);
                let label = msg
                    .get(label_start..label_end)
                    .ok_or(err(DnsMalformedKind::Truncated, pos))?;
                wire_len = wire_len.saturating_add(1).saturating_add(len);
                // The terminating zero octet still has to fit.
                if wire_len >= MAX_NAME_WIRE_LEN {
                    return Err(err(DnsMalformedKind::NameTooLong, pos));
                }
                labels = labels.saturating_add(1);
                if labels > max_labels {
                    return Err(err(DnsMalformedKind::TooManyLabels, pos));
                }
                push_label(&mut text, label);
                pos = label_end;
            }
            POINTER_TAG => {
                let low = *msg
                    .get(pos.saturating_add(1))
                    .ok_or(err(DnsMalformedKind::Truncated, pos))?;
                let target = usize::from(u16::from_be_bytes([len_byte, low]) & POINTER_OFFSET_MASK);
                if next.is_none() {
                    next = Some(pos.saturating_add(2));
                }
                if visited.contains(&pos) {
                    return Err(err(DnsMalformedKind::PointerLoop, pos));
                }
                if visited.len() >= limits.max_pointer_jumps {
                    return Err(err(DnsMalformedKind::TooManyPointers, pos));
                }
                if target >= msg.len() {
                    return Err(err(DnsMalformedKind::PointerOutOfRange, pos));
                }
                if target >= pos {
                    // RFC 1035 §4.1.4 says pointers refer to a *prior* occurrence.
                    if target == pos {
                        return Err(err(DnsMalformedKind::PointerLoop, pos));
                    }
                    forward_pointers = forward_pointers.saturating_add(1);
                    if limits.forward_pointers == ForwardPointerPolicy::Reject {
                        return Err(err(DnsMalformedKind::ForwardPointer, pos));
                    }
                }
                visited.push(pos);
                pos = target;
            }
            _ => return Err(err(DnsMalformedKind::BadLabelType, pos)),
        }
    }
}

/// Skips over the name at `start` without decompressing it; returns the offset after it.
///
/// Used for records beyond the per-section limit: it checks label lengths and the 255-octet
/// bound of the part stored in place, but does not follow pointers.
pub(crate) fn skip_name(msg: &[u8], start: usize) -> Result<usize, NameError> {
    let mut pos = start;
    let mut wire_len: usize = 0;
    loop {
        let len_byte = *msg.get(pos).ok_or(err(DnsMalformedKind::Truncated, pos))?;
        match len_byte & LABEL_TYPE_MASK {
            0 if len_byte == 0 => return Ok(pos.saturating_add(1)),
            0 => {
                let len = usize::from(len_byte);
                wire_len = wire_len.saturating_add(1).saturating_add(len);
                if wire_len >= MAX_NAME_WIRE_LEN {
                    return Err(err(DnsMalformedKind::NameTooLong, pos));
                }
                let end = pos.saturating_add(1).saturating_add(len);
                if end > msg.len() {
                    return Err(err(DnsMalformedKind::Truncated, pos));
                }
                pos = end;
            }
            POINTER_TAG => {
                let end = pos.saturating_add(2);
                if end > msg.len() {
                    return Err(err(DnsMalformedKind::Truncated, pos));
                }
                return Ok(end);
            }
            _ => return Err(err(DnsMalformedKind::BadLabelType, pos)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> DnsLimits {
        DnsLimits::default()
    }

    #[test]
    fn plain_name_keeps_case() {
        let msg = b"\x03wWw\x07ExAmPlE\x03com\x00";
        let r = read_name(msg, 0, &limits()).unwrap();
        assert_eq!(r.name.as_str(), "wWw.ExAmPlE.com");
        assert_eq!(r.name.to_lowercase(), "www.example.com");
        assert!(r.name.has_uppercase());
        assert!(r.name.eq_ignore_case("WWW.example.COM."));
        assert_eq!(r.name.label_count(), 3);
        assert_eq!(r.name.wire_len(), 17);
        assert_eq!(r.next, msg.len());
    }

    #[test]
    fn root_name() {
        let r = read_name(b"\x00", 0, &limits()).unwrap();
        assert!(r.name.is_root());
        assert_eq!(r.name.as_str(), ".");
        assert_eq!(r.next, 1);
    }

    #[test]
    fn escapes_odd_bytes() {
        let msg = b"\x04a.b\\\x02\x00 \x00";
        let r = read_name(msg, 0, &limits()).unwrap();
        assert_eq!(r.name.as_str(), "a\\.b\\\\.\\000\\032");
    }

    #[test]
    fn pointer_back() {
        // "com" at 0, then "example" + pointer to 0 at offset 5.
        let msg = b"\x03com\x00\x07example\xc0\x00";
        let r = read_name(msg, 5, &limits()).unwrap();
        assert_eq!(r.name.as_str(), "example.com");
        assert_eq!(r.next, msg.len());
        assert_eq!(r.forward_pointers, 0);
    }

    #[test]
    fn self_pointer_is_loop() {
        let msg = b"\x00\x00\xc0\x02";
        let e = read_name(msg, 2, &limits()).unwrap_err();
        assert_eq!(e.kind, DnsMalformedKind::PointerLoop);
        assert_eq!(e.offset, 2);
    }

    #[test]
    fn two_pointer_loop() {
        // offset 0: label "a" then pointer to 4; offset 4: pointer to 0.
        let msg = b"\x01a\xc0\x04\xc0\x00";
        let e = read_name(msg, 0, &limits()).unwrap_err();
        assert_eq!(e.kind, DnsMalformedKind::PointerLoop);
    }

    #[test]
    fn forward_pointer_followed_or_rejected() {
        let msg = b"\xc0\x02\x03com\x00";
        let r = read_name(msg, 0, &limits()).unwrap();
        assert_eq!(r.name.as_str(), "com");
        assert_eq!(r.forward_pointers, 1);
        assert_eq!(r.next, 2);
        let strict = DnsLimits {
            forward_pointers: ForwardPointerPolicy::Reject,
            ..DnsLimits::default()
        };
        let e = read_name(msg, 0, &strict).unwrap_err();
        assert_eq!(e.kind, DnsMalformedKind::ForwardPointer);
    }

    #[test]
    fn pointer_out_of_range() {
        let e = read_name(b"\xc0\x10", 0, &limits()).unwrap_err();
        assert_eq!(e.kind, DnsMalformedKind::PointerOutOfRange);
    }

    #[test]
    fn too_many_jumps() {
        // A chain of backward pointers, each one pointing at the previous one.
        let mut msg = vec![0u8];
        for i in 0..40u16 {
            let target = if i == 0 { 0 } else { 1 + (i - 1) * 2 };
            msg.extend_from_slice(&(0xc000 | target).to_be_bytes());
        }
        let start = msg.len() - 2;
        let e = read_name(&msg, start, &limits()).unwrap_err();
        assert_eq!(e.kind, DnsMalformedKind::TooManyPointers);
        let lax = DnsLimits {
            max_pointer_jumps: 100,
            ..DnsLimits::default()
        };
        assert!(read_name(&msg, start, &lax).unwrap().name.is_root());
    }

    #[test]
    fn name_over_255_octets() {
        // Four 63-octet labels: 4 * 64 + 1 = 257 octets.
        let mut msg = Vec::new();
        for _ in 0..4 {
            msg.push(63);
            msg.extend_from_slice(&[b'a'; 63]);
        }
        msg.push(0);
        let e = read_name(&msg, 0, &limits()).unwrap_err();
        assert_eq!(e.kind, DnsMalformedKind::NameTooLong);
        assert_eq!(
            skip_name(&msg, 0).unwrap_err().kind,
            DnsMalformedKind::NameTooLong
        );
        // Exactly 255 octets is fine: 3 * 64 + 62 + 1.
        let mut ok = Vec::new();
        for _ in 0..3 {
            ok.push(63);
            ok.extend_from_slice(&[b'b'; 63]);
        }
        ok.push(61);
        ok.extend_from_slice(&[b'c'; 61]);
        ok.push(0);
        assert_eq!(ok.len(), 255);
        assert_eq!(read_name(&ok, 0, &limits()).unwrap().name.wire_len(), 255);
    }

    #[test]
    fn name_over_255_via_pointers() {
        // 200 octets in place then a pointer to 100 more octets.
        let mut msg = Vec::new();
        for _ in 0..2 {
            msg.push(49);
            msg.extend_from_slice(&[b'x'; 49]);
        }
        msg.push(0);
        let start = msg.len();
        for _ in 0..4 {
            msg.push(49);
            msg.extend_from_slice(&[b'y'; 49]);
        }
        msg.extend_from_slice(&[0xc0, 0x00]);
        let e = read_name(&msg, start, &limits()).unwrap_err();
        assert_eq!(e.kind, DnsMalformedKind::NameTooLong);
    }

    #[test]
    fn bad_label_types() {
        assert_eq!(
            read_name(b"\x41abc", 0, &limits()).unwrap_err().kind,
            DnsMalformedKind::BadLabelType
        );
        assert_eq!(
            read_name(b"\x80", 0, &limits()).unwrap_err().kind,
            DnsMalformedKind::BadLabelType
        );
    }

    #[test]
    fn truncated_everywhere() {
        let msg = b"\x03www\x07example\x03com\x00";
        for cut in 0..msg.len() {
            let e = read_name(&msg[..cut], 0, &limits()).unwrap_err();
            assert_eq!(e.kind, DnsMalformedKind::Truncated, "cut {cut}");
            assert!(skip_name(&msg[..cut], 0).is_err());
        }
        assert_eq!(
            read_name(b"\xc0", 0, &limits()).unwrap_err().kind,
            DnsMalformedKind::Truncated
        );
    }

    #[test]
    fn too_many_labels_limit() {
        let msg = b"\x01a\x01b\x01c\x00";
        let tight = DnsLimits {
            max_labels: 2,
            ..DnsLimits::default()
        };
        assert_eq!(
            read_name(msg, 0, &tight).unwrap_err().kind,
            DnsMalformedKind::TooManyLabels
        );
    }
}
