//! Commits, merges, pushes and branch deletions at the level of intent, each safe to run again
//! after an interruption: done work is recognised and skipped, a merge a killed git left half
//! made is undone before it is made again.

use std::path::{Path, PathBuf};

use super::{Git, read_gitfile};
use crate::error::Result;

/// The git dir of the work tree at `dir` (its admin folder for a linked worktree).
pub(crate) fn git_dir(dir: &Path) -> Option<PathBuf> {
    let dotgit = dir.join(".git");
    if dotgit.is_dir() {
        Some(dotgit)
    } else {
        read_gitfile(&dotgit).ok()
    }
}

/// The common git dir of the work tree at `dir` (where refs live): its git dir, or the one
/// a linked worktree's `commondir` names.
pub(crate) fn common_dir(dir: &Path) -> Option<PathBuf> {
    let g = git_dir(dir)?;
    match std::fs::read_to_string(g.join("commondir")) {
        Ok(c) => Some(g.join(c.trim())),
        Err(_) => Some(g),
    }
}

/// Commits everything in `dir` that is not committed (checked in-process; git only runs when
/// there is something); `true` when it committed.
pub(crate) fn commit_all(dir: &Path, message: &str) -> Result<bool> {
    let dirty = !super::clean::dirt(&super::open(dir)?, true)?.is_empty();
    if dirty {
        Git::new(dir).args(["add", "-A"]).run()?;
        Git::new(dir).args(["commit", "-q", "-m", message]).run()?;
    }
    Ok(dirty)
}

/// Commits everything in `dir` with the message in `message_file` (text git would mangle on a
/// command line stays intact).
pub(crate) fn commit_all_from_file(dir: &Path, message_file: &Path) -> Result<()> {
    Git::new(dir).args(["add", "-A"]).run()?;
    Git::new(dir)
        .args(["commit", "-q", "-F"])
        .arg_path(message_file)
        .run()?;
    Ok(())
}

/// Commits `files` of the work tree at `dir` (and nothing else staged before).
pub(crate) fn commit_files(dir: &Path, files: &[&str], message: &str) -> Result<()> {
    Git::new(dir).args(["add", "--"]).args(files).run()?;
    Git::new(dir).args(["commit", "-q", "-m", message]).run()?;
    Ok(())
}

/// What a push answered.
pub(crate) struct Pushed {
    pub ok: bool,
    /// The command as run, for messages.
    pub shown: String,
    pub stderr: String,
}

/// Pushes `branch` from `cwd` to `remote`, setting its upstream. A refusal is an answer
/// (`ok: false` with git's words), not an error; only failing to run git is.
pub(crate) fn push(cwd: &Path, remote: &str, branch: &str) -> Result<Pushed> {
    let push = Git::new(cwd).args(["push", "-u", remote, branch]);
    let shown = push.display();
    let out = push.output()?;
    Ok(Pushed {
        ok: out.status.success(),
        shown,
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    })
}

/// Is `a` an ancestor of (or equal to) `b`, as seen from `dir`?
pub(crate) fn is_ancestor(dir: &Path, a: &str, b: &str) -> Result<bool> {
    Ok(Git::new(dir)
        .args(["merge-base", "--is-ancestor", a, b])
        .output()?
        .status
        .success())
}

/// Is a merge in progress in `dir` (`MERGE_HEAD` present)?
pub(crate) fn merge_in_progress(dir: &Path) -> bool {
    git_dir(dir).is_some_and(|g| g.join("MERGE_HEAD").exists())
}

/// Undoes a merge in progress in `dir` (one a killed git left half made).
pub(crate) fn merge_abort(dir: &Path) -> Result<()> {
    if Git::new(dir).args(["merge", "--abort"]).run().is_err() {
        Git::new(dir).args(["reset", "--merge"]).run()?;
    }
    Ok(())
}

/// Merges `branch` into the work tree at `dir` with `message`, unless it is merged already.
pub(crate) fn merge(dir: &Path, branch: &str, message: &str) -> Result<()> {
    if is_ancestor(dir, branch, "HEAD")? {
        return Ok(());
    }
    crate::failpoint!("merge-before");
    Git::new(dir)
        .args(["merge", "--no-edit", "-q", "-m", message, branch])
        .run()?;
    crate::failpoint!("merge-after");
    Ok(())
}

/// Deletes `branch` (already gone: nothing to do).
pub(crate) fn delete_branch(root: &Path, branch: &str) -> Result<()> {
    let exists = Git::new(root)
        .args([
            "rev-parse",
            "--verify",
            "-q",
            &format!("refs/heads/{branch}"),
        ])
        .output()?
        .status
        .success();
    if exists {
        Git::new(root).args(["branch", "-D", "-q", branch]).run()?;
    }
    Ok(())
}
