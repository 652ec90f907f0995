use clap::Args;

use crate::cli::report::{self, Output};
use crate::commands::Context;
use crate::error::{Error, Result};
use crate::machine;

/// Re-open a failed or escalated run at the step where it stopped, once the cause is fixed.
///
/// The agent gets a new handoff with iteration + 1, and retry-counts goes up by one. A loop
/// or re-plan escalation re-opens the hand-off it refused.
#[derive(Debug, Args)]
pub(crate) struct RetryArgs {
    /// The run (default: the most recent run).
    #[arg(long, value_name = "ID")]
    pub run: Option<String>,
}

/// Words why a run cannot be re-opened, and what to do instead.
fn refused(id: &str, standards: &std::path::Path, r: machine::Refusal) -> Error {
    use machine::Refusal;
    let new_run = "start a new run with 'git swarm start <task>'";
    match r {
        Refusal::InProgress => Error::refused(format!(
            "run {id} is in progress; there is nothing to retry"
        ))
        .hint(format!(
            "run 'git swarm next --run {id}' to see what it waits for"
        )),
        Refusal::Ended(outcome) => Error::refused(format!(
            "run {id} is {}; it cannot be re-opened",
            outcome.as_str()
        ))
        .hint(new_run),
        Refusal::NothingToResume(outcome) => Error::refused(format!(
            "run {id} ({}) recorded nothing to resume",
            outcome.as_str()
        ))
        .hint(new_run),
        Refusal::StandardsStillFail(why) => {
            Error::refused(format!("the standards gate still fails: {why}")).hint(format!(
                "write actionable rules in {}, then run 'git swarm retry --run {id}' again",
                standards.display()
            ))
        }
    }
}

pub(crate) fn run(ctx: &Context, args: RetryArgs) -> Result<Output> {
    let session = ctx.session()?;
    let run = session.recent_run(args.run.as_deref())?;
    let tx = crate::driver::Tx::begin(&session, &run)?;
    let st = tx.status()?;
    // Re-opening may create a worktree (and run the setup command in it).
    crate::trust::require(&session, &[crate::trust::Use::Setup], None)?;
    let cfg = tx.config(&st)?;
    let worktrees = crate::driver::worktree_lock(&session, &st, &cfg)?;
    let facts = tx.facts(&st, &cfg, &[])?;
    let status = tx.transition(&cfg, &facts, |mctx, facts| {
        let standards = mctx.standards_path.to_path_buf();
        machine::retry(mctx, facts, &st).map_err(|r| refused(&st.run_id, &standards, r))
    })?;
    drop(worktrees);
    // A result that was waiting (standards gate) is consumed right away.
    let status = if status.outcome.is_in_progress() {
        crate::driver::advance(&tx, None)?
    } else {
        status
    };
    Ok(report::action(&status))
}
