//! Pure byte and text functions: no egui, no tokio, no IO. Each file is table-tested at its
//! bottom.
//! - [`hex`]: parse user hex input, format bytes as hex fast.
//! - [`text`]: encode text strictly into a chosen encoding, decode bytes for display.
//! - [`send`]: the send pipeline, send-box input to bytes.
//! - [`display`]: make decoded text safe for one log row (visible control characters).

pub mod display;
pub mod hex;
pub mod send;
pub mod text;
