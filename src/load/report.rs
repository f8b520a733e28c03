//! How `sockdbg load` prints a run: one line a second (text) or one JSON object a second
//! (`{"kind":"second",…}`), then the summary (`{"kind":"summary",…}` with the fields in
//! the documented order), and the per-second series as CSV (`--csv FILE`). Stable English:
//! scripts read it.

use serde::Serialize;

use super::stats::{ErrorCounts, LoadErrorKind, Rtt, SecondRecord, Summary};

/// A second as jsonl prints it.
#[derive(Serialize)]
struct SecondLine<'a> {
    kind: &'static str,
    second: u64,
    elapsed_ms: u64,
    open: u64,
    connections: u64,
    connect_errors: u64,
    messages_sent: u64,
    answers: u64,
    errors: &'a ErrorCounts,
    rx_bytes: u64,
    tx_bytes: u64,
    rtt_us: &'a Rtt,
    overall_rtt_us: &'a Rtt,
}

/// The summary as jsonl prints it: `kind` first, then the summary's own fields.
#[derive(Serialize)]
struct SummaryLine<'a> {
    kind: &'static str,
    #[serde(flatten)]
    summary: &'a Summary,
}

/// One JSON line for a second.
pub fn second_json(record: &SecondRecord) -> String {
    let d = &record.during;
    let line = SecondLine {
        kind: "second",
        second: record.second,
        elapsed_ms: record.elapsed_ms,
        open: record.open,
        connections: d.connections,
        connect_errors: d.connect_errors,
        messages_sent: d.messages_sent,
        answers: d.answers,
        errors: &d.errors,
        rx_bytes: d.rx_bytes,
        tx_bytes: d.tx_bytes,
        rtt_us: &record.rtt_us,
        overall_rtt_us: &record.overall_rtt_us,
    };
    serde_json::to_string(&line).unwrap_or_default()
}

/// One JSON line for the summary.
pub fn summary_json(summary: &Summary) -> String {
    serde_json::to_string(&SummaryLine {
        kind: "summary",
        summary,
    })
    .unwrap_or_default()
}

/// A number of microseconds as people read it: `850us`, `12.3ms`, `1.20s`.
pub fn micros_text(micros: u64) -> String {
    match micros {
        0..1_000 => format!("{micros}us"),
        1_000..1_000_000 => format!("{:.1}ms", micros as f64 / 1e3),
        _ => format!("{:.2}s", micros as f64 / 1e6),
    }
}

/// A byte rate as people read it: `512 B/s`, `1.5 KiB/s`, `12.0 MiB/s`.
fn bytes_text(bytes: u64) -> String {
    match bytes {
        0..1024 => format!("{bytes} B/s"),
        1024..1_048_576 => format!("{:.1} KiB/s", bytes as f64 / 1024.0),
        _ => format!("{:.1} MiB/s", bytes as f64 / 1_048_576.0),
    }
}

fn errors_text(errors: &ErrorCounts) -> String {
    if errors.total() == 0 {
        return "0".to_string();
    }
    let kinds: Vec<String> = LoadErrorKind::ALL
        .into_iter()
        .filter(|k| errors.get(*k) > 0)
        .map(|k| format!("{} {}", k.key(), errors.get(k)))
        .collect();
    kinds.join(", ")
}

fn rtt_text(rtt: &Rtt) -> String {
    format!(
        "p50 {} p90 {} p99 {} p99.9 {} max {}",
        micros_text(rtt.p50),
        micros_text(rtt.p90),
        micros_text(rtt.p99),
        micros_text(rtt.p999),
        micros_text(rtt.max)
    )
}

/// One text line for a second.
pub fn second_text(record: &SecondRecord) -> String {
    let d = &record.during;
    format!(
        "{:>4}s  open {} (+{} up, {} failed)  sent {}/s  answers {}/s  rx {}  tx {}  rtt {}  errors {}",
        record.second,
        record.open,
        d.connections,
        d.connect_errors,
        d.messages_sent,
        d.answers,
        bytes_text(d.rx_bytes),
        bytes_text(d.tx_bytes),
        rtt_text(&record.rtt_us),
        errors_text(&d.errors),
    )
}

/// The summary in text, a few lines.
pub fn summary_text(summary: &Summary) -> String {
    let seconds = summary.elapsed_ms as f64 / 1000.0;
    let per_second = |n: u64| summary.per_second(n);
    format!(
        "summary: {:.1} s, {} connections ({} failed), {} messages sent ({:.0}/s), {} answers ({:.0}/s)\n\
         bytes: rx {} tx {}\n\
         rtt: {}\n\
         errors: {} (rate {:.4})",
        seconds,
        summary.connections,
        summary.connect_errors,
        summary.messages_sent,
        per_second(summary.messages_sent),
        summary.answers,
        per_second(summary.answers),
        summary.rx_bytes,
        summary.tx_bytes,
        rtt_text(&summary.rtt_us),
        errors_text(&summary.errors),
        summary.error_rate(),
    )
}

/// The CSV header of the per-second series.
pub fn csv_header() -> String {
    let mut columns = vec![
        "second",
        "elapsed_ms",
        "open",
        "connections",
        "connect_errors",
        "messages_sent",
        "answers",
        "rx_bytes",
        "tx_bytes",
    ];
    columns.extend(LoadErrorKind::ALL.map(|k| k.key()));
    columns.extend([
        "rtt_p50_us",
        "rtt_p90_us",
        "rtt_p99_us",
        "rtt_p999_us",
        "rtt_max_us",
    ]);
    columns.join(",")
}

/// One CSV row of the per-second series (numbers only: nothing to quote).
pub fn csv_row(record: &SecondRecord) -> String {
    let d = &record.during;
    let r = &record.rtt_us;
    let mut cells = vec![
        record.second,
        record.elapsed_ms,
        record.open,
        d.connections,
        d.connect_errors,
        d.messages_sent,
        d.answers,
        d.rx_bytes,
        d.tx_bytes,
    ];
    cells.extend(LoadErrorKind::ALL.map(|k| d.errors.get(k)));
    cells.extend([r.p50, r.p90, r.p99, r.p999, r.max]);
    let cells: Vec<String> = cells.iter().map(u64::to_string).collect();
    cells.join(",")
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::load::Stats;

    fn stats() -> Stats {
        let mut stats = Stats::new().expect("histograms");
        stats.connected();
        stats.sent(4);
        stats.received(4);
        stats.answered(1);
        stats.rtt(Duration::from_micros(250));
        stats.error(LoadErrorKind::Reset);
        stats
    }

    #[test]
    fn the_summary_has_the_documented_fields_in_order() {
        let summary = stats().summary(Duration::from_millis(1500));
        let line = summary_json(&summary);
        assert_eq!(
            line,
            "{\"kind\":\"summary\",\"connections\":1,\"connect_errors\":0,\"messages_sent\":1,\
             \"answers\":1,\"errors\":{\"refused\":0,\"reset\":1,\"closed\":0,\"timeout\":0,\
             \"unexpected\":0,\"handshake\":0,\"other\":0},\"rx_bytes\":4,\"tx_bytes\":4,\
             \"rtt_us\":{\"p50\":250,\"p90\":250,\"p99\":250,\"p999\":250,\"max\":250},\
             \"elapsed_ms\":1500}"
        );
        let text = summary_text(&summary);
        assert!(text.contains("1 messages sent"), "{text}");
        assert!(text.contains("errors: reset 1"), "{text}");
    }

    #[test]
    fn seconds_print_as_a_line_a_json_object_and_a_csv_row() {
        let record = stats().second(Duration::from_millis(1000));
        let text = second_text(&record);
        assert!(
            text.starts_with("   1s  open 1 (+1 up, 0 failed)  sent 1/s"),
            "{text}"
        );
        assert!(text.contains("rtt p50 250us"), "{text}");
        let json: serde_json::Value = serde_json::from_str(&second_json(&record)).expect("json");
        assert_eq!(json["kind"], "second");
        assert_eq!(json["errors"]["reset"], 1);
        assert_eq!(json["rtt_us"]["p99"], 250);
        let header = csv_header();
        let row = csv_row(&record);
        assert_eq!(header.split(',').count(), row.split(',').count());
        assert!(row.starts_with("1,1000,1,1,0,1,1,4,4,0,1,"), "{row}");
        assert_eq!(micros_text(12_345), "12.3ms");
        assert_eq!(micros_text(2_500_000), "2.50s");
    }
}
