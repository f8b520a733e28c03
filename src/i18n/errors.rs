//! The words of the errors the window shows that are not the engine's: a session spec, typed
//! hex and escapes, an auto-reply rule, a file dialog, an export and a capture. Each is typed
//! where it is made and worded here, in either language; the English of the codec's and the
//! spec's errors is their own `Display` (the headless mode prints that).

use super::scenario::payload_error_text;
use super::{Language, Text, tr, trf};
use crate::app::send_tools::JobEnd;
use crate::app::{FramingFormError, Notice, Problem};
use crate::capture::CaptureError;
use crate::codec::escape::EscapeError;
use crate::codec::framing::FramingError;
use crate::codec::hex::HexError;
use crate::codec::reply::{RuleError, RuleProblem};
use crate::codec::send::SendError;
use crate::config::{ConfigNotice, ConfigProblem};
use crate::export::ExportError;
use crate::file_dialog::DialogError;
use crate::i18n::messages::Render;
use crate::spec::SpecError;

/// Why a spec or the create form cannot be used, in `language` (the spec module's message
/// is the English one).
pub fn spec_error_text(language: Language, error: &SpecError) -> String {
    let f = |key: Text, args: &[&dyn std::fmt::Display]| trf(language, key, args);
    #[allow(unreachable_patterns)] // a kind of error added later shows in English
    match error {
        SpecError::UnknownKind(kind) => f(Text::SpecUnknownKind, &[kind]),
        SpecError::InvalidPort(port) => f(Text::SpecInvalidPort, &[port]),
        SpecError::MissingHost(kind) => f(Text::SpecMissingHost, &[kind]),
        SpecError::InvalidHost(host) => f(Text::SpecInvalidHost, &[host]),
        SpecError::ClientPortZero => f(Text::SpecClientPortZero, &[]),
        SpecError::InvalidTimeout(timeout) => f(Text::SpecInvalidTimeout, &[timeout]),
        SpecError::InvalidOption {
            option,
            kind,
            accepted,
        } => f(Text::SpecInvalidOption, &[option, kind, accepted]),
        SpecError::NotMulticast(group) => f(Text::SpecNotMulticast, &[group]),
        SpecError::CertWithoutKey => f(Text::SpecCertWithoutKey, &[]),
        SpecError::UnexpectedPath(kind) => f(Text::SpecUnexpectedPath, &[kind]),
        SpecError::MissingTarget(kind) => f(Text::SpecMissingTarget, &[kind]),
        SpecError::MissingDevice => f(Text::SpecMissingDevice, &[]),
        SpecError::SerialTargetMisfit(kind) => f(Text::SpecSerialTargetMisfit, &[kind]),
        SpecError::LineWithoutSerialTarget => f(Text::SpecLineWithoutSerialTarget, &[]),
        other => other.to_string(),
    }
}

/// Why typed hex cannot be parsed, in `language` (the codec's own message is English).
pub fn hex_error_text(language: Language, error: &HexError) -> String {
    match error {
        HexError::InvalidChar { ch, column } => trf(language, Text::HexNotDigit, &[ch, column]),
        HexError::OddDigits { group, column } => {
            trf(language, Text::HexOddDigits, &[group, column])
        }
    }
}

/// Why a payload cannot be built, in `language` (the codec's own message is English).
pub fn send_error_text(language: Language, error: &SendError) -> String {
    match error {
        SendError::Hex(e) => trf(language, Text::InvalidHex, &[&hex_error_text(language, e)]),
        SendError::Escape(e) => {
            let text = match e {
                EscapeError::Unknown { ch, column } => {
                    trf(language, Text::EscapeUnknown, &[ch, column])
                }
                EscapeError::BadHexByte { column } => trf(language, Text::EscapeBadHex, &[column]),
                EscapeError::Trailing { column } => trf(language, Text::EscapeTrailing, &[column]),
            };
            trf(language, Text::BadEscape, &[&text])
        }
        SendError::Encode(e) => trf(
            language,
            Text::CannotEncode,
            &[
                &e.ch,
                &format!("{:04X}", e.code),
                &e.position,
                &e.encoding.label(),
            ],
        ),
        SendError::Empty => tr(language, Text::NothingToSend).to_string(),
    }
}

/// Why auto-reply rule `error.number` cannot be used, in `language` (the regex library's own
/// explanation stays as it wrote it).
pub fn rule_error_text(language: Language, error: &RuleError) -> String {
    let why = match &error.problem {
        RuleProblem::RegexOnHex => tr(language, Text::RegexOnHex).to_string(),
        RuleProblem::InvalidRegex { detail } => trf(language, Text::InvalidRegex, &[detail]),
        RuleProblem::InvalidHexPattern(e) => {
            let why = hex_error_text(language, e);
            trf(language, Text::InvalidHexPattern, &[&why])
        }
        RuleProblem::Reply(e) => {
            let why = send_error_text(language, e);
            trf(language, Text::ReplyError, &[&why])
        }
    };
    trf(language, Text::RuleErrorText, &[&error.number, &why])
}

/// Why no file dialog opened, in `language` (a system reason inside stays as the system wrote
/// it).
pub fn dialog_error_text(language: Language, error: &DialogError) -> String {
    match error {
        DialogError::Unavailable => tr(language, Text::DialogUnavailable).to_string(),
        DialogError::ThreadFailed { detail } => trf(language, Text::DialogThreadFailed, &[detail]),
    }
}

/// Why an export failed, in `language` (the system's reason stays as it wrote it).
pub fn export_error_text(language: Language, error: &ExportError) -> String {
    match error {
        ExportError::Io { path, reason } => {
            trf(language, Text::CannotExportTo, &[&path.display(), reason])
        }
        ExportError::Panicked => tr(language, Text::ExportThreadPanicked).to_string(),
        ExportError::NoResult => tr(language, Text::ExportNoResult).to_string(),
    }
}

/// Why a capture failed, in `language` (the system's or pcap writer's reason stays as it
/// wrote it).
pub fn capture_error_text(language: Language, error: &CaptureError) -> String {
    match error {
        CaptureError::Io { path, reason } => {
            trf(language, Text::CaptureFileError, &[&path.display(), reason])
        }
        CaptureError::Format { path, message } => trf(
            language,
            Text::CaptureFileError,
            &[&path.display(), message],
        ),
    }
}

/// A problem the window shows where the user asked for something, in `language`.
pub fn problem_text(language: Language, problem: &Problem) -> String {
    let f = |key: Text, args: &[&dyn std::fmt::Display]| trf(language, key, args);
    match problem {
        Problem::Send(e) => payload_error_text(language, e),
        Problem::QuickCommand { name, error } => f(
            Text::QuickCommandError,
            &[name, &payload_error_text(language, error)],
        ),
        Problem::OnConnect(e) => f(Text::OnConnectError, &[&send_error_text(language, e)]),
        Problem::Rule(e) => rule_error_text(language, e),
        Problem::BadInterval => tr(language, Text::BadInterval).to_string(),
        Problem::BadCount => tr(language, Text::BadCount).to_string(),
        Problem::ChooseFileFirst => tr(language, Text::ChooseFileFirst).to_string(),
        Problem::Dialog(e) => dialog_error_text(language, e),
        Problem::QuickExport { path, reason } => {
            f(Text::CannotExportTo, &[&path.display(), reason])
        }
        Problem::QuickImport { path, reason } => f(Text::CannotImport, &[&path.display(), reason]),
        Problem::QuickFileThread { reason } => f(Text::QuickFileThread, &[reason]),
        Problem::QuickFileLost => tr(language, Text::QuickFileLost).to_string(),
        Problem::Capture(e) => capture_error_text(language, e),
        Problem::Export(e) => export_error_text(language, e),
        Problem::Framing(e) => framing_form_error_text(language, e),
        Problem::Form(e) => f(Text::FormError, &[&spec_error_text(language, e)]),
        Problem::ScenarioFile { path, reason } => {
            f(Text::ScenarioFileError, &[&path.display(), reason])
        }
        Problem::ScenarioNoSession => tr(language, Text::ScenarioNoSession).to_string(),
        Problem::ScenarioManySessions(count) => f(Text::ScenarioManySessions, &[count]),
        Problem::ScenarioNoSessionLine => tr(language, Text::ScenarioNoSessionLine).to_string(),
        Problem::LoadCsv { path, reason } => trf(
            language,
            super::load::Ld::CsvError,
            &[&path.display(), reason],
        ),
        Problem::PortList { reason } => f(Text::PortListFailed, &[reason]),
    }
}

/// Why the framing form's fields do not make a framing, in `language`.
pub fn framing_form_error_text(language: Language, error: &FramingFormError) -> String {
    match error {
        FramingFormError::NotANumber(field) => {
            trf(language, Text::MustBeNumber, &[&tr(language, *field)])
        }
        FramingFormError::Delimiter(e) => trf(
            language,
            Text::DelimiterError,
            &[&hex_error_text(language, e)],
        ),
        FramingFormError::DelimiterEmpty => tr(language, Text::DelimiterEmpty).to_string(),
        FramingFormError::LengthZero => tr(language, Text::LengthAtLeastOne).to_string(),
        FramingFormError::OffsetTooLarge => tr(language, Text::OffsetTooLarge).to_string(),
    }
}

/// Why bytes are not a frame (an `[invalid]` row) or a framing text cannot be used, in
/// `language` (a syntax error's explanation stays as the parser wrote it).
pub fn framing_error_text(language: Language, error: &FramingError) -> String {
    let f = |key: Text, args: &[&dyn std::fmt::Display]| trf(language, key, args);
    match error {
        FramingError::TooLong { length, max } => f(Text::FramingTooLong, &[length, max]),
        FramingError::LengthBelowHeader { length, header } => {
            f(Text::FramingBelowHeader, &[length, header])
        }
        FramingError::NoValidLength { start, max } => {
            f(Text::FramingNoValidLength, &[&hex::encode(start), max])
        }
        FramingError::NoDelimiter { max } => f(Text::FramingNoDelimiter, &[max]),
        FramingError::Syntax { text, why, .. } => f(Text::FramingSyntax, &[text, why]),
    }
}

/// A notice above the log, in `language`.
pub fn notice_text(language: Language, notice: &Notice) -> String {
    let f = |key: Text, args: &[&dyn std::fmt::Display]| trf(language, key, args);
    match notice {
        Notice::Config(notice) => config_notice_text(language, notice),
        Notice::SavedSessionSkipped { spec, error } => f(
            Text::SavedSessionSkipped,
            &[spec, &spec_error_text(language, error)],
        ),
        Notice::SavedFramingUnused(e) => f(
            Text::SavedFramingUnused,
            &[&framing_error_text(language, e)],
        ),
        Notice::SaveFailed { path, reason } => f(Text::SaveFailedAt, &[&path.display(), reason]),
        Notice::EngineUnavailable { reason } => f(Text::EngineUnavailable, &[reason]),
        Notice::SpillUnavailable { path, reason } => {
            f(Text::SpillUnavailableAt, &[&path.display(), reason])
        }
    }
}

/// Why the settings file was not used and what became of it, in `language` (the system's
/// and the parser's reasons stay as they wrote them).
pub fn config_notice_text(language: Language, notice: &ConfigNotice) -> String {
    let why = |problem: &ConfigProblem| match problem {
        ConfigProblem::Unreadable(reason) => trf(language, Text::ConfigUnreadable, &[reason]),
        ConfigProblem::Newer(version) => trf(language, Text::ConfigNewer, &[version]),
        ConfigProblem::Invalid(reason) => trf(language, Text::ConfigInvalid, &[reason]),
    };
    match notice {
        ConfigNotice::MovedAside {
            path,
            why: w,
            aside,
        } => trf(
            language,
            Text::ConfigMovedAside,
            &[&path.display(), &why(w), &aside.display()],
        ),
        ConfigNotice::KeptInPlace {
            path,
            why: w,
            reason,
        } => trf(
            language,
            Text::ConfigKeptInPlace,
            &[&path.display(), &why(w), reason],
        ),
    }
}

/// How a periodic or file send ended, in `language`.
pub fn job_end_text(language: Language, end: &JobEnd) -> String {
    match end {
        JobEnd::Done => tr(language, Text::JobDone).to_string(),
        JobEnd::Stopped => tr(language, Text::JobStopped).to_string(),
        JobEnd::Failed(why) => trf(language, Text::JobFailed, &[&why.render(language)]),
        JobEnd::FileFailed(why) => trf(language, Text::JobFailed, &[&why.render(language)]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn has_chinese(text: &str) -> bool {
        text.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))
    }

    #[test]
    fn spec_errors_in_english_are_the_spec_modules_own() {
        let cases = [
            SpecError::UnknownKind("x".into()),
            SpecError::InvalidPort("x".into()),
            SpecError::MissingHost("tcp-client"),
            SpecError::InvalidHost("[".into()),
            SpecError::ClientPortZero,
            SpecError::InvalidTimeout("0".into()),
            SpecError::InvalidOption {
                option: "ttl=x".into(),
                kind: "udp-group",
                accepted: "iface=NAME".into(),
            },
            SpecError::NotMulticast("10.0.0.1".into()),
            SpecError::CertWithoutKey,
            SpecError::UnexpectedPath("tcp-server"),
            SpecError::MissingTarget("relay"),
            SpecError::MissingDevice,
        ];
        for error in cases {
            assert_eq!(
                spec_error_text(Language::English, &error),
                error.to_string()
            );
            let zh = spec_error_text(Language::Chinese, &error);
            assert!(has_chinese(&zh), "{zh}");
        }
    }

    #[test]
    fn send_and_rule_errors_read_as_the_codec_says_in_english() {
        // The English text is the codec's own message, so headless and window agree.
        let cases = [
            SendError::Hex(HexError::InvalidChar { ch: 'g', column: 3 }),
            SendError::Hex(HexError::OddDigits {
                group: "123".into(),
                column: 1,
            }),
            SendError::Escape(EscapeError::Unknown { ch: 'q', column: 2 }),
            SendError::Escape(EscapeError::BadHexByte { column: 4 }),
            SendError::Escape(EscapeError::Trailing { column: 5 }),
            SendError::Encode(crate::codec::text::EncodeError {
                ch: '€',
                code: 0x20ac,
                position: 2,
                encoding: crate::codec::text::TextEncoding::Gbk,
            }),
            SendError::Empty,
        ];
        for error in cases {
            assert_eq!(
                send_error_text(Language::English, &error),
                error.to_string()
            );
            let zh = send_error_text(Language::Chinese, &error);
            assert!(has_chinese(&zh), "{zh}");
            let rule = RuleError {
                number: 2,
                problem: RuleProblem::Reply(error),
            };
            assert_eq!(rule_error_text(Language::English, &rule), rule.to_string());
        }
        for problem in [
            RuleProblem::RegexOnHex,
            RuleProblem::InvalidRegex {
                detail: "regex parse error".into(),
            },
            RuleProblem::InvalidHexPattern(HexError::InvalidChar { ch: 'z', column: 1 }),
        ] {
            let rule = RuleError { number: 1, problem };
            assert_eq!(rule_error_text(Language::English, &rule), rule.to_string());
            assert!(has_chinese(&rule_error_text(Language::Chinese, &rule)));
        }
    }

    #[test]
    fn framing_errors_read_as_the_codec_says_in_english() {
        let cases = [
            FramingError::TooLong {
                length: 70_000,
                max: 65_536,
            },
            FramingError::LengthBelowHeader {
                length: 1,
                header: 4,
            },
            FramingError::NoValidLength {
                start: vec![0x41, 0x42],
                max: 65_536,
            },
            FramingError::NoDelimiter { max: 10 },
        ];
        for error in cases {
            assert_eq!(
                framing_error_text(Language::English, &error),
                error.to_string()
            );
            let zh = framing_error_text(Language::Chinese, &error);
            assert!(has_chinese(&zh), "{zh}");
        }
    }

    #[test]
    fn file_errors_keep_the_systems_reason_in_a_translated_sentence() {
        let export = ExportError::Io {
            path: PathBuf::from("/nonexistent/x.txt"),
            reason: "No such file or directory (os error 2)".into(),
        };
        assert_eq!(
            export_error_text(Language::English, &export),
            export.to_string()
        );
        assert_eq!(
            export_error_text(Language::Chinese, &export),
            "无法导出到 /nonexistent/x.txt：No such file or directory (os error 2)"
        );
        let capture = CaptureError::Io {
            path: PathBuf::from("/dev/full"),
            reason: "No space left on device (os error 28)".into(),
        };
        assert_eq!(
            capture_error_text(Language::English, &capture),
            capture.to_string()
        );
        assert!(has_chinese(&capture_error_text(
            Language::Chinese,
            &capture
        )));
        let notices = [
            ConfigNotice::MovedAside {
                path: PathBuf::from("/c/config.ron"),
                why: ConfigProblem::Newer(9),
                aside: PathBuf::from("/c/config.ron.broken-1"),
            },
            ConfigNotice::KeptInPlace {
                path: PathBuf::from("/c/config.ron"),
                why: ConfigProblem::Invalid("expected `(`".into()),
                reason: "Permission denied (os error 13)".into(),
            },
        ];
        for notice in notices {
            assert_eq!(
                config_notice_text(Language::English, &notice),
                notice.to_string()
            );
            let zh = config_notice_text(Language::Chinese, &notice);
            assert!(has_chinese(&zh), "{zh}");
        }
        for error in [
            DialogError::Unavailable,
            DialogError::ThreadFailed {
                detail: "Resource temporarily unavailable".into(),
            },
        ] {
            assert!(has_chinese(&dialog_error_text(Language::Chinese, &error)));
        }
    }
}
