//! Backslash escapes in send-box text: `\r \n \t \\ \0` and `\xNN` (one raw byte). The result
//! is a list of [`Piece`]s: text still to be encoded, and raw bytes that bypass the encoding
//! (so `\xFF` is the byte FF even in UTF-8). A bad escape is an error naming its column.

/// One stretch of unescaped input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Piece {
    /// Text to encode; `column` is the 1-based column of its first character in the input,
    /// so an encoding error inside it can name its place in what the user typed.
    Text {
        /// The text, escapes already replaced.
        text: String,
        /// 1-based column of the first character.
        column: usize,
    },
    /// A raw byte from `\xNN`.
    Byte(u8),
}

/// Why escapes could not be parsed. Columns are 1-based characters, as a user counts them.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, serde::Serialize, serde::Deserialize)]
pub enum EscapeError {
    /// `\` followed by a character that is not an escape.
    #[error("unknown escape '\\{ch}' at column {column} (use \\r \\n \\t \\\\ \\0 or \\xNN)")]
    Unknown {
        /// The character after the backslash.
        ch: char,
        /// Column of the backslash.
        column: usize,
    },
    /// `\x` not followed by two hex digits.
    #[error("'\\x' at column {column} needs two hex digits, e.g. \\x0D")]
    BadHexByte {
        /// Column of the backslash.
        column: usize,
    },
    /// A backslash as the last character.
    #[error("lone '\\' at column {column} (write \\\\ for a backslash)")]
    Trailing {
        /// Column of the backslash.
        column: usize,
    },
}

impl EscapeError {
    /// The 1-based column of the backslash that starts the bad escape.
    pub fn column(&self) -> usize {
        match self {
            EscapeError::Unknown { column, .. }
            | EscapeError::BadHexByte { column }
            | EscapeError::Trailing { column } => *column,
        }
    }

    /// The same error for input that starts `by` columns further right (a piece of a longer
    /// text).
    pub fn shifted(self, by: usize) -> Self {
        match self {
            Self::Unknown { ch, column } => Self::Unknown {
                ch,
                column: column + by,
            },
            Self::BadHexByte { column } => Self::BadHexByte {
                column: column + by,
            },
            Self::Trailing { column } => Self::Trailing {
                column: column + by,
            },
        }
    }
}

/// Replaces escapes in `input`.
///
/// # Errors
/// [`EscapeError`] for the first bad escape.
pub fn unescape(input: &str) -> Result<Vec<Piece>, EscapeError> {
    let mut pieces = Vec::new();
    let mut text = String::new();
    let mut text_column = 1;
    let mut chars = input.chars().enumerate().peekable();
    while let Some((index, ch)) = chars.next() {
        let column = index + 1;
        if ch != '\\' {
            if text.is_empty() {
                text_column = column;
            }
            text.push(ch);
            continue;
        }
        let Some((_, next)) = chars.next() else {
            return Err(EscapeError::Trailing { column });
        };
        let replaced = match next {
            'r' => '\r',
            'n' => '\n',
            't' => '\t',
            '\\' => '\\',
            '0' => '\0',
            'x' | 'X' => {
                let high = chars.next().and_then(|(_, c)| c.to_digit(16));
                let low = chars.next().and_then(|(_, c)| c.to_digit(16));
                let (Some(high), Some(low)) = (high, low) else {
                    return Err(EscapeError::BadHexByte { column });
                };
                if !text.is_empty() {
                    pieces.push(Piece::Text {
                        text: std::mem::take(&mut text),
                        column: text_column,
                    });
                }
                // Two hex digits are at most 0xFF.
                pieces.push(Piece::Byte(
                    u8::try_from(high * 16 + low).unwrap_or(u8::MAX),
                ));
                continue;
            }
            other => return Err(EscapeError::Unknown { ch: other, column }),
        };
        if text.is_empty() {
            text_column = column;
        }
        text.push(replaced);
    }
    if !text.is_empty() {
        pieces.push(Piece::Text {
            text,
            column: text_column,
        });
    }
    Ok(pieces)
}

/// The input as one text piece, untouched (escapes off).
pub fn literal(input: &str) -> Vec<Piece> {
    if input.is_empty() {
        return Vec::new();
    }
    vec![Piece::Text {
        text: input.to_string(),
        column: 1,
    }]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(s: &str, column: usize) -> Piece {
        Piece::Text {
            text: s.into(),
            column,
        }
    }

    #[test]
    fn replaces_every_escape() {
        let table: [(&str, Vec<Piece>); 10] = [
            ("a\\rb", vec![text("a\rb", 1)]),
            ("\\n", vec![text("\n", 1)]),
            ("\\t", vec![text("\t", 1)]),
            ("\\\\", vec![text("\\", 1)]),
            ("\\0", vec![text("\0", 1)]),
            ("\\x41", vec![Piece::Byte(0x41)]),
            ("\\xff\\XfE", vec![Piece::Byte(0xFF), Piece::Byte(0xFE)]),
            (
                "ab\\x0Dcd",
                vec![text("ab", 1), Piece::Byte(0x0D), text("cd", 7)],
            ),
            ("中\\r\\n", vec![text("中\r\n", 1)]),
            ("", vec![]),
        ];
        for (input, expected) in table {
            assert_eq!(unescape(input), Ok(expected), "{input:?}");
        }
    }

    #[test]
    fn rejects_bad_escapes_with_column() {
        let table = [
            ("ab\\q", EscapeError::Unknown { ch: 'q', column: 3 }),
            ("\\x4", EscapeError::BadHexByte { column: 1 }),
            ("x\\xZZ", EscapeError::BadHexByte { column: 2 }),
            ("中文\\", EscapeError::Trailing { column: 3 }),
        ];
        for (input, expected) in table {
            assert_eq!(unescape(input), Err(expected), "{input:?}");
        }
        let message = unescape("\\q").expect_err("bad").to_string();
        assert!(message.contains("column 1"), "{message}");
    }

    #[test]
    fn literal_keeps_backslashes() {
        assert_eq!(literal("a\\n"), vec![text("a\\n", 1)]);
        assert_eq!(literal(""), vec![]);
    }
}
