//! UI tests of the settings and conveniences of issue 8: the language switch (labels change
//! at once and the choice is saved), the theme, keyboard shortcuts (Ctrl+N, Ctrl+L, Delete
//! with its confirmation), and the session context menu (rename, duplicate).

use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use sockdbg::app::App;
use sockdbg::config::ThemeChoice;
use sockdbg::i18n::Language;
use sockdbg::model::SessionState;
use sockdbg::spec::SessionSpec;
use ui_support::{AppHarness, harness, harness_in, step_until, temp_config};

mod ui_support;

fn has_label(harness: &Harness<'_, App>, text: &str) -> bool {
    harness.query_by_label(text).is_some()
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

fn running_harness(name: &str) -> AppHarness {
    let mut harness = harness(temp_config(name), vec![server_spec()]);
    step_until(&mut harness, "server running", |app| {
        app.sessions
            .iter()
            .all(|s| matches!(s.state, SessionState::Running { .. }))
    });
    harness.run_steps(2);
    harness
}

#[test]
fn english_is_the_default_whatever_the_machine_locale() {
    let harness = running_harness("default-language");
    assert_eq!(harness.state().language(), Language::English);
    assert!(has_label(&harness, "Create TCP Server"));
}

/// The first screen names each keyboard shortcut on a line of its own, so a narrow window
/// wraps between them and never inside one (one long line wrapped "删除会话" after its first
/// three characters at 800x600), in the window's language.
#[test]
fn the_first_screen_lists_the_shortcuts_a_line_each_in_both_languages() {
    let mut harness = harness(temp_config("shortcuts"), Vec::new());
    harness.run_steps(2);
    let english = [
        "Ctrl+N  new session",
        "Ctrl+Enter  send",
        "Ctrl+L  clear log",
        "Ctrl+F  search",
        "Delete  remove session",
    ];
    for line in english {
        assert!(has_label(&harness, line), "{line}");
    }
    harness.get_by_label("Settings").click();
    harness.run_steps(2);
    harness.get_by_label("简体中文").click();
    harness.run_steps(3);
    let chinese = [
        "快捷键",
        "Ctrl+N  新建会话",
        "Ctrl+Enter  发送",
        "Ctrl+L  清空日志",
        "Ctrl+F  搜索",
        "Delete  删除会话",
    ];
    for line in chinese {
        assert!(has_label(&harness, line), "{line}");
    }
    assert!(!has_label(&harness, english[0]));
}

#[test]
fn switching_language_changes_labels_at_once_and_is_saved() {
    let mut harness = running_harness("language");
    harness.get_by_label("Settings").click();
    harness.run_steps(2);
    harness.get_by_label("简体中文").click();
    harness.run_steps(3);
    assert_eq!(harness.state().language(), Language::Chinese);
    assert!(
        has_label(&harness, "新建 TCP 服务器"),
        "create button in Chinese"
    );
    assert!(has_label(&harness, "发送"), "send button in Chinese");
    assert!(has_label(&harness, "搜索"), "log view in Chinese");
    assert!(has_label(&harness, "自动回复"), "send tools in Chinese");
    assert!(!has_label(&harness, "Create TCP Server"));
    assert!(
        harness
            .query_all_by_label_contains("正在监听")
            .next()
            .is_some(),
        "session state in Chinese"
    );
    assert_eq!(
        harness.store().load().config.view.language,
        Some(Language::Chinese),
        "saved"
    );
    // And back.
    harness.get_by_label("设置").click();
    harness.run_steps(2);
    harness.get_by_label("English").click();
    harness.run_steps(3);
    assert!(has_label(&harness, "Create TCP Server"));
    assert!(!has_label(&harness, "新建 TCP 服务器"));
}

#[test]
fn theme_choice_applies_and_is_saved() {
    let mut harness = running_harness("theme");
    for (label, theme, dark) in [
        ("Dark", ThemeChoice::Dark, true),
        ("Light", ThemeChoice::Light, false),
    ] {
        harness.get_by_label("Settings").click();
        harness.run_steps(2);
        harness.get_by_label(label).click();
        harness.run_steps(3);
        assert_eq!(harness.state().view.theme, theme);
        assert_eq!(harness.ctx.theme() == egui::Theme::Dark, dark, "{label}");
        assert_eq!(harness.store().load().config.view.theme, theme);
    }
}

#[test]
fn ctrl_n_opens_the_create_form_and_ctrl_l_clears_the_log() {
    let mut harness = running_harness("ctrl-n-l");
    assert!(harness.state().list.create_form.is_none());
    harness.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::N);
    harness.run_steps(2);
    assert!(
        harness.state().list.create_form.is_some(),
        "Ctrl+N opens the form"
    );
    assert!(has_label(&harness, "New TCP Server"));

    let log_len = |app: &App| app.sessions.iter().next().map_or(0, |s| s.log.len());
    assert!(log_len(harness.state()) > 0, "the start is logged");
    harness.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::L);
    harness.run_steps(2);
    assert_eq!(log_len(harness.state()), 0, "Ctrl+L clears the log");
}

#[test]
fn ctrl_f_focuses_the_log_search_field() {
    let mut harness = running_harness("ctrl-f");
    let focused =
        |h: &Harness<'_, App>| h.ctx.memory(|m| m.has_focus(sockdbg::ui::log_search_id()));
    assert!(!focused(&harness));
    harness.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::F);
    harness.run_steps(2);
    assert!(
        focused(&harness),
        "Ctrl+F puts the cursor in the search field"
    );
    harness.get_by_label("Search").type_text("abc");
    harness.run_steps(2);
    assert!(
        harness
            .get_all_by_role(egui::accesskit::Role::TextInput)
            .any(|n| n.value().as_deref() == Some("abc")),
        "typing goes to the search field"
    );
}

#[test]
fn delete_key_asks_before_removing_the_session() {
    let mut harness = running_harness("delete-key");
    harness.key_press(egui::Key::Delete);
    harness.run_steps(2);
    assert!(
        harness.state().list.confirm_delete.is_some(),
        "a confirmation opens"
    );
    assert_eq!(harness.state().sessions.len(), 1, "nothing deleted yet");
    harness.get_by_label("Cancel").click();
    harness.run_steps(2);
    assert!(harness.state().list.confirm_delete.is_none());
    assert_eq!(harness.state().sessions.len(), 1, "cancel keeps it");

    harness.key_press(egui::Key::Delete);
    harness.run_steps(2);
    harness.get_by_label("Delete session").click();
    harness.run_steps(2);
    assert!(harness.state().sessions.is_empty(), "confirmed: deleted");
    assert!(harness.store().load().config.sessions.is_empty());
}

#[test]
fn delete_key_in_a_text_field_edits_text() {
    let mut harness = running_harness("delete-in-field");
    let send_box = harness.get_by_role(egui::accesskit::Role::MultilineTextInput);
    send_box.focus();
    send_box.type_text("abc");
    harness.run_steps(2);
    harness.key_press(egui::Key::Delete);
    harness.run_steps(2);
    assert!(
        harness.state().list.confirm_delete.is_none(),
        "no dialog while typing"
    );
    assert_eq!(harness.state().sessions.len(), 1);
}

#[test]
fn context_menu_renames_and_duplicates_and_names_are_saved() {
    let mut harness = running_harness("context-menu");
    let session = harness.state().sessions.iter().next().expect("one");
    let title = sockdbg::ui::session_list::session_title(Language::English, session);
    // The list's title comes first (the log view repeats it).
    harness
        .get_all_by_label(&title)
        .next()
        .expect("title in the list")
        .click_secondary();
    harness.run_steps(2);
    harness.get_by_label("Rename…").click();
    harness.run_steps(2);
    assert!(harness.state().list.renaming.is_some());
    // The rename field is the left panel's only text field, so the first one.
    harness
        .get_all_by_role(egui::accesskit::Role::TextInput)
        .next()
        .expect("rename field")
        .type_text("PLC 调试");
    harness.run_steps(1);
    harness.get_by_label("OK").click();
    harness.run_steps(2);
    assert!(has_label(&harness, "PLC 调试"), "the list shows the name");
    assert_eq!(harness.store().load().config.sessions[0].name, "PLC 调试");

    harness
        .get_all_by_label("PLC 调试")
        .next()
        .expect("name in the list")
        .click_secondary();
    harness.run_steps(2);
    harness.get_by_label("Duplicate").click();
    harness.run_steps(2);
    let app = harness.state();
    assert_eq!(app.sessions.len(), 2);
    let copy = app.sessions.iter().nth(1).expect("copy");
    assert_eq!(copy.state, SessionState::Stopped, "the copy is not started");
    assert_eq!(app.selected, Some(copy.id));
}

#[test]
fn panel_sizes_are_remembered() {
    let store = temp_config("panels");
    let mut config = sockdbg::config::Config::default();
    config.view.panels.sessions_width = 360;
    config.view.panels.send_box_height = 260;
    store.save(&config).expect("saved");
    let first = {
        let mut harness = harness_in(&store, vec![server_spec()]);
        harness.run_steps(4);
        harness.state().view.panels
    };
    assert!(
        first.sessions_width.abs_diff(360) <= 2,
        "sessions panel opens as saved: {first:?}"
    );
    // What a run leaves is what the next one opens with.
    let mut harness = harness_in(&store, vec![]);
    harness.run_steps(4);
    let second = harness.state().view.panels;
    assert_eq!(first, second);
}

#[test]
fn a_resize_drag_ends_with_its_last_size_saved() {
    let store = temp_config("resize-drag");
    let mut harness = harness_in(&store, vec![]);
    harness.run_steps(3);
    // A drag: a new size on every frame, faster than sizes are written.
    for width in [900.0, 940.0, 980.0, 1020.0, 1060.0] {
        let size = egui::vec2(width, 700.0);
        harness.set_size(size);
        // What a real window reports as its inner size (kittest has no window).
        let viewport = harness
            .input_mut()
            .viewports
            .entry(egui::ViewportId::ROOT)
            .or_default();
        viewport.inner_rect = Some(egui::Rect::from_min_size(egui::Pos2::ZERO, size));
        harness.run_steps(1);
    }
    let started = std::time::Instant::now();
    while store.load().config.view.window_size != Some((1060, 700)) {
        assert!(
            started.elapsed() < ui_support::DEADLINE,
            "the last size was never saved: {:?}",
            store.load().config.view.window_size
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
        harness.run_steps(1);
    }
}

#[test]
fn text_size_follows_ctrl_plus_minus_zero_and_the_settings_menu_and_is_saved() {
    let mut harness = running_harness("text-size");
    let body = |h: &Harness<'_, App>| h.ctx.global_style().text_styles[&egui::TextStyle::Body].size;
    assert_eq!(harness.state().view.font_size, 14);
    assert_eq!(body(&harness), 14.0);
    // No text style is drawn smaller than the body (egui's small style included).
    for (style, font) in &harness.ctx.global_style().text_styles {
        assert!(font.size >= 14.0, "{style:?} is {}", font.size);
    }
    harness.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::Plus);
    harness.run_steps(3);
    assert_eq!(harness.state().view.font_size, 15);
    assert_eq!(body(&harness), 15.0);
    assert_eq!(harness.store().load().config.view.font_size, 15, "saved");
    for _ in 0..2 {
        harness.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::Minus);
        harness.run_steps(2);
    }
    assert_eq!(harness.state().view.font_size, 13);
    harness.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::Num0);
    harness.run_steps(2);
    assert_eq!(harness.state().view.font_size, 14);
    // The Settings menu shows it, with its keys, and changes it too.
    harness.get_by_label("Settings").click();
    harness.run_steps(2);
    assert!(has_label(&harness, "Text size"));
    assert!(has_label(&harness, "Ctrl+Plus / Ctrl+Minus / Ctrl+0"));
    harness.get_by_label("Bigger text").click();
    harness.run_steps(3);
    assert_eq!(harness.state().view.font_size, 15);
    assert_eq!(body(&harness), 15.0);
    assert_eq!(harness.store().load().config.view.font_size, 15);
}

/// Spill directories left by processes that are gone (crashed, killed) are removed at the
/// start, by a thread of their own rather than before the first frame; this window's own
/// directory stays.
#[test]
fn leftover_spill_directories_are_removed_in_the_background() {
    let store = temp_config("spill-sweep");
    let dead = store.spill_base().join("p1-dead");
    std::fs::create_dir_all(dead.join("log-0")).expect("a leftover directory");
    std::fs::write(dead.join("lock"), b"").expect("its lock, which nobody holds");
    std::fs::write(dead.join("log-0").join("00000000.seg"), b"x").expect("a segment");
    let mut harness = harness_in(&store, vec![]);
    let own = harness
        .state()
        .spill_dir
        .as_ref()
        .expect("a spill directory")
        .path()
        .to_path_buf();
    step_until(&mut harness, "the leftover removed", |_| !dead.exists());
    assert!(own.exists(), "this window's own directory stays");
}

#[test]
fn the_log_on_disk_setting_applies_to_the_logs_and_is_saved() {
    let mut harness = running_harness("log-spill");
    let quota = |app: &App| app.sessions.spill().map(|s| s.quota_bytes);
    assert!(harness.state().spill_dir.is_some(), "a spill directory");
    assert_eq!(
        quota(harness.state()),
        Some(8 << 30),
        "on by default, 8 GiB"
    );
    let spilling = |app: &App| app.sessions.iter().all(|s| s.log.spill_status().is_some());
    assert!(spilling(harness.state()));
    harness.get_by_label("Settings").click();
    harness.run_steps(2);
    harness
        .get_by_label("Keep what memory cannot hold on disk")
        .click();
    harness.run_steps(3);
    assert!(!harness.state().view.log_spill);
    assert_eq!(quota(harness.state()), None);
    assert!(
        harness
            .state()
            .sessions
            .iter()
            .all(|s| s.log.spill_status().is_none()),
        "off for the sessions there are"
    );
    let store = harness.config.take().expect("the harness's settings");
    assert!(!store.load().config.view.log_spill, "saved");
    drop(harness);
    // A saved quota is used at the next start.
    let mut config = store.load().config;
    config.view.log_spill = true;
    config.view.log_spill_quota_gib = 2;
    store.save(&config).expect("save");
    let harness = ui_support::harness_in(&store, vec![]);
    assert_eq!(quota(harness.state()), Some(2 << 30));
    assert!(spilling(harness.state()));
}
