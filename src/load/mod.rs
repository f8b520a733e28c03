//! Load tests, the pure part: what a run does ([`LoadPlan`]: connections, rates, mode,
//! payload, answers), its figures ([`stats`]) and how headless prints them ([`report`]).
//! The engine runs a plan as a job (`engine::load`); `sockdbg load` drives it from the
//! command line (`crate::load_command`).
//!
//! Every option reuses a syntax users already know: the target is a client session spec
//! (`tcp-client:`, `tls-client:`, `ws://`, `wss://`, `udp-client:`), the payload is
//! `text:…`/`hex:…` as in `--reply` with the scenario variables `${seq}` and `${conn}`
//! ([`payload`]), an answer is one frame of `--framing` or what `--expect MATCH` accepts
//! ([`answer`]); each is parsed by the code that parses it elsewhere, with its messages, and
//! the options' text by [`options`] for the command line and the window alike.
//! Rates are token buckets (the relay's [`crate::relay::shaping::TokenBucket`]).

pub mod answer;
pub mod options;
pub mod payload;
pub mod report;
pub mod stats;

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use crate::spec::{SessionKind, SessionSpec};
pub use answer::{AnswerReader, AnswerRule, Answers};
pub use payload::{LoadPayload, MessageVars};
pub use stats::{LoadErrorKind, Rtt, SecondRecord, Stats, Summary, Totals};

/// What each connection does.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Mode {
    /// Send, wait for the answer, send again; each round trip is measured.
    #[default]
    Pingpong,
    /// Send at the rate without waiting; count what comes back.
    Stream,
    /// Open and close connections at the rate; each connect (with its TLS handshake or
    /// WebSocket upgrade) is measured.
    Connect,
}

impl Mode {
    /// Every mode.
    pub const ALL: [Mode; 3] = [Mode::Pingpong, Mode::Stream, Mode::Connect];

    /// The mode's name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Mode::Pingpong => "pingpong",
            Mode::Stream => "stream",
            Mode::Connect => "connect",
        }
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A mode name that is not one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown mode '{0}' (expected pingpong, stream or connect)")]
pub struct UnknownMode(pub String);

impl FromStr for Mode {
    type Err = UnknownMode;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Mode::ALL
            .into_iter()
            .find(|m| m.name() == text)
            .ok_or_else(|| UnknownMode(text.to_string()))
    }
}

/// Why a plan cannot run.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    /// The target is not a client spec.
    #[error(
        "load needs a client: tcp-client:, tls-client:, ws://, wss:// or udp-client: (not {0})"
    )]
    NotAClient(&'static str),
    /// `--connections 0`.
    #[error("--connections must be at least 1")]
    NoConnections,
    /// `--duration-ms 0`.
    #[error("--duration-ms must be at least 1")]
    NoDuration,
    /// `--timeout-ms 0`.
    #[error("--timeout-ms must be at least 1")]
    NoTimeout,
}

/// Most messages of each connection kept for inspection, unless the plan says.
pub const DEFAULT_SAMPLE_MESSAGES: usize = 2;

/// How long an answer (or a connect) may take, unless the plan says.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);

/// Everything a load run does.
#[derive(Clone, Debug)]
pub struct LoadPlan {
    /// The target, as a client session spec (its options apply: `insecure`, `timeout=`).
    pub spec: SessionSpec,
    /// What each connection does.
    pub mode: Mode,
    /// Connections held open at once (in `connect` mode: opened at once).
    pub connections: u32,
    /// New connections a second; 0 opens them as fast as the OS allows.
    pub connect_rate: u64,
    /// How long the run lasts.
    pub duration: Duration,
    /// Messages a second over all connections (connections a second in `connect` mode);
    /// 0 for as fast as possible.
    pub rate: u64,
    /// What each message is.
    pub payload: LoadPayload,
    /// What counts as an answer.
    pub answer: AnswerRule,
    /// How long an answer may take (and a connect, unless the spec has `timeout=`).
    pub timeout: Duration,
    /// The first messages of each connection, both ways, kept for inspection.
    pub sample_messages: usize,
}

impl LoadPlan {
    /// A plan with the defaults: one connection, pingpong, 10 s, as fast as possible,
    /// answers of any bytes, a 5 s timeout.
    ///
    /// # Errors
    /// [`PlanError::NotAClient`] for a spec that is not a client's.
    pub fn new(spec: SessionSpec, payload: LoadPayload) -> Result<Self, PlanError> {
        if !matches!(
            spec.kind,
            SessionKind::TcpClient
                | SessionKind::TlsClient
                | SessionKind::WsClient
                | SessionKind::UdpClient
        ) {
            return Err(PlanError::NotAClient(spec.kind.prefix()));
        }
        Ok(Self {
            spec,
            mode: Mode::Pingpong,
            connections: 1,
            connect_rate: 0,
            duration: Duration::from_secs(10),
            rate: 0,
            payload,
            answer: AnswerRule::default(),
            timeout: DEFAULT_TIMEOUT,
            sample_messages: DEFAULT_SAMPLE_MESSAGES,
        })
    }

    /// Checks the numbers.
    ///
    /// # Errors
    /// [`PlanError`] for a count or a time that cannot be 0.
    pub fn check(&self) -> Result<(), PlanError> {
        if self.connections == 0 {
            return Err(PlanError::NoConnections);
        }
        if self.duration.is_zero() {
            return Err(PlanError::NoDuration);
        }
        if self.timeout.is_zero() {
            return Err(PlanError::NoTimeout);
        }
        Ok(())
    }

    /// Each read of the target is a whole message (datagrams, WebSocket messages).
    pub fn messages(&self) -> bool {
        self.spec.kind.is_udp() || self.spec.kind.is_websocket()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::send::SendOptions;

    fn payload() -> LoadPayload {
        LoadPayload::parse("text:ping", &SendOptions::default()).expect("payload")
    }

    #[test]
    fn a_plan_targets_a_client() {
        for spec in [
            "tcp-client:127.0.0.1:7",
            "tls-client:localhost:443,insecure",
            "ws://127.0.0.1:80/",
            "wss://127.0.0.1:443/x",
            "udp-client:[::1]:7",
        ] {
            let spec: SessionSpec = spec.parse().expect(spec);
            let plan = LoadPlan::new(spec, payload()).expect("client");
            assert_eq!(plan.check(), Ok(()));
        }
        let spec: SessionSpec = "tcp-server:7000".parse().expect("spec");
        let error = LoadPlan::new(spec, payload()).expect_err("a server");
        assert_eq!(
            error.to_string(),
            "load needs a client: tcp-client:, tls-client:, ws://, wss:// or udp-client: (not tcp-server)"
        );
        let spec: SessionSpec = "tcp-client:h:1".parse().expect("spec");
        let mut plan = LoadPlan::new(spec, payload()).expect("client");
        plan.connections = 0;
        assert_eq!(plan.check(), Err(PlanError::NoConnections));
    }

    #[test]
    fn modes_have_their_names() {
        for mode in Mode::ALL {
            assert_eq!(mode.name().parse::<Mode>(), Ok(mode));
        }
        assert!(
            "ping"
                .parse::<Mode>()
                .expect_err("unknown")
                .to_string()
                .contains("pingpong, stream or connect")
        );
    }
}
