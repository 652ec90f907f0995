//! The follow phase after publishing: from the pull request's state (checks, review, comments,
//! merged or closed) to an action — `wait`, `invoke` (a fix pass with the findings as
//! feedback, then review, test and publish to the same branch), `done` or `escalated` — with
//! every finding fingerprinted so that a loop that does not converge stops. Pure; the driver
//! reads the forge and posts replies.

use serde::{Deserialize, Serialize};

use super::state::{Outcome, Phase, Resume, RunStatus};
use super::{Builder, Ctx, Effect, Facts, IssueSpec, Transition};
use crate::machine::pr_state::{self as pr, CheckState, PrOpen, PrView, Review};

/// The follow phase's bookkeeping, in `run.status.json` (it holds across restarts and
/// machines).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub(crate) struct FollowState {
    /// Fix passes handed out so far.
    pub rounds: u32,
    /// The pass in flight: its findings, until it is published.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pass: Option<Pass>,
    /// Passes that were published.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub passes: Vec<Pass>,
    /// Comment ids handed to a pass (never handed again).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub addressed: Vec<String>,
    /// Comment ids answered on the forge.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub replied: Vec<String>,
    /// What the last `wait` waited for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub waiting: Option<String>,
    /// The pull request is green and approved, or merged.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub done: bool,
}

/// One fix pass and what it was given.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Pass {
    pub round: u32,
    pub findings: Vec<Finding>,
    /// The commit it pushed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
}

/// A failing check or an open review comment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Finding {
    pub fingerprint: String,
    /// `check` or `comment`.
    pub kind: String,
    /// The check's name, or `@author on file:line`.
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// The log excerpt, or the comment's body.
    pub text: String,
    /// The comment and its thread (for the reply).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thread: Option<String>,
}

impl Finding {
    /// The feedback line an agent reads.
    pub(crate) fn feedback(&self) -> String {
        let url = self
            .url
            .as_deref()
            .map(|u| format!(" ({u})"))
            .unwrap_or_default();
        if self.kind == "check" {
            format!(
                "failing check '{}'{url}; the last lines of its failing step:\n{}",
                self.title, self.text
            )
        } else {
            format!("review comment by {}{url}:\n{}", self.title, self.text)
        }
    }

    /// One line for the pull request's log.
    pub(crate) fn summary(&self) -> String {
        if self.kind == "check" {
            let line = pr::first_error_line(&self.text);
            let line: String = line.chars().take(120).collect();
            format!("check `{}`: {line}", self.title)
        } else {
            format!("comment by {}", self.title)
        }
    }
}

/// What `git swarm follow` answers.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Answer {
    Wait {
        seconds: u64,
        waiting_for: String,
    },
    /// A fix pass was handed out (the action is the invocation's).
    Invoked,
    Done(String),
    Escalated(String),
}

/// The policy's limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Limits {
    pub max_rounds: u32,
    pub retry_after: u64,
}

/// The findings of a pull request: failing checks (with their log excerpts) and open comments
/// not handed to a pass yet.
pub(crate) fn findings(view: &PrView, fs: &FollowState) -> Vec<Finding> {
    let mut out = Vec::new();
    for c in view.checks.iter().filter(|c| c.state == CheckState::Failed) {
        let text = c
            .log
            .clone()
            .unwrap_or_else(|| "(the forge gave no log for this check)".to_string());
        out.push(Finding {
            fingerprint: pr::check_fingerprint(&c.name, &text),
            kind: "check".into(),
            title: c.name.clone(),
            url: c.url.clone(),
            text,
            comment: None,
            thread: None,
        });
    }
    for c in view
        .comments
        .iter()
        .filter(|c| !c.resolved && !fs.addressed.contains(&c.id))
    {
        let place = match (&c.file, c.line) {
            (Some(f), Some(l)) => format!(" on {f}:{l}"),
            (Some(f), None) => format!(" on {f}"),
            _ => String::new(),
        };
        out.push(Finding {
            fingerprint: pr::comment_fingerprint(&c.id),
            kind: "comment".into(),
            title: format!("@{}{place}", c.author),
            url: None,
            text: c.body.clone(),
            comment: Some(c.id.clone()),
            thread: c.thread.clone(),
        });
    }
    out
}

/// Decides the follow phase's next step from the pull request's state.
pub(crate) fn decide(
    ctx: &mut Ctx,
    facts: &Facts,
    st: &RunStatus,
    view: &PrView,
    limits: Limits,
) -> (Transition, Answer) {
    let mut b = Builder::new(ctx, facts, st.clone());
    let mut fs = b.st.swarm.follow.clone().unwrap_or_default();
    let step = b.st.swarm.step;
    // Following again after the phase stopped for a person: what they did stands (a commit
    // they pushed to the branch is now the one followed).
    if b.st.outcome == Outcome::NeedsHuman && b.st.swarm.resume == Some(Resume::Follow) {
        b.st.outcome = Outcome::Completed;
        b.st.failure_reason = None;
        b.st.swarm.resume = None;
        b.st.swarm.advice = None;
        if let (Some(head), Some(p)) = (&view.head, b.st.swarm.publish.as_mut()) {
            p.pushed = Some(head.clone());
        }
        b.ev("RETRY", None, Some(step), "the follow phase goes on");
    }
    let wait = |b: &mut Builder, fs: &mut FollowState, what: String| {
        if fs.waiting.as_deref() != Some(what.as_str()) {
            b.ev(
                "FOLLOW_WAIT",
                None,
                Some(step),
                format!("waiting for {what}"),
            );
        }
        fs.waiting = Some(what.clone());
        Answer::Wait {
            seconds: limits.retry_after,
            waiting_for: what,
        }
    };
    let answer = match view.state {
        PrOpen::Merged => done(&mut b, &mut fs, "the pull request was merged"),
        PrOpen::Closed => escalate(
            &mut b,
            "the pull request was closed without being merged".into(),
            "reopen it and run the follow phase again, or abort the run".into(),
        ),
        PrOpen::Open => {
            let pushed = b.st.swarm.publish.as_ref().and_then(|p| p.pushed.clone());
            let pending: Vec<&str> = view
                .checks
                .iter()
                .filter(|c| c.state == CheckState::Pending)
                .map(|c| c.name.as_str())
                .collect();
            if let (Some(head), Some(pushed)) = (&view.head, &pushed)
                && head != pushed
            {
                escalate(
                    &mut b,
                    format!(
                        "the pull request's branch is at {}, not at {} that this run pushed: someone else pushed to it",
                        short(head),
                        short(pushed)
                    ),
                    "git swarm follows only work it made; bring the branch back to the run's commit, or take the pull request over by hand".into(),
                )
            } else if !pending.is_empty() {
                wait(&mut b, &mut fs, format!("checks: {}", pending.join(", ")))
            } else {
                let found = findings(view, &fs);
                if found.is_empty() {
                    match view.review {
                        Review::Required => wait(&mut b, &mut fs, "a review".into()),
                        Review::ChangesRequested => {
                            wait(&mut b, &mut fs, "the reviewer to look at the fixes".into())
                        }
                        Review::Approved | Review::None => {
                            done(&mut b, &mut fs, "every check passed and the review is done")
                        }
                    }
                } else if let Some((again, before)) = recurring(&fs, &found) {
                    let why = format!(
                        "check '{}' failed again with the same error after pass {} was handed it to fix",
                        again.title, before.0
                    );
                    let evidence = format!(
                        "before pass {}:\n{}\n\nnow:\n{}",
                        before.0, before.1.text, again.text
                    );
                    b.warn("follow-recurring", format!("{why}\n{evidence}"));
                    escalate(
                        &mut b,
                        why,
                        "the fix passes do not converge on this failure; fix it by hand (both log excerpts are in the run's warnings), then run the follow phase again".into(),
                    )
                } else if fs.rounds >= limits.max_rounds {
                    escalate(
                        &mut b,
                        format!(
                            "follow.maxRounds ({}) fix passes were made and the pull request still has findings: {}",
                            limits.max_rounds,
                            found
                                .iter()
                                .map(Finding::summary)
                                .collect::<Vec<_>>()
                                .join("; ")
                        ),
                        "fix what is left by hand, or raise follow.maxRounds; then follow again"
                            .into(),
                    )
                } else {
                    invoke(&mut b, &mut fs, found);
                    Answer::Invoked
                }
            }
        }
    };
    b.st.swarm.follow = Some(fs);
    (b.done(), answer)
}

/// A check finding whose fingerprint the last published pass was handed: the pass claimed to
/// fix it and it is back.
fn recurring<'f>(
    fs: &'f FollowState,
    found: &'f [Finding],
) -> Option<(&'f Finding, (u32, &'f Finding))> {
    let last = fs.passes.last()?;
    found.iter().filter(|f| f.kind == "check").find_map(|f| {
        last.findings
            .iter()
            .find(|p| p.fingerprint == f.fingerprint)
            .map(|p| (f, (last.round, p)))
    })
}

fn done(b: &mut Builder, fs: &mut FollowState, why: &str) -> Answer {
    if !fs.done {
        let step = b.st.swarm.step;
        b.ev("FOLLOW_DONE", None, Some(step), why.to_string());
    }
    fs.done = true;
    fs.waiting = None;
    Answer::Done(why.to_string())
}

fn escalate(b: &mut Builder, why: String, advice: String) -> Answer {
    let step = b.st.swarm.step;
    b.ev("FOLLOW_ESCALATED", None, Some(step), why.clone());
    b.st.outcome = Outcome::NeedsHuman;
    b.st.failure_reason = Some(why.clone());
    b.st.swarm.advice = Some(advice);
    b.st.swarm.resume = Some(Resume::Follow);
    Answer::Escalated(why)
}

/// A fix pass: the run is in progress again, in its worktree made again from the pushed
/// branch, with the findings as the editing agent's feedback; review, test and publish follow
/// as for the first pass (publish pushes to the same branch and pull request).
fn invoke(b: &mut Builder, fs: &mut FollowState, found: Vec<Finding>) {
    fs.rounds += 1;
    fs.waiting = None;
    for f in &found {
        if let Some(c) = &f.comment
            && !fs.addressed.contains(c)
        {
            fs.addressed.push(c.clone());
        }
    }
    let feedback: Vec<String> = found.iter().map(Finding::feedback).collect();
    let step = b.st.swarm.step;
    b.ev(
        "FOLLOW_INVOKE",
        None,
        Some(step),
        format!(
            "fix pass {} of {}: {}",
            fs.rounds,
            found.len(),
            found
                .iter()
                .map(Finding::summary)
                .collect::<Vec<_>>()
                .join("; ")
        ),
    );
    fs.pass = Some(Pass {
        round: fs.rounds,
        findings: found,
        commit: None,
    });
    let st = &mut b.st;
    st.outcome = Outcome::InProgress;
    st.failure_reason = None;
    st.swarm.resume = None;
    st.swarm.advice = None;
    st.swarm.phase = Phase::Awaiting;
    st.swarm.tested = None;
    st.swarm.verification = None;
    st.swarm.publish_approved = false;
    if let Some(p) = st.swarm.publish.as_mut() {
        p.commit = None;
        p.pushed = None;
    }
    let removed = st
        .swarm
        .publish
        .as_ref()
        .is_some_and(|p| p.worktree_removed);
    if let (true, Some(branch), Some(path)) = (removed, st.branch.clone(), st.worktree_path.clone())
    {
        b.effects.push(Effect::CreateWorktree {
            branch: branch.clone(),
            path: path.clone(),
            base: b.st.swarm.base_commit.clone(),
            adopt: true,
            worker: None,
            sparse: b.st.swarm.sparse.clone(),
        });
        b.ev(
            "WORKTREE_CREATED",
            None,
            None,
            format!("{path} on branch {branch}"),
        );
    }
    if let Some(p) = b.st.swarm.publish.as_mut() {
        p.worktree_removed = false;
    }
    b.st.swarm.follow = Some(fs.clone());
    let Some(to) = super::verify::fixer(b.ctx) else {
        escalate(
            b,
            "no agent of the workflow edits files to fix the pull request's findings".into(),
            "add an implementor to the workflow config".into(),
        );
        return;
    };
    b.issue(IssueSpec {
        to,
        feedback,
        ..IssueSpec::default()
    });
}

/// Publishing a fix pass pushed `commit`: the pass is done and logged.
pub(crate) fn published(st: &mut RunStatus, commit: &str) -> Option<String> {
    let fs = st.swarm.follow.as_mut()?;
    let mut pass = fs.pass.take()?;
    pass.commit = Some(commit.to_string());
    let msg = format!(
        "fix pass {} pushed {}: {}",
        pass.round,
        short(commit),
        pass.findings
            .iter()
            .map(Finding::summary)
            .collect::<Vec<_>>()
            .join("; ")
    );
    fs.passes.push(pass);
    Some(msg)
}

/// The follow log the pull request's body ends with.
pub(crate) fn log(fs: &FollowState) -> String {
    if fs.passes.is_empty() {
        return String::new();
    }
    let mut s = String::from("### Follow-up passes\n");
    for p in &fs.passes {
        let commit = p.commit.as_deref().map(short).unwrap_or("?");
        s.push_str(&format!("- pass {} ({commit}):\n", p.round));
        for f in &p.findings {
            s.push_str(&format!("  - fixed {}\n", f.summary()));
        }
    }
    s
}

fn short(s: &str) -> &str {
    s.get(..12).unwrap_or(s)
}
