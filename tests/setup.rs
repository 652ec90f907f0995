//! init, doctor, --task-file, and escalation files.

mod common;

use common::*;
use serde_json::json;

#[test]
fn init_is_idempotent_and_reports_the_standards_gate() {
    let env = Env::bare();
    let out = env.sj(&["init"]);
    out.code(0);
    let j = out.json();
    assert_eq!(j["created"], true);
    assert_eq!(j["exclude"]["added"], true);
    assert_eq!(j["standards"]["ok"], false);
    assert!(
        j["standards"]["message"]
            .as_str()
            .unwrap()
            .contains("does not exist")
    );
    let j = env.sj(&["init"]).json();
    assert_eq!(j["created"], false);
    assert_eq!(j["exclude"]["added"], false);
    let exclude = std::fs::read_to_string(env.work.join(".git/info/exclude")).unwrap();
    assert_eq!(exclude.matches("/.swarm/runs/").count(), 1);
    assert!(env.work.join(".swarm/runs").is_dir());
    assert_eq!(env.git(&["status", "--porcelain"]), "");
    let text = env.swarm(&["init"]);
    assert!(text.stdout.contains("Next: write"), "{}", text.stdout);
}

#[test]
fn init_pack_installs_a_working_pack_without_overwriting() {
    let env = Env::bare();
    env.write_standards(STANDARDS);
    std::fs::create_dir_all(env.home.join(".cursor/agents")).unwrap();
    std::fs::write(env.home.join(".cursor/agents/planner.md"), "my own planner").unwrap();
    let j = env.sj(&["init", "--pack"]).json();
    let written: Vec<String> = j["pack"]["written"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    assert!(written.iter().any(|p| p.ends_with("manager/config.json")));
    assert!(written.iter().any(|p| p.ends_with("plan/plan.schema.json")));
    assert_eq!(j["pack"]["kept"].as_array().unwrap().len(), 1);
    assert_eq!(
        std::fs::read_to_string(env.home.join(".cursor/agents/planner.md")).unwrap(),
        "my own planner"
    );
    // The installed pack runs a whole pipeline.
    let id = env.start("Add a greeting");
    play_planner(&env, &id, &simple_plan(&id));
    env.sj(&["next"]).code(0);
    play_implementor(&env, &id, "completed");
    env.sj(&["next"]).code(0);
    play_reviewer(&env, &id, "approved");
    env.sj(&["next"]).code(0);
    play_tester(&env, &id, "passed");
    assert_eq!(env.sj(&["next"]).json()["action"], "publish");
    // Running it again overwrites nothing.
    let j = env.sj(&["init", "--pack"]).json();
    assert!(j["pack"]["written"].as_array().unwrap().is_empty());
}

#[test]
fn doctor_reports_resolved_paths_and_problems() {
    let env = Env::new();
    env.sj(&["init"]).code(0);
    let out = env.sj(&["doctor"]);
    out.code(0);
    let j = out.json();
    let checks = j["checks"].as_array().unwrap();
    let find = |name: &str| {
        checks
            .iter()
            .find(|c| c["check"] == name)
            .unwrap_or_else(|| panic!("{name} in {j}"))
            .clone()
    };
    assert_eq!(find("config")["level"], "ok");
    assert!(
        find("reviewer schema")["detail"]
            .as_str()
            .unwrap()
            .contains("[home (~/)]")
    );
    assert!(
        find("planner definition")["detail"]
            .as_str()
            .unwrap()
            .contains("relative to home")
    );
    assert_eq!(find("standards")["level"], "ok");
    std::fs::remove_file(env.home.join(".cursor/agents/tester/tester.schema.json")).unwrap();
    let out = env.sj(&["doctor"]);
    out.code(1);
    assert!(out.json()["checks"].as_array().unwrap().iter().any(|c| {
        c["level"] == "error"
            && c["detail"]
                .as_str()
                .unwrap()
                .contains("/subagents/3/schemaPath")
    }));
}

#[test]
fn task_file_points_the_planner_at_the_file() {
    let env = Env::new();
    let f = env.root().join("task.md");
    std::fs::write(&f, "# Greeting\nAdd a greeting.\n").unwrap();
    let j = env
        .sj(&["start", "--task-file", f.to_str().unwrap()])
        .json();
    let p = j["invocations"][0]["prompt"].as_str().unwrap();
    assert!(
        p.starts_with(&format!("Task (from file): {}.", f.display())),
        "{p}"
    );
    let id = j["run-id"].as_str().unwrap();
    let task = std::fs::read_to_string(env.run_dir(id).join("task.md")).unwrap();
    assert!(task.contains("Add a greeting."), "{task}");
}

#[test]
fn manual_intervention_writes_its_result_file() {
    let env = Env::new();
    let mut c = env.config();
    c["loop-control"]["maxLoops"] = json!(0);
    c["loop-control"]["escalation-action"] = json!("manual-intervention-required");
    env.set_config(&c);
    let id = env.start("Add a greeting");
    play_planner(&env, &id, &simple_plan(&id));
    env.sj(&["next"]).code(0);
    play_implementor(&env, &id, "completed");
    env.sj(&["next"]).code(0);
    play_reviewer(&env, &id, "rejected");
    let out = env.sj(&["next"]);
    out.code(4);
    assert_eq!(out.json()["outcome"], "manual-intervention-required");
    let mir = read_json(
        &env.run_dir(&id)
            .join("manual-intervention-required.result.json"),
    );
    assert_eq!(mir["runId"], id.as_str());
    assert_eq!(mir["agent"], "reviewer");
    assert!(mir["resume"].as_str().unwrap().contains("git swarm retry"));
    assert!(mir["worktreePath"].as_str().is_some());
    assert_run_files_valid(&env, &id);
    let st = env.swarm(&["status"]);
    assert!(st.stdout.contains("ESCALATED"), "{}", st.stdout);
}

#[test]
fn worktreeinclude_files_are_copied_and_the_setup_command_runs() {
    let env = Env::new();
    std::fs::write(env.work.join(".gitignore"), ".env\n*.local\nbuild/\n").unwrap();
    std::fs::write(env.work.join(".worktreeinclude"), ".env\nconfig/*.local\n").unwrap();
    std::fs::write(
        env.work.join(".swarm/policies.json"),
        r#"{"worktree": {"setupCommand": ["sh", "-c", "echo prepared > prepared.txt"]}}"#,
    )
    .unwrap();
    env.git(&["add", "-A"]);
    env.git(&["commit", "-q", "-m", "setup"]);
    env.sj(&["trust"]).code(0);
    std::fs::write(env.work.join(".env"), "TOKEN=local\n").unwrap();
    std::fs::create_dir_all(env.work.join("config")).unwrap();
    std::fs::write(env.work.join("config/db.local"), "db").unwrap();
    std::fs::create_dir_all(env.work.join("build")).unwrap();
    std::fs::write(env.work.join("build/out.bin"), "big").unwrap();
    let id = env.start("Add a greeting");
    play_planner(
        &env,
        &id,
        &plan(
            &id,
            "add-greeting",
            vec![task("t1", &["src/lib.rs", "prepared.txt"], &[])],
        ),
    );
    let j = env.sj(&["next"]).json();
    let wt = std::path::PathBuf::from(j["invocations"][0]["cwd"].as_str().unwrap());
    assert_eq!(
        std::fs::read_to_string(wt.join(".env")).unwrap(),
        "TOKEN=local\n"
    );
    assert_eq!(
        std::fs::read_to_string(wt.join("config/db.local")).unwrap(),
        "db"
    );
    assert!(
        !wt.join("build/out.bin").exists(),
        "ignored files not listed are not copied"
    );
    assert_eq!(
        std::fs::read_to_string(wt.join("prepared.txt"))
            .unwrap()
            .trim(),
        "prepared"
    );
    assert!(env.run_dir(&id).join("logs").read_dir().unwrap().any(|e| {
        e.unwrap()
            .file_name()
            .to_string_lossy()
            .starts_with("setup.")
    }));
}

#[test]
fn a_failing_setup_command_is_reported_and_retried() {
    let env = Env::new();
    std::fs::write(
        env.work.join(".swarm/policies.json"),
        r#"{"worktree": {"setupCommand": ["sh", "-c", "echo cannot install >&2; exit 3"]}}"#,
    )
    .unwrap();
    env.git(&["add", "-A"]);
    env.git(&["commit", "-q", "-m", "setup"]);
    env.sj(&["trust"]).code(0);
    let id = env.start("Add a greeting");
    play_planner(&env, &id, &simple_plan(&id));
    let out = env.sj(&["next"]);
    out.code(1);
    let j = out.json();
    let msg = j["error"]["message"].as_str().unwrap();
    assert!(
        msg.contains("setup command 'sh -c 'echo cannot install >&2; exit 3'' failed"),
        "{msg}"
    );
    assert!(
        msg.contains("cannot install"),
        "the output's tail is shown: {msg}"
    );
    assert!(
        j["error"]["hint"]
            .as_str()
            .unwrap()
            .contains("worktree.setupCommand")
    );
    assert_eq!(
        env.status(&id)["current-step"],
        "planner",
        "the run did not move"
    );
    // Fixed: the next call sets the worktree up and hands it to the implementor.
    std::fs::write(
        env.work.join(".swarm/policies.json"),
        r#"{"worktree": {"setupCommand": ["true"]}}"#,
    )
    .unwrap();
    env.git(&["commit", "-qam", "fix setup"]);
    env.sj(&["trust"]).code(0);
    let j = env.sj(&["next"]).json();
    assert_eq!(j["invocations"][0]["agent"], "implementor", "{j}");
}
