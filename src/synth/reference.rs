//! A deliberately small, independent capture reader used only by the synth
//! tests to check the writers and the fixtures' ground truth; it must never be
//! used by the library itself (tamper's real reader lives elsewhere).

use std::collections::BTreeMap;
use std::io::Read;

/// One frame as read back.
#[derive(Clone, Debug)]
pub struct ReadFrame {
    /// Timestamp in ns, `None` for Simple Packet Blocks.
    pub ts_ns: Option<i64>,
    /// LINKTYPE of the frame's interface.
    pub linktype: u32,
    /// Captured bytes.
    pub data: Vec<u8>,
    /// Original length.
    pub orig_len: u32,
}

/// What reading a file gave.
#[derive(Clone, Debug, Default)]
pub struct ReadResult {
    /// Frames read.
    pub frames: Vec<ReadFrame>,
    /// The file ended inside a record or block.
    pub truncated: bool,
    /// A record or block was structurally impossible.
    pub invalid: bool,
}

/// Decompresses gzip (all members), xz or zstd by magic; returns other bytes as is.
pub fn decompress(b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    if b.starts_with(&[0x1F, 0x8B]) {
        flate2::read::MultiGzDecoder::new(b)
            .read_to_end(&mut out)
            .unwrap();
    } else if b.starts_with(&[0xFD, b'7', b'z', b'X', b'Z', 0]) {
        liblzma::read::XzDecoder::new(b)
            .read_to_end(&mut out)
            .unwrap();
    } else if b.starts_with(&[0x28, 0xB5, 0x2F, 0xFD]) {
        out = zstd::stream::decode_all(b).unwrap();
    } else {
        out = b.to_vec();
    }
    out
}

#[derive(Clone, Copy)]
struct E(bool); // true = big-endian

impl E {
    fn u16(self, b: &[u8]) -> u16 {
        let a = [b[0], b[1]];
        if self.0 {
            u16::from_be_bytes(a)
        } else {
            u16::from_le_bytes(a)
        }
    }
    fn u32(self, b: &[u8]) -> u32 {
        let a = [b[0], b[1], b[2], b[3]];
        if self.0 {
            u32::from_be_bytes(a)
        } else {
            u32::from_le_bytes(a)
        }
    }
    fn u64(self, b: &[u8]) -> u64 {
        let a: [u8; 8] = b[..8].try_into().unwrap();
        if self.0 {
            u64::from_be_bytes(a)
        } else {
            u64::from_le_bytes(a)
        }
    }
}

/// Reads a (possibly compressed) pcap or pcapng file.
pub fn read(bytes: &[u8]) -> ReadResult {
    let b = decompress(bytes);
    if b.len() >= 4 && b[..4] == [0x0A, 0x0D, 0x0D, 0x0A] {
        read_pcapng(&b)
    } else {
        read_pcap(&b)
    }
}

fn read_pcap(b: &[u8]) -> ReadResult {
    let mut r = ReadResult::default();
    let m_le = u32::from_le_bytes(b[..4].try_into().unwrap());
    let m_be = u32::from_be_bytes(b[..4].try_into().unwrap());
    let known = [0xA1B2_C3D4, 0xA1B2_3C4D, 0xA1B2_CD34];
    let (e, magic) = if known.contains(&m_le) {
        (E(false), m_le)
    } else {
        assert!(known.contains(&m_be), "not a capture");
        (E(true), m_be)
    };
    let ns = magic == 0xA1B2_3C4D;
    let hdr = if magic == 0xA1B2_CD34 { 24 } else { 16 };
    let snaplen = e.u32(&b[16..]);
    let linktype = e.u32(&b[20..]);
    let mut pos = 24;
    while pos < b.len() {
        if b.len() - pos < hdr {
            r.truncated = true;
            break;
        }
        let sec = i64::from(e.u32(&b[pos..]));
        let frac = i64::from(e.u32(&b[pos + 4..]));
        let caplen = e.u32(&b[pos + 8..]) as usize;
        let orig_len = e.u32(&b[pos + 12..]);
        if caplen > snaplen.max(262_144) as usize {
            r.invalid = true;
            break;
        }
        if b.len() - pos - hdr < caplen {
            r.truncated = true;
            break;
        }
        let data = b[pos + hdr..pos + hdr + caplen].to_vec();
        r.frames.push(ReadFrame {
            ts_ns: Some(sec * 1_000_000_000 + if ns { frac } else { frac * 1000 }),
            linktype,
            data,
            orig_len,
        });
        pos += hdr + caplen;
    }
    r
}

struct Iface {
    linktype: u32,
    snaplen: u32,
    tsresol: u8,
    tsoffset: i64,
}

fn ts_from_units(iface: &Iface, units: u64) -> i64 {
    let per_s: i128 = if iface.tsresol & 0x80 != 0 {
        1i128 << (iface.tsresol & 0x7F)
    } else {
        10i128.pow(u32::from(iface.tsresol))
    };
    let ns = (i128::from(units) * 1_000_000_000).div_euclid(per_s);
    (ns + i128::from(iface.tsoffset) * 1_000_000_000) as i64
}

fn options(e: E, mut o: &[u8]) -> Vec<(u16, Vec<u8>)> {
    let mut v = Vec::new();
    while o.len() >= 4 {
        let code = e.u16(o);
        let len = usize::from(e.u16(&o[2..]));
        if code == 0 {
            break;
        }
        v.push((code, o[4..4 + len].to_vec()));
        let padded = len.div_ceil(4) * 4;
        o = &o[4 + padded..];
    }
    v
}

fn read_pcapng(b: &[u8]) -> ReadResult {
    let mut r = ReadResult::default();
    let mut e = E(false);
    let mut ifaces: Vec<Iface> = Vec::new();
    let mut pos = 0;
    while pos < b.len() {
        if b.len() - pos < 12 {
            r.truncated = true;
            break;
        }
        if b[pos..pos + 4] == [0x0A, 0x0D, 0x0D, 0x0A] {
            e = E(b[pos + 8..pos + 12] == [0x1A, 0x2B, 0x3C, 0x4D]);
            ifaces.clear();
        }
        let t = e.u32(&b[pos..]);
        let len = e.u32(&b[pos + 4..]) as usize;
        if len < 12 || !len.is_multiple_of(4) {
            r.invalid = true;
            break;
        }
        if b.len() - pos < len {
            r.truncated = true;
            break;
        }
        assert_eq!(e.u32(&b[pos + len - 4..]) as usize, len, "trailing length");
        let body = &b[pos + 8..pos + len - 4];
        match t {
            1 => {
                let mut i = Iface {
                    linktype: u32::from(e.u16(body)),
                    snaplen: e.u32(&body[4..]),
                    tsresol: 6,
                    tsoffset: 0,
                };
                for (code, v) in options(e, &body[8..]) {
                    match code {
                        9 => i.tsresol = v[0],
                        14 => i.tsoffset = e.u64(&v) as i64,
                        _ => {}
                    }
                }
                ifaces.push(i);
            }
            6 => {
                let iface = &ifaces[e.u32(body) as usize];
                let units = (u64::from(e.u32(&body[4..])) << 32) | u64::from(e.u32(&body[8..]));
                let caplen = e.u32(&body[12..]) as usize;
                r.frames.push(ReadFrame {
                    ts_ns: Some(ts_from_units(iface, units)),
                    linktype: iface.linktype,
                    data: body[20..20 + caplen].to_vec(),
                    orig_len: e.u32(&body[16..]),
                });
            }
            2 => {
                let iface = &ifaces[usize::from(e.u16(body))];
                let units = (u64::from(e.u32(&body[4..])) << 32) | u64::from(e.u32(&body[8..]));
                let caplen = e.u32(&body[12..]) as usize;
                r.frames.push(ReadFrame {
                    ts_ns: Some(ts_from_units(iface, units)),
                    linktype: iface.linktype,
                    data: body[20..20 + caplen].to_vec(),
                    orig_len: e.u32(&body[16..]),
                });
            }
            3 => {
                let iface = &ifaces[0];
                let orig_len = e.u32(body);
                let mut caplen = orig_len as usize;
                if iface.snaplen != 0 {
                    caplen = caplen.min(iface.snaplen as usize);
                }
                r.frames.push(ReadFrame {
                    ts_ns: None,
                    linktype: iface.linktype,
                    data: body[4..4 + caplen].to_vec(),
                    orig_len,
                });
            }
            // Custom blocks (pcapng §4.7): Wireshark numbers them as frames.
            0x0000_0BAD | 0x4000_0BAD => {
                r.frames.push(ReadFrame {
                    ts_ns: None,
                    linktype: u32::MAX,
                    data: Vec::new(),
                    orig_len: 0,
                });
            }
            _ => {}
        }
        pos += len;
    }
    r
}

/// The IP packet inside a frame, if the link type is understood.
pub fn ip_of(linktype: u32, d: &[u8]) -> Option<&[u8]> {
    match linktype {
        1 => {
            let mut et = u16::from_be_bytes([d[12], d[13]]);
            let mut p = 14;
            while et == 0x8100 || et == 0x88A8 {
                et = u16::from_be_bytes([d[p + 2], d[p + 3]]);
                p += 4;
            }
            match et {
                0x0800 | 0x86DD => Some(&d[p..]),
                0x8847 => {
                    while d[p + 2] & 1 == 0 {
                        p += 4;
                    }
                    Some(&d[p + 4..])
                }
                0x8864 => Some(&d[p + 8..]),
                _ => None,
            }
        }
        101 | 228 | 229 => Some(d),
        113 => Some(&d[16..]),
        276 => Some(&d[20..]),
        0 | 108 | 9 => Some(&d[4..]),
        _ => None,
    }
}

/// (protocol, src, dst, sport, dport, tcp flags) of a first fragment or
/// unfragmented packet.
pub type Tuple = (u8, Vec<u8>, Vec<u8>, u16, u16, u8);

/// The transport tuple of an IP packet, `None` for later fragments.
pub fn tuple_of(ip: &[u8]) -> Option<Tuple> {
    let (proto, src, dst, l4) = if ip[0] >> 4 == 4 {
        let ihl = usize::from(ip[0] & 15) * 4;
        let off = u16::from_be_bytes([ip[6], ip[7]]) & 0x1FFF;
        if off != 0 {
            return None;
        }
        (ip[9], ip[12..16].to_vec(), ip[16..20].to_vec(), &ip[ihl..])
    } else {
        let mut next = ip[6];
        let mut p = 40;
        loop {
            match next {
                0 | 43 | 60 => {
                    next = ip[p];
                    p += (usize::from(ip[p + 1]) + 1) * 8;
                }
                44 => {
                    let off = u16::from_be_bytes([ip[p + 2], ip[p + 3]]) >> 3;
                    if off != 0 {
                        return None;
                    }
                    next = ip[p];
                    p += 8;
                }
                _ => break,
            }
        }
        (next, ip[8..24].to_vec(), ip[24..40].to_vec(), &ip[p..])
    };
    if proto != 6 && proto != 17 {
        return None;
    }
    let sport = u16::from_be_bytes([l4[0], l4[1]]);
    let dport = u16::from_be_bytes([l4[2], l4[3]]);
    let flags = if proto == 6 { l4[13] } else { 0 };
    Some((proto, src, dst, sport, dport, flags))
}

/// Counts (TCP, UDP) flows: a flow is the unordered 5-tuple; a SYN without
/// ACK on a TCP tuple whose previous flow saw a FIN or RST starts a new flow.
pub fn count_flows(frames: &[ReadFrame]) -> (usize, usize) {
    type Key = (u8, (Vec<u8>, u16), (Vec<u8>, u16));
    let mut seen: BTreeMap<Key, bool> = BTreeMap::new(); // value: closed
    let (mut tcp, mut udp) = (0, 0);
    for f in frames {
        let Some(ip) = ip_of(f.linktype, &f.data) else {
            continue;
        };
        let Some((proto, src, dst, sp, dp, flags)) = tuple_of(ip) else {
            continue;
        };
        let a = (src, sp);
        let b = (dst, dp);
        let key = if a <= b { (proto, a, b) } else { (proto, b, a) };
        match seen.get_mut(&key) {
            None => {
                if proto == 6 {
                    tcp += 1;
                } else {
                    udp += 1;
                }
                seen.insert(key.clone(), false);
            }
            Some(closed) => {
                if proto == 6 && *closed && flags & 0x12 == 0x02 {
                    tcp += 1;
                    *closed = false;
                }
            }
        }
        if proto == 6 && flags & 0x05 != 0 {
            if let Some(c) = seen.get_mut(&key) {
                *c = true;
            }
        }
    }
    (tcp, udp)
}

fn sum16(mut s: u64, d: &[u8]) -> u64 {
    for c in d.chunks(2) {
        s += u64::from(c[0]) << 8 | u64::from(*c.get(1).unwrap_or(&0));
    }
    s
}

fn folds_to_zero(mut s: u64) -> bool {
    while s >> 16 != 0 {
        s = (s & 0xFFFF) + (s >> 16);
    }
    s == 0xFFFF
}

/// Whether the IP header checksum (IPv4) and the TCP/UDP checksum of an
/// unfragmented packet verify; `None` when there is nothing to check.
pub fn checksums_ok(ip: &[u8]) -> Option<bool> {
    if ip[0] >> 4 == 4 {
        let ihl = usize::from(ip[0] & 15) * 4;
        if !folds_to_zero(sum16(0, &ip[..ihl])) {
            return Some(false);
        }
        let word = u16::from_be_bytes([ip[6], ip[7]]);
        let total = usize::from(u16::from_be_bytes([ip[2], ip[3]]));
        if word & 0x3FFF != 0 || !matches!(ip[9], 6 | 17) {
            return Some(true);
        }
        let body = &ip[ihl..total];
        let mut s = sum16(0, &ip[12..20]);
        s += u64::from(ip[9]) + body.len() as u64;
        Some(folds_to_zero(sum16(s, body)))
    } else {
        let end = 40 + usize::from(u16::from_be_bytes([ip[4], ip[5]]));
        let mut next = ip[6];
        let mut p = 40;
        while matches!(next, 0 | 43 | 60) {
            next = ip[p];
            p += (usize::from(ip[p + 1]) + 1) * 8;
        }
        if !matches!(next, 6 | 17) {
            return None;
        }
        let body = &ip[p..end];
        let mut s = sum16(0, &ip[8..40]);
        s = sum16(s, &(body.len() as u32).to_be_bytes());
        s += u64::from(next);
        Some(folds_to_zero(sum16(s, body)))
    }
}
