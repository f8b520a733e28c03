//! Typed causes inside the engine's messages: what the OS said about a socket or file
//! ([`OsError`]), why a TLS handshake or read failed ([`TlsFault`]), what a WebSocket error or
//! close frame said ([`WsFault`], [`WsClose`]), what a certificate is ([`CertSummary`]), and
//! why a serial port could not be opened ([`SerialFault`]).
//! Each holds values (names, numbers, the OS's or a library's own words), never a sentence
//! of ours: the words are the i18n table's (`crate::i18n::messages`).

use std::io;

use serde::{Deserialize, Serialize};

/// `EAFNOSUPPORT` on Linux: the address family (IPv6, typically) is switched off.
const ADDRESS_FAMILY_UNSUPPORTED: i32 = 97;

/// Winsock's `WSAEACCES`: access denied. From a bind, the port is another program's
/// exclusively, or reserved by Windows (there are no privileged ports).
const WSA_ACCESS_DENIED: i32 = 10013;

/// What the OS said when a socket or file operation failed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum OsError {
    /// Another program or session has this port.
    AddrInUse,
    /// Windows refused a bind with `WSAEACCES`: another program holds the port exclusively,
    /// or Windows reserves it (an excluded port range, e.g. for Hyper-V).
    AddrInUseOrReserved,
    /// The address is not one of this host's.
    AddrNotAvailable,
    /// Not allowed (ports below 1024 need privileges).
    PermissionDenied,
    /// Nothing is listening there.
    ConnectionRefused,
    /// The peer reset the connection.
    ConnectionReset,
    /// The connection was aborted.
    ConnectionAborted,
    /// The peer closed the connection while we wrote.
    BrokenPipe,
    /// Timed out.
    TimedOut,
    /// No route to the host.
    HostUnreachable,
    /// No route to the network.
    NetworkUnreachable,
    /// The address family (IPv6, typically) is switched off on this host.
    FamilyUnsupported,
    /// No space is left on the disk (or the file system's quota is used up).
    DiskFull,
    /// Anything else, in the OS's own words (e.g. `No such file or directory (os error 2)`).
    Other {
        /// The OS's text, as it gives it.
        os_text: String,
    },
}

impl OsError {
    /// The cause of `error`.
    pub fn of(error: &io::Error) -> Self {
        use io::ErrorKind as K;
        if cfg!(target_os = "linux") && error.raw_os_error() == Some(ADDRESS_FAMILY_UNSUPPORTED) {
            return Self::FamilyUnsupported;
        }
        if cfg!(windows)
            && let Some(cause) = error.raw_os_error().and_then(Self::of_winsock)
        {
            return cause;
        }
        match error.kind() {
            K::AddrInUse => Self::AddrInUse,
            K::AddrNotAvailable => Self::AddrNotAvailable,
            K::PermissionDenied => Self::PermissionDenied,
            K::ConnectionRefused => Self::ConnectionRefused,
            K::ConnectionReset => Self::ConnectionReset,
            K::ConnectionAborted => Self::ConnectionAborted,
            K::BrokenPipe => Self::BrokenPipe,
            K::TimedOut => Self::TimedOut,
            K::HostUnreachable => Self::HostUnreachable,
            K::NetworkUnreachable => Self::NetworkUnreachable,
            K::StorageFull | K::QuotaExceeded => Self::DiskFull,
            _ => Self::Other {
                os_text: error.to_string(),
            },
        }
    }
}

impl OsError {
    /// The cause of a failed bind: as [`OsError::of`], except that on Windows an access
    /// denied says the port is in use or reserved ([`OsError::AddrInUseOrReserved`]), which
    /// is what it means there, not missing privileges.
    pub fn of_bind(error: &io::Error) -> Self {
        if cfg!(windows) && error.raw_os_error() == Some(WSA_ACCESS_DENIED) {
            return Self::AddrInUseOrReserved;
        }
        Self::of(error)
    }

    /// The cause a Winsock error code stands for, named as on Linux (`WSAEADDRINUSE` is
    /// [`OsError::AddrInUse`] like `EADDRINUSE`); `None` for codes that are not Winsock's
    /// socket errors. std maps most of these too; naming them here keeps the causes the same
    /// whatever std's mapping does.
    pub fn of_winsock(code: i32) -> Option<Self> {
        Some(match code {
            10013 => Self::PermissionDenied,   // WSAEACCES
            10047 => Self::FamilyUnsupported,  // WSAEAFNOSUPPORT
            10048 => Self::AddrInUse,          // WSAEADDRINUSE
            10049 => Self::AddrNotAvailable,   // WSAEADDRNOTAVAIL
            10051 => Self::NetworkUnreachable, // WSAENETUNREACH
            10053 => Self::ConnectionAborted,  // WSAECONNABORTED
            10054 => Self::ConnectionReset,    // WSAECONNRESET
            10060 => Self::TimedOut,           // WSAETIMEDOUT
            10061 => Self::ConnectionRefused,  // WSAECONNREFUSED
            10065 => Self::HostUnreachable,    // WSAEHOSTUNREACH
            _ => return None,
        })
    }
}

impl From<&io::Error> for OsError {
    fn from(error: &io::Error) -> Self {
        Self::of(error)
    }
}

impl From<io::Error> for OsError {
    fn from(error: io::Error) -> Self {
        Self::of(&error)
    }
}

/// Why a serial port could not be opened.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SerialFault {
    /// No device has that path (not plugged in, or a mistyped name).
    NotFound,
    /// Another program (or session) has the port open.
    Busy,
    /// The user may not open it (on Linux: not in the `dialout` group).
    PermissionDenied,
    /// The port refused the line settings; the serial library's words.
    Settings {
        /// What it said.
        detail: String,
    },
    /// The system gives no handle to the port's control lines (DTR, RTS, break).
    NoControlLines,
    /// The port has no modem lines to set (it reports none either: a pseudo-terminal).
    NoModemLines,
    /// Anything else; the serial library's or the OS's words.
    Other {
        /// What it said.
        detail: String,
    },
}

/// Why a TLS handshake (or a TLS read) failed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum TlsFault {
    /// The peer closed the connection during the handshake (it may not speak TLS, or it
    /// rejected our certificate or settings).
    ClosedDuringHandshake,
    /// A socket error.
    Io(OsError),
    /// The peer's certificate was refused.
    Certificate(CertProblem),
    /// The peer does not speak TLS or sent a malformed message.
    NotTls {
        /// rustls's own words.
        detail: String,
    },
    /// The peer sent an alert.
    Alert(TlsAlert),
    /// No common TLS version or cipher suite.
    Incompatible {
        /// rustls's own words.
        detail: String,
    },
    /// The peer presented no certificate.
    NoCertificate,
    /// Another rustls error, in its own words.
    Other {
        /// rustls's own words.
        detail: String,
    },
}

/// Why a certificate was refused.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum CertProblem {
    /// No trusted CA signed it.
    UnknownIssuer,
    /// Its signature is not valid.
    BadSignature,
    /// It is not valid for the host name.
    NotValidForName,
    /// It is not valid for `expected`; it lists `presented`.
    NotValidForNames {
        /// The name we connected by.
        expected: String,
        /// The names it lists.
        presented: Vec<String>,
    },
    /// It has expired.
    Expired {
        /// rustls's own words (with the dates).
        detail: String,
    },
    /// It is not valid yet.
    NotValidYet {
        /// rustls's own words (with the dates).
        detail: String,
    },
    /// It has been revoked.
    Revoked,
    /// The server's certificate is a CA certificate (CA:TRUE).
    CaUsedAsEndEntity,
    /// Another reason, as rustls names it.
    Other {
        /// rustls's name for it.
        detail: String,
    },
}

/// A TLS alert the peer sent, grouped by what it means for the user; `alert` is its name
/// (`UnknownCA`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum TlsAlert {
    /// The peer rejected our certificate.
    RejectedOurCertificate {
        /// The alert's name.
        alert: String,
    },
    /// No TLS version or cipher suite in common.
    NoCommonParameters {
        /// The alert's name.
        alert: String,
    },
    /// The peer does not know the host name we asked for.
    UnknownName {
        /// The alert's name.
        alert: String,
    },
    /// The peer requires a client certificate.
    ClientCertificateRequired,
    /// Any other alert.
    Other {
        /// The alert's name.
        alert: String,
    },
}

/// Why a TLS server dropped a client during its handshake.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum TlsRejection {
    /// The handshake failed.
    Tls(TlsFault),
    /// The client closed the connection before sending anything.
    ClosedBeforeSending,
    /// The client does not speak TLS: its first bytes, escaped.
    NotTls {
        /// What it sent, escaped (`GET / HTTP/1.1\r\n`).
        sent: String,
        /// Whether it sent more than is shown.
        more: bool,
    },
    /// No handshake within the time limit.
    TimedOut {
        /// The limit.
        ms: u64,
    },
}

/// Subject, issuer and expiry of a certificate.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum CertSummary {
    /// Not a parsable X.509 certificate.
    Unparsable,
    /// What it says.
    Parsed {
        /// The subject's distinguished name (empty when it has none).
        subject: String,
        /// The issuer's distinguished name; `None` when self-signed.
        issuer: Option<String>,
        /// Its end of validity, e.g. `2027-11-30 12:00 UTC`.
        valid_until: String,
        /// Whether that time had passed when it was read.
        expired: bool,
    },
}

/// What a finished TLS handshake agreed on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TlsSession {
    /// `TLS 1.3`; `None` when unknown.
    pub version: Option<String>,
    /// The cipher suite's name.
    pub suite: Option<String>,
    /// The ALPN protocol, if one was agreed.
    pub alpn: Option<String>,
}

/// A WebSocket error.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum WsFault {
    /// A socket error.
    Io(OsError),
    /// The connection was closed.
    ConnectionClosed,
    /// The connection closed without a close frame.
    ClosedWithoutCloseFrame,
    /// A message over the size limit (answered with a close 1009).
    MessageTooBig {
        /// At least this many bytes.
        size: usize,
        /// The limit.
        max_size: usize,
    },
    /// A WebSocket protocol error, in tungstenite's words.
    Protocol {
        /// tungstenite's words.
        detail: String,
    },
    /// Another error, in tungstenite's words.
    Other {
        /// tungstenite's words.
        detail: String,
    },
}

/// What a WebSocket close frame said.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WsClose {
    /// The status code; `None` for a close without one.
    pub code: Option<u16>,
    /// The reason the peer gave (may be empty).
    pub reason: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn socket_errors_have_their_own_cause() {
        use io::ErrorKind as K;
        let table = [
            (io::Error::from(K::AddrInUse), OsError::AddrInUse),
            (
                io::Error::from(K::ConnectionRefused),
                OsError::ConnectionRefused,
            ),
            (
                io::Error::from(K::ConnectionReset),
                OsError::ConnectionReset,
            ),
            (io::Error::from(K::TimedOut), OsError::TimedOut),
        ];
        for (error, expected) in table {
            assert_eq!(OsError::of(&error), expected);
        }
        if cfg!(target_os = "linux") {
            assert_eq!(
                OsError::of(&io::Error::from_raw_os_error(97)),
                OsError::FamilyUnsupported
            );
        }
        let other = OsError::of(&io::Error::from_raw_os_error(2));
        assert!(matches!(other, OsError::Other { os_text } if os_text.contains("os error 2")));
    }

    /// The Winsock errors a user meets have the causes their Linux twins have; on Windows
    /// (CI runs this under Wine) through [`OsError::of`] itself.
    #[test]
    fn winsock_errors_have_the_linux_causes() {
        let table = [
            (10048, OsError::AddrInUse),
            (10013, OsError::PermissionDenied),
            (10061, OsError::ConnectionRefused),
            (10054, OsError::ConnectionReset),
            (10060, OsError::TimedOut),
            (10065, OsError::HostUnreachable),
            (10051, OsError::NetworkUnreachable),
            (10049, OsError::AddrNotAvailable),
            (10053, OsError::ConnectionAborted),
            (10047, OsError::FamilyUnsupported),
        ];
        for (code, expected) in table {
            assert_eq!(OsError::of_winsock(code), Some(expected.clone()), "{code}");
            if cfg!(windows) {
                let error = io::Error::from_raw_os_error(code);
                assert_eq!(OsError::of(&error), expected, "{code}");
            }
        }
        assert_eq!(OsError::of_winsock(2), None);
        // A bind's WSAEACCES is the port being taken (or reserved), on Windows only.
        let denied = if cfg!(windows) {
            io::Error::from_raw_os_error(10013)
        } else {
            io::Error::from(io::ErrorKind::PermissionDenied)
        };
        let expected = if cfg!(windows) {
            OsError::AddrInUseOrReserved
        } else {
            OsError::PermissionDenied
        };
        assert_eq!(OsError::of_bind(&denied), expected);
    }
}
