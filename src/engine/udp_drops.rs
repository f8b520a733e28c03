//! What the kernel says about a UDP socket it could not keep up with: the receive buffer size
//! it actually granted, and the datagrams it dropped because that buffer was full (Linux: the
//! socket's own drop counter, `SO_MEMINFO`'s `SK_MEMINFO_DROPS`, the figure `/proc/net/udp`
//! shows in its `drops` column). Where the OS does not tell, nothing is reported.

use std::time::Duration;

use tokio::net::UdpSocket;

use super::net::{UDP_RECV_BUFFER_BYTES, UDP_RECV_BUFFER_WANTED_BYTES};
use super::session::SessionContext;
use crate::protocol::Warning;

/// How often the drop counter is read.
pub(super) const DROP_POLL_INTERVAL: Duration = Duration::from_secs(1);

/// Follows one socket's kernel drop counter and reports increases as warnings.
pub(super) struct DropMonitor {
    reported: u64,
}

impl DropMonitor {
    /// Starts following `socket`; warns at once if the kernel granted a smaller receive
    /// buffer than asked for.
    pub(super) fn new(context: &SessionContext, socket: &UdpSocket) -> Self {
        let reported = socket2::SockRef::from(socket)
            .recv_buffer_size()
            .unwrap_or(0);
        if let Some(warning) = capped_warning(reported) {
            context.sink.warning(context.id, warning);
        }
        let reported = kernel_drops(socket).unwrap_or(0);
        Self { reported }
    }

    /// Reads `socket`'s counter and warns about datagrams dropped since the last check.
    pub(super) fn check(&mut self, context: &SessionContext, socket: &UdpSocket) {
        let Some(total) = kernel_drops(socket) else {
            return;
        };
        if total > self.reported {
            let warning = Warning::KernelDrops {
                dropped: total - self.reported,
                total,
            };
            context.sink.warning(context.id, warning);
            self.reported = total;
        }
    }
}

/// The warning for a receive buffer the OS reports as `reported` bytes, if it is smaller
/// than [`UDP_RECV_BUFFER_BYTES`]. Linux reports twice what it set (the doubled figure covers
/// its bookkeeping) and sets at most `net.core.rmem_max`, so the warning gives half the
/// reported figure: the one to compare with `rmem_max` and with what was asked (stock
/// Debian: 208 KiB of 16,384 KiB asked; `rmem_max` 16 MiB grants all of it).
fn capped_warning(reported: usize) -> Option<Warning> {
    if reported == 0 || reported >= UDP_RECV_BUFFER_BYTES {
        return None;
    }
    let granted = if cfg!(target_os = "linux") {
        reported / 2
    } else {
        reported
    };
    Some(Warning::ReceiveBufferCapped {
        granted_kib: granted / 1024,
        asked_kib: UDP_RECV_BUFFER_WANTED_BYTES / 1024,
        rmem_max: UDP_RECV_BUFFER_WANTED_BYTES,
    })
}

/// The datagrams the kernel dropped for `socket` since it was opened. Asked of the socket
/// itself: looking it up by inode in `/proc/net/udp` missed it when sockets came and went
/// between the reads of that table (the kernel resumes each read by position).
#[cfg(target_os = "linux")]
fn kernel_drops(socket: &UdpSocket) -> Option<u64> {
    use std::os::fd::AsRawFd;
    const DROPS: usize = libc::SK_MEMINFO_DROPS as usize;
    // The counters up to the drops (the kernel fills as many as asked, at most all it has).
    let mut info = [0u32; DROPS + 1];
    let mut len = std::mem::size_of_val(&info) as libc::socklen_t;
    // SAFETY: the socket is open for the call; `info` is writable for `len` bytes, its
    // address and size passed together, and the kernel writes at most `len` bytes.
    let result = unsafe {
        libc::getsockopt(
            socket.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_MEMINFO,
            info.as_mut_ptr().cast(),
            &raw mut len,
        )
    };
    let filled = len as usize / std::mem::size_of::<u32>();
    if result != 0 || filled <= DROPS {
        return None;
    }
    info.get(DROPS).map(|&n| u64::from(n))
}

#[cfg(not(target_os = "linux"))]
fn kernel_drops(_socket: &UdpSocket) -> Option<u64> {
    None
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    /// A socket given a 64 KiB receive buffer (Linux sets that, reports 128 KiB): the warning
    /// says 64 KiB of the 16,384 asked for, and the `rmem_max` that grants them all; a
    /// buffer as large as needed gives none.
    #[test]
    fn a_capped_buffer_is_told_in_the_figures_rmem_max_uses() {
        let socket = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind");
        let socket = socket2::SockRef::from(&socket);
        socket.set_recv_buffer_size(64 * 1024).expect("set");
        let reported = socket.recv_buffer_size().expect("read");
        assert_eq!(reported, 128 * 1024, "Linux reports twice what it set");
        assert_eq!(
            capped_warning(reported),
            Some(Warning::ReceiveBufferCapped {
                granted_kib: 64,
                asked_kib: 16 * 1024,
                rmem_max: 16 * 1024 * 1024,
            })
        );
        assert_eq!(capped_warning(UDP_RECV_BUFFER_BYTES), None);
        assert_eq!(capped_warning(0), None, "the OS did not say");
    }

    /// A socket with the smallest receive buffer, sent more than it holds by a sender that
    /// nobody reads for: its counter starts at 0 and grows by exactly what was sent and not
    /// received.
    #[test]
    fn reads_the_counter_of_a_real_socket() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        runtime.block_on(async {
            let socket = UdpSocket::bind("127.0.0.1:0").await.expect("bind");
            socket2::SockRef::from(&socket)
                .set_recv_buffer_size(0)
                .expect("smallest buffer");
            assert_eq!(kernel_drops(&socket), Some(0));
            let to = socket.local_addr().expect("addr");
            let sender = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind sender");
            const SENT: u64 = 200;
            for _ in 0..SENT {
                sender.send_to(&[7; 1000], to).expect("send");
            }
            let mut received = 0u64;
            let mut buf = [0u8; 2048];
            // Every datagram queued is there now (loopback delivers within the send); the
            // first wait after the last one ends the count.
            let wait = Duration::from_millis(200);
            while let Ok(Ok(_)) = tokio::time::timeout(wait, socket.recv(&mut buf)).await {
                received += 1;
            }
            assert!(
                received < SENT,
                "a buffer that small holds fewer than {SENT}"
            );
            assert_eq!(kernel_drops(&socket), Some(SENT - received));
        });
    }
}
