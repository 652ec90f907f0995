//! Judging a result is linear in its size: a result that lists 150,000 changed files (a
//! reformatting of a monorepo, or an agent padding its answer) is consumed, merged into the
//! run's bookkeeping and handed on within seconds, not the hour a quadratic pass would take.
//! The same run at a tenth of the size is the yardstick, measured on the same machine in the
//! same test: ten times the entries must cost well under a hundred times the time (a quadratic
//! pass), whatever the machine's speed or load.

mod common;

use common::*;
use serde_json::json;
use std::time::{Duration, Instant};

const ENTRIES: usize = 150_000;
const CHANGED: usize = 3_000;
/// Ten times the entries: a linear pass costs about ten times as much, a quadratic one a
/// hundred; fixed costs (processes, files) only lower the ratio.
const MAX_RATIO: f64 = 35.0;

#[test]
fn a_result_with_150000_changed_files_is_judged_in_seconds() {
    let (small_plan, small_judged) = judge(ENTRIES / 10);
    let (planned, judged) = judge(ENTRIES);
    eprintln!(
        "plan of {ENTRIES} files accepted in {planned:?} ({small_plan:?} for a tenth), result judged in {judged:?} ({small_judged:?})"
    );
    let ratio = |big: Duration, small: Duration| big.as_secs_f64() / small.as_secs_f64().max(1e-3);
    assert!(
        ratio(planned, small_plan) < MAX_RATIO && ratio(judged, small_judged) < MAX_RATIO,
        "ten times the entries cost {:.1}× (plan) and {:.1}× (result): a pass is quadratic",
        ratio(planned, small_plan),
        ratio(judged, small_judged)
    );
}

/// Accepts a plan of `entries` files and judges a result that reports each twice; the times
/// of the two `next` calls.
fn judge(entries: usize) -> (Duration, Duration) {
    let env = Env::new();
    let id = env.start("Touch many files");
    // Every file is in the plan, so every entry is judged against allowedFiles.
    let files: Vec<String> = (0..entries)
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
        entries
    );

    // The implementor changes some thousands of them for real (each judged against the
    // 150,000 allowed paths by the guard rails), and reports every file, each twice
    // (duplicates are merged away).
    let wt = std::path::PathBuf::from(h["context"]["worktreePath"].as_str().unwrap());
    for f in files.iter().step_by((entries / CHANGED).max(1)) {
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
        entries
    );
    (planned, judged)
}
