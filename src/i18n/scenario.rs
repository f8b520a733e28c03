//! The words of scenarios in the window: what is wrong with a line of a scenario
//! ([`ErrorKind`]), why a step failed ([`StepFailure`]) and why a session or connection is gone
//! ([`Gone`]), in either language, from their typed values. `sockdbg test` prints its own
//! English (`testing::report`); the scenario language's keywords and match prefixes
//! (`send`, `expect`, `text:`, …) stay as written in both languages.

use super::errors::{framing_error_text, hex_error_text, send_error_text, spec_error_text};
use super::messages::Render;
use super::{Language, texts, tr, trf};
use crate::codec::names::{NameKind, UnknownName};
use crate::codec::reply::MatchError;
use crate::protocol::{Gone, StepFailure, Waiting};
use crate::scenario::sending::PayloadError;
use crate::scenario::vars::{ExpandError, VarError};
use crate::scenario::{ErrorKind, Needed};

texts! {
/// A key of the scenario words' table.
Sc {
    UnknownStatement => "unknown statement '{0}' (expected session, use, encoding, timeout, framing, line-ending, checksum, send, send-file, expect, set, repeat, end, sleep, close or case)", "未知语句“{0}”（应为 session、use、encoding、timeout、framing、line-ending、checksum、send、send-file、expect、set、repeat、end、sleep、close 或 case）";
    Unexpected => "unexpected '{0}'", "多余的“{0}”";
    PayloadPrefix => "payload '{0}' must start with text: or hex:", "负载“{0}”必须以 text: 或 hex: 开头";
    MatchNoPrefix => "match '{0}' needs a prefix: text:, contains:, starts-with:, regex:, hex:, hex-contains:, hex-starts-with: or *", "匹配“{0}”需要前缀：text:、contains:、starts-with:、regex:、hex:、hex-contains:、hex-starts-with: 或 *";
    MatchUnknownPrefix => "unknown match prefix '{0}:'", "未知的匹配前缀“{0}:”";
    InvalidHexPattern => "invalid hex pattern: {0}", "十六进制模式无效：{0}";
    InvalidRegex => "invalid regex: {0}", "正则表达式无效：{0}";
    IdleFraming => "idle framing cannot cut frames for expect (use delim:, fixed: or len:)", "idle 分帧无法为 expect 切分帧（请用 delim:、fixed: 或 len:）";
    UnknownChecksum => "unknown checksum '{0}' (expected one of {1})", "未知的校验“{0}”（可选：{1}）";
    UnknownLineEnding => "unknown line ending '{0}' (expected {1})", "未知的行尾“{0}”（可选：{1}）";
    UnknownEncoding => "unknown encoding '{0}' (expected one of {1})", "未知的编码“{0}”（可选：{1}）";
    Number => "{0} needs a number, got '{1}'", "{0} 需要一个数字，而不是“{1}”";
    UnknownVariable => "unknown variable '{0}' (set it with `set {0} = …`, a regex group (?P<{0}>…) or --var {0}=…)", "未知变量“{0}”（用 `set {0} = …`、正则分组 (?P<{0}>…) 或 --var {0}=… 设置它）";
    SeqIsReserved => "'seq' is the run's send counter and cannot be set", "seq 是本次运行的发送计数，不能设置";
    UnknownSession => "no session named '{0}' (declare it with `session {0} SPEC`)", "没有名为“{0}”的会话（用 `session {0} SPEC` 声明）";
    Duplicate => "'{0}' is already the name of another {1}", "“{0}”已经是另一个 {1} 的名称";
    HeaderOnly => "{0} must come before the first case and the first send or expect", "{0} 必须写在第一个 case 以及第一个 send 或 expect 之前";
    ActionBeforeCase => "a file with cases runs statements only inside a case (move this below a `case` line)", "含有 case 的文件只运行 case 里的语句（请把这一行移到某个 `case` 行下面）";
    CaseInRepeat => "case inside the repeat of line {0} (close it with `end` first)", "case 写在了第 {0} 行的 repeat 里（请先用 `end` 结束它）";
    EndWithoutRepeat => "end without a repeat", "end 没有对应的 repeat";
    RepeatWithoutEnd => "repeat without its end", "repeat 缺少对应的 end";
    NoSession => "no session to run on: add a line `session SPEC` (e.g. session tcp-client:127.0.0.1:6001)", "没有可运行的会话：请添加一行 `session SPEC`（例如 session tcp-client:127.0.0.1:6001）";
    File => "cannot read '{0}': {1}", "无法读取“{0}”：{1}";
    Unreadable => "cannot read the file: {0}", "无法读取文件：{0}";
    // What a statement lacks.
    NeedUseName => "use needs a session name", "use 需要一个会话名";
    NeedSendFilePath => "send-file needs a path", "send-file 需要一个路径";
    NeedSessionNameChars => "a session name is letters, digits, _ and -", "会话名只能包含字母、数字、_ 和 -";
    NeedSessionSpec => "session needs a spec, e.g. tcp-client:127.0.0.1:6001", "session 需要一个会话描述，例如 tcp-client:127.0.0.1:6001";
    NeedCaseName => "case needs a name", "case 需要一个名称";
    NeedRepeatCount => "repeat needs a count, forever, or until MATCH", "repeat 需要次数、forever 或 until 匹配";
    NeedUntilMatch => "repeat until needs a match", "repeat until 需要一个匹配";
    NeedWithinMs => "within needs milliseconds", "within 需要毫秒数";
    NeedExpectMatch => "expect needs a match (text:, contains:, regex:, hex:, …), nothing or closed", "expect 需要一个匹配（text:、contains:、regex:、hex:、…）、nothing 或 closed";
    NeedNothingWithin => "expect nothing needs within MS", "expect nothing 需要 within 毫秒数";
    NeedSendPayload => "send needs a payload: text:… or hex:…", "send 需要负载：text:… 或 hex:…";
    NeedSetNameValue => "set needs NAME = VALUE", "set 需要 名称 = 值";
    NeedSetName => "set needs NAME = VALUE (a name is letters, digits, _ and -)", "set 需要 名称 = 值（名称只能包含字母、数字、_ 和 -）";
    NeedEncodingName => "encoding needs a name (utf-8, gbk, …)", "encoding 需要编码名（utf-8、gbk、…）";
    NeedLineEnding => "line-ending needs none, cr, lf or crlf", "line-ending 需要 none、cr、lf 或 crlf";
    NeedChecksum => "checksum needs an algorithm", "checksum 需要一种校验算法";
    NeedTimeoutMs => "timeout needs milliseconds", "timeout 需要毫秒数";
    NeedFraming => "framing needs a framing (delim:0a, len:u32be, …)", "framing 需要分帧方式（delim:0a、len:u32be、…）";
    NeedSleepMs => "sleep needs milliseconds", "sleep 需要毫秒数";
    // Variables.
    SendVarAt => "column {0}: {1}", "第 {0} 列：{1}";
    SendVarUnknown => "unknown variable '{0}' at column {1} (sends have ${seq}, the Scenarios tab's Variables and --var; write $${ for a literal ${)", "第 {1} 列的变量“{0}”未知（发送可用 ${seq}、场景页的“变量”和 --var；字面的 ${ 请写作 $${）";
    VarUnclosed => "'${' without a closing '}'", "“${”缺少结尾的“}”";
    VarBadName => "'{0}' is not a variable name (letters, digits, _ and -, starting with a letter)", "“{0}”不是变量名（字母、数字、_ 和 -，以字母开头）";
    VarUnknownFormat => "unknown variable format '{0}' (expected u8, u16be, u16le, u32be, u32le, hex or text)", "未知的变量格式“{0}”（可选 u8、u16be、u16le、u32be、u32le、hex 或 text）";
    VarUnset => "variable '{0}' has no value yet", "变量“{0}”还没有值";
    VarNotANumber => "variable '{0}' = '{1}' is not a number (in hex write {2} for hex digits or {3} for its text)", "变量“{0}” = “{1}”不是数字（在十六进制中，十六进制数字写 {2}，文本写 {3}）";
    VarTooBig => "variable '{0}' = {1} does not fit {2}", "变量“{0}” = {1} 超出了 {2} 的范围";
    VarNotHex => "variable '{0}' = '{1}' is not hex digits", "变量“{0}” = “{1}”不是十六进制数字";
    VarRegex => "invalid regex with the values inserted: {0}", "代入变量值后正则表达式无效：{0}";
    // Why a step failed.
    FailTimeout => "expected {0} within {1}", "在 {1} 内没有等到 {0}";
    FailClosed => "the connection closed ({0}) while expecting {1}", "等待 {1} 时连接关闭了（{0}）";
    FailUnexpected => "expected nothing, but bytes arrived", "应当什么都不收到，但收到了数据";
    FailNotClosed => "the connection stayed open for {0}", "连接在 {0} 内一直没有关闭";
    FailNotSent => "not sent: {0}", "未发送：{0}";
    FailSessionDown => "the session is not running: {0}", "会话未在运行：{0}";
    FailNotConnected => "not connected within {0} (its connect timeout): {1}; reconnect is still trying", "在 {0}（连接超时）内未连接：{1}；reconnect 仍在重试";
    WaitingDevice => "the device {0} is away", "设备 {0} 不在";
    FailCancelled => "stopped before it ended", "在结束前被停止";
    GoneStopped => "the session was stopped", "会话已被停止";
    Forever => "forever", "无限期";
    Millis => "{0} ms", "{0} ms";
}
}

fn sc(language: Language, key: Sc) -> &'static str {
    tr(language, key)
}

fn scf(language: Language, key: Sc, args: &[&dyn std::fmt::Display]) -> String {
    trf(language, key, args)
}

/// What a statement lacks, in `language`.
fn needed_text(language: Language, needed: Needed) -> &'static str {
    sc(
        language,
        match needed {
            Needed::UseName => Sc::NeedUseName,
            Needed::SendFilePath => Sc::NeedSendFilePath,
            Needed::SessionNameChars => Sc::NeedSessionNameChars,
            Needed::SessionSpec => Sc::NeedSessionSpec,
            Needed::CaseName => Sc::NeedCaseName,
            Needed::RepeatCount => Sc::NeedRepeatCount,
            Needed::UntilMatch => Sc::NeedUntilMatch,
            Needed::WithinMs => Sc::NeedWithinMs,
            Needed::ExpectMatch => Sc::NeedExpectMatch,
            Needed::NothingWithin => Sc::NeedNothingWithin,
            Needed::SendPayload => Sc::NeedSendPayload,
            Needed::SetNameValue => Sc::NeedSetNameValue,
            Needed::SetName => Sc::NeedSetName,
            Needed::EncodingName => Sc::NeedEncodingName,
            Needed::LineEnding => Sc::NeedLineEnding,
            Needed::Checksum => Sc::NeedChecksum,
            Needed::TimeoutMs => Sc::NeedTimeoutMs,
            Needed::Framing => Sc::NeedFraming,
            Needed::SleepMs => Sc::NeedSleepMs,
        },
    )
}

fn unknown_name_text(language: Language, error: &UnknownName) -> String {
    let key = match error.kind {
        NameKind::Checksum => Sc::UnknownChecksum,
        NameKind::LineEnding => Sc::UnknownLineEnding,
        NameKind::Encoding => Sc::UnknownEncoding,
    };
    let names = error.kind.accepted();
    let list = match (error.kind, names.split_last()) {
        // "none, cr, lf or crlf", as the error's own words say it.
        (NameKind::LineEnding, Some((last, rest))) => format!("{} or {last}", rest.join(", ")),
        _ => names.join(", "),
    };
    scf(language, key, &[&error.given, &list])
}

pub(crate) fn match_error_text(language: Language, error: &MatchError) -> String {
    match error {
        MatchError::NoPrefix(text) => scf(language, Sc::MatchNoPrefix, &[text]),
        MatchError::UnknownPrefix(prefix) => scf(language, Sc::MatchUnknownPrefix, &[prefix]),
        MatchError::Hex { error, .. } => scf(
            language,
            Sc::InvalidHexPattern,
            &[&hex_error_text(language, error)],
        ),
        MatchError::Regex { message, .. } => scf(language, Sc::InvalidRegex, &[message]),
    }
}

pub(crate) fn var_error_text(language: Language, error: &VarError) -> String {
    match error {
        VarError::Unclosed => sc(language, Sc::VarUnclosed).to_string(),
        VarError::BadName(name) => scf(language, Sc::VarBadName, &[name]),
        VarError::UnknownFormat(format) => scf(language, Sc::VarUnknownFormat, &[format]),
    }
}

/// Why send-box input (a quick command's, a periodic send's) cannot become bytes, in
/// `language`.
pub fn payload_error_text(language: Language, error: &PayloadError) -> String {
    match error {
        PayloadError::Send(e) => send_error_text(language, e),
        PayloadError::Var { error, column } => scf(
            language,
            Sc::SendVarAt,
            &[column, &var_error_text(language, error)],
        ),
        PayloadError::Unknown { name, column } => {
            scf(language, Sc::SendVarUnknown, &[name, column])
        }
        PayloadError::Expand(e) => expand_error_text(language, e),
    }
}

/// Why a value could not be put into a payload or pattern, in `language`.
pub fn expand_error_text(language: Language, error: &ExpandError) -> String {
    #[allow(unreachable_patterns)] // a kind of error added later shows in English
    match error {
        ExpandError::Unset(name) => scf(language, Sc::VarUnset, &[name]),
        ExpandError::NotANumber { name, value } => {
            let hex = format!("${{{name}:hex}}");
            let text = format!("${{{name}:text}}");
            scf(language, Sc::VarNotANumber, &[name, value, &hex, &text])
        }
        ExpandError::TooBig { name, value, width } => {
            scf(language, Sc::VarTooBig, &[name, value, &width.name()])
        }
        ExpandError::NotHex { name, value } => scf(language, Sc::VarNotHex, &[name, value]),
        ExpandError::Regex(why) => scf(language, Sc::VarRegex, &[why]),
        ExpandError::Send(e) => send_error_text(language, e),
        other => other.to_string(),
    }
}

/// What is wrong with a line of a scenario, in `language` (the file's own keywords, and
/// the words of a library or the system inside, stay as they are).
pub fn scenario_error_text(language: Language, error: &ErrorKind) -> String {
    let f = |key: Sc, args: &[&dyn std::fmt::Display]| scf(language, key, args);
    let s = |key: Sc| sc(language, key).to_string();
    #[allow(unreachable_patterns)] // a kind of error added later shows in English
    match error {
        ErrorKind::UnknownStatement(word) => f(Sc::UnknownStatement, &[word]),
        ErrorKind::Missing(needed) => needed_text(language, *needed).to_string(),
        ErrorKind::Unexpected(word) => f(Sc::Unexpected, &[word]),
        ErrorKind::Payload(e) => f(Sc::PayloadPrefix, &[&e.0]),
        ErrorKind::Send(e) => send_error_text(language, e),
        ErrorKind::Match(e) => match_error_text(language, e),
        ErrorKind::Spec(e) => spec_error_text(language, e),
        ErrorKind::Framing(e) => framing_error_text(language, e),
        ErrorKind::IdleFraming => s(Sc::IdleFraming),
        ErrorKind::Name(e) => unknown_name_text(language, e),
        ErrorKind::Number { what, given } => f(Sc::Number, &[what, given]),
        ErrorKind::Expand(e) => expand_error_text(language, e),
        ErrorKind::Var(e) => var_error_text(language, e),
        ErrorKind::UnknownVariable(name) => f(Sc::UnknownVariable, &[name]),
        ErrorKind::SeqIsReserved => s(Sc::SeqIsReserved),
        ErrorKind::UnknownSession(name) => f(Sc::UnknownSession, &[name]),
        ErrorKind::Duplicate(name, what) => f(Sc::Duplicate, &[name, what]),
        ErrorKind::HeaderOnly(what) => f(Sc::HeaderOnly, &[what]),
        ErrorKind::ActionBeforeCase => s(Sc::ActionBeforeCase),
        ErrorKind::CaseInRepeat(line) => f(Sc::CaseInRepeat, &[line]),
        ErrorKind::EndWithoutRepeat => s(Sc::EndWithoutRepeat),
        ErrorKind::RepeatWithoutEnd => s(Sc::RepeatWithoutEnd),
        ErrorKind::NoSession => s(Sc::NoSession),
        ErrorKind::File { path, reason } => f(Sc::File, &[path, reason]),
        ErrorKind::Unreadable(reason) => f(Sc::Unreadable, &[reason]),
        other => other.to_string(),
    }
}

/// Why a scenario's session or connection is gone, in `language`.
pub fn gone_text(language: Language, gone: &Gone) -> String {
    match gone {
        Gone::StartFailed(why) => why.render(language),
        Gone::Closed(why) => why.render(language),
        Gone::Stopped => sc(language, Sc::GoneStopped).to_string(),
    }
}

/// A duration as the step list shows a wait: `500 ms`, or forever.
fn wait_text(language: Language, duration: std::time::Duration) -> String {
    if duration == std::time::Duration::MAX {
        return sc(language, Sc::Forever).to_string();
    }
    scf(language, Sc::Millis, &[&duration.as_millis()])
}

/// Why a step failed, in `language` (what arrived is shown apart, from its bytes).
pub fn step_failure_text(language: Language, failure: &StepFailure) -> String {
    let f = |key: Sc, args: &[&dyn std::fmt::Display]| scf(language, key, args);
    match failure {
        StepFailure::Timeout {
            expected, within, ..
        } => f(Sc::FailTimeout, &[expected, &wait_text(language, *within)]),
        StepFailure::Closed {
            expected, reason, ..
        } => f(Sc::FailClosed, &[&gone_text(language, reason), expected]),
        StepFailure::Unexpected { .. } => sc(language, Sc::FailUnexpected).to_string(),
        StepFailure::NotClosed { within } => f(Sc::FailNotClosed, &[&wait_text(language, *within)]),
        StepFailure::NotSent(why) => f(Sc::FailNotSent, &[&why.render(language)]),
        StepFailure::Expand(why) => expand_error_text(language, why),
        StepFailure::File(why) => why.render(language),
        StepFailure::SessionDown(why) => f(Sc::FailSessionDown, &[&gone_text(language, why)]),
        StepFailure::NotConnected { why, waited } => {
            let why = match why {
                Waiting::Reconnect(why) => why.render(language),
                Waiting::Device { path } => f(Sc::WaitingDevice, &[path]),
            };
            f(Sc::FailNotConnected, &[&wait_text(language, *waited), &why])
        }
        StepFailure::Cancelled => sc(language, Sc::FailCancelled).to_string(),
    }
}

/// The bytes a failed step received instead, if it says.
pub fn failure_received(failure: &StepFailure) -> Option<&[u8]> {
    match failure {
        StepFailure::Timeout { received, .. }
        | StepFailure::Closed { received, .. }
        | StepFailure::Unexpected { received } => Some(received),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::parse;

    /// Every English sentence here is the `Display` of the error it words, so `sockdbg test`
    /// and the window agree.
    #[test]
    fn english_matches_the_errors_own_words() {
        let files = [
            "bogus x",
            "send txt:x",
            "send",
            "expect regex:a(b",
            "repeat 2",
            "end",
            "expect nothing",
            "send text:${x}",
            "set seq = 1",
            "use nobody",
            "timeout soon",
            "checksum crc16",
            "send text:${a:wide}",
            "send text:${",
            "encoding klingon",
            "framing idle:10",
            "session",
        ];
        for file in files {
            let errors = parse(file, &[]).expect_err(file);
            for error in errors {
                assert_eq!(
                    scenario_error_text(Language::English, &error.kind),
                    error.kind.to_string(),
                    "{file}"
                );
                let chinese = scenario_error_text(Language::Chinese, &error.kind);
                assert_ne!(
                    chinese,
                    error.kind.to_string(),
                    "{file}: not worded in Chinese"
                );
            }
        }
    }

    #[test]
    fn failures_read_in_both_languages() {
        let failure = StepFailure::Timeout {
            expected: "contains:OK".to_string(),
            within: std::time::Duration::from_millis(500),
            received: bytes::Bytes::from_static(b"NO"),
        };
        assert_eq!(
            step_failure_text(Language::English, &failure),
            crate::testing::report::describe(&failure).reason
        );
        assert_eq!(
            step_failure_text(Language::Chinese, &failure),
            "在 500 ms 内没有等到 contains:OK"
        );
        assert_eq!(failure_received(&failure), Some(&b"NO"[..]));
        let gone = Gone::Stopped;
        assert_eq!(
            gone_text(Language::English, &gone),
            crate::testing::report::gone_text(&gone)
        );
    }
}
