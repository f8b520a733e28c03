//! What a load job tells the UI ([`LoadUpdate`]): a record each second, the first messages
//! of each connection (the sample), and the end with the run's summary. The figures are
//! the pure [`crate::load`] types; the words are the window's and headless's.

use bytes::Bytes;

use super::{Direction, StartFailure};
use crate::load::{SecondRecord, Summary};

/// Why a load run ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LoadEnd {
    /// Its duration passed.
    Completed,
    /// The user stopped it (cancel or session stop).
    Stopped,
    /// It could not start: the target's name does not resolve, the TLS setup failed.
    Failed(StartFailure),
    /// Its figures could not be kept (the histograms could not be made).
    NoFigures,
}

/// What happened in a load job.
#[derive(Clone, Debug, PartialEq)]
pub enum LoadUpdate {
    /// A second passed (boxed: events stay small).
    Second(Box<SecondRecord>),
    /// One of the first messages of a connection, either way (the run keeps no other
    /// bytes: logging every one would measure the log).
    Sample {
        /// The connection's number (1 for the first opened).
        conn: u64,
        /// Sent or received.
        dir: Direction,
        /// The exact bytes.
        data: Bytes,
    },
    /// The run ended; nothing follows.
    Ended {
        /// Why.
        end: LoadEnd,
        /// The whole run (boxed: events stay small).
        summary: Box<Summary>,
    },
}
