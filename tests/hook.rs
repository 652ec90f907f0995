//! The pre-push hook: installation where git looks, chaining, and its refusals.

mod common;

use common::*;
use std::path::Path;

/// `git push <args>` in `dir`; (success, stderr).
fn push(env: &Env, dir: &Path, args: &[&str]) -> (bool, String) {
    let mut cmd = std::process::Command::new("git");
    cmd.arg("push").args(args).current_dir(dir);
    cmd.env("HOME", &env.home)
        .env("GIT_CONFIG_GLOBAL", &env.gitconfig)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("LC_ALL", "C");
    for (k, v) in &env.extra_env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn hooks_dir(env: &Env) -> std::path::PathBuf {
    std::path::PathBuf::from(env.git(&[
        "rev-parse",
        "--path-format=absolute",
        "--git-path",
        "hooks",
    ]))
}

#[test]
fn init_installs_and_chains_an_existing_hook() {
    let env = Env::new();
    let dir = hooks_dir(&env);
    std::fs::create_dir_all(&dir).unwrap();
    let log = env.root().join("old-hook.log");
    std::fs::write(
        dir.join("pre-push"),
        format!(
            "#!/bin/sh\necho \"old hook $1\" >> '{}'\ncat >> '{}'\nexit 0\n",
            log.display(),
            log.display()
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(dir.join("pre-push"), std::fs::Permissions::from_mode(0o755)).unwrap();
    let j = env.sj(&["init"]).json();
    assert_eq!(j["hook"]["action"], "chained");
    assert!(dir.join("pre-push.chained").exists());
    assert!(
        std::fs::read_to_string(dir.join("pre-push"))
            .unwrap()
            .contains("git-swarm pre-push hook")
    );
    assert_eq!(env.sj(&["init"]).json()["hook"]["action"], "unchanged");

    std::fs::write(env.work.join("README.md"), "more\n").unwrap();
    env.git(&["commit", "-qam", "more"]);
    let (ok, err) = push(&env, &env.work, &["origin", "main"]);
    assert!(ok, "{err}");
    let logged = std::fs::read_to_string(&log).unwrap();
    assert!(logged.contains("old hook origin"), "{logged}");
    assert!(
        logged.contains("refs/heads/main"),
        "the chained hook sees git's ref lines: {logged}"
    );

    // A failing chained hook still stops the push.
    std::fs::write(
        dir.join("pre-push.chained"),
        "#!/bin/sh\necho 'old hook says no' >&2\nexit 1\n",
    )
    .unwrap();
    std::fs::write(env.work.join("README.md"), "even more\n").unwrap();
    env.git(&["commit", "-qam", "even more"]);
    let (ok, err) = push(&env, &env.work, &["origin", "main"]);
    assert!(!ok);
    assert!(err.contains("old hook says no"), "{err}");
}

#[test]
fn hooks_path_and_linked_worktrees_are_respected() {
    let env = Env::new();
    env.git(&["config", "core.hooksPath", ".githooks"]);
    let j = env.sj(&["init"]).json();
    assert_eq!(
        j["hook"]["path"],
        env.work.join(".githooks/pre-push").display().to_string()
    );
    env.git(&["add", ".githooks"]);
    env.git(&["commit", "-qm", "hooks"]);
    let (id, wt) = {
        let id = env.start("Add a greeting");
        play_planner(&env, &id, &simple_plan(&id));
        let j = env.sj(&["next"]).json();
        (
            id,
            std::path::PathBuf::from(j["invocations"][0]["cwd"].as_str().unwrap()),
        )
    };
    // From the run's worktree the same hook refuses the untested branch.
    play_implementor(&env, &id, "completed");
    let (ok, err) = push(&env, &wt, &["origin", "swarm/add-greeting"]);
    assert!(!ok, "untested branch pushed");
    assert!(
        err.contains(&format!("run {id} has not passed its tester")),
        "{err}"
    );
    assert!(err.contains("git swarm next --run"), "{err}");
}

#[test]
fn commits_after_the_test_are_refused_and_no_verify_bypasses() {
    let mut env = Env::new();
    env.remote_looks_like("https://github.com/acme/app.git");
    env.fake_tool("gh", "echo https://github.com/acme/app/pull/1");
    env.sj(&["init"]).code(0);
    let (id, wt) = env.run_to_publish();
    // The branch as tested may be pushed by hand.
    let (ok, err) = push(&env, &wt, &["origin", "swarm/add-greeting"]);
    assert!(ok, "{err}");
    std::fs::write(wt.join("src/lib.rs"), "pub fn untested() {}\n").unwrap();
    env.git_in(&wt, &["commit", "-qam", "after the test"]);
    let (ok, err) = push(&env, &wt, &["origin", "swarm/add-greeting"]);
    assert!(!ok, "{err}");
    assert!(
        err.contains(&format!("not the content run {id}'s tester passed")),
        "{err}"
    );
    assert!(err.contains("--no-verify"), "{err}");
    let (ok, err) = push(&env, &wt, &["--no-verify", "origin", "swarm/add-greeting"]);
    assert!(ok, "{err}");
}

#[test]
fn publish_pushes_through_the_installed_hook() {
    let mut env = Env::new();
    env.remote_looks_like("https://github.com/acme/app.git");
    env.fake_tool("gh", "echo https://github.com/acme/app/pull/1");
    env.sj(&["init"]).code(0);
    let (id, _) = env.run_to_publish();
    env.sj(&["publish"]).code(0);
    assert_eq!(env.status(&id)["outcome"], "completed");
}

#[test]
fn commits_adding_run_state_are_refused_on_any_branch() {
    let env = Env::new();
    env.sj(&["init"]).code(0);
    let id = env.start("x");
    env.git(&["add", "-f", &format!(".swarm/runs/{id}/task.md")]);
    env.git(&["commit", "-qm", "oops"]);
    std::fs::write(env.work.join("README.md"), "later\n").unwrap();
    env.git(&["commit", "-qam", "later commit"]);
    let (ok, err) = push(&env, &env.work, &["origin", "main"]);
    assert!(!ok, "run state was pushed");
    assert!(err.contains(&format!(".swarm/runs/{id}/task.md")), "{err}");
    // A new branch carrying it is refused too; deleting branches and clean branches pass.
    let (ok, _) = push(&env, &env.work, &["origin", "main:refs/heads/feature"]);
    assert!(!ok);
    env.git(&["reset", "-q", "--hard", "HEAD~2"]);
    let (ok, err) = push(
        &env,
        &env.work,
        &["origin", "main:refs/heads/clean-feature"],
    );
    assert!(ok, "{err}");
    let (ok, err) = push(&env, &env.work, &["origin", ":refs/heads/clean-feature"]);
    assert!(ok, "{err}");
}

#[test]
fn the_hook_command_reads_git_s_ref_lines() {
    let env = Env::new();
    let head = env.git(&["rev-parse", "HEAD"]);
    let zero = "0".repeat(40);
    let mut cmd = env.command(
        &env.work,
        &["hook", "pre-push", "origin", "https://example.test/x.git"],
    );
    cmd.stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    use std::io::Write;
    writeln!(
        child.stdin.take().unwrap(),
        "refs/heads/main {head} refs/heads/main {zero}"
    )
    .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
