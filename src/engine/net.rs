//! Socket plumbing shared by the session kinds: resolving, binding with the right options,
//! and reading into one shared per-thread buffer. Failures are typed
//! ([`StartFailure`], with the OS's cause as an [`OsError`]).

use std::cell::RefCell;
use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use socket2::{Domain, Protocol, Socket, Type};

use crate::protocol::{OsError, StartFailure};
use crate::spec::{DEFAULT_HANDSHAKE_TIMEOUT_MS, SessionSpec};

/// Largest read in one go (big reads keep floods cheap: one event per 256 KiB); the largest
/// UDP datagram (65,507 bytes of payload) fits too.
pub(super) const READ_BUFFER_BYTES: usize = 256 * 1024;

/// Receive buffer a UDP socket needs so bursts are not dropped by the kernel (less is
/// reported, see `udp_drops`).
pub(super) const UDP_RECV_BUFFER_BYTES: usize = 4 * 1024 * 1024;

/// Receive buffer asked for first: the OS grants what it allows (Linux: up to
/// `net.core.rmem_max`); where asking too much fails (macOS above `kern.ipc.maxsockbuf`),
/// [`UDP_RECV_BUFFER_BYTES`] is asked instead.
pub(super) const UDP_RECV_BUFFER_WANTED_BYTES: usize = 16 * 1024 * 1024;

/// Gives a UDP socket as large a receive buffer as the OS allows, up to
/// [`UDP_RECV_BUFFER_WANTED_BYTES`]. Best effort: a smaller buffer still works.
pub(super) fn enlarge_recv_buffer(socket: &Socket) {
    if socket
        .set_recv_buffer_size(UDP_RECV_BUFFER_WANTED_BYTES)
        .is_err()
    {
        socket.set_recv_buffer_size(UDP_RECV_BUFFER_BYTES).ok();
    }
}

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
/// [`StartFailure::Resolve`] or [`StartFailure::NoAddress`] when the name does not resolve.
pub(super) async fn resolve(spec: &SessionSpec) -> Result<SocketAddr, StartFailure> {
    let mut addrs = tokio::net::lookup_host((spec.host.as_str(), spec.port))
        .await
        .map_err(|e| StartFailure::Resolve {
            host: spec.host.clone(),
            cause: OsError::of(&e),
        })?;
    addrs.next().ok_or_else(|| StartFailure::NoAddress {
        host: spec.host.clone(),
    })
}

/// A socket bound to `addr` that no other program can share (see [`claim_address`]; SO_BROADCAST
/// for UDP), non-blocking, ready for tokio.
///
/// # Errors
/// [`StartFailure::Bind`] with the OS's cause ([`OsError::of_bind`]).
pub(super) fn bind_socket(addr: SocketAddr, kind: Type) -> Result<Socket, StartFailure> {
    let protocol = if kind == Type::STREAM {
        Protocol::TCP
    } else {
        Protocol::UDP
    };
    let bind_failed = |e: io::Error| StartFailure::Bind {
        addr,
        cause: OsError::of_bind(&e),
    };
    let socket =
        Socket::new(Domain::for_address(addr), kind, Some(protocol)).map_err(bind_failed)?;
    claim_address(&socket, kind).map_err(bind_failed)?;
    socket.set_nonblocking(true).map_err(bind_failed)?;
    if kind == Type::DGRAM {
        enlarge_recv_buffer(&socket);
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

/// Sets what makes a second bind of the same port fail, so "port in use" is never missed,
/// while a stopped server can start again at once.
///
/// Unix: SO_REUSEADDR on TCP only. It lets a listener bind while connections of an earlier
/// one linger in TIME_WAIT (stop and start on the same port works at once), yet a port
/// another socket listens on is still refused. On UDP it would let a second socket bind the
/// same port and silently take its datagrams, and UDP has no TIME_WAIT: not set.
///
/// Windows: SO_EXCLUSIVEADDRUSE, never SO_REUSEADDR. There SO_REUSEADDR lets a socket bind a
/// port another program is using (both then share, or steal, its traffic), so a port in use
/// would go unnoticed; and TIME_WAIT connections do not block a new listener anyway.
/// Exclusive use makes every later bind of the port fail, ours and other programs' alike.
fn claim_address(socket: &Socket, kind: Type) -> io::Result<()> {
    #[cfg(windows)]
    {
        use std::os::windows::io::AsRawSocket;
        use windows_sys::Win32::Networking::WinSock::{
            SO_EXCLUSIVEADDRUSE, SOCKET, SOCKET_ERROR, SOL_SOCKET, WSAGetLastError, setsockopt,
        };
        let _ = kind; // the same for TCP and UDP
        let on: i32 = 1;
        // SAFETY: the socket is open for the call; `on` is a valid i32 option value, its
        // address and size passed together.
        let result = unsafe {
            setsockopt(
                socket.as_raw_socket() as SOCKET,
                SOL_SOCKET,
                SO_EXCLUSIVEADDRUSE,
                (&raw const on).cast(),
                std::mem::size_of::<i32>() as i32,
            )
        };
        if result == SOCKET_ERROR {
            // SAFETY: no preconditions; reads this thread's last Winsock error.
            return Err(io::Error::from_raw_os_error(unsafe { WSAGetLastError() }));
        }
        Ok(())
    }
    #[cfg(not(windows))]
    {
        if kind == Type::STREAM {
            socket.set_reuse_address(true)?;
        }
        Ok(())
    }
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

/// A time limit in whole milliseconds, as messages carry it.
pub(super) fn millis(limit: Duration) -> u64 {
    u64::try_from(limit.as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handshake_limits_come_from_the_spec() {
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
