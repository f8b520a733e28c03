//! One load connection, opened with the engine's own connectors (the TCP client's connect,
//! the TLS client's connect-and-handshake, the WebSocket client's connect-and-upgrade, the
//! UDP client's socket) and split into a sending and a receiving half, so `stream` mode
//! writes and reads at once. Reads go through the IO thread's shared buffer (as the
//! sessions' reads do), so 10,000 idle connections hold no read buffers. What went wrong is
//! a [`LoadErrorKind`].

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use rustls::pki_types::ServerName;
use tokio::io::{AsyncReadExt, AsyncWriteExt, ReadHalf, WriteHalf};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpStream, UdpSocket};
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::error::{Error as WsError, ProtocolError};

use crate::engine::net::read_shared;
use crate::engine::ws::{WsStream, message_for, open_client};
use crate::engine::{tcp_client, tls_client, udp};
use crate::load::LoadErrorKind;
use crate::protocol::{OsError, StartFailure};
use crate::spec::{SessionKind, SessionSpec};

/// Bytes a TLS connection reads at once (a TLS record holds at most 16 KiB).
const TLS_READ_BYTES: usize = 16 * 1024;

/// How a run reaches its target, made once for all its connections.
pub(super) struct Connector {
    spec: SessionSpec,
    /// The target, resolved once (TCP and UDP; TLS and WebSocket resolve as their sessions
    /// do).
    addr: SocketAddr,
    limit: Duration,
    tls: Option<(TlsConnector, ServerName<'static>)>,
}

/// The sending half of a connection.
pub(super) enum Tx {
    Tcp(OwnedWriteHalf),
    Tls(WriteHalf<TlsStream<TcpStream>>),
    Ws(SplitSink<WsStream, Message>, bool),
    Udp(Arc<UdpSocket>),
}

/// The receiving half of a connection.
pub(super) enum Rx {
    Tcp(OwnedReadHalf),
    Tls(ReadHalf<TlsStream<TcpStream>>, Vec<u8>),
    Ws(SplitStream<WsStream>),
    Udp(Arc<UdpSocket>),
}

impl Connector {
    /// Resolves the target and makes the TLS connector; `limit` bounds each connect unless
    /// the spec has its own `timeout=`.
    ///
    /// # Errors
    /// The [`StartFailure`] of the name or of the TLS setup.
    pub(super) async fn new(spec: &SessionSpec, limit: Duration) -> Result<Self, StartFailure> {
        let mut spec = spec.clone();
        let limit = spec
            .options
            .connect_timeout_ms
            .map_or(limit, Duration::from_millis);
        spec.options.connect_timeout_ms = Some(u64::try_from(limit.as_millis()).unwrap_or(1));
        let addr = crate::engine::net::resolve(&spec).await?;
        let tls = match spec.kind {
            SessionKind::TlsClient => {
                Some(crate::engine::tls::connector(&spec).map_err(StartFailure::TlsSetup)?)
            }
            _ => None,
        };
        Ok(Self {
            spec,
            addr,
            limit,
            tls,
        })
    }

    /// Opens one connection (TLS handshake and WebSocket upgrade included).
    ///
    /// # Errors
    /// What went wrong, by kind.
    pub(super) async fn open(&self) -> Result<(Tx, Rx), LoadErrorKind> {
        match (self.spec.kind, &self.tls) {
            (SessionKind::TlsClient, Some((connector, name))) => {
                let (stream, _, _) =
                    tls_client::open(&self.spec, connector, name.clone(), self.limit)
                        .await
                        .map_err(|f| failure_kind(&f))?;
                let (read, write) = tokio::io::split(stream);
                Ok((Tx::Tls(write), Rx::Tls(read, vec![0; TLS_READ_BYTES])))
            }
            (SessionKind::WsClient, _) => {
                let opened = open_client(&self.spec)
                    .await
                    .map_err(|f| failure_kind(&f))?;
                let (sink, stream) = opened.ws.split();
                Ok((Tx::Ws(sink, self.spec.options.binary), Rx::Ws(stream)))
            }
            (SessionKind::UdpClient, _) => {
                let socket = udp::client_socket(self.addr).map_err(|f| failure_kind(&f))?;
                socket.connect(self.addr).await.map_err(|e| io_kind(&e))?;
                let socket = Arc::new(socket);
                Ok((Tx::Udp(Arc::clone(&socket)), Rx::Udp(socket)))
            }
            _ => {
                let stream = tcp_client::connect(self.addr, self.limit)
                    .await
                    .map_err(|f| failure_kind(&f))?;
                let (read, write) = stream.into_split();
                Ok((Tx::Tcp(write), Rx::Tcp(read)))
            }
        }
    }
}

impl Tx {
    /// Sends one message (all of it).
    ///
    /// # Errors
    /// What went wrong, by kind.
    pub(super) async fn send(&mut self, data: Bytes) -> Result<(), LoadErrorKind> {
        match self {
            Tx::Tcp(write) => write.write_all(&data).await.map_err(|e| io_kind(&e)),
            Tx::Tls(write) => {
                write.write_all(&data).await.map_err(|e| io_kind(&e))?;
                write.flush().await.map_err(|e| io_kind(&e))
            }
            Tx::Ws(sink, binary) => sink
                .send(message_for(data, *binary))
                .await
                .map_err(|e| ws_kind(&e)),
            Tx::Udp(socket) => socket.send(&data).await.map(drop).map_err(|e| io_kind(&e)),
        }
    }
}

impl Rx {
    /// The next read (a datagram, a WebSocket data message); `None` when the peer closed.
    ///
    /// # Errors
    /// What went wrong, by kind.
    pub(super) async fn recv(&mut self) -> Result<Option<Bytes>, LoadErrorKind> {
        match self {
            Rx::Tcp(read) => loop {
                read.readable().await.map_err(|e| io_kind(&e))?;
                match read_shared(|buf| read.try_read(buf).map(|n| (n, ()))) {
                    Ok((bytes, ())) => return Ok((!bytes.is_empty()).then_some(bytes)),
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                    Err(e) => return Err(io_kind(&e)),
                }
            },
            Rx::Tls(read, buf) => match read.read(buf).await {
                Ok(0) => Ok(None),
                Ok(n) => Ok(Some(Bytes::copy_from_slice(&buf[..n]))),
                Err(e) => Err(io_kind(&e)),
            },
            Rx::Ws(stream) => loop {
                match stream.next().await {
                    None | Some(Ok(Message::Close(_))) => return Ok(None),
                    Some(Ok(Message::Text(text))) => return Ok(Some(Bytes::from(text))),
                    Some(Ok(Message::Binary(data))) => return Ok(Some(data)),
                    Some(Ok(_)) => {} // ping, pong: tungstenite answers pings itself
                    Some(Err(e)) => return Err(ws_kind(&e)),
                }
            },
            Rx::Udp(socket) => loop {
                socket.readable().await.map_err(|e| io_kind(&e))?;
                match read_shared(|buf| socket.try_recv(buf).map(|n| (n, ()))) {
                    Ok((bytes, ())) => return Ok(Some(bytes)),
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                    Err(e) => return Err(io_kind(&e)),
                }
            },
        }
    }
}

/// The kind of a failed connect, handshake or upgrade.
pub(super) fn failure_kind(failure: &StartFailure) -> LoadErrorKind {
    match failure {
        StartFailure::Connect { cause, .. } | StartFailure::Unreachable { cause, .. } => {
            os_kind(cause)
        }
        StartFailure::ConnectTimeout { .. }
        | StartFailure::TlsHandshakeTimeout { .. }
        | StartFailure::WsUpgradeTimeout { .. } => LoadErrorKind::Timeout,
        StartFailure::TlsSetup(_)
        | StartFailure::TlsHandshake { .. }
        | StartFailure::WsBadUrl { .. }
        | StartFailure::WsBadSubprotocol { .. }
        | StartFailure::WsRefused { .. }
        | StartFailure::WsNoSubprotocol { .. }
        | StartFailure::WsUpgradeFailed { .. } => LoadErrorKind::Handshake,
        StartFailure::ClosedWhileOpening => LoadErrorKind::Closed,
        _ => LoadErrorKind::Other,
    }
}

fn os_kind(cause: &OsError) -> LoadErrorKind {
    match cause {
        OsError::ConnectionRefused => LoadErrorKind::Refused,
        OsError::ConnectionReset | OsError::ConnectionAborted | OsError::BrokenPipe => {
            LoadErrorKind::Reset
        }
        OsError::TimedOut => LoadErrorKind::Timeout,
        _ => LoadErrorKind::Other,
    }
}

fn io_kind(error: &io::Error) -> LoadErrorKind {
    if error.kind() == io::ErrorKind::UnexpectedEof {
        return LoadErrorKind::Closed;
    }
    os_kind(&OsError::of(error))
}

fn ws_kind(error: &WsError) -> LoadErrorKind {
    match error {
        WsError::ConnectionClosed | WsError::AlreadyClosed => LoadErrorKind::Closed,
        WsError::Io(e) => io_kind(e),
        WsError::Protocol(ProtocolError::ResetWithoutClosingHandshake) => LoadErrorKind::Reset,
        _ => LoadErrorKind::Other,
    }
}
