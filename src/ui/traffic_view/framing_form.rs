//! The framing form: a draft of the framing a session's log shows, its fields and checks, and
//! restoring a saved framing.

use super::*;

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
    const ALL: [FramingMode; 5] = [
        FramingMode::Raw,
        FramingMode::Idle,
        FramingMode::Delimiter,
        FramingMode::Fixed,
        FramingMode::Length,
    ];

    /// The mode's name in `language`.
    pub fn label(self, language: Language) -> &'static str {
        let key = match self {
            FramingMode::Raw => Text::FramingRaw,
            FramingMode::Idle => Text::FramingIdle,
            FramingMode::Delimiter => Text::FramingDelimiter,
            FramingMode::Fixed => Text::FramingFixed,
            FramingMode::Length => Text::FramingLength,
        };
        tr(language, key)
    }
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
    /// A message in `language` naming the field that is wrong.
    pub fn framing(&self, language: Language) -> Result<Framing, String> {
        let number = |text: &str, what: Text| {
            text.trim()
                .parse::<u64>()
                .map_err(|_| trf(language, Text::MustBeNumber, &[&tr(language, what)]))
        };
        let error = |key: Text| tr(language, key).to_string();
        Ok(match self.mode {
            FramingMode::Raw => Framing::Raw,
            FramingMode::Idle => Framing::Idle {
                gap_ms: number(&self.gap_ms, Text::TheGap)?,
            },
            FramingMode::Delimiter => {
                let delimiter = parse_hex(&self.delimiter).map_err(|e| {
                    let why = crate::i18n::errors::send_error_text(
                        language,
                        &crate::codec::send::SendError::Hex(e),
                    );
                    trf(language, Text::DelimiterError, &[&why])
                })?;
                if delimiter.is_empty() {
                    return Err(error(Text::DelimiterEmpty));
                }
                Framing::Delimiter {
                    delimiter,
                    keep: self.keep,
                    max_frame: number(&self.max_frame, Text::TheMax)?,
                }
            }
            FramingMode::Fixed => match number(&self.fixed_len, Text::TheLength)? {
                0 => return Err(error(Text::LengthAtLeastOne)),
                len => Framing::Fixed { len },
            },
            FramingMode::Length => Framing::Length(LengthPrefix {
                width: self.width,
                offset: usize::try_from(number(&self.offset, Text::TheOffset)?)
                    .map_err(|_| error(Text::OffsetTooLarge))?,
                include_header: self.include_header,
                max_frame: number(&self.max_frame, Text::TheMax)?,
            }),
        })
    }
}

/// Sets a restored session's framing from its saved text (`len:u32le`, ...); an unreadable
/// one is reported as a notice and the session shows raw reads.
pub fn restore_framing(app: &mut App, id: SessionId, saved: &str) {
    if saved.trim().is_empty() {
        return;
    }
    match saved.parse::<Framing>() {
        Ok(framing) => {
            let state = app.traffic.entry(id).or_default();
            state.framing_draft = FramingDraft::from_framing(&framing);
            state.log_view.set_framing(framing);
        }
        Err(e) => {
            let notice = trf(app.language(), Text::SavedFramingUnused, &[&e]);
            app.notices.push(notice);
        }
    }
}

pub(super) fn framing_ui(ui: &mut egui::Ui, state: &mut TrafficState, selected: &mut Option<u64>) {
    let draft = &mut state.framing_draft;
    let before = draft.clone();
    let language = crate::ui::language(ui.ctx());
    ui.horizontal_wrapped(|ui| {
        let label = ui.label(t(ui, Text::Framing));
        egui::ComboBox::from_id_salt(label.id)
            .selected_text(draft.mode.label(language))
            .width(110.0)
            .show_ui(ui, |ui| {
                for mode in FramingMode::ALL {
                    ui.selectable_value(&mut draft.mode, mode, mode.label(language));
                }
            })
            .response
            .labelled_by(label.id);
        match draft.mode {
            FramingMode::Raw => {
                ui.label(egui::RichText::new(t(ui, Text::RawReadsHint)).weak());
            }
            FramingMode::Idle => {
                labelled_field(ui, t(ui, Text::GapMs), &mut draft.gap_ms, 50.0);
            }
            FramingMode::Delimiter => {
                labelled_field(ui, t(ui, Text::DelimiterHex), &mut draft.delimiter, 80.0);
                ui.checkbox(&mut draft.keep, t(ui, Text::KeepDelimiter));
                labelled_field(ui, t(ui, Text::MaxFrame), &mut draft.max_frame, 70.0);
            }
            FramingMode::Fixed => {
                labelled_field(ui, t(ui, Text::FixedBytes), &mut draft.fixed_len, 50.0);
            }
            FramingMode::Length => {
                let label = ui.label(t(ui, Text::LengthField));
                egui::ComboBox::from_id_salt(label.id)
                    .selected_text(draft.width.name())
                    .width(70.0)
                    .show_ui(ui, |ui| {
                        for width in LengthWidth::ALL {
                            ui.selectable_value(&mut draft.width, width, width.name());
                        }
                    })
                    .response
                    .labelled_by(label.id);
                labelled_field(ui, t(ui, Text::Offset), &mut draft.offset, 30.0);
                ui.checkbox(&mut draft.include_header, t(ui, Text::IncludesHeader));
                labelled_field(ui, t(ui, Text::MaxFrame), &mut draft.max_frame, 70.0);
            }
        }
        if let Some(framed) = state.log_view.framed() {
            let pending = framed.pending_bytes();
            if pending > 0 {
                let text = crate::ui::tf(ui, Text::Pending, &[&pending]);
                ui.label(egui::RichText::new(text).weak())
                    .on_hover_text(t(ui, Text::PendingTip));
            }
        }
        if let Some(error) = &state.framing_error {
            ui.colored_label(ui.visuals().error_fg_color, error);
        }
    });
    if *draft != before {
        match draft.framing(language) {
            Ok(framing) => {
                state.framing_error = None;
                if framing != state.log_view.framing() {
                    state.log_view.set_framing(framing);
                    *selected = None;
                }
            }
            Err(e) => state.framing_error = Some(e),
        }
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
            assert_eq!(draft.framing(Language::English), Ok(framing), "{text}");
        }
        let bad = FramingDraft {
            mode: FramingMode::Fixed,
            fixed_len: "0".into(),
            ..FramingDraft::default()
        };
        assert_eq!(
            bad.framing(Language::English),
            Err("the length must be at least 1".to_string())
        );
        assert_eq!(
            bad.framing(Language::Chinese),
            Err("长度至少为 1".to_string())
        );
    }
}
