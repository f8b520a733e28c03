//! The bytes the log-size benchmarks send or push (`net_load`'s tcp-spill, `spill_ingest`):
//! text lines as a device logs them, or bytes that do not compress. Shared by path
//! (`#[path]`), as each bench is a crate of its own.

/// `len` bytes of lines of a device's readings, the `n`th such buffer (each distinct).
pub fn text(n: u64, len: usize) -> Vec<u8> {
    let mut text = Vec::with_capacity(len + 100);
    let mut line = n * 1000;
    while text.len() < len {
        text.extend_from_slice(
            format!(
                "2026-12-01 02:{:02}:{:02}.{:03} node={} temp={}.{} hum={}% rssi=-{} OK\r\n",
                line / 60 % 60,
                line % 60,
                line * 37 % 1000,
                line % 17,
                18 + line * 7 % 13,
                line % 10,
                35 + line * 3 % 40,
                40 + line * 11 % 50
            )
            .as_bytes(),
        );
        line += 1;
    }
    text.truncate(len);
    text
}

/// `len` bytes that do not compress (splitmix64), the `n`th such buffer.
pub fn noise(n: u64, len: usize) -> Vec<u8> {
    let mut state = n << 40;
    (0..len)
        .map(|_| {
            state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            (z ^ (z >> 31)) as u8
        })
        .collect()
}
