//! What counts as an answer: any bytes (the default), one frame of `--framing` (the
//! session framing syntax, cut by the codec's decoder), or what `--expect MATCH` accepts
//! (the `--reply`/scenario match syntax, compared by the scenario module's matcher, with
//! `${seq}`/`${conn}` of the message it answers). [`AnswerReader`] takes one connection's
//! reads in order and counts answers and unexpected answers, pure.
//!
//! - Datagrams and WebSocket messages are each one message: the whole message is
//!   compared (a frame's rules); without `--expect` every message is an answer.
//! - On a byte stream with a framing, each frame is compared whole; a frame that does not
//!   match, or bytes the framing had to skip, are an unexpected answer.
//! - On a byte stream without a framing, `--expect` is looked for in what arrived since
//!   the last answer (as a scenario's stream `expect` is); without it each read is an answer.

use crate::codec::framing::{Decoder, Framing, Unit, UnitKind};
use crate::codec::reply::MatchSpec;
use crate::scenario::ExpectSpec;
use crate::scenario::matching::Expectation;
use crate::scenario::vars::{ExpandError, Template, Vars};

use super::payload::CONN;

/// Most bytes kept while looking for `--expect` in a stream (the newest are kept).
const MAX_PENDING_BYTES: usize = 64 * 1024;

/// Why `--expect` or `--framing` cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AnswerError {
    /// The match is not valid (the `--reply` message).
    #[error("--expect: {0}")]
    Match(#[from] crate::codec::reply::MatchError),
    /// A `${…}` reference that cannot be read (the scenario message).
    #[error("--expect column {column}: {error}")]
    Var {
        /// What is wrong.
        error: crate::scenario::vars::VarError,
        /// Where, within the match as written.
        column: usize,
    },
    /// A variable other than `seq` and `conn`.
    #[error("--expect: unknown variable '{0}' (a load run has ${{seq}} and ${{conn}})")]
    UnknownVar(String),
    /// The pattern cannot become bytes (an unencodable character).
    #[error("--expect: {0}")]
    Expand(#[from] ExpandError),
    /// `idle:MS` frames end by silence, which a load run does not wait for.
    #[error("--framing idle:MS cannot cut answers in a load run (use delim:, fixed: or len:)")]
    IdleFraming,
}

/// What counts as an answer, for every connection of a run.
#[derive(Clone, Debug, Default)]
pub struct AnswerRule {
    /// How a byte stream is cut into answers ([`Framing::Raw`]: by reads).
    pub framing: Framing,
    /// What an answer must match, if anything.
    pub expect: Option<ExpectSpec>,
}

impl AnswerRule {
    /// Checks a `--framing` and an `--expect` (text patterns encoded with `encoding`).
    ///
    /// # Errors
    /// [`AnswerError`] naming what is wrong.
    pub fn new(
        framing: Framing,
        expect: Option<&str>,
        encoding: crate::codec::text::TextEncoding,
    ) -> Result<Self, AnswerError> {
        if matches!(framing, Framing::Idle { .. }) {
            return Err(AnswerError::IdleFraming);
        }
        let expect = expect
            .map(|written| expect_spec(written, encoding))
            .transpose()?;
        Ok(Self { framing, expect })
    }

    /// The expectation for a message sent with `vars` (compiled once when the pattern has
    /// no variables).
    ///
    /// # Errors
    /// [`ExpandError`] when a value does not fit the pattern's format.
    pub fn expectation(&self, vars: &Vars) -> Result<Option<Expectation>, ExpandError> {
        self.expect
            .as_ref()
            .map(|spec| spec.compile(vars))
            .transpose()
    }
}

/// An `--expect` parsed as a scenario's `expect` is: the match syntax, then the variables.
fn expect_spec(
    written: &str,
    encoding: crate::codec::text::TextEncoding,
) -> Result<ExpectSpec, AnswerError> {
    let (kind, hex, pattern, offset) = MatchSpec::split(written)?;
    let column = written[..offset].chars().count() + 1;
    let template = Template::parse(pattern, column)
        .map_err(|(error, column)| AnswerError::Var { error, column })?;
    if let Some(var) = template
        .vars()
        .find(|v| v.name != CONN && v.name != crate::scenario::vars::SEQ)
    {
        return Err(AnswerError::UnknownVar(var.name.clone()));
    }
    if template.literal().is_some() {
        // Same checks and messages as --reply: hex parses, the regex compiles.
        MatchSpec::parse(written)?;
    }
    let spec = ExpectSpec {
        kind,
        hex,
        pattern: template,
        encoding,
        written: written.to_string(),
        compiled: None,
    };
    let compiled = spec.compile(super::MessageVars::first(1).vars())?;
    let literal = spec.pattern.literal().is_some();
    Ok(ExpectSpec {
        compiled: literal.then_some(compiled),
        ..spec
    })
}

/// What a read brought.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Answers {
    /// Answers that count (matched, or any when nothing is expected).
    pub matched: u64,
    /// Frames or messages that did not match, and bytes the framing skipped.
    pub unexpected: u64,
}

/// One connection's reads, cut into answers.
#[derive(Clone, Debug)]
pub struct AnswerReader {
    /// Each read is a whole message (datagram, WebSocket message).
    messages: bool,
    decoder: Option<Decoder>,
    /// Bytes not yet consumed; `base` is the stream offset of the first.
    pending: Vec<u8>,
    base: u64,
    units: Vec<Unit>,
}

impl AnswerReader {
    /// A reader for `rule`; `messages` when each read is one message.
    pub fn new(rule: &AnswerRule, messages: bool) -> Self {
        let framed = !messages && rule.framing != Framing::Raw;
        Self {
            messages,
            decoder: framed.then(|| Decoder::new(rule.framing.clone())),
            pending: Vec::new(),
            base: 0,
            units: Vec::new(),
        }
    }

    /// Takes one read; counts the answers it completes, compared with `expect`.
    pub fn push(&mut self, read: &[u8], expect: Option<&Expectation>) -> Answers {
        let mut answers = Answers::default();
        let judge = |frame: &[u8], answers: &mut Answers| match expect {
            Some(e) if e.match_frame(frame).is_none() => answers.unexpected += 1,
            _ => answers.matched += 1,
        };
        if self.messages {
            judge(read, &mut answers);
            return answers;
        }
        if let Some(decoder) = &mut self.decoder {
            self.pending.extend_from_slice(read);
            decoder.push(read, 0, &mut self.units);
            let mut consumed = 0;
            for unit in self.units.drain(..) {
                let start = usize::try_from(unit.start - self.base).unwrap_or(usize::MAX);
                let end = usize::try_from(unit.payload_end() - self.base).unwrap_or(usize::MAX);
                match unit.kind {
                    UnitKind::Frame { .. } => {
                        judge(
                            self.pending.get(start..end).unwrap_or_default(),
                            &mut answers,
                        );
                    }
                    UnitKind::Invalid(_) | UnitKind::Incomplete => answers.unexpected += 1,
                }
                consumed = usize::try_from(unit.end - self.base).unwrap_or(usize::MAX);
            }
            let consumed = consumed.min(self.pending.len());
            self.pending.drain(..consumed);
            self.base += consumed as u64;
            return answers;
        }
        let Some(expect) = expect else {
            answers.matched += u64::from(!read.is_empty());
            return answers;
        };
        self.pending.extend_from_slice(read);
        while let Some(found) = expect.find_in_stream(&self.pending) {
            answers.matched += 1;
            self.pending
                .drain(..found.end.max(1).min(self.pending.len()));
            if self.pending.is_empty() {
                break;
            }
        }
        if self.pending.len() > MAX_PENDING_BYTES {
            let excess = self.pending.len() - MAX_PENDING_BYTES;
            self.pending.drain(..excess);
        }
        answers
    }

    /// Bytes received that are not (yet) part of an answer: an unexpected answer when a
    /// wait times out with some.
    pub fn pending(&self) -> usize {
        self.pending.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::text::TextEncoding;

    fn rule(framing: &str, expect: Option<&str>) -> AnswerRule {
        let framing = framing.parse().expect("framing");
        AnswerRule::new(framing, expect, TextEncoding::Utf8).expect("rule")
    }

    fn vars(conn: u64, seq: u64) -> Vars {
        let mut vars = Vars::with([(CONN.to_string(), conn.to_string())]);
        for _ in 0..seq {
            vars.next_seq();
        }
        vars
    }

    /// Feeds `reads` one by one; returns (matched, unexpected) after each.
    fn feed(rule: &AnswerRule, messages: bool, reads: &[&[u8]]) -> Vec<(u64, u64)> {
        let mut reader = AnswerReader::new(rule, messages);
        let expect = rule.expectation(&vars(1, 1)).expect("expectation");
        reads
            .iter()
            .map(|read| {
                let got = reader.push(read, expect.as_ref());
                (got.matched, got.unexpected)
            })
            .collect()
    }

    #[test]
    fn answers_are_cut_as_the_rule_says() {
        type Case<'a> = (
            &'a str,
            Option<&'a str>,
            bool,
            &'a [&'a [u8]],
            &'a [(u64, u64)],
        );
        let table: [Case<'_>; 9] = [
            // Any bytes: each read.
            ("raw", None, false, &[b"a", b"bc"], &[(1, 0), (1, 0)]),
            // A delimiter split across two reads, two frames glued in one.
            (
                "delim:0a",
                None,
                false,
                &[b"ab", b"c\nd\ne\n"],
                &[(0, 0), (3, 0)],
            ),
            (
                "len:u8",
                None,
                false,
                &[b"\x02a", b"b\x01"],
                &[(0, 0), (1, 0)],
            ),
            // Expected in a stream, across reads.
            (
                "raw",
                Some("contains:pong"),
                false,
                &[b"po", b"ng!"],
                &[(0, 0), (1, 0)],
            ),
            // Frames compared whole: a frame that does not match is unexpected.
            (
                "delim:0a",
                Some("text:pong"),
                false,
                &[b"pong\r\nnope\n"],
                &[(1, 1)],
            ),
            // Datagrams and WebSocket messages: each one whole.
            (
                "raw",
                Some("hex:01 02"),
                true,
                &[b"\x01\x02", b"\x01"],
                &[(1, 0), (0, 1)],
            ),
            ("raw", None, true, &[b"x", b""], &[(1, 0), (1, 0)]),
            // The variables of the message answered.
            (
                "raw",
                Some("text:c${conn}s${seq}"),
                true,
                &[b"c1s1", b"c1s2"],
                &[(1, 0), (0, 1)],
            ),
            (
                "raw",
                Some("regex:^p.ng$"),
                true,
                &[b"ping\n", b"pang"],
                &[(1, 0), (1, 0)],
            ),
        ];
        for (framing, expect, messages, reads, want) in table {
            let got = feed(&rule(framing, expect), messages, reads);
            assert_eq!(got, want, "{framing} {expect:?} {reads:?}");
        }
    }

    #[test]
    fn a_length_the_framing_skips_is_unexpected() {
        let rule = rule("len:u8,max=4", None);
        let got = feed(&rule, false, &[b"\x09", b"\x01x"]);
        assert_eq!(got, [(0, 1), (1, 0)]);
    }

    #[test]
    fn bad_rules_say_what_is_wrong() {
        let utf8 = TextEncoding::Utf8;
        let table = [
            ("raw", "pong", "needs a prefix"),
            ("raw", "hex:0", "invalid hex pattern"),
            ("raw", "regex:(", "invalid regex"),
            ("raw", "text:${x}", "unknown variable 'x'"),
            ("raw", "text:${seq", "--expect column 6"),
            ("idle:10", "text:a", "idle:MS cannot cut answers"),
        ];
        for (framing, expect, message) in table {
            let framing = framing.parse().expect("framing");
            let error = AnswerRule::new(framing, Some(expect), utf8).expect_err(expect);
            assert!(error.to_string().contains(message), "{expect}: {error}");
        }
    }
}
