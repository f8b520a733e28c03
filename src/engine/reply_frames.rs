//! Auto-reply's cut of what a peer sends: the session's framing applied to received bytes,
//! so rules match once per message rather than once per read (TCP's 粘包/拆包). Pure: a
//! [`FrameCutter`] per stream (one TCP or TLS connection) keeps the incremental
//! [`Decoder`] and the bytes of the frame in progress; [`cut_message`] cuts one datagram or
//! WebSocket message on its own.
//!
//! Which framings cut: delimiter, fixed and length. Raw and idle framing leave each read
//! whole (idle would need a timer in every connection task; auto-reply treats it as raw),
//! except on a device, whose reader keeps that timer (`peers::read_device_loop`).
//! A rule sees a frame as the log shows it: a length-prefixed frame with its header, a
//! delimited one without a stripped delimiter.
//!
//! Memory is bounded: the cutter keeps at most one frame's worth of bytes (the framing's
//! maximum frame plus its header or delimiter, at most [`MAX_KEPT`]). A frame longer than
//! what was kept is not matched; an oversize length resynchronizes as in the log view.

use bytes::Bytes;

use crate::codec::framing::{Decoder, Framing, UnitKind};

/// Most bytes a cutter keeps for a frame in progress, whatever the framing says: 16 MiB.
pub(super) const MAX_KEPT: usize = 16 * 1024 * 1024;

/// Whether auto-reply cuts reads with `framing` (delimiter, fixed, length); raw and idle
/// framing match each read as it came.
pub(super) fn cuts(framing: &Framing) -> bool {
    !matches!(framing, Framing::Raw | Framing::Idle { .. })
}

/// The incremental cutter of one peer's received stream.
#[derive(Debug)]
pub(super) struct FrameCutter {
    decoder: Decoder,
    /// Stream bytes from offset `base` on: the frame in progress (or its last `kept`).
    buffer: Vec<u8>,
    base: u64,
    kept: usize,
}

impl FrameCutter {
    /// A cutter at the start of a stream framed by `framing`.
    pub(super) fn new(framing: Framing) -> Self {
        let kept = match &framing {
            Framing::Raw | Framing::Idle { .. } => 0,
            Framing::Delimiter {
                delimiter,
                max_frame,
                ..
            } => to_usize(*max_frame).saturating_add(delimiter.len()),
            Framing::Fixed { len } => to_usize(*len),
            Framing::Length(prefix) => {
                to_usize(prefix.max_frame).saturating_add(prefix.header_len())
            }
        }
        .min(MAX_KEPT);
        Self {
            decoder: Decoder::new(framing),
            buffer: Vec::new(),
            base: 0,
            kept,
        }
    }

    /// The framing it cuts with.
    pub(super) fn framing(&self) -> &Framing {
        self.decoder.framing()
    }

    /// Feeds the next read; returns the payloads of the frames it completes, in order
    /// (skipped bytes and frames longer than what could be kept are left out).
    pub(super) fn push(&mut self, data: &[u8]) -> Vec<Bytes> {
        if !cuts(self.decoder.framing()) {
            return if data.is_empty() {
                Vec::new()
            } else {
                vec![Bytes::copy_from_slice(data)]
            };
        }
        let mut units = Vec::new();
        self.decoder.push(data, 0, &mut units);
        self.buffer.extend_from_slice(data);
        let mut frames = Vec::new();
        for unit in &units {
            let UnitKind::Frame { payload_end } = unit.kind else {
                continue;
            };
            if unit.start < self.base {
                continue; // longer than what was kept
            }
            let from = to_usize(unit.start - self.base);
            let to = to_usize(payload_end - self.base);
            if let Some(payload) = self.buffer.get(from..to) {
                frames.push(Bytes::copy_from_slice(payload));
            }
        }
        // Keep only the unit in progress, and at most `kept` bytes of it.
        let position = self.decoder.position();
        let unit_start = position - self.decoder.pending();
        let keep_from = unit_start
            .max(position.saturating_sub(self.kept as u64))
            .max(self.base);
        self.buffer.drain(..to_usize(keep_from - self.base));
        self.base = keep_from;
        frames
    }
}

/// One datagram or WebSocket message cut by `framing` on its own (a message never spans
/// two of them): the complete frames in it, or the whole message when `framing` does not
/// cut. Bytes after the last complete frame are not matched.
pub(super) fn cut_message(framing: &Framing, data: &[u8]) -> Vec<Bytes> {
    FrameCutter::new(framing.clone()).push(data)
}

fn to_usize(n: u64) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn framing(text: &str) -> Framing {
        text.parse().expect("framing")
    }

    fn run(spec: &str, reads: &[&[u8]]) -> Vec<Vec<Vec<u8>>> {
        let mut cutter = FrameCutter::new(framing(spec));
        reads
            .iter()
            .map(|read| cutter.push(read).iter().map(|b| b.to_vec()).collect())
            .collect()
    }

    const PING: &[u8] = b"\x04\x00\x00\x00ping";

    /// A framing, the reads, and the frames each read completes.
    type Case<'a> = (&'a str, &'a [&'a [u8]], &'a [&'a [&'a [u8]]]);

    #[test]
    fn frames_come_out_once_complete() {
        let three: Vec<u8> = PING.repeat(3);
        let cases: &[Case] = &[
            // Three messages in one read: three frames at once (with their header, as the
            // log shows them).
            ("len:u32le", &[&three], &[&[PING, PING, PING]]),
            // One message over two reads: one frame after the second.
            (
                "len:u32le",
                &[b"\x04\x00\x00\x00pi", b"ng"],
                &[&[], &[PING]],
            ),
            // The header itself split.
            (
                "len:u32le",
                &[b"\x04\x00", b"\x00\x00ping"],
                &[&[], &[PING]],
            ),
            // Raw: each read as it came.
            ("raw", &[b"pingping", b"pi"], &[&[b"pingping"], &[b"pi"]]),
            // Idle: treated as raw.
            ("idle:50", &[b"ab", b"c"], &[&[b"ab"], &[b"c"]]),
            (
                "delim:0a",
                &[b"ping\npi", b"ng\n\n"],
                &[&[b"ping"], &[b"ping", b""]],
            ),
            ("fixed:2", &[b"abc", b"d"], &[&[b"ab"], &[b"cd"]]),
        ];
        for (spec, reads, want) in cases {
            let want: Vec<Vec<Vec<u8>>> = want
                .iter()
                .map(|r| r.iter().map(|f| f.to_vec()).collect())
                .collect();
            assert_eq!(run(spec, reads), want, "{spec}");
        }
    }

    #[test]
    fn oversize_length_resynchronizes_and_memory_stays_bounded() {
        let mut cutter = FrameCutter::new(framing("len:u32le,max=16"));
        // A length of 0xffffffff: skipped byte by byte until a valid header.
        let mut stream = vec![0xff; 4];
        stream.extend_from_slice(PING);
        assert_eq!(cutter.push(&stream), vec![Bytes::from_static(PING)]);
        // Garbage that never forms a valid header is not kept beyond one frame.
        for _ in 0..100 {
            assert!(cutter.push(&[0xff; 1000]).is_empty());
            assert!(cutter.buffer.len() <= 16 + 4);
        }
    }

    #[test]
    fn frame_longer_than_kept_is_not_matched() {
        let mut cutter = FrameCutter::new(framing("delim:0a,max=4"));
        // Cut at 4 bytes without a delimiter (reported as invalid by the decoder): no frame.
        assert_eq!(cutter.push(b"abcdef"), Vec::<Bytes>::new());
        assert_eq!(
            cutter.push(b"\nok\n"),
            vec![Bytes::from_static(b"ef"), Bytes::from_static(b"ok")]
        );
        assert!(cutter.buffer.len() <= 5);
    }

    #[test]
    fn a_message_is_cut_on_its_own() {
        let mut two = PING.repeat(2);
        two.extend_from_slice(b"\x04\x00");
        assert_eq!(cut_message(&framing("len:u32le"), &two).len(), 2);
        assert_eq!(
            cut_message(&framing("raw"), b"ping"),
            vec![Bytes::from_static(b"ping")]
        );
        assert!(cut_message(&framing("len:u32le"), b"\x04\x00").is_empty());
    }
}
