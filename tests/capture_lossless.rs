//! A capture started from the window keeps every byte even when the window's log, bounded to
//! a few MiB here, evicts most of them: the capture is fed from the event stream, not the log.
//! Events go through the App's real event channel; no socket is needed.

use std::net::SocketAddr;
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use sockdbg::app::{Action, App, EngineLink};
use sockdbg::model::Sessions;
use sockdbg::protocol::{Direction, Event, PeerId};
use sockdbg::ui::traffic_view::TrafficAction;

#[test]
fn capture_is_lossless_while_the_log_evicts() {
    let (command_tx, _command_rx) = tokio::sync::mpsc::unbounded_channel();
    let (event_tx, event_rx) = crossbeam_channel::unbounded();
    let mut app = App::new(
        EngineLink::from_channels(command_tx, event_rx),
        None,
        vec![],
    );
    app.sessions = Sessions::new(3 * 1024 * 1024);
    let id = app
        .sessions
        .create("tcp-server:127.0.0.1:6001".parse().expect("spec"));
    let local: SocketAddr = "127.0.0.1:6001".parse().expect("addr");
    let peer_addr: SocketAddr = "127.0.0.1:50000".parse().expect("addr");
    event_tx
        .send(Event::Started {
            id,
            local_addr: local,
        })
        .expect("send");
    app.drain_events();

    let pcap = std::env::temp_dir().join(format!("sockdbg-lossless-{}.pcapng", std::process::id()));
    app.perform(Action::Traffic(
        id,
        TrafficAction::StartCapture(pcap.clone()),
    ));
    assert!(app.traffic.get(&id).is_some_and(|t| t.capture.is_some()));

    let at = SystemTime::now();
    event_tx
        .send(Event::PeerConnected {
            id,
            peer: PeerId(1),
            addr: peer_addr,
            at,
        })
        .expect("send");
    let chunks = 160usize;
    let mut sent = Vec::new();
    for i in 0..chunks {
        let chunk: Vec<u8> = (0..64 * 1024).map(|j| ((i * 7 + j) % 251) as u8).collect();
        sent.extend_from_slice(&chunk);
        event_tx
            .send(Event::Traffic {
                id,
                peer: PeerId(1),
                dir: Direction::Rx,
                data: Bytes::from(chunk),
                at,
            })
            .expect("send");
        app.drain_events();
    }
    let session = app.sessions.get(id).expect("session");
    assert!(
        session.log.evicted_entries() > 100,
        "the log kept only part: {} evicted",
        session.log.evicted_entries()
    );
    app.perform(Action::Traffic(id, TrafficAction::StopCapture));
    assert!(app.traffic.get(&id).is_some_and(|t| t.capture.is_none()));

    let deadline = Instant::now() + Duration::from_secs(5);
    let file = loop {
        let file = std::fs::read(&pcap).expect("capture file");
        if !file.is_empty() || Instant::now() > deadline {
            break file;
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let mut reader = pcap_file::pcapng::PcapNgReader::new(&file[..]).expect("pcapng");
    let mut received = Vec::new();
    while let Some(block) = reader.next_block() {
        if let pcap_file::pcapng::Block::EnhancedPacket(p) = block.expect("block") {
            let sliced = etherparse::SlicedPacket::from_ethernet(&p.data).expect("packet");
            if let Some(etherparse::TransportSlice::Tcp(tcp)) = sliced.transport
                && tcp.destination_port() == 6001
            {
                received.extend_from_slice(tcp.payload());
            }
        }
    }
    assert_eq!(received.len(), sent.len());
    assert!(received == sent, "every byte, in order");
    std::fs::remove_file(&pcap).ok();
}
