//! Typed evidence items (a packet and its role, an observed-versus-expected mismatch, a payload
//! excerpt, a fingerprint match, a measurement, a timing); values only, no analysis.

use serde::{Serialize, Serializer};

use crate::ids::{Direction, FrameNumber};
use crate::time::Timestamp;

/// Bytes quoted from a packet: as text when they are printable UTF-8, always as hex, never
/// lossily converted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Payload(pub Vec<u8>);

impl Payload {
    /// The bytes as text, if they are valid UTF-8 without control characters other than
    /// tab, CR and LF.
    pub fn text(&self) -> Option<&str> {
        let s = std::str::from_utf8(&self.0).ok()?;
        s.chars()
            .all(|c| !c.is_control() || matches!(c, '\t' | '\r' | '\n'))
            .then_some(s)
    }

    /// Standard base64 with padding (RFC 4648 §4), for bytes that are not text.
    pub fn base64(&self) -> String {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD.encode(&self.0)
    }

    /// Lowercase hex, two digits per byte, no separators.
    pub fn hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }
}

impl Serialize for Payload {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let text = self.text();
        let mut st = s.serialize_struct("Payload", 2)?;
        match text {
            Some(t) => st.serialize_field("text", t)?,
            None => st.serialize_field("base64", &self.base64())?,
        }
        st.serialize_field("hex", &self.hex())?;
        st.end()
    }
}

/// One evidence item. Serialized with a `type` tag.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Evidence {
    /// A packet and the part it plays ("forged RST", "server SYN-ACK (baseline)").
    Packet {
        /// Frame number.
        frame: FrameNumber,
        /// The part this packet plays in the finding.
        role: String,
        /// Direction within the flow.
        direction: Direction,
        /// Capture time.
        ts: Timestamp,
        /// IP TTL or hop limit.
        ttl: u8,
        /// IPv4 identification.
        #[serde(skip_serializing_if = "Option::is_none")]
        ip_id: Option<u16>,
        /// IPv4 DF bit.
        #[serde(skip_serializing_if = "Option::is_none")]
        df: Option<bool>,
        /// TCP flags (`SYN,ACK`).
        #[serde(skip_serializing_if = "Option::is_none")]
        tcp_flags: Option<String>,
        /// TCP sequence number.
        #[serde(skip_serializing_if = "Option::is_none")]
        seq: Option<u32>,
        /// TCP acknowledgment field.
        #[serde(skip_serializing_if = "Option::is_none")]
        ack: Option<u32>,
        /// TCP window.
        #[serde(skip_serializing_if = "Option::is_none")]
        window: Option<u16>,
        /// Transport payload length.
        payload_len: u32,
    },
    /// A header field or property that differs from what the flow led us to expect.
    Mismatch {
        /// The field (`ip_ttl`, `ip_id`, `ip_df`, `tcp_window`, `tcp_seq`, `dns_answer`, ...).
        field: String,
        /// The value observed on the suspect packet(s).
        observed: serde_json::Value,
        /// What was expected, and from what (`50-52 (server's SYN-ACK and 3 data packets)`).
        expected: String,
        /// Frames showing the observed value.
        frames: Vec<FrameNumber>,
        /// Frames the expectation was learned from.
        #[serde(skip_serializing_if = "Vec::is_empty")]
        baseline_frames: Vec<FrameNumber>,
    },
    /// Bytes quoted from a packet or reassembled message.
    Payload {
        /// The frame that carried the bytes (the first one, for reassembled data).
        frame: FrameNumber,
        /// What the bytes are (`HTTP response body`, `RST payload`).
        what: String,
        /// The bytes.
        bytes: Payload,
        /// True if only the beginning is quoted.
        truncated: bool,
    },
    /// A match with a known fingerprint (blockpage, poison IP, device).
    Fingerprint {
        /// The fingerprint's name (`ooni.cn_0`, `gfw_rst_type_2`).
        name: String,
        /// Where the fingerprint comes from.
        source: String,
        /// Its scope (`nat`, `isp`, `prod`, `inst`, `device`).
        scope: String,
        /// Where it matched (`header.location`, `body`, `dns.answer`, `tcp.rst`).
        location: String,
        /// What matched.
        matched: String,
        /// Frames carrying the match.
        frames: Vec<FrameNumber>,
    },
    /// A measured quantity and what it is compared with.
    Measurement {
        /// What was measured (`goodput`, `rst_count`, `bytes_before_stall`).
        metric: String,
        /// The value.
        value: f64,
        /// Its unit (`kbit/s`, `bytes`, `ms`).
        unit: String,
        /// The comparison value, if any.
        #[serde(skip_serializing_if = "Option::is_none")]
        reference: Option<f64>,
        /// What the comparison value is.
        #[serde(skip_serializing_if = "Option::is_none")]
        reference_label: Option<String>,
        /// Frames the measurement covers.
        #[serde(skip_serializing_if = "Vec::is_empty")]
        frames: Vec<FrameNumber>,
    },
    /// How long after something a packet arrived, compared with what was possible.
    Timing {
        /// What is timed (`rst_after_trigger`).
        what: String,
        /// The delay in milliseconds.
        delta_ms: f64,
        /// The frame the delay starts from.
        from_frame: FrameNumber,
        /// The frame the delay ends at.
        to_frame: FrameNumber,
        /// What it is compared with (`handshake RTT`).
        #[serde(skip_serializing_if = "Option::is_none")]
        reference: Option<String>,
        /// The comparison value in milliseconds.
        #[serde(skip_serializing_if = "Option::is_none")]
        reference_ms: Option<f64>,
    },
    /// A remark that explains or qualifies the finding.
    Note {
        /// The remark.
        text: String,
        /// Frames it refers to.
        #[serde(skip_serializing_if = "Vec::is_empty")]
        frames: Vec<FrameNumber>,
    },
}

impl Evidence {
    /// Every frame this item cites.
    pub fn frames(&self) -> Vec<FrameNumber> {
        match self {
            Evidence::Packet { frame, .. } | Evidence::Payload { frame, .. } => vec![*frame],
            Evidence::Mismatch {
                frames,
                baseline_frames,
                ..
            } => frames.iter().chain(baseline_frames).copied().collect(),
            Evidence::Fingerprint { frames, .. }
            | Evidence::Measurement { frames, .. }
            | Evidence::Note { frames, .. } => frames.clone(),
            Evidence::Timing {
                from_frame,
                to_frame,
                ..
            } => vec![*from_frame, *to_frame],
        }
    }

    /// The packet time, for packet items.
    pub fn packet_ts(&self) -> Option<Timestamp> {
        match self {
            Evidence::Packet { ts, .. } => Some(*ts),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payload_text_or_hex() {
        let p = Payload(b"HTTP/1.1 302 Found\r\n".to_vec());
        let v = serde_json::to_value(&p).unwrap();
        assert_eq!(v["text"], "HTTP/1.1 302 Found\r\n");
        assert_eq!(v["hex"], "485454502f312e312033303220466f756e640d0a");
        let bin = Payload(vec![1, 2, 3, 0xff]);
        let v = serde_json::to_value(&bin).unwrap();
        assert!(v.get("text").is_none());
        assert_eq!(v["hex"], "010203ff");
        assert_eq!(v["base64"], "AQID/w==");
        assert!(serde_json::to_value(&p).unwrap().get("base64").is_none());
    }

    #[test]
    fn tagged_serialization() {
        let e = Evidence::Mismatch {
            field: "ip_ttl".into(),
            observed: serde_json::json!(114),
            expected: "50-52".into(),
            frames: vec![FrameNumber::new(7).unwrap()],
            baseline_frames: vec![],
        };
        let v = serde_json::to_value(&e).unwrap();
        assert_eq!(v["type"], "mismatch");
        assert_eq!(v["observed"], 114);
        assert!(v.get("baseline_frames").is_none());
        assert_eq!(e.frames(), vec![FrameNumber::new(7).unwrap()]);
    }
}
