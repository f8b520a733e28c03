//! The window at scale: thousands of clients and a large log are drawn virtualized (only
//! the rows on screen are laid out), fed through the real event channel of the real `App`.

use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use sockdbg::app::{App, EngineLink};
use sockdbg::protocol::{Command, Direction, Event, PeerId, SessionId};

const CLIENTS: u64 = 5_000;
const ENTRIES: usize = 50_000;

#[test]
fn thousands_of_clients_and_entries_lay_out_only_visible_rows() {
    let (commands, mut command_rx) = tokio::sync::mpsc::unbounded_channel();
    let (events, event_rx) = crossbeam_channel::unbounded();
    let specs = vec!["tcp-server:127.0.0.1:6001".parse().expect("spec")];
    let mut harness = Harness::builder()
        .with_size([1100.0, 700.0])
        .build_eframe(move |cc| {
            sockdbg::fonts::install_cjk_font(&cc.egui_ctx);
            App::new(EngineLink::from_channels(commands, event_rx), None, specs)
        });
    // The app asked the engine to start the session; answer as the engine would.
    let Ok(Command::Start { id, .. }) = command_rx.try_recv() else {
        panic!("the app did not ask to start its session");
    };
    assert_eq!(id, SessionId(1));
    let at = SystemTime::now();
    events
        .send(Event::Started {
            id,
            local_addr: "127.0.0.1:6001".parse().expect("addr"),
            at: std::time::SystemTime::now(),
        })
        .expect("send");
    for n in 0..CLIENTS {
        let addr = format!("127.0.0.1:{}", 10_000 + n).parse().expect("addr");
        let peer = PeerId(n + 1);
        events
            .send(Event::PeerConnected { id, peer, addr, at })
            .expect("send");
    }
    let mut sent_bytes = 0u64;
    for n in 0..ENTRIES {
        let data = Bytes::from(format!("entry {n}"));
        sent_bytes += data.len() as u64;
        let peer = PeerId(n as u64 % CLIENTS + 1);
        events
            .send(Event::Traffic {
                id,
                peer,
                dir: Direction::Rx,
                data,
                injected: false,
                at,
            })
            .expect("send");
    }
    // A frame takes events in for a bounded time (`FRAME_INTAKE_BUDGET`): step until all
    // are in (every byte counted; the log's length alone also counts the start and
    // connection notes, and passed ENTRIES while thousands of entries still waited), as the
    // window's frames would.
    let deadline = Instant::now() + Duration::from_secs(60);
    let received = |harness: &Harness<'_, App>| {
        let session = harness.state().sessions.get(id).expect("session");
        session.counters.rx_bytes
    };
    while received(&harness) < sent_bytes {
        assert!(
            Instant::now() < deadline,
            "the events were not all taken in"
        );
        harness.step();
    }
    harness.run_steps(2);
    let session = harness.state().sessions.get(id).expect("session");
    assert_eq!(session.connected_peers().count(), CLIENTS as usize);
    assert!(session.log.len() > ENTRIES);

    let close_buttons = harness.query_all_by_label("Close").count();
    assert!(
        (1..=20).contains(&close_buttons),
        "{close_buttons} client rows laid out for {CLIENTS} clients"
    );
    let rows = harness.query_all_by_label_contains("entry ").count();
    assert!(
        (1..=60).contains(&rows),
        "{rows} log rows laid out for {ENTRIES} entries"
    );
    // Auto-scroll shows the newest entry.
    let newest = format!("entry {}", ENTRIES - 1);
    assert!(harness.query_by_label_contains(&newest).is_some());
}
