//! gc: every kind of orphan is found; dirty, unpushed and unmerged work survives; what runs
//! in progress, busy runs and resumable runs use stays; interrupted removals are finished.
//! See issue 11 (part 3): gc took no lock, and removed what runs had just created.

mod common;

use common::*;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

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
    assert_eq!(
        action("gone"),
        "finish",
        "half-removed: its directory is gone"
    );
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

/// The item of a gc report whose target ends with `target` (a worktree rather than its lock):
/// (action, reason).
fn item(j: &Value, target: &str) -> (String, String) {
    let i = j["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["target"].as_str().unwrap().ends_with(target) && i["kind"] != "lock")
        .unwrap_or_else(|| panic!("{target} not in {j}"));
    (
        i["action"].as_str().unwrap().to_string(),
        i["reason"].as_str().unwrap().to_string(),
    )
}

/// A run whose implementor wrote an invalid result: failed, its worktree clean at the base.
fn failed_run(env: &Env, name: &str) -> (String, PathBuf) {
    let id = planned(env, name, name);
    write_json(
        &env.run_dir(&id).join("implementor.result.json"),
        &json!({"subagent": "implementor"}),
    );
    env.sj(&["next", "--run", &id]).code(5);
    assert_eq!(env.status(&id)["outcome"], "failed");
    (id.clone(), worktree_of(env, &id))
}

/// Holds a run's lock the way another git swarm command would (an OS lock on its `.lock`).
fn hold_lock(env: &Env, id: &str) -> std::fs::File {
    let f = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(env.run_dir(id).join(".lock"))
        .unwrap();
    f.try_lock().unwrap();
    f
}

#[test]
fn a_busy_run_is_left_alone_and_gc_says_so() {
    let env = Env::new();
    let (id, wt) = failed_run(&env, "busy");
    let held = hold_lock(&env, &id);
    let out = env.sj(&["gc", "--apply", "--include-resumable"]);
    out.code(0);
    let j = out.json();
    let (action, reason) = item(&j, "work-swarm-busy");
    assert_eq!(action, "keep", "{j}");
    assert!(reason.contains(&format!("run {id} is busy")), "{reason}");
    assert_eq!(item(&j, "swarm/busy").0, "keep", "{j}");
    assert!(wt.exists());
    let text = env.swarm(&["gc", "--include-resumable"]).stdout;
    assert!(
        text.contains("keep") && text.contains("is busy"),
        "says so without --json too:\n{text}"
    );
    drop(held);
    let j = env.sj(&["gc", "--apply", "--include-resumable"]).json();
    assert_eq!(item(&j, "work-swarm-busy").0, "remove", "{j}");
    assert!(!wt.exists());
}

#[test]
fn failed_and_escalated_runs_keep_their_worktrees_unless_asked() {
    let env = Env::new();
    let mut cfg = env.config();
    cfg["loop-control"]["maxLoops"] = json!(0);
    env.set_config(&cfg);
    // Escalated at the first rejection; its commits pushed, so only resumability keeps them.
    let esc = planned(&env, "escalate", "esc");
    play_implementor(&env, &esc, "completed");
    env.sj(&["next", "--run", &esc]).code(0);
    play_reviewer(&env, &esc, "rejected");
    env.sj(&["next", "--run", &esc]).code(4);
    assert_eq!(env.status(&esc)["outcome"], "needs-human");
    let wt_esc = worktree_of(&env, &esc);
    env.git_in(
        &wt_esc,
        &["push", "-q", "--no-verify", "origin", "swarm/esc"],
    );
    env.git(&["fetch", "-q", "origin"]);
    let (failed, wt_failed) = failed_run(&env, "fail");

    let out = env.sj(&["gc", "--apply"]);
    out.code(0);
    let j = out.json();
    for (target, id) in [
        ("work-swarm-esc", &esc),
        ("swarm/esc", &esc),
        ("work-swarm-fail", &failed),
        ("swarm/fail", &failed),
    ] {
        let (action, reason) = item(&j, target);
        assert_eq!(action, "keep", "{target}: {j}");
        assert!(
            reason.contains(&format!("git swarm retry --run {id}"))
                && reason.contains("--include-resumable"),
            "{reason}"
        );
    }
    assert!(wt_esc.exists() && wt_failed.exists());

    let j = env.sj(&["gc", "--apply", "--include-resumable"]).json();
    for target in [
        "work-swarm-esc",
        "swarm/esc",
        "work-swarm-fail",
        "swarm/fail",
    ] {
        assert_eq!(item(&j, target).0, "remove", "{target}: {j}");
    }
    assert!(!wt_esc.exists() && !wt_failed.exists());
    let branches = env.git(&["branch", "--list", "swarm/*"]);
    assert!(branches.trim().is_empty(), "{branches}");
}

fn admin_dir(env: &Env, wt: &Path) -> PathBuf {
    env.work
        .join(".git/worktrees")
        .join(wt.file_name().unwrap())
}

/// A clean worktree on `swarm/<name>` beside the work repository, made by git directly.
fn stray(env: &Env, name: &str) -> PathBuf {
    let p = env.root().join(format!("work-swarm-{name}"));
    env.git(&[
        "worktree",
        "add",
        "-q",
        p.to_str().unwrap(),
        "-b",
        &format!("swarm/{name}"),
    ]);
    p
}

#[test]
fn half_removed_worktrees_are_finished() {
    let env = Env::new();
    // 1. Everything but its .git removed (the removal died at the end).
    let only_git = stray(&env, "only-git");
    std::fs::remove_file(only_git.join("README.md")).unwrap();
    std::fs::remove_dir_all(only_git.join("src")).unwrap();
    // 2. Its directory gone, git's record left.
    let no_dir = stray(&env, "no-dir");
    std::fs::remove_dir_all(&no_dir).unwrap();
    // 3. A 'git worktree add' that died during its checkout: locked 'initializing', part of
    //    the files there.
    let init = stray(&env, "init");
    std::fs::write(admin_dir(&env, &init).join("locked"), "initializing").unwrap();
    std::fs::remove_dir_all(init.join("src")).unwrap();
    assert!(
        env.git(&["worktree", "list", "--porcelain"])
            .contains("locked initializing")
    );
    // 4. Its .git removed first, some files left.
    let no_git = stray(&env, "no-git");
    std::fs::remove_file(no_git.join(".git")).unwrap();
    std::fs::remove_file(no_git.join("README.md")).unwrap();
    // 5. A run's worktree that git no longer knows (its registration removed before its
    //    files, as 'abort' killed in the middle can leave it), then the run aborted again.
    let id = planned(&env, "aborted", "aborted");
    let orphan = worktree_of(&env, &id);
    std::fs::remove_file(orphan.join("README.md")).unwrap();
    std::fs::remove_dir_all(admin_dir(&env, &orphan)).unwrap();
    env.sj(&["abort", "--run", &id]).code(0);
    assert!(orphan.join(".git").is_file() && orphan.join("src/lib.rs").exists());
    assert!(
        !env.git(&["worktree", "list"])
            .contains("work-swarm-aborted")
    );

    let before = env.snapshot();
    let j = env.sj(&["gc"]).json();
    assert_eq!(before, env.snapshot(), "the default is a dry run");
    for target in [
        "work-swarm-only-git",
        "work-swarm-no-dir",
        "work-swarm-init",
        "work-swarm-no-git",
        "work-swarm-aborted",
    ] {
        let (action, reason) = item(&j, target);
        assert_eq!(action, "finish", "{target}: {j}");
        assert!(reason.starts_with("half-removed"), "{target}: {reason}");
    }
    let lock = j["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["kind"] == "lock")
        .unwrap_or_else(|| panic!("the stale lock is listed: {j}"));
    assert!(
        lock["target"]
            .as_str()
            .unwrap()
            .ends_with("work-swarm-init")
    );
    assert!(lock["reason"].as_str().unwrap().contains("initializing"));

    let out = env.swarm(&["gc", "--apply"]);
    out.code(0);
    assert!(out.stdout.contains("finished"), "{}", out.stdout);
    for p in [&only_git, &no_dir, &init, &no_git, &orphan] {
        assert!(!p.exists(), "{} is gone", p.display());
    }
    let list = env.git(&["worktree", "list", "--porcelain"]);
    assert_eq!(list.matches("worktree ").count(), 1, "{list}");
    // The branches were at the base: merged, so they went too.
    let branches = env.git(&["branch", "--list", "swarm/*"]);
    assert!(branches.trim().is_empty(), "{branches}");
}

#[test]
fn a_directory_with_foreign_content_is_never_deleted() {
    let env = Env::new();
    // A half-removed registered worktree with a file of the user's in it.
    let notes = stray(&env, "notes");
    std::fs::remove_file(notes.join(".git")).unwrap();
    std::fs::write(notes.join("notes.txt"), "mine").unwrap();
    // A run's directory git no longer knows, with a file changed.
    let id = planned(&env, "changed", "changed");
    let changed = worktree_of(&env, &id);
    std::fs::write(changed.join("src/lib.rs"), "pub fn mine() {}\n").unwrap();
    std::fs::remove_dir_all(admin_dir(&env, &changed)).unwrap();
    env.sj(&["abort", "--run", &id]).code(0);
    // A run's directory that holds a repository of its own.
    let id2 = planned(&env, "repo", "repo");
    let repo = worktree_of(&env, &id2);
    env.git(&["worktree", "remove", "--force", repo.to_str().unwrap()]);
    std::fs::create_dir_all(&repo).unwrap();
    env.git_in(&repo, &["init", "-q"]);
    env.sj(&["abort", "--run", &id2]).code(0);

    let out = env.sj(&["gc", "--apply"]);
    out.code(0);
    let j = out.json();
    let (action, reason) = item(&j, "work-swarm-notes");
    assert_eq!(action, "keep", "{j}");
    assert!(
        reason.contains("notes.txt") && reason.contains("move what you need"),
        "{reason}"
    );
    let (action, reason) = item(&j, "work-swarm-changed");
    assert_eq!(action, "keep", "{j}");
    assert!(
        reason.contains("src/lib.rs") && reason.contains("move what you need"),
        "{reason}"
    );
    let (action, reason) = item(&j, "work-swarm-repo");
    assert_eq!(action, "keep", "{j}");
    assert!(reason.contains("repository of its own"), "{reason}");
    assert_eq!(
        std::fs::read_to_string(notes.join("notes.txt")).unwrap(),
        "mine"
    );
    assert!(notes.join("src/lib.rs").exists(), "nothing of it went");
    assert_eq!(
        std::fs::read_to_string(changed.join("src/lib.rs")).unwrap(),
        "pub fn mine() {}\n"
    );
    assert!(changed.join("README.md").exists() && repo.join(".git").is_dir());
}

/// See issue 11 (part 3): run in a loop beside `next`, gc removed the worktrees and branches
/// runs had just created, and two runs ended up sharing one worktree.
#[test]
fn gc_in_a_loop_beside_next_never_takes_a_running_runs_worktree() {
    let env = Arc::new(Env::new());
    // Leftovers gc may take (clean, merged, no run records them), so that it removes while
    // the runs create.
    let strays: Vec<PathBuf> = (0..3).map(|n| stray(&env, &format!("stray{n}"))).collect();
    let stop = Arc::new(AtomicBool::new(false));
    let looper = {
        let (env, stop) = (env.clone(), stop.clone());
        std::thread::spawn(move || {
            let mut rounds = 0;
            let mut removed = Vec::new();
            while !stop.load(Ordering::SeqCst) {
                let out = env.sj(&["gc", "--apply"]);
                out.code(0);
                for i in out.json()["items"].as_array().unwrap() {
                    if i["action"] != "keep" {
                        removed.push(i["target"].as_str().unwrap().to_string());
                    }
                }
                rounds += 1;
            }
            (rounds, removed)
        })
    };
    let mut ids = Vec::new();
    for round in 0..3 {
        // Runs with one friendly name: each must find a branch and directory of its own.
        let batch: Vec<String> = (0..3)
            .map(|n| {
                let id = env.start(&format!("task {round}.{n}"));
                play_planner(
                    &env,
                    &id,
                    &plan(&id, "same", vec![task("t1", &["src/lib.rs"], &[])]),
                );
                id
            })
            .collect();
        let children: Vec<_> = batch
            .iter()
            .map(|id| {
                env.command(&env.work, &["next", "--run", id, "--json"])
                    .stdout(std::process::Stdio::piped())
                    .stderr(std::process::Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        for c in children {
            let o = c.wait_with_output().unwrap();
            assert_eq!(
                o.status.code(),
                Some(0),
                "{}",
                String::from_utf8_lossy(&o.stderr)
            );
        }
        ids.extend(batch);
    }
    stop.store(true, Ordering::SeqCst);
    let (rounds, removed) = looper.join().unwrap();
    assert!(rounds > 0);
    for p in &strays {
        assert!(!p.exists(), "gc did remove {}", p.display());
    }

    let list = env.git(&["worktree", "list", "--porcelain"]);
    let mut paths = std::collections::HashSet::new();
    let mut branches = std::collections::HashSet::new();
    for id in &ids {
        let st = env.status(id);
        assert_eq!(st["outcome"], "in-progress");
        let wt = PathBuf::from(st["worktreePath"].as_str().unwrap());
        let branch = st["branch"].as_str().unwrap().to_string();
        assert!(wt.join("src/lib.rs").exists(), "{} exists", wt.display());
        assert!(
            list.contains(&format!("worktree {}\n", wt.display())),
            "{} is registered: {list}",
            wt.display()
        );
        assert_eq!(
            env.git_in(&wt, &["rev-parse", "--abbrev-ref", "HEAD"])
                .trim(),
            branch,
            "run {id} works on its own branch"
        );
        assert!(
            !removed
                .iter()
                .any(|r| *r == wt.display().to_string() || *r == branch),
            "gc removed run {id}'s {} or {branch}: {removed:?}",
            wt.display()
        );
        assert!(paths.insert(wt), "no two runs share a worktree");
        assert!(branches.insert(branch), "no two runs share a branch");
    }
    // And each run goes on from there.
    for id in &ids {
        assert_eq!(
            env.sj(&["next", "--run", id]).json()["invocations"][0]["agent"],
            "implementor"
        );
    }
}

/// A run re-opened after `gc --include-resumable` removed its worktree and branch gets its
/// worktree back, on its branch as pushed — never from the start, which would drop its work.
#[test]
fn a_resumable_run_cleaned_up_gets_its_worktree_back_on_retry() {
    let env = Env::new();
    let mut cfg = env.config();
    cfg["loop-control"]["maxLoops"] = json!(0);
    env.set_config(&cfg);
    let esc = planned(&env, "escalate", "esc");
    play_implementor(&env, &esc, "completed");
    env.sj(&["next", "--run", &esc]).code(0);
    play_reviewer(&env, &esc, "rejected");
    env.sj(&["next", "--run", &esc]).code(4);
    let wt = worktree_of(&env, &esc);
    let tip = env.git_in(&wt, &["rev-parse", "HEAD"]);
    env.git_in(&wt, &["push", "-q", "--no-verify", "origin", "swarm/esc"]);
    env.git(&["fetch", "-q", "origin"]);
    env.sj(&["gc", "--apply", "--include-resumable"]).code(0);
    assert!(!wt.exists());
    let j = env.sj(&["retry", "--run", &esc]).json();
    assert_eq!(j["action"], "invoke", "{j}");
    assert!(wt.exists(), "the worktree is made again");
    assert_eq!(
        env.git_in(&wt, &["rev-parse", "HEAD"]),
        tip,
        "with the run's work"
    );
    assert_eq!(env.git_in(&wt, &["status", "--porcelain"]), "");
    assert_run_files_valid(&env, &esc);
}

/// Any retention is taken, however large: a cut-off before the clock's epoch keeps every
/// run folder, and gc answers instead of overflowing.
#[test]
fn a_retention_beyond_the_clock_keeps_every_folder() {
    let env = Env::new();
    let id = planned(&env, "kept", "kept");
    env.sj(&["abort", "--run", &id]).code(0);
    let j = env
        .sj(&["gc", "--apply", "--older-than", "18446744073709551615"])
        .code(0)
        .json();
    assert_eq!(j["retentionDays"], 18446744073709551615u64, "{j}");
    assert!(
        env.run_dir(&id).exists(),
        "the canceled run's folder is kept"
    );
}

/// A gc killed while its git removed a branch's settings left `.git/config.lock` (and the
/// settings, the branch already gone): the next gc removes what no process holds, drops the
/// settings, says so — and a lock some process holds open is left alone. Without --apply it
/// only says what it would do.
#[test]
fn what_a_killed_gc_left_is_finished_by_the_next() {
    let env = Env::new();
    env.git(&["branch", "swarm/old"]);
    env.git(&["config", "branch.swarm/old.remote", "origin"]);
    env.git(&["config", "branch.swarm/old.merge", "refs/heads/swarm/old"]);
    env.git(&["update-ref", "-d", "refs/heads/swarm/old"]);
    let runs = env.work.join(".swarm/runs");
    std::fs::create_dir_all(&runs).unwrap();
    write_json(
        &runs.join(".gc.json"),
        &serde_json::json!({"what": "branch swarm/old", "pid": 1, "at": "2026-01-01T00:00:00Z",
            "branch": "swarm/old"}),
    );
    let git_dir = env.work.join(".git");
    std::fs::write(git_dir.join("config.lock"), "[core]\n").unwrap();
    std::fs::write(git_dir.join("packed-refs.lock"), "").unwrap();
    let _held = std::fs::File::open(git_dir.join("packed-refs.lock")).unwrap();

    let j = env.sj(&["gc"]).json();
    let config_lock = git_dir.join("config.lock").display().to_string();
    let found = |j: &Value, kind: &str, target: &str| {
        j["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["kind"] == kind && i["target"] == target)
            .cloned()
    };
    let lock = found(&j, "git-lock", &config_lock).unwrap_or_else(|| panic!("{j}"));
    assert_eq!(lock["action"], "finish", "{j}");
    assert!(
        lock["reason"]
            .as_str()
            .unwrap()
            .contains("branch swarm/old")
    );
    assert!(found(&j, "settings", "branch.swarm/old").is_some(), "{j}");
    assert!(
        git_dir.join("config.lock").exists(),
        "a dry run changes nothing"
    );
    assert!(runs.join(".gc.json").exists());

    let j = env.sj(&["gc", "--apply"]).json();
    assert!(found(&j, "git-lock", &config_lock).is_some(), "{j}");
    let packed = git_dir.join("packed-refs.lock").display().to_string();
    assert!(found(&j, "git-lock", &packed).is_none(), "held open: {j}");
    assert!(!git_dir.join("config.lock").exists());
    assert!(git_dir.join("packed-refs.lock").exists(), "held open, kept");
    assert!(!runs.join(".gc.json").exists());
    assert!(!env.git_ok(&env.work, &["config", "--get", "branch.swarm/old.remote"]));
    // Nothing left to finish.
    std::fs::remove_file(git_dir.join("packed-refs.lock")).unwrap();
    let j = env.sj(&["gc", "--apply"]).json();
    assert!(
        j["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|i| i["kind"] != "git-lock" && i["kind"] != "settings"),
        "{j}"
    );
}
