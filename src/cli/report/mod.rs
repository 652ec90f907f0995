//! What commands print: the action contract (JSON) and its human form.

use serde_json::{Value, json};

use crate::machine::{
    ActionKind, action_of,
    state::{GateKind, Outcome, Phase, Resume, RunStatus, Warning},
};

/// A command's answer: the JSON object for `--json`, the text for a person, the exit code.
#[derive(Debug)]
pub struct Output {
    pub json: Value,
    pub text: String,
    pub code: u8,
}

impl Output {
    pub fn new(json: Value, text: String) -> Output {
        Output {
            json,
            text,
            code: 0,
        }
    }
}

/// What the gate a run waits at asks a person to approve.
fn approval_message(st: &RunStatus) -> String {
    match (st.swarm.approval.as_ref().map(|a| a.gate), &st.swarm.plan) {
        (Some(GateKind::Plan), Some(p)) => {
            let mut m = format!(
                "approve the plan '{}' ({} task(s), {}): {}",
                p.friendly_name,
                p.tasks.len(),
                p.path,
                first_line(&p.goal)
            );
            if !p.acceptance.is_empty() {
                m.push_str(&format!("; acceptance: {}", p.acceptance.join("; ")));
            }
            m
        }
        (Some(GateKind::Plan), None) => "approve the plan".to_string(),
        _ => format!(
            "approve publishing: {} passed; the branch {} is pushed once approved",
            st.current_step,
            st.branch.as_deref().unwrap_or("of the run")
        ),
    }
}

fn first_line(s: &str) -> String {
    crate::machine::text::first_line(s)
}

/// What a person runs next for `st`, worded here from the outcome, what the run can resume
/// and the advice the run recorded (which names no command).
pub fn next_step(st: &RunStatus) -> Option<String> {
    let id = &st.run_id;
    let retry = format!("git swarm retry --run {id}");
    let advice = st.swarm.advice.as_deref().unwrap_or("fix the cause");
    Some(match (st.outcome, &st.swarm.resume) {
        (Outcome::InProgress, _) if st.swarm.approval.is_some() => {
            format!("git swarm approve --run {id}")
        }
        (Outcome::InProgress, _) if st.swarm.phase == Phase::Publish => {
            format!("git swarm publish --run {id}")
        }
        (Outcome::InProgress | Outcome::Completed | Outcome::Canceled, _) => return None,
        (_, None) => {
            format!("{advice}, then start a new run with 'git swarm start <task>'")
        }
        (Outcome::Failed, Some(Resume::Publish)) => {
            format!("{advice}, then run 'git swarm publish --run {id}' (or '{retry}')")
        }
        (Outcome::Failed, Some(_)) => format!(
            "{advice}, then run '{retry}' to re-open the run at {}",
            st.current_step
        ),
        (Outcome::DowngradeScope, Some(_)) => {
            format!("{advice}, then run '{retry}' or start a smaller run")
        }
        (_, Some(Resume::Follow)) => format!("{advice}: run 'git swarm follow --run {id}'"),
        (_, Some(_)) => format!("{advice}, then run '{retry}'"),
    })
}

/// What `git swarm follow` answers: `wait` (with `retry-after`), or the action the run's
/// status stands for (a fix pass's `invoke`, `done`, `escalated`).
pub fn follow(st: &RunStatus, answer: Option<&crate::machine::follow::Answer>) -> Output {
    use crate::machine::follow::Answer;
    let mut out = action(st);
    let fs = st.swarm.follow.clone().unwrap_or_default();
    let rounds = json!({"rounds": fs.rounds, "passes": fs.passes.len(), "done": fs.done});
    match answer {
        Some(Answer::Wait {
            seconds,
            waiting_for,
        }) => {
            let message = format!("waiting for {waiting_for}; ask again in {seconds} s");
            out.json["action"] = json!("wait");
            out.json["retry-after"] = json!(seconds);
            out.json["waiting-for"] = json!(waiting_for);
            out.json["message"] = json!(message);
            out.json["hint"] = json!(format!("git swarm follow --run {}", st.run_id));
            out.text = format!(
                "run {}: {message}\nThen: git swarm follow --run {}\n",
                abbrev(&st.run_id, 8),
                st.run_id
            );
            out.code = 0;
        }
        Some(Answer::Done(why)) => {
            out.json["message"] = json!(format!("follow: {why}"));
            out.text = format!(
                "run {}: {why}.\n{}The run has ended.\n",
                abbrev(&st.run_id, 8),
                st.pr_url
                    .as_ref()
                    .map(|u| format!("Pull request: {u}\n"))
                    .unwrap_or_default()
            );
        }
        _ => {}
    }
    out.json["follow"] = rounds;
    out
}

/// At most the first `chars` characters of `s`: a short run id, commit or tree for a person.
/// Ids come from files (a run folder named by hand, an edited status), so they are cut at a
/// character, never at a byte that may not exist or may split one.
pub fn abbrev(s: &str, chars: usize) -> &str {
    match s.char_indices().nth(chars) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

/// The action a run's status stands for, in the contract's shape.
pub fn action(st: &RunStatus) -> Output {
    let kind = action_of(st);
    let id = &st.run_id;
    let invocations: Vec<Value> = if kind == ActionKind::Invoke {
        st.swarm
            .pending
            .iter()
            .map(|inv| {
                let mut v = json!({
                    "agent": inv.agent,
                    "prompt": inv.prompt,
                    "handoff": inv.handoff,
                    "result": inv.result,
                    "cwd": inv.cwd,
                    "step": inv.step,
                    "iteration": inv.iteration,
                });
                if let Some(w) = &inv.worker {
                    v["worker"] = json!(w);
                }
                v
            })
            .collect()
    } else {
        Vec::new()
    };
    let reason = st.failure_reason.clone().unwrap_or_default();
    let message = match kind {
        ActionKind::Invoke => {
            let names: Vec<String> = st
                .swarm
                .pending
                .iter()
                .map(|i| match &i.worker {
                    Some(w) => format!("{} [{w}]", i.agent),
                    None => i.agent.clone(),
                })
                .collect();
            let first = st.swarm.pending.first();
            format!(
                "spawn {}{} (step {}, iteration {}), then run 'git swarm next'",
                names.join(" and "),
                if names.len() > 1 { " in parallel" } else { "" },
                first.map(|i| i.step).unwrap_or(0),
                first.map(|i| i.iteration).unwrap_or(0)
            )
        }
        ActionKind::Approve => approval_message(st),
        ActionKind::Publish => format!("{} passed; run 'git swarm publish'", st.current_step),
        ActionKind::Done => match &st.pr_url {
            Some(u) => format!("run completed: {u}"),
            None => "run completed".to_string(),
        },
        ActionKind::Failed => format!("run failed: {reason}"),
        ActionKind::Escalated => format!("{}: {reason}", st.outcome.as_str()),
        ActionKind::Canceled => "run canceled".to_string(),
    };
    let mut j = json!({
        "run-id": id,
        "outcome": st.outcome.as_str(),
        "action": kind.as_str(),
        "invocations": invocations,
        "message": message,
    });
    if let Some(h) = next_step(st) {
        j["hint"] = json!(h);
    }
    if let Some(w) = &st.worktree_path {
        j["worktreePath"] = json!(w);
    }
    if let Some(b) = &st.branch {
        j["branch"] = json!(b);
    }
    if let Some(u) = &st.pr_url {
        j["prUrl"] = json!(u);
    }

    let mut t = String::new();
    let short = abbrev(id, 8);
    match kind {
        ActionKind::Invoke => {
            for inv in &st.swarm.pending {
                t.push_str(&format!(
                    "run {short} · step {} · {}{} (iteration {})\n",
                    inv.step,
                    inv.agent,
                    inv.worker
                        .as_ref()
                        .map(|w| format!(" [{w}]"))
                        .unwrap_or_default(),
                    inv.iteration
                ));
                t.push_str(&format!(
                    "Spawn the {} subagent with this prompt:\n\n",
                    inv.agent
                ));
                for line in inv.prompt.lines() {
                    t.push_str(&format!("    {line}\n"));
                }
                t.push_str(&format!(
                    "\n  cwd:    {}\n  result: {}\n",
                    inv.cwd, inv.result
                ));
                if let Some(h) = &inv.handoff {
                    t.push_str(&format!("  handoff: {h}\n"));
                }
                t.push('\n');
            }
            t.push_str("When it has written its result, run: git swarm next\n");
        }
        ActionKind::Approve => {
            t.push_str(&format!("run {short}: {}\n", approval_message(st)));
            if let (Some(GateKind::Plan), Some(p)) =
                (st.swarm.approval.as_ref().map(|a| a.gate), &st.swarm.plan)
            {
                for task in &p.tasks {
                    t.push_str(&format!("  task {}: {}\n", task.id, task.description));
                }
                for a in &p.acceptance {
                    t.push_str(&format!("  acceptance: {a}\n"));
                }
            }
            t.push_str(&format!(
                "Approve: git swarm approve --run {id}\nOr send it back: git swarm next --run {id} --reject \"<why>\"\n"
            ));
        }
        ActionKind::Publish => {
            t.push_str(&format!("run {short}: {} passed.\n", st.current_step));
            t.push_str(&format!("Next: git swarm publish --run {id}\n"));
        }
        ActionKind::Done => {
            t.push_str(&format!("run {short} completed.\n"));
            if let Some(u) = &st.pr_url {
                t.push_str(&format!("Pull request: {u}\n"));
            }
            t.push_str("The run has ended.\n");
        }
        ActionKind::Failed | ActionKind::Escalated => {
            t.push_str(&format!("run {short}: {}\n", st.outcome.as_str()));
            t.push_str(&format!("  {reason}\n"));
            if let Some(h) = next_step(st) {
                t.push_str(&format!("Next: {h}\n"));
            }
        }
        ActionKind::Canceled => {
            t.push_str(&format!("run {short} was canceled.\n"));
            if let Some(r) = &st.failure_reason {
                t.push_str(&format!("  {r}\n"));
            }
            t.push_str("The run has ended.\n");
        }
    }
    Output {
        json: j,
        text: t,
        code: kind.exit_code(),
    }
}

/// Adds `warnings` to an action's output: a `warnings` array in the JSON, and before the text
/// a `warning:` line each with what to do.
pub fn add_warnings(mut out: Output, warnings: &[&Warning]) -> Output {
    if warnings.is_empty() {
        return out;
    }
    out.json["warnings"] = json!(warnings);
    let mut extra = String::new();
    for w in warnings {
        extra.push_str(&format!("warning: {}: {}\n", w.reason, w.message));
        if let Some(r) = &w.remediation {
            extra.push_str(&format!("  to do: {r}\n"));
        }
    }
    out.text = format!("{extra}{}", out.text);
    out
}
