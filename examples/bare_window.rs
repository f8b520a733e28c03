//! The anchor of the idle-memory benchmark (`scripts/idle_memory.sh`, issue 19): a bare eframe
//! window with the same eframe features, size and title length as sockdbg's, showing one
//! label, on the system allocator. What sockdbg's idle window holds above this is what
//! sockdbg adds (its allocator included).

fn main() -> eframe::Result {
    let options = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_title("bare eframe window")
            .with_inner_size([1280.0, 800.0]),
        ..Default::default()
    };
    eframe::run_ui_native("bare", options, |ui, _frame| {
        ui.label("a bare eframe window");
    })
}
