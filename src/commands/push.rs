use clap::Args;
use serde_json::json;

use crate::cli::report::Output;
use crate::commands::Context;
use crate::error::{Error, Result};
use crate::store::state_ref::{self, ref_name};
use crate::store::state_remote::{self, Backing};

/// Push a run to a remote, so that it can continue on another clone.
///
/// Pushes the run's state (refs/swarm/runs/<id>: the run folder as a commit after every
/// transition), its branch and the branches of its workers in flight, in one atomic push. From
/// then on every transition of the run on this clone first claims its step on the remote and
/// then pushes the new state with a lease on the old one: of two machines advancing the same
/// run, one is refused (exit 3) and changes nothing. On another clone, 'git swarm resume <id>'
/// takes the run.
#[derive(Debug, Args)]
pub(crate) struct PushArgs {
    /// The run (default: the most recent run).
    #[arg(long, value_name = "ID")]
    pub run: Option<String>,
    /// The remote (default: the one the run was pushed to or taken from, else origin).
    #[arg(long, value_name = "NAME")]
    pub remote: Option<String>,
}

pub(crate) fn run(ctx: &Context, args: PushArgs) -> Result<Output> {
    let session = ctx.session()?;
    let run = session.recent_run(args.run.as_deref())?;
    let tx = crate::driver::Tx::begin(&session, &run)?;
    tx.status()?;
    let repo = session.repo()?;
    let root = session.ws.root.clone();
    if state_ref::head(&run).is_none() {
        let expected = state_ref::expected(&repo, &run)?;
        state_ref::record(&repo, &run, "record the run folder", expected)?;
    }
    let mut b = match (state_remote::backing(&run), &args.remote) {
        (Some(b), Some(r)) if b.remote == *r => b,
        (Some(b), None) => b,
        (_, r) => Backing {
            remote: r.clone().unwrap_or_else(|| "origin".into()),
            ..Backing::default()
        },
    };
    crate::git::require_remote(&repo, &b.remote)?;
    state_remote::push_pending(&repo, &root, &run, &mut b).map_err(|e| {
        if b.pushed.is_none() {
            Error::refused(format!(
                "the remote '{}' has a state of run {} already ({})",
                b.remote,
                run.id,
                ref_name(&run.id)
            ))
            .hint(format!(
                "to continue the run from there: 'git swarm resume {} --remote {}'",
                run.id, b.remote
            ))
        } else {
            e
        }
    })?;
    state_remote::save(&run, &b)?;
    let branches: Vec<&String> = b.branches.keys().collect();
    let text = format!(
        "run {} pushed to {}: {}{}\ncontinue it on another clone with 'git swarm resume {} --remote {}'\n",
        run.id,
        b.remote,
        ref_name(&run.id),
        if branches.is_empty() {
            String::new()
        } else {
            format!(
                ", {}",
                branches
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        },
        run.id,
        b.remote
    );
    Ok(Output::new(
        json!({
            "run-id": run.id,
            "remote": b.remote,
            "ref": ref_name(&run.id),
            "state": b.pushed,
            "branches": b.branches,
        }),
        text,
    ))
}
