//! What the engine tells the user, as values: why a session could not start
//! ([`StartFailure`]), why a connection or session ended ([`CloseReason`]), what went wrong
//! without ending anything ([`Warning`]) and what a session did by itself ([`Note`]). Fields
//! hold the values (addresses, counts, rule numbers, bytes, the OS's own words); the
//! sentences are the i18n table's (`crate::i18n::messages`), which renders them in the
//! window's language, and in English for `Display` (headless output, export). No code decides
//! anything from a message's words: a decision matches the variant.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use serde::{Deserialize, Serialize};

use super::fault::{
    CertSummary, OsError, SerialFault, TlsFault, TlsRejection, TlsSession, WsClose, WsFault,
};
use super::{JobOutcome, PeerId};
use crate::codec::reply::{RuleError, RuleSummary};
use crate::codec::send::SendError;
use crate::relay::{Fired, Leg, RelayFaults};

/// Why a `reconnect` client is not connected.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Disconnected {
    /// Its connect failed.
    Connect(StartFailure),
    /// Its connection ended.
    Ended(CloseReason),
}

/// Why a connection (or a client session) ended.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum CloseReason {
    /// The peer closed the connection (its FIN arrived).
    ClosedByPeer,
    /// The peer closed a TLS connection properly (close_notify, then FIN).
    ClosedByPeerTls,
    /// The TCP connection under TLS closed without a close_notify first.
    ClosedWithoutCloseNotify,
    /// The user disconnected it.
    ByUser,
    /// Its session stopped.
    SessionStopped,
    /// The user forgot a UDP peer.
    ForgottenByUser,
    /// A UDP peer was forgotten to make room: the peer table was full and it had been idle
    /// longest.
    EvictedIdle {
        /// The table's cap (`max-peers=N`).
        limit: usize,
        /// Peers evicted so far by the session, this one included.
        evicted: u64,
    },
    /// A socket error.
    Io(OsError),
    /// A TLS error.
    Tls(TlsFault),
    /// A WebSocket error.
    Ws(WsFault),
    /// The WebSocket peer closed with a close frame.
    WsClosedByPeer {
        /// What its close frame said.
        close: WsClose,
    },
    /// A write failed after the peer had half-closed its side (`half-open`).
    GoneAfterHalfClose {
        /// The peer is a server (we are a client session).
        peer_is_server: bool,
        /// Why the write failed.
        cause: Box<CloseReason>,
    },
    /// The session's task failed (a bug); the runtime's words.
    Internal {
        /// What the runtime said.
        detail: String,
    },
    /// A relay pair: its target's side ended it (the reason is the target side's).
    ByTarget(Box<CloseReason>),
    /// A relay pair: the target could not be reached (or its TLS handshake failed), so the
    /// client was closed.
    TargetUnreachable(Box<StartFailure>),
    /// A relay pair: the client's TLS handshake failed (`tls`).
    ClientTls(TlsRejection),
    /// A UDP relay's mapping saw no datagram either way for this long.
    Idle {
        /// The idle timeout.
        ms: u64,
    },
    /// A relay pair: a fault's limit closed or reset both sides.
    Fault {
        /// The direction whose count reached it.
        leg: Leg,
        /// Which limit.
        fired: Fired,
    },
    /// A serial port's device went away (unplugged; its path is gone or it hung up).
    DeviceGone {
        /// The port's path.
        path: String,
    },
}

impl CloseReason {
    /// Whether the peer closed its side in order (FIN, with or without a TLS close_notify),
    /// so it may still read what is queued for it.
    pub fn peer_finished_sending(&self) -> bool {
        matches!(
            self,
            Self::ClosedByPeer | Self::ClosedByPeerTls | Self::ClosedWithoutCloseNotify
        )
    }
}

/// Why a session could not start: bind, connect, handshake or setup failed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum StartFailure {
    /// A serial port could not be opened.
    SerialOpen {
        /// The port's path.
        path: String,
        /// Why.
        fault: SerialFault,
    },
    /// The host name does not resolve.
    Resolve {
        /// The name.
        host: String,
        /// Why.
        cause: OsError,
    },
    /// The host name resolves to no address.
    NoAddress {
        /// The name.
        host: String,
    },
    /// Binding the local address failed.
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why (address in use, permission denied, address not available, ...).
        cause: OsError,
    },
    /// Listening on the bound socket failed.
    Listen {
        /// The address.
        addr: SocketAddr,
        /// Why.
        cause: OsError,
    },
    /// The connect failed (refused, unreachable, ...).
    Connect {
        /// The address.
        addr: SocketAddr,
        /// Why.
        cause: OsError,
    },
    /// No answer to the connect within the time limit.
    ConnectTimeout {
        /// The address.
        addr: SocketAddr,
        /// The limit.
        ms: u64,
    },
    /// The connection closed before its addresses could be read.
    ClosedWhileOpening,
    /// A UDP socket could not be opened.
    UdpSocket {
        /// Why.
        cause: OsError,
    },
    /// A UDP client could not be pointed at its target.
    Unreachable {
        /// The target.
        target: SocketAddr,
        /// Why.
        cause: OsError,
    },
    /// A group session's host is no multicast group.
    NotMulticast {
        /// What was given.
        host: String,
    },
    /// Where to join a group (`iface=`) could not be resolved.
    JoinPoint {
        /// The group.
        group: IpAddr,
        /// Why.
        problem: JoinProblem,
    },
    /// Joining the group failed.
    Join(JoinProblem),
    /// Setting up a group's socket failed at `step`.
    GroupSocket {
        /// What was being done.
        step: SocketStep,
        /// Why it failed.
        cause: OsError,
    },
    /// TLS could not be set up (certificate, key, CA, server name).
    TlsSetup(TlsSetupError),
    /// The TLS handshake with the server failed.
    TlsHandshake {
        /// The server (`HOST:PORT` or an address).
        addr: String,
        /// Why.
        fault: TlsFault,
    },
    /// The server did not answer our TLS hello in time.
    TlsHandshakeTimeout {
        /// The server.
        addr: SocketAddr,
        /// The limit.
        ms: u64,
    },
    /// The server did not finish the WebSocket upgrade in time.
    WsUpgradeTimeout {
        /// The URL.
        url: String,
        /// The limit.
        ms: u64,
    },
    /// No WebSocket request could be made for the URL.
    WsBadUrl {
        /// The URL.
        url: String,
        /// tungstenite's words.
        detail: String,
    },
    /// The `proto=` value cannot go in an HTTP header.
    WsBadSubprotocol {
        /// The value.
        subprotocol: String,
    },
    /// The server refused the upgrade with an HTTP status.
    WsRefused {
        /// The URL.
        url: String,
        /// The HTTP status code.
        status: u16,
        /// Its canonical reason phrase (`Not Found`), as HTTP names it.
        status_text: String,
        /// The first line of the response body, if any.
        body: Option<String>,
    },
    /// The server accepted none of the subprotocols asked for.
    WsNoSubprotocol {
        /// The URL.
        url: String,
        /// What was asked for.
        asked: String,
    },
    /// The upgrade failed.
    WsUpgradeFailed {
        /// The URL.
        url: String,
        /// Why.
        fault: WsFault,
    },
}

/// Why TLS could not be set up for a session.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum TlsSetupError {
    /// `key=FILE` without `cert=FILE`.
    KeyWithoutCert,
    /// rustls refused the protocol versions.
    Setup {
        /// rustls's words.
        detail: String,
    },
    /// The key does not belong to the certificate.
    KeyMismatch,
    /// The certificate and key cannot be used.
    CertKeyUnusable {
        /// rustls's words.
        detail: String,
    },
    /// The host is not a valid TLS server name.
    InvalidServerName {
        /// The host.
        host: String,
    },
    /// The CA file's certificates cannot be used.
    CaUnusable {
        /// The file.
        path: String,
        /// rustls's words.
        detail: String,
    },
    /// The certificate file cannot be read.
    ReadCertificate {
        /// The file.
        path: String,
        /// Why.
        cause: PemProblem,
    },
    /// The certificate file holds no certificate.
    NoCertificate {
        /// The file.
        path: String,
    },
    /// The key file holds no private key.
    NoKey {
        /// The file.
        path: String,
    },
    /// The key file cannot be read.
    ReadKey {
        /// The file.
        path: String,
        /// Why.
        cause: PemProblem,
    },
    /// The CA file cannot be read.
    ReadCa {
        /// The file.
        path: String,
        /// Why.
        cause: PemProblem,
    },
    /// The CA file holds no usable certificate.
    NoUsableCa {
        /// The file.
        path: String,
    },
    /// The system has no CA certificates.
    NoSystemRoots {
        /// What the loader said, if anything.
        detail: Option<String>,
    },
    /// A self-signed certificate could not be generated.
    Generate {
        /// rcgen's words.
        detail: String,
    },
}

/// Why a PEM file could not be read.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum PemProblem {
    /// The file could not be read.
    Io(OsError),
    /// It is not valid PEM.
    Invalid {
        /// The parser's words.
        detail: String,
    },
}

/// A network interface as a group session names it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Interface {
    /// By its name (`eth0`).
    Named(String),
    /// By its index, when it has no name we know.
    Index(u32),
    /// The one the OS chooses.
    Default,
}

/// Why a multicast group cannot be joined (or was left).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum JoinProblem {
    /// `iface=ADDR`: no interface has that address.
    NoInterfaceWithAddress {
        /// The address.
        addr: IpAddr,
    },
    /// The interface has no index (IPv6 needs one).
    NoIndex {
        /// The interface.
        interface: String,
    },
    /// `iface=ADDR` is not of the group's family.
    WrongFamily {
        /// What `iface=` says.
        iface: String,
        /// The group is IPv4 (else IPv6).
        group_ipv4: bool,
    },
    /// `iface=INDEX`: no interface with that index has an address.
    NoInterfaceWithIndex {
        /// The index.
        index: u32,
    },
    /// `iface=NAME`: no interface of that name has an address.
    NoInterfaceNamed {
        /// The name.
        name: String,
    },
    /// The interface has no IPv4 address.
    NoIpv4 {
        /// The interface.
        interface: String,
    },
    /// The interface is down.
    Down {
        /// The interface.
        interface: Interface,
    },
    /// The join itself failed.
    JoinFailed {
        /// The group.
        group: IpAddr,
        /// Where.
        interface: Interface,
        /// Why.
        cause: JoinCause,
    },
}

/// Why a join failed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum JoinCause {
    /// No interface routes multicast (the OS chose, and found none).
    NoMulticastRoute,
    /// The interface cannot take multicast (no such device).
    NoSuchDevice,
    /// Another OS error.
    Os(OsError),
}

/// A step of setting up a group's socket.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SocketStep {
    /// Opening the UDP socket.
    OpenUdp,
    /// SO_REUSEADDR.
    ShareAddress,
    /// SO_REUSEPORT.
    SharePort,
    /// Setting the IPv4 TTL.
    SetTtl {
        /// The TTL.
        ttl: u32,
    },
    /// Setting multicast loopback.
    SetLoopback,
    /// Sending from an IPv4 interface address.
    SendFrom {
        /// The address.
        addr: Ipv4Addr,
    },
    /// Setting the IPv6 hop limit.
    SetHops {
        /// The hop limit.
        hops: u32,
    },
    /// Sending on an IPv6 interface.
    SendOn {
        /// The interface.
        interface: Interface,
    },
}

/// Why a send went nowhere.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Refusal {
    /// The session is not running.
    SessionNotRunning,
    /// No client is connected.
    NoClient,
    /// The target client is no longer connected.
    PeerGone {
        /// The client.
        peer: PeerId,
    },
    /// No peer has sent a datagram to this UDP server yet.
    NoUdpPeer,
    /// The broadcast responder was forgotten.
    ResponderForgotten,
    /// The group source was forgotten.
    SourceForgotten,
    /// Injecting, holding and faults are a relay's; this session is none.
    NotARelay,
    /// A relay sends only by injecting, toward the target or the client.
    RelayNeedsLeg,
    /// A serial session's device is away; the session waits for it (`reconnect`).
    DeviceAway,
    /// A `reconnect` client is not connected; it tries again.
    Reconnecting,
    /// Control lines and breaks are a serial port's; this session is none.
    NotASerialPort,
}

impl Refusal {
    /// The session refuses only for now: it waits for its peer (a `reconnect` client between
    /// connections, a serial port whose device is away) and takes sends again once it is back.
    #[must_use]
    pub fn waits(&self) -> bool {
        matches!(self, Self::Reconnecting | Self::DeviceAway)
    }
}

/// Some peers, named by id: all of them counted, the first few listed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeerList {
    /// How many there are.
    pub total: usize,
    /// The first few.
    pub shown: Vec<PeerId>,
}

impl PeerList {
    /// Peers listed at most.
    const SHOWN: usize = 5;

    /// `peers`, the first few listed.
    pub fn of(peers: &[PeerId]) -> Self {
        Self {
            total: peers.len(),
            shown: peers.iter().take(Self::SHOWN).copied().collect(),
        }
    }
}

/// Something that went wrong without ending the session.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Warning {
    /// A send went nowhere.
    NotSent(Refusal),
    /// New auto-reply rules could not be used; the previous ones stay.
    RulesRejected(RuleError),
    /// A send (or an auto-reply) was refused: the peers are not reading.
    QueueFull {
        /// Who did not get it.
        peers: PeerList,
        /// KiB already queued.
        queued_kib: usize,
        /// The queue's limit in KiB.
        limit_kib: usize,
        /// It was an auto-reply.
        auto_reply: bool,
    },
    /// A send to a connection failed (the connection then ends).
    SendFailed {
        /// The connection.
        peer: PeerId,
        /// Why.
        cause: CloseReason,
    },
    /// Sends queued for a connection that ended were not sent.
    Unsent {
        /// How many.
        count: usize,
        /// WebSocket messages (else sends).
        messages: bool,
        /// Their bytes.
        bytes: usize,
        /// The connection.
        peer: PeerId,
        /// Why it ended.
        reason: CloseReason,
    },
    /// Accepting a connection failed (retried).
    AcceptFailed {
        /// Why.
        cause: OsError,
    },
    /// A datagram went out shorter than given.
    DatagramTruncated {
        /// Bytes sent.
        sent: usize,
        /// Bytes given.
        len: usize,
    },
    /// A send larger than one UDP datagram holds.
    DatagramTooBig {
        /// Its bytes.
        len: usize,
    },
    /// A datagram could not be sent.
    UdpSendFailed {
        /// Why.
        cause: OsError,
    },
    /// ICMP port unreachable from the target; the session goes on.
    PortUnreachable,
    /// A receive failed.
    ReceiveFailed {
        /// Why.
        cause: OsError,
    },
    /// The OS granted a smaller UDP receive buffer than asked for.
    ReceiveBufferCapped {
        /// KiB granted, as set (on Linux half what the kernel reports, the figure
        /// `net.core.rmem_max` caps).
        granted_kib: usize,
        /// KiB asked for.
        asked_kib: usize,
        /// The `net.core.rmem_max` that would allow it.
        rmem_max: usize,
    },
    /// The kernel dropped datagrams (receive buffer full).
    KernelDrops {
        /// Since the last report.
        dropped: u64,
        /// In all.
        total: u64,
    },
    /// An auto-reply rule matched but its reply cannot be built.
    ReplyUnbuildable {
        /// The rule's number (1-based).
        rule: usize,
        /// What the rule is.
        summary: RuleSummary,
        /// Why.
        error: SendError,
    },
    /// A TLS server dropped a client whose handshake failed.
    TlsClientDropped {
        /// The client.
        addr: SocketAddr,
        /// Why.
        why: TlsRejection,
    },
    /// A WebSocket server's TLS handshake with a client failed.
    TlsHandshakeFailed {
        /// The client.
        addr: SocketAddr,
        /// Why.
        fault: TlsFault,
    },
    /// A client's WebSocket upgrade failed.
    WsUpgradeFailed {
        /// The client.
        addr: SocketAddr,
        /// Why.
        fault: WsFault,
    },
    /// A client spoke TLS to a WebSocket server without `tls`.
    WsTlsWithoutTls {
        /// The client.
        addr: SocketAddr,
    },
    /// A client closed without sending an upgrade request.
    WsNoRequest {
        /// The client.
        addr: SocketAddr,
    },
    /// A client did not finish its upgrade in time.
    WsUpgradeTimeout {
        /// The client.
        addr: SocketAddr,
        /// The limit.
        ms: u64,
    },
    /// A serial port's control line could not be set, or a break not sent (a
    /// pseudo-terminal has no modem lines).
    SerialControlFailed {
        /// What was asked.
        control: crate::serial::SerialControl,
        /// Why it failed.
        fault: SerialFault,
    },
    /// The group was left (its interface changed or went down); joined again when it can.
    GroupLeft {
        /// The group.
        group: IpAddr,
        /// Why it could not be joined again.
        problem: JoinProblem,
    },
    /// Part of the session's log could not be written to disk (it spills there past its
    /// memory bound); that part and the older entries on disk were dropped, and the log
    /// goes on.
    LogSpillFailed {
        /// Why.
        cause: OsError,
        /// Entries dropped.
        lost_entries: u64,
    },
    /// The disk the session's log spills to is full: from now on the log keeps what fits
    /// there, dropping its oldest entries to make room (counted as dropped).
    LogDiskFull {
        /// The write's error.
        cause: OsError,
    },
}

/// What a WebSocket server's upgrade chose as subprotocol.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum WsSubprotocol {
    /// This one.
    Chosen(String),
    /// None: the client offered none, and `wanted` was wanted.
    NoneOffered {
        /// The one the server wants.
        wanted: String,
    },
    /// None: the client offered others than `wanted`.
    NotOffered {
        /// What the client offered.
        offered: Vec<String>,
        /// The one the server wants.
        wanted: String,
    },
    /// None, and none was wanted.
    Nothing,
}

/// Something a session did by itself, for the log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Note {
    /// A serial port opened, with these line settings.
    SerialOpened {
        /// The port's path.
        path: String,
        /// Its settings.
        line: crate::serial::SerialLine,
    },
    /// A `reconnect` client is not connected (its connect failed, or its connection ended)
    /// and tries again every `every_ms`.
    Reconnecting {
        /// Why it is not connected.
        why: Disconnected,
        /// How often it tries.
        every_ms: u64,
    },
    /// A serial port's device went away; the session waits for its path to come back.
    SerialWaiting {
        /// The port's path.
        path: String,
    },
    /// A serial port's control line was set, or a break sent, as the user asked.
    SerialControlled(crate::serial::SerialControl),
    /// An auto-reply rule matched and its reply goes out.
    AutoReply {
        /// The rule's number (1-based).
        rule: usize,
        /// What the rule is.
        summary: RuleSummary,
        /// The reply's length in bytes.
        len: usize,
        /// Its first bytes (at most [`Note::REPLY_SHOWN_BYTES`]).
        shown: Vec<u8>,
    },
    /// An auto-reply rule matched, but its reply is empty: nothing sent.
    AutoReplyEmpty {
        /// The rule's number (1-based).
        rule: usize,
        /// What the rule is.
        summary: RuleSummary,
    },
    /// The peer finished sending (half-close); the connection stays open for our sends.
    HalfClosed {
        /// The peer is a server (we are a client session).
        peer_is_server: bool,
    },
    /// A UDP session's peer table is full: from now on each new source replaces the peer
    /// idle longest (said once; each eviction is a disconnect that counts them).
    PeerTableFull {
        /// The table's cap (`max-peers=N`).
        limit: usize,
    },
    /// A server with `max-clients=N` has N clients: a connection was refused (closed), and
    /// more refusals are counted until a client leaves.
    ClientRefused {
        /// The cap.
        limit: usize,
        /// Who was refused.
        addr: SocketAddr,
    },
    /// How many more connections were refused while the server was full.
    ClientsRefused {
        /// The cap.
        limit: usize,
        /// Refused after the first one.
        count: u64,
    },
    /// A periodic send started.
    PeriodicStarted {
        /// Bytes of each send.
        bytes: usize,
        /// Time between sends.
        interval_ms: u64,
        /// How many; `None` until stopped.
        count: Option<u64>,
    },
    /// A periodic send waits: its session refuses sends until its peer is back.
    PeriodicPaused {
        /// Why the session refused (one that [`Refusal::waits`]).
        why: Refusal,
    },
    /// A periodic send that waited goes on: a send went through again.
    PeriodicResumed {
        /// Ticks whose send was refused while it waited.
        skipped: u64,
    },
    /// A periodic send ended.
    PeriodicEnded {
        /// Sends done.
        sent: u64,
        /// How it ended.
        outcome: JobOutcome,
    },
    /// A file send started.
    SendingFile {
        /// The file.
        name: String,
        /// Its size, when known.
        size: Option<u64>,
    },
    /// A file send ended.
    FileEnded {
        /// The file.
        name: String,
        /// Bytes sent.
        bytes: u64,
        /// How it ended.
        outcome: JobOutcome,
    },
    /// The group was joined again.
    Rejoined {
        /// The group.
        group: IpAddr,
        /// Where.
        interface: Interface,
    },
    /// A TLS server presents the certificate from a file.
    TlsCertificateLoaded {
        /// The file.
        path: String,
        /// What it is.
        certificate: CertSummary,
    },
    /// A TLS server generated a self-signed certificate.
    TlsCertificateGenerated {
        /// The names it is for.
        names: Vec<String>,
        /// Its SHA-256 fingerprint (`AB:CD:...`).
        fingerprint: String,
        /// Where its PEM went.
        pem: PemWrite,
    },
    /// Our TLS handshake with a server is done.
    TlsEstablished {
        /// What was agreed.
        session: TlsSession,
        /// The server's certificate.
        peer_certificate: Option<CertSummary>,
    },
    /// A client's TLS handshake with our server is done.
    TlsClientEstablished {
        /// What was agreed.
        session: TlsSession,
        /// The host name the client asked for (SNI).
        server_name: Option<String>,
        /// The client's certificate, if it sent one.
        client_certificate: Option<CertSummary>,
    },
    /// Our WebSocket upgrade succeeded.
    WsUpgraded {
        /// The URL.
        url: String,
        /// The HTTP status code.
        status: u16,
        /// Its canonical reason phrase.
        status_text: String,
        /// The subprotocol the server chose.
        subprotocol: Option<String>,
    },
    /// A client's WebSocket upgrade succeeded.
    WsClientUpgraded {
        /// The path it asked for.
        path: String,
        /// The subprotocol.
        subprotocol: WsSubprotocol,
    },
    /// A client's upgrade was refused (its path is not served).
    WsUpgradeRefused {
        /// The client.
        addr: SocketAddr,
        /// The path it asked for.
        path: String,
        /// The path this server serves, when it answered 404 for that.
        serves: Option<String>,
    },
    /// A plain HTTP request (no upgrade) was answered with 426.
    PlainHttpAnswered {
        /// The client.
        addr: SocketAddr,
        /// Its request line, escaped.
        request_line: String,
    },
    /// We sent a close 1000.
    WsCloseSent {
        /// Why we closed.
        why: CloseReason,
    },
    /// Our close could not be sent.
    WsCloseFailed {
        /// Why we closed.
        why: CloseReason,
        /// Why the close failed.
        fault: WsFault,
    },
    /// Our close could not be sent: the peer is not reading.
    WsCloseStuck {
        /// Why we closed.
        why: CloseReason,
    },
    /// The peer answered our close.
    WsCloseAnswered {
        /// Its close frame.
        close: WsClose,
    },
    /// The peer closed the connection without answering our close.
    WsCloseUnanswered,
    /// No answer to our close in time.
    WsCloseTimeout {
        /// The wait.
        ms: u64,
    },
    /// A ping came (and was answered).
    WsPing {
        /// Its payload's bytes.
        bytes: usize,
    },
    /// A pong came.
    WsPong {
        /// Its payload's bytes.
        bytes: usize,
    },
    /// The peer sent a close frame.
    WsPeerClosed {
        /// What it said.
        close: WsClose,
    },
    /// A relay pair's link to the target is open: from `local` (ours) to `target`.
    RelayLinked {
        /// Our end of the link.
        local: SocketAddr,
        /// The target's address.
        target: SocketAddr,
    },
    /// A relay's faults changed while it runs.
    FaultsChanged {
        /// The faults now in force (none when empty).
        faults: RelayFaults,
    },
    /// A relay's direction is held (or released): chunks queue (bounded) until released or
    /// stepped.
    Hold {
        /// The direction.
        leg: Leg,
        /// Held (else released).
        held: bool,
    },
    /// One held chunk of a pair was forwarded at the user's step.
    Stepped {
        /// The direction.
        leg: Leg,
        /// Its bytes.
        bytes: usize,
    },
    /// A `drop-after` limit was reached: the direction forwards nothing more (it keeps
    /// reading).
    Dropping {
        /// The direction.
        leg: Leg,
        /// The limit, in bytes.
        after: u64,
    },
}

impl Note {
    /// Bytes of an auto-reply shown in its note.
    pub const REPLY_SHOWN_BYTES: usize = 32;
}

/// Where a generated certificate's PEM went.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum PemWrite {
    /// Written, owner-only, here.
    Written {
        /// The file.
        path: String,
    },
    /// It could not be written there.
    Failed {
        /// The file.
        path: String,
        /// The system's words.
        reason: String,
    },
    /// The directory for sockdbg's files is not one to keep private files in.
    Refused {
        /// The file.
        path: String,
        /// The directory.
        dir: String,
        /// What is wrong with it.
        why: DirRefusal,
    },
    /// There is no directory for sockdbg's files (no home directory?).
    NoDirectory,
}

/// Why a directory is not used for private files.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum DirRefusal {
    /// It is a symlink (it could point anywhere).
    #[error("is a symlink")]
    Symlink,
    /// It is not a directory.
    #[error("is not a directory")]
    NotDirectory,
    /// Another user owns it.
    #[error("belongs to another user")]
    OtherOwner,
}

/// Why a background send could not go on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum JobFailure {
    /// The session is not running.
    NotRunning,
    /// The session stopped.
    SessionStopped,
    /// Its sends reach no one.
    Refused(Refusal),
    /// A payload's variable stopped fitting its place (`${seq}` past 255 in hex).
    Expand(crate::scenario::vars::ExpandError),
}

/// Why a scenario run did not run at all.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NotRun {
    /// A session the run started could not start.
    StartFailed(StartFailure),
    /// The engine refused the run.
    Refused(JobFailure),
}

impl NotRun {
    /// Why, from the run's end (`refused`) and the first start failure seen of a session
    /// the run started: that failure is the reason also when the engine found the session
    /// already ended and refused the run as not running (a refused connect can end it
    /// before the run attaches). `None`: it ran.
    pub fn of(refused: Option<&JobFailure>, start_failure: Option<&StartFailure>) -> Option<Self> {
        match (refused, start_failure) {
            (None | Some(JobFailure::NotRunning), Some(failure)) => {
                Some(Self::StartFailed(failure.clone()))
            }
            (Some(refused), _) => Some(Self::Refused(refused.clone())),
            (None, None) => None,
        }
    }
}

/// Why a file send's file could not be used.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum FileError {
    /// It could not be opened.
    Open {
        /// The file.
        name: String,
        /// Why.
        cause: OsError,
    },
    /// A read failed.
    Read {
        /// The file.
        name: String,
        /// Why.
        cause: OsError,
    },
}
