//! What is remembered between runs: the sessions (as spec strings, with whether each was
//! running) and the view settings, saved as RON in the user's config directory. A file that
//! cannot be read, or was written by a newer version, is moved aside and reported; it is
//! never silently overwritten.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::codec::checksum::Checksum;
use crate::codec::reply::ReplyRule;
use crate::codec::send::{LineEnding, SendOptions};
use crate::codec::text::TextEncoding;

/// The version written into the file. 2: send options and the encoding are per session
/// ([`SavedSession::settings`]); version 1 files had them once for all sessions in `view` and
/// are migrated when read ([`migrate_v1`]).
pub const CONFIG_VERSION: u32 = 2;

/// Environment variable that overrides the config directory (tests, portable installs).
pub const CONFIG_DIR_ENV: &str = "SOCKDBG_CONFIG_DIR";

const FILE_NAME: &str = "config.ron";

/// Everything saved.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Config {
    /// File format version; see [`CONFIG_VERSION`].
    pub version: u32,
    /// Sessions in the order of the left panel.
    pub sessions: Vec<SavedSession>,
    /// How the log and send box were set.
    pub view: ViewSettings,
    /// Quick commands shown for every session.
    pub quick_commands: Vec<QuickCommand>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            version: CONFIG_VERSION,
            sessions: Vec::new(),
            view: ViewSettings::default(),
            quick_commands: Vec::new(),
        }
    }
}

/// A named payload sent with one click, with its own mode, encoding, line ending and
/// checksum.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct QuickCommand {
    /// The button's label.
    pub name: String,
    /// Text or hex, per `options.hex`.
    pub payload: String,
    /// How `payload` becomes bytes.
    pub options: SendOptions,
}

/// A payload sent to each new client (servers) or on connect (clients), like a banner.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct OnConnect {
    /// Whether it is sent.
    pub enabled: bool,
    /// Text or hex, per `options.hex`.
    pub payload: String,
    /// How `payload` becomes bytes.
    pub options: SendOptions,
}

/// A list of quick commands as exported to (and imported from) its own RON file.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct QuickCommandFile {
    /// File format version; see [`CONFIG_VERSION`].
    pub version: u32,
    /// The commands, in order.
    pub quick_commands: Vec<QuickCommand>,
}

/// One saved session.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SavedSession {
    /// The session spec, e.g. `tcp-server:0.0.0.0:6001`.
    pub spec: String,
    /// Whether it was running when saved (it is started again on the next run).
    pub running: bool,
    /// Quick commands of this session only.
    pub quick_commands: Vec<QuickCommand>,
    /// Auto-reply rules, in order.
    pub auto_reply: Vec<ReplyRule>,
    /// The on-connect payload.
    pub on_connect: OnConnect,
    /// How the log frames its bytes, as `--framing` writes it (`raw`, `len:u32le`, ...);
    /// empty means raw.
    pub framing: String,
    /// The name shown in the session list instead of the spec; empty means none.
    pub name: String,
    /// Its encoding and send options.
    pub settings: SessionSettings,
}

/// How one session turns bytes into text and text into bytes: one encoding both ways (unless
/// split), and the send box's options. Saved with the session, so a checksum or hex send set
/// on one session never applies to another.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SessionSettings {
    /// Decodes the log and encodes what is sent (unless [`Self::send_encoding`] is set).
    pub encoding: TextEncoding,
    /// Encodes what is sent when it differs from the log's (the rare split case).
    pub send_encoding: Option<TextEncoding>,
    /// The send box takes hex (true) or text (false).
    pub send_hex: bool,
    /// The send box replaces `\r \n \t \\ \0 \xNN` in text.
    pub send_escapes: bool,
    /// Appended to what the send box sends.
    pub line_ending: LineEnding,
    /// Appended last to what the send box sends.
    pub checksum: Checksum,
}

impl Default for SessionSettings {
    fn default() -> Self {
        Self {
            // GBK on a Chinese Windows, else UTF-8.
            encoding: crate::platform::default_encoding(),
            send_encoding: None,
            send_hex: false,
            send_escapes: true,
            line_ending: LineEnding::None,
            checksum: Checksum::None,
        }
    }
}

impl SessionSettings {
    /// The send box's pipeline.
    pub fn send_options(&self) -> SendOptions {
        SendOptions {
            hex: self.send_hex,
            encoding: self.send_encoding.unwrap_or(self.encoding),
            escapes: self.send_escapes,
            line_ending: self.line_ending,
            checksum: self.checksum,
        }
    }
}

/// Settings of the window and the log view, the same for every session.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ViewSettings {
    /// Log shows hex (true) or decoded text (false).
    pub log_hex: bool,
    /// Log follows new entries.
    pub auto_scroll: bool,
    /// The settings the last used session had: a new session starts from them.
    pub new_session: SessionSettings,
    /// The settings column (log, sending, commands, auto-reply, save) is open beside the
    /// log in a wide window.
    pub send_tools_open: bool,
    /// The settings column's tab.
    pub tools_tab: ColumnTab,
    /// The session list is shown in full (else as a narrow strip) in a wide window.
    pub sessions_open: bool,
    /// Body text size in points (Ctrl+Plus / Ctrl+Minus / Ctrl+0 in the window).
    pub font_size: u8,
    /// Long log rows wrap onto more lines instead of ending in `…`.
    pub wrap_rows: bool,
    /// Light, dark, or as the system says.
    pub theme: ThemeChoice,
    /// The UI language; `None` until chosen (the binary then takes the system locale's).
    pub language: Option<crate::i18n::Language>,
    /// The window's inner size in points when it was last seen, restored on the next start.
    pub window_size: Option<(u32, u32)>,
    /// Sizes of the resizable panels.
    pub panels: PanelSizes,
    /// How log row times are shown.
    pub timestamps: TimestampMode,
    /// Whether the statistics window is open.
    pub show_stats: bool,
    /// Whether a session's log keeps on disk what its memory bound evicts.
    pub log_spill: bool,
    /// The disk a session's log may take (GiB), when it spills.
    pub log_spill_quota_gib: u32,
}

/// The disk quota of one session's log a new config starts with, in GiB.
pub const DEFAULT_SPILL_QUOTA_GIB: u32 = 8;
/// The disk quotas the settings offer, in GiB.
pub const SPILL_QUOTAS_GIB: std::ops::RangeInclusive<u32> = 1..=1024;

/// The body text size a new window starts with, in points.
pub const DEFAULT_FONT_SIZE: u8 = 14;
/// The smallest and largest body text sizes the window offers.
pub const FONT_SIZES: std::ops::RangeInclusive<u8> = 10..=24;

/// A tab of the settings column.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ColumnTab {
    /// How the log shows its bytes: display, encoding, framing, filter, statistics.
    #[default]
    Log,
    /// Send options, periodic and file sends, the on-connect payload.
    Sending,
    /// Quick commands.
    Commands,
    /// Auto-reply rules.
    AutoReply,
    /// Capture and export.
    Save,
    /// A relay's hold, step and faults (shown for relays only).
    Relay,
    /// Scenarios: edit, run and stop one, with its step list.
    Scenarios,
    /// A load test: its options, live figures and plots, summary.
    Load,
}

impl ColumnTab {
    /// Every tab, in order.
    pub const ALL: [Self; 8] = [
        Self::Relay,
        Self::Log,
        Self::Sending,
        Self::Commands,
        Self::AutoReply,
        Self::Save,
        Self::Scenarios,
        Self::Load,
    ];
}

/// Sizes of the resizable panels in points, as the user left them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct PanelSizes {
    /// The session list's width.
    pub sessions_width: u32,
    /// The send tools panel's width.
    pub tools_width: u32,
    /// The send box's height.
    pub send_box_height: u32,
}

impl Default for PanelSizes {
    fn default() -> Self {
        Self {
            sessions_width: 220,
            tools_width: 360,
            send_box_height: 112,
        }
    }
}

/// How log row times are shown.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum TimestampMode {
    /// Not shown.
    Off,
    /// Local time of day with milliseconds.
    #[default]
    Absolute,
    /// Seconds since the previous row shown.
    Relative,
}

/// The window's theme.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum ThemeChoice {
    /// Follow the system's light/dark setting.
    #[default]
    System,
    /// Always light.
    Light,
    /// Always dark.
    Dark,
}

impl ThemeChoice {
    /// All choices, in menu order.
    pub const ALL: [Self; 3] = [Self::System, Self::Light, Self::Dark];
}

impl Default for ViewSettings {
    fn default() -> Self {
        Self {
            log_hex: false,
            auto_scroll: true,
            new_session: SessionSettings::default(),
            send_tools_open: true,
            tools_tab: ColumnTab::Log,
            sessions_open: true,
            font_size: DEFAULT_FONT_SIZE,
            wrap_rows: false,
            theme: ThemeChoice::System,
            language: None,
            window_size: None,
            panels: PanelSizes::default(),
            timestamps: TimestampMode::Absolute,
            show_stats: false,
            log_spill: true,
            log_spill_quota_gib: DEFAULT_SPILL_QUOTA_GIB,
        }
    }
}

/// The view settings of a version 1 file that version 2 keeps per session.
#[derive(Deserialize)]
#[serde(default)]
struct V1View {
    log_encoding: TextEncoding,
    send_hex: bool,
    send_encoding: TextEncoding,
    send_escapes: bool,
    send_line_ending: LineEnding,
    send_checksum: Checksum,
}

impl Default for V1View {
    fn default() -> Self {
        Self {
            log_encoding: TextEncoding::Utf8,
            send_hex: false,
            send_encoding: TextEncoding::Utf8,
            send_escapes: true,
            send_line_ending: LineEnding::None,
            send_checksum: Checksum::None,
        }
    }
}

/// A version 1 file as far as the migration reads it.
#[derive(Default, Deserialize)]
#[serde(default)]
struct V1File {
    view: V1View,
}

/// A version 1 config (`text`, read as `config`) as version 2: the send options and
/// encodings it had once for all sessions become each session's own, and the settings new
/// sessions start from.
pub fn migrate_v1(text: &str, mut config: Config) -> Config {
    // A field version 1 had is read again; one that does not parse keeps its default.
    let old = ron::from_str::<V1File>(text).unwrap_or_default().view;
    let settings = SessionSettings {
        encoding: old.log_encoding,
        send_encoding: (old.send_encoding != old.log_encoding).then_some(old.send_encoding),
        send_hex: old.send_hex,
        send_escapes: old.send_escapes,
        line_ending: old.send_line_ending,
        checksum: old.send_checksum,
    };
    for session in &mut config.sessions {
        session.settings = settings;
    }
    config.view.new_session = settings;
    config.version = CONFIG_VERSION;
    config
}

/// Why the config could not be saved.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// Writing the file failed.
    #[error("cannot save settings to {path}: {source}")]
    Write {
        /// The file.
        path: PathBuf,
        /// The IO error.
        source: std::io::Error,
    },
    /// Serializing failed (should not happen for these types).
    #[error("cannot encode settings: {0}")]
    Encode(#[from] ron::Error),
}

/// Why the settings file could not be used.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ConfigProblem {
    /// Reading it failed (the system's reason).
    #[error("cannot read it ({0})")]
    Unreadable(String),
    /// It was written by a newer sockdbg (its version).
    #[error("it was written by a newer sockdbg (version {0})")]
    Newer(u32),
    /// It is not valid RON for these settings (the parser's reason).
    #[error("it is not valid ({0})")]
    Invalid(String),
}

/// What the user is told about a settings file that was not used; the window words it in its
/// language (`crate::i18n::errors::notice_text`), this `Display` is the English.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ConfigNotice {
    /// The file was renamed aside; defaults are used.
    #[error(
        "Settings file {} was not used: {why}. It was moved to {}; starting with defaults.",
        path.display(),
        aside.display()
    )]
    MovedAside {
        /// The settings file.
        path: PathBuf,
        /// Why it was not used.
        why: ConfigProblem,
        /// Where it is now.
        aside: PathBuf,
    },
    /// The file could not be renamed aside either.
    #[error(
        "Settings file {} was not used: {why}. It could not be moved aside ({reason}); settings will not be saved over it.",
        path.display()
    )]
    KeptInPlace {
        /// The settings file.
        path: PathBuf,
        /// Why it was not used.
        why: ConfigProblem,
        /// Why it could not be renamed (the system's reason).
        reason: String,
    },
}

/// What loading found.
#[derive(Debug)]
pub struct Loaded {
    /// The config to use (defaults when the file was missing or unusable).
    pub config: Config,
    /// What to tell the user when the file was unusable and moved aside.
    pub notice: Option<ConfigNotice>,
}

/// The config file's location.
#[derive(Clone, Debug)]
pub struct ConfigStore {
    dir: PathBuf,
}

impl ConfigStore {
    /// The store in `dir`.
    pub fn at(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    /// `$SOCKDBG_CONFIG_DIR`, else the platform's config directory (`~/.config/sockdbg`,
    /// `%APPDATA%\sockdbg` on Windows: [`crate::platform::config_dir`]).
    pub fn default_location() -> Option<Self> {
        if let Some(dir) = std::env::var_os(CONFIG_DIR_ENV) {
            return Some(Self::at(dir));
        }
        crate::platform::config_dir().map(Self::at)
    }

    /// The directory the settings file is in.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The config file's path.
    pub fn path(&self) -> PathBuf {
        self.dir.join(FILE_NAME)
    }

    /// Reads the config. A missing file gives defaults; a broken or newer file is renamed
    /// to `config.ron.broken-<unix time>` and reported in [`Loaded::notice`].
    pub fn load(&self) -> Loaded {
        let path = self.path();
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Loaded {
                    config: Config::default(),
                    notice: None,
                };
            }
            Err(e) => return self.set_aside(&path, ConfigProblem::Unreadable(e.to_string())),
        };
        match ron::from_str::<Config>(&text) {
            Ok(config) if config.version > CONFIG_VERSION => {
                self.set_aside(&path, ConfigProblem::Newer(config.version))
            }
            Ok(config) if config.version < 2 => Loaded {
                config: migrate_v1(&text, config),
                notice: None,
            },
            Ok(config) => Loaded {
                config,
                notice: None,
            },
            Err(e) => self.set_aside(&path, ConfigProblem::Invalid(e.to_string())),
        }
    }

    fn set_aside(&self, path: &Path, why: ConfigProblem) -> Loaded {
        let stamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let aside = path.with_file_name(format!("{FILE_NAME}.broken-{stamp}"));
        let path = path.to_path_buf();
        let notice = match std::fs::rename(&path, &aside) {
            Ok(()) => ConfigNotice::MovedAside { path, why, aside },
            Err(e) => ConfigNotice::KeptInPlace {
                path,
                why,
                reason: e.to_string(),
            },
        };
        Loaded {
            config: Config::default(),
            notice: Some(notice),
        }
    }

    /// Writes the config atomically (temporary file, then rename).
    ///
    /// # Errors
    /// [`ConfigError`] when the directory or file cannot be written.
    pub fn save(&self, config: &Config) -> Result<(), ConfigError> {
        let path = self.path();
        let text = ron::ser::to_string_pretty(config, ron::ser::PrettyConfig::default())?;
        let write_error = |source| ConfigError::Write {
            path: path.clone(),
            source,
        };
        std::fs::create_dir_all(&self.dir).map_err(write_error)?;
        let temp = path.with_extension("ron.tmp");
        std::fs::write(&temp, text).map_err(write_error)?;
        std::fs::rename(&temp, &path).map_err(write_error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An empty directory for one test, removed when dropped (also when the test fails).
    fn temp_dir(name: &str) -> tempfile::TempDir {
        tempfile::Builder::new()
            .prefix(&format!("sockdbg-config-{name}-"))
            .tempdir()
            .expect("temp dir")
    }

    #[test]
    fn round_trips() {
        let dir = temp_dir("roundtrip");
        let store = ConfigStore::at(dir.path());
        let config = Config {
            version: CONFIG_VERSION,
            sessions: vec![SavedSession {
                spec: "tcp-server:0.0.0.0:6001".into(),
                running: true,
                ..SavedSession::default()
            }],
            view: ViewSettings {
                log_hex: true,
                timestamps: TimestampMode::Relative,
                show_stats: true,
                ..ViewSettings::default()
            },
            ..Config::default()
        };
        store.save(&config).expect("save");
        let loaded = store.load();
        assert_eq!(loaded.config, config);
        assert!(loaded.notice.is_none());
    }

    #[test]
    fn quick_commands_rules_and_on_connect_round_trip() {
        use crate::codec::reply::{MatchKind, ReplyKind};
        let dir = temp_dir("send-tools");
        let store = ConfigStore::at(dir.path());
        let modbus = SendOptions {
            hex: true,
            checksum: Checksum::Crc16Modbus,
            ..SendOptions::default()
        };
        let config = Config {
            quick_commands: vec![QuickCommand {
                name: "read regs".into(),
                payload: "01 03 00 00 00 0A".into(),
                options: modbus,
            }],
            sessions: vec![SavedSession {
                spec: "tcp-server:0.0.0.0:6001".into(),
                running: false,
                name: "PLC 调试".into(),
                quick_commands: vec![QuickCommand {
                    name: "AT".into(),
                    payload: "AT\\r\\n中文".into(),
                    options: SendOptions {
                        escapes: true,
                        encoding: TextEncoding::Gbk,
                        line_ending: LineEnding::CrLf,
                        ..SendOptions::default()
                    },
                }],
                auto_reply: vec![
                    ReplyRule {
                        name: "greet".into(),
                        match_kind: MatchKind::Any,
                        reply: "Hello, {data}!".into(),
                        ..ReplyRule::default()
                    },
                    ReplyRule {
                        enabled: false,
                        match_kind: MatchKind::Regex,
                        pattern: "^x+$".into(),
                        reply_kind: ReplyKind::Echo,
                        ..ReplyRule::default()
                    },
                ],
                on_connect: OnConnect {
                    enabled: true,
                    payload: "welcome\\n".into(),
                    options: SendOptions {
                        escapes: true,
                        ..SendOptions::default()
                    },
                },
                framing: "len:u32le,offset=2".into(),
                settings: SessionSettings {
                    encoding: TextEncoding::Gbk,
                    send_encoding: Some(TextEncoding::Utf8),
                    send_hex: true,
                    line_ending: LineEnding::Lf,
                    checksum: Checksum::Crc32,
                    ..SessionSettings::default()
                },
            }],
            view: ViewSettings {
                new_session: SessionSettings {
                    line_ending: LineEnding::Lf,
                    checksum: Checksum::Crc32,
                    ..SessionSettings::default()
                },
                theme: ThemeChoice::Dark,
                language: Some(crate::i18n::Language::Chinese),
                window_size: Some((1024, 700)),
                ..ViewSettings::default()
            },
            ..Config::default()
        };
        store.save(&config).expect("save");
        let loaded = store.load();
        assert!(loaded.notice.is_none(), "{:?}", loaded.notice);
        assert_eq!(loaded.config, config);
    }

    #[test]
    fn missing_file_gives_defaults_silently() {
        let dir = temp_dir("missing");
        let loaded = ConfigStore::at(dir.path()).load();
        assert_eq!(loaded.config, Config::default());
        assert!(loaded.notice.is_none());
    }

    #[test]
    fn broken_and_future_files_are_moved_aside_and_reported() {
        for (name, text) in [
            ("broken", "(sessions: [ this is not ron"),
            ("future", "(version: 99)"),
        ] {
            let dir = temp_dir(name);
            let store = ConfigStore::at(dir.path());
            std::fs::write(store.path(), text).expect("write");
            let loaded = store.load();
            assert_eq!(loaded.config, Config::default());
            let notice = loaded.notice.expect("a notice").to_string();
            assert!(notice.contains("moved to"), "{notice}");
            assert!(!store.path().exists(), "original was moved");
            let aside: Vec<_> = std::fs::read_dir(dir.path())
                .expect("list")
                .filter_map(Result::ok)
                .filter(|e| e.file_name().to_string_lossy().contains("broken-"))
                .collect();
            assert_eq!(aside.len(), 1);
            assert_eq!(
                std::fs::read_to_string(aside[0].path()).expect("read"),
                text
            );
        }
    }

    #[test]
    fn a_version_1_file_gives_every_session_the_old_global_send_options() {
        let dir = temp_dir("v1");
        let store = ConfigStore::at(dir.path());
        let v1 = r#"(version: 1,
            view: (log_hex: true, log_encoding: Gbk, send_hex: true, send_encoding: Utf8,
                   send_escapes: false, send_line_ending: CrLf, send_checksum: Crc16Modbus,
                   send_tools_open: false),
            sessions: [(spec: "tcp-server:0.0.0.0:6001", running: true),
                       (spec: "udp-client:127.0.0.1:7000", framing: "delim:0a")])"#;
        std::fs::write(store.path(), v1).expect("write");
        let loaded = store.load();
        assert!(loaded.notice.is_none(), "{:?}", loaded.notice);
        let config = loaded.config;
        let expected = SessionSettings {
            encoding: TextEncoding::Gbk,
            send_encoding: Some(TextEncoding::Utf8),
            send_hex: true,
            send_escapes: false,
            line_ending: LineEnding::CrLf,
            checksum: Checksum::Crc16Modbus,
        };
        assert_eq!(config.version, CONFIG_VERSION);
        assert_eq!(config.sessions.len(), 2);
        for session in &config.sessions {
            assert_eq!(session.settings, expected, "{}", session.spec);
        }
        assert_eq!(config.sessions[1].framing, "delim:0a");
        assert_eq!(config.view.new_session, expected);
        assert!(config.view.log_hex, "other view settings are kept");
        // Saved again, it is a version 2 file that reads back the same.
        store.save(&config).expect("save");
        assert_eq!(store.load().config, config);
        // One encoding both ways stays one.
        std::fs::write(store.path(), "(version: 1, view: (log_encoding: Gbk, send_encoding: Gbk), sessions: [(spec: \"tcp-server:0.0.0.0:6001\")])").expect("write");
        let settings = store.load().config.sessions[0].settings;
        assert_eq!(settings.encoding, TextEncoding::Gbk);
        assert_eq!(settings.send_encoding, None);
    }

    #[test]
    fn missing_fields_take_defaults() {
        let dir = temp_dir("partial");
        let store = ConfigStore::at(dir.path());
        std::fs::write(store.path(), "(view: (log_hex: true))").expect("write");
        let loaded = store.load();
        assert!(loaded.notice.is_none(), "{:?}", loaded.notice);
        assert!(loaded.config.view.log_hex);
        assert!(loaded.config.view.auto_scroll);
    }
}
