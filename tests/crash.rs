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

/// Failpoints a parallel batch passes through when its results are merged.
const MERGE_POINTS: &[&str] = &[
    "merge-batch-before-checkout",
    "merge-batch-after-checkout",
    "merge-before",
    "merge-after",
    "worktree-add-before",
    "worktree-add-after",
];

fn batch_env() -> (Env, String) {
    let env = Env::new();
    let id = env.start("Two files");
    play_planner(
        &env,
        &id,
        &plan(
            &id,
            "two",
            vec![task("a", &["a.txt"], &[]), task("b", &["b.txt"], &[])],
        ),
    );
    (env, id)
}

/// Plays both workers of the batch the run waits for.
fn play_workers(env: &Env, id: &str) {
    let st = env.status(id);
    for inv in st["swarm"]["pending"].as_array().unwrap() {
        let h = read_json(&PathBuf::from(inv["handoff"].as_str().unwrap()));
        let cwd = PathBuf::from(inv["cwd"].as_str().unwrap());
        let file = h["context"]["allowedFiles"][0]
            .as_str()
            .unwrap()
            .to_string();
        std::fs::write(cwd.join(&file), "work\n").unwrap();
        env.git_in(&cwd, &["add", "-A"]);
        env.git_in(&cwd, &["commit", "-q", "-m", &file]);
        write_json(
            &PathBuf::from(inv["result"].as_str().unwrap()),
            &serde_json::json!({"schemaVersion": "1.0", "subagent": "implementor", "status": "completed", "runId": id,
                "handoffId": h["handoffId"], "iteration": 1, "summary": file, "filesChanged": [file], "checks": {}}),
        );
    }
}

fn check_merged(env: &Env, id: &str) {
    let out = env.sj(&["next", "--run", id]);
    out.code(0);
    assert_eq!(
        out.json()["invocations"][0]["agent"],
        "reviewer",
        "{}",
        out.stdout
    );
    let st = env.status(id);
    let wt = PathBuf::from(st["worktreePath"].as_str().unwrap());
    assert_eq!(std::fs::read_to_string(wt.join("a.txt")).unwrap(), "work\n");
    assert_eq!(std::fs::read_to_string(wt.join("b.txt")).unwrap(), "work\n");
    assert_eq!(
        env.git(&["worktree", "list"]).lines().count(),
        2,
        "the worker's worktree is gone"
    );
    assert!(
        !env.git(&["branch", "--list"]).contains("--w"),
        "worker branches are gone"
    );
    let events = std::fs::read_to_string(env.run_dir(id).join("events.jsonl")).unwrap();
    assert_eq!(events.matches("\"BATCH_MERGED\"").count(), 1, "{events}");
    assert_eq!(
        events.matches("\"ALL_WORKERS_COMPLETE\"").count(),
        1,
        "{events}"
    );
    assert_run_files_valid(env, id);
}

/// A batch merge cut short during its checkout (the worktree already at the merge, its branch
/// not yet): the next call finishes it — unless someone changed a file in the run's worktree
/// meanwhile that the merge does not write, which is never overwritten: the command stops and
/// names it, and goes on once the change is gone.
#[test]
fn a_cut_short_batch_merge_is_finished_but_never_over_someones_change() {
    let (env, id) = batch_env();
    env.sj(&["next"]).code(0);
    play_workers(&env, &id);
    assert!(crashed(
        &env,
        &["next", "--json"],
        "merge-batch-after-checkout",
        0
    ));
    let st = env.status(&id);
    let wt = PathBuf::from(st["worktreePath"].as_str().unwrap());
    std::fs::write(wt.join("README.md"), "mine\n").unwrap();
    let out = env.sj(&["next", "--run", &id]);
    assert_ne!(out.code, 0, "{}", out.stdout);
    let said = format!("{}{}", out.stdout, out.stderr);
    assert!(said.contains("README.md"), "{said}");
    assert_eq!(
        std::fs::read_to_string(wt.join("README.md")).unwrap(),
        "mine\n"
    );
    env.git_in(&wt, &["checkout", "--", "README.md"]);
    check_merged(&env, &id);
    // The merge is the batch's: both workers' branches are parents of the run's branch.
    let parents = env.git_in(&wt, &["log", "--format=%P", "-1"]);
    assert_eq!(parents.split_whitespace().count(), 2, "{parents}");
}

#[test]
fn a_batch_survives_a_crash_at_every_failpoint() {
    let mut hits = Vec::new();
    for point in MERGE_POINTS {
        for skip in 0..10 {
            let (env, id) = batch_env();
            // The fan-out creates the second worker's worktree; the batch's end merges.
            let fan_out_hit = crashed(&env, &["next", "--json"], point, skip);
            if fan_out_hit {
                env.sj(&["next"]).code(0);
            }
            play_workers(&env, &id);
            let merge_hit = !fan_out_hit && crashed(&env, &["next", "--json"], point, skip);
            check_merged(&env, &id);
            if !fan_out_hit && !merge_hit {
                hits.push(format!("{point}: {skip}"));
                break;
            }
        }
    }
    println!("failpoint hits during a batch: {hits:?}");
}

#[test]
fn run_survives_a_crash_at_every_failpoint() {
    use common::agents::Exec;
    for point in [
        "runner-launch-after",
        "runner-agent-ended",
        "status-write-after",
        "publish-push-after",
        "publish-pr-before",
    ] {
        for skip in 0..12 {
            let x = Exec::new();
            let out = x
                .env
                .command(&x.env.work, &["run", "Add a greeting", "--json"])
                .env("FAILPOINTS", format!("{point}={skip}*off->return"))
                .output()
                .unwrap();
            let hit = out.status.code().is_none();
            let id = std::fs::read_dir(x.env.work.join(".swarm/runs"))
                .unwrap()
                .flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .find(|n| !n.starts_with('.'))
                .unwrap();
            // Agents left running by the killed runner finish on their own; resuming picks up
            // whatever they wrote.
            std::thread::sleep(std::time::Duration::from_millis(200));
            let j = x.run(&["--run", &id]).json();
            assert_eq!(j["action"], "done", "{point} {skip}: {j}");
            let st = x.env.status(&id);
            assert_eq!(st["prUrl"], "https://github.com/acme/app/pull/9");
            assert!(x.pushed("swarm/feature"));
            assert_eq!(
                x.env.fake_calls().len(),
                1,
                "one pull request ({point} {skip})"
            );
            assert_run_files_valid(&x.env, &id);
            if !hit {
                break;
            }
        }
    }
}

/// Every failpoint in the code is exercised by one of the crash tests above.
#[test]
fn every_failpoint_has_a_test() {
    let mut found = std::collections::BTreeSet::new();
    fn scan(dir: &std::path::Path, found: &mut std::collections::BTreeSet<String>) {
        for e in std::fs::read_dir(dir).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                scan(&p, found);
            } else if p.extension().is_some_and(|x| x == "rs") {
                let text = std::fs::read_to_string(&p).unwrap();
                for part in text.split("failpoint!(\"").skip(1) {
                    let name = part.split('"').next().unwrap().to_string();
                    if !name.is_empty() && !name.contains('$') {
                        found.insert(name);
                    }
                }
            }
        }
    }
    scan(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &mut found,
    );
    let tested: std::collections::BTreeSet<String> = NEXT_POINTS
        .iter()
        .chain(PUBLISH_POINTS)
        .chain(MERGE_POINTS)
        .chain(
            [
                "start-before-status",
                "runner-launch-after",
                "runner-agent-ended",
                // tests/follow_crash.rs
                "follow-read-after",
                "follow-reply-before",
                "follow-reply-after",
                // tests/merge_fix_crash.rs
                "merge-conflict-after",
                "merge-conclude-before",
                // tests/sparse.rs
                "worktree-sparse-before-checkout",
                // tests/state_ref.rs
                "state-ref-before",
                "state-ref-after",
                // tests/distributed.rs
                "state-claimed",
                "state-push-before",
                "resume-written",
                "work-before-push",
                // tests/spares.rs
                "spare-add-before",
                "spare-add-after",
                "spare-moved",
                "spare-adopted",
            ]
            .iter(),
        )
        .map(|s| s.to_string())
        .collect();
    println!(
        "failpoints: {}",
        found.iter().cloned().collect::<Vec<_>>().join(", ")
    );
    let untested: Vec<_> = found.difference(&tested).collect();
    assert!(
        untested.is_empty(),
        "failpoints without a crash test: {untested:?}"
    );
}

/// `git worktree add` killed right after it made its record under `.git/worktrees` and locked
/// it `initializing`, before its `gitdir` (git lists no such record and never prunes it, being
/// locked): the next call removes it as the creation's own — with or without the empty
/// directory git had made — and makes the worktree once, leaving one record.
#[test]
fn a_worktree_record_git_never_finished_is_removed_not_left_beside_the_new_one() {
    for with_dir in [false, true] {
        let env = Env::new();
        let id = env.start("Add a greeting");
        play_planner(&env, &id, &simple_plan(&id));
        assert!(crashed(&env, &["next", "--json"], "worktree-add-before", 0));
        let wt = env.root().join("work-swarm-add-greeting");
        let record = env.work.join(".git/worktrees/work-swarm-add-greeting");
        std::fs::create_dir_all(&record).unwrap();
        std::fs::write(record.join("locked"), "initializing").unwrap();
        if with_dir {
            std::fs::create_dir_all(&wt).unwrap();
        }
        check_planner_to_implementor(&env, &id);
        let records: Vec<_> = std::fs::read_dir(env.work.join(".git/worktrees"))
            .unwrap()
            .flatten()
            .map(|e| e.file_name())
            .collect();
        assert_eq!(
            records.len(),
            1,
            "with its directory: {with_dir}: {records:?}"
        );
        assert!(
            !env.git(&["worktree", "list", "--porcelain"])
                .contains("locked"),
            "with its directory: {with_dir}"
        );
    }
}
