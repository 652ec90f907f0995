//! Publishing: commit leftovers, push, pull requests through fake gh / glab / acli, cleanup,
//! re-runs after partial failures, and secrets in remote URLs.

mod common;

use common::*;
use serde_json::json;

const GH_OK: &str = "echo 'Creating pull request for swarm/add-greeting into main'\necho 'https://github.com/acme/app/pull/7'";

fn github_env() -> Env {
    let mut env = Env::new();
    env.remote_looks_like("https://github.com/acme/app.git");
    env.fake_bin();
    env
}

fn on_origin(env: &Env, branch: &str) -> Option<String> {
    let out = std::process::Command::new("git")
        .args([
            "--git-dir",
            env.origin.to_str().unwrap(),
            "rev-parse",
            &format!("refs/heads/{branch}"),
        ])
        .output()
        .unwrap();
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

#[test]
fn publish_commits_leftovers_pushes_opens_the_pr_and_cleans_up() {
    let mut env = github_env();
    env.fake_tool("gh", GH_OK);
    let (id, wt) = env.run_to_publish();
    // A leftover the tester saw: written before the tester ran, never committed.
    // (play_tester ran after this file existed? No — add it now and re-test to be exact.)
    let _ = wt;
    let out = env.sj(&["publish"]);
    out.code(0);
    let j = out.json();
    assert_eq!(j["action"], "done");
    assert_eq!(j["outcome"], "completed");
    assert!(
        j["message"]
            .as_str()
            .unwrap()
            .contains("https://github.com/acme/app/pull/7"),
        "{j}"
    );
    let st = env.status(&id);
    assert_eq!(st["prUrl"], "https://github.com/acme/app/pull/7");
    assert_eq!(st["outcome"], "completed");
    let tip = env.git(&["rev-parse", "swarm/add-greeting"]);
    assert_eq!(
        on_origin(&env, "swarm/add-greeting").as_deref(),
        Some(tip.as_str())
    );
    assert!(!wt.exists(), "the worktree is removed after the push");
    assert!(
        env.git(&["branch", "--list", "swarm/add-greeting"])
            .contains("swarm/add-greeting"),
        "the branch stays"
    );
    let calls = env.fake_calls();
    assert_eq!(calls.len(), 1, "{calls:?}");
    let argv = &calls[0].1;
    assert_eq!(argv[..4], ["pr", "create", "-R", "github.com/acme/app"]);
    let flag = |f: &str| {
        argv.iter()
            .position(|a| a == f)
            .map(|i| argv[i + 1].clone())
    };
    assert_eq!(flag("--head").as_deref(), Some("swarm/add-greeting"));
    assert_eq!(flag("--base").as_deref(), Some("main"));
    assert_eq!(flag("--title").as_deref(), Some("[swarm] Greet the user"));
    let body = std::fs::read_to_string(flag("--body-file").unwrap()).unwrap();
    assert!(body.contains(&format!(".swarm/runs/{id}")), "{body}");
    // The body explains the run: tasks, tests, passes, what was spent, and what was tested.
    let st = env.status(&id);
    for part in [
        "Tasks:\n- t1: ".to_string(),
        "Tests:\n- `".to_string(),
        "\n- tester ran `cargo test`: exit 0\n- tester passed: ".to_string(),
        "Passes: planner ×1, implementor ×1, reviewer ×1, tester ×1\n".to_string(),
        "Spent: not reported\n".to_string(),
        format!("Swarm-Run: {id}\n"),
        format!(
            "Tested tree: {}",
            st["swarm"]["tested"]["tree"].as_str().unwrap()
        ),
    ] {
        assert!(body.contains(&part), "{part:?} in\n{body}");
    }
    assert!(!argv.contains(&"--draft".to_string()));
    assert_run_files_valid(&env, &id);

    // Publishing again does nothing new: no second pull request.
    env.sj(&["publish", "--run", &id]).code(0);
    assert_eq!(env.fake_calls().len(), 1);
    assert_eq!(env.sj(&["next", "--run", &id]).json()["action"], "done");
}

#[test]
fn leftover_changes_are_committed_with_a_trailer_and_tested_content_ships() {
    let mut env = github_env();
    env.fake_tool("gh", GH_OK);
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
    let wt = std::path::PathBuf::from(j["invocations"][0]["cwd"].as_str().unwrap());
    play_implementor(&env, &id, "completed");
    // The implementor left a change uncommitted; the reviewer and the tester see it.
    std::fs::write(wt.join("src/extra.rs"), "pub fn extra() {}\n").unwrap();
    env.sj(&["next"]).code(0);
    play_reviewer(&env, &id, "approved");
    env.sj(&["next"]).code(0);
    play_tester(&env, &id, "passed");
    env.sj(&["next"]).code(0);
    let out = env.sj(&["publish"]);
    out.code(0);
    let msg = env.git(&["log", "-1", "--format=%B", "swarm/add-greeting"]);
    assert!(msg.starts_with("Greet the user"), "{msg}");
    assert!(msg.contains(&format!("Swarm-Run: {id}")), "{msg}");
    assert!(
        env.git(&["show", "swarm/add-greeting:src/extra.rs"])
            .contains("extra")
    );
    assert_eq!(
        env.status(&id)["swarm"]["publish"]["commit"],
        env.git(&["rev-parse", "swarm/add-greeting"]).as_str()
    );
}

#[test]
fn changes_after_the_test_are_refused() {
    let mut env = github_env();
    env.fake_tool("gh", GH_OK);
    let (id, wt) = env.run_to_publish();
    std::fs::write(wt.join("src/lib.rs"), "pub fn sneaky() {}\n").unwrap();
    let before = env.snapshot();
    let out = env.sj(&["publish"]);
    out.code(3);
    assert!(
        out.error_message()
            .contains("changed after the tester passed"),
        "{}",
        out.stdout
    );
    assert_eq!(before, env.snapshot());
    assert!(env.fake_calls().is_empty());
    assert_eq!(env.status(&id)["outcome"], "in-progress");
}

#[test]
fn publish_before_the_tester_passed_is_refused() {
    let env = github_env();
    let id = env.start("x");
    let out = env.sj(&["publish", "--run", &id]);
    out.code(3);
    assert!(out.error_message().contains("cannot be published yet"));
}

#[test]
fn an_existing_pr_is_recorded_not_an_error() {
    let mut env = github_env();
    // Everything the run starts from is on the remote: no warning at all.
    env.git(&["push", "-q", "origin", "main"]);
    env.fake_tool(
        "gh",
        "echo 'a pull request for branch \"swarm/add-greeting\" into branch \"main\" already exists:' >&2\necho 'https://github.com/acme/app/pull/3' >&2\nexit 1",
    );
    let (id, _) = env.run_to_publish();
    env.sj(&["publish"]).code(0);
    let st = env.status(&id);
    assert_eq!(st["prUrl"], "https://github.com/acme/app/pull/3");
    assert!(
        st["warnings"].as_array().unwrap().is_empty(),
        "{}",
        st["warnings"]
    );
}

#[test]
fn a_failing_tool_is_a_warning_and_a_rerun_retries_the_pr_only() {
    let mut env = github_env();
    env.fake_tool(
        "gh",
        "echo 'HTTP 401: Bad credentials (https://api.github.com/graphql)' >&2\nexit 1",
    );
    let (id, wt) = env.run_to_publish();
    let out = env.sj(&["publish"]);
    out.code(0);
    let j = out.json();
    assert_eq!(j["outcome"], "completed");
    let w = &j["warnings"][0];
    assert_eq!(w["reason"], "pr-create-failed");
    assert_eq!(w["tool"], "gh");
    assert!(
        w["command"]
            .as_str()
            .unwrap()
            .contains("pr create -R github.com/acme/app"),
        "{w}"
    );
    assert!(w["output"].as_str().unwrap().contains("Bad credentials"));
    assert!(
        w["remediation"]
            .as_str()
            .unwrap()
            .contains("https://github.com/acme/app/compare/main...swarm/add-greeting?expand=1"),
        "{w}"
    );
    assert!(
        !wt.exists(),
        "the branch is pushed, so the worktree goes regardless of the PR"
    );
    assert!(env.status(&id)["prUrl"].is_null());

    // Fixed (logged in): publish again opens it; nothing else is repeated.
    env.fake_tool("gh", GH_OK);
    let pushed_before = on_origin(&env, "swarm/add-greeting");
    env.sj(&["publish", "--run", &id]).code(0);
    assert_eq!(
        env.status(&id)["prUrl"],
        "https://github.com/acme/app/pull/7"
    );
    assert_eq!(on_origin(&env, "swarm/add-greeting"), pushed_before);
    assert_eq!(env.fake_calls().len(), 2);
}

#[test]
fn a_missing_tool_and_an_unknown_host_are_warnings() {
    let mut env = github_env();
    env.without_tool("gh");
    let (_, _) = env.run_to_publish();
    let j = env.sj(&["publish"]).json();
    assert_eq!(j["outcome"], "completed");
    assert_eq!(j["warnings"][0]["reason"], "pr-tool-missing");
    assert!(
        j["warnings"][0]["remediation"]
            .as_str()
            .unwrap()
            .contains("install gh")
    );

    let mut env = Env::new();
    env.remote_looks_like("https://code.example.org/acme/app.git");
    env.fake_tool("gh", GH_OK);
    env.run_to_publish();
    let j = env.sj(&["publish"]).json();
    let w = &j["warnings"][0];
    assert_eq!(w["reason"], "pr-tool-undetermined");
    assert!(
        w["remediation"]
            .as_str()
            .unwrap()
            .contains("swarm.githubHost")
    );
    assert!(
        w["remediation"]
            .as_str()
            .unwrap()
            .contains("https://code.example.org/acme/app/compare/main...swarm/add-greeting")
    );
    assert!(env.fake_calls().is_empty());
}

#[test]
fn enterprise_hosts_come_from_git_config() {
    let mut env = Env::new();
    env.remote_looks_like("git@ghe.corp.example:acme/app.git");
    env.git(&["config", "--add", "swarm.githubHost", "ghe.corp.example"]);
    env.fake_tool("gh", "echo https://ghe.corp.example/acme/app/pull/1");
    env.run_to_publish();
    env.sj(&["publish"]).code(0);
    assert_eq!(env.fake_calls()[0].1[3], "ghe.corp.example/acme/app");
}

#[test]
fn gitlab_uses_glab_and_bitbucket_uses_acli_from_the_cursor_dir() {
    let mut env = Env::new();
    env.remote_looks_like("https://gitlab.com/group/sub/app.git");
    env.fake_tool(
        "glab",
        "echo 'https://gitlab.com/group/sub/app/-/merge_requests/5'",
    );
    let (id, _) = env.run_to_publish();
    env.sj(&["publish", "--draft"]).code(0);
    let calls = env.fake_calls();
    assert_eq!(calls[0].0, "glab");
    assert_eq!(
        calls[0].1[..4],
        ["mr", "create", "-R", "https://gitlab.com/group/sub/app"]
    );
    assert!(calls[0].1.contains(&"--draft".to_string()));
    assert_eq!(
        env.status(&id)["prUrl"],
        "https://gitlab.com/group/sub/app/-/merge_requests/5"
    );

    let mut env = Env::new();
    env.remote_looks_like("https://bitbucket.org/ws/app.git");
    std::fs::create_dir_all(env.home.join(".cursor")).unwrap();
    let acli = env.home.join(".cursor/acli.exe");
    env.write_fake(
        &acli,
        "echo 'Created https://bitbucket.org/ws/app/pull-requests/9'",
    );
    let (id, _) = env.run_to_publish();
    env.sj(&["publish"]).code(0);
    let calls = env.fake_calls();
    assert_eq!(calls[0].0, "acli.exe");
    assert!(
        calls[0].1.contains(&"ws".to_string()) && calls[0].1.contains(&"app".to_string()),
        "{calls:?}"
    );
    assert_eq!(
        env.status(&id)["prUrl"],
        "https://bitbucket.org/ws/app/pull-requests/9"
    );
}

#[test]
fn create_command_is_an_argv_template_never_a_shell() {
    let mut env = github_env();
    let tool = env.fake_tool("mkpr", "echo https://example.test/pr/1");
    std::fs::write(
        env.work.join(".swarm/policies.json"),
        serde_json::to_string(&json!({"pr": {
            "createCommand": format!("{} --base {{baseBranch}} --head {{head}} --title \"{{title}}\" --repo {{owner}}/{{repo}}", tool.display()),
            "titleTemplate": "Fix \"$(touch /tmp/pwned)\" `id`; {goal}"
        }}))
        .unwrap(),
    )
    .unwrap();
    env.git(&["add", ".swarm/policies.json"]);
    env.git(&["commit", "-q", "-m", "policy"]);
    env.sj(&["trust"]).code(0);
    let (id, _) = env.run_to_publish();
    env.sj(&["publish"]).code(0);
    let calls = env.fake_calls();
    assert_eq!(calls[0].0, "mkpr");
    assert_eq!(
        calls[0].1,
        [
            "--base",
            "main",
            "--head",
            "swarm/add-greeting",
            "--title",
            "Fix \"$(touch /tmp/pwned)\" `id`; Greet the user",
            "--repo",
            "acme/app"
        ]
    );
    assert_eq!(env.status(&id)["prUrl"], "https://example.test/pr/1");
}

#[test]
fn a_failed_push_fails_the_run_keeps_the_worktree_and_a_rerun_finishes() {
    let mut env = github_env();
    env.fake_tool("gh", GH_OK);
    let key = format!("url.{}.pushInsteadOf", env.origin.display());
    env.git(&["config", "--unset", &key]);
    env.git(&[
        "config",
        "url./nonexistent/repo.git.pushInsteadOf",
        "https://github.com/acme/app.git",
    ]);
    let (id, wt) = env.run_to_publish();
    let out = env.sj(&["publish"]);
    out.code(5);
    let j = out.json();
    assert_eq!(j["action"], "failed");
    assert!(
        j["message"].as_str().unwrap().contains("push failed"),
        "{j}"
    );
    assert!(
        j["hint"].as_str().unwrap().contains("git swarm publish"),
        "{j}"
    );
    assert!(wt.exists(), "the worktree is kept");
    assert!(env.fake_calls().is_empty(), "no PR without a pushed branch");
    assert_eq!(env.status(&id)["outcome"], "failed");
    assert_run_files_valid(&env, &id);

    env.git(&[
        "config",
        "--unset",
        "url./nonexistent/repo.git.pushInsteadOf",
    ]);
    env.git(&["config", &key, "https://github.com/acme/app.git"]);
    let out = env.sj(&["publish", "--run", &id]);
    out.code(0);
    assert_eq!(out.json()["outcome"], "completed");
    assert!(on_origin(&env, "swarm/add-greeting").is_some());
    assert!(!wt.exists());
}

#[test]
fn a_token_in_the_remote_url_never_appears() {
    let mut env = Env::new();
    env.remote_looks_like("https://bot:ghp_SECRET123@github.com/acme/app.git");
    env.fake_tool("gh", "echo \"fatal: could not read from https://bot:ghp_SECRET123@github.com/acme/app.git\" >&2\nexit 1");
    let (id, _) = env.run_to_publish();
    let out = env.sj(&["publish"]);
    out.code(0);
    let st = env.swarm(&["status", "--run", &id]);
    let mut everything = format!("{}{}{}{}", out.stdout, out.stderr, st.stdout, st.stderr);
    for e in walk_files(&env.run_dir(&id)) {
        everything.push_str(&String::from_utf8_lossy(&std::fs::read(e).unwrap()));
    }
    assert!(everything.contains("pr-create-failed"));
    assert!(!everything.contains("ghp_SECRET123"), "the token leaked");
    assert!(everything.contains("https://***@github.com/acme/app.git"));
}

fn walk_files(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        if e.path().is_dir() {
            out.extend(walk_files(&e.path()));
        } else {
            out.push(e.path());
        }
    }
    out
}

#[test]
fn base_branch_from_policy_and_from_ls_remote() {
    let mut env = github_env();
    env.fake_tool("gh", GH_OK);
    env.git(&["push", "-q", "origin", "main:develop"]);
    std::fs::write(
        env.work.join(".swarm/policies.json"),
        r#"{"pr": {"baseBranch": "develop", "createDraft": true}}"#,
    )
    .unwrap();
    env.git(&["add", ".swarm/policies.json"]);
    env.git(&["commit", "-q", "-m", "policy"]);
    env.run_to_publish();
    env.sj(&["publish"]).code(0);
    let argv = &env.fake_calls()[0].1;
    let i = argv.iter().position(|a| a == "--base").unwrap();
    assert_eq!(argv[i + 1], "develop");
    assert!(argv.contains(&"--draft".to_string()));

    // No refs/remotes/origin/HEAD: ask the remote (a local bare repository here).
    let env = Env::new();
    env.git(&[
        "--git-dir",
        env.origin.to_str().unwrap(),
        "symbolic-ref",
        "HEAD",
        "refs/heads/trunk",
    ]);
    env.git(&["push", "-q", "origin", "main:trunk"]);
    let (id, _) = env.run_to_publish();
    env.sj(&["publish"]).code(0);
    assert_eq!(env.status(&id)["swarm"]["publish"]["base"], "trunk");
}

#[test]
fn a_worktree_deleted_by_hand_or_locked_is_handled() {
    let mut env = github_env();
    env.fake_tool("gh", GH_OK);
    let (id, wt) = env.run_to_publish();
    env.git(&["worktree", "lock", wt.to_str().unwrap()]);
    let j = env.sj(&["publish"]).json();
    assert_eq!(j["outcome"], "completed");
    let w = j["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["reason"] == "worktree-locked")
        .cloned()
        .unwrap();
    assert!(
        w["remediation"]
            .as_str()
            .unwrap()
            .contains("git worktree unlock")
    );
    assert!(wt.exists());
    assert_eq!(
        env.status(&id)["prUrl"],
        "https://github.com/acme/app/pull/7"
    );

    let mut env = github_env();
    env.fake_tool("gh", GH_OK);
    let (id, wt) = env.run_to_publish();
    // Committed content is what the tester saw; the directory is then deleted by hand.
    std::fs::remove_dir_all(&wt).unwrap();
    let out = env.sj(&["publish"]);
    out.code(0);
    assert!(on_origin(&env, "swarm/add-greeting").is_some());
    let events = std::fs::read_to_string(env.run_dir(&id).join("events.jsonl")).unwrap();
    assert!(events.contains("already gone"), "{events}");
    assert_eq!(env.git(&["worktree", "list"]).lines().count(), 1, "pruned");
}

/// The pull request carries every commit of the run's base that the remote does not have:
/// `start` says so, and so does `publish`. See: "Real agents out of the box", part 6.
#[test]
fn commits_not_on_the_remote_are_announced_at_start_and_publish() {
    let mut env = github_env();
    env.fake_tool("gh", GH_OK);
    // One commit origin does not have.
    std::fs::write(env.work.join("NOTES.md"), "local only\n").unwrap();
    env.git(&["add", "NOTES.md"]);
    env.git(&["commit", "-q", "-m", "local only"]);
    let out = env.sj(&["start", "Add a greeting"]);
    out.code(0);
    let j = out.json();
    assert_eq!(j["warnings"][0]["reason"], "base-not-on-remote", "{j}");
    assert_eq!(
        j["warnings"][0]["message"],
        "your branch has 1 commit not on origin; the pull request will include them"
    );
    let id = j["run-id"].as_str().unwrap().to_string();
    let human = env.swarm(&["next"]);
    assert!(
        human.stdout.contains("Spawn the planner"),
        "{}",
        human.stdout
    );
    env.swarm(&["abort", "--run", &id]).code(0);
    let out = env.swarm(&["start", "Add a greeting"]);
    assert!(
        out.stdout.starts_with(
            "warning: base-not-on-remote: your branch has 1 commit not on origin; the pull request will include them\n"
        ),
        "{}",
        out.stdout
    );
    // `abort` without --run takes the most recent run.
    env.swarm(&["abort"]).code(0);

    let (id, _) = env.run_to_publish();
    let j = env.sj(&["publish"]).json();
    assert_eq!(j["outcome"], "completed");
    let w: Vec<&serde_json::Value> = j["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|w| w["reason"] == "pr-extra-commits")
        .collect();
    assert_eq!(w.len(), 1, "{j}");
    assert!(
        w[0]["message"]
            .as_str()
            .unwrap()
            .contains("carries 1 commit made before the run"),
        "{}",
        w[0]
    );
    assert!(
        w[0]["remediation"]
            .as_str()
            .unwrap()
            .contains("push them to origin/main first"),
        "{}",
        w[0]
    );
    // Publishing again adds nothing.
    env.sj(&["publish", "--run", &id]).code(0);
    let st = env.status(&id);
    let n = st["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|w| w["reason"] == "pr-extra-commits")
        .count();
    assert_eq!(n, 1);

    // Once main is pushed, neither says anything.
    env.git(&["push", "-q", "origin", "main"]);
    let j = env.sj(&["start", "Add a greeting"]).json();
    assert!(j.get("warnings").is_none(), "{j}");
}

/// A remote that is a path on this machine has no web page: no advice to open one.
#[test]
fn a_local_path_remote_gets_git_advice_not_a_web_page() {
    let env = Env::new();
    let (_, _) = env.run_to_publish();
    let j = env.sj(&["publish"]).json();
    assert_eq!(j["outcome"], "completed");
    let w = j["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["reason"] == "pr-tool-undetermined")
        .unwrap_or_else(|| panic!("{j}"))
        .clone();
    let message = w["message"].as_str().unwrap();
    let remediation = w["remediation"].as_str().unwrap();
    assert!(message.contains("is a path on this machine"), "{message}");
    assert!(
        remediation.contains("merge swarm/add-greeting into main with git (for example, on main: 'git pull origin swarm/add-greeting', then 'git push origin main')"),
        "{remediation}"
    );
    for absent in ["web page", "http", "swarm.githubHost"] {
        assert!(!remediation.contains(absent), "{absent:?}: {remediation}");
    }
}

/// A host that runs `publish` again after the run completed gets `done` and the pull request,
/// not "no run in progress".
#[test]
fn publish_after_the_run_completed_answers_done_again() {
    let mut env = github_env();
    env.fake_tool("gh", GH_OK);
    let (id, _) = env.run_to_publish();
    env.sj(&["publish"]).code(0);
    let out = env.sj(&["publish"]);
    out.code(0);
    let j = out.json();
    assert_eq!(j["action"], "done", "{j}");
    assert_eq!(j["run-id"], id.as_str());
    assert_eq!(j["prUrl"], "https://github.com/acme/app/pull/7");
    assert!(
        j["message"]
            .as_str()
            .unwrap()
            .contains("https://github.com/acme/app/pull/7"),
        "{j}"
    );
    assert_eq!(env.fake_calls().len(), 1, "gh is not run again");
    let human = env.swarm(&["publish"]);
    human.code(0);
    assert!(
        human
            .stdout
            .contains("Pull request: https://github.com/acme/app/pull/7"),
        "{}",
        human.stdout
    );
    assert!(
        human.stdout.contains("The run has ended."),
        "{}",
        human.stdout
    );
    assert!(!human.stdout.contains("Next:"), "{}", human.stdout);
    // A run that ended otherwise is not published by accident.
    let other = env.start("Something else");
    env.swarm(&["abort", "--run", &other]).code(0);
    let out = env.sj(&["publish"]);
    out.code(1);
    assert!(
        out.error_message().contains("no run in progress"),
        "{}",
        out.stdout
    );
}

/// Writes `.swarm/policies.json` (untracked: the test's own, not the repository's history).
fn set_policy(env: &Env, v: &serde_json::Value) {
    std::fs::write(
        env.work.join(".swarm/policies.json"),
        serde_json::to_string_pretty(v).unwrap(),
    )
    .unwrap();
}

#[test]
fn a_policy_remote_is_a_configured_name_never_an_option_or_a_url() {
    let mut env = github_env();
    env.fake_tool("gh", GH_OK);
    let (id, _) = env.run_to_publish();
    let marker = env.root().join("pwned");
    // An option: git would run the command of --exec (or --receive-pack) on push.
    set_policy(
        &env,
        &json!({"pr": {"remote": format!("--receive-pack=touch {}", marker.display())}}),
    );
    let out = env.sj(&["publish"]);
    out.code(1);
    assert!(out.error_message().contains("/pr/remote"), "{}", out.stdout);
    assert!(
        out.error_message().contains("may not start with '-'"),
        "{}",
        out.stdout
    );
    // A URL with a credential: refused, and the secret is never shown.
    set_policy(
        &env,
        &json!({"pr": {"remote": "https://bot:SECRET-9@github.com/acme/app.git"}}),
    );
    let out = env.sj(&["publish"]);
    out.code(1);
    assert!(!out.stdout.contains("SECRET") && !out.stderr.contains("SECRET"));
    // A name that is not a remote of this repository.
    set_policy(&env, &json!({"pr": {"remote": "upstream"}}));
    let out = env.sj(&["publish"]);
    out.code(1);
    assert!(
        out.error_message()
            .contains("'upstream' is not a remote of this repository (its remotes: origin)"),
        "{}",
        out.stdout
    );
    assert!(!marker.exists(), "no command ran");
    // Nothing was pushed and the run still waits for publish.
    assert!(on_origin(&env, "swarm/add-greeting").is_none());
    let st = env.status(&id);
    assert_eq!(st["outcome"], "in-progress");
    let text = std::fs::read_to_string(env.run_dir(&id).join("run.status.json")).unwrap()
        + &std::fs::read_to_string(env.run_dir(&id).join("events.jsonl")).unwrap();
    assert!(!text.contains("SECRET"));
    // With the remote fixed, publish goes on.
    set_policy(&env, &json!({"pr": {"remote": "origin"}}));
    env.sj(&["publish"]).code(0);
}

#[test]
fn forge_tool_output_is_scrubbed_of_tokens_before_it_is_stored_or_shown() {
    let mut env = github_env();
    env.fake_tool(
        "gh",
        "echo 'HTTP 401: Bad credentials (token=ghp_0123456789abcdefSECRET1)' >&2\necho 'Authorization: Bearer SECRET2' >&2\necho 'fetch https://x-access-token:SECRET3@github.com/acme/app.git' >&2\necho 'GITLAB_TOKEN=glpat-SECRET4' >&2\nexit 1",
    );
    let (id, _) = env.run_to_publish();
    let out = env.sj(&["publish"]);
    out.code(0);
    let j = out.json();
    let w = j["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["reason"] == "pr-create-failed")
        .unwrap_or_else(|| panic!("{j}"))
        .clone();
    let output = w["output"].as_str().unwrap();
    assert!(output.contains("Bad credentials (token=***)"), "{output}");
    assert!(output.contains("Authorization: Bearer ***"), "{output}");
    let everything = format!(
        "{}{}{}{}",
        out.stdout,
        out.stderr,
        std::fs::read_to_string(env.run_dir(&id).join("run.status.json")).unwrap(),
        std::fs::read_to_string(env.run_dir(&id).join("events.jsonl")).unwrap()
    );
    for secret in ["SECRET1", "SECRET2", "SECRET3", "SECRET4"] {
        assert!(
            !everything.contains(secret),
            "{secret} leaked:\n{everything}"
        );
    }
    let human = env.swarm(&["status", "--run", &id]).stdout;
    assert!(!human.contains("SECRET"), "{human}");
}
