//! Cost of one window frame (egui pass + tessellation, no GPU) with a 1M-entry log and 100
//! new entries arriving per frame, in text and in hex mode: the view must cost the same
//! whatever the log holds.
//!
//! Run: `cargo bench --bench frame_cost`

use std::time::SystemTime;

use bytes::Bytes;
use criterion::{Criterion, criterion_group, criterion_main};
use sockdbg::app::{App, EngineLink};
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

fn traffic(id: SessionId, i: usize) -> Event {
    let text = format!("GET /sensor/{i} temperature=25.{} 中文\r\n", i % 10);
    Event::Traffic {
        id,
        peer: PeerId(1),
        dir: if i.is_multiple_of(3) {
            Direction::Tx
        } else {
            Direction::Rx
        },
        data: Bytes::from(text.into_bytes()),
        at: SystemTime::now(),
    }
}

fn app_with_full_log() -> (App, SessionId) {
    let (commands, _ignored) = tokio::sync::mpsc::unbounded_channel();
    let (_events_tx, events) = crossbeam_channel::unbounded();
    let mut app = App::new(EngineLink::from_channels(commands, events), None, vec![]);
    let id = app
        .sessions
        .create("tcp-server:127.0.0.1:6001".parse().expect("spec"));
    app.selected = Some(id);
    app.sessions.apply(Event::Started {
        id,
        local_addr: "127.0.0.1:6001".parse().expect("addr"),
        at: std::time::SystemTime::now(),
    });
    app.sessions.apply(Event::PeerConnected {
        id,
        peer: PeerId(1),
        addr: "127.0.0.1:50000".parse().expect("addr"),
        at: SystemTime::now(),
    });
    for i in 0..held() {
        app.sessions.apply(traffic(id, i));
    }
    (app, id)
}

fn frame_cost(c: &mut Criterion) {
    let (mut app, id) = app_with_full_log();
    let ctx = egui::Context::default();
    sockdbg::fonts::install_cjk_font(&ctx);
    let input = || egui::RawInput {
        screen_rect: Some(egui::Rect::from_min_size(
            egui::Pos2::ZERO,
            egui::vec2(1100.0, 700.0),
        )),
        ..Default::default()
    };
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
                let mut output = ctx.run_ui(input(), |ui| {
                    let actions = sockdbg::ui::window_ui(ui, &mut app);
                    assert!(actions.is_empty());
                });
                // No GPU here: font atlas uploads are dropped on purpose.
                output.textures_delta.clear();
                let primitives = ctx.tessellate(output.shapes, output.pixels_per_point);
                std::hint::black_box(primitives.len())
            });
        });
    }
    group.finish();
}

criterion_group!(benches, frame_cost);
criterion_main!(benches);
