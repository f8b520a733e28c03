//! The scenario parser: one statement a line, `#` comments, `repeat … end` blocks and
//! `case NAME` sections, into a [`Scenario`] whose statements keep their line and column.
//! Payloads, matches, framings, session specs and pipeline names go through the very parsers
//! of `--send`/`--reply`/`--framing`/`SESSION`, which name the column of what is wrong; every
//! error of the file is collected, as `LINE:COL: what is wrong`, before anything is opened.
//!
//! A `#` starts a comment at the start of a line or after a space or tab (so `text:#1`
//! sends `#1`; write `\x23` for a `#` after a space).

use std::collections::BTreeSet;
use std::time::Duration;

use super::Needed;
use super::matching::Expectation;
use super::vars::{Part, SEQ, Template, is_name};
use super::{
    Action, Case, ErrorKind, ExpectSpec, Pos, Scenario, ScenarioError, SessionDecl, Statement,
    Times, Wait,
};
use crate::codec::checksum::Checksum;
use crate::codec::escape::unescape;
use crate::codec::framing::Framing;
use crate::codec::hex::parse_hex;
use crate::codec::names;
use crate::codec::reply::{MatchKind, MatchSpec, compile_regex};
use crate::codec::send::{LineEnding, SendError, SendOptions, encode_pieces, split_payload};
use crate::codec::text::TextEncoding;
use crate::spec::SessionSpec;

/// How long an `expect` waits when neither `within` nor `timeout` says: one second.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(1);

/// Parses a scenario file. `vars` are the values given from outside (`--var NAME=VALUE`):
/// a reference to one of them is known, and `session` lines are expanded with them (a
/// session is opened before any statement runs, so only these values can reach it).
///
/// # Errors
/// Every error of the file, in line order.
pub fn parse(text: &str, vars: &[(String, String)]) -> Result<Scenario, Vec<ScenarioError>> {
    let mut parser = Parser::new(vars);
    for (index, line) in text.lines().enumerate() {
        let number = u32::try_from(index + 1).unwrap_or(u32::MAX);
        if let Err(error) = parser.line(number, line) {
            parser.errors.push(error);
        }
    }
    parser.finish()
}

/// A statement still being read: a `repeat` whose `end` has not come yet.
struct Open {
    pos: Pos,
    source: String,
    session: usize,
    times: Times,
    body: Vec<Statement>,
}

struct Parser {
    known: BTreeSet<String>,
    /// `--var` values, for `session` lines.
    outside: super::Vars,
    errors: Vec<ScenarioError>,
    sessions: Vec<SessionDecl>,
    framing: Framing,
    encoding: TextEncoding,
    timeout: Wait,
    line_ending: LineEnding,
    checksum: Checksum,
    session: usize,
    /// A statement that acts (or a case) has been read: the header is over.
    acted: bool,
    /// Statements before the first case (the whole file when it has no case).
    top: Vec<Statement>,
    cases: Vec<Case>,
    prelude: Vec<Statement>,
    open: Vec<Open>,
    /// Names something sets: `set` lines and regex groups.
    defined: BTreeSet<String>,
    /// Every reference, checked against `defined` at the end.
    used: Vec<(String, Pos)>,
}

/// Byte offset to 1-based character column in `line`.
fn col(line: &str, at: usize) -> u32 {
    let chars = line.get(..at).map_or(0, |s| s.chars().count());
    u32::try_from(chars + 1).unwrap_or(u32::MAX)
}

/// The whitespace-separated words of `line` from byte `from`, with their byte offsets.
fn words(line: &str, from: usize) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let rest = line.get(from..).unwrap_or_default();
    let mut start = None;
    for (i, c) in rest.char_indices() {
        match (c.is_whitespace(), start) {
            (true, Some(s)) => {
                out.push((from + s, &rest[s..i]));
                start = None;
            }
            (false, None) => start = Some(i),
            _ => {}
        }
    }
    if let Some(s) = start {
        out.push((from + s, &rest[s..]));
    }
    out
}

/// Where the comment of `line` starts: a `#` at the start or after whitespace.
fn comment_start(line: &str) -> usize {
    let mut previous_space = true;
    for (i, c) in line.char_indices() {
        if c == '#' && previous_space {
            return i;
        }
        previous_space = c.is_whitespace();
    }
    line.len()
}

impl Parser {
    fn new(vars: &[(String, String)]) -> Self {
        Self {
            known: vars.iter().map(|(name, _)| name.clone()).collect(),
            outside: super::Vars::with(vars.iter().cloned()),
            errors: Vec::new(),
            sessions: Vec::new(),
            framing: Framing::Raw,
            encoding: TextEncoding::Utf8,
            timeout: Wait::Limit(DEFAULT_TIMEOUT),
            line_ending: LineEnding::None,
            checksum: Checksum::None,
            session: 0,
            acted: false,
            top: Vec::new(),
            cases: Vec::new(),
            prelude: Vec::new(),
            open: Vec::new(),
            defined: BTreeSet::new(),
            used: Vec::new(),
        }
    }

    fn line(&mut self, number: u32, raw: &str) -> Result<(), ScenarioError> {
        let line = raw.get(..comment_start(raw)).unwrap_or(raw).trim_end();
        let Some(&(start, keyword)) = words(line, 0).first() else {
            return Ok(());
        };
        let at = |offset: usize| Pos {
            line: number,
            column: col(line, offset),
        };
        let error = |offset: usize, kind: ErrorKind| ScenarioError {
            pos: at(offset),
            kind,
        };
        let pos = at(start);
        let rest_at = start + keyword.len();
        let args = words(line, rest_at);
        let rest = line[rest_at..].trim_start();
        let rest_at = line.len() - rest.len();
        let ctx = Line {
            number,
            text: line,
            pos,
            rest,
            rest_at,
        };
        let action = match keyword {
            "session" => return self.session_line(&ctx, &args),
            "use" => {
                let [(name_at, name)] = args[..] else {
                    return Err(error(rest_at, ErrorKind::Missing(Needed::UseName)));
                };
                let index = self
                    .sessions
                    .iter()
                    .position(|s| s.name.as_deref() == Some(name))
                    .ok_or_else(|| error(name_at, ErrorKind::UnknownSession(name.to_string())))?;
                self.session = index;
                return Ok(());
            }
            "encoding" => {
                let (name_at, name) = one_word(&ctx, &args, Needed::EncodingName)?;
                self.encoding = names::encoding(name).map_err(|e| error(name_at, e.into()))?;
                return Ok(());
            }
            "line-ending" => {
                let (name_at, name) = one_word(&ctx, &args, Needed::LineEnding)?;
                self.line_ending =
                    names::line_ending(name).map_err(|e| error(name_at, e.into()))?;
                return Ok(());
            }
            "checksum" => {
                let (name_at, name) = one_word(&ctx, &args, Needed::Checksum)?;
                self.checksum = names::checksum(name).map_err(|e| error(name_at, e.into()))?;
                return Ok(());
            }
            "timeout" => {
                let (ms_at, ms) = one_word(&ctx, &args, Needed::TimeoutMs)?;
                self.timeout = wait(ms).ok_or_else(|| error(ms_at, number_error("timeout", ms)))?;
                return Ok(());
            }
            "framing" => {
                if self.acted {
                    return Err(error(start, ErrorKind::HeaderOnly("framing")));
                }
                let (spec_at, spec) = one_word(&ctx, &args, Needed::Framing)?;
                let framing: Framing = spec.parse().map_err(|e| {
                    let column = match &e {
                        crate::codec::framing::FramingError::Syntax { column, .. } => *column,
                        _ => 1,
                    };
                    error(spec_at + char_bytes(spec, column), ErrorKind::Framing(e))
                })?;
                if matches!(framing, Framing::Idle { .. }) {
                    return Err(error(spec_at, ErrorKind::IdleFraming));
                }
                self.framing = framing;
                return Ok(());
            }
            "case" => return self.case_line(&ctx),
            "end" => return self.end_line(&ctx, &args),
            "repeat" => {
                let times = self.repeat_times(&ctx, &args)?;
                self.acted = true;
                self.open.push(Open {
                    pos,
                    source: line.trim().to_string(),
                    session: self.session,
                    times,
                    body: Vec::new(),
                });
                return Ok(());
            }
            "send" => self.send_line(&ctx)?,
            "send-file" => {
                if rest.is_empty() {
                    return Err(error(rest_at, ErrorKind::Missing(Needed::SendFilePath)));
                }
                Action::SendFile {
                    path: rest.to_string(),
                }
            }
            "expect" => self.expect_line(&ctx, &args)?,
            "set" => self.set_line(&ctx)?,
            "sleep" => {
                let (ms_at, ms) = one_word(&ctx, &args, Needed::SleepMs)?;
                let ms: u64 = ms
                    .parse()
                    .map_err(|_| error(ms_at, number_error("sleep", ms)))?;
                Action::Sleep {
                    duration: Duration::from_millis(ms),
                }
            }
            "close" => {
                if let Some(&(extra_at, extra)) = args.first() {
                    return Err(error(extra_at, ErrorKind::Unexpected(extra.to_string())));
                }
                Action::Close
            }
            other => return Err(error(start, ErrorKind::UnknownStatement(other.to_string()))),
        };
        if !matches!(action, Action::Set { .. }) {
            self.acted = true;
        }
        self.push(Statement {
            pos,
            source: line.trim().to_string(),
            session: self.session,
            action,
        });
        Ok(())
    }

    fn push(&mut self, statement: Statement) {
        if let Some(open) = self.open.last_mut() {
            open.body.push(statement);
        } else if let Some(case) = self.cases.last_mut() {
            case.body.push(statement);
        } else {
            self.top.push(statement);
        }
    }

    fn session_line(
        &mut self,
        ctx: &Line<'_>,
        args: &[(usize, &str)],
    ) -> Result<(), ScenarioError> {
        if self.acted {
            return Err(ctx.error(ctx.pos_offset(), ErrorKind::HeaderOnly("session")));
        }
        let (name, (spec_at, spec)) = match args {
            [spec] => (None, *spec),
            [(name_at, name), spec] => {
                if !is_name(name) || name.contains(':') {
                    return Err(ctx.error(*name_at, ErrorKind::Missing(Needed::SessionNameChars)));
                }
                if self
                    .sessions
                    .iter()
                    .any(|s| s.name.as_deref() == Some(*name))
                {
                    return Err(
                        ctx.error(*name_at, ErrorKind::Duplicate(name.to_string(), "session"))
                    );
                }
                (Some(name.to_string()), *spec)
            }
            [] => {
                return Err(ctx.error(ctx.rest_at, ErrorKind::Missing(Needed::SessionSpec)));
            }
            [_, (extra_at, extra), _, ..] if !extra.contains(':') => {
                return Err(ctx.error(*extra_at, ErrorKind::Unexpected(extra.to_string())));
            }
            [_, _, (extra_at, extra), ..] => {
                return Err(ctx.error(*extra_at, ErrorKind::Unexpected(extra.to_string())));
            }
        };
        let template = Template::parse(spec, usize::try_from(col(ctx.text, spec_at)).unwrap_or(1))
            .map_err(|(e, column)| ScenarioError {
                pos: Pos {
                    line: ctx.number,
                    column: u32::try_from(column).unwrap_or(u32::MAX),
                },
                kind: e.into(),
            })?;
        if let Some(var) = template.vars().find(|v| !self.known.contains(&v.name)) {
            return Err(ScenarioError {
                pos: Pos {
                    line: ctx.number,
                    column: u32::try_from(var.column).unwrap_or(u32::MAX),
                },
                kind: ErrorKind::UnknownVariable(var.name.clone()),
            });
        }
        // Known: every reference has a value.
        let expanded = self
            .outside
            .text(&template)
            .unwrap_or_else(|_| spec.to_string());
        let spec = SessionSpec::parse_located(&expanded).map_err(|(e, column)| {
            // A column inside an expanded value points at the spec's start.
            let column = if template.literal().is_some() {
                column
            } else {
                1
            };
            ctx.error(spec_at + char_bytes(spec, column), ErrorKind::Spec(e))
        })?;
        self.sessions.push(SessionDecl {
            name,
            spec,
            pos: ctx.pos,
        });
        Ok(())
    }

    fn case_line(&mut self, ctx: &Line<'_>) -> Result<(), ScenarioError> {
        if let Some(open) = self.open.last() {
            return Err(ctx.error(ctx.pos_offset(), ErrorKind::CaseInRepeat(open.pos.line)));
        }
        let name = ctx.rest.to_string();
        if name.is_empty() {
            return Err(ctx.error(ctx.rest_at, ErrorKind::Missing(Needed::CaseName)));
        }
        if self
            .cases
            .iter()
            .any(|c| c.name.as_deref() == Some(name.as_str()))
        {
            return Err(ctx.error(ctx.rest_at, ErrorKind::Duplicate(name, "case")));
        }
        if self.cases.is_empty() {
            for statement in std::mem::take(&mut self.top) {
                if matches!(statement.action, Action::Set { .. }) {
                    self.prelude.push(statement);
                } else {
                    self.errors.push(ScenarioError {
                        pos: statement.pos,
                        kind: ErrorKind::ActionBeforeCase,
                    });
                }
            }
        }
        self.acted = true;
        self.cases.push(Case {
            name: Some(name),
            pos: ctx.pos,
            body: Vec::new(),
        });
        Ok(())
    }

    fn end_line(&mut self, ctx: &Line<'_>, args: &[(usize, &str)]) -> Result<(), ScenarioError> {
        if let Some(&(extra_at, extra)) = args.first() {
            return Err(ctx.error(extra_at, ErrorKind::Unexpected(extra.to_string())));
        }
        let Some(open) = self.open.pop() else {
            return Err(ctx.error(ctx.pos_offset(), ErrorKind::EndWithoutRepeat));
        };
        self.push(Statement {
            pos: open.pos,
            source: open.source,
            session: open.session,
            action: Action::Repeat {
                times: open.times,
                body: open.body,
            },
        });
        Ok(())
    }

    fn repeat_times(
        &mut self,
        ctx: &Line<'_>,
        args: &[(usize, &str)],
    ) -> Result<Times, ScenarioError> {
        match args {
            [] => Err(ctx.error(ctx.rest_at, ErrorKind::Missing(Needed::RepeatCount))),
            [(_, "forever")] => Ok(Times::Forever),
            [(_, "until"), ..] => {
                let (text_at, text, within) = self.split_within(ctx, &args[1..])?;
                if text.is_empty() {
                    return Err(ctx.error(text_at, ErrorKind::Missing(Needed::UntilMatch)));
                }
                let expect = self.expect_spec(ctx, text_at, text)?;
                Ok(Times::Until {
                    expect: Box::new(expect),
                    within: within.unwrap_or(self.timeout),
                })
            }
            [(count_at, count)] => count
                .parse()
                .map(Times::Count)
                .map_err(|_| ctx.error(*count_at, number_error("repeat", count))),
            [_, (extra_at, extra), ..] => {
                Err(ctx.error(*extra_at, ErrorKind::Unexpected(extra.to_string())))
            }
        }
    }

    /// Splits `TEXT [within MS]` (the words after a keyword) into the text, where it
    /// starts, and the wait if given.
    fn split_within<'l>(
        &self,
        ctx: &Line<'l>,
        args: &[(usize, &'l str)],
    ) -> Result<(usize, &'l str, Option<Wait>), ScenarioError> {
        let Some(&(first_at, _)) = args.first() else {
            return Ok((ctx.text.len(), "", None));
        };
        if let [.., (within_at, "within"), (ms_at, ms)] = args {
            let wait = wait(ms).ok_or_else(|| ctx.error(*ms_at, number_error("within", ms)))?;
            let text = ctx.text[first_at..*within_at].trim_end();
            return Ok((first_at, text, Some(wait)));
        }
        if let [.., (within_at, "within")] = args {
            return Err(ctx.error(*within_at, ErrorKind::Missing(Needed::WithinMs)));
        }
        Ok((first_at, &ctx.text[first_at..], None))
    }

    fn expect_line(
        &mut self,
        ctx: &Line<'_>,
        args: &[(usize, &str)],
    ) -> Result<Action, ScenarioError> {
        let (text_at, text, within) = self.split_within(ctx, args)?;
        match text {
            "" => Err(ctx.error(text_at, ErrorKind::Missing(Needed::ExpectMatch))),
            "nothing" => match within {
                Some(Wait::Limit(within)) => Ok(Action::ExpectNothing { within }),
                _ => Err(ctx.error(text_at, ErrorKind::Missing(Needed::NothingWithin))),
            },
            "closed" => Ok(Action::ExpectClosed {
                within: within.unwrap_or(self.timeout),
            }),
            _ => Ok(Action::Expect {
                expect: self.expect_spec(ctx, text_at, text)?,
                within: within.unwrap_or(self.timeout),
            }),
        }
    }

    /// Reads `PREFIX:PATTERN` at byte `at` of the line: the prefix, the references, and
    /// the literal parts checked (hex parses, escapes and encoding hold, the regex compiles).
    fn expect_spec(
        &mut self,
        ctx: &Line<'_>,
        at: usize,
        text: &str,
    ) -> Result<ExpectSpec, ScenarioError> {
        let (kind, hex, pattern, offset) =
            MatchSpec::split(text).map_err(|e| ctx.error(at, e.into()))?;
        let pattern_at = at + offset;
        let template = self.template(ctx, pattern_at, pattern)?;
        let encoding = self.encoding;
        let mut compiled = None;
        if kind == MatchKind::Regex {
            // With references, check the regex with a stand-in value; the run compiles it
            // with the real ones.
            let probe = match template.literal() {
                Some(literal) => literal,
                None => template
                    .parts
                    .iter()
                    .map(|part| match part {
                        Part::Literal { text, .. } => text.as_str(),
                        Part::Var(_) => "0",
                    })
                    .collect(),
            };
            let regex = compile_regex(&probe).map_err(|e| {
                let column = if template.literal().is_some() {
                    e.column()
                } else {
                    1
                };
                ctx.error(pattern_at + char_bytes(pattern, column), e.into())
            })?;
            self.defined
                .extend(regex.capture_names().flatten().map(str::to_string));
            if template.literal().is_some() {
                compiled = regex::bytes::Regex::new(&probe)
                    .ok()
                    .map(|regex| Expectation::Regex { regex, encoding });
            }
        } else {
            self.check_literals(ctx, &template, hex)?;
            if template.literal().is_some() {
                let pattern = super::Vars::default()
                    .body(&template, hex, encoding)
                    .map_err(|e| ctx.error(pattern_at, e.into()))?;
                compiled = Some(Expectation::Bytes {
                    kind,
                    pattern,
                    text: !hex,
                });
            }
        }
        Ok(ExpectSpec {
            kind,
            hex,
            pattern: template,
            encoding,
            written: text.to_string(),
            compiled,
        })
    }

    /// Parses references in `text` (at byte `at`) and records them for the final check.
    fn template(
        &mut self,
        ctx: &Line<'_>,
        at: usize,
        text: &str,
    ) -> Result<Template, ScenarioError> {
        let start = usize::try_from(col(ctx.text, at)).unwrap_or(1);
        let template = Template::parse(text, start).map_err(|(e, column)| ScenarioError {
            pos: Pos {
                line: ctx.number,
                column: u32::try_from(column).unwrap_or(u32::MAX),
            },
            kind: e.into(),
        })?;
        for var in template.vars() {
            self.used.push((
                var.name.clone(),
                Pos {
                    line: ctx.number,
                    column: u32::try_from(var.column).unwrap_or(u32::MAX),
                },
            ));
        }
        Ok(template)
    }

    /// Checks the literal parts of a payload or pattern: hex parses; text unescapes and
    /// encodes. Errors name the column of the bad character.
    fn check_literals(
        &self,
        ctx: &Line<'_>,
        template: &Template,
        hex: bool,
    ) -> Result<(), ScenarioError> {
        for part in &template.parts {
            let Part::Literal { text, column } = part else {
                continue;
            };
            let checked = if hex {
                parse_hex(text).map(drop).map_err(SendError::from)
            } else {
                unescape(text)
                    .map_err(SendError::from)
                    .and_then(|pieces| encode_pieces(&pieces, self.encoding).map(drop))
            };
            if let Err(e) = checked {
                let column = column + e.column().unwrap_or(1) - 1;
                return Err(ScenarioError {
                    pos: Pos {
                        line: ctx.number,
                        column: u32::try_from(column).unwrap_or(u32::MAX),
                    },
                    kind: e.into(),
                });
            }
        }
        Ok(())
    }

    fn send_line(&mut self, ctx: &Line<'_>) -> Result<Action, ScenarioError> {
        let mut options = SendOptions {
            hex: false,
            encoding: self.encoding,
            escapes: true,
            line_ending: self.line_ending,
            checksum: self.checksum,
        };
        // Options are the trailing words that start with `checksum=` or `line-ending=`.
        let all = words(ctx.text, ctx.rest_at);
        let mut payload_end = ctx.text.len();
        for &(word_at, word) in all.iter().rev() {
            if let Some(name) = word.strip_prefix("checksum=") {
                options.checksum = names::checksum(name)
                    .map_err(|e| ctx.error(word_at + "checksum=".len(), e.into()))?;
            } else if let Some(name) = word.strip_prefix("line-ending=") {
                options.line_ending = names::line_ending(name)
                    .map_err(|e| ctx.error(word_at + "line-ending=".len(), e.into()))?;
            } else {
                break;
            }
            payload_end = word_at;
        }
        let payload = ctx.text[ctx.rest_at..payload_end].trim_end();
        if payload.is_empty() {
            return Err(ctx.error(ctx.rest_at, ErrorKind::Missing(Needed::SendPayload)));
        }
        let split = split_payload(payload).map_err(|e| ctx.error(ctx.rest_at, e.into()))?;
        options.hex = split.hex;
        let body_at = ctx.rest_at + split.body_offset;
        let template = self.template(ctx, body_at, split.body)?;
        self.check_literals(ctx, &template, split.hex)?;
        if template.parts.is_empty() && options.line_ending == LineEnding::None {
            return Err(ctx.error(body_at, SendError::Empty.into()));
        }
        Ok(Action::Send {
            payload: template,
            options,
        })
    }

    fn set_line(&mut self, ctx: &Line<'_>) -> Result<Action, ScenarioError> {
        let Some((name, value)) = ctx.rest.split_once('=') else {
            return Err(ctx.error(ctx.rest_at, ErrorKind::Missing(Needed::SetNameValue)));
        };
        let name = name.trim();
        if !is_name(name) {
            return Err(ctx.error(ctx.rest_at, ErrorKind::Missing(Needed::SetName)));
        }
        if name == SEQ {
            return Err(ctx.error(ctx.rest_at, ErrorKind::SeqIsReserved));
        }
        let value_text = value.trim();
        let value_at = ctx.text.len() - value.trim_start().len();
        let value = self.template(ctx, value_at, value_text)?;
        self.defined.insert(name.to_string());
        Ok(Action::Set {
            name: name.to_string(),
            value,
        })
    }

    fn finish(mut self) -> Result<Scenario, Vec<ScenarioError>> {
        while let Some(open) = self.open.pop() {
            self.errors.push(ScenarioError {
                pos: open.pos,
                kind: ErrorKind::RepeatWithoutEnd,
            });
        }
        for (name, pos) in std::mem::take(&mut self.used) {
            if name != SEQ && !self.defined.contains(&name) && !self.known.contains(&name) {
                self.errors.push(ScenarioError {
                    pos,
                    kind: ErrorKind::UnknownVariable(name),
                });
            }
        }
        if !self.errors.is_empty() {
            self.errors.sort_by_key(|e| e.pos);
            return Err(self.errors);
        }
        let cases = if self.cases.is_empty() {
            vec![Case {
                name: None,
                pos: Pos { line: 1, column: 1 },
                body: self.top,
            }]
        } else {
            self.cases
        };
        Ok(Scenario {
            sessions: self.sessions,
            framing: self.framing,
            prelude: self.prelude,
            cases,
        })
    }
}

/// One line being read.
struct Line<'l> {
    number: u32,
    /// The line without its comment.
    text: &'l str,
    /// The keyword's position.
    pos: Pos,
    /// What follows the keyword, trimmed.
    rest: &'l str,
    /// Byte offset of `rest`.
    rest_at: usize,
}

impl Line<'_> {
    fn error(&self, at: usize, kind: ErrorKind) -> ScenarioError {
        ScenarioError {
            pos: Pos {
                line: self.number,
                column: col(self.text, at),
            },
            kind,
        }
    }

    /// Byte offset of the keyword.
    fn pos_offset(&self) -> usize {
        self.text
            .char_indices()
            .nth(self.pos.column.saturating_sub(1) as usize)
            .map_or(0, |(i, _)| i)
    }
}

/// The one word a setting takes.
fn one_word<'l>(
    ctx: &Line<'l>,
    args: &[(usize, &'l str)],
    missing: Needed,
) -> Result<(usize, &'l str), ScenarioError> {
    match args {
        [word] => Ok(*word),
        [] => Err(ctx.error(ctx.rest_at, ErrorKind::Missing(missing))),
        [_, (extra_at, extra), ..] => {
            Err(ctx.error(*extra_at, ErrorKind::Unexpected(extra.to_string())))
        }
    }
}

/// Milliseconds or `forever`.
fn wait(text: &str) -> Option<Wait> {
    if text == "forever" {
        return Some(Wait::Forever);
    }
    text.parse()
        .ok()
        .map(|ms| Wait::Limit(Duration::from_millis(ms)))
}

fn number_error(what: &'static str, given: &str) -> ErrorKind {
    ErrorKind::Number {
        what,
        given: given.to_string(),
    }
}

/// Bytes of the first `column - 1` characters of `text` (a 1-based column to an offset).
fn char_bytes(text: &str, column: usize) -> usize {
    text.char_indices()
        .nth(column.saturating_sub(1))
        .map_or(text.len(), |(i, _)| i)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::SessionKind;

    fn ok(text: &str) -> Scenario {
        parse(text, &[]).unwrap_or_else(|errors| {
            let lines: Vec<String> = errors.iter().map(ToString::to_string).collect();
            panic!("{text}\n{}", lines.join("\n"))
        })
    }

    /// The issue's example, as written there.
    const THERMOMETER: &str = "# thermometer.sdbg
session tcp-client:127.0.0.1:6001     # what to open; a server waits for its first client
encoding gbk                          # text payloads and matches (default utf-8)
timeout 1000                          # default for expect, ms
framing len:u32be                     # optional: expect matches whole frames

send text:READ\\r\\n                    # escapes always on in scenario text
expect regex:TEMP=(?P<t>[0-9.]+) within 500   # named groups become variables
send text:ACK ${t}\\r\\n
repeat 100
  send hex:01 03 00 ${seq} 00 01 checksum=crc16-modbus
  expect hex-starts-with:01 03
end
sleep 200
";

    #[test]
    fn reads_the_issue_example() {
        let scenario = ok(THERMOMETER);
        assert_eq!(scenario.sessions.len(), 1);
        assert_eq!(scenario.sessions[0].spec.kind, SessionKind::TcpClient);
        assert_eq!(scenario.framing.to_string(), "len:u32be");
        assert_eq!(scenario.cases.len(), 1);
        let body = &scenario.cases[0].body;
        assert_eq!(body.len(), 5);
        let Action::Send { options, .. } = &body[0].action else {
            panic!("send");
        };
        assert_eq!(options.encoding, TextEncoding::Gbk);
        assert!(options.escapes);
        let Action::Expect { expect, within } = &body[1].action else {
            panic!("expect");
        };
        assert_eq!(*within, Wait::Limit(Duration::from_millis(500)));
        assert_eq!(expect.written, "regex:TEMP=(?P<t>[0-9.]+)");
        assert_eq!(body[1].pos, Pos { line: 8, column: 1 });
        let Action::Repeat { times, body: inner } = &body[3].action else {
            panic!("repeat");
        };
        assert!(matches!(times, Times::Count(100)));
        let Action::Send { options, .. } = &inner[0].action else {
            panic!("send");
        };
        assert!(options.hex);
        assert_eq!(options.checksum, Checksum::Crc16Modbus);
        assert_eq!(
            inner[0].pos,
            Pos {
                line: 11,
                column: 3
            }
        );
        assert_eq!(
            inner[0].source,
            "send hex:01 03 00 ${seq} 00 01 checksum=crc16-modbus"
        );
        let Action::Expect { within, .. } = &inner[1].action else {
            panic!("expect");
        };
        assert_eq!(*within, Wait::Limit(Duration::from_millis(1000)));
        assert!(matches!(body[4].action, Action::Sleep { .. }));
    }

    #[test]
    fn statements_and_their_shapes() {
        let scenario = ok("session dev tcp-client:127.0.0.1:6001
session log udp-client:127.0.0.1:7000
line-ending crlf
checksum xor8
set who = world
set greeting = hello ${who}
case handshake
  send text:HELLO
  send text:x line-ending=none checksum=none
  use log
  send-file data/firmware.bin
  use dev
  expect text:OK within forever
  expect nothing within 50
  expect closed
  expect closed within 20
  repeat until contains:READY within 3000
    send text:STATUS?
    sleep 100
  end
  repeat forever
    repeat 2
      expect starts-with:x
    end
  end
  close
case second
  expect hex:01 02 03
");
        assert_eq!(scenario.sessions.len(), 2);
        assert_eq!(scenario.prelude.len(), 2);
        assert_eq!(scenario.cases.len(), 2);
        assert_eq!(scenario.cases[0].name.as_deref(), Some("handshake"));
        let body = &scenario.cases[0].body;
        let Action::Send { options, .. } = &body[0].action else {
            panic!("send");
        };
        assert_eq!(
            (options.line_ending, options.checksum),
            (LineEnding::CrLf, Checksum::Xor8)
        );
        let Action::Send { options, .. } = &body[1].action else {
            panic!("send");
        };
        assert_eq!(
            (options.line_ending, options.checksum),
            (LineEnding::None, Checksum::None)
        );
        assert_eq!(body[2].session, 1, "use log");
        assert!(
            matches!(&body[2].action, Action::SendFile { path } if path == "data/firmware.bin")
        );
        assert_eq!(body[3].session, 0, "use dev");
        assert!(matches!(
            body[3].action,
            Action::Expect {
                within: Wait::Forever,
                ..
            }
        ));
        assert!(
            matches!(body[4].action, Action::ExpectNothing { within } if within == Duration::from_millis(50))
        );
        assert!(matches!(
            body[5].action,
            Action::ExpectClosed {
                within: Wait::Limit(_)
            }
        ));
        assert!(
            matches!(&body[7].action, Action::Repeat { times: Times::Until { .. }, body } if body.len() == 2)
        );
        let Action::Repeat {
            times: Times::Forever,
            body: forever,
        } = &body[8].action
        else {
            panic!("forever");
        };
        assert!(
            matches!(&forever[0].action, Action::Repeat { times: Times::Count(2), body } if body.len() == 1)
        );
        assert!(matches!(body[9].action, Action::Close));
        assert_eq!(scenario.statements().len(), 17);
    }

    #[test]
    fn comments_and_hashes() {
        let scenario = ok("# a comment\n   # indented\nsend text:#1 # a comment\nsend text:a#b\n");
        let sources: Vec<&str> = scenario.cases[0]
            .body
            .iter()
            .map(|s| s.source.as_str())
            .collect();
        assert_eq!(sources, ["send text:#1", "send text:a#b"]);
        let Action::Send { payload, .. } = &scenario.cases[0].body[0].action else {
            panic!("send");
        };
        assert_eq!(payload.literal().as_deref(), Some("#1"));
    }

    #[test]
    fn variables_are_known_from_set_groups_and_outside() {
        let port = [("port".to_string(), "6001".to_string())];
        assert!(parse("send text:${port}", &port).is_ok());
        let scenario = parse("session tcp-client:127.0.0.1:${port}", &port).expect("expanded");
        assert_eq!(scenario.sessions[0].spec.port, 6001);
        let errors = parse("session tcp-client:h:${nope}", &port).expect_err("unknown");
        assert_eq!(errors[0].to_string().get(..4), Some("1:22"));
        assert!(parse("send text:${seq}", &[]).is_ok());
        assert!(parse("send text:${later}\nexpect regex:(?P<later>x)", &[]).is_ok());
        assert!(parse("expect regex:${x}y\nset x = 1", &[]).is_ok());
    }

    #[test]
    fn every_error_names_its_line_and_column() {
        let table: &[(&str, &str)] = &[
            ("bogus 1", "1:1: unknown statement 'bogus'"),
            ("  send", "1:7: send needs a payload"),
            (
                "send txt:hi",
                "1:6: payload 'txt:hi' must start with text: or hex:",
            ),
            (
                "send hex:01 0G",
                "1:14: invalid hex: 'G' at column 5 is not a hex digit",
            ),
            (
                "send hex:01 123",
                "1:13: invalid hex: '123' at column 4 has an odd number",
            ),
            ("send text:ab\\q", "1:13: bad escape: unknown escape '\\q'"),
            ("encoding gbk\nsend text:a😀", "2:12: '😀'"),
            ("send text:", "1:11: nothing to send"),
            ("send text:a checksum=md5", "1:22: unknown checksum 'md5'"),
            (
                "send text:a line-ending=lfcr",
                "1:25: unknown line ending 'lfcr'",
            ),
            ("expect", "1:7: expect needs a match"),
            ("expect foo:x", "1:8: unknown match prefix 'foo:'"),
            ("expect ping", "1:8: match 'ping' needs a prefix"),
            ("expect regex:a(b", "1:15: invalid regex: unclosed group"),
            ("expect hex-contains:0x1", "1:21: invalid hex"),
            (
                "expect text:a within x",
                "1:22: within needs a number, got 'x'",
            ),
            ("expect text:a within", "1:15: within needs milliseconds"),
            ("expect nothing", "1:8: expect nothing needs within MS"),
            ("expect text:${nope}", "1:13: unknown variable 'nope'"),
            ("send text:${x", "1:11: '${' without a closing '}'"),
            ("send hex:${x:u24}", "1:10: unknown variable format 'u24'"),
            (
                "session tcp-client:127.0.0.1:0",
                "1:30: a client needs a port",
            ),
            ("session tcp-serv:1", "1:9: unknown session kind 'tcp-serv'"),
            (
                "session a tcp-server:1\nsession a tcp-server:2",
                "2:9: 'a' is already the name of another session",
            ),
            ("session a = tcp-server:1", "1:11: unexpected '='"),
            (
                "send text:x\nsession tcp-server:1",
                "2:1: session must come before",
            ),
            (
                "send text:x\nframing len:u8",
                "2:1: framing must come before",
            ),
            ("framing len:u24", "1:13: invalid framing 'len:u24'"),
            ("framing delim:0a,max=x", "1:22: invalid framing"),
            ("framing idle:50", "1:9: idle framing cannot cut frames"),
            ("encoding latin9", "1:10: unknown encoding 'latin9'"),
            ("timeout soon", "1:9: timeout needs a number, got 'soon'"),
            ("sleep", "1:6: sleep needs milliseconds"),
            ("sleep 1 2", "1:9: unexpected '2'"),
            ("close now", "1:7: unexpected 'now'"),
            ("use x", "1:5: no session named 'x'"),
            ("repeat", "1:7: repeat needs a count"),
            ("repeat many", "1:8: repeat needs a number, got 'many'"),
            ("repeat until", "1:13: repeat until needs a match"),
            ("repeat 2\n  send text:x", "1:1: repeat without its end"),
            ("end", "1:1: end without a repeat"),
            ("  end x", "1:7: unexpected 'x'"),
            (
                "repeat 2\ncase a\nend",
                "2:1: case inside the repeat of line 1",
            ),
            (
                "send text:x\ncase a",
                "1:1: a file with cases runs statements only inside a case",
            ),
            (
                "case a\ncase a",
                "2:6: 'a' is already the name of another case",
            ),
            ("case", "1:5: case needs a name"),
            ("set x", "1:5: set needs NAME = VALUE"),
            ("set seq = 1", "1:5: 'seq' is the run's send counter"),
            ("set x = ${y}", "1:9: unknown variable 'y'"),
            ("send-file", "1:10: send-file needs a path"),
        ];
        for (text, want) in table {
            let errors = parse(text, &[]).expect_err(text);
            let got = errors[0].to_string();
            assert!(got.starts_with(want), "{text:?}\n got: {got}\nwant: {want}");
        }
    }

    #[test]
    fn all_errors_of_a_file_come_together() {
        let errors = parse("send txt:a\nexpect foo:b\nsleep x\n", &[]).expect_err("three");
        let lines: Vec<u32> = errors.iter().map(|e| e.pos.line).collect();
        assert_eq!(lines, [1, 2, 3]);
    }
}
