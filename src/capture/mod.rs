//! Capture to pcapng: every byte a session moves, both ways, as packets Wireshark and tshark
//! open and dissect. Headers are synthesized with `etherparse` (Ethernet II, IPv4/IPv6,
//! TCP or UDP with the real addresses and ports) and written with `pcap-file`.
//!
//! The capture is fed from the engine's event stream, not from the traffic log, so it is
//! lossless even when the log evicts old entries. [`CaptureThread`] writes on a thread of its
//! own: whoever feeds it (the UI thread, the headless driver) only clones an event into an
//! unbounded channel and never waits on the disk. Fed through
//! [`CaptureThread::feed_counted`] (as [`crate::intake::Intake`] does), the traffic bytes
//! queued stay counted in the engine's flow-control gauge until written, so a capture that
//! falls behind (a slow disk) slows the peers down instead of queueing without bound.
//!
//! TCP: each connection gets a synthesized three-way handshake when it opens (or when it is
//! first seen, for a capture started mid-connection), data segments with consistent sequence
//! and acknowledgement numbers, and a FIN exchange when it closes. Payloads larger than one IP
//! packet are split into consecutive segments (UDP: datagrams). A server listening on an
//! unspecified address (`0.0.0.0`, `::`) does not learn the address each connection arrived
//! on; the capture then uses the loopback address for loopback peers, else the unspecified one.
//!
//! Serial sessions have no addresses: their bytes go on an interface of their own (made when
//! the first of them is written) with the RTAC serial link type, which Wireshark and tshark
//! dissect: a 12-byte header (time, `DATA_TX_START` or `DATA_RX_START`, control lines) then
//! the bytes as they crossed the line; each packet also carries the pcapng direction flag.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use etherparse::PacketBuilder;
use pcap_file::DataLink;
use pcap_file::pcapng::blocks::enhanced_packet::{EnhancedPacketBlock, EnhancedPacketOption};
use pcap_file::pcapng::blocks::interface_description::{
    InterfaceDescriptionBlock, InterfaceDescriptionOption,
};
use pcap_file::pcapng::{PcapNgBlock, PcapNgWriter};

use crate::engine::InFlight;
use crate::protocol::{Direction, Event, Note, PeerId, SessionId};
use crate::spec::{SessionKind, SessionSpec};

/// Largest payload put in one synthesized packet (fits IPv4 and IPv6 with TCP or UDP).
const MAX_SEGMENT: usize = 65_000;
/// Initial sequence numbers of the synthesized connections.
const LOCAL_ISN: u32 = 1_000;
const PEER_ISN: u32 = 500_000;
const LOCAL_MAC: [u8; 6] = [0x02, 0, 0, 0, 0, 0x01];
const PEER_MAC: [u8; 6] = [0x02, 0, 0, 0, 0, 0x02];
const WINDOW: u16 = 65_535;
/// The pcapng interface of serial sessions' bytes (the Ethernet one is 0).
const SERIAL_INTERFACE: u32 = 1;
/// RTAC serial event types: bytes we sent, bytes we received.
const RTAC_TX: u8 = 0x01;
const RTAC_RX: u8 = 0x02;
/// The pcapng `epb_flags` direction bits: inbound, outbound.
const EPB_INBOUND: u32 = 1;
const EPB_OUTBOUND: u32 = 2;

/// Why a capture failed.
#[derive(Clone, Debug, thiserror::Error)]
pub enum CaptureError {
    /// The file could not be created or written.
    #[error("capture file {path}: {reason}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The system's words.
        reason: String,
    },
    /// pcap-file refused a block.
    #[error("capture file {path}: {message}")]
    Format {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
}

/// One connection's synthesized TCP state.
#[derive(Clone, Copy, Debug)]
struct Flow {
    local: SocketAddr,
    peer: SocketAddr,
    tcp: bool,
    /// Next sequence numbers of each side.
    local_seq: u32,
    peer_seq: u32,
}

/// Turns events into pcapng packets on any writer. Use [`CaptureThread`] to keep the disk off
/// the caller's thread.
pub struct PcapngCapture<W: Write> {
    writer: PcapNgWriter<W>,
    /// Only this session's events are written, when set.
    only: Option<SessionId>,
    sessions: HashMap<SessionId, (SessionKind, Option<SocketAddr>)>,
    flows: HashMap<(SessionId, PeerId), Flow>,
    /// A relay pair's link to its target, a flow of its own (the client's is in `flows`).
    target_flows: HashMap<(SessionId, PeerId), Flow>,
    /// Whether the serial interface's description is written yet.
    serial_interface: bool,
    packets: u64,
}

impl<W: Write> PcapngCapture<W> {
    /// Writes the section and interface headers to `out`.
    ///
    /// # Errors
    /// The message of pcap-file's error when the headers cannot be written.
    pub fn new(out: W, only: Option<SessionId>) -> Result<Self, String> {
        let mut writer = PcapNgWriter::new(out).map_err(|e| e.to_string())?;
        let interface = InterfaceDescriptionBlock {
            linktype: DataLink::ETHERNET,
            snaplen: 0,
            // pcap-file writes nanoseconds; say so.
            options: vec![
                InterfaceDescriptionOption::IfName(Cow::Borrowed("sockdbg")),
                InterfaceDescriptionOption::IfTsResol(9),
            ],
        };
        writer
            .write_block(&interface.into_block())
            .map_err(|e| e.to_string())?;
        Ok(Self {
            writer,
            only,
            sessions: HashMap::new(),
            flows: HashMap::new(),
            target_flows: HashMap::new(),
            serial_interface: false,
            packets: 0,
        })
    }

    /// Makes a session known: its kind, and its local address when it is already running.
    pub fn add_session(&mut self, id: SessionId, spec: &SessionSpec, local: Option<SocketAddr>) {
        self.sessions.insert(id, (spec.kind, local));
    }

    /// Makes a peer that connected before the capture started known; TCP gets its handshake.
    ///
    /// # Errors
    /// As [`Self::record`].
    pub fn add_peer(
        &mut self,
        id: SessionId,
        peer: PeerId,
        addr: SocketAddr,
        at: SystemTime,
    ) -> Result<(), String> {
        self.open_flow(id, peer, addr, at)
    }

    /// Packets written so far.
    pub fn packets(&self) -> u64 {
        self.packets
    }

    /// Writes what `event` moved (or opened, or closed).
    ///
    /// # Errors
    /// The message of the writer's error.
    pub fn record(&mut self, event: &Event) -> Result<(), String> {
        let id = event.session();
        if self.only.is_some_and(|only| only != id) {
            return Ok(());
        }
        if let Event::Datagrams { .. } = event {
            // Each datagram is a packet of its own.
            for single in event.clone().unbatched() {
                self.record(&single)?;
            }
            return Ok(());
        }
        match event {
            Event::Started { local_addr, .. } => {
                if let Some(session) = self.sessions.get_mut(&id) {
                    session.1 = Some(*local_addr);
                }
            }
            // A serial port has no connection to synthesize.
            Event::PeerConnected { .. } if self.is_serial(id) => {}
            Event::Traffic { dir, data, at, .. } if self.is_serial(id) => {
                self.serial_data(*dir, data, *at)?;
            }
            Event::PeerConnected { peer, addr, at, .. } => {
                self.open_flow(id, *peer, *addr, *at)?;
            }
            Event::Traffic {
                id: _,
                peer,
                dir,
                data,
                injected,
                at,
            } => {
                // A relay's chunk is on both legs, unless it was injected (then only on the
                // one it was written to).
                let (client, target) = match dir {
                    Direction::Rx | Direction::Tx => (Some(*dir), None),
                    Direction::Up if *injected => (None, Some(Direction::Tx)),
                    Direction::Up => (Some(Direction::Rx), Some(Direction::Tx)),
                    Direction::Down if *injected => (Some(Direction::Tx), None),
                    Direction::Down => (Some(Direction::Tx), Some(Direction::Rx)),
                };
                if let Some(dir) = client {
                    self.send_on(Side::Client, (id, *peer), dir, data, *at)?;
                }
                if let Some(dir) = target {
                    self.send_on(Side::Target, (id, *peer), dir, data, *at)?;
                }
            }
            Event::Note {
                peer: Some(peer),
                note: Note::RelayLinked { local, target },
                at,
                ..
            } => {
                let tcp = self.sessions.get(&id).is_some_and(|s| s.0.is_tcp());
                let mut flow = Flow {
                    local: *local,
                    peer: *target,
                    tcp,
                    local_seq: LOCAL_ISN,
                    peer_seq: PEER_ISN,
                };
                if tcp {
                    // The relay opened this one.
                    self.control(&mut flow, Direction::Tx, Flags::Syn, *at)?;
                    self.control(&mut flow, Direction::Rx, Flags::SynAck, *at)?;
                    self.control(&mut flow, Direction::Tx, Flags::Ack, *at)?;
                }
                self.target_flows.insert((id, *peer), flow);
            }
            Event::PeerDisconnected { peer, at, .. } => {
                if let Some(flow) = self.flows.remove(&(id, *peer)) {
                    self.close_flow(flow, *at)?;
                }
                if let Some(flow) = self.target_flows.remove(&(id, *peer)) {
                    self.close_flow(flow, *at)?;
                }
            }
            Event::Stopped { .. } => {
                let peers: Vec<_> = self.flows.keys().filter(|k| k.0 == id).copied().collect();
                for key in peers {
                    if let Some(flow) = self.flows.remove(&key) {
                        self.close_flow(flow, SystemTime::now())?;
                    }
                }
                let peers: Vec<_> = (self.target_flows.keys())
                    .filter(|k| k.0 == id)
                    .copied()
                    .collect();
                for key in peers {
                    if let Some(flow) = self.target_flows.remove(&key) {
                        self.close_flow(flow, SystemTime::now())?;
                    }
                }
            }
            // Notes, warnings, failures: nothing moved on the wire.
            _ => {}
        }
        Ok(())
    }

    /// Flushes the underlying writer.
    ///
    /// # Errors
    /// The writer's IO error.
    pub fn flush(&mut self) -> std::io::Result<()> {
        self.writer.get_mut().flush()
    }

    /// The writer, flushed or not.
    pub fn into_inner(self) -> W {
        self.writer.into_inner()
    }

    fn is_serial(&self, id: SessionId) -> bool {
        self.sessions
            .get(&id)
            .is_some_and(|s| s.0 == SessionKind::Serial)
    }

    /// Writes bytes a serial session moved on the serial interface (described first, once).
    fn serial_data(&mut self, dir: Direction, data: &[u8], at: SystemTime) -> Result<(), String> {
        if !self.serial_interface {
            let interface = InterfaceDescriptionBlock {
                linktype: DataLink::RTAC_SERIAL,
                snaplen: 0,
                options: vec![
                    InterfaceDescriptionOption::IfName(Cow::Borrowed("sockdbg-serial")),
                    InterfaceDescriptionOption::IfTsResol(9),
                ],
            };
            self.writer
                .write_block(&interface.into_block())
                .map_err(|e| e.to_string())?;
            self.serial_interface = true;
        }
        let since = at.duration_since(UNIX_EPOCH).unwrap_or(Duration::ZERO);
        let (event, flags) = match dir {
            Direction::Tx | Direction::Up => (RTAC_TX, EPB_OUTBOUND),
            Direction::Rx | Direction::Down => (RTAC_RX, EPB_INBOUND),
        };
        for chunk in data.chunks(MAX_SEGMENT) {
            let mut packet = Vec::with_capacity(12 + chunk.len());
            let seconds = u32::try_from(since.as_secs()).unwrap_or(u32::MAX);
            packet.extend_from_slice(&seconds.to_be_bytes());
            packet.extend_from_slice(&since.subsec_micros().to_be_bytes());
            // The event, the control lines (not known here), a footer.
            packet.extend_from_slice(&[event, 0, 0, 0]);
            packet.extend_from_slice(chunk);
            let options = vec![EnhancedPacketOption::Flags(flags)];
            self.write_on(SERIAL_INTERFACE, &packet, at, options)?;
        }
        Ok(())
    }

    fn open_flow(
        &mut self,
        id: SessionId,
        peer: PeerId,
        addr: SocketAddr,
        at: SystemTime,
    ) -> Result<(), String> {
        let (kind, local) = self
            .sessions
            .get(&id)
            .copied()
            .unwrap_or((SessionKind::TcpServer, None));
        let local = capture_local_addr(local, addr);
        let mut flow = Flow {
            local,
            peer: addr,
            tcp: kind.is_tcp(),
            local_seq: LOCAL_ISN,
            peer_seq: PEER_ISN,
        };
        if flow.tcp {
            // Who opened the connection sends the SYN.
            let local_opens = !kind.is_server();
            let (first, second) = if local_opens {
                (Direction::Tx, Direction::Rx)
            } else {
                (Direction::Rx, Direction::Tx)
            };
            self.control(&mut flow, first, Flags::Syn, at)?;
            self.control(&mut flow, second, Flags::SynAck, at)?;
            self.control(&mut flow, first, Flags::Ack, at)?;
        }
        self.flows.insert((id, peer), flow);
        Ok(())
    }

    /// Writes `data` on one side's flow of a peer (split into segments), if it is known.
    fn send_on(
        &mut self,
        side: Side,
        key: (SessionId, PeerId),
        dir: Direction,
        data: &[u8],
        at: SystemTime,
    ) -> Result<(), String> {
        let flows = match side {
            Side::Client => &self.flows,
            Side::Target => &self.target_flows,
        };
        let Some(mut flow) = flows.get(&key).copied() else {
            return Ok(()); // a peer never announced: nothing to address it with
        };
        for segment in data.chunks(MAX_SEGMENT) {
            self.data(&mut flow, dir, segment, at)?;
        }
        match side {
            Side::Client => self.flows.insert(key, flow),
            Side::Target => self.target_flows.insert(key, flow),
        };
        Ok(())
    }

    fn close_flow(&mut self, mut flow: Flow, at: SystemTime) -> Result<(), String> {
        if flow.tcp {
            self.control(&mut flow, Direction::Rx, Flags::FinAck, at)?;
            self.control(&mut flow, Direction::Tx, Flags::FinAck, at)?;
            self.control(&mut flow, Direction::Rx, Flags::Ack, at)?;
        }
        Ok(())
    }

    fn control(
        &mut self,
        flow: &mut Flow,
        dir: Direction,
        flags: Flags,
        at: SystemTime,
    ) -> Result<(), String> {
        let packet = build(flow, dir, flags, &[])?;
        // SYN and FIN take one sequence number.
        if matches!(flags, Flags::Syn | Flags::SynAck | Flags::FinAck) {
            advance(flow, dir, 1);
        }
        self.write_packet(&packet, at)
    }

    fn data(
        &mut self,
        flow: &mut Flow,
        dir: Direction,
        payload: &[u8],
        at: SystemTime,
    ) -> Result<(), String> {
        let packet = build(flow, dir, Flags::PshAck, payload)?;
        if flow.tcp {
            advance(flow, dir, payload.len());
        }
        self.write_packet(&packet, at)
    }

    fn write_packet(&mut self, packet: &[u8], at: SystemTime) -> Result<(), String> {
        self.write_on(0, packet, at, vec![])
    }

    fn write_on(
        &mut self,
        interface_id: u32,
        packet: &[u8],
        at: SystemTime,
        options: Vec<EnhancedPacketOption<'_>>,
    ) -> Result<(), String> {
        let timestamp = at.duration_since(UNIX_EPOCH).unwrap_or(Duration::ZERO);
        let block = EnhancedPacketBlock {
            interface_id,
            timestamp,
            original_len: u32::try_from(packet.len()).unwrap_or(u32::MAX),
            data: Cow::Borrowed(packet),
            options,
        };
        self.writer
            .write_block(&block.into_block())
            .map_err(|e| e.to_string())?;
        self.packets += 1;
        Ok(())
    }
}

/// Which flow of a peer: the connection with the session's peer, or a relay pair's link to
/// its target.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Side {
    Client,
    Target,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Flags {
    Syn,
    SynAck,
    Ack,
    PshAck,
    FinAck,
}

/// Moves the sender's sequence number on; `dir` is `Tx` (we sent) or `Rx` (a relay's legs
/// are mapped to those before they get here).
fn advance(flow: &mut Flow, dir: Direction, by: usize) {
    let by = u32::try_from(by).unwrap_or(u32::MAX);
    match dir {
        Direction::Tx | Direction::Up => flow.local_seq = flow.local_seq.wrapping_add(by),
        Direction::Rx | Direction::Down => flow.peer_seq = flow.peer_seq.wrapping_add(by),
    }
}

/// The local address to put in packets: the session's, with an unspecified IP replaced by
/// loopback when the peer is on loopback (see the module docs).
fn capture_local_addr(local: Option<SocketAddr>, peer: SocketAddr) -> SocketAddr {
    let mut local = local.unwrap_or_else(|| match peer.ip() {
        IpAddr::V4(_) => SocketAddr::from((Ipv4Addr::UNSPECIFIED, 0)),
        IpAddr::V6(_) => SocketAddr::from((Ipv6Addr::UNSPECIFIED, 0)),
    });
    if local.ip().is_unspecified() && peer.ip().is_loopback() {
        local.set_ip(peer.ip());
    }
    // An IPv4 peer seen by a dual-stack socket shows as ::ffff:a.b.c.d; keep families equal.
    match (local.ip(), peer.ip()) {
        (IpAddr::V6(l), IpAddr::V4(_)) => {
            let ip = l.to_ipv4_mapped().unwrap_or(Ipv4Addr::UNSPECIFIED);
            SocketAddr::new(IpAddr::V4(ip), local.port())
        }
        (IpAddr::V4(l), IpAddr::V6(_)) => {
            SocketAddr::new(IpAddr::V6(l.to_ipv6_mapped()), local.port())
        }
        _ => local,
    }
}

fn build(flow: &Flow, dir: Direction, flags: Flags, payload: &[u8]) -> Result<Vec<u8>, String> {
    let (src, dst, src_mac, dst_mac, seq, ack) = match dir {
        Direction::Tx | Direction::Up => (
            flow.local,
            flow.peer,
            LOCAL_MAC,
            PEER_MAC,
            flow.local_seq,
            flow.peer_seq,
        ),
        Direction::Rx | Direction::Down => (
            flow.peer,
            flow.local,
            PEER_MAC,
            LOCAL_MAC,
            flow.peer_seq,
            flow.local_seq,
        ),
    };
    let eth = PacketBuilder::ethernet2(src_mac, dst_mac);
    let ip = match (src.ip(), dst.ip()) {
        (IpAddr::V4(s), IpAddr::V4(d)) => eth.ipv4(s.octets(), d.octets(), 64),
        (s, d) => eth.ipv6(v6(s).octets(), v6(d).octets(), 64),
    };
    let mut out = Vec::with_capacity(payload.len() + 80);
    if flow.tcp {
        let tcp = ip.tcp(src.port(), dst.port(), seq, WINDOW);
        let tcp = match flags {
            Flags::Syn => tcp.syn(),
            Flags::SynAck => tcp.syn().ack(ack),
            Flags::Ack => tcp.ack(ack),
            Flags::PshAck => tcp.psh().ack(ack),
            Flags::FinAck => tcp.fin().ack(ack),
        };
        tcp.write(&mut out, payload).map_err(|e| e.to_string())?;
    } else {
        ip.udp(src.port(), dst.port())
            .write(&mut out, payload)
            .map_err(|e| e.to_string())?;
    }
    Ok(out)
}

fn v6(ip: IpAddr) -> Ipv6Addr {
    match ip {
        IpAddr::V4(v4) => v4.to_ipv6_mapped(),
        IpAddr::V6(v6) => v6,
    }
}

#[allow(clippy::large_enum_variant)] // most messages are events: boxing would allocate each
enum Message {
    Event(Event, Option<Held>),
    Peer(SessionId, PeerId, SocketAddr, SystemTime),
}

/// Traffic bytes a queued event keeps counted in the flow-control gauge. Dropping it (once
/// the event is written, or when a failed capture discards what was queued) counts them
/// back, so the engine never waits for bytes the capture will not write.
struct Held {
    gauge: InFlight,
    len: usize,
}

impl Drop for Held {
    fn drop(&mut self) {
        self.gauge.taken(self.len);
    }
}

/// A capture writing on its own thread. Feeding it never blocks; dropping it (or
/// [`CaptureThread::finish`]) writes what is queued, flushes and closes the file.
pub struct CaptureThread {
    path: PathBuf,
    tx: Option<crossbeam_channel::Sender<Message>>,
    thread: Option<JoinHandle<Result<u64, CaptureError>>>,
    packets: std::sync::Arc<std::sync::atomic::AtomicU64>,
    failed: std::sync::Arc<std::sync::Mutex<Option<CaptureError>>>,
}

impl CaptureThread {
    /// Creates `path` and starts writing `sessions` (all sessions' events when `only` is
    /// `None`, else only that one's). `sessions` gives each session's spec and local address.
    ///
    /// # Errors
    /// [`CaptureError`] when the file cannot be created or its header written.
    pub fn start(
        path: &Path,
        only: Option<SessionId>,
        sessions: &[(SessionId, SessionSpec, Option<SocketAddr>)],
    ) -> Result<Self, CaptureError> {
        let io_error = |source: std::io::Error| CaptureError::Io {
            path: path.to_path_buf(),
            reason: source.to_string(),
        };
        let file = File::create(path).map_err(io_error)?;
        let mut capture = PcapngCapture::new(BufWriter::new(file), only).map_err(|message| {
            CaptureError::Format {
                path: path.to_path_buf(),
                message,
            }
        })?;
        for (id, spec, local) in sessions {
            capture.add_session(*id, spec, *local);
        }
        capture.flush().map_err(io_error)?;
        let (tx, rx) = crossbeam_channel::unbounded::<Message>();
        let packets = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
        let failed = std::sync::Arc::new(std::sync::Mutex::new(None));
        let (packets_out, failed_out) = (packets.clone(), failed.clone());
        let thread_path = path.to_path_buf();
        let thread = std::thread::Builder::new()
            .name("sockdbg-capture".into())
            .spawn(move || {
                let result = write_loop(&mut capture, &rx, &packets_out, &thread_path);
                if let Err(e) = &result
                    && let Ok(mut slot) = failed_out.lock()
                {
                    *slot = Some(e.clone());
                }
                result
            })
            .map_err(io_error)?;
        Ok(Self {
            path: path.to_path_buf(),
            tx: Some(tx),
            thread: Some(thread),
            packets,
            failed,
        })
    }

    /// The file being written.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Queues an event. Never blocks.
    pub fn feed(&self, event: &Event) {
        self.queue(event, None);
    }

    /// Queues an event whose traffic bytes are counted in `in_flight` and stay counted until
    /// written (or until a failed capture drops them), then are counted back: a capture that
    /// falls behind holds the engine back by the flow-control budget, as a slow receiver
    /// does, instead of queueing without bound. Never blocks.
    pub fn feed_counted(&self, event: &Event, in_flight: &InFlight) {
        let held = Held {
            gauge: in_flight.clone(),
            len: event.traffic_len(),
        };
        self.queue(event, Some(held));
    }

    fn queue(&self, event: &Event, held: Option<Held>) {
        if let Some(tx) = &self.tx {
            // Refused, the message (and what it held) is dropped here.
            tx.send(Message::Event(event.clone(), held)).ok(); // writer failed; `error` says why
        }
    }

    /// Announces a peer connected before the capture started.
    pub fn feed_peer(&self, id: SessionId, peer: PeerId, addr: SocketAddr) {
        if let Some(tx) = &self.tx {
            tx.send(Message::Peer(id, peer, addr, SystemTime::now()))
                .ok(); // writer failed; `error` says why
        }
    }

    /// Packets written so far.
    pub fn packets(&self) -> u64 {
        self.packets.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Why writing stopped, if it failed.
    pub fn error(&self) -> Option<CaptureError> {
        self.failed.lock().ok().and_then(|slot| slot.clone())
    }

    /// Writes everything queued, closes the file, and returns the packet count.
    ///
    /// # Errors
    /// [`CaptureError`] when writing failed at some point.
    pub fn finish(mut self) -> Result<u64, CaptureError> {
        self.stop()
    }

    fn stop(&mut self) -> Result<u64, CaptureError> {
        self.tx = None; // the thread drains the channel, then ends
        match self.thread.take().map(JoinHandle::join) {
            Some(Ok(result)) => result,
            Some(Err(_)) => Err(CaptureError::Format {
                path: self.path.clone(),
                message: "the capture thread panicked".to_string(),
            }),
            None => Ok(self.packets()),
        }
    }
}

impl Drop for CaptureThread {
    fn drop(&mut self) {
        self.stop().ok(); // an error was already stored for `error()`
    }
}

fn write_loop(
    capture: &mut PcapngCapture<BufWriter<File>>,
    rx: &crossbeam_channel::Receiver<Message>,
    packets: &std::sync::atomic::AtomicU64,
    path: &Path,
) -> Result<u64, CaptureError> {
    let format_error = |message| CaptureError::Format {
        path: path.to_path_buf(),
        message,
    };
    let io_error = |source: std::io::Error| CaptureError::Io {
        path: path.to_path_buf(),
        reason: source.to_string(),
    };
    while let Ok(first) = rx.recv() {
        // Write everything queued, then flush once: the file is complete on disk whenever the
        // stream pauses, and a flood costs one flush per batch.
        for message in std::iter::once(first).chain(rx.try_iter()) {
            match message {
                // Written: what the event held is counted back as it drops here.
                Message::Event(event, _held) => capture.record(&event).map_err(format_error)?,
                Message::Peer(id, peer, addr, at) => {
                    capture.add_peer(id, peer, addr, at).map_err(format_error)?;
                }
            }
        }
        capture.flush().map_err(io_error)?;
        packets.store(capture.packets(), std::sync::atomic::Ordering::Relaxed);
    }
    capture.flush().map_err(io_error)?;
    Ok(capture.packets())
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;
    use pcap_file::pcapng::{Block, PcapNgReader};

    fn addr(s: &str) -> SocketAddr {
        s.parse().expect("addr")
    }

    #[test]
    fn tcp_payloads_round_trip_with_consistent_sequence_numbers() {
        let id = SessionId(1);
        let mut capture = PcapngCapture::new(Vec::new(), None).expect("header");
        capture.add_session(id, &"tcp-server:0.0.0.0:6001".parse().expect("spec"), None);
        let at = SystemTime::now();
        let events = [
            Event::Started {
                id,
                local_addr: addr("0.0.0.0:6001"),
                at: std::time::SystemTime::now(),
            },
            Event::PeerConnected {
                id,
                peer: PeerId(1),
                addr: addr("127.0.0.1:5000"),
                at,
            },
            Event::Traffic {
                id,
                peer: PeerId(1),
                dir: Direction::Rx,
                data: Bytes::from_static(b"hello"),
                injected: false,
                at,
            },
            Event::Traffic {
                id,
                peer: PeerId(1),
                dir: Direction::Tx,
                data: Bytes::from(vec![7u8; 70_000]),
                injected: false,
                at,
            },
            Event::PeerDisconnected {
                id,
                peer: PeerId(1),
                reason: crate::protocol::CloseReason::ClosedByPeer,
                at,
            },
        ];
        for e in &events {
            capture.record(e).expect("written");
        }
        let file = capture.into_inner();
        let mut reader = PcapNgReader::new(&file[..]).expect("pcapng");
        let mut segments = Vec::new();
        while let Some(block) = reader.next_block() {
            if let Block::EnhancedPacket(p) = block.expect("block") {
                let sliced = etherparse::SlicedPacket::from_ethernet(&p.data).expect("parses");
                let Some(etherparse::TransportSlice::Tcp(tcp)) = sliced.transport else {
                    panic!("tcp")
                };
                segments.push((
                    tcp.source_port(),
                    tcp.sequence_number(),
                    tcp.syn(),
                    tcp.fin(),
                    tcp.payload().to_vec(),
                ));
            }
        }
        // SYN, SYN-ACK, ACK, data in, two data out, FIN, FIN, ACK
        assert_eq!(segments.len(), 9, "{segments:?}");
        assert_eq!(segments[3].4, b"hello");
        assert_eq!(segments[3].0, 5000);
        assert_eq!(segments[4].4.len() + segments[5].4.len(), 70_000);
        assert_eq!(segments[5].1, segments[4].1 + segments[4].4.len() as u32);
        assert_eq!(segments[3].1, PEER_ISN + 1, "SYN took one");
    }
}
