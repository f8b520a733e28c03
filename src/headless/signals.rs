//! SIGINT and SIGTERM (Windows: console control events) for the runs that end on them
//! (`--headless`, `sockdbg test`).

use std::io;

use crossbeam_channel::Receiver;

/// SIGINT and SIGTERM (Windows: Ctrl+C, Ctrl+Break, the console closing), caught and turned
/// into messages on a channel, so the main loop can wait on them beside engine events and end
/// cleanly.
pub(crate) struct SignalWatch {
    pub(crate) received: Receiver<()>,
    #[cfg(unix)]
    handle: signal_hook::iterator::Handle,
}

impl SignalWatch {
    #[cfg(unix)]
    pub(crate) fn install() -> io::Result<Self> {
        use signal_hook::consts::{SIGINT, SIGTERM};
        let mut signals = signal_hook::iterator::Signals::new([SIGINT, SIGTERM])?;
        let handle = signals.handle();
        let (tx, received) = crossbeam_channel::bounded(1);
        std::thread::Builder::new()
            .name("sockdbg-signals".into())
            .spawn(move || {
                for _ in signals.forever() {
                    tx.try_send(()).ok(); // one pending signal is enough to end the run
                }
            })?;
        Ok(Self { received, handle })
    }

    #[cfg(not(unix))]
    pub(crate) fn install() -> io::Result<Self> {
        // Windows: Ctrl+C, Ctrl+Break and closing the console window (see crate::console).
        let received = crate::console::control_events()
            .ok_or_else(|| io::Error::other("cannot watch console control events"))?;
        Ok(Self { received })
    }

    pub(crate) fn close(self) {
        #[cfg(unix)]
        self.handle.close();
    }
}
