//! Judging a result is linear in its size: a result that lists 150,000 changed files (a
//! reformatting of a monorepo, or an agent padding its answer) is consumed, merged into the
//! run's bookkeeping and handed on within seconds, not the hour a quadratic pass would take.
//! The bound is generous (the real cost is well under a second); it catches a quadratic pass,
//! not a slow machine.

mod common;

use common::*;
use serde_json::json;
use std::time::{Duration, Instant};

const ENTRIES: usize = 150_000;
const CHANGED: usize = 3_000;
const LIMIT: Duration = Duration::from_secs(10);

#[test]
fn a_result_with_150000_changed_files_is_judged_in_seconds() {
    let env = Env::new();
    let id = env.start("Touch many files");
    // Every file is in the plan, so every entry is judged against allowedFiles.
    let files: Vec<String> = (0..ENTRIES)
        .map(|i| format!("src/m{}/f{i}.rs", i % 997))
        .collect();
    let refs: Vec<&str> = files.iter().map(String::as_str).collect();
    play_planner(
        &env,
        &id,
        &plan(&id, "many-files", vec![task("t1", &refs, &[])]),
    );
    let started = Instant::now();
    env.sj(&["next"]).code(0);
    let planned = started.elapsed();
    let h = handoff(&env, &id);
    assert_eq!(
        h["context"]["allowedFiles"].as_array().unwrap().len(),
        ENTRIES
    );

    // The implementor changes some thousands of them for real (each judged against the
    // 150,000 allowed paths by the guard rails), and reports every file, each twice
    // (duplicates are merged away).
    let wt = std::path::PathBuf::from(h["context"]["worktreePath"].as_str().unwrap());
    for f in files.iter().step_by(ENTRIES / CHANGED) {
        let p = wt.join(f);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, "// changed\n").unwrap();
    }
    let mut reported = files.clone();
    reported.extend(files.iter().cloned());
    write_json(
        &env.run_dir(&id).join("implementor.result.json"),
        &json!({
            "schemaVersion": "1.0", "subagent": "implementor", "status": "completed",
            "runId": id, "handoffId": h["handoffId"], "iteration": 1,
            "summary": "touched everything", "filesChanged": reported,
            "checks": {"lint": {"passed": true, "command": "true"}}, "blockedReason": null
        }),
    );
    let started = Instant::now();
    let out = env.sj(&["next"]);
    let judged = started.elapsed();
    out.code(0);
    assert_eq!(out.json()["invocations"][0]["agent"], "reviewer");
    let h = handoff(&env, &id);
    assert_eq!(
        h["context"]["filesChanged"].as_array().unwrap().len(),
        ENTRIES
    );
    eprintln!("plan of {ENTRIES} files accepted in {planned:?}, result judged in {judged:?}");
    assert!(
        planned < LIMIT && judged < LIMIT,
        "plan {planned:?}, result {judged:?}: more than {LIMIT:?} means a pass is quadratic"
    );
}
