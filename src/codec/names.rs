//! The names of the send pipeline's choices as users write them: checksums (`crc16-modbus`),
//! line endings (`crlf`) and text encodings (`gbk`). One parser each, shared by the command
//! line (`--checksum`, `--line-ending`, `--encoding`) and scenario files, so both accept the
//! same words and refuse others with the same message.

use crate::codec::checksum::Checksum;
use crate::codec::send::LineEnding;
use crate::codec::text::TextEncoding;

/// Which kind of name was not recognized.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum NameKind {
    /// A checksum algorithm.
    Checksum,
    /// A line ending.
    LineEnding,
    /// A text encoding.
    Encoding,
}

impl NameKind {
    /// Every accepted name of this kind, in menu order.
    pub fn accepted(self) -> Vec<&'static str> {
        match self {
            NameKind::Checksum => Checksum::ALL.iter().map(|c| c.name()).collect(),
            NameKind::LineEnding => LineEnding::ALL.iter().map(|l| l.name()).collect(),
            NameKind::Encoding => TextEncoding::ALL.iter().map(|e| e.label()).collect(),
        }
    }

    /// What the kind is called in messages.
    pub fn noun(self) -> &'static str {
        match self {
            NameKind::Checksum => "checksum",
            NameKind::LineEnding => "line ending",
            NameKind::Encoding => "encoding",
        }
    }
}

/// A name that is not one of its kind's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {} '{given}' (expected {})", kind.noun(), expected_list(*kind))]
pub struct UnknownName {
    /// What was looked up.
    pub kind: NameKind,
    /// The name as given.
    pub given: String,
}

fn expected_list(kind: NameKind) -> String {
    let names = kind.accepted();
    match kind {
        NameKind::LineEnding => match names.split_last() {
            Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
            None => String::new(),
        },
        _ => format!("one of {}", names.join(", ")),
    }
}

fn unknown(kind: NameKind, given: &str) -> UnknownName {
    UnknownName {
        kind,
        given: given.to_string(),
    }
}

/// A checksum by its name (`none`, `sum8`, `xor8`, `crc16-modbus`, ...).
///
/// # Errors
/// [`UnknownName`] listing the accepted names.
pub fn checksum(text: &str) -> Result<Checksum, UnknownName> {
    Checksum::from_name(text).ok_or_else(|| unknown(NameKind::Checksum, text))
}

/// A line ending by its name (`none`, `cr`, `lf`, `crlf`).
///
/// # Errors
/// [`UnknownName`] listing the accepted names.
pub fn line_ending(text: &str) -> Result<LineEnding, UnknownName> {
    LineEnding::from_name(text).ok_or_else(|| unknown(NameKind::LineEnding, text))
}

/// A text encoding by its label (`utf-8`, `gbk`, `gb18030`, ...).
///
/// # Errors
/// [`UnknownName`] listing the accepted labels.
pub fn encoding(text: &str) -> Result<TextEncoding, UnknownName> {
    TextEncoding::from_label(text).ok_or_else(|| unknown(NameKind::Encoding, text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_messages() {
        assert_eq!(checksum("crc16-modbus"), Ok(Checksum::Crc16Modbus));
        assert_eq!(line_ending("CRLF"), Ok(LineEnding::CrLf));
        assert_eq!(encoding("gbk"), Ok(TextEncoding::Gbk));
        let table = [
            (
                line_ending("lfcr").expect_err("bad").to_string(),
                "unknown line ending 'lfcr' (expected none, cr, lf or crlf)",
            ),
            (
                checksum("md5").expect_err("bad").to_string(),
                "unknown checksum 'md5' (expected one of none, sum8, xor8, crc16-modbus, crc16-ccitt, crc32)",
            ),
        ];
        for (got, want) in table {
            assert_eq!(got, want);
        }
        let error = encoding("latin9").expect_err("bad").to_string();
        assert!(
            error.starts_with("unknown encoding 'latin9' (expected one of UTF-8, GBK"),
            "{error}"
        );
    }
}
