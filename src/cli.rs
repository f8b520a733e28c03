//! Command-line arguments, shared by the window and the headless mode.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::codec::checksum::Checksum;
use crate::codec::framing::Framing;
use crate::codec::names;
use crate::codec::send::LineEnding;
use crate::codec::text::TextEncoding;
use crate::load::options;
use crate::spec::SessionSpec;

/// sockdbg: a socket debugger for TCP and UDP (网络调试助手).
#[derive(Debug, Parser)]
#[command(version, about, long_about = None, args_conflicts_with_subcommands = true)]
pub struct Cli {
    /// `sockdbg test FILE...`: run scenario files.
    #[command(subcommand)]
    pub command: Option<Command>,

    /// Sessions to create and start: tcp-server:[HOST:]PORT, tcp-client:HOST:PORT,
    /// udp-server:[HOST:]PORT, udp-client:HOST:PORT, udp-group:GROUP:PORT,
    /// tls-server:[HOST:]PORT, tls-client:HOST:PORT, ws-server:[HOST:]PORT[/PATH],
    /// ws://HOST:PORT/PATH, wss://HOST:PORT/PATH; options follow after commas
    /// (e.g. tls-client:host:443,insecure). HOST may be [v6].
    #[arg(value_name = "SESSION", value_parser = parse_spec)]
    pub sessions: Vec<SessionSpec>,

    /// Run without a window, printing traffic to stdout.
    #[arg(long)]
    pub headless: bool,

    /// Output format of the headless mode.
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub format: OutputFormat,

    /// Decodes received text and encodes --send text (utf-8, gbk, gb18030, big5, ...; the
    /// default is gbk on a Chinese Windows, code page 936, else utf-8).
    #[arg(long, default_value = default_encoding_name(), value_parser = parse_encoding)]
    pub encoding: TextEncoding,

    /// Text sent when a connection opens.
    #[arg(long, value_name = "TEXT", conflicts_with_all = ["send_hex", "send_file"])]
    pub send: Option<String>,

    /// Hex bytes sent when a connection opens (e.g. "31 32 33").
    #[arg(long, value_name = "HEX", conflicts_with = "send_file")]
    pub send_hex: Option<String>,

    /// A file whose bytes are sent when a connection opens.
    #[arg(long, value_name = "PATH")]
    pub send_file: Option<PathBuf>,

    /// Servers send every received chunk back to its sender.
    #[arg(long)]
    pub echo: bool,

    /// Replace \r \n \t \\ \0 and \xNN in --send text and --reply texts.
    #[arg(long)]
    pub escapes: bool,

    /// Appended to --send/--send-hex payloads and --reply replies: none, cr, lf, crlf.
    #[arg(long, value_name = "END", default_value = "none", value_parser = parse_line_ending)]
    pub line_ending: LineEnding,

    /// Appended last, over everything before it: none, sum8, xor8, crc16-modbus (low byte
    /// first), crc16-ccitt, crc32 (high byte first).
    #[arg(long, value_name = "ALGO", default_value = "none", value_parser = parse_checksum)]
    pub checksum: Checksum,

    /// Send the --send/--send-hex payload (or stream --send-file) N times after connect,
    /// --interval-ms apart (0: until the run ends).
    #[arg(long, value_name = "N")]
    pub repeat: Option<u64>,

    /// Time between two --repeat sends, in milliseconds (at least 1; default 1000).
    #[arg(long, value_name = "MS", requires = "repeat")]
    pub interval_ms: Option<u64>,

    /// Auto-reply rule, repeatable, checked in order: 'MATCH=>REPLY'. MATCH: text:T (exact,
    /// one trailing line ending ignored), contains:T, starts-with:T, regex:R, hex:HH..,
    /// hex-contains:HH.., hex-starts-with:HH.. or *. REPLY: text:T, hex:HH.. or echo. In a
    /// text reply {data}, {upper} and {lower} stand for the received text.
    #[arg(long, value_name = "MATCH=>REPLY")]
    pub reply: Vec<String>,

    /// Exit when the first connection closes (udp-client: after the send and --duration-ms).
    #[arg(long)]
    pub once: bool,

    /// Exit after this many milliseconds.
    #[arg(long, value_name = "N")]
    pub duration_ms: Option<u64>,

    /// Print messages instead of reads: raw, idle:MS, delim:HEX[,keep], fixed:N,
    /// len:u8|u16be|u16le|u32be|u32le[,offset=N][,include-header][,max=N].
    #[arg(long, value_name = "FRAMING", default_value = "raw", value_parser = parse_framing)]
    pub framing: Framing,

    /// Write every byte of every session, both ways, to this pcapng file (Wireshark, tshark).
    #[arg(long, value_name = "FILE.pcapng")]
    pub capture: Option<PathBuf>,

    /// No per-entry output.
    #[arg(long)]
    pub quiet: bool,

    /// On exit print totals to stderr.
    #[arg(long)]
    pub stats: bool,

    /// Headless: run this scenario file against the sessions (on a server, against every
    /// client that connects: a device simulator that keeps serving).
    #[arg(long, value_name = "FILE.sdbg", requires = "headless")]
    pub scenario: Option<PathBuf>,

    /// A variable, repeatable: NAME=VALUE (`${NAME}` in a scenario file, and in --send and
    /// --send-hex beside `${seq}`).
    #[arg(long = "var", value_name = "NAME=VALUE", value_parser = parse_var)]
    pub vars: Vec<(String, String)>,

    /// Directory of the settings file and of generated TLS certificates (DIR/certs; default:
    /// the platform's config directory).
    #[arg(long, value_name = "DIR")]
    pub config_dir: Option<PathBuf>,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run scenario files (send/expect test scripts) and report each step; exit 0 when every
    /// case passed, 1 when one failed or a peer was unreachable, 2 when a file is invalid.
    Test(TestArgs),
    /// Load test a server: many connections at a chosen rate, round-trip percentiles; one
    /// line a second, then a summary. Exit 1 when --max-error-rate or --max-p99-ms is
    /// exceeded, 2 on bad arguments.
    Load(Box<LoadArgs>),
}

/// `sockdbg load SPEC [options]`.
#[derive(Debug, Args)]
pub struct LoadArgs {
    /// The target, a client spec: tcp-client:HOST:PORT, tls-client:HOST:PORT, ws://HOST:PORT/PATH,
    /// wss://HOST:PORT/PATH or udp-client:HOST:PORT, with its options (e.g. ,insecure).
    #[arg(value_name = "SPEC", value_parser = load_spec)]
    pub spec: SessionSpec,

    /// pingpong (send, wait for the answer, again; round trips measured), stream (send at
    /// the rate, count what comes back) or connect (open and close; connects measured).
    #[arg(long, default_value = "pingpong", value_parser = load_mode)]
    pub mode: crate::load::Mode,

    /// Connections held open at once (connect mode: opened at once).
    #[arg(long, value_name = "N", default_value = "1", value_parser = load_connections)]
    pub connections: u32,

    /// New connections a second (0: as fast as the OS allows).
    #[arg(long, value_name = "N", default_value = "0", value_parser = load_rate)]
    pub connect_rate: u64,

    /// How long the run lasts, in milliseconds.
    #[arg(long, value_name = "MS", default_value = "10000", value_parser = load_millis)]
    pub duration_ms: u64,

    /// Messages a second over all connections, a token bucket (connect mode: connections a
    /// second); 0: as fast as possible.
    #[arg(long, value_name = "N", default_value = "0", value_parser = load_rate)]
    pub rate: u64,

    /// Each message: text:T or hex:HH.. as in --reply; ${seq} (the connection's message
    /// number) and ${conn} (the connection's number) make each one differ.
    #[arg(long, value_name = "PAYLOAD", default_value = "text:ping")]
    pub send: String,

    /// An answer is one frame of this framing (default: whatever one read brings): delim:HEX,
    /// fixed:N, len:u8|u16be|u16le|u32be|u32le[,offset=N][,include-header][,max=N].
    #[arg(long, value_name = "FRAMING", default_value = "raw", value_parser = load_framing)]
    pub framing: Framing,

    /// An answer must match: text:T, contains:T, starts-with:T, regex:R, hex:HH..,
    /// hex-contains:HH.., hex-starts-with:HH.. (${seq}/${conn} allowed); others are errors.
    #[arg(long, value_name = "MATCH")]
    pub expect: Option<String>,

    /// How long an answer (and a connect, unless the spec says timeout=) may take.
    #[arg(long, value_name = "MS", default_value = "5000", value_parser = load_millis)]
    pub timeout_ms: u64,

    /// Print the first N messages of each connection, both ways (jsonl only).
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub sample: usize,

    /// text: a line a second and a summary; jsonl: a JSON object a second, then the summary.
    #[arg(long, value_enum, default_value_t = LoadFormat::Text)]
    pub format: LoadFormat,

    /// Also write the per-second series to this CSV file.
    #[arg(long, value_name = "FILE.csv")]
    pub csv: Option<PathBuf>,

    /// Exit 1 when errors / (messages sent + connection attempts) exceed this (0.01 or 1%).
    #[arg(long, value_name = "RATE", value_parser = load_error_rate)]
    pub max_error_rate: Option<f64>,

    /// Exit 1 when the run's RTT p99 exceeds this many milliseconds.
    #[arg(long, value_name = "MS", value_parser = load_threshold_ms)]
    pub max_p99_ms: Option<f64>,

    /// Encodes --send and --expect text (utf-8, gbk, ...).
    #[arg(long, default_value = "utf-8", value_parser = parse_encoding)]
    pub encoding: TextEncoding,

    /// Replace \r \n \t \\ \0 and \xNN in --send text.
    #[arg(long)]
    pub escapes: bool,

    /// Appended to each message: none, cr, lf, crlf.
    #[arg(long, value_name = "END", default_value = "none", value_parser = parse_line_ending)]
    pub line_ending: LineEnding,

    /// Appended last to each message: none, sum8, xor8, crc16-modbus, crc16-ccitt, crc32.
    #[arg(long, value_name = "ALGO", default_value = "none", value_parser = parse_checksum)]
    pub checksum: Checksum,
}

/// How `sockdbg load` prints.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum LoadFormat {
    /// A line a second, then a few lines of summary.
    Text,
    /// A JSON object a second (`"kind":"second"`), then `{"kind":"summary",...}`.
    Jsonl,
}

/// `sockdbg test FILE... [--var N=V] [--junit OUT.xml] [--format text|jsonl]`.
#[derive(Debug, Args)]
pub struct TestArgs {
    /// Scenario files, run one after the other.
    #[arg(value_name = "FILE", required = true)]
    pub files: Vec<PathBuf>,

    /// A variable, repeatable: NAME=VALUE (`${NAME}` in the files).
    #[arg(long = "var", value_name = "NAME=VALUE", value_parser = parse_var)]
    pub vars: Vec<(String, String)>,

    /// Also write the results as JUnit XML (one testcase per case) for CI systems.
    #[arg(long, value_name = "OUT.xml")]
    pub junit: Option<PathBuf>,

    /// How results are printed.
    #[arg(long, value_enum, default_value_t = TestFormat::Text)]
    pub format: TestFormat,
}

/// How `sockdbg test` prints results.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum TestFormat {
    /// One line per step, then `N passed, N failed`.
    Text,
    /// One JSON object per step, case and file, then a summary object.
    Jsonl,
}

impl Cli {
    /// Whether this run prints to a terminal instead of opening the window (`--headless`,
    /// `test`): on Windows such a run takes a console (`crate::console::attach`).
    pub fn uses_terminal(&self) -> bool {
        self.headless || self.command.is_some()
    }
}

/// How the headless mode prints entries.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// One line per entry with decoded text.
    Text,
    /// The line plus an offset/hex/ASCII dump.
    Hex,
    /// One JSON object per line.
    Jsonl,
}

fn parse_var(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((name, value)) if crate::scenario::vars::is_name(name.trim()) => {
            Ok((name.trim().to_string(), value.to_string()))
        }
        _ => Err(format!(
            "'{text}' is not NAME=VALUE (a name is letters, digits, _ and -, starting with a letter)"
        )),
    }
}

// `sockdbg load`'s options: parsed by `load::options`, as the window's Load test form parses
// its fields.
fn load_spec(text: &str) -> Result<SessionSpec, String> {
    options::spec(text).map_err(|e| e.to_string())
}

fn load_mode(text: &str) -> Result<crate::load::Mode, String> {
    options::mode(text).map_err(|e| e.to_string())
}

fn load_connections(text: &str) -> Result<u32, String> {
    options::connections(text).map_err(|e| e.to_string())
}

fn load_rate(text: &str) -> Result<u64, String> {
    options::rate(text).map_err(|e| e.to_string())
}

fn load_millis(text: &str) -> Result<u64, String> {
    options::millis(text).map_err(|e| e.to_string())
}

fn load_framing(text: &str) -> Result<Framing, String> {
    options::framing(text).map_err(|e| e.to_string())
}

fn load_error_rate(text: &str) -> Result<f64, String> {
    options::error_rate(text).map_err(|e| e.to_string())
}

fn load_threshold_ms(text: &str) -> Result<f64, String> {
    options::threshold_ms(text).map_err(|e| e.to_string())
}

fn parse_spec(text: &str) -> Result<SessionSpec, String> {
    text.parse()
        .map_err(|e: crate::spec::SpecError| e.to_string())
}

fn parse_framing(text: &str) -> Result<Framing, String> {
    text.parse()
        .map_err(|e: crate::codec::framing::FramingError| e.to_string())
}

fn parse_line_ending(text: &str) -> Result<LineEnding, String> {
    names::line_ending(text).map_err(|e| e.to_string())
}

fn parse_checksum(text: &str) -> Result<Checksum, String> {
    names::checksum(text).map_err(|e| e.to_string())
}

/// `--encoding`'s default: the system's ([`crate::platform::default_encoding`]).
fn default_encoding_name() -> &'static str {
    match crate::platform::default_encoding() {
        TextEncoding::Gbk => "gbk",
        _ => "utf-8",
    }
}

fn parse_encoding(text: &str) -> Result<TextEncoding, String> {
    names::encoding(text).map_err(|e| e.to_string())
}
