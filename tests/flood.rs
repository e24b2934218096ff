//! A flood of crafted flows and IP fragments stays inside the memory the limits allow: the
//! heap peak of the decoding, defragmentation and flow-tracking layers (measured by a
//! counting allocator in this test binary) stops growing with the length of the flood once
//! the flow table and the fragment pool are full, and the limits that were hit are reported.
//!
//! The detectors' own caps (docs/diagnostics.md) are far larger (the blackhole detector keeps
//! 500,000 finished flows), so a flood that fills them is too long for a debug-build test;
//! measured in a release build, the heap peak of the whole analysis of this flood with every
//! detector was 293 MB after 1.6 million packets and the same after 3.2 million.

use std::alloc::{GlobalAlloc, Layout, System};
use std::io::Read;
use std::sync::atomic::{AtomicUsize, Ordering};

use tamper::capture::CaptureReader;
use tamper::diag::DiagnosticKind;
use tamper::pipeline::{self, Options};

/// The system allocator, counting live bytes and their peak.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            let now = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(now, Ordering::Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            if new_size >= layout.size() {
                let grow = new_size - layout.size();
                let now = LIVE.fetch_add(grow, Ordering::Relaxed) + grow;
                PEAK.fetch_max(now, Ordering::Relaxed);
            } else {
                LIVE.fetch_sub(layout.size() - new_size, Ordering::Relaxed);
            }
        }
        p
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// A pcap generated as it is read: `packets` frames, 1 ms apart, each a TCP SYN from a new
/// client address and port to one server (a new flow per packet), and every fourth one
/// instead the first fragment of a UDP datagram whose other fragments never come (a new
/// datagram in flight per fragment). Nothing of it is held in memory.
struct Flood {
    packets: u64,
    next: u64,
    buf: Vec<u8>,
    pos: usize,
}

impl Flood {
    fn new(packets: u64) -> Flood {
        let mut buf = Vec::new();
        buf.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
        buf.extend_from_slice(&2u16.to_le_bytes());
        buf.extend_from_slice(&4u16.to_le_bytes());
        buf.extend_from_slice(&[0; 8]);
        buf.extend_from_slice(&65535u32.to_le_bytes());
        buf.extend_from_slice(&1u32.to_le_bytes()); // Ethernet
        Flood {
            packets,
            next: 0,
            buf,
            pos: 0,
        }
    }

    fn frame(i: u64) -> Vec<u8> {
        let client = [10, (i >> 16) as u8, (i >> 8) as u8, i as u8];
        let server = [192, 0, 2, 80];
        let fragment = i % 4 == 3;
        let l4_len = if fragment { 64 } else { 20 };
        let mut f = Vec::with_capacity(14 + 20 + l4_len);
        f.extend_from_slice(&[0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 2, 0x08, 0x00]);
        let total = (20 + l4_len) as u16;
        let proto = if fragment { 17 } else { 6 };
        let flags_frag: u16 = if fragment { 0x2000 } else { 0x4000 }; // MF, or DF
        let mut ip = vec![0x45, 0];
        ip.extend_from_slice(&total.to_be_bytes());
        ip.extend_from_slice(&(i as u16).to_be_bytes());
        ip.extend_from_slice(&flags_frag.to_be_bytes());
        ip.extend_from_slice(&[64, proto, 0, 0]);
        ip.extend_from_slice(&client);
        ip.extend_from_slice(&server);
        let sum = !ip
            .chunks(2)
            .map(|c| u32::from(u16::from_be_bytes([c[0], c[1]])))
            .fold(0u32, |a, b| {
                let s = a + b;
                (s & 0xffff) + (s >> 16)
            }) as u16;
        ip[10..12].copy_from_slice(&sum.to_be_bytes());
        f.extend_from_slice(&ip);
        if fragment {
            f.extend_from_slice(&(1024 + (i % 60000) as u16).to_be_bytes());
            f.extend_from_slice(&53u16.to_be_bytes());
            f.extend_from_slice(&200u16.to_be_bytes());
            f.extend_from_slice(&[0; 2]);
            f.resize(14 + 20 + l4_len, 0xab);
        } else {
            f.extend_from_slice(&(1024 + (i % 60000) as u16).to_be_bytes());
            f.extend_from_slice(&443u16.to_be_bytes());
            f.extend_from_slice(&(i as u32).to_be_bytes());
            f.extend_from_slice(&[0; 4]);
            f.extend_from_slice(&[0x50, 0x02, 0xff, 0xff, 0, 0, 0, 0]);
        }
        let ts_us = 1_700_000_000_000_000u64 + i * 1000;
        let mut rec = Vec::with_capacity(16 + f.len());
        rec.extend_from_slice(&((ts_us / 1_000_000) as u32).to_le_bytes());
        rec.extend_from_slice(&((ts_us % 1_000_000) as u32).to_le_bytes());
        rec.extend_from_slice(&(f.len() as u32).to_le_bytes());
        rec.extend_from_slice(&(f.len() as u32).to_le_bytes());
        rec.extend_from_slice(&f);
        rec
    }
}

impl Read for Flood {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        let mut n = 0;
        while n < out.len() {
            if self.pos == self.buf.len() {
                if self.next == self.packets {
                    break;
                }
                self.buf = Flood::frame(self.next);
                self.pos = 0;
                self.next += 1;
            }
            let take = (self.buf.len() - self.pos).min(out.len() - n);
            out[n..n + take].copy_from_slice(&self.buf[self.pos..self.pos + take]);
            self.pos += take;
            n += take;
        }
        Ok(n)
    }
}

/// Flows tracked at once in this test (`--max-flows`).
const MAX_FLOWS: usize = 20_000;

/// The heap peak above what was live before, and the report, of analyzing a flood.
fn analyze_flood(packets: u64) -> (usize, tamper::report::CaptureReport) {
    let mut options = Options::default();
    options.limits.flows.max_flows = MAX_FLOWS;
    options.skip_detectors = true;
    let reader = CaptureReader::from_reader(Box::new(Flood::new(packets)), "flood").unwrap();
    let before = LIVE.load(Ordering::Relaxed);
    PEAK.store(before, Ordering::Relaxed);
    let report = pipeline::analyze_reader("flood".into(), reader, &options, None);
    (PEAK.load(Ordering::Relaxed) - before, report)
}

#[test]
fn a_flood_of_flows_and_fragments_stays_inside_the_caps() {
    // Both floods overflow the flow table (20,000) and the fragment pool (4,096 datagrams);
    // the second is three times as long.
    let (short_peak, short) = analyze_flood(300_000);
    let (long_peak, long) = analyze_flood(900_000);
    for (r, packets) in [(&short, 300_000u64), (&long, 900_000)] {
        let s = r.summary.as_ref().unwrap();
        assert_eq!(s.frames, packets);
        assert!(s.flows.peak as usize <= MAX_FLOWS, "peak {}", s.flows.peak);
        for kind in [
            DiagnosticKind::LimitReachedFlowTable,
            DiagnosticKind::LimitReachedFragments,
        ] {
            assert!(
                r.diagnostics.iter().any(|d| d.kind == kind),
                "{packets} packets: no {kind}"
            );
        }
    }
    eprintln!("heap peak: {short_peak} bytes for 300,000 packets, {long_peak} for 900,000");
    // Memory is set by the caps, not by the length of the flood.
    assert!(
        long_peak <= short_peak + short_peak / 20,
        "heap peak grew with the flood: {short_peak} bytes for 300,000 packets, {long_peak} for 900,000"
    );
}
