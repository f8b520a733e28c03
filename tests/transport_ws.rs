//! Engine tests for the WebSocket sessions over real loopback sockets, driven only through
//! `Command`/`Event`, against WebSocket peers written here with tokio-tungstenite: our
//! ws-server with test clients (text and binary byte-exact both ways, ping answered and
//! noted, close codes, wrong path refused with 404, subprotocol, per-peer sends,
//! disconnect, stop, the 16 MiB limit, periodic sends), our ws-client with test servers
//! (the same, plus a refused upgrade, `binary`, an upgrade that never comes), and the
//! headless binary printing messages as jsonl. Every wait has a deadline.

// The test servers' upgrade callbacks have the shape tungstenite gives them.
#![allow(clippy::result_large_err)]

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use common::{DEADLINE, Engine, QUIET};
use futures_util::{SinkExt, StreamExt};
use sockdbg::protocol::{
    Command, Direction, Event, JobId, JobOutcome, PeerId, SendTarget, SessionId, Warning,
};
use tokio::net::{TcpListener, TcpStream};
use tokio::runtime::Runtime;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::handshake::client::Response as ClientResponse;
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tokio_tungstenite::tungstenite::http::{HeaderValue, StatusCode, header};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::protocol::frame::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};

const SERVER: SessionId = SessionId(1);
const CLIENT: SessionId = SessionId(2);

/// The biggest message the sessions take (16 MiB).
const LIMIT: usize = 16 * 1024 * 1024;

type Ws = WebSocketStream<TcpStream>;

fn runtime() -> Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("test runtime")
}

/// A test-side WebSocket, driven from the (blocking) test thread.
struct Peer<'a> {
    rt: &'a Runtime,
    ws: Ws,
    local_addr: SocketAddr,
}

impl Peer<'_> {
    fn send(&mut self, message: Message) {
        self.rt
            .block_on(async { tokio::time::timeout(DEADLINE, self.ws.send(message)).await })
            .expect("send in time")
            .expect("send works");
    }

    /// The next message, within [`DEADLINE`]; `None` when the connection ended.
    fn next(&mut self) -> Option<Message> {
        match self
            .rt
            .block_on(async { tokio::time::timeout(DEADLINE, self.ws.next()).await })
            .expect("a message or the end in time")
        {
            Some(Ok(message)) => Some(message),
            Some(Err(e)) => panic!("read failed: {e}"),
            None => None,
        }
    }

    /// Asserts nothing arrives within [`QUIET`].
    fn silent(&mut self) {
        if let Ok(next) = self
            .rt
            .block_on(async { tokio::time::timeout(QUIET, self.ws.next()).await })
        {
            panic!("expected silence, got {next:?}");
        }
    }
}

/// Connects a test client to `ws://addr{path}`, offering `protocols`.
fn client<'a>(
    rt: &'a Runtime,
    addr: SocketAddr,
    path: &str,
    protocols: Option<&str>,
) -> Result<(Peer<'a>, ClientResponse), WsError> {
    rt.block_on(async {
        let stream = TcpStream::connect(addr).await.expect("connect");
        let local_addr = stream.local_addr().expect("local addr");
        let mut request = format!("ws://{addr}{path}")
            .into_client_request()
            .expect("request");
        if let Some(protocols) = protocols {
            request.headers_mut().insert(
                header::SEC_WEBSOCKET_PROTOCOL,
                HeaderValue::from_str(protocols).expect("header"),
            );
        }
        let config = WebSocketConfig::default()
            .max_message_size(None)
            .max_frame_size(None);
        let (ws, response) = tokio::time::timeout(
            DEADLINE,
            tokio_tungstenite::client_async_with_config(request, stream, Some(config)),
        )
        .await
        .expect("upgrade in time")?;
        Ok((Peer { rt, ws, local_addr }, response))
    })
}

fn text(message: Option<Message>) -> String {
    match message {
        Some(Message::Text(text)) => text.as_str().to_string(),
        other => panic!("expected a text message, got {other:?}"),
    }
}

fn binary(message: Option<Message>) -> Bytes {
    match message {
        Some(Message::Binary(data)) => data,
        other => panic!("expected a binary message, got {other:?}"),
    }
}

fn close_code(message: Option<Message>) -> (u16, String) {
    match message {
        Some(Message::Close(Some(frame))) => {
            (u16::from(frame.code), frame.reason.as_str().to_string())
        }
        other => panic!("expected a close frame, got {other:?}"),
    }
}

#[test]
fn server_exchanges_text_and_binary_answers_ping_and_shows_the_close_code() {
    let rt = runtime();
    let mut engine = Engine::spawn();
    engine.start(SERVER, "ws-server:127.0.0.1:0/chat,proto=chat");
    let addr = engine.started(SERVER);

    let (mut peer, response) = client(&rt, addr, "/chat", Some("other, chat")).expect("upgrade");
    assert_eq!(response.status(), StatusCode::SWITCHING_PROTOCOLS);
    assert_eq!(
        response
            .headers()
            .get(header::SEC_WEBSOCKET_PROTOCOL)
            .map(|v| v.as_bytes()),
        Some(&b"chat"[..])
    );
    let id = engine.peer_connected(SERVER, peer.local_addr);
    let opened = engine.note_with(SERVER, "connected to /chat").1;
    assert!(opened.contains("subprotocol chat"), "{opened}");

    // In: one message, one entry, its payload exactly (text and binary alike).
    peer.send(Message::text("héllo 中文"));
    assert_eq!(
        engine.traffic(SERVER, id, Direction::Rx),
        "héllo 中文".as_bytes()
    );
    peer.send(Message::binary(vec![0u8, 0xff, 0x80, 0x0a]));
    assert_eq!(
        engine.traffic(SERVER, id, Direction::Rx),
        &[0u8, 0xff, 0x80, 0x0a][..]
    );
    peer.send(Message::text(""));
    assert_eq!(engine.traffic(SERVER, id, Direction::Rx), &b""[..]);

    // Out: valid UTF-8 as text, anything else as binary; a Tx entry each.
    engine.send_bytes(SERVER, SendTarget::Peer(id), "hi 中文".as_bytes());
    assert_eq!(text(peer.next()), "hi 中文");
    assert_eq!(
        engine.traffic(SERVER, id, Direction::Tx),
        "hi 中文".as_bytes()
    );
    engine.send_bytes(SERVER, SendTarget::All, b"\xff\x00bin");
    assert_eq!(binary(peer.next()), &b"\xff\x00bin"[..]);
    assert_eq!(
        engine.traffic(SERVER, id, Direction::Tx),
        &b"\xff\x00bin"[..]
    );

    // Ping: answered with the same payload, and noted.
    peer.send(Message::Ping(Bytes::from_static(b"abc")));
    match peer.next() {
        Some(Message::Pong(payload)) => assert_eq!(payload, &b"abc"[..]),
        other => panic!("expected a pong, got {other:?}"),
    }
    engine.note_with(SERVER, "ping (3 bytes), answered with pong");

    // The client's close: code and reason shown, answered, the peer gone.
    peer.send(Message::Close(Some(CloseFrame {
        code: CloseCode::Away,
        reason: "bye".into(),
    })));
    assert_eq!(close_code(peer.next()), (1001, "bye".to_string()));
    assert!(peer.next().is_none(), "the server ends the connection");
    engine.note_with(SERVER, "peer closed: 1001 going away (\"bye\")");
    let reason = engine.peer_disconnected(SERVER, id);
    assert_eq!(reason, "closed by peer: 1001 going away (\"bye\")");

    engine.stop(SERVER);
    assert_eq!(engine.stopped(SERVER), None);
}

#[test]
fn server_refuses_another_path_with_404_and_takes_any_path_without_one() {
    let rt = runtime();
    let mut engine = Engine::spawn();
    engine.start(SERVER, "ws-server:127.0.0.1:0/chat");
    let addr = engine.started(SERVER);
    match client(&rt, addr, "/nope", None) {
        Err(WsError::Http(response)) => assert_eq!(response.status(), StatusCode::NOT_FOUND),
        Err(e) => panic!("expected HTTP 404, got {e}"),
        Ok(_) => panic!("expected HTTP 404, the upgrade worked"),
    }
    let refused = engine.note_with(SERVER, "refused a WebSocket upgrade").1;
    assert!(
        refused.contains("/nope") && refused.contains("404") && refused.contains("/chat"),
        "{refused}"
    );
    engine.assert_no("a peer for the refused client", QUIET, |e| {
        matches!(e, Event::PeerConnected { .. })
    });

    // Without a path (nor proto) any path is served, and the client's first subprotocol taken.
    engine.start(CLIENT, "ws-server:127.0.0.1:0");
    let any = engine.started(CLIENT);
    let (peer, response) =
        client(&rt, any, "/whatever?x=1", Some("first, second")).expect("upgrade");
    assert_eq!(
        response
            .headers()
            .get(header::SEC_WEBSOCKET_PROTOCOL)
            .map(|v| v.as_bytes()),
        Some(&b"first"[..])
    );
    engine.peer_connected(CLIENT, peer.local_addr);
    engine.note_with(CLIENT, "connected to /whatever, subprotocol first");
}

#[test]
fn server_sends_per_peer_disconnects_with_close_1000_and_stop_closes_all() {
    let rt = runtime();
    let mut engine = Engine::spawn();
    engine.start(SERVER, "ws-server:127.0.0.1:0");
    let addr = engine.started(SERVER);
    let (mut a, _) = client(&rt, addr, "/", None).expect("a upgrades");
    let peer_a = engine.peer_connected(SERVER, a.local_addr);
    let (mut b, _) = client(&rt, addr, "/", None).expect("b upgrades");
    let peer_b = engine.peer_connected(SERVER, b.local_addr);

    engine.send_bytes(SERVER, SendTarget::Peer(peer_b), b"only b");
    assert_eq!(text(b.next()), "only b");
    a.silent();
    engine.send_bytes(SERVER, SendTarget::All, b"to all");
    assert_eq!(text(a.next()), "to all");
    assert_eq!(text(b.next()), "to all");
    a.send(Message::text("from a"));
    b.send(Message::text("from b"));
    assert_eq!(
        engine.traffic(SERVER, peer_a, Direction::Rx),
        &b"from a"[..]
    );
    assert_eq!(
        engine.traffic(SERVER, peer_b, Direction::Rx),
        &b"from b"[..]
    );

    // Disconnect: a close 1000 goes out, the client's answer is noted.
    engine.send(Command::DisconnectPeer {
        id: SERVER,
        peer: peer_a,
    });
    assert_eq!(close_code(a.next()).0, 1000);
    // tokio-tungstenite answers the close when it is read, and the server then ends.
    assert!(a.next().is_none());
    assert_eq!(
        engine.peer_disconnected(SERVER, peer_a),
        "disconnected by user"
    );
    engine.note_with(SERVER, "sent close: 1000 normal (disconnected by user)");
    engine.note_with(SERVER, "peer answered close: 1000 normal");
    engine.send_bytes(SERVER, SendTarget::Peer(peer_a), b"late");
    assert!(engine.warning(SERVER).contains("no longer connected"));

    // Stop: the remaining client gets a close 1000 too.
    engine.stop(SERVER);
    assert_eq!(close_code(b.next()).0, 1000);
    assert!(b.next().is_none());
    assert_eq!(engine.peer_disconnected(SERVER, peer_b), "session stopped");
    assert_eq!(engine.stopped(SERVER), None);
}

#[test]
fn server_takes_a_16_mib_message_and_reports_a_bigger_one() {
    let rt = runtime();
    let mut engine = Engine::spawn();
    engine.start(SERVER, "ws-server:127.0.0.1:0");
    let addr = engine.started(SERVER);
    let (mut peer, _) = client(&rt, addr, "/", None).expect("upgrade");
    let id = engine.peer_connected(SERVER, peer.local_addr);

    let big: Vec<u8> = (0..LIMIT).map(|i| (i % 251) as u8).collect();
    peer.send(Message::binary(big.clone()));
    let got = engine.traffic(SERVER, id, Direction::Rx);
    assert!(
        got == big,
        "16 MiB arrive as one exact entry ({} bytes)",
        got.len()
    );

    // The session gives up as soon as the header says too big, so the test's own write
    // may be cut short by the reset; only the report matters here.
    let too_big = Message::binary(vec![7u8; LIMIT + 1]);
    rt.block_on(async { tokio::time::timeout(DEADLINE, peer.ws.send(too_big)).await })
        .expect("the write ends in time")
        .ok();
    let reason = engine.peer_disconnected(SERVER, id);
    assert!(reason.contains("larger than the limit"), "{reason}");
}

#[test]
fn periodic_sends_go_as_one_message_each() {
    let rt = runtime();
    let mut engine = Engine::spawn();
    engine.start(SERVER, "ws-server:127.0.0.1:0");
    let addr = engine.started(SERVER);
    let (mut peer, _) = client(&rt, addr, "/", None).expect("upgrade");
    engine.peer_connected(SERVER, peer.local_addr);
    let job = JobId(3);
    engine.send(Command::StartPeriodic {
        id: SERVER,
        job,
        target: SendTarget::All,
        payload: Bytes::from_static(b"tick").into(),
        interval_ms: 5,
        count: Some(5),
    });
    for _ in 0..5 {
        assert_eq!(text(peer.next()), "tick");
    }
    match engine.wait_for("JobEnded", |e| matches!(e, Event::JobEnded { .. })) {
        Event::JobEnded { done, outcome, .. } => {
            assert_eq!((done, outcome), (5, JobOutcome::Completed));
        }
        _ => unreachable!("matched JobEnded"),
    }
    peer.silent();
}

/// A one-connection test server: accepts, answers the upgrade with `answer`, returns the
/// WebSocket (or the handshake's error).
fn serve_one<F>(
    rt: &Runtime,
    answer: F,
) -> (SocketAddr, tokio::task::JoinHandle<Result<Ws, WsError>>)
where
    F: FnOnce(&Request, Response) -> Result<Response, ErrorResponse> + Send + Unpin + 'static,
{
    let listener = rt.block_on(TcpListener::bind("127.0.0.1:0")).expect("bind");
    let addr = listener.local_addr().expect("addr");
    let task = rt.spawn(async move {
        let (stream, _) = tokio::time::timeout(DEADLINE, listener.accept())
            .await
            .expect("a connection in time")
            .expect("accept");
        let config = WebSocketConfig::default()
            .max_message_size(None)
            .max_frame_size(None);
        tokio_tungstenite::accept_hdr_async_with_config(stream, answer, Some(config)).await
    });
    (addr, task)
}

fn served<'a>(rt: &'a Runtime, task: tokio::task::JoinHandle<Result<Ws, WsError>>) -> Peer<'a> {
    let ws = rt
        .block_on(async { tokio::time::timeout(DEADLINE, task).await })
        .expect("upgrade in time")
        .expect("server task")
        .expect("upgrade works");
    let local_addr = ws.get_ref().local_addr().expect("addr");
    Peer { rt, ws, local_addr }
}

#[test]
fn client_exchanges_messages_notes_ping_and_ends_on_the_servers_close() {
    let rt = runtime();
    let (addr, task) = serve_one(&rt, |request: &Request, mut response: Response| {
        assert_eq!(request.uri().path(), "/x");
        let offered = request
            .headers()
            .get(header::SEC_WEBSOCKET_PROTOCOL)
            .map(|v| v.as_bytes().to_vec());
        assert_eq!(offered.as_deref(), Some(&b"chat"[..]));
        response.headers_mut().insert(
            header::SEC_WEBSOCKET_PROTOCOL,
            HeaderValue::from_static("chat"),
        );
        Ok(response)
    });
    let mut engine = Engine::spawn();
    engine.start(CLIENT, &format!("ws://{addr}/x,proto=chat"));
    let mut server = served(&rt, task);
    engine.started(CLIENT);
    let (id, peer_addr) = engine.any_peer(CLIENT);
    assert_eq!(peer_addr, server.local_addr);
    let opened = engine.note_with(CLIENT, "HTTP 101").1;
    assert!(
        opened.contains("Switching Protocols") && opened.contains("subprotocol chat"),
        "{opened}"
    );

    server.send(Message::text("hello"));
    assert_eq!(engine.traffic(CLIENT, id, Direction::Rx), &b"hello"[..]);
    server.send(Message::binary(vec![0u8, 1, 0xfe]));
    assert_eq!(
        engine.traffic(CLIENT, id, Direction::Rx),
        &[0u8, 1, 0xfe][..]
    );
    engine.send_bytes(CLIENT, SendTarget::All, b"text out");
    assert_eq!(text(server.next()), "text out");
    engine.send_bytes(CLIENT, SendTarget::All, b"\x00\x9f");
    assert_eq!(binary(server.next()), &b"\x00\x9f"[..]);
    assert_eq!(engine.traffic(CLIENT, id, Direction::Tx), &b"text out"[..]);
    assert_eq!(engine.traffic(CLIENT, id, Direction::Tx), &b"\x00\x9f"[..]);

    server.send(Message::Ping(Bytes::from_static(b"12345")));
    match server.next() {
        Some(Message::Pong(payload)) => assert_eq!(payload, &b"12345"[..]),
        other => panic!("expected a pong, got {other:?}"),
    }
    engine.note_with(CLIENT, "ping (5 bytes), answered with pong");
    server.send(Message::Pong(Bytes::from_static(b"x")));
    engine.note_with(CLIENT, "pong (1 bytes)");

    server.send(Message::Close(Some(CloseFrame {
        code: CloseCode::Normal,
        reason: "".into(),
    })));
    assert_eq!(close_code(server.next()).0, 1000);
    drop(server); // the server ends the TCP connection after the handshake
    engine.note_with(CLIENT, "peer closed: 1000 normal");
    assert_eq!(
        engine.stopped(CLIENT).as_deref(),
        Some("closed by peer: 1000 normal")
    );
}

#[test]
fn client_stop_sends_close_1000_and_binary_forces_binary_messages() {
    let rt = runtime();
    let (addr, task) = serve_one(&rt, |_: &Request, response: Response| Ok(response));
    let mut engine = Engine::spawn();
    engine.start(CLIENT, &format!("ws://{addr}/,binary"));
    let mut server = served(&rt, task);
    engine.started(CLIENT);
    let (id, _) = engine.any_peer(CLIENT);
    engine.note_with(CLIENT, "no subprotocol");
    engine.send_bytes(CLIENT, SendTarget::All, b"plain text");
    assert_eq!(binary(server.next()), &b"plain text"[..]);
    assert_eq!(
        engine.traffic(CLIENT, id, Direction::Tx),
        &b"plain text"[..]
    );

    engine.stop(CLIENT);
    assert_eq!(close_code(server.next()).0, 1000);
    // tokio-tungstenite answered while reading; the client closes the TCP connection then.
    assert!(server.next().is_none());
    engine.note_with(CLIENT, "sent close: 1000 normal (session stopped)");
    engine.note_with(CLIENT, "peer answered close: 1000 normal");
    assert_eq!(engine.stopped(CLIENT), None);
}

#[test]
fn client_reports_a_refused_upgrade_and_an_upgrade_that_never_comes() {
    let rt = runtime();
    let (addr, task) = serve_one(&rt, |_: &Request, _: Response| {
        let mut refusal = ErrorResponse::new(Some("go away\n".to_string()));
        *refusal.status_mut() = StatusCode::FORBIDDEN;
        Err(refusal)
    });
    let mut engine = Engine::spawn();
    engine.start(CLIENT, &format!("ws://{addr}/secret"));
    let reason = engine.start_failed(CLIENT);
    assert_eq!(
        reason,
        format!("WebSocket upgrade refused by ws://{addr}/secret: HTTP 403 Forbidden: go away")
    );
    rt.block_on(task)
        .expect("server task")
        .expect_err("refused");

    // A server that accepts the connection and never answers the upgrade.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let silent = listener.local_addr().expect("addr");
    engine.start(CLIENT, &format!("ws://{silent}/,timeout=300"));
    let reason = engine.start_failed(CLIENT);
    assert!(reason.contains("timed out after 300 ms"), "{reason}");
    drop(listener);
}

#[test]
fn client_asking_a_subprotocol_the_server_does_not_give_fails_in_one_line() {
    let rt = runtime();
    let (addr, task) = serve_one(&rt, |_: &Request, response: Response| Ok(response));
    let mut engine = Engine::spawn();
    engine.start(CLIENT, &format!("ws://{addr}/,proto=mqtt"));
    let reason = engine.start_failed(CLIENT);
    assert!(
        reason.contains("accepted no subprotocol (asked for mqtt)"),
        "{reason}"
    );
    drop(task);
}

#[test]
fn headless_prints_websocket_messages_as_jsonl() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command as Process, Stdio};

    let rt = runtime();
    let (addr, task) = serve_one(&rt, |_: &Request, response: Response| Ok(response));
    let spec = format!("ws://{addr}/x");
    let mut child = Process::new(env!("CARGO_BIN_EXE_sockdbg"))
        .args(["--headless", &spec, "--format", "jsonl", "--send", "hi"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start sockdbg");
    let mut server = served(&rt, task);
    assert_eq!(text(server.next()), "hi");
    server.send(Message::binary(vec![0u8, 0xff]));
    server.send(Message::text("bye"));
    server.send(Message::Close(None));
    assert!(matches!(server.next(), Some(Message::Close(_))));
    drop(server);

    let stdout = child.stdout.take().expect("stdout");
    let (tx, lines) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut records: Vec<serde_json::Value> = Vec::new();
    while let Ok(line) = lines.recv_timeout(Duration::from_secs(10)) {
        records.push(serde_json::from_str(&line).expect("jsonl"));
        let ended = records
            .iter()
            .any(|r| r["event"] == "disconnected" || r["event"] == "stopped");
        if ended {
            break;
        }
    }
    child.kill().ok();
    child.wait().ok();
    let traffic: Vec<(String, String)> = records
        .iter()
        .filter(|r| r["dir"] == "rx" || r["dir"] == "tx")
        .map(|r| {
            (
                r["dir"].as_str().unwrap_or("").to_string(),
                r["hex"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    assert_eq!(
        traffic,
        [
            ("tx".to_string(), "6869".to_string()),
            ("rx".to_string(), "00ff".to_string()),
            ("rx".to_string(), "627965".to_string()),
        ],
        "{records:#?}"
    );
}

/// Waits for the `PeerConnected` of session `id` and returns the peer.
fn peer_of(engine: &mut Engine, id: SessionId) -> PeerId {
    engine.any_peer(id).0
}

#[test]
fn wss_both_ways_with_a_generated_certificate() {
    const SECOND: SessionId = SessionId(3);
    const STRICT: SessionId = SessionId(4);
    let mut engine = Engine::spawn();
    engine.start(SERVER, "ws-server:127.0.0.1:0/s,tls,proto=p");
    let addr = engine.started(SERVER);
    let generated = engine
        .note_with(SERVER, "generated a self-signed certificate")
        .1;
    let pem = common::tls::pem_path(&generated).display().to_string();

    // insecure: any certificate is accepted.
    engine.start(CLIENT, &format!("wss://{addr}/s,insecure,proto=p"));
    engine.started(CLIENT);
    let client_peer = peer_of(&mut engine, CLIENT);
    let server_peer = peer_of(&mut engine, SERVER);
    engine.note_with(CLIENT, "TLS established");
    let opened = engine.note_with(CLIENT, "HTTP 101").1;
    assert!(
        opened.starts_with(&format!("WebSocket wss://{addr}/s")),
        "{opened}"
    );
    assert!(opened.contains("subprotocol p"), "{opened}");
    // The server's line is about the client (its SNI), not "no peer certificate".
    let tls_line = engine.note_with(SERVER, "TLS established").1;
    assert!(
        tls_line.contains("the client sent no server name (SNI)"),
        "{tls_line}"
    );
    assert!(!tls_line.contains("no peer certificate"), "{tls_line}");
    engine.note_with(SERVER, "connected to /s, subprotocol p");

    engine.send_bytes(CLIENT, SendTarget::All, "über TLS".as_bytes());
    assert_eq!(
        engine.traffic(SERVER, server_peer, Direction::Rx),
        "über TLS".as_bytes()
    );
    engine.send_bytes(SERVER, SendTarget::Peer(server_peer), b"\x00\x01\xff");
    assert_eq!(
        engine.traffic(CLIENT, client_peer, Direction::Rx),
        &b"\x00\x01\xff"[..]
    );

    // ca=the generated PEM: verified for real.
    engine.start(SECOND, &format!("wss://{addr}/s,ca={pem}"));
    engine.started(SECOND);
    peer_of(&mut engine, SECOND);

    // Another server's certificate as ca: not trusted, in one line with the way out.
    const OTHER: SessionId = SessionId(5);
    engine.start(OTHER, "ws-server:127.0.0.1:0,tls");
    engine.started(OTHER);
    let other = engine
        .note_with(OTHER, "generated a self-signed certificate")
        .1;
    let other_pem = common::tls::pem_path(&other).display().to_string();
    engine.start(STRICT, &format!("wss://{addr}/s,ca={other_pem}"));
    let reason = engine.start_failed(STRICT);
    assert!(reason.starts_with("TLS handshake with"), "{reason}");
    assert!(
        !reason.contains('\n') && reason.contains("insecure"),
        "{reason}"
    );

    // Stopping the server closes both clients with 1000; they end with that reason.
    engine.stop(SERVER);
    assert_eq!(engine.stopped(SERVER), None);
    let ended = engine.stopped(CLIENT).unwrap_or_default();
    assert_eq!(ended, "closed by peer: 1000 normal");
    let ended = engine.stopped(SECOND).unwrap_or_default();
    assert_eq!(ended, "closed by peer: 1000 normal");
}

#[test]
fn a_file_goes_as_64_kib_messages_and_a_peer_that_does_not_read_gets_sends_refused() {
    let rt = runtime();
    let mut engine = Engine::spawn();
    engine.start(SERVER, "ws-server:127.0.0.1:0,binary");
    let addr = engine.started(SERVER);
    let (mut peer, _) = client(&rt, addr, "/", None).expect("upgrade");
    let id = engine.peer_connected(SERVER, peer.local_addr);

    let size = 200 * 1024 + 17;
    let content: Vec<u8> = (0..size).map(|i| (i * 7 % 256) as u8).collect();
    let dir = common::temp_dir("ws-file");
    let path = dir.path().join("payload.bin");
    std::fs::write(&path, &content).expect("write the test file");
    let job = JobId(9);
    engine.send(Command::SendFile {
        id: SERVER,
        job,
        target: SendTarget::All,
        path: path.clone(),
    });
    let mut received = Vec::new();
    let mut messages = 0;
    while received.len() < size {
        received.extend_from_slice(&binary(peer.next()));
        messages += 1;
    }
    assert!(received == content, "the file arrives byte for byte");
    assert_eq!(messages, 4, "64 KiB per message");
    match engine.wait_for("JobEnded", |e| matches!(e, Event::JobEnded { .. })) {
        Event::JobEnded { done, outcome, .. } => {
            assert_eq!((done, outcome), (size as u64, JobOutcome::Completed));
        }
        _ => unreachable!("matched JobEnded"),
    }

    // The client stops reading: after a few MiB queue up, a plain send is refused.
    let chunk = vec![b'x'; 1024 * 1024];
    let mut refused = None;
    for _ in 0..64 {
        engine.send_bytes(SERVER, SendTarget::Peer(id), &chunk);
        engine.collect_for(Duration::from_millis(20));
        refused = engine.history().iter().find_map(|e| match e {
            Event::Warning {
                warning: warning @ Warning::QueueFull { .. },
                ..
            } => Some(warning.to_string()),
            _ => None,
        });
        if refused.is_some() {
            break;
        }
    }
    let refused = refused.expect("a send is refused once the queue is full");
    assert!(
        refused.contains("client #1") && refused.contains("not reading"),
        "{refused}"
    );
}

#[test]
fn a_vanished_client_a_plain_http_request_and_tls_to_a_plain_server_are_told_apart() {
    let rt = runtime();
    let mut engine = Engine::spawn();
    engine.start(SERVER, "ws-server:127.0.0.1:0");
    let addr = engine.started(SERVER);
    let (peer, _) = client(&rt, addr, "/", None).expect("upgrade");
    let id = engine.peer_connected(SERVER, peer.local_addr);
    drop(peer); // the TCP connection closes, no close frame first
    assert_eq!(
        engine.peer_disconnected(SERVER, id),
        "connection closed without a close frame"
    );
    // A plain HTTP request is no WebSocket upgrade: answered with 426, one note, no peer.
    let mut http = common::tcp_connect(addr);
    std::io::Write::write_all(&mut http, b"GET /page HTTP/1.1\r\nHost: x\r\n\r\n").expect("write");
    let mut answer = String::new();
    std::io::Read::read_to_string(&mut http, &mut answer).expect("an answer, then the end");
    assert!(
        answer.starts_with("HTTP/1.1 426 Upgrade Required\r\n"),
        "{answer}"
    );
    assert!(answer.contains("WebSocket endpoint"), "{answer}");
    let noted = engine.note_with(SERVER, "answered a plain HTTP request").1;
    assert!(noted.contains("(GET /page HTTP/1.1) with 426"), "{noted}");

    // TLS to a server without tls: said so.
    let mut tls = common::tcp_connect(addr);
    std::io::Write::write_all(&mut tls, b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03")
        .expect("write");
    let warning = engine.warning(SERVER);
    assert!(
        warning.contains("speaks TLS but this server has no tls option"),
        "{warning}"
    );
    engine.assert_no("a peer", QUIET, |e| {
        matches!(e, Event::PeerConnected { .. })
    });
}

#[test]
fn on_connect_and_auto_reply_go_as_messages() {
    use sockdbg::codec::reply::{MatchKind, ReplyRule};
    use sockdbg::protocol::Reactions;

    let rt = runtime();
    let mut engine = Engine::spawn();
    let reactions = Reactions {
        on_connect: Some(Bytes::from_static(b"welcome")),
        rules: vec![ReplyRule {
            match_kind: MatchKind::Exact,
            pattern: "ping".into(),
            reply: "pong".into(),
            ..ReplyRule::default()
        }],
        echo: false,
    };
    engine.send(Command::SetReactions {
        id: SERVER,
        reactions,
    });
    engine.start(SERVER, "ws-server:127.0.0.1:0");
    let addr = engine.started(SERVER);
    let (mut peer, _) = client(&rt, addr, "/", None).expect("upgrade");
    assert_eq!(text(peer.next()), "welcome");
    peer.send(Message::text("ping"));
    assert_eq!(text(peer.next()), "pong");
    engine.note_with(SERVER, "auto-reply rule 1");
}
