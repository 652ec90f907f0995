//! Exec mode with fake agents behind real exec templates: a whole run to a pushed branch,
//! parallel batches, dependency order, serialised overlaps, guard rails, crashes, hangs,
//! invalid results, Ctrl-C and resume; and parallel batches in host mode.

mod common;

use common::agents::Exec;
use common::*;
use serde_json::{Value, json};
use std::path::PathBuf;
use std::time::{Duration, Instant};

fn at(e: &Value) -> std::time::SystemTime {
    humantime::parse_rfc3339_weak(e["at"].as_str().unwrap()).unwrap()
}

#[test]
fn run_drives_a_whole_pipeline_to_a_pushed_branch_and_a_pr() {
    let x = Exec::new();
    let out = x.run(&["Add a greeting"]);
    out.code(0);
    let j = out.json();
    assert_eq!(j["action"], "done", "{j}");
    let id = j["run-id"].as_str().unwrap();
    let st = x.env.status(id);
    assert_eq!(st["outcome"], "completed");
    assert_eq!(st["prUrl"], "https://github.com/acme/app/pull/9");
    assert!(x.pushed("swarm/feature"));
    for a in ["planner", "implementor", "reviewer", "tester"] {
        let log = x.env.run_dir(id).join(format!(
            "logs/step-000{}.{a}.log",
            match a {
                "planner" => 1,
                "implementor" => 2,
                "reviewer" => 3,
                _ => 4,
            }
        ));
        let text =
            std::fs::read_to_string(&log).unwrap_or_else(|_| panic!("{} missing", log.display()));
        assert!(text.contains(&format!("{a}: done")), "{text}");
    }
    assert_run_files_valid(&x.env, id);
}

#[test]
fn the_demo_agents_run_through_exec_templates_too() {
    let x = Exec::new();
    let mut cfg = x.env.config();
    cfg["exec"] = json!([BIN, "demo-agent", "{agent}"]);
    x.env.set_config(&cfg);
    let j = x.run(&["Add a greeting"]).json();
    assert_eq!(j["action"], "done", "{j}");
    let id = j["run-id"].as_str().unwrap();
    let signals: Vec<String> = x
        .events(id)
        .iter()
        .map(|e| e["signal"].as_str().unwrap().to_string())
        .collect();
    assert!(signals.contains(&"BATCH_MERGED".to_string()));
    assert_eq!(
        signals.iter().filter(|s| *s == "LOOP").count(),
        1,
        "one review rejection"
    );
    assert!(x.pushed("swarm/demo-greeting"));
    let shown = x.env.git(&["show", "swarm/demo-greeting:scripts/greet.sh"]);
    assert!(shown.contains("usage"), "{shown}");
}

#[test]
fn three_independent_two_second_tasks_run_as_one_parallel_batch() {
    let x = Exec::new();
    x.configure(
        vec![
            task("a", &["a.txt"], &[]),
            task("b", &["b.txt"], &[]),
            task("c", &["c.txt"], &[]),
        ],
        &[("implementor", &[("FAKE_SLEEP", "2")])],
    );
    let j = x.run(&["Three files"]).json();
    assert_eq!(j["action"], "done", "{j}");
    let id = j["run-id"].as_str().unwrap();
    let ev = x.events(id);
    let assigned: Vec<&Value> = ev
        .iter()
        .filter(|e| e["signal"] == "WORKER_ASSIGNED" && e["agent"] == "implementor")
        .collect();
    assert_eq!(assigned.len(), 3, "three workers");
    assert!(assigned.iter().all(|e| e["step"] == 2), "one batch");
    let merged = ev.iter().find(|e| e["signal"] == "BATCH_MERGED").unwrap();
    let batch = at(merged).duration_since(at(assigned[0])).unwrap();
    assert!(
        batch < Duration::from_secs(4),
        "the batch took {batch:?}; serial would be 6 s"
    );
    for f in ["a.txt", "b.txt", "c.txt"] {
        assert!(
            x.env
                .git(&["show", &format!("swarm/feature:{f}")])
                .contains("written by w")
        );
    }
    // Worker branches and worktrees are gone after the merge.
    assert!(
        !x.env
            .git(&["branch", "--list", "swarm/feature--w*"])
            .contains("--w")
    );
    assert_eq!(x.env.git(&["worktree", "list"]).lines().count(), 1);
}

#[test]
fn a_dependency_chain_runs_in_order_and_overlapping_files_are_serialised() {
    let x = Exec::new();
    x.configure(
        vec![
            task("first", &["a.txt"], &[]),
            task("second", &["b.txt"], &["first"]),
            task("third", &["c.txt"], &["second"]),
            task("again", &["a.txt"], &[]),
        ],
        &[],
    );
    let j = x.run(&["Chain"]).json();
    assert_eq!(j["action"], "done", "{j}");
    let id = j["run-id"].as_str().unwrap();
    let done: Vec<String> = x
        .events(id)
        .iter()
        .filter(|e| e["signal"] == "SUBTASK_COMPLETE")
        .map(|e| {
            e["message"]
                .as_str()
                .unwrap()
                .split(' ')
                .next()
                .unwrap()
                .to_string()
        })
        .collect();
    let pos = |t: &str| done.iter().position(|d| d == t).unwrap();
    assert!(
        pos("first") < pos("second") && pos("second") < pos("third"),
        "{done:?}"
    );
    // "again" shares a.txt with "first": never in the same batch.
    let steps: Vec<(String, u64)> = x
        .events(id)
        .iter()
        .filter(|e| e["signal"] == "SUBTASK_COMPLETE")
        .map(|e| {
            (
                e["message"]
                    .as_str()
                    .unwrap()
                    .split(' ')
                    .next()
                    .unwrap()
                    .to_string(),
                e["step"].as_u64().unwrap(),
            )
        })
        .collect();
    let step_of = |t: &str| steps.iter().find(|(n, _)| n == t).unwrap().1;
    assert_ne!(step_of("first"), step_of("again"));
    assert_eq!(
        x.env.git(&["show", "swarm/feature:a.txt"]).lines().count(),
        2,
        "both tasks wrote a.txt, one after the other"
    );
}

#[test]
fn work_outside_allowed_files_is_sent_back_and_never_pushed() {
    let x = Exec::new();
    x.configure(
        vec![task("t1", &["src/lib.rs"], &[])],
        &[("implementor", &[("FAKE_MODE", "outside")])],
    );
    let out = x.run(&["Sneaky"]);
    out.code(4);
    let j = out.json();
    assert_eq!(j["outcome"], "needs-human");
    assert!(
        j["message"]
            .as_str()
            .unwrap()
            .contains("outside.txt is outside context.allowedFiles"),
        "{j}"
    );
    let id = j["run-id"].as_str().unwrap();
    let st = x.env.status(id);
    assert!(
        st["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|w| w["reason"] == "guard-rail")
    );
    assert_eq!(st["retry-counts"]["implementor"], 1);
    assert!(!x.pushed("swarm/feature"), "violating work is never pushed");
    let h = handoff(&x.env, id);
    assert!(
        h["context"]["feedback"].to_string().contains("outside.txt"),
        "the violation is in the handoff"
    );
}

#[test]
fn a_violation_undone_on_the_second_attempt_is_accepted() {
    let x = Exec::new();
    x.configure(
        vec![
            task("t1", &["src/lib.rs"], &[]),
            task("t2", &["docs/x.md"], &[]),
        ],
        &[("implementor", &[("FAKE_MODE", "outside-once")])],
    );
    let j = x.run(&["Sneaky once"]).json();
    assert_eq!(j["action"], "done", "{j}");
    let id = j["run-id"].as_str().unwrap();
    assert!(
        x.events(id)
            .iter()
            .any(|e| e["signal"] == "GUARD_VIOLATION")
    );
    assert!(
        !x.env.git_ok(
            &x.env.work,
            &["cat-file", "-e", "swarm/feature:outside.txt"]
        ),
        "the out-of-scope file never reached the branch"
    );
}

#[test]
fn a_crashing_agent_is_relaunched_then_fails_the_run_with_its_log() {
    let x = Exec::new();
    x.configure(
        vec![task("t1", &["src/lib.rs"], &[])],
        &[("reviewer", &[("FAKE_MODE", "crash")])],
    );
    let out = x.run(&["Crash"]);
    out.code(5);
    let j = out.json();
    let msg = j["message"].as_str().unwrap();
    assert!(
        msg.contains("reviewer ended (exit 1) without writing its result"),
        "{msg}"
    );
    assert!(
        msg.contains("reviewer: crashing"),
        "the log's tail is in the reason: {msg}"
    );
    let id = j["run-id"].as_str().unwrap();
    let calls =
        std::fs::read_to_string(x.env.run_dir(id).join("reviewer.result.json.calls")).unwrap();
    assert_eq!(calls.trim(), "2", "one relaunch (maxRetries 1)");
}

#[test]
fn a_failure_quotes_the_agents_own_words() {
    let x = Exec::new();
    // What Claude Code prints when it was refused: one long JSON line.
    let report = r#"{"type":"result","subtype":"success","is_error":true,"result":"I was not allowed to write the result file.","permission_denials":[{"tool_name":"Write","tool_use_id":"t1","tool_input":{"file_path":"/x/reviewer.result.json","content":"{}"}},{"tool_name":"Bash","tool_use_id":"t2","tool_input":{"command":"sh test.sh"}}],"usage":{"input_tokens":10,"output_tokens":2}}"#;
    x.configure(
        vec![task("t1", &["src/lib.rs"], &[])],
        &[(
            "reviewer",
            &[("FAKE_MODE", "crash"), ("FAKE_USAGE", report)],
        )],
    );
    let j = x.run(&["Refused"]).json();
    let msg = j["message"].as_str().unwrap();
    assert!(
        msg.contains("reviewer ended (exit 1) without writing its result")
            && msg.contains("the CLI reported an error")
            && msg.contains("its final message: \"I was not allowed to write the result file.\"")
            && msg.contains(
                "permission denied 2 times: Write /x/reviewer.result.json; Bash sh test.sh"
            ),
        "{msg}"
    );
    let id = j["run-id"].as_str().unwrap();
    let reason = x.env.status(id)["failure-reason"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(reason.contains("permission denied 2 times"), "{reason}");
}

#[test]
fn a_hanging_agent_is_killed_with_its_process_group() {
    let x = Exec::new();
    x.configure(
        vec![task("t1", &["src/lib.rs"], &[])],
        &[("reviewer", &[("FAKE_MODE", "hang")])],
    );
    let mut cfg = x.env.config();
    cfg["subagents"][2]["timeoutSeconds"] = json!(1);
    x.env.set_config(&cfg);
    let t = Instant::now();
    let out = x.run(&["Hang"]);
    out.code(5);
    assert!(t.elapsed() < Duration::from_secs(20));
    let j = out.json();
    assert!(
        j["message"]
            .as_str()
            .unwrap()
            .contains("timed out after 1 s"),
        "{j}"
    );
    let id = j["run-id"].as_str().unwrap();
    let pid = std::fs::read_to_string(x.env.run_dir(id).join("hung.pid")).unwrap();
    std::thread::sleep(Duration::from_millis(200));
    // Gone, or a zombie waiting for a reaper (the kill reached it either way).
    let stat = std::fs::read_to_string(format!("/proc/{}/stat", pid.trim())).unwrap_or_default();
    let state = stat
        .rsplit(')')
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .next()
        .unwrap_or("X");
    assert!(
        stat.is_empty() || state == "Z",
        "the agent's child process survived: {stat}"
    );
}

#[test]
fn an_invalid_result_is_relaunched_with_its_violations() {
    let x = Exec::new();
    x.configure(
        vec![task("t1", &["src/lib.rs"], &[])],
        &[("tester", &[("FAKE_MODE", "invalid-once")])],
    );
    let j = x.run(&["Invalid once"]).json();
    assert_eq!(j["action"], "done", "{j}");
    let id = j["run-id"].as_str().unwrap();
    let h = read_json(&x.env.run_dir(id).join("handoff.tester.json"));
    assert!(
        h["context"]["feedback"].to_string().contains("/subagent"),
        "{h}"
    );
    assert_eq!(h["iteration"], 2);
    // The relaunch prompt itself says what was wrong.
    let prompt =
        std::fs::read_to_string(x.env.run_dir(id).join("tester.result.json.prompt.2")).unwrap();
    assert!(
        prompt.contains("Fix all of this first (also in context.feedback): 1) your result")
            && prompt.contains("/subagent"),
        "{prompt}"
    );
    assert!(
        std::fs::read_dir(x.env.run_dir(id).join("archive"))
            .unwrap()
            .flatten()
            .any(|e| e.file_name().to_string_lossy().contains("tester.invalid"))
    );
}

#[test]
fn ctrl_c_stops_the_agents_and_the_run_resumes() {
    let x = Exec::new();
    x.configure(
        vec![task("t1", &["src/lib.rs"], &[])],
        &[("reviewer", &[("FAKE_SLEEP", "30")])],
    );
    let child = x
        .env
        .command(&x.env.work, &["run", "Interrupt me", "--json"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until the reviewer is running.
    let deadline = Instant::now() + Duration::from_secs(20);
    let log = loop {
        let found = std::fs::read_dir(x.env.work.join(".swarm/runs"))
            .ok()
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path().join("logs/step-0003.reviewer.log"))
            .find(|p| p.exists());
        if let Some(l) = found {
            break l;
        }
        assert!(Instant::now() < deadline, "the reviewer never started");
        std::thread::sleep(Duration::from_millis(50));
    };
    std::thread::sleep(Duration::from_millis(300));
    unsafe {
        libc::kill(child.id() as i32, libc::SIGINT);
    }
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(130),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let id = log
        .parent()
        .unwrap()
        .parent()
        .unwrap()
        .file_name()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    assert_eq!(x.env.status(&id)["outcome"], "in-progress");
    assert!(String::from_utf8_lossy(&out.stdout).contains(&format!("git swarm run --run {id}")));
    // The stop was the user's: it is recorded, and it costs no retry.
    let st = x.env.status(&id);
    assert!(st["retry-counts"].get("reviewer").is_none(), "{st}");
    assert!(
        x.events(&id)
            .iter()
            .any(|e| e["signal"] == "STOPPED" && e["agent"] == "reviewer"),
        "the stop is an event"
    );
    // Resume, with a reviewer that does not sleep.
    x.configure(vec![task("t1", &["src/lib.rs"], &[])], &[]);
    let j = x.run(&["--run", &id]).json();
    assert_eq!(j["action"], "done", "{j}");
}

/// The id of the only run in the workspace, once it exists.
fn only_run(x: &Exec) -> Option<String> {
    std::fs::read_dir(x.env.work.join(".swarm/runs"))
        .ok()?
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .find(|n| !n.starts_with('.'))
}

/// How many times the fake agent was launched for a result file.
fn calls(x: &Exec, id: &str, stem: &str) -> u32 {
    std::fs::read_to_string(x.env.run_dir(id).join(format!("{stem}.result.json.calls")))
        .map(|t| t.trim().parse().unwrap())
        .unwrap_or(0)
}

#[test]
fn a_run_killed_while_its_agent_works_waits_for_that_agent_instead_of_launching_another() {
    let x = Exec::new();
    x.configure(
        vec![task("t1", &["src/lib.rs"], &[])],
        &[("implementor", &[("FAKE_SLEEP", "2")])],
    );
    let mut child = x
        .env
        .command(&x.env.work, &["run", "Kill me", "--json"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Wait until the implementor's launch is recorded, then SIGKILL the runner alone: the
    // agent, in its own process group, goes on working.
    let deadline = Instant::now() + Duration::from_secs(30);
    let id = loop {
        // The launch is recorded in the status (events are appended just before it).
        if let Some(id) = only_run(&x)
            && std::fs::read_to_string(x.env.run_dir(&id).join("run.status.json"))
                .ok()
                .and_then(|t| serde_json::from_str::<Value>(&t).ok())
                .is_some_and(|st| {
                    st["swarm"]["pending"][0]["agent"] == "implementor"
                        && st["swarm"]["pending"][0]["process"]["pid"].is_u64()
                })
        {
            break id;
        }
        assert!(Instant::now() < deadline, "the implementor never started");
        std::thread::sleep(Duration::from_millis(20));
    };
    child.kill().unwrap();
    child.wait().unwrap();
    let pid = x.env.status(&id)["swarm"]["pending"][0]["process"]["pid"]
        .as_u64()
        .unwrap();
    assert!(
        std::path::Path::new(&format!("/proc/{pid}")).exists(),
        "the agent outlived its runner"
    );
    let out = x.run(&["--run", &id]);
    let j = out.json();
    assert_eq!(j["action"], "done", "{j}\n{}", out.stderr);
    assert!(
        out.stderr.contains(&format!(
            "implementor (pid {pid}) was left running by an earlier 'git swarm run'; waiting for it"
        )),
        "{}",
        out.stderr
    );
    assert_eq!(
        calls(&x, &id, "implementor"),
        1,
        "one implementor, never two"
    );
    assert!(
        x.env.status(&id)["retry-counts"]
            .get("implementor")
            .is_none()
    );
    assert_run_files_valid(&x.env, &id);
}

#[cfg(feature = "failpoints")]
#[test]
fn a_resumed_run_continues_the_relaunch_count() {
    let x = Exec::new();
    x.configure(
        vec![task("t1", &["src/lib.rs"], &[])],
        &[("reviewer", &[("FAKE_MODE", "crash"), ("FAKE_SLEEP", "1")])],
    );
    let mut cfg = x.env.config();
    cfg["retry-control"] = json!({"maxRetries": 2});
    x.env.set_config(&cfg);
    // Launches: planner, implementor, reviewer, then the reviewer's first relaunch — the
    // runner dies right after starting it, before recording its pid.
    let out = x
        .env
        .command(&x.env.work, &["run", "Crash the reviewer", "--json"])
        .env("FAILPOINTS", "runner-launch-after=3*off->return")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), None, "the failpoint killed the runner");
    let id = only_run(&x).unwrap();
    let st = x.env.status(&id);
    assert_eq!(
        st["retry-counts"]["reviewer"], 1,
        "recorded before the relaunch: {st}"
    );
    let out = x.run(&["--run", &id]);
    out.code(5);
    let st = x.env.status(&id);
    // The budget held across the restart: 1 + maxRetries launches, not more.
    assert_eq!(calls(&x, &id, "reviewer"), 3, "{st}");
    assert_eq!(st["retry-counts"]["reviewer"], 2, "{st}");
    let relaunches: Vec<Value> = x
        .events(&id)
        .into_iter()
        .filter(|e| e["signal"] == "RELAUNCH")
        .collect();
    assert_eq!(relaunches.len(), 2, "{relaunches:?}");
    assert!(
        relaunches[1]["message"]
            .as_str()
            .unwrap()
            .starts_with("attempt 3 of 3: ended"),
        "{relaunches:?}"
    );
    // The relaunch the killed runner started was found and waited for, not launched again.
    assert!(
        out.stderr
            .contains("was left running by an earlier 'git swarm run'"),
        "{}",
        out.stderr
    );
    let reason = st["failure-reason"].as_str().unwrap();
    assert!(reason.contains("launched 3 times"), "{reason}");
    let prompt =
        std::fs::read_to_string(x.env.run_dir(&id).join("reviewer.result.json.prompt.3")).unwrap();
    assert!(
        prompt.contains(&format!(
            "Fix all of this first (also in context.feedback): 1) your previous attempt ended (while no 'git swarm run' watched it) without writing its result {}",
            x.env.run_dir(&id).join("reviewer.result.json").display()
        )),
        "{prompt}"
    );
    assert_run_files_valid(&x.env, &id);
}

#[test]
fn host_mode_gets_a_whole_batch_at_once() {
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
    let j = env.sj(&["next"]).json();
    let inv = j["invocations"].as_array().unwrap();
    assert_eq!(inv.len(), 2, "{j}");
    assert_eq!(inv[0]["worker"], "w1");
    assert_eq!(inv[1]["worker"], "w2");
    assert_ne!(
        inv[0]["cwd"], inv[1]["cwd"],
        "each worker has its own worktree"
    );
    let h1 = read_json(&PathBuf::from(inv[0]["handoff"].as_str().unwrap()));
    assert_eq!(h1["context"]["allowedFiles"], json!(["a.txt"]));
    assert_eq!(h1["context"]["tasks"][0]["task-id"], "a");
    assert!(j["message"].as_str().unwrap().contains("in parallel"));
    // Only one worker done: the same batch is still awaited.
    let w1 = PathBuf::from(inv[0]["cwd"].as_str().unwrap());
    std::fs::write(w1.join("a.txt"), "a").unwrap();
    write_json(
        &PathBuf::from(inv[0]["result"].as_str().unwrap()),
        &json!({"schemaVersion": "1.0", "subagent": "implementor", "status": "completed", "runId": id, "handoffId": h1["handoffId"], "iteration": 1, "summary": "a", "filesChanged": ["a.txt"], "checks": {}}),
    );
    let j = env.sj(&["next"]).json();
    assert_eq!(j["invocations"].as_array().unwrap().len(), 1);
    assert_eq!(j["invocations"][0]["worker"], "w2");
    let st = env.swarm(&["status"]);
    assert!(st.stdout.contains("implementor[w1]"), "{}", st.stdout);
    let w2 = PathBuf::from(inv[1]["cwd"].as_str().unwrap());
    let h2 = read_json(&PathBuf::from(inv[1]["handoff"].as_str().unwrap()));
    std::fs::write(w2.join("b.txt"), "b").unwrap();
    write_json(
        &PathBuf::from(inv[1]["result"].as_str().unwrap()),
        &json!({"schemaVersion": "1.0", "subagent": "implementor", "status": "completed", "runId": id, "handoffId": h2["handoffId"], "iteration": 1, "summary": "b", "filesChanged": ["b.txt"], "checks": {}}),
    );
    let j = env.sj(&["next"]).json();
    assert_eq!(j["invocations"][0]["agent"], "reviewer", "{j}");
    let h = handoff(&env, &id);
    assert!(
        h["context"]["stepSummary"]
            .as_str()
            .unwrap()
            .contains("w1 (a): a"),
        "{h}"
    );
    assert_eq!(h["context"]["filesChanged"], json!(["a.txt", "b.txt"]));
    let wt = PathBuf::from(j["invocations"][0]["cwd"].as_str().unwrap());
    assert_eq!(
        std::fs::read_to_string(wt.join("a.txt")).unwrap(),
        "a",
        "uncommitted worker work is committed and merged"
    );
    assert_eq!(std::fs::read_to_string(wt.join("b.txt")).unwrap(), "b");
    assert_eq!(w1, wt, "the first worker works in the run's own worktree");
    assert!(
        !w2.exists(),
        "the other workers' worktrees are removed after the merge"
    );
    let plan_md = std::fs::read_to_string(env.run_dir(&id).join("MANAGER_PLAN.md")).unwrap();
    assert!(plan_md.contains("[w1] a"), "{plan_md}");
    assert_run_files_valid(&env, &id);
}

#[test]
fn doctor_shows_what_each_agent_would_run_and_whether_its_cli_is_there() {
    let mut env = Env::new();
    let bin = env.fake_tool("claude", "echo '2.1.332 (Claude Code)'");
    // Only the fake tools and the system's own programs: no agent CLI found by accident.
    env.extra_env.push((
        "PATH".into(),
        format!("{}:/usr/bin:/bin", bin.parent().unwrap().display()),
    ));
    let mut cfg = env.config();
    cfg["subagents"][0]["exec"] = json!("claude");
    cfg["subagents"][1]["exec"] = json!({"profile": "codex", "model": "gpt-5.5"});
    cfg["subagents"][2]["exec"] = json!([
        "my-agent",
        "--token=https://u:secret@example.com/x",
        "{prompt}"
    ]);
    env.set_config(&cfg);
    let out = env.swarm(&["doctor"]);
    let text = out.stdout;
    assert!(
        text.contains("[ok  ] planner exec: claude -p --output-format json --permission-mode default --tools Read,Write,Glob,Grep,Bash --allowedTools"),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "{} (version 2.1.332 (Claude Code))",
            bin.display()
        )),
        "{text}"
    );
    assert!(
        text.contains("[warn] implementor exec: codex exec --json --skip-git-repo-check -C '<worktree>' --model gpt-5.5 --sandbox workspace-write"),
        "{text}"
    );
    assert!(text.contains("codex is not found on PATH"), "{text}");
    // A template is shown with its placeholders; credentials never.
    assert!(text.contains("reviewer exec: my-agent"), "{text}");
    assert!(!text.contains("secret"), "{text}");
    // The tester has no exec: host mode only.
    assert!(
        text.contains("[warn] tester exec: agent 'tester' has no exec"),
        "{text}"
    );
    let j = env.sj(&["doctor"]).json();
    assert!(
        j["checks"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["check"] == "planner exec" && c["level"] == "ok"),
        "{j}"
    );
}
