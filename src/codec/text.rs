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
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{ch}' (U+{code:04X}) at position {position} cannot be encoded as {encoding}")]
pub struct EncodeError {
    /// The character.
    pub ch: char,
    /// Its code point, for the message.
    pub code: u32,
    /// 1-based character position in the input.
    pub position: usize,
    /// The encoding's label.
    pub encoding: &'static str,
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
                    encoding: encoding.label(),
                });
            }
        }
    }
}

/// Decodes `bytes` for display. `context` holds bytes that came just before on the same
/// stream: a character they start is completed from `bytes` and shown here. When `complete`
/// is false (more bytes of this stream follow), a character left unfinished at the end of
/// `bytes` is not shown here: the next entry shows it whole. Bytes that are not valid in
/// the encoding are shown as `\xNN` escapes, so a debugger user sees what they were.
pub fn decode_for_display(
    context: &[u8],
    bytes: &[u8],
    complete: bool,
    encoding: TextEncoding,
) -> String {
    let mut decoder = encoding.encoding().new_decoder_without_bom_handling();
    let mut scratch = String::new();
    if !context.is_empty() {
        feed_escaping(&mut decoder, context, false, &mut scratch);
        scratch.clear();
    }
    feed_escaping(&mut decoder, bytes, complete, &mut scratch);
    scratch
}

fn feed_escaping(decoder: &mut encoding_rs::Decoder, src: &[u8], last: bool, dst: &mut String) {
    let mut rest = src;
    loop {
        let needed = decoder
            .max_utf8_buffer_length_without_replacement(rest.len())
            .unwrap_or(rest.len().saturating_mul(3) + 16);
        dst.reserve(needed);
        let (result, read) = decoder.decode_to_string_without_replacement(rest, dst, last);
        let consumed = &rest[..read];
        rest = &rest[read..];
        match result {
            DecoderResult::InputEmpty => return,
            DecoderResult::OutputFull => {}
            DecoderResult::Malformed(bad, extra) => {
                let end = consumed.len().saturating_sub(usize::from(extra));
                let start = end.saturating_sub(usize::from(bad));
                for byte in &consumed[start..end] {
                    dst.push_str(&format!("\\x{byte:02X}"));
                }
            }
        }
    }
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
    decode_for_display(&[], bytes, true, encoding)
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

    #[test]
    fn split_characters_show_whole_in_the_entry_that_completes_them() {
        let utf8 = "中文".as_bytes(); // e4 b8 ad e6 96 87
        for split in 1..utf8.len() {
            let (a, b) = utf8.split_at(split);
            let first = decode_for_display(&[], a, false, TextEncoding::Utf8);
            let second = decode_for_display(a, b, true, TextEncoding::Utf8);
            assert_eq!(format!("{first}{second}"), "中文", "split at {split}");
            assert!(!first.contains('\\') && !second.contains('\\'));
        }
        let gbk = [0xd6, 0xd0, 0xce, 0xc4];
        for split in 1..gbk.len() {
            let (a, b) = gbk.split_at(split);
            let first = decode_for_display(&[], a, false, TextEncoding::Gbk);
            let second = decode_for_display(a, b, true, TextEncoding::Gbk);
            assert_eq!(format!("{first}{second}"), "中文", "split at {split}");
        }
    }

    #[test]
    fn unfinished_character_at_the_end_is_shown_when_nothing_follows() {
        assert_eq!(
            decode_for_display(&[], &[b'a', 0xe4], true, TextEncoding::Utf8),
            "a\\xE4"
        );
        assert_eq!(
            decode_for_display(&[], &[b'a', 0xe4, 0xb8], true, TextEncoding::Utf8),
            "a\\xE4\\xB8"
        );
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
