//! Known header fingerprints of devices that forge TCP RST packets, loaded from the data file
//! `src/detect/data/tcp-devices.json`, and matching them against forged packets; it decides
//! nothing about whether a packet is forged.

use serde::Deserialize;

use crate::proto::event::TcpFlags;

/// The bundled device list.
const BUILTIN: &str = include_str!("data/tcp-devices.json");

/// One device fingerprint. Every field that is present must match.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct DeviceFingerprint {
    /// Stable name (`gfw_rst_type_2`).
    pub name: String,
    /// Human name of the device.
    pub device: String,
    /// Scope: `nat`, `isp`, `regional`, `institution`, `product`.
    pub scope: String,
    /// Country code, when the device is national or regional.
    #[serde(default)]
    pub country: Option<String>,
    /// Where the fingerprint comes from.
    pub source: String,
    /// Exact TCP flags, as `RST` or `RST,ACK`.
    #[serde(default)]
    pub flags: Option<String>,
    /// Observed TTL range (inclusive).
    #[serde(default)]
    pub ttl: Option<[u8; 2]>,
    /// Exact IPv4 identification.
    #[serde(default)]
    pub ip_id: Option<u16>,
    /// IPv4 identification range (inclusive).
    #[serde(default)]
    pub ip_id_range: Option<[u16; 2]>,
    /// IPv4 DF bit.
    #[serde(default)]
    pub df: Option<bool>,
    /// Exact TCP window.
    #[serde(default)]
    pub window: Option<u16>,
    /// Exact TCP sequence number.
    #[serde(default)]
    pub seq: Option<u32>,
    /// Exact payload length.
    #[serde(default)]
    pub payload_len: Option<u32>,
    /// Exact payload, in hex.
    #[serde(default)]
    pub payload_hex: Option<String>,
    /// Number of identical copies sent together.
    #[serde(default)]
    pub copies: Option<usize>,
    /// Sequence numbers of a burst relative to its lowest, ascending.
    #[serde(default)]
    pub seq_offsets: Option<Vec<u32>>,
    /// The match is specific enough to be strong evidence by itself.
    pub distinctive: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DeviceFile {
    #[allow(dead_code)] // Documentation inside the data file.
    about: String,
    devices: Vec<DeviceFingerprint>,
}

/// The facts of one forged packet that fingerprints look at.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PacketFacts {
    /// TCP flags.
    pub flags: TcpFlags,
    /// IP TTL or hop limit.
    pub ttl: u8,
    /// IPv4 identification.
    pub ip_id: Option<u16>,
    /// IPv4 DF.
    pub df: bool,
    /// TCP window.
    pub window: u16,
    /// TCP sequence number.
    pub seq: u32,
    /// TCP acknowledgment field.
    pub ack: u32,
    /// Payload length.
    pub payload_len: u32,
    /// The first payload bytes, when known.
    pub payload: Option<Vec<u8>>,
}

/// A device list.
#[derive(Clone, Debug)]
pub struct DeviceSet {
    devices: Vec<DeviceFingerprint>,
}

/// Why a device file could not be used.
#[derive(Debug, thiserror::Error)]
#[error("device fingerprint file is not valid: {0}")]
pub struct DeviceFileError(#[from] serde_json::Error);

impl DeviceSet {
    /// The fingerprints shipped with tamper.
    pub fn builtin() -> DeviceSet {
        // The bundled file is checked by a unit test; an empty set is the safe fallback.
        DeviceSet::parse(BUILTIN).unwrap_or(DeviceSet {
            devices: Vec::new(),
        })
    }

    /// Parses a device file.
    pub fn parse(json: &str) -> Result<DeviceSet, DeviceFileError> {
        let file: DeviceFile = serde_json::from_str(json)?;
        Ok(DeviceSet {
            devices: file.devices,
        })
    }

    /// The fingerprints.
    pub fn devices(&self) -> &[DeviceFingerprint] {
        &self.devices
    }

    /// The devices whose fingerprint `burst` (forged packets of one flow and direction, in
    /// order) matches, each with the indices of the packets that matched.
    pub fn matching(&self, burst: &[PacketFacts]) -> Vec<(&DeviceFingerprint, Vec<usize>)> {
        self.devices
            .iter()
            .filter_map(|d| matches_burst(d, burst).map(|idx| (d, idx)))
            .collect()
    }
}

fn flags_name(f: TcpFlags) -> String {
    let mut parts = Vec::new();
    for (flag, name) in [
        (TcpFlags::SYN, "SYN"),
        (TcpFlags::FIN, "FIN"),
        (TcpFlags::RST, "RST"),
        (TcpFlags::ACK, "ACK"),
    ] {
        if f.intersects(flag) {
            parts.push(name);
        }
    }
    parts.join(",")
}

fn matches_packet(d: &DeviceFingerprint, p: &PacketFacts) -> bool {
    if let Some(flags) = &d.flags {
        if flags_name(p.flags) != *flags {
            return false;
        }
    }
    if let Some([lo, hi]) = d.ttl {
        if p.ttl < lo || p.ttl > hi {
            return false;
        }
    }
    if let Some(id) = d.ip_id {
        if p.ip_id != Some(id) {
            return false;
        }
    }
    if let Some([lo, hi]) = d.ip_id_range {
        if !p.ip_id.is_some_and(|id| id >= lo && id <= hi) {
            return false;
        }
    }
    if let Some(df) = d.df {
        if p.ip_id.is_none() || p.df != df {
            return false;
        }
    }
    if let Some(w) = d.window {
        if p.window != w {
            return false;
        }
    }
    if let Some(seq) = d.seq {
        if p.seq != seq {
            return false;
        }
    }
    if let Some(len) = d.payload_len {
        if p.payload_len != len {
            return false;
        }
    }
    if let Some(hex) = &d.payload_hex {
        let Some(bytes) = &p.payload else {
            return false;
        };
        let have: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        if have != hex.to_ascii_lowercase() {
            return false;
        }
    }
    true
}

fn matches_burst(d: &DeviceFingerprint, burst: &[PacketFacts]) -> Option<Vec<usize>> {
    if let Some(offsets) = &d.seq_offsets {
        // The sequence numbers of the packets with the fingerprint's flags, relative to the
        // lowest, must be exactly these offsets.
        let with_flags: Vec<usize> = (0..burst.len())
            .filter(|&i| {
                d.flags
                    .as_ref()
                    .is_none_or(|f| flags_name(burst[i].flags) == *f)
            })
            .collect();
        let mut seqs: Vec<u32> = with_flags.iter().map(|&i| burst[i].seq).collect();
        seqs.sort_unstable();
        seqs.dedup();
        // Any of them may be the base X (sequence numbers wrap): try each.
        let hit = seqs.iter().any(|&base| {
            let mut rel: Vec<u32> = seqs.iter().map(|s| s.wrapping_sub(base)).collect();
            rel.sort_unstable();
            rel == *offsets
        });
        return hit.then_some(with_flags);
    }
    if let Some(n) = d.copies {
        // Exactly `n` identical copies (same flags, seq, ack and IP ID), each matching the
        // packet fingerprint; other packets of the burst (a device of another type answering
        // too) do not spoil the match.
        return burst.iter().enumerate().find_map(|(i, first)| {
            let same = |p: &PacketFacts| {
                p.flags == first.flags
                    && p.seq == first.seq
                    && p.ack == first.ack
                    && p.ip_id == first.ip_id
            };
            // Each group once, from its first member.
            if burst[..i].iter().any(same) {
                return None;
            }
            let group: Vec<usize> = (0..burst.len()).filter(|&j| same(&burst[j])).collect();
            (group.len() == n && group.iter().all(|&j| matches_packet(d, &burst[j])))
                .then_some(group)
        });
    }
    let hits: Vec<usize> = (0..burst.len())
        .filter(|&i| matches_packet(d, &burst[i]))
        .collect();
    (!hits.is_empty()).then_some(hits)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rst(flags: TcpFlags, ttl: u8, ip_id: u16, df: bool) -> PacketFacts {
        PacketFacts {
            flags,
            ttl,
            ip_id: Some(ip_id),
            df,
            window: 0,
            seq: 1000,
            ack: 2000,
            payload_len: 0,
            payload: None,
        }
    }

    const RA: TcpFlags = TcpFlags(TcpFlags::RST.0 | TcpFlags::ACK.0);

    #[test]
    fn bundled_file_parses_and_names_are_unique() {
        let set = DeviceSet::parse(BUILTIN).expect("bundled device file");
        assert!(set.devices().len() >= 7);
        let mut names: Vec<_> = set.devices().iter().map(|d| d.name.clone()).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), set.devices().len());
        assert!(set.devices().iter().all(|d| !d.source.is_empty()));
    }

    #[test]
    fn single_packet_fingerprints() {
        let set = DeviceSet::builtin();
        let names = |b: &[PacketFacts]| -> Vec<String> {
            set.matching(b)
                .iter()
                .map(|(d, _)| d.name.clone())
                .collect()
        };
        assert_eq!(names(&[rst(RA, 49, 242, false)]), ["airtel_india_rst"]);
        assert_eq!(names(&[rst(RA, 248, 39200, false)]), ["gfw_rst_type_3"]);
        let mut henan = rst(RA, 58, 1, false);
        henan.payload_len = 10;
        henan.payload = Some(vec![1, 2, 3, 4, 5, 6, 7, 8, 9, 0]);
        assert_eq!(names(&[henan.clone()]), ["henan_firewall_rst"]);
        henan.payload = Some(vec![1, 2, 3, 4, 5, 6, 7, 8, 9, 9]);
        assert!(names(&[henan]).is_empty());
        let mut tm = rst(TcpFlags::RST, 102, 30000, false);
        tm.seq = 0;
        assert_eq!(names(&[tm]), ["turkmenistan_rst"]);
        assert!(names(&[rst(RA, 52, 4711, true)]).is_empty());
    }

    #[test]
    fn burst_fingerprints() {
        let set = DeviceSet::builtin();
        let three: Vec<_> = (0..3).map(|_| rst(RA, 96, 0x3c2f, true)).collect();
        let n: Vec<_> = set
            .matching(&three)
            .iter()
            .map(|(d, _)| d.name.clone())
            .collect();
        assert_eq!(n, ["gfw_rst_type_2"]);
        let two = &three[..2];
        assert!(set.matching(two).is_empty(), "type II sends exactly three");
        // Three identical RST+ACKs next to a type-I RST: type II still matches.
        let mut mixed = three.clone();
        let mut t1 = rst(TcpFlags::RST, 96, 0, false);
        t1.seq = 1000;
        t1.ack = 0;
        mixed.push(t1);
        let n: Vec<_> = set
            .matching(&mixed)
            .iter()
            .map(|(d, _)| d.name.clone())
            .collect();
        assert!(n.contains(&"gfw_rst_type_2".to_string()), "{n:?}");
        assert!(n.contains(&"gfw_rst_type_1".to_string()), "{n:?}");
        let offsets: Vec<_> = [0u32, 1460, 4380]
            .iter()
            .map(|o| {
                let mut p = rst(RA, 101, 7, true);
                p.seq = (u32::MAX - 100).wrapping_add(*o);
                p
            })
            .collect();
        let n: Vec<_> = set
            .matching(&offsets)
            .iter()
            .map(|(d, _)| d.name.clone())
            .collect();
        assert!(n.contains(&"gfw_rst_2017_seq_offsets".to_string()), "{n:?}");
    }
}
