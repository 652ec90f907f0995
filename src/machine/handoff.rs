//! What an agent is given: the prompt (the seed's `inputType` table, with absolute paths) and,
//! for handoff agents, the handoff document.

use serde_json::{Value, json};

use super::state::RunStatus;
use crate::config::{InputType, Subagent};

/// Everything needed to word one invocation.
pub(crate) struct Brief<'a> {
    pub agent: &'a Subagent,
    pub run_id: &'a str,
    pub run_dir: &'a str,
    pub result_path: &'a str,
    pub handoff_path: Option<&'a str>,
    pub cwd: &'a str,
    pub plans: bool,
    pub feedback: &'a [String],
    pub replan: bool,
    /// The agent's result schema, absolute.
    pub schema_path: &'a str,
    /// The plan schema (`behavior.planning.planSchemaPath`), absolute, when one is configured.
    pub plan_schema_path: Option<&'a str>,
    /// The workspace's `.swarm/standards.md`, absolute.
    pub standards_path: &'a str,
}

fn numbered(items: &[String]) -> String {
    items
        .iter()
        .enumerate()
        .map(|(i, f)| format!("{}) {}", i + 1, f))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The prompt an agent host passes to the subagent: the seed's wording, with absolute paths and
/// exactly one path for each file the agent writes.
pub(crate) fn prompt(st: &RunStatus, b: &Brief) -> String {
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
                    " Create plan.json and {name}.result.json per your schema. Write plan.json to {}/plan.json and your result to {}. Use {} as the plan id.",
                    b.run_dir, b.result_path, b.run_id
                ));
            } else {
                p.push_str(&format!(
                    " Create {name}.result.json per your schema. Write your result to {}.",
                    b.result_path
                ));
            }
            p.push_str(&format!(" Your result schema: {}", b.schema_path));
            if let Some(plan) = b.plan_schema_path.filter(|_| b.plans) {
                p.push_str(&format!("; the plan schema: {plan}"));
            }
            p.push_str(&format!("; the standards: {}.", b.standards_path));
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
        InputType::Handoff => {
            let mut p = format!(
                "Your input is the handoff at: {}. Read it and complete your task. Work in {}. Write your result to {}.",
                b.handoff_path.unwrap_or_default(),
                b.cwd,
                b.result_path
            );
            // What went wrong before (a relaunch, a guard-rail send-back, a review's issues)
            // is in the prompt too, so an agent cannot miss it.
            if !b.feedback.is_empty() {
                p.push_str(" Fix all of this first (also in context.feedback): ");
                p.push_str(&numbered(b.feedback));
            }
            p
        }
    }
}

/// The handoff's `input`: what to do, in plain words. It carries what belongs to this one
/// invocation — the role, who this worker is, what the previous step reported, the feedback,
/// where to work and what to diff against, where to write the result — and points at the
/// context pack for the rest (goal, standards, files, plan steps, checks), which it never
/// repeats.
pub(crate) struct InputParts<'a> {
    pub description: &'a str,
    /// For a parallel worker: who it is among its batch, and its task ids.
    pub worker: Option<String>,
    pub from: Option<&'a str>,
    pub from_summary: &'a str,
    pub feedback: &'a [String],
    pub cwd: &'a str,
    pub branch: Option<&'a str>,
    pub edits: bool,
    /// The run's base commit, for an agent that judges the change (it does not edit).
    pub diff_base: Option<&'a str>,
    pub pack_path: &'a str,
    pub result_path: &'a str,
    pub schema_path: &'a str,
}

pub(crate) fn input_text(p: &InputParts) -> String {
    let mut s = Vec::new();
    if !p.description.is_empty() {
        s.push(format!("Your role: {}", p.description.trim()));
    }
    if let Some(w) = &p.worker {
        s.push(w.clone());
    }
    s.push(format!(
        "Read the context pack {} first: the goal, the standards to follow, the files you may change, the plan's steps and the checks.",
        p.pack_path
    ));
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
    if let Some(base) = p.diff_base {
        s.push(format!(
            "The change is everything since the run's base commit: diff against {base} (context.baseCommit), e.g. 'git diff {base}' in {}, which includes uncommitted changes.",
            p.cwd
        ));
    }
    if p.edits {
        s.push(
            "Change only the files the context pack lists under \"You may change\" (context.allowedFiles), and commit your work as you go."
                .into(),
        );
    } else {
        s.push("Do not change any file: context.allowedFiles is empty.".into());
    }
    s.push(format!(
        "Write your result to {}; it must validate against {}.",
        p.result_path, p.schema_path
    ));
    s.join(" ")
}

/// The handoff document (seed shape; absolute paths).
#[allow(clippy::too_many_arguments)]
pub(crate) fn document(
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
        "baseCommit": st.swarm.base_commit,
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
