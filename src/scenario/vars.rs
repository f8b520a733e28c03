//! Variables: `${NAME}` and `${NAME:FORMAT}` references in payloads and matches (parsed into
//! a [`Template`] with their columns), the values a run holds ([`Vars`]), and expansion into
//! text or bytes.
//!
//! # The hex rule
//! Every value is text. In a `text:` payload or match, `${NAME}` inserts that text (encoded
//! with the file's encoding). In a `hex:` payload or match there is no text to insert into,
//! so `${NAME}` must say which bytes it stands for:
//! - `${NAME}` alone is a number (decimal, or `0x` hex) written as **one byte**: `${seq}` = 1
//!   inserts `01`; a value over 255 or not a number fails the step.
//! - `${NAME:u8}`, `${NAME:u16be}`, `${NAME:u16le}`, `${NAME:u32be}`, `${NAME:u32le}`: the
//!   number in that width and byte order (the `--framing len:` names).
//! - `${NAME:hex}`: the value is hex digits (`set reg = 00 0A`), inserted as those bytes.
//! - `${NAME:text}`: the value's text, encoded with the file's encoding.
//!
//! The same formats work in text payloads (`text:T=${t:u16be}` puts two raw bytes after
//! `T=`). In a `regex:` match a value matches literally (it is regex-escaped). Values are
//! never escape-processed: a captured `\n` stays a backslash and an `n`. `${seq}` is the
//! number of the run's latest send (1 during the first send).

use std::collections::BTreeMap;

use crate::codec::escape::{Piece, literal, unescape};
use crate::codec::framing::LengthWidth;
use crate::codec::hex::parse_hex;
use crate::codec::send::{SendError, SendOptions, encode_pieces, finish_payload};
use crate::codec::text::{TextEncoding, encode_strict};

/// The variable every run has: the number of its latest send.
pub const SEQ: &str = "seq";

/// How a reference turns its value into bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// No format written: text in text, one byte in hex.
    Plain,
    /// A number in this width and byte order.
    Int(LengthWidth),
    /// The value is hex digits.
    Hex,
    /// The value's text.
    Text,
}

impl Format {
    fn from_name(name: &str) -> Option<Self> {
        match name {
            "hex" => Some(Format::Hex),
            "text" => Some(Format::Text),
            _ => LengthWidth::ALL
                .into_iter()
                .find(|w| w.name() == name)
                .map(Format::Int),
        }
    }
}

/// One `${NAME[:FORMAT]}`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VarRef {
    /// The variable.
    pub name: String,
    /// How its value becomes bytes.
    pub format: Format,
    /// 1-based column of the `$` in its line.
    pub column: usize,
}

/// A stretch of a template.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Part {
    /// Text as written (escapes not yet applied).
    Literal {
        /// The text.
        text: String,
        /// 1-based column of its first character in the line.
        column: usize,
    },
    /// A variable reference.
    Var(VarRef),
}

/// A payload, pattern or value with its variable references.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Template {
    /// The parts in order.
    pub parts: Vec<Part>,
}

/// Why a reference cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VarError {
    /// `${` without its `}`.
    #[error("'${{' without a closing '}}'")]
    Unclosed,
    /// A name that is not letters, digits, `_` or `-` (starting with a letter or `_`).
    #[error("'{0}' is not a variable name (letters, digits, _ and -, starting with a letter)")]
    BadName(String),
    /// A format that is not one of u8, u16be, u16le, u32be, u32le, hex, text.
    #[error("unknown variable format '{0}' (expected u8, u16be, u16le, u32be, u32le, hex or text)")]
    UnknownFormat(String),
}

/// Whether `name` can name a variable.
pub fn is_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

impl Template {
    /// Parses `text`, which starts at 1-based `column` of its line.
    ///
    /// # Errors
    /// The [`VarError`] and the column of the reference that is wrong.
    pub fn parse(text: &str, column: usize) -> Result<Self, (VarError, usize)> {
        let mut parts = Vec::new();
        let mut rest = text;
        let mut col = column;
        while let Some(at) = rest.find("${") {
            if rest[..at].ends_with('$') {
                // `$${` is a literal `${`: the text up to and with the first `$`, then `{`.
                let mut text = rest[..at].to_string();
                text.push('{');
                parts.push(Part::Literal { text, column: col });
                col += rest[..at].chars().count() + 2;
                rest = &rest[at + 2..];
                continue;
            }
            let literal = &rest[..at];
            if !literal.is_empty() {
                parts.push(Part::Literal {
                    text: literal.to_string(),
                    column: col,
                });
            }
            col += literal.chars().count();
            let after = &rest[at + 2..];
            let Some(close) = after.find('}') else {
                return Err((VarError::Unclosed, col));
            };
            let inner = &after[..close];
            let (name, format) = match inner.split_once(':') {
                Some((name, format)) => (
                    name,
                    Format::from_name(format)
                        .ok_or_else(|| (VarError::UnknownFormat(format.to_string()), col))?,
                ),
                None => (inner, Format::Plain),
            };
            if !is_name(name) {
                return Err((VarError::BadName(name.to_string()), col));
            }
            parts.push(Part::Var(VarRef {
                name: name.to_string(),
                format,
                column: col,
            }));
            col += inner.chars().count() + 3;
            rest = &after[close + 1..];
        }
        if !rest.is_empty() {
            parts.push(Part::Literal {
                text: rest.to_string(),
                column: col,
            });
        }
        Ok(Self { parts })
    }

    /// The text when it holds no reference.
    pub fn literal(&self) -> Option<String> {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                Part::Literal { text, .. } => out.push_str(text),
                Part::Var(_) => return None,
            }
        }
        Some(out)
    }

    /// The references, in order.
    pub fn vars(&self) -> impl Iterator<Item = &VarRef> {
        self.parts.iter().filter_map(|p| match p {
            Part::Var(v) => Some(v),
            Part::Literal { .. } => None,
        })
    }
}

/// The values of one run.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Vars {
    values: BTreeMap<String, String>,
    seq: u64,
}

/// Why a template could not be expanded at run time.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, serde::Serialize, serde::Deserialize)]
pub enum ExpandError {
    /// The variable has no value yet (its `set` or capture has not run).
    #[error("variable '{0}' has no value yet")]
    Unset(String),
    /// A number was needed.
    #[error(
        "variable '{name}' = '{value}' is not a number (in hex write ${{{name}:hex}} for hex digits or ${{{name}:text}} for its text)"
    )]
    NotANumber {
        /// The variable.
        name: String,
        /// Its value.
        value: String,
    },
    /// The number does not fit the width.
    #[error("variable '{name}' = {value} does not fit {}", .width.name())]
    TooBig {
        /// The variable.
        name: String,
        /// Its value.
        value: u64,
        /// The width it was to fill.
        width: LengthWidth,
    },
    /// `:hex` on a value that is not hex digits.
    #[error("variable '{name}' = '{value}' is not hex digits")]
    NotHex {
        /// The variable.
        name: String,
        /// Its value.
        value: String,
    },
    /// A regex that does not compile once values are inserted.
    #[error("invalid regex with the values inserted: {0}")]
    Regex(String),
    /// The expanded payload cannot be built (an unencodable character, nothing to send).
    #[error("{0}")]
    Send(#[from] SendError),
}

impl Vars {
    /// Values given from outside the file (`--var NAME=VALUE`).
    pub fn with(values: impl IntoIterator<Item = (String, String)>) -> Self {
        Self {
            values: values.into_iter().collect(),
            seq: 0,
        }
    }

    /// Puts back the values given from outside (a new case starts from them); `seq` goes on
    /// counting the run's sends.
    pub fn reset(&mut self, values: impl IntoIterator<Item = (String, String)>) {
        self.values = values.into_iter().collect();
    }

    /// The value of `name`, `seq` included.
    pub fn get(&self, name: &str) -> Option<String> {
        if name == SEQ {
            return Some(self.seq.to_string());
        }
        self.values.get(name).cloned()
    }

    /// Sets `name` (`seq` is the run's own and cannot be set).
    pub fn set(&mut self, name: &str, value: String) {
        if name != SEQ {
            self.values.insert(name.to_string(), value);
        }
    }

    /// Sets `seq` as it is during a source's send number `seq` (a send box, a periodic
    /// send: each counts its own sends).
    pub fn set_seq(&mut self, seq: u64) {
        self.seq = seq;
    }

    /// Counts one more send; returns the new `seq`.
    pub fn next_seq(&mut self) -> u64 {
        self.seq += 1;
        self.seq
    }

    /// Every value set, in name order (without `seq`).
    pub fn values(&self) -> &BTreeMap<String, String> {
        &self.values
    }

    fn value(&self, name: &str) -> Result<String, ExpandError> {
        self.get(name)
            .ok_or_else(|| ExpandError::Unset(name.to_string()))
    }

    /// The bytes a reference stands for, in a hex template (`text` false) or a text one.
    fn bytes_of(
        &self,
        var: &VarRef,
        encoding: TextEncoding,
        in_text: bool,
    ) -> Result<Vec<u8>, ExpandError> {
        let value = self.value(&var.name)?;
        let number = |width: LengthWidth| -> Result<Vec<u8>, ExpandError> {
            let n = parse_number(&value).ok_or_else(|| ExpandError::NotANumber {
                name: var.name.clone(),
                value: value.clone(),
            })?;
            int_bytes(n, width).ok_or(ExpandError::TooBig {
                name: var.name.clone(),
                value: n,
                width,
            })
        };
        match var.format {
            Format::Plain if in_text => {
                Ok(encode_strict(&value, encoding).map_err(SendError::from)?)
            }
            Format::Text => Ok(encode_strict(&value, encoding).map_err(SendError::from)?),
            Format::Plain => number(LengthWidth::U8),
            Format::Int(width) => number(width),
            Format::Hex => parse_hex(&value).map_err(|_| ExpandError::NotHex {
                name: var.name.clone(),
                value,
            }),
        }
    }

    /// The template as text: values inserted as they are (`set` values, file paths).
    ///
    /// # Errors
    /// [`ExpandError::Unset`].
    pub fn text(&self, template: &Template) -> Result<String, ExpandError> {
        let mut out = String::new();
        for part in &template.parts {
            match part {
                Part::Literal { text, .. } => out.push_str(text),
                Part::Var(var) => out.push_str(&self.value(&var.name)?),
            }
        }
        Ok(out)
    }

    /// A regex with values inserted literally (regex-escaped).
    ///
    /// # Errors
    /// [`ExpandError::Unset`].
    pub fn regex(&self, template: &Template) -> Result<String, ExpandError> {
        let mut out = String::new();
        for part in &template.parts {
            match part {
                Part::Literal { text, .. } => out.push_str(text),
                Part::Var(var) => out.push_str(&regex::escape(&self.value(&var.name)?)),
            }
        }
        Ok(out)
    }

    /// The bytes of a template: hex parsed, or text unescaped and encoded; values as the
    /// hex rule says. No line ending or checksum.
    ///
    /// # Errors
    /// [`ExpandError`] for an unset variable, a value that does not fit, or literal text that
    /// is not valid (already checked when the file was read).
    pub fn body(
        &self,
        template: &Template,
        hex: bool,
        encoding: TextEncoding,
    ) -> Result<Vec<u8>, ExpandError> {
        self.body_with(template, hex, true, encoding)
    }

    /// [`Vars::body`], with text escapes applied only when `escapes` (a send box can turn
    /// them off; scenario files always have them).
    fn body_with(
        &self,
        template: &Template,
        hex: bool,
        escapes: bool,
        encoding: TextEncoding,
    ) -> Result<Vec<u8>, ExpandError> {
        let mut pieces: Vec<Piece> = Vec::new();
        for part in &template.parts {
            match part {
                Part::Literal { text, .. } if hex => pieces.extend(
                    parse_hex(text)
                        .map_err(SendError::from)?
                        .into_iter()
                        .map(Piece::Byte),
                ),
                Part::Literal { text, .. } if escapes => {
                    pieces.extend(unescape(text).map_err(SendError::from)?);
                }
                Part::Literal { text, .. } => pieces.extend(literal(text)),
                Part::Var(var) => pieces.extend(
                    self.bytes_of(var, encoding, !hex)?
                        .into_iter()
                        .map(Piece::Byte),
                ),
            }
        }
        Ok(encode_pieces(&pieces, encoding)?)
    }

    /// The exact bytes a `send` emits: [`Vars::body`] (text escapes as `options` say), then
    /// the line ending and checksum.
    ///
    /// # Errors
    /// As [`Vars::body`], and [`SendError::Empty`] for nothing to send.
    pub fn payload(
        &self,
        template: &Template,
        options: &SendOptions,
    ) -> Result<Vec<u8>, ExpandError> {
        let body = self.body_with(template, options.hex, options.escapes, options.encoding)?;
        if body.is_empty() && options.line_ending == crate::codec::send::LineEnding::None {
            return Err(SendError::Empty.into());
        }
        Ok(finish_payload(body, options))
    }
}

/// A decimal or `0x` hex number.
fn parse_number(text: &str) -> Option<u64> {
    let text = text.trim();
    match text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None => text.parse().ok(),
    }
}

/// `n` in `width` bytes, or `None` when it does not fit.
fn int_bytes(n: u64, width: LengthWidth) -> Option<Vec<u8>> {
    Some(match width {
        LengthWidth::U8 => vec![u8::try_from(n).ok()?],
        LengthWidth::U16Be => u16::try_from(n).ok()?.to_be_bytes().to_vec(),
        LengthWidth::U16Le => u16::try_from(n).ok()?.to_le_bytes().to_vec(),
        LengthWidth::U32Be => u32::try_from(n).ok()?.to_be_bytes().to_vec(),
        LengthWidth::U32Le => u32::try_from(n).ok()?.to_le_bytes().to_vec(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::checksum::Checksum;

    fn template(text: &str) -> Template {
        Template::parse(text, 1).expect("valid template")
    }

    #[test]
    fn parses_references_with_columns() {
        let t = Template::parse("ACK ${t}\\r\\n", 10).expect("valid");
        assert_eq!(
            t.parts,
            vec![
                Part::Literal {
                    text: "ACK ".into(),
                    column: 10
                },
                Part::Var(VarRef {
                    name: "t".into(),
                    format: Format::Plain,
                    column: 14
                }),
                Part::Literal {
                    text: "\\r\\n".into(),
                    column: 18
                },
            ]
        );
        let t = template("01 ${seq:u16be}");
        assert_eq!(
            t.vars().next().map(|v| v.format),
            Some(Format::Int(LengthWidth::U16Be))
        );
        assert_eq!(template("a").literal().as_deref(), Some("a"));
        assert_eq!(template("${a}").literal(), None);
        let errors = [
            ("ab ${x", VarError::Unclosed, 4),
            ("${1x}", VarError::BadName("1x".into()), 1),
            ("a${}", VarError::BadName(String::new()), 2),
            ("中${x:u24}", VarError::UnknownFormat("u24".into()), 2),
        ];
        for (text, error, column) in errors {
            assert_eq!(Template::parse(text, 1), Err((error, column)), "{text}");
        }
    }

    #[test]
    fn expands_by_the_hex_rule() {
        let mut vars = Vars::with([
            ("t".to_string(), "21.5".to_string()),
            ("reg".to_string(), "00 0A".to_string()),
            ("big".to_string(), "300".to_string()),
            ("name".to_string(), "中".to_string()),
        ]);
        vars.next_seq();
        let utf8 = TextEncoding::Utf8;
        let table: [(&str, bool, TextEncoding, &[u8]); 9] = [
            ("ACK ${t}\\r\\n", false, utf8, b"ACK 21.5\r\n"),
            ("01 03 00 ${seq} 00 01", true, utf8, &[1, 3, 0, 1, 0, 1]),
            ("${big:u16be}", true, utf8, &[0x01, 0x2C]),
            ("${big:u16le}", true, utf8, &[0x2C, 0x01]),
            ("${big:u32be}", true, utf8, &[0, 0, 1, 0x2C]),
            ("01 ${reg:hex}", true, utf8, &[1, 0, 0x0A]),
            ("${name:text}", true, TextEncoding::Gbk, &[0xD6, 0xD0]),
            ("${name}", false, TextEncoding::Gbk, &[0xD6, 0xD0]),
            ("T=${seq:u8}", false, utf8, b"T=\x01"),
        ];
        for (text, hex, encoding, want) in table {
            assert_eq!(
                vars.body(&template(text), hex, encoding).as_deref(),
                Ok(want),
                "{text}"
            );
        }
        let failures = [
            ("${big}", "does not fit u8"),
            ("${t}", "is not a number"),
            ("${name:hex}", "is not hex digits"),
            ("${nope}", "has no value yet"),
        ];
        for (text, message) in failures {
            let error = vars.body(&template(text), true, utf8).expect_err(text);
            assert!(error.to_string().contains(message), "{text}: {error}");
        }
        let options = SendOptions {
            hex: true,
            checksum: Checksum::Crc16Modbus,
            ..SendOptions::default()
        };
        let bytes = vars
            .payload(&template("01 03 00 00 00 ${seq:hex}0A"), &options)
            .expect_err("1 is odd hex");
        assert!(bytes.to_string().contains("not hex"), "{bytes}");
        let bytes = vars
            .payload(&template("01 03 00 00 00 0A"), &options)
            .expect("payload");
        assert_eq!(bytes, [1, 3, 0, 0, 0, 0x0A, 0xC5, 0xCD]);
        assert_eq!(vars.regex(&template("a.${t}")).as_deref(), Ok("a.21\\.5"));
        assert_eq!(vars.text(&template("v=${t}")).as_deref(), Ok("v=21.5"));
        vars.set(SEQ, "9".into());
        assert_eq!(vars.get(SEQ).as_deref(), Some("1"), "seq is the run's own");
    }
}
