//! The names of a run folder's files: plain data the machine owns (the store reads and
//! writes them).

use std::path::PathBuf;

/// One run folder, `.swarm/runs/<id>/`, and the names of the files in it.
#[derive(Debug, Clone)]
pub(crate) struct RunDir {
    pub id: String,
    pub path: PathBuf,
}

impl RunDir {
    pub(crate) fn status_path(&self) -> PathBuf {
        self.path.join("run.status.json")
    }
    pub(crate) fn task_path(&self) -> PathBuf {
        self.path.join("task.md")
    }
    pub(crate) fn lock_path(&self) -> PathBuf {
        self.path.join(".lock")
    }
    pub(crate) fn events_path(&self) -> PathBuf {
        self.path.join("events.jsonl")
    }
    pub(crate) fn archive_dir(&self) -> PathBuf {
        self.path.join("archive")
    }
    pub(crate) fn result_path(&self, agent: &str) -> PathBuf {
        self.path.join(format!("{agent}.result.json"))
    }
    pub(crate) fn handoff_path(&self) -> PathBuf {
        self.path.join("handoff.json")
    }
    pub(crate) fn handoff_agent_path(&self, agent: &str) -> PathBuf {
        self.path.join(format!("handoff.{agent}.json"))
    }
    pub(crate) fn handoff_archive_path(&self, step: u32, agent: &str) -> PathBuf {
        self.path
            .join(format!("handoff.step-{step:04}.{agent}.json"))
    }
    /// Where a consumed result of `step` is moved to.
    pub(crate) fn consumed_path(&self, step: u32, file_stem: &str) -> PathBuf {
        self.archive_dir()
            .join(format!("step-{step:04}.{file_stem}.result.json"))
    }
    /// The context pack of an invocation (one per worker in a parallel batch).
    pub(crate) fn context_pack_path(&self, agent: &str, worker: Option<&str>) -> PathBuf {
        match worker {
            Some(w) => self.path.join(format!("context.{agent}.{w}.pack.md")),
            None => self.path.join("context.pack.md"),
        }
    }
    /// The log of an exec-mode invocation.
    pub(crate) fn log_path(&self, step: u32, stem: &str) -> PathBuf {
        self.path
            .join("logs")
            .join(format!("step-{step:04}.{stem}.log"))
    }
    pub(crate) fn manager_plan_path(&self) -> PathBuf {
        self.path.join("MANAGER_PLAN.md")
    }
    pub(crate) fn worktree_intent_path(&self) -> PathBuf {
        self.path.join("worktree.json")
    }
    pub(crate) fn mir_path(&self) -> PathBuf {
        self.path.join("manual-intervention-required.result.json")
    }
}
