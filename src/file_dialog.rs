//! Native file dialogs (rfd), each run on a thread of its own so the UI never waits for one,
//! with a clear answer when no dialog can open at all (no desktop portal on this machine):
//! the user is told to type the path instead of seeing nothing happen.

use std::path::PathBuf;
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// A dialog closed faster than this without a file never showed up.
const NEVER_SHOWN: Duration = Duration::from_millis(400);

/// Why no dialog could open; the i18n table words it
/// (`crate::i18n::errors::dialog_error_text`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DialogError {
    /// No dialog showed up (no desktop portal on this machine): type the path instead.
    Unavailable,
    /// The dialog's thread could not be started; the system's words.
    ThreadFailed {
        /// What the system said.
        detail: String,
    },
}

/// Which dialog to show.
#[derive(Clone, Debug)]
pub enum DialogKind {
    /// Choose an existing file to read.
    Open {
        /// The dialog's title.
        title: String,
    },
    /// Choose where to write, starting from the path the field holds.
    Save {
        /// The dialog's title.
        title: String,
        /// The field's current path: its folder and file name are proposed.
        current: PathBuf,
    },
}

/// How a dialog ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Answer {
    /// The user chose this file.
    Picked(PathBuf),
    /// The user closed the dialog without choosing.
    Cancelled,
    /// No dialog could open.
    Unavailable(DialogError),
}

/// A dialog open on its own thread.
#[derive(Debug)]
pub struct PendingDialog(mpsc::Receiver<Answer>);

impl PendingDialog {
    /// Opens the dialog on a new thread.
    ///
    /// # Errors
    /// [`DialogError::ThreadFailed`] when the thread cannot be started.
    pub fn spawn(kind: DialogKind) -> Result<Self, DialogError> {
        let (tx, rx) = mpsc::channel();
        std::thread::Builder::new()
            .name("sockdbg-file-dialog".into())
            .spawn(move || {
                let opened = Instant::now();
                let picked = match kind {
                    DialogKind::Open { title } => {
                        rfd::FileDialog::new().set_title(title).pick_file()
                    }
                    DialogKind::Save { title, current } => {
                        let mut dialog = rfd::FileDialog::new().set_title(title);
                        if let Some(name) = current.file_name() {
                            dialog = dialog.set_file_name(name.to_string_lossy());
                        }
                        if let Some(dir) = current.parent().filter(|d| d.is_dir()) {
                            dialog = dialog.set_directory(dir);
                        }
                        dialog.save_file()
                    }
                };
                let answer = match picked {
                    Some(path) => Answer::Picked(path),
                    None if opened.elapsed() < NEVER_SHOWN => {
                        Answer::Unavailable(DialogError::Unavailable)
                    }
                    None => Answer::Cancelled,
                };
                tx.send(answer).ok(); // the window closed meanwhile
            })
            .map_err(|e| DialogError::ThreadFailed {
                detail: e.to_string(),
            })?;
        Ok(Self(rx))
    }

    /// The answer once the dialog has closed; `None` while it is open.
    pub fn poll(&self) -> Option<Answer> {
        match self.0.try_recv() {
            Ok(answer) => Some(answer),
            Err(mpsc::TryRecvError::Empty) => None,
            Err(mpsc::TryRecvError::Disconnected) => {
                Some(Answer::Unavailable(DialogError::Unavailable))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_a_desktop_the_user_is_told_to_type_the_path() {
        if std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_some()
            || std::env::var_os("WAYLAND_DISPLAY").is_some()
        {
            eprintln!("skipped: a desktop session is here, a real dialog would open");
            return;
        }
        let dialog = PendingDialog::spawn(DialogKind::Save {
            title: "test".into(),
            current: std::env::temp_dir().join("x.pcapng"),
        })
        .expect("thread");
        let started = Instant::now();
        let answer = loop {
            if let Some(answer) = dialog.poll() {
                break answer;
            }
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "dialog never answered"
            );
            std::thread::sleep(Duration::from_millis(10));
        };
        assert_eq!(answer, Answer::Unavailable(DialogError::Unavailable));
    }
}
