//! Serial port sessions (`serial:PATH`): the port, opened with the spec's line settings, is
//! the session's one peer (the device). Its bytes go through [`super::peers`] like a TCP
//! connection's, so the log, sends, background jobs, auto-reply and scenarios work the same.
//! When the device goes away (unplugged, or a pseudo-terminal's other side closed) the
//! session ends with [`CloseReason::DeviceGone`], or with `reconnect` says it waits, tries to
//! open the path again every [`REOPEN_INTERVAL`] (or `reconnect=MS`), and starts anew (a new
//! peer) once it opens.
//!
//! The control lines live here too, on a second handle to the open port (Unix): DTR and RTS
//! are set and a break sent on [`SerialControl`] commands, and the inputs (CTS, DSR, CD, RI)
//! are read every [`LINE_POLL_INTERVAL`]; [`Event::SerialLines`] reports them when they change.
//! [`list_ports`] lists the ports the OS knows, for the window's create form.

use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_serial::{SerialPort, SerialStream};

use super::peers::{self, AfterFin, Stream};
use super::registry::{Registry, refusing_sends};
use super::session::{Outcome, SessionCommand, SessionContext};
use crate::protocol::{CloseReason, Event, Note, Refusal, SerialFault, StartFailure, Warning};
use crate::serial::{
    BREAK_MS, DataBits, FlowControl, ModemInputs, ModemLines, Parity, PortChoice, SerialControl,
    SerialLine, StopBits, UsbIdentity,
};
use crate::spec::SessionSpec;

/// How often a `reconnect` session tries to open its port again while the device is away,
/// unless `reconnect=MS` says.
pub const REOPEN_INTERVAL: Duration = Duration::from_millis(250);

/// How often an open port's input lines (CTS, DSR, CD, RI) are read.
pub const LINE_POLL_INTERVAL: Duration = Duration::from_millis(200);

/// What a serial session reports where a socket session reports an address: a port has none
/// (its path is in the spec and in the [`Note::SerialOpened`] that follows).
pub const NO_SOCKET_ADDRESS: SocketAddr =
    SocketAddr::new(std::net::IpAddr::V4(Ipv4Addr::UNSPECIFIED), 0);

/// An open port: its stream, and a second handle to its control lines where the system
/// gives one.
struct OpenPort {
    stream: SerialStream,
    control: Option<Box<dyn SerialPort>>,
}

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
        let every = spec
            .options
            .reconnect_ms
            .map_or(REOPEN_INTERVAL, Duration::from_millis);
        port = match reopen(context, &mut commands, (&path, line), every).await {
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
    port: OpenPort,
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
    let mut lines = Lines::new(port.control);
    lines.poll(&opening, true);
    let (mut registry, mut closed) = Registry::new();
    let device = Stream::Device {
        stream: Box::new(port.stream),
        path,
    };
    peers::add(
        &mut registry,
        &opening,
        (device, NO_SOCKET_ADDRESS),
        None,
        AfterFin::of(spec, false),
    );
    let mut poll = tokio::time::interval(LINE_POLL_INTERVAL);
    poll.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let outcome = loop {
        let break_ends = lines.break_ends.unwrap_or_else(Instant::now);
        tokio::select! {
            // Cancellation first: a stop also ends the device's task, and that end must not
            // be mistaken for the device going away.
            biased;
            () = opening.cancel.cancelled() => break Outcome::Stopped,
            command = commands.recv() => match command {
                Some(SessionCommand::Serial(control)) => lines.control(&opening, control),
                other => {
                    if !registry.command(&opening, other, true) {
                        break Outcome::Stopped;
                    }
                }
            },
            Some((peer, reason)) = closed.recv() => {
                registry.forget(peer);
                if registry.len() == 0 {
                    break Outcome::Ended(reason);
                }
            }
            () = tokio::time::sleep_until(break_ends), if lines.break_ends.is_some() => {
                lines.end_break(&opening);
            }
            _ = poll.tick() => lines.poll(&opening, false),
        }
    };
    opening.cancel.cancel();
    registry.close_all().await;
    outcome
}

/// An open port's control lines: what was last set and read, and a break under way.
struct Lines {
    control: Option<Box<dyn SerialPort>>,
    state: ModemLines,
    /// When the break being sent ends.
    break_ends: Option<Instant>,
}

impl Lines {
    fn new(control: Option<Box<dyn SerialPort>>) -> Self {
        Self {
            control,
            state: ModemLines::default(),
            break_ends: None,
        }
    }

    /// Reads the inputs; reports the lines when they changed (or `always`).
    fn poll(&mut self, context: &SessionContext, always: bool) {
        let inputs = self
            .control
            .as_mut()
            .and_then(|port| read_inputs(port.as_mut()));
        if always || inputs != self.state.inputs {
            self.state.inputs = inputs;
            self.report(context);
        }
    }

    fn report(&self, context: &SessionContext) {
        context.sink.send(Event::SerialLines {
            id: context.id,
            lines: self.state,
        });
    }

    /// Carries out the user's `control`: a note when done, a warning when the port refused.
    fn control(&mut self, context: &SessionContext, control: SerialControl) {
        let Some(port) = self.control.as_mut() else {
            let fault = SerialFault::NoControlLines;
            context
                .sink
                .warning(context.id, Warning::SerialControlFailed { control, fault });
            return;
        };
        let done = match control {
            SerialControl::Dtr(level) => port.write_data_terminal_ready(level),
            SerialControl::Rts(level) => port.write_request_to_send(level),
            SerialControl::Break => port.set_break(),
        };
        match done {
            Ok(()) => {
                match control {
                    SerialControl::Dtr(level) => self.state.dtr = level,
                    SerialControl::Rts(level) => self.state.rts = level,
                    SerialControl::Break => {
                        let hold = Duration::from_millis(BREAK_MS);
                        self.break_ends = Some(Instant::now() + hold);
                    }
                }
                let note = Note::SerialControlled(control);
                context.sink.note(context.id, None, note);
            }
            Err(e) => {
                // A port that reports no lines has none to set (the OS only says ENOTTY).
                let fault = if self.state.inputs.is_none() {
                    SerialFault::NoModemLines
                } else {
                    fault(&e)
                };
                context
                    .sink
                    .warning(context.id, Warning::SerialControlFailed { control, fault });
            }
        }
        self.report(context);
    }

    /// Ends the break under way.
    fn end_break(&mut self, context: &SessionContext) {
        self.break_ends = None;
        let Some(port) = self.control.as_mut() else {
            return;
        };
        if let Err(e) = port.clear_break() {
            let fault = fault(&e);
            let control = SerialControl::Break;
            context
                .sink
                .warning(context.id, Warning::SerialControlFailed { control, fault });
        }
    }
}

/// The port's input lines, or `None` when it does not report them.
fn read_inputs(port: &mut dyn SerialPort) -> Option<ModemInputs> {
    Some(ModemInputs {
        cts: port.read_clear_to_send().ok()?,
        dsr: port.read_data_set_ready().ok()?,
        cd: port.read_carrier_detect().ok()?,
        ri: port.read_ring_indicator().ok()?,
    })
}

/// Waits for the port to come back (tries to open it every `every`), refusing
/// sends meanwhile; `None` when the user stops the session first.
async fn reopen(
    context: &SessionContext,
    commands: &mut mpsc::UnboundedReceiver<SessionCommand>,
    (path, line): (&str, SerialLine),
    every: Duration,
) -> Option<OpenPort> {
    let opened = async {
        let mut tick = tokio::time::interval(every);
        loop {
            tick.tick().await;
            if let Ok(port) = open(path, line) {
                break port;
            }
        }
    };
    refusing_sends(context, commands, Refusal::DeviceAway, opened).await
}

/// Opens the port at `path` with `line`'s settings, registered with the runtime, with a
/// second handle to its control lines (Unix).
///
/// # Errors
/// Why it could not be opened, as the user can act on it.
fn open(path: &str, line: SerialLine) -> Result<OpenPort, SerialFault> {
    let builder = builder(path, line);
    #[cfg(unix)]
    {
        let port = builder.open_native().map_err(|e| fault(&e))?;
        // The same open file: DTR, RTS, break and the inputs are the port's, not the handle's.
        let control = port
            .try_clone_native()
            .ok()
            .map(|c| Box::new(c) as Box<dyn SerialPort>);
        let stream = SerialStream::try_from(port).map_err(|e| fault(&e))?;
        Ok(OpenPort { stream, control })
    }
    #[cfg(not(unix))]
    {
        // tokio-serial gives no second handle here: no control lines.
        let stream = SerialStream::open(&builder).map_err(|e| fault(&e))?;
        Ok(OpenPort {
            stream,
            control: None,
        })
    }
}

/// Opens the port at `path` with `line`'s settings for a relay's pair: its stream alone.
///
/// # Errors
/// Why it could not be opened, as the user can act on it.
pub(super) fn open_stream(path: &str, line: SerialLine) -> Result<SerialStream, SerialFault> {
    open(path, line).map(|port| port.stream)
}

/// The serial library's builder for `path` with `line`'s settings.
fn builder(path: &str, line: SerialLine) -> tokio_serial::SerialPortBuilder {
    tokio_serial::new(path, line.baud)
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
        })
}

/// The ports the OS lists, sorted by path, USB adapters with their vendor and product.
/// Blocking (it reads the system's device tables): call it off the UI thread.
///
/// # Errors
/// The serial library's words when the OS could not be asked.
pub fn list_ports() -> Result<Vec<PortChoice>, String> {
    let ports = tokio_serial::available_ports().map_err(|e| e.description)?;
    let mut choices: Vec<PortChoice> = ports
        .into_iter()
        .map(|port| PortChoice {
            path: port.port_name,
            usb: match port.port_type {
                tokio_serial::SerialPortType::UsbPort(usb) => Some(UsbIdentity {
                    vid: usb.vid,
                    pid: usb.pid,
                    manufacturer: usb.manufacturer,
                    product: usb.product,
                }),
                _ => None,
            },
        })
        .collect();
    choices.sort_by(|a, b| a.path.cmp(&b.path));
    choices.dedup_by(|a, b| a.path == b.path);
    Ok(choices)
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
