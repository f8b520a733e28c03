//! A serial port's line settings as a spec writes them (`baud=N`, `data=5|6|7|8`,
//! `parity=none|odd|even`, `stop=1|2`, `flow=none|rtscts|xonxoff`): the words, their
//! defaults (115200 8N1, no flow control) and the short form the log shows (`115200 8N1`);
//! the control lines ([`SerialControl`] asks to change them, [`ModemLines`] says how they
//! stand) and the ports the OS lists ([`PortChoice`]). Pure: the engine's `serial` module
//! opens, lists and drives the ports.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The baud rate a serial session uses unless `baud=N` says otherwise.
pub const DEFAULT_BAUD: u32 = 115_200;

/// The baud rates the create form proposes (any other can be typed).
pub const COMMON_BAUDS: [u32; 12] = [
    1200, 2400, 4800, 9600, 19_200, 38_400, 57_600, 115_200, 230_400, 460_800, 921_600, 1_000_000,
];

/// Bits per character.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum DataBits {
    /// 5 bits.
    Five,
    /// 6 bits.
    Six,
    /// 7 bits.
    Seven,
    /// 8 bits (the default).
    Eight,
}

/// The parity bit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Parity {
    /// No parity bit (the default).
    None,
    /// Odd parity.
    Odd,
    /// Even parity.
    Even,
}

/// Stop bits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum StopBits {
    /// One stop bit (the default).
    One,
    /// Two stop bits.
    Two,
}

/// Flow control.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum FlowControl {
    /// None (the default).
    None,
    /// Hardware: RTS/CTS.
    RtsCts,
    /// Software: XON/XOFF.
    XonXoff,
}

impl DataBits {
    /// Every choice, in the order forms offer them.
    pub const ALL: [DataBits; 4] = [Self::Five, Self::Six, Self::Seven, Self::Eight];

    /// The spec word (`8`).
    pub fn word(self) -> &'static str {
        match self {
            Self::Five => "5",
            Self::Six => "6",
            Self::Seven => "7",
            Self::Eight => "8",
        }
    }
}

impl Parity {
    /// Every choice, in the order forms offer them.
    pub const ALL: [Parity; 3] = [Self::None, Self::Odd, Self::Even];

    /// The spec word (`none`).
    pub fn word(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Odd => "odd",
            Self::Even => "even",
        }
    }

    /// The letter of the short form (`N`, `O`, `E`).
    fn letter(self) -> char {
        match self {
            Self::None => 'N',
            Self::Odd => 'O',
            Self::Even => 'E',
        }
    }
}

impl StopBits {
    /// Every choice, in the order forms offer them.
    pub const ALL: [StopBits; 2] = [Self::One, Self::Two];

    /// The spec word (`1`).
    pub fn word(self) -> &'static str {
        match self {
            Self::One => "1",
            Self::Two => "2",
        }
    }
}

impl FlowControl {
    /// Every choice, in the order forms offer them.
    pub const ALL: [FlowControl; 3] = [Self::None, Self::RtsCts, Self::XonXoff];

    /// The spec word (`rtscts`).
    pub fn word(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::RtsCts => "rtscts",
            Self::XonXoff => "xonxoff",
        }
    }
}

/// Reads a spec word into one of `choices` by its `word`.
pub fn parse_word<T: Copy>(text: &str, choices: &[T], word: fn(T) -> &'static str) -> Option<T> {
    choices.iter().copied().find(|c| word(*c) == text)
}

/// The settings a serial port is opened with, defaults filled in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SerialLine {
    /// Bits per second.
    pub baud: u32,
    /// Bits per character.
    pub data_bits: DataBits,
    /// The parity bit.
    pub parity: Parity,
    /// Stop bits.
    pub stop_bits: StopBits,
    /// Flow control.
    pub flow: FlowControl,
}

impl Default for SerialLine {
    fn default() -> Self {
        Self {
            baud: DEFAULT_BAUD,
            data_bits: DataBits::Eight,
            parity: Parity::None,
            stop_bits: StopBits::One,
            flow: FlowControl::None,
        }
    }
}

/// `115200 8N1`, and the flow control when there is one (`115200 8N1 rtscts`).
impl fmt::Display for SerialLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {}{}{}",
            self.baud,
            self.data_bits.word(),
            self.parity.letter(),
            self.stop_bits.word()
        )?;
        if self.flow != FlowControl::None {
            write!(f, " {}", self.flow.word())?;
        }
        Ok(())
    }
}

/// How long [`SerialControl::Break`] holds the line at space (the usual 250 ms).
pub const BREAK_MS: u64 = 250;

/// What the user asks of a running port's control lines.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SerialControl {
    /// Raise (`true`) or drop DTR.
    Dtr(bool),
    /// Raise (`true`) or drop RTS.
    Rts(bool),
    /// Hold the line at space for [`BREAK_MS`].
    Break,
}

/// The input lines a port reports.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ModemInputs {
    /// Clear To Send.
    pub cts: bool,
    /// Data Set Ready.
    pub dsr: bool,
    /// Carrier Detect.
    pub cd: bool,
    /// Ring Indicator.
    pub ri: bool,
}

/// How a running port's control lines stand, as the engine last read and set them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ModemLines {
    /// DTR as last set (the OS raises it when the port opens).
    pub dtr: bool,
    /// RTS as last set (the OS raises it when the port opens).
    pub rts: bool,
    /// The inputs; `None` when the port does not report them (a pseudo-terminal, a port
    /// without modem lines).
    pub inputs: Option<ModemInputs>,
}

impl Default for ModemLines {
    fn default() -> Self {
        Self {
            dtr: true,
            rts: true,
            inputs: None,
        }
    }
}

/// A port the OS lists, for the create form.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PortChoice {
    /// What to open (`/dev/ttyUSB0`, `COM3`).
    pub path: String,
    /// A USB adapter's identity, when the port is one.
    pub usb: Option<UsbIdentity>,
}

/// A USB serial adapter's vendor and product.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct UsbIdentity {
    /// Vendor id.
    pub vid: u16,
    /// Product id.
    pub pid: u16,
    /// The manufacturer's name, when the device gives one.
    pub manufacturer: Option<String>,
    /// The product's name, when the device gives one.
    pub product: Option<String>,
}

/// `/dev/ttyUSB0`, or `/dev/ttyUSB0  FTDI FT232R (0403:6001)` for a USB adapter.
impl fmt::Display for PortChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.path)?;
        if let Some(usb) = &self.usb {
            f.write_str("  ")?;
            let names: Vec<&str> = [&usb.manufacturer, &usb.product]
                .into_iter()
                .filter_map(|n| n.as_deref())
                .collect();
            if !names.is_empty() {
                write!(f, "{} ", names.join(" "))?;
            }
            write!(f, "({:04x}:{:04x})", usb.vid, usb.pid)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_form_and_words() {
        assert_eq!(SerialLine::default().to_string(), "115200 8N1");
        let line = SerialLine {
            baud: 9600,
            data_bits: DataBits::Seven,
            parity: Parity::Even,
            stop_bits: StopBits::Two,
            flow: FlowControl::RtsCts,
        };
        assert_eq!(line.to_string(), "9600 7E2 rtscts");
        assert_eq!(
            parse_word("xonxoff", &FlowControl::ALL, FlowControl::word),
            Some(FlowControl::XonXoff)
        );
        assert_eq!(parse_word("9", &DataBits::ALL, DataBits::word), None);
        assert_eq!(parse_word("Even", &Parity::ALL, Parity::word), None);
    }

    #[test]
    fn a_listed_port_names_its_usb_adapter() {
        let plain = PortChoice {
            path: "/dev/ttyS0".into(),
            usb: None,
        };
        assert_eq!(plain.to_string(), "/dev/ttyS0");
        let usb = UsbIdentity {
            vid: 0x0403,
            pid: 0x6001,
            manufacturer: Some("FTDI".into()),
            product: Some("FT232R USB UART".into()),
        };
        let adapter = PortChoice {
            path: "/dev/ttyUSB0".into(),
            usb: Some(usb.clone()),
        };
        assert_eq!(
            adapter.to_string(),
            "/dev/ttyUSB0  FTDI FT232R USB UART (0403:6001)"
        );
        let bare = PortChoice {
            path: "COM3".into(),
            usb: Some(UsbIdentity {
                manufacturer: None,
                product: None,
                ..usb
            }),
        };
        assert_eq!(bare.to_string(), "COM3  (0403:6001)");
    }
}
