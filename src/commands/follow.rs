use clap::Args;

use crate::cli::report::{self, Output};
use crate::commands::Context;
use crate::error::Result;

/// Follow a published run's pull request: read its checks, review and comments, and answer
/// with an action.
///
/// `wait` (checks still run, or a review is awaited; `retry-after` says when to ask again),
/// `invoke` (a fix pass with the failing checks' log excerpts and the open comments as
/// feedback: spawn the agent, then `git swarm next` as usual; `publish` pushes to the same
/// branch and pull request), `done` (merged, or every check green and the review done) or
/// `escalated` (exit 4: a finding came back after a pass that was to fix it, follow.maxRounds,
/// the pull request closed). While a fix pass is in progress it answers as `next` does.
#[derive(Debug, Args)]
pub(crate) struct FollowArgs {
    /// The run (default: the most recent run).
    #[arg(long, value_name = "ID")]
    pub run: Option<String>,
}

pub(crate) fn run(ctx: &Context, args: FollowArgs) -> Result<Output> {
    let session = ctx.session()?;
    let run = session.recent_run(args.run.as_deref())?;
    let tx = crate::driver::Tx::begin(&session, &run)?;
    let f = crate::driver::follow::follow(&tx)?;
    Ok(report::follow(&f.status, f.answer.as_ref()))
}
