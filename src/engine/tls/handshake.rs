//! What a TLS handshake came to, for the log: a finished one as a note (version, suite,
//! ALPN, the peer's certificate), a failed one as a typed [`TlsFault`] grouped by the usual
//! causes, with a hint where one helps.

use std::io;
use std::net::IpAddr;

use rustls::pki_types::ServerName;
use rustls::{AlertDescription, CertificateError, CommonState, SupportedCipherSuite};

use super::certificates::certificate_summary;
use crate::protocol::{CertProblem, Note, OsError, TlsAlert, TlsFault, TlsSession};

/// What a finished handshake agreed on.
fn session_of(state: &CommonState) -> TlsSession {
    TlsSession {
        version: state.protocol_version().map(protocol_name),
        suite: state.negotiated_cipher_suite().map(suite_name),
        alpn: state
            .alpn_protocol()
            .map(|alpn| String::from_utf8_lossy(alpn).into_owned()),
    }
}

/// The note about a finished handshake: protocol version, cipher suite, ALPN protocol if one
/// was agreed, and the peer's certificate (subject, issuer, expiry) if it sent one. Pass the
/// connection, e.g. `stream.get_ref().1`.
pub(in crate::engine) fn established(state: &CommonState) -> Note {
    Note::TlsEstablished {
        session: session_of(state),
        peer_certificate: state
            .peer_certificates()
            .and_then(<[_]>::first)
            .map(certificate_summary),
    }
}

/// The note about a client's finished handshake, as the server saw it: protocol version,
/// cipher suite, ALPN, and the host name the client asked for (SNI), if any.
pub(in crate::engine) fn client_established(connection: &rustls::ServerConnection) -> Note {
    Note::TlsClientEstablished {
        session: session_of(connection),
        server_name: connection.server_name().map(str::to_string),
        client_certificate: connection
            .peer_certificates()
            .and_then(<[_]>::first)
            .map(certificate_summary),
    }
}

/// Why a TLS handshake (or TLS read) failed, with a hint where one helps. `io` errors from
/// tokio-rustls carry the rustls error inside; others are socket errors.
pub(in crate::engine) fn fault(error: &io::Error) -> TlsFault {
    let Some(tls) = error
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>())
    else {
        return match error.kind() {
            io::ErrorKind::UnexpectedEof => TlsFault::ClosedDuringHandshake,
            _ => TlsFault::Io(OsError::of(error)),
        };
    };
    tls_fault(tls)
}

/// Why a rustls error happened, grouped by the usual causes.
fn tls_fault(error: &rustls::Error) -> TlsFault {
    use rustls::Error as E;
    match error {
        E::InvalidCertificate(cert) => TlsFault::Certificate(certificate_problem(cert)),
        E::InvalidMessage(_) | E::InappropriateMessage { .. } => TlsFault::NotTls {
            detail: error.to_string(),
        },
        E::AlertReceived(alert) => TlsFault::Alert(alert_of(*alert)),
        E::PeerIncompatible(_) => TlsFault::Incompatible {
            detail: error.to_string(),
        },
        E::NoCertificatesPresented => TlsFault::NoCertificate,
        other => TlsFault::Other {
            detail: other.to_string(),
        },
    }
}

fn certificate_problem(error: &CertificateError) -> CertProblem {
    use CertificateError as C;
    match error {
        C::UnknownIssuer => CertProblem::UnknownIssuer,
        C::BadSignature => CertProblem::BadSignature,
        C::NotValidForName => CertProblem::NotValidForName,
        C::NotValidForNameContext {
            expected,
            presented,
        } => CertProblem::NotValidForNames {
            expected: server_name_text(expected),
            presented: presented
                .iter()
                .map(|name| presented_name(name).to_string())
                .collect(),
        },
        C::Expired | C::ExpiredContext { .. } => CertProblem::Expired {
            detail: error.to_string(),
        },
        C::NotValidYet | C::NotValidYetContext { .. } => CertProblem::NotValidYet {
            detail: error.to_string(),
        },
        C::Revoked => CertProblem::Revoked,
        C::Other(other) if is_ca_used_as_end_entity(other) => CertProblem::CaUsedAsEndEntity,
        other => CertProblem::Other {
            detail: format!("{other:?}"),
        },
    }
}

/// Whether webpki refused the server's certificate for being a CA certificate (rustls has no
/// variant of its own for it and wraps webpki's error).
fn is_ca_used_as_end_entity(error: &rustls::OtherError) -> bool {
    matches!(
        error.0.downcast_ref::<webpki::Error>(),
        Some(webpki::Error::CaUsedAsEndEntity)
    )
}

/// `localhost` for rustls's `DnsName("localhost")`; other forms unchanged.
fn presented_name(name: &str) -> &str {
    name.split_once("(\"")
        .and_then(|(_, rest)| rest.strip_suffix("\")"))
        .unwrap_or(name)
}

fn alert_of(alert: AlertDescription) -> TlsAlert {
    use AlertDescription as A;
    let name = format!("{alert:?}");
    match alert {
        A::BadCertificate | A::UnknownCA | A::CertificateUnknown | A::UnsupportedCertificate => {
            TlsAlert::RejectedOurCertificate { alert: name }
        }
        A::ProtocolVersion | A::HandshakeFailure | A::InsufficientSecurity => {
            TlsAlert::NoCommonParameters { alert: name }
        }
        A::UnrecognisedName => TlsAlert::UnknownName { alert: name },
        A::CertificateRequired => TlsAlert::ClientCertificateRequired,
        _ => TlsAlert::Other { alert: name },
    }
}

fn server_name_text(name: &ServerName<'_>) -> String {
    match name {
        ServerName::DnsName(dns) => dns.as_ref().to_string(),
        ServerName::IpAddress(ip) => IpAddr::from(*ip).to_string(),
        other => format!("{other:?}"),
    }
}

/// `TLS 1.3` for `TLSv1_3`.
fn protocol_name(version: rustls::ProtocolVersion) -> String {
    use rustls::ProtocolVersion as V;
    match version {
        V::TLSv1_3 => "TLS 1.3".to_string(),
        V::TLSv1_2 => "TLS 1.2".to_string(),
        other => format!("{other:?}"),
    }
}

fn suite_name(suite: SupportedCipherSuite) -> String {
    format!("{:?}", suite.suite())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn certificate_errors_say_what_to_do() {
        let untrusted = tls_fault(&rustls::Error::InvalidCertificate(
            CertificateError::UnknownIssuer,
        ))
        .to_string();
        assert!(untrusted.contains("not trusted"), "{untrusted}");
        assert!(untrusted.contains("ca=FILE"), "{untrusted}");
        assert!(untrusted.contains("insecure"), "{untrusted}");
        let expired = tls_fault(&rustls::Error::InvalidCertificate(
            CertificateError::Expired,
        ))
        .to_string();
        assert!(expired.contains("expired"), "{expired}");
        let alert =
            tls_fault(&rustls::Error::AlertReceived(AlertDescription::UnknownCA)).to_string();
        assert!(alert.contains("rejected our certificate"), "{alert}");
    }
}
