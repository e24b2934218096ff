//! Opens an input (file or standard input) read-only and undoes gzip/xz/zstd compression chosen
//! by magic bytes; it never interprets capture records.

use std::fmt;
use std::fs::File;
use std::io::{self, Cursor, Read};
use std::path::PathBuf;

use serde::Serialize;

use super::CaptureError;

/// gzip member header (RFC 1952 §2.3.1).
const GZIP_MAGIC: &[u8] = &[0x1f, 0x8b];
/// xz stream header (xz file format §2.1.1.1).
const XZ_MAGIC: &[u8] = &[0xfd, b'7', b'z', b'X', b'Z', 0x00];
/// zstd frame magic (RFC 8878 §3.1.1), little-endian 0xFD2FB528.
const ZSTD_MAGIC: &[u8] = &[0x28, 0xb5, 0x2f, 0xfd];
/// How many nested compression layers are undone (a .pcap.gz.xz is odd but harmless).
const MAX_COMPRESSION_LAYERS: usize = 2;
/// Bytes sniffed before deciding what an input is.
const SNIFF_LEN: usize = 16;

/// Where a capture comes from.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum InputSource {
    /// A file, opened read-only.
    Path(PathBuf),
    /// Standard input (`-` on the command line).
    Stdin,
}

impl InputSource {
    /// `-` means standard input; anything else is a path.
    pub fn from_arg(arg: &str) -> InputSource {
        if arg == "-" {
            InputSource::Stdin
        } else {
            InputSource::Path(PathBuf::from(arg))
        }
    }

    /// How the input is named in reports: the path as given, or `-`.
    pub fn display_name(&self) -> String {
        match self {
            InputSource::Path(p) => p.display().to_string(),
            InputSource::Stdin => "-".to_string(),
        }
    }

    /// Opens the input read-only and returns a reader of the decompressed bytes, plus the
    /// compression layers that were undone (outermost first).
    pub fn open(&self) -> Result<(Box<dyn Read + Send>, Vec<Compression>), CaptureError> {
        let name = self.display_name();
        let raw: Box<dyn Read + Send> = match self {
            InputSource::Path(p) => Box::new(Counted(File::open(p).map_err(|source| {
                CaptureError::Io {
                    path: name.clone(),
                    source,
                }
            })?)),
            InputSource::Stdin => Box::new(Counted(io::stdin())),
        };
        open_stream(raw, &name)
    }
}

/// Bytes read from input files and standard input (as stored, before decompression) by this
/// process so far, over all captures: what a progress display shows. Nothing else reads it.
pub static RAW_BYTES_READ: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// A reader that adds what it reads to [`RAW_BYTES_READ`].
struct Counted<R>(R);

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.0.read(buf)?;
        RAW_BYTES_READ.fetch_add(n as u64, std::sync::atomic::Ordering::Relaxed);
        Ok(n)
    }
}

impl InputSource {
    /// The name that does not depend on where a corpus lives: the path below the first of
    /// `dirs` that holds the file (`/`-separated), or the file name for a file given on its
    /// own; `-` for standard input.
    pub fn name_below(&self, dirs: &[PathBuf]) -> String {
        match self {
            InputSource::Path(p) => match dirs.iter().find_map(|d| p.strip_prefix(d).ok()) {
                Some(rel) => rel
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect::<Vec<_>>()
                    .join("/"),
                None => p
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_else(|| p.display().to_string()),
            },
            InputSource::Stdin => "-".into(),
        }
    }

    /// The arguments of a command line that name directories (the roots for
    /// [`name_below`](InputSource::name_below)).
    pub fn dir_args(args: &[String]) -> Vec<PathBuf> {
        args.iter()
            .map(PathBuf::from)
            .filter(|p| p.as_os_str() != "-" && p.is_dir())
            .collect()
    }
}

impl fmt::Display for InputSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.display_name())
    }
}

/// A compression layer recognised by its magic bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Compression {
    /// gzip, any number of concatenated members.
    Gzip,
    /// xz, any number of concatenated streams.
    Xz,
    /// Zstandard, any number of frames.
    Zstd,
}

impl fmt::Display for Compression {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Compression::Gzip => "gzip",
            Compression::Xz => "xz",
            Compression::Zstd => "zstd",
        })
    }
}

impl Compression {
    fn sniff(head: &[u8]) -> Option<Compression> {
        if head.starts_with(GZIP_MAGIC) {
            Some(Compression::Gzip)
        } else if head.starts_with(XZ_MAGIC) {
            Some(Compression::Xz)
        } else if head.starts_with(ZSTD_MAGIC) {
            Some(Compression::Zstd)
        } else {
            None
        }
    }

    fn wrap(self, inner: Box<dyn Read + Send>) -> io::Result<Box<dyn Read + Send>> {
        Ok(match self {
            Compression::Gzip => Box::new(flate2::read::MultiGzDecoder::new(inner)),
            Compression::Xz => Box::new(liblzma::read::XzDecoder::new_multi_decoder(inner)),
            Compression::Zstd => Box::new(zstd::stream::read::Decoder::new(inner)?),
        })
    }
}

/// Reads up to `n` bytes (fewer only at end of input), retrying short reads from pipes.
fn read_head(r: &mut dyn Read, n: usize) -> io::Result<Vec<u8>> {
    let mut head = vec![0u8; n];
    let mut got = 0;
    while got < n {
        match r.read(&mut head[got..]) {
            Ok(0) => break,
            Ok(k) => got += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    head.truncate(got);
    Ok(head)
}

/// Default ceiling on the bytes a compressed capture may decompress to (256 GiB).
pub const DEFAULT_MAX_DECOMPRESSED: u64 = 256 << 30;

/// Passes decompressed bytes through until `ceiling` of them have been read, then fails with
/// an error that names the ceiling (a compression bomb, or a capture larger than allowed).
struct Ceiling {
    inner: Box<dyn Read + Send>,
    left: u64,
    ceiling: u64,
}

impl Read for Ceiling {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        if self.left == 0 {
            // Exactly at the ceiling is fine if the data ends there.
            let mut probe = [0u8; 1];
            return match self.inner.read(&mut probe)? {
                0 => Ok(0),
                _ => Err(io::Error::other(format!(
                    "the data decompresses to more than {} bytes, the ceiling (--max-decompressed-bytes): stopped as a possible compression bomb; raise the ceiling to read further",
                    self.ceiling
                ))),
            };
        }
        let n = buf
            .len()
            .min(usize::try_from(self.left).unwrap_or(usize::MAX));
        let got = self.inner.read(&mut buf[..n])?;
        self.left -= got as u64;
        Ok(got)
    }
}

/// Puts a decompressed stream under `ceiling`; an uncompressed one is left as it is (its size
/// is the file's own).
pub(crate) fn under_ceiling(
    stream: Box<dyn Read + Send>,
    layers: &[Compression],
    ceiling: u64,
) -> Box<dyn Read + Send> {
    if layers.is_empty() {
        stream
    } else {
        Box::new(Ceiling {
            inner: stream,
            left: ceiling,
            ceiling,
        })
    }
}

/// Sniffs `raw`, undoes compression layers, and checks that what remains starts like a capture.
pub(crate) fn open_stream(
    raw: Box<dyn Read + Send>,
    name: &str,
) -> Result<(Box<dyn Read + Send>, Vec<Compression>), CaptureError> {
    let io_err = |source| CaptureError::Io {
        path: name.to_string(),
        source,
    };
    let mut layers = Vec::new();
    let mut stream = raw;
    loop {
        let head = read_head(&mut stream, SNIFF_LEN).map_err(io_err)?;
        if head.is_empty() {
            return Err(if layers.is_empty() {
                CaptureError::Empty {
                    path: name.to_string(),
                }
            } else {
                CaptureError::NotACapture {
                    path: name.to_string(),
                    magic: "(none)".into(),
                    guess: format!(
                        "the {} data decompresses to nothing",
                        layers
                            .iter()
                            .map(|c: &Compression| c.to_string())
                            .collect::<Vec<_>>()
                            .join("+")
                    ),
                }
            });
        }
        let rebuilt: Box<dyn Read + Send> = Box::new(Cursor::new(head.clone()).chain(stream));
        match Compression::sniff(&head) {
            Some(c) if layers.len() < MAX_COMPRESSION_LAYERS => {
                layers.push(c);
                stream = c.wrap(rebuilt).map_err(io_err)?;
            }
            _ => {
                if looks_like_capture(&head) {
                    return Ok((rebuilt, layers));
                }
                return Err(CaptureError::NotACapture {
                    path: name.to_string(),
                    magic: hex_prefix(&head, 8),
                    guess: guess_format(&head, &layers),
                });
            }
        }
    }
}

/// pcap magics (both byte orders; µs, ns and modified) and the pcapng section header type.
fn looks_like_capture(head: &[u8]) -> bool {
    const MAGICS: [[u8; 4]; 7] = [
        [0xd4, 0xc3, 0xb2, 0xa1],
        [0xa1, 0xb2, 0xc3, 0xd4],
        [0x4d, 0x3c, 0xb2, 0xa1],
        [0xa1, 0xb2, 0x3c, 0x4d],
        [0x34, 0xcd, 0xb2, 0xa1],
        [0xa1, 0xb2, 0xcd, 0x34],
        [0x0a, 0x0d, 0x0d, 0x0a],
    ];
    head.get(..4).is_some_and(|m| MAGICS.iter().any(|x| x == m))
}

fn hex_prefix(head: &[u8], n: usize) -> String {
    head.iter()
        .take(n)
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// A human guess at what a non-capture file is, with what to do about it.
fn guess_format(head: &[u8], layers: &[Compression]) -> String {
    let inside = if layers.is_empty() {
        String::new()
    } else {
        format!(
            " (after undoing {} compression)",
            layers
                .iter()
                .map(|c| c.to_string())
                .collect::<Vec<_>>()
                .join("+")
        )
    };
    let what = if head.starts_with(b"PK\x03\x04") {
        "looks like a zip archive: extract the capture from it first"
    } else if head.starts_with(b"BZh") {
        "looks like bzip2 data: decompress it first (bunzip2)"
    } else if head.starts_with(&[0x04, 0x22, 0x4d, 0x18]) {
        "looks like lz4 data: decompress it first (lz4 -d)"
    } else if head.starts_with(b"7z\xbc\xaf\x27\x1c") {
        "looks like a 7-Zip archive: extract the capture from it first"
    } else if head.starts_with(b"Rar!") {
        "looks like a RAR archive: extract the capture from it first"
    } else if head.starts_with(b"%PDF") {
        "looks like a PDF document, not a capture"
    } else if head.starts_with(b"snoop\0\0\0") {
        "looks like a Solaris snoop capture: convert it with `editcap -F pcapng IN OUT` first"
    } else if head.starts_with(b"GMBU") || head.starts_with(b"RTSS") {
        "looks like a Microsoft Network Monitor capture: convert it with `editcap -F pcapng IN OUT` first"
    } else if head.starts_with(b"XCP\0") {
        "looks like a NetXray/Sniffer capture: convert it with `editcap -F pcapng IN OUT` first"
    } else if head.starts_with(b"<") {
        "looks like HTML or XML text, not a capture"
    } else if head.starts_with(b"{") || head.starts_with(b"[") {
        "looks like JSON text, not a capture (a tamper report, perhaps?)"
    } else if head
        .iter()
        .all(|&b| b.is_ascii_graphic() || b.is_ascii_whitespace())
    {
        "looks like text, not a capture (tcpdump or tshark text output cannot be analyzed; give tamper the .pcap or .pcapng file)"
    } else {
        "an unknown format: tamper reads pcap and pcapng files, optionally gzip/xz/zstd-compressed; convert other formats with `editcap -F pcapng IN OUT`"
    };
    format!("{what}{inside}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn open_bytes(b: Vec<u8>) -> Result<(Vec<u8>, Vec<Compression>), CaptureError> {
        let (mut r, layers) = open_stream(Box::new(Cursor::new(b)), "test")?;
        let mut out = Vec::new();
        r.read_to_end(&mut out).unwrap();
        Ok((out, layers))
    }

    const PCAP_HEADER: [u8; 24] = [
        0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 1, 0, 0, 0,
    ];

    #[test]
    fn plain_capture_passes_through() {
        let (out, layers) = open_bytes(PCAP_HEADER.to_vec()).unwrap();
        assert_eq!(out, PCAP_HEADER);
        assert!(layers.is_empty());
    }

    #[test]
    fn gzip_members_are_concatenated() {
        let mut data = Vec::new();
        for half in [&PCAP_HEADER[..10], &PCAP_HEADER[10..]] {
            let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
            e.write_all(half).unwrap();
            data.extend(e.finish().unwrap());
        }
        let (out, layers) = open_bytes(data).unwrap();
        assert_eq!(out, PCAP_HEADER);
        assert_eq!(layers, vec![Compression::Gzip]);
    }

    #[test]
    fn xz_and_zstd() {
        let mut e = liblzma::write::XzEncoder::new(Vec::new(), 6);
        e.write_all(&PCAP_HEADER).unwrap();
        let (out, layers) = open_bytes(e.finish().unwrap()).unwrap();
        assert_eq!(
            (out.as_slice(), layers),
            (&PCAP_HEADER[..], vec![Compression::Xz])
        );

        let z = zstd::encode_all(&PCAP_HEADER[..], 3).unwrap();
        let (out, layers) = open_bytes(z).unwrap();
        assert_eq!(
            (out.as_slice(), layers),
            (&PCAP_HEADER[..], vec![Compression::Zstd])
        );
    }

    #[test]
    fn helpful_errors() {
        let e = open_bytes(Vec::new()).unwrap_err();
        assert!(e.to_string().contains("empty file"), "{e}");
        let e = open_bytes(b"PK\x03\x04rest of zip".to_vec()).unwrap_err();
        assert_eq!(
            e.to_string(),
            "test: not a capture file: starts with bytes 50 4b 03 04 72 65 73 74, looks like a zip archive: extract the capture from it first"
        );
        let e = open_bytes(b"12:00:00.000 IP 10.0.0.1 > 10.0.0.2".to_vec()).unwrap_err();
        assert!(e.to_string().contains("looks like text"), "{e}");
        let z = zstd::encode_all(&b"hello, not a capture"[..], 3).unwrap();
        let e = open_bytes(z).unwrap_err();
        assert!(e.to_string().contains("after undoing zstd"), "{e}");
    }

    #[test]
    fn corrupt_gzip_is_a_read_error_not_a_panic() {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(&[PCAP_HEADER.as_slice(), &[7u8; 4000]].concat())
            .unwrap();
        let mut data = e.finish().unwrap();
        let n = data.len();
        data[n / 2] ^= 0xff;
        data[n / 2 + 1] ^= 0x55;
        match open_stream(Box::new(Cursor::new(data)), "t") {
            Ok((mut r, _)) => {
                let mut out = Vec::new();
                assert!(r.read_to_end(&mut out).is_err() || out.len() < 4024);
            }
            Err(e) => assert!(matches!(
                e,
                CaptureError::Io { .. } | CaptureError::NotACapture { .. }
            )),
        }
    }
}

#[cfg(test)]
mod ceiling_tests {
    use super::*;

    #[test]
    fn the_ceiling_stops_at_its_byte_count_and_names_itself() {
        let data = vec![7u8; 1000];
        let mut r = under_ceiling(
            Box::new(Cursor::new(data.clone())),
            &[Compression::Gzip],
            600,
        );
        let mut out = Vec::new();
        let err = r.read_to_end(&mut out).unwrap_err();
        assert_eq!(out.len(), 600);
        assert!(err.to_string().contains("more than 600 bytes"), "{err}");
        // Exactly at the ceiling, or uncompressed, reads everything.
        let mut exact = under_ceiling(
            Box::new(Cursor::new(data.clone())),
            &[Compression::Xz],
            1000,
        );
        let mut all = Vec::new();
        exact.read_to_end(&mut all).unwrap();
        assert_eq!(all.len(), 1000);
        let mut plain = under_ceiling(Box::new(Cursor::new(data)), &[], 10);
        let mut all = Vec::new();
        plain.read_to_end(&mut all).unwrap();
        assert_eq!(all.len(), 1000);
    }
}
