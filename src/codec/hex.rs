//! Hex in both directions: parsing what a user types in the send box (`31 32 33`, `313233`,
//! `0x31 0x32`, `31,32`) and formatting received bytes as `68 65 6C` with a lookup table.

/// Why hex input could not be parsed. Positions are 1-based character columns, as a user
/// counts them in the send box.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, serde::Serialize, serde::Deserialize)]
pub enum HexError {
    /// A character that is not a hex digit or separator.
    #[error("'{ch}' at column {column} is not a hex digit")]
    InvalidChar {
        /// The offending character.
        ch: char,
        /// 1-based column in the input.
        column: usize,
    },
    /// A group with an odd number of digits, e.g. `123`.
    #[error("'{group}' at column {column} has an odd number of hex digits")]
    OddDigits {
        /// The group as typed.
        group: String,
        /// 1-based column where the group starts.
        column: usize,
    },
}

impl HexError {
    /// The 1-based column of what is wrong.
    pub fn column(&self) -> usize {
        match self {
            HexError::InvalidChar { column, .. } | HexError::OddDigits { column, .. } => *column,
        }
    }
}

fn is_separator(c: char) -> bool {
    c.is_whitespace() || matches!(c, ',' | ';' | ':' | '-')
}

/// Parses hex typed by a user. Groups are separated by whitespace, `,`, `;`, `:` or `-`;
/// each group may start with `0x`/`0X` and must hold an even number of digits.
///
/// # Errors
/// [`HexError`] naming the first bad character or odd-length group.
pub fn parse_hex(input: &str) -> Result<Vec<u8>, HexError> {
    let mut out = Vec::with_capacity(input.len() / 2);
    let mut chars = input.char_indices().peekable();
    let column_of = |byte_index: usize| input[..byte_index].chars().count() + 1;
    while let Some(&(start, c)) = chars.peek() {
        if is_separator(c) {
            chars.next();
            continue;
        }
        let mut end = start;
        while let Some(&(i, c)) = chars.peek() {
            if is_separator(c) {
                break;
            }
            end = i + c.len_utf8();
            chars.next();
        }
        let group = &input[start..end];
        let digits = group
            .strip_prefix("0x")
            .or_else(|| group.strip_prefix("0X"))
            .unwrap_or(group);
        let digits_start = start + (group.len() - digits.len());
        if let Some((i, ch)) = digits.char_indices().find(|(_, c)| !c.is_ascii_hexdigit()) {
            return Err(HexError::InvalidChar {
                ch,
                column: column_of(digits_start + i),
            });
        }
        if !digits.len().is_multiple_of(2) {
            return Err(HexError::OddDigits {
                group: group.to_string(),
                column: column_of(start),
            });
        }
        let bytes = ::hex::decode(digits).map_err(|_| HexError::InvalidChar {
            ch: '?',
            column: column_of(digits_start),
        })?;
        out.extend_from_slice(&bytes);
    }
    Ok(out)
}

const UPPER: &[u8; 16] = b"0123456789ABCDEF";

/// Appends `bytes` to `out` as upper-case hex pairs separated by single spaces
/// (`68 65 6C`), using a lookup table rather than per-byte formatting.
pub fn push_hex_spaced(out: &mut String, bytes: &[u8]) {
    out.reserve(bytes.len() * 3);
    let mut buf = Vec::with_capacity(bytes.len() * 3);
    for (i, &b) in bytes.iter().enumerate() {
        if i > 0 {
            buf.push(b' ');
        }
        buf.push(UPPER[usize::from(b >> 4)]);
        buf.push(UPPER[usize::from(b & 0x0F)]);
    }
    // Only ASCII hex digits and spaces were written.
    out.push_str(std::str::from_utf8(&buf).unwrap_or_default());
}

/// `bytes` as upper-case hex pairs separated by spaces, e.g. `68 65 6C 6C 6F`.
pub fn to_hex_spaced(bytes: &[u8]) -> String {
    let mut out = String::new();
    push_hex_spaced(&mut out, bytes);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_accepted_forms() {
        let table: [(&str, &[u8]); 9] = [
            ("31 32 33", b"123"),
            ("313233", b"123"),
            ("0x31 0x32", b"12"),
            ("0X31,0x32;33", b"123"),
            ("  31\n32\t33  ", b"123"),
            ("de:ad-BE-ef", &[0xde, 0xad, 0xbe, 0xef]),
            ("d6d0cec4", &[0xd6, 0xd0, 0xce, 0xc4]),
            ("", b""),
            ("   ", b""),
        ];
        for (input, expected) in table {
            assert_eq!(parse_hex(input).as_deref(), Ok(expected), "{input:?}");
        }
    }

    #[test]
    fn rejects_bad_input_with_position() {
        assert_eq!(
            parse_hex("3G"),
            Err(HexError::InvalidChar { ch: 'G', column: 2 })
        );
        assert_eq!(
            parse_hex("31 323"),
            Err(HexError::OddDigits {
                group: "323".into(),
                column: 4
            })
        );
        assert_eq!(
            parse_hex("0x"),
            Ok(vec![]),
            "a bare prefix is an empty group"
        );
        assert_eq!(
            parse_hex("中文"),
            Err(HexError::InvalidChar {
                ch: '中',
                column: 1
            })
        );
        assert_eq!(
            parse_hex("31 0xZZ"),
            Err(HexError::InvalidChar { ch: 'Z', column: 6 })
        );
        assert!(parse_hex("1").is_err());
    }

    #[test]
    fn formats_spaced_upper_hex() {
        assert_eq!(to_hex_spaced(b"hello"), "68 65 6C 6C 6F");
        assert_eq!(to_hex_spaced(&[]), "");
        assert_eq!(to_hex_spaced(&[0x00, 0xff, 0x0a]), "00 FF 0A");
        let all: Vec<u8> = (0..=255).collect();
        let expected: Vec<String> = all.iter().map(|b| format!("{b:02X}")).collect();
        assert_eq!(to_hex_spaced(&all), expected.join(" "));
    }
}
