//! A labelled combo box choosing one value of a fixed set (encodings, line endings,
//! checksums, ...). The label names the combo for screen readers and UI tests.

use std::hash::Hash;

/// Draws `label` and a combo box over `choices`, each shown by `name`; returns whether the
/// user changed `value`.
pub fn choice_ui<T: Copy + PartialEq>(
    ui: &mut egui::Ui,
    label: &str,
    value: &mut T,
    choices: &[T],
    name: impl Fn(&egui::Ui, T) -> &'static str,
    width: f32,
    salt: impl Hash + std::fmt::Debug,
) -> bool {
    let before = *value;
    let label = ui.label(label);
    egui::ComboBox::from_id_salt(salt)
        .selected_text(name(ui, *value))
        .width(width)
        .show_ui(ui, |ui| {
            for &candidate in choices {
                let text = name(ui, candidate);
                ui.selectable_value(value, candidate, text);
            }
        })
        .response
        .labelled_by(label.id);
    before != *value
}
