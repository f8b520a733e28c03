//! The framing form's state: a draft of the framing a session's log shows, its fields and
//! their checks.

use crate::app::FramingFormError;
use crate::codec::framing::{DEFAULT_MAX_FRAME, Framing, LengthPrefix, LengthWidth};
use crate::codec::hex::{parse_hex, to_hex_spaced};
use crate::i18n::Text;

/// The framing form's fields, as typed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FramingDraft {
    /// The mode picked.
    pub mode: FramingMode,
    /// Idle gap, ms.
    pub gap_ms: String,
    /// Delimiter, hex.
    pub delimiter: String,
    /// Keep the delimiter in the payload.
    pub keep: bool,
    /// Fixed length.
    pub fixed_len: String,
    /// Length field width.
    pub width: LengthWidth,
    /// Bytes before the length field.
    pub offset: String,
    /// The length counts the header.
    pub include_header: bool,
    /// Largest frame.
    pub max_frame: String,
}

impl Default for FramingDraft {
    fn default() -> Self {
        Self {
            mode: FramingMode::Raw,
            gap_ms: "50".into(),
            delimiter: "0d 0a".into(),
            keep: false,
            fixed_len: "8".into(),
            width: LengthWidth::U32Le,
            offset: "0".into(),
            include_header: false,
            max_frame: DEFAULT_MAX_FRAME.to_string(),
        }
    }
}

/// The framing modes offered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FramingMode {
    /// Reads as they came.
    Raw,
    /// Merge until silence.
    Idle,
    /// Delimiter.
    Delimiter,
    /// Fixed length.
    Fixed,
    /// Length prefix.
    Length,
}

impl FramingMode {
    /// Every mode, in menu order.
    pub const ALL: [FramingMode; 5] = [
        FramingMode::Raw,
        FramingMode::Idle,
        FramingMode::Delimiter,
        FramingMode::Fixed,
        FramingMode::Length,
    ];
}

impl FramingDraft {
    /// The fields for `framing` (other fields keep their defaults).
    pub fn from_framing(framing: &Framing) -> Self {
        let mut draft = Self::default();
        match framing {
            Framing::Raw => {}
            Framing::Idle { gap_ms } => {
                draft.mode = FramingMode::Idle;
                draft.gap_ms = gap_ms.to_string();
            }
            Framing::Delimiter {
                delimiter,
                keep,
                max_frame,
            } => {
                draft.mode = FramingMode::Delimiter;
                draft.delimiter = to_hex_spaced(delimiter).to_ascii_lowercase();
                draft.keep = *keep;
                draft.max_frame = max_frame.to_string();
            }
            Framing::Fixed { len } => {
                draft.mode = FramingMode::Fixed;
                draft.fixed_len = len.to_string();
            }
            Framing::Length(p) => {
                draft.mode = FramingMode::Length;
                draft.width = p.width;
                draft.offset = p.offset.to_string();
                draft.include_header = p.include_header;
                draft.max_frame = p.max_frame.to_string();
            }
        }
        draft
    }

    /// The framing the fields describe.
    ///
    /// # Errors
    /// [`FramingFormError`] naming the field that is wrong.
    pub fn framing(&self) -> Result<Framing, FramingFormError> {
        let number = |text: &str, what: Text| {
            text.trim()
                .parse::<u64>()
                .map_err(|_| FramingFormError::NotANumber(what))
        };
        Ok(match self.mode {
            FramingMode::Raw => Framing::Raw,
            FramingMode::Idle => Framing::Idle {
                gap_ms: number(&self.gap_ms, Text::TheGap)?,
            },
            FramingMode::Delimiter => {
                let delimiter = parse_hex(&self.delimiter).map_err(FramingFormError::Delimiter)?;
                if delimiter.is_empty() {
                    return Err(FramingFormError::DelimiterEmpty);
                }
                Framing::Delimiter {
                    delimiter,
                    keep: self.keep,
                    max_frame: number(&self.max_frame, Text::TheMax)?,
                }
            }
            FramingMode::Fixed => match number(&self.fixed_len, Text::TheLength)? {
                0 => return Err(FramingFormError::LengthZero),
                len => Framing::Fixed { len },
            },
            FramingMode::Length => Framing::Length(LengthPrefix {
                width: self.width,
                offset: usize::try_from(number(&self.offset, Text::TheOffset)?)
                    .map_err(|_| FramingFormError::OffsetTooLarge)?,
                include_header: self.include_header,
                max_frame: number(&self.max_frame, Text::TheMax)?,
            }),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn framing_form_round_trips_every_mode() {
        for text in [
            "raw",
            "idle:50",
            "delim:0d0a",
            "delim:0a,keep,max=10",
            "fixed:8",
            "len:u32le",
            "len:u16be,offset=2,include-header,max=100",
        ] {
            let framing: Framing = text.parse().expect("valid");
            let draft = FramingDraft::from_framing(&framing);
            assert_eq!(draft.framing(), Ok(framing), "{text}");
        }
        let bad = FramingDraft {
            mode: FramingMode::Fixed,
            fixed_len: "0".into(),
            ..FramingDraft::default()
        };
        assert_eq!(bad.framing(), Err(FramingFormError::LengthZero));
        let not_a_number = FramingDraft {
            mode: FramingMode::Idle,
            gap_ms: "x".into(),
            ..FramingDraft::default()
        };
        assert_eq!(
            not_a_number.framing(),
            Err(FramingFormError::NotANumber(Text::TheGap))
        );
    }
}
