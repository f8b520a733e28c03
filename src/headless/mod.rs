//! Headless mode: `sockdbg --headless [OPTIONS] SESSION...` runs the very same engine, model
//! and codec as the window, without a window. Every engine event is applied to
//! [`Sessions`](crate::model::Sessions) exactly as the window applies it, and each new log
//! entry is printed to stdout (see [`output`]), flushed per line.
//!
//! - `plan`: the arguments checked into a [`Plan`] before anything opens ([`UsageError`]).
//! - `driver`: reacts to events: sends the `--send` payload when a connection opens, runs
//!   `--send-file` and `--repeat` jobs, and decides when the run is over (`--once`,
//!   `--duration-ms`, SIGINT/SIGTERM, a session that cannot start).
//! - `printer`: what an event added to the log, written to stdout.
//! - `signals`: SIGINT and SIGTERM as messages beside the engine's events.
//! - [`output`], [`frames`], [`scenario`]: the line formats of entries, frames and scenario
//!   steps.
//!
//! `--send-file` is streamed, never read whole: each target (each new client of a server, a
//! client's connection, a UDP target) gets its own engine file job ([`Command::SendFile`](crate::protocol::Command::SendFile)),
//! paced by acks like the window's "Send file", so memory stays at a few chunks whatever the
//! file's size. The log kept for printing is bounded too ([`HEADLESS_LOG_MAX_BYTES`]): an
//! entry is printed when it is added and not needed after.
//!
//! Exit codes: [`EXIT_OK`] for a normal end, [`EXIT_FAILED`] when a session cannot run,
//! [`EXIT_USAGE`] for bad arguments.

mod driver;
pub mod frames;
pub mod output;
mod plan;
mod printer;
pub mod scenario;
mod signals;

use std::io;
use std::process::ExitCode;

use clap::CommandFactory;

use crate::cli::Cli;
use crate::engine::EngineSettings;
use crate::intake::Intake;
pub use driver::{DEFAULT_UDP_LISTEN_MS, HEADLESS_LOG_MAX_BYTES};
use driver::{Driver, End};
pub use plan::{Payload, Plan, UsageError};
pub(crate) use signals::SignalWatch;

/// Exit code of a normal end: a signal, `--once`, `--duration-ms`, or every session ended.
pub const EXIT_OK: u8 = 0;
/// Exit code when a session cannot run (port in use, connection refused, bad host).
pub const EXIT_FAILED: u8 = 1;
/// Exit code for bad arguments.
pub const EXIT_USAGE: u8 = 2;

/// Runs `--headless` to its end and returns the process exit code.
pub fn run(cli: &Cli) -> ExitCode {
    let plan = match Plan::from_cli(cli) {
        Ok(plan) => plan,
        Err(e) => {
            let kind = match e {
                UsageError::NoSession => clap::error::ErrorKind::MissingRequiredArgument,
                _ => clap::error::ErrorKind::InvalidValue,
            };
            Cli::command().error(kind, e).print().ok(); // stderr is gone, nothing to tell
            return ExitCode::from(EXIT_USAGE);
        }
    };
    // Signals are caught before any socket opens, so an early SIGTERM still ends cleanly.
    let signals = match SignalWatch::install() {
        Ok(signals) => signals,
        Err(e) => {
            eprintln!("sockdbg: cannot watch for signals: {e}");
            return ExitCode::from(EXIT_FAILED);
        }
    };
    // Generated files (a TLS server's certificate) go where the window puts them.
    let store = cli
        .config_dir
        .clone()
        .map(crate::config::ConfigStore::at)
        .or_else(crate::config::ConfigStore::default_location);
    let settings = EngineSettings {
        files_dir: crate::private_files::generated_dir(store.as_ref()),
    };
    let (intake, engine) = match Intake::start(settings, None) {
        Ok(started) => started,
        Err(e) => {
            eprintln!("sockdbg: {e}");
            return ExitCode::from(EXIT_FAILED);
        }
    };
    let stdout = io::stdout().lock();
    let mut driver = Driver::new(plan, engine, intake, stdout);
    if let Err(e) = driver.start_sessions() {
        eprintln!("sockdbg: {e}");
        return ExitCode::from(EXIT_FAILED);
    }
    let end = driver.run_until_end(&signals.received);
    signals.close();
    let end = driver.finish(end);
    ExitCode::from(exit_code(end))
}

/// The exit code of a run that ended so, saying why on stderr where it was not said yet.
fn exit_code(end: End) -> u8 {
    match end {
        End::Normal | End::OutputClosed => EXIT_OK,
        End::SessionFailed | End::SendFileFailed | End::ScenarioFailed => EXIT_FAILED,
        End::OutputFailed(e) => {
            eprintln!("sockdbg: cannot write to stdout: {e}");
            EXIT_FAILED
        }
        End::EngineGone => {
            eprintln!("sockdbg: the network engine stopped unexpectedly");
            EXIT_FAILED
        }
    }
}
