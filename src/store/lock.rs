//! Per-run OS locks. `flock`-style locks are released by the kernel when the holder dies, so a
//! crashed command never leaves a run locked. The lock file also records who holds it, which
//! lets the next holder say that it recovered a lock from a process that died.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::time::{Duration, Instant};

use crate::error::{Error, IoContext, Result};

/// A held lock; released on drop (or by the kernel if the process dies).
#[derive(Debug)]
pub struct RunLock {
    file: File,
    /// Set when the previous holder died without releasing cleanly.
    pub recovered_from: Option<String>,
}

impl Drop for RunLock {
    fn drop(&mut self) {
        // A clean release empties the file; a non-empty lock file at acquisition time therefore
        // means the previous holder died while holding it.
        let _ = self.file.set_len(0);
        let _ = self.file.unlock();
    }
}

/// How long a second caller waits for a busy run before giving up with exit 3.
pub fn default_timeout() -> Duration {
    std::env::var("GIT_SWARM_LOCK_TIMEOUT_MS")
        .ok()
        .and_then(|v| v.parse().ok())
        .map(Duration::from_millis)
        .unwrap_or(Duration::from_secs(10))
}

/// Takes the lock at `path`, waiting up to `timeout` for another holder to finish.
pub fn acquire(path: &Path, what: &str, timeout: Duration) -> Result<RunLock> {
    crate::failpoint!("lock-before");
    // Never through a symlink: the lock file is truncated when it is released.
    let mut file = crate::files::safe::open_rw(path)?;
    let start = Instant::now();
    let mut announced = false;
    loop {
        match file.try_lock() {
            Ok(()) => break,
            Err(std::fs::TryLockError::WouldBlock) => {
                if start.elapsed() >= timeout {
                    return Err(Error::refused(format!(
                        "{what} is locked by another git swarm command (lock file {})",
                        path.display()
                    ))
                    .hint("wait for the other command to finish, then run this command again"));
                }
                if !announced && start.elapsed() > Duration::from_millis(500) {
                    eprintln!("waiting for the lock on {what} ({})…", path.display());
                    announced = true;
                }
                std::thread::sleep(Duration::from_millis(15));
            }
            Err(std::fs::TryLockError::Error(e)) => {
                return Err(Error::io("lock", path, e));
            }
        }
    }
    let mut previous = String::new();
    let _ = file.read_to_string(&mut previous);
    let recovered_from = {
        let p = previous.trim();
        (!p.is_empty()).then(|| p.to_string())
    };
    let me = format!(
        "pid {} ({})\n",
        std::process::id(),
        std::env::args()
            .skip(1)
            .take(2)
            .collect::<Vec<_>>()
            .join(" ")
    );
    file.set_len(0).ctx("truncate", path)?;
    file.seek(SeekFrom::Start(0)).ctx("seek", path)?;
    file.write_all(me.as_bytes()).ctx("write", path)?;
    crate::failpoint!("lock-after");
    Ok(RunLock {
        file,
        recovered_from,
    })
}

/// Whether another process holds the lock at `path` right now (a missing file is not held).
pub fn is_held(path: &Path) -> bool {
    let Ok(file) = OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path)
    else {
        return false;
    };
    match file.try_lock() {
        Ok(()) => {
            let _ = file.unlock();
            false
        }
        Err(std::fs::TryLockError::WouldBlock) => true,
        Err(std::fs::TryLockError::Error(_)) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_acquire_times_out_with_refusal() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join(".lock");
        let held = acquire(&p, "run x", Duration::from_millis(10)).unwrap();
        assert!(held.recovered_from.is_none());
        let err = acquire(&p, "run x", Duration::from_millis(50)).unwrap_err();
        assert_eq!(err.exit_code(), 3);
        assert!(err.message.contains("locked"), "{}", err.message);
        drop(held);
        let again = acquire(&p, "run x", Duration::from_millis(10)).unwrap();
        assert!(
            again.recovered_from.is_none(),
            "clean release leaves no owner"
        );
    }

    #[test]
    fn lock_left_by_dead_holder_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join(".lock");
        std::fs::write(&p, "pid 99999 (next)\n").unwrap();
        let l = acquire(&p, "run x", Duration::from_millis(10)).unwrap();
        assert_eq!(l.recovered_from.as_deref(), Some("pid 99999 (next)"));
    }
}
