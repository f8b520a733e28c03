//! Shared helpers for the engine tests: a real engine driven only through `Command`/`Event`,
//! waits that always end (every wait has a deadline, so a bug fails fast instead of hanging),
//! and small std-socket helpers with read timeouts. Traffic goes only to loopback.

#![allow(dead_code)] // each test binary uses a different subset

#[cfg(unix)]
pub mod pty;
pub mod tls;

use std::collections::VecDeque;
use std::io::{self, Read};
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::time::{Duration, Instant};

use bytes::Bytes;
use crossbeam_channel::Receiver;
use sockdbg::codec::framing::Framing;
use sockdbg::engine::{EngineHandle, EngineSettings, EventSink};
use sockdbg::intake::Intake;
use sockdbg::model::Sessions;
use sockdbg::protocol::{
    Command, Direction, Event, JobId, JobOutcome, PeerId, Reactions, SendTarget, SessionId, Warning,
};
use sockdbg::spec::SessionSpec;

/// How long any single wait may take before the test fails. Only ever an upper bound on a
/// wait that ends as soon as what it waits for happens: it costs nothing when the test
/// passes, so it is generous enough for a slow, loaded CI machine (5 s was not), and a bug
/// still fails the test instead of hanging it. Never a quiet period: see [`QUIET`].
pub const DEADLINE: Duration = Duration::from_secs(20);

/// How long to listen for something that must *not* happen.
pub const QUIET: Duration = Duration::from_millis(300);

/// A directory of one test's own in the system's temp directory (`sockdbg-{name}-…`),
/// removed when dropped, so a test leaves nothing behind, also when it fails.
pub fn temp_dir(name: &str) -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix(&format!("sockdbg-{name}-"))
        .tempdir()
        .expect("a temporary directory")
}

/// A running engine plus every event it has sent so far.
pub struct Engine {
    handle: Option<EngineHandle>,
    events: Receiver<Event>,
    /// Events received but not yet matched by a wait.
    pending: VecDeque<Event>,
    /// Every event received, in arrival order (for ordering checks and the model).
    history: Vec<Event>,
    /// Where the engine writes generated files (TLS certificates); removed with the engine.
    files_dir: Option<tempfile::TempDir>,
}

impl Engine {
    /// Spawns a real engine whose events come back on a crossbeam channel; its generated
    /// files go to a temporary directory of its own.
    pub fn spawn() -> Self {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let mut engine = Self::spawn_with_files_dir(&dir.path().join("certs"));
        engine.files_dir = Some(dir);
        engine
    }

    /// Spawns a real engine that writes its generated files into `dir`.
    pub fn spawn_with_files_dir(dir: &std::path::Path) -> Self {
        let (tx, events) = crossbeam_channel::unbounded();
        let settings = EngineSettings {
            files_dir: Some(dir.to_path_buf()),
        };
        let handle = EngineHandle::spawn_with(EventSink::without_waker(tx), settings)
            .expect("engine starts");
        Self {
            handle: Some(handle),
            events,
            pending: VecDeque::new(),
            history: Vec::new(),
            files_dir: None,
        }
    }

    /// Queues a command.
    pub fn send(&self, command: Command) {
        self.handle.as_ref().expect("engine running").send(command);
    }

    /// Sends `Start` for `spec` (e.g. `tcp-server:127.0.0.1:0`).
    pub fn start(&self, id: SessionId, spec: &str) {
        let spec: SessionSpec = spec.parse().expect("valid spec");
        self.send(Command::Start { id, spec });
    }

    /// Sends `Stop`.
    pub fn stop(&self, id: SessionId) {
        self.send(Command::Stop { id });
    }

    /// Sends `data` from session `id` to `target`.
    pub fn send_bytes(&self, id: SessionId, target: SendTarget, data: &[u8]) {
        self.send(Command::Send {
            id,
            target,
            data: Bytes::copy_from_slice(data),
        });
    }

    /// Waits for the first event (pending or new) matching `matches`, consumes and returns it.
    /// Panics after [`DEADLINE`] naming `what` and listing the unmatched events.
    pub fn wait_for(&mut self, what: &str, mut matches: impl FnMut(&Event) -> bool) -> Event {
        if let Some(index) = self.pending.iter().position(&mut matches) {
            return self.pending.remove(index).expect("index is in range");
        }
        let deadline = Instant::now() + DEADLINE;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.events.recv_timeout(left) {
                Ok(event) => {
                    // A batch of datagrams is matched (and kept) datagram by datagram; each
                    // event is offered to `matches` once.
                    let seen = self.pending.len();
                    for event in event.unbatched() {
                        self.history.push(event.clone());
                        self.pending.push_back(event);
                    }
                    if let Some(index) = self.pending.iter().skip(seen).position(&mut matches) {
                        return self
                            .pending
                            .remove(seen + index)
                            .expect("index is in range");
                    }
                }
                Err(_) => panic!(
                    "timed out after {DEADLINE:?} waiting for {what}; unmatched events: {:#?}",
                    self.pending
                ),
            }
        }
    }

    /// Asserts that no event matching `matches` arrives within `within` (nor is pending).
    pub fn assert_no(
        &mut self,
        what: &str,
        within: Duration,
        mut matches: impl FnMut(&Event) -> bool,
    ) {
        self.collect_for(within);
        if let Some(event) = self.pending.iter().find(|e| matches(e)) {
            panic!("unexpected {what}: {event:#?}");
        }
    }

    /// Receives whatever arrives during `duration` into the pending queue.
    pub fn collect_for(&mut self, duration: Duration) {
        let deadline = Instant::now() + duration;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.events.recv_timeout(left) {
                Ok(event) => {
                    for event in event.unbatched() {
                        self.history.push(event.clone());
                        self.pending.push_back(event);
                    }
                }
                Err(_) => return,
            }
        }
    }

    /// Replaces session `id`'s reactions and waits until the engine says they apply.
    pub fn set_reactions(&mut self, id: SessionId, reactions: Reactions) {
        self.send(Command::SetReactions { id, reactions });
        self.reactions_applied(id);
    }

    /// Sets session `id`'s auto-reply framing (`len:u32le`, ...) and waits until the engine
    /// says it applies.
    pub fn set_reply_framing(&mut self, id: SessionId, framing: &str) {
        let framing: Framing = framing.parse().expect("valid framing");
        self.send(Command::SetReplyFraming { id, framing });
        self.reactions_applied(id);
    }

    /// Waits for the engine's acknowledgement of new reactions or reply framing.
    pub fn reactions_applied(&mut self, id: SessionId) {
        self.wait_for(
            "ReactionsApplied",
            |e| matches!(e, Event::ReactionsApplied { id: i } if *i == id),
        );
    }

    /// Waits for `Started` of session `id` and returns its local address; a `StartFailed`
    /// fails the test with its reason.
    pub fn started(&mut self, id: SessionId) -> SocketAddr {
        let event = self.wait_for("Started or StartFailed", |e| {
            matches!(e, Event::Started { id: i, .. } | Event::StartFailed { id: i, .. } if *i == id)
        });
        match event {
            Event::Started { local_addr, .. } => local_addr,
            other => panic!("session {id:?} did not start: {other:?}"),
        }
    }

    /// Waits for `StartFailed` of session `id` and returns its reason in English, as headless
    /// prints it.
    pub fn start_failed(&mut self, id: SessionId) -> String {
        let event = self.wait_for("Started or StartFailed", |e| {
            matches!(e, Event::Started { id: i, .. } | Event::StartFailed { id: i, .. } if *i == id)
        });
        match event {
            Event::StartFailed { reason, .. } => reason.to_string(),
            other => panic!("session {id:?} was expected to fail to start: {other:?}"),
        }
    }

    /// Waits for `Stopped` of session `id` and returns its reason in English.
    pub fn stopped(&mut self, id: SessionId) -> Option<String> {
        match self.wait_for(
            "Stopped",
            |e| matches!(e, Event::Stopped { id: i, .. } if *i == id),
        ) {
            Event::Stopped { reason, .. } => reason.map(|r| r.to_string()),
            _ => unreachable!("matched Stopped"),
        }
    }

    /// Waits for `PeerConnected` from `addr` on session `id` and returns the peer id.
    pub fn peer_connected(&mut self, id: SessionId, addr: SocketAddr) -> PeerId {
        let what = format!("PeerConnected from {addr}");
        match self.wait_for(
            &what,
            |e| matches!(e, Event::PeerConnected { id: i, addr: a, .. } if *i == id && *a == addr),
        ) {
            Event::PeerConnected { peer, .. } => peer,
            _ => unreachable!("matched PeerConnected"),
        }
    }

    /// Waits for any `PeerConnected` on session `id`: its peer id and address.
    #[allow(dead_code)] // not every test binary uses every helper
    pub fn any_peer(&mut self, id: SessionId) -> (PeerId, SocketAddr) {
        match self.wait_for(
            "PeerConnected",
            |e| matches!(e, Event::PeerConnected { id: i, .. } if *i == id),
        ) {
            Event::PeerConnected { peer, addr, .. } => (peer, addr),
            _ => unreachable!("matched PeerConnected"),
        }
    }

    /// Waits for a `Note` on session `id` whose English contains `text`: the peer it is about,
    /// if any, and the note in English.
    #[allow(dead_code)]
    pub fn note_with(&mut self, id: SessionId, text: &str) -> (Option<PeerId>, String) {
        let what = format!("a note containing {text:?}");
        match self.wait_for(&what, |e| {
            matches!(e, Event::Note { id: i, note, .. } if *i == id && note.to_string().contains(text))
        }) {
            Event::Note { peer, note, .. } => (peer, note.to_string()),
            _ => unreachable!("matched Note"),
        }
    }

    /// Waits for a `Warning` on session `id` whose English contains `text`, and returns it in
    /// English.
    #[allow(dead_code)]
    pub fn warning_with(&mut self, id: SessionId, text: &str) -> String {
        let what = format!("a warning containing {text:?}");
        match self.wait_for(&what, |e| {
            matches!(e, Event::Warning { id: i, warning, .. } if *i == id && warning.to_string().contains(text))
        }) {
            Event::Warning { warning, .. } => warning.to_string(),
            _ => unreachable!("matched Warning"),
        }
    }

    /// Waits for a `Warning` on session `id` that `matches` (its typed variant), and returns it
    /// in English. Prefer this to [`Engine::warning`] wherever a session may warn of something
    /// else first: a UDP server or group warns at its start that the kernel granted a smaller
    /// receive buffer than asked for (`ReceiveBufferCapped`), which a stock
    /// `net.core.rmem_max` (212,992) always does.
    #[allow(dead_code)]
    pub fn warning_where(
        &mut self,
        id: SessionId,
        what: &str,
        mut matches: impl FnMut(&Warning) -> bool,
    ) -> String {
        let what = format!("a warning: {what}");
        match self.wait_for(
            &what,
            |e| matches!(e, Event::Warning { id: i, warning, .. } if *i == id && matches(warning)),
        ) {
            Event::Warning { warning, .. } => warning.to_string(),
            _ => unreachable!("matched Warning"),
        }
    }

    /// Waits for `JobEnded` of `job` and returns how much it did and how it ended.
    pub fn job_ended(&mut self, job: JobId) -> (u64, JobOutcome) {
        match self.wait_for(
            "JobEnded",
            |e| matches!(e, Event::JobEnded { job: j, .. } if *j == job),
        ) {
            Event::JobEnded { done, outcome, .. } => (done, outcome),
            _ => unreachable!("matched JobEnded"),
        }
    }

    /// Waits for `PeerDisconnected` of `peer` and returns its reason in English.
    pub fn peer_disconnected(&mut self, id: SessionId, peer: PeerId) -> String {
        let what = format!("PeerDisconnected of {peer:?}");
        match self.wait_for(&what, |e| {
            matches!(e, Event::PeerDisconnected { id: i, peer: p, .. } if *i == id && *p == peer)
        }) {
            Event::PeerDisconnected { reason, .. } => reason.to_string(),
            _ => unreachable!("matched PeerDisconnected"),
        }
    }

    /// Waits for one `Traffic` event of `peer` in direction `dir` and returns its bytes.
    pub fn traffic(&mut self, id: SessionId, peer: PeerId, dir: Direction) -> Bytes {
        let what = format!("Traffic {dir:?} of {peer:?}");
        match self.wait_for(&what, |e| {
            matches!(e, Event::Traffic { id: i, peer: p, dir: d, .. } if *i == id && *p == peer && *d == dir)
        }) {
            Event::Traffic { data, .. } => data,
            _ => unreachable!("matched Traffic"),
        }
    }

    /// Collects `Traffic` events of `peer` in direction `dir` until `len` bytes have come
    /// (TCP may split a write into several reads); returns the bytes and the event count.
    pub fn traffic_bytes(
        &mut self,
        id: SessionId,
        peer: PeerId,
        dir: Direction,
        len: usize,
    ) -> (Vec<u8>, usize) {
        let mut bytes = Vec::new();
        let mut events = 0;
        while bytes.len() < len {
            bytes.extend_from_slice(&self.traffic(id, peer, dir));
            events += 1;
        }
        (bytes, events)
    }

    /// Waits for the first `Warning` of any kind on session `id` and returns it in English.
    /// Not for UDP servers and groups: see [`Engine::warning_where`].
    pub fn warning(&mut self, id: SessionId) -> String {
        match self.wait_for(
            "Warning",
            |e| matches!(e, Event::Warning { id: i, .. } if *i == id),
        ) {
            Event::Warning { warning, .. } => warning.to_string(),
            _ => unreachable!("matched Warning"),
        }
    }

    /// Every event received so far, in arrival order.
    pub fn history(&self) -> &[Event] {
        &self.history
    }

    /// Forgets every event received so far (long tests keep their memory flat).
    pub fn clear_history(&mut self) {
        self.history.clear();
        self.pending.clear();
    }

    /// Shuts the engine down.
    pub fn shutdown(mut self) {
        if let Some(handle) = self.handle.take() {
            handle.shutdown();
        }
    }

    /// Shuts the engine down and asserts that session `id` said `Stopped` (without a reason)
    /// as it closed: a session that closes itself when told to says so; one still running
    /// when the shutdown's grace ran out is dropped with the runtime and says nothing. (An
    /// event, not a timed bound, which a slow machine could break.)
    #[allow(dead_code)] // not every test binary uses every helper
    pub fn shutdown_with_stopped(mut self, id: SessionId) {
        if let Some(handle) = self.handle.take() {
            handle.shutdown();
        }
        // The engine's thread has ended: everything it sent is in the channel.
        let mut events: Vec<Event> = self.pending.drain(..).collect();
        events.extend(self.events.try_iter().flat_map(Event::unbatched));
        assert!(
            events
                .iter()
                .any(|e| matches!(e, Event::Stopped { id: i, reason: None } if *i == id)),
            "session {id:?} did not stop by itself: {events:#?}"
        );
    }
}

/// Creates a session for `spec` in `sessions` and starts it on `engine`, taking in (applying)
/// every event until it has started, as the window does; returns its id and local address.
/// A `StartFailed` fails the test with its reason.
pub fn start_through_intake(
    intake: &Intake,
    engine: &EngineHandle,
    sessions: &mut Sessions,
    spec: &str,
) -> (SessionId, SocketAddr) {
    let id = sessions.create(spec.parse().expect("valid spec"));
    let spec = sessions.get(id).expect("created").spec.clone();
    engine.send(Command::Start { id, spec });
    let deadline = Instant::now() + DEADLINE;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let event = intake
            .receiver()
            .recv_timeout(left)
            .expect("Started in time");
        let started = match &event {
            Event::Started { local_addr, .. } => Some(*local_addr),
            Event::StartFailed { reason, .. } => panic!("{reason}"),
            _ => None,
        };
        intake.apply(event, sessions, None);
        if let Some(addr) = started {
            return (id, addr);
        }
    }
}

/// A TCP port on 127.0.0.1 that was free a moment ago.
pub fn free_tcp_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind an ephemeral port");
    listener.local_addr().expect("local addr").port()
}

/// A TCP port bound on 127.0.0.1 but not listening: a connect to it is refused, and the
/// socket, held by the test, keeps any other test from taking the port; `listen` on it makes
/// it the server that was missing.
#[allow(dead_code)] // not every test binary uses every helper
pub fn bound_unlistened() -> (socket2::Socket, SocketAddr) {
    let socket =
        socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).expect("socket");
    let any: SocketAddr = "127.0.0.1:0".parse().expect("addr");
    socket.bind(&any.into()).expect("bind");
    let addr = socket
        .local_addr()
        .ok()
        .and_then(|a| a.as_socket())
        .expect("bound address");
    (socket, addr)
}

/// A UDP port on 127.0.0.1 that was free a moment ago.
pub fn free_udp_port() -> u16 {
    let socket = UdpSocket::bind("127.0.0.1:0").expect("bind an ephemeral port");
    socket.local_addr().expect("local addr").port()
}

/// Whether this is CI's run (`CI=true`, as GitHub Actions and most CIs set it, and as
/// `.ci/run` sets it): there, every test must really run.
pub fn under_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v.eq_ignore_ascii_case("true") || v == "1")
}

/// Adds to `command` (a wrapper such as `unshare`) this test binary running its ignored test
/// `name` alone, with its output shown.
pub fn this_test_alone<'a>(
    command: &'a mut std::process::Command,
    name: &str,
) -> &'a mut std::process::Command {
    command
        .arg(std::env::current_exe().expect("this test binary"))
        .args([
            "--exact",
            name,
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
}

/// A test cannot run on this machine for `reason` (no IPv6, no network namespaces, no
/// `ip`): prints `skipped: <reason>` so the run says it, and the caller returns. Under
/// `CI=true` it fails instead: CI installs what the tests need, so a skip there is a test
/// that silently stopped testing.
pub fn skip(reason: &str) {
    assert!(
        !under_ci(),
        "cannot run this test here, and CI=true forbids skipping it: {reason}"
    );
    eprintln!("skipped: {reason}");
}

/// Whether this machine can bind the IPv6 loopback; says why not (see [`skip`]) when it
/// cannot.
pub fn ipv6_loopback_available() -> bool {
    match TcpListener::bind("[::1]:0") {
        Ok(_) => true,
        Err(e) => {
            skip(&format!("cannot bind [::1] on this machine ({e})"));
            false
        }
    }
}

/// A TCP connection to `addr` with read and write timeouts set.
pub fn tcp_connect(addr: SocketAddr) -> TcpStream {
    let stream = TcpStream::connect_timeout(&addr, DEADLINE).expect("connect to the engine");
    stream
        .set_read_timeout(Some(DEADLINE))
        .expect("read timeout");
    stream
        .set_write_timeout(Some(DEADLINE))
        .expect("write timeout");
    stream
}

/// Accepts one connection within [`DEADLINE`]; the stream gets read and write timeouts.
pub fn accept(listener: &TcpListener) -> (TcpStream, SocketAddr) {
    listener
        .set_nonblocking(true)
        .expect("nonblocking listener");
    let deadline = Instant::now() + DEADLINE;
    loop {
        match listener.accept() {
            Ok((stream, addr)) => {
                stream.set_nonblocking(false).expect("blocking stream");
                stream
                    .set_read_timeout(Some(DEADLINE))
                    .expect("read timeout");
                stream
                    .set_write_timeout(Some(DEADLINE))
                    .expect("write timeout");
                return (stream, addr);
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock && Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(5));
            }
            Err(e) => panic!("no connection accepted within {DEADLINE:?}: {e}"),
        }
    }
}

/// Reads exactly `len` bytes (within the stream's read timeout).
pub fn read_exactly(stream: &mut TcpStream, len: usize) -> Vec<u8> {
    let mut buf = vec![0; len];
    stream
        .read_exact(&mut buf)
        .expect("read the expected bytes");
    buf
}

/// Asserts that nothing arrives on `stream` within [`QUIET`]; restores the read timeout.
pub fn assert_tcp_silent(stream: &mut TcpStream) {
    stream.set_read_timeout(Some(QUIET)).expect("short timeout");
    let mut buf = [0; 64];
    match stream.read(&mut buf) {
        Err(e)
            if matches!(
                e.kind(),
                io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
            ) => {}
        Ok(n) => panic!("expected silence, read {n} bytes: {:02x?}", &buf[..n]),
        Err(e) => panic!("expected silence, read failed: {e}"),
    }
    stream
        .set_read_timeout(Some(DEADLINE))
        .expect("read timeout");
}

/// Asserts that the peer closed `stream` cleanly: the next read returns 0.
pub fn assert_tcp_closed(stream: &mut TcpStream) {
    let mut buf = [0; 64];
    match stream.read(&mut buf) {
        Ok(0) => {}
        Ok(n) => panic!("expected end of stream, read {n} bytes: {:02x?}", &buf[..n]),
        Err(e) => panic!("expected end of stream, read failed: {e}"),
    }
}

/// A UDP socket bound to `ip`:0 with a read timeout.
pub fn udp_socket(ip: &str) -> UdpSocket {
    let addr: SocketAddr = format!("{ip}:0").parse().expect("valid address");
    let socket = UdpSocket::bind(addr).expect("bind a UDP socket");
    socket
        .set_read_timeout(Some(DEADLINE))
        .expect("read timeout");
    socket
}

/// Receives one datagram (within the socket's read timeout).
pub fn recv_datagram(socket: &UdpSocket) -> (Vec<u8>, SocketAddr) {
    let mut buf = vec![0; 65_536];
    let (n, from) = socket.recv_from(&mut buf).expect("a datagram arrives");
    buf.truncate(n);
    (buf, from)
}

/// Asserts that no datagram arrives on `socket` within [`QUIET`]; restores the timeout.
pub fn assert_udp_silent(socket: &UdpSocket) {
    socket.set_read_timeout(Some(QUIET)).expect("short timeout");
    let mut buf = [0; 64];
    match socket.recv_from(&mut buf) {
        Err(e)
            if matches!(
                e.kind(),
                io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
            ) => {}
        Ok((n, from)) => panic!("expected silence, got {n} bytes from {from}"),
        Err(e) => panic!("expected silence, receive failed: {e}"),
    }
    socket
        .set_read_timeout(Some(DEADLINE))
        .expect("read timeout");
}

/// Sets SO_LINGER to 0 and drops the stream, so the other end sees a reset.
pub fn reset(stream: TcpStream) {
    socket2::SockRef::from(&stream)
        .set_linger(Some(Duration::ZERO))
        .expect("set SO_LINGER 0");
    drop(stream);
}

/// One IPv4 TCP socket of this machine (this network namespace), as `/proc/net/tcp` lists
/// it: a way to wait for what the kernel knows (a connect under way, bytes stuck in a queue)
/// instead of sleeping.
#[derive(Clone, Copy, Debug)]
pub struct TcpRow {
    /// Local address.
    pub local: SocketAddr,
    /// Remote address (`0.0.0.0:0` for a listener).
    pub remote: SocketAddr,
    /// The kernel's state number: [`TCP_ESTABLISHED`], [`TCP_SYN_SENT`], [`TCP_LISTEN`], ...
    pub state: u8,
    /// Bytes in the send queue (not yet acknowledged by the peer).
    pub tx_queue: u64,
    /// Bytes in the receive queue (not yet read by the program).
    pub rx_queue: u64,
}

/// `/proc/net/tcp` state of an open connection.
pub const TCP_ESTABLISHED: u8 = 0x01;
/// `/proc/net/tcp` state of a connect waiting for its SYN to be answered.
pub const TCP_SYN_SENT: u8 = 0x02;
/// `/proc/net/tcp` state of a listening socket.
pub const TCP_LISTEN: u8 = 0x0A;

/// Every IPv4 TCP socket `/proc/net/tcp` lists now.
pub fn tcp_table() -> Vec<TcpRow> {
    fn addr(text: &str) -> Option<SocketAddr> {
        let (ip, port) = text.split_once(':')?;
        // The address is the kernel's network-order u32 printed in host (little-endian) order.
        let ip = u32::from_str_radix(ip, 16).ok()?.to_le_bytes();
        let port = u16::from_str_radix(port, 16).ok()?;
        Some(SocketAddr::from((ip, port)))
    }
    let table = std::fs::read_to_string("/proc/net/tcp").expect("read /proc/net/tcp");
    table
        .lines()
        .skip(1)
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let (tx, rx) = fields.get(4)?.split_once(':')?;
            Some(TcpRow {
                local: addr(fields.get(1)?)?,
                remote: addr(fields.get(2)?)?,
                state: u8::from_str_radix(fields.get(3)?, 16).ok()?,
                tx_queue: u64::from_str_radix(tx, 16).ok()?,
                rx_queue: u64::from_str_radix(rx, 16).ok()?,
            })
        })
        .collect()
}

/// Waits (within [`DEADLINE`]) until a socket in [`tcp_table`] matches; fails naming `what`.
pub fn wait_for_tcp(what: &str, matches: impl Fn(&TcpRow) -> bool) -> TcpRow {
    let deadline = Instant::now() + DEADLINE;
    loop {
        if let Some(row) = tcp_table().into_iter().find(|row| matches(row)) {
            return row;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {DEADLINE:?} waiting for {what} in /proc/net/tcp"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Prepares a `sockdbg` command so [`interrupt`] can reach it: on Windows it leads a process
/// group of its own, on a console it shares with this test (sockdbg attaches to its parent's
/// console); elsewhere nothing is needed.
pub fn interruptible(command: &mut std::process::Command) {
    #[cfg(windows)]
    {
        windows_console::make_real();
        std::os::windows::process::CommandExt::creation_flags(
            command,
            windows_sys::Win32::System::Threading::CREATE_NEW_PROCESS_GROUP,
        );
    }
    #[cfg(not(windows))]
    let _ = command;
}

/// Asks `child` to end as a user would. Unix: SIG`signal` (`INT`, `TERM`) with kill(1).
/// Windows: both are the console's interrupt (Ctrl+Break to the child's process group; see
/// [`windows_console::interrupt`]); `child` was made [`interruptible`].
pub fn interrupt(child: &std::process::Child, signal: &str) {
    assert!(["INT", "TERM"].contains(&signal), "{signal}");
    #[cfg(windows)]
    windows_console::interrupt(child.id());
    #[cfg(not(windows))]
    {
        let status = std::process::Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(child.id().to_string())
            .status()
            .expect("run kill");
        assert!(status.success());
    }
}

/// Console control events for the Windows runs (CI runs them under Wine).
#[cfg(windows)]
pub mod windows_console {
    use windows_sys::Win32::System::Console::{
        AllocConsole, CTRL_BREAK_EVENT, CTRL_C_EVENT, FreeConsole, GenerateConsoleCtrlEvent,
        GetStdHandle, STD_ERROR_HANDLE, STD_OUTPUT_HANDLE, SetStdHandle,
    };
    use windows_sys::Win32::System::LibraryLoader::{GetModuleHandleA, GetProcAddress};

    /// Whether this runs under Wine (its ntdll exports `wine_get_version`).
    pub fn under_wine() -> bool {
        // SAFETY: ntdll is always loaded; the names are NUL-terminated.
        unsafe {
            let ntdll = GetModuleHandleA(c"ntdll.dll".as_ptr().cast());
            !ntdll.is_null() && GetProcAddress(ntdll, c"wine_get_version".as_ptr().cast()).is_some()
        }
    }

    /// Under Wine a test started without a terminal has a console that takes no control
    /// events: it gets a real one, its own output staying where it went. On Windows the
    /// test's console (the terminal's, or CI's) is used as it is.
    pub fn make_real() {
        static ONCE: std::sync::Once = std::sync::Once::new();
        ONCE.call_once(|| {
            if !under_wine() {
                return;
            }
            // SAFETY: plain Win32 calls on this process's own console and standard handles.
            unsafe {
                let kept = [STD_OUTPUT_HANDLE, STD_ERROR_HANDLE].map(|id| (id, GetStdHandle(id)));
                FreeConsole();
                AllocConsole();
                for (id, handle) in kept {
                    SetStdHandle(id, handle);
                }
            }
        });
    }

    /// Ctrl+Break to the process group `pid` leads, the event Windows sends to one group;
    /// Wine does not implement Ctrl+Break and delivers Ctrl+C to a group instead.
    pub fn interrupt(pid: u32) {
        // SAFETY: plain Win32 calls without pointers.
        let sent = unsafe {
            GenerateConsoleCtrlEvent(CTRL_BREAK_EVENT, pid) != 0
                || (under_wine() && GenerateConsoleCtrlEvent(CTRL_C_EVENT, pid) != 0)
        };
        assert!(sent, "{}", std::io::Error::last_os_error());
    }
}
