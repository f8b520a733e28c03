//! Framing (粘包/拆包): turns one direction of one connection, a byte stream cut into reads
//! at random places, back into the messages the sender meant. Pure and incremental: feed
//! reads in order with [`Decoder::push`], get [`Unit`]s that say where each frame ends.
//!
//! # Guarantees
//! Units *tile* the stream: each unit starts where the previous one ended, so every byte
//! belongs to exactly one unit (a frame, or a skipped run reported as invalid), and none is
//! lost or duplicated. Bytes after the last unit are pending (an incomplete frame); that is
//! "not enough bytes yet", never an error. The decoder stores positions and, at most, a
//! frame header's worth of bytes: never a payload.
//!
//! Except for [`Framing::Raw`] and [`Framing::Idle`], which follow reads and time by nature,
//! the frames do not depend on how the stream was cut into reads. Skipped runs (below) are
//! reported as soon as their bytes are known to be skipped, so where a long run is cut into
//! several [`UnitKind::Invalid`] units follows the reads; the bytes they cover do not.
//!
//! When a stream ends (the peer disconnected, the session stopped) or a send ends (each of
//! the user's sends is a whole message), [`Decoder::finish`] turns the pending bytes into one
//! [`UnitKind::Incomplete`] unit, so no byte waits forever for a frame that cannot come.
//!
//! # Resynchronization
//! A length field that is invalid (it exceeds the maximum frame size, or with
//! `include-header` it is smaller than the header itself) cannot be trusted to find the next
//! frame. The decoder then slides forward **one byte** and reads a header there, and again,
//! until a header is valid. A header that has only begun slides as well when no bytes after
//! it could make it valid (`len:u32be` over text: a first byte of `0x20` or more already means
//! more than 64 KiB). The skipped bytes become [`UnitKind::Invalid`] units whose reason is
//! the first bad length: at the next valid header, and at the end of each read for the bytes
//! skipped so far, so plain text under a length framing shows as it comes. A delimiter frame
//! that grows past the maximum without a delimiter is cut at the maximum and reported the
//! same way; the search goes on after it.

use std::fmt;
use std::str::FromStr;

/// Default largest frame accepted (length-prefixed and delimiter framing): 64 KiB. Small
/// enough that text or garbage rarely passes for a u32 length while resynchronizing; set
/// `max=` for protocols with larger messages.
pub const DEFAULT_MAX_FRAME: u64 = 64 * 1024;

/// Width and byte order of a length field.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum LengthWidth {
    /// One byte.
    U8,
    /// Two bytes, big endian (network order).
    U16Be,
    /// Two bytes, little endian.
    U16Le,
    /// Four bytes, big endian (network order).
    U32Be,
    /// Four bytes, little endian: Python's `struct.pack('i', n)` on x86/ARM.
    U32Le,
}

impl LengthWidth {
    /// Every width, in the order menus list them.
    pub const ALL: [LengthWidth; 5] = [
        LengthWidth::U8,
        LengthWidth::U16Be,
        LengthWidth::U16Le,
        LengthWidth::U32Be,
        LengthWidth::U32Le,
    ];

    /// Size of the field in bytes.
    pub fn bytes(self) -> usize {
        match self {
            LengthWidth::U8 => 1,
            LengthWidth::U16Be | LengthWidth::U16Le => 2,
            LengthWidth::U32Be | LengthWidth::U32Le => 4,
        }
    }

    /// `u8`, `u16be`, ...: the name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            LengthWidth::U8 => "u8",
            LengthWidth::U16Be => "u16be",
            LengthWidth::U16Le => "u16le",
            LengthWidth::U32Be => "u32be",
            LengthWidth::U32Le => "u32le",
        }
    }

    /// Reads the field from the start of `field` (which holds at least [`Self::bytes`]).
    fn read(self, field: &[u8]) -> Option<u64> {
        Some(match self {
            LengthWidth::U8 => u64::from(*field.first()?),
            LengthWidth::U16Be => u64::from(u16::from_be_bytes(field.get(..2)?.try_into().ok()?)),
            LengthWidth::U16Le => u64::from(u16::from_le_bytes(field.get(..2)?.try_into().ok()?)),
            LengthWidth::U32Be => u64::from(u32::from_be_bytes(field.get(..4)?.try_into().ok()?)),
            LengthWidth::U32Le => u64::from(u32::from_le_bytes(field.get(..4)?.try_into().ok()?)),
        })
    }
}

/// A length-prefixed layout: `[offset bytes][length field][payload]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct LengthPrefix {
    /// The field's width and byte order.
    pub width: LengthWidth,
    /// Bytes before the field (a magic number, a message type, ...), part of the frame.
    pub offset: usize,
    /// The length counts the whole frame, header included (else only what follows the field).
    pub include_header: bool,
    /// Largest frame accepted; a larger length is invalid.
    pub max_frame: u64,
}

impl LengthPrefix {
    /// Bytes up to the end of the length field.
    pub fn header_len(&self) -> usize {
        self.offset + self.width.bytes()
    }

    /// The whole frame's length for the header at the start of `header`.
    ///
    /// # Errors
    /// [`FramingError`] when the length is larger than the maximum, or (with
    /// `include_header`) smaller than the header.
    pub fn frame_len(&self, header: &[u8]) -> Result<Option<u64>, FramingError> {
        let header_len = self.header_len();
        let Some(field) = header.get(self.offset..header_len) else {
            return Ok(None); // not enough bytes yet
        };
        let Some(value) = self.width.read(field) else {
            return Ok(None);
        };
        let total = if self.include_header {
            if value < header_len as u64 {
                return Err(FramingError::LengthBelowHeader {
                    length: value,
                    header: header_len,
                });
            }
            value
        } else {
            value + header_len as u64
        };
        if total > self.max_frame {
            return Err(FramingError::TooLong {
                length: value,
                max: self.max_frame,
            });
        }
        Ok(Some(total))
    }
}

impl LengthPrefix {
    /// Whether bytes after `partial` (a header not complete yet) could make a valid one;
    /// `Err` with why not, when every completion is too long (or too short).
    fn check_partial(&self, partial: &[u8]) -> Result<(), FramingError> {
        let known = partial.get(self.offset..).unwrap_or_default();
        let width = self.width.bytes();
        if known.is_empty() || known.len() >= width {
            return Ok(()); // the field has not begun, or is whole (see `frame_len`)
        }
        let header_len = self.header_len() as u64;
        // The field values that make a valid frame.
        let (lo, hi) = if self.include_header {
            (header_len, self.max_frame)
        } else {
            (0, self.max_frame.saturating_sub(header_len))
        };
        let unknown_bits = 8 * (width - known.len()) as u32;
        let possible = match self.width {
            LengthWidth::U8 => true,
            LengthWidth::U16Be | LengthWidth::U32Be => {
                // The known bytes are the high ones: the values form one interval.
                let high = known.iter().fold(0u64, |v, b| (v << 8) | u64::from(*b));
                let min = high << unknown_bits;
                let max = min | ((1u64 << unknown_bits) - 1);
                min <= hi && max >= lo && lo <= hi
            }
            LengthWidth::U16Le | LengthWidth::U32Le => {
                // The known bytes are the low ones: low + k * step for every k below count.
                let low = known
                    .iter()
                    .rev()
                    .fold(0u64, |v, b| (v << 8) | u64::from(*b));
                let step = 1u64 << (8 * known.len() as u32);
                let count = 1u64 << unknown_bits;
                let k = if low >= lo {
                    0
                } else {
                    (lo - low).div_ceil(step)
                };
                k < count && low + k * step <= hi
            }
        };
        if possible {
            Ok(())
        } else {
            Err(FramingError::NoValidLength {
                start: known.to_vec(),
                max: self.max_frame,
            })
        }
    }
}

/// How a stream is cut into frames.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize)]
pub enum Framing {
    /// Each read is a frame, as it came.
    #[default]
    Raw,
    /// Reads are merged until the stream has been silent for `gap_ms`.
    Idle {
        /// Silence that ends a frame, in milliseconds.
        gap_ms: u64,
    },
    /// A frame ends with a delimiter.
    Delimiter {
        /// The delimiter bytes (not empty).
        delimiter: Vec<u8>,
        /// Whether the payload keeps the delimiter.
        keep: bool,
        /// Largest frame accepted before it is cut and reported.
        max_frame: u64,
    },
    /// Every frame has the same length.
    Fixed {
        /// Bytes per frame (at least 1).
        len: u64,
    },
    /// A length field says how long each frame is.
    Length(LengthPrefix),
}

/// Why a `--framing` value or a length could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FramingError {
    /// A length field is larger than the maximum frame.
    #[error("length {length} exceeds the maximum frame of {max} bytes")]
    TooLong {
        /// The field's value.
        length: u64,
        /// The maximum.
        max: u64,
    },
    /// With `include-header`, a length smaller than the header cannot be right.
    #[error("length {length} is smaller than the {header}-byte header it includes")]
    LengthBelowHeader {
        /// The field's value.
        length: u64,
        /// The header's size.
        header: usize,
    },
    /// The first bytes of a length field already make every length too long (or too short
    /// for `include-header`), whatever bytes follow.
    #[error(
        "a length field starting with {} cannot give a frame of at most {max} bytes",
        hex::encode(start)
    )]
    NoValidLength {
        /// The field's bytes seen.
        start: Vec<u8>,
        /// The maximum.
        max: u64,
    },
    /// A delimiter frame grew past the maximum without a delimiter.
    #[error("no delimiter within {max} bytes")]
    NoDelimiter {
        /// The maximum.
        max: u64,
    },
    /// The framing text is not understood.
    #[error("invalid framing '{text}': {why}")]
    Syntax {
        /// What was given.
        text: String,
        /// What is wrong with it.
        why: String,
        /// 1-based column (in characters) of the part that is wrong.
        column: usize,
    },
}

impl FromStr for Framing {
    type Err = FramingError;

    /// `raw`, `idle:MS`, `delim:HEX[,keep]`, `fixed:N`, `len:u8|u16be|u16le|u32be|u32le`
    /// with `,offset=N`, `,include-header`, `,max=N` (lengths and delimiters). An error
    /// names the column of the part that is wrong.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        // Byte offset of each comma-separated part (trimmed) within `text`.
        let mut parts: Vec<(usize, &str)> = Vec::new();
        let mut offset = 0;
        for part in text.split(',') {
            let lead = part.len() - part.trim_start().len();
            parts.push((offset + lead, part.trim()));
            offset += part.len() + 1;
        }
        let bad = |at: usize, why: &str| FramingError::Syntax {
            text: text.to_string(),
            why: why.to_string(),
            column: text.get(..at).map_or(1, |t| t.chars().count() + 1),
        };
        let (head_at, head) = parts.first().copied().unwrap_or((0, ""));
        let (mode, arg, arg_at) = match head.split_once(':') {
            Some((mode, arg)) => (mode, arg, head_at + mode.len() + 1),
            None => (head, "", head_at + head.len()),
        };
        let mut max_frame = DEFAULT_MAX_FRAME;
        let mut offset = 0usize;
        let mut include_header = false;
        let mut keep = false;
        for &(at, option) in parts.iter().skip(1) {
            if let Some(v) = option.strip_prefix("max=") {
                max_frame = v
                    .parse()
                    .map_err(|_| bad(at + 4, "max= needs a number of bytes"))?;
            } else if let Some(v) = option.strip_prefix("offset=") {
                offset = v
                    .parse()
                    .map_err(|_| bad(at + 7, "offset= needs a number of bytes"))?;
            } else if option == "include-header" {
                include_header = true;
            } else if option == "keep" {
                keep = true;
            } else {
                return Err(bad(at, &format!("unknown option '{option}'")));
            }
        }
        let framing = match mode.to_ascii_lowercase().as_str() {
            "raw" => Framing::Raw,
            "idle" => Framing::Idle {
                gap_ms: arg
                    .parse()
                    .map_err(|_| bad(arg_at, "idle: needs milliseconds, e.g. idle:50"))?,
            },
            "delim" => {
                let delimiter = match arg {
                    "\\n" | "lf" => b"\n".to_vec(),
                    "\\r\\n" | "crlf" => b"\r\n".to_vec(),
                    hex => crate::codec::hex::parse_hex(hex).map_err(|e| {
                        bad(
                            arg_at + char_offset(hex, e.column()),
                            &format!("delim: needs hex bytes ({e})"),
                        )
                    })?,
                };
                if delimiter.is_empty() {
                    return Err(bad(arg_at, "the delimiter is empty"));
                }
                Framing::Delimiter {
                    delimiter,
                    keep,
                    max_frame,
                }
            }
            "fixed" => match arg.parse::<u64>() {
                Ok(len) if len > 0 => Framing::Fixed { len },
                _ => return Err(bad(arg_at, "fixed: needs a length of at least 1")),
            },
            "len" => {
                let width = LengthWidth::ALL
                    .into_iter()
                    .find(|w| w.name().eq_ignore_ascii_case(arg))
                    .ok_or_else(|| bad(arg_at, "len: needs u8, u16be, u16le, u32be or u32le"))?;
                Framing::Length(LengthPrefix {
                    width,
                    offset,
                    include_header,
                    max_frame,
                })
            }
            _ => {
                return Err(bad(
                    head_at,
                    "expected raw, idle:MS, delim:HEX, fixed:N or len:WIDTH",
                ));
            }
        };
        Ok(framing)
    }
}

/// The byte offset in `text` of its 1-based character `column`.
fn char_offset(text: &str, column: usize) -> usize {
    text.char_indices()
        .nth(column.saturating_sub(1))
        .map_or(text.len(), |(i, _)| i)
}

impl fmt::Display for Framing {
    /// The same syntax [`FromStr`] reads.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Framing::Raw => write!(f, "raw"),
            Framing::Idle { gap_ms } => write!(f, "idle:{gap_ms}"),
            Framing::Delimiter {
                delimiter,
                keep,
                max_frame,
            } => {
                write!(f, "delim:{}", hex::encode(delimiter))?;
                if *keep {
                    write!(f, ",keep")?;
                }
                if *max_frame != DEFAULT_MAX_FRAME {
                    write!(f, ",max={max_frame}")?;
                }
                Ok(())
            }
            Framing::Fixed { len } => write!(f, "fixed:{len}"),
            Framing::Length(p) => {
                write!(f, "len:{}", p.width.name())?;
                if p.offset > 0 {
                    write!(f, ",offset={}", p.offset)?;
                }
                if p.include_header {
                    write!(f, ",include-header")?;
                }
                if p.max_frame != DEFAULT_MAX_FRAME {
                    write!(f, ",max={}", p.max_frame)?;
                }
                Ok(())
            }
        }
    }
}

/// What a unit is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UnitKind {
    /// A complete frame; its payload is `payload_end - start` bytes (a stripped delimiter
    /// lies between `payload_end` and the unit's end).
    Frame {
        /// Stream offset where the payload ends.
        payload_end: u64,
    },
    /// Bytes skipped while resynchronizing, and why.
    Invalid(FramingError),
    /// The bytes pending when the stream or a send ended: they did not complete a frame.
    Incomplete,
}

/// A run of the stream `start..end`: a frame or skipped bytes. See the module docs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unit {
    /// Stream offset of the first byte.
    pub start: u64,
    /// Stream offset after the last byte.
    pub end: u64,
    /// Frame or skipped.
    pub kind: UnitKind,
}

impl Unit {
    /// Stream offset after the payload (the unit's end, less a stripped delimiter).
    pub fn payload_end(&self) -> u64 {
        match self.kind {
            UnitKind::Frame { payload_end } => payload_end,
            UnitKind::Invalid(_) | UnitKind::Incomplete => self.end,
        }
    }

    /// Whether this unit is skipped bytes.
    pub fn is_invalid(&self) -> bool {
        matches!(self.kind, UnitKind::Invalid(_))
    }
}

/// The incremental decoder of one stream (one peer, one direction).
#[derive(Clone, Debug)]
pub struct Decoder {
    framing: Framing,
    /// Stream offset after the last byte pushed.
    position: u64,
    /// Stream offset where the current (incomplete) unit starts.
    unit_start: u64,
    /// Length mode: the bytes of the candidate header (at most `header_len`).
    header: Vec<u8>,
    /// Length / fixed mode: payload bytes still to come for the current frame.
    remaining: u64,
    /// Length mode: a skipped run in progress, with its first reason.
    skipping: Option<FramingError>,
    /// Delimiter mode: how much of the delimiter is matched (KMP state) and its table.
    matched: usize,
    failure: Vec<usize>,
    /// Idle mode: when the last bytes came.
    last_at_micros: i64,
}

impl Decoder {
    /// A decoder at the start of a stream.
    pub fn new(framing: Framing) -> Self {
        let failure = match &framing {
            Framing::Delimiter { delimiter, .. } => kmp_table(delimiter),
            _ => Vec::new(),
        };
        Self {
            framing,
            position: 0,
            unit_start: 0,
            header: Vec::new(),
            remaining: 0,
            skipping: None,
            matched: 0,
            failure,
            last_at_micros: 0,
        }
    }

    /// The framing it applies.
    pub fn framing(&self) -> &Framing {
        &self.framing
    }

    /// Stream offset after the last byte pushed.
    pub fn position(&self) -> u64 {
        self.position
    }

    /// Bytes pushed but not yet in a unit (an incomplete frame or skipped run).
    pub fn pending(&self) -> u64 {
        self.position - self.unit_start
    }

    /// Feeds the next read of the stream, which came at `at_micros`; appends the units it
    /// completes to `out`.
    pub fn push(&mut self, chunk: &[u8], at_micros: i64, out: &mut Vec<Unit>) {
        match self.framing.clone() {
            Framing::Raw => {
                self.position += chunk.len() as u64;
                if !chunk.is_empty() {
                    self.emit_frame(self.position, out);
                }
            }
            Framing::Idle { gap_ms } => {
                self.flush_idle(at_micros, out);
                let _ = gap_ms;
                self.position += chunk.len() as u64;
                if !chunk.is_empty() {
                    self.last_at_micros = at_micros;
                }
            }
            Framing::Fixed { len } => self.push_fixed(chunk, len.max(1), out),
            Framing::Delimiter {
                delimiter,
                keep,
                max_frame,
            } => self.push_delimited(chunk, &delimiter, keep, max_frame.max(1), out),
            Framing::Length(prefix) => self.push_length(chunk, &prefix, out),
        }
    }

    /// Idle mode: ends the pending frame if the stream has been silent for the gap at
    /// `now_micros`. Other modes: nothing.
    pub fn flush_idle(&mut self, now_micros: i64, out: &mut Vec<Unit>) {
        if let Framing::Idle { gap_ms } = self.framing {
            let gap_micros = i64::try_from(gap_ms.saturating_mul(1000)).unwrap_or(i64::MAX);
            if self.pending() > 0 && now_micros.saturating_sub(self.last_at_micros) >= gap_micros {
                self.emit_frame(self.position, out);
            }
        }
    }

    /// Ends the stream (or one send) here: bytes pending become one
    /// [`UnitKind::Incomplete`] unit (idle mode: a frame, as silence would make it), after a
    /// skipped run in progress; the decoder then starts afresh, as at a stream's start.
    pub fn finish(&mut self, out: &mut Vec<Unit>) {
        self.emit_skipped(out);
        if self.pending() > 0 {
            if matches!(self.framing, Framing::Idle { .. }) {
                self.emit_frame(self.position, out);
            } else {
                out.push(Unit {
                    start: self.unit_start,
                    end: self.position,
                    kind: UnitKind::Incomplete,
                });
                self.unit_start = self.position;
            }
        }
        self.header.clear();
        self.remaining = 0;
        self.matched = 0;
    }

    /// Length mode: reports the bytes skipped so far (all before the candidate header).
    fn emit_skipped(&mut self, out: &mut Vec<Unit>) {
        let header_start = self.position - self.header.len() as u64;
        if header_start > self.unit_start
            && let Some(reason) = self.skipping.take()
        {
            out.push(Unit {
                start: self.unit_start,
                end: header_start,
                kind: UnitKind::Invalid(reason),
            });
            self.unit_start = header_start;
        }
    }

    /// When idle mode's pending frame will end if nothing more comes.
    pub fn idle_deadline_micros(&self) -> Option<i64> {
        match self.framing {
            Framing::Idle { gap_ms } if self.pending() > 0 => {
                let gap = i64::try_from(gap_ms.saturating_mul(1000)).unwrap_or(i64::MAX);
                Some(self.last_at_micros.saturating_add(gap))
            }
            _ => None,
        }
    }

    fn emit_frame(&mut self, payload_end: u64, out: &mut Vec<Unit>) {
        out.push(Unit {
            start: self.unit_start,
            end: self.position,
            kind: UnitKind::Frame { payload_end },
        });
        self.unit_start = self.position;
    }

    fn push_fixed(&mut self, chunk: &[u8], len: u64, out: &mut Vec<Unit>) {
        let mut left = chunk.len() as u64;
        while left > 0 {
            let need = len - self.pending();
            let take = need.min(left);
            self.position += take;
            left -= take;
            if self.pending() == len {
                self.emit_frame(self.position, out);
            }
        }
    }

    fn push_delimited(
        &mut self,
        chunk: &[u8],
        delimiter: &[u8],
        keep: bool,
        max_frame: u64,
        out: &mut Vec<Unit>,
    ) {
        for &byte in chunk {
            while self.matched > 0 && delimiter.get(self.matched) != Some(&byte) {
                self.matched = self.failure.get(self.matched - 1).copied().unwrap_or(0);
            }
            if delimiter.get(self.matched) == Some(&byte) {
                self.matched += 1;
            }
            self.position += 1;
            if self.matched == delimiter.len() {
                self.matched = 0;
                let payload_end = if keep {
                    self.position
                } else {
                    self.position - delimiter.len() as u64
                };
                self.emit_frame(payload_end, out);
            } else if self.pending() >= max_frame {
                // Cut before a partial delimiter match, so a delimiter straddling the cut
                // still ends the next frame.
                let cut = self.position - self.matched as u64;
                if cut > self.unit_start {
                    out.push(Unit {
                        start: self.unit_start,
                        end: cut,
                        kind: UnitKind::Invalid(FramingError::NoDelimiter { max: max_frame }),
                    });
                    self.unit_start = cut;
                }
            }
        }
    }

    fn push_length(&mut self, chunk: &[u8], prefix: &LengthPrefix, out: &mut Vec<Unit>) {
        let header_len = prefix.header_len();
        let mut rest = chunk;
        while !rest.is_empty() {
            if self.remaining > 0 {
                let take = self.remaining.min(rest.len() as u64);
                // `take` is at most rest.len(), so it fits a usize.
                rest = rest.get(take as usize..).unwrap_or_default();
                self.position += take;
                self.remaining -= take;
                if self.remaining == 0 {
                    self.emit_frame(self.position, out);
                }
                continue;
            }
            let want = header_len - self.header.len();
            let take = want.min(rest.len());
            let (head, tail) = rest.split_at(take);
            self.header.extend_from_slice(head);
            rest = tail;
            self.position += take as u64;
            // Evaluate every complete candidate header; sliding may need several in a row.
            // At the end of the read, a partial one slides too if nothing can complete it.
            loop {
                let verdict = if self.header.len() == header_len {
                    prefix.frame_len(&self.header)
                } else if rest.is_empty() && !self.header.is_empty() {
                    prefix.check_partial(&self.header).map(|()| None)
                } else {
                    Ok(None)
                };
                match verdict {
                    Ok(Some(total)) => {
                        self.emit_skipped(out);
                        self.header.clear();
                        self.remaining = total - header_len as u64;
                        if self.remaining == 0 {
                            self.emit_frame(self.position, out);
                        }
                    }
                    Ok(None) => break,
                    Err(reason) => {
                        self.skipping.get_or_insert(reason);
                        self.header.remove(0);
                    }
                }
            }
        }
        // What was skipped is known now: show it, rather than hold it until a valid header
        // comes (text under a length framing may never have one).
        self.emit_skipped(out);
    }
}

/// KMP failure table: `table[i]` is the length of the longest proper prefix of
/// `pattern[..=i]` that is also its suffix.
fn kmp_table(pattern: &[u8]) -> Vec<usize> {
    let mut table = vec![0; pattern.len()];
    let mut k = 0;
    for i in 1..pattern.len() {
        while k > 0 && pattern.get(i) != pattern.get(k) {
            k = table.get(k - 1).copied().unwrap_or(0);
        }
        if pattern.get(i) == pattern.get(k) {
            k += 1;
        }
        if let Some(slot) = table.get_mut(i) {
            *slot = k;
        }
    }
    table
}

/// Convenience for callers that want bytes: cuts a whole stream given as reads into
/// `(payload, unit)` pairs, plus the pending tail. Used by tests and small tools.
pub fn frame_all(framing: &Framing, reads: &[&[u8]]) -> (Vec<(Vec<u8>, Unit)>, Vec<u8>) {
    let stream: Vec<u8> = reads.concat();
    let mut decoder = Decoder::new(framing.clone());
    let mut units = Vec::new();
    for read in reads {
        decoder.push(read, 0, &mut units);
    }
    let slice = |a: u64, b: u64| {
        stream
            .get(usize::try_from(a).unwrap_or(usize::MAX)..usize::try_from(b).unwrap_or(0))
            .unwrap_or_default()
            .to_vec()
    };
    let framed = units
        .into_iter()
        .map(|u| (slice(u.start, u.payload_end()), u))
        .collect();
    let tail = slice(decoder.position() - decoder.pending(), decoder.position());
    (framed, tail)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn len(spec: &str) -> Framing {
        spec.parse().expect("valid framing")
    }

    /// Frames as (payload, invalid?) for the stream cut into the given reads.
    fn frames(framing: &Framing, reads: &[&[u8]]) -> (Vec<(Vec<u8>, bool)>, Vec<u8>) {
        let (framed, tail) = frame_all(framing, reads);
        let mut expected_start = 0;
        for (_, unit) in &framed {
            assert_eq!(unit.start, expected_start, "units tile the stream");
            assert!(unit.end >= unit.start && unit.payload_end() <= unit.end);
            expected_start = unit.end;
        }
        let total: usize = reads.iter().map(|r| r.len()).sum();
        assert_eq!(expected_start as usize + tail.len(), total, "no byte lost");
        // A skipped run is reported read by read: adjacent invalid units are one run.
        let mut merged: Vec<(Vec<u8>, bool)> = Vec::new();
        for (payload, unit) in framed {
            match merged.last_mut() {
                Some((run, true)) if unit.is_invalid() => run.extend(payload),
                _ => merged.push((payload, unit.is_invalid())),
            }
        }
        (merged, tail)
    }

    /// Every way of cutting `stream` in two (and one read per byte) gives the same frames.
    fn assert_split_invariant(framing: &Framing, stream: &[u8]) -> (Vec<(Vec<u8>, bool)>, Vec<u8>) {
        let whole = frames(framing, &[stream]);
        for cut in 0..=stream.len() {
            let (a, b) = stream.split_at(cut);
            assert_eq!(frames(framing, &[a, b]), whole, "{framing} split at {cut}");
        }
        let bytewise: Vec<&[u8]> = stream.chunks(1).collect();
        assert_eq!(frames(framing, &bytewise), whole, "{framing} byte by byte");
        whole
    }

    fn ok(payloads: &[&[u8]]) -> Vec<(Vec<u8>, bool)> {
        payloads.iter().map(|p| (p.to_vec(), false)).collect()
    }

    #[test]
    fn parses_and_prints_framing_specs() {
        let table: [(&str, Framing); 7] = [
            ("raw", Framing::Raw),
            ("idle:50", Framing::Idle { gap_ms: 50 }),
            (
                "delim:0d0a",
                Framing::Delimiter {
                    delimiter: b"\r\n".to_vec(),
                    keep: false,
                    max_frame: DEFAULT_MAX_FRAME,
                },
            ),
            (
                "delim:0a,keep,max=10",
                Framing::Delimiter {
                    delimiter: b"\n".to_vec(),
                    keep: true,
                    max_frame: 10,
                },
            ),
            ("fixed:8", Framing::Fixed { len: 8 }),
            (
                "len:u32le",
                Framing::Length(LengthPrefix {
                    width: LengthWidth::U32Le,
                    offset: 0,
                    include_header: false,
                    max_frame: DEFAULT_MAX_FRAME,
                }),
            ),
            (
                "len:u16be,offset=2,include-header",
                Framing::Length(LengthPrefix {
                    width: LengthWidth::U16Be,
                    offset: 2,
                    include_header: true,
                    max_frame: DEFAULT_MAX_FRAME,
                }),
            ),
        ];
        for (text, framing) in table {
            assert_eq!(len(text), framing, "{text}");
            assert_eq!(
                framing.to_string().parse::<Framing>(),
                Ok(framing),
                "{text}"
            );
        }
        for bad in [
            "",
            "nope",
            "idle:",
            "idle:x",
            "fixed:0",
            "delim:",
            "delim:0",
            "len:u24",
            "len:u8,bogus",
        ] {
            assert!(
                matches!(bad.parse::<Framing>(), Err(FramingError::Syntax { .. })),
                "{bad}"
            );
        }
        // The column points at the part that is wrong.
        let columns = [
            ("bogus", 1),
            ("len:u24", 5),
            ("len:u8, bogus", 9),
            ("len:u8,max=x", 12),
            ("delim:0a zz", 10),
            ("fixed:0", 7),
            ("len:u8,offset=", 15),
        ];
        for (text, column) in columns {
            match text.parse::<Framing>() {
                Err(FramingError::Syntax { column: c, .. }) => assert_eq!(c, column, "{text}"),
                other => panic!("{text}: {other:?}"),
            }
        }
    }

    #[test]
    fn raw_keeps_each_read() {
        let (f, tail) = frames(&Framing::Raw, &[b"ab", b"", b"cde"]);
        assert_eq!(f, ok(&[b"ab", b"cde"]));
        assert!(tail.is_empty());
    }

    #[test]
    fn idle_merges_reads_until_silence() {
        let mut decoder = Decoder::new(Framing::Idle { gap_ms: 10 });
        let mut out = Vec::new();
        decoder.push(b"ab", 0, &mut out);
        decoder.push(b"cd", 5_000, &mut out); // 5 ms later: same frame
        assert!(out.is_empty());
        assert_eq!(decoder.idle_deadline_micros(), Some(15_000));
        decoder.flush_idle(14_999, &mut out);
        assert!(out.is_empty());
        decoder.push(b"ef", 20_000, &mut out); // 15 ms of silence ended "abcd"
        assert_eq!(out.len(), 1);
        assert_eq!((out[0].start, out[0].end), (0, 4));
        decoder.flush_idle(30_000, &mut out);
        assert_eq!((out[1].start, out[1].end), (4, 6));
        assert_eq!(decoder.pending(), 0);
        assert_eq!(decoder.idle_deadline_micros(), None);
    }

    #[test]
    fn delimiter_strip_and_keep_at_every_split() {
        let crlf = len("delim:0d0a");
        let (f, tail) = assert_split_invariant(&crlf, b"one\r\ntwo\r\n\r\nthr\ree\r\r\nrest");
        assert_eq!(f, ok(&[b"one", b"two", b"", b"thr\ree\r"]));
        assert_eq!(tail, b"rest");
        let keep = len("delim:0a,keep");
        let (f, tail) = assert_split_invariant(&keep, b"a\nbc\n");
        assert_eq!(f, ok(&[b"a\n", b"bc\n"]));
        assert!(tail.is_empty());
        // Overlapping pattern: KMP must not miss "aab" inside "aaab".
        let (f, _) = assert_split_invariant(&len("delim:616162"), b"xaaabyaab");
        assert_eq!(f, ok(&[b"xa", b"y"]));
    }

    #[test]
    fn delimiter_too_far_is_cut_and_reported() {
        let framing = len("delim:0a,max=4");
        let (f, tail) = assert_split_invariant(&framing, b"abcdefg\nhi\n");
        assert_eq!(
            f,
            vec![
                (b"abcd".to_vec(), true),
                (b"efg".to_vec(), false),
                (b"hi".to_vec(), false)
            ]
        );
        assert!(tail.is_empty());
    }

    #[test]
    fn fixed_length_at_every_split() {
        let (f, tail) = assert_split_invariant(&len("fixed:3"), b"abcdefgh");
        assert_eq!(f, ok(&[b"abc", b"def"]));
        assert_eq!(tail, b"gh");
    }

    #[test]
    fn length_prefixed_every_width_at_every_split() {
        let table: [(&str, &[u8]); 6] = [
            ("len:u8", b"\x02hi\x00\x03abc"),
            ("len:u16be", b"\x00\x02hi\x00\x00\x00\x03abc"),
            ("len:u16le", b"\x02\x00hi\x00\x00\x03\x00abc"),
            (
                "len:u32be",
                b"\x00\x00\x00\x02hi\x00\x00\x00\x00\x00\x00\x00\x03abc",
            ),
            (
                "len:u32le",
                b"\x02\x00\x00\x00hi\x00\x00\x00\x00\x03\x00\x00\x00abc",
            ),
            // offset 2 (a type code) and a length that counts the 3-byte header
            ("len:u8,offset=2,include-header", b"T1\x05hiT2\x03T3\x06abc"),
        ];
        for (spec, stream) in table {
            let framing = len(spec);
            let Framing::Length(p) = &framing else {
                panic!("length framing")
            };
            let header = p.header_len();
            let (f, tail) = assert_split_invariant(&framing, stream);
            assert!(tail.is_empty(), "{spec}");
            assert_eq!(f.len(), 3, "{spec}: {f:?}");
            assert!(f.iter().all(|(_, invalid)| !invalid), "{spec}");
            assert_eq!(&f[0].0[header..], b"hi", "{spec}");
            assert_eq!(f[1].0.len(), header, "{spec}: empty payload");
            assert_eq!(&f[2].0[header..], b"abc", "{spec}");
        }
    }

    #[test]
    fn python_struct_pack_three_messages_in_one_read() {
        // struct.pack('i', len(m)) + m, three times, sent with one sendall.
        let mut stream = Vec::new();
        for m in [&b"first"[..], "温度=25.5".as_bytes(), b"x"] {
            stream.extend_from_slice(&(m.len() as i32).to_le_bytes());
            stream.extend_from_slice(m);
        }
        let (f, tail) = frames(&len("len:u32le"), &[&stream]);
        assert_eq!(f.len(), 3);
        assert_eq!(&f[1].0[4..], "温度=25.5".as_bytes());
        assert!(tail.is_empty());
    }

    #[test]
    fn oversize_length_is_reported_and_the_stream_resynchronizes() {
        // Bad lengths: the decoder slides one byte at a time until a header is valid.
        let framing = len("len:u8,max=8");
        let (f, tail) = assert_split_invariant(&framing, b"\xff\xfe\x02ok\x01!");
        assert_eq!(
            f,
            vec![
                (b"\xff\xfe".to_vec(), true),
                (b"\x02ok".to_vec(), false),
                (b"\x01!".to_vec(), false)
            ]
        );
        assert!(tail.is_empty());
        // With a 64-byte maximum, "hell", "ello", "llo\x01", "lo\x01\x00" and "o\x01\x00\x00"
        // are all too long; "\x01\x00\x00\x00" is a 1-byte frame.
        let mut d = Decoder::new(len("len:u32le,max=64"));
        let mut out = Vec::new();
        d.push(b"hello\x01\x00\x00\x00Z", 0, &mut out);
        assert_eq!(out.len(), 2, "{out:?}");
        assert_eq!((out[0].start, out[0].end), (0, 5));
        assert!(matches!(
            out[0].kind,
            UnitKind::Invalid(FramingError::TooLong {
                length: 0x6c6c6568,
                ..
            })
        ));
        assert_eq!((out[1].start, out[1].end), (5, 10));
    }

    #[test]
    fn text_under_a_length_framing_is_reported_read_by_read() {
        // Big endian: any printable first byte already makes more than 64 KiB.
        let mut d = Decoder::new(len("len:u32be"));
        let mut out = Vec::new();
        d.push(b"hello device\r\n", 0, &mut out);
        assert_eq!(out.len(), 1, "{out:?}");
        assert_eq!((out[0].start, out[0].end), (0, 14));
        assert!(out[0].is_invalid());
        assert_eq!(d.pending(), 0);
        // Little endian: "o\n" may still begin a length (2671 with two zero bytes after).
        let mut d = Decoder::new(len("len:u32le"));
        let mut out = Vec::new();
        d.push(b"hello\n", 0, &mut out);
        assert_eq!(out.len(), 1);
        assert_eq!((out[0].start, out[0].end), (0, 4));
        assert_eq!(d.pending(), 2);
        d.push(b"\x00\x00", 0, &mut out);
        assert_eq!(d.pending(), 4, "a valid header now: 2671 bytes to come");
        // A frame follows the text: the skipped run ends where it starts.
        let (f, tail) = frames(&len("len:u32be"), &[b"junk", b"\x00\x00", b"\x00\x01z"]);
        assert_eq!(
            f,
            vec![
                (b"junk".to_vec(), true),
                (b"\x00\x00\x00\x01z".to_vec(), false)
            ]
        );
        assert!(tail.is_empty());
    }

    #[test]
    fn a_partial_header_slides_only_when_nothing_can_complete_it() {
        let table: [(&str, &[u8], bool); 9] = [
            ("len:u32be", b"\x00", true),
            ("len:u32be", b"\x00\x00\xff", true),
            ("len:u32be", b"\x00\x01", false),
            ("len:u32be", b" ", false),
            ("len:u32le", b"\xff", true),
            ("len:u32le", b"\xfc\xff", true),
            ("len:u32le", b"\xfd\xff", false),
            ("len:u16be,include-header,max=16", b"\x01", false),
            ("len:u8,offset=3", b"\xff\xff", true),
        ];
        for (spec, partial, possible) in table {
            let Framing::Length(p) = len(spec) else {
                panic!("length framing")
            };
            assert_eq!(
                p.check_partial(partial).is_ok(),
                possible,
                "{spec} {partial:?}"
            );
        }
    }

    #[test]
    fn finish_turns_what_is_pending_into_one_incomplete_unit() {
        let table: [(&str, &[u8], u64); 4] = [
            ("len:u8", b"\x05ab", 3),
            ("delim:0d0a", b"AT\r", 3),
            ("fixed:4", b"abcdef", 2),
            ("len:u32le", b"hello\n", 2),
        ];
        for (spec, stream, pending) in table {
            let mut d = Decoder::new(len(spec));
            let mut out = Vec::new();
            d.push(stream, 0, &mut out);
            let before = out.len();
            d.finish(&mut out);
            assert_eq!(out.len(), before + 1, "{spec}");
            let last = out.last().expect("unit");
            assert_eq!(last.kind, UnitKind::Incomplete, "{spec}");
            assert_eq!(last.end - last.start, pending, "{spec}");
            assert_eq!(d.pending(), 0);
            // The decoder starts afresh after it.
            let mut after = Vec::new();
            d.push(b"\x01z", 0, &mut after);
            if spec == "len:u8" {
                assert_eq!(after.len(), 1, "a new frame right after");
                assert_eq!((after[0].start, after[0].end), (3, 5));
            }
        }
        // Idle: the end of the stream ends the frame, as silence would.
        let mut d = Decoder::new(Framing::Idle { gap_ms: 50 });
        let mut out = Vec::new();
        d.push(b"abc", 0, &mut out);
        d.finish(&mut out);
        assert!(matches!(
            out[..],
            [Unit {
                start: 0,
                end: 3,
                kind: UnitKind::Frame { .. }
            }]
        ));
        // Nothing pending: nothing to report.
        let mut d = Decoder::new(len("len:u8"));
        let mut out = Vec::new();
        d.push(b"\x01z", 0, &mut out);
        d.finish(&mut out);
        assert_eq!(out.len(), 1);
    }

    #[test]
    fn include_header_length_below_header_is_invalid() {
        // 00 01 counts less than its own 2-byte header; 01 00 is over max; 00 03 is right.
        let framing = len("len:u16be,include-header,max=16");
        let (f, tail) = assert_split_invariant(&framing, b"\x00\x01\x00\x03z");
        assert_eq!(
            f,
            vec![(b"\x00\x01".to_vec(), true), (b"\x00\x03z".to_vec(), false)]
        );
        assert!(tail.is_empty());
    }

    #[test]
    fn incomplete_frame_is_pending_not_an_error() {
        let mut d = Decoder::new(len("len:u16be"));
        let mut out = Vec::new();
        d.push(b"\x00", 0, &mut out);
        d.push(b"\x05ab", 0, &mut out);
        assert!(out.is_empty());
        assert_eq!(d.pending(), 4);
        assert_eq!(len("len:u16be").to_string(), "len:u16be");
        let Framing::Length(p) = len("len:u16be") else {
            panic!()
        };
        assert_eq!(p.frame_len(b"\x00"), Ok(None));
        assert_eq!(p.frame_len(b"\x00\x05"), Ok(Some(7)));
    }
}
