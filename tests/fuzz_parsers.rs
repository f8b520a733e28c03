//! Property tests (proptest) over every parser that user input, the network or a file can
//! reach: none may panic, and what they accept must round-trip. A short run is part of
//! `cargo test`; a longer one: `PROPTEST_CASES=100000 cargo test --release --test fuzz_parsers`.

use std::time::SystemTime;

use proptest::prelude::*;
use sockdbg::codec::dump::dump_text;
use sockdbg::codec::hex::{parse_hex, to_hex_spaced};
use sockdbg::codec::text::{
    FOLLOWING_BYTES, Following, TextEncoding, decode_for_display, decode_lossy, decode_replacing,
    encode_strict,
};
use sockdbg::config::ConfigStore;
use sockdbg::model::{EntryKind, TrafficLog};
use sockdbg::spec::SessionSpec;

fn any_encoding() -> impl Strategy<Value = TextEncoding> {
    prop::sample::select(TextEncoding::ALL.to_vec())
}

proptest! {
    #[test]
    fn hex_parser_never_panics_and_round_trips(input in ".{0,64}", bytes in prop::collection::vec(any::<u8>(), 0..64), encoding in any_encoding()) {
        let _ = parse_hex(&input);
        prop_assert_eq!(parse_hex(&to_hex_spaced(&bytes)), Ok(bytes.clone()));
        prop_assert_eq!(parse_hex(&hex::encode(&bytes)), Ok(bytes.clone()));
        let dump = dump_text(&bytes, encoding);
        prop_assert_eq!(dump.lines().count(), bytes.len().div_ceil(16));
    }

    #[test]
    fn spec_parser_never_panics_and_round_trips(input in ".{0,40}", port in 1u16.., host in "[a-z]{1,10}(\\.[a-z]{1,5}){0,2}") {
        let _ = input.parse::<SessionSpec>();
        for kind in ["tcp-server", "tcp-client", "udp-server", "udp-client", "tls-server", "tls-client", "ws-server"] {
            let text = format!("{kind}:{host}:{port}");
            let spec: SessionSpec = text.parse().map_err(|e| TestCaseError::fail(format!("{text}: {e}")))?;
            prop_assert_eq!(spec.to_string(), text);
        }
    }

    #[test]
    fn decoding_never_panics_and_keeps_split_text_whole(text in "\\PC{0,40}", split in 0usize..200, encoding in any_encoding()) {
        // Whatever the encoding can represent, split anywhere, displays whole across entries.
        if let Ok(bytes) = encode_strict(&text, encoding) {
            let at = split.min(bytes.len());
            let (a, b) = bytes.split_at(at);
            let next = b.get(..b.len().min(FOLLOWING_BYTES)).unwrap_or_default();
            let first = decode_for_display(&[], a, Following::Bytes(next), encoding);
            let second = decode_for_display(a, b, Following::Nothing, encoding);
            // Split anywhere, the two entries show what the whole decodes to ...
            let whole = decode_replacing(&bytes, encoding);
            prop_assert_eq!(format!("{first}{second}"), whole.clone());
            // ... which is the text itself for encodings that round-trip every character
            // (WHATWG Shift_JIS, for one, encodes ¥ as 0x5C, which decodes as \).
            if matches!(encoding, TextEncoding::Utf8 | TextEncoding::Gb18030 | TextEncoding::Gbk) {
                prop_assert_eq!(whole, text);
            }
        }
    }

    #[test]
    fn any_bytes_cut_into_reads_show_each_byte_once(bytes in prop::collection::vec(any::<u8>(), 0..48), cuts in prop::collection::vec(0usize..48, 0..6), encoding in any_encoding()) {
        // Entry by entry (context before, the next few bytes after) gives the whole's text:
        // no byte held back for a next read is dropped or shown twice.
        let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c.min(bytes.len())).collect();
        cuts.push(0);
        cuts.push(bytes.len());
        cuts.sort_unstable();
        let mut shown = String::new();
        for pair in cuts.windows(2) {
            let (start, end) = (pair[0], pair[1]);
            let next = &bytes[end..(end + FOLLOWING_BYTES).min(bytes.len())];
            let following = if next.is_empty() { Following::Nothing } else { Following::Bytes(next) };
            shown.push_str(&decode_for_display(&bytes[..start], &bytes[start..end], following, encoding));
        }
        prop_assert_eq!(shown, decode_lossy(&bytes, encoding));
    }

    #[test]
    fn decoding_arbitrary_bytes_never_panics(context in prop::collection::vec(any::<u8>(), 0..8), bytes in prop::collection::vec(any::<u8>(), 0..64), after in prop::collection::vec(any::<u8>(), 0..5), cut: bool, encoding in any_encoding()) {
        let following = match (cut, after.is_empty()) {
            (true, _) => Following::Cut,
            (false, true) => Following::Nothing,
            (false, false) => Following::Bytes(&after),
        };
        let _ = decode_for_display(&context, &bytes, following, encoding);
        let _ = decode_replacing(&bytes, encoding);
    }

    #[test]
    fn config_loader_never_panics(text in ".{0,200}") {
        // Removed when dropped, also when a case fails.
        let dir = tempfile::Builder::new()
            .prefix("sockdbg-fuzz-config-")
            .tempdir()
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        let store = ConfigStore::at(dir.path());
        std::fs::write(store.path(), &text).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let loaded = store.load();
        // Either it was used, or it was moved aside and reported: never both, never lost.
        if loaded.notice.is_some() {
            prop_assert!(!store.path().exists());
        }
    }

    #[test]
    fn log_store_returns_exactly_what_was_pushed(sizes in prop::collection::vec(0usize..5000, 1..200), max_kib in 16usize..20_000) {
        let mut log = TrafficLog::new(max_kib * 1024);
        let now = SystemTime::now();
        for (i, size) in sizes.iter().enumerate() {
            let payload: Vec<u8> = (0..*size).map(|j| (i + j) as u8).collect();
            log.push(EntryKind::Rx, (i % 3) as u32, now, &payload);
        }
        prop_assert_eq!(log.evicted_entries() + log.len() as u64, sizes.len() as u64);
        for seq in log.first_seq()..sizes.len() as u64 {
            let entry = log.get(seq).ok_or_else(|| TestCaseError::fail(format!("seq {seq} missing")))?;
            let i = seq as usize;
            let expected: Vec<u8> = (0..sizes[i]).map(|j| (i + j) as u8).collect();
            prop_assert_eq!(entry.bytes, &expected[..]);
        }
    }
}

mod framing_and_escapes {
    use proptest::prelude::*;
    use sockdbg::codec::escape::unescape;
    use sockdbg::codec::framing::{Decoder, Framing};

    fn any_framing() -> impl Strategy<Value = Framing> {
        prop::sample::select(vec![
            "raw",
            "delim:0a",
            "delim:0d0a",
            "fixed:1",
            "fixed:7",
            "len:u8",
            "len:u16be",
            "len:u16le,include-header",
            "len:u32le",
            "len:u32be,offset=2",
        ])
        .prop_map(|spec| spec.parse::<Framing>().expect("valid framing spec"))
    }

    /// Every unit the decoder gives for `stream` cut at `cuts` (whether it is skipped
    /// bytes), plus its pending count.
    fn decode(framing: &Framing, stream: &[u8], cuts: &[usize]) -> (Vec<(u64, u64, bool)>, u64) {
        let mut decoder = Decoder::new(framing.clone());
        let mut units = Vec::new();
        let mut at = 0;
        for &cut in cuts.iter().chain(std::iter::once(&stream.len())) {
            let cut = cut.clamp(at, stream.len());
            decoder.push(&stream[at..cut], 0, &mut units);
            at = cut;
        }
        let spans = units
            .iter()
            .map(|u| (u.start, u.end, u.is_invalid()))
            .collect();
        (spans, decoder.pending())
    }

    /// Spans with adjacent skipped runs as one: a run is reported read by read.
    fn merge_skipped(spans: &[(u64, u64, bool)]) -> Vec<(u64, u64, bool)> {
        let mut merged: Vec<(u64, u64, bool)> = Vec::new();
        for &(start, end, invalid) in spans {
            match merged.last_mut() {
                Some((_, run_end, true)) if invalid && *run_end == start => *run_end = end,
                _ => merged.push((start, end, invalid)),
            }
        }
        merged
    }

    proptest! {
        #[test]
        fn framing_spec_parser_never_panics_and_round_trips(text in ".{0,40}", framing in any_framing()) {
            let _ = text.parse::<Framing>();
            let again: Framing = framing.to_string().parse().map_err(|e| TestCaseError::fail(format!("{framing}: {e:?}")))?;
            prop_assert_eq!(again, framing);
        }

        #[test]
        fn frames_tile_the_stream_whatever_the_reads(
            framing in any_framing(),
            stream in prop::collection::vec(any::<u8>(), 0..600),
            mut cuts in prop::collection::vec(0usize..600, 0..12),
        ) {
            cuts.sort_unstable();
            let (spans, pending) = decode(&framing, &stream, &cuts);
            // No byte lost or repeated: units follow each other from 0, and what is not yet
            // in a unit is exactly the pending tail.
            let mut expected_start = 0;
            for (start, end, _) in &spans {
                prop_assert_eq!(*start, expected_start);
                prop_assert!(end >= start);
                expected_start = *end;
            }
            prop_assert_eq!(expected_start + pending, stream.len() as u64);
            // And, but for raw (one unit per read), the reads' boundaries do not change
            // the frames, nor which bytes are skipped.
            if framing != Framing::Raw {
                let (whole, whole_pending) = decode(&framing, &stream, &[]);
                prop_assert_eq!(merge_skipped(&spans), merge_skipped(&whole));
                prop_assert_eq!(pending, whole_pending);
            }
        }

        #[test]
        fn unescape_never_panics(text in ".{0,60}") {
            let _ = unescape(&text);
        }
    }
}
