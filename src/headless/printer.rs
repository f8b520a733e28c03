//! What a headless run prints: each entry an event added to a session's log (or, with
//! `--framing`, each frame it completed), formatted by [`output`](super::output) and written
//! to stdout, flushed per line. Once a write fails (stdout closed) nothing more is written.

use std::collections::HashMap;
use std::io::{self, Write};

use super::frames::{self, FramedOutput};
use super::output::{Formatter, Lifecycle, Record};
use crate::model::Session;
use crate::protocol::{Event, SessionId};

/// Stdout, the formatter, and what it needs to name each session.
pub(super) struct Printer<W: Write> {
    formatter: Formatter,
    out: W,
    /// Cleared once a write failed: nobody reads any more.
    open: bool,
    /// `--quiet`: no per-entry output.
    quiet: bool,
    /// Each session as its spec was given.
    labels: HashMap<SessionId, String>,
    /// `--framing` other than raw: the frames printed instead of reads.
    framed: Option<FramedOutput>,
}

impl<W: Write> Printer<W> {
    pub(super) fn new(
        formatter: Formatter,
        out: W,
        quiet: bool,
        framed: Option<FramedOutput>,
    ) -> Self {
        Self {
            formatter,
            out,
            open: true,
            quiet,
            labels: HashMap::new(),
            framed,
        }
    }

    /// Names session `id` in the output.
    pub(super) fn name(&mut self, id: SessionId, label: String) {
        self.labels.insert(id, label);
    }

    /// How session `id` is named.
    pub(super) fn label(&self, id: SessionId) -> Option<&str> {
        self.labels.get(&id).map(String::as_str)
    }

    /// Whether entries are printed: not `--quiet`, and stdout still open.
    pub(super) fn printing(&self) -> bool {
        !self.quiet && self.open
    }

    /// The frames of `--framing`, if it cuts any.
    pub(super) fn framed(&self) -> Option<&FramedOutput> {
        self.framed.as_ref()
    }

    /// Prints the entries of `session`'s log from sequence number `before` on.
    ///
    /// # Errors
    /// The write that failed; nothing more is written after it.
    pub(super) fn entries(
        &mut self,
        session: &Session,
        before: u64,
        lifecycle: Option<Lifecycle>,
    ) -> io::Result<()> {
        let Some(label) = self.labels.get(&session.id) else {
            return Ok(());
        };
        let lines: Vec<String> = (before..next_seq(session))
            .filter_map(|seq| session.log.get(seq))
            .map(|entry| {
                self.formatter.format(&Record {
                    session: label,
                    entry,
                    peer_addr: session.peer_addr(entry.peer),
                    device: session.device_path(),
                    lifecycle,
                    relay: session.spec.kind.is_relay(),
                })
            })
            .collect();
        for line in lines {
            self.line(line)?;
        }
        Ok(())
    }

    /// `--framing`: prints the frames (and notes) `session`'s log completed.
    ///
    /// # Errors
    /// The write that failed; nothing more is written after it.
    pub(super) fn frames(
        &mut self,
        session: &Session,
        lifecycle: Option<Lifecycle>,
        now_micros: i64,
    ) -> io::Result<()> {
        let (Some(framed), Some(label)) = (self.framed.as_mut(), self.labels.get(&session.id))
        else {
            return Ok(());
        };
        let lines: Vec<String> = framed
            .new_rows(session.id, session, now_micros)
            .iter()
            .map(|(row, bytes)| {
                frames::frame_record(&self.formatter, label, session, row, bytes, lifecycle)
            })
            .collect();
        for line in lines {
            self.line(line)?;
        }
        Ok(())
    }

    /// Writes one line and flushes it.
    ///
    /// # Errors
    /// Why the write failed (a closed pipe: [`io::ErrorKind::BrokenPipe`]); stdout counts as
    /// closed from then on.
    pub(super) fn line(&mut self, mut text: String) -> io::Result<()> {
        text.push('\n');
        let written = self
            .out
            .write_all(text.as_bytes())
            .and_then(|()| self.out.flush());
        if written.is_err() {
            self.open = false;
        }
        written
    }
}

/// The sequence number the next entry of this session's log will get.
pub(super) fn next_seq(session: &Session) -> u64 {
    session.log.first_seq() + session.log.len() as u64
}

/// What a lifecycle event is called in the output; `None` for traffic.
pub(super) fn lifecycle_of(event: &Event) -> Option<Lifecycle> {
    match event {
        Event::Started { .. } => Some(Lifecycle::Listening),
        Event::PeerConnected { .. } => Some(Lifecycle::Connected),
        Event::PeerDisconnected { .. } | Event::Stopped { .. } => Some(Lifecycle::Disconnected),
        Event::StartFailed { .. } | Event::Warning { .. } => Some(Lifecycle::Error),
        Event::Note { .. }
        | Event::JobProgress { .. }
        | Event::JobEnded { .. }
        | Event::Scenario { .. }
        | Event::Load { .. } => Some(Lifecycle::Note),
        Event::Traffic { .. }
        | Event::Datagrams { .. }
        | Event::ReactionsApplied { .. }
        | Event::FaultsApplied { .. }
        | Event::RelayQueue { .. }
        | Event::SerialLines { .. } => None,
    }
}
