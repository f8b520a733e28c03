//! The WebSocket client session (`ws://`, `wss://`): connects within the spec's timeout,
//! upgrades (TLS first for `wss`), notes the HTTP status and the subprotocol, then runs the
//! one connection until the server closes it, it fails, or the user stops the session (with
//! `reconnect`, connects again, as the TCP client does). A refused upgrade (404, 403, ...) is
//! one line naming the status.

use std::net::SocketAddr;

use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Error as WsError;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::error::{ProtocolError, SubProtocolError};
use tokio_tungstenite::tungstenite::http::{HeaderValue, header};

use super::super::net::{client_handshake_limit, millis, resolve};
use super::super::registry::Registry;
use super::super::session::{Outcome, SessionCommand, SessionContext};
use super::super::tcp_client::{Client, connect, connect_limit, run_client, serve_one};
use super::super::tls;
use super::connection::{self, Io, WsStream};
use super::message::{config, fault};
use crate::protocol::{Note, StartFailure};
use crate::spec::SessionSpec;

/// Most bytes of a refusal's body shown in its line.
const REFUSAL_BODY_SHOWN: usize = 120;

/// An open WebSocket and what the session reports about it.
pub(in crate::engine) struct Opened {
    pub(in crate::engine) ws: WsStream,
    local_addr: SocketAddr,
    peer_addr: SocketAddr,
    /// How the upgrade went: TLS, then status and subprotocol, a note each.
    notes: Vec<Note>,
}

/// Runs a `ws-client` session.
pub(in crate::engine) async fn run(
    context: &SessionContext,
    spec: &SessionSpec,
    commands: mpsc::UnboundedReceiver<SessionCommand>,
) -> Outcome {
    run_client(context, spec, commands, WsClient { spec }).await
}

/// The WebSocket client.
struct WsClient<'a> {
    spec: &'a SessionSpec,
}

impl Client for WsClient<'_> {
    type Connection = Opened;

    async fn open(&self) -> Result<Opened, StartFailure> {
        open(self.spec).await
    }

    async fn serve(
        &self,
        opened: Opened,
        context: &SessionContext,
        commands: &mut mpsc::UnboundedReceiver<SessionCommand>,
    ) -> Outcome {
        context.sink.started(context.id, opened.local_addr);
        let (mut registry, closed) = Registry::new();
        let ws = (opened.ws, opened.peer_addr);
        connection::add(
            &mut registry,
            context,
            ws,
            opened.notes,
            self.spec.options.binary,
        );
        serve_one(context, commands, registry, closed).await
    }
}

/// Connects within the spec's timeout, then upgrades within its handshake timeout (by
/// default the connect timeout again).
pub(in crate::engine) async fn open(spec: &SessionSpec) -> Result<Opened, StartFailure> {
    let url = spec.ws_url();
    let limit = connect_limit(spec);
    let addr = resolve(spec).await?;
    let stream = connect(addr, limit).await?;
    let (Ok(local_addr), Ok(peer_addr)) = (stream.local_addr(), stream.peer_addr()) else {
        return Err(StartFailure::ClosedWhileOpening);
    };
    let limit = client_handshake_limit(spec, limit);
    match tokio::time::timeout(limit, upgrade(spec, &url, stream)).await {
        Ok(Ok((ws, notes))) => Ok(Opened {
            ws,
            local_addr,
            peer_addr,
            notes,
        }),
        Ok(Err(reason)) => Err(reason),
        Err(_) => Err(StartFailure::WsUpgradeTimeout {
            url,
            ms: millis(limit),
        }),
    }
}

/// TLS (for `wss`) and the HTTP upgrade over `stream`.
async fn upgrade(
    spec: &SessionSpec,
    url: &str,
    stream: TcpStream,
) -> Result<(WsStream, Vec<Note>), StartFailure> {
    let mut notes = Vec::new();
    let io: Box<dyn Io> = if spec.options.tls {
        let (connector, name) = tls::connector(spec).map_err(StartFailure::TlsSetup)?;
        match connector.connect(name, stream).await {
            Ok(stream) => {
                notes.push(tls::established(stream.get_ref().1));
                Box::new(stream)
            }
            Err(e) => {
                return Err(StartFailure::TlsHandshake {
                    addr: spec.address(),
                    fault: tls::fault(&e),
                });
            }
        }
    } else {
        Box::new(stream)
    };
    let mut request = url
        .into_client_request()
        .map_err(|e| StartFailure::WsBadUrl {
            url: url.to_string(),
            detail: e.to_string(),
        })?;
    if let Some(proto) = &spec.options.subprotocol {
        let value = HeaderValue::from_str(proto).map_err(|_| StartFailure::WsBadSubprotocol {
            subprotocol: proto.clone(),
        })?;
        request
            .headers_mut()
            .insert(header::SEC_WEBSOCKET_PROTOCOL, value);
    }
    let result = tokio_tungstenite::client_async_with_config(request, io, Some(config())).await;
    match result {
        Ok((ws, response)) => {
            let status = response.status();
            let subprotocol = response
                .headers()
                .get(header::SEC_WEBSOCKET_PROTOCOL)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string);
            notes.push(Note::WsUpgraded {
                url: url.to_string(),
                status: status.as_u16(),
                status_text: status.canonical_reason().unwrap_or("").to_string(),
                subprotocol,
            });
            Ok((ws, notes))
        }
        Err(WsError::Http(response)) => {
            let status = response.status();
            let body = response
                .body()
                .as_deref()
                .map(String::from_utf8_lossy)
                .and_then(|b| b.lines().next().map(str::trim).map(str::to_string))
                .filter(|line| !line.is_empty())
                .map(|line| line.chars().take(REFUSAL_BODY_SHOWN).collect());
            Err(StartFailure::WsRefused {
                url: url.to_string(),
                status: status.as_u16(),
                status_text: status.canonical_reason().unwrap_or("").to_string(),
                body,
            })
        }
        Err(WsError::Protocol(ProtocolError::SecWebSocketSubProtocolError(
            SubProtocolError::NoSubProtocol,
        ))) => Err(StartFailure::WsNoSubprotocol {
            url: url.to_string(),
            asked: spec.options.subprotocol.clone().unwrap_or_default(),
        }),
        Err(e) => Err(StartFailure::WsUpgradeFailed {
            url: url.to_string(),
            fault: fault(&e),
        }),
    }
}
