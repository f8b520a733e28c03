//! What a load run sends: `--send text:…` or `hex:…` (split by the same code as `--reply`'s
//! replies), shaped by the send options (escapes, encoding, line ending, checksum), with the
//! scenario variables `${seq}` and `${conn}` expanded by the scenario module's own code, so
//! the hex rule and the formats (`${seq:u16be}`, ...) are the ones scenario files have.
//! A payload without variables is built once.

use std::sync::Arc;

use crate::codec::send::{SendOptions, build_payload, split_payload};
use crate::scenario::vars::{ExpandError, Template, Vars};

/// The variable holding the connection's number (1 for the first connection opened).
pub const CONN: &str = "conn";

/// Why `--send` cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PayloadError {
    /// No `text:` or `hex:` prefix (the `--reply` message).
    #[error("{0}")]
    Prefix(#[from] crate::codec::send::PayloadPrefixError),
    /// A `${…}` reference that cannot be read (the scenario message), at a 1-based column.
    #[error("--send column {column}: {error}")]
    Var {
        /// What is wrong.
        error: crate::scenario::vars::VarError,
        /// Where, within the payload as written.
        column: usize,
    },
    /// A variable other than `seq` and `conn`.
    #[error("--send: unknown variable '{0}' (a load run has ${{seq}} and ${{conn}})")]
    UnknownVar(String),
    /// The payload cannot become bytes (invalid hex, a bad escape, nothing to send), or a
    /// variable's value does not fit (the scenario message).
    #[error("--send: {0}")]
    Expand(#[from] ExpandError),
}

/// A payload ready to send: fixed bytes, or a template expanded per message.
#[derive(Clone, Debug)]
pub enum LoadPayload {
    /// The same bytes every time.
    Fixed(bytes::Bytes),
    /// Expanded with the connection's `${conn}` and the message's `${seq}`.
    Template {
        /// The parsed payload.
        template: Arc<Template>,
        /// How it becomes bytes.
        options: SendOptions,
    },
}

impl LoadPayload {
    /// Parses `text:T` or `hex:HH..` with `options` (their `hex` flag is set by the prefix).
    ///
    /// # Errors
    /// [`PayloadError`] naming what is wrong; a template is checked by expanding it with
    /// `conn` = 1 and `seq` = 1.
    pub fn parse(written: &str, options: &SendOptions) -> Result<Self, PayloadError> {
        let payload = split_payload(written)?;
        let options = SendOptions {
            hex: payload.hex,
            ..*options
        };
        let column = written[..payload.body_offset].chars().count() + 1;
        let template = Template::parse(payload.body, column)
            .map_err(|(error, column)| PayloadError::Var { error, column })?;
        if let Some(text) = template.literal() {
            let bytes = build_payload(&text, &options).map_err(ExpandError::from)?;
            return Ok(Self::Fixed(bytes.into()));
        }
        if let Some(var) = template
            .vars()
            .find(|v| v.name != CONN && v.name != crate::scenario::vars::SEQ)
        {
            return Err(PayloadError::UnknownVar(var.name.clone()));
        }
        let parsed = Self::Template {
            template: Arc::new(template),
            options,
        };
        parsed.bytes(&mut MessageVars::new(1))?;
        Ok(parsed)
    }

    /// The bytes of the next message of a connection (`vars` counts its `${seq}`).
    ///
    /// # Errors
    /// [`ExpandError`] when a value does not fit its format (`${seq}` past 255 in hex).
    pub fn bytes(&self, vars: &mut MessageVars) -> Result<bytes::Bytes, ExpandError> {
        vars.vars.next_seq();
        match self {
            Self::Fixed(bytes) => Ok(bytes.clone()),
            Self::Template { template, options } => {
                Ok(vars.vars.payload(template, options)?.into())
            }
        }
    }
}

/// One connection's variables: `${conn}` fixed, `${seq}` counting its messages (1 for the
/// first).
#[derive(Clone, Debug)]
pub struct MessageVars {
    vars: Vars,
}

impl MessageVars {
    /// The variables of connection number `conn`, before its first message.
    pub fn new(conn: u64) -> Self {
        Self {
            vars: Vars::with([(CONN.to_string(), conn.to_string())]),
        }
    }

    /// The variables of connection number `conn` during its first message (`${seq}` = 1).
    pub fn first(conn: u64) -> Self {
        let mut vars = Self::new(conn);
        vars.vars.next_seq();
        vars
    }

    /// The values as the scenario module holds them (for expectations with variables).
    pub fn vars(&self) -> &Vars {
        &self.vars
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::checksum::Checksum;
    use crate::codec::send::LineEnding;

    fn parse(text: &str) -> Result<LoadPayload, PayloadError> {
        LoadPayload::parse(text, &SendOptions::default())
    }

    #[test]
    fn payloads_expand_seq_and_conn_per_message() {
        let table: [(&str, u64, &[&[u8]]); 4] = [
            ("text:ping", 3, &[b"ping", b"ping"]),
            ("text:c${conn} m${seq}", 7, &[b"c7 m1", b"c7 m2"]),
            ("hex:01 ${seq:u16be}", 1, &[&[1, 0, 1], &[1, 0, 2]]),
            ("hex:AA ${conn}", 2, &[&[0xAA, 2], &[0xAA, 2]]),
        ];
        for (text, conn, want) in table {
            let payload = parse(text).expect(text);
            let mut vars = MessageVars::new(conn);
            for expected in want {
                let got = payload.bytes(&mut vars).expect("bytes");
                assert_eq!(&got[..], *expected, "{text}");
            }
        }
    }

    #[test]
    fn send_options_shape_the_payload() {
        let options = SendOptions {
            escapes: true,
            line_ending: LineEnding::CrLf,
            checksum: Checksum::Sum8,
            ..SendOptions::default()
        };
        let payload = LoadPayload::parse("text:a\\tb${seq}", &options).expect("payload");
        let bytes = payload.bytes(&mut MessageVars::new(1)).expect("bytes");
        let body = b"a\tb1\r\n";
        let sum = body.iter().fold(0u8, |a, b| a.wrapping_add(*b));
        assert_eq!(&bytes[..], [&body[..], &[sum]].concat());
    }

    #[test]
    fn bad_payloads_say_what_is_wrong() {
        let table = [
            ("ping", "payload 'ping' must start with text: or hex:"),
            ("hex:0G", "invalid hex"),
            ("text:${x", "--send column 6: '${' without a closing '}'"),
            ("text:${n}", "unknown variable 'n'"),
            ("hex:${conn:u24}", "unknown variable format 'u24'"),
            ("text:", "nothing to send"),
        ];
        for (text, message) in table {
            let error = parse(text).expect_err(text).to_string();
            assert!(error.contains(message), "{text}: {error}");
        }
        // A value that stops fitting is a run-time error, as in a scenario.
        let payload = parse("hex:${seq}").expect("fits at first");
        let mut vars = MessageVars::new(1);
        for _ in 0..255 {
            payload.bytes(&mut vars).expect("fits in a byte");
        }
        let error = payload.bytes(&mut vars).expect_err("256 does not fit");
        assert!(error.to_string().contains("does not fit u8"), "{error}");
    }
}
