//! Small formatting helpers shared by the panels: local times with milliseconds, byte counts,
//! peer addresses, and the colors of each entry kind.

use crate::i18n::{Language, Text, tr};
use crate::model::EntryKind;

/// `12:34:56.789` in local time, from microseconds since the Unix epoch.
pub fn clock_time(at_micros: i64) -> String {
    match chrono::DateTime::from_timestamp_micros(at_micros) {
        Some(utc) => utc
            .with_timezone(&chrono::Local)
            .format("%H:%M:%S%.3f")
            .to_string(),
        None => "--:--:--.---".to_string(),
    }
}

/// `999 B`, `1.5 KiB`, `12.0 MiB`, `3.20 GiB`.
pub fn byte_count(bytes: u64) -> String {
    const KIB: f64 = 1024.0;
    let b = bytes as f64;
    if bytes < 1024 {
        format!("{bytes} B")
    } else if b < KIB * KIB {
        format!("{:.1} KiB", b / KIB)
    } else if b < KIB * KIB * KIB {
        format!("{:.1} MiB", b / (KIB * KIB))
    } else {
        format!("{:.2} GiB", b / (KIB * KIB * KIB))
    }
}

/// How the window names a peer everywhere (client list, `To:` list, filter, log rows,
/// statistics): its address, IP and port, IPv6 in brackets and shortened (`[::1]:5000`).
pub fn peer_name(addr: std::net::SocketAddr) -> String {
    addr.to_string()
}

/// How the window names one of `session`'s peers: a serial session's one peer (its device)
/// by the port's path, any other by [`peer_name`].
pub fn session_peer_name(session: &crate::model::Session, addr: std::net::SocketAddr) -> String {
    session
        .device_path()
        .map_or_else(|| peer_name(addr), str::to_string)
}

/// The short label of an entry kind as shown in the log (`RX`/`收`, `TX`/`发`).
pub fn kind_label(language: Language, kind: EntryKind) -> &'static str {
    match kind {
        EntryKind::Rx => tr(language, Text::KindRx),
        EntryKind::Tx => tr(language, Text::KindTx),
        EntryKind::Info => "--",
        EntryKind::Error => "!!",
    }
}

/// The short label of an entry in a session's log: [`kind_label`], or for a relay's traffic
/// the arrow of its direction (`->` up, `<-` down; see [`EntryKind::leg`]).
pub fn entry_label(language: Language, kind: EntryKind, relay: bool) -> &'static str {
    match kind.leg() {
        Some(leg) if relay => leg.arrow(),
        _ => kind_label(language, kind),
    }
}

/// The color of an entry kind, readable in light and dark themes.
pub fn kind_color(kind: EntryKind, visuals: &egui::Visuals) -> egui::Color32 {
    let dark = visuals.dark_mode;
    match kind {
        EntryKind::Rx if dark => egui::Color32::from_rgb(0x6c, 0xd6, 0x8c),
        EntryKind::Rx => egui::Color32::from_rgb(0x1a, 0x7f, 0x37),
        EntryKind::Tx if dark => egui::Color32::from_rgb(0x79, 0xb8, 0xff),
        EntryKind::Tx => egui::Color32::from_rgb(0x09, 0x5f, 0xc9),
        EntryKind::Info => visuals.weak_text_color(),
        EntryKind::Error => visuals.error_fg_color,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_byte_counts() {
        assert_eq!(byte_count(0), "0 B");
        assert_eq!(byte_count(1023), "1023 B");
        assert_eq!(byte_count(1536), "1.5 KiB");
        assert_eq!(byte_count(5 * 1024 * 1024), "5.0 MiB");
        assert_eq!(byte_count(3 * 1024 * 1024 * 1024), "3.00 GiB");
    }

    #[test]
    fn names_peers_by_address_with_ipv6_shortened() {
        let name = |text: &str| peer_name(text.parse().expect("address"));
        assert_eq!(name("127.0.0.1:43528"), "127.0.0.1:43528");
        assert_eq!(name("[0:0:0:0:0:0:0:1]:5000"), "[::1]:5000");
        assert_eq!(name("[2001:db8:0:0:0:0:0:7]:80"), "[2001:db8::7]:80");
    }

    #[test]
    fn formats_clock_time_with_milliseconds() {
        let text = clock_time(1_700_000_000_123_456);
        assert_eq!(text.len(), 12, "{text}");
        assert!(text.ends_with(".123"), "{text}");
    }
}
