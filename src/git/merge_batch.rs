//! A parallel batch's merges made as objects, then one checkout: each worker branch is merged
//! into the result so far with `git merge-tree --write-tree` and `git commit-tree` (the same
//! parents, tree and message `git merge` would make), and the run's worktree is moved to the
//! last commit once — `git read-tree -m -u` (a two-way checkout: only the files the batch
//! changed are written) and `git update-ref` of its branch against the old commit. Three
//! merges cost one checkout instead of three, and nothing touches the worktree until every
//! merge is known to be clean.

use std::collections::HashSet;
use std::path::Path;

use super::Git;
use crate::error::{Error, Result};

/// Merges `merges` (`(branch, message)`, in order) into the worktree at `dir`. `Ok(false)`: one
/// of them does not merge cleanly, and nothing was changed (the caller merges one by one).
/// `cut_short`: an earlier call was killed during its checkout; the changes in `dir` are that
/// checkout's own, which is checked file by file before they are overwritten.
pub(crate) fn merge_all(dir: &Path, merges: &[(String, String)], cut_short: bool) -> Result<bool> {
    let head = super::resolve(dir, "HEAD")?;
    let mut result = head.clone();
    for (branch, message) in merges {
        if super::ops::is_ancestor(dir, branch, &result)? {
            continue;
        }
        let p = super::merge_tree::predict(dir, &result, branch)?;
        if !p.conflicts.is_empty() {
            return Ok(false);
        }
        result = super::merge_tree::commit_with(dir, &p.tree, &[&result, branch], message)?;
    }
    if result == head {
        return Ok(true);
    }
    crate::failpoint!("merge-batch-before-checkout");
    if cut_short {
        check_own_changes(dir, &head, &result, "git swarm's merge of the batch")?;
        Git::new(dir)
            .args(["read-tree", "--reset", "-u", &result])
            .run()?;
    } else {
        Git::new(dir)
            .args(["read-tree", "-m", "-u", &head, &result])
            .run()?;
    }
    crate::failpoint!("merge-batch-after-checkout");
    let names: Vec<&str> = merges.iter().map(|(b, _)| b.as_str()).collect();
    Git::new(dir)
        .args([
            "update-ref",
            "-m",
            &format!("merge {} (git swarm)", names.join(", ")),
            "HEAD",
            &result,
            &head,
        ])
        .run()?;
    Ok(true)
}

/// Undoes a `git merge` of `branch` into the worktree at `dir` that was killed before it wrote
/// `MERGE_HEAD`: it may have written some of the merge's files (conflict markers included) and
/// its index, never moved `HEAD`. Every change there must be one that merge writes — checked
/// file by file against the merge's own result, `git merge-tree` of `HEAD` and `branch`, which
/// is byte for byte what `git merge` writes — and is put back as `HEAD` has it; anything else
/// stops the command naming the file, and nothing is overwritten. Returns the files put back.
pub(crate) fn undo_cut_short(dir: &Path, branch: &str) -> Result<Vec<String>> {
    let head = super::resolve(dir, "HEAD")?;
    let result = super::merge_tree::predict(dir, "HEAD", branch)?.tree;
    let what = format!("git swarm's merge of {branch}");
    let changed = check_own_changes(dir, &head, &result, &what)?;
    if changed.is_empty() {
        return Ok(changed);
    }
    Git::new(dir)
        .args(["read-tree", "--reset", "-u", &head])
        .run()?;
    // A file the merge added is untracked again if its index was never written: checked above
    // to hold the merge's content, it goes.
    let tracked: HashSet<String> = super::nul_separated(
        &Git::new(dir)
            .args([
                "ls-tree",
                "-r",
                "-z",
                "--name-only",
                "--full-tree",
                &head,
                "--",
            ])
            .args(changed.iter().map(String::as_str))
            .run()?,
    )
    .into_iter()
    .collect();
    for p in changed.iter().filter(|p| !tracked.contains(*p)) {
        let path = dir.join(p);
        if std::fs::symlink_metadata(&path).is_ok_and(|m| m.is_file()) {
            std::fs::remove_file(&path).map_err(|e| Error::io("remove", &path, e))?;
        }
    }
    Ok(changed)
}

/// After a checkout from `head` to `result` was cut short: every change in the worktree must
/// be to a file the checkout writes, holding that file's content at `head` or at `result` (or
/// absent) — what the killed checkout can have left. Anything else is someone's, and stops.
/// Returns the changed files.
pub(crate) fn check_own_changes(
    dir: &Path,
    head: &str,
    result: &str,
    what: &str,
) -> Result<Vec<String>> {
    let touched: HashSet<String> = super::diff_paths(dir, head, result)?.into_iter().collect();
    let mut changed = Vec::new();
    for (xy, path) in super::clean::status_entries(dir, "-uall")? {
        if touched.contains(&path) {
            changed.push(path);
        } else if xy != "??" {
            return Err(foreign(dir, &path, what));
        }
    }
    if changed.is_empty() {
        return Ok(changed);
    }
    let blobs = |rev: &str| -> Result<Vec<(String, String)>> {
        let out = Git::new(dir)
            .args(["ls-tree", "-z", "--full-tree", rev, "--"])
            .args(changed.iter().map(String::as_str))
            .run()?;
        Ok(super::nul_separated(&out)
            .into_iter()
            .filter_map(|rec| {
                let (meta, path) = rec.split_once('\t')?;
                Some((
                    path.to_string(),
                    meta.split_whitespace().nth(2)?.to_string(),
                ))
            })
            .collect())
    };
    let known: HashSet<(String, String)> = blobs(head)?.into_iter().chain(blobs(result)?).collect();
    let present: Vec<&String> = changed
        .iter()
        .filter(|p| std::fs::symlink_metadata(dir.join(p)).is_ok())
        .collect();
    if let Some(link) = present.iter().find(|p| dir.join(p).is_symlink()) {
        return Err(foreign(dir, link, what));
    }
    let mut input = String::new();
    for p in &present {
        input.push_str(p);
        input.push('\n');
    }
    let ids = Git::new(dir)
        .args(["hash-object", "--stdin-paths"])
        .input(input.into_bytes())
        .run()?;
    for (p, id) in present.iter().zip(ids.lines()) {
        if !known.contains(&((*p).clone(), id.trim().to_string())) {
            return Err(foreign(dir, p, what));
        }
    }
    Ok(changed)
}

fn foreign(dir: &Path, path: &str, what: &str) -> Error {
    Error::failure(format!(
        "{} was changed in {} while {what} there was cut short; it is not the merge's, so it is left as it is",
        path,
        dir.display()
    ))
    .hint(format!(
        "commit or remove that change in {} (the merge's own half-written files may be reset with 'git reset --hard'), then run the command again",
        dir.display()
    ))
}
