//! Streams pcap and pcapng records out of a byte stream with a bounded buffer; it never decodes
//! packets and never stops on damage it can describe.
//!
//! pcap-parser parses the file header and every pcapng block; this module owns the buffer, so
//! that a whole record is always in memory before it is parsed. That lets it tell a file cut
//! short (tcpdump killed mid-write) from a corrupt header, and lets it refuse impossible
//! lengths before allocating for them.

use std::io::{self, Read};

use pcap_parser::pcapng::{parse_block_be, parse_block_le, parse_sectionheaderblock, Block};
use pcap_parser::{parse_pcap_frame, parse_pcap_frame_be, parse_pcap_frame_modified, PcapHeader};
use serde::Serialize;

use super::{
    CaptureError, CaptureFormat, Compression, Frame, FrameContent, InputSource, InterfaceInfo,
    LinkType,
};
use crate::diag::{DiagnosticKind, Diagnostics};
use crate::ids::FrameNumber;
use crate::time::Timestamp;

/// Largest captured length of one packet that Wireshark accepts for ordinary link types
/// (`WTAP_MAX_PACKET_SIZE_STANDARD`); larger records are treated as corruption, as Wireshark
/// does.
pub const MAX_PACKET_LEN: u32 = 262_144;
/// Largest pcapng block accepted (Wireshark's limit is 16 MiB).
pub const MAX_BLOCK_LEN: u32 = 16 * 1024 * 1024;
/// Size of the classic pcap file header.
const PCAP_HEADER_LEN: usize = 24;
/// Classic pcap record header size (16) and the "modified" variant's (24).
const PCAP_RECORD_HEADER_LEN: usize = 16;
const PCAP_MODIFIED_RECORD_HEADER_LEN: usize = 24;
/// pcapng block types (pcapng draft §4 and §11.1).
const SHB_TYPE: u32 = 0x0A0D_0D0A;
const OPB_TYPE: u32 = 0x0000_0002;
/// pcapng option codes for interface blocks (§4.2).
const OPT_IF_TSRESOL: u16 = 9;
const OPT_IF_TSOFFSET: u16 = 14;
/// Initial read buffer.
const INITIAL_BUFFER: usize = 1 << 20;
/// Minimum bytes requested from the input per read.
const READ_CHUNK: usize = 256 * 1024;

/// How reading a capture ended.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum ReadEnd {
    /// Every record was read.
    Complete,
    /// The file ends inside a record; everything before it was read.
    Truncated {
        /// Stream offset of the incomplete record.
        offset: u64,
        /// What was cut.
        detail: String,
    },
    /// A record header is impossible; reading stopped there.
    Invalid {
        /// Stream offset of the bad record.
        offset: u64,
        /// What is wrong.
        detail: String,
    },
    /// Reading or decompression failed part way.
    ReadError {
        /// Stream offset reached.
        offset: u64,
        /// The error.
        detail: String,
    },
    /// The analysis was stopped before the end of the input: the per-capture time budget ran
    /// out, or the run was interrupted (Ctrl-C). Set by the pipeline, never by the reader.
    Stopped {
        /// Stream offset reached.
        offset: u64,
        /// Why, and how far it got.
        detail: String,
        /// True when the run was interrupted (no report is written for such a capture).
        interrupted: bool,
    },
}

impl ReadEnd {
    /// True unless every record was read.
    pub fn is_partial(&self) -> bool {
        !matches!(self, ReadEnd::Complete)
    }
}

/// Timestamp resolution of one interface.
#[derive(Clone, Copy, Debug)]
struct Resolution {
    /// Units per second: 10^n or 2^n.
    units_per_sec: u64,
}

impl Resolution {
    const MICRO: Resolution = Resolution {
        units_per_sec: 1_000_000,
    };

    /// Decodes `if_tsresol`: high bit clear = 10^-n, set = 2^-n (pcapng §4.2).
    fn from_tsresol(v: u8) -> Option<Resolution> {
        let n = u32::from(v & 0x7f);
        let units = if v & 0x80 == 0 {
            10u64.checked_pow(n)?
        } else {
            1u64.checked_shl(n).filter(|_| n < 64)?
        };
        Some(Resolution {
            units_per_sec: units,
        })
    }

    fn to_nanos(self, units: u64, offset_secs: i64) -> i64 {
        let ns = i128::from(units) * 1_000_000_000 / i128::from(self.units_per_sec.max(1));
        let total = ns + i128::from(offset_secs) * 1_000_000_000;
        total.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64
    }
}

#[derive(Clone, Debug)]
struct NgInterface {
    global_index: u32,
    link_type: LinkType,
    snaplen: u32,
    resolution: Resolution,
    offset_secs: i64,
}

#[derive(Debug)]
enum Format {
    Pcap {
        header: PcapHeader,
        link_type: LinkType,
        nanosecond: bool,
    },
    Pcapng {
        big_endian: bool,
        /// Interfaces of the current section.
        interfaces: Vec<NgInterface>,
    },
}

/// Streams frames out of one capture.
pub struct CaptureReader {
    input: Box<dyn Read + Send>,
    buf: Vec<u8>,
    start: usize,
    end: usize,
    eof: bool,
    read_error: Option<io::Error>,
    /// Stream offset of `buf[start]`.
    offset: u64,
    format: Format,
    capture_format: CaptureFormat,
    compression: Vec<Compression>,
    interfaces: Vec<InterfaceInfo>,
    frames: u64,
    end_state: Option<ReadEnd>,
    last_ts: Option<Timestamp>,
    pending: PendingFrame,
}

/// Where the bytes of the frame to hand out next sit in the buffer.
#[derive(Clone, Copy, Debug, Default)]
struct PendingFrame {
    data_start: usize,
    data_len: usize,
    ts: i64,
    interface: u32,
    link_type: Option<LinkType>,
    orig_len: u32,
    offset: u64,
}

enum Step {
    /// A frame is ready in `pending`.
    Frame,
    /// A non-frame block was consumed; keep going.
    Continue,
    /// Reading is over (cleanly or not; see `end_state`).
    Done,
}

impl CaptureReader {
    /// Opens an input (sniffing compression and format).
    pub fn open(source: &InputSource) -> Result<CaptureReader, CaptureError> {
        CaptureReader::open_with_ceiling(source, super::source::DEFAULT_MAX_DECOMPRESSED)
    }

    /// Opens `source` with a ceiling on the bytes compressed data may decompress to; past it,
    /// reading stops with an error that names the ceiling (the capture is reported as partly
    /// read, with everything before the ceiling analyzed).
    pub fn open_with_ceiling(
        source: &InputSource,
        max_decompressed: u64,
    ) -> Result<CaptureReader, CaptureError> {
        let (stream, layers) = source.open()?;
        let stream = super::source::under_ceiling(stream, &layers, max_decompressed);
        CaptureReader::from_stream(stream, layers, &source.display_name())
    }

    /// Reads from any byte stream (already decompressed or not: compression is sniffed).
    pub fn from_reader(
        input: Box<dyn Read + Send>,
        name: &str,
    ) -> Result<CaptureReader, CaptureError> {
        let (stream, layers) = super::source::open_stream(input, name)?;
        CaptureReader::from_stream(stream, layers, name)
    }

    /// Like [`from_reader`](CaptureReader::from_reader), with a ceiling on the bytes
    /// compressed data may decompress to, as [`open_with_ceiling`](CaptureReader::open_with_ceiling)
    /// applies to files (the fuzz targets read in-memory inputs under a low ceiling).
    pub fn from_reader_with_ceiling(
        input: Box<dyn Read + Send>,
        name: &str,
        max_decompressed: u64,
    ) -> Result<CaptureReader, CaptureError> {
        let (stream, layers) = super::source::open_stream(input, name)?;
        let stream = super::source::under_ceiling(stream, &layers, max_decompressed);
        CaptureReader::from_stream(stream, layers, name)
    }

    fn from_stream(
        input: Box<dyn Read + Send>,
        compression: Vec<Compression>,
        name: &str,
    ) -> Result<CaptureReader, CaptureError> {
        let mut r = CaptureReader {
            input,
            buf: vec![0; INITIAL_BUFFER],
            start: 0,
            end: 0,
            eof: false,
            read_error: None,
            offset: 0,
            format: Format::Pcapng {
                big_endian: false,
                interfaces: Vec::new(),
            },
            capture_format: CaptureFormat::Pcapng,
            compression,
            interfaces: Vec::new(),
            frames: 0,
            end_state: None,
            last_ts: None,
            pending: PendingFrame::default(),
        };
        let bad = |reason: String| CaptureError::BadHeader {
            path: name.to_string(),
            reason,
        };
        r.fill(12);
        let head = r.available();
        if head.starts_with(&SHB_TYPE.to_le_bytes()) {
            // The first section header is parsed by the normal block loop, so that its
            // problems are reported the same way as those of later sections; but an input whose
            // very first block is broken is not a capture we can read.
            let first_len = r.ng_block_len_at_start(true);
            match first_len {
                Err(reason) => return Err(bad(reason)),
                Ok(len) => {
                    r.fill(len as usize);
                    if r.available().len() < len as usize {
                        return Err(bad(format!(
                            "pcapng: the section header block needs {len} bytes, the file has {}",
                            r.available().len()
                        )));
                    }
                    let res = parse_sectionheaderblock(&r.available()[..len as usize]);
                    match res {
                        Ok((_, shb)) => {
                            check_shb_version(shb.major_version, shb.minor_version).map_err(bad)?
                        }
                        Err(e) => {
                            return Err(bad(format!("pcapng: bad section header block ({e:?})")))
                        }
                    }
                }
            }
            return Ok(r);
        }
        r.fill(PCAP_HEADER_LEN);
        if r.available().len() < PCAP_HEADER_LEN {
            return Err(bad(format!(
                "pcap: the file header needs {PCAP_HEADER_LEN} bytes, the file has {}",
                r.available().len()
            )));
        }
        let header = match pcap_parser::parse_pcap_header(r.available()) {
            Ok((_, h)) => h,
            Err(_) => {
                return Err(bad(
                    "pcap: modified (Kuznetzov) pcap in big-endian byte order is not supported; convert it with `editcap -F pcap IN OUT`"
                        .into(),
                ))
            }
        };
        if header.version_major != 2 {
            return Err(bad(format!(
                "pcap: major version {} unsupported (only version 2.x exists)",
                header.version_major
            )));
        }
        // The link-type field: low 16 bits are the type, bits 16-25 are reserved and must be
        // zero (bits 26-31 describe the FCS and are allowed) (draft-ietf-opsawg-pcap §4).
        let raw_link = header.network.0 as u32;
        if raw_link & 0x03FF_0000 != 0 {
            return Err(bad(format!(
                "pcap: the reserved bits of the link-type field are not zero (0x{:08x})",
                raw_link & 0x03FF_0000
            )));
        }
        let link_type = LinkType((raw_link & 0xFFFF) as u16);
        let nanosecond = header.is_nanosecond_precision();
        r.capture_format = CaptureFormat::Pcap {
            big_endian: header.is_bigendian(),
            nanosecond,
            modified: header.is_modified_format(),
        };
        r.interfaces.push(InterfaceInfo {
            index: 0,
            link_type,
            snaplen: header.snaplen,
            ts_units_per_sec: if nanosecond { 1_000_000_000 } else { 1_000_000 },
            ts_offset_secs: 0,
        });
        r.format = Format::Pcap {
            header,
            link_type,
            nanosecond,
        };
        r.consume(PCAP_HEADER_LEN);
        Ok(r)
    }

    /// The container format.
    pub fn format(&self) -> CaptureFormat {
        self.capture_format
    }

    /// Compression layers undone, outermost first.
    pub fn compression(&self) -> &[Compression] {
        &self.compression
    }

    /// Interfaces seen so far (all of them once reading has finished).
    pub fn interfaces(&self) -> &[InterfaceInfo] {
        &self.interfaces
    }

    /// Frames handed out so far.
    pub fn frames_read(&self) -> u64 {
        self.frames
    }

    /// Decompressed bytes consumed so far.
    pub fn bytes_consumed(&self) -> u64 {
        self.offset
    }

    /// How reading ended, once [`next_frame`](Self::next_frame) has returned `None`.
    pub fn end_state(&self) -> Option<&ReadEnd> {
        self.end_state.as_ref()
    }

    /// The next frame, or `None` when the capture is over (cleanly or not: see
    /// [`end_state`](Self::end_state)). Problems are reported into `diags` with the frame number
    /// they concern.
    pub fn next_frame(&mut self, diags: &mut Diagnostics) -> Option<Frame<'_>> {
        loop {
            if self.end_state.is_some() {
                return None;
            }
            let step = match self.format {
                Format::Pcap { .. } => self.step_pcap(diags),
                Format::Pcapng { .. } => self.step_pcapng(diags),
            };
            match step {
                Step::Continue => continue,
                Step::Done => return None,
                Step::Frame => break,
            }
        }
        self.frames += 1;
        let number = FrameNumber::new(self.frames).unwrap_or(FrameNumber::FIRST);
        let p = self.pending;
        let ts = Timestamp::from_nanos(p.ts);
        if let Some(last) = self.last_ts {
            if ts < last {
                diags.note(
                    DiagnosticKind::CaptureTimestampOutOfOrder,
                    Some(number),
                    || {
                        format!(
                            "frame {number} at {ts} is earlier than the previous frame at {last}"
                        )
                    },
                );
            }
        }
        self.last_ts = Some(self.last_ts.map_or(ts, |l| l.max(ts)));
        let data = self
            .buf
            .get(p.data_start..p.data_start + p.data_len)
            .unwrap_or(&[]);
        let content = match p.link_type {
            Some(lt) => FrameContent::Packet(lt),
            None => FrameContent::NonPacket,
        };
        if let FrameContent::Packet(_) = content {
            if (p.data_len as u64) < u64::from(p.orig_len) {
                diags.note(DiagnosticKind::PacketSnaplenCut, Some(number), || {
                    format!(
                        "frame {number}: {} of {} bytes captured",
                        p.data_len, p.orig_len
                    )
                });
            }
        } else {
            diags.note(DiagnosticKind::CaptureNonPacketRecord, Some(number), || {
                format!("frame {number} is a pcapng record without a packet")
            });
        }
        Some(Frame {
            number,
            ts,
            interface: p.interface,
            content,
            data,
            orig_len: p.orig_len,
            offset: p.offset,
        })
    }

    // ----- buffer management -------------------------------------------------------------

    fn available(&self) -> &[u8] {
        self.buf.get(self.start..self.end).unwrap_or(&[])
    }

    /// Tries to have at least `n` bytes available; fewer only at the end of the input.
    fn fill(&mut self, n: usize) {
        if self.end - self.start >= n || self.eof {
            return;
        }
        if self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        let want = n.max(READ_CHUNK);
        if self.buf.len() < want {
            self.buf.resize(want, 0);
        }
        while self.end < n && !self.eof {
            if self.end == self.buf.len() {
                let len = self.buf.len();
                self.buf.resize(len + READ_CHUNK, 0);
            }
            match self.input.read(&mut self.buf[self.end..]) {
                Ok(0) => self.eof = true,
                Ok(k) => self.end += k,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    self.read_error = Some(e);
                    self.eof = true;
                }
            }
        }
    }

    fn consume(&mut self, n: usize) {
        self.start += n;
        self.offset += n as u64;
    }

    /// Ends reading because the input stopped inside a record of `needed` bytes.
    fn stop_short(&mut self, needed: usize, what: &str, diags: &mut Diagnostics) -> Step {
        let have = self.end - self.start;
        let next = self.frames + 1;
        let state = if let Some(e) = self.read_error.take() {
            let detail = format!("reading stopped at byte {} inside {what}: {e}", self.offset);
            diags.note(DiagnosticKind::CaptureReadError, None, || detail.clone());
            ReadEnd::ReadError {
                offset: self.offset,
                detail,
            }
        } else {
            let detail = format!(
                "the file ends inside {what} (frame {next} would start at byte {}: {needed} bytes needed, {have} present)",
                self.offset
            );
            diags.note(DiagnosticKind::CaptureTruncated, None, || detail.clone());
            ReadEnd::Truncated {
                offset: self.offset,
                detail,
            }
        };
        self.end_state = Some(state);
        Step::Done
    }

    fn stop_invalid(&mut self, detail: String, diags: &mut Diagnostics) -> Step {
        diags.note(DiagnosticKind::CaptureRecordInvalid, None, || {
            detail.clone()
        });
        self.end_state = Some(ReadEnd::Invalid {
            offset: self.offset,
            detail,
        });
        Step::Done
    }

    fn stop_clean(&mut self, diags: &mut Diagnostics) -> Step {
        if let Some(e) = self.read_error.take() {
            let detail = format!("reading stopped at byte {}: {e}", self.offset);
            diags.note(DiagnosticKind::CaptureReadError, None, || detail.clone());
            self.end_state = Some(ReadEnd::ReadError {
                offset: self.offset,
                detail,
            });
        } else {
            self.end_state = Some(ReadEnd::Complete);
        }
        Step::Done
    }

    // ----- classic pcap --------------------------------------------------------------------

    fn step_pcap(&mut self, diags: &mut Diagnostics) -> Step {
        let Format::Pcap {
            ref header,
            link_type,
            nanosecond,
        } = self.format
        else {
            return Step::Done;
        };
        let modified = header.is_modified_format();
        let big_endian = header.is_bigendian();
        let hdr_len = if modified {
            PCAP_MODIFIED_RECORD_HEADER_LEN
        } else {
            PCAP_RECORD_HEADER_LEN
        };
        self.fill(hdr_len);
        let have = self.end - self.start;
        if have == 0 {
            return self.stop_clean(diags);
        }
        if have < hdr_len {
            return self.stop_short(hdr_len, "a record header", diags);
        }
        let field = |i: usize| {
            let b: [u8; 4] = self.available()[i..i + 4].try_into().unwrap_or([0; 4]);
            if big_endian {
                u32::from_be_bytes(b)
            } else {
                u32::from_le_bytes(b)
            }
        };
        let caplen = field(8);
        let origlen = field(12);
        let next = self.frames + 1;
        if caplen > MAX_PACKET_LEN {
            return self.stop_invalid(
                format!(
                    "record for frame {next} at byte {} claims {caplen} captured bytes, more than the {MAX_PACKET_LEN}-byte maximum: the file is corrupt from here on",
                    self.offset
                ),
                diags,
            );
        }
        let total = hdr_len + caplen as usize;
        self.fill(total);
        if self.end - self.start < total {
            return self.stop_short(total, "the last record", diags);
        }
        let rec = &self.buf[self.start..self.start + total];
        let parsed = if modified {
            parse_pcap_frame_modified(rec)
        } else if big_endian {
            parse_pcap_frame_be(rec)
        } else {
            parse_pcap_frame(rec)
        };
        let block = match parsed {
            Ok((_, b)) => b,
            Err(e) => {
                return self
                    .stop_invalid(format!("record for frame {next} unreadable: {e:?}"), diags)
            }
        };
        let frac = i64::from(block.ts_usec);
        let limit = if nanosecond { 1_000_000_000 } else { 1_000_000 };
        if frac >= limit {
            let unit = if nanosecond {
                "nanoseconds"
            } else {
                "microseconds"
            };
            diags.note(
                DiagnosticKind::CaptureTimestampInvalid,
                FrameNumber::new(next),
                || format!("frame {next}: timestamp fraction {frac} {unit} is one second or more"),
            );
        }
        let ts = i64::from(block.ts_sec)
            .saturating_mul(1_000_000_000)
            .saturating_add(if nanosecond { frac } else { frac * 1000 });
        self.pending = PendingFrame {
            data_start: self.start + hdr_len,
            data_len: caplen as usize,
            ts,
            interface: 0,
            link_type: Some(link_type),
            orig_len: origlen,
            offset: self.offset,
        };
        self.consume(total);
        Step::Frame
    }

    // ----- pcapng --------------------------------------------------------------------------

    /// Reads and checks the length of the block at the start of the buffer (8 or 12 bytes must
    /// be available). For a section header the byte order comes from its byte-order magic.
    fn ng_block_len_at_start(&self, is_shb: bool) -> Result<u32, String> {
        let a = self.available();
        let big_endian = if is_shb {
            match a.get(8..12) {
                Some([0x1a, 0x2b, 0x3c, 0x4d]) => true,
                Some([0x4d, 0x3c, 0x2b, 0x1a]) => false,
                Some(b) => {
                    return Err(format!(
                        "pcapng: section header byte-order magic is {:02x}{:02x}{:02x}{:02x}, not 1a2b3c4d",
                        b[0], b[1], b[2], b[3]
                    ))
                }
                None => return Err("pcapng: section header cut short".into()),
            }
        } else {
            matches!(
                self.format,
                Format::Pcapng {
                    big_endian: true,
                    ..
                }
            )
        };
        let b: [u8; 4] = a
            .get(4..8)
            .and_then(|s| s.try_into().ok())
            .ok_or_else(|| "pcapng: block header cut short".to_string())?;
        let len = if big_endian {
            u32::from_be_bytes(b)
        } else {
            u32::from_le_bytes(b)
        };
        if len < 12 || !len.is_multiple_of(4) || len > MAX_BLOCK_LEN {
            return Err(format!(
                "pcapng: block at byte {} has impossible length {len} (must be a multiple of 4 between 12 and {MAX_BLOCK_LEN})",
                self.offset
            ));
        }
        Ok(len)
    }

    fn step_pcapng(&mut self, diags: &mut Diagnostics) -> Step {
        self.fill(12);
        let have = self.end - self.start;
        if have == 0 {
            return self.stop_clean(diags);
        }
        if have < 8 {
            return self.stop_short(8, "a block header", diags);
        }
        let type_le = u32::from_le_bytes(self.available()[0..4].try_into().unwrap_or([0; 4]));
        let is_shb = type_le == SHB_TYPE;
        if is_shb && have < 12 {
            return self.stop_short(12, "a section header block", diags);
        }
        let len = match self.ng_block_len_at_start(is_shb) {
            Ok(l) => l as usize,
            Err(reason) => return self.stop_invalid(reason, diags),
        };
        self.fill(len);
        if self.end - self.start < len {
            return self.stop_short(len, "the last block", diags);
        }
        let block_offset = self.offset;
        let Format::Pcapng {
            big_endian: section_be,
            ..
        } = self.format
        else {
            return Step::Done;
        };
        let bytes = &self.buf[self.start..self.start + len];
        let next = self.frames + 1;

        if is_shb {
            let shb = match parse_sectionheaderblock(bytes) {
                Ok((_, shb)) => shb,
                Err(e) => {
                    return self.stop_invalid(
                        format!(
                        "pcapng: section header block at byte {block_offset} is malformed ({e:?})"
                    ),
                        diags,
                    )
                }
            };
            if let Err(reason) = check_shb_version(shb.major_version, shb.minor_version) {
                return self.stop_invalid(reason, diags);
            }
            self.format = Format::Pcapng {
                big_endian: shb.big_endian(),
                interfaces: Vec::new(),
            };
            self.consume(len);
            return Step::Continue;
        }

        let block_type = if section_be {
            type_le.swap_bytes()
        } else {
            type_le
        };
        if block_type == OPB_TYPE {
            return self.obsolete_packet_block(len, section_be, diags);
        }
        let parsed = if section_be {
            parse_block_be(bytes)
        } else {
            parse_block_le(bytes)
        };
        // Copy what is needed out of the borrowed block before touching `self` again.
        let data_base = bytes.as_ptr() as usize;
        let item = match parsed {
            Err(e) => NgItem::Malformed(format!("{e:?}")),
            Ok((_, block)) => match block {
                Block::InterfaceDescription(idb) => {
                    let mut tsresol = None;
                    let mut tsoffset = None;
                    for opt in &idb.options {
                        let value = opt.value();
                        if opt.code.0 == OPT_IF_TSRESOL {
                            tsresol = value.first().copied();
                        } else if opt.code.0 == OPT_IF_TSOFFSET {
                            tsoffset = value.get(..8).and_then(|s| <[u8; 8]>::try_from(s).ok());
                        }
                    }
                    NgItem::Interface {
                        link_type: LinkType(idb.linktype.0 as u16),
                        snaplen: idb.snaplen,
                        tsresol,
                        tsoffset,
                    }
                }
                Block::EnhancedPacket(epb) => NgItem::Packet {
                    if_id: epb.if_id,
                    caplen: epb.caplen,
                    data_len: epb.data.len(),
                    data_off: epb.data.as_ptr() as usize - data_base,
                    units: Some((u64::from(epb.ts_high) << 32) | u64::from(epb.ts_low)),
                    origlen: epb.origlen,
                },
                Block::SimplePacket(spb) => NgItem::Packet {
                    if_id: 0,
                    // §4.4: captured length = min(original length, snaplen of interface 0),
                    // applied below once the interface is known.
                    caplen: spb.origlen,
                    data_len: spb.data.len(),
                    data_off: spb.data.as_ptr() as usize - data_base,
                    units: None,
                    origlen: spb.origlen,
                },
                // Wireshark's frame.len for these is the length of the block's data.
                Block::Custom(c) => NgItem::NonPacket(c.data.len() as u32),
                Block::SystemdJournalExport(j) => NgItem::NonPacket(j.data.len() as u32),
                Block::Unknown(_) => NgItem::Unknown,
                Block::NameResolution(_)
                | Block::InterfaceStatistics(_)
                | Block::DecryptionSecrets(_)
                | Block::ProcessInformation(_)
                | Block::SectionHeader(_) => NgItem::Skip,
            },
        };
        match item {
            NgItem::Malformed(e) => self.stop_invalid(
                format!(
                    "pcapng: block of type 0x{block_type:08x} at byte {block_offset} is malformed ({e})"
                ),
                diags,
            ),
            NgItem::Interface {
                link_type,
                snaplen,
                tsresol,
                tsoffset,
            } => {
                let iface = self.new_interface(link_type, snaplen, tsresol, tsoffset, section_be, diags);
                if let Format::Pcapng { interfaces, .. } = &mut self.format {
                    interfaces.push(iface);
                }
                self.consume(len);
                Step::Continue
            }
            NgItem::Packet {
                if_id,
                caplen,
                data_len,
                data_off,
                units,
                origlen,
            } => {
                let Some(iface) = self.ng_interface(if_id) else {
                    let n = self.ng_interface_count();
                    return self.stop_invalid(
                        format!(
                            "pcapng: packet block at byte {block_offset} (frame {next}) names interface {if_id} but the section has {n} interface(s)"
                        ),
                        diags,
                    );
                };
                if units.is_some() && caplen > MAX_PACKET_LEN {
                    return self.stop_invalid(
                        format!(
                            "pcapng: packet block at byte {block_offset} (frame {next}) claims {caplen} captured bytes, more than the {MAX_PACKET_LEN}-byte maximum"
                        ),
                        diags,
                    );
                }
                let mut caplen = (caplen as usize).min(data_len);
                if units.is_none() && iface.snaplen != 0 {
                    caplen = caplen.min(iface.snaplen as usize);
                }
                self.pending = PendingFrame {
                    data_start: self.start + data_off,
                    data_len: caplen,
                    // A simple packet block has no timestamp; Wireshark shows 0 as well.
                    ts: units.map_or(0, |u| iface.resolution.to_nanos(u, iface.offset_secs)),
                    interface: iface.global_index,
                    link_type: Some(iface.link_type),
                    orig_len: origlen,
                    offset: block_offset,
                };
                self.consume(len);
                Step::Frame
            }
            NgItem::NonPacket(data_len) => {
                // Wireshark numbers these as frames; keep the numbering identical.
                self.pending = PendingFrame {
                    data_start: self.start,
                    data_len: 0,
                    ts: self.last_ts.map_or(0, |t| t.as_nanos()),
                    interface: 0,
                    link_type: None,
                    orig_len: data_len,
                    offset: block_offset,
                };
                self.consume(len);
                Step::Frame
            }
            NgItem::Unknown => {
                diags.note(DiagnosticKind::CaptureBlockSkipped, None, || {
                    format!("pcapng block of unknown type 0x{block_type:08x} at byte {block_offset} skipped")
                });
                self.consume(len);
                Step::Continue
            }
            NgItem::Skip => {
                self.consume(len);
                Step::Continue
            }
        }
    }

    /// The obsolete Packet Block (type 2), which pcap-parser does not decode: interface id
    /// (u16), drops count (u16), timestamp high/low, captured and original length, data.
    fn obsolete_packet_block(&mut self, len: usize, be: bool, diags: &mut Diagnostics) -> Step {
        let block_offset = self.offset;
        let next = self.frames + 1;
        let bytes = &self.buf[self.start..self.start + len];
        let u16_at = |i: usize| {
            let b: [u8; 2] = bytes
                .get(i..i + 2)
                .and_then(|s| s.try_into().ok())
                .unwrap_or([0; 2]);
            if be {
                u16::from_be_bytes(b)
            } else {
                u16::from_le_bytes(b)
            }
        };
        let u32_at = |i: usize| {
            let b: [u8; 4] = bytes
                .get(i..i + 4)
                .and_then(|s| s.try_into().ok())
                .unwrap_or([0; 4]);
            if be {
                u32::from_be_bytes(b)
            } else {
                u32::from_le_bytes(b)
            }
        };
        if len < 32 {
            return self.stop_invalid(
                format!("pcapng: packet block at byte {block_offset} is only {len} bytes long"),
                diags,
            );
        }
        let if_id = u32::from(u16_at(8));
        let units = (u64::from(u32_at(12)) << 32) | u64::from(u32_at(16));
        let caplen = u32_at(20);
        let origlen = u32_at(24);
        if caplen as usize > len - 32 || caplen > MAX_PACKET_LEN {
            return self.stop_invalid(
                format!("pcapng: packet block at byte {block_offset} (frame {next}) claims {caplen} captured bytes in a {len}-byte block"),
                diags,
            );
        }
        let Some(iface) = self.ng_interface(if_id) else {
            return self.stop_invalid(
                format!("pcapng: packet block at byte {block_offset} (frame {next}) names unknown interface {if_id}"),
                diags,
            );
        };
        self.pending = PendingFrame {
            data_start: self.start + 28,
            data_len: caplen as usize,
            ts: iface.resolution.to_nanos(units, iface.offset_secs),
            interface: iface.global_index,
            link_type: Some(iface.link_type),
            orig_len: origlen,
            offset: block_offset,
        };
        self.consume(len);
        Step::Frame
    }

    fn ng_interface(&self, id: u32) -> Option<NgInterface> {
        match &self.format {
            Format::Pcapng { interfaces, .. } => interfaces.get(id as usize).cloned(),
            Format::Pcap { .. } => None,
        }
    }

    fn ng_interface_count(&self) -> usize {
        match &self.format {
            Format::Pcapng { interfaces, .. } => interfaces.len(),
            Format::Pcap { .. } => 0,
        }
    }

    fn new_interface(
        &mut self,
        link_type: LinkType,
        snaplen: u32,
        tsresol: Option<u8>,
        tsoffset: Option<[u8; 8]>,
        be: bool,
        diags: &mut Diagnostics,
    ) -> NgInterface {
        let global_index = self.interfaces.len() as u32;
        let resolution = match tsresol.map(|v| (v, Resolution::from_tsresol(v))) {
            None => Resolution::MICRO,
            Some((_, Some(r))) => r,
            Some((v, None)) => {
                diags.note(DiagnosticKind::CaptureTimestampInvalid, None, || {
                    format!("pcapng interface {global_index}: if_tsresol 0x{v:02x} is out of range; microseconds assumed")
                });
                Resolution::MICRO
            }
        };
        let offset_secs = tsoffset.map_or(0, |b| {
            if be {
                i64::from_be_bytes(b)
            } else {
                i64::from_le_bytes(b)
            }
        });
        self.interfaces.push(InterfaceInfo {
            index: global_index,
            link_type,
            snaplen,
            ts_units_per_sec: resolution.units_per_sec,
            ts_offset_secs: offset_secs,
        });
        NgInterface {
            global_index,
            link_type,
            snaplen,
            resolution,
            offset_secs,
        }
    }
}

/// What a pcapng block contributes, copied out of the buffer.
enum NgItem {
    Malformed(String),
    Interface {
        link_type: LinkType,
        snaplen: u32,
        tsresol: Option<u8>,
        tsoffset: Option<[u8; 8]>,
    },
    Packet {
        if_id: u32,
        caplen: u32,
        data_len: usize,
        data_off: usize,
        /// Timestamp units; `None` for a simple packet block.
        units: Option<u64>,
        origlen: u32,
    },
    /// A custom or journal block, with its data length.
    NonPacket(u32),
    Unknown,
    Skip,
}

/// pcapng versions that Wireshark reads: 1.0 and 1.2 (1.1 and 0.x were never valid).
fn check_shb_version(major: u16, minor: u16) -> Result<(), String> {
    if major == 1 && (minor == 0 || minor == 2) {
        Ok(())
    } else {
        Err(format!(
            "pcapng: section header version {major}.{minor} unsupported (1.0 and 1.2 exist)"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    fn reader(bytes: Vec<u8>) -> CaptureReader {
        CaptureReader::from_reader(Box::new(Cursor::new(bytes)), "t").unwrap()
    }

    fn pcap_header(le: bool, magic: u32, link: u32) -> Vec<u8> {
        let mut v = Vec::new();
        let w32 =
            |v: &mut Vec<u8>, x: u32| v.extend(if le { x.to_le_bytes() } else { x.to_be_bytes() });
        let w16 =
            |v: &mut Vec<u8>, x: u16| v.extend(if le { x.to_le_bytes() } else { x.to_be_bytes() });
        w32(&mut v, magic);
        w16(&mut v, 2);
        w16(&mut v, 4);
        w32(&mut v, 0);
        w32(&mut v, 0);
        w32(&mut v, 65535);
        w32(&mut v, link);
        v
    }

    fn pcap_record(le: bool, sec: u32, frac: u32, data: &[u8], orig: u32) -> Vec<u8> {
        let mut v = Vec::new();
        for x in [sec, frac, data.len() as u32, orig] {
            v.extend(if le { x.to_le_bytes() } else { x.to_be_bytes() });
        }
        v.extend(data);
        v
    }

    fn collect(r: &mut CaptureReader, d: &mut Diagnostics) -> Vec<(u64, i64, Vec<u8>, u32)> {
        let mut out = Vec::new();
        while let Some(f) = r.next_frame(d) {
            out.push((f.number.get(), f.ts.as_nanos(), f.data.to_vec(), f.orig_len));
        }
        out
    }

    #[test]
    fn pcap_both_byte_orders_and_precisions() {
        for le in [true, false] {
            for (magic, ns) in [(0xa1b2c3d4u32, false), (0xa1b23c4d, true)] {
                let mut b = pcap_header(le, magic, 1);
                b.extend(pcap_record(le, 100, 5, b"abc", 3));
                b.extend(pcap_record(le, 101, 999, b"de", 60));
                let mut r = reader(b);
                let mut d = Diagnostics::default();
                let frames = collect(&mut r, &mut d);
                let scale = if ns { 1 } else { 1000 };
                assert_eq!(
                    frames,
                    vec![
                        (1, 100_000_000_000 + 5 * scale, b"abc".to_vec(), 3),
                        (2, 101_000_000_000 + 999 * scale, b"de".to_vec(), 60)
                    ]
                );
                assert_eq!(r.end_state(), Some(&ReadEnd::Complete));
                assert_eq!(d.count(DiagnosticKind::PacketSnaplenCut), 1);
                assert_eq!(
                    r.format(),
                    CaptureFormat::Pcap {
                        big_endian: !le,
                        nanosecond: ns,
                        modified: false
                    }
                );
            }
        }
    }

    #[test]
    fn pcap_truncated_inside_record_and_header() {
        let mut b = pcap_header(true, 0xa1b2c3d4, 1);
        b.extend(pcap_record(true, 1, 0, &[1; 40], 40));
        let full = b.len();
        b.extend(pcap_record(true, 2, 0, &[2; 40], 40));
        for cut in [full + 3, full + 16, full + 30] {
            let mut r = reader(b[..cut].to_vec());
            let mut d = Diagnostics::default();
            assert_eq!(collect(&mut r, &mut d).len(), 1, "cut at {cut}");
            assert!(matches!(r.end_state(), Some(ReadEnd::Truncated { .. })));
            assert_eq!(d.count(DiagnosticKind::CaptureTruncated), 1);
        }
    }

    #[test]
    fn pcap_absurd_caplen_stops_without_allocating() {
        let mut b = pcap_header(true, 0xa1b2c3d4, 1);
        b.extend(pcap_record(true, 1, 0, &[1; 4], 4));
        let mut bad = pcap_record(true, 2, 0, &[], 0);
        bad[8..12].copy_from_slice(&0xffff_fff0u32.to_le_bytes());
        b.extend(bad);
        let mut r = reader(b);
        let mut d = Diagnostics::default();
        assert_eq!(collect(&mut r, &mut d).len(), 1);
        assert!(matches!(r.end_state(), Some(ReadEnd::Invalid { .. })));
        assert_eq!(d.count(DiagnosticKind::CaptureRecordInvalid), 1);
    }

    #[test]
    fn pcap_header_checks() {
        let b = pcap_header(true, 0xa1b2c3d4, 1 | 0x0030_0000);
        let e = CaptureReader::from_reader(Box::new(Cursor::new(b)), "t")
            .err()
            .unwrap();
        assert!(e.to_string().contains("reserved bits"), "{e}");
        let mut b = pcap_header(true, 0xa1b2c3d4, 1);
        b[4] = 1;
        let e = CaptureReader::from_reader(Box::new(Cursor::new(b)), "t")
            .err()
            .unwrap();
        assert!(e.to_string().contains("major version 1"), "{e}");
        let e = CaptureReader::from_reader(
            Box::new(Cursor::new(vec![0xd4, 0xc3, 0xb2, 0xa1, 2, 0])),
            "t",
        )
        .err()
        .unwrap();
        assert!(e.to_string().contains("file header needs 24 bytes"), "{e}");
    }

    fn ng_block(le: bool, block_type: u32, body: &[u8]) -> Vec<u8> {
        let mut body = body.to_vec();
        while !body.len().is_multiple_of(4) {
            body.push(0);
        }
        let len = body.len() as u32 + 12;
        let w = |x: u32| if le { x.to_le_bytes() } else { x.to_be_bytes() };
        let mut v = Vec::new();
        v.extend(w(block_type));
        v.extend(w(len));
        v.extend(body);
        v.extend(w(len));
        v
    }

    fn shb(le: bool) -> Vec<u8> {
        let mut body = Vec::new();
        body.extend(if le {
            0x1a2b3c4du32.to_le_bytes()
        } else {
            0x1a2b3c4du32.to_be_bytes()
        });
        body.extend(if le {
            1u16.to_le_bytes()
        } else {
            1u16.to_be_bytes()
        });
        body.extend([0, 0]);
        body.extend((-1i64).to_le_bytes());
        ng_block(le, SHB_TYPE, &body)
    }

    fn idb(le: bool, link: u16, tsresol: Option<u8>, tsoffset: Option<i64>) -> Vec<u8> {
        let w16 = |x: u16| if le { x.to_le_bytes() } else { x.to_be_bytes() };
        let mut body = Vec::new();
        body.extend(w16(link));
        body.extend([0, 0]);
        body.extend(if le {
            0u32.to_le_bytes()
        } else {
            0u32.to_be_bytes()
        });
        if let Some(r) = tsresol {
            body.extend(w16(OPT_IF_TSRESOL));
            body.extend(w16(1));
            body.extend([r, 0, 0, 0]);
        }
        if let Some(o) = tsoffset {
            body.extend(w16(OPT_IF_TSOFFSET));
            body.extend(w16(8));
            body.extend(if le { o.to_le_bytes() } else { o.to_be_bytes() });
        }
        body.extend([0, 0, 0, 0]);
        ng_block(le, 1, &body)
    }

    fn epb(le: bool, if_id: u32, units: u64, data: &[u8]) -> Vec<u8> {
        let w = |x: u32| if le { x.to_le_bytes() } else { x.to_be_bytes() };
        let mut body = Vec::new();
        body.extend(w(if_id));
        body.extend(w((units >> 32) as u32));
        body.extend(w(units as u32));
        body.extend(w(data.len() as u32));
        body.extend(w(data.len() as u32));
        body.extend(data);
        ng_block(le, 6, &body)
    }

    #[test]
    fn pcapng_sections_interfaces_and_resolutions() {
        let mut b = shb(true);
        b.extend(idb(true, 1, None, None));
        b.extend(idb(true, 101, Some(9), Some(10)));
        b.extend(epb(true, 0, 1_500_000, b"eth"));
        b.extend(epb(true, 1, 2_000_000_123, b"raw"));
        b.extend(ng_block(true, 0x0000_0BAD, &[0, 0, 0x7e, 0xd9, 1, 2]));
        b.extend(ng_block(true, 0x1234_5678, &[9; 8]));
        // A second, big-endian section with a binary resolution (2^-20).
        b.extend(shb(false));
        b.extend(idb(false, 113, Some(0x80 | 20), None));
        b.extend(epb(false, 0, 3 << 20, b"sll"));
        let mut r = reader(b);
        let mut d = Diagnostics::default();
        let frames = collect(&mut r, &mut d);
        assert_eq!(
            frames,
            vec![
                (1, 1_500_000_000, b"eth".to_vec(), 3),
                (2, 12_000_000_123, b"raw".to_vec(), 3),
                (3, 12_000_000_123, vec![], 4),
                (4, 3_000_000_000, b"sll".to_vec(), 3),
            ]
        );
        assert_eq!(r.end_state(), Some(&ReadEnd::Complete));
        let links: Vec<_> = r
            .interfaces()
            .iter()
            .map(|i| (i.index, i.link_type.0))
            .collect();
        assert_eq!(links, vec![(0, 1), (1, 101), (2, 113)]);
        assert_eq!(d.count(DiagnosticKind::CaptureBlockSkipped), 1);
        assert_eq!(d.count(DiagnosticKind::CaptureNonPacketRecord), 1);
    }

    #[test]
    fn pcapng_unknown_interface_and_cut_block() {
        let mut b = shb(true);
        b.extend(idb(true, 1, None, None));
        b.extend(epb(true, 0, 1, b"ok"));
        let good = b.len();
        b.extend(epb(true, 5, 1, b"bad interface"));
        let mut r = reader(b.clone());
        let mut d = Diagnostics::default();
        assert_eq!(collect(&mut r, &mut d).len(), 1);
        assert!(matches!(r.end_state(), Some(ReadEnd::Invalid { .. })));

        let mut r = reader(b[..good + 10].to_vec());
        let mut d = Diagnostics::default();
        assert_eq!(collect(&mut r, &mut d).len(), 1);
        assert!(matches!(r.end_state(), Some(ReadEnd::Truncated { .. })));
    }

    #[test]
    fn pcapng_bad_versions_are_rejected() {
        let mut b = shb(true);
        b[12] = 0; // major version 0
        let e = CaptureReader::from_reader(Box::new(Cursor::new(b)), "t")
            .err()
            .unwrap();
        assert!(e.to_string().contains("version 0.0"), "{e}");
    }

    #[test]
    fn resolution_conversion() {
        let us = Resolution::from_tsresol(6).unwrap();
        assert_eq!(us.to_nanos(1_234_567, 0), 1_234_567_000);
        let bin = Resolution::from_tsresol(0x80 | 10).unwrap();
        assert_eq!(bin.to_nanos(512, 1), 1_500_000_000);
        assert!(Resolution::from_tsresol(20).is_none());
        assert!(Resolution::from_tsresol(0x80 | 64).is_none());
        let ps = Resolution::from_tsresol(12).unwrap();
        assert_eq!(ps.to_nanos(1_000_000_000_123_456, 0), 1_000_000_000_123);
    }

    #[test]
    fn an_in_memory_reader_stops_at_its_decompression_ceiling() {
        use std::io::Write;
        let mut b = pcap_header(true, 0xa1b2c3d4, 1);
        for i in 0..100 {
            b.extend(pcap_record(true, 100 + i, 0, &[0u8; 100], 100));
        }
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(&b).unwrap();
        let gz = e.finish().unwrap();
        // 24 + 116 * 100 bytes decompressed; a 2,000-byte ceiling lets 17 records through.
        let mut r =
            CaptureReader::from_reader_with_ceiling(Box::new(Cursor::new(gz.clone())), "t", 2000)
                .unwrap();
        let mut d = Diagnostics::default();
        let frames = collect(&mut r, &mut d);
        assert_eq!(frames.len(), 17);
        match r.end_state() {
            Some(ReadEnd::ReadError { detail, .. }) => {
                assert!(detail.contains("more than 2000 bytes"), "{detail}")
            }
            other => panic!("{other:?}"),
        }
        let mut r = CaptureReader::from_reader(Box::new(Cursor::new(gz)), "t").unwrap();
        assert_eq!(collect(&mut r, &mut d).len(), 100);
        assert_eq!(r.end_state(), Some(&ReadEnd::Complete));
    }
}
