//! Engine tests for the TLS session kinds over real loopback sockets, driven only through
//! `Command`/`Event`: a server with a generated certificate and an `insecure` client moving
//! bytes both ways (1 MiB included), trust through `ca=` the server's written PEM and its
//! refusal without it, a server with certificate and key files, a name mismatch, a CA
//! certificate used as a server's, an expired certificate, IPv6, plain TCP clients and
//! servers on the wrong side of a TLS session, close_notify versus an abrupt close as the
//! server reports them, and `half-open` sessions sending after the peer's close_notify.

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use common::tls::{handshaken, pem_path, rustls_client};
use common::{Engine, accept, tcp_connect};
use rustls::pki_types::pem::PemObject;
use sockdbg::protocol::{Direction, Event, PeerId, SendTarget, SessionId};

const SERVER: SessionId = SessionId(1);
const CLIENT: SessionId = SessionId(2);
const OTHER_CLIENT: SessionId = SessionId(3);

/// Starts a TLS server with a generated certificate on 127.0.0.1: its address and the path
/// of the PEM the note says it wrote.
fn start_generated_server(engine: &mut Engine) -> (SocketAddr, Scratch) {
    engine.start(SERVER, "tls-server:127.0.0.1:0");
    let addr = engine.started(SERVER);
    let (peer, message) = engine.note_with(SERVER, "generated a self-signed certificate");
    assert_eq!(peer, None, "the certificate note is about the session");
    assert!(message.contains("SHA-256 fingerprint"), "{message}");
    let path = pem_path(&message);
    assert!(path.exists(), "{} was written", path.display());
    (addr, Scratch(path))
}

/// Starts the TLS client session `id` with `spec`, waits until it is connected, and returns
/// its local address, its peer (the server), and its handshake note.
fn start_client(engine: &mut Engine, id: SessionId, spec: &str) -> (SocketAddr, PeerId, String) {
    engine.start(id, spec);
    let local_addr = engine.started(id);
    let (peer, _) = engine.any_peer(id);
    let (noted_peer, message) = engine.note_with(id, "TLS established");
    assert_eq!(
        noted_peer,
        Some(peer),
        "the handshake note is on the server peer"
    );
    (local_addr, peer, message)
}

fn pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect()
}

#[test]
fn a_generated_certificate_and_an_insecure_client_move_bytes_exactly_both_ways() {
    let mut engine = Engine::spawn();
    let (server_addr, _pem) = start_generated_server(&mut engine);
    let (client_addr, server_peer, handshake) = start_client(
        &mut engine,
        CLIENT,
        &format!("tls-client:127.0.0.1:{},insecure", server_addr.port()),
    );
    assert!(handshake.contains("TLS 1.3"), "{handshake}");
    assert!(handshake.contains("TLS13_"), "{handshake}");
    assert!(
        handshake.contains("subject CN=sockdbg self-signed"),
        "{handshake}"
    );
    assert!(handshake.contains("valid until"), "{handshake}");
    // The server lists the client by its address, like a TCP client.
    let client_peer = engine.peer_connected(SERVER, client_addr);
    let (_, server_side) = engine.note_with(SERVER, "TLS established");
    assert!(server_side.contains("TLS 1.3"), "{server_side}");

    engine.send_bytes(CLIENT, SendTarget::All, b"hello\x00\xff\r\n");
    let (rx, _) = engine.traffic_bytes(SERVER, client_peer, Direction::Rx, 9);
    assert_eq!(rx, b"hello\x00\xff\r\n");
    assert_eq!(
        engine.traffic(CLIENT, server_peer, Direction::Tx),
        &b"hello\x00\xff\r\n"[..]
    );

    let big = pattern(1024 * 1024, 7);
    engine.send_bytes(SERVER, SendTarget::Peer(client_peer), &big);
    let (rx, events) = engine.traffic_bytes(CLIENT, server_peer, Direction::Rx, big.len());
    assert!(rx == big, "1 MiB from the server arrives byte-exact");
    assert!(
        events < 200,
        "reads are gathered: {events} events for 1 MiB"
    );

    let big = pattern(1024 * 1024, 99);
    engine.send_bytes(CLIENT, SendTarget::All, &big);
    let (rx, _) = engine.traffic_bytes(SERVER, client_peer, Direction::Rx, big.len());
    assert!(rx == big, "1 MiB from the client arrives byte-exact");

    // Stopping the client closes with close_notify, and the server says so.
    engine.stop(CLIENT);
    assert_eq!(engine.stopped(CLIENT), None);
    assert_eq!(
        engine.peer_disconnected(SERVER, client_peer),
        "closed by peer (TLS close_notify)"
    );
    engine.shutdown();
}

#[test]
fn a_client_trusts_the_servers_written_pem_and_refuses_it_otherwise() {
    let mut engine = Engine::spawn();
    let (server_addr, pem) = start_generated_server(&mut engine);
    let port = server_addr.port();

    // Trusting the PEM the server wrote works, by name and by address.
    let (_, _, handshake) = start_client(
        &mut engine,
        CLIENT,
        &format!("tls-client:localhost:{port},ca={}", pem.display()),
    );
    assert!(handshake.contains("CN=sockdbg self-signed"), "{handshake}");
    let (_, _, _) = start_client(
        &mut engine,
        OTHER_CLIENT,
        &format!("tls-client:127.0.0.1:{port},ca={}", pem.display()),
    );

    // Without it the system roots do not know the certificate.
    engine.start(CLIENT, &format!("tls-client:127.0.0.1:{port}"));
    let reason = engine.start_failed(CLIENT);
    assert!(
        reason.contains("not trusted (UnknownIssuer") || reason.contains("no system CA"),
        "{reason}"
    );
    assert!(reason.contains("ca=FILE"), "{reason}");
    assert!(reason.contains("insecure"), "{reason}");
    assert!(!reason.contains('\n'), "{reason}");

    // Nor does an unrelated CA.
    let dir = temp_dir("unrelated-ca");
    let (other_pem, _) = write_self_signed(dir.path(), "unrelated.example", &["localhost"]);
    engine.start(
        CLIENT,
        &format!("tls-client:127.0.0.1:{port},ca={}", other_pem.display()),
    );
    let reason = engine.start_failed(CLIENT);
    assert!(
        reason.starts_with("TLS handshake with 127.0.0.1:"),
        "{reason}"
    );
    assert!(reason.contains("not trusted (UnknownIssuer"), "{reason}");
    // Each refused client was one failed handshake on the server, which keeps serving.
    engine.warning_with(SERVER, "rejected our certificate");
    engine.shutdown();
}

#[test]
fn a_server_presents_its_certificate_and_key_files_and_the_name_is_checked() {
    let dir = temp_dir("files");
    let (cert, key) = write_self_signed(dir.path(), "test-server.example", &["localhost"]);
    let mut engine = Engine::spawn();
    engine.start(
        SERVER,
        &format!(
            "tls-server:127.0.0.1:0,cert={},key={}",
            cert.display(),
            key.display()
        ),
    );
    let port = engine.started(SERVER).port();
    let (_, message) = engine.note_with(SERVER, "TLS certificate from");
    assert!(message.contains("CN=test-server.example"), "{message}");

    let (_, _, handshake) = start_client(
        &mut engine,
        CLIENT,
        &format!("tls-client:localhost:{port},ca={}", cert.display()),
    );
    assert!(
        handshake.contains("peer certificate: subject CN=test-server.example"),
        "{handshake}"
    );
    assert!(handshake.contains("self-signed"), "{handshake}");

    // The certificate names only localhost: connecting by address is a name mismatch.
    engine.start(
        OTHER_CLIENT,
        &format!("tls-client:127.0.0.1:{port},ca={}", cert.display()),
    );
    let reason = engine.start_failed(OTHER_CLIENT);
    assert!(
        reason.contains("not valid for 127.0.0.1 (it lists localhost)"),
        "{reason}"
    );
    assert!(reason.contains("insecure"), "{reason}");

    // A key that does not belong to the certificate is refused at start.
    let (_, other_key) = write_self_signed(dir.path(), "other.example", &["localhost"]);
    engine.start(
        SessionId(9),
        &format!(
            "tls-server:127.0.0.1:0,cert={},key={}",
            cert.display(),
            other_key.display()
        ),
    );
    let reason = engine.start_failed(SessionId(9));
    assert!(reason.contains("does not belong"), "{reason}");
    // A missing file is named.
    engine.start(
        SessionId(10),
        &format!(
            "tls-server:127.0.0.1:0,cert={},key={}",
            dir.path().join("missing.pem").display(),
            key.display()
        ),
    );
    let reason = engine.start_failed(SessionId(10));
    assert!(reason.contains("missing.pem"), "{reason}");
    engine.shutdown();
}

#[test]
fn a_self_signed_ca_certificate_given_as_ca_is_trusted_as_is() {
    let dir = temp_dir("ca-as-server");
    let (cert, key) = write_certificate(dir.path(), "device.example", &["localhost"], Made::AsCa);
    let mut engine = Engine::spawn();
    engine.start(
        SERVER,
        &format!(
            "tls-server:127.0.0.1:0,cert={},key={}",
            cert.display(),
            key.display()
        ),
    );
    let port = engine.started(SERVER).port();
    // webpki refuses a CA certificate as a server's, but one named in ca= is trusted as is.
    let (_, server_peer, handshake) = start_client(
        &mut engine,
        CLIENT,
        &format!("tls-client:localhost:{port},ca={}", cert.display()),
    );
    assert!(handshake.contains("CN=device.example"), "{handshake}");
    engine.any_peer(SERVER); // the server's side of the handshake is done too
    engine.send_bytes(SERVER, SendTarget::All, b"ok");
    let (rx, _) = engine.traffic_bytes(CLIENT, server_peer, Direction::Rx, 2);
    assert_eq!(rx, b"ok");
    // Trusted as is, but only for the names it lists.
    engine.start(
        SessionId(9),
        &format!("tls-client:127.0.0.1:{port},ca={}", cert.display()),
    );
    let reason = engine.start_failed(SessionId(9));
    assert!(reason.contains("not valid for 127.0.0.1"), "{reason}");
    // Without ca= the line says what to do.
    engine.start(OTHER_CLIENT, &format!("tls-client:localhost:{port}"));
    let reason = engine.start_failed(OTHER_CLIENT);
    assert!(reason.contains("ca=FILE"), "{reason}");
    engine.shutdown();
}

#[test]
fn an_expired_certificate_is_refused_with_a_hint() {
    let dir = temp_dir("expired");
    let (cert, key) = write_certificate(dir.path(), "old.example", &["localhost"], Made::Expired);
    let mut engine = Engine::spawn();
    engine.start(
        SERVER,
        &format!(
            "tls-server:127.0.0.1:0,cert={},key={}",
            cert.display(),
            key.display()
        ),
    );
    let port = engine.started(SERVER).port();
    let (_, message) = engine.note_with(SERVER, "TLS certificate from");
    assert!(message.contains("valid until 2001-01-01"), "{message}");
    assert!(message.contains("(EXPIRED)"), "{message}");
    engine.start(
        CLIENT,
        &format!("tls-client:localhost:{port},ca={}", cert.display()),
    );
    let reason = engine.start_failed(CLIENT);
    assert!(reason.contains("certificate has expired"), "{reason}");
    assert!(reason.contains("insecure"), "{reason}");
    // insecure accepts it, and the note shows the expiry.
    let (_, _, handshake) = start_client(
        &mut engine,
        OTHER_CLIENT,
        &format!("tls-client:localhost:{port},insecure"),
    );
    assert!(handshake.contains("(EXPIRED)"), "{handshake}");
    engine.shutdown();
}

#[test]
fn a_client_connects_over_ipv6_by_address() {
    if !common::ipv6_loopback_available() {
        return;
    }
    let mut engine = Engine::spawn();
    engine.start(SERVER, "tls-server:[::1]:0");
    let port = engine.started(SERVER).port();
    let (_, message) = engine.note_with(SERVER, "its PEM is at ");
    let pem = Scratch(pem_path(&message));
    // The generated certificate names ::1, and the name check uses the address.
    let (_, _, handshake) = start_client(
        &mut engine,
        CLIENT,
        &format!("tls-client:[::1]:{port},ca={}", pem.display()),
    );
    assert!(handshake.contains("TLS 1.3"), "{handshake}");
    engine.shutdown();
}

#[test]
fn a_plain_tcp_client_is_dropped_and_the_server_keeps_serving() {
    let mut engine = Engine::spawn();
    let (server_addr, _pem) = start_generated_server(&mut engine);

    // One client that never says anything must not hold up the others.
    let _silent = tcp_connect(server_addr);

    // A plain client speaking HTTP: one line on the session, then it is dropped.
    let mut plain = tcp_connect(server_addr);
    let plain_addr = plain.local_addr().expect("local addr");
    plain
        .write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        .expect("plain client writes");
    let message = engine.warning_with(SERVER, "TLS handshake with");
    assert!(
        message.starts_with(&format!("TLS handshake with {plain_addr} failed: ")),
        "{message}"
    );
    assert!(message.contains("does not speak TLS"), "{message}");
    assert!(
        message.contains(r#"sent "GET / HTTP/1.1\r\nHost: x"#),
        "{message}"
    );
    let mut rest = Vec::new();
    plain.read_to_end(&mut rest).ok(); // an alert, then the close (or a reset)
    assert!(rest.len() < 64, "at most an alert: {rest:02x?}");

    // A TLS client is still served.
    let (client_addr, server_peer, _) = start_client(
        &mut engine,
        CLIENT,
        &format!("tls-client:127.0.0.1:{},insecure", server_addr.port()),
    );
    let client_peer = engine.peer_connected(SERVER, client_addr);
    engine.send_bytes(SERVER, SendTarget::All, b"still here");
    let (rx, _) = engine.traffic_bytes(CLIENT, server_peer, Direction::Rx, 10);
    assert_eq!(rx, b"still here");
    engine.assert_no("a peer for a plain client", common::QUIET, |e| {
        matches!(e, Event::PeerConnected { id, peer, .. } if *id == SERVER && *peer != client_peer)
    });
    engine.shutdown();
}

#[test]
fn a_tls_client_to_a_plain_tcp_server_fails_with_a_clear_line() {
    // A server that greets in plain text.
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let greeter = std::thread::spawn(move || {
        let (mut stream, _) = accept(&listener);
        stream.write_all(b"220 plain text banner\r\n").ok();
        // Whatever the client sends (its hello), until it gives up.
        let mut hello = Vec::new();
        stream.read_to_end(&mut hello).ok();
    });
    let mut engine = Engine::spawn();
    engine.start(CLIENT, &format!("tls-client:127.0.0.1:{port},insecure"));
    let reason = engine.start_failed(CLIENT);
    assert!(
        reason.starts_with(&format!("TLS handshake with 127.0.0.1:{port} failed")),
        "{reason}"
    );
    assert!(reason.contains("does not speak TLS"), "{reason}");
    greeter.join().expect("greeter ends");

    // A server that says nothing: the connect timeout covers the handshake.
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    engine.start(
        OTHER_CLIENT,
        &format!("tls-client:127.0.0.1:{port},insecure,timeout=500"),
    );
    let (_held, _) = accept(&listener);
    let reason = engine.start_failed(OTHER_CLIENT);
    assert!(reason.contains("timed out after 500 ms"), "{reason}");
    assert!(reason.contains("plain TCP port"), "{reason}");
    engine.shutdown();
}

#[test]
fn the_server_tells_a_close_notify_from_an_abrupt_close() {
    let mut engine = Engine::spawn();
    let (server_addr, pem) = start_generated_server(&mut engine);

    // A proper close: close_notify, then FIN.
    let (mut tls, peer) = client_that_sent(&mut engine, server_addr, &pem, b"bye properly");
    tls.conn.send_close_notify();
    tls.flush().expect("flush close_notify");
    tls.sock
        .shutdown(std::net::Shutdown::Write)
        .expect("shutdown");
    assert_eq!(
        engine.peer_disconnected(SERVER, peer),
        "closed by peer (TLS close_notify)"
    );

    // An abrupt close: the TCP connection ends without close_notify.
    let (tls, peer) = client_that_sent(&mut engine, server_addr, &pem, b"cut");
    tls.sock
        .shutdown(std::net::Shutdown::Both)
        .expect("shutdown");
    let reason = engine.peer_disconnected(SERVER, peer);
    assert!(reason.contains("without close_notify"), "{reason}");
    engine.shutdown();
}

#[test]
fn a_half_open_server_keeps_sending_after_the_clients_close_notify() {
    let mut engine = Engine::spawn();
    engine.start(SERVER, "tls-server:127.0.0.1:0,half-open");
    let server_addr = engine.started(SERVER);
    let (_, message) = engine.note_with(SERVER, "generated a self-signed certificate");
    let pem = Scratch(pem_path(&message));
    let (mut tls, peer) = client_that_sent(&mut engine, server_addr, &pem, b"request");
    // TLS 1.3 half-close: the client says it has finished sending, and keeps reading.
    tls.conn.send_close_notify();
    tls.flush().expect("flush close_notify");
    half_closed_then_three_sends(
        &mut engine,
        (SERVER, peer),
        "client",
        SendTarget::Peer(peer),
    );
    let mut got = vec![0; 13];
    tls.read_exact(&mut got)
        .expect("the sends after close_notify arrive");
    assert_eq!(got, b"one,two,three");
    // The user ends it: our close_notify, and the client sees a clean end.
    engine.send(sockdbg::protocol::Command::DisconnectPeer { id: SERVER, peer });
    assert_eq!(
        engine.peer_disconnected(SERVER, peer),
        "disconnected by user"
    );
    let mut rest = Vec::new();
    tls.read_to_end(&mut rest).expect("a clean end");
    assert!(rest.is_empty(), "{rest:?}");
    engine.shutdown();
}

#[test]
fn a_half_open_client_keeps_sending_after_the_servers_close_notify() {
    let dir = temp_dir("half-open-client");
    let (cert, key) = write_self_signed(dir.path(), "localhost", &["localhost"]);
    let chain: Vec<_> = rustls::pki_types::CertificateDer::pem_file_iter(&cert)
        .expect("cert pem")
        .map(|c| c.expect("cert"))
        .collect();
    let key = rustls::pki_types::PrivateKeyDer::from_pem_file(&key).expect("key pem");
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("versions")
    .with_no_client_auth()
    .with_single_cert(chain, key)
    .expect("server config");
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("address");
    let mut engine = Engine::spawn();
    engine.start(CLIENT, &format!("tls-client:{addr},insecure,half-open"));
    let (sock, _) = accept(&listener);
    let conn = rustls::ServerConnection::new(Arc::new(config)).expect("server connection");
    let mut server = handshaken(conn, sock);
    engine.started(CLIENT);
    let (peer, _) = engine.any_peer(CLIENT);
    server.write_all(b"banner").expect("write");
    server.conn.send_close_notify();
    server.flush().expect("flush close_notify");
    let (rx, _) = engine.traffic_bytes(CLIENT, peer, Direction::Rx, 6);
    assert_eq!(rx, b"banner");
    half_closed_then_three_sends(&mut engine, (CLIENT, peer), "server", SendTarget::All);
    let mut got = vec![0; 13];
    server
        .read_exact(&mut got)
        .expect("the sends after close_notify arrive");
    assert_eq!(got, b"one,two,three");
    engine.stop(CLIENT);
    assert_eq!(engine.peer_disconnected(CLIENT, peer), "session stopped");
    assert_eq!(engine.stopped(CLIENT), None);
    engine.shutdown();
}

#[test]
fn a_server_stops_promptly_while_its_tls_client_reads_nothing() {
    let mut engine = Engine::spawn();
    let (server_addr, pem) = start_generated_server(&mut engine);
    let stalled = rustls_client(server_addr, &pem);
    let client_addr = stalled.sock.local_addr().expect("client address");
    let (peer, _) = engine.any_peer(SERVER);
    // More than the socket buffers hold: the writer is stuck until the client reads.
    engine.send_bytes(
        SERVER,
        SendTarget::Peer(peer),
        &pattern(16 * 1024 * 1024, 1),
    );
    // Stuck for a fact: the client's receive queue holds bytes it does not read, and the
    // server's send queue holds more behind them.
    common::wait_for_tcp("bytes the client does not read", |row| {
        row.local == client_addr && row.rx_queue > 0
    });
    common::wait_for_tcp("bytes queued behind them at the server", |row| {
        row.local == server_addr && row.remote == client_addr && row.tx_queue > 0
    });
    // The client never reads: a stop that waited for the stuck writer (or for a
    // close_notify behind its bytes) would never end, and fails the test when
    // engine.stopped() passes DEADLINE. No timed bound, which a slow machine could break.
    engine.stop(SERVER);
    assert_eq!(engine.stopped(SERVER), None);
    engine.shutdown();
}

/// Checks the `half-open` note on `peer` (a `noun`) of session `id`, then sends three pieces
/// to `target`: `one,two,three` in all.
fn half_closed_then_three_sends(
    engine: &mut Engine,
    (id, peer): (SessionId, PeerId),
    noun: &str,
    target: SendTarget,
) {
    let (noted, message) = engine.note_with(id, "finished sending");
    assert_eq!(noted, Some(peer));
    assert_eq!(
        message,
        format!(
            "{noun} finished sending (half-closed); still open for sending until you disconnect it"
        )
    );
    for piece in [&b"one,"[..], b"two,", b"three"] {
        engine.send_bytes(id, target, piece);
    }
}

/// A rustls client of the server at `addr` that has sent `first`, and its peer id on the
/// server once the server has logged those bytes.
fn client_that_sent(
    engine: &mut Engine,
    addr: SocketAddr,
    pem: &Path,
    first: &[u8],
) -> (
    rustls::StreamOwned<rustls::ClientConnection, TcpStream>,
    PeerId,
) {
    let mut tls = rustls_client(addr, pem);
    tls.write_all(first).expect("write");
    tls.flush().expect("flush");
    let (peer, _) = engine.any_peer(SERVER);
    let (rx, _) = engine.traffic_bytes(SERVER, peer, Direction::Rx, first.len());
    assert_eq!(rx, first);
    (tls, peer)
}

/// A file the test made, removed when the test ends (pass or fail).
struct Scratch(PathBuf);

impl std::ops::Deref for Scratch {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        std::fs::remove_file(&self.0).ok(); // best effort: it is in a temp dir
    }
}

/// A fresh directory for this test's files, removed when dropped.
fn temp_dir(name: &str) -> tempfile::TempDir {
    common::temp_dir(&format!("tls-test-{name}"))
}

/// Writes a self-signed certificate with common name `cn` for `names` and its key into
/// `dir`; returns the two paths.
fn write_self_signed(dir: &Path, cn: &str, names: &[&str]) -> (PathBuf, PathBuf) {
    write_certificate(dir, cn, names, Made::Plain)
}

/// How a test certificate is made.
#[derive(PartialEq)]
enum Made {
    Plain,
    /// `CA:TRUE`, as `openssl req -x509` makes it.
    AsCa,
    /// Valid only until 2001.
    Expired,
}

/// Like [`write_self_signed`], made as `made` says.
fn write_certificate(dir: &Path, cn: &str, names: &[&str], made: Made) -> (PathBuf, PathBuf) {
    let mut params =
        rcgen::CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>())
            .expect("params");
    let mut dn = rcgen::DistinguishedName::new();
    dn.push(rcgen::DnType::CommonName, cn);
    params.distinguished_name = dn;
    match made {
        Made::Plain => {}
        Made::AsCa => params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained),
        Made::Expired => {
            params.not_before = rcgen::date_time_ymd(2000, 1, 1);
            params.not_after = rcgen::date_time_ymd(2001, 1, 1);
        }
    }
    let key = rcgen::KeyPair::generate().expect("key");
    let cert = params.self_signed(&key).expect("cert");
    let cert_path = dir.join(format!("{cn}-cert.pem"));
    let key_path = dir.join(format!("{cn}-key.pem"));
    std::fs::write(&cert_path, cert.pem()).expect("write cert");
    std::fs::write(&key_path, key.serialize_pem()).expect("write key");
    (cert_path, key_path)
}
