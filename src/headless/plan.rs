//! What a headless run was asked to do ([`Plan`]), checked before anything is opened: the
//! sessions, the payload through the window's send pipeline, `--reply` rules, `--repeat`,
//! `--scenario`; bad arguments are a [`UsageError`].

use std::io;
use std::path::PathBuf;
use std::time::Duration;

use super::scenario;
use crate::cli::{Cli, OutputFormat};
use crate::codec::escape::EscapeError;
use crate::codec::hex::HexError;
use crate::codec::reply::ReplyRule;
use crate::codec::send::{SendError, SendOptions};
use crate::codec::text::{EncodeError, TextEncoding};
use crate::scenario::sending::{PayloadError, SendPayload};
use crate::spec::{SessionKind, SessionSpec};

/// A headless argument that clap cannot check by itself.
#[derive(Debug, thiserror::Error)]
pub enum UsageError {
    /// `--headless` without any SESSION.
    #[error(
        "--headless needs at least one SESSION (tcp-server:[HOST:]PORT, tcp-client:HOST:PORT, udp-server:[HOST:]PORT, udp-client:HOST:PORT, udp-group:GROUP:PORT, tls-server:[HOST:]PORT, tls-client:HOST:PORT, ws-server:[HOST:]PORT[/PATH] or ws://HOST:PORT/PATH)"
    )]
    NoSession,
    /// `--send-hex` is not valid hex.
    #[error("invalid --send-hex: {0}")]
    SendHex(#[from] HexError),
    /// `--send-file` cannot be opened for reading (or is a directory).
    #[error("cannot read --send-file '{path}': {source}")]
    SendFile {
        /// The path as given.
        path: PathBuf,
        /// Why it cannot be read.
        source: io::Error,
    },
    /// `--send` holds a character the chosen `--encoding` cannot represent.
    #[error("invalid --send: {0}")]
    SendText(#[from] EncodeError),
    /// `--send` has a bad escape (with `--escapes`).
    #[error("invalid --send: {0}")]
    SendEscape(EscapeError),
    /// `--send` or `--send-hex` has a bad or unknown `${…}`, or a value that does not fit.
    #[error("invalid {flag}: {error}")]
    SendVar {
        /// `--send` or `--send-hex`.
        flag: &'static str,
        /// What is wrong.
        error: PayloadError,
    },
    /// `--repeat` without anything to repeat.
    #[error("--repeat needs a payload: --send, --send-hex or --send-file")]
    Repeat,
    /// A `--reply` rule cannot be used.
    #[error("invalid --reply: {0}")]
    Reply(String),
    /// The `--scenario` file is invalid: its errors, one `FILE:LINE:COL: what` a line.
    #[error("invalid --scenario:\n{0}")]
    Scenario(String),
    /// The `--scenario` file names more sessions than the command line gives.
    #[error("the scenario names {named} sessions; give as many SESSIONs (or none, to use its own)")]
    ScenarioSessions {
        /// Sessions the file names.
        named: usize,
    },
}

impl From<SendError> for UsageError {
    fn from(error: SendError) -> Self {
        match error {
            SendError::Hex(e) => UsageError::SendHex(e),
            SendError::Encode(e) => UsageError::SendText(e),
            SendError::Escape(e) => UsageError::SendEscape(e),
            // Callers turn an empty payload into "nothing to send" before this.
            SendError::Empty => UsageError::Reply("nothing to send".to_string()),
        }
    }
}

/// What is sent when a connection opens.
#[derive(Debug, Clone)]
pub enum Payload {
    /// `--send` or `--send-hex`, after the send pipeline; `${seq}` (and `--var` values)
    /// expanded per send: 1 for a connection's first, counting up with `--repeat`.
    Bytes(SendPayload),
    /// `--send-file`: streamed by an engine file job per target, in chunks. With `--repeat`
    /// the next job starts `--interval-ms` after the previous one completed.
    File(PathBuf),
}

/// What a headless run was asked to do, checked before anything is opened.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The sessions to start, in order.
    pub sessions: Vec<SessionSpec>,
    /// What is sent when a connection opens, if anything.
    pub payload: Option<Payload>,
    /// How entries are printed.
    pub format: OutputFormat,
    /// How text is decoded (and how `--send` was encoded).
    pub encoding: TextEncoding,
    /// Servers send every received chunk back to its sender.
    pub echo: bool,
    /// End after the first connection closes (udp-client: after the send and a listen window).
    pub once: bool,
    /// `--duration-ms`.
    pub duration: Option<Duration>,
    /// No per-entry output.
    pub quiet: bool,
    /// Print totals to stderr on exit.
    pub stats: bool,
    /// `--framing`: frames instead of reads.
    pub framing: crate::codec::framing::Framing,
    /// `--capture`: the pcapng file.
    pub capture: Option<PathBuf>,
    /// `--repeat N --interval-ms MS`: the payload is sent N times (`None`: forever) this far
    /// apart, timed by the engine.
    pub repeat: Option<(Option<u64>, u64)>,
    /// `--reply` rules, given to the engine for every session.
    pub rules: Vec<ReplyRule>,
    /// `--scenario`: run on the first session.
    pub scenario: Option<scenario::HeadlessScenario>,
}

impl Plan {
    /// Checks the headless arguments and prepares the payload.
    ///
    /// # Errors
    /// [`UsageError`] when no session is given, `--send-hex` or `--send` cannot become
    /// bytes, or `--send-file` cannot be opened for reading. The file itself is not read here:
    /// it is streamed per target.
    pub fn from_cli(cli: &Cli) -> Result<Self, UsageError> {
        let scenario = match &cli.scenario {
            Some(path) => Some(
                scenario::HeadlessScenario::load(path, &cli.vars).map_err(UsageError::Scenario)?,
            ),
            None => None,
        };
        let mut sessions = cli.sessions.clone();
        if let Some(loaded) = &scenario {
            let named = loaded.scenario.sessions.len();
            if sessions.is_empty() {
                sessions = loaded
                    .scenario
                    .sessions
                    .iter()
                    .map(|d| d.spec.clone())
                    .collect();
            } else if sessions.len() < named {
                return Err(UsageError::ScenarioSessions { named });
            }
        }
        if sessions.is_empty() {
            return Err(UsageError::NoSession);
        }
        // The window's send pipeline, in the window's order: escapes, encoding, line
        // ending, checksum.
        let options = SendOptions {
            hex: false,
            encoding: cli.encoding,
            escapes: cli.escapes,
            line_ending: cli.line_ending,
            checksum: cli.checksum,
        };
        let pipeline = |input: &str, hex: bool| {
            let flag = if hex { "--send-hex" } else { "--send" };
            let options = SendOptions { hex, ..options };
            let payload = SendPayload::parse(input, &options, &cli.vars).and_then(|payload| {
                // The first send's expansion, so a value that does not fit is a usage error.
                payload.bytes(1).map_err(PayloadError::from)?;
                Ok(payload)
            });
            match payload {
                Ok(payload) => Ok(Some(payload)),
                Err(PayloadError::Send(SendError::Empty)) => Ok(None),
                Err(PayloadError::Send(e)) => Err(UsageError::from(e)),
                Err(error) => Err(UsageError::SendVar { flag, error }),
            }
        };
        let rules = cli
            .reply
            .iter()
            .map(|spec| ReplyRule::parse_cli(spec, options).map_err(UsageError::Reply))
            .collect::<Result<Vec<_>, _>>()?;
        if cli.repeat.is_some()
            && cli.send.is_none()
            && cli.send_hex.is_none()
            && cli.send_file.is_none()
        {
            return Err(UsageError::Repeat);
        }
        let payload = if let Some(text) = &cli.send {
            pipeline(text, false)?.map(Payload::Bytes)
        } else if let Some(hex) = &cli.send_hex {
            pipeline(hex, true)?.map(Payload::Bytes)
        } else if let Some(path) = &cli.send_file {
            let usage = |source| UsageError::SendFile {
                path: path.clone(),
                source,
            };
            check_readable(path).map_err(usage)?;
            Some(Payload::File(path.clone()))
        } else {
            None
        };
        Ok(Self {
            sessions,
            payload,
            format: cli.format,
            encoding: cli.encoding,
            echo: cli.echo,
            once: cli.once,
            duration: cli.duration_ms.map(Duration::from_millis),
            quiet: cli.quiet,
            stats: cli.stats,
            framing: cli.framing.clone(),
            capture: cli.capture.clone(),
            repeat: cli.repeat.map(|n| {
                let count = (n > 0).then_some(n);
                (count, cli.interval_ms.unwrap_or(1000).max(1))
            }),
            rules,
            scenario,
        })
    }

    pub(super) fn has_udp_client(&self) -> bool {
        self.sessions.iter().any(|s| sends_to_one_address(s.kind))
    }
}

/// Checks up front that `path` opens for reading and is not a directory, so a missing or
/// unreadable `--send-file` is a usage error before any session starts. Reads nothing.
fn check_readable(path: &std::path::Path) -> io::Result<()> {
    let file = std::fs::File::open(path)?;
    if file.metadata()?.is_dir() {
        return Err(io::Error::new(
            io::ErrorKind::IsADirectory,
            "is a directory",
        ));
    }
    Ok(())
}

/// Kinds that send to one address (a udp-client's target, which may be a broadcast, or a
/// udp-group's group) and hear from any: with `--once` they send, then listen for a while.
pub(super) fn sends_to_one_address(kind: SessionKind) -> bool {
    matches!(kind, SessionKind::UdpClient | SessionKind::UdpGroup)
}
