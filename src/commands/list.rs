use clap::Args;
use serde_json::json;

use crate::cli::report::Output;
use crate::commands::Context;
use crate::error::Result;
use crate::machine::action_of;

/// List the runs of this repository, one line each, oldest first.
#[derive(Debug, Args)]
pub(crate) struct ListArgs {}

pub(crate) fn run(ctx: &Context, _args: ListArgs) -> Result<Output> {
    let session = ctx.session()?;
    let runs = session.swarm.all_runs()?;
    let mut rows = Vec::new();
    let mut t = String::new();
    for (run, st) in &runs {
        match st {
            Ok(st) => {
                let action = action_of(st);
                let (tokens, cost) = crate::machine::usage::totals(st);
                rows.push(json!({
                    "run-id": st.run_id,
                    "outcome": st.outcome.as_str(),
                    "action": action.as_str(),
                    "current-step": st.current_step,
                    "created-at": st.created_at,
                    "updated-at": st.updated_at,
                    "branch": st.branch,
                    "prUrl": st.pr_url,
                    "task": crate::machine::text::first_line(&st.swarm.task.text),
                    "tokens": tokens,
                    "costUsd": cost,
                }));
                t.push_str(&format!(
                    "{}  {} {:<12} {}  {:>9}  {}  {}\n",
                    crate::cli::report::abbrev(&st.run_id, 8),
                    crate::cli::style::paint(
                        crate::cli::style::Stream::Stdout,
                        crate::cli::style::outcome(st.outcome.as_str()),
                        &format!("{:<28}", st.outcome.as_str())
                    ),
                    st.current_step,
                    st.created_at.get(..19).unwrap_or(&st.created_at),
                    tokens.map(compact).unwrap_or_else(|| "-".into()),
                    st.branch.as_deref().unwrap_or("-"),
                    crate::machine::text::first_line(&st.swarm.task.text)
                ));
            }
            Err(e) => {
                rows.push(json!({"run-id": run.id, "error": e.message}));
                t.push_str(&format!(
                    "{}  unreadable: {}\n",
                    crate::cli::report::abbrev(&run.id, 8),
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

/// A token count for a column: `950`, `12.3k`, `4.1M`.
fn compact(n: u64) -> String {
    match n {
        0..=999 => n.to_string(),
        1_000..=999_999 => format!("{:.1}k", n as f64 / 1e3),
        _ => format!("{:.1}M", n as f64 / 1e6),
    }
}
