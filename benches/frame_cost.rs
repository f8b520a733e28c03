//! Cost of one window frame (the app's per-frame logic, the egui pass and tessellation; no
//! GPU) with a 1M-entry log and 100 new entries arriving per frame, in text and in hex mode:
//! the view must cost the same whatever the log holds. Then a server with 10,000 connected
//! clients whose traffic fills the log (the peer column and the client list must not walk
//! every peer per row), and a screen of notes (each drawn from its stored record).
//!
//! Run: `cargo bench --bench frame_cost`

use std::time::SystemTime;

use bytes::Bytes;
use criterion::{Criterion, criterion_group, criterion_main};
use sockdbg::app::{App, EngineLink};
use sockdbg::model::Sessions;
use sockdbg::protocol::{Direction, Event, PeerId, SessionId};

/// The window runs with mimalloc (see src/main.rs); measure the frame with it too.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const HELD: usize = 1_000_000;
/// Under `cargo test --all-targets` (no `--bench` argument) the bench only checks it runs.
const HELD_WHEN_TESTED: usize = 10_000;

fn held() -> usize {
    if std::env::args().any(|a| a == "--bench") {
        HELD
    } else {
        HELD_WHEN_TESTED
    }
}
const NEW_PER_FRAME: usize = 100;

/// Memory bound of the spilled-log case's log (the rest goes to disk).
const SPILL_MEMORY_BYTES: usize = 8 * 1024 * 1024;

/// Clients of the many-peers case.
const PEERS: u64 = 10_000;

fn traffic(id: SessionId, i: usize) -> Event {
    traffic_from(id, PeerId(1), i)
}

fn traffic_from(id: SessionId, peer: PeerId, i: usize) -> Event {
    let text = format!("GET /sensor/{i} temperature=25.{} 中文\r\n", i % 10);
    Event::Traffic {
        id,
        peer,
        dir: if i.is_multiple_of(3) {
            Direction::Tx
        } else {
            Direction::Rx
        },
        data: Bytes::from(text.into_bytes()),
        injected: false,
        at: SystemTime::now(),
    }
}

/// An app (over channels nobody serves) with one TCP server running on `local`.
fn running_server(local: &str) -> (App, SessionId) {
    running_server_in(Sessions::default(), local)
}

/// An app (over channels nobody serves) whose `sessions` get one TCP server running on
/// `local`.
fn running_server_in(sessions: Sessions, local: &str) -> (App, SessionId) {
    let (commands, _ignored) = tokio::sync::mpsc::unbounded_channel();
    let (_events_tx, events) = crossbeam_channel::unbounded();
    let mut app = App::new(EngineLink::from_channels(commands, events), None, vec![]);
    app.sessions = sessions;
    let id = app
        .sessions
        .create(format!("tcp-server:{local}").parse().expect("spec"));
    app.selected = Some(id);
    app.sessions.apply(Event::Started {
        id,
        local_addr: local.parse().expect("addr"),
        at: SystemTime::now(),
    });
    (app, id)
}

fn connect(app: &mut App, id: SessionId, peer: PeerId, addr: &str) {
    app.sessions.apply(Event::PeerConnected {
        id,
        peer,
        addr: addr.parse().expect("addr"),
        at: SystemTime::now(),
    });
}

fn app_with_full_log() -> (App, SessionId) {
    let (mut app, id) = running_server("127.0.0.1:6001");
    connect(&mut app, id, PeerId(1), "127.0.0.1:50000");
    for i in 0..held() {
        app.sessions.apply(traffic(id, i));
    }
    (app, id)
}

/// A TCP server with [`PEERS`] connected clients (IPv6 and IPv4 addresses of every width),
/// whose reads fill the log.
fn app_with_many_peers() -> (App, SessionId) {
    let (mut app, id) = running_server("[::]:6001");
    for n in 0..PEERS {
        let addr = if n % 2 == 0 {
            format!("10.0.{}.{}:{}", n / 256 % 256, n % 256, 1024 + n)
        } else {
            format!("[2001:db8::{n:x}]:{}", 1024 + n)
        };
        connect(&mut app, id, PeerId(n + 1), &addr);
    }
    for i in 0..held() / 10 {
        let peer = PeerId(i as u64 % PEERS + 1);
        app.sessions.apply(traffic_from(id, peer, i));
    }
    (app, id)
}

/// A server whose log ends in a screenful of notes (clients connecting and leaving).
fn app_with_notes() -> (App, SessionId) {
    let (mut app, id) = app_with_full_log();
    for n in 0..2_000u64 {
        let peer = PeerId(n + 2);
        connect(&mut app, id, peer, &format!("127.0.0.1:{}", 2000 + n));
        app.sessions.apply(Event::PeerDisconnected {
            id,
            peer,
            reason: sockdbg::protocol::CloseReason::ClosedByPeer,
            at: SystemTime::now(),
        });
    }
    (app, id)
}

fn input() -> egui::RawInput {
    egui::RawInput {
        screen_rect: Some(egui::Rect::from_min_size(
            egui::Pos2::ZERO,
            egui::vec2(1100.0, 700.0),
        )),
        ..Default::default()
    }
}

/// One frame as the window runs it: the app's logic, the egui pass, tessellation.
fn frame(ctx: &egui::Context, app: &mut App) -> usize {
    let mut output = ctx.run_ui(input(), |ui| {
        app.run_logic(ui.ctx());
        let actions = sockdbg::ui::window_ui(ui, app);
        assert!(actions.is_empty());
    });
    // No GPU here: font atlas uploads are dropped on purpose.
    output.textures_delta.clear();
    let primitives = ctx.tessellate(output.shapes, output.pixels_per_point);
    primitives.len()
}

fn frame_cost(c: &mut Criterion) {
    let (mut app, id) = app_with_full_log();
    let ctx = egui::Context::default();
    sockdbg::fonts::install_cjk_font(&ctx);
    let mut next = held();
    let mut group = c.benchmark_group("frame");
    // The third case: 10 MiB pasted into the send box (summarized, not laid out).
    for (hex, pasted) in [(false, false), (true, false), (false, true)] {
        app.view.log_hex = hex;
        app.views.entry(id).or_default().send_text = if pasted {
            "A".repeat(10 * 1024 * 1024)
        } else {
            String::new()
        };
        let name = format!(
            "1M entries + {NEW_PER_FRAME}/frame, {}{}",
            if hex { "hex" } else { "text" },
            if pasted {
                ", 10 MiB in the send box"
            } else {
                ""
            }
        );
        group.bench_function(name, |b| {
            b.iter(|| {
                for _ in 0..NEW_PER_FRAME {
                    app.sessions.apply(traffic(id, next));
                    next += 1;
                }
                std::hint::black_box(frame(&ctx, &mut app))
            });
        });
    }
    drop(app);

    let (mut app, id) = app_with_many_peers();
    let mut next = 0;
    group.bench_function(
        format!("{PEERS} clients, their reads in the log + {NEW_PER_FRAME}/frame"),
        |b| {
            b.iter(|| {
                for _ in 0..NEW_PER_FRAME {
                    let peer = PeerId(next as u64 % PEERS + 1);
                    app.sessions.apply(traffic_from(id, peer, next));
                    next += 1;
                }
                std::hint::black_box(frame(&ctx, &mut app))
            });
        },
    );
    drop(app);

    let (mut app, _id) = app_with_notes();
    group.bench_function("a screen of notes (connected / disconnected)", |b| {
        b.iter(|| std::hint::black_box(frame(&ctx, &mut app)));
    });
    drop(app);

    let spill_base = tempfile::tempdir().expect("temp dir");
    let (mut app, id) = app_with_spilled_log(spill_base.path());
    let (first, end) = {
        let log = &app.sessions.get(id).expect("session").log;
        (log.first_seq(), log.first_seq() + log.len() as u64)
    };
    let segments = app
        .sessions
        .get(id)
        .and_then(|s| s.log.spill_status())
        .map_or(0, |s| s.segments);
    app.view.auto_scroll = false;
    // A stride of 17 segments' worth of entries (coprime with most segment counts) visits
    // every segment in turn, each far from the 8 kept mapped.
    let stride = (end - first) / segments.max(1) as u64 * 17 + 1;
    let mut jump = 0u64;
    group.bench_function(
        format!(
            "scrolling a log spilled to disk ({} entries, {segments} segments), another segment each frame",
            end - first
        ),
        |b| {
            b.iter(|| {
                jump = (jump + stride) % (end - first);
                app.traffic_of(id).scroll_to = Some(first + jump);
                std::hint::black_box(frame(&ctx, &mut app))
            });
        },
    );
    group.finish();
}

/// A server whose log keeps [`SPILL_MEMORY_BYTES`] in memory and the rest of its reads on
/// disk, in segments under `base`.
fn app_with_spilled_log(base: &std::path::Path) -> (App, SessionId) {
    let dir = sockdbg::model::log::SpillDir::open(base).expect("spill directory");
    let mut sessions = Sessions::new(SPILL_MEMORY_BYTES);
    sessions.set_spill(Some(sockdbg::model::log::SpillConfig {
        dir: std::sync::Arc::new(dir),
        quota_bytes: u64::MAX,
    }));
    let (mut app, id) = running_server_in(sessions, "127.0.0.1:6001");
    connect(&mut app, id, PeerId(1), "127.0.0.1:50000");
    let entries = if held() == HELD { 5_000_000 } else { 200_000 };
    for i in 0..entries {
        app.sessions.apply(traffic(id, i));
    }
    if let Some(session) = app.sessions.get_mut(id) {
        session.log.flush_spill();
    }
    (app, id)
}

criterion_group!(benches, frame_cost);
criterion_main!(benches);
