//! The session spec syntax shared by the command line, the config file and the window:
//! `KIND:ADDRESS[/PATH][,OPTION[=VALUE]]...`.
//!
//! Kinds: `tcp-server:[HOST:]PORT`, `tcp-client:HOST:PORT`, `udp-server:[HOST:]PORT`,
//! `udp-client:HOST:PORT` (a broadcast address such as `255.255.255.255` works),
//! `udp-group:GROUP:PORT` (a multicast group, IPv4 or `[ff..]` IPv6), `tls-server:[HOST:]PORT`,
//! `tls-client:HOST:PORT`, `ws-server:[HOST:]PORT[/PATH]` and `ws-client:HOST:PORT[/PATH]`,
//! which may also be written `ws://HOST:PORT/PATH` or `wss://HOST:PORT/PATH`, and the relays
//! `relay:[HOST:]PORT,to=HOST:PORT` (TCP) and `udp-relay:[HOST:]PORT,to=HOST:PORT`. HOST may
//! be a name, an IPv4 address or `[v6]`. A serial port is
//! `serial:PATH[,baud=N][,data=5|6|7|8][,parity=none|odd|even][,stop=1|2][,flow=none|rtscts|xonxoff][,reconnect[=MS]]`
//! (`serial:/dev/ttyUSB0,baud=9600`, `serial:COM3`): PATH is everything up to the first `,`.
//!
//! Options (each kind accepts the ones that mean something for it, see [`OptionKey`]):
//! `timeout=MS` (clients' connect timeout), `cert=FILE` and `key=FILE` (TLS servers: PEM
//! certificate chain and key; without them a self-signed certificate is generated),
//! `ca=FILE` (TLS clients: trust this PEM CA instead of the system roots), `insecure` (TLS
//! clients: accept any certificate, for device testing), `tls` (WebSocket over TLS),
//! `proto=NAME` (WebSocket subprotocol), `binary` (WebSocket: send every message as Binary,
//! not only bytes that are not UTF-8), `path=/P` (WebSocket path, same as `/P` after the
//! port), `iface=ADDR|INDEX` (multicast interface), `ttl=N` (multicast TTL or hop limit),
//! `loop=on|off` (multicast loopback), `half-open` (TCP and TLS sessions: a connection whose
//! peer has finished sending stays open for our sends until it is disconnected),
//! `handshake-timeout=MS` (TLS and WebSocket sessions: how long a TLS handshake and a
//! WebSocket upgrade may take), `max-clients=N` (servers over TCP: connections past N are
//! refused), `max-peers=N` (UDP sessions: the peer table's cap, the peer idle longest
//! evicted past it), `to=HOST:PORT` (relays: the target each client is relayed to), `to-tls`
//! (a TCP relay speaks TLS to its target, with `ca=FILE` or `insecure`; its `tls` accepts
//! TLS from clients, with `cert=`/`key=` or a generated certificate), `idle-timeout=MS` (UDP
//! relays: a client's mapping expires after this long without a datagram), and the relays'
//! faults, each for one direction (`up.` client to target, `down.` target to client) or both
//! (no prefix): `delay=MS`, `jitter=MS`, `slice=N`, `slice-delay=MS`, `rate=BYTES_PER_S`,
//! `close-after=BYTES`, `reset-after=BYTES`, `drop-after=BYTES`, `hold` (see
//! [`crate::relay::faults`]). Serial ports take the line settings above (defaults 115200 8N1,
//! no flow control, see [`crate::serial`]) and `reconnect` (reopen the port when its path
//! comes back after the device went away); TCP, TLS and WebSocket clients take `reconnect`
//! too (connect again every second when the connect fails or the connection ends, until
//! stopped); `reconnect=MS` sets how often either tries. A value ends at the next `,`.

use std::fmt;
use std::net::IpAddr;
use std::path::PathBuf;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::relay::{FaultKey, RelayFaults};
use crate::serial::{self, DataBits, FlowControl, Parity, SerialLine, StopBits};

/// The kinds of session a user can create.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SessionKind {
    /// Listens for TCP connections and lists each client.
    TcpServer,
    /// Connects to a TCP server.
    TcpClient,
    /// Binds a UDP port and logs each datagram with its source.
    UdpServer,
    /// Sends datagrams to one target (which may be a broadcast address) and logs replies.
    UdpClient,
    /// Joins a multicast group, receives what is sent to it and sends to it.
    UdpGroup,
    /// Listens for TLS connections (a given or a generated certificate).
    TlsServer,
    /// Connects to a TLS server.
    TlsClient,
    /// Accepts WebSocket connections; each message is a log entry.
    WsServer,
    /// Connects to a WebSocket server; each message is a log entry.
    WsClient,
    /// Sits between TCP clients and a target: each client gets its own connection to the
    /// target, both directions are logged (and can be shaped, held and injected into).
    Relay,
    /// Relays UDP datagrams between clients and a target, a mapping per client address.
    UdpRelay,
    /// A serial port (a UART): its one peer is the device; the address is the port's path.
    Serial,
}

impl SessionKind {
    /// Every kind, in the order the window offers them.
    pub const ALL: [SessionKind; 12] = [
        SessionKind::TcpServer,
        SessionKind::TcpClient,
        SessionKind::UdpServer,
        SessionKind::UdpClient,
        SessionKind::UdpGroup,
        SessionKind::TlsServer,
        SessionKind::TlsClient,
        SessionKind::WsServer,
        SessionKind::WsClient,
        SessionKind::Relay,
        SessionKind::UdpRelay,
        SessionKind::Serial,
    ];

    /// The spec prefix, e.g. `tcp-server`.
    pub fn prefix(self) -> &'static str {
        match self {
            SessionKind::TcpServer => "tcp-server",
            SessionKind::TcpClient => "tcp-client",
            SessionKind::UdpServer => "udp-server",
            SessionKind::UdpClient => "udp-client",
            SessionKind::UdpGroup => "udp-group",
            SessionKind::TlsServer => "tls-server",
            SessionKind::TlsClient => "tls-client",
            SessionKind::WsServer => "ws-server",
            SessionKind::WsClient => "ws-client",
            SessionKind::Relay => "relay",
            SessionKind::UdpRelay => "udp-relay",
            SessionKind::Serial => "serial",
        }
    }

    /// A human label in English, e.g. `TCP Server` (the window translates its own).
    pub fn label(self) -> &'static str {
        match self {
            SessionKind::TcpServer => "TCP Server",
            SessionKind::TcpClient => "TCP Client",
            SessionKind::UdpServer => "UDP Server",
            SessionKind::UdpClient => "UDP Client",
            SessionKind::UdpGroup => "UDP Group",
            SessionKind::TlsServer => "TLS Server",
            SessionKind::TlsClient => "TLS Client",
            SessionKind::WsServer => "WebSocket Server",
            SessionKind::WsClient => "WebSocket Client",
            SessionKind::Relay => "TCP Relay",
            SessionKind::UdpRelay => "UDP Relay",
            SessionKind::Serial => "Serial Port",
        }
    }

    /// Servers bind a local address and may leave the host out; every other kind names the
    /// address it talks to (a multicast group is named, not defaulted). Relays are servers
    /// to their clients.
    pub fn is_server(self) -> bool {
        matches!(
            self,
            SessionKind::TcpServer
                | SessionKind::UdpServer
                | SessionKind::TlsServer
                | SessionKind::WsServer
                | SessionKind::Relay
                | SessionKind::UdpRelay
        )
    }

    /// Relays: each peer is a client paired with its own link to the target.
    pub fn is_relay(self) -> bool {
        matches!(self, SessionKind::Relay | SessionKind::UdpRelay)
    }

    /// Kinds that run over TCP connections (plain, TLS or WebSocket): they have peers that
    /// connect and disconnect. The others exchange UDP datagrams.
    pub fn is_tcp(self) -> bool {
        !self.is_udp()
    }

    /// Kinds that exchange UDP datagrams.
    pub fn is_udp(self) -> bool {
        matches!(
            self,
            SessionKind::UdpServer
                | SessionKind::UdpClient
                | SessionKind::UdpGroup
                | SessionKind::UdpRelay
        )
    }

    /// Kinds whose traffic is WebSocket messages rather than a byte stream.
    pub fn is_websocket(self) -> bool {
        matches!(self, SessionKind::WsServer | SessionKind::WsClient)
    }

    /// The host a new session of this kind proposes in the create form.
    pub fn default_host(self) -> &'static str {
        match self {
            SessionKind::UdpGroup => "239.1.2.3",
            SessionKind::Serial if cfg!(windows) => "COM1",
            SessionKind::Serial => "/dev/ttyUSB0",
            kind if kind.is_server() => "0.0.0.0",
            _ => "127.0.0.1",
        }
    }

    /// The options this kind accepts, in the order they are written (relays also take the
    /// fault words, [`FaultKey`]).
    pub fn options(self) -> &'static [OptionKey] {
        use OptionKey::*;
        match self {
            SessionKind::UdpServer | SessionKind::UdpClient => &[MaxPeers],
            SessionKind::TcpServer => &[HalfOpen, MaxClients],
            SessionKind::TcpClient => &[Timeout, HalfOpen, Reconnect],
            SessionKind::UdpGroup => &[Iface, Ttl, Loop, MaxPeers],
            SessionKind::TlsServer => &[Cert, Key, HalfOpen, HandshakeTimeout, MaxClients],
            SessionKind::TlsClient => {
                &[Timeout, Ca, Insecure, HalfOpen, HandshakeTimeout, Reconnect]
            }
            SessionKind::WsServer => &[
                Path,
                Proto,
                Binary,
                Tls,
                Cert,
                Key,
                HandshakeTimeout,
                MaxClients,
            ],
            SessionKind::WsClient => &[
                Path,
                Proto,
                Binary,
                Timeout,
                Tls,
                Ca,
                Insecure,
                HandshakeTimeout,
                Reconnect,
            ],
            SessionKind::Relay => &[
                To,
                Tls,
                Cert,
                Key,
                ToTls,
                Ca,
                Insecure,
                Timeout,
                HandshakeTimeout,
                MaxClients,
                Baud,
                Data,
                Parity,
                Stop,
                Flow,
            ],
            SessionKind::UdpRelay => &[To, IdleTimeout, MaxClients],
            SessionKind::Serial => &[Baud, Data, Parity, Stop, Flow, Reconnect],
        }
    }

    /// How the options it accepts are written, as hints and errors list them.
    pub fn options_syntax(self) -> String {
        let mut words: Vec<String> = self.options().iter().map(|k| k.syntax().into()).collect();
        if self.is_relay() {
            words.push(FaultKey::hint());
        }
        if words.is_empty() {
            "none".to_string()
        } else {
            words.join(", ")
        }
    }
}

/// One option a spec may carry after the address.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OptionKey {
    /// `timeout=MS`: how long a connect may take.
    Timeout,
    /// `cert=FILE`: a TLS server's PEM certificate chain.
    Cert,
    /// `key=FILE`: a TLS server's PEM private key.
    Key,
    /// `ca=FILE`: a PEM CA a TLS client trusts instead of the system roots.
    Ca,
    /// `insecure`: a TLS client accepts any certificate.
    Insecure,
    /// `tls`: WebSocket over TLS (`wss`).
    Tls,
    /// `path=/P`: the WebSocket request path.
    Path,
    /// `proto=NAME`: the WebSocket subprotocol.
    Proto,
    /// `binary`: every WebSocket send goes as a Binary message, even valid UTF-8.
    Binary,
    /// `iface=ADDR|INDEX`: the interface a multicast group is joined on.
    Iface,
    /// `ttl=N`: multicast TTL (IPv4) or hop limit (IPv6).
    Ttl,
    /// `loop=on|off`: whether our own multicast datagrams come back to us.
    Loop,
    /// `half-open`: a TCP or TLS connection stays open for our sends after the peer has
    /// finished sending (its FIN), until the user disconnects it or a write fails.
    HalfOpen,
    /// `handshake-timeout=MS`: how long a TLS handshake and a WebSocket upgrade may take.
    HandshakeTimeout,
    /// `max-clients=N`: a server refuses (closes) connections past N clients.
    MaxClients,
    /// `max-peers=N`: a UDP session lists at most N peers, evicting the one idle longest.
    MaxPeers,
    /// `to=HOST:PORT`: where a relay relays each client to.
    To,
    /// `to-tls`: a TCP relay speaks TLS to its target.
    ToTls,
    /// `idle-timeout=MS`: a UDP relay forgets a client's mapping after this long idle.
    IdleTimeout,
    /// `baud=N`: a serial port's bits per second.
    Baud,
    /// `data=5|6|7|8`: a serial port's bits per character.
    Data,
    /// `parity=none|odd|even`: a serial port's parity bit.
    Parity,
    /// `stop=1|2`: a serial port's stop bits.
    Stop,
    /// `flow=none|rtscts|xonxoff`: a serial port's flow control.
    Flow,
    /// `reconnect[=MS]`: a serial session reopens its port when the path comes back; a TCP,
    /// TLS or WebSocket client connects again when its connect fails or its connection ends;
    /// MS sets how often they try.
    Reconnect,
}

impl OptionKey {
    /// Every option key.
    pub const ALL: [OptionKey; 25] = [
        OptionKey::Timeout,
        OptionKey::Cert,
        OptionKey::Key,
        OptionKey::Ca,
        OptionKey::Insecure,
        OptionKey::Tls,
        OptionKey::Path,
        OptionKey::Proto,
        OptionKey::Binary,
        OptionKey::Iface,
        OptionKey::Ttl,
        OptionKey::Loop,
        OptionKey::HalfOpen,
        OptionKey::HandshakeTimeout,
        OptionKey::MaxClients,
        OptionKey::MaxPeers,
        OptionKey::To,
        OptionKey::ToTls,
        OptionKey::IdleTimeout,
        OptionKey::Baud,
        OptionKey::Data,
        OptionKey::Parity,
        OptionKey::Stop,
        OptionKey::Flow,
        OptionKey::Reconnect,
    ];

    /// The word written in a spec, e.g. `timeout`.
    pub fn name(self) -> &'static str {
        match self {
            OptionKey::Timeout => "timeout",
            OptionKey::Cert => "cert",
            OptionKey::Key => "key",
            OptionKey::Ca => "ca",
            OptionKey::Insecure => "insecure",
            OptionKey::Tls => "tls",
            OptionKey::Path => "path",
            OptionKey::Proto => "proto",
            OptionKey::Binary => "binary",
            OptionKey::Iface => "iface",
            OptionKey::Ttl => "ttl",
            OptionKey::Loop => "loop",
            OptionKey::HalfOpen => "half-open",
            OptionKey::HandshakeTimeout => "handshake-timeout",
            OptionKey::MaxClients => "max-clients",
            OptionKey::MaxPeers => "max-peers",
            OptionKey::To => "to",
            OptionKey::ToTls => "to-tls",
            OptionKey::IdleTimeout => "idle-timeout",
            OptionKey::Baud => "baud",
            OptionKey::Data => "data",
            OptionKey::Parity => "parity",
            OptionKey::Stop => "stop",
            OptionKey::Flow => "flow",
            OptionKey::Reconnect => "reconnect",
        }
    }

    /// How the option is written, e.g. `timeout=MS`, as shown in hints and errors.
    pub fn syntax(self) -> &'static str {
        match self {
            OptionKey::Timeout => "timeout=MS",
            OptionKey::Cert => "cert=FILE",
            OptionKey::Key => "key=FILE",
            OptionKey::Ca => "ca=FILE",
            OptionKey::Insecure => "insecure",
            OptionKey::Tls => "tls",
            OptionKey::Path => "path=/PATH",
            OptionKey::Proto => "proto=NAME",
            OptionKey::Binary => "binary",
            OptionKey::Iface => "iface=ADDR|INDEX",
            OptionKey::Ttl => "ttl=N",
            OptionKey::Loop => "loop=on|off",
            OptionKey::HalfOpen => "half-open",
            OptionKey::HandshakeTimeout => "handshake-timeout=MS",
            OptionKey::MaxClients => "max-clients=N",
            OptionKey::MaxPeers => "max-peers=N",
            OptionKey::To => "to=HOST:PORT|serial:PATH",
            OptionKey::ToTls => "to-tls",
            OptionKey::IdleTimeout => "idle-timeout=MS",
            OptionKey::Baud => "baud=N",
            OptionKey::Data => "data=5|6|7|8",
            OptionKey::Parity => "parity=none|odd|even",
            OptionKey::Stop => "stop=1|2",
            OptionKey::Flow => "flow=none|rtscts|xonxoff",
            OptionKey::Reconnect => "reconnect[=MS]",
        }
    }

    /// Timeouts: an empty value is refused as a bad timeout, not as a malformed option.
    fn is_timeout(self) -> bool {
        matches!(
            self,
            OptionKey::Timeout | OptionKey::HandshakeTimeout | OptionKey::IdleTimeout
        )
    }

    /// Flags take no value.
    fn is_flag(self) -> bool {
        matches!(
            self,
            OptionKey::Insecure
                | OptionKey::Tls
                | OptionKey::Binary
                | OptionKey::HalfOpen
                | OptionKey::ToTls
        )
    }

    /// Options that are a flag alone or take a value (`reconnect`, `reconnect=MS`).
    fn value_optional(self) -> bool {
        self == OptionKey::Reconnect
    }
}

/// The options of a session beyond its kind and address. Every field is `None`/`false`
/// unless the spec set it; which kinds use which is [`SessionKind::options`].
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(default)]
pub struct SpecOptions {
    /// How long a client's connect may take; `None` for the default (10 s).
    pub connect_timeout_ms: Option<u64>,
    /// A TLS server's PEM certificate chain; `None` generates a self-signed one.
    pub cert: Option<PathBuf>,
    /// A TLS server's PEM private key (required with `cert`).
    pub key: Option<PathBuf>,
    /// A PEM CA a TLS client trusts instead of the system roots.
    pub ca: Option<PathBuf>,
    /// A TLS client accepts any certificate (device testing).
    pub insecure: bool,
    /// WebSocket over TLS (`wss://`).
    pub tls: bool,
    /// The WebSocket request path, starting with `/`; `None` is `/` (a server accepts any).
    pub path: Option<String>,
    /// The WebSocket subprotocol offered (client) or accepted (server).
    pub subprotocol: Option<String>,
    /// WebSocket sends always go as Binary messages; otherwise valid UTF-8 goes as Text.
    pub binary: bool,
    /// The interface a multicast group is joined on: an IPv4 address, or an IPv6 interface
    /// index or name; `None` lets the OS choose.
    pub iface: Option<String>,
    /// Multicast TTL (IPv4) or hop limit (IPv6); `None` keeps the OS default (1).
    pub ttl: Option<u32>,
    /// Whether our own multicast datagrams come back to us; `None` keeps the default (on).
    pub loopback: Option<bool>,
    /// TCP and TLS: after the peer has finished sending (FIN), its connection stays open for
    /// our sends until the user disconnects it, the session stops or a write fails; without
    /// it, what is queued is flushed and the connection closes.
    pub keep_half_open: bool,
    /// TLS and WebSocket: how long a TLS handshake plus a WebSocket upgrade may take; `None`
    /// for the default (servers: [`DEFAULT_HANDSHAKE_TIMEOUT_MS`]; clients: what is left of
    /// the connect timeout).
    pub handshake_timeout_ms: Option<u64>,
    /// Servers over TCP: connections past this many clients (handshakes under way included)
    /// are refused; `None` for no limit.
    pub max_clients: Option<usize>,
    /// UDP sessions: the most peers listed, the one idle longest evicted past it; `None`
    /// for the engine's default (10,000).
    pub max_peers: Option<usize>,
    /// Relays: the target each client is relayed to.
    pub to: Option<RelayTarget>,
    /// TCP relays: speak TLS to the target (`ca`, `insecure` as for a TLS client).
    pub to_tls: bool,
    /// UDP relays: how long a client's mapping lives without a datagram either way; `None`
    /// for the default ([`DEFAULT_RELAY_IDLE_TIMEOUT_MS`]).
    pub idle_timeout_ms: Option<u64>,
    /// Relays: the faults applied to each direction (changeable while running); boxed, as
    /// every other kind carries none.
    pub faults: Box<RelayFaults>,
    /// Serial ports: bits per second; `None` for [`serial::DEFAULT_BAUD`].
    pub baud: Option<u32>,
    /// Serial ports: bits per character; `None` for 8.
    pub data_bits: Option<DataBits>,
    /// Serial ports: the parity bit; `None` for none.
    pub parity: Option<Parity>,
    /// Serial ports: stop bits; `None` for 1.
    pub stop_bits: Option<StopBits>,
    /// Serial ports: flow control; `None` for none.
    pub flow: Option<FlowControl>,
    /// Serial ports: when the device goes away, wait for its path to come back and reopen it
    /// instead of ending the session. TCP, TLS and WebSocket clients: when the connect fails
    /// or the connection ends, connect again (every second) instead of ending the session.
    pub reconnect: bool,
    /// `reconnect=MS`: how often to try, instead of the kind's default (a client's second, a
    /// serial port's 250 ms).
    pub reconnect_ms: Option<u64>,
}

/// Where a relay relays to.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum RelayTarget {
    /// A host (name or address, without brackets) and a port: each client gets its own
    /// connection there.
    Host {
        /// Host name or address literal, without brackets.
        host: String,
        /// Port, 1-65535.
        port: u16,
    },
    /// A serial port (`to=serial:PATH`, TCP relays only): a client's bytes go to the
    /// device's UART, opened with the relay's line settings (`baud=N`, ...) while the
    /// client is connected, like ser2net.
    Serial {
        /// The port's path.
        path: String,
    },
}

impl RelayTarget {
    /// Reads `HOST:PORT` (`[v6]:PORT` for IPv6) or `serial:PATH`.
    fn parse(text: &str) -> Option<Self> {
        if let Some(path) = text.strip_prefix("serial:") {
            let path = path.trim();
            return (!path.is_empty()).then(|| Self::Serial {
                path: path.to_string(),
            });
        }
        let (host, port) = split_host_port(text).ok()?;
        let host = host?;
        validate_host(host).ok()?;
        let port = port.parse::<u16>().ok().filter(|p| *p != 0)?;
        Some(Self::Host {
            host: host.to_string(),
            port,
        })
    }

    /// A spec for a client session to the target: what a relay's link to it is, for the
    /// code that connects (and, with `to-tls`, handshakes) like a client; `None` for a
    /// serial port.
    pub fn client_spec(&self, kind: SessionKind, relay: &SpecOptions) -> Option<SessionSpec> {
        let Self::Host { host, port } = self else {
            return None;
        };
        Some(SessionSpec {
            kind,
            host: host.clone(),
            port: *port,
            options: SpecOptions {
                connect_timeout_ms: relay.connect_timeout_ms,
                ca: relay.ca.clone(),
                insecure: relay.insecure,
                handshake_timeout_ms: relay.handshake_timeout_ms,
                ..SpecOptions::default()
            },
        })
    }
}

impl fmt::Display for RelayTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Host { host, port } if host.contains(':') => write!(f, "[{host}]:{port}"),
            Self::Host { host, port } => write!(f, "{host}:{port}"),
            Self::Serial { path } => write!(f, "serial:{path}"),
        }
    }
}

impl SpecOptions {
    /// True when no option is set.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    /// A serial port's line settings, defaults filled in for what the spec left out.
    pub fn serial_line(&self) -> SerialLine {
        let default = SerialLine::default();
        SerialLine {
            baud: self.baud.unwrap_or(default.baud),
            data_bits: self.data_bits.unwrap_or(default.data_bits),
            parity: self.parity.unwrap_or(default.parity),
            stop_bits: self.stop_bits.unwrap_or(default.stop_bits),
            flow: self.flow.unwrap_or(default.flow),
        }
    }

    /// Sets one option from its text (`value` is `None` for a bare flag).
    fn set(&mut self, key: OptionKey, value: Option<&str>) -> Result<(), BadValue> {
        let invalid = || BadValue::Malformed;
        if key.is_flag() {
            if value.is_some() {
                return Err(invalid());
            }
        } else if key.value_optional() {
            // Alone or with a value, checked below.
        } else if !key.is_timeout() && value.is_none_or(str::is_empty) {
            return Err(invalid());
        }
        let text = value.unwrap_or_default().trim();
        match key {
            OptionKey::Timeout => self.connect_timeout_ms = Some(timeout_ms(text)?),
            OptionKey::HandshakeTimeout => self.handshake_timeout_ms = Some(timeout_ms(text)?),
            OptionKey::IdleTimeout => self.idle_timeout_ms = Some(timeout_ms(text)?),
            OptionKey::To => self.to = Some(RelayTarget::parse(text).ok_or_else(invalid)?),
            OptionKey::ToTls => self.to_tls = true,
            OptionKey::MaxClients => self.max_clients = Some(count(text)?),
            OptionKey::MaxPeers => self.max_peers = Some(count(text)?),
            OptionKey::Cert => self.cert = Some(PathBuf::from(text)),
            OptionKey::Key => self.key = Some(PathBuf::from(text)),
            OptionKey::Ca => self.ca = Some(PathBuf::from(text)),
            OptionKey::Insecure => self.insecure = true,
            OptionKey::Tls => self.tls = true,
            OptionKey::Binary => self.binary = true,
            OptionKey::HalfOpen => self.keep_half_open = true,
            OptionKey::Path => {
                if !text.starts_with('/') || text.contains([' ', ',']) {
                    return Err(invalid());
                }
                self.path = Some(text.to_string());
            }
            OptionKey::Proto => {
                if text.contains([' ', ',']) {
                    return Err(invalid());
                }
                self.subprotocol = Some(text.to_string());
            }
            OptionKey::Iface => self.iface = Some(text.to_string()),
            OptionKey::Ttl => {
                let ttl = text
                    .parse::<u32>()
                    .ok()
                    .filter(|ttl| *ttl <= 255)
                    .ok_or_else(invalid)?;
                self.ttl = Some(ttl);
            }
            OptionKey::Loop => {
                self.loopback = Some(match text {
                    "on" | "1" | "true" => true,
                    "off" | "0" | "false" => false,
                    _ => return Err(invalid()),
                });
            }
            OptionKey::Baud => {
                let baud = text.parse::<u32>().ok().filter(|b| BAUD_RANGE.contains(b));
                self.baud = Some(baud.ok_or_else(invalid)?);
            }
            OptionKey::Data => {
                let bits = serial::parse_word(text, &DataBits::ALL, DataBits::word);
                self.data_bits = Some(bits.ok_or_else(invalid)?);
            }
            OptionKey::Parity => {
                let parity = serial::parse_word(text, &Parity::ALL, Parity::word);
                self.parity = Some(parity.ok_or_else(invalid)?);
            }
            OptionKey::Stop => {
                let bits = serial::parse_word(text, &StopBits::ALL, StopBits::word);
                self.stop_bits = Some(bits.ok_or_else(invalid)?);
            }
            OptionKey::Flow => {
                let flow = serial::parse_word(text, &FlowControl::ALL, FlowControl::word);
                self.flow = Some(flow.ok_or_else(invalid)?);
            }
            OptionKey::Reconnect => {
                self.reconnect = true;
                self.reconnect_ms = match value {
                    None => None,
                    Some(_) => Some(
                        text.parse::<u64>()
                            .ok()
                            .filter(|ms| RECONNECT_MS_RANGE.contains(ms))
                            .ok_or_else(invalid)?,
                    ),
                };
            }
        }
        Ok(())
    }

    /// The options as `key=value` words, in [`OptionKey::ALL`] order, leaving out `path`
    /// (written after the port) and `tls` for a WebSocket client (written as `wss://`).
    fn words(&self, kind: SessionKind) -> Vec<String> {
        let mut words = Vec::new();
        let path = |p: &Option<PathBuf>| p.as_ref().map(|p| p.display().to_string());
        for key in OptionKey::ALL {
            let value = match key {
                OptionKey::Timeout => self.connect_timeout_ms.map(|ms| ms.to_string()),
                OptionKey::Cert => path(&self.cert),
                OptionKey::Key => path(&self.key),
                OptionKey::Ca => path(&self.ca),
                OptionKey::Insecure => self.insecure.then(String::new),
                OptionKey::Tls => (self.tls && kind != SessionKind::WsClient).then(String::new),
                OptionKey::Path => None,
                OptionKey::Proto => self.subprotocol.clone(),
                OptionKey::Binary => self.binary.then(String::new),
                OptionKey::Iface => self.iface.clone(),
                OptionKey::Ttl => self.ttl.map(|t| t.to_string()),
                OptionKey::Loop => self.loopback.map(|on| if on { "on" } else { "off" }.into()),
                OptionKey::HalfOpen => self.keep_half_open.then(String::new),
                OptionKey::HandshakeTimeout => self.handshake_timeout_ms.map(|ms| ms.to_string()),
                OptionKey::MaxClients => self.max_clients.map(|n| n.to_string()),
                OptionKey::MaxPeers => self.max_peers.map(|n| n.to_string()),
                OptionKey::To => self.to.as_ref().map(ToString::to_string),
                OptionKey::ToTls => self.to_tls.then(String::new),
                OptionKey::IdleTimeout => self.idle_timeout_ms.map(|ms| ms.to_string()),
                OptionKey::Baud => self.baud.map(|b| b.to_string()),
                OptionKey::Data => self.data_bits.map(|b| b.word().into()),
                OptionKey::Parity => self.parity.map(|p| p.word().into()),
                OptionKey::Stop => self.stop_bits.map(|b| b.word().into()),
                OptionKey::Flow => self.flow.map(|f| f.word().into()),
                OptionKey::Reconnect => self.reconnect.then(|| {
                    self.reconnect_ms
                        .map_or(String::new(), |ms| format!("={ms}"))
                }),
            };
            match value {
                // A flag's value is empty; `reconnect`'s is empty or `=MS`.
                Some(v) if key.is_flag() || key.value_optional() => {
                    words.push(format!("{}{v}", key.name()));
                }
                Some(v) => words.push(format!("{}={v}", key.name())),
                None => {}
            }
        }
        words.extend(self.faults.words());
        words
    }
}

/// A `timeout=` or `handshake-timeout=` value: milliseconds in
/// [`CONNECT_TIMEOUT_MS_RANGE`].
fn timeout_ms(text: &str) -> Result<u64, BadValue> {
    text.parse::<u64>()
        .ok()
        .filter(|ms| CONNECT_TIMEOUT_MS_RANGE.contains(ms))
        .ok_or_else(|| BadValue::Timeout(text.to_string()))
}

/// A `max-clients=` or `max-peers=` value: a count in [`COUNT_LIMIT_RANGE`].
fn count(text: &str) -> Result<usize, BadValue> {
    text.parse::<usize>()
        .ok()
        .filter(|n| COUNT_LIMIT_RANGE.contains(n))
        .ok_or(BadValue::Malformed)
}

/// The intervals `reconnect=MS` may give: from a tenth of a second to an hour.
pub const RECONNECT_MS_RANGE: std::ops::RangeInclusive<u64> = 100..=3_600_000;

/// The baud rates `baud=N` may give.
pub const BAUD_RANGE: std::ops::RangeInclusive<u32> = 1..=100_000_000;

/// The counts `max-clients=N` and `max-peers=N` may give.
pub const COUNT_LIMIT_RANGE: std::ops::RangeInclusive<usize> = 1..=1_000_000;

/// Why an option's value was refused.
enum BadValue {
    /// A `timeout=` (or `handshake-timeout=`) outside [`CONNECT_TIMEOUT_MS_RANGE`] or not a
    /// number.
    Timeout(String),
    /// Any other malformed value, or a value on a flag.
    Malformed,
}

/// What a session is: its kind, the address it binds (servers) or reaches (clients), and
/// its options.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SessionSpec {
    /// The kind of session.
    pub kind: SessionKind,
    /// Host name or address literal, without brackets (`::1`, not `[::1]`); for a serial
    /// port, its path (`/dev/ttyUSB0`, `COM3`).
    pub host: String,
    /// Port number; 0 lets the OS choose for servers (and a serial port has none: 0).
    pub port: u16,
    /// Everything else the spec said.
    #[serde(default, skip_serializing_if = "SpecOptions::is_empty")]
    pub options: SpecOptions,
}

/// The shortest and longest connect (or handshake) timeout a spec may ask for.
pub const CONNECT_TIMEOUT_MS_RANGE: std::ops::RangeInclusive<u64> = 1..=3_600_000;

/// How long a UDP relay keeps a client's mapping without a datagram, unless
/// `idle-timeout=MS` says otherwise.
pub const DEFAULT_RELAY_IDLE_TIMEOUT_MS: u64 = 60_000;

/// How long a server lets each client's TLS handshake and WebSocket upgrade take, unless
/// `handshake-timeout=MS` says otherwise.
pub const DEFAULT_HANDSHAKE_TIMEOUT_MS: u64 = 10_000;

/// Why a spec or a host/port form could not be understood.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SpecError {
    /// The part before the first `:` is not a known kind.
    #[error(
        "unknown session kind '{0}' (expected tcp-server, tcp-client, udp-server, udp-client, \
         udp-group, tls-server, tls-client, ws-server, ws-client, relay, udp-relay, serial, \
         ws:// or wss://)"
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
    /// The `timeout=MS` option is malformed or out of range.
    #[error("invalid connect timeout '{0}' (timeout=MS, 1-3600000)")]
    InvalidTimeout(String),
    /// The `handshake-timeout=MS` option is malformed or out of range.
    #[error("invalid handshake timeout '{0}' (handshake-timeout=MS, 1-3600000)")]
    InvalidHandshakeTimeout(String),
    /// A relay has no `to=HOST:PORT`.
    #[error("{0} needs to=HOST:PORT (where each client is relayed to)")]
    MissingTarget(&'static str),
    /// An option is unknown, malformed, or not one this kind accepts.
    #[error("invalid option '{option}' for {kind} (accepted: {accepted})")]
    InvalidOption {
        /// The option as written.
        option: String,
        /// The session kind's prefix.
        kind: &'static str,
        /// The options the kind accepts, as written in a spec.
        accepted: String,
    },
    /// A multicast group session named an address that is not a multicast group.
    #[error("'{0}' is not a multicast group (224.0.0.0/4 or ff00::/8)")]
    NotMulticast(String),
    /// A TLS server was given a certificate without its key, or a key without a certificate.
    #[error("cert=FILE and key=FILE go together")]
    CertWithoutKey,
    /// A path was written after the port of a kind that has none.
    #[error("{0} takes no /path (only WebSocket sessions do)")]
    UnexpectedPath(&'static str),
    /// A serial session names no device.
    #[error("serial needs a port: serial:/dev/ttyUSB0 or serial:COM3")]
    MissingDevice,
    /// A relay to a serial port that is not a plain TCP relay (a UDP relay, or `to-tls`).
    #[error("{0} cannot relay to a serial port (only relay: can, without to-tls)")]
    SerialTargetMisfit(&'static str),
    /// Line settings on a relay whose target is no serial port.
    #[error("baud=, data=, parity=, stop= and flow= are for a relay to=serial:PATH")]
    LineWithoutSerialTarget,
}

impl SessionSpec {
    /// Builds a spec from the create form's host and port fields, checking both.
    ///
    /// # Errors
    /// [`SpecError`] when the host is empty or malformed, or the port is not a valid number.
    pub fn from_form(kind: SessionKind, host: &str, port: &str) -> Result<Self, SpecError> {
        Self::from_form_with_options(kind, host, port, "")
    }

    /// Builds a spec from the create form's host, port and options fields; `options` is
    /// written as in a spec (`insecure,ca=ca.pem`), with or without a leading comma.
    ///
    /// # Errors
    /// [`SpecError`] when a field is malformed or an option does not fit the kind.
    pub fn from_form_with_options(
        kind: SessionKind,
        host: &str,
        port: &str,
        options: &str,
    ) -> Result<Self, SpecError> {
        if kind == SessionKind::Serial {
            return Self::serial(host, options);
        }
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
        if kind == SessionKind::UdpGroup
            && !host.parse::<IpAddr>().is_ok_and(|ip| ip.is_multicast())
        {
            return Err(SpecError::NotMulticast(host.to_string()));
        }
        let mut spec = Self {
            kind,
            host: host.to_string(),
            port,
            options: SpecOptions::default(),
        };
        for word in options.split(',').map(str::trim).filter(|w| !w.is_empty()) {
            spec.apply_option(word)?;
        }
        if spec.options.cert.is_some() != spec.options.key.is_some() {
            return Err(SpecError::CertWithoutKey);
        }
        if kind.is_relay() && spec.options.to.is_none() {
            return Err(SpecError::MissingTarget(kind.prefix()));
        }
        let to_serial = matches!(spec.options.to, Some(RelayTarget::Serial { .. }));
        if to_serial && (kind != SessionKind::Relay || spec.options.to_tls) {
            return Err(SpecError::SerialTargetMisfit(kind.prefix()));
        }
        let line = &spec.options;
        let line_set = line.baud.is_some()
            || line.data_bits.is_some()
            || line.parity.is_some()
            || line.stop_bits.is_some()
            || line.flow.is_some();
        if kind.is_relay() && line_set && !to_serial {
            return Err(SpecError::LineWithoutSerialTarget);
        }
        Ok(spec)
    }

    /// A serial port's spec: `path` (trimmed, up to any `,`) and its options.
    fn serial(path: &str, options: &str) -> Result<Self, SpecError> {
        let path = path.trim();
        if path.is_empty() || path.contains(',') {
            return Err(SpecError::MissingDevice);
        }
        let mut spec = Self {
            kind: SessionKind::Serial,
            host: path.to_string(),
            port: 0,
            options: SpecOptions::default(),
        };
        for word in options.split(',').map(str::trim).filter(|w| !w.is_empty()) {
            spec.apply_option(word)?;
        }
        Ok(spec)
    }

    /// Reads a relay's fault words alone (`up.delay=100,slice=4`), as the window's fault
    /// field holds them, with the spec's own errors.
    ///
    /// # Errors
    /// [`SpecError::InvalidOption`] for the first word that is no fault or has a bad value.
    pub fn parse_faults(kind: SessionKind, text: &str) -> Result<RelayFaults, SpecError> {
        RelayFaults::parse_words(text).map_err(|option| SpecError::InvalidOption {
            option,
            kind: kind.prefix(),
            accepted: FaultKey::hint(),
        })
    }

    fn apply_option(&mut self, word: &str) -> Result<(), SpecError> {
        let (name, value) = option_parts(word);
        let accepted = self.kind.options();
        let wrong = || SpecError::InvalidOption {
            option: word.to_string(),
            kind: self.kind.prefix(),
            accepted: self.kind.options_syntax(),
        };
        if self.kind.is_relay()
            && let Some((leg, key)) = FaultKey::parse(name)
        {
            return self
                .options
                .faults
                .set(leg, key, value)
                .map_err(|_| wrong());
        }
        let key = accepted
            .iter()
            .copied()
            .find(|k| k.name() == name)
            .ok_or_else(wrong)?;
        self.options.set(key, value).map_err(|bad| match bad {
            BadValue::Timeout(text) if key == OptionKey::HandshakeTimeout => {
                SpecError::InvalidHandshakeTimeout(text)
            }
            BadValue::Timeout(_) if key == OptionKey::IdleTimeout => wrong(),
            BadValue::Timeout(text) => SpecError::InvalidTimeout(text),
            BadValue::Malformed => wrong(),
        })
    }

    /// `HOST:PORT` with IPv6 literals bracketed, as a user would type it; a serial port's
    /// path.
    pub fn address(&self) -> String {
        if self.kind == SessionKind::Serial {
            self.host.clone()
        } else if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }

    /// The options as written after the address (`insecure,ca=ca.pem`), without the path;
    /// what the create form's options field shows for this spec.
    pub fn options_text(&self) -> String {
        let mut words = self.options.words(self.kind);
        if let Some(path) = &self.options.path {
            words.insert(0, format!("path={path}"));
        }
        words.join(",")
    }

    /// The WebSocket URL a client connects to (`ws://host:port/path` or `wss://...`).
    pub fn ws_url(&self) -> String {
        let scheme = if self.options.tls { "wss" } else { "ws" };
        let path = self.options.path.as_deref().unwrap_or("/");
        format!("{scheme}://{}{path}", self.address())
    }
}

fn validate_host(host: &str) -> Result<(), SpecError> {
    let bad = host.is_empty()
        || host.contains(['[', ']', ' ', '/', ','])
        || (host.contains(':') && host.parse::<std::net::Ipv6Addr>().is_err());
    if bad {
        Err(SpecError::InvalidHost(host.to_string()))
    } else {
        Ok(())
    }
}

impl fmt::Display for SessionSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.kind == SessionKind::WsClient {
            write!(f, "{}", self.ws_url())?;
        } else {
            write!(f, "{}:{}", self.kind.prefix(), self.address())?;
            if let Some(path) = &self.options.path {
                write!(f, "{path}")?;
            }
        }
        for word in self.options.words(self.kind) {
            write!(f, ",{word}")?;
        }
        Ok(())
    }
}

impl SessionSpec {
    /// Parses a spec like [`FromStr`], and on error also says where: the 1-based column (in
    /// characters) of the part of `text` that is wrong, for messages such as
    /// `FILE:LINE:COL` in scenario files.
    ///
    /// # Errors
    /// The [`SpecError`] and its column.
    pub fn parse_located(text: &str) -> Result<Self, (SpecError, usize)> {
        text.parse::<Self>().map_err(|error| {
            let at = error_offset(text, &error);
            let column = text.get(..at).map_or(1, |t| t.chars().count() + 1);
            (error, column)
        })
    }
}

/// The byte offset in `text` of what `error` is about.
fn error_offset(text: &str, error: &SpecError) -> usize {
    let lead = text.len() - text.trim_start().len();
    let trimmed = text.trim();
    let main_len = trimmed.find(',').unwrap_or(trimmed.len());
    let main = &trimmed[..main_len];
    // Where the address starts: after `kind:` or the URL scheme.
    let address = ["ws://", "wss://"]
        .iter()
        .find(|scheme| main.starts_with(**scheme))
        .map(|scheme| scheme.len())
        .or_else(|| main.find(':').map(|at| at + 1))
        .unwrap_or(0);
    let in_main = |needle: &str| -> Option<usize> {
        (!needle.is_empty())
            .then(|| main[address..].rfind(needle).map(|at| address + at))
            .flatten()
    };
    let in_options = |needle: &str| trimmed[main_len..].find(needle).map(|at| main_len + at);
    let port = || main.rfind(':').map_or(address, |at| at + 1);
    let at = match error {
        SpecError::UnknownKind(_) => Some(0),
        SpecError::InvalidPort(p) => in_main(p).or_else(|| Some(port())),
        SpecError::MissingHost(_) => Some(address),
        SpecError::InvalidHost(h) => in_main(h).or(Some(address)),
        SpecError::ClientPortZero => Some(port()),
        SpecError::InvalidTimeout(_) => in_options(",timeout=").map(|at| at + ",timeout=".len()),
        SpecError::InvalidHandshakeTimeout(_) => {
            in_options("handshake-timeout=").map(|at| at + "handshake-timeout=".len())
        }
        SpecError::InvalidOption { option, .. } => in_options(option),
        SpecError::NotMulticast(group) => in_main(group),
        SpecError::CertWithoutKey => in_options("cert=").or_else(|| in_options("key=")),
        SpecError::UnexpectedPath(_) => main[address..].find('/').map(|at| address + at),
        SpecError::MissingTarget(_) => Some(main_len),
        SpecError::MissingDevice => Some(address),
        SpecError::SerialTargetMisfit(_) => in_options("to=serial:"),
        SpecError::LineWithoutSerialTarget => ["baud=", "data=", "parity=", "stop=", "flow="]
            .into_iter()
            .filter_map(in_options)
            .min(),
    };
    lead + at.unwrap_or(0)
}

impl FromStr for SessionSpec {
    type Err = SpecError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let text = text.trim();
        let (main, options) = text.split_once(',').unwrap_or((text, ""));
        let (kind, rest, mut extra) = if let Some(rest) = main.strip_prefix("ws://") {
            (SessionKind::WsClient, rest, String::new())
        } else if let Some(rest) = main.strip_prefix("wss://") {
            (SessionKind::WsClient, rest, "tls".to_string())
        } else {
            let (prefix, rest) = main
                .split_once(':')
                .ok_or_else(|| SpecError::UnknownKind(main.to_string()))?;
            let kind = SessionKind::ALL
                .into_iter()
                .find(|k| k.prefix() == prefix)
                .ok_or_else(|| SpecError::UnknownKind(prefix.to_string()))?;
            (kind, rest, String::new())
        };
        if kind == SessionKind::Serial {
            // A device path has slashes and colons of its own: it is taken whole.
            return Self::serial(rest, options);
        }
        let (rest, path) = split_path(rest);
        if let Some(path) = path {
            if !kind.is_websocket() {
                return Err(SpecError::UnexpectedPath(kind.prefix()));
            }
            if path != "/" || kind == SessionKind::WsServer {
                extra = join_options(&extra, &format!("path={path}"));
            }
        }
        let (host, port) = split_host_port(rest)?;
        let host = match host {
            Some(h) => h,
            None if kind.is_server() => kind.default_host(),
            None => return Err(SpecError::MissingHost(kind.prefix())),
        };
        Self::from_form_with_options(kind, host, port, &join_options(&extra, options))
    }
}

fn join_options(a: &str, b: &str) -> String {
    match (a.is_empty(), b.is_empty()) {
        (true, _) => b.to_string(),
        (_, true) => a.to_string(),
        _ => format!("{a},{b}"),
    }
}

/// Splits `ADDRESS/PATH` at the first `/` after any `[v6]` bracket.
fn split_path(rest: &str) -> (&str, Option<&str>) {
    let search_from = rest.find(']').unwrap_or(0);
    match rest[search_from..].find('/') {
        Some(at) => {
            let at = search_from + at;
            (&rest[..at], Some(&rest[at..]))
        }
        None => (rest, None),
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

/// An option word (`reconnect`, `reconnect=5000`) as its name (trimmed) and its value, if it
/// has one: how the spec's parser reads each word of the options.
#[must_use]
pub fn option_parts(word: &str) -> (&str, Option<&str>) {
    match word.split_once('=') {
        Some((name, value)) => (name.trim(), Some(value)),
        None => (word.trim(), None),
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
            options: SpecOptions::default(),
        }
    }

    #[test]
    fn relays_parse_their_target_and_faults_and_round_trip() {
        let table = [
            (
                "relay:6001,to=127.0.0.1:7001,up.delay=100",
                "relay:0.0.0.0:6001,to=127.0.0.1:7001,up.delay=100",
            ),
            (
                "relay:[::1]:6001,to=[::1]:7001,tls,to-tls,insecure,slice=4,down.hold",
                "relay:[::1]:6001,insecure,tls,to=[::1]:7001,to-tls,slice=4,down.hold",
            ),
            (
                "udp-relay:5000,to=dev.local:5001,idle-timeout=500,down.drop-after=10",
                "udp-relay:0.0.0.0:5000,to=dev.local:5001,idle-timeout=500,down.drop-after=10",
            ),
        ];
        for (text, canonical) in table {
            let spec: SessionSpec = text.parse().expect(text);
            assert_eq!(spec.to_string(), canonical, "{text}");
            let again: SessionSpec = canonical.parse().expect(canonical);
            assert_eq!(again, spec, "{canonical}");
        }
        let spec: SessionSpec = "relay:6001,to=h:1,up.delay=100,rate=50"
            .parse()
            .expect("ok");
        assert_eq!(spec.options.faults.up.delay_ms, 100);
        assert_eq!(spec.options.faults.down.delay_ms, 0);
        assert_eq!(spec.options.faults.down.rate_bytes_per_s, Some(50));
    }

    #[test]
    fn relay_mistakes_get_the_spec_s_own_errors() {
        assert_eq!(
            "relay:6001".parse::<SessionSpec>(),
            Err(SpecError::MissingTarget("relay"))
        );
        for bad in [
            "relay:6001,to=h",
            "relay:6001,to=h:0",
            "relay:6001,to=h:1,delay=soon",
            "relay:6001,to=h:1,sideways.delay=1",
            "relay:6001,to=h:1,slice=0",
            "relay:6001,to=h:1,hold=1",
            "udp-relay:6001,to=h:1,tls",
            "tcp-server:6001,up.delay=100",
        ] {
            let error = bad.parse::<SessionSpec>().expect_err(bad);
            assert!(
                matches!(error, SpecError::InvalidOption { .. }),
                "{bad}: {error}"
            );
        }
        let error = "relay:6001,to=h:1,delay=x"
            .parse::<SessionSpec>()
            .expect_err("bad");
        assert!(error.to_string().contains("[up.|down.]delay=MS"), "{error}");
        let faults = SessionSpec::parse_faults(SessionKind::Relay, "up.delay=5, down.hold");
        assert!(faults.is_ok_and(|f| f.up.delay_ms == 5 && f.down.hold));
        assert!(SessionSpec::parse_faults(SessionKind::Relay, "to=h:1").is_err());
    }

    #[test]
    fn serial_ports_parse_their_path_and_line_settings_and_round_trip() {
        let table = [
            ("serial:/dev/ttyUSB0", "serial:/dev/ttyUSB0"),
            ("serial:COM3,baud=9600", "serial:COM3,baud=9600"),
            (
                "serial: /dev/serial/by-id/usb-FTDI_FT232R-if00-port0 ,reconnect,flow=rtscts",
                "serial:/dev/serial/by-id/usb-FTDI_FT232R-if00-port0,flow=rtscts,reconnect",
            ),
            (
                "serial:/dev/ttyS0,stop=2,parity=even,data=7,baud=57600",
                "serial:/dev/ttyS0,baud=57600,data=7,parity=even,stop=2",
            ),
            (
                r"serial:\\.\COM10,flow=xonxoff",
                r"serial:\\.\COM10,flow=xonxoff",
            ),
        ];
        for (text, canonical) in table {
            let spec: SessionSpec = text.parse().unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!(spec.kind, SessionKind::Serial);
            assert_eq!(spec.to_string(), canonical, "{text}");
            assert_eq!(canonical.parse::<SessionSpec>(), Ok(spec), "{canonical}");
        }
        let spec: SessionSpec = "serial:/dev/ttyACM0,parity=odd".parse().expect("ok");
        assert_eq!(spec.address(), "/dev/ttyACM0");
        assert_eq!(spec.options.serial_line().to_string(), "115200 8O1");
        assert!(!spec.options.reconnect);
        let form = SessionSpec::from_form_with_options(
            SessionKind::Serial,
            "/dev/ttyUSB1",
            "",
            "baud=921600",
        );
        assert_eq!(
            form.map(|s| s.to_string()).as_deref(),
            Ok("serial:/dev/ttyUSB1,baud=921600")
        );
    }

    #[test]
    fn a_relay_to_a_serial_port_takes_its_line_settings_and_nothing_it_cannot_do() {
        let text = "relay:7000,baud=9600,to=serial:/dev/ttyUSB0,parity=even";
        let spec: SessionSpec = text.parse().expect("a relay to a serial port");
        assert_eq!(
            spec.options.to,
            Some(RelayTarget::Serial {
                path: "/dev/ttyUSB0".into()
            })
        );
        assert_eq!(spec.options.serial_line().to_string(), "9600 8E1");
        let canonical = spec.to_string();
        assert_eq!(
            canonical,
            "relay:0.0.0.0:7000,to=serial:/dev/ttyUSB0,baud=9600,parity=even"
        );
        assert_eq!(canonical.parse::<SessionSpec>(), Ok(spec));
        let refused = [
            (
                "udp-relay:7000,to=serial:/dev/ttyUSB0",
                SpecError::SerialTargetMisfit("udp-relay"),
            ),
            (
                "relay:7000,to=serial:/dev/ttyUSB0,to-tls",
                SpecError::SerialTargetMisfit("relay"),
            ),
            (
                "relay:7000,to=127.0.0.1:7001,baud=9600",
                SpecError::LineWithoutSerialTarget,
            ),
        ];
        for (text, error) in refused {
            assert_eq!(text.parse::<SessionSpec>(), Err(error), "{text}");
        }
        assert!(matches!(
            "relay:7000,to=serial:".parse::<SessionSpec>(),
            Err(SpecError::InvalidOption { .. })
        ));
    }

    #[test]
    fn serial_mistakes_get_the_spec_s_own_errors() {
        assert_eq!(
            "serial:".parse::<SessionSpec>(),
            Err(SpecError::MissingDevice)
        );
        assert_eq!(
            "serial: ,baud=9600".parse::<SessionSpec>(),
            Err(SpecError::MissingDevice)
        );
        for bad in [
            "serial:/dev/ttyUSB0,baud=fast",
            "serial:/dev/ttyUSB0,baud=0",
            "serial:/dev/ttyUSB0,data=9",
            "serial:/dev/ttyUSB0,parity=mark",
            "serial:/dev/ttyUSB0,stop=1.5",
            "serial:/dev/ttyUSB0,flow=dtrdsr",
            "serial:/dev/ttyUSB0,reconnect=yes",
            "serial:/dev/ttyUSB0,timeout=100",
            "tcp-client:h:80,baud=9600",
        ] {
            let error = bad.parse::<SessionSpec>().expect_err(bad);
            assert!(
                matches!(error, SpecError::InvalidOption { .. }),
                "{bad}: {error}"
            );
        }
        let error = "serial:COM3,parity=mark"
            .parse::<SessionSpec>()
            .expect_err("bad");
        assert_eq!(
            error.to_string(),
            "invalid option 'parity=mark' for serial (accepted: baud=N, data=5|6|7|8, \
             parity=none|odd|even, stop=1|2, flow=none|rtscts|xonxoff, reconnect[=MS])"
        );
        let (_, column) = SessionSpec::parse_located("serial:COM3,parity=mark").expect_err("bad");
        assert_eq!(column, 13);
        let (_, column) = SessionSpec::parse_located("serial:").expect_err("bad");
        assert_eq!(column, 8);
    }

    #[test]
    fn connect_timeout_suffix() {
        let parsed: SessionSpec = "tcp-client:[::1]:80,timeout=250".parse().expect("valid");
        assert_eq!(parsed.options.connect_timeout_ms, Some(250));
        assert_eq!(parsed.to_string(), "tcp-client:[::1]:80,timeout=250");
        for bad in [
            "tcp-client:h:80,timeout=",
            "tcp-client:h:80,timeout=0",
            "tcp-client:h:80,timeout=-5",
            "tcp-client:h:80,timeout=99999999999999999999",
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
    fn handshake_timeout_suffix() {
        let parsed: SessionSpec = "ws://h:80/,handshake-timeout=250".parse().expect("valid");
        assert_eq!(parsed.options.handshake_timeout_ms, Some(250));
        for bad in [
            "tls-server:443,handshake-timeout=",
            "tls-server:443,handshake-timeout=0",
            "tls-client:h:443,handshake-timeout=abc",
            "ws-server:80,handshake-timeout=3600001",
        ] {
            assert!(
                matches!(
                    bad.parse::<SessionSpec>(),
                    Err(SpecError::InvalidHandshakeTimeout(_))
                ),
                "{bad}"
            );
        }
        for plain in ["tcp-server:80", "tcp-client:h:80", "udp-server:80"] {
            let bad = format!("{plain},handshake-timeout=100");
            assert!(
                matches!(
                    bad.parse::<SessionSpec>(),
                    Err(SpecError::InvalidOption { .. })
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn options_only_where_the_kind_takes_them() {
        for bad in [
            "tcp-server:0,timeout=100",
            "udp-client:h:80,timeout=100",
            "tcp-client:h:80,insecure",
            "tls-client:h:443,insecure=yes",
            "tls-client:h:443,bogus",
            "udp-group:239.1.2.3:5000,ttl=256",
            "udp-group:239.1.2.3:5000,loop=maybe",
            "ws-server:80,path=nochild",
            "ws-client:h:80,proto=a b",
            "ws-client:h:80,binary=yes",
            "tcp-client:h:80,binary",
            "tcp-server:80,half-open=yes",
            "udp-server:80,half-open",
            "ws-server:80,half-open",
            "tcp-client:h:80,max-clients=2",
            "tcp-server:80,max-peers=2",
            "udp-server:80,max-clients=2",
            "tcp-server:80,max-clients=0",
            "udp-server:80,max-peers=x",
        ] {
            let error = bad.parse::<SessionSpec>().expect_err(bad);
            assert!(
                matches!(error, SpecError::InvalidOption { .. }),
                "{bad}: {error:?}"
            );
        }
        let error = "udp-client:h:80,timeout=100"
            .parse::<SessionSpec>()
            .expect_err("udp has no timeout");
        assert_eq!(
            error.to_string(),
            "invalid option 'timeout=100' for udp-client (accepted: max-peers=N)"
        );
        assert_eq!(
            "tls-server:443,cert=a.pem".parse::<SessionSpec>(),
            Err(SpecError::CertWithoutKey)
        );
        assert_eq!(
            "udp-group:10.0.0.1:5000".parse::<SessionSpec>(),
            Err(SpecError::NotMulticast("10.0.0.1".into()))
        );
        assert_eq!(
            "tcp-server:80/x".parse::<SessionSpec>(),
            Err(SpecError::UnexpectedPath("tcp-server"))
        );
    }

    #[test]
    fn transports_parse_and_round_trip() {
        let table = [
            (
                "udp-client:255.255.255.255:9",
                "udp-client:255.255.255.255:9",
            ),
            (
                "udp-group:239.1.2.3:5000,iface=127.0.0.1,ttl=4,loop=off",
                "udp-group:239.1.2.3:5000,iface=127.0.0.1,ttl=4,loop=off",
            ),
            ("udp-group:[ff02::1234]:5000", "udp-group:[ff02::1234]:5000"),
            ("tls-server:8443", "tls-server:0.0.0.0:8443"),
            (
                "tls-server:8443,key=k.pem,cert=c.pem",
                "tls-server:0.0.0.0:8443,cert=c.pem,key=k.pem",
            ),
            (
                "tls-client:example.com:443,insecure,timeout=500",
                "tls-client:example.com:443,timeout=500,insecure",
            ),
            ("ws-server:8080/chat", "ws-server:0.0.0.0:8080/chat"),
            ("ws-server:8080", "ws-server:0.0.0.0:8080"),
            (
                "ws-server:[::1]:8080/a/b,proto=mqtt",
                "ws-server:[::1]:8080/a/b,proto=mqtt",
            ),
            ("ws://127.0.0.1:8080/chat", "ws://127.0.0.1:8080/chat"),
            ("ws-client:127.0.0.1:8080", "ws://127.0.0.1:8080/"),
            ("wss://[::1]:443/", "wss://[::1]:443/"),
            ("wss://h:443/x,ca=ca.pem", "wss://h:443/x,ca=ca.pem"),
            ("ws-server:8443/s,tls", "ws-server:0.0.0.0:8443/s,tls"),
            (
                "ws-server:80/s,binary,proto=p",
                "ws-server:0.0.0.0:80/s,proto=p,binary",
            ),
            ("ws://h:80/x,binary", "ws://h:80/x,binary"),
            (
                "tcp-server:7000,half-open",
                "tcp-server:0.0.0.0:7000,half-open",
            ),
            (
                "tcp-client:h:7000,half-open,timeout=300",
                "tcp-client:h:7000,timeout=300,half-open",
            ),
            (
                "tls-server:8443,half-open",
                "tls-server:0.0.0.0:8443,half-open",
            ),
            (
                "tls-client:h:443,half-open,insecure",
                "tls-client:h:443,insecure,half-open",
            ),
            (
                "tls-server:8443,handshake-timeout=200",
                "tls-server:0.0.0.0:8443,handshake-timeout=200",
            ),
            (
                "tls-client:h:443,handshake-timeout=200,timeout=900",
                "tls-client:h:443,timeout=900,handshake-timeout=200",
            ),
            (
                "ws-server:80/s,handshake-timeout=5,tls",
                "ws-server:0.0.0.0:80/s,tls,handshake-timeout=5",
            ),
            (
                "wss://h:443/x,handshake-timeout=5",
                "wss://h:443/x,handshake-timeout=5",
            ),
            (
                "tcp-server:7000,max-clients=2",
                "tcp-server:0.0.0.0:7000,max-clients=2",
            ),
            (
                "udp-server:7000,max-peers=50",
                "udp-server:0.0.0.0:7000,max-peers=50",
            ),
            (
                "ws-server:80/s,max-clients=3,tls",
                "ws-server:0.0.0.0:80/s,tls,max-clients=3",
            ),
        ];
        for (text, canonical) in table {
            let parsed: SessionSpec = text.parse().unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!(parsed.to_string(), canonical, "{text}");
            assert_eq!(canonical.parse::<SessionSpec>(), Ok(parsed), "{canonical}");
        }
        let wss: SessionSpec = "wss://h:443/x".parse().expect("valid");
        assert_eq!(wss.kind, SessionKind::WsClient);
        assert!(wss.options.tls);
        assert_eq!(wss.options.path.as_deref(), Some("/x"));
        assert_eq!(wss.ws_url(), "wss://h:443/x");
    }

    #[test]
    fn form_options_field() {
        let spec = SessionSpec::from_form_with_options(
            SessionKind::TlsClient,
            "device.local",
            "8883",
            " ,insecure, timeout=300 ",
        )
        .expect("valid");
        assert!(spec.options.insecure);
        assert_eq!(spec.options.connect_timeout_ms, Some(300));
        assert_eq!(spec.options_text(), "timeout=300,insecure");
        let ws: SessionSpec = "ws-server:80/chat,proto=x".parse().expect("valid");
        assert_eq!(ws.options_text(), "path=/chat,proto=x");
        assert_eq!(
            SessionSpec::from_form_with_options(
                SessionKind::WsServer,
                "0.0.0.0",
                "80",
                &ws.options_text()
            ),
            Ok(ws)
        );
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
    fn errors_know_their_column() {
        let table = [
            ("tcp-serv:6001", 1),
            ("tcp-server:70000", 12),
            ("tcp-client:6001", 12),
            ("tcp-client:host:0", 17),
            ("tcp-client:h:80,timeout=0", 25),
            ("tls-client:h:443,handshake-timeout=x", 36),
            ("tcp-client:h:80,bogus", 17),
            ("tcp-client:h:80,insecure", 17),
            ("udp-group:10.0.0.1:5000", 11),
            ("tcp-server:80/x", 14),
            ("tls-server:443,cert=a.pem", 16),
            ("  tcp-server:abc", 14),
        ];
        for (text, column) in table {
            let (error, at) = SessionSpec::parse_located(text).expect_err(text);
            assert_eq!(at, column, "{text}: {error}");
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

    /// `reconnect` alone or with how often to try, for clients and serial ports; written back
    /// as given; a value that is not a number of milliseconds in range is refused, as is the
    /// option on a kind that does not reconnect.
    #[test]
    fn reconnect_takes_an_optional_interval_and_round_trips() {
        for (text, every) in [
            ("tcp-client:example.com:80,reconnect", None),
            ("tcp-client:example.com:80,reconnect=2500", Some(2500)),
            (
                "tls-client:example.com:443,insecure,reconnect=100",
                Some(100),
            ),
            ("ws-client:example.com:80/ws,reconnect", None),
            ("serial:/dev/ttyUSB0,reconnect=1000", Some(1000)),
        ] {
            let parsed: SessionSpec = text.parse().expect(text);
            assert!(parsed.options.reconnect, "{text}");
            assert_eq!(parsed.options.reconnect_ms, every, "{text}");
            let again: SessionSpec = parsed.to_string().parse().expect("written back");
            assert_eq!(again, parsed, "{text} -> {parsed}");
        }
        assert!(
            "tcp-client:h:80,reconnect=2500"
                .parse::<SessionSpec>()
                .is_ok_and(|s| s.to_string() == "tcp-client:h:80,reconnect=2500")
        );
        for bad in [
            "tcp-client:h:80,reconnect=",
            "tcp-client:h:80,reconnect=99",
            "tcp-client:h:80,reconnect=3600001",
            "tcp-client:h:80,reconnect=1s",
            "tcp-server:80,reconnect",
            "udp-client:h:80,reconnect",
        ] {
            let error = bad.parse::<SessionSpec>().expect_err(bad);
            assert!(
                matches!(error, SpecError::InvalidOption { .. }),
                "{bad}: {error}"
            );
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
