//! UI reliability (issue 7): a 10 MiB paste into the send box keeps the window responsive:
//! the text is summarized instead of laid out in the editor, and its byte preview is made
//! once. (How long a frame takes is measured by `benches/frame_cost.rs`, not asserted here.)

use egui_kittest::kittest::Queryable;
use sockdbg::protocol::Command;

mod ui_support;

#[test]
fn a_ten_mib_send_text_is_summarized_and_sent_whole() {
    let config = ui_support::temp_config("rel");
    let (mut harness, mut commands, _events, id) = ui_support::app_over_channels(config.store());
    harness.state_mut().views.entry(id).or_default().send_text = "A".repeat(10 * 1024 * 1024);
    harness.run_steps(5);
    assert!(
        harness
            .query_by_label_contains("10485760 bytes of text")
            .is_some(),
        "the large text is summarized"
    );
    assert!(
        harness
            .query_by_label_contains("10485760 bytes: 41 41")
            .is_some(),
        "the preview counts every byte"
    );
    harness.get_by_label("Send").click();
    harness.run_steps(2);
    let sent = std::iter::from_fn(|| commands.try_recv().ok()).find_map(|c| match c {
        Command::Send { data, .. } => Some(data.len()),
        _ => None,
    });
    assert_eq!(sent, Some(10 * 1024 * 1024));
    // Clear brings the editor back.
    harness.get_by_label("Clear text").click();
    harness.run_steps(2);
    assert!(
        harness
            .state()
            .views
            .get(&id)
            .is_some_and(|v| v.send_text.is_empty())
    );
}

/// A log whose disk is stuck (its writer blocked opening its first segment, a FIFO nobody
/// reads yet): the frames hold the rest of the traffic back, and after a second the status
/// bar says the window is waiting for the log's disk; once the disk moves, every byte is
/// taken in and the warning goes.
#[cfg(unix)]
#[test]
fn the_status_bar_says_when_traffic_waits_for_a_stuck_disk() {
    use std::time::{Duration, Instant, SystemTime};

    use bytes::Bytes;
    use egui_kittest::kittest::NodeT;
    use sockdbg::model::Sessions;
    use sockdbg::protocol::{Direction, Event, PeerId};

    const MIB: usize = 1024 * 1024;
    const READS: usize = 40;
    const WARNING: &str = "waiting for the log's disk";
    let config = ui_support::temp_config("disk-wait");
    let (mut harness, _commands, events, _) = ui_support::app_over_channels(config.store());
    let base = tempfile::tempdir().expect("temp dir");
    let app = harness.state_mut();
    // Logs of 8 MiB in memory, so the traffic below spills at once.
    app.sessions = Sessions::new(8 * MIB);
    app.use_spill_dir(Some(base.path().to_path_buf()));
    let id = app
        .sessions
        .create("tcp-server:127.0.0.1:6001".parse().expect("spec"));
    app.selected = Some(id);
    let log_dir = app
        .sessions
        .get(id)
        .and_then(|s| s.log.spill_status())
        .expect("the log spills")
        .dir;
    std::fs::create_dir_all(&log_dir).expect("log dir");
    let fifo = log_dir.join(format!("{:08}.seg", 0));
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo");
    assert!(made.success());
    // The disk moves: what the writer wrote through the FIFO becomes the segment file the
    // log reads back.
    let unstick = |fifo: std::path::PathBuf| {
        move || -> std::io::Result<usize> {
            let written = std::fs::read(&fifo)?;
            let file = fifo.with_extension("written");
            std::fs::write(&file, &written)?;
            std::fs::rename(&file, &fifo)?;
            Ok(written.len())
        }
    };
    // Should the window wait for the stuck disk itself, this frees it after a while, so the
    // test fails instead of hanging.
    let watchdog = unstick(fifo.clone());
    std::thread::spawn(move || {
        std::thread::sleep(Duration::from_secs(60));
        watchdog().ok();
    });

    let at = SystemTime::now();
    let local_addr = "127.0.0.1:6001".parse().expect("addr");
    events
        .send(Event::Started { id, local_addr, at })
        .expect("send");
    let read = Bytes::from(vec![0x5a; MIB]);
    for _ in 0..READS {
        events
            .send(Event::Traffic {
                id,
                peer: PeerId(1),
                dir: Direction::Rx,
                data: read.clone(),
                injected: false,
                at,
            })
            .expect("send");
    }
    let shows = |harness: &egui_kittest::Harness<'_, sockdbg::app::App>| {
        harness.query_by_label_contains(WARNING).is_some()
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    while !shows(&harness) {
        assert!(Instant::now() < deadline, "the status bar never said so");
        harness.step();
        std::thread::sleep(Duration::from_millis(20));
    }
    let received = |harness: &egui_kittest::Harness<'_, sockdbg::app::App>| {
        let session = harness.state().sessions.get(id).expect("session");
        session.counters.rx_bytes
    };
    assert!(
        received(&harness) < (READS * MIB) as u64,
        "the warning shows while traffic waits"
    );

    // The disk moves: the rest is taken in and the warning goes.
    let reader = std::thread::spawn(unstick(fifo));
    // The log may read the segment back once written: the file must be a file by then.
    let written = reader.join().expect("reader").expect("the segment read");
    assert!(written > 0);
    let deadline = Instant::now() + Duration::from_secs(30);
    while received(&harness) < (READS * MIB) as u64 || shows(&harness) {
        assert!(
            Instant::now() < deadline,
            "{} of {} bytes taken in; warning shown: {}",
            received(&harness),
            READS * MIB,
            shows(&harness)
        );
        harness.step();
        std::thread::sleep(Duration::from_millis(5));
    }
    // The status bar tells the log's size, what is on disk among it, in the same words as a
    // log held in memory only.
    harness.run_steps(2);
    let status = harness
        .query_all_by_label_contains("entries held (")
        .filter_map(|n| n.accesskit_node().value())
        .collect::<Vec<_>>();
    assert!(
        status.iter().any(|l| l.contains(" in memory, ")
            && l.contains(" on disk in ")
            && l.contains(" of files)")),
        "{status:?}"
    );
}
