//! The send pipeline, the one place where what a user typed becomes the exact bytes that go
//! out. The window's send box, its preview, quick commands, periodic sends, on-connect
//! payloads, auto-reply texts and the headless `--send` all go through [`build_payload`]:
//!
//! text or hex -> escapes (text only) -> encoding (text only) -> line ending -> checksum
//!
//! The checksum is computed over everything before it, line ending included.

use serde::{Deserialize, Serialize};

use crate::codec::checksum::Checksum;
use crate::codec::escape::{EscapeError, Piece, literal, unescape};
use crate::codec::hex::{HexError, parse_hex};
use crate::codec::text::{EncodeError, TextEncoding, encode_strict};

/// A line ending appended after the payload.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum LineEnding {
    /// Nothing appended.
    #[default]
    None,
    /// `\r` (0D).
    Cr,
    /// `\n` (0A).
    Lf,
    /// `\r\n` (0D 0A).
    CrLf,
}

impl LineEnding {
    /// Every choice, in the order the window lists them.
    pub const ALL: [LineEnding; 4] = [
        LineEnding::None,
        LineEnding::Cr,
        LineEnding::Lf,
        LineEnding::CrLf,
    ];

    /// The bytes appended.
    pub fn bytes(self) -> &'static [u8] {
        match self {
            LineEnding::None => b"",
            LineEnding::Cr => b"\r",
            LineEnding::Lf => b"\n",
            LineEnding::CrLf => b"\r\n",
        }
    }

    /// The name accepted on the command line (`--line-ending crlf`).
    pub fn name(self) -> &'static str {
        match self {
            LineEnding::None => "none",
            LineEnding::Cr => "cr",
            LineEnding::Lf => "lf",
            LineEnding::CrLf => "crlf",
        }
    }

    /// The label shown in the window.
    pub fn label(self) -> &'static str {
        match self {
            LineEnding::None => "No line ending",
            LineEnding::Cr => "CR (\\r)",
            LineEnding::Lf => "LF (\\n)",
            LineEnding::CrLf => "CRLF (\\r\\n)",
        }
    }

    /// Looks a line ending up by its command-line name, case-insensitively.
    pub fn from_name(name: &str) -> Option<Self> {
        let wanted = name.trim().to_ascii_lowercase();
        Self::ALL.into_iter().find(|l| l.name() == wanted)
    }
}

/// How send-box input becomes bytes. Saved with quick commands, on-connect payloads and
/// auto-reply rules, so each carries its own mode, encoding, line ending and checksum.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(default)]
pub struct SendOptions {
    /// Input is hex (`01 03 00 0A`) rather than text.
    pub hex: bool,
    /// Encoding of text input.
    pub encoding: TextEncoding,
    /// Replace `\r \n \t \\ \0 \xNN` in text input.
    pub escapes: bool,
    /// Appended after the payload.
    pub line_ending: LineEnding,
    /// Appended last, computed over everything before it.
    pub checksum: Checksum,
}

/// Why input cannot be sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
pub enum SendError {
    /// Hex input is not valid hex.
    #[error("invalid hex: {0}")]
    Hex(#[from] HexError),
    /// A bad escape in text input.
    #[error("bad escape: {0}")]
    Escape(#[from] EscapeError),
    /// A character the encoding cannot represent.
    #[error("{0}")]
    Encode(#[from] EncodeError),
    /// Nothing at all would be sent.
    #[error("nothing to send: the send box is empty")]
    Empty,
}

impl SendError {
    /// The 1-based column in the input of what is wrong, when one thing is.
    pub fn column(&self) -> Option<usize> {
        match self {
            SendError::Hex(e) => Some(e.column()),
            SendError::Escape(e) => Some(e.column()),
            SendError::Encode(e) => Some(e.position),
            SendError::Empty => None,
        }
    }
}

/// A payload as written on the command line and in scenario files: `text:T` or `hex:HH..`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PayloadText<'a> {
    /// The body is hex bytes rather than text.
    pub hex: bool,
    /// What follows the prefix.
    pub body: &'a str,
    /// Bytes of the prefix (`text:` or `hex:`), where the body starts.
    pub body_offset: usize,
}

/// A payload without its `text:` or `hex:` prefix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("payload '{0}' must start with text: or hex:")]
pub struct PayloadPrefixError(pub String);

/// Splits `text:T` or `hex:HH..` into its mode and body.
///
/// # Errors
/// [`PayloadPrefixError`] when neither prefix starts `text`.
pub fn split_payload(text: &str) -> Result<PayloadText<'_>, PayloadPrefixError> {
    for (prefix, hex) in [("text:", false), ("hex:", true)] {
        if let Some(body) = text.strip_prefix(prefix) {
            return Ok(PayloadText {
                hex,
                body,
                body_offset: prefix.len(),
            });
        }
    }
    Err(PayloadPrefixError(text.to_string()))
}

/// Encodes already unescaped pieces: text through `encoding`, raw bytes as they are.
///
/// # Errors
/// [`SendError::Encode`] naming the column of the first unencodable character.
pub fn encode_pieces(pieces: &[Piece], encoding: TextEncoding) -> Result<Vec<u8>, SendError> {
    let mut out = Vec::new();
    for piece in pieces {
        match piece {
            Piece::Byte(b) => out.push(*b),
            Piece::Text { text, column } => {
                let bytes = encode_strict(text, encoding).map_err(|mut e| {
                    e.position += column - 1;
                    e
                })?;
                out.extend_from_slice(&bytes);
            }
        }
    }
    Ok(out)
}

/// The payload itself, before line ending and checksum: hex parsed, or text unescaped (when
/// asked) and encoded.
///
/// # Errors
/// [`SendError`] for invalid hex, a bad escape or an unencodable character.
pub fn encode_body(input: &str, options: &SendOptions) -> Result<Vec<u8>, SendError> {
    if options.hex {
        return Ok(parse_hex(input)?);
    }
    let pieces = if options.escapes {
        unescape(input)?
    } else {
        literal(input)
    };
    encode_pieces(&pieces, options.encoding)
}

/// Appends the line ending, then the checksum over everything before it.
pub fn finish_payload(mut body: Vec<u8>, options: &SendOptions) -> Vec<u8> {
    body.extend_from_slice(options.line_ending.bytes());
    let checksum = options.checksum.compute(&body);
    body.extend_from_slice(&checksum);
    body
}

/// The whole pipeline: the exact bytes that Send will emit for `input`.
///
/// An empty payload with a line ending sends just the line ending; an empty payload
/// without one is refused, even with a checksum (a lone checksum of nothing is a mistake).
///
/// # Errors
/// [`SendError`] for invalid hex, a bad escape, an unencodable character, or nothing to send.
pub fn build_payload(input: &str, options: &SendOptions) -> Result<Vec<u8>, SendError> {
    let body = encode_body(input, options)?;
    if body.is_empty() && options.line_ending == LineEnding::None {
        return Err(SendError::Empty);
    }
    Ok(finish_payload(body, options))
}

/// Turns send-box input into bytes with only a mode and an encoding (no escapes, line
/// ending or checksum).
///
/// # Errors
/// A message for the user: invalid hex, an unencodable character, or nothing to send.
pub fn encode_payload(input: &str, hex: bool, encoding: TextEncoding) -> Result<Vec<u8>, String> {
    let options = SendOptions {
        hex,
        encoding,
        ..SendOptions::default()
    };
    build_payload(input, &options).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(escapes: bool, line_ending: LineEnding, checksum: Checksum) -> SendOptions {
        SendOptions {
            escapes,
            line_ending,
            checksum,
            ..SendOptions::default()
        }
    }

    fn hex(checksum: Checksum) -> SendOptions {
        SendOptions {
            hex: true,
            checksum,
            ..SendOptions::default()
        }
    }

    #[test]
    fn encodes_hex_and_text() {
        assert_eq!(
            encode_payload("31 32", true, TextEncoding::Utf8),
            Ok(b"12".to_vec())
        );
        assert_eq!(
            encode_payload("中文", false, TextEncoding::Gbk),
            Ok(vec![0xd6, 0xd0, 0xce, 0xc4])
        );
        assert_eq!(
            encode_payload("31 32", false, TextEncoding::Utf8),
            Ok(b"31 32".to_vec())
        );
    }

    #[test]
    fn pipeline_table() {
        let gbk_escapes = SendOptions {
            encoding: TextEncoding::Gbk,
            escapes: true,
            line_ending: LineEnding::CrLf,
            ..SendOptions::default()
        };
        let table: [(&str, SendOptions, &[u8]); 12] = [
            (
                "AT",
                text(false, LineEnding::CrLf, Checksum::None),
                b"AT\r\n",
            ),
            ("AT", text(false, LineEnding::Cr, Checksum::None), b"AT\r"),
            ("AT", text(false, LineEnding::Lf, Checksum::None), b"AT\n"),
            (
                "a\\n",
                text(false, LineEnding::None, Checksum::None),
                b"a\\n",
            ),
            ("a\\n", text(true, LineEnding::None, Checksum::None), b"a\n"),
            (
                "\\xFF\\x00",
                text(true, LineEnding::None, Checksum::None),
                &[0xFF, 0],
            ),
            ("中\\t", gbk_escapes, &[0xD6, 0xD0, 0x09, 0x0D, 0x0A]),
            (
                "01 03 00 00 00 0A",
                hex(Checksum::Crc16Modbus),
                &[1, 3, 0, 0, 0, 0x0A, 0xC5, 0xCD],
            ),
            (
                "123456789",
                text(false, LineEnding::None, Checksum::Crc32),
                b"123456789\xCB\xF4\x39\x26",
            ),
            // The checksum covers the line ending: 0x41 + 0x0D = 0x4E.
            ("A", text(false, LineEnding::Cr, Checksum::Sum8), b"A\r\x4E"),
            ("", text(false, LineEnding::CrLf, Checksum::None), b"\r\n"),
            ("01", hex(Checksum::Xor8), &[0x01, 0x01]),
        ];
        for (input, options, expected) in table {
            assert_eq!(
                build_payload(input, &options).as_deref(),
                Ok(expected),
                "{input:?} {options:?}"
            );
        }
    }

    #[test]
    fn explains_what_cannot_be_sent() {
        let gbk = SendOptions {
            encoding: TextEncoding::Gbk,
            escapes: true,
            ..SendOptions::default()
        };
        let table = [
            ("3G", hex(Checksum::None), "invalid hex: 'G' at column 2"),
            ("", SendOptions::default(), "nothing to send"),
            ("  ", hex(Checksum::None), "nothing to send"),
            ("", hex(Checksum::Sum8), "nothing to send"),
            ("😀", gbk, "cannot be encoded as GBK"),
            ("ab\\q", gbk, "bad escape: unknown escape '\\q' at column 3"),
            ("\\x0", gbk, "needs two hex digits"),
            // The column counts from the start of the input, across escapes.
            ("\\x41\\x42中😀", gbk, "at position 10"),
        ];
        for (input, options, expected) in table {
            let error = build_payload(input, &options).expect_err(input).to_string();
            assert!(error.contains(expected), "{input:?}: {error}");
        }
    }

    #[test]
    fn payload_prefixes_split() {
        let text = split_payload("text:a:b").expect("text");
        assert_eq!((text.hex, text.body, text.body_offset), (false, "a:b", 5));
        let hex = split_payload("hex:01 02").expect("hex");
        assert_eq!((hex.hex, hex.body, hex.body_offset), (true, "01 02", 4));
        assert!(split_payload("echo").is_err());
        assert_eq!(
            build_payload("3G", &hex_options()).map_err(|e| e.column()),
            Err(Some(2))
        );
    }

    fn hex_options() -> SendOptions {
        SendOptions {
            hex: true,
            ..SendOptions::default()
        }
    }

    #[test]
    fn names_parse() {
        for ending in LineEnding::ALL {
            assert_eq!(LineEnding::from_name(ending.name()), Some(ending));
        }
        assert_eq!(LineEnding::from_name("CRLF"), Some(LineEnding::CrLf));
        assert_eq!(LineEnding::from_name("lfcr"), None);
    }
}
