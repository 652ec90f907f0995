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
    budget: crate::machine::budget::Budget,
    gates: crate::machine::Gates,
    sparse: Option<Vec<String>>,
}

impl T {
    fn new() -> T {
        T {
            cfg: wf(),
            budget: Default::default(),
            gates: Default::default(),
            sparse: None,
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
                merge_prediction: None,
                conflict_markers: Vec::new(),
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
            budget: self.budget.clone(),
            gates: self.gates,
            sparse: self.sparse.clone(),
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
            Effect::CreateWorktree { .. } | Effect::WidenSparse { .. } => "worktree",
            Effect::RemoveWorktree { .. } => "remove",
            Effect::WriteJson { .. } => "write",
            Effect::WriteText { .. } => "pack",
            Effect::MergeWorkers { .. }
            | Effect::MergeConflicting { .. }
            | Effect::ConcludeMerge { .. } => "merge",
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

mod follow;
mod outcomes;
