//! `run.status.json`: the single source of truth of a run. The seed's fields are kept with
//! their exact names; the tool's own bookkeeping lives under the `swarm` key.

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum Outcome {
    InProgress,
    Completed,
    Failed,
    Canceled,
    NeedsHuman,
    DowngradeScope,
    ManualInterventionRequired,
}

impl From<crate::config::Escalation> for Outcome {
    fn from(e: crate::config::Escalation) -> Outcome {
        match e {
            crate::config::Escalation::NeedsHuman => Outcome::NeedsHuman,
            crate::config::Escalation::DowngradeScope => Outcome::DowngradeScope,
            crate::config::Escalation::ManualInterventionRequired => {
                Outcome::ManualInterventionRequired
            }
        }
    }
}

impl Outcome {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Outcome::InProgress => "in-progress",
            Outcome::Completed => "completed",
            Outcome::Failed => "failed",
            Outcome::Canceled => "canceled",
            Outcome::NeedsHuman => "needs-human",
            Outcome::DowngradeScope => "downgrade-scope",
            Outcome::ManualInterventionRequired => "manual-intervention-required",
        }
    }

    pub(crate) fn is_in_progress(self) -> bool {
        self == Outcome::InProgress
    }

    pub(crate) fn is_escalation(self) -> bool {
        matches!(
            self,
            Outcome::NeedsHuman | Outcome::DowngradeScope | Outcome::ManualInterventionRequired
        )
    }
}

/// A non-fatal problem recorded on the run (publish issues, ignored stale results, …).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Warning {
    pub reason: String,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remediation: Option<String>,
    pub at: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct RunStatus {
    #[serde(rename = "run-id")]
    pub run_id: String,
    #[serde(rename = "current-step")]
    pub current_step: String,
    pub outcome: Outcome,
    #[serde(rename = "created-at")]
    pub created_at: String,
    #[serde(rename = "updated-at")]
    pub updated_at: String,
    #[serde(rename = "step-timestamps", default)]
    pub step_timestamps: IndexMap<String, String>,
    #[serde(rename = "retry-counts", default)]
    pub retry_counts: IndexMap<String, u32>,
    #[serde(
        rename = "failure-reason",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub failure_reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub branch: Option<String>,
    #[serde(
        rename = "worktreePath",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub worktree_path: Option<String>,
    #[serde(rename = "prUrl", default, skip_serializing_if = "Option::is_none")]
    pub pr_url: Option<String>,
    #[serde(default)]
    pub warnings: Vec<Warning>,
    #[serde(
        rename = "step-tokens",
        default,
        skip_serializing_if = "IndexMap::is_empty"
    )]
    pub step_tokens: IndexMap<String, u64>,
    /// The tool's own bookkeeping.
    pub swarm: Engine,
    /// Loop-control and replan counters; their names come from the workflow config
    /// (`review-fix-loop-count`, `plan-replan-count`, …), so they are top-level keys.
    #[serde(flatten)]
    pub counters: IndexMap<String, u32>,
}

/// Where the run stands, beyond `outcome`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum Phase {
    /// Waiting for the results of `pending`.
    Awaiting,
    /// The last agent succeeded; `git swarm publish` is next.
    Publish,
    /// Nothing more will happen (see `outcome`).
    Finished,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Engine {
    pub version: u32,
    /// Number of committed transitions; tags events so a replayed transition logs once.
    pub seq: u64,
    /// The last step number handed out (every invocation gets the next one).
    pub step: u32,
    pub workspace: String,
    /// The workflow config this run uses (a run keeps the config it started with).
    pub config: String,
    pub task: Task,
    pub base_commit: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_branch: Option<String>,
    pub phase: Phase,
    /// Passes of each agent (a later parallel batch is not a new pass; a re-issue is); the next
    /// handoff's `iteration`.
    #[serde(default)]
    pub passes: IndexMap<String, u32>,
    /// The invocations whose results are awaited.
    #[serde(default)]
    pub pending: Vec<Invocation>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan: Option<PlanSummary>,
    /// What `git swarm retry` re-issues when the run failed or escalated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resume: Option<Resume>,
    /// Archive path of the latest consumed result of each agent.
    #[serde(default)]
    pub results: IndexMap<String, String>,
    /// The summary and changed files of the latest result of each agent, for the handoffs
    /// that follow it.
    #[serde(default)]
    pub notes: IndexMap<String, StepNote>,
    /// Every file an editing agent reported changing, in order of first report.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub files_changed: Vec<String>,
    /// Plan tasks whose work is merged into the run's branch (parallel runs).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub done_tasks: Vec<String>,
    /// The batch of parallel workers in flight.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch: Option<Batch>,
    /// Workers of finished batches (their notes make the merged result).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub finished_workers: Vec<Worker>,
    /// Workers handed out so far (worker ids are w1, w2, … over the whole run).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub workers: u32,
    /// What a person should fix when the run stopped, in words. It names no command: the
    /// command line words what to run next from the outcome and `resume`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub advice: Option<String>,
    /// The approval the run waits for (`policies.approval`), and the work that follows it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approval: Option<Approval>,
    /// The current plan was approved (a new plan needs approving again).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub plan_approved: bool,
    /// Publishing was approved.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub publish_approved: bool,
    /// Publication state (filled by `publish`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tested: Option<Tested>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub publish: Option<PublishState>,
    /// The verification gate's last run (publishing).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verification: Option<crate::machine::verify::Verification>,
    /// The follow phase after publishing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub follow: Option<crate::machine::follow::FollowState>,
    /// Pairs of plan tasks whose workers' merge conflicted: later batches keep them apart.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conflicted: Vec<[String; 2]>,
    /// The cone of the run's sparse worktree (`policies.worktree.sparse`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sparse: Option<Vec<String>>,
    /// Dollars each agent reported spending (beside `step-tokens`), when its CLI reports cost.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub cost_usd: IndexMap<String, f64>,
    /// The parts of each agent's `step-tokens` (input, output, cache reads and writes), where
    /// the reports named them.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub token_split: IndexMap<String, crate::machine::usage::Split>,
}

/// Where the pull request of a run stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum PrState {
    /// Not tried yet (`""` in runs written before the state was typed).
    #[default]
    #[serde(alias = "")]
    None,
    /// A tool was started; a crash here makes the outcome unknown (looked up before trying
    /// again).
    Attempting,
    Created,
    Failed,
    /// Not wanted (`pr.submitMethod: manual`, `pr.createOnSuccess: false`).
    Skipped,
}

/// How far `git swarm publish` got; every step it finished is skipped when it runs again.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PublishState {
    pub remote: String,
    pub base: String,
    /// The commit publish made of leftover changes, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    /// The commit that was pushed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pushed: Option<String>,
    #[serde(default)]
    pub pr: PrState,
    #[serde(default)]
    pub worktree_removed: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Task {
    pub text: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
}

/// One awaited agent invocation — exactly what the action contract returns for it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Invocation {
    pub agent: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub worker: Option<String>,
    pub step: u32,
    pub iteration: u32,
    /// The agent whose result this invocation follows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub handoff_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub handoff: Option<String>,
    pub result: String,
    pub cwd: String,
    pub prompt: String,
    pub issued_at: String,
    /// Task ids this invocation covers (parallel workers).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tasks: Vec<String>,
    /// The files this invocation may change.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allowed_files: Vec<String>,
    /// The content of `cwd` when the invocation was issued (a tree id, uncommitted changes
    /// included): the guard rails compare the content after the step with it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_tree: Option<String>,
    /// How many times this invocation was sent back (guard-rail violations, exec relaunches).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub attempt: u32,
    /// The agent's CLI reported what it spent (exec mode), so a `tokens` field in its result
    /// is not counted again.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub usage_reported: bool,
    /// A merge-fix pass: it resolves the conflicts of the batch's `conflict`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub merge_fix: bool,
    /// The agent process exec mode launched for it (so a resumed `run` finds it alive
    /// instead of launching a second one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub process: Option<AgentProcess>,
}

/// An agent process launched by `git swarm run`: enough to recognise it later (a pid can be
/// reused; its start time and the invocation key in its environment cannot).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct AgentProcess {
    /// Its pid, which is also its process group.
    pub pid: u32,
    /// Its start time in clock ticks after boot (`/proc/<pid>/stat`, field 22).
    pub start_ticks: u64,
    pub launched_at: String,
    /// Its log, and where this launch's output starts in it.
    pub log: String,
    pub log_start: u64,
}

impl Invocation {
    /// `agent`, or `agent.worker` for a parallel worker: names its result and handoff files.
    pub(crate) fn stem(&self) -> String {
        match &self.worker {
            Some(w) => format!("{}.{w}", self.agent),
            None => self.agent.clone(),
        }
    }

    /// `agent`, or `agent[worker]`: names it in timestamps and messages.
    pub(crate) fn who(&self) -> String {
        match &self.worker {
            Some(w) => format!("{}[{w}]", self.agent),
            None => self.agent.clone(),
        }
    }
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// A batch of parallel workers (one task each), each in its own worktree on its own branch,
/// merged into the run's branch when all of them are done.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Batch {
    pub agent: String,
    pub step: u32,
    /// The agent whose result started the fan-out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    pub workers: Vec<Worker>,
    /// Every worker's result was accepted; the branches are to be merged.
    #[serde(default)]
    pub complete: bool,
    /// The workers' branches were merged into the run's branch.
    #[serde(default)]
    pub merged: bool,
    /// Workers whose branches are merged already (a batch merged around a conflict).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub merged_workers: Vec<String>,
    /// The worker whose merge conflicted, and the pass that resolves it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conflict: Option<Conflict>,
}

/// A worker's merge that conflicts: started in the run's worktree with its conflicts left in
/// the files, for a merge-fix pass of the editing agent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Conflict {
    pub worker: String,
    pub files: Vec<String>,
    /// The merge's predicted tree, conflict markers included (the pass's baseline).
    pub tree: String,
    /// The merge-fix pass's result was accepted; the merge is concluded next.
    #[serde(default)]
    pub resolved: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Worker {
    pub worker: String,
    pub tasks: Vec<String>,
    pub branch: String,
    pub path: String,
    /// Set once its result was accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<StepNote>,
    /// What it changed (from the guard-rail diff), for the merge check.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub changed: Vec<String>,
}

/// What the run keeps of an accepted plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct PlanSummary {
    pub id: String,
    pub path: String,
    pub friendly_name: String,
    pub goal: String,
    #[serde(default)]
    pub description: String,
    /// Every file the plan names (tasks and touch-maps), the implementor's `allowedFiles`.
    #[serde(default)]
    pub files: Vec<String>,
    #[serde(default)]
    pub tasks: Vec<PlanTask>,
    #[serde(default)]
    pub test_commands: Vec<String>,
    #[serde(default)]
    pub acceptance: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct PlanTask {
    pub id: String,
    pub description: String,
    #[serde(default)]
    pub files: Vec<String>,
    #[serde(default)]
    pub dependencies: Vec<String>,
    #[serde(default)]
    pub lane: usize,
}

/// The part of an agent's result that later handoffs carry forward.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub(crate) struct StepNote {
    #[serde(default)]
    pub summary: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub files_changed: Vec<String>,
    /// Things the next agent must address (review issues, schema violations, feedback).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub feedback: Vec<String>,
}

/// What `retry` re-issues.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub(crate) enum Resume {
    /// The standards gate stopped the run before its first agent.
    StandardsGate,
    /// Hand to `to` (from `from`), optionally counting a loop on `loop_field`.
    Issue {
        to: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        from: Option<String>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        feedback: Vec<String>,
        #[serde(rename = "loopField", default, skip_serializing_if = "Option::is_none")]
        loop_field: Option<String>,
        #[serde(rename = "replan", default, skip_serializing_if = "std::ops::Not::not")]
        replan: bool,
    },
    /// The tester passed but publishing failed (push), re-run `publish`.
    Publish,
    /// The follow phase stopped for a person: `git swarm follow` goes on.
    Follow,
    /// A parallel batch stopped: re-issue its workers that have no accepted result.
    Batch,
}

/// What a person is asked to approve.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum GateKind {
    /// The accepted plan, before any work on it.
    Plan,
    /// The tested work, before it is pushed.
    Publish,
}

/// A gate the run waits at.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Approval {
    pub gate: GateKind,
    /// The work handed out once approved (the plan gate's hand-off).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub then: Option<Resume>,
}

/// The content the tester passed on (filled when the last agent succeeds).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Tested {
    pub tree: String,
    pub head: String,
    pub at: String,
}

impl RunStatus {
    pub(crate) fn counter(&self, field: &str) -> u32 {
        self.counters.get(field).copied().unwrap_or(0)
    }

    pub(crate) fn bump_counter(&mut self, field: &str) {
        *self.counters.entry(field.to_string()).or_insert(0) += 1;
    }

    pub(crate) fn bump_retry(&mut self, agent: &str) {
        *self.retry_counts.entry(agent.to_string()).or_insert(0) += 1;
    }

    /// `<agent>.started` for the first pass, `<agent>#<n>.started` for later passes, so every
    /// pass keeps its own timestamps.
    pub(crate) fn timestamp_key(agent: &str, pass: u32, what: &str) -> String {
        if pass <= 1 {
            format!("{agent}.{what}")
        } else {
            format!("{agent}#{pass}.{what}")
        }
    }
}
