//! Loop control, re-plans, stale results, retry, abort, --reject and concurrency.

mod common;

use common::*;
use serde_json::json;
use std::path::PathBuf;

/// Drives a run to the reviewer and returns its id and worktree.
fn to_reviewer(env: &Env) -> (String, PathBuf) {
    let id = env.start("Add a greeting");
    play_planner(env, &id, &simple_plan(&id));
    let j = env.sj(&["next"]).json();
    let wt = PathBuf::from(j["invocations"][0]["cwd"].as_str().unwrap());
    play_implementor(env, &id, "completed");
    env.sj(&["next"]).code(0);
    (id, wt)
}

#[test]
fn loop_exhaustion_escalates_and_retry_reopens_the_refused_handoff() {
    let env = Env::new();
    let mut cfg = env.config();
    cfg["loop-control"]["maxLoops"] = json!(1);
    env.set_config(&cfg);
    let (id, _) = to_reviewer(&env);
    play_reviewer(&env, &id, "rejected");
    env.sj(&["next"]).code(0);
    play_implementor(&env, &id, "completed");
    env.sj(&["next"]).code(0);
    play_reviewer(&env, &id, "rejected");
    let out = env.sj(&["next"]);
    out.code(4);
    let j = out.json();
    assert_eq!(j["action"], "escalated");
    assert_eq!(j["outcome"], "needs-human");
    assert!(
        j["message"]
            .as_str()
            .unwrap()
            .contains("review-fix-loop-count 1 of 1"),
        "{j}"
    );
    assert!(
        j["hint"].as_str().unwrap().contains("git swarm retry"),
        "{j}"
    );
    let st = env.status(&id);
    assert_eq!(st["outcome"], "needs-human");
    assert_eq!(st["review-fix-loop-count"], 1);
    // next keeps reporting the escalation (exit 4), changing nothing.
    let before = env.snapshot();
    env.sj(&["next", "--run", &id]).code(4);
    assert_eq!(before, env.snapshot());

    let out = env.sj(&["retry"]);
    out.code(0);
    let j = out.json();
    assert_eq!(
        j["invocations"][0]["agent"], "implementor",
        "the refused hand-off is re-opened"
    );
    assert_eq!(j["invocations"][0]["iteration"], 3);
    let st = env.status(&id);
    assert_eq!(st["outcome"], "in-progress");
    assert_eq!(st["retry-counts"]["implementor"], 1);
    assert_eq!(st["review-fix-loop-count"], 2);
    let h = handoff(&env, &id);
    assert!(
        h["context"]["feedback"][0]
            .as_str()
            .unwrap()
            .contains("must return the greeting")
    );
    assert_run_files_valid(&env, &id);
}

#[test]
fn replan_exhaustion_escalates_with_the_feedback() {
    let env = Env::new();
    let id = env.start("Add a greeting");
    let bad = plan(
        &id,
        "add-greeting",
        vec![
            task("t1", &["/etc/passwd"], &[]),
            task("t1", &["src/a.rs"], &["nope"]),
        ],
    );
    play_planner(&env, &id, &bad);
    let out = env.sj(&["next"]);
    out.code(0);
    let j = out.json();
    let inv = &j["invocations"][0];
    assert_eq!(inv["agent"], "planner", "re-plan");
    assert_eq!(inv["iteration"], 2);
    let p = inv["prompt"].as_str().unwrap();
    assert!(p.contains("previous plan was rejected"), "{p}");
    assert!(p.contains("task id \"t1\" is used twice"), "{p}");
    assert!(p.contains("absolute paths are not allowed"), "{p}");
    assert!(p.contains("depends on \"nope\""), "{p}");
    assert_eq!(env.status(&id)["plan-replan-count"], 1);
    assert!(
        !env.root().join("work-swarm-add-greeting").exists(),
        "no worktree for a rejected plan"
    );

    play_planner(&env, &id, &bad);
    let out = env.sj(&["next"]);
    out.code(4);
    let j = out.json();
    assert_eq!(j["outcome"], "needs-human");
    assert!(
        j["message"]
            .as_str()
            .unwrap()
            .contains("no re-plan is left"),
        "{j}"
    );
    assert_eq!(env.status(&id)["plan-replan-count"], 1);
    assert!(env.git(&["branch", "--list", "swarm/*"]).is_empty());
    assert_run_files_valid(&env, &id);

    // retry re-opens the planner with the same feedback.
    let j = env.sj(&["retry"]).json();
    assert_eq!(j["invocations"][0]["agent"], "planner");
    assert!(
        j["invocations"][0]["prompt"]
            .as_str()
            .unwrap()
            .contains("used twice")
    );
    play_planner(&env, &id, &simple_plan(&id));
    assert_eq!(
        env.sj(&["next"]).json()["invocations"][0]["agent"],
        "implementor"
    );
}

#[test]
fn a_stale_result_is_never_consumed() {
    let env = Env::new();
    let (id, _) = to_reviewer(&env);
    // A reviewer result answering an older handoff id.
    play_reviewer(&env, &id, "approved");
    let p = env.run_dir(&id).join("reviewer.result.json");
    let mut r = read_json(&p);
    r["handoffId"] = json!("00000000-0000-4000-8000-000000000000");
    write_json(&p, &r);
    let out = env.sj(&["next"]);
    out.code(0);
    let j = out.json();
    assert_eq!(
        j["invocations"][0]["agent"], "reviewer",
        "still waiting for the real result"
    );
    assert!(!p.exists(), "the stale file is moved out of the way");
    let st = env.status(&id);
    assert!(
        st["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|w| w["reason"] == "stale-result"),
        "{}",
        st["warnings"]
    );

    // The result consumed for the implementor's first pass never counts again: a copy put
    // back into the run folder after the implementor was re-invoked is moved aside.
    play_reviewer(&env, &id, "rejected");
    env.sj(&["next"]).code(0);
    let archived = env.run_dir(&id).join("archive");
    let old = std::fs::read_dir(&archived)
        .unwrap()
        .flatten()
        .find(|e| {
            e.file_name()
                .to_string_lossy()
                .ends_with(".implementor.result.json")
        })
        .unwrap()
        .path();
    std::fs::copy(&old, env.run_dir(&id).join("implementor.result.json")).unwrap();
    let j = env.sj(&["next"]).json();
    assert_eq!(j["invocations"][0]["agent"], "implementor");
    assert_eq!(
        j["invocations"][0]["iteration"], 2,
        "the old result did not advance the run"
    );
    assert_run_files_valid(&env, &id);
}

#[test]
fn an_invalid_result_fails_the_run_and_retry_reinvokes_with_the_violations() {
    let env = Env::new();
    let (id, _) = to_reviewer(&env);
    write_json(
        &env.run_dir(&id).join("reviewer.result.json"),
        &json!({"subagent": "reviewer", "verdict": "maybe"}),
    );
    let out = env.sj(&["next"]);
    out.code(5);
    let j = out.json();
    assert_eq!(j["action"], "failed");
    let msg = j["message"].as_str().unwrap();
    assert!(msg.contains("/verdict"), "{msg}");
    assert!(
        msg.contains("\"handoffId\" is a required property") || msg.contains("handoffId"),
        "{msg}"
    );
    let st = env.status(&id);
    assert_eq!(st["outcome"], "failed");
    assert!(st["failure-reason"].as_str().unwrap().contains("/verdict"));

    let out = env.sj(&["retry"]);
    out.code(0);
    let j = out.json();
    assert_eq!(j["invocations"][0]["agent"], "reviewer");
    assert_eq!(j["invocations"][0]["iteration"], 2);
    let h = handoff(&env, &id);
    let fb = h["context"]["feedback"].as_array().unwrap();
    assert!(
        fb.iter().any(|f| f.as_str().unwrap().contains("/verdict")),
        "{fb:?}"
    );
    assert_eq!(env.status(&id)["retry-counts"]["reviewer"], 1);
    play_reviewer(&env, &id, "approved");
    assert_eq!(
        env.sj(&["next"]).json()["invocations"][0]["agent"],
        "tester"
    );
}

#[test]
fn malformed_json_fails_with_the_position() {
    let env = Env::new();
    let (id, _) = to_reviewer(&env);
    std::fs::write(
        env.run_dir(&id).join("reviewer.result.json"),
        "{\"verdict\": \"approved\",,}",
    )
    .unwrap();
    let out = env.sj(&["next"]);
    out.code(5);
    let msg = out.json()["message"].as_str().unwrap().to_string();
    assert!(
        msg.contains("reviewer.result.json is not valid JSON") && msg.contains("line 1 column"),
        "{msg}"
    );
    assert_run_files_valid(&env, &id);
}

#[test]
fn tester_failure_fails_the_run() {
    let env = Env::new();
    let (id, _) = to_reviewer(&env);
    play_reviewer(&env, &id, "approved");
    env.sj(&["next"]).code(0);
    play_tester(&env, &id, "failed");
    let out = env.sj(&["next"]);
    out.code(5);
    let j = out.json();
    assert!(
        j["message"]
            .as_str()
            .unwrap()
            .contains("tester reported failed"),
        "{j}"
    );
    assert!(
        j["message"]
            .as_str()
            .unwrap()
            .contains("tests::hello failed"),
        "{j}"
    );
    let j = env.sj(&["retry"]).json();
    assert_eq!(j["invocations"][0]["agent"], "tester");
}

#[test]
fn reject_sends_a_plan_back_and_a_step_back_to_its_agent() {
    let env = Env::new();
    let id = env.start("Add a greeting");
    // Nothing to reject yet.
    let out = env.sj(&["next", "--reject", "too broad"]);
    out.code(3);
    assert!(out.error_message().contains("nothing to reject"));
    play_planner(&env, &id, &simple_plan(&id));
    let j = env
        .sj(&[
            "next",
            "--reject",
            "conflicts with the standards: no tests planned",
        ])
        .json();
    assert_eq!(j["invocations"][0]["agent"], "planner");
    assert!(
        j["invocations"][0]["prompt"]
            .as_str()
            .unwrap()
            .contains("no tests planned")
    );
    assert_eq!(env.status(&id)["plan-replan-count"], 1);

    play_planner(&env, &id, &simple_plan(&id));
    env.sj(&["next"]).code(0);
    play_implementor(&env, &id, "completed");
    let j = env
        .sj(&["next", "--reject", "the change is untested"])
        .json();
    assert_eq!(j["invocations"][0]["agent"], "implementor");
    assert_eq!(j["invocations"][0]["iteration"], 2);
    assert_eq!(env.status(&id)["retry-counts"]["implementor"], 1);
    let h = handoff(&env, &id);
    assert!(
        h["context"]["feedback"][0]
            .as_str()
            .unwrap()
            .contains("the change is untested")
    );
}

#[test]
fn abort_keeps_a_worktree_with_uncommitted_work() {
    let env = Env::new();
    let (id, wt) = to_reviewer(&env);
    std::fs::write(wt.join("notes.txt"), "unsaved work").unwrap();
    let out = env.sj(&["abort"]);
    out.code(0);
    let j = out.json();
    assert_eq!(j["action"], "canceled");
    assert!(j["worktree"].as_str().unwrap().contains("kept"), "{j}");
    assert!(wt.join("notes.txt").exists(), "uncommitted work survives");
    assert_eq!(env.status(&id)["outcome"], "canceled");
    // A canceled run stays canceled; next reports it with exit 0.
    env.sj(&["next", "--run", &id]).code(0);
    let out = env.sj(&["retry"]);
    out.code(3);
    // No run is in progress any more.
    env.sj(&["next"]).code(1);
}

#[test]
fn abort_keeps_unpushed_commits_and_removes_a_clean_unchanged_worktree() {
    let env = Env::new();
    let (id, wt) = to_reviewer(&env);
    let j = env.sj(&["abort", "--run", &id]).json();
    assert!(
        j["worktree"]
            .as_str()
            .unwrap()
            .contains("not on any remote"),
        "{j}"
    );
    assert!(wt.exists());

    let id2 = env.start("Second task");
    play_planner(
        &env,
        &id2,
        &plan(&id2, "second", vec![task("t1", &["src/lib.rs"], &[])]),
    );
    let j = env.sj(&["next", "--run", &id2]).json();
    let wt2 = PathBuf::from(j["invocations"][0]["cwd"].as_str().unwrap());
    let j = env
        .sj(&["abort", "--run", &id2, "--reason", "changed my mind"])
        .json();
    assert!(j["worktree"].as_str().unwrap().contains("removed"), "{j}");
    assert!(!wt2.exists());
    assert!(
        env.git(&["branch", "--list", "swarm/second"])
            .contains("swarm/second"),
        "the branch stays"
    );
    assert_eq!(
        env.status(&id2)["failure-reason"],
        "canceled: changed my mind"
    );
}

#[test]
fn concurrent_next_calls_make_exactly_one_transition() {
    let env = Env::new();
    let id = env.start("Add a greeting");
    play_planner(&env, &id, &simple_plan(&id));
    let children: Vec<_> = (0..8)
        .map(|_| {
            env.command(&env.work, &["next", "--json"])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let outs: Vec<_> = children
        .into_iter()
        .map(|c| c.wait_with_output().unwrap())
        .collect();
    for o in &outs {
        assert_eq!(
            o.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&o.stderr)
        );
        let j: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(j["invocations"][0]["agent"], "implementor");
        assert_eq!(j["invocations"][0]["step"], 2);
    }
    let st = env.status(&id);
    assert_eq!(st["swarm"]["seq"], 2, "one transition after start");
    assert_eq!(st["swarm"]["step"], 2);
    let wts = env.git(&["worktree", "list"]);
    assert_eq!(wts.lines().count(), 2, "{wts}");
    let events = std::fs::read_to_string(env.run_dir(&id).join("events.jsonl")).unwrap();
    assert_eq!(events.matches("PLAN_ACCEPTED").count(), 1);
    assert_run_files_valid(&env, &id);
}

#[test]
fn existing_branch_and_directory_are_never_clobbered() {
    let env = Env::new();
    env.git(&["branch", "swarm/add-greeting"]);
    std::fs::create_dir_all(env.root().join("work-swarm-add-greeting-2")).unwrap();
    std::fs::write(
        env.root().join("work-swarm-add-greeting-2/keep.txt"),
        "mine",
    )
    .unwrap();
    let id = env.start("Add a greeting");
    play_planner(&env, &id, &simple_plan(&id));
    let j = env.sj(&["next"]).json();
    assert_eq!(
        j["invocations"][0]["cwd"],
        env.root()
            .join("work-swarm-add-greeting-3")
            .display()
            .to_string()
    );
    assert_eq!(env.status(&id)["branch"], "swarm/add-greeting-3");
    assert_eq!(
        std::fs::read_to_string(env.root().join("work-swarm-add-greeting-2/keep.txt")).unwrap(),
        "mine"
    );
}

#[test]
fn the_standards_gate_escalates_then_retry_starts_the_planner() {
    let env = Env::bare();
    env.install_reference_pack();
    let out = env.sj(&["start", "Add a greeting"]);
    out.code(4);
    let j = out.json();
    assert_eq!(j["outcome"], "needs-human");
    let msg = j["message"].as_str().unwrap();
    assert!(msg.contains("standards.md does not exist"), "{msg}");
    assert!(msg.contains("how code is formatted"), "{msg}");
    let id = j["run-id"].as_str().unwrap().to_string();
    assert_run_files_valid(&env, &id);
    // Placeholder-only standards do not pass either.
    std::fs::create_dir_all(env.work.join(".swarm")).unwrap();
    std::fs::write(
        env.work.join(".swarm/standards.md"),
        "# Standards\n\nTODO: fill in\n",
    )
    .unwrap();
    let out = env.sj(&["retry"]);
    out.code(3);
    assert!(
        out.error_message().contains("placeholder-only"),
        "{}",
        out.stdout
    );
    std::fs::write(env.work.join(".swarm/standards.md"), STANDARDS).unwrap();
    let j = env.sj(&["retry"]).json();
    assert_eq!(j["action"], "invoke");
    assert_eq!(j["invocations"][0]["agent"], "planner");
    assert_eq!(j["invocations"][0]["iteration"], 1);
}

#[test]
fn two_runs_need_run_to_choose() {
    let env = Env::new();
    let a = env.start("First");
    let b = env.start("Second");
    let out = env.sj(&["next"]);
    out.code(1);
    let m = out.error_message();
    assert!(m.contains(&a) && m.contains(&b), "{m}");
    assert!(
        out.json()["error"]["hint"]
            .as_str()
            .unwrap()
            .contains("--run")
    );
    env.sj(&["next", "--run", &a[..8]]).code(0);
    let out = env.sj(&["next", "--run", "ffffffff"]);
    out.code(1);
    assert!(out.error_message().contains("no run with id 'ffffffff'"));
}

/// See issue 10: edits the user made in the main workspace while the planner worked were
/// judged as the planner's; a re-plan was spent and the feedback told the agent to check the
/// user's edits out.
#[test]
fn the_users_own_edits_during_planning_are_never_blamed_on_the_planner() {
    let env = Env::new();
    let id = env.start("Add a greeting");
    // The user goes on working in the workspace while the planner runs.
    std::fs::write(env.work.join("README.md"), "# app\n\nmy own notes\n").unwrap();
    std::fs::write(env.work.join("scratch.txt"), "mine\n").unwrap();
    play_planner(&env, &id, &simple_plan(&id));
    let j = env.sj(&["next"]).json();
    assert_eq!(j["invocations"][0]["agent"], "implementor", "{j}");
    let st = env.status(&id);
    assert_eq!(st["plan-replan-count"], 0, "no re-plan spent");
    assert!(st["retry-counts"].as_object().unwrap().is_empty(), "{st}");
    let w: Vec<&serde_json::Value> = st["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|w| w["reason"] == "workspace-changed")
        .collect();
    assert_eq!(w.len(), 1, "{st}");
    let msg = w[0]["message"].as_str().unwrap();
    assert!(
        msg.contains("\"README.md\"") && msg.contains("\"scratch.txt\""),
        "{msg}"
    );
    assert!(msg.contains("you may have made them"), "{msg}");
    // Nothing tells any agent to undo them, and the user's work is untouched.
    let handoff = std::fs::read_to_string(env.run_dir(&id).join("handoff.json")).unwrap();
    assert!(
        !handoff.contains("README.md") || !handoff.contains("undo"),
        "{handoff}"
    );
    assert_eq!(
        std::fs::read_to_string(env.work.join("README.md")).unwrap(),
        "# app\n\nmy own notes\n"
    );
    // The run's worktree starts from the base commit: the user's edits are not in it.
    let wt = std::path::PathBuf::from(st["worktreePath"].as_str().unwrap());
    assert_eq!(
        std::fs::read_to_string(wt.join("README.md")).unwrap(),
        "# app\n"
    );
    assert!(!wt.join("scratch.txt").exists());
}
