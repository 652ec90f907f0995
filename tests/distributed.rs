//! Runs that move between machines: several clones of one bare remote stand in for them.
//! The run's state travels as `refs/swarm/runs/<id>`; every transition of a remote-backed run
//! claims its step on the remote first, so of two machines exactly one advances a state.

mod common;

use std::path::{Path, PathBuf};

use common::agents::Exec;
use common::*;
use serde_json::Value;

/// A clone of the origin, as another machine has it.
fn machine(env: &Env, name: &str) -> PathBuf {
    let dir = env.root().join(name);
    env.git_in(
        &env.root(),
        &["clone", "-q", env.origin.to_str().unwrap(), name],
    );
    dir
}

fn sj_in(env: &Env, dir: &Path, args: &[&str]) -> Out {
    let mut a: Vec<&str> = args.to_vec();
    a.push("--json");
    env.swarm_in(dir, &a)
}

fn remote_state(env: &Env, id: &str) -> String {
    env.git_in(
        &env.origin,
        &["rev-parse", &format!("refs/swarm/runs/{id}")],
    )
}

fn remote_subjects(env: &Env, id: &str) -> Vec<String> {
    env.git_in(
        &env.origin,
        &["log", "--format=%s", &format!("refs/swarm/runs/{id}")],
    )
    .lines()
    .map(str::to_string)
    .collect()
}

/// Every file of a run folder (and the state ref), to prove a refused step changed nothing.
fn folder(env: &Env, dir: &Path, id: &str) -> Vec<(String, Vec<u8>)> {
    let run = dir.join(".swarm/runs").join(id);
    let mut out = Vec::new();
    let mut stack = vec![run.clone()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if !p.ends_with("lock") {
                out.push((
                    p.strip_prefix(&run).unwrap().display().to_string(),
                    std::fs::read(&p).unwrap(),
                ));
            }
        }
    }
    out.sort();
    out.push((
        "ref".into(),
        env.git_in(dir, &["rev-parse", &format!("refs/swarm/runs/{id}")])
            .into_bytes(),
    ));
    out
}

#[test]
fn a_run_started_on_one_machine_is_resumed_on_a_second_and_finished_on_a_third() {
    let x = Exec::new();
    let env = &x.env;
    let id = env.start("Add a greeting");
    let pushed = env.sj(&["push", "--run", &id]);
    pushed.code(0);
    assert_eq!(pushed.json()["remote"], "origin", "{}", pushed.stdout);
    let first = remote_state(env, &id);

    // Machine B takes it and drives it to the point of publishing.
    let b = machine(env, "b");
    let r = sj_in(env, &b, &["resume", &id]);
    r.code(0);
    assert_eq!(r.json()["action"], "invoke", "{}", r.stdout);
    let run = sj_in(env, &b, &["run", "--run", &id, "--no-publish"]);
    run.code(0);
    assert_eq!(run.json()["action"], "publish", "{}", run.stdout);
    // Paths in the state are B's.
    let st = read_json(&b.join(".swarm/runs").join(&id).join("run.status.json"));
    assert_eq!(st["swarm"]["workspace"], b.display().to_string());
    assert!(
        st["worktreePath"]
            .as_str()
            .unwrap()
            .starts_with(&b.display().to_string()),
        "{}",
        st["worktreePath"]
    );
    let subjects = remote_subjects(env, &id);
    assert!(
        subjects.iter().any(|s| s.starts_with("claim: ")),
        "{subjects:?}"
    );
    assert_ne!(remote_state(env, &id), first);

    // Machine C publishes it.
    let c = machine(env, "c");
    let r = sj_in(env, &c, &["resume", &id]);
    r.code(0);
    assert_eq!(r.json()["action"], "publish", "{}", r.stdout);
    let done = sj_in(env, &c, &["publish", "--run", &id]);
    done.code(0);
    assert_eq!(done.json()["action"], "done", "{}", done.stdout);
    let branch = st["branch"].as_str().unwrap();
    assert!(x.pushed(branch));
    // The remote's state is C's last one, and its history is the run's audit log.
    let c_ref = env.git_in(&c, &["rev-parse", &format!("refs/swarm/runs/{id}")]);
    assert_eq!(remote_state(env, &id), c_ref);
    let log = remote_subjects(env, &id);
    assert!(log.len() > 8, "{log:?}");

    // A's copy is stale: it is refused, and changes nothing. (A reaches the bare origin.)
    env.git(&["remote", "set-url", "origin", env.origin.to_str().unwrap()]);
    let before = folder(env, &env.work, &id);
    let stale = env.sj(&["next", "--run", &id]);
    stale.code(3);
    assert!(
        stale
            .error_message()
            .contains("advanced on another machine"),
        "{}",
        stale.stdout
    );
    assert_eq!(folder(env, &env.work, &id), before);
    assert_eq!(remote_state(env, &id), c_ref);
    // Resuming takes the newer state.
    env.sj(&["resume", &id]).code(0);
    assert_eq!(env.status(&id)["outcome"], "completed");
}

#[test]
fn of_two_machines_advancing_the_same_state_exactly_one_wins() {
    let env = Env::new();
    let id = env.start("Add a greeting");
    env.sj(&["push", "--run", &id]).code(0);
    let b = machine(&env, "b");
    sj_in(&env, &b, &["resume", &id]).code(0);
    // Both machines have the planner's result; both call next.
    for dir in [&env.work, &b] {
        let run = dir.join(".swarm/runs").join(&id);
        let mut plan = simple_plan(&id);
        plan["id"] = Value::from(id.clone());
        write_json(&run.join("plan.json"), &plan);
        write_json(
            &run.join("planner.result.json"),
            &serde_json::json!({"subagent": "planner", "status": "complete", "plan-id": id, "plan-path": run.join("plan.json").display().to_string()}),
        );
    }
    let before_b = folder(&env, &b, &id);
    env.sj(&["next", "--run", &id]).code(0);
    let won = remote_state(&env, &id);
    let lost = sj_in(&env, &b, &["next", "--run", &id]);
    lost.code(3);
    assert!(
        lost.error_message().contains("advanced on another machine"),
        "{}",
        lost.stdout
    );
    assert_eq!(folder(&env, &b, &id), before_b, "the loser changed nothing");
    assert_eq!(remote_state(&env, &id), won, "the winner's state stands");
    // No worktree was made on the loser.
    assert!(!env.git_in(&b, &["worktree", "list"]).contains("swarm"));
}

#[test]
fn a_stale_clone_never_overwrites_a_newer_state() {
    let env = Env::new();
    let id = env.start("Add a greeting");
    env.sj(&["push", "--run", &id]).code(0);
    let b = machine(&env, "b");
    sj_in(&env, &b, &["resume", &id]).code(0);
    play_planner_in(&env, &b, &id);
    sj_in(&env, &b, &["next", "--run", &id]).code(0);
    let newer = remote_state(&env, &id);
    // A, still backed by the remote, cannot take a step: its claim names its old state.
    let before = folder(&env, &env.work, &id);
    env.sj(&["abort", "--run", &id]).code(3);
    assert_eq!(folder(&env, &env.work, &id), before);
    // A copy that forgot the remote takes a step of its own and tries to push it.
    std::fs::remove_file(env.run_dir(&id).join(".state-remote.json")).unwrap();
    env.sj(&["abort", "--run", &id]).code(0);
    let p = env.sj(&["push", "--run", &id]);
    p.code(3);
    assert!(
        p.error_message().contains("has a state of run"),
        "{}",
        p.stdout
    );
    assert_eq!(remote_state(&env, &id), newer);
    // Even a forced local record cannot get through: the lease names A's old state.
    let git_push = env.git_ok(
        &env.work,
        &[
            "push",
            &format!(
                "--force-with-lease=refs/swarm/runs/{id}:{}",
                env.git(&["rev-parse", &format!("refs/swarm/runs/{id}")])
            ),
            "origin",
            &format!("refs/swarm/runs/{id}:refs/swarm/runs/{id}"),
        ],
    );
    assert!(!git_push);
    assert_eq!(remote_state(&env, &id), newer);
}

fn play_planner_in(env: &Env, dir: &Path, id: &str) {
    let run = dir.join(".swarm/runs").join(id);
    let mut plan = simple_plan(id);
    plan["id"] = Value::from(id.to_string());
    write_json(&run.join("plan.json"), &plan);
    write_json(
        &run.join("planner.result.json"),
        &serde_json::json!({"subagent": "planner", "status": "complete", "plan-id": id, "plan-path": run.join("plan.json").display().to_string()}),
    );
    let _ = env;
}

/// An Exec env whose machines all reach the bare origin, with a plan of two parallel tasks.
fn two_workers(sleep: &str) -> Exec {
    let x = Exec::new();
    x.env.git(&[
        "remote",
        "set-url",
        "origin",
        x.env.origin.to_str().unwrap(),
    ]);
    x.configure(
        vec![task("a", &["a.txt"], &[]), task("b", &["b.txt"], &[])],
        &[("implementor", &[("FAKE_SLEEP", sleep)])],
    );
    x
}

/// Coordinator: start, push, and run until the batch is handed out.
fn hand_out(x: &Exec) -> (String, Vec<String>) {
    let env = &x.env;
    let id = env.start("Two files");
    env.sj(&["push", "--run", &id]).code(0);
    let j = x.run(&["--run", &id, "--workers-elsewhere", "--no-publish"]);
    j.code(0);
    let j = j.json();
    assert_eq!(j["action"], "invoke", "{j}");
    let workers: Vec<String> = j["invocations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["worker"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(workers, ["w1", "w2"], "{j}");
    (id, workers)
}

fn finish(x: &Exec, id: &str) {
    let j = x.run(&["--run", id, "--workers-elsewhere", "--no-publish"]);
    j.code(0);
    let j = j.json();
    assert_eq!(j["action"], "publish", "{j}");
    let branch = j["branch"].as_str().unwrap().to_string();
    for (f, w) in [("a.txt", "w1"), ("b.txt", "w2")] {
        let text = x.env.git(&["show", &format!("{branch}:{f}")]);
        assert!(text.contains(&format!("written by {w}")), "{f}: {text}");
    }
}

#[test]
fn workers_run_in_their_own_clones_and_the_coordinator_merges_them() {
    let x = two_workers("0");
    let env = &x.env;
    let (id, workers) = hand_out(&x);
    for w in &workers {
        let m = machine(env, &format!("m-{w}"));
        let out = sj_in(env, &m, &["work", "--run", &id, "--worker", w]);
        out.code(0);
        assert_eq!(out.json()["action"], "result recorded", "{}", out.stdout);
        // Run again: nothing to do.
        let again = sj_in(env, &m, &["work", "--run", &id, "--worker", w]);
        again.code(0);
        assert_ne!(
            again.json()["action"],
            "result recorded",
            "{}",
            again.stdout
        );
    }
    let subjects = remote_subjects(env, &id);
    assert_eq!(
        subjects.iter().filter(|s| s.starts_with("work: ")).count(),
        2,
        "{subjects:?}"
    );
    finish(&x, &id);
    // Nothing of the workers' shows up as a branch on the remote.
    let heads = env.git_in(
        &env.origin,
        &["for-each-ref", "--format=%(refname)", "refs/heads"],
    );
    assert_eq!(heads.trim(), "refs/heads/main", "{heads}");
}

#[test]
fn a_worker_killed_on_one_machine_is_run_again_on_another() {
    let x = two_workers("3");
    let env = &x.env;
    let (id, _) = hand_out(&x);
    // Machine 1 starts w1 and dies with its agent (the whole process group).
    let m1 = machine(env, "m1");
    let mut child = env.command(&m1, &["work", "--run", &id, "--worker", "w1", "--json"]);
    use std::os::unix::process::CommandExt;
    child.process_group(0);
    let mut child = child.spawn().unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1500));
    unsafe {
        libc::kill(-(child.id() as i32), libc::SIGKILL);
    }
    assert!(!child.wait().unwrap().success(), "killed");
    let before = remote_subjects(env, &id);
    assert!(
        !before.iter().any(|s| s.starts_with("work: ")),
        "{before:?}"
    );
    // Machine 3 runs it, machine 2 runs w2.
    for (name, w) in [("m3", "w1"), ("m2", "w2")] {
        let m = machine(env, name);
        sj_in(env, &m, &["work", "--run", &id, "--worker", w]).code(0);
    }
    finish(&x, &id);
}

/// Runs `git swarm <args>` in `dir` with `point` armed to abort the process on its first hit;
/// `true` when it hit.
fn crashed_in(env: &Env, dir: &Path, args: &[&str], point: &str) -> bool {
    let out = env
        .command(dir, args)
        .env("FAILPOINTS", format!("{point}=return"))
        .output()
        .unwrap();
    out.status.code().is_none()
}

#[test]
fn a_step_killed_around_its_claim_or_its_push_is_finished_by_the_next_call() {
    for point in ["state-claimed", "state-push-before"] {
        let env = Env::new();
        let id = env.start("Add a greeting");
        env.sj(&["push", "--run", &id]).code(0);
        play_planner_in(&env, &env.work, &id);
        assert!(
            crashed_in(&env, &env.work, &["next", "--run", &id], point),
            "{point}"
        );
        // The next call takes its own claim (or pushes what it recorded) and goes on.
        let j = env.sj(&["next", "--run", &id]);
        j.code(0);
        assert_eq!(j.json()["action"], "invoke", "{point}: {}", j.stdout);
        let local = env.git(&["rev-parse", &format!("refs/swarm/runs/{id}")]);
        assert_eq!(remote_state(&env, &id), local, "{point}");
        // The recorded state is the folder's, and another machine sees the same step.
        let b = machine(&env, &format!("b-{point}"));
        let r = sj_in(&env, &b, &["resume", &id]);
        r.code(0);
        assert_eq!(
            r.json()["invocations"][0]["agent"],
            "implementor",
            "{point}: {}",
            r.stdout
        );
    }
}

#[test]
fn a_resume_cut_short_refuses_other_commands_until_it_is_done_again() {
    let env = Env::new();
    let id = env.start("Add a greeting");
    env.sj(&["push", "--run", &id]).code(0);
    let b = machine(&env, "b");
    assert!(crashed_in(&env, &b, &["resume", &id], "resume-written"));
    let next = sj_in(&env, &b, &["next", "--run", &id]);
    next.code(3);
    assert!(
        next.error_message().contains("cut short"),
        "{}",
        next.stdout
    );
    sj_in(&env, &b, &["resume", &id]).code(0);
    let j = sj_in(&env, &b, &["next", "--run", &id]);
    j.code(0);
    assert_eq!(
        j.json()["invocations"][0]["agent"],
        "planner",
        "{}",
        j.stdout
    );
}

#[test]
fn a_worker_killed_before_its_push_leaves_nothing_and_runs_again_elsewhere() {
    let x = two_workers("0");
    let env = &x.env;
    let (id, _) = hand_out(&x);
    let state = remote_state(env, &id);
    let m1 = machine(env, "m1");
    assert!(crashed_in(
        env,
        &m1,
        &["work", "--run", &id, "--worker", "w2"],
        "work-before-push"
    ));
    assert_eq!(
        remote_state(env, &id),
        state,
        "nothing of the dead worker's pushed"
    );
    for (name, w) in [("m2", "w2"), ("m3", "w1")] {
        let m = machine(env, name);
        sj_in(env, &m, &["work", "--run", &id, "--worker", w]).code(0);
    }
    finish(&x, &id);
}

/// A fetch killed while it moved its ref leaves the ref's lock: the next `resume` removes it
/// when nobody holds it (and says so) instead of failing on it for ever.
#[test]
fn a_lock_left_by_a_killed_fetch_does_not_stop_the_next_resume() {
    let env = Env::new();
    let id = env.start("Add a greeting");
    env.sj(&["push", "--run", &id]).code(0);
    let m = machine(&env, "m2");
    let lock = m.join(format!(".git/refs/swarm/fetched/{id}.lock"));
    std::fs::create_dir_all(lock.parent().unwrap()).unwrap();
    std::fs::write(&lock, "").unwrap();
    let out = sj_in(&env, &m, &["resume", &id]);
    out.code(0);
    assert!(out.stderr.contains("removed"), "{}", out.stderr);
    assert!(!lock.exists());
    assert_eq!(
        env.git_in(&m, &["rev-parse", &format!("refs/swarm/runs/{id}")]),
        remote_state(&env, &id)
    );
}
