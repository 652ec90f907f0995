//! Deciding where a result goes next (`handoff-to`), and reading the few things the machine
//! needs from a result: did it succeed, what does it say, what must be fixed.

use serde_json::Value;

use crate::config::Workflow;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// Hand off to this agent.
    Next(String),
    /// The last agent finished; `Ok` when it succeeded.
    Finish(Result<(), String>),
    /// A single-option agent reported failure.
    Fail(String),
    /// No rule decides; a human must (never guess).
    Escalate(String),
}

const SUCCESS: &[&str] = &[
    "passed",
    "completed",
    "complete",
    "success",
    "succeeded",
    "ok",
    "done",
    "approved",
];
const FAILURE: &[&str] = &["failed", "error", "failure", "rejected", "blocked"];

fn status_of(result: &Value) -> Option<String> {
    result
        .get("status")
        .and_then(Value::as_str)
        .map(|s| s.trim().to_ascii_lowercase())
}

fn verdict_of(result: &Value) -> Option<String> {
    result
        .get("verdict")
        .and_then(Value::as_str)
        .map(|s| s.trim().to_ascii_lowercase())
}

/// A non-empty `blockedReason`: the agent says it cannot go on without a human.
pub(crate) fn blocked_reason(result: &Value) -> Option<String> {
    result
        .get("blockedReason")
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// The result's `status` says it failed.
pub(crate) fn status_failed(result: &Value) -> bool {
    status_of(result).is_some_and(|s| FAILURE.contains(&s.as_str()))
}

pub(crate) fn is_partial(result: &Value) -> bool {
    status_of(result).as_deref() == Some("partial")
}

/// The result's `summary`, if any.
pub(crate) fn summary(result: &Value) -> String {
    result
        .get("summary")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .trim()
        .to_string()
}

/// What the next agent must address: review `issues` (objects or strings) and test
/// `failures`, one line each.
pub(crate) fn feedback(result: &Value) -> Vec<String> {
    let mut out = Vec::new();
    for issue in result
        .get("issues")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        match issue {
            Value::String(s) => out.push(s.clone()),
            Value::Object(o) => {
                let mut line = String::new();
                if let Some(f) = o.get("file").and_then(Value::as_str) {
                    line.push_str(f);
                    if let Some(l) = o.get("line").and_then(Value::as_i64) {
                        line.push_str(&format!(":{l}"));
                    }
                    line.push_str(": ");
                }
                line.push_str(
                    o.get("description")
                        .and_then(Value::as_str)
                        .unwrap_or("(no description)"),
                );
                if let Some(s) = o.get("standard").and_then(Value::as_str) {
                    line.push_str(&format!(" [standard: {s}]"));
                }
                out.push(line);
            }
            _ => {}
        }
    }
    for f in result
        .get("failures")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if let Some(s) = f.as_str() {
            out.push(s.to_string());
        }
    }
    out
}

/// Files the result says it changed.
pub(crate) fn files_changed(result: &Value) -> Vec<String> {
    crate::schema::strings(result.get("filesChanged"))
}

fn succeeded(result: &Value) -> Option<bool> {
    if let Some(s) = status_of(result) {
        if SUCCESS.contains(&s.as_str()) || s == "partial" {
            return Some(true);
        }
        if FAILURE.contains(&s.as_str()) {
            return Some(false);
        }
    }
    match verdict_of(result).as_deref() {
        Some("approved") => Some(true),
        Some("rejected") => Some(false),
        _ => None,
    }
}

fn failure_text(agent: &str, result: &Value) -> String {
    let mut s = format!(
        "{agent} reported {}",
        status_of(result)
            .or_else(|| verdict_of(result))
            .unwrap_or_else(|| "failure".into())
    );
    let sum = summary(result);
    if !sum.is_empty() {
        s.push_str(&format!(": {sum}"));
    }
    let fb = feedback(result);
    if !fb.is_empty() {
        s.push_str(&format!(" ({})", fb.join("; ")));
    }
    s
}

/// Where `agent`'s `result` goes. The rules, in order:
/// 1. no options (last agent): success → finish, failure → failed, unknown → escalate;
/// 2. one option: failure → failed, else that option;
/// 3. several: an explicit `next-agent`; else `verdict` (approved → forward, rejected → back);
///    else `status` (success → forward, failure → back); else escalate.
///
/// "Back" is the loop-control target when this agent is the loop's `fromAgent`, else the only
/// option that comes earlier in `subagents`; "forward" is the only option that comes later.
pub fn route(cfg: &Workflow, agent: &str, result: &Value) -> Route {
    let options = cfg.next_options(agent);
    let ok = succeeded(result);
    match options.len() {
        0 => match ok {
            Some(true) => Route::Finish(Ok(())),
            Some(false) => Route::Finish(Err(failure_text(agent, result))),
            None => Route::Escalate(format!(
                "cannot tell whether {agent} succeeded: its result has no recognised \"status\" or \"verdict\""
            )),
        },
        1 => match ok {
            Some(false) => Route::Fail(failure_text(agent, result)),
            _ => Route::Next(options[0].clone()),
        },
        _ => {
            if let Some(n) = result.get("next-agent").and_then(Value::as_str) {
                return if options.iter().any(|o| o == n) {
                    Route::Next(n.to_string())
                } else {
                    Route::Escalate(format!(
                        "{agent} asked for next-agent \"{n}\", which is not one of its handoff-to options ({})",
                        options.join(", ")
                    ))
                };
            }
            let direction = match verdict_of(result).as_deref() {
                Some("approved") => Some(true),
                Some("rejected") => Some(false),
                _ => ok,
            };
            let Some(forward) = direction else {
                return Route::Escalate(format!(
                    "{agent} may hand off to {} and its result does not say which (no next-agent, verdict or status)",
                    options.join(" or ")
                ));
            };
            let me = cfg.order(agent).unwrap_or(0);
            let pick: Vec<&String> = if forward {
                options
                    .iter()
                    .filter(|o| cfg.order(o).unwrap_or(0) > me)
                    .collect()
            } else if let Some(l) = cfg
                .loop_control
                .iter()
                .find(|l| l.from == agent && options.contains(&l.to))
            {
                vec![&l.to]
            } else {
                options
                    .iter()
                    .filter(|o| cfg.order(o).unwrap_or(0) < me)
                    .collect()
            };
            match pick.as_slice() {
                [one] => Route::Next((*one).clone()),
                _ => Route::Escalate(format!(
                    "{agent}'s result means \"{}\", but handoff-to.{agent} ({}) has {} such option{}; add \"next-agent\" to the result or fix the config",
                    if forward { "go forward" } else { "go back" },
                    options.join(", "),
                    pick.len(),
                    if pick.len() == 1 { "" } else { "s" }
                )),
            }
        }
    }
}
