//! The session spec syntax shared by the command line, the config file and the window:
//! `tcp-server:[HOST:]PORT`, `tcp-client:HOST:PORT`, `udp-server:[HOST:]PORT`,
//! `udp-client:HOST:PORT`, where HOST may be a name, an IPv4 address or `[v6]`. A TCP client
//! may end with `,timeout=MS`, its connect timeout in milliseconds.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// The four kinds of session a user can create.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SessionKind {
    /// Listens for TCP connections and lists each client.
    TcpServer,
    /// Connects to a TCP server.
    TcpClient,
    /// Binds a UDP port and logs each datagram with its source.
    UdpServer,
    /// Sends datagrams to one target and logs its replies.
    UdpClient,
}

impl SessionKind {
    /// Every kind, in the order the window offers them.
    pub const ALL: [SessionKind; 4] = [
        SessionKind::TcpServer,
        SessionKind::TcpClient,
        SessionKind::UdpServer,
        SessionKind::UdpClient,
    ];

    /// The spec prefix, e.g. `tcp-server`.
    pub fn prefix(self) -> &'static str {
        match self {
            SessionKind::TcpServer => "tcp-server",
            SessionKind::TcpClient => "tcp-client",
            SessionKind::UdpServer => "udp-server",
            SessionKind::UdpClient => "udp-client",
        }
    }

    /// A human label, e.g. `TCP Server`.
    pub fn label(self) -> &'static str {
        match self {
            SessionKind::TcpServer => "TCP Server",
            SessionKind::TcpClient => "TCP Client",
            SessionKind::UdpServer => "UDP Server",
            SessionKind::UdpClient => "UDP Client",
        }
    }

    /// Servers bind a local address; clients name a remote one.
    pub fn is_server(self) -> bool {
        matches!(self, SessionKind::TcpServer | SessionKind::UdpServer)
    }

    /// TCP kinds have connections; UDP kinds have datagrams.
    pub fn is_tcp(self) -> bool {
        matches!(self, SessionKind::TcpServer | SessionKind::TcpClient)
    }

    /// The host a new session of this kind proposes in the create form.
    pub fn default_host(self) -> &'static str {
        if self.is_server() {
            "0.0.0.0"
        } else {
            "127.0.0.1"
        }
    }
}

/// What a session is: its kind and the address it binds (servers) or reaches (clients).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SessionSpec {
    /// The kind of session.
    pub kind: SessionKind,
    /// Host name or address literal, without brackets (`::1`, not `[::1]`).
    pub host: String,
    /// Port number; 0 lets the OS choose for servers.
    pub port: u16,
    /// How long a TCP client's connect may take; `None` for the default (10 s).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connect_timeout_ms: Option<u64>,
}

/// The shortest and longest connect timeout a spec may ask for.
pub const CONNECT_TIMEOUT_MS_RANGE: std::ops::RangeInclusive<u64> = 1..=3_600_000;

/// Why a spec or a host/port form could not be understood.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SpecError {
    /// The part before the first `:` is not a known kind.
    #[error(
        "unknown session kind '{0}' (expected tcp-server, tcp-client, udp-server or udp-client)"
    )]
    UnknownKind(String),
    /// The port is missing, not a number, or out of range.
    #[error("invalid port '{0}' (expected 0-65535)")]
    InvalidPort(String),
    /// A client spec lacks its host.
    #[error("{0} needs HOST:PORT")]
    MissingHost(&'static str),
    /// The host is empty or malformed (e.g. an unclosed `[`).
    #[error("invalid host '{0}'")]
    InvalidHost(String),
    /// A client cannot connect to port 0.
    #[error("a client needs a port between 1 and 65535")]
    ClientPortZero,
    /// The `,timeout=MS` suffix is malformed, out of range, or not on a TCP client.
    #[error("invalid connect timeout '{0}' (a tcp-client may end with ,timeout=MS, 1-3600000)")]
    InvalidTimeout(String),
}

impl SessionSpec {
    /// Builds a spec from the create form's host and port fields, checking both.
    ///
    /// # Errors
    /// [`SpecError`] when the host is empty or malformed, or the port is not a valid number.
    pub fn from_form(kind: SessionKind, host: &str, port: &str) -> Result<Self, SpecError> {
        let host = host.trim();
        let host = host
            .strip_prefix('[')
            .and_then(|h| h.strip_suffix(']'))
            .unwrap_or(host);
        if host.is_empty() {
            return Err(SpecError::InvalidHost(host.to_string()));
        }
        validate_host(host)?;
        let port_text = port.trim();
        let port: u16 = port_text
            .parse()
            .map_err(|_| SpecError::InvalidPort(port_text.to_string()))?;
        if !kind.is_server() && port == 0 {
            return Err(SpecError::ClientPortZero);
        }
        Ok(Self {
            kind,
            host: host.to_string(),
            port,
            connect_timeout_ms: None,
        })
    }

    /// `HOST:PORT` with IPv6 literals bracketed, as a user would type it.
    pub fn address(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }
}

fn validate_host(host: &str) -> Result<(), SpecError> {
    let bad = host.is_empty()
        || host.contains(['[', ']', ' ', '/'])
        || (host.contains(':') && host.parse::<std::net::Ipv6Addr>().is_err());
    if bad {
        Err(SpecError::InvalidHost(host.to_string()))
    } else {
        Ok(())
    }
}

impl fmt::Display for SessionSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.kind.prefix(), self.address())?;
        if let Some(ms) = self.connect_timeout_ms {
            write!(f, ",timeout={ms}")?;
        }
        Ok(())
    }
}

impl FromStr for SessionSpec {
    type Err = SpecError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let text = text.trim();
        let (text, timeout) = match text.rsplit_once(",timeout=") {
            Some((spec, ms)) => (spec, Some(ms)),
            None => (text, None),
        };
        let (prefix, rest) = text
            .split_once(':')
            .ok_or_else(|| SpecError::UnknownKind(text.to_string()))?;
        let kind = SessionKind::ALL
            .into_iter()
            .find(|k| k.prefix() == prefix)
            .ok_or_else(|| SpecError::UnknownKind(prefix.to_string()))?;
        let (host, port) = split_host_port(rest)?;
        let host = match host {
            Some(h) => h,
            None if kind.is_server() => kind.default_host(),
            None => return Err(SpecError::MissingHost(kind.prefix())),
        };
        let mut spec = Self::from_form(kind, host, port)?;
        if let Some(ms_text) = timeout {
            let ms = ms_text
                .trim()
                .parse::<u64>()
                .ok()
                .filter(|ms| {
                    CONNECT_TIMEOUT_MS_RANGE.contains(ms) && kind == SessionKind::TcpClient
                })
                .ok_or_else(|| SpecError::InvalidTimeout(ms_text.to_string()))?;
            spec.connect_timeout_ms = Some(ms);
        }
        Ok(spec)
    }
}

/// Splits `[HOST:]PORT` where HOST may be `[v6]`; returns the host without brackets.
fn split_host_port(rest: &str) -> Result<(Option<&str>, &str), SpecError> {
    if let Some(after_bracket) = rest.strip_prefix('[') {
        let (host, tail) = after_bracket
            .split_once(']')
            .ok_or_else(|| SpecError::InvalidHost(rest.to_string()))?;
        let port = tail
            .strip_prefix(':')
            .ok_or_else(|| SpecError::InvalidPort(tail.to_string()))?;
        return Ok((Some(host), port));
    }
    match rest.rsplit_once(':') {
        Some((host, port)) => Ok((Some(host), port)),
        None => Ok((None, rest)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(kind: SessionKind, host: &str, port: u16) -> SessionSpec {
        SessionSpec {
            kind,
            host: host.to_string(),
            port,
            connect_timeout_ms: None,
        }
    }

    #[test]
    fn connect_timeout_suffix() {
        let parsed: SessionSpec = "tcp-client:[::1]:80,timeout=250".parse().expect("valid");
        assert_eq!(parsed.connect_timeout_ms, Some(250));
        assert_eq!(parsed.to_string(), "tcp-client:[::1]:80,timeout=250");
        for bad in [
            "tcp-client:h:80,timeout=",
            "tcp-client:h:80,timeout=0",
            "tcp-client:h:80,timeout=-5",
            "tcp-client:h:80,timeout=99999999999999999999",
            "tcp-server:0,timeout=100",
            "udp-client:h:80,timeout=100",
        ] {
            assert!(
                matches!(
                    bad.parse::<SessionSpec>(),
                    Err(SpecError::InvalidTimeout(_))
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn parses_valid_specs() {
        let table = [
            (
                "tcp-server:6001",
                spec(SessionKind::TcpServer, "0.0.0.0", 6001),
            ),
            (
                "tcp-server:127.0.0.1:6001",
                spec(SessionKind::TcpServer, "127.0.0.1", 6001),
            ),
            (
                "tcp-server:[::]:6001",
                spec(SessionKind::TcpServer, "::", 6001),
            ),
            (
                "udp-server:7000",
                spec(SessionKind::UdpServer, "0.0.0.0", 7000),
            ),
            (
                "tcp-client:localhost:80",
                spec(SessionKind::TcpClient, "localhost", 80),
            ),
            (
                "udp-client:127.0.0.1:7000",
                spec(SessionKind::UdpClient, "127.0.0.1", 7000),
            ),
            (
                "udp-client:[::1]:6001",
                spec(SessionKind::UdpClient, "::1", 6001),
            ),
        ];
        for (text, expected) in table {
            assert_eq!(text.parse::<SessionSpec>(), Ok(expected), "{text}");
        }
    }

    #[test]
    fn rejects_invalid_specs() {
        let table = [
            ("tcp-serv:6001", SpecError::UnknownKind("tcp-serv".into())),
            ("6001", SpecError::UnknownKind("6001".into())),
            ("tcp-server:70000", SpecError::InvalidPort("70000".into())),
            ("tcp-server:abc", SpecError::InvalidPort("abc".into())),
            ("tcp-client:6001", SpecError::MissingHost("tcp-client")),
            (
                "tcp-client:[::1:6001",
                SpecError::InvalidHost("[::1:6001".into()),
            ),
            ("tcp-client:host:0", SpecError::ClientPortZero),
            ("udp-client::1:6001", SpecError::InvalidHost(":1".into())),
        ];
        for (text, expected) in table {
            assert_eq!(text.parse::<SessionSpec>(), Err(expected), "{text}");
        }
    }

    #[test]
    fn display_round_trips() {
        for text in [
            "tcp-server:0.0.0.0:6001",
            "udp-client:[::1]:7000",
            "tcp-client:example.com:80",
        ] {
            let parsed: SessionSpec = text.parse().expect("valid spec");
            assert_eq!(parsed.to_string(), text);
        }
    }

    #[test]
    fn form_accepts_bracketed_v6_and_trims() {
        let parsed = SessionSpec::from_form(SessionKind::TcpClient, " [::1] ", " 6001 ");
        assert_eq!(parsed, Ok(spec(SessionKind::TcpClient, "::1", 6001)));
        assert!(SessionSpec::from_form(SessionKind::TcpClient, "", "1").is_err());
        assert!(SessionSpec::from_form(SessionKind::TcpClient, "a b", "1").is_err());
    }
}
