//! git's own lock files left by a git process that was killed: `index.lock`, `HEAD.lock`,
//! `refs/heads/<branch>.lock`, `packed-refs.lock`, … A git that holds one has it open; one
//! that nobody has open was left by a dead process. They are removed only when the caller's
//! own recorded operation was cut short (so the dead process was the caller's git).

use std::collections::HashSet;
use std::path::{Path, PathBuf};

/// Every `*.lock` file git may leave in the repository's common dir: at its top, under
/// `refs/`, and in each linked worktree's admin folder (`worktrees/<name>/`). Objects are
/// never locked this way and are not searched.
pub fn lock_files(common_dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let top = |dir: &Path, out: &mut Vec<PathBuf>| {
        if let Ok(entries) = std::fs::read_dir(dir) {
            for e in entries.flatten() {
                let p = e.path();
                if p.extension().is_some_and(|x| x == "lock")
                    && e.file_type().is_ok_and(|t| t.is_file())
                {
                    out.push(p);
                }
            }
        }
    };
    top(common_dir, &mut out);
    if let Ok(entries) = std::fs::read_dir(common_dir.join("worktrees")) {
        for e in entries.flatten() {
            top(&e.path(), &mut out);
        }
    }
    let mut stack = vec![common_dir.join("refs")];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            match e.file_type() {
                Ok(t) if t.is_dir() => stack.push(p),
                Ok(t) if t.is_file() && p.extension().is_some_and(|x| x == "lock") => out.push(p),
                _ => {}
            }
        }
    }
    out.sort();
    out
}

/// The files some process has open (from `/proc/*/fd`), among `candidates`.
fn open_by_anyone(candidates: &[PathBuf]) -> HashSet<PathBuf> {
    let wanted: HashSet<&PathBuf> = candidates.iter().collect();
    let mut held = HashSet::new();
    let Ok(procs) = std::fs::read_dir("/proc") else {
        return held;
    };
    for p in procs.flatten() {
        if !p
            .file_name()
            .to_str()
            .is_some_and(|n| n.bytes().all(|b| b.is_ascii_digit()))
        {
            continue;
        }
        let Ok(fds) = std::fs::read_dir(p.path().join("fd")) else {
            continue;
        };
        for fd in fds.flatten() {
            if let Ok(target) = std::fs::read_link(fd.path())
                && wanted.contains(&target)
            {
                held.insert(target);
            }
        }
    }
    held
}

/// Removes the lock files under `common_dir` that no process has open; returns them. Call
/// only when the caller's own git operation was interrupted (its record says so): then these
/// are what its killed git left.
pub fn remove_stale(common_dir: &Path) -> Vec<PathBuf> {
    let all = lock_files(common_dir);
    if all.is_empty() {
        return all;
    }
    let held = open_by_anyone(&all);
    let mut removed = Vec::new();
    for l in all {
        if !held.contains(&l) && std::fs::remove_file(&l).is_ok() {
            removed.push(l);
        }
    }
    removed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_unheld_locks_are_removed() {
        let dir = tempfile::tempdir().unwrap();
        let c = dir.path();
        std::fs::create_dir_all(c.join("refs/heads/swarm")).unwrap();
        std::fs::create_dir_all(c.join("worktrees/w/")).unwrap();
        std::fs::create_dir_all(c.join("objects/ab")).unwrap();
        for f in [
            "index.lock",
            "refs/heads/swarm/x.lock",
            "worktrees/w/index.lock",
            "worktrees/w/HEAD.lock",
            "objects/ab/not-ours.lock",
            "refs/heads/main",
        ] {
            std::fs::write(c.join(f), "").unwrap();
        }
        // A live git holds this one.
        let held = std::fs::File::open(c.join("worktrees/w/HEAD.lock")).unwrap();
        let held_path = c.join("worktrees/w/HEAD.lock").canonicalize().unwrap();
        let canon = c.canonicalize().unwrap();
        let removed = remove_stale(&canon);
        let names: Vec<String> = removed
            .iter()
            .map(|p| p.strip_prefix(&canon).unwrap().display().to_string())
            .collect();
        assert_eq!(
            names,
            [
                "index.lock",
                "refs/heads/swarm/x.lock",
                "worktrees/w/index.lock"
            ]
        );
        assert!(held_path.exists());
        assert!(c.join("objects/ab/not-ours.lock").exists());
        assert!(c.join("refs/heads/main").exists());
        drop(held);
    }
}
