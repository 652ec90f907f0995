//! Rows of the benchmark for sparse worktrees (`policies.worktree.sparse`): creating the run's
//! worktree for a plan that touches 2 directories, against a full `git worktree add` in the same
//! run; and the parallel batch with sparse workers.

use std::time::{Duration, Instant};

use super::{BIN, Bench, median, parallel_batch, row};

/// Commits `.swarm/policies.json` with `text` (or removes it with `None`).
pub(crate) fn set_policy(b: &Bench, text: Option<&str>) {
    let p = b.work.join(".swarm/policies.json");
    match text {
        Some(t) => std::fs::write(&p, t).unwrap(),
        None => {
            let _ = std::fs::remove_file(&p);
        }
    }
    b.run("git", &["add", "-A", ".swarm"]);
    b.run("git", &["commit", "-q", "--allow-empty", "-m", "policy"]);
}

/// The run's worktree: `git swarm next` handing the accepted plan (2 directories) to the
/// implementor — the sparse worktree made, the handoff written — against `git worktree add` of
/// the same branch point, full, alternating.
pub(crate) fn worktree_rows(b: &Bench, files: usize, rounds: usize) {
    set_policy(b, Some(r#"{"worktree": {"sparse": true}}"#));
    let (mut ours, mut full) = (Vec::new(), Vec::new());
    for i in 0..rounds.clamp(1, 5) {
        let out = b.run(BIN, &["start", "sparse bench", "--json"]);
        let j: serde_json::Value = serde_json::from_str(&out).unwrap();
        let id = j["run-id"].as_str().unwrap().to_string();
        let dir = b.work.join(".swarm/runs").join(&id);
        let plan = serde_json::json!({"id": id, "description": "d", "friendly-name": format!("sparse-{i}"), "goal": "g",
            "acceptance-criteria": ["a"], "lanes": [{"branch-name": "s", "tasks": [
                {"task-id": "t1", "description": "d", "files": ["pkg000/mod0/file000.rs", "pkg000/mod1/file000.rs"], "dependencies": []}],
                "touch-map": [], "collision-risk": "none", "test-plan-commands": []}],
            "assumptions": [], "risks": [], "out-of-scope": []});
        std::fs::write(dir.join("plan.json"), plan.to_string()).unwrap();
        std::fs::write(
            dir.join("planner.result.json"),
            serde_json::json!({"subagent": "planner", "status": "complete", "plan-id": id, "plan-path": format!(".swarm/runs/{id}/plan.json")}).to_string(),
        )
        .unwrap();
        let path = b.work.with_file_name(format!("full-{i}"));
        let t = Instant::now();
        b.run(
            "git",
            &[
                "worktree",
                "add",
                "-q",
                path.to_str().unwrap(),
                "-b",
                &format!("full-{i}"),
            ],
        );
        full.push(t.elapsed());
        ours.push(b.time(BIN, &["next", "--json", "--run", &id]));
        b.run(
            "git",
            &["worktree", "remove", "--force", path.to_str().unwrap()],
        );
        b.run(BIN, &["abort", "--run", &id, "--json"]);
    }
    set_policy(b, None);
    row(
        &format!("run's worktree, sparse, plan in 2 dirs ({files} files)"),
        median(ours),
        median(full),
        "git worktree add (full)",
        if files >= 100_000 { 0.1 } else { 0.0 },
    );
}

/// The parallel batch with sparse workers (each checks out its task's directory only).
pub(crate) fn batch_row(b: &Bench, files: usize) -> Duration {
    set_policy(b, Some(r#"{"worktree": {"sparse": true}}"#));
    let d = parallel_batch(b);
    set_policy(b, None);
    row(
        &format!("batch of 4 parallel 2-second agents, sparse ({files} files)"),
        d,
        Duration::from_secs(2),
        "2 s (one agent)",
        if files >= 100_000 { 1.5 } else { 1.15 },
    );
    d
}
