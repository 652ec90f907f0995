//! The names of a run folder's files: plain data the machine owns (the store reads and
//! writes them).

use std::path::PathBuf;

/// One run folder, `.swarm/runs/<id>/`, and the names of the files in it.
#[derive(Debug, Clone)]
pub struct RunDir {
    pub id: String,
    pub path: PathBuf,
}

impl RunDir {
    pub fn status_path(&self) -> PathBuf {
        self.path.join("run.status.json")
    }
    pub fn task_path(&self) -> PathBuf {
        self.path.join("task.md")
    }
    pub fn lock_path(&self) -> PathBuf {
        self.path.join(".lock")
    }
    pub fn events_path(&self) -> PathBuf {
        self.path.join("events.jsonl")
    }
    pub fn archive_dir(&self) -> PathBuf {
        self.path.join("archive")
    }
    pub fn result_path(&self, agent: &str) -> PathBuf {
        self.path.join(format!("{agent}.result.json"))
    }
    pub fn handoff_path(&self) -> PathBuf {
        self.path.join("handoff.json")
    }
    pub fn handoff_agent_path(&self, agent: &str) -> PathBuf {
        self.path.join(format!("handoff.{agent}.json"))
    }
    pub fn handoff_archive_path(&self, step: u32, agent: &str) -> PathBuf {
        self.path
            .join(format!("handoff.step-{step:04}.{agent}.json"))
    }
    /// Where a consumed result of `step` is moved to.
    pub fn consumed_path(&self, step: u32, file_stem: &str) -> PathBuf {
        self.archive_dir()
            .join(format!("step-{step:04}.{file_stem}.result.json"))
    }
    /// The context pack of an invocation (one per worker in a parallel batch).
    pub fn context_pack_path(&self, agent: &str, worker: Option<&str>) -> PathBuf {
        match worker {
            Some(w) => self.path.join(format!("context.{agent}.{w}.pack.md")),
            None => self.path.join("context.pack.md"),
        }
    }
    /// The log of an exec-mode invocation.
    pub fn log_path(&self, step: u32, stem: &str) -> PathBuf {
        self.path
            .join("logs")
            .join(format!("step-{step:04}.{stem}.log"))
    }
    pub fn manager_plan_path(&self) -> PathBuf {
        self.path.join("MANAGER_PLAN.md")
    }
    pub fn worktree_intent_path(&self) -> PathBuf {
        self.path.join("worktree.json")
    }
    pub fn mir_path(&self) -> PathBuf {
        self.path.join("manual-intervention-required.result.json")
    }
}
