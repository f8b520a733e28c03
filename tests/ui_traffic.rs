//! UI tests of looking at traffic: filter, search with next/previous, pause while capture goes
//! on, framing a length-prefixed stream, and a capture started from the window. The real
//! `App` through egui_kittest, its real engine, and real loopback peers.

use std::io::Write;
use std::net::TcpStream;

use egui::accesskit::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT, Queryable};
use sockdbg::app::App;
use sockdbg::model::{EntryKind, SessionState};
use ui_support::{AppHarness, harness_in, only_session, step_until, temp_config};

mod ui_support;

fn harness(name: &str) -> AppHarness {
    let startup = vec!["tcp-server:127.0.0.1:0".parse().expect("spec")];
    ui_support::harness(temp_config(&format!("traffic-{name}")), startup)
}

fn rx_count(app: &App) -> usize {
    let log = &only_session(app).log;
    (0..log.len())
        .filter_map(|i| log.get_by_index(i))
        .filter(|e| e.kind == EntryKind::Rx)
        .count()
}

/// Starts the app, connects a peer; returns both.
fn connected(name: &str) -> (AppHarness, TcpStream) {
    let mut harness = harness(name);
    let mut port = 0;
    step_until(&mut harness, "listening", |app| {
        if let SessionState::Running { local_addr } = only_session(app).state {
            port = local_addr.port();
        }
        port != 0
    });
    let peer = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    peer.set_nodelay(true).expect("nodelay");
    step_until(&mut harness, "peer listed", |app| {
        only_session(app).connected_peers().count() == 1
    });
    (harness, peer)
}

/// Sends each message as its own read (waits until the log has it).
fn send_reads(harness: &mut Harness<'_, App>, peer: &mut TcpStream, messages: &[&[u8]]) {
    for m in messages {
        let before = rx_count(harness.state());
        peer.write_all(m).expect("write");
        step_until(harness, "read logged", |app| rx_count(app) > before);
    }
    harness.run_steps(2);
}

fn node_with<'a>(harness: &'a Harness<'_, App>, role: Role, text: &str) -> egui_kittest::Node<'a> {
    harness
        .get_all_by_role(role)
        .find(|n| n.accesskit_node().label().is_some_and(|l| l == text))
        .unwrap_or_else(|| panic!("no {role:?} labelled {text:?}"))
}

fn type_into(harness: &mut Harness<'_, App>, label: &str, text: &str) {
    let field = node_with(harness, Role::TextInput, label);
    field.focus();
    harness.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    harness.key_press(egui::Key::Backspace);
    if !text.is_empty() {
        node_with(harness, Role::TextInput, label).type_text(text);
    }
    harness.run_steps(3);
}

fn any_label_contains(harness: &Harness<'_, App>, text: &str) -> bool {
    harness.query_all_by_label_contains(text).next().is_some()
}

fn shown_rows(app: &App) -> usize {
    let session = only_session(app);
    app.traffic
        .get(&session.id)
        .map_or(0, |t| t.log_view.shown_count(&session.log))
}

#[test]
fn filter_search_next_previous_and_pause() {
    let (mut harness, mut peer) = connected("filter");
    send_reads(
        &mut harness,
        &mut peer,
        &[b"alpha one", b"beta two", b"gamma alpha"],
    );
    assert!(any_label_contains(&harness, "beta two"));

    // Filter: only rows containing "alpha" (either case) are shown.
    type_into(&mut harness, "Filter", "ALPHA");
    step_until(&mut harness, "filter applied", |app| shown_rows(app) == 2);
    assert!(!any_label_contains(&harness, "beta two"), "filtered out");
    assert!(any_label_contains(&harness, "gamma alpha"));
    assert!(any_label_contains(&harness, "2 rows shown"));
    // Hex filter: 62 65 74 61 is "beta".
    type_into(&mut harness, "Filter", "62 65 74 61");
    node_with(&harness, Role::CheckBox, "Filter as hex").click();
    harness.run_steps(3);
    step_until(&mut harness, "hex filter", |app| shown_rows(app) == 1);
    assert!(any_label_contains(&harness, "beta two"));
    node_with(&harness, Role::CheckBox, "Filter as hex").click();
    type_into(&mut harness, "Filter", "");
    step_until(&mut harness, "filter cleared", |app| shown_rows(app) >= 5);

    // Search: two hits, stepped through with Next and Previous (wrapping).
    type_into(&mut harness, "Search", "alpha");
    assert!(any_label_contains(&harness, "2 matches"));
    harness.get_by_label("Next").click();
    harness.run_steps(3);
    assert!(any_label_contains(&harness, "1 of 2 matches"));
    let first = selected(&harness);
    harness.get_by_label("Next").click();
    harness.run_steps(3);
    assert!(any_label_contains(&harness, "2 of 2 matches"));
    assert!(selected(&harness) > first);
    harness.get_by_label("Next").click();
    harness.run_steps(3);
    assert_eq!(selected(&harness), first, "wraps to the first hit");
    harness.get_by_label("Previous").click();
    harness.run_steps(3);
    assert!(any_label_contains(&harness, "2 of 2 matches"));

    // Pause: new traffic is logged but not shown; its count is.
    harness.get_by_label("Pause").click();
    harness.run_steps(2);
    send_reads(&mut harness, &mut peer, &[b"delta while paused"]);
    assert!(any_label_contains(&harness, "1 new"));
    assert!(!any_label_contains(&harness, "delta while paused"));
    harness.get_by_label("Resume").click();
    harness.run_steps(3);
    assert!(any_label_contains(&harness, "delta while paused"));

    // The selected row ("gamma alpha") as a hex dump: offset, hex, decoded text.
    harness.get_by_label("Hex").click();
    harness.run_steps(3);
    assert!(
        any_label_contains(&harness, "00000000  67 61 6D 6D 61 20 61 6C"),
        "hex dump of the selected row"
    );
    assert!(any_label_contains(&harness, " gamma alpha"));
}

fn selected(harness: &Harness<'_, App>) -> u64 {
    harness
        .state()
        .traffic
        .values()
        .next()
        .and_then(|t| t.selected_entry)
        .expect("a row is selected")
}

#[test]
fn length_prefixed_framing_shows_messages_and_capture_writes_pcapng() {
    let (mut harness, mut peer) = connected("framing");
    let mut stream = Vec::new();
    for m in [&b"first"[..], b"second", b"third"] {
        stream.extend_from_slice(&(m.len() as i32).to_le_bytes());
        stream.extend_from_slice(m);
    }
    // Capture from the window: start it before the traffic.
    let pcap = harness.store().path().join("capture.pcapng");
    harness.get_by_label("Save").click();
    harness.run_steps(2);
    type_into(&mut harness, "Capture file", &pcap.display().to_string());
    harness.get_by_label("Start capture").click();
    harness.run_steps(2);
    assert!(any_label_contains(&harness, "capturing to"));

    // One write, then half a message split over two more reads.
    send_reads(
        &mut harness,
        &mut peer,
        &[&stream, b"\x04\x00\x00\x00fo", b"ur"],
    );
    // The framing form is in the settings column's Log tab.
    harness.get_by_label("Log").click();
    harness.run_steps(2);
    node_with(&harness, Role::ComboBox, "Framing").click();
    harness.run_steps(2);
    harness.get_by_label("Length prefix").click();
    harness.run_steps(3);
    step_until(&mut harness, "four frames", |app| {
        let session = only_session(app);
        let Some(t) = app.traffic.get(&session.id) else {
            return false;
        };
        let lv = &t.log_view;
        (0..lv.shown_count(&session.log))
            .filter_map(|i| lv.shown_id(&session.log, i))
            .filter_map(|id| lv.row(&session.log, id, 64))
            .filter(|r| r.kind == EntryKind::Rx)
            .count()
            == 4
    });
    harness.run_steps(2);
    assert!(any_label_contains(&harness, "second"));
    assert!(
        any_label_contains(&harness, "2 reads"),
        "a frame over two reads"
    );

    harness.get_by_label("Save").click();
    harness.run_steps(2);
    harness.get_by_label("Stop capture").click();
    harness.run_steps(2);
    let file = std::fs::read(&pcap).expect("capture written");
    let mut reader = pcap_file::pcapng::PcapNgReader::new(&file[..]).expect("pcapng");
    let mut payload = Vec::new();
    while let Some(block) = reader.next_block() {
        if let pcap_file::pcapng::Block::EnhancedPacket(p) = block.expect("block") {
            let sliced = etherparse::SlicedPacket::from_ethernet(&p.data).expect("packet");
            if let Some(etherparse::TransportSlice::Tcp(tcp)) = sliced.transport {
                payload.extend_from_slice(tcp.payload());
            }
        }
    }
    let mut expected = stream.clone();
    expected.extend_from_slice(b"\x04\x00\x00\x00four");
    assert_eq!(payload, expected);

    // Export the frames (only RX rows, through the filter) as JSON lines, off the UI thread.
    harness.get_by_label("Log").click();
    harness.run_steps(2);
    harness.get_by_label("RX only").click();
    harness.run_steps(2);
    harness.get_by_label("Save").click();
    harness.run_steps(2);
    node_with(&harness, Role::ComboBox, "Export as").click();
    harness.run_steps(2);
    harness.get_by_label("JSON lines").click();
    harness.run_steps(2);
    node_with(&harness, Role::CheckBox, "Filtered rows only").click();
    let export = harness.store().path().join("export.jsonl");
    type_into(&mut harness, "Export file", &export.display().to_string());
    harness.get_by_label("Export log").click();
    step_until(&mut harness, "export done", |app| {
        app.traffic
            .values()
            .any(|t| matches!(t.export_result, Some(Ok(_))))
    });
    let text = std::fs::read_to_string(&export).expect("exported");
    let frames: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("json"))
        .collect();
    assert_eq!(frames.len(), 4, "{text}");
    assert_eq!(frames[3]["hex"], "04000000666f7572");
}

#[test]
fn framing_is_saved_per_session_and_restored() {
    let store = temp_config("traffic-persist");
    let build = || {
        harness_in(
            &store,
            vec!["tcp-server:127.0.0.1:0".parse().expect("spec")],
        )
    };
    {
        let mut harness = build();
        harness.run_steps(2);
        node_with(&harness, Role::ComboBox, "Framing").click();
        harness.run_steps(2);
        harness.get_by_label("Delimiter").click();
        harness.run_steps(2);
        type_into(&mut harness, "Delimiter hex", "0a");
        harness.run_steps(2);
        let saved = store.load().config;
        assert_eq!(saved.sessions[0].framing, "delim:0a", "{saved:?}");
    }
    let mut harness = build();
    harness.run_steps(2);
    let app = harness.state();
    let session = only_session(app);
    let framing = app.traffic.get(&session.id).map(|t| t.log_view.framing());
    assert_eq!(framing.map(|f| f.to_string()).as_deref(), Some("delim:0a"));
    assert!(any_label_contains(&harness, "Delimiter"));
}

#[test]
fn shift_click_selects_a_range_shown_as_one_hex_dump() {
    let (mut harness, mut peer) = connected("range");
    send_reads(
        &mut harness,
        &mut peer,
        &[b"alpha-1", "中文-2".as_bytes(), b"gamma-3"],
    );
    harness.state_mut().view.log_hex = false;
    harness.run_steps(2);
    harness
        .query_all_by_label_contains("alpha-1")
        .next()
        .expect("first row")
        .click();
    harness.run_steps(2);
    harness
        .query_all_by_label_contains("gamma-3")
        .next()
        .expect("last row")
        .click_modifiers(egui::Modifiers::SHIFT);
    harness.run_steps(3);
    let id = only_session(harness.state()).id;
    let state = &harness.state().traffic[&id];
    assert!(state.selected_entry.is_some() && state.selection_extent.is_some());
    assert!(
        any_label_contains(&harness, "3 entries"),
        "range summary shown"
    );
    harness.state_mut().view.log_hex = true;
    harness.run_steps(3);
    // 中文 in UTF-8, with its text column decoded whole.
    assert!(any_label_contains(&harness, "E4 B8 AD E6 96 87"));
    assert!(
        any_label_contains(&harness, "中 文 -2"),
        "text column keeps characters whole"
    );
    assert!(
        any_label_contains(&harness, "67 61 6D 6D 61"),
        "gamma's bytes"
    );
    // A plain click goes back to one selected row (the log rows come after the detail pane).
    harness.state_mut().view.log_hex = false;
    harness.run_steps(2);
    harness
        .query_all_by_label_contains("alpha-1")
        .last()
        .expect("first row")
        .click();
    harness.run_steps(2);
    let state = &harness.state().traffic[&id];
    assert!(state.selection_extent.is_none());
    assert!(!any_label_contains(&harness, "3 entries"));
}

#[test]
fn a_session_not_shown_keeps_framing_and_rates_current() {
    // Two distinct specs (the same spec twice is one session).
    let specs = vec![
        "tcp-server:127.0.0.1:0".parse().expect("spec"),
        "tcp-server:[::1]:0".parse().expect("spec"),
    ];
    let mut harness = ui_support::harness(temp_config("traffic-background"), specs);
    let mut ports = Vec::new();
    step_until(&mut harness, "both listening", |app| {
        ports = app
            .sessions
            .iter()
            .filter_map(|s| match s.state {
                SessionState::Running { local_addr } => Some(local_addr.port()),
                _ => None,
            })
            .collect();
        ports.len() == 2
    });
    let ids: Vec<_> = harness.state().sessions.iter().map(|s| s.id).collect();
    let (shown, hidden) = (ids[0], ids[1]);
    harness.state_mut().selected = Some(shown);
    harness
        .state_mut()
        .traffic
        .entry(hidden)
        .or_default()
        .log_view
        .set_framing("len:u32le".parse().expect("framing"));
    harness.run_steps(2);
    // The seed tutorial's client: three length-prefixed messages in one write.
    let mut wire = Vec::new();
    for message in [&b"one"[..], b"two!", b"three"] {
        wire.extend((message.len() as u32).to_le_bytes());
        wire.extend(message);
    }
    let mut peer = TcpStream::connect(("::1", ports[1])).expect("connect");
    peer.write_all(&wire).expect("write");
    step_until(
        &mut harness,
        "hidden session framed three messages",
        // Each frame holds its 4-byte header and the message.
        |app| rx_frame_lengths(app, hidden) == [7, 8, 9],
    );
    step_until(&mut harness, "hidden session's rate sampled", |app| {
        app.traffic
            .get(&hidden)
            .is_some_and(|t| t.rates.points(f64::MAX).0.iter().any(|p| p[1] > 0.0))
    });
    assert_eq!(harness.state().selected, Some(shown));
}

/// Payload lengths of the received frames in a session's framed view.
fn rx_frame_lengths(app: &App, id: sockdbg::protocol::SessionId) -> Vec<u64> {
    let Some(framed) = app.traffic.get(&id).and_then(|t| t.log_view.framed()) else {
        return Vec::new();
    };
    (framed.first_row()..framed.first_row() + framed.len() as u64)
        .filter_map(|row| framed.get(row))
        .filter(|row| row.kind == EntryKind::Rx)
        .map(|row| row.payload_len)
        .collect()
}

/// The text of the detail pane (a read-only editor) and of every multi-line editor shown.
fn editor_texts(harness: &Harness<'_, App>) -> Vec<String> {
    harness
        .get_all_by_role(Role::MultilineTextInput)
        .filter_map(|n| n.accesskit_node().value())
        .collect()
}

#[test]
fn a_byte_the_next_read_does_not_complete_shows_in_its_row_and_detail() {
    // The issue: "AB\xC4", then "XY" later; the row said 3 B but showed "AB".
    let (mut harness, mut peer) = connected("held-back");
    harness.state_mut().view.log_hex = false;
    send_reads(
        &mut harness,
        &mut peer,
        &[
            b"AB\xc4",
            b"XY",
            b"\xd6\xd0\xce\xc4",
            b"ok",
            b"\xe4\xb8",
            b"\xad!",
        ],
    );
    assert!(
        any_label_contains(&harness, "AB\\xC4"),
        "the byte is in its row"
    );
    assert!(any_label_contains(&harness, "  XY"));
    // GBK 中文 read as UTF-8: all four bytes in the row, as in the detail pane.
    let gbk = "\\xD6\\xD0\\xCE\\xC4";
    assert!(any_label_contains(&harness, gbk), "row and detail agree");
    // A character the next read completes shows there, whole; the read of its first bytes
    // shows them dimmed with an arrow, not as an empty row that looks like lost data.
    assert!(any_label_contains(&harness, "中!"));
    let held = "\\xE4\\xB8 →";
    assert!(any_label_contains(&harness, held), "the held bytes' row");
    harness
        .query_all_by_label_contains(held)
        .next()
        .expect("the held bytes' row")
        .click();
    harness.run_steps(3);
    assert!(
        editor_texts(&harness).iter().any(|t| t == held),
        "detail: {:?}",
        editor_texts(&harness)
    );
    assert!(any_label_contains(&harness, "it shows in the next row"));
    // The arrow reads the same in Chinese; the detail pane says why in Chinese.
    harness.state_mut().view.language = Some(sockdbg::i18n::Language::Chinese);
    harness.run_steps(3);
    assert!(any_label_contains(&harness, held));
    assert!(any_label_contains(&harness, "该字符显示在下一行"));
    harness.state_mut().view.language = Some(sockdbg::i18n::Language::English);
    harness.run_steps(3);
    harness
        .query_all_by_label_contains(gbk)
        .next()
        .expect("the GBK row")
        .click();
    harness.run_steps(3);
    assert!(
        editor_texts(&harness).iter().any(|t| t == gbk),
        "detail: {:?}",
        editor_texts(&harness)
    );
    harness
        .query_all_by_label_contains("AB\\xC4")
        .next()
        .expect("the first row")
        .click();
    harness.run_steps(3);
    assert!(editor_texts(&harness).iter().any(|t| t == "AB\\xC4"));
    // The hex dump shows the byte too, with a dot in its text column.
    harness.state_mut().view.log_hex = true;
    harness.run_steps(3);
    assert!(any_label_contains(&harness, "41 42 C4"));
    assert!(any_label_contains(&harness, "AB."));
}

#[test]
fn length_framing_shows_text_both_ways_and_a_closed_streams_leftover() {
    // The issue: switching a session with text traffic to a length prefix hid every row
    // behind "N B pending", and a send under u32be showed no TX row.
    let (mut harness, mut peer) = connected("length-text");
    harness.state_mut().view.log_hex = false;
    send_reads(&mut harness, &mut peer, &[b"hello\n"]);
    let send_box = harness.get_by_role(Role::MultilineTextInput);
    send_box.focus();
    harness
        .get_by_role(Role::MultilineTextInput)
        .type_text("hello device");
    harness.run_steps(2);
    harness.get_by_label("Send").click();
    step_until(&mut harness, "sent", |app| {
        let log = &only_session(app).log;
        (0..log.len())
            .filter_map(|i| log.get_by_index(i))
            .any(|e| e.kind == EntryKind::Tx)
    });
    node_with(&harness, Role::ComboBox, "Framing").click();
    harness.run_steps(2);
    harness.get_by_label("Length prefix").click();
    harness.run_steps(3);
    // u32le: "o\n" may still begin a length (two zero bytes would make 2671).
    step_until(&mut harness, "rows framed", |app| shown_rows(app) >= 3);
    harness.run_steps(2);
    assert!(
        any_label_contains(&harness, "[invalid] hell"),
        "RX text shows"
    );
    // The send shows at once: "ce" could begin a length, but a send does not wait.
    assert!(
        any_label_contains(&harness, "[invalid] hello devi"),
        "the send shows"
    );
    assert!(any_label_contains(&harness, "[incomplete] ce"));
    node_with(&harness, Role::ComboBox, "Field").click();
    harness.run_steps(2);
    harness.get_by_label("u32be").click();
    harness.run_steps(3);
    // u32be: no printable byte begins a length under 64 KiB: every byte shows at once.
    assert!(any_label_contains(&harness, "[invalid] hello\\n"));
    assert!(any_label_contains(&harness, "[invalid] hello device"));
    assert!(!any_label_contains(&harness, "pending"));
    // Back to u32le; the peer leaves: what waited becomes an incomplete row.
    node_with(&harness, Role::ComboBox, "Field").click();
    harness.run_steps(2);
    harness
        .query_all_by_label("u32le")
        .last()
        .expect("the choice")
        .click();
    harness.run_steps(3);
    assert!(any_label_contains(&harness, "2 B pending"));
    drop(peer);
    step_until(&mut harness, "peer gone", |app| {
        only_session(app).connected_peers().count() == 0
    });
    harness.run_steps(3);
    assert!(any_label_contains(&harness, "[incomplete] o\\n"));
    assert!(!any_label_contains(&harness, "pending"));
}

/// The hex of `text`'s bytes, as the log shows them (`52 4F 57`).
fn hex_of(text: &str) -> String {
    text.bytes()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(" ")
}

#[test]
fn wrapped_rows_show_a_whole_200_byte_frame_and_scroll_correctly() {
    let (mut harness, mut peer) = connected("wrap");
    let id = only_session(harness.state()).id;
    harness
        .state_mut()
        .traffic_of(id)
        .set_framing("delim:0a".parse().expect("framing"));
    // 300 frames of 200 bytes, each ROWnnn ... END.
    let frames: Vec<String> = (0..300)
        .map(|i| format!("ROW{i:03}{}END", "x".repeat(200 - 9)))
        .collect();
    let mut stream = frames.join("\n");
    stream.push('\n');
    peer.write_all(stream.as_bytes()).expect("write");
    step_until(&mut harness, "300 frames", |app| {
        let session = only_session(app);
        app.traffic
            .get(&session.id)
            .is_some_and(|t| t.log_view.shown_count(&session.log) >= 300)
    });
    harness.get_by_label("Hex").click();
    harness.run_steps(3);
    let last = hex_of("ROW299");
    let end = hex_of("END");
    // A log row (not the detail pane's dump of the selected one).
    let row_of = |harness: &Harness<'_, App>, marker: &str| {
        harness
            .query_all_by_label_contains(marker)
            .map(|n| (n.value().unwrap_or_default(), n.rect()))
            .find(|(text, _)| text.contains("  RX  "))
    };
    let (text, _) = row_of(&harness, &last).expect("the newest frame is on screen");
    assert!(
        !text.contains(&end),
        "unwrapped, a row shows its first 128 bytes: {text}"
    );

    harness.get_by_label("Log").click();
    harness.run_steps(2);
    harness.get_by_label("Wrap long rows").click();
    harness.run_steps(4);
    assert!(harness.state().view.wrap_rows);
    let (text, rect) = row_of(&harness, &last).expect("the newest frame is on screen");
    assert!(
        text.contains(&end) && !text.contains('…'),
        "wrapped, the whole 200-byte frame reads in its row: {text}"
    );
    assert!(text.lines().count() > 1, "on several lines: {text}");
    assert!(
        rect.max.y <= 800.0,
        "following the log, the newest row is whole on screen: {rect:?}"
    );
    // Only the rows on screen are laid out.
    let laid_out = harness.query_all_by_label_contains(&hex_of("ROW")).count();
    assert!(laid_out < 60, "{laid_out} rows laid out of 300");

    // A search hit far up scrolls into view, wrapped as it is.
    harness.get_by_label("Search").focus();
    harness.run_steps(1);
    harness.get_by_label("Search").type_text("ROW005");
    harness.run_steps(3);
    harness.get_by_label("Next").click();
    harness.run_steps(4);
    let (text, rect) = row_of(&harness, &hex_of("ROW005")).expect("the hit is shown");
    assert!(text.contains(&end), "{text}");
    assert!(
        rect.min.y >= 0.0 && rect.max.y <= 800.0,
        "the hit is on screen: {rect:?}"
    );
    assert!(
        row_of(&harness, &last).is_none(),
        "the end of the log is no longer laid out"
    );
}
