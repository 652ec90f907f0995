use clap::Args;

use crate::cli::report::{self, Output};
use crate::commands::Context;
use crate::driver::moving::{self, Worktrees};
use crate::error::Result;

/// Take a run from a remote onto this clone and continue it here.
///
/// Fetches the run's state (refs/swarm/runs/<id>) and writes .swarm/runs/<id> from it, with
/// the paths of the machine that wrote it moved to this clone's; fetches the run's branch and
/// its workers' in flight and makes their worktrees here; then prints the next action, as
/// 'git swarm next' would. From then on the run's state lives on the remote: each transition
/// here claims its step there first, so a machine holding an older copy is refused (exit 3)
/// and changes nothing. A copy here with steps the remote lacks is refused unless --force.
#[derive(Debug, Args)]
pub(crate) struct ResumeArgs {
    /// The run's id (in full: it names the state ref).
    #[arg(value_name = "ID")]
    pub id: String,
    /// The remote to take it from.
    #[arg(long, value_name = "NAME", default_value = "origin")]
    pub remote: String,
    /// Replace a copy here that has steps the remote does not have.
    #[arg(long)]
    pub force: bool,
}

pub(crate) fn run(ctx: &Context, args: ResumeArgs) -> Result<Output> {
    let session = ctx.session()?;
    let (_, st) = moving::resume(
        &session,
        &args.id,
        &args.remote,
        args.force,
        &Worktrees::All,
    )?;
    let mut out = report::action(&st);
    out.json["remote"] = serde_json::json!(args.remote);
    out.text = format!(
        "run {} taken from {} at step {} ({})\n{}",
        st.run_id, args.remote, st.swarm.step, st.current_step, out.text
    );
    Ok(out)
}
