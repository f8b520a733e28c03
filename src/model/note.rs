//! What a log note records, as a value: a lifecycle step of the session or a peer, or what the
//! engine said (a start failure, a warning, a note, a close reason). The log stores it in its
//! arena as a small serialized record beside the traffic (so notes are evicted with their
//! chunk, and the memory bound holds), and it becomes words only when drawn or printed, in the
//! language of the moment (`crate::i18n::messages`): switching the language re-renders old
//! notes.

use std::net::SocketAddr;

use serde::{Deserialize, Serialize};

use crate::model::log::EntryKind;
use crate::protocol::{CloseReason, Note, StartFailure, Warning};
use crate::spec::SessionKind;

/// What a peer is to its session when it first shows up.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum PeerRole {
    /// A TCP (TLS, WebSocket) connection.
    Connected,
    /// A UDP client's target.
    Target,
    /// A group session's group.
    Group,
    /// A UDP source heard from for the first time.
    NewPeer,
}

/// One note of the log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum LogNote {
    /// The session is up on `local_addr` (listening, bound, connected from, ...).
    Started {
        /// The session's kind, which says how it is up.
        kind: SessionKind,
        /// The address bound.
        local_addr: SocketAddr,
    },
    /// The session could not start.
    StartFailed(StartFailure),
    /// A peer showed up.
    PeerConnected(PeerRole),
    /// A peer went away.
    PeerDisconnected(CloseReason),
    /// Something went wrong without ending the session.
    Warning(Warning),
    /// Something the session did by itself.
    Note(Note),
    /// The user stopped the session.
    Stopped,
    /// The session ended by itself.
    Ended(CloseReason),
}

impl LogNote {
    /// How the log files it: a problem ([`EntryKind::Error`]) or information.
    pub fn entry_kind(&self) -> EntryKind {
        match self {
            Self::StartFailed(_) | Self::Warning(_) | Self::Ended(_) => EntryKind::Error,
            _ => EntryKind::Info,
        }
    }

    /// The record stored in the log's arena.
    pub fn to_bytes(&self) -> Vec<u8> {
        // Plain data (strings, numbers, addresses) always serializes.
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// The note a record stored by [`Self::to_bytes`] holds.
    pub fn from_bytes(bytes: &[u8]) -> Option<Self> {
        serde_json::from_slice(bytes).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::framing::LengthWidth;
    use crate::protocol::{JobFailure, JobOutcome, Note, OsError, PeerId, Refusal};
    use crate::scenario::vars::ExpandError;

    #[test]
    fn a_note_reads_back_as_it_was_stored() {
        let notes = [
            LogNote::Started {
                kind: SessionKind::TcpServer,
                local_addr: SocketAddr::from(([127, 0, 0, 1], 6001)),
            },
            LogNote::StartFailed(StartFailure::Bind {
                addr: SocketAddr::from(([0, 0, 0, 0], 6001)),
                cause: OsError::AddrInUse,
            }),
            LogNote::PeerDisconnected(CloseReason::Io(OsError::Other {
                os_text: "中文 \"quoted\"".into(),
            })),
            LogNote::Warning(Warning::NotSent(Refusal::PeerGone { peer: PeerId(3) })),
            // A periodic send whose `${seq}` outgrew its byte.
            LogNote::Note(Note::PeriodicEnded {
                sent: 255,
                outcome: JobOutcome::Failed(JobFailure::Expand(ExpandError::TooBig {
                    name: "seq".into(),
                    value: 256,
                    width: LengthWidth::U8,
                })),
            }),
            LogNote::Stopped,
        ];
        for note in notes {
            assert_eq!(LogNote::from_bytes(&note.to_bytes()), Some(note.clone()));
        }
        assert_eq!(LogNote::from_bytes(b"connected"), None);
    }
}
