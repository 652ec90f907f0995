//! Crash consistency: the process is aborted (no destructors, like kill -9) at every hit of
//! every failpoint on the way through `start` and `next`; running the command again must
//! finish the transition exactly once, with every file valid.
#![cfg(feature = "failpoints")]

mod common;

use common::*;
use std::path::PathBuf;

/// Failpoints a `next` transition passes through.
const NEXT_POINTS: &[&str] = &[
    "lock-before",
    "lock-after",
    "rename-before",
    "rename-after",
    "atomic-write-before",
    "atomic-write-before-rename",
    "atomic-write-after-rename",
    "worktree-add-before",
    "worktree-add-after",
    "events-append-before",
    "status-write-before",
    "status-write-after",
];

/// Runs `args` with the failpoint armed to abort on its `skip+1`th hit; `true` when it hit.
fn crashed(env: &Env, args: &[&str], point: &str, skip: usize) -> bool {
    let out = env
        .command(&env.work, args)
        .env("FAILPOINTS", format!("{point}={skip}*off->return"))
        .output()
        .unwrap();
    out.status.code().is_none()
}

fn check_planner_to_implementor(env: &Env, id: &str) {
    let out = env.sj(&["next"]);
    out.code(0);
    let j = out.json();
    assert_eq!(j["invocations"][0]["agent"], "implementor", "{j}");
    assert_eq!(j["invocations"][0]["step"], 2);
    let st = env.status(id);
    assert_eq!(st["swarm"]["seq"], 2, "exactly one transition");
    assert_eq!(st["branch"], "swarm/add-greeting");
    let wt = PathBuf::from(st["worktreePath"].as_str().unwrap());
    assert!(wt.join("src/lib.rs").exists());
    assert_eq!(
        env.git(&["worktree", "list"]).lines().count(),
        2,
        "one worktree"
    );
    assert_eq!(
        env.git(&["branch", "--list", "swarm/*"]).lines().count(),
        1,
        "one branch"
    );
    let dir = env.run_dir(id);
    assert!(!dir.join("planner.result.json").exists(), "consumed");
    assert!(dir.join("archive/step-0001.planner.result.json").exists());
    let h = handoff(env, id);
    assert_eq!(h["step"], 2);
    assert_eq!(read_json(&dir.join("handoff.implementor.json")), h);
    assert_eq!(
        read_json(&dir.join("handoff.step-0002.implementor.json")),
        h
    );
    assert_eq!(
        j["invocations"][0]["handoff"],
        dir.join("handoff.json").display().to_string()
    );
    assert_eq!(st["swarm"]["pending"][0]["handoffId"], h["handoffId"]);
    let events = std::fs::read_to_string(dir.join("events.jsonl")).unwrap();
    assert_eq!(events.matches("\"PLAN_ACCEPTED\"").count(), 1, "{events}");
    assert_eq!(events.matches("\"WORKER_ASSIGNED\"").count(), 2, "{events}");
    assert_run_files_valid(env, id);
    // And the run goes on normally.
    play_implementor(env, id, "completed");
    assert_eq!(
        env.sj(&["next"]).json()["invocations"][0]["agent"],
        "reviewer"
    );
}

#[test]
fn next_survives_a_crash_at_every_failpoint() {
    let mut hits = Vec::new();
    for point in NEXT_POINTS {
        for skip in 0..40 {
            let env = Env::new();
            let id = env.start("Add a greeting");
            play_planner(&env, &id, &simple_plan(&id));
            if !crashed(&env, &["next", "--json"], point, skip) {
                // Fewer hits than `skip + 1`: the uninterrupted command must be right too.
                check_planner_to_implementor(&env, &id);
                hits.push(format!("{point}: {skip}"));
                break;
            }
            check_planner_to_implementor(&env, &id);
        }
    }
    println!("failpoint hits during next: {hits:?}");
    assert!(
        hits.iter().any(|h| h.starts_with("worktree-add-after: 1")),
        "{hits:?}"
    );
}

#[test]
fn start_survives_a_crash_at_every_failpoint() {
    for point in [
        "atomic-write-before",
        "atomic-write-before-rename",
        "atomic-write-after-rename",
        "start-before-status",
        "events-append-before",
        "status-write-before",
        "status-write-after",
        "lock-after",
    ] {
        for skip in 0..20 {
            let env = Env::new();
            let hit = crashed(&env, &["start", "Add a greeting", "--json"], point, skip);
            // Whatever is left is consistent, and never makes the tree dirty.
            assert_eq!(env.git(&["status", "--porcelain"]), "");
            let runs: Vec<_> = std::fs::read_dir(env.work.join(".swarm/runs"))
                .map(|d| {
                    d.flatten()
                        .map(|e| e.path())
                        .filter(|p| p.is_dir() && !p.ends_with(".active"))
                        .collect()
                })
                .unwrap_or_default();
            for r in &runs {
                let id = r.file_name().unwrap().to_string_lossy().into_owned();
                if r.join("run.status.json").exists() {
                    // A run whose status was written is complete and can go on.
                    let out = env.sj(&["next", "--run", &id]);
                    out.code(0);
                    assert_eq!(out.json()["invocations"][0]["agent"], "planner");
                    assert_run_files_valid(&env, &id);
                }
            }
            env.sj(&["list"]).code(0);
            // Running start again works.
            let id = env.start("Add a greeting");
            assert_run_files_valid(&env, &id);
            if !hit {
                break;
            }
        }
    }
}

/// A gh that behaves like the real one: the first call creates the pull request, later calls
/// answer that it exists already. Creations are counted in a file.
const GH_DEDUP: &str = r#"count="$FAKE_LOG.created"
if [ -f "$count" ]; then
  echo 'a pull request for branch "swarm/add-greeting" into branch "main" already exists:' >&2
  echo 'https://github.com/acme/app/pull/1' >&2
  exit 1
fi
echo 1 > "$count"
echo 'https://github.com/acme/app/pull/1'"#;

const PUBLISH_POINTS: &[&str] = &[
    "publish-commit-before",
    "publish-commit-after",
    "publish-push-before",
    "publish-push-after",
    "publish-pr-before",
    "publish-pr-after",
    "worktree-remove-before",
    "worktree-remove-after",
    "atomic-write-before-rename",
    "atomic-write-after-rename",
    "events-append-before",
    "status-write-before",
    "status-write-after",
];

fn publish_env() -> (Env, String, PathBuf) {
    let mut env = Env::new();
    env.remote_looks_like("https://github.com/acme/app.git");
    env.fake_tool("gh", GH_DEDUP);
    let id = env.start("Add a greeting");
    play_planner(
        &env,
        &id,
        &plan(
            &id,
            "add-greeting",
            vec![task("t1", &["src/lib.rs", "src/extra.rs"], &[])],
        ),
    );
    let j = env.sj(&["next"]).json();
    let wt = PathBuf::from(j["invocations"][0]["cwd"].as_str().unwrap());
    play_implementor(&env, &id, "completed");
    // A leftover the implementor did not commit (the tester runs on it), so publish has a
    // commit to make.
    std::fs::write(wt.join("src/extra.rs"), "pub fn extra() {}\n").unwrap();
    env.sj(&["next"]).code(0);
    play_reviewer(&env, &id, "approved");
    env.sj(&["next"]).code(0);
    play_tester(&env, &id, "passed");
    assert_eq!(env.sj(&["next"]).json()["action"], "publish");
    (env, id, wt)
}

fn check_published(env: &Env, id: &str, wt: &std::path::Path) {
    let out = env.sj(&["publish", "--run", id]);
    out.code(0);
    let st = env.status(id);
    assert_eq!(st["outcome"], "completed", "{st:#}");
    assert_eq!(st["prUrl"], "https://github.com/acme/app/pull/1");
    let created = std::fs::read_to_string(env.root().join("fake.log.created")).unwrap_or_default();
    assert_eq!(created.lines().count(), 1, "exactly one pull request");
    let tip = env.git(&["rev-parse", "swarm/add-greeting"]);
    let remote = std::process::Command::new("git")
        .args([
            "--git-dir",
            env.origin.to_str().unwrap(),
            "rev-parse",
            "refs/heads/swarm/add-greeting",
        ])
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&remote.stdout).trim(),
        tip,
        "the tested tip is on the remote"
    );
    assert_eq!(
        env.git(&["rev-parse", "swarm/add-greeting^{tree}"]),
        st["swarm"]["tested"]["tree"].as_str().unwrap()
    );
    assert_eq!(
        env.git(&["rev-list", "--count", "main..swarm/add-greeting"]),
        "2",
        "one implementor commit, one leftover commit"
    );
    assert!(!wt.exists());
    assert_run_files_valid(env, id);
}

#[test]
fn publish_survives_a_crash_at_every_failpoint() {
    let mut hits = Vec::new();
    for point in PUBLISH_POINTS {
        for skip in 0..30 {
            let (env, id, wt) = publish_env();
            let hit = crashed(&env, &["publish", "--json"], point, skip);
            check_published(&env, &id, &wt);
            if !hit {
                hits.push(format!("{point}: {skip}"));
                break;
            }
        }
    }
    println!("failpoint hits during publish: {hits:?}");
    assert!(
        hits.iter().any(|h| h.starts_with("publish-pr-after: 1")),
        "{hits:?}"
    );
}

#[test]
fn a_crash_while_a_tool_without_duplicate_detection_ran_is_not_repeated() {
    let mut env = Env::new();
    env.remote_looks_like("https://gitlab.com/acme/app.git");
    env.fake_tool(
        "glab",
        "echo https://gitlab.com/acme/app/-/merge_requests/1",
    );
    let (id, _) = env.run_to_publish();
    assert!(crashed(&env, &["publish", "--json"], "publish-pr-after", 0));
    assert_eq!(env.fake_calls().len(), 1);
    let j = env.sj(&["publish", "--run", &id]).json();
    assert_eq!(j["outcome"], "completed");
    assert_eq!(env.fake_calls().len(), 1, "glab is not run a second time");
    let w = env.status(&id)["warnings"].as_array().unwrap().clone();
    assert!(w.iter().any(|w| w["reason"] == "pr-state-unknown"), "{w:?}");
}
