//! Serialises frames into classic pcap and pcapng files, compresses them and
//! cuts them short for tests; it never reads or validates captures and never
//! touches the file system.

use std::io::Write;
use std::net::IpAddr;
use std::ops::Range;

use super::SynthError;

/// Nanoseconds per second.
const NS_PER_S: i128 = 1_000_000_000;

// Classic pcap (draft-ietf-opsawg-pcap §4, libpcap sf-pcap.c).
/// Magic of microsecond pcap files.
pub const PCAP_MAGIC_US: u32 = 0xA1B2_C3D4;
/// Magic of nanosecond pcap files.
pub const PCAP_MAGIC_NS: u32 = 0xA1B2_3C4D;
/// Magic of Alexey Kuznetzov's "modified" pcap format (libpcap sf-pcap.c
/// KUZNETZOV_TCPDUMP_MAGIC), microsecond timestamps.
pub const PCAP_MAGIC_MODIFIED: u32 = 0xA1B2_CD34;
/// pcap major version (draft-ietf-opsawg-pcap §4).
const PCAP_VERSION_MAJOR: u16 = 2;
/// pcap minor version.
const PCAP_VERSION_MINOR: u16 = 4;
/// Length of the pcap file header.
pub const PCAP_FILE_HEADER_LEN: usize = 24;
/// Length of a pcap record header.
pub const PCAP_RECORD_HEADER_LEN: usize = 16;
/// Length of a Kuznetzov record header: the usual 16 bytes, then ifindex u32,
/// protocol u16, pkt_type u8, pad u8 (libpcap pcap-int.h `pcap_sf_patched_pkthdr`).
pub const PCAP_MODIFIED_RECORD_HEADER_LEN: usize = 24;
/// The snaplen tcpdump uses by default (libpcap MAXIMUM_SNAPLEN).
pub const DEFAULT_SNAPLEN: u32 = 262_144;

// pcapng block types (draft-ietf-opsawg-pcapng §4 and §10.1).
/// Section Header Block.
pub const PCAPNG_SHB: u32 = 0x0A0D_0D0A;
/// Interface Description Block.
pub const PCAPNG_IDB: u32 = 0x0000_0001;
/// Obsolete Packet Block (draft-ietf-opsawg-pcapng Appendix A).
pub const PCAPNG_PB: u32 = 0x0000_0002;
/// Simple Packet Block.
pub const PCAPNG_SPB: u32 = 0x0000_0003;
/// Name Resolution Block.
pub const PCAPNG_NRB: u32 = 0x0000_0004;
/// Interface Statistics Block.
pub const PCAPNG_ISB: u32 = 0x0000_0005;
/// Enhanced Packet Block.
pub const PCAPNG_EPB: u32 = 0x0000_0006;
/// Decryption Secrets Block.
pub const PCAPNG_DSB: u32 = 0x0000_000A;
/// Custom Block that may be copied to new files.
pub const PCAPNG_CUSTOM_COPY: u32 = 0x0000_0BAD;
/// Custom Block that must not be copied to new files.
pub const PCAPNG_CUSTOM_NOCOPY: u32 = 0x4000_0BAD;
/// Byte-order magic of the Section Header Block.
pub const PCAPNG_BYTE_ORDER_MAGIC: u32 = 0x1A2B_3C4D;
/// Length of a block's type and two length fields.
const PCAPNG_BLOCK_OVERHEAD: usize = 12;

// pcapng option codes (draft-ietf-opsawg-pcapng §3.5, §4.2, §4.6).
/// opt_endofopt.
const OPT_ENDOFOPT: u16 = 0;
/// opt_comment.
pub const OPT_COMMENT: u16 = 1;
/// if_name.
const IF_NAME: u16 = 2;
/// if_tsresol.
const IF_TSRESOL: u16 = 9;
/// if_tsoffset.
const IF_TSOFFSET: u16 = 14;
/// shb_userappl.
const SHB_USERAPPL: u16 = 4;
/// isb_ifrecv.
const ISB_IFRECV: u16 = 4;
/// isb_ifdrop.
const ISB_IFDROP: u16 = 5;
/// nrb_record_end.
const NRB_RECORD_END: u16 = 0;
/// nrb_record_ipv4.
const NRB_RECORD_IPV4: u16 = 1;
/// nrb_record_ipv6.
const NRB_RECORD_IPV6: u16 = 2;
/// Decryption secrets type of a TLS key log (draft-ietf-opsawg-pcapng §4.7).
pub const DSB_TLS_KEY_LOG: u32 = 0x544C_534B;

/// One captured frame: link-layer bytes and metadata.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Frame {
    /// Capture time in nanoseconds since the Unix epoch.
    pub ts_ns: i64,
    /// Interface index (pcapng interface ID; Kuznetzov ifindex in modified pcap).
    pub interface: u32,
    /// The frame bytes as they would be captured with an unlimited snaplen.
    pub data: Vec<u8>,
    /// Original length on the wire.
    pub orig_len: u32,
}

impl Frame {
    /// A frame on interface 0 whose original length is its data length.
    pub fn new(ts_ns: i64, data: Vec<u8>) -> Self {
        let orig_len = data.len().min(u32::MAX as usize) as u32;
        Self {
            ts_ns,
            interface: 0,
            data,
            orig_len,
        }
    }

    /// The same frame on another interface.
    pub fn on_interface(mut self, interface: u32) -> Self {
        self.interface = interface;
        self
    }
}

/// Byte order of a file or pcapng section.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Endian {
    /// Little-endian (x86, ARM).
    #[default]
    Little,
    /// Big-endian (SPARC, PowerPC, MIPS).
    Big,
}

impl Endian {
    fn u16(self, v: u16) -> [u8; 2] {
        match self {
            Endian::Little => v.to_le_bytes(),
            Endian::Big => v.to_be_bytes(),
        }
    }

    fn u32(self, v: u32) -> [u8; 4] {
        match self {
            Endian::Little => v.to_le_bytes(),
            Endian::Big => v.to_be_bytes(),
        }
    }

    fn u64(self, v: u64) -> [u8; 8] {
        match self {
            Endian::Little => v.to_le_bytes(),
            Endian::Big => v.to_be_bytes(),
        }
    }
}

/// Which classic pcap variant to write.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum PcapFlavor {
    /// Magic a1b2c3d4, microsecond timestamps.
    #[default]
    Microsecond,
    /// Magic a1b23c4d, nanosecond timestamps.
    Nanosecond,
    /// Magic a1b2cd34, microsecond timestamps, 24-byte record headers.
    Modified,
}

/// Parameters of a classic pcap file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PcapOptions {
    /// Byte order of every header field.
    pub endian: Endian,
    /// Variant.
    pub flavor: PcapFlavor,
    /// Snapshot length; frames longer than this are cut (0 = no limit).
    pub snaplen: u32,
    /// LINKTYPE of every frame.
    pub linktype: u32,
}

impl PcapOptions {
    /// Little-endian microsecond pcap with the default snaplen.
    pub fn new(linktype: u32) -> Self {
        Self {
            endian: Endian::Little,
            flavor: PcapFlavor::Microsecond,
            snaplen: DEFAULT_SNAPLEN,
            linktype,
        }
    }
}

fn split_ns(ts_ns: i64) -> (i64, i64) {
    (
        ts_ns.div_euclid(1_000_000_000),
        ts_ns.rem_euclid(1_000_000_000),
    )
}

fn cut_len(len: usize, snaplen: u32) -> usize {
    if snaplen == 0 {
        len
    } else {
        len.min(snaplen as usize)
    }
}

/// Writes a classic pcap file and returns it with the byte range of every
/// record (header and data). Timestamps are truncated to the file's
/// resolution; seconds are stored as u32 (times before 1970 or after 2106 wrap).
pub fn write_pcap_with_layout(
    opts: &PcapOptions,
    frames: &[Frame],
) -> (Vec<u8>, Vec<Range<usize>>) {
    let e = opts.endian;
    let magic = match opts.flavor {
        PcapFlavor::Microsecond => PCAP_MAGIC_US,
        PcapFlavor::Nanosecond => PCAP_MAGIC_NS,
        PcapFlavor::Modified => PCAP_MAGIC_MODIFIED,
    };
    let mut out = Vec::new();
    out.extend_from_slice(&e.u32(magic));
    out.extend_from_slice(&e.u16(PCAP_VERSION_MAJOR));
    out.extend_from_slice(&e.u16(PCAP_VERSION_MINOR));
    out.extend_from_slice(&e.u32(0)); // thiszone
    out.extend_from_slice(&e.u32(0)); // sigfigs
    out.extend_from_slice(&e.u32(opts.snaplen));
    out.extend_from_slice(&e.u32(opts.linktype));
    let mut ranges = Vec::with_capacity(frames.len());
    for f in frames {
        let start = out.len();
        let (sec, ns) = split_ns(f.ts_ns);
        let frac = match opts.flavor {
            PcapFlavor::Nanosecond => ns,
            _ => ns / 1000,
        };
        let caplen = cut_len(f.data.len(), opts.snaplen);
        out.extend_from_slice(&e.u32(sec as u32));
        out.extend_from_slice(&e.u32(frac as u32));
        out.extend_from_slice(&e.u32(caplen as u32));
        out.extend_from_slice(&e.u32(f.orig_len));
        if opts.flavor == PcapFlavor::Modified {
            out.extend_from_slice(&e.u32(f.interface));
            // skb->protocol, stored in network byte order by the patched tcpdump.
            let proto = if opts.linktype == super::link::LINKTYPE_ETHERNET && f.data.len() >= 14 {
                [f.data[12], f.data[13]]
            } else {
                [0, 0]
            };
            out.extend_from_slice(&proto);
            out.push(0); // pkt_type: PACKET_HOST
            out.push(0); // pad
        }
        out.extend_from_slice(&f.data[..caplen]);
        ranges.push(start..out.len());
    }
    (out, ranges)
}

/// Writes a classic pcap file.
pub fn write_pcap(opts: &PcapOptions, frames: &[Frame]) -> Vec<u8> {
    write_pcap_with_layout(opts, frames).0
}

/// The pcapng interface timestamp resolution (`if_tsresol`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TsResolution {
    /// 10^-n seconds (n <= 19).
    Decimal(u8),
    /// 2^-n seconds (n <= 63).
    Binary(u8),
}

impl Default for TsResolution {
    /// The pcapng default, 10^-6 s.
    fn default() -> Self {
        TsResolution::Decimal(6)
    }
}

/// The most-significant bit of if_tsresol selects a power of two
/// (draft-ietf-opsawg-pcapng §4.2).
const TSRESOL_BINARY_FLAG: u8 = 0x80;

impl TsResolution {
    /// The option byte: n for 10^-n, 0x80 | n for 2^-n.
    pub fn option_byte(self) -> u8 {
        match self {
            TsResolution::Decimal(n) => n.min(19),
            TsResolution::Binary(n) => TSRESOL_BINARY_FLAG | n.min(63),
        }
    }

    /// Units per second as (numerator) for integer maths.
    fn units_per_second(self) -> i128 {
        match self {
            TsResolution::Decimal(n) => 10i128.pow(u32::from(n.min(19))),
            TsResolution::Binary(n) => 1i128 << n.min(63),
        }
    }

    /// Converts a time in ns (relative to the interface offset) to units,
    /// rounding down; negative times clamp to 0.
    pub fn units_from_ns(self, rel_ns: i128) -> u64 {
        let u = (rel_ns.max(0) * self.units_per_second()).div_euclid(NS_PER_S);
        u.min(i128::from(u64::MAX)) as u64
    }

    /// Converts units back to ns, rounding down (what a reader computes).
    pub fn ns_from_units(self, units: u64) -> i128 {
        (i128::from(units) * NS_PER_S).div_euclid(self.units_per_second())
    }

    /// The nearest time at or before `rel_ns` that is a whole number of
    /// units *and* a whole number of nanoseconds, so it survives a round
    /// trip unchanged: useful to give exact ground truth even for binary
    /// resolutions (for 2^-20 s these are multiples of 1 953 125 ns).
    pub fn snap_ns(self, rel_ns: i128) -> i128 {
        let step = NS_PER_S / gcd(NS_PER_S, self.units_per_second());
        rel_ns.div_euclid(step) * step
    }
}

fn gcd(mut a: i128, mut b: i128) -> i128 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// A pcapng option: code and raw value (padding is added when written).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PcapngOption {
    /// Option code.
    pub code: u16,
    /// Value bytes.
    pub value: Vec<u8>,
}

impl PcapngOption {
    /// An `opt_comment` with this UTF-8 text.
    pub fn comment(text: &str) -> Self {
        Self {
            code: OPT_COMMENT,
            value: text.as_bytes().to_vec(),
        }
    }
}

/// An Interface Description Block.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InterfaceDesc {
    /// LINKTYPE (16 bits in pcapng).
    pub linktype: u16,
    /// Snapshot length (0 = no limit).
    pub snaplen: u32,
    /// `if_tsresol`; `None` writes no option (readers assume 10^-6).
    pub tsresol: Option<TsResolution>,
    /// `if_tsoffset` in seconds; 0 writes no option.
    pub tsoffset_s: i64,
    /// `if_name`, if any.
    pub name: Option<String>,
}

impl InterfaceDesc {
    /// An interface with this link type, no snaplen limit and default resolution.
    pub fn new(linktype: u32) -> Self {
        Self {
            linktype: linktype.min(u32::from(u16::MAX)) as u16,
            snaplen: 0,
            tsresol: None,
            tsoffset_s: 0,
            name: None,
        }
    }

    /// The resolution readers will use.
    pub fn resolution(&self) -> TsResolution {
        self.tsresol.unwrap_or_default()
    }

    /// Timestamp units as written in EPB/ISB/PB for a time in ns since the epoch.
    pub fn units(&self, ts_ns: i64) -> u64 {
        let rel = i128::from(ts_ns) - i128::from(self.tsoffset_s) * NS_PER_S;
        self.resolution().units_from_ns(rel)
    }

    /// The time in ns since the epoch that a reader recovers from `units`.
    pub fn ns_from_units(&self, units: u64) -> i64 {
        let ns = self.resolution().ns_from_units(units) + i128::from(self.tsoffset_s) * NS_PER_S;
        ns.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64
    }

    /// What a reader recovers for a frame written at `ts_ns`.
    pub fn round_trip(&self, ts_ns: i64) -> i64 {
        self.ns_from_units(self.units(ts_ns))
    }
}

/// Builds a pcapng file block by block. Sections may use different byte
/// orders; interface IDs restart at 0 in every section.
#[derive(Clone, Debug)]
pub struct PcapngWriter {
    buf: Vec<u8>,
    endian: Endian,
    interfaces: Vec<InterfaceDesc>,
    block_starts: Vec<usize>,
}

fn pad4(v: &mut Vec<u8>) {
    while !v.len().is_multiple_of(4) {
        v.push(0);
    }
}

impl PcapngWriter {
    /// A file that starts with a Section Header Block in this byte order.
    pub fn new(endian: Endian) -> Self {
        let mut w = Self {
            buf: Vec::new(),
            endian,
            interfaces: Vec::new(),
            block_starts: Vec::new(),
        };
        w.section(endian, &[]);
        w
    }

    /// Starts a new section (SHB) with this byte order and options;
    /// previously described interfaces are forgotten.
    pub fn section(&mut self, endian: Endian, options: &[PcapngOption]) {
        self.endian = endian;
        self.interfaces.clear();
        let e = endian;
        let mut body = Vec::new();
        body.extend_from_slice(&e.u32(PCAPNG_BYTE_ORDER_MAGIC));
        body.extend_from_slice(&e.u16(1)); // major version
        body.extend_from_slice(&e.u16(0)); // minor version
        body.extend_from_slice(&e.u64(u64::MAX)); // section length: -1, unspecified
        let mut opts = vec![PcapngOption {
            code: SHB_USERAPPL,
            value: b"tamper synth".to_vec(),
        }];
        opts.extend_from_slice(options);
        self.encode_options(&mut body, &opts);
        self.block(PCAPNG_SHB, &body);
    }

    fn encode_options(&self, body: &mut Vec<u8>, options: &[PcapngOption]) {
        if options.is_empty() {
            return;
        }
        let e = self.endian;
        for o in options {
            body.extend_from_slice(&e.u16(o.code));
            body.extend_from_slice(&e.u16(o.value.len().min(usize::from(u16::MAX)) as u16));
            body.extend_from_slice(&o.value);
            pad4(body);
        }
        body.extend_from_slice(&e.u16(OPT_ENDOFOPT));
        body.extend_from_slice(&e.u16(0));
    }

    /// Writes a block of any type; `body` is padded to 32 bits and framed by
    /// the type and both total-length fields.
    pub fn block(&mut self, block_type: u32, body: &[u8]) {
        let e = self.endian;
        let padded = body.len().div_ceil(4) * 4;
        let total = (PCAPNG_BLOCK_OVERHEAD + padded) as u32;
        self.block_starts.push(self.buf.len());
        self.buf.extend_from_slice(&e.u32(block_type));
        self.buf.extend_from_slice(&e.u32(total));
        self.buf.extend_from_slice(body);
        pad4(&mut self.buf);
        self.buf.extend_from_slice(&e.u32(total));
    }

    /// Describes an interface (IDB) and returns its ID within the section.
    pub fn interface(&mut self, desc: &InterfaceDesc) -> u32 {
        let e = self.endian;
        let mut body = Vec::new();
        body.extend_from_slice(&e.u16(desc.linktype));
        body.extend_from_slice(&e.u16(0)); // reserved
        body.extend_from_slice(&e.u32(desc.snaplen));
        let mut opts = Vec::new();
        if let Some(name) = &desc.name {
            opts.push(PcapngOption {
                code: IF_NAME,
                value: name.as_bytes().to_vec(),
            });
        }
        if let Some(r) = desc.tsresol {
            opts.push(PcapngOption {
                code: IF_TSRESOL,
                value: vec![r.option_byte()],
            });
        }
        if desc.tsoffset_s != 0 {
            opts.push(PcapngOption {
                code: IF_TSOFFSET,
                value: e.u64(desc.tsoffset_s as u64).to_vec(),
            });
        }
        self.encode_options(&mut body, &opts);
        self.block(PCAPNG_IDB, &body);
        self.interfaces.push(desc.clone());
        (self.interfaces.len() - 1) as u32
    }

    fn iface(&self, id: u32) -> InterfaceDesc {
        self.interfaces
            .get(id as usize)
            .cloned()
            .unwrap_or_else(|| InterfaceDesc::new(0))
    }

    /// Writes an Enhanced Packet Block for `frame` (cut to the interface snaplen).
    pub fn packet(&mut self, frame: &Frame) {
        self.packet_with_options(frame, &[]);
    }

    /// Writes an Enhanced Packet Block with options (e.g. a comment).
    pub fn packet_with_options(&mut self, frame: &Frame, options: &[PcapngOption]) {
        let e = self.endian;
        let iface = self.iface(frame.interface);
        let units = iface.units(frame.ts_ns);
        let caplen = cut_len(frame.data.len(), iface.snaplen);
        let mut body = Vec::new();
        body.extend_from_slice(&e.u32(frame.interface));
        body.extend_from_slice(&e.u32((units >> 32) as u32));
        body.extend_from_slice(&e.u32(units as u32));
        body.extend_from_slice(&e.u32(caplen as u32));
        body.extend_from_slice(&e.u32(frame.orig_len));
        body.extend_from_slice(&frame.data[..caplen]);
        pad4(&mut body);
        self.encode_options(&mut body, options);
        self.block(PCAPNG_EPB, &body);
    }

    /// Writes a Simple Packet Block: no timestamp, no interface ID (always
    /// interface 0), data cut to interface 0's snaplen.
    pub fn simple_packet(&mut self, data: &[u8], orig_len: u32) {
        let e = self.endian;
        let snaplen = self.iface(0).snaplen;
        let caplen = cut_len(data.len(), snaplen);
        let mut body = Vec::new();
        body.extend_from_slice(&e.u32(orig_len));
        body.extend_from_slice(&data[..caplen]);
        self.block(PCAPNG_SPB, &body);
    }

    /// Writes an obsolete Packet Block (type 2) for `frame`, with a drops
    /// count of 0.
    pub fn obsolete_packet(&mut self, frame: &Frame) {
        let e = self.endian;
        let iface = self.iface(frame.interface);
        let units = iface.units(frame.ts_ns);
        let caplen = cut_len(frame.data.len(), iface.snaplen);
        let mut body = Vec::new();
        body.extend_from_slice(&e.u16(frame.interface.min(u32::from(u16::MAX)) as u16));
        body.extend_from_slice(&e.u16(0)); // drops count
        body.extend_from_slice(&e.u32((units >> 32) as u32));
        body.extend_from_slice(&e.u32(units as u32));
        body.extend_from_slice(&e.u32(caplen as u32));
        body.extend_from_slice(&e.u32(frame.orig_len));
        body.extend_from_slice(&frame.data[..caplen]);
        self.block(PCAPNG_PB, &body);
    }

    /// Writes a Name Resolution Block mapping addresses to names.
    pub fn name_resolution(&mut self, entries: &[(IpAddr, &str)]) {
        let e = self.endian;
        let mut body = Vec::new();
        for (addr, name) in entries {
            let (kind, mut value) = match addr {
                IpAddr::V4(a) => (NRB_RECORD_IPV4, a.octets().to_vec()),
                IpAddr::V6(a) => (NRB_RECORD_IPV6, a.octets().to_vec()),
            };
            value.extend_from_slice(name.as_bytes());
            value.push(0);
            body.extend_from_slice(&e.u16(kind));
            body.extend_from_slice(&e.u16(value.len() as u16));
            body.extend_from_slice(&value);
            pad4(&mut body);
        }
        body.extend_from_slice(&e.u16(NRB_RECORD_END));
        body.extend_from_slice(&e.u16(0));
        self.block(PCAPNG_NRB, &body);
    }

    /// Writes an Interface Statistics Block with received and dropped counts.
    pub fn interface_statistics(
        &mut self,
        interface: u32,
        ts_ns: i64,
        received: u64,
        dropped: u64,
    ) {
        let e = self.endian;
        let units = self.iface(interface).units(ts_ns);
        let mut body = Vec::new();
        body.extend_from_slice(&e.u32(interface));
        body.extend_from_slice(&e.u32((units >> 32) as u32));
        body.extend_from_slice(&e.u32(units as u32));
        let opts = [
            PcapngOption {
                code: ISB_IFRECV,
                value: e.u64(received).to_vec(),
            },
            PcapngOption {
                code: ISB_IFDROP,
                value: e.u64(dropped).to_vec(),
            },
        ];
        self.encode_options(&mut body, &opts);
        self.block(PCAPNG_ISB, &body);
    }

    /// Writes a Decryption Secrets Block.
    pub fn decryption_secrets(&mut self, secrets_type: u32, data: &[u8]) {
        let e = self.endian;
        let mut body = Vec::new();
        body.extend_from_slice(&e.u32(secrets_type));
        body.extend_from_slice(&e.u32(data.len() as u32));
        body.extend_from_slice(data);
        self.block(PCAPNG_DSB, &body);
    }

    /// Writes a Custom Block (copyable: 0x00000BAD, else 0x40000BAD) with a
    /// Private Enterprise Number and opaque data.
    pub fn custom(&mut self, copyable: bool, pen: u32, data: &[u8]) {
        let e = self.endian;
        let mut body = Vec::new();
        body.extend_from_slice(&e.u32(pen));
        body.extend_from_slice(data);
        let t = if copyable {
            PCAPNG_CUSTOM_COPY
        } else {
            PCAPNG_CUSTOM_NOCOPY
        };
        self.block(t, &body);
    }

    /// Bytes written so far (the offset the next block will start at).
    pub fn len(&self) -> usize {
        self.buf.len()
    }

    /// True when nothing has been written (never, after [`PcapngWriter::new`]).
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// Start offsets of every block written so far.
    pub fn block_starts(&self) -> &[usize] {
        &self.block_starts
    }

    /// The interfaces described in the current section.
    pub fn interfaces(&self) -> &[InterfaceDesc] {
        &self.interfaces
    }

    /// The finished file.
    pub fn finish(self) -> Vec<u8> {
        self.buf
    }
}

/// A one-section pcapng file with these interfaces and frames as EPBs.
pub fn write_pcapng(endian: Endian, interfaces: &[InterfaceDesc], frames: &[Frame]) -> Vec<u8> {
    let mut w = PcapngWriter::new(endian);
    for i in interfaces {
        w.interface(i);
    }
    for f in frames {
        w.packet(f);
    }
    w.finish()
}

/// gzip with a fixed header (mtime 0, OS 255) and default compression.
pub fn gzip(data: &[u8]) -> Result<Vec<u8>, SynthError> {
    let mut enc = flate2::GzBuilder::new()
        .mtime(0)
        .operating_system(255)
        .write(Vec::new(), flate2::Compression::default());
    enc.write_all(data)?;
    Ok(enc.finish()?)
}

/// Several gzip members concatenated (as `cat a.gz b.gz` makes), split at the
/// given byte offsets of `data`; decompressing yields `data` again (RFC 1952 §2.2).
pub fn gzip_members(data: &[u8], split_at: &[usize]) -> Result<Vec<u8>, SynthError> {
    let mut out = Vec::new();
    let mut start = 0;
    for &s in split_at {
        let s = s.clamp(start, data.len());
        out.extend_from_slice(&gzip(&data[start..s])?);
        start = s;
    }
    out.extend_from_slice(&gzip(&data[start..])?);
    Ok(out)
}

/// xz (preset 6, CRC64 check, single-threaded so the output is reproducible).
pub fn xz(data: &[u8]) -> Result<Vec<u8>, SynthError> {
    let stream = liblzma::stream::Stream::new_easy_encoder(6, liblzma::stream::Check::Crc64)
        .map_err(std::io::Error::from)?;
    let mut enc = liblzma::write::XzEncoder::new_stream(Vec::new(), stream);
    enc.write_all(data)?;
    Ok(enc.finish()?)
}

/// zstd at level 3 (single-threaded, no dictionary).
pub fn zstd(data: &[u8]) -> Result<Vec<u8>, SynthError> {
    Ok(zstd::stream::encode_all(data, 3)?)
}

/// The first `len` bytes of `bytes` (all of them if shorter): a file cut off
/// as when the capturing process is killed or the disk fills up.
pub fn truncate(bytes: &[u8], len: usize) -> Vec<u8> {
    bytes[..len.min(bytes.len())].to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;
    use pcap_parser::pcapng::Block;
    use pcap_parser::{parse_block_be, parse_block_le, parse_pcap_frame, parse_pcap_header};
    use std::io::Read;

    fn frames() -> Vec<Frame> {
        vec![
            Frame::new(1_700_000_000_123_456_789, vec![1; 60]),
            Frame::new(1_700_000_001_000_000_001, vec![2; 61]),
            Frame::new(1_700_000_002_999_999_999, vec![3; 1514]),
        ]
    }

    fn rd32(b: &[u8], e: Endian) -> u32 {
        let a = [b[0], b[1], b[2], b[3]];
        match e {
            Endian::Little => u32::from_le_bytes(a),
            Endian::Big => u32::from_be_bytes(a),
        }
    }

    #[test]
    fn synth_pcap_headers_and_records() {
        for endian in [Endian::Little, Endian::Big] {
            for flavor in [
                PcapFlavor::Microsecond,
                PcapFlavor::Nanosecond,
                PcapFlavor::Modified,
            ] {
                let opts = PcapOptions {
                    endian,
                    flavor,
                    snaplen: 100,
                    linktype: 1,
                };
                let (bytes, ranges) = write_pcap_with_layout(&opts, &frames());
                let magic = rd32(&bytes, endian);
                assert_eq!(
                    magic,
                    match flavor {
                        PcapFlavor::Microsecond => 0xA1B2_C3D4,
                        PcapFlavor::Nanosecond => 0xA1B2_3C4D,
                        PcapFlavor::Modified => 0xA1B2_CD34,
                    }
                );
                assert_eq!(rd32(&bytes[16..], endian), 100);
                assert_eq!(rd32(&bytes[20..], endian), 1);
                assert_eq!(ranges.len(), 3);
                assert_eq!(ranges[0].start, 24);
                assert_eq!(ranges[2].end, bytes.len());
                let hl = if flavor == PcapFlavor::Modified {
                    24
                } else {
                    16
                };
                for (r, f) in ranges.iter().zip(frames()) {
                    let rec = &bytes[r.clone()];
                    let caplen = rd32(&rec[8..], endian) as usize;
                    assert_eq!(caplen, f.data.len().min(100));
                    assert_eq!(rd32(&rec[12..], endian), f.orig_len);
                    assert_eq!(rec.len(), hl + caplen);
                    let sec = i64::from(rd32(rec, endian));
                    let frac = i64::from(rd32(&rec[4..], endian));
                    let ns = if flavor == PcapFlavor::Nanosecond {
                        frac
                    } else {
                        frac * 1000
                    };
                    let want = if flavor == PcapFlavor::Nanosecond {
                        f.ts_ns
                    } else {
                        f.ts_ns / 1000 * 1000
                    };
                    assert_eq!(sec * 1_000_000_000 + ns, want);
                }
            }
        }
        // And pcap-parser agrees on a little-endian file.
        let bytes = write_pcap(&PcapOptions::new(1), &frames());
        let (mut rest, hdr) = parse_pcap_header(&bytes).unwrap();
        assert_eq!(hdr.snaplen, DEFAULT_SNAPLEN);
        let mut n = 0;
        while !rest.is_empty() {
            let (r, b) = parse_pcap_frame(rest).unwrap();
            assert_eq!(b.data, &frames()[n].data[..]);
            rest = r;
            n += 1;
        }
        assert_eq!(n, 3);
    }

    #[test]
    fn synth_tsresol_round_trips() {
        let t: i64 = 1_715_679_000_123_456_789;
        for (r, exact) in [
            (TsResolution::Decimal(6), t / 1000 * 1000),
            (TsResolution::Decimal(9), t),
            (TsResolution::Decimal(3), t / 1_000_000 * 1_000_000),
            (TsResolution::Decimal(12), t),
        ] {
            let mut d = InterfaceDesc::new(1);
            d.tsresol = Some(r);
            if r != TsResolution::Decimal(12) {
                // 10^-12 s units since 1970 do not fit in 64 bits.
                assert_eq!(d.round_trip(t), exact, "{r:?}");
            }
            d.tsoffset_s = 1_715_679_000;
            assert_eq!(d.round_trip(t), exact, "{r:?} with offset");
            assert_eq!(d.units(t), d.resolution().units_from_ns(123_456_789));
        }
        let b = TsResolution::Binary(20);
        assert_eq!(b.option_byte(), 0x94);
        let snapped = b.snap_ns(123_456_789);
        assert!(snapped <= 123_456_789 && 123_456_789 - snapped < 2_000_000);
        assert_eq!(b.ns_from_units(b.units_from_ns(snapped)), snapped);
        assert_eq!(snapped % 1_953_125, 0);
        // 2^-20: one unit is 953.67... ns; a round trip loses less than a unit.
        let mut d = InterfaceDesc::new(1);
        d.tsresol = Some(b);
        let rt = d.round_trip(t);
        assert!(rt <= t && t - rt < 954);
    }

    fn walk_blocks(bytes: &[u8]) -> Vec<u32> {
        // Independent walk: every block's leading and trailing lengths agree.
        let mut types = Vec::new();
        let mut pos = 0;
        let mut e = Endian::Little;
        while pos < bytes.len() {
            let t_le = u32::from_le_bytes(bytes[pos..pos + 4].try_into().unwrap());
            if t_le == PCAPNG_SHB {
                let m = &bytes[pos + 8..pos + 12];
                e = if m == [0x4D, 0x3C, 0x2B, 0x1A] {
                    Endian::Little
                } else {
                    assert_eq!(m, [0x1A, 0x2B, 0x3C, 0x4D]);
                    Endian::Big
                };
            }
            let t = rd32(&bytes[pos..], e);
            let len = rd32(&bytes[pos + 4..], e) as usize;
            assert_eq!(len % 4, 0);
            assert_eq!(rd32(&bytes[pos + len - 4..], e) as usize, len);
            types.push(t);
            pos += len;
        }
        assert_eq!(pos, bytes.len());
        types
    }

    #[test]
    fn synth_pcapng_blocks_are_framed_and_parse() {
        for endian in [Endian::Little, Endian::Big] {
            let mut w = PcapngWriter::new(endian);
            let mut a = InterfaceDesc::new(1);
            a.name = Some("eth0".into());
            a.tsresol = Some(TsResolution::Decimal(9));
            a.snaplen = 100;
            w.interface(&a);
            let mut b = InterfaceDesc::new(101);
            b.tsresol = Some(TsResolution::Binary(20));
            b.tsoffset_s = 1_700_000_000;
            w.interface(&b);
            let fr = frames();
            w.packet(&fr[0]);
            w.name_resolution(&[("10.0.0.1".parse().unwrap(), "a.example")]);
            w.packet_with_options(
                &fr[1].clone().on_interface(1),
                &[PcapngOption::comment("hi")],
            );
            w.interface_statistics(0, fr[1].ts_ns, 10, 1);
            w.decryption_secrets(DSB_TLS_KEY_LOG, b"CLIENT_RANDOM 00 11\n");
            w.custom(true, 32473, b"abc");
            w.custom(false, 32473, b"abcd");
            w.block(0x0000_0ABC, b"unknown!!");
            w.simple_packet(&fr[2].data, fr[2].orig_len);
            w.obsolete_packet(&fr[0]);
            let starts = w.block_starts().to_vec();
            let bytes = w.finish();
            let types = walk_blocks(&bytes);
            assert_eq!(types.len(), starts.len());
            assert_eq!(
                types,
                vec![
                    PCAPNG_SHB,
                    PCAPNG_IDB,
                    PCAPNG_IDB,
                    PCAPNG_EPB,
                    PCAPNG_NRB,
                    PCAPNG_EPB,
                    PCAPNG_ISB,
                    PCAPNG_DSB,
                    PCAPNG_CUSTOM_COPY,
                    PCAPNG_CUSTOM_NOCOPY,
                    0xABC,
                    PCAPNG_SPB,
                    PCAPNG_PB
                ]
            );
            // pcap-parser understands every block.
            let mut rest: &[u8] = &bytes;
            let mut epbs = Vec::new();
            let mut spb_len = None;
            while !rest.is_empty() {
                let (r, blk) = match endian {
                    Endian::Little => parse_block_le(rest).unwrap(),
                    Endian::Big => parse_block_be(rest).unwrap(),
                };
                match blk {
                    Block::EnhancedPacket(p) => {
                        epbs.push((p.if_id, p.ts_high, p.ts_low, p.caplen, p.data.len()))
                    }
                    Block::SimplePacket(p) => spb_len = Some(p.origlen),
                    Block::InterfaceDescription(i) => {
                        if i.linktype.0 == 1 {
                            assert_eq!(i.if_tsresol, 9);
                            assert_eq!(i.snaplen, 100);
                        } else {
                            assert_eq!(i.linktype.0, 101);
                            assert_eq!(i.if_tsresol, 0x94);
                            // pcap-parser 0.17 reads if_tsoffset as little-endian
                            // even in big-endian sections, so only check LE here.
                            if endian == Endian::Little {
                                assert_eq!(i.if_tsoffset, 1_700_000_000);
                            }
                        }
                    }
                    _ => {}
                }
                rest = r;
            }
            assert_eq!(epbs.len(), 2);
            // Interface 0: ns units, snaplen 100 cuts nothing here (60 bytes).
            let u0 = (u64::from(epbs[0].1) << 32) | u64::from(epbs[0].2);
            assert_eq!(u0, 1_700_000_000_123_456_789);
            assert_eq!(epbs[0].3, 60);
            // Interface 1: 2^-20 units relative to the offset.
            let u1 = (u64::from(epbs[1].1) << 32) | u64::from(epbs[1].2);
            assert_eq!(u1, TsResolution::Binary(20).units_from_ns(1_000_000_001));
            assert_eq!(spb_len, Some(1514));
        }
    }

    #[test]
    fn synth_spb_is_cut_to_interface_zero_snaplen() {
        let mut w = PcapngWriter::new(Endian::Little);
        let mut d = InterfaceDesc::new(1);
        d.snaplen = 64;
        w.interface(&d);
        w.simple_packet(&[7u8; 200], 200);
        let bytes = w.finish();
        let spb = &bytes[bytes.len() - (12 + 4 + 64)..];
        assert_eq!(rd32(spb, Endian::Little), PCAPNG_SPB);
        assert_eq!(rd32(&spb[8..], Endian::Little), 200);
    }

    #[test]
    fn synth_compression_round_trips() {
        let data = write_pcap(&PcapOptions::new(1), &frames());
        let gz = gzip_members(&data, &[100]).unwrap();
        // Two members: the magic appears at the start and again later.
        assert_eq!(&gz[..2], &[0x1F, 0x8B]);
        let mut out = Vec::new();
        flate2::read::MultiGzDecoder::new(&gz[..])
            .read_to_end(&mut out)
            .unwrap();
        assert_eq!(out, data);
        let mut single = Vec::new();
        flate2::read::GzDecoder::new(&gz[..])
            .read_to_end(&mut single)
            .unwrap();
        assert_eq!(single, data[..100]);

        let x = xz(&data).unwrap();
        assert_eq!(&x[..6], &[0xFD, b'7', b'z', b'X', b'Z', 0]);
        let mut out = Vec::new();
        liblzma::read::XzDecoder::new(&x[..])
            .read_to_end(&mut out)
            .unwrap();
        assert_eq!(out, data);

        let z = zstd(&data).unwrap();
        assert_eq!(&z[..4], &[0x28, 0xB5, 0x2F, 0xFD]);
        assert_eq!(zstd::stream::decode_all(&z[..]).unwrap(), data);
        assert_eq!(gzip(&data).unwrap(), gzip(&data).unwrap());
        assert_eq!(xz(&data).unwrap(), x);
    }

    #[test]
    fn synth_truncate_cuts() {
        assert_eq!(truncate(b"abcdef", 3), b"abc");
        assert_eq!(truncate(b"ab", 3), b"ab");
    }
}
