//! The verification gate's and the follow phase's decisions.

use super::*;
use crate::config::policies::{Agents, Verify};
use crate::machine::follow::{self, Answer, Limits};
use crate::machine::pr_state::{Check, CheckState, Comment, PrOpen, PrView, Review};
use crate::machine::state::{Outcome, PrState, PublishState, Resume};
use crate::machine::verify::{self, Checked, Ran, Source, Verification};

const LIMITS: Limits = Limits {
    max_rounds: 3,
    retry_after: 60,
};

/// A run whose tester passed.
fn tested(t: &T) -> RunStatus {
    let st = t.at_reviewer();
    let st = t.review(&st, "approved").status;
    t.consume(
        &st,
        t.arrive(&st, json!({"status": "passed", "summary": "ok"})),
    )
    .status
}

/// A run published with pull request 7, its worktree removed.
fn published(t: &T) -> RunStatus {
    let mut st = tested(t);
    st.outcome = Outcome::Completed;
    st.swarm.phase = Phase::Finished;
    st.pr_url = Some("https://github.com/o/r/pull/7".into());
    st.swarm.publish = Some(PublishState {
        remote: "origin".into(),
        base: "main".into(),
        commit: None,
        pushed: Some("p1".into()),
        pr: PrState::Created,
        worktree_removed: true,
    });
    st
}

fn check(name: &str, state: CheckState, log: Option<&str>) -> Check {
    Check {
        name: name.into(),
        state,
        url: Some(format!("https://ci/{name}")),
        required: true,
        job: None,
        log: log.map(str::to_string),
    }
}

fn comment(id: &str) -> Comment {
    Comment {
        id: id.into(),
        thread: Some(id.into()),
        file: Some("src/a.rs".into()),
        line: Some(3),
        author: "alice".into(),
        body: "off by one".into(),
        resolved: false,
        thread_bodies: vec!["off by one".into()],
    }
}

fn view(checks: Vec<Check>, review: Review, comments: Vec<Comment>) -> PrView {
    PrView {
        state: PrOpen::Open,
        head: Some("p1".into()),
        checks,
        review,
        comments,
    }
}

fn decide(t: &T, st: &RunStatus, v: &PrView, limits: Limits) -> (Transition, Answer) {
    follow::decide(&mut t.ctx(), &t.facts, st, v, limits)
}

#[test]
fn running_checks_and_awaited_reviews_are_waited_for() {
    let t = T::new();
    let st = published(&t);
    let v = view(
        vec![
            check("build", CheckState::Passed, None),
            check("test", CheckState::Pending, None),
        ],
        Review::None,
        vec![],
    );
    let (tr, a) = decide(&t, &st, &v, LIMITS);
    assert_eq!(
        a,
        Answer::Wait {
            seconds: 60,
            waiting_for: "checks: test".into()
        }
    );
    assert_eq!(tr.status.outcome, Outcome::Completed);
    assert_eq!(
        tr.events
            .iter()
            .filter(|e| e.signal == "FOLLOW_WAIT")
            .count(),
        1
    );
    // Asking again for the same thing logs nothing new.
    let (again, _) = decide(&t, &tr.status, &v, LIMITS);
    assert!(again.events.iter().all(|e| e.signal != "FOLLOW_WAIT"));
    let green = view(
        vec![check("test", CheckState::Passed, None)],
        Review::Required,
        vec![],
    );
    let (_, a) = decide(&t, &tr.status, &green, LIMITS);
    assert!(matches!(a, Answer::Wait { ref waiting_for, .. } if waiting_for == "a review"));
}

#[test]
fn green_and_approved_or_merged_is_done_and_closed_escalates() {
    let t = T::new();
    let st = published(&t);
    for (v, done) in [
        (
            view(
                vec![check("t", CheckState::Passed, None)],
                Review::Approved,
                vec![],
            ),
            true,
        ),
        (
            view(
                vec![check("t", CheckState::Skipped, None)],
                Review::None,
                vec![],
            ),
            true,
        ),
        (
            PrView {
                state: PrOpen::Merged,
                ..PrView::default()
            },
            true,
        ),
        (
            PrView {
                state: PrOpen::Closed,
                ..PrView::default()
            },
            false,
        ),
    ] {
        let (tr, a) = decide(&t, &st, &v, LIMITS);
        if done {
            assert!(matches!(a, Answer::Done(_)), "{a:?}");
            assert!(tr.status.swarm.follow.as_ref().unwrap().done);
            assert_eq!(action_of(&tr.status), ActionKind::Done);
        } else {
            assert!(
                matches!(a, Answer::Escalated(ref w) if w.contains("closed")),
                "{a:?}"
            );
            assert_eq!(tr.status.outcome, Outcome::NeedsHuman);
            assert_eq!(tr.status.swarm.resume, Some(Resume::Follow));
            assert_eq!(action_of(&tr.status).exit_code(), 4);
        }
    }
}

#[test]
fn findings_become_a_fix_pass_on_the_same_branch() {
    let t = T::new();
    let st = published(&t);
    let v = view(
        vec![check(
            "test",
            CheckState::Failed,
            Some("running 3 tests\nerror: assertion failed at src/a.rs:3"),
        )],
        Review::ChangesRequested,
        vec![comment("11")],
    );
    let (tr, a) = decide(&t, &st, &v, LIMITS);
    assert_eq!(a, Answer::Invoked);
    let s = &tr.status;
    assert_eq!(s.outcome, Outcome::InProgress);
    assert_eq!(action_of(s), ActionKind::Invoke);
    assert_eq!(pending_agent(s), "implementor");
    let fs = s.swarm.follow.as_ref().unwrap();
    assert_eq!(
        (fs.rounds, fs.addressed.clone()),
        (1, vec!["11".to_string()])
    );
    assert_eq!(fs.pass.as_ref().unwrap().findings.len(), 2);
    // Pushed again from the same branch and pull request; the worktree is made again.
    let ps = s.swarm.publish.as_ref().unwrap();
    assert_eq!(
        (ps.pushed.as_deref(), ps.pr, ps.worktree_removed),
        (None, PrState::Created, false)
    );
    assert!(
        tr.effects
            .iter()
            .any(|e| matches!(e, Effect::CreateWorktree { branch, .. } if branch == "swarm/greet"))
    );
    assert!(tr.events.iter().any(|e| e.signal == "FOLLOW_INVOKE"));
    // The handoff carries each finding: the check's excerpt and the comment.
    let handoff = tr
        .effects
        .iter()
        .find_map(|e| match e {
            Effect::WriteJson { value, .. } if value.get("handoffId").is_some() => {
                Some(value.clone())
            }
            _ => None,
        })
        .expect("a handoff is written");
    let fb = handoff["context"]["feedback"].as_array().unwrap();
    assert!(
        fb[0]
            .as_str()
            .unwrap()
            .contains("failing check 'test' (https://ci/test)")
    );
    assert!(fb[0].as_str().unwrap().contains("error: assertion failed"));
    assert!(fb[1].as_str().unwrap().contains("@alice on src/a.rs:3"));
    assert!(fb[1].as_str().unwrap().contains("off by one"));
}

/// A fix pass handed the finding, published as `commit`.
fn after_pass(t: &T, st: &RunStatus, v: &PrView, commit: &str) -> RunStatus {
    let (tr, a) = decide(t, st, v, LIMITS);
    assert_eq!(a, Answer::Invoked);
    let mut s = tr.status;
    let msg = follow::published(&mut s, commit).expect("a pass in flight");
    assert!(msg.contains("fix pass"), "{msg}");
    s.outcome = Outcome::Completed;
    s.swarm.phase = Phase::Finished;
    s.swarm.pending.clear();
    if let Some(p) = s.swarm.publish.as_mut() {
        p.pushed = Some(commit.into());
        p.worktree_removed = true;
    }
    s
}

#[test]
fn the_same_failure_after_a_fix_escalates_with_both_excerpts() {
    let t = T::new();
    let st = published(&t);
    let first = "2024-05-01T10:00:00Z error: test t1 failed after 1.2s (run 111)";
    let v = view(
        vec![check("test", CheckState::Failed, Some(first))],
        Review::None,
        vec![],
    );
    let mut st = after_pass(&t, &st, &v, "p2");
    assert!(follow::log(st.swarm.follow.as_ref().unwrap()).contains("pass 1 (p2):"));
    let again = "2024-05-02T11:00:00Z error: test t1 failed after 3.4s (run 222)";
    let mut v2 = view(
        vec![check("test", CheckState::Failed, Some(again))],
        Review::None,
        vec![],
    );
    v2.head = Some("p2".into());
    let (tr, a) = decide(&t, &st, &v2, LIMITS);
    assert!(
        matches!(a, Answer::Escalated(ref w) if w.contains("failed again")),
        "{a:?}"
    );
    assert_eq!(tr.status.outcome, Outcome::NeedsHuman);
    let w = tr
        .status
        .warnings
        .iter()
        .find(|w| w.reason == "follow-recurring")
        .unwrap();
    assert!(
        w.message.contains("run 111") && w.message.contains("run 222"),
        "{}",
        w.message
    );
    // A different failure is a new finding.
    st.swarm.publish.as_mut().unwrap().pushed = Some("p2".into());
    let other = view(
        vec![check(
            "test",
            CheckState::Failed,
            Some("error: unresolved import"),
        )],
        Review::None,
        vec![],
    );
    let mut other = other;
    other.head = Some("p2".into());
    let (_, a) = decide(&t, &st, &other, LIMITS);
    assert_eq!(a, Answer::Invoked);
}

#[test]
fn max_rounds_bound_the_passes() {
    let t = T::new();
    let mut st = published(&t);
    for (i, e) in ["error: a", "error: b"].iter().enumerate() {
        let mut v = view(
            vec![check("test", CheckState::Failed, Some(e))],
            Review::None,
            vec![],
        );
        v.head = st.swarm.publish.as_ref().unwrap().pushed.clone();
        st = after_pass(&t, &st, &v, &format!("c{i}"));
    }
    let mut v = view(
        vec![check("test", CheckState::Failed, Some("error: c"))],
        Review::None,
        vec![],
    );
    v.head = Some("c1".into());
    let limits = Limits {
        max_rounds: 2,
        retry_after: 1,
    };
    let (tr, a) = decide(&t, &st, &v, limits);
    assert!(
        matches!(a, Answer::Escalated(ref w) if w.contains("follow.maxRounds (2)")),
        "{a:?}"
    );
    assert_eq!(tr.status.swarm.follow.as_ref().unwrap().rounds, 2);
}

#[test]
fn addressed_comments_are_not_sent_again() {
    let t = T::new();
    let st = published(&t);
    let v = view(vec![], Review::ChangesRequested, vec![comment("11")]);
    let st = after_pass(&t, &st, &v, "p2");
    let mut v = v;
    v.head = Some("p2".into());
    let (_, a) = decide(&t, &st, &v, LIMITS);
    assert!(
        matches!(a, Answer::Wait { ref waiting_for, .. } if waiting_for.contains("reviewer")),
        "{a:?}"
    );
    // A reply in the thread by the reviewer is a new finding.
    v.comments = vec![comment("12")];
    let (_, a) = decide(&t, &st, &v, LIMITS);
    assert_eq!(a, Answer::Invoked);
}

#[test]
fn someone_elses_push_escalates_and_following_again_adopts_it() {
    let t = T::new();
    let st = published(&t);
    let mut v = view(
        vec![check("t", CheckState::Passed, None)],
        Review::None,
        vec![],
    );
    v.head = Some("other".into());
    let (tr, a) = decide(&t, &st, &v, LIMITS);
    assert!(
        matches!(a, Answer::Escalated(ref w) if w.contains("someone else pushed")),
        "{a:?}"
    );
    // The person looked: following again takes the branch as it is.
    let (tr, a) = decide(&t, &tr.status, &v, LIMITS);
    assert!(matches!(a, Answer::Done(_)), "{a:?}");
    assert_eq!(tr.status.outcome, Outcome::Completed);
    assert_eq!(
        tr.status.swarm.publish.as_ref().unwrap().pushed.as_deref(),
        Some("other")
    );
}

#[test]
fn retry_of_a_follow_escalation_returns_to_the_follow_phase() {
    let t = T::new();
    let st = published(&t);
    let (tr, _) = decide(
        &t,
        &st,
        &PrView {
            state: PrOpen::Closed,
            ..PrView::default()
        },
        LIMITS,
    );
    let st = retry(&mut t.ctx(), &t.facts, &tr.status).unwrap().status;
    assert_eq!(st.outcome, Outcome::Completed);
    assert_eq!(st.swarm.resume, None);
    assert!(st.swarm.pending.is_empty());
}

fn verify_policy(commands: &[&str], plan_commands: bool) -> Verify {
    Verify {
        commands: commands.iter().map(|c| c.to_string()).collect(),
        plan_commands,
        timeout_seconds: None,
    }
}

fn with_tests(t: &T, cmds: &[&str]) -> RunStatus {
    let mut st = tested(t);
    st.swarm.plan.as_mut().unwrap().test_commands = cmds.iter().map(|c| c.to_string()).collect();
    st
}

#[test]
fn the_gate_runs_the_policys_commands_and_the_plans_only_with_consent() {
    let t = T::new();
    let st = with_tests(
        &t,
        &[
            "cargo test",
            "npm run lint -- --fix",
            "sh -c 'rm -rf ~'",
            "bad 'quote",
        ],
    );
    let none = Agents::default();
    let planned = verify::plan(&st, &verify_policy(&["cargo test"], false), &none, false);
    let shown: Vec<_> = planned
        .iter()
        .map(|p| (p.command.as_str(), p.source, p.argv.is_ok()))
        .collect();
    assert_eq!(
        shown,
        [
            ("cargo test", Source::Policy, true),
            ("npm run lint -- --fix", Source::Plan, false),
            ("sh -c 'rm -rf ~'", Source::Plan, false),
            ("bad 'quote", Source::Plan, false),
        ],
        "the plan's copy of a policy command runs once; the planner's own need consent"
    );
    assert!(
        planned[1]
            .argv
            .as_ref()
            .unwrap_err()
            .contains("written by the planner")
    );
    // A trusted prefix covers a command word by word.
    let agents = Agents {
        allowed_commands: vec!["npm run".into(), "sh -c 'echo'".into()],
        allow_all_commands: false,
    };
    let planned = verify::plan(&st, &verify_policy(&[], false), &agents, false);
    let ok: Vec<bool> = planned.iter().map(|p| p.argv.is_ok()).collect();
    assert_eq!(ok, [false, true, false, false]);
    assert_eq!(
        planned[1].argv.as_ref().unwrap(),
        &["npm", "run", "lint", "--", "--fix"]
    );
    // An approved plan, or the policy's consent, runs them all (those that split).
    let mut approved = st.clone();
    approved.swarm.plan_approved = true;
    for (s, v, gate) in [
        (&approved, verify_policy(&[], false), true),
        (&st, verify_policy(&[], true), false),
    ] {
        let ok: Vec<bool> = verify::plan(s, &v, &none, gate)
            .iter()
            .map(|p| p.argv.is_ok())
            .collect();
        assert_eq!(ok, [true, true, true, false]);
    }
    // Approved but without the gate on: the flag alone is no consent.
    let ok: Vec<bool> = verify::plan(&approved, &verify_policy(&[], false), &none, false)
        .iter()
        .map(|p| p.argv.is_ok())
        .collect();
    assert_eq!(ok, [false, false, false, false]);
}

fn ran(cmd: &str, outcome: Ran, code: Option<i32>) -> Checked {
    Checked {
        command: cmd.into(),
        source: Source::Policy,
        outcome,
        exit_code: code,
        duration_ms: 1500,
        tail: if outcome == Ran::Failed {
            "thread 'main' panicked".into()
        } else {
            String::new()
        },
        why: None,
        log: None,
    }
}

#[test]
fn a_failed_gate_sends_the_work_back_within_the_retry_budget() {
    let t = T::new();
    let st = tested(&t);
    let v = Verification::judge(
        "7ree".into(),
        "now".into(),
        vec![
            ran("cargo build", Ran::Passed, Some(0)),
            ran("cargo test", Ran::Failed, Some(101)),
        ],
    );
    assert!(!v.passed);
    assert_eq!(v.lines()[1], "`cargo test` failed: exit code 101 (1.5 s)");
    let tr = verify::failed(&mut t.ctx(), &t.facts, &st, &v);
    let s = &tr.status;
    assert_eq!(s.outcome, Outcome::InProgress);
    assert_eq!(pending_agent(s), "implementor");
    assert_eq!(s.retry_counts[verify::RETRY_KEY], 1);
    assert!(s.swarm.tested.is_none());
    assert!(tr.events.iter().any(|e| e.signal == "VERIFY_FAILED"));
    let handoff = tr
        .effects
        .iter()
        .find_map(|e| match e {
            Effect::WriteJson { value, .. } if value.get("handoffId").is_some() => {
                Some(value.clone())
            }
            _ => None,
        })
        .unwrap();
    let fb = handoff["context"]["feedback"][0].as_str().unwrap();
    assert!(
        fb.contains("`cargo test` failed: exit code 101") && fb.contains("panicked"),
        "{fb}"
    );
    // The workflow allows one retry: the second failure escalates.
    let tr2 = verify::failed(&mut t.ctx(), &t.facts, s, &v);
    assert_eq!(tr2.status.outcome, Outcome::NeedsHuman);
    assert!(
        tr2.status
            .failure_reason
            .as_deref()
            .unwrap()
            .contains("retries are used up")
    );
    // A pass (or nothing to run) is recorded.
    let mut s = st.clone();
    let none = Verification::judge("7ree".into(), "now".into(), vec![]);
    assert!(none.passed);
    assert_eq!(
        verify::passed(&mut s, none),
        "verification gate: no command to run"
    );
    let not_run = Verification::judge(
        "7ree".into(),
        "now".into(),
        vec![Checked {
            outcome: Ran::NotRun,
            why: Some("planner".into()),
            ..ran("x", Ran::NotRun, None)
        }],
    );
    assert!(not_run.passed, "commands not run are reported, not failed");
}

#[test]
fn budgets_and_the_publish_gate_hold_in_the_follow_phase() {
    let mut t = T::new();
    t.gates.publish = true;
    let mut st = published(&t);
    st.swarm.publish_approved = true;
    let v = view(
        vec![check("test", CheckState::Failed, Some("error: x"))],
        Review::None,
        vec![],
    );
    // A fix pass must be approved again before it is pushed.
    let (tr, a) = decide(&t, &st, &v, LIMITS);
    assert_eq!(a, Answer::Invoked);
    assert!(!tr.status.swarm.publish_approved);
    // Over budget: the pass is not handed out.
    t.budget.run.max_tokens = Some(10);
    st.step_tokens.insert("implementor".into(), 11);
    let (tr, _) = decide(&t, &st, &v, LIMITS);
    assert_eq!(tr.status.outcome, Outcome::NeedsHuman);
    assert!(
        tr.status
            .failure_reason
            .as_deref()
            .unwrap()
            .starts_with("over budget"),
        "{:?}",
        tr.status.failure_reason
    );
    assert!(tr.status.swarm.pending.is_empty());
}
