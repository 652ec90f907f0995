use clap::Args;
use serde_json::json;

use crate::cli::Context;
use crate::error::Result;
use crate::machine::action_of;
use crate::report::Output;

/// List the runs of this repository, one line each, oldest first.
#[derive(Debug, Args)]
pub struct ListArgs {}

pub fn run(ctx: &Context, _args: ListArgs) -> Result<Output> {
    let session = ctx.session()?;
    let runs = session.swarm.all_runs()?;
    let mut rows = Vec::new();
    let mut t = String::new();
    for (run, st) in &runs {
        match st {
            Ok(st) => {
                let action = action_of(st);
                rows.push(json!({
                    "run-id": st.run_id,
                    "outcome": st.outcome.as_str(),
                    "action": action.as_str(),
                    "current-step": st.current_step,
                    "created-at": st.created_at,
                    "updated-at": st.updated_at,
                    "branch": st.branch,
                    "prUrl": st.pr_url,
                    "task": crate::driver::first_line(&st.swarm.task.text),
                }));
                t.push_str(&format!(
                    "{}  {:<28} {:<12} {}  {}  {}\n",
                    &st.run_id[..8],
                    st.outcome.as_str(),
                    st.current_step,
                    st.created_at.get(..19).unwrap_or(&st.created_at),
                    st.branch.as_deref().unwrap_or("-"),
                    crate::driver::first_line(&st.swarm.task.text)
                ));
            }
            Err(e) => {
                rows.push(json!({"run-id": run.id, "error": e.message}));
                t.push_str(&format!(
                    "{}  unreadable: {}\n",
                    &run.id[..run.id.len().min(8)],
                    e.message
                ));
            }
        }
    }
    if runs.is_empty() {
        t.push_str("no runs yet; start one with: git swarm start \"<task>\"\n");
    }
    Ok(Output::new(json!({"runs": rows}), t))
}
