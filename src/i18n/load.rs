//! The words of the Load test tab: its labels, a form field that cannot be used
//! ([`LoadArgError`], worded from its typed value, the parsers' own words inside where they
//! have a translation), how a run ended, the thresholds it exceeded and the error kinds, in
//! either language. `sockdbg load` prints its own English (`load::report`, the errors'
//! `Display`); the option syntax (`text:`, `delim:0a`, `${seq}`) stays as written.

use super::errors::{framing_error_text, spec_error_text};
use super::messages::Render;
use super::scenario::{expand_error_text, match_error_text, var_error_text};
use super::{Language, texts, tr, trf};
use crate::load::LoadErrorKind;
use crate::load::answer::AnswerError;
use crate::load::options::{LoadArgError, LoadOption, OptionError};
use crate::load::payload::PayloadError;
use crate::load::{Mode, PlanError};
use crate::load_command::Exceeded;
use crate::protocol::LoadEnd;

texts! {
/// A key of the Load test tab's words.
Ld {
    Tab => "Load test", "压力测试";
    Intro => "Many connections against a server: messages per second, round-trip times, errors. The same options as sockdbg load.", "用多个连接压测服务器：每秒消息数、往返时延、错误。选项与 sockdbg load 相同。";
    Target => "Target", "目标";
    Mode => "Mode", "模式";
    ModePingpong => "ping-pong (round trips)", "一问一答（往返时延）";
    ModeStream => "stream (send at the rate)", "连续发送（按速率）";
    ModeConnect => "connect (open and close)", "仅连接（打开再关闭）";
    Connections => "Connections", "连接数";
    ConnectRate => "Connects/s", "每秒新建连接";
    Duration => "Duration (ms)", "时长（毫秒）";
    Rate => "Messages/s", "每秒消息数";
    RateTip => "Over all connections (connect mode: connections a second); 0: as fast as possible.", "所有连接合计（仅连接模式：每秒连接数）；0：尽可能快。";
    ConnectRateTip => "New connections a second; 0: as fast as the system allows.", "每秒新建的连接数；0：系统允许的最快速度。";
    Payload => "Payload", "负载";
    PayloadTip => "text:… or hex:…, with ${seq} (the message's number) and ${conn} (the connection's).", "text:… 或 hex:…，可用 ${seq}（消息序号）和 ${conn}（连接序号）。";
    Escapes => "Escapes (\\r \\n \\xNN)", "转义（\\r \\n \\xNN）";
    Framing => "Answer framing", "应答分帧";
    FramingTip => "raw (one read), delim:0a, fixed:N, len:u16be, …", "raw（一次读取）、delim:0a、fixed:N、len:u16be、…";
    Expect => "Expect", "期望应答";
    ExpectTip => "An answer must match: contains:pong, text:…, regex:…, hex:…; empty: any answer.", "应答必须匹配：contains:pong、text:…、regex:…、hex:…；留空：任意应答。";
    Timeout => "Timeout (ms)", "超时（毫秒）";
    MaxErrorRate => "Max error rate", "最大错误率";
    MaxP99 => "Max p99 (ms)", "最大 p99（毫秒）";
    Optional => "optional", "可选";
    Start => "Start test", "开始测试";
    Stop => "Stop test", "停止测试";
    Running => "Running: {0} of {1} s", "运行中：{0} / {1} 秒";
    Stopping => "Stopping…", "正在停止…";
    Completed => "Completed", "已完成";
    Stopped => "Stopped", "已停止";
    Failed => "Could not start: {0}", "无法开始：{0}";
    NoFigures => "The run's figures could not be kept", "无法保存本次运行的统计";
    LastSecond => "Last second", "最近一秒";
    Overall => "Overall", "全程";
    Open => "Connections open", "当前连接";
    Opened => "Connections opened", "已建立连接";
    ConnectFailed => "Connect failures", "连接失败";
    SentPerSecond => "Sent msgs/s", "发送 消息/秒";
    AnswersPerSecond => "Answers/s", "应答/秒";
    RxPerSecond => "Received/s", "接收/秒";
    TxPerSecond => "Sent/s", "发送/秒";
    Sent => "Messages sent", "已发送消息";
    Answers => "Answers", "应答";
    RxBytes => "Bytes received", "接收字节";
    TxBytes => "Bytes sent", "发送字节";
    Elapsed => "Time", "用时";
    Errors => "Errors", "错误";
    ErrorRate => "Error rate", "错误率";
    NoErrors => "none", "无";
    PlotMessages => "Messages per second", "每秒消息数";
    PlotRtt => "Round trip (ms), each second", "往返时延（毫秒），每秒";
    MsgsPerSecond => "msgs/s", "消息/秒";
    Milliseconds => "ms", "毫秒";
    Summary => "Summary", "汇总";
    WithinThresholds => "Within the thresholds", "未超过阈值";
    ExceededErrorRate => "Error rate {0} exceeds the maximum {1}", "错误率 {0} 超过上限 {1}";
    ExceededP99 => "p99 {0} ms exceeds the maximum {1} ms", "p99 {0} 毫秒超过上限 {1} 毫秒";
    CsvFile => "CSV file", "CSV 文件";
    SaveCsv => "Save CSV", "保存 CSV";
    CsvSaved => "{0} row{0|s} written to {1}", "已写入 {0} 行到 {1}";
    CsvError => "Cannot write {0}: {1}", "无法写入 {0}：{1}";
    Samples => "First messages", "最初的消息";
    // Error kinds.
    KindRefused => "refused", "被拒绝";
    KindReset => "reset", "被重置";
    KindClosed => "closed by the peer", "对端关闭";
    KindTimeout => "timeout", "超时";
    KindUnexpected => "unexpected answer", "应答不符";
    KindHandshake => "handshake failed", "握手失败";
    KindOther => "other", "其他";
    // A field that cannot be used.
    FieldError => "{0}: {1}", "{0}：{1}";
    NotANumber => "'{0}' is not a whole number from {1} to {2}", "“{0}”不是 {1} 到 {2} 之间的整数";
    NotAnErrorRate => "'{0}' is not an error rate (0 to 1, or 0% to 100%)", "“{0}”不是错误率（0 到 1，或 0% 到 100%）";
    NotMillis => "'{0}' is not a number of milliseconds", "“{0}”不是毫秒数";
    PayloadPrefix => "'{0}' must start with text: or hex:", "“{0}”必须以 text: 或 hex: 开头";
    Column => "column {0}: {1}", "第 {0} 列：{1}";
    UnknownVar => "unknown variable '{0}' (a load test has {1} and {2})", "未知变量“{0}”（压力测试只有 {1} 和 {2}）";
    IdleFraming => "idle:MS cannot cut answers in a load test (use delim:, fixed: or len:)", "压力测试不能用 idle:MS 切分应答（请用 delim:、fixed: 或 len:）";
    NotAClient => "a load test needs a client: tcp-client:, tls-client:, ws://, wss:// or udp-client: (not {0})", "压力测试需要客户端：tcp-client:、tls-client:、ws://、wss:// 或 udp-client:（不是 {0}）";
    AtLeastOne => "must be at least 1", "至少为 1";
}
}

/// `key` in `language`.
pub fn ld(language: Language, key: Ld) -> &'static str {
    tr(language, key)
}

/// `key` in `language` with its placeholders filled.
pub fn ldf(language: Language, key: Ld, args: &[&dyn std::fmt::Display]) -> String {
    trf(language, key, args)
}

/// A mode's name in the form.
pub fn mode_text(language: Language, mode: Mode) -> &'static str {
    ld(
        language,
        match mode {
            Mode::Pingpong => Ld::ModePingpong,
            Mode::Stream => Ld::ModeStream,
            Mode::Connect => Ld::ModeConnect,
        },
    )
}

/// The label of an option's field.
pub fn option_label(language: Language, option: LoadOption) -> &'static str {
    ld(
        language,
        match option {
            LoadOption::Spec => Ld::Target,
            LoadOption::Mode => Ld::Mode,
            LoadOption::Connections => Ld::Connections,
            LoadOption::ConnectRate => Ld::ConnectRate,
            LoadOption::Duration => Ld::Duration,
            LoadOption::Rate => Ld::Rate,
            LoadOption::Send => Ld::Payload,
            LoadOption::Framing => Ld::Framing,
            LoadOption::Expect => Ld::Expect,
            LoadOption::Timeout => Ld::Timeout,
            LoadOption::MaxErrorRate => Ld::MaxErrorRate,
            LoadOption::MaxP99 => Ld::MaxP99,
        },
    )
}

/// An error kind's name.
pub fn error_kind_text(language: Language, kind: LoadErrorKind) -> &'static str {
    ld(
        language,
        match kind {
            LoadErrorKind::Refused => Ld::KindRefused,
            LoadErrorKind::Reset => Ld::KindReset,
            LoadErrorKind::Closed => Ld::KindClosed,
            LoadErrorKind::Timeout => Ld::KindTimeout,
            LoadErrorKind::Unexpected => Ld::KindUnexpected,
            LoadErrorKind::Handshake => Ld::KindHandshake,
            LoadErrorKind::Other => Ld::KindOther,
        },
    )
}

fn unknown_var(language: Language, name: &str) -> String {
    ldf(language, Ld::UnknownVar, &[&name, &"${seq}", &"${conn}"])
}

fn payload_error_text(language: Language, error: &PayloadError) -> String {
    match error {
        PayloadError::Prefix(e) => ldf(language, Ld::PayloadPrefix, &[&e.0]),
        PayloadError::Var { error, column } => ldf(
            language,
            Ld::Column,
            &[column, &var_error_text(language, error)],
        ),
        PayloadError::UnknownVar(name) => unknown_var(language, name),
        PayloadError::Expand(e) => expand_error_text(language, e),
    }
}

fn answer_error_text(language: Language, error: &AnswerError) -> String {
    match error {
        AnswerError::Match(e) => match_error_text(language, e),
        AnswerError::Var { error, column } => ldf(
            language,
            Ld::Column,
            &[column, &var_error_text(language, error)],
        ),
        AnswerError::UnknownVar(name) => unknown_var(language, name),
        AnswerError::Expand(e) => expand_error_text(language, e),
        AnswerError::IdleFraming => ld(language, Ld::IdleFraming).to_string(),
    }
}

fn plan_error_text(language: Language, error: &PlanError) -> String {
    match error {
        PlanError::NotAClient(kind) => ldf(language, Ld::NotAClient, &[kind]),
        PlanError::NoConnections | PlanError::NoDuration | PlanError::NoTimeout => {
            ld(language, Ld::AtLeastOne).to_string()
        }
    }
}

/// Why a field of the form cannot be used, in `language`: the field's label, then why.
pub fn load_arg_error_text(language: Language, error: &LoadArgError) -> String {
    let why = match &error.error {
        OptionError::Spec(e) => spec_error_text(language, e),
        OptionError::Mode(e) => e.to_string(),
        OptionError::Framing(e) => framing_error_text(language, e),
        OptionError::Number { value, min, max } => {
            ldf(language, Ld::NotANumber, &[value, min, max])
        }
        OptionError::ErrorRate(value) => ldf(language, Ld::NotAnErrorRate, &[value]),
        OptionError::Millis(value) => ldf(language, Ld::NotMillis, &[value]),
        OptionError::Payload(e) => payload_error_text(language, e),
        OptionError::Answer(e) => answer_error_text(language, e),
        OptionError::Plan(e) => plan_error_text(language, e),
    };
    ldf(
        language,
        Ld::FieldError,
        &[&option_label(language, error.option), &why],
    )
}

/// How a run ended, in `language`.
pub fn load_end_text(language: Language, end: &LoadEnd) -> String {
    match end {
        LoadEnd::Completed => ld(language, Ld::Completed).to_string(),
        LoadEnd::Stopped => ld(language, Ld::Stopped).to_string(),
        LoadEnd::Failed(failure) => ldf(language, Ld::Failed, &[&failure.render(language)]),
        LoadEnd::NoFigures => ld(language, Ld::NoFigures).to_string(),
    }
}

/// A threshold a run exceeded, in `language`.
pub fn exceeded_text(language: Language, exceeded: &Exceeded) -> String {
    match exceeded {
        Exceeded::ErrorRate { rate, max } => ldf(
            language,
            Ld::ExceededErrorRate,
            &[&format!("{rate:.4}"), max],
        ),
        Exceeded::P99 { p99_ms, max_ms } => ldf(
            language,
            Ld::ExceededP99,
            &[&format!("{p99_ms:.3}"), max_ms],
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::text::TextEncoding;

    #[test]
    fn form_errors_are_worded_in_both_languages() {
        let form = crate::app::load::LoadForm {
            spec: "tcp-client:127.0.0.1:7".into(),
            connections: "0".into(),
            ..Default::default()
        };
        let error = form.args(TextEncoding::Utf8).expect_err("0 connections");
        assert_eq!(
            load_arg_error_text(Language::English, &error),
            "Connections: '0' is not a whole number from 1 to 4294967295"
        );
        assert_eq!(
            load_arg_error_text(Language::Chinese, &error),
            "连接数：“0”不是 1 到 4294967295 之间的整数"
        );
        let form = crate::app::load::LoadForm {
            spec: "tcp-client:127.0.0.1:7".into(),
            send: "text:${nope}".into(),
            ..Default::default()
        };
        let error = form
            .args(TextEncoding::Utf8)
            .and_then(|args| crate::load_command::plan(&args).map(|_| ()))
            .expect_err("unknown variable");
        assert_eq!(
            load_arg_error_text(Language::Chinese, &error),
            "负载：未知变量“nope”（压力测试只有 ${seq} 和 ${conn}）"
        );
    }
}
