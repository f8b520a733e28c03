//! What an `expect` compares with what arrived, as pure functions over bytes.
//!
//! **Stream** (no `framing`): the bytes received since the previous match are one buffer,
//! however they were cut into reads, and an expect consumes up to the end of its match
//! (what follows stays for the next expect):
//! - `contains:`, `regex:` and every hex kind find their first occurrence anywhere (a byte
//!   stream has no message boundaries to anchor on);
//! - `starts-with:T` finds `T` at the start of a line: at the start of the buffer or right
//!   after a `\r` or `\n`;
//! - `text:T` finds `T` as a whole line: at the start of a line and followed by a line
//!   ending (consumed with it) or by the end of what has arrived so far.
//!
//! **Frames** (`framing delim:…`, `len:…`, `fixed:…`): each complete frame is compared whole,
//! as `--reply` does: text kinds ignore one trailing line ending, `text:`/`hex:` are exact,
//! `starts-with:` and `contains:` as they say. Frames that do not match are passed over.
//!
//! Text patterns are compared as bytes in the file's encoding; a regex runs on the text
//! decoded with it, and its named groups become variables.

use regex::bytes::Regex;

use crate::codec::reply::{MatchKind, bytes_match};
use crate::codec::text::{TextEncoding, decode_replacing};

/// A compiled expectation: its pattern bytes (text already encoded) or regex.
#[derive(Clone, Debug)]
pub enum Expectation {
    /// Exact, contains or starts-with, on bytes.
    Bytes {
        /// How the pattern is compared.
        kind: MatchKind,
        /// The pattern's bytes.
        pattern: Vec<u8>,
        /// A text pattern (line rules on a stream, trailing line ending ignored in a frame).
        text: bool,
    },
    /// A regular expression over the decoded text.
    Regex {
        /// The compiled regex (on UTF-8 bytes).
        regex: Regex,
        /// How received bytes are decoded before matching.
        encoding: TextEncoding,
    },
}

/// A match: how much of the stream it consumes and what its named groups captured.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Found {
    /// Bytes of the buffer consumed (through the end of the match).
    pub end: usize,
    /// `(group name, text)` of each named group that took part in the match.
    pub captures: Vec<(String, String)>,
}

fn is_line_end(b: u8) -> bool {
    b == b'\n' || b == b'\r'
}

fn find(haystack: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    if needle.is_empty() {
        return Some(from);
    }
    haystack
        .get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|at| at + from)
}

/// Bytes of the line ending at the start of `rest` (`\r\n`, `\n`, `\r`), or 0.
fn line_ending_len(rest: &[u8]) -> usize {
    match rest {
        [b'\r', b'\n', ..] => 2,
        [b'\r' | b'\n', ..] => 1,
        _ => 0,
    }
}

/// `data` without one trailing line ending.
fn strip_line_ending(data: &[u8]) -> &[u8] {
    data.strip_suffix(b"\r\n")
        .or_else(|| data.strip_suffix(b"\n"))
        .or_else(|| data.strip_suffix(b"\r"))
        .unwrap_or(data)
}

impl Expectation {
    /// The first match in a stream buffer, if any.
    pub fn find_in_stream(&self, buffer: &[u8]) -> Option<Found> {
        let found = |end| Found {
            end,
            captures: Vec::new(),
        };
        match self {
            Expectation::Regex { regex, encoding } => regex_find(regex, *encoding, buffer),
            Expectation::Bytes {
                kind: MatchKind::StartsWith | MatchKind::Exact,
                pattern,
                text: true,
            } => {
                let whole_line = matches!(
                    self,
                    Expectation::Bytes {
                        kind: MatchKind::Exact,
                        ..
                    }
                );
                let mut from = 0;
                while let Some(at) = find(buffer, pattern, from) {
                    let line_start =
                        at == 0 || buffer.get(at - 1).copied().is_some_and(is_line_end);
                    let end = at + pattern.len();
                    let rest = buffer.get(end..).unwrap_or_default();
                    if line_start && !whole_line {
                        return Some(found(end));
                    }
                    if line_start && (rest.is_empty() || line_ending_len(rest) > 0) {
                        return Some(found(end + line_ending_len(rest)));
                    }
                    from = at + 1;
                    if from > buffer.len() {
                        break;
                    }
                }
                None
            }
            Expectation::Bytes {
                kind: MatchKind::Any,
                ..
            } => (!buffer.is_empty()).then(|| found(buffer.len())),
            Expectation::Bytes { pattern, .. } => {
                find(buffer, pattern, 0).map(|at| found(at + pattern.len()))
            }
        }
    }

    /// Whether a whole frame matches; its captures if so.
    pub fn match_frame(&self, frame: &[u8]) -> Option<Vec<(String, String)>> {
        match self {
            Expectation::Regex { regex, encoding } => {
                regex_find(regex, *encoding, strip_line_ending(frame)).map(|f| f.captures)
            }
            Expectation::Bytes {
                kind,
                pattern,
                text,
            } => {
                let data = if *text {
                    strip_line_ending(frame)
                } else {
                    frame
                };
                bytes_match(*kind, data, pattern).then(Vec::new)
            }
        }
    }
}

/// The first regex match in `buffer` decoded with `encoding`, consuming up to its end.
fn regex_find(regex: &Regex, encoding: TextEncoding, buffer: &[u8]) -> Option<Found> {
    if encoding == TextEncoding::Utf8 {
        // Byte offsets are the buffer's own; invalid bytes simply match nothing.
        let captures = regex.captures(buffer)?;
        let end = captures.get(0)?.end();
        return Some(Found {
            end,
            captures: named(regex, &captures),
        });
    }
    let (text, ends) = decode_mapped(buffer, encoding);
    let captures = regex.captures(text.as_bytes())?;
    let end_in_text = captures.get(0)?.end();
    // The input consumed once the decoded text reached the match's end.
    let end = ends
        .iter()
        .position(|&out| out >= end_in_text)
        .map_or(buffer.len(), |i| i + 1);
    Some(Found {
        end: if end_in_text == 0 { 0 } else { end },
        captures: named(regex, &captures),
    })
}

fn named(regex: &Regex, captures: &regex::bytes::Captures<'_>) -> Vec<(String, String)> {
    regex
        .capture_names()
        .flatten()
        .filter_map(|name| {
            let value = captures.name(name)?;
            Some((
                name.to_string(),
                String::from_utf8_lossy(value.as_bytes()).into_owned(),
            ))
        })
        .collect()
}

/// `buffer` decoded, with the decoded length reached after each input byte (so a match's
/// end in the text maps back to the bytes it consumed). A character split at the end is
/// left out until its last byte arrives.
fn decode_mapped(buffer: &[u8], encoding: TextEncoding) -> (String, Vec<usize>) {
    let mut decoder = encoding.encoding().new_decoder_without_bom_handling();
    let mut text = String::with_capacity(buffer.len() * 2);
    let mut ends = Vec::with_capacity(buffer.len());
    for byte in buffer {
        text.reserve(decoder.max_utf8_buffer_length(1).unwrap_or(16));
        let (_, _, _) = decoder.decode_to_string(std::slice::from_ref(byte), &mut text, false);
        ends.push(text.len());
    }
    (text, ends)
}

/// `bytes` as text for a failure message, decoded with `encoding`.
pub fn describe_text(bytes: &[u8], encoding: TextEncoding) -> String {
    decode_replacing(bytes, encoding)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bytes(kind: MatchKind, pattern: &[u8], text: bool) -> Expectation {
        Expectation::Bytes {
            kind,
            pattern: pattern.to_vec(),
            text,
        }
    }

    fn regex(pattern: &str, encoding: TextEncoding) -> Expectation {
        Expectation::Regex {
            regex: Regex::new(pattern).expect("regex"),
            encoding,
        }
    }

    #[test]
    fn stream_matches_consume_up_to_their_end() {
        use MatchKind::*;
        let table: [(Expectation, &[u8], Option<usize>); 16] = [
            // Whole lines: followed by a line ending (consumed) or the end so far.
            (bytes(Exact, b"OK", true), b"OK\r\nOK\r\n", Some(4)),
            (bytes(Exact, b"OK", true), b"OK", Some(2)),
            (bytes(Exact, b"OK", true), b"OKAY\r\n", None),
            (bytes(Exact, b"OK", true), b"NOK\r\n", None),
            (bytes(Exact, b"OK", true), b"x\nOK\n", Some(5)),
            (bytes(Exact, b"OK", true), b"\r\nOK", Some(4)),
            // Starts of lines.
            (bytes(StartsWith, b"TEMP", true), b"TEMP=1\r\n", Some(4)),
            (bytes(StartsWith, b"TEMP", true), b"=1\r\nTEMP=2", Some(8)),
            (bytes(StartsWith, b"EMP", true), b"TEMP=1", None),
            // Anywhere.
            (bytes(Contains, b"EMP", true), b"TEMP=1", Some(4)),
            (bytes(StartsWith, &[1, 3], false), &[2, 0, 1, 3, 2], Some(4)),
            (bytes(Exact, &[1, 3], false), &[9, 1, 3], Some(3)),
            (bytes(Contains, &[0xff], false), &[1, 2], None),
            (
                regex(r"TEMP=(?P<t>[0-9.]+)", TextEncoding::Utf8),
                b"x TEMP=21.5\r\n",
                Some(11),
            ),
            (
                regex(r"中(?P<n>\d)", TextEncoding::Gbk),
                b"a\xd6\xd05b",
                Some(4),
            ),
            (regex(r"z", TextEncoding::Gbk), b"abc", None),
        ];
        for (expectation, buffer, end) in table {
            assert_eq!(
                expectation.find_in_stream(buffer).map(|f| f.end),
                end,
                "{expectation:?} in {buffer:?}"
            );
        }
    }

    #[test]
    fn regex_groups_become_captures() {
        let found = regex(r"TEMP=(?P<t>[0-9.]+)(?P<unit>C)?", TextEncoding::Utf8)
            .find_in_stream(b"TEMP=21.5\r\n")
            .expect("match");
        assert_eq!(found.captures, vec![("t".to_string(), "21.5".to_string())]);
        let found = regex(r"(?P<w>\p{Han}+)", TextEncoding::Gbk)
            .find_in_stream(&[b'>', 0xd6, 0xd0, 0xce, 0xc4, b'<'])
            .expect("match");
        assert_eq!(found.captures, vec![("w".to_string(), "中文".to_string())]);
        assert_eq!(found.end, 5);
    }

    #[test]
    fn a_character_split_across_reads_waits_for_its_end() {
        // The first byte of 中 in GBK alone does not match; with its second it does.
        let e = regex("中", TextEncoding::Gbk);
        assert_eq!(e.find_in_stream(&[0xd6]), None);
        assert_eq!(e.find_in_stream(&[0xd6, 0xd0]).map(|f| f.end), Some(2));
        let e = bytes(MatchKind::Contains, "中".as_bytes(), true);
        assert_eq!(e.find_in_stream(&"中".as_bytes()[..2]), None);
    }

    #[test]
    fn frames_match_whole() {
        use MatchKind::*;
        let table: [(Expectation, &[u8], bool); 8] = [
            (bytes(Exact, b"OK", true), b"OK\r\n", true),
            (bytes(Exact, b"OK", true), b"OK\r\n\r\n", false),
            (bytes(Exact, b"OK", false), b"OK\r\n", false),
            (bytes(StartsWith, &[1, 3], false), &[1, 3, 2], true),
            (bytes(StartsWith, &[1, 3], false), &[0, 1, 3], false),
            (bytes(Contains, b"K", true), b"OK", true),
            (regex("^OK$", TextEncoding::Utf8), b"OK\n", true),
            (regex("^OK$", TextEncoding::Utf8), b"NOK\n", false),
        ];
        for (expectation, frame, matched) in table {
            assert_eq!(
                expectation.match_frame(frame).is_some(),
                matched,
                "{expectation:?} on {frame:?}"
            );
        }
    }
}
