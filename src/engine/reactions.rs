//! What a session does by itself, evaluated right where bytes are read, so a reply goes out
//! without a round trip to the UI: the on-connect payload, the echo and the auto-reply rules
//! of the session's [`Reactor`](super::reactor::Reactor).
//! With the session's framing (delimiter, fixed, length) rules match once per complete frame
//! (see [`super::reply_frames`]): per connection for a stream, per datagram or WebSocket
//! message otherwise; raw framing matches each read, and so does idle framing, except on a
//! device (a serial port), whose reader matches what came between two silences of the line
//! ([`idle_gap`], [`auto_replies_burst`]).

use std::sync::{Mutex, PoisonError};

use bytes::Bytes;

use super::reply_frames::{FrameCutter, cut_message, cuts};
use super::session::SessionContext;
use crate::codec::framing::Framing;
use crate::protocol::{Note, PeerId, Warning};

/// Auto-reply state of one stream (a TCP or TLS connection): its frame cutter, made when
/// the session's framing cuts and there are rules, remade when the framing changes.
#[derive(Debug, Default)]
pub(super) struct StreamFrames(Mutex<Option<FrameCutter>>);

impl StreamFrames {
    /// Drops the cutter and the partial frame it holds, as [`auto_replies_stream`] does when
    /// there are no rules: a cutter made later starts at the next read.
    pub(super) fn forget(&self) {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) = None;
    }
}

/// The replies to `data` read from `peer`'s stream: the read itself when the session
/// echoes, then one per complete frame a rule matches (with raw or idle framing, the read
/// itself is the message).
pub(super) fn auto_replies_stream(
    context: &SessionContext,
    peer: PeerId,
    frames: &StreamFrames,
    data: &Bytes,
) -> Vec<Bytes> {
    let mut replies = echo(context, data);
    let messages = {
        let reactor = context.reactions.borrow();
        let mut cutter = frames.0.lock().unwrap_or_else(PoisonError::into_inner);
        if reactor.rules().is_empty() || !cuts(reactor.framing()) {
            // Nothing to match, or each read is a message: no bytes kept. A cutter made
            // later starts at the next read.
            *cutter = None;
            None
        } else {
            let cutter = match &mut *cutter {
                Some(c) if c.framing() == reactor.framing() => c,
                slot => slot.insert(FrameCutter::new(reactor.framing().clone())),
            };
            Some(cutter.push(data))
        }
    };
    answer(context, peer, (data, messages), &mut replies);
    replies
}

/// The replies to one datagram or WebSocket message from `peer`: the message itself when
/// the session echoes, then, the message cut by the session's framing on its own (a frame
/// never spans two messages), one reply per complete frame a rule matches.
pub(super) fn auto_replies_message(
    context: &SessionContext,
    peer: PeerId,
    data: &Bytes,
) -> Vec<Bytes> {
    let mut replies = echo(context, data);
    let messages = {
        let reactor = context.reactions.borrow();
        if reactor.rules().is_empty() {
            return replies;
        }
        if cuts(reactor.framing()) {
            Some(cut_message(reactor.framing(), data))
        } else {
            None
        }
    };
    answer(context, peer, (data, messages), &mut replies);
    replies
}

/// With idle framing (`idle:MS`) and rules to match, the silence after which a device's
/// bytes are one message; `None` otherwise (each read is matched as it comes, or cut).
pub(super) fn idle_gap(context: &SessionContext) -> Option<std::time::Duration> {
    let reactor = context.reactions.borrow();
    match reactor.framing() {
        Framing::Idle { gap_ms } if !reactor.rules().is_empty() => {
            Some(std::time::Duration::from_millis(*gap_ms))
        }
        _ => None,
    }
}

/// The echo of one read of a device whose rules match bursts ([`idle_gap`]): the rules see
/// the read later, in its burst.
pub(super) fn echo_read(context: &SessionContext, data: &Bytes) -> Vec<Bytes> {
    echo(context, data)
}

/// The rules' answers to a device's burst: the bytes read between two silences of the line.
pub(super) fn auto_replies_burst(
    context: &SessionContext,
    peer: PeerId,
    burst: &Bytes,
) -> Vec<Bytes> {
    let mut replies = Vec::new();
    answer(context, peer, (burst, None), &mut replies);
    replies
}

/// Adds to `replies` the rules' answers to `data`: to each of `messages` (the frames cut
/// from it), or to `data` itself when it is not cut (`None`).
fn answer(
    context: &SessionContext,
    peer: PeerId,
    (data, messages): (&[u8], Option<Vec<Bytes>>),
    replies: &mut Vec<Bytes>,
) {
    match messages {
        None => replies.extend(auto_reply(context, peer, data)),
        Some(messages) => replies.extend(
            messages
                .iter()
                .filter_map(|message| auto_reply(context, peer, message)),
        ),
    }
}

/// `data` back, when the session echoes (no copy: the log and the reply share the bytes).
fn echo(context: &SessionContext, data: &Bytes) -> Vec<Bytes> {
    if context.reactions.borrow().echoes() {
        vec![data.clone()]
    } else {
        Vec::new()
    }
}

/// Whether the session answers what it reads (it echoes, or has auto-reply rules); if not,
/// received bytes need no look.
pub(super) fn reacts(context: &SessionContext) -> bool {
    let reactor = context.reactions.borrow();
    reactor.echoes() || !reactor.rules().is_empty()
}

/// The payload to send to a peer that just connected, if any.
pub(super) fn on_connect(context: &SessionContext) -> Option<Bytes> {
    context.reactions.borrow().on_connect().cloned()
}

/// The auto-reply to `data` received from `peer`, if a rule matches; the match is logged
/// (as a note), and a reply that cannot be built is reported instead of sent.
fn auto_reply(context: &SessionContext, peer: PeerId, data: &[u8]) -> Option<Bytes> {
    let answer = {
        let reactor = context.reactions.borrow();
        if reactor.rules().is_empty() {
            return None;
        }
        reactor.rules().answer(data)?
    };
    let (rule, summary) = (answer.number, answer.summary);
    match answer.bytes {
        Ok(bytes) if bytes.is_empty() => {
            let note = Note::AutoReplyEmpty { rule, summary };
            context.sink.note(context.id, Some(peer), note);
            None
        }
        Ok(bytes) => {
            let shown = bytes[..bytes.len().min(Note::REPLY_SHOWN_BYTES)].to_vec();
            let note = Note::AutoReply {
                rule,
                summary,
                len: bytes.len(),
                shown,
            };
            context.sink.note(context.id, Some(peer), note);
            Some(Bytes::from(bytes))
        }
        Err(error) => {
            let warning = Warning::ReplyUnbuildable {
                rule,
                summary,
                error,
            };
            context.sink.warning(context.id, warning);
            None
        }
    }
}
