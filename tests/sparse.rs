//! Sparse worktrees (`policies.worktree.sparse`): the run's worktree and each worker's hold only
//! the directories their plan touches (and the policy's); agents, guard rails, commit, merge
//! and push behave as with a full checkout, and a later pass that needs more widens the cone.

mod common;

use std::path::{Path, PathBuf};

use common::*;
use serde_json::json;

/// A repository with directories the plan does not touch.
fn repo(policy: Option<serde_json::Value>) -> Env {
    let env = Env::new();
    for d in ["docs", "vendor/big", "tools"] {
        std::fs::create_dir_all(env.work.join(d)).unwrap();
        for i in 0..5 {
            std::fs::write(
                env.work.join(d).join(format!("f{i}.txt")),
                format!("{d} {i}\n"),
            )
            .unwrap();
        }
    }
    if let Some(p) = policy {
        write_json(&env.work.join(".swarm/policies.json"), &p);
    }
    env.git(&["add", "-A"]);
    env.git(&["commit", "-qm", "more directories"]);
    env
}

fn files_in(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    fn walk(root: &Path, d: &Path, out: &mut Vec<String>) {
        for e in std::fs::read_dir(d).unwrap().flatten() {
            let p = e.path();
            if e.file_name() == ".git" {
                continue;
            }
            if p.is_dir() {
                walk(root, &p, out);
            } else {
                out.push(p.strip_prefix(root).unwrap().display().to_string());
            }
        }
    }
    walk(dir, dir, &mut out);
    out.sort();
    out
}

/// Runs the simple plan to `publish` and publishes; returns the pushed tree and the worktree's
/// files as the implementor saw them.
fn run_and_publish(env: &Env) -> (String, Vec<String>) {
    let id = env.start("Add a greeting");
    play_planner(env, &id, &simple_plan(&id));
    let j = env.sj(&["next"]).json();
    let wt = PathBuf::from(j["invocations"][0]["cwd"].as_str().unwrap());
    let seen = files_in(&wt);
    play_implementor(env, &id, "completed");
    env.sj(&["next"]).code(0);
    play_reviewer(env, &id, "approved");
    env.sj(&["next"]).code(0);
    play_tester(env, &id, "passed");
    assert_eq!(env.sj(&["next"]).json()["action"], "publish");
    assert_eq!(
        env.git_in(&wt, &["status", "--porcelain"]),
        "",
        "a sparse worktree is clean"
    );
    env.sj(&["publish"]).code(0);
    assert_eq!(env.status(&id)["outcome"], "completed");
    let tree = env.git_in(
        &env.origin,
        &["rev-parse", "refs/heads/swarm/add-greeting^{tree}"],
    );
    assert_run_files_valid(env, &id);
    (tree, seen)
}

#[test]
fn a_sparse_run_pushes_the_same_tree_as_a_full_run() {
    let full = repo(None);
    let (full_tree, full_seen) = run_and_publish(&full);
    let sparse = repo(Some(json!({"worktree": {"sparse": true}})));
    let (sparse_tree, sparse_seen) = run_and_publish(&sparse);
    assert!(
        full_seen.iter().any(|f| f.starts_with("vendor/")),
        "{full_seen:?}"
    );
    // Only the plan's directory (src) and the root's files are checked out.
    assert!(
        sparse_seen
            .iter()
            .all(|f| f.starts_with("src/") || !f.contains('/')),
        "{sparse_seen:?}"
    );
    assert!(
        sparse_seen.contains(&"src/lib.rs".to_string())
            && sparse_seen.contains(&"README.md".to_string())
    );
    // The pushed tree has every file: the same as the full run's, byte for byte (but for the
    // policy file that turns sparse on).
    let entries = |env: &Env, tree: &str| -> Vec<String> {
        env.git_in(&env.origin, &["ls-tree", "-r", tree])
            .lines()
            .filter(|l| !l.ends_with("\t.swarm/policies.json"))
            .map(str::to_string)
            .collect()
    };
    let (a, b) = (entries(&full, &full_tree), entries(&sparse, &sparse_tree));
    assert_eq!(a, b);
    assert!(
        b.iter().any(|l| l.ends_with("vendor/big/f4.txt")) && b.len() > 15,
        "{b:?}"
    );
}

#[test]
fn the_policy_adds_directories_and_workers_get_their_own_cones() {
    let env = repo(Some(json!({"worktree": {"sparse": ["tools"]}})));
    let mut cfg = env.config();
    cfg["parallelization"] = json!({"enabled": true, "rules": [
        {"maxConcurrent": 2, "requireDisjointFiles": true, "respectDependencies": true}]});
    env.set_config(&cfg);
    let id = env.start("Two places");
    play_planner(
        &env,
        &id,
        &plan(
            &id,
            "two",
            vec![
                task("a", &["src/lib.rs"], &[]),
                task("b", &["docs/f1.txt"], &[]),
            ],
        ),
    );
    let j = env.sj(&["next"]).json();
    let inv = j["invocations"].as_array().unwrap();
    let (w1, w2) = (
        PathBuf::from(inv[0]["cwd"].as_str().unwrap()),
        PathBuf::from(inv[1]["cwd"].as_str().unwrap()),
    );
    let run_files = files_in(&w1);
    assert!(
        run_files.iter().any(|f| f.starts_with("docs/"))
            && run_files.iter().any(|f| f.starts_with("src/"))
    );
    assert!(
        run_files.iter().any(|f| f.starts_with("tools/")),
        "the policy's directory: {run_files:?}"
    );
    assert!(
        !run_files.iter().any(|f| f.starts_with("vendor/")),
        "{run_files:?}"
    );
    let worker_files = files_in(&w2);
    assert!(worker_files.iter().any(|f| f.starts_with("docs/")));
    assert!(
        !worker_files.iter().any(|f| f.starts_with("src/")),
        "the worker's own cone: {worker_files:?}"
    );
    assert_eq!(
        env.status(&id)["swarm"]["sparse"],
        json!(["docs", "src", "tools"])
    );
    // Both workers' work merges into the sparse run worktree.
    for (k, (cwd, file)) in [(&w1, "src/lib.rs"), (&w2, "docs/f1.txt")]
        .iter()
        .enumerate()
    {
        std::fs::write(cwd.join(file), format!("edited {k}\n")).unwrap();
        let h = read_json(Path::new(inv[k]["handoff"].as_str().unwrap()));
        write_json(
            Path::new(inv[k]["result"].as_str().unwrap()),
            &json!({"schemaVersion": "1.0", "subagent": "implementor", "status": "completed", "runId": id,
                    "handoffId": h["handoffId"], "iteration": 1, "summary": "s", "filesChanged": [file], "checks": {}}),
        );
    }
    let j = env.sj(&["next"]).json();
    assert_eq!(j["invocations"][0]["agent"], "reviewer", "{j}");
    assert_eq!(
        std::fs::read_to_string(w1.join("docs/f1.txt")).unwrap(),
        "edited 1\n"
    );
    assert_eq!(env.git_in(&w1, &["status", "--porcelain"]), "");
    assert!(!w2.exists());
}

#[test]
fn a_new_plan_that_needs_more_widens_the_cone() {
    let env = repo(Some(
        json!({"worktree": {"sparse": true}, "approval": {"publish": true}}),
    ));
    let id = env.start("Add a greeting");
    play_planner(&env, &id, &simple_plan(&id));
    let j = env.sj(&["next"]).json();
    let wt = PathBuf::from(j["invocations"][0]["cwd"].as_str().unwrap());
    play_implementor(&env, &id, "completed");
    env.sj(&["next"]).code(0);
    play_reviewer(&env, &id, "approved");
    env.sj(&["next"]).code(0);
    play_tester(&env, &id, "passed");
    assert_eq!(env.sj(&["next"]).json()["action"], "approve");
    assert!(!wt.join("docs").exists());
    // Turned down at the publish gate: the planner plans again, now touching docs/ too.
    env.sj(&["next", "--reject", "document it as well"]).code(0);
    let mut p = simple_plan(&id);
    p["lanes"][0]["tasks"][0]["files"] = json!(["src/lib.rs", "docs/f2.txt"]);
    play_planner(&env, &id, &p);
    let j = env.sj(&["next"]).json();
    assert_eq!(j["invocations"][0]["agent"], "implementor", "{j}");
    assert!(wt.join("docs/f2.txt").is_file(), "the cone was widened");
    assert!(!wt.join("vendor").exists());
    assert_eq!(env.status(&id)["swarm"]["sparse"], json!(["docs", "src"]));
    assert_eq!(env.git_in(&wt, &["status", "--porcelain"]), "");
}

/// Killed (like kill -9) while the sparse worktree is made: the next call finishes or undoes
/// it, and the worktree is whole and sparse.
#[cfg(feature = "failpoints")]
#[test]
fn a_crash_while_a_sparse_worktree_is_made_is_finished() {
    let mut hits = Vec::new();
    for point in [
        "worktree-add-before",
        "worktree-sparse-before-checkout",
        "worktree-add-after",
        "status-write-before",
    ] {
        let env = repo(Some(json!({"worktree": {"sparse": true}})));
        let id = env.start("Add a greeting");
        play_planner(&env, &id, &simple_plan(&id));
        let out = env
            .command(&env.work, &["next", "--json"])
            .env("FAILPOINTS", format!("{point}=return"))
            .output()
            .unwrap();
        if out.status.code().is_none() {
            hits.push(point);
        }
        let j = env.sj(&["next"]).json();
        assert_eq!(j["invocations"][0]["agent"], "implementor", "{point}: {j}");
        let wt = PathBuf::from(j["invocations"][0]["cwd"].as_str().unwrap());
        let files = files_in(&wt);
        assert!(
            files.contains(&"src/lib.rs".to_string()),
            "{point}: {files:?}"
        );
        assert!(
            !files.iter().any(|f| f.starts_with("vendor/")),
            "{point}: {files:?}"
        );
        assert_eq!(env.git_in(&wt, &["status", "--porcelain"]), "", "{point}");
        assert_eq!(env.git(&["worktree", "list"]).lines().count(), 2, "{point}");
        assert_run_files_valid(&env, &id);
    }
    assert_eq!(hits.len(), 4, "{hits:?}");
}

/// A sparse worktree's index is sparse: its status is read by git, so a change in it is seen
/// (abort keeps the worktree rather than lose it) and a clean one is removed.
#[test]
fn changes_in_a_sparse_worktree_are_seen() {
    let env = repo(Some(json!({"worktree": {"sparse": true}})));
    let id = env.start("Add a greeting");
    play_planner(&env, &id, &simple_plan(&id));
    let j = env.sj(&["next"]).json();
    let wt = PathBuf::from(j["invocations"][0]["cwd"].as_str().unwrap());
    let index = env.git_in(
        &wt,
        &["rev-parse", "--path-format=absolute", "--git-path", "index"],
    );
    assert!(
        std::fs::metadata(&index).unwrap().len() < 4096,
        "a sparse index"
    );
    std::fs::write(wt.join("src/lib.rs"), "pub fn changed() {}\n").unwrap();
    let out = env.sj(&["abort", "--run", &id]);
    out.code(0);
    assert!(wt.join("src/lib.rs").is_file(), "uncommitted work is kept");
    assert!(
        out.stdout.contains("src/lib.rs"),
        "the change is named: {}",
        out.stdout
    );
}
