//! A merge-fix pass survives a crash (the process aborted like kill -9) at every failpoint of
//! the transitions around it: starting the conflicting merge and handing the pass out, then
//! concluding the resolved merge. Running `next` again ends as an uninterrupted run: one merge
//! in progress with its markers and one pass; then one merge commit, no worker left behind.
#![cfg(feature = "failpoints")]

mod common;

use std::path::{Path, PathBuf};

use common::*;
use serde_json::{Value, json};

fn result(id: &str, inv: &Value) {
    let h = read_json(Path::new(inv["handoff"].as_str().unwrap()));
    write_json(
        Path::new(inv["result"].as_str().unwrap()),
        &json!({"schemaVersion": "1.0", "subagent": "implementor", "status": "completed", "runId": id,
                "handoffId": h["handoffId"], "iteration": h["iteration"], "summary": "edited",
                "filesChanged": ["notes.txt"], "checks": {}}),
    );
}

/// Two workers whose edits of notes.txt truly conflict, both results written.
fn conflicting() -> (Env, String, PathBuf, PathBuf) {
    let env = Env::new();
    let mut cfg = env.config();
    cfg["parallelization"] = json!({"enabled": true, "rules": [
        {"maxConcurrent": 2, "requireDisjointFiles": false, "respectDependencies": true}]});
    env.set_config(&cfg);
    std::fs::write(env.work.join("notes.txt"), "a\nb\nc\n").unwrap();
    env.git(&["add", "-A"]);
    env.git(&["commit", "-qm", "notes"]);
    let id = env.start("Edit the notes twice");
    play_planner(
        &env,
        &id,
        &plan(
            &id,
            "notes",
            vec![
                task("top", &["notes.txt"], &[]),
                task("bottom", &["notes.txt", "extra.txt"], &[]),
            ],
        ),
    );
    let j = env.sj(&["next"]).json();
    let inv = j["invocations"].as_array().unwrap().clone();
    let (w1, w2) = (
        PathBuf::from(inv[0]["cwd"].as_str().unwrap()),
        PathBuf::from(inv[1]["cwd"].as_str().unwrap()),
    );
    std::fs::write(w1.join("notes.txt"), "a by top\nb\nc\n").unwrap();
    std::fs::write(w2.join("notes.txt"), "a by bottom\nb\nc\n").unwrap();
    result(&id, &inv[0]);
    result(&id, &inv[1]);
    (env, id, w1, w2)
}

fn check_pass_handed_out(env: &Env, id: &str, wt: &Path) -> Value {
    let out = env.sj(&["next", "--run", id]);
    out.code(0);
    let j = out.json();
    assert_eq!(j["invocations"].as_array().unwrap().len(), 1, "{j}");
    let inv = j["invocations"][0].clone();
    assert_eq!(inv["agent"], "implementor");
    assert!(
        read_json(Path::new(inv["handoff"].as_str().unwrap()))["context"]["feedback"][0]
            .as_str()
            .unwrap()
            .starts_with("merge-fix:")
    );
    let text = std::fs::read_to_string(wt.join("notes.txt")).unwrap();
    assert_eq!(text.matches("<<<<<<< ").count(), 1, "{text}");
    assert!(env.git_ok(wt, &["rev-parse", "-q", "--verify", "MERGE_HEAD"]));
    assert_eq!(env.status(id)["swarm"]["batch"]["conflict"]["worker"], "w2");
    assert_run_files_valid(env, id);
    inv
}

const HAND_OUT: &[&str] = &[
    "lock-after",
    "merge-conflict-after",
    "atomic-write-before-rename",
    "atomic-write-after-rename",
    "events-append-before",
    "status-write-before",
    "status-write-after",
];

#[test]
fn a_crash_while_a_conflict_is_handed_out_hands_it_out_once() {
    let mut hits = Vec::new();
    for point in HAND_OUT {
        for skip in 0..4 {
            let (env, id, w1, _) = conflicting();
            let hit = env.crashed_at(&["next", "--json"], point, skip);
            check_pass_handed_out(&env, &id, &w1);
            if !hit {
                break;
            }
            hits.push(format!("{point}: {skip}"));
        }
    }
    println!("failpoint hits handing a merge-fix pass out: {hits:?}");
    for p in ["merge-conflict-after: 0", "status-write-before: 0"] {
        assert!(hits.iter().any(|h| h == p), "{p} in {hits:?}");
    }
}

const CONCLUDE: &[&str] = &[
    "merge-conclude-before",
    "worktree-remove-before",
    "worktree-remove-after",
    "atomic-write-after-rename",
    "status-write-before",
    "status-write-after",
];

#[test]
fn a_crash_while_the_resolved_merge_is_concluded_concludes_it_once() {
    let mut hits = Vec::new();
    for point in CONCLUDE {
        for skip in 0..4 {
            let (env, id, w1, w2) = conflicting();
            let inv = check_pass_handed_out(&env, &id, &w1);
            std::fs::write(w1.join("notes.txt"), "a by top and bottom\nb\nc\n").unwrap();
            result(&id, &inv);
            let hit = env.crashed_at(&["next", "--json"], point, skip);
            let out = env.sj(&["next", "--run", &id]);
            out.code(0);
            assert_eq!(
                out.json()["invocations"][0]["agent"],
                "reviewer",
                "{point} {skip}: {}",
                out.json()
            );
            assert!(!env.git_ok(&w1, &["rev-parse", "-q", "--verify", "MERGE_HEAD"]));
            assert_eq!(env.git_in(&w1, &["status", "--porcelain"]), "");
            let parents = env.git_in(&w1, &["rev-list", "--parents", "-n", "1", "HEAD"]);
            assert_eq!(
                parents.split(' ').count(),
                3,
                "{point} {skip}: one merge commit"
            );
            assert_eq!(
                env.git_in(&w1, &["rev-list", "--merges", "--count", "HEAD"]),
                "1"
            );
            assert!(!w2.exists());
            assert_eq!(env.git(&["branch", "--list", "swarm/*"]).lines().count(), 1);
            assert_eq!(
                std::fs::read_to_string(w1.join("notes.txt")).unwrap(),
                "a by top and bottom\nb\nc\n"
            );
            assert_run_files_valid(&env, &id);
            if !hit {
                break;
            }
            hits.push(format!("{point}: {skip}"));
        }
    }
    println!("failpoint hits concluding a merge: {hits:?}");
    assert!(
        hits.iter().any(|h| h == "merge-conclude-before: 0"),
        "{hits:?}"
    );
}

/// `git merge` killed before it wrote `MERGE_HEAD` (its files, conflict markers too, perhaps
/// its index, written): the next call puts back exactly what that merge wrote — never taking
/// it in as the first worker's leftovers — and makes the merge again; a change of anyone
/// else's there stops it, naming the file, untouched.
#[test]
fn a_conflict_merge_killed_before_its_merge_head_is_undone_and_made_again() {
    for (index_written, someone) in [(false, false), (true, false), (false, true)] {
        let case = format!("index written: {index_written}, someone's change: {someone}");
        eprintln!("case: {case}");
        let (env, id, w1, w2) = conflicting();
        std::fs::write(w2.join("extra.txt"), "from bottom\n").unwrap();
        let hit = env.crashed_at(&["next", "--json"], "merge-conflict-after", 0);
        if !hit {
            let out = env.sj(&["next", "--run", &id]);
            panic!("{case}: not hit: {}", out.stdout);
        }
        let git_dir = PathBuf::from(env.git_in(&w1, &["rev-parse", "--absolute-git-dir"]));
        for f in ["MERGE_HEAD", "MERGE_MSG", "MERGE_MODE"] {
            std::fs::remove_file(git_dir.join(f)).unwrap();
        }
        if !index_written {
            env.git_in(&w1, &["read-tree", "HEAD"]);
        }
        // What the killed merge wrote is there: markers, and the added file.
        let text = std::fs::read_to_string(w1.join("notes.txt")).unwrap();
        assert!(text.contains("<<<<<<< HEAD"), "{case}: {text}");
        assert!(w1.join("extra.txt").is_file(), "{case}");
        if someone {
            std::fs::write(w1.join("README.md"), "mine\n").unwrap();
            let out = env.sj(&["next", "--run", &id]);
            assert_eq!(out.code, 1, "{case}: {}", out.stdout);
            assert!(out.stdout.contains("README.md"), "{case}: {}", out.stdout);
            assert_eq!(
                std::fs::read_to_string(w1.join("README.md")).unwrap(),
                "mine\n"
            );
            assert!(
                std::fs::read_to_string(w1.join("notes.txt"))
                    .unwrap()
                    .contains("<<<<<<< HEAD"),
                "{case}: nothing is put back while someone's change is there"
            );
            env.git_in(&w1, &["checkout", "--", "README.md"]);
        }
        check_pass_handed_out(&env, &id, &w1);
        // The first worker's commit holds its own edit only; the merge brings the rest.
        let top = env.git_in(&w1, &["show", "HEAD:notes.txt"]);
        assert_eq!(top, "a by top\nb\nc", "{case}");
        assert!(
            !env.git_ok(&w1, &["cat-file", "-e", "HEAD:extra.txt"]),
            "{case}: the merge's file is no leftover of the first worker"
        );
        assert_eq!(
            std::fs::read_to_string(w1.join("extra.txt")).unwrap(),
            "from bottom\n"
        );
    }
}
