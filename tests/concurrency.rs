//! Concurrency: 16 callers of next and of publish on one run, two runs advancing at once in one
//! repository, and a lock left by a process that died.

mod common;

use common::*;
use std::process::{Output, Stdio};

fn many(env: &Env, n: usize, args: &[&str]) -> Vec<Output> {
    let children: Vec<_> = (0..n)
        .map(|_| {
            env.command(&env.work, args)
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    children
        .into_iter()
        .map(|c| c.wait_with_output().unwrap())
        .collect()
}

#[test]
fn sixteen_nexts_make_one_transition_each_time() {
    let env = Env::new();
    let id = env.start("Add a greeting");
    play_planner(&env, &id, &simple_plan(&id));
    for o in many(&env, 16, &["next", "--json"]) {
        assert_eq!(
            o.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&o.stderr)
        );
        let j: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(j["invocations"][0]["agent"], "implementor");
    }
    assert_eq!(env.status(&id)["swarm"]["seq"], 2);
    play_implementor(&env, &id, "completed");
    let outs = many(&env, 16, &["next", "--json"]);
    assert!(outs.iter().all(|o| o.status.code() == Some(0)));
    let st = env.status(&id);
    assert_eq!(st["swarm"]["seq"], 3, "one more transition");
    assert_eq!(st["current-step"], "reviewer");
    let events = std::fs::read_to_string(env.run_dir(&id).join("events.jsonl")).unwrap();
    assert_eq!(
        events.matches("\"WORKER_COMPLETED\"").count(),
        2,
        "planner and implementor, once each"
    );
    assert_run_files_valid(&env, &id);
}

#[test]
fn sixteen_publishers_open_one_pull_request() {
    let mut env = Env::new();
    env.remote_looks_like("https://github.com/acme/app.git");
    env.fake_tool(
        "gh",
        r#"count="$FAKE_LOG.created"
if [ -f "$count" ]; then echo 'a pull request for branch "swarm/add-greeting" into branch "main" already exists:' >&2; echo https://github.com/acme/app/pull/1 >&2; exit 1; fi
echo 1 >> "$count"; sleep 0.2; echo https://github.com/acme/app/pull/1"#,
    );
    let (id, _) = env.run_to_publish();
    let outs = many(&env, 16, &["publish", "--run", &id, "--json"]);
    for o in &outs {
        assert_eq!(
            o.status.code(),
            Some(0),
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
    }
    let created = std::fs::read_to_string(env.root().join("fake.log.created")).unwrap();
    assert_eq!(created.lines().count(), 1, "exactly one pull request");
    assert_eq!(
        env.fake_calls().len(),
        1,
        "gh ran once: the other publishers found the run completed"
    );
    let st = env.status(&id);
    assert_eq!(st["outcome"], "completed");
    assert_eq!(st["prUrl"], "https://github.com/acme/app/pull/1");
}

#[test]
fn two_runs_in_one_repository_advance_at_the_same_time() {
    let env = Env::new();
    let a = env.start("First");
    let b = env.start("Second");
    // Both plans want the same branch name.
    play_planner(&env, &a, &simple_plan(&a));
    play_planner(&env, &b, &simple_plan(&b));
    let mut children = Vec::new();
    for _ in 0..4 {
        for id in [&a, &b] {
            children.push(
                env.command(&env.work, &["next", "--run", id, "--json"])
                    .stdout(Stdio::piped())
                    .stderr(Stdio::piped())
                    .spawn()
                    .unwrap(),
            );
        }
    }
    for c in children {
        let o = c.wait_with_output().unwrap();
        assert_eq!(
            o.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
    let (sa, sb) = (env.status(&a), env.status(&b));
    let mut branches = vec![
        sa["branch"].as_str().unwrap().to_string(),
        sb["branch"].as_str().unwrap().to_string(),
    ];
    branches.sort();
    assert_eq!(
        branches,
        ["swarm/add-greeting", "swarm/add-greeting-2"],
        "never the same branch"
    );
    assert_ne!(sa["worktreePath"], sb["worktreePath"]);
    assert_eq!(sa["swarm"]["seq"], 2);
    assert_eq!(sb["swarm"]["seq"], 2);
    assert_eq!(env.git(&["worktree", "list"]).lines().count(), 3);
    assert_run_files_valid(&env, &a);
    assert_run_files_valid(&env, &b);
}

#[cfg(feature = "failpoints")]
#[test]
fn a_lock_left_by_a_dead_process_is_recovered_with_a_message() {
    let env = Env::new();
    let id = env.start("Add a greeting");
    // Kill a `next` right after it took the run's lock.
    let o = env
        .command(&env.work, &["next", "--json"])
        .env("FAILPOINTS", "lock-after=return")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), None, "aborted");
    let out = env.swarm(&["next", "--json"]);
    out.code(0);
    assert!(
        out.stderr
            .contains(&format!("recovered the lock of run {id}")),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("which ended without releasing it"),
        "{}",
        out.stderr
    );
    // Recovered once: the next caller sees a clean lock.
    let again = env.swarm(&["next", "--json"]);
    assert!(!again.stderr.contains("recovered"), "{}", again.stderr);
}

#[test]
fn a_busy_run_refuses_after_waiting() {
    let mut env = Env::new();
    env.extra_env
        .push(("GIT_SWARM_LOCK_TIMEOUT_MS".into(), "300".into()));
    let id = env.start("Add a greeting");
    // Hold the run's lock (an OS lock, as another git swarm would) from this test process.
    let lock = env.run_dir(&id).join(".lock");
    let held = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(&lock)
        .unwrap();
    held.lock().unwrap();
    let out = env.sj(&["next"]);
    out.code(3);
    assert!(
        out.error_message()
            .contains(&format!("run {id} is locked by another git swarm command")),
        "{}",
        out.stdout
    );
    assert!(out.error_message().contains(".lock"));
    held.unlock().unwrap();
    env.sj(&["next"]).code(0);
}
