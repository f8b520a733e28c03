//! The process's console on Windows, where `sockdbg.exe` is a windowed program
//! (`windows_subsystem = "windows"`): started from Explorer it opens no console window. The
//! terminal modes (`--headless`, argument errors, `--help`) call [`attach`], which takes the
//! console of the program that started it (cmd.exe, PowerShell, Windows Terminal) or, with
//! none (a shortcut, Explorer), opens one of its own; standard handles the parent redirected
//! (`> out.txt`, a pipe) are kept. [`control_events`] turns Ctrl+C, Ctrl+Break and the
//! closing of the console into messages, so a headless run ends cleanly (capture flushed,
//! stats printed) instead of being killed.
//!
//! Why one windowed `.exe` rather than a console program that hides its console: a console
//! program started from Explorer flashes a console window before it can hide it, and holds an
//! interactive cmd.exe until its window closes. The price: an interactive cmd.exe or
//! PowerShell prompt does not wait for a windowed program, so typed as `sockdbg.exe` it
//! comes back while a headless run still prints into that console (batch files and `start
//! /wait` do wait). The console-subsystem companion `sockdbg.com` (`src/bin/sockdbg-console.rs`,
//! which cmd.exe finds before `sockdbg.exe`) waits for it.
//!
//! Elsewhere the process has the terminal it was started from: [`attach`] does nothing and
//! [`control_events`] is `None` (signals are caught with signal-hook).

/// Where the console of a terminal mode came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Console {
    /// The process already had what it needs: a terminal (not Windows), or, with no console
    /// to attach to, standard output and error redirected by its parent (a pipe, a file).
    Inherited,
    /// The console of the program that started it (cmd.exe, PowerShell); output the parent
    /// redirected still goes where it was sent.
    Parent,
    /// A console window opened for this process (it was started from Explorer or a
    /// shortcut): it closes when the process ends.
    Own,
    /// No console could be had: output goes nowhere.
    Missing,
}

/// Gives the process a console for a terminal mode (see the module docs) and says which.
pub fn attach() -> Console {
    imp::attach()
}

/// Takes the console of the program that started this one, if it has one (never opens a
/// window of its own): for a last message from the window mode (Windows; elsewhere nothing).
pub fn attach_to_parent() {
    imp::attach_to_parent();
}

/// At the end of a terminal mode, keeps a console opened for it ([`Console::Own`]: the
/// program was started from Explorer or a shortcut) until the user presses Enter, so its
/// output can be read before the window closes. Other consoles are left at once.
pub fn wait_before_closing(console: Console) {
    use std::io::{BufRead, Write};
    if console == Console::Own {
        eprint!("Press Enter to close this window.");
        std::io::stderr().flush().ok();
        std::io::stdin().lock().read_line(&mut String::new()).ok();
    }
}

/// Console control events (Ctrl+C, Ctrl+Break, the console closing, log-off, shutdown) as
/// messages on a channel (Windows); `None` elsewhere, when the handler cannot be installed,
/// or on a second call. When the console closes, the handler keeps Windows from ending the
/// process until it ends by itself (or Windows' own limit, about five seconds, passes), so
/// the run can finish its capture and statistics.
pub fn control_events() -> Option<crossbeam_channel::Receiver<()>> {
    imp::control_events()
}

#[cfg(windows)]
mod imp {
    use std::sync::OnceLock;
    use std::time::Duration;

    use crossbeam_channel::{Receiver, Sender};
    use windows_sys::Win32::Foundation::{HANDLE, INVALID_HANDLE_VALUE};
    use windows_sys::Win32::System::Console::{
        ATTACH_PARENT_PROCESS, AllocConsole, AttachConsole, CTRL_BREAK_EVENT, CTRL_C_EVENT,
        CTRL_CLOSE_EVENT, CTRL_LOGOFF_EVENT, CTRL_SHUTDOWN_EVENT, GetStdHandle, STD_ERROR_HANDLE,
        STD_HANDLE, STD_INPUT_HANDLE, STD_OUTPUT_HANDLE, SetConsoleCtrlHandler, SetStdHandle,
    };

    use super::Console;

    fn usable(handle: HANDLE) -> bool {
        !handle.is_null() && handle != INVALID_HANDLE_VALUE
    }

    pub(super) fn attach() -> Console {
        const STREAMS: [STD_HANDLE; 3] = [STD_INPUT_HANDLE, STD_OUTPUT_HANDLE, STD_ERROR_HANDLE];
        // SAFETY: GetStdHandle only reads the process's standard handles.
        let given = STREAMS.map(|id| (id, unsafe { GetStdHandle(id) }));
        let redirected = usable(given[1].1) && usable(given[2].1);
        // The parent's console even when output is redirected (`| findstr`, `> out.txt`):
        // Ctrl+C reaches only the processes attached to the console it is pressed in.
        // SAFETY: plain Win32 calls without pointers; each fails harmlessly when there is
        // no such console or the process already has one.
        let console = if unsafe { AttachConsole(ATTACH_PARENT_PROCESS) } != 0 {
            Console::Parent
        } else if redirected {
            return Console::Inherited; // a service, a test harness, a pipe from a GUI program
        } else if unsafe { AllocConsole() } != 0 {
            Console::Own
        } else {
            return Console::Missing;
        };
        // Attaching points the standard handles that were not set at the console: keep
        // those the parent redirected (`> out.txt` redirects only stdout).
        for (id, handle) in given {
            if usable(handle) {
                // SAFETY: `handle` is one of this process's own standard handles.
                unsafe { SetStdHandle(id, handle) };
            }
        }
        console
    }

    pub(super) fn attach_to_parent() {
        // SAFETY: a plain Win32 call without pointers; it fails harmlessly without a parent
        // console.
        unsafe { AttachConsole(ATTACH_PARENT_PROCESS) };
    }

    /// The sender the handler reports to; set once, by the first [`control_events`].
    static EVENTS: OnceLock<Sender<()>> = OnceLock::new();

    /// Runs on a thread Windows starts for each console control event.
    unsafe extern "system" fn handler(event: u32) -> i32 {
        let closing = match event {
            CTRL_C_EVENT | CTRL_BREAK_EVENT => false,
            CTRL_CLOSE_EVENT | CTRL_LOGOFF_EVENT | CTRL_SHUTDOWN_EVENT => true,
            _ => return 0, // not ours: the next handler (the default one ends the process)
        };
        let Some(events) = EVENTS.get() else {
            return 0;
        };
        events.try_send(()).ok(); // one pending event is enough to end the run
        if closing {
            // Windows ends the process as soon as this returns: hold on while the run
            // finishes (its exit ends this thread); Windows' own limit is about 5 s.
            std::thread::sleep(Duration::from_secs(20));
        }
        1
    }

    pub(super) fn control_events() -> Option<Receiver<()>> {
        let (tx, rx) = crossbeam_channel::bounded(1);
        EVENTS.set(tx).ok()?;
        // Take Ctrl+C even when the starter turned it off for this process (a new process
        // group does, and Wine then drops Ctrl+C sent to that group): a terminal mode is
        // there to be interrupted, and its handler ends it cleanly.
        // SAFETY: `handler` is a valid `extern "system"` handler that lives as long as the
        // process; a null handler with FALSE only clears the ignore-Ctrl+C flag.
        unsafe {
            SetConsoleCtrlHandler(None, 0);
            (SetConsoleCtrlHandler(Some(handler), 1) != 0).then_some(rx)
        }
    }
}

#[cfg(not(windows))]
mod imp {
    use super::Console;

    pub(super) fn attach() -> Console {
        Console::Inherited
    }

    pub(super) fn attach_to_parent() {}

    pub(super) fn control_events() -> Option<crossbeam_channel::Receiver<()>> {
        None
    }
}
