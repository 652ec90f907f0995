use clap::Args;
use serde_json::json;

use crate::cli::report::{self, Output};
use crate::commands::Context;
use crate::error::Result;
use crate::machine::state::RunStatus;
use crate::store::events;
use crate::store::manager_plan::offset;

/// Show one run in detail: a timeline of its steps, counters, warnings and paths.
#[derive(Debug, Args)]
pub(crate) struct StatusArgs {
    /// The run (default: the most recent run).
    #[arg(long, value_name = "ID")]
    pub run: Option<String>,
}

pub(crate) fn run(ctx: &Context, args: StatusArgs) -> Result<Output> {
    let session = ctx.session()?;
    let run = session.recent_run(args.run.as_deref())?;
    let st = run.require_status()?;
    let log = events::read_all(&run.events_path());
    let cfg = session.run_config(&st).ok();
    let action = report::action(&st);

    let limits: Vec<(String, u32, Option<u32>)> = counters(&st, cfg.as_deref());
    let mut j = json!({
        "run": st,
        "action": action.json,
        "events": log,
        "paths": {
            "runDir": run.path,
            "status": run.status_path(),
            "handoff": run.handoff_path(),
            "events": run.events_path(),
            "managerPlan": run.manager_plan_path(),
            "worktree": st.worktree_path,
        },
        "results": st.swarm.results,
    });
    let (tokens, cost) = crate::machine::usage::totals(&st);
    let split = crate::machine::usage::split_total(&st);
    j["tokens"] = json!({
        "total": tokens,
        "input": split.input,
        "output": split.output,
        "cacheRead": split.cache_read,
        "cacheWrite": split.cache_write,
        "byAgent": st.step_tokens,
        "splitByAgent": st.swarm.token_split,
        "costUsd": cost,
        "costByAgent": st.swarm.cost_usd
    });
    let budget = session
        .policies()
        .map(|p| crate::machine::budget::Budget::of_policy(&p.budget))
        .unwrap_or_default();
    if !budget.is_empty() {
        j["budget"] = json!({
            "maxTokens": budget.run.max_tokens,
            "maxCostUsd": budget.run.max_cost_usd,
            "agents": budget.agents.iter().map(|(a, l)| (a.clone(), json!({"maxTokens": l.max_tokens, "maxCostUsd": l.max_cost_usd}))).collect::<serde_json::Map<_, _>>(),
        });
    }
    if let Some(v) = &st.swarm.verification {
        j["verification"] = json!(v);
    }
    if let Some(f) = &st.swarm.follow {
        j["follow"] = json!(f);
    }
    j["counters"] = json!(
        limits
            .iter()
            .map(|(k, v, m)| json!({"field": k, "value": v, "max": m}))
            .collect::<Vec<_>>()
    );

    let mut t = String::new();
    t.push_str(&format!(
        "run {}  {}  ({})\n",
        st.run_id,
        crate::cli::style::paint(
            crate::cli::style::Stream::Stdout,
            crate::cli::style::outcome(st.outcome.as_str()),
            st.outcome.as_str()
        ),
        action.json["action"].as_str().unwrap_or_default()
    ));
    t.push_str(&format!(
        "task:      {}\n",
        crate::machine::text::first_line(&st.swarm.task.text)
    ));
    t.push_str(&format!(
        "created:   {}   updated: {}\n",
        st.created_at, st.updated_at
    ));
    t.push_str(&format!(
        "step:      {} ({})\n",
        st.swarm.step, st.current_step
    ));
    t.push_str(&format!(
        "base:      {}{}\n",
        crate::cli::report::abbrev(&st.swarm.base_commit, 12),
        st.swarm
            .start_branch
            .as_ref()
            .map(|b| format!(" (from {b})"))
            .unwrap_or_default()
    ));
    if let Some(p) = &st.swarm.plan {
        t.push_str(&format!(
            "plan:      {} — {} task(s), {}\n",
            p.friendly_name,
            p.tasks.len(),
            p.path
        ));
    }
    if let Some(b) = &st.branch {
        t.push_str(&format!("branch:    {b}\n"));
    }
    if let Some(w) = &st.worktree_path {
        t.push_str(&format!(
            "worktree:  {w}{}\n",
            if std::path::Path::new(w).exists() {
                ""
            } else {
                " (removed)"
            }
        ));
    }
    if let Some(u) = &st.pr_url {
        t.push_str(&format!("pr:        {u}\n"));
    }
    t.push_str(&format!("run dir:   {}\n", run.path.display()));
    if !limits.is_empty() {
        let parts: Vec<String> = limits
            .iter()
            .map(|(k, v, m)| match m {
                Some(m) => format!("{k} {v}/{m}"),
                None => format!("{k} {v}"),
            })
            .collect();
        t.push_str(&format!("counters:  {}\n", parts.join(", ")));
    }
    if !st.retry_counts.is_empty() {
        let parts: Vec<String> = st
            .retry_counts
            .iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect();
        t.push_str(&format!("retries:   {}\n", parts.join(", ")));
    }
    for (label, line) in crate::machine::usage::describe(&st) {
        t.push_str(&format!("{:<11}{line}\n", format!("{label}:")));
    }
    if !budget.is_empty() {
        t.push_str(&format!(
            "budget:    {}\n",
            budget_line(&budget, tokens, cost)
        ));
    }
    if let Some(v) = &st.swarm.verification {
        let verdict = if v.passed { "passed" } else { "failed" };
        t.push_str(&format!("verified:  {verdict}\n"));
        for line in v.lines() {
            t.push_str(&format!("           {line}\n"));
        }
    }
    if let Some(f) = &st.swarm.follow {
        let state = if f.done {
            "done".to_string()
        } else if let Some(w) = &f.waiting {
            format!("waiting for {w}")
        } else {
            "following".to_string()
        };
        t.push_str(&format!(
            "follow:    {state}; {} fix pass(es), {} comment(s) answered\n",
            f.rounds,
            f.replied.len()
        ));
    }
    if let Some(r) = &st.failure_reason {
        t.push_str(&format!("reason:    {r}\n"));
    }
    t.push_str("\ntimeline:\n");
    for e in &log {
        let who = match (&e.agent, &e.worker) {
            (Some(a), Some(w)) => format!("{a}[{w}]: "),
            (Some(a), None) => format!("{a}: "),
            _ => String::new(),
        };
        t.push_str(&format!(
            "  {:<8} {:<20} {who}{}\n",
            offset(&st.created_at, &e.at),
            e.signal,
            e.message.lines().next().unwrap_or_default()
        ));
    }
    if !st.swarm.results.is_empty() {
        t.push_str("\nlatest results:\n");
        for (a, p) in &st.swarm.results {
            t.push_str(&format!("  {a:<16} {p}\n"));
        }
    }
    if !st.warnings.is_empty() {
        t.push_str("\nwarnings:\n");
        for w in &st.warnings {
            t.push_str(&format!(
                "  - {}: {}\n",
                crate::cli::style::paint(
                    crate::cli::style::Stream::Stdout,
                    crate::cli::style::Style::Warn,
                    &w.reason
                ),
                w.message
            ));
            if let Some(r) = &w.remediation {
                t.push_str(&format!("    {r}\n"));
            }
        }
    }
    t.push('\n');
    t.push_str(action.text.lines().last().unwrap_or_default());
    t.push('\n');
    Ok(Output::new(j, t))
}

/// Loop and replan counters with their limits (when the config is readable).
fn counters(
    st: &RunStatus,
    cfg: Option<&crate::config::Workflow>,
) -> Vec<(String, u32, Option<u32>)> {
    st.counters
        .iter()
        .map(|(k, v)| {
            let max = cfg.and_then(|c| {
                c.loop_control
                    .iter()
                    .find(|l| &l.count_field == k)
                    .map(|l| l.max_loops)
                    .or((c.planning.replan_count_field == *k).then_some(c.max_replans))
            });
            (k.clone(), *v, max)
        })
        .collect()
}

/// What the run spent against its budget: `12,000 of 50,000 tokens · $0.40 of $5.00`, and
/// each agent's limit.
fn budget_line(
    b: &crate::machine::budget::Budget,
    tokens: Option<u64>,
    cost: Option<f64>,
) -> String {
    use crate::machine::usage::thousands;
    let mut parts = Vec::new();
    if let Some(max) = b.run.max_tokens {
        parts.push(format!(
            "{} of {} tokens",
            thousands(tokens.unwrap_or(0)),
            thousands(max)
        ));
    }
    if let Some(max) = b.run.max_cost_usd {
        parts.push(format!("${:.2} of ${max:.2}", cost.unwrap_or(0.0)));
    }
    for (agent, l) in &b.agents {
        if let Some(max) = l.max_tokens {
            parts.push(format!("{agent} at most {} tokens", thousands(max)));
        }
        if let Some(max) = l.max_cost_usd {
            parts.push(format!("{agent} at most ${max:.2}"));
        }
    }
    parts.join(" · ")
}
