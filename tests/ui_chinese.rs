//! UI test of issue 8's 简体中文: with the language set to Chinese, every part of the window
//! that has text is opened in turn (a running TCP server with a connected loopback peer and
//! traffic selected in the log, the send tools, the framing/filter/save bars with a capture
//! and an export, the statistics window, every create form and the "More transports" menu,
//! the settings menu, inline errors), and every accessibility node's label and value is
//! checked: text with ASCII letters must hold Chinese characters, or be one of the
//! technical tokens or data this file lists (addresses, hex, the log's own data), and no
//! English piece of the UI's or the engine messages' tables may show. The engine's notes,
//! close reasons and bind/connect errors are typed and worded in the window's language: a
//! bind on a port already taken, a connect to a closed port, a peer that closes and an
//! auto-reply all read in Chinese, and switching the language rewords old log lines.

use std::collections::BTreeSet;
use std::io::Write;
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT, Queryable};
use sockdbg::app::framing_form::FramingMode;
use sockdbg::app::{Action, App};
use sockdbg::i18n::{Language, Msg, Text, Words};
use sockdbg::model::{EntryKind, LogNote, SessionState};
use sockdbg::protocol::SessionId;
use sockdbg::spec::{SessionKind, SessionSpec};
use ui_support::{
    DEADLINE, answered_ping, harness, only_session, read_exactly, step_until, temp_config,
};

mod ui_support;

/// What the peer sends and the window sends back: data, shown as received.
const PEER_DATA: &str = "ping 123\r\n";
const REPLY_DATA: &str = "pong 456";

/// Technical names that stay as they are in every language: protocols, encodings,
/// checksums, line endings, file formats, units, spec syntax, the program's name, keys,
/// and each language's own name in the language menu.
const TECHNICAL: &[&str] = &[
    "WebSocket",
    "TCP",
    "UDP",
    "TLS",
    "UTF-8",
    "GB18030",
    "GBK",
    "Big5",
    "Shift_JIS",
    "EUC-KR",
    "Windows-1252",
    "CRC-16/MODBUS (LE)",
    "CRC-16/CCITT-FALSE",
    "CRC-32",
    "SUM8",
    "XOR8",
    "CRLF",
    "CR",
    "LF",
    "\\r",
    "\\n",
    "pcapng",
    "jsonl",
    "u16be",
    "u16le",
    "u32be",
    "u32le",
    "u8",
    "KiB",
    "MiB",
    "GiB",
    "sockdbg",
    "English",
];

fn is_cjk(c: char) -> bool {
    ('\u{4e00}'..='\u{9fff}').contains(&c)
        || ('\u{3000}'..='\u{303f}').contains(&c)
        || ('\u{ff00}'..='\u{ffef}').contains(&c)
}

/// A word that is a byte in hex (`0D`, `4f`) or a hex dump offset (`00000000`).
fn is_hex_word(word: &str) -> bool {
    let hex = !word.is_empty() && word.chars().all(|c| c.is_ascii_hexdigit());
    let digit = word.chars().any(|c| c.is_ascii_digit());
    let upper = word.chars().all(|c| !c.is_ascii_lowercase());
    hex && (word.len() == 2 || word.len() == 8) && (digit || upper)
}

/// egui's own screen-reader names of its frame parts (panel and window edges, a window's
/// close and collapse buttons): read by screen readers only, never drawn, and not ours to
/// translate.
const EGUI_INTERNAL: &[&str] = &["Resize panel", "Close window", "Hide"];

/// Whether a label or value may show in a Chinese window: it has Chinese characters, or no
/// ASCII letters, or holds listed data, or only technical tokens, paths, units (`B`, `ms`,
/// `/s`) and hex besides.
fn acceptable(text: &str, data: &[String]) -> bool {
    if text.chars().any(is_cjk) || !text.chars().any(|c| c.is_ascii_alphabetic()) {
        return true;
    }
    if EGUI_INTERNAL.contains(&text) || text.starts_with("Resize window ") {
        return true;
    }
    if is_data(text, data) {
        return true;
    }
    let rest: Vec<&str> = text
        .split_whitespace()
        .filter(|word| !word.starts_with('/')) // a file path
        .collect();
    let mut rest = rest.join(" ");
    for token in TECHNICAL {
        rest = rest.replace(token, " ");
    }
    rest.split_whitespace()
        .flat_map(|word| word.split(|c: char| !c.is_ascii_alphanumeric()))
        .filter(|word| word.chars().any(|c| c.is_ascii_alphabetic()))
        .all(|word| is_hex_word(word) || word == "B" || word == "ms" || word == "s")
}

/// Data: equal to a short item, or holding a longer one (a log row around its bytes).
fn is_data(text: &str, data: &[String]) -> bool {
    data.iter()
        .any(|d| text == d || (d.len() >= 4 && text.contains(d.as_str())))
}

/// Both languages of every key of the UI's table and of the engine messages' table.
fn table_pairs() -> Vec<[&'static str; 2]> {
    let ui = Text::ALL.iter().map(|&key| key.pair());
    let engine = Msg::ALL.iter().map(|&key| key.pair());
    ui.chain(engine).collect()
}

/// The English strings of the UI's and the engine messages' tables, cut at their
/// placeholders: pieces of four letters or more that no Chinese string keeps (`Delete` stays
/// as the key's name, `TCP` as is).
fn english_pieces() -> Vec<String> {
    let pairs = table_pairs();
    let chinese: Vec<&str> = pairs.iter().map(|[_, zh]| *zh).collect();
    let mut pieces: Vec<String> = pairs
        .iter()
        .flat_map(|[en, _]| {
            let mut english = en.to_string();
            for index in 0..10 {
                english = english.replace(&format!("{{{index}}}"), "\u{0}");
            }
            english
                .split('\u{0}')
                .map(|piece| piece.trim().to_string())
                .collect::<Vec<_>>()
        })
        .filter(|piece| piece.chars().filter(char::is_ascii_alphabetic).count() >= 4)
        .filter(|piece| !TECHNICAL.contains(&piece.as_str()))
        .filter(|piece| !chinese.iter().any(|zh| zh.contains(piece.as_str())))
        .collect();
    pieces.sort();
    pieces.dedup();
    pieces
}

/// The data the window shows as it is: what went over the wire and what this test typed.
/// (The engine's notes are not data: they are worded in the window's language.)
fn test_data() -> Vec<String> {
    vec![
        PEER_DATA.trim_end().to_string(),
        REPLY_DATA.to_string(),
        "ping".to_string(),
        "pong".to_string(),
        // Typed by this test into fields: a bad offset, bad hex, a bad escape.
        "x".to_string(),
        "zz".to_string(),
        "\\q".to_string(),
        // The auto-reply rule's reply, typed as a user would.
        "{upper}".to_string(),
        "{upper}\\q".to_string(),
    ]
}

/// Every label and value in the window now that is not acceptable, tagged with `phase`.
fn offenders(harness: &Harness<'_, App>, phase: &str, data: &[String]) -> BTreeSet<String> {
    let pieces = english_pieces();
    let mut found = BTreeSet::new();
    for node in harness.root().children_recursive() {
        let node = node.accesskit_node();
        // A wrapped label's rows: the label itself carries the whole text.
        if node.role() == egui::accesskit::Role::TextRun {
            continue;
        }
        for text in [node.label(), node.value()].into_iter().flatten() {
            if is_data(&text, data)
                || EGUI_INTERNAL.contains(&text.as_str())
                || text.starts_with("Resize window ")
            {
                continue;
            }
            if !acceptable(&text, data) {
                found.insert(format!("[{phase}] {text:?}"));
            } else if let Some(piece) = pieces.iter().find(|p| text.contains(p.as_str())) {
                found.insert(format!("[{phase}] {text:?} holds English {piece:?}"));
            }
        }
    }
    found
}

/// Fails unless some label or value in the window contains `needle` (so each phase really
/// shows the part it walks).
fn assert_shows(harness: &Harness<'_, App>, needle: &str) {
    let shown = harness.root().children_recursive().any(|node| {
        let node = node.accesskit_node();
        [node.label(), node.value()]
            .into_iter()
            .flatten()
            .any(|text| text.contains(needle))
    });
    if !shown {
        let all: Vec<String> = harness
            .root()
            .children_recursive()
            .map(|n| {
                let n = n.accesskit_node();
                format!("{:?} {:?} {:?}", n.role(), n.label(), n.value())
            })
            .collect();
        panic!(
            "the window does not show {needle:?}; it shows:\n{}",
            all.join("\n")
        );
    }
}

fn server_spec() -> SessionSpec {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    format!("tcp-server:127.0.0.1:{port}")
        .parse()
        .expect("valid spec")
}

fn click(harness: &mut Harness<'_, App>, label: &str) {
    harness.get_by_label(label).click();
    harness.run_steps(3);
}

use ui_support::pick;

#[test]
fn the_chinese_window_has_no_english_left() {
    let store = temp_config("chinese-everywhere");
    let mut harness = harness(store, vec![server_spec()]);
    step_until(&mut harness, "server running", |app| {
        matches!(only_session(app).state, SessionState::Running { .. })
    });
    let id = only_session(harness.state()).id;
    let SessionState::Running { local_addr } = only_session(harness.state()).state else {
        unreachable!("waited for it")
    };
    let server: SocketAddr = local_addr;

    // The walker sees English: in the English window it finds plenty.
    let english = offenders(&harness, "english", &test_data());
    assert!(
        english.iter().any(|o| o.contains("\"Send\"")),
        "the check finds English labels: {english:?}"
    );

    click(&mut harness, "Settings");
    click(&mut harness, "简体中文");
    assert_eq!(harness.state().language(), Language::Chinese);
    let mut all = BTreeSet::new();
    let mut walk = |harness: &mut Harness<'static, App>, phase: &str| {
        harness.run_steps(3);
        let data = test_data();
        all.extend(offenders(harness, phase, &data));
    };

    // A connected peer, traffic both ways.
    let mut peer = TcpStream::connect_timeout(&server, DEADLINE).expect("peer connects");
    peer.set_read_timeout(Some(Duration::from_millis(50)))
        .expect("timeout");
    peer.write_all(PEER_DATA.as_bytes()).expect("peer writes");
    step_until(&mut harness, "peer data received", |app| {
        only_session(app).counters.rx_bytes == PEER_DATA.len() as u64
    });
    harness.state_mut().views.entry(id).or_default().send_text = REPLY_DATA.to_string();
    harness.run_steps(2);
    click(&mut harness, "发送");
    assert_eq!(
        read_exactly(&mut peer, REPLY_DATA.len()),
        REPLY_DATA.as_bytes()
    );
    step_until(&mut harness, "reply logged", |app| {
        only_session(app).counters.tx_bytes == REPLY_DATA.len() as u64
    });
    walk(&mut harness, "session");
    assert_shows(&harness, "收");
    assert_shows(&harness, "发");
    assert_shows(&harness, "正在监听");
    assert_shows(&harness, "1 个客户端");
    assert_shows(&harness, "接收 ");

    // The settings menu.
    click(&mut harness, "设置");
    walk(&mut harness, "settings menu");
    assert_shows(&harness, "跟随系统");
    assert_shows(&harness, "简体中文");
    click(&mut harness, "设置");

    // Every create form, the basic ones by their buttons, the rest from the menu.
    for kind in SessionKind::ALL {
        let language = harness.state().language();
        let name = sockdbg::ui::session_list::kind_name(language, kind);
        // The first four kinds have buttons of their own.
        if SessionKind::ALL[..4].contains(&kind) {
            click(&mut harness, &format!("新建 {name}"));
        } else {
            click(&mut harness, "更多协议…");
            walk(&mut harness, "more transports menu");
            click(&mut harness, &format!("新建 {name}"));
        }
        assert!(
            harness
                .state()
                .list
                .create_form
                .as_ref()
                .is_some_and(|f| f.kind == kind),
            "create form of {kind:?} open"
        );
        walk(&mut harness, &format!("create form {kind:?}"));
        assert_shows(&harness, &format!("新建 {name}"));
        // A form error, then close.
        if let Some(form) = harness.state_mut().list.create_form.as_mut() {
            if kind == SessionKind::Serial {
                form.host = String::new(); // a port has no port number: no path is its error
            } else {
                form.port = "x".to_string();
            }
        }
        harness.run_steps(1);
        click(&mut harness, "创建");
        walk(&mut harness, &format!("create form error {kind:?}"));
        assert_shows(&harness, "无法创建会话");
        click(&mut harness, "取消");
    }

    // Send tools: quick command being edited, on-connect payload, an auto-reply rule.
    harness.state_mut().view.send_tools_open = true;
    harness.run_steps(3);
    // Every tab of the settings column, walked as it is shown.
    for tab in ["日志", "发送选项", "指令", "自动回复", "保存"] {
        click(&mut harness, tab);
        walk(&mut harness, &format!("column tab {tab}"));
    }
    click(&mut harness, "指令");
    click(&mut harness, "添加到本会话");
    walk(&mut harness, "quick command editor");
    assert_shows(&harness, "名称");
    assert_shows(&harness, "编码");
    harness
        .state_mut()
        .views
        .entry(id)
        .or_default()
        .tools
        .on_connect
        .enabled = true;
    // (The rule is added through the state: its button is below the panel's fold.)
    {
        let tools = &mut harness.state_mut().views.entry(id).or_default().tools;
        tools.rules.push(sockdbg::codec::reply::ReplyRule {
            match_kind: sockdbg::codec::reply::MatchKind::Contains,
            pattern: "ping".to_string(),
            reply_kind: sockdbg::codec::reply::ReplyKind::Send,
            reply: "{upper}".to_string(),
            ..Default::default()
        });
    }
    harness.state_mut().perform(Action::Tool(
        id,
        sockdbg::app::send_tools::ToolAction::ApplyReactions,
    ));
    click(&mut harness, "自动回复");
    walk(&mut harness, "send tools");
    assert_shows(&harness, "包含");
    assert_shows(&harness, "发送");
    // The on-connect payload is in the Sending tab.
    click(&mut harness, "发送选项");
    assert_shows(&harness, "没有可发送的内容");
    click(&mut harness, "自动回复");
    // A bad hex pattern: the rule's error line.
    {
        let tools = &mut harness.state_mut().views.entry(id).or_default().tools;
        if let Some(rule) = tools.rules.first_mut() {
            rule.pattern_hex = true;
            rule.pattern = "zz".to_string();
        }
    }
    harness.state_mut().perform(Action::Tool(
        id,
        sockdbg::app::send_tools::ToolAction::ApplyReactions,
    ));
    walk(&mut harness, "auto-reply error");
    assert_shows(
        &harness,
        "自动回复规则 1：十六进制模式无效：第 1 列的“z”不是十六进制数字",
    );
    // A reply that cannot be built.
    {
        let tools = &mut harness.state_mut().views.entry(id).or_default().tools;
        if let Some(rule) = tools.rules.first_mut() {
            rule.pattern_hex = false;
            rule.pattern = "ping".to_string();
            rule.reply = "{upper}\\q".to_string();
            rule.options.escapes = true;
        }
    }
    harness.state_mut().perform(Action::Tool(
        id,
        sockdbg::app::send_tools::ToolAction::ApplyReactions,
    ));
    walk(&mut harness, "auto-reply reply error");
    assert_shows(&harness, "自动回复规则 1：回复：转义错误：第 8 列");
    harness
        .state_mut()
        .views
        .entry(id)
        .or_default()
        .tools
        .rules
        .clear();
    harness.state_mut().perform(Action::Tool(
        id,
        sockdbg::app::send_tools::ToolAction::ApplyReactions,
    ));

    // Periodic and file sends with their progress, and the tools' errors.
    click(&mut harness, "发送选项");
    {
        let tools = &mut harness.state_mut().views.entry(id).or_default().tools;
        tools.periodic_interval_ms = "0".to_string();
    }
    click(&mut harness, "开始定时发送");
    walk(&mut harness, "periodic error");
    assert_shows(&harness, "间隔：须为整数毫秒");
    {
        let tools = &mut harness.state_mut().views.entry(id).or_default().tools;
        tools.periodic_interval_ms = "5".to_string();
        tools.periodic_count = "2".to_string();
    }
    click(&mut harness, "开始定时发送");
    step_until(&mut harness, "periodic send done", |app| {
        app.views
            .get(&id)
            .is_some_and(|v| !v.tools.periodic.jobs.is_empty() && !v.tools.periodic.running())
    });
    read_exactly(&mut peer, 2 * REPLY_DATA.len());
    click(&mut harness, "发送文件");
    walk(&mut harness, "file error");
    assert_shows(&harness, "请先选择要发送的文件");
    let file = harness.store().path().join("sockdbg-zh.bin");
    std::fs::write(&file, b"0123456789").expect("temp file");
    harness
        .state_mut()
        .views
        .entry(id)
        .or_default()
        .tools
        .file_path = file.display().to_string();
    click(&mut harness, "发送文件");
    step_until(&mut harness, "file sent", |app| {
        app.views
            .get(&id)
            .is_some_and(|v| !v.tools.file.jobs.is_empty() && !v.tools.file.running())
    });
    read_exactly(&mut peer, 10);
    walk(&mut harness, "periodic and file progress");
    assert_shows(&harness, "已发送 2 / 2 次（完成）");
    assert_shows(&harness, "10 / 10 字节（完成）");

    // Inline send errors.
    harness.state_mut().view_of(id).settings.send_hex = true;
    harness.state_mut().views.entry(id).or_default().send_text = "zz".to_string();
    walk(&mut harness, "send box hex error");
    assert_shows(&harness, "十六进制无效");
    harness.state_mut().view_of(id).settings.send_hex = false;
    harness.state_mut().views.entry(id).or_default().send_text = "\\q".to_string();
    harness.state_mut().view_of(id).settings.send_escapes = true;
    walk(&mut harness, "send box escape error");
    assert_shows(&harness, "无法识别");
    harness.state_mut().views.entry(id).or_default().send_text = REPLY_DATA.to_string();

    // The detail pane: a received entry as text and as a hex dump, then a range.
    let rx_row = {
        let log = &only_session(harness.state()).log;
        (0..log.len())
            .filter_map(|i| log.get_by_index(i))
            .find(|e| e.kind == EntryKind::Rx)
            .map(|e| e.seq)
            .expect("a received entry")
    };
    let last_row = {
        let log = &only_session(harness.state()).log;
        log.get_by_index(log.len() - 1)
            .map(|e| e.seq)
            .expect("entries")
    };
    harness.state_mut().traffic_of(id).selected_entry = Some(rx_row);
    walk(&mut harness, "detail text");
    assert_shows(&harness, "接收自");
    assert_shows(&harness, "复制为 C 数组");
    assert_shows(&harness, "复制为 Python");
    harness.state_mut().view.log_hex = true;
    walk(&mut harness, "detail hex");
    assert_shows(&harness, "00000000");
    harness.state_mut().traffic_of(id).selection_extent = Some(last_row);
    walk(&mut harness, "range detail hex");
    assert_shows(&harness, "复制转储");
    harness.state_mut().view.log_hex = false;
    walk(&mut harness, "range detail text");
    harness.state_mut().traffic_of(id).selection_extent = None;

    // Framing modes, with a form error; filter, search and pause (the Log tab).
    click(&mut harness, "日志");
    for mode in [
        FramingMode::Raw,
        FramingMode::Idle,
        FramingMode::Delimiter,
        FramingMode::Fixed,
        FramingMode::Length,
    ] {
        harness
            .state_mut()
            .traffic
            .entry(id)
            .or_default()
            .framing_draft
            .mode = mode;
        walk(&mut harness, &format!("framing {mode:?}"));
    }
    pick(&mut harness, "分帧", "固定长度");
    assert!(
        harness.state().traffic[&id].log_view.framed().is_some(),
        "fixed-length framing applied"
    );
    walk(&mut harness, "framed, bytes pending");
    assert_shows(&harness, "待成帧");
    pick(&mut harness, "分帧", "长度前缀");
    let offset = harness.get_by_label("偏移");
    offset.focus();
    harness.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    harness.get_by_label("偏移").type_text("x");
    harness.run_steps(3);
    assert!(
        harness.state().traffic[&id].framing_error.is_some(),
        "the framing form reports the bad offset"
    );
    walk(&mut harness, "framing error");
    assert_shows(&harness, "偏移必须是数字");
    pick(&mut harness, "分帧", "原始读取");
    {
        let lv = &mut harness.state_mut().traffic.entry(id).or_default().log_view;
        lv.filter.pattern.text = "ping".to_string();
        lv.search.text = "ping".to_string();
    }
    harness.run_steps(3);
    // The hit selected as Next selects it (ui_traffic clicks Next and Previous).
    let hit = {
        let app = harness.state();
        let log = &only_session(app).log;
        app.traffic[&id].log_view.next_hit(log, None, true)
    };
    harness.state_mut().traffic_of(id).selected_entry = hit;
    click(&mut harness, "暂停");
    walk(&mut harness, "filter, search, pause");
    assert_shows(&harness, "显示 1 行");
    assert_shows(&harness, "共 1 个匹配");
    assert_shows(&harness, "继续");
    {
        let lv = &mut harness.state_mut().traffic.entry(id).or_default().log_view;
        lv.filter.pattern.text = "zz".to_string();
        lv.filter.pattern.hex = true;
    }
    walk(&mut harness, "filter error");
    assert_shows(&harness, "过滤或搜索内容无效");
    {
        let lv = &mut harness.state_mut().traffic.entry(id).or_default().log_view;
        lv.filter.pattern.text.clear();
        lv.filter.pattern.hex = false;
        lv.search.text.clear();
    }
    click(&mut harness, "继续");

    // Capture and export, running and done.
    click(&mut harness, "保存");
    walk(&mut harness, "save bar");
    assert_shows(&harness, "导出格式");
    assert_shows(&harness, "抓包文件");
    let dir = harness.store().path().to_path_buf();
    {
        let state = harness.state_mut().traffic.entry(id).or_default();
        state.capture_path = dir.join("sockdbg-zh.pcapng").display().to_string();
        state.export_form.path = dir.join("sockdbg-zh.txt").display().to_string();
    }
    click(&mut harness, "开始抓包");
    walk(&mut harness, "capturing");
    assert_shows(&harness, "正在抓包到");
    click(&mut harness, "停止抓包");
    click(&mut harness, "导出日志");
    step_until(&mut harness, "export done", |app| {
        app.traffic
            .get(&id)
            .is_some_and(|t| t.export.is_none() && t.export_result.is_some())
    });
    walk(&mut harness, "exported");
    assert_shows(&harness, "已导出");
    {
        let state = harness.state_mut().traffic.entry(id).or_default();
        state.export_form.path = "/nonexistent-dir/x.txt".to_string();
    }
    click(&mut harness, "导出日志");
    step_until(&mut harness, "export failed", |app| {
        app.traffic
            .get(&id)
            .is_some_and(|t| t.export.is_none() && matches!(t.export_result, Some(Err(_))))
    });
    walk(&mut harness, "export error");
    {
        let state = harness.state_mut().traffic.entry(id).or_default();
        state.capture_path = "/nonexistent-dir/x.pcapng".to_string();
    }
    click(&mut harness, "开始抓包");
    walk(&mut harness, "capture error");
    assert_shows(&harness, "抓包文件 /nonexistent-dir/x.pcapng：");
    assert_shows(&harness, "无法导出到 /nonexistent-dir/x.txt：");

    // The statistics window (its switch is in the Log tab).
    click(&mut harness, "日志");
    click(&mut harness, "统计");
    walk(&mut harness, "statistics");
    assert_shows(&harness, "统计：");
    assert_shows(&harness, "包数");
    assert_shows(&harness, "各对端");

    // The peer leaves: the log and lists say so.
    drop(peer);
    step_until(&mut harness, "peer gone", |app| {
        only_session(app).connected_peers().next().is_none()
    });
    walk(&mut harness, "peer gone");
    assert_shows(&harness, "（已断开）");

    assert!(
        all.is_empty(),
        "English left in the Chinese window ({}):\n{}",
        all.len(),
        all.into_iter().collect::<Vec<_>>().join("\n")
    );
}

/// A loopback port with nothing listening on it (bound, then released).
fn closed_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port()
}

/// The session of `spec`.
fn session_of(app: &App, spec: &SessionSpec) -> SessionId {
    app.sessions
        .iter()
        .find(|s| s.spec == *spec)
        .map(|s| s.id)
        .expect("the session exists")
}

/// Whether the log of `id` holds a note matching `want`.
fn has_note(app: &App, id: SessionId, want: impl Fn(&LogNote) -> bool) -> bool {
    app.sessions.get(id).is_some_and(|s| {
        (0..s.log.len())
            .filter_map(|i| s.log.get_by_index(i))
            .filter_map(|e| e.note())
            .any(|note| want(&note))
    })
}

/// Fails if some label or value in the window contains `needle`.
fn assert_hides(harness: &Harness<'_, App>, needle: &str) {
    for node in harness.root().children_recursive() {
        let node = node.accesskit_node();
        for text in [node.label(), node.value()].into_iter().flatten() {
            assert!(
                !text.contains(needle),
                "the window shows {needle:?} in {text:?}"
            );
        }
    }
}

#[test]
fn engine_notes_close_reasons_and_start_errors_read_in_chinese() {
    // A port another program holds, a port nobody listens on, and a server of ours.
    let holder = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let taken = holder.local_addr().expect("address").port();
    let closed = closed_port();
    let server = server_spec();
    let in_use: SessionSpec = format!("tcp-server:127.0.0.1:{taken}")
        .parse()
        .expect("spec");
    let refused: SessionSpec = format!("tcp-client:127.0.0.1:{closed}")
        .parse()
        .expect("spec");
    let store = temp_config("chinese-engine");
    let mut harness = harness(store, vec![server.clone(), in_use.clone(), refused.clone()]);
    harness
        .state_mut()
        .perform(Action::SetLanguage(Language::Chinese));
    let server_id = session_of(harness.state(), &server);
    let in_use_id = session_of(harness.state(), &in_use);
    let refused_id = session_of(harness.state(), &refused);
    step_until(&mut harness, "all three sessions settled", |app| {
        let state = |id| app.sessions.get(id).map(|s| s.state.clone());
        matches!(state(server_id), Some(SessionState::Running { .. }))
            && matches!(state(in_use_id), Some(SessionState::Failed(_)))
            && matches!(state(refused_id), Some(SessionState::Failed(_)))
    });
    let SessionState::Running { local_addr } = harness
        .state()
        .sessions
        .get(server_id)
        .expect("server")
        .state
    else {
        unreachable!("waited for it")
    };

    // An auto-reply rule answers a peer, which then leaves.
    let peer = answered_ping(&mut harness, server_id, local_addr);
    step_until(&mut harness, "the auto-reply noted", |app| {
        has_note(app, server_id, |n| {
            matches!(n, LogNote::Note(sockdbg::protocol::Note::AutoReply { .. }))
        })
    });
    drop(peer);
    step_until(&mut harness, "the peer's close noted", |app| {
        has_note(app, server_id, |n| {
            matches!(n, LogNote::PeerDisconnected(_))
        })
    });

    let mut all = BTreeSet::new();
    let port = local_addr.port();
    let sessions = [
        (
            server_id,
            vec![
                format!("正在监听 127.0.0.1:{port}"),
                "已连接".to_string(),
                "自动回复规则 1（包含 \"ping\" => \"pong\\r\\n\"）已匹配；回复 6 字节：70 6F 6E 67 0D 0A"
                    .to_string(),
                "已断开：对方关闭了连接".to_string(),
            ],
        ),
        (
            in_use_id,
            vec![format!(
                "无法绑定 127.0.0.1:{taken}：地址已被占用（其他程序或会话正在使用此端口）"
            )],
        ),
        (
            refused_id,
            vec![format!(
                "无法连接到 127.0.0.1:{closed}：连接被拒绝（那里没有程序在监听）"
            )],
        ),
    ];
    for (id, shown) in sessions {
        harness.state_mut().selected = Some(id);
        harness.run_steps(3);
        for text in shown {
            assert_shows(&harness, &text);
        }
        all.extend(offenders(
            &harness,
            &format!("session {id:?}"),
            &test_data(),
        ));
    }
    // The session list says why the two others failed, in Chinese too.
    assert_shows(&harness, "失败：无法绑定");
    assert_shows(&harness, "失败：无法连接到");
    for english in [
        "listening on",
        "connected",
        "auto-reply",
        "closed by peer",
        "cannot bind",
        "already in use",
        "cannot connect",
        "connection refused",
    ] {
        assert_hides(&harness, english);
    }
    assert!(
        all.is_empty(),
        "English left in the Chinese window ({}):\n{}",
        all.len(),
        all.into_iter().collect::<Vec<_>>().join("\n")
    );
    drop(holder);
}

#[test]
fn switching_the_language_rewords_old_log_lines() {
    let store = temp_config("chinese-switch");
    let mut harness = harness(store, vec![server_spec()]);
    step_until(&mut harness, "server running", |app| {
        matches!(only_session(app).state, SessionState::Running { .. })
    });
    let SessionState::Running { local_addr } = only_session(harness.state()).state else {
        unreachable!("waited for it")
    };
    let peer = TcpStream::connect_timeout(&local_addr, DEADLINE).expect("peer connects");
    step_until(&mut harness, "peer listed", |app| {
        only_session(app).connected_peers().count() == 1
    });
    drop(peer);
    step_until(&mut harness, "peer gone", |app| {
        only_session(app).connected_peers().next().is_none()
    });
    harness.run_steps(2);
    assert_eq!(harness.state().language(), Language::English);
    assert_shows(&harness, &format!("listening on {local_addr}"));
    assert_shows(&harness, "disconnected: closed by peer");

    harness
        .state_mut()
        .perform(Action::SetLanguage(Language::Chinese));
    harness.run_steps(3);
    assert_shows(&harness, &format!("正在监听 {local_addr}"));
    assert_shows(&harness, "已连接");
    assert_shows(&harness, "已断开：对方关闭了连接");
    assert_hides(&harness, "listening on");
    assert_hides(&harness, "closed by peer");

    harness
        .state_mut()
        .perform(Action::SetLanguage(Language::English));
    harness.run_steps(3);
    assert_shows(&harness, "disconnected: closed by peer");
    assert_hides(&harness, "对方关闭了连接");
}

#[test]
fn the_allowlist_takes_tokens_and_data_but_not_words() {
    let data = vec!["hello there".to_string()];
    for ok in [
        "发送",
        "UTF-8",
        "CRC-16/MODBUS (LE)",
        "127.0.0.1:5000",
        "0D 0A",
        "12 B",
        "/tmp/sockdbg-capture.pcapng",
        "RX hello there",
        "00000000  68 65 6C",
    ] {
        assert!(acceptable(ok, &data), "{ok}");
    }
    for bad in [
        "Send",
        "Copy C",
        "12 rows shown",
        "Raw reads",
        "exported 3 rows to /tmp/x",
    ] {
        assert!(!acceptable(bad, &data), "{bad}");
    }
}
