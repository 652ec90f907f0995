//! The machine's rules, tested without git, files or a clock.

use std::path::{Path, PathBuf};

use indexmap::IndexMap;
use serde_json::{Value, json};

use super::*;
use crate::config::{
    InputType, LoopControl, Planning, Resolution, ResolvedPath, Subagent, Workflow,
};
use crate::machine::layout::RunDir;
use crate::schema::Violation;

const RUN: &str = "0b6c3f8e-7a51-4f0e-9d1c-2f9e8a7b6c5d";

fn agent(name: &str, input: InputType, first: bool, edits: bool) -> Subagent {
    Subagent {
        name: name.into(),
        description: String::new(),
        invoke: String::new(),
        input_type: input,
        first_step: first,
        plan_path: None,
        schema_path: ResolvedPath {
            raw: format!("~/{name}.schema.json"),
            path: PathBuf::from(format!("/home/{name}.schema.json")),
            how: Resolution::Home,
        },
        edits,
        exec: None,
        timeout_seconds: None,
        env: IndexMap::new(),
    }
}

/// The reference workflow: planner → implementor → reviewer ⇄ implementor, → tester.
fn wf() -> Workflow {
    let mut handoff_to = IndexMap::new();
    handoff_to.insert("planner".to_string(), vec!["implementor".to_string()]);
    handoff_to.insert("implementor".to_string(), vec!["reviewer".to_string()]);
    handoff_to.insert(
        "reviewer".to_string(),
        vec!["implementor".to_string(), "tester".to_string()],
    );
    handoff_to.insert("tester".to_string(), vec![]);
    Workflow {
        path: PathBuf::from("/home/config.json"),
        subagents: vec![
            agent("planner", InputType::UserTask, true, false),
            agent("implementor", InputType::Handoff, false, true),
            agent("reviewer", InputType::Handoff, false, false),
            agent("tester", InputType::Handoff, false, false),
        ],
        handoff_to,
        handoff_notes: IndexMap::new(),
        loop_control: vec![LoopControl {
            from: "reviewer".into(),
            to: "implementor".into(),
            max_loops: 2,
            escalation: crate::config::Escalation::NeedsHuman,
            count_field: "review-fix-loop-count".into(),
        }],
        max_replans: 1,
        replan_escalation: crate::config::Escalation::NeedsHuman,
        max_retries: 1,
        retry_escalation: crate::config::Escalation::NeedsHuman,
        parallel_enabled: false,
        parallel_rules: vec![],
        planning: Planning {
            enabled: true,
            result_field: "plan-path".into(),
            schema_path: None,
            replan_count_field: "plan-replan-count".into(),
        },
        branching: true,
        worktree_path_template: None,
        escalation_actions: IndexMap::new(),
        exec: None,
    }
}

struct T {
    cfg: Workflow,
    run: RunDir,
    facts: Facts,
}

impl T {
    fn new() -> T {
        T {
            cfg: wf(),
            run: RunDir {
                id: RUN.into(),
                path: PathBuf::from("/w/.swarm/runs").join(RUN),
            },
            facts: Facts {
                standards: Ok(()),
                worktree_slot: Some(Ok(Slot {
                    branch: "swarm/greet".into(),
                    path: "/w-swarm-greet".into(),
                    adopt: false,
                })),
                worktree_head: Some("c0ffee".into()),
                content: [(
                    "/w-swarm-greet".to_string(),
                    ("c0ffee".to_string(), "7ree".to_string()),
                )]
                .into_iter()
                .collect(),
                base_tree: Some("ba5e".into()),
                deny: vec![],
                standards_text: "- Format with rustfmt before every commit, always.\n".into(),
                base_unpushed: None,
            },
        }
    }

    fn ctx(&self) -> Ctx<'_> {
        Ctx {
            cfg: &self.cfg,
            run: &self.run,
            workspace: Path::new("/w"),
            standards_path: Path::new("/w/.swarm/standards.md"),
            now: "2026-01-01T00:00:00.000Z".into(),
            ids: (0..8)
                .map(|i| format!("00000000-0000-4000-8000-00000000000{i}"))
                .collect(),
        }
    }

    fn start(&self) -> Transition {
        start(
            &mut self.ctx(),
            &self.facts,
            RUN,
            Task {
                text: "Greet".into(),
                file: None,
            },
            &"a".repeat(40),
            Some("main".into()),
        )
    }

    fn arrive(&self, st: &RunStatus, value: Value) -> Arrival {
        let inv = &st.swarm.pending[0];
        Arrival {
            slot: 0,
            file: PathBuf::from(&inv.result),
            content: Ok(value),
            violations: vec![],
            plan: None,
            changed: None,
            unattributed: Vec::new(),
            usage: None,
        }
    }

    fn consume(&self, st: &RunStatus, a: Arrival) -> Transition {
        consume(&mut self.ctx(), &self.facts, st, vec![a])
    }

    fn planned(&self, st: &RunStatus, plan: Value) -> Transition {
        let mut a = self.arrive(
            st,
            json!({"subagent": "planner", "status": "complete", "plan-id": RUN, "plan-path": "p"}),
        );
        a.plan = Some(Ok(LoadedPlan {
            path: format!("/w/.swarm/runs/{RUN}/plan.json"),
            value: plan,
            violations: vec![],
            problems: vec![],
        }));
        self.consume(st, a)
    }

    /// A run that is waiting for the reviewer.
    fn at_reviewer(&self) -> RunStatus {
        let st = self.start().status;
        let st = self.planned(&st, good_plan()).status;
        let hid = st.swarm.pending[0].handoff_id.clone().unwrap();
        self.consume(&st, self.arrive(&st, json!({"status": "completed", "handoffId": hid, "summary": "done", "filesChanged": ["src/a.rs"]}))).status
    }

    fn review(&self, st: &RunStatus, verdict: &str) -> Transition {
        let hid = st.swarm.pending[0].handoff_id.clone().unwrap();
        self.consume(st, self.arrive(st, json!({"verdict": verdict, "handoffId": hid, "summary": "r", "issues": [{"description": "fix it", "file": "src/a.rs", "line": 3}]})))
    }
}

fn good_plan() -> Value {
    json!({
        "id": RUN, "friendly-name": "greet", "goal": "Greet", "description": "d",
        "acceptance-criteria": ["x"], "assumptions": [], "risks": [], "out-of-scope": [],
        "lanes": [{"branch-name": "greet", "touch-map": ["README.md"], "collision-risk": "low", "test-plan-commands": ["make test"],
                   "tasks": [{"task-id": "t1", "description": "a", "files": ["src/a.rs"], "dependencies": []}]}]
    })
}

fn pending_agent(st: &RunStatus) -> &str {
    &st.swarm.pending[0].agent
}

#[test]
fn start_issues_the_first_agent_with_the_seed_prompt() {
    let t = T::new().start();
    let st = &t.status;
    assert_eq!(st.outcome, Outcome::InProgress);
    assert_eq!(pending_agent(st), "planner");
    let inv = &st.swarm.pending[0];
    assert_eq!(inv.step, 1);
    assert_eq!(inv.iteration, 1);
    assert!(inv.prompt.starts_with(&format!(
        "Task: Greet. Run-id: {RUN}. Write output to /w/.swarm/runs/{RUN}/."
    )));
    assert_eq!(inv.cwd, "/w");
    assert_eq!(st.counter("plan-replan-count"), 0);
    assert!(st.counters.contains_key("review-fix-loop-count"));
    assert_eq!(
        st.step_timestamps
            .get("planner.started")
            .map(String::as_str),
        Some("2026-01-01T00:00:00.000Z")
    );
    // No handoff for a user-task agent; the result path is swept first.
    assert!(matches!(t.effects.as_slice(), [Effect::Sweep { .. }]));
    let signals: Vec<_> = t.events.iter().map(|e| e.signal.as_str()).collect();
    assert_eq!(signals, ["RUN_STARTED", "WORKER_ASSIGNED"]);
}

#[test]
fn standards_gate_escalates_at_start_and_retry_needs_them() {
    let mut t = T::new();
    t.facts.standards = Err("standards.md does not exist".into());
    let st = t.start().status;
    assert_eq!(st.outcome, Outcome::NeedsHuman);
    assert!(st.swarm.pending.is_empty());
    assert_eq!(st.swarm.resume, Some(Resume::StandardsGate));
    assert!(retry(&mut t.ctx(), &t.facts, &st).is_err());
    t.facts.standards = Ok(());
    let st = retry(&mut t.ctx(), &t.facts, &st).unwrap().status;
    assert_eq!(st.outcome, Outcome::InProgress);
    assert_eq!(pending_agent(&st), "planner");
    assert_eq!(st.swarm.pending[0].iteration, 1);
}

#[test]
fn an_accepted_plan_creates_the_worktree_and_hands_off() {
    let t = T::new();
    let st = t.start().status;
    let tr = t.planned(&st, good_plan());
    let st = &tr.status;
    assert_eq!(pending_agent(st), "implementor");
    assert_eq!(st.branch.as_deref(), Some("swarm/greet"));
    assert_eq!(st.worktree_path.as_deref(), Some("/w-swarm-greet"));
    assert_eq!(st.swarm.pending[0].cwd, "/w-swarm-greet");
    assert_eq!(st.swarm.pending[0].allowed_files, ["src/a.rs", "README.md"]);
    // Order of effects: consume, snapshot, worktree, sweep, context pack, handoff archive,
    // per-agent, current.
    let kinds: Vec<&str> = tr
        .effects
        .iter()
        .map(|e| match e {
            Effect::Move { .. } => "move",
            Effect::Sweep { .. } => "sweep",
            Effect::Copy { .. } => "copy",
            Effect::CreateWorktree { .. } => "worktree",
            Effect::RemoveWorktree { .. } => "remove",
            Effect::WriteJson { .. } => "write",
            Effect::WriteText { .. } => "pack",
            Effect::MergeWorkers { .. } => "merge",
        })
        .collect();
    assert_eq!(
        kinds,
        [
            "move", "copy", "worktree", "sweep", "pack", "write", "write", "write"
        ]
    );
    let Effect::WriteJson { path, value } = &tr.effects[5] else {
        panic!()
    };
    assert!(path.ends_with("handoff.step-0002.implementor.json"));
    assert!(
        value["artifacts"]["contextPackPath"]
            .as_str()
            .unwrap()
            .ends_with("context.pack.md")
    );
    let Effect::WriteText { text, .. } = &tr.effects[4] else {
        panic!()
    };
    assert!(
        text.contains("Format with rustfmt before every commit"),
        "{text}"
    );
    assert_eq!(value["context"]["commitSha"], "c0ffee");
    assert_eq!(
        value["artifacts"]["planPath"],
        format!("/w/.swarm/runs/{RUN}/plan.json")
    );
    assert!(tr.events.iter().any(|e| e.signal == "PLAN_ACCEPTED"));
}

#[test]
fn plan_problems_replan_then_escalate() {
    let t = T::new();
    let st = t.start().status;
    let mut bad = good_plan();
    bad["lanes"][0]["tasks"][0]["dependencies"] = json!(["ghost"]);
    let st = t.planned(&st, bad.clone()).status;
    assert_eq!(pending_agent(&st), "planner");
    assert_eq!(st.counter("plan-replan-count"), 1);
    assert!(st.swarm.pending[0].prompt.contains("depends on \"ghost\""));
    assert!(st.worktree_path.is_none());
    let st = t.planned(&st, bad).status;
    assert_eq!(st.outcome, Outcome::NeedsHuman);
    assert!(matches!(
        st.swarm.resume,
        Some(Resume::Issue { replan: true, .. })
    ));
}

#[test]
fn plan_schema_violations_are_replan_feedback() {
    let t = T::new();
    let st = t.start().status;
    let mut a = t.arrive(&st, json!({"plan-path": "p"}));
    a.plan = Some(Ok(LoadedPlan {
        path: "/p".into(),
        value: good_plan(),
        violations: vec![Violation {
            pointer: "/goal".into(),
            message: "bad".into(),
        }],
        problems: vec![],
    }));
    let st = t.consume(&st, a).status;
    assert!(st.swarm.pending[0].prompt.contains("plan.json /goal: bad"));
}

#[test]
fn standards_missing_at_plan_time_keeps_the_result_for_later() {
    let mut t = T::new();
    let st = t.start().status;
    t.facts.standards = Err("gone".into());
    let tr = t.planned(&st, good_plan());
    assert_eq!(tr.status.outcome, Outcome::NeedsHuman);
    assert!(tr.effects.is_empty(), "the result is not consumed");
    assert_eq!(tr.status.swarm.pending.len(), 1, "still waiting for it");
    t.facts.standards = Ok(());
    let st = retry(&mut t.ctx(), &t.facts, &tr.status).unwrap().status;
    assert_eq!(pending_agent(&st), "planner");
    assert_eq!(st.swarm.pending[0].step, 1, "same invocation, no new step");
}

#[test]
fn review_loop_counts_then_escalates_and_retry_reopens() {
    let t = T::new();
    let st = t.at_reviewer();
    assert_eq!(pending_agent(&st), "reviewer");
    assert!(st.swarm.pending[0].allowed_files.is_empty());
    let st = t.review(&st, "rejected").status;
    assert_eq!(pending_agent(&st), "implementor");
    assert_eq!(st.counter("review-fix-loop-count"), 1);
    assert_eq!(st.swarm.notes["reviewer"].feedback, ["src/a.rs:3: fix it"]);
    // Back through the implementor, rejected again (2 of 2), then once more: escalate.
    let hid = st.swarm.pending[0].handoff_id.clone().unwrap();
    let st = t
        .consume(
            &st,
            t.arrive(&st, json!({"status": "completed", "handoffId": hid})),
        )
        .status;
    let st = t.review(&st, "rejected").status;
    assert_eq!(st.counter("review-fix-loop-count"), 2);
    let hid = st.swarm.pending[0].handoff_id.clone().unwrap();
    let st = t
        .consume(
            &st,
            t.arrive(&st, json!({"status": "completed", "handoffId": hid})),
        )
        .status;
    let st = t.review(&st, "rejected").status;
    assert_eq!(st.outcome, Outcome::NeedsHuman);
    assert_eq!(st.counter("review-fix-loop-count"), 2);
    let st = retry(&mut t.ctx(), &t.facts, &st).unwrap().status;
    assert_eq!(pending_agent(&st), "implementor");
    assert_eq!(st.counter("review-fix-loop-count"), 3);
    assert_eq!(st.retry_counts["implementor"], 1);
    assert_eq!(st.swarm.pending[0].iteration, 4);
}

#[test]
fn approval_goes_forward_without_review_issues() {
    let t = T::new();
    let st = t.at_reviewer();
    let st = t.review(&st, "approved").status;
    assert_eq!(pending_agent(&st), "tester");
    assert_eq!(st.counter("review-fix-loop-count"), 0);
}

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
    assert!(r.message.contains("in progress"));
    let canceled = abort("2026-01-01T00:00:01Z", &st, "no", None).status;
    assert_eq!(canceled.outcome, Outcome::Canceled);
    assert!(retry(&mut t.ctx(), &t.facts, &canceled).is_err());
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
