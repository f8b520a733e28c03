//! What went wrong, and notices for the user, as typed values: the window words them when it
//! draws them ([`crate::i18n::errors::problem_text`], [`crate::i18n::errors::notice_text`]),
//! so switching the language rewords an error already on screen.

use std::path::PathBuf;

use crate::capture::CaptureError;
use crate::codec::framing::FramingError;
use crate::codec::hex::HexError;
use crate::codec::reply::RuleError;
use crate::codec::send::SendError;
use crate::config::ConfigNotice;
use crate::export::ExportError;
use crate::file_dialog::DialogError;
use crate::i18n::Text;
use crate::scenario::sending::PayloadError;
use crate::spec::SpecError;

/// Why something the user asked for could not be done; shown inline where they asked.
#[derive(Clone, Debug)]
pub enum Problem {
    /// The send box's content (or a periodic send's) cannot become bytes.
    Send(PayloadError),
    /// A quick command's payload cannot become bytes.
    QuickCommand {
        /// The command's name.
        name: String,
        /// Why.
        error: PayloadError,
    },
    /// The on-connect payload cannot become bytes.
    OnConnect(SendError),
    /// An auto-reply rule cannot be used.
    Rule(RuleError),
    /// The periodic send's interval is not a whole number of milliseconds, at least 1.
    BadInterval,
    /// The periodic send's count is not a whole number.
    BadCount,
    /// Send file was pressed with no file named.
    ChooseFileFirst,
    /// No file dialog could open.
    Dialog(DialogError),
    /// Quick commands could not be written to a file.
    QuickExport {
        /// The file.
        path: PathBuf,
        /// The system's or the encoder's reason, as it wrote it.
        reason: String,
    },
    /// Quick commands could not be read from a file.
    QuickImport {
        /// The file.
        path: PathBuf,
        /// The system's or the parser's reason, as it wrote it.
        reason: String,
    },
    /// The quick-command file's worker thread could not start.
    QuickFileThread {
        /// The system's reason.
        reason: String,
    },
    /// The quick-command file's worker thread ended without an answer.
    QuickFileLost,
    /// A capture could not start or write.
    Capture(CaptureError),
    /// An export could not start or finish.
    Export(ExportError),
    /// The framing form's fields do not make a framing.
    Framing(FramingFormError),
    /// The create or edit form's fields do not make a session.
    Form(SpecError),
    /// A scenario file could not be read or written.
    ScenarioFile {
        /// The file.
        path: PathBuf,
        /// The system's reason, as it wrote it.
        reason: String,
    },
    /// Run on the selected session with none selected.
    ScenarioNoSession,
    /// Run on the selected session a file that opens this many sessions.
    ScenarioManySessions(usize),
    /// Run on new sessions a file without a `session` line.
    ScenarioNoSessionLine,
    /// A load run's records could not be written to a CSV file.
    LoadCsv {
        /// The file.
        path: PathBuf,
        /// The system's reason, as it wrote it.
        reason: String,
    },
    /// The serial ports could not be listed.
    PortList {
        /// The system's reason, as it wrote it.
        reason: String,
    },
}

/// Why the framing form's fields do not make a framing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FramingFormError {
    /// A field that must be a whole number is not (the field's name).
    NotANumber(Text),
    /// The delimiter is not valid hex.
    Delimiter(HexError),
    /// The delimiter is empty.
    DelimiterEmpty,
    /// A fixed length of 0.
    LengthZero,
    /// The length field's offset does not fit in memory.
    OffsetTooLarge,
}

/// A message shown above the log until dismissed (settings problems found at start or save).
#[derive(Clone, Debug)]
pub enum Notice {
    /// The settings file could not be used.
    Config(ConfigNotice),
    /// A saved session's spec could not be read; the session was left out.
    SavedSessionSkipped {
        /// The saved spec.
        spec: String,
        /// Why it cannot be used.
        error: SpecError,
    },
    /// A saved session's framing could not be read; it shows raw reads.
    SavedFramingUnused(FramingError),
    /// The settings could not be saved.
    SaveFailed {
        /// The settings file.
        path: PathBuf,
        /// The system's reason, as it wrote it.
        reason: String,
    },
    /// The network engine (its runtime or thread) could not start: sessions cannot run.
    EngineUnavailable {
        /// The system's reason, as it wrote it.
        reason: String,
    },
    /// The directory for logs spilled to disk could not be made: logs stay in memory.
    SpillUnavailable {
        /// The directory.
        path: PathBuf,
        /// The system's reason, as it wrote it.
        reason: String,
    },
}
