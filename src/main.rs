//! The sockdbg binary: parses arguments, then opens the window (or runs headless).

// Windows: a windowed program, so starting it from Explorer opens no console window; the
// terminal modes take the console of the program that started them (see sockdbg::console).
#![cfg_attr(windows, windows_subsystem = "windows")]

use std::process::ExitCode;

use clap::{CommandFactory, Parser};
use sockdbg::app::App;
use sockdbg::cli::Cli;
use sockdbg::config::ConfigStore;
use sockdbg::i18n::Language;

/// mimalloc keeps freed memory for reuse instead of returning it to the OS at once: under a
/// flood of 256 KiB reads, glibc's malloc spent a fifth of the time in page faults.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let console = sockdbg::console::attach();
            let code = argument_error(&e);
            sockdbg::console::wait_before_closing(console);
            return code;
        }
    };
    // Thousands of connections need thousands of descriptors: desktops often give 1024
    // by default, so take the hard limit. Failing to raise it only limits scale.
    rlimit::increase_nofile_limit(u64::MAX).ok();
    if cli.uses_terminal() {
        let console = sockdbg::console::attach();
        let code = match &cli.command {
            Some(sockdbg::cli::Command::Test(args)) => sockdbg::testing::run(args),
            Some(sockdbg::cli::Command::Load(args)) => sockdbg::load_command::run(args),
            None => sockdbg::headless::run(&cli),
        };
        sockdbg::console::wait_before_closing(console);
        return code;
    }
    run_window(cli)
}

/// Prints a clap error and returns clap's code (2 for bad arguments, 0 for --help), adding
/// the usage line where clap leaves it out (invalid values), so every bad argument shows it.
fn argument_error(error: &clap::Error) -> ExitCode {
    let rendered = error.render().to_string();
    let has_usage = error.get(clap::error::ContextKind::Usage).is_some();
    if error.use_stderr() && !has_usage {
        let usage = Cli::command().render_usage();
        let text = rendered.replace(
            "\n\nFor more information",
            &format!("\n\n{usage}\n\nFor more information"),
        );
        eprint!("{text}");
        return ExitCode::from(2);
    }
    error.print().ok(); // the terminal is gone, nothing to tell
    ExitCode::from(u8::try_from(error.exit_code()).unwrap_or(2))
}

/// SIGTERM, SIGINT and SIGHUP (`kill`, Ctrl+C in the terminal that started it, a logout)
/// close the window as its close button does, so the app ends cleanly: settings saved,
/// captures flushed, the logs' disk files removed (a killed process leaves those to the next
/// start). A second signal ends the process at once, should closing hang.
#[cfg(unix)]
fn close_on_signals(ctx: &egui::Context) {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
    let mut signals = match signal_hook::iterator::Signals::new([SIGHUP, SIGINT, SIGTERM]) {
        Ok(signals) => signals,
        Err(e) => {
            eprintln!("sockdbg: cannot watch for signals ({e}): a kill ends the window abruptly");
            return;
        }
    };
    let ctx = ctx.clone();
    let watcher = std::thread::Builder::new()
        .name("sockdbg-signals".into())
        .spawn(move || {
            for (count, _) in signals.forever().enumerate() {
                if count > 0 {
                    std::process::exit(1);
                }
                ctx.send_viewport_cmd(egui::ViewportCommand::Close);
                ctx.request_repaint();
            }
        });
    if let Err(e) = watcher {
        eprintln!("sockdbg: cannot watch for signals ({e}): a kill ends the window abruptly");
    }
}

/// Once the window has started, returns to the OS what its start-up allocated and freed
/// (the allocator keeps freed pages for reuse, and purges them only when it is called again,
/// which an idle window does not do): the idle window then holds what it uses.
fn give_back_start_up_memory() {
    const AFTER_START_UP: std::time::Duration = std::time::Duration::from_secs(3);
    std::thread::Builder::new()
        .name("sockdbg-trim".into())
        .spawn(|| {
            std::thread::sleep(AFTER_START_UP);
            // SAFETY: mi_collect only purges the allocator's free memory; it takes no
            // pointers and is safe to call from any thread at any time.
            unsafe { libmimalloc_sys::mi_collect(true) };
        })
        .ok(); // without the thread the memory is only kept longer
}

/// The window and desktop icon (`assets/icon.png`, 256x256).
const ICON_PNG: &[u8] = include_bytes!("../assets/icon.png");

/// The window size saved last time, read without touching the file (the app loads it, and
/// reports a broken one, right after).
fn saved_window_size(store: &ConfigStore) -> Option<(u32, u32)> {
    let text = std::fs::read_to_string(store.path()).ok()?;
    let config: sockdbg::config::Config = ron::from_str(&text).ok()?;
    let (width, height) = config.view.window_size?;
    // A size from a bigger monitor still opens; a tiny one is ignored.
    (width >= 640 && height >= 400).then_some((width.min(7680), height.min(4320)))
}

fn run_window(cli: Cli) -> ExitCode {
    let store = cli
        .config_dir
        .clone()
        .map(ConfigStore::at)
        .or_else(ConfigStore::default_location);
    let (width, height) = store
        .as_ref()
        .and_then(saved_window_size)
        .unwrap_or((1280, 800));
    let mut viewport = egui::ViewportBuilder::default()
        .with_title("sockdbg — socket debugger")
        .with_app_id("sockdbg")
        .with_inner_size([width as f32, height as f32])
        .with_min_inner_size([640.0, 400.0]);
    match eframe::icon_data::from_png_bytes(ICON_PNG) {
        Ok(icon) => viewport = viewport.with_icon(std::sync::Arc::new(icon)),
        Err(e) => eprintln!("sockdbg: the window icon could not be decoded: {e}"),
    }
    let options = eframe::NativeOptions {
        viewport,
        ..Default::default()
    };
    let sessions = cli.sessions;
    give_back_start_up_memory();
    let result = eframe::run_native(
        "sockdbg",
        options,
        Box::new(move |cc| {
            sockdbg::fonts::install_cjk_font(&cc.egui_ctx);
            #[cfg(unix)]
            close_on_signals(&cc.egui_ctx);
            let mut app = App::start(&cc.egui_ctx, store, sessions);
            // First start: speak the system locale's language (a choice in Settings is kept).
            if app.view.language.is_none() {
                app.view.language = Some(Language::from_environment());
            }
            Ok(Box::new(app))
        }),
    );
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let hint = if cfg!(windows) {
                // A remote desktop or a virtual machine may have no OpenGL driver.
                "No OpenGL driver? Install the graphics driver, or run \
                 `sockdbg.exe --headless SESSION...` from a terminal."
            } else {
                "No display? Set DISPLAY or WAYLAND_DISPLAY, or run `sockdbg --headless SESSION...`."
            };
            let text = format!("sockdbg: cannot open the window: {e}\n{hint}");
            // A windowed program has no console on Windows: say it in a message box (and in
            // the starting terminal's console, when there is one).
            #[cfg(windows)]
            {
                sockdbg::console::attach_to_parent();
                rfd::MessageDialog::new()
                    .set_level(rfd::MessageLevel::Error)
                    .set_title("sockdbg")
                    .set_description(&text)
                    .show();
            }
            eprintln!("{text}");
            ExitCode::FAILURE
        }
    }
}
