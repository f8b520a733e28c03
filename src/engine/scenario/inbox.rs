//! What one run has received on one session and not yet matched: the byte stream since the
//! previous match, or the complete frames when the file sets a `framing` (cut by the same
//! [`FrameCutter`] as auto-reply, one per stream; a datagram or WebSocket message is cut on
//! its own). Bounded: a peer that floods while the scenario sleeps keeps only the newest
//! [`MAX_PENDING_BYTES`] (or [`MAX_PENDING_FRAMES`] frames); what fell off is counted.

use std::collections::VecDeque;

use bytes::Bytes;

use crate::codec::framing::Framing;
use crate::engine::reply_frames::{FrameCutter, cut_message, cuts};
use crate::protocol::{Gone, PeerId, Waiting};
use crate::scenario::{Expectation, Found};

/// Most unmatched stream bytes kept.
pub(super) const MAX_PENDING_BYTES: usize = 1024 * 1024;
/// Most unmatched frames kept.
pub(super) const MAX_PENDING_FRAMES: usize = 4096;

/// Whether a session is reachable for a run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Link {
    /// Not known yet (a client still connecting).
    Unknown,
    /// Up.
    Up,
    /// Down for good: the session could not start, or stopped.
    Down(Gone),
}

/// One session's unmatched input for one run.
#[derive(Debug)]
pub(super) struct Inbox {
    pub link: Link,
    /// Why the connection closed, once it has.
    pub closed: Option<Gone>,
    /// The connection's peer (a client session's server, or the run's client).
    pub peer: Option<PeerId>,
    /// What a `reconnect` session waits for, while it does.
    pub waiting: Option<Waiting>,
    stream: Vec<u8>,
    frames: VecDeque<Bytes>,
    /// `Some` when the framing cuts a byte stream (TCP, TLS).
    cutter: Option<FrameCutter>,
    /// `Some` when the framing cuts each message on its own (UDP, WebSocket).
    message_framing: Option<Framing>,
    /// Bytes and frames received in total (to tell new ones from old ones).
    pub received: u64,
    /// Bytes (or frames) dropped to stay within the bound.
    pub dropped: u64,
}

impl Inbox {
    /// An empty inbox; `framing` cuts stream sessions or message sessions as `messages` says.
    pub(super) fn new(framing: &Framing, messages: bool) -> Self {
        let framed = cuts(framing);
        Self {
            link: Link::Unknown,
            closed: None,
            peer: None,
            waiting: None,
            stream: Vec::new(),
            frames: VecDeque::new(),
            cutter: (framed && !messages).then(|| FrameCutter::new(framing.clone())),
            message_framing: (framed && messages).then(|| framing.clone()),
            received: 0,
            dropped: 0,
        }
    }

    /// Whether expects match whole frames.
    pub(super) fn framed(&self) -> bool {
        self.cutter.is_some() || self.message_framing.is_some()
    }

    /// Takes in one read, datagram or message.
    pub(super) fn push(&mut self, data: &[u8]) {
        let frames = if let Some(cutter) = &mut self.cutter {
            cutter.push(data)
        } else if let Some(framing) = &self.message_framing {
            cut_message(framing, data)
        } else {
            self.received += data.len() as u64;
            self.stream.extend_from_slice(data);
            if self.stream.len() > MAX_PENDING_BYTES {
                let over = self.stream.len() - MAX_PENDING_BYTES;
                self.stream.drain(..over);
                self.dropped += over as u64;
            }
            return;
        };
        self.received += frames.len() as u64;
        self.frames.extend(frames);
        while self.frames.len() > MAX_PENDING_FRAMES {
            self.frames.pop_front();
            self.dropped += 1;
        }
    }

    /// Forgets what is pending (a case that failed leaves nothing to the next one).
    pub(super) fn clear(&mut self) {
        self.stream.clear();
        self.frames.clear();
    }

    /// The first match: consumed (with the frames before it, which did not match) and its
    /// captures returned. Frames passed over are appended to `passed_over`.
    pub(super) fn take_match(
        &mut self,
        expectation: &Expectation,
        passed_over: &mut Vec<u8>,
    ) -> Option<Vec<(String, String)>> {
        if !self.framed() {
            let Found { end, captures } = expectation.find_in_stream(&self.stream)?;
            self.stream.drain(..end.min(self.stream.len()));
            return Some(captures);
        }
        while let Some(frame) = self.frames.pop_front() {
            if let Some(captures) = expectation.match_frame(&frame) {
                return Some(captures);
            }
            passed_over.extend_from_slice(&frame);
        }
        None
    }

    /// What is pending, for a failure report.
    pub(super) fn pending(&self) -> Vec<u8> {
        if self.framed() {
            self.frames.iter().flat_map(|f| f.iter().copied()).collect()
        } else {
            self.stream.clone()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::reply::MatchKind;

    fn contains(pattern: &[u8]) -> Expectation {
        Expectation::Bytes {
            kind: MatchKind::Contains,
            pattern: pattern.to_vec(),
            text: false,
        }
    }

    #[test]
    fn a_stream_is_matched_across_reads_and_consumed_to_the_match() {
        let mut inbox = Inbox::new(&Framing::Raw, false);
        let mut over = Vec::new();
        inbox.push(b"TEM");
        assert_eq!(inbox.take_match(&contains(b"TEMP=1"), &mut over), None);
        inbox.push(b"P=1\r\nTEMP=2\r\n");
        assert!(inbox.take_match(&contains(b"TEMP=1"), &mut over).is_some());
        assert_eq!(inbox.pending(), b"\r\nTEMP=2\r\n");
        assert!(inbox.take_match(&contains(b"TEMP=2"), &mut over).is_some());
        assert_eq!(inbox.pending(), b"\r\n");
    }

    #[test]
    fn frames_are_matched_whole_and_passed_over() {
        let framing: Framing = "len:u32le".parse().expect("framing");
        let mut inbox = Inbox::new(&framing, false);
        let mut over = Vec::new();
        inbox.push(b"\x01\x00\x00\x00a\x01\x00");
        inbox.push(b"\x00\x00b");
        assert!(inbox.take_match(&contains(b"b"), &mut over).is_some());
        assert_eq!(over, b"\x01\x00\x00\x00a");
        assert!(inbox.pending().is_empty());
        // A datagram session cuts each message on its own.
        let mut inbox = Inbox::new(&framing, true);
        inbox.push(b"\x01\x00\x00\x00a\x01\x00");
        inbox.push(b"\x00\x00b");
        assert_eq!(
            inbox.received, 1,
            "a frame is never joined across two datagrams"
        );
    }

    #[test]
    fn a_flood_keeps_the_newest_bytes() {
        let mut inbox = Inbox::new(&Framing::Raw, false);
        let chunk = vec![b'x'; 64 * 1024];
        for _ in 0..20 {
            inbox.push(&chunk);
        }
        assert_eq!(inbox.pending().len(), MAX_PENDING_BYTES);
        assert_eq!(inbox.dropped, 20 * 64 * 1024 - MAX_PENDING_BYTES as u64);
    }
}
