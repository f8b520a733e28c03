//! Text encodings: strict encoding of what the user types (an unencodable character is an
//! error, never a silent `&#NNN;` or `?`), and decoding of received bytes for display, with
//! the bytes before an entry as context so a character split across two reads shows whole.

use encoding_rs::{CoderResult, DecoderResult, EncoderResult, Encoding};
use serde::{Deserialize, Serialize};

/// The encodings offered for display and for sending.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum TextEncoding {
    /// UTF-8.
    #[default]
    Utf8,
    /// GBK (简体中文, as Windows' code page 936).
    Gbk,
    /// GB18030 (all of Unicode).
    Gb18030,
    /// Big5 (繁體中文).
    Big5,
    /// Shift_JIS (日本語).
    ShiftJis,
    /// EUC-KR (한국어).
    EucKr,
    /// Windows-1252 (Western European).
    Windows1252,
}

impl TextEncoding {
    /// Every encoding, in the order the window lists them.
    pub const ALL: [TextEncoding; 7] = [
        TextEncoding::Utf8,
        TextEncoding::Gbk,
        TextEncoding::Gb18030,
        TextEncoding::Big5,
        TextEncoding::ShiftJis,
        TextEncoding::EucKr,
        TextEncoding::Windows1252,
    ];

    /// The name shown to users and accepted on the command line.
    pub fn label(self) -> &'static str {
        match self {
            TextEncoding::Utf8 => "UTF-8",
            TextEncoding::Gbk => "GBK",
            TextEncoding::Gb18030 => "GB18030",
            TextEncoding::Big5 => "Big5",
            TextEncoding::ShiftJis => "Shift_JIS",
            TextEncoding::EucKr => "EUC-KR",
            TextEncoding::Windows1252 => "Windows-1252",
        }
    }

    /// Looks an encoding up by its label, case-insensitively (`utf-8`, `utf8`, `gbk`, ...).
    pub fn from_label(label: &str) -> Option<Self> {
        let wanted = label.trim().to_ascii_lowercase().replace(['-', '_'], "");
        Self::ALL
            .into_iter()
            .find(|e| e.label().to_ascii_lowercase().replace(['-', '_'], "") == wanted)
    }

    pub(crate) fn encoding(self) -> &'static Encoding {
        match self {
            TextEncoding::Utf8 => encoding_rs::UTF_8,
            TextEncoding::Gbk => encoding_rs::GBK,
            TextEncoding::Gb18030 => encoding_rs::GB18030,
            TextEncoding::Big5 => encoding_rs::BIG5,
            TextEncoding::ShiftJis => encoding_rs::SHIFT_JIS,
            TextEncoding::EucKr => encoding_rs::EUC_KR,
            TextEncoding::Windows1252 => encoding_rs::WINDOWS_1252,
        }
    }
}

/// A character the chosen encoding cannot represent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[error("'{ch}' (U+{code:04X}) at position {position} cannot be encoded as {}", encoding.label())]
pub struct EncodeError {
    /// The character.
    pub ch: char,
    /// Its code point, for the message.
    pub code: u32,
    /// 1-based character position in the input.
    pub position: usize,
    /// The encoding.
    pub encoding: TextEncoding,
}

/// Encodes `text` into `encoding`, refusing rather than replacing what cannot be encoded.
///
/// # Errors
/// [`EncodeError`] naming the first character the encoding cannot represent.
pub fn encode_strict(text: &str, encoding: TextEncoding) -> Result<Vec<u8>, EncodeError> {
    if encoding == TextEncoding::Utf8 {
        return Ok(text.as_bytes().to_vec());
    }
    let mut encoder = encoding.encoding().new_encoder();
    let capacity = encoder
        .max_buffer_length_from_utf8_without_replacement(text.len())
        .unwrap_or(text.len().saturating_mul(4));
    let mut out = Vec::with_capacity(capacity);
    let mut input = text;
    loop {
        let (result, read) =
            encoder.encode_from_utf8_to_vec_without_replacement(input, &mut out, true);
        let consumed_before = text.len() - input.len();
        input = &input[read..];
        match result {
            EncoderResult::InputEmpty => return Ok(out),
            EncoderResult::OutputFull => out.reserve(input.len().saturating_mul(4).max(16)),
            EncoderResult::Unmappable(ch) => {
                let end_of_char = consumed_before + read;
                let start = end_of_char - ch.len_utf8();
                return Err(EncodeError {
                    ch,
                    code: u32::from(ch),
                    position: text[..start].chars().count() + 1,
                    encoding,
                });
            }
        }
    }
}

/// Bytes after an entry that [`decode_for_display`] needs to settle a character left
/// unfinished at the entry's end: the longest character of the encodings offered (4 bytes in
/// UTF-8 and GB18030) needs at most 3 more.
pub const FOLLOWING_BYTES: usize = 4;

/// What follows the bytes being decoded, on the same stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Following<'a> {
    /// Nothing (yet): a character left unfinished at the end shows here as `\xNN`.
    Nothing,
    /// The next bytes of the stream ([`FOLLOWING_BYTES`] of them, or all it has): a
    /// character they complete is shown with them, one they do not complete shows here as
    /// `\xNN`.
    Bytes(&'a [u8]),
    /// More bytes follow that are not looked at (a row cut short, marked by its caller): a
    /// character left unfinished at the cut is left out.
    Cut,
}

/// Decodes `bytes`, one entry of a stream, for display. `context` holds the bytes just
/// before it on the same stream, `following` says what comes after.
///
/// Every byte shows in exactly one entry: a character shows in the entry holding its last
/// byte (so one split across two reads shows whole, in the second), and a byte that is not
/// part of a valid character shows as `\xNN` in the entry holding it, so a debugger user
/// sees what it was. Decoding a stream entry by entry this way gives the same text as
/// decoding it whole.
pub fn decode_for_display(
    context: &[u8],
    bytes: &[u8],
    following: Following<'_>,
    encoding: TextEncoding,
) -> String {
    let next = match following {
        Following::Bytes(next) => next,
        Following::Nothing | Following::Cut => &[],
    };
    // The three parts as one stream; only what the own part decodes to is kept.
    let parts = [context, bytes, next];
    let own_start = context.len();
    let own_end = own_start + bytes.len();
    let last_part = match following {
        Following::Bytes(_) => 2,
        Following::Nothing | Following::Cut => 1,
    };
    let flush = following != Following::Cut;
    let mut decoder = encoding.encoding().new_decoder_without_bom_handling();
    let mut shown = String::new();
    let mut discarded = String::new();
    let (mut part, mut at) = (0, 0); // the part being fed, and the position in it
    let mut part_start = 0; // stream position of parts[part][0]
    while part <= last_part {
        let src = parts
            .get(part)
            .and_then(|p| p.get(at..))
            .unwrap_or_default();
        let target = if part == 1 {
            &mut shown
        } else {
            &mut discarded
        };
        let needed = decoder
            .max_utf8_buffer_length_without_replacement(src.len())
            .unwrap_or(src.len().saturating_mul(3) + 16);
        target.reserve(needed);
        let last = part == last_part && flush;
        let (result, read) = decoder.decode_to_string_without_replacement(src, target, last);
        discarded.clear();
        let fed = part_start + at + read;
        match result {
            DecoderResult::InputEmpty => {
                part_start += parts.get(part).map_or(0, |p| p.len());
                part += 1;
                at = 0;
            }
            DecoderResult::OutputFull => at += read,
            DecoderResult::Malformed(bad, extra) => {
                // The invalid bytes end `extra` bytes before the read position; they may lie
                // in an earlier part (context bytes belong to an earlier entry).
                let end = fed - usize::from(extra);
                let start = end.saturating_sub(usize::from(bad));
                for position in start.max(own_start)..end.min(own_end) {
                    if let Some(byte) = bytes.get(position - own_start) {
                        shown.push_str(&format!("\\x{byte:02X}"));
                    }
                }
                if extra == 0 {
                    at += read;
                } else {
                    // Bytes read past the invalid ones are read again by a fresh decoder (as
                    // WHATWG says to, and the decoder would do inside), so that each is
                    // decoded while its own part is fed.
                    decoder = encoding.encoding().new_decoder_without_bom_handling();
                    (part, at, part_start) = locate(&parts, end);
                }
            }
        }
    }
    shown
}

/// The part holding stream position `position`, the position within it, and where the part
/// starts in the stream.
fn locate(parts: &[&[u8]; 3], position: usize) -> (usize, usize, usize) {
    let mut start = 0;
    for (index, part) in parts.iter().enumerate() {
        if position < start + part.len() {
            return (index, position - start, start);
        }
        start += part.len();
    }
    // At the very end: past the last part, which then ends as empty input.
    let last = parts.len() - 1;
    let last_start = start - parts.get(last).map_or(0, |p| p.len());
    (last, position - last_start, last_start)
}

/// Decodes with invalid sequences replaced by U+FFFD (for machine-readable output).
pub fn decode_replacing(bytes: &[u8], encoding: TextEncoding) -> String {
    let mut decoder = encoding.encoding().new_decoder_without_bom_handling();
    let mut dst = String::new();
    feed(&mut decoder, bytes, true, &mut dst);
    dst
}

fn feed(decoder: &mut encoding_rs::Decoder, mut src: &[u8], last: bool, dst: &mut String) {
    loop {
        let needed = decoder
            .max_utf8_buffer_length(src.len())
            .unwrap_or(src.len().saturating_mul(3) + 16);
        dst.reserve(needed);
        let (result, read, _replaced) = decoder.decode_to_string(src, dst, last);
        src = &src[read..];
        match result {
            CoderResult::InputEmpty => return,
            CoderResult::OutputFull => continue,
        }
    }
}

/// Decodes a whole buffer with no context, showing invalid bytes as `\xNN`.
pub fn decode_lossy(bytes: &[u8], encoding: TextEncoding) -> String {
    decode_for_display(&[], bytes, Following::Nothing, encoding)
}

/// Whether `bytes` decode in `encoding` without any invalid sequence.
pub fn is_valid(bytes: &[u8], encoding: TextEncoding) -> bool {
    let mut decoder = encoding.encoding().new_decoder_without_bom_handling();
    let mut dst = String::with_capacity(bytes.len() * 3 + 16);
    let (result, _) = decoder.decode_to_string_without_replacement(bytes, &mut dst, true);
    matches!(result, DecoderResult::InputEmpty)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_known_vectors() {
        let table: [(&str, TextEncoding, &[u8]); 6] = [
            ("中文", TextEncoding::Gbk, &[0xd6, 0xd0, 0xce, 0xc4]),
            (
                "中文",
                TextEncoding::Utf8,
                &[0xe4, 0xb8, 0xad, 0xe6, 0x96, 0x87],
            ),
            ("abc", TextEncoding::Gbk, b"abc"),
            ("你好", TextEncoding::Gb18030, &[0xc4, 0xe3, 0xba, 0xc3]),
            ("€", TextEncoding::Windows1252, &[0x80]),
            ("", TextEncoding::Gbk, b""),
        ];
        for (text, enc, expected) in table {
            assert_eq!(
                encode_strict(text, enc).as_deref(),
                Ok(expected),
                "{text} {enc:?}"
            );
        }
    }

    #[test]
    fn refuses_unencodable_characters() {
        let err = encode_strict("ok😀", TextEncoding::Gbk).expect_err("emoji is not in GBK");
        assert_eq!(err.ch, '😀');
        assert_eq!(err.position, 3);
        assert!(err.to_string().contains("GBK"), "{err}");
        let err = encode_strict("中", TextEncoding::Windows1252).expect_err("no Han in 1252");
        assert_eq!(err.position, 1);
        // GB18030 covers all of Unicode.
        assert!(encode_strict("😀", TextEncoding::Gb18030).is_ok());
    }

    #[test]
    fn decodes_gbk_and_replaces_invalid() {
        assert_eq!(
            decode_lossy(&[0xd6, 0xd0, 0xce, 0xc4], TextEncoding::Gbk),
            "中文"
        );
        assert_eq!(decode_lossy(&[0xff, b'a'], TextEncoding::Utf8), "\\xFFa");
        assert_eq!(
            decode_lossy(&[0xd6, 0xd0, 0xce, 0xc4, b'!'], TextEncoding::Utf8),
            "\\xD6\\xD0\\xCE\\xC4!"
        );
        assert_eq!(
            decode_replacing(&[0xff, b'a'], TextEncoding::Utf8),
            "\u{fffd}a"
        );
        assert_eq!(
            decode_replacing(&[0xd6, 0xd0, 0xce, 0xc4], TextEncoding::Gbk),
            "中文"
        );
        assert_eq!(
            decode_lossy(&[0x81, 0x20, b'x'], TextEncoding::Gbk),
            "\\x81 x"
        );
        // A BOM is not sniffed: GBK bytes stay GBK even if they look like a UTF-8 BOM.
        assert_eq!(
            decode_lossy(&[0xef, 0xbb, 0xbf], TextEncoding::Utf8),
            "\u{feff}"
        );
    }

    /// Decodes `stream` cut into `reads` as a log shows it, one text per read: the bytes
    /// before each read as context, the next few after it as what follows.
    fn entry_texts(reads: &[&[u8]], encoding: TextEncoding) -> Vec<String> {
        let stream = reads.concat();
        let mut at = 0;
        reads
            .iter()
            .map(|read| {
                let end = at + read.len();
                let following = stream.get(end..(end + FOLLOWING_BYTES).min(stream.len()));
                let text = decode_for_display(
                    &stream[at.saturating_sub(64)..at],
                    read,
                    Following::Bytes(following.unwrap_or_default()),
                    encoding,
                );
                at = end;
                text
            })
            .collect()
    }

    #[test]
    fn split_characters_show_whole_in_the_entry_that_completes_them() {
        type Case<'a> = (&'a [&'a [u8]], TextEncoding, &'a [&'a str]);
        let table: [Case<'_>; 6] = [
            (
                &[b"a\xe4", b"\xb8\xad b"],
                TextEncoding::Utf8,
                &["a", "中 b"],
            ),
            (&[b"a\xe4\xb8", b"\xad"], TextEncoding::Utf8, &["a", "中"]),
            // One byte per read: the character shows in the read of its last byte.
            (
                &[b"\xe4", b"\xb8", b"\xad", b"!"],
                TextEncoding::Utf8,
                &["", "", "中", "!"],
            ),
            (
                &[b"\xd6", b"\xd0\xce", b"\xc4"],
                TextEncoding::Gbk,
                &["", "中", "文"],
            ),
            (
                &[b"\x81", b"\x30\x81", b"\x30"],
                TextEncoding::Gb18030,
                &["", "", "\u{80}"],
            ),
            (&["😀".as_bytes()], TextEncoding::Utf8, &["😀"]),
        ];
        for (reads, encoding, expected) in table {
            assert_eq!(entry_texts(reads, encoding), expected, "{reads:?}");
        }
    }

    #[test]
    fn a_held_back_byte_the_next_read_does_not_complete_shows_where_it_is() {
        // The report: "AB\xC4" then "XY"; the first row lost \xC4.
        assert_eq!(
            entry_texts(&[b"AB\xc4", b"XY"], TextEncoding::Utf8),
            ["AB\\xC4", "XY"]
        );
        // GBK 中文 read as UTF-8: four invalid bytes, all in the row, none twice.
        assert_eq!(
            entry_texts(&[b"\xd6\xd0\xce\xc4", b"ok"], TextEncoding::Utf8),
            ["\\xD6\\xD0\\xCE\\xC4", "ok"]
        );
        // A sequence that starts in one read and breaks in the next.
        assert_eq!(
            entry_texts(&[b"\xe4", b"\xb8", b"X"], TextEncoding::Utf8),
            ["\\xE4", "\\xB8", "X"]
        );
        // Nothing follows yet: shown now (the row changes if a completion comes).
        assert_eq!(
            decode_for_display(b"", b"AB\xc4", Following::Nothing, TextEncoding::Utf8),
            "AB\\xC4"
        );
        // A row cut short leaves the character at the cut to the part not shown.
        assert_eq!(
            decode_for_display(b"", b"AB\xc4", Following::Cut, TextEncoding::Utf8),
            "AB"
        );
        assert_eq!(
            decode_for_display(
                &[],
                &[b'a', 0xe4, 0xb8],
                Following::Nothing,
                TextEncoding::Utf8
            ),
            "a\\xE4\\xB8"
        );
    }

    #[test]
    fn entry_by_entry_gives_the_text_of_the_whole_stream() {
        let streams: [(&[u8], TextEncoding); 6] = [
            // A four-byte attempt that fails: its bytes after the first are read again.
            (
                &[0x81, 0x30, 0x81, 0x00, 0x81, 0x30, b'x'],
                TextEncoding::Gbk,
            ),
            ("中文 ok 😀!".as_bytes(), TextEncoding::Utf8),
            (b"AB\xc4XY\xd6\xd0\xce\xc4\xe4\xb8", TextEncoding::Utf8),
            (
                &[0xd6, 0xd0, 0xce, 0xc4, 0x81, 0x20, b'x', 0xff],
                TextEncoding::Gbk,
            ),
            (
                &[0x81, 0x30, 0x81, 0x30, 0x81, b'a', 0xd6, 0xd0],
                TextEncoding::Gb18030,
            ),
            (
                &[0x82, 0xa0, 0x82, b'x', 0x82, 0xa2],
                TextEncoding::ShiftJis,
            ),
        ];
        for (stream, encoding) in streams {
            let whole = decode_lossy(stream, encoding);
            for a in 0..=stream.len() {
                for b in a..=stream.len() {
                    let reads = [&stream[..a], &stream[a..b], &stream[b..]];
                    assert_eq!(
                        entry_texts(&reads, encoding).concat(),
                        whole,
                        "{encoding:?} cut at {a} and {b}"
                    );
                }
            }
            let bytewise: Vec<&[u8]> = stream.chunks(1).collect();
            assert_eq!(
                entry_texts(&bytewise, encoding).concat(),
                whole,
                "{encoding:?}"
            );
        }
    }

    #[test]
    fn labels_round_trip() {
        for enc in TextEncoding::ALL {
            assert_eq!(TextEncoding::from_label(enc.label()), Some(enc));
        }
        assert_eq!(TextEncoding::from_label("utf8"), Some(TextEncoding::Utf8));
        assert_eq!(TextEncoding::from_label("gbk"), Some(TextEncoding::Gbk));
        assert_eq!(TextEncoding::from_label("latin9"), None);
        assert!(is_valid(&[0xd6, 0xd0], TextEncoding::Gbk));
        assert!(!is_valid(&[0xff], TextEncoding::Utf8));
    }
}
