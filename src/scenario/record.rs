//! "Save as scenario": log entries written as scenario lines, what was sent as `send`, what
//! arrived as `expect`. Bytes that are text in the encoding (and come back as the same bytes)
//! are written as escaped text, anything else as hex, so the file parses back
//! ([`super::parse`]) to the very bytes of the log.

use crate::codec::hex::to_hex_spaced;
use crate::codec::text::{TextEncoding, encode_strict};

/// Which way an entry went.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Recorded {
    /// Sent by us: a `send` line.
    Sent,
    /// Received: an `expect` line.
    Received,
}

/// The scenario text for `entries`: a `session` line if `session` is given (a spec as
/// written), an `encoding` line when it is not UTF-8, then one line per non-empty entry.
pub fn scenario_text(
    session: Option<&str>,
    encoding: TextEncoding,
    entries: &[(Recorded, &[u8])],
) -> String {
    let mut out = String::new();
    if let Some(spec) = session {
        out.push_str(&format!("session {spec}\n"));
    }
    if encoding != TextEncoding::Utf8 {
        out.push_str(&format!(
            "encoding {}\n",
            encoding.label().to_ascii_lowercase()
        ));
    }
    for (direction, bytes) in entries {
        if bytes.is_empty() {
            continue;
        }
        let line = match (direction, as_text(bytes, encoding)) {
            (Recorded::Sent, Some(text)) => format!("send text:{text}"),
            (Recorded::Sent, None) => format!("send hex:{}", to_hex_spaced(bytes)),
            (Recorded::Received, Some(text)) => format!("expect contains:{text}"),
            (Recorded::Received, None) => {
                format!("expect hex-contains:{}", to_hex_spaced(bytes))
            }
        };
        out.push_str(&line);
        out.push('\n');
    }
    out
}

/// `bytes` as an escaped text payload, if they are text in `encoding` that encodes back to
/// the same bytes (control characters other than CR, LF and tab make it hex).
fn as_text(bytes: &[u8], encoding: TextEncoding) -> Option<String> {
    let decoded = encoding
        .encoding()
        .decode_without_bom_handling_and_without_replacement(bytes)?;
    if decoded
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\r' | '\n' | '\t'))
    {
        return None;
    }
    if encode_strict(&decoded, encoding).ok()?.as_slice() != bytes {
        return None;
    }
    Some(escape(&decoded))
}

/// Words a line's end would take as an option or a wait (`… checksum=crc32`,
/// `… within 500`): a space before one is written `\x20`.
fn is_special_word(word: &str) -> bool {
    word == "within" || word.starts_with("checksum=") || word.starts_with("line-ending=")
}

/// Escapes text for a payload or pattern: the escape character itself, line endings and
/// tabs, `$` (a `${` would be a variable), `#` (a comment after a space), and spaces where
/// the line would lose them (first, last, before a word the line's end would take).
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    let last = text.chars().count().saturating_sub(1);
    for (index, (at, c)) in text.char_indices().enumerate() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\r' => out.push_str("\\r"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '$' => out.push_str("\\x24"),
            '#' => out.push_str("\\x23"),
            ' ' => {
                let next_word = text[at + 1..]
                    .split([' ', '\t', '\r', '\n'])
                    .next()
                    .unwrap_or_default();
                if index == 0 || index == last || is_special_word(next_word) {
                    out.push_str("\\x20");
                } else {
                    out.push(' ');
                }
            }
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::matching::Expectation;
    use crate::scenario::{Action, Vars, parse};

    /// What the parsed file sends and expects, as bytes.
    fn round_trip(text: &str) -> Vec<(Recorded, Vec<u8>)> {
        let scenario = parse(text, &[]).unwrap_or_else(|e| panic!("{text}\n{e:?}"));
        let vars = Vars::with([]);
        scenario
            .statements()
            .into_iter()
            .filter_map(|s| match &s.action {
                Action::Send { payload, options } => Some((
                    Recorded::Sent,
                    vars.payload(payload, options).expect("send bytes"),
                )),
                Action::Expect { expect, .. } => match expect.compile(&vars).expect("match") {
                    Expectation::Bytes { pattern, .. } => Some((Recorded::Received, pattern)),
                    Expectation::Regex { .. } => panic!("no regex is written"),
                },
                _ => None,
            })
            .collect()
    }

    #[test]
    fn entries_parse_back_to_their_bytes() {
        type Case<'a> = (TextEncoding, &'a [(Recorded, &'a [u8])]);
        let table: [Case<'_>; 4] = [
            (
                TextEncoding::Utf8,
                &[
                    (Recorded::Sent, b"READ\r\n"),
                    (Recorded::Received, b"TEMP=21.5\r\n"),
                    (Recorded::Sent, b" lead and trail "),
                    (Recorded::Received, b"a #1 ${x} \\n\ttab"),
                    (Recorded::Sent, b"x within 500"),
                    (Recorded::Sent, b"y checksum=crc32"),
                    (Recorded::Received, b"z line-ending=crlf within"),
                    (Recorded::Sent, "中文 ok".as_bytes()),
                    (Recorded::Sent, b"\x01\x03\x00\x07\x00\x01\xf5\xcb"),
                    (Recorded::Received, b"\xff\xfe"),
                    (Recorded::Received, b"nothing"),
                    (Recorded::Sent, b" "),
                    (Recorded::Sent, b"  two  spaces  "),
                ],
            ),
            (
                TextEncoding::Gbk,
                &[
                    (Recorded::Sent, &[0xd6, 0xd0, 0xce, 0xc4, b'!']),
                    (Recorded::Received, &[0xd6, 0xd0]),
                    // Invalid in GBK: hex.
                    (Recorded::Received, &[0x81, 0x20]),
                ],
            ),
            (TextEncoding::Utf8, &[(Recorded::Sent, b"bell\x07")]),
            (
                TextEncoding::Big5,
                &[(Recorded::Received, "繁體".as_bytes())],
            ),
        ];
        for (encoding, entries) in table {
            let text = scenario_text(Some("tcp-client:127.0.0.1:6001"), encoding, entries);
            let expected: Vec<(Recorded, Vec<u8>)> =
                entries.iter().map(|(d, b)| (*d, b.to_vec())).collect();
            assert_eq!(round_trip(&text), expected, "{text}");
        }
    }

    #[test]
    fn text_reads_as_text_and_binary_as_hex() {
        let text = scenario_text(
            None,
            TextEncoding::Utf8,
            &[
                (Recorded::Sent, b"READ\r\n"),
                (Recorded::Received, b"\x01\x03\x02"),
                (Recorded::Sent, b""),
            ],
        );
        assert_eq!(
            text, "send text:READ\\r\\n\nexpect hex-contains:01 03 02\n",
            "an empty entry writes no line"
        );
        let gbk = scenario_text(None, TextEncoding::Gbk, &[(Recorded::Sent, b"\xd6\xd0")]);
        assert_eq!(gbk, "encoding gbk\nsend text:中\n");
    }
}
