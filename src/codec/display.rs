//! Making decoded text fit one log row: control characters become visible escapes
//! (`\r`, `\n`, `\t`, `\x1B`) so nothing the peer sent is hidden and rows stay one line high.

use std::borrow::Cow;
use std::fmt::Write;

/// Replaces control characters with visible escapes; text without any is borrowed as is.
pub fn escape_controls(text: &str) -> Cow<'_, str> {
    escape(text, false)
}

/// Like [`escape_controls`], but a `\n` also stays a real line break (after its escape), for
/// multi-line views of one entry.
pub fn escape_controls_keep_lines(text: &str) -> Cow<'_, str> {
    escape(text, true)
}

fn escape(text: &str, keep_lines: bool) -> Cow<'_, str> {
    if !text.chars().any(char::is_control) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\r' => out.push_str("\\r"),
            '\n' if keep_lines => out.push_str("\\n\n"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\0' => out.push_str("\\0"),
            c if c.is_control() => {
                let _ = write!(out, "\\x{:02X}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_controls_and_keeps_the_rest() {
        let table = [
            ("hello", "hello"),
            ("hello\r\n", "hello\\r\\n"),
            ("a\tb\0", "a\\tb\\0"),
            ("\u{1b}[0m", "\\x1B[0m"),
            ("中文\n", "中文\\n"),
            ("\u{7f}", "\\x7F"),
        ];
        for (input, expected) in table {
            assert_eq!(escape_controls(input), expected, "{input:?}");
        }
        assert!(matches!(escape_controls("plain"), Cow::Borrowed(_)));
        assert_eq!(escape_controls_keep_lines("a\r\nb\t"), "a\\r\\n\nb\\t");
    }
}
