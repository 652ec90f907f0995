use clap::Args;

use crate::cli::report::{self, Output};
use crate::commands::Context;
use crate::driver::publish::{self, Options};
use crate::error::Result;

/// Publish a run whose last agent passed: commit leftovers, push swarm/<name>, open the pull
/// request with the remote's tool, remove the worktree.
///
/// Re-runnable: every step already done is skipped, and a second run never opens a second pull
/// request. With no run in progress and no --run, the most recent run is meant when it was
/// published (the answer is "done" with its pull request again) or its push failed. Pull-request problems are warnings; a failed push fails the run (exit 5) and keeps
/// the worktree.
#[derive(Debug, Args)]
pub(crate) struct PublishArgs {
    /// The run (default: the only run in progress, else the most recent run if it was
    /// published).
    #[arg(long, value_name = "ID")]
    pub run: Option<String>,
    /// Open the pull request as a draft (also policies.pr.createDraft).
    #[arg(long)]
    pub draft: bool,
}

pub(crate) fn run(ctx: &Context, args: PublishArgs) -> Result<Output> {
    let session = ctx.session()?;
    let run = match session.active_run(args.run.as_deref()) {
        Ok(r) => r,
        // Publishing again once the run ended (a host repeating itself): with no run in
        // progress, the most recent run is meant when it was published or its push failed.
        Err(e) if args.run.is_none() => published_run(&session).ok_or(e)?,
        Err(e) => return Err(e),
    };
    let tx = crate::driver::Tx::begin(&session, &run)?;
    let st = publish::publish(&tx, &Options { draft: args.draft })?;
    Ok(with_warnings(report::action(&st), &st))
}

/// The most recent run, when no run is in progress and it completed (publish answers `done`
/// again) or failed pushing (publish tries again).
fn published_run(session: &crate::store::Session) -> Option<crate::store::RunDir> {
    use crate::machine::state::{Outcome, Resume};
    if !session.swarm.active_runs().ok()?.is_empty() {
        return None;
    }
    let (run, st) = session.swarm.all_runs().ok()?.into_iter().next_back()?;
    let st = st.ok()?;
    let publishable = st.outcome == Outcome::Completed
        || (st.outcome == Outcome::Failed && st.swarm.resume == Some(Resume::Publish));
    publishable.then_some(run)
}

/// Adds the publishing warnings (with their remediation) to an action's output.
pub(crate) fn with_warnings(out: Output, st: &crate::machine::state::RunStatus) -> Output {
    let warnings: Vec<_> = st
        .warnings
        .iter()
        .filter(|w| {
            w.reason.starts_with("pr-")
                || w.reason.starts_with("worktree")
                || w.reason == "nothing-to-publish"
        })
        .collect();
    report::add_warnings(out, &warnings)
}
