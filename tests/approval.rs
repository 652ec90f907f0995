//! Approval gates (policies.approval): a run waits for a person at the accepted plan and before
//! publishing; `git swarm approve` continues, `git swarm next --reject` sends the plan back.

mod common;

use common::agents::Exec;
use common::*;
use serde_json::json;

fn gates(env: &Env) {
    std::fs::write(
        env.work.join(".swarm/policies.json"),
        json!({"approval": {"plan": true, "publish": true}}).to_string(),
    )
    .unwrap();
    env.git(&["add", ".swarm/policies.json"]);
    env.git(&["commit", "-q", "-m", "gates"]);
}

#[test]
fn host_mode_waits_at_both_gates_until_approved_and_a_rejection_replans() {
    let env = Env::new();
    gates(&env);
    let id = env.start("Add a greeting");
    play_planner(&env, &id, &simple_plan(&id));
    let out = env.sj(&["next"]);
    out.code(0);
    let j = out.json();
    assert_eq!(j["action"], "approve", "{j}");
    assert!(
        j["message"]
            .as_str()
            .unwrap()
            .starts_with("approve the plan 'add-greeting' (1 task(s), "),
        "{j}"
    );
    assert!(
        j["message"].as_str().unwrap().contains("; acceptance: "),
        "the acceptance checks are in the message: {j}"
    );
    assert_eq!(j["hint"], format!("git swarm approve --run {id}"));
    assert_eq!(j["invocations"], json!([]));
    // Asked again, the same answer; nothing was made.
    assert_eq!(env.sj(&["next"]).code(0).action(), "approve");
    assert!(env.status(&id)["worktreePath"].is_null());
    let text = env.swarm(&["next"]).stdout;
    assert!(text.contains("  task t1: "), "{text}");
    assert!(
        text.contains(&format!("Approve: git swarm approve --run {id}")),
        "{text}"
    );

    // Turned down: the planner plans again with the person's words.
    let j = env
        .sj(&["next", "--reject", "split it in two"])
        .code(0)
        .json();
    assert_eq!(j["invocations"][0]["agent"], "planner", "{j}");
    assert!(
        j["invocations"][0]["prompt"]
            .as_str()
            .unwrap()
            .contains("rejected by a person: split it in two"),
        "{j}"
    );
    play_planner(&env, &id, &simple_plan(&id));
    assert_eq!(
        env.sj(&["next"]).code(0).action(),
        "approve",
        "a new plan is approved anew"
    );
    let j = env.sj(&["approve"]).code(0).json();
    assert_eq!(j["invocations"][0]["agent"], "implementor", "{j}");

    play_implementor(&env, &id, "completed");
    env.sj(&["next"]).code(0);
    play_reviewer(&env, &id, "approved");
    env.sj(&["next"]).code(0);
    play_tester(&env, &id, "passed");
    let j = env.sj(&["next"]).code(0).json();
    assert_eq!(j["action"], "approve", "{j}");
    assert!(
        j["message"]
            .as_str()
            .unwrap()
            .starts_with("approve publishing"),
        "{j}"
    );
    // Publishing refuses before approval, and pushes nothing.
    let out = env.sj(&["publish"]);
    out.code(3);
    assert!(out.stdout.contains("git swarm approve"), "{}", out.stdout);
    let j = env.sj(&["approve", "--run", &id]).code(0).json();
    assert_eq!(j["action"], "publish", "{j}");
    assert_eq!(
        env.sj(&["approve", "--run", &id]).code,
        3,
        "nothing left to approve"
    );
    let events: Vec<String> = std::fs::read_to_string(env.run_dir(&id).join("events.jsonl"))
        .unwrap()
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["signal"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .filter(|s| s.starts_with("APPROV"))
        .collect();
    assert_eq!(
        events,
        [
            "APPROVAL_NEEDED",
            "APPROVAL_NEEDED",
            "APPROVED",
            "APPROVAL_NEEDED",
            "APPROVED"
        ]
    );
    assert_run_files_valid(&env, &id);
}

#[test]
fn git_swarm_run_stops_at_a_gate_with_exit_0_and_goes_on_after_approve() {
    let x = Exec::new();
    gates(&x.env);
    // The plan's test command, which a person approves with the plan: the verification gate
    // runs it before publishing.
    let mut cfg = x.env.config();
    for a in cfg["subagents"].as_array_mut().unwrap() {
        if let Some(p) = a["env"].get_mut("FAKE_PLAN") {
            *p = json!(
                p.as_str()
                    .unwrap()
                    .replace("cargo test", "git diff --quiet HEAD")
            );
        }
    }
    x.env.set_config(&cfg);
    let out = x.run(&["Add a greeting"]);
    assert_eq!(out.code, 0, "{}", out.stdout);
    let j = out.json();
    assert_eq!(j["action"], "approve", "{j}");
    let id = j["run-id"].as_str().unwrap().to_string();
    x.env.sj(&["approve", "--run", &id]).code(0);
    let j = x.run(&["--run", &id]).json();
    assert_eq!(j["action"], "approve", "the publish gate: {j}");
    x.env.sj(&["approve", "--run", &id]).code(0);
    let j = x.run(&["--run", &id]).json();
    assert_eq!(j["action"], "done", "{j}");
    let v = &x.env.status(&id)["swarm"]["verification"];
    assert_eq!(v["commands"][0]["command"], "git diff --quiet HEAD");
    assert_eq!(v["commands"][0]["outcome"], "passed", "{v}");
}
