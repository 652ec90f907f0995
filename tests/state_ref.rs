//! Run state in git: after every transition the run folder is recorded as a commit on
//! `refs/swarm/runs/<id>`, built without touching any index or worktree.

mod common;

use common::*;

fn subjects(env: &Env, id: &str) -> Vec<String> {
    env.git(&["log", "--format=%s", &format!("refs/swarm/runs/{id}")])
        .lines()
        .map(str::to_string)
        .collect()
}

#[test]
fn every_transition_is_a_commit_whose_tree_mirrors_the_run_folder() {
    let env = Env::new();
    let id = env.start("Add a greeting");
    assert_eq!(subjects(&env, &id).len(), 1, "{:?}", subjects(&env, &id));
    play_planner(&env, &id, &simple_plan(&id));
    env.sj(&["next"]).code(0);
    play_implementor(&env, &id, "completed");
    env.sj(&["next"]).code(0);
    let log = subjects(&env, &id);
    assert!(log.len() >= 3, "{log:?}");
    // The ref's tree holds the folder's files as they are.
    let status = std::fs::read_to_string(env.run_dir(&id).join("run.status.json")).unwrap();
    let recorded = env.git(&["show", &format!("refs/swarm/runs/{id}:run.status.json")]);
    assert_eq!(recorded.trim_end(), status.trim_end());
    let files = env.git(&[
        "ls-tree",
        "-r",
        "--name-only",
        &format!("refs/swarm/runs/{id}"),
    ]);
    assert!(files.lines().any(|f| f == "events.jsonl"), "{files}");
    assert!(files.lines().any(|f| f.starts_with("handoff")), "{files}");
    assert!(!files.contains(".state-"), "{files}");
    // Nothing of the user's changed: no index entry, no file in the worktree.
    assert_eq!(env.git(&["status", "--porcelain"]), "");
    assert_eq!(env.git(&["diff", "--cached", "--name-only"]), "");
    // Each commit's parent is the previous state.
    let parents = env.git(&[
        "rev-list",
        "--parents",
        "-n",
        "1",
        &format!("refs/swarm/runs/{id}"),
    ]);
    assert_eq!(parents.split_whitespace().count(), 2, "{parents}");
}

#[test]
fn a_state_ref_moved_by_someone_else_is_never_overwritten() {
    let env = Env::new();
    let id = env.start("Add a greeting");
    let r = format!("refs/swarm/runs/{id}");
    let before = env.git(&["rev-parse", &r]);
    // Someone points the ref elsewhere (a commit that is not the run's).
    let other = env.git(&[
        "commit-tree",
        "-m",
        "not the run's",
        &format!("{}^{{tree}}", "HEAD"),
    ]);
    env.git(&["update-ref", &r, other.trim(), before.trim()]);
    play_planner(&env, &id, &simple_plan(&id));
    let status = std::fs::read_to_string(env.run_dir(&id).join("run.status.json")).unwrap();
    let out = env.sj(&["next"]);
    assert_eq!(out.code, 3, "{}", out.stdout);
    assert!(out.stdout.contains("advanced elsewhere"), "{}", out.stdout);
    assert_eq!(env.git(&["rev-parse", &r]).trim(), other.trim());
    // Nothing changed here either: the folder's status is the one before.
    assert_eq!(
        std::fs::read_to_string(env.run_dir(&id).join("run.status.json")).unwrap(),
        status
    );
}

/// Killed between writing the folder and moving the ref (and right after): the next call
/// records on the ref as if nothing happened.
#[cfg(feature = "failpoints")]
#[test]
fn a_kill_around_the_ref_update_is_finished_by_the_next_call() {
    for point in ["state-ref-before", "state-ref-after"] {
        let env = Env::new();
        let id = env.start("Add a greeting");
        play_planner(&env, &id, &simple_plan(&id));
        assert!(env.crashed_at(&["next", "--json"], point, 0), "{point}");
        env.sj(&["next"]).code(0);
        let status = std::fs::read_to_string(env.run_dir(&id).join("run.status.json")).unwrap();
        let recorded = env.git(&["show", &format!("refs/swarm/runs/{id}:run.status.json")]);
        assert_eq!(recorded.trim_end(), status.trim_end(), "{point}");
    }
}

/// Killed inside the ref move itself: the ref's lock file is left. Nobody holds it, so the next
/// call (holding the run's lock) removes it, says so, and records; a lock some process holds
/// open is named, never removed, and never taken for a move on another machine (exit 1, not 3).
#[cfg(feature = "failpoints")]
#[test]
fn a_state_ref_lock_left_by_a_killed_move_is_removed_but_a_held_one_is_named() {
    let env = Env::new();
    let id = env.start("Add a greeting");
    play_planner(&env, &id, &simple_plan(&id));
    assert!(env.crashed_at(&["next", "--json"], "state-ref-before", 0));
    let lock = env.work.join(format!(".git/refs/swarm/runs/{id}.lock"));
    std::fs::write(&lock, "0000000000000000000000000000000000000000\n").unwrap();
    let held = std::fs::File::open(&lock).unwrap();
    let out = env.sj(&["next"]);
    assert_eq!(out.code, 1, "{}", out.stdout);
    assert!(
        out.stdout.contains(&lock.display().to_string()),
        "{}",
        out.stdout
    );
    assert!(lock.exists());
    drop(held);
    let out = env.sj(&["next"]);
    out.code(0);
    assert!(out.stderr.contains("removed"), "{}", out.stderr);
    assert!(!lock.exists());
    let status = std::fs::read_to_string(env.run_dir(&id).join("run.status.json")).unwrap();
    let recorded = env.git(&["show", &format!("refs/swarm/runs/{id}:run.status.json")]);
    assert_eq!(recorded.trim_end(), status.trim_end());
}

/// What agents leave in the run folder is recorded within bounds: a log by its last 256 KiB
/// (only those are read), a file outside `logs/` over 16 MiB not at all — the transition goes
/// on either way.
#[test]
fn logs_are_recorded_by_their_end_and_huge_files_are_left_out() {
    let env = Env::new();
    let id = env.start("Add a greeting");
    let dir = env.run_dir(&id);
    std::fs::create_dir_all(dir.join("logs")).unwrap();
    let mut log = vec![b'a'; 100 * 1024];
    log.extend(std::iter::repeat_n(b'z', 256 * 1024));
    std::fs::write(dir.join("logs/planner.log"), &log).unwrap();
    let huge = std::fs::File::create(dir.join("dump.bin")).unwrap();
    huge.set_len(16 * 1024 * 1024 + 1).unwrap();
    std::fs::write(dir.join("small.txt"), "kept\n").unwrap();
    play_planner(&env, &id, &simple_plan(&id));
    env.sj(&["next"]).code(0);
    let r = format!("refs/swarm/runs/{id}");
    let size = env.git(&["cat-file", "-s", &format!("{r}:logs/planner.log")]);
    assert_eq!(size.trim(), (256 * 1024).to_string());
    let tail = env.git(&["cat-file", "-p", &format!("{r}:logs/planner.log")]);
    assert!(tail.bytes().all(|b| b == b'z'), "the log's end is recorded");
    let files = env.git(&["ls-tree", "-r", "--name-only", &r]);
    assert!(!files.lines().any(|f| f == "dump.bin"), "{files}");
    assert!(files.lines().any(|f| f == "small.txt"), "{files}");
}
