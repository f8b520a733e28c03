//! Checksums appended to a payload: 8-bit sum and XOR, CRC-16/MODBUS, CRC-16/CCITT-FALSE and
//! CRC-32, computed with the `crc` crate's catalogued algorithms (no hand-rolled tables).
//!
//! Byte order on the wire: CRC-16/MODBUS is little-endian (low byte first), as Modbus RTU
//! sends it: `01 03 00 00 00 0A` gets `C5 CD`. CRC-16/CCITT-FALSE and CRC-32 are big-endian
//! (most significant byte first), so the bytes read as the number: CRC-32 of `123456789` is
//! `CB F4 39 26`.

use serde::{Deserialize, Serialize};

const CRC16_MODBUS: crc::Crc<u16> = crc::Crc::<u16>::new(&crc::CRC_16_MODBUS);
const CRC16_CCITT_FALSE: crc::Crc<u16> = crc::Crc::<u16>::new(&crc::CRC_16_IBM_3740);
const CRC32: crc::Crc<u32> = crc::Crc::<u32>::new(&crc::CRC_32_ISO_HDLC);

/// A checksum to append, or none.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Checksum {
    /// Nothing appended.
    #[default]
    None,
    /// Sum of all bytes, modulo 256 (1 byte).
    Sum8,
    /// XOR of all bytes (1 byte).
    Xor8,
    /// CRC-16/MODBUS, low byte first (2 bytes).
    Crc16Modbus,
    /// CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF), high byte first (2 bytes).
    Crc16Ccitt,
    /// CRC-32 (ISO-HDLC, as zip and Ethernet), high byte first (4 bytes).
    Crc32,
}

impl Checksum {
    /// Every choice, in the order the window lists them.
    pub const ALL: [Checksum; 6] = [
        Checksum::None,
        Checksum::Sum8,
        Checksum::Xor8,
        Checksum::Crc16Modbus,
        Checksum::Crc16Ccitt,
        Checksum::Crc32,
    ];

    /// The name accepted on the command line (`--checksum crc16-modbus`).
    pub fn name(self) -> &'static str {
        match self {
            Checksum::None => "none",
            Checksum::Sum8 => "sum8",
            Checksum::Xor8 => "xor8",
            Checksum::Crc16Modbus => "crc16-modbus",
            Checksum::Crc16Ccitt => "crc16-ccitt",
            Checksum::Crc32 => "crc32",
        }
    }

    /// The label shown in the window.
    pub fn label(self) -> &'static str {
        match self {
            Checksum::None => "No checksum",
            Checksum::Sum8 => "SUM8",
            Checksum::Xor8 => "XOR8",
            Checksum::Crc16Modbus => "CRC-16/MODBUS (LE)",
            Checksum::Crc16Ccitt => "CRC-16/CCITT-FALSE",
            Checksum::Crc32 => "CRC-32",
        }
    }

    /// Looks a checksum up by its command-line name, case-insensitively.
    pub fn from_name(name: &str) -> Option<Self> {
        let wanted = name.trim().to_ascii_lowercase();
        Self::ALL.into_iter().find(|c| c.name() == wanted)
    }

    /// The checksum bytes of `data`, in wire order (empty for [`Checksum::None`]).
    pub fn compute(self, data: &[u8]) -> Vec<u8> {
        match self {
            Checksum::None => Vec::new(),
            Checksum::Sum8 => vec![data.iter().fold(0u8, |acc, b| acc.wrapping_add(*b))],
            Checksum::Xor8 => vec![data.iter().fold(0u8, |acc, b| acc ^ b)],
            Checksum::Crc16Modbus => CRC16_MODBUS.checksum(data).to_le_bytes().to_vec(),
            Checksum::Crc16Ccitt => CRC16_CCITT_FALSE.checksum(data).to_be_bytes().to_vec(),
            Checksum::Crc32 => CRC32.checksum(data).to_be_bytes().to_vec(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_vectors() {
        let check = b"123456789";
        let table: [(Checksum, &[u8], &[u8]); 11] = [
            (Checksum::None, check, &[]),
            (Checksum::Sum8, check, &[0xDD]),
            (Checksum::Sum8, &[0xFF, 0x02], &[0x01]),
            (Checksum::Xor8, check, &[0x31]),
            (
                Checksum::Xor8,
                &[0x01, 0x03, 0x00, 0x00, 0x00, 0x0A],
                &[0x08],
            ),
            (Checksum::Crc16Modbus, check, &[0x37, 0x4B]),
            (
                Checksum::Crc16Modbus,
                &[0x01, 0x03, 0x00, 0x00, 0x00, 0x0A],
                &[0xC5, 0xCD],
            ),
            (Checksum::Crc16Ccitt, check, &[0x29, 0xB1]),
            (Checksum::Crc32, check, &[0xCB, 0xF4, 0x39, 0x26]),
            (Checksum::Crc32, b"", &[0, 0, 0, 0]),
            (Checksum::Sum8, b"", &[0]),
        ];
        for (checksum, data, expected) in table {
            assert_eq!(
                checksum.compute(data),
                expected,
                "{checksum:?} of {data:02X?}"
            );
        }
    }

    #[test]
    fn names_round_trip() {
        for checksum in Checksum::ALL {
            assert_eq!(Checksum::from_name(checksum.name()), Some(checksum));
        }
        assert_eq!(
            Checksum::from_name("CRC16-MODBUS"),
            Some(Checksum::Crc16Modbus)
        );
        assert_eq!(Checksum::from_name("md5"), None);
    }
}
