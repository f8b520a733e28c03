//! The WebSocket server session: listens, upgrades each accepted connection (TLS first when
//! the spec says `tls`), checks the request path (another path gets HTTP 404), picks the
//! subprotocol, and lists the WebSocket as a peer of the session. Upgrades run in their own
//! tasks, bounded by `handshake-timeout=MS` (10 s by default), so a slow client never holds up the accept loop
//! (the TCP server's, shared).

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio_rustls::TlsAcceptor;
use tokio_tungstenite::tungstenite::Error as WsError;
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tokio_tungstenite::tungstenite::http::{HeaderValue, StatusCode, header};

use super::super::net::{millis, server_handshake_limit};
use super::super::registry::Registry;
use super::super::session::{Outcome, SessionCommand, SessionContext};
use super::super::tcp_server::{Admit, Handshakes, serve};
use super::super::tls;
use super::connection::{self, Io, WsStream};
use super::http;
use super::message::{config, fault};
use crate::protocol::{Note, OsError, StartFailure, Warning, WsFault, WsSubprotocol};
use crate::spec::SessionSpec;

/// A WebSocket ready to become a peer: the stream, the client's address and the notes on
/// how the upgrade went (TLS, then WebSocket).
type Upgraded = (WsStream, SocketAddr, Vec<Note>);

/// What the server checks and answers in an upgrade request.
#[derive(Clone)]
struct Rules {
    /// The only path served; `None` serves any.
    path: Option<String>,
    /// The subprotocol to accept; `None` accepts the first the client offers.
    subprotocol: Option<String>,
}

/// Runs a `ws-server` session until stopped.
pub(in crate::engine) async fn run(
    context: &SessionContext,
    spec: &SessionSpec,
    commands: mpsc::UnboundedReceiver<SessionCommand>,
    files_dir: Option<&Path>,
) -> Outcome {
    let rules = Rules {
        path: spec.options.path.clone(),
        subprotocol: spec.options.subprotocol.clone(),
    };
    let binary = spec.options.binary;
    serve(context, spec, commands, |local_addr| {
        // The acceptor comes after the bind: a generated certificate is named by the real
        // port.
        let (acceptor, message) = if spec.options.tls {
            let mut bound = spec.clone();
            bound.port = local_addr.port();
            let (acceptor, message) =
                tls::acceptor(&bound, files_dir).map_err(StartFailure::TlsSetup)?;
            (Some(acceptor), Some(message))
        } else {
            (None, None)
        };
        let upgrades = Upgrades {
            acceptor,
            rules,
            binary,
            limit: server_handshake_limit(spec),
        };
        Ok((upgrades, message))
    })
    .await
}

/// Each accepted connection is upgraded in a task of its own, bounded by `limit`; one that
/// became a WebSocket is a peer.
struct Upgrades {
    acceptor: Option<TlsAcceptor>,
    rules: Rules,
    /// Every send goes as a Binary message (the spec's `binary`).
    binary: bool,
    /// How long a client may take from its TCP connect to the end of the upgrade (TLS
    /// included): `handshake-timeout=MS`.
    limit: Duration,
}

impl Admit for Upgrades {
    type Ready = Upgraded;

    fn accepted(
        &self,
        context: &SessionContext,
        _: &mut Registry,
        (stream, addr): (TcpStream, SocketAddr),
        handshakes: Handshakes<'_, Upgraded>,
    ) {
        stream.set_nodelay(true).ok(); // only latency is at stake
        let cancel = context.cancel.clone();
        let sink = context.sink.clone();
        let id = context.id;
        let rules = self.rules.clone();
        let upgraded_tx = handshakes.ready.clone();
        let acceptor = self.acceptor.clone();
        let limit = self.limit;
        handshakes.tasks.spawn(async move {
            let upgrading = upgrade(stream, addr, acceptor, rules);
            let result = tokio::select! {
                () = cancel.cancelled() => return,
                result = tokio::time::timeout(limit, upgrading) => result,
            };
            match result {
                Ok(Ok(ready)) => {
                    upgraded_tx.send(ready).ok(); // the session is stopping
                }
                Ok(Err(Rejected::Refused(why))) => sink.note(id, None, why),
                Ok(Err(Rejected::Failed(why))) => sink.warning(id, why),
                Err(_) => sink.warning(
                    id,
                    Warning::WsUpgradeTimeout {
                        addr,
                        ms: millis(limit),
                    },
                ),
            }
        });
    }

    fn admit(&self, context: &SessionContext, registry: &mut Registry, ready: Upgraded) {
        let (ws, addr, opened) = ready;
        connection::add(registry, context, (ws, addr), opened, self.binary);
    }
}

/// What the upgrade callback saw and decided, for the note.
#[derive(Default)]
struct Seen {
    path: String,
    /// The subprotocols the client offered, in its order.
    offered: Vec<String>,
    chosen: Option<String>,
    /// Set when the request was answered with 404: the path served.
    refused: Option<String>,
}

/// The WebSocket upgrade of one accepted connection.
async fn upgrade(
    stream: TcpStream,
    addr: SocketAddr,
    acceptor: Option<TlsAcceptor>,
    rules: Rules,
) -> Result<Upgraded, Rejected> {
    let mut opened = Vec::new();
    let io: Box<dyn Io> = match acceptor {
        Some(acceptor) => match acceptor.accept(stream).await {
            Ok(stream) => {
                opened.push(tls::client_established(stream.get_ref().1));
                Box::new(stream)
            }
            Err(e) => {
                return Err(Rejected::Failed(Warning::TlsHandshakeFailed {
                    addr,
                    fault: tls::fault(&e),
                }));
            }
        },
        None => Box::new(stream),
    };
    let io = plain_http_answered(io, addr, &rules).await?;
    let mut seen = Seen::default();
    #[allow(clippy::result_large_err)] // the shape tungstenite's upgrade callback must have
    let callback =
        |request: &Request, response: Response| answer(&rules, &mut seen, request, response);
    let result =
        tokio_tungstenite::accept_hdr_async_with_config(io, callback, Some(config())).await;
    match result {
        Ok(ws) => {
            let subprotocol = match (seen.chosen, &rules.subprotocol) {
                (Some(chosen), _) => WsSubprotocol::Chosen(chosen),
                (None, Some(wanted)) if seen.offered.is_empty() => WsSubprotocol::NoneOffered {
                    wanted: wanted.clone(),
                },
                (None, Some(wanted)) => WsSubprotocol::NotOffered {
                    offered: seen.offered,
                    wanted: wanted.clone(),
                },
                (None, None) => WsSubprotocol::Nothing,
            };
            opened.push(Note::WsClientUpgraded {
                path: seen.path,
                subprotocol,
            });
            Ok((ws, addr, opened))
        }
        Err(WsError::Http(_)) => Err(Rejected::Refused(Note::WsUpgradeRefused {
            addr,
            path: seen.path,
            serves: seen.refused,
        })),
        Err(e) => Err(Rejected::Failed(Warning::WsUpgradeFailed {
            addr,
            fault: fault(&e),
        })),
    }
}

/// Why an accepted connection did not become a peer.
enum Rejected {
    /// We answered with an error status, as the rules say: a note.
    Refused(Note),
    /// The client did not speak WebSocket properly, or the connection failed: a warning.
    Failed(Warning),
}

/// Reads the request head; one that is no WebSocket upgrade is answered (426) here and
/// reported, else the stream is handed on with the head to be read again.
async fn plain_http_answered(
    mut io: Box<dyn Io>,
    addr: SocketAddr,
    rules: &Rules,
) -> Result<Box<dyn Io>, Rejected> {
    /// Most characters of a request line shown.
    const LINE_SHOWN: usize = 80;
    let head = http::read_head(&mut io).await.map_err(|e| {
        Rejected::Failed(Warning::WsUpgradeFailed {
            addr,
            fault: WsFault::Io(OsError::of(&e)),
        })
    })?;
    if head.asks_for_websocket() {
        return Ok(Box::new(http::Rewind::new(head, io)));
    }
    if head.is_tls() {
        return Err(Rejected::Failed(Warning::WsTlsWithoutTls { addr }));
    }
    let line = head.request_line();
    if line.is_empty() {
        return Err(Rejected::Failed(Warning::WsNoRequest { addr }));
    }
    let hint = rules
        .path
        .as_ref()
        .map_or_else(String::new, |path| format!(" at {path}"));
    http::answer_upgrade_required(&mut io, &hint).await.ok(); // it may be gone already
    let request_line: String = line.escape_debug().take(LINE_SHOWN).collect();
    Err(Rejected::Refused(Note::PlainHttpAnswered {
        addr,
        request_line,
    }))
}

/// Checks an upgrade request against the rules: a path that is not served gets 404, and
/// the subprotocol is chosen (the wanted one if offered; without one wanted, the client's
/// first, so any client gets in).
#[allow(clippy::result_large_err)] // the shape tungstenite's upgrade callback must have
fn answer(
    rules: &Rules,
    seen: &mut Seen,
    request: &Request,
    mut response: Response,
) -> Result<Response, ErrorResponse> {
    seen.path = request.uri().path().to_string();
    seen.offered = request
        .headers()
        .get_all(header::SEC_WEBSOCKET_PROTOCOL)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(|p| p.trim().to_string())
        .filter(|p| !p.is_empty())
        .collect();
    if let Some(served) = &rules.path
        && *served != seen.path
    {
        let body = format!(
            "no WebSocket endpoint at {}; this server serves {served}\n",
            seen.path
        );
        seen.refused = Some(served.clone());
        let mut refusal = ErrorResponse::new(Some(body));
        *refusal.status_mut() = StatusCode::NOT_FOUND;
        return Err(refusal);
    }
    seen.chosen = match &rules.subprotocol {
        Some(wanted) => seen.offered.iter().find(|p| *p == wanted).cloned(),
        None => seen.offered.first().cloned(),
    };
    if let Some(chosen) = &seen.chosen
        && let Ok(value) = HeaderValue::from_str(chosen)
    {
        response
            .headers_mut()
            .insert(header::SEC_WEBSOCKET_PROTOCOL, value);
    }
    Ok(response)
}
