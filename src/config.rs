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

/// The version written into the file.
pub const CONFIG_VERSION: u32 = 1;

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
}

/// Settings of the log view and the send box.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ViewSettings {
    /// Log shows hex (true) or decoded text (false).
    pub log_hex: bool,
    /// Encoding used to decode the log's text.
    pub log_encoding: TextEncoding,
    /// Send box takes hex (true) or text (false).
    pub send_hex: bool,
    /// Encoding used to encode the send box's text.
    pub send_encoding: TextEncoding,
    /// Log follows new entries.
    pub auto_scroll: bool,
    /// Send box replaces `\r \n \t \\ \0 \xNN` in text.
    pub send_escapes: bool,
    /// Appended to what the send box sends.
    pub send_line_ending: LineEnding,
    /// Appended last to what the send box sends.
    pub send_checksum: Checksum,
    /// The quick commands / on-connect / auto-reply panel is open.
    pub send_tools_open: bool,
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
            sessions_width: 280,
            tools_width: 300,
            send_box_height: 215,
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

impl ViewSettings {
    /// The send box's pipeline settings.
    pub fn send_options(&self) -> SendOptions {
        SendOptions {
            hex: self.send_hex,
            encoding: self.send_encoding,
            escapes: self.send_escapes,
            line_ending: self.send_line_ending,
            checksum: self.send_checksum,
        }
    }
}

impl Default for ViewSettings {
    fn default() -> Self {
        Self {
            log_hex: false,
            log_encoding: TextEncoding::Utf8,
            send_hex: false,
            send_encoding: TextEncoding::Utf8,
            auto_scroll: true,
            send_escapes: true,
            send_line_ending: LineEnding::None,
            send_checksum: Checksum::None,
            send_tools_open: true,
            theme: ThemeChoice::System,
            language: None,
            window_size: None,
            panels: PanelSizes::default(),
            timestamps: TimestampMode::Absolute,
            show_stats: false,
        }
    }
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

    /// `$SOCKDBG_CONFIG_DIR`, else the platform's config directory (`~/.config/sockdbg`).
    pub fn default_location() -> Option<Self> {
        if let Some(dir) = std::env::var_os(CONFIG_DIR_ENV) {
            return Some(Self::at(dir));
        }
        directories::ProjectDirs::from("", "", "sockdbg").map(|d| Self::at(d.config_dir()))
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

    fn temp_dir(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("sockdbg-config-{name}-{}", std::process::id()));
        std::fs::remove_dir_all(&dir).ok();
        dir
    }

    #[test]
    fn round_trips() {
        let store = ConfigStore::at(temp_dir("roundtrip"));
        let config = Config {
            version: CONFIG_VERSION,
            sessions: vec![SavedSession {
                spec: "tcp-server:0.0.0.0:6001".into(),
                running: true,
                ..SavedSession::default()
            }],
            view: ViewSettings {
                log_hex: true,
                log_encoding: TextEncoding::Gbk,
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
        let store = ConfigStore::at(temp_dir("send-tools"));
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
            }],
            view: ViewSettings {
                send_line_ending: LineEnding::Lf,
                send_checksum: Checksum::Crc32,
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
        let loaded = ConfigStore::at(temp_dir("missing")).load();
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
            std::fs::create_dir_all(&dir).expect("mkdir");
            let store = ConfigStore::at(&dir);
            std::fs::write(store.path(), text).expect("write");
            let loaded = store.load();
            assert_eq!(loaded.config, Config::default());
            let notice = loaded.notice.expect("a notice").to_string();
            assert!(notice.contains("moved to"), "{notice}");
            assert!(!store.path().exists(), "original was moved");
            let aside: Vec<_> = std::fs::read_dir(&dir)
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
    fn missing_fields_take_defaults() {
        let dir = temp_dir("partial");
        std::fs::create_dir_all(&dir).expect("mkdir");
        let store = ConfigStore::at(&dir);
        std::fs::write(store.path(), "(view: (log_hex: true))").expect("write");
        let loaded = store.load();
        assert!(loaded.notice.is_none(), "{:?}", loaded.notice);
        assert!(loaded.config.view.log_hex);
        assert!(loaded.config.view.auto_scroll);
    }
}
