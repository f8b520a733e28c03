//! What the kernel says about a UDP socket it could not keep up with: the receive buffer size
//! it actually granted, and the datagrams it dropped because that buffer was full (Linux:
//! the `drops` column of `/proc/net/udp{,6}`, found by the socket's inode). Where the OS does
//! not tell, nothing is reported.

use std::time::Duration;

use tokio::net::UdpSocket;

use super::net::UDP_RECV_BUFFER_BYTES;
use super::session::SessionContext;
use crate::protocol::Warning;

/// How often the drop counter is read.
pub(super) const DROP_POLL_INTERVAL: Duration = Duration::from_secs(1);

/// Follows one socket's kernel drop counter and reports increases as warnings.
pub(super) struct DropMonitor {
    inode: Option<u64>,
    reported: u64,
}

impl DropMonitor {
    /// Starts following `socket`; warns at once if the kernel granted a smaller receive
    /// buffer than asked for.
    pub(super) fn new(context: &SessionContext, socket: &UdpSocket) -> Self {
        let granted = socket2::SockRef::from(socket)
            .recv_buffer_size()
            .unwrap_or(0);
        if granted > 0 && granted < UDP_RECV_BUFFER_BYTES {
            let warning = Warning::ReceiveBufferCapped {
                granted_kib: granted / 1024,
                asked_kib: UDP_RECV_BUFFER_BYTES / 1024,
                rmem_max: UDP_RECV_BUFFER_BYTES * 2,
            };
            context.sink.warning(context.id, warning);
        }
        let inode = socket_inode(socket);
        let reported = inode.and_then(kernel_drops).unwrap_or(0);
        Self { inode, reported }
    }

    /// Reads the counter and warns about datagrams dropped since the last check.
    pub(super) fn check(&mut self, context: &SessionContext) {
        let Some(total) = self.inode.and_then(kernel_drops) else {
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

#[cfg(target_os = "linux")]
fn socket_inode(socket: &UdpSocket) -> Option<u64> {
    use std::os::fd::AsRawFd;
    use std::os::unix::fs::MetadataExt;
    let path = format!("/proc/self/fd/{}", socket.as_raw_fd());
    std::fs::metadata(path).ok().map(|m| m.ino())
}

#[cfg(not(target_os = "linux"))]
fn socket_inode(_socket: &UdpSocket) -> Option<u64> {
    None
}

/// The kernel's drop count for the UDP socket with this inode.
fn kernel_drops(inode: u64) -> Option<u64> {
    ["/proc/net/udp", "/proc/net/udp6"]
        .into_iter()
        .filter_map(|path| std::fs::read_to_string(path).ok())
        .find_map(|table| drops_in_table(&table, inode))
}

/// Finds `inode` in a `/proc/net/udp` table and returns its `drops` column (the last one).
fn drops_in_table(table: &str, inode: u64) -> Option<u64> {
    table.lines().skip(1).find_map(|line| {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let line_inode: u64 = fields.get(9)?.parse().ok()?;
        if line_inode != inode {
            return None;
        }
        fields.last()?.parse().ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const TABLE: &str = "   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops
  437: 00000000:1B59 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 123456 2 0000000000000000 17
  438: 0100007F:1B5A 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 654321 2 0000000000000000 0
";

    #[test]
    fn finds_drops_by_inode() {
        assert_eq!(drops_in_table(TABLE, 123456), Some(17));
        assert_eq!(drops_in_table(TABLE, 654321), Some(0));
        assert_eq!(drops_in_table(TABLE, 1), None);
        assert_eq!(drops_in_table("", 1), None);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn reads_the_counter_of_a_real_socket() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        runtime.block_on(async {
            let socket = UdpSocket::bind("127.0.0.1:0").await.expect("bind");
            let inode = socket_inode(&socket).expect("inode");
            assert_eq!(kernel_drops(inode), Some(0));
        });
    }
}
