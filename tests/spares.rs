//! Spare worktrees: while the planner works, `git swarm run` checks out the worktrees the plan
//! will need (the run's and its first batch's workers) on a detached HEAD; when the plan is
//! accepted they are moved into place and put on their branches. Spares not needed are
//! removed; abort removes them; a crash at any step of making or using one is finished or
//! undone, never leaving a worktree the run does not know.

mod common;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::agents::Exec;
use common::*;
use serde_json::json;

/// An exec-mode repository whose planner works for `planner_secs` and whose plan has `tasks`,
/// run in parallel batches of `batch`.
fn setup(tasks: Vec<serde_json::Value>, batch: u32, planner_secs: &str) -> Exec {
    let x = Exec::new();
    x.configure(tasks, &[("planner", &[("FAKE_SLEEP", planner_secs)])]);
    let mut cfg = x.env.config();
    cfg["parallelization"] = json!({"enabled": true, "rules": [
        {"maxConcurrent": batch, "requireDisjointFiles": true, "respectDependencies": true}]});
    x.env.set_config(&cfg);
    x
}

fn two_tasks() -> Vec<serde_json::Value> {
    vec![task("one", &["a.txt"], &[]), task("two", &["b.txt"], &[])]
}

/// `git swarm run <args>` with the time trace on: (exit code, stdout JSON, stderr).
fn traced_run(x: &Exec, args: &[&str]) -> (Option<i32>, serde_json::Value, String) {
    let mut a = vec!["run"];
    a.extend_from_slice(args);
    a.push("--json");
    let out = x
        .env
        .command(&x.env.work, &a)
        .env("GIT_SWARM_TRACE", "1")
        .output()
        .unwrap();
    let j = serde_json::from_slice(&out.stdout).unwrap_or(json!(null));
    (
        out.status.code(),
        j,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Directories beside the workspace whose name says they are spares.
fn spare_dirs(env: &Env) -> Vec<PathBuf> {
    std::fs::read_dir(env.work.parent().unwrap())
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.to_string_lossy().contains("-swarm-spare-"))
        .collect()
}

fn ledger(env: &Env, id: &str) -> serde_json::Value {
    let p = env.run_dir(id).join("git.json");
    if p.exists() { read_json(&p) } else { json!({}) }
}

/// The run is done, both tasks' files are in the pushed branch, and nothing of the run's is
/// left: no spare, no worktree but the main one, no spare in the ledger.
fn assert_done_and_tidy(x: &Exec, id: &str, what: &str) {
    let env = &x.env;
    assert_eq!(env.status(id)["outcome"], "completed", "{what}");
    assert!(x.pushed("swarm/feature"), "{what}");
    for f in ["a.txt", "b.txt"] {
        env.git_in(
            &env.origin,
            &["cat-file", "-e", &format!("swarm/feature:{f}")],
        );
    }
    assert_eq!(spare_dirs(env), Vec::<PathBuf>::new(), "{what}");
    assert_eq!(
        env.git(&["worktree", "list"]).lines().count(),
        1,
        "{what}: {}",
        env.git(&["worktree", "list"])
    );
    assert!(
        ledger(env, id)["spares"]
            .as_array()
            .is_none_or(|s| s.is_empty()),
        "{what}: {}",
        ledger(env, id)
    );
    assert_run_files_valid(env, id);
}

#[test]
fn spares_made_while_the_planner_works_become_the_run_and_worker_worktrees() {
    let x = setup(two_tasks(), 2, "2");
    let (code, j, err) = traced_run(&x, &["Two files"]);
    assert_eq!(code, Some(0), "{j}\n{err}");
    let id = j["run-id"].as_str().unwrap();
    let made = err.lines().filter(|l| l.contains("spares: made")).count();
    assert_eq!(
        made, 2,
        "one for the run's worktree, one for the worker:\n{err}"
    );
    let used: Vec<&str> = err.lines().filter(|l| l.contains(" used for ")).collect();
    assert_eq!(used.len(), 2, "{err}");
    assert!(
        used.iter().any(|l| l.ends_with("-swarm-feature")),
        "the run's worktree: {used:?}"
    );
    assert!(
        used.iter().any(|l| l.ends_with("-swarm-feature--w2")),
        "the worker's worktree: {used:?}"
    );
    // Both workers worked and merged as usual.
    let signals: Vec<String> = x
        .events(id)
        .iter()
        .map(|e| e["signal"].as_str().unwrap().to_string())
        .collect();
    assert!(signals.contains(&"BATCH_MERGED".to_string()), "{signals:?}");
    assert_done_and_tidy(&x, id, "spares used");
}

#[test]
fn spares_the_plan_does_not_need_are_removed_and_the_policy_turns_them_off() {
    // One task, batches of three: three spares, one used, two removed once the plan is in.
    let x = setup(vec![task("one", &["a.txt", "b.txt"], &[])], 3, "2");
    let (code, j, err) = traced_run(&x, &["One task"]);
    assert_eq!(code, Some(0), "{j}\n{err}");
    let id = j["run-id"].as_str().unwrap().to_string();
    assert_eq!(
        err.lines().filter(|l| l.contains("spares: made")).count(),
        3,
        "{err}"
    );
    assert_eq!(
        err.lines().filter(|l| l.contains(" used for ")).count(),
        1,
        "{err}"
    );
    assert_done_and_tidy(&x, &id, "spares left over");

    let x = setup(two_tasks(), 2, "1");
    write_json(
        &x.env.work.join(".swarm/policies.json"),
        &json!({"worktree": {"spares": 0}}),
    );
    x.env.git(&["add", "-A"]);
    x.env.git(&["commit", "-qm", "no spares"]);
    let (code, j, err) = traced_run(&x, &["Two files"]);
    assert_eq!(code, Some(0), "{j}\n{err}");
    assert!(!err.contains("spares:"), "{err}");
    assert_done_and_tidy(&x, j["run-id"].as_str().unwrap(), "spares off");
}

/// Spares are the run's: gc leaves them while the run is in progress, abort removes them.
#[test]
fn a_killed_run_keeps_its_spares_for_gc_and_abort_removes_them() {
    let x = setup(two_tasks(), 2, "30");
    let mut child = x
        .env
        .command(&x.env.work, &["run", "Two files", "--json"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let id = loop {
        let found = std::fs::read_dir(x.env.work.join(".swarm/runs"))
            .ok()
            .into_iter()
            .flatten()
            .flatten()
            .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .find(|id| {
                let l = ledger(&x.env, id);
                l["spares"]
                    .as_array()
                    .is_some_and(|s| s.len() == 2 && s.iter().all(|s| s["stage"] == "created"))
            });
        if let Some(id) = found {
            break id;
        }
        assert!(Instant::now() < deadline, "the spares were never made");
        std::thread::sleep(Duration::from_millis(50));
    };
    child.kill().unwrap();
    child.wait().unwrap();
    // The planner the killed run left (in a process group of its own) is stopped too.
    for p in x.env.status(&id)["swarm"]["pending"].as_array().unwrap() {
        if let Some(pid) = p["process"]["pid"].as_i64() {
            unsafe {
                libc::kill(-(pid as i32), libc::SIGKILL);
            }
        }
    }
    let spares = spare_dirs(&x.env);
    assert_eq!(spares.len(), 2, "{spares:?}");
    // The run is in progress: gc knows both spares as its and keeps them.
    let gc = x.env.sj(&["gc", "--apply"]);
    gc.code(0);
    let items = gc.json()["items"].clone();
    for s in &spares {
        let item = items
            .as_array()
            .unwrap()
            .iter()
            .find(|i| Path::new(i["target"].as_str().unwrap()) == s.as_path());
        assert_eq!(
            item.map(|i| i["action"].clone()),
            Some(json!("keep")),
            "{}: {items}",
            s.display()
        );
        assert!(s.join(".git").is_file(), "{}", s.display());
    }
    x.env.sj(&["abort", "--run", &id]).code(0);
    assert_eq!(spare_dirs(&x.env), Vec::<PathBuf>::new());
    assert_eq!(x.env.git(&["worktree", "list"]).lines().count(), 1);
    assert!(
        ledger(&x.env, &id)["spares"]
            .as_array()
            .is_none_or(|s| s.is_empty())
    );
}

/// Killed (like kill -9) at each step of making a spare or of using one, then run again: the
/// run finishes as if nothing happened, and no worktree is left that the run does not know.
#[cfg(feature = "failpoints")]
#[test]
fn a_crash_while_a_spare_is_made_or_used_is_finished_or_undone() {
    let mut hits = Vec::new();
    for (point, skip) in [
        ("spare-add-before", 0),
        ("spare-add-after", 0),
        ("spare-add-after", 1),
        ("spare-moved", 0),
        ("spare-adopted", 0),
        ("spare-moved", 1),
        ("spare-adopted", 1),
    ] {
        let x = setup(two_tasks(), 2, "2");
        let out = x
            .env
            .command(&x.env.work, &["run", "Two files", "--json"])
            .env("FAILPOINTS", format!("{point}={skip}*off->return"))
            .output()
            .unwrap();
        let what = format!("{point} after {skip}");
        if out.status.code().is_some() {
            continue;
        }
        hits.push(what.clone());
        let id = std::fs::read_dir(x.env.work.join(".swarm/runs"))
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .find(|n| !n.starts_with('.'))
            .unwrap();
        // Before the run goes on, everything git has is recorded in the run's ledger.
        let l = ledger(&x.env, &id);
        let recorded: Vec<String> = l["owned"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|o| o["path"].as_str().unwrap().to_string())
            .chain(
                l["spares"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .flat_map(|s| [s["path"].as_str(), s["into"].as_str()])
                    .flatten()
                    .map(str::to_string),
            )
            .collect();
        for line in x
            .env
            .git(&["worktree", "list", "--porcelain"])
            .lines()
            .skip(1)
        {
            if let Some(p) = line.strip_prefix("worktree ") {
                assert!(
                    recorded.iter().any(|r| Path::new(r) == Path::new(p)),
                    "{what}: {p} is not in the ledger {l}"
                );
            }
        }
        let again = x.run(&["--run", &id]);
        again.code(0);
        assert_done_and_tidy(&x, &id, &what);
    }
    // Every point was reached at least once.
    for p in [
        "spare-add-before",
        "spare-add-after",
        "spare-moved",
        "spare-adopted",
    ] {
        assert!(hits.iter().any(|h| h.starts_with(p)), "{p}: {hits:?}");
    }
}
