//! Diagnostics: counted notes that the capture or a protocol looked wrong, or that a limit was
//! hit; it never judges interference (that is a finding).
//!
//! Every layer reports into one [`Diagnostics`] collector per capture. Each kind has one stable
//! snake_case name (documented in `docs/diagnostics.md`); the collector keeps a count per kind
//! and the first few examples with their frame numbers, so a flood of broken packets costs a
//! counter increment, not memory.

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;

use crate::ids::FrameNumber;

/// How much a diagnostic limits the conclusions drawn from a capture.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Expected in ordinary captures (a limit reached in normal operation, a protocol tamper does
    /// not decode); worth knowing, not a problem.
    Info,
    /// Some data could not be decoded or was inconsistent; analysis went on without it.
    Warning,
    /// Part of the input could not be read at all; results cover only what was read.
    Error,
}

macro_rules! diagnostic_kinds {
    ($( $(#[doc = $doc:literal])* $variant:ident = $name:literal, $severity:ident; )*) => {
        /// Every diagnostic tamper can report. Names are API: they appear in reports and in
        /// `docs/diagnostics.md`.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum DiagnosticKind {
            $( $(#[doc = $doc])* $variant, )*
        }

        impl DiagnosticKind {
            /// All kinds, in declaration order.
            pub const ALL: &'static [DiagnosticKind] = &[ $( DiagnosticKind::$variant, )* ];

            /// The stable snake_case name.
            pub fn as_str(self) -> &'static str {
                match self { $( DiagnosticKind::$variant => $name, )* }
            }

            /// How serious this kind is.
            pub fn severity(self) -> Severity {
                match self { $( DiagnosticKind::$variant => Severity::$severity, )* }
            }

            /// One-sentence description (the doc comment of the variant).
            pub fn description(self) -> &'static str {
                match self { $( DiagnosticKind::$variant => concat!($($doc),*).trim_ascii(), )* }
            }
        }
    };
}

diagnostic_kinds! {
    /// The file ends inside a record or block (for example tcpdump was killed mid-write); the frames before it were analyzed.
    CaptureTruncated = "capture_truncated", Error;
    /// A record or block header is impossible (length beyond the format's maximum, unknown interface, bad block length); reading stopped there.
    CaptureRecordInvalid = "capture_record_invalid", Error;
    /// Reading or decompressing the input failed part way; the frames before the failure were analyzed.
    CaptureReadError = "capture_read_error", Error;
    /// A pcapng block of a type tamper does not know was skipped, as the format requires.
    CaptureBlockSkipped = "capture_block_skipped", Info;
    /// A record that Wireshark counts as a frame but that holds no packet (pcapng custom or systemd journal block); counted, not decoded.
    CaptureNonPacketRecord = "capture_non_packet_record", Info;
    /// A timestamp field holds an impossible value (for example a nanosecond fraction of one second or more); it was used as is.
    CaptureTimestampInvalid = "capture_timestamp_invalid", Warning;
    /// A frame is timestamped earlier than the frame before it; flow timing around it may be unreliable.
    CaptureTimestampOutOfOrder = "capture_timestamp_out_of_order", Info;
    /// A frame's link type is not one tamper decodes; the frame was counted and skipped.
    LinkTypeUnsupported = "link_type_unsupported", Warning;
    /// A frame was captured shorter than it was on the wire (snapshot length); layers past the cut are missing.
    PacketSnaplenCut = "packet_snaplen_cut", Info;
    /// A link-layer header (Ethernet, VLAN, SLL, PPP, PPPoE, MPLS, NULL) is cut short or inconsistent.
    LinkHeaderInvalid = "link_header_invalid", Warning;
    /// The frame carries a network protocol other than IPv4/IPv6 (ARP, LLDP, ...); counted, not analyzed.
    LinkPayloadNotIp = "link_payload_not_ip", Info;
    /// An IPv4 or IPv6 header is cut short or impossible (bad version, header length, total length).
    IpHeaderInvalid = "ip_header_invalid", Warning;
    /// An IPv6 extension header chain or IPv4 authentication header is cut short or malformed.
    IpExtensionInvalid = "ip_extension_invalid", Warning;
    /// A TCP header is cut short or has an impossible data offset.
    TcpHeaderInvalid = "tcp_header_invalid", Warning;
    /// A UDP header is cut short.
    UdpHeaderInvalid = "udp_header_invalid", Warning;
    /// An ICMP or ICMPv6 message is cut short.
    IcmpInvalid = "icmp_invalid", Warning;
    /// Tunnels nested deeper than tamper follows; the inner packet was not analyzed.
    TunnelDepthExceeded = "tunnel_depth_exceeded", Warning;
    /// Two IP fragments of one datagram overlap with different bytes (an evasion or injection tell); the first copy was kept.
    IpFragmentOverlapConflict = "ip_fragment_overlap_conflict", Warning;
    /// A fragmented IP datagram never completed (a fragment is missing, or it timed out).
    IpFragmentIncomplete = "ip_fragment_incomplete", Warning;
    /// An IP fragment is impossible (reassembled size beyond 65535 bytes, or inconsistent last fragment).
    IpFragmentInvalid = "ip_fragment_invalid", Warning;
    /// The pool of datagrams being reassembled is full; the oldest datagram was dropped.
    LimitReachedFragments = "limit_reached_fragments", Warning;
    /// The flow table is full even after expiring idle flows; packets of new flows were counted but not analyzed.
    LimitReachedFlowTable = "limit_reached_flow_table", Warning;
    /// A flow direction reached the reassembly limit; protocol parsing stopped for that direction.
    LimitReachedReassemblyBytes = "limit_reached_reassembly_bytes", Info;
    /// The memory budget for reassembly across all flows is spent; new flows were tracked without payload reassembly.
    LimitReachedReassemblyMemory = "limit_reached_reassembly_memory", Warning;
    /// The table of DNS queries waiting for an answer is full; the oldest query was dropped.
    LimitReachedDnsPending = "limit_reached_dns_pending", Warning;
    /// More DNS transactions than the DNS-injection detector keeps until the end of the capture; the oldest were judged early, against the resolver baselines seen so far.
    LimitReachedDnsJudgement = "limit_reached_dns_judgement", Info;
    /// The blockpage detector's caps dropped something: more HTTP requests waiting for responses in one flow (64), more suspicious responses in one flow (4), or more client-address pairs from DNS answers with a blocking address (4096); the example says which.
    LimitReachedBlockpageState = "limit_reached_blockpage_state", Info;
    /// The throttling detector holds as many transmissions as it may across flows; data of flows beyond the cap was not checked for policing.
    LimitReachedThrottlingRecords = "limit_reached_throttling_records", Info;
    /// The throttling detector keeps as many finished flows as it may for its capture-wide comparisons (targeted throttling, plan-wide caps, slow handshakes); later flows were not compared.
    LimitReachedThrottlingFlows = "limit_reached_throttling_flows", Info;
    /// More TCP flows than the blackhole detector keeps until the end of the capture; later flows were not judged for silent drops.
    LimitReachedBlackholeFlows = "limit_reached_blackhole_flows", Info;
    /// More addresses in DNS answers than the blackhole detector links to names; flows to later addresses are judged without a name.
    LimitReachedBlackholeNames = "limit_reached_blackhole_names", Info;
    /// The per-capture time budget (`--time-budget`) ran out; the frames read before it were analyzed and the capture is partial.
    LimitReachedTimeBudget = "limit_reached_time_budget", Error;
    /// Flows went unanswered and no flow in the capture was answered: the capture may hold one direction of traffic only, so silent drops cannot be judged.
    CaptureOneDirectional = "capture_one_directional", Warning;
    /// A DNS message could not be fully parsed (truncated, bad name, compression loop); what came before the problem was used.
    DnsMessageMalformed = "dns_message_malformed", Warning;
    /// A TLS record or handshake message is malformed; TLS parsing stopped for that direction.
    TlsMessageMalformed = "tls_message_malformed", Warning;
    /// An HTTP/1.x message head is malformed or over the size limit; HTTP parsing stopped for that direction.
    HttpMessageMalformed = "http_message_malformed", Warning;
    /// A QUIC Initial packet could not be decrypted (cut by the snapshot length, no client Initial in the flow to derive its keys from, or authentication failed); its CRYPTO data is missing.
    QuicInitialUndecryptable = "quic_initial_undecryptable", Info;
    /// A QUIC long-header packet of a known version is malformed (header or Length past the datagram, connection ID over 20 bytes), or a decrypted Initial holds a frame that cannot be read or is not allowed there; what came before the problem was used.
    QuicPacketMalformed = "quic_packet_malformed", Warning;
    /// A QUIC connection's CRYPTO data went past the per-direction reassembly cap (16 KiB, 32 ranges); the rest was dropped and its hello may be reported incomplete.
    LimitReachedQuicCrypto = "limit_reached_quic_crypto", Info;
    /// More QUIC connections in one UDP flow than tamper follows at once (8); the oldest was reported as it stood and forgotten.
    LimitReachedQuicConnections = "limit_reached_quic_connections", Info;
}

impl fmt::Display for DiagnosticKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for DiagnosticKind {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// One example occurrence kept for a diagnostic kind.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DiagnosticExample {
    /// The frame concerned, when the problem belongs to one frame.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub frame: Option<FrameNumber>,
    /// What exactly was wrong, with the observed values.
    pub detail: String,
}

/// All occurrences of one diagnostic kind in a capture.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DiagnosticSummary {
    /// The kind's stable name.
    pub kind: DiagnosticKind,
    /// Its severity.
    pub severity: Severity,
    /// How many times it occurred.
    pub count: u64,
    /// The first occurrences, in the order they were met.
    pub examples: Vec<DiagnosticExample>,
}

/// Collects diagnostics for one capture: a count per kind plus the first few examples.
#[derive(Clone, Debug)]
pub struct Diagnostics {
    max_examples: usize,
    entries: BTreeMap<DiagnosticKind, DiagnosticSummary>,
}

impl Default for Diagnostics {
    fn default() -> Self {
        Diagnostics::new(Diagnostics::DEFAULT_EXAMPLES)
    }
}

impl Diagnostics {
    /// How many examples are kept per kind unless configured otherwise.
    pub const DEFAULT_EXAMPLES: usize = 10;

    /// A collector keeping at most `max_examples` examples per kind.
    pub fn new(max_examples: usize) -> Diagnostics {
        Diagnostics {
            max_examples,
            entries: BTreeMap::new(),
        }
    }

    /// Records one occurrence. `detail` is only evaluated while examples are still kept, so
    /// callers on hot paths pay for formatting at most `max_examples` times per kind.
    pub fn note(
        &mut self,
        kind: DiagnosticKind,
        frame: Option<FrameNumber>,
        detail: impl FnOnce() -> String,
    ) {
        let max = self.max_examples;
        let entry = self
            .entries
            .entry(kind)
            .or_insert_with(|| DiagnosticSummary {
                kind,
                severity: kind.severity(),
                count: 0,
                examples: Vec::new(),
            });
        entry.count += 1;
        if entry.examples.len() < max {
            entry.examples.push(DiagnosticExample {
                frame,
                detail: detail(),
            });
        }
    }

    /// How many times `kind` occurred.
    pub fn count(&self, kind: DiagnosticKind) -> u64 {
        self.entries.get(&kind).map_or(0, |e| e.count)
    }

    /// True when nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Adds everything from `other` (used when merging per-shard collectors).
    pub fn merge(&mut self, other: Diagnostics) {
        for (kind, summary) in other.entries {
            match self.entries.get_mut(&kind) {
                Some(mine) => {
                    mine.count += summary.count;
                    let room = self.max_examples.saturating_sub(mine.examples.len());
                    mine.examples
                        .extend(summary.examples.into_iter().take(room));
                }
                None => {
                    self.entries.insert(kind, summary);
                }
            }
        }
    }

    /// The summaries, worst severity first, then by name.
    pub fn into_summaries(self) -> Vec<DiagnosticSummary> {
        let mut v: Vec<_> = self.entries.into_values().collect();
        v.sort_by(|a, b| {
            b.severity
                .cmp(&a.severity)
                .then(a.kind.as_str().cmp(b.kind.as_str()))
        });
        v
    }

    /// The summaries without consuming the collector.
    pub fn summaries(&self) -> Vec<DiagnosticSummary> {
        self.clone().into_summaries()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_snake_case_and_documented() {
        let mut seen = std::collections::BTreeSet::new();
        for k in DiagnosticKind::ALL {
            let name = k.as_str();
            assert!(seen.insert(name), "duplicate name {name}");
            assert!(name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c == '_' || c.is_ascii_digit()));
            assert!(!k.description().is_empty(), "{name} has no description");
            assert!(k.description().ends_with('.'), "{name}");
        }
    }

    #[test]
    fn counts_all_but_keeps_few_examples() {
        let mut d = Diagnostics::new(2);
        let mut formatted = 0;
        for i in 1..=5u64 {
            d.note(DiagnosticKind::IpHeaderInvalid, FrameNumber::new(i), || {
                formatted += 1;
                format!("bad {i}")
            });
        }
        assert_eq!(formatted, 2);
        assert_eq!(d.count(DiagnosticKind::IpHeaderInvalid), 5);
        let s = d.into_summaries();
        assert_eq!(s.len(), 1);
        assert_eq!(s[0].examples.len(), 2);
        assert_eq!(s[0].examples[1].frame, FrameNumber::new(2));
    }

    #[test]
    fn summaries_sorted_by_severity() {
        let mut d = Diagnostics::default();
        d.note(DiagnosticKind::LinkPayloadNotIp, None, String::new);
        d.note(DiagnosticKind::CaptureTruncated, None, String::new);
        d.note(DiagnosticKind::IpHeaderInvalid, None, String::new);
        let kinds: Vec<_> = d.into_summaries().iter().map(|s| s.kind).collect();
        assert_eq!(
            kinds,
            vec![
                DiagnosticKind::CaptureTruncated,
                DiagnosticKind::IpHeaderInvalid,
                DiagnosticKind::LinkPayloadNotIp
            ]
        );
    }
}
