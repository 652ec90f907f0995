use clap::Args;

use crate::cli::report::{self, Output};
use crate::commands::Context;
use crate::error::{Error, Result};
use crate::machine;

/// Approve the gate a run waits at (policies.approval): the accepted plan, or publishing.
///
/// Answers with the next action, as `next` does: the plan's first hand-off, or `publish`.
/// To turn the plan or the work down instead, run `git swarm next --reject "<why>"` (a re-plan).
#[derive(Debug, Args)]
pub(crate) struct ApproveArgs {
    /// The run (default: the only run in progress).
    #[arg(long, value_name = "ID")]
    pub run: Option<String>,
}

pub(crate) fn run(ctx: &Context, args: ApproveArgs) -> Result<Output> {
    let session = ctx.session()?;
    let run = session.active_run(args.run.as_deref())?;
    let tx = crate::driver::Tx::begin(&session, &run)?;
    let st = tx.status()?;
    if st.swarm.approval.is_none() || !st.outcome.is_in_progress() {
        return Err(Error::refused(format!(
            "run {} waits for no approval (its action is {})",
            run.id,
            machine::action_of(&st).as_str()
        ))
        .hint(format!(
            "'git swarm next --run {}' says what it waits for",
            run.id
        )));
    }
    // Approving the plan hands work out: the worktree may be made and set up.
    crate::trust::require(&session, &[crate::trust::Use::Setup], None)?;
    let cfg = tx.config(&st)?;
    let worktrees = crate::driver::worktree_lock(&session, &st, &cfg)?;
    let facts = tx.facts(&st, &cfg, &[])?;
    let status = tx.transition(&cfg, &facts, |mctx, facts| {
        machine::approve(mctx, facts, &st)
            .ok_or_else(|| Error::refused(format!("run {} waits for no approval", st.run_id)))
    })?;
    drop(worktrees);
    Ok(report::action(&status))
}
