//! Bad input: each case has a clear message naming the file, pointer or command, the right
//! exit code, and leaves `.swarm/` and git as they were (or takes exactly the documented step).

mod common;

use common::*;
use serde_json::json;

/// Runs `args` and asserts exit code, a message containing every needle, and no change.
#[track_caller]
fn refuses(env: &Env, args: &[&str], code: i32, needles: &[&str]) -> serde_json::Value {
    let before = env.snapshot();
    let out = env.sj(args);
    out.code(code);
    let j = out.json();
    let text = format!("{} {}", j["error"]["message"], j["error"]["hint"]);
    for n in needles {
        assert!(text.contains(n), "missing {n:?} in {text}");
    }
    assert_eq!(before, env.snapshot(), "state changed");
    j
}

#[test]
fn config_missing() {
    let env = Env::bare();
    env.write_standards(STANDARDS);
    let p = env.config_path().display().to_string();
    refuses(
        &env,
        &["start", "x"],
        1,
        &["no workflow config at", &p, "git swarm init --pack"],
    );
}

#[test]
fn config_not_json() {
    let env = Env::new();
    std::fs::write(env.config_path(), "{\"subagents\": [").unwrap();
    refuses(
        &env,
        &["start", "x"],
        1,
        &["config.json is not valid JSON", "line 1"],
    );
}

#[test]
fn config_with_wrong_types() {
    let env = Env::new();
    let mut c = env.config();
    c["handoff-to"] = json!(["planner"]);
    env.set_config(&c);
    refuses(
        &env,
        &["start", "x"],
        1,
        &["/handoff-to", "fix the value at /handoff-to"],
    );
    let mut c = env.config();
    c["handoff-to"] = json!({"planner": "implementor"});
    env.set_config(&c);
    refuses(&env, &["start", "x"], 1, &["/handoff-to/planner"]);
}

#[test]
fn config_with_two_first_steps() {
    let env = Env::new();
    let mut c = env.config();
    c["subagents"][1]["first-step"] = json!(true);
    env.set_config(&c);
    refuses(
        &env,
        &["start", "x"],
        1,
        &[
            "/subagents/1/first-step",
            "2 agents are marked first-step (planner, implementor)",
            "exactly one",
        ],
    );
}

#[test]
fn config_naming_an_unknown_agent() {
    let env = Env::new();
    let mut c = env.config();
    c["handoff-to"]["reviewer"] = json!(["implementor", "deployer"]);
    env.set_config(&c);
    refuses(
        &env,
        &["start", "x"],
        1,
        &[
            "/handoff-to/reviewer/1",
            "'deployer'",
            "not one of the subagents",
        ],
    );
}

#[test]
fn config_with_a_missing_schema_file() {
    let env = Env::new();
    std::fs::remove_file(
        env.home
            .join(".cursor/agents/reviewer/reviewer.schema.json"),
    )
    .unwrap();
    refuses(
        &env,
        &["start", "x"],
        1,
        &[
            "/subagents/2/schemaPath",
            "reviewer.schema.json",
            "does not exist",
        ],
    );
}

#[test]
fn config_from_the_environment_and_flag() {
    let env = Env::new();
    let mut e = Env::new();
    e.extra_env = vec![("GIT_SWARM_CONFIG".into(), "/nowhere/config.json".into())];
    refuses(
        &e,
        &["start", "x"],
        1,
        &["/nowhere/config.json", "GIT_SWARM_CONFIG"],
    );
    refuses(
        &env,
        &["start", "x", "--config", "/elsewhere/c.json"],
        1,
        &["/elsewhere/c.json"],
    );
}

#[test]
fn a_dirty_tree_is_refused_and_nothing_is_written() {
    let env = Env::new();
    std::fs::write(env.work.join("src/lib.rs"), "changed").unwrap();
    refuses(
        &env,
        &["start", "x"],
        3,
        &["not clean", "modified", "src/lib.rs", "git stash -u"],
    );
    assert!(!env.work.join(".swarm/runs").exists(), "nothing written");
    env.git(&["checkout", "src/lib.rs"]);

    std::fs::write(env.work.join("new.txt"), "x").unwrap();
    env.git(&["add", "new.txt"]);
    refuses(&env, &["start", "x"], 3, &["staged", "new.txt"]);
    env.git(&["reset", "-q", "new.txt"]);
    refuses(
        &env,
        &["start", "x"],
        3,
        &["untracked", "new.txt", "allowUntrackedFiles"],
    );

    // Untracked files allowed by policy; ignored files never count.
    std::fs::write(
        env.work.join(".swarm/policies.json"),
        r#"{"git": {"allowUntrackedFiles": true}}"#,
    )
    .unwrap();
    env.git(&["add", ".swarm/policies.json"]);
    env.git(&["commit", "-q", "-m", "policy"]);
    std::fs::write(env.work.join(".gitignore"), "*.log\n").unwrap();
    env.git(&["add", ".gitignore"]);
    env.git(&["commit", "-q", "-m", "ignore"]);
    std::fs::write(env.work.join("debug.log"), "x").unwrap();
    env.start("Add a greeting");
}

#[test]
fn next_without_a_run_and_an_unknown_run() {
    let env = Env::new();
    refuses(
        &env,
        &["next"],
        1,
        &["no run in progress", "git swarm start"],
    );
    env.start("x");
    refuses(
        &env,
        &["next", "--run", "0000dead"],
        1,
        &["no run with id '0000dead'", "git swarm list"],
    );
    refuses(
        &env,
        &["status", "--run", "../../etc"],
        1,
        &["no run with id"],
    );
}

#[test]
fn usage_errors_exit_2_with_json() {
    let env = Env::new();
    let out = env.sj(&["start"]);
    out.code(2);
    assert!(out.error_message().contains("no task given"));
    let out = env.sj(&["frobnicate"]);
    out.code(2);
    assert!(
        out.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("frobnicate")
    );
}

fn planned(env: &Env, plan_fn: impl Fn(&str) -> serde_json::Value) -> (String, serde_json::Value) {
    let id = env.start("Add a greeting");
    play_planner(env, &id, &plan_fn(&id));
    let out = env.sj(&["next"]);
    out.code(0);
    (id, out.json())
}

/// A rejected plan goes back to the planner with the exact feedback, and nothing else
/// happens: no worktree, no branch.
#[track_caller]
fn replanned(env: &Env, j: &serde_json::Value, needles: &[&str]) {
    assert_eq!(j["invocations"][0]["agent"], "planner", "{j}");
    let p = j["invocations"][0]["prompt"].as_str().unwrap();
    for n in needles {
        assert!(p.contains(n), "missing {n:?} in {p}");
    }
    assert!(env.git(&["branch", "--list", "swarm/*"]).is_empty());
    assert_eq!(env.git(&["worktree", "list"]).lines().count(), 1);
}

#[test]
fn plan_with_duplicate_ids_unknown_dependency_and_cycle() {
    let env = Env::new();
    let (_, j) = planned(&env, |id| {
        plan(
            id,
            "x",
            vec![
                task("a", &["src/a.rs"], &["b"]),
                task("b", &["src/b.rs"], &["a"]),
                task("a", &["src/c.rs"], &["zzz"]),
            ],
        )
    });
    replanned(
        &env,
        &j,
        &[
            "task id \"a\" is used twice",
            "depends on \"zzz\"",
            "cycle: a -> b -> a",
        ],
    );
}

#[test]
fn plan_with_absolute_and_escaping_paths() {
    let env = Env::new();
    let (_, j) = planned(&env, |id| {
        plan(
            id,
            "x",
            vec![task(
                "a",
                &["/etc/passwd", "../outside.txt", "C:\\win.ini"],
                &[],
            )],
        )
    });
    replanned(
        &env,
        &j,
        &[
            "\"/etc/passwd\": absolute paths are not allowed",
            "\"../outside.txt\": the path leaves the repository",
            "C:\\\\win.ini",
        ],
    );
}

#[test]
fn plan_path_outside_the_run_folder() {
    let env = Env::new();
    let id = env.start("Add a greeting");
    let outside = env.root().join("plan.json");
    write_json(&outside, &simple_plan(&id));
    write_json(
        &env.run_dir(&id).join("planner.result.json"),
        &json!({"subagent": "planner", "status": "complete", "plan-id": id, "plan-path": outside.display().to_string()}),
    );
    let j = env.sj(&["next"]).json();
    replanned(&env, &j, &["outside the run folder"]);
    // A relative path that climbs out is caught the same way.
    write_json(&env.run_dir(&id).join("plan.json"), &simple_plan(&id));
    write_json(
        &env.run_dir(&id).join("planner.result.json"),
        &json!({"subagent": "planner", "status": "complete", "plan-id": id, "plan-path": "../plan.json"}),
    );
    let out = env.sj(&["next"]);
    out.code(4);
    assert!(
        out.json()["message"]
            .as_str()
            .unwrap()
            .contains("outside the run folder")
    );
}

#[test]
fn plan_with_a_friendly_name_that_is_not_a_branch() {
    let env = Env::new();
    let (_, j) = planned(&env, |id| {
        plan(id, "Bad Name..", vec![task("a", &["src/a.rs"], &[])])
    });
    replanned(&env, &j, &["/friendly-name"]);
}

#[test]
fn a_result_violating_its_schema_lists_every_violation() {
    let env = Env::new();
    let id = env.start("x");
    write_json(
        &env.run_dir(&id).join("planner.result.json"),
        &json!({"subagent": "implementor", "status": "done", "extra": 1}),
    );
    let out = env.sj(&["next"]);
    out.code(5);
    let m = out.json()["message"].as_str().unwrap().to_string();
    for n in [
        "/subagent",
        "/status",
        "plan-path",
        "extra",
        "planner.result.schema.json",
    ] {
        assert!(m.contains(n), "missing {n} in {m}");
    }
    assert_run_files_valid(&env, &id);
}

#[test]
fn validate_command_reports_pointers() {
    let env = Env::new();
    let f = env.root().join("r.json");
    write_json(&f, &json!({"subagent": "tester", "status": "green"}));
    let out = env.sj(&["validate", f.to_str().unwrap(), "--agent", "tester"]);
    out.code(1);
    let j = out.json();
    let v = j["error"]["violations"].as_array().unwrap();
    assert!(v.iter().any(|x| x["pointer"] == "/status"), "{j}");
    assert!(
        v.iter()
            .any(|x| x["pointer"] == "" && x["message"].as_str().unwrap().contains("summary")),
        "{j}"
    );
    write_json(
        &f,
        &json!({"subagent": "tester", "status": "passed", "summary": "ok"}),
    );
    env.sj(&["validate", f.to_str().unwrap(), "--agent", "tester"])
        .code(0);
    let out = env.sj(&["validate", f.to_str().unwrap(), "--agent", "nobody"]);
    out.code(1);
    assert!(out.error_message().contains("agent 'nobody'"));
    // --plan runs the structure checks too.
    write_json(
        &f,
        &plan(
            "0b6c3f8e-7a51-4f0e-9d1c-2f9e8a7b6c5d",
            "x",
            vec![task("a", &["x"], &["a"])],
        ),
    );
    let out = env.sj(&["validate", f.to_str().unwrap(), "--plan"]);
    out.code(1);
    assert!(
        out.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("depends on itself")
    );
}
