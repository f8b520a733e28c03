//! The directory this process spills session logs into: one directory per running process
//! under the user's cache directory (`~/.cache/sockdbg/spill/` on Linux), held by a lock file
//! for the process's life, with one directory per log inside. At start, the directories of
//! processes that are gone (their lock is free: the process crashed or was killed before it
//! could clean up) are removed; at exit the process removes its own.

use std::fs::{self, File, TryLockError};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Name of the lock file in a process's directory.
const LOCK_FILE: &str = "lock";

/// This process's spill directory.
#[derive(Debug)]
pub struct SpillDir {
    path: PathBuf,
    lock: Option<File>,
    next_log: AtomicU64,
}

impl SpillDir {
    /// Makes this process's directory in `base` (made if needed) and locks it, after
    /// removing the directories of processes that are gone; returns it and how many stale
    /// directories were removed.
    ///
    /// # Errors
    /// When the directory or its lock file cannot be made or locked.
    pub fn open(base: &Path) -> io::Result<(Self, usize)> {
        fs::create_dir_all(base)?;
        let removed = remove_stale(base);
        let name = format!("p{}-{:08x}", std::process::id(), fastrand::u32(..));
        let path = base.join(name);
        fs::create_dir(&path)?;
        let lock = File::create(path.join(LOCK_FILE))?;
        lock.try_lock().map_err(|e| match e {
            TryLockError::Error(e) => e,
            TryLockError::WouldBlock => io::Error::other("spill directory locked"),
        })?;
        Ok((
            Self {
                path,
                lock: Some(lock),
                next_log: AtomicU64::new(0),
            },
            removed,
        ))
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A new log's directory (not made yet: its writer makes it with its first segment).
    pub fn new_log_dir(&self) -> PathBuf {
        let n = self.next_log.fetch_add(1, Ordering::Relaxed);
        self.path.join(format!("log-{n}"))
    }
}

impl Drop for SpillDir {
    fn drop(&mut self) {
        // Closed first: Windows does not delete an open file.
        drop(self.lock.take());
        fs::remove_dir_all(&self.path).ok(); // what stays is cleaned at the next start
    }
}

/// Removes the process directories in `base` whose lock is free (their process is gone);
/// returns how many.
fn remove_stale(base: &Path) -> usize {
    let Ok(entries) = fs::read_dir(base) else {
        return 0;
    };
    let mut removed = 0;
    for entry in entries.flatten() {
        let path = entry.path();
        if !path.is_dir() {
            continue;
        }
        let stale = match File::open(path.join(LOCK_FILE)) {
            Ok(lock) => lock.try_lock().is_ok(),
            // No lock file: a process between making its directory and its lock, or one
            // that died there; only an old one is stale.
            Err(_) => entry
                .metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.elapsed().ok())
                .is_some_and(|age| age.as_secs() > 60),
        };
        if stale && fs::remove_dir_all(&path).is_ok() {
            removed += 1;
        }
    }
    removed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_live_directory_is_kept_and_a_dead_one_removed() {
        let base = tempfile::tempdir().expect("temp dir");
        let (live, removed) = SpillDir::open(base.path()).expect("open");
        assert_eq!(removed, 0);
        // A process that died: its directory has a lock file nobody holds.
        let dead = base.path().join("p1-dead");
        fs::create_dir_all(dead.join("log-0")).expect("dir");
        fs::write(dead.join(LOCK_FILE), b"").expect("lock");
        fs::write(dead.join("log-0").join("00000000.seg"), b"x").expect("segment");
        let (other, removed) = SpillDir::open(base.path()).expect("open");
        assert_eq!(removed, 1);
        assert!(!dead.exists());
        assert!(live.path().exists(), "a running process's directory stays");
        let live_path = live.path().to_path_buf();
        drop(live);
        assert!(!live_path.exists(), "removed at exit");
        drop(other);
        assert_eq!(fs::read_dir(base.path()).expect("read").count(), 0);
    }
}
