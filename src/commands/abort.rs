use std::path::Path;

use clap::Args;

use crate::cli::report::{self, Output};
use crate::commands::Context;
use crate::error::{Error, Result};
use crate::git::{self, clean};
use crate::machine::{self, state::Outcome};

/// Cancel a run (outcome canceled).
///
/// Its worktree is removed only when that loses nothing: no uncommitted or untracked files,
/// and every commit is on a remote (or there are none). Otherwise the worktree is kept and the
/// command says why.
#[derive(Debug, Args)]
pub(crate) struct AbortArgs {
    /// The run (default: the most recent run).
    #[arg(long, value_name = "ID")]
    pub run: Option<String>,
    /// Why the run is canceled (recorded in failure-reason).
    #[arg(long, default_value = "aborted by user")]
    pub reason: String,
}

pub(crate) fn run(ctx: &Context, args: AbortArgs) -> Result<Output> {
    let session = ctx.session()?;
    let run = session.recent_run(args.run.as_deref())?;
    let tx = crate::driver::Tx::begin(&session, &run)?;
    let st = tx.status()?;
    match st.outcome {
        Outcome::Completed => {
            return Err(Error::refused(format!(
                "run {} is completed; there is nothing to abort",
                run.id
            ))
            .hint("'git swarm status' shows what it did"));
        }
        Outcome::Canceled => return Ok(report::action(&st)),
        _ => {}
    }
    let (remove, note) = match st
        .worktree_path
        .as_deref()
        .filter(|w| Path::new(w).exists())
    {
        None => (None, None),
        // An earlier abort decided to remove it and was cut short: finished.
        Some(w) if crate::driver::effects::removal_cut_short(&run, Path::new(w))? => (
            Some(w.to_string()),
            Some(format!(
                "removed the worktree {w} (finishing a removal that was cut short; the branch stays)"
            )),
        ),
        Some(w) => match keep_reason(w, &st.swarm.base_commit) {
            Ok(None) => (
                Some(w.to_string()),
                Some(format!(
                    "removed the worktree {w} (nothing was lost; the branch stays)"
                )),
            ),
            Ok(Some(why)) => (None, Some(format!("kept the worktree {w}: {why}"))),
            Err(e) => (
                None,
                Some(format!(
                    "kept the worktree {w}: could not check it ({})",
                    e.message
                )),
            ),
        },
    };
    let t = machine::abort(&crate::store::now(), &st, &args.reason, remove);
    tx.apply(&t)?;
    // Spare worktrees checked out while the planner worked: nothing of anyone's is in them.
    crate::driver::spares::drop_all(&session, &run)?;
    let mut out = report::action(&t.status);
    if let Some(n) = note {
        out.json["worktree"] = serde_json::json!(n);
        out.text = format!("{n}\n{}", out.text);
    }
    Ok(out)
}

/// Why removing the worktree at `path` would lose work, if it would.
fn keep_reason(path: &str, base: &str) -> Result<Option<String>> {
    let repo = git::open(Path::new(path))?;
    let dirt = clean::dirt(&repo, true)?;
    if !dirt.is_empty() {
        return Ok(Some(format!(
            "it has uncommitted or untracked changes:\n{}",
            clean::describe(&dirt)
        )));
    }
    let head = git::worktree_head(Path::new(path)).unwrap_or_default();
    if head == base {
        return Ok(None);
    }
    if git::query::head_on_a_remote(Path::new(path)) {
        Ok(None)
    } else {
        Ok(Some("its commits are not on any remote yet (push the branch, or delete the worktree yourself)".to_string()))
    }
}
