//! The step machine: pure transitions of a run.
//!
//! `start`, `consume`, `reject`, `retry` and `abort` take the current status, the workflow
//! config and the facts the executor gathered (results read and validated, the clock, fresh
//! ids, what git looks like) and return the new status plus the effects to perform, in order.
//! No I/O, no clock and no git happen here, so every rule is unit-tested in microseconds and
//! every crash point can be reasoned about: the executor performs the effects, then appends the
//! events, then writes `run.status.json` last.

mod action;
pub mod batch;
pub(crate) mod budget;
mod consume;
mod control;
mod effect;
pub(crate) use effect::Effect;
pub(crate) mod event;
pub(crate) mod follow;
pub(crate) mod guard;
pub(crate) mod handoff;
mod issue;
pub(crate) mod layout;
mod merge_fix;
pub(crate) mod pack;
pub mod plan;
pub(crate) mod pr_state;
pub(crate) mod publish;
pub(crate) mod repo_path;
pub mod route;
pub(crate) mod sparse;
pub mod state;
pub(crate) mod text;
pub(crate) mod usage;
pub(crate) mod verify;

pub(crate) use action::{ActionKind, action_of};
pub(crate) use consume::consume;
pub(crate) use control::{
    Refusal, abort, after_merge, approve, fail_pending, forget_launches, merge_batch,
    record_launches, record_usage, reject, reject_at_gate, relaunch, relaunch_missing, retry,
};

#[cfg(test)]
mod tests;

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use crate::config::Workflow;
use crate::schema::Violation;
use event::Event;
use layout::RunDir;
use state::{Engine, Outcome, Phase, Resume, RunStatus, Task, Warning};

/// What a transition needs besides the status.
pub(crate) struct Ctx<'a> {
    pub cfg: &'a Workflow,
    pub run: &'a RunDir,
    pub workspace: &'a Path,
    pub standards_path: &'a Path,
    /// The current time, RFC 3339 UTC.
    pub now: String,
    /// Fresh UUIDs to hand out (handoff ids).
    pub ids: Vec<String>,
    /// What the run and its agents may spend (`policies.budget`).
    pub budget: budget::Budget,
    /// The gates a person must approve (`policies.approval`).
    pub gates: Gates,
    /// `policies.worktree.sparse`: `None` off, else the directories always included.
    pub sparse: Option<Vec<String>>,
}

/// `policies.approval`: where the run waits for a person.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Gates {
    pub plan: bool,
    pub publish: bool,
}

/// A free (or this run's own) place for the run's worktree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Slot {
    pub branch: String,
    pub path: String,
    /// The worktree already exists from an interrupted earlier attempt of this run.
    pub adopt: bool,
}

/// What the executor found out about the world.
#[derive(Debug, Clone)]
pub(crate) struct Facts {
    /// The standards gate: `Err` says what `.swarm/standards.md` lacks.
    pub standards: Result<(), String>,
    /// Where the worktree would go, probed when the transition may create it.
    pub worktree_slot: Option<Result<Slot, String>>,
    /// `(HEAD, content tree)` of each work location the transition may hand work to or judge
    /// (the run's worktree, the workspace root, workers' worktrees), by path. The content tree
    /// includes uncommitted and untracked files: what an agent would see.
    pub content: indexmap::IndexMap<String, (String, String)>,
    /// The tree of the run's base commit (a worktree created now starts with it).
    pub base_tree: Option<String>,
    /// `policies.fileAccess.deny` patterns.
    pub deny: Vec<String>,
    /// The text of `.swarm/standards.md` (for context packs).
    pub standards_text: String,
    /// At `start`: how many commits of the base are on no remote-tracking branch of the
    /// remote the run will push to, and that remote.
    pub base_unpushed: Option<(u32, String)>,
    /// For a complete batch about to be merged: each remaining worker's predicted merge, in
    /// order, up to the first that conflicts (`Err`: it could not be computed).
    pub merge_prediction: Option<Result<Vec<(String, Predicted)>, String>>,
    /// The files of the batch's conflict that still hold conflict markers.
    pub conflict_markers: Vec<String>,
}

/// What merging one worker's branch would do (`git merge-tree`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Predicted {
    /// The merge's tree (with conflict markers in conflicting files).
    pub tree: String,
    /// The conflicting files (empty: clean).
    pub conflicts: Vec<String>,
}

/// The warning of a run whose base commit is not on the remote (its pull request carries the
/// base's unpushed commits too).
pub(crate) const BASE_NOT_ON_REMOTE: &str = "base-not-on-remote";

impl Default for Facts {
    fn default() -> Self {
        Facts {
            standards: Ok(()),
            worktree_slot: None,
            content: Default::default(),
            base_tree: None,
            deny: Vec::new(),
            standards_text: String::new(),
            base_unpushed: None,
            merge_prediction: None,
            conflict_markers: Vec::new(),
        }
    }
}

/// A result file found for a pending invocation, read and validated by the executor.
#[derive(Debug, Clone)]
pub(crate) struct Arrival {
    /// Index into `swarm.pending`.
    pub slot: usize,
    /// Where the file is now (the run folder, or the archive when an earlier attempt of this
    /// transition already moved it).
    pub file: PathBuf,
    pub content: Result<Value, String>,
    pub violations: Vec<Violation>,
    /// For the planning agent: the plan it points at.
    pub plan: Option<Result<LoadedPlan, String>>,
    /// The paths changed in the invocation's work location since it was issued (`None` when
    /// there is no baseline to compare with).
    pub changed: Option<Vec<String>>,
    /// Paths that changed in the main workspace while an agent worked there (the planner):
    /// the user works there too, so they are reported, never judged as the agent's.
    pub unattributed: Vec<String>,
    /// What the agent reported spending (a `tokens` field in its result).
    pub usage: Option<crate::machine::usage::Usage>,
}

#[derive(Debug, Clone)]
pub(crate) struct LoadedPlan {
    pub path: String,
    pub value: Value,
    pub violations: Vec<Violation>,
    /// Problems found on disk (a file path leaving the repository through a symlink).
    pub problems: Vec<String>,
}

#[derive(Debug, Clone)]
pub(crate) struct Transition {
    pub status: RunStatus,
    pub effects: Vec<Effect>,
    pub events: Vec<Event>,
}

/// What to hand to which agent.
#[derive(Debug, Clone, Default)]
struct IssueSpec {
    to: String,
    from: Option<String>,
    feedback: Vec<String>,
    replan: bool,
    /// Keep this baseline for the guard rails (a step sent back keeps its original one).
    base_tree: Option<String>,
    attempt: u32,
}

/// Where and on what an invocation works.
#[derive(Debug, Clone)]
struct Target {
    worker: Option<String>,
    tasks: Vec<String>,
    cwd: String,
    branch: Option<String>,
    allowed: Vec<String>,
    base_tree: Option<String>,
    attempt: u32,
    /// How many workers are issued together with this one (itself included); 0 when it is
    /// not a parallel worker.
    peers: usize,
}

/// Appends the items of `from` that `into` does not hold yet, in order. Linear in both: a
/// result may list a hundred thousand changed files.
pub(crate) fn extend_unique(into: &mut Vec<String>, from: &[String]) {
    if from.is_empty() {
        return;
    }
    let mut seen: std::collections::HashSet<String> = into.iter().cloned().collect();
    for f in from {
        if seen.insert(f.clone()) {
            into.push(f.clone());
        }
    }
}

struct Builder<'c, 'a> {
    ctx: &'c mut Ctx<'a>,
    facts: &'c Facts,
    st: RunStatus,
    effects: Vec<Effect>,
    events: Vec<Event>,
}

impl<'c, 'a> Builder<'c, 'a> {
    fn new(ctx: &'c mut Ctx<'a>, facts: &'c Facts, mut st: RunStatus) -> Self {
        st.swarm.seq += 1;
        st.updated_at = ctx.now.clone();
        Builder {
            ctx,
            facts,
            st,
            effects: Vec::new(),
            events: Vec::new(),
        }
    }

    fn ev(
        &mut self,
        signal: &str,
        agent: Option<&str>,
        step: Option<u32>,
        message: impl Into<String>,
    ) {
        self.ev_worker(signal, agent, None, step, message);
    }

    fn ev_worker(
        &mut self,
        signal: &str,
        agent: Option<&str>,
        worker: Option<&str>,
        step: Option<u32>,
        message: impl Into<String>,
    ) {
        self.events.push(Event {
            seq: self.st.swarm.seq,
            at: self.ctx.now.clone(),
            signal: signal.to_string(),
            agent: agent.map(str::to_string),
            worker: worker.map(str::to_string),
            step,
            message: message.into(),
        });
    }

    fn id(&mut self) -> String {
        self.ctx
            .ids
            .pop()
            .expect("the executor supplies enough ids for one transition")
    }

    fn warn(&mut self, reason: &str, message: String) {
        self.st.warnings.push(Warning {
            reason: reason.to_string(),
            message,
            tool: None,
            command: None,
            output: None,
            remediation: None,
            at: self.ctx.now.clone(),
        });
    }

    fn done(self) -> Transition {
        Transition {
            status: self.st,
            effects: self.effects,
            events: self.events,
        }
    }

    fn run_cmd(&self, cmd: &str) -> String {
        format!("git swarm {cmd} --run {}", self.st.run_id)
    }

    /// Ends the run's progress with `outcome` (failed or an escalation).
    fn stop(
        &mut self,
        outcome: Outcome,
        agent: &str,
        reason: String,
        resume: Option<Resume>,
        keep_pending: bool,
    ) {
        let advice = match outcome {
            Outcome::Failed => "fix the cause".to_string(),
            Outcome::NeedsHuman => "a person must decide: resolve the problem above".to_string(),
            Outcome::DowngradeScope => {
                "reduce the scope of the task (partial work is kept)".to_string()
            }
            Outcome::ManualInterventionRequired => format!(
                "see {} for what is needed",
                self.ctx.run.mir_path().display()
            ),
            _ => String::new(),
        };
        let action_note = self
            .ctx
            .cfg
            .escalation_actions
            .get(outcome.as_str())
            .filter(|s| !s.is_empty())
            .map(|s| format!(" ({s})"))
            .unwrap_or_default();
        self.st.outcome = outcome;
        self.st.failure_reason = Some(reason.clone());
        self.st.swarm.resume = resume;
        self.st.swarm.advice = Some(advice.clone());
        if !keep_pending {
            self.st.swarm.pending.clear();
        }
        self.st.swarm.phase = Phase::Finished;
        let step = self.st.swarm.step;
        if outcome == Outcome::Failed {
            self.ev("FAILED", Some(agent), Some(step), reason.clone());
        } else {
            self.ev(
                "ESCALATED",
                Some(agent),
                Some(step),
                format!("{}: {reason}{action_note}", outcome.as_str()),
            );
        }
        if outcome == Outcome::ManualInterventionRequired {
            // The document's format (manual-intervention.schema.json) carries the command
            // that resumes the run.
            let retry = self.run_cmd("retry");
            let mut doc = json!({
                "schemaVersion": "1.0",
                "runId": self.st.run_id,
                "outcome": outcome.as_str(),
                "step": step,
                "agent": agent,
                "reason": reason,
                "createdAt": self.ctx.now,
                "resume": retry,
                "nextStep": format!("{advice}, then run '{retry}'"),
            });
            if let Some(b) = &self.st.branch {
                doc["branch"] = json!(b);
            }
            if let Some(w) = &self.st.worktree_path {
                doc["worktreePath"] = json!(w);
            }
            if let Some(r) = self.st.swarm.results.get(agent) {
                doc["lastResult"] = json!(r);
            }
            doc["lastHandoff"] = json!(self.ctx.run.handoff_path().display().to_string());
            self.effects.push(Effect::WriteJson {
                path: self.ctx.run.mir_path(),
                value: doc,
            });
        }
    }
}

/// A new run: its first status, and the first invocation unless the standards gate stops it.
#[allow(clippy::too_many_arguments)]
/// A run's status before anything happened.
fn new_status(
    run_id: &str,
    now: &str,
    workspace: &Path,
    config: &Path,
    task: Task,
    base_commit: &str,
) -> RunStatus {
    RunStatus {
        run_id: run_id.to_string(),
        current_step: String::new(),
        outcome: Outcome::InProgress,
        created_at: now.to_string(),
        updated_at: now.to_string(),
        step_timestamps: Default::default(),
        retry_counts: Default::default(),
        failure_reason: None,
        branch: None,
        worktree_path: None,
        pr_url: None,
        warnings: Vec::new(),
        step_tokens: Default::default(),
        swarm: Engine {
            version: 1,
            seq: 0,
            step: 0,
            workspace: workspace.display().to_string(),
            config: config.display().to_string(),
            task,
            base_commit: base_commit.to_string(),
            start_branch: None,
            phase: Phase::Awaiting,
            passes: Default::default(),
            pending: Vec::new(),
            plan: None,
            verification: None,
            follow: None,
            conflicted: Vec::new(),
            sparse: None,
            resume: None,
            results: Default::default(),
            notes: Default::default(),
            files_changed: Vec::new(),
            advice: None,
            approval: None,
            plan_approved: false,
            publish_approved: false,
            done_tasks: Vec::new(),
            batch: None,
            finished_workers: Vec::new(),
            workers: 0,
            tested: None,
            publish: None,
            cost_usd: Default::default(),
            token_split: Default::default(),
        },
        counters: Default::default(),
    }
}

/// The status of a run that has not started, for showing what its agents would be given
/// (`git swarm doctor`).
pub(crate) fn sample_status(run_id: &str, workspace: &Path, config: &Path) -> RunStatus {
    new_status(
        run_id,
        "1970-01-01T00:00:00Z",
        workspace,
        config,
        Task {
            text: "<task>".into(),
            file: None,
        },
        "",
    )
}

pub(crate) fn start(
    ctx: &mut Ctx,
    facts: &Facts,
    run_id: &str,
    task: Task,
    base_commit: &str,
    start_branch: Option<String>,
) -> Transition {
    let first = ctx.cfg.first_step().name.clone();
    let mut st = new_status(
        run_id,
        &ctx.now,
        ctx.workspace,
        &ctx.cfg.path,
        task,
        base_commit,
    );
    st.current_step = first.clone();
    st.swarm.start_branch = start_branch;
    let mut b = Builder::new(ctx, facts, st);
    let mut counters = Vec::new();
    for l in &b.ctx.cfg.loop_control {
        counters.push(l.count_field.clone());
    }
    if b.ctx.cfg.planning.enabled {
        counters.push(b.ctx.cfg.planning.replan_count_field.clone());
    }
    for c in counters {
        b.st.counters.entry(c).or_insert(0);
    }
    let task_line =
        b.st.swarm
            .task
            .text
            .lines()
            .next()
            .unwrap_or_default()
            .to_string();
    b.ev("RUN_STARTED", None, None, task_line);
    if let Some((n, remote)) = &facts.base_unpushed {
        let branch = b.st.swarm.start_branch.clone();
        let message = format!(
            "your branch has {n} commit{} not on {remote}; the pull request will include them",
            if *n == 1 { "" } else { "s" }
        );
        b.ev(
            "WARNING",
            None,
            None,
            format!("{BASE_NOT_ON_REMOTE}: {message}"),
        );
        b.st.warnings.push(Warning {
            reason: BASE_NOT_ON_REMOTE.to_string(),
            message,
            tool: None,
            command: None,
            output: None,
            remediation: Some(match branch {
                Some(br) => format!(
                    "if they belong in the pull request, nothing; otherwise push them first ('git push {remote} {br}') or abort this run and start again from a commit that is on {remote}"
                ),
                None => format!(
                    "if they belong in the pull request, nothing; otherwise abort this run and start again from a commit that is on {remote}"
                ),
            }),
            at: b.ctx.now.clone(),
        });
    }
    match facts.standards.clone() {
        Err(why) => {
            b.stop(
                Outcome::NeedsHuman,
                &first,
                why,
                Some(Resume::StandardsGate),
                false,
            );
            b.st.swarm.advice = Some(format!(
                "write actionable rules in {}",
                b.ctx.standards_path.display()
            ));
        }
        Ok(()) => b.issue(IssueSpec {
            to: first,
            ..IssueSpec::default()
        }),
    }
    b.done()
}
