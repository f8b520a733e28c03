//! A TLS server's acceptor and a TLS client's connector, built from the session spec's
//! options (`cert=`, `key=`, `ca=`, `insecure`) with the ring provider.

use std::path::Path;
use std::sync::{Arc, OnceLock};

use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use rustls::{ClientConfig, RootCertStore, ServerConfig};
use tokio_rustls::{TlsAcceptor, TlsConnector};

use super::certificates::{certificate_summary, generate_self_signed};
use super::verifiers::{AcceptAnyCertificate, TrustCaFile};
use crate::protocol::{Note, OsError, PemProblem, TlsSetupError};
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
pub(in crate::engine) fn acceptor(
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
pub(in crate::engine) fn connector(
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
