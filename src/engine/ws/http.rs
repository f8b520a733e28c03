//! The plain-HTTP side of a WebSocket server: reading an upgrade request's head before
//! tungstenite does, so a request that is no WebSocket upgrade at all (a browser or `curl`
//! opening the URL) gets a real answer, `426 Upgrade Required`, instead of a closed
//! connection, and a TLS client on a server without `tls` is recognised. The head read is
//! then replayed to tungstenite by [`Rewind`].

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};

use super::connection::Io;

/// Largest request head read (tungstenite refuses bigger heads too).
const MAX_HEAD_BYTES: usize = 16 * 1024;
/// The first byte of a TLS handshake record.
const TLS_HANDSHAKE: u8 = 0x16;

/// A request head, as read: the bytes (the whole head, and whatever came with it).
pub(super) struct Head {
    bytes: Vec<u8>,
}

impl Head {
    /// The request line, e.g. `GET /chat HTTP/1.1`, lossily decoded.
    pub(super) fn request_line(&self) -> String {
        let line = self.bytes.split(|b| *b == b'\r' || *b == b'\n').next();
        String::from_utf8_lossy(line.unwrap_or_default()).into_owned()
    }

    /// Whether the client opened with a TLS handshake instead of HTTP.
    pub(super) fn is_tls(&self) -> bool {
        self.bytes.first() == Some(&TLS_HANDSHAKE)
    }

    /// Whether the head asks for a WebSocket upgrade (`Upgrade: websocket`, any case).
    pub(super) fn asks_for_websocket(&self) -> bool {
        let text = String::from_utf8_lossy(&self.bytes).to_ascii_lowercase();
        text.lines().any(|line| {
            line.split_once(':').is_some_and(|(name, value)| {
                name.trim() == "upgrade" && value.split(',').any(|v| v.trim() == "websocket")
            })
        })
    }
}

/// Reads until the blank line that ends a request head, the end of the stream, or
/// [`MAX_HEAD_BYTES`]; whatever was read is in the [`Head`].
///
/// # Errors
/// The read error.
pub(super) async fn read_head(io: &mut Box<dyn Io>) -> io::Result<Head> {
    let mut bytes = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    loop {
        let n = io.read(&mut chunk).await?;
        bytes.extend_from_slice(&chunk[..n]);
        // A TLS client waits for our answer to its hello: no blank line would ever come.
        let tls = bytes.first() == Some(&TLS_HANDSHAKE);
        let ended = bytes.windows(4).any(|w| w == b"\r\n\r\n");
        if n == 0 || tls || ended || bytes.len() >= MAX_HEAD_BYTES {
            return Ok(Head { bytes });
        }
    }
}

/// Answers a request that is no WebSocket upgrade with `426 Upgrade Required` and a line of
/// text saying where the user is.
///
/// # Errors
/// The write error (the client may be gone already).
pub(super) async fn answer_upgrade_required(
    io: &mut Box<dyn Io>,
    path_hint: &str,
) -> io::Result<()> {
    let body = format!(
        "This is a WebSocket endpoint (sockdbg ws-server{path_hint}); connect with a \
         WebSocket client, e.g. ws://HOST:PORT/PATH.\n"
    );
    let response = format!(
        "HTTP/1.1 426 Upgrade Required\r\nUpgrade: websocket\r\nConnection: close\r\n\
         Content-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    io.write_all(response.as_bytes()).await?;
    io.flush().await?;
    io.shutdown().await
}

/// A stream that first replays bytes already read from it, then reads on.
pub(super) struct Rewind {
    head: Vec<u8>,
    replayed: usize,
    inner: Box<dyn Io>,
}

impl Rewind {
    /// `inner`, with `head` (read from it before) to be read again first.
    pub(super) fn new(head: Head, inner: Box<dyn Io>) -> Self {
        Self {
            head: head.bytes,
            replayed: 0,
            inner,
        }
    }
}

impl AsyncRead for Rewind {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        if let Some(rest) = this.head.get(this.replayed..).filter(|r| !r.is_empty()) {
            let n = rest.len().min(buf.remaining());
            buf.put_slice(&rest[..n]);
            this.replayed += n;
            if this.replayed == this.head.len() {
                this.head = Vec::new(); // replayed: its memory goes
                this.replayed = 0;
            }
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut this.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for Rewind {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, data)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(text: &str) -> Head {
        Head {
            bytes: text.as_bytes().to_vec(),
        }
    }

    #[test]
    fn tells_an_upgrade_from_a_plain_request() {
        let upgrade = head("GET /chat HTTP/1.1\r\nHost: x\r\nUPGRADE:  WebSocket\r\n\r\n");
        assert!(upgrade.asks_for_websocket());
        assert_eq!(upgrade.request_line(), "GET /chat HTTP/1.1");
        let listed = head("GET / HTTP/1.1\r\nUpgrade: h2c, websocket\r\n\r\n");
        assert!(listed.asks_for_websocket());
        for plain in [
            "GET / HTTP/1.1\r\nHost: x\r\n\r\n",
            "GET / HTTP/1.1\r\nX-Upgrade: websocket\r\n\r\n",
            "GET / HTTP/1.1\r\nUpgrade: h2c\r\n\r\n",
            "",
        ] {
            assert!(!head(plain).asks_for_websocket(), "{plain:?}");
        }
    }

    #[tokio::test]
    async fn rewind_replays_the_head_then_reads_on() {
        let (mut far, near) = tokio::io::duplex(64);
        far.write_all(b" and more").await.expect("write");
        drop(far);
        let mut stream = Rewind::new(head("head"), Box::new(near));
        let mut all = Vec::new();
        stream.read_to_end(&mut all).await.expect("read");
        assert_eq!(all, b"head and more");
    }
}
