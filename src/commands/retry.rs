use clap::Args;

use crate::cli::report::{self, Output};
use crate::commands::Context;
use crate::driver::gather_facts;
use crate::error::{Error, Result};
use crate::machine;

/// Re-open a failed or escalated run at the step where it stopped, once the cause is fixed.
///
/// The agent gets a new handoff with iteration + 1, and retry-counts goes up by one. A loop
/// or re-plan escalation re-opens the hand-off it refused.
#[derive(Debug, Args)]
pub struct RetryArgs {
    /// The run (default: the most recent run).
    #[arg(long, value_name = "ID")]
    pub run: Option<String>,
}

pub fn run(ctx: &Context, args: RetryArgs) -> Result<Output> {
    let session = ctx.session()?;
    let run = session.recent_run(args.run.as_deref())?;
    let _lock = session.lock(&run)?;
    let st = run.require_status()?;
    // Re-opening may create a worktree (and run the setup command in it).
    crate::trust::require(&session, &[crate::trust::Use::Setup], None)?;
    let cfg = session.run_config(&st)?;
    let worktrees = crate::driver::worktree_lock(&session, &st, &cfg)?;
    let facts = gather_facts(&session, &run, &st, &cfg, &[])?;
    let status = crate::driver::transition(
        &session,
        &run,
        |mctx, facts| {
            machine::retry(mctx, facts, &st).map_err(|r| Error::refused(r.message).hint(r.hint))
        },
        &cfg,
        &facts,
    )?;
    drop(worktrees);
    // A result that was waiting (standards gate) is consumed right away.
    let status = if status.outcome.is_in_progress() {
        crate::driver::advance(&session, &run, None)?
    } else {
        status
    };
    Ok(report::action(&status))
}
