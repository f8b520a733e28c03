//! Variables outside a scenario run: the send box, quick commands, periodic sends and the
//! headless `--send`/`--send-hex` (with `--repeat`) expand `${seq}` and the user's own values
//! with the scenario language's [`Template`] and [`Vars`], so the hex rule, the formats
//! (`${seq:u16be}`, ...) and the messages are the ones scenario files have.
//!
//! Every send source counts its own `${seq}`: 1 on its first send, one more per send (the
//! send box, each quick command, each periodic job per tick). The user's values are the
//! Scenarios tab's *Variables* in the window and `--var NAME=VALUE` headless. `$${` is a
//! literal `${` (and `$` before anything else is just a `$`). A payload without a reference
//! is built once, as before.

use std::sync::Arc;

use bytes::Bytes;

use super::vars::{ExpandError, SEQ, Template, VarError, Vars};
use crate::codec::send::{SendError, SendOptions, build_payload};

/// Why send-box input cannot become bytes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PayloadError {
    /// The text or hex itself (invalid hex, a bad escape, an unencodable character,
    /// nothing to send).
    #[error("{0}")]
    Send(#[from] SendError),
    /// A `${…}` that cannot be read, at a 1-based column of the input.
    #[error("column {column}: {error}")]
    Var {
        /// What is wrong.
        error: VarError,
        /// Where.
        column: usize,
    },
    /// A `${NAME}` that is neither `seq` nor one of the user's values.
    #[error("column {column}: unknown variable '{name}' (there are ${{seq}} and the values given)")]
    Unknown {
        /// The name.
        name: String,
        /// Where.
        column: usize,
    },
    /// A value that does not fit where it goes (`${seq}` past 255 in hex).
    #[error("{0}")]
    Expand(ExpandError),
}

impl From<ExpandError> for PayloadError {
    fn from(error: ExpandError) -> Self {
        match error {
            ExpandError::Send(e) => Self::Send(e),
            other => Self::Expand(other),
        }
    }
}

/// A payload ready to send again and again: fixed bytes, or a template expanded per send.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SendPayload {
    /// The same bytes every time (no `${…}`).
    Fixed(Bytes),
    /// Expanded for each send with its `${seq}`.
    Template {
        /// The parsed input.
        template: Arc<Template>,
        /// How it becomes bytes.
        options: SendOptions,
        /// The user's values (`seq` is set per send).
        vars: Arc<Vars>,
    },
}

impl From<Bytes> for SendPayload {
    fn from(bytes: Bytes) -> Self {
        Self::Fixed(bytes)
    }
}

impl SendPayload {
    /// Parses send-box `input` (text or hex as `options` say), knowing `values` besides
    /// `seq`.
    ///
    /// # Errors
    /// [`PayloadError`]: a bad or unknown reference, or input without references that cannot
    /// become bytes. A template's values are checked when it is expanded ([`Self::bytes`]).
    pub fn parse(
        input: &str,
        options: &SendOptions,
        values: &[(String, String)],
    ) -> Result<Self, PayloadError> {
        let template = Template::parse(input, 1)
            .map_err(|(error, column)| PayloadError::Var { error, column })?;
        if let Some(text) = template.literal() {
            return Ok(Self::Fixed(build_payload(&text, options)?.into()));
        }
        if let Some(var) = template
            .vars()
            .find(|v| v.name != SEQ && !values.iter().any(|(name, _)| *name == v.name))
        {
            return Err(PayloadError::Unknown {
                name: var.name.clone(),
                column: var.column,
            });
        }
        Ok(Self::Template {
            template: Arc::new(template),
            options: *options,
            vars: Arc::new(Vars::with(values.iter().cloned())),
        })
    }

    /// The bytes of the source's send number `seq` (1 for its first).
    ///
    /// # Errors
    /// [`ExpandError`] when a value does not fit its place or the expansion cannot be sent.
    pub fn bytes(&self, seq: u64) -> Result<Bytes, ExpandError> {
        match self {
            Self::Fixed(bytes) => Ok(bytes.clone()),
            Self::Template {
                template,
                options,
                vars,
            } => {
                let mut vars = Vars::clone(vars);
                vars.set_seq(seq);
                Ok(vars.payload(template, options)?.into())
            }
        }
    }

    /// Whether the bytes change from send to send (they hold `${seq}`).
    pub fn uses_seq(&self) -> bool {
        match self {
            Self::Fixed(_) => false,
            Self::Template { template, .. } => template.vars().any(|v| v.name == SEQ),
        }
    }
}

/// The bytes send-box `input` makes on the source's send number `seq`: parse and expand
/// in one go (the preview, a single send).
///
/// # Errors
/// As [`SendPayload::parse`] and [`SendPayload::bytes`].
pub fn expand(
    input: &str,
    options: &SendOptions,
    values: &[(String, String)],
    seq: u64,
) -> Result<Bytes, PayloadError> {
    Ok(SendPayload::parse(input, options, values)?.bytes(seq)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::checksum::Checksum;
    use crate::codec::send::LineEnding;
    use crate::codec::text::TextEncoding;

    fn text(escapes: bool) -> SendOptions {
        SendOptions {
            escapes,
            ..SendOptions::default()
        }
    }

    fn hex() -> SendOptions {
        SendOptions {
            hex: true,
            ..SendOptions::default()
        }
    }

    #[test]
    fn seq_counts_sends_and_follows_the_hex_rule() {
        let values = [("unit".to_string(), "7".to_string())];
        let table: [(&str, SendOptions, &[&[u8]]); 6] = [
            ("N=${seq}", text(false), &[b"N=1", b"N=2", b"N=3"]),
            ("01 ${seq}", hex(), &[&[1, 1], &[1, 2], &[1, 3]]),
            (
                "${unit} ${seq:u16be}",
                hex(),
                &[&[7, 0, 1], &[7, 0, 2], &[7, 0, 3]],
            ),
            (
                "u${unit}:${seq}\\n",
                text(true),
                &[b"u7:1\n", b"u7:2\n", b"u7:3\n"],
            ),
            // Without escapes a backslash stays, as in a send without variables.
            ("${seq}\\n", text(false), &[b"1\\n", b"2\\n", b"3\\n"]),
            ("plain", text(false), &[b"plain", b"plain", b"plain"]),
        ];
        for (input, options, want) in table {
            let payload = SendPayload::parse(input, &options, &values).expect(input);
            for (seq, expected) in (1..).zip(want) {
                assert_eq!(
                    &payload.bytes(seq).expect(input)[..],
                    *expected,
                    "{input} #{seq}"
                );
            }
        }
    }

    #[test]
    fn options_shape_the_expansion_like_any_send() {
        let options = SendOptions {
            hex: true,
            line_ending: LineEnding::None,
            checksum: Checksum::Crc16Modbus,
            ..SendOptions::default()
        };
        let bytes = expand("01 03 00 ${seq} 00 0A", &options, &[], 0).expect("payload");
        assert_eq!(&bytes[..], [1, 3, 0, 0, 0, 0x0A, 0xC5, 0xCD]);
        let gbk = SendOptions {
            encoding: TextEncoding::Gbk,
            line_ending: LineEnding::CrLf,
            ..SendOptions::default()
        };
        let bytes = expand("中${seq}", &gbk, &[], 2).expect("payload");
        assert_eq!(&bytes[..], [0xD6, 0xD0, b'2', b'\r', b'\n']);
    }

    #[test]
    fn a_literal_dollar_brace_still_sends() {
        let table: [(&str, SendOptions, &[u8]); 5] = [
            ("$${seq}", text(false), b"${seq}"),
            ("cost $5 ${seq}", text(false), b"cost $5 1"),
            ("$$${seq}", text(false), b"$${seq}"),
            ("\\x24{seq}", text(true), b"${seq}"),
            ("a $${b} ${seq}", text(true), b"a ${b} 1"),
        ];
        for (input, options, want) in table {
            assert_eq!(
                expand(input, &options, &[], 1).as_deref(),
                Ok(want),
                "{input}"
            );
        }
    }

    #[test]
    fn bad_references_say_what_and_where() {
        let unknown = expand("ab ${nope}", &text(false), &[], 1).expect_err("unknown");
        assert_eq!(
            unknown,
            PayloadError::Unknown {
                name: "nope".into(),
                column: 4
            }
        );
        assert!(
            unknown.to_string().contains("unknown variable 'nope'"),
            "{unknown}"
        );
        let unclosed = expand("x${seq", &text(false), &[], 1).expect_err("unclosed");
        assert_eq!(
            unclosed,
            PayloadError::Var {
                error: VarError::Unclosed,
                column: 2
            }
        );
        let too_big = expand("${seq}", &hex(), &[], 256).expect_err("does not fit");
        assert!(too_big.to_string().contains("does not fit u8"), "{too_big}");
        let empty = expand("", &text(false), &[], 1).expect_err("nothing");
        assert_eq!(empty, PayloadError::Send(SendError::Empty));
        let bad_hex = expand("0G ${seq}", &hex(), &[], 1).expect_err("bad hex");
        assert!(
            matches!(bad_hex, PayloadError::Send(SendError::Hex(_))),
            "{bad_hex:?}"
        );
    }
}
