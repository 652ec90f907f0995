//! How the last agents end a run: publish, done, failure, routing and escalations.

use super::*;

#[test]
fn the_last_agent_decides_publish_done_or_failed() {
    let t = T::new();
    let st = t.at_reviewer();
    let st = t.review(&st, "approved").status;
    let passed = t
        .consume(
            &st,
            t.arrive(&st, json!({"status": "passed", "summary": "ok"})),
        )
        .status;
    assert_eq!(action_of(&passed), ActionKind::Publish);
    assert_eq!(
        passed.swarm.tested.as_ref().map(|t| t.tree.as_str()),
        Some("7ree")
    );
    assert_eq!(passed.outcome, Outcome::InProgress);
    let failed = t
        .consume(
            &st,
            t.arrive(
                &st,
                json!({"status": "failed", "summary": "2 failures", "failures": ["a", "b"]}),
            ),
        )
        .status;
    assert_eq!(failed.outcome, Outcome::Failed);
    assert!(
        failed
            .failure_reason
            .unwrap()
            .contains("tester reported failed: 2 failures (a; b)")
    );
    let unknown = t
        .consume(&st, t.arrive(&st, json!({"summary": "?"})))
        .status;
    assert_eq!(unknown.outcome, Outcome::NeedsHuman);

    let mut t2 = T::new();
    t2.cfg.branching = false;
    let st = t2.at_reviewer();
    let st = t2.review(&st, "approved").status;
    let done = t2
        .consume(&st, t2.arrive(&st, json!({"status": "passed"})))
        .status;
    assert_eq!(done.outcome, Outcome::Completed);
    assert_eq!(action_of(&done), ActionKind::Done);
}

#[test]
fn stale_results_are_moved_aside_not_consumed() {
    let t = T::new();
    let st = t.at_reviewer();
    let tr = t.consume(
        &st,
        t.arrive(&st, json!({"verdict": "approved", "handoffId": "old"})),
    );
    assert_eq!(pending_agent(&tr.status), "reviewer");
    assert_eq!(tr.status.swarm.pending, st.swarm.pending);
    assert!(
        matches!(&tr.effects[..], [Effect::Move { to, .. }] if to.to_string_lossy().contains("stale"))
    );
    assert_eq!(tr.status.warnings[0].reason, "stale-result");
}

#[test]
fn invalid_results_fail_and_retry_carries_the_violations() {
    let t = T::new();
    let st = t.at_reviewer();
    let mut a = t.arrive(&st, json!({}));
    a.violations = vec![Violation {
        pointer: "/verdict".into(),
        message: "missing".into(),
    }];
    let st = t.consume(&st, a).status;
    assert_eq!(st.outcome, Outcome::Failed);
    assert!(
        st.failure_reason
            .as_deref()
            .unwrap()
            .contains("/verdict: missing")
    );
    let st = retry(&mut t.ctx(), &t.facts, &st).unwrap().status;
    assert_eq!(pending_agent(&st), "reviewer");
    assert_eq!(st.swarm.pending[0].iteration, 2);
    assert_eq!(st.retry_counts["reviewer"], 1);

    let mut a = t.arrive(&st, json!(null));
    a.content = Err("expected value at line 1 column 1".into());
    let st = t.consume(&st, a).status;
    assert!(st.failure_reason.unwrap().contains("not valid JSON"));
}

#[test]
fn a_blocked_agent_escalates() {
    let t = T::new();
    let st = t.start().status;
    let st = t.planned(&st, good_plan()).status;
    let st = t
        .consume(
            &st,
            t.arrive(
                &st,
                json!({"status": "partial", "blockedReason": "needs an API key"}),
            ),
        )
        .status;
    assert_eq!(st.outcome, Outcome::NeedsHuman);
    assert!(st.failure_reason.unwrap().contains("needs an API key"));
}

#[test]
fn a_failed_single_option_agent_fails_the_run() {
    let t = T::new();
    let st = t.start().status;
    let st = t.planned(&st, good_plan()).status;
    let st = t
        .consume(
            &st,
            t.arrive(
                &st,
                json!({"status": "failed", "summary": "cannot compile"}),
            ),
        )
        .status;
    assert_eq!(st.outcome, Outcome::Failed);
    assert_eq!(action_of(&st), ActionKind::Failed);
}

#[test]
fn routing_with_several_options() {
    let cfg = wf();
    assert_eq!(
        route::route(&cfg, "reviewer", &json!({"verdict": "approved"})),
        route::Route::Next("tester".into())
    );
    assert_eq!(
        route::route(&cfg, "reviewer", &json!({"verdict": "rejected"})),
        route::Route::Next("implementor".into())
    );
    assert_eq!(
        route::route(
            &cfg,
            "reviewer",
            &json!({"next-agent": "tester", "verdict": "rejected"})
        ),
        route::Route::Next("tester".into())
    );
    assert!(
        matches!(route::route(&cfg, "reviewer", &json!({"next-agent": "deployer"})), route::Route::Escalate(m) if m.contains("deployer"))
    );
    assert!(
        matches!(route::route(&cfg, "reviewer", &json!({"summary": "hmm"})), route::Route::Escalate(m) if m.contains("does not say which"))
    );
    assert_eq!(
        route::route(&cfg, "reviewer", &json!({"status": "passed"})),
        route::Route::Next("tester".into())
    );
    // Two forward options and a verdict: ambiguous, escalate rather than guess.
    let mut cfg2 = wf();
    cfg2.subagents
        .push(agent("docs", InputType::Handoff, false, true));
    cfg2.handoff_to.insert(
        "reviewer".into(),
        vec!["implementor".into(), "tester".into(), "docs".into()],
    );
    assert!(matches!(
        route::route(&cfg2, "reviewer", &json!({"verdict": "approved"})),
        route::Route::Escalate(_)
    ));
}

#[test]
fn escalation_outcomes_other_than_needs_human() {
    let mut t = T::new();
    t.cfg.loop_control[0].max_loops = 0;
    t.cfg.loop_control[0].escalation = crate::config::Escalation::ManualInterventionRequired;
    let st = t.at_reviewer();
    let tr = t.review(&st, "rejected");
    assert_eq!(tr.status.outcome, Outcome::ManualInterventionRequired);
    let mir = tr.effects.iter().find_map(|e| match e {
        Effect::WriteJson { path, value }
            if path.ends_with("manual-intervention-required.result.json") =>
        {
            Some(value)
        }
        _ => None,
    });
    let mir = mir.expect("manual-intervention-required.result.json is written");
    assert_eq!(mir["outcome"], "manual-intervention-required");
    assert!(mir["resume"].as_str().unwrap().contains("git swarm retry"));
    assert_eq!(action_of(&tr.status), ActionKind::Escalated);
    assert_eq!(ActionKind::Escalated.exit_code(), 4);
}

#[test]
fn no_worktree_slot_escalates_for_manual_intervention() {
    let mut t = T::new();
    t.facts.worktree_slot = Some(Err("all taken".into()));
    let st = t.start().status;
    let tr = t.planned(&st, good_plan());
    assert_eq!(tr.status.outcome, Outcome::ManualInterventionRequired);
    assert!(
        tr.status
            .failure_reason
            .as_deref()
            .unwrap()
            .contains("all taken")
    );
    assert!(
        !tr.effects
            .iter()
            .any(|e| matches!(e, Effect::CreateWorktree { .. }))
    );
}

#[test]
fn reject_counts_retries_then_escalates() {
    let t = T::new();
    let st = t.at_reviewer();
    let a = t.arrive(&st, Value::Null);
    let st = reject(&mut t.ctx(), &t.facts, &st, a, "too shallow").status;
    assert_eq!(pending_agent(&st), "reviewer");
    assert_eq!(st.retry_counts["reviewer"], 1);
    let a = t.arrive(&st, Value::Null);
    let st = reject(&mut t.ctx(), &t.facts, &st, a, "still shallow").status;
    assert_eq!(st.outcome, Outcome::NeedsHuman);
}

#[test]
fn retry_refuses_runs_that_are_not_stopped() {
    let t = T::new();
    let st = t.start().status;
    let r = retry(&mut t.ctx(), &t.facts, &st).unwrap_err();
    assert_eq!(r, Refusal::InProgress);
    let canceled = abort("2026-01-01T00:00:01Z", &st, "no", None).status;
    assert_eq!(canceled.outcome, Outcome::Canceled);
    assert_eq!(
        retry(&mut t.ctx(), &t.facts, &canceled).unwrap_err(),
        Refusal::Ended(Outcome::Canceled)
    );
}

#[test]
fn seq_increases_once_per_transition_and_events_carry_it() {
    let t = T::new();
    let tr = t.start();
    assert_eq!(tr.status.swarm.seq, 1);
    assert!(tr.events.iter().all(|e| e.seq == 1));
    let tr2 = t.planned(&tr.status, good_plan());
    assert_eq!(tr2.status.swarm.seq, 2);
    assert!(tr2.events.iter().all(|e| e.seq == 2));
}

#[test]
fn a_workers_leftover_commit_speaks_the_plans_words() {
    let t = T::new();
    let mut st = t.start().status;
    st = t.planned(&st, good_plan()).status;
    if let Some(p) = st.swarm.plan.as_mut() {
        p.tasks[0].description = "add the greeting to src/a.rs.\nKeep it short".into();
        p.tasks.push(crate::machine::state::PlanTask {
            id: "t2".into(),
            description: "document it".into(),
            ..Default::default()
        });
    }
    let m = super::batch::worker_commit_message(&st, "w1", &["t1".into()]);
    let lines: Vec<&str> = m.lines().collect();
    assert_eq!(lines[0], "Add the greeting to src/a.rs");
    assert!(m.contains("- t1: add the greeting to src/a.rs."), "{m}");
    assert!(
        m.contains("Worker w1 of a parallel batch, towards: Greet."),
        "{m}"
    );
    assert!(m.ends_with(&format!("Swarm-Run: {RUN}\n")), "{m}");
    assert!(!m.contains("left uncommitted"), "no placeholder: {m}");
    let m = super::batch::worker_commit_message(&st, "w2", &["t1".into(), "t2".into()]);
    assert!(
        m.starts_with("Add the greeting to src/a.rs (and 1 more task)\n"),
        "{m}"
    );
}

#[test]
fn over_budget_the_run_stops_before_handing_out_work_and_retry_continues_there() {
    let mut t = T::new();
    t.budget.run.max_tokens = Some(10_000);
    let st = t.start().status;
    // The implementor's pass brings the run to its limit: the reviewer is not invoked.
    let st = t.planned(&st, good_plan()).status;
    let hid = st.swarm.pending[0].handoff_id.clone().unwrap();
    let mut a = t.arrive(
        &st,
        json!({"status": "completed", "handoffId": hid, "summary": "done", "filesChanged": ["src/a.rs"]}),
    );
    a.usage = Some(crate::machine::usage::Usage {
        tokens: 12_000,
        ..Default::default()
    });
    let stopped = t.consume(&st, a).status;
    assert_eq!(stopped.outcome, Outcome::NeedsHuman);
    assert!(stopped.swarm.pending.is_empty(), "nothing handed out");
    assert_eq!(
        stopped.failure_reason.as_deref(),
        Some("over budget: the run spent 12,000 tokens, and policies.budget allows 10,000")
    );
    // Retried without raising the limit: it stops again, before the reviewer.
    let again = retry(&mut t.ctx(), &t.facts, &stopped).unwrap().status;
    assert_eq!(again.outcome, Outcome::NeedsHuman);
    // With the limit raised, retry hands the work to the reviewer it had stopped before.
    t.budget.run.max_tokens = Some(50_000);
    let resumed = retry(&mut t.ctx(), &t.facts, &stopped).unwrap().status;
    assert_eq!(resumed.outcome, Outcome::InProgress);
    assert_eq!(pending_agent(&resumed), "reviewer");
}

#[test]
fn approval_gates_hold_the_plan_and_the_publish_until_approved_or_rejected() {
    let mut t = T::new();
    t.gates = crate::machine::Gates {
        plan: true,
        publish: true,
    };
    let st = t.start().status;
    let at_gate = t.planned(&st, good_plan()).status;
    assert_eq!(action_of(&at_gate), ActionKind::Approve);
    assert!(at_gate.swarm.pending.is_empty(), "no work handed out yet");
    assert_eq!(at_gate.worktree_path, None, "no worktree made yet");
    // Rejected: the planner plans again with the person's words, as a re-plan.
    let replan = reject_at_gate(&mut t.ctx(), &t.facts, &at_gate, "too big").status;
    assert_eq!(pending_agent(&replan), "planner");
    assert_eq!(replan.swarm.approval, None);
    assert!(
        replan.swarm.pending[0]
            .prompt
            .contains("rejected by a person: too big"),
        "{}",
        replan.swarm.pending[0].prompt
    );
    // Approved: the hand-off it held is made.
    let approved = approve(&mut t.ctx(), &t.facts, &at_gate).unwrap().status;
    assert_eq!(pending_agent(&approved), "implementor");
    assert!(approved.swarm.plan_approved);
    assert_eq!(approved.worktree_path.as_deref(), Some("/w-swarm-greet"));
    assert!(
        approve(&mut t.ctx(), &t.facts, &approved).is_none(),
        "nothing left to approve"
    );
    // The last agent passes: publishing waits too.
    let hid = approved.swarm.pending[0].handoff_id.clone().unwrap();
    let st = t.consume(&approved, t.arrive(&approved, json!({"status": "completed", "handoffId": hid, "summary": "done", "filesChanged": ["src/a.rs"]}))).status;
    let st = t.review(&st, "approved").status;
    let hid = st.swarm.pending[0].handoff_id.clone().unwrap();
    let st = t
        .consume(
            &st,
            t.arrive(
                &st,
                json!({"status": "passed", "handoffId": hid, "summary": "ok"}),
            ),
        )
        .status;
    assert_eq!(action_of(&st), ActionKind::Approve);
    assert_eq!(
        crate::machine::publish::gate(&st),
        crate::machine::publish::Gate::AwaitsApproval
    );
    let st = approve(&mut t.ctx(), &t.facts, &st).unwrap().status;
    assert_eq!(action_of(&st), ActionKind::Publish);
}
