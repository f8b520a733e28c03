//! Statistics of a session and its peers: byte and packet totals each way, current rates and
//! a live rate plot.

use super::*;

pub(super) fn rate_text(bytes_per_s: f64) -> String {
    format!("{}/s", byte_count(bytes_per_s.max(0.0) as u64))
}

pub(super) fn stats_ui(ui: &mut egui::Ui, session: &Session, state: &TrafficState) {
    ui.heading(t(ui, Text::Statistics));
    let c = &session.counters;
    let (rx_rate, tx_rate) = state.rates.current();
    egui::Grid::new("session_stats")
        .striped(true)
        .num_columns(3)
        .show(ui, |ui| {
            ui.label("");
            ui.strong(t(ui, Text::StatRx));
            ui.strong(t(ui, Text::StatTx));
            ui.end_row();
            ui.label(t(ui, Text::StatBytes));
            ui.label(byte_count(c.rx_bytes));
            ui.label(byte_count(c.tx_bytes));
            ui.end_row();
            ui.label(t(ui, Text::StatPackets));
            ui.label(c.rx_packets.to_string());
            ui.label(c.tx_packets.to_string());
            ui.end_row();
            ui.label(t(ui, Text::StatRate));
            ui.label(rate_text(rx_rate));
            ui.label(rate_text(tx_rate));
            ui.end_row();
        });
    let now = steady_seconds();
    let (rx, tx) = state.rates.points(now);
    let rx_color = kind_color(EntryKind::Rx, ui.visuals());
    let tx_color = kind_color(EntryKind::Tx, ui.visuals());
    egui_plot::Plot::new("rate_plot")
        .height(120.0)
        .include_x(-crate::model::stats::HISTORY_S)
        .include_x(0.0)
        .include_y(0.0)
        .allow_drag(false)
        .allow_zoom(false)
        .allow_scroll(false)
        .legend(egui_plot::Legend::default())
        .x_axis_label(t(ui, Text::Seconds))
        .y_axis_label(t(ui, Text::BytesPerSecond))
        .show(ui, |plot| {
            let language = crate::ui::language(plot.ctx());
            let (rx_name, tx_name) = (tr(language, Text::StatRx), tr(language, Text::StatTx));
            plot.line(egui_plot::Line::new(rx_name, rx).color(rx_color));
            plot.line(egui_plot::Line::new(tx_name, tx).color(tx_color));
        });
    ui.separator();
    ui.strong(t(ui, Text::PerPeer));
    egui::ScrollArea::vertical()
        .id_salt("peer_stats")
        .show(ui, |ui| {
            egui::Grid::new("peer_stats_grid")
                .striped(true)
                .num_columns(3)
                .show(ui, |ui| {
                    ui.strong(t(ui, Text::Peer));
                    ui.strong(t(ui, Text::StatRx));
                    ui.strong(t(ui, Text::StatTx));
                    ui.end_row();
                    for (index, peer) in session.peers.iter() {
                        let rates = state
                            .peer_rates
                            .get(&index)
                            .map_or((0.0, 0.0), RateHistory::current);
                        let name = if peer.connected {
                            session_peer_name(session, peer.addr)
                        } else {
                            crate::ui::tf(
                                ui,
                                Text::PeerGone,
                                &[&session_peer_name(session, peer.addr)],
                            )
                        };
                        ui.label(name);
                        ui.label(crate::ui::tf(
                            ui,
                            Text::PeerStat,
                            &[
                                &byte_count(peer.rx_bytes),
                                &peer.rx_packets,
                                &rate_text(rates.0),
                            ],
                        ));
                        ui.label(crate::ui::tf(
                            ui,
                            Text::PeerStat,
                            &[
                                &byte_count(peer.tx_bytes),
                                &peer.tx_packets,
                                &rate_text(rates.1),
                            ],
                        ));
                        ui.end_row();
                    }
                });
        });
}
