//! The options of a load run as the user writes them, parsed by one set of functions: the
//! clap arguments of `sockdbg load` call them as value parsers and the window's Load test
//! form calls them on its fields, so both accept the same text and fail with the same typed
//! errors ([`OptionError`], named by the option it concerns in [`LoadArgError`]). Headless
//! prints their `Display` (stable English); the window words them through the i18n table.

use std::fmt;

use super::answer::AnswerError;
use super::payload::PayloadError;
use super::{Mode, PlanError, UnknownMode};
use crate::codec::framing::{Framing, FramingError};
use crate::spec::{SessionSpec, SpecError};

/// An option of a load run (the target is the first).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LoadOption {
    /// The target's spec.
    Spec,
    /// `--mode`.
    Mode,
    /// `--connections`.
    Connections,
    /// `--connect-rate`.
    ConnectRate,
    /// `--duration-ms`.
    Duration,
    /// `--rate`.
    Rate,
    /// `--send`.
    Send,
    /// `--framing`.
    Framing,
    /// `--expect`.
    Expect,
    /// `--timeout-ms`.
    Timeout,
    /// `--max-error-rate`.
    MaxErrorRate,
    /// `--max-p99-ms`.
    MaxP99,
}

impl LoadOption {
    /// The option as the command line names it (`SPEC` for the target).
    pub fn flag(self) -> &'static str {
        match self {
            LoadOption::Spec => "SPEC",
            LoadOption::Mode => "--mode",
            LoadOption::Connections => "--connections",
            LoadOption::ConnectRate => "--connect-rate",
            LoadOption::Duration => "--duration-ms",
            LoadOption::Rate => "--rate",
            LoadOption::Send => "--send",
            LoadOption::Framing => "--framing",
            LoadOption::Expect => "--expect",
            LoadOption::Timeout => "--timeout-ms",
            LoadOption::MaxErrorRate => "--max-error-rate",
            LoadOption::MaxP99 => "--max-p99-ms",
        }
    }
}

/// Why an option's text cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OptionError {
    /// The target is not a spec (the spec's message).
    #[error("{0}")]
    Spec(#[from] SpecError),
    /// Not a mode's name.
    #[error("{0}")]
    Mode(#[from] UnknownMode),
    /// Not a framing (the framing's message).
    #[error("{0}")]
    Framing(#[from] FramingError),
    /// Not a whole number within `min..=max`.
    #[error("'{value}' is not a whole number from {min} to {max}")]
    Number {
        /// As written.
        value: String,
        /// The smallest accepted.
        min: u64,
        /// The largest accepted.
        max: u64,
    },
    /// Not an error rate.
    #[error("'{0}' is not an error rate (0 to 1, or 0% to 100%)")]
    ErrorRate(String),
    /// Not a number of milliseconds.
    #[error("'{0}' is not a number of milliseconds")]
    Millis(String),
    /// The payload cannot be used.
    #[error("{0}")]
    Payload(#[from] PayloadError),
    /// The answer's framing or match cannot be used.
    #[error("{0}")]
    Answer(#[from] AnswerError),
    /// The plan's numbers cannot run.
    #[error("{0}")]
    Plan(#[from] PlanError),
}

/// An option that cannot be used, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadArgError {
    /// Which option.
    pub option: LoadOption,
    /// Why.
    pub error: OptionError,
}

impl fmt::Display for LoadArgError {
    /// The error's own message (the payload's, the match's and the plan's name their option).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.error)
    }
}

impl std::error::Error for LoadArgError {}

impl LoadArgError {
    /// `error` about `option`.
    pub fn new(option: LoadOption, error: impl Into<OptionError>) -> Self {
        Self {
            option,
            error: error.into(),
        }
    }
}

/// The target: a session spec.
///
/// # Errors
/// The spec's own error.
pub fn spec(text: &str) -> Result<SessionSpec, OptionError> {
    Ok(text.trim().parse::<SessionSpec>()?)
}

/// `--mode`: pingpong, stream or connect.
///
/// # Errors
/// [`OptionError::Mode`] for another word.
pub fn mode(text: &str) -> Result<Mode, OptionError> {
    Ok(text.trim().parse::<Mode>()?)
}

/// `--framing`, as `--framing` of a session.
///
/// # Errors
/// The framing's own error.
pub fn framing(text: &str) -> Result<Framing, OptionError> {
    Ok(text.trim().parse::<Framing>()?)
}

/// A whole number from `min` to `max`.
///
/// # Errors
/// [`OptionError::Number`] otherwise.
pub fn number(text: &str, min: u64, max: u64) -> Result<u64, OptionError> {
    match text.trim().parse::<u64>() {
        Ok(value) if (min..=max).contains(&value) => Ok(value),
        _ => Err(OptionError::Number {
            value: text.to_string(),
            min,
            max,
        }),
    }
}

/// `--connections`: at least 1.
///
/// # Errors
/// [`OptionError::Number`] otherwise.
pub fn connections(text: &str) -> Result<u32, OptionError> {
    let value = number(text, 1, u64::from(u32::MAX))?;
    Ok(u32::try_from(value).unwrap_or(u32::MAX))
}

/// `--connect-rate` and `--rate`: 0 (as fast as possible) or more.
///
/// # Errors
/// [`OptionError::Number`] otherwise.
pub fn rate(text: &str) -> Result<u64, OptionError> {
    number(text, 0, u64::MAX)
}

/// `--duration-ms` and `--timeout-ms`: at least 1.
///
/// # Errors
/// [`OptionError::Number`] otherwise.
pub fn millis(text: &str) -> Result<u64, OptionError> {
    number(text, 1, u64::MAX)
}

/// `--max-error-rate`: a fraction (`0.01`) or a percentage (`1%`), from 0 to 1.
///
/// # Errors
/// [`OptionError::ErrorRate`] otherwise.
pub fn error_rate(text: &str) -> Result<f64, OptionError> {
    let (number, scale) = match text.trim().strip_suffix('%') {
        Some(percent) => (percent, 100.0),
        None => (text, 1.0),
    };
    match number.trim().parse::<f64>() {
        Ok(value) if (0.0..=scale).contains(&value) => Ok(value / scale),
        _ => Err(OptionError::ErrorRate(text.to_string())),
    }
}

/// `--max-p99-ms`: milliseconds, 0 or more, fractions allowed.
///
/// # Errors
/// [`OptionError::Millis`] otherwise.
pub fn threshold_ms(text: &str) -> Result<f64, OptionError> {
    match text.trim().parse::<f64>() {
        Ok(ms) if ms >= 0.0 && ms.is_finite() => Ok(ms),
        _ => Err(OptionError::Millis(text.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_rates_and_milliseconds() {
        assert_eq!(connections("10"), Ok(10));
        assert_eq!(connections(" 3 "), Ok(3));
        for bad in ["0", "-1", "x", "", "4294967296"] {
            assert!(
                matches!(connections(bad), Err(OptionError::Number { .. })),
                "{bad}"
            );
        }
        assert_eq!(rate("0"), Ok(0));
        assert_eq!(millis("1"), Ok(1));
        assert!(millis("0").is_err());
        assert_eq!(error_rate("1%"), Ok(0.01));
        assert_eq!(error_rate("0.5"), Ok(0.5));
        assert_eq!(
            error_rate("2").map_err(|e| e.to_string()),
            Err("'2' is not an error rate (0 to 1, or 0% to 100%)".to_string())
        );
        assert_eq!(threshold_ms("2.5"), Ok(2.5));
        assert!(threshold_ms("-1").is_err());
        assert!(threshold_ms("inf").is_err());
        assert_eq!(
            connections("0").map_err(|e| e.to_string()),
            Err("'0' is not a whole number from 1 to 4294967295".to_string())
        );
    }

    #[test]
    fn spec_mode_and_framing_use_their_own_parsers() {
        assert!(spec("tcp-client:127.0.0.1:7").is_ok());
        assert!(matches!(spec("nope:1"), Err(OptionError::Spec(_))));
        assert_eq!(mode("stream"), Ok(Mode::Stream));
        assert!(matches!(mode("fast"), Err(OptionError::Mode(_))));
        assert!(framing("len:u16be").is_ok());
        assert!(matches!(framing("len:u24"), Err(OptionError::Framing(_))));
    }
}
