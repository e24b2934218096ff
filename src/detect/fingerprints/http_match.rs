//! Matches HTTP responses against the `body`, `header.<name>` and `response` rows of a
//! fingerprint set, with matchers built once per set; it must not decide whether a response is
//! a blockpage (that is the detector's job) and never reads captures.
//!
//! The rows are compiled into a few automata when a set first matches an HTTP response:
//!
//! * every `full`, `prefix` and `contains` pattern of a `body` or `response` row, and every
//!   `regexp` pattern that is a plain literal (such as Censored Planet's `fortinet\.net`), goes
//!   into one Aho-Corasick automaton searched once, with overlapping matches, over the text of
//!   the response; each occurrence is then checked against the row's place (`full`: the whole
//!   body, `prefix`: the start of the body, `contains`: anywhere in the body, or anywhere in
//!   the whole response for `response` rows). Before that search, one regular expression
//!   made of all those literals says whether any occurs at all, which is twice as fast on
//!   the many responses that contain none;
//! * the remaining regular expressions go into one [`RegexSet`] per place (body, whole
//!   response), searched once each; a row that matched is then run alone to find where;
//! * `header.<name>` rows get the same pair per header name, searched over each value of a
//!   header of that name.
//!
//! The text searched is UTF-8 with invalid sequences replaced by U+FFFD (as Censored Planet
//! and OONI search decoded text). A row is reported at most once per call, at its first match.

#![cfg_attr(
    not(test),
    deny(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used)
)]

use std::borrow::Cow;
use std::collections::HashMap;
use std::ops::Range;

use aho_corasick::{AhoCorasick, MatchKind};
use regex::{RegexSet, RegexSetBuilder};

use super::{Fingerprint, Location, PatternType};
use crate::proto::http::parse::HttpHeader;

/// The longest excerpt of a hit, in characters (Unicode scalar values).
pub const EXCERPT_CHARS: usize = 120;

/// Literal groups of at least this many patterns get a [`LiteralGroup::gate`].
const GATE_MIN_PATTERNS: usize = 64;

/// One fingerprint row that matched an HTTP response.
#[derive(Clone, Debug)]
pub struct HttpHit<'a> {
    /// The row.
    pub fingerprint: &'a Fingerprint,
    /// Where the match starts: `body`, `header.<name>` (lowercase), or `response` for a match
    /// of a `response` row that starts in the status line (or the blank line after the
    /// headers).
    pub location: Location,
    /// At most [`EXCERPT_CHARS`] characters of the searched text around the match (the start
    /// of the match when the match alone is longer), with ASCII control characters (line
    /// breaks, tabs) shown as spaces.
    pub excerpt: String,
    /// The byte range of the matched text within `excerpt` (cut at the end of the excerpt
    /// when the match is longer).
    pub matched: Range<usize>,
}

/// The rows that matched an HTTP response, split into false-positive rows (scope `fp`) and
/// the others. Censored Planet's matcher tries its false-positive patterns first and treats a
/// response that matches one as innocent, whatever else it matches ([`Self::confirmed`]);
/// both lists are kept so that a detector can say "matched X, but also the false-positive
/// pattern Y".
#[derive(Clone, Debug, Default)]
pub struct HttpMatches<'a> {
    /// Hits of rows of scope `fp`, in set order.
    pub false_positives: Vec<HttpHit<'a>>,
    /// Hits of every other row (blocking scopes, and the `injb` and `prov` rows, whose scope
    /// says what they are), in set order.
    pub blocking: Vec<HttpHit<'a>>,
}

impl<'a> HttpMatches<'a> {
    /// True when no row matched.
    pub fn is_empty(&self) -> bool {
        self.false_positives.is_empty() && self.blocking.is_empty()
    }

    /// True when a false-positive row matched (so Censored Planet's matcher would call the
    /// response innocent).
    pub fn is_false_positive(&self) -> bool {
        !self.false_positives.is_empty()
    }

    /// The blocking hits as Censored Planet's matcher sees them: all of them when no
    /// false-positive row matched, none otherwise.
    pub fn confirmed(&self) -> &[HttpHit<'a>] {
        if self.is_false_positive() {
            &[]
        } else {
            &self.blocking
        }
    }

    /// Every hit, false positives first.
    pub fn iter(&self) -> impl Iterator<Item = &HttpHit<'a>> {
        self.false_positives.iter().chain(&self.blocking)
    }
}

/// The part of the response text a rule looks at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Region {
    /// The body (for header rows: the whole value).
    Body,
    /// The whole response text: status line, header lines, blank line, body.
    Response,
}

/// Where a literal must sit within its region.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Anchor {
    /// Anywhere (`contains`, literal `regexp`).
    Anywhere,
    /// At the start (`prefix`).
    Start,
    /// At the start and reaching the end (`full`).
    Whole,
}

/// A row waiting on one literal pattern.
#[derive(Clone, Copy, Debug)]
struct LiteralRule {
    row: usize,
    anchor: Anchor,
    region: Region,
}

/// Literal patterns searched together; each distinct pattern lists the rows that use it.
#[derive(Clone, Default)]
struct LiteralGroup {
    /// An alternation of every pattern, tried first on long texts: on a text that contains
    /// none of the patterns (nearly every response) the regex crate's lazy DFA says so about
    /// twice as fast as the overlapping Aho-Corasick search that finds them all. `None` for
    /// small groups, or when the alternation is too large for the regex crate's limits.
    gate: Option<regex::bytes::Regex>,
    /// `None` when there are no patterns, or when the automaton could not be built (then each
    /// pattern is searched on its own).
    automaton: Option<AhoCorasick>,
    patterns: Vec<String>,
    rules: Vec<Vec<LiteralRule>>,
}

#[derive(Default)]
struct LiteralGroupBuilder {
    ids: HashMap<String, usize>,
    patterns: Vec<String>,
    rules: Vec<Vec<LiteralRule>>,
}

impl LiteralGroupBuilder {
    fn add(&mut self, pattern: String, rule: LiteralRule) {
        let id = *self.ids.entry(pattern).or_insert_with_key(|p| {
            self.patterns.push(p.clone());
            self.rules.push(Vec::new());
            self.patterns.len() - 1
        });
        if let Some(rules) = self.rules.get_mut(id) {
            rules.push(rule);
        }
    }

    /// The group; `gated` asks for a [`LiteralGroup::gate`] (worth it for long texts).
    /// Without `accelerated` neither the gate nor the automaton is built (a test compares
    /// both ways).
    fn build(self, gated: bool, accelerated: bool) -> LiteralGroup {
        let gate = (accelerated && gated && self.patterns.len() >= GATE_MIN_PATTERNS)
            .then(|| {
                let alternation: Vec<String> =
                    self.patterns.iter().map(|p| regex::escape(p)).collect();
                regex::bytes::RegexBuilder::new(&alternation.join("|"))
                    .unicode(false)
                    .build()
                    .ok()
            })
            .flatten();
        let automaton = if self.patterns.is_empty() || !accelerated {
            None
        } else {
            AhoCorasick::builder()
                .match_kind(MatchKind::Standard)
                .build(&self.patterns)
                .ok()
        };
        LiteralGroup {
            gate,
            automaton,
            patterns: self.patterns,
            rules: self.rules,
        }
    }
}

impl LiteralGroup {
    /// Every (row, match) allowed by the rules; `body_start` is where the body region starts.
    fn search(&self, text: &str, body_start: usize, out: &mut Vec<(usize, Range<usize>)>) {
        if self
            .gate
            .as_ref()
            .is_some_and(|gate| !gate.is_match(text.as_bytes()))
        {
            return;
        }
        let accepts = |rule: &LiteralRule, m: &Range<usize>| {
            let start = match rule.region {
                Region::Body => body_start,
                Region::Response => 0,
            };
            match rule.anchor {
                Anchor::Anywhere => m.start >= start,
                Anchor::Start => m.start == start,
                Anchor::Whole => m.start == start && m.end == text.len(),
            }
        };
        let overlapping = self
            .automaton
            .as_ref()
            .and_then(|ac| ac.try_find_overlapping_iter(text).ok());
        if let Some(matches) = overlapping {
            for m in matches {
                let range = m.range();
                for rule in self.rules.get(m.pattern().as_usize()).into_iter().flatten() {
                    if accepts(rule, &range) {
                        out.push((rule.row, range.clone()));
                    }
                }
            }
            return;
        }
        // Without an automaton: each pattern on its own, at the one place each rule allows.
        for (pattern, rules) in self.patterns.iter().zip(&self.rules) {
            for rule in rules {
                let start = match rule.region {
                    Region::Body => body_start,
                    Region::Response => 0,
                };
                let Some(region) = text.get(start..) else {
                    continue;
                };
                let found = match rule.anchor {
                    Anchor::Anywhere => region.find(pattern.as_str()),
                    Anchor::Start => region.starts_with(pattern.as_str()).then_some(0),
                    Anchor::Whole => (region == pattern).then_some(0),
                };
                if let Some(at) = found {
                    out.push((rule.row, start + at..start + at + pattern.len()));
                }
            }
        }
    }
}

/// Regular expressions searched together over one text.
#[derive(Clone, Default)]
struct RegexGroup {
    rows: Vec<usize>,
    /// `None` with fewer than two expressions, or when the set is too large to build (then
    /// each expression runs on its own).
    set: Option<RegexSet>,
}

impl RegexGroup {
    fn build(rows: Vec<usize>, all: &[Fingerprint], accelerated: bool) -> RegexGroup {
        let sources: Vec<&str> = rows
            .iter()
            .filter_map(|&r| all.get(r).and_then(Fingerprint::regex_source))
            .collect();
        let set = (accelerated && rows.len() > 1 && sources.len() == rows.len())
            .then(|| {
                RegexSetBuilder::new(&sources)
                    .dot_matches_new_line(true)
                    .build()
                    .ok()
            })
            .flatten();
        RegexGroup { rows, set }
    }

    fn search(
        &self,
        all: &[Fingerprint],
        text: &str,
        offset: usize,
        out: &mut Vec<(usize, Range<usize>)>,
    ) {
        let mut run = |row: usize| {
            let found = all
                .get(row)
                .and_then(Fingerprint::regex)
                .and_then(|r| r.find(text));
            if let Some(m) = found {
                out.push((row, offset + m.start()..offset + m.end()));
            }
        };
        match &self.set {
            Some(set) => {
                for i in set.matches(text).iter() {
                    if let Some(&row) = self.rows.get(i) {
                        run(row);
                    }
                }
            }
            None => self.rows.iter().for_each(|&row| run(row)),
        }
    }
}

/// The rows of one header name.
#[derive(Clone, Default)]
struct HeaderMatcher {
    literals: LiteralGroup,
    regexes: RegexGroup,
}

/// The HTTP matchers of a fingerprint set (row indices into its rows).
#[derive(Clone, Default)]
pub(super) struct HttpIndex {
    /// Literals of `body` and `response` rows, searched over the response text.
    text_literals: LiteralGroup,
    /// Regular expressions of `body` rows, searched over the body.
    body_regexes: RegexGroup,
    /// Regular expressions of `response` rows, searched over the whole response text.
    response_regexes: RegexGroup,
    /// Whether any `response` row exists (otherwise the head is not written out).
    has_response_rows: bool,
    /// Whether any `body` or `response` row exists.
    has_text_rows: bool,
    /// Per lowercase header name.
    headers: Vec<(String, HeaderMatcher)>,
}

impl HttpIndex {
    pub(super) fn build(rows: &[Fingerprint]) -> HttpIndex {
        HttpIndex::build_with(rows, true)
    }

    /// The index without the automata and sets: every pattern searched on its own. Only for
    /// the test that compares both ways.
    #[cfg(test)]
    pub(super) fn build_unaccelerated(rows: &[Fingerprint]) -> HttpIndex {
        HttpIndex::build_with(rows, false)
    }

    fn build_with(rows: &[Fingerprint], accelerated: bool) -> HttpIndex {
        let mut text_literals = LiteralGroupBuilder::default();
        let mut body_regexes = Vec::new();
        let mut response_regexes = Vec::new();
        let mut headers: Vec<(String, LiteralGroupBuilder, Vec<usize>)> = Vec::new();
        let mut has_response_rows = false;
        let mut has_text_rows = false;
        for (i, r) in rows.iter().enumerate() {
            let literal = match r.pattern_type {
                PatternType::Full => Some((r.pattern.clone(), Anchor::Whole)),
                PatternType::Prefix => Some((r.pattern.clone(), Anchor::Start)),
                PatternType::Contains => Some((r.pattern.clone(), Anchor::Anywhere)),
                PatternType::Regexp => r
                    .regex_source()
                    .and_then(regex_literal)
                    .map(|l| (l, Anchor::Anywhere)),
            };
            let is_regex = literal.is_none() && r.regex_source().is_some();
            match &r.location {
                Location::Dns => {}
                Location::Body | Location::Response => {
                    let region = if r.location == Location::Body {
                        Region::Body
                    } else {
                        has_response_rows = true;
                        Region::Response
                    };
                    has_text_rows = true;
                    if let Some((pattern, anchor)) = literal {
                        let rule = LiteralRule {
                            row: i,
                            anchor,
                            region,
                        };
                        text_literals.add(pattern, rule);
                    } else if is_regex && region == Region::Body {
                        body_regexes.push(i);
                    } else if is_regex {
                        response_regexes.push(i);
                    }
                }
                Location::Header(name) => {
                    let at = match headers.iter().position(|(n, _, _)| n == name) {
                        Some(at) => at,
                        None => {
                            headers.push((
                                name.clone(),
                                LiteralGroupBuilder::default(),
                                Vec::new(),
                            ));
                            headers.len() - 1
                        }
                    };
                    let Some((_, literals, regexes)) = headers.get_mut(at) else {
                        continue;
                    };
                    if let Some((pattern, anchor)) = literal {
                        let rule = LiteralRule {
                            row: i,
                            anchor,
                            region: Region::Body,
                        };
                        literals.add(pattern, rule);
                    } else if is_regex {
                        regexes.push(i);
                    }
                }
            }
        }
        HttpIndex {
            text_literals: text_literals.build(true, accelerated),
            body_regexes: RegexGroup::build(body_regexes, rows, accelerated),
            response_regexes: RegexGroup::build(response_regexes, rows, accelerated),
            has_response_rows,
            has_text_rows,
            headers: headers
                .into_iter()
                .map(|(name, literals, regexes)| {
                    let matcher = HeaderMatcher {
                        literals: literals.build(false, accelerated),
                        regexes: RegexGroup::build(regexes, rows, accelerated),
                    };
                    (name, matcher)
                })
                .collect(),
        }
    }

    /// Every row matching a response (status code, reason phrase, header fields as sent, body
    /// as given).
    pub(super) fn match_response<'a>(
        &self,
        rows: &'a [Fingerprint],
        status: u16,
        reason: &str,
        headers: &[HttpHeader],
        body: &[u8],
    ) -> HttpMatches<'a> {
        let mut hits = Vec::new();
        let mut found = Vec::new();
        for header in headers {
            if let Some(matcher) = self.header_matcher(&header.name) {
                let value = String::from_utf8_lossy(&header.value);
                matcher.search(rows, &value, &mut found);
                let location = Location::Header(header.name.to_ascii_lowercase());
                push_hits(&mut hits, &mut found, &value, |_| (location.clone(), 0));
            }
        }
        if self.has_text_rows {
            let text = ResponseText::new(self.has_response_rows, status, reason, headers, body);
            let body_start = text.body_start;
            self.text_literals
                .search(&text.text, body_start, &mut found);
            if let Some(body_text) = text.text.get(body_start..) {
                self.body_regexes
                    .search(rows, body_text, body_start, &mut found);
            }
            self.response_regexes
                .search(rows, &text.text, 0, &mut found);
            push_hits(&mut hits, &mut found, &text.text, |at| text.locate(at));
        }
        finish(rows, hits)
    }

    /// Every `header.<name>` row matching one header value.
    pub(super) fn match_header<'a>(
        &self,
        rows: &'a [Fingerprint],
        name: &str,
        value: &[u8],
    ) -> HttpMatches<'a> {
        let mut hits = Vec::new();
        if let Some(matcher) = self.header_matcher(name) {
            let value = String::from_utf8_lossy(value);
            let mut found = Vec::new();
            matcher.search(rows, &value, &mut found);
            let location = Location::Header(name.to_ascii_lowercase());
            push_hits(&mut hits, &mut found, &value, |_| (location.clone(), 0));
        }
        finish(rows, hits)
    }

    fn header_matcher(&self, name: &str) -> Option<&HeaderMatcher> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, m)| m)
    }
}

impl HeaderMatcher {
    fn search(&self, rows: &[Fingerprint], value: &str, out: &mut Vec<(usize, Range<usize>)>) {
        self.literals.search(value, 0, out);
        self.regexes.search(rows, value, 0, out);
    }
}

/// A hit waiting to be tied to its row.
struct Pending {
    row: usize,
    location: Location,
    excerpt: String,
    matched: Range<usize>,
}

/// Turns the raw matches found in one text into pending hits, one per row (its earliest
/// match), with their excerpts; `found` is left empty. `locate` gives, for the start of a
/// match, the part of the text it lies in and where that part starts (excerpts of a match in
/// the body show only the body).
fn push_hits(
    hits: &mut Vec<Pending>,
    found: &mut Vec<(usize, Range<usize>)>,
    text: &str,
    locate: impl Fn(usize) -> (Location, usize),
) {
    found.sort_by_key(|(row, range)| (*row, range.start));
    found.dedup_by_key(|(row, _)| *row);
    for (row, range) in found.drain(..) {
        let (location, part_start) = locate(range.start);
        let part = text.get(part_start..).unwrap_or("");
        let relative = range.start.saturating_sub(part_start)..range.end.saturating_sub(part_start);
        let (excerpt, matched) = excerpt(part, relative);
        hits.push(Pending {
            row,
            location,
            excerpt,
            matched,
        });
    }
}

/// One hit per row (the first found), in set order, split by scope.
fn finish(rows: &[Fingerprint], mut hits: Vec<Pending>) -> HttpMatches<'_> {
    hits.sort_by_key(|h| h.row);
    hits.dedup_by_key(|h| h.row);
    let mut out = HttpMatches::default();
    for h in hits {
        let Some(fingerprint) = rows.get(h.row) else {
            continue;
        };
        let hit = HttpHit {
            fingerprint,
            location: h.location,
            excerpt: h.excerpt,
            matched: h.matched,
        };
        if fingerprint.is_false_positive() {
            out.false_positives.push(hit);
        } else {
            out.blocking.push(hit);
        }
    }
    out
}

/// The text `body` and `response` rows are searched over: the body alone, or (when the set
/// has `response` rows) the response written out as Censored Planet's pipeline rebuilds it:
/// `<code> <reason>` (the status as Go's HTTP client records it, without the version), CRLF,
/// each header as `Name: value` CRLF with the name in Go's canonical case
/// (`Content-Type`), in the order received, a blank line, then the body.
struct ResponseText<'b> {
    text: Cow<'b, str>,
    body_start: usize,
    head_end: usize,
    /// Start of each header line and the header's name as sent.
    lines: Vec<(usize, &'b str)>,
}

impl<'b> ResponseText<'b> {
    fn new(
        with_head: bool,
        status: u16,
        reason: &str,
        headers: &'b [HttpHeader],
        body: &'b [u8],
    ) -> ResponseText<'b> {
        let body_text = String::from_utf8_lossy(body);
        if !with_head {
            return ResponseText {
                text: body_text,
                body_start: 0,
                head_end: 0,
                lines: Vec::new(),
            };
        }
        let head_len: usize = headers
            .iter()
            .map(|h| h.name.len() + h.value.len() + 4)
            .sum();
        let mut text = String::with_capacity(reason.len() + head_len + body_text.len() + 10);
        text.push_str(&status.to_string());
        if !reason.is_empty() {
            text.push(' ');
            text.push_str(reason);
        }
        text.push_str("\r\n");
        let mut lines = Vec::with_capacity(headers.len());
        for h in headers {
            lines.push((text.len(), h.name.as_str()));
            text.push_str(&go_canonical_name(&h.name));
            text.push_str(": ");
            text.push_str(&String::from_utf8_lossy(&h.value));
            text.push_str("\r\n");
        }
        let head_end = text.len();
        text.push_str("\r\n");
        let body_start = text.len();
        text.push_str(&body_text);
        ResponseText {
            text: Cow::Owned(text),
            body_start,
            head_end,
            lines,
        }
    }

    /// The part of the response a match starting at byte `at` of the text starts in, and
    /// where the text an excerpt may show starts: the body for a match in the body, the whole
    /// response otherwise.
    fn locate(&self, at: usize) -> (Location, usize) {
        if at >= self.body_start {
            return (Location::Body, self.body_start);
        }
        let line = self.lines.partition_point(|(start, _)| *start <= at);
        let location = match line.checked_sub(1).and_then(|i| self.lines.get(i)) {
            Some((_, name)) if at < self.head_end => Location::Header(name.to_ascii_lowercase()),
            _ => Location::Response,
        };
        (location, 0)
    }
}

/// A header name in the case Go's `net/textproto` gives it (first letter and each letter
/// after a hyphen in uppercase, the rest in lowercase); a name with a byte that is not a token
/// character is kept as it is, as Go does.
fn go_canonical_name(name: &str) -> Cow<'_, str> {
    let token = |b: u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b);
    if !name.bytes().all(token) {
        return Cow::Borrowed(name);
    }
    let mut upper = true;
    let canonical: String = name
        .chars()
        .map(|c| {
            let out = if upper {
                c.to_ascii_uppercase()
            } else {
                c.to_ascii_lowercase()
            };
            upper = c == '-';
            out
        })
        .collect();
    if canonical == name {
        Cow::Borrowed(name)
    } else {
        Cow::Owned(canonical)
    }
}

/// The text a regular expression matches when it is a plain literal: no operator at all, and
/// escapes only of ASCII punctuation that stands for itself (`\.`, `\?`, `\/`; not `\<` or
/// `\>`, which are word boundaries in Rust's syntax). `None` otherwise.
pub(super) fn regex_literal(pattern: &str) -> Option<String> {
    let mut out = String::with_capacity(pattern.len());
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                let next = chars.next()?;
                if next.is_ascii_punctuation() && next != '<' && next != '>' {
                    out.push(next);
                } else {
                    return None;
                }
            }
            '.' | '^' | '$' | '*' | '+' | '?' | '(' | ')' | '[' | ']' | '{' | '}' | '|' => {
                return None
            }
            _ => out.push(c),
        }
    }
    (!out.is_empty()).then_some(out)
}

/// At most [`EXCERPT_CHARS`] characters of `text` around `range` (the match centred when
/// there is room on both sides), ASCII control characters shown as spaces, and where the
/// match lies in the excerpt.
pub(super) fn excerpt(text: &str, range: Range<usize>) -> (String, Range<usize>) {
    let floor = |mut i: usize| {
        i = i.min(text.len());
        while !text.is_char_boundary(i) {
            i -= 1;
        }
        i
    };
    let start = floor(range.start);
    let end = floor(range.end).max(start);
    let matched = text.get(start..end).unwrap_or("");
    let matched_chars = matched.chars().count();
    if matched_chars >= EXCERPT_CHARS {
        let cut = matched
            .char_indices()
            .nth(EXCERPT_CHARS)
            .map_or(matched.len(), |(i, _)| i);
        let shown = matched.get(..cut).unwrap_or("");
        return (clean(shown), 0..shown.len());
    }
    let budget = EXCERPT_CHARS - matched_chars;
    let before_text = text.get(..start).unwrap_or("");
    let after_text = text.get(end..).unwrap_or("");
    let before_room = before_text.chars().rev().take(budget).count();
    let after_room = after_text.chars().take(budget).count();
    let mut before = (budget / 2).min(before_room);
    let after = (budget - before).min(after_room);
    before = (budget - after).min(before_room);
    let from = before_text
        .char_indices()
        .rev()
        .nth(before.saturating_sub(1))
        .map_or(start, |(i, _)| i);
    let from = if before == 0 { start } else { from };
    let to = after_text
        .char_indices()
        .nth(after)
        .map_or(text.len(), |(i, _)| end + i);
    let shown = text.get(from..to).unwrap_or("");
    (clean(shown), start - from..end - from)
}

/// `text` with ASCII control characters replaced by spaces (lengths unchanged).
fn clean(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_ascii_control() { ' ' } else { c })
        .collect()
}
