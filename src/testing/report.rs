//! What `sockdbg test` prints: a step, a case, a file and the summary, as text (one line per
//! step, a failed expect followed by what was expected and what arrived, as text and hex) or
//! as JSON lines. Failures are described here in English from their typed values.

use std::io::{self, Write};
use std::time::Duration;

use serde_json::json;

use crate::cli::TestFormat;
use crate::codec::display::escape_controls;
use crate::codec::hex::to_hex_spaced;
use crate::codec::text::{TextEncoding, decode_replacing};
use crate::protocol::{Gone, StepFailure, StepOutcome};
use crate::scenario::{Pos, Statement};

/// Most received bytes shown in a failure (the rest is counted).
const SHOWN_BYTES: usize = 256;

/// A failure in words: the reason, and the bytes that arrived if they matter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FailureText {
    /// One line: what was expected, or what went wrong.
    pub reason: String,
    /// What arrived instead, if anything is worth showing.
    pub received: Option<Vec<u8>>,
}

fn ms(duration: Duration) -> String {
    if duration == Duration::MAX {
        return "forever".to_string();
    }
    format!("{} ms", duration.as_millis())
}

/// Why a session or connection is gone, in English.
pub fn gone_text(gone: &Gone) -> String {
    match gone {
        Gone::StartFailed(why) => why.to_string(),
        Gone::Closed(why) => why.to_string(),
        Gone::Stopped => "the session was stopped".to_string(),
    }
}

/// The English words for a failed step.
pub fn describe(failure: &StepFailure) -> FailureText {
    let (reason, received) = match failure {
        StepFailure::Timeout {
            expected,
            within,
            received,
        } => (
            format!("expected {expected} within {}", ms(*within)),
            Some(received.to_vec()),
        ),
        StepFailure::Closed {
            expected,
            reason,
            received,
        } => (
            format!(
                "the connection closed ({}) while expecting {expected}",
                gone_text(reason)
            ),
            Some(received.to_vec()),
        ),
        StepFailure::Unexpected { received } => (
            "expected nothing, but bytes arrived".to_string(),
            Some(received.to_vec()),
        ),
        StepFailure::NotClosed { within } => (
            format!("the connection stayed open for {}", ms(*within)),
            None,
        ),
        StepFailure::NotSent(why) => (format!("not sent: {why}"), None),
        StepFailure::Expand(why) => (why.to_string(), None),
        StepFailure::File(why) => (why.to_string(), None),
        StepFailure::SessionDown(why) => (
            format!("the session is not running: {}", gone_text(why)),
            None,
        ),
        StepFailure::NotConnected { .. } => (
            crate::i18n::scenario::step_failure_text(crate::i18n::Language::English, failure),
            None,
        ),
        StepFailure::Cancelled => ("stopped before it ended".to_string(), None),
    };
    FailureText { reason, received }
}

/// `N bytes: TEXT` and the hex, for a text report (two lines).
pub fn received_lines(bytes: &[u8], encoding: TextEncoding) -> (String, String) {
    let shown = &bytes[..bytes.len().min(SHOWN_BYTES)];
    let more = if bytes.len() > SHOWN_BYTES {
        format!(" … ({} more)", bytes.len() - SHOWN_BYTES)
    } else {
        String::new()
    };
    let decoded = decode_replacing(shown, encoding);
    let text = escape_controls(&decoded);
    (
        format!("{} bytes: {text}{more}", bytes.len()),
        format!("{}{more}", to_hex_spaced(shown)),
    )
}

/// The encoding a statement decodes received bytes with (its expect's), else UTF-8.
pub fn encoding_of(statement: Option<&Statement>) -> TextEncoding {
    use crate::scenario::{Action, Times};
    match statement.map(|s| &s.action) {
        Some(Action::Expect { expect, .. }) => expect.encoding,
        Some(Action::Repeat {
            times: Times::Until { expect, .. },
            ..
        }) => expect.encoding,
        Some(Action::Send { options, .. }) => options.encoding,
        _ => TextEncoding::Utf8,
    }
}

/// One step as reported.
pub struct StepReport<'a> {
    /// The file's name.
    pub file: &'a str,
    /// The case's name.
    pub case: &'a str,
    /// Where the statement is.
    pub at: Pos,
    /// The statement, if found.
    pub statement: Option<&'a Statement>,
    /// How long it took.
    pub elapsed: Duration,
    /// How it ended.
    pub outcome: &'a StepOutcome,
}

/// A step in text: one line (status, time, place, statement, captures), and for a failure
/// what was expected and what arrived, as text and hex. Nothing for a repeat whose body
/// failed (the inner step said it).
pub fn step_lines(step: &StepReport<'_>) -> Vec<String> {
    let source = step.statement.map_or("", |s| s.source.as_str());
    let encoding = encoding_of(step.statement);
    let millis = step.elapsed.as_secs_f64() * 1000.0;
    let place = format!("{}:{}", step.at.line, step.at.column);
    let (status, captures, failure) = match step.outcome {
        StepOutcome::Passed { captures } => ("ok", captures.as_slice(), None),
        StepOutcome::Failed(failure) => ("FAIL", &[][..], Some(describe(failure))),
        StepOutcome::Interrupted => ("end", &[][..], None),
        StepOutcome::Aborted => return Vec::new(),
    };
    let mut first = format!("    {status:<4} {millis:>8.1} ms  {place:<7} {source}");
    if step.outcome == &StepOutcome::Interrupted {
        first.push_str("  (the connection closed: the loop ends)");
    }
    for (name, value) in captures {
        first.push_str(&format!("  {name}={value}"));
    }
    let mut lines = vec![first];
    if let Some(failure) = failure {
        lines.push(format!("         {}", failure.reason));
        match &failure.received {
            Some(bytes) if bytes.is_empty() => {
                lines.push("         received nothing".to_string());
            }
            Some(bytes) => {
                let (text, hex) = received_lines(bytes, encoding);
                lines.push(format!("         received {text}"));
                lines.push(format!("                  {hex}"));
            }
            None => {}
        }
    }
    lines
}

/// A step as one JSON object (`None` for a repeat whose body failed).
pub fn step_json(step: &StepReport<'_>) -> Option<serde_json::Value> {
    let source = step.statement.map_or("", |s| s.source.as_str());
    let encoding = encoding_of(step.statement);
    let millis = step.elapsed.as_secs_f64() * 1000.0;
    let (status, captures, failure) = match step.outcome {
        StepOutcome::Passed { captures } => ("passed", captures.as_slice(), None),
        StepOutcome::Failed(failure) => ("failed", &[][..], Some(describe(failure))),
        StepOutcome::Interrupted => ("ended", &[][..], None),
        StepOutcome::Aborted => return None,
    };
    let mut value = json!({
        "event": "step",
        "file": step.file,
        "case": step.case,
        "line": step.at.line,
        "column": step.at.column,
        "statement": source,
        "status": status,
        "ms": (millis * 1000.0).round() / 1000.0,
    });
    if !captures.is_empty() {
        let map: serde_json::Map<String, serde_json::Value> = captures
            .iter()
            .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
            .collect();
        value["captures"] = serde_json::Value::Object(map);
    }
    if let Some(failure) = &failure {
        value["reason"] = json!(failure.reason);
        if let Some(bytes) = &failure.received {
            value["received_hex"] = json!(hex::encode(bytes));
            value["received_text"] = json!(decode_replacing(bytes, encoding));
        }
    }
    Some(value)
}

/// Prints results in one format.
pub struct Reporter<W: Write> {
    format: TestFormat,
    out: W,
}

impl<W: Write> Reporter<W> {
    /// Prints to `out` in `format`.
    pub fn new(format: TestFormat, out: W) -> Self {
        Self { format, out }
    }

    fn line(&mut self, text: &str) -> io::Result<()> {
        writeln!(self.out, "{text}")?;
        self.out.flush()
    }

    fn json(&mut self, value: &serde_json::Value) -> io::Result<()> {
        let text = value.to_string();
        self.line(&text)
    }

    /// A file begins (text: its name on a line).
    ///
    /// # Errors
    /// When the output cannot be written.
    pub fn file_started(&mut self, file: &str) -> io::Result<()> {
        match self.format {
            TestFormat::Text => self.line(file),
            TestFormat::Jsonl => Ok(()),
        }
    }

    /// A run begins; `peer` names a server's client.
    ///
    /// # Errors
    /// When the output cannot be written.
    pub fn run_started(&mut self, file: &str, peer: Option<&str>) -> io::Result<()> {
        match (self.format, peer) {
            (TestFormat::Text, Some(peer)) => self.line(&format!("  client {peer}")),
            (TestFormat::Jsonl, Some(peer)) => {
                self.json(&json!({"event": "run", "file": file, "client": peer}))
            }
            _ => Ok(()),
        }
    }

    /// A case begins.
    ///
    /// # Errors
    /// When the output cannot be written.
    pub fn case_started(&mut self, case: &str) -> io::Result<()> {
        match self.format {
            TestFormat::Text => self.line(&format!("  case {case}")),
            TestFormat::Jsonl => Ok(()),
        }
    }

    /// A step ended; returns the text lines printed (for JUnit's system-out).
    ///
    /// # Errors
    /// When the output cannot be written.
    pub fn step(&mut self, step: &StepReport<'_>) -> io::Result<Vec<String>> {
        match self.format {
            TestFormat::Jsonl => {
                if let Some(value) = step_json(step) {
                    self.json(&value)?;
                }
                Ok(Vec::new())
            }
            TestFormat::Text => {
                let lines = step_lines(step);
                for line in &lines {
                    self.line(line)?;
                }
                Ok(lines)
            }
        }
    }

    /// A case ended.
    ///
    /// # Errors
    /// When the output cannot be written.
    pub fn case_ended(
        &mut self,
        file: &str,
        case: &str,
        failure: Option<&str>,
        elapsed: Duration,
    ) -> io::Result<()> {
        let millis = elapsed.as_secs_f64() * 1000.0;
        match self.format {
            TestFormat::Text => {
                let status = if failure.is_some() {
                    "FAILED"
                } else {
                    "passed"
                };
                self.line(&format!("  case {case} {status} ({millis:.1} ms)"))
            }
            TestFormat::Jsonl => {
                let mut value = json!({
                    "event": "case",
                    "file": file,
                    "case": case,
                    "status": if failure.is_some() { "failed" } else { "passed" },
                    "ms": (millis * 1000.0).round() / 1000.0,
                });
                if let Some(failure) = failure {
                    value["reason"] = json!(failure);
                }
                self.json(&value)
            }
        }
    }

    /// A case that never ran (its session could not start, the run was refused or stopped):
    /// it fails with `reason`, which the text output says under the case (a case that ran
    /// says its reason in its failed step's lines).
    ///
    /// # Errors
    /// When the output cannot be written.
    pub fn case_not_run(
        &mut self,
        file: &str,
        case: &str,
        reason: &str,
        elapsed: Duration,
    ) -> io::Result<()> {
        if let TestFormat::Text = self.format {
            self.line(&format!("         {reason}"))?;
        }
        self.case_ended(file, case, Some(reason), elapsed)
    }

    /// The closing line: `N passed, N failed`.
    ///
    /// # Errors
    /// When the output cannot be written.
    pub fn summary(&mut self, passed: usize, failed: usize) -> io::Result<()> {
        match self.format {
            TestFormat::Text => self.line(&format!("{passed} passed, {failed} failed")),
            TestFormat::Jsonl => {
                self.json(&json!({"event": "summary", "passed": passed, "failed": failed}))
            }
        }
    }

    /// An invalid file's error (`FILE:LINE:COL: what`); text goes to stderr.
    ///
    /// # Errors
    /// When the output cannot be written.
    pub fn invalid(
        &mut self,
        file: &str,
        error: &crate::scenario::ScenarioError,
    ) -> io::Result<()> {
        match self.format {
            TestFormat::Text => {
                eprintln!("{file}:{error}");
                Ok(())
            }
            TestFormat::Jsonl => self.json(&json!({
                "event": "error",
                "file": file,
                "line": error.pos.line,
                "column": error.pos.column,
                "message": error.kind.to_string(),
            })),
        }
    }
}
