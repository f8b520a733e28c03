//! Serial port sessions (`serial:PATH`): the port, opened with the spec's line settings, is
//! the session's one peer (the device). Its bytes go through [`super::peers`] like a TCP
//! connection's, so the log, sends, background jobs, auto-reply and scenarios work the same.
//! When the device goes away (unplugged, or a pseudo-terminal's other side closed) the
//! session ends with [`CloseReason::DeviceGone`], or with `reconnect` says it waits, tries to
//! open the path again every [`REOPEN_INTERVAL`], and starts anew (a new peer) once it opens.

use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use tokio::sync::mpsc;
use tokio_serial::SerialStream;

use super::peers::{self, AfterFin, Stream};
use super::registry::{Registry, refuse};
use super::session::{Outcome, SessionCommand, SessionContext};
use super::tcp_client::serve_one;
use crate::protocol::{CloseReason, Note, Refusal, SerialFault, StartFailure};
use crate::serial::{DataBits, FlowControl, Parity, SerialLine, StopBits};
use crate::spec::SessionSpec;

/// How often a `reconnect` session tries to open its port again while the device is away.
pub const REOPEN_INTERVAL: Duration = Duration::from_millis(250);

/// What a serial session reports where a socket session reports an address: a port has none
/// (its path is in the spec and in the [`Note::SerialOpened`] that follows).
pub const NO_SOCKET_ADDRESS: SocketAddr =
    SocketAddr::new(std::net::IpAddr::V4(Ipv4Addr::UNSPECIFIED), 0);

pub(super) async fn run(
    context: &SessionContext,
    spec: &SessionSpec,
    mut commands: mpsc::UnboundedReceiver<SessionCommand>,
) -> Outcome {
    let path = spec.host.clone();
    let line = spec.options.serial_line();
    let mut port = match open(&path, line) {
        Ok(port) => port,
        Err(fault) => return Outcome::StartFailed(StartFailure::SerialOpen { path, fault }),
    };
    loop {
        let outcome = serve(context, spec, &mut commands, port).await;
        match outcome {
            Outcome::Ended(CloseReason::DeviceGone { .. }) if spec.options.reconnect => {}
            other => return other,
        }
        let waiting = Note::SerialWaiting { path: path.clone() };
        context.sink.note(context.id, None, waiting);
        port = match reopen(context, &mut commands, &path, line).await {
            Some(port) => port,
            None => return Outcome::Stopped,
        };
    }
}

/// Runs one opening of the port until the device goes away, it fails, or the user stops
/// the session. Each opening is reported as a start, with its device as a new peer.
async fn serve(
    context: &SessionContext,
    spec: &SessionSpec,
    commands: &mut mpsc::UnboundedReceiver<SessionCommand>,
    port: SerialStream,
) -> Outcome {
    let path = spec.host.clone();
    context.sink.started(context.id, NO_SOCKET_ADDRESS);
    let line = spec.options.serial_line();
    let note = Note::SerialOpened {
        path: path.clone(),
        line,
    };
    context.sink.note(context.id, None, note);
    // This opening's own token: ending it (the device gone) must not stop the session.
    let opening = SessionContext {
        id: context.id,
        sink: context.sink.clone(),
        cancel: context.cancel.child_token(),
        reactions: context.reactions.clone(),
    };
    let (mut registry, closed) = Registry::new();
    let device = Stream::Device {
        stream: Box::new(port),
        path,
    };
    peers::add(
        &mut registry,
        &opening,
        (device, NO_SOCKET_ADDRESS),
        None,
        AfterFin::of(spec, false),
    );
    serve_one(&opening, commands, registry, closed).await
}

/// Waits for the port to come back (tries to open it every [`REOPEN_INTERVAL`]), refusing
/// sends meanwhile; `None` when the user stops the session first.
async fn reopen(
    context: &SessionContext,
    commands: &mut mpsc::UnboundedReceiver<SessionCommand>,
    path: &str,
    line: SerialLine,
) -> Option<SerialStream> {
    let mut tick = tokio::time::interval(REOPEN_INTERVAL);
    loop {
        tokio::select! {
            biased;
            () = context.cancel.cancelled() => return None,
            command = commands.recv() => match command {
                None => return None,
                Some(SessionCommand::Send { ack, .. }) => {
                    refuse(context, ack.as_ref(), Refusal::DeviceAway);
                }
                Some(_) => {}
            },
            _ = tick.tick() => {
                if let Ok(port) = open(path, line) {
                    return Some(port);
                }
            }
        }
    }
}

/// Opens the port at `path` with `line`'s settings, registered with the runtime.
///
/// # Errors
/// Why it could not be opened, as the user can act on it.
fn open(path: &str, line: SerialLine) -> Result<SerialStream, SerialFault> {
    let builder = tokio_serial::new(path, line.baud)
        .data_bits(match line.data_bits {
            DataBits::Five => tokio_serial::DataBits::Five,
            DataBits::Six => tokio_serial::DataBits::Six,
            DataBits::Seven => tokio_serial::DataBits::Seven,
            DataBits::Eight => tokio_serial::DataBits::Eight,
        })
        .parity(match line.parity {
            Parity::None => tokio_serial::Parity::None,
            Parity::Odd => tokio_serial::Parity::Odd,
            Parity::Even => tokio_serial::Parity::Even,
        })
        .stop_bits(match line.stop_bits {
            StopBits::One => tokio_serial::StopBits::One,
            StopBits::Two => tokio_serial::StopBits::Two,
        })
        .flow_control(match line.flow {
            FlowControl::None => tokio_serial::FlowControl::None,
            FlowControl::RtsCts => tokio_serial::FlowControl::Hardware,
            FlowControl::XonXoff => tokio_serial::FlowControl::Software,
        });
    SerialStream::open(&builder).map_err(|e| fault(&e))
}

/// The user's reading of the serial library's error.
fn fault(error: &tokio_serial::Error) -> SerialFault {
    use std::io::ErrorKind as Io;
    use tokio_serial::ErrorKind as K;
    let detail = error.description.clone();
    match error.kind {
        // Unix: TIOCEXCL refused (EBUSY). Windows also says this for a missing port or one
        // another program holds, with its own words.
        K::NoDevice if cfg!(unix) => SerialFault::Busy,
        K::Io(Io::NotFound) => SerialFault::NotFound,
        K::Io(Io::PermissionDenied) => SerialFault::PermissionDenied,
        K::InvalidInput => SerialFault::Settings { detail },
        K::NoDevice | K::Unknown | K::Io(_) => SerialFault::Other { detail },
    }
}
