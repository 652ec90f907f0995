//! What `git swarm gc` asks of git, and the few removals it makes. Each removal checks, as it
//! acts, the state gc decided on: a branch is deleted only if it still points at the commit
//! that was judged, a half-removed worktree loses only files identical to a commit.

use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use super::Git;
use crate::error::{Error, Result};

/// One entry of `git worktree list --porcelain`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Entry {
    pub path: PathBuf,
    pub head: Option<String>,
    /// The branch checked out, without `refs/heads/`.
    pub branch: Option<String>,
    /// `git worktree lock`'s reason (empty when none was given).
    pub locked: Option<String>,
    /// Why git considers the registration prunable (its directory or `.git` is gone).
    pub prunable: Option<String>,
}

/// The registered worktrees, the main one first.
pub(crate) fn worktrees(root: &Path) -> Result<Vec<Entry>> {
    let list = Git::new(root)
        .args(["worktree", "list", "--porcelain"])
        .run()?;
    let mut out = Vec::new();
    for block in list.split("\n\n") {
        let mut e = Entry {
            path: PathBuf::new(),
            head: None,
            branch: None,
            locked: None,
            prunable: None,
        };
        for l in block.lines() {
            if let Some(p) = l.strip_prefix("worktree ") {
                e.path = PathBuf::from(p);
            } else if let Some(h) = l.strip_prefix("HEAD ") {
                e.head = Some(h.to_string());
            } else if let Some(b) = l.strip_prefix("branch refs/heads/") {
                e.branch = Some(b.to_string());
            } else if l == "locked" || l.starts_with("locked ") {
                e.locked = Some(l["locked".len()..].trim().to_string());
            } else if l == "prunable" || l.starts_with("prunable ") {
                e.prunable = Some(l["prunable".len()..].trim().to_string());
            }
        }
        if !e.path.as_os_str().is_empty() {
            out.push(e);
        }
    }
    Ok(out)
}

/// The branch a run's work is merged into: the remote's default branch, else the current one.
pub(crate) fn default_base(root: &Path) -> String {
    let sym = |r: &str| {
        Git::new(root)
            .args(["symbolic-ref", "--quiet", "--short", r])
            .run()
            .ok()
            .filter(|s| !s.is_empty())
    };
    sym("refs/remotes/origin/HEAD")
        .or_else(|| sym("HEAD"))
        .unwrap_or_default()
}

/// The branches under `refs/heads/<prefix>`, with the commit each points at.
pub(crate) fn branches(root: &Path, prefix: &str) -> Result<Vec<(String, String)>> {
    let out = Git::new(root)
        .args([
            "for-each-ref",
            "--format=%(objectname) %(refname:short)",
            &format!("refs/heads/{prefix}"),
        ])
        .run()?;
    Ok(out
        .lines()
        .filter_map(|l| l.split_once(' '))
        .map(|(oid, name)| (name.to_string(), oid.to_string()))
        .collect())
}

/// The commit `refs/heads/<branch>` points at, if the branch exists.
pub(crate) fn branch_tip(root: &Path, branch: &str) -> Option<String> {
    Git::new(root)
        .args([
            "rev-parse",
            "--verify",
            "--quiet",
            &format!("refs/heads/{branch}^{{commit}}"),
        ])
        .run()
        .ok()
        .filter(|s| !s.is_empty())
}

/// Is `rev` an ancestor of (or equal to) `of`?
pub(crate) fn is_ancestor(root: &Path, rev: &str, of: &str) -> bool {
    Git::new(root)
        .args(["merge-base", "--is-ancestor", rev, of])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

/// Are the commits of `rev` safe elsewhere: merged into `base`, or on a remote-tracking
/// branch? Says where.
pub(crate) fn safe_elsewhere(root: &Path, rev: &str, base: &str) -> Option<String> {
    if !base.is_empty() && is_ancestor(root, rev, base) {
        return Some(format!("merged into {base}"));
    }
    let remotes = Git::new(root)
        .args([
            "branch",
            "-r",
            "--contains",
            rev,
            "--format=%(refname:short)",
        ])
        .run()
        .unwrap_or_default();
    remotes.lines().next().map(|r| format!("on {r}"))
}

/// Is `commit` reachable from some branch, remote-tracking branch or tag?
pub(crate) fn is_referenced(root: &Path, commit: &str) -> bool {
    Git::new(root)
        .args([
            "for-each-ref",
            "--count=1",
            "--format=%(refname)",
            "--contains",
            commit,
            "refs/heads",
            "refs/remotes",
            "refs/tags",
        ])
        .run()
        .is_ok_and(|o| !o.trim().is_empty())
}

/// `git worktree remove <path>`, never forced: git itself refuses a worktree with modified or
/// untracked files, so a file written since gc looked is never lost.
pub(crate) fn remove_worktree(root: &Path, path: &Path) -> Result<()> {
    Git::new(root)
        .args(["worktree", "remove"])
        .arg_path(path)
        .run()
        .map(|_| ())
}

/// Removes git's record of a worktree whose directory is gone (`git worktree remove` accepts
/// a missing directory; unlike `git worktree prune` it touches no other registration).
pub(crate) fn forget_worktree(root: &Path, path: &Path) -> Result<()> {
    if std::fs::symlink_metadata(path).is_ok() {
        return Err(Error::failure(format!(
            "{} still exists; git's record of it is kept",
            path.display()
        )));
    }
    remove_worktree(root, path)
}

/// Whether the only changes in the worktree at `path` are files gone from it (deleted, or not
/// checked out yet) and files git does not track: what an interrupted `git worktree remove`
/// or `git worktree add` leaves. A change staged in the index is never one of those.
pub(crate) fn only_missing_files(path: &Path) -> Result<bool> {
    let out = Git::new(path)
        .args(["status", "--porcelain", "-z", "--untracked-files=all"])
        .run()?;
    Ok(out.split('\0').filter(|r| r.len() > 3).all(|r| {
        r.as_bytes()[..2]
            .iter()
            .all(|c| matches!(c, b' ' | b'D' | b'?'))
    }))
}

/// `git worktree unlock <path>`.
pub(crate) fn unlock_worktree(root: &Path, path: &Path) -> Result<()> {
    Git::new(root)
        .args(["worktree", "unlock"])
        .arg_path(path)
        .run()
        .map(|_| ())
}

/// Deletes `refs/heads/<branch>` only if it still points at `expected` (git checks and deletes
/// in one step), then its `branch.<name>.*` settings (upstream), if any.
pub(crate) fn delete_branch(root: &Path, branch: &str, expected: &str) -> Result<()> {
    Git::new(root)
        .args([
            "update-ref",
            "-d",
            &format!("refs/heads/{branch}"),
            expected,
        ])
        .run()?;
    // No section is not an error worth reporting: a branch that was never pushed has none.
    let _ = Git::new(root)
        .args(["config", "--remove-section", &format!("branch.{branch}")])
        .output();
    Ok(())
}

/// Whether `branch.<branch>.*` settings exist.
pub(crate) fn has_branch_settings(root: &Path, branch: &str) -> bool {
    Git::new(root)
        .args([
            "config",
            "--get-regexp",
            &format!("^{}\\.", super::regex_literal(&format!("branch.{branch}"))),
        ])
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Removes the `branch.<branch>.*` settings.
pub(crate) fn remove_branch_settings(root: &Path, branch: &str) -> Result<()> {
    Git::new(root)
        .args(["config", "--remove-section", &format!("branch.{branch}")])
        .run()
        .map(|_| ())
}

/// The `.git` entry of a directory that was (or is) a linked worktree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum DotGit {
    /// There is none.
    Missing,
    /// A `.git` file pointing at a registration that points back here: a working worktree.
    Live,
    /// A small `.git` file of git's that leads nowhere (a removed or foreign registration) or
    /// cannot be read as one: what an interrupted removal leaves.
    Stale,
    /// Something that is not git's pointer file (a directory: a repository of its own; a
    /// symlink; a large file).
    Foreign(String),
}

/// The state of `<dir>/.git`.
pub(crate) fn dot_git(dir: &Path) -> DotGit {
    let p = dir.join(".git");
    let meta = match std::fs::symlink_metadata(&p) {
        Ok(m) => m,
        Err(_) => return DotGit::Missing,
    };
    if meta.is_dir() {
        return DotGit::Foreign(".git is a directory (a repository of its own)".into());
    }
    if !meta.is_file() || meta.len() > 4096 {
        return DotGit::Foreign(".git is not git's pointer file".into());
    }
    let Ok(text) = std::fs::read_to_string(&p) else {
        return DotGit::Stale;
    };
    let Some(target) = text.lines().find_map(|l| l.strip_prefix("gitdir:")) else {
        return DotGit::Stale;
    };
    let admin = absolute_from(dir, target.trim());
    let back = std::fs::read_to_string(admin.join("gitdir")).ok();
    let points_back = back.is_some_and(|b| {
        let b = absolute_from(&admin, b.trim());
        same_file(&b, &p)
    });
    if points_back {
        DotGit::Live
    } else {
        DotGit::Stale
    }
}

fn absolute_from(base: &Path, p: &str) -> PathBuf {
    let p = Path::new(p);
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        super::normalize(&base.join(p))
    }
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

/// The registration (`<common dir>/worktrees/<id>`) whose `gitdir` names `<path>/.git`.
pub(crate) fn admin_dir(common_dir: &Path, path: &Path) -> Option<PathBuf> {
    let entries = std::fs::read_dir(common_dir.join("worktrees")).ok()?;
    let want = super::normalize(&path.join(".git"));
    entries.flatten().map(|e| e.path()).find(|admin| {
        std::fs::read_to_string(admin.join("gitdir"))
            .is_ok_and(|g| super::normalize(Path::new(g.trim())) == want)
    })
}

/// Whether some process may still be creating the worktree at `path`: one working inside it
/// (the checkout `git worktree add` starts there) or naming it on its command line (`git
/// worktree add <path>`). Where there is no `/proc` to ask, a lock younger than an hour counts
/// as live.
pub(crate) fn creation_running(path: &Path, lock_file: Option<&Path>) -> bool {
    let Ok(procs) = std::fs::read_dir("/proc") else {
        let age = lock_file
            .and_then(|f| std::fs::metadata(f).ok())
            .and_then(|m| m.modified().ok())
            .and_then(|t| t.elapsed().ok());
        return age.is_none_or(|a| a < std::time::Duration::from_secs(3600));
    };
    let me = std::process::id().to_string();
    let want = super::normalize(path);
    for p in procs.flatten() {
        let name = p.file_name();
        let name = name.to_string_lossy();
        if name == me || !name.bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        let cwd = std::fs::read_link(p.path().join("cwd")).ok();
        if cwd.as_ref().is_some_and(|c| c.starts_with(&want)) {
            return true;
        }
        let Ok(cmdline) = std::fs::read(p.path().join("cmdline")) else {
            continue;
        };
        let names_it = cmdline
            .split(|b| *b == 0)
            .filter(|a| !a.is_empty())
            .any(|a| {
                let a = Path::new(std::ffi::OsStr::from_bytes(a));
                let full = match (&cwd, a.is_absolute()) {
                    (_, true) => a.to_path_buf(),
                    (Some(c), false) => c.join(a),
                    (None, false) => return false,
                };
                super::normalize(&full) == want
            });
        if names_it {
            return true;
        }
    }
    false
}

pub(crate) use super::leftovers::{Leftovers, leftovers, remove_leftovers};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn porcelain_entries_are_parsed() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let git = |args: &[&str]| {
            let ok = std::process::Command::new("git")
                .args(args)
                .current_dir(root)
                .env("GIT_CONFIG_NOSYSTEM", "1")
                .env("GIT_CONFIG_GLOBAL", "/dev/null")
                .output()
                .unwrap()
                .status
                .success();
            assert!(ok, "git {args:?}");
        };
        git(&["init", "-q", "-b", "main"]);
        std::fs::write(root.join("a"), "a\n").unwrap();
        git(&["add", "a"]);
        git(&[
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@e",
            "commit",
            "-q",
            "-m",
            "a",
        ]);
        let wt = root.join("wt");
        git(&[
            "worktree",
            "add",
            "-q",
            wt.to_str().unwrap(),
            "-b",
            "swarm/x",
        ]);
        git(&[
            "worktree",
            "lock",
            "--reason",
            "initializing",
            wt.to_str().unwrap(),
        ]);
        let list = worktrees(root).unwrap();
        assert_eq!(list.len(), 2);
        assert_eq!(list[1].branch.as_deref(), Some("swarm/x"));
        assert_eq!(list[1].locked.as_deref(), Some("initializing"));
        assert_eq!(dot_git(&wt), DotGit::Live);
        let head = list[1].head.clone().unwrap();
        assert_eq!(
            leftovers(root, &wt, std::slice::from_ref(&head)).unwrap(),
            Leftovers::Checkout(head.clone())
        );
        std::fs::write(wt.join("notes"), "mine").unwrap();
        assert!(matches!(
            leftovers(root, &wt, std::slice::from_ref(&head)).unwrap(),
            Leftovers::Foreign(p, _) if p == "notes"
        ));
        let kept = remove_leftovers(root, &wt, Some(&head)).unwrap();
        assert_eq!(kept.len(), 1, "{kept:?}");
        assert!(wt.join("notes").exists() && !wt.join("a").exists());
    }
}
