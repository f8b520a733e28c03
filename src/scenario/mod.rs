//! Scenarios: send/expect test scripts (`*.sdbg`) that turn a debugging session into a
//! repeatable device test. This module is the language, pure (no tokio, no egui): the file
//! is parsed ([`syntax`]) into a [`Scenario`] whose statements know their source position;
//! [`vars`] holds variables and their expansion, [`matching`] what an `expect` compares;
//! [`sending`] lends the variables to the window's and the headless mode's sends.
//! The engine runs a scenario as a job on a session (`engine::scenario`); `sockdbg test`
//! runs files from the command line (`crate::testing`).
//!
//! The grammar, with examples, is in `docs/scenarios.md`.

pub mod matching;
pub mod record;
pub mod sending;
pub mod syntax;
pub mod vars;

use std::time::Duration;

use crate::codec::framing::{Framing, FramingError};
use crate::codec::names::UnknownName;
use crate::codec::reply::{MatchError, MatchKind};
use crate::codec::send::{PayloadPrefixError, SendError, SendOptions};
use crate::codec::text::TextEncoding;
use crate::spec::{SessionSpec, SpecError};
pub use matching::{Expectation, Found};
pub use syntax::parse;
pub use vars::{Template, VarError, Vars};

/// Where a statement (or a part of it) is: 1-based line and column (in characters).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Pos {
    /// 1-based line.
    pub line: u32,
    /// 1-based column, in characters.
    pub column: u32,
}

/// A parsed scenario file.
#[derive(Clone, Debug)]
pub struct Scenario {
    /// The `session` lines, in order; the first is the one the run is attached to. Empty
    /// when the file leaves the sessions to its runner (`--headless SESSION --scenario`).
    pub sessions: Vec<SessionDecl>,
    /// How received bytes are cut for `expect` (`Framing::Raw`: a stream).
    pub framing: Framing,
    /// `set` lines before the first case: run once at the start of each run.
    pub prelude: Vec<Statement>,
    /// The test cases; one unnamed case when the file has no `case` line.
    pub cases: Vec<Case>,
}

/// One `session [NAME] SPEC` line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionDecl {
    /// The name `use NAME` refers to, if given.
    pub name: Option<String>,
    /// What to open.
    pub spec: SessionSpec,
    /// Where the line is.
    pub pos: Pos,
}

/// A `case NAME` section (or the whole file).
#[derive(Clone, Debug)]
pub struct Case {
    /// The case's name; `None` for a file without `case` lines.
    pub name: Option<String>,
    /// Where the `case` line is (line 1 for an unnamed case).
    pub pos: Pos,
    /// Its statements.
    pub body: Vec<Statement>,
}

/// One statement as written.
#[derive(Clone, Debug)]
pub struct Statement {
    /// Where its keyword is.
    pub pos: Pos,
    /// The line as written, without its comment (for reports).
    pub source: String,
    /// Index in [`Scenario::sessions`] of the session it acts on.
    pub session: usize,
    /// What it does.
    pub action: Action,
}

/// How long a wait may last.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wait {
    /// At most this long.
    Limit(Duration),
    /// As long as it takes (`within forever`).
    Forever,
}

/// What an `expect` (or `repeat until`) looks for.
#[derive(Clone, Debug)]
pub struct ExpectSpec {
    /// How the pattern is compared.
    pub kind: MatchKind,
    /// The pattern is hex.
    pub hex: bool,
    /// The pattern, with its variable references.
    pub pattern: Template,
    /// The encoding of text patterns and of decoded received bytes.
    pub encoding: TextEncoding,
    /// The match as written (`regex:TEMP=(?P<t>…)`), for reports.
    pub written: String,
    /// Compiled once when the pattern has no variables.
    pub compiled: Option<Expectation>,
}

/// How many times a `repeat` runs its body.
#[derive(Clone, Debug)]
pub enum Times {
    /// `repeat N`.
    Count(u64),
    /// `repeat forever`: until the connection closes or the run is stopped.
    Forever,
    /// `repeat until MATCH [within MS]`: until MATCH has arrived after a pass.
    Until {
        /// What ends the loop.
        expect: Box<ExpectSpec>,
        /// How long the whole loop may take.
        within: Wait,
    },
}

/// What a statement does.
#[derive(Clone, Debug)]
pub enum Action {
    /// `send PAYLOAD [checksum=ALGO] [line-ending=END]`.
    Send {
        /// The payload with its references.
        payload: Template,
        /// Hex or text, encoding, escapes (always on), line ending, checksum.
        options: SendOptions,
    },
    /// `send-file PATH` (relative to the scenario file's folder).
    SendFile {
        /// The path as written.
        path: String,
    },
    /// `expect MATCH [within MS]`.
    Expect {
        /// What must arrive.
        expect: ExpectSpec,
        /// How long it may take.
        within: Wait,
    },
    /// `expect nothing within MS`: no byte may arrive for that long.
    ExpectNothing {
        /// How long.
        within: Duration,
    },
    /// `expect closed [within MS]`: the peer closes the connection.
    ExpectClosed {
        /// How long it may take.
        within: Wait,
    },
    /// `set NAME = VALUE`.
    Set {
        /// The variable.
        name: String,
        /// Its value, with references.
        value: Template,
    },
    /// `repeat … end`.
    Repeat {
        /// How many passes.
        times: Times,
        /// The statements repeated.
        body: Vec<Statement>,
    },
    /// `sleep MS`.
    Sleep {
        /// How long.
        duration: Duration,
    },
    /// `close`: closes the session's connection (its client, on a server).
    Close,
}

/// What is wrong with a line of a scenario file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ErrorKind {
    /// The first word is not a statement.
    #[error(
        "unknown statement '{0}' (expected session, use, encoding, timeout, framing, line-ending, checksum, send, send-file, expect, set, repeat, end, sleep, close or case)"
    )]
    UnknownStatement(String),
    /// A statement lacks what it needs.
    #[error("{0}")]
    Missing(Needed),
    /// Something follows that the statement does not take.
    #[error("unexpected '{0}'")]
    Unexpected(String),
    /// A payload without `text:` or `hex:`.
    #[error(transparent)]
    Payload(#[from] PayloadPrefixError),
    /// A payload that cannot become bytes (bad hex, a bad escape, an unencodable character).
    #[error(transparent)]
    Send(#[from] SendError),
    /// A match that cannot be used.
    #[error(transparent)]
    Match(#[from] MatchError),
    /// A session spec that cannot be used.
    #[error(transparent)]
    Spec(#[from] SpecError),
    /// A framing that cannot be used.
    #[error(transparent)]
    Framing(#[from] FramingError),
    /// `framing idle:MS` (its frames end on time, not on bytes).
    #[error("idle framing cannot cut frames for expect (use delim:, fixed: or len:)")]
    IdleFraming,
    /// An unknown checksum, line ending or encoding.
    #[error(transparent)]
    Name(#[from] UnknownName),
    /// A number (milliseconds, a count) that is not one.
    #[error("{what} needs a number, got '{given}'")]
    Number {
        /// What needed it.
        what: &'static str,
        /// What was written.
        given: String,
    },
    /// A literal pattern that cannot become bytes (its parts were checked one by one).
    #[error(transparent)]
    Expand(#[from] vars::ExpandError),
    /// A bad `${…}`.
    #[error(transparent)]
    Var(#[from] VarError),
    /// A `${NAME}` that nothing sets.
    #[error(
        "unknown variable '{0}' (set it with `set {0} = …`, a regex group (?P<{0}>…) or --var {0}=…)"
    )]
    UnknownVariable(String),
    /// `seq` cannot be set.
    #[error("'seq' is the run's send counter and cannot be set")]
    SeqIsReserved,
    /// `use NAME` of a session the file does not declare.
    #[error("no session named '{0}' (declare it with `session {0} SPEC`)")]
    UnknownSession(String),
    /// Two sessions, or two cases, with one name.
    #[error("'{0}' is already the name of another {1}")]
    Duplicate(String, &'static str),
    /// `session` or `framing` after the first statement that acts.
    #[error("{0} must come before the first case and the first send or expect")]
    HeaderOnly(&'static str),
    /// Something that acts before the first `case` of a file that has cases.
    #[error("a file with cases runs statements only inside a case (move this below a `case` line)")]
    ActionBeforeCase,
    /// `case` inside a `repeat`.
    #[error("case inside the repeat of line {0} (close it with `end` first)")]
    CaseInRepeat(u32),
    /// `end` without a `repeat`.
    #[error("end without a repeat")]
    EndWithoutRepeat,
    /// A `repeat` never closed.
    #[error("repeat without its end")]
    RepeatWithoutEnd,
    /// A file (or a part of it) that cannot run without a session.
    #[error(
        "no session to run on: add a line `session SPEC` (e.g. session tcp-client:127.0.0.1:6001)"
    )]
    NoSession,
    /// A `send-file` whose file cannot be read.
    #[error("cannot read '{path}': {reason}")]
    File {
        /// The path as written.
        path: String,
        /// Why.
        reason: String,
    },
    /// The file itself cannot be read.
    #[error("cannot read the file: {0}")]
    Unreadable(String),
}

/// What a statement lacks ([`ErrorKind::Missing`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Needed {
    /// `use needs a session name`.
    #[error("use needs a session name")]
    UseName,
    /// `send-file needs a path`.
    #[error("send-file needs a path")]
    SendFilePath,
    /// `a session name is letters, digits, _ and -`.
    #[error("a session name is letters, digits, _ and -")]
    SessionNameChars,
    /// `session needs a spec, e.g. tcp-client:127.0.0.1:6001`.
    #[error("session needs a spec, e.g. tcp-client:127.0.0.1:6001")]
    SessionSpec,
    /// `case needs a name`.
    #[error("case needs a name")]
    CaseName,
    /// `repeat needs a count, forever, or until MATCH`.
    #[error("repeat needs a count, forever, or until MATCH")]
    RepeatCount,
    /// `repeat until needs a match`.
    #[error("repeat until needs a match")]
    UntilMatch,
    /// `within needs milliseconds`.
    #[error("within needs milliseconds")]
    WithinMs,
    /// `expect needs a match (text:, contains:, regex:, hex:, …), nothing or closed`.
    #[error("expect needs a match (text:, contains:, regex:, hex:, …), nothing or closed")]
    ExpectMatch,
    /// `expect nothing needs within MS`.
    #[error("expect nothing needs within MS")]
    NothingWithin,
    /// `send needs a payload: text:… or hex:…`.
    #[error("send needs a payload: text:… or hex:…")]
    SendPayload,
    /// `set needs NAME = VALUE`.
    #[error("set needs NAME = VALUE")]
    SetNameValue,
    /// `set needs NAME = VALUE (a name is letters, digits, _ and -)`.
    #[error("set needs NAME = VALUE (a name is letters, digits, _ and -)")]
    SetName,
    /// `encoding needs a name (utf-8, gbk, …)`.
    #[error("encoding needs a name (utf-8, gbk, …)")]
    EncodingName,
    /// `line-ending needs none, cr, lf or crlf`.
    #[error("line-ending needs none, cr, lf or crlf")]
    LineEnding,
    /// `checksum needs an algorithm`.
    #[error("checksum needs an algorithm")]
    Checksum,
    /// `timeout needs milliseconds`.
    #[error("timeout needs milliseconds")]
    TimeoutMs,
    /// `framing needs a framing (delim:0a, len:u32be, …)`.
    #[error("framing needs a framing (delim:0a, len:u32be, …)")]
    Framing,
    /// `sleep needs milliseconds`.
    #[error("sleep needs milliseconds")]
    SleepMs,
}

/// An error in a scenario file, at its line and column: `LINE:COL: what is wrong`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}:{}: {kind}", pos.line, pos.column)]
pub struct ScenarioError {
    /// Where.
    pub pos: Pos,
    /// What.
    pub kind: ErrorKind,
}

impl ExpectSpec {
    /// The expectation with the run's values inserted (compiled once at parse time when
    /// the pattern has no variables).
    ///
    /// # Errors
    /// [`vars::ExpandError`] for an unset variable, a value that does not fit, or a regex
    /// that no longer compiles with the values inserted.
    pub fn compile(&self, vars: &Vars) -> Result<Expectation, vars::ExpandError> {
        if let Some(compiled) = &self.compiled {
            return Ok(compiled.clone());
        }
        if self.kind == MatchKind::Regex {
            let text = vars.regex(&self.pattern)?;
            let regex = regex::bytes::Regex::new(&text)
                .map_err(|e| vars::ExpandError::Regex(e.to_string()))?;
            return Ok(Expectation::Regex {
                regex,
                encoding: self.encoding,
            });
        }
        Ok(Expectation::Bytes {
            kind: self.kind,
            pattern: vars.body(&self.pattern, self.hex, self.encoding)?,
            text: !self.hex,
        })
    }
}

impl Scenario {
    /// Every statement, nested ones included, in file order.
    pub fn statements(&self) -> Vec<&Statement> {
        fn walk<'a>(list: &'a [Statement], out: &mut Vec<&'a Statement>) {
            for statement in list {
                out.push(statement);
                if let Action::Repeat { body, .. } = &statement.action {
                    walk(body, out);
                }
            }
        }
        let mut out = Vec::new();
        walk(&self.prelude, &mut out);
        for case in &self.cases {
            walk(&case.body, &mut out);
        }
        out
    }
}
