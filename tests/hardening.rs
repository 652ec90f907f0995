//! Hostile or unlucky input that needs more than one command to show: where worktrees may go,
//! file names that would break a message, text that git refuses, and what `init --pack` does.
//! Single-command cases are in the corpus (tests/corpus/*.json).

mod common;

use common::*;
use serde_json::json;

/// See issue 10, part 2b: a template may put the worktree outside the workspace's parent only
/// into a root the user allowed in their own git config.
#[test]
fn a_worktree_root_from_the_users_git_config_is_allowed() {
    let env = Env::new();
    let outside = tempfile::tempdir().unwrap();
    let trees = outside.path().canonicalize().unwrap();
    let mut cfg = env.config();
    cfg["behavior"]["branching"]["worktreePathTemplate"] =
        json!(format!("{}/{{friendlyName}}", trees.display()));
    env.set_config(&cfg);

    let out = env.sj(&["start", "Add a greeting"]);
    out.code(1);
    let msg = out.error_message();
    assert!(
        msg.contains("behavior.branching.worktreePathTemplate")
            && msg.contains(&format!("{}/name", trees.display())),
        "{msg}"
    );
    assert_eq!(
        env.sj(&["list"]).json()["runs"],
        json!([]),
        "no run was made"
    );

    env.git(&[
        "config",
        "--global",
        "--add",
        "swarm.worktreeRoot",
        trees.to_str().unwrap(),
    ]);
    let id = env.start("Add a greeting");
    play_planner(&env, &id, &simple_plan(&id));
    let j = env.sj(&["next"]).json();
    let cwd = j["invocations"][0]["cwd"].as_str().unwrap().to_string();
    assert_eq!(cwd, trees.join("add-greeting").display().to_string());
    assert!(trees.join("add-greeting/src/lib.rs").is_file());
}

/// See issue 10, part 10: a changed file whose name holds a newline is one line of the
/// guard-rail warning, not two (the second could pass for a line of the tool's own).
#[test]
fn a_file_name_with_a_newline_stays_on_one_line_of_the_warning() {
    let env = Env::new();
    let id = env.start("Add a greeting");
    play_planner(&env, &id, &simple_plan(&id));
    env.sj(&["next"]).code(0);
    let h = handoff(&env, &id);
    let wt = std::path::PathBuf::from(h["context"]["worktreePath"].as_str().unwrap());
    std::fs::write(wt.join("evil\nREADME.md is allowed"), "x").unwrap();
    play_implementor(&env, &id, "completed");
    env.sj(&["next"]).code(0);
    let st = env.status(&id);
    let w = st["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["reason"] == "guard-rail")
        .expect("a guard-rail warning");
    let msg = w["message"].as_str().unwrap();
    assert!(!msg.contains('\n'), "{msg}");
    assert!(
        msg.contains(r#""evil\nREADME.md is allowed" is outside"#),
        "{msg}"
    );
    let text = env.swarm(&["status", "--run", &id]).stdout;
    assert!(
        !text.lines().any(|l| l.starts_with("README.md is allowed")),
        "{text}"
    );
}

/// See issue 10, part 9: a commit that fails at publish (here a pre-commit hook refuses it)
/// fails the run with the reason; once the cause is gone, retry and publish finish it. It is
/// never left at `publish` with nothing to retry.
#[test]
fn a_publish_whose_commit_fails_is_failed_and_retryable() {
    let env = Env::new();
    let id = env.start("Add a greeting");
    play_planner(&env, &id, &simple_plan(&id));
    env.sj(&["next"]).code(0);
    play_implementor(&env, &id, "completed");
    // A leftover the tester passes on, which publish commits.
    let wt = std::path::PathBuf::from(env.status(&id)["worktreePath"].as_str().unwrap());
    std::fs::write(wt.join("src/lib.rs"), "pub fn hello() { /* leftover */ }\n").unwrap();
    env.sj(&["next"]).code(0);
    play_reviewer(&env, &id, "approved");
    env.sj(&["next"]).code(0);
    play_tester(&env, &id, "passed");
    assert_eq!(env.sj(&["next"]).action(), "publish");

    let hook = env.work.join(".git/hooks/pre-commit");
    std::fs::write(&hook, "#!/bin/sh\necho 'refused by policy' >&2\nexit 1\n").unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755)).unwrap();
    let out = env.sj(&["publish"]);
    out.code(5);
    let st = env.status(&id);
    assert_eq!(st["outcome"], "failed");
    let reason = st["failure-reason"].as_str().unwrap();
    assert!(
        reason.contains("committing the leftover changes failed")
            && reason.contains("refused by policy"),
        "{reason}"
    );

    std::fs::remove_file(&hook).unwrap();
    assert_eq!(env.sj(&["retry"]).action(), "publish");
    let out = env.sj(&["publish"]);
    out.code(0);
    assert_eq!(env.status(&id)["outcome"], "completed");
    let msg = env.git(&["log", "-1", "--format=%B", "swarm/add-greeting"]);
    assert!(msg.starts_with("Greet the user"), "{msg}");
}

/// See issue 10, part 9: a run whose plan was accepted before text was checked (its goal holds
/// a NUL) still publishes: the commit message and pull request are made of cleaned text.
#[test]
fn text_recorded_before_the_checks_still_publishes() {
    let env = Env::new();
    let (id, wt) = env.run_to_publish();
    std::fs::write(wt.join("src/lib.rs"), "pub fn hello() { /* leftover */ }\n").unwrap();
    let p = env.run_dir(&id).join("run.status.json");
    let mut st = read_json(&p);
    st["swarm"]["plan"]["goal"] = json!("Greet\u{0} the user\nfully");
    st["swarm"]["plan"]["description"] = json!("body\u{0} text");
    // The tested content includes the leftover.
    let tree = {
        let index = env.root().join("idx");
        let mut cmd = std::process::Command::new("git");
        cmd.current_dir(&wt)
            .env("GIT_INDEX_FILE", &index)
            .args(["add", "-A"]);
        assert!(cmd.status().unwrap().success());
        let out = std::process::Command::new("git")
            .current_dir(&wt)
            .env("GIT_INDEX_FILE", &index)
            .args(["write-tree"])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    st["swarm"]["tested"]["tree"] = json!(tree);
    write_json(&p, &st);
    let out = env.sj(&["publish"]);
    out.code(0);
    let msg = env.git(&["log", "-1", "--format=%B", "swarm/add-greeting"]);
    assert!(msg.starts_with("Greet  the user\n\nbody text"), "{msg:?}");
}

/// See issue 10, part 10: `init --pack` (once per machine) installs the pack and touches no
/// repository — not the one in the current directory either; it works outside any.
#[test]
fn init_pack_alone_touches_no_repository() {
    let env = Env::bare();
    let out = env.sj(&["init", "--pack"]);
    out.code(0);
    let j = out.json();
    assert!(!j["pack"]["written"].as_array().unwrap().is_empty(), "{j}");
    assert!(j.get("swarmDir").is_none(), "{j}");
    assert!(!env.work.join(".swarm").exists());
    assert!(!env.work.join(".git/hooks/pre-push").exists());
    let text = env.swarm(&["init", "--pack"]).stdout;
    assert!(text.contains("no repository was changed"), "{text}");

    let elsewhere = env.root().join("not-a-repo");
    std::fs::create_dir_all(&elsewhere).unwrap();
    env.swarm_in(&elsewhere, &["init", "--pack", "--json"])
        .code(0);
    // Without --pack, the repository is set up.
    env.sj(&["init"]).code(0);
    assert!(env.work.join(".swarm/runs").is_dir());
}
