//! What goes over a WebSocket of ours: the tungstenite settings (the largest message we
//! accept), the message a send becomes (Text or Binary), and what a close frame or a
//! WebSocket error was, as typed values for the log.

use bytes::Bytes;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::protocol::frame::CloseFrame;
use tokio_tungstenite::tungstenite::{Error as WsError, Message, Utf8Bytes};

use crate::protocol::{OsError, WsClose, WsFault};

/// Largest message (and frame) we accept: a bigger one ends the connection with a close
/// 1009 and a one-line reason, instead of growing memory without bound.
const MAX_MESSAGE_BYTES: usize = 16 * 1024 * 1024;

/// The tungstenite settings of every WebSocket of ours.
pub(super) fn config() -> WebSocketConfig {
    WebSocketConfig::default()
        .max_message_size(Some(MAX_MESSAGE_BYTES))
        .max_frame_size(Some(MAX_MESSAGE_BYTES))
}

/// The message a send of `data` becomes: Text when it is valid UTF-8 (and `binary` is not
/// set), Binary otherwise. The payload is `data`, unchanged, either way.
pub(in crate::engine) fn message_for(data: Bytes, binary: bool) -> Message {
    if binary {
        return Message::Binary(data);
    }
    match Utf8Bytes::try_from(data.clone()) {
        Ok(text) => Message::Text(text),
        Err(_) => Message::Binary(data),
    }
}

/// What a close frame said (`None`: a close without a status code).
pub(super) fn close_of(frame: Option<&CloseFrame>) -> WsClose {
    match frame {
        Some(frame) => WsClose {
            code: Some(u16::from(frame.code)),
            reason: frame.reason.as_str().to_string(),
        },
        None => WsClose {
            code: None,
            reason: String::new(),
        },
    }
}

/// What a WebSocket error was.
pub(super) fn fault(error: &WsError) -> WsFault {
    use tokio_tungstenite::tungstenite::error::{CapacityError, ProtocolError};
    match error {
        WsError::Io(e) => WsFault::Io(OsError::of(e)),
        WsError::ConnectionClosed | WsError::AlreadyClosed => WsFault::ConnectionClosed,
        WsError::Protocol(ProtocolError::ResetWithoutClosingHandshake) => {
            WsFault::ClosedWithoutCloseFrame
        }
        WsError::Capacity(CapacityError::MessageTooLong { size, max_size }) => {
            WsFault::MessageTooBig {
                size: *size,
                max_size: *max_size,
            }
        }
        WsError::Protocol(e) => WsFault::Protocol {
            detail: e.to_string(),
        },
        other => WsFault::Other {
            detail: other.to_string(),
        },
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
        use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
        let frame = |code: u16, reason: &str| CloseFrame {
            code: CloseCode::from(code),
            reason: reason.into(),
        };
        let text = |frame: Option<&CloseFrame>| close_of(frame).to_string();
        assert_eq!(text(Some(&frame(1000, ""))), "1000 normal");
        assert_eq!(text(Some(&frame(1001, "bye"))), "1001 going away (\"bye\")");
        assert_eq!(text(Some(&frame(1011, ""))), "1011 internal error");
        assert_eq!(text(Some(&frame(4000, ""))), "4000");
        assert_eq!(text(None), "no status code");
    }
}
