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

mod client;
mod connection;
mod http;
mod server;

use bytes::Bytes;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::protocol::frame::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{Error as WsError, Message, Utf8Bytes};

pub(super) use client::run as run_client;
pub(super) use server::run as run_server;

use super::net::describe;

/// Largest message (and frame) we accept: a bigger one ends the connection with a close
/// 1009 and a one-line reason, instead of growing memory without bound.
pub const MAX_MESSAGE_BYTES: usize = 16 * 1024 * 1024;

/// The tungstenite settings of every WebSocket of ours.
fn config() -> WebSocketConfig {
    WebSocketConfig::default()
        .max_message_size(Some(MAX_MESSAGE_BYTES))
        .max_frame_size(Some(MAX_MESSAGE_BYTES))
}

/// The message a send of `data` becomes: Text when it is valid UTF-8 (and `binary` is not
/// set), Binary otherwise. The payload is `data`, unchanged, either way.
fn message_for(data: Bytes, binary: bool) -> Message {
    if binary {
        return Message::Binary(data);
    }
    match Utf8Bytes::try_from(data.clone()) {
        Ok(text) => Message::Text(text),
        Err(_) => Message::Binary(data),
    }
}

/// `1000 normal`, `1001 going away ("bye")`, or `no status code` for a close without one.
fn describe_close(frame: Option<&CloseFrame>) -> String {
    let Some(frame) = frame else {
        return "no status code".to_string();
    };
    let number = u16::from(frame.code);
    let name = match frame.code {
        CloseCode::Normal => "normal",
        CloseCode::Away => "going away",
        CloseCode::Protocol => "protocol error",
        CloseCode::Unsupported => "unsupported data",
        CloseCode::Status => "no status",
        CloseCode::Abnormal => "abnormal",
        CloseCode::Invalid => "invalid payload",
        CloseCode::Policy => "policy violation",
        CloseCode::Size => "message too big",
        CloseCode::Extension => "extension required",
        CloseCode::Error => "internal error",
        CloseCode::Restart => "service restart",
        CloseCode::Again => "try again later",
        CloseCode::Tls => "TLS failure",
        _ => "",
    };
    let mut text = number.to_string();
    if !name.is_empty() {
        text.push(' ');
        text.push_str(name);
    }
    if !frame.reason.is_empty() {
        text.push_str(&format!(" ({:?})", frame.reason.as_str()));
    }
    text
}

/// A one-line description of a WebSocket error for the user.
fn describe_error(error: &WsError) -> String {
    use tokio_tungstenite::tungstenite::error::{CapacityError, ProtocolError};
    match error {
        WsError::Io(e) => describe(e),
        WsError::ConnectionClosed | WsError::AlreadyClosed => "connection closed".to_string(),
        WsError::Protocol(ProtocolError::ResetWithoutClosingHandshake) => {
            "connection closed without a close frame".to_string()
        }
        WsError::Capacity(CapacityError::MessageTooLong { size, max_size }) => format!(
            "received a message of {size} bytes or more, larger than the limit of {max_size} \
             bytes; closed with 1009 message too big"
        ),
        WsError::Protocol(e) => format!("WebSocket protocol error: {e}"),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf8_goes_as_text_the_rest_as_binary() {
        let table: [(&[u8], bool, bool); 6] = [
            (b"hello", false, true),
            ("中文".as_bytes(), false, true),
            (b"", false, true),
            (b"\xff\x00", false, false),
            (b"\xe4\xb8", false, false), // half a character
            (b"hello", true, false),
        ];
        for (data, binary, text) in table {
            let message = message_for(Bytes::copy_from_slice(data), binary);
            assert_eq!(message.is_text(), text, "{data:?} binary={binary}");
            assert_eq!(message.into_data(), Bytes::copy_from_slice(data));
        }
    }

    #[test]
    fn close_codes_read_as_a_number_and_a_word() {
        let frame = |code: u16, reason: &str| CloseFrame {
            code: CloseCode::from(code),
            reason: reason.into(),
        };
        assert_eq!(describe_close(Some(&frame(1000, ""))), "1000 normal");
        assert_eq!(
            describe_close(Some(&frame(1001, "bye"))),
            "1001 going away (\"bye\")"
        );
        assert_eq!(describe_close(Some(&frame(4000, ""))), "4000");
        assert_eq!(describe_close(None), "no status code");
    }
}
