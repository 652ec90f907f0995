//! Parallel workers whose edits meet: `git merge-tree` predicts each merge; compatible edits of
//! the same file merge without anyone; a true conflict becomes a merge-fix pass of the
//! implementor in the run's worktree, holding the merge with its conflict markers.

mod common;

use std::path::{Path, PathBuf};

use common::*;
use serde_json::{Value, json};

fn overlapping(env: &Env) {
    let mut cfg = env.config();
    cfg["parallelization"] = json!({"enabled": true, "rules": [
        {"maxConcurrent": 3, "requireDisjointFiles": false, "respectDependencies": true}]});
    env.set_config(&cfg);
    std::fs::write(
        env.work.join("notes.txt"),
        "line 1\nline 2\nline 3\nline 4\nline 5\nline 6\nline 7\nline 8\n",
    )
    .unwrap();
    env.git(&["add", "-A"]);
    env.git(&["commit", "-qm", "notes"]);
}

/// Writes `text` into the worker's worktree and its result.
fn work(id: &str, inv: &Value, file: &str, text: &str) {
    let cwd = PathBuf::from(inv["cwd"].as_str().unwrap());
    std::fs::write(cwd.join(file), text).unwrap();
    let h = read_json(Path::new(inv["handoff"].as_str().unwrap()));
    write_json(
        Path::new(inv["result"].as_str().unwrap()),
        &json!({"schemaVersion": "1.0", "subagent": "implementor", "status": "completed", "runId": id,
                "handoffId": h["handoffId"], "iteration": h["iteration"], "summary": format!("edited {file}"),
                "filesChanged": [file], "checks": {}}),
    );
}

fn two_workers(env: &Env) -> (String, Vec<Value>) {
    let id = env.start("Edit the notes twice");
    play_planner(
        env,
        &id,
        &plan(
            &id,
            "notes",
            vec![
                task("top", &["notes.txt"], &[]),
                task("bottom", &["notes.txt"], &[]),
            ],
        ),
    );
    let j = env.sj(&["next"]).json();
    let inv = j["invocations"].as_array().unwrap().clone();
    assert_eq!(inv.len(), 2, "overlapping tasks run in parallel: {j}");
    (id, inv)
}

#[test]
fn compatible_edits_of_one_file_merge_without_a_pass() {
    let env = Env::new();
    overlapping(&env);
    let (id, inv) = two_workers(&env);
    work(
        &id,
        &inv[0],
        "notes.txt",
        "line 1 (top)\nline 2\nline 3\nline 4\nline 5\nline 6\nline 7\nline 8\n",
    );
    work(
        &id,
        &inv[1],
        "notes.txt",
        "line 1\nline 2\nline 3\nline 4\nline 5\nline 6\nline 7\nline 8 (bottom)\n",
    );
    let j = env.sj(&["next"]).json();
    assert_eq!(j["invocations"][0]["agent"], "reviewer", "{j}");
    let wt = PathBuf::from(j["invocations"][0]["cwd"].as_str().unwrap());
    let text = std::fs::read_to_string(wt.join("notes.txt")).unwrap();
    assert!(
        text.starts_with("line 1 (top)\n") && text.ends_with("line 8 (bottom)\n"),
        "{text}"
    );
    let signals: Vec<String> = std::fs::read_to_string(env.run_dir(&id).join("events.jsonl"))
        .unwrap()
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["signal"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert!(signals.contains(&"BATCH_MERGED".to_string()));
    assert!(!signals.contains(&"MERGE_CONFLICT".to_string()));
    assert_run_files_valid(&env, &id);
}

#[test]
fn a_true_conflict_is_resolved_by_a_merge_fix_pass() {
    let env = Env::new();
    overlapping(&env);
    let (id, inv) = two_workers(&env);
    let w2 = PathBuf::from(inv[1]["cwd"].as_str().unwrap());
    work(
        &id,
        &inv[0],
        "notes.txt",
        "line 1 by top\nline 2\nline 3\nline 4\nline 5\nline 6\nline 7\nline 8\n",
    );
    work(
        &id,
        &inv[1],
        "notes.txt",
        "line 1 by bottom\nline 2\nline 3\nline 4\nline 5\nline 6\nline 7\nline 8\n",
    );
    let out = env.sj(&["next"]);
    out.code(0);
    let j = out.json();
    assert_eq!(j["action"], "invoke", "{j}");
    let fix = &j["invocations"][0];
    assert_eq!(fix["agent"], "implementor");
    assert!(fix.get("worker").is_none(), "{fix}");
    let wt = PathBuf::from(fix["cwd"].as_str().unwrap());
    // The worktree holds the merge in progress with its markers.
    let text = std::fs::read_to_string(wt.join("notes.txt")).unwrap();
    assert!(
        text.contains("<<<<<<< HEAD\nline 1 by top\n=======\nline 1 by bottom\n>>>>>>> "),
        "{text}"
    );
    assert!(
        env.git_in(&wt, &["rev-parse", "-q", "--verify", "MERGE_HEAD"])
            .len()
            == 40
    );
    let h = read_json(Path::new(fix["handoff"].as_str().unwrap()));
    let fb: Vec<String> = h["context"]["feedback"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    assert!(
        fb[0].starts_with(
            "merge-fix: merging worker w2 (task bottom: do bottom; its summary: edited notes.txt)"
        ),
        "{fb:?}"
    );
    assert!(fb[0].ends_with("conflicts in notes.txt"), "{fb:?}");
    assert!(fb[1].contains("worker w1 (task top: do top"), "{fb:?}");
    assert_eq!(h["context"]["allowedFiles"], json!(["notes.txt"]));
    let st = env.status(&id);
    assert_eq!(st["swarm"]["batch"]["conflict"]["worker"], "w2");
    assert_eq!(
        st["swarm"]["batch"]["conflict"]["files"],
        json!(["notes.txt"])
    );

    // A result that leaves a marker is sent back.
    write_json(
        Path::new(fix["result"].as_str().unwrap()),
        &json!({"schemaVersion": "1.0", "subagent": "implementor", "status": "completed", "runId": id,
                "handoffId": h["handoffId"], "iteration": h["iteration"], "summary": "resolved", "filesChanged": ["notes.txt"], "checks": {}}),
    );
    let j = env.sj(&["next"]).json();
    assert_eq!(j["invocations"][0]["agent"], "implementor", "{j}");
    let h2 = handoff(&env, &id);
    let fb = h2["context"]["feedback"].to_string();
    assert!(
        fb.contains("conflict markers are still in notes.txt"),
        "{fb}"
    );
    assert_eq!(env.status(&id)["retry-counts"]["implementor"], 1);

    // Resolved: the merge is concluded and the run goes on to review.
    std::fs::write(
        wt.join("notes.txt"),
        "line 1 by top and bottom\nline 2\nline 3\nline 4\nline 5\nline 6\nline 7\nline 8\n",
    )
    .unwrap();
    write_json(
        Path::new(j["invocations"][0]["result"].as_str().unwrap()),
        &json!({"schemaVersion": "1.0", "subagent": "implementor", "status": "completed", "runId": id,
                "handoffId": h2["handoffId"], "iteration": h2["iteration"], "summary": "resolved", "filesChanged": ["notes.txt"], "checks": {}}),
    );
    let j = env.sj(&["next"]).json();
    assert_eq!(j["invocations"][0]["agent"], "reviewer", "{j}");
    assert!(!w2.exists(), "the worker's worktree is gone");
    assert_eq!(env.git_in(&wt, &["status", "--porcelain"]), "");
    assert!(
        !env.git_ok(&wt, &["rev-parse", "-q", "--verify", "MERGE_HEAD"]),
        "the merge is concluded"
    );
    let parents = env.git_in(&wt, &["rev-list", "--parents", "-n", "1", "HEAD"]);
    assert_eq!(parents.split(' ').count(), 3, "a merge commit: {parents}");
    assert_eq!(env.git(&["branch", "--list", "swarm/*"]).lines().count(), 1);
    assert_eq!(
        std::fs::read_to_string(wt.join("notes.txt"))
            .unwrap()
            .lines()
            .next(),
        Some("line 1 by top and bottom")
    );
    let signals: Vec<String> = std::fs::read_to_string(env.run_dir(&id).join("events.jsonl"))
        .unwrap()
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["signal"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    for s in ["MERGE_CONFLICT", "MERGE_RESOLVED", "BATCH_MERGED"] {
        assert!(signals.contains(&s.to_string()), "{s} in {signals:?}");
    }
    // Review, test and publish as usual.
    play_reviewer(&env, &id, "approved");
    env.sj(&["next"]).code(0);
    play_tester(&env, &id, "passed");
    assert_eq!(env.sj(&["next"]).json()["action"], "publish");
    assert_run_files_valid(&env, &id);
}

#[test]
fn exec_mode_resolves_a_conflict_between_workers_and_publishes() {
    let x = common::agents::Exec::new();
    x.configure(
        vec![
            task("one", &["shared.txt"], &[]),
            task("two", &["shared.txt"], &[]),
        ],
        &[],
    );
    let mut cfg = x.env.config();
    cfg["parallelization"] = json!({"enabled": true, "rules": [
        {"maxConcurrent": 2, "requireDisjointFiles": false, "respectDependencies": true}]});
    x.env.set_config(&cfg);
    let out = x.run(&["Both write shared.txt"]);
    out.code(0);
    let j = out.json();
    assert_eq!(j["action"], "done", "{j}");
    let id = j["run-id"].as_str().unwrap();
    let signals: Vec<String> = x
        .events(id)
        .iter()
        .map(|e| e["signal"].as_str().unwrap().to_string())
        .collect();
    for s in ["MERGE_CONFLICT", "MERGE_RESOLVED", "BATCH_MERGED"] {
        assert!(signals.contains(&s.to_string()), "{s} in {signals:?}");
    }
    // Both workers' lines are in the pushed file, and no marker.
    let shared = x.env.git(&["show", "swarm/feature:shared.txt"]);
    assert!(
        shared.contains("written by w1") && shared.contains("written by w2"),
        "{shared}"
    );
    assert!(
        !shared.contains("<<<<<<<") && !shared.contains(">>>>>>>"),
        "{shared}"
    );
    assert!(x.pushed("swarm/feature"));
    assert_run_files_valid(&x.env, id);
}
