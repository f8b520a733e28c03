//! A pseudo-terminal pair from socat (`socat -d -d pty,raw,echo=0 pty,raw,echo=0`): what
//! one end is written, the other reads, like two serial ports joined by a null-modem cable.
//! The session under test opens [`PtyPair::near`]; the test plays the device on
//! [`PtyPair::far`]. Every read waits with a deadline.

use std::fs::File;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use super::{DEADLINE, QUIET, skip};

/// A running socat joining two pseudo-terminals; killed when dropped.
pub struct PtyPair {
    socat: Child,
    /// The path the session under test opens.
    pub near: String,
    /// The path the test opens as the device.
    pub far: String,
}

impl PtyPair {
    /// Starts socat and reads the two paths it prints; `None` (after [`skip`]) when socat is
    /// not installed.
    pub fn open() -> Option<Self> {
        Self::spawn("pty,raw,echo=0", "pty,raw,echo=0")
    }

    /// As [`PtyPair::open`], but the two ends are also reached by symbolic links at these
    /// paths, which a later pair can take over: a device that comes back at the same path.
    pub fn open_linked(near: &Path, far: &Path) -> Option<Self> {
        let mut pair = Self::spawn(
            &format!("pty,raw,echo=0,link={}", near.display()),
            &format!("pty,raw,echo=0,link={}", far.display()),
        )?;
        pair.near = near.display().to_string();
        pair.far = far.display().to_string();
        // socat names its terminals before it makes the links.
        let deadline = Instant::now() + DEADLINE;
        while !(near.exists() && far.exists()) {
            assert!(
                Instant::now() < deadline,
                "socat made no links in {DEADLINE:?}"
            );
            thread::sleep(Duration::from_millis(5));
        }
        Some(pair)
    }

    fn spawn(near: &str, far: &str) -> Option<Self> {
        let spawned = Command::new("socat")
            .args(["-d", "-d", near, far])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn();
        let mut socat = match spawned {
            Ok(child) => child,
            Err(e) => {
                skip(&format!("socat is not installed ({e})"));
                return None;
            }
        };
        let stderr = socat.stderr.take().expect("piped stderr");
        let (paths_tx, paths) = mpsc::channel();
        // Reads socat's lines for its whole life, so it never blocks on a full pipe.
        thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if let Some((_, path)) = line.split_once(" PTY is ") {
                    paths_tx.send(path.trim().to_string()).ok();
                }
            }
        });
        let deadline = Instant::now() + DEADLINE;
        let next = || {
            let left = deadline.saturating_duration_since(Instant::now());
            paths
                .recv_timeout(left)
                .expect("socat names its pseudo-terminal")
        };
        let near = next();
        let far = next();
        Some(Self { socat, near, far })
    }

    /// Opens the far end as the device: its writer, and a reader of what comes out of it.
    pub fn device(&self) -> Device {
        let file = File::options()
            .read(true)
            .write(true)
            .open(&self.far)
            .expect("open the far pseudo-terminal");
        make_raw(&file);
        let mut reader = file.try_clone().expect("clone the far end");
        let (chunks_tx, chunks) = mpsc::channel();
        thread::spawn(move || {
            let mut buf = [0u8; 4096];
            loop {
                match reader.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        if chunks_tx.send(buf[..n].to_vec()).is_err() {
                            break;
                        }
                    }
                }
            }
        });
        Device {
            writer: file,
            chunks,
        }
    }

    /// Ends socat: both pseudo-terminals hang up, as an unplugged adapter does.
    pub fn close(&mut self) {
        self.socat.kill().ok();
        self.socat.wait().ok();
    }
}

impl Drop for PtyPair {
    fn drop(&mut self) {
        self.close();
    }
}

/// Puts the far end in raw mode here, as the device would be: socat names its terminals
/// before it applies `raw,echo=0`, and bytes written in between would meet the line
/// discipline (CR to LF, ^C, ^S, echo).
fn make_raw(file: &File) {
    use std::os::fd::AsRawFd;
    let fd = file.as_raw_fd();
    // SAFETY: `fd` is open for the call; termios is plain data that tcgetattr fills.
    unsafe {
        let mut termios: libc::termios = std::mem::zeroed();
        assert_eq!(libc::tcgetattr(fd, &mut termios), 0, "tcgetattr");
        libc::cfmakeraw(&mut termios);
        assert_eq!(libc::tcsetattr(fd, libc::TCSANOW, &termios), 0, "tcsetattr");
    }
}

/// The test's side of the pair: writes to the session, reads what the session sent.
pub struct Device {
    writer: File,
    chunks: mpsc::Receiver<Vec<u8>>,
}

impl Device {
    /// Writes `data` to the session.
    pub fn write(&mut self, data: &[u8]) {
        self.writer
            .write_all(data)
            .expect("write to the pseudo-terminal");
        self.writer.flush().expect("flush");
    }

    /// Reads exactly `len` bytes the session sent, within [`DEADLINE`].
    pub fn read_exactly(&mut self, len: usize) -> Vec<u8> {
        let deadline = Instant::now() + DEADLINE;
        let mut got = Vec::new();
        while got.len() < len {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.chunks.recv_timeout(left) {
                Ok(chunk) => got.extend_from_slice(&chunk),
                Err(_) => panic!("read {} of {len} bytes in {DEADLINE:?}: {got:?}", got.len()),
            }
        }
        assert_eq!(got.len(), len, "more than asked for: {got:?}");
        got
    }

    /// The next bytes the session sent, waiting at most `within`; `None` once the pair hung
    /// up (or nothing came).
    pub fn next_chunk(&mut self, within: Duration) -> Option<Vec<u8>> {
        self.chunks.recv_timeout(within).ok()
    }

    /// Asserts the session sends nothing more for [`QUIET`].
    pub fn assert_silent(&mut self) {
        if let Ok(chunk) = self.chunks.recv_timeout(QUIET) {
            panic!("unexpected bytes from the session: {chunk:?}");
        }
    }

    /// Waits until the far end reads nothing more: its reader ended (the pair hung up).
    pub fn wait_closed(&mut self, within: Duration) {
        let deadline = Instant::now() + within;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.chunks.recv_timeout(left) {
                Ok(_) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => return,
                Err(mpsc::RecvTimeoutError::Timeout) => panic!("the far end is still open"),
            }
        }
    }
}
