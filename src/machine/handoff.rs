//! What an agent is given: the prompt (the seed's `inputType` table, with absolute paths) and,
//! for handoff agents, the handoff document.

use serde_json::{Value, json};

use super::state::RunStatus;
use crate::config::{InputType, Subagent};

/// Everything needed to word one invocation.
pub struct Brief<'a> {
    pub agent: &'a Subagent,
    pub run_id: &'a str,
    pub run_dir: &'a str,
    pub result_path: &'a str,
    pub handoff_path: Option<&'a str>,
    pub cwd: &'a str,
    pub plans: bool,
    pub feedback: &'a [String],
    pub replan: bool,
}

fn numbered(items: &[String]) -> String {
    items
        .iter()
        .enumerate()
        .map(|(i, f)| format!("{}) {}", i + 1, f))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The prompt an agent host passes to the subagent.
pub fn prompt(st: &RunStatus, b: &Brief) -> String {
    let name = &b.agent.name;
    match b.agent.input_type {
        InputType::UserTask => {
            let task = &st.swarm.task;
            let mut p = match &task.file {
                Some(f) => format!("Task (from file): {f}."),
                None => format!("Task: {}.", task.text.trim().trim_end_matches('.')),
            };
            p.push_str(&format!(
                " Run-id: {}. Write output to {}/.",
                b.run_id, b.run_dir
            ));
            if b.plans {
                p.push_str(&format!(
                    " Create plan.json and {name}.result.json per your schema. Use {} as the plan id.",
                    b.run_id
                ));
            } else {
                p.push_str(&format!(" Create {name}.result.json per your schema."));
            }
            p.push_str(&format!(" The result file is {}.", b.result_path));
            if !b.feedback.is_empty() {
                if b.replan {
                    p.push_str(" Your previous plan was rejected; write a new plan.json and result that fix all of this:");
                } else {
                    p.push_str(" Your previous output was not accepted; fix all of this:");
                }
                p.push(' ');
                p.push_str(&numbered(b.feedback));
            }
            p
        }
        InputType::Handoff => format!(
            "Your input is the handoff at: {}. Read it and complete your task. Write {name}.result.json to {}/ (the exact path is {}). Work in {}.",
            b.handoff_path.unwrap_or_default(),
            b.run_dir,
            b.result_path,
            b.cwd
        ),
    }
}

/// The handoff's `input`: what to do, in plain words, from what is known so far.
pub struct InputParts<'a> {
    pub from: Option<&'a str>,
    pub from_summary: &'a str,
    pub feedback: &'a [String],
    pub goal: Option<&'a str>,
    pub plan_path: Option<&'a str>,
    pub task: &'a str,
    pub cwd: &'a str,
    pub branch: Option<&'a str>,
    pub edits: bool,
    pub test_commands: &'a [String],
    pub standards: &'a str,
    pub result_path: &'a str,
    pub schema_path: &'a str,
    pub description: &'a str,
}

pub fn input_text(p: &InputParts) -> String {
    let mut s = Vec::new();
    if !p.description.is_empty() {
        s.push(format!("Your role: {}", p.description.trim()));
    }
    match (p.goal, p.plan_path) {
        (Some(g), Some(plan)) => s.push(format!(
            "Goal: {} (plan: {plan}).",
            g.trim().trim_end_matches('.')
        )),
        _ => s.push(format!("Task: {}.", p.task.trim().trim_end_matches('.'))),
    }
    if let Some(from) = p.from
        && !p.from_summary.is_empty()
    {
        s.push(format!("The {from} step reported: {}", p.from_summary));
    }
    if !p.feedback.is_empty() {
        s.push(format!(
            "Address every item of context.feedback: {}",
            numbered(p.feedback)
        ));
    }
    let place = match p.branch {
        Some(b) => format!("Work in {} (branch {b}).", p.cwd),
        None => format!("Work in {}.", p.cwd),
    };
    s.push(place);
    if p.edits {
        s.push(
            "Change only the files listed in context.allowedFiles, and commit your work as you go."
                .into(),
        );
    } else {
        s.push("Do not change any file: context.allowedFiles is empty.".into());
    }
    if !p.test_commands.is_empty() {
        s.push(format!(
            "The plan's test commands: {}.",
            p.test_commands.join("; ")
        ));
    }
    s.push(format!("Follow the standards in {}.", p.standards));
    s.push(format!(
        "Write your result to {}; it must validate against {}.",
        p.result_path, p.schema_path
    ));
    s.join(" ")
}

/// The handoff document (seed shape; absolute paths).
#[allow(clippy::too_many_arguments)]
pub fn document(
    st: &RunStatus,
    handoff_id: &str,
    to: &str,
    step: u32,
    iteration: u32,
    input: String,
    allowed_files: &[String],
    feedback: &[String],
    summary: &str,
    files_changed: &[String],
    commit: Option<&str>,
    standards_path: &str,
    result_path: &str,
) -> Value {
    let mut artifacts = json!({ "standardsPath": standards_path });
    let mut context = json!({
        "allowedFiles": allowed_files,
        "runId": st.run_id,
        "stepSummary": summary,
        "filesChanged": files_changed,
        "commitSha": commit,
        "resultPath": result_path,
    });
    if let Some(plan) = &st.swarm.plan {
        artifacts["planPath"] = json!(plan.path);
        context["planId"] = json!(plan.id);
    }
    if let Some(b) = &st.branch {
        context["branch"] = json!(b);
    }
    if let Some(w) = &st.worktree_path {
        context["worktreePath"] = json!(w);
    }
    if !feedback.is_empty() {
        context["feedback"] = json!(feedback);
    }
    json!({
        "schemaVersion": "1.0",
        "handoffId": handoff_id,
        "from": "manager",
        "to": to,
        "step": step,
        "iteration": iteration,
        "input": input,
        "artifacts": artifacts,
        "context": context,
    })
}
