//! The console companion of `sockdbg.exe` on Windows, shipped beside it as `sockdbg.com`.
//!
//! `sockdbg.exe` is a windowed program, so an interactive cmd.exe or PowerShell prompt does
//! not wait for it: a headless run or `sockdbg test` would go on printing after the prompt
//! came back, and `%ERRORLEVEL%` would not hold its exit code. cmd.exe looks for `.com`
//! before `.exe` (PATHEXT), so typing `sockdbg ...` starts this console program instead. It
//! starts `sockdbg.exe` from its own directory with the same arguments and standard handles,
//! and, for the terminal modes (`--headless`, `test`, `load`, `--help`, a bad argument),
//! waits for it and exits with its code, so the prompt comes back when the run has ended.
//! For the window it returns at once, as typing `sockdbg.exe` would.
//!
//! Ctrl+C, Ctrl+Break and closing the console reach `sockdbg.exe` too (it attaches to this
//! console), which ends its run cleanly; this program ignores them and waits for that end.
//!
//! Elsewhere there is no such split: it runs `sockdbg` beside it the same way, for tests.

use std::process::{Command, ExitCode};

use clap::Parser;
use sockdbg::cli::Cli;

/// The name of the program this one starts, in the same directory.
const PROGRAM: &str = if cfg!(windows) {
    "sockdbg.exe"
} else {
    "sockdbg"
};

fn main() -> ExitCode {
    let args: Vec<_> = std::env::args_os().skip(1).collect();
    // An argument error is reported by sockdbg itself (and is a terminal mode).
    let waits = Cli::try_parse_from(std::iter::once("sockdbg".into()).chain(args.iter().cloned()))
        .map_or(true, |cli| cli.uses_terminal());
    let program = match std::env::current_exe() {
        Ok(me) => me.with_file_name(PROGRAM),
        Err(e) => {
            eprintln!("sockdbg: cannot find where this program is: {e}");
            return ExitCode::from(2);
        }
    };
    ignore_console_events();
    let mut child = match Command::new(&program).args(&args).spawn() {
        Ok(child) => child,
        Err(e) => {
            eprintln!("sockdbg: cannot start {}: {e}", program.display());
            return ExitCode::from(2);
        }
    };
    if !waits {
        return ExitCode::SUCCESS;
    }
    match child.wait() {
        // Windows exit codes are 32 bits; sockdbg's own are 0, 1 and 2.
        Ok(status) => match status.code() {
            Some(code) => ExitCode::from(u8::try_from(code).unwrap_or(1)),
            None => ExitCode::from(1), // ended by a signal (not Windows)
        },
        Err(e) => {
            eprintln!("sockdbg: lost {}: {e}", program.display());
            ExitCode::from(1)
        }
    }
}

/// Leaves Ctrl+C and Ctrl+Break to `sockdbg.exe`, which shares this console and ends its run
/// cleanly on them: this program waits for that end instead of leaving first.
#[cfg(windows)]
fn ignore_console_events() {
    use windows_sys::Win32::System::Console::SetConsoleCtrlHandler;
    // SAFETY: a null handler with TRUE only sets the process's ignore-Ctrl+C flag.
    unsafe { SetConsoleCtrlHandler(None, 1) };
}

/// Elsewhere a terminal's Ctrl+C reaches the whole foreground process group, sockdbg too.
#[cfg(not(windows))]
fn ignore_console_events() {}
