//! File work (reading or writing a quick-command or scenario file) on a thread of its own, so
//! a slow or hung disk never stalls a frame; its answer is picked up by polling each frame.

use std::sync::mpsc;

use crate::app::Problem;

/// Work running on its own thread, with the answer it will give.
#[derive(Debug)]
pub struct Worker<T>(mpsc::Receiver<T>);

impl<T: Send + 'static> Worker<T> {
    /// Runs `work` on a new thread named `name`.
    ///
    /// # Errors
    /// [`Problem::QuickFileThread`] when the thread cannot start.
    pub fn spawn(name: &str, work: impl FnOnce() -> T + Send + 'static) -> Result<Self, Problem> {
        let (tx, rx) = mpsc::channel();
        std::thread::Builder::new()
            .name(name.into())
            .spawn(move || {
                tx.send(work()).ok(); // the window closed meanwhile
            })
            .map_err(|e| Problem::QuickFileThread {
                reason: e.to_string(),
            })?;
        Ok(Self(rx))
    }

    /// The answer once the work is done; `None` while it runs.
    ///
    /// # Errors
    /// [`Problem::QuickFileLost`] when the thread ended without an answer.
    pub fn poll(&self) -> Option<Result<T, Problem>> {
        match self.0.try_recv() {
            Ok(answer) => Some(Ok(answer)),
            Err(mpsc::TryRecvError::Empty) => None,
            Err(mpsc::TryRecvError::Disconnected) => Some(Err(Problem::QuickFileLost)),
        }
    }
}
