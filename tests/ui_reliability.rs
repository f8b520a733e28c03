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
