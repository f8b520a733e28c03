//! The TLS client session: connects and completes the TLS handshake within the connect
//! timeout, notes what was negotiated and who the server's certificate names, then runs the
//! one connection like the TCP client.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use rustls::pki_types::ServerName;
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

use super::net::{client_handshake_limit, millis, resolve};
use super::peers::Stream;
use super::session::{Outcome, SessionCommand, SessionContext};
use super::tcp_client::{Client, Opened, connect, connect_limit, run_client, serve};
use super::tls;
use crate::protocol::StartFailure;
use crate::spec::SessionSpec;

pub(super) async fn run(
    context: &SessionContext,
    spec: &SessionSpec,
    commands: mpsc::UnboundedReceiver<SessionCommand>,
) -> Outcome {
    let (connector, name) = match tls::connector(spec) {
        Ok(made) => made,
        Err(reason) => return Outcome::StartFailed(StartFailure::TlsSetup(reason)),
    };
    let client = TlsClient {
        spec,
        connector,
        name,
    };
    run_client(context, spec, commands, client).await
}

/// The TLS client: its connector and the server name it checks.
struct TlsClient<'a> {
    spec: &'a SessionSpec,
    connector: TlsConnector,
    name: ServerName<'static>,
}

impl Client for TlsClient<'_> {
    type Connection = Opened;

    async fn open(&self) -> Result<Opened, StartFailure> {
        let limit = connect_limit(self.spec);
        let (stream, local_addr, peer_addr) =
            open(self.spec, &self.connector, self.name.clone(), limit).await?;
        let note = tls::established(stream.get_ref().1);
        let stream = Stream::Tls(Box::new(stream));
        Ok((stream, peer_addr, local_addr, Some(note)))
    }

    async fn serve(
        &self,
        connection: Opened,
        context: &SessionContext,
        commands: &mut mpsc::UnboundedReceiver<SessionCommand>,
    ) -> Outcome {
        serve(context, self.spec, commands, connection).await
    }
}

/// Connects to the spec's address and completes the TLS handshake with `connector`, both
/// within `limit` (the handshake within its own timeout when the spec has one). Returns the
/// stream with its local and peer addresses.
///
/// # Errors
/// The connect's [`StartFailure`], or the handshake's fault or timeout.
pub(super) async fn open(
    spec: &SessionSpec,
    connector: &TlsConnector,
    name: ServerName<'static>,
    limit: Duration,
) -> Result<(TlsStream<TcpStream>, SocketAddr, SocketAddr), StartFailure> {
    let started = Instant::now();
    let addr = resolve(spec).await?;
    let tcp = connect(addr, limit).await?;
    let (Ok(local_addr), Ok(peer_addr)) = (tcp.local_addr(), tcp.peer_addr()) else {
        return Err(StartFailure::ClosedWhileOpening);
    };
    // The connect timeout covers the handshake too, unless it has its own.
    let left = client_handshake_limit(spec, limit.saturating_sub(started.elapsed()));
    let shown = client_handshake_limit(spec, limit);
    match tokio::time::timeout(left, connector.connect(name, tcp)).await {
        Ok(Ok(stream)) => Ok((stream, local_addr, peer_addr)),
        Ok(Err(e)) => Err(StartFailure::TlsHandshake {
            addr: addr.to_string(),
            fault: tls::fault(&e),
        }),
        Err(_) => Err(StartFailure::TlsHandshakeTimeout {
            addr,
            ms: millis(shown),
        }),
    }
}
