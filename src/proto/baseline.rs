//! Learns one sender's usual IP and TCP header features (TTL, IP ID behaviour, DF, window,
//! options) from its first packets in a flow; it compares nothing and judges nothing.
//!
//! Detectors compare a suspect packet with this baseline. Following signatures.md §0.1 the
//! baseline is taken from packets that are clearly legitimate: the handshake and the first
//! packets of the direction, and never from a packet after that sender's first RST or FIN.

use serde::Serialize;

use crate::ids::FrameNumber;

/// TTLs hosts start from (Linux/macOS 64, Windows 128, network gear 255, some 32). A packet
/// that still carries one was captured on the host that sent it.
pub const INITIAL_TTLS: [u8; 4] = [32, 64, 128, 255];

/// Packets of a direction that feed its baseline.
pub const BASELINE_PACKETS: usize = 10;
/// Largest IP ID step still read as "incrementing" (other traffic from the same host between
/// two packets of this flow also advances a global counter).
pub const IP_ID_MAX_STEP: u16 = 2048;

/// How a sender fills the IPv4 identification field.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "pattern", rename_all = "snake_case")]
pub enum IpIdPattern {
    /// Too few IPv4 packets to tell (fewer than 3), or IPv6.
    Unknown,
    /// Always zero (Linux with DF set, many middleboxes).
    Zero,
    /// The same non-zero value every time.
    Constant {
        /// The value.
        value: u16,
    },
    /// A counter increasing by small steps (network or little-endian byte order).
    Incrementing {
        /// The latest value seen.
        last: u16,
        /// Largest step seen between consecutive packets.
        max_step: u16,
        /// The counter is stored little-endian (older Windows).
        byte_swapped: bool,
    },
    /// No pattern.
    Random,
}

/// A sender's header features, learned from its first packets.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct HeaderBaseline {
    /// Frames the baseline was learned from.
    pub frames: Vec<FrameNumber>,
    /// Smallest TTL / hop limit seen.
    pub ttl_min: u8,
    /// Largest TTL / hop limit seen.
    pub ttl_max: u8,
    /// IPv4 identification values in order.
    pub ip_ids: Vec<u16>,
    /// Packets with DF set.
    pub df_set: u8,
    /// IPv4 packets with DF clear.
    pub df_clear: u8,
    /// Smallest TCP window (unscaled) seen on non-SYN packets.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub window_min: Option<u16>,
    /// Largest TCP window (unscaled) seen on non-SYN packets.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub window_max: Option<u16>,
    /// TCP option kinds of the first non-SYN packet, in order.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_option_kinds: Option<Vec<u8>>,
    /// No more packets are added (enough samples, or the sender sent RST or FIN).
    #[serde(skip)]
    pub frozen: bool,
}

impl HeaderBaseline {
    /// Adds a packet's features unless the baseline is complete.
    pub fn learn(
        &mut self,
        frame: FrameNumber,
        ttl: u8,
        ip_id: Option<u16>,
        df: bool,
        tcp: Option<(u16, bool, &[u8])>,
    ) {
        if self.frozen {
            return;
        }
        if self.frames.is_empty() {
            self.ttl_min = ttl;
            self.ttl_max = ttl;
        }
        self.frames.push(frame);
        self.ttl_min = self.ttl_min.min(ttl);
        self.ttl_max = self.ttl_max.max(ttl);
        if let Some(id) = ip_id {
            self.ip_ids.push(id);
            if df {
                self.df_set += 1;
            } else {
                self.df_clear += 1;
            }
        }
        if let Some((window, syn, kinds)) = tcp {
            if !syn {
                self.window_min = Some(self.window_min.map_or(window, |w| w.min(window)));
                self.window_max = Some(self.window_max.map_or(window, |w| w.max(window)));
                if self.data_option_kinds.is_none() {
                    self.data_option_kinds = Some(kinds.to_vec());
                }
            }
        }
        if self.frames.len() >= BASELINE_PACKETS {
            self.frozen = true;
        }
    }

    /// Stops learning (the sender sent RST or FIN: what follows is no longer clearly
    /// legitimate).
    pub fn freeze(&mut self) {
        self.frozen = true;
    }

    /// True when nothing was learned.
    pub fn is_empty(&self) -> bool {
        self.frames.is_empty()
    }

    /// The DF bit the sender uses consistently, if any.
    pub fn df(&self) -> Option<bool> {
        match (self.df_set, self.df_clear) {
            (0, 0) => None,
            (_, 0) => Some(true),
            (0, _) => Some(false),
            _ => None,
        }
    }

    /// How the sender fills the IP ID field.
    pub fn ip_id_pattern(&self) -> IpIdPattern {
        classify_ip_ids(&self.ip_ids)
    }
}

/// Classifies a sequence of IPv4 identification values (after Zeek's TCPStats endpoint
/// heuristic: compare each step with its byte-swapped form).
pub fn classify_ip_ids(ids: &[u16]) -> IpIdPattern {
    if ids.len() < 3 {
        return IpIdPattern::Unknown;
    }
    if ids.iter().all(|&i| i == 0) {
        return IpIdPattern::Zero;
    }
    if ids.iter().all(|&i| i == ids[0]) {
        return IpIdPattern::Constant { value: ids[0] };
    }
    let steps = |swap: bool| -> Option<u16> {
        let mut max = 0u16;
        for w in ids.windows(2) {
            let (a, b) = if swap {
                (w[0].swap_bytes(), w[1].swap_bytes())
            } else {
                (w[0], w[1])
            };
            let d = b.wrapping_sub(a);
            if d == 0 || d > IP_ID_MAX_STEP {
                return None;
            }
            max = max.max(d);
        }
        Some(max)
    };
    let last = *ids.last().unwrap_or(&0);
    if let Some(max_step) = steps(false) {
        IpIdPattern::Incrementing {
            last,
            max_step,
            byte_swapped: false,
        }
    } else if let Some(max_step) = steps(true) {
        IpIdPattern::Incrementing {
            last,
            max_step,
            byte_swapped: true,
        }
    } else {
        IpIdPattern::Random
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ip_id_patterns() {
        assert_eq!(classify_ip_ids(&[1, 2]), IpIdPattern::Unknown);
        assert_eq!(classify_ip_ids(&[0, 0, 0, 0]), IpIdPattern::Zero);
        assert_eq!(
            classify_ip_ids(&[242, 242, 242]),
            IpIdPattern::Constant { value: 242 }
        );
        assert_eq!(
            classify_ip_ids(&[65534, 65535, 3, 9]),
            IpIdPattern::Incrementing {
                last: 9,
                max_step: 6,
                byte_swapped: false
            }
        );
        assert_eq!(
            classify_ip_ids(&[0x0100, 0x0200, 0x0500]),
            IpIdPattern::Incrementing {
                last: 0x0500,
                max_step: 0x300,
                byte_swapped: false
            }
        );
        assert_eq!(
            classify_ip_ids(&[0x1001, 0x1101, 0x1201, 0x1301].map(u16::swap_bytes)).clone(),
            classify_ip_ids(&[0x0110, 0x0111, 0x0112, 0x0113])
        );
        assert_eq!(
            classify_ip_ids(&[40000, 123, 61000, 7]),
            IpIdPattern::Random
        );
    }

    #[test]
    fn learning_stops_when_frozen_or_full() {
        let mut b = HeaderBaseline::default();
        let f = |n| FrameNumber::new(n).unwrap();
        b.learn(f(1), 52, Some(10), true, Some((65535, true, &[2, 4])));
        b.learn(f(2), 50, Some(11), true, Some((501, false, &[1, 1, 8])));
        assert_eq!((b.ttl_min, b.ttl_max), (50, 52));
        assert_eq!((b.window_min, b.window_max), (Some(501), Some(501)));
        assert_eq!(b.data_option_kinds, Some(vec![1, 1, 8]));
        assert_eq!(b.df(), Some(true));
        b.freeze();
        b.learn(f(3), 114, Some(9999), false, None);
        assert_eq!(b.frames.len(), 2);
        let mut full = HeaderBaseline::default();
        for n in 1..=20 {
            full.learn(f(n), 64, None, false, None);
        }
        assert_eq!(full.frames.len(), BASELINE_PACKETS);
    }
}
