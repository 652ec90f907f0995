//! `MANAGER_PLAN.md`: the human view a manager session keeps — the task, the subtasks with
//! their worker assignments and status, and a progress log with offsets from the start — here
//! regenerated from the run's files after every transition.

use std::time::SystemTime;

use crate::files::atomic;
use crate::machine::state::{Outcome, Phase, RunStatus};
use crate::store::{RunDir, events};

pub fn write(run: &RunDir, st: &RunStatus) -> crate::error::Result<()> {
    let log = events::read_all(&run.events_path());
    atomic::write(&run.manager_plan_path(), render(st, &log).as_bytes())
}

fn parse(ts: &str) -> Option<SystemTime> {
    humantime::parse_rfc3339_weak(ts).ok()
}

/// `T+0`, `T+45s`, `T+4m`, `T+2h05m`.
pub fn offset(start: &str, at: &str) -> String {
    let (Some(a), Some(b)) = (parse(start), parse(at)) else {
        return "T+?".to_string();
    };
    let secs = b.duration_since(a).map(|d| d.as_secs()).unwrap_or(0);
    match secs {
        0 => "T+0".to_string(),
        s if s < 60 => format!("T+{s}s"),
        s if s < 3600 => format!("T+{}m", s / 60),
        s => format!("T+{}h{:02}m", s / 3600, (s % 3600) / 60),
    }
}

pub fn render(st: &RunStatus, log: &[events::Event]) -> String {
    let mut s = String::new();
    s.push_str(&format!("# MANAGER_PLAN.md — run {}\n\n", st.run_id));
    s.push_str("## Main Task\n");
    s.push_str(st.swarm.task.text.trim());
    s.push_str("\n\n");
    if let Some(p) = &st.swarm.plan {
        s.push_str(&format!("Goal: {}\n\n", p.goal.trim()));
    }

    s.push_str("## Subtasks\n");
    let finished = matches!(st.swarm.phase, Phase::Publish) || st.outcome == Outcome::Completed;
    match &st.swarm.plan {
        None => s.push_str("(no plan yet)\n"),
        Some(p) => {
            for (i, t) in p.tasks.iter().enumerate() {
                let worker = st
                    .swarm
                    .pending
                    .iter()
                    .find(|inv| inv.tasks.contains(&t.id))
                    .and_then(|inv| inv.worker.clone())
                    .or_else(|| {
                        log.iter()
                            .rev()
                            .find(|e| {
                                e.signal == "SUBTASK_COMPLETE"
                                    && e.message.starts_with(&format!("{} ", t.id))
                            })
                            .and_then(|e| e.worker.clone())
                    })
                    .unwrap_or_else(|| "implementor".to_string());
                let status = task_status(st, log, &t.id, finished);
                let deps = if t.dependencies.is_empty() {
                    String::new()
                } else {
                    format!(" (after {})", t.dependencies.join(", "))
                };
                s.push_str(&format!(
                    "{}. [{worker}] {} — {}{deps} — {status}\n",
                    i + 1,
                    t.id,
                    t.description.trim()
                ));
            }
        }
    }

    s.push_str("\n## Status\n");
    s.push_str(&format!("- Run: {}", st.outcome.as_str().to_uppercase()));
    if st.swarm.phase == Phase::Publish && st.outcome.is_in_progress() {
        s.push_str(" — ready to publish");
    }
    s.push('\n');
    for inv in &st.swarm.pending {
        s.push_str(&format!(
            "- {}{}: IN_PROGRESS — step {}, iteration {}\n",
            inv.agent,
            inv.worker
                .as_ref()
                .map(|w| format!(" [{w}]"))
                .unwrap_or_default(),
            inv.step,
            inv.iteration
        ));
    }
    for (agent, passes) in &st.swarm.passes {
        if !st.swarm.pending.iter().any(|p| &p.agent == agent) {
            s.push_str(&format!(
                "- {agent}: COMPLETED ({passes} pass{})\n",
                if *passes == 1 { "" } else { "es" }
            ));
        }
    }
    if let Some(r) = &st.failure_reason {
        s.push_str(&format!("- Reason: {r}\n"));
    }

    s.push_str("\n## Progress Log\n");
    for e in log {
        let who = match (&e.agent, &e.worker) {
            (Some(a), Some(w)) => format!("{a} [{w}]: "),
            (Some(a), None) => format!("{a}: "),
            _ => String::new(),
        };
        s.push_str(&format!(
            "- {}: [{}] {who}{}\n",
            offset(&st.created_at, &e.at),
            e.signal,
            e.message.lines().next().unwrap_or_default()
        ));
    }
    s
}

fn task_status(st: &RunStatus, log: &[events::Event], id: &str, finished: bool) -> &'static str {
    if finished {
        return "DONE";
    }
    if st
        .swarm
        .pending
        .iter()
        .any(|p| p.tasks.iter().any(|t| t == id))
    {
        return "IN_PROGRESS";
    }
    if log
        .iter()
        .any(|e| e.signal == "SUBTASK_COMPLETE" && e.message.starts_with(&format!("{id} ")))
    {
        return "IMPLEMENTED";
    }
    // Serial runs: one implementor covers every task; once it reported changes the tasks are
    // implemented and under review or test.
    if st.swarm.files_changed.is_empty() {
        "PENDING"
    } else {
        "IMPLEMENTED"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets() {
        let t0 = "2026-01-01T00:00:00.000Z";
        assert_eq!(offset(t0, t0), "T+0");
        assert_eq!(offset(t0, "2026-01-01T00:00:45Z"), "T+45s");
        assert_eq!(offset(t0, "2026-01-01T00:04:10Z"), "T+4m");
        assert_eq!(offset(t0, "2026-01-01T02:05:00Z"), "T+2h05m");
    }
}
