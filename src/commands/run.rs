use std::path::PathBuf;

use clap::Args;

use crate::cli::report::{self, Output};
use crate::commands::Context;
use crate::driver::runner::{self, Options};
use crate::error::Result;

/// Exec mode: start a run (or continue one) and drive it to its end with the agent CLIs of the
/// workflow config's exec templates: next → launch the agents → next … → publish.
///
/// Exit codes as for next (0 done, 4 escalated, 5 failed; 130 after Ctrl-C, which stops the
/// agents and leaves the run resumable with --run).
#[derive(Debug, Args)]
pub(crate) struct RunArgs {
    /// Start a new run with this task.
    pub task: Option<String>,
    /// Start a new run with the task in this file.
    #[arg(long, value_name = "FILE", conflicts_with = "task")]
    pub task_file: Option<PathBuf>,
    /// Continue this run (default: the only run in progress).
    #[arg(long, value_name = "ID", conflicts_with_all = ["task", "task_file"])]
    pub run: Option<String>,
    /// After publishing, follow the pull request: wait for its checks and reviews, and hand
    /// failures and comments back to the agents until it is green (policy follow.enabled
    /// does the same).
    #[arg(long)]
    pub follow: bool,
    /// Stop when a batch of parallel workers is handed out and print it (action invoke,
    /// each invocation with its worker): the workers run elsewhere ('git swarm work --run ID
    /// --worker wN' on other clones, e.g. a CI matrix); run this again to merge them and go on.
    #[arg(long)]
    pub workers_elsewhere: bool,
    /// Stop when the run is ready to publish (action publish) instead of publishing.
    #[arg(long)]
    pub no_publish: bool,
}

pub(crate) fn run(ctx: &Context, args: RunArgs) -> Result<Output> {
    let mut opts = Options::for_terminal(ctx.json);
    opts.follow = args.follow;
    opts.workers_elsewhere = args.workers_elsewhere;
    opts.no_publish = args.no_publish;
    let (session, run) = if args.task.is_some() || args.task_file.is_some() {
        // Everything the run will make git swarm run is checked before the run exists
        // (`runner::run` checks a run that exists).
        let session = ctx.session()?;
        let config = session.config_location()?.path;
        crate::trust::require(&session, &crate::trust::Use::ALL, Some(&config))?;
        let start = crate::commands::start::StartArgs {
            task: args.task.clone(),
            task_file: args.task_file.clone(),
        };
        let (session, run, status) = crate::commands::start::start_run(ctx, &start)?;
        if !status.outcome.is_in_progress() {
            return Ok(report::action(&status));
        }
        (session, run)
    } else {
        let session = ctx.session()?;
        // A published run is continued into its follow phase.
        let run = if args.follow {
            session.recent_run(args.run.as_deref())?
        } else {
            session.active_run(args.run.as_deref())?
        };
        (session, run)
    };
    if opts.workers_elsewhere && crate::store::state_remote::backing(&run).is_none() {
        return Err(crate::error::Error::refused(format!(
            "run {}'s state is not on a remote, so no other machine can run its workers",
            run.id
        ))
        .hint(format!(
            "run 'git swarm push --run {}' first (or leave out --workers-elsewhere to run them here)",
            run.id
        )));
    }
    let st = runner::run(&session, &run, &opts)?;
    Ok(crate::commands::publish::with_warnings(
        report::action(&st),
        &st,
    ))
}
