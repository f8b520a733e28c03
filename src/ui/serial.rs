//! A serial port's parts of the window: its fields in the create form (the path, typed or
//! picked from the ports the OS lists, with Refresh; the baud rate, typed or picked from the
//! common rates; data bits, parity, stop bits, flow control, reconnect), and the strip of
//! control lines above its log (DTR and RTS to set, CTS/DSR/CD/RI as the engine last read
//! them, Send break). The form's state is [`crate::app::CreateForm`] and
//! [`crate::app::SerialPorts`]; the lines are the model's ([`Session::serial_lines`]).

use crate::app::{Action, CreateForm, SerialPorts};
use crate::i18n::Text;
use crate::model::Session;
use crate::protocol::SessionId;
use crate::serial::{
    BREAK_MS, COMMON_BAUDS, DataBits, FlowControl, ModemInputs, Parity, SerialControl, StopBits,
};
use crate::ui::choice::choice_ui;
use crate::ui::{t, tf};

/// The serial fields of the create form; returns whether Enter was pressed in a text field
/// (the form submits).
pub fn serial_form_ui(
    ui: &mut egui::Ui,
    form: &mut CreateForm,
    ports: &SerialPorts,
    actions: &mut Vec<Action>,
) -> bool {
    let enter = ui.input(|i| i.key_pressed(egui::Key::Enter));
    let mut submit = false;
    let width = ui.available_width();
    // The path: any can be typed; the listed ones are offered under it.
    let label = ui.label(t(ui, Text::SerialPath));
    let path = ui
        .add(egui::TextEdit::singleline(&mut form.host).desired_width(width))
        .labelled_by(label.id)
        .on_hover_text(t(ui, Text::SerialPathTip));
    submit |= path.lost_focus() && enter;
    ui.horizontal(|ui| {
        let refresh = ui
            .add_enabled(
                !ports.listing(),
                egui::Button::new(t(ui, Text::RefreshPorts)),
            )
            .on_hover_text(t(ui, Text::RefreshPortsTip));
        if refresh.clicked() {
            actions.push(Action::RefreshSerialPorts);
        }
        ports_combo_ui(ui, form, ports);
    });
    if let Some(problem) = &ports.problem {
        crate::ui::problem_ui(ui, problem);
    }
    // The baud rate: typed, or one of the common rates.
    let label = ui.label(t(ui, Text::BaudRate));
    ui.horizontal(|ui| {
        let combo_width = 24.0;
        let field_width =
            (ui.available_width() - combo_width - ui.spacing().item_spacing.x).max(60.0);
        let baud = ui
            .add(egui::TextEdit::singleline(&mut form.serial.baud).desired_width(field_width))
            .labelled_by(label.id)
            .on_hover_text(t(ui, Text::BaudTip));
        submit |= baud.lost_focus() && enter;
        let common = egui::ComboBox::from_id_salt("common_bauds")
            .selected_text("")
            .width(combo_width)
            .show_ui(ui, |ui| {
                for baud in COMMON_BAUDS {
                    let text = baud.to_string();
                    let chosen = form.serial.baud.trim() == text;
                    if ui.selectable_label(chosen, &text).clicked() {
                        form.serial.baud = text;
                    }
                }
            });
        crate::ui::set_accessible_name(ui, &common.response, t(ui, Text::CommonBauds));
    });
    let fields = &mut form.serial;
    egui::Grid::new("serial_line")
        .num_columns(2)
        .spacing([6.0, 4.0])
        .show(ui, |ui| {
            let combo_width = (ui.available_width() * 0.5).max(80.0);
            choice_ui(
                ui,
                t(ui, Text::DataBitsLabel),
                &mut fields.data_bits,
                &DataBits::ALL,
                |_, bits| bits.word(),
                combo_width,
                "serial_data_bits",
            );
            ui.end_row();
            choice_ui(
                ui,
                t(ui, Text::ParityLabel),
                &mut fields.parity,
                &Parity::ALL,
                parity_name,
                combo_width,
                "serial_parity",
            );
            ui.end_row();
            choice_ui(
                ui,
                t(ui, Text::StopBitsLabel),
                &mut fields.stop_bits,
                &StopBits::ALL,
                |_, bits| bits.word(),
                combo_width,
                "serial_stop_bits",
            );
            ui.end_row();
            choice_ui(
                ui,
                t(ui, Text::FlowLabel),
                &mut fields.flow,
                &FlowControl::ALL,
                flow_name,
                combo_width,
                "serial_flow",
            );
            ui.end_row();
        });
    ui.checkbox(&mut fields.reconnect, t(ui, Text::SerialReconnect))
        .on_hover_text(t(ui, Text::SerialReconnectTip));
    submit
}

/// The ports the OS listed: picking one fills in its path.
fn ports_combo_ui(ui: &mut egui::Ui, form: &mut CreateForm, ports: &SerialPorts) {
    let chosen = ports.listed.iter().find(|p| p.path == form.host.trim());
    let shown = match chosen {
        Some(port) => port.path.clone(),
        None if ports.listing() => t(ui, Text::ListingPorts).to_string(),
        None if ports.answered && ports.listed.is_empty() => t(ui, Text::NoPortsListed).to_string(),
        None => t(ui, Text::ListedPorts).to_string(),
    };
    let combo = egui::ComboBox::from_id_salt("listed_ports")
        .selected_text(shown)
        .width(ui.available_width())
        .truncate()
        .show_ui(ui, |ui| {
            if ports.listed.is_empty() {
                ui.label(t(ui, Text::NoPortsListed));
            }
            for port in &ports.listed {
                let chosen = form.host.trim() == port.path;
                if ui.selectable_label(chosen, port.to_string()).clicked() {
                    form.host = port.path.clone();
                }
            }
        });
    let response = combo.response.on_hover_text(t(ui, Text::ListedPortsTip));
    crate::ui::set_accessible_name(ui, &response, t(ui, Text::ListedPorts));
}

fn parity_name(ui: &egui::Ui, parity: Parity) -> &'static str {
    t(
        ui,
        match parity {
            Parity::None => Text::ParityNone,
            Parity::Odd => Text::ParityOdd,
            Parity::Even => Text::ParityEven,
        },
    )
}

fn flow_name(ui: &egui::Ui, flow: FlowControl) -> &'static str {
    t(
        ui,
        match flow {
            FlowControl::None => Text::FlowNone,
            FlowControl::RtsCts => Text::FlowRtsCts,
            FlowControl::XonXoff => Text::FlowXonXoff,
        },
    )
}

/// The strip above a serial session's log: DTR and RTS to set, the inputs, Send break.
/// Disabled while the port is not open.
pub fn serial_lines_ui(ui: &mut egui::Ui, id: SessionId, session: &Session) -> Vec<Action> {
    let mut actions = Vec::new();
    let lines = session.serial_lines;
    let open = lines.is_some();
    let lines = lines.unwrap_or_default();
    ui.horizontal_wrapped(|ui| {
        ui.label(egui::RichText::new(t(ui, Text::ControlLines)).strong());
        ui.add_enabled_ui(open, |ui| {
            let mut dtr = lines.dtr;
            if ui
                .checkbox(&mut dtr, "DTR")
                .on_hover_text(t(ui, Text::DtrTip))
                .changed()
            {
                actions.push(Action::Serial(id, SerialControl::Dtr(dtr)));
            }
            let mut rts = lines.rts;
            if ui
                .checkbox(&mut rts, "RTS")
                .on_hover_text(t(ui, Text::RtsTip))
                .changed()
            {
                actions.push(Action::Serial(id, SerialControl::Rts(rts)));
            }
        });
        ui.separator();
        match lines.inputs.filter(|_| open) {
            Some(inputs) => inputs_ui(ui, inputs),
            None if open => {
                ui.label(egui::RichText::new(t(ui, Text::InputLinesUnknown)).weak())
                    .on_hover_text(t(ui, Text::InputLinesUnknownTip));
            }
            None => {}
        }
        ui.separator();
        let send_break = ui
            .add_enabled(open, egui::Button::new(t(ui, Text::SendBreak)))
            .on_hover_text(tf(ui, Text::SendBreakTip, &[&BREAK_MS]));
        if send_break.clicked() {
            actions.push(Action::Serial(id, SerialControl::Break));
        }
    });
    actions
}

/// CTS, DSR, CD and RI, each a lamp before its name: filled when on.
fn inputs_ui(ui: &mut egui::Ui, inputs: ModemInputs) {
    for (name, on) in [
        ("CTS", inputs.cts),
        ("DSR", inputs.dsr),
        ("CD", inputs.cd),
        ("RI", inputs.ri),
    ] {
        let state = tf(
            ui,
            if on {
                Text::InputLineOn
            } else {
                Text::InputLineOff
            },
            &[&name],
        );
        let response = ui
            .horizontal(|ui| {
                ui.spacing_mut().item_spacing.x = 3.0;
                let size = ui.spacing().interact_size.y * 0.5;
                let (rect, lamp) =
                    ui.allocate_exact_size(egui::vec2(size, size), egui::Sense::hover());
                lamp.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Label, true, &state));
                let (center, radius) = (rect.center(), size * 0.45);
                let color = if on {
                    ui.visuals().selection.bg_fill
                } else {
                    ui.visuals().weak_text_color()
                };
                if on {
                    ui.painter().circle_filled(center, radius, color);
                } else {
                    ui.painter()
                        .circle_stroke(center, radius, egui::Stroke::new(1.0, color));
                }
                ui.label(name)
            })
            .response;
        response.on_hover_text(&state);
    }
}
