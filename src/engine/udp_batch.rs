//! Taking the datagrams queued on a UDP socket many at a time: one `recvmmsg` call (through
//! `nix`) takes up to [`DATAGRAMS_PER_CALL`] on Linux and Android; elsewhere (Windows, macOS
//! have no batch receive) one `recv_from` per datagram, as many as are queued up to the same
//! count. Either way each datagram keeps its exact bytes (a buffer of
//! [`DATAGRAM_BUFFER_BYTES`] takes the largest, 65,527 bytes over IPv6) and its source, and
//! a batch is copied out into one allocation shared by its datagrams (one allocation per
//! batch, not per datagram).

use std::cell::RefCell;
use std::io;
use std::net::SocketAddr;

use bytes::{Bytes, BytesMut};
use tokio::net::UdpSocket;

/// Most datagrams taken from a socket in one call: what a `recvmmsg` receiver written in C
/// takes at once, too.
pub(super) const DATAGRAMS_PER_CALL: usize = 64;

/// Room for one datagram: more than the largest UDP payload (65,507 bytes over IPv4, 65,527
/// over IPv6), so none is ever truncated.
pub(super) const DATAGRAM_BUFFER_BYTES: usize = 64 * 1024;

/// One datagram as it arrived.
#[derive(Debug)]
pub(super) struct Datagram {
    /// Its bytes, exactly.
    pub(super) data: Bytes,
    /// Who sent it.
    pub(super) from: SocketAddr,
}

thread_local! {
    /// One buffer per datagram of a call, per IO thread (so an idle session holds none);
    /// allocated zeroed at first use, so the OS maps only the pages datagrams reach.
    static BUFFERS: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// Takes what is queued on `socket`, at most [`DATAGRAMS_PER_CALL`] datagrams, into `out`
/// (cleared first).
///
/// # Errors
/// `WouldBlock` when nothing is queued (tokio then waits for the socket to be readable
/// again); the OS's error otherwise (e.g. `ConnectionRefused` after an ICMP port unreachable
/// on a connected socket). Datagrams taken before an error are in `out`, and the error comes
/// with the next call.
pub(super) fn receive_batch(socket: &UdpSocket, out: &mut Vec<Datagram>) -> io::Result<()> {
    out.clear();
    BUFFERS.with_borrow_mut(|buffers| {
        if buffers.is_empty() {
            *buffers = vec![0; DATAGRAMS_PER_CALL * DATAGRAM_BUFFER_BYTES];
        }
        let mut sizes = [(0usize, None::<SocketAddr>); DATAGRAMS_PER_CALL];
        let taken = receive_into(socket, buffers, &mut sizes)?;
        let total = sizes[..taken].iter().map(|(len, _)| len).sum();
        let mut all = BytesMut::with_capacity(total);
        for (index, (len, _)) in sizes[..taken].iter().enumerate() {
            let start = index * DATAGRAM_BUFFER_BYTES;
            all.extend_from_slice(&buffers[start..start + len]);
        }
        let mut all = all.freeze();
        for (len, from) in &sizes[..taken] {
            let data = all.split_to(*len);
            // The OS always gives a UDP datagram's source; its bytes are kept even without.
            let from = from.unwrap_or_else(|| SocketAddr::from(([0, 0, 0, 0], 0)));
            out.push(Datagram { data, from });
        }
        Ok(())
    })
}

/// One `recvmmsg`: the datagrams' sizes and sources into `sizes`, their bytes into
/// `buffers` (one [`DATAGRAM_BUFFER_BYTES`] slot each); returns how many.
#[cfg(any(target_os = "linux", target_os = "android"))]
fn receive_into(
    socket: &UdpSocket,
    buffers: &mut [u8],
    sizes: &mut [(usize, Option<SocketAddr>); DATAGRAMS_PER_CALL],
) -> io::Result<usize> {
    use std::io::IoSliceMut;
    use std::os::fd::AsRawFd;

    use nix::sys::socket::{MsgFlags, MultiHeaders, SockaddrStorage, recvmmsg};

    // Made for each call: the kernel writes each address's length back into its header,
    // and a header kept for the next socket (IPv6 after IPv4) would cut its address short.
    let mut headers = MultiHeaders::<SockaddrStorage>::preallocate(DATAGRAMS_PER_CALL, None);
    let mut slices: Vec<[IoSliceMut<'_>; 1]> = buffers
        .chunks_exact_mut(DATAGRAM_BUFFER_BYTES)
        .map(|buffer| [IoSliceMut::new(buffer)])
        .collect();
    // try_io: a `WouldBlock` tells tokio the socket's readiness is used up.
    socket.try_io(tokio::io::Interest::READABLE, || {
        let results = recvmmsg(
            socket.as_raw_fd(),
            &mut headers,
            slices.iter_mut(),
            MsgFlags::MSG_DONTWAIT,
            None,
        )
        .map_err(io::Error::from)?;
        let mut taken = 0;
        for (message, size) in results.zip(sizes.iter_mut()) {
            let from = message.address.and_then(|address| {
                match (address.as_sockaddr_in(), address.as_sockaddr_in6()) {
                    (Some(v4), _) => Some(SocketAddr::from(*v4)),
                    (None, Some(v6)) => Some(SocketAddr::from(*v6)),
                    (None, None) => None,
                }
            });
            *size = (message.bytes, from);
            taken += 1;
        }
        Ok(taken)
    })
}

/// Without a batch receive: one `recv_from` per datagram while datagrams are queued.
#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn receive_into(
    socket: &UdpSocket,
    buffers: &mut [u8],
    sizes: &mut [(usize, Option<SocketAddr>); DATAGRAMS_PER_CALL],
) -> io::Result<usize> {
    let mut taken = 0;
    for (buffer, size) in buffers
        .chunks_exact_mut(DATAGRAM_BUFFER_BYTES)
        .zip(sizes.iter_mut())
    {
        match socket.try_recv_from(buffer) {
            Ok((len, from)) => {
                *size = (len, Some(from));
                taken += 1;
            }
            // What was taken is handed on; the error comes again with the next call.
            Err(_) if taken > 0 => break,
            Err(e) => return Err(e),
        }
    }
    Ok(taken)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Datagrams queued before the call are taken many at a time (up to the batch), each
    /// whole and alone with its source, in order: 0 bytes and the largest IPv4 payload among
    /// them. On loopback they are usually all queued when `send_to` returns and one call
    /// takes all nine; but a loaded machine may leave some to the kernel's softirq thread,
    /// so the first readiness can come with only part of them queued: calls are repeated
    /// (a readiness wait each) until all nine came, within a deadline.
    #[test]
    fn batches_take_every_queued_datagram_exactly() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        runtime.block_on(async {
            let addr: SocketAddr = ([127, 0, 0, 1], 0).into();
            let socket = super::super::net::bind_socket(addr, socket2::Type::DGRAM)
                .map(|s| UdpSocket::from_std(s.into()))
                .expect("bind")
                .expect("tokio socket");
            let to = socket.local_addr().expect("addr");
            let sources = [
                std::net::UdpSocket::bind("127.0.0.1:0").expect("source"),
                std::net::UdpSocket::bind("127.0.0.1:0").expect("source"),
            ];
            let sizes = [0, 65_507, 1, 1500, 0, 7, 4096, 65_507, 3];
            let payload = |n: usize| -> Vec<u8> { (0..sizes[n]).map(|i| (i + n) as u8).collect() };
            for n in 0..sizes.len() {
                sources[n % 2].send_to(&payload(n), to).expect("send");
            }
            let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(20);
            let mut batch = Vec::new();
            let mut got: Vec<(Vec<u8>, SocketAddr)> = Vec::new();
            let mut calls = 0;
            while got.len() < sizes.len() {
                tokio::time::timeout_at(deadline, socket.readable())
                    .await
                    .unwrap_or_else(|_| panic!("{} of {} datagrams came", got.len(), sizes.len()))
                    .expect("readable");
                match receive_batch(&socket, &mut batch) {
                    Ok(()) => got.extend(batch.iter().map(|d| (d.data.to_vec(), d.from))),
                    // Readiness without a datagram: tokio waits for the next.
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                    Err(e) => panic!("receive: {e}"),
                }
                calls += 1;
            }
            println!("{} datagrams in {calls} calls", got.len());
            let expected: Vec<(Vec<u8>, SocketAddr)> = (0..sizes.len())
                .map(|n| (payload(n), sources[n % 2].local_addr().expect("addr")))
                .collect();
            assert!(got == expected, "datagrams differ");
            // Nothing left: the next call says so, and tokio waits for readiness again.
            let empty = receive_batch(&socket, &mut batch);
            assert!(matches!(empty, Err(ref e) if e.kind() == io::ErrorKind::WouldBlock));
            assert!(batch.is_empty());
        });
    }
}
