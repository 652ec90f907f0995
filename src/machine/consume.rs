//! Consuming results: staleness, validation, guard rails, plan checks, routing, loop control.

use std::path::PathBuf;

use serde_json::{Value, json};

use super::state::{Invocation, Outcome, Phase, Resume, StepNote, Tested};
use super::{Arrival, Builder, Ctx, Effect, Facts, IssueSpec, Transition, guard, plan, route};
use route::Route;

/// What the loop over arrivals does next.
pub(super) enum Flow {
    /// The run stopped (failed, escalated): nothing else is looked at.
    Stop,
    /// Go on with the next arrival.
    Continue,
    /// A parallel worker's result was accepted.
    WorkerDone,
}

pub(super) fn resume_same(inv: &Invocation, feedback: Vec<String>) -> Resume {
    if inv.worker.is_some() {
        return Resume::Batch;
    }
    Resume::Issue {
        to: inv.agent.clone(),
        from: inv.from.clone(),
        feedback,
        loop_field: None,
        replan: false,
    }
}

/// Consumes the results that arrived for pending invocations.
pub(crate) fn consume(
    ctx: &mut Ctx,
    facts: &Facts,
    st: &super::state::RunStatus,
    arrivals: Vec<Arrival>,
) -> Transition {
    let mut b = Builder::new(ctx, facts, st.clone());
    let mut accepted: Vec<String> = Vec::new();
    for arrival in arrivals {
        let Some(inv) = b.st.swarm.pending.get(arrival.slot).cloned() else {
            continue;
        };
        match b.one(&inv, arrival) {
            Flow::Stop => return b.done(),
            Flow::Continue => {}
            Flow::WorkerDone => accepted.push(inv.worker.clone().unwrap_or_default()),
        }
    }
    if !accepted.is_empty() {
        b.st.swarm
            .pending
            .retain(|p| !p.worker.as_ref().is_some_and(|w| accepted.contains(w)));
        if b.st.swarm.pending.is_empty() {
            b.complete_batch();
        }
    }
    b.done()
}

impl Builder<'_, '_> {
    /// Handles one arrived result.
    fn one(&mut self, inv: &Invocation, arrival: Arrival) -> Flow {
        let agent = inv.agent.clone();
        let who = inv.who();
        let stem = inv.stem();
        let step = inv.step;

        // A result that answers an older handoff is never consumed.
        if let (Ok(v), Some(expected)) = (&arrival.content, &inv.handoff_id)
            && let Some(got) = v.get("handoffId").and_then(Value::as_str)
            && got != expected
        {
            let n = self.st.warnings.len();
            self.effects.push(Effect::Move {
                from: arrival.file.clone(),
                to: self
                    .ctx
                    .run
                    .archive_dir()
                    .join(format!("step-{step:04}.{stem}.stale-{n}.json")),
            });
            let msg = format!(
                "ignored {stem}.result.json: it answers handoff {got}, not the current handoff {expected}"
            );
            self.warn("stale-result", msg.clone());
            self.ev("STALE_RESULT", Some(&agent), Some(step), msg);
            return Flow::Continue;
        }

        // The standards gate is checked before a plan is accepted; when it fails the result
        // stays where it is, to be consumed after `retry`.
        if self.ctx.cfg.plans(&agent)
            && let Err(why) = self.facts.standards.clone()
        {
            self.stop(
                Outcome::NeedsHuman,
                &agent,
                why,
                Some(Resume::StandardsGate),
                true,
            );
            return Flow::Stop;
        }

        self.consume_file(inv, &arrival.file);
        self.count_result_usage(inv, arrival.usage);
        let schema = self
            .ctx
            .cfg
            .agent(&agent)
            .map(|a| a.schema_path.path.display().to_string())
            .unwrap_or_default();
        let value = match arrival.content {
            Err(e) => {
                let why = format!("{stem}.result.json is not valid JSON: {e}");
                return self.result_failed(inv, why.clone(), vec![why]);
            }
            Ok(v) => v,
        };
        if !arrival.violations.is_empty() {
            let list: Vec<String> = arrival.violations.iter().map(|v| v.to_string()).collect();
            let why = format!(
                "{stem}.result.json does not match its schema {schema}: {}",
                list.join("; ")
            );
            return self.result_failed(inv, why, list);
        }

        if !arrival.unattributed.is_empty() {
            let n = arrival.unattributed.len();
            let shown: Vec<String> = arrival
                .unattributed
                .iter()
                .take(10)
                .map(|p| format!("{p:?}"))
                .collect();
            self.warn(
                "workspace-changed",
                format!(
                    "the main workspace changed while {who} worked there ({}{}); git swarm does not judge these as {who}'s work (you may have made them) and they are not part of the run, whose worktree starts from its base commit",
                    shown.join(", "),
                    if n > 10 { format!(" and {} more", n - 10) } else { String::new() },
                    who = inv.who()
                ),
            );
        }
        // Guard rails: what changed in the work location since the handoff.
        let problems = arrival
            .changed
            .as_ref()
            .map(|c| guard::check(c, &inv.allowed_files, &self.facts.deny))
            .unwrap_or_default();
        if inv.merge_fix {
            return self.merge_fixed(inv, problems, &value);
        }
        if !problems.is_empty() {
            return self.send_back(inv, arrival.slot, problems, "guard-rail");
        }

        let edits = self.ctx.cfg.agent(&agent).is_some_and(|a| a.edits);
        let note = StepNote {
            summary: route::summary(&value),
            files_changed: route::files_changed(&value),
            feedback: route::feedback(&value),
        };
        if edits {
            super::extend_unique(&mut self.st.swarm.files_changed, &note.files_changed);
        }
        self.ev_worker(
            "WORKER_COMPLETED",
            Some(&agent),
            inv.worker.as_deref(),
            Some(step),
            if note.summary.is_empty() {
                format!("{who} finished")
            } else {
                note.summary.clone()
            },
        );

        if let Some(why) = route::blocked_reason(&value) {
            self.stop(
                Outcome::NeedsHuman,
                &agent,
                format!("{who} is blocked: {why}"),
                Some(resume_same(
                    inv,
                    vec![format!(
                        "you reported being blocked: {why}; a person has resolved it"
                    )],
                )),
                false,
            );
            return Flow::Stop;
        }

        if let Some(w) = &inv.worker {
            if route::status_failed(&value) {
                let why = format!(
                    "worker {w} ({}) failed: {}",
                    inv.tasks.join(", "),
                    note.summary
                );
                self.stop(Outcome::Failed, &agent, why, Some(Resume::Batch), false);
                return Flow::Stop;
            }
            if let Some(batch) = self.st.swarm.batch.as_mut()
                && let Some(bw) = batch.workers.iter_mut().find(|x| &x.worker == w)
            {
                bw.note = Some(note);
                bw.changed = arrival.changed.clone().unwrap_or_default();
            }
            for t in &inv.tasks {
                self.ev_worker(
                    "SUBTASK_COMPLETE",
                    Some(&agent),
                    Some(w),
                    Some(step),
                    format!("{t} done by {w}"),
                );
            }
            return Flow::WorkerDone;
        }
        self.st.swarm.notes.insert(agent.clone(), note.clone());

        if self.ctx.cfg.plans(&agent) && !self.plan_accepted(&agent, step, &arrival.plan) {
            return Flow::Stop;
        }
        if route::is_partial(&value) {
            self.warn(
                "partial-result",
                format!("{agent} reported status partial: {}", note.summary),
            );
        }
        self.forward(&agent, Some(inv), &value, &note);
        Flow::Stop
    }

    /// Checks the plan a planning agent pointed at; on problems, re-plans or escalates and
    /// returns false.
    fn plan_accepted(
        &mut self,
        agent: &str,
        step: u32,
        loaded: &Option<Result<super::LoadedPlan, String>>,
    ) -> bool {
        let mut problems = Vec::new();
        match loaded {
            None => problems.push(format!(
                "the result has no \"{}\" field pointing at plan.json",
                self.ctx.cfg.planning.result_field
            )),
            Some(Err(why)) => problems.push(why.clone()),
            Some(Ok(lp)) => {
                for v in &lp.violations {
                    problems.push(format!("plan.json {v}"));
                }
                problems.extend(lp.problems.iter().cloned());
                let (mut found, summary) = plan::check(&lp.value, &lp.path);
                if lp.violations.is_empty() && summary.files.is_empty() {
                    found.push("no task names a file; list the files each task changes (they become the implementor's allowedFiles)".to_string());
                }
                problems.extend(found);
                if problems.is_empty() {
                    let snapshot = self
                        .ctx
                        .run
                        .archive_dir()
                        .join(format!("step-{step:04}.plan.json"));
                    self.effects.push(Effect::Copy {
                        from: PathBuf::from(&lp.path),
                        to: snapshot,
                    });
                    if summary.id != self.st.run_id {
                        let msg = format!(
                            "plan id {} differs from the run id {}; the run id is used",
                            summary.id, self.st.run_id
                        );
                        self.warn("plan-id-mismatch", msg);
                    }
                    self.ev(
                        "PLAN_ACCEPTED",
                        Some(agent),
                        Some(step),
                        format!("{} ({} tasks)", summary.friendly_name, summary.tasks.len()),
                    );
                    self.st.swarm.plan = Some(summary);
                    // A new plan is approved anew.
                    self.st.swarm.plan_approved = false;
                }
            }
        }
        if problems.is_empty() {
            return true;
        }
        self.replan_or_escalate(agent, problems);
        false
    }

    /// Routes a finished step (one agent's result, or the merged result of a batch).
    /// A result that cannot be used: the run fails, and `retry` re-issues the same step with
    /// `feedback`.
    fn result_failed(&mut self, inv: &Invocation, why: String, feedback: Vec<String>) -> Flow {
        self.ev_worker(
            "WORKER_FAILED",
            Some(&inv.agent),
            inv.worker.as_deref(),
            Some(inv.step),
            why.clone(),
        );
        self.stop(
            Outcome::Failed,
            &inv.agent,
            why,
            Some(resume_same(inv, feedback)),
            false,
        );
        Flow::Stop
    }

    pub(super) fn forward(
        &mut self,
        agent: &str,
        inv: Option<&Invocation>,
        value: &Value,
        note: &StepNote,
    ) {
        let step = self.st.swarm.step;
        let same = |feedback: Vec<String>| match inv {
            Some(i) => resume_same(i, feedback),
            None => Resume::Issue {
                to: agent.to_string(),
                from: None,
                feedback,
                loop_field: None,
                replan: false,
            },
        };
        match route::route(self.ctx.cfg, agent, value) {
            Route::Next(to) => {
                if let Some(lc) = self.ctx.cfg.loop_for(agent, &to).cloned() {
                    let count = self.st.counter(&lc.count_field);
                    if count >= lc.max_loops {
                        self.stop(
                            lc.escalation.into(),
                            agent,
                            format!(
                                "{agent} sent the work back to {to} again, but the loop limit is reached ({} {count} of {})",
                                lc.count_field, lc.max_loops
                            ),
                            Some(Resume::Issue {
                                to: to.clone(),
                                from: Some(agent.to_string()),
                                feedback: note.feedback.clone(),
                                loop_field: Some(lc.count_field.clone()),
                                replan: false,
                            }),
                            false,
                        );
                        return;
                    }
                    self.st.bump_counter(&lc.count_field);
                    let msg = format!(
                        "{agent} → {to}: {} {} of {}",
                        lc.count_field,
                        count + 1,
                        lc.max_loops
                    );
                    self.ev("LOOP", Some(agent), Some(step), msg);
                }
                // Issues travel to an agent that can fix them, not forward to one that
                // only looks (an approving reviewer's remarks are not the tester's job).
                let fixes = self.ctx.cfg.agent(&to).is_some_and(|a| a.edits);
                self.issue(IssueSpec {
                    to,
                    from: Some(agent.to_string()),
                    feedback: if fixes {
                        note.feedback.clone()
                    } else {
                        Vec::new()
                    },
                    ..IssueSpec::default()
                });
            }
            Route::Finish(Ok(())) => {
                self.st.swarm.pending.clear();
                if self.ctx.cfg.branching {
                    let content = self
                        .st
                        .worktree_path
                        .as_ref()
                        .and_then(|w| self.facts.content.get(w))
                        .cloned();
                    self.st.swarm.tested = content.map(|(head, tree)| Tested {
                        tree,
                        head,
                        at: self.ctx.now.clone(),
                    });
                    self.st.swarm.phase = Phase::Publish;
                    if self.ctx.gates.publish && !self.st.swarm.publish_approved {
                        self.st.swarm.approval = Some(super::state::Approval {
                            gate: super::state::GateKind::Publish,
                            then: None,
                        });
                        let step = self.st.swarm.step;
                        self.ev(
                            "APPROVAL_NEEDED",
                            None,
                            Some(step),
                            "publishing waits for a person's approval (policies.approval.publish)",
                        );
                    }
                    self.ev(
                        "ALL_WORKERS_COMPLETE",
                        Some(agent),
                        Some(step),
                        format!("{agent} passed; ready to publish"),
                    );
                } else {
                    self.st.outcome = Outcome::Completed;
                    self.st.swarm.phase = Phase::Finished;
                    self.ev(
                        "TASK_COMPLETE",
                        Some(agent),
                        Some(step),
                        format!("{agent} passed"),
                    );
                }
            }
            Route::Finish(Err(why)) | Route::Fail(why) => {
                self.ev("WORKER_FAILED", Some(agent), Some(step), why.clone());
                self.stop(Outcome::Failed, agent, why, Some(same(Vec::new())), false);
            }
            Route::Escalate(why) => {
                self.stop(
                    Outcome::NeedsHuman,
                    agent,
                    why.clone(),
                    Some(same(vec![why])),
                    false,
                );
            }
        }
    }

    /// Sends a step back to its agent (guard-rail violation, host rejection, exec relaunch):
    /// a new handoff with the problems as feedback, the same baseline, `retry-counts` + 1;
    /// past `retry-control.maxRetries`, escalates.
    pub(super) fn send_back(
        &mut self,
        inv: &Invocation,
        slot: usize,
        problems: Vec<String>,
        reason: &str,
    ) -> Flow {
        let cfg = self.ctx.cfg;
        let agent = inv.agent.clone();
        let who = inv.who();
        // Each invocation has its own budget (parallel workers do not share one).
        let retries = inv.attempt;
        let what = if reason == "guard-rail" {
            format!(
                "{who} changed files it may not change: {}",
                problems.join("; ")
            )
        } else {
            format!("{who}'s work was rejected: {}", problems.join("; "))
        };
        // A guard-rail violation is a warning on the run; a rejection is the manager's call
        // and only an event.
        if reason == "guard-rail" {
            self.warn(reason, what.clone());
        }
        self.ev_worker(
            if reason == "guard-rail" {
                "GUARD_VIOLATION"
            } else {
                "REJECTED"
            },
            Some(&agent),
            inv.worker.as_deref(),
            Some(inv.step),
            problems.join("; "),
        );
        if retries >= cfg.max_retries {
            self.stop(
                cfg.retry_escalation.into(),
                &agent,
                format!(
                    "{what} — and its retries are used up ({retries} of {})",
                    cfg.max_retries
                ),
                Some(resume_same(inv, problems)),
                false,
            );
            return Flow::Stop;
        }
        self.st.bump_retry(&agent);
        let mut feedback = problems;
        if reason == "guard-rail" {
            feedback.push("undo your changes to exactly the files named above (they are outside context.allowedFiles) and to no other file, then write your result again".to_string());
        }
        self.reissue(inv, slot, feedback);
        Flow::Continue
    }

    /// Invokes the agent of a pending invocation again, in the same place with the same
    /// baseline and scope, with `feedback` in a new handoff.
    pub(super) fn reissue(&mut self, inv: &Invocation, slot: usize, feedback: Vec<String>) {
        let cfg = self.ctx.cfg;
        let agent = inv.agent.clone();
        let Some(a) = cfg.agent(&agent).cloned() else {
            return;
        };
        let spec = IssueSpec {
            to: agent.clone(),
            from: inv.from.clone(),
            feedback,
            base_tree: inv.base_tree.clone(),
            attempt: inv.attempt + 1,
            ..IssueSpec::default()
        };
        self.st.swarm.step += 1;
        let step = self.st.swarm.step;
        let pass = self.next_pass(&agent);
        let target = super::Target {
            worker: inv.worker.clone(),
            tasks: inv.tasks.clone(),
            cwd: inv.cwd.clone(),
            branch: match &inv.worker {
                Some(w) => self
                    .st
                    .swarm
                    .batch
                    .as_ref()
                    .and_then(|b| b.workers.iter().find(|x| &x.worker == w))
                    .map(|x| x.branch.clone()),
                None => self.st.branch.clone(),
            },
            allowed: inv.allowed_files.clone(),
            base_tree: inv.base_tree.clone(),
            attempt: inv.attempt + 1,
            // A worker sent back runs beside the rest of its batch still in flight.
            peers: if inv.worker.is_some() {
                self.st.swarm.pending.len().max(1)
            } else {
                0
            },
        };
        let new = self.invocation(&a, &spec, step, pass, target);
        let worker = new.worker.clone();
        if slot < self.st.swarm.pending.len() {
            self.st.swarm.pending[slot] = new;
        } else {
            self.st.swarm.pending.push(new);
        }
        self.assigned(&agent, step, pass, "again", worker.as_deref());
    }

    /// The result a batch stands for, once all its workers are done.
    pub(super) fn merged_result(
        &self,
        notes: &[(String, Vec<String>, StepNote)],
    ) -> (Value, StepNote) {
        let summary = notes
            .iter()
            .map(|(w, tasks, n)| {
                format!(
                    "{w} ({}): {}",
                    tasks.join(", "),
                    if n.summary.is_empty() {
                        "done"
                    } else {
                        &n.summary
                    }
                )
            })
            .collect::<Vec<_>>()
            .join("; ");
        let mut files: Vec<String> = Vec::new();
        for (_, _, n) in notes {
            super::extend_unique(&mut files, &n.files_changed);
        }
        let value = json!({"status": "completed", "summary": summary, "filesChanged": files});
        (
            value,
            StepNote {
                summary,
                files_changed: files,
                feedback: Vec::new(),
            },
        )
    }
}
