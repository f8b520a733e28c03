//! What a session does by itself: the on-connect payload and the auto-reply rules. The
//! dispatcher keeps one [`watch`] channel per session, so rules set while a session is
//! stopped apply when it starts, and a change reaches running connections at once. Rules are
//! evaluated right where bytes are read, so a reply goes out without a round trip to the UI.

use std::sync::Arc;
use std::time::SystemTime;

use bytes::Bytes;
use tokio::sync::watch;

use super::dispatch::SessionContext;
use crate::codec::reply::{RuleError, RuleSet, describe_bytes};
use crate::protocol::{Event, PeerId, Reactions};

/// Compiled reactions of one session.
#[derive(Debug, Default)]
pub(super) struct Reactor {
    on_connect: Option<Bytes>,
    rules: RuleSet,
}

/// The receiving end a session reads its reactions from.
pub(super) type ReactorWatch = watch::Receiver<Arc<Reactor>>;

impl Reactor {
    /// Compiles `reactions`.
    ///
    /// # Errors
    /// [`RuleError`] for the first rule that cannot be used.
    pub(super) fn build(reactions: Reactions) -> Result<Self, RuleError> {
        Ok(Self {
            on_connect: reactions.on_connect.filter(|data| !data.is_empty()),
            rules: RuleSet::compile(&reactions.rules)?,
        })
    }
}

/// The payload to send to a peer that just connected, if any.
pub(super) fn on_connect(context: &SessionContext) -> Option<Bytes> {
    context.reactions.borrow().on_connect.clone()
}

/// The auto-reply to `data` received from `peer`, if a rule matches; the match is logged
/// (as a note), and a reply that cannot be built is reported instead of sent.
pub(super) fn auto_reply(context: &SessionContext, peer: PeerId, data: &[u8]) -> Option<Bytes> {
    let answer = {
        let reactor = context.reactions.borrow();
        if reactor.rules.is_empty() {
            return None;
        }
        reactor.rules.answer(data)?
    };
    match answer.bytes {
        Ok(bytes) if bytes.is_empty() => {
            note(
                context,
                peer,
                format!(
                    "auto-reply rule {} ({}) matched; its reply is empty, nothing sent",
                    answer.number, answer.summary
                ),
            );
            None
        }
        Ok(bytes) => {
            note(
                context,
                peer,
                format!(
                    "auto-reply rule {} ({}) matched; replying {} bytes: {}",
                    answer.number,
                    answer.summary,
                    bytes.len(),
                    describe_bytes(&bytes)
                ),
            );
            Some(Bytes::from(bytes))
        }
        Err(e) => {
            context.sink.warning(
                context.id,
                format!(
                    "auto-reply rule {} ({}) matched but its reply cannot be built: {e}",
                    answer.number, answer.summary
                ),
            );
            None
        }
    }
}

fn note(context: &SessionContext, peer: PeerId, message: String) {
    context.sink.send(Event::Note {
        id: context.id,
        peer: Some(peer),
        message,
        at: SystemTime::now(),
    });
}
