//! `git.json` in a run folder: what the run owns in git and the git operation it is in the
//! middle of. Both are recorded *before* git acts, so after any interruption — the tool killed,
//! its git child killed with it — the next call knows which worktrees and branches are its own
//! (and never touches one it did not record) and that an operation of its own was cut short
//! (so git's lock files it left behind are the run's to remove).

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::RunDir;
use crate::error::{Error, Result};
use crate::files::atomic;

/// Where a worktree the run created stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Stage {
    /// Recorded; `git worktree add` may not have finished.
    Creating,
    /// Created completely.
    Created,
    /// Its removal was decided; it may be half-removed.
    Removing,
    /// Gone.
    Removed,
}

/// A worktree (and its branch) that the run created.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Owned {
    pub path: String,
    pub branch: String,
    /// The parallel worker it belongs to (`None`: the run's own worktree).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub worker: Option<String>,
    /// What it was created from.
    pub base: String,
    pub stage: Stage,
}

/// A git operation in flight.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Op {
    /// What it does, for people (`worktree add /x on swarm/y`).
    pub what: String,
    /// The git swarm process that started it.
    pub pid: u32,
    pub at: String,
}

/// A spare worktree: made on a detached HEAD while the planner works, so that the run's
/// worktree and its workers' are ready when the plan is accepted (`crate::driver::spares`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Spare {
    pub path: String,
    /// The commit it was checked out at.
    pub commit: String,
    /// `Creating` (git may not have finished) or `Created`.
    pub stage: Stage,
    /// Being made into the worktree at this path (moved there, then put on its branch): set
    /// before git starts, cleared with the spare's record once the worktree is complete.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub into: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Ledger {
    #[serde(default)]
    pub owned: Vec<Owned>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub spares: Vec<Spare>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub op: Option<Op>,
}

impl Ledger {
    /// The record of the worktree at `path` on `branch`, if the run created it.
    pub fn find(&self, path: &str, branch: &str) -> Option<&Owned> {
        self.owned
            .iter()
            .find(|o| same_path(&o.path, path) && o.branch == branch)
    }

    /// Records (or updates) a worktree's stage.
    pub fn set(&mut self, o: Owned) {
        match self
            .owned
            .iter_mut()
            .find(|x| same_path(&x.path, &o.path) && x.branch == o.branch)
        {
            Some(x) => *x = o,
            None => self.owned.push(o),
        }
    }

    /// The stage of the worktree at `path`, if the run owns one there.
    pub fn stage_of(&self, path: &str) -> Option<Stage> {
        self.owned
            .iter()
            .find(|o| same_path(&o.path, path))
            .map(|o| o.stage)
    }

    /// Marks the worktree at `path` with `stage`, if the run owns it.
    pub fn mark(&mut self, path: &str, stage: Stage) {
        for o in self.owned.iter_mut().filter(|o| same_path(&o.path, path)) {
            o.stage = stage;
        }
    }
}

fn same_path(a: &str, b: &str) -> bool {
    Path::new(a) == Path::new(b)
}

impl RunDir {
    pub fn ledger_path(&self) -> std::path::PathBuf {
        self.path.join("git.json")
    }

    /// The run's ledger (empty when the run has none yet).
    pub fn ledger(&self) -> Result<Ledger> {
        let p = self.ledger_path();
        if !p.exists() {
            return Ok(Ledger::default());
        }
        let v = crate::files::read_json(&p)?;
        serde_json::from_value(v).map_err(|e| {
            Error::failure(format!("{} is not a valid git ledger: {e}", p.display())).hint(
                "the file is written only by git swarm; restore it, or abort the run with 'git swarm abort'",
            )
        })
    }

    pub fn save_ledger(&self, l: &Ledger) -> Result<()> {
        atomic::write_json(&self.ledger_path(), l)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_survive_a_round_trip_and_are_found_by_place_and_branch() {
        let dir = tempfile::tempdir().unwrap();
        let run = RunDir {
            id: "r".into(),
            path: dir.path().to_path_buf(),
        };
        assert_eq!(run.ledger().unwrap(), Ledger::default());
        let mut l = Ledger::default();
        l.set(Owned {
            path: "/w-swarm-x".into(),
            branch: "swarm/x".into(),
            worker: None,
            base: "abc".into(),
            stage: Stage::Creating,
        });
        l.op = Some(Op {
            what: "worktree add".into(),
            pid: 1,
            at: "t".into(),
        });
        run.save_ledger(&l).unwrap();
        let mut back = run.ledger().unwrap();
        assert_eq!(back, l);
        back.mark("/w-swarm-x/", Stage::Created);
        assert_eq!(
            back.find("/w-swarm-x", "swarm/x").unwrap().stage,
            Stage::Created
        );
        assert!(back.find("/w-swarm-x", "swarm/y").is_none());
    }
}
