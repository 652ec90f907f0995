//! Commands that steer a run from outside: reject, retry, abort, and the merge continuation.

use super::event::Event;
use super::state::{GateKind, Outcome, Phase, Resume, RunStatus};
use super::{Arrival, Builder, Ctx, Effect, Facts, IssueSpec, Transition};

/// `next --reject <feedback>`: the host (or a person) rejects the fresh result of a pending
/// invocation for reasons only judgement can see. A plan goes back to the planner (a re-plan);
/// any other step back to its agent (a retry).
pub(crate) fn reject(
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
    b.count_result_usage(&inv, arrival.usage);
    let fb = format!("rejected by the manager: {}", feedback.trim());
    if b.ctx.cfg.plans(&agent) {
        b.ev("REJECTED", Some(&agent), Some(inv.step), fb.clone());
        b.replan_or_escalate(&agent, vec![fb]);
        return b.done();
    }
    b.send_back(&inv, arrival.slot, vec![fb], "rejected");
    b.done()
}

/// `git swarm approve`: the gate the run waits at is passed — the plan's hand-off is made, or
/// publishing may go on. `None` when the run waits at no gate.
pub(crate) fn approve(ctx: &mut Ctx, facts: &Facts, st: &RunStatus) -> Option<Transition> {
    let approval = st.swarm.approval.clone()?;
    if !st.outcome.is_in_progress() {
        return None;
    }
    let mut b = Builder::new(ctx, facts, st.clone());
    b.st.swarm.approval = None;
    let step = b.st.swarm.step;
    match approval.gate {
        GateKind::Plan => {
            b.st.swarm.plan_approved = true;
            b.ev("APPROVED", None, Some(step), "the plan was approved");
            if let Some(Resume::Issue {
                to,
                from,
                feedback,
                replan,
                ..
            }) = approval.then
            {
                b.issue(IssueSpec {
                    to,
                    from,
                    feedback,
                    replan,
                    ..IssueSpec::default()
                });
            }
        }
        GateKind::Publish => {
            b.st.swarm.publish_approved = true;
            b.ev("APPROVED", None, Some(step), "publishing was approved");
        }
    }
    Some(b.done())
}

/// `git swarm next --reject` at a gate: a person turned the plan (or the work before
/// publishing) down; the planner plans again with their words, counted as a re-plan.
pub(crate) fn reject_at_gate(
    ctx: &mut Ctx,
    facts: &Facts,
    st: &RunStatus,
    feedback: &str,
) -> Transition {
    let mut b = Builder::new(ctx, facts, st.clone());
    b.st.swarm.approval = None;
    b.st.swarm.plan_approved = false;
    b.st.swarm.publish_approved = false;
    b.st.swarm.phase = Phase::Awaiting;
    let planner = b.ctx.cfg.first_step().name.clone();
    let fb = format!("rejected by a person: {}", feedback.trim());
    let step = b.st.swarm.step;
    b.ev("REJECTED", Some(&planner), Some(step), fb.clone());
    b.replan_or_escalate(&planner, vec![fb]);
    b.done()
}

/// A complete batch: merge its branches into the run's branch.
pub(crate) fn merge_batch(ctx: &mut Ctx, facts: &Facts, st: &RunStatus) -> Transition {
    let mut b = Builder::new(ctx, facts, st.clone());
    b.merge_batch();
    b.done()
}

/// After a batch's branches were merged (the previous transition): the next batch, or the
/// merged result to the next agent — with facts gathered after the merge.
pub(crate) fn after_merge(ctx: &mut Ctx, facts: &Facts, st: &RunStatus) -> Transition {
    let mut b = Builder::new(ctx, facts, st.clone());
    b.after_merge();
    b.done()
}

/// Why `retry` refuses.
/// Why a run cannot be re-opened; the command line words it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// The run is in progress: nothing to retry.
    InProgress,
    /// Completed or canceled runs stay ended.
    Ended(Outcome),
    /// The run recorded nothing to resume.
    NothingToResume(Outcome),
    /// The standards gate still fails (why).
    StandardsStillFail(String),
}

/// `git swarm retry`: re-opens a failed or escalated run where it stopped.
pub(crate) fn retry(ctx: &mut Ctx, facts: &Facts, st: &RunStatus) -> Result<Transition, Refusal> {
    match st.outcome {
        Outcome::InProgress => return Err(Refusal::InProgress),
        Outcome::Completed | Outcome::Canceled => return Err(Refusal::Ended(st.outcome)),
        _ => {}
    }
    let Some(resume) = st.swarm.resume.clone() else {
        return Err(Refusal::NothingToResume(st.outcome));
    };
    if let (Resume::StandardsGate, Err(why)) = (&resume, &facts.standards) {
        return Err(Refusal::StandardsStillFail(why.clone()));
    }
    let mut b = Builder::new(ctx, facts, st.clone());
    // The worktree is gone (the executor saw so and found its place again): it is made
    // again, on the run's own branch, before the agent is invoked.
    if matches!(facts.worktree_slot, Some(Ok(_))) && b.st.worktree_path.is_some() {
        b.st.worktree_path = None;
        b.st.branch = None;
    }
    b.st.outcome = Outcome::InProgress;
    b.st.failure_reason = None;
    b.st.swarm.resume = None;
    b.st.swarm.advice = None;
    b.st.swarm.phase = Phase::Awaiting;
    let step = b.st.swarm.step;
    match resume {
        Resume::StandardsGate => {
            b.ev("RETRY", None, Some(step), "standards are in place now");
            if b.st.swarm.pending.is_empty() {
                let first = b.ctx.cfg.first_step().name.clone();
                b.issue(IssueSpec {
                    to: first,
                    ..IssueSpec::default()
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
                ..IssueSpec::default()
            });
        }
        Resume::Batch => {
            b.ev(
                "RETRY",
                None,
                Some(step),
                "re-open the workers without a result",
            );
            b.reissue_batch();
        }
        Resume::Publish => {
            b.ev("RETRY", None, Some(step), "publish again");
            b.st.swarm.phase = Phase::Publish;
        }
        Resume::Follow => {
            // Published already: the follow phase goes on from what the branch holds now
            // (a person may have pushed to it).
            b.ev("RETRY", None, Some(step), "the follow phase goes on");
            b.st.outcome = Outcome::Completed;
            b.st.swarm.phase = Phase::Finished;
            if let Some(p) = b.st.swarm.publish.as_mut() {
                p.pushed = None;
            }
        }
    }
    Ok(b.done())
}

/// `git swarm abort`: the run is canceled; the worktree is removed only when the executor
/// established that nothing would be lost (`remove_worktree`). Needs no config, so a run can
/// be canceled even when its config is broken.
pub(crate) fn abort(
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
    st.swarm.advice = None;
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

/// Exec mode: an agent wrote a result that does not validate and has attempts left. The
/// result is moved aside, the relaunch is counted (`retry-counts`, a `RELAUNCH` event) and the
/// agent is invoked again with the violations in its handoff and prompt.
pub(crate) fn relaunch(
    ctx: &mut Ctx,
    facts: &Facts,
    st: &RunStatus,
    arrival: Arrival,
    problems: Vec<String>,
) -> Transition {
    let mut b = Builder::new(ctx, facts, st.clone());
    let Some(inv) = b.st.swarm.pending.get(arrival.slot).cloned() else {
        return b.done();
    };
    let stem = inv.stem();
    b.count_result_usage(&inv, arrival.usage);
    b.effects.push(Effect::Move {
        from: arrival.file.clone(),
        to: b
            .ctx
            .run
            .archive_dir()
            .join(format!("step-{:04}.{stem}.invalid.json", inv.step)),
    });
    let mut feedback = vec![format!(
        "your result {} was not valid against {}; fix every problem below and write it again",
        inv.result,
        b.ctx
            .cfg
            .agent(&inv.agent)
            .map(|a| a.schema_path.path.display().to_string())
            .unwrap_or_else(|| "its schema".into())
    )];
    feedback.extend(problems.iter().cloned());
    let why = format!("the result was invalid ({})", problems.join("; "));
    b.counted_relaunch(&inv, arrival.slot, &why, feedback);
    b.done()
}

/// Exec mode: an agent ended without writing its result, or timed out, and has attempts
/// left. The relaunch is counted (`retry-counts`, a `RELAUNCH` event) before the agent is
/// launched again, with what was missing in its handoff and prompt.
pub(crate) fn relaunch_missing(
    ctx: &mut Ctx,
    facts: &Facts,
    st: &RunStatus,
    slot: usize,
    what: String,
) -> Transition {
    let mut b = Builder::new(ctx, facts, st.clone());
    let Some(inv) = b.st.swarm.pending.get(slot).cloned() else {
        return b.done();
    };
    let feedback = vec![format!(
        "your previous attempt {what}; finish the task and write that file — the run cannot go on without it"
    )];
    b.counted_relaunch(&inv, slot, &what, feedback);
    b.done()
}

/// Exec mode: the runner stopped these agents itself (Ctrl-C); a resumed `run` launches them
/// afresh, and the stop does not count against their retry budget.
pub(crate) fn forget_launches(
    ctx: &mut Ctx,
    facts: &Facts,
    st: &RunStatus,
    slots: &[usize],
    why: &str,
) -> Transition {
    let mut b = Builder::new(ctx, facts, st.clone());
    for &slot in slots {
        let Some(inv) = b.st.swarm.pending.get(slot).cloned() else {
            continue;
        };
        if inv.process.is_none() {
            continue;
        }
        b.ev_worker(
            "STOPPED",
            Some(&inv.agent),
            inv.worker.as_deref(),
            Some(inv.step),
            why.to_string(),
        );
        b.st.swarm.pending[slot].process = None;
    }
    b.done()
}

/// Exec mode: the agent processes just launched, so a resumed `run` recognises them.
pub(crate) fn record_launches(
    ctx: &mut Ctx,
    facts: &Facts,
    st: &RunStatus,
    launched: Vec<(usize, super::state::AgentProcess)>,
) -> Transition {
    let mut b = Builder::new(ctx, facts, st.clone());
    for (slot, p) in launched {
        let Some(inv) = b.st.swarm.pending.get(slot).cloned() else {
            continue;
        };
        b.ev_worker(
            "LAUNCHED",
            Some(&inv.agent),
            inv.worker.as_deref(),
            Some(inv.step),
            format!("pid {}, log {}", p.pid, p.log),
        );
        b.st.swarm.pending[slot].process = Some(p);
    }
    b.done()
}

impl Builder<'_, '_> {
    /// An exec-mode relaunch: counted in `retry-counts`, recorded as a `RELAUNCH` event, then
    /// the agent is invoked again with `feedback` in its handoff and prompt.
    fn counted_relaunch(
        &mut self,
        inv: &super::state::Invocation,
        slot: usize,
        why: &str,
        feedback: Vec<String>,
    ) {
        // A relaunch spends again: over its budget the run stops first, and `retry` (once the
        // limit was raised) relaunches the same invocation.
        if let Some(over) = super::budget::exceeded(&self.ctx.budget, &self.st, &inv.agent) {
            let resume = if inv.worker.is_some() {
                Resume::Batch
            } else {
                Resume::Issue {
                    to: inv.agent.clone(),
                    from: inv.from.clone(),
                    feedback,
                    loop_field: None,
                    replan: false,
                }
            };
            let agent = inv.agent.clone();
            self.stop(
                Outcome::NeedsHuman,
                &agent,
                format!("over budget: {over}"),
                Some(resume),
                false,
            );
            return;
        }
        self.st.bump_retry(&inv.agent);
        self.ev_worker(
            "RELAUNCH",
            Some(&inv.agent),
            inv.worker.as_deref(),
            Some(inv.step),
            format!(
                "attempt {} of {}: {why}",
                inv.attempt + 2,
                self.ctx.cfg.max_retries + 1
            ),
        );
        self.reissue(inv, slot, feedback);
    }
}

/// Exec mode: an agent kept exiting without a valid result; the run fails with its log.
pub(crate) fn fail_pending(
    ctx: &mut Ctx,
    facts: &Facts,
    st: &RunStatus,
    slot: usize,
    reason: String,
) -> Transition {
    let mut b = Builder::new(ctx, facts, st.clone());
    let Some(inv) = b.st.swarm.pending.get(slot).cloned() else {
        return b.done();
    };
    b.ev_worker(
        "WORKER_FAILED",
        Some(&inv.agent),
        inv.worker.as_deref(),
        Some(inv.step),
        reason.clone(),
    );
    b.stop(
        Outcome::Failed,
        &inv.agent,
        reason,
        Some(super::consume::resume_same(&inv, Vec::new())),
        false,
    );
    b.done()
}

/// Exec mode: what an agent's CLI reported spending when it exited, added to the run's totals.
pub(crate) fn record_usage(
    ctx: &mut Ctx,
    facts: &Facts,
    st: &RunStatus,
    slot: usize,
    u: crate::machine::usage::Usage,
) -> Transition {
    let mut b = Builder::new(ctx, facts, st.clone());
    let Some(inv) = b.st.swarm.pending.get(slot).cloned() else {
        return b.done();
    };
    b.count_usage(&inv.agent, u);
    b.st.swarm.pending[slot].usage_reported = true;
    let cost = u.cost_usd.map(|c| format!(", ${c:.4}")).unwrap_or_default();
    b.ev_worker(
        "TOKENS",
        Some(&inv.agent),
        inv.worker.as_deref(),
        Some(inv.step),
        format!(
            "{} tokens{cost} reported by the agent's CLI",
            crate::machine::usage::thousands(u.tokens)
        ),
    );
    b.done()
}
