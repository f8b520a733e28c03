//! TLS helpers for the tests: a blocking rustls client that trusts a given PEM, and the
//! path of the PEM a generated-certificate note names.

use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::pki_types::ServerName;
use rustls::pki_types::pem::PemObject;

use super::{DEADLINE, tcp_connect};

/// The PEM file a generated-certificate note names (`... its PEM is at PATH (give it ...`).
pub fn pem_path(note: &str) -> PathBuf {
    note.split("its PEM is at ")
        .nth(1)
        .and_then(|rest| rest.split(" (give it").next())
        .map(PathBuf::from)
        .unwrap_or_else(|| panic!("the note names the PEM file: {note}"))
}

/// A blocking rustls client connected to `addr`, trusting `pem`, with timeouts.
pub fn rustls_client(
    addr: SocketAddr,
    pem: &Path,
) -> rustls::StreamOwned<rustls::ClientConnection, TcpStream> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls::pki_types::CertificateDer::pem_file_iter(pem).expect("pem") {
        roots.add(cert.expect("cert")).expect("root");
    }
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("versions")
    .with_root_certificates(roots)
    .with_no_client_auth();
    let name = ServerName::try_from("localhost").expect("name");
    let conn = rustls::ClientConnection::new(Arc::new(config), name).expect("client");
    let sock = tcp_connect(addr);
    sock.set_read_timeout(Some(DEADLINE)).expect("timeout");
    handshaken(conn, sock)
}

/// A blocking TLS stream over `sock` whose handshake (either side) is done.
pub fn handshaken<C, S>(conn: C, sock: TcpStream) -> rustls::StreamOwned<C, TcpStream>
where
    C: std::ops::DerefMut + std::ops::Deref<Target = rustls::ConnectionCommon<S>>,
    S: rustls::SideData,
{
    let mut stream = rustls::StreamOwned::new(conn, sock);
    while stream.conn.is_handshaking() {
        stream
            .conn
            .complete_io(&mut stream.sock)
            .expect("handshake completes");
    }
    stream
}
