//! The step machine: pure transitions of a run.
//!
//! `start`, `consume`, `reject`, `retry` and `abort` take the current status, the workflow
//! config and the facts the executor gathered (results read and validated, the clock, fresh
//! ids, what git looks like) and return the new status plus the effects to perform, in order.
//! No I/O, no clock and no git happen here, so every rule is unit-tested in microseconds and
//! every crash point can be reasoned about: the executor performs the effects, then appends the
//! events, then writes `run.status.json` last.

pub mod handoff;
pub mod plan;
pub mod route;
pub mod state;

#[cfg(test)]
mod tests;

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use crate::config::{InputType, Workflow};
use crate::schema::Violation;
use crate::store::RunDir;
use crate::store::events::Event;
use route::Route;
use state::{Engine, Invocation, Outcome, Phase, Resume, RunStatus, StepNote, Task, Warning};

/// What a transition needs besides the status.
pub struct Ctx<'a> {
    pub cfg: &'a Workflow,
    pub run: &'a RunDir,
    pub workspace: &'a Path,
    pub standards_path: &'a Path,
    /// The current time, RFC 3339 UTC.
    pub now: String,
    /// Fresh UUIDs to hand out (handoff ids).
    pub ids: Vec<String>,
}

/// A free (or this run's own) place for the run's worktree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Slot {
    pub branch: String,
    pub path: String,
    /// The worktree already exists from an interrupted earlier attempt of this run.
    pub adopt: bool,
}

/// What the executor found out about the world.
#[derive(Debug, Clone)]
pub struct Facts {
    /// The standards gate: `Err` says what `.swarm/standards.md` lacks.
    pub standards: Result<(), String>,
    /// Where the worktree would go, probed when the transition may create it.
    pub worktree_slot: Option<Result<Slot, String>>,
    /// `HEAD` of the run's worktree, when it exists.
    pub worktree_head: Option<String>,
    /// `(HEAD, tree of the worktree's content including uncommitted changes)`, computed when
    /// the last agent's result arrives: what the tester passed on.
    pub worktree_content: Option<(String, String)>,
}

impl Default for Facts {
    fn default() -> Self {
        Facts {
            standards: Ok(()),
            worktree_slot: None,
            worktree_head: None,
            worktree_content: None,
        }
    }
}

/// A result file found for a pending invocation, read and validated by the executor.
#[derive(Debug, Clone)]
pub struct Arrival {
    /// Index into `swarm.pending`.
    pub slot: usize,
    /// Where the file is now (the run folder, or the archive when an earlier attempt of this
    /// transition already moved it).
    pub file: PathBuf,
    pub content: Result<Value, String>,
    pub violations: Vec<Violation>,
    /// For the planning agent: the plan it points at.
    pub plan: Option<Result<LoadedPlan, String>>,
}

#[derive(Debug, Clone)]
pub struct LoadedPlan {
    pub path: String,
    pub value: Value,
    pub violations: Vec<Violation>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// Consume a result: move it into the archive.
    Move {
        from: PathBuf,
        to: PathBuf,
    },
    /// Move a leftover result out of the way before a new invocation, if there is one.
    Sweep {
        from: PathBuf,
        to: PathBuf,
    },
    Copy {
        from: PathBuf,
        to: PathBuf,
    },
    CreateWorktree {
        branch: String,
        path: String,
        base: String,
        adopt: bool,
    },
    RemoveWorktree {
        path: String,
    },
    WriteJson {
        path: PathBuf,
        value: Value,
    },
}

#[derive(Debug, Clone)]
pub struct Transition {
    pub status: RunStatus,
    pub effects: Vec<Effect>,
    pub events: Vec<Event>,
}

/// What to hand to which agent.
#[derive(Debug, Clone)]
struct IssueSpec {
    to: String,
    from: Option<String>,
    feedback: Vec<String>,
    replan: bool,
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
        self.events.push(Event {
            seq: self.st.swarm.seq,
            at: self.ctx.now.clone(),
            signal: signal.to_string(),
            agent: agent.map(str::to_string),
            worker: None,
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
        let retry = self.run_cmd("retry");
        let hint = match outcome {
            Outcome::Failed => {
                format!("fix the cause, then run '{retry}' to re-open the run at {agent}")
            }
            Outcome::NeedsHuman => {
                format!("a person must decide: resolve the problem above, then run '{retry}'")
            }
            Outcome::DowngradeScope => format!(
                "reduce the scope of the task (partial work is kept), then run '{retry}' or start a smaller run"
            ),
            Outcome::ManualInterventionRequired => format!(
                "see {} for what is needed, then run '{retry}'",
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
        self.st.swarm.hint = Some(hint.clone());
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
            let mut doc = json!({
                "schemaVersion": "1.0",
                "runId": self.st.run_id,
                "outcome": outcome.as_str(),
                "step": step,
                "agent": agent,
                "reason": reason,
                "createdAt": self.ctx.now,
                "resume": retry,
                "nextStep": hint,
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

    /// Creates the run's worktree if this is the moment (branching on, none yet, and the agent
    /// works on the code). Returns false when the run had to stop instead.
    fn ensure_worktree(&mut self, to: &str) -> bool {
        let cfg = self.ctx.cfg;
        let first = cfg.agent(to).is_some_and(|a| a.first_step);
        if !cfg.branching || first || self.st.worktree_path.is_some() {
            return true;
        }
        match self.facts.worktree_slot.clone() {
            Some(Ok(slot)) => {
                self.effects.push(Effect::CreateWorktree {
                    branch: slot.branch.clone(),
                    path: slot.path.clone(),
                    base: self.st.swarm.base_commit.clone(),
                    adopt: slot.adopt,
                });
                self.ev(
                    "WORKTREE_CREATED",
                    None,
                    None,
                    format!("{} on branch {}", slot.path, slot.branch),
                );
                self.st.branch = Some(slot.branch);
                self.st.worktree_path = Some(slot.path);
                true
            }
            other => {
                let why = match other {
                    Some(Err(why)) => why,
                    _ => "no place for the run's worktree was determined".to_string(),
                };
                self.stop(
                    Outcome::ManualInterventionRequired,
                    to,
                    format!("cannot create the run's worktree: {why}"),
                    Some(Resume::Issue {
                        to: to.to_string(),
                        from: None,
                        feedback: Vec::new(),
                        loop_field: None,
                        replan: false,
                    }),
                    false,
                );
                false
            }
        }
    }

    /// Hands the run to `spec.to`: new step, handoff files, pending invocation.
    fn issue(&mut self, spec: IssueSpec) {
        let cfg = self.ctx.cfg;
        let Some(agent) = cfg.agent(&spec.to).cloned() else {
            let to = spec.to.clone();
            self.stop(
                Outcome::ManualInterventionRequired,
                &to,
                format!(
                    "agent '{to}' is not in the workflow config {}",
                    cfg.path.display()
                ),
                None,
                false,
            );
            return;
        };
        if !self.ensure_worktree(&agent.name) {
            return;
        }
        let to = agent.name.clone();
        self.st.swarm.step += 1;
        let step = self.st.swarm.step;
        let pass = {
            let p = self.st.swarm.passes.entry(to.clone()).or_insert(0);
            *p += 1;
            *p
        };
        let run = self.ctx.run;
        let workspace = self.ctx.workspace.display().to_string();
        let cwd = if agent.first_step && agent.input_type == InputType::UserTask {
            workspace.clone()
        } else {
            self.st.worktree_path.clone().unwrap_or(workspace.clone())
        };
        let result = run.result_path(&to);
        self.effects.push(Effect::Sweep {
            from: result.clone(),
            to: run
                .archive_dir()
                .join(format!("step-{step:04}.{to}.stale.json")),
        });
        let result_s = result.display().to_string();
        let run_dir = run.path.display().to_string();
        let feedback = spec.feedback.clone();
        let allowed: Vec<String> = if agent.edits {
            match &self.st.swarm.plan {
                Some(p) => p.files.clone(),
                None => vec!["**".to_string()],
            }
        } else {
            Vec::new()
        };
        let mut handoff_id = None;
        let mut handoff_path = None;
        if agent.input_type == InputType::Handoff {
            let hid = self.id();
            let note = spec
                .from
                .as_ref()
                .and_then(|f| self.st.swarm.notes.get(f))
                .cloned()
                .unwrap_or_default();
            let plan = self.st.swarm.plan.clone();
            let standards = self.ctx.standards_path.display().to_string();
            let schema = agent.schema_path.path.display().to_string();
            let input = handoff::input_text(&handoff::InputParts {
                from: spec.from.as_deref(),
                from_summary: &note.summary,
                feedback: &feedback,
                goal: plan.as_ref().map(|p| p.goal.as_str()),
                plan_path: plan.as_ref().map(|p| p.path.as_str()),
                task: &self.st.swarm.task.text,
                cwd: &cwd,
                branch: self.st.branch.as_deref(),
                edits: agent.edits,
                test_commands: plan
                    .as_ref()
                    .map(|p| p.test_commands.as_slice())
                    .unwrap_or(&[]),
                standards: &standards,
                result_path: &result_s,
                schema_path: &schema,
                description: &agent.description,
            });
            let commit = self
                .facts
                .worktree_head
                .clone()
                .filter(|_| self.st.worktree_path.is_some())
                .or_else(|| Some(self.st.swarm.base_commit.clone()));
            let files_changed = self.st.swarm.files_changed.clone();
            let doc = handoff::document(
                &self.st,
                &hid,
                &to,
                step,
                pass,
                input,
                &allowed,
                &feedback,
                &note.summary,
                &files_changed,
                commit.as_deref(),
                &standards,
                &result_s,
            );
            for path in [
                run.handoff_archive_path(step, &to),
                run.handoff_agent_path(&to),
                run.handoff_path(),
            ] {
                self.effects.push(Effect::WriteJson {
                    path,
                    value: doc.clone(),
                });
            }
            handoff_path = Some(run.handoff_path().display().to_string());
            handoff_id = Some(hid);
        }
        let prompt = handoff::prompt(
            &self.st,
            &handoff::Brief {
                agent: &agent,
                run_id: &self.st.run_id,
                run_dir: &run_dir,
                result_path: &result_s,
                handoff_path: handoff_path.as_deref(),
                cwd: &cwd,
                plans: cfg.plans(&to),
                feedback: &feedback,
                replan: spec.replan,
            },
        );
        self.st.swarm.pending = vec![Invocation {
            agent: to.clone(),
            worker: None,
            step,
            iteration: pass,
            from: spec.from.clone(),
            handoff_id,
            handoff: handoff_path,
            result: result_s,
            cwd,
            prompt,
            issued_at: self.ctx.now.clone(),
            tasks: Vec::new(),
            allowed_files: allowed,
        }];
        self.st.current_step = to.clone();
        self.st.swarm.phase = Phase::Awaiting;
        self.st.swarm.hint = None;
        let key = RunStatus::timestamp_key(&to, pass, "started");
        self.st.step_timestamps.insert(key, self.ctx.now.clone());
        let what = if spec.replan {
            "re-plan"
        } else if pass > 1 {
            "again"
        } else {
            "first pass"
        };
        self.ev(
            "WORKER_ASSIGNED",
            Some(&to),
            Some(step),
            format!("{to}: step {step}, iteration {pass} ({what})"),
        );
    }

    /// Sends the plan back to the planner, or escalates when the replan budget is spent.
    fn replan_or_escalate(&mut self, agent: &str, problems: Vec<String>) {
        let cfg = self.ctx.cfg;
        let field = cfg.planning.replan_count_field.clone();
        let step = self.st.swarm.step;
        self.ev(
            "PLAN_REJECTED",
            Some(agent),
            Some(step),
            problems.join("; "),
        );
        let count = self.st.counter(&field);
        if count >= cfg.max_replans {
            self.stop(
                cfg.replan_escalation,
                agent,
                format!(
                    "the plan was rejected and no re-plan is left ({field} {count} of {}): {}",
                    cfg.max_replans,
                    problems.join("; ")
                ),
                Some(Resume::Issue {
                    to: agent.to_string(),
                    from: None,
                    feedback: problems,
                    loop_field: None,
                    replan: true,
                }),
                false,
            );
        } else {
            self.st.bump_counter(&field);
            self.issue(IssueSpec {
                to: agent.to_string(),
                from: None,
                feedback: problems,
                replan: true,
            });
        }
    }

    /// Moves a consumed result into the archive and stamps the step as completed.
    fn consume_file(&mut self, inv: &Invocation, file: &Path) {
        let archived = self.ctx.run.consumed_path(inv.step, &inv.agent);
        if file != archived {
            self.effects.push(Effect::Move {
                from: file.to_path_buf(),
                to: archived.clone(),
            });
        }
        self.st
            .swarm
            .results
            .insert(inv.agent.clone(), archived.display().to_string());
        let key = RunStatus::timestamp_key(&inv.agent, inv.iteration, "completed");
        self.st.step_timestamps.insert(key, self.ctx.now.clone());
    }
}

fn resume_same(inv: &Invocation, feedback: Vec<String>) -> Resume {
    Resume::Issue {
        to: inv.agent.clone(),
        from: inv.from.clone(),
        feedback,
        loop_field: None,
        replan: false,
    }
}

/// A new run: its first status, and the first invocation unless the standards gate stops it.
#[allow(clippy::too_many_arguments)]
pub fn start(
    ctx: &mut Ctx,
    facts: &Facts,
    run_id: &str,
    task: Task,
    base_commit: &str,
    start_branch: Option<String>,
) -> Transition {
    let first = ctx.cfg.first_step().name.clone();
    let st = RunStatus {
        run_id: run_id.to_string(),
        current_step: first.clone(),
        outcome: Outcome::InProgress,
        created_at: ctx.now.clone(),
        updated_at: ctx.now.clone(),
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
            workspace: ctx.workspace.display().to_string(),
            config: ctx.cfg.path.display().to_string(),
            task,
            base_commit: base_commit.to_string(),
            start_branch,
            phase: Phase::Awaiting,
            passes: Default::default(),
            pending: Vec::new(),
            plan: None,
            resume: None,
            results: Default::default(),
            notes: Default::default(),
            files_changed: Vec::new(),
            hint: None,
            tested: None,
            publish: None,
        },
        counters: Default::default(),
    };
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
    match facts.standards.clone() {
        Err(why) => {
            b.stop(
                Outcome::NeedsHuman,
                &first,
                why,
                Some(Resume::StandardsGate),
                false,
            );
            b.st.swarm.hint = Some(format!(
                "write actionable rules in {}, then run 'git swarm retry --run {run_id}'",
                b.ctx.standards_path.display()
            ));
        }
        Ok(()) => b.issue(IssueSpec {
            to: first,
            from: None,
            feedback: Vec::new(),
            replan: false,
        }),
    }
    b.done()
}

/// Consumes the results that arrived for pending invocations.
pub fn consume(ctx: &mut Ctx, facts: &Facts, st: &RunStatus, arrivals: Vec<Arrival>) -> Transition {
    let mut b = Builder::new(ctx, facts, st.clone());
    for arrival in arrivals {
        let Some(inv) = b.st.swarm.pending.get(arrival.slot).cloned() else {
            continue;
        };
        let agent = inv.agent.clone();
        let step = inv.step;

        // A result that answers an older handoff is never consumed.
        if let (Ok(v), Some(expected)) = (&arrival.content, &inv.handoff_id)
            && let Some(got) = v.get("handoffId").and_then(Value::as_str)
            && got != expected
        {
            let n = b.st.warnings.len();
            b.effects.push(Effect::Move {
                from: arrival.file.clone(),
                to: b
                    .ctx
                    .run
                    .archive_dir()
                    .join(format!("step-{step:04}.{agent}.stale-{n}.json")),
            });
            let msg = format!(
                "ignored {agent}.result.json: it answers handoff {got}, not the current handoff {expected}"
            );
            b.warn("stale-result", msg.clone());
            b.ev("STALE_RESULT", Some(&agent), Some(step), msg);
            continue;
        }

        // The standards gate is checked before a plan is accepted; when it fails the result
        // stays where it is, to be consumed after `retry`.
        if b.ctx.cfg.plans(&agent)
            && let Err(why) = facts.standards.clone()
        {
            b.stop(
                Outcome::NeedsHuman,
                &agent,
                why,
                Some(Resume::StandardsGate),
                true,
            );
            return b.done();
        }

        b.consume_file(&inv, &arrival.file);
        let schema = b
            .ctx
            .cfg
            .agent(&agent)
            .map(|a| a.schema_path.path.display().to_string())
            .unwrap_or_default();
        let value = match arrival.content {
            Err(e) => {
                let why = format!("{agent}.result.json is not valid JSON: {e}");
                b.ev("WORKER_FAILED", Some(&agent), Some(step), why.clone());
                b.stop(
                    Outcome::Failed,
                    &agent,
                    why.clone(),
                    Some(resume_same(&inv, vec![why])),
                    false,
                );
                return b.done();
            }
            Ok(v) => v,
        };
        if !arrival.violations.is_empty() {
            let list: Vec<String> = arrival.violations.iter().map(|v| v.to_string()).collect();
            let why = format!(
                "{agent}.result.json does not match its schema {schema}: {}",
                list.join("; ")
            );
            b.ev("WORKER_FAILED", Some(&agent), Some(step), why.clone());
            b.stop(
                Outcome::Failed,
                &agent,
                why,
                Some(resume_same(&inv, list)),
                false,
            );
            return b.done();
        }
        let edits = b.ctx.cfg.agent(&agent).is_some_and(|a| a.edits);
        let note = StepNote {
            summary: route::summary(&value),
            files_changed: route::files_changed(&value),
            feedback: route::feedback(&value),
        };
        if edits {
            for f in &note.files_changed {
                if !b.st.swarm.files_changed.contains(f) {
                    b.st.swarm.files_changed.push(f.clone());
                }
            }
        }
        b.st.swarm.notes.insert(agent.clone(), note.clone());
        b.ev(
            "WORKER_COMPLETED",
            Some(&agent),
            Some(step),
            if note.summary.is_empty() {
                format!("{agent} finished")
            } else {
                note.summary.clone()
            },
        );

        if let Some(why) = route::blocked_reason(&value) {
            b.stop(
                Outcome::NeedsHuman,
                &agent,
                format!("{agent} is blocked: {why}"),
                Some(resume_same(
                    &inv,
                    vec![format!(
                        "you reported being blocked: {why}; a person has resolved it"
                    )],
                )),
                false,
            );
            return b.done();
        }

        if b.ctx.cfg.plans(&agent) {
            let mut problems = Vec::new();
            match &arrival.plan {
                None => problems.push(format!(
                    "the result has no \"{}\" field pointing at plan.json",
                    b.ctx.cfg.planning.result_field
                )),
                Some(Err(why)) => problems.push(why.clone()),
                Some(Ok(lp)) => {
                    for v in &lp.violations {
                        problems.push(format!("plan.json {v}"));
                    }
                    let (mut found, summary) = plan::check(&lp.value, &lp.path);
                    if lp.violations.is_empty() && summary.files.is_empty() {
                        found.push("no task names a file; list the files each task changes (they become the implementor's allowedFiles)".to_string());
                    }
                    problems.extend(found);
                    if problems.is_empty() {
                        let snapshot = b
                            .ctx
                            .run
                            .archive_dir()
                            .join(format!("step-{step:04}.plan.json"));
                        b.effects.push(Effect::Copy {
                            from: PathBuf::from(&lp.path),
                            to: snapshot,
                        });
                        if summary.id != b.st.run_id {
                            let msg = format!(
                                "plan id {} differs from the run id {}; the run id is used",
                                summary.id, b.st.run_id
                            );
                            b.warn("plan-id-mismatch", msg);
                        }
                        b.ev(
                            "PLAN_ACCEPTED",
                            Some(&agent),
                            Some(step),
                            format!("{} ({} tasks)", summary.friendly_name, summary.tasks.len()),
                        );
                        b.st.swarm.plan = Some(summary);
                    }
                }
            }
            if !problems.is_empty() {
                b.replan_or_escalate(&agent, problems);
                return b.done();
            }
        }

        if route::is_partial(&value) {
            b.warn(
                "partial-result",
                format!("{agent} reported status partial: {}", note.summary),
            );
        }
        match route::route(b.ctx.cfg, &agent, &value) {
            Route::Next(to) => {
                if let Some(lc) = b.ctx.cfg.loop_for(&agent, &to).cloned() {
                    let count = b.st.counter(&lc.count_field);
                    if count >= lc.max_loops {
                        b.stop(
                            lc.escalation,
                            &agent,
                            format!(
                                "{agent} sent the work back to {to} again, but the loop limit is reached ({} {count} of {})",
                                lc.count_field, lc.max_loops
                            ),
                            Some(Resume::Issue {
                                to: to.clone(),
                                from: Some(agent.clone()),
                                feedback: note.feedback.clone(),
                                loop_field: Some(lc.count_field.clone()),
                                replan: false,
                            }),
                            false,
                        );
                        return b.done();
                    }
                    b.st.bump_counter(&lc.count_field);
                    let msg = format!(
                        "{agent} → {to}: {} {} of {}",
                        lc.count_field,
                        count + 1,
                        lc.max_loops
                    );
                    b.ev("LOOP", Some(&agent), Some(step), msg);
                }
                // Issues travel to an agent that can fix them, not forward to one that
                // only looks (an approving reviewer's remarks are not the tester's job).
                let fixes = b.ctx.cfg.agent(&to).is_some_and(|a| a.edits);
                b.issue(IssueSpec {
                    to,
                    from: Some(agent.clone()),
                    feedback: if fixes {
                        note.feedback.clone()
                    } else {
                        Vec::new()
                    },
                    replan: false,
                });
            }
            Route::Finish(Ok(())) => {
                b.st.swarm.pending.clear();
                if b.ctx.cfg.branching {
                    b.st.swarm.tested =
                        facts
                            .worktree_content
                            .clone()
                            .map(|(head, tree)| state::Tested {
                                tree,
                                head,
                                at: b.ctx.now.clone(),
                            });
                    b.st.swarm.phase = Phase::Publish;
                    b.st.swarm.hint = Some(b.run_cmd("publish"));
                    b.ev(
                        "ALL_WORKERS_COMPLETE",
                        Some(&agent),
                        Some(step),
                        format!("{agent} passed; ready to publish"),
                    );
                } else {
                    b.st.outcome = Outcome::Completed;
                    b.st.swarm.phase = Phase::Finished;
                    b.ev(
                        "TASK_COMPLETE",
                        Some(&agent),
                        Some(step),
                        format!("{agent} passed"),
                    );
                }
            }
            Route::Finish(Err(why)) | Route::Fail(why) => {
                b.ev("WORKER_FAILED", Some(&agent), Some(step), why.clone());
                b.stop(
                    Outcome::Failed,
                    &agent,
                    why,
                    Some(resume_same(&inv, Vec::new())),
                    false,
                );
            }
            Route::Escalate(why) => {
                b.stop(
                    Outcome::NeedsHuman,
                    &agent,
                    why.clone(),
                    Some(resume_same(&inv, vec![why])),
                    false,
                );
            }
        }
    }
    b.done()
}

/// `next --reject <feedback>`: the host (or a person) rejects the fresh result of a pending
/// invocation for reasons only judgement can see.
pub fn reject(
    ctx: &mut Ctx,
    facts: &Facts,
    st: &RunStatus,
    arrival: Arrival,
    feedback: &str,
) -> Transition {
    let mut b = Builder::new(ctx, facts, st.clone());
    let Some(inv) = b.st.swarm.pending.get(arrival.slot).cloned() else {
        return b.done();
    };
    let agent = inv.agent.clone();
    b.consume_file(&inv, &arrival.file);
    let fb = format!("rejected by the manager: {}", feedback.trim());
    b.ev("REJECTED", Some(&agent), Some(inv.step), fb.clone());
    if b.ctx.cfg.plans(&agent) {
        b.replan_or_escalate(&agent, vec![fb]);
        return b.done();
    }
    let cfg = b.ctx.cfg;
    let retries = b.st.retry_counts.get(&agent).copied().unwrap_or(0);
    if retries >= cfg.max_retries {
        b.stop(
            cfg.retry_escalation,
            &agent,
            format!("{agent}'s work was rejected again and its retries are used up ({retries} of {}): {}", cfg.max_retries, feedback.trim()),
            Some(resume_same(&inv, vec![fb])),
            false,
        );
    } else {
        b.st.bump_retry(&agent);
        b.issue(IssueSpec {
            to: agent,
            from: inv.from.clone(),
            feedback: vec![fb],
            replan: false,
        });
    }
    b.done()
}

/// Why `retry` refuses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub message: String,
    pub hint: String,
}

/// `git swarm retry`: re-opens a failed or escalated run where it stopped.
pub fn retry(ctx: &mut Ctx, facts: &Facts, st: &RunStatus) -> Result<Transition, Refusal> {
    let id = &st.run_id;
    match st.outcome {
        Outcome::InProgress => {
            return Err(Refusal {
                message: format!("run {id} is in progress; there is nothing to retry"),
                hint: format!("run 'git swarm next --run {id}' to see what it waits for"),
            });
        }
        Outcome::Completed | Outcome::Canceled => {
            return Err(Refusal {
                message: format!(
                    "run {id} is {}; it cannot be re-opened",
                    st.outcome.as_str()
                ),
                hint: "start a new run with 'git swarm start <task>'".to_string(),
            });
        }
        _ => {}
    }
    let Some(resume) = st.swarm.resume.clone() else {
        return Err(Refusal {
            message: format!(
                "run {id} ({}) recorded nothing to resume",
                st.outcome.as_str()
            ),
            hint: "start a new run with 'git swarm start <task>'".to_string(),
        });
    };
    if let (Resume::StandardsGate, Err(why)) = (&resume, &facts.standards) {
        return Err(Refusal {
            message: format!("the standards gate still fails: {why}"),
            hint: format!(
                "write actionable rules in {}, then run 'git swarm retry' again",
                ctx.standards_path.display()
            ),
        });
    }
    let mut b = Builder::new(ctx, facts, st.clone());
    b.st.outcome = Outcome::InProgress;
    b.st.failure_reason = None;
    b.st.swarm.resume = None;
    b.st.swarm.hint = None;
    b.st.swarm.phase = Phase::Awaiting;
    let step = b.st.swarm.step;
    match resume {
        Resume::StandardsGate => {
            b.ev("RETRY", None, Some(step), "standards are in place now");
            if b.st.swarm.pending.is_empty() {
                let first = b.ctx.cfg.first_step().name.clone();
                b.issue(IssueSpec {
                    to: first,
                    from: None,
                    feedback: Vec::new(),
                    replan: false,
                });
            }
        }
        Resume::Issue {
            to,
            from,
            feedback,
            loop_field,
            replan,
        } => {
            b.ev("RETRY", Some(&to), Some(step), format!("re-opened at {to}"));
            b.st.bump_retry(&to);
            if let Some(f) = &loop_field {
                b.st.bump_counter(f);
            }
            if replan {
                let f = b.ctx.cfg.planning.replan_count_field.clone();
                b.st.bump_counter(&f);
            }
            b.issue(IssueSpec {
                to,
                from,
                feedback,
                replan,
            });
        }
        Resume::Publish => {
            b.ev("RETRY", None, Some(step), "publish again");
            b.st.swarm.phase = Phase::Publish;
            b.st.swarm.hint = Some(b.run_cmd("publish"));
        }
    }
    Ok(b.done())
}

/// `git swarm abort`: the run is canceled; the worktree is removed only when the executor
/// established that nothing would be lost (`remove_worktree`). Needs no config, so a run can
/// be canceled even when its config is broken.
pub fn abort(
    now: &str,
    st: &RunStatus,
    reason: &str,
    remove_worktree: Option<String>,
) -> Transition {
    let mut st = st.clone();
    st.swarm.seq += 1;
    st.updated_at = now.to_string();
    st.outcome = Outcome::Canceled;
    st.failure_reason = Some(format!("canceled: {reason}"));
    st.swarm.pending.clear();
    st.swarm.resume = None;
    st.swarm.phase = Phase::Finished;
    st.swarm.hint = None;
    let effects = remove_worktree
        .map(|path| vec![Effect::RemoveWorktree { path }])
        .unwrap_or_default();
    let events = vec![Event {
        seq: st.swarm.seq,
        at: now.to_string(),
        signal: "CANCELED".to_string(),
        agent: None,
        worker: None,
        step: Some(st.swarm.step),
        message: reason.to_string(),
    }];
    Transition {
        status: st,
        effects,
        events,
    }
}

/// The action a status stands for (what `next` answers when nothing new arrived).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ActionKind {
    Invoke,
    Publish,
    Done,
    Escalated,
    Failed,
    Canceled,
}

impl ActionKind {
    pub fn as_str(&self) -> &'static str {
        match self {
            ActionKind::Invoke => "invoke",
            ActionKind::Publish => "publish",
            ActionKind::Done => "done",
            ActionKind::Escalated => "escalated",
            ActionKind::Failed => "failed",
            ActionKind::Canceled => "canceled",
        }
    }

    /// Exit code of a command that answers with this action.
    pub fn exit_code(&self) -> u8 {
        match self {
            ActionKind::Escalated => 4,
            ActionKind::Failed => 5,
            _ => 0,
        }
    }
}

pub fn action_of(st: &RunStatus) -> ActionKind {
    match st.outcome {
        Outcome::InProgress => match st.swarm.phase {
            Phase::Publish => ActionKind::Publish,
            _ => ActionKind::Invoke,
        },
        Outcome::Completed => ActionKind::Done,
        Outcome::Failed => ActionKind::Failed,
        Outcome::Canceled => ActionKind::Canceled,
        _ => ActionKind::Escalated,
    }
}
