//! Merges predicted without touching a worktree (`git merge-tree --write-tree`), and the merge
//! a conflict-fixing pass works in: started with its conflicts left in the worktree, then
//! concluded once they are resolved.

use std::path::Path;

use super::Git;
use crate::error::Result;

/// What merging one branch into the accumulated result would do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Predicted {
    /// The merge's tree: clean, or with conflict markers in the conflicting files.
    pub tree: String,
    /// The files that conflict (empty: a clean merge).
    pub conflicts: Vec<String>,
}

/// A commit of `tree` with `parents` (objects only: no ref, index or worktree changes), to
/// stand for content that is not committed yet.
pub(crate) fn commit_of(dir: &Path, tree: &str, parents: &[&str]) -> Result<String> {
    commit_with(dir, tree, parents, "git swarm: predicted merge")
}

/// A commit of `tree` with `parents` and `message`, made as objects only.
pub(crate) fn commit_with(
    dir: &Path,
    tree: &str,
    parents: &[&str],
    message: &str,
) -> Result<String> {
    let mut args = vec!["commit-tree".to_string(), tree.to_string()];
    for p in parents {
        args.push("-p".to_string());
        args.push(p.to_string());
    }
    args.push("-m".to_string());
    args.push(message.to_string());
    Ok(Git::new(dir).args(args).run()?.trim().to_string())
}

/// Predicts merging `theirs` into `ours` (both commits).
pub(crate) fn predict(dir: &Path, ours: &str, theirs: &str) -> Result<Predicted> {
    let g = Git::new(dir).args([
        "merge-tree",
        "--write-tree",
        "--name-only",
        "--no-messages",
        "-z",
        ours,
        theirs,
    ]);
    let out = g.output()?;
    // 0: clean; 1: conflicts; anything else: the merge could not be computed.
    match out.status.code() {
        Some(0) | Some(1) => {}
        _ => return Err(g.failed(&out)),
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let mut parts = text.split('\0').filter(|s| !s.is_empty());
    let tree = parts.next().unwrap_or_default().trim().to_string();
    let mut conflicts: Vec<String> = parts.map(str::to_string).collect();
    conflicts.dedup();
    Ok(Predicted { tree, conflicts })
}

/// Starts merging `branch` into the worktree at `dir`, leaving any conflicts in the files (with
/// markers) for someone to resolve. Returns the files that conflict (empty: it merged cleanly
/// and is committed).
pub(crate) fn merge_leaving_conflicts(
    dir: &Path,
    branch: &str,
    message: &str,
) -> Result<Vec<String>> {
    let g = Git::new(dir).args(["merge", "--no-edit", "-q", "-m", message, branch]);
    let out = g.output()?;
    crate::failpoint!("merge-conflict-after");
    if out.status.success() {
        return Ok(Vec::new());
    }
    let unmerged = unmerged_paths(dir)?;
    if unmerged.is_empty() {
        // Failed for another reason (a hook, an untracked file in the way): nothing started.
        return Err(g.failed(&out));
    }
    Ok(unmerged)
}

/// The paths with unmerged entries in the index of `dir`.
pub(crate) fn unmerged_paths(dir: &Path) -> Result<Vec<String>> {
    let out = Git::new(dir)
        .args(["diff", "--name-only", "--diff-filter=U", "-z"])
        .run()?;
    Ok(super::nul_separated(&out))
}

/// Concludes the merge in progress in `dir` with what its files hold now (the resolution),
/// using the merge's own message. Nothing in progress: nothing to do.
pub(crate) fn conclude(dir: &Path) -> Result<bool> {
    if !super::ops::merge_in_progress(dir) {
        return Ok(false);
    }
    Git::new(dir).args(["add", "-A"]).run()?;
    crate::failpoint!("merge-conclude-before");
    Git::new(dir).args(["commit", "--no-edit", "-q"]).run()?;
    Ok(true)
}

/// The files of `paths` in `dir` that still hold conflict markers (a line starting with
/// `<<<<<<< ` or `>>>>>>> `).
pub(crate) fn with_markers(dir: &Path, paths: &[String]) -> Vec<String> {
    paths
        .iter()
        .filter(|p| {
            // Regular files only (never a FIFO or a symlink's target); one that cannot be read
            // is no resolution either.
            let Ok(text) = crate::files::safe::read_regular(&dir.join(p), Some(64 << 20)) else {
                return !dir.join(p).is_symlink();
            };
            String::from_utf8_lossy(&text)
                .lines()
                .any(|l| l.starts_with("<<<<<<< ") || l.starts_with(">>>>>>> "))
        })
        .cloned()
        .collect()
}
