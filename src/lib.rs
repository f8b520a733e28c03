//! sockdbg: a desktop socket debugger (网络调试助手).
//!
//! Layout of the crate:
//! - [`protocol`]: the only types that cross between the UI thread and the engine thread.
//! - [`spec`]: the session spec syntax (`tcp-server:6001`, `udp-client:[::1]:7000`, ...).
//! - [`engine`]: the tokio runtime on its own thread that owns every socket.
//! - [`model`]: sessions and the bounded traffic log, fed by [`protocol::Event`]s; no egui, no tokio.
//! - [`codec`]: pure byte/text functions (hex, encodings, display escaping).
//! - [`config`]: saved sessions and view settings (serde + ron).
//! - [`app`]: the window's state and logic (engine events, per-session send and log state,
//!   background jobs, settings); [`ui`]: the window's drawing code, which only draws.
//! - [`fonts`]: the CJK font (Windows' own when present, else the bundled one).
//! - [`cli`]: command-line arguments shared by the window and headless modes.
//! - [`console`]: the console of the terminal modes on Windows (attach or open one, Ctrl+C).
//! - [`platform`]: what differs by operating system (settings folder, default encoding).
//! - [`file_dialog`]: native open/save dialogs on their own threads.
//! - [`export`]: the log to a file (text, hex dump, jsonl, raw bytes), off the UI thread.
//! - [`capture`]: pcapng capture of every byte, written on its own thread.
//! - [`private_files`]: owner-only files sockdbg generates (a TLS server's certificate).
//! - [`scenario`]: the scenario language (send/expect test scripts), pure.
//! - [`relay`]: relays' directions, faults and fault shaping, pure.
//! - [`load`]: load tests' plans, figures (HDR histograms) and reports, pure.
//! - [`load_command`]: `sockdbg load SPEC`, a load run from the command line.
//! - [`serial`]: a serial port's line settings (baud, data bits, parity, stop bits, flow), pure.
//! - [`testing`]: `sockdbg test FILE...`, scenario files run and reported (text, jsonl, JUnit).
//! - [`headless`]: `--headless`, the same sessions driven from a terminal, printing the log.
//! - [`intake`]: engine events coming in (flow control, wake-up, capture, model), one way for
//!   the window and headless.

pub mod app;
pub mod capture;
pub mod cli;
pub mod codec;
pub mod config;
pub mod console;
pub mod engine;
pub mod export;
pub mod file_dialog;
pub mod fonts;
pub mod headless;
pub mod i18n;
pub mod intake;
pub mod load;
pub mod load_command;
pub mod model;
pub mod platform;
pub mod private_files;
pub mod protocol;
pub mod relay;
pub mod scenario;
pub mod serial;
pub mod spec;
pub mod testing;
pub mod ui;
