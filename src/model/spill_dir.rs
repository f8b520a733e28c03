//! The directory this process spills session logs into: one directory per running process
//! under the user's cache directory (`~/.cache/sockdbg/spill/` on Linux), held by a lock file
//! for the process's life, with one directory per log inside. At start, the directories of
//! processes that are gone (their lock is free: the process crashed or was killed before it
//! could clean up) are removed by a short-lived thread of their own ([`sweep_stale`]), so
//! many or large leftovers do not hold up the window's first frame; at exit the process
//! removes its own.

use std::fs::{self, File, TryLockError};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread::JoinHandle;

/// Name of the lock file in a process's directory.
const LOCK_FILE: &str = "lock";
/// Name of the lock file until it is locked: a sweep never sees [`LOCK_FILE`] unlocked in
/// a live process's directory.
const LOCK_PENDING: &str = "lock.new";

/// This process's spill directory.
#[derive(Debug)]
pub struct SpillDir {
    path: PathBuf,
    lock: Option<File>,
    next_log: AtomicU64,
}

impl SpillDir {
    /// Makes this process's directory in `base` (made if needed) and locks it. The
    /// directories of processes that are gone are left to [`sweep_stale`].
    ///
    /// # Errors
    /// When the directory or its lock file cannot be made or locked.
    pub fn open(base: &Path) -> io::Result<Self> {
        fs::create_dir_all(base)?;
        let name = format!("p{}-{:08x}", std::process::id(), fastrand::u32(..));
        let path = base.join(name);
        fs::create_dir(&path)?;
        // Locked before it takes its name: a sweep by a sockdbg starting at this moment sees
        // a young directory without a lock file (kept), never one whose lock is free.
        let pending = path.join(LOCK_PENDING);
        let lock = File::create(&pending)?;
        lock.try_lock().map_err(|e| match e {
            TryLockError::Error(e) => e,
            TryLockError::WouldBlock => io::Error::other("spill directory locked"),
        })?;
        fs::rename(&pending, path.join(LOCK_FILE))?;
        Ok(Self {
            path,
            lock: Some(lock),
            next_log: AtomicU64::new(0),
        })
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

/// Removes the directories in `base` of processes that are gone, on a thread of its own
/// (`spill-sweep`) that ends when done; its result is how many it removed. Called after
/// [`SpillDir::open`], it never takes this process's directory for a leftover: that one is
/// locked by then.
///
/// # Errors
/// When the thread cannot be started.
pub fn sweep_stale(base: PathBuf) -> io::Result<JoinHandle<usize>> {
    std::thread::Builder::new()
        .name("spill-sweep".into())
        .spawn(move || remove_stale(&base))
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

    use std::time::{Duration, Instant};

    /// How many directories the sweep of `base` removed, waited for within a deadline.
    fn swept(base: &Path) -> usize {
        let sweep = sweep_stale(base.to_path_buf()).expect("sweep thread");
        let deadline = Instant::now() + Duration::from_secs(5);
        while !sweep.is_finished() {
            assert!(Instant::now() < deadline, "the sweep did not end");
            std::thread::sleep(Duration::from_millis(5));
        }
        sweep.join().expect("the sweep ran")
    }

    #[test]
    fn a_live_directory_is_kept_and_a_dead_one_removed() {
        let base = tempfile::tempdir().expect("temp dir");
        let live = SpillDir::open(base.path()).expect("open");
        assert_eq!(swept(base.path()), 0);
        // A process that died: its directory has a lock file nobody holds.
        let dead = base.path().join("p1-dead");
        fs::create_dir_all(dead.join("log-0")).expect("dir");
        fs::write(dead.join(LOCK_FILE), b"").expect("lock");
        fs::write(dead.join("log-0").join("00000000.seg"), b"x").expect("segment");
        let other = SpillDir::open(base.path()).expect("open");
        assert_eq!(swept(base.path()), 1);
        assert!(!dead.exists());
        assert!(live.path().exists(), "a running process's directory stays");
        let live_path = live.path().to_path_buf();
        drop(live);
        assert!(!live_path.exists(), "removed at exit");
        drop(other);
        assert_eq!(fs::read_dir(base.path()).expect("read").count(), 0);
    }

    /// A process's directory is swept only once its lock file has its name and is free: a
    /// young directory whose lock is still being made is kept, and the lock, named once
    /// locked, keeps it while its process lives.
    #[test]
    fn a_directory_is_not_swept_while_its_lock_is_being_made() {
        let base = tempfile::tempdir().expect("temp dir");
        let starting = base.path().join("p2-starting");
        fs::create_dir(&starting).expect("dir");
        let lock = File::create(starting.join(LOCK_PENDING)).expect("pending lock");
        assert_eq!(swept(base.path()), 0, "a lock not named yet");
        lock.try_lock().expect("locked");
        fs::rename(starting.join(LOCK_PENDING), starting.join(LOCK_FILE)).expect("named");
        assert_eq!(swept(base.path()), 0, "a held lock");
        drop(lock);
        assert_eq!(swept(base.path()), 1, "a free lock: its process is gone");
        assert!(!starting.exists());

        let live = SpillDir::open(base.path()).expect("open");
        assert!(live.path().join(LOCK_FILE).exists());
        assert!(!live.path().join(LOCK_PENDING).exists());
        assert_eq!(swept(base.path()), 0);
    }
}
