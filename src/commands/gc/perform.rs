//! Doing what gc decided: each step re-checked right before it happens, against the run
//! folders as they are then and against git's state.

use std::path::{Path, PathBuf};

use super::runs::{State, real, scan};
use super::{Gc, TRASH_PREFIX};
use crate::git::gc_ops::{self, Entry};

/// What gc does for an item, once decided and re-checked.
pub(super) enum Step {
    /// `git worktree unlock`: a stale `initializing` lock.
    Unlock(Entry),
    /// `git worktree remove` of a clean worktree on the commit that was judged.
    RemoveWorktree(Entry),
    /// Remove git's record of a worktree whose directory is gone.
    Forget(Entry),
    /// Remove a half-removed worktree's directory, file by file as each is judged again
    /// (`commit`: the commit its files are identical to; `None`: it held none), then git's
    /// record of it if it has one.
    RemoveDir {
        path: PathBuf,
        commit: Option<String>,
        entry: Option<Entry>,
    },
    DeleteBranch {
        name: String,
        oid: String,
    },
    RemoveRunFolder(usize),
    RemoveTrash(PathBuf),
}

impl Gc<'_> {
    /// Does `step`, recorded before it starts (`super::journal`) so that a gc killed during it
    /// is finished by the next.
    pub(super) fn journaled(
        &self,
        kind: &str,
        target: &str,
        step: &Step,
    ) -> std::result::Result<(), String> {
        let runs = &self.session.swarm.runs;
        let branch = match step {
            Step::DeleteBranch { name, .. } => Some(name.as_str()),
            _ => None,
        };
        super::journal::begin(runs, &format!("{kind} {target}"), branch)
            .map_err(|e| format!("could not record the step first: {}", e.full_message()))?;
        let out = self.perform(step);
        super::journal::end(runs);
        out
    }

    /// Re-checks what `step` was decided on, then does it.
    pub(super) fn perform(&self, step: &Step) -> std::result::Result<(), String> {
        let changed = |what: &str| format!("changed while gc ran ({what}); left as it is");
        let fresh = |path: &Path| -> std::result::Result<Option<Entry>, String> {
            gc_ops::worktrees(&self.root)
                .map(|l| l.into_iter().find(|e| e.path == path))
                .map_err(|e| e.message)
        };
        let same_registration = |e: &Entry| -> std::result::Result<(), String> {
            match fresh(&e.path)? {
                Some(now) if now.head == e.head && now.branch == e.branch => Ok(()),
                _ => Err(changed("its registration or commit is not the one judged")),
            }
        };
        let failed = |e: crate::error::Error| format!("could not be removed: {}", e.full_message());
        match step {
            Step::Unlock(e) => {
                self.recheck_claims(Some(&e.path), e.branch.as_deref())?;
                same_registration(e)?;
                gc_ops::unlock_worktree(&self.root, &e.path).map_err(failed)
            }
            Step::RemoveWorktree(e) => {
                self.recheck_claims(Some(&e.path), e.branch.as_deref())?;
                same_registration(e)?;
                gc_ops::remove_worktree(&self.root, &e.path).map_err(failed)
            }
            Step::Forget(e) => {
                self.recheck_claims(Some(&e.path), e.branch.as_deref())?;
                same_registration(e)?;
                gc_ops::forget_worktree(&self.root, &e.path).map_err(failed)
            }
            Step::RemoveDir {
                path,
                commit,
                entry,
            } => {
                self.recheck_claims(Some(path), entry.as_ref().and_then(|e| e.branch.as_deref()))?;
                match entry {
                    Some(e) => same_registration(e)?,
                    None if fresh(path)?.is_some() => {
                        return Err(changed("git registered a worktree there"));
                    }
                    None => {}
                }
                let kept = gc_ops::remove_leftovers(&self.root, path, commit.as_deref())
                    .map_err(failed)?;
                if !kept.is_empty() {
                    return Err(format!(
                        "not all of it could be removed: {} stayed (not identical to the commit); move what you need, then delete it",
                        kept.join(", ")
                    ));
                }
                match entry {
                    Some(e) => gc_ops::forget_worktree(&self.root, &e.path).map_err(failed),
                    None => Ok(()),
                }
            }
            Step::DeleteBranch { name, oid } => {
                self.recheck_claims(None, Some(name))?;
                let out = gc_ops::worktrees(&self.root).map_err(|e| e.message)?;
                if out.iter().any(|e| e.branch.as_deref() == Some(name)) {
                    return Err(changed("it is checked out in a worktree"));
                }
                if gc_ops::branch_tip(&self.root, name).as_deref() != Some(oid.as_str()) {
                    return Err(changed("it no longer points at the commit judged"));
                }
                // git deletes it only if it still points there.
                gc_ops::delete_branch(&self.root, name, oid).map_err(failed)
            }
            Step::RemoveRunFolder(i) => {
                let r = &self.runs[*i];
                // gc holds the run's lock: its status is as read under it.
                if let Some(p) = r
                    .paths
                    .iter()
                    .find(|p| std::fs::symlink_metadata(p).is_ok())
                {
                    return Err(changed(&format!("its worktree {} is there", p.display())));
                }
                let trash = self
                    .session
                    .swarm
                    .runs
                    .join(format!("{TRASH_PREFIX}{}", r.run.id));
                // Renamed first: an interrupted removal leaves trash that the next gc finishes,
                // never a run folder without half its files.
                std::fs::rename(&r.run.path, &trash)
                    .map_err(|e| failed(crate::error::Error::io("rename", &r.run.path, e)))?;
                let _ = self.session.swarm.set_active(&r.run.id, false);
                std::fs::remove_dir_all(&trash)
                    .map_err(|e| failed(crate::error::Error::io("remove", &trash, e)))
            }
            Step::RemoveTrash(p) => std::fs::remove_dir_all(p)
                .map_err(|e| failed(crate::error::Error::io("remove", p, e))),
        }
    }

    /// Right before a removal: the run folders as they are now. Whatever records `path` or
    /// `branch` must be a run gc cleared under its lock (and still holds).
    fn recheck_claims(
        &self,
        path: Option<&Path>,
        branch: Option<&str>,
    ) -> std::result::Result<(), String> {
        let path = path.map(real);
        for r in scan(&self.session.swarm) {
            if let State::Unreadable(e) = &r.state {
                return Err(format!(
                    "the status of run {} cannot be read now ({e}); left as it is",
                    r.run.id
                ));
            }
            if r.claims(path.as_deref(), branch)
                && !matches!(self.cleared.get(&r.run.id), Some(Ok(())))
            {
                return Err(format!(
                    "run {} uses it now (it appeared while gc ran); left as it is",
                    r.run.id
                ));
            }
        }
        Ok(())
    }
}
