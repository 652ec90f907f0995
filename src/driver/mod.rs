//! The imperative shell around the step machine: finds the workspace and the run, reads and
//! validates results, gathers facts from git, calls the pure transition, and performs its
//! effects in the crash-safe order (effects, events, then `run.status.json` last).

pub(crate) mod effects;
mod facts;
pub(crate) mod follow;
mod merging;
pub(crate) mod moving;
pub mod place;
mod predict;
pub mod publish;
pub mod runner;
pub(crate) mod spares;
mod tx;

use std::path::{Path, PathBuf};

use crate::config::Workflow;
use crate::error::{Error, Result};

use crate::machine::{self, Arrival, state::RunStatus};
use crate::store::{RunDir, lock};

pub use crate::store::session::Session;
pub use effects::git_step;
pub use facts::{check_result, gather_facts, read_arrival, symlink_escapes, validate_arrival};
pub use tx::Tx;

/// The result files present for pending invocations, without reading them: `(slot, file)`.
/// A result already moved into the archive by an interrupted transition is found there.
/// Anything at a result's path counts — a FIFO, a directory or a symlink too — so that it is
/// refused at once when it is read, rather than waited for.
pub fn present_results(run: &RunDir, st: &RunStatus) -> Vec<(usize, PathBuf)> {
    let present = |p: &Path| std::fs::symlink_metadata(p).is_ok();
    let mut out = Vec::new();
    for (i, inv) in st.swarm.pending.iter().enumerate() {
        let archived = run.consumed_path(inv.step, &inv.stem());
        if present(&archived) {
            out.push((i, archived));
            continue;
        }
        let p = PathBuf::from(&inv.result);
        if present(&p) {
            out.push((i, p));
        }
    }
    out
}

/// Runs of one repository choose worktree names one at a time: a transition that may create
/// the run's worktree holds this lock from probing a free name to creating it, so two runs
/// planned at the same moment never pick the same branch.
pub fn worktree_lock(
    session: &Session,
    st: &RunStatus,
    cfg: &Workflow,
) -> Result<Option<lock::RunLock>> {
    if !cfg.branching || st.worktree_path.is_some() {
        return Ok(None);
    }
    let l = lock::acquire(
        &session.swarm.runs.join(".worktrees.lock"),
        "worktree creation",
        lock::default_timeout(),
    )?;
    Ok(Some(l))
}

/// Advances an in-progress run as far as it can without an agent. Returns the status after.
pub fn advance(tx: &Tx, reject: Option<&str>) -> Result<RunStatus> {
    let st = advance_keeping(tx, reject)?;
    effects::finish_removals(tx.session, tx.run)?;
    Ok(st)
}

/// [`advance`], leaving the removal of merged workers' worktrees to the caller (exec mode
/// launches the next agents first): `effects::finish_removals`.
pub fn advance_keeping(tx: &Tx, reject: Option<&str>) -> Result<RunStatus> {
    let (session, run) = (tx.session, tx.run);
    let mut st = tx.status()?;
    if st.outcome.is_in_progress() {
        // A run whose state lives on a remote starts level with it (results of workers
        // elsewhere taken in; another machine's step refused).
        crate::store::state_remote::sync(&session.repo()?, &session.ws.root, run)?;
        st = tx.status()?;
        // Any transition may create a worktree and run the policy's setup command in it:
        // refuse before the first one when that command is not trusted.
        crate::trust::require(session, &[crate::trust::Use::Setup], None)?;
    }
    let mut rejected = false;
    // A transition can only be followed by another when results are already waiting (an
    // agent that wrote early); the bound is a guard, never reached in practice.
    for _ in 0..16 {
        if !st.outcome.is_in_progress() {
            break;
        }
        let present = present_results(run, &st);
        // At a gate, a rejection turns the plan (or the work) down: a re-plan.
        if let Some(feedback) = reject.filter(|_| !rejected && st.swarm.approval.is_some()) {
            let cfg = session.run_config(&st)?;
            let facts = tx.facts(&st, &cfg, &[])?;
            st = tx.transition(&cfg, &facts, |ctx, facts| {
                Ok(machine::reject_at_gate(ctx, facts, &st, feedback))
            })?;
            rejected = true;
            continue;
        }
        if let Some(feedback) = reject.filter(|_| !rejected) {
            let Some((slot, file)) = present.into_iter().next() else {
                let waiting: Vec<_> = st.swarm.pending.iter().map(|p| p.agent.as_str()).collect();
                return Err(Error::refused(format!(
                    "nothing to reject: no fresh result of {} in {}",
                    if waiting.is_empty() { "any agent".to_string() } else { waiting.join(", ") },
                    run.path.display()
                ))
                .hint("--reject applies to a result that 'git swarm next' has not consumed yet; read the result first, then call next --reject"));
            };
            let cfg = session.run_config(&st)?;
            let usage = crate::files::read_json(&file).ok().and_then(|v| {
                v.get("tokens")
                    .and_then(|t| crate::machine::usage::from_field(t).ok())
            });
            let arrival = Arrival {
                slot,
                file,
                content: Ok(serde_json::Value::Null),
                violations: Vec::new(),
                plan: None,
                changed: None,
                unattributed: Vec::new(),
                usage,
            };
            let facts = gather_facts(session, run, &st, &cfg, &[])?;
            st = tx.transition(&cfg, &facts, |ctx, facts| {
                Ok(machine::reject(ctx, facts, &st, arrival, feedback))
            })?;
            rejected = true;
            continue;
        }
        if present.is_empty() {
            // A complete batch is merged, then the run continues from the merged content:
            // two transitions, each with the facts of its moment.
            if let Some(batch) = st
                .swarm
                .batch
                .clone()
                .filter(|b| b.complete && st.swarm.pending.is_empty())
            {
                let cfg = session.run_config(&st)?;
                let facts = gather_facts(session, run, &st, &cfg, &[])?;
                st = if batch.merged {
                    tx.transition(&cfg, &facts, |ctx, facts| {
                        Ok(machine::after_merge(ctx, facts, &st))
                    })?
                } else {
                    tx.transition(&cfg, &facts, |ctx, facts| {
                        Ok(machine::merge_batch(ctx, facts, &st))
                    })?
                };
                continue;
            }
            break;
        }
        let cfg = session.run_config(&st)?;
        let _worktrees = worktree_lock(session, &st, &cfg)?;
        let mut arrivals = Vec::new();
        for (slot, file) in present {
            arrivals.push(read_arrival(session, run, &st, &cfg, slot, &file)?);
        }
        crate::trace::mark("advance: results read");
        let facts = gather_facts(session, run, &st, &cfg, &arrivals)?;
        crate::trace::mark("advance: facts gathered");
        let before = st.swarm.seq;
        st = tx.transition(&cfg, &facts, |ctx, facts| {
            Ok(machine::consume(ctx, facts, &st, arrivals))
        })?;
        if st.swarm.seq == before {
            break;
        }
    }
    Ok(st)
}
