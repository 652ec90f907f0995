//! The verification gate's decisions: which commands git swarm itself runs before it pushes
//! (the plan's `test-plan-commands`, the policy's `verify.commands`), whether what they did is
//! a pass, and the transition of a failure — back to the editing agent with each failed
//! command's output as feedback, counted against the retry budget. Pure; the driver runs the
//! commands.

use serde::{Deserialize, Serialize};

use super::state::{Outcome, Phase, Resume, RunStatus};
use super::{Builder, Ctx, Facts, IssueSpec, Transition};
use crate::config::policies::{Agents, Verify};

/// The retry-count key of the gate (beside the agents' names in `retry-counts`).
pub(crate) const RETRY_KEY: &str = "verify";

/// What the gate did for one tested content.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Verification {
    /// The tested content tree the commands ran on.
    pub tree: String,
    pub passed: bool,
    pub at: String,
    pub commands: Vec<Checked>,
}

/// Where a command came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum Source {
    /// The plan's `test-plan-commands` (written by the planner).
    Plan,
    /// `verify.commands` (the repository's policy, trusted).
    Policy,
}

/// How one command ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum Ran {
    Passed,
    Failed,
    TimedOut,
    /// It could not be started (no such program, not executable).
    NotStarted,
    /// The gate would not run it (see `why`).
    NotRun,
}

/// One command of the gate and what it did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Checked {
    pub command: String,
    pub source: Source,
    pub outcome: Ran,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i32>,
    #[serde(default)]
    pub duration_ms: u64,
    /// The last lines of its output (credentials scrubbed).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub tail: String,
    /// Why it was not run or not started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub why: Option<String>,
    /// Its whole output, in the run folder.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log: Option<String>,
}

/// A command the gate considered: its argv, or why it will not run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Planned {
    pub command: String,
    pub source: Source,
    pub argv: Result<Vec<String>, String>,
}

fn words(c: &str) -> Result<Vec<String>, String> {
    match shell_words::split(c) {
        Ok(w) if !w.is_empty() => Ok(w),
        Ok(_) => Err("the command is empty".to_string()),
        Err(e) => Err(format!("cannot split {c:?} into words: {e}")),
    }
}

/// The commands the gate runs, in order: the policy's, then the plan's that are not the same
/// command. A plan command is the planner's words, so it runs only with a person's or the
/// policy's consent: an approved plan (`approval.plan`), `verify.planCommands`,
/// `agents.allowAllCommands`, or a trusted `agents.allowedCommands` prefix that covers it.
pub(crate) fn plan(
    st: &RunStatus,
    verify: &Verify,
    agents: &Agents,
    plan_gate: bool,
) -> Vec<Planned> {
    let mut out: Vec<Planned> = verify
        .commands
        .iter()
        .map(|c| Planned {
            command: c.trim().to_string(),
            source: Source::Policy,
            argv: words(c),
        })
        .collect();
    let approved = plan_gate && st.swarm.plan_approved;
    let consent = verify.plan_commands || approved || agents.allow_all_commands;
    for c in st.swarm.plan.iter().flat_map(|p| p.test_commands.iter()) {
        let argv = match words(c) {
            Ok(w) => w,
            Err(e) => {
                out.push(Planned {
                    command: c.trim().to_string(),
                    source: Source::Plan,
                    argv: Err(e),
                });
                continue;
            }
        };
        if out.iter().any(|p| p.argv.as_ref() == Ok(&argv)) {
            continue;
        }
        let covered = agents
            .allowed_commands
            .iter()
            .filter_map(|a| words(a).ok())
            .any(|prefix| argv.starts_with(&prefix));
        out.push(Planned {
            command: c.trim().to_string(),
            source: Source::Plan,
            argv: if consent || covered {
                Ok(argv)
            } else {
                Err("written by the planner and not covered by a trusted command; approve plans (approval.plan), list it in verify.commands or agents.allowedCommands, or set verify.planCommands".to_string())
            },
        });
    }
    out
}

impl Verification {
    /// The commands that ran and did not pass.
    pub(crate) fn failures(&self) -> impl Iterator<Item = &Checked> {
        self.commands
            .iter()
            .filter(|c| matches!(c.outcome, Ran::Failed | Ran::TimedOut | Ran::NotStarted))
    }

    /// Passed when every command that ran passed (commands not run are reported, not failed).
    pub(crate) fn judge(tree: String, at: String, commands: Vec<Checked>) -> Verification {
        let mut v = Verification {
            tree,
            passed: false,
            at,
            commands,
        };
        let passed = v.failures().next().is_none();
        v.passed = passed;
        v
    }

    /// How many commands ran.
    pub(crate) fn ran(&self) -> usize {
        self.commands
            .iter()
            .filter(|c| c.outcome != Ran::NotRun)
            .count()
    }

    /// One line per command for people (status, the pull request's body).
    pub(crate) fn lines(&self) -> Vec<String> {
        self.commands.iter().map(Checked::line).collect()
    }
}

impl Checked {
    pub(crate) fn line(&self) -> String {
        let secs = self.duration_ms as f64 / 1000.0;
        match self.outcome {
            Ran::Passed => format!("`{}` passed ({secs:.1} s)", self.command),
            Ran::Failed => match (self.exit_code, &self.why) {
                (Some(c), _) => format!("`{}` failed: exit code {c} ({secs:.1} s)", self.command),
                (None, Some(why)) => format!("{}: {why}", self.command),
                (None, None) => format!(
                    "`{}` failed: killed by a signal ({secs:.1} s)",
                    self.command
                ),
            },
            Ran::TimedOut => format!("`{}` timed out after {secs:.1} s", self.command),
            Ran::NotStarted => format!(
                "`{}` could not start: {}",
                self.command,
                self.why.as_deref().unwrap_or("unknown")
            ),
            Ran::NotRun => format!(
                "`{}` not run: {}",
                self.command,
                self.why.as_deref().unwrap_or("unknown")
            ),
        }
    }

    /// The feedback an agent gets about this command.
    fn feedback(&self) -> String {
        let mut s = format!("verification gate: {}", self.line());
        if !self.tail.is_empty() {
            s.push_str("; the last lines of its output:\n");
            s.push_str(&self.tail);
        }
        s
    }
}

/// The agent that fixes what the gate found: the first editing agent after the first step.
pub(super) fn fixer(ctx: &Ctx) -> Option<String> {
    ctx.cfg
        .subagents
        .iter()
        .find(|a| a.edits && !a.first_step)
        .map(|a| a.name.clone())
}

/// The gate failed on the tested content `v.tree`: the work goes back to the editing agent
/// with each failed command as feedback (a new pass, then review and test as usual), counted
/// in `retry-counts.verify`; past `retry-control.maxRetries` the run escalates as a retry
/// would.
pub(crate) fn failed(ctx: &mut Ctx, facts: &Facts, st: &RunStatus, v: &Verification) -> Transition {
    let mut b = Builder::new(ctx, facts, st.clone());
    b.st.swarm.verification = Some(v.clone());
    let feedback: Vec<String> = v.failures().map(Checked::feedback).collect();
    let step = b.st.swarm.step;
    let what = format!(
        "the verification gate failed: {}",
        v.failures()
            .map(Checked::line)
            .collect::<Vec<_>>()
            .join("; ")
    );
    b.ev("VERIFY_FAILED", None, Some(step), what.clone());
    let Some(to) = fixer(b.ctx) else {
        b.stop(
            Outcome::NeedsHuman,
            "verify",
            format!("{what}; no agent of the workflow edits files to fix it"),
            None,
            false,
        );
        return b.done();
    };
    let count = b.st.retry_counts.get(RETRY_KEY).copied().unwrap_or(0);
    let (max, escalation) = (b.ctx.cfg.max_retries, b.ctx.cfg.retry_escalation);
    let resume = Resume::Issue {
        to: to.clone(),
        from: None,
        feedback: feedback.clone(),
        loop_field: None,
        replan: false,
    };
    b.st.swarm.tested = None;
    b.st.swarm.publish_approved = false;
    b.st.swarm.approval = None;
    b.st.swarm.phase = Phase::Awaiting;
    if count >= max {
        b.stop(
            escalation.into(),
            &to,
            format!("{what} — and its retries are used up ({count} of {max})"),
            Some(resume),
            false,
        );
        return b.done();
    }
    b.st.bump_retry(RETRY_KEY);
    b.issue(IssueSpec {
        to,
        feedback,
        ..IssueSpec::default()
    });
    b.done()
}

/// The gate passed: recorded on the run (publishing goes on).
pub(crate) fn passed(st: &mut RunStatus, v: Verification) -> String {
    let msg = if v.ran() == 0 {
        "verification gate: no command to run".to_string()
    } else {
        format!("verification gate passed: {}", v.lines().join("; "))
    };
    st.swarm.verification = Some(v);
    msg
}
