//! Auto-reply rules: what received data a rule matches and what it answers. Pure data and
//! matching; the engine evaluates the rules on every received chunk (one read or datagram),
//! so replies go out without a round trip through the UI.
//!
//! Matching. Text kinds (`Exact`, `Contains`, `StartsWith`, `Regex`) decode the received
//! bytes with the rule's encoding and ignore one trailing line ending (`\r\n`, `\n` or `\r`),
//! so `ping` matches what `telnet` sends for `ping`. With `pattern_hex`, the pattern is hex
//! bytes and `Exact`/`Contains`/`StartsWith` compare raw bytes. `Any` matches everything.
//!
//! Replying. `Echo` sends the received bytes back unchanged. `Send` runs the reply through
//! the send pipeline with the rule's [`SendOptions`] (hex or text, escapes, encoding, line
//! ending, checksum). In a text reply these placeholders are replaced by the received text
//! (line ending removed) and are not escape-processed: `{data}` as received, `{upper}` in
//! upper case, `{lower}` in lower case. The seed programs' behaviours are therefore
//! `Any => {upper}` (upper-case echo) and `Any => Hello, {data}!`.
//!
//! Rules are ordered: the first enabled rule that matches answers; the others are skipped.

use regex::Regex;
use serde::{Deserialize, Serialize};

use crate::codec::escape::{Piece, literal, unescape};
use crate::codec::hex::{HexError, parse_hex};
use crate::codec::send::{
    SendError, SendOptions, build_payload, encode_pieces, finish_payload, split_payload,
};
use crate::codec::text::{Following, TextEncoding, decode_for_display};

/// How a rule's pattern is compared with received data.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum MatchKind {
    /// Every received chunk.
    Any,
    /// The whole chunk equals the pattern.
    #[default]
    Exact,
    /// The chunk contains the pattern.
    Contains,
    /// The chunk starts with the pattern.
    StartsWith,
    /// The decoded text matches the regular expression (text only).
    Regex,
}

impl MatchKind {
    /// Every kind, in the order the window lists them.
    pub const ALL: [MatchKind; 5] = [
        MatchKind::Any,
        MatchKind::Exact,
        MatchKind::Contains,
        MatchKind::StartsWith,
        MatchKind::Regex,
    ];

    /// The label shown in the window.
    pub fn label(self) -> &'static str {
        match self {
            MatchKind::Any => "anything",
            MatchKind::Exact => "exactly",
            MatchKind::Contains => "contains",
            MatchKind::StartsWith => "starts with",
            MatchKind::Regex => "regex",
        }
    }
}

/// What a rule answers.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ReplyKind {
    /// The received bytes, unchanged.
    Echo,
    /// The rule's reply, through the send pipeline.
    #[default]
    Send,
}

/// One auto-reply rule.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ReplyRule {
    /// Shown in the log when the rule answers.
    pub name: String,
    /// Disabled rules are skipped.
    pub enabled: bool,
    /// How the pattern is compared.
    pub match_kind: MatchKind,
    /// The pattern is hex bytes rather than text.
    pub pattern_hex: bool,
    /// Text, hex or a regular expression, per `match_kind` and `pattern_hex`.
    pub pattern: String,
    /// Echo or send `reply`.
    pub reply_kind: ReplyKind,
    /// The reply (text template or hex, per `options.hex`).
    pub reply: String,
    /// How the reply becomes bytes; its encoding also decodes received text for matching.
    pub options: SendOptions,
}

impl Default for ReplyRule {
    fn default() -> Self {
        Self {
            name: String::new(),
            enabled: true,
            match_kind: MatchKind::Exact,
            pattern_hex: false,
            pattern: String::new(),
            reply_kind: ReplyKind::Send,
            reply: String::new(),
            options: SendOptions {
                escapes: true,
                ..SendOptions::default()
            },
        }
    }
}

/// What a rule is, for the log: its name, pattern and reply as the user typed them. The
/// i18n table words it (`contains "ping" => "pong\r\n"`, the texts quoted once, as typed).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleSummary {
    /// The rule's name (may be empty).
    pub name: String,
    /// How the pattern is compared.
    pub match_kind: MatchKind,
    /// The pattern is hex bytes.
    pub pattern_hex: bool,
    /// The pattern as typed.
    pub pattern: String,
    /// What it answers.
    pub reply: ReplySummary,
}

/// What a rule answers, as typed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ReplySummary {
    /// The received bytes.
    Echo,
    /// Hex bytes, as typed.
    Hex(String),
    /// A text template, as typed (escapes not yet replaced).
    Text(String),
}

impl ReplyRule {
    /// What the rule is, for lists and the log.
    pub fn summary(&self) -> RuleSummary {
        let reply = match self.reply_kind {
            ReplyKind::Echo => ReplySummary::Echo,
            ReplyKind::Send if self.options.hex => ReplySummary::Hex(self.reply.clone()),
            ReplyKind::Send => ReplySummary::Text(self.reply.clone()),
        };
        RuleSummary {
            name: self.name.clone(),
            match_kind: self.match_kind,
            pattern_hex: self.pattern_hex,
            pattern: self.pattern.clone(),
            reply,
        }
    }

    /// Parses the headless `--reply 'MATCH=>REPLY'` form. MATCH is `text:T` (exact),
    /// `contains:T`, `starts-with:T`, `regex:R`, `hex:HH..` (exact bytes), `hex-contains:HH..`,
    /// `hex-starts-with:HH..` or `*` (anything); REPLY is `text:T` (a template), `hex:HH..`
    /// or `echo`. `options` (from `--encoding`, `--escapes`, `--line-ending`, `--checksum`)
    /// shape the reply like any other send.
    ///
    /// # Errors
    /// A message naming what is wrong with the rule.
    pub fn parse_cli(spec: &str, options: SendOptions) -> Result<Self, String> {
        let Some((matcher, reply)) = spec.split_once("=>") else {
            return Err(format!("'{spec}' has no '=>' (expected MATCH=>REPLY)"));
        };
        let mut rule = ReplyRule {
            options,
            ..ReplyRule::default()
        };
        let spec = if matcher.trim() == "*" {
            MatchSpec {
                kind: MatchKind::Any,
                hex: false,
                pattern: String::new(),
            }
        } else {
            MatchSpec::parse(matcher).map_err(|e| e.to_string())?
        };
        rule.match_kind = spec.kind;
        rule.pattern_hex = spec.hex;
        rule.pattern = spec.pattern;
        if reply.trim() == "echo" {
            rule.reply_kind = ReplyKind::Echo;
        } else {
            let Ok(payload) = split_payload(reply) else {
                return Err(format!("reply '{reply}' must be text:..., hex:... or echo"));
            };
            rule.options.hex = payload.hex;
            rule.reply = payload.body.to_string();
        }
        RuleSet::compile(std::slice::from_ref(&rule)).map_err(|e| e.to_string())?;
        Ok(rule)
    }
}

/// A match as users write it on the command line (`--reply`) and in scenario files:
/// `text:T` (exact), `contains:T`, `starts-with:T`, `regex:R`, `hex:HH..` (exact bytes),
/// `hex-contains:HH..` or `hex-starts-with:HH..`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MatchSpec {
    /// How the pattern is compared.
    pub kind: MatchKind,
    /// The pattern is hex bytes.
    pub hex: bool,
    /// The pattern as written after the prefix.
    pub pattern: String,
}

/// The prefixes of a match, with the kind and hex flag each stands for.
pub const MATCH_PREFIXES: [(&str, MatchKind, bool); 7] = [
    ("text", MatchKind::Exact, false),
    ("contains", MatchKind::Contains, false),
    ("starts-with", MatchKind::StartsWith, false),
    ("regex", MatchKind::Regex, false),
    ("hex", MatchKind::Exact, true),
    ("hex-contains", MatchKind::Contains, true),
    ("hex-starts-with", MatchKind::StartsWith, true),
];

/// Why a match cannot be used. Columns are 1-based characters within the match as written
/// (prefix included).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MatchError {
    /// No `prefix:` at all.
    #[error(
        "match '{0}' needs a prefix: text:, contains:, starts-with:, regex:, hex:, hex-contains:, hex-starts-with: or *"
    )]
    NoPrefix(String),
    /// A prefix that is not one of [`MATCH_PREFIXES`].
    #[error("unknown match prefix '{0}:'")]
    UnknownPrefix(String),
    /// A hex pattern that is not hex.
    #[error("invalid hex pattern: {error}")]
    Hex {
        /// What is wrong, its column counted within the pattern.
        error: HexError,
        /// Column within the match.
        column: usize,
    },
    /// A regular expression that does not compile.
    #[error("invalid regex: {message}")]
    Regex {
        /// The regex crate's reason, on one line.
        message: String,
        /// Column within the match.
        column: usize,
    },
}

impl MatchError {
    /// The 1-based column of what is wrong within the match as written.
    pub fn column(&self) -> usize {
        match self {
            MatchError::NoPrefix(_) | MatchError::UnknownPrefix(_) => 1,
            MatchError::Hex { column, .. } | MatchError::Regex { column, .. } => *column,
        }
    }

    /// The same error with its column moved `by` characters to the right (when the match
    /// was part of a longer text).
    pub fn shifted(self, by: usize) -> Self {
        match self {
            MatchError::Hex { error, column } => MatchError::Hex {
                error,
                column: column + by,
            },
            MatchError::Regex { message, column } => MatchError::Regex {
                message,
                column: column + by,
            },
            other => other,
        }
    }
}

impl MatchSpec {
    /// Splits `PREFIX:PATTERN` into kind, hex flag and pattern (returned with the byte
    /// offset where it starts), without checking the pattern.
    ///
    /// # Errors
    /// [`MatchError::NoPrefix`] or [`MatchError::UnknownPrefix`].
    pub fn split(text: &str) -> Result<(MatchKind, bool, &str, usize), MatchError> {
        let Some((prefix, pattern)) = text.split_once(':') else {
            return Err(MatchError::NoPrefix(text.to_string()));
        };
        let (_, kind, hex) = MATCH_PREFIXES
            .iter()
            .find(|(name, _, _)| *name == prefix)
            .ok_or_else(|| MatchError::UnknownPrefix(prefix.to_string()))?;
        Ok((*kind, *hex, pattern, prefix.len() + 1))
    }

    /// Parses and checks a match: its hex parses, its regex compiles.
    ///
    /// # Errors
    /// [`MatchError`] with the column of what is wrong.
    pub fn parse(text: &str) -> Result<Self, MatchError> {
        let (kind, hex, pattern, offset) = Self::split(text)?;
        check_pattern(kind, hex, pattern).map_err(|e| e.shifted(text[..offset].chars().count()))?;
        Ok(Self {
            kind,
            hex,
            pattern: pattern.to_string(),
        })
    }
}

/// Checks a pattern of `kind`: hex must parse, a regex must compile. Columns are counted
/// within `pattern`.
///
/// # Errors
/// [`MatchError::Hex`] or [`MatchError::Regex`].
pub fn check_pattern(kind: MatchKind, hex: bool, pattern: &str) -> Result<(), MatchError> {
    if hex {
        parse_hex(pattern).map_err(|error| MatchError::Hex {
            column: error.column(),
            error,
        })?;
    } else if kind == MatchKind::Regex {
        compile_regex(pattern)?;
    }
    Ok(())
}

/// Compiles a regular expression, or says what is wrong with it and in which column.
///
/// # Errors
/// [`MatchError::Regex`] with a one-line reason and the 1-based column within `pattern`.
pub fn compile_regex(pattern: &str) -> Result<Regex, MatchError> {
    Regex::new(pattern).map_err(|e| {
        // regex's own message spans lines (the pattern with a caret under the fault);
        // regex-syntax gives the same fault as a kind and a span.
        let (message, column) = match regex_syntax::Parser::new().parse(pattern) {
            Err(regex_syntax::Error::Parse(e)) => (e.kind().to_string(), e.span().start.column),
            Err(regex_syntax::Error::Translate(e)) => (e.kind().to_string(), e.span().start.column),
            _ => (e.to_string(), 1),
        };
        MatchError::Regex { message, column }
    })
}

/// A rule that cannot be used, with its 1-based position.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[error("auto-reply rule {number}: {problem}")]
pub struct RuleError {
    /// 1-based position in the list.
    pub number: usize,
    /// What is wrong.
    pub problem: RuleProblem,
}

/// What is wrong with a rule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
pub enum RuleProblem {
    /// A regex on a hex pattern.
    #[error("a regex matches text, not hex")]
    RegexOnHex,
    /// The regex does not compile; the regex library's explanation.
    #[error("invalid regex: {detail}")]
    InvalidRegex {
        /// The regex library's words.
        detail: String,
    },
    /// The hex pattern is not valid hex.
    #[error("invalid hex pattern: {0}")]
    InvalidHexPattern(HexError),
    /// The reply cannot be built.
    #[error("reply: {0}")]
    Reply(SendError),
}

enum Matcher {
    Any,
    Bytes(MatchKind, Vec<u8>),
    Text(MatchKind, String),
    Regex(Regex),
}

struct CompiledRule {
    rule: ReplyRule,
    matcher: Matcher,
}

/// Rules checked and ready to match (regular expressions compiled, hex parsed).
#[derive(Default)]
pub struct RuleSet {
    rules: Vec<CompiledRule>,
}

impl std::fmt::Debug for RuleSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RuleSet")
            .field("rules", &self.rules.len())
            .finish()
    }
}

/// What a matching rule answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// 1-based position of the rule.
    pub number: usize,
    /// What the rule is, for the log.
    pub summary: RuleSummary,
    /// The reply bytes, or why they could not be built (e.g. `{data}` not encodable).
    pub bytes: Result<Vec<u8>, SendError>,
}

impl RuleSet {
    /// Checks and compiles `rules` (disabled ones too, so mistakes show early).
    ///
    /// # Errors
    /// [`RuleError`] for an invalid regular expression, invalid hex pattern, a regex on a
    /// hex pattern, or a fixed reply that cannot be built.
    pub fn compile(rules: &[ReplyRule]) -> Result<Self, RuleError> {
        let mut compiled = Vec::with_capacity(rules.len());
        for (index, rule) in rules.iter().enumerate() {
            let error = |problem| RuleError {
                number: index + 1,
                problem,
            };
            let matcher = match (rule.match_kind, rule.pattern_hex) {
                (MatchKind::Any, _) => Matcher::Any,
                (MatchKind::Regex, true) => return Err(error(RuleProblem::RegexOnHex)),
                (MatchKind::Regex, false) => {
                    Matcher::Regex(compile_regex(&rule.pattern).map_err(|e| {
                        let detail = match e {
                            MatchError::Regex { message, .. } => message,
                            other => other.to_string(),
                        };
                        error(RuleProblem::InvalidRegex { detail })
                    })?)
                }
                (kind, true) => {
                    let bytes = parse_hex(&rule.pattern)
                        .map_err(|e| error(RuleProblem::InvalidHexPattern(e)))?;
                    Matcher::Bytes(kind, bytes)
                }
                (kind, false) => Matcher::Text(kind, rule.pattern.clone()),
            };
            if rule.reply_kind == ReplyKind::Send {
                // A reply that cannot become bytes fails for every match: say so now.
                expand(rule, "").map_err(|e| error(RuleProblem::Reply(e)))?;
            }
            compiled.push(CompiledRule {
                rule: rule.clone(),
                matcher,
            });
        }
        Ok(Self { rules: compiled })
    }

    /// Whether there are no rules.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// The answer of the first enabled rule matching `data`, if any.
    pub fn answer(&self, data: &[u8]) -> Option<Answer> {
        let mut decoded: Option<(TextEncoding, String)> = None;
        for (index, compiled) in self.rules.iter().enumerate() {
            let rule = &compiled.rule;
            if !rule.enabled {
                continue;
            }
            let encoding = rule.options.encoding;
            let text = match &decoded {
                Some((e, text)) if *e == encoding => text.clone(),
                _ => {
                    let text = decode_text(data, encoding);
                    decoded = Some((encoding, text.clone()));
                    text
                }
            };
            let matched = match &compiled.matcher {
                Matcher::Any => true,
                Matcher::Bytes(kind, pattern) => bytes_match(*kind, data, pattern),
                Matcher::Text(kind, pattern) => text_match(*kind, &text, pattern),
                Matcher::Regex(regex) => regex.is_match(&text),
            };
            if !matched {
                continue;
            }
            let bytes = match rule.reply_kind {
                ReplyKind::Echo => Ok(data.to_vec()),
                ReplyKind::Send => expand(rule, &text),
            };
            return Some(Answer {
                number: index + 1,
                summary: rule.summary(),
                bytes,
            });
        }
        None
    }
}

/// Received bytes as text for matching: decoded, one trailing line ending removed.
fn decode_text(data: &[u8], encoding: TextEncoding) -> String {
    let mut text = decode_for_display(&[], data, Following::Nothing, encoding);
    for ending in ["\r\n", "\n", "\r"] {
        if let Some(stripped) = text.strip_suffix(ending) {
            text.truncate(stripped.len());
            break;
        }
    }
    text
}

/// Whether `data` (a whole message) matches `pattern` bytes as `kind` says.
pub fn bytes_match(kind: MatchKind, data: &[u8], pattern: &[u8]) -> bool {
    match kind {
        MatchKind::Any => true,
        MatchKind::Exact => data == pattern,
        MatchKind::StartsWith => data.starts_with(pattern),
        MatchKind::Contains => {
            pattern.is_empty() || data.windows(pattern.len()).any(|w| w == pattern)
        }
        MatchKind::Regex => false,
    }
}

fn text_match(kind: MatchKind, text: &str, pattern: &str) -> bool {
    match kind {
        MatchKind::Any => true,
        MatchKind::Exact => text == pattern,
        MatchKind::StartsWith => text.starts_with(pattern),
        MatchKind::Contains => text.contains(pattern),
        MatchKind::Regex => false,
    }
}

/// The reply of a `Send` rule for received text `data`.
fn expand(rule: &ReplyRule, data: &str) -> Result<Vec<u8>, SendError> {
    let options = &rule.options;
    if options.hex {
        return build_payload(&rule.reply, options);
    }
    let mut pieces: Vec<Piece> = Vec::new();
    let mut rest = rule.reply.as_str();
    let mut column = 1;
    while !rest.is_empty() {
        let next = ["{data}", "{upper}", "{lower}"]
            .iter()
            .filter_map(|p| rest.find(p).map(|at| (at, *p)))
            .min();
        let (literal_part, placeholder) = match next {
            Some((at, p)) => (&rest[..at], Some(p)),
            None => (rest, None),
        };
        let mut part = if options.escapes {
            // Columns count in the whole reply, placeholders included.
            unescape(literal_part).map_err(|e| e.shifted(column - 1))?
        } else {
            literal(literal_part)
        };
        for piece in &mut part {
            if let Piece::Text { column: c, .. } = piece {
                *c += column - 1;
            }
        }
        pieces.extend(part);
        column += literal_part.chars().count();
        rest = &rest[literal_part.len()..];
        if let Some(p) = placeholder {
            let value = match p {
                "{upper}" => data.to_uppercase(),
                "{lower}" => data.to_lowercase(),
                _ => data.to_string(),
            };
            pieces.push(Piece::Text {
                text: value,
                column,
            });
            column += p.chars().count();
            rest = &rest[p.len()..];
        }
    }
    let body = encode_pieces(&pieces, options.encoding)?;
    Ok(finish_payload(body, options))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::checksum::Checksum;
    use crate::codec::escape::EscapeError;
    use crate::codec::send::LineEnding;

    fn rule(kind: MatchKind, pattern: &str, reply: &str) -> ReplyRule {
        ReplyRule {
            match_kind: kind,
            pattern: pattern.into(),
            reply: reply.into(),
            ..ReplyRule::default()
        }
    }

    fn answer(rules: &[ReplyRule], data: &[u8]) -> Option<Vec<u8>> {
        let set = RuleSet::compile(rules).expect("valid rules");
        set.answer(data).map(|a| a.bytes.expect("reply builds"))
    }

    #[test]
    fn matches_each_kind() {
        type Case = (ReplyRule, &'static [u8], Option<&'static [u8]>);
        let table: [Case; 12] = [
            (
                rule(MatchKind::Exact, "ping", "pong"),
                b"ping",
                Some(b"pong"),
            ),
            (
                rule(MatchKind::Exact, "ping", "pong"),
                b"ping\r\n",
                Some(b"pong"),
            ),
            (rule(MatchKind::Exact, "ping", "pong"), b"ping!", None),
            (rule(MatchKind::Contains, "in", "x"), b"ping", Some(b"x")),
            (rule(MatchKind::StartsWith, "pi", "x"), b"ping", Some(b"x")),
            (rule(MatchKind::StartsWith, "in", "x"), b"ping", None),
            (
                rule(MatchKind::Regex, r"^GET /\w+$", "200"),
                b"GET /a\n",
                Some(b"200"),
            ),
            (
                rule(MatchKind::Any, "", "{upper}"),
                b"hello\n",
                Some(b"HELLO"),
            ),
            (
                rule(MatchKind::Any, "", "Hello, {data}!"),
                b"bob",
                Some(b"Hello, bob!"),
            ),
            (
                rule(MatchKind::Any, "", "{lower}\\r\\n"),
                b"ABC",
                Some(b"abc\r\n"),
            ),
            // Placeholders are not escape-processed: the received backslash stays.
            (
                rule(MatchKind::Any, "", "[{data}]"),
                b"a\\n",
                Some(b"[a\\n]"),
            ),
            (
                rule(MatchKind::Exact, "中文", "ok"),
                "中文".as_bytes(),
                Some(b"ok"),
            ),
        ];
        for (rule, data, expected) in table {
            assert_eq!(
                answer(std::slice::from_ref(&rule), data).as_deref(),
                expected,
                "{rule:?} on {data:?}"
            );
        }
    }

    #[test]
    fn hex_patterns_and_replies() {
        let modbus = ReplyRule {
            match_kind: MatchKind::StartsWith,
            pattern_hex: true,
            pattern: "01 03".into(),
            reply: "01 03 02 00 2A".into(),
            options: SendOptions {
                hex: true,
                checksum: Checksum::Crc16Modbus,
                ..SendOptions::default()
            },
            ..ReplyRule::default()
        };
        let reply = answer(std::slice::from_ref(&modbus), &[1, 3, 0, 0, 0, 0x0A]).expect("match");
        assert_eq!(&reply[..5], &[1, 3, 2, 0, 0x2A]);
        assert_eq!(reply.len(), 7);
        assert_eq!(answer(std::slice::from_ref(&modbus), &[2, 3]), None);
        let contains = ReplyRule {
            match_kind: MatchKind::Contains,
            pattern_hex: true,
            pattern: "FF 00".into(),
            reply_kind: ReplyKind::Echo,
            ..ReplyRule::default()
        };
        assert_eq!(
            answer(std::slice::from_ref(&contains), &[1, 0xFF, 0, 2]),
            Some(vec![1, 0xFF, 0, 2])
        );
        assert_eq!(answer(&[contains], &[1, 0xFF, 2]), None);
    }

    #[test]
    fn first_enabled_match_wins() {
        let mut first = rule(MatchKind::Any, "", "first");
        let second = rule(MatchKind::Any, "", "second");
        let rules = [first.clone(), second.clone()];
        let set = RuleSet::compile(&rules).expect("valid");
        let hit = set.answer(b"x").expect("match");
        assert_eq!((hit.number, hit.bytes), (1, Ok(b"first".to_vec())));
        first.enabled = false;
        assert_eq!(answer(&[first, second], b"x"), Some(b"second".to_vec()));
        assert_eq!(answer(&[], b"x"), None);
    }

    #[test]
    fn reply_options_apply() {
        let mut r = rule(MatchKind::Any, "", "OK");
        r.options.line_ending = LineEnding::CrLf;
        r.options.checksum = Checksum::Xor8;
        // The checksum covers the line ending: O ^ K ^ CR ^ LF.
        let xor = b'O' ^ b'K' ^ b'\r' ^ b'\n';
        assert_eq!(
            answer(&[r], b"x"),
            Some(vec![b'O', b'K', b'\r', b'\n', xor])
        );
    }

    #[test]
    fn bad_rules_are_reported_with_their_number() {
        let table = [
            (rule(MatchKind::Regex, "(", "x"), "invalid regex"),
            (
                ReplyRule {
                    pattern_hex: true,
                    pattern: "0G".into(),
                    ..ReplyRule::default()
                },
                "invalid hex pattern",
            ),
            (
                ReplyRule {
                    match_kind: MatchKind::Regex,
                    pattern_hex: true,
                    ..ReplyRule::default()
                },
                "not hex",
            ),
            (rule(MatchKind::Any, "", "bad \\q"), "reply: bad escape"),
        ];
        for (bad, expected) in table {
            let rules = [rule(MatchKind::Any, "", "ok"), bad];
            let error = RuleSet::compile(&rules).expect_err(expected);
            assert_eq!(error.number, 2);
            assert!(error.to_string().contains(expected), "{error}");
        }
        // A bad escape after a placeholder is named by its column in the reply as typed.
        let error =
            RuleSet::compile(&[rule(MatchKind::Any, "", "{upper}\\q")]).expect_err("bad escape");
        assert_eq!(
            error.problem,
            RuleProblem::Reply(SendError::Escape(EscapeError::Unknown {
                ch: 'q',
                column: 8
            }))
        );
    }

    #[test]
    fn parses_cli_rules() {
        let options = SendOptions::default();
        let table = [
            (
                "text:ping=>text:pong",
                MatchKind::Exact,
                false,
                "ping",
                ReplyKind::Send,
                false,
                "pong",
            ),
            (
                "contains:a=>echo",
                MatchKind::Contains,
                false,
                "a",
                ReplyKind::Echo,
                false,
                "",
            ),
            (
                "regex:^x+$=>hex:01 02",
                MatchKind::Regex,
                false,
                "^x+$",
                ReplyKind::Send,
                true,
                "01 02",
            ),
            (
                "hex:01 03=>hex:06",
                MatchKind::Exact,
                true,
                "01 03",
                ReplyKind::Send,
                true,
                "06",
            ),
            (
                "*=>text:Hello, {data}!",
                MatchKind::Any,
                false,
                "",
                ReplyKind::Send,
                false,
                "Hello, {data}!",
            ),
            (
                "text:a=b=>text:c",
                MatchKind::Exact,
                false,
                "a=b",
                ReplyKind::Send,
                false,
                "c",
            ),
        ];
        for (spec, kind, hex, pattern, reply_kind, reply_hex, reply) in table {
            let rule = ReplyRule::parse_cli(spec, options).expect(spec);
            assert_eq!(
                (
                    rule.match_kind,
                    rule.pattern_hex,
                    rule.pattern.as_str(),
                    rule.reply_kind,
                    rule.options.hex,
                    rule.reply.as_str()
                ),
                (kind, hex, pattern, reply_kind, reply_hex, reply),
                "{spec}"
            );
        }
        let columns = [
            ("regex:a(b", 8),
            ("regex:ab)", 9),
            ("hex:01 0G", 9),
            ("hex-contains:ZZ", 14),
            ("foo:x", 1),
            ("nothing", 1),
            ("regex:\\p{Nope}", 7),
        ];
        for (text, column) in columns {
            let error = MatchSpec::parse(text).expect_err(text);
            assert_eq!(error.column(), column, "{text}: {error}");
            assert!(
                !error.to_string().contains('\n'),
                "{text}: one line: {error}"
            );
        }
        for bad in [
            "ping",
            "foo:x=>echo",
            "text:x=>pong",
            "regex:(=>echo",
            "hex:zz=>echo",
        ] {
            assert!(ReplyRule::parse_cli(bad, options).is_err(), "{bad}");
        }
    }
}
