//! TLS for the sessions that need it (TLS server and client, WebSocket over TLS): building a
//! server's acceptor (a given PEM certificate and key, or a generated self-signed one) and a
//! client's connector (system roots, a given CA, or no verification at all), and turning a
//! finished handshake or a failed one into a typed note or fault for the log.
//!
//! Everything here uses the ring provider explicitly, so no process-wide default provider has
//! to be installed.

use std::io;
use std::net::{IpAddr, Ipv6Addr};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{SystemTime, UNIX_EPOCH};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{
    AlertDescription, CertificateError, ClientConfig, CommonState, DigitallySignedStruct,
    RootCertStore, ServerConfig, SignatureScheme, SupportedCipherSuite,
};
use tokio_rustls::{TlsAcceptor, TlsConnector};

use crate::protocol::{
    CertProblem, CertSummary, Note, OsError, PemProblem, PemWrite, TlsAlert, TlsFault, TlsSession,
    TlsSetupError,
};
use crate::spec::SessionSpec;

/// The crypto provider every config here uses.
fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// A TLS acceptor for a server session, and the note for the log saying which certificate it
/// presents. With `cert=FILE` (and `key=FILE`, or a key in the same file) the PEM chain and key
/// are loaded; without, a self-signed certificate is generated for `localhost`, `127.0.0.1`,
/// `::1` and this machine's host name, and its PEM is written owner-only into `files_dir`
/// (named by `spec.port`, so pass the bound port; see [`crate::private_files`]) where a
/// client can use it as `ca=FILE`.
///
/// # Errors
/// Why, when a file cannot be read, holds no certificate or key, or the key does not belong
/// to the certificate.
pub(super) fn acceptor(
    spec: &SessionSpec,
    files_dir: Option<&Path>,
) -> Result<(TlsAcceptor, Note), TlsSetupError> {
    let (chain, key, note) = match (&spec.options.cert, &spec.options.key) {
        (Some(cert), key) => {
            let key_path = key.as_deref().unwrap_or(cert);
            let chain = load_chain(cert)?;
            let key = load_key(key_path)?;
            let note = Note::TlsCertificateLoaded {
                path: cert.display().to_string(),
                certificate: certificate_summary(&chain[0]),
            };
            (chain, key, note)
        }
        (None, Some(_)) => return Err(TlsSetupError::KeyWithoutCert),
        (None, None) => generate_self_signed(spec.port, files_dir)?,
    };
    let config = ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsSetupError::Setup {
            detail: e.to_string(),
        })?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|e| match e {
            rustls::Error::InconsistentKeys(_) => TlsSetupError::KeyMismatch,
            other => TlsSetupError::CertKeyUnusable {
                detail: other.to_string(),
            },
        })?;
    Ok((TlsAcceptor::from(Arc::new(config)), note))
}

/// A TLS connector for a client session and the name it checks the server's certificate
/// against (and sends as SNI): the spec's host, a DNS name or an IP address. It trusts the
/// system's roots, or only `ca=FILE` (a chain up to a certificate in it, or a certificate in
/// it itself, see [`TrustCaFile`]), or (with `insecure`, which wins over `ca=`) any
/// certificate.
///
/// # Errors
/// Why, when the host is not a valid server name, the CA file cannot be read, or no trusted
/// root is available.
pub(super) fn connector(
    spec: &SessionSpec,
) -> Result<(TlsConnector, ServerName<'static>), TlsSetupError> {
    let host = spec.host.trim_start_matches('[').trim_end_matches(']');
    let name =
        ServerName::try_from(host.to_string()).map_err(|_| TlsSetupError::InvalidServerName {
            host: host.to_string(),
        })?;
    let builder = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsSetupError::Setup {
            detail: e.to_string(),
        })?;
    let config = if spec.options.insecure {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AcceptAnyCertificate(provider())))
            .with_no_client_auth()
    } else if let Some(ca) = &spec.options.ca {
        let (roots, pinned) = ca_roots(ca)?;
        let webpki = rustls::client::WebPkiServerVerifier::builder_with_provider(
            Arc::new(roots),
            provider(),
        )
        .build()
        .map_err(|e| TlsSetupError::CaUnusable {
            path: ca.display().to_string(),
            detail: e.to_string(),
        })?;
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(TrustCaFile { webpki, pinned }))
            .with_no_client_auth()
    } else {
        builder
            .with_root_certificates(system_roots()?)
            .with_no_client_auth()
    };
    Ok((TlsConnector::from(Arc::new(config)), name))
}

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
pub(super) fn established(state: &CommonState) -> Note {
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
pub(super) fn client_established(connection: &rustls::ServerConnection) -> Note {
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
pub(super) fn fault(error: &io::Error) -> TlsFault {
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

/// Subject, issuer and expiry of a DER certificate.
fn certificate_summary(der: &CertificateDer<'_>) -> CertSummary {
    let Ok((_, cert)) = x509_parser::parse_x509_certificate(der.as_ref()) else {
        return CertSummary::Unparsable;
    };
    let issuer = (cert.subject() != cert.issuer()).then(|| cert.issuer().to_string());
    let not_after = cert.validity().not_after.timestamp();
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
    CertSummary::Parsed {
        subject: cert.subject().to_string(),
        issuer,
        valid_until: utc_date(not_after),
        expired: not_after < now,
    }
}

/// `2027-11-30 12:00 UTC` for seconds since 1970 (civil-from-days, proleptic Gregorian).
fn utc_date(unix_secs: i64) -> String {
    let days = unix_secs.div_euclid(86_400);
    let secs = unix_secs.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02} UTC",
        secs / 3600,
        secs % 3600 / 60
    )
}

/// `AB:CD:...` SHA-256 of `der`, as `openssl x509 -fingerprint -sha256` prints it.
fn sha256_fingerprint(der: &[u8]) -> String {
    let SupportedCipherSuite::Tls13(suite) =
        rustls::crypto::ring::cipher_suite::TLS13_AES_128_GCM_SHA256
    else {
        return "(unavailable)".to_string();
    };
    let digest = suite.common.hash_provider.hash(der);
    digest
        .as_ref()
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

fn load_chain(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsSetupError> {
    let unreadable = |e: rustls::pki_types::pem::Error| TlsSetupError::ReadCertificate {
        path: path.display().to_string(),
        cause: pem_problem(&e),
    };
    let chain = CertificateDer::pem_file_iter(path)
        .map_err(unreadable)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(unreadable)?;
    if chain.is_empty() {
        return Err(TlsSetupError::NoCertificate {
            path: path.display().to_string(),
        });
    }
    Ok(chain)
}

fn load_key(path: &Path) -> Result<PrivateKeyDer<'static>, TlsSetupError> {
    let path_text = path.display().to_string();
    PrivateKeyDer::from_pem_file(path).map_err(|e| match e {
        rustls::pki_types::pem::Error::NoItemsFound => TlsSetupError::NoKey { path: path_text },
        other => TlsSetupError::ReadKey {
            path: path_text,
            cause: pem_problem(&other),
        },
    })
}

fn pem_problem(error: &rustls::pki_types::pem::Error) -> PemProblem {
    match error {
        rustls::pki_types::pem::Error::Io(e) => PemProblem::Io(OsError::of(e)),
        other => PemProblem::Invalid {
            detail: other.to_string(),
        },
    }
}

/// Trust only the certificates in `path`: as roots, and each as itself (see [`TrustCaFile`]).
fn ca_roots(path: &Path) -> Result<(RootCertStore, Vec<CertificateDer<'static>>), TlsSetupError> {
    let unreadable = |e: rustls::pki_types::pem::Error| TlsSetupError::ReadCa {
        path: path.display().to_string(),
        cause: pem_problem(&e),
    };
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(unreadable)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(unreadable)?;
    let mut roots = RootCertStore::empty();
    let (added, _ignored) = roots.add_parsable_certificates(certs.iter().cloned());
    if added == 0 {
        return Err(TlsSetupError::NoUsableCa {
            path: path.display().to_string(),
        });
    }
    Ok((roots, certs))
}

/// The system's trusted roots, read once per run.
fn system_roots() -> Result<RootCertStore, TlsSetupError> {
    static ROOTS: OnceLock<Result<RootCertStore, TlsSetupError>> = OnceLock::new();
    ROOTS
        .get_or_init(|| {
            let found = rustls_native_certs::load_native_certs();
            let mut roots = RootCertStore::empty();
            let (added, _ignored) = roots.add_parsable_certificates(found.certs);
            if added == 0 {
                let detail = found.errors.first().map(ToString::to_string);
                return Err(TlsSetupError::NoSystemRoots { detail });
            }
            Ok(roots)
        })
        .clone()
}

/// Distinguishes generated-certificate files of servers on port 0 in one process.
static GENERATED: AtomicU64 = AtomicU64::new(0);

/// A self-signed certificate for the local names, its key, and the note saying where its PEM
/// went and its fingerprint.
fn generate_self_signed(
    port: u16,
    files_dir: Option<&Path>,
) -> Result<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>, Note), TlsSetupError> {
    let generation_failed = |e: rcgen::Error| TlsSetupError::Generate {
        detail: e.to_string(),
    };
    let mut names = vec![
        "localhost".to_string(),
        "127.0.0.1".to_string(),
        Ipv6Addr::LOCALHOST.to_string(),
    ];
    if let Some(host) = host_name()
        && !names.contains(&host)
    {
        names.push(host);
    }
    let mut params = rcgen::CertificateParams::new(names.clone()).or_else(|_| {
        // A host name rcgen refuses (odd characters) is left out rather than failing.
        names.truncate(3);
        rcgen::CertificateParams::new(names.clone())
    });
    if let Ok(params) = &mut params {
        let mut dn = rcgen::DistinguishedName::new();
        dn.push(rcgen::DnType::CommonName, "sockdbg self-signed");
        dn.push(rcgen::DnType::OrganizationName, "sockdbg");
        params.distinguished_name = dn;
    }
    let params = params.map_err(generation_failed)?;
    let key_pair = rcgen::KeyPair::generate().map_err(generation_failed)?;
    let cert = params.self_signed(&key_pair).map_err(generation_failed)?;
    let der = cert.der().clone();
    let key = PrivateKeyDer::Pkcs8(key_pair.serialize_der().into());
    let fingerprint = sha256_fingerprint(der.as_ref());
    let name = generated_cert_name(port);
    let pem = match files_dir {
        Some(dir) => match crate::private_files::write_private(dir, &name, cert.pem().as_bytes()) {
            Ok(path) => PemWrite::Written {
                path: path.display().to_string(),
            },
            Err(crate::private_files::PrivateFileError::Refused { dir: refused, why }) => {
                PemWrite::Refused {
                    path: dir.join(&name).display().to_string(),
                    dir: refused.display().to_string(),
                    why,
                }
            }
            Err(crate::private_files::PrivateFileError::Io(e)) => PemWrite::Failed {
                path: dir.join(&name).display().to_string(),
                reason: e.to_string(),
            },
        },
        None => PemWrite::NoDirectory,
    };
    let note = Note::TlsCertificateGenerated {
        names,
        fingerprint,
        pem,
    };
    Ok((vec![der], key, note))
}

/// `sockdbg-<port>-cert.pem`; for port 0 a name unique to this process and server.
fn generated_cert_name(port: u16) -> String {
    if port == 0 {
        let n = GENERATED.fetch_add(1, Ordering::Relaxed);
        format!("sockdbg-{}-{n}-cert.pem", std::process::id())
    } else {
        format!("sockdbg-{port}-cert.pem")
    }
}

/// This machine's host name, if the OS tells it without a system call crate.
fn host_name() -> Option<String> {
    let from_file = |path: &str| std::fs::read_to_string(path).ok();
    from_file("/proc/sys/kernel/hostname")
        .or_else(|| from_file("/etc/hostname"))
        .or_else(|| std::env::var("HOSTNAME").ok())
        .or_else(|| std::env::var("COMPUTERNAME").ok())
        .map(|name| name.trim().to_string())
        .filter(|name| !name.is_empty())
}

/// The `ca=FILE` trust: a chain up to a certificate in the file, checked by webpki (name,
/// expiry, signatures); or else a server certificate that is itself in the file, accepted if
/// it names the host (its expiry is not checked then). The second case is what a device's self-signed certificate needs when it was made as
/// a CA (`openssl req -x509` sets `CA:TRUE`), which webpki refuses as a server certificate.
#[derive(Debug)]
struct TrustCaFile {
    webpki: Arc<rustls::client::WebPkiServerVerifier>,
    pinned: Vec<CertificateDer<'static>>,
}

impl ServerCertVerifier for TrustCaFile {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let verified = self.webpki.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        );
        let pinned = self
            .pinned
            .iter()
            .any(|c| c.as_ref() == end_entity.as_ref());
        match verified {
            // The chain is what failed (no issuer, or a CA as server certificate): the
            // certificate itself is trusted, but its names must still fit.
            Err(rustls::Error::InvalidCertificate(
                CertificateError::UnknownIssuer | CertificateError::Other(_),
            )) if pinned => {
                let parsed = rustls::server::ParsedCertificate::try_from(end_entity)?;
                rustls::client::verify_server_name(&parsed, server_name)?;
                Ok(ServerCertVerified::assertion())
            }
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.webpki.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.webpki.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.webpki.supported_verify_schemes()
    }
}

/// Accepts any server certificate (the `insecure` option) but still checks the handshake's
/// signatures with the provider's algorithms, so the connection is at least encrypted to the
/// holder of the certificate's key.
#[derive(Debug)]
struct AcceptAnyCertificate(Arc<CryptoProvider>);

impl ServerCertVerifier for AcceptAnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_civil_utc() {
        let table = [
            (0, "1970-01-01 00:00 UTC"),
            (951_782_400, "2000-02-29 00:00 UTC"),
            (1_796_083_200 + 3_600 * 13 + 60 * 7, "2026-12-01 13:07 UTC"),
            (-86_400, "1969-12-31 00:00 UTC"),
        ];
        for (secs, expected) in table {
            assert_eq!(utc_date(secs), expected, "{secs}");
        }
    }

    #[test]
    fn a_generated_certificate_names_the_local_addresses() {
        let dir = tempfile::tempdir().expect("temp dir");
        let (chain, _key, note) = generate_self_signed(0, Some(dir.path())).expect("generated");
        let summary = certificate_summary(&chain[0]).to_string();
        let note = note.to_string();
        assert!(summary.contains("CN=sockdbg self-signed"), "{summary}");
        assert!(summary.contains("self-signed"), "{summary}");
        assert!(note.contains("SHA-256 fingerprint"), "{note}");
        assert!(note.contains("ca="), "{note}");
        let (_, cert) = x509_parser::parse_x509_certificate(chain[0].as_ref()).expect("x509");
        let sans = cert
            .subject_alternative_name()
            .expect("parsable")
            .expect("present")
            .value
            .general_names
            .iter()
            .map(|n| n.to_string())
            .collect::<Vec<_>>()
            .join(" ");
        assert!(sans.contains("localhost"), "{sans}");
        assert!(sans.contains("IPAddress(7f:00:00:01)"), "{sans}");
    }

    #[test]
    fn fingerprints_are_sha256_in_openssl_style() {
        // SHA-256 of the empty string.
        assert!(sha256_fingerprint(b"").starts_with("E3:B0:C4:42:98:FC:1C:14"));
        assert_eq!(sha256_fingerprint(b"").len(), 32 * 3 - 1);
    }

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
