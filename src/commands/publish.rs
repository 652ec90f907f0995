use clap::Args;

use crate::cli::Context;
use crate::error::Result;
use crate::publish::{self, Options};
use crate::report::{self, Output};

/// Publish a run whose last agent passed: commit leftovers, push swarm/<name>, open the pull
/// request with the remote's tool, remove the worktree.
///
/// Re-runnable: every step already done is skipped, and a second run never opens a second pull
/// request. Pull-request problems are warnings; a failed push fails the run (exit 5) and keeps
/// the worktree.
#[derive(Debug, Args)]
pub struct PublishArgs {
    /// The run (default: the only run in progress).
    #[arg(long, value_name = "ID")]
    pub run: Option<String>,
    /// Open the pull request as a draft (also policies.pr.createDraft).
    #[arg(long)]
    pub draft: bool,
}

pub fn run(ctx: &Context, args: PublishArgs) -> Result<Output> {
    let session = ctx.session()?;
    let run = session.active_run(args.run.as_deref())?;
    let _lock = session.lock(&run)?;
    let st = publish::publish(&session, &run, &Options { draft: args.draft })?;
    Ok(with_warnings(report::action(&st), &st))
}

/// Adds the publishing warnings (with their remediation) to an action's output.
pub fn with_warnings(mut out: Output, st: &crate::machine::state::RunStatus) -> Output {
    let warnings: Vec<_> = st
        .warnings
        .iter()
        .filter(|w| {
            w.reason.starts_with("pr-")
                || w.reason.starts_with("worktree")
                || w.reason == "nothing-to-publish"
        })
        .collect();
    if !warnings.is_empty() {
        out.json["warnings"] = serde_json::json!(warnings);
        let mut extra = String::new();
        for w in warnings {
            extra.push_str(&format!("warning: {}: {}\n", w.reason, w.message));
            if let Some(r) = &w.remediation {
                extra.push_str(&format!("  to do: {r}\n"));
            }
        }
        out.text = format!("{extra}{}", out.text);
    }
    out
}
