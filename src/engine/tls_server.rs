//! The TLS server session: listens like the TCP server, runs each client's TLS handshake in a
//! task of its own (with a timeout, so a slow or non-TLS client cannot hold up the others),
//! and lists each client that completed it as a peer, exactly like a TCP client.

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;
use tokio_util::sync::CancellationToken;

use super::net::{millis, server_handshake_limit};
use super::peers::{self, AfterFin, Stream};
use super::registry::Registry;
use super::session::{Outcome, SessionCommand, SessionContext};
use super::sink::EventSink;
use super::tcp_server::{Admit, Handshakes, serve};
use super::tls;
use crate::protocol::{Note, OsError, SessionId, StartFailure, TlsFault, TlsRejection, Warning};
use crate::spec::SessionSpec;

/// A client whose handshake is done, with its address and the note about it.
type Established = (TlsStream<TcpStream>, SocketAddr, Note);

pub(super) async fn run(
    context: &SessionContext,
    spec: &SessionSpec,
    commands: mpsc::UnboundedReceiver<SessionCommand>,
    files_dir: Option<&Path>,
) -> Outcome {
    let after_fin = AfterFin::of(spec, false);
    serve(context, spec, commands, |local_addr| {
        // Named by the port actually bound, so a generated certificate's file says which
        // server.
        let mut bound = spec.clone();
        bound.port = local_addr.port();
        let (acceptor, certificate_note) =
            tls::acceptor(&bound, files_dir).map_err(StartFailure::TlsSetup)?;
        Ok((
            Tls {
                acceptor,
                after_fin,
                limit: server_handshake_limit(spec),
            },
            Some(certificate_note),
        ))
    })
    .await
}

/// Each accepted client's TLS handshake runs in a task of its own; a client that completed
/// it is a peer.
struct Tls {
    acceptor: TlsAcceptor,
    after_fin: AfterFin,
    /// How long each handshake may take (`handshake-timeout=MS`).
    limit: Duration,
}

impl Admit for Tls {
    type Ready = Established;

    fn accepted(
        &self,
        context: &SessionContext,
        _: &mut Registry,
        accepted: (TcpStream, SocketAddr),
        handshakes: Handshakes<'_, Established>,
    ) {
        let handshake = handshake(
            context.id,
            context.sink.clone(),
            (self.acceptor.clone(), self.limit),
            accepted,
            context.cancel.child_token(),
            handshakes.ready.clone(),
        );
        handshakes.tasks.spawn(handshake);
    }

    fn admit(&self, context: &SessionContext, registry: &mut Registry, ready: Established) {
        let (stream, addr, note) = ready;
        let stream = Stream::Tls(Box::new(stream));
        peers::add(
            registry,
            context,
            (stream, addr),
            Some(note),
            self.after_fin,
        );
    }
}

/// A TLS connection starts with a handshake record (content type 22).
const HANDSHAKE_RECORD: u8 = 0x16;
/// How much of a non-TLS client's first bytes the error line shows.
const SHOWN_BYTES: usize = 40;

/// Looks at the client's first bytes (without taking them) so a client that speaks something
/// else is named as such with what it sent, then runs the TLS handshake.
pub(super) async fn accept(
    acceptor: &TlsAcceptor,
    stream: TcpStream,
) -> Result<TlsStream<TcpStream>, TlsRejection> {
    let mut first = [0; SHOWN_BYTES];
    let n = stream
        .peek(&mut first)
        .await
        .map_err(|e| TlsRejection::Tls(TlsFault::Io(OsError::of(&e))))?;
    let Some(&kind) = first[..n].first() else {
        return Err(TlsRejection::ClosedBeforeSending);
    };
    if kind != HANDSHAKE_RECORD {
        return Err(TlsRejection::NotTls {
            sent: first[..n].escape_ascii().to_string(),
            more: n == SHOWN_BYTES,
        });
    }
    acceptor
        .accept(stream)
        .await
        .map_err(|e| TlsRejection::Tls(tls::fault(&e)))
}

/// One client's handshake: hands the established stream to the session, or reports in one
/// line why the client was dropped.
async fn handshake(
    id: SessionId,
    sink: EventSink,
    (acceptor, limit): (TlsAcceptor, Duration),
    (stream, addr): (TcpStream, SocketAddr),
    cancel: CancellationToken,
    established: mpsc::UnboundedSender<Established>,
) {
    stream.set_nodelay(true).ok(); // only latency is at stake
    let accepting = tokio::time::timeout(limit, accept(&acceptor, stream));
    let result = tokio::select! {
        () = cancel.cancelled() => return,
        result = accepting => result,
    };
    let why = match result {
        Ok(Ok(stream)) => {
            let note = tls::client_established(stream.get_ref().1);
            established.send((stream, addr, note)).ok(); // the session is stopping
            return;
        }
        Ok(Err(why)) => why,
        Err(_) => TlsRejection::TimedOut { ms: millis(limit) },
    };
    sink.warning(id, Warning::TlsClientDropped { addr, why });
}
