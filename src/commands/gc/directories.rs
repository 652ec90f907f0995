//! Judging leftovers: directories where a worktree was, files an interrupted removal left,
//! and whose they are.

use super::*;

impl Gc<'_> {
    /// A directory left by an interrupted removal (or creation): it goes only when it holds
    /// nothing, or nothing but files identical to a commit that stays reachable.
    pub(super) fn judge_leftovers(
        &self,
        p: &Path,
        commits: &[String],
        entry: Option<&Entry>,
        what: &str,
    ) -> Verdict {
        let step = |commit: Option<String>| Step::RemoveDir {
            path: p.to_path_buf(),
            commit,
            entry: entry.cloned(),
        };
        match gc_ops::leftovers(&self.root, p, commits) {
            Ok(Leftovers::Nothing) => act(
                Action::Finish,
                format!("{what}, and it holds no file; the directory goes"),
                step(None),
            ),
            Ok(Leftovers::Checkout(c)) if gc_ops::is_referenced(&self.root, &c) => act(
                Action::Finish,
                format!(
                    "{what}, and every file left is identical to commit {}; the directory goes",
                    short(&c)
                ),
                step(Some(c)),
            ),
            Ok(Leftovers::Checkout(c)) => keep(format!(
                "{what}, but its commit {} is on no branch; create one ('git branch <name> {c}') or delete the directory yourself",
                short(&c)
            )),
            Ok(Leftovers::Foreign(f, why)) => keep(format!(
                "{what}, but {f} {why}: move what you need out of {}, then delete it{}",
                p.display(),
                if entry.is_some() {
                    " and run 'git worktree prune'"
                } else {
                    ""
                }
            )),
            Err(e) => keep(format!("{what}, but it could not be read: {}", e.message)),
        }
    }

    /// Directories runs recorded as worktrees that git no longer knows.
    pub(super) fn directories(&mut self) -> Result<()> {
        let registered: Vec<PathBuf> = gc_ops::worktrees(&self.root)?
            .into_iter()
            .map(|e| e.path)
            .collect();
        let mut seen: HashSet<PathBuf> = HashSet::new();
        let recorded: Vec<PathBuf> = self.runs.iter().flat_map(|r| r.paths.clone()).collect();
        for p in recorded {
            if !seen.insert(p.clone())
                || registered.contains(&p)
                || std::fs::symlink_metadata(&p).is_err()
            {
                continue;
            }
            let target = p.display().to_string();
            let claimers = self.claimers(Some(&p), None);
            let v = match self.gate(&claimers) {
                Err(why) => keep(self.orphan_hint(why, &claimers)),
                Ok(()) => self.judge_directory(&p, &claimers),
            };
            if self.record("directory", &target, v) {
                self.gone.insert(p);
            }
        }
        Ok(())
    }

    /// A run in progress whose worktree git no longer knows cannot go on in it: most likely
    /// an `abort` died while it removed it.
    fn orphan_hint(&self, why: String, claimers: &[usize]) -> String {
        let running = claimers
            .iter()
            .map(|&i| &self.runs[i])
            .find(|r| matches!(&r.state, State::Status(s) if s.outcome.is_in_progress()));
        match running {
            Some(r) => format!(
                "{why}; git no longer knows this worktree: if the run was being aborted, run 'git swarm abort --run {}' again, then 'git swarm gc --apply' finishes it",
                r.run.id
            ),
            None => why,
        }
    }

    fn judge_directory(&self, p: &Path, claimers: &[usize]) -> Verdict {
        if !std::fs::symlink_metadata(p).is_ok_and(|m| m.is_dir()) {
            return keep("not a directory; git swarm did not make it");
        }
        if let Err(e) = place::confine(&self.root, p, place::Source::Status) {
            return keep(format!(
                "outside the places git swarm puts worktrees ({}); not touched",
                e.message
            ));
        }
        let mut commits = self.recorded_commits(claimers);
        commits.sort();
        commits.dedup();
        match gc_ops::dot_git(p) {
            DotGit::Live => {
                keep("its .git leads to a registered worktree; see 'git worktree list'")
            }
            DotGit::Foreign(why) => keep(format!("{why}; it is not git swarm's to remove")),
            DotGit::Missing | DotGit::Stale => self.judge_leftovers(
                p,
                &commits,
                None,
                "half-removed: git no longer knows this worktree",
            ),
        }
    }

    /// The commits a run's worktrees were checked out at: its base and its branches' tips.
    pub(super) fn recorded_commits(&self, claimers: &[usize]) -> Vec<String> {
        let mut out = Vec::new();
        for &i in claimers {
            let r = &self.runs[i];
            out.extend(r.bases.iter().cloned());
            out.extend(
                r.branches
                    .iter()
                    .filter_map(|b| gc_ops::branch_tip(&self.root, b)),
            );
        }
        out
    }
}
