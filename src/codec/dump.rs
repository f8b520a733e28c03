//! Ways to look at and copy bytes: a hex dump whose text column is decoded with a chosen
//! encoding (a multibyte character shows whole, in the row where it starts), and bytes as C
//! and Python literals.

use std::fmt::Write as _;

use encoding_rs::DecoderResult;

use crate::codec::text::TextEncoding;

/// Bytes per dump row.
pub const ROW_BYTES: usize = 16;

/// One row of a dump: `offset`, the hex of up to 16 bytes, and the text of the characters
/// that start in those bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DumpRow {
    /// Offset of the row's first byte.
    pub offset: usize,
    /// `68 65 6C ...`, grouped 8 + 8, padded to full width.
    pub hex: String,
    /// One cell per byte: a character at the byte it starts with, `.` for bytes that do
    /// not decode or are control characters, and padding after a multibyte character.
    pub text: String,
}

/// The characters of `bytes` decoded with `encoding`, each with the offset of its first byte
/// and its length in bytes; `None` for a byte that is not part of a valid character.
pub fn decode_positions(bytes: &[u8], encoding: TextEncoding) -> Vec<(usize, usize, Option<char>)> {
    let mut decoder = encoding.encoding().new_decoder_without_bom_handling();
    let mut out = Vec::with_capacity(bytes.len());
    let mut start = 0;
    let mut buf = String::with_capacity(16);
    for (i, byte) in bytes.iter().enumerate() {
        buf.clear();
        let last = i + 1 == bytes.len();
        let (result, _) = decoder.decode_to_string_without_replacement(
            std::slice::from_ref(byte),
            &mut buf,
            last,
        );
        if let DecoderResult::Malformed(bad, _) = result {
            // The malformed bytes end here; earlier bytes of the pending run are shown raw.
            let bad = usize::from(bad);
            let first_bad = (i + 1).saturating_sub(bad).max(start);
            for b in start..first_bad.max(start) {
                out.push((b, 1, None));
            }
            for b in first_bad..=i {
                out.push((b, 1, None));
            }
            start = i + 1;
            decoder = encoding.encoding().new_decoder_without_bom_handling();
            continue;
        }
        let chars: Vec<char> = buf.chars().collect();
        match chars.as_slice() {
            [] => {}
            [c] => {
                out.push((start, i + 1 - start, Some(*c)));
                start = i + 1;
            }
            many => {
                // Several characters at once (a decoder flushing): give each one byte.
                for (k, c) in many.iter().enumerate() {
                    out.push((start + k.min(i - start), 1, Some(*c)));
                }
                start = i + 1;
            }
        }
    }
    for b in start..bytes.len() {
        out.push((b, 1, None)); // an incomplete character at the end
    }
    out
}

/// A dump of `bytes`, 16 per row, with the text column decoded with `encoding`.
pub fn dump_rows(bytes: &[u8], encoding: TextEncoding) -> Vec<DumpRow> {
    let mut rows: Vec<DumpRow> = bytes
        .chunks(ROW_BYTES)
        .enumerate()
        .map(|(i, chunk)| {
            let mut hex = String::with_capacity(ROW_BYTES * 3 + 1);
            for (k, b) in chunk.iter().enumerate() {
                if k == 8 {
                    hex.push(' ');
                }
                let _ = write!(hex, "{b:02X} ");
            }
            let width = ROW_BYTES * 3 + 1;
            while hex.chars().count() < width {
                hex.push(' ');
            }
            DumpRow {
                offset: i * ROW_BYTES,
                hex,
                text: String::new(),
            }
        })
        .collect();
    for (offset, len, ch) in decode_positions(bytes, encoding) {
        let Some(row) = rows.get_mut(offset / ROW_BYTES) else {
            continue;
        };
        match ch {
            Some(c) if !c.is_control() => {
                row.text.push(c);
                // Keep the cells aligned: a wide (CJK) glyph covers two of them.
                let wide = usize::from(c as u32 >= 0x1100);
                for _ in 0..len.saturating_sub(1 + wide) {
                    row.text.push(' ');
                }
            }
            _ => {
                for _ in 0..len {
                    row.text.push('.');
                }
            }
        }
    }
    rows
}

/// The dump as text lines: `00000000  68 65 ...  text`.
pub fn dump_text(bytes: &[u8], encoding: TextEncoding) -> String {
    let mut out = String::new();
    for row in dump_rows(bytes, encoding) {
        let _ = writeln!(out, "{:08X}  {} {}", row.offset, row.hex, row.text);
    }
    out
}

/// `{ 0x68, 0x69 }` as a C array initializer, 16 bytes per line.
pub fn c_literal(bytes: &[u8]) -> String {
    let mut out = format!("unsigned char data[{}] = {{", bytes.len());
    for (i, b) in bytes.iter().enumerate() {
        if i % 16 == 0 {
            out.push_str("\n    ");
        } else {
            out.push(' ');
        }
        let _ = write!(out, "0x{b:02x},");
    }
    out.push_str("\n};");
    out
}

/// `b'hi\x00'`: a Python bytes literal (printable ASCII as is, the rest escaped).
pub fn python_literal(bytes: &[u8]) -> String {
    let mut out = String::from("b'");
    for &b in bytes {
        match b {
            b'\\' => out.push_str("\\\\"),
            b'\'' => out.push_str("\\'"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            0x20..=0x7e => out.push(char::from(b)),
            _ => {
                let _ = write!(out, "\\x{b:02x}");
            }
        }
    }
    out.push('\'');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals() {
        let table: [(&[u8], &str); 4] = [
            (b"", "b''"),
            (b"hi", "b'hi'"),
            (b"a'\\\n\x00\xff", "b'a\\'\\\\\\n\\x00\\xff'"),
            (&[0xd6, 0xd0], "b'\\xd6\\xd0'"),
        ];
        for (bytes, python) in table {
            assert_eq!(python_literal(bytes), python);
        }
        assert_eq!(
            c_literal(b"\x01\xab"),
            "unsigned char data[2] = {\n    0x01, 0xab,\n};"
        );
    }

    #[test]
    fn positions_keep_multibyte_characters_whole() {
        type Case<'a> = (&'a [u8], TextEncoding, Vec<(usize, usize, Option<char>)>);
        let table: [Case<'_>; 4] = [
            (
                &[0xd6, 0xd0, b'a'],
                TextEncoding::Gbk,
                vec![(0, 2, Some('中')), (2, 1, Some('a'))],
            ),
            (
                "a中".as_bytes(),
                TextEncoding::Utf8,
                vec![(0, 1, Some('a')), (1, 3, Some('中'))],
            ),
            (
                &[b'x', 0xff, b'y'],
                TextEncoding::Utf8,
                vec![(0, 1, Some('x')), (1, 1, None), (2, 1, Some('y'))],
            ),
            // A character cut off at the end stays undecoded, byte by byte.
            (
                &[b'x', 0xe4, 0xb8],
                TextEncoding::Utf8,
                vec![(0, 1, Some('x')), (1, 1, None), (2, 1, None)],
            ),
        ];
        for (bytes, encoding, expected) in table {
            assert_eq!(decode_positions(bytes, encoding), expected, "{bytes:02x?}");
        }
    }

    #[test]
    fn dump_rows_put_a_character_in_the_row_where_it_starts() {
        let mut bytes = b"0123456789abcde".to_vec(); // 15 bytes
        bytes.extend("中文".as_bytes()); // 中 starts at 15, crosses into row 2
        let rows = dump_rows(&bytes, TextEncoding::Utf8);
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].text, "0123456789abcde中 ");
        assert_eq!(rows[1].offset, 16);
        assert_eq!(rows[1].text, "文 ");
        assert!(rows[0].hex.starts_with("30 31 32 33 34 35 36 37  38"));
        let text = dump_text(&[0xd6, 0xd0, 0xce, 0xc4, 0x0a], TextEncoding::Gbk);
        assert!(text.starts_with("00000000  D6 D0 CE C4 0A"), "{text}");
        assert!(text.trim_end().ends_with("中文."), "{text}");
    }
}
