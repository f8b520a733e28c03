//! Socket plumbing shared by the session kinds: resolving, binding with the right options,
//! reading into one shared per-thread buffer, and one-line descriptions of socket errors.

use std::cell::RefCell;
use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use socket2::{Domain, Protocol, Socket, Type};

use crate::spec::{DEFAULT_HANDSHAKE_TIMEOUT_MS, SessionSpec};

/// Largest read in one go (big reads keep floods cheap: one event per 256 KiB); the largest
/// UDP datagram (65,507 bytes of payload) fits too.
pub(super) const READ_BUFFER_BYTES: usize = 256 * 1024;

/// Receive buffer asked for on UDP sockets so bursts are not dropped by the kernel.
pub(super) const UDP_RECV_BUFFER_BYTES: usize = 4 * 1024 * 1024;

/// Pending connections the kernel may queue for a listening socket.
const LISTEN_BACKLOG: i32 = 1024;

thread_local! {
    /// One read buffer per IO thread (UDP datagrams, TLS reads), so an idle session or
    /// connection holds no buffer of its own.
    static READ_BUFFER: RefCell<Vec<u8>> = RefCell::new(vec![0; READ_BUFFER_BYTES]);
}

/// Runs `read` on this thread's shared buffer and copies out what it read.
pub(super) fn read_shared<T>(
    read: impl FnOnce(&mut [u8]) -> io::Result<(usize, T)>,
) -> io::Result<(Bytes, T)> {
    READ_BUFFER.with_borrow_mut(|buf| {
        let (n, extra) = read(buf)?;
        Ok((Bytes::copy_from_slice(&buf[..n]), extra))
    })
}

/// Reads with `read` into a buffer allocated only now that the socket is readable (an idle
/// connection holds none). A big read is handed on without a copy; one that fills less than
/// half the buffer is copied out at its size, so a few bytes never pin a large buffer.
pub(super) fn read_fresh(
    read: impl FnOnce(&mut BytesMut) -> io::Result<usize>,
) -> io::Result<Bytes> {
    let mut buf = BytesMut::with_capacity(READ_BUFFER_BYTES);
    let n = read(&mut buf)?;
    if n * 2 < buf.capacity() {
        Ok(Bytes::copy_from_slice(&buf[..n]))
    } else {
        Ok(buf.freeze())
    }
}

/// Resolves the spec's host and port to the first address (a name may give several).
///
/// # Errors
/// A one-line reason when the name does not resolve.
pub(super) async fn resolve(spec: &SessionSpec) -> Result<SocketAddr, String> {
    let mut addrs = tokio::net::lookup_host((spec.host.as_str(), spec.port))
        .await
        .map_err(|e| format!("cannot resolve '{}': {}", spec.host, describe(&e)))?;
    addrs
        .next()
        .ok_or_else(|| format!("'{}' resolves to no address", spec.host))
}

/// A socket bound to `addr` with SO_REUSEADDR (and SO_BROADCAST for UDP), non-blocking,
/// ready for tokio.
///
/// # Errors
/// The bind error, described for the user.
pub(super) fn bind_socket(addr: SocketAddr, kind: Type) -> Result<Socket, String> {
    let protocol = if kind == Type::STREAM {
        Protocol::TCP
    } else {
        Protocol::UDP
    };
    let bind_failed = |e: io::Error| format!("cannot bind {addr}: {}", describe(&e));
    let socket =
        Socket::new(Domain::for_address(addr), kind, Some(protocol)).map_err(bind_failed)?;
    socket.set_reuse_address(true).map_err(bind_failed)?;
    socket.set_nonblocking(true).map_err(bind_failed)?;
    if kind == Type::DGRAM {
        // Best effort: the OS may cap it, and a smaller buffer still works.
        socket.set_recv_buffer_size(UDP_RECV_BUFFER_BYTES).ok();
        // Without SO_BROADCAST the kernel refuses sends to a broadcast address (EACCES).
        // IPv6 has no broadcast; the option is harmless there.
        socket.set_broadcast(true).ok();
    }
    socket.bind(&addr.into()).map_err(bind_failed)?;
    if kind == Type::STREAM {
        socket.listen(LISTEN_BACKLOG).map_err(bind_failed)?;
    }
    Ok(socket)
}

/// How long a server gives each client's TLS handshake and WebSocket upgrade: the spec's
/// `handshake-timeout=MS`, else [`DEFAULT_HANDSHAKE_TIMEOUT_MS`].
pub(super) fn server_handshake_limit(spec: &SessionSpec) -> Duration {
    Duration::from_millis(
        spec.options
            .handshake_timeout_ms
            .unwrap_or(DEFAULT_HANDSHAKE_TIMEOUT_MS),
    )
}

/// How long a client's TLS handshake and WebSocket upgrade may take: the spec's
/// `handshake-timeout=MS`, else `left`, what the connect timeout leaves of itself.
pub(super) fn client_handshake_limit(spec: &SessionSpec, left: Duration) -> Duration {
    spec.options
        .handshake_timeout_ms
        .map_or(left, Duration::from_millis)
}

/// A time limit for the user: `10 s` when it is whole seconds, else `250 ms`.
pub(super) fn describe_limit(limit: Duration) -> String {
    if limit.subsec_millis() == 0 && limit.as_secs() > 0 {
        format!("{} s", limit.as_secs())
    } else {
        format!("{} ms", limit.as_millis())
    }
}

/// `EAFNOSUPPORT` on Linux: the address family (IPv6, typically) is switched off.
const ADDRESS_FAMILY_UNSUPPORTED: i32 = 97;

/// A one-line, user-facing description of a socket error.
pub(super) fn describe(error: &io::Error) -> String {
    use io::ErrorKind as K;
    if cfg!(target_os = "linux") && error.raw_os_error() == Some(ADDRESS_FAMILY_UNSUPPORTED) {
        return "address family not supported (IPv6 may be disabled on this host)".to_string();
    }
    let text = match error.kind() {
        K::AddrInUse => "address already in use (another program or session has this port)",
        K::AddrNotAvailable => "address not available on this host",
        K::PermissionDenied => "permission denied (ports below 1024 need privileges)",
        K::ConnectionRefused => "connection refused (nothing is listening there)",
        K::ConnectionReset => "connection reset by peer",
        K::ConnectionAborted => "connection aborted",
        K::BrokenPipe => "broken pipe (the peer closed the connection)",
        K::TimedOut => "timed out",
        K::HostUnreachable => "host unreachable",
        K::NetworkUnreachable => "network unreachable",
        _ => return error.to_string(),
    };
    text.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn describes_each_fault_in_one_line() {
        use io::ErrorKind as K;
        let table = [
            (io::Error::from(K::AddrInUse), "already in use"),
            (
                io::Error::from(K::AddrNotAvailable),
                "not available on this host",
            ),
            (
                io::Error::from(K::PermissionDenied),
                "below 1024 need privileges",
            ),
            (
                io::Error::from(K::ConnectionRefused),
                "nothing is listening",
            ),
            (io::Error::from(K::ConnectionReset), "reset by peer"),
            (io::Error::from(K::HostUnreachable), "host unreachable"),
            (
                io::Error::from(K::NetworkUnreachable),
                "network unreachable",
            ),
            (io::Error::from(K::TimedOut), "timed out"),
            (io::Error::from_raw_os_error(97), "IPv6 may be disabled"),
        ];
        for (error, expected) in table {
            let text = describe(&error);
            assert!(text.contains(expected), "{error:?}: {text}");
            assert!(!text.contains('\n'), "{text}");
        }
    }

    #[test]
    fn limits_read_in_seconds_or_milliseconds() {
        assert_eq!(describe_limit(Duration::from_secs(10)), "10 s");
        assert_eq!(describe_limit(Duration::from_millis(250)), "250 ms");
        assert_eq!(describe_limit(Duration::from_millis(1500)), "1500 ms");
        let spec: SessionSpec = "tls-server:0".parse().expect("spec");
        assert_eq!(server_handshake_limit(&spec), Duration::from_secs(10));
        let spec: SessionSpec = "tls-client:h:1,handshake-timeout=5".parse().expect("spec");
        let left = Duration::from_secs(3);
        assert_eq!(
            client_handshake_limit(&spec, left),
            Duration::from_millis(5)
        );
        let spec: SessionSpec = "tls-client:h:1".parse().expect("spec");
        assert_eq!(client_handshake_limit(&spec, left), left);
    }
}
