//! The send pipeline: what the user typed in the send box, as hex or as text in a chosen
//! encoding, turned into the exact bytes that will go out, or a one-line reason why not.

use crate::codec::hex::parse_hex;
use crate::codec::text::{TextEncoding, encode_strict};

/// Turns send-box input into bytes.
///
/// # Errors
/// A message for the user: invalid hex, an unencodable character, or nothing to send.
pub fn encode_payload(input: &str, hex: bool, encoding: TextEncoding) -> Result<Vec<u8>, String> {
    let bytes = if hex {
        parse_hex(input).map_err(|e| format!("invalid hex: {e}"))?
    } else {
        encode_strict(input, encoding).map_err(|e| e.to_string())?
    };
    if bytes.is_empty() {
        return Err("nothing to send: the send box is empty".to_string());
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_hex_and_text() {
        assert_eq!(
            encode_payload("31 32", true, TextEncoding::Utf8),
            Ok(b"12".to_vec())
        );
        assert_eq!(
            encode_payload("中文", false, TextEncoding::Gbk),
            Ok(vec![0xd6, 0xd0, 0xce, 0xc4])
        );
        assert_eq!(
            encode_payload("31 32", false, TextEncoding::Utf8),
            Ok(b"31 32".to_vec())
        );
    }

    #[test]
    fn explains_what_cannot_be_sent() {
        let table = [
            (
                "3G",
                true,
                TextEncoding::Utf8,
                "invalid hex: 'G' at column 2",
            ),
            ("", false, TextEncoding::Utf8, "nothing to send"),
            ("  ", true, TextEncoding::Utf8, "nothing to send"),
            ("😀", false, TextEncoding::Gbk, "cannot be encoded as GBK"),
        ];
        for (input, hex, encoding, expected) in table {
            let error = encode_payload(input, hex, encoding).expect_err(input);
            assert!(error.contains(expected), "{input:?}: {error}");
        }
    }
}
