//! WebSocket sessions: `ws-server` (accepts WebSocket clients, each one a peer of the
//! session) and `ws-client` (`ws://` / `wss://`). Each data message, text or binary, is one
//! log entry holding exactly its payload bytes; control frames (ping, pong, close) are
//! notes on the session. Valid UTF-8 sends go as Text messages and anything else as Binary,
//! unless the spec says `binary`.
//!
//! - `connection`: the live connections of one session (send queue, read and write loops,
//!   close handshake), like `peers` for plain TCP.
//! - `server`: listening, the HTTP upgrade (path check, subprotocol) and the accept loop.
//! - `http`: a plain HTTP request (no upgrade) answered with 426 instead of a closed socket.
//! - `client`: connect, upgrade and run the one connection.
//! - `message`: our tungstenite settings, the message a send becomes, and what a close frame
//!   or an error was.

mod client;
mod connection;
mod http;
mod message;
mod server;

pub(super) use client::{open as open_client, run as run_client};
pub(super) use connection::WsStream;
pub(super) use message::message_for;
pub(super) use server::run as run_server;
