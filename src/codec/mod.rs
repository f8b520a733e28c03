//! Pure byte and text functions: no egui, no tokio, no IO. Each file is table-tested at its
//! bottom.
//! - [`hex`]: parse user hex input, format bytes as hex fast.
//! - [`text`]: encode text strictly into a chosen encoding, decode bytes for display.
//! - [`escape`]: backslash escapes in send text (`\r \n \t \\ \0 \xNN`).
//! - [`checksum`]: sum8, xor8, CRC-16/MODBUS, CRC-16/CCITT-FALSE, CRC-32.
//! - [`send`]: the send pipeline, send-box input to bytes (escapes, encoding, line ending,
//!   checksum), and [`send::SendOptions`].
//! - [`names`]: checksum, line-ending and encoding names as users write them.
//! - [`reply`]: auto-reply rules and their matching.
//! - [`framing`]: cut a byte stream into messages (粘包), incrementally.
//! - [`dump`]: hex dump with a decoded text column; bytes as C and Python literals.
//! - [`display`]: make decoded text safe for one log row (visible control characters).

pub mod checksum;
pub mod display;
pub mod dump;
pub mod escape;
pub mod framing;
pub mod hex;
pub mod names;
pub mod reply;
pub mod send;
pub mod text;
