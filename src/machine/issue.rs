//! Handing the run to an agent: the worktree, the handoff documents, the invocation.

use std::path::Path;

use serde_json::{Value, json};

use super::state::{Approval, GateKind, Invocation, Outcome, Phase, Resume, RunStatus};
use super::{Builder, Effect, IssueSpec, Target, handoff};
use crate::config::{InputType, Subagent};

impl Builder<'_, '_> {
    /// Creates the run's worktree if this is the moment (branching on, none yet, and the agent
    /// works on the code). Returns false when the run had to stop instead.
    pub(super) fn ensure_worktree(&mut self, to: &str) -> bool {
        let cfg = self.ctx.cfg;
        let first = cfg.agent(to).is_some_and(|a| a.first_step);
        if !cfg.branching || first || self.st.worktree_path.is_some() {
            return true;
        }
        match self.facts.worktree_slot.clone() {
            Some(Ok(slot)) => {
                // Sparse: the directories the plan touches (and the policy's).
                let sparse = self.ctx.sparse.as_ref().map(|extra| {
                    let files = self
                        .st
                        .swarm
                        .plan
                        .as_ref()
                        .map(|p| p.files.clone())
                        .unwrap_or_default();
                    super::sparse::cone(&files, extra)
                });
                self.st.swarm.sparse = sparse.clone();
                self.effects.push(Effect::CreateWorktree {
                    branch: slot.branch.clone(),
                    path: slot.path.clone(),
                    base: self.st.swarm.base_commit.clone(),
                    adopt: slot.adopt,
                    worker: None,
                    sparse,
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

    /// Hands the run to `spec.to`: a new step with its handoff and pending invocation — or,
    /// for an editing agent right after planning with parallelization on, a batch of workers.
    pub(super) fn issue(&mut self, spec: IssueSpec) {
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
        // Over its budget, the run stops before it hands out more work; `retry` (once the
        // limit was raised) hands out exactly this.
        if let Some(why) = super::budget::exceeded(&self.ctx.budget, &self.st, &agent.name) {
            let resume = Resume::Issue {
                to: spec.to.clone(),
                from: spec.from.clone(),
                feedback: spec.feedback.clone(),
                loop_field: None,
                replan: spec.replan,
            };
            self.stop(
                Outcome::NeedsHuman,
                &agent.name,
                format!("over budget: {why}"),
                Some(resume),
                false,
            );
            return;
        }
        // A plan that must be approved: the run waits at the gate with this hand-off, which
        // `git swarm approve` makes.
        if self.ctx.gates.plan
            && !self.st.swarm.plan_approved
            && self.st.swarm.plan.is_some()
            && !agent.first_step
            && !self.ctx.cfg.plans(&agent.name)
        {
            self.st.swarm.approval = Some(Approval {
                gate: GateKind::Plan,
                then: Some(Resume::Issue {
                    to: spec.to.clone(),
                    from: spec.from.clone(),
                    feedback: spec.feedback.clone(),
                    loop_field: None,
                    replan: spec.replan,
                }),
            });
            // What was awaited has been consumed; nothing is handed out until approved.
            self.st.swarm.pending.clear();
            let step = self.st.swarm.step;
            self.ev(
                "APPROVAL_NEEDED",
                None,
                Some(step),
                "the plan waits for a person's approval (policies.approval.plan)",
            );
            return;
        }
        if !self.ensure_worktree(&agent.name) {
            return;
        }
        if self.fans_out(&agent, &spec) {
            self.fan_out(&agent, spec.from.clone());
            return;
        }
        self.st.swarm.step += 1;
        let step = self.st.swarm.step;
        let pass = self.next_pass(&agent.name);
        let workspace = self.ctx.workspace.display().to_string();
        let cwd = if agent.first_step && agent.input_type == InputType::UserTask {
            workspace.clone()
        } else {
            self.st.worktree_path.clone().unwrap_or(workspace)
        };
        let allowed: Vec<String> = if agent.edits {
            match &self.st.swarm.plan {
                Some(p) => p.files.clone(),
                None => vec!["**".to_string()],
            }
        } else {
            Vec::new()
        };
        let target = Target {
            worker: None,
            tasks: Vec::new(),
            base_tree: spec.base_tree.clone().or_else(|| self.content_tree(&cwd)),
            cwd,
            branch: self.st.branch.clone(),
            allowed,
            attempt: spec.attempt,
            peers: 0,
        };
        let inv = self.invocation(&agent, &spec, step, pass, target);
        self.st.swarm.pending = vec![inv];
        let what = if spec.replan {
            "re-plan"
        } else {
            pass_label(pass)
        };
        self.assigned(&agent.name, step, pass, what, None);
    }

    /// The next pass number of an agent (its handoffs' `iteration`).
    pub(super) fn next_pass(&mut self, agent: &str) -> u32 {
        let p = self.st.swarm.passes.entry(agent.to_string()).or_insert(0);
        *p += 1;
        *p
    }

    /// The content tree of a work location as the executor found it; for the run's worktree
    /// created in this very transition, the base commit's tree.
    pub(super) fn content_tree(&self, cwd: &str) -> Option<String> {
        if let Some((_, tree)) = self.facts.content.get(cwd) {
            return Some(tree.clone());
        }
        if self.st.worktree_path.as_deref() == Some(cwd) {
            return self.facts.base_tree.clone();
        }
        None
    }

    /// Bookkeeping after handing out a step; `what` says which kind of pass it is ("first
    /// pass", "again", "re-plan", "batch 2"), for the event log and `MANAGER_PLAN.md`.
    pub(super) fn assigned(
        &mut self,
        agent: &str,
        step: u32,
        pass: u32,
        what: &str,
        worker: Option<&str>,
    ) {
        self.st.current_step = agent.to_string();
        self.st.swarm.phase = Phase::Awaiting;
        self.st.swarm.advice = None;
        let who = match worker {
            Some(w) => format!("{agent}[{w}]"),
            None => agent.to_string(),
        };
        let key = RunStatus::timestamp_key(&who, pass, "started");
        self.st.step_timestamps.insert(key, self.ctx.now.clone());
        self.ev_worker(
            "WORKER_ASSIGNED",
            Some(agent),
            worker,
            Some(step),
            format!("step {step}, iteration {pass} ({what})"),
        );
    }

    /// Writes the handoff (archive, per-agent copy, current) and builds the invocation.
    pub(super) fn invocation(
        &mut self,
        agent: &Subagent,
        spec: &IssueSpec,
        step: u32,
        pass: u32,
        t: Target,
    ) -> Invocation {
        // A pass in the run's sparse worktree on files outside its cone widens the cone first.
        if t.worker.is_none()
            && self.st.worktree_path.as_deref() == Some(t.cwd.as_str())
            && let Some(cone) = self.st.swarm.sparse.clone()
        {
            let more = super::sparse::missing(&cone, &t.allowed);
            if !more.is_empty() {
                self.effects.push(Effect::WidenSparse {
                    path: t.cwd.clone(),
                    dirs: more.clone(),
                });
                let mut wider = cone;
                wider.extend(more);
                self.st.swarm.sparse = Some(super::sparse::cone(&[], &wider));
            }
        }
        let cfg = self.ctx.cfg;
        let run = self.ctx.run;
        let to = agent.name.clone();
        let stem = match &t.worker {
            Some(w) => format!("{to}.{w}"),
            None => to.clone(),
        };
        let result = run.path.join(format!("{stem}.result.json"));
        self.effects.push(Effect::Sweep {
            from: result.clone(),
            to: run
                .archive_dir()
                .join(format!("step-{step:04}.{stem}.stale.json")),
        });
        let result_s = result.display().to_string();
        let run_dir = run.path.display().to_string();
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
            let pack_path = match &t.worker {
                Some(w) => run.path.join(format!("context.{to}.{w}.pack.md")),
                None => run.path.join("context.pack.md"),
            };
            let pack_s = pack_path.display().to_string();
            let worker_line = t.worker.as_ref().map(|w| {
                let ids = t.tasks.join(", ");
                if t.peers > 1 {
                    format!(
                        "You are worker {w}, one of {} workers running in parallel, on task {ids}; the others change other files in their own worktrees.",
                        t.peers
                    )
                } else {
                    format!(
                        "You are worker {w} and work alone on task {ids}; other workers do the plan's other tasks before or after yours."
                    )
                }
            });
            let judges = !agent.edits && self.st.worktree_path.is_some();
            let input = handoff::input_text(&handoff::InputParts {
                description: &agent.description,
                worker: worker_line,
                from: spec.from.as_deref(),
                from_summary: &note.summary,
                feedback: &spec.feedback,
                cwd: &t.cwd,
                branch: t.branch.as_deref(),
                edits: agent.edits,
                diff_base: judges.then_some(self.st.swarm.base_commit.as_str()),
                pack_path: &pack_s,
                result_path: &result_s,
                schema_path: &schema,
            });
            let commit = self
                .facts
                .content
                .get(&t.cwd)
                .map(|(h, _)| h.clone())
                .or_else(|| {
                    if t.worker.is_some() {
                        self.st
                            .worktree_path
                            .as_ref()
                            .and_then(|w| self.facts.content.get(w))
                            .map(|(h, _)| h.clone())
                    } else {
                        None
                    }
                });
            let commit = commit.or_else(|| Some(self.st.swarm.base_commit.clone()));
            let files_changed = self.st.swarm.files_changed.clone();
            let mut doc = handoff::document(
                &self.st,
                &hid,
                &to,
                step,
                pass,
                input,
                &t.allowed,
                &spec.feedback,
                &note.summary,
                &files_changed,
                commit.as_deref(),
                &standards,
                &result_s,
            );
            // The context pack: the goal, the standards, the files, the plan and its checks.
            // A worker's plan checks cannot pass before the plan's other tasks are merged.
            let others_pending = t.worker.is_some()
                && plan.as_ref().is_some_and(|p| {
                    p.tasks.iter().any(|x| {
                        !t.tasks.contains(&x.id) && !self.st.swarm.done_tasks.contains(&x.id)
                    })
                });
            let pack_text = super::pack::render(&super::pack::PackInput {
                agent: &to,
                worker: t.worker.as_deref(),
                run_id: &self.st.run_id,
                task: &self.st.swarm.task.text,
                plan: plan.as_ref(),
                tasks: &t.tasks,
                others_pending,
                standards: &self.facts.standards_text,
                standards_path: &standards,
                deny: &self.facts.deny,
                allowed: &t.allowed,
                edits: agent.edits,
            });
            self.effects.push(Effect::WriteText {
                path: pack_path.clone(),
                text: pack_text,
            });
            doc["artifacts"]["contextPackPath"] = json!(pack_path.display().to_string());
            if let Some(w) = &t.worker {
                doc["context"]["worker"] = json!(w);
                doc["context"]["worktreePath"] = json!(t.cwd);
                if let Some(b) = &t.branch {
                    doc["context"]["branch"] = json!(b);
                }
                let tasks: Vec<Value> = self
                    .st
                    .swarm
                    .plan
                    .as_ref()
                    .map(|p| {
                        p.tasks
                            .iter()
                            .filter(|x| t.tasks.contains(&x.id))
                            .map(|x| json!({"task-id": x.id, "description": x.description, "files": x.files, "dependencies": x.dependencies}))
                            .collect()
                    })
                    .unwrap_or_default();
                doc["context"]["tasks"] = json!(tasks);
                let path = run.path.join(format!("handoff.{stem}.json"));
                self.effects.push(Effect::WriteJson {
                    path: run.handoff_archive_path(step, &stem),
                    value: doc.clone(),
                });
                self.effects.push(Effect::WriteJson {
                    path: path.clone(),
                    value: doc,
                });
                handoff_path = Some(path.display().to_string());
            } else {
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
            }
            handoff_id = Some(hid);
        }
        let schema = agent.schema_path.path.display().to_string();
        let plan_schema = cfg
            .planning
            .schema_path
            .as_ref()
            .map(|p| p.path.display().to_string());
        let standards = self.ctx.standards_path.display().to_string();
        let prompt = handoff::prompt(
            &self.st,
            &handoff::Brief {
                agent,
                run_id: &self.st.run_id,
                run_dir: &run_dir,
                result_path: &result_s,
                handoff_path: handoff_path.as_deref(),
                cwd: &t.cwd,
                plans: cfg.plans(&to),
                feedback: &spec.feedback,
                replan: spec.replan,
                schema_path: &schema,
                plan_schema_path: plan_schema.as_deref(),
                standards_path: &standards,
            },
        );
        Invocation {
            agent: to,
            worker: t.worker,
            step,
            iteration: pass,
            from: spec.from.clone(),
            handoff_id,
            handoff: handoff_path,
            result: result_s,
            cwd: t.cwd,
            prompt,
            issued_at: self.ctx.now.clone(),
            tasks: t.tasks,
            allowed_files: t.allowed,
            base_tree: t.base_tree,
            attempt: t.attempt,
            usage_reported: false,
            merge_fix: false,
            process: None,
        }
    }

    /// Sends the plan back to the planner, or escalates when the replan budget is spent.
    pub(super) fn replan_or_escalate(&mut self, agent: &str, problems: Vec<String>) {
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
                cfg.replan_escalation.into(),
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
                feedback: problems,
                replan: true,
                ..IssueSpec::default()
            });
        }
    }

    /// Moves a consumed result into the archive and stamps the step as completed.
    /// Adds what an agent reported spending to `step-tokens` (and `swarm.costUsd`).
    pub(crate) fn count_usage(&mut self, agent: &str, u: crate::machine::usage::Usage) {
        add_usage(&mut self.st, agent, u);
    }

    /// Counts the `tokens` field of a consumed result, unless the agent's CLI already reported
    /// this invocation's spending (exec mode).
    pub(super) fn count_result_usage(
        &mut self,
        inv: &Invocation,
        u: Option<crate::machine::usage::Usage>,
    ) {
        if let Some(u) = u.filter(|_| !inv.usage_reported) {
            self.count_usage(&inv.agent, u);
        }
    }

    pub(super) fn consume_file(&mut self, inv: &Invocation, file: &Path) {
        let archived = self.ctx.run.consumed_path(inv.step, &inv.stem());
        if file != archived {
            self.effects.push(Effect::Move {
                from: file.to_path_buf(),
                to: archived.clone(),
            });
        }
        self.st
            .swarm
            .results
            .insert(inv.stem(), archived.display().to_string());
        let key = RunStatus::timestamp_key(&inv.who(), inv.iteration, "completed");
        self.st.step_timestamps.insert(key, self.ctx.now.clone());
    }
}

/// The kind of a pass of one agent on the same work: its first, or a repeat (a loop back, a
/// retry, a step sent back).
pub(super) fn pass_label(pass: u32) -> &'static str {
    if pass > 1 { "again" } else { "first pass" }
}

/// Adds `u` to the agent's totals in the run status.
fn add_usage(st: &mut RunStatus, agent: &str, u: crate::machine::usage::Usage) {
    let t = st.step_tokens.entry(agent.to_string()).or_insert(0);
    *t = t.saturating_add(u.tokens);
    if let Some(c) = u.cost_usd {
        *st.swarm.cost_usd.entry(agent.to_string()).or_insert(0.0) += c;
    }
    if !u.split.is_empty() {
        st.swarm
            .token_split
            .entry(agent.to_string())
            .or_default()
            .add(u.split);
    }
}
