//! gc: every kind of orphan is found; dirty, unpushed and unmerged work survives.

mod common;

use common::*;
use std::path::PathBuf;

fn worktree_of(env: &Env, id: &str) -> PathBuf {
    PathBuf::from(env.status(id)["worktreePath"].as_str().unwrap())
}

/// A run moved on to its implementor, with `name` as its branch.
fn planned(env: &Env, what: &str, name: &str) -> String {
    let id = env.start(what);
    play_planner(
        env,
        &id,
        &plan(&id, name, vec![task("t1", &["src/lib.rs"], &[])]),
    );
    env.sj(&["next", "--run", &id]).code(0);
    id
}

#[test]
fn gc_finds_orphans_and_keeps_work() {
    let env = Env::new();
    // 1. Canceled, clean, its branch pushed: worktree and branch go.
    let pushed = planned(&env, "pushed", "pushed");
    let wt_pushed = worktree_of(&env, &pushed);
    env.git_in(&wt_pushed, &["commit", "-q", "--allow-empty", "-m", "work"]);
    env.git_in(
        &wt_pushed,
        &["push", "-q", "--no-verify", "origin", "swarm/pushed"],
    );
    env.git(&["fetch", "-q", "origin"]);
    env.sj(&["abort", "--run", &pushed]).code(0);
    assert!(
        !wt_pushed.exists(),
        "clean and pushed: abort removed the worktree, the branch stays"
    );
    // 2. Canceled with unpushed commits: kept (abort keeps it too).
    let unpushed = planned(&env, "unpushed", "unpushed");
    let wt_unpushed = worktree_of(&env, &unpushed);
    env.git_in(
        &wt_unpushed,
        &["commit", "-q", "--allow-empty", "-m", "local only"],
    );
    env.sj(&["abort", "--run", &unpushed]).code(0);
    // 3. Canceled with uncommitted changes: kept.
    let dirty = planned(&env, "dirty", "dirty");
    let wt_dirty = worktree_of(&env, &dirty);
    std::fs::write(wt_dirty.join("notes.txt"), "mine").unwrap();
    env.sj(&["abort", "--run", &dirty]).code(0);
    // 4. A swarm worktree no run knows, clean, merged: goes.
    env.git(&[
        "worktree",
        "add",
        "-q",
        env.root().join("stray").to_str().unwrap(),
        "-b",
        "swarm/stray",
    ]);
    // 5. A worktree deleted by hand: pruned.
    env.git(&[
        "worktree",
        "add",
        "-q",
        env.root().join("gone").to_str().unwrap(),
        "-b",
        "swarm/gone",
    ]);
    std::fs::remove_dir_all(env.root().join("gone")).unwrap();
    // 6. A running run: untouched.
    let running = planned(&env, "running", "running");
    let wt_running = worktree_of(&env, &running);
    // 7. An old finished run folder.
    let st_path = env.run_dir(&pushed).join("run.status.json");
    let mut st = read_json(&st_path);
    st["updated-at"] = serde_json::json!("2020-01-01T00:00:00.000Z");
    write_json(&st_path, &st);

    let before = env.snapshot();
    let out = env.sj(&["gc"]);
    out.code(0);
    assert_eq!(before, env.snapshot(), "the default is a dry run");
    let j = out.json();
    let items = j["items"].as_array().unwrap();
    let action = |target: &str| -> String {
        items
            .iter()
            .find(|i| i["target"].as_str().unwrap().ends_with(target))
            .unwrap_or_else(|| panic!("{target} not in {j}"))["action"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(action("work-swarm-unpushed"), "keep");
    assert_eq!(action("work-swarm-dirty"), "keep");
    assert_eq!(action("stray"), "remove");
    assert_eq!(action("gone"), "remove");
    assert_eq!(action("work-swarm-running"), "keep");
    assert_eq!(action("swarm/unpushed"), "keep");
    assert_eq!(action("swarm/stray"), "remove");
    assert_eq!(action("swarm/pushed"), "remove");
    assert_eq!(action("swarm/running"), "keep");
    assert_eq!(action("swarm/gone"), "remove");
    assert_eq!(action(&pushed), "remove");

    let out = env.sj(&["gc", "--apply"]);
    out.code(0);
    assert!(!env.root().join("stray").exists());
    assert!(!env.git(&["worktree", "list"]).contains("gone"));
    assert!(wt_unpushed.exists() && wt_dirty.exists() && wt_running.exists());
    assert_eq!(
        std::fs::read_to_string(wt_dirty.join("notes.txt")).unwrap(),
        "mine"
    );
    let branches = env.git(&["branch", "--list", "swarm/*"]);
    assert!(
        branches.contains("swarm/unpushed")
            && branches.contains("swarm/running")
            && branches.contains("swarm/dirty"),
        "{branches}"
    );
    assert!(
        !branches.contains("swarm/stray") && !branches.contains("swarm/pushed"),
        "{branches}"
    );
    assert!(!env.run_dir(&pushed).exists(), "the old run folder is gone");
    assert!(env.run_dir(&running).exists());
    // Nothing left to do but what must stay.
    let again = env.sj(&["gc"]).json();
    assert!(
        again["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|i| i["action"] == "keep"),
        "{again}"
    );
}
