//! How the headless mode prints one traffic-log entry, in each `--format`: `text` (one line),
//! `hex` (that line plus an offset/hex/ASCII dump) and `jsonl` (one JSON object per line).
//! Records are read back from the model's log, so what is printed is what the window stores.

use std::net::SocketAddr;

use serde::Serialize;

use crate::cli::OutputFormat;
use crate::codec::display::escape_controls;
use crate::codec::dump::dump_text;
use crate::codec::text::{Following, TextEncoding, decode_for_display, decode_replacing};
use crate::model::{EntryKind, LogEntry};
use crate::relay::Leg;

/// What a lifecycle record reports; its name is the `event` field of a jsonl record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lifecycle {
    /// The session is up: listening, bound, or connected from a local address.
    Listening,
    /// A TCP connection opened, a UDP source was first seen, or a UDP client has its target.
    Connected,
    /// A connection closed, or the session ended.
    Disconnected,
    /// A session could not start, or something failed without ending it.
    Error,
    /// Something the session did by itself: an auto-reply matched, a background send ended.
    Note,
}

impl Lifecycle {
    /// `listening`, `connected`, `disconnected` or `error`.
    pub fn name(self) -> &'static str {
        match self {
            Lifecycle::Listening => "listening",
            Lifecycle::Connected => "connected",
            Lifecycle::Disconnected => "disconnected",
            Lifecycle::Error => "error",
            Lifecycle::Note => "note",
        }
    }
}

/// One entry of a session's log, with what is needed to print it.
#[derive(Clone, Copy, Debug)]
pub struct Record<'a> {
    /// The session's spec as the user gave it, e.g. `tcp-server:0.0.0.0:6001`.
    pub session: &'a str,
    /// The entry, borrowed from the log.
    pub entry: LogEntry<'a>,
    /// The address of the entry's peer, when it has one.
    pub peer_addr: Option<SocketAddr>,
    /// A serial session's port path: its peer (the device) is named by it, not by an address.
    pub device: Option<&'a str>,
    /// For notes ([`EntryKind::Info`], [`EntryKind::Error`]): what happened.
    pub lifecycle: Option<Lifecycle>,
    /// The session is a relay: its traffic is `up` (`Rx`) or `down` (`Tx`), see
    /// [`EntryKind`].
    pub relay: bool,
}

impl Record<'_> {
    /// The `dir` word of a traffic entry: `rx`/`tx`, or a relay's `up`/`down`.
    fn dir(&self) -> &'static str {
        match (self.entry.kind, self.relay) {
            (kind, true) => kind.leg().map_or("event", Leg::word),
            (EntryKind::Rx, false) => "rx",
            (_, false) => "tx",
        }
    }

    /// How the entry's peer is named: a serial session's port path, else its address.
    fn peer_name(&self) -> Option<String> {
        let addr = self.peer_addr?;
        Some(self.device.map_or_else(|| addr.to_string(), str::to_string))
    }
}

/// Turns records into output lines in one format.
#[derive(Clone, Copy, Debug)]
pub struct Formatter {
    /// The output format.
    pub format: OutputFormat,
    /// How received and sent bytes are decoded into text.
    pub encoding: TextEncoding,
    /// Whether text and hex lines name the session (worth it only with several sessions).
    pub show_session: bool,
}

#[derive(Serialize)]
struct TrafficJson<'a> {
    time: String,
    session: &'a str,
    dir: &'static str,
    peer: Option<String>,
    len: usize,
    hex: String,
    text: String,
    /// A relay's injected bytes; left out otherwise.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    injected: bool,
}

#[derive(Serialize)]
struct LifecycleJson<'a> {
    time: String,
    session: &'a str,
    dir: &'static str,
    event: &'static str,
    peer: Option<String>,
    detail: String,
}

impl Formatter {
    /// The record as output text without a trailing newline: one line, or several for a
    /// hex dump.
    pub fn format(&self, record: &Record<'_>) -> String {
        match self.format {
            OutputFormat::Jsonl => self.json_line(record),
            OutputFormat::Text => self.text_line(record),
            OutputFormat::Hex => {
                let mut out = self.text_line(record);
                if record.entry.kind.is_traffic() && !record.entry.bytes.is_empty() {
                    // The text column decodes with --encoding, characters kept whole.
                    for row in dump_text(record.entry.bytes, self.encoding).lines() {
                        out.push_str("\n  ");
                        out.push_str(row);
                    }
                }
                out
            }
        }
    }

    fn text_line(&self, record: &Record<'_>) -> String {
        let entry = &record.entry;
        let time = rfc3339_micros(entry.at_micros);
        let peer = record.peer_name().unwrap_or_else(|| "-".to_string());
        let session = if self.show_session {
            format!("{} ", record.session)
        } else {
            String::new()
        };
        match entry.kind {
            EntryKind::Rx | EntryKind::Tx => {
                let dir = match (record.dir(), entry.injected) {
                    ("up", true) => "up-injected",
                    ("down", true) => "down-injected",
                    (dir, _) => dir,
                };
                let text = decode_for_display(
                    entry.context,
                    entry.bytes,
                    Following::Nothing,
                    self.encoding,
                );
                format!(
                    "{time} {session}{dir} {peer} {} {}",
                    entry.bytes.len(),
                    escape_controls(&text)
                )
            }
            EntryKind::Info | EntryKind::Error => {
                let mark = if entry.kind == EntryKind::Info {
                    "--"
                } else {
                    "!!"
                };
                let detail = note_text(entry);
                format!("{time} {session}{mark} {peer} {}", escape_controls(&detail))
            }
        }
    }

    fn json_line(&self, record: &Record<'_>) -> String {
        let entry = &record.entry;
        let time = rfc3339_micros(entry.at_micros);
        let peer = record.peer_name();
        let result = match entry.kind {
            EntryKind::Rx | EntryKind::Tx => serde_json::to_string(&TrafficJson {
                time,
                session: record.session,
                dir: record.dir(),
                peer,
                len: entry.bytes.len(),
                hex: ::hex::encode(entry.bytes),
                text: decode_replacing(entry.bytes, self.encoding),
                injected: entry.injected,
            }),
            EntryKind::Info | EntryKind::Error => {
                let fallback = if entry.kind == EntryKind::Info {
                    Lifecycle::Connected
                } else {
                    Lifecycle::Error
                };
                serde_json::to_string(&LifecycleJson {
                    time,
                    session: record.session,
                    dir: "event",
                    event: record.lifecycle.unwrap_or(fallback).name(),
                    peer,
                    detail: note_text(entry),
                })
            }
        };
        // Plain strings and numbers always serialize; keep the line valid JSON regardless.
        result.unwrap_or_else(|e| {
            format!(
                "{{\"dir\":\"event\",\"event\":\"error\",\"detail\":\"cannot format entry: {e}\"}}"
            )
        })
    }
}

/// A note's words, in English (scripts parse them); a payload that is no note record is shown
/// as the text it holds.
fn note_text(entry: &LogEntry<'_>) -> String {
    match entry.note() {
        Some(note) => note.to_string(),
        None => String::from_utf8_lossy(entry.bytes).into_owned(),
    }
}

/// `2026-11-22T01:15:06.123456Z`: RFC 3339 in UTC with microseconds.
pub fn rfc3339_micros(at_micros: i64) -> String {
    match chrono::DateTime::from_timestamp_micros(at_micros) {
        Some(utc) => utc.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string(),
        None => "0000-00-00T00:00:00.000000Z".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const AT: i64 = 1_795_310_106_123_456; // 2026-11-22T01:15:06.123456Z

    fn entry(kind: EntryKind, bytes: &[u8]) -> LogEntry<'_> {
        LogEntry {
            seq: 0,
            kind,
            peer: 0,
            at_micros: AT,
            bytes,
            context: &[],
            has_successor: false,
            injected: false,
            forwarded: false,
        }
    }

    fn record<'a>(entry: LogEntry<'a>, lifecycle: Option<Lifecycle>) -> Record<'a> {
        Record {
            session: "tcp-server:0.0.0.0:6001",
            entry,
            peer_addr: Some(SocketAddr::from(([127, 0, 0, 1], 54321))),
            device: None,
            lifecycle,
            relay: false,
        }
    }

    fn formatter(format: OutputFormat, encoding: TextEncoding) -> Formatter {
        Formatter {
            format,
            encoding,
            show_session: false,
        }
    }

    #[test]
    fn formats_time_as_rfc3339_utc_with_micros() {
        assert_eq!(rfc3339_micros(AT), "2026-11-22T01:15:06.123456Z");
        assert_eq!(rfc3339_micros(0), "1970-01-01T00:00:00.000000Z");
    }

    #[test]
    fn jsonl_traffic_record_matches_the_documented_shape() {
        let f = formatter(OutputFormat::Jsonl, TextEncoding::Utf8);
        let line = f.format(&record(entry(EntryKind::Rx, b"hello"), None));
        assert_eq!(
            line,
            r#"{"time":"2026-11-22T01:15:06.123456Z","session":"tcp-server:0.0.0.0:6001","dir":"rx","peer":"127.0.0.1:54321","len":5,"hex":"68656c6c6f","text":"hello"}"#
        );
    }

    #[test]
    fn a_relay_s_records_say_up_or_down_and_injected() {
        let table = [
            (EntryKind::Rx, false, "up", None, "up"),
            (EntryKind::Tx, false, "down", None, "down"),
            (EntryKind::Rx, true, "up", Some(true), "up-injected"),
            (EntryKind::Tx, true, "down", Some(true), "down-injected"),
        ];
        for (kind, injected, dir, json_injected, text_dir) in table {
            let mut r = record(entry(kind, b"hi"), None);
            r.relay = true;
            r.entry.injected = injected;
            let f = formatter(OutputFormat::Jsonl, TextEncoding::Utf8);
            let value: serde_json::Value = serde_json::from_str(&f.format(&r)).expect("json");
            assert_eq!(value["dir"], dir);
            assert_eq!(value["peer"], "127.0.0.1:54321");
            assert_eq!(value["injected"].as_bool(), json_injected);
            let text = formatter(OutputFormat::Text, TextEncoding::Utf8).format(&r);
            assert!(
                text.contains(&format!(" {text_dir} 127.0.0.1:54321 2 hi")),
                "{text}"
            );
        }
    }

    #[test]
    fn jsonl_decodes_gbk_and_replaces_invalid_bytes() {
        let table: [(&[u8], TextEncoding, &str); 3] = [
            (&[0xd6, 0xd0, 0xce, 0xc4], TextEncoding::Gbk, "中文"),
            (
                &[0xd6, 0xd0, 0xce, 0xc4],
                TextEncoding::Utf8,
                "\u{fffd}\u{fffd}\u{fffd}\u{fffd}",
            ),
            (&[b'a', 0xff, b'\n'], TextEncoding::Utf8, "a\u{fffd}\n"),
        ];
        for (bytes, encoding, text) in table {
            let f = formatter(OutputFormat::Jsonl, encoding);
            let line = f.format(&record(entry(EntryKind::Tx, bytes), None));
            let value: serde_json::Value = serde_json::from_str(&line).expect("valid json");
            assert_eq!(value["text"], text, "{line}");
            assert_eq!(value["dir"], "tx");
            assert_eq!(value["hex"], ::hex::encode(bytes));
            assert_eq!(value["len"], bytes.len());
        }
    }

    #[test]
    fn jsonl_lifecycle_record_has_event_and_detail() {
        let f = formatter(OutputFormat::Jsonl, TextEncoding::Utf8);
        let mut r = record(
            entry(EntryKind::Info, b"disconnected: closed by peer"),
            Some(Lifecycle::Disconnected),
        );
        let value: serde_json::Value = serde_json::from_str(&f.format(&r)).expect("valid json");
        assert_eq!(value["dir"], "event");
        assert_eq!(value["event"], "disconnected");
        assert_eq!(value["detail"], "disconnected: closed by peer");
        assert_eq!(value["peer"], "127.0.0.1:54321");
        r.peer_addr = None;
        let value: serde_json::Value = serde_json::from_str(&f.format(&r)).expect("valid json");
        assert!(value["peer"].is_null());
    }

    #[test]
    fn text_line_escapes_controls_and_decodes() {
        let f = formatter(OutputFormat::Text, TextEncoding::Gbk);
        let line = f.format(&record(
            entry(EntryKind::Rx, &[0xd6, 0xd0, 0xce, 0xc4, b'\r', b'\n']),
            None,
        ));
        assert_eq!(
            line,
            "2026-11-22T01:15:06.123456Z rx 127.0.0.1:54321 6 中文\\r\\n"
        );
        let f = Formatter {
            show_session: true,
            ..formatter(OutputFormat::Text, TextEncoding::Utf8)
        };
        let mut r = record(entry(EntryKind::Error, b"cannot bind"), None);
        r.peer_addr = None;
        assert_eq!(
            f.format(&r),
            "2026-11-22T01:15:06.123456Z tcp-server:0.0.0.0:6001 !! - cannot bind"
        );
    }

    #[test]
    fn hex_dump_text_column_decodes_with_the_encoding() {
        let gbk = b"\xd6\xd0\xce\xc4 ok"; // 中文 ok in GBK
        let f = formatter(OutputFormat::Hex, TextEncoding::Gbk);
        let out = f.format(&record(entry(EntryKind::Rx, gbk), None));
        let dump = out.lines().nth(1).expect("dump row");
        assert!(
            dump.starts_with("  00000000  D6 D0 CE C4 20 6F 6B"),
            "{out}"
        );
        assert!(dump.ends_with(" 中文 ok"), "{out}");
    }

    #[test]
    fn hex_adds_a_dump_under_traffic_lines_only() {
        let f = formatter(OutputFormat::Hex, TextEncoding::Utf8);
        let out = f.format(&record(entry(EntryKind::Tx, b"hello"), None));
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), 2, "{out}");
        assert!(lines[0].ends_with("tx 127.0.0.1:54321 5 hello"), "{out}");
        assert!(
            lines[1].starts_with("  00000000  68 65 6C 6C 6F") && lines[1].ends_with("hello"),
            "{out}"
        );
        let out = f.format(&record(
            entry(EntryKind::Info, b"connected"),
            Some(Lifecycle::Connected),
        ));
        assert_eq!(out.lines().count(), 1);
    }
}
