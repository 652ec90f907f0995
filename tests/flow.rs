//! Whole runs in host mode: start → planner → implementor → reviewer → tester → publish.

mod common;

use common::*;
use serde_json::Value;
use std::path::PathBuf;

#[test]
fn happy_path_with_one_review_rejection_reaches_publish() {
    let env = Env::new();
    let out = env.sj(&["start", "Add a greeting"]);
    out.code(0);
    let j = out.json();
    let id = j["run-id"].as_str().unwrap().to_string();
    // UUID v4
    assert_eq!(id.len(), 36);
    assert_eq!(&id[14..15], "4");
    assert_eq!(j["outcome"], "in-progress");
    assert_eq!(j["action"], "invoke");
    let inv = &j["invocations"][0];
    assert_eq!(inv["agent"], "planner");
    let run_dir = env.run_dir(&id);
    let prompt = inv["prompt"].as_str().unwrap();
    assert!(
        prompt.starts_with("Task: Add a greeting. Run-id: "),
        "{prompt}"
    );
    assert!(
        prompt.contains(&format!("Write output to {}/.", run_dir.display())),
        "{prompt}"
    );
    assert!(
        prompt.contains("Create plan.json and planner.result.json per your schema."),
        "{prompt}"
    );
    // One exact path for each file it writes, and the absolute paths of what it must follow.
    let agents = env.home.join(".cursor/agents");
    assert!(
        prompt.contains(&format!(
            "Write plan.json to {0}/plan.json and your result to {0}/planner.result.json.",
            run_dir.display()
        )),
        "{prompt}"
    );
    assert!(
        prompt.contains(&format!(
            "Your result schema: {}; the plan schema: {}; the standards: {}.",
            agents.join("plan/planner.result.schema.json").display(),
            agents.join("plan/plan.schema.json").display(),
            env.work.join(".swarm/standards.md").display()
        )),
        "{prompt}"
    );
    assert_eq!(prompt.matches("planner.result.json").count(), 2, "{prompt}");
    assert_eq!(
        inv["result"],
        run_dir.join("planner.result.json").display().to_string()
    );
    assert_eq!(inv["cwd"], env.work.display().to_string());
    assert!(inv["handoff"].is_null());
    assert_eq!(
        std::fs::read_to_string(run_dir.join("task.md")).unwrap(),
        "Add a greeting\n"
    );
    // The run folder never makes the tree dirty.
    assert_eq!(env.git(&["status", "--porcelain"]), "");

    // Idempotent: nothing new → the same action.
    let again = env.sj(&["next"]);
    again.code(0);
    assert_eq!(again.json()["invocations"], j["invocations"]);

    play_planner(&env, &id, &simple_plan(&id));
    let out = env.sj(&["next"]);
    out.code(0);
    let j = out.json();
    let inv = &j["invocations"][0];
    assert_eq!(inv["agent"], "implementor");
    let wt = PathBuf::from(inv["cwd"].as_str().unwrap());
    assert_eq!(wt, env.root().join("work-swarm-add-greeting"));
    assert!(wt.join("src/lib.rs").exists(), "worktree checked out");
    assert_eq!(
        env.git_in(&wt, &["branch", "--show-current"]),
        "swarm/add-greeting"
    );
    let h = handoff(&env, &id);
    assert_eq!(h["to"], "implementor");
    assert_eq!(h["step"], 2);
    assert_eq!(h["iteration"], 1);
    assert_eq!(
        h["context"]["allowedFiles"],
        serde_json::json!(["src/lib.rs"])
    );
    assert_eq!(h["context"]["worktreePath"], wt.display().to_string());
    assert_eq!(h["context"]["branch"], "swarm/add-greeting");
    assert_eq!(
        h["artifacts"]["planPath"],
        run_dir.join("plan.json").display().to_string()
    );
    let p = inv["prompt"].as_str().unwrap();
    assert_eq!(
        p,
        format!(
            "Your input is the handoff at: {}. Read it and complete your task. Work in {}. Write your result to {}.",
            run_dir.join("handoff.json").display(),
            wt.display(),
            run_dir.join("implementor.result.json").display()
        )
    );
    // The context pack: one small file with everything the agent needs.
    let pack_path = PathBuf::from(h["artifacts"]["contextPackPath"].as_str().unwrap());
    assert_eq!(pack_path, run_dir.join("context.pack.md"));
    let pack = std::fs::read_to_string(&pack_path).unwrap();
    for needle in [
        "## Goal\nGreet the user",
        "Format every change with the project's formatter",
        "`src/lib.rs`",
        "1. do t1 [t1] — src/lib.rs",
        "hello() prints a greeting",
        "`cargo test`",
    ] {
        assert!(pack.contains(needle), "missing {needle:?} in\n{pack}");
    }
    assert!(pack.len() <= 8 * 1024);
    // The handoff's input and the pack never carry the same fact: where to work and where to
    // write are the input's; the goal, the standards, the plan and its checks are the pack's.
    let input = h["input"].as_str().unwrap();
    let place = format!("Work in {} (branch swarm/add-greeting).", wt.display());
    let write = format!(
        "Write your result to {};",
        run_dir.join("implementor.result.json").display()
    );
    for needle in [place.as_str(), write.as_str(), pack_path.to_str().unwrap()] {
        assert!(input.contains(needle), "missing {needle:?} in {input}");
    }
    for absent in ["Greet the user", "cargo test", "standards.md", "formatter"] {
        assert!(!input.contains(absent), "{absent:?} in the input: {input}");
    }
    for absent in [
        wt.display().to_string(),
        "implementor.result.json".to_string(),
    ] {
        assert!(!pack.contains(&absent), "{absent:?} in the pack:\n{pack}");
    }
    // The planner's result was consumed (moved into the archive).
    assert!(!run_dir.join("planner.result.json").exists());
    assert!(
        run_dir
            .join("archive/step-0001.planner.result.json")
            .exists()
    );

    play_implementor(&env, &id, "completed");
    let j = env.sj(&["next"]).json();
    assert_eq!(j["invocations"][0]["agent"], "reviewer");
    let h = handoff(&env, &id);
    assert_eq!(
        h["context"]["allowedFiles"],
        serde_json::json!([]),
        "a reviewer changes nothing"
    );
    assert_eq!(
        h["context"]["filesChanged"],
        serde_json::json!(["src/lib.rs"])
    );
    assert_eq!(
        h["context"]["commitSha"],
        env.git_in(&wt, &["rev-parse", "HEAD"])
    );
    // The reviewer is told what to diff against: the run's base commit.
    let base = env.git(&["rev-parse", "HEAD"]);
    assert_eq!(h["context"]["baseCommit"], base.as_str());
    let input = h["input"].as_str().unwrap();
    assert!(
        input.contains(&format!("diff against {base} (context.baseCommit)")),
        "{input}"
    );

    play_reviewer(&env, &id, "rejected");
    let j = env.sj(&["next"]).json();
    assert_eq!(j["invocations"][0]["agent"], "implementor");
    assert_eq!(j["invocations"][0]["iteration"], 2);
    let h = handoff(&env, &id);
    assert_eq!(h["iteration"], 2);
    let fb = h["context"]["feedback"][0].as_str().unwrap();
    assert!(
        fb.contains("src/lib.rs:1: hello() must return the greeting"),
        "{fb}"
    );
    assert_eq!(env.status(&id)["review-fix-loop-count"], 1);

    play_implementor(&env, &id, "completed");
    env.sj(&["next"]).code(0);
    play_reviewer(&env, &id, "approved");
    let j = env.sj(&["next"]).json();
    assert_eq!(j["invocations"][0]["agent"], "tester");
    assert!(handoff(&env, &id)["context"].get("feedback").is_none());
    play_tester(&env, &id, "passed");
    let out = env.sj(&["next"]);
    out.code(0);
    let j = out.json();
    assert_eq!(j["action"], "publish");
    assert_eq!(j["outcome"], "in-progress");
    assert_eq!(
        env.sj(&["next"]).json()["action"],
        "publish",
        "publish is repeated until done"
    );

    let st = env.status(&id);
    let ts = st["step-timestamps"].as_object().unwrap();
    for k in [
        "planner.started",
        "planner.completed",
        "implementor.started",
        "implementor.completed",
        "implementor#2.started",
        "implementor#2.completed",
        "reviewer#2.completed",
        "tester.completed",
    ] {
        assert!(ts.contains_key(k), "missing {k} in {ts:?}");
    }
    for v in ts.values() {
        assert!(
            v.as_str().unwrap().starts_with("20"),
            "real timestamps: {v}"
        );
    }
    assert_eq!(st["plan-replan-count"], 0);
    assert_eq!(st["branch"], "swarm/add-greeting");
    // Every handoff is archived, and never overwritten.
    let archived: Vec<String> = std::fs::read_dir(&run_dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("handoff.step-"))
        .collect();
    assert_eq!(archived.len(), 5, "{archived:?}");
    assert!(run_dir.join("MANAGER_PLAN.md").exists());
    let events: Vec<Value> = std::fs::read_to_string(run_dir.join("events.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let signals: Vec<&str> = events
        .iter()
        .map(|e| e["signal"].as_str().unwrap())
        .collect();
    assert_eq!(signals.first(), Some(&"RUN_STARTED"));
    assert_eq!(
        signals.iter().filter(|s| **s == "WORKER_ASSIGNED").count(),
        6
    );
    assert!(signals.contains(&"ALL_WORKERS_COMPLETE"));
    assert_run_files_valid(&env, &id);
    // The main workspace never changed.
    assert_eq!(env.git(&["status", "--porcelain"]), "");
}

#[test]
fn human_output_ends_with_the_next_command() {
    let env = Env::new();
    let out = env.swarm(&["start", "Add a greeting"]);
    out.code(0);
    assert!(
        out.stdout.contains("Spawn the planner subagent"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.trim_end().ends_with("run: git swarm next"),
        "{}",
        out.stdout
    );
    let st = env.swarm(&["status"]);
    st.code(0);
    assert!(st.stdout.contains("timeline:"), "{}", st.stdout);
    assert!(st.stdout.contains("RUN_STARTED"), "{}", st.stdout);
    let list = env.swarm(&["list"]);
    list.code(0);
    assert_eq!(list.stdout.lines().count(), 1);
    assert!(list.stdout.contains("in-progress"), "{}", list.stdout);
}

#[test]
fn agents_can_call_next_from_inside_the_worktree() {
    let env = Env::new();
    let id = env.start("Add a greeting");
    play_planner(&env, &id, &simple_plan(&id));
    let j = env.sj(&["next"]).json();
    let wt = PathBuf::from(j["invocations"][0]["cwd"].as_str().unwrap());
    let out = env.swarm_in(&wt, &["next", "--json"]);
    out.code(0);
    assert_eq!(out.json()["run-id"], id.as_str());
    assert_eq!(out.json()["invocations"][0]["agent"], "implementor");
}

/// A batch after the first is new work, not a retry, and a worker alone in its batch is not
/// told it runs in parallel; a worker's pack says which criteria are the whole plan's and
/// which checks cannot pass before the other tasks are merged.
#[test]
fn batches_are_labelled_by_number_and_workers_by_their_real_company() {
    let env = Env::new();
    let id = env.start("Three files");
    play_planner(
        &env,
        &id,
        &plan(
            &id,
            "three",
            vec![
                task("a", &["a.txt"], &[]),
                task("b", &["b.txt"], &[]),
                task("c", &["c.txt"], &["a", "b"]),
            ],
        ),
    );
    let j = env.sj(&["next"]).json();
    let inv = j["invocations"].as_array().unwrap().clone();
    assert_eq!(inv.len(), 2, "{j}");
    for (i, (w, file)) in [("w1", "a"), ("w2", "b")].into_iter().enumerate() {
        let h = read_json(&PathBuf::from(inv[i]["handoff"].as_str().unwrap()));
        let input = h["input"].as_str().unwrap();
        assert!(
            input.contains(&format!(
                "You are worker {w}, one of 2 workers running in parallel, on task {file};"
            )),
            "{input}"
        );
        let pack =
            std::fs::read_to_string(h["artifacts"]["contextPackPath"].as_str().unwrap()).unwrap();
        assert!(pack.contains("## Done when (the whole plan)\n- These hold for the whole plan once every task is merged; your part is your task above.\n- hello() prints a greeting"), "{pack}");
        assert!(
            pack.contains("not expected to pass in your worktree yet"),
            "{pack}"
        );
        let cwd = PathBuf::from(inv[i]["cwd"].as_str().unwrap());
        std::fs::write(cwd.join(format!("{file}.txt")), file).unwrap();
        write_json(
            &PathBuf::from(inv[i]["result"].as_str().unwrap()),
            &serde_json::json!({"schemaVersion": "1.0", "subagent": "implementor", "status": "completed", "runId": id, "handoffId": h["handoffId"], "iteration": h["iteration"], "summary": file, "filesChanged": [format!("{file}.txt")], "checks": {}}),
        );
    }
    let j = env.sj(&["next"]).json();
    let inv = &j["invocations"][0];
    assert_eq!(inv["worker"], "w3", "{j}");
    assert_eq!(inv["iteration"], 1, "a new batch is a first pass: {j}");
    let h = read_json(&PathBuf::from(inv["handoff"].as_str().unwrap()));
    let input = h["input"].as_str().unwrap();
    assert!(
        input.contains("You are worker w3 and work alone on task c;"),
        "{input}"
    );
    assert!(!input.contains("parallel"), "{input}");
    let pack =
        std::fs::read_to_string(h["artifacts"]["contextPackPath"].as_str().unwrap()).unwrap();
    assert!(
        pack.contains("## Checks\n- `cargo test`"),
        "every other task is merged: the checks apply\n{pack}"
    );
    let events = std::fs::read_to_string(env.run_dir(&id).join("events.jsonl")).unwrap();
    let assigned: Vec<String> = events
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|e| e["signal"] == "WORKER_ASSIGNED" && e["agent"] == "implementor")
        .map(|e| {
            format!(
                "{} {}",
                e["worker"].as_str().unwrap(),
                e["message"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        assigned,
        [
            "w1 step 2, iteration 1 (batch 1)",
            "w2 step 2, iteration 1 (batch 1)",
            "w3 step 3, iteration 1 (batch 2)"
        ]
    );
    let plan_md = std::fs::read_to_string(env.run_dir(&id).join("MANAGER_PLAN.md")).unwrap();
    assert!(!plan_md.contains("(again)"), "{plan_md}");
    assert!(plan_md.contains("(batch 2)"), "{plan_md}");
    assert_run_files_valid(&env, &id);
}

#[test]
fn an_ended_run_says_so_instead_of_naming_a_next_command() {
    let env = Env::new();
    let id = env.start("Add a greeting");
    env.swarm(&["abort", "--run", &id]).code(0);
    let out = env.swarm(&["next", "--run", &id]);
    out.code(0);
    assert!(out.stdout.contains("The run has ended."), "{}", out.stdout);
    assert!(!out.stdout.contains("Next:"), "{}", out.stdout);
}
