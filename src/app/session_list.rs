//! The session list's own state: the create form (with a serial port's line settings and
//! the ports the OS lists, listed off the UI thread), the rename field and the delete
//! confirmation (the sessions themselves are the model's).

use crate::app::Problem;
use crate::app::worker::Worker;
use crate::protocol::SessionId;
use crate::serial::{DataBits, FlowControl, Parity, PortChoice, StopBits};
use crate::spec::{OptionKey, SessionKind, SessionSpec, option_parts};

/// The left panel's state.
#[derive(Debug, Default)]
pub struct SessionList {
    /// The create form, when open.
    pub create_form: Option<CreateForm>,
    /// The session being renamed and the name typed so far.
    pub renaming: Option<(SessionId, String)>,
    /// The session whose deletion waits for a confirmation.
    pub confirm_delete: Option<SessionId>,
    /// A session to scroll into view on the next frame (just created or edited).
    pub scroll_to: Option<SessionId>,
    /// The serial ports the OS lists, for the create form.
    pub serial_ports: SerialPorts,
}

/// The serial ports the OS listed last, and a listing under way (on a thread of its own:
/// it reads the system's device tables).
#[derive(Debug, Default)]
pub struct SerialPorts {
    /// The ports, sorted by path.
    pub listed: Vec<PortChoice>,
    /// Whether a listing has answered yet.
    pub answered: bool,
    /// Why the last listing failed.
    pub problem: Option<Problem>,
    listing: Option<Worker<Result<Vec<PortChoice>, String>>>,
}

impl SerialPorts {
    /// Lists the ports again (unless a listing is under way).
    pub fn refresh(&mut self) {
        if self.listing.is_some() {
            return;
        }
        match Worker::spawn("sockdbg-serial-ports", crate::engine::list_serial_ports) {
            Ok(worker) => self.listing = Some(worker),
            Err(Problem::QuickFileThread { reason }) => {
                self.problem = Some(Problem::PortList { reason });
            }
            Err(problem) => self.problem = Some(problem),
        }
    }

    /// Whether a listing is under way.
    pub fn listing(&self) -> bool {
        self.listing.is_some()
    }

    /// Takes the listing's answer once it is there; true when it came now.
    pub fn poll(&mut self) -> bool {
        let Some(answer) = self.listing.as_ref().and_then(Worker::poll) else {
            return false;
        };
        self.listing = None;
        self.answered = true;
        match answer {
            Ok(Ok(ports)) => {
                self.listed = ports;
                self.problem = None;
            }
            Ok(Err(reason)) => self.problem = Some(Problem::PortList { reason }),
            Err(problem) => self.problem = Some(problem),
        }
        true
    }
}

/// A serial port's line settings in the create form: the baud rate as typed (one of the
/// common rates or any other), the rest chosen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SerialFields {
    /// Bits per second, as typed.
    pub baud: String,
    /// Bits per character.
    pub data_bits: DataBits,
    /// The parity bit.
    pub parity: Parity,
    /// Stop bits.
    pub stop_bits: StopBits,
    /// Flow control.
    pub flow: FlowControl,
    /// Reopen the port when its device comes back.
    pub reconnect: bool,
}

impl Default for SerialFields {
    fn default() -> Self {
        Self::of(&crate::spec::SpecOptions::default())
    }
}

impl SerialFields {
    /// The fields showing a spec's serial options (defaults for what it leaves out).
    pub fn of(options: &crate::spec::SpecOptions) -> Self {
        let line = options.serial_line();
        Self {
            baud: line.baud.to_string(),
            data_bits: line.data_bits,
            parity: line.parity,
            stop_bits: line.stop_bits,
            flow: line.flow,
            reconnect: options.reconnect,
        }
    }

    /// The options as a spec writes them (`baud=9600,data=8,...`), for the spec's parser to
    /// check (a typed baud rate that is no number is its error).
    fn options_text(&self) -> String {
        let mut words = vec![
            format!("baud={}", self.baud.trim()),
            format!("data={}", self.data_bits.word()),
            format!("parity={}", self.parity.word()),
            format!("stop={}", self.stop_bits.word()),
            format!("flow={}", self.flow.word()),
        ];
        if self.reconnect {
            words.push("reconnect".to_string());
        }
        words.join(",")
    }
}

/// The create-session form, also used to edit a session's address, port and options.
#[derive(Debug, Clone)]
pub struct CreateForm {
    /// The kind being created.
    pub kind: SessionKind,
    /// The session being edited (`None`: a new one is created).
    pub editing: Option<SessionId>,
    /// Host field.
    pub host: String,
    /// Port field.
    pub port: String,
    /// Options field, written as in a spec (`insecure,timeout=3000`); shown only for kinds
    /// that take options.
    pub options: String,
    /// A serial port's line settings (the kind [`SessionKind::Serial`] only).
    pub serial: SerialFields,
    /// Why the last submit was refused.
    pub error: Option<Problem>,
}

impl CreateForm {
    /// A form with the kind's defaults (servers 0.0.0.0:6001, clients 127.0.0.1:6001).
    pub fn new(kind: SessionKind) -> Self {
        Self {
            kind,
            editing: None,
            host: kind.default_host().to_string(),
            port: "6001".to_string(),
            options: String::new(),
            serial: SerialFields::default(),
            error: None,
        }
    }

    /// The form editing session `id`, filled from its spec.
    pub fn edit(id: SessionId, spec: &SessionSpec) -> Self {
        Self {
            kind: spec.kind,
            editing: Some(id),
            host: spec.host.clone(),
            port: spec.port.to_string(),
            options: spec.options_text(),
            serial: SerialFields::of(&spec.options),
            error: None,
        }
    }

    /// Whether the form shows a client's `reconnect` as a box of its own (TCP, TLS and
    /// WebSocket clients; a serial port's is among its line settings).
    pub fn offers_reconnect(&self) -> bool {
        self.kind != SessionKind::Serial && self.kind.options().contains(&OptionKey::Reconnect)
    }

    /// Whether the options field holds flag `key` (a word of its own, e.g. `reconnect`, or
    /// with a value, `reconnect=5000`).
    pub fn has_flag(&self, key: OptionKey) -> bool {
        self.options.split(',').any(|word| is_option(word, key))
    }

    /// Adds flag `key` to the options field (at its end) or takes it out, leaving the other
    /// options as written.
    pub fn set_flag(&mut self, key: OptionKey, on: bool) {
        if on == self.has_flag(key) {
            return;
        }
        if on {
            let kept = self.options.trim().trim_end_matches(',');
            self.options = if kept.is_empty() {
                key.name().to_string()
            } else {
                format!("{kept},{}", key.name())
            };
        } else {
            let kept: Vec<&str> = self
                .options
                .split(',')
                .filter(|word| !is_option(word, key))
                .collect();
            self.options = kept.join(",");
        }
    }

    /// The spec the fields describe, or why they do not make one.
    ///
    /// # Errors
    /// [`Problem::Form`] with the spec's own reason.
    pub fn spec(&self) -> Result<SessionSpec, Problem> {
        let serial_options;
        let options = if self.kind == SessionKind::Serial {
            serial_options = self.serial.options_text();
            &serial_options
        } else {
            &self.options
        };
        SessionSpec::from_form_with_options(self.kind, &self.host, &self.port, options)
            .map_err(Problem::Form)
    }
}

/// Whether option `word` (of an options field) is `key`, alone or with a value, as the
/// spec's parser reads it.
fn is_option(word: &str, key: OptionKey) -> bool {
    option_parts(word).0 == key.name()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The Reconnect box writes and takes out its word and leaves the other options as
    /// written; only clients that take `reconnect` show it (a serial port's is elsewhere).
    #[test]
    fn the_reconnect_box_edits_its_word_in_the_options() {
        let mut form = CreateForm::new(SessionKind::TcpClient);
        assert!(form.offers_reconnect());
        form.options = "timeout=3000, half-open".to_string();
        form.set_flag(OptionKey::Reconnect, true);
        assert_eq!(form.options, "timeout=3000, half-open,reconnect");
        assert!(form.has_flag(OptionKey::Reconnect));
        assert!(form.spec().is_ok_and(|spec| spec.options.reconnect));
        form.set_flag(OptionKey::Reconnect, true);
        assert_eq!(form.options, "timeout=3000, half-open,reconnect", "once");
        form.set_flag(OptionKey::Reconnect, false);
        assert_eq!(form.options, "timeout=3000, half-open");
        assert!(!form.has_flag(OptionKey::Reconnect));
        form.options = String::new();
        form.set_flag(OptionKey::Reconnect, true);
        assert_eq!(form.options, "reconnect");
        // With a value the box is ticked, and unticking takes the whole word out.
        form.options = "reconnect=5000,timeout=300".to_string();
        assert!(form.has_flag(OptionKey::Reconnect));
        assert!(
            form.spec()
                .is_ok_and(|spec| spec.options.reconnect_ms == Some(5000))
        );
        form.set_flag(OptionKey::Reconnect, false);
        assert_eq!(form.options, "timeout=300");
        // Read as the spec's parser reads it (the name trimmed before its '=').
        form.options = "timeout=300, reconnect =250".to_string();
        assert!(form.has_flag(OptionKey::Reconnect));
        assert!(
            form.spec()
                .is_ok_and(|spec| spec.options.reconnect_ms == Some(250))
        );
        assert!(CreateForm::new(SessionKind::TlsClient).offers_reconnect());
        assert!(CreateForm::new(SessionKind::WsClient).offers_reconnect());
        assert!(!CreateForm::new(SessionKind::TcpServer).offers_reconnect());
        assert!(!CreateForm::new(SessionKind::Serial).offers_reconnect());
    }
}
