//! Command-line arguments, shared by the window and the headless mode.

use std::path::PathBuf;

use clap::{Parser, ValueEnum};

use crate::codec::framing::Framing;
use crate::codec::text::TextEncoding;
use crate::spec::SessionSpec;

/// sockdbg: a socket debugger for TCP and UDP (网络调试助手).
#[derive(Debug, Parser)]
#[command(version, about, long_about = None)]
pub struct Cli {
    /// Sessions to create and start: tcp-server:[HOST:]PORT, tcp-client:HOST:PORT,
    /// udp-server:[HOST:]PORT, udp-client:HOST:PORT (HOST may be [v6]).
    #[arg(value_name = "SESSION", value_parser = parse_spec)]
    pub sessions: Vec<SessionSpec>,

    /// Run without a window, printing traffic to stdout.
    #[arg(long)]
    pub headless: bool,

    /// Output format of the headless mode.
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub format: OutputFormat,

    /// Decodes received text and encodes --send text (utf-8, gbk, gb18030, big5, ...).
    #[arg(long, default_value = "utf-8", value_parser = parse_encoding)]
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

    /// Directory of the settings file (default: the platform's config directory).
    #[arg(long, value_name = "DIR")]
    pub config_dir: Option<PathBuf>,
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

fn parse_spec(text: &str) -> Result<SessionSpec, String> {
    text.parse()
        .map_err(|e: crate::spec::SpecError| e.to_string())
}

fn parse_framing(text: &str) -> Result<Framing, String> {
    text.parse()
        .map_err(|e: crate::codec::framing::FramingError| e.to_string())
}

fn parse_encoding(text: &str) -> Result<TextEncoding, String> {
    TextEncoding::from_label(text).ok_or_else(|| {
        let names: Vec<&str> = TextEncoding::ALL.iter().map(|e| e.label()).collect();
        format!(
            "unknown encoding '{text}' (expected one of {})",
            names.join(", ")
        )
    })
}
