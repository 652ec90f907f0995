use clap::Args;

use crate::cli::report::{self, Output};
use crate::commands::Context;
use crate::error::Result;

/// Advance the run as far as it can without an agent, and print the next action.
///
/// Idempotent: with nothing new it answers the same action again. Exit 0 for an action, 4 when
/// the run is escalated, 5 when it failed.
#[derive(Debug, Args)]
pub(crate) struct NextArgs {
    /// The run (default: the only run in progress).
    #[arg(long, value_name = "ID")]
    pub run: Option<String>,
    /// Reject the waiting result with this feedback (a plan goes back to the planner, any
    /// other step back to its agent).
    #[arg(long, value_name = "FEEDBACK")]
    pub reject: Option<String>,
}

pub(crate) fn run(ctx: &Context, args: NextArgs) -> Result<Output> {
    let session = ctx.session()?;
    let run = session.active_run(args.run.as_deref())?;
    let tx = crate::driver::Tx::begin(&session, &run)?;
    if let Some(r) = &args.reject
        && r.trim().is_empty()
    {
        return Err(crate::error::Error::usage(
            "--reject needs feedback that says what is wrong",
        ));
    }
    let st = crate::driver::advance(&tx, args.reject.as_deref())?;
    Ok(report::action(&st))
}
