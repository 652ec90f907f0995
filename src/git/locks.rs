//! git's own lock files left by a git process that was killed: `index.lock`, `HEAD.lock`,
//! `refs/heads/<branch>.lock`, `packed-refs.lock`, … A git that holds one has it open; one
//! that nobody has open was left by a dead process. They are removed only when the caller's
//! own recorded operation was cut short (so the dead process was the caller's git).

use std::collections::HashSet;
use std::path::{Path, PathBuf};

/// Every `*.lock` file git may leave in the repository's common dir: at its top, under
/// `refs/`, and in each linked worktree's admin folder (`worktrees/<name>/`). Objects are
/// never locked this way and are not searched.
pub(crate) fn lock_files(common_dir: &Path) -> Vec<PathBuf> {
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
pub(crate) fn remove_stale(common_dir: &Path) -> Vec<PathBuf> {
    stale(common_dir)
        .into_iter()
        .filter(|l| std::fs::remove_file(l).is_ok())
        .collect()
}

/// Removes the lock file `lock` if no process has it open; whether it did.
pub(crate) fn remove_if_stale(lock: &Path) -> bool {
    // A process's open files are named by their real paths.
    let Ok(real) = lock.canonicalize() else {
        return false;
    };
    let one = [real];
    open_by_anyone(&one).is_empty() && std::fs::remove_file(lock).is_ok()
}

/// The lock files under `common_dir` that no process has open.
pub(crate) fn stale(common_dir: &Path) -> Vec<PathBuf> {
    let all = lock_files(common_dir);
    if all.is_empty() {
        return all;
    }
    let held = open_by_anyone(&all);
    all.into_iter().filter(|l| !held.contains(l)).collect()
}

/// Removes the lock files git keeps for the work tree at `worktree` — its index and HEAD
/// locks in its admin folder, and the lock of the branch checked out there — that no process
/// has open; returns them. For a work tree in which an agent of the caller's was killed (a git
/// it ran, e.g. a commit, died with it): nothing but that work tree's own git takes these.
pub(crate) fn remove_stale_of_worktree(common_dir: &Path, worktree: &Path) -> Vec<PathBuf> {
    let Some(admin) = super::ops::git_dir(worktree) else {
        return Vec::new();
    };
    let shared = admin.canonicalize().ok() == common_dir.canonicalize().ok();
    let mut candidates: Vec<PathBuf> = if shared {
        ["index.lock", "HEAD.lock"]
            .iter()
            .map(|n| admin.join(n))
            .filter(|p| p.is_file())
            .collect()
    } else {
        std::fs::read_dir(&admin)
            .map(|entries| {
                entries
                    .flatten()
                    .map(|e| e.path())
                    .filter(|p| p.extension().is_some_and(|x| x == "lock") && p.is_file())
                    .collect()
            })
            .unwrap_or_default()
    };
    if let Some(branch) = super::worktree_branch(worktree) {
        let l = common_dir.join(format!("refs/heads/{branch}.lock"));
        if l.is_file() {
            candidates.push(l);
        }
    }
    if candidates.is_empty() {
        return candidates;
    }
    let held = open_by_anyone(&candidates);
    candidates
        .into_iter()
        .filter(|l| !held.contains(l) && std::fs::remove_file(l).is_ok())
        .collect()
}

/// How the temporary index copies of [`super::content_tree`] begin: `swarm-index.<pid>.`.
pub(crate) const TEMP_INDEX_PREFIX: &str = "swarm-index.";

/// Removes the temporary index copies in `dir` (and git's `.lock` files beside them) whose
/// process is gone: a process killed while it computed a content tree. A live process's
/// copies are never touched (its pid is in their name); copies of a pid that was reused stay
/// until that process ends.
pub(crate) fn remove_dead_temp_indexes(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name();
        let Some(pid) = name
            .to_str()
            .and_then(|n| n.strip_prefix(TEMP_INDEX_PREFIX))
            .and_then(|rest| rest.split_once('.'))
            .and_then(|(pid, _)| pid.parse::<u32>().ok())
        else {
            continue;
        };
        if pid != std::process::id() && !Path::new(&format!("/proc/{pid}")).exists() {
            let _ = std::fs::remove_file(e.path());
        }
    }
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

    #[test]
    fn temp_indexes_of_dead_processes_are_removed_and_live_ones_kept() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let mine = format!("swarm-index.{}.abc", std::process::id());
        // pid_max is at most 2^22 on Linux: this pid cannot be alive.
        let dead = "swarm-index.4294967.xyz";
        for f in [
            mine.as_str(),
            dead,
            "swarm-index.4294967.xyz.lock",
            "swarm-index.noid",
            "index",
        ] {
            std::fs::write(d.join(f), "").unwrap();
        }
        remove_dead_temp_indexes(d);
        let mut left: Vec<String> = std::fs::read_dir(d)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        left.sort();
        let mut want = vec!["index".to_string(), mine, "swarm-index.noid".to_string()];
        want.sort();
        assert_eq!(left, want);
    }

    #[test]
    fn a_worktrees_own_unheld_locks_are_removed_and_nothing_else() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("repo");
        let git = |cwd: &Path, args: &[&str]| {
            let out = std::process::Command::new("git")
                .args(args)
                .current_dir(cwd)
                .env("GIT_CONFIG_GLOBAL", "/dev/null")
                .output()
                .unwrap();
            assert!(out.status.success(), "{args:?}: {out:?}");
        };
        std::fs::create_dir_all(&root).unwrap();
        git(&root, &["init", "-q", "-b", "main"]);
        std::fs::write(root.join("f"), "x").unwrap();
        git(&root, &["add", "f"]);
        git(
            &root,
            &[
                "-c",
                "user.name=t",
                "-c",
                "user.email=t@t",
                "commit",
                "-qm",
                "one",
            ],
        );
        let wt = dir.path().join("wt");
        git(
            &root,
            &[
                "worktree",
                "add",
                "-q",
                "-b",
                "swarm/x",
                wt.to_str().unwrap(),
            ],
        );
        let common = root.join(".git").canonicalize().unwrap();
        let admin = common.join("worktrees/wt");
        for f in [
            admin.join("index.lock"),
            admin.join("HEAD.lock"),
            common.join("refs/heads/swarm/x.lock"),
            common.join("refs/heads/main.lock"),
            common.join("index.lock"),
        ] {
            std::fs::write(&f, "").unwrap();
        }
        let held = std::fs::File::open(admin.join("HEAD.lock")).unwrap();
        let mut removed = remove_stale_of_worktree(&common, &wt);
        removed.sort();
        let mut want = vec![
            admin.join("index.lock"),
            common.join("refs/heads/swarm/x.lock"),
        ];
        want.sort();
        assert_eq!(removed, want);
        // Held by a live process, another branch's, the main work tree's: kept.
        assert!(admin.join("HEAD.lock").exists());
        assert!(common.join("refs/heads/main.lock").exists());
        assert!(common.join("index.lock").exists());
        drop(held);
    }
}
