//! A session's reactions as set by the user, compiled: the on-connect payload, the echo,
//! the auto-reply rules and the framing they match frames of. The dispatcher keeps one
//! [`watch`] channel per session, so rules set while a session is stopped apply when it
//! starts, and a change reaches running connections at once; [`super::reactions`] evaluates
//! them where bytes are read.

use std::sync::Arc;

use bytes::Bytes;
use tokio::sync::watch;

use crate::codec::framing::Framing;
use crate::codec::reply::{RuleError, RuleSet};
use crate::protocol::Reactions;

/// Compiled reactions of one session.
#[derive(Clone, Debug, Default)]
pub(super) struct Reactor {
    on_connect: Option<Bytes>,
    /// Each read goes back to its sender (before any rule's reply).
    echo: bool,
    rules: Arc<RuleSet>,
    /// How auto-reply cuts what peers send into messages (the session's log framing).
    framing: Framing,
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
            echo: reactions.echo,
            rules: Arc::new(RuleSet::compile(&reactions.rules)?),
            framing: Framing::Raw,
        })
    }

    /// This reactor with `framing` for auto-reply.
    pub(super) fn with_framing(mut self, framing: Framing) -> Self {
        self.framing = framing;
        self
    }

    /// The framing auto-reply cuts received bytes with.
    pub(super) fn framing(&self) -> &Framing {
        &self.framing
    }

    /// The payload sent to each peer that connects, if any.
    pub(super) fn on_connect(&self) -> Option<&Bytes> {
        self.on_connect.as_ref()
    }

    /// Whether each read goes back to its sender.
    pub(super) fn echoes(&self) -> bool {
        self.echo
    }

    /// The auto-reply rules.
    pub(super) fn rules(&self) -> &RuleSet {
        &self.rules
    }
}
